# shellcheck shell=bash
# tests/lib/loopfs.sh — a throw-away ext4 on a loop device for tests and benchmarks.
#
# Source it from a bash test:   . "$KDRILL_TOP/tests/lib/loopfs.sh"
#
# Functions:
#   loopfs_require
#       Exit 77 (skip, with the reason on the last line) unless we are root and losetup,
#       mkfs.ext4, mount and /dev/loop-control are usable.
#   loopfs_mount [-s SIZE] [-o MOUNT_OPTS] [-m MKFS_OPT]... 
#       Create a sparse image (default 1G) under $KDRILL_TMP (else a mktemp dir), attach it
#       to a free loop device (losetup --find --show), mkfs.ext4 -q -F -j (journal) plus any
#       -m options, and mount it with MOUNT_OPTS (e.g. "data=ordered,nodioread_nolock,commit=1").
#       Sets LOOPFS_DIR (mount point), LOOPFS_DEV (/dev/loopN), LOOPFS_IMG.  Can be called
#       several times (each mount is remembered); returns non-zero on failure after undoing
#       what it did.  The first call installs `trap loopfs_teardown EXIT` and makes INT/TERM
#       exit (so the EXIT trap runs); if your test sets its own EXIT trap afterwards, call
#       loopfs_teardown from it.
#   loopfs_teardown
#       Unmount (sync first; lazy unmount as the last resort), detach the loop devices this
#       shell created, delete the images.  Idempotent; safe on partial set-ups.
#   loopfs_tmpfs
#       Mount a small tmpfs (16M) under $KDRILL_TMP and set TMPFS_DIR (for "environment
#       unsuitable" tests); torn down by loopfs_teardown.
#
# Only loop devices created here are ever touched.

LOOPFS_DIR= LOOPFS_DEV= LOOPFS_IMG= TMPFS_DIR=
_loopfs_mounts=() _loopfs_devs=() _loopfs_imgs=() _loopfs_trap=0

loopfs_require() {
	local t
	if [ "$(id -u)" != 0 ]; then echo "skip: needs root for losetup/mount"; exit 77; fi
	for t in losetup mkfs.ext4 mount umount; do
		command -v "$t" >/dev/null 2>&1 || { echo "skip: $t not installed"; exit 77; }
	done
	[ -e /dev/loop-control ] || { echo "skip: no /dev/loop-control"; exit 77; }
}

_loopfs_arm_trap() {
	[ "$_loopfs_trap" = 1 ] && return
	_loopfs_trap=1
	trap loopfs_teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

loopfs_mount() {
	local size=1G mopts=defaults mkfs=() opt base img dev mnt
	OPTIND=1
	while getopts "s:o:m:" opt; do
		case $opt in
		s) size=$OPTARG ;;
		o) mopts=$OPTARG ;;
		m) mkfs+=("$OPTARG") ;;
		*) echo "loopfs_mount: bad option" >&2; return 2 ;;
		esac
	done
	base=${KDRILL_TMP:-}
	[ -n "$base" ] || base=$(mktemp -d /tmp/loopfs.XXXXXX)
	_loopfs_arm_trap
	img=$(mktemp "$base/loopfs.XXXXXX.img") || return 1
	_loopfs_imgs+=("$img")
	truncate -s "$size" "$img" || return 1
	dev=$(losetup --find --show "$img") || { echo "loopfs_mount: losetup failed" >&2; return 1; }
	_loopfs_devs+=("$dev")
	mkfs.ext4 -q -F -j "${mkfs[@]}" "$dev" >/dev/null 2>&1 ||
		{ echo "loopfs_mount: mkfs.ext4 ${mkfs[*]} $dev failed" >&2; return 1; }
	mnt=$(mktemp -d "$base/loopfs.XXXXXX.mnt") || return 1
	mount -t ext4 -o "$mopts" "$dev" "$mnt" ||
		{ echo "loopfs_mount: mount -o $mopts failed" >&2; rmdir "$mnt"; return 1; }
	_loopfs_mounts+=("$mnt")
	LOOPFS_DIR=$mnt LOOPFS_DEV=$dev LOOPFS_IMG=$img
}

loopfs_tmpfs() {
	local base=${KDRILL_TMP:-/tmp} mnt
	_loopfs_arm_trap
	mnt=$(mktemp -d "$base/tmpfs.XXXXXX") || return 1
	mount -t tmpfs -o size=16m tmpfs "$mnt" || { rmdir "$mnt"; return 1; }
	_loopfs_mounts+=("$mnt")
	TMPFS_DIR=$mnt
}

loopfs_teardown() {
	local i m d
	for ((i = ${#_loopfs_mounts[@]} - 1; i >= 0; i--)); do
		m=${_loopfs_mounts[i]}
		if mountpoint -q "$m"; then
			sync -f "$m" 2>/dev/null
			umount "$m" 2>/dev/null || { sleep 1; umount "$m" 2>/dev/null; } ||
				umount -l "$m" 2>/dev/null
		fi
		rmdir "$m" 2>/dev/null
	done
	for d in "${_loopfs_devs[@]}"; do
		losetup -d "$d" 2>/dev/null
	done
	for i in "${_loopfs_imgs[@]}"; do rm -f "$i"; done
	_loopfs_mounts=() _loopfs_devs=() _loopfs_imgs=()
	LOOPFS_DIR= LOOPFS_DEV= LOOPFS_IMG= TMPFS_DIR=
}
