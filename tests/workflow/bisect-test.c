// SPDX-License-Identifier: GPL-2.0
/* Unit test of the bisection posterior and stopping rule (harness/workflow/bisect.c).
 * Root-free, no VM: outcomes are given, deterministic. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bisect.h"

static int failures;

#define CHECK(what, cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s\n", what);                                                 \
			failures++;                                                                \
		} else                                                                             \
			printf("ok   %s\n", what);                                                 \
	} while (0)
#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

/* Drive a bisection: kernels >= culprit are bad; a bad kernel's runs follow the pattern
 * (M match / P pass, cycled), good kernels always pass; 'I' in infra_at's pattern makes
 * that kernel's runs INFRA. */
static struct bs_state drive(size_t n, size_t culprit, const char *bad_pattern,
			     const struct bs_config *cfg, long infra_kernel, char *trace, size_t tl)
{
	struct bs_state s;
	unsigned nb = 0;
	long i;
	size_t t = 0;

	bs_init(&s, n, cfg);
	while ((i = bs_next(&s)) >= 0) {
		enum repeat_outcome o = RO_PASS;
		if (i == infra_kernel)
			o = RO_INFRA;
		else if ((size_t)i >= culprit)
			o = bad_pattern[nb++ % strlen(bad_pattern)] == 'M' ? RO_MATCH : RO_PASS;
		bs_record(&s, (size_t)i, o);
		if (trace && t + 4 < tl)
			t += (size_t)snprintf(trace + t, tl - t, "%ld%c ", i,
					      o == RO_MATCH   ? 'M'
					      : o == RO_INFRA ? 'I'
							      : 'P');
		if (s.total > 10000)
			break;
	}
	return s;
}

