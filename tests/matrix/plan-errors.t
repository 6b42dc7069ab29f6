#!/bin/bash
# Bad matrix plans -> exit 2 and "plan:line: key: why" before anything runs; good plans
# -> the cells and the run order (--dry-run: every cell once before any twice, ranges
# expanded with their zero padding, shards a partition of the cells).
set -u
KD=${KDRILL_BIN:?}/kdrill
[ -x "$KD" ] || { echo "skip: $KD not built"; exit 77; }
d=$KDRILL_TMP/plans
mkdir -p "$d"
fail() { echo "FAIL: $*"; exit 1; }

n=0
expect() { # PLAN-TEXT EXPECTED-MESSAGE (after "file:")
	n=$((n + 1))
	local f=$d/case$n.ini out rc
	printf '%s\n' "$1" >"$f"
	out=$("$KD" matrix --store "$d/store" --dry-run "$f" 2>&1)
	rc=$?
	[ "$rc" = 2 ] || fail "case $n: exit $rc, want 2 ($out)"
	case $out in
	*"$f:$2"*) echo "ok case $n: ${out#kdrill matrix: }" ;;
	*) fail "case $n: got '$out', want '$f:$2'" ;;
	esac
}

head='[matrix]
runs = 2
duration = 10
[kernels]'

