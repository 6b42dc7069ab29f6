#!/bin/bash
# The systemd guest boots the Debian cloud kernel to "agent ready", systemd reports the
# boot finished, the agent's boot job powers the guest off: exit 0, PASS, console kept,
# timings recorded in vm.json; the firmware is qboot, with both CPUs and the ACPI power off.  (First run: kernel download + debootstrap, ~2 min.)
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

out=$KDRILL_TMP/boot
kd image build --kernel "$VM_KERNEL" || fail "image build exit $?"
kd vm boot --kernel "$VM_KERNEL" --out "$out" --timeout 240 >"$KDRILL_TMP/log" 2>&1
rc=$?
cat "$KDRILL_TMP/log"
[ $rc = 0 ] || { tail -n 30 "$out/console-ts.log"; fail "vm boot exit $rc"; }
grep -q '^verdict:  PASS' "$KDRILL_TMP/log" || fail "no PASS verdict"
[ "$(json "$out/vm.json" .end)" = poweroff ] || fail "end is not poweroff"
[ "$(json "$out/vm.json" .ready)" = true ] || fail "not ready"
[ "$(json "$out/vm.json" .qemu_status)" = 0 ] || fail "QEMU exit status"
[ "$(json "$out/vm.json" .job_status)" = 0 ] || fail "the agent's boot job did not report done/0"
[ "$(json "$out/vm.json" '.reports | length')" = 0 ] || fail "kernel reports during a clean boot"
t_ready=$(json "$out/vm.json" .t_ready)
t_system=$(json "$out/vm.json" .t_system)
awk -v r="$t_ready" -v s="$t_system" 'BEGIN { exit !(r > 0.5 && s >= r) }' || fail "timings t_ready=$t_ready t_system=$t_system"
grep -q 'Linux version 6\.1\.0-54-cloud-amd64' "$out/console.log" || fail "console.log lacks the kernel banner"
grep -q 'reboot: Power down' "$out/console.log" || fail "console.log lacks the power down"
grep -q 'kdrill: agent: {"type":"ready"' "$out/console-ts.log" || fail "no agent ready in console-ts.log"
grep -q -- '-device pvpanic' "$out/qemu.cmdline" || fail "no pvpanic"
grep -q -- '-device pvpanic-pci' "$out/qemu.cmdline" || fail "no pvpanic-pci"
# qboot when installed (qemu-system-data): ACPI tables passed on, both CPUs
if [ -r /usr/share/qemu/qboot.rom ]; then
	grep -q -- '-bios /usr/share/qemu/qboot.rom' "$out/qemu.cmdline" || fail "not booted under qboot"
fi
grep -q 'smp: Brought up 1 node, 2 CPUs' "$out/console.log" || fail "the guest did not get 2 CPUs"
grep -q 'snapshot=on' "$out/qemu.cmdline" || fail "root not snapshot=on"
echo "ok: agent ready at ${t_ready}s, system at ${t_system}s"
