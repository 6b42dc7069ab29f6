#!/bin/bash
# A reproducer proven on a kernel that has its bug: kvm/make-kernels builds the slim stock
# kernel and the kernel with one bug-injection patch (from the cache when built; on a fresh
# machine from linux-source-6.1), then the seed's scenario runs on both:
#  - inject:NNN -> a kernel verdict (BUG/HANG/WARN) whose report matches the scenario's
#    signature (match: true, the report's signature_match) with the injection's console
#    line in console.log, and the guest ran the injected release;
#  - build:stock -> PASS with reproducer counters > 0.
# Also: a ref that was never built is a usage error (exit 2) before anything boots.
# INJECT_CASE="NNN:scenario[:variant]:LINE" picks the case (LINE: an ERE the injected
# kernel's console must show).
# Skips (77) unless the slim stock tree is built (make kernel-tree; then only the one patch
# is rebuilt, incrementally) or KDRILL_BUILD_KERNEL=1 (builds everything first).
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
if [ "${KDRILL_BUILD_KERNEL-}" != 1 ] && ! "$KDRILL_TOP/kvm/build-kernel" --path >/dev/null; then
	echo "skip: the slim kernel is not built; build it with: make kernels (or KDRILL_BUILD_KERNEL=1 ./tests/run vm/inject)"
	exit 77
fi

IFS=: read -r nnn sc variant line <<<"${INJECT_CASE:-003:nfs-rotate:v3:NFS: Invalid unlock attempted}"
name=$sc${variant:+:$variant}
out=$KDRILL_TMP/res

t0=$(date +%s)
"$KDRILL_TOP/kvm/make-kernels" --only "$nnn" >"$KDRILL_TMP/make-kernels.log" 2>&1 ||
	{ tail -n 30 "$KDRILL_TMP/make-kernels.log"; fail "kvm/make-kernels --only $nnn failed"; }
grep -E 'built|reusing|make-kernels:' "$KDRILL_TMP/make-kernels.log"
echo "kernels ready in $(($(date +%s) - t0)) s"

# -- a kernel that was never built: usage error, nothing runs ---------------------------
kd run --kernel inject:999 --out "$out" "$name" >"$KDRILL_TMP/nobuild.log" 2>&1
rc=$?
[ $rc = 2 ] || { cat "$KDRILL_TMP/nobuild.log"; fail "inject:999: exit $rc, expected 2"; }
grep -q 'inject:999: not built (make kernels' "$KDRILL_TMP/nobuild.log" || fail "inject:999: message"
[ -z "$(ls -A "$out" 2>/dev/null)" ] || fail "inject:999: something ran"

# -- kernel list shows both --------------------------------------------------------------
kd kernel list >"$KDRILL_TMP/list" 2>&1 || fail "kernel list"
grep -Eq "^  build:stock +[0-9.]+-kdrill " "$KDRILL_TMP/list" || { cat "$KDRILL_TMP/list"; fail "kernel list: no build:stock"; }
grep -Eq "^  inject:$nnn-[a-z0-9-]+ +[0-9.]+-kdrill " "$KDRILL_TMP/list" || { cat "$KDRILL_TMP/list"; fail "kernel list: no inject:$nnn"; }

# -- the injected kernel: the scenario finds its bug --------------------------------------
kd run --kernel "inject:$nnn" --out "$out" --boot-timeout 300 "$name" >"$KDRILL_TMP/inject.log" 2>&1
rc=$?
grep -v '^  \[vm\]' "$KDRILL_TMP/inject.log"
v=$(ls -d "$out"/*-"$sc"*/ | tail -n 1)
[ -n "$v" ] || fail "inject: no run dir"
verdict=$(json "$v/verdict.json" .verdict)
case "$verdict" in BUG | HANG | WARN) ;; *) fail "inject:$nnn: verdict $verdict: $(json "$v/verdict.json" .reason)" ;; esac
[ $rc = 1 ] || fail "inject:$nnn: exit $rc"
[ "$(json "$v/verdict.json" .match)" = true ] || fail "inject:$nnn: $verdict does not match the signature: $(json "$v/verdict.json" .reason)"
json "$v/verdict.json" '[.reports[] | select(.signature_match)] | length' | grep -qv '^0$' ||
	fail "inject:$nnn: no report with signature_match"
grep -Eq "$line" "$v/console.log" || fail "inject:$nnn: console has no '$line'"
json "$v/verdict.json" .kernel.release | grep -q -- '-kdrill$' || fail "inject:$nnn: not a kdrill build"
echo "inject:$nnn: $verdict match ($(json "$v/verdict.json" '.reports[] | select(.signature_match) | .title' | head -n 1)) after $(json "$v/verdict.json" .duration_s) s"
mv "$v" "$KDRILL_TMP/run-inject"

# -- the stock kernel it was built from: PASS ---------------------------------------------
kd run --kernel build:stock --out "$out" --boot-timeout 300 --duration 30 "$name" >"$KDRILL_TMP/stock.log" 2>&1
rc=$?
grep -v '^  \[vm\]' "$KDRILL_TMP/stock.log"
v=$(ls -d "$out"/*-"$sc"*/ | tail -n 1)
[ "$(json "$v/verdict.json" .verdict)" = PASS ] ||
	fail "build:stock: verdict $(json "$v/verdict.json" .verdict): $(json "$v/verdict.json" .reason)"
[ $rc = 0 ] || fail "build:stock: exit $rc"
[ "$(json "$v/verdict.json" .counters.ops)" -gt 0 ] 2>/dev/null || fail "build:stock: no work done"
grep -Eq "$line" "$v/console.log" && fail "build:stock: the injection's line on stock"
echo ok
