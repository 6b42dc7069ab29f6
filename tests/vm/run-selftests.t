#!/bin/bash
# kdrill run --kernel: the two self-tests prove the hang and crash pipelines end to end.
#   hang-selftest  -> HANG, jbd2 in the hung-task summary, sysrq-w/l dumps on the console
#                     after the next hung-task look,
#                     the guest's files so far collected by the agent, within its budget
#                     (boot + at 8 s + hung-task 5 s + grace + dumps < 150 s)
#   crash-selftest -> BUG with the sysrq crash title, signature match
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

out=$KDRILL_TMP/res
start=$(date +%s)
vm_run_expect "$VM_KERNEL" "$out" hang-selftest 1 HANG
took=$(($(date +%s) - start))
[ "$(json "$v/verdict.json" .mode)" = vm ] || fail "mode"
[ "$(json "$v/verdict.json" .match)" = true ] || fail "hang-selftest: no signature match"
[ "$(json "$v/verdict.json" .kernel.ref)" = "$VM_KERNEL" ] || fail "kernel.ref"
json "$v/verdict.json" .kernel.release | grep -q '^6\.' || fail "kernel.release"
json "$v/verdict.json" .hang_summary | grep -q 'jbd2_journal_commit_transaction' || fail "summary lacks jbd2_journal_commit_transaction"
json "$v/verdict.json" '.reports[] | select(.class == "summary") | .title' | grep -q jbd2 || fail "no summary report with jbd2"
grep -q 'sysrq-w' "$v/console-ts.log" || fail "no sysrq-w"
grep -q 'sysrq-l' "$v/console-ts.log" || fail "no sysrq-l"
grep -q 'Show Blocked State' "$v/console.log" || fail "no sysrq-w dump on the console"
grep -q 'blocked for more than 5 seconds' "$v/console.log" || fail "console.log lacks the hung task"
# khungtaskd looks once per timeout (hung_task_timeout = 5), and the dump waited for the
# look after the first report (harness/vm/hanggrace.c): the hang lasts, so there is one
grep -q 'Kernel command line:.* sysctl.kernel.hung_task_check_interval_secs=5 ' "$v/console.log" ||
	fail "the kernel command line lacks hung_task_check_interval_secs=5"
grep -q 'hang grace over (next hang report seen' "$v/console-ts.log" ||
	fail "the dump did not follow the next hung-task look: $(grep 'hang grace' "$v/console-ts.log")"
[ $took -lt 150 ] || fail "hang-selftest took $took s (budget 150)"
# the agent was alive (only the dm device hung): it collected the run so far
[ "$(json "$v/verdict.json" .vm.guest_files)" = partial ] || fail "hang-selftest: guest files $(json "$v/verdict.json" .vm.guest_files), expected partial"
grep -q 'agent: collected, status 0' "$v/console-ts.log" || fail "no collect in console-ts.log"
grep -q 'kdrill-agent' "$v/journal.txt" || fail "collected journal.txt lacks the agent's unit"
[ -e "$v/fsyncers-0.jsonl" ] || fail "collected files lack the fio load's log"
grep -q '"verdict":"HANG"' "$out/index.jsonl" || fail "index.jsonl"
echo "hang-selftest: HANG in $took s"

start=$(date +%s)
vm_run_expect "$VM_KERNEL" "$out" crash-selftest 1 BUG
took=$(($(date +%s) - start))
[ "$(json "$v/verdict.json" .match)" = true ] || fail "crash-selftest: no signature match"
json "$v/verdict.json" .reason | grep -q 'sysrq triggered crash' || fail "crash-selftest: reason $(json "$v/verdict.json" .reason)"
grep -q '^BUG      crash-selftest (signature match)  kernel panic: sysrq triggered crash' "$KDRILL_TMP/crash-selftest.log" || fail "crash-selftest: verdict line"
[ -s "$v/junit.xml" ] || fail "junit.xml"
echo "crash-selftest: BUG in $took s"
echo ok
