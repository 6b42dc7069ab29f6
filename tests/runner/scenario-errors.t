#!/bin/bash
# Scenario files with each kind of error -> exit 2 and "file:line: key: why";
# unknown scenario / parameter / variant and host refusals -> usage errors.
. "$KDRILL_TOP/tests/runner/lib.sh"
[ -x "$KD" ] || { echo "skip: $KD not built"; exit 77; }
d=$KDRILL_TMP/sc
mkdir -p "$d"
good='[scenario]
name = t
timeout = 5s
signature_class = crash
[fs.data]
type = ext4
[repro.r]
program = aio-dio-unlink'

# expect FILE-CONTENT EXPECTED-MESSAGE-SUBSTRING
n=0
expect() {
	n=$((n + 1))
	local f=$d/case$n.ini out rc
	printf '%s\n' "$1" >"$f"
	out=$("$KD" run --host --scratch "$d/scratch" "$f" 2>&1)
	rc=$?
	[ "$rc" = 2 ] || fail "case $n: exit $rc, want 2 ($out)"
	case $out in
	*"$f:$2"*) echo "ok case $n: ${out#kdrill run: }" ;;
	*) fail "case $n: got '$out', want '$f:$2'" ;;
	esac
}

expect "$good
[scenario]
bogus = 1" "10: bogus: unknown key in [scenario]"
expect "$good
this is not ini" "9: syntax error"
expect "[scenario]
name = t
timeout = soon" "3: timeout: 'soon' is not a duration"
expect "$good
[fs.data]
mount = \${nope}" "10: mount: unknown parameter '\${nope}'"
expect "$good
[slice.s]
memory_max = lots" "10: memory_max: 'lots' is not a size"
expect "$good
[repro.r]
slice = missing" "10: slice: no [slice.missing] in this scenario"
expect "$good
[fs.data]
type = btrfs" "10: type: unknown filesystem 'btrfs'"
expect "$good
[repro.r]
restart = sometimes" "10: restart: 'sometimes' must be no, on-failure or always"
expect "$good
[scenario]
signature = ([unclosed" "10: signature: bad regular expression"
expect "$good
[scenario]
signature_class = crashes" "10: signature_class: unknown report class 'crashes'"
expect "$good
[widget]
x = 1" "10: [widget]: unknown section"
expect "$good
[param.p]
description = no default" "10: [param.p]: default: missing"
expect "$good
[variant.v]
undeclared = 1" "10: undeclared: variant sets an undeclared parameter"
expect "$good
[action.a]
op = dm-suspend
hold = 5s" "10: fs: dm-suspend needs fs"
expect "$good
[action.a]
op = nfs-server-stop
hold = 5s" "10: op: nfs-server-stop needs an [fs.X] with type = nfs"
expect "$good
[fs.n]
type = nfs
server = data
[action.a]
op = nfs-server-stop" "13: hold: nfs-server-stop needs hold > 0"
expect "$good
[fs.n]
type = nfs
server = data
[action.a]
op = nfs-server-stop
hold = 5s
fs = data" "13: fs: nfs-server-stop needs fs = <an [fs.X] with type = nfs>"
expect "$good
[action.a]
op = nfs-stop" "10: op: 'nfs-stop' must be dm-suspend, sysrq, drop-caches or nfs-server-stop"
long=$(printf 'x%.0s' $(seq 1 250))
expect "$good
[repro.r]
args = $long" "10: line too long"

# unknown scenario, unknown parameter, unknown variant, bad --param syntax
out=$("$KD" run --host --scratch "$d/s" no-such-scenario 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"no-such-scenario: unknown scenario"* ]] || fail "unknown scenario: $rc $out"
out=$("$KD" run --host --scratch "$d/s" --param nosuch=1 aio-dio-unlink 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"--param nosuch=1: unknown parameter (known: size mount_options"* ]] ||
	fail "unknown parameter: $rc $out"
out=$("$KD" run --host --scratch "$d/s" aio-dio-unlink:nope 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"unknown variant 'nope' (default eviction)"* ]] || fail "unknown variant: $rc $out"
out=$("$KD" run --host --scratch "$d/s" --param oops aio-dio-unlink 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"expected NAME=VALUE"* ]] || fail "bad --param: $rc $out"
out=$("$KD" run aio-dio-unlink 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"exactly one of --host"* ]] || fail "no mode: $rc $out"
# host mode refuses the NFS, dm and sysrq scenarios
for s in nfs-rotate nfs-outage hang-selftest crash-selftest; do
	out=$("$KD" run --host --scratch "$d/s" "$s" 2>&1); rc=$?
	[ $rc = 2 ] && [[ $out == *"$s: host mode refuses it"* ]] || fail "$s on host: $rc $out"
	echo "ok refused: $out"
done
[ ! -e "$d/s" ] || [ -z "$(ls -A "$d/s")" ] || fail "a refused run left files"
echo "all $n file errors and 9 usage errors reported correctly"
