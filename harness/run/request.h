/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A run request: what the host asks the guest's runner to run (docs/agent-protocol.md,
 * {"cmd":"run","request":{...}}), typed on both ends.  The host fills it from the
 * scenario it resolved and the command line; the agent parses it back and runs it.
 */
#ifndef KDRILL_REQUEST_H
#define KDRILL_REQUEST_H

#include <stdint.h>

struct json_object;

struct run_request {
	char *scenario;	     /* NAME[:VARIANT] */
	char *scenario_text; /* the scenario file the host resolved, verbatim */
	char **params;	     /* "k=v" overrides (--param), NULL-terminated or NULL */
	double duration;     /* seconds; 0: the scenario's */
	uint64_t rand_seed;  /* base seed of the reproducers' PRNGs; 0: random */
	int stop_on;	     /* -1: the scenario's; else enum sc_stop_on */
	char *cgroup_backend; /* NULL: the guest's default (systemd) */
};

/* The request as a JSON object (NULL: out of memory). */
struct json_object *run_request_to_json(const struct run_request *rq);
/* Parse; errors name the member ("request: duration: not a number").  0 or -EINVAL. */
int run_request_from_json(struct json_object *o, struct run_request *rq, char **err);
void run_request_done(struct run_request *rq);

#endif
