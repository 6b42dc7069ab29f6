// SPDX-License-Identifier: GPL-2.0
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

void strv_free(char **l)
{
	STRV_FOREACH (s, l)
		free(*s);
	free(l);
}

char *strdupf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

void set_error(char **err, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	if (!err)
		return;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	free(*err);
	*err = m;
}

bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

char *strstrip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

size_t strv_length(char *const *l)
{
	size_t n = 0;
	while (l && l[n])
		n++;
	return n;
}

bool strv_contains(char *const *l, const char *s)
{
	for (size_t i = 0; l && l[i]; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}

void fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ELEMENTSOF(unit)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
}

void xml_escape_to(FILE *f, const char *s, unsigned flags)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		case '\n':
		case '\t':
			fputc(c, f);
			break;
		default:
			if (c < 0x20 || (c == 0x7f && (flags & XML_ESC_DEL)))
				fputc('?', f);
			else
				fputc(c, f);
		}
	}
}

char *xml_escape(const char *s, unsigned flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	xml_escape_to(f, s, flags);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *strv_join(char *const *l, const char *sep)
{
	size_t len = 1, sl = strlen(sep), off = 0;
	char *s;

	for (size_t i = 0; l && l[i]; i++)
		len += strlen(l[i]) + sl;
	if (!(s = malloc(len)))
		return NULL;
	for (size_t i = 0; l && l[i]; i++) {
		size_t n = strlen(l[i]);
		if (i) {
			memcpy(s + off, sep, sl);
			off += sl;
		}
		memcpy(s + off, l[i], n);
		off += n;
	}
	s[off] = 0;
	return s;
}

int strv_push(char ***l, char *value)
{
	size_t n = strv_length(*l);
	char **c = realloc(*l, (n + 2) * sizeof(char *));

	if (!c)
		return -ENOMEM;
	c[n] = value;
	c[n + 1] = NULL;
	*l = c;
	return 0;
}

int strv_extend(char ***l, const char *value)
{
	char *v = strdup(value);
	int r;

	if (!v)
		return -ENOMEM;
	r = strv_push(l, v);
	if (r < 0)
		free(v);
	return r;
}

int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	switch (toupper((unsigned char)*end)) {
	case 0:
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		if (toupper((unsigned char)*end) == 'I')
			end++;
		if (toupper((unsigned char)*end) == 'B')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = (uint64_t)v << shift;
	return 0;
}

int parse_seconds(const char *s, double *ret)
{
	char *end;
	double v;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -EINVAL;
	/* decimal only: strtod() would also take 0x10 (hex), "1e5000" (inf) and nan */
	for (const char *c = s; *c; c++)
		if (*c == 'x' || *c == 'X' || *c == 'p' || *c == 'P')
			return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno)
		return -errno;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		;
	else if (!strcmp(end, "ms"))
		v /= 1000;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		v *= 60;
	else if (!strcmp(end, "h"))
		v *= 3600;
	else
		return -EINVAL;
	if (v < 0 || !isfinite(v))
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_seconds_range(const char *s, double min, double max, double *ret)
{
	double v;
	int r = parse_seconds(s, &v);

	if (r < 0)
		return r;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

uint64_t usec_from_secs(double s)
{
	/* a timer at UINT64_MAX never fires: saturate instead of wrapping (1e300 s -> 0) */
	if (!(s > 0))
		return 0;
	if (s >= (double)(UINT64_MAX / 2) / 1e6)
		return UINT64_MAX / 2;
	return (uint64_t)(s * 1e6);
}

static uint64_t clock_usec(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_usec(void)
{
	return clock_usec(CLOCK_MONOTONIC);
}

uint64_t now_realtime_usec(void)
{
	return clock_usec(CLOCK_REALTIME);
}

int format_iso8601(uint64_t realtime_usec, char *buf, size_t len)
{
	time_t t = (time_t)(realtime_usec / 1000000ULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -ENOBUFS;
	return 0;
}

int read_full_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = 0;
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int read_one_line(const char *path, char **ret)
{
	char *s;
	int r = read_full_file(path, &s, NULL);

	if (r < 0)
		return r;
	s[strcspn(s, "\n")] = 0;
	*ret = s;
	return 0;
}

int read_regular_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	if (!(buf = malloc((size_t)st.st_size + 1)))
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > (size_t)st.st_size)
			return -EFBIG; /* grew while we read it */
	}
	buf[len] = 0;
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int openat_nofollow(int dfd, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
	    .mode = (flags & O_CREAT) ? mode : 0,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
	};
	long fd;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	fd = syscall(SYS_openat2, dfd, name, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS && errno != EPERM) /* EPERM: a seccomp filter without openat2 */
		return -errno;
	/* one path component: O_NOFOLLOW is the same guarantee */
	fd = openat(dfd, name, flags | O_CLOEXEC | O_NOFOLLOW, mode);
	return fd < 0 ? -errno : (int)fd;
}

/* "a/b/c" -> the directory "a/b" opened O_DIRECTORY, and *ret_base -> "c" (in path). */
static int open_parent(const char *path, const char **ret_base)
{
	_cleanup_free_ char *dir = strdup(path);
	const char *slash = strrchr(path, '/');
	int fd;

	if (!dir)
		return -ENOMEM;
	if (!slash) {
		strcpy(dir, ".");
		*ret_base = path;
	} else {
		dir[slash - path == 0 ? 1 : slash - path] = 0;
		*ret_base = slash + 1;
	}
	if (!**ret_base)
		return -EINVAL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int write_string_file(const char *path, const char *s)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = strlen(s);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	_cleanup_free_ char *tmp = NULL;
	const char *base;
	int r;

	dfd = open_parent(path, &base);
	if (dfd < 0)
		return dfd;
	if (!(tmp = strdupf("%s.tmp.%d", base, (int)getpid())))
		return -ENOMEM;
	/* never through a planted symlink or into a file that was there before */
	fd = openat_nofollow(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd == -EEXIST && unlinkat(dfd, tmp, 0) == 0)
		fd = openat_nofollow(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		return fd;
	r = write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	/* rename replaces whatever is at the name (a symlink included), never follows it */
	if (r == 0 && renameat(dfd, tmp, dfd, base) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dfd, tmp, 0);
		return r;
	}
	return fsync(dfd) < 0 ? -errno : 0;
}

int append_line_synced(const char *path, const char *line)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = strlen(line);
	const char *base;
	struct stat st;
	int r;

	dfd = open_parent(path, &base);
	if (dfd < 0)
		return dfd;
	/* O_NONBLOCK: a FIFO planted at the name fails (ENXIO) instead of blocking */
	fd = openat_nofollow(dfd, base, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, 0644);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (len == 0 || line[len - 1] != '\n') {
		buf = strdupf("%s\n", line);
		if (!buf)
			return -ENOMEM;
		line = buf;
		len++;
	}
	r = write_all(fd, line, len);
	if (r < 0)
		return r;
	return fsync(fd) < 0 ? -errno : 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);
	char *s;

	if (!p)
		return -ENOMEM;
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_rf_at(int dfd, const char *name, dev_t dev)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		int fd, r = 0;
		DIR *d;
		struct dirent *de;

		if (st.st_dev != dev)
			return -EXDEV; /* a mount point: never descend */
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -errno;
		}
		while ((de = readdir(d))) {
			int k;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			k = rm_rf_at(dirfd(d), de->d_name, dev);
			if (k < 0 && r == 0)
				r = k;
		}
		closedir(d);
		if (r < 0)
			return r;
		if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
			return -errno;
		return 0;
	}
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return rm_rf_at(AT_FDCWD, path, st.st_dev);
}

