// SPDX-License-Identifier: GPL-2.0
/*
 * kdcg systemd backend: transient slices and services through sd-bus
 * (org.freedesktop.systemd1.Manager.StartTransientUnit, what systemd-run does).
 *
 *   slice  kdrill-<pid>-<name>.slice      (parent kdrill-<pid>.slice, under kdrill.slice)
 *          nested: kdrill-<pid>-<parent>-<name>.slice   ('-' in names escaped as \x2d)
 *   unit   kdrill-<pid>-<name>.service    Slice=<its slice>, Type=exec, OOMPolicy=continue,
 *          Restart=, RestartUSec=, StartLimitIntervalUSec=0 (or, with a restart limit N,
 *          StartLimitIntervalUSec=infinity + StartLimitBurst=N+1 as a backstop),
 *          CollectMode=inactive-or-failed (nothing left loaded after it ends)
 *
 * Unit state, exits and restarts are followed through PropertiesChanged signals on the
 * unit objects (Manager.Subscribe), taken from the signals themselves (see below).
 * Slices cannot be delegated (Delegate= is for services/scopes), so none is requested.
 * With OOMPolicy=continue systemd reports an OOM-killed main process as "signal"; like
 * the cgroupfs backends we report "oom-kill" when the main process died of SIGKILL and
 * the slice's hierarchical oom_kill count went up meanwhile.
 */
#include <errno.h>
#include <linux/magic.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "kdcg-internal.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MGR	"org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define SD_SVC	"org.freedesktop.systemd1.Service"

static const char *bus_msg(const sd_bus_error *e, int r)
{
	return e && e->message ? e->message : strerror(r < 0 ? -r : r);
}

