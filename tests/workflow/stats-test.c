// SPDX-License-Identifier: GPL-2.0
/* Unit test of harness/workflow/stats.c: published values and brute-force enumeration. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "stats.h"

static int failures;

#define CHECK_NEAR(what, got, want, tol)                                                           \
	do {                                                                                       \
		double g_ = (got), w_ = (want);                                                    \
		if (!(fabs(g_ - w_) <= (tol))) {                                                   \
			printf("FAIL %s: got %.6g, want %.6g (tol %g)\n", what, g_, w_,            \
			       (double)(tol));                                                     \
			failures++;                                                                \
		} else                                                                             \
			printf("ok   %s = %.6g\n", what, g_);                                      \
	} while (0)
#define CHECK(what, cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s\n", what);                                                 \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* P[X <= k] by enumerating all 2^n outcome sequences */
static double brute_binom_cdf(int k, int n, double p)
{
	double s = 0;
	for (unsigned m = 0; m < (1u << n); m++) {
		int ones = __builtin_popcount(m);
		if (ones <= k)
			s += pow(p, ones) * pow(1 - p, n - ones);
	}
	return s;
}

static double choose_exact(int n, int k)
{
	double c = 1;
	if (k < 0 || k > n)
		return 0;
	for (int i = 1; i <= k; i++)
		c = c * (n - k + i) / i;
	return c;
}

/* one-sided Fisher by listing every table with the same margins */
static double brute_fisher(int k1, int n1, int k2, int n2)
{
	int m = k1 + k2;
	double total = 0, tail = 0;
	for (int x = 0; x <= m; x++) {
		double w = choose_exact(n1, x) * choose_exact(n2, m - x);
		total += w;
		if (x >= k1)
			tail += w;
	}
	return tail / total;
}

