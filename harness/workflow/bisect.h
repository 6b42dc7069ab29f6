/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flaky-aware bisection, the decision (pure: no I/O).  Kernels 0..n-1 in order, 0 the
 * good end, n-1 the bad end.  The unknown is c, the first bad kernel; c = 0 stands for
 * "the good end is bad too" (so the good end gets checked like any other position).
 *
 * Noise model (one-sided, a Z-channel): a run on a bad kernel shows the matching report
 * with an unknown probability p, a run on a good kernel never does.  A match at kernel i
 * proves c <= i; a pass at i only makes c <= i less likely by a factor (1-p).  p has a
 * Beta(1,1) prior and is integrated out: with F matches in all and S_c passes on the
 * kernels >= c, the likelihood of c is B(1+F, 1+S_c) / B(1,1) (0 if a match lies below
 * c).  So p is estimated from every run on a kernel that c makes bad: the calibration on
 * the bad end first, then every later step -- nothing is fixed up front.
 *
 * Steps: calibrate on the bad end until K matches (none within the calibration budget:
 * nothing to bisect); then repeatedly pick a kernel from the posterior -- the one whose
 * expected posterior entropy after one run is lowest (BBChop), or the posterior median
 * (classic probabilistic bisection) -- run it once, update; stop when one position holds
 * >= the confidence, or the budget ends (then the most likely range and its mass).
 * Finally, the culprit and its predecessor are re-tested until the culprit holds the
 * final confidence (a stricter one: by default the error divided by 5, 0.99 for 0.95;
 * the simulation bench shows the posterior slightly overconfident when p is low, and this
 * keeps the results reported at >= 0.95 right >= 95% of the time).
 * With runs_per_step > 0 it is a classic bisection instead (each step runs the kernel up
 * to that many times, bad at the first match), with the same posterior reported.
 */
#ifndef KDRILL_BISECT_H
#define KDRILL_BISECT_H

#include <stdbool.h>
#include <stddef.h>

#include "repeat.h" /* enum repeat_outcome */

enum bs_select { BS_SELECT_ENTROPY, BS_SELECT_MEDIAN };

struct bs_config {
	double confidence;	    /* 0.95 */
	double final_confidence;    /* re-test target, 0: 1 - (1-confidence)/5 */
	unsigned calibrate_matches; /* K, 3 */
	unsigned calibrate_max;	    /* bad-end runs at most for calibration (60); none of
				     * them matching: nothing to bisect */
	unsigned max_runs;	    /* all runs, INFRA included; 0: none */
	unsigned infra_retries;	    /* INFRA in a row on one kernel before skipping it, 3 */
	unsigned runs_per_step;	    /* > 0: classic bisection with this many runs per step */
	enum bs_select select;
};
void bs_config_default(struct bs_config *c);

enum bs_result {
	BS_NONE,
	BS_FOUND,	/* culprit at >= confidence */
	BS_NO_REPRO,	/* the bad end never reproduced: nothing to bisect */
	BS_GOOD_IS_BAD, /* the good end reproduces (c = 0 at >= confidence) */
	BS_BUDGET,	/* budget ended: most likely range */
	BS_INFRA,	/* INFRA dominates */
	BS_AMBIGUOUS,	/* only skipped (INFRA) kernels could decide: the range */
	BS_INTERRUPTED,
};

struct bs_kernel {
	unsigned runs, matches, passes, others, infra, infra_streak;
	bool skipped; /* too many INFRA in a row: never picked again */
};

struct bs_state {
	struct bs_config cfg;
	size_t n;
	struct bs_kernel *k;
	double *post; /* posterior over c, n entries */
	unsigned total, observations, matches;
	bool calibrated, confirming, time_up, interrupted, done;
	enum bs_result result;
	size_t best;   /* MAP position */
	double best_p; /* its posterior */
	size_t lo, hi; /* most likely range [lo, hi] (budget) */
	double range_p;
	double p_hat; /* posterior mean of the reproduction rate */
	size_t cur;   /* classic mode: kernel under test; its runs in this step */
	unsigned cur_runs;
	size_t cl_lo, cl_hi; /* classic mode: known good / known bad */
};

int bs_init(struct bs_state *s, size_t n, const struct bs_config *cfg);
void bs_free(struct bs_state *s);
void bs_record(struct bs_state *s, size_t kernel, enum repeat_outcome o);
/* The kernel cannot be tested at all (it does not build): never picked again, like
 * `git bisect skip`; it is neither good nor bad. */
void bs_skip(struct bs_state *s, size_t kernel);
/* Next kernel to run (>= 0), or -1 when done (result and the figures are set).  Set
 * time_up / interrupted first when the time budget is over or the user stopped. */
long bs_next(struct bs_state *s);
/* Recompute post[], best, best_p, p_hat (bs_next does it; for progress lines). */
void bs_posterior(struct bs_state *s);
const char *bs_result_name(enum bs_result r);
int bs_exit_code(enum bs_result r); /* FOUND 0, else 125 */

#endif
