#!/bin/bash
# stop_on = first ends a VM run at a WARNING, as in host mode.  A WARNING neither panics
# the guest (no panic_on_warn) nor stops the VM, so the host must tell the guest's runner
# to stop ({"cmd":"stop"}, docs/agent-protocol.md) when the console shows the first failure
# report.  The WARNING is a real one: kdtrig.ko (tests/detect/capture/kdtrig.c) built for
# the guest kernel against its Debian headers (apt-get download; cached) and loaded in the
# guest at the start of a 120 s run.  Expect WARN with the signature, the guest runner's
# stop_reason naming the report, a clean poweroff, the guest's files complete, and a run
# far shorter than 120 s.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
case $VM_KERNEL in
debian:*) K=${VM_KERNEL#debian:} ;;
*) echo "skip: kdtrig.ko is built against Debian headers (VM_KERNEL=$VM_KERNEL)"; exit 77 ;;
esac
for t in apt-get dpkg-deb make gcc; do
	command -v "$t" >/dev/null 2>&1 || { echo "skip: $t not installed"; exit 77; }
done
cache=${KDRILL_CACHE:-$HOME/.cache/kdrill}/kdtrig/$K-$(sha256sum "$KDRILL_TOP/tests/detect/capture/kdtrig.c" | cut -c1-12)
if [ ! -f "$cache/kdtrig.ko" ]; then
	lab=$KDRILL_TMP/lab
	mkdir -p "$lab/mod" "$lab/root"
	(cd "$lab" && apt-get download "linux-headers-$K" "linux-headers-${K%-cloud-amd64}-common" linux-kbuild-6.1) >"$lab/apt.log" 2>&1 ||
		{ tail -n 3 "$lab/apt.log"; echo "skip: cannot download the headers of $K"; exit 77; }
	for d in "$lab"/*.deb; do dpkg-deb -x "$d" "$lab/root"; done
	sed -i "s#include /usr/src/#include $lab/root/usr/src/#" "$lab/root/usr/src/linux-headers-$K/Makefile"
	cp "$KDRILL_TOP/tests/detect/capture/kdtrig.c" "$KDRILL_TOP/tests/detect/capture/Kbuild" "$lab/mod/"
	make -s -C "$lab/root/usr/src/linux-headers-$K" M="$lab/mod" modules >"$lab/make.log" 2>&1 ||
		{ cat "$lab/make.log"; fail "kdtrig.ko does not build against linux-headers-$K"; }
	mkdir -p "$cache" && cp "$lab/mod/kdtrig.ko" "$cache/kdtrig.ko.tmp" && mv "$cache/kdtrig.ko.tmp" "$cache/kdtrig.ko"
fi
# the guest image gets the release binaries plus the module and its loader
gbin=$KDRILL_TMP/guest-bin
mkdir -p "$gbin"
cp "$KDRILL_RELBIN"/* "$gbin/"
install -m 755 "$cache/kdtrig.ko" "$gbin/kdtrig.ko"
printf '#!/bin/sh\ninsmod /usr/local/bin/kdtrig.ko mode=warn\nexec sleep "$1"\n' >"$gbin/kdtrig-warn"
chmod 755 "$gbin/kdtrig-warn"
export KDRILL_GUEST_BIN=$gbin

out=$KDRILL_TMP/results
log=$KDRILL_TMP/warn-stop.log
kd run --kernel "$VM_KERNEL" --out "$out" --boot-timeout 180 "$KDRILL_TOP/tests/vm/fixtures/warn-stop.ini" >"$log" 2>&1
rc=$?
grep -v '^  \[vm\]' "$log"
[ "$rc" = 1 ] || fail "exit $rc, expected 1"
v=$(ls -d "$out"/*-warn-stop-*/ | tail -n 1)
v=${v%/}
[ "$(json "$v/verdict.json" .verdict)" = WARN ] || fail "verdict $(json "$v/verdict.json" .verdict): $(json "$v/verdict.json" .reason)"
grep -q '^kdrill run: stopping the guest.s run: kernel report: WARNING in kdtrig_warn_path' "$log" ||
	fail "the host did not stop the guest's run"
[ "$(json "$v/verdict.json" .match)" = true ] || fail "no signature match"
[ "$(json "$v/verdict.json" .reason)" = "WARNING in kdtrig_warn_path" ] || fail "reason $(json "$v/verdict.json" .reason)"
[ "$(json "$v/verdict.json" .vm.end)" = poweroff ] || fail "vm end $(json "$v/verdict.json" .vm.end)"
[ "$(json "$v/verdict.json" .vm.guest_files)" = complete ] || fail "guest files $(json "$v/verdict.json" .vm.guest_files)"
[ "$(json "$v/guest-verdict.json" .stop_reason)" = "kernel report: WARNING in kdtrig_warn_path" ] ||
	fail "guest stop_reason $(json "$v/guest-verdict.json" .stop_reason)"
d=$(json "$v/verdict.json" .duration_s)
awk -v d="$d" 'BEGIN { exit !(d < 60) }' || fail "the run lasted ${d}s of 120 s: not stopped at the WARNING"
echo "WARNING at the start of a 120 s run: the guest's run stopped after ${d}s, WARN, signature match"
