#!/bin/bash
# dio-invalidate on a loop ext4 (journal, data=ordered): both engines clean with
# race-window hits (buffered writes / mmap stores over in-flight DIO ranges); planted
# faults are caught and named.
PROG=dio-invalidate
. "$KDRILL_TOP/tests/repro/dio-common.sh"
loopfs_mount -o data=ordered || fail "loop ext4 setup"
o=$KDRILL_TMP/out
for e in libaio io_uring; do
	run_json "$o" --dir "$LOOPFS_DIR" --duration 3 --engine "$e" --range 16M
	check_clean "$o"
	r=$(result "$o")
	for c in dio_writes buffered_writes mmap_stores buffered_reads blocks_verified; do
		[ "$(jq -r ".counters.$c" <<<"$r")" -gt 0 ] || fail "counter $c is 0 ($e)"
	done
done
KDRILL_REPRO_FAULT=aio-eio-write:2 run_json "$o" --dir "$LOOPFS_DIR" --duration 5 --range 16M
check_anomaly "$o" aio-write-eio
# flip-read applies to strictly verifiable reads (no DIO touched the unit): a torn block
KDRILL_REPRO_FAULT=flip-read:3 run_json "$o" --dir "$LOOPFS_DIR" --duration 8 --range 16M --engine io_uring
check_anomaly "$o" torn-data
echo "pass"
