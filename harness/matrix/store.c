// SPDX-License-Identifier: GPL-2.0
/* The matrix results store: per-run directories + one journal per night (store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan.h"
#include "store.h"
#include "util.h"

struct json_object *mx_json_double(double v)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%.3f", v);
	char *e = buf + strlen(buf);
	while (e > buf && e[-1] == '0')
		*--e = 0;
	if (e > buf && e[-1] == '.')
		*--e = 0;
	return json_object_new_double_s(v, buf);
}

static char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static double jnum(struct json_object *o, const char *key, double def)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v))
		return def;
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return json_object_get_double(v);
	return def;
}

static bool jbool(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static bool verdict_is_failure(const char *v)
{
	return v && (!strcmp(v, "BUG") || !strcmp(v, "HANG") || !strcmp(v, "WARN") ||
		     !strcmp(v, "ANOMALY"));
}

void mx_entry_done(struct mx_entry *e)
{
	free(e->cell);
	free(e->kernel);
	free(e->scenario);
	free(e->variant);
	free(e->run_id);
	free(e->dir);
	free(e->verdict);
	free(e->title);
	free(e->signature);
	free(e->frame);
	free(e->reason);
	free(e->started);
	free(e->release);
	free(e->shard);
	*e = (struct mx_entry){0};
}

static void entry_classify(struct mx_entry *e)
{
	e->failure = verdict_is_failure(e->verdict);
	e->infra = !e->verdict || !strcmp(e->verdict, "INFRA");
}

int mx_entry_from_verdict(struct json_object *v, const char *cell, const char *kernel,
			  unsigned round, unsigned attempt, const char *shard, double wall_s,
			  struct mx_entry *ret)
{
	struct json_object *reports, *k, *counters = NULL;
	struct mx_entry e = {
	    .round = round, .attempt = attempt, .wall_s = wall_s, .load_s = -1, .t_report_s = -1};

	e.run_id = jstr(v, "run_id");
	e.verdict = jstr(v, "verdict");
	e.scenario = jstr(v, "scenario");
	if (!e.run_id || !e.verdict || !e.scenario) {
		mx_entry_done(&e);
		return -EBADMSG;
	}
	e.variant = jstr(v, "variant");
	e.reason = jstr(v, "reason");
	e.started = jstr(v, "started");
	e.match = jbool(v, "match");
	e.duration_s = jnum(v, "duration_s", 0);
	e.load_s = jnum(v, "load_started_s", -1);
	e.t_report_s = jnum(v, "time_to_report_s", -1);
	if (json_object_object_get_ex(v, "counters", &counters)) {
		e.ops = jnum(counters, "ops", 0);
		e.oom_kills = jnum(counters, "oom_kills", 0);
	}
	if (json_object_object_get_ex(v, "kernel", &k))
		e.release = jstr(k, "release");
	if (json_object_object_get_ex(v, "reports", &reports) &&
	    json_object_is_type(reports, json_type_array))
		for (size_t i = 0; i < json_object_array_length(reports); i++) {
			struct json_object *r = json_object_array_get_idx(reports, i);
			_cleanup_free_ char *role = jstr(r, "role");
			if (!role || strcmp(role, "failure"))
				continue;
			e.title = jstr(r, "title");
			e.signature = jstr(r, "signature");
			e.frame = jstr(r, "frame");
			break;
		}
	e.dir = strdupf("runs/%s", e.run_id);
	e.kernel = strdup(kernel ? kernel : e.release ? e.release : "unknown");
	e.shard = strdup(shard ? shard : "all");
	if (cell)
		e.cell = strdup(cell);
	else
		e.cell = e.variant ? strdupf("%s %s:%s", e.kernel, e.scenario, e.variant)
				   : strdupf("%s %s", e.kernel, e.scenario);
	if (!e.dir || !e.kernel || !e.shard || !e.cell) {
		mx_entry_done(&e);
		return -ENOMEM;
	}
	entry_classify(&e);
	*ret = e;
	return 0;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

struct json_object *mx_entry_to_json(const struct mx_entry *e)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	add_str(o, "schema", MX_JOURNAL_SCHEMA);
	add_str(o, "cell", e->cell);
	add_str(o, "kernel", e->kernel);
	add_str(o, "scenario", e->scenario);
	add_str(o, "variant", e->variant);
	json_object_object_add(o, "round", json_object_new_int((int)e->round));
	json_object_object_add(o, "attempt", json_object_new_int((int)e->attempt));
	add_str(o, "run_id", e->run_id);
	add_str(o, "dir", e->dir);
	add_str(o, "verdict", e->verdict);
	json_object_object_add(o, "match", json_object_new_boolean(e->match));
	add_str(o, "title", e->title);
	add_str(o, "signature", e->signature);
	add_str(o, "frame", e->frame);
	add_str(o, "reason", e->reason);
	add_str(o, "started", e->started);
	add_str(o, "release", e->release);
	add_str(o, "shard", e->shard);
	json_object_object_add(o, "duration_s", mx_json_double(e->duration_s));
	json_object_object_add(o, "load_started_s",
			       e->load_s >= 0 ? mx_json_double(e->load_s) : NULL);
	json_object_object_add(o, "ops", mx_json_double(e->ops));
	json_object_object_add(o, "oom_kills", mx_json_double(e->oom_kills));
	json_object_object_add(o, "time_to_report_s",
			       e->t_report_s >= 0 ? mx_json_double(e->t_report_s) : NULL);
	json_object_object_add(o, "wall_s", e->wall_s >= 0 ? mx_json_double(e->wall_s) : NULL);
	return o;
}

static int entry_from_json(struct json_object *o, struct mx_entry *ret)
{
	struct mx_entry e = {0};
	e.cell = jstr(o, "cell");
	e.kernel = jstr(o, "kernel");
	e.scenario = jstr(o, "scenario");
	e.variant = jstr(o, "variant");
	e.run_id = jstr(o, "run_id");
	e.dir = jstr(o, "dir");
	e.verdict = jstr(o, "verdict");
	e.title = jstr(o, "title");
	e.signature = jstr(o, "signature");
	e.frame = jstr(o, "frame");
	e.reason = jstr(o, "reason");
	e.started = jstr(o, "started");
	e.release = jstr(o, "release");
	e.shard = jstr(o, "shard");
	e.match = jbool(o, "match");
	e.round = (unsigned)jnum(o, "round", 0);
	e.attempt = (unsigned)jnum(o, "attempt", 0);
	e.duration_s = jnum(o, "duration_s", 0);
	e.load_s = jnum(o, "load_started_s", -1);
	e.ops = jnum(o, "ops", 0);
	e.oom_kills = jnum(o, "oom_kills", 0);
	e.wall_s = jnum(o, "wall_s", -1);
	e.t_report_s = jnum(o, "time_to_report_s", -1);
	if (!e.cell || !e.kernel || !e.scenario || !e.run_id || !e.dir || !e.verdict) {
		mx_entry_done(&e);
		return -EBADMSG;
	}
	if (!e.shard)
		e.shard = strdup("all");
	entry_classify(&e);
	*ret = e;
	return 0;
}

int mx_journal_append(const char *store, const char *night, const struct mx_entry *e)
{
	_cleanup_free_ char *path = strdupf("%s/nights/%s/journal.jsonl", store, night);
	struct json_object *o = mx_entry_to_json(e);
	int r;

	if (!path || !o) {
		json_object_put(o);
		return -ENOMEM;
	}
	/* one synced write; a symlink planted at the journal's name is refused */
	r = append_line_synced(path,
			       json_object_to_json_string_ext(
				   o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return r;
}

void mx_night_done(struct mx_night *n)
{
	free(n->id);
	free(n->dir);
	free(n->plan_name);
	free(n->plan_hash);
	json_object_put(n->meta);
	for (size_t i = 0; i < n->n; i++)
		mx_entry_done(&n->e[i]);
	free(n->e);
	*n = (struct mx_night){0};
}

int mx_night_load(const char *store, const char *id, struct mx_night *ret, char **err)
{
	struct mx_night n = {0};
	_cleanup_free_ char *meta_path = NULL, *jpath = NULL, *text = NULL;
	int r;

	n.id = strdup(id);
	n.dir = strdupf("%s/nights/%s", store, id);
	meta_path = strdupf("%s/nights/%s/night.json", store, id);
	jpath = strdupf("%s/nights/%s/journal.jsonl", store, id);
	if (!n.id || !n.dir || !meta_path || !jpath) {
		mx_night_done(&n);
		return -ENOMEM;
	}
	n.meta = json_object_from_file(meta_path);
	if (!n.meta) {
		*err = strdupf("%s: missing or not JSON", meta_path);
		mx_night_done(&n);
		return -EBADMSG;
	}
	n.plan_name = jstr(n.meta, "plan");
	n.plan_hash = jstr(n.meta, "plan_hash");
	r = read_regular_file(jpath, MX_JOURNAL_MAX, &text, NULL);
	if (r == -ENOENT)
		r = 0;
	else if (r < 0) {
		*err = strdupf("%s: %s", jpath, strerror(-r));
		mx_night_done(&n);
		return r;
	}
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (!next) { /* no newline: torn last write */
			n.torn++;
			break;
		}
		*next++ = 0;
		if (!*line)
			continue;
		struct json_object *o = json_tokener_parse(line);
		struct mx_entry e;
		if (!o || entry_from_json(o, &e) < 0) {
			json_object_put(o);
			n.torn++;
			continue;
		}
		json_object_put(o);
		struct mx_entry *ne = realloc(n.e, (n.n + 1) * sizeof(*ne));
		if (!ne) {
			mx_entry_done(&e);
			mx_night_done(&n);
			return -ENOMEM;
		}
		n.e = ne;
		n.e[n.n++] = e;
	}
	*ret = n;
	return 0;
}

