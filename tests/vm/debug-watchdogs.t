#!/bin/bash
# A sanitizer/lockdep kernel gets 3x the watchdog timeouts (hung task, and the RCU stall
# and soft-lockup thresholds derived from it): such a kernel runs several times slower
# under TCG and the release timeouts report the slowness itself.  Checked on the QEMU
# command line of a run cut short by a 3 s boot timeout (INFRA), for build:debug
# (CONFIG_KASAN) and build:stock, with dio-invalidate's hung_task_timeout = 30.  Without
# --duration the run on build:debug is longer by what the scaling added (300 s + 60 s:
# a hang is reported as late into the run as on a release kernel); --duration is kept.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
kd kernel list >"$KDRILL_TMP/list" 2>&1
for ref in build:debug build:stock; do
	grep -q "^  $ref " "$KDRILL_TMP/list" ||
		{ echo "skip: $ref not built (make kernels KERNELS_DEBUG=1)"; exit 77; }
done
cmdline() { # REF -> the run's QEMU command line; stderr in $KDRILL_TMP/REF.err
	local out=$KDRILL_TMP/res-${1//:/_}
	kd run --kernel "$1" --out "$out" --boot-timeout 3 --duration 5 dio-invalidate \
		>/dev/null 2>"$KDRILL_TMP/${1//:/_}.err"
	cat "$out"/*/qemu.cmdline
}
d=$(cmdline build:debug)
s=$(cmdline build:stock)
grep -q "build:debug has CONFIG_KASAN: watchdog timeouts x3 (hung task 90 s)" "$KDRILL_TMP/build_debug.err" ||
	{ cat "$KDRILL_TMP/build_debug.err"; fail "no watchdog scaling message for build:debug"; }
grep -q "watchdog timeouts" "$KDRILL_TMP/build_stock.err" && fail "build:stock was scaled"
for want in "hung_task_timeout_secs=90" "hung_task_check_interval_secs=90" "rcu_cpu_stall_timeout=45" "watchdog_thresh=31"; do
	grep -q "$want" <<<"$d" || fail "build:debug: no $want in: $d"
done
for want in "hung_task_timeout_secs=30" "rcu_cpu_stall_timeout=15" "watchdog_thresh=10"; do
	grep -q "$want" <<<"$s" || fail "build:stock: no $want in: $s"
done
# the run length: the scenario's 300 s + (90 - 30) s on build:debug, as given with --duration
jq -e '.duration_planned_s == 5' "$KDRILL_TMP"/res-build_debug/*/verdict.json >/dev/null ||
	fail "build:debug --duration 5: the run was not 5 s"
out=$KDRILL_TMP/res-debug-default
kd run --kernel build:debug --out "$out" --boot-timeout 3 dio-invalidate >/dev/null 2>"$KDRILL_TMP/default.err"
grep -q "build:debug has CONFIG_KASAN: watchdog timeouts x3 (hung task 90 s), the run 300 s + 60 s" \
	"$KDRILL_TMP/default.err" || { cat "$KDRILL_TMP/default.err"; fail "no longer run on build:debug"; }
jq -e '.duration_planned_s == 360' "$out"/*/verdict.json >/dev/null ||
	fail "build:debug: planned $(jq .duration_planned_s "$out"/*/verdict.json) s, want 360"
echo "ok: build:debug hung task 90 s, RCU stall 45 s, watchdog 31 s, run 300 + 60 s; build:stock 30/15/10"
