// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel stacks of a unit's tasks: see taskstack.h.
 *
 * /proc/PID/task/TID/stack needs CAP_SYS_ADMIN and CONFIG_STACKTRACE (the runner is root;
 * the slim and Debian kernels have it).  For a task that is running on another CPU at the
 * time, the kernel walks the stack it saved when it last switched out: a task spinning in
 * the kernel with cond_resched()/yield() shows where it spins.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskstack.h"
#include "util.h"

int task_stack_parse(const char *text, char ***ret)
{
	_cleanup_strv_ char **l = NULL;
	const char *p = text;

	*ret = NULL;
	while (p && *p) {
		const char *e = strchr(p, '\n'), *f = p;
		size_t n = e ? (size_t)(e - p) : strlen(p);

		/* "[<0>] func+0x1c0/0x2f0" (or "[<ffffffff81234567>] ..." with kptr_restrict 0) */
		if (n > 0 && *f == '[') {
			const char *c = memchr(f, ']', n);
			if (c) {
				n -= (size_t)(c + 1 - f);
				f = c + 1;
			}
		}
		while (n > 0 && (*f == ' ' || *f == '\t')) {
			f++;
			n--;
		}
		while (n > 0 && (f[n - 1] == ' ' || f[n - 1] == '\r'))
			n--;
		if (n > 0) {
			char *fr = strndup(f, n);
			if (!fr || strv_push(&l, fr) < 0) {
				free(fr);
				return -ENOMEM;
			}
		}
		p = e ? e + 1 : NULL;
	}
	if (!l && !(l = calloc(1, sizeof(*l))))
		return -ENOMEM;
	*ret = TAKE_PTR(l);
	return 0;
}

/* "pid (comm) S ppid pgrp session tty tpgid flags ...": the state and, when asked for,
 * the flags (comm may hold spaces and parentheses) */
static int read_stat(const char *path, char *state, unsigned long *flags)
{
	_cleanup_free_ char *s = NULL;
	const char *c;
	int r;

	if ((r = read_one_line(path, &s)) < 0)
		return r;
	c = strrchr(s, ')');
	if (!c || c[1] != ' ' || !c[2])
		return -EINVAL;
	*state = c[2];
	if (flags && sscanf(c + 3, " %*d %*d %*d %*d %*d %lu", flags) != 1)
		return -EINVAL;
	return 0;
}

/* "SigPnd:\t0000000000000100" -> does the mask hold SIGKILL? */
static bool mask_has_sigkill(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	unsigned long long m;

	return p && sscanf(p + strlen(key), " %llx", &m) == 1 && (m & (1ULL << (SIGKILL - 1)));
}

/* PF_EXITING, in the flags field of /proc/TID/stat */
#define PF_EXITING_FLAG 0x4u

int task_dying(pid_t tid, bool *ret)
{
	char path[64], state;
	_cleanup_free_ char *status = NULL;
	unsigned long flags = 0;
	int r;

	*ret = false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	if ((r = read_stat(path, &state, &flags)) < 0)
		return r;
	if (state == 'Z' || state == 'X')
		return 0;
	if (flags & PF_EXITING_FLAG) {
		*ret = true;
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if ((r = read_full_file(path, &status, NULL)) < 0)
		return r;
	*ret = mask_has_sigkill(status, "\nSigPnd:") || mask_has_sigkill(status, "\nShdPnd:");
	return 0;
}

static int add_thread(pid_t tid, struct task_stack **t, size_t *n)
{
	char path[64];
	_cleanup_free_ char *comm = NULL, *stack = NULL, *status = NULL;
	struct task_stack *a, *x;
	const char *g;
	long tgid = tid;
	char state;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	if (read_stat(path, &state, NULL) < 0)
		return 0; /* gone meanwhile */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (read_full_file(path, &status, NULL) >= 0 && (g = strstr(status, "\nTgid:")))
		(void)sscanf(g + 6, " %ld", &tgid);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)tid);
	if (read_one_line(path, &comm) < 0)
		comm = strdup("?");
	snprintf(path, sizeof(path), "/proc/%d/stack", (int)tid);
	if (read_full_file(path, &stack, &len) < 0)
		stack = NULL; /* no CONFIG_STACKTRACE, or gone: no frames */
	if (!comm || !(a = realloc(*t, (*n + 1) * sizeof(*a))))
		return -ENOMEM;
	*t = a;
	x = &a[*n];
	*x = (struct task_stack){.tgid = (pid_t)tgid, .tid = tid, .state = state};
	if ((r = task_stack_parse(stack ? stack : "", &x->frames)) < 0)
		return r;
	x->comm = TAKE_PTR(comm);
	(*n)++;
	return 0;
}

int task_stacks_of(const pid_t *tids, size_t n_tids, struct task_stack **ret, size_t *ret_n)
{
	struct task_stack *t = NULL;
	size_t n = 0;
	int r;

	*ret = NULL;
	*ret_n = 0;
	for (size_t i = 0; i < n_tids; i++)
		if ((r = add_thread(tids[i], &t, &n)) < 0) {
			task_stacks_free(t, n);
			return r;
		}
	*ret = t;
	*ret_n = n;
	return 0;
}

void task_stacks_free(struct task_stack *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		free(t[i].comm);
		strv_free(t[i].frames);
	}
	free(t);
}

bool task_stack_in_kernel(const struct task_stack *t)
{
	return t->state != 'Z' && t->state != 'X' && t->frames && t->frames[0];
}

unsigned task_cant_die_bound(uint64_t hung_task_secs)
{
	if (!hung_task_secs)
		return 120;
	return hung_task_secs < 60 ? 60 : hung_task_secs > 300 ? 300 : (unsigned)hung_task_secs;
}

char *task_cant_die_report(const struct task_stack *t, unsigned bound_secs, double killed_secs)
{
	_cleanup_free_ char *head = NULL, *frames = NULL;

	head = strdupf("kdrill: task %s:%d can't die for more than %u seconds (SIGKILL sent %.0f s "
		       "ago; state %c)\ntask:%s state:%c pid:%d tgid:%d\nCall Trace:\n ",
		       t->comm, (int)t->tid, bound_secs, killed_secs, t->state, t->comm, t->state,
		       (int)t->tid, (int)t->tgid);
	frames = strv_join(t->frames, "\n ");
	if (!head || !frames)
		return NULL;
	return strdupf("%s%s", head, frames);
}
