// SPDX-License-Identifier: GPL-2.0
/*
 * The host <-> guest plumbing without a guest: the JSON-lines reader (harness/common/jsonl.c)
 * fed in every chunking, with blank, non-JSON and over-long lines, and the run request
 * (harness/run/request.c) written and read back, and refused when malformed.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "request.h"
#include "scenario.h"
#include "util.h"

static int failed;
#define CHECK(c, ...)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failed++;                                                                  \
		}                                                                                  \
	} while (0)

struct seen {
	char got[512];
	int n, stop_after;
};

static int on_line(json_object *o, const char *line, void *userdata)
{
	struct seen *s = userdata;
	size_t l = strlen(s->got);
	snprintf(s->got + l, sizeof(s->got) - l, "%s|",
		 o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : line);
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 1 : 0;
}

static void jsonl_tests(void)
{
	const char *in = "{\"a\":1}\n\n  \r\nnot json\n{\"b\":[2,3]}\r\n{\"c\":";
	const char *want = "{\"a\":1}|not json|{\"b\":[2,3]}|";

	/* every split of the input into two chunks, and byte by byte */
	for (size_t cut = 0; cut <= strlen(in); cut++) {
		struct jsonl j = {0};
		struct seen s = {0};
		jsonl_feed(&j, in, cut, on_line, &s);
		jsonl_feed(&j, in + cut, strlen(in) - cut, on_line, &s);
		CHECK(!strcmp(s.got, want), "cut %zu: got '%s'", cut, s.got);
		CHECK(j.len == strlen("{\"c\":"), "cut %zu: partial line kept (%zu)", cut, j.len);
		jsonl_feed(&j, "1}\n", 3, on_line, &s);
		CHECK(strstr(s.got, "{\"c\":1}|") != NULL, "cut %zu: line completed later", cut);
		jsonl_clear(&j);
	}
	{
		struct jsonl j = {0};
		struct seen s = {0};
		for (const char *p = in; *p; p++)
			jsonl_feed(&j, p, 1, on_line, &s);
		CHECK(!strcmp(s.got, want), "byte by byte: got '%s'", s.got);
		jsonl_clear(&j);
	}
	{ /* an over-long line is dropped whole, in any chunking; the next one is kept */
		struct jsonl j = {.max = 16};
		struct seen s = {0};
		const char *l1 = "{\"x\":\"0123456789012345678901234567890\"}";
		jsonl_feed(&j, l1, 10, on_line, &s);
		jsonl_feed(&j, l1 + 10, strlen(l1) - 10, on_line, &s);
		jsonl_feed(&j, "\n{\"y\":1}\n", 9, on_line, &s);
		CHECK(!strcmp(s.got, "{\"y\":1}|"), "over-long: got '%s'", s.got);
		jsonl_feed(&j, "{\"z\":\"0123456789012345\"}\n{\"w\":2}\n", 33, on_line, &s);
		CHECK(!strcmp(s.got, "{\"y\":1}|{\"w\":2}|"), "over-long in one chunk: got '%s'", s.got);
		jsonl_clear(&j);
	}
	{ /* the callback stops delivery; the rest stays buffered */
		struct jsonl j = {0};
		struct seen s = {.stop_after = 1};
		int r = jsonl_feed(&j, "{\"a\":1}\n{\"b\":2}\n", 16, on_line, &s);
		CHECK(r == 1 && !strcmp(s.got, "{\"a\":1}|"), "stop: r %d got '%s'", r, s.got);
		s.stop_after = 0;
		jsonl_feed(&j, NULL, 0, on_line, &s);
		CHECK(!strcmp(s.got, "{\"a\":1}|{\"b\":2}|"), "resume: got '%s'", s.got);
		jsonl_clear(&j);
	}
}