void mx_store_free(struct mx_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		mx_night_done(&s->nights[i]);
	free(s->nights);
	free(s->path);
	free(s);
}

static int cmp_night(const void *a, const void *b)
{
	return strcmp(((const struct mx_night *)a)->id, ((const struct mx_night *)b)->id);
}

int mx_store_load(const char *path, struct mx_store **ret, char **err)
{
	_cleanup_free_ char *nd = strdupf("%s/nights", path);
	struct mx_store *s;
	DIR *d;
	struct dirent *de;
	int r = 0;

	*err = NULL;
	if (!nd)
		return -ENOMEM;
	d = opendir(nd);
	if (!d) {
		r = -errno;
		*err = strdupf("%s: not a matrix store (%s)", path, strerror(errno));
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		closedir(d);
		mx_store_free(s);
		return -ENOMEM;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		struct mx_night n;
		r = mx_night_load(path, de->d_name, &n, err);
		if (r < 0)
			break;
		struct mx_night *nn = realloc(s->nights, (s->n + 1) * sizeof(*nn));
		if (!nn) {
			mx_night_done(&n);
			r = -ENOMEM;
			break;
		}
		s->nights = nn;
		s->nights[s->n++] = n;
	}
	closedir(d);
	if (r < 0) {
		mx_store_free(s);
		return r;
	}
	if (s->n)
		qsort(s->nights, s->n, sizeof(*s->nights), cmp_night);
	*ret = s;
	return 0;
}

