// SPDX-License-Identifier: GPL-2.0
/*
 * kdrill lava job | dut | collect — kdrill cells on a LAVA lab (docs/lava.md).
 *
 *   job      on the lab's side: export kdrill's kernel, initramfs, root image and modules
 *            image for REF and write (and with --submit, submit) the LAVA job definition
 *   dut      on the device, from the job's test shell: run each scenario in host mode on
 *            the device's own kernel, report it with lava-test-case, print the verdict
 *   collect  back on the lab's side: read a finished job's log (lavacli) into run
 *            directories and index.jsonl, like local runs
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "detect.h"
#include "image.h"
#include "kernel.h"
#include "lava.h"
#include "plan.h"
#include "results.h"
#include "scenario.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kdrill lava job --kernel REF [--duration S] [--out DIR] [--url-base URL]\n"
		"                       [--name NAME] [--submit] [--identity ID] SCENARIO...\n"
		"       kdrill lava job --plan PLAN [same options]\n"
		"       kdrill lava dut [--duration S] [--scratch DIR] [--out DIR] SCENARIO...\n"
		"       kdrill lava collect [--identity ID] [--out DIR] JOB-ID...\n"
		"job: export the kernel, initramfs, root and modules images (DIR/artifacts) and write\n"
		"     DIR/<name>.yaml; --url-base: where the lab serves DIR/artifacts (default\n"
		"     file:// paths, for a dispatcher on this machine); --submit: lavacli jobs submit.\n"
		"     --plan: a matrix plan (docs/matrix.md): one job per kernel and run.\n"
		"dut: inside the LAVA device (the job's test step).\n"
		"collect: a finished job's verdicts into run directories under --out (default\n"
		"     ./results) and index.jsonl; a scenario that killed the device gets the kernel\n"
		"     report kdrill's detector finds in the console LAVA recorded.\n"
		"--identity: lavacli identity (default kdrill, as kvm/lava/lava-lab sets up).\n"
		"Exit: 0 ok, 1 (collect) a cell failed, 2 usage, 125 cannot export/submit/fetch.\n");
}

enum { OPT_KERNEL = 256, OPT_DURATION, OPT_OUT, OPT_URL, OPT_NAME, OPT_SUBMIT, OPT_ID, OPT_SCRATCH,
       OPT_PLAN };

static const struct option options[] = {
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"plan", required_argument, NULL, OPT_PLAN},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"out", required_argument, NULL, OPT_OUT},
    {"url-base", required_argument, NULL, OPT_URL},
    {"name", required_argument, NULL, OPT_NAME},
    {"submit", no_argument, NULL, OPT_SUBMIT},
    {"identity", required_argument, NULL, OPT_ID},
    {"scratch", required_argument, NULL, OPT_SCRATCH},
    {"help", no_argument, NULL, 'h'},
    {0},
};

struct lopts {
	const char *kernel, *out, *url, *name, *identity, *scratch, *plan;
	double duration;
	bool submit;
};

/* ---- job ---------------------------------------------------------------------------- */

/* DIR/artifacts/NAME: a hard link to (or a copy of) SRC */
static int export_file(const char *src, const char *dir, const char *name, char **ret)
{
	_cleanup_free_ char *dst = strdupf("%s/%s", dir, name);
	if (!dst)
		return -ENOMEM;
	if (access(dst, F_OK) != 0 && link(src, dst) < 0) {
		char *argv[] = {"cp", "--sparse=always", (char *)src, dst, NULL};
		int r = run_argv(argv, NULL, 0);
		if (r != 0)
			return r < 0 ? r : -EIO;
	}
	*ret = TAKE_PTR(dst);
	return 0;
}

static char *url_of(const struct lopts *o, const char *path)
{
	const char *base = strrchr(path, '/') + 1;
	if (o->url)
		return strdupf("%s%s%s", o->url, endswith(o->url, "/") ? "" : "/", base);
	return strdupf("file://%s", path);
}

