// SPDX-License-Identifier: GPL-2.0
/* A night of the matrix: rounds of cells, one `kdrill run --json` per slot (matrix-run.h). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "compare.h"
#include "matrix-run.h"
#include "store.h"
#include "util.h"

volatile int mx_interrupted;

struct slot {
	unsigned attempts;
	bool done;
};

/* Spawn kdrill run for one slot; returns the verdict object (or NULL with *exit_code
 * set when the child gave none). */
static int spawn_run(const struct mx_plan *plan, const struct mx_cell *c,
		     const struct mx_run_opts *o, struct json_object **ret, int *exit_code)
{
	_cleanup_strv_ char **argv = NULL;
	_cleanup_free_ char *out = strdupf("%s/runs", o->store);
	_cleanup_free_ char *log = strdupf("%s/nights/%s/matrix.log", o->store, o->night);
	_cleanup_free_ char *spec = mx_cell_spec(c);
	_cleanup_free_ char *buf = NULL;
	char dur[32], boot[32];
	size_t len = 0, cap = 0;
	int pfd[2], status, r;
	pid_t pid;

	*ret = NULL;
	*exit_code = -1;
	if (!out || !log || !spec)
		return -ENOMEM;
	snprintf(dur, sizeof(dur), "%g", plan->duration);
	snprintf(boot, sizeof(boot), "%g", plan->boot_timeout);
	if (strv_extend(&argv, o->kdrill) < 0 || strv_extend(&argv, "run") < 0 ||
	    strv_extend(&argv, "--json") < 0 || strv_extend(&argv, "--quiet") < 0 ||
	    strv_extend(&argv, "--out") < 0 || strv_extend(&argv, out) < 0 ||
	    strv_extend(&argv, "--duration") < 0 || strv_extend(&argv, dur) < 0)
		return -ENOMEM;
	if (plan->host) {
		if (strv_extend(&argv, "--host") < 0 || strv_extend(&argv, "--scratch") < 0 ||
		    strv_extend(&argv, plan->scratch) < 0)
			return -ENOMEM;
	} else if (strv_extend(&argv, "--kernel") < 0 || strv_extend(&argv, c->kernel) < 0)
		return -ENOMEM;
	if (plan->boot_timeout > 0 &&
	    (strv_extend(&argv, "--boot-timeout") < 0 || strv_extend(&argv, boot) < 0))
		return -ENOMEM;
	STRV_FOREACH (q, c->params)
		if (strv_extend(&argv, "--param") < 0 || strv_extend(&argv, *q) < 0)
			return -ENOMEM;
	if (strv_extend(&argv, spec) < 0)
		return -ENOMEM;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	struct spawn_opts so = {.stdout_fd = pfd[1], .stderr_path = log, .pdeathsig = SIGTERM};
	pid = spawn_argv(argv, &so);
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return pid;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			size_t nc = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, nc);
			if (!nb) {
				r = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap = nc;
		}
		ssize_t k = read(pfd[0], buf + len, cap - len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	r = 0;
fail:
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	*exit_code = wait_status_to_exit(status);
	if (r < 0 || !buf)
		return r;
	buf[len] = 0;
	/* the last line that is a verdict */
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		struct json_object *v = json_tokener_parse(line);
		struct json_object *sch;
		if (v && json_object_object_get_ex(v, "schema", &sch) &&
		    !strcmp(json_object_get_string(sch), "kdrill-verdict/1")) {
			json_object_put(*ret);
			*ret = v;
		} else
			json_object_put(v);
	}
	return 0;
}

