#!/bin/bash
# kdrill trace: usage errors exit 2 and change nothing; ext4 events of a loop file system
# reach stdout until SIGTERM (exit 0, the events up to the stop included); the private
# tracefs instance is gone afterwards; a tracefs that cannot be had is 125.
set -u
bin=${KDRILL_BIN:?}/kdrill
fail() { echo "FAIL: $*"; exit 1; }
. "$KDRILL_TOP/tests/lib/loopfs.sh"
loopfs_require
tfs=/sys/kernel/tracing
[ -d $tfs/events ] || mount -t tracefs tracefs $tfs 2>/dev/null
[ -d $tfs/events/ext4 ] || { echo "skip: no ext4 events in $tfs"; exit 77; }
inst() { ls $tfs/instances 2>/dev/null | grep '^kdrill-trace\.' ; }
before=$(inst)

"$bin" trace >/dev/null 2>&1; [ $? = 2 ] || fail "no event: not 2"
"$bin" trace ext4:no_such_event 2>"$KDRILL_TMP/e"; [ $? = 2 ] || fail "unknown event: not 2"
grep -q 'ext4:no_such_event: no such event' "$KDRILL_TMP/e" || fail "unknown event: message: $(cat "$KDRILL_TMP/e")"
"$bin" trace ext4:a:b 2>/dev/null; [ $? = 2 ] || fail "malformed event: not 2"
"$bin" trace ../ext4 2>/dev/null; [ $? = 2 ] || fail "'..' in an event: not 2"
"$bin" trace --buffer-kb 0 ext4 2>/dev/null; [ $? = 2 ] || fail "--buffer-kb 0: not 2"
"$bin" trace --tracefs "$KDRILL_TMP/none" ext4 2>/dev/null; [ $? = 125 ] || fail "no tracefs: not 125"
[ "$(inst)" = "$before" ] || fail "a usage error left an instance"

loopfs_mount -s 64M || fail "loop ext4"
"$bin" trace --buffer-kb 256 ext4:ext4_evict_inode jbd2 >"$KDRILL_TMP/out" 2>"$KDRILL_TMP/err" &
pid=$!
# the instance is set up (bounded wait on its stderr line)
for _ in $(seq 100); do grep -q 'event group(s) on' "$KDRILL_TMP/err" && break; sleep 0.1; done
grep -q '2 event group(s) on' "$KDRILL_TMP/err" || fail "not started: $(cat "$KDRILL_TMP/err")"
[ -n "$(inst)" ] || fail "no instance while tracing"
for i in $(seq 10); do echo x >"$LOOPFS_DIR/f$i"; done
sync
rm -f "$LOOPFS_DIR"/f*
sync
kill -TERM $pid
wait $pid
rc=$?
[ $rc = 0 ] || fail "SIGTERM: exit $rc ($(cat "$KDRILL_TMP/err"))"
ino=$(grep -c 'ext4_evict_inode: dev .* nlink 0' "$KDRILL_TMP/out")
[ "$ino" -ge 10 ] || fail "$ino evictions traced, expected >= 10"
grep -q 'jbd2_' "$KDRILL_TMP/out" || fail "no jbd2 event traced"
grep -q 'ext4_writepages\|ext4_da_write' "$KDRILL_TMP/out" && fail "an event that was not asked for"
[ "$(inst)" = "$before" ] || fail "instance left: $(inst)"
echo "ok: $ino evictions traced, instance removed"
