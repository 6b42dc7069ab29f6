#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kvm/image.sh STEP ARGS... — the cheap image steps kdrill runs on top of the cached base
# tree (kvm/image-base.sh).  Called by `kdrill image build` / `kdrill vm` with argv, never
# through a shell string.  Each step writes OUT.tmp and renames it, so a cache entry is
# either complete or absent.
#
#   final BASE_ROOT BINDIR UNITSDIR KVMDIR OUT
#       hard-link copy of the base tree + kdrill's binaries (BINDIR/*) in /usr/local/bin,
#       units (UNITSDIR/*, kdrill-agent.service required), then mkfs.ext4 -d
#   modules MODROOT KVER OUT
#       ext4 image of MODROOT/lib/modules (mounted read-only at /usr/lib/modules in the guest)
#   lava-root ROOTIMG OUT
#       ROOTIMG grown by 4 GiB of free space (sparse; host mode's loop images on a LAVA
#       device go there), zstd-compressed into OUT (LAVA decompresses it on deploy)
#   initramfs MODROOT|- KVER KVMDIR OUT
#       uncompressed cpio: busybox, KVMDIR/initramfs-init as /init, and the modules needed
#       to mount the root and modules disks (virtio-pci, virtio-blk, virtio-console, ext4)
set -euo pipefail
step=$1
shift

size_mb() { # du of a tree -> mkfs size with headroom
	local mb
	mb=$(du -sm --apparent-size "$1" | cut -f1)
	echo $((mb * 13 / 10 + ${2:-64}))
}

case $step in
final)
	BASE=$1 BINDIR=$2 UNITS=$3 KVM=$4 OUT=$5
	S=$OUT.stage
	rm -rf "$S" "$OUT.tmp"
	trap 'rm -rf "$S" "$OUT.tmp"' EXIT
	cp -al "$BASE" "$S"
	# binaries: new paths only (the stage shares inodes with the base tree)
	for b in "$BINDIR"/*; do
		[ -f "$b" ] && [ -x "$b" ] || continue
		rm -f "$S/usr/local/bin/${b##*/}"
		cp "$b" "$S/usr/local/bin/"
		# every shared library the binary needs must be in the image
		for l in $(ldd "$b" 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' || true); do
			if [ ! -e "$S$l" ] && [ ! -e "$S/usr$l" ]; then
				echo "image.sh: ${b##*/} needs $l, which the guest base lacks (add its package to kvm/image-base.sh)" >&2
				exit 1
			fi
		done
	done
	# the scenario files, where kdrill's datadir lookup finds them from /usr/local/bin
	# (host mode inside the guest: a LAVA device runs kdrill run --host there)
	SC=$S/usr/local/share/kdrill/harness/scenarios
	rm -rf "$SC"
	mkdir -p "$SC"
	cp "$KVM"/../harness/scenarios/*.ini "$SC/"
	E=$S/etc/systemd/system
	have_agent=0
	if [ -d "$UNITS" ]; then
		for u in "$UNITS"/*.service "$UNITS"/*.slice "$UNITS"/*.target "$UNITS"/*.socket "$UNITS"/*.conf; do
			[ -f "$u" ] || continue
			rm -f "$E/${u##*/}"
			cp "$u" "$E/"
			[ "${u##*/}" = kdrill-agent.service ] && have_agent=1
		done
		for d in "$UNITS"/*.d; do # drop-in directories (kdrill-worker@.service.d/...)
			[ -d "$d" ] || continue
			rm -rf "$E/${d##*/}"
			cp -r "$d" "$E/"
		done
	fi
	if [ $have_agent = 0 ]; then
		echo "image.sh: no kdrill-agent.service in $UNITS" >&2
		exit 1
	fi
	# enable what the units ask for ([Install] WantedBy=), plain symlinks (no systemctl in chroot)
	for u in "$E"/kdrill*; do
		[ -f "$u" ] || continue
		for t in $(sed -n 's/^WantedBy=//p' "$u"); do
			mkdir -p "$E/$t.wants"
			ln -sf "../${u##*/}" "$E/$t.wants/${u##*/}"
		done
	done
	# generators that only cost boot time here (no LUKS, GPT auto, hibernation, SysV, NFS
	# at boot, gettys); fstab/debug/run stay
	mkdir -p "$S/etc/systemd/system-generators"
	for g in nfs-server-generator rpc-pipefs-generator systemd-cryptsetup-generator \
		systemd-getty-generator systemd-gpt-auto-generator systemd-hibernate-resume-generator \
		systemd-integritysetup-generator systemd-rc-local-generator systemd-system-update-generator \
		systemd-sysv-generator systemd-veritysetup-generator; do
		ln -sf /dev/null "$S/etc/systemd/system-generators/$g"
	done
	# units that only cost boot time in a throw-away test guest (each a fork+exec or a
	# mount under TCG); scenarios mount debugfs/tracefs or load modules themselves
	for u in modprobe@configfs.service modprobe@fuse.service modprobe@loop.service \
		modprobe@dm_mod.service modprobe@drm.service modprobe@efi_pstore.service \
		sys-kernel-config.mount sys-fs-fuse-connections.mount sys-kernel-debug.mount \
		sys-kernel-tracing.mount dev-hugepages.mount dev-mqueue.mount \
		proc-sys-fs-binfmt_misc.automount systemd-binfmt.service systemd-sysusers.service \
		systemd-journal-flush.service systemd-update-done.service ldconfig.service \
		systemd-hwdb-update.service systemd-machine-id-commit.service \
		systemd-journal-catalog-update.service systemd-tmpfiles-clean.timer \
		systemd-ask-password-console.path systemd-ask-password-wall.path \
		systemd-firstboot.service first-boot-complete.target systemd-repart.service \
		systemd-user-sessions.service; do
		[ -e "$E/$u" ] && [ ! -L "$E/$u" ] && continue # a real unit from units/ wins
		ln -sf /dev/null "$E/$u"
	done
	# NFS server: the guest's root is a fresh snapshot every boot, so an NFSv4 server never
	# has client state to reclaim, yet nfsd starts a 90 s grace period in which OPENs get
	# NFS4ERR_GRACE (a v4.x client blocks; v3 does not).  nfsdcltrack's own attempt to lift
	# it at "init" races with nfsd startup (v4_end_grace: EBUSY before nfsd_serv exists).
	# Lift it once the server is up (systemctl start nfs-server returns after this): nfsd
	# may start the grace period just after the first write is taken (seen: the write at
	# 9.471 s, "starting 10-second grace period" at 9.476 s), so wait for that message
	# (at most 5 s) before writing, and
	# keep the grace time at its minimum (10 s) should the write fail.  The lease time
	# stays 90 s: a short lease would expire client state under TCG load.
	mkdir -p "$E/nfs-server.service.d" "$S/etc/nfs.conf.d"
	rm -f "$E/nfs-server.service.d/kdrill-grace.conf" "$S/etc/nfs.conf.d/kdrill.conf"
	cat >"$E/nfs-server.service.d/kdrill-grace.conf" <<-'EOT'
	[Service]
	ExecStartPost=/bin/sh -c 'for i in $(seq 50); do dmesg | grep -q "NFSD: starting .*grace period" && break; sleep 0.1; done; for i in $(seq 10); do echo Y >/proc/fs/nfsd/v4_end_grace 2>/dev/null && { echo "kdrill: NFSv4 grace period lifted"; exit 0; }; sleep 0.2; done; echo "kdrill: NFSv4 grace period NOT lifted"'
	EOT
	printf '[nfsd]\ngrace-time=10\n' >"$S/etc/nfs.conf.d/kdrill.conf"
	rm -f "$E/default.target"
	if [ -f "$E/kdrill.target" ]; then
		ln -s kdrill.target "$E/default.target"
	else
		ln -s /usr/lib/systemd/system/multi-user.target "$E/default.target"
	fi
	mkfs.ext4 -q -F -L kdroot -d "$S" "$OUT.tmp" "$(size_mb "$S" 256)M"
	mv "$OUT.tmp" "$OUT"
	;;
