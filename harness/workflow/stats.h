/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small exact statistics for the workflows (validate, bisect, matrix): binomial
 * probabilities, a one-sided Fisher exact test, Clopper-Pearson intervals, Kaplan-Meier
 * quantiles of censored times, and the Z-channel capacity that bounds flaky bisection.
 * Pure: no I/O, no allocation except km (caller's array is sorted in place).
 */
#ifndef KDRILL_STATS_H
#define KDRILL_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* ln C(n, k); -INFINITY when k < 0 or k > n. */
double stats_lchoose(long n, long k);
/* P[X = k] and P[X <= k] for X ~ Binomial(n, p). */
double stats_binom_pmf(long k, long n, double p);
double stats_binom_cdf(long k, long n, double p);

/* One-sided Fisher exact test of "rate 1 > rate 2" for k1/n1 against k2/n2: the
 * probability, with the margins fixed, of k1 or more of the k1+k2 successes falling in
 * the first group (hypergeometric upper tail). */
double stats_fisher_greater(long k1, long n1, long k2, long n2);

/* Clopper-Pearson (exact) bounds for a rate seen k times in n trials.
 * one-sided at level conf: lower = the p with P[X >= k | p] = 1-conf (0 when k = 0),
 * upper = the p with P[X <= k | p] = 1-conf (1 when k = n).
 * stats_cp_interval: two-sided at conf (each side at (1-conf)/2). */
double stats_cp_lower(long k, long n, double conf);
double stats_cp_upper(long k, long n, double conf);
void stats_cp_interval(long k, long n, double conf, double *lo, double *hi);

/* Runs of a kernel that fails with probability p (per run) needed so that seeing none
 * of them fail has probability <= 1-conf: ceil(ln(1-conf) / ln(1-p)).  p <= 0: LONG_MAX. */
long stats_runs_for_zero(double p, double conf);

/* Kaplan-Meier estimate of the q-quantile (0 < q < 1) of a time-to-event with right
 * censoring (event=false: the run ended at t without the event).  Sorts `t` in place.
 * Returns 0 and *ret, or -ENODATA when the estimated survival never falls to 1-q (too
 * few events: the quantile is beyond the longest observation). */
struct stats_time {
	double t;
	bool event;
};
int stats_km_quantile(struct stats_time *t, size_t n, double q, double *ret);

/* Capacity in bits of the Z-channel where a 1 (bad kernel) shows as 1 with probability
 * p and a 0 (good kernel) always shows as 0: log2(1 + p (1-p)^((1-p)/p)). */
double stats_z_capacity(double p);

#endif
