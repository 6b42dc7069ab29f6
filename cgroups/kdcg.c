// SPDX-License-Identifier: GPL-2.0
/*
 * kdcg common part: backend selection, validation, object bookkeeping, the
 * cgroupfs supervisor (restart policy with systemd's semantics) and small
 * cgroupfs file readers shared by the backends.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>

#include "kdcg-internal.h"

static __thread char *open_error;

int kdcg_set_error(struct kdcg_ctx *ctx, int r, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (ctx) {
		free(ctx->error);
		ctx->error = m;
	} else {
		free(open_error);
		open_error = m;
	}
	return r < 0 ? r : -EIO;
}

const char *kdcg_last_error(const struct kdcg_ctx *ctx)
{
	const char *e = ctx ? ctx->error : open_error;
	return e ? e : "no error";
}

void kdcg_stats_init(struct kdcg_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->memory_psi_some_avg10 = st->io_psi_some_avg10 = -1;
	st->memory_psi_full_avg10 = st->cpu_psi_some_avg10 = -1;
}

/* A leftover's owner: see pid_owner_alive() (harness/common/util.c). */
bool kdcg_owner_alive(pid_t pid, uint64_t created_usec)
{
	return pid_owner_alive(pid, created_usec);
}

bool kdcg_past_deadline(const struct kdcg_ctx *ctx)
{
	return ctx->deadline && now_usec() > ctx->deadline;
}

pid_t kdcg_owner_of(const char *name)
{
	const char *p;
	char *end;
	long v;

	if (!startswith(name, "kdrill-"))
		return 0;
	p = name + strlen("kdrill-");
	if (!isdigit((unsigned char)*p))
		return 0;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || v <= 0 || v > INT32_MAX || (*end != '-' && *end != '.'))
		return 0;
	return (pid_t)v;
}

/* ---- small cgroupfs readers ---------------------------------------------- */

int kdcg_read_u64(const char *file, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r = read_one_line(file, &s);

	if (r < 0)
		return r;
	strstrip(s);
	if (!strcmp(s, "max")) {
		*ret = 0;
		return 0;
	}
	return parse_u64(s, ret);
}

int kdcg_read_keyed(const char *file, const char *key, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	size_t kl = strlen(key);
	int r = read_full_file(file, &s, NULL);

	if (r < 0)
		return r;
	for (char *line = s; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(line, key, kl) && line[kl] == ' ')
			return parse_u64(strstrip(line + kl + 1), ret);
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

void kdcg_read_psi(const char *file, double *some10, double *full10)
{
	_cleanup_free_ char *s = NULL;
	char *p;

	if (read_full_file(file, &s, NULL) < 0)
		return;
	if (some10 && (p = strstr(s, "some avg10=")))
		*some10 = strtod(p + strlen("some avg10="), NULL);
	if (full10 && (p = strstr(s, "full avg10=")))
		*full10 = strtod(p + strlen("full avg10="), NULL);
}

/* ---- context ------------------------------------------------------------- */

int kdcg_backend_from_string(const char *s, enum kdcg_backend *ret)
{
	static const struct {
		const char *n;
		enum kdcg_backend b;
	} t[] = {{"auto", KDCG_AUTO},  {"systemd", KDCG_SYSTEMD}, {"v2", KDCG_V2},
		 {"cgroup2", KDCG_V2}, {"v1", KDCG_V1},		  {"cgroup1", KDCG_V1}};

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(t); i++)
		if (!strcmp(s, t[i].n)) {
			*ret = t[i].b;
			return 0;
		}
	return -EINVAL;
}

const char *kdcg_backend_name(const struct kdcg_ctx *ctx)
{
	return ctx && ctx->ops ? ctx->ops->name : "none";
}

static void ctx_free(struct kdcg_ctx *ctx)
{
	if (!ctx)
		return;
	strv_free(ctx->hier_paths);
	strv_free(ctx->hier_ctrls);
	free(ctx->unified);
	free(ctx->cgroup_mount);
	sd_bus_slot_unref(ctx->match_slot);
	if (ctx->bus)
		sd_bus_flush_close_unref(ctx->bus);
	sd_event_unref(ctx->event);
	free(ctx->error);
	free(ctx);
}

static int try_open(struct kdcg_ctx *ctx, const struct kdcg_ops *ops)
{
	int r;

	ctx->ops = ops;
	r = ops->open(ctx);
	if (r < 0) {
		ops->close(ctx);
		ctx->ops = NULL;
	}
	return r;
}

