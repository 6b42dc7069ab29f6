#!/bin/bash
# Bounded libFuzzer run (~60 s, FUZZ_SECONDS to change) over the console
# detector's streaming API, seeded with every fixture.  Fails on any crash,
# sanitizer report, leak or timeout.  `make fuzz` runs it open-ended.
set -u
top=${KDRILL_TOP:?}
f=$top/build/fuzz/detect-fuzz
[ -x "$f" ] || { echo "fuzz target not built (needs clang + libclang-rt-dev)"; exit 77; }
secs=${FUZZ_SECONDS:-60}
corpus=$KDRILL_TMP/corpus
mkdir -p "$corpus"
# one worker: the machine is shared
"$f" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$KDRILL_TMP/" "$corpus" "$top/tests/detect/fixtures" 2>&1 | tail -n 25
rc=${PIPESTATUS[0]}
ls "$KDRILL_TMP"/crash-* "$KDRILL_TMP"/leak-* "$KDRILL_TMP"/timeout-* 2>/dev/null && { echo "fuzzer found a problem"; exit 1; }
[ "$rc" -eq 0 ] || { echo "fuzzer exited $rc"; exit 1; }
echo "fuzz: ${secs}s clean"
