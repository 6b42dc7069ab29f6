// SPDX-License-Identifier: GPL-2.0
/*
 * kdrill scan [--json] [--follow] [FILE|-]...
 * Run the console detector over files (or stdin) and print one paragraph (or
 * one JSON object per line) per report.  Exit 0: no report; 1: at least one
 * crash/hang/warning/lockdep/memory-safety/fs-error report; 2: usage or an
 * unreadable input.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "commands.h"
#include "detect-internal.h"
#include "detect.h"
#include "util.h"

/* read() into a cache-sized buffer: faster than mmap here (page faults cost
 * more than the copy on a VM) */
#define READ_CHUNK (512u << 10)
#define QUIET_USEC (1000u * 1000u)

struct scan {
	bool json, follow;
	const char *file; /* shown in output when scanning several files */
	bool failed;	  /* saw a failure-class report */
	size_t nreports;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_report(const struct kd_report *r, struct scan *s)
{
	if (s->json) {
		struct json_object *o = kd_report_to_json(r);
		if (!o)
			return;
		if (s->file)
			json_object_object_add(o, "file", json_object_new_string(s->file));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("%s%s%s: %s\n", s->file ? s->file : "", s->file ? ": " : "",
		       kd_class_name(r->cls), r->title);
		printf("  lines %llu-%llu", (unsigned long long)r->first_line,
		       (unsigned long long)r->last_line);
		if (r->task)
			printf(", task %s", r->task);
		if (r->frame)
			printf(", frame %s", r->frame);
		if (r->cls == KD_CLASS_OOM && r->memcg)
			printf(", memcg %s", r->memcg);
		if (r->cls == KD_CLASS_OOM && r->victim)
			printf(", victim %s", r->victim);
		if (r->count > 1 && r->cls != KD_CLASS_SUMMARY)
			printf(", seen %u times", r->count);
		if (r->corrupted)
			printf(", corrupted");
		printf("\n");
		const char *ex = r->cls == KD_CLASS_SUMMARY ? r->summary_text : r->excerpt;
		unsigned shown = 0, max = r->cls == KD_CLASS_SUMMARY ? 40 : 8;
		for (const char *p = ex; p && *p && shown < max; shown++) {
			const char *nl = strchr(p, '\n');
			int l = nl ? (int)(nl - p) : (int)strlen(p);
			printf("  | %.*s\n", l, p);
			p = nl ? nl + 1 : p + l;
		}
		printf("\n");
	}
	fflush(stdout);
}

static void on_report(const struct kd_report *r, bool first, void *userdata)
{
	struct scan *s = userdata;
	if (first) {
		s->nreports++;
		if (kd_class_is_failure(r->cls))
			s->failed = true;
	}
	if (s->follow)
		print_report(r, s);
}

/* --follow on a regular file at EOF, like tail -F: a file truncated below the
 * read offset is read again from its start; a file renamed away (rotation)
 * is left for the new file at `path` once that exists.  Returns 1 if reading
 * should go on at once, 0 to wait, <0 on error.  A partial last line is ended
 * first so that it does not glue onto the next file's first line. */
static int follow_reopen(const char *path, int *fdp, struct kd_detector *d, bool *partial,
			 char *buf)
{
	struct stat fst, pst;
	if (fstat(*fdp, &fst) < 0)
		return -errno;
	off_t off = lseek(*fdp, 0, SEEK_CUR);
	bool truncated = off > 0 && fst.st_size < off;
	bool rotated = path && stat(path, &pst) == 0 &&
		       (pst.st_ino != fst.st_ino || pst.st_dev != fst.st_dev);
	if (!truncated && !rotated)
		return 0;
	/* what was appended to the old file between our last read and the rename */
	for (ssize_t n; rotated && (n = read(*fdp, buf, READ_CHUNK)) != 0;) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		int r = kd_detector_feed(d, buf, (size_t)n);
		if (r < 0)
			return r;
		*partial = buf[n - 1] != '\n';
	}
	if (*partial) {
		int r = kd_detector_feed(d, "\n", 1);
		if (r < 0)
			return r;
		*partial = false;
	}
	if (rotated) {
		int nfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nfd < 0)
			return errno == ENOENT ? 0 : -errno;
		close(*fdp);
		*fdp = nfd;
		return 1;
	}
	if (lseek(*fdp, 0, SEEK_SET) < 0)
		return -errno;
	return 1;
}

/* Read fd to EOF (or, with --follow, forever) into the detector.  `path` is
 * the followed file's name (NULL for stdin), to notice rotation. */
