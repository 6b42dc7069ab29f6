// SPDX-License-Identifier: GPL-2.0
/* Host-mode storage: sparse images on loop devices under --scratch, and reaping
 * what a killed kdrill left behind (only names kdrill-<dead pid>-*). */
#include "runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "util.h"

int host_loop_create(const char *scratch, const char *name, uint64_t size, char **ret_dev,
		     int *ret_fd)
{
	_cleanup_free_ char *img = strdupf("%s/kdrill-%d-%s.img", scratch, (int)getpid(), name);
	_cleanup_close_ int ifd = -1, ctl = -1;
	int r;

	if (!img)
		return -ENOMEM;
	ifd = open(img, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (ifd < 0)
		return -errno;
	if (ftruncate(ifd, (off_t)size) < 0) {
		r = -errno;
		unlink(img);
		return r;
	}
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		r = -errno;
		unlink(img);
		return r;
	}
	for (int attempt = 0; attempt < 16; attempt++) {
		struct loop_config cfg = {0};
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		_cleanup_free_ char *dev = NULL;
		int lfd;

		if (n < 0) {
			r = -errno;
			break;
		}
		dev = strdupf("/dev/loop%d", n);
		if (!dev) {
			r = -ENOMEM;
			break;
		}
		lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0) {
			r = -errno;
			if (r == -ENOENT)
				continue; /* udev has not made the node yet */
			break;
		}
		cfg.fd = (unsigned)ifd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", img);
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0) {
			r = -errno;
			close(lfd);
			if (r == -EBUSY)
				continue; /* somebody else took it */
			break;
		}
		/* The loop device holds the image now: drop the name so nothing is left
		 * behind even if we are SIGKILLed. */
		unlink(img);
		*ret_dev = TAKE_PTR(dev);
		*ret_fd = lfd;
		return 0;
	}
	unlink(img);
	return r < 0 ? r : -EBUSY;
}

/* Close the last reference of a loop device from a detached grandchild (stdio and every
 * other descriptor closed, so nobody waits on pipes it would hold).  Returns 0 when handed
 * over (fd is closed here), else a negative errno (fd still open). */
static int close_in_background(int fd)
{
	int p[2];
	pid_t pid, w;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		char c;
		if (fork() != 0)
			_exit(0); /* the grandchild is adopted by init: nobody has to reap it */
		unsigned lo = (unsigned)(fd < p[0] ? fd : p[0]),
			 hi = (unsigned)(fd < p[0] ? p[0] : fd);
		prctl(PR_SET_NAME, "kdrill-loop-rel"); /* what ps shows while it frees */
		close(p[1]);
		if (lo > 0)
			close_range(0, lo - 1, 0);
		if (hi > lo + 1)
			close_range(lo + 1, hi - 1, 0);
		close_range(hi + 1, ~0U, 0);
		/* the parent's close first: ours must be the last one */
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		close(fd); /* the slow part: the host filesystem frees the image's blocks */
		_exit(0);
	}
	close(p[0]);
	while ((w = waitpid(pid, NULL, 0)) < 0 && errno == EINTR)
		;
	close(fd);
	close(p[1]); /* EOF: the grandchild closes the last reference now */
	return 0;
}

int host_loop_detach(int fd)
{
	_cleanup_free_ char *bf = NULL;
	struct stat st;
	bool have_dev;

	if (fd < 0)
		return 0;
	have_dev = fstat(fd, &st) == 0 && S_ISBLK(st.st_mode);
	if (ioctl(fd, LOOP_CLR_FD, 0) < 0 && errno != ENXIO) {
		int r = -errno;
		close(fd);
		return r;
	}
	/* The last close detaches the device and drops the image, which is unlinked: the
	 * host filesystem then frees every block the run wrote.  Measured on this host (ext4
	 * with discard) after a 4 s dio-unwritten run: that close() took 19-33 s, longer than
	 * the run itself.  The device is detached (no backing file) within milliseconds of
	 * the close either way; only the freeing is left to a background process. */
	if (close_in_background(fd) < 0) {
		close(fd);
		return 0;
	}
	if (!have_dev)
		return 0;
	bf =
	    strdupf("/sys/dev/block/%u:%u/loop/backing_file", major(st.st_rdev), minor(st.st_rdev));
	/* wait (bounded) until the grandchild's close has detached it */
	for (int i = 0; bf && i < 500 && access(bf, F_OK) == 0; i++)
		usleep(10000);
	return 0;
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo */
static void unescape(char *s)
{
	char *o = s;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else
			*o++ = *s++;
	}
	*o = 0;
}