/* '-' separates slice levels in systemd: escape it like systemd-escape does. */
static char *esc_name(const char *name)
{
	char *s = malloc(strlen(name) * 4 + 1), *o = s;
	for (const char *p = name; s && *p; p++) {
		if (*p == '-') {
			memcpy(o, "\\x2d", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	if (s)
		*o = '\0';
	return s;
}

static int get_unit_string(struct kdcg_ctx *ctx, const char *unit, const char *iface,
			   const char *prop, char **ret)
{
	_cleanup_free_ char *path = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_path_encode(SD_PATH "/unit", unit, &path);
	if (r < 0)
		return r;
	r = sd_bus_get_property_string(ctx->bus, SD_DEST, path, iface, prop, &e, ret);
	sd_bus_error_free(&e);
	return r;
}

/* Poll the ActiveState after a job (used for synchronous create/destroy only). */
static int wait_state(struct kdcg_ctx *ctx, const char *unit, bool want_active, unsigned ms)
{
	for (unsigned waited = 0;; waited += 20) {
		_cleanup_free_ char *st = NULL;
		int r = get_unit_string(ctx, unit, SD_UNIT, "ActiveState", &st);

		if (r < 0) /* unloaded (collected): inactive */
			return want_active ? r : 0;
		if (want_active && !strcmp(st, "active"))
			return 0;
		if (!want_active && (!strcmp(st, "inactive") || !strcmp(st, "failed")))
			return 0;
		/* "inactive" right after StartTransientUnit only means the start job is
		 * still queued (seen under TCG in the guest): keep waiting; "failed" is final */
		if (want_active && !strcmp(st, "failed"))
			return -EIO;
		if (waited >= ms)
			return -ETIMEDOUT;
		usleep(20000);
	}
}

static int call_unit(struct kdcg_ctx *ctx, const char *method, const char *unit, bool with_mode)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	if (with_mode)
		r = sd_bus_call_method(ctx->bus, SD_DEST, SD_PATH, SD_MGR, method, &e, NULL, "ss",
				       unit, "replace");
	else
		r = sd_bus_call_method(ctx->bus, SD_DEST, SD_PATH, SD_MGR, method, &e, NULL, "s",
				       unit);
	if (r < 0 && !sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
		kdcg_set_error(ctx, r, "%s %s: %s", method, unit, bus_msg(&e, r));
	else
		r = 0;
	sd_bus_error_free(&e);
	return r;
}

static int stop_and_wait(struct kdcg_ctx *ctx, const char *unit)
{
	int r = call_unit(ctx, "StopUnit", unit, true);
	if (r >= 0)
		r = wait_state(ctx, unit, false, 30000);
	(void)call_unit(ctx, "ResetFailedUnit", unit, false);
	if (r < 0)
		return kdcg_set_error(ctx, r, "stopping %s: %s", unit, strerror(-r));
	return 0;
}

/* ---- following units through signals ------------------------------------- */

/*
 * Everything comes from the PropertiesChanged signals as they arrive; nothing about an
 * incarnation is read back later (by then systemd may have restarted the unit, which
 * resets ExecMainCode/ExecMainStatus/Result).  systemd emits the Service interface's
 * signal (ExecMainPID, ExecMainCode, ExecMainStatus, Result, NRestarts, MainPID) before
 * the Unit interface's (ActiveState, SubState, Job), both with the values current at
 * emission, so when a state change arrives the exit details are already known.
 *
 * Incarnations are told apart by ExecMainPID: an incarnation ended when ExecMainCode is
 * set for its pid (reported once, as EXITED).  Restart=always/on-failure cycle: exit
 * (auto-restart, exit reported), NRestarts+1 ("Scheduled restart job": RESTARTED), a
 * restart job that shows inactive/dead with the job still installed (not the end), a new
 * ExecMainPID.  The unit is done when it is inactive/failed with no job pending.
 */

static struct kdcg_unit *unit_by_path(struct kdcg_slice *s, const char *path)
{
	for (; s; s = s->next) {
		struct kdcg_unit *u;
		for (u = s->units; u; u = u->next)
			if (u->object_path && !strcmp(u->object_path, path))
				return u;
		if ((u = unit_by_path(s->children, path)))
			return u;
	}
	return NULL;
}

static const char *static_result(const char *r)
{
	static const char *const known[] = {"success",	 "exit-code", "signal",	  "core-dump",
					    "oom-kill",	 "timeout",   "watchdog", "start-limit-hit",
					    "resources", "protocol",  "exit-code"};
	for (size_t i = 0; r && i < ELEMENTSOF(known); i++)
		if (!strcmp(r, known[i]))
			return known[i];
	return "other";
}

static uint64_t slice_oom_kill(struct kdcg_unit *u)
{
	struct kdcg_stats st;
	kdcg_stats_init(&st);
	(void)kdcg_cgfs_path_stats(u->slice->ctx, u->slice->path, &st);
	return st.oom_kill;
}

/* Report the end of incarnation @pid (0: one that never ran).  code 0 = its exit status
 * was never seen (lost between two signals, or the unit is gone): during our own stop that
 * is "killed by the stop"; with an OOM kill in the slice meanwhile it is taken as that
 * kill; otherwise unknown (-1). */
static void report_exit(struct kdcg_unit *u, pid_t pid, int32_t code, int32_t status,
			const char *result)
{
	uint64_t ook = slice_oom_kill(u);
	bool oom = ook > u->oom_kill_at_start;

	u->sd_reported_pid = pid;
	u->exit_reported = true;
	u->active = false;
	u->main_pid = 0;
	if (!code && (u->stopping || (pid && oom))) {
		code = CLD_KILLED;
		status = SIGKILL;
		result = "signal";
	}
	u->last_exit = code == CLD_EXITED ? status : code ? 128 + status : -1;
	if (result && !strcmp(result, "start-limit-hit") && u->last_result)
		; /* keep the last incarnation's own result */
	else
		u->last_result = code ? static_result(result ? result : "success") : "other";
	if (code == CLD_KILLED && status == SIGKILL && oom)
		u->last_result = "oom-kill";
	u->oom_kill_at_start = ook;
	kdcg_unit_notify(u, KDCG_UNIT_EXITED);
}

static void on_service_props(struct kdcg_unit *u, sd_bus_message *m)
{
	uint32_t exec_pid = 0, nr = 0, pid = 0;
	int32_t code = 0, status = 0;
	const char *res = NULL;
	bool has_exec_pid = false, has_code = false, has_status = false, has_nr = false;
	int r;

	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *k = NULL;
		if (sd_bus_message_read(m, "s", &k) < 0)
			return;
		if (!strcmp(k, "ExecMainPID")) {
			r = sd_bus_message_read(m, "v", "u", &exec_pid);
			has_exec_pid = true;
		} else if (!strcmp(k, "ExecMainCode")) {
			r = sd_bus_message_read(m, "v", "i", &code);
			has_code = true;
		} else if (!strcmp(k, "ExecMainStatus")) {
			r = sd_bus_message_read(m, "v", "i", &status);
			has_status = true;
		} else if (!strcmp(k, "Result"))
			r = sd_bus_message_read(m, "v", "s", &res);
		else if (!strcmp(k, "NRestarts")) {
			r = sd_bus_message_read(m, "v", "u", &nr);
			has_nr = true;
		} else if (!strcmp(k, "MainPID"))
			r = sd_bus_message_read(m, "v", "u", &pid);
		else
			r = sd_bus_message_skip(m, "v");
		if (r < 0 || sd_bus_message_exit_container(m) < 0)
			return;
	}
	if (u->done)
		return;
	if (has_exec_pid && (pid_t)exec_pid != u->sd_exec_pid) {
		/* a new incarnation; the previous one's exit was never seen */
		if (u->sd_exec_pid && u->sd_reported_pid != u->sd_exec_pid)
			report_exit(u, u->sd_exec_pid, 0, 0, NULL);
		u->sd_exec_pid = (pid_t)exec_pid;
		u->sd_code = u->sd_status = 0;
		if (exec_pid) {
			u->exit_reported = false;
			u->active = true;
		}
	}
	if (has_code)
		u->sd_code = code;
	if (has_status)
		u->sd_status = status;
	if (res)
		u->sd_result = static_result(res);
	if (pid)
		u->main_pid = (pid_t)pid;
	if (u->sd_exec_pid && u->sd_code && u->sd_reported_pid != u->sd_exec_pid)
		report_exit(u, u->sd_exec_pid, u->sd_code, u->sd_status, u->sd_result);
	if (has_nr && nr > u->restarts && !u->done) {
		u->restarts = nr;
		kdcg_unit_notify(u, KDCG_UNIT_RESTARTED);
	}
}

/* The unit's current state: a job installed (a start job still queued shows "inactive"
 * until it runs), or active/activating (auto-restart) by now */
static bool start_job_pending(struct kdcg_ctx *ctx, const char *path)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	uint32_t id = 0;
	const char *jp = NULL;
	int r;

	r = sd_bus_get_property(ctx->bus, SD_DEST, path, SD_UNIT, "Job", &e, &reply, "(uo)");
	if (r >= 0)
		r = sd_bus_message_read(reply, "(uo)", &id, &jp);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	if (r >= 0 && id != 0)
		return true;
	{ /* the signal may be stale: the unit is running by now */
		_cleanup_free_ char *st = NULL;
		if (sd_bus_get_property_string(ctx->bus, SD_DEST, path, SD_UNIT, "ActiveState",
					       NULL, &st) >= 0 &&
		    (!strcmp(st, "active") || !strcmp(st, "activating") ||
		     !strcmp(st, "reloading")))
			return true;
	}
	return false;
}

/* From the signals seen so far: could this be the end of the unit?  A unit systemd will
 * restart passes through failed/failed with no job (systemd 252 signals it) on its way to
 * activating/auto-restart, so for Restart=always (on-failure: after a failure) that is
 * never the end unless we stop it or the start limit was hit. */
static bool final_candidate(struct kdcg_unit *u)
{
	const char *as = u->active_state ? u->active_state : "",
		   *ss = u->sub_state ? u->sub_state : "";
	bool clean = u->sd_code == CLD_EXITED && u->sd_status == 0;

	if (u->done || (strcmp(as, "failed") && strcmp(as, "inactive")) ||
	    !strcmp(ss, "auto-restart") || (u->sd_job_known && u->sd_job))
		return false;
	if (u->stopping || !u->sd_exec_pid ||
	    (u->sd_result && !strcmp(u->sd_result, "start-limit-hit")))
		return true;
	if (u->restart == KDCG_RESTART_ALWAYS || (u->restart == KDCG_RESTART_ON_FAILURE && !clean))
		return false;
	return true;
}

static void unit_state_changed(struct kdcg_unit *u)
{
	struct kdcg_ctx *ctx = u->slice->ctx;
	const char *ss = u->sub_state ? u->sub_state : "";

	if (u->done)
		return;
	if (!strcmp(ss, "auto-restart")) {
		u->active = false;
		if (u->restart_max && u->restarts >= u->restart_max)
			u->stopping = true; /* our restart limit: our stop */
		if (u->stopping)
			(void)sd_bus_call_method_async(ctx->bus, NULL, SD_DEST, SD_PATH, SD_MGR,
						       "StopUnit", NULL, NULL, "ss", u->unit_name,
						       "replace");
		return;
	}
	if (!final_candidate(u))
		return;
	/* The signals may lag seconds behind systemd under TCG load: a candidate end seen
	 * during our stop (say the failed/failed of an OOM kill racing with the stop, on its
	 * way to auto-restart) is checked against the unit's current state. */
	if (start_job_pending(ctx, u->object_path))
		return;
	if (!u->sd_exec_pid || u->sd_reported_pid != u->sd_exec_pid)
		report_exit(u, u->sd_exec_pid, u->sd_code, u->sd_status, u->sd_result);
	kdcg_unit_notify(u, KDCG_UNIT_DONE);
	(void)sd_bus_call_method_async(ctx->bus, NULL, SD_DEST, SD_PATH, SD_MGR, "ResetFailedUnit",
				       NULL, NULL, "s", u->unit_name);
}

static void on_unit_props(struct kdcg_unit *u, sd_bus_message *m)
{
	bool changed = false;
	int r;

	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *k = NULL, *v = NULL;
		if (sd_bus_message_read(m, "s", &k) < 0)
			return;
		if (!strcmp(k, "ActiveState") || !strcmp(k, "SubState")) {
			char **dst = !strcmp(k, "ActiveState") ? &u->active_state : &u->sub_state;
			if (sd_bus_message_read(m, "v", "s", &v) < 0)
				return;
			if (!*dst || strcmp(*dst, v)) {
				free(*dst);
				*dst = strdup(v);
				changed = true;
			}
		} else if (!strcmp(k, "Job")) {
			uint32_t id = 0;
			const char *jp = NULL;
			if (sd_bus_message_read(m, "v", "(uo)", &id, &jp) < 0)
				return;
			if (!u->sd_job_known || u->sd_job != id)
				changed = true;
			u->sd_job = id;
			u->sd_job_known = true;
		} else if (sd_bus_message_skip(m, "v") < 0) {
			return;
		}
		if (sd_bus_message_exit_container(m) < 0)
			return;
	}
	if (changed)
		unit_state_changed(u);
}

