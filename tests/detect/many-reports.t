#!/bin/bash
# 100,000 distinct reports (WARNINGs in 100,000 different functions) plus a
# duplicate of each of the first 1,000 and 5,000 distinct hung tasks: every
# signature comes out once with the right count, the hung tasks all reach
# the summary bookkeeping (capped at 4096), and dedup/task bookkeeping is
# linear: the run is bounded at 60 s of CPU time (ulimit -t: independent of
# the machine's load).  The former quadratic lookups took 40 s + 68 s of CPU in
# a release build (warnings, hung tasks), more under ASan; linear: ~10 s ASan.
# Throughput figures: tests/detect/scan-many.bench.
set -u
bin=${KDRILL_BIN:?}/kdrill
tmp=${KDRILL_TMP:?}
command -v jq >/dev/null || { echo "jq not installed"; exit 77; }
gen() { # $1 = count, $2 = first index; function names from letters (digits would normalise away)
	awk -v n="$1" -v o="$2" 'function nm(i,  s) { s = ""; do { s = sprintf("%c", 97 + i % 26) s; i = int(i / 26) } while (i > 0); return "fn_" s }
	BEGIN { for (i = o; i < o + n; i++) { f = nm(i)
		print "[  100.000000] ------------[ cut here ]------------"
		print "[  100.000001] WARNING: CPU: 0 PID: 1 at drivers/x.c:12 " f "+0x12/0x40"
		print "[  100.000002] Call Trace:"
		print "[  100.000003]  <TASK>"
		print "[  100.000004]  " f "+0x12/0x40"
		print "[  100.000005]  caller_x+0x1/0x2"
		print "[  100.000006]  </TASK>"
		print "[  100.000007] ---[ end trace 0000000000000000 ]---" } }'
}
gen 100000 0 >"$tmp/log"
gen 1000 0 >>"$tmp/log"
awk 'BEGIN { for (i = 0; i < 5000; i++) {
	print "[  200.000000] INFO: task worker" i ":" 1000 + i " blocked for more than 120 seconds."
	print "[  200.000001] task:worker" i " state:D stack:0 pid:" 1000 + i " ppid:2 flags:0x00004000"
	print "[  200.000002] Call Trace:"
	print "[  200.000003]  <TASK>"
	print "[  200.000004]  schedule+0x12/0x40"
	print "[  200.000005]  wait_for_thing+0x12/0x40"
	print "[  200.000006]  </TASK>" } }' >>"$tmp/log"
(ulimit -t 60 && exec "$bin" scan --json "$tmp/log") >"$tmp/out"
rc=$?
[ "$rc" = 152 ] || [ "$rc" = 137 ] && { echo "FAIL: 105,000 reports not scanned within 60 s of CPU (quadratic bookkeeping?)"; exit 1; }
[ "$rc" = 1 ] || { echo "FAIL: exit $rc, want 1"; exit 1; }
got=$(jq -r 'select(.class == "warning") | .count' "$tmp/out" | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
[ "$got" = "1:99000 2:1000 " ] || { echo "FAIL: warning counts: $got"; exit 1; }
n=$(jq -r 'select(.class == "warning") | .title' "$tmp/out" | sort -u | wc -l)
[ "$n" = 100000 ] || { echo "FAIL: $n distinct warning titles, want 100000"; exit 1; }
jq -e -s '[.[] | select(.class == "hang")] | length == 1 and .[0].count == 5000 and .[0].title == "INFO: task hung in wait_for_thing"' "$tmp/out" >/dev/null ||
	{ echo "FAIL: hung tasks"; jq -c 'select(.class == "hang") | [.title, .count]' "$tmp/out"; exit 1; }
jq -e -s '[.[] | select(.class == "summary")] | length == 1 and .[0].count == 4096' "$tmp/out" >/dev/null ||
	{ echo "FAIL: summary"; jq -c 'select(.class == "summary") | [.title, .count]' "$tmp/out"; exit 1; }
echo ok
