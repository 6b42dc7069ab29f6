/* SPDX-License-Identifier: GPL-2.0 */
/*
 * When to dump the blocked tasks after a hang report: pure timing, no VM.
 *
 * The guest's khungtaskd looks every S seconds (sysctl.kernel.hung_task_check_interval_secs;
 * the kernel's default, and kdrill's, is S = H, the hung-task timeout) and, with
 * hung_task_warnings=-1, reports every task still blocked for H seconds at each look.  The
 * first report names only the tasks that blocked first; the thread they wait on (the jbd2
 * commit thread behind a stalled writer) often blocks a little later.  So the watcher lets
 * the hang spread for half a timeout (at least one look) and sends sysrq-w in the gap
 * after the look that follows: once that look has reported and the console is quiet.  A
 * dump sent on a fixed timer lands on top of a look with the same period, and the two
 * interleave line by line (no caller ids on the console) and tasks' frames get mixed
 * (seen: the jbd2 thread "in entry_SYSCALL_64", the summary's root a writer).
 *
 * Without a further report (the tasks woke up, or the report was a soft lockup or RCU
 * stall), the dump goes once the console is quiet after twice the spread, and at the
 * latest `settle_max` after that.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* khungtaskd's interval for a hung-task timeout of `hung_secs` and an interval asked for
 * (0: the kernel's default, one timeout); never longer than the timeout */
unsigned kd_hung_scan_secs(unsigned hung_secs, unsigned asked_secs);

enum kd_grace {
	KD_GRACE_WAIT,	    /* keep waiting */
	KD_GRACE_RESCANNED, /* the look after the spread reported, console quiet: dump */
	KD_GRACE_NO_REPORT, /* no such look; quiet after twice the spread, or the cap */
};

struct kd_grace_clock { /* microseconds on one monotonic clock */
	uint64_t start; /* the first hang report */
	uint64_t now;
	uint64_t last_report; /* the last hang-class report, repeats included */
	uint64_t last_console;
};

enum kd_grace kd_hang_grace(const struct kd_grace_clock *c, unsigned hung_secs, unsigned scan_secs,
			    uint64_t quiet_usec, uint64_t settle_max_usec);
