// SPDX-License-Identifier: GPL-2.0
/* kdrill validate: does the fixed kernel stop reproducing?  (harness/workflow/validate.h) */
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "commands.h"
#include "kernel.h"
#include "repeat-opts.h"
#include "repeat.h"
#include "results.h"
#include "scenario.h"
#include "stats.h"
#include "util.h"
#include "validate.h"
#include "wfout.h"

static void validate_usage(FILE *f)
{
	fputs("usage: kdrill validate --before REF --after REF [OPTIONS] SCENARIO[:VARIANT]...\n"
	      "\n"
	      "Does the AFTER kernel (with the fix) stop reproducing what BEFORE reproduces?\n"
	      "Calibrates on BEFORE, sizes the AFTER runs from BEFORE's reproduction rate,\n"
	      "alternates the kernels, and answers FIXED / NOT-FIXED / INCONCLUSIVE with the\n"
	      "rates, their 95% intervals and a one-sided Fisher test.\n"
	      "\n"
	      "  --before REF            the kernel that has the bug (kernel refs as in 'kdrill "
	      "run')\n"
	      "  --after REF             the kernel with the fix\n"
	      "  --confidence C          0.5..0.999 (default 0.95)\n"
	      "  --calibrate-matches K   BEFORE matches to calibrate on (default 3)\n"
	      "  --max-runs N            runs of both kernels per scenario, INFRA included "
	      "(default 500)\n"
	      "  --max-time S            wall-time budget per scenario (default: none)\n"
	      "  --duration S            each run's length (default: the scenario's)\n"
	      "  --param K=V             scenario parameter (repeatable)\n"
	      "  --boot-timeout S        passed to each run\n"
	      "  --out DIR               results root (default: $KDRILL_RESULTS or ./results)\n"
	      "  --quiet                 no progress output\n"
	      "\n"
	      "writes DIR/validate-<id>/{validate.json,validate.md,junit.xml}; each run keeps its\n"
	      "own directory.  exit: 0 FIXED, 1 NOT-FIXED, 125 INCONCLUSIVE, 2 usage\n",
	      f);
}

enum {
	OPT_BEFORE = 256,
	OPT_AFTER,
	OPT_MAX_RUNS,
	OPT_MAX_TIME,
	OPT_HOST,
	OPT_EFFECT,
};

static const struct option validate_options[] = {
    {"before", required_argument, NULL, OPT_BEFORE},
    {"after", required_argument, NULL, OPT_AFTER},
    {"max-runs", required_argument, NULL, OPT_MAX_RUNS},
    {"max-time", required_argument, NULL, OPT_MAX_TIME},
    REPEAT_OPTIONS,
    {"host", no_argument, NULL, OPT_HOST},
    {"scratch", required_argument, NULL, OPT_HOST},
    {"effect", required_argument, NULL, OPT_EFFECT}, /* hidden: AFTER sizing */
    {"help", no_argument, NULL, 'h'},
    {0},
};

struct kside {
	const char *ref;
	char *key, *release, *config_hash;
};

struct vscen {
	const char *target; /* as given */
	char *label;	    /* name[.variant] */
	struct vd_state st;
	struct repeat_tally t[2];
	char *order;
	char *reason;
	double wall;
};

struct vctx {
	bool quiet, tty;
	struct vscen *cur;
};

static const char *const side_name[] = {"BEFORE", "AFTER"};

static void progress(const struct vctx *c, enum vd_side side, const struct repeat_run *r)
{
	const struct vscen *v = c->cur;
	const struct vd_count *b = &v->st.side[VD_BEFORE], *a = &v->st.side[VD_AFTER];

	if (c->quiet)
		return;
	fprintf(stderr, "%s%-6s %-6s %s%s%s  | BEFORE %u/%u  AFTER %u/%u", c->tty ? "\r\033[K" : "",
		side_name[side], repeat_outcome_name(r->outcome),
		r->run_id ? r->run_id : "(no run dir)",
		r->title || r->outcome == RO_INFRA ? ": " : "",
		r->title			      ? r->title
		: r->outcome == RO_INFRA && r->reason ? r->reason
						      : "",
		b->matches, b->runs, a->matches, a->runs);
	if (v->st.calibrated && v->st.n_after != LONG_MAX)
		fprintf(stderr, " (need %ld clean)", v->st.n_after);
	fputc('\n', stderr);
}

