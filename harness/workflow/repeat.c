// SPDX-License-Identifier: GPL-2.0
/* The repeat engine (repeat.h): N runs of one cell through `kdrill run --json`. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "repeat.h"
#include "stats.h"
#include "util.h"

volatile int repeat_interrupted;

static void on_signal(int sig)
{
	repeat_interrupted = sig;
}

void repeat_install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: waitpid sees EINTR */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

const char *repeat_outcome_name(enum repeat_outcome o)
{
	static const char *const n[] = {"pass", "match", "other", "infra"};
	return o < _RO_MAX ? n[o] : "?";
}

const char *repeat_end_name(enum repeat_end e)
{
	static const char *const n[] = {"matches", "runs", "time", "infra"};
	return (unsigned)e < ELEMENTSOF(n) ? n[e] : "?";
}

void repeat_run_done(struct repeat_run *r)
{
	free(r->run_id);
	free(r->dir);
	free(r->verdict);
	free(r->reason);
	free(r->title);
	free(r->kernel_release);
	free(r->kernel_version);
	memset(r, 0, sizeof(*r));
}

static void counts_free(struct repeat_count *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].text);
		free(c[i].first_run);
	}
	free(c);
}

void repeat_tally_done(struct repeat_tally *t)
{
	for (size_t i = 0; i < t->n_run; i++)
		repeat_run_done(&t->run[i]);
	free(t->run);
	counts_free(t->others, t->n_others);
	counts_free(t->infra, t->n_infra);
	free(t->kernel_release);
	free(t->kernel_version);
	memset(t, 0, sizeof(*t));
}

static int count_add(struct repeat_count **c, size_t *n, const char *text, const char *run)
{
	struct repeat_count *nc;

	if (!text || !*text)
		text = "?";
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*c)[i].text, text)) {
			(*c)[i].count++;
			return 0;
		}
	nc = realloc(*c, (*n + 1) * sizeof(**c));
	if (!nc)
		return -ENOMEM;
	*c = nc;
	nc[*n] = (struct repeat_count){
	    .text = strdup(text), .count = 1, .first_run = run ? strdup(run) : NULL};
	if (!nc[*n].text)
		return -ENOMEM;
	(*n)++;
	return 0;
}

