#!/bin/bash
# Regenerate the REAL console fixtures of the detector by booting a Debian
# kernel under QEMU (TCG) with a busybox initramfs, one boot per scenario.
# Not run by `make check`.  Needs root (apt-get download, dpkg-deb), gcc,
# busybox-static, qemu-system-x86, dmsetup and e2fsprogs on the host.
#
#   tests/detect/capture/capture.sh [SCENARIO...]      (default: all)
#   LAB=/tmp/h3lab  work dir (kernel, headers, initramfs, raw logs)
#   OUT=tests/detect/fixtures  where real-<scenario>.log goes
#
# Scenarios: boot oom hung hungfreeze fserr sysrqw crash warn null bug spin
# Each writes real-<scenario>.log (the serial console, byte for byte: CR/LF
# as the 8250 driver sends it) and, for some, real-<scenario>.kmsg (the
# /dev/kmsg records of the same boot, written to a second serial port).
#
# NFS: nfs-outage nfs-outage-soft.  The busybox initramfs has no NFS server, so
# these are kdrill's own VM runs (systemd guest with nfs-kernel-server, loopback
# export, `make all` first):  kdrill run --kernel debian:$KVER nfs-outage:hard|soft
# (harness/scenarios/nfs-outage.ini: fio writers on NFSv3, rpc.nfsd 0 for 20 s).
# real-nfs-outage{,-soft}.log is that run's console.log, whole.  Only these:
#   tests/detect/capture/capture.sh nfs-outage nfs-outage-soft
# Debug-kernel reports: kasan-uaf kasan-oob lockdep list-del odebug-work atomic-sleep
# kasan-double-free bad-unlock held-lock-freed rcu-usage recursive-read lock-held-return
# irq-inconsistent (kdtrig.c says what each does).
# They need the debug flavor of the slim kdrill kernel (kvm/debug.config; `make kernels
# KERNELS_DEBUG=1`), booted from its bzImage with the same initramfs, kdtrig.ko built
# against its object tree:
#   KBZ=~/.cache/kdrill/kbuild/refs/debug/bzImage \
#   KTREE=~/.cache/kdrill/kbuild/debug-<version>-<key> (the object tree, with Module.symvers)
#   tests/detect/capture/capture.sh boot kasan-uaf ...  -> real-debug-<scenario>.log
# A debug report's fixture is the excerpt from the end of the boot to the power-off
# (byte for byte); `boot` keeps the whole boot of the debug kernel (it must yield nothing).
# After a capture, compare the .expect files with tests/detect/mkexpect and fix
# the line numbers and counts they assert (they change from run to run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
LAB=${LAB:-/tmp/h3lab}
OUT=${OUT:-$top/tests/detect/fixtures}
K=${KVER:-6.1.0-54-cloud-amd64}
mkdir -p "$LAB" "$OUT"
cd "$LAB"

# 0. NFS fixtures from kdrill's VM mode (no kernel download or initramfs needed)
capture_nfs() { # fixture-name scenario[:variant]
	local name=$1 sc=$2 json dir
	echo "capture: $name (kdrill run --kernel debian:$K $sc)"
	json=$("$top/bin/kdrill" run --kernel "debian:$K" --out "$LAB/results" --quiet --json "$sc") || true
	dir=$(jq -r '.dir // empty' <<<"$json" | tail -1)
	if [ -z "$dir" ] || [ ! -s "$dir/console.log" ]; then
		echo "capture: $name: no console.log ($json)" >&2
		return 1
	fi
	if [ "$(jq -r .verdict <<<"$json")" != PASS ] || ! grep -q 'nfs: server .* not responding' "$dir/console.log"; then
		echo "capture: $name: verdict $(jq -r .verdict <<<"$json") or no 'not responding' in $dir/console.log: not copied" >&2
		return 1
	fi
	cp "$dir/console.log" "$OUT/real-$name.log"
	echo "capture: $name: $(wc -l <"$OUT/real-$name.log") lines from $dir"
}
all="boot oom hung hungfreeze fserr sysrqw crash warn null bug spin nfs-outage nfs-outage-soft"
rest=
for s in ${@:-$all}; do
	case $s in
	nfs-outage) capture_nfs nfs-outage nfs-outage:hard ;;
	nfs-outage-soft) capture_nfs nfs-outage-soft nfs-outage:soft ;;
	*) rest="$rest $s" ;;
	esac
done
[ -n "$rest" ] || exit 0

