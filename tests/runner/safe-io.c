// SPDX-License-Identifier: GPL-2.0
/* Unit test of the file and duration helpers in harness/common/util.c that guard against
 * hostile input: writes that must not follow planted symlinks or block on FIFOs, input
 * files that must be regular, directories others could write to, durations that must be
 * decimal and bounded, text escaped for XML and HTML.  Root-free.
 * Usage: safe-io-test SCRATCH-DIR */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results.h"
#include "util.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond)                                                                          \
			printf("ok   %s\n", #cond);                                                \
		else {                                                                             \
			printf("FAIL %s: ", #cond);                                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static bool file_is(const char *p, const char *want)
{
	_cleanup_free_ char *s = NULL;
	return read_full_file(p, &s, NULL) == 0 && !strcmp(s, want);
}

int main(int argc, char **argv)
{
	const char *d = argc > 1 ? argv[1] : NULL;
	char *p, *q, *s, *why = NULL;
	struct stat st;
	double v = -1;
	int r;

	if (!d)
		return 2;
	alarm(20); /* a FIFO that blocks fails the test instead of hanging it */

	/* durations */
	CHECK(parse_seconds("0x10", &v) == -EINVAL, "0x10 -> %g", v);
	CHECK(parse_seconds("1e400", &v) == -ERANGE, "1e400");
	CHECK(parse_seconds("inf", &v) == -EINVAL, "inf");
	CHECK(parse_seconds_range("1e14", 1, 86400, &v) == -ERANGE, "1e14");
	CHECK(parse_seconds_range("1e-9", 1, 86400, &v) == -ERANGE, "1e-9");
	CHECK(parse_seconds_range("1.5m", 1, 86400, &v) == 0 && v == 90, "1.5m -> %g", v);
	CHECK(usec_from_secs(1e300) == UINT64_MAX / 2, "1e300 s");
	CHECK(usec_from_secs(NAN) == 0 && usec_from_secs(-1) == 0, "nan/negative");
	CHECK(usec_from_secs(1.5) == 1500000, "1.5 s");

	/* write_file_atomic: neither its temp name nor the final name is followed */
	p = strdupf("%s/victim", d);
	write_file_atomic(p, "precious\n", 9, 0644);
	q = strdupf("%s/f.tmp.%d", d, (int)getpid());
	r = symlink(p, q);
	s = strdupf("%s/f", d);
	r = write_file_atomic(s, "new\n", 4, 0644);
	CHECK(r == 0, "write_file_atomic with a planted temp symlink: %s", strerror(-r));
	CHECK(file_is(p, "precious\n"), "victim written through the temp name");
	CHECK(lstat(s, &st) == 0 && S_ISREG(st.st_mode), "f is not a regular file");
	free(q);
	free(s);
	s = strdupf("%s/g", d);
	r = symlink(p, s);
	r = write_file_atomic(s, "new\n", 4, 0644);
	CHECK(r == 0 && lstat(s, &st) == 0 && S_ISREG(st.st_mode), "g: %d", r);
	CHECK(file_is(p, "precious\n"), "victim written through the final name");
	free(s);

	/* append_line_synced: a symlink or a FIFO at the name is refused, at once */
	s = strdupf("%s/index.jsonl", d);
	r = symlink(p, s);
	r = append_line_synced(s, "{}");
	CHECK(r == -ELOOP, "append through a symlink: %d", r);
	CHECK(file_is(p, "precious\n"), "victim appended to");
	free(s);
	s = strdupf("%s/fifo", d);
	mkfifo(s, 0644);
	r = append_line_synced(s, "{}");
	CHECK(r == -ENXIO || r == -EINVAL, "append to a FIFO: %d", r);

	/* read_regular_file */
	r = read_regular_file(s, 1024, &q, NULL);
	CHECK(r == -EINVAL, "read a FIFO: %d", r);
	r = read_regular_file(d, 1024, &q, NULL);
	CHECK(r == -EISDIR, "read a directory: %d", r);
	r = read_regular_file(p, 4, &q, NULL);
	CHECK(r == -EFBIG, "read past max: %d", r);
	free(s);

	/* path_check_private */
	s = strdupf("%s/ww", d);
	mkdir(s, 0777);
	chmod(s, 0777);
	r = path_check_private(s, &why);
	CHECK(r == -EPERM && why && strstr(why, "world-writable without the sticky bit"),
	      "ww: %d %s", r, why);
	free(why);
	q = strdupf("%s/not/yet", s);
	r = path_check_private(q, &why);
	CHECK(r == -EPERM, "under ww: %d", r);
	free(why);
	free(q);
	q = strdupf("%s/link", d);
	r = symlink(s, q);
	r = path_check_private(q, &why);
	CHECK(r == -EPERM, "symlink to ww: %d", r);
	free(why);
	chmod(s, 01777);
	r = path_check_private(q, &why);
	CHECK(r == 0, "sticky: %d %s", r, why ? why : "");
	free(why);
	r = path_check_private(p, &why);
	CHECK(r == -ENOTDIR, "a file: %d", r);
	free(why);
	free(q);
	free(s);

	/* run directories: every name a run could get is a planted symlink (16-bit random
	 * suffix, fixed time): no attempt follows one, the run gets no directory */
	{
		const uint64_t t = 1800000000ULL * 1000000ULL; /* 2027-01-15T08:00:00Z */
		_cleanup_free_ char *out = strdupf("%s/out", d), *target = strdupf("%s/tgt", d);
		char *id = NULL, *dir = NULL;
		unsigned planted = 0;
		mkdir(out, 0755);
		mkdir(target, 0755);
		for (unsigned x = 0; x < 0x10000; x++) {
			_cleanup_free_ char *l = strdupf("%s/20270115-080000-lbl-%04x", out, x);
			planted += symlink(target, l) == 0;
		}
		r = results_new_run_dir(out, NULL, "lbl", t, &id, &dir);
		CHECK(planted == 0x10000 && r == -EEXIST && !id && !dir, "%u planted, r=%d dir=%s",
		      planted, r, dir ? dir : "-");
		CHECK(rmdir(target) == 0, "something was created in the symlinks' target");
		r = results_new_run_dir(out, NULL, "lbl", t + 3600000000ULL, &id, &dir);
		CHECK(r == 0 && dir && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode), "r=%d", r);
		CHECK(id && !strncmp(id, "20270115-090000-lbl-", 20) && strlen(id) == 24, "id %s",
		      id ? id : "-");
		free(id);
		free(dir);
		id = dir = NULL;
		/* the same with a workflow's prefix (validate-..., bisect-...) */
		planted = 0;
		mkdir(target, 0755);
		for (unsigned x = 0; x < 0x10000; x++) {
			_cleanup_free_ char *l =
			    strdupf("%s/bisect-20270115-080000-lbl-%04x", out, x);
			planted += symlink(target, l) == 0;
		}
		r = results_new_run_dir(out, "bisect", "lbl", t, &id, &dir);
		CHECK(planted == 0x10000 && r == -EEXIST && !id && !dir, "%u planted, r=%d dir=%s",
		      planted, r, dir ? dir : "-");
		CHECK(rmdir(target) == 0, "something was created in the symlinks' target");
		r = results_new_run_dir(out, "bisect", "lbl", t + 3600000000ULL, &id, &dir);
		CHECK(r == 0 && dir && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode), "r=%d", r);
		CHECK(id && !strncmp(id, "bisect-20270115-090000-lbl-", 27) && strlen(id) == 31 &&
			  !strcmp(strrchr(dir, '/') + 1, id),
		      "id %s dir %s", id ? id : "-", dir ? dir : "-");
		free(id);
		free(dir);
	}

	/* XML/HTML escaping of hostile text (titles, reasons, scenario names) */
	{
		const char *in = "a<b>&\"'\x01\r\x1b\x7f\n\t\xc3\xa9z";
		_cleanup_free_ char *x = xml_escape(in, 0), *xd = xml_escape(in, XML_ESC_DEL);
		_cleanup_free_ char *n = xml_escape(NULL, 0);
		CHECK(x && !strcmp(x, "a&lt;b&gt;&amp;&quot;&#39;???\x7f\n\t\xc3\xa9z"), "got '%s'",
		      x ? x : "(null)");
		CHECK(xd && !strcmp(xd, "a&lt;b&gt;&amp;&quot;&#39;????\n\t\xc3\xa9z"), "got '%s'",
		      xd ? xd : "(null)");
		CHECK(n && !*n, "NULL -> '%s'", n ? n : "(null)");
	}

	CHECK(path_is_system_dir("/") && path_is_system_dir("/usr/") && path_is_system_dir("/tmp"),
	      "system dirs");
	CHECK(path_is_system_dir("/proc/self") && path_is_system_dir("/sys/kernel"), "proc/sys");
	CHECK(!path_is_system_dir(d), "%s", d);
	free(p);
	printf("%s\n", failures ? "FAILED" : "all passed");
	return failures ? 1 : 0;
}
