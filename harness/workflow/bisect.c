// SPDX-License-Identifier: GPL-2.0
/* Flaky-aware bisection decisions (bisect.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"

void bs_config_default(struct bs_config *c)
{
	*c = (struct bs_config){.confidence = 0.95,
				.final_confidence = 0,
				.calibrate_matches = 3,
				.calibrate_max = 60,
				.max_runs = 0,
				.infra_retries = 3,
				.runs_per_step = 0,
				.select = BS_SELECT_ENTROPY};
}

int bs_init(struct bs_state *s, size_t n, const struct bs_config *cfg)
{
	memset(s, 0, sizeof(*s));
	if (n < 2)
		return -EINVAL;
	s->cfg = *cfg;
	if (s->cfg.final_confidence <= 0)
		s->cfg.final_confidence = 1 - (1 - s->cfg.confidence) / 5;
	if (s->cfg.final_confidence < s->cfg.confidence)
		s->cfg.final_confidence = s->cfg.confidence;
	if (!s->cfg.calibrate_matches)
		s->cfg.calibrate_matches = 1;
	if (!s->cfg.calibrate_max)
		s->cfg.calibrate_max = 60;
	s->n = n;
	s->k = calloc(n, sizeof(*s->k));
	s->post = calloc(n, sizeof(*s->post));
	if (!s->k || !s->post) {
		bs_free(s);
		return -ENOMEM;
	}
	s->cur = (size_t)-1;
	s->cl_lo = 0;
	s->cl_hi = n - 1;
	return 0;
}

void bs_free(struct bs_state *s)
{
	free(s->k);
	free(s->post);
	s->k = NULL;
	s->post = NULL;
}

const char *bs_result_name(enum bs_result r)
{
	static const char *const n[] = {"NONE",	  "FOUND", "NO-REPRO",	"GOOD-IS-BAD",
					"BUDGET", "INFRA", "AMBIGUOUS", "INTERRUPTED"};
	return (unsigned)r < sizeof(n) / sizeof(n[0]) ? n[r] : "?";
}

int bs_exit_code(enum bs_result r)
{
	return r == BS_FOUND ? 0 : 125;
}

void bs_record(struct bs_state *s, size_t i, enum repeat_outcome o)
{
	struct bs_kernel *k = &s->k[i];

	s->total++;
	if (o == RO_INFRA) {
		k->infra++;
		if (++k->infra_streak > s->cfg.infra_retries)
			k->skipped = true;
		return;
	}
	k->infra_streak = 0;
	if (o == RO_OTHER) { /* another kernel report: neither good nor bad for this bug */
		k->others++;
		return;
	}
	k->runs++;
	s->observations++;
	if (o == RO_MATCH) {
		k->matches++;
		s->matches++;
	} else
		k->passes++;
	if (s->cur == i)
		s->cur_runs++;
}

void bs_skip(struct bs_state *s, size_t i)
{
	s->k[i].skipped = true;
}

/* ln B(x, y) */
static double lbeta(double x, double y)
{
	return lgamma(x) + lgamma(y) - lgamma(x + y);
}

void bs_posterior(struct bs_state *s)
{
	size_t n = s->n, first_match = n - 1;
	double F = s->matches, S = 0, mx = -INFINITY, z = 0, ph = 0, ll = 0;
	bool fm = false;

	for (size_t i = 0; i < n; i++)
		if (s->k[i].matches) {
			first_match = i;
			fm = true;
			break;
		}
	if (!fm)
		first_match = n - 1; /* the bad end is bad by assumption until calibrated */
	/* log-likelihood by c, from the top: S = passes on kernels >= c; it changes only
	 * at the kernels with passes, so lgamma runs a few times, not n times */
	for (size_t c = n; c-- > 0;) {
		bool changed = s->k[c].passes != 0 || c == n - 1;
		S += s->k[c].passes;
		if (c > first_match) {
			s->post[c] = -INFINITY;
			continue;
		}
		if (changed || c == first_match)
			ll = lbeta(1 + F, 1 + S);
		s->post[c] = ll;
		if (ll > mx)
			mx = ll;
	}
	for (size_t c = 0; c < n; c++) {
		s->post[c] = isfinite(s->post[c]) ? exp(s->post[c] - mx) : 0;
		z += s->post[c];
	}
	s->best = 0;
	s->best_p = 0;
	S = 0;
	for (size_t c = n; c-- > 0;) {
		S += s->k[c].passes;
		s->post[c] /= z;
		if (s->post[c] > s->best_p) {
			s->best_p = s->post[c];
			s->best = c;
		}
		/* E[p | c] = (1+F) / (2+F+S_c) */
		ph += s->post[c] * (1 + F) / (2 + F + S);
	}
	s->p_hat = ph;
}

/* smallest range around the MAP holding >= mass, grown toward the heavier side */
static void best_range(struct bs_state *s, double mass)
{
	size_t lo = s->best, hi = s->best;
	double m = s->post[s->best];

	while (m < mass && (lo > 0 || hi + 1 < s->n)) {
		double l = lo > 0 ? s->post[lo - 1] : -1, r = hi + 1 < s->n ? s->post[hi + 1] : -1;
		if (l >= r)
			m += s->post[--lo];
		else
			m += s->post[++hi];
	}
	s->lo = lo;
	s->hi = hi;
	s->range_p = m;
}

