#!/bin/busybox sh
# PID 1 of the capture initramfs (tests/detect/capture/capture.sh).  Runs the
# scenario named by cap.test= and powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /tmp /run /mnt; mount -t tmpfs tmp /tmp
log() { echo "CAP[$(cut -d' ' -f1 /proc/uptime)] $*"; }
T=boot; for a in $(cat /proc/cmdline); do case $a in cap.test=*) T=${a#cap.test=} ;; esac; done
i=0; while [ ! -b /dev/nvme0n1 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
log "START $T"
kmsg() { timeout 2 cat /dev/kmsg >/dev/ttyS1 2>/dev/null; }

dm_setup() {
	insmod /kmod/dm-mod.ko
	echo 5 >/proc/sys/kernel/hung_task_timeout_secs
	echo -1 >/proc/sys/kernel/hung_task_warnings
	SZ=$(blockdev --getsz /dev/nvme0n1)
	DM_DISABLE_UDEV=1 dmsetup create labdm --table "0 $SZ linear /dev/nvme0n1 0"
	mkfs.ext4 -q -F /dev/mapper/labdm; mkdir -p /mnt/dm; mount -o "${MNTOPT:-defaults}" /dev/mapper/labdm /mnt/dm
	fsyncer /mnt/dm 1 & fsyncer /mnt/dm 2 & fsyncer /mnt/dm 3 & creator /mnt/dm 1 & creator /mnt/dm 2 &
	sleep 2
}
dm_teardown() {
	DM_DISABLE_UDEV=1 dmsetup resume labdm; log "resumed"; sleep 2
	killall fsyncer creator; sleep 1; umount /mnt/dm; DM_DISABLE_UDEV=1 dmsetup remove labdm
	log "hung reports: $(dmesg | grep -c 'blocked for more than')"
}

case $T in
boot) sleep 1 ;;
oom)
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	echo "+memory +pids" >/sys/fs/cgroup/cgroup.subtree_control
	mkdir -p /sys/fs/cgroup/lab.slice/hog.service
	echo "+memory" >/sys/fs/cgroup/lab.slice/cgroup.subtree_control
	echo 64M >/sys/fs/cgroup/lab.slice/hog.service/memory.max
	echo 0 >/sys/fs/cgroup/lab.slice/hog.service/memory.swap.max
	for n in 1 2; do
		sh -c 'echo $$ >/sys/fs/cgroup/lab.slice/hog.service/cgroup.procs; exec memhog 200'; log "hog $n exit=$?"
	done
	log "memory.events: $(tr '\n' ' ' </sys/fs/cgroup/lab.slice/hog.service/memory.events)"
	kmsg ;;
hung)
	dm_setup
	DM_DISABLE_UDEV=1 dmsetup suspend --nolockfs labdm; log "suspended --nolockfs"
	sleep 14; echo w >/proc/sysrq-trigger; sleep 3
	dm_teardown; kmsg ;;
hungfreeze)
	dm_setup
	DM_DISABLE_UDEV=1 dmsetup suspend labdm; log "suspended (freeze)"
	sleep 12
	dm_teardown ;;
fserr)
	# the disk starts failing under the writers: dm "error" target swapped in
	MNTOPT=errors=remount-ro dm_setup
	DM_DISABLE_UDEV=1 dmsetup load labdm --table "0 $SZ error"
	DM_DISABLE_UDEV=1 dmsetup suspend --noflush --nolockfs labdm
	DM_DISABLE_UDEV=1 dmsetup resume labdm; log "disk now fails every I/O"
	sleep 4; killall fsyncer creator; sleep 1
	log "mount: $(grep /mnt/dm /proc/mounts)"
	umount /mnt/dm; DM_DISABLE_UDEV=1 dmsetup remove labdm ;;
sysrqw) echo w >/proc/sysrq-trigger; sleep 1 ;;
crash) sleep 1; echo c >/proc/sysrq-trigger ;;
warn)
	insmod /kmod/kdtrig.ko mode=warn; rmmod kdtrig
	insmod /kmod/kdtrig.ko mode=refcount; rmmod kdtrig
	insmod /kmod/kdtrig.ko mode=atomic; rmmod kdtrig
	kmsg ;;
null) insmod /kmod/kdtrig.ko mode=null ;;
bug) insmod /kmod/kdtrig.ko mode=bug; log "insmod exit=$?"; sleep 1 ;;
spin)
	echo 2 >/proc/sys/kernel/watchdog_thresh
	insmod /kmod/kdtrig.ko mode=spin secs=14; log "spin done"; sleep 1
	kmsg ;;
kasan-uaf | kasan-oob | kasan-double-free | lockdep | list-del | odebug-work | bad-unlock | \
	held-lock-freed | rcu-usage | recursive-read | lock-held-return | irq-inconsistent)
	# debug kernel only (kvm/debug.config): one report each
	insmod /kmod/kdtrig.ko mode=$T; log "insmod exit=$?"; sleep 1 ;;
atomic-sleep) insmod /kmod/kdtrig.ko mode=alloc-atomic; log "insmod exit=$?"; sleep 1 ;;
esac
log "END $T"
sync; echo o >/proc/sysrq-trigger; sleep 5