const struct mx_night *mx_store_night(const struct mx_store *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->nights[i].id, id))
			return &s->nights[i];
	return NULL;
}

static int write_json_atomic(const char *path, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_free_ char *t = strdupf("%s\n", s);
	if (!t)
		return -ENOMEM;
	return write_file_atomic(path, t, strlen(t), 0644);
}

static bool valid_night_id(const char *id)
{
	if (!*id || strlen(id) > 64 || id[0] == '.')
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
	       strlen(id);
}

int mx_night_open(const char *store, const char *id, const struct mx_plan *plan, const char *shard,
		  char **err)
{
	_cleanup_free_ char *dir = strdupf("%s/nights/%s", store, id);
	_cleanup_free_ char *meta = strdupf("%s/night.json", dir ? dir : "");
	_cleanup_free_ char *planf = strdupf("%s/plan.ini", dir ? dir : "");
	_cleanup_free_ char *runs = strdupf("%s/runs", store);
	struct json_object *o;
	int r;

	*err = NULL;
	if (!dir || !meta || !planf || !runs)
		return -ENOMEM;
	if (!valid_night_id(id)) {
		*err = strdupf("night '%s': letters, digits, '-', '_', '.' only", id);
		return -EINVAL;
	}
	o = json_object_from_file(meta);
	if (o) {
		_cleanup_free_ char *h = jstr(o, "plan_hash");
		json_object_put(o);
		if (!h || strcmp(h, plan->hash)) {
			*err = strdupf("%s: night %s ran another plan (hash %s, this plan %s)",
				       store, id, h ? h : "none", plan->hash);
			return -EBADR;
		}
		return 0;
	}
	if ((r = mkdir_p(dir, 0755)) < 0 || (r = mkdir_p(runs, 0755)) < 0) {
		*err = strdupf("%s: %s", dir, strerror(-r));
		return r;
	}
	if ((r = write_file_atomic(planf, plan->text, strlen(plan->text), 0644)) < 0) {
		*err = strdupf("%s: %s", planf, strerror(-r));
		return r;
	}
	char now[32];
	format_iso8601(now_realtime_usec(), now, sizeof(now));
	o = json_object_new_object();
	add_str(o, "schema", MX_NIGHT_SCHEMA);
	add_str(o, "night", id);
	add_str(o, "plan", plan->name);
	add_str(o, "plan_hash", plan->hash);
	add_str(o, "created", now);
	json_object_object_add(o, "shards", json_object_new_object());
	r = write_json_atomic(meta, o);
	json_object_put(o);
	if (r < 0)
		*err = strdupf("%s: %s", meta, strerror(-r));
	(void)shard;
	return r;
}

