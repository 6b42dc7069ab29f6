/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The results store of the nightly matrix (docs/matrix.md):
 *
 *   STORE/runs/<run-id>/            every run's directory, as `kdrill run --out STORE/runs`
 *   STORE/runs/index.jsonl          kdrill run's own index
 *   STORE/nights/<night>/plan.ini   the plan the night ran
 *   STORE/nights/<night>/night.json identity: plan name and hash, shards with their state
 *   STORE/nights/<night>/journal.jsonl  one line per finished run (appended, fsynced)
 *
 * The journal is the truth: a run counts once its line is there.  A torn last line
 * (power loss mid-write) is ignored, so that run is redone by --resume.
 * Functions return negative errno; messages for the user come back in *err.
 */
#ifndef KDRILL_MATRIX_STORE_H
#define KDRILL_MATRIX_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct mx_plan;

#define MX_NIGHT_SCHEMA	  "kdrill-matrix-night/1"
#define MX_JOURNAL_SCHEMA "kdrill-matrix-run/1"
#define MX_JOURNAL_MAX	  (256u << 20) /* bytes read of one night's journal */

/* One journal line. */
struct mx_entry {
	char *cell;			   /* cell key */
	char *kernel, *scenario, *variant; /* variant may be NULL */
	unsigned round, attempt;
	char *run_id;
	char *dir; /* relative to the store: runs/<run-id> */
	char *verdict;
	bool match;
	char *title;	 /* first failure report's title, or NULL */
	char *signature; /* its signature, or NULL */
	char *frame;	 /* its guilty frame, or NULL */
	char *reason;
	char *started;
	char *release;		   /* kernel release the run saw */
	char *shard;		   /* "1/2", or "all" */
	double duration_s, load_s; /* load_s: seconds before the load started, -1 unknown */
	double ops, oom_kills;
	double wall_s;	   /* kdrill run's wall time as the matrix measured it (-1: unknown) */
	double t_report_s; /* failing run: seconds from the load's start to the matching report
			    * (the repeat engine's time_to_report), -1 unknown */
	bool failure;	   /* BUG HANG WARN ANOMALY */
	bool infra;
};

struct mx_night {
	char *id;
	char *dir;
	char *plan_name, *plan_hash;
	struct json_object *meta; /* night.json */
	struct mx_entry *e;
	size_t n;
	size_t torn; /* unparsable journal lines skipped */
};

struct mx_store {
	char *path;
	struct mx_night *nights; /* sorted by id */
	size_t n;
};

/* Load every night of STORE (missing STORE: -ENOENT). */
int mx_store_load(const char *path, struct mx_store **ret, char **err);
void mx_store_free(struct mx_store *s);
static inline void mx_store_freep(struct mx_store **s)
{
	if (*s)
		mx_store_free(*s);
}
const struct mx_night *mx_store_night(const struct mx_store *s, const char *id);
/* Load one night's journal (after mx_store_load or on its own). */
int mx_night_load(const char *store, const char *id, struct mx_night *ret, char **err);
void mx_night_done(struct mx_night *n);

/* Create STORE/nights/<id>/ with plan.ini and night.json, or check that an existing
 * night ran the same plan (-EBADR with *err otherwise).  shard: "1/2" or "all". */
int mx_night_open(const char *store, const char *id, const struct mx_plan *plan, const char *shard,
		  char **err);
/* Set the shard's state in night.json ("running", "complete", "budget", "interrupted"). */
int mx_night_set_state(const char *store, const char *id, const char *shard, const char *state,
		       const char *started, const char *finished);

/* Build a journal line from a run's verdict.json object. */
int mx_entry_from_verdict(struct json_object *verdict, const char *cell, const char *kernel,
			  unsigned round, unsigned attempt, const char *shard, double wall_s,
			  struct mx_entry *ret);
void mx_entry_done(struct mx_entry *e);
struct json_object *mx_entry_to_json(const struct mx_entry *e);
/* Append one line to the night's journal (one synced write). */
int mx_journal_append(const char *store, const char *night, const struct mx_entry *e);

/* Ingest a run directory made elsewhere (another machine, a LAVA job): copy it into
 * STORE/runs/ (refused when a run of that id is there) and journal it.  cell/kernel may
 * be NULL: then "<release> <scenario>[:<variant>]" and the verdict's release. */
int mx_store_ingest(const char *store, const char *night, const char *run_dir, const char *cell,
		    const char *kernel, unsigned round, unsigned attempt, const char *shard,
		    char **err);

/* Merge stores (shards of a night, or other nights) into OUT.  Every source is checked
 * before anything is copied: a night in two sources must have the same plan hash, a
 * (night, cell, round, attempt) may appear once, a run id once. */
int mx_store_merge(const char *out, char *const *sources, size_t *ret_runs, char **err);

/* The path of FILE relative to the directory FROM (both made absolute). */
char *mx_relpath(const char *from_dir, const char *file);
/* A JSON number written with at most 3 decimals, trailing zeros dropped ("0.5", "12")
 * (json-c would print 17 digits); the journal's and the reports' numbers. */
struct json_object *mx_json_double(double v);

#endif
