/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Verdicts: reports + reproducer outcomes -> PASS BUG HANG WARN ANOMALY INFRA,
 * whether a report matched the scenario's signature, and the git-bisect-run exit
 * code (0 good, 1 bad, 125 cannot test).  Pure: no I/O.
 */
#ifndef KDRILL_VERDICT_H
#define KDRILL_VERDICT_H

#include <stdbool.h>

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
/* Verdict for one failure report: crash/memory-safety/fs-error -> BUG, hang -> HANG,
 * warning/lockdep -> WARN. */
enum verdict report_verdict(const struct kd_report *r);

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
	unsigned n_allowed, n_oom; /* reports, repeats counted */
	bool matched;		   /* a failure or the summary matched the signature */
	enum verdict verdict;	   /* merged over the failures; PASS when none */
};
/* role: how a report counts (NULL: report_role()); the runner overrides it when its
 * scratch filesystem filled up. */
typedef enum report_role (*report_role_fn)(const struct kd_report *r, void *userdata);
void report_tally(struct report_tally *t, const struct scenario *sc, const struct kd_detector *det,
		  report_role_fn role, void *userdata);

#endif
