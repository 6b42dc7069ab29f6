// SPDX-License-Identifier: GPL-2.0
/* Flaky bisection on simulated outcomes: the decision code of `kdrill bisect`
 * (harness/workflow/bisect.c) against syzkaller's rule and ktest's BISECT_TRIES,
 * implemented here, and the information bound log2(N)/C(p) of the Z-channel.
 *   wf-bisect-sim [TRIALS] [N,...] [p,...] [FINAL-CONFIDENCE] [K]
 * The culprit is uniform over 1..N-1 (kernel 0 good, N-1 bad); a run on a bad kernel
 * shows the bug with probability p, a good one never.  Prints a Markdown table; exits 1
 * when a target is missed (kdrill >= 95% correct for p >= 0.1; mean runs <= 60% of
 * syzkaller's at p = 0.3; among results reported at >= 0.95, >= 95% right). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"
#include "stats.h"

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static bool run_once(size_t i, size_t c, double p)
{
	return i >= c && uniform() < p;
}

struct outcome {
	bool found, right;
	double conf;
	unsigned runs;
};

static double final_conf; /* 0: the default */
static unsigned calib_k;

static struct outcome kdrill(size_t n, size_t c, double p, enum bs_select sel, unsigned rps)
{
	struct bs_config cfg;
	struct bs_state s;
	struct outcome o = {0};
	long i;

	bs_config_default(&cfg);
	if (final_conf > 0)
		cfg.final_confidence = final_conf;
	if (calib_k)
		cfg.calibrate_matches = calib_k;
	cfg.select = sel;
	cfg.runs_per_step = rps;
	cfg.max_runs = 5000;
	if (bs_init(&s, n, &cfg) < 0)
		abort();
	while ((i = bs_next(&s)) >= 0)
		bs_record(&s, (size_t)i, run_once((size_t)i, c, p) ? RO_MATCH : RO_PASS);
	o.found = s.result == BS_FOUND;
	o.right = o.found && s.best == c;
	o.conf = s.best_p;
	o.runs = s.total;
	bs_free(&s);
	return o;
}

/* syzkaller pkg/bisect: 20 runs on the first test (the bad end, which estimates the
 * rate) and from then on while flaky (rate estimate < 1/2, only ever lowered), else 10;
 * every run of a step is made (parallel VMs).  BAD >= max(2, runs/6) crashes, GOOD 0,
 * else SKIP (git bisect picks a neighbour). */
static struct outcome syzkaller(size_t n, size_t c, double p)
{
	struct outcome o = {0};
	unsigned k = 0;
	double est;
	size_t lo = 0, hi = n - 1;
	bool *skip = calloc(n, 1);

	for (int r = 0; r < 20; r++)
		k += run_once(n - 1, c, p);
	o.runs = 20;
	if (k == 0)
		goto out; /* "no crash on HEAD": no bisection */
	est = k / 20.0;
	{ /* the good end (release) */
		unsigned runs = est < 0.5 ? 20 : 10, x = 0;
		for (unsigned r = 0; r < runs; r++)
			x += run_once(0, c, p);
		o.runs += runs;
		if (x)
			goto out;
	}
	while (hi > lo + 1) {
		size_t mid = lo + (hi - lo) / 2, m = mid;
		unsigned runs = est < 0.5 ? 20 : 10, x = 0, need = runs / 6 < 2 ? 2 : runs / 6;
		/* nearest non-skipped commit to the middle */
		for (size_t d = 0; d < hi - lo; d++) {
			if (mid + d < hi && !skip[mid + d]) {
				m = mid + d;
				break;
			}
			if (mid >= d && mid - d > lo && !skip[mid - d]) {
				m = mid - d;
				break;
			}
			m = (size_t)-1;
		}
		if (m == (size_t)-1 || skip[m])
			break; /* only skipped commits left: "first bad is one of ..." */
		for (unsigned r = 0; r < runs; r++)
			x += run_once(m, c, p);
		o.runs += runs;
		if (x >= need) {
			hi = m;
			if ((double)x / runs < est)
				est = (double)x / runs;
		} else if (x == 0)
			lo = m;
		else
			skip[m] = true;
	}
	o.found = true;
	o.right = hi == c;
out:
	free(skip);
	return o;
}

/* ktest.pl BISECT_TRIES=T: up to T runs, the first failure makes it bad, good only when
 * all pass; the ends are trusted. */