static int job_one(const struct lopts *o, const char *kernel, double duration,
		   const char *suffix, char **scen)
{
	_cleanup_free_ char *err = NULL, *root = NULL, *initrd = NULL, *mods = NULL, *art = NULL,
			    *out = NULL, *lroot = NULL, *e_kernel = NULL, *e_initrd = NULL,
			    *e_mods = NULL, *name = NULL, *yaml = NULL, *script = NULL, *log = NULL;
	_cleanup_strv_ char **names = NULL;
	struct kd_kernel *k = NULL;
	int r, rc = KD_EXIT_INFRA;

	if ((r = kd_kernel_ref_check(kernel, &err)) < 0) {
		fprintf(stderr, "kdrill lava job: %s\n", err ? err : strerror(-r));
		return KD_EXIT_USAGE;
	}
	for (char **s = scen; *s; s++) {
		_cleanup_free_ char *e = NULL;
		struct scenario *sc = NULL;
		if (!lava_name_ok(*s)) {
			fprintf(stderr, "kdrill lava job: '%s': not a scenario[:variant] name\n", *s);
			return KD_EXIT_USAGE;
		}
		if ((r = scenario_load(*s, NULL, &sc, &e)) < 0) {
			fprintf(stderr, "kdrill lava job: %s\n", e ? e : strerror(-r));
			return KD_EXIT_USAGE;
		}
		if (!sc->host_ok) {
			fprintf(stderr,
				"kdrill lava job: %s: runs on the device in host mode, which refuses "
				"it: %s\n",
				sc->name, sc->host_refusal);
			scenario_free(sc);
			return KD_EXIT_USAGE;
		}
		scenario_free(sc);
		if (strv_extend(&names, *s) < 0)
			return KD_EXIT_INFRA;
	}

	out = path_absolute(o->out ? o->out : "lava-jobs");
	if (!out)
		return KD_EXIT_INFRA;
	art = strdupf("%s/artifacts", out);
	script = strdupf("%s/kvm/image.sh", kd_datadir());
	log = strdupf("%s/export.log", out);
	if (!art || !script || !log || mkdir_p(art, 0755) < 0) {
		fprintf(stderr, "kdrill lava job: cannot create %s\n", art ? art : out);
		return KD_EXIT_INFRA;
	}
	r = kd_kernel_resolve(kernel, KD_KERNEL_FETCH, &k, &err);
	if (r >= 0)
		r = kd_image_root(true, &root, &err);
	if (r >= 0)
		r = kd_kernel_initrd(k, &initrd, &err);
	if (r >= 0)
		r = kd_kernel_modules_img(k, &mods, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill lava job: %s\n", err ? err : strerror(-r));
		goto out;
	}
	/* names carry the content key of their cache entry, so a lab that serves many
	 * kernels and kdrill versions from one directory never mixes them up */
	{
		_cleanup_free_ char *kn = strdupf("%s-%s", k->key, strrchr(k->vmlinuz, '/') + 1),
				    *in = strdupf("%s-%s", k->key, strrchr(initrd, '/') + 1),
				    *mn = mods ? strdupf("%s-%s", k->key, strrchr(mods, '/') + 1)
					       : strdup("-"),
				    *rb = strdup(strrchr(root, '/') + 1);
		if (!kn || !in || !mn || !rb)
			goto out;
		char *dot = strrchr(rb, '.');
		if (dot)
			*dot = 0;
		lroot = strdupf("%s/lava-%s.img.zst", art, rb);
		if (!lroot || export_file(k->vmlinuz, art, kn, &e_kernel) < 0 ||
		    export_file(initrd, art, in, &e_initrd) < 0 ||
		    (mods && export_file(mods, art, mn, &e_mods) < 0)) {
			fprintf(stderr, "kdrill lava job: cannot export the kernel files into %s\n",
				art);
			goto out;
		}
	}
	if (access(lroot, F_OK) != 0) {
		/* the root image with room for host mode's scratch images, zstd-compressed */
		char *argv[] = {script, "lava-root", root, lroot, NULL};
		r = kd_run_logged(argv, NULL, log);
		if (r != 0) {
			fprintf(stderr, "kdrill lava job: exporting the root image failed (see %s)\n",
				log);
			goto out;
		}
	}
	{
		_cleanup_free_ char *ku = url_of(o, e_kernel), *iu = url_of(o, e_initrd),
				    *ru = url_of(o, lroot), *mu = e_mods ? url_of(o, e_mods) : NULL;
		_cleanup_free_ char *joined = strv_join(names, ",");
		if (!ku || !iu || !ru || (e_mods && !mu) || !joined)
			goto out;
		name = o->name ? strdupf("%s%s", o->name, suffix)
			       : strdupf("kdrill-%s-%s%s", k->key, joined, suffix);
		if (!name)
			goto out;
		for (char *c = name; *c; c++)
			if (*c == '/' || *c == ' ')
				*c = '_';
		struct lava_job j = {
		    .name = name,
		    .device_type = "qemu",
		    .kernel_ref = kernel,
		    .kernel_url = ku,
		    .initrd_url = iu,
		    .rootfs_url = ru,
		    .modules_url = mu,
		    .rootfs_compression = "zstd",
		    .scenarios = names,
		    .duration = duration,
		    .test_minutes = 10 + (unsigned)strv_length(names) *
					     (duration > 0 ? (unsigned)(duration / 60) + 4 : 8),
		};
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (!f)
			goto out;
		r = lava_job_write(&j, f);
		fclose(f);
		if (r < 0)
			goto out;
		yaml = strdupf("%s/%s.yaml", out, name);
		if (!yaml || write_file_atomic(yaml, text, len, 0644) < 0) {
			fprintf(stderr, "kdrill lava job: cannot write %s\n", yaml ? yaml : out);
			goto out;
		}
	}
	printf("%s\n", yaml);
	rc = KD_EXIT_OK;
	if (o->submit) {
		_cleanup_free_ char *id = NULL;
		char *argv[] = {"lavacli", "-i", (char *)o->identity, "jobs", "submit", yaml, NULL};
		r = run_argv(argv, &id, 120 * 1000000ULL);
		if (r != 0) {
			fprintf(stderr, "kdrill lava job: lavacli jobs submit failed (%d)%s%s\n", r,
				id ? ": " : "", id ? strstrip(id) : "");
			rc = KD_EXIT_INFRA;
		} else
			printf("submitted: job %s\n", strstrip(id));
	}
out:
	kd_kernel_free(k);
	return rc;
}

