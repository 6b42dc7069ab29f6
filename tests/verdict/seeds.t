#!/bin/bash
# Every scenario that names its seed's console (`seed_fixture` in its .ini, listed by
# `kdrill list --json`) recognises it: the fixture replayed through the detector gives a
# failure report that matches the scenario's signature.  A signature edited so that it
# no longer finds the bug it hunts fails here.
# Then tests/verdict/signatures.list: each real console listed "match" (a manifestation of
# the scenario's seed bug) must match its scenario's signature, each listed "no" (an
# unrelated report) must not.
set -u
KV=$KDRILL_BIN/kdverdict
[ -x "$KV" ] || { echo "skip: $KV not built (make extra)"; exit 77; }
command -v jq >/dev/null || { echo "skip: jq not installed"; exit 77; }
export KDRILL_DATA=$KDRILL_TOP
"$KDRILL_BIN/kdrill" list --json >"$KDRILL_TMP/list.json" || { echo "FAIL: kdrill list --json"; exit 1; }
n=0 bad=0
while IFS=$'\t' read -r name fixture; do
	[ -f "$KDRILL_TOP/$fixture" ] || { echo "FAIL: $name: seed_fixture $fixture does not exist"; bad=$((bad + 1)); continue; }
	"$KV" signature "$name" "$KDRILL_TOP/$fixture" || bad=$((bad + 1))
	n=$((n + 1))
done < <(jq -r '.[] | select(.seed_fixture) | [.name, .seed_fixture] | @tsv' "$KDRILL_TMP/list.json")
[ "$n" -ge 7 ] || { echo "FAIL: only $n scenarios name a seed fixture"; exit 1; }
[ "$bad" = 0 ] || { echo "FAIL: $bad of $n seed fixtures not matched"; exit 1; }
echo "$n seed fixtures, each matched by its scenario's signature"

m=0 bad=0
while read -r name want fixture _; do
	case $name in '' | '#'*) continue ;; esac
	f=$KDRILL_TOP/tests/detect/fixtures/$fixture
	[ -f "$f" ] || { echo "FAIL: signatures.list: $fixture does not exist"; bad=$((bad + 1)); continue; }
	"$KV" signature "$name" "$f" >"$KDRILL_TMP/sig.out" 2>&1
	rc=$?
	case "$want:$rc" in
	match:0 | no:1) ;;
	*) echo "FAIL: $name $want $fixture: $(cat "$KDRILL_TMP/sig.out")"; bad=$((bad + 1)) ;;
	esac
	m=$((m + 1))
done <"$KDRILL_TOP/tests/verdict/signatures.list"
[ "$m" -ge 20 ] || { echo "FAIL: only $m lines in signatures.list"; exit 1; }
[ "$bad" = 0 ] || { echo "FAIL: $bad of $m signature checks"; exit 1; }
echo "$m signature checks (match / no match) against real consoles"