/* "…/kdrill-<pid>-…" -> pid, or 0 */
static pid_t owner_pid(const char *path)
{
	const char *b = strrchr(path, '/');
	long pid;
	char *end;

	b = b ? b + 1 : path;
	if (!startswith(b, "kdrill-"))
		return 0;
	pid = strtol(b + 7, &end, 10);
	if (pid <= 0 || *end != '-')
		return 0;
	return (pid_t)pid;
}

bool block_device_busy(const char *dev)
{
	struct stat st;
	_cleanup_free_ char *mi = NULL;
	char *save = NULL;

	if (stat(dev, &st) < 0 || !S_ISBLK(st.st_mode))
		return false;
	if (read_full_file("/proc/self/mountinfo", &mi, NULL) < 0)
		return false;
	for (char *l = strtok_r(mi, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		unsigned ma, mi_;
		if (sscanf(l, "%*d %*d %u:%u", &ma, &mi_) == 2 && ma == major(st.st_rdev) &&
		    mi_ == minor(st.st_rdev))
			return true;
	}
	return false;
}

int host_reap_leftovers(const char *scratch)
{
	_cleanup_free_ char *mi = NULL;
	char real[PATH_MAX];
	char *save = NULL;
	int n = 0;
	DIR *d;
	struct dirent *de;

	if (!realpath(scratch, real))
		return -errno;
	if (read_full_file("/proc/self/mountinfo", &mi, NULL) == 0) {
		/* collect first: unmounting while walking is fine since we own the copy */
		for (char *l = strtok_r(mi, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char mp[PATH_MAX + 1];
			pid_t pid;
			if (sscanf(l, "%*d %*d %*u:%*u %*s %4096s", mp) != 1)
				continue;
			unescape(mp);
			if (!startswith(mp, real) || mp[strlen(real)] != '/')
				continue;
			pid = owner_pid(mp);
			if (!pid || pid_alive(pid))
				continue;
			if (umount2(mp, MNT_DETACH) == 0) {
				rmdir(mp);
				n++;
			}
		}
	}
	d = opendir("/sys/block");
	if (d) {
		while ((de = readdir(d))) {
			_cleanup_free_ char *bf = NULL, *p = NULL, *dev = NULL;
			pid_t pid;
			if (!startswith(de->d_name, "loop"))
				continue;
			p = strdupf("/sys/block/%s/loop/backing_file", de->d_name);
			if (!p || read_one_line(p, &bf) < 0)
				continue;
			if (!startswith(bf, real) || bf[strlen(real)] != '/')
				continue;
			pid = owner_pid(bf);
			if (!pid || pid_alive(pid))
				continue;
			dev = strdupf("/dev/%s", de->d_name);
			if (!dev || block_device_busy(dev))
				continue;
			int fd = open(dev, O_RDWR | O_CLOEXEC);
			if (fd >= 0) {
				if (ioctl(fd, LOOP_CLR_FD, 0) == 0)
					n++;
				close(fd);
			}
		}
		closedir(d);
	}
	/* stale images and mount point directories */
	d = opendir(real);
	if (d) {
		while ((de = readdir(d))) {
			_cleanup_free_ char *p = strdupf("%s/%s", real, de->d_name);
			pid_t pid = owner_pid(de->d_name);
			struct stat st;
			if (!p || !pid || pid_alive(pid))
				continue;
			/* only what kdrill (this user) made: never another user's file */
			if (lstat(p, &st) < 0 || st.st_uid != geteuid() || S_ISLNK(st.st_mode))
				continue;
			if (endswith(de->d_name, ".img"))
				unlink(p);
			else
				rmdir(p);
		}
		closedir(d);
	}
	return n;
}
