#!/bin/bash
# A slice with memory max 64 MiB (no swap) and a child that allocates 256 MiB: the
# kernel OOM-kills it, the supervisor restarts it exactly --restart-max times, every
# exit is reported as oom-kill, and the slice's (hierarchical) stats count the kills —
# also after the unit's cgroup is gone (nested slice: outer slice sees the inner kills).
. "$(dirname "$0")/lib.sh"

t_oom() {
	local log=$TMP/oom-$B.log js=$TMP/oom-$B.json rc res st leaf pid
	"$KD" cgroup run --backend "$B" --slice outer/hog --memory-max 64M --swap-max 0 \
		--restart always --restart-max 3 --restart-sec 0.1 --timeout 60 \
		--stats-json "$js" -- "$HOG" mem 256 >"$log" 2>&1
	rc=$?
	cat "$log"
	pid=$(owner_of_log "$log")
	res=$(grep '^result ' "$log")
	st=$(grep '^stats ' "$log")
	leaf=$(grep '^stats-leaf ' "$log")
	[ "$rc" = 1 ] && ok "exit 1 (last result not success)" || fail "exit $rc, want 1"
	[ "$(field restarts "$res")" = 3 ] && ok "restarts=3" || fail "restarts: $res"
	[ "$(field result "$res")" = oom-kill ] && ok "result=oom-kill" || fail "result: $res"
	[ "$(field exit "$res")" = 137 ] && ok "exit=137 (SIGKILL)" || fail "exit: $res"
	[ "$(grep -c '^event exited .*result=oom-kill' "$log")" = 4 ] && ok "4 incarnations, all oom-kill" ||
		fail "want 4 oom-kill exits"
	[ "$(grep -c '^event restarted' "$log")" = 3 ] && ok "3 restart events" || fail "want 3 restart events"
	[ "$(field oom_kill "$st")" -ge 4 ] 2>/dev/null && ok "outer slice oom_kill=$(field oom_kill "$st") (hierarchical)" ||
		fail "outer slice oom_kill: $st"
	[ "$(field oom_kill "$leaf")" -ge 4 ] 2>/dev/null && ok "inner slice oom_kill=$(field oom_kill "$leaf")" ||
		fail "inner slice oom_kill: $leaf"
	[ "$(field memory_max "$leaf")" = 67108864 ] && ok "memory_max=64MiB on the inner slice" ||
		fail "memory_max: $leaf"
	[ "$(field memory_peak "$leaf")" -le 67108864 ] 2>/dev/null && ok "memory_peak <= 64MiB" ||
		fail "memory_peak: $leaf"
	grep -q '"result":"oom-kill"' "$js" && grep -q '"restarts":3' "$js" && ok "stats JSON" ||
		fail "stats JSON: $(cat "$js" 2>/dev/null | tr -d '\n ')"
	[ -n "$pid" ] && assert_no_leftovers "$pid" "after run"
}

per_backend t_oom --memory-max 64M --swap-max 0
finish
