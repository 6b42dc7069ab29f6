// SPDX-License-Identifier: GPL-2.0
/*
 * kdrill trace [--tracefs DIR] [--buffer-kb N] EVENT...
 *
 * Enable kernel tracepoints in a private tracefs instance and copy its trace to stdout
 * until SIGTERM, SIGINT or SIGHUP; then the instance is removed.  Meant as a scenario
 * [load] beside a reproducer, to see what the kernel did in the window the reproducer
 * aims at (the load's stdout is kept in the run directory):
 *
 *   [load.trace]
 *   program = kdrill
 *   args = trace ext4:ext4_evict_inode ext4:ext4_writepages jbd2
 *
 * EVENT is SUBSYSTEM:NAME or SUBSYSTEM (all of its events).  A private instance
 * (instances/kdrill-trace.PID) leaves the global buffer and its settings alone.
 * Exit: 0 stopped by a signal; 2 usage or an unknown event (nothing enabled);
 * 125 no tracefs, or it cannot be set up or read.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "util.h"

static volatile sig_atomic_t trace_stop;

static void trace_on_signal(int sig)
{
	(void)sig;
	trace_stop = 1;
}

static void trace_usage(FILE *f)
{
	fputs("usage: kdrill trace [--tracefs DIR] [--buffer-kb N] EVENT...\n"
	      "Copy kernel tracepoints to stdout until SIGTERM/SIGINT/SIGHUP (a private tracefs\n"
	      "instance, removed at the end).  EVENT: SUBSYSTEM:NAME (ext4:ext4_evict_inode) or\n"
	      "SUBSYSTEM (jbd2: all its events).  --tracefs: default /sys/kernel/tracing (mounted\n"
	      "there if it is not); --buffer-kb: per-CPU buffer (default: the kernel's).\n"
	      "exit: 0 stopped by a signal, 2 usage or unknown event, 125 no usable tracefs\n",
	      f);
}

/* "ext4:ext4_evict_inode" -> "events/ext4/ext4_evict_inode"; "jbd2" -> "events/jbd2".
 * NULL for a malformed name (empty parts, '/', "..", a second ':'). */
static char *event_dir(const char *ev)
{
	const char *colon = strchr(ev, ':');

	if (!*ev || strchr(ev, '/') || strstr(ev, "..") || ev[0] == ':' ||
	    (colon && (!colon[1] || strchr(colon + 1, ':'))))
		return NULL;
	if (!colon)
		return strdupf("events/%s", ev);
	return strdupf("events/%.*s/%s", (int)(colon - ev), ev, colon + 1);
}

static int write_at(const char *dir, const char *rel, const char *s)
{
	_cleanup_free_ char *p = strdupf("%s/%s", dir, rel);

	return p ? write_string_file(p, s) : -ENOMEM;
}

/* Copy fd to stdout until a signal, then what the buffer still holds (the events up to
 * the stop matter most); 0 or negative errno. */
