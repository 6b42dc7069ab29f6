#!/bin/bash
# Teardown removes everything: a unit with children that ignore nothing and never exit,
# stopped by --timeout; afterwards no cgroup of that kdrill exists in any hierarchy
# (every v1 controller dir, the cgroup2 mount) or as a systemd unit, and no process of
# the unit survives.  A SIGTERM to kdrill itself also tears everything down.
. "$(dirname "$0")/lib.sh"

t_teardown() {
	local log=$TMP/td-$B.log rc pid marker=$((RANDOM + 1000))
	"$KD" cgroup run --backend "$B" --slice td/inner --restart always \
		--timeout 1.5 -- "$HOG" fork 5 "$marker" >"$log" 2>&1
	rc=$?
	cat "$log"
	pid=$(owner_of_log "$log")
	grep -q '^event timeout' "$log" && ok "stopped on timeout" || fail "no timeout event"
	grep -q '^event done restarts=0 result=success' "$log" && ok "stop is not a restart (result success)" ||
		fail "done line: $(grep '^event done' "$log")"
	[ "$rc" = 0 ] && ok "exit 0" || fail "exit $rc"
	pgrep -f "kdcg-hog fork 5 $marker" >/dev/null && fail "hog processes survived" || ok "no process left"
	[ -n "$pid" ] && assert_no_leftovers "$pid" "after --timeout stop" || fail "no owner pid in log"

	# SIGTERM to kdrill: it stops the unit and removes the slices before exiting.
	"$KD" cgroup run --backend "$B" --slice td2 -- "$HOG" fork 3 "$marker" >"$log" 2>&1 &
	local kd=$!
	for _ in $(seq 50); do grep -q '^unit ' "$log" && break; sleep 0.1; done
	sleep 0.3
	[ -n "$(leftovers "$kd")" ] && ok "slice exists while running" || fail "slice missing while running"
	kill -TERM "$kd"
	wait "$kd"
	rc=$?
	cat "$log"
	pgrep -f "kdcg-hog fork 3 $marker" >/dev/null && fail "hog survived SIGTERM of kdrill" || ok "no process left after SIGTERM"
	assert_no_leftovers "$kd" "after SIGTERM"
}

per_backend t_teardown
finish
