# shellcheck shell=bash
# tests/repro/dio-common.sh — helpers for the DIO reproducer tests (aio-dio-unlink,
# dio-unwritten, dio-invalidate).  Source after setting PROG.
#   fail MSG                 print and exit 1
#   run_json OUT ARGS...     run $KDRILL_BIN/$PROG --json ARGS, stdout to OUT; sets RC, TOOK
#   result OUT               the result record (one line of JSON)
#   check_clean OUT          exit code 0, result present, status clean, no anomalies,
#                            race_window_hits > 0, start + progress records present
#   check_anomaly OUT NAME   exit code 1, result status anomaly, anomaly NAME listed
set -u
. "$KDRILL_TOP/tests/lib/loopfs.sh"
loopfs_require
command -v jq >/dev/null || { echo "skip: jq not installed"; exit 77; }
BIN=$KDRILL_BIN/$PROG
[ -x "$BIN" ] || { echo "FAIL: $BIN not built (make asan)"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }

run_json() {
	local out=$1 t0
	shift
	t0=$(date +%s.%N)
	"$BIN" --json "$@" >"$out" 2>"$out.err"
	RC=$?
	TOOK=$(echo "$(date +%s.%N) - $t0" | bc)
	echo "  $PROG $* -> exit $RC in ${TOOK}s"
	tail -n 3 "$out.err" | sed 's/^/    stderr: /'
}

result() { grep '"record":"result"' "$1" | tail -n 1; }

check_clean() {
	local out=$1 r
	[ "$RC" = 0 ] || fail "exit $RC (want 0): $(result "$out") $(cat "$out.err")"
	r=$(result "$out")
	[ -n "$r" ] || fail "no result record"
	[ "$(jq -r .status <<<"$r")" = clean ] || fail "status: $r"
	[ "$(jq -r '.anomalies | length' <<<"$r")" = 0 ] || fail "anomalies: $(jq -c .anomalies <<<"$r")"
	[ "$(jq -r .race_window_hits <<<"$r")" -gt 0 ] || fail "no race-window hits: $r"
	[ "$(jq -r .ops <<<"$r")" -gt 0 ] || fail "no ops: $r"
	grep -q '"record":"start"' "$out" || fail "no start record"
	grep -q '"record":"progress"' "$out" || fail "no progress record"
	jq -e '.params.dir and .params.engine and (.params.seed != null)' \
		<(grep '"record":"start"' "$out") >/dev/null || fail "start record lacks params"
	echo "  ok: $(jq -c '{engine,ops,ops_per_s,race_window_hits,counters}' <<<"$r")"
}

check_anomaly() {
	local out=$1 name=$2 r
	r=$(result "$out")
	[ "$RC" = 1 ] || fail "exit $RC (want 1 for planted $name): $r"
	[ -n "$r" ] || fail "no result record"
	[ "$(jq -r .status <<<"$r")" = anomaly ] || fail "status: $r"
	jq -e --arg n "$name" '[.anomalies[].name] | index($n) != null' <<<"$r" >/dev/null ||
		fail "anomaly $name not named: $(jq -c .anomalies <<<"$r")"
	[ "$(jq -r .fault_fired <<<"$r")" = true ] || fail "fault did not fire: $r"
	echo "  ok: planted fault caught as $name: $(jq -r '.anomalies[0].detail' <<<"$r" | cut -c1-160)"
}
