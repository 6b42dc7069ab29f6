/* SPDX-License-Identifier: GPL-2.0 */
/*
 * results/<run-id>/: verdict.json (docs/results.md, schema "kdrill-verdict/1"),
 * junit.xml, and results/index.jsonl (one line per run).  Every file is written
 * atomically (temp + fsync + rename + fsync dir); index lines are appended with
 * one synced write.
 */
#ifndef KDRILL_RESULTS_H
#define KDRILL_RESULTS_H

#include <stdint.h>

struct json_object;

#define RESULTS_SCHEMA "kdrill-verdict/1"

/* Sortable id: YYYYMMDD-HHMMSS-<label>-<4 hex>, label = scenario[.variant]. */
char *results_run_id(const char *label, uint64_t realtime_usec);
/* A new directory out_dir/<run id>, or out_dir/<prefix>-<run id> when prefix is not NULL
 * (a workflow's: "validate-..."), out_dir made if needed: created with mkdir(), never an
 * existing name or a symlink planted with it (another id is drawn then, 16 times at
 * most: -EEXIST).  *ret_id gets the name, *ret_dir the path. */
int results_new_run_dir(const char *out_dir, const char *prefix, const char *label,
			uint64_t realtime_usec, char **ret_id, char **ret_dir);
/* Default results root: $KDRILL_RESULTS, else ./results. */
const char *results_default_dir(void);
/* verdict.json + junit.xml into run_dir, then one index line into out_dir/index.jsonl. */
int results_write(const char *out_dir, const char *run_dir, struct json_object *verdict);
/* JUnit XML for one verdict (malloc'd). */
char *results_junit(struct json_object *verdict);
/* Find a run directory by id, unique id prefix/substring, or "last". -ENOENT, -EEXIST
 * (ambiguous). */
int results_find(const char *out_dir, const char *id, char **ret_dir);
/* Load run_dir/verdict.json (a regular file holding a JSON object). */
int results_load(const char *run_dir, struct json_object **ret);
/* The same, and *errmsg (malloc'd) names the problem: "DIR/verdict.json:LINE: not valid
 * JSON (unexpected character, byte N)", "not a regular file", ... */
int results_load_msg(const char *run_dir, struct json_object **ret, char **errmsg);

#endif
