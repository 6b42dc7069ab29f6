// SPDX-License-Identifier: GPL-2.0
/* kdrill bisect: which kernel of an ordered list introduced (or fixed) a bug, with a
 * flaky reproducer.  The decision is harness/workflow/bisect.h. */
#include <ctype.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "bisect.h"
#include "commands.h"
#include "kernel.h"
#include "repeat-opts.h"
#include "repeat.h"
#include "results.h"
#include "scenario.h"
#include "stats.h"
#include "tree.h"
#include "util.h"
#include "wfout.h"

static void bisect_usage(FILE *f)
{
	fputs("usage: kdrill bisect --good REF --bad REF --kernels LIST|RANGE [OPTIONS] "
	      "SCENARIO[:VARIANT]\n"
	      "       kdrill bisect --tree DIR --good REV --bad REV [OPTIONS] SCENARIO[:VARIANT]\n"
	      "\n"
	      "Find the first kernel of an ordered list (or the first commit of a git tree)\n"
	      "that reproduces the scenario's signature (--reverse: the first that no longer\n"
	      "does), with a reproducer that fires only some of the time: a posterior over the\n"
	      "culprit, updated after every run, until one kernel holds the confidence.\n"
	      "\n"
	      "  --kernels LIST|RANGE   a file with one kernel ref per line (# comments), or a\n"
	      "                         range such as debian:6.1.0-{47..56}-cloud-amd64\n"
	      "  --tree DIR             a git repository of kernel sources: the commits from\n"
	      "                         --good to --bad along the first parents, each tested\n"
	      "                         one built (kvm/build-kernel, slim config, ccache) in a\n"
	      "                         worktree kdrill owns under its cache; a commit that\n"
	      "                         does not build is skipped\n"
	      "  --good REF, --bad REF  the ends (both in the list; with --tree: revisions)\n"
	      "  --reverse              find the fix: BAD is the older kernel, GOOD the newer\n"
	      "  --confidence C         0.5..0.999 (default 0.95; the culprit is re-tested to\n"
	      "                         1-(1-C)/5)\n"
	      "  --budget-runs N        runs in all, INFRA included (default: none)\n"
	      "  --budget-time S        wall time in all (default: none)\n"
	      "  --runs-per-step N      classic bisection: N runs per kernel, bad at the first "
	      "match\n"
	      "  --calibrate-matches K  matches on the bad end before bisecting (default 3)\n"
	      "  --duration S           each run's length (default: the scenario's)\n"
	      "  --param K=V            scenario parameter (repeatable)\n"
	      "  --boot-timeout S       passed to each run\n"
	      "  --out DIR              results root (default: $KDRILL_RESULTS or ./results)\n"
	      "  --quiet                no progress output\n"
	      "\n"
	      "writes DIR/bisect-<id>/{bisect.json,bisect.md}; each run keeps its own directory.\n"
	      "exit: 0 culprit found, 125 nothing to bisect / budget / INFRA / the bad end\n"
	      "does not build, 2 usage\n",
	      f);
}

enum {
	OPT_GOOD = 256,
	OPT_BAD,
	OPT_KERNELS,
	OPT_REVERSE,
	OPT_BUDGET_RUNS,
	OPT_BUDGET_TIME,
	OPT_RPS,
	OPT_HOST,
	OPT_MEDIAN,
	OPT_TREE,
};

static const struct option bisect_options[] = {
    {"good", required_argument, NULL, OPT_GOOD},
    {"bad", required_argument, NULL, OPT_BAD},
    {"kernels", required_argument, NULL, OPT_KERNELS},
    {"tree", required_argument, NULL, OPT_TREE},
    {"reverse", no_argument, NULL, OPT_REVERSE},
    {"budget-runs", required_argument, NULL, OPT_BUDGET_RUNS},
    {"budget-time", required_argument, NULL, OPT_BUDGET_TIME},
    {"runs-per-step", required_argument, NULL, OPT_RPS},
    REPEAT_OPTIONS,
    {"host", no_argument, NULL, OPT_HOST},
    {"scratch", required_argument, NULL, OPT_HOST},
    {"median", no_argument, NULL, OPT_MEDIAN}, /* hidden: posterior-median selection */
    {"help", no_argument, NULL, 'h'},
    {0},
};

/* "pre{A..B}post" -> pre A post ... pre B post (decimal, either direction). */
static int expand_range(const char *s, char ***ret, char **err)
{
	const char *o = strchr(s, '{'), *c = o ? strstr(o, "}") : NULL, *dots;
	char *end;
	long a, b;

	if (!o || !c || !(dots = strstr(o, "..")) || dots > c) {
		*err = strdupf("'%s' is neither a file nor a range like "
			       "debian:6.1.0-{47..56}-cloud-amd64",
			       s);
		return -EINVAL;
	}
	a = strtol(o + 1, &end, 10);
	if (end != dots)
		goto bad;
	b = strtol(dots + 2, &end, 10);
	if (end != c)
		goto bad;
	if (labs(b - a) > 100000)
		goto bad;
	for (long i = a;; i += a <= b ? 1 : -1) {
		char *r = strdupf("%.*s%ld%s", (int)(o - s), s, i, c + 1);
		if (!r || strv_push(ret, r) < 0)
			return -ENOMEM;
		if (i == b)
			break;
	}
	return 0;
bad:
	*err = strdupf("range '%s': expected {FIRST..LAST} with decimal numbers", s);
	return -EINVAL;
}

