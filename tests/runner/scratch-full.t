#!/bin/bash
# A full --scratch filesystem is the harness's problem, not the kernel's: the sparse loop
# image cannot grow, the kernel logs "Buffer I/O error" / EXT4-fs errors on kdrill's loop
# device and the reproducers see EIO.  Before the fix that was a BUG (fs-error report) or an
# ANOMALY; it must be INFRA naming the directory, with nothing left behind.
. "$KDRILL_TOP/tests/runner/lib.sh"
run_require
mount -t tmpfs -o size=100M kdrill-scratch-full "$SCRATCH" 2>/dev/null ||
	{ echo "skip: cannot mount a tmpfs on $SCRATCH"; exit 77; }
trap 'umount "$SCRATCH" 2>/dev/null' EXIT

before=$(run_dirs)
"$KD" run --host --scratch "$SCRATCH" --out "$OUT" --quiet --duration 20 aio-dio-unlink &
pid=$!
wait $pid
RC=$?
new_run_dir "$before"
echo "exit $RC: $(vj .verdict) $(vj .reason)"
jq -c '.reports[] | {class, title, role}' "$RUN_DIR/verdict.json"
[ "$RC" = 125 ] || fail "exit $RC, want 125"
[ "$(vj .verdict)" = INFRA ] || fail "verdict $(vj .verdict): $(vj .reason)"
vj .reason | grep -q "the scratch directory .* is full" || fail "reason $(vj .reason)"
[ "$(jq '[.reports[] | select(.role == "failure")] | length' "$RUN_DIR/verdict.json")" = 0 ] ||
	fail "a report from the full disk counted as a kernel failure"
grep -q 'stopping: scratch directory full' "$RUN_DIR/runner.log" || fail "runner.log lacks the stop"
check_no_leftovers $pid
echo "full scratch: INFRA, nothing left behind"
