#!/bin/bash
# Command-line usage errors exit 2 before anything runs (never 125, never a PASS that did
# no work): durations out of range or not decimal, malformed --kernel refs and Debian
# package names, --scratch / --out that are system directories or writable by others.
# Root-free (a run that got past these checks would need root and fail differently).
. "$KDRILL_TOP/tests/runner/lib.sh"
[ -x "$KD" ] || { echo "skip: $KD not built"; exit 77; }
d=$KDRILL_TMP/u
mkdir -p "$d/scratch" "$d/out"

# usage WANT-SUBSTRING ARGS... : exit 2, the message names the problem, nothing created
n=0
usage() {
	local want=$1 out rc
	shift
	n=$((n + 1))
	out=$(timeout 20 "$KD" run --quiet "$@" 2>&1)
	rc=$?
	[ "$rc" = 2 ] || fail "$*: exit $rc, want 2: $out"
	[[ $out == *"$want"* ]] || fail "$*: got '$out', want '$want'"
	echo "ok $*: ${out#kdrill run: }"
}
H=(--host --scratch "$d/scratch" --out "$d/out")
for dur in 1e14 1e300 1e-9 1e12 0x10 0X1 inf nan 0 0.5 -5 31d 5x; do
	usage "--duration: '$dur' is not a duration from 1s to 30 days" "${H[@]}" --duration "$dur" dio-invalidate
done
usage "--boot-timeout: '1e300' is not a duration" --kernel debian:x --boot-timeout 1e300 dio-invalidate

usage "--kernel: bogus:x: unknown kernel ref" --kernel bogus:x --out "$d/out" dio-invalidate
usage "--kernel: empty kernel ref" --kernel '' --out "$d/out" dio-invalidate
usage "--kernel: debian:: empty package name" --kernel debian: --out "$d/out" dio-invalidate
usage "'linux-image-6.1*' is not a Debian package name" --kernel 'debian:linux-image-6.1*' dio-invalidate
usage "'6.1.0-54-cloud-amd64=6.1.190-1' is not a Debian package name" \
	--kernel 'debian:6.1.0-54-cloud-amd64=6.1.190-1' dio-invalidate
usage "'.*cloud.*' is not a Debian package name" --kernel 'debian:.*cloud.*' dio-invalidate
usage "--kernel: path:: empty file name" --kernel path: dio-invalidate
usage "unknown option 'foo=1' (path:FILE[,modules=DIR])" --kernel path:/boot/x,foo=1 dio-invalidate

# the same checks for kdrill kernel fetch: apt-get never sees a glob
out=$("$KD" kernel fetch 'debian:linux-image-*' 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"is not a Debian package name"* ]] || fail "kernel fetch glob: $rc $out"
echo "ok kernel fetch 'debian:linux-image-*': $out"
# kdrill demo checks the same before it fetches or runs anything
out=$("$KD" demo --out "$d/out" --duration 1e14 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"--duration: '1e14' is not a duration"* ]] || fail "demo --duration: $rc $out"
out=$("$KD" demo --out "$d/out" --kernel bogus:x 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"--kernel: bogus:x: unknown kernel ref"* ]] || fail "demo --kernel: $rc $out"
echo "ok kdrill demo: --duration and --kernel checked first"
# and the workflows that run kdrill run for you
for wf in validate bisect; do
	out=$("$KD" $wf --duration 1e14 x 2>&1); rc=$?
	[ $rc = 2 ] && [[ $out == *"--duration: '1e14' is not a duration from 1s to 30 days"* ]] ||
		fail "$wf --duration: $rc $out"
	out=$("$KD" $wf --boot-timeout 1e300 x 2>&1); rc=$?
	[ $rc = 2 ] && [[ $out == *"--boot-timeout: '1e300' is not a duration"* ]] ||
		fail "$wf --boot-timeout: $rc $out"
done
out=$("$KD" validate --before bogus:x --after 'debian:a*' --out "$d/out" dio-invalidate 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"--before bogus:x: bogus:x: unknown kernel ref"* ]] || fail "validate ref: $rc $out"
echo "ok kdrill validate/bisect: durations bounded, malformed refs exit 2"

# --scratch and --out
usage "--scratch '/': a system directory" --host --scratch / dio-invalidate
usage "--scratch '/tmp': a system directory" --host --scratch /tmp dio-invalidate
usage "--scratch '/usr/': a system directory" --host --scratch /usr/ dio-invalidate
usage "--scratch '/proc/self': a system directory" --host --scratch /proc/self dio-invalidate
usage "--scratch '': not a directory" --host --scratch '' dio-invalidate
mkdir -p "$d/ww" "$d/sticky"
chmod 0777 "$d/ww"
chmod 1777 "$d/sticky"
usage "--scratch $d/ww: $d/ww is world-writable without the sticky bit" \
	--host --scratch "$d/ww" --out "$d/out" dio-invalidate
usage "--out $d/ww/results: $d/ww is world-writable without the sticky bit" \
	--host --scratch "$d/scratch" --out "$d/ww/results" dio-invalidate
usage "--scratch $d/ww/sub/dir: $d/ww is world-writable without the sticky bit" \
	--host --scratch "$d/ww/sub/dir" dio-invalidate
ln -s "$d/ww" "$d/link"
usage "--out $d/link: $d/ww is world-writable without the sticky bit" \
	--host --scratch "$d/scratch" --out "$d/link" dio-invalidate
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$d/theirs"
	chown 65534 "$d/theirs"
	usage "--out $d/theirs: $d/theirs is owned by another user (uid 65534)" \
		--host --scratch "$d/scratch" --out "$d/theirs" dio-invalidate
fi
# a sticky world-writable directory (like /tmp) is fine: the check passes, and the run
# then stops at the next usage error
usage "no-such-scenario: unknown scenario" --host --scratch "$d/sticky/kd" --out "$d/sticky/res" \
	no-such-scenario
[ -z "$(find "$d/scratch" "$d/out" "$d/sticky" -mindepth 1)" ] || fail "a refused run created files"
echo "all $n usage errors exit 2 with the problem named"