/* A matrix plan (docs/matrix.md): one job per kernel and round (runs) with the plan's
 * scenarios for that kernel; a scenario that crashes the device on purpose gets a job of
 * its own (it would end the others). */
static int job_plan(const struct lopts *o, const char *path)
{
	_cleanup_(mx_plan_freep) struct mx_plan *p = NULL;
	_cleanup_free_ char *err = NULL;
	int r = mx_plan_load(path, &p, &err), rc = KD_EXIT_OK;

	if (r < 0) {
		fprintf(stderr, "kdrill lava job: %s\n", err ? err : strerror(-r));
		return r == -ENOMEM ? KD_EXIT_INFRA : KD_EXIT_USAGE;
	}
	if (p->host) {
		fprintf(stderr, "kdrill lava job: %s: a host-mode plan has no kernels to deploy\n",
			path);
		return KD_EXIT_USAGE;
	}
	for (size_t i = 0; i < p->n_cells; i++)
		if (p->cells[i].params && p->cells[i].params[0]) {
			fprintf(stderr,
				"%s:%u: %s: LAVA jobs run scenarios with their default parameters "
				"(kdrill lava dut takes no per-scenario parameters)\n",
				path, p->cells[i].line, p->cells[i].key);
			return KD_EXIT_USAGE;
		}
	STRV_FOREACH (k, p->kernels) {
		_cleanup_strv_ char **scen = NULL, **alone = NULL;
		for (size_t i = 0; i < p->n_cells; i++) {
			const struct mx_cell *c = &p->cells[i];
			_cleanup_free_ char *spec = NULL, *serr = NULL;
			struct scenario *sc = NULL;
			if (strcmp(c->kernel, *k))
				continue;
			spec = c->variant ? strdupf("%s:%s", c->scenario, c->variant)
					  : strdup(c->scenario);
			if (!spec)
				return KD_EXIT_INFRA;
			bool crashes = scenario_load(spec, NULL, &sc, &serr) >= 0 && sc->host_destructive;
			scenario_free(sc);
			if (strv_extend(crashes ? &alone : &scen, spec) < 0)
				return KD_EXIT_INFRA;
		}
		for (unsigned run = 1; run <= (p->runs ? p->runs : 1); run++) {
			for (size_t j = 0; j <= strv_length(alone); j++) {
				char *one[2] = {j < strv_length(alone) ? alone[j] : NULL, NULL};
				char **list = one[0] ? one : scen;
				_cleanup_free_ char *suffix =
				    p->runs > 1 ? strdupf("-r%u", run) : strdup("");
				if (!list || !*list)
					continue;
				int x = suffix ? job_one(o, *k,
							 o->duration > 0 ? o->duration : p->duration,
							 suffix, list)
					       : KD_EXIT_INFRA;
				if (x != KD_EXIT_OK)
					rc = x;
				if (x == KD_EXIT_USAGE)
					return x;
			}
		}
	}
	return rc;
}

