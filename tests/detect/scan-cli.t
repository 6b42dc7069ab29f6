#!/bin/bash
# kdrill scan: exit status (0 none, 1 failure-class report, 2 usage/unreadable,
# oom alone is 0), text output, stdin, several files, --patterns.
set -u
top=${KDRILL_TOP:?}
bin=${KDRILL_BIN:?}/kdrill
fx=$top/tests/detect/fixtures
fail() { echo "FAIL: $*"; exit 1; }
"$bin" scan "$fx/real-boot.log" >/dev/null; [ $? = 0 ] || fail "clean log not 0"
"$bin" scan "$fx/real-oom.log" >/dev/null; [ $? = 0 ] || fail "oom-only log not 0"
"$bin" scan "$fx/real-bug.log" >"$KDRILL_TMP/t"; [ $? = 1 ] || fail "BUG log not 1"
grep -q '^crash: kernel BUG in kdtrig_bug_path$' "$KDRILL_TMP/t" || fail "text title"
grep -q 'task insmod:95, frame kdtrig_bug_path' "$KDRILL_TMP/t" || fail "text task/frame"
"$bin" scan --bogus >/dev/null 2>&1; [ $? = 2 ] || fail "bad option not 2"
"$bin" scan "$KDRILL_TMP/missing" >/dev/null 2>&1; [ $? = 2 ] || fail "missing file not 2"
"$bin" scan --json <"$fx/real-warn.log" | jq -e -s 'length == 4 and .[0].class == "warning"' >/dev/null || fail "stdin"
"$bin" scan --json "$fx/real-bug.log" "$fx/real-oom.log" | jq -e -s '.[0].file != null and .[1].class == "oom"' >/dev/null || fail "several files"
n=$("$bin" scan --patterns | wc -l); [ "$n" -gt 80 ] || fail "--patterns printed $n lines"
# every JSON report has the documented keys
"$bin" scan --json "$fx/seed-002-jbd2-hang.log" | jq -e -s 'all(.[]; has("class") and has("title") and has("frame") and has("stack") and has("task") and has("first_line") and has("last_line") and has("corrupted") and has("signature") and has("count"))' >/dev/null || fail "keys"
echo ok