static int read_list(const char *path, char ***ret, char **err)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;
	unsigned line = 0;
	int r = read_full_file(path, &text, NULL);

	if (r < 0) {
		*err = strdupf("%s: %s", path, strerror(-r));
		return r;
	}
	for (char *l = text, *nl; l && *l; l = nl) {
		nl = strchr(l, '\n');
		if (nl)
			*nl++ = 0;
		line++;
		l = strstrip(l);
		if (!*l || *l == '#')
			continue;
		for (char *q = l; *q; q++)
			if (isspace((unsigned char)*q)) {
				*err = strdupf("%s:%u: '%s': one kernel ref per line, no spaces",
					       path, line, l);
				return -EINVAL;
			}
		if (strv_extend(ret, l) < 0)
			return -ENOMEM;
	}
	(void)save;
	if (!*ret) {
		*err = strdupf("%s: no kernel refs in it", path);
		return -EINVAL;
	}
	return 0;
}

struct bctx {
	bool quiet, tty;
	char **refs; /* in bisection order: 0 good ... n-1 bad (--tree: short commit ids) */
	size_t n;
	/* --tree: the tree, and per kernel (bisection order) its commit, build, run ref */
	struct kd_tree *tree;
	const struct kd_tree_commit **commit;
	struct kd_tree_build *build;
	bool *built;		/* build[] tried */
	char **kref;		/* path:<published bzImage> once built */
	struct repeat_tally *t; /* per kernel */
	struct json_object *steps;
	struct bs_state st;
};

static void progress(struct bctx *c, size_t k, const struct repeat_run *r)
{
	if (c->quiet)
		return;
	fprintf(stderr, "%s[%u] %-40s %-5s %s | ", c->tty ? "\r\033[K" : "", c->st.total,
		c->refs[k], repeat_outcome_name(r->outcome), r->run_id ? r->run_id : "-");
	if (!c->st.calibrated) { /* still on the bad end */
		fprintf(stderr, "calibrating the bad end: %u/%u matches\n",
			c->st.k[c->n - 1].matches, c->st.cfg.calibrate_matches);
		return;
	}
	bs_posterior(&c->st);
	fprintf(stderr, "best %s (%.3f), p~%.2f\n", c->refs[c->st.best], c->st.best_p, c->st.p_hat);
}

static struct json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* The ref `kdrill run --kernel` gets for kernel i (--tree: path:<published bzImage>). */
static const char *run_ref(const struct bctx *c, size_t i)
{
	return c->tree ? c->kref[i] : c->refs[i];
}

/* A commit subject for the terminal and Markdown: control characters and | replaced. */
static char *safe_subject(const char *s)
{
	char *d = strdup(s ? s : "");

	for (char *q = d; q && *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f || *q == '|' || *q == '`')
			*q = '?';
	return d;
}

/* --tree: build kernel k once.  0 when it is ready to run or skipped (it does not
 * build), -EINTR, or another negative errno: a fault of the worktree (*err). */
static int tree_build(struct bctx *c, size_t k, char **err)
{
	struct kd_tree_build *b = &c->build[k];
	_cleanup_free_ char *subj = safe_subject(c->commit[k]->subject);
	int r;

	if (c->built[k])
		return 0;
	if (!c->quiet)
		fprintf(stderr, "%sbuilding %s %s\n", c->tty ? "\r\033[K" : "", c->refs[k],
			subj ? subj : "");
	r = kd_tree_build(c->tree, (size_t)(c->commit[k] - c->tree->c), b, err);
	if (r < 0)
		return r;
	c->built[k] = true;
	if (b->ok) {
		c->kref[k] = strdupf("path:%s", b->bzimage);
		if (!c->kref[k])
			return -ENOMEM;
	} else
		bs_skip(&c->st, k); /* like git bisect skip: neither good nor bad */
	if (c->quiet)
		return 0;
	if (b->cached)
		fprintf(stderr, "  %s: built before (%s)\n", c->refs[k], b->bzimage);
	else if (b->ok)
		fprintf(stderr, "  %s: built in %.0f s (load %s at the start): %s\n", c->refs[k],
			b->seconds, b->load, b->release ? b->release : "?");
	else {
		const char *last = b->reason ? strrchr(b->reason, '\n') : NULL;
		fprintf(stderr, "  %s: does NOT build (%.0f s), skipped: %s\n    (log: %s)\n",
			c->refs[k], b->seconds,
			last	    ? last + 1
			: b->reason ? b->reason
				    : "?",
			b->log ? b->log : "-");
	}
	return 0;
}