static int on_props(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct kdcg_ctx *ctx = userdata;
	const char *path = sd_bus_message_get_path(m), *iface = NULL;
	struct kdcg_unit *u;

	(void)ret_error;
	if (!path || !(u = unit_by_path(ctx->slices, path)))
		return 0;
	if (sd_bus_message_read(m, "s", &iface) < 0 || !iface ||
	    sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
		return 0;
	if (!strcmp(iface, SD_SVC))
		on_service_props(u, m);
	else if (!strcmp(iface, SD_UNIT))
		on_unit_props(u, m);
	return 0;
}

/* ---- open / close -------------------------------------------------------- */

static int sd_open(struct kdcg_ctx *ctx)
{
	_cleanup_free_ char *comm = NULL, *ver = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct statfs sf;
	int r;

	if (access("/run/systemd/system", F_OK) < 0) {
		(void)read_one_line("/proc/1/comm", &comm);
		return kdcg_set_error(
		    ctx, -EOPNOTSUPP,
		    "systemd is not PID 1 here (/run/systemd/system missing; PID 1 is '%s')",
		    comm ? strstrip(comm) : "?");
	}
	r = sd_bus_open_system(&ctx->bus);
	if (r < 0)
		return kdcg_set_error(ctx, -EOPNOTSUPP, "cannot connect to the system bus: %s",
				      strerror(-r));
	r = sd_bus_get_property_string(ctx->bus, SD_DEST, SD_PATH, SD_MGR, "Version", &e, &ver);
	if (r < 0) {
		kdcg_set_error(ctx, -EOPNOTSUPP, "systemd does not answer on the bus: %s",
			       bus_msg(&e, r));
		sd_bus_error_free(&e);
		return -EOPNOTSUPP;
	}
	r = sd_bus_match_signal(ctx->bus, &ctx->match_slot, SD_DEST, NULL,
				"org.freedesktop.DBus.Properties", "PropertiesChanged", on_props,
				ctx);
	if (r < 0)
		return kdcg_set_error(ctx, r, "AddMatch PropertiesChanged: %s", strerror(-r));
	r = sd_bus_call_method(ctx->bus, SD_DEST, SD_PATH, SD_MGR, "Subscribe", &e, NULL, NULL);
	if (r < 0) {
		kdcg_set_error(ctx, r, "systemd Subscribe: %s", bus_msg(&e, r));
		sd_bus_error_free(&e);
		return r;
	}
	r = sd_bus_attach_event(ctx->bus, ctx->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return kdcg_set_error(ctx, r, "sd_bus_attach_event: %s", strerror(-r));

	/* Where ControlGroup= paths live, for stats. */
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
		ctx->cgroup_mount = strdup("/sys/fs/cgroup");
		if (!ctx->cgroup_mount || strv_extend(&ctx->hier_paths, "/sys/fs/cgroup") < 0)
			return -ENOMEM;
	} else {
		static const char *const c[] = {"memory", "pids", "cpu", "cpuacct", "blkio"};
		ctx->systemd_v1 = true;
		for (size_t i = 0; i < ELEMENTSOF(c); i++) {
			_cleanup_free_ char *p = strdupf("/sys/fs/cgroup/%s", c[i]);
			if (p && statfs(p, &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC)
				if (strv_extend(&ctx->hier_paths, p) < 0 ||
				    strv_extend(&ctx->hier_ctrls, c[i]) < 0)
					return -ENOMEM;
		}
		ctx->unified = kdcg_find_cgroup2_mount();
		if (!ctx->hier_paths)
			return kdcg_set_error(ctx, -EOPNOTSUPP, "no cgroup hierarchy found");
	}
	return 0;
}

static void sd_close(struct kdcg_ctx *ctx)
{
	if (ctx->bus && ctx->hier_paths) { /* opened fine: drop our implicit parent slice */
		_cleanup_free_ char *top = strdupf("kdrill-%d.slice", (int)ctx->self);
		if (top)
			(void)call_unit(ctx, "StopUnit", top, true);
	}
	if (ctx->bus) {
		sd_bus_detach_event(ctx->bus);
		ctx->match_slot = sd_bus_slot_unref(ctx->match_slot);
		sd_bus_flush_close_unref(ctx->bus);
		ctx->bus = NULL;
	}
	strv_free(ctx->hier_paths);
	strv_free(ctx->hier_ctrls);
	ctx->hier_paths = ctx->hier_ctrls = NULL;
	free(ctx->unified);
	ctx->unified = NULL;
}

/* ---- slices -------------------------------------------------------------- */

static int append_prop_t(sd_bus_message *m, const char *k, uint64_t v)
{
	return sd_bus_message_append(m, "(sv)", k, "t", v);
}

static int start_transient(struct kdcg_ctx *ctx, sd_bus_message *m, const char *unit)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_message_close_container(m); /* properties */
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r < 0)
		return kdcg_set_error(ctx, r, "building StartTransientUnit(%s): %s", unit,
				      strerror(-r));
	r = sd_bus_call(ctx->bus, m, 0, &e, NULL);
	if (r < 0) {
		int rr =
		    sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists") ? -EEXIST : r;
		kdcg_set_error(ctx, rr, "StartTransientUnit %s: %s", unit, bus_msg(&e, r));
		sd_bus_error_free(&e);
		return rr;
	}
	return 0;
}

