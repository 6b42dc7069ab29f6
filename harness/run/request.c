// SPDX-License-Identifier: GPL-2.0
/* A run request, host -> guest.  See request.h. */
#include "request.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "util.h"

struct json_object *run_request_to_json(const struct run_request *rq)
{
	json_object *o = json_object_new_object(), *p = json_object_new_array();

	if (!o || !p) {
		json_object_put(o);
		json_object_put(p);
		return NULL;
	}
	for (char *const *s = rq->params; s && *s; s++)
		json_object_array_add(p, json_object_new_string(*s));
	json_object_object_add(o, "scenario", json_object_new_string(rq->scenario));
	json_object_object_add(o, "scenario_text", json_object_new_string(rq->scenario_text));
	json_object_object_add(o, "params", p);
	json_object_object_add(o, "duration", json_object_new_double(rq->duration));
	json_object_object_add(o, "rand_seed", json_object_new_uint64(rq->rand_seed));
	json_object_object_add(o, "stop_on",
			       rq->stop_on < 0 ? NULL
			       : json_object_new_string(rq->stop_on == SC_STOP_NEVER ? "never" : "first"));
	json_object_object_add(o, "cgroup_backend",
			       rq->cgroup_backend ? json_object_new_string(rq->cgroup_backend) : NULL);
	return o;
}

static json_object *member(json_object *o, const char *k, json_type t)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_is_type(v, t) ? v : (json_object *)-1;
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		set_error(err, __VA_ARGS__);                                                       \
		run_request_done(rq);                                                              \
		return -EINVAL;                                                                    \
	} while (0)

int run_request_from_json(json_object *o, struct run_request *rq, char **err)
{
	json_object *v;

	memset(rq, 0, sizeof(*rq));
	rq->stop_on = -1;
	if (!o || !json_object_is_type(o, json_type_object))
		BAD("request: not a JSON object");
	v = member(o, "scenario", json_type_string);
	if (!v || v == (json_object *)-1)
		BAD("request: scenario: missing or not a string");
	rq->scenario = strdup(json_object_get_string(v));
	v = member(o, "scenario_text", json_type_string);
	if (!v || v == (json_object *)-1)
		BAD("request: scenario_text: missing or not a string");
	rq->scenario_text = strdup(json_object_get_string(v));
	if ((v = member(o, "params", json_type_array)) == (json_object *)-1)
		BAD("request: params: not an array");
	for (size_t i = 0; v && i < json_object_array_length(v); i++) {
		json_object *s = json_object_array_get_idx(v, i);
		if (!json_object_is_type(s, json_type_string) || !strchr(json_object_get_string(s), '='))
			BAD("request: params[%zu]: not a \"NAME=VALUE\" string", i);
		if (strv_extend(&rq->params, json_object_get_string(s)) < 0)
			BAD("out of memory");
	}
	v = member(o, "duration", json_type_double);
	if (v == (json_object *)-1)
		v = member(o, "duration", json_type_int);
	if (v == (json_object *)-1 || (v && !(json_object_get_double(v) >= 0 &&
					      isfinite(json_object_get_double(v)))))
		BAD("request: duration: not a number of seconds >= 0");
	rq->duration = v ? json_object_get_double(v) : 0;
	if ((v = member(o, "rand_seed", json_type_int)) == (json_object *)-1)
		BAD("request: rand_seed: not an integer");
	rq->rand_seed = v ? json_object_get_uint64(v) : 0;
	if ((v = member(o, "stop_on", json_type_string)) == (json_object *)-1)
		BAD("request: stop_on: not a string");
	if (v) {
		const char *s = json_object_get_string(v);
		if (!strcmp(s, "first"))
			rq->stop_on = SC_STOP_FIRST;
		else if (!strcmp(s, "never"))
			rq->stop_on = SC_STOP_NEVER;
		else
			BAD("request: stop_on: '%s' (first or never)", s);
	}
	if ((v = member(o, "cgroup_backend", json_type_string)) == (json_object *)-1)
		BAD("request: cgroup_backend: not a string");
	rq->cgroup_backend = v ? strdup(json_object_get_string(v)) : NULL;
	if (!rq->scenario || !rq->scenario_text)
		BAD("out of memory");
	return 0;
}

void run_request_done(struct run_request *rq)
{
	free(rq->scenario);
	free(rq->scenario_text);
	strv_free(rq->params);
	free(rq->cgroup_backend);
	memset(rq, 0, sizeof(*rq));
	rq->stop_on = -1;
}