static int scan_fd(int *fdp, const char *path, struct kd_detector *d, struct scan *s)
{
	_cleanup_free_ char *buf = malloc(READ_CHUNK);
	if (!buf)
		return -ENOMEM;
	struct stat st;
	bool regular = fstat(*fdp, &st) == 0 && S_ISREG(st.st_mode);
	uint64_t last_data = now_usec();
	bool flushed = true, partial = false;
	for (;;) {
		if (stop)
			return 0;
		if (s->follow && !regular) {
			struct pollfd p = {.fd = *fdp, .events = POLLIN};
			int pr = poll(&p, 1, 250);
			if (pr < 0 && errno != EINTR)
				return -errno;
			if (pr <= 0) {
				if (!flushed && now_usec() - last_data >= QUIET_USEC) {
					int r = kd_detector_flush(d);
					if (r < 0)
						return r;
					flushed = true;
				}
				continue;
			}
		}
		ssize_t n = read(*fdp, buf, READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (!s->follow || !regular)
				return 0;
			int r = follow_reopen(path, fdp, d, &partial, buf);
			if (r < 0)
				return r;
			if (r > 0)
				continue;
			if (!flushed && now_usec() - last_data >= QUIET_USEC) {
				r = kd_detector_flush(d);
				if (r < 0)
					return r;
				flushed = true;
			}
			struct timespec ts = {0, 200 * 1000 * 1000};
			nanosleep(&ts, NULL);
			continue;
		}
		int r = kd_detector_feed(d, buf, (size_t)n);
		if (r < 0)
			return r;
		partial = buf[n - 1] != '\n';
		last_data = now_usec();
		flushed = false;
	}
}

/* The trigger patterns as an ERE list (one per line), for `grep -E -f` in
 * the benchmark: the same prefixes the detector looks for. */
static void print_patterns(void)
{
	for (size_t i = 0; i < kd_n_rules; i++) {
		const struct kd_rule *ru = &kd_rules[i];
		if (ru->kind == KK_NOISE || ru->kind == KK_NOISE_LINE)
			continue;
		for (const char *p = ru->prefix; *p; p++) {
			if (strchr("\\.[]()*+?{}|^$", *p))
				putchar('\\');
			putchar(*p);
		}
		if (ru->contains) {
			printf(".*");
			for (const char *p = ru->contains; *p; p++) {
				if (strchr("\\.[]()*+?{}|^$", *p))
					putchar('\\');
				putchar(*p);
			}
		}
		putchar('\n');
	}
	for (size_t i = 0; i < kd_n_comm_rules; i++)
		printf(" %s\n", kd_comm_rules[i].prefix);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: kdrill scan [--json] [--follow] [FILE|-]...\n"
		   "Find kernel reports (crash, hang, warning, lockdep, memory-safety, oom,\n"
		   "fs-error) in console logs, dmesg or /dev/kmsg output.\n\n"
		   "  --json      one JSON object per report and line (docs/detector.md)\n"
		   "  --follow    keep reading a growing file or a pipe; print reports as found\n"
		   "  --patterns  print the trigger prefixes as an ERE list and exit\n\n"
		   "exit: 0 no report, 1 crash/hang/warning/lockdep/memory-safety/fs-error found,\n"
		   "      2 usage or unreadable input (oom alone is not a failure)\n");
}

int cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"follow", no_argument, NULL, 'f'},
	    {"patterns", no_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct scan s = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jfh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			s.json = true;
			break;
		case 'f':
			s.follow = true;
			break;
		case 'P':
			print_patterns();
			return KD_EXIT_OK;
		case 'h':
			usage(stdout);
			return KD_EXIT_OK;
		default:
			usage(stderr);
			return KD_EXIT_USAGE;
		}
	}
	char *stdin_only[] = {(char *)"-", NULL};
	char **files = optind < argc ? argv + optind : stdin_only;
	int nfiles = optind < argc ? argc - optind : 1;
	if (s.follow && nfiles > 1) {
		fprintf(stderr, "kdrill scan: --follow takes one input\n");
		return KD_EXIT_USAGE;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int rc = KD_EXIT_OK;
	for (int i = 0; i < nfiles; i++) {
		const char *path = files[i];
		bool is_stdin = !strcmp(path, "-");
		_cleanup_close_ int fd =
		    is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "kdrill scan: %s: %s\n", path, strerror(errno));
			rc = KD_EXIT_USAGE;
			continue;
		}
		s.file = nfiles > 1 ? path : NULL;
		struct kd_detector *d = NULL;
		int r = kd_detector_new(&d, on_report, &s);
		if (r < 0) {
			fprintf(stderr, "kdrill scan: %s\n", strerror(-r));
			return KD_EXIT_INFRA;
		}
		r = scan_fd(&fd, is_stdin ? NULL : path, d, &s);
		if (r >= 0)
			r = kd_detector_finish(d);
		if (r < 0) {
			fprintf(stderr, "kdrill scan: %s: %s\n", path, strerror(-r));
			rc = KD_EXIT_USAGE;
		}
		if (!s.follow)
			for (size_t k = 0; k < kd_detector_n_reports(d); k++)
				print_report(kd_detector_report(d, k), &s);
		kd_detector_free(d);
	}
	if (rc == KD_EXIT_OK && s.failed)
		rc = KD_EXIT_BAD;
	return rc;
}
