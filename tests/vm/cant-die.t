#!/bin/bash
# In a VM, a unit that outlives SIGKILL in the kernel is reported by the guest's runner
# through /dev/kmsg, seen by the host on the console and judged like a kernel report:
# HANG "task can't die in FRAME" with the task, its frame and the signature matched, not
# INFRA (tests/vm/fixtures/cant-die.ini: dd on a suspended dm device).  The guest still
# powers off cleanly with its files.  The same for a dd SIGKILLed while the run goes on
# (cant-die-killed.ini): reported during the run, in the guest's systemd cgroup of its unit
# (dd is a child of the unit's main process), which then stops long before its duration.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
out=$KDRILL_TMP/results
log=$KDRILL_TMP/cant-die.log
kd run --kernel "$VM_KERNEL" --out "$out" --boot-timeout 180 "$KDRILL_TOP/tests/vm/fixtures/cant-die.ini" >"$log" 2>&1
rc=$?
grep -v '^  \[vm\]' "$log"
v=$(ls -d "$out"/*-cant-die-*/ | tail -n 1)
v=${v%/}
jq -c '.reports[] | {class, title, frame, task, role}' "$v/verdict.json"
grep -B1 -A8 "can't die for more than" "$v/console.log" | head -20
[ "$rc" = 1 ] || fail "exit $rc, expected 1"
[ "$(json "$v/verdict.json" .verdict)" = HANG ] || fail "verdict $(json "$v/verdict.json" .verdict): $(json "$v/verdict.json" .reason)"
[[ "$(json "$v/verdict.json" .reason)" == "task can't die in "?* ]] || fail "reason $(json "$v/verdict.json" .reason)"
[ "$(json "$v/verdict.json" .match)" = true ] || fail "no signature match"
[[ "$(json "$v/verdict.json" '.reports[] | select(.role == "failure") | .task' | head -n 1)" == dd:* ]] ||
	fail "the report does not name dd"
[ -n "$(json "$v/verdict.json" '.reports[] | select(.role == "failure") | .frame // empty' | head -n 1)" ] ||
	fail "no frame"
grep -q "kdrill: task dd:[0-9]* can't die for more than 5 seconds" "$v/console.log" ||
	fail "the report is not on the console"
[ "$(json "$v/verdict.json" .vm.guest_files)" = complete ] || fail "guest files $(json "$v/verdict.json" .vm.guest_files)"
echo "ok: $(json "$v/verdict.json" .reason)"

kd run --kernel "$VM_KERNEL" --out "$out" --boot-timeout 180 "$KDRILL_TOP/tests/vm/fixtures/cant-die-killed.ini" >"$log" 2>&1
rc=$?
grep -v '^  \[vm\]' "$log"
v=$(ls -d "$out"/*-cant-die-killed-*/ | tail -n 1)
v=${v%/}
jq -c '{verdict, reason, duration_s}' "$v/verdict.json"
[ "$rc" = 1 ] || fail "killed: exit $rc, expected 1"
[ "$(json "$v/verdict.json" .verdict)" = HANG ] || fail "killed: verdict $(json "$v/verdict.json" .verdict): $(json "$v/verdict.json" .reason)"
[ "$(json "$v/verdict.json" .match)" = true ] || fail "killed: no signature match"
[[ "$(json "$v/verdict.json" '.reports[] | select(.role == "failure") | .task' | head -n 1)" == dd:* ]] ||
	fail "killed: the report does not name dd"
d=$(json "$v/verdict.json" .duration_s)
awk -v d="$d" 'BEGIN { exit !(d < 90) }' || fail "killed: the run took ${d}s: not stopped by a report during it"
echo "ok: killed: $(json "$v/verdict.json" .reason) after ${d}s"
