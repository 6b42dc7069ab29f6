#!/bin/bash
# needs_config is checked against the kernel's config before booting: a kernel that lacks
# an option the scenario needs cannot test it (exit 125, the missing option named, no VM
# booted, no result directory); the options it has are not reported.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
out=$KDRILL_TMP/res
t0=$SECONDS
kd run --kernel "$VM_KERNEL" --out "$out" "$KDRILL_TOP/tests/vm/fixtures/needs-config.ini" >"$KDRILL_TMP/log" 2>&1
rc=$?
cat "$KDRILL_TMP/log"
[ "$rc" = 125 ] || fail "exit $rc, expected 125"
grep -q "needs-config: cannot test on $VM_KERNEL: the kernel lacks CONFIG_KDRILL_NO_SUCH_OPTION (needs_config" "$KDRILL_TMP/log" ||
	fail "no message naming the missing option"
grep -q CONFIG_EXT4_FS "$KDRILL_TMP/log" && fail "CONFIG_EXT4_FS reported missing"
grep -q 'booting' "$KDRILL_TMP/log" && fail "a VM was booted"
[ -z "$(ls -A "$out" 2>/dev/null)" ] || fail "result files written: $(ls "$out")"
echo "refused before booting in $((SECONDS - t0)) s"