char *path_absolute(const char *path)
{
	_cleanup_free_ char *cwd = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (!(cwd = getcwd(NULL, 0)))
		return NULL;
	while (startswith(path, "./"))
		path += 2;
	return strdupf("%s/%s", cwd, path);
}

bool path_is_system_dir(const char *path)
{
	static const char *const sys[] = {
	    "/",	"/bin",	    "/boot",	  "/dev",      "/etc",	     "/home", "/lib",
	    "/lib32",	"/lib64",   "/libx32",	  "/media",    "/mnt",	     "/opt",  "/proc",
	    "/root",	"/run",	    "/sbin",	  "/srv",      "/sys",	     "/tmp",  "/usr",
	    "/usr/bin", "/usr/lib", "/usr/local", "/usr/sbin", "/usr/share", "/var",  "/var/cache",
	    "/var/lib", "/var/log", "/var/spool", "/var/tmp",  NULL};
	char real[PATH_MAX];
	const char *p = realpath(path, real) ? real : path;

	for (size_t i = 0; sys[i]; i++)
		if (!strcmp(p, sys[i]))
			return true;
	/* kernel-made trees */
	return startswith(p, "/proc/") || startswith(p, "/sys/") || startswith(p, "/dev/");
}

/* One directory on the way: not writable by others unless sticky (where entries stay
 * their owner's); the directory itself (last) also owned by us or root. */
