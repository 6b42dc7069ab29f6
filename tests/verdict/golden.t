#!/bin/bash
# verdict.json's shape (schema kdrill-verdict/1) pinned by golden files, for the host
# runner (kdrill run --host with recorded consoles replayed through its detector) and for
# a VM run (the host's merge of the console's reports, the VM's end and the guest
# runner's verdict.json, driven by kdverdict with recorded inputs: no QEMU needed for
# the merge itself).  Values that change from run to run (ids, times, paths, the host's
# kernel, cgroup paths) are normalised; everything else must match byte for byte.
#   KDRILL_GOLDEN_UPDATE=1 tests/run verdict/golden   rewrites the golden files
. "$KDRILL_TOP/tests/runner/lib.sh"
run_require
fx=$KDRILL_TOP/tests/detect/fixtures
gold=$KDRILL_TOP/tests/verdict/golden
sc=$KDRILL_TOP/tests/verdict/golden.ini
KV=$KDRILL_BIN/kdverdict
[ -x "$KV" ] || { echo "skip: $KV not built (make extra)"; exit 77; }
mkdir -p "$gold"

norm() {
	jq -S --arg tmp "$KDRILL_TMP" '
	  (if .reason then .reason |= (gsub($tmp; "TMP") | sub("no kernel report in [0-9]+s"; "no kernel report in Ns")) else . end)
	| (if has("run_id") then .run_id = "RUN-ID" else . end)
	| (if has("dir") then .dir = "RUN-DIR" else . end)
	| (if .started then .started = "STARTED" else . end)
	| (if .duration_s then .duration_s = "DURATION" else . end)
	| (if .load_started_s then .load_started_s = "T" else . end)
	| (if .time_to_report_s then .time_to_report_s = "T" else . end)
	| (if .time_to_report_host_s then .time_to_report_host_s = "T" else . end)
	| (if .seed then .seed = "SEED" else . end)
	| (if .rand_seed then .rand_seed = "SEED" else . end)
	| (if .scenario_file then .scenario_file |= sub(".*/"; "") else . end)
	| (if .cgroup_backend then .cgroup_backend = "BACKEND" else . end)
	| (if .mode == "host" then .kernel = "HOST-KERNEL" else . end)
	| (if .counters.kmsg_kernel_records then .counters.kmsg_kernel_records = "N" else . end)
	| (if .slices then .slices |= map(.path = "CG" | (if .memory_peak then .memory_peak = "N" else . end)) else . end)'
}

