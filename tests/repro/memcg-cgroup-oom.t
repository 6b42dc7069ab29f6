#!/bin/bash
# memcg-oom-fsync inside a real cgroup v1 memory cgroup made by hand (64M, no cgroup created
# by the program itself):
#  1. the hog grows past the limit -> the process dies by SIGKILL from the memcg OOM killer
#     (exit 137; memory.oom_control oom_kill >= 1); its last progress record is on stdout;
#  2. a second start with the same --instance (in the same memcg, hog stopped at 50% of the
#     room so no OOM) reports the killed generation (prev_killed 1, its counters) and reads
#     back every file generation 1 fsynced (prev_verified_files > 0), then runs with creates
#     and fsyncs under memcg pressure (race-window hits > 0) and exits 0.
set -u
. "$KDRILL_TOP/tests/lib/loopfs.sh"
loopfs_require
command -v jq >/dev/null || { echo "skip: jq not installed"; exit 77; }
MEM=/sys/fs/cgroup/memory
[ -w "$MEM/cgroup.procs" ] || [ -w "$MEM/tasks" ] ||
	{ echo "skip: no writable cgroup v1 memory hierarchy at $MEM"; exit 77; }
P=$KDRILL_BIN/memcg-oom-fsync
# The ASan build's quarantine (256 MiB by default) keeps freed chunks as anon memory
# charged to the 64 MiB memcg: the verifying restart (hog at 50 %) was then OOM-killed
# by ASan's own footprint in some runs.  A small quarantine keeps use-after-free
# detection for recent frees and the memory profile close to the release build's.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
[ -x "$P" ] || { echo "FAIL: $P not built"; exit 1; }
CG=$MEM/kdrill-test-$$

cleanup() {
	local p
	if [ -d "$CG" ]; then
		for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ -s "$CG/cgroup.procs" ] || break
			sleep 0.2
		done
		echo 0 >"$CG/memory.force_empty" 2>/dev/null
		rmdir "$CG" 2>/dev/null || { sleep 1; rmdir "$CG"; }
	fi
	loopfs_teardown
}
loopfs_mount -s 1G || exit 1
trap cleanup EXIT
D=$LOOPFS_DIR
fail() { echo "FAIL: $*"; exit 1; }
res() { grep '"record":"result"' "$1" | tail -n 1; }
last_progress() { grep '"record":"progress"' "$1" | tail -n 1; }

mkdir "$CG" || fail "mkdir $CG"
echo 64M >"$CG/memory.limit_in_bytes" || fail "cannot set memory.limit_in_bytes"
echo 0 >"$CG/memory.swappiness" 2>/dev/null

# 1. killed by the memcg OOM killer
(
	echo $BASHPID >"$CG/cgroup.procs" || exit 99
	exec timeout -s KILL 60 "$P" --dir "$D" --duration 40 --instance oomt --threads 4 --json
) >"$KDRILL_TMP/1.out" 2>"$KDRILL_TMP/1.err"
rc=$?
cat "$KDRILL_TMP/1.err"
cat "$CG/memory.oom_control"
echo "failcnt $(cat "$CG/memory.failcnt")"
last_progress "$KDRILL_TMP/1.out"
[ $rc = 137 ] || fail "first start: exit $rc, expected 137 (SIGKILL by the memcg OOM killer)"
grep -q '"record":"result"' "$KDRILL_TMP/1.out" && fail "a killed run printed a result record?"
kills=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.oom_control")
[ "${kills:-0}" -ge 1 ] || fail "memory.oom_control shows no oom_kill"
[ "$(cat "$CG/memory.failcnt")" -gt 0 ] || fail "memory.failcnt is 0"
grep -q 'limit 64 MiB' "$KDRILL_TMP/1.err" || fail "the 64 MiB memcg limit was not detected"
lp=$(last_progress "$KDRILL_TMP/1.out")
[ -n "$lp" ] || fail "no progress record before the kill"
[ "$(jq -r .counters.memcg_limit <<<"$lp")" = $((64 << 20)) ] || fail "memcg_limit counter wrong"
[ "$(jq -r .counters.fsyncs <<<"$lp")" -gt 0 ] || fail "no fsyncs before the kill"

