/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The options of the commands that drive the repeat engine (kdrill validate, kdrill
 * bisect; harness/workflow/repeat.h): one part of the getopt table and one parser, so
 * that their bounds and messages are the same in every command.
 *
 *   --confidence C          0.5..0.999
 *   --calibrate-matches K   1..100000
 *   --duration S            1s..30 days (each run's length)
 *   --param K=V             repeatable, NAME=VALUE
 *   --boot-timeout S        1s..1 day, passed to each `kdrill run`
 *   --out DIR, --quiet
 *
 * A command's own budgets (runs, wall time) use repeat_opt_count() and
 * repeat_opt_seconds() for the same bounds and messages.  Messages go to stderr as
 * "kdrill CMD: --option: 'value' must be ..." (CLI only: the commands print).
 */
#ifndef KDRILL_REPEAT_OPTS_H
#define KDRILL_REPEAT_OPTS_H

#include <getopt.h>
#include <stdbool.h>

enum {
	REPEAT_OPT_FIRST = 0x1000, /* above any command's own option values */
	REPEAT_OPT_CONFIDENCE = REPEAT_OPT_FIRST,
	REPEAT_OPT_CALIBRATE,
	REPEAT_OPT_DURATION,
	REPEAT_OPT_PARAM,
	REPEAT_OPT_BOOT_TIMEOUT,
	REPEAT_OPT_OUT,
	REPEAT_OPT_QUIET,
	REPEAT_OPT_LAST = REPEAT_OPT_QUIET,
};

/* Entries of a command's struct option table (`switch` on them with
 * `case REPEAT_OPT_FIRST ... REPEAT_OPT_LAST:`). */
/* clang-format off */
#define REPEAT_OPTIONS                                                          \
	{"confidence", required_argument, NULL, REPEAT_OPT_CONFIDENCE},         \
	{"calibrate-matches", required_argument, NULL, REPEAT_OPT_CALIBRATE},   \
	{"duration", required_argument, NULL, REPEAT_OPT_DURATION},             \
	{"param", required_argument, NULL, REPEAT_OPT_PARAM},                   \
	{"boot-timeout", required_argument, NULL, REPEAT_OPT_BOOT_TIMEOUT},     \
	{"out", required_argument, NULL, REPEAT_OPT_OUT},                       \
	{"quiet", no_argument, NULL, REPEAT_OPT_QUIET}
/* clang-format on */

/* Where the values go: the command's own variables. */
struct repeat_opts {
	const char *cmd;	     /* "validate": the messages' "kdrill validate: " */
	double *confidence;	     /* --confidence */
	unsigned *calibrate_matches; /* --calibrate-matches */
	double *duration;	     /* --duration */
	char ***params;		     /* --param: appended (strv) */
	char ***run_args;	     /* --boot-timeout S: "--boot-timeout", S appended (strv) */
	const char **out;	     /* --out */
	bool *quiet;		     /* --quiet */
};

/* Parse option c (a REPEAT_OPT_*) with its argument into o's places.  Returns 0, or the
 * exit code after the message: KD_EXIT_USAGE for a bad value, KD_EXIT_INFRA when out
 * of memory. */
int repeat_opt_parse(const struct repeat_opts *o, int c, const char *arg);
/* --name: a count 1..100000 ("kdrill CMD: --name: 'x' must be 1..100000").  Returns 0
 * or KD_EXIT_USAGE after the message. */
int repeat_opt_count(const char *cmd, const char *name, const char *arg, unsigned *ret);
/* --name: a duration from 1s to 30 days.  Returns 0 or KD_EXIT_USAGE after the message. */
int repeat_opt_seconds(const char *cmd, const char *name, const char *arg, double *ret);

#endif
