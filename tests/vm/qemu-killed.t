#!/bin/bash
# QEMU dying before the guest is ready.
# - Killed from outside (SIGKILL) mid-boot: INFRA (exit 125), vm.json says qemu-died after
#   one attempt, console.log is kept with what the kernel printed so far.
# - Crashed on its own (SIGSEGV, as TCG has done here while the guest probed PCI) before
#   ready: nothing ran, so the boot is repeated once; the first attempt's console is kept
#   as console.attempt1.log.  The second attempt boots: PASS, boot_attempts 2.
# - Crashed on both attempts: INFRA after two.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

kd image build --kernel "$VM_KERNEL" >/dev/null || fail "image build exit $?"

# kill_booting OUT SIG [NOT-PID]: wait until the QEMU of OUT (another one than NOT-PID) has
# a kernel well into its boot, then send it SIG; prints the pid
kill_booting() {
	local out=$1 sig=$2 not=${3:-} pid=
	for _ in $(seq 600); do
		pid=$(cat "$out/qemu.pid" 2>/dev/null)
		if [ -n "$pid" ] && [ "$pid" != "$not" ] &&
			grep -q 'Run /init as init process\|Freeing unused kernel' "$out/console.log" 2>/dev/null; then
			kill "-$sig" "$pid" && echo "$pid"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

boot_bg() {
	kd vm boot --kernel "$VM_KERNEL" --out "$1" --timeout 240 >"$1.log" 2>&1 &
	bg=$!
}

# 1. SIGKILL: not repeated
out=$KDRILL_TMP/killed
boot_bg "$out"
kill_booting "$out" KILL >/dev/null || { kill $bg; fail "the kernel did not start booting"; }
wait $bg
rc=$?
cat "$out.log"
[ $rc = 125 ] || fail "SIGKILL: exit $rc, expected 125"
grep -q '^verdict:  INFRA: qemu-died: QEMU exited (status 137) before the guest was ready' "$out.log" || fail "verdict line"
[ "$(json "$out/vm.json" .end)" = qemu-died ] || fail "end is not qemu-died"
[ "$(json "$out/vm.json" .boot_attempts)" = 1 ] || fail "SIGKILL: boot repeated"
grep -q 'Linux version' "$out/console.log" || fail "console.log not kept"
[ ! -e "$out/console.attempt1.log" ] || fail "SIGKILL: an attempt file"

# 2. SIGSEGV on the first attempt: booted again, PASS
out=$KDRILL_TMP/crashed-once
boot_bg "$out"
p1=$(kill_booting "$out" SEGV) || { kill $bg; fail "the kernel did not start booting"; }
wait $bg
rc=$?
cat "$out.log"
[ $rc = 0 ] || fail "SIGSEGV once: exit $rc, expected 0 (the repeated boot passes)"
grep -q "^kdrill: QEMU exited (status 139) before the guest was ready, signal 11 (Segmentation fault): a QEMU fault before anything ran; booting again, attempt 2 of 2" "$out.log" ||
	fail "no message for the repeated boot"
[ "$(json "$out/vm.json" .end)" = poweroff ] || fail "end $(json "$out/vm.json" .end)"
[ "$(json "$out/vm.json" .boot_attempts)" = 2 ] || fail "boot_attempts $(json "$out/vm.json" .boot_attempts)"
json "$out/vm.json" .retried | grep -q 'status 139' || fail "retried: $(json "$out/vm.json" .retried)"
[ "$(cat "$out/qemu.pid")" != "$p1" ] || fail "the same QEMU"
grep -q 'Linux version' "$out/console.attempt1.log" || fail "attempt 1's console not kept"
grep -q 'Linux version' "$out/console.log" || fail "attempt 2's console missing"

# 3. SIGSEGV on both: INFRA after two attempts
out=$KDRILL_TMP/crashed-twice
boot_bg "$out"
p1=$(kill_booting "$out" SEGV) || { kill $bg; fail "attempt 1 did not start booting"; }
kill_booting "$out" SEGV "$p1" >/dev/null || { kill $bg; fail "attempt 2 did not start booting"; }
wait $bg
rc=$?
cat "$out.log"
[ $rc = 125 ] || fail "SIGSEGV twice: exit $rc, expected 125"
[ "$(json "$out/vm.json" .end)" = qemu-died ] || fail "end is not qemu-died"
[ "$(json "$out/vm.json" .boot_attempts)" = 2 ] || fail "boot_attempts $(json "$out/vm.json" .boot_attempts)"
[ "$(json "$out/vm.json" .qemu_status)" = 139 ] || fail "qemu_status"
grep -q "^verdict:  INFRA: qemu-died: QEMU exited (status 139) before the guest was ready (attempt 2 of 2)" "$out.log" || fail "verdict line after two attempts"
echo "SIGKILL: INFRA after 1 attempt; SIGSEGV once: PASS on attempt 2; SIGSEGV twice: INFRA"
