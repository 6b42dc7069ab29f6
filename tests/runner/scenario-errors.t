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
this is not ini" "9: syntax error (expected [section] or key = value)"
expect "[scenario]
name = t
timeout = soon" "3: timeout: 'soon' is not a duration"
# the registry keys
expect "$good
[scenario]
expect = FINE" "10: expect: 'FINE' (PASS BUG HANG WARN ANOMALY)"
expect "$good
[scenario]
fixed_by = the fix" "10: fixed_by: 'the fix': expected <commit (7-40 hex)> [<subject>]"
expect "$good
[scenario]
needs_config = CONFIG_EXT4_FS nfsd" "10: needs_config: 'nfsd' is not CONFIG_[A-Z0-9_]+"
expect "$good
[scenario]
seed_fixture = ../outside.log" "10: seed_fixture: '../outside.log' must be a path inside the tree, without '..'"
expect "$good
[scenario]
until = oom_kills>=1 bogus>=2" "10: until: 'bogus>=2' is not COUNTER>=N"
expect "$good
[scenario]
until = restarts>=0" "10: until: 'restarts>=0' is not COUNTER>=N"
expect "$good
[scenario]
until = ops=5" "10: until: 'ops=5' is not COUNTER>=N"
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
[fs.other]
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
args = $long" "10: line too long (at most 198 characters): continue the value on indented lines or repeat the key"

# durations: bounded (timers are armed from them), decimal only
expect "$good
[scenario]
grace = 1e300h" "10: grace: '1e300h' is out of range"
expect "[scenario]
name = t
timeout = 0x10" "3: timeout: '0x10' is not a duration"
expect "[scenario]
name = t
timeout = 1e-9" "3: timeout: '1e-9' is out of range"
expect "$good
[action.a]
op = drop-caches
every = 1e-9" "11: every: '1e-9' is shorter than 10ms"
# a single-valued key twice is an error like program twice (list keys add up)
expect "$good
[scenario]
timeout = 10s" "10: timeout: given twice in [scenario] (first on line 3)"
expect "$good
[scenario]
duration = 10s" "10: duration: given twice in [scenario] (first on line 3)"
expect "$good
[repro.r]
program = dio-unwritten" "10: program: given twice in [repro.r] (first on line 8)"
expect "$good
[fs.data]
size = 1G
size = 2G" "11: size: given twice in [fs.data] (first on line 10)"
# size = 0 was silently 1 GiB
expect "$good
[fs.data]
size = 0" "10: size: '0' must be from 16M to 16T"
# mkfs options can never take the device's place
expect "$good
[fs.data]
mkfs = /some/file -L" "10: mkfs: '/some/file' is not an option of mkfs.ext4"
expect "$good
[fs.data]
mkfs = -L" "10: mkfs: -L needs an argument"
expect "$good
[fs.data]
mkfs = -O ^has_journal -- /dev/sda" "10: mkfs: '--' is not an option of mkfs.ext4"
expect "$good
[fs.data]
mkfs = -z /etc/undo" "10: mkfs: -z /etc/undo writes an undo file"
expect "$good
[fs.data]
mkfs = -J device=/dev/sda" "10: mkfs: -J device=/dev/sda formats an external journal device"
expect "$good
[fs.x]
type = xfs
mkfs = -d name=/some/file" "11: mkfs: -d name=/some/file names another file or device"
# the VM's hung-task keys
expect "$good
[vm]
hung_task_scan = often" "10: hung_task_scan: 'often' is not a duration"
expect "$good
[vm]
hung_task_timeout = 30
hung_task_scan = 1e9" "11: hung_task_scan: '1e9' is out of range"
# a cap on the units one scenario starts
expect "$good
[slice.s]
count = 1000
[repro.r]
slice = s
instances = 10" "8: [repro.r]: the scenario would start 10000 units"
# a NUL byte no longer truncates the file silently
printf '[scenario]\nname = t\n\0timeout = 5s\n' >"$d/nul.ini"
out=$("$KD" run --host --scratch "$d/s" "$d/nul.ini" 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"nul.ini:3: NUL byte in the file"* ]] || fail "NUL byte: $rc $out"
echo "ok NUL: $out"
# a FIFO (or a directory) is not a scenario file, and reading it does not hang
mkfifo "$d/fifo.ini"
out=$(timeout 10 "$KD" run --host --scratch "$d/s" "$d/fifo.ini" 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"fifo.ini: not a regular file"* ]] || fail "FIFO: $rc $out"
echo "ok FIFO: $out"
# a reproducer that does not exist is found before anything is set up
printf '%s\n' "${good/aio-dio-unlink/no-such-repro}" >"$d/norepro.ini"
out=$("$KD" run --host --scratch "$d/s" "$d/norepro.ini" 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"norepro.ini:8: program: no reproducer 'no-such-repro'"* ]] ||
	fail "missing reproducer: $rc $out"
echo "ok no-such-repro: $out"
# --param values: no variables, no control characters, bounded
out=$("$KD" run --host --scratch "$d/s" --param 'mount_options=${dir}' aio-dio-unlink 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"--param mount_options: values cannot refer to variables"* ]] ||
	fail "--param \${}: $rc $out"
big=$(head -c 122880 /dev/zero | tr '\0' x)
out=$("$KD" run --host --scratch "$d/s" --param "mount_options=$big" aio-dio-unlink 2>&1); rc=$?
[ $rc = 2 ] && [ ${#out} -lt 300 ] && [[ $out == *"the value is 122880 bytes long (at most 1024)"* ]] ||
	fail "120 KB --param: $rc ${out:0:300}"
out=$("$KD" run --host --scratch "$d/s" --param "mount_options=a$(printf '\033')[2J" aio-dio-unlink 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"control character 0x1b"* ]] || fail "--param ESC: $rc $out"
echo "ok --param checks"

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

# a filesystem's kernel options join needs_config (checked before a VM boots)
mkdir -p "$d/data/harness/scenarios"
printf '%s\n' "[scenario]" "name = t" "timeout = 5s" "signature_class = crash" \
	"needs_config = CONFIG_AIO" "[fs.x]" "type = xfs" "dm = linear" "[fs.n]" "type = nfs" \
	"server = x" "[repro.r]" "program = aio-dio-unlink" >"$d/data/harness/scenarios/t.ini"
got=$(KDRILL_DATA=$d/data "$KD" list --json | jq -c '.[0].needs_config')
want='["CONFIG_AIO","CONFIG_BLK_DEV_DM","CONFIG_XFS_FS","CONFIG_NFS_FS","CONFIG_NFSD"]'
[ "$got" = "$want" ] || fail "needs_config from the filesystems: $got, want $want"
echo "ok needs_config from the filesystems: $got"
echo "all $n file errors and 15 usage errors reported correctly"
