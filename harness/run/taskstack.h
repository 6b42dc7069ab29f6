/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel stacks of a unit's tasks (/proc/TID/stack), for the one report the runner makes
 * itself: a task that was SIGKILLed -- by the OOM killer during the run, by the runner at
 * its stop -- and stays in the kernel.  The report has the shape of the kernel's
 * hung-task report, so the detector parses it like any other (one line, broken here):
 *
 *   kdrill: task memcg-oom-fsyn:1234 can't die for more than 60 seconds
 *       (SIGKILL sent 61 s ago; state R)
 *   task:memcg-oom-fsyn state:R pid:1234 tgid:1230
 *   Call Trace:
 *    __getblk_slow+0x1c0/0x2f0
 *    ...
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct task_stack {
	pid_t tgid, tid;
	char state;    /* /proc/.../stat: R, S, D, Z, ... */
	char *comm;    /* as the kernel truncates it (15 bytes) */
	char **frames; /* "func+0x1c0/0x2f0", innermost first; empty: in user space or gone */
};

/* "[<0>] func+0x1c0/0x2f0\n" lines (the format of /proc/PID/stack) -> frames. */
int task_stack_parse(const char *text, char ***ret);
/* These threads (a unit's cgroup's), each with its kernel stack; those gone meanwhile are
 * left out.  -errno. */
int task_stacks_of(const pid_t *tids, size_t n_tids, struct task_stack **ret, size_t *ret_n);
/* Is the thread dying -- SIGKILL pending (an OOM kill, a stop) or exiting -- and not yet a
 * zombie?  A task that stays so is one the kernel does not let die.  -errno (gone). */
int task_dying(pid_t tid, bool *ret);
void task_stacks_free(struct task_stack *t, size_t n);
/* Is the thread in the kernel at all (a stack, not a zombie)? */
bool task_stack_in_kernel(const struct task_stack *t);
/* How long a SIGKILLed task may stay in the kernel before the runner reports it: the
 * kernel's own hung-task timeout, at least 60 s (a stop under a loaded TCG guest takes
 * tens of seconds), at most 300 s; 0 (the detector off): 120 s. */
unsigned task_cant_die_bound(uint64_t hung_task_secs);
/* The report text (lines joined with '\n', no trailing newline); NULL on ENOMEM. */
char *task_cant_die_report(const struct task_stack *t, unsigned bound_secs, double killed_secs);
