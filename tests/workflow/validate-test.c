// SPDX-License-Identifier: GPL-2.0
/* Unit test of the fix-validation decision (harness/workflow/validate.c): sequences of run
 * outcomes per kernel -> verdict, n_after, reason, exit code.  Root-free, no VM. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "validate.h"

static int failures;

/* Outcomes: M match, P pass, O other report, I infra; a side past its string passes. */
static enum repeat_outcome at(const char *s, unsigned i)
{
	if (i >= strlen(s))
		return RO_PASS;
	return s[i] == 'M' ? RO_MATCH : s[i] == 'O' ? RO_OTHER : s[i] == 'I' ? RO_INFRA : RO_PASS;
}

struct want {
	enum vd_verdict verdict;
	enum vd_why why;
	unsigned total;	 /* runs of both kernels; 0: not checked */
	long n_after;	 /* -1: not checked */
	const char *rsn; /* substring of the reason */
	char order[64];	 /* B/A sequence prefix expected; "" not checked */
};

static double effect = 1; /* the plain rule: hand-computable n_after */

static void check(const char *name, const char *before, const char *after, unsigned max_runs,
		  const struct want *w)
{
	struct vd_config cfg;
	struct vd_state s;
	unsigned ib = 0, ia = 0;
	char order[512] = "";
	size_t no = 0;
	enum vd_next n;
	_cleanup_free_ char *reason = NULL;
	bool ok = true;

	vd_config_default(&cfg);
	if (max_runs)
		cfg.max_runs = max_runs;
	cfg.effect = effect;
	vd_init(&s, &cfg);
	while ((n = vd_next(&s)) != VD_DONE) {
		if (n == VD_RUN_BEFORE)
			vd_record(&s, VD_BEFORE, at(before, ib++));
		else
			vd_record(&s, VD_AFTER, at(after, ia++));
		if (no + 1 < sizeof(order))
			order[no++] = n == VD_RUN_BEFORE ? 'B' : 'A';
		if (s.total > 100000)
			break;
	}
	order[no] = 0;
	reason = vd_reason(&s);
	ok = s.done && s.verdict == w->verdict && s.why == w->why &&
	     (!w->total || s.total == w->total) && (w->n_after < 0 || s.n_after == w->n_after) &&
	     (!w->rsn || strstr(reason, w->rsn)) &&
	     (!w->order[0] || !strncmp(order, w->order, strlen(w->order)));
	printf("%s %-34s %-12s exit %3d runs %3u n_after %ld  %.40s%s\n     %s\n",
	       ok ? "ok  " : "FAIL", name, vd_verdict_name(s.verdict), vd_exit_code(s.verdict),
	       s.total, s.n_after == LONG_MAX ? -1 : s.n_after, order, no > 40 ? "..." : "",
	       reason);
	if (!ok) {
		failures++;
		printf("     want %s why %d total %u n_after %ld reason ~ '%s' order '%s' (got why "
		       "%d)\n",
		       vd_verdict_name(w->verdict), w->why, w->total, w->n_after,
		       w->rsn ? w->rsn : "", w->order, s.why);
	}
}

