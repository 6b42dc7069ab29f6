#!/bin/bash
# The verdict path from a kernel report to BUG / HANG / WARN: recorded consoles of
# real guest kernels (tests/detect/fixtures) replayed through the runner's detector
# feed; the signature match and the allow list; and /dev/kmsg records (kernel facility
# only) through the same filter the live watcher uses.
. "$KDRILL_TOP/tests/runner/lib.sh"
run_require
fx=$KDRILL_TOP/tests/detect/fixtures
[ -f "$fx/real-bug.log" ] && [ -f "$fx/real-hung-kmsg.kmsg" ] || { echo "skip: detector fixtures missing"; exit 77; }
sc=$KDRILL_TOP/tests/runner/fixtures/replay.ini

# replay WANT_VERDICT WANT_MATCH OPTION FILE [--param ...]
replay() {
	local want=$1 match=$2 opt=$3 file=$4
	shift 4
	local want_rc=1
	[ "$want" = PASS ] && want_rc=0
	kd_run --no-kmsg "$opt" "$file" "$@" "$sc"
	[ "$RC" = "$want_rc" ] || fail "$(basename "$file"): exit $RC, want $want_rc ($(vj .reason))"
	[ "$(vj .verdict)" = "$want" ] || fail "$(basename "$file"): verdict $(vj .verdict), want $want: $(vj .reason)"
	[ "$(vj .match)" = "$match" ] || fail "$(basename "$file"): match $(vj .match), want $match"
	[ "$(vj .exit_code)" = "$want_rc" ] || fail "exit_code"
	cmp -s "$file" "$RUN_DIR/console.log" || [ "$opt" = --replay-kmsg ] || fail "console.log differs from the replayed file"
	echo "ok $(basename "$file") $*: $(vj .verdict) match=$(vj .match) — $(vj .reason)"
}

head -n 387 "$fx/real-warn.log" >"$KDRILL_TMP/warn-only.log"   # boot + one WARNING
replay BUG true --replay-console "$fx/real-bug.log"
replay BUG false --replay-console "$fx/real-bug.log" --param sig=no-such-title
replay HANG true --replay-console "$fx/real-hung.log" --param sig=no-such-title
replay WARN true --replay-console "$KDRILL_TMP/warn-only.log"
replay PASS false --replay-console "$KDRILL_TMP/warn-only.log" --param allow=kdtrig
vj .reason | grep -q '; allowed: WARNING' || fail "PASS reason does not name the allowed report: $(vj .reason)"
replay PASS false --replay-console "$fx/real-boot.log"
# the failure report is in verdict.json with its excerpt, and junit.xml says why
kd_run --no-kmsg --replay-console "$fx/real-bug.log" "$sc"
vj '[.reports[] | select(.role == "failure")][0].excerpt' | grep -q 'kdtrig' || fail "no excerpt"
grep -q '<failure type="BUG"' "$RUN_DIR/junit.xml" || fail "junit failure element"
"$KD" show --out "$OUT" last | tee "$KDRILL_TMP/show"
grep -q '^verdict   BUG, signature match' "$KDRILL_TMP/show" || fail "kdrill show verdict line"
grep -q 'kdtrig' "$KDRILL_TMP/show" || fail "kdrill show excerpt"

# /dev/kmsg records: kernel facility passes, anything else (user space writing to
# /dev/kmsg, facility >= 1) is dropped before the detector sees it
replay HANG true --replay-kmsg "$fx/real-hung-kmsg.kmsg" --param sig=no-such-title
[ "$(vj .counters.reports)" -gt 0 ] || fail "no reports from kmsg records"
vj .hang_summary | grep -q 'blocked task' || fail "HANG verdict without hang_summary"
vj .reason | grep -q '; root: ' || fail "HANG reason without the likely root: $(vj .reason)"
"$KD" show --out "$OUT" last >"$KDRILL_TMP/show-hang"
grep -q '^blocked   [0-9]* blocked task' "$KDRILL_TMP/show-hang" || fail "kdrill show: no blocked-task summary"
grep -q "unreliable '?' frames not shown" "$KDRILL_TMP/show-hang" || fail "kdrill show: '?' frames not folded"
grep -Eq '^ +\? ' "$KDRILL_TMP/show-hang" && fail "kdrill show: a '?' frame in the excerpt"
grep -q 'runner.log (' "$KDRILL_TMP/show-hang" || fail "kdrill show: files list lacks runner.log"
# same records with facility 1 (LOG_USER): prio + 8
awk -F, 'BEGIN{OFS=","} /^[0-9]/{$1=$1+8} {print}' "$fx/real-hung-kmsg.kmsg" >"$KDRILL_TMP/user.kmsg"
replay PASS false --replay-kmsg "$KDRILL_TMP/user.kmsg"
[ ! -s "$RUN_DIR/console.log" ] || fail "user-facility records reached console.log"
echo "replayed verdicts: BUG, HANG, WARN, allowed, clean; kmsg facility filter both ways"
