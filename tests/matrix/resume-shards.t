#!/bin/bash
# Real host-mode nights (root, loop devices): a matrix killed with SIGKILL in the middle
# of a run resumes to the same final counts without redoing finished runs; the same plan
# as 2 shards + `kdrill merge` reports the same counts as one machine; merge refuses
# duplicates and mismatched plans.
. "$KDRILL_TOP/tests/runner/lib.sh"
. "$KDRILL_TOP/tests/matrix/lib.sh"
run_require
scr=$KDRILL_TMP/scr
mkdir -p "$scr"

wait_for() { # SECONDS CMD...: poll until CMD succeeds
	local end=$((SECONDS + $1)); shift
	until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done
}
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

# ---- resume after SIGKILL ------------------------------------------------------
host_plan "$KDRILL_TMP/two.ini" resume 2 "$scr" dio-unwritten aio-dio-unlink
S=$KDRILL_TMP/s-resume
J=$S/nights/r/journal.jsonl
"$KD" matrix --store "$S" --night r --quiet --no-report "$KDRILL_TMP/two.ini" &
mpid=$!
mid_run() { [ "$(lines "$J")" -ge 1 ] && [ -n "$(cat /proc/$mpid/task/$mpid/children 2>/dev/null)" ]; }
wait_for 180 mid_run || fail "matrix never got to its second run"
kids=$(cat /proc/$mpid/task/$mpid/children)
kill -9 $mpid
wait $mpid 2>/dev/null
before=$(lines "$J")
first=$(head -1 "$J" | jq -r .run_id)
echo "killed the matrix (pid $mpid) during a run (child $kids) with $before of 4 runs journaled"
[ "$before" -ge 1 ] && [ "$before" -lt 4 ] || fail "journal has $before lines"
gone() { local p; for p in $kids; do [ -d /proc/$p ] && return 1; done; return 0; }
wait_for 60 gone || fail "kdrill run child $kids did not stop after its parent died"
out=$("$KD" matrix --store "$S" --resume 2>&1) || fail "resume: exit $?: $out"
echo "$out"
# (an INFRA run on this loaded machine is retried and journaled as such: count the rest)
grep -q "night r: $before of 4 runs done before, [0-9]* run now (0 failing, [0-9]* INFRA), 0 left: complete" <<<"$out" ||
	fail "resume summary"
ok=$(jq -r 'select(.verdict != "INFRA") | "\(.cell) \(.round)"' "$J")
[ "$(wc -l <<<"$ok")" = 4 ] || fail "journal: $(wc -l <<<"$ok") finished runs, want 4"
[ "$(sort -u <<<"$ok" | wc -l)" = 4 ] || fail "a slot ran twice"
[ "$(head -1 "$J" | jq -r .run_id)" = "$first" ] || fail "the first run was redone"
[ "$(jq -r 'select(.verdict != "INFRA") | .verdict' "$J" | sort -u)" = PASS ] || fail "verdicts: $(jq -r .verdict "$J")"
[ "$(jq -r '"\(.runs - .infra_runs) \(.counts.pass) \(.cells_total)"' "$S/report/summary.json")" = "4 2 2" ] ||
	fail "report after resume: $(jq -c '{runs, counts}' "$S/report/summary.json")"
