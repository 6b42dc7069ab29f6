#!/bin/bash
# A HANG's vmcore opens in crash and shows the hang: hang-selftest with --vmcore, then
# `kdrill show --crash` gives the crash command line (the -dbg vmlinux of the Debian
# kernel, fixed for crash 8.0.2: harness/vm/vmcore.h), and crash in batch mode lists the
# tasks (the jbd2 commit thread of the suspended dm device in UN state) and prints its
# stack, which contains jbd2_journal_commit_transaction.
#
# Opt-in while the -dbg vmlinux is not cached: the first fetch downloads the 283 MB
# linux-image-*-dbg package and extracts the 589 MB vmlinux (65 s here, under load), then
# the crash vmlinux is written (objcopy + DWARF fix, 20-30 s).  With both cached the test
# takes 2-4 min on this 2-core TCG machine (the run ~1.5 min, crash ~40 s to 2 min).
#   KDRILL_FETCH_DEBUGINFO=1 ./tests/run vm/vmcore-crash   (or: kdrill kernel fetch --debuginfo REF)
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
command -v crash >/dev/null || { echo "skip: crash not installed (mk/ensure-deps vm)"; exit 77; }
command -v objcopy >/dev/null || { echo "skip: objcopy not installed (binutils)"; exit 77; }
case $VM_KERNEL in debian:*) ;; *) echo "skip: $VM_KERNEL is not a debian: kernel"; exit 77 ;; esac
if [ "${KDRILL_FETCH_DEBUGINFO:-0}" != 1 ] &&
	kd kernel show "$VM_KERNEL" 2>/dev/null | grep -q '^debuginfo: *none'; then
	echo "skip: the -dbg vmlinux of $VM_KERNEL is not cached (283 MB download): KDRILL_FETCH_DEBUGINFO=1 ./tests/run vm/vmcore-crash"
	exit 77
fi

out=$KDRILL_TMP/res
vm_run_expect "$VM_KERNEL" "$out" hang-selftest 1 HANG --vmcore
# the dm suspend under jbd2 (a lost heartbeat while the guest is starved is also a HANG,
# but not the one whose stacks this test looks for)
[ "$(json "$v/verdict.json" .match)" = true ] ||
	fail "hang-selftest: not the jbd2 hang: $(json "$v/verdict.json" .reason)"
[ "$(json "$v/verdict.json" .files.vmcore)" = vmcore.kdump ] || fail "verdict.json files.vmcore"
[ -s "$v/vmcore.kdump" ] || fail "no vmcore.kdump"
head -c 12 "$v/vmcore.kdump" | grep -q makedumpfile || fail "vmcore.kdump is not in QEMU's flattened kdump format"

line=$(kd show --out "$out" --crash last) || fail "show --crash: exit $?"
echo "$line"
case $line in "crash --zero_excluded --no_panic /"*"/vmlinux-crash $v"*vmcore.kdump) ;;
*) fail "show --crash printed '$line'" ;; esac
kd show --out "$out" last | grep -qxF "crash     $line" || fail "kdrill show does not print the crash line"
eval "set -- $line"
shift # crash

printf '%s\n' 'sys' 'ps' 'foreach UN bt' 'quit' >"$KDRILL_TMP/cmds"
timeout 600 crash -s -i "$KDRILL_TMP/cmds" "$@" >"$KDRILL_TMP/crash.out" 2>&1 </dev/null
rc=$?
cat "$KDRILL_TMP/crash.out"
[ $rc = 0 ] || fail "crash exit $rc"
tasks=$(sed -n 's/^ *TASKS: *//p' "$KDRILL_TMP/crash.out")
[ "${tasks:-0}" -gt 50 ] || fail "crash sees $tasks tasks (crash 8.0.2 without the DWARF fix sees 3)"
grep -q 'not found in PID hash' "$KDRILL_TMP/crash.out" && fail "crash: active task not found in PID hash"
# ps: "   PID    PPID  CPU       TASK        ST  %MEM  VSZ  RSS  COMM"
jbd2=$(awk '$NF ~ /^\[?jbd2\/dm-/ && $5 == "UN" { print $1; exit }' "$KDRILL_TMP/crash.out")
[ -n "$jbd2" ] || fail "ps shows no jbd2/dm-* thread in UN state"
# its stack, from foreach UN bt
awk -v pid="$jbd2" '/^PID: / { on = ($2 == pid) } on' "$KDRILL_TMP/crash.out" >"$KDRILL_TMP/jbd2.bt"
grep -q ' jbd2_journal_commit_transaction at ' "$KDRILL_TMP/jbd2.bt" ||
	fail "bt of jbd2 (pid $jbd2) lacks jbd2_journal_commit_transaction"
echo "ok: crash: $tasks tasks, jbd2 pid $jbd2 UN in jbd2_journal_commit_transaction," \
	"$(grep -c '^PID: ' "$KDRILL_TMP/crash.out") UN tasks with a stack"
