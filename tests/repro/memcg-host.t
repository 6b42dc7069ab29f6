#!/bin/bash
# memcg-oom-fsync outside a limited memcg (the host case), on a loop-mounted ext4:
#  - the hog caps itself at --hog-max, the run ends cleanly (exit 0) with work done and every
#    fsynced file read back;
#  - a second start with the same --instance reports the first one (ended cleanly);
#  - a planted flipped byte in a read-back (KDRILL_REPRO_FAULT) -> exit 1 naming
#    fsynced-data-mismatch;
#  - --workload meta: empty files with an xattr each kept open, no data, no hog;
#  - bad arguments -> exit 2 naming the argument.
set -u
. "$KDRILL_TOP/tests/lib/loopfs.sh"
loopfs_require
command -v jq >/dev/null || { echo "skip: jq not installed"; exit 77; }
P=$KDRILL_BIN/memcg-oom-fsync
[ -x "$P" ] || { echo "FAIL: $P not built"; exit 1; }
loopfs_mount -s 1G || exit 1
D=$LOOPFS_DIR
fail() { echo "FAIL: $*"; exit 1; }
res() { grep '"record":"result"' "$1" | tail -n 1; }
cnt() { res "$1" | jq -r ".counters.$2"; }

# (a) capped hog, clean end
"$P" --dir "$D" --duration 3 --threads 2 --hog-max 32M --instance host --json \
	>"$KDRILL_TMP/a.out" 2>"$KDRILL_TMP/a.err"
rc=$?
cat "$KDRILL_TMP/a.err"
res "$KDRILL_TMP/a.out"
[ $rc = 0 ] || fail "exit $rc, expected 0"
[ "$(res "$KDRILL_TMP/a.out" | jq -r .status)" = clean ] || fail "status not clean"
grep -q '"record":"start"' "$KDRILL_TMP/a.out" || fail "no start record"
grep -q '"record":"progress"' "$KDRILL_TMP/a.out" || fail "no progress record"
[ "$(grep '"record":"start"' "$KDRILL_TMP/a.out" | jq -r .params.instance)" = host ] ||
	fail "instance not in the start record"
limit=$(cnt "$KDRILL_TMP/a.out" memcg_limit)
for c in creates writes fsyncs parker_fsyncs allocs hog_peak_bytes verified_files verified_blocks; do
	v=$(cnt "$KDRILL_TMP/a.out" $c)
	[ "$v" -gt 0 ] || fail "counter $c = $v, expected > 0"
done
if [ "$limit" = 0 ]; then
	peak=$(cnt "$KDRILL_TMP/a.out" hog_peak_bytes)
	[ "$peak" -le $((32 << 20)) ] || fail "hog grew to $peak bytes past --hog-max 32M"
	grep -q 'capped by --hog-max' "$KDRILL_TMP/a.err" || fail "no 'capped by --hog-max' note"
else
	echo "note: running inside a limited memcg ($limit bytes): hog cap not asserted"
fi
[ "$(cnt "$KDRILL_TMP/a.out" generation)" = 1 ] || fail "first start is not generation 1"

# second start, same instance: sees generation 1 ended cleanly
"$P" --dir "$D" --duration 1 --threads 1 --hog-max 8M --instance host --json \
	>"$KDRILL_TMP/b.out" 2>"$KDRILL_TMP/b.err"
rc=$?
cat "$KDRILL_TMP/b.err"
[ $rc = 0 ] || fail "second start: exit $rc"
[ "$(cnt "$KDRILL_TMP/b.out" generation)" = 2 ] || fail "second start is not generation 2"
[ "$(cnt "$KDRILL_TMP/b.out" prev_generation)" = 1 ] || fail "prev_generation != 1"
[ "$(cnt "$KDRILL_TMP/b.out" prev_killed)" = 0 ] || fail "clean first run reported as killed"
[ "$(cnt "$KDRILL_TMP/b.out" prev_creates)" = "$(cnt "$KDRILL_TMP/a.out" creates)" ] ||
	fail "prev_creates does not match the first run's creates"
grep -q 'previous generation 1 .* ended cleanly' "$KDRILL_TMP/b.err" || fail "no previous-run line"

# planted anomaly: the first read-back gets a byte flipped
KDRILL_REPRO_FAULT=flip-read:1 "$P" --dir "$D" --duration 2 --threads 2 --hog-max 8M --json \
	>"$KDRILL_TMP/c.out" 2>"$KDRILL_TMP/c.err"
rc=$?
res "$KDRILL_TMP/c.out"
[ $rc = 1 ] || fail "planted flip-read: exit $rc, expected 1"
[ "$(res "$KDRILL_TMP/c.out" | jq -r '.anomalies[0].name')" = fsynced-data-mismatch ] ||
	fail "planted flip-read not named fsynced-data-mismatch"

# --workload meta --hog none: empty files with a user xattr each (on ext4: an xattr block
# each), kept open; at --meta-open the older half is closed and unlinked; no data written,
# no hog; the run ends clean
for g in 1 2; do
	"$P" --dir "$D" --duration 2 --threads 2 --workload meta --meta-open 64 --hog none \
		--parkers 0 --instance meta --json >"$KDRILL_TMP/m.out" 2>"$KDRILL_TMP/m.err"
	rc=$?
	res "$KDRILL_TMP/m.out"
	[ $rc = 0 ] || { cat "$KDRILL_TMP/m.err"; fail "meta start $g: exit $rc"; }
	[ "$(cnt "$KDRILL_TMP/m.out" creates)" -gt 64 ] || fail "meta: creates $(cnt "$KDRILL_TMP/m.out" creates)"
	[ "$(cnt "$KDRILL_TMP/m.out" xattrs)" = "$(cnt "$KDRILL_TMP/m.out" creates)" ] ||
		fail "meta: $(cnt "$KDRILL_TMP/m.out" xattrs) xattrs for $(cnt "$KDRILL_TMP/m.out" creates) creates"
	[ "$(cnt "$KDRILL_TMP/m.out" unlinks)" -gt 0 ] || fail "meta: no unlinks at --meta-open"
	for c in writes fsyncs allocs; do
		[ "$(cnt "$KDRILL_TMP/m.out" $c)" = 0 ] || fail "meta: counter $c = $(cnt "$KDRILL_TMP/m.out" $c), expected 0"
	done
done
left=$(find "$D/memcg-oom-fsync.imeta" -name 'g1-*.m' | wc -l)
[ "$left" = 0 ] || fail "meta: $left files of generation 1 left after generation 2"

# bad arguments (leak checking off: exiting from the option parser leaves its tables behind)
for args in "--hog bogus" "--instance a/b" "--hog-limit-pct 101" "--hog-max 1" "--workload x" "--meta-open 1"; do
	# shellcheck disable=SC2086
	"$P" --dir "$D" $args >/dev/null 2>"$KDRILL_TMP/e.err"
	rc=$?
	opt=${args%% *}
	[ $rc = 2 ] || fail "'$args': exit $rc, expected 2"
	grep -q -- "$opt" "$KDRILL_TMP/e.err" || fail "'$args': message does not name $opt: $(cat "$KDRILL_TMP/e.err")"
done
left=$(find "$D" -mindepth 1 -path "$D/lost+found" -prune -o -print | grep -v 'memcg-oom-fsync.ihost\|memcg-oom-fsync.imeta' | head -n 3)
[ -z "$left" ] || fail "left behind: $left"
echo "ok: host run clean, instance state carried over, planted flip caught, bad args rejected"
