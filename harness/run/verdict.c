// SPDX-License-Identifier: GPL-2.0
#include "verdict.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "util.h"

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
	if (!sc)
		return false;
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
	if (!sc)
		return ROLE_FAILURE;
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

bool report_is_match(const struct scenario *sc, const struct kd_report *r, enum report_role role)
{
	return (role == ROLE_FAILURE || r->cls == KD_CLASS_SUMMARY) &&
	       report_matches_signature(sc, r);
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
		bool m = report_is_match(sc, r, role);
		unsigned times = r->count ? (unsigned)r->count : 1;
		struct json_object *j = t->reports ? kd_report_to_json(r) : NULL;

		if (j) {
			json_object_object_add(j, "role", json_object_new_string(role_name(role)));
			json_object_object_add(j, "signature_match", json_object_new_boolean(m));
			json_object_array_add(t->reports, j);
		}
		t->matched |= m;
		/* kills: an OOM report with nothing to kill ("no killable processes") is not one */
		if (r->cls == KD_CLASS_OOM && r->victim)
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

static bool is_report_verdict(enum verdict v)
{
	return v == V_BUG || v == V_HANG || v == V_WARN;
}

int verdict_decide(const struct verdict_in *in, struct verdict_out *out)
{
	const struct report_tally none = {0}, *t = in->reports ? in->reports : &none;
	enum verdict v = t->verdict;
	const char *root = t->summary && t->summary->root ? t->summary->root : NULL;
	const char *infra = NULL, *end = in->end_reason;
	char *reason = NULL;

	memset(out, 0, sizeof(*out));
	if (t->first_fail && is_report_verdict(v)) {
		/* the kernel said it */
	} else if (in->end == RUN_END_PANIC) {
		v = V_BUG;
	} else if (in->end == RUN_END_HANG) {
		v = V_HANG;
	}
	if (in->end == RUN_END_LOST) {
		v = verdict_merge(v, V_INFRA);
		infra = end ? end : "the run did not finish";
	} else if (in->end == RUN_END_DONE && !in->boot_only) {
		if (in->other != V_PASS)
			v = verdict_merge(v, in->other);
		if (in->anomalies)
			v = verdict_merge(v, V_ANOMALY);
		if (in->infra) {
			v = verdict_merge(v, V_INFRA);
			infra = in->infra;
		} else if (v == V_PASS && !in->units_started) {
			v = V_INFRA;
			infra = "no work done: no reproducer or load was started";
		} else if (v == V_PASS && in->repros && !in->repros_ran) {
			v = V_INFRA;
			infra = in->repros > 1 ? "no work done: no reproducer reached its main loop "
						 "(no progress record, 0 ops)"
					       : "no work done: the reproducer did not reach its main "
						 "loop (no progress record, 0 ops)";
		}
	}

	if (is_report_verdict(v) && t->first_fail && report_verdict(t->first_fail) == v)
		reason = strdupf("%s%s%s", t->first_fail->title ? t->first_fail->title
								: kd_class_name(t->first_fail->cls),
				 v == V_HANG && root ? "; root: " : "", v == V_HANG && root ? root : "");
	else if (v == V_BUG && in->end == RUN_END_PANIC)
		reason = strdup(end ? end : "the kernel panicked");
	else if (v == V_HANG && in->end == RUN_END_HANG)
		reason = strdupf("%s%s%s", end ? end : "the guest hung", root ? "; root: " : "",
				 root ? root : "");
	else if (v == in->other && v != V_PASS && in->other_reason)
		reason = strdup(in->other_reason);
	else if (v == V_ANOMALY)
		reason = strdupf("reproducer anomaly: %s%s", in->anomaly ? in->anomaly : "?",
				 in->anomalies > 1 ? " and others" : "");
	else if (v == V_INFRA)
		reason = strdup(infra ? infra : "kdrill failure");
	else if (v == V_PASS && in->boot_only)
		reason = strdup(end ? end : "guest powered off");
	else if (v == V_PASS) {
		const struct kd_report *a = t->first_allowed;
		uint64_t oom = in->oom_kills > t->n_oom ? in->oom_kills : t->n_oom;
		reason = strdupf("no kernel report in %.0fs: %llu ops, %llu OOM kills, %u restarts%s%s%s",
				 in->duration_s, (unsigned long long)in->ops,
				 (unsigned long long)oom, in->restarts, a ? "; allowed: " : "",
				 a && a->title ? a->title : "",
				 !a			     ? ""
				 : t->n_allowed > (a->count ? a->count : 1) ? " (and more)"
				 : a->count > 1				     ? " (repeated)"
									     : "");
	} else /* a report verdict whose report is not in the tally: cannot happen */
		reason = strdup(verdict_name(v));
	if (!reason)
		return -ENOMEM;
	out->verdict = v;
	out->exit_code = verdict_exit_code(v);
	out->match = in->matched || t->matched;
	out->reason = reason;
	return 0;
}

void verdict_out_done(struct verdict_out *out)
{
	free(out->reason);
	memset(out, 0, sizeof(*out));
}

void verdict_json_outcome(struct json_object *v, const struct verdict_out *out)
{
	json_object_object_add(v, "verdict", json_object_new_string(verdict_name(out->verdict)));
	json_object_object_add(v, "match", json_object_new_boolean(out->match));
	json_object_object_add(v, "reason", json_object_new_string(out->reason ? out->reason : ""));
	json_object_object_add(v, "exit_code", json_object_new_int(out->exit_code));
}