static struct json_object *rate_json(unsigned k, unsigned n, double conf)
{
	struct json_object *o = json_object_new_object(), *ci = json_object_new_array();
	double lo, hi;

	stats_cp_interval(k, n, conf, &lo, &hi);
	json_object_object_add(o, "fail", json_object_new_int((int)k));
	json_object_object_add(o, "runs", json_object_new_int((int)n));
	json_object_object_add(o, "rate", n ? wf_num((double)k / n, 4) : NULL);
	json_object_array_add(ci, wf_num(lo, 4));
	json_object_array_add(ci, wf_num(hi, 4));
	json_object_object_add(o, "ci", n ? ci : NULL);
	if (!n)
		json_object_put(ci);
	return o;
}

static struct json_object *side_json(const struct kside *k, const struct repeat_tally *t,
				     double conf)
{
	struct json_object *o = json_object_new_object(), *kern = json_object_new_object();
	double q;

	json_object_object_add(kern, "ref", json_object_new_string(k->ref));
	json_object_object_add(kern, "key", k->key ? json_object_new_string(k->key) : NULL);
	json_object_object_add(kern, "release",
			       t->kernel_release ? json_object_new_string(t->kernel_release)
			       : k->release	 ? json_object_new_string(k->release)
						 : NULL);
	json_object_object_add(
	    kern, "version", t->kernel_version ? json_object_new_string(t->kernel_version) : NULL);
	json_object_object_add(kern, "config_sha256_16",
			       k->config_hash ? json_object_new_string(k->config_hash) : NULL);
	json_object_object_add(o, "kernel", kern);
	json_object_object_add(o, "signature", rate_json(t->n[RO_MATCH], t->runs, conf));
	json_object_object_add(o, "tally", repeat_tally_json(t));
	(void)q;
	return o;
}

/* "3:5  60% [15%, 95%]" */
static char *rate_md(unsigned k, unsigned n)
{
	double lo, hi;

	if (!n)
		return strdupf("0:0 | — ");
	stats_cp_interval(k, n, 0.95, &lo, &hi);
	return strdupf("%u:%u | %.0f%% [%.0f%%, %.0f%%]", k, n, 100.0 * k / n, 100 * lo, 100 * hi);
}

static void md_side_lines(FILE *f, const char *what, const struct kside *k,
			  const struct repeat_tally *t)
{
	fprintf(f, "Tested on (%s):\n\n", what);
	fprintf(f, "    kernel ref:     %s\n", k->ref);
	fprintf(f, "    kernel release: %s\n",
		t->kernel_release ? t->kernel_release
		: k->release	  ? k->release
				  : "?");
	fprintf(f, "    version:        %s\n",
		t->kernel_version ? t->kernel_version
		: t->n_run	  ? "(not recorded: no run returned a guest verdict)"
				  : "(no run)");
	fprintf(f, "    kernel config:  %s\n", k->config_hash ? k->config_hash : "(not known)");
	fprintf(f, "    runs:           %u (+ %u INFRA), %.0f s\n\n", t->runs, t->n[RO_INFRA],
		t->wall);
}

static bool any_estimated(const struct repeat_tally *t)
{
	for (size_t i = 0; i < t->n_run; i++)
		if (t->run[i].outcome == RO_MATCH && t->run[i].t_estimated)
			return true;
	return false;
}

