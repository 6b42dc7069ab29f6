#!/bin/bash
# `kdrill scan --follow` on a pipe: a report whose end is only implied by
# silence (old kernels: no </TASK>) must come out after ~1 s of quiet
# (kd_detector_flush), a report that ends with </TASK> right away, and the exit
# status must say a failure-class report was seen.
set -u
bin=${KDRILL_BIN:?}/kdrill
tmp=${KDRILL_TMP:?}
fifo=$tmp/console
mkfifo "$fifo"
"$bin" scan --follow --json <"$fifo" >"$tmp/out" 2>"$tmp/err" &
scan=$!
exec 3>"$fifo"
trap 'exec 3>&-; kill $scan 2>/dev/null' EXIT
cat >&3 <<'L'
[ 8520.104213] INFO: task jbd2/md127-8:587 blocked for more than 120 seconds.
[ 8520.104263] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
[ 8520.104301] jbd2/md127-8    D ffff9f53ff35bc98     0   587      2 0x00000000
[ 8520.104305] Call Trace:
[ 8520.104316]  [<ffffffffb139eb09>] schedule+0x29/0x70
[ 8520.104342]  [<ffffffffc01fe8b0>] jbd2_journal_commit_transaction+0x250/0x19a0 [jbd2]
[ 8520.104388]  [<ffffffffc0205c5e>] kjournald2+0xce/0x260 [jbd2]
[ 8520.104408]  [<ffffffffb0cc6bd1>] kthread+0xd1/0xe0
L
for _ in $(seq 1 40); do grep -q jbd2_journal_commit_transaction "$tmp/out" && break; sleep 0.1; done
got=$(jq -r .title "$tmp/out" | head -1)
[ "$got" = "INFO: task hung in jbd2_journal_commit_transaction" ] || { echo "no report after silence: '$got'"; cat "$tmp/err"; exit 1; }
echo "old-format hung task flushed after silence"
cat >&3 <<'L'
[   21.678779] INFO: task fsyncer:233 blocked for more than 5 seconds.
[   21.679586] task:fsyncer         state:D stack:0     pid:233   ppid:203    flags:0x00004002
[   21.680299] Call Trace:
[   21.680300]  <TASK>
[   21.680971]  schedule+0x5a/0xd0
[   21.681050]  jbd2_log_wait_commit+0xd3/0x140
[   21.681203]  ext4_sync_file+0x160/0x370
[   21.681275]  __x64_sys_fsync+0x37/0x60
[   21.681276]  </TASK>
L
for _ in $(seq 1 8); do grep -q jbd2_log_wait_commit "$tmp/out" && break; sleep 0.1; done
grep -q '"title":"INFO: task hung in jbd2_log_wait_commit"' "$tmp/out" || { echo "report ending in </TASK> not emitted within 0.8 s"; exit 1; }
echo "</TASK>-terminated report emitted at once"
exec 3>&-
wait $scan
rc=$?
trap - EXIT
[ "$rc" = 1 ] || { echo "exit status $rc, want 1"; exit 1; }
# the summary (2 blocked tasks) comes out at the end of the stream
jq -r .class "$tmp/out" | grep -qx summary || { echo "no summary"; cat "$tmp/out"; exit 1; }
echo ok
