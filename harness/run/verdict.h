/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Verdicts: reports + reproducer outcomes -> PASS BUG HANG WARN ANOMALY INFRA,
 * whether a report matched the scenario's signature, and the git-bisect-run exit
 * code (0 good, 1 bad, 125 cannot test).  Pure: no I/O.
 *
 * verdict_decide() is the one place a verdict and its reason are made: the host runner,
 * the VM run (console reports + the VM's end + the guest runner's outcome) and
 * `kdrill vm boot` fill a struct verdict_in and call it; verdict_json_outcome() writes
 * its answer into verdict.json.  docs/results.md has the table it implements.
 */
#ifndef KDRILL_VERDICT_H
#define KDRILL_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;

#include "detect.h"
#include "scenario.h"

/* Process exit codes, for every command (git bisect run's contract). */
enum {
	KD_EXIT_OK = 0,	    /* PASS / good */
	KD_EXIT_BAD = 1,    /* kernel bug or reproducer anomaly / bad */
	KD_EXIT_USAGE = 2,  /* bad command line or input file */
	KD_EXIT_INFRA = 125 /* cannot test: harness or environment failure (git bisect skip) */
};

enum verdict { V_PASS, V_ANOMALY, V_WARN, V_HANG, V_BUG, V_INFRA, _V_MAX };

/* How a report counts for a scenario. */
enum report_role {
	ROLE_INFO,    /* not a failure class (OOM kill, hung-task summary...) */
	ROLE_ALLOWED, /* a failure class, but on the scenario's allow list (expected noise) */
	ROLE_FAILURE, /* makes the run fail */
};

const char *verdict_name(enum verdict v);
int verdict_from_name(const char *s, enum verdict *ret);
int verdict_exit_code(enum verdict v); /* PASS 0, INFRA 125, else 1 */
/* BUG > HANG > WARN > ANOMALY > PASS; INFRA wins over PASS only (a kernel report found
 * before kdrill broke is still the more useful answer). */
enum verdict verdict_merge(enum verdict a, enum verdict b);

enum report_role report_role(const struct scenario *sc, const struct kd_report *r);
bool report_matches_signature(const struct scenario *sc, const struct kd_report *r);
/* Does this report count as the scenario's bug: a failure (or the hang summary) whose
 * title/class/frames match the signature.  ROLE is the report's role in this run. */
bool report_is_match(const struct scenario *sc, const struct kd_report *r, enum report_role role);
/* Verdict for one failure report: crash/memory-safety/fs-error -> BUG, hang -> HANG,
 * warning/lockdep -> WARN. */
enum verdict report_verdict(const struct kd_report *r);

/* How the run ended, as far as the verdict is concerned. */
enum run_end {
	RUN_END_DONE,  /* the run finished and its outcome is known (host runner; VM: the
			* guest's result came back) */
	RUN_END_PANIC, /* VM: the kernel panicked (crash report, GUEST_PANICKED) */
	RUN_END_HANG,  /* VM: the guest hung after it was ready (hang report, lost heartbeat) */
	RUN_END_LOST,  /* VM: no outcome: no boot, QEMU died, run timeout, interrupted, could
			* not start, powered off without a result */
};

struct verdict_in {
	const struct report_tally *reports; /* the kernel log's reports; NULL: none */
	enum run_end end;
	const char *end_reason; /* how the run ended, one line (VM); NULL: a default */
	bool boot_only;		/* kdrill vm boot: nothing runs, a clean end is a PASS */
	/* the run's own outcome (end == RUN_END_DONE) */
	const char *infra;    /* kdrill or the environment failed: why; NULL: it did not */
	unsigned anomalies;   /* instances that saw an anomaly (0 when excused, e.g. by a
			       * full scratch filesystem) */
	const char *anomaly;  /* the first of them */
	enum verdict other;   /* a verdict decided elsewhere and merged in (the guest's own
			       * kernel-report verdict), PASS: none */
	const char *other_reason;
	bool matched;	      /* a report matched the signature before (the runner's live
			       * count, the guest's) */
	/* the work done: no work is never a PASS */
	bool units_started;   /* at least one reproducer or load was started */
	unsigned repros;      /* reproducer instances in the scenario */
	unsigned repros_ran;  /* of which reached their main loop (progress record, ops > 0) */
	/* the PASS summary */
	double duration_s;
	uint64_t ops, oom_kills;
	unsigned restarts;
};

struct verdict_out {
	enum verdict verdict;
	int exit_code;
	bool match;
	char *reason; /* one line, owned */
};

/* Fills *out (0) or -ENOMEM.  Rules, in order:
 *  - a failure report in the kernel log decides BUG/HANG/WARN (worst wins, the
 *    signature's report first); reason: its title, "; root: ..." for a HANG;
 *  - else the VM's end: panic -> BUG, hang after ready -> HANG, lost -> INFRA
 *    (reason: end_reason);
 *  - the outcome merges in: anomalies -> ANOMALY, infra -> INFRA (INFRA replaces only
 *    PASS: a report found before kdrill broke is the better answer);
 *  - a PASS needs work: no unit started, or reproducers none of which reached its main
 *    loop -> INFRA saying so;
 *  - else PASS: "no kernel report in Ns: ops, OOM kills, restarts[; allowed: title]". */
int verdict_decide(const struct verdict_in *in, struct verdict_out *out);
void verdict_out_done(struct verdict_out *out);
/* verdict, match, reason, exit_code into verdict.json (the only writer of those keys) */
void verdict_json_outcome(struct json_object *v, const struct verdict_out *out);

/* verdict.json's identity keys: schema, run_id, scenario, variant, scenario_file,
 * seed_report, params (every parameter's final value). */
void verdict_json_head(struct json_object *v, const struct scenario *sc, const char *run_id);

/* All of a detector's reports for a scenario: each appended to `reports` as its JSON
 * object plus "role" and "signature_match", and what the verdict is made of. */
struct report_tally {
	struct json_object *reports;	    /* caller-made array (NULL: not built) */
	const struct kd_report *first_fail; /* the deciding failure: worst verdict, a
					     * signature match before a non-match */
	const struct kd_report *summary;    /* the (last) hung-task summary */
	const struct kd_report *first_allowed;
	unsigned n_allowed, n_oom; /* reports (n_oom: OOM kills), repeats counted */
	bool matched;		   /* a failure or the summary matched the signature */
	enum verdict verdict;	   /* merged over the failures; PASS when none */
};
/* role: how a report counts (NULL: report_role()); the runner overrides it when its
 * scratch filesystem filled up. */
typedef enum report_role (*report_role_fn)(const struct kd_report *r, void *userdata);
/* sc NULL (kdrill vm boot): every failure class fails, nothing matches a signature. */
void report_tally(struct report_tally *t, const struct scenario *sc, const struct kd_detector *det,
		  report_role_fn role, void *userdata);

#endif
