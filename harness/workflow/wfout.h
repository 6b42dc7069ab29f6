/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output helpers shared by the workflows (validate, bisect): the workflow directory
 * results/<kind>-<id>/, atomic files, JSON numbers, the identity of a
 * kernel ref (release, config hash) for "Tested on:" lines.
 */
#ifndef KDRILL_WFOUT_H
#define KDRILL_WFOUT_H

#include <stdbool.h>

struct json_object;

/* Create out_dir/<kind>-<YYYYMMDD-HHMMSS-label-xxxx>/ (never an existing one, never
 * through a planted symlink: results_new_run_dir()).  *ret_id gets "<kind>-...",
 * *ret_dir the path. */
int wf_make_dir(const char *out_dir, const char *kind, const char *label, char **ret_id,
		char **ret_dir);
/* dir/name written atomically. */
int wf_write(const char *dir, const char *name, const char *content);
/* dir/name <- the JSON object, pretty, atomically. */
int wf_write_json(const char *dir, const char *name, struct json_object *o);
/* "0.1234" style number with `digits` decimals, kept as written. */
struct json_object *wf_num(double d, int digits);
/* Kernel identity from the cache (no download): key, release, short sha256 of the
 * config (NULL when unknown).  Returns 0 or a negative errno. */
int wf_kernel_identity(const char *ref, char **ret_key, char **ret_release, char **ret_config_hash);
/* True when stderr is a terminal (progress lines rewrite themselves). */
bool wf_tty(void);

#endif
