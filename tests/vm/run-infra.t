#!/bin/bash
# kdrill run --kernel, the INFRA paths: a garbage kernel file never boots (clear message,
# exit 125); QEMU killed mid-run -> verdict.json INFRA "qemu-died", console.log kept; the
# results directory's filesystem full (the scratch disk cannot grow; QEMU pauses the guest)
# -> INFRA naming the host disk, never a guest HANG from the stopped heartbeat.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

head -c 2000000 /dev/urandom >"$KDRILL_TMP/garbage"
KDRILL_CACHE=$KDRILL_TMP/cache kd run --kernel "path:$KDRILL_TMP/garbage" --out "$KDRILL_TMP/g" aio-dio-unlink >"$KDRILL_TMP/log" 2>&1
rc=$?
cat "$KDRILL_TMP/log"
[ $rc = 125 ] || fail "garbage: exit $rc, expected 125"
grep -q "kdrill run: --kernel path:.*not an x86 kernel image (no boot sector signature 55 AA at 0x1fe)" "$KDRILL_TMP/log" || fail "garbage: message"

out=$KDRILL_TMP/res
kd run --kernel "$VM_KERNEL" --out "$out" --boot-timeout 180 --duration 60 aio-dio-unlink >"$KDRILL_TMP/log" 2>&1 &
bg=$!
for _ in $(seq 1200); do
	grep -q '^  \[vm\]' "$KDRILL_TMP/log" && break
	sleep 0.1
done
v=$(ls -d "$out"/*-aio-dio-unlink*/ 2>/dev/null | head -1)
pid=$(cat "$v/qemu.pid" 2>/dev/null)
[ -n "$pid" ] || { kill $bg; fail "no qemu.pid (run not started?)"; }
grep -q '^  \[vm\]' "$KDRILL_TMP/log" || { kill $bg; fail "no progress from the guest"; }
kill -KILL "$pid"
wait $bg
rc=$?
grep -v '^  \[vm\]' "$KDRILL_TMP/log"
[ $rc = 125 ] || fail "killed: exit $rc, expected 125"
[ "$(json "$v/verdict.json" .verdict)" = INFRA ] || fail "killed: verdict $(json "$v/verdict.json" .verdict)"
json "$v/verdict.json" .reason | grep -q '^qemu-died: QEMU exited (status 137) without a guest poweroff' || fail "killed: reason $(json "$v/verdict.json" .reason)"
[ "$(json "$v/verdict.json" .vm.end)" = qemu-died ] || fail "killed: vm.end"
grep -q 'Linux version' "$v/console.log" || fail "killed: console.log not kept"
grep -q '"verdict":"INFRA"' "$out/index.jsonl" || fail "killed: index.jsonl"

full=$KDRILL_TMP/full
mkdir -p "$full"
if mount -t tmpfs -o size=80M kdrill-full "$full" 2>/dev/null; then
	trap 'umount "$full" 2>/dev/null' EXIT
	kd run --kernel "$VM_KERNEL" --out "$full/res" --boot-timeout 180 --duration 30 aio-dio-unlink >"$KDRILL_TMP/log" 2>&1
	rc=$?
	grep -v '^  \[vm\]' "$KDRILL_TMP/log"
	[ $rc = 125 ] || fail "full disk: exit $rc, expected 125"
	v=$(ls -d "$full"/res/*-aio-dio-unlink*/ | head -1)
	[ "$(json "$v/verdict.json" .verdict)" = INFRA ] || fail "full disk: verdict $(json "$v/verdict.json" .verdict)"
	json "$v/verdict.json" .reason | grep -q 'host I/O error on disk .*no space left on the host' ||
		fail "full disk: reason $(json "$v/verdict.json" .reason)"
	grep -q 'Linux version' "$v/console.log" || fail "full disk: console.log not kept"
else
	echo "full disk: cannot mount a tmpfs here, not checked"
fi
echo ok
