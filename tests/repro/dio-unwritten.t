#!/bin/bash
# dio-unwritten on a loop ext4 with its default (dioread_nolock) options: both engines
# clean with race-window hits, punch/fallocate churn and verified blocks; planted faults
# are caught and named.
PROG=dio-unwritten
. "$KDRILL_TOP/tests/repro/dio-common.sh"
loopfs_mount || fail "loop ext4 setup"
o=$KDRILL_TMP/out
for e in libaio io_uring; do
	run_json "$o" --dir "$LOOPFS_DIR" --duration 3 --engine "$e" --size 128M
	check_clean "$o"
	r=$(result "$o")
	for c in overwrites unwritten_writes punches fallocates blocks_verified verify_reads; do
		[ "$(jq -r ".counters.$c" <<<"$r")" -gt 0 ] || fail "counter $c is 0 ($e)"
	done
done
KDRILL_REPRO_FAULT=aio-flip-read:5 run_json "$o" --dir "$LOOPFS_DIR" --duration 5 --size 128M
check_anomaly "$o" data-mismatch
KDRILL_REPRO_FAULT=aio-eio-write:5 run_json "$o" --dir "$LOOPFS_DIR" --duration 5 --size 128M --engine io_uring
check_anomaly "$o" aio-write-eio
echo "pass"
