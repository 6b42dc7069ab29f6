#!/bin/bash
# Root-free unit test of the watcher's hang grace: when sysrq-w goes after a hang report,
# for one hung-task look per timeout and for a scenario's shorter hung_task_scan
# (tests/vm/hang-grace.c, harness/vm/hanggrace.c).
t=${KDRILL_BIN:?}/../tests/vm/hang-grace-test
[ -x "$t" ] || { echo "skip: $t not built (make extra asan)"; exit 77; }
exec "$t"
