#!/bin/bash
# Root-free unit test of util.c's guards: symlink-safe writes, FIFO-safe reads, directory
# checks for --scratch/--out, bounded decimal durations (tests/runner/safe-io.c).
t=${KDRILL_BIN:?}/../tests/runner/safe-io-test
[ -x "$t" ] || { echo "skip: $t not built (make extra asan)"; exit 77; }
exec "$t" "${KDRILL_TMP:?}"
