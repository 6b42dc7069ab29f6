#!/bin/bash
# Every ext4 seed scenario (all variants) in host mode for a few seconds on a loop
# device: PASS, every reproducer did work (ops > 0), the slices were created (stats
# sampled, cgroup path recorded) and removed, nothing left behind.
. "$KDRILL_TOP/tests/runner/lib.sh"
run_require fio stress-ng

# run_set PARAMS... -- TARGETS...: one kdrill invocation, checks each verdict line
run_set() {
	local params=() pid rc line
	while [ "$1" != -- ]; do params+=("$1"); shift; done
	shift
	"$KD" run --host --scratch "$SCRATCH" --out "$OUT" --duration 4 --json \
		"${params[@]}" "$@" >"$KDRILL_TMP/verdicts.jsonl" 2>"$KDRILL_TMP/stderr" &
	pid=$!
	wait $pid
	rc=$?
	cat "$KDRILL_TMP/stderr"
	[ "$rc" = 0 ] || fail "kdrill run $* exited $rc"
	check_no_leftovers $pid
	while read -r line; do
		local dir label ops
		dir=$(jq -r .dir <<<"$line")
		label="$(jq -r '.scenario + ":" + .variant' <<<"$line")"
		[ "$(jq -r .verdict <<<"$line")" = PASS ] || fail "$label: $(jq -c '{verdict,reason}' <<<"$line")"
		[ "$(jq -r .schema <<<"$line")" = kdrill-verdict/1 ] || fail "$label: schema"
		# every reproducer instance (not loads) counted operations
		jq -e '[.reproducers[] | select(.kind == "repro") | .ops > 0] | all and length > 0' \
			<<<"$line" >/dev/null || fail "$label: a reproducer did nothing: $(jq -c '[.reproducers[] | {name, ops, exit_codes}]' <<<"$line")"
		jq -e '[.reproducers[] | select(.kind == "repro") | .result.status == "clean"] | all' \
			<<<"$line" >/dev/null || fail "$label: reproducer result not clean"
		jq -e '.slices | length > 0 and all(.path != null)' <<<"$line" >/dev/null ||
			fail "$label: no slice recorded"
		[ -s "$dir/stats.jsonl" ] || fail "$label: no stats sampled"
		jq -e 'select(.slice == "work") | .pids >= 0' "$dir/stats.jsonl" >/dev/null ||
			fail "$label: stats.jsonl has no 'work' slice samples"
		for f in verdict.json junit.xml console.log runner.log; do [ -s "$dir/$f" ] || fail "$label: $f missing"; done
		grep -Eq '^\[ *[0-9]+\.[0-9]{3}\] kdrill: stopping: ' "$dir/runner.log" ||
			fail "$label: runner.log lacks the timestamped stop event"
		grep -q 'failures="0" errors="0"' "$dir/junit.xml" || fail "$label: junit"
		ops=$(jq '.counters.ops' <<<"$line")
		echo "ok $label PASS ops=$ops slices=$(jq -c '[.slices[].name]' <<<"$line") $(jq -c '[.reproducers[] | .name + "=" + (.ops|tostring)]' <<<"$line")"
	done <"$KDRILL_TMP/verdicts.jsonl"
	[ "$(wc -l <"$KDRILL_TMP/verdicts.jsonl")" -ge 1 ] || fail "no verdicts printed"
}

run_set --param size=512M --param load_cpu=1 --param load_vm_bytes=64M -- aio-dio-unlink:all
run_set --param size=512M --param fio_size=32M --param repro_size=64M --param threads=2 -- dio-unwritten
run_set --param size=512M --param repro_size=64M -- dio-invalidate:all
n=$(wc -l <"$OUT/index.jsonl")
[ "$n" = 5 ] || fail "index.jsonl has $n lines, want 5"
echo "5 runs PASS, index.jsonl has 5 lines"