int repeat_tally_add(struct repeat_tally *t, struct repeat_run *r)
{
	struct repeat_run *nr = realloc(t->run, (t->n_run + 1) * sizeof(*nr));
	int ret = 0;

	if (!nr)
		return -ENOMEM;
	t->run = nr;
	if (r->outcome == RO_OTHER)
		ret =
		    count_add(&t->others, &t->n_others, r->title ? r->title : r->reason, r->run_id);
	else if (r->outcome == RO_INFRA)
		ret = count_add(&t->infra, &t->n_infra, r->reason, r->run_id);
	if (ret < 0)
		return ret;
	t->n[r->outcome]++;
	if (r->outcome == RO_INFRA)
		t->infra_streak++;
	else {
		t->runs++;
		t->infra_streak = 0;
	}
	t->wall += r->duration;
	if (!t->kernel_release && r->kernel_release) {
		t->kernel_release = strdup(r->kernel_release);
		t->kernel_version = r->kernel_version ? strdup(r->kernel_version) : NULL;
	}
	t->run[t->n_run++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

int repeat_tally_time_quantile(const struct repeat_tally *t, double q, double *ret)
{
	_cleanup_free_ struct stats_time *v = calloc(t->n_run + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_run; i++) {
		const struct repeat_run *r = &t->run[i];
		if (r->outcome == RO_INFRA)
			continue;
		if (r->outcome == RO_MATCH)
			v[n++] =
			    (struct stats_time){r->t_report >= 0 ? r->t_report : r->duration, true};
		else
			v[n++] = (struct stats_time){r->duration, false};
	}
	return stats_km_quantile(v, n, q, ret);
}

static struct json_object *counts_json(const struct repeat_count *c, size_t n, const char *key)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, key, json_object_new_string(c[i].text));
		json_object_object_add(o, "count", json_object_new_int((int)c[i].count));
		json_object_object_add(
		    o, "first_run", c[i].first_run ? json_object_new_string(c[i].first_run) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *secs(double d)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%.1f", d);
	return json_object_new_double_s(round(d * 10) / 10, buf);
}

struct json_object *repeat_tally_json(const struct repeat_tally *t)
{
	struct json_object *o = json_object_new_object(), *ids = json_object_new_array(),
			   *ttr = json_object_new_object();
	double q;
	unsigned censored = 0;

	json_object_object_add(o, "runs", json_object_new_int((int)t->runs));
	json_object_object_add(o, "matches", json_object_new_int((int)t->n[RO_MATCH]));
	json_object_object_add(o, "others", json_object_new_int((int)t->n[RO_OTHER]));
	json_object_object_add(o, "passes", json_object_new_int((int)t->n[RO_PASS]));
	json_object_object_add(o, "infra", json_object_new_int((int)t->n[RO_INFRA]));
	json_object_object_add(o, "other_reports", counts_json(t->others, t->n_others, "title"));
	json_object_object_add(o, "infra_reasons", counts_json(t->infra, t->n_infra, "reason"));
	for (size_t i = 0; i < t->n_run; i++) {
		const struct repeat_run *r = &t->run[i];
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "run_id",
				       r->run_id ? json_object_new_string(r->run_id) : NULL);
		json_object_object_add(x, "outcome",
				       json_object_new_string(repeat_outcome_name(r->outcome)));
		json_object_object_add(x, "verdict",
				       json_object_new_string(r->verdict ? r->verdict : "INFRA"));
		if (r->title)
			json_object_object_add(x, "title", json_object_new_string(r->title));
		if (r->outcome == RO_INFRA && r->reason)
			json_object_object_add(x, "reason", json_object_new_string(r->reason));
		json_object_object_add(x, "duration_s", secs(r->duration));
		json_object_object_add(x, "seed",
				       r->seed ? json_object_new_int64((int64_t)r->seed) : NULL);
		json_object_object_add(
		    x, "time_to_report_s",
		    r->outcome == RO_MATCH && r->t_report >= 0 ? secs(r->t_report) : NULL);
		if (r->outcome == RO_MATCH && r->t_estimated) /* the run's length: an upper bound */
			json_object_object_add(x, "time_to_report_upper_bound",
					       json_object_new_boolean(true));
		json_object_array_add(ids, x);
		censored += r->outcome == RO_PASS || r->outcome == RO_OTHER;
	}
	json_object_object_add(o, "run", ids);
	json_object_object_add(ttr, "median",
			       repeat_tally_time_quantile(t, 0.5, &q) == 0 ? secs(q) : NULL);
	json_object_object_add(ttr, "p90",
			       repeat_tally_time_quantile(t, 0.9, &q) == 0 ? secs(q) : NULL);
	json_object_object_add(ttr, "censored", json_object_new_int((int)censored));
	json_object_object_add(o, "time_to_report_s", ttr);
	json_object_object_add(o, "wall_s", secs(t->wall));
	return o;
}