static int sd_slice_create(struct kdcg_slice *s)
{
	struct kdcg_ctx *ctx = s->ctx;
	const struct kdcg_limits *l = &s->limits;
	_cleanup_free_ char *esc = esc_name(s->name), *cg = NULL;
	sd_bus_message *m = NULL;
	int r;

	if (!esc)
		return -ENOMEM;
	if (s->parent) {
		size_t n = strlen(s->parent->unit_name) - strlen(".slice");
		s->unit_name = strdupf("%.*s-%s.slice", (int)n, s->parent->unit_name, esc);
	} else {
		s->unit_name = strdupf("kdrill-%d-%s.slice", (int)ctx->self, esc);
	}
	if (!s->unit_name)
		return -ENOMEM;
	r = sd_bus_message_new_method_call(ctx->bus, &m, SD_DEST, SD_PATH, SD_MGR,
					   "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", s->unit_name, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "Description", "s", "kdrill slice");
	if (r >= 0 && l->memory_max)
		r = append_prop_t(m, "MemoryMax", l->memory_max);
	if (r >= 0 && l->memory_high)
		r = append_prop_t(m, "MemoryHigh", l->memory_high);
	if (r >= 0 && l->swap_max)
		r = append_prop_t(m, "MemorySwapMax",
				  l->swap_max == KDCG_SWAP_ZERO ? 0 : l->swap_max);
	if (r >= 0 && l->cpu_weight)
		r = append_prop_t(m, "CPUWeight", l->cpu_weight);
	if (r >= 0 && l->cpu_quota_pct)
		r = append_prop_t(m, "CPUQuotaPerSecUSec", l->cpu_quota_pct * 10000);
	if (r >= 0 && l->io_weight)
		r = append_prop_t(m, "IOWeight", l->io_weight);
	if (r >= 0 && l->pids_max)
		r = append_prop_t(m, "TasksMax", l->pids_max);
	if (r < 0) {
		sd_bus_message_unref(m);
		return kdcg_set_error(ctx, r, "building slice %s: %s", s->unit_name, strerror(-r));
	}
	r = start_transient(ctx, m, s->unit_name);
	sd_bus_message_unref(m);
	if (r < 0)
		return r;
	r = wait_state(ctx, s->unit_name, true, 30000);
	if (r < 0) {
		stop_and_wait(ctx, s->unit_name);
		return kdcg_set_error(ctx, r, "slice %s did not become active: %s", s->unit_name,
				      strerror(-r));
	}
	if (get_unit_string(ctx, s->unit_name, "org.freedesktop.systemd1.Slice", "ControlGroup",
			    &cg) >= 0 &&
	    cg && cg[0] == '/') {
		free(s->path);
		s->path = TAKE_PTR(cg);
	}
	return 0;
}

