#!/bin/bash
# nfs-rotate on a loop-mounted ext4 with a journal (no NFS on the host; the guest runs it on
# a loopback NFS mount):
#  - a few seconds of appenders + rotator + truncator + the seed's pair: exit 0, every record
#    written is accounted for (verified + lost to a recorded truncation), none lost
#    unexplained, race-window counters > 0, start record says the fs is not NFS;
#  - planted flipped byte in a log read-back (KDRILL_REPRO_FAULT) -> exit 1 naming
#    record-corrupt; in the pair's read-back -> pair-data-mismatch;
#  - bad arguments -> exit 2 naming the argument.
set -u
. "$KDRILL_TOP/tests/lib/loopfs.sh"
loopfs_require
command -v jq >/dev/null || { echo "skip: jq not installed"; exit 77; }
P=$KDRILL_BIN/nfs-rotate
[ -x "$P" ] || { echo "FAIL: $P not built"; exit 1; }
loopfs_mount -s 1G -o data=ordered,commit=1 || exit 1
D=$LOOPFS_DIR
fail() { echo "FAIL: $*"; exit 1; }
res() { grep '"record":"result"' "$1" | tail -n 1; }

"$P" --dir "$D" --duration 4 --threads 4 --json >"$KDRILL_TMP/a.out" 2>"$KDRILL_TMP/a.err"
rc=$?
cat "$KDRILL_TMP/a.err"
r=$(res "$KDRILL_TMP/a.out")
echo "$r"
[ $rc = 0 ] || fail "exit $rc, expected 0"
[ "$(grep '"record":"start"' "$KDRILL_TMP/a.out" | jq -r .fstype)" = ext4 ] || fail "start fstype"
grep -q 'is not on NFS' "$KDRILL_TMP/a.err" || fail "no 'not on NFS' note"
c() { jq -r ".counters.$1" <<<"$r"; }
[ "$(c on_nfs)" = 0 ] || fail "on_nfs on ext4"
for k in records_written records_verified rotations rotations_unflushed truncates \
	truncates_racing_writers files_verified pair_cycles pair_races held_closes; do
	[ "$(c $k)" -gt 0 ] || fail "counter $k = $(c $k), expected > 0"
done
[ "$(c records_lost_unexplained)" = 0 ] || fail "records lost unexplained"
[ "$(c unexplained_bytes)" = 0 ] || fail "unexplained bytes"
sum=$(($(c records_verified) + $(c records_lost_legitimately) + $(c records_unverified)))
[ "$sum" = "$(c records_written)" ] || fail "accounting: $sum accounted of $(c records_written)"
[ "$(jq -r .race_window_hits <<<"$r")" -gt 0 ] || fail "no race-window hits"
[ "$(jq -r '.anomalies | length' <<<"$r")" = 0 ] || fail "anomalies"

# planted: the first read-back of a rotated log gets a byte flipped (no truncations, so
# every byte of the log is a record that must be there)
KDRILL_REPRO_FAULT=flip-read:1 "$P" --dir "$D" --duration 2 --no-pair --trunc-ms 60000 --json \
	>"$KDRILL_TMP/b.out" 2>/dev/null
rc=$?
r=$(res "$KDRILL_TMP/b.out")
echo "$r" | jq -c .anomalies
[ $rc = 1 ] || fail "planted flip (log): exit $rc, expected 1"
jq -e '[.anomalies[].name] | index("record-corrupt") != null' <<<"$r" >/dev/null ||
	fail "planted flip in a log not named record-corrupt"
# planted: the pair's read-back
KDRILL_REPRO_FAULT=flip-read:1 "$P" --dir "$D" --duration 2 --rotate-ms 5000 --json \
	>"$KDRILL_TMP/c.out" 2>/dev/null
rc=$?
r=$(res "$KDRILL_TMP/c.out")
echo "$r" | jq -c .anomalies
[ $rc = 1 ] || fail "planted flip (pair): exit $rc, expected 1"
[ "$(jq -r '.anomalies[0].name' <<<"$r")" = pair-data-mismatch ] ||
	fail "planted flip in the pair file not named pair-data-mismatch"

# bad arguments (leak checking off: exiting from the option parser leaves its tables behind)
for args in "--rotate-ms 0" "--hold-ms x" "--name a/b" "--threads 0" "--flush-max 1"; do
	# shellcheck disable=SC2086
	"$P" --dir "$D" $args >/dev/null 2>"$KDRILL_TMP/e.err"
	rc=$?
	opt=${args%% *}
	[ $rc = 2 ] || fail "'$args': exit $rc, expected 2"
	grep -q -- "$opt" "$KDRILL_TMP/e.err" || fail "'$args': message does not name $opt"
done
left=$(find "$D" -mindepth 1 -path "$D/lost+found" -prune -o -print | head -n 3)
[ -z "$left" ] || fail "left behind: $left"
echo "ok"
