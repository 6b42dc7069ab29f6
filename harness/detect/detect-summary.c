// SPDX-License-Identifier: GPL-2.0
/*
 * Hung-task summary: group the blocked tasks (hung-task reports and sysrq-w
 * "Show Blocked State" dumps) by their innermost meaningful frame, and name
 * the likely root using the dependency table in detect-rules.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect-internal.h"
#include "util.h"

static const struct kd_root_rule *root_rule(const char *fn)
{
	for (size_t i = 0; i < kd_n_root_rules; i++)
		if (!strcmp(kd_root_rules[i].frame, fn))
			return &kd_root_rules[i];
	return NULL;
}

static const struct kd_wait_rule *wait_rule(const char *fn)
{
	for (size_t i = 0; i < kd_n_wait_rules; i++)
		if (!strcmp(kd_wait_rules[i].frame, fn))
			return &kd_wait_rules[i];
	return NULL;
}

/* A root rule for the task as a whole: its own frame first, else any frame of its stack
 * (the jbd2 thread blocked in jbd2_write_superblock still has kjournald2 below). */
static const struct kd_root_rule *stack_root_rule(char *const *st, const char *frame)
{
	const struct kd_root_rule *rr = root_rule(frame);
	for (int i = 0; !rr && st && st[i]; i++)
		rr = root_rule(st[i]);
	return rr;
}

/* Index of the innermost meaningful frame, or -1. */
static int meaningful(char *const *st)
{
	for (int i = 0; st && st[i]; i++)
		if (!kd_frame_is_wait_primitive(st[i]) || root_rule(st[i]))
			return i;
	return -1;
}

/* For a stack of waiting primitives only (a task in wait_for_completion() straight from
 * a syscall, e.g. io_destroy): the syscall's frame names the wait better than __schedule. */
static const char *syscall_frame(char *const *st)
{
	for (int i = 0; st && st[i]; i++)
		if (kd_frame_is_syscall(st[i]))
			return st[i];
	return NULL;
}

struct grp {
	const char *frame;
	char *via;
	unsigned count;
	char **tasks;
	size_t ntasks;
	uint64_t first;
	const struct kd_blocked *rep; /* first task of the group */
	const struct kd_wait_rule *w;
	const struct kd_root_rule *root;
};

