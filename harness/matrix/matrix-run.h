/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running a night of a plan: cells in rounds (every cell of the shard once before any
 * cell twice), each run one repeat_once() of the repeat engine (harness/workflow/repeat.h:
 * a `kdrill run --json` child) whose verdict goes into the night's journal; INFRA retried
 * up to the plan's infra_retries; resumable from the journal.  SIGINT/SIGTERM: install
 * repeat_install_signals(); the night stops after the current run (not journaled).
 */
#ifndef KDRILL_MATRIX_RUN_H
#define KDRILL_MATRIX_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "plan.h"

struct mx_run_opts {
	const char *store;
	const char *night;
	const char *kdrill;	   /* the kdrill binary to spawn */
	unsigned shard_i, shard_n; /* 1-based; n = 0 or 1: no sharding */
	bool resume;
	uint64_t min_free; /* bytes the store must have free before a run (0: no check) */
	FILE *progress;	   /* one line per run, or NULL */
};

struct mx_run_result {
	unsigned planned; /* run slots of this shard (cells × runs) */
	unsigned done;	  /* slots finished before this invocation */
	unsigned ran;	  /* kdrill runs started now */
	unsigned fails, infra;
	unsigned left;	     /* slots not finished (budget, interrupted) */
	const char *state;   /* "complete", "budget", "interrupted", "store-full" */
	uint64_t store_free; /* bytes free in the store when it stopped "store-full" */
	double wall_s, run_wall_s, run_dur_s; /* totals: matrix, kdrill run children, verdicts' */
};

/* The shard's slots the journal says are finished (a non-INFRA run, or INFRA attempts
 * exhausted) and how many attempts each unfinished one had. */
int mx_run_night(const struct mx_plan *plan, const struct mx_run_opts *o, struct mx_run_result *res,
		 char **err);

#endif