static char *render_md(const char *id, const struct kside *ks, struct vscen *vs, size_t n,
		       const char *overall, double conf, double duration, char *const *params)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "# kdrill validate %s: %s\n\n", id, overall);
	fprintf(f, "BEFORE `%s`, AFTER `%s`; confidence %.2f; runs of %s", ks[0].ref, ks[1].ref,
		conf, duration > 0 ? "" : "the scenario's length");
	if (duration > 0)
		fprintf(f, "%.0f s", duration);
	STRV_FOREACH (p, (char **)params)
		fprintf(f, "; `--param %s`", *p);
	fprintf(f, "\n\n| test | BEFORE fail:runs | rate [95%% CI] | AFTER fail:runs | rate "
		   "[95%% CI] | Fisher p | verdict |\n|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < n; i++) {
		struct vscen *v = &vs[i];
		_cleanup_free_ char *b = rate_md(v->t[0].n[RO_MATCH], v->t[0].runs);
		_cleanup_free_ char *a = rate_md(v->t[1].n[RO_MATCH], v->t[1].runs);
		fprintf(f, "| kdrill.%s | %s | %s | %.2g | **%s** |\n", v->label, b, a,
			v->st.fisher, vd_verdict_name(v->st.verdict));
	}
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		struct vscen *v = &vs[i];
		double med, p90;
		unsigned cens = v->t[0].n[RO_PASS] + v->t[0].n[RO_OTHER];
		fprintf(f, "## %s: %s\n\n%s\n\n", v->label, vd_verdict_name(v->st.verdict),
			v->reason ? v->reason : "");
		for (int s = 0; s < 2; s++)
			if (v->t[s].n_others) {
				fprintf(f,
					"**The %s kernel shows another problem** (not the "
					"signature; not counted as %s):\n\n",
					s ? "fixed (AFTER)" : "unfixed (BEFORE)",
					s ? "not fixed" : "a reproduction");
				for (size_t j = 0; j < v->t[s].n_others; j++)
					fprintf(f, "- %s — %u run(s), first `%s`\n",
						v->t[s].others[j].text, v->t[s].others[j].count,
						v->t[s].others[j].first_run
						    ? v->t[s].others[j].first_run
						    : "?");
				fputc('\n', f);
			}
		fprintf(f,
			"Time to reproduce on BEFORE (Kaplan-Meier, %u run(s) without a match "
			"censored at their length%s): median ",
			cens,
			any_estimated(&v->t[0]) ? "; a report seen on the console only counts at "
						  "the run's end, an upper bound"
						: "");
		if (repeat_tally_time_quantile(&v->t[0], 0.5, &med) == 0)
			fprintf(f, "%.0f s", med);
		else
			fprintf(f, "not reached");
		fprintf(f, ", 90th percentile ");
		if (repeat_tally_time_quantile(&v->t[0], 0.9, &p90) == 0)
			fprintf(f, "%.0f s.\n\n", p90);
		else
			fprintf(f, "beyond the runs' length.\n\n");
		for (int s = 0; s < 2; s++)
			if (v->t[s].n_infra) {
				fprintf(f, "INFRA on %s: %u run(s):", side_name[s],
					v->t[s].n[RO_INFRA]);
				for (size_t j = 0; j < v->t[s].n_infra; j++)
					fprintf(f, "%s %s (%u)", j ? ";" : "",
						v->t[s].infra[j].text, v->t[s].infra[j].count);
				fprintf(f, "\n\n");
			}
		fprintf(f, "Run order (B = BEFORE, A = AFTER): `%s`\n\n", v->order ? v->order : "");
		md_side_lines(f, "BEFORE", &ks[0], &v->t[0]);
		md_side_lines(f, "AFTER", &ks[1], &v->t[1]);
		fprintf(f, "Runs:\n\n");
		for (int s = 0; s < 2; s++)
			for (size_t j = 0; j < v->t[s].n_run; j++) {
				const struct repeat_run *r = &v->t[s].run[j];
				fprintf(f, "- %s %-5s `%s`%s%s\n", side_name[s],
					repeat_outcome_name(r->outcome),
					r->run_id ? r->run_id : "-", r->title ? ": " : "",
					r->title ? r->title : "");
			}
		fputc('\n', f);
	}
	fprintf(f, "`kdrill show RUN-ID` shows a run; `kdrill show %s` shows this report.\n", id);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *render_junit(const char *id, struct vscen *vs, size_t n, double wall)
{
	char *buf = NULL;
	size_t len = 0;
	unsigned fail = 0, err = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		fail += vs[i].st.verdict == VD_NOT_FIXED;
		err += vs[i].st.verdict == VD_INCONCLUSIVE;
	}
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite "
		"name=\"kdrill.validate\" id=\"%s\" tests=\"%zu\" failures=\"%u\" errors=\"%u\" "
		"time=\"%.1f\">\n",
		id, n, fail, err, wall);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *msg = xml_escape(vs[i].reason, XML_ESC_DEL);
		_cleanup_free_ char *name = xml_escape(vs[i].label, XML_ESC_DEL);
		fprintf(f, "  <testcase classname=\"kdrill.validate\" name=\"%s\" time=\"%.1f\">\n",
			name ? name : "", vs[i].wall);
		if (vs[i].st.verdict == VD_NOT_FIXED)
			fprintf(f, "    <failure type=\"NOT-FIXED\" message=\"%s\"/>\n",
				msg ? msg : "");
		else if (vs[i].st.verdict == VD_INCONCLUSIVE)
			fprintf(f, "    <error type=\"INCONCLUSIVE\" message=\"%s\"/>\n",
				msg ? msg : "");
		fprintf(f, "  </testcase>\n");
	}
	fprintf(f, "</testsuite>\n</testsuites>\n");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Run one scenario's validation to its verdict.  Returns 0, or a negative errno (a
 * usage error of the runs: -EINVAL with *err). */
