#!/bin/bash
# The host <-> guest plumbing without a guest (tests/verdict/proto.c): the one JSON-lines
# reader (agent channel, both ends, and QMP) in every chunking, blank / non-JSON /
# over-long lines, stopping mid-buffer; the typed run request written and read back, and
# each malformed member refused with its name.
set -u
KV=$KDRILL_BIN/kdverdict
[ -x "$KV" ] || { echo "skip: $KV not built (make extra)"; exit 77; }
"$KV" proto
