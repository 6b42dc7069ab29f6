#!/bin/bash
# Reproducers proven on kernels that have their bug: kvm/make-kernels builds the slim stock
# kernel and one kernel per bug-injection patch, then each seed's scenario runs on both:
#  - inject:NNN -> a kernel verdict (BUG/HANG/WARN) whose report matches the scenario's
#    signature (match: true, the report's signature_match) with the injection's console
#    line in console.log, its time to report on the guest's clock, and the guest ran
#    the injected release;
#  - build:stock -> PASS with reproducer counters > 0 and without that line, and the
#    guest's clock rate measured (verdict.json vm.guest_clock_rate).
# Cases (INJECT_CASES overrides, one per line: "NNN:scenario:variant:LINE", LINE an ERE the
# injected kernel's console must show):
#  003 nfs-rotate:v3            NFS: Invalid unlock attempted
#  000 aio-dio-unlink:eviction  kernel BUG at fs/ext4/page-io.c (ext4_init_io_end)
#  004 dio-invalidate:ordered   refcount underflow (libaio) / io_uring/refs.h (io_uring), or
#                               a HANG of the corrupted io_uring request (a soft lockup in
#                               io_req_complete_post, an RCU stall in io_cqring_event_overflow;
#                               3 in 20 runs), known by that completion frame in its stack
# Each injected run is bounded by --duration $INJECT_DURATION (default 180 s; they fire in
# 25-110 s on a loaded TCG host), each stock run by --duration 30.
# Also: a ref that was never built is a usage error (exit 2) before anything boots.
# A case runs when its kernel is published with the current patch (kernels_current), or
# with KDRILL_BUILD_KERNEL=1 (kvm/make-kernels --only NNN, incremental on the slim tree);
# skips (77) when no case can run.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
DEFAULT_CASES='003:nfs-rotate:v3:NFS: Invalid unlock attempted
000:aio-dio-unlink:eviction:kernel BUG at fs/ext4/page-io\.c
004:dio-invalidate:ordered:(refcount_t: underflow|io_uring/refs\.h|(io_req_complete_post|io_cqring_event_overflow)\+0x)'
CASES=${INJECT_CASES:-${INJECT_CASE:-$DEFAULT_CASES}}
DUR=${INJECT_DURATION:-180}
out=$KDRILL_TMP/res

cases=() missing=()
while IFS= read -r c; do
	[ -n "$c" ] || continue
	nnn=${c%%:*}
	if kernels_current "$nnn"; then
		cases+=("$c")
	elif [ "${KDRILL_BUILD_KERNEL-}" = 1 ]; then
		"$KDRILL_TOP/kvm/make-kernels" --only "$nnn" >"$KDRILL_TMP/make-kernels-$nnn.log" 2>&1 ||
			{ tail -n 30 "$KDRILL_TMP/make-kernels-$nnn.log"; fail "kvm/make-kernels --only $nnn failed"; }
		cases+=("$c")
	else
		missing+=("$nnn")
	fi
done <<<"$CASES"
for nnn in "${missing[@]}"; do
	echo "inject:$nnn not built (or its patch changed): kvm/make-kernels --only $nnn (or KDRILL_BUILD_KERNEL=1)"
done
if [ "${#cases[@]}" = 0 ]; then
	echo "skip: no injected kernel built; build them with: make kernels (or KDRILL_BUILD_KERNEL=1 ./tests/run vm/inject)"
	exit 77
fi

# -- a kernel that was never built: usage error, nothing runs ---------------------------
kd run --kernel inject:999 --out "$out" nfs-rotate:v3 >"$KDRILL_TMP/nobuild.log" 2>&1
rc=$?
[ $rc = 2 ] || { cat "$KDRILL_TMP/nobuild.log"; fail "inject:999: exit $rc, expected 2"; }
grep -q 'inject:999: not built (make kernels' "$KDRILL_TMP/nobuild.log" || fail "inject:999: message"
[ -z "$(ls -A "$out" 2>/dev/null)" ] || fail "inject:999: something ran"

kd kernel list >"$KDRILL_TMP/list" 2>&1 || fail "kernel list"
grep -Eq "^  build:stock +[0-9.]+-kdrill " "$KDRILL_TMP/list" || { cat "$KDRILL_TMP/list"; fail "kernel list: no build:stock"; }

