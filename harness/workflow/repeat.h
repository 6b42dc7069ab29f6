/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The repeat engine: runs one cell -- (kernel ref, scenario[:variant], parameters,
 * duration) -- again and again by spawning `kdrill run --kernel REF --out DIR --json`
 * (argv, no shell; the binary is the running one, /proc/self/exe), reads each run's
 * verdict.json and tallies: runs, signature matches, other kernel reports by title,
 * INFRA runs and their reasons, time to the first matching report (censored at the run's
 * duration when there was none), run ids.  Stop rules: a number of matches, a number of
 * runs, a time budget; INFRA is retried a bounded number of times.
 *
 * Spawning the CLI keeps the workflows (validate, bisect, the nightly matrix) decoupled
 * from the run code and isolates a crash of one run from the workflow.
 *
 * Errors: negative errno; a usage error of the child (exit 2: unknown scenario or
 * parameter) is -EINVAL with the child's message in *err.  Nothing here prints except
 * through the progress callback.
 */
#ifndef KDRILL_REPEAT_H
#define KDRILL_REPEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* What one run counts as for the cell's signature. */
enum repeat_outcome {
	RO_PASS,  /* the run did its work, no failure report */
	RO_MATCH, /* a failure report matching the scenario's signature (the bug) */
	RO_OTHER, /* a failure (BUG/HANG/WARN/ANOMALY) that does not match: another problem */
	RO_INFRA, /* could not test (exit 125): not an observation */
	_RO_MAX
};
const char *repeat_outcome_name(enum repeat_outcome o); /* pass match other infra */

struct repeat_cell {
	const char *kernel;	 /* kernel ref, as `kdrill run --kernel` takes it; NULL: no
				  * --kernel (host mode: --host --scratch DIR in extra_args) */
	const char *scenario;	 /* NAME[:VARIANT] or a scenario file */
	char *const *params;	 /* "K=V", NULL-terminated; NULL: none */
	double duration;	 /* seconds; 0: the scenario's own */
	const char *out_dir;	 /* results root of the runs (--out) */
	const char *work_dir;	 /* where the child's stdout/stderr go while it runs (an
				  * INFRA run's stderr is kept there as child-<n>.stderr) */
	char *const *extra_args; /* more `kdrill run` options (NULL-terminated) or NULL */
	const char *exe;	 /* kdrill binary; NULL: the running one (/proc/self/exe) */
};

/* One run. */
struct repeat_run {
	enum repeat_outcome outcome;
	char *run_id;	  /* NULL when the child wrote no verdict */
	char *dir;	  /* the run's results directory */
	char *verdict;	  /* PASS BUG HANG WARN ANOMALY INFRA */
	char *reason;	  /* verdict.json's reason, or the child's last stderr line */
	char *title;	  /* the deciding report's title (match / other), else NULL */
	double duration;  /* seconds (verdict.json duration_s; wall time if none) */
	double t_report;  /* seconds from the load's start to the first matching report;
			   * < 0 when none (the run is then censored at `duration`) */
	bool t_estimated; /* t_report is duration_s: verdict.json had no time_to_report_s */
	int exit_code;	  /* the child's exit code */
	uint64_t seed;	  /* the run's base seed (verdict.json seed), 0 unknown */
	char *kernel_release, *kernel_version;
};
void repeat_run_done(struct repeat_run *r);

/* Distinct titles (other reports) or reasons (INFRA) with counts and the first run. */
struct repeat_count {
	char *text;
	unsigned count;
	char *first_run; /* run id, may be NULL */
};

struct repeat_tally {
	unsigned runs; /* observations: pass + match + other (INFRA not counted) */
	unsigned n[_RO_MAX];
	unsigned infra_streak; /* consecutive INFRA runs at the end */
	struct repeat_count *others;
	size_t n_others;
	struct repeat_count *infra;
	size_t n_infra;
	struct repeat_run *run; /* every run in order, INFRA included */
	size_t n_run;
	double wall;			       /* seconds spent in the runs */
	char *kernel_release, *kernel_version; /* from the first run that had them */
};
void repeat_tally_done(struct repeat_tally *t);
/* Append a run (takes its strings; *r is cleared). */
int repeat_tally_add(struct repeat_tally *t, struct repeat_run *r);
/* Kaplan-Meier q-quantile of the time to the first matching report over the tally's
 * observed runs (runs without a match censored at their duration); -ENODATA when not
 * reached. */
int repeat_tally_time_quantile(const struct repeat_tally *t, double q, double *ret);
/* {"runs", "matches", "others", "passes", "infra", "other_reports": [{title, count,
 * first_run}], "infra_reasons": [...], "run_ids": [...], "time_to_report_s": {"median",
 * "p90", "censored"}} */
struct json_object *repeat_tally_json(const struct repeat_tally *t);

/* Run the cell once.  Returns 0 with *ret filled (an INFRA run is a success here), or a
 * negative errno: -EINVAL for a usage error of the child (*err says why), -EINTR when
 * the child was interrupted by SIGINT/SIGTERM, others when it could not be spawned. */
int repeat_once(const struct repeat_cell *c, struct repeat_run *ret, char **err);

struct repeat_limits {
	unsigned max_runs;	/* observations (not INFRA); 0: no limit */
	unsigned stop_matches;	/* stop after this many matches; 0: never */
	double max_time;	/* seconds of wall time for this call; 0: none */
	unsigned infra_retries; /* consecutive INFRA runs tolerated before stopping */
};
enum repeat_end {
	RE_MATCHES, /* stop_matches reached */
	RE_RUNS,    /* max_runs reached */
	RE_TIME,    /* max_time spent */
	RE_INFRA,   /* more than infra_retries INFRA runs in a row */
};
const char *repeat_end_name(enum repeat_end e);

typedef void (*repeat_progress_fn)(const struct repeat_cell *c, const struct repeat_tally *t,
				   const struct repeat_run *last, void *userdata);
/* Run until a stop rule says enough, appending to *t (so a tally can be grown by
 * several calls).  Returns the repeat_end (>= 0) or a negative errno as repeat_once(). */
int repeat_cell(const struct repeat_cell *c, const struct repeat_limits *l, struct repeat_tally *t,
		repeat_progress_fn progress, void *userdata, char **err);

/* Set by the workflows' SIGINT/SIGTERM handler (repeat_install_signals()): no new run
 * starts; repeat_cell() returns -EINTR. */
extern volatile int repeat_interrupted;
void repeat_install_signals(void);

#endif
