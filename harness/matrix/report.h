/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The night's outputs (docs/matrix.md): index.html (one self-contained page: grid,
 * changes, trend charts drawn by its own script, failure details; every kernel text
 * escaped), junit.xml, summary.json, kcidb.json (KCIDB I/O v5.3), summary.txt.
 */
#ifndef KDRILL_MATRIX_REPORT_H
#define KDRILL_MATRIX_REPORT_H

#include <stdio.h>

#include "compare.h"

struct json_object;

struct mx_report_opts {
	const char *out; /* directory written */
	const char
	    *url_base; /* prefix of the store's files in kcidb.json (default file://STORE/) */
	unsigned trend_nights; /* nights in the trend charts (default 14) */
};

/* Write every output into opts->out; *ret_summary gets the text summary. */
int mx_report_write(const struct mx_store *s, const struct mx_analysis *a,
		    const struct mx_plan *plan, const struct mx_report_opts *opts,
		    char **ret_summary, char **err);

/* The pieces, for tests and other callers (allocated; NULL on ENOMEM). */
char *mx_report_html(const struct mx_store *s, const struct mx_analysis *a,
		     const struct mx_plan *plan, const char *outdir, unsigned trend_nights);
char *mx_report_junit(const struct mx_analysis *a, const struct mx_plan *plan);
struct json_object *mx_report_summary_json(const struct mx_analysis *a, const struct mx_plan *plan);
struct json_object *mx_report_kcidb(const struct mx_store *s, const struct mx_analysis *a,
				    const char *url_base);
char *mx_report_text(const struct mx_analysis *a, const struct mx_plan *plan, const char *page);

#endif