lava-root)
	IMG=$1 OUT=$2
	T=$OUT.raw
	rm -f "$T" "$OUT.tmp"
	trap 'rm -f "$T" "$OUT.tmp"' EXIT
	cp --sparse=always "$IMG" "$T"
	truncate -s +4G "$T"
	e2fsck -fy "$T" >/dev/null || [ $? -le 1 ]
	resize2fs -f "$T" >/dev/null
	zstd -q -T0 -3 -o "$OUT.tmp" "$T"
	mv "$OUT.tmp" "$OUT"
	;;
modules)
	MODROOT=$1 KVER=$2 OUT=$3
	rm -f "$OUT.tmp"
	[ -d "$MODROOT/lib/modules/$KVER" ] || { echo "image.sh: no $MODROOT/lib/modules/$KVER" >&2; exit 1; }
	mkfs.ext4 -q -F -L kdmods -d "$MODROOT/lib/modules" "$OUT.tmp" "$(size_mb "$MODROOT/lib/modules" 16)M"
	mv "$OUT.tmp" "$OUT"
	;;
initramfs)
	MODROOT=$1 KVER=$2 KVM=$3 OUT=$4
	T=$OUT.tree
	rm -rf "$T" "$OUT.tmp"
	trap 'rm -rf "$T" "$OUT.tmp"' EXIT
	mkdir -p "$T"/{bin,dev,proc,sys,newroot,lib/modules}
	cp /bin/busybox "$T/bin/busybox"
	ln -s busybox "$T/bin/sh"
	cp "$KVM/initramfs-init" "$T/init"
	chmod 755 "$T/init"
	: >"$T/lib/modules/load.list"
	if [ "$MODROOT" != - ]; then
		# crc32c_generic first: ext4's softdep on crc32c is not resolved by busybox insmod,
		# and crc32c-intel refuses to load on TCG's default CPU.
		for m in crc32c_generic virtio_pci virtio_blk virtio_console virtio_rng ext4; do
			modprobe -d "$MODROOT" -S "$KVER" --show-depends "$m" 2>/dev/null || true
		done | awk '$1 == "insmod" && !seen[$2]++ {print $2}' | while read -r ko; do
			cp "$ko" "$T/lib/modules/"
			echo "${ko##*/}" >>"$T/lib/modules/load.list"
		done
	fi
	(cd "$T" && find . | cpio -o -H newc --quiet) >"$OUT.tmp"
	mv "$OUT.tmp" "$OUT"
	;;
*)
	echo "usage: image.sh final|modules|initramfs ..." >&2
	exit 2
	;;
esac