static int copy_pipe(int fd)
{
	char buf[65536];
	bool draining = false;

	for (;;) {
		ssize_t n;

		if (trace_stop && !draining) {
			draining = true;
			if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
				return -errno;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (draining && (n == 0 || (n < 0 && errno == EAGAIN)))
			return 0;
		if (n < 0)
			return -errno;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			off += w;
		}
	}
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"tracefs", required_argument, NULL, 't'},
	    {"buffer-kb", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *tracefs = "/sys/kernel/tracing";
	_cleanup_free_ char *inst = NULL, *events = NULL, *kb = NULL;
	_cleanup_strv_ char **dirs = NULL; /* event_dir() of each EVENT, in order */
	_cleanup_close_ int pipe_fd = -1;
	struct sigaction sa = {.sa_handler = trace_on_signal};
	struct stat st;
	uint64_t buffer_kb = 0;
	int c, r, ret = KD_EXIT_INFRA;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tracefs = optarg;
			break;
		case 'b':
			if (parse_u64(optarg, &buffer_kb) < 0 || buffer_kb == 0 ||
			    buffer_kb > (1u << 20)) {
				fprintf(stderr,
					"kdrill trace: --buffer-kb: '%s' is not 1..1048576\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			break;
		case 'h':
			trace_usage(stdout);
			return 0;
		default:
			trace_usage(stderr);
			return KD_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		trace_usage(stderr);
		return KD_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		char *d = event_dir(argv[i]);

		if (!d) {
			fprintf(stderr, "kdrill trace: '%s' is not SUBSYSTEM:NAME or SUBSYSTEM\n",
				argv[i]);
			return KD_EXIT_USAGE;
		}
		if (strv_push(&dirs, d) < 0)
			return KD_EXIT_INFRA;
	}

	events = strdupf("%s/events", tracefs);
	if (!events)
		return KD_EXIT_INFRA;
	if (stat(events, &st) < 0 && mount("tracefs", tracefs, "tracefs", 0, NULL) < 0) {
		fprintf(stderr, "kdrill trace: %s: no tracefs there and it cannot be mounted: %s\n",
			tracefs, strerror(errno));
		return KD_EXIT_INFRA;
	}
	/* every event must exist before anything is changed */
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *p = strdupf("%s/%s/enable", tracefs, dirs[i - optind]);

		if (!p)
			return KD_EXIT_INFRA;
		if (access(p, F_OK) < 0) {
			fprintf(stderr, "kdrill trace: %s: no such event in %s/events\n", argv[i],
				tracefs);
			return KD_EXIT_USAGE;
		}
	}

	inst = strdupf("%s/instances/kdrill-trace.%d", tracefs, (int)getpid());
	if (!inst)
		return KD_EXIT_INFRA;
	if (mkdir(inst, 0700) < 0) {
		fprintf(stderr, "kdrill trace: mkdir %s: %s\n", inst, strerror(errno));
		return KD_EXIT_INFRA;
	}
	/* signals end the copy from here on; the instance is removed below in any case */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	kb = strdupf("%" PRIu64, buffer_kb);
	if (!kb)
		goto out;
	if (buffer_kb && (r = write_at(inst, "buffer_size_kb", kb)) < 0) {
		fprintf(stderr, "kdrill trace: %s/buffer_size_kb: %s\n", inst, strerror(-r));
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *rel = strdupf("%s/enable", dirs[i - optind]);

		if (!rel)
			goto out;
		r = write_at(inst, rel, "1");
		if (r < 0) {
			fprintf(stderr, "kdrill trace: enabling %s: %s\n", argv[i], strerror(-r));
			goto out;
		}
	}
	{
		_cleanup_free_ char *p = strdupf("%s/trace_pipe", inst);

		pipe_fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
		if (pipe_fd < 0) {
			fprintf(stderr, "kdrill trace: %s/trace_pipe: %s\n", inst, strerror(errno));
			goto out;
		}
	}
	if ((r = write_at(inst, "tracing_on", "1")) < 0) {
		fprintf(stderr, "kdrill trace: %s/tracing_on: %s\n", inst, strerror(-r));
		goto out;
	}
	fprintf(stderr, "kdrill trace: %d event group(s) on in %s\n", argc - optind, inst);
	r = copy_pipe(pipe_fd);
	if (r < 0 && r != -EPIPE) {
		fprintf(stderr, "kdrill trace: copying the trace: %s\n", strerror(-r));
		goto out;
	}
	ret = 0;
out:
	if (pipe_fd >= 0)
		close(pipe_fd);
	pipe_fd = -1;
	/* the instance goes with its events; its ring buffer is freed with it */
	if (rmdir(inst) < 0) {
		fprintf(stderr, "kdrill trace: rmdir %s: %s\n", inst, strerror(errno));
		ret = KD_EXIT_INFRA;
	}
	return ret;
}