int main(void)
{
	char what[128];

	/* published / hand-computed values */
	CHECK_NEAR("fisher 6/10 > 0/10", stats_fisher_greater(6, 10, 0, 10), 0.0054, 0.00005);
	CHECK_NEAR("fisher 3/10 > 0/10", stats_fisher_greater(3, 10, 0, 10), 0.105, 0.0005);
	CHECK_NEAR("fisher 0/10 > 0/10", stats_fisher_greater(0, 10, 0, 10), 1, 1e-12);
	CHECK_NEAR("cp upper 0/20 two-sided 95%", stats_cp_upper(0, 20, 0.975), 0.168, 0.0005);
	{
		double lo, hi;
		stats_cp_interval(0, 20, 0.95, &lo, &hi);
		CHECK_NEAR("cp interval 0/20 hi", hi, 0.1684, 0.0001);
		CHECK_NEAR("cp interval 0/20 lo", lo, 0, 0);
		stats_cp_interval(3, 10, 0.95, &lo, &hi); /* R binom.test(3,10): 0.0667 0.6525 */
		CHECK_NEAR("cp interval 3/10 lo", lo, 0.06674, 0.00005);
		CHECK_NEAR("cp interval 3/10 hi", hi, 0.65245, 0.00005);
	}
	CHECK_NEAR("cp upper 0/20 one-sided 95%", stats_cp_upper(0, 20, 0.95), 0.139, 0.0005);
	CHECK_NEAR("cp upper 0/60 one-sided 95%", stats_cp_upper(0, 60, 0.95), 0.049, 0.0005);
	CHECK_NEAR("cp lower 3/3 one-sided 95%", stats_cp_lower(3, 3, 0.95), pow(0.05, 1.0 / 3),
		   1e-9);
	CHECK("runs_for_zero(0.5)=5", stats_runs_for_zero(0.5, 0.95) == 5);
	CHECK("runs_for_zero(0.3)=9", stats_runs_for_zero(0.3, 0.95) == 9);
	CHECK("runs_for_zero(0.2)=14", stats_runs_for_zero(0.2, 0.95) == 14);
	CHECK("runs_for_zero(0.1)=29", stats_runs_for_zero(0.1, 0.95) == 29);
	CHECK("runs_for_zero(0.05)=59", stats_runs_for_zero(0.05, 0.95) == 59);
	CHECK("runs_for_zero(0)=inf", stats_runs_for_zero(0, 0.95) == LONG_MAX);
	CHECK_NEAR("z capacity 0.3", stats_z_capacity(0.3), 0.177, 0.0005);
	CHECK_NEAR("z capacity 0.1", stats_z_capacity(0.1), 0.055, 0.0005);
	CHECK_NEAR("z capacity 1", stats_z_capacity(1), 1, 0);
	CHECK_NEAR("log2(1000)/C(0.3)", log2(1000) / stats_z_capacity(0.3), 56, 0.5);
	CHECK_NEAR("log2(1000)/C(0.1)", log2(1000) / stats_z_capacity(0.1), 182, 1);

	/* brute force: binomial cdf, Fisher, CP defining equations, for small n */
	int bad = 0;
	double worst = 0;
	for (int n = 1; n <= 12; n++)
		for (int k = 0; k <= n; k++) {
			for (double p = 0.05; p < 1; p += 0.15) {
				double d =
				    fabs(stats_binom_cdf(k, n, p) - brute_binom_cdf(k, n, p));
				if (d > worst)
					worst = d;
				bad += d > 1e-12;
			}
			double up = stats_cp_upper(k, n, 0.95), lo = stats_cp_lower(k, n, 0.95);
			if (k < n && fabs(brute_binom_cdf(k, n, up) - 0.05) > 1e-9)
				bad++;
			if (k > 0 && fabs(1 - brute_binom_cdf(k - 1, n, lo) - 0.05) > 1e-9)
				bad++;
			if (lo > (double)k / n + 1e-12 || up < (double)k / n - 1e-12)
				bad++;
		}
	snprintf(what, sizeof(what), "binomial cdf + CP vs 2^n enumeration, n<=12 (max diff %.2g)",
		 worst);
	CHECK(what, bad == 0);
	if (!bad)
		printf("ok   %s\n", what);
	bad = 0;
	for (int n1 = 1; n1 <= 9; n1++)
		for (int n2 = 1; n2 <= 9; n2++)
			for (int k1 = 0; k1 <= n1; k1++)
				for (int k2 = 0; k2 <= n2; k2++)
					bad += fabs(stats_fisher_greater(k1, n1, k2, n2) -
						    brute_fisher(k1, n1, k2, n2)) > 1e-10;
	CHECK("fisher vs every table with the same margins, n<=9", bad == 0);
	if (!bad)
		printf("ok   fisher vs table enumeration, n1,n2 <= 9\n");
	CHECK_NEAR("binom cdf large n", stats_binom_cdf(30, 1000, 0.05), 0.0012771, 0.000001);

	/* Kaplan-Meier */
	{
		struct stats_time a[] = {{5, 1}, {1, 1}, {3, 1}, {2, 1}, {4, 1}};
		double m = -1;
		CHECK("km median uncensored", stats_km_quantile(a, 5, 0.5, &m) == 0 && m == 3);
		printf("ok   km median of 1..5 = %g\n", m);
	}
	{
		/* events at 1, 2; censored at 3, 3; event at 4, censored at 5: survival 5/6
		 * (t=1), 4/6 (t=2), then 2 at risk at t=4: 4/6 * 1/2 = 1/3 -> median = 4
		 * (dropping the censored runs would say 2); 90% is never reached */
		struct stats_time a[] = {{1, 1}, {2, 1}, {3, 0}, {5, 0}, {3, 0}, {4, 1}};
		double m = -1, p90 = -1;
		CHECK("km median censored = 4", stats_km_quantile(a, 6, 0.5, &m) == 0 && m == 4);
		printf("ok   km median with censoring = %g\n", m);
		CHECK("km p90 beyond data", stats_km_quantile(a, 6, 0.9, &p90) == -ENODATA);
	}
	{
		struct stats_time a[] = {{60, 0}, {60, 0}};
		double m;
		CHECK("km no events", stats_km_quantile(a, 2, 0.5, &m) == -ENODATA);
	}
	printf("%s\n", failures ? "FAILED" : "all ok");
	return failures ? 1 : 0;
}