static long finish(struct bs_state *s, enum bs_result r)
{
	s->done = true;
	s->result = r;
	if (s->calibrated || r == BS_BUDGET)
		best_range(s, s->cfg.confidence);
	return -1;
}

/* The kernel to test: lowest expected entropy after one run (p = p_hat), or the
 * posterior median; the bad end is never picked (it is known bad), skipped ones never. */
static long pick(struct bs_state *s, double *ret_gain)
{
	size_t n = s->n;
	double p = s->p_hat, P = 0, Q = 0, H = 0, best_h = INFINITY, bd = INFINITY, med_h = 0;
	long best = -1, med = -1;

	for (size_t c = 0; c < n; c++)
		if (s->post[c] > 0)
			H += s->post[c] * log(s->post[c]);
	/* testing i: match (prob p P) -> post restricted to c <= i; pass -> c <= i scaled
	 * by (1-p).  P = mass of c <= i, Q = sum of post log post over c <= i. */
	for (size_t i = 0; i + 1 < n; i++) {
		double pm, hm, hp, zp, sum_wlogw, e;
		if (s->post[i] > 0) {
			P += s->post[i];
			Q += s->post[i] * log(s->post[i]);
		}
		if (s->k[i].skipped || P <= 0)
			continue;
		pm = p * P;
		hm = P > 0 ? -(Q / P) + log(P) : 0;
		zp = 1 - pm;
		sum_wlogw = (1 - p) * (Q + log(1 - p) * P) + (H - Q);
		hp = zp > 0 ? -(sum_wlogw / zp) + log(zp) : 0;
		e = pm * hm + zp * hp;
		if (e < best_h - 1e-12) {
			best_h = e;
			best = (long)i;
		}
		if (fabs(P - 0.5) < bd) { /* the posterior median */
			bd = fabs(P - 0.5);
			med = (long)i;
			med_h = e;
		}
	}
	if (s->cfg.select == BS_SELECT_MEDIAN && med >= 0) {
		best = med;
		best_h = med_h;
	}
	*ret_gain = best >= 0 ? -H - best_h : 0; /* expected entropy decrease, nats */
	return best;
}

long bs_next(struct bs_state *s)
{
	struct bs_kernel *bad = &s->k[s->n - 1];
	unsigned infra = 0;

	if (s->done)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		infra += s->k[i].infra;
	if (s->interrupted)
		return bs_posterior(s), finish(s, BS_INTERRUPTED);
	if (infra >= 5 && infra > s->observations)
		return bs_posterior(s), finish(s, BS_INFRA);
	if (!s->calibrated) {
		if (bad->skipped)
			return finish(s, BS_INFRA);
		if (bad->matches >= s->cfg.calibrate_matches)
			s->calibrated = true;
		else if (bad->runs >= s->cfg.calibrate_max ||
			 (s->cfg.max_runs && s->total >= s->cfg.max_runs) || s->time_up) {
			if (!bad->matches)
				return finish(s, BS_NO_REPRO);
			s->calibrated = true;
		} else
			return (long)(s->n - 1);
	}
	bs_posterior(s);
	if (s->k[0].matches) { /* the good end reproduces: certain */
		s->best = 0;
		s->best_p = 1;
		return finish(s, BS_GOOD_IS_BAD);
	}
	if (s->cfg.runs_per_step) { /* classic bisection: known good cl_lo, known bad cl_hi */
		if (s->cur != (size_t)-1) {
			struct bs_kernel *k = &s->k[s->cur];
			if (k->matches) {
				s->cl_hi = s->cur;
				s->cur = (size_t)-1;
			} else if (s->cur_runs >= s->cfg.runs_per_step || k->skipped) {
				if (!k->skipped)
					s->cl_lo = s->cur;
				s->cur = (size_t)-1;
			}
		}
		if (s->cur == (size_t)-1 && s->cl_hi > s->cl_lo + 1) {
			size_t mid = s->cl_lo + (s->cl_hi - s->cl_lo) / 2;
			while (mid < s->cl_hi && s->k[mid].skipped)
				mid++;
			if (mid < s->cl_hi) {
				s->cur = mid;
				s->cur_runs = 0;
			}
		}
		if (s->cur == (size_t)-1) { /* done: the culprit is cl_hi */
			s->best = s->cl_hi;
			s->best_p = s->post[s->cl_hi];
			return finish(s, BS_FOUND);
		}
		if ((s->cfg.max_runs && s->total >= s->cfg.max_runs) || s->time_up)
			return finish(s, BS_BUDGET);
		return (long)s->cur;
	}
	if (s->best_p >= s->cfg.final_confidence)
		return finish(s, s->best == 0 ? BS_GOOD_IS_BAD : BS_FOUND);
	if ((s->cfg.max_runs && s->total >= s->cfg.max_runs) || s->time_up)
		return finish(s, BS_BUDGET);
	if (s->best_p >= s->cfg.confidence || s->confirming) {
		/* re-test: the culprit's predecessor (a pass there is what separates the
		 * two), or the culprit itself while it has no match */
		s->confirming = true;
		if (s->best > 0 && !s->k[s->best].matches && !s->k[s->best].skipped)
			return (long)s->best;
		if (s->best > 0 && !s->k[s->best - 1].skipped)
			return (long)(s->best - 1);
	}
	{
		double gain;
		long i = pick(s, &gain);
		/* nothing left to learn: the kernels that would decide are skipped */
		if (i < 0 || gain < 1e-7)
			return finish(s, BS_AMBIGUOUS);
		return i;
	}
}
