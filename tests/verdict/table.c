// SPDX-License-Identifier: GPL-2.0
/*
 * The verdict table (docs/results.md) as data: each row is recorded kernel consoles
 * (tests/detect/fixtures) fed to a real detector, tallied for a scenario, plus the run's
 * outcome, through verdict_decide(); the verdict, exit code, match and reason must be
 * the row's.  No root, no I/O beyond reading the fixtures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "scenario.h"
#include "util.h"
#include "verdict.h"

struct row {
	const char *name;
	const char *consoles[3];  /* fixture names (without .log), fed in order */
	const char *allow;	  /* --param allow=..., NULL: the default */
	const char *sig;	  /* --param sig=..., NULL: the default (kdtrig) */
	bool no_scenario;	  /* kdrill vm boot: no scenario */
	struct verdict_in in;	  /* .reports is filled in */
	enum verdict want;
	bool want_match;
	const char *want_reason;  /* exact, or a prefix when it ends with '*' */
};

/* a reproducer that ran: the usual outcome of a clean run */
#define RAN .units_started = true, .repros = 2, .repros_ran = 2, .duration_s = 10.2, .ops = 100
#define DONE .end = RUN_END_DONE

static const struct row rows[] = {
    /* one row per line of the verdict table */
    {"PASS: no report, reproducers clean", {"real-boot"}, .in = {DONE, RAN},
     .want = V_PASS, .want_reason = "no kernel report in 10s: 100 ops, 0 OOM kills, 0 restarts"},
    {"BUG: crash", {"crash-null-old"}, .in = {DONE, RAN}, .want = V_BUG,
     .want_reason = "BUG: unable to handle kernel NULL pointer dereference in nfs_unlock_request"},
    {"BUG: memory-safety", {"real-debug-kasan-uaf"}, .sig = "no-such", .in = {DONE, RAN},
     .want = V_BUG,
     .want_reason = "KASAN: use-after-free Read in kdtrig_kasan_uaf_path"},
    {"BUG: fs-error", {"fs-ext4-abort"}, .in = {DONE, RAN}, .want = V_BUG,
     .want_reason = "EXT4-fs error in ext4_journal_check_start"},
    {"HANG: hung task, with the summary's root", {"real-hung"}, .sig = "no-such", .in = {DONE, RAN},
     .want = V_HANG, .want_match = true, /* the summary matches the signature frame */
     .want_reason = "INFO: task hung in jbd2_log_wait_commit; root: jbd2/dm-0-8:105 in "
		    "jbd2_journal_commit_transaction"},
    {"HANG: soft lockup", {"hang-softlockup-old"}, .in = {DONE, RAN}, .want = V_HANG,
     .want_reason = "*"},
    {"WARN: warning", {"warn-generic-header"}, .in = {DONE, RAN}, .want = V_WARN,
     .want_reason = "WARNING in ext4_mb_new_blocks"},
    {"WARN: lockdep", {"real-debug-lockdep"}, .sig = "no-such", .in = {DONE, RAN},
     .want = V_WARN,
     .want_reason = "possible deadlock in kdtrig_lockdep_path"},
    {"ANOMALY: a reproducer exited 1", {"real-boot"},
     .in = {DONE, RAN, .anomalies = 1, .anomaly = "worker-0"}, .want = V_ANOMALY,
     .want_reason = "reproducer anomaly: worker-0"},
    {"ANOMALY: several", {NULL}, .in = {DONE, RAN, .anomalies = 3, .anomaly = "worker-1"},
     .want = V_ANOMALY, .want_reason = "reproducer anomaly: worker-1 and others"},
    {"INFRA: kdrill failed", {NULL}, .in = {DONE, RAN, .infra = "mkfs.ext4 /dev/loop3 failed"},
     .want = V_INFRA, .want_reason = "mkfs.ext4 /dev/loop3 failed"},
    {"INFRA: interrupted", {NULL}, .in = {DONE, RAN, .infra = "interrupted (SIGINT)"},
     .want = V_INFRA, .want_reason = "interrupted (SIGINT)"},
    {"INFRA: a full scratch excuses the anomalies it caused", {"fs-ext4-abort"}, .allow = "EXT4-fs|JBD2",
     .in = {DONE, RAN, .anomalies = 0, .infra = "the scratch directory /var/tmp/kd is full"},
     .want = V_INFRA, .want_reason = "the scratch directory /var/tmp/kd is full"},

    /* precedence: BUG > HANG > WARN > ANOMALY > PASS; INFRA replaces only PASS */
    {"BUG beats HANG", {"real-hung", "crash-null-old"}, .sig = "no-such", .in = {DONE, RAN},
     .want = V_BUG, .want_match = true, .want_reason = "BUG: unable to handle kernel NULL*"},
    {"HANG beats WARN", {"warn-generic-header", "hang-softlockup-old"}, .sig = "no-such",
     .in = {DONE, RAN}, .want = V_HANG, .want_reason = "*"},
    {"WARN beats ANOMALY", {"warn-generic-header"}, .in = {DONE, RAN, .anomalies = 1, .anomaly = "w-0"},
     .want = V_WARN, .want_reason = "WARNING in ext4_mb_new_blocks"},
    {"a report beats INFRA", {"crash-null-old"}, .in = {DONE, RAN, .infra = "interrupted (SIGINT)"},
     .want = V_BUG, .want_reason = "BUG: unable to handle kernel NULL*"},
    {"ANOMALY beats INFRA", {NULL}, .in = {DONE, RAN, .anomalies = 1, .anomaly = "w-0", .infra = "x"},
     .want = V_ANOMALY, .want_reason = "reproducer anomaly: w-0"},
    {"the signature's report decides among equals", {"crash-null-old", "real-bug"},
     .in = {DONE, RAN}, .want = V_BUG, .want_match = true, .want_reason = "kernel BUG in kdtrig_bug_path"},
    {"a BUG that is not the signature", {"real-bug"}, .sig = "no-such", .in = {DONE, RAN},
     .want = V_BUG, .want_match = false, .want_reason = "kernel BUG in kdtrig_bug_path"},
    {"the signature matches by title", {"real-warn"}, .in = {DONE, RAN}, .want = V_WARN,
     .want_match = true, .want_reason = "WARNING in kdtrig_warn_path"},

    /* information, not failure */
    {"allowed: listed in a PASS", {"real-warn"}, .allow = ".", .in = {DONE, RAN}, .want = V_PASS,
     .want_reason = "no kernel report in 10s: 100 ops, 0 OOM kills, 0 restarts; allowed: WARNING in "
		    "kdtrig_warn_path (and more)"},
    {"OOM kills are information, counted", {"oom-memcg-two-victims"}, .in = {DONE, RAN},
     .want = V_PASS, .want_reason = "no kernel report in 10s: 100 ops, 3 OOM kills, 0 restarts"},
    {"the runner's OOM count when higher", {"oom-memcg-two-victims"},
     .in = {DONE, RAN, .oom_kills = 9, .restarts = 4}, .want = V_PASS,
     .want_reason = "no kernel report in 10s: 100 ops, 9 OOM kills, 4 restarts"},

    /* no work is never a PASS */
    {"no work: nothing started", {"real-boot"}, .in = {DONE, .repros = 2},
     .want = V_INFRA, .want_reason = "no work done: no reproducer or load was started"},
    {"no work: no reproducer reached its main loop", {NULL},
     .in = {DONE, .units_started = true, .repros = 2, .repros_ran = 0}, .want = V_INFRA,
     .want_reason = "no work done: no reproducer reached its main loop (no progress record, 0 ops)"},
    {"no work: the one reproducer", {NULL},
     .in = {DONE, .units_started = true, .repros = 1, .repros_ran = 0}, .want = V_INFRA,
     .want_reason = "no work done: the reproducer did not reach its main loop*"},
    {"work: one of two reproducers ran", {NULL},
     .in = {DONE, .units_started = true, .repros = 2, .repros_ran = 1, .duration_s = 3}, .want = V_PASS,
     .want_reason = "no kernel report in 3s: 0 ops, 0 OOM kills, 0 restarts"},
    {"work: loads only, started", {NULL}, .in = {DONE, .units_started = true, .duration_s = 1},
     .want = V_PASS, .want_reason = "no kernel report in 1s: *"},
    {"no work, but the kernel reported", {"crash-null-old"}, .in = {DONE, .repros = 1},
     .want = V_BUG, .want_reason = "BUG: unable to handle kernel NULL*"},
    {"no work and a harness failure: the failure is the reason", {NULL},
     .in = {DONE, .repros = 1, .infra = "slice setup failed"}, .want = V_INFRA,
     .want_reason = "slice setup failed"},

    /* how a VM run ended */
    {"VM panic without a report", {"real-boot"},
     .in = {.end = RUN_END_PANIC, .end_reason = "guest panicked (GUEST_PANICKED)"}, .want = V_BUG,
     .want_reason = "guest panicked (GUEST_PANICKED)"},
    {"VM panic with the crash report", {"real-crash"}, .sig = "sysrq",
     .in = {.end = RUN_END_PANIC, .end_reason = "crash report"}, .want = V_BUG, .want_match = true,
     .want_reason = "kernel panic: sysrq triggered crash"},
    {"VM panic after a warning (panic_on_warn): the warning", {"real-warn"},
     .in = {.end = RUN_END_PANIC}, .want = V_WARN, .want_match = true,
     .want_reason = "WARNING in kdtrig_warn_path"},
    {"VM hang: lost heartbeat, no report", {"real-boot"},
     .in = {.end = RUN_END_HANG, .end_reason = "lost heartbeat: none for 50 s"}, .want = V_HANG,
     .want_reason = "lost heartbeat: none for 50 s"},
    {"VM lost: QEMU died", {"real-boot"},
     .in = {.end = RUN_END_LOST, .end_reason = "qemu-died: QEMU exited (status 137)"},
     .want = V_INFRA, .want_reason = "qemu-died: QEMU exited (status 137)"},
    {"VM lost after a report: the report", {"warn-generic-header"},
     .in = {.end = RUN_END_LOST, .end_reason = "timeout: x"}, .want = V_WARN,
     .want_reason = "WARNING in ext4_mb_new_blocks"},
    {"VM done: the guest's ANOMALY with a console WARN", {"warn-generic-header"},
     .in = {DONE, RAN, .anomalies = 1, .anomaly = "w-0"}, .want = V_WARN,
     .want_reason = "WARNING in ext4_mb_new_blocks"},
    {"VM done: a verdict decided in the guest merges in", {"real-boot"},
     .in = {DONE, RAN, .other = V_HANG, .other_reason = "guest hang"}, .want = V_HANG,
     .want_reason = "guest hang"},
    {"VM done: the guest matched", {NULL}, .in = {DONE, RAN, .matched = true}, .want = V_PASS,
     .want_match = true, .want_reason = "no kernel report*"},

    /* kdrill vm boot: no scenario, no work expected */
    {"boot: clean poweroff", {"real-boot"}, .no_scenario = true,
     .in = {DONE, .boot_only = true, .end_reason = "guest powered off"}, .want = V_PASS,
     .want_reason = "guest powered off"},
    {"boot: any failure class fails", {"real-warn"}, .no_scenario = true,
     .in = {DONE, .boot_only = true}, .want = V_WARN, .want_reason = "WARNING in kdtrig_warn_path"},
    {"boot: no boot", {NULL}, .no_scenario = true,
     .in = {.end = RUN_END_LOST, .boot_only = true, .end_reason = "no-boot: not ready in 300 s"},
     .want = V_INFRA, .want_reason = "no-boot: not ready in 300 s"},
};

