#!/bin/bash
# Bad input gives a clear one-line error, the right exit code, and leaves nothing behind:
# zero/negative/out-of-range limits, unknown controller/attribute, unknown backend, bad
# names, a name collision, a command that does not exist, no permission (nobody), and a
# forced backend that cannot work here.
. "$(dirname "$0")/lib.sh"

# expect WANT_RC REGEX ARGS...: run kdrill cgroup ARGS via exec in a subshell so the
# kdrill pid is known ($BASHPID), then check rc, message and leftovers.
expect() {
	local want=$1 re=$2 out rc pid
	shift 2
	out=$(bash -c 'echo $$ >"$0.pid"; exec "$@"' "$TMP/x" "$KD" cgroup "$@" 2>&1)
	rc=$?
	pid=$(cat "$TMP/x.pid")
	if [ "$rc" = "$want" ] && grep -Eq -- "$re" <<<"$out"; then
		ok "$* -> exit $rc: $(grep -E -- "$re" <<<"$out" | head -n 1)"
	else
		fail "$*: exit $rc (want $want), output: $out"
	fi
	[ -z "$(leftovers "$pid")" ] || fail "$*: left behind: $(leftovers "$pid")"
}

t_bad() {
	expect 2 'zero limit is not allowed' run --backend "$B" --pids-max 0 -- true
	expect 2 'zero limit is not allowed' run --backend "$B" --memory-max 0 -- true
	expect 2 'must not be negative' run --backend "$B" --memory-max -64M -- true
	expect 2 'must not be negative' run --backend "$B" --cpu-weight -1 -- true
	expect 2 'not a size' run --backend "$B" --memory-max lots -- true
	expect 2 'cpu weight 20000 not in 1..10000' run --backend "$B" --cpu-weight 20000 -- true
	expect 2 'io weight 10001 not in 1..10000' run --backend "$B" --io-weight 10001 -- true
	expect 2 'memory max 100 is below one page' run --backend "$B" --memory-max 100 -- true
	expect 2 "unknown controller 'nosuch'" run --backend "$B" --set nosuch.knob=1 -- true
	expect 2 'unknown backend' run --backend v3 -- true
	expect 2 "only \[A-Za-z0-9_-\] allowed" run --backend "$B" --slice 'a.b' -- true
	expect 2 "only \[A-Za-z0-9_-\] allowed" run --backend "$B" --unit '../x' -- true
	expect 2 'no command' run --backend "$B"
	expect 2 'No such file or directory|command not found' run --backend "$B" -- /nonexistent/kdcg-prog
	if [ "$B" = v1 ]; then
		expect 2 'no attribute memory.nosuch' run --backend "$B" --set memory.nosuch=1 -- true
		expect 2 'v1: swap max needs memory max' run --backend "$B" --swap-max 0 -- true
	fi
	# name collision: a cgroup with the very name kdrill will use already exists
	if [ "$B" != systemd ]; then
		local mnt
		mnt=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ {print $2; exit}' /proc/mounts)
		[ "$B" = v2 ] && mnt=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
		local out rc pid
		out=$(bash -c 'mkdir -p "$1/kdrill.slice/kdrill-$$-clash.slice" && exec "$2" cgroup run --backend "$3" --no-reap --slice clash -- true' \
			x "$mnt" "$KD" "$B" 2>&1)
		rc=$?
		pid=$(sed -n 's/.*kdrill-\([0-9]*\)-clash.*/\1/p' <<<"$out" | head -n 1)
		if [ "$rc" = 2 ] && grep -q 'already exists' <<<"$out"; then
			ok "name collision -> exit 2: $out"
		else
			fail "name collision: exit $rc: $out"
		fi
		# the pre-existing cgroup is not ours to delete: it must still be there
		[ -n "$pid" ] && [ -d "$mnt/kdrill.slice/kdrill-$pid-clash.slice" ] && ok "foreign cgroup untouched" ||
			fail "foreign cgroup was removed"
		[ -n "$pid" ] && rmdir "$mnt/kdrill.slice/kdrill-$pid-clash.slice"
		[ -n "$pid" ] && [ -z "$(leftovers "$pid")" ] || fail "collision left: $(leftovers "$pid")"
	fi
	# missing permissions: run as nobody
	if command -v setpriv >/dev/null; then
		local out rc
		out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$KD" cgroup run --backend "$B" --slice nobody -- true 2>&1)
		rc=$?
		if [ "$rc" != 0 ] && grep -Eqi 'permission denied|access denied|not allowed|authentication' <<<"$out"; then
			ok "as nobody -> exit $rc: $(tail -n 1 <<<"$out")"
		else
			fail "as nobody: exit $rc: $out"
		fi
		[ -z "$(find /sys/fs/cgroup -maxdepth 4 -type d -name 'kdrill-*-nobody.slice' 2>/dev/null)" ] ||
			fail "nobody left a slice"
	fi
}

per_backend t_bad

# a forced backend that cannot work here: a clear error, exit 125
B=forced
for b in systemd v2 v1; do
	if ! out=$("$KD" cgroup probe --backend "$b" 2>&1); then
		grep -Eq 'not PID 1|no cgroup|not available|lacks|cannot' <<<"$out" &&
			ok "--backend $b unavailable here -> $(tail -n 1 <<<"$out")" || fail "--backend $b: unclear error: $out"
		break
	fi
done
finish
