#!/bin/bash
# `kdrill scan --follow FILE` behaves like `tail -F`:
#  - the file is truncated and a (shorter) new report written: that report is
#    found (the reader goes back to offset 0 instead of waiting past the old size);
#  - the file is renamed away (rotation), a last report appended to the old
#    file, and a new file created under the name: both reports are found.
# Each step waits for its report with a bound (10 s), no fixed sleeps.
set -u
bin=${KDRILL_BIN:?}/kdrill
tmp=${KDRILL_TMP:?}
command -v jq >/dev/null || { echo "jq not installed"; exit 77; }
f=$tmp/console.log
warn() { # $1 = function; a complete report ending in ---[ end trace
	cat <<L
[   10.000000] ------------[ cut here ]------------
[   10.000001] WARNING: CPU: 0 PID: 1 at drivers/x.c:12 $1+0x12/0x40
[   10.000002] Call Trace:
[   10.000003]  <TASK>
[   10.000004]  $1+0x12/0x40
[   10.000005]  caller_x+0x1/0x2
[   10.000006]  </TASK>
[   10.000007] ---[ end trace 0000000000000000 ]---
L
}
wait_title() { # $1 = title
	for _ in $(seq 1 100); do
		jq -r .title "$tmp/out" 2>/dev/null | grep -qxF "$1" && return 0
		sleep 0.1
	done
	echo "FAIL: '$1' not reported within 10 s; got:"; jq -r .title "$tmp/out"; exit 1
}
{ seq 1 200 | sed 's/^/[    1.000000] boot line /'; warn before_truncate; } >"$f"
"$bin" scan --follow --json "$f" >"$tmp/out" 2>"$tmp/err" &
scan=$!
trap 'kill $scan 2>/dev/null' EXIT
wait_title "WARNING in before_truncate"
echo "first report seen"

: >"$f"
warn after_truncate >>"$f"
wait_title "WARNING in after_truncate"
echo "report after truncation seen"

mv "$f" "$f.1"
warn appended_to_old >>"$f.1"
warn in_new_file >"$f.tmp"
mv "$f.tmp" "$f"
wait_title "WARNING in in_new_file"
wait_title "WARNING in appended_to_old"
echo "rotation followed (old file drained, new file read)"
warn in_new_file_later >>"$f"
wait_title "WARNING in in_new_file_later"

kill -TERM $scan
wait $scan
rc=$?
trap - EXIT
[ "$rc" = 1 ] || { echo "FAIL: exit $rc, want 1"; cat "$tmp/err"; exit 1; }
n=$(jq -r .title "$tmp/out" | sort -u | wc -l)
[ "$n" = 5 ] || { echo "FAIL: $n distinct titles, want 5"; jq -r .title "$tmp/out"; exit 1; }
echo ok