int mx_run_night(const struct mx_plan *plan, const struct mx_run_opts *o, struct mx_run_result *res,
		 char **err)
{
	_cleanup_free_ struct slot *slots = NULL;
	_cleanup_free_ char *shard = NULL;
	struct mx_night night = {0};
	uint64_t t0 = now_usec();
	char started[32], finished[32];
	int r;

	*err = NULL;
	*res = (struct mx_run_result){.state = "complete"};
	shard = o->shard_n > 1 ? strdupf("%u/%u", o->shard_i, o->shard_n) : strdup("all");
	slots = calloc(plan->n_cells * plan->runs, sizeof(*slots));
	if (!shard || !slots)
		return -ENOMEM;
	if ((r = mx_night_open(o->store, o->night, plan, shard, err)) < 0)
		return r;
	if ((r = mx_night_load(o->store, o->night, &night, err)) < 0)
		return r;
	if (night.n && !o->resume) {
		*err = strdupf("%s: night %s has %zu runs already (--resume to finish it, or "
			       "--night ID for another)",
			       o->store, o->night, night.n);
		mx_night_done(&night);
		return -EEXIST;
	}
	for (size_t i = 0; i < night.n; i++) {
		const struct mx_entry *e = &night.e[i];
		const struct mx_cell *c = mx_plan_cell(plan, e->cell);
		if (!c || e->round >= plan->runs)
			continue;
		struct slot *s = &slots[c->index * plan->runs + e->round];
		s->attempts++;
		if (!e->infra || s->attempts > plan->infra_retries)
			s->done = true;
	}
	mx_night_done(&night);

	for (size_t i = 0; i < plan->n_cells; i++) {
		if (!mx_cell_in_shard(&plan->cells[i], o->shard_i, o->shard_n))
			continue;
		res->planned += plan->runs;
		for (unsigned k = 0; k < plan->runs; k++)
			res->done += slots[i * plan->runs + k].done;
	}
	format_iso8601(now_realtime_usec(), started, sizeof(started));
	mx_night_set_state(o->store, o->night, shard, "running", started, NULL);

	double est = plan->duration * 2 + 30; /* until a run has been measured */
	for (unsigned round = 0; round < plan->runs && !mx_interrupted; round++)
		for (size_t i = 0; i < plan->n_cells && !mx_interrupted; i++) {
			const struct mx_cell *c = &plan->cells[i];
			struct slot *s = &slots[i * plan->runs + round];
			if (!mx_cell_in_shard(c, o->shard_i, o->shard_n))
				continue;
			while (!s->done && !mx_interrupted) {
				double elapsed = (double)(now_usec() - t0) / 1e6;
				if (plan->budget > 0 && elapsed + est > plan->budget) {
					res->state = "budget";
					goto stop;
				}
				struct json_object *v = NULL;
				int code;
				uint64_t r0 = now_usec();
				r = spawn_run(plan, c, o, &v, &code);
				double wall = (double)(now_usec() - r0) / 1e6;
				if (r < 0) {
					*err = strdupf("%s: cannot run kdrill: %s", o->kdrill,
						       strerror(-r));
					return r;
				}
				if (mx_interrupted) { /* the child saw the signal too: redo it */
					json_object_put(v);
					break;
				}
				if (!v && code == 2) {
					*err = strdupf(
					    "%s: kdrill run refused cell '%s' (usage error, "
					    "see %s/nights/%s/matrix.log)",
					    plan->path, c->key, o->store, o->night);
					return -EINVAL;
				}
				struct mx_entry e;
				if (v) {
					r = mx_entry_from_verdict(v, c->key, c->kernel, round,
								  s->attempts, shard, wall, &e);
					json_object_put(v);
				} else {
					/* no verdict at all: an INFRA line without a run directory
					 */
					char now[32];
					format_iso8601(now_realtime_usec(), now, sizeof(now));
					e = (struct mx_entry){
					    .cell = strdup(c->key),
					    .kernel = strdup(c->kernel),
					    .scenario = strdup(c->scenario),
					    .variant = c->variant ? strdup(c->variant) : NULL,
					    .round = round,
					    .attempt = s->attempts,
					    .run_id =
						strdupf("none-%s-%u-%u", now, c->index, round),
					    .dir = strdup(""),
					    .verdict = strdup("INFRA"),
					    .reason = strdupf(
						"kdrill run exited %d without a verdict", code),
					    .started = strdup(now),
					    .shard = strdup(shard),
					    .duration_s = wall,
					    .load_s = -1,
					    .wall_s = wall,
					    .infra = true,
					};
					r = e.cell && e.run_id && e.verdict && e.reason ? 0
											: -ENOMEM;
				}
				if (r < 0)
					return r;
				r = mx_journal_append(o->store, o->night, &e);
				if (r < 0) {
					*err = strdupf("%s/nights/%s/journal.jsonl: %s (--resume "
						       "redoes this run)",
						       o->store, o->night, strerror(-r));
					mx_entry_done(&e);
					return r;
				}
				res->ran++;
				res->run_wall_s += wall;
				res->run_dur_s += e.duration_s;
				res->fails += e.failure;
				res->infra += e.infra;
				est = est * 0.5 + wall * 0.5 + 1;
				s->attempts++;
				if (!e.infra || s->attempts > plan->infra_retries)
					s->done = true;
				if (o->progress)
					fprintf(o->progress, "%-7s %s  round %u%s  %s\n", e.verdict,
						c->key, round + 1,
						e.infra && !s->done ? " (INFRA, retrying)" : "",
						e.reason ? e.reason : "");
				mx_entry_done(&e);
			}
		}
stop:
	if (mx_interrupted)
		res->state = "interrupted";
	for (size_t i = 0; i < plan->n_cells; i++)
		if (mx_cell_in_shard(&plan->cells[i], o->shard_i, o->shard_n))
			for (unsigned k = 0; k < plan->runs; k++)
				res->left += !slots[i * plan->runs + k].done;
	if (!res->left)
		res->state = "complete";
	format_iso8601(now_realtime_usec(), finished, sizeof(finished));
	mx_night_set_state(o->store, o->night, shard, res->state, NULL, finished);
	res->wall_s = (double)(now_usec() - t0) / 1e6;
	return 0;
}
