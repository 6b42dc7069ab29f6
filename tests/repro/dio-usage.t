#!/bin/bash
# Common interface of the DIO reproducers (repro/lib): bad arguments -> exit 2 naming the
# argument; tmpfs -> exit 3 with a one-line reason (and a JSON result "unsuitable");
# SIGTERM -> result printed with stop_reason "signal" within 2 s, work dir removed;
# --iterations bound; --keep keeps the work dir; --duration bound holds.
PROG=aio-dio-unlink
. "$KDRILL_TOP/tests/repro/dio-common.sh"

expect2() { # prog arg-name args...
	local p=$1 name=$2 err
	shift 2
	err=$("$KDRILL_BIN/$p" "$@" 2>&1 >/dev/null)
	local rc=$?
	[ "$rc" = 2 ] || fail "$p $*: exit $rc, want 2"
	grep -q -- "$name" <<<"$err" || fail "$p $*: message does not name $name: $err"
	echo "  ok: $p $* -> 2: $(head -n 1 <<<"$err")"
}
for p in aio-dio-unlink dio-unwritten dio-invalidate; do
	expect2 $p --threads --dir /tmp --threads 0
	expect2 $p --duration --dir /tmp --duration abc
	expect2 $p --engine --dir /tmp --engine foo
	expect2 $p --size --dir /tmp --size 12Q
	expect2 $p --bogus --dir /tmp --bogus
	expect2 $p --dir --json
	expect2 $p --dir --dir /nonexistent/kdrill
	expect2 $p stray --dir /tmp stray
	err=$(KDRILL_REPRO_FAULT=nonsense "$KDRILL_BIN/$p" --dir /tmp 2>&1)
	[ $? = 2 ] && grep -q KDRILL_REPRO_FAULT <<<"$err" || fail "$p: bad fault spec not rejected: $err"
done
expect2 aio-dio-unlink --mode --dir /tmp --mode sideways
expect2 dio-unwritten --max-io --dir /tmp --max-io 1M
expect2 dio-invalidate --range --dir /tmp --range 1K
"$KDRILL_BIN/dio-unwritten" --help | grep -q -- '--engine E' || fail "--help lacks --engine"

loopfs_tmpfs || fail "tmpfs mount"
for p in aio-dio-unlink dio-unwritten dio-invalidate; do
	out=$("$KDRILL_BIN/$p" --dir "$TMPFS_DIR" --json 2>"$KDRILL_TMP/err")
	rc=$?
	[ "$rc" = 3 ] || fail "$p on tmpfs: exit $rc, want 3"
	[ "$(wc -l <"$KDRILL_TMP/err")" = 1 ] || fail "$p: reason not one line: $(cat "$KDRILL_TMP/err")"
	grep -q 'O_DIRECT' "$KDRILL_TMP/err" || fail "$p: reason lacks O_DIRECT"
	[ "$(jq -r .status <<<"$out")" = unsuitable ] || fail "$p: JSON status: $out"
	echo "  ok: $p on tmpfs -> 3: $(cat "$KDRILL_TMP/err")"
done
[ -z "$(ls -A "$TMPFS_DIR")" ] || fail "files left on tmpfs: $(ls -A "$TMPFS_DIR")"

loopfs_mount || fail "loop ext4 setup"
o=$KDRILL_TMP/out
# SIGTERM: result within 2 s, stop_reason signal, dir cleaned
"$KDRILL_BIN/dio-unwritten" --dir "$LOOPFS_DIR" --json --duration 60 --size 64M >"$o" 2>/dev/null &
pid=$!
sleep 2
t0=$(date +%s.%N)
kill -TERM $pid
wait $pid
rc=$?
took=$(echo "$(date +%s.%N) - $t0" | bc)
echo "  SIGTERM -> exit $rc after ${took}s"
[ "$rc" = 0 ] || fail "exit $rc after SIGTERM"
[ "$(echo "$took < 2.5" | bc)" = 1 ] || fail "took ${took}s to stop after SIGTERM"
[ "$(result "$o" | jq -r .stop_reason)" = signal ] || fail "stop_reason: $(result "$o")"
[ -z "$(ls "$LOOPFS_DIR" | grep -v lost+found)" ] || fail "work dir left after SIGTERM"

# --iterations bound and --keep
run_json "$o" --dir "$LOOPFS_DIR" --iterations 6 --duration 30 --keep --threads 1
r=$(result "$o")
[ "$RC" = 0 ] || fail "iterations run exit $RC"
[ "$(jq -r .stop_reason <<<"$r")" = iterations ] || fail "stop_reason: $r"
[ "$(jq -r .iterations <<<"$r")" = 6 ] || fail "iterations: $r"
wd=$(grep '"record":"start"' "$o" | jq -r .workdir)
[ -d "$wd" ] || fail "--keep: $wd removed"
echo "  ok: --iterations 6 -> $(jq -c '{stop_reason,iterations}' <<<"$r"), --keep kept $wd"

# --duration bound: 2 s run ends within 2 s of the bound
run_json "$o" --dir "$LOOPFS_DIR" --duration 2 --engine io_uring
[ "$(echo "$TOOK < 4" | bc)" = 1 ] || fail "--duration 2 took ${TOOK}s"
[ "$(result "$o" | jq -r .stop_reason)" = duration ] || fail "stop_reason: $(result "$o")"
echo "pass"
