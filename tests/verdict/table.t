#!/bin/bash
# The verdict table of docs/results.md, row by row, through verdict_decide() (pure: no
# root, no loop device, no VM; recorded consoles through a real detector): every verdict
# and exit code, the precedence rules, INFRA against reports, the VM's ends, the no-work
# rule, and `kdrill vm boot`.  tests/verdict/table.c holds the rows.
set -u
KV=$KDRILL_BIN/kdverdict
[ -x "$KV" ] || { echo "skip: $KV not built (make extra)"; exit 77; }
"$KV" table "$KDRILL_TOP/tests/detect/fixtures" "$KDRILL_TOP/tests/verdict/golden.ini"