int kd_summary_build(struct kd_report *r, struct kd_blocked *const *tasks, size_t n)
{
	if (!n)
		return 0;
	struct grp *g = calloc(n, sizeof(*g));
	size_t ng = 0;
	int ret = -ENOMEM;
	if (!g)
		return -ENOMEM;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < n; i++) {
		const struct kd_blocked *b = tasks[i];
		int m = meaningful(b->stack);
		const char *fr = m >= 0 ? b->stack[m] : syscall_frame(b->stack);
		if (!fr)
			fr = b->stack && b->stack[0] ? b->stack[0] : "?";
		if (b->line < lo)
			lo = b->line;
		if (b->line > hi)
			hi = b->line;
		struct grp *x = NULL;
		for (size_t k = 0; k < ng; k++)
			if (!strcmp(g[k].frame, fr))
				x = &g[k];
		if (!x) {
			x = &g[ng++];
			x->frame = fr;
			x->first = b->line;
			x->rep = b;
			x->w = wait_rule(fr);
			x->root = stack_root_rule(b->stack, fr);
			/* via: the next two meaningful callers */
			char buf[256] = "";
			size_t bl = 0;
			int got = 0;
			for (int k = m + 1; m >= 0 && b->stack[k] && got < 2; k++) {
				if (kd_frame_is_generic(b->stack[k]))
					continue;
				int w = snprintf(buf + bl, sizeof(buf) - bl, "%s%s",
						 got ? " < " : "", b->stack[k]);
				if (w < 0 || (size_t)w >= sizeof(buf) - bl)
					break;
				bl += (size_t)w;
				got++;
				if (!x->w)
					x->w = wait_rule(b->stack[k]);
			}
			if (got && !(x->via = strdup(buf)))
				goto out;
		}
		if (b->line < x->first)
			x->first = b->line;
		char **nt = realloc(x->tasks, (x->ntasks + 2) * sizeof(char *));
		if (!nt)
			goto out;
		x->tasks = nt;
		if (!(x->tasks[x->ntasks] =
			  strdupf("%s:%llu", b->comm, (unsigned long long)b->pid)))
			goto out;
		x->tasks[++x->ntasks] = NULL;
		x->count++;
	}

	/* The root: a group with a root rule that others wait for; else any
	 * group with a root rule; else the group others wait for; else the
	 * group whose task blocked first. */
	struct grp *root = NULL;
	for (size_t k = 0; k < ng && !root; k++)
		if (g[k].root)
			for (size_t j = 0; j < ng; j++)
				if (g[j].w && !strcmp(g[j].w->waits_for, g[k].frame))
					root = &g[k];
	for (size_t k = 0; k < ng && !root; k++)
		if (g[k].root)
			root = &g[k];
	for (size_t k = 0; k < ng && !root; k++)
		for (size_t j = 0; j < ng; j++)
			if (g[j].w && !strcmp(g[j].w->waits_for, g[k].frame))
				root = &g[k];
	const char *why = NULL;
	if (!root) {
		root = &g[0];
		for (size_t k = 1; k < ng; k++)
			if (g[k].first < root->first)
				root = &g[k];
		why = "it blocked first";
	}

	/* text */
	char *text = strdupf("%zu blocked task%s in %zu group%s:", n, n == 1 ? "" : "s", ng,
			     ng == 1 ? "" : "s");
	for (size_t k = 0; text && k < ng; k++) {
		char *tl = NULL;
		size_t shown = g[k].ntasks < 4 ? g[k].ntasks : 4;
		for (size_t j = 0; j < shown; j++) {
			char *nt = strdupf("%s%s%s", tl ? tl : "", tl ? ", " : "", g[k].tasks[j]);
			free(tl);
			if (!(tl = nt))
				break;
		}
		char *nt = strdupf("%s\n  %u in %s%s%s%s%s%s: %s%s", text, g[k].count, g[k].frame,
				   g[k].via ? " (via " : "", g[k].via ? g[k].via : "",
				   g[k].via ? ")" : "", g[k].w ? " - " : (g[k].root ? " - " : ""),
				   g[k].w ? g[k].w->role : (g[k].root ? g[k].root->role : ""),
				   tl ? tl : "", g[k].ntasks > shown ? ", ..." : "");
		free(tl);
		free(text);
		text = nt;
	}
	if (!text)
		goto out;
	const char *rtask = root->tasks[0];
	char *rt = NULL;
	if (root->root)
		rt = strdupf("%s\nlikely root: %s in %s (%s): %s", text, rtask, root->frame,
			     root->root->role, root->root->why);
	else
		rt = strdupf("%s\nlikely root: %s in %s (%s)", text, rtask, root->frame,
			     why ? why : "the other groups wait for it");
	free(text);
	if (!rt)
		goto out;
	r->summary_text = rt;
	r->cls = KD_CLASS_SUMMARY;
	r->count = (unsigned)n;
	r->first_line = lo;
	r->last_line = hi;
	if (!(r->title = strdupf("hung tasks: %zu blocked, likely root in %s", n, root->frame)) ||
	    !(r->frame = strdup(root->frame)) || !(r->task = strdup(rtask)) ||
	    !(r->root = strdupf("%s in %s", rtask, root->frame)) ||
	    !(r->signature = strdupf("summary:%s", root->frame)) || !(r->excerpt = strdup(rt)))
		goto out;
	size_t ns = 0;
	while (root->rep->stack && root->rep->stack[ns])
		ns++;
	if (!(r->stack = calloc(ns + 1, sizeof(char *))))
		goto out;
	for (size_t i = 0; i < ns; i++)
		if (!(r->stack[i] = strdup(root->rep->stack[i])))
			goto out;
	if (!(r->groups = calloc(ng, sizeof(*r->groups))))
		goto out;
	r->n_groups = ng;
	for (size_t k = 0; k < ng; k++) {
		struct kd_hung_group *o = &r->groups[k];
		o->count = g[k].count;
		o->tasks = TAKE_PTR(g[k].tasks);
		o->via = TAKE_PTR(g[k].via);
		if (!(o->frame = strdup(g[k].frame)))
			goto out;
		const char *role = g[k].w ? g[k].w->role : g[k].root ? g[k].root->role : NULL;
		if (role && !(o->role = strdup(role)))
			goto out;
	}
	ret = 1;
out:
	for (size_t k = 0; k < ng; k++) {
		free(g[k].via);
		strv_free(g[k].tasks);
	}
	free(g);
	return ret;
}