# 2. restart, same instance
(
	echo $BASHPID >"$CG/cgroup.procs" || exit 99
	exec timeout -s KILL 60 "$P" --dir "$D" --duration 3 --instance oomt --threads 2 \
		--hog-limit-pct 50 --json
) >"$KDRILL_TMP/2.out" 2>"$KDRILL_TMP/2.err"
rc=$?
cat "$KDRILL_TMP/2.err"
r=$(res "$KDRILL_TMP/2.out")
echo "$r"
[ $rc = 0 ] || fail "second start: exit $rc, expected 0"
c() { jq -r ".counters.$1" <<<"$r"; }
[ "$(c generation)" = 2 ] || fail "generation $(c generation), expected 2"
[ "$(c prev_generation)" = 1 ] || fail "prev_generation $(c prev_generation), expected 1"
[ "$(c prev_killed)" = 1 ] || fail "the killed generation is not reported as killed"
[ "$(c prev_creates)" -gt 0 ] || fail "prev_creates not carried over"
[ "$(c prev_verified_files)" -gt 0 ] || fail "no fsynced file of generation 1 verified"
[ "$(c memcg_oom_kills_at_start)" -ge 1 ] || fail "memcg oom_kill count not reported"
[ "$(jq -r '.anomalies | length' <<<"$r")" = 0 ] || fail "anomalies: $(jq -c .anomalies <<<"$r")"
[ "$(jq -r .race_window_hits <<<"$r")" -gt 0 ] || fail "no create/fsync under memcg pressure"
grep -q 'previous generation 1 .* was killed' "$KDRILL_TMP/2.err" || fail "no 'was killed' line"
echo "ok: OOM-killed (oom_kill $kills), restart verified $(c prev_verified_files) fsynced files" \
	"($(c prev_verified_blocks) blocks), $(jq -r .race_window_hits <<<"$r") ops under pressure"

# 3. --hog-procs: hog children fill the memcg at full speed and are OOM-killed and replaced
#    while the process itself (its own hog stopped at 20 % of the room) lives on.  The
#    release build when there is one (the program as shipped).  timeout stays outside the
#    memcg: inside, at oom_score_adj 0, it would be the one candidate when no child is.
P3=$P
[ -x "${KDRILL_RELBIN:-}/memcg-oom-fsync" ] && P3=$KDRILL_RELBIN/memcg-oom-fsync
k0=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.oom_control")
# shellcheck disable=SC2016
timeout -s KILL 60 bash -c 'echo $$ >"$1/cgroup.procs" || exit 99; shift; exec "$@"' _ "$CG" \
	"$P3" --dir "$D" --duration 10 --instance procs --threads 2 --hog-procs 2 \
	--hog-limit-pct 20 --hog anon --json >"$KDRILL_TMP/3.out" 2>"$KDRILL_TMP/3.err"
rc=$?
cat "$KDRILL_TMP/3.err"
r=$(res "$KDRILL_TMP/3.out")
k1=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.oom_control")
echo "$r" | jq -c '.counters | {hog_proc_starts, hog_proc_kills, creates, fsyncs}'
# The children volunteer (oom_score_adj 1000).  With shmem hogs (the default memfd) that is
# not enough: a killed child is skipped once its exit_mmap() set MMF_OOM_SKIP, but its shmem
# is freed only at its last fput(), from task work at the end of do_exit(); with every child
# in that gap the process was the only candidate (killed in 1 run of 25 under load, once
# before its first progress record).  The program then takes oom_score_adj -1000, which
# needs CAP_SYS_RESOURCE (not in every container).  Anonymous hogs are freed inside
# exit_mmap() before MMF_OOM_SKIP is set: no gap, so the process must live, caps or not.
[ $rc = 0 ] || fail "--hog-procs: exit $rc, expected 0 (the children are the OOM victims)"
[ "$((k1 - k0))" -ge "$(c hog_proc_kills)" ] ||
	fail "--hog-procs: memory.oom_control counts $((k1 - k0)) kills, the program $(c hog_proc_kills)"