for c in "${cases[@]}"; do
	IFS=: read -r nnn sc variant line <<<"$c"
	name=$sc${variant:+:$variant}
	grep -Eq "^  inject:$nnn-[a-z0-9-]+ +[0-9.]+-kdrill " "$KDRILL_TMP/list" ||
		{ cat "$KDRILL_TMP/list"; fail "kernel list: no inject:$nnn"; }

	# -- the injected kernel: the scenario finds its bug ------------------------------
	t0=$(date +%s)
	kd run --kernel "inject:$nnn" --out "$out" --boot-timeout 300 --duration "$DUR" "$name" \
		>"$KDRILL_TMP/inject-$nnn.log" 2>&1
	rc=$?
	grep -v '^  \[vm\]' "$KDRILL_TMP/inject-$nnn.log"
	v=$(ls -td "$out"/*-"$sc"*/ 2>/dev/null | head -n 1)
	[ -n "$v" ] || fail "inject:$nnn: no run dir"
	verdict=$(json "$v/verdict.json" .verdict)
	case "$verdict" in BUG | HANG | WARN) ;; *) fail "inject:$nnn $name: verdict $verdict: $(json "$v/verdict.json" .reason)" ;; esac
	[ $rc = 1 ] || fail "inject:$nnn: exit $rc"
	[ "$(json "$v/verdict.json" .match)" = true ] ||
		fail "inject:$nnn: $verdict does not match the signature: $(json "$v/verdict.json" .reason)"
	json "$v/verdict.json" '[.reports[] | select(.signature_match)] | length' | grep -qv '^0$' ||
		fail "inject:$nnn: no report with signature_match"
	grep -Eq "$line" "$v/console.log" || fail "inject:$nnn: console has no '$line'"
	# the time to report on the guest's clock, placed by the host: present, and no longer
	# than the same interval on the host's clock (the guest's clock does not run faster)
	json "$v/verdict.json" '.time_to_report_s != null and .time_to_report_host_s != null
	  and .time_to_report_s <= .time_to_report_host_s * 1.1 + 1' | grep -qx true ||
		fail "inject:$nnn: time to report $(json "$v/verdict.json" '[.time_to_report_s, .time_to_report_host_s, .time_to_report_from]')"
	json "$v/verdict.json" .kernel.release | grep -q -- '-kdrill$' || fail "inject:$nnn: not a kdrill build"
	echo "inject:$nnn $name: $verdict match ($(json "$v/verdict.json" '.reports[] | select(.signature_match) | .title' | head -n 1)) after $(json "$v/verdict.json" .duration_s) s (test wall $(($(date +%s) - t0)) s)"
	mv "$v" "$KDRILL_TMP/run-inject-$nnn"

	# -- the stock kernel it was built from: PASS -------------------------------------
	kd run --kernel build:stock --out "$out" --boot-timeout 300 --duration 30 "$name" >"$KDRILL_TMP/stock-$nnn.log" 2>&1
	rc=$?
	grep -v '^  \[vm\]' "$KDRILL_TMP/stock-$nnn.log"
	v=$(ls -td "$out"/*-"$sc"*/ 2>/dev/null | head -n 1)
	[ -n "$v" ] || fail "build:stock $name: no run dir"
	[ "$(json "$v/verdict.json" .verdict)" = PASS ] ||
		fail "build:stock $name: verdict $(json "$v/verdict.json" .verdict): $(json "$v/verdict.json" .reason)"
	[ $rc = 0 ] || fail "build:stock $name: exit $rc"
	[ "$(json "$v/verdict.json" .counters.ops)" -gt 0 ] 2>/dev/null || fail "build:stock $name: no work done"
	grep -Eq "$line" "$v/console.log" && fail "build:stock $name: the injection's line on stock"
	# 30 s of the runner's progress: the guest's clock rate, which the run timeout used
	rate=$(json "$v/verdict.json" .vm.guest_clock_rate)
	awk -v r="$rate" 'BEGIN { exit !(r > 0.05 && r < 1.5) }' ||
		fail "build:stock $name: vm.guest_clock_rate '$rate'"
	mv "$v" "$KDRILL_TMP/run-stock-$nnn"
done
echo "ok: ${#cases[@]} injected kernels found by their scenarios, stock PASS${missing[*]:+ (not built: ${missing[*]})}"
