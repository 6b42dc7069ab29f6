// SPDX-License-Identifier: GPL-2.0
/*
 * kdrill demo: the main job on a fresh machine (`make demo` runs it after installing
 * packages and building).  Fetches the default kernel, builds the guest image, runs
 * every seed scenario briefly in a VM plus the two self-tests that prove the hang and
 * crash pipelines, and prints a table of verdicts with where the results are.  The
 * same table goes to <out>/demo-<time>.md and .json (written atomically).
 *
 * Each step is a separate `kdrill` process (argv, never a shell), so the demo uses
 * exactly the commands a user would type, and one scenario failing does not stop
 * the others.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "commands.h"
#include "kernel.h"
#include "util.h"

static void json_object_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}

#define DEMO_DEFAULT_KERNEL "debian:6.1.0-54-cloud-amd64"

/* The plan is the scenario registry: every scenario whose file says what a stock kernel
 * gives (`expect =`), as `kdrill list --json` lists them, the seeds first in seed order.
 * The self-tests provoke a real hang and a real crash, so HANG and BUG pass there. */
static int cmp_plan(const void *a, const void *b)
{
	struct json_object *x = *(struct json_object *const *)a, *y = *(struct json_object *const *)b;
	struct json_object *sx = NULL, *sy = NULL, *nx = NULL, *ny = NULL;
	const char *ax, *ay;

	json_object_object_get_ex(x, "seed_report", &sx);
	json_object_object_get_ex(y, "seed_report", &sy);
	if (!sx != !sy)
		return sx ? -1 : 1;
	if (sx && sy)
		return strcmp(json_object_get_string(sx), json_object_get_string(sy));
	json_object_object_get_ex(x, "name", &nx);
	json_object_object_get_ex(y, "name", &ny);
	ax = json_object_get_string(nx);
	ay = json_object_get_string(ny);
	return strcmp(ax ? ax : "", ay ? ay : "");
}

static void demo_usage(FILE *f)
{
	fputs(
	    "usage: kdrill demo [--kernel REF] [--duration S] [--out DIR] [--only NAME[,NAME...]]\n"
	    "       kdrill demo --host --scratch DIR [...]   (seed scenarios on this machine)\n"
	    "\n"
	    "Fetches REF (default " DEMO_DEFAULT_KERNEL "), builds the guest image,\n"
	    "runs every seed scenario for S seconds (default 20) and the hang/crash\n"
	    "self-tests, prints a table and writes <out>/demo-<time>.md and .json.\n"
	    "exit: 0 every scenario gave its expected verdict, 1 one did not, 125 cannot test\n",
	    f);
}

/* Run `kdrill ARGS...` (this binary); returns its exit code or a negative errno. */
static int run_self(char **args, char **out, bool capture)
{
	_cleanup_strv_ char **argv = NULL;
	int r;

	if (strv_extend(&argv, "/proc/self/exe") < 0)
		return -ENOMEM;
	STRV_FOREACH (a, args)
		if (strv_extend(&argv, *a) < 0)
			return -ENOMEM;
	if (capture)
		return run_argv(argv, out, 0);
	{
		pid_t pid = spawn_argv(argv, &(struct spawn_opts){.stdin_path = "/dev/null"});
		int st;
		if (pid < 0)
			return pid;
		while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
			;
		if (r < 0)
			return -errno;
		return wait_status_to_exit(st);
	}
}

static const char *jstr(struct json_object *o, const char *k, const char *dflt)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
		return dflt;
	return json_object_get_string(v);
}

/* The last line of `kdrill run --json` output that parses as a verdict object. */
static struct json_object *parse_verdict(char *out)
{
	struct json_object *best = NULL;
	char *save = NULL;

	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line);
		if (!o)
			continue;
		if (json_object_is_type(o, json_type_object) && jstr(o, "verdict", NULL)) {
			json_object_put(best);
			best = o;
		} else
			json_object_put(o);
	}
	return best;
}

