#!/bin/bash
# kdrill run --kernel: a short run of each seed scenario in the guest on the stock Debian
# kernel -> PASS with reproducer counters > 0.  The seed scenarios are the registry's
# (`kdrill list --json`: a seed report and `expect = PASS`), default variants, plus
# nfs-rotate:v42 (first: the newest nfs-rotate run is then the default variant's).
# memcg-oom-jbd2 scaled for a 2-vCPU TCG guest, run until 3 OOM kills and a restart
# (bounded): OOM kills, hog children among the victims, restarts done by systemd (the
# systemd cgroup backend), then again with --cgroup-backend v2 (kdrill's own supervisor on
# the guest's cgroup v2).
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

out=$KDRILL_TMP/res
check_pass() { # label -> run dir; PASS, mode vm, ops > 0, files
	local v
	v=$(ls -d "$out"/*-"$1"[.-]*/ | tail -1)
	[ -n "$v" ] || fail "$1: no run dir"
	[ "$(json "$v/verdict.json" .verdict)" = PASS ] || fail "$1: verdict $(json "$v/verdict.json" .verdict): $(json "$v/verdict.json" .reason)"
	[ "$(json "$v/verdict.json" .mode)" = vm ] || fail "$1: mode"
	[ "$(json "$v/verdict.json" .vm.guest_verdict)" = PASS ] || fail "$1: guest verdict"
	[ "$(json "$v/verdict.json" .counters.ops)" -gt 0 ] || fail "$1: ops = 0"
	for f in console.log stats.jsonl junit.xml runner.log journal.txt; do
		[ -e "$v/$f" ] || fail "$1: no $f"
	done
	grep -q 'Linux version' "$v/console.log" || fail "$1: console.log is not the serial capture"
	[ "$(json "$v/verdict.json" .vm.guest_files)" = complete ] || fail "$1: guest files not complete"
	grep -Eq '^\[ *[0-9.]+\] start [a-z]+-0: ' "$v/runner.log" || fail "$1: runner.log lacks the guest runner's unit starts"
	grep -q '^\[ *[0-9.]*\] verdict PASS' "$v/runner.log" || fail "$1: runner.log lacks the guest verdict"
	ls "$v"/*.jsonl | grep -qv stats || fail "$1: no reproducer JSON lines"
	echo "$v"
}

mapfile -t seeds < <(kd list --json | jq -r '.[] | select(.seed_report and .expect == "PASS" and .name != "memcg-oom-jbd2") | .name')
[ "${#seeds[@]}" -ge 4 ] || fail "registry: only ${#seeds[@]} seed scenarios (${seeds[*]})"
t0=$(date +%s)
kd run --kernel "$VM_KERNEL" --out "$out" --boot-timeout 180 --duration 10 \
	nfs-rotate:v42 "${seeds[@]}" >"$KDRILL_TMP/seeds.log" 2>&1
rc=$?
grep -v '^  \[vm\]' "$KDRILL_TMP/seeds.log"
[ $rc = 0 ] || fail "seeds: exit $rc"
for s in "${seeds[@]}" nfs-rotate.v42; do
	v=$(check_pass "$s") || { echo "$v"; exit 1; }
	echo "$s: PASS ops $(json "$v/verdict.json" .counters.ops)"
done
v=$(ls -d "$out"/*-aio-dio-unlink.default-*/)
[ "$(json "$v/unlink-0.jsonl" 'select(.record == "result") | .race_window_hits')" -gt 0 ] 2>/dev/null ||
	[ "$(jq -s '[.[] | select(.record == "result") | .race_window_hits] | add' "$v"/unlink-*.jsonl)" -gt 0 ] ||
	fail "aio-dio-unlink: race_window_hits = 0"
v=$(ls -d "$out"/*-nfs-rotate.v42-*/)
grep -q 'vers=4.2\|nfs4' "$v/journal.txt" "$v"/*.jsonl 2>/dev/null || echo "note: v4.2 mount not visible in the logs"
echo "seeds: $(($(date +%s) - t0)) s"

memcg_run() { # BACKEND [RUN-ARGS...]: an OOM-storm run until 3 OOM kills and a worker's
	# restart (the scenario's `until`), bounded by 120 s; PASS; $v = its run dir.  The
	# storm's fuel is the hog children (killed and replaced inside the worker, no restart):
	# an OOM path that regressed to a trickle misses the bound, one that lost the children
	# fails the hog_proc_kills check.
	local b=$1
	shift
	vm_run_expect "$VM_KERNEL" "$out" memcg-oom-jbd2 0 PASS --duration 120 \
		--param until="oom_kills>=3 restarts>=1" --param slices=3 --param workers=4 "$@"
	v=$(check_pass memcg-oom-jbd2) || { echo "$v"; exit 1; }
	[ "$(json "$v/verdict.json" .cgroup_backend)" = "$b" ] || fail "memcg $b: backend $(json "$v/verdict.json" .cgroup_backend)"
	[ "$(json "$v/verdict.json" .counters.oom_kills)" -ge 3 ] || fail "memcg ($b): fewer than 3 OOM kills"
	[ "$(jq -s '[.[] | .counters.hog_proc_kills // 0] | max' "$v"/worker-*.jsonl)" -gt 0 ] ||
		fail "memcg ($b): no hog child was OOM-killed"
	[ "$(json "$v/verdict.json" .counters.restarts)" -gt 0 ] || fail "memcg ($b): no restarts"
	json "$v/verdict.json" .stop_reason | grep -q '^until reached' ||
		fail "memcg ($b): stop reason '$(json "$v/verdict.json" .stop_reason)', expected until reached"
	echo "memcg-oom-jbd2 $b: until reached after $(json "$v/verdict.json" .duration_s) s"
}

t0=$(date +%s)
memcg_run systemd
grep -q 'kdrill-.*-worker-.*Scheduled restart job' "$v/journal.txt" || fail "memcg: restarts were not done by systemd"
echo "memcg-oom-jbd2 systemd: oom_kills $(json "$v/verdict.json" .counters.oom_kills) restarts $(json "$v/verdict.json" .counters.restarts) in $(($(date +%s) - t0)) s"
mv "$v" "$KDRILL_TMP/memcg-systemd"

t0=$(date +%s)
memcg_run v2 --cgroup-backend v2
grep -q 'Scheduled restart job' "$v/journal.txt" && fail "memcg v2: systemd restarted workers"
echo "memcg-oom-jbd2 v2: oom_kills $(json "$v/verdict.json" .counters.oom_kills) restarts $(json "$v/verdict.json" .counters.restarts) in $(($(date +%s) - t0)) s"
echo ok
