#!/bin/bash
# SIGINT in the middle of a run: a complete result (verdict.json with INFRA
# "interrupted", junit.xml, index line) and no cgroups, loop devices or mounts left.
# SIG=HUP (sighup.t): the same for SIGHUP (the terminal went away).
. "$KDRILL_TOP/tests/runner/lib.sh"
SIG=${SIG:-INT}
run_require stress-ng

"$KD" run --host --scratch "$SCRATCH" --out "$OUT" --duration 120 \
	--param size=512M --param load_cpu=1 --param load_vm_bytes=32M aio-dio-unlink \
	>"$KDRILL_TMP/out" 2>"$KDRILL_TMP/err" &
pid=$!
# wait until the reproducers are running (their JSON lines appear)
for _ in $(seq 1 100); do
	ls "$OUT"/2*/unlink-0.jsonl >/dev/null 2>&1 && [ -s "$(ls "$OUT"/2*/unlink-0.jsonl)" ] && break
	sleep 0.1
done
sleep 1
# mid-run: the loop device and mount exist now
grep -q " $(realpath "$SCRATCH")/kdrill-$pid-data " /proc/self/mountinfo || fail "not mounted mid-run"
kill -$SIG $pid
t0=$SECONDS
wait $pid
rc=$?
cat "$KDRILL_TMP/err"
[ "$rc" = 125 ] || fail "exit $rc, want 125"
[ $((SECONDS - t0)) -lt 30 ] || fail "took $((SECONDS - t0))s to stop"
RUN_DIR=$(ls -d "$OUT"/2*/ | tail -n 1)
RUN_DIR=${RUN_DIR%/}
[ "$(vj .verdict)" = INFRA ] || fail "verdict $(vj .verdict)"
[[ "$(vj .reason)" == "interrupted (SIG$SIG)" ]] || fail "reason $(vj .reason)"
[ "$(vj .exit_code)" = 125 ] || fail "exit_code in verdict.json"
[ "$(vj '.reproducers | length')" = 3 ] || fail "reproducers missing from the result"
[ "$(vj '[.reproducers[] | select(.kind == "repro") | .result.record] | all(. == "result")')" = true ] ||
	fail "reproducers' final result records missing"
grep -q "<error type=\"INFRA\" message=\"interrupted (SIG$SIG)\">" "$RUN_DIR/junit.xml" || fail "junit.xml"
jq -e 'select(.verdict == "INFRA")' "$OUT/index.jsonl" >/dev/null || fail "index.jsonl"
check_no_leftovers $pid
echo "interrupted run: INFRA '$(vj .reason)' after $(vj .duration_s)s, nothing left behind"