bad=0
check() { # NAME FILE
	local name=$1 got=$KDRILL_TMP/$1.json
	norm <"$2" >"$got" || fail "$name: not JSON"
	if [ "${KDRILL_GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$got" "$gold/$name.json"
		echo "updated $name"
		return
	fi
	[ -f "$gold/$name.json" ] || fail "$name: no golden file"
	if ! diff -u "$gold/$name.json" "$got"; then
		echo "FAIL: $name: verdict.json differs from tests/verdict/golden/$name.json"
		bad=$((bad + 1))
		return
	fi
	echo "ok $name: $(jq -r '.verdict + " " + (.match|tostring) + " — " + .reason' "$got")"
}

head -n 387 "$fx/real-warn.log" >"$KDRILL_TMP/warn-only.log"
host() { # NAME ARGS...
	local name=$1
	shift
	kd_run --no-kmsg --rand-seed 7 "$@" "$sc"
	check "$name" "$RUN_DIR/verdict.json"
	cp "$RUN_DIR/verdict.json" "$KDRILL_TMP/$name.verdict.json"
}
host host-bug --replay-console "$fx/real-bug.log"
host host-bug-nomatch --replay-console "$fx/real-bug.log" --param sig=no-such-title
host host-hang --replay-kmsg "$fx/real-hung-kmsg.kmsg" --param sig=no-such-title
host host-warn --replay-console "$KDRILL_TMP/warn-only.log"
host host-pass-allowed --replay-console "$KDRILL_TMP/warn-only.log" --param allow=kdtrig
host host-pass --replay-console "$fx/real-boot.log"
host host-infra --replay-console "$KDRILL_TMP/no-such-file"

# VM: the guest runner's verdict.json is a host-mode one with mode "vm" and no kernel log
jq '.mode = "vm" | .kernel = {"release": "6.1.0-54-cloud-amd64", "version": "#1 SMP", "machine": "x86_64"} | del(.files.console)' \
	"$KDRILL_TMP/host-pass.verdict.json" >"$KDRILL_TMP/guest-pass.json"
jq '.verdict = "ANOMALY" | .exit_code = 1 | .reason = "reproducer anomaly: idle-0" | .reproducers[0].anomaly = true' \
	"$KDRILL_TMP/guest-pass.json" >"$KDRILL_TMP/guest-anomaly.json"
jq '.verdict = "INFRA" | .exit_code = 125 | .reason = "mount -t ext4 /dev/vdb /mnt failed"' \
	"$KDRILL_TMP/guest-pass.json" >"$KDRILL_TMP/guest-infra.json"
vm() { # NAME ARGS...
	local name=$1
	shift
	"$KV" vm-merge "$sc" "$@" >"$KDRILL_TMP/$name.raw" || fail "$name: kdverdict failed"
	check "$name" "$KDRILL_TMP/$name.raw"
}
vm vm-pass --console "$fx/real-boot.log" --end poweroff --ready --guest "$KDRILL_TMP/guest-pass.json" --done 0 --files complete --end-reason "guest powered off"
vm vm-pass-allowed --param allow=kdtrig --console "$KDRILL_TMP/warn-only.log" --end poweroff --ready --guest "$KDRILL_TMP/guest-pass.json" --done 0 --files complete --end-reason "guest powered off"
vm vm-warn --console "$KDRILL_TMP/warn-only.log" --end poweroff --ready --guest "$KDRILL_TMP/guest-pass.json" --done 0 --files complete --end-reason "guest powered off"
vm vm-anomaly --console "$fx/real-boot.log" --end poweroff --ready --guest "$KDRILL_TMP/guest-anomaly.json" --done 1 --files complete --end-reason "guest powered off"
vm vm-guest-infra --console "$fx/real-boot.log" --end poweroff --ready --guest "$KDRILL_TMP/guest-infra.json" --done 125 --files complete --end-reason "guest powered off"
vm vm-panic --console "$fx/real-crash.log" --end panic --ready --end-reason "kernel panic: sysrq triggered crash"
# a panic that matches: the time to report on the guest's clock (the clock of the
# scenario's duration; load at 20 s, report at 26 s of the runner's), and on the host's
# (load at 40 s, report at 52.5 s: the guest's clock at ~0.5 of the host's)
vm vm-panic-match --param sig='sysrq triggered crash' --console "$fx/real-crash.log" --end panic --ready --end-reason "kernel panic: sysrq triggered crash" --t-load 40 --t-match 52.5 --g-load 20 --g-match 26
jq -e '.match == true and .time_to_report_s == 6 and .time_to_report_host_s == 12.5 and .time_to_report_from == "console"' "$KDRILL_TMP/vm-panic-match.raw" >/dev/null ||
	fail "vm-panic-match: $(jq -c '[.match, .time_to_report_s, .time_to_report_host_s, .time_to_report_from]' "$KDRILL_TMP/vm-panic-match.raw"), want [true,6,12.5,\"console\"]"
# no load start heard (the kernel died first): no time, the workflows bound it by the run
"$KV" vm-merge "$sc" --param sig='sysrq triggered crash' --console "$fx/real-crash.log" --end panic --ready --end-reason "kernel panic" --t-match 52.5 --g-match 26 >"$KDRILL_TMP/panic-noload.raw"
jq -e '.match == true and (has("time_to_report_s") or has("time_to_report_host_s") | not)' "$KDRILL_TMP/panic-noload.raw" >/dev/null ||
	fail "panic without a load start: $(jq -c '[.match, .time_to_report_s, .time_to_report_host_s]' "$KDRILL_TMP/panic-noload.raw")"
# a panic that does not match gets no time, whatever the clocks say
"$KV" vm-merge "$sc" --console "$fx/real-crash.log" --end panic --ready --end-reason "kernel panic" --t-load 40 --t-match 52.5 --g-load 20 --g-match 26 >"$KDRILL_TMP/panic-other.raw"
jq -e '.match == false and (has("time_to_report_s") or has("time_to_report_host_s") | not)' "$KDRILL_TMP/panic-other.raw" >/dev/null ||
	fail "a panic that does not match: $(jq -c '[.match, .time_to_report_s, .time_to_report_host_s]' "$KDRILL_TMP/panic-other.raw")"
vm vm-panic-noreport --end panic --ready --end-reason "guest panicked (GUEST_PANICKED)"
vm vm-hang --param sig=no-such-title --console "$fx/real-hung.log" --end hang --ready --files partial --end-reason "hang report: INFO: task hung"
vm vm-hang-heartbeat --console "$fx/real-boot.log" --end hang --ready --end-reason "no heartbeat for 50 s"
vm vm-qemu-died --console "$fx/real-boot.log" --end qemu-died --ready --end-reason "QEMU exited (status 137) without a guest poweroff"
vm vm-no-boot --end no-boot --end-reason "the agent was not ready within 300 s"
vm vm-poweroff-noresult --console "$fx/real-boot.log" --end poweroff --ready --done-error "results disk: No such device" --end-reason "guest powered off"
# the same situation gives the same reason text on the host and in a VM
for k in hang warn pass pass-allowed; do
	h=$(jq -r .reason "$KDRILL_TMP/host-$k.json") v=$(jq -r .reason "$KDRILL_TMP/vm-$k.json")
	[ "$h" = "$v" ] || { echo "FAIL: host-$k '$h' vs vm-$k '$v'"; bad=$((bad + 1)); }
done
[ "$bad" = 0 ] || fail "$bad verdict.json shapes differ from their golden files"
echo "verdict.json pinned: 7 host shapes, 13 VM shapes"
