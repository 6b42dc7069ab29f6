#!/bin/bash
# kdrill validate end to end on real kernels (TCG: ~1 min per run, 4 runs):
#  - crash-selftest always reproduces: BEFORE debian 6.1.0-53, AFTER 6.1.0-54 ->
#    NOT-FIXED (exit 1) after one run each, both runs matching, validate.json/md/junit
#    written, `kdrill show validate-<id>` works, `show last` still shows a run;
#  - dio-unwritten does not reproduce on a stock kernel: INCONCLUSIVE (exit 125) with
#    "does not reach the bug", after one BEFORE run and one AFTER probe;
#  - --host is a usage error (exit 2) before anything runs.
# The FIXED case needs a kernel with the bug injected (tests/workflow/vm-inject.t).
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
out=$KDRILL_TMP/results
k53=debian:6.1.0-53-cloud-amd64 k54=$VM_KERNEL

kd validate --host --before "$k53" --after "$k54" crash-selftest >"$KDRILL_TMP/host.log" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "host mode makes no sense" "$KDRILL_TMP/host.log" || fail "--host: exit $rc: $(cat "$KDRILL_TMP/host.log")"
[ ! -e "$out" ] || fail "--host left $out behind"
echo "ok: --host refused (exit 2)"

kd validate --before "$k53" --after "$k54" --calibrate-matches 1 --boot-timeout 180 --out "$out" \
	crash-selftest >"$KDRILL_TMP/v1.out" 2>"$KDRILL_TMP/v1.err"
rc=$?
cat "$KDRILL_TMP/v1.err"
[ $rc = 1 ] || fail "crash-selftest: exit $rc, expected 1 (NOT-FIXED)"
id=$(awk '{print $2}' "$KDRILL_TMP/v1.out")
d=$out/$id
[ -f "$d/validate.json" ] && [ -f "$d/validate.md" ] && [ -f "$d/junit.xml" ] || fail "missing files in $d"
[ "$(json "$d/validate.json" .verdict)" = NOT-FIXED ] || fail "verdict $(json "$d/validate.json" .verdict)"
[ "$(json "$d/validate.json" '.scenarios[0].before.signature.fail')" = 1 ] || fail "before fail count"
[ "$(json "$d/validate.json" '.scenarios[0].after.signature.fail')" = 1 ] || fail "after fail count"
[ "$(json "$d/validate.json" '.scenarios[0].order')" = BA ] || fail "order $(json "$d/validate.json" '.scenarios[0].order')"
[ "$(json "$d/validate.json" '.scenarios[0].before.kernel.release')" = 6.1.0-53-cloud-amd64 ] || fail "before release"
[ "$(json "$d/validate.json" '.scenarios[0].after.kernel.release')" = 6.1.0-54-cloud-amd64 ] || fail "after release"
for r in $(json "$d/validate.json" '.scenarios[0].before.tally.run[].run_id, .scenarios[0].after.tally.run[].run_id'); do
	[ "$(json "$out/$r/verdict.json" .match)" = true ] || fail "run $r: match is not true"
done
grep -q '| kdrill.crash-selftest | 1:1 | 100% \[2%, 100%\] | 1:1 |' "$d/validate.md" || fail "validate.md table: $(grep crash "$d/validate.md")"
grep -q 'failure type="NOT-FIXED"' "$d/junit.xml" || fail "junit.xml"
kd show --out "$out" "$id" | grep -q "^# kdrill validate $id: NOT-FIXED" || fail "kdrill show $id"
kd show --out "$out" last | grep -q "^run .*crash-selftest" || fail "show last is not a run"
echo "ok: NOT-FIXED: $(json "$d/validate.json" '.scenarios[0].reason')"

kd validate --before "$k54" --after "$k53" --max-runs 2 --duration 5 --boot-timeout 180 --out "$out" \
	dio-unwritten >"$KDRILL_TMP/v2.out" 2>"$KDRILL_TMP/v2.err"
rc=$?
cat "$KDRILL_TMP/v2.err"
[ $rc = 125 ] || fail "dio-unwritten: exit $rc, expected 125 (INCONCLUSIVE)"
d=$out/$(awk '{print $2}' "$KDRILL_TMP/v2.out")
[ "$(json "$d/validate.json" .verdict)" = INCONCLUSIVE ] || fail "verdict"
json "$d/validate.json" '.scenarios[0].reason' | grep -q "does not reach the bug on the unfixed kernel" || fail "reason"
# the budget of 2: one calibration run on BEFORE, one probe of AFTER
[ "$(json "$d/validate.json" '.scenarios[0].order')" = BA ] || fail "order $(json "$d/validate.json" '.scenarios[0].order')"
echo "ok: INCONCLUSIVE: $(json "$d/validate.json" '.scenarios[0].reason')"