static int check_one_dir(const char *p, const struct stat *st, bool last, char **ret_why)
{
	uid_t me = geteuid();

	if (!S_ISDIR(st->st_mode)) {
		*ret_why = strdupf("%s is not a directory", p);
		return -ENOTDIR;
	}
	if (last && st->st_uid != me && st->st_uid != 0) {
		*ret_why = strdupf("%s is owned by another user (uid %u), who could plant symlinks "
				   "where kdrill writes",
				   p, (unsigned)st->st_uid);
		return -EPERM;
	}
	if ((st->st_mode & S_IWOTH) && !(st->st_mode & S_ISVTX)) {
		*ret_why =
		    strdupf("%s is world-writable without the sticky bit: anyone could plant "
			    "symlinks where kdrill writes",
			    p);
		return -EPERM;
	}
	return 0;
}

int path_check_private(const char *path, char **ret_why)
{
	_cleanup_free_ char *abs = path_absolute(path), *exist = NULL;
	char real[PATH_MAX];
	bool whole = true; /* the whole path exists */
	char *s;
	struct stat st;
	int r;

	*ret_why = NULL;
	if (!abs)
		return -ENOMEM;
	/* the longest prefix that exists: the rest will be created by kdrill itself */
	if (!(exist = strdup(abs)))
		return -ENOMEM;
	while (stat(exist, &st) < 0) {
		if (errno != ENOENT) {
			r = -errno;
			*ret_why = strdupf("%s: %s", exist, strerror(errno));
			return r;
		}
		whole = false;
		s = strrchr(exist, '/');
		if (!s || s == exist) {
			strcpy(exist, "/");
			break;
		}
		*s = 0;
	}
	if (!realpath(exist, real)) {
		r = -errno;
		*ret_why = strdupf("%s: %s", exist, strerror(errno));
		return r;
	}
	/* every directory on the way, after symlinks are resolved */
	for (char *q = real;; q++) {
		if (*q && *q != '/')
			continue;
		char save = *q;
		bool root = q == real, last = !save || (root && !real[1]);
		if (!root)
			*q = 0;
		if (lstat(root ? "/" : real, &st) < 0) {
			r = -errno;
			*ret_why = strdupf("%s: %s", root ? "/" : real, strerror(errno));
			return r;
		}
		r = check_one_dir(root ? "/" : real, &st, whole && last, ret_why);
		*q = save;
		if (r < 0)
			return r;
		if (last)
			break;
	}
	return 0;
}

int wait_status_to_exit(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* When did process PID start (CLOCK_REALTIME usec, 1 s resolution: btime)?  0: unknown. */
static uint64_t proc_start_usec(const char *stat)
{
	_cleanup_fclose_ FILE *f = NULL;
	unsigned long long start = 0, btime = 0;
	const char *p = strrchr(stat, ')');
	char *line = NULL;
	size_t cap = 0;
	long tck = sysconf(_SC_CLK_TCK);

	/* after "pid (comm)": state is field 3, starttime field 22 */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1 || tck <= 0)
		return 0;
	if (!(f = fopen("/proc/stat", "re")))
		return 0;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	free(line);
	if (!btime)
		return 0;
	return (uint64_t)btime * 1000000ULL + (uint64_t)start * 1000000ULL / (uint64_t)tck;
}