static int cmd_job(const struct lopts *o, char **scen)
{
	if (o->plan) {
		if (o->kernel || *scen) {
			fprintf(stderr, "kdrill lava job: --plan PLAN takes no --kernel and no "
					"scenarios (the plan names them)\n");
			return KD_EXIT_USAGE;
		}
		return job_plan(o, o->plan);
	}
	if (!o->kernel || !*scen) {
		fprintf(stderr, "kdrill lava job: --kernel REF and scenarios (or --plan PLAN)\n");
		return KD_EXIT_USAGE;
	}
	return job_one(o, o->kernel, o->duration, "", scen);
}

/* ---- dut ---------------------------------------------------------------------------- */

static void lava_test_case(const char *name, const char *result, const char *measurement,
			   const char *units)
{
	char *argv[] = {"lava-test-case", (char *)name, "--result", (char *)result,
			measurement ? "--measurement" : NULL, (char *)measurement,
			"--units", (char *)units, NULL};
	if (run_argv(argv, NULL, 60 * 1000000ULL) != 0)
		fprintf(stderr, "kdrill lava dut: lava-test-case %s failed (not in a LAVA job?)\n",
			name);
}

static const char *lava_result(const char *verdict)
{
	if (!verdict)
		return "unknown";
	if (!strcmp(verdict, "PASS"))
		return "pass";
	if (!strcmp(verdict, "INFRA"))
		return "unknown";
	return "fail";
}

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* the compact line collect falls back on when a b64 chunk got mangled on the console */
static struct json_object *summary_of(struct json_object *v)
{
	struct json_object *s = json_object_new_object(), *c = get(v, "counters");
	static const char *keys[] = {"run_id", "scenario", "variant", "verdict", "exit_code",
				     "match", "time_to_report_s", "duration_s"};
	if (!s)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		struct json_object *x = get(v, keys[i]);
		json_object_object_add(s, keys[i], x ? json_object_get(x) : NULL);
	}
	const char *reason = json_object_get_string(get(v, "reason"));
	_cleanup_free_ char *r = strndup(reason ? reason : "", 300);
	json_object_object_add(s, "reason", json_object_new_string(r ? r : ""));
	if (c) {
		json_object_object_add(s, "ops", json_object_get(get(c, "ops")));
		json_object_object_add(s, "oom_kills", json_object_get(get(c, "oom_kills")));
	}
	return s;
}