int mx_night_set_state(const char *store, const char *id, const char *shard, const char *state,
		       const char *started, const char *finished)
{
	_cleanup_free_ char *meta = strdupf("%s/nights/%s/night.json", store, id);
	struct json_object *o, *shards, *sh;
	int r;

	if (!meta)
		return -ENOMEM;
	o = json_object_from_file(meta);
	if (!o)
		return -EBADMSG;
	if (!json_object_object_get_ex(o, "shards", &shards)) {
		shards = json_object_new_object();
		json_object_object_add(o, "shards", shards);
	}
	if (!json_object_object_get_ex(shards, shard, &sh)) {
		sh = json_object_new_object();
		json_object_object_add(shards, shard, sh);
	}
	add_str(sh, "state", state);
	if (started)
		add_str(sh, "started", started);
	if (finished)
		add_str(sh, "finished", finished);
	r = write_json_atomic(meta, o);
	json_object_put(o);
	return r;
}

/* cp -a SRC DST (a directory tree; argv, no shell). */
static int copy_tree(const char *src, const char *dst)
{
	char *argv[] = {(char *)"cp", (char *)"-a", (char *)"--no-target-directory",
			(char *)src,  (char *)dst,  NULL};
	int r = run_argv(argv, NULL, 0);
	return r < 0 ? r : r == 0 ? 0 : -EIO;
}

int mx_store_ingest(const char *store, const char *night, const char *run_dir, const char *cell,
		    const char *kernel, unsigned round, unsigned attempt, const char *shard,
		    char **err)
{
	_cleanup_free_ char *vpath = strdupf("%s/verdict.json", run_dir);
	struct json_object *v;
	struct mx_entry e;
	struct stat st;
	int r;

	*err = NULL;
	if (!vpath)
		return -ENOMEM;
	v = json_object_from_file(vpath);
	if (!v) {
		*err = strdupf("%s: missing or not JSON", vpath);
		return -EBADMSG;
	}
	r = mx_entry_from_verdict(v, cell, kernel, round, attempt, shard, -1, &e);
	json_object_put(v);
	if (r < 0) {
		*err = strdupf("%s: not a kdrill verdict (run_id, scenario, verdict)", vpath);
		return r;
	}
	_cleanup_free_ char *dst = strdupf("%s/%s", store, e.dir);
	if (!dst) {
		mx_entry_done(&e);
		return -ENOMEM;
	}
	if (lstat(dst, &st) == 0) {
		*err = strdupf("%s: run %s is already in the store", dst, e.run_id);
		mx_entry_done(&e);
		return -EEXIST;
	}
	_cleanup_free_ char *runs = strdupf("%s/runs", store);
	if (!runs || (r = mkdir_p(runs, 0755)) < 0 || (r = copy_tree(run_dir, dst)) < 0)
		*err = strdupf("%s: ingest %s: %s", store, run_dir, strerror(r ? -r : ENOMEM));
	else if ((r = mx_journal_append(store, night, &e)) < 0) {
		*err = strdupf("%s: ingest %s: journal: %s", store, run_dir, strerror(-r));
		rm_rf(dst); /* not journaled: not in the store */
	}
	mx_entry_done(&e);
	return r;
}