/* pid_alive() says yes for zombies: a SIGKILLed kdrill whose parent has not reaped it
 * yet owns nothing any more.  created_usec (when the leftover -- a cgroup, a temporary
 * directory -- was made, CLOCK_REALTIME usec, 0 unknown) guards pid reuse: a process that
 * started after the leftover was made is not its owner.  An inode time (ctime) is never
 * earlier than the creation, so a real owner (which started before it made the leftover)
 * always stays "alive". */
bool pid_owner_alive(pid_t pid, uint64_t created_usec)
{
	_cleanup_free_ char *f = NULL, *s = NULL;
	const char *p;
	uint64_t started;

	if (!pid_alive(pid))
		return false;
	f = strdupf("/proc/%d/stat", (int)pid);
	if (!f || read_one_line(f, &s) < 0)
		return true; /* cannot tell: assume alive, never reap a live owner */
	p = strrchr(s, ')');
	if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		return false;
	/* 2 s of slack: btime has 1 s resolution */
	if (created_usec && (started = proc_start_usec(s)) &&
	    started > created_usec + 2 * 1000000ULL)
		return false;
	return true;
}

/* In a forked child: write s to path (no allocation; errno set on failure). */
static int child_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n < 0 ? -1 : 0;
}

static int open_redirect(const char *path, int flags)
{
	return open(path, flags | O_CLOEXEC | O_NOCTTY, 0644);
}

pid_t spawn_argv_async(char *const argv[], const struct spawn_opts *opts, int *ret_exec_fd)
{
	static const struct spawn_opts none = {0};
	int pfd[2];
	pid_t pid;

	*ret_exec_fd = -1;
	if (!argv || !argv[0])
		return -EINVAL;
	if (!opts)
		opts = &none;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		return -e;
	}
	if (pid == 0) {
		int fd, e;
		sigset_t all;

		/* Parents may block signals for sd-event/signalfd; children start clean. */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				signal(s, SIG_DFL);
		if (opts->pdeathsig)
			prctl(PR_SET_PDEATHSIG, opts->pdeathsig);
		if (opts->new_session)
			setsid();
		{
			char pidbuf[32];
			snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int)getpid());
			if (opts->cgroup_procs && child_write(opts->cgroup_procs, pidbuf) < 0)
				goto fail;
			for (char *const *cp = opts->cgroup_procs_v; cp && *cp; cp++)
				if (child_write(*cp, pidbuf) < 0)
					goto fail;
		}
		if (opts->oom_score_adj &&
		    child_write("/proc/self/oom_score_adj", opts->oom_score_adj) < 0)
			goto fail;
		fd = open_redirect(opts->stdin_path ? opts->stdin_path : "/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			goto fail;
		if (opts->stdout_fd > 0) {
			if (dup2(opts->stdout_fd, 1) < 0)
				goto fail;
		} else if (opts->stdout_path) {
			fd = open_redirect(opts->stdout_path, O_WRONLY | O_CREAT | O_APPEND);
			if (fd < 0 || dup2(fd, 1) < 0)
				goto fail;
		}
		if (opts->stderr_fd > 0) {
			if (dup2(opts->stderr_fd, 2) < 0)
				goto fail;
		} else if (opts->stderr_path) {
			if (opts->stdout_path && !strcmp(opts->stderr_path, opts->stdout_path) &&
			    opts->stdout_fd <= 0) {
				if (dup2(1, 2) < 0)
					goto fail;
			} else {
				fd =
				    open_redirect(opts->stderr_path, O_WRONLY | O_CREAT | O_APPEND);
				if (fd < 0 || dup2(fd, 2) < 0)
					goto fail;
			}
		}
		if (opts->cwd && chdir(opts->cwd) < 0)
			goto fail;
		if (opts->envp)
			execvpe(argv[0], argv, opts->envp);
		else
			execvp(argv[0], argv);
	fail:
		e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	/* Non-blocking: callers poll it (sd-event io source) or use spawn_exec_status(). */
	(void)fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	*ret_exec_fd = pfd[0];
	return pid;
}