static int dut_one(const struct lopts *o, const char *scen, const char *scratch,
		   const char *outdir)
{
	_cleanup_free_ char *dur = NULL, *json = NULL, *vtext = NULL, *b64 = NULL, *vpath = NULL;
	struct json_object *v = NULL;
	const char *verdict = NULL;
	char *argv[16];
	size_t n = 0;
	int r;

	printf("%s%s\n", LAVA_MARK_START, scen);
	fflush(stdout);
	argv[n++] = "/proc/self/exe";
	argv[n++] = "run";
	argv[n++] = "--host";
	argv[n++] = "--dut";
	argv[n++] = "--scratch";
	argv[n++] = (char *)scratch;
	argv[n++] = "--out";
	argv[n++] = (char *)outdir;
	argv[n++] = "--json";
	argv[n++] = "--quiet";
	if (o->duration > 0) {
		if (!(dur = strdupf("%.0f", o->duration)))
			return -ENOMEM;
		argv[n++] = "--duration";
		argv[n++] = dur;
	}
	argv[n++] = (char *)scen;
	argv[n] = NULL;
	r = run_argv(argv, &json, 0);
	/* kdrill run --json prints verdict.json on one line; its exit code is the verdict's */
	if (json && (v = json_tokener_parse(json)) &&
	    (vpath = strdupf("%s/verdict.json", json_object_get_string(get(v, "dir")) ?: ".")) &&
	    read_regular_file(vpath, 16 << 20, &vtext, NULL) >= 0) {
		verdict = json_object_get_string(get(v, "verdict"));
		struct json_object *s = summary_of(v);
		printf("%s%s %s\n", LAVA_MARK_SUMMARY, scen,
		       s ? json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN) : "{}");
		json_object_put(s);
		if ((b64 = lava_b64_encode(vtext, strlen(vtext)))) {
			size_t len = strlen(b64), per = 96, tot = (len + per - 1) / per;
			for (size_t i = 0; i < tot; i++)
				printf("%s%s %zu/%zu %.*s\n", LAVA_MARK_B64, scen, i, tot, (int)per,
				       b64 + i * per);
		}
	}
	printf("%s%s %d\n", LAVA_MARK_END, scen, r);
	fflush(stdout);

	lava_test_case(scen, lava_result(verdict), NULL, NULL);
	if (v) {
		struct json_object *c = get(v, "counters");
		const char *ops = json_object_get_string(get(c, "ops")),
			   *oom = json_object_get_string(get(c, "oom_kills")),
			   *ttr = json_object_get_string(get(v, "time_to_report_s"));
		_cleanup_free_ char *n_ops = strdupf("%s.ops", scen),
				    *n_oom = strdupf("%s.oom-kills", scen),
				    *n_ttr = strdupf("%s.time-to-report", scen);
		if (ops && n_ops)
			lava_test_case(n_ops, "pass", ops, "ops");
		if (oom && n_oom)
			lava_test_case(n_oom, "pass", oom, "kills");
		if (ttr && get(v, "time_to_report_s") && n_ttr)
			lava_test_case(n_ttr, "pass", ttr, "seconds");
		json_object_put(v);
	}
	return r;
}

static int cmd_dut(const struct lopts *o, char **scen)
{
	const char *scratch = o->scratch ? o->scratch : "/var/tmp/kdrill-lava";
	const char *out = o->out ? o->out : "/var/tmp/kdrill-lava-results";
	int worst = 0;

	for (char **s = scen; *s; s++)
		if (!lava_name_ok(*s)) {
			fprintf(stderr, "kdrill lava dut: '%s': not a scenario[:variant] name\n", *s);
			return KD_EXIT_USAGE;
		}
	if (mkdir_p(scratch, 0700) < 0 || mkdir_p(out, 0755) < 0) {
		fprintf(stderr, "kdrill lava dut: cannot create %s or %s\n", scratch, out);
		return KD_EXIT_INFRA;
	}
	for (char **s = scen; *s; s++) {
		int r = dut_one(o, *s, scratch, out);
		if (r == KD_EXIT_USAGE || r < 0)
			worst = KD_EXIT_INFRA;
		else if (r > worst && r != KD_EXIT_INFRA)
			worst = r;
	}
	return worst;
}

/* ---- collect ------------------------------------------------------------------------ */

/* The first failure report in the console from the cell's start marker on: what killed
 * the device. */
static const struct kd_report *dead_report(const char *con, size_t len, struct kd_detector **ret)
{
	struct kd_detector *d = NULL;
	*ret = NULL;
	if (kd_detector_new(&d, NULL, NULL) < 0)
		return NULL;
	kd_detector_feed(d, con, len);
	kd_detector_finish(d);
	*ret = d;
	for (size_t i = 0; i < kd_detector_n_reports(d); i++) {
		const struct kd_report *r = kd_detector_report(d, i);
		if (kd_class_is_failure(r->cls))
			return r;
	}
	return NULL;
}

