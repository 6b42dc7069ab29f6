// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel stacks of a unit's tasks: see taskstack.h.
 *
 * /proc/PID/task/TID/stack needs CAP_SYS_ADMIN and CONFIG_STACKTRACE (the runner is root;
 * the slim and Debian kernels have it).  For a task that is running on another CPU at the
 * time, the kernel walks the stack it saved when it last switched out: a task spinning in
 * the kernel with cond_resched()/yield() shows where it spins.
 */
#include <dirent.h>
#include <errno.h>
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

/* "pid (comm) S ppid ...": the state and ppid (comm may hold spaces and parentheses). */
static int read_stat(const char *path, char *state, pid_t *ppid)
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
	if (ppid) {
		long v;
		if (sscanf(c + 3, " %ld", &v) != 1)
			return -EINVAL;
		*ppid = (pid_t)v;
	}
	return 0;
}

static bool numeric(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* root and its descendants (one pass over /proc, then a closure over the ppid links) */
static int descendants(pid_t root, pid_t **ret, size_t *ret_n)
{
	struct link {
		pid_t pid, ppid;
	};
	_cleanup_free_ struct link *l = NULL;
	_cleanup_free_ pid_t *out = NULL;
	size_t n = 0, cap = 0, n_out = 1;
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[64], st;
		pid_t pp;
		if (!numeric(de->d_name) || strlen(de->d_name) > 12)
			continue;
		snprintf(path, sizeof(path), "/proc/%.12s/stat", de->d_name);
		if (read_stat(path, &st, &pp) < 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 256;
			struct link *a = realloc(l, nc * sizeof(*a));
			if (!a) {
				closedir(d);
				return -ENOMEM;
			}
			l = a;
			cap = nc;
		}
		l[n++] = (struct link){.pid = (pid_t)atol(de->d_name), .ppid = pp};
	}
	closedir(d);
	if (!(out = malloc((n + 1) * sizeof(*out))))
		return -ENOMEM;
	out[0] = root;
	for (size_t i = 0; i < n_out; i++) /* out grows while we walk it */
		for (size_t j = 0; j < n; j++)
			if (l[j].ppid == out[i] && l[j].pid != root && n_out <= n)
				out[n_out++] = l[j].pid;
	*ret = TAKE_PTR(out);
	*ret_n = n_out;
	return 0;
}

static int add_thread(pid_t tgid, pid_t tid, struct task_stack **t, size_t *n)
{
	char path[96];
	_cleanup_free_ char *comm = NULL, *stack = NULL;
	struct task_stack *a, *x;
	char state;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)tgid, (int)tid);
	if (read_stat(path, &state, NULL) < 0)
		return 0; /* gone meanwhile */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)tgid, (int)tid);
	if (read_one_line(path, &comm) < 0)
		comm = strdup("?");
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", (int)tgid, (int)tid);
	if (read_full_file(path, &stack, &len) < 0)
		stack = NULL; /* no CONFIG_STACKTRACE, or gone: no frames */
	if (!comm || !(a = realloc(*t, (*n + 1) * sizeof(*a))))
		return -ENOMEM;
	*t = a;
	x = &a[*n];
	*x = (struct task_stack){.tgid = tgid, .tid = tid, .state = state};
	if ((r = task_stack_parse(stack ? stack : "", &x->frames)) < 0)
		return r;
	x->comm = TAKE_PTR(comm);
	(*n)++;
	return 0;
}

int task_stacks_of(pid_t root, struct task_stack **ret, size_t *ret_n)
{
	_cleanup_free_ pid_t *pids = NULL;
	struct task_stack *t = NULL;
	size_t n_pids = 0, n = 0;
	int r;

	*ret = NULL;
	*ret_n = 0;
	if (root <= 0)
		return -ESRCH;
	if ((r = descendants(root, &pids, &n_pids)) < 0)
		return r;
	for (size_t i = 0; i < n_pids; i++) {
		char path[64];
		DIR *d;
		struct dirent *de;
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pids[i]);
		if (!(d = opendir(path)))
			continue;
		while ((de = readdir(d)))
			if (numeric(de->d_name) &&
			    (r = add_thread(pids[i], (pid_t)atol(de->d_name), &t, &n)) < 0) {
				closedir(d);
				task_stacks_free(t, n);
				return r;
			}
		closedir(d);
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
