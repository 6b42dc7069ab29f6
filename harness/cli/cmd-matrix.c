// SPDX-License-Identifier: GPL-2.0
/* kdrill matrix | merge | report: the nightly regression lab (docs/matrix.md). */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "compare.h"
#include "matrix-run.h"
#include "plan.h"
#include "repeat.h"
#include "report.h"
#include "store.h"
#include "util.h"

static const char *default_store(void)
{
	const char *s = getenv("KDRILL_MATRIX_STORE");
	return s && *s ? s : "matrix";
}

static void matrix_usage(FILE *f)
{
	fputs(
	    "usage: kdrill matrix [OPTIONS] PLAN\n"
	    "       kdrill matrix --resume [OPTIONS] [PLAN]\n"
	    "       kdrill matrix --ingest --kernel REF [OPTIONS] PLAN RUN-DIR...\n"
	    "Run a plan's kernels x scenarios (docs/matrix.md) into a results store: every\n"
	    "cell once before any cell twice, INFRA retried, resumable, shardable; then write\n"
	    "the night's report (STORE/report/).\n\n"
	    "  --store DIR     results store (default $KDRILL_MATRIX_STORE or ./matrix)\n"
	    "  --night ID      the night (default: today's UTC date; with --resume the last one)\n"
	    "  --shard I/N     run only the cells of shard I of N (hash of the cell key)\n"
	    "  --resume        finish a night: runs already in its journal are not redone\n"
	    "  --dry-run       print the cells and the order of the runs, run nothing\n"
	    "  --no-report     do not write the report at the end\n"
	    "  --min-free SIZE stop the night (resumable) when the store has less free space\n"
	    "                  than this before a run or after an INFRA one (default 64M)\n"
	    "  --ingest        journal run directories made elsewhere (a lab, another\n"
	    "                  machine) as runs of the plan's cells on kernel --kernel REF\n"
	    "  --quiet         no line per run\n\n"
	    "exit: 0 no new failure, 1 a new failure (not a known issue), 125 night not\n"
	    "      finished (interrupted, budget, store full) or a cell all INFRA, 2 usage or\n"
	    "      bad plan\n",
	    f);
}

static char *today(void)
{
	char buf[32];
	format_iso8601(now_realtime_usec(), buf, sizeof(buf));
	buf[10] = 0;
	return strdup(buf);
}

static int parse_shard(const char *s, unsigned *i, unsigned *n)
{
	unsigned a, b;
	char c;
	if (sscanf(s, "%u/%u%c", &a, &b, &c) != 2 || b < 1 || a < 1 || a > b || b > 1000)
		return -EINVAL;
	*i = a;
	*n = b;
	return 0;
}

/* Analyse and write the report of one night: shared by matrix and report. */
static int write_report(const char *store, const char *night_id, const char *out,
			const char *url_base, unsigned trend, bool quiet, int *ret_exit)
{
	_cleanup_(mx_store_freep) struct mx_store *s = NULL;
	_cleanup_(mx_plan_freep) struct mx_plan *plan = NULL;
	_cleanup_(mx_analysis_freep) struct mx_analysis *a = NULL;
	_cleanup_free_ char *err = NULL, *summary = NULL, *planf = NULL, *outd = NULL;
	const struct mx_night *n;
	int r;

	r = mx_store_load(store, &s, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill report: %s\n", err ? err : strerror(-r));
		return KD_EXIT_USAGE;
	}
	if (!s->n) {
		fprintf(stderr, "kdrill report: %s: no night in the store\n", store);
		return KD_EXIT_USAGE;
	}
	n = night_id ? mx_store_night(s, night_id) : &s->nights[s->n - 1];
	if (!n) {
		fprintf(stderr, "kdrill report: %s: no night '%s'\n", store, night_id);
		return KD_EXIT_USAGE;
	}
	planf = strdupf("%s/plan.ini", n->dir);
	if (!planf)
		return KD_EXIT_INFRA;
	/* the night's own plan gives known issues and the comparison; a plan that no longer
	 * validates here (a scenario gone) still leaves the journal to report on */
	free(err);
	err = NULL;
	if (mx_plan_load(planf, &plan, &err) < 0) {
		fprintf(stderr, "kdrill report: %s (reporting from the journal alone)\n",
			err ? err : planf);
		plan = NULL;
	}
	r = mx_analyze(s, n, plan, &a);
	if (r < 0) {
		fprintf(stderr, "kdrill report: %s\n", strerror(-r));
		return KD_EXIT_INFRA;
	}
	outd = out ? strdup(out) : strdupf("%s/report", store);
	if (!outd)
		return KD_EXIT_INFRA;
	struct mx_report_opts ro = {.out = outd, .url_base = url_base, .trend_nights = trend};
	free(err);
	err = NULL;
	r = mx_report_write(s, a, plan, &ro, &summary, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill report: %s\n", err ? err : strerror(-r));
		return KD_EXIT_INFRA;
	}
	if (!quiet)
		fputs(summary, stdout);
	if (ret_exit)
		*ret_exit = a->counts[MX_NEW_FAILURE] ? KD_EXIT_BAD
			    : a->counts[MX_INFRA]     ? KD_EXIT_INFRA
						      : KD_EXIT_OK;
	return 0;
}

