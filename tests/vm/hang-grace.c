// SPDX-License-Identifier: GPL-2.0
/*
 * The hang grace (harness/vm/hanggrace.c): when the watcher sends sysrq-w after a hang
 * report, for khungtaskd looking once per timeout (the default) and more often (a
 * scenario's [vm] hung_task_scan).  Times are seconds after the first report.
 */
#include <stdio.h>

#include "hanggrace.h"

#define USEC   1000000ULL
#define T0     (1000 * USEC)
#define QUIET  (1500 * 1000ULL)
#define SETTLE (20 * USEC)
#define AT(s)  (T0 + (uint64_t)((s)*1e6))

static const struct grace_case {
	const char *what;
	unsigned h, scan;
	double now, report, console; /* s after the first report */
	enum kd_grace want;
} cases[] = {
    /* one look per timeout (H = S = 20): the dump follows the next look, 20 s on */
    {"first look still printing", 20, 0, 5, 3, 4, KD_GRACE_WAIT},
    {"first look over, quiet", 20, 0, 14, 3, 3, KD_GRACE_WAIT},
    {"a long first look (10 s under TCG)", 20, 0, 13, 10, 10.5, KD_GRACE_WAIT},
    {"next look reporting", 20, 0, 21, 20.5, 20.8, KD_GRACE_WAIT},
    {"next look over, quiet", 20, 0, 22.5, 20.5, 20.9, KD_GRACE_RESCANNED},
    {"next look late (host lag)", 20, 0, 25, 19, 23, KD_GRACE_RESCANNED},
    /* 0 and an interval longer than the timeout both mean one look per timeout */
    {"S > H is H", 20, 45, 22.5, 20.5, 20.9, KD_GRACE_RESCANNED},
    /* the tasks woke: no further report */
    {"no report, before twice the spread", 20, 0, 39.9, 2, 2, KD_GRACE_WAIT},
    {"no report, twice the spread, quiet", 20, 0, 40, 2, 2, KD_GRACE_NO_REPORT},
    {"no report, console busy", 20, 0, 45, 2, 44.9, KD_GRACE_WAIT},
    {"no report, busy past the cap", 20, 0, 60, 2, 59.9, KD_GRACE_NO_REPORT},
    /* memcg-oom-jbd2: H = 120, a look every 10 s; spread 60 s */
    {"memcg: the look at 10 s", 120, 10, 12, 10, 10.4, KD_GRACE_WAIT},
    {"memcg: the look at 30 s", 120, 10, 32, 30, 30.4, KD_GRACE_WAIT},
    {"memcg: the look at 50 s", 120, 10, 52, 50, 50.4, KD_GRACE_WAIT},
    {"memcg: the look at 60 s", 120, 10, 62, 60, 60.4, KD_GRACE_RESCANNED},
    {"memcg: no report after 118 s", 120, 10, 118, 2, 2, KD_GRACE_WAIT},
    {"memcg: no report, 120 s", 120, 10, 120, 2, 2, KD_GRACE_NO_REPORT},
    /* a slowed kernel (H x3 = 60) keeps the scenario's S = 20: spread 30 s, the look at 40 */
    {"debug: the look at 20 s", 60, 20, 22, 20, 20.4, KD_GRACE_WAIT},
    {"debug: the look at 40 s", 60, 20, 42, 40, 40.4, KD_GRACE_RESCANNED},
    /* H/2 shorter than a look: at least one look */
    {"short H: spread is one look", 20, 20, 12, 10, 10, KD_GRACE_WAIT},
};

int main(void)
{
	const struct {
		unsigned h, asked, want;
	} scans[] = {{20, 0, 20}, {20, 10, 10}, {20, 30, 20}, {360, 10, 10}, {1, 0, 1}};
	int failed = 0;

	for (size_t i = 0; i < sizeof(scans) / sizeof(scans[0]); i++)
		if (kd_hung_scan_secs(scans[i].h, scans[i].asked) != scans[i].want) {
			printf("FAIL kd_hung_scan_secs(%u, %u) = %u, want %u\n", scans[i].h,
			       scans[i].asked, kd_hung_scan_secs(scans[i].h, scans[i].asked),
			       scans[i].want);
			failed++;
		}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct grace_case *t = &cases[i];
		struct kd_grace_clock c = {.start = T0,
					   .now = AT(t->now),
					   .last_report = AT(t->report),
					   .last_console = AT(t->console)};
		enum kd_grace got = kd_hang_grace(&c, t->h, t->scan, QUIET, SETTLE);

		if (got != t->want) {
			printf("FAIL %s: H=%u S=%u now=%.1f report=%.1f console=%.1f: got %d, "
			       "want %d\n",
			       t->what, t->h, t->scan, t->now, t->report, t->console, got, t->want);
			failed++;
		}
	}
	if (failed)
		return 1;
	printf("ok: hang grace, %zu cases\n", sizeof(cases) / sizeof(cases[0]));
	return 0;
}
