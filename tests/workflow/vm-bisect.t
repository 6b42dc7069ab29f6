#!/bin/bash
# kdrill bisect end to end on real kernels (TCG: ~1 min per run, 3 runs):
#  - dio-unwritten never reproduces on stock Debian kernels: the bad end is calibrated
#    (budget 1 run), does not reproduce -> NO-REPRO, exit 125, "nothing to bisect", the
#    good end never run;
#  - crash-selftest reproduces everywhere: after the bad end's match the good end is
#    tested and reproduces -> GOOD-IS-BAD, exit 125;
#  - usage errors (exit 2): an end not in the list, --good after --bad without --reverse.
# Finding a culprit at a known position needs kernels with the bug injected
# (tests/workflow/vm-inject.t).
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
out=$KDRILL_TMP/results
range='debian:6.1.0-{53..54}-cloud-amd64'
k53=debian:6.1.0-53-cloud-amd64 k54=debian:6.1.0-54-cloud-amd64

kd bisect --good debian:6.1.0-52-cloud-amd64 --bad "$k54" --kernels "$range" dio-unwritten 2>"$KDRILL_TMP/u1"
[ $? = 2 ] && grep -q "is not in the kernel list" "$KDRILL_TMP/u1" || fail "end not in list: $(cat "$KDRILL_TMP/u1")"
kd bisect --good "$k54" --bad "$k53" --kernels "$range" dio-unwritten 2>"$KDRILL_TMP/u2"
[ $? = 2 ] && grep -q "add --reverse" "$KDRILL_TMP/u2" || fail "order: $(cat "$KDRILL_TMP/u2")"
echo "ok: usage errors exit 2"

kd bisect --good "$k53" --bad "$k54" --kernels "$range" --budget-runs 1 --duration 5 --boot-timeout 180 \
	--out "$out" dio-unwritten >"$KDRILL_TMP/b1.out" 2>"$KDRILL_TMP/b1.err"
rc=$?
cat "$KDRILL_TMP/b1.err"
[ $rc = 125 ] || fail "dio-unwritten: exit $rc, expected 125"
d=$out/$(awk '{print $3}' "$KDRILL_TMP/b1.out")
[ "$(json "$d/bisect.json" .result)" = NO-REPRO ] || fail "result $(json "$d/bisect.json" .result)"
json "$d/bisect.json" .reason | grep -q "did not reproduce in 1 runs: nothing to bisect" || fail "reason"
[ "$(json "$d/bisect.json" '.kernels[1].runs')" = 1 ] && [ "$(json "$d/bisect.json" '.kernels[0].runs')" = 0 ] ||
	fail "runs per kernel"
grep -q "NO-REPRO" "$d/bisect.md" || fail "bisect.md"
echo "ok: $(json "$d/bisect.json" .reason)"

kd bisect --good "$k53" --bad "$k54" --kernels "$range" --calibrate-matches 1 --boot-timeout 180 \
	--out "$out" crash-selftest >"$KDRILL_TMP/b2.out" 2>"$KDRILL_TMP/b2.err"
rc=$?
cat "$KDRILL_TMP/b2.err"
[ $rc = 125 ] || fail "crash-selftest: exit $rc, expected 125"
d=$out/$(awk '{print $3}' "$KDRILL_TMP/b2.out")
[ "$(json "$d/bisect.json" .result)" = GOOD-IS-BAD ] || fail "result $(json "$d/bisect.json" .result)"
[ "$(json "$d/bisect.json" '[.steps[].kernel] | join(",")')" = "$k54,$k53" ] || fail "steps $(json "$d/bisect.json" '[.steps[].kernel] | join(",")')"
[ "$(json "$d/bisect.json" '.kernels[0].matches')" = 1 ] || fail "good end matches"
kd show --out "$out" "$(basename "$d")" | grep -q "GOOD-IS-BAD" || fail "kdrill show"
echo "ok: $(json "$d/bisect.json" .reason)"