[ "$(c hog_proc_kills)" -ge 1 ] || fail "--hog-procs: no hog child OOM-killed in 10 s"
[ "$(c hog_proc_starts)" -gt "$(c hog_proc_kills)" ] || fail "--hog-procs: killed children not replaced"
[ "$(jq -r '.anomalies | length' <<<"$r")" = 0 ] || fail "anomalies: $(jq -c .anomalies <<<"$r")"
[ -z "$(ls "$D"/memcg-oom-fsync.iprocs/hogproc* 2>/dev/null)" ] ||
	fail "hog children's files left behind"
pgrep -f "instance procs" >/dev/null && fail "a hog child outlived the run"
echo "ok: --hog-procs: $(c hog_proc_kills) hog children OOM-killed in 10 s ($((k1 - k0)) in memory.oom_control)"

# 4. --ballast: the process first fills the memcg to 50 % of its limit with shmem nobody
#    maps: charged to the memcg (usage) but in no RSS, so the OOM killer's badness never
#    counts it against its holder.  No hog growth past 10 % of the room: no OOM here.
#    The ballast is what the memcg lacks of 50 %.  What the earlier runs left charged
#    here (page cache and slab of their files: 1-20 MiB, more under load) is reclaimed
#    where it can be (no task is in the memcg now), and the check counts the rest, the
#    usage the program printed at its start.
sync
echo 0 >"$CG/memory.force_empty" 2>/dev/null
(
	echo $BASHPID >"$CG/cgroup.procs" || exit 99
	exec timeout -s KILL 60 "$P" --dir "$D" --duration 4 --instance ballast --threads 2 \
		--hog-limit-pct 10 --ballast 50 --json
) >"$KDRILL_TMP/4.out" 2>"$KDRILL_TMP/4.err" &
bp=$!
# the first progress record comes after setup (the ballast is filled in setup): bounded
for _ in $(seq 100); do
	grep -q '"record":"progress"' "$KDRILL_TMP/4.out" 2>/dev/null && break
	sleep 0.1
done
pid=$(pgrep -f -- '--instance ballast' | head -n 1)
[ -n "$pid" ] || fail "--ballast: the process is gone before its first progress record"
rss_shmem=$(awk '$1 == "RssShmem:" { print $2 * 1024 }' "/proc/$pid/status")
usage=$(cat "$CG/memory.usage_in_bytes")
wait $bp
rc=$?
cat "$KDRILL_TMP/4.err"
r=$(res "$KDRILL_TMP/4.out")
echo "$r" | jq -c '.counters | {ballast_bytes, creates, fsyncs}'
[ $rc = 0 ] || fail "--ballast: exit $rc, expected 0"
b=$(c ballast_bytes)
u0=$(sed -n 's/.*limit 64 MiB (usage \([0-9]*\) MiB).*/\1/p' "$KDRILL_TMP/4.err" | head -n 1)
[ -n "$u0" ] || fail "--ballast: no 'limit 64 MiB (usage N MiB)' line"
[ "$u0" -le 24 ] || fail "--ballast: $u0 MiB charged at the start: no room left for a ballast to check"
# the fill starts after the setup (its directories, the ASan build's own growth): up to
# 2.5 MiB more charged by then under load
[ "$b" -ge $(((28 - u0) << 20)) ] && [ "$b" -le $(((33 - u0) << 20)) ] ||
	fail "--ballast 50: $b bytes of ballast, expected $((28 - u0))..$((33 - u0)) MiB (50 % of 64 MiB less the $u0 MiB used at the start)"
[ "$usage" -ge "$b" ] || fail "--ballast: memcg usage $usage < ballast $b: not charged"
[ "$rss_shmem" -lt $((b / 2)) ] || fail "--ballast: RssShmem $rss_shmem of $b ballast bytes: the ballast is in the holder's RSS"
echo "ok: --ballast: $((b >> 20)) MiB ballast charged (memcg usage $((usage >> 20)) MiB), holder's RssShmem $((rss_shmem >> 20)) MiB"