static int sd_slice_remove(struct kdcg_slice *s)
{
	return s->unit_name ? stop_and_wait(s->ctx, s->unit_name) : 0;
}

static int sd_path_stats(struct kdcg_ctx *ctx, const char *path, struct kdcg_stats *st)
{
	return kdcg_cgfs_path_stats(ctx, path, st);
}

/* ---- units --------------------------------------------------------------- */

static char *find_exec(const char *name)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *cwd = NULL;

	if (strchr(name, '/')) {
		if (name[0] == '/')
			return strdup(name);
		cwd = get_current_dir_name();
		return cwd ? strdupf("%s/%s", cwd, name) : NULL;
	}
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		char *c = strdupf("%.*s/%s", (int)n, p, name);
		if (c && access(c, X_OK) == 0)
			return c;
		free(c);
		p += n;
		if (*p == ':')
			p++;
	}
	return NULL;
}

static int sd_unit_start(struct kdcg_unit *u)
{
	struct kdcg_ctx *ctx = u->slice->ctx;
	static const char *const pol[] = {"no", "on-failure", "always"};
	_cleanup_free_ char *exe = find_exec(u->argv[0]);
	sd_bus_message *m = NULL;
	int r;

	if (!exe)
		return kdcg_set_error(ctx, -ENOENT, "unit %s: %s: command not found", u->name,
				      u->argv[0]);
	r = sd_bus_path_encode(SD_PATH "/unit", u->unit_name, &u->object_path);
	if (r < 0)
		return r;
	u->oom_kill_at_start = slice_oom_kill(u);
	r = sd_bus_message_new_method_call(ctx->bus, &m, SD_DEST, SD_PATH, SD_MGR,
					   "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", u->unit_name, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s", u->name,
					  "Slice", "s", u->slice->unit_name, "Type", "s", "exec",
					  "OOMPolicy", "s", "continue", "CollectMode", "s",
					  "inactive-or-failed");
	/* keep the unit loaded while we are connected: else systemd collects it at once on
	 * a clean exit and its ExecMainCode/ExecMainStatus can no longer be read (-1) */
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "AddRef", "b", 1);
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "Restart", "s", pol[u->restart]);
	if (r >= 0)
		r = append_prop_t(m, "RestartUSec", u->restart_usec);
	if (r >= 0 && u->restart_max) {
		r = append_prop_t(m, "StartLimitIntervalUSec", UINT64_MAX);
		if (r >= 0)
			r = sd_bus_message_append(m, "(sv)", "StartLimitBurst", "u",
						  u->restart_max + 1);
	} else if (r >= 0) {
		r = append_prop_t(m, "StartLimitIntervalUSec", 0);
	}
	if (r >= 0 && u->cwd)
		r = sd_bus_message_append(m, "(sv)", "WorkingDirectory", "s", u->cwd);
	if (r >= 0)
		r = u->stdout_path
			? sd_bus_message_append(m, "(sv)", "StandardOutputFileToAppend", "s",
						u->stdout_path)
			: sd_bus_message_append(m, "(sv)", "StandardOutput", "s", "null");
	if (r >= 0)
		r = u->stderr_path ? sd_bus_message_append(m, "(sv)", "StandardErrorFileToAppend",
							   "s", u->stderr_path)
				   : sd_bus_message_append(m, "(sv)", "StandardError", "s", "null");
	if (r >= 0 && u->envp) {
		r = sd_bus_message_open_container(m, 'r', "sv");
		if (r >= 0)
			r = sd_bus_message_append(m, "s", "Environment");
		if (r >= 0)
			r = sd_bus_message_open_container(m, 'v', "as");
		if (r >= 0)
			r = sd_bus_message_append_strv(m, u->envp);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	/* ExecStart a(sasb): path, argv, ignore-failure */
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", "ExecStart");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "a(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sasb");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", exe);
	if (r >= 0)
		r = sd_bus_message_append_strv(m, u->argv);
	if (r >= 0)
		r = sd_bus_message_append(m, "b", 0);
	for (int i = 0; i < 4 && r >= 0; i++)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		sd_bus_message_unref(m);
		return kdcg_set_error(ctx, r, "building unit %s: %s", u->unit_name, strerror(-r));
	}
	r = start_transient(ctx, m, u->unit_name);
	sd_bus_message_unref(m);
	if (r < 0)
		return r;
	u->active = true;
	return 0;
}

