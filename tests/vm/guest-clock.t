#!/bin/bash
# Root-free unit test of the run timeout that allows for a slow guest clock
# (tests/vm/guest-clock.c, harness/vm/guestclock.c).
t=${KDRILL_BIN:?}/../tests/vm/guest-clock-test
[ -x "$t" ] || { echo "skip: $t not built (make extra asan)"; exit 77; }
exec "$t"