static int do_ingest(const char *store, const char *night, const struct mx_plan *plan,
		     const char *kernel, char **dirs)
{
	_cleanup_free_ char *err = NULL;
	int r = mx_night_open(store, night, plan, "all", &err);
	if (r < 0) {
		fprintf(stderr, "kdrill matrix: %s\n", err);
		return KD_EXIT_USAGE;
	}
	for (char **d = dirs; *d; d++) {
		_cleanup_free_ char *vp = strdupf("%s/verdict.json", *d);
		struct json_object *v = vp ? json_object_from_file(vp) : NULL, *x;
		const char *scen = NULL, *var = NULL;
		struct mx_night nt = {0};
		if (v && json_object_object_get_ex(v, "scenario", &x))
			scen = json_object_get_string(x);
		if (v && json_object_object_get_ex(v, "variant", &x) && x)
			var = json_object_get_string(x);
		const struct mx_cell *cell = NULL;
		for (size_t i = 0; scen && i < plan->n_cells; i++) {
			const struct mx_cell *c = &plan->cells[i];
			if (!strcmp(c->kernel, kernel) && !strcmp(c->scenario, scen) &&
			    (!c->variant || (var && !strcmp(c->variant, var))) &&
			    (!cell || (c->variant && var)))
				cell = c;
		}
		if (!cell) {
			fprintf(stderr,
				"kdrill matrix: %s: no cell of %s for kernel %s and %s%s%s\n", *d,
				plan->path, kernel, scen ? scen : "(no verdict.json)",
				var ? ":" : "", var ? var : "");
			json_object_put(v);
			return KD_EXIT_USAGE;
		}
		json_object_put(v);
		free(err);
		err = NULL;
		if ((r = mx_night_load(store, night, &nt, &err)) < 0) {
			fprintf(stderr, "kdrill matrix: %s\n", err);
			return KD_EXIT_INFRA;
		}
		unsigned round = 0;
		for (size_t i = 0; i < nt.n; i++)
			if (!strcmp(nt.e[i].cell, cell->key) && nt.e[i].round >= round)
				round = nt.e[i].round + 1;
		mx_night_done(&nt);
		r = mx_store_ingest(store, night, *d, cell->key, cell->kernel, round, 0, "all",
				    &err);
		if (r < 0) {
			fprintf(stderr, "kdrill matrix: %s\n", err ? err : strerror(-r));
			return r == -EEXIST ? KD_EXIT_USAGE : KD_EXIT_INFRA;
		}
		printf("ingested %s as '%s' round %u\n", *d, cell->key, round + 1);
	}
	return KD_EXIT_OK;
}

