#!/bin/bash
# kdrill on a real local LAVA instance (kvm/lava/lava-lab: lava-server + PostgreSQL +
# lava-worker from Debian's packages, one QEMU device, TCG here).  Two jobs on the Debian
# cloud kernel: dio-unwritten + memcg-oom-jbd2 in host mode on the device (LAVA results
# per scenario: pass, with the ops measurement), and crash-selftest, whose device panics
# (the job ends Incomplete; kdrill lava collect must say BUG with the panic's title from
# LAVA's own log, not "job incomplete").  Then the verdicts go into a matrix store and
# kdrill report shows them.  ~6 min on an idle 2-core machine (TCG boots, 3 scenarios).
# Skips when the LAVA packages are not installed: make check-lava installs them.
set -euo pipefail
top=${KDRILL_TOP:?}
bin=${KDRILL_BIN:?}
T=${KDRILL_TMP:?}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
K=debian:6.1.0-54-cloud-amd64
for p in lava-server lava-dispatcher lavacli postgresql; do
	if [ "$(dpkg-query -W -f='${db:Status-Status}' $p 2>/dev/null)" != installed ]; then
		echo "skip: LAVA is not installed ($p): 'make check-lava' installs the lava group of mk/packages.txt"
		exit 77
	fi
done
[ "$(id -u)" = 0 ] || { echo "skip: needs root (LAVA services)"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

was_up=0
"$top/kvm/lava/lava-lab" status >/dev/null 2>&1 && was_up=1
[ $was_up = 1 ] || trap '"$top/kvm/lava/lava-lab" down || true' EXIT
timeout 300 "$top/kvm/lava/lava-lab" up

# the release build goes into the device's image, as for VM runs
export KDRILL_GUEST_BIN=${KDRILL_RELBIN:?}
submit() { # OUTDIR SCENARIO... -> job id on stdout
	local out=$1
	shift
	"$bin/kdrill" lava job --kernel $K --duration 10 --out "$out" --submit "$@" |
		sed -n 's/^submitted: job \([0-9]*\)$/\1/p'
}
a=$(submit "$T/jobs" dio-unwritten memcg-oom-jbd2)
b=$(submit "$T/jobs" crash-selftest)
[ -n "$a" ] && [ -n "$b" ] || fail "submission gave no job id ($a/$b)"
echo "jobs: $a (two scenarios), $b (panic)"

# wait for LAVA to finish both (bounded; the device runs one job at a time).  lavacli's
# output is read whole: a grep -q that closes the pipe early makes it fail.
show() { lavacli -i kdrill jobs show "$1" 2>&1 || true; }
for j in "$a" "$b"; do
	for _ in $(seq 1 240); do
		grep -q 'state *: Finished' <<<"$(show "$j")" && break
		sleep 5
	done
	grep -q 'state *: Finished' <<<"$(show "$j")" || fail "job $j did not finish in 20 min"
done
grep -q 'Health *: Complete' <<<"$(show "$a")" || fail "job $a: not Complete"
res=$(lavacli -i kdrill results "$a")
echo "$res"
grep -q '0_kdrill.dio-unwritten \[pass\]' <<<"$res" || fail "LAVA: dio-unwritten not pass"
grep -q '0_kdrill.memcg-oom-jbd2 \[pass\]' <<<"$res" || fail "LAVA: memcg-oom-jbd2 not pass"
grep -q '0_kdrill.dio-unwritten.ops \[pass\]' <<<"$res" || fail "LAVA: no ops measurement"
grep -q 'Health *: Incomplete' <<<"$(show "$b")" || fail "job $b: the panic did not end the job"

# back into kdrill's results: exit 1 (a BUG), one run directory per scenario
rc=0
"$bin/kdrill" lava collect --out "$T/res" "$a" "$b" || rc=$?
[ $rc = 1 ] || fail "collect: exit $rc, want 1 (the crash-selftest BUG)"
v() { jq -r "$2" "$T/res/lava-$1/verdict.json"; }
[ "$(v "$a-dio-unwritten" .verdict)" = PASS ] || fail "dio-unwritten: $(v "$a-dio-unwritten" .reason)"
[ "$(v "$a-dio-unwritten" '.counters.ops > 0')" = true ] || fail "dio-unwritten did no work"
[ "$(v "$a-dio-unwritten" .lava.source)" = "verdict.json from the device" ] || fail "dio-unwritten: verdict.json did not come back whole"
[ "$(v "$a-memcg-oom-jbd2" .verdict)" = PASS ] || fail "memcg-oom-jbd2: $(v "$a-memcg-oom-jbd2" .reason)"
[ "$(v "$b-crash-selftest" .verdict)" = BUG ] || fail "crash-selftest: $(v "$b-crash-selftest" .reason)"
[ "$(v "$b-crash-selftest" .match)" = true ] || fail "crash-selftest: the panic does not match the signature"
v "$b-crash-selftest" .reason | grep -q '^kernel panic: sysrq triggered crash' || fail "crash-selftest reason: $(v "$b-crash-selftest" .reason)"
grep -q 'Kernel panic - not syncing' "$T/res/lava-$b-crash-selftest/console.log" || fail "no console kept"

# into a matrix store, and the report shows the LAVA cells like local ones
cat >"$T/plan.ini" <<PLAN
[matrix]
name = lava-lab
runs = 1
duration = 10
[kernels]
kernel = $K
[scenarios]
scenario = dio-unwritten
scenario = memcg-oom-jbd2
scenario = crash-selftest
PLAN
"$bin/kdrill" matrix --ingest --kernel $K --store "$T/store" --night lava "$T/plan.ini" "$T/res"/lava-* >/dev/null
"$bin/kdrill" report --out "$T/report" "$T/store" >"$T/report.txt" || true
cat "$T/report.txt"
[ -s "$T/report/index.html" ] || fail "no report page"
grep -q 'crash-selftest' "$T/report/index.html" || fail "report lacks crash-selftest"
grep -q 'sysrq triggered crash' "$T/report/index.html" || fail "report lacks the panic title"

# the same plan as LAVA jobs: one job per kernel and run, crash-selftest in its own job
"$bin/kdrill" lava job --plan "$T/plan.ini" --out "$T/planjobs" >"$T/planjobs.txt"
[ "$(wc -l <"$T/planjobs.txt")" = 2 ] || fail "plan: want 2 jobs, got: $(cat "$T/planjobs.txt")"
grep -q 'kdrill lava dut --duration 10 dio-unwritten memcg-oom-jbd2"' "$T"/planjobs/*.yaml || fail "plan: no two-scenario job"
grep -q 'kdrill lava dut --duration 10 crash-selftest"' "$T"/planjobs/*.yaml || fail "plan: crash-selftest not alone"
echo "ok: LAVA jobs $a and $b collected and reported"
