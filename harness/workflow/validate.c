// SPDX-License-Identifier: GPL-2.0
/* Fix validation decisions (validate.h). */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "stats.h"
#include "util.h"
#include "validate.h"

void vd_config_default(struct vd_config *c)
{
	*c = (struct vd_config){.confidence = 0.95,
				.alpha = 0.01,
				.calibrate_matches = 3,
				.calibrate_max = 0,
				.max_runs = 500,
				.infra_retries = 3,
				.effect = 0.35};
}

void vd_init(struct vd_state *s, const struct vd_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	if (!s->cfg.calibrate_max)
		s->cfg.calibrate_max =
		    s->cfg.max_runs && s->cfg.max_runs < 200 ? (s->cfg.max_runs + 1) / 2 : 100;
	if (s->cfg.effect <= 0 || s->cfg.effect > 1)
		s->cfg.effect = 1;
	if (!s->cfg.calibrate_matches)
		s->cfg.calibrate_matches = 1;
	s->fisher = 1;
	s->n_after = LONG_MAX;
}

void vd_record(struct vd_state *s, enum vd_side side, enum repeat_outcome o)
{
	struct vd_count *c = &s->side[side];

	s->total++;
	s->last = side;
	s->last_infra = o == RO_INFRA;
	if (o == RO_INFRA) {
		c->infra++;
		c->infra_streak++;
		return;
	}
	c->infra_streak = 0;
	c->runs++;
	switch (o) {
	case RO_MATCH:
		c->matches++;
		break;
	case RO_OTHER:
		c->others++;
		break;
	default:
		c->passes++;
		break;
	}
}

static enum vd_next finish(struct vd_state *s, enum vd_verdict v, enum vd_why why)
{
	s->done = true;
	s->verdict = v;
	s->why = why;
	return VD_DONE;
}

/* Smallest number m of clean AFTER runs with Fisher(BEFORE > 0/m) < alpha (capped). */
static long runs_for_fisher(const struct vd_count *b, double alpha)
{
	for (long m = 1; m <= 100000; m = m < 64 ? m + 1 : m + m / 8)
		if (stats_fisher_greater(b->matches, b->runs, 0, m) < alpha)
			return m;
	return LONG_MAX;
}

static void update_estimates(struct vd_state *s)
{
	const struct vd_count *b = &s->side[VD_BEFORE], *a = &s->side[VD_AFTER];

	if (b->matches != s->est_matches || b->runs != s->est_runs) { /* BEFORE moved */
		s->p_low = stats_cp_lower(b->matches, b->runs, s->cfg.confidence);
		s->n_after = stats_runs_for_zero(s->p_low * s->cfg.effect, s->cfg.confidence);
		s->est_matches = b->matches;
		s->est_runs = b->runs;
	}
	s->fisher = a->passes || a->matches ? stats_fisher_greater(b->matches, b->runs, a->matches,
								   a->passes + a->matches)
					    : 1;
}

enum vd_next vd_next(struct vd_state *s)
{
	const struct vd_count *b = &s->side[VD_BEFORE], *a = &s->side[VD_AFTER];
	bool out_of_runs = s->cfg.max_runs && s->total >= s->cfg.max_runs;
	unsigned infra = b->infra + a->infra;

	if (s->done)
		return VD_DONE;
	if (s->interrupted)
		return finish(s, VD_INCONCLUSIVE, VD_WHY_INTERRUPTED);
	if (b->infra_streak > s->cfg.infra_retries || a->infra_streak > s->cfg.infra_retries ||
	    (infra >= 5 && infra > b->runs + a->runs))
		return finish(s, VD_INCONCLUSIVE, VD_WHY_INFRA);
	if (a->matches)
		return finish(s, VD_NOT_FIXED, VD_WHY_REPRODUCED);