int main(void)
{
	/* BEFORE always reproduces: 3/3 -> p_low = 0.05^(1/3) = 0.368, n_after 7; the
	 * interleaved BEFORE runs raise p_low: at 6/6 n_after = 4, and 4 clean AFTER runs
	 * with Fisher 6/6 vs 0/4 = 1/210 = 0.0048 < 0.01 -> FIXED after 10 runs */
	check("always vs never", "MMMMMMMMMMMM", "", 0,
	      &(struct want){VD_FIXED, VD_WHY_FIXED, 10, 4, "Fisher p = 0.0048", "BBBABABABA"});
	/* rate 1/2 on BEFORE */
	check("half vs never", "PMPMMPMPMPMPMPMPMPMPMPMPMP", "", 0,
	      &(struct want){VD_FIXED, VD_WHY_FIXED, 0, -1, "AFTER reproduced 0 times", "BBBBB"});
	/* AFTER reproduces on its third run */
	check("always vs third run", "MMMMMMM", "PPM", 0,
	      &(struct want){VD_NOT_FIXED, VD_WHY_REPRODUCED, 8, -1,
			     "AFTER reproduced the signature: 1/3", "BBBABABA"});
	/* BEFORE never reproduces: calibration stops at half the 40-run budget, AFTER is
	 * probed K = 3 times, then INCONCLUSIVE */
	check("before never reproduces", "", "", 40,
	      &(struct want){VD_INCONCLUSIVE, VD_WHY_NO_REPRO, 23, LONG_MAX,
			     "does not reach the bug on the unfixed kernel",
			     "BBBBBBBBBBBBBBBBBBBBAAA"});
	/* the kernels swapped: BEFORE never reproduces, the AFTER probe does */
	check("swapped kernels", "", "PM", 40,
	      &(struct want){VD_NOT_FIXED, VD_WHY_REPRODUCED, 22, LONG_MAX,
			     "the bug is on the AFTER side", "BBBBBBBBBBBBBBBBBBBBAA"});
	/* without a budget, calibration gives up after 100 BEFORE runs */
	check("calibration cap 100", "", "", 0,
	      &(struct want){VD_INCONCLUSIVE, VD_WHY_NO_REPRO, 103, LONG_MAX,
			     "in 100 runs (nor AFTER", ""});
	/* rare bug, small budget: says how many more runs */
	check("rate 0.1, budget 40", "PPPPPPPPPMPPPPPPPPPMPPPPPPPPPMPPPPPPPPPM", "", 40,
	      &(struct want){VD_INCONCLUSIVE, VD_WHY_BUDGET, 40, -1, "more AFTER runs", ""});
	/* an INFRA run is retried on the same kernel; 4 in a row (> 3 retries) stop it */
	check("infra retried on same kernel", "MMMMMMMMMM", "IP", 0,
	      &(struct want){VD_FIXED, VD_WHY_FIXED, 0, -1, NULL, "BBBAABABAB"});
	check("infra 4 in a row on AFTER", "MMMMMMMMMM", "IIII", 0,
	      &(struct want){VD_INCONCLUSIVE, VD_WHY_INFRA, 7, -1,
			     "INFRA: 4 runs in a row on AFTER could not test", ""});
	check("infra 4 in a row on BEFORE", "IIII", "", 0,
	      &(struct want){VD_INCONCLUSIVE, VD_WHY_INFRA, 4, -1, "4 runs in a row on BEFORE",
			     "BBBB"});
	/* another kernel report on AFTER: neither a match nor a clean run -> more runs */
	check("other report on AFTER", "MMMMMMMMMMMMMM", "OOP", 0,
	      &(struct want){VD_FIXED, VD_WHY_FIXED, 12, 3, "in 3 clean runs", "BBBABABABABA"});
	/* BEFORE reproduces only once in calibration: calibrated anyway with a wide bound */
	check("one match in calibration", "PPPPPPPPPPPPPPPPPPPM", "", 40,
	      &(struct want){VD_INCONCLUSIVE, VD_WHY_BUDGET, 40, -1, "BEFORE 1/30", ""});
	/* INFRA dominating without a long streak: I P I P ... on AFTER */
	check("infra dominates", "MMMMMMMMMMMMMMMMMMMMMMMM", "IIIPIIIPIIIPIIIP", 0,
	      &(struct want){VD_INCONCLUSIVE, VD_WHY_INFRA, 0, -1, "INFRA dominates", ""});
	/* the default sizing (effect 0.4): BEFORE 3/3 -> p_low 0.368, n_after =
	 * ceil(ln 0.05 / ln(1 - 0.4 * 0.368)) = 19; the interleaved BEFORE runs raise it:
	 * at 11/11 p_low = 0.762, n_after = ceil(2.996 / -ln(1 - 0.305)) = 9, reached by
	 * the 9th AFTER run -> FIXED after 20 runs */
	effect = 0.4;
	check("default effect 0.4", "MMMMMMMMMMMMMMMMMMMMMMMMMMM", "", 0,
	      &(struct want){VD_FIXED, VD_WHY_FIXED, 20, 9, "in 9 clean runs", "BBBABABABABA"});
	printf("%s\n", failures ? "FAILED" : "all ok");
	return failures ? 1 : 0;
}