static bool selected(const char *only, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = only; p && *p;) {
		const char *e = strchrnul(p, ',');
		if ((size_t)(e - p) == n && !strncmp(p, name, n))
			return true;
		p = *e ? e + 1 : e;
	}
	return !only;
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"kernel", required_argument, NULL, 'k'}, {"duration", required_argument, NULL, 'd'},
	    {"out", required_argument, NULL, 'o'},    {"only", required_argument, NULL, 'O'},
	    {"host", no_argument, NULL, 'H'},	      {"scratch", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	const char *kernel = DEMO_DEFAULT_KERNEL, *duration = "20", *out = NULL, *only = NULL;
	const char *scratch = NULL;
	bool host = false;
	_cleanup_(json_object_putp) struct json_object *rows = json_object_new_array();
	_cleanup_(json_object_putp) struct json_object *plan = NULL;
	_cleanup_free_ char *md = NULL, *mdpath = NULL, *jsonpath = NULL;
	size_t mdlen = 0;
	FILE *mdf;
	char stamp[32];
	unsigned n_ok = 0, n_bad = 0, n_infra = 0;
	uint64_t t0 = now_usec();
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		double d;
		switch (c) {
		case 'k':
			kernel = optarg;
			break;
		case 'd':
			if (parse_seconds_range(optarg, KD_DURATION_MIN, KD_DURATION_MAX, &d) < 0) {
				fprintf(
				    stderr,
				    "kdrill demo: --duration: '%s' is not a duration from 1s to "
				    "30 days\n",
				    optarg);
				return KD_EXIT_USAGE;
			}
			duration = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'O':
			only = optarg;
			break;
		case 'H':
			host = true;
			break;
		case 's':
			scratch = optarg;
			break;
		case 'h':
			demo_usage(stdout);
			return KD_EXIT_OK;
		default:
			demo_usage(stderr);
			return KD_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "kdrill demo: unexpected argument '%s'\n", argv[optind]);
		return KD_EXIT_USAGE;
	}
	if (host && !scratch) {
		fprintf(stderr, "kdrill demo: --host needs --scratch DIR\n");
		return KD_EXIT_USAGE;
	}
	if (!host) {
		_cleanup_free_ char *err = NULL;
		if (kd_kernel_ref_check(kernel, &err) < 0) {
			fprintf(stderr, "kdrill demo: --kernel: %s\n", err ? err : kernel);
			return KD_EXIT_USAGE;
		}
	}
	if (!out)
		out = getenv("KDRILL_RESULTS") ? getenv("KDRILL_RESULTS") : "results";
	if (!rows)
		return KD_EXIT_INFRA;
	r = mkdir_p(out, 0755);
	if (r < 0) {
		fprintf(stderr, "kdrill demo: %s: %s\n", out, strerror(-r));
		return KD_EXIT_INFRA;
	}

	if (!host) {
		char *fetch[] = {"kernel", "fetch", (char *)kernel, NULL};
		char *build[] = {"image", "build", NULL};

		printf("== kernel %s\n", kernel);
		fflush(stdout);
		r = run_self(fetch, NULL, false);
		if (r != 0) {
			fprintf(stderr, "kdrill demo: kernel fetch %s failed (exit %d)\n", kernel,
				r);
			return KD_EXIT_INFRA;
		}
		printf("== guest image\n");
		fflush(stdout);
		r = run_self(build, NULL, false);
		if (r != 0) {
			fprintf(stderr, "kdrill demo: image build failed (exit %d)\n", r);
			return KD_EXIT_INFRA;
		}
	}

	{
		_cleanup_free_ char *list = NULL;
		char *largv[] = {"list", "--json", NULL};
		struct json_object *all;
		r = run_self(largv, &list, true);
		all = r == 0 && list ? json_tokener_parse(list) : NULL;
		if (!all || !json_object_is_type(all, json_type_array)) {
			fprintf(stderr, "kdrill demo: kdrill list --json failed (exit %d)\n", r);
			json_object_put(all);
			return KD_EXIT_INFRA;
		}
		plan = json_object_new_array();
		for (size_t i = 0; plan && i < json_object_array_length(all); i++) {
			struct json_object *e = json_object_array_get_idx(all, i);
			if (jstr(e, "expect", NULL))
				json_object_array_add(plan, json_object_get(e));
		}
		json_object_put(all);
		if (!plan)
			return KD_EXIT_INFRA;
		json_object_array_sort(plan, cmp_plan);
	}
	for (size_t i = 0; i < json_object_array_length(plan); i++) {
		struct json_object *entry = json_object_array_get_idx(plan, i), *hx;
		const char *sc = jstr(entry, "name", "?"), *expect = jstr(entry, "expect", "PASS");
		_cleanup_free_ char *output = NULL;
		_cleanup_strv_ char **args = NULL;
		struct json_object *v, *row;
		const char *verdict;
		bool ok;
		uint64_t t1 = now_usec();

		if (!selected(only, sc))
			continue;
		if (host && !(json_object_object_get_ex(entry, "host_ok", &hx) &&
			      json_object_get_boolean(hx)))
			continue; /* VM only (NFS, dm, sysrq) */
		printf("== %-16s %s\n", sc, jstr(entry, "description", ""));
		fflush(stdout);
		if (strv_extend(&args, "run") < 0 || strv_extend(&args, "--quiet") < 0 ||
		    strv_extend(&args, "--json") < 0 || strv_extend(&args, "--out") < 0 ||
		    strv_extend(&args, out) < 0 || strv_extend(&args, "--duration") < 0 ||
		    strv_extend(&args, duration) < 0)
			return KD_EXIT_INFRA;
		if (host) {
			if (strv_extend(&args, "--host") < 0 ||
			    strv_extend(&args, "--scratch") < 0 || strv_extend(&args, scratch) < 0)
				return KD_EXIT_INFRA;
		} else if (strv_extend(&args, "--kernel") < 0 || strv_extend(&args, kernel) < 0)
			return KD_EXIT_INFRA;
		if (strv_extend(&args, sc) < 0)
			return KD_EXIT_INFRA;

		r = run_self(args, &output, true);
		v = output ? parse_verdict(output) : NULL;
		verdict = jstr(v, "verdict", "INFRA");
		ok = !strcmp(verdict, expect);
		if (!strcmp(verdict, "INFRA"))
			n_infra++;
		else if (ok)
			n_ok++;
		else
			n_bad++;
		row = json_object_new_object();
		json_object_object_add(row, "scenario", json_object_new_string(sc));
		json_object_object_add(row, "expect", json_object_new_string(expect));
		json_object_object_add(row, "verdict", json_object_new_string(verdict));
		json_object_object_add(row, "ok", json_object_new_boolean(ok));
		json_object_object_add(row, "exit_code", json_object_new_int(r));
		json_object_object_add(row, "reason",
				       json_object_new_string(v ? jstr(v, "reason", "")
								: "kdrill run gave no verdict"));
		json_object_object_add(row, "run_id",
				       json_object_new_string(jstr(v, "run_id", "")));
		json_object_object_add(row, "wall_s",
				       json_object_new_double((double)(now_usec() - t1) / 1e6));
		json_object_array_add(rows, row);
		printf("   %-7s %s (%s)  %s\n", verdict, ok ? "as expected" : "UNEXPECTED",
		       jstr(v, "run_id", "-"), jstr(v, "reason", ""));
		fflush(stdout);
		json_object_put(v);
	}

	format_iso8601(now_realtime_usec(), stamp, sizeof(stamp));
	mdf = open_memstream(&md, &mdlen);
	if (!mdf)
		return KD_EXIT_INFRA;
	fprintf(mdf,
		"# kdrill demo %s\n\nkernel: `%s` (%s mode), %s s per scenario, %.0f s in all\n\n",
		stamp, host ? "host" : kernel, host ? "host" : "VM", duration,
		(double)(now_usec() - t0) / 1e6);
	fprintf(mdf,
		"| scenario | expected | verdict | | run | reason |\n|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i), *okv;
		json_object_object_get_ex(row, "ok", &okv);
		fprintf(mdf, "| %s | %s | %s | %s | `%s/%s` | %s |\n", jstr(row, "scenario", ""),
			jstr(row, "expect", ""), jstr(row, "verdict", ""),
			json_object_get_boolean(okv) ? "ok" : "**unexpected**", out,
			jstr(row, "run_id", ""), jstr(row, "reason", ""));
	}
	fprintf(mdf, "\n`kdrill show RUN-ID` prints a run's verdict, report excerpt and files.\n");
	fclose(mdf);

	/* File names without ':' so they copy anywhere. */
	for (char *p = stamp; *p; p++)
		if (*p == ':')
			*p = '-';
	mdpath = strdupf("%s/demo-%s.md", out, stamp);
	jsonpath = strdupf("%s/demo-%s.json", out, stamp);
	if (!mdpath || !jsonpath)
		return KD_EXIT_INFRA;
	r = write_file_atomic(mdpath, md, mdlen, 0644);
	if (r >= 0) {
		const char *js = json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PRETTY);
		r = write_file_atomic(jsonpath, js, strlen(js), 0644);
	}
	if (r < 0) {
		fprintf(stderr, "kdrill demo: writing the report under %s: %s\n", out,
			strerror(-r));
		return KD_EXIT_INFRA;
	}
	printf("\n%s", md);
	printf("\nreport: %s (and %s)\n", mdpath, jsonpath);
	if (n_bad)
		return KD_EXIT_BAD;
	if (n_infra || !n_ok)
		return KD_EXIT_INFRA;
	return KD_EXIT_OK;
}