# 1. kernel + headers (for the trigger module); KBZ + KTREE: a kernel built here
KIMG=root/boot/vmlinuz-$K
KBUILD=root/usr/src/linux-headers-$K
PFX=real-
if [ -n "${KBZ-}" ]; then
	[ -f "$KBZ" ] && [ -f "${KTREE:?KBZ needs KTREE, the object tree}/Makefile" ] ||
		{ echo "capture: KBZ=$KBZ or KTREE=$KTREE missing" >&2; exit 1; }
	KIMG=$KBZ KBUILD=$KTREE PFX=real-debug-
elif [ ! -e root/boot/vmlinuz-$K ]; then
	apt-get download linux-image-$K linux-headers-$K linux-headers-${K%-cloud-amd64}-common linux-kbuild-6.1
	mkdir -p root
	for d in linux-image-$K_*.deb linux-headers-*.deb linux-kbuild-*.deb; do dpkg-deb -x "$d" root; done
	# the headers Makefile includes an absolute /usr/src path
	sed -i "s#include /usr/src/#include $LAB/root/usr/src/#" root/usr/src/linux-headers-$K/Makefile
fi

# 2. trigger module + static helpers
mkdir -p mod
cp "$here/kdtrig.c" "$here/Kbuild" mod/
make -s -C "$KBUILD" M="$LAB/mod" modules >/dev/null 2>&1 ||
	make -C "$KBUILD" M="$LAB/mod" modules
gcc -O2 -static -o hogs "$here/hogs.c"

# 3. initramfs: busybox, dmsetup + mke2fs with their libs, dm-mod.ko, kdtrig.ko, helpers, /init
rm -rf ird && mkdir -p ird/{bin,sbin,usr/bin,usr/sbin,lib,lib64,proc,sys,dev,etc,tmp,run,mnt,kmod}
cp /bin/busybox ird/bin/ && ln -s busybox ird/bin/sh
for b in /usr/sbin/dmsetup /usr/sbin/mke2fs; do
	cp -L $b ird$b
	for l in $(ldd $b | grep -o '/[^ ]*'); do mkdir -p ird$(dirname $l); cp -L $l ird$l; done
done
ln -s mke2fs ird/usr/sbin/mkfs.ext4
cp /etc/mke2fs.conf ird/etc/
for t in memhog fsyncer creator; do cp hogs ird/bin/$t; done
cp mod/kdtrig.ko ird/kmod/
[ -n "${KBZ-}" ] || cp root/lib/modules/$K/kernel/drivers/md/dm-mod.ko ird/kmod/
cp "$here/guest-init.sh" ird/init && chmod 755 ird/init
(cd ird && find . | cpio -o -H newc --quiet) >initrd.cpio

# 4. one boot per scenario
run() { # name extra-append
	local name=$1 app=$2
	echo "capture: $name"
	rm -f raw-$name.log raw-$name.kmsg
	truncate -s 256M scratch.raw
	# qboot when present, as kdrill's VMs: the slim kernels have no ACPI, and SeaBIOS's MP
	# table would give them one CPU
	local bios=()
	[ -r /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
	timeout --kill-after=5 180 qemu-system-x86_64 -accel tcg -smp 2 -m 1G -nodefaults -vga none -nic none \
		"${bios[@]}" -display none -monitor none -no-reboot \
		-serial file:raw-$name.log -serial file:raw-$name.kmsg \
		-kernel "$KIMG" -initrd initrd.cpio \
		-drive file=scratch.raw,if=none,id=s,format=raw -device nvme,drive=s,serial=scratch \
		-append "console=ttyS0 panic=1 cap.test=$name $app" </dev/null >/dev/null 2>&1 || true
	if [ "$PFX" = real-debug- ] && [ "$name" != boot ]; then
		# a debug report: the excerpt from the end of the boot (the last 3 lines before
		# the guest's START mark, which the whole boot of real-debug-boot.log precedes)
		awk -v s="$(grep -an 'CAP\[[0-9.]*\] START' raw-$name.log | head -1 | cut -d: -f1)" \
			's != "" && NR >= s - 3' raw-$name.log >"$OUT/$PFX$name.log"
		[ -s "$OUT/$PFX$name.log" ] || { echo "capture: $name: no START mark in raw-$name.log" >&2; return 1; }
	else
		cp raw-$name.log "$OUT/$PFX$name.log"
	fi
	if [ -s raw-$name.kmsg ]; then cp raw-$name.kmsg "$OUT/$PFX$name-kmsg.kmsg"; fi
	echo "capture: $name: $(wc -l <"$OUT/$PFX$name.log") lines"
}
for s in $rest; do
	case $s in
	spin) run spin "rcupdate.rcu_cpu_stall_timeout=5" ;;
	null) run null "oops=panic" ;;
	*) run "$s" "" ;;
	esac
done