static struct json_object *build_json(const struct kd_tree_build *b)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "result",
			       json_object_new_string(b->cached ? "cached"
						      : b->ok	? "built"
								: "failed"));
	json_object_object_add(o, "seconds", wf_num(b->seconds, 1));
	json_object_object_add(o, "load", json_object_new_string(b->load));
	json_object_object_add(o, "release", jstr_or_null(b->release));
	json_object_object_add(o, "bzimage", jstr_or_null(b->bzimage));
	json_object_object_add(o, "log", jstr_or_null(b->log));
	json_object_object_add(o, "error", jstr_or_null(b->ok ? NULL : b->reason));
	return o;
}

/* sha256 of a cached kernel's bzImage (NULL when unknown) */
static char *bzimage_sha(const char *ref)
{
	_cleanup_(kd_kernel_freep) struct kd_kernel *k = NULL;
	_cleanup_free_ char *e = NULL;
	char *sha = NULL;

	if (kd_kernel_resolve(ref, 0, &k, &e) < 0 || !k->vmlinuz)
		return NULL;
	if (kd_sha256_file(k->vmlinuz, &sha) < 0)
		return NULL;
	return sha;
}

int cmd_bisect(int argc, char **argv)
{
	struct bs_config cfg;
	struct bctx ctx = {0};
	const char *good = NULL, *bad = NULL, *list = NULL, *treedir = NULL,
		   *out = results_default_dir();
	_cleanup_(kd_tree_closep) struct kd_tree tree = {.lock_fd = -1};
	_cleanup_strv_ char **all = NULL, **params = NULL, **extra = NULL;
	_cleanup_free_ char *id = NULL, *dir = NULL, *err = NULL, *label = NULL;
	_cleanup_(scenario_freep) struct scenario *sc = NULL;
	bool reverse = false;
	double duration = 0, budget_time = 0;
	long gi = -1, bi = -1, k;
	size_t n;
	int c, r, rc = KD_EXIT_INFRA;
	uint64_t t0 = now_usec(), t0_real = now_realtime_usec();
	struct repeat_cell cell;
	const struct repeat_opts ro = {.cmd = "bisect",
				       .confidence = &cfg.confidence,
				       .calibrate_matches = &cfg.calibrate_matches,
				       .duration = &duration,
				       .params = &params,
				       .run_args = &extra,
				       .out = &out,
				       .quiet = &ctx.quiet};

	bs_config_default(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", bisect_options, NULL)) != -1) {
		switch (c) {
		case OPT_GOOD:
			good = optarg;
			break;
		case OPT_BAD:
			bad = optarg;
			break;
		case OPT_KERNELS:
			list = optarg;
			break;
		case OPT_TREE:
			treedir = optarg;
			break;
		case OPT_REVERSE:
			reverse = true;
			break;
		case OPT_MEDIAN:
			cfg.select = BS_SELECT_MEDIAN;
			break;
		case OPT_BUDGET_RUNS:
			if ((r = repeat_opt_count("bisect", "budget-runs", optarg, &cfg.max_runs)))
				return r;
			break;
		case OPT_RPS:
			if ((r = repeat_opt_count("bisect", "runs-per-step", optarg,
						  &cfg.runs_per_step)))
				return r;
			break;
		case OPT_BUDGET_TIME:
			if ((r = repeat_opt_seconds("bisect", "budget-time", optarg, &budget_time)))
				return r;
			break;
		case REPEAT_OPT_FIRST ... REPEAT_OPT_LAST:
			if ((r = repeat_opt_parse(&ro, c, optarg)))
				return r;
			break;
		case OPT_HOST:
			fprintf(stderr, "kdrill bisect: host mode makes no sense here: a bisection "
					"boots each kernel of the list in a VM\n");
			return KD_EXIT_USAGE;
		case 'h':
			bisect_usage(stdout);
			return KD_EXIT_OK;
		default:
			bisect_usage(stderr);
			return KD_EXIT_USAGE;
		}
	}
	if (!good || !bad || !list == !treedir) {
		fprintf(stderr, "kdrill bisect: give --good, --bad and either --kernels LIST|RANGE "
				"or --tree DIR\n");
		return KD_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "kdrill bisect: give exactly one scenario (see 'kdrill list')\n");
		return KD_EXIT_USAGE;
	}
	if (treedir) {
		/* read-only: the repository, the revisions, the first-parent line between */
		unsetenv("GIT_DIR");
		unsetenv("GIT_WORK_TREE");
		unsetenv("GIT_INDEX_FILE");
		unsetenv("GIT_COMMON_DIR");
		r = kd_tree_open(treedir, reverse ? bad : good, reverse ? good : bad, &tree, &err);
		if (r < 0) {
			fprintf(stderr, "kdrill bisect: --tree: %s\n", err ? err : strerror(-r));
			return r == -EINVAL ? KD_EXIT_USAGE : KD_EXIT_INFRA;
		}
		for (size_t i = 0; i < tree.n; i++)
			if (strv_push(&all, strndup(tree.c[i].id, 12)) < 0)
				return KD_EXIT_INFRA;
		gi = reverse ? (long)tree.n - 1 : 0;
		bi = reverse ? 0 : (long)tree.n - 1;
		ctx.tree = &tree;
	} else {
		r = access(list, F_OK) == 0 ? read_list(list, &all, &err)
					    : expand_range(list, &all, &err);
		if (r < 0) {
			fprintf(stderr, "kdrill bisect: --kernels: %s\n", err ? err : strerror(-r));
			return r == -ENOMEM ? KD_EXIT_INFRA : KD_EXIT_USAGE;
		}
	}
	for (size_t i = 0; !treedir && all[i]; i++) {
		if (!strcmp(all[i], good) && gi < 0)
			gi = (long)i;
		if (!strcmp(all[i], bad) && bi < 0)
			bi = (long)i;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(all[i], all[j])) {
				fprintf(stderr,
					"kdrill bisect: --kernels: '%s' is in the list twice "
					"(lines/items %zu and %zu)\n",
					all[i], j + 1, i + 1);
				return KD_EXIT_USAGE;
			}
	}
	if (gi < 0 || bi < 0) {
		fprintf(stderr, "kdrill bisect: --%s %s is not in the kernel list\n",
			gi < 0 ? "good" : "bad", gi < 0 ? good : bad);
		return KD_EXIT_USAGE;
	}
	if (gi == bi) {
		fprintf(stderr, "kdrill bisect: --good and --bad are the same kernel\n");
		return KD_EXIT_USAGE;
	}
	if (!reverse && gi > bi) {
		fprintf(stderr,
			"kdrill bisect: --good %s comes after --bad %s in the list; to find "
			"the kernel that fixed the bug, add --reverse\n",
			good, bad);
		return KD_EXIT_USAGE;
	}
	if (reverse && gi < bi) {
		fprintf(stderr,
			"kdrill bisect: with --reverse the bad (buggy) kernel is the older "
			"one: --bad %s must come before --good %s in the list\n",
			bad, good);
		return KD_EXIT_USAGE;
	}
	r = scenario_load(argv[optind], params, &sc, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill bisect: %s\n", err ? err : strerror(-r));
		return r == -ENOMEM ? KD_EXIT_INFRA : KD_EXIT_USAGE;
	}
	label = sc->variant ? strdupf("%s.%s", sc->name, sc->variant) : strdup(sc->name);
	/* bisection order: 0 = good end ... n-1 = bad end */
	n = (size_t)labs(bi - gi) + 1;
	ctx.n = n;
	ctx.refs = calloc(n + 1, sizeof(char *));
	ctx.t = calloc(n, sizeof(*ctx.t));
	ctx.steps = json_object_new_array();
	if (!label || !ctx.refs || !ctx.t || bs_init(&ctx.st, n, &cfg) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		ctx.refs[i] = all[gi < bi ? gi + (long)i : gi - (long)i];
	if (treedir) {
		ctx.commit = calloc(n, sizeof(*ctx.commit));
		ctx.build = calloc(n, sizeof(*ctx.build));
		ctx.built = calloc(n, sizeof(*ctx.built));
		ctx.kref = calloc(n + 1, sizeof(*ctx.kref));
		if (!ctx.commit || !ctx.build || !ctx.built || !ctx.kref)
			goto out;
		for (size_t i = 0; i < n; i++)
			ctx.commit[i] = &tree.c[gi < bi ? gi + (long)i : gi - (long)i];
	}

	r = wf_make_dir(out, "bisect", label, &id, &dir);
	if (r < 0) {
		fprintf(stderr, "kdrill bisect: %s: %s\n", out, strerror(-r));
		goto out;
	}
	ctx.tty = wf_tty();
	repeat_install_signals();
	if (!ctx.quiet)
		fprintf(stderr, "kdrill bisect: %s: %zu %s, %s %s .. %s %s%s\n", dir, n,
			treedir ? "commits" : "kernels", "good", good, "bad", bad,
			reverse ? " (reverse: looking for the fix)" : "");
	if (treedir) {
		r = kd_tree_prepare(&tree, &err);
		if (r < 0) {
			fprintf(stderr, "kdrill bisect: --tree %s: %s\n", treedir,
				err ? err : strerror(-r));
			goto out;
		}
		if (!ctx.quiet)
			fprintf(stderr,
				"kdrill bisect: building in the worktree %s (objects: %s)\n",
				tree.worktree, tree.obj);
	}
	cell = (struct repeat_cell){.scenario = argv[optind],
				    .params = params,
				    .duration = duration,
				    .out_dir = out,
				    .work_dir = dir,
				    .extra_args = extra};
	while ((k = bs_next(&ctx.st)) >= 0) {
		struct repeat_run run;
		struct json_object *step;
		if (ctx.tree && !ctx.built[k]) {
			r = tree_build(&ctx, (size_t)k, &err);
			if (r == -EINTR || repeat_interrupted) {
				ctx.st.interrupted = true;
				continue;
			}
			if (r < 0) {
				fprintf(stderr, "kdrill bisect: %s: %s\n", ctx.refs[k],
					err ? err : strerror(-r));
				goto out;
			}
			if (budget_time > 0 && (double)(now_usec() - t0) / 1e6 >= budget_time)
				ctx.st.time_up = true;
			if (!ctx.build[k].ok)
				continue; /* skipped: bs_next picks another */
		}
		cell.kernel = run_ref(&ctx, (size_t)k);
		r = repeat_once(&cell, &run, &err);
		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "kdrill bisect: %s: %s\n", ctx.refs[k],
				err ? err : strerror(-r));
			rc = r == -EINVAL ? KD_EXIT_USAGE : KD_EXIT_INFRA;
			goto out;
		}
		if (run.verdict) {
			bs_record(&ctx.st, (size_t)k, run.outcome);
			step = json_object_new_object();
			json_object_object_add(step, "kernel", json_object_new_string(ctx.refs[k]));
			json_object_object_add(step, "position", json_object_new_int64(k));
			json_object_object_add(
			    step, "outcome",
			    json_object_new_string(repeat_outcome_name(run.outcome)));
			json_object_object_add(step, "run_id", jstr_or_null(run.run_id));
			json_object_object_add(step, "title", jstr_or_null(run.title));
			json_object_array_add(ctx.steps, step);
			progress(&ctx, (size_t)k, &run);
			if (repeat_tally_add(&ctx.t[k], &run) < 0) {
				repeat_run_done(&run);
				goto out;
			}
		}
		repeat_run_done(&run);
		if (r == -EINTR || repeat_interrupted)
			ctx.st.interrupted = true;
		if (budget_time > 0 && (double)(now_usec() - t0) / 1e6 >= budget_time)
			ctx.st.time_up = true;
	}

	{
		struct bs_state *s = &ctx.st;
		struct json_object *j = json_object_new_object(), *kj = json_object_new_array(),
				   *cfgj = json_object_new_object(), *pj = json_object_new_array(),
				   *cmd = json_object_new_array(), *cul = NULL,
				   *flags = json_object_new_array();
		double wall = (double)(now_usec() - t0) / 1e6;
		char started[64] = "";
		char *md = NULL;
		size_t mdlen = 0;
		FILE *f = open_memstream(&md, &mdlen);
		const char *answer = NULL,
			   *pred = NULL; /* culprit / its neighbour (original order) */
		size_t ai = 0, pi = 0;	 /* their positions */
		_cleanup_free_ char *reason = NULL, *repro = NULL, *sha_a = NULL, *sha_b = NULL,
				    *pe = NULL;
		const struct repeat_run *fail_run = NULL;
		unsigned boots = 0;

		if (!f)
			goto out;
		/* the answer in the user's terms */
		if (s->result == BS_FOUND) {
			ai = reverse ? s->best - 1 : s->best;
			pi = reverse ? s->best : s->best - 1;
			if (!reverse) {
				answer = ctx.refs[s->best];
				pred = ctx.refs[s->best - 1];
				reason = strdupf(
				    "first bad kernel: %s (probability %.3f; the one before, "
				    "%s, is good)",
				    answer, s->best_p, pred);
			} else {
				answer = ctx.refs[s->best - 1];
				pred = ctx.refs[s->best];
				reason =
				    strdupf("first fixed kernel: %s (probability %.3f; the one "
					    "before, %s, still reproduces)",
					    answer, s->best_p, pred);
			}
			for (size_t i = 0; i < ctx.t[s->best].n_run && !fail_run; i++)
				if (ctx.t[s->best].run[i].outcome == RO_MATCH)
					fail_run = &ctx.t[s->best].run[i];
		} else if (s->result == BS_NO_REPRO)
			reason = strdupf("the bad end %s did not reproduce in %u runs: nothing to "
					 "bisect",
					 bad, ctx.st.k[n - 1].runs);
		else if (s->result == BS_GOOD_IS_BAD)
			reason =
			    strdupf("the good end %s reproduces too (%u of %u runs): the bug is "
				    "older than the range",
				    good, ctx.st.k[0].matches, ctx.st.k[0].runs);
		else if (s->result == BS_INFRA && ctx.tree && ctx.built[n - 1] &&
			 !ctx.build[n - 1].ok)
			reason = strdupf("the bad end %s (%s) does not build: nothing to bisect "
					 "(log: %s)",
					 bad, ctx.refs[n - 1],
					 ctx.build[n - 1].log ? ctx.build[n - 1].log : "-");
		else if (s->result == BS_INFRA)
			reason = strdupf("INFRA dominates: too many runs could not test");
		else if (s->result == BS_INTERRUPTED)
			reason = strdup("interrupted");
		else
			reason = strdupf(
			    "%s: the culprit is in %s .. %s with probability %.3f "
			    "(most likely %s, %.3f)",
			    s->result == BS_AMBIGUOUS ? "only kernels that could not be "
							"tested could decide"
						      : "the budget ended",
			    ctx.refs[reverse ? (s->lo ? s->lo - 1 : 0) : s->lo],
			    ctx.refs[reverse ? (s->hi ? s->hi - 1 : 0) : s->hi], s->range_p,
			    ctx.refs[reverse && s->best ? s->best - 1 : s->best], s->best_p);
		if (answer) {
			sha_a = run_ref(&ctx, ai) ? bzimage_sha(run_ref(&ctx, ai)) : NULL;
			sha_b = run_ref(&ctx, pi) ? bzimage_sha(run_ref(&ctx, pi)) : NULL;
			if (sha_a && sha_b && !strcmp(sha_a, sha_b))
				json_object_array_add(flags,
						      json_object_new_string(
							  "the culprit's bzImage is byte-identical "
							  "to its neighbour's: the result "
							  "is unreliable"));
			if (ctx.tree && ctx.commit[ai]->merge)
				json_object_array_add(
				    flags, json_object_new_string(
					       "the culprit is a merge commit: the change came "
					       "with the branch it merges; bisect that branch "
					       "(--good the merge's first parent, --bad its "
					       "second parent)"));
		}
		if (fail_run || answer) {
			_cleanup_strv_ char **rv = NULL;
			_cleanup_free_ char *seed = NULL, *dur = NULL;
			strv_extend(&rv, "kdrill");
			strv_extend(&rv, "run");
			strv_extend(&rv, "--kernel");
			strv_extend(&rv, run_ref(&ctx, s->best) ? run_ref(&ctx, s->best)
								: ctx.refs[s->best]);
			if (duration > 0 && (dur = strdupf("%g", duration))) {
				strv_extend(&rv, "--duration");
				strv_extend(&rv, dur);
			}
			STRV_FOREACH (p, params) {
				strv_extend(&rv, "--param");
				strv_extend(&rv, *p);
			}
			if (fail_run && fail_run->seed &&
			    (seed = strdupf("%llu", (unsigned long long)fail_run->seed))) {
				strv_extend(&rv, "--seed");
				strv_extend(&rv, seed);
			}
			strv_extend(&rv, argv[optind]);
			repro = strv_join(rv, " ");
		}
		for (size_t i = 0; i < n; i++)
			boots += ctx.t[i].n_run;

		format_iso8601(t0_real, started, sizeof(started));
		json_object_object_add(j, "schema", json_object_new_string("kdrill-bisect/1"));
		json_object_object_add(j, "id", json_object_new_string(id));
		json_object_object_add(j, "dir", json_object_new_string(dir));
		for (int a = 0; a < argc; a++)
			json_object_array_add(cmd, json_object_new_string(argv[a]));
		json_object_object_add(j, "command", cmd);
		json_object_object_add(j, "started", json_object_new_string(started));
		json_object_object_add(j, "scenario", json_object_new_string(label));
		json_object_object_add(j, "good", json_object_new_string(good));
		json_object_object_add(j, "bad", json_object_new_string(bad));
		json_object_object_add(j, "reverse", json_object_new_boolean(reverse));
		json_object_object_add(cfgj, "confidence", wf_num(s->cfg.confidence, 3));
		json_object_object_add(cfgj, "final_confidence",
				       wf_num(s->cfg.final_confidence, 3));
		json_object_object_add(cfgj, "calibrate_matches",
				       json_object_new_int((int)s->cfg.calibrate_matches));
		json_object_object_add(cfgj, "budget_runs",
				       s->cfg.max_runs ? json_object_new_int((int)s->cfg.max_runs)
						       : NULL);
		json_object_object_add(cfgj, "budget_time_s",
				       budget_time > 0 ? wf_num(budget_time, 1) : NULL);
		json_object_object_add(
		    cfgj, "runs_per_step",
		    s->cfg.runs_per_step ? json_object_new_int((int)s->cfg.runs_per_step) : NULL);
		json_object_object_add(cfgj, "select",
				       json_object_new_string(s->cfg.select == BS_SELECT_MEDIAN
								  ? "median"
								  : "entropy"));
		json_object_object_add(cfgj, "duration_s",
				       duration > 0 ? wf_num(duration, 1) : NULL);
		STRV_FOREACH (p, params)
			json_object_array_add(pj, json_object_new_string(*p));
		json_object_object_add(cfgj, "params", pj);
		json_object_object_add(j, "config", cfgj);
		json_object_object_add(j, "result",
				       json_object_new_string(bs_result_name(s->result)));
		json_object_object_add(j, "exit_code",
				       json_object_new_int(bs_exit_code(s->result)));
		json_object_object_add(j, "reason", json_object_new_string(reason ? reason : ""));
		if (answer) {
			cul = json_object_new_object();
			json_object_object_add(cul, "kernel", json_object_new_string(answer));
			json_object_object_add(cul, "previous", json_object_new_string(pred));
			json_object_object_add(
			    cul, "release",
			    jstr_or_null(ctx.t[reverse ? s->best - 1 : s->best].kernel_release));
			json_object_object_add(cul, "probability", wf_num(s->best_p, 4));
			if (ctx.tree) {
				json_object_object_add(cul, "commit",
						       json_object_new_string(ctx.commit[ai]->id));
				json_object_object_add(
				    cul, "subject",
				    json_object_new_string(ctx.commit[ai]->subject));
				json_object_object_add(
				    cul, "merge", json_object_new_boolean(ctx.commit[ai]->merge));
				json_object_object_add(cul, "previous_commit",
						       json_object_new_string(ctx.commit[pi]->id));
			}
			json_object_object_add(cul, "failing_run",
					       fail_run ? jstr_or_null(fail_run->run_id) : NULL);
			json_object_object_add(cul, "reproduce", jstr_or_null(repro));
		}
		json_object_object_add(j, "culprit", cul);
		{
			struct json_object *rg = json_object_new_object();
			size_t lo = reverse ? (s->lo ? s->lo - 1 : 0) : s->lo;
			size_t hi = reverse ? (s->hi ? s->hi - 1 : 0) : s->hi;
			json_object_object_add(rg, "first", json_object_new_string(ctx.refs[lo]));
			json_object_object_add(rg, "last", json_object_new_string(ctx.refs[hi]));
			json_object_object_add(rg, "probability", wf_num(s->range_p, 4));
			json_object_object_add(j, "range", s->calibrated ? rg : NULL);
			if (!s->calibrated)
				json_object_put(rg);
		}
		json_object_object_add(j, "p_estimate", s->calibrated ? wf_num(s->p_hat, 4) : NULL);
		json_object_object_add(j, "flags", flags);
		json_object_object_add(j, "runs", json_object_new_int((int)s->total));
		json_object_object_add(j, "boots", json_object_new_int((int)boots));
		json_object_object_add(j, "wall_s", wf_num(wall, 1));
		for (size_t i = 0; i < n; i++) {
			struct json_object *x = repeat_tally_json(&ctx.t[i]);
			json_object_object_add(x, "kernel", json_object_new_string(ctx.refs[i]));
			json_object_object_add(x, "release", jstr_or_null(ctx.t[i].kernel_release));
			json_object_object_add(x, "posterior",
					       s->calibrated ? wf_num(s->post[i], 4) : NULL);
			json_object_object_add(x, "skipped",
					       json_object_new_boolean(s->k[i].skipped));
			if (ctx.tree) {
				json_object_object_add(x, "commit",
						       json_object_new_string(ctx.commit[i]->id));
				json_object_object_add(
				    x, "subject", json_object_new_string(ctx.commit[i]->subject));
				json_object_object_add(
				    x, "merge", json_object_new_boolean(ctx.commit[i]->merge));
				json_object_object_add(
				    x, "build", ctx.built[i] ? build_json(&ctx.build[i]) : NULL);
			}
			json_object_array_add(kj, x);
		}
		json_object_object_add(j, "kernels", kj);
		if (ctx.tree) {
			struct json_object *tj = json_object_new_object();
			double bs = 0;
			unsigned nb = 0, nf = 0, nc = 0;
			for (size_t i = 0; i < n; i++) {
				if (!ctx.built[i])
					continue;
				bs += ctx.build[i].seconds;
				if (ctx.build[i].cached)
					nc++;
				else if (ctx.build[i].ok)
					nb++;
				else
					nf++;
			}
			json_object_object_add(tj, "directory", json_object_new_string(treedir));
			json_object_object_add(tj, "git_dir", json_object_new_string(tree.gitdir));
			json_object_object_add(tj, "cache", jstr_or_null(tree.dir));
			json_object_object_add(tj, "worktree", jstr_or_null(tree.worktree));
			json_object_object_add(tj, "object_tree", jstr_or_null(tree.obj));
			json_object_object_add(tj, "config_key", jstr_or_null(tree.cfgkey));
			json_object_object_add(tj, "good_commit",
					       json_object_new_string(ctx.commit[0]->id));
			json_object_object_add(tj, "bad_commit",
					       json_object_new_string(ctx.commit[n - 1]->id));
			json_object_object_add(tj, "builds", json_object_new_int((int)nb));
			json_object_object_add(tj, "builds_cached", json_object_new_int((int)nc));
			json_object_object_add(tj, "builds_failed", json_object_new_int((int)nf));
			json_object_object_add(tj, "build_s", wf_num(bs, 1));
			json_object_object_add(j, "tree", tj);
		}
		json_object_object_add(j, "steps", json_object_get(ctx.steps));

		/* bisect.md */
		pe = s->calibrated ? strdupf("= %.2f", s->p_hat) : strdup("not estimated");
		fprintf(f, "# kdrill bisect %s: %s\n\n", id, bs_result_name(s->result));
		fprintf(f, "%s\n\n", reason ? reason : "");
		fprintf(f,
			"scenario `%s`, %zu kernels from good `%s` to bad `%s`%s; confidence %.2f "
			"(culprit re-tested to %.3f); estimated reproduction rate p %s; %u runs "
			"(%u boots), %.0f s\n\n",
			label, n, good, bad, reverse ? " (reverse: the fix)" : "",
			s->cfg.confidence, s->cfg.final_confidence, pe ? pe : "?", s->total, boots,
			wall);
		for (size_t i = 0; i < json_object_array_length(flags); i++)
			fprintf(f, "**Warning:** %s\n\n",
				json_object_get_string(json_object_array_get_idx(flags, i)));
		if (answer && ctx.tree) {
			_cleanup_free_ char *subj = safe_subject(ctx.commit[ai]->subject);
			fprintf(f, "Culprit commit: `%s` %s\n\n", ctx.commit[ai]->id,
				subj ? subj : "");
		}
		if (repro)
			fprintf(f, "Reproduce the culprit's failing run:\n\n    %s\n\n", repro);
		if (ctx.tree)
			fprintf(
			    f,
			    "Tree: `%s`, built in the worktree `%s` (objects `%s`); the kernels "
			    "are published under `%s/commits/`.\n\n",
			    treedir, tree.worktree, tree.obj, tree.dir);
		fprintf(f,
			"| kernel | release | fail:runs | other reports | INFRA | posterior |%s\n"
			"|---|---|---|---|---|---|%s\n",
			ctx.tree ? " build |" : "", ctx.tree ? "---|" : "");
		for (size_t i = 0; i < n; i++) {
			size_t oi = gi < bi ? i : n - 1 - i; /* list order */
			const struct repeat_tally *t = &ctx.t[oi];
			_cleanup_free_ char *subj =
			    ctx.tree ? safe_subject(ctx.commit[oi]->subject) : NULL;
			fprintf(f, "| `%s`%s%s%s | %s | %u:%u | ", ctx.refs[oi], subj ? " " : "",
				subj ? subj : "",
				oi == 0	      ? " (good)"
				: oi == n - 1 ? " (bad)"
					      : "",
				t->kernel_release ? t->kernel_release : "", t->n[RO_MATCH],
				t->n[RO_MATCH] + t->n[RO_PASS]); /* another report is no run here */
			for (size_t q = 0; q < t->n_others; q++)
				fprintf(f, "%s%s (%u)", q ? "; " : "", t->others[q].text,
					t->others[q].count);
			fprintf(f, " | %u%s | ", t->n[RO_INFRA],
				s->k[oi].skipped ? " (skipped)" : "");
			if (s->calibrated)
				fprintf(f, "%.3f |", s->post[oi]);
			else
				fprintf(f, "— |");
			if (ctx.tree && !ctx.built[oi])
				fprintf(f, " not needed |");
			else if (ctx.tree) {
				const struct kd_tree_build *b = &ctx.build[oi];
				if (b->cached)
					fprintf(f, " built before |");
				else
					fprintf(f, " %s in %.0f s (load %s) |",
						b->ok ? "built" : "**failed** (skipped)",
						b->seconds, b->load);
			}
			fputc('\n', f);
		}
		fprintf(f,
			"\nThe posterior of a kernel is the probability that it is the first bad "
			"one%s.\n\nSteps (one run each):\n\n",
			reverse ? " in the reversed order (the last that reproduces)" : "");
		for (size_t i = 0; i < json_object_array_length(ctx.steps); i++) {
			struct json_object *st = json_object_array_get_idx(ctx.steps, i), *x;
			const char *run_id = NULL, *title = NULL;
			if (json_object_object_get_ex(st, "run_id", &x) && x)
				run_id = json_object_get_string(x);
			if (json_object_object_get_ex(st, "title", &x) && x)
				title = json_object_get_string(x);
			json_object_object_get_ex(st, "outcome", &x);
			fprintf(f, "%zu. `%s` %s `%s`%s%s\n", i + 1,
				json_object_get_string(json_object_object_get(st, "kernel")),
				json_object_get_string(x), run_id ? run_id : "-", title ? ": " : "",
				title ? title : "");
		}
		fprintf(f, "\n`kdrill show RUN-ID` shows a run; `kdrill show %s` this report.\n",
			id);
		fclose(f);
		r = wf_write_json(dir, "bisect.json", j);
		if (r >= 0 && md)
			r = wf_write(dir, "bisect.md", md);
		json_object_put(j);
		free(md);
		if (r < 0) {
			fprintf(stderr, "kdrill bisect: writing %s: %s\n", dir, strerror(-r));
			goto out;
		}
		if (!ctx.quiet)
			fprintf(stderr, "%s  %s\n  (%s/bisect.md)\n", bs_result_name(s->result),
				reason ? reason : "", dir);
		printf("%s %s %s\n", bs_result_name(s->result), answer ? answer : "-", id);
		rc = bs_exit_code(s->result);
	}
out:
	for (size_t i = 0; ctx.build && i < n; i++)
		kd_tree_build_done(&ctx.build[i]);
	free(ctx.build);
	free(ctx.built);
	free(ctx.commit);
	for (size_t i = 0; ctx.kref && i < n; i++)
		free(ctx.kref[i]); /* not a strv: holes where nothing was built */
	free(ctx.kref);
	for (size_t i = 0; ctx.t && i < n; i++)
		repeat_tally_done(&ctx.t[i]);
	free(ctx.t);
	free(ctx.refs);
	json_object_put(ctx.steps);
	bs_free(&ctx.st);
	return rc;
}
