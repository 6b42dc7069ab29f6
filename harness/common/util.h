/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kdrill shared helpers (harness, cgroups, tests).  systemd style:
 * functions return 0 / a non-negative value on success and a negative errno
 * on failure; nothing here prints.  Resources are freed with _cleanup_.
 */
#ifndef KDRILL_UTIL_H
#define KDRILL_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f)	   __attribute__((cleanup(f)))
#define _unused_	   __attribute__((unused))
#define _printf_(a, b)	   __attribute__((format(printf, a, b)))
#define ELEMENTSOF(x)	   (sizeof(x) / sizeof((x)[0]))
#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int e = errno;
		close(*fd);
		errno = e;
	}
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
void strv_free(char **l);
static inline void strv_freep(char ***l)
{
	strv_free(*l);
}
#define _cleanup_free_	 _cleanup_(freep)
#define _cleanup_close_	 _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_	 _cleanup_(strv_freep)

/* Take ownership: return the pointer/fd and clear the variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
/* free and return NULL: p = mfree(p) */
static inline void *mfree(void *p)
{
	free(p);
	return NULL;
}
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

/* Strings.  All return NULL only on ENOMEM. */
char *strdupf(const char *fmt, ...) _printf_(1, 2);
/* The error channel of library functions that explain themselves: when err is not NULL,
 * *err (freed first) becomes the formatted one-line message for the caller to print. */
void set_error(char **err, const char *fmt, ...) _printf_(2, 3);
#define SETERR(err, ...) set_error((err), __VA_ARGS__)
bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);
char *strstrip(char *s); /* in place, returns s */
size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* "512 B", "3.4 KiB", "1.2 GiB" into buf (for listings). */
void fmt_size(uint64_t bytes, char *buf, size_t len);
/* The words joined with sep (for logs: "mount -t ext4 ..."); NULL on ENOMEM. */
char *strv_join(char *const *l, const char *sep);
int strv_push(char ***l, char *value);	       /* takes ownership of value */
int strv_extend(char ***l, const char *value); /* copies value */
/* Text for XML and HTML, in element content or in quoted attribute values: & < > " '
 * as entities; control bytes other than '\t' and '\n' as '?' (XML 1.0 allows them in no
 * form, not even as references); with XML_ESC_DEL, DEL (0x7f) as well. */
#define XML_ESC_DEL 1u
void xml_escape_to(FILE *f, const char *s, unsigned flags); /* s NULL: nothing */
char *xml_escape(const char *s, unsigned flags);	    /* malloc'd; NULL on ENOMEM */

/* Numbers. */
int parse_u64(const char *s, uint64_t *ret);   /* decimal, whole string */
int parse_size(const char *s, uint64_t *ret);  /* 123, 64K, 100M, 1G, 1T (1024-based) */
int parse_seconds(const char *s, double *ret); /* 30, 1.5, 30s, 5m, 2h (decimal, finite) */
/* parse_seconds() and min <= value <= max, else -ERANGE. */
int parse_seconds_range(const char *s, double min, double max, double *ret);
/* Seconds -> microseconds for timers, saturating (never wraps to a past deadline). */
uint64_t usec_from_secs(double s);
#define KD_DURATION_MIN 1.0	       /* --duration, timeout: at least a second */
#define KD_DURATION_MAX (30 * 86400.0) /* ... and at most 30 days */

/* Time. */
uint64_t now_usec(void);					   /* CLOCK_MONOTONIC */
uint64_t now_realtime_usec(void);				   /* CLOCK_REALTIME */
int format_iso8601(uint64_t realtime_usec, char *buf, size_t len); /* 2026-11-22T03:50:00Z */

/* Files. */
int read_full_file(const char *path, char **ret, size_t *ret_len); /* NUL-terminated */
int read_one_line(const char *path, char **ret);		   /* first line, no '\n' */
int write_string_file(const char *path, const char *s);		   /* open O_WRONLY, write, close */
/* Untrusted input files: never blocks on a FIFO (-EINVAL: not a regular file, -EISDIR), at
 * most max bytes (-EFBIG); NUL-terminated, *ret_len may show embedded NULs. */
int read_regular_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* openat() of one path component that never follows a symlink (openat2 with
 * RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH where the kernel has it, else O_NOFOLLOW).
 * O_CLOEXEC is added.  Returns the fd or a negative errno (-ELOOP: a symlink). */
int openat_nofollow(int dfd, const char *name, int flags, mode_t mode);
/* Write atomically: a new temp file in the same dir (O_EXCL, no symlinks), fsync, rename,
 * fsync dir.  The directory part of path is trusted; the file name is not followed. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* O_APPEND, one write, fsync; a symlink (-ELOOP) or non-regular file (-EINVAL) at the
 * name is refused. */