[ "$(jq -r '.shards.all.state' "$S/nights/r/night.json")" = complete ] || fail "night state"
# a second --resume has nothing to do; a plain start of the same night is refused
out=$("$KD" matrix --store "$S" --resume --no-report 2>&1) || fail "second resume: $out"
grep -q "4 of 4 runs done before, 0 run now" <<<"$out" || fail "second resume ran something: $out"
out=$("$KD" matrix --store "$S" --night r "$KDRILL_TMP/two.ini" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "has [0-9]* runs already (--resume" <<<"$out" || fail "restart of a night: $rc $out"

# ---- 2 shards + merge = one machine --------------------------------------------
host_plan "$KDRILL_TMP/three.ini" shards 1 "$scr" dio-unwritten "memcg-oom-jbd2 slices=2 workers=2 hog_procs=0" aio-dio-unlink
for i in 1 2; do
	n=$("$KD" matrix --dry-run --shard $i/2 "$KDRILL_TMP/three.ini" | grep -c 'cell .*shard.*/2)$')
	[ "$n" -ge 1 ] || fail "shard $i/2 has no cell"
done
"$KD" matrix --store "$KDRILL_TMP/one" --night s --quiet "$KDRILL_TMP/three.ini" || fail "unsharded: $?"
"$KD" matrix --store "$KDRILL_TMP/sh1" --night s --quiet --shard 1/2 "$KDRILL_TMP/three.ini" || fail "shard 1: $?"
"$KD" matrix --store "$KDRILL_TMP/sh2" --night s --quiet --shard 2/2 "$KDRILL_TMP/three.ini" || fail "shard 2: $?"
out=$("$KD" merge --out "$KDRILL_TMP/merged" "$KDRILL_TMP/sh1" "$KDRILL_TMP/sh2") || fail "merge: $out"
echo "$out"
"$KD" report "$KDRILL_TMP/merged" >/dev/null || fail "report of the merged store"
sig() { jq -c '{cells_total, runs, failing_runs, infra_runs, counts,
	cells: [.cells[] | {cell, change, runs, failures, infra}] | sort_by(.cell)}' "$1/report/summary.json"; }
echo "one machine: $(sig "$KDRILL_TMP/one")"
echo "merged:      $(sig "$KDRILL_TMP/merged")"
[ "$(sig "$KDRILL_TMP/one")" = "$(sig "$KDRILL_TMP/merged")" ] || fail "merged shards differ from one machine"
[ "$(jq -r '.shards | keys | join(" ")' "$KDRILL_TMP/merged/nights/s/night.json")" = "1/2 2/2" ] || fail "shards in night.json"
for r in $(jq -r .dir "$KDRILL_TMP/merged/nights/s/journal.jsonl"); do
	[ -f "$KDRILL_TMP/merged/$r/verdict.json" ] || fail "merged store lacks $r"
done
# merging a shard again: duplicate
out=$("$KD" merge --out "$KDRILL_TMP/merged" "$KDRILL_TMP/sh1" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "is in $KDRILL_TMP/sh1 (run .*) and in $KDRILL_TMP/merged (run .*): duplicate" <<<"$out" ||
	fail "duplicate merge: $rc $out"
# the same night from another plan
sed 's/^runs = 1/runs = 2/' "$KDRILL_TMP/three.ini" >"$KDRILL_TMP/other.ini"
"$KD" matrix --store "$KDRILL_TMP/other" --night s --ingest --kernel host "$KDRILL_TMP/other.ini" \
	"$(mkrun pass-dio-unwritten 20261204-000000-dio-unwritten-aaaa)" >/dev/null || fail "ingest"
out=$("$KD" merge --out "$KDRILL_TMP/m2" "$KDRILL_TMP/sh1" "$KDRILL_TMP/other" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "night s: $KDRILL_TMP/other ran plan shards (hash .*), $KDRILL_TMP/sh1 ran plan shards (hash .*): not the same plan" <<<"$out" ||
	fail "mismatched plans: $rc $out"
[ -e "$KDRILL_TMP/m2/nights" ] && fail "a refused merge copied something"
# ---- INFRA: retried up to infra_retries, journaled, shown, exit 125 -------------------
# a real INFRA: the scratch filesystem (a 1 MiB tmpfs) is too small for mkfs
tiny=$KDRILL_TMP/tiny
mkdir -p "$tiny"
mount -t tmpfs -o size=1M kdrill-matrix-tiny "$tiny" || fail "cannot mount a tmpfs"
trap 'umount "$tiny" 2>/dev/null' EXIT
cat >"$KDRILL_TMP/infra.ini" <<PLAN
[matrix]
name = infra
runs = 2
duration = 2
infra_retries = 1
target = host
scratch = $tiny
[scenarios]
scenario = dio-unwritten
PLAN
out=$("$KD" matrix --store "$KDRILL_TMP/infra" --night i "$KDRILL_TMP/infra.ini" 2>&1); rc=$?
umount "$tiny"
echo "$out"
[ $rc = 125 ] || fail "an all-INFRA night exited $rc"
J=$KDRILL_TMP/infra/nights/i/journal.jsonl
[ "$(jq -r '"\(.round) \(.attempt) \(.verdict)"' "$J" | tr '\n' ,)" = "0 0 INFRA,0 1 INFRA,1 0 INFRA,1 1 INFRA," ] ||
	fail "INFRA attempts: $(jq -c '[.round, .attempt, .verdict]' "$J")"
grep -q "INFRA   host dio-unwritten  round 1 (INFRA, retrying)  mkfs.ext4 /dev/loop[0-9]* failed" <<<"$out" ||
	fail "retry line"
grep -q "infra: host dio-unwritten: 0/0 (4 INFRA: mkfs.ext4 /dev/loop[0-9]* failed" <<<"$out" ||
	fail "infra summary"
[ "$(jq -r '.counts.infra' "$KDRILL_TMP/infra/report/summary.json")" = 1 ] || fail "infra count"

check_no_leftovers $$
echo "ok: resume after SIGKILL, shards + merge = one machine, merge refusals, INFRA retries"