expect "$head
kernel = debian:6.1.0-54-cloud-amd64
[scenarios]
scenario = no-such-scenario" "7: scenario: no-such-scenario: "
expect "$head
kernel = debian:6.1.0-54-cloud-amd64
[scenarios]
scenario = nfs-rotate:v9" "7: scenario: nfs-rotate:v9: "
expect "$head
kernel = debian:6.1.0-54-cloud-amd64
[scenarios]
scenario = memcg-oom-jbd2 bogus=1" "7: scenario: memcg-oom-jbd2: "
expect "$head
kernel = debian:6.1.0-{56..47}-cloud-amd64" "5: kernel: 'debian:6.1.0-{56..47}-cloud-amd64': bad range: range goes down"
expect "$head
kernel = debian:6.1.0-{47..x}-cloud-amd64" "5: kernel: 'debian:6.1.0-{47..x}-cloud-amd64': bad range: a range is {A..B}"
expect "$head
kernel = debian:6.1.0-{47..56-cloud-amd64" "5: kernel: 'debian:6.1.0-{47..56-cloud-amd64': bad range: '{' without '}'"
expect "$head
kernel = debian:6.1.0-{1..5000}" "5: kernel: 'debian:6.1.0-{1..5000}': bad range: range has more than 1000"
expect "$head
kernel = 6.1.0-54" "5: kernel: '6.1.0-54': not a kernel ref"
expect "$head
kernel = debian:6.1.0-{53..55}-cloud-amd64
kernel = debian:6.1.0-54-cloud-amd64
[scenarios]
scenario = dio-unwritten" "6: duplicate cell 'debian:6.1.0-54-cloud-amd64 dio-unwritten' (first at line 5)"
expect "$head
kernel = debian:6.1.0-54-cloud-amd64
[scenarios]
scenario = dio-unwritten
scenario = hang-selftest
scenario = dio-unwritten" "9: duplicate cell 'debian:6.1.0-54-cloud-amd64 dio-unwritten' (first at line 7)"
expect "$head
kernel = debian:6.1.0-54-cloud-amd64
[scenarios]
scenario = nfs-rotate:all
scenario = nfs-rotate:v3" "8: duplicate cell 'debian:6.1.0-54-cloud-amd64 nfs-rotate:v3' (first at line 7)"
expect "$head
kernel = debian:6.1.0-54-cloud-amd64
[scenarios]
scenario = memcg-oom-jbd2 workers=2 slices=3
scenario = memcg-oom-jbd2 slices=3 workers=2" "8: duplicate cell 'debian:6.1.0-54-cloud-amd64 memcg-oom-jbd2 slices=3 workers=2' (first at line 7)"
# the reader (harness/common/ini-doc.c, shared with scenarios): syntax, long lines
expect "$head
kernel debian-6.1.0-54-cloud-amd64" "5: syntax error (expected [section] or key = value)"
long=$(printf 'x%.0s' $(seq 1 250))
expect "$head
kernel = debian:$long
kernel = oops" "5: line too long (at most 198 characters)"
expect "$head
kernel = debian:6.1.0-54-cloud-amd64
[scenarios
scenario = dio-unwritten" "6: syntax error (expected [section] or key = value)"
# the variants of a scenario file (:all) are read with the same reader
printf '[scenario]\nname = t\nthis is not ini\n' >"$d/bad-scenario.ini"
expect "$head
kernel = debian:6.1.0-54-cloud-amd64
[scenarios]
scenario = $d/bad-scenario.ini:all" "7: scenario: $d/bad-scenario.ini:3: syntax error (expected [section] or key = value)"
# the file itself (ini_doc_read_file, as for scenarios): a NUL byte does not cut the
# plan short silently, a FIFO is refused without blocking
printf '[matrix]\nruns = 2\n\0[kernels]\n' >"$d/nul.ini"
out=$(timeout 20 "$KD" matrix --dry-run "$d/nul.ini" 2>&1); rc=$?
[ $rc = 2 ] && [ "$out" = "kdrill matrix: $d/nul.ini:3: NUL byte in the file: not a text file" ] ||
	fail "NUL byte: $rc $out"
mkfifo "$d/fifo.ini"
out=$(timeout 20 "$KD" matrix --dry-run "$d/fifo.ini" 2>&1); rc=$?
[ $rc = 2 ] && [ "$out" = "kdrill matrix: $d/fifo.ini: not a regular file" ] || fail "FIFO: $rc $out"
echo "ok: NUL byte and FIFO refused"
expect "[matrix]
runs = many" "2: runs: 'many' is not an integer"
expect "[matrix]
duration = soon" "2: duration: 'soon' is not a duration"
expect "[matrix]
duration = 800h" "2: duration: '800h' is out of range (1s..30 days)"
expect "[matrix]
colour = blue" "2: [matrix] colour: unknown key"
expect "[matrix]
[kernel]
kernel = debian:x" "3: [kernel]: unknown section"
expect "[matrix]
compare = baseline
baseline = debian:6.1.0-47-cloud-amd64
[kernels]
kernel = debian:6.1.0-54-cloud-amd64
[scenarios]
scenario = dio-unwritten" "3: baseline: 'debian:6.1.0-47-cloud-amd64' is not one of [kernels]"
expect "[matrix]
target = host
[scenarios]
scenario = dio-unwritten" "2: target: host needs scratch = DIR"
expect "$head
kernel = debian:6.1.0-54-cloud-amd64
[scenarios]
scenario = dio-unwritten
[known.x]
note = no match" "9: [known.x] match: missing"
expect "$head
kernel = debian:6.1.0-54-cloud-amd64
[scenarios]
scenario = memcg-oom-jbd2 slices=2 slices=3" "7: scenario: parameter 'slices' given twice"
expect "$head
kernel = debian:6.1.0-54-cloud-amd64" " [scenarios]: no scenario"

# a good plan: ranges with zero padding, :all, params sorted, order by rounds
f=$d/good.ini
cat >"$f" <<'PLAN'
[matrix]
name = lab
runs = 2
duration = 10
[kernels]
kernel = path:/k/vmlinuz-{08..10}
[scenarios]
scenario = nfs-rotate:all
scenario = memcg-oom-jbd2 workers=2 slices=3
PLAN
out=$("$KD" matrix --store "$d/store" --dry-run "$f") || fail "good plan refused: $out"
echo "$out"
grep -q 'lab (hash [0-9a-f]\{16\}): 9 cells x 2 runs, 10s each' <<<"$out" || fail "header"
grep -q 'cell 1   path:/k/vmlinuz-08 nfs-rotate:v3 ' <<<"$out" || fail "cell 1"
grep -q 'cell 3   path:/k/vmlinuz-08 memcg-oom-jbd2 slices=3 workers=2 ' <<<"$out" || fail "params sorted"
grep -q 'cell 9   path:/k/vmlinuz-10 memcg-oom-jbd2' <<<"$out" || fail "cell 9"
grep -q '^order: 1.1 2.1 3.1 4.1 5.1 6.1 7.1 8.1 9.1 1.2 2.2 ' <<<"$out" || fail "order: every cell once first"
[ -e "$d/store" ] && fail "--dry-run created the store"
# shards: each cell in exactly one shard, the union is the plan
all=$(for i in 1 2 3; do "$KD" matrix --dry-run --shard $i/3 "$f" | sed -n 's/^order: //p' | tr ' ' '\n' | grep -E '^[0-9]+[.][0-9]+$'; done | sort -V | tr '\n' ' ')
want=$("$KD" matrix --dry-run "$f" | sed -n 's/^order: //p' | tr ' ' '\n' | grep -E '^[0-9]+[.][0-9]+$' | sort -V | tr '\n' ' ')
[ "$all" = "$want" ] || fail "shards 1..3 do not partition the runs: '$all' vs '$want'"
"$KD" matrix --dry-run --shard 4/3 "$f" >/dev/null 2>&1; [ $? = 2 ] || fail "--shard 4/3 accepted"
# the example plan of docs/matrix.md is valid
out=$("$KD" matrix --dry-run "$KDRILL_TOP/docs/matrix-example.ini") || fail "docs/matrix-example.ini: $out"
grep -q '^plan nightly-6.1 (hash [0-9a-f]*): 88 cells x 3 runs, 120s each' <<<"$out" || fail "example plan: $(head -1 <<<"$out")"

# a budget too small for one run: nothing starts, the night says so, exit 125
sed 's/^duration = 10$/duration = 10\nbudget = 5s/' "$f" >"$d/budget.ini"
out=$("$KD" matrix --store "$d/bstore" --night b "$d/budget.ini" 2>&1); rc=$?
echo "$out"
[ $rc = 125 ] || fail "budget: exit $rc"
grep -q 'night b: 0 of 18 runs done before, 0 run now (0 failing, 0 INFRA), 18 left: budget' <<<"$out" || fail "budget line"
[ "$(jq -r .shards.all.state "$d/bstore/nights/b/night.json")" = budget ] || fail "budget state"
[ "$(jq -r '.counts."not-run"' "$d/bstore/report/summary.json")" = 9 ] || fail "not-run cells"

echo "ok: $n bad plans refused with file:line, good plan expanded, shards partition"
