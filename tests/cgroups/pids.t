#!/bin/bash
# pids max is enforced: a bounded fork bomb in a slice with pids max 16 sees EAGAIN,
# the slice's pids.events "max" counts the refused forks, pids.current never passes 16.
. "$(dirname "$0")/lib.sh"

t_pids() {
	local log=$TMP/pids-$B.log out=$TMP/pids-$B.out rc st pid
	"$KD" cgroup run --backend "$B" --slice bomb --pids-max 16 --timeout 60 --stdout "$out" \
		-- "$HOG" fork 64 >"$log" 2>&1
	rc=$?
	cat "$log" "$out"
	pid=$(owner_of_log "$log")
	st=$(grep '^stats ' "$log")
	[ "$rc" = 0 ] && ok "the hog saw EAGAIN (exit 0)" || fail "exit $rc (hog saw no EAGAIN?)"
	forked=$(sed -n 's/^forked \([0-9]*\) eagain \([0-9]*\)/\1/p' "$out")
	eagain=$(sed -n 's/^forked \([0-9]*\) eagain \([0-9]*\)/\2/p' "$out")
	[ -n "$forked" ] && [ "$forked" -le 15 ] && ok "forked $forked children (<= 15 + the hog itself)" ||
		fail "forked '$forked'"
	[ -n "$eagain" ] && [ "$eagain" -ge 49 ] && ok "$eagain forks refused with EAGAIN" ||
		fail "eagain '$eagain'"
	[ "$(field pids_max "$st")" = 16 ] && ok "pids_max=16" || fail "pids_max: $st"
	[ "$(field pids_events_max "$st")" -ge 1 ] 2>/dev/null &&
		ok "pids_events_max=$(field pids_events_max "$st") counted on the slice" ||
		fail "pids_events_max: $st"
	[ -n "$pid" ] && assert_no_leftovers "$pid" "after run"
}

per_backend t_pids --pids-max 16
finish
