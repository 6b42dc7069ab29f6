#!/bin/bash
# The VM watcher's two stop paths, driven by the agent's self-check jobs:
#   sysrq-crash: the guest panics -> GUEST_PANICKED (pvpanic, -action panic=pause with
#                --vmcore) -> kdump-compressed vmcore through QMP -> BUG (exit 1) with the
#                detector's title, console kept
#   stall:       heartbeats stop -> lost heartbeat after 2H+10 s -> sysrq-w and sysrq-l
#                through the serial line (QMP break + key) -> dumps on the console -> HANG
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
kd image build --kernel "$VM_KERNEL" >/dev/null || fail "image build exit $?"

out=$KDRILL_TMP/crash
kd vm boot --kernel "$VM_KERNEL" --job sysrq-crash --vmcore --out "$out" --timeout 240 >"$KDRILL_TMP/log" 2>&1
rc=$?
cat "$KDRILL_TMP/log"
[ $rc = 1 ] || fail "crash: exit $rc, expected 1"
grep -q '^verdict:  BUG: .*sysrq triggered crash' "$KDRILL_TMP/log" || fail "crash: verdict title"
[ "$(json "$out/vm.json" .end)" = panic ] || fail "crash: end is not panic"
grep -q 'Kernel panic - not syncing: sysrq triggered crash' "$out/console.log" || fail "crash: console"
[ "$(head -c 12 "$out/vmcore.kdump")" = makedumpfile ] || fail "crash: no flattened kdump vmcore"
[ "$(json "$out/vm.json" .vmcore)" = true ] || fail "crash: vm.json vmcore"
rm -f "$out/vmcore.kdump"

out=$KDRILL_TMP/stall
kd vm boot --kernel "$VM_KERNEL" --job stall --hung-task 5 --out "$out" --timeout 240 >"$KDRILL_TMP/log" 2>&1
rc=$?
cat "$KDRILL_TMP/log"
[ $rc = 1 ] || fail "stall: exit $rc, expected 1"
grep -q '^end:      hang at .*: lost heartbeat: none for 20 s' "$KDRILL_TMP/log" || fail "stall: end line"
grep -q 'sysrq: Show Blocked State' "$out/console.log" || fail "stall: no sysrq-w dump"
grep -q 'sysrq: Show backtrace of all active CPUs' "$out/console.log" || fail "stall: no sysrq-l dump"
grep -q 'kdrill: sysrq-w' "$out/console-ts.log" || fail "stall: sysrq-w not logged"
[ "$(json "$out/vm.json" .end)" = hang ] || fail "stall: end is not hang"
echo ok