int cmd_matrix(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"store", required_argument, NULL, 's'},
	    {"night", required_argument, NULL, 'n'},
	    {"shard", required_argument, NULL, 'S'},
	    {"resume", no_argument, NULL, 'r'},
	    {"dry-run", no_argument, NULL, 'd'},
	    {"no-report", no_argument, NULL, 'R'},
	    {"ingest", no_argument, NULL, 'i'},
	    {"kernel", required_argument, NULL, 'k'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"min-free", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *store = default_store(), *kernel = NULL;
	uint64_t min_free = 64ULL << 20;
	_cleanup_free_ char *night = NULL, *err = NULL, *planpath = NULL, *self = NULL;
	unsigned shard_i = 1, shard_n = 1;
	bool resume = false, dry = false, no_report = false, ingest = false, quiet = false;
	_cleanup_(mx_plan_freep) struct mx_plan *plan = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		switch (c) {
		case 's':
			store = optarg;
			break;
		case 'n':
			free(night);
			night = strdup(optarg);
			break;
		case 'S':
			if (parse_shard(optarg, &shard_i, &shard_n) < 0) {
				fprintf(stderr, "kdrill matrix: --shard %s: I/N with 1 <= I <= N\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			break;
		case 'r':
			resume = true;
			break;
		case 'd':
			dry = true;
			break;
		case 'R':
			no_report = true;
			break;
		case 'i':
			ingest = true;
			break;
		case 'k':
			kernel = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'm':
			if (parse_size(optarg, &min_free) < 0) {
				fprintf(stderr,
					"kdrill matrix: --min-free %s: a size such as 64M or 1G\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			break;
		case 'h':
			matrix_usage(stdout);
			return KD_EXIT_OK;
		default:
			matrix_usage(stderr);
			return KD_EXIT_USAGE;
		}

	if (optind < argc)
		planpath = strdup(argv[optind++]);
	if (ingest) {
		if (!planpath || !kernel || optind >= argc) {
			fprintf(
			    stderr,
			    "kdrill matrix: --ingest needs --kernel REF, PLAN and RUN-DIR...\n");
			return KD_EXIT_USAGE;
		}
	} else if (optind < argc) {
		fprintf(stderr, "kdrill matrix: one PLAN only\n");
		return KD_EXIT_USAGE;
	}
	if (resume && !night) {
		/* the last night of the store */
		_cleanup_(mx_store_freep) struct mx_store *s = NULL;
		if (mx_store_load(store, &s, &err) < 0 || !s->n) {
			fprintf(stderr, "kdrill matrix: --resume: %s\n",
				err ? err : "no night in the store");
			return KD_EXIT_USAGE;
		}
		night = strdup(s->nights[s->n - 1].id);
	}
	if (!night)
		night = today();
	if (!night)
		return KD_EXIT_INFRA;
	if (!planpath && resume)
		planpath = strdupf("%s/nights/%s/plan.ini", store, night);
	if (!planpath) {
		matrix_usage(stderr);
		return KD_EXIT_USAGE;
	}
	r = mx_plan_load(planpath, &plan, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill matrix: %s\n", err ? err : strerror(-r));
		return r == -ENOMEM ? KD_EXIT_INFRA : KD_EXIT_USAGE;
	}
	if (ingest)
		return do_ingest(store, night, plan, kernel, argv + optind);

	if (dry) {
		printf("plan %s (hash %s): %zu cells x %u runs, %gs each\n", plan->name, plan->hash,
		       plan->n_cells, plan->runs, plan->duration);
		for (size_t i = 0; i < plan->n_cells; i++)
			printf("  cell %-3zu %s  (shard %llu/%u)%s\n", i + 1, plan->cells[i].key,
			       (unsigned long long)(mx_hash64(plan->cells[i].key) % shard_n) + 1,
			       shard_n,
			       mx_cell_in_shard(&plan->cells[i], shard_i, shard_n) ? ""
										   : "  skipped");
		printf("order: ");
		unsigned k = 0;
		for (unsigned round = 0; round < plan->runs; round++)
			for (size_t i = 0; i < plan->n_cells; i++)
				if (mx_cell_in_shard(&plan->cells[i], shard_i, shard_n))
					printf("%s%zu.%u", k++ ? " " : "", i + 1, round + 1);
		printf("  (cell.round)\n");
		return KD_EXIT_OK;
	}

	self = realpath("/proc/self/exe", NULL);
	if (!self)
		return KD_EXIT_INFRA;
	repeat_install_signals();
	struct mx_run_opts ro = {.store = store,
				 .night = night,
				 .kdrill = self,
				 .shard_i = shard_i,
				 .shard_n = shard_n,
				 .resume = resume,
				 .min_free = min_free,
				 .progress = quiet ? NULL : stdout};
	struct mx_run_result res;
	free(err);
	err = NULL;
	if (!quiet) {
		char sh[32] = "";
		if (shard_n > 1)
			snprintf(sh, sizeof(sh), ", shard %u/%u", shard_i, shard_n);
		printf("kdrill matrix: %s, night %s%s: %zu cells x %u runs into %s\n", plan->name,
		       night, sh, plan->n_cells, plan->runs, store);
	}
	fflush(stdout);
	r = mx_run_night(plan, &ro, &res, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill matrix: %s\n", err ? err : strerror(-r));
		return r == -EEXIST || r == -EBADR || r == -EINVAL ? KD_EXIT_USAGE : KD_EXIT_INFRA;
	}
	if (!quiet)
		printf(
		    "night %s: %u of %u runs done before, %u run now (%u failing, %u INFRA), "
		    "%u left: %s; %.0fs (kdrill run children %.0fs, their verdicts' time %.0fs)\n",
		    night, res.done, res.planned, res.ran, res.fails, res.infra, res.left,
		    res.state, res.wall_s, res.run_wall_s, res.run_dur_s);
	if (!strcmp(res.state, "store-full")) {
		/* no report: it would not fit either */
		fprintf(stderr,
			"kdrill matrix: night %s stopped: %s has %" PRIu64
			" KiB free (--min-free %" PRIu64
			" KiB); free space, then kdrill matrix --store %s --resume\n",
			night, store, res.store_free >> 10, min_free >> 10, store);
		return KD_EXIT_INFRA;
	}
	int exit_code = KD_EXIT_OK;
	if (!no_report && !repeat_interrupted) {
		r = write_report(store, night, NULL, NULL, 0, quiet, &exit_code);
		if (r)
			return r;
	}
	if (repeat_interrupted || strcmp(res.state, "complete"))
		return exit_code == KD_EXIT_BAD ? KD_EXIT_BAD : KD_EXIT_INFRA;
	return exit_code;
}

static void report_usage(FILE *f)
{
	fputs("usage: kdrill report [--night ID] [--out DIR] [--url-base URL] [--trend-nights N]\n"
	      "                     STORE\n"
	      "Write a night's report from a matrix store: index.html (grid, changes, trends,\n"
	      "failures), junit.xml, summary.json, kcidb.json (KCIDB v5.3), summary.txt.\n\n"
	      "  --night ID        the night (default: the last one)\n"
	      "  --out DIR         where (default STORE/report)\n"
	      "  --url-base URL    prefix of the store's files in kcidb.json (default file://)\n"
	      "  --trend-nights N  nights in the trend charts (default 14)\n\n"
	      "exit: 0 written (the text summary is printed), 2 usage or no such night\n",
	      f);
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"night", required_argument, NULL, 'n'},
	    {"out", required_argument, NULL, 'o'},
	    {"url-base", required_argument, NULL, 'u'},
	    {"trend-nights", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *night = NULL, *out = NULL, *url = NULL;
	uint64_t trend = 0;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1)
		switch (c) {
		case 'n':
			night = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 't':
			if (parse_u64(optarg, &trend) < 0 || trend < 1 || trend > 1000) {
				fprintf(stderr, "kdrill report: --trend-nights %s: 1..1000\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			break;
		case 'h':
			report_usage(stdout);
			return KD_EXIT_OK;
		default:
			report_usage(stderr);
			return KD_EXIT_USAGE;
		}
	if (optind + 1 != argc) {
		report_usage(stderr);
		return KD_EXIT_USAGE;
	}
	r = write_report(argv[optind], night, out, url, (unsigned)trend, false, NULL);
	return r;
}

static void merge_usage(FILE *f)
{
	fputs("usage: kdrill merge --out STORE SOURCE-STORE...\n"
	      "Combine matrix stores (the shards of a night, or other nights) into STORE.\n"
	      "Refused, before anything is copied, when a night was run with different plans\n"
	      "or a run (cell, round, attempt) is in two sources.\n\n"
	      "exit: 0 merged, 2 usage, mismatched plans or duplicates\n",
	      f);
}

int cmd_merge(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	_cleanup_free_ char *err = NULL;
	size_t runs = 0;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1)
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			merge_usage(stdout);
			return KD_EXIT_OK;
		default:
			merge_usage(stderr);
			return KD_EXIT_USAGE;
		}
	if (!out || optind >= argc) {
		merge_usage(stderr);
		return KD_EXIT_USAGE;
	}
	r = mx_store_merge(out, argv + optind, &runs, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill merge: %s\n", err ? err : strerror(-r));
		return r == -ENOMEM || r == -EIO ? KD_EXIT_INFRA : KD_EXIT_USAGE;
	}
	printf("merged %zu runs from %d stores into %s\n", runs, argc - optind, out);
	return KD_EXIT_OK;
}
