#!/bin/bash
# A fake kernel report written by a user process into /dev/kmsg must NOT produce a
# BUG verdict: the runner passes kernel-facility records only.  The real kernel
# records of the same run (the loop device + ext4 mount messages) do reach console.log.
. "$KDRILL_TOP/tests/runner/lib.sh"
run_require
cat >"$KDRILL_TMP/kmsg.ini" <<'INI'
[scenario]
name = kmsg-fake
timeout = 4s
stop_on = first
signature_class = any
[fs.data]
type = ext4
size = 64M
[load.idle]
program = sleep
args = ${duration}
INI
"$KD" run --host --scratch "$SCRATCH" --out "$OUT" --quiet "$KDRILL_TMP/kmsg.ini" &
pid=$!
sleep 1.5
tag=kdrill-fake-$$
# "<0>" asks for level 0; the kernel still files it under LOG_USER (facility 1)
printf '<0>BUG: kernel NULL pointer dereference, address: 0000000000000000 %s\n' "$tag" >/dev/kmsg
printf '<2>kernel BUG at fs/ext4/inode.c:1234! %s\n' "$tag" >/dev/kmsg
printf 'INFO: task jbd2/loop0-8:123 blocked for more than 120 seconds. %s\n' "$tag" >/dev/kmsg
wait $pid
rc=$?
RUN_DIR=$(ls -d "$OUT"/2*/ | tail -n 1)
RUN_DIR=${RUN_DIR%/}
jq -c '{verdict, reason, counters}' "$RUN_DIR/verdict.json"
dmesg | grep -q "$tag" || { echo "skip: the fake records did not reach the kernel log (printk_devkmsg?)"; exit 77; }
[ "$rc" = 0 ] || fail "exit $rc: $(vj .reason)"
[ "$(vj .verdict)" = PASS ] || fail "verdict $(vj .verdict): $(vj .reason)"
! grep -q "$tag" "$RUN_DIR/console.log" || fail "user-space records reached console.log"
[ "$(vj .counters.kmsg_dropped_records)" -ge 3 ] || fail "dropped count $(vj .counters.kmsg_dropped_records)"
grep -q 'EXT4-fs (loop[0-9]*): mounted filesystem' "$RUN_DIR/console.log" ||
	fail "the run's own kernel records (ext4 mount) are missing from console.log"
check_no_leftovers $pid
echo "fake reports dropped ($(vj .counters.kmsg_dropped_records) user records), kernel records kept ($(vj .counters.kmsg_kernel_records)), verdict PASS"
