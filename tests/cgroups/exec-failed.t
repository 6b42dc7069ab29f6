#!/bin/bash
# Starting a unit never waits for its exec (spawn_argv_async + an io source on the status
# pipe): an exec that fails after the start (a directory as the program: EACCES; a missing
# --cwd: ENOENT) arrives as an event, "exited result=exec-failed exit=127", and follows the
# restart policy like any failure (on-failure, restart-max 2: three failed incarnations,
# two restarts).  A program that does not exist at all stays an immediate error (badinput.t).
# cgroupfs backends only: under systemd, exec failures are systemd's (203/EXEC, exit-code).
. "$(dirname "$0")/lib.sh"
BACKENDS=${KDCG_BACKEND:-v1 v2}

t_exec() {
	local log=$TMP/exec-$B.log rc pid res
	"$KD" cgroup run --backend "$B" --restart on-failure --restart-max 2 --restart-sec 0.1 \
		--timeout 30 -- /tmp >"$log" 2>&1
	rc=$?
	cat "$log"
	pid=$(owner_of_log "$log")
	res=$(grep '^result ' "$log")
	[ "$rc" = 1 ] && ok "exit 1" || fail "exit $rc, want 1"
	[ "$(grep -c '^event exited .*result=exec-failed exit=127' "$log")" = 3 ] &&
		ok "3 exec-failed exits" || fail "want 3 'exited result=exec-failed exit=127' events"
	[ "$(grep -c '^event restarted' "$log")" = 2 ] && ok "2 restarts (policy followed)" ||
		fail "want 2 restart events"
	[ "$(field result "$res")" = exec-failed ] && [ "$(field restarts "$res")" = 2 ] &&
		ok "final result exec-failed, restarts=2" || fail "result line: $res"
	[ -n "$pid" ] && assert_no_leftovers "$pid" "after exec failures"

	"$KD" cgroup run --backend "$B" --cwd "$TMP/no/such/dir" --timeout 30 -- /bin/true >"$log" 2>&1
	rc=$?
	cat "$log"
	[ "$rc" = 1 ] && grep -q '^event done restarts=0 result=exec-failed' "$log" &&
		ok "missing cwd: exec-failed event" || fail "missing cwd: exit $rc"
	pid=$(owner_of_log "$log")
	[ -n "$pid" ] && assert_no_leftovers "$pid" "after a missing cwd"
}

per_backend t_exec
finish