static bool entry_same_slot(const struct mx_entry *a, const struct mx_entry *b)
{
	return a->round == b->round && a->attempt == b->attempt && !strcmp(a->cell, b->cell);
}

int mx_store_merge(const char *out, char *const *sources, size_t *ret_runs, char **err)
{
	size_t ns = strv_length(sources), runs = 0;
	struct mx_store **src = calloc(ns + 1, sizeof(*src));
	struct mx_store *dst = NULL;
	_cleanup_free_ char *derr = NULL;
	int r = 0;

	*err = NULL;
	if (!src)
		return -ENOMEM;
	for (size_t i = 0; i < ns && r >= 0; i++)
		r = mx_store_load(sources[i], &src[i], err);
	if (r < 0)
		goto out;
	if (mx_store_load(out, &dst, &derr) < 0)
		dst = NULL; /* a new store */

	/* check everything first: plans, duplicate slots, duplicate run ids */
	for (size_t i = 0; i < ns && r >= 0; i++)
		for (size_t ni = 0; ni < src[i]->n && r >= 0; ni++) {
			const struct mx_night *n = &src[i]->nights[ni];
			const struct mx_night *others[64];
			const char *onames[64];
			size_t no = 0;
			for (size_t j = 0; j < i && no < 64; j++) {
				const struct mx_night *m = mx_store_night(src[j], n->id);
				if (m) {
					onames[no] = sources[j];
					others[no++] = m;
				}
			}
			const struct mx_night *dn = dst ? mx_store_night(dst, n->id) : NULL;
			if (dn && no < 64) {
				onames[no] = out;
				others[no++] = dn;
			}
			for (size_t o = 0; o < no && r >= 0; o++) {
				const struct mx_night *m = others[o];
				if (!n->plan_hash || !m->plan_hash ||
				    strcmp(n->plan_hash, m->plan_hash)) {
					*err = strdupf(
					    "night %s: %s ran plan %s (hash %s), %s ran plan %s "
					    "(hash %s): not the same plan",
					    n->id, sources[i], n->plan_name ? n->plan_name : "?",
					    n->plan_hash ? n->plan_hash : "none", onames[o],
					    m->plan_name ? m->plan_name : "?",
					    m->plan_hash ? m->plan_hash : "none");
					r = -EBADR;
					break;
				}
				for (size_t a = 0; a < n->n && r >= 0; a++)
					for (size_t b = 0; b < m->n; b++)
						if (entry_same_slot(&n->e[a], &m->e[b]) ||
						    !strcmp(n->e[a].run_id, m->e[b].run_id)) {
							*err = strdupf("night %s: cell '%s' round "
								       "%u attempt %u is "
								       "in %s (run %s) and in %s "
								       "(run %s): duplicate",
								       n->id, n->e[a].cell,
								       n->e[a].round + 1,
								       n->e[a].attempt + 1,
								       sources[i], n->e[a].run_id,
								       onames[o], m->e[b].run_id);
							r = -EEXIST;
							break;
						}
			}
		}
	if (r < 0)
		goto out;

	for (size_t i = 0; i < ns && r >= 0; i++)
		for (size_t ni = 0; ni < src[i]->n && r >= 0; ni++) {
			const struct mx_night *n = &src[i]->nights[ni];
			_cleanup_free_ char *ndir = strdupf("%s/nights/%s", out, n->id);
			_cleanup_free_ char *meta = strdupf("%s/night.json", ndir ? ndir : "");
			_cleanup_free_ char *splan = strdupf("%s/plan.ini", n->dir);
			_cleanup_free_ char *dplan = strdupf("%s/plan.ini", ndir ? ndir : "");
			_cleanup_free_ char *runsd = strdupf("%s/runs", out);
			struct json_object *dm;
			if (!ndir || !meta || !splan || !dplan || !runsd) {
				r = -ENOMEM;
				break;
			}
			if ((r = mkdir_p(ndir, 0755)) < 0 || (r = mkdir_p(runsd, 0755)) < 0)
				break;
			dm = json_object_from_file(meta);
			if (!dm) {
				_cleanup_free_ char *text = NULL;
				if ((r = read_regular_file(splan, 1u << 20, &text, NULL)) < 0 ||
				    (r = write_file_atomic(dplan, text, strlen(text), 0644)) < 0)
					break;
				dm = NULL;
				if (json_object_deep_copy(n->meta, &dm, NULL) < 0) {
					r = -ENOMEM;
					break;
				}
				json_object_object_add(dm, "shards", json_object_new_object());
			}
			/* union of the shards' states */
			struct json_object *dsh, *ssh;
			if (!json_object_object_get_ex(dm, "shards", &dsh)) {
				dsh = json_object_new_object();
				json_object_object_add(dm, "shards", dsh);
			}
			if (json_object_object_get_ex(n->meta, "shards", &ssh)) {
				json_object_object_foreach (ssh, k, val)
					json_object_object_add(dsh, k, json_object_get(val));
			}
			r = write_json_atomic(meta, dm);
			json_object_put(dm);
			if (r < 0)
				break;
			for (size_t a = 0; a < n->n && r >= 0; a++) {
				_cleanup_free_ char *from =
				    strdupf("%s/%s", src[i]->path, n->e[a].dir);
				_cleanup_free_ char *to = strdupf("%s/%s", out, n->e[a].dir);
				struct stat st;
				if (!from || !to) {
					r = -ENOMEM;
					break;
				}
				if (lstat(from, &st) == 0 && lstat(to, &st) < 0 &&
				    (r = copy_tree(from, to)) < 0)
					break;
				r = mx_journal_append(out, n->id, &n->e[a]);
				runs++;
			}
		}
	if (r < 0 && !*err)
		*err = strdupf("%s: merge: %s", out, strerror(-r));
out:
	for (size_t i = 0; i < ns; i++)
		mx_store_free(src[i]);
	free(src);
	mx_store_free(dst);
	if (ret_runs)
		*ret_runs = runs;
	return r;
}

