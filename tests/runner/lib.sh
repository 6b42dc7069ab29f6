# shellcheck shell=bash
# tests/runner/lib.sh — helpers for the `kdrill run` tests (sourced, not a test itself).
# (The area is tests/runner/ because tests/run is the test driver script.)
#   run_require [PROG...]  skip (77) unless root + loop devices + mkfs.ext4 + jq + PROGs
#   KD                     the kdrill under test ($KDRILL_BIN/kdrill)
#   SCRATCH, OUT           per-test scratch dir (loop images, mounts) and results root
#   kd_run ARGS...         kdrill run --host --scratch $SCRATCH --out $OUT --quiet ARGS...
#                          (sets RC, and RUN_DIR to the run's result directory)
#   vj EXPR                jq -r EXPR on $RUN_DIR/verdict.json
#   check_no_leftovers PID no mounts/loop devices under $SCRATCH, no cgroups of kdrill PID
#   fail MSG               print and exit 1
set -u
KD=${KDRILL_BIN:?}/kdrill
SCRATCH=$KDRILL_TMP/scratch
OUT=$KDRILL_TMP/results
mkdir -p "$SCRATCH" "$OUT"

fail() { echo "FAIL: $*"; exit 1; }

run_require() {
	[ "$(id -u)" = 0 ] || { echo "skip: needs root (loop devices, mounts, cgroups)"; exit 77; }
	[ -e /dev/loop-control ] || { echo "skip: no /dev/loop-control"; exit 77; }
	local t
	for t in mkfs.ext4 mount jq "$@"; do
		command -v "$t" >/dev/null 2>&1 || { echo "skip: $t not installed"; exit 77; }
	done
	[ -x "$KD" ] || { echo "skip: $KD not built"; exit 77; }
}

# Run directories end in a random suffix: two runs in the same second do not sort in
# run order, so the run's directory is the one that was not there before it.
run_dirs() { ls -d "$OUT"/2*/ 2>/dev/null | sort; }
new_run_dir() { # new_run_dir "$(run_dirs)" -> RUN_DIR
	RUN_DIR=$(comm -13 <(printf '%s\n' "$1") <(run_dirs) | tail -n 1)
	RUN_DIR=${RUN_DIR%/}
}

kd_run() {
	local before
	before=$(run_dirs)
	"$KD" run --host --scratch "$SCRATCH" --out "$OUT" --quiet "$@"
	RC=$?
	new_run_dir "$before"
}

vj() { jq -r "$1" "$RUN_DIR/verdict.json"; }

check_no_leftovers() {
	local pid=$1 real
	real=$(realpath "$SCRATCH")
	if grep -q " $real/" /proc/self/mountinfo; then
		grep " $real/" /proc/self/mountinfo
		fail "mounts left under $SCRATCH"
	fi
	if grep -qs "$real/" /sys/block/loop*/loop/backing_file; then
		grep -s "$real/" /sys/block/loop*/loop/backing_file
		fail "loop devices left with images under $SCRATCH"
	fi
	if [ -n "$(find /sys/fs/cgroup -maxdepth 4 -name "kdrill-$pid-*" 2>/dev/null | head -n 1)" ]; then
		find /sys/fs/cgroup -maxdepth 4 -name "kdrill-$pid-*"
		fail "cgroups of kdrill pid $pid left"
	fi
	[ -z "$(ls -A "$SCRATCH")" ] || { ls -la "$SCRATCH"; fail "files left in $SCRATCH"; }
}

# After a run whose workers the host kernel kept in D state past kdrill's teardown
# budget, their cgroups cannot be removed yet.  kdrill's answer is to reap them on a
# later start once the kernel lets the processes go: wait (up to 90 s) for that with
# `kdrill cgroup reap`, then demand nothing is left, as for a normal run.
check_no_leftovers_after_stuck() {
	local pid=$1 i
	for i in $(seq 90); do
		[ -z "$(find /sys/fs/cgroup -maxdepth 4 -name "kdrill-$pid-*" 2>/dev/null | head -n 1)" ] && break
		"$KD" cgroup reap >/dev/null 2>&1
		sleep 1
	done
	check_no_leftovers "$pid"
}
