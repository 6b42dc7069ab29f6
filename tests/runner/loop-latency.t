#!/bin/bash
# The run's event loop is never blocked by the load it drives: memcg-oom-jbd2 in host mode
# with a moderately heavy shape (4 slices x 10 workers at their 100 MiB limit, OOM-killed
# and restarted, fio writers outside).  Correctness bounds, not speed benchmarks:
#  - stats.jsonl's first sample comes within ~2 s of the loop starting (first sample t < 3.5,
#    setup included) and no two consecutive samples are more than 3 s apart;
#  - the stop happens at the duration (stop_reason "duration") and the whole run (setup,
#    stop, teardown) ends within duration + 15 s of wall time;
#  - nothing is left behind.
# Regressions this catches: a synchronous exec wait per worker start/restart (the loop
# stalled for minutes: first sample at t=85.6 s, 94 s for a 4 s run), a cgroupfs mkdir in
# the loop while workers sit at their limit (3-4 s stalls), workers stuck in memcg reclaim
# that SIGKILL alone does not stop (20+ s), one-by-one teardown.
. "$KDRILL_TOP/tests/runner/lib.sh"
run_require fio

dur=5
t0=$(date +%s.%N)
"$KD" run --host --scratch "$SCRATCH" --out "$OUT" --duration $dur --json \
	--param slices=4 --param workers=10 --param size=1G memcg-oom-jbd2 >"$KDRILL_TMP/v.jsonl" &
pid=$!
wait $pid
rc=$?
wall=$(echo "$(date +%s.%N) - $t0" | bc)
RUN_DIR=$(jq -r .dir "$KDRILL_TMP/v.jsonl")
jq -c '{verdict, reason, stop_reason, duration_s, counters}' "$RUN_DIR/verdict.json"
ts=$(jq -s -c 'map(.t) | unique' "$RUN_DIR/stats.jsonl")
echo "wall ${wall}s, sample times: $ts"
[ "$rc" = 0 ] || fail "exit $rc"
[ "$(vj .verdict)" = PASS ] || fail "verdict $(vj .verdict): $(vj .reason)"
[ "$(vj .stop_reason)" = duration ] || fail "stop_reason $(vj .stop_reason)"
[ "$(vj '[.reproducers[] | select(.kind == "repro")] | length')" = 40 ] || fail "want 40 workers"
jq -e '.[0] < 3.5' <<<"$ts" >/dev/null || fail "first stats sample at t=$(jq '.[0]' <<<"$ts") (loop blocked at the start)"
gap=$(jq '[range(1; length) as $i | .[$i] - .[$i - 1]] | max // 0' <<<"$ts")
jq -e '. <= 3' <<<"$gap" >/dev/null || fail "stats samples $gap s apart (loop blocked during the run)"
[ "$(echo "$wall < $dur + 15" | bc)" = 1 ] || fail "run took ${wall}s for a ${dur}s duration"
check_no_leftovers $pid
echo "PASS: ${wall}s wall for ${dur}s, first sample t=$(jq '.[0]' <<<"$ts"), max gap ${gap}s, $(vj .counters.oom_kills) OOM kills"