/* ---- one run ------------------------------------------------------------------------ */

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The last non-empty line of a file (the child's closing error message). */
static char *last_line(const char *path)
{
	_cleanup_free_ char *s = NULL;
	char *e, *b;

	if (read_full_file(path, &s, NULL) < 0 || !s)
		return NULL;
	e = s + strlen(s);
	while (e > s && (e[-1] == '\n' || e[-1] == ' '))
		*--e = 0;
	b = strrchr(s, '\n');
	b = b ? b + 1 : s;
	if (startswith(b, "kdrill run: "))
		b += strlen("kdrill run: ");
	return *b ? strdup(b) : NULL;
}

/* Fill *r from a verdict.json object. */
static int from_verdict(struct json_object *v, struct repeat_run *r)
{
	struct json_object *x, *k;
	bool match = json_object_object_get_ex(v, "match", &x) && json_object_get_boolean(x);
	const char *verdict = jstr(v, "verdict");

	r->run_id = dup_or_null(jstr(v, "run_id"));
	r->dir = dup_or_null(jstr(v, "dir"));
	r->verdict = dup_or_null(verdict ? verdict : "INFRA");
	r->reason = dup_or_null(jstr(v, "reason"));
	r->duration =
	    json_object_object_get_ex(v, "duration_s", &x) ? json_object_get_double(x) : 0;
	if (json_object_object_get_ex(v, "seed", &x))
		r->seed = (uint64_t)json_object_get_int64(x);
	if (json_object_object_get_ex(v, "kernel", &k)) {
		r->kernel_release = dup_or_null(jstr(k, "release"));
		r->kernel_version = dup_or_null(jstr(k, "version"));
	}
	if (!verdict || !strcmp(verdict, "INFRA"))
		r->outcome = RO_INFRA;
	else if (match)
		r->outcome = RO_MATCH;
	else if (!strcmp(verdict, "PASS"))
		r->outcome = RO_PASS;
	else
		r->outcome = RO_OTHER;
	/* the deciding report: the first failure that matches (match) or not (other) */
	if ((r->outcome == RO_MATCH || r->outcome == RO_OTHER) &&
	    json_object_object_get_ex(v, "reports", &x) && json_object_is_type(x, json_type_array))
		for (size_t i = 0; i < json_object_array_length(x) && !r->title; i++) {
			struct json_object *rep = json_object_array_get_idx(x, i), *sm;
			bool m = json_object_object_get_ex(rep, "signature_match", &sm) &&
				 json_object_get_boolean(sm);
			const char *role = jstr(rep, "role");
			if (role && !strcmp(role, "failure") && m == (r->outcome == RO_MATCH))
				r->title = dup_or_null(jstr(rep, "title"));
		}
	if (r->outcome == RO_OTHER && !r->title) /* an ANOMALY has no report */
		r->title = dup_or_null(r->reason);
	r->t_report = -1;
	if (r->outcome == RO_MATCH) {
		if (json_object_object_get_ex(v, "time_to_report_s", &x) &&
		    !json_object_is_type(x, json_type_null))
			r->t_report = json_object_get_double(x);
		else { /* e.g. a panic seen on the console only: an upper bound */
			r->t_report = r->duration;
			r->t_estimated = true;
		}
	}
	return r->verdict ? 0 : -ENOMEM;
}

int repeat_once(const struct repeat_cell *c, struct repeat_run *ret, char **err)
{
	static unsigned seq;
	_cleanup_strv_ char **argv = NULL;
	_cleanup_free_ char *out = NULL, *errp = NULL, *stdout_s = NULL, *self = NULL;
	char dur[32];
	struct spawn_opts so = {0};
	uint64_t t0 = now_usec();
	pid_t pid;
	int status = 0, r;
	bool forwarded = false;
	struct json_object *verdict = NULL;

	memset(ret, 0, sizeof(*ret));
	ret->t_report = -1;
	/* the running binary itself: exec'ing /proc/self/exe in the forked child reaches it
	 * even when bin/kdrill was rebuilt (replaced) since the workflow started */
	if (!c->exe && !(self = strdup("/proc/self/exe")))
		return -ENOMEM;
	seq++;
	out = strdupf("%s/child-%u-%u.stdout", c->work_dir, (unsigned)getpid(), seq);
	errp = strdupf("%s/child-%u-%u.stderr", c->work_dir, (unsigned)getpid(), seq);
	if (!out || !errp)
		return -ENOMEM;
	unlink(out);
	unlink(errp);
	if (strv_extend(&argv, c->exe ? c->exe : self) < 0 || strv_extend(&argv, "run") < 0 ||
	    (c->kernel &&
	     (strv_extend(&argv, "--kernel") < 0 || strv_extend(&argv, c->kernel) < 0)) ||
	    strv_extend(&argv, "--out") < 0 || strv_extend(&argv, c->out_dir) < 0 ||
	    strv_extend(&argv, "--json") < 0 || strv_extend(&argv, "--quiet") < 0)
		return -ENOMEM;
	if (c->duration > 0) {
		snprintf(dur, sizeof(dur), "%g", c->duration);
		if (strv_extend(&argv, "--duration") < 0 || strv_extend(&argv, dur) < 0)
			return -ENOMEM;
	}
	STRV_FOREACH (p, (char **)c->params)
		if (strv_extend(&argv, "--param") < 0 || strv_extend(&argv, *p) < 0)
			return -ENOMEM;
	STRV_FOREACH (p, (char **)c->extra_args)
		if (strv_extend(&argv, *p) < 0)
			return -ENOMEM;
	if (strv_extend(&argv, "--") < 0 || strv_extend(&argv, c->scenario) < 0)
		return -ENOMEM;

	so.stdout_path = out;
	so.stderr_path = errp;
	so.pdeathsig = SIGTERM; /* a killed workflow does not leave its run (and VM) behind */
	pid = spawn_argv(argv, &so);
	if (pid < 0)
		return (int)pid;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
		if (repeat_interrupted && !forwarded) { /* the run stops, writes its INFRA */
			kill(pid, SIGTERM);
			forwarded = true;
		}
	}
	r = wait_status_to_exit(status);
	ret->exit_code = r;
	if (read_full_file(out, &stdout_s, NULL) >= 0 && stdout_s) {
		/* the last JSON object line is the verdict */
		char *save = NULL;
		for (char *l = strtok_r(stdout_s, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			struct json_object *j = json_tokener_parse(l);
			if (j && json_object_is_type(j, json_type_object) && jstr(j, "verdict")) {
				json_object_put(verdict);
				verdict = j;
			} else
				json_object_put(j);
		}
	}
	unlink(out);
	if (r == 2 && !verdict) {
		*err = last_line(errp);
		unlink(errp);
		return -EINVAL;
	}
	if (verdict) {
		int k = from_verdict(verdict, ret);
		json_object_put(verdict);
		if (k < 0)
			return k;
	} else {
		ret->outcome = RO_INFRA;
		ret->verdict = strdup("INFRA");
		ret->reason = last_line(errp);
		if (!ret->reason)
			ret->reason = r >= 128
					  ? strdupf("kdrill run killed by signal %d", r - 128)
					  : strdupf("kdrill run exited %d without a verdict", r);
		ret->duration = (double)(now_usec() - t0) / 1e6;
	}
	if (ret->outcome != RO_INFRA || ret->run_id)
		unlink(errp); /* an INFRA without a run directory keeps the child's stderr */
	if (repeat_interrupted ||
	    (ret->reason && !strncmp(ret->reason, "interrupted", 11) && ret->outcome == RO_INFRA))
		return -EINTR;
	return 0;
}

int repeat_cell(const struct repeat_cell *c, const struct repeat_limits *l, struct repeat_tally *t,
		repeat_progress_fn progress, void *userdata, char **err)
{
	uint64_t t0 = now_usec();
	unsigned runs0 = t->runs, matches0 = t->n[RO_MATCH];

	for (;;) {
		struct repeat_run r;
		int k;

		if (l->stop_matches && t->n[RO_MATCH] - matches0 >= l->stop_matches)
			return RE_MATCHES;
		if (l->max_runs && t->runs - runs0 >= l->max_runs)
			return RE_RUNS;
		if (l->max_time > 0 && (double)(now_usec() - t0) / 1e6 >= l->max_time)
			return RE_TIME;
		if (t->infra_streak > l->infra_retries)
			return RE_INFRA;
		if (repeat_interrupted)
			return -EINTR;
		k = repeat_once(c, &r, err);
		if (k < 0 && k != -EINTR)
			return k;
		if (r.verdict && repeat_tally_add(t, &r) < 0) {
			repeat_run_done(&r);
			return -ENOMEM;
		}
		repeat_run_done(&r);
		if (progress)
			progress(c, t, t->n_run ? &t->run[t->n_run - 1] : NULL, userdata);
		if (k == -EINTR)
			return -EINTR;
	}
}
