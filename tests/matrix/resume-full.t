#!/bin/bash
# A full results store stops the night, resumably, instead of spending INFRA retries:
# a host-mode night whose store (a 100 KiB tmpfs) fills during a run stops with exit 125
# and state store-full, naming the free space; the run that failed on the full disk is
# neither journaled nor counted as an attempt; after the tmpfs grows, --resume finishes
# the same 6 runs, each slot once, all PASS, as an unfilled night would.  The same with
# --min-free above the free space: the night stops before starting a run.
. "$KDRILL_TOP/tests/runner/lib.sh"
. "$KDRILL_TOP/tests/matrix/lib.sh"
run_require
scr=$KDRILL_TMP/scr
st=$KDRILL_TMP/store
mkdir -p "$scr" "$st"
mount -t tmpfs -o size=100k kdrill-test "$st" || fail "cannot mount a tmpfs"
trap 'umount -l "$st" 2>/dev/null' EXIT
host_plan "$KDRILL_TMP/p.ini" full 3 "$scr" dio-unwritten aio-dio-unlink
S=$st/s
J=$S/nights/n1/journal.jsonl
slots() { jq -r 'select(.verdict != "INFRA") | "\(.cell) \(.round)"' "$J"; }

# ---- the disk fills during a run ----------------------------------------------
"$KD" matrix --store "$S" --night n1 --min-free 4k "$KDRILL_TMP/p.ini" >"$KDRILL_TMP/o1" 2>&1
rc=$?
cat "$KDRILL_TMP/o1"
[ $rc = 125 ] || fail "full store: exit $rc, want 125"
grep -q "stopped: $S has [0-9]* KiB free (--min-free 4 KiB); free space, then kdrill matrix --store $S --resume" "$KDRILL_TMP/o1" ||
	fail "no store-full message"
grep -q "left: store-full" "$KDRILL_TMP/o1" || fail "state not store-full"
n1=$(wc -l <"$J")
[ "$n1" -ge 1 ] && [ "$n1" -lt 6 ] || fail "journal has $n1 runs after the disk filled"
[ "$(jq -r .verdict "$J" | sort -u)" = PASS ] || fail "journaled verdicts: $(jq -r .verdict "$J")"
[ "$(jq -r '.shards.all.state' "$S/nights/n1/night.json" 2>/dev/null)" != complete ] || fail "night complete"

mount -o remount,size=8m "$st" || fail "cannot grow the tmpfs"
out=$("$KD" matrix --store "$S" --min-free 4k --resume 2>&1) || fail "resume: exit $?: $out"
echo "$out"
grep -q "night n1: $n1 of 6 runs done before, $((6 - n1)) run now (0 failing, 0 INFRA), 0 left: complete" <<<"$out" ||
	fail "resume summary"
[ "$(slots | wc -l)" = 6 ] && [ "$(slots | sort -u | wc -l)" = 6 ] || fail "slots: $(slots)"
[ "$(jq -r .verdict "$J" | sort -u)" = PASS ] || fail "verdicts after resume: $(jq -r .verdict "$J")"
[ "$(jq -r '"\(.runs) \(.counts.pass) \(.cells_total)"' "$S/report/summary.json")" = "6 2 2" ] ||
	fail "report after resume: $(jq -c '{runs, counts}' "$S/report/summary.json")"
echo "ok: filled during a run after $n1 runs; resumed to 6 PASS runs"

# ---- --min-free above what is free: stop before a run --------------------------
"$KD" matrix --store "$S" --night n2 --min-free 1T "$KDRILL_TMP/p.ini" >"$KDRILL_TMP/o2" 2>&1
rc=$?
[ $rc = 125 ] && grep -q "(--min-free 1073741824 KiB)" "$KDRILL_TMP/o2" || fail "min-free: exit $rc: $(cat "$KDRILL_TMP/o2")"
[ ! -s "$S/nights/n2/journal.jsonl" ] || fail "a run started with too little space"
"$KD" matrix --store "$S" --min-free 12x "$KDRILL_TMP/p.ini" >/dev/null 2>"$KDRILL_TMP/o3"
[ $? = 2 ] && grep -q -- "--min-free 12x" "$KDRILL_TMP/o3" || fail "bad --min-free: $(cat "$KDRILL_TMP/o3")"
echo "ok: --min-free stops before a run; a bad size is a usage error"