char *mx_relpath(const char *from_dir, const char *file)
{
	_cleanup_free_ char *a = realpath(from_dir, NULL);
	const char *slash = strrchr(file, '/');
	_cleanup_free_ char *dirpart =
	    slash ? strndup(file, slash == file ? 1 : (size_t)(slash - file)) : strdup(".");
	_cleanup_free_ char *bd = dirpart ? realpath(dirpart, NULL) : NULL;
	_cleanup_free_ char *b = NULL;
	size_t common = 0, ups = 0, la;
	char *out;

	if (!a || !bd) /* the file may not exist yet: its directory must */
		return strdup(file);
	b = strdupf("%s/%s", strcmp(bd, "/") ? bd : "", slash ? slash + 1 : file);
	if (!b)
		return NULL;
	if (!strcmp(a, "/"))
		a[0] = 0;
	la = strlen(a);
	/* longest common prefix ending at a component boundary */
	for (size_t i = 0; i <= la; i++) {
		if ((a[i] == '/' || a[i] == 0) && (b[i] == '/' || b[i] == 0) && !strncmp(a, b, i))
			common = i;
		if (a[i] != b[i])
			break;
	}
	for (size_t i = common; i < la; i++)
		if (a[i] == '/')
			ups++;
	out = malloc(ups * 3 + strlen(b + common) + 2);
	if (!out)
		return NULL;
	out[0] = 0;
	for (size_t i = 0; i < ups; i++)
		strcat(out, "../");
	strcat(out, b[common] == '/' ? b + common + 1 : b + common);
	return out;
}
