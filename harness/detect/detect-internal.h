/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Detector internals shared by detect.c (streaming core), detect-rules.c (the
 * data tables) and detect-summary.c (hung-task summary).  Not a public API.
 */
#ifndef KDRILL_DETECT_INTERNAL_H
#define KDRILL_DETECT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect.h"

/* What a header line starts (see detect-rules.c). */
enum kd_kind {
	KK_NOISE,	    /* known noise: swallow the line and any stack dump after it */
	KK_NOISE_LINE,	    /* known noise: ignore just this line */
	KK_CUT_HERE,	    /* "------------[ cut here ]------------": marks a report start */
	KK_SEPARATOR,	    /* "=====...": KASAN/lockdep/UBSAN frame */
	KK_BANNER,	    /* "Linux version": a second one is an unexpected reboot */
	KK_REBOOT,	    /* "reboot: Restarting system" etc.: next banner is expected */
	KK_SYSRQ_W,	    /* "sysrq: Show Blocked State": collect blocked tasks */
	KK_BUG_AT,	    /* kernel BUG at file:line */
	KK_PF_NULL,	    /* NULL pointer dereference (old and new wording) */
	KK_PF,		    /* unable to handle page fault / paging request */
	KK_GPF,		    /* general protection fault */
	KK_TRAP,	    /* invalid opcode, divide error, double fault, stack guard: "what" */
	KK_OOPS,	    /* a bare "Oops:" line */
	KK_PANIC,	    /* Kernel panic - not syncing: MSG */
	KK_BUG_OTHER,	    /* any other "BUG: what" */
	KK_HUNG,	    /* INFO: task X:PID blocked for more than / blocked in I/O wait */
	KK_CANT_DIE,	    /* INFO: task X:PID can't die */
	KK_SOFTLOCKUP,	    /* BUG: soft lockup - CPU#N stuck for Ns! [comm:pid] */
	KK_HARDLOCKUP,	    /* Watchdog detected hard LOCKUP on cpu N */
	KK_RCU,		    /* RCU stall, every wording */
	KK_WQ_LOCKUP,	    /* BUG: workqueue lockup */
	KK_WARNING,	    /* WARNING: CPU: N PID: N at file:line func+off/size */
	KK_WARNING_OLD,	    /* WARNING: at file:line func+off/size() */
	KK_REFCOUNT,	    /* refcount_t: underflow; use-after-free. (followed by WARNING:) */
	KK_LOCKDEP,	    /* lockdep & friends: "what in frame", stack after "stack backtrace:" */
	KK_LOCKDEP_NOBT,    /* context bugs with the stack right after the header */
	KK_RCU_USAGE,	    /* suspicious RCU usage: title names the file */
	KK_SANITIZER,	    /* BUG: KASAN/KFENCE/KMSAN/KCSAN: kind in func */
	KK_UBSAN,	    /* UBSAN: kind in file:line */
	KK_OOM_INVOKED,	    /* comm invoked oom-killer: */
	KK_OOM_CONSTRAINT,  /* oom-kill:constraint=... */
	KK_OOM_KILLED,	    /* (Memory cgroup )?Out of memory: Killed process */
	KK_OOM_NOKILL,	    /* Out of memory and no killable processes... */
	KK_FS_EXT4_ERROR,   /* EXT4-fs error (device X): func:line: ... */
	KK_FS_LINE,	    /* one-line report with a fixed title (fs errors, OOM) */
	KK_PAGECACHE_INVAL, /* Page cache invalidation failure (+ File: line) */
	KK_FIXED,	    /* fixed title (the stem), frame from the stack but not in the title */
	KK_PREEMPTIBLE,	    /* BUG: using __this_cpu_read() in preemptible [N] code: comm/pid */
	KK_SLUB,	    /* BUG cache (Not tainted): reason (SLUB debug) */
};