static struct outcome ktest(size_t n, size_t c, double p, unsigned tries)
{
	struct outcome o = {.found = true};
	size_t lo = 0, hi = n - 1;

	while (hi > lo + 1) {
		size_t mid = lo + (hi - lo) / 2;
		bool bad = false;
		for (unsigned r = 0; r < tries && !bad; r++) {
			bad = run_once(mid, c, p);
			o.runs++;
		}
		if (bad)
			hi = mid;
		else
			lo = mid;
	}
	o.right = hi == c;
	return o;
}

int main(int argc, char **argv)
{
	unsigned trials = argc > 1 ? (unsigned)atoi(argv[1]) : 1000;
	size_t ns[8] = {10, 100, 1000};
	double ps[8] = {0.9, 0.5, 0.3, 0.1};
	size_t nn = 3, np = 4;
	int missed = 0;

	if (argc > 2) {
		char *s = argv[2], *e;
		for (nn = 0; nn < 8 && *s; s = *e ? e + 1 : e)
			ns[nn++] = strtoul(s, &e, 10);
	}
	if (argc > 3) {
		char *s = argv[3], *e;
		for (np = 0; np < 8 && *s; s = *e ? e + 1 : e)
			ps[np++] = strtod(s, &e);
	}
	if (argc > 4)
		final_conf = atof(argv[4]);
	if (argc > 5)
		calib_k = (unsigned)atoi(argv[5]);
	printf("| N | p | bound log2(N)/C(p) | method | correct | mean runs | runs vs syzkaller | "
	       "reported >= 0.95: right |\n|---|---|---|---|---|---|---|---|\n");
	for (size_t a = 0; a < nn; a++)
		for (size_t b = 0; b < np; b++) {
			size_t n = ns[a];
			double p = ps[b], bound = log2((double)n) / stats_z_capacity(p);
			static const char *const names[] = {
			    "kdrill (entropy)", "kdrill (median)", "syzkaller 10/20 runs",
			    "ktest BISECT_TRIES=1", "ktest BISECT_TRIES=10"};
			double right[5] = {0}, runs[5] = {0}, hi_n[5] = {0}, hi_r[5] = {0};
			for (unsigned t = 0; t < trials; t++) {
				size_t c = 1 + (size_t)(uniform() * (double)(n - 1));
				struct outcome o[5] = {kdrill(n, c, p, BS_SELECT_ENTROPY, 0),
						       kdrill(n, c, p, BS_SELECT_MEDIAN, 0),
						       syzkaller(n, c, p), ktest(n, c, p, 1),
						       ktest(n, c, p, 10)};
				for (int m = 0; m < 5; m++) {
					right[m] += o[m].right;
					runs[m] += o[m].runs;
					if (m < 2 && o[m].found && o[m].conf >= 0.95) {
						hi_n[m]++;
						hi_r[m] += o[m].right;
					}
				}
			}
			for (int m = 0; m < 5; m++) {
				char cal[32] = "—";
				if (m < 2 && hi_n[m])
					snprintf(cal, sizeof(cal), "%.1f%% of %.0f",
						 100 * hi_r[m] / hi_n[m], hi_n[m]);
				printf("| %zu | %.1f | %.1f | %s | %.1f%% | %.1f | %.0f%% | %s |\n",
				       n, p, bound, names[m], 100 * right[m] / trials,
				       runs[m] / trials, 100 * runs[m] / runs[2], cal);
			}
			if (p >= 0.1 - 1e-9 && right[0] / trials < 0.95)
				missed++;
			if (fabs(p - 0.3) < 1e-9 && runs[0] > 0.6 * runs[2])
				missed++;
			if (hi_n[0] && hi_r[0] / hi_n[0] < 0.95)
				missed++;
		}
	{
		struct bs_config d;
		bs_config_default(&d);
		printf("\ntrials per cell: %u; kdrill: confidence %.2f (re-test to %.3f), "
		       "calibration K = %u matches on the bad end\n",
		       trials, d.confidence,
		       final_conf > 0 ? final_conf : 1 - (1 - d.confidence) / 5,
		       calib_k ? calib_k : d.calibrate_matches);
	}
	if (missed)
		printf("targets missed: %d\n", missed);
	return missed ? 1 : 0;
}
