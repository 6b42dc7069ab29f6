#!/bin/bash
# A unit that outlives SIGKILL in the kernel is the kernel's problem, reported like the
# kernel's own hung-task reports: "task can't die in FRAME" (HANG, exit 1) with the task's
# kernel stack from /proc/PID/stack, not INFRA.  The stuck task here: the reproducer,
# frozen by the test in a cgroup-v1 freezer cgroup (a frozen task sleeps in the kernel and
# SIGKILL does not thaw it).  Two cases:
#   stop   the runner's own SIGKILL at the end of the run: reported after the stop
#   killed a SIGKILL from elsewhere while the run goes on (as the OOM killer sends it):
#          reported during the run, which then stops on it (stop_on = first)
# After the report the test thaws the task: it dies and the run cleans up.
. "$KDRILL_TOP/tests/runner/lib.sh"
run_require
fr=/sys/fs/cgroup/freezer
[ -w "$fr/cgroup.procs" ] || { echo "skip: no cgroup-v1 freezer hierarchy at $fr"; exit 77; }
frz=$fr/kdrill-test-cant-die-$$
bin=$KDRILL_TMP/bin
mkdir -p "$bin"
cat >"$bin/fake-repro" <<'SH'
#!/bin/sh
echo '{"record":"start","program":"fake-repro"}'
echo '{"record":"progress","program":"fake-repro","ops":1}'
echo $$ >"$FAKE_PIDFILE"
while :; do sleep 0.2; done
SH
chmod +x "$bin/fake-repro"
thaw() {
	[ -d "$frz" ] || return 0
	echo THAWED >"$frz/freezer.state" 2>/dev/null
	while read -r p; do echo "$p" >"$fr/cgroup.procs"; done <"$frz/cgroup.procs" 2>/dev/null
	rmdir "$frz" 2>/dev/null
}
trap thaw EXIT

one_case() { # one_case stop|killed
	local mode=$1 dur=4s before kd rpid rc at
	[ "$mode" = killed ] && dur=120s
	cat >"$KDRILL_TMP/cant-die.ini" <<INI
[scenario]
name = cant-die
description = test fixture: a reproducer that the test freezes
duration = $dur
grace = 1s
cant_die_timeout = 2s
stop_on = first
signature = ^task can't die in

[fs.data]
type = ext4
size = 64M

[repro.w]
program = fake-repro
INI
	export FAKE_PIDFILE=$KDRILL_TMP/pid-$mode
	before=$(run_dirs)
	"$KD" run --host --scratch "$SCRATCH" --out "$OUT" --quiet --no-kmsg --bindir "$bin" \
		"$KDRILL_TMP/cant-die.ini" >"$KDRILL_TMP/out" 2>&1 &
	kd=$!
	for _ in $(seq 300); do [ -s "$FAKE_PIDFILE" ] && break; sleep 0.1; done
	[ -s "$FAKE_PIDFILE" ] || fail "$mode: the reproducer did not start"
	rpid=$(cat "$FAKE_PIDFILE")
	mkdir "$frz" && echo "$rpid" >"$frz/cgroup.procs" && echo FROZEN >"$frz/freezer.state" ||
		fail "$mode: cannot freeze pid $rpid"
	for _ in $(seq 100); do [ "$(cat "$frz/freezer.state")" = FROZEN ] && break; sleep 0.1; done
	[ "$(cat "$frz/freezer.state")" = FROZEN ] || fail "freezer state $(cat "$frz/freezer.state")"
	[ "$mode" = killed ] && kill -KILL "$rpid"
	new_run_dir "$before"
	# stop: the report comes ~grace + 10 s + cant_die_timeout after the stop; killed:
	# cant_die_timeout after the kill, at the runner's next 5 s look.  Thaw once it is there.
	for _ in $(seq 600); do
		grep -q "can't die for more than 2 seconds" "$RUN_DIR/runner.log" 2>/dev/null && break
		kill -0 $kd 2>/dev/null || break
		sleep 0.1
	done
	grep -q "can't die" "$RUN_DIR/runner.log" ||
		{ cat "$KDRILL_TMP/out"; fail "$mode: no can't-die report in runner.log"; }
	thaw
	wait $kd
	rc=$?
	cat "$KDRILL_TMP/out"
	jq -c '{verdict, reason, exit_code, match}' "$RUN_DIR/verdict.json"
	jq -c '.reports[] | {class, title, frame, task, role}' "$RUN_DIR/verdict.json"
	[ "$rc" = 1 ] || fail "$mode: exit $rc, want 1"
	[ "$(vj .verdict)" = HANG ] || fail "$mode: verdict $(vj .verdict): $(vj .reason)"
	[[ "$(vj .reason)" == "task can't die in "?* ]] || fail "$mode: reason '$(vj .reason)'"
	[ "$(vj .match)" = true ] || fail "$mode: the signature did not match"
	[ "$(vj '[.reports[] | select(.title | startswith("task can'"'"'t die"))] | length')" = 1 ] ||
		fail "$mode: the task was reported more than once"
	[ "$(vj '.reports[0].task')" = "fake-repro:$rpid" ] ||
		fail "$mode: task $(vj '.reports[0].task'), want fake-repro:$rpid"
	[ -n "$(vj '.reports[0].frame // empty')" ] || fail "$mode: no frame"
	[ "$(vj '.reports[0].frame')" = "$(vj '.reason | sub("^task can.t die in "; "")')" ] ||
		fail "$mode: frame $(vj '.reports[0].frame') is not the title's"
	grep -A12 "can't die for more than" "$RUN_DIR/runner.log"
	grep -q "state:" "$RUN_DIR/runner.log" || fail "$mode: runner.log lacks the task's stack"
	if [ "$mode" = killed ]; then
		# reported while the run went on: well before its 120 s, and no INFRA from the
		# stop that followed (the task was reported already)
		at=$(grep -m1 "can't die for more than" "$RUN_DIR/runner.log" | sed 's/^\[ *\([0-9]*\)\..*/\1/')
		[ -n "$at" ] && [ "$at" -lt 60 ] || fail "killed: reported at ${at:-?} s, not during the run"
		grep -q "did not stop, with no task" "$RUN_DIR/runner.log" && fail "killed: INFRA at the stop"
	fi
	check_no_leftovers_after_stuck $kd
	echo "ok $mode: $(vj .reason) (frame $(vj '.reports[0].frame'))"
}

one_case stop
one_case killed
