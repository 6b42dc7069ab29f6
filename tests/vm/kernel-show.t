#!/bin/bash
# kdrill kernel fetch/show on the Debian cloud kernel: the config report is right
# (EXT4_FS built in, VIRTIO_BLK a module), the cache is keyed by package version, and
# unusable refs (random bytes, an ELF file, a truncated bzImage, a missing file, an
# unknown scheme) are refused with a clear message and exit 125 (a malformed ref: 2).
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

out=$KDRILL_TMP/show.txt
kd kernel show "$VM_KERNEL" >"$out" 2>&1 || { cat "$out"; fail "kernel show exit $?"; }
cat "$out"
grep -Eq '^  CONFIG_EXT4_FS +y$' "$out" || fail "CONFIG_EXT4_FS should be y"
grep -Eq '^  CONFIG_VIRTIO_BLK +m$' "$out" || fail "CONFIG_VIRTIO_BLK should be m"
grep -Eq '^  CONFIG_MAGIC_SYSRQ_SERIAL +y$' "$out" || fail "CONFIG_MAGIC_SYSRQ_SERIAL should be y"
grep -Eq '^release: +6\.1\.0-54-cloud-amd64$' "$out" || fail "release"
grep -Eq '^key: +deb-6\.1\.0-54-cloud-amd64_6\.1\.[0-9]+-[0-9]+$' "$out" || fail "cache key carries the package version"
grep -Eq '^summary: .* 0 missing \(0 fatal\)' "$out" || fail "summary"
kd kernel list | grep -q "$VM_KERNEL" || fail "kernel list does not show $VM_KERNEL"

# the same bzImage without modules: virtio is modular, so those options are missing, fatally
vmlinuz=$(sed -n 's/^vmlinuz: *//p' "$out")
KDRILL_CACHE=$KDRILL_TMP/cache kd kernel show "path:$vmlinuz" >"$out" 2>&1 || fail "path: show exit $?"
grep -Eq '^  CONFIG_VIRTIO_BLK +m, but no modules: MISSING +-> FATAL: ' "$out" || { cat "$out"; fail "missing virtio_blk not flagged"; }

# unusable refs: exit 125 and a message that says what is wrong
head -c 100000 /dev/urandom >"$KDRILL_TMP/garbage"
head -c 30000 "$vmlinuz" >"$KDRILL_TMP/truncated"
check() { # REF EXPECTED-MESSAGE-REGEX [EXIT]
	local rc
	KDRILL_CACHE=$KDRILL_TMP/cache kd kernel show "$1" >"$KDRILL_TMP/err" 2>&1
	rc=$?
	cat "$KDRILL_TMP/err"
	[ $rc = "${3:-125}" ] || fail "$1: exit $rc, expected ${3:-125}"
	grep -Eq "$2" "$KDRILL_TMP/err" || fail "$1: message does not match /$2/"
}
check "path:$KDRILL_TMP/garbage" 'not an x86 kernel image \(no boot sector signature'
check "path:$KDRILL_BIN/kdrill" 'an ELF file \(vmlinux\?\), not a bootable bzImage'
check "path:$KDRILL_TMP/truncated" 'truncated bzImage'
check "path:$KDRILL_TMP/nonexistent" 'No such file or directory'
check "tree:$KDRILL_TMP" 'no arch/x86/boot/bzImage'
check "ftp:foo" 'unknown kernel ref' 2
echo "ok"
