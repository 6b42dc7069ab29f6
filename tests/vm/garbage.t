#!/bin/bash
# Garbage kernel files never reach QEMU: a clear message and exit 125 from vm boot.
# A kernel that passes the header checks but cannot boot (a bzImage whose payload is
# zeroed) ends as INFRA with console.log kept.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

head -c 2000000 /dev/urandom >"$KDRILL_TMP/garbage"
kd vm boot --kernel "path:$KDRILL_TMP/garbage" --out "$KDRILL_TMP/g" >"$KDRILL_TMP/log" 2>&1
rc=$?
cat "$KDRILL_TMP/log"
[ $rc = 125 ] || fail "garbage: exit $rc, expected 125"
grep -q 'not an x86 kernel image (no boot sector signature 55 AA at 0x1fe)' "$KDRILL_TMP/log" || fail "garbage: message"

# the Debian bzImage with its compressed payload zeroed: the header is valid, the kernel
# never prints anything; QEMU (-no-reboot) exits on the triple fault or the boot times out
vmlinuz=$(kd kernel fetch "$VM_KERNEL" | awk '{print $3}')/boot/vmlinuz-6.1.0-54-cloud-amd64
[ -f "$vmlinuz" ] || fail "no $vmlinuz"
cp "$vmlinuz" "$KDRILL_TMP/zeroed"
size=$(stat -c %s "$KDRILL_TMP/zeroed")
dd if=/dev/zero of="$KDRILL_TMP/zeroed" bs=4096 seek=10 count=$(((size - 81920) / 4096)) conv=notrunc status=none
# (a private cache: path: refs of throw-away files must not pile up in ~/.cache/kdrill)
KDRILL_CACHE=$KDRILL_TMP/cache kd vm boot --kernel "path:$KDRILL_TMP/zeroed" --busybox --out "$KDRILL_TMP/z" --timeout 20 >"$KDRILL_TMP/log" 2>&1
rc=$?
cat "$KDRILL_TMP/log"
[ $rc = 125 ] || fail "zeroed: exit $rc, expected 125"
grep -Eq '^verdict:  INFRA: ' "$KDRILL_TMP/log" || fail "zeroed: verdict"
[ -f "$KDRILL_TMP/z/console.log" ] || fail "zeroed: console.log not kept"
echo ok
