// SPDX-License-Identifier: GPL-2.0
#include "verdict.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "results.h"

static const char *const names[_V_MAX] = {
    [V_PASS] = "PASS", [V_ANOMALY] = "ANOMALY", [V_WARN] = "WARN",
    [V_HANG] = "HANG", [V_BUG] = "BUG",		[V_INFRA] = "INFRA",
};

const char *verdict_name(enum verdict v)
{
	return (unsigned)v < _V_MAX ? names[v] : "INFRA";
}

int verdict_from_name(const char *s, enum verdict *ret)
{
	for (int i = 0; i < _V_MAX; i++)
		if (!strcmp(names[i], s)) {
			*ret = (enum verdict)i;
			return 0;
		}
	return -EINVAL;
}

int verdict_exit_code(enum verdict v)
{
	switch (v) {
	case V_PASS:
		return KD_EXIT_OK;
	case V_INFRA:
		return KD_EXIT_INFRA;
	default:
		return KD_EXIT_BAD;
	}
}

enum verdict verdict_merge(enum verdict a, enum verdict b)
{
	if (a == V_INFRA)
		return b == V_PASS ? a : b;
	if (b == V_INFRA)
		return a == V_PASS ? b : a;
	return a > b ? a : b;
}

static bool match_any(const struct sc_pattern *p, size_t n, const char *s)
{
	if (!s)
		return false;
	for (size_t i = 0; i < n; i++)
		if (regexec(&p[i].re, s, 0, NULL, 0) == 0)
			return true;
	return false;
}

bool report_matches_signature(const struct scenario *sc, const struct kd_report *r)
{
	if ((unsigned)r->cls < 32 && (sc->signature_classes & (1u << r->cls)))
		return true;
	if (match_any(sc->signature, sc->n_signature, r->title))
		return true;
	if (sc->n_signature_frame) {
		if (match_any(sc->signature_frame, sc->n_signature_frame, r->frame))
			return true;
		for (char **f = r->stack; f && *f; f++)
			if (match_any(sc->signature_frame, sc->n_signature_frame, *f))
				return true;
		/* the hung-task summary names the chain in its text */
		if (match_any(sc->signature_frame, sc->n_signature_frame, r->summary_text))
			return true;
	}
	return false;
}

enum report_role report_role(const struct scenario *sc, const struct kd_report *r)
{
	if (!kd_class_is_failure(r->cls))
		return ROLE_INFO;
	if ((unsigned)r->cls < 32 && (sc->allow_classes & (1u << r->cls)))
		return ROLE_ALLOWED;
	if (match_any(sc->allow, sc->n_allow, r->title))
		return ROLE_ALLOWED;
	return ROLE_FAILURE;
}

enum verdict report_verdict(const struct kd_report *r)
{
	switch (r->cls) {
	case KD_CLASS_HANG:
		return V_HANG;
	case KD_CLASS_WARNING:
	case KD_CLASS_LOCKDEP:
		return V_WARN;
	default:
		return V_BUG;
	}
}

static const char *role_name(enum report_role r)
{
	return r == ROLE_FAILURE ? "failure" : r == ROLE_ALLOWED ? "allowed" : "info";
}

void report_tally(struct report_tally *t, const struct scenario *sc, const struct kd_detector *det,
		  report_role_fn rolefn, void *userdata)
{
	size_t n = det ? kd_detector_n_reports(det) : 0;

	t->verdict = V_PASS;
	for (size_t i = 0; i < n; i++) {
		const struct kd_report *r = kd_detector_report(det, i);
		enum report_role role = rolefn ? rolefn(r, userdata) : report_role(sc, r);
		bool m = (role == ROLE_FAILURE || r->cls == KD_CLASS_SUMMARY) &&
			 report_matches_signature(sc, r);
		unsigned times = r->count ? (unsigned)r->count : 1;
		struct json_object *j = t->reports ? kd_report_to_json(r) : NULL;

		if (j) {
			json_object_object_add(j, "role", json_object_new_string(role_name(role)));
			json_object_object_add(j, "signature_match", json_object_new_boolean(m));
			json_object_array_add(t->reports, j);
		}
		t->matched |= m;
		if (r->cls == KD_CLASS_OOM)
			t->n_oom += times;
		if (r->cls == KD_CLASS_SUMMARY)
			t->summary = r;
		if (role == ROLE_ALLOWED) {
			t->n_allowed += times;
			if (!t->first_allowed)
				t->first_allowed = r;
		}
		if (role == ROLE_FAILURE) {
			enum verdict rv = report_verdict(r);
			const struct kd_report *ff = t->first_fail;
			if (!ff || rv > report_verdict(ff) ||
			    (rv == report_verdict(ff) && m && !report_matches_signature(sc, ff)))
				t->first_fail = r;
			t->verdict = verdict_merge(t->verdict, rv);
		}
	}
}

void verdict_json_head(struct json_object *v, const struct scenario *sc, const char *run_id)
{
	struct json_object *params = json_object_new_object();

	for (size_t i = 0; params && i < sc->n_params; i++)
		json_object_object_add(params, sc->params[i].name,
				       json_object_new_string(sc->params[i].value));
	json_object_object_add(v, "schema", json_object_new_string(RESULTS_SCHEMA));
	json_object_object_add(v, "run_id", json_object_new_string(run_id));
	json_object_object_add(v, "scenario", json_object_new_string(sc->name));
	json_object_object_add(v, "variant",
			       sc->variant ? json_object_new_string(sc->variant) : NULL);
	json_object_object_add(v, "scenario_file", json_object_new_string(sc->path));
	json_object_object_add(v, "seed_report",
			       sc->seed ? json_object_new_string(sc->seed) : NULL);
	json_object_object_add(v, "params", params);
}