static int validate_one(struct vctx *c, struct vscen *v, const struct repeat_cell cells[2],
			double max_time, char **err)
{
	uint64_t t0 = now_usec();
	size_t no = 0, cap = 0;
	enum vd_next nx;

	while ((nx = vd_next(&v->st)) != VD_DONE) {
		enum vd_side side = nx == VD_RUN_BEFORE ? VD_BEFORE : VD_AFTER;
		struct repeat_run r;
		int k = repeat_once(&cells[side], &r, err);
		if (k < 0 && k != -EINTR)
			return k;
		if (no + 2 > cap) {
			char *o = realloc(v->order, cap = cap ? 2 * cap : 64);
			if (!o) {
				repeat_run_done(&r);
				return -ENOMEM;
			}
			v->order = o;
		}
		v->order[no++] = side == VD_BEFORE ? 'B' : 'A';
		v->order[no] = 0;
		if (r.verdict) {
			vd_record(&v->st, side, r.outcome);
			c->cur = v;
			progress(c, side, &r);
			if (repeat_tally_add(&v->t[side], &r) < 0) {
				repeat_run_done(&r);
				return -ENOMEM;
			}
		}
		repeat_run_done(&r);
		v->wall = (double)(now_usec() - t0) / 1e6;
		if (k == -EINTR || repeat_interrupted)
			v->st.interrupted = true;
		if (max_time > 0 && v->wall >= max_time)
			v->st.time_up = true;
	}
	v->wall = (double)(now_usec() - t0) / 1e6;
	v->reason = vd_reason(&v->st);
	if (v->st.why == VD_WHY_INFRA) { /* name the commonest INFRA reason */
		const struct repeat_count *best = NULL;
		for (int s = 0; s < 2; s++)
			for (size_t j = 0; j < v->t[s].n_infra; j++)
				if (!best || v->t[s].infra[j].count > best->count)
					best = &v->t[s].infra[j];
		if (best) {
			char *r2 = strdupf("%s; most often: %s", v->reason, best->text);
			if (r2) {
				free(v->reason);
				v->reason = r2;
			}
		}
	}
	return 0;
}

