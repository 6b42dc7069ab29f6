#!/bin/bash
# Workflows on kernels that differ by one injected bug (opt-in: needs the builds of the
# kernel-build target; ~25 VM runs, 25-50 min under TCG).  Set
#   KDRILL_TEST_STOCK=REF      a stock build (e.g. build:stock)
#   KDRILL_TEST_INJECT=REF     the same tree with a bug injected (e.g. inject:NNN)
#   KDRILL_TEST_SCENARIO=NAME  the scenario whose signature the injected bug matches
#   KDRILL_TEST_DURATION=S     each run's duration (default 120: a clean run lasts that
#                              long, so the stock side costs boot + S per run)
# and it checks:
#   validate BEFORE=inject AFTER=stock -> FIXED (exit 0)
#   validate BEFORE=stock AFTER=inject -> NOT-FIXED (exit 1: BEFORE never reproduces,
#     the probe of AFTER does: "the bug is on the AFTER side")
#   validate BEFORE=stock AFTER=stock -> INCONCLUSIVE (exit 125)
#   bisect over [stock, stock, inject, inject] -> FOUND at position 3 (exit 0)
# The two stock entries are the same kernel under two refs (path: and the build ref).
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
stock=${KDRILL_TEST_STOCK:-} inject=${KDRILL_TEST_INJECT:-} sc=${KDRILL_TEST_SCENARIO:-}
if [ -z "$stock" ] || [ -z "$inject" ] || [ -z "$sc" ]; then
	echo "skip: set KDRILL_TEST_STOCK, KDRILL_TEST_INJECT and KDRILL_TEST_SCENARIO (opt-in, ~25 VM runs)"
	exit 77
fi
out=$KDRILL_TMP/results
common=(--boot-timeout 300 --duration "${KDRILL_TEST_DURATION:-120}" --out "$out")

expect_validate() { # BEFORE AFTER EXIT VERDICT [ARGS...]
	local b=$1 a=$2 want_rc=$3 want=$4 rc d
	shift 4
	kd validate --before "$b" --after "$a" "${common[@]}" "$@" "$sc" >"$KDRILL_TMP/v.out" 2>"$KDRILL_TMP/v.err"
	rc=$?
	cat "$KDRILL_TMP/v.err"
	d=$out/$(awk '{print $2}' "$KDRILL_TMP/v.out")
	[ "$rc" = "$want_rc" ] && [ "$(json "$d/validate.json" .verdict)" = "$want" ] ||
		fail "validate $b -> $a: exit $rc, $(json "$d/validate.json" .verdict) (want $want_rc $want)"
	echo "ok: validate $b -> $a: $want: $(json "$d/validate.json" '.scenarios[0].reason')"
}

expect_validate "$inject" "$stock" 0 FIXED --effect 1
expect_validate "$stock" "$inject" 1 NOT-FIXED --max-runs 6
expect_validate "$stock" "$stock" 125 INCONCLUSIVE --max-runs 6

# a second ref to each kernel: the same bzImage (and modules) by path
path_ref() {
	local info bz mods
	info=$(kd kernel show "$1" 2>/dev/null)
	bz=$(awk '$1 == "vmlinuz:" {print $2}' <<<"$info")
	mods=$(awk '$1 == "modules:" && $2 ~ /^\// {print $2}' <<<"$info")
	[ -f "$bz" ] || fail "cannot find the bzImage of $1 (kdrill kernel show)"
	echo "path:$bz${mods:+,modules=$mods}"
}
ps=$(path_ref "$stock") pi=$(path_ref "$inject")
case "$ps $pi" in path:*" "path:*) ;; *) fail "no path refs: $ps $pi" ;; esac
printf '%s\n' "$ps" "$stock" "$inject" "$pi" >"$KDRILL_TMP/list"
kd bisect --good "$ps" --bad "$pi" --kernels "$KDRILL_TMP/list" "${common[@]}" "$sc" \
	>"$KDRILL_TMP/b.out" 2>"$KDRILL_TMP/b.err"
rc=$?
cat "$KDRILL_TMP/b.err"
d=$out/$(awk '{print $3}' "$KDRILL_TMP/b.out")
[ $rc = 0 ] && [ "$(json "$d/bisect.json" .culprit.kernel)" = "$inject" ] ||
	fail "bisect: exit $rc, culprit $(json "$d/bisect.json" .culprit.kernel) (want $inject)"
echo "ok: bisect: $(json "$d/bisect.json" .reason)"
