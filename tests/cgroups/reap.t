#!/bin/bash
# A SIGKILLed kdrill leaves its slice and unit (with a live process) behind; the next
# start reaps them — but never the cgroups of a kdrill that is still alive; a cgroup whose
# owner pid now belongs to a process started after it (pid reuse) is reaped.
. "$(dirname "$0")/lib.sh"

t_reap() {
	local log=$TMP/reap-$B.log live=$TMP/live-$B.log marker=$((RANDOM + 2000)) kd kd2 rc out

	# a live owner that must survive the reap
	"$KD" cgroup run --backend "$B" --no-reap --slice alive -- "$HOG" sleep "$((marker + 1))" >"$live" 2>&1 &
	kd2=$!
	# the victim
	"$KD" cgroup run --backend "$B" --no-reap --slice victim --restart always -- "$HOG" sleep "$marker" >"$log" 2>&1 &
	kd=$!
	for _ in $(seq 50); do grep -q '^unit ' "$log" && grep -q '^unit ' "$live" && break; sleep 0.1; done
	sleep 0.3
	kill -KILL "$kd"
	wait "$kd" 2>/dev/null
	cat "$log"
	[ -n "$(leftovers "$kd")" ] && ok "SIGKILLed kdrill left its slice behind" || fail "nothing was left to reap?"
	pgrep -f "kdcg-hog sleep $marker\$" >/dev/null && ok "its unit's process still runs" || fail "unit process already gone"
	"$KD" cgroup ls --backend "$B" | grep -E "kdrill-($kd|$kd2)[-.]"

	out=$("$KD" cgroup reap --backend "$B" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] && ok "reap exit 0" || fail "reap exit $rc"
	n=$(sed -n 's/^reaped //p' <<<"$out")
	[ -n "$n" ] && [ "$n" -ge 1 ] && ok "reaped $n" || fail "reaped '$n'"
	assert_no_leftovers "$kd" "dead owner's leftovers"
	pgrep -f "kdcg-hog sleep $marker\$" >/dev/null && fail "the dead owner's process survived the reap" ||
		ok "the dead owner's process was killed"
	[ -n "$(leftovers "$kd2")" ] && ok "a live owner's slice was not reaped" || fail "reaped a LIVE owner's slice"
	pgrep -f "kdcg-hog sleep $((marker + 1))\$" >/dev/null && ok "a live owner's process still runs" ||
		fail "killed a live owner's process"

	# a normal start reaps too (kill -9 a second victim, then just run something)
	"$KD" cgroup run --backend "$B" --no-reap --slice victim2 -- "$HOG" sleep "$marker" >"$log" 2>&1 &
	kd=$!
	for _ in $(seq 50); do grep -q '^unit ' "$log" && break; sleep 0.1; done
	kill -KILL "$kd"
	wait "$kd" 2>/dev/null
	out=$("$KD" cgroup run --backend "$B" -- true 2>&1)
	grep -Eq 'reaped [1-9][0-9]* leftover' <<<"$out" && ok "the next 'kdrill cgroup run' reaped it" || fail "run did not reap: $out"
	assert_no_leftovers "$kd" "after the next start"

	kill -TERM "$kd2"
	wait "$kd2"
	assert_no_leftovers "$kd2" "live owner after its own SIGTERM"
}

# pid reuse (cgroupfs backends): a cgroup named after a pid whose current process started
# after the cgroup was made belongs to a dead kdrill and is reaped.  The process gets the
# planned pid through /proc/sys/kernel/ns_last_pid (what CRIU uses; racy with other forks,
# so a few tries).
t_pid_reuse() {
	local mnt dir pid=0 want out
	[ "$B" = systemd ] && { ok "pid reuse: not applicable (fresh guests)"; return; }
	[ -w /proc/sys/kernel/ns_last_pid ] || { ok "pid reuse: no ns_last_pid, not checked"; return; }
	if [ "$B" = v1 ]; then mnt=/sys/fs/cgroup/memory; else mnt=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts); fi
	[ -d "$mnt" ] || { ok "pid reuse: no $B mount"; return; }
	mkdir -p "$mnt/kdrill.slice"
	for _ in 1 2 3 4 5; do
		want=$(($(cat /proc/sys/kernel/ns_last_pid) + 300))
		[ "$want" -lt "$(cat /proc/sys/kernel/pid_max)" ] || want=400
		[ -e "/proc/$want" ] && continue
		dir=$mnt/kdrill.slice/kdrill-$want-reused.slice
		mkdir "$dir" || { fail "mkdir $dir"; return; }
		touch "$dir" # what kdcg does at creation: pins the time in the kernfs node
		sleep 3 # the process must start well after the cgroup (btime has 1 s resolution)
		echo $((want - 1)) >/proc/sys/kernel/ns_last_pid
		sleep 300 &
		pid=$!
		[ "$pid" = "$want" ] && break
		kill "$pid"; wait "$pid" 2>/dev/null
		rmdir "$dir"
		pid=0
	done
	[ "$pid" != 0 ] || { ok "pid reuse: could not get the planned pid in 5 tries, not checked"; return; }
	out=$("$KD" cgroup ls --backend "$B" 2>&1)
	grep "kdrill-$want-reused" <<<"$out"
	grep "kdrill-$want-reused" <<<"$out" | grep -q dead && ok "ls: a reused pid's cgroup shows a dead owner" ||
		fail "ls: owner of kdrill-$want-reused not dead: $out"
	"$KD" cgroup reap --backend "$B"
	[ -d "$dir" ] && fail "the reused pid's cgroup was not reaped" || ok "the reused pid's cgroup was reaped"
	kill -0 "$pid" 2>/dev/null && ok "the unrelated process with that pid was not touched (not in the cgroup)" ||
		fail "the unrelated process $pid died"
	kill "$pid"; wait "$pid" 2>/dev/null
	[ -d "$dir" ] && rmdir "$dir"
	return 0
}

per_backend t_reap
per_backend t_pid_reuse
finish