static bool reason_ok(const char *want, const char *got)
{
	size_t n = strlen(want);
	if (n && want[n - 1] == '*')
		return !strncmp(want, got, n - 1);
	return !strcmp(want, got);
}

int verdict_table(const char *fixtures, const char *scenario_path);
int verdict_table(const char *fixtures, const char *scenario_path)
{
	int failed = 0;

	/* exit codes and the merge order, for every pair */
	for (int a = 0; a < _V_MAX; a++) {
		int want = a == V_PASS ? 0 : a == V_INFRA ? 125 : 1;
		if (verdict_exit_code((enum verdict)a) != want) {
			printf("FAIL exit code of %s\n", verdict_name((enum verdict)a));
			failed++;
		}
		for (int b = 0; b < _V_MAX; b++) {
			enum verdict m = verdict_merge((enum verdict)a, (enum verdict)b), w;
			if (a == V_INFRA)
				w = b == V_PASS ? V_INFRA : (enum verdict)b;
			else if (b == V_INFRA)
				w = a == V_PASS ? V_INFRA : (enum verdict)a;
			else
				w = a > b ? (enum verdict)a : (enum verdict)b;
			if (m != w || m != verdict_merge((enum verdict)b, (enum verdict)a)) {
				printf("FAIL merge %s %s = %s\n", verdict_name((enum verdict)a),
				       verdict_name((enum verdict)b), verdict_name(m));
				failed++;
			}
		}
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *row = &rows[i];
		_cleanup_strv_ char **params = NULL;
		_cleanup_free_ char *err = NULL, *sig = NULL, *allow = NULL;
		struct scenario *sc = NULL;
		struct kd_detector *det = NULL;
		struct report_tally t = {0};
		struct verdict_in in = row->in;
		struct verdict_out out;
		bool ok;

		if (row->sig && (!(sig = strdupf("sig=%s", row->sig)) || strv_extend(&params, sig) < 0))
			return 1;
		if (row->allow &&
		    (!(allow = strdupf("allow=%s", row->allow)) || strv_extend(&params, allow) < 0))
			return 1;
		if (!row->no_scenario && scenario_load(scenario_path, params, &sc, &err) < 0) {
			printf("FAIL %s: %s\n", row->name, err ? err : "scenario");
			return 1;
		}
		if (kd_detector_new(&det, NULL, NULL) < 0)
			return 1;
		for (int k = 0; k < 3 && row->consoles[k]; k++) {
			_cleanup_free_ char *p = strdupf("%s/%s.log", fixtures, row->consoles[k]);
			_cleanup_free_ char *text = NULL;
			size_t len = 0;
			if (!p || read_full_file(p, &text, &len) < 0) {
				printf("FAIL %s: cannot read %s\n", row->name, p ? p : "?");
				return 1;
			}
			kd_detector_feed(det, text, len);
			kd_detector_feed(det, "\n", 1);
		}
		kd_detector_finish(det);
		report_tally(&t, sc, det, NULL, NULL);
		in.reports = &t;
		if (verdict_decide(&in, &out) < 0)
			return 1;
		ok = out.verdict == row->want && out.exit_code == verdict_exit_code(row->want) &&
		     out.match == row->want_match && reason_ok(row->want_reason, out.reason);
		printf("%s %-60s %-7s exit %3d match %d  %s\n", ok ? "ok  " : "FAIL", row->name,
		       verdict_name(out.verdict), out.exit_code, out.match, out.reason);
		if (!ok) {
			printf("     want %s match %d reason '%s'\n", verdict_name(row->want),
			       row->want_match, row->want_reason);
			failed++;
		}
		verdict_out_done(&out);
		kd_detector_free(det);
		if (sc)
			scenario_free(sc);
	}
	printf("%zu rows, %d failed\n", sizeof(rows) / sizeof(rows[0]), failed);
	return failed ? 1 : 0;
}
