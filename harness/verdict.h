/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Verdicts: reports + reproducer outcomes -> PASS BUG HANG WARN ANOMALY INFRA,
 * whether a report matched the scenario's signature, and the git-bisect-run exit
 * code (0 good, 1 bad, 125 cannot test).  Pure: no I/O.
 */
#ifndef KDRILL_VERDICT_H
#define KDRILL_VERDICT_H

#include <stdbool.h>

#include "detect.h"
#include "scenario.h"

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

#endif