/* How a report ends. */
enum kd_end {
	KE_STACK,      /* after its stack, at the first line that is not report body */
	KE_SEPARATOR,  /* at the closing "=====" line */
	KE_OOM,	       /* at "Killed process" */
	KE_LINE,       /* the header line is the whole report */
	KE_LINE2,      /* the header line and the next one */
	KE_HELD_LOCKS, /* after its "N locks held by" list (lockdep reports that print no stack) */
};

struct kd_rule {
	const char *prefix;   /* literal at the start of the cleaned text */
	const char *contains; /* NULL, or must also occur in the line */
	int cls;	      /* enum kd_class, or -1 for noise */
	enum kd_kind kind;
	enum kd_end end;
	const char *what; /* title stem ("kernel BUG", "INFO: task hung", ...) */
};

extern const struct kd_rule kd_rules[];
extern const size_t kd_n_rules;
/* Rules whose prefix may follow "comm " / "comm: " (first word is a task name). */
extern const struct kd_rule kd_comm_rules[];
extern const size_t kd_n_comm_rules;

/* Categories of generic frames (detect-rules.c); a report kind skips some of
 * them when it looks for the guilty frame (a lock primitive is plumbing in a
 * deadlock or hang report, but may be the bad access in a KASAN report). */
enum {
	KD_SKIP_SCHED = 1 << 0,	   /* scheduler, waiting, sleeping */
	KD_SKIP_LOCK = 1 << 1,	   /* locking primitives, lockdep entry points */
	KD_SKIP_PLUMBING = 1 << 2, /* workqueue/kthread/boot, syscall/irq/exception entry (all arches) */
	KD_SKIP_VFS = 1 << 3,	   /* generic VFS and block wrappers */
	KD_SKIP_MM = 1 << 4,	   /* allocators, copy_*_user, mem and str helpers, generic mm */
	KD_SKIP_REPORT = 1 << 5,   /* report machinery: printers, BUG/WARN, sanitizer/hardening hooks */
	KD_SKIP_ALL = (1 << 6) - 1,
	KD_SKIP_STALL = 1 << 6, /* stall detection: RCU, tick, hrtimer, NMI backtrace plumbing */
};
bool kd_frame_skip(const char *fn, unsigned cats);

/* Generic frames (scheduler, locking, workqueue/kthread, syscall entry, VFS/mm
 * wrappers, reporting plumbing).  Entries ending in '*' match as prefixes. */
bool kd_frame_is_generic(const char *fn);
/* Extra frames that are generic only for the hung-task summary grouping. */
bool kd_frame_is_wait_primitive(const char *fn);
/* A syscall handler's frame (__x64_sys_io_destroy). */
bool kd_frame_is_syscall(const char *fn);

/* Prefixes that keep a report alive after its stack (register dumps, markers). */
bool kd_line_is_body(const char *t, size_t n);

/* Hung-task dependency knowledge for the summary (detect-rules.c). */
struct kd_wait_rule {
	const char *frame;     /* innermost meaningful frame of a waiter */
	const char *waits_for; /* frame of the group it waits on */
	const char *role;      /* "fsync callers", "journal handle creators", ... */
};
extern const struct kd_wait_rule kd_wait_rules[];
extern const size_t kd_n_wait_rules;
struct kd_root_rule {
	const char *frame; /* a group in this frame is a root candidate */
	const char *role;  /* "jbd2 commit thread" */
	const char *why;   /* what it is itself waiting for */
};
extern const struct kd_root_rule kd_root_rules[];
extern const size_t kd_n_root_rules;

/* A blocked task seen in a hung-task report or a sysrq-w dump. */
struct kd_blocked {
	char *comm;
	uint64_t pid;
	char **stack; /* NULL-terminated */
	uint64_t line;
	bool from_report;
};

/* Build (or rebuild) the summary report from the blocked tasks.  Returns 0 if
 * there is nothing to summarise (< 2 tasks), 1 if *r was filled, <0 on ENOMEM.
 * Frees any previous content of *r's summary fields. */
int kd_summary_build(struct kd_report *r, struct kd_blocked *const *tasks, size_t n);

/* Shared little helpers (detect.c). */
char *kd_strndup(const char *s, size_t n);
void kd_report_clear(struct kd_report *r);

#endif