int append_line_synced(const char *path, const char *line);
int mkdir_p(const char *path, mode_t mode);
/* cwd + path unless absolute (malloc'd; NULL on ENOMEM). */
char *path_absolute(const char *path);
/* "/", "/usr", "/tmp", "/var/tmp", anything under /proc, /sys, /dev, ... (after realpath) */
bool path_is_system_dir(const char *path);
/* Is every existing directory of path (symlinks resolved) safe for kdrill to create files
 * in: owned by us or root, not writable by others unless sticky?  -EPERM/-ENOTDIR with
 * *ret_why (malloc'd) naming the directory and the problem. */
int path_check_private(const char *path, char **ret_why);
int rm_rf(const char *path); /* never crosses mount points */

/* Processes (argv only, never a shell). */
struct spawn_opts {
	const char *cwd;	 /* NULL: inherit */
	char *const *envp;	 /* NULL: inherit environ */
	const char *stdin_path;	 /* NULL: /dev/null */
	const char *stdout_path; /* NULL: inherit; opened O_APPEND|O_CREAT */
	const char *stderr_path; /* NULL: inherit; may equal stdout_path */
	int stdout_fd;		 /* >= 0: dup2 onto stdout (overrides stdout_path); 0 means unset */
	int stderr_fd;		 /* same for stderr */
	bool new_session;	 /* setsid() in the child */
	int pdeathsig;		 /* signal on parent death, 0 = none */
	const char *cgroup_procs; /* write the child's pid here before exec (cgroup.procs/tasks) */
	char *const *cgroup_procs_v; /* NULL-terminated: also write it into each (cgroup v1:
				      * one cgroup.procs per hierarchy), before exec */
	const char
	    *oom_score_adj; /* write to /proc/self/oom_score_adj before exec; NULL: inherit */
};
/* Fork+exec argv[0] (PATH search).  Returns pid or negative errno (exec errors are reported
 * through a CLOEXEC pipe, so ENOENT for a missing program comes back here). */
pid_t spawn_argv(char *const argv[], const struct spawn_opts *opts);
/* The same without waiting for the exec: returns the pid and, in *ret_exec_fd, the
 * non-blocking CLOEXEC status pipe (read end; the caller closes it).  It becomes readable
 * when the child has exec'd (EOF) or failed before/at exec (an errno; the child then
 * _exit(127)s).  For event loops: a child that is slow to exec (e.g. attached to a memcg at
 * its limit) does not block the caller. */
pid_t spawn_argv_async(char *const argv[], const struct spawn_opts *opts, int *ret_exec_fd);
/* Read the status pipe: 0 exec succeeded (or the child died before writing), -EAGAIN not
 * known yet, else the negative errno of the failed exec. */
int spawn_exec_status(int fd);
/* Run to completion; returns exit status (0..255), 128+sig if killed, or negative errno.
 * If out != NULL stdout is captured into *out (NUL-terminated). timeout_usec 0 = none
 * (on timeout the child is SIGKILLed and -ETIMEDOUT returned). */
/* the last lines of a file: at most MAX bytes, trailing blanks dropped, from a line start
 * when the cut falls inside a line; strdup(MISSING) when it cannot be read */
char *file_tail(const char *path, size_t max, const char *missing);
int run_argv(char *const argv[], char **out, uint64_t timeout_usec);
/* run_argv() with the child's other descriptors, directory, ... from BASE (its stdout_fd
 * is replaced by the pipe when OUT is given) */
int run_argv_opts(char *const argv[], const struct spawn_opts *base, char **out,
		  uint64_t timeout_usec);
int wait_status_to_exit(int status); /* WEXITSTATUS or 128+WTERMSIG */
bool pid_alive(pid_t pid);
/* Is pid (named in a leftover's name) still the live owner of a leftover made at
 * created_usec (CLOCK_REALTIME, 0 unknown)?  No for a dead pid, a zombie, or a pid reused
 * by a process that started after the leftover was made.  When it cannot tell: yes. */
bool pid_owner_alive(pid_t pid, uint64_t created_usec);

/* Where kdrill's data (scenarios, units, kvm material) lives: $KDRILL_DATA, else the
 * source tree next to the binary (bin/../), else PREFIX/share/kdrill.  Returns a
 * static string. */
const char *kd_datadir(void);
/* Cache dir: $KDRILL_CACHE, else $XDG_CACHE_HOME/kdrill, else ~/.cache/kdrill. Static. */
const char *kd_cachedir(void);

#endif