static int collect_job(const struct lopts *o, const char *job, const char *outdir, int *worst)
{
	_cleanup_free_ char *log = NULL, *show = NULL;
	struct lava_log l;
	int r;

	for (const char *c = job; *c; c++)
		if (*c < '0' || *c > '9') {
			fprintf(stderr, "kdrill lava collect: '%s': not a job id\n", job);
			return KD_EXIT_USAGE;
		}
	{
		char *argv[] = {"lavacli", "-i", (char *)o->identity, "jobs", "show", (char *)job,
				NULL};
		r = run_argv(argv, &show, 120 * 1000000ULL);
		if (r != 0) {
			fprintf(stderr, "kdrill lava collect: lavacli jobs show %s failed\n", job);
			return KD_EXIT_INFRA;
		}
		if (!strstr(show, "state       : Finished")) {
			fprintf(stderr, "kdrill lava collect: job %s has not finished yet\n", job);
			return KD_EXIT_INFRA;
		}
	}
	{
		char *argv[] = {"lavacli", "-i", (char *)o->identity, "jobs", "logs", "--raw",
				(char *)job, NULL};
		r = run_argv(argv, &log, 300 * 1000000ULL);
		if (r != 0 || !log) {
			fprintf(stderr, "kdrill lava collect: lavacli jobs logs %s failed\n", job);
			return KD_EXIT_INFRA;
		}
	}
	if ((r = lava_log_parse(log, strlen(log), &l)) < 0)
		return KD_EXIT_INFRA;
	if (!l.n_cells)
		fprintf(stderr, "kdrill lava collect: job %s: no kdrill scenario started%s%s\n", job,
			l.error ? ": " : "", l.error ? l.error : "");
	for (size_t i = 0; i < l.n_cells; i++) {
		struct lava_cell *c = &l.cells[i];
		_cleanup_free_ char *id = NULL, *dir = NULL, *vpath = NULL, *cpath = NULL,
				    *line = NULL;
		struct json_object *v = c->verdict ? json_tokener_parse(c->verdict) : NULL;
		struct kd_detector *d = NULL;
		const char *what;

		if (!v && c->summary)
			v = json_tokener_parse(c->summary);
		if (v) {
			what = c->verdict ? "verdict.json from the device" : "the device's summary";
		} else {
			/* no verdict came back: the device died in this scenario (or LAVA cut
			 * it off); the console LAVA kept says why */
			const struct kd_report *rep =
			    dead_report(l.console + c->con_start, c->con_end - c->con_start, &d);
			enum verdict vd = rep ? report_verdict(rep) : V_INFRA;
			/* "the bug we hunt": the scenario's signature, as for a local run */
			_cleanup_free_ char *serr = NULL;
			struct scenario *sc = NULL;
			bool match = rep && scenario_load(c->scenario, NULL, &sc, &serr) >= 0 &&
				     report_matches_signature(sc, rep);
			scenario_free(sc);
			_cleanup_free_ char *reason =
			    rep ? strdupf("%s (device console, LAVA job %s)", rep->title, job)
				: strdupf("LAVA job %s: no verdict from the device and no kernel "
					  "report on its console%s%s",
					  job, l.error ? ": " : "", l.error ? l.error : "");
			v = json_object_new_object();
			if (!v || !reason) {
				kd_detector_free(d);
				lava_log_done(&l);
				return KD_EXIT_INFRA;
			}
			json_object_object_add(v, "schema", json_object_new_string("kdrill-verdict/1"));
			json_object_object_add(v, "scenario", json_object_new_string(c->scenario));
			json_object_object_add(v, "mode", json_object_new_string("lava"));
			json_object_object_add(v, "verdict",
					       json_object_new_string(verdict_name(vd)));
			json_object_object_add(v, "exit_code",
					       json_object_new_int(verdict_exit_code(vd)));
			json_object_object_add(v, "reason", json_object_new_string(reason));
			json_object_object_add(v, "match", json_object_new_boolean(match));
			if (rep) {
				struct json_object *arr = json_object_new_array();
				json_object_array_add(arr, kd_report_to_json(rep));
				json_object_object_add(v, "reports", arr);
			}
			what = rep ? "the kernel report on the device's console" : "nothing";
		}
		/* a run directory of its own, like a local run's, named for the LAVA job */
		if (!(id = strdupf("lava-%s-%s", job, c->scenario)))
			break;
		for (char *q = id; *q; q++)
			if (*q == ':')
				*q = '.';
		dir = strdupf("%s/%s", outdir, id);
		if (!dir || (mkdir(dir, 0755) < 0 && errno != EEXIST)) {
			fprintf(stderr, "kdrill lava collect: cannot create %s\n", dir ? dir : id);
			json_object_put(v);
			kd_detector_free(d);
			continue;
		}
		struct json_object *lava = json_object_new_object();
		json_object_object_add(lava, "job", json_object_new_string(job));
		json_object_object_add(lava, "source", json_object_new_string(what));
		json_object_object_add(v, "lava", lava);
		json_object_object_add(v, "run_id", json_object_new_string(id));
		json_object_object_add(v, "dir", json_object_new_string(dir));
		const char *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY);
		vpath = strdupf("%s/verdict.json", dir);
		cpath = strdupf("%s/console.log", dir);
		if (!vpath || !cpath || write_file_atomic(vpath, text, strlen(text), 0644) < 0 ||
		    write_file_atomic(cpath, l.console + c->con_start, c->con_end - c->con_start,
				      0644) < 0)
			fprintf(stderr, "kdrill lava collect: cannot write %s\n", dir);
		line = strdupf("%s/index.jsonl", outdir);
		if (line)
			append_line_synced(line, json_object_to_json_string_ext(
						     v, JSON_C_TO_STRING_PLAIN));
		const char *vd = json_object_get_string(get(v, "verdict"));
		int ec = json_object_get_int(get(v, "exit_code"));
		printf("%-8s %s  %s  (LAVA job %s; %s)\n", vd ? vd : "?", c->scenario,
		       json_object_get_string(get(v, "reason")) ?: "", job, id);
		if (ec == KD_EXIT_BAD || (*worst != KD_EXIT_BAD && ec > *worst))
			*worst = ec;
		json_object_put(v);
		kd_detector_free(d);
	}
	lava_log_done(&l);
	return KD_EXIT_OK;
}

