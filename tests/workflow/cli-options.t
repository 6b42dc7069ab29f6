#!/bin/bash
# The repeat-engine options of kdrill validate and kdrill bisect (--param, --duration,
# --boot-timeout, --confidence, --calibrate-matches, run and time budgets, --host): the
# same bounds and the same messages in both commands, exit 2 before anything runs; good
# values pass the option parser (the next error is the missing kernels / scenario).
# Root-free, no VM: nothing gets as far as booting a kernel.
set -u
KD=${KDRILL_BIN:?}/kdrill
[ -x "$KD" ] || { echo "skip: $KD not built"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
cd "$KDRILL_TMP" || exit 1

n=0
# usage CMD WANT-FIRST-LINE ARGS... : exit 2, the first line of stderr exactly WANT, no
# results directory created
usage() {
	local cmd=$1 want=$2 out rc
	shift 2
	n=$((n + 1))
	out=$(timeout 20 "$KD" "$cmd" "$@" 2>&1 >/dev/null)
	rc=$?
	[ "$rc" = 2 ] || fail "$cmd $*: exit $rc, want 2: $out"
	[ "${out%%$'\n'*}" = "$want" ] || fail "$cmd $*: got '${out%%$'\n'*}', want '$want'"
	[ ! -e results ] || fail "$cmd $*: created results/"
	echo "ok $cmd $*: $want"
}

for cmd in validate bisect; do
	p="kdrill $cmd"
	usage $cmd "$p: --confidence: '0.4' must be 0.5..0.999" --confidence 0.4 x
	usage $cmd "$p: --confidence: '1x' must be 0.5..0.999" --confidence 1x x
	usage $cmd "$p: --confidence: '1' must be 0.5..0.999" --confidence 1 x
	usage $cmd "$p: --confidence: 'nan' must be 0.5..0.999" --confidence nan x
	usage $cmd "$p: --calibrate-matches: '0' must be 1..100000" --calibrate-matches 0 x
	usage $cmd "$p: --calibrate-matches: '100001' must be 1..100000" --calibrate-matches 100001 x
	usage $cmd "$p: --calibrate-matches: '-1' must be 1..100000" --calibrate-matches -1 x
	usage $cmd "$p: --duration: '1e14' is not a duration from 1s to 30 days" --duration 1e14 x
	usage $cmd "$p: --duration: '0.5' is not a duration from 1s to 30 days" --duration 0.5 x
	usage $cmd "$p: --param foo: expected NAME=VALUE" --param foo x
	usage $cmd "$p: --boot-timeout: '2d' is not a duration from 1s to 1 day" --boot-timeout 2d x
	usage $cmd "$p: --boot-timeout: 'soon' is not a duration from 1s to 1 day" --boot-timeout soon x
done
usage validate "kdrill validate: --max-runs: '0' must be 1..100000" --max-runs 0 x
usage validate "kdrill validate: --max-runs: 'x' must be 1..100000" --max-runs x x
usage validate "kdrill validate: --max-time: '0' is not a duration from 1s to 30 days" --max-time 0 x
usage validate "kdrill validate: --effect: '0' must be in (0, 1]" --effect 0 x
usage validate "kdrill validate: --effect: '1.5' must be in (0, 1]" --effect 1.5 x
usage bisect "kdrill bisect: --budget-runs: 'x' must be 1..100000" --budget-runs x x
usage bisect "kdrill bisect: --runs-per-step: '0' must be 1..100000" --runs-per-step 0 x
usage bisect "kdrill bisect: --budget-time: '31d' is not a duration from 1s to 30 days" --budget-time 31d x
vhost="kdrill validate: host mode makes no sense here: validation compares two kernels, each booted in a VM (--before REF --after REF)"
bhost="kdrill bisect: host mode makes no sense here: a bisection boots each kernel of the list in a VM"
usage validate "$vhost" --host x
usage validate "$vhost" --scratch /tmp x
usage bisect "$bhost" --host x
usage bisect "$bhost" --scratch /tmp x
# options of the other command are not options here
usage validate "validate: unrecognized option '--budget-runs'" --budget-runs 3 x
usage validate "validate: unrecognized option '--runs-per-step'" --runs-per-step 3 x
usage bisect "bisect: unrecognized option '--max-runs'" --max-runs 3 x
usage bisect "bisect: unrecognized option '--effect'" --effect 0.5 x

# every option at a good value (both ends of the ranges): past the option parser
common=(--confidence 0.5 --confidence 0.999 --calibrate-matches 1 --calibrate-matches 100000
	--duration 1 --duration 720h --param a=b --param c= --boot-timeout 24h --boot-timeout 1
	--out "$KDRILL_TMP/out" --quiet)
usage validate "kdrill validate: give both --before REF and --after REF" "${common[@]}" \
	--max-runs 1 --max-runs 100000 --max-time 1 --max-time 720h --effect 1 --effect 0.01 x
usage bisect "kdrill bisect: give --good, --bad and either --kernels LIST|RANGE or --tree DIR" "${common[@]}" \
	--budget-runs 100000 --runs-per-step 1 --budget-time 720h --reverse --median x
usage validate "kdrill validate: no scenario given (see 'kdrill list')" "${common[@]}" \
	--before a --after b
usage bisect "kdrill bisect: give exactly one scenario (see 'kdrill list')" "${common[@]}" \
	--good a --bad b --kernels 'k{1..3}'
[ ! -e "$KDRILL_TMP/out" ] || fail "--out created before anything ran"

# --help: exit 0, usage on stdout
for cmd in validate bisect; do
	out=$("$KD" $cmd --help 2>/dev/null) || fail "$cmd --help: exit $?"
	[[ $out == "usage: kdrill $cmd "* ]] || fail "$cmd --help: $out"
done
echo "ok: $n usage errors, --help"
