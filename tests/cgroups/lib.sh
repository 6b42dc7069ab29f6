# shellcheck shell=bash
# Helpers for tests/cgroups/*.t (sourced).  Each test runs once per backend in
# $KDCG_BACKEND (default "v1 v2 systemd"): a backend that cannot do what the test
# needs is skipped with the probe's reason; the test passes when every backend that
# could run passed, and skips (77) when none could.  The same scripts run inside the
# guest (cgroup v2 + systemd 252) with KDCG_BACKEND=systemd or v2.
set -u
KD=${KDRILL_BIN:?}/kdrill
HOG=${KDRILL_BIN:?}/kdcg-hog
TMP=${KDRILL_TMP:-$(mktemp -d)}
BACKENDS=${KDCG_BACKEND:-v1 v2 systemd}
ran=0 failed=0 skipped=()

[ -x "$KD" ] || { echo "no $KD (make asan)"; exit 1; }
[ -x "$HOG" ] || { echo "no $HOG (make asan builds it via tests/cgroups/module.mk)"; exit 1; }
if [ "$(id -u)" != 0 ]; then
	echo "cgroup tests need root"
	exit 77
fi

fail() { echo "FAIL[$B]: $*"; failed=$((failed + 1)); }
ok() { echo "ok[$B]: $*"; }

# probe [LIMITS...]: can backend $B make a slice with these limits?  Sets $why on failure.
probe() {
	local out
	if out=$("$KD" cgroup probe --backend "$B" "$@" 2>&1); then
		return 0
	fi
	why=$(printf '%s\n' "$out" | tail -n 1)
	return 1
}

# field NAME LINE: value of NAME=... in a "result ..."/"stats ..." line
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# kdrill pid from "slice /kdrill.slice/kdrill-<pid>-..." in a run log
owner_of_log() { sed -n 's/^slice .*kdrill-\([0-9][0-9]*\)[-.].*/\1/p' "$1" | head -n 1; }

# leftovers PID: print every cgroup dir / unit that kdrill PID made and that still exists
leftovers() {
	local pid=$1
	find /sys/fs/cgroup -maxdepth 4 -type d -name "kdrill-$pid[-.]*" 2>/dev/null
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		systemctl list-units --all --plain --no-legend "kdrill-$pid-*" "kdrill-$pid.slice" 2>/dev/null |
			awk '{print "unit " $1}'
	fi
}

assert_no_leftovers() { # PID WHAT
	local l
	l=$(leftovers "$1")
	if [ -n "$l" ]; then
		fail "$2: left behind: $l"
	else
		ok "$2: nothing left behind"
	fi
}

# per_backend FN [PROBE_LIMITS...]: run FN for each backend that can work.
per_backend() {
	local fn=$1
	shift
	for B in $BACKENDS; do
		why=
		if ! probe "$@"; then
			echo "skip[$B]: $why"
			skipped+=("$B: $why")
			continue
		fi
		ran=$((ran + 1))
		echo "== backend $B"
		"$fn"
	done
}

finish() {
	if [ "$failed" -gt 0 ]; then
		echo "$failed check(s) failed"
		exit 1
	fi
	if [ "$ran" -eq 0 ]; then
		echo "no backend could run this test here: ${skipped[*]}"
		exit 77
	fi
	echo "passed on $ran backend(s)${skipped:+; skipped: ${skipped[*]}}"
	exit 0
}