int main(void)
{
	struct bs_config cfg;
	struct bs_state s;
	char trace[1024], what[2048];

	bs_config_default(&cfg);

	/* no passes anywhere: every position equally likely (c = 0: the good end is bad) */
	bs_init(&s, 4, &cfg);
	for (int r = 0; r < 3; r++)
		bs_record(&s, 3, RO_MATCH);
	bs_posterior(&s);
	CHECK("uniform posterior without passes",
	      NEAR(s.post[0], 0.25) && NEAR(s.post[1], 0.25) && NEAR(s.post[3], 0.25));
	/* a match at 1 rules out c = 2, 3 */
	bs_record(&s, 1, RO_MATCH);
	bs_posterior(&s);
	CHECK("a match at 1 -> c in {0, 1}",
	      NEAR(s.post[0], 0.5) && NEAR(s.post[1], 0.5) && s.post[2] == 0 && s.post[3] == 0);
	bs_free(&s);

	/* N = 3: bad end 2 matches + 1 pass, kernel 1 two passes.  F = 2; S_2 = 1, S_1 =
	 * S_0 = 3; L(c) = B(1+F, 1+S_c): B(3,2) = 1/12, B(3,4) = 1/60 -> 5/7, 1/7, 1/7;
	 * E[p|c] = 3/(4+S_c): 3/5, 3/7 -> p_hat = 5/7*3/5 + 2/7*3/7 = 0.55102 */
	bs_init(&s, 3, &cfg);
	bs_record(&s, 2, RO_MATCH);
	bs_record(&s, 2, RO_MATCH);
	bs_record(&s, 2, RO_PASS);
	bs_record(&s, 1, RO_PASS);
	bs_record(&s, 1, RO_PASS);
	bs_posterior(&s);
	snprintf(what, sizeof(what), "hand-computed posterior %.5f %.5f %.5f, p_hat %.5f",
		 s.post[0], s.post[1], s.post[2], s.p_hat);
	CHECK(what, NEAR(s.post[2], 5.0 / 7) && NEAR(s.post[1], 1.0 / 7) &&
			NEAR(s.post[0], 1.0 / 7) && NEAR(s.p_hat, 5.0 / 7 * 0.6 + 2.0 / 7 * 3 / 7));
	CHECK("MAP is the bad end", s.best == 2 && NEAR(s.best_p, 5.0 / 7));
	/* another kernel report and INFRA are not observations */
	bs_record(&s, 1, RO_OTHER);
	bs_record(&s, 1, RO_INFRA);
	bs_posterior(&s);
	CHECK("other report / INFRA leave the posterior alone", NEAR(s.post[2], 5.0 / 7));
	bs_free(&s);

	/* a bug that always reproduces: found, right, and confirmed */
	s = drive(16, 11, "M", &cfg, -1, trace, sizeof(trace));
	snprintf(what, sizeof(what), "p = 1, N = 16, culprit 11 -> %s %zu (p %.4f) in %u runs: %s",
		 bs_result_name(s.result), s.best, s.best_p, s.total, trace);
	CHECK(what, s.result == BS_FOUND && s.best == 11 && s.best_p >= 0.99 &&
			bs_exit_code(s.result) == 0);
	bs_free(&s);

	/* a flaky one (1 in 3) */
	s = drive(16, 5, "PPM", &cfg, -1, trace, sizeof(trace));
	snprintf(what, sizeof(what), "p = 1/3, N = 16, culprit 5 -> %s %zu (p %.4f) in %u runs",
		 bs_result_name(s.result), s.best, s.best_p, s.total);
	CHECK(what, s.result == BS_FOUND && s.best == 5 && s.best_p >= 0.99);
	/* the culprit has a match and its predecessor was re-tested */
	CHECK("culprit matched, predecessor passed >= 5 times",
	      s.k[5].matches >= 1 && s.k[4].passes >= 5 && s.k[4].matches == 0);
	bs_free(&s);

	/* the culprit is the first kernel after the good end; the good end gets checked */
	s = drive(8, 1, "M", &cfg, -1, trace, sizeof(trace));
	snprintf(what, sizeof(what), "culprit 1 -> %s %zu, good end passed %u times",
		 bs_result_name(s.result), s.best, s.k[0].passes);
	CHECK(what, s.result == BS_FOUND && s.best == 1 && s.k[0].passes >= 3);
	bs_free(&s);

	/* the good end reproduces too */
	s = drive(8, 0, "M", &cfg, -1, trace, sizeof(trace));
	snprintf(what, sizeof(what), "good end bad -> %s (exit %d)", bs_result_name(s.result),
		 bs_exit_code(s.result));
	CHECK(what, s.result == BS_GOOD_IS_BAD && bs_exit_code(s.result) == 125);
	bs_free(&s);

	/* the bad end never reproduces: nothing to bisect after calibrate_max runs */
	s = drive(8, 8, "M", &cfg, -1, trace, sizeof(trace));
	snprintf(what, sizeof(what), "bad end never reproduces -> %s after %u runs (exit %d)",
		 bs_result_name(s.result), s.total, bs_exit_code(s.result));
	CHECK(what, s.result == BS_NO_REPRO && s.total == cfg.calibrate_max &&
			bs_exit_code(s.result) == 125);
	bs_free(&s);

	/* a budget too small: the most likely range, which holds the culprit */
	{
		struct bs_config c2 = cfg;
		c2.max_runs = 12;
		s = drive(64, 40, "PPPM", &c2, -1, trace, sizeof(trace));
		snprintf(what, sizeof(what), "budget 12 runs -> %s, range [%zu, %zu] p %.3f",
			 bs_result_name(s.result), s.lo, s.hi, s.range_p);
		CHECK(what, s.result == BS_BUDGET && s.total == 12 && s.lo <= 40 && s.hi >= 40 &&
				s.range_p >= 0.95);
		bs_free(&s);
	}

	/* INFRA on one kernel: skipped after 4 in a row, never picked again; the
	 * bisection goes on around it */
	s = drive(16, 9, "M", &cfg, 6, trace, sizeof(trace));
	snprintf(what, sizeof(what), "kernel 6 always INFRA -> skipped (%u INFRA), %s %zu",
		 s.k[6].infra, bs_result_name(s.result), s.best);
	CHECK(what, s.k[6].skipped && s.k[6].infra == cfg.infra_retries + 1 &&
			s.result == BS_FOUND && s.best == 9);
	bs_free(&s);
	/* ... unless it is the culprit's predecessor: then only it could decide */
	s = drive(16, 9, "M", &cfg, 8, trace, sizeof(trace));
	snprintf(what, sizeof(what), "kernel 8 (before the culprit) INFRA -> %s [%zu, %zu] p %.3f",
		 bs_result_name(s.result), s.lo, s.hi, s.range_p);
	CHECK(what, s.k[8].skipped && s.result == BS_AMBIGUOUS && s.lo == 8 && s.hi == 9 &&
			s.range_p > 0.99 && bs_exit_code(s.result) == 125);
	bs_free(&s);

	/* classic bisection, 3 runs per step */
	{
		struct bs_config c3 = cfg;
		c3.runs_per_step = 3;
		s = drive(16, 6, "M", &c3, -1, trace, sizeof(trace));
		snprintf(what, sizeof(what), "runs-per-step 3 -> %s %zu (posterior %.3f): %s",
			 bs_result_name(s.result), s.best, s.best_p, trace);
		/* calibration 3, then 7 (a match), 3 (3 passes), 5 (3), 6 (a match) */
		CHECK(what, s.result == BS_FOUND && s.best == 6 && s.total == 11);
		bs_free(&s);
	}

	/* the posterior median rule */
	{
		struct bs_config c4 = cfg;
		c4.select = BS_SELECT_MEDIAN;
		s = drive(32, 20, "PM", &c4, -1, trace, sizeof(trace));
		snprintf(what, sizeof(what), "median selection, p = 1/2 -> %s %zu in %u runs",
			 bs_result_name(s.result), s.best, s.total);
		CHECK(what, s.result == BS_FOUND && s.best == 20);
		bs_free(&s);
	}
	printf("%s\n", failures ? "FAILED" : "all ok");
	return failures ? 1 : 0;
}