static int on_stop_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct kdcg_unit *u = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	(void)ret_error;
	u->props_slot = sd_bus_slot_unref(u->props_slot);
	if (e && sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit"))
		kdcg_unit_notify(u, KDCG_UNIT_DONE);
	else if (e)
		kdcg_set_error(u->slice->ctx, -EIO, "StopUnit %s: %s", u->unit_name, e->message);
	return 0;
}

/* Asynchronous: the caller's loop never waits for systemd (under TCG load a round trip
 * takes hundreds of ms, and the runner stops every unit at once); the end arrives as
 * signals.  The reply slot is the unit's props_slot (dropped when the unit goes). */
static int sd_unit_stop(struct kdcg_unit *u)
{
	struct kdcg_ctx *ctx = u->slice->ctx;
	int r;

	u->stopping = true;
	u->props_slot = sd_bus_slot_unref(u->props_slot);
	r = sd_bus_call_method_async(ctx->bus, &u->props_slot, SD_DEST, SD_PATH, SD_MGR, "StopUnit",
				     on_stop_reply, u, "ss", u->unit_name, "replace");
	if (r < 0)
		return kdcg_set_error(ctx, r, "StopUnit %s: %s", u->unit_name, strerror(-r));
	return 0;
}

static int sd_unit_destroy(struct kdcg_unit *u)
{
	int r;

	u->stopping = true;
	u->props_slot = sd_bus_slot_unref(u->props_slot);
	r = stop_and_wait(u->slice->ctx, u->unit_name);
	(void)call_unit(u->slice->ctx, "UnrefUnit", u->unit_name, false); /* AddRef */
	return r;
}

