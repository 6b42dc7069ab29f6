#!/bin/bash
# Every scenario that names its seed's console (`seed_fixture` in its .ini, listed by
# `kdrill list --json`) recognises it: the fixture replayed through the detector gives a
# failure report that matches the scenario's signature.  A signature edited so that it
# no longer finds the bug it hunts fails here.
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
