#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kvm/image-base.sh DIR — the guest base tree recipe (Debian bookworm minbase + systemd,
# tuned for fast boots under TCG; see ../shared/research/guest-lab.md).  Writes DIR/root.
# kdrill caches the result under $KDRILL_CACHE/images/base-<sha256 of this file>/, so any
# change here rebuilds the base; kdrill's binaries, units and kernel modules are added
# later (kvm/image.sh) and never trigger a debootstrap.
set -euo pipefail
DIR=$1
SUITE=bookworm
PKGS=systemd,systemd-sysv,dbus,udev,kmod,fio,stress-ng,nfs-kernel-server,nfs-common,rpcbind
PKGS=$PKGS,e2fsprogs,xfsprogs,dmsetup,libaio1,liburing2,libjson-c5,libinih1,libcgroup2,procps
PKGS=$PKGS,util-linux,iproute2

mirror=${KDRILL_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi

R=$DIR/root.tmp
rm -rf "$R"
mkdir -p "$DIR"
echo "image-base: debootstrap $SUITE from $mirror into $R" >&2
debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$R" "$mirror" >"$DIR/debootstrap.log" 2>&1 ||
	{ tail -n 20 "$DIR/debootstrap.log" >&2; exit 1; }

echo kdrill >"$R/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 kdrill\n' >"$R/etc/hosts"
# root is a snapshot=on disk: rw, no fsck
printf '/dev/root / ext4 rw,errors=remount-ro 0 0\n' >"$R/etc/fstab"
chroot "$R" passwd -d root >/dev/null
mkdir -p "$R/usr/lib/modules" "$R/usr/local/bin" "$R/var/lib/kdrill"
: >"$R/etc/machine-id"   # generated at boot (volatile)

# Trim the boot: no timers, no NFS/rpcbind/e2scrub at boot (started on demand), no gettys,
# no logind (systemd-run only needs dbus), no random-seed.  Each costs seconds under TCG.
rm -f "$R"/etc/systemd/system/timers.target.wants/* "$R"/etc/systemd/system/getty.target.wants/*
rm -f "$R"/etc/systemd/system/multi-user.target.wants/{nfs-server.service,rpcbind.service,e2scrub_reap.service,remote-fs.target,nfs-client.target}
rm -f "$R"/etc/systemd/system/sockets.target.wants/rpcbind.socket
for u in getty-static.service systemd-logind.service systemd-random-seed.service \
	serial-getty@ttyS0.service getty@tty1.service systemd-update-utmp.service \
	systemd-update-utmp-runlevel.service apt-daily.timer apt-daily-upgrade.timer \
	e2scrub_all.timer fstrim.timer systemd-pstore.service; do
	ln -sf /dev/null "$R/etc/systemd/system/$u"
done
mkdir -p "$R/etc/systemd/journald.conf.d" "$R/etc/systemd/system.conf.d"
printf '[Journal]\nStorage=volatile\nForwardToConsole=no\n' >"$R/etc/systemd/journald.conf.d/kdrill.conf"
printf '[Manager]\nDefaultTimeoutStopSec=10s\nShowStatus=no\n' >"$R/etc/systemd/system.conf.d/kdrill.conf"
printf 'qemu_fw_cfg\n' >"$R/etc/modules-load.d/kdrill.conf"

rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/*_Packages "$R"/var/lib/apt/lists/*_InRelease
rm -rf "$R/usr/share/doc" "$R/usr/share/man" "$R/usr/share/locale"
mkdir -p "$R/usr/share/doc"
rm -rf "$DIR/root"
mv "$R" "$DIR/root"
echo "image-base: done ($(du -sm "$DIR/root" | cut -f1) MB)" >&2
