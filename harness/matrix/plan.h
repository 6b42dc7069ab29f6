/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Matrix plans (INI, docs/matrix.md): which kernels × which scenarios, how many runs
 * per cell, for how long, what to compare against, which failures are known.
 * Parsing and validation only (every scenario is loaded with scenario_load() so an
 * unknown scenario, variant or parameter is refused before anything runs).
 * Errors: "file:line: key: why" in *errmsg.
 */
#ifndef KDRILL_MATRIX_PLAN_H
#define KDRILL_MATRIX_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mx_compare { MX_COMPARE_PREVIOUS, MX_COMPARE_BASELINE };

struct mx_known {
	char *name;	/* [known.NAME] */
	char *match;	/* substring of a failure's title or signature */
	char *scenario; /* NULL: any scenario */
	char *note;
	char *link; /* may be NULL */
	unsigned line;
};

struct mx_cell {
	char *key;	/* "KERNEL SCENARIO[:VARIANT][ k=v ...]": identity across nights */
	char *kernel;	/* kernel ref ("host" in host mode) */
	char *scenario; /* scenario name */
	char *variant;	/* NULL: the scenario's default */
	char **params;	/* "k=v", sorted */
	unsigned line;	/* the [scenarios] line */
	unsigned kernel_line;
	unsigned index; /* position in plan order */
};

struct mx_plan {
	char *path;
	char *name;
	char *text;    /* the file as read (copied into each night) */
	char hash[17]; /* FNV-1a 64 over the cells, runs and duration (hex) */
	unsigned runs;
	double duration;
	double budget; /* 0: none */
	unsigned infra_retries;
	unsigned history; /* nights looked at for flakiness */
	enum mx_compare compare;
	char *baseline; /* kernel ref (compare = baseline) */
	bool host;
	char *scratch;	     /* host mode */
	double boot_timeout; /* 0: kdrill run's default */
	char **kernels;	     /* expanded, in plan order */
	struct mx_cell *cells;
	size_t n_cells;
	struct mx_known *known;
	size_t n_known;
};

/* Parse and validate PATH.  On error returns a negative errno and *errmsg. */
int mx_plan_load(const char *path, struct mx_plan **ret, char **errmsg);
/* The same on text already read (path only for messages). */
int mx_plan_parse(const char *path, const char *text, struct mx_plan **ret, char **errmsg);
void mx_plan_free(struct mx_plan *p);
static inline void mx_plan_freep(struct mx_plan **p)
{
	if (*p)
		mx_plan_free(*p);
}

/* Expand one "{A..B}" integer range in s (zero padding kept when A is written with a
 * leading zero).  No brace: one item.  Returns -EINVAL with *why for a bad range. */
int mx_expand_range(const char *s, char ***ret, const char **why);

/* 64-bit FNV-1a (plan hashes, shard choice). */
uint64_t mx_hash64(const char *s);
/* Shard i of n (1-based) owns the cell when hash(key) % n == i - 1. */
bool mx_cell_in_shard(const struct mx_cell *c, unsigned shard_i, unsigned shard_n);
const struct mx_cell *mx_plan_cell(const struct mx_plan *p, const char *key);
/* "scenario" or "scenario:variant" */
char *mx_cell_spec(const struct mx_cell *c);

#endif
