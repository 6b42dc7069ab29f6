#!/bin/bash
# aio-dio-unlink on a loop ext4 mounted data=ordered,nodioread_nolock,commit=1 (the only 6.1
# mount that reaches the eviction-time writeback path): both engines clean with race-window
# hits of both kinds (writeback: last references dropped while the kicker commits); planted
# faults are caught and named.
PROG=aio-dio-unlink
. "$KDRILL_TOP/tests/repro/dio-common.sh"
loopfs_mount -o data=ordered,nodioread_nolock,commit=1 || fail "loop ext4 setup"
o=$KDRILL_TMP/out
for e in libaio io_uring; do
	run_json "$o" --dir "$LOOPFS_DIR" --duration 3 --engine "$e" --seed 7
	check_clean "$o"
	r=$(result "$o")
	for c in aio_writes unlinks_inflight wb_rename_over wb_unlink_close wb_lastref_in_commit kicker_commits blocks_verified; do
		[ "$(jq -r ".counters.$c" <<<"$r")" -gt 0 ] || fail "counter $c is 0 ($e)"
	done
	[ "$(jq -r .engine <<<"$r")" = "$e" ] || fail "engine not reported"
done
# work dir removed (no --keep)
[ -z "$(ls "$LOOPFS_DIR" | grep -v lost+found)" ] || fail "files left in $LOOPFS_DIR: $(ls "$LOOPFS_DIR")"

# planted: the 3rd AIO write completion reports -EIO
KDRILL_REPRO_FAULT=aio-eio-write:3 run_json "$o" --dir "$LOOPFS_DIR" --duration 5 --mode aio
check_anomaly "$o" aio-write-eio
# planted: the first verification read of an unlinked file gets a flipped byte
KDRILL_REPRO_FAULT=flip-read:1 run_json "$o" --dir "$LOOPFS_DIR" --duration 5 --mode aio --engine io_uring
check_anomaly "$o" data-mismatch
# planted: a short buffered write in the writeback variant
KDRILL_REPRO_FAULT=short-write:4 run_json "$o" --dir "$LOOPFS_DIR" --duration 5 --mode writeback
check_anomaly "$o" short-write
echo "pass"