int spawn_exec_status(int fd)
{
	int child_errno = 0;
	ssize_t n;

	do
		n = read(fd, &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : -errno;
	if (n == 0)
		return 0; /* write end closed by exec (or by the child's death) */
	if (n != (ssize_t)sizeof(child_errno))
		return -EIO;
	return -(child_errno > 0 ? child_errno : EIO);
}

pid_t spawn_argv(char *const argv[], const struct spawn_opts *opts)
{
	int fd, r;
	pid_t pid = spawn_argv_async(argv, opts, &fd);

	if (pid < 0)
		return pid;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		r = spawn_exec_status(fd);
		if (r != -EAGAIN)
			break;
		if (poll(&p, 1, -1) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
	}
	close(fd);
	if (r < 0) {
		waitpid(pid, NULL, 0);
		return r;
	}
	return pid;
}

char *file_tail(const char *path, size_t max, const char *missing)
{
	_cleanup_free_ char *s = NULL;
	size_t len;
	const char *t;

	if (read_full_file(path, &s, &len) < 0)
		return strdup(missing);
	while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
		s[--len] = 0;
	t = s + (len > max ? len - max : 0);
	if (t > s && strchr(t, '\n'))
		t = strchr(t, '\n') + 1;
	return strdup(t);
}

int run_argv(char *const argv[], char **out, uint64_t timeout_usec)
{
	return run_argv_opts(argv, NULL, out, timeout_usec);
}

int run_argv_opts(char *const argv[], const struct spawn_opts *base, char **out,
		  uint64_t timeout_usec)
{
	int p[2] = {-1, -1};
	struct spawn_opts o = base ? *base : (struct spawn_opts){0};
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	uint64_t deadline = timeout_usec ? now_usec() + timeout_usec : 0;
	pid_t pid;
	int status, r = 0;

	if (out) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		o.stdout_fd = p[1];
	}
	pid = spawn_argv(argv, &o);
	if (p[1] >= 0)
		close(p[1]);
	if (pid < 0) {
		if (p[0] >= 0)
			close(p[0]);
		return pid;
	}
	while (p[0] >= 0) {
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};
		int ms = -1;
		ssize_t n;

		if (deadline) {
			uint64_t now = now_usec();
			if (now >= deadline) {
				r = -ETIMEDOUT;
				break;
			}
			ms = (int)((deadline - now) / 1000) + 1;
		}
		if (poll(&pfd, 1, ms) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (!pfd.revents)
			continue;
		if (cap - len < 4096) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n = read(p[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (p[0] >= 0)
		close(p[0]);
	if (r == 0 && deadline) {
		/* Output closed; still bound the wait. */
		for (;;) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				goto reaped;
			if (now_usec() >= deadline) {
				r = -ETIMEDOUT;
				break;
			}
			usleep(10000);
		}
	}
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
reaped:
	if (out) {
		if (!buf && !(buf = malloc(1)))
			return -ENOMEM;
		buf[len] = 0;
		*out = TAKE_PTR(buf);
	}
	return wait_status_to_exit(status);
}

static const char *dir_if(const char *d, const char *probe)
{
	_cleanup_free_ char *p = strdupf("%s/%s", d, probe);
	return p && access(p, F_OK) == 0 ? d : NULL;
}

const char *kd_datadir(void)
{
	static char *cached;
	char exe[PATH_MAX];
	ssize_t n;

	if (cached)
		return cached;
	if (getenv("KDRILL_DATA"))
		return cached = strdup(getenv("KDRILL_DATA"));
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *s;
		exe[n] = 0;
		/* <top>/bin/kdrill or <top>/build/<variant>/bin/kdrill */
		for (int up = 0; up < 4 && (s = strrchr(exe, '/')); up++) {
			*s = 0;
			if (*exe && dir_if(exe, "harness/scenarios"))
				return cached = strdup(exe);
			if (*exe && dir_if(exe, "share/kdrill/harness/scenarios"))
				return cached = strdupf("%s/share/kdrill", exe);
		}
	}
	return cached = strdup("/usr/local/share/kdrill");
}

const char *kd_cachedir(void)
{
	static char *cached;
	const char *e;

	if (cached)
		return cached;
	if ((e = getenv("KDRILL_CACHE")) && *e)
		return cached = strdup(e);
	if ((e = getenv("XDG_CACHE_HOME")) && *e)
		return cached = strdupf("%s/kdrill", e);
	if ((e = getenv("HOME")) && *e)
		return cached = strdupf("%s/.cache/kdrill", e);
	return cached = strdup("/var/cache/kdrill");
}
