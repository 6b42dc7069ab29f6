#!/bin/bash
# systemd-analyze verify passes on every unit in units/ (and its drop-ins), without
# systemd as PID 1: the units are verified inside a throw-away --root tree that holds
# them, the host's stock units (basic.target, dbus.socket, ...) and the binaries their
# ExecStart= lines reference (stubs).  A deliberately broken copy must fail, so the
# check is known to bite.
set -u
top=${KDRILL_TOP:?}
tmp=${KDRILL_TMP:-$(mktemp -d)}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing (apt-get install systemd)"; exit 77; }
[ -d /usr/lib/systemd/system ] || { echo "no /usr/lib/systemd/system to verify against"; exit 77; }

mkroot() { # DIR: a root with the stock units, env(1) and stubs for /usr/local/bin
	local R=$1
	mkdir -p "$R/usr/lib/systemd" "$R/usr/bin" "$R/usr/local/bin" "$R/etc/systemd/system"
	cp -a /usr/lib/systemd/system "$R/usr/lib/systemd/"
	cp /usr/bin/env "$R/usr/bin/"
	mkdir -p "$R/bin" && printf '#!/bin/sh\n' >"$R/bin/bash" && chmod 755 "$R/bin/bash" # kdrill-lava-shell.service
	for b in kdrill kdcg-hog; do printf '#!/bin/sh\n' >"$R/usr/local/bin/$b"; chmod 755 "$R/usr/local/bin/$b"; done
	cp -r "$top"/units/. "$R/etc/systemd/system/"
	rm -f "$R/etc/systemd/system/README.md"
	ln -sf kdrill-worker@.service "$R/etc/systemd/system/kdrill-worker@1.service"
}

units=()
for f in "$top"/units/*.service "$top"/units/*.slice "$top"/units/*.target; do
	u=${f##*/}
	case $u in *@.service) u=${u%@.service}@1.service ;; esac
	units+=("$u")
done
[ "${#units[@]}" -ge 4 ] || { echo "FAIL: expected at least 4 units, found: ${units[*]}"; exit 1; }
[ -f "$top/units/kdrill-worker@.service.d/memory.conf" ] || { echo "FAIL: worker drop-in missing"; exit 1; }

R=$tmp/root
mkroot "$R"
out=$(cd "$R/etc/systemd/system" && systemd-analyze verify --root="$R" "${units[@]}" 2>&1)
rc=$?
echo "verify ${units[*]}: rc=$rc"
[ -n "$out" ] && echo "$out"
if [ "$rc" != 0 ] || grep -qiE 'error|fail|unknown (key|lvalue)|not executable|invalid' <<<"$out"; then
	echo "FAIL: systemd-analyze verify complained"
	exit 1
fi

# the worker drop-in is really applied (the seed's memory limit) and restarts are unlimited
grep -qx 'MemoryMax=100M' "$top/units/kdrill-worker@.service.d/memory.conf" || { echo "FAIL: MemoryMax"; exit 1; }
grep -qx 'StartLimitIntervalSec=0' "$top/units/kdrill-worker@.service" || { echo "FAIL: StartLimitIntervalSec"; exit 1; }
grep -qx 'OOMPolicy=continue' "$top/units/kdrill-worker@.service" || { echo "FAIL: OOMPolicy"; exit 1; }

# negative control: a broken agent (missing binary, unknown key) must be rejected
B=$tmp/broken
mkroot "$B"
rm -f "$B/usr/local/bin/kdrill"
sed -i 's/^Type=exec/Type=exec\nNoSuchKey=1/' "$B/etc/systemd/system/kdrill-agent.service"
out=$(cd "$B/etc/systemd/system" && systemd-analyze verify --root="$B" kdrill-agent.service 2>&1)
rc=$?
echo "negative control: rc=$rc: $out"
if [ "$rc" = 0 ] && ! grep -qiE 'not executable|unknown' <<<"$out"; then
	echo "FAIL: verify accepted a broken unit; the check does not bite"
	exit 1
fi
echo "systemd-analyze verify: ${#units[@]} units ok; broken copy rejected"