	if (!s->calibrated) {
		if (b->matches >= s->cfg.calibrate_matches)
			s->calibrated = true;
		else if (b->runs >= s->cfg.calibrate_max || out_of_runs || s->time_up) {
			if (!b->matches) {
				/* before giving up, a short probe of AFTER: when it is AFTER
				 * that reproduces (the kernels swapped, or the "fix" brings the
				 * bug), say so rather than nothing */
				if (!out_of_runs && !s->time_up &&
				    a->runs + a->infra < s->cfg.calibrate_matches)
					return VD_RUN_AFTER;
				return finish(s, VD_INCONCLUSIVE, VD_WHY_NO_REPRO);
			}
			s->calibrated = true; /* fewer than K matches: a wider bound, more runs */
		} else
			return VD_RUN_BEFORE;
	}
	update_estimates(s);
	if ((long)a->passes >= s->n_after && s->fisher < s->cfg.alpha)
		return finish(s, VD_FIXED, VD_WHY_FIXED);
	if (out_of_runs || s->time_up) {
		long need = s->n_after, nf = runs_for_fisher(b, s->cfg.alpha);
		if (nf > need)
			need = nf;
		s->more = need == LONG_MAX ? LONG_MAX : need - (long)a->passes;
		if (s->more < 1)
			s->more = 1;
		return finish(s, VD_INCONCLUSIVE, VD_WHY_BUDGET);
	}
	if (s->last_infra) /* retry the kernel that could not test */
		return s->last == VD_BEFORE ? VD_RUN_BEFORE : VD_RUN_AFTER;
	/* interleave: the first run after calibration is AFTER, then alternate */
	if (!a->runs && !a->infra)
		return VD_RUN_AFTER;
	return s->last == VD_AFTER ? VD_RUN_BEFORE : VD_RUN_AFTER;
}

int vd_exit_code(enum vd_verdict v)
{
	return v == VD_FIXED ? 0 : v == VD_NOT_FIXED ? 1 : 125;
}

const char *vd_verdict_name(enum vd_verdict v)
{
	return v == VD_FIXED ? "FIXED" : v == VD_NOT_FIXED ? "NOT-FIXED" : "INCONCLUSIVE";
}

char *vd_reason(const struct vd_state *s)
{
	const struct vd_count *b = &s->side[VD_BEFORE], *a = &s->side[VD_AFTER];

	switch (s->why) {
	case VD_WHY_FIXED:
		return strdupf("AFTER reproduced 0 times in %u clean runs (%ld needed at BEFORE's "
			       "rate lower bound %.3f); BEFORE %u/%u; one-sided Fisher p = %.2g",
			       a->passes, s->n_after, s->p_low, b->matches, b->runs, s->fisher);
	case VD_WHY_REPRODUCED:
		if (!b->matches)
			return strdupf(
			    "AFTER reproduced the signature (%u/%u runs) and BEFORE did "
			    "not (0/%u): the bug is on the AFTER side -- kernels swapped, "
			    "or the change brings the bug",
			    a->matches, a->runs, b->runs);
		return strdupf("AFTER reproduced the signature: %u/%u runs (BEFORE %u/%u)",
			       a->matches, a->runs, b->matches, b->runs);
	case VD_WHY_NO_REPRO:
		return strdupf("BEFORE did not reproduce in %u runs%s: the reproducer does not "
			       "reach the bug on the unfixed kernel, so the fixed kernel's clean "
			       "runs prove nothing",
			       b->runs, a->runs ? " (nor AFTER, probed too)" : "");
	case VD_WHY_BUDGET:
		if (s->more == LONG_MAX)
			return strdupf("the budget ended before a decision: BEFORE %u/%u, AFTER "
				       "0/%u clean",
				       b->matches, b->runs, a->passes);
		return strdupf(
		    "the budget ended before a decision: BEFORE %u/%u, AFTER 0/%u clean; "
		    "about %ld more AFTER runs (interleaved with as many BEFORE runs) "
		    "would decide it",
		    b->matches, b->runs, a->passes, s->more);
	case VD_WHY_INFRA:
		if (b->infra_streak > s->cfg.infra_retries ||
		    a->infra_streak > s->cfg.infra_retries)
			return strdupf("INFRA: %u runs in a row on %s could not test",
				       b->infra_streak > a->infra_streak ? b->infra_streak
									 : a->infra_streak,
				       b->infra_streak > a->infra_streak ? "BEFORE" : "AFTER");
		return strdupf("INFRA dominates: %u of %u runs could not test", b->infra + a->infra,
			       s->total);
	case VD_WHY_INTERRUPTED:
		return strdup("interrupted");
	default:
		return strdup("not decided");
	}
}
