// SPDX-License-Identifier: GPL-2.0
/* Exact small-sample statistics (stats.h). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "stats.h"

double stats_lchoose(long n, long k)
{
	if (k < 0 || k > n || n < 0)
		return -INFINITY;
	return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1);
}

double stats_binom_pmf(long k, long n, double p)
{
	if (k < 0 || k > n)
		return 0;
	if (p <= 0)
		return k == 0 ? 1 : 0;
	if (p >= 1)
		return k == n ? 1 : 0;
	return exp(stats_lchoose(n, k) + (double)k * log(p) + (double)(n - k) * log1p(-p));
}

double stats_binom_cdf(long k, long n, double p)
{
	double s = 0;

	if (k < 0)
		return 0;
	if (k >= n)
		return 1;
	/* sum the shorter tail */
	if (k < n / 2) {
		for (long i = 0; i <= k; i++)
			s += stats_binom_pmf(i, n, p);
		return s > 1 ? 1 : s;
	}
	for (long i = k + 1; i <= n; i++)
		s += stats_binom_pmf(i, n, p);
	return s > 1 ? 0 : 1 - s;
}

double stats_fisher_greater(long k1, long n1, long k2, long n2)
{
	long m = k1 + k2, N = n1 + n2, hi = m < n1 ? m : n1;
	double lden = stats_lchoose(N, n1), s = 0;

	if (k1 < 0 || k2 < 0 || k1 > n1 || k2 > n2)
		return NAN;
	for (long x = k1; x <= hi; x++)
		s += exp(stats_lchoose(m, x) + stats_lchoose(N - m, n1 - x) - lden);
	return s > 1 ? 1 : s;
}

/* P[X >= k | p], increasing in p */
static double upper_tail(long k, long n, double p)
{
	return 1 - stats_binom_cdf(k - 1, n, p);
}

double stats_cp_lower(long k, long n, double conf)
{
	double lo = 0, hi = 1, alpha = 1 - conf;

	if (n <= 0 || k <= 0)
		return 0;
	if (k > n)
		k = n;
	for (int i = 0; i < 64; i++) {
		double mid = (lo + hi) / 2;
		if (upper_tail(k, n, mid) < alpha)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

double stats_cp_upper(long k, long n, double conf)
{
	double lo = 0, hi = 1, alpha = 1 - conf;

	if (n <= 0 || k >= n)
		return 1;
	if (k < 0)
		k = 0;
	for (int i = 0; i < 64; i++) {
		double mid = (lo + hi) / 2;
		if (stats_binom_cdf(k, n, mid) > alpha)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

void stats_cp_interval(long k, long n, double conf, double *lo, double *hi)
{
	double one = 1 - (1 - conf) / 2;

	*lo = stats_cp_lower(k, n, one);
	*hi = stats_cp_upper(k, n, one);
}

long stats_runs_for_zero(double p, double conf)
{
	double n;

	if (p <= 0 || conf <= 0)
		return LONG_MAX;
	if (p >= 1)
		return 1;
	n = ceil(log(1 - conf) / log1p(-p) - 1e-9);
	if (n > (double)(LONG_MAX / 2))
		return LONG_MAX;
	return n < 1 ? 1 : (long)n;
}

static int cmp_time(const void *a, const void *b)
{
	const struct stats_time *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	/* at a tie, events first: a run censored at t was still at risk at t */
	return (int)y->event - (int)x->event;
}

int stats_km_quantile(struct stats_time *t, size_t n, double q, double *ret)
{
	double s = 1;
	size_t i = 0;

	if (!n || q <= 0 || q >= 1)
		return -ENODATA;
	qsort(t, n, sizeof(*t), cmp_time);
	while (i < n) {
		size_t at_risk = n - i, d = 0, j = i;
		for (; j < n && t[j].t == t[i].t; j++)
			d += t[j].event;
		if (d) {
			s *= 1 - (double)d / (double)at_risk;
			if (s <= 1 - q + 1e-12) {
				*ret = t[i].t;
				return 0;
			}
		}
		i = j;
	}
	return -ENODATA;
}

double stats_z_capacity(double p)
{
	if (p <= 0)
		return 0;
	if (p >= 1)
		return 1;
	return log2(1 + p * pow(1 - p, (1 - p) / p));
}