/* The unit's cgroup is <its slice's cgroup>/<unit name> (no bus round trip per call). */
static int sd_unit_stats(struct kdcg_unit *u, struct kdcg_stats *st)
{
	_cleanup_free_ char *cg = strdupf("%s/%s", u->slice->path, u->unit_name);

	if (!cg)
		return -ENOMEM;
	if (kdcg_cgfs_path_stats(u->slice->ctx, cg, st) < 0)
		kdcg_stats_init(st); /* between restarts, or gone */
	return 0;
}

static int sd_set_attr(struct kdcg_slice *s, const char *key, const char *value)
{
	return kdcg_cgfs_set_attr(s, key, value);
}

/* ---- list / reap --------------------------------------------------------- */

static int sd_list(struct kdcg_ctx *ctx, struct kdcg_leftover **ret, size_t *n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct kdcg_leftover *l = NULL;
	size_t cnt = 0;
	const char *name;
	int r;

	r = sd_bus_call_method(ctx->bus, SD_DEST, SD_PATH, SD_MGR, "ListUnitsByPatterns", &e,
			       &reply, "asas", 0, 1, "kdrill-*");
	if (r < 0) {
		kdcg_set_error(ctx, r, "ListUnitsByPatterns: %s", bus_msg(&e, r));
		sd_bus_error_free(&e);
		return r;
	}
	r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(ssssssouso)", &name, NULL, NULL, NULL,
						  NULL, NULL, NULL, NULL, NULL, NULL)) > 0) {
		pid_t owner = kdcg_owner_of(name);
		struct kdcg_leftover *nl;

		if (!owner)
			continue;
		nl = realloc(l, (cnt + 1) * sizeof(*l));
		if (!nl) {
			r = -ENOMEM;
			break;
		}
		l = nl;
		l[cnt].path = strdup(name);
		l[cnt].owner = owner;
		l[cnt].created_usec = 0; /* systemd runs in fresh guests: no pid reuse to guard */
		l[cnt].owner_alive = kdcg_owner_alive(owner, 0);
		if (!l[cnt].path) {
			r = -ENOMEM;
			break;
		}
		cnt++;
	}
	sd_bus_message_unref(reply);
	if (r < 0) {
		kdcg_leftovers_free(l, cnt);
		return r;
	}
	*ret = l;
	*n = cnt;
	return 0;
}

static int sd_reap(struct kdcg_ctx *ctx, const struct kdcg_leftover *l)
{
	return stop_and_wait(ctx, l->path);
}

const struct kdcg_ops kdcg_ops_systemd = {
    .name = "systemd",
    .id = KDCG_SYSTEMD,
    .open = sd_open,
    .close = sd_close,
    .slice_create = sd_slice_create,
    .slice_remove = sd_slice_remove,
    .set_attr = sd_set_attr,
    .path_stats = sd_path_stats,
    .list = sd_list,
    .reap = sd_reap,
    .unit_start = sd_unit_start,
    .unit_stop = sd_unit_stop,
    .unit_destroy = sd_unit_destroy,
    .unit_stats = sd_unit_stats,
    /* A unit whose tasks are stuck charging at their slice's memory.max (an OOM storm under
     * TCG) acts on systemd's SIGTERM/SIGKILL only once the charge gives way: 20+ s measured.
     * The slice's cgroup is the one systemd made (its path is known without a bus round
     * trip): cgroup.kill it and lift its limits, as the cgroupfs backends do; systemd then
     * sees the main processes exit and reports the units inactive. */
    .slice_kill = kdcg_cgfs_slice_kill,
    .slice_lift = kdcg_cgfs_slice_lift,
};