static int cmd_collect(const struct lopts *o, char **jobs)
{
	_cleanup_free_ char *out = path_absolute(o->out ? o->out : results_default_dir());
	int worst = KD_EXIT_OK;
	if (!out || mkdir_p(out, 0755) < 0)
		return KD_EXIT_INFRA;
	for (char **j = jobs; *j; j++) {
		int r = collect_job(o, *j, out, &worst);
		if (r != KD_EXIT_OK)
			return r;
	}
	return worst;
}

int cmd_lava(int argc, char **argv)
{
	struct lopts o = {.identity = "kdrill"};
	const char *verb;
	int c;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? KD_EXIT_USAGE : KD_EXIT_OK;
	}
	verb = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
		switch (c) {
		case OPT_KERNEL:
			o.kernel = optarg;
			break;
		case OPT_PLAN:
			o.plan = optarg;
			break;
		case OPT_DURATION: {
			if (parse_seconds_range(optarg, 1, 30 * 86400.0, &o.duration) < 0) {
				fprintf(stderr, "kdrill lava: --duration: '%s' is not a duration from "
						"1s to 30 days\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			break;
		}
		case OPT_OUT:
			o.out = optarg;
			break;
		case OPT_URL:
			o.url = optarg;
			break;
		case OPT_NAME:
			o.name = optarg;
			break;
		case OPT_SUBMIT:
			o.submit = true;
			break;
		case OPT_ID:
			o.identity = optarg;
			break;
		case OPT_SCRATCH:
			o.scratch = optarg;
			break;
		case 'h':
			usage(stdout);
			return KD_EXIT_OK;
		default:
			usage(stderr);
			return KD_EXIT_USAGE;
		}
	if (optind >= argc && !(o.plan && !strcmp(verb, "job"))) {
		usage(stderr);
		return KD_EXIT_USAGE;
	}
	if (!strcmp(verb, "job"))
		return cmd_job(&o, argv + optind);
	if (!strcmp(verb, "dut"))
		return cmd_dut(&o, argv + optind);
	if (!strcmp(verb, "collect"))
		return cmd_collect(&o, argv + optind);
	fprintf(stderr, "kdrill lava: unknown verb '%s'\n", verb);
	usage(stderr);
	return KD_EXIT_USAGE;
}