static void request_tests(void)
{
	char *params[] = {(char *)"slices=3", (char *)"workers=4", NULL};
	struct run_request rq = {.scenario = (char *)"nfs-rotate:v3",
				 .scenario_text = (char *)"[scenario]\nname = x\n",
				 .params = params,
				 .duration = 12.5,
				 .rand_seed = 18446744073709551557ULL,
				 .stop_on = SC_STOP_FIRST,
				 .cgroup_backend = (char *)"v2"},
			   back;
	json_object *o = run_request_to_json(&rq);
	_cleanup_free_ char *err = NULL;
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	json_object *again = json_tokener_parse(text);

	CHECK(run_request_from_json(again, &back, &err) == 0, "round trip: %s", err);
	CHECK(back.scenario && !strcmp(back.scenario, rq.scenario), "scenario");
	CHECK(back.scenario_text && !strcmp(back.scenario_text, rq.scenario_text), "scenario_text");
	CHECK(strv_length(back.params) == 2 && !strcmp(back.params[1], "workers=4"), "params");
	CHECK(back.duration == 12.5, "duration %g", back.duration);
	CHECK(back.rand_seed == rq.rand_seed, "rand_seed %llu", (unsigned long long)back.rand_seed);
	CHECK(back.stop_on == SC_STOP_FIRST, "stop_on %d", back.stop_on);
	CHECK(back.cgroup_backend && !strcmp(back.cgroup_backend, "v2"), "cgroup_backend");
	run_request_done(&back);
	json_object_put(again);
	json_object_put(o);

	/* defaults: only the scenario */
	o = json_tokener_parse("{\"scenario\":\"a\",\"scenario_text\":\"t\",\"duration\":3}");
	CHECK(run_request_from_json(o, &back, &err) == 0, "minimal: %s", err);
	CHECK(back.stop_on == -1 && back.rand_seed == 0 && back.duration == 3 && !back.params &&
		  !back.cgroup_backend,
	      "minimal: defaults");
	run_request_done(&back);
	json_object_put(o);

	{
		static const struct {
			const char *json, *err;
		} bad[] = {
		    {"[]", "request: not a JSON object"},
		    {"{\"scenario_text\":\"t\"}", "request: scenario: missing or not a string"},
		    {"{\"scenario\":1,\"scenario_text\":\"t\"}", "request: scenario: missing or not a string"},
		    {"{\"scenario\":\"a\"}", "request: scenario_text: missing or not a string"},
		    {"{\"scenario\":\"a\",\"scenario_text\":\"t\",\"duration\":\"10\"}",
		     "request: duration: not a number of seconds >= 0"},
		    {"{\"scenario\":\"a\",\"scenario_text\":\"t\",\"duration\":-1}",
		     "request: duration: not a number of seconds >= 0"},
		    {"{\"scenario\":\"a\",\"scenario_text\":\"t\",\"params\":[\"x\"]}",
		     "request: params[0]: not a \"NAME=VALUE\" string"},
		    {"{\"scenario\":\"a\",\"scenario_text\":\"t\",\"params\":\"x=1\"}", "request: params: not an array"},
		    {"{\"scenario\":\"a\",\"scenario_text\":\"t\",\"stop_on\":\"last\"}",
		     "request: stop_on: 'last' (first or never)"},
		    {"{\"scenario\":\"a\",\"scenario_text\":\"t\",\"rand_seed\":\"7\"}",
		     "request: rand_seed: not an integer"},
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			_cleanup_free_ char *e = NULL;
			o = json_tokener_parse(bad[i].json);
			CHECK(run_request_from_json(o, &back, &e) == -EINVAL && e && !strcmp(e, bad[i].err),
			      "%s: error '%s', want '%s'", bad[i].json, e ? e : "(none)", bad[i].err);
			json_object_put(o);
		}
	}
}

int proto_tests(void);
int proto_tests(void)
{
	jsonl_tests();
	request_tests();
	printf("%s: jsonl + run request, %d failed\n", failed ? "FAIL" : "ok", failed);
	return failed ? 1 : 0;
}
