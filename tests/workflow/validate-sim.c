// SPDX-License-Identifier: GPL-2.0
/* Fix validation on simulated outcomes: the decision code of `kdrill validate`
 * (harness/workflow/validate.c) fed by runs that match with known rates, against
 * syzbot's `#syz test` rule (3 runs of the patched kernel, fixed when none crashes).
 *   wf-validate-sim [TRIALS] [MAX_RUNS] [EFFECT] [ALPHA]
 * Prints a Markdown table; exits 1 if a target is missed (>= 95% correct for every
 * p_before >= 0.1, never FIXED when p_after = p_before). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "validate.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
	static const double pb[] = {0.9, 0.5, 0.3, 0.1};
	static const char *const after_name[] = {"0 (fixed)", "same", "half"};
	unsigned trials = argc > 1 ? (unsigned)atoi(argv[1]) : 2000;
	unsigned max_runs = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	double effect = argc > 3 ? atof(argv[3]) : 0;
	double alpha = argc > 4 ? atof(argv[4]) : 0;
	int missed = 0;

	printf("| p_before | p_after | truth | kdrill correct | wrong | inconclusive | mean runs | "
	       "syzbot 3-run correct | syzbot runs |\n|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(pb) / sizeof(pb[0]); i++)
		for (int a = 0; a < 3; a++) {
			double p_after = a == 0 ? 0 : a == 1 ? pb[i] : pb[i] / 2;
			enum vd_verdict truth = a == 0 ? VD_FIXED : VD_NOT_FIXED;
			unsigned right = 0, wrong = 0, inc = 0, fixed = 0, syz_right = 0;
			double runs = 0;
			for (unsigned t = 0; t < trials; t++) {
				struct vd_config cfg;
				struct vd_state s;
				enum vd_next n;
				bool syz_fixed = true;
				vd_config_default(&cfg);
				if (max_runs)
					cfg.max_runs = max_runs;
				if (effect > 0)
					cfg.effect = effect;
				if (alpha > 0)
					cfg.alpha = alpha;
				vd_init(&s, &cfg);
				while ((n = vd_next(&s)) != VD_DONE) {
					double p = n == VD_RUN_BEFORE ? pb[i] : p_after;
					vd_record(&s, n == VD_RUN_BEFORE ? VD_BEFORE : VD_AFTER,
						  uniform() < p ? RO_MATCH : RO_PASS);
				}
				runs += s.total;
				if (s.verdict == VD_INCONCLUSIVE)
					inc++;
				else if (s.verdict == truth)
					right++;
				else
					wrong++;
				fixed += s.verdict == VD_FIXED;
				for (int k = 0; k < 3; k++)
					if (uniform() < p_after)
						syz_fixed = false;
				syz_right += syz_fixed == (truth == VD_FIXED);
			}
			printf(
			    "| %.1f | %s | %s | %.1f%% | %.1f%% | %.1f%% | %.1f | %.1f%% | 3 |\n",
			    pb[i], after_name[a], vd_verdict_name(truth), 100.0 * right / trials,
			    100.0 * wrong / trials, 100.0 * inc / trials, runs / trials,
			    100.0 * syz_right / trials);
			if (100.0 * right / trials < 95 || (a == 1 && fixed)) {
				missed++;
				fprintf(
				    stderr,
				    "missed: p_before %.1f p_after %s: %.1f%% correct, %u FIXED\n",
				    pb[i], after_name[a], 100.0 * right / trials, fixed);
			}
		}
	{
		struct vd_config d;
		vd_config_default(&d);
		printf("\ntrials per row: %u; kdrill: confidence %.2f, Fisher alpha %.3f, K = %u, "
		       "max runs %u, effect %.2f\n",
		       trials, d.confidence, alpha > 0 ? alpha : d.alpha, d.calibrate_matches,
		       max_runs ? max_runs : d.max_runs, effect > 0 ? effect : d.effect);
	}
	if (missed)
		printf("targets missed in %d rows\n", missed);
	return missed ? 1 : 0;
}