int kdcg_open(struct kdcg_ctx **ret, enum kdcg_backend backend, sd_event *event)
{
	struct kdcg_ctx *ctx;
	sigset_t ss;
	int r;

	*ret = NULL;
	if (!event)
		return kdcg_set_error(NULL, -EINVAL, "kdcg_open: no sd-event loop given");
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->event = sd_event_ref(event);
	ctx->self = getpid();
	sigemptyset(&ss);
	sigaddset(&ss, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);

	switch (backend) {
	case KDCG_SYSTEMD:
		r = try_open(ctx, &kdcg_ops_systemd);
		break;
	case KDCG_V2:
		r = try_open(ctx, &kdcg_ops_v2);
		break;
	case KDCG_V1:
		r = try_open(ctx, &kdcg_ops_v1);
		break;
	case KDCG_AUTO: {
		_cleanup_free_ char *why = NULL;
		char *comm = NULL;
		bool sd = false;

		if (access("/run/systemd/system", F_OK) == 0 &&
		    read_one_line("/proc/1/comm", &comm) >= 0) {
			sd = !strcmp(strstrip(comm), "systemd");
			free(comm);
		}
		if (sd) {
			r = try_open(ctx, &kdcg_ops_systemd);
			if (r >= 0)
				break;
			why = strdupf("systemd: %s; ", kdcg_last_error(ctx));
		} else {
			why = strdup("systemd: PID 1 is not systemd; ");
		}
		ctx->auto_select = true;
		r = try_open(ctx, &kdcg_ops_v2);
		if (r >= 0)
			break;
		{
			char *w2 = strdupf("%sv2: %s; ", why ? why : "", kdcg_last_error(ctx));
			free(why);
			why = w2;
		}
		r = try_open(ctx, &kdcg_ops_v1);
		if (r < 0)
			kdcg_set_error(ctx, r, "no cgroup backend works here: %sv1: %s",
				       why ? why : "", kdcg_last_error(ctx));
		break;
	}
	default:
		r = kdcg_set_error(ctx, -EINVAL, "unknown backend %d", (int)backend);
	}
	if (r < 0) {
		kdcg_set_error(NULL, r, "%s", kdcg_last_error(ctx));
		ctx_free(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}

static void slice_free_tree(struct kdcg_slice *s);

void kdcg_close(struct kdcg_ctx *ctx)
{
	if (!ctx)
		return;
	while (ctx->slices)
		kdcg_slice_destroy(ctx->slices); /* also pending async destroys (no callback) */
	if (ctx->ops)
		ctx->ops->close(ctx);
	ctx_free(ctx);
}

int kdcg_list(struct kdcg_ctx *ctx, struct kdcg_leftover **ret, size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	return ctx->ops->list(ctx, ret, ret_n);
}

void kdcg_leftovers_free(struct kdcg_leftover *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		free(l[i].path);
	free(l);
}

int kdcg_reap_leftovers(struct kdcg_ctx *ctx)
{
	struct kdcg_leftover *l = NULL;
	size_t n = 0;
	int r, reaped = 0, err = 0;

	r = kdcg_list(ctx, &l, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (l[i].owner_alive || l[i].owner == ctx->self)
			continue;
		/* Re-check right before removal: never reap a live owner's cgroups. */
		if (kdcg_owner_alive(l[i].owner, l[i].created_usec))
			continue;
		r = ctx->ops->reap(ctx, &l[i]);
		if (r < 0)
			err = r;
		else
			reaped++;
	}
	kdcg_leftovers_free(l, n);
	return err < 0 && reaped == 0 ? err : reaped;
}

int kdcg_path_stats(struct kdcg_ctx *ctx, const char *path, struct kdcg_stats *ret)
{
	kdcg_stats_init(ret);
	if (!path || path[0] != '/' || strstr(path, ".."))
		return kdcg_set_error(ctx, -EINVAL, "bad cgroup path '%s'", path ? path : "(null)");
	return ctx->ops->path_stats(ctx, path, ret);
}

/* ---- validation ---------------------------------------------------------- */

static int check_name(struct kdcg_ctx *ctx, const char *what, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64)
		return kdcg_set_error(ctx, -EINVAL, "%s name must be 1..64 characters", what);
	for (const char *p = name; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_'))
			return kdcg_set_error(
			    ctx, -EINVAL, "%s name '%s': only [A-Za-z0-9_-] allowed", what, name);
	if (name[0] == '-')
		return kdcg_set_error(ctx, -EINVAL, "%s name '%s' starts with '-'", what, name);
	return 0;
}

static int check_limits(struct kdcg_ctx *ctx, const struct kdcg_limits *l)
{
	if (!l)
		return 0;
	if (l->memory_max && l->memory_max < 4096)
		return kdcg_set_error(ctx, -EINVAL, "memory max %llu is below one page",
				      (unsigned long long)l->memory_max);
	if (l->memory_high && l->memory_high < 4096)
		return kdcg_set_error(ctx, -EINVAL, "memory high %llu is below one page",
				      (unsigned long long)l->memory_high);
	if (l->cpu_weight > 10000)
		return kdcg_set_error(ctx, -EINVAL, "cpu weight %llu not in 1..10000",
				      (unsigned long long)l->cpu_weight);
	if (l->io_weight > 10000)
		return kdcg_set_error(ctx, -EINVAL, "io weight %llu not in 1..10000",
				      (unsigned long long)l->io_weight);
	if (l->cpu_quota_pct > 100000)
		return kdcg_set_error(ctx, -EINVAL, "cpu quota %llu%% is absurd",
				      (unsigned long long)l->cpu_quota_pct);
	if (l->pids_max > (1ULL << 22))
		return kdcg_set_error(ctx, -EINVAL, "pids max %llu above the kernel's pid_max",
				      (unsigned long long)l->pids_max);
	return 0;
}

static struct kdcg_unit *find_unit(struct kdcg_slice *s, const char *name)
{
	for (; s; s = s->next) {
		struct kdcg_unit *u;
		for (u = s->units; u; u = u->next)
			if (!strcmp(u->name, name))
				return u;
		if ((u = find_unit(s->children, name)))
			return u;
	}
	return NULL;
}

/* ---- slices -------------------------------------------------------------- */

int kdcg_slice_new(struct kdcg_ctx *ctx, struct kdcg_slice *parent, const char *name,
		   const struct kdcg_limits *limits, struct kdcg_slice **ret)
{
	struct kdcg_slice *s, **head;
	int r;

	*ret = NULL;
	r = check_name(ctx, "slice", name);
	if (r < 0)
		return r;
	r = check_limits(ctx, limits);
	if (r < 0)
		return r;
	head = parent ? &parent->children : &ctx->slices;
	for (s = *head; s; s = s->next)
		if (!strcmp(s->name, name))
			return kdcg_set_error(ctx, -EEXIST, "slice '%s' already exists", name);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ctx = ctx;
	s->parent = parent;
	s->name = strdup(name);
	if (limits)
		s->limits = *limits;
	s->path = parent ? strdupf("%s/kdrill-%d-%s.slice", parent->path, (int)ctx->self, name)
			 : strdupf("/" KDCG_ROOT "/kdrill-%d-%s.slice", (int)ctx->self, name);
	if (!s->name || !s->path) {
		slice_free_tree(s);
		return -ENOMEM;
	}
	r = ctx->ops->slice_create(s);
	if (r < 0) {
		slice_free_tree(s);
		return r;
	}
	s->next = *head;
	*head = s;
	*ret = s;
	return 0;
}

const char *kdcg_slice_path(const struct kdcg_slice *s)
{
	return s->path;
}

int kdcg_slice_stats(struct kdcg_slice *s, struct kdcg_stats *ret)
{
	int r;

	kdcg_stats_init(ret);
	r = s->ctx->ops->path_stats(s->ctx, s->path, ret);
	if (r < 0)
		return r;
	ret->oom_kill += s->carried_oom_kill;
	if (s->ctx->ops->id == KDCG_V1)
		ret->oom = ret->oom_kill;
	ret->pids_events_max += s->carried_pids_events;
	return 0;
}

int kdcg_slice_set_attr(struct kdcg_slice *s, const char *key, const char *value)
{
	if (!key || !value || !*key || strchr(key, '/') || !strcmp(key, "..") ||
	    strchr(value, '\n'))
		return kdcg_set_error(s->ctx, -EINVAL, "bad attribute '%s'", key ? key : "(null)");
	return s->ctx->ops->set_attr(s, key, value);
}

static void unit_free(struct kdcg_unit *u)
{
	sd_event_source_disable_unref(u->exec_src);
	if (u->exec_fd >= 0)
		close(u->exec_fd);
	sd_event_source_disable_unref(u->child_src);
	sd_event_source_disable_unref(u->timer_src);
	sd_event_source_disable_unref(u->kill_src);
	sd_bus_slot_unref(u->props_slot);
	free(u->name);
	free(u->path);
	free(u->unit_name);
	strv_free(u->argv);
	strv_free(u->envp);
	free(u->cwd);
	free(u->stdout_path);
	free(u->stderr_path);
	free(u->object_path);
	free(u->active_state);
	free(u->sub_state);
	free(u);
}

static void slice_free_tree(struct kdcg_slice *s)
{
	while (s->children) {
		struct kdcg_slice *c = s->children;
		s->children = c->next;
		slice_free_tree(c);
	}
	while (s->units) {
		struct kdcg_unit *u = s->units;
		s->units = u->next;
		unit_free(u);
	}
	sd_event_source_disable_unref(s->destroy_src);
	free(s->name);
	free(s->path);
	free(s->unit_name);
	free(s);
}

static void subtree_stop_units(struct kdcg_slice *s, bool mute)
{
	for (struct kdcg_unit *u = s->units; u; u = u->next) {
		u->stopping = true;
		u->timer_src = sd_event_source_disable_unref(u->timer_src);
		u->kill_src = sd_event_source_disable_unref(u->kill_src);
		if (mute)
			u->cb = NULL;
	}
	for (struct kdcg_slice *c = s->children; c; c = c->next)
		subtree_stop_units(c, mute);
}

/* After the SIGKILL: tasks stuck charging at the limit get their pages and die. */
static void subtree_lift(struct kdcg_slice *s)
{
	const struct kdcg_limits *l = &s->limits;

	if (s->ctx->ops->slice_lift && (l->memory_max || l->memory_high || l->swap_max))
		(void)s->ctx->ops->slice_lift(s);
	for (struct kdcg_slice *c = s->children; c; c = c->next)
		subtree_lift(c);
}

int kdcg_slice_lift(struct kdcg_slice *s)
{
	subtree_lift(s);
	return 0;
}

/* Units waiting for a restart have no process: they are done once stopping. */
static void subtree_finish_idle(struct kdcg_slice *s)
{
	for (struct kdcg_unit *u = s->units; u; u = u->next)
		if (!u->active && !u->done && !u->child_src)
			kdcg_unit_notify(u, KDCG_UNIT_DONE);
	for (struct kdcg_slice *c = s->children; c; c = c->next)
		subtree_finish_idle(c);
}

static void subtree_unit_stop(struct kdcg_slice *s)
{
	for (struct kdcg_unit *u = s->units; u; u = u->next)
		kdcg_unit_stop(u);
	for (struct kdcg_slice *c = s->children; c; c = c->next)
		subtree_unit_stop(c);
}

int kdcg_slice_kill(struct kdcg_slice *s)
{
	struct kdcg_ctx *ctx = s->ctx;
	int r;

	if (!ctx->ops->slice_kill) {
		subtree_unit_stop(s);
		return 0;
	}
	subtree_stop_units(s, false);
	r = ctx->ops->slice_kill(s);
	subtree_lift(s);
	subtree_finish_idle(s); /* may call back into the caller: last */
	return r;
}

int kdcg_slice_destroy(struct kdcg_slice *s)
{
	struct kdcg_ctx *ctx = s->ctx;
	struct kdcg_slice **pp;
	bool outer = !ctx->deadline;
	int r, err = 0;

	if (outer) /* one budget for the whole tree, not one per unit */
		ctx->deadline = now_usec() + 10 * 1000000ULL;
	s->destroy_src = sd_event_source_disable_unref(s->destroy_src);
	s->dying = false;
	if (ctx->ops->slice_kill) {
		/* everything dies in parallel; the per-unit waits below then find it gone */
		subtree_stop_units(s, false);
		ctx->ops->slice_kill(s);
		subtree_lift(s);
	}
	while (s->children) {
		r = kdcg_slice_destroy(s->children);
		if (r < 0)
			err = r;
	}
	while (s->units) {
		struct kdcg_unit *u = s->units;
		r = u->ran || ctx->ops->unit_create ? ctx->ops->unit_destroy(u) : 0;
		if (r < 0)
			err = r;
		s->units = u->next;
		if (!u->done && ctx->n_units_alive)
			ctx->n_units_alive--;
		unit_free(u);
	}
	r = ctx->ops->slice_remove(s);
	if (r < 0)
		err = r;
	for (pp = s->parent ? &s->parent->children : &ctx->slices; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	s->children = NULL;
	slice_free_tree(s);
	if (outer)
		ctx->deadline = 0;
	return err;
}

/* ---- asynchronous destroy ---------------------------------------------------------- */

static bool subtree_unreaped(struct kdcg_slice *s)
{
	for (struct kdcg_unit *u = s->units; u; u = u->next)
		if (u->child_src)
			return true;
	for (struct kdcg_slice *c = s->children; c; c = c->next)
		if (subtree_unreaped(c))
			return true;
	return false;
}

static void subtree_units_gone(struct kdcg_slice *s)
{
	struct kdcg_ctx *ctx = s->ctx;

	for (struct kdcg_unit *u = s->units; u; u = u->next)
		if (!u->done) {
			u->done = true;
			if (ctx->n_units_alive)
				ctx->n_units_alive--;
		}
	for (struct kdcg_slice *c = s->children; c; c = c->next)
		subtree_units_gone(c);
}

static void destroy_async_finish(struct kdcg_slice *s, int r)
{
	struct kdcg_ctx *ctx = s->ctx;
	struct kdcg_slice **pp;
	kdcg_slice_cb cb = s->destroy_cb;
	void *userdata = s->destroy_userdata;

	s->destroy_src = sd_event_source_disable_unref(s->destroy_src);
	subtree_units_gone(s);
	for (pp = s->parent ? &s->parent->children : &ctx->slices; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (cb)
		cb(s, r, userdata);
	slice_free_tree(s);
}

static int on_destroy_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct kdcg_slice *s = userdata;
	struct kdcg_ctx *ctx = s->ctx;
	bool late = now_usec() > s->destroy_deadline;
	int r;

	(void)usec;
	/* main pids are reaped by their child sources (they run on this loop too) */
	r = subtree_unreaped(s) ? -EBUSY : ctx->ops->slice_try_remove(s);
	if (r == -EBUSY && !late) {
		ctx->ops->slice_kill(s); /* forks race the first kill */
		sd_event_source_set_time_relative(src, 20000);
		sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
		return 0;
	}
	if (r == -EBUSY)
		kdcg_set_error(ctx, -EBUSY, "slice %s: processes survive SIGKILL (D state?)",
			       s->path);
	destroy_async_finish(s, r);
	return 0;
}

static int on_destroy_defer(sd_event_source *src, void *userdata)
{
	struct kdcg_slice *s = userdata;
	kdcg_slice_cb cb = s->destroy_cb;
	void *ud = s->destroy_userdata;
	int r;

	(void)src;
	s->destroy_src = sd_event_source_disable_unref(s->destroy_src);
	s->destroy_cb = NULL;
	r = kdcg_slice_destroy(s); /* frees s; the callback gets it as a token */
	if (cb)
		cb(s, r, ud);
	return 0;
}

int kdcg_slice_destroy_async(struct kdcg_slice *s, uint64_t timeout_usec, kdcg_slice_cb cb,
			     void *userdata)
{
	struct kdcg_ctx *ctx = s->ctx;
	int r;

	if (s->dying)
		return -EALREADY;
	s->destroy_cb = cb;
	s->destroy_userdata = userdata;
	if (!ctx->ops->slice_kill || !ctx->ops->slice_try_remove) {
		r = sd_event_add_defer(ctx->event, &s->destroy_src, on_destroy_defer, s);
		if (r < 0)
			return r;
		s->dying = true;
		return 0;
	}
	s->destroy_deadline = now_usec() + (timeout_usec ? timeout_usec : 10 * 1000000ULL);
	subtree_stop_units(s, true);
	ctx->ops->slice_kill(s);
	subtree_lift(s);
	r = sd_event_add_time_relative(ctx->event, &s->destroy_src, CLOCK_MONOTONIC, 10000, 0,
				       on_destroy_tick, s);
	if (r < 0)
		return r;
	s->dying = true;
	return 0;
}

/* ---- units --------------------------------------------------------------- */

static int unit_alloc(struct kdcg_slice *s, const char *name, const struct kdcg_unit_spec *spec,
		      kdcg_unit_cb cb, void *userdata, struct kdcg_unit **ret)
{
	struct kdcg_ctx *ctx = s->ctx;
	struct kdcg_unit *u;
	int r;

	*ret = NULL;
	r = check_name(ctx, "unit", name);
	if (r < 0)
		return r;
	if (!spec || !spec->argv || !spec->argv[0] || !spec->argv[0][0])
		return kdcg_set_error(ctx, -EINVAL, "unit '%s': empty command", name);
	if (spec->restart > KDCG_RESTART_ALWAYS)
		return kdcg_set_error(ctx, -EINVAL, "unit '%s': bad restart policy %d", name,
				      (int)spec->restart);
	if (find_unit(ctx->slices, name))
		return kdcg_set_error(ctx, -EEXIST, "unit '%s' already exists", name);
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->slice = s;
	u->name = strdup(name);
	u->path = strdupf("%s/kdrill-%d-%s.service", s->path, (int)ctx->self, name);
	u->unit_name = strdupf("kdrill-%d-%s.service", (int)ctx->self, name);
	u->restart = spec->restart;
	u->restart_max = spec->restart_max;
	u->restart_usec = spec->restart_usec ? spec->restart_usec : 100000;
	u->cb = cb;
	u->userdata = userdata;
	u->last_exit = -1;
	u->last_result = NULL;
	u->exec_fd = -1;
	if (!u->name || !u->path || !u->unit_name)
		goto enomem;
	for (char *const *a = spec->argv; *a; a++)
		if (strv_extend(&u->argv, *a) < 0)
			goto enomem;
	for (char *const *e = spec->envp; e && *e; e++)
		if (strv_extend(&u->envp, *e) < 0)
			goto enomem;
	if (spec->envp && !u->envp && !(u->envp = calloc(1, sizeof(char *))))
		goto enomem;
	if ((spec->cwd && !(u->cwd = strdup(spec->cwd))) ||
	    (spec->stdout_path && !(u->stdout_path = strdup(spec->stdout_path))) ||
	    (spec->stderr_path && !(u->stderr_path = strdup(spec->stderr_path))))
		goto enomem;
	*ret = u;
	return 0;
enomem:
	unit_free(u);
	return -ENOMEM;
}

static void unit_link(struct kdcg_unit *u)
{
	u->slice->ctx->n_units_alive++;
	u->next = u->slice->units;
	u->slice->units = u;
}

int kdcg_unit_start(struct kdcg_slice *s, const char *name, const struct kdcg_unit_spec *spec,
		    kdcg_unit_cb cb, void *userdata, struct kdcg_unit **ret)
{
	struct kdcg_unit *u;
	int r = unit_alloc(s, name, spec, cb, userdata, &u);

	if (r < 0)
		return r;
	r = s->ctx->ops->unit_start(u);
	if (r < 0) {
		unit_free(u);
		return r;
	}
	u->ran = true;
	unit_link(u);
	*ret = u;
	return 0;
}

int kdcg_unit_new(struct kdcg_slice *s, const char *name, const struct kdcg_unit_spec *spec,
		  kdcg_unit_cb cb, void *userdata, struct kdcg_unit **ret)
{
	struct kdcg_unit *u;
	int r = unit_alloc(s, name, spec, cb, userdata, &u);

	if (r < 0)
		return r;
	if (s->ctx->ops->unit_create && (r = s->ctx->ops->unit_create(u)) < 0) {
		unit_free(u);
		return r;
	}
	unit_link(u);
	*ret = u;
	return 0;
}

int kdcg_unit_run(struct kdcg_unit *u)
{
	const struct kdcg_ops *ops = u->slice->ctx->ops;
	int r;

	if (u->ran || u->done || u->stopping)
		return -EALREADY;
	u->ran = true;
	r = ops->unit_create && ops->unit_run ? ops->unit_run(u) : ops->unit_start(u);
	if (r < 0 && !u->done) { /* nothing runs: finished (its cgroup goes with the slice) */
		u->done = true;
		if (u->slice->ctx->n_units_alive)
			u->slice->ctx->n_units_alive--;
	}
	return r;
}

int kdcg_unit_status(struct kdcg_unit *u, struct kdcg_unit_status *ret)
{
	ret->active = u->active;
	ret->main_pid = u->main_pid;
	ret->restarts = u->restarts;
	ret->last_exit = u->last_exit;
	ret->last_result = u->last_result;
	ret->exec_errno = u->exec_errno;
	return 0;
}

int kdcg_unit_stop(struct kdcg_unit *u)
{
	if (u->done)
		return 0;
	if (!u->ran) { /* created, never started */
		u->stopping = true;
		kdcg_unit_notify(u, KDCG_UNIT_DONE);
		return 0;
	}
	return u->slice->ctx->ops->unit_stop(u);
}

const char *kdcg_unit_name(const struct kdcg_unit *u)
{
	return u->unit_name;
}

int kdcg_unit_stats(struct kdcg_unit *u, struct kdcg_stats *ret)
{
	kdcg_stats_init(ret);
	return u->slice->ctx->ops->unit_stats(u, ret);
}

int kdcg_unit_threads(struct kdcg_unit *u, pid_t **ret, size_t *ret_n)
{
	int r = kdcg_cgfs_path_threads(u->slice->ctx, u->path, ret, ret_n);

	return r == -ENOENT ? 0 : r;
}

void kdcg_unit_notify(struct kdcg_unit *u, enum kdcg_unit_event ev)
{
	if (ev == KDCG_UNIT_DONE) {
		if (u->done)
			return;
		u->done = true;
		if (u->slice->ctx->n_units_alive)
			u->slice->ctx->n_units_alive--;
		/* for the tests: a unit's end that never reaches its owner, as systemd's
		 * signals can be late or lost on a loaded machine */
		if (getenv("KDCG_TEST_LOSE_DONE"))
			return;
	}
	if (u->cb)
		u->cb(u, ev, u->userdata);
}

/* ---- cgroupfs supervisor ------------------------------------------------- */

static void fs_kill_members(struct kdcg_unit *u, const struct kdcg_fs_hooks *h, int sig)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;

	if (h->members(u->slice->ctx, u->path, &pids, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		kill(pids[i], sig);
}

static const struct kdcg_fs_hooks *hooks_of(struct kdcg_unit *u);
static int fs_spawn(struct kdcg_unit *u, const struct kdcg_fs_hooks *h);

static bool restart_wanted(struct kdcg_unit *u)
{
	if (u->stopping)
		return false;
	if (u->restart == KDCG_RESTART_NO)
		return false;
	if (u->restart == KDCG_RESTART_ON_FAILURE && u->last_result &&
	    !strcmp(u->last_result, "success"))
		return false;
	if (u->restart_max && u->restarts >= u->restart_max)
		return false;
	return true;
}

static int on_restart_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct kdcg_unit *u = userdata;
	const struct kdcg_fs_hooks *h = hooks_of(u);
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r;

	(void)usec;
	(void)src;
	u->timer_src = sd_event_source_disable_unref(u->timer_src);
	if (u->stopping)
		return 0;
	/* Like systemd: the previous incarnation's cgroup must be empty first. */
	if (h->members(u->slice->ctx, u->path, &pids, &n) >= 0 && n > 0) {
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		return sd_event_add_time_relative(u->slice->ctx->event, &u->timer_src,
						  CLOCK_MONOTONIC, 10000, 0, on_restart_timer, u);
	}
	u->restarts++;
	r = fs_spawn(u, h);
	if (r < 0) {
		/* systemd: result exit-code, status 203/EXEC; follow the policy again. */
		u->last_exit = 127;
		u->last_result = "exit-code";
		kdcg_unit_notify(u, KDCG_UNIT_EXITED);
		if (restart_wanted(u))
			return sd_event_add_time_relative(u->slice->ctx->event, &u->timer_src,
							  CLOCK_MONOTONIC, u->restart_usec, 0,
							  on_restart_timer, u);
		kdcg_unit_notify(u, KDCG_UNIT_DONE);
		return 0;
	}
	kdcg_unit_notify(u, KDCG_UNIT_RESTARTED);
	return 0;
}

/* The status pipe of the current incarnation: EOF = exec'd, an errno = could not. */
static void exec_status_done(struct kdcg_unit *u, int r)
{
	u->exec_src = sd_event_source_disable_unref(u->exec_src);
	if (u->exec_fd >= 0)
		close(u->exec_fd);
	u->exec_fd = -1;
	if (r < 0)
		u->exec_errno = -r;
}

static int on_exec_status(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct kdcg_unit *u = userdata;
	int r = spawn_exec_status(fd);

	(void)src;
	(void)revents;
	if (r == -EAGAIN)
		return 0;
	/* a failed exec is reported when the child's exit arrives (on_child) */
	exec_status_done(u, r);
	return 0;
}

static int on_child(sd_event_source *src, const siginfo_t *si, void *userdata)
{
	struct kdcg_unit *u = userdata;
	const struct kdcg_fs_hooks *h = hooks_of(u);
	uint64_t ook = 0;

	(void)src;
	u->child_src = sd_event_source_disable_unref(u->child_src);
	u->kill_src = sd_event_source_disable_unref(u->kill_src);
	u->active = false;
	u->main_pid = 0;
	/* the child is dead and was the only writer: the status is there (or EOF) */
	if (u->exec_fd >= 0) {
		int r = spawn_exec_status(u->exec_fd);
		exec_status_done(u, r == -EAGAIN ? 0 : r);
	}
	if (u->exec_errno && si->si_code == CLD_EXITED) {
		/* like systemd's 203/EXEC: a failure, restarted by the policy */
		u->last_exit = si->si_status;
		u->last_result = "exec-failed";
	} else if (si->si_code == CLD_EXITED) {
		u->last_exit = si->si_status;
		u->last_result = si->si_status == 0 ? "success" : "exit-code";
	} else {
		u->last_exit = 128 + si->si_status;
		h->oom_kill(u->slice->ctx, u->path, &ook);
		if (si->si_status == SIGKILL && ook > u->oom_kill_at_start)
			u->last_result = "oom-kill";
		else if (u->stopping && (si->si_status == SIGTERM || si->si_status == SIGKILL))
			u->last_result = "success";
		else
			u->last_result = si->si_code == CLD_DUMPED ? "core-dump" : "signal";
	}
	/* KillMode=control-group: the rest of the unit goes with its main process. */
	fs_kill_members(u, h, SIGKILL);
	kdcg_unit_notify(u, KDCG_UNIT_EXITED);
	if (restart_wanted(u))
		return sd_event_add_time_relative(u->slice->ctx->event, &u->timer_src,
						  CLOCK_MONOTONIC, u->restart_usec, 0,
						  on_restart_timer, u);
	kdcg_unit_notify(u, KDCG_UNIT_DONE);
	return 0;
}

static int fs_spawn(struct kdcg_unit *u, const struct kdcg_fs_hooks *h)
{
	struct kdcg_ctx *ctx = u->slice->ctx;
	_cleanup_strv_ char **procs = NULL;
	struct spawn_opts o = {0};
	pid_t pid;
	int r, fd;

	r = h->procs_files(ctx, u->path, &procs);
	if (r < 0)
		return kdcg_set_error(ctx, r, "unit %s: cgroup files: %s", u->name, strerror(-r));
	u->oom_kill_at_start = 0;
	h->oom_kill(ctx, u->path, &u->oom_kill_at_start);
	o.cwd = u->cwd;
	o.envp = u->envp;
	o.stdout_path = u->stdout_path ? u->stdout_path : "/dev/null";
	o.stderr_path = u->stderr_path ? u->stderr_path : "/dev/null";
	o.new_session = true;
	o.cgroup_procs_v = procs;
	/* Units start at 0 like systemd's services, whatever the supervisor runs at (the
	 * in-guest agent is OOMScoreAdjust=-1000; inherited, a memcg at its limit would find
	 * "no killable processes"). */
	o.oom_score_adj = "0";
	/* Never wait for the exec here: attached to a memcg at its limit, the child can
	 * take seconds to get there (reclaim, OOM kills) and the loop must keep going. */
	exec_status_done(u, 0);
	u->exec_errno = 0;
	pid = spawn_argv_async(u->argv, &o, &fd);
	if (pid < 0)
		return kdcg_set_error(ctx, pid, "unit %s: cannot start %s: %s", u->name, u->argv[0],
				      strerror(-pid));
	u->exec_fd = fd;
	r = sd_event_add_child(ctx->event, &u->child_src, pid, WEXITED, on_child, u);
	if (r >= 0)
		r = sd_event_add_io(ctx->event, &u->exec_src, fd, EPOLLIN, on_exec_status, u);
	if (r < 0) {
		u->child_src = sd_event_source_disable_unref(u->child_src);
		exec_status_done(u, 0);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return kdcg_set_error(ctx, r, "unit %s: sd-event: %s", u->name, strerror(-r));
	}
	u->main_pid = pid;
	u->active = true;
	return 0;
}

/* The hooks are looked up through the ctx's ops: v1 and v2 each register theirs. */
extern const struct kdcg_fs_hooks kdcg_fs_hooks_v1, kdcg_fs_hooks_v2;
static const struct kdcg_fs_hooks *hooks_of(struct kdcg_unit *u)
{
	return u->slice->ctx->ops->id == KDCG_V1 ? &kdcg_fs_hooks_v1 : &kdcg_fs_hooks_v2;
}

/* What execvp(e) would find for argv[0] (the exec itself happens later, in the child):
 * 0 or a negative errno, so a missing program stays an immediate, clear error. */
static int find_program(struct kdcg_unit *u)
{
	const char *prog = u->argv[0], *path = NULL;
	int err = -ENOENT;

	if (strchr(prog, '/')) {
		_cleanup_free_ char *p =
		    prog[0] != '/' && u->cwd ? strdupf("%s/%s", u->cwd, prog) : strdup(prog);
		if (!p)
			return -ENOMEM;
		return access(p, X_OK) < 0 ? -errno : 0;
	}
	STRV_FOREACH (e, u->envp)
		if (startswith(*e, "PATH="))
			path = *e + 5;
	if (!u->envp)
		path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin"; /* glibc's default */
	for (const char *p = path;; p++) {
		size_t n = strcspn(p, ":");
		_cleanup_free_ char *f = n ? strdupf("%.*s/%s", (int)n, p, prog) : strdup(prog);
		if (!f)
			return -ENOMEM;
		if (access(f, X_OK) == 0)
			return 0;
		if (errno == EACCES)
			err = -EACCES;
		p += n;
		if (!*p)
			break;
	}
	return err;
}

int kdcg_fs_unit_create(struct kdcg_unit *u, const struct kdcg_fs_hooks *h)
{
	struct kdcg_ctx *ctx = u->slice->ctx;
	int r;

	r = find_program(u);
	if (r < 0)
		return kdcg_set_error(ctx, r, "unit %s: cannot start %s: %s", u->name, u->argv[0],
				      strerror(-r));
	return h->mkdir(ctx, u->path, NULL);
}

int kdcg_fs_unit_run(struct kdcg_unit *u, const struct kdcg_fs_hooks *h)
{
	return fs_spawn(u, h);
}

int kdcg_fs_unit_start(struct kdcg_unit *u, const struct kdcg_fs_hooks *h)
{
	struct kdcg_ctx *ctx = u->slice->ctx;
	int r;

	r = kdcg_fs_unit_create(u, h);
	if (r < 0)
		return r;
	r = fs_spawn(u, h);
	if (r < 0) {
		_cleanup_free_ char *keep = strdup(kdcg_last_error(ctx));
		h->remove(ctx, u->path);
		kdcg_set_error(ctx, r, "%s", keep ? keep : "spawn failed");
	}
	return r;
}

static int on_stop_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct kdcg_unit *u = userdata;

	(void)src;
	(void)usec;
	u->kill_src = sd_event_source_disable_unref(u->kill_src);
	if (u->main_pid > 0)
		kill(u->main_pid, SIGKILL);
	fs_kill_members(u, hooks_of(u), SIGKILL);
	return 0;
}

int kdcg_fs_unit_stop(struct kdcg_unit *u, const struct kdcg_fs_hooks *h)
{
	u->stopping = true;
	if (!u->active) {
		/* Waiting for a restart (or never ran): cancel and finish. */
		u->timer_src = sd_event_source_disable_unref(u->timer_src);
		kdcg_unit_notify(u, KDCG_UNIT_DONE);
		return 0;
	}
	if (u->main_pid > 0)
		kill(u->main_pid, SIGTERM);
	fs_kill_members(u, h, SIGTERM);
	if (!u->kill_src)
		return sd_event_add_time_relative(u->slice->ctx->event, &u->kill_src,
						  CLOCK_MONOTONIC, 2 * 1000000, 0, on_stop_timeout,
						  u);
	return 0;
}

int kdcg_fs_unit_destroy(struct kdcg_unit *u, const struct kdcg_fs_hooks *h)
{
	struct kdcg_ctx *ctx = u->slice->ctx;
	int r;

	u->stopping = true;
	u->child_src = sd_event_source_disable_unref(u->child_src);
	u->timer_src = sd_event_source_disable_unref(u->timer_src);
	u->kill_src = sd_event_source_disable_unref(u->kill_src);
	u->exec_src = sd_event_source_disable_unref(u->exec_src);
	if (u->main_pid > 0) {
		uint64_t deadline = now_usec() + 5 * 1000000ULL;
		if (ctx->deadline && ctx->deadline < deadline)
			deadline = ctx->deadline; /* shared by the whole slice tree */
		kill(u->main_pid, SIGKILL);
		for (;;) {
			pid_t w = waitpid(u->main_pid, NULL, WNOHANG);
			if (w == u->main_pid || (w < 0 && errno == ECHILD))
				break;
			if (now_usec() > deadline) {
				kdcg_set_error(
				    ctx, -EBUSY,
				    "unit %s: pid %d survived SIGKILL for 5 s (D state?)", u->name,
				    (int)u->main_pid);
				break;
			}
			usleep(10000);
		}
		u->main_pid = 0;
		u->active = false;
	}
	r = h->remove(ctx, u->path);
	return r;
}
