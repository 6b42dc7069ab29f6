/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fix validation, the decision (pure: no I/O): does the AFTER kernel stop reproducing
 * what the BEFORE kernel reproduces?  Fed one run outcome at a time; says which kernel
 * to run next and, at the end, FIXED / NOT-FIXED / INCONCLUSIVE with the reason.
 *
 *  1. Calibrate on BEFORE until the signature matched K times (or the calibration
 *     budget is spent).  No match at all: INCONCLUSIVE, the reproducer does not reach
 *     the bug, so clean runs of AFTER prove nothing -- after a probe of K runs of AFTER:
 *     if AFTER reproduces, NOT-FIXED (the kernels are swapped, or the change brings
 *     the bug).
 *  2. Size AFTER from the lower one-sided confidence bound p_low of BEFORE's rate:
 *     n_after = ceil(ln(1-conf) / ln(1 - effect*p_low)), recomputed as BEFORE's runs
 *     accumulate.  effect = 1 sizes AFTER to see one match of a rate p_low; the default
 *     0.4 also catches a partial fix that only halves the rate (and makes FIXED of an
 *     unchanged kernel rare enough never to be seen in the simulation bench).
 *     After calibration the kernels alternate (AFTER, BEFORE, AFTER, ...), so a change
 *     of machine load hits both.  An INFRA run is retried on the same kernel.
 *  3. FIXED when AFTER has no match in >= n_after clean runs and the one-sided Fisher
 *     test of BEFORE > AFTER gives p < alpha (0.01); NOT-FIXED at AFTER's first match;
 *     INCONCLUSIVE when the budget ends first (with the runs still needed), or when
 *     INFRA dominates.
 * A run of AFTER that shows another kernel report (not the signature) is not a clean
 * run (it may have ended before the reproducer could reach the bug) and not a match:
 * it is counted apart and shown.  On BEFORE it counts as a run without a match (which
 * lowers the estimated rate: the conservative side).
 */
#ifndef KDRILL_VALIDATE_H
#define KDRILL_VALIDATE_H

#include <stdbool.h>

#include "repeat.h" /* enum repeat_outcome */

enum vd_side { VD_BEFORE, VD_AFTER };
enum vd_next { VD_RUN_BEFORE, VD_RUN_AFTER, VD_DONE };
enum vd_verdict { VD_FIXED, VD_NOT_FIXED, VD_INCONCLUSIVE };
enum vd_why {
	VD_WHY_NONE,	    /* not decided */
	VD_WHY_FIXED,	    /* 0 matches on AFTER in >= n_after runs, Fisher p < alpha */
	VD_WHY_REPRODUCED,  /* AFTER showed the signature */
	VD_WHY_NO_REPRO,    /* BEFORE never reproduced */
	VD_WHY_BUDGET,	    /* runs or time ran out before a decision */
	VD_WHY_INFRA,	    /* INFRA runs in a row over the retries, or dominating */
	VD_WHY_INTERRUPTED, /* the user stopped it */
};

struct vd_config {
	double confidence;	    /* 0.95: n_after and the intervals */
	double alpha;		    /* 0.01: Fisher threshold for FIXED */
	unsigned calibrate_matches; /* K, 3 */
	unsigned calibrate_max;	    /* BEFORE runs for calibration at most (0: 100, or
				     * max_runs/2 when that is smaller) */
	unsigned max_runs;	    /* every run of both kernels, INFRA included; 400 */
	unsigned infra_retries;	    /* INFRA runs in a row tolerated, 3 */
	double effect;		    /* 0.4: smallest rate reduction AFTER is sized to catch,
				     * as a fraction of BEFORE's rate (1: the plain rule) */
};
void vd_config_default(struct vd_config *c);

struct vd_count {
	unsigned runs; /* observations: pass + match + other */
	unsigned matches, others, passes, infra, infra_streak;
};

struct vd_state {
	struct vd_config cfg;
	struct vd_count side[2];
	unsigned total; /* all runs, INFRA included */
	bool calibrated, time_up, interrupted, done;
	bool last_infra;
	enum vd_side last;
	enum vd_verdict verdict;
	enum vd_why why;
	double p_low;			/* lower bound of BEFORE's rate (after calibration) */
	long n_after;			/* clean AFTER runs needed at the current p_low */
	double fisher;			/* one-sided p of BEFORE > AFTER (1 until AFTER ran) */
	long more;			/* INCONCLUSIVE budget: AFTER runs still needed, else 0 */
	unsigned est_matches, est_runs; /* BEFORE's counts p_low was computed from */
};

void vd_init(struct vd_state *s, const struct vd_config *cfg);
void vd_record(struct vd_state *s, enum vd_side side, enum repeat_outcome o);
/* The next kernel to run, or VD_DONE (then verdict/why/more are set).  Set s->time_up
 * or s->interrupted before calling when the time budget is over or the user stopped. */
enum vd_next vd_next(struct vd_state *s);
/* Process exit code: FIXED 0, NOT-FIXED 1, INCONCLUSIVE 125. */
int vd_exit_code(enum vd_verdict v);
const char *vd_verdict_name(enum vd_verdict v); /* FIXED NOT-FIXED INCONCLUSIVE */
/* One sentence saying why (malloc'd). */
char *vd_reason(const struct vd_state *s);

#endif
