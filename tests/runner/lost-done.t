#!/bin/bash
# A unit whose end never reaches the runner (systemd's signals for a unit can be late or
# lost on a loaded machine; KDCG_TEST_LOSE_DONE drops them here) is seen stopped by its
# empty cgroup: the stop ends as soon as it looks again, with the run's own verdict --
# not after the whole can't-die wait, not as INFRA "did not stop".
. "$KDRILL_TOP/tests/runner/lib.sh"
run_require
bin=$KDRILL_TMP/bin
mkdir -p "$bin"
cat >"$bin/fake-repro" <<'SH'
#!/bin/sh
echo '{"record":"start","program":"fake-repro"}'
echo '{"record":"progress","program":"fake-repro","ops":5}'
trap 'exit 0' TERM
while :; do sleep 0.2; done
SH
chmod +x "$bin/fake-repro"
cat >"$KDRILL_TMP/lost.ini" <<'INI'
[scenario]
name = lost-done
description = test fixture: a reproducer whose end the runner is never told of
duration = 3s
grace = 1s
cant_die_timeout = 120s
signature_class = crash

[fs.data]
type = ext4
size = 64M

[repro.w]
program = fake-repro
INI
t0=$(date +%s)
KDCG_TEST_LOSE_DONE=1 kd_run --no-kmsg --bindir "$bin" "$KDRILL_TMP/lost.ini"
t=$(($(date +%s) - t0))
echo "exit $RC in ${t}s: $(vj .verdict) $(vj .reason)"
grep "no task left\|still there\|did not" "$RUN_DIR/runner.log"
[ "$RC" = 0 ] || fail "exit $RC, want 0"
[ "$(vj .verdict)" = PASS ] || fail "verdict $(vj .verdict): $(vj .reason)"
grep -q "w-0: no task left in its cgroup: stopped" "$RUN_DIR/runner.log" ||
	fail "runner.log does not say the unit was found stopped"
[ "$t" -lt 60 ] || fail "the run took ${t}s: it waited out the can't-die bound"
echo "ok: a lost unit end costs ${t}s, verdict $(vj .verdict)"
