#!/bin/bash
# No work is never a PASS: a host run whose reproducers exit cleanly without reaching
# their main loop (a start record, no progress record, 0 ops) is INFRA (exit 125) with
# that reason; the same run with one reproducer that reports progress is a PASS; and a
# VM run's merge applies the same rule to the guest runner's verdict.json (whatever the
# guest's own verdict said), with the same reason text.
. "$KDRILL_TOP/tests/runner/lib.sh"
run_require
sc=$KDRILL_TOP/tests/verdict/no-work.ini
bin=$KDRILL_TMP/bin
mkdir -p "$bin"
# fake-repro --dir D --json --duration N --seed S: the seed's parity picks the behaviour
cat >"$bin/fake-repro" <<'SH'
#!/bin/sh
seed=0
while [ $# -gt 0 ]; do [ "$1" = --seed ] && seed=$2; shift; done
echo '{"record":"start","program":"fake-repro"}'
if [ "${FAKE_WORK:-no}" = yes ] && [ $((seed % 2)) = 0 ]; then
	echo '{"record":"progress","program":"fake-repro","ops":0}'
	sleep 1
	echo '{"record":"result","program":"fake-repro","status":"clean","exit_code":0,"ops":7}'
else
	echo '{"record":"result","program":"fake-repro","status":"clean","exit_code":0,"ops":0}'
fi
exit 0
SH
chmod +x "$bin/fake-repro"

kd_run --no-kmsg --bindir "$bin" --seed 2 "$sc"
echo "no work: exit $RC, $(vj .verdict): $(vj .reason)"
[ "$RC" = 125 ] || fail "no work: exit $RC, want 125"
[ "$(vj .verdict)" = INFRA ] || fail "no work: verdict $(vj .verdict)"
[ "$(vj .reason)" = "no work done: no reproducer reached its main loop (no progress record, 0 ops)" ] ||
	fail "no work: reason '$(vj .reason)'"
[ "$(vj '[.reproducers[].ran] | map(tostring) | join(",")')" = false,false ] || fail "no work: ran flags"
cp "$RUN_DIR/verdict.json" "$KDRILL_TMP/host-nowork.json"

FAKE_WORK=yes kd_run --no-kmsg --bindir "$bin" --seed 2 "$sc"
echo "work: exit $RC, $(vj .verdict): $(vj .reason)"
[ "$RC" = 0 ] || fail "work: exit $RC, want 0"
[ "$(vj .verdict)" = PASS ] || fail "work: verdict $(vj .verdict)"
[ "$(vj '[.reproducers[].ran] | map(tostring) | join(",")')" = true,false ] || fail "work: ran flags"
cp "$RUN_DIR/verdict.json" "$KDRILL_TMP/host-work.json"

# VM: the guest's verdict.json says PASS with no work (an older guest): the host says INFRA
KV=$KDRILL_BIN/kdverdict
jq '.mode = "vm" | .verdict = "PASS" | .exit_code = 0 | .reason = "no kernel report in 2s: 0 ops, 0 OOM kills, 0 restarts" | del(.reproducers[].ran)' \
	"$KDRILL_TMP/host-nowork.json" >"$KDRILL_TMP/guest.json"
"$KV" vm-merge "$sc" --console "$KDRILL_TOP/tests/detect/fixtures/real-boot.log" --end poweroff --ready \
	--guest "$KDRILL_TMP/guest.json" --done 0 --files complete >"$KDRILL_TMP/vm.json" || fail "kdverdict"
echo "vm, no work: $(jq -r '.verdict + ": " + .reason' "$KDRILL_TMP/vm.json")"
[ "$(jq -r .verdict "$KDRILL_TMP/vm.json")" = INFRA ] || fail "vm no work: verdict"
[ "$(jq -r .exit_code "$KDRILL_TMP/vm.json")" = 125 ] || fail "vm no work: exit_code"
[ "$(jq -r .reason "$KDRILL_TMP/vm.json")" = "$(jq -r .reason "$KDRILL_TMP/host-nowork.json")" ] ||
	fail "vm and host reasons differ for the same situation"
jq '.mode = "vm"' "$KDRILL_TMP/host-work.json" >"$KDRILL_TMP/guest.json"
"$KV" vm-merge "$sc" --console "$KDRILL_TOP/tests/detect/fixtures/real-boot.log" --end poweroff --ready \
	--guest "$KDRILL_TMP/guest.json" --done 0 --files complete >"$KDRILL_TMP/vm.json" || fail "kdverdict"
[ "$(jq -r .verdict "$KDRILL_TMP/vm.json")" = PASS ] || fail "vm work: verdict $(jq -r .reason "$KDRILL_TMP/vm.json")"
[ "$(jq -r .reason "$KDRILL_TMP/vm.json")" = "$(jq -r .reason "$KDRILL_TMP/host-work.json")" ] ||
	fail "vm and host PASS reasons differ: $(jq -r .reason "$KDRILL_TMP/vm.json") / $(jq -r .reason "$KDRILL_TMP/host-work.json")"
echo "no work -> INFRA (host and VM, same reason); work -> PASS (same reason)"
