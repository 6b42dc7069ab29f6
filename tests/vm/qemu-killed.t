#!/bin/bash
# QEMU killed mid-boot -> INFRA (exit 125), vm.json says qemu-died, console.log is kept
# with what the kernel printed so far.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

out=$KDRILL_TMP/killed
kd image build --kernel "$VM_KERNEL" >/dev/null || fail "image build exit $?"
kd vm boot --kernel "$VM_KERNEL" --out "$out" --timeout 240 >"$KDRILL_TMP/log" 2>&1 &
bg=$!
# wait until the kernel is well into its boot, then kill QEMU (only the one we started)
for _ in $(seq 300); do
	grep -q 'Run /init as init process\|Freeing unused kernel' "$out/console.log" 2>/dev/null && break
	sleep 0.1
done
pid=$(cat "$out/qemu.pid" 2>/dev/null)
[ -n "$pid" ] || { kill $bg; fail "no qemu.pid"; }
kill -KILL "$pid"
wait $bg
rc=$?
cat "$KDRILL_TMP/log"
[ $rc = 125 ] || fail "exit $rc, expected 125"
grep -q '^verdict:  INFRA: qemu-died: QEMU exited (status 137) before the guest was ready' "$KDRILL_TMP/log" || fail "verdict line"
[ "$(json "$out/vm.json" .end)" = qemu-died ] || fail "end is not qemu-died"
grep -q 'Linux version' "$out/console.log" || fail "console.log not kept"
echo ok