int cmd_validate(int argc, char **argv)
{
	struct vd_config cfg;
	struct kside ks[2] = {{0}, {0}};
	_cleanup_strv_ char **params = NULL, **extra = NULL;
	_cleanup_free_ char *id = NULL, *dir = NULL, *err = NULL;
	const char *out = results_default_dir();
	double duration = 0, max_time = 0;
	struct vctx ctx = {0};
	struct vscen *vs = NULL;
	size_t n = 0;
	int c, rc = KD_EXIT_INFRA, r;
	bool any_not = false, any_inc = false;
	uint64_t t0 = now_usec(), t0_real = now_realtime_usec();
	const struct repeat_opts ro = {.cmd = "validate",
				       .confidence = &cfg.confidence,
				       .calibrate_matches = &cfg.calibrate_matches,
				       .duration = &duration,
				       .params = &params,
				       .run_args = &extra,
				       .out = &out,
				       .quiet = &ctx.quiet};

	vd_config_default(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", validate_options, NULL)) != -1) {
		switch (c) {
		case OPT_BEFORE:
			ks[0].ref = optarg;
			break;
		case OPT_AFTER:
			ks[1].ref = optarg;
			break;
		case OPT_EFFECT: {
			char *end;
			double d = strtod(optarg, &end);
			if (*end || !(d > 0 && d <= 1)) {
				fprintf(stderr,
					"kdrill validate: --effect: '%s' must be in (0, 1]\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			cfg.effect = d;
			break;
		}
		case OPT_MAX_RUNS:
			if ((r = repeat_opt_count("validate", "max-runs", optarg, &cfg.max_runs)))
				return r;
			break;
		case OPT_MAX_TIME:
			if ((r = repeat_opt_seconds("validate", "max-time", optarg, &max_time)))
				return r;
			break;
		case REPEAT_OPT_FIRST ... REPEAT_OPT_LAST:
			if ((r = repeat_opt_parse(&ro, c, optarg)))
				return r;
			break;
		case OPT_HOST:
			fprintf(stderr,
				"kdrill validate: host mode makes no sense here: validation "
				"compares two kernels, each booted in a VM (--before REF "
				"--after REF)\n");
			return KD_EXIT_USAGE;
		case 'h':
			validate_usage(stdout);
			return KD_EXIT_OK;
		default:
			validate_usage(stderr);
			return KD_EXIT_USAGE;
		}
	}
	if (!ks[0].ref || !ks[1].ref) {
		fprintf(stderr, "kdrill validate: give both --before REF and --after REF\n");
		return KD_EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "kdrill validate: no scenario given (see 'kdrill list')\n");
		return KD_EXIT_USAGE;
	}
	n = (size_t)(argc - optind);
	vs = calloc(n, sizeof(*vs));
	if (!vs)
		return KD_EXIT_INFRA;
	/* every scenario and parameter checked before anything runs */
	for (size_t i = 0; i < n; i++) {
		_cleanup_(scenario_freep) struct scenario *sc = NULL;
		_cleanup_free_ char *e = NULL;
		r = scenario_load(argv[optind + i], params, &sc, &e);
		if (r < 0) {
			fprintf(stderr, "kdrill validate: %s\n", e ? e : strerror(-r));
			rc = r == -ENOMEM ? KD_EXIT_INFRA : KD_EXIT_USAGE;
			goto out;
		}
		vs[i].target = argv[optind + i];
		vs[i].label =
		    sc->variant ? strdupf("%s.%s", sc->name, sc->variant) : strdup(sc->name);
		if (!vs[i].label)
			goto out;
		vd_init(&vs[i].st, &cfg);
	}
	/* both kernels usable (fetched once, here) before the first run */
	for (int s = 0; s < 2; s++) {
		_cleanup_(kd_kernel_freep) struct kd_kernel *k = NULL;
		_cleanup_free_ char *e = NULL;
		r = kd_kernel_resolve(ks[s].ref, KD_KERNEL_FETCH, &k, &e);
		if (r < 0) {
			fprintf(stderr, "kdrill validate: --%s %s: %s\n", s ? "after" : "before",
				ks[s].ref, e ? e : strerror(-r));
			/* a malformed ref, or a build:/inject: kernel never built, is the
			 * caller's mistake, not "cannot test" */
			if (r == -ENOPKG || kd_kernel_ref_check(ks[s].ref, NULL) < 0)
				rc = KD_EXIT_USAGE;
			goto out;
		}
		wf_kernel_identity(ks[s].ref, &ks[s].key, &ks[s].release, &ks[s].config_hash);
	}
	r = wf_make_dir(out, "validate", vs[0].label, &id, &dir);
	if (r < 0) {
		fprintf(stderr, "kdrill validate: %s: %s\n", out, strerror(-r));
		goto out;
	}
	ctx.tty = wf_tty();
	repeat_install_signals();
	if (!ctx.quiet)
		fprintf(stderr, "kdrill validate: %s (BEFORE %s, AFTER %s)\n", dir, ks[0].ref,
			ks[1].ref);
	for (size_t i = 0; i < n && !repeat_interrupted; i++) {
		struct repeat_cell cells[2];
		for (int s = 0; s < 2; s++)
			cells[s] = (struct repeat_cell){.kernel = ks[s].ref,
							.scenario = vs[i].target,
							.params = params,
							.duration = duration,
							.out_dir = out,
							.work_dir = dir,
							.extra_args = extra};
		r = validate_one(&ctx, &vs[i], cells, max_time, &err);
		if (r < 0) {
			fprintf(stderr, "kdrill validate: %s: %s\n", vs[i].label,
				err ? err : strerror(-r));
			rc = r == -EINVAL ? KD_EXIT_USAGE : KD_EXIT_INFRA;
			goto out;
		}
		if (!ctx.quiet)
			fprintf(stderr, "%-12s %s  %s\n", vd_verdict_name(vs[i].st.verdict),
				vs[i].label, vs[i].reason ? vs[i].reason : "");
	}
	for (size_t i = 0; i < n; i++) {
		if (!vs[i].st.done) { /* interrupted before its turn */
			vs[i].st.interrupted = true;
			vd_next(&vs[i].st);
			vs[i].reason = vd_reason(&vs[i].st);
		}
		any_not |= vs[i].st.verdict == VD_NOT_FIXED;
		any_inc |= vs[i].st.verdict == VD_INCONCLUSIVE;
	}
	{
		enum vd_verdict all = any_not ? VD_NOT_FIXED : any_inc ? VD_INCONCLUSIVE : VD_FIXED;
		struct json_object *j = json_object_new_object(), *cfgj = json_object_new_object(),
				   *arr = json_object_new_array(), *pj = json_object_new_array(),
				   *cmd = json_object_new_array();
		char started[64] = "";
		double wall = (double)(now_usec() - t0) / 1e6;
		_cleanup_free_ char *md = NULL, *junit = NULL;

		format_iso8601(t0_real, started, sizeof(started));
		json_object_object_add(j, "schema", json_object_new_string("kdrill-validate/1"));
		json_object_object_add(j, "id", json_object_new_string(id));
		json_object_object_add(j, "dir", json_object_new_string(dir));
		for (int a = 0; a < argc; a++)
			json_object_array_add(cmd, json_object_new_string(argv[a]));
		json_object_object_add(j, "command", cmd);
		json_object_object_add(j, "started", json_object_new_string(started));
		json_object_object_add(j, "wall_s", wf_num(wall, 1));
		json_object_object_add(j, "verdict", json_object_new_string(vd_verdict_name(all)));
		json_object_object_add(j, "exit_code", json_object_new_int(vd_exit_code(all)));
		json_object_object_add(cfgj, "confidence", wf_num(cfg.confidence, 3));
		json_object_object_add(cfgj, "fisher_alpha", wf_num(cfg.alpha, 3));
		json_object_object_add(cfgj, "effect", wf_num(cfg.effect, 2));
		json_object_object_add(cfgj, "calibrate_matches",
				       json_object_new_int((int)cfg.calibrate_matches));
		json_object_object_add(cfgj, "max_runs", json_object_new_int((int)cfg.max_runs));
		json_object_object_add(cfgj, "max_time_s",
				       max_time > 0 ? wf_num(max_time, 1) : NULL);
		json_object_object_add(cfgj, "duration_s",
				       duration > 0 ? wf_num(duration, 1) : NULL);
		STRV_FOREACH (p, params)
			json_object_array_add(pj, json_object_new_string(*p));
		json_object_object_add(cfgj, "params", pj);
		json_object_object_add(j, "config", cfgj);
		for (size_t i = 0; i < n; i++) {
			struct vscen *v = &vs[i];
			struct json_object *o = json_object_new_object(),
					   *oth = json_object_new_array();
			json_object_object_add(o, "scenario", json_object_new_string(v->label));
			json_object_object_add(
			    o, "verdict", json_object_new_string(vd_verdict_name(v->st.verdict)));
			json_object_object_add(o, "exit_code",
					       json_object_new_int(vd_exit_code(v->st.verdict)));
			json_object_object_add(o, "reason",
					       json_object_new_string(v->reason ? v->reason : ""));
			json_object_object_add(o, "before",
					       side_json(&ks[0], &v->t[0], cfg.confidence));
			json_object_object_add(o, "after",
					       side_json(&ks[1], &v->t[1], cfg.confidence));
			json_object_object_add(o, "p_low",
					       v->st.calibrated ? wf_num(v->st.p_low, 4) : NULL);
			json_object_object_add(o, "n_after",
					       v->st.calibrated && v->st.n_after != LONG_MAX
						   ? json_object_new_int64(v->st.n_after)
						   : NULL);
			json_object_object_add(o, "fisher_p", wf_num(v->st.fisher, 6));
			json_object_object_add(o, "more_after_runs",
					       v->st.more > 0 && v->st.more != LONG_MAX
						   ? json_object_new_int64(v->st.more)
						   : NULL);
			for (int s = 0; s < 2; s++)
				for (size_t k = 0; k < v->t[s].n_others; k++) {
					struct json_object *x = json_object_new_object();
					json_object_object_add(
					    x, "kernel",
					    json_object_new_string(s ? "after" : "before"));
					json_object_object_add(
					    x, "title",
					    json_object_new_string(v->t[s].others[k].text));
					json_object_object_add(
					    x, "count",
					    json_object_new_int((int)v->t[s].others[k].count));
					json_object_object_add(
					    x, "first_run",
					    v->t[s].others[k].first_run
						? json_object_new_string(
						      v->t[s].others[k].first_run)
						: NULL);
					json_object_array_add(oth, x);
				}
			json_object_object_add(o, "other_problems", oth);
			json_object_object_add(o, "order",
					       json_object_new_string(v->order ? v->order : ""));
			json_object_object_add(o, "wall_s", wf_num(v->wall, 1));
			json_object_array_add(arr, o);
		}
		json_object_object_add(j, "scenarios", arr);
		md = render_md(id, ks, vs, n, vd_verdict_name(all), cfg.confidence, duration,
			       params);
		junit = render_junit(id, vs, n, wall);
		r = wf_write_json(dir, "validate.json", j);
		if (r >= 0 && md)
			r = wf_write(dir, "validate.md", md);
		if (r >= 0 && junit)
			r = wf_write(dir, "junit.xml", junit);
		json_object_put(j);
		if (r < 0 || !md || !junit) {
			fprintf(stderr, "kdrill validate: writing %s: %s\n", dir,
				strerror(r < 0 ? -r : ENOMEM));
			goto out;
		}
		if (!ctx.quiet)
			fprintf(stderr, "%s  (%s/validate.md)\n", vd_verdict_name(all), dir);
		printf("%s %s\n", vd_verdict_name(all), id);
		rc = vd_exit_code(all);
	}
out:
	for (size_t i = 0; vs && i < n; i++) {
		free(vs[i].label);
		free(vs[i].order);
		free(vs[i].reason);
		repeat_tally_done(&vs[i].t[0]);
		repeat_tally_done(&vs[i].t[1]);
	}
	free(vs);
	for (int s = 0; s < 2; s++) {
		free(ks[s].key);
		free(ks[s].release);
		free(ks[s].config_hash);
	}
	return rc;
}
