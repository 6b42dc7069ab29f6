/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What changed in a night: each cell's tally (runs, failures, INFRA) compared with the
 * reference (the cell's previous night, or the baseline kernel's cell of the same
 * night) and with the cell's history.  Pure: works on a loaded store and plan.
 *
 *   new failure    tonight fails (in any share of its runs), the history is clean
 *   fixed          the reference failed, tonight passes in enough runs that the old
 *                  rate would have shown (one-sided Fisher test, p < 0.05)
 *   flaky          both outcomes in tonight's runs or in the history (rate given); a
 *                  pass after failures with too few runs to call it fixed lands here
 *   still failing  every run failed tonight and in the history
 *   infra          no run of the cell could test (every attempt INFRA)
 *   pass           passes, as it did
 *   not run        the night did not reach the cell (budget, shard, interrupted)
 * A failure whose every failing run matches a [known.*] entry is "known": shown, not
 * counted among the changes that page someone.
 */
#ifndef KDRILL_MATRIX_COMPARE_H
#define KDRILL_MATRIX_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"
#include "store.h"

enum mx_change {
	MX_NEW_FAILURE,
	MX_FIXED,
	MX_FLAKY,
	MX_STILL_FAILING,
	MX_INFRA,
	MX_PASS,
	MX_NOT_RUN,
	_MX_CHANGE_MAX,
};

const char *mx_change_name(enum mx_change c); /* "new failure", ... */
const char *mx_change_id(enum mx_change c);   /* "new-failure", ... */

struct mx_tally {
	unsigned n;	  /* runs that tested (not INFRA) */
	unsigned fails;	  /* of those, BUG/HANG/WARN/ANOMALY */
	unsigned infra;	  /* INFRA attempts */
	unsigned slots;	  /* rounds done */
	unsigned matches; /* failures matching the scenario's signature */
};

struct mx_cellres {
	const char *key, *kernel, *scenario, *variant;
	char *spec; /* scenario[:variant][ params] (the grid's column) */
	struct mx_tally cur, ref;
	bool has_ref;
	const char *ref_night;			  /* previous night with this cell, or NULL */
	unsigned hist_n, hist_fails, hist_nights; /* history before tonight */
	enum mx_change change;
	double rate;		/* flaky: failures / runs over tonight + history */
	long fixed_runs_needed; /* flaky after failures: passing runs still needed to call it fixed
				 */
	double fixed_p;		/* fixed: the Fisher p-value */
	const struct mx_known *known;
	const struct mx_entry *first_fail; /* tonight's first failing run */
	const struct mx_entry **runs;	   /* tonight's runs of the cell, in order */
	size_t n_runs;
};

struct mx_analysis {
	const struct mx_night *night;
	const struct mx_night *prev; /* the night before (for the header), or NULL */
	struct mx_cellres *cells;
	size_t n_cells;
	char **kernels; /* grid rows, in plan order */
	char **specs;	/* grid columns */
	unsigned counts[_MX_CHANGE_MAX];
	unsigned known; /* failing cells covered by known issues */
	unsigned runs, fails, infra;
};

/* plan may be NULL (no known issues, compare with the previous night, cells only from
 * the journal). */
int mx_analyze(const struct mx_store *s, const struct mx_night *night, const struct mx_plan *plan,
	       struct mx_analysis **ret);
void mx_analysis_free(struct mx_analysis *a);
static inline void mx_analysis_freep(struct mx_analysis **a)
{
	if (*a)
		mx_analysis_free(*a);
}
/* The cell's tally in a night. */
void mx_tally_cell(const struct mx_night *n, const char *key, struct mx_tally *ret);
const struct mx_known *mx_known_match(const struct mx_plan *plan, const struct mx_entry *e);

#endif
