// SPDX-License-Identifier: GPL-2.0
/* A night of the matrix: rounds of cells, one `kdrill run --json` per slot (matrix-run.h). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include "compare.h"
#include "matrix-run.h"
#include "repeat.h"
#include "store.h"
#include "util.h"

struct slot {
	unsigned attempts;
	bool done;
};

/* One run of a cell through the repeat engine (one `kdrill run --json` child).  Returns
 * the verdict object of the run directory (or NULL when the child wrote none: then *rr
 * says why), -EINVAL with *err for a usage error of the child, -EINTR when interrupted. */
static int run_slot(const struct mx_plan *plan, const struct mx_cell *c,
		    const struct mx_run_opts *o, struct repeat_run *rr, struct json_object **ret,
		    char **err)
{
	_cleanup_free_ char *out = strdupf("%s/runs", o->store);
	_cleanup_free_ char *work = strdupf("%s/nights/%s", o->store, o->night);
	_cleanup_free_ char *spec = mx_cell_spec(c);
	_cleanup_strv_ char **extra = NULL;
	char boot[32];
	int r;

	*ret = NULL;
	if (!out || !work || !spec)
		return -ENOMEM;
	if (plan->host &&
	    (strv_extend(&extra, "--host") < 0 || strv_extend(&extra, "--scratch") < 0 ||
	     strv_extend(&extra, plan->scratch) < 0))
		return -ENOMEM;
	if (plan->boot_timeout > 0) {
		snprintf(boot, sizeof(boot), "%g", plan->boot_timeout);
		if (strv_extend(&extra, "--boot-timeout") < 0 || strv_extend(&extra, boot) < 0)
			return -ENOMEM;
	}
	struct repeat_cell rc = {
	    .kernel = plan->host ? NULL : c->kernel,
	    .scenario = spec,
	    .params = c->params,
	    .duration = plan->duration,
	    .out_dir = out,
	    .work_dir = work,
	    .extra_args = extra,
	    .exe = o->kdrill,
	};
	r = repeat_once(&rc, rr, err);
	if (r < 0)
		return r;
	if (rr->dir) {
		_cleanup_free_ char *vp = strdupf("%s/verdict.json", rr->dir);
		*ret = vp ? json_object_from_file(vp) : NULL;
	}
	return 0;
}

/* Bytes free to an unprivileged writer in the store, or UINT64_MAX when unknown. */
static uint64_t store_avail(const char *store)
{
	struct statvfs st;
	if (statvfs(store, &st) < 0)
		return UINT64_MAX;
	return (uint64_t)st.f_bavail * st.f_frsize;
}

/* A store too full for another run: the night stops, resumable, instead of spending a
 * cell's INFRA retries on a fault of the store. */
static bool store_full(const struct mx_run_opts *o, struct mx_run_result *res)
{
	uint64_t a = store_avail(o->store);
	if (!o->min_free || a >= o->min_free)
		return false;
	res->state = "store-full";
	res->store_free = a;
	return true;
}

/* The journal line of one run: from its verdict.json, or an INFRA line without a run
 * directory when the child wrote none. */
static int slot_entry(const struct mx_cell *c, struct json_object *v, const struct repeat_run *rr,
		      unsigned round, unsigned attempt, const char *shard, double wall,
		      struct mx_entry *e)
{
	char now[32];
	int r;

	if (v) {
		r = mx_entry_from_verdict(v, c->key, c->kernel, round, attempt, shard, wall, e);
		if (r >= 0 && e->failure && rr->t_report >= 0)
			e->t_report_s = rr->t_report;
		return r;
	}
	format_iso8601(now_realtime_usec(), now, sizeof(now));
	*e = (struct mx_entry){
	    .cell = strdup(c->key),
	    .kernel = strdup(c->kernel),
	    .scenario = strdup(c->scenario),
	    .variant = c->variant ? strdup(c->variant) : NULL,
	    .round = round,
	    .attempt = attempt,
	    .run_id = strdupf("none-%s-%u-%u-%u", now, c->index, round, attempt),
	    .dir = strdup(""),
	    .verdict = strdup("INFRA"),
	    .reason = strdup(rr->reason ? rr->reason : "kdrill run gave no verdict"),
	    .started = strdup(now),
	    .shard = strdup(shard),
	    .duration_s = wall,
	    .load_s = -1,
	    .t_report_s = -1,
	    .wall_s = wall,
	    .infra = true,
	};
	if (!e->cell || !e->kernel || !e->scenario || !e->run_id || !e->dir || !e->verdict ||
	    !e->reason || !e->started || !e->shard || (c->variant && !e->variant)) {
		mx_entry_done(e);
		return -ENOMEM;
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
	for (unsigned round = 0; round < plan->runs && !repeat_interrupted; round++)
		for (size_t i = 0; i < plan->n_cells && !repeat_interrupted; i++) {
			const struct mx_cell *c = &plan->cells[i];
			struct slot *s = &slots[i * plan->runs + round];
			if (!mx_cell_in_shard(c, o->shard_i, o->shard_n))
				continue;
			while (!s->done && !repeat_interrupted) {
				double elapsed = (double)(now_usec() - t0) / 1e6;
				if (plan->budget > 0 && elapsed + est > plan->budget) {
					res->state = "budget";
					goto stop;
				}
				if (store_full(o, res))
					goto stop;
				struct json_object *v = NULL;
				struct repeat_run rr;
				_cleanup_free_ char *rerr = NULL;
				uint64_t r0 = now_usec();
				r = run_slot(plan, c, o, &rr, &v, &rerr);
				double wall = (double)(now_usec() - r0) / 1e6;
				if (r == -EINTR || (r >= 0 && repeat_interrupted)) {
					/* the child saw the signal too: --resume redoes this run */
					json_object_put(v);
					if (r >= 0)
						repeat_run_done(&rr);
					break;
				}
				if (r == -EINVAL) {
					*err = strdupf("%s: kdrill run refused cell '%s': %s",
						       plan->path, c->key,
						       rerr ? rerr : "usage error");
					return r;
				}
				if (r < 0) {
					*err = strdupf("%s: cannot run kdrill: %s", o->kdrill,
						       strerror(-r));
					return r;
				}
				struct mx_entry e;
				r = slot_entry(c, v, &rr, round, s->attempts, shard, wall, &e);
				json_object_put(v);
				repeat_run_done(&rr);
				if (r < 0)
					return r;
				if (e.infra && store_full(o, res)) {
					/* the store's fault, not the cell's: not journaled, not an
					 * attempt; --resume runs the slot again */
					mx_entry_done(&e);
					goto stop;
				}
				r = mx_journal_append(o->store, o->night, &e);
				if (r == -ENOSPC || r == -EDQUOT) {
					mx_entry_done(&e);
					res->state = "store-full";
					res->store_free = store_avail(o->store);
					goto stop;
				}
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
	if (repeat_interrupted)
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
