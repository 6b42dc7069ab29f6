// SPDX-License-Identifier: GPL-2.0
/*
 * kdcg cgroupfs backends: v1 (one hierarchy per controller, through libcgroup) and
 * v2 (the unified hierarchy).  Processes are supervised by kdcg.c.
 *
 * Layout (same relative path in every hierarchy):
 *   /kdrill.slice/kdrill-<pid>-<slice>.slice[/kdrill-<pid>-<child>.slice]/kdrill-<pid>-<unit>.service
 *
 * What goes through libcgroup 2.0.2 (v1): cgroup_init and mount discovery
 * (cgroup_get_subsys_mount_point), creation with limits (cgroup_new_cgroup,
 * cgroup_add_controller, cgroup_add_value_*, cgroup_create_cgroup), raw attributes
 * (cgroup_modify_cgroup) and removal (cgroup_delete_cgroup_ext RECURSIVE).
 * Direct cgroupfs access instead, and why:
 *  - stats: cgroup_get_cgroup() returns ECGINVAL (50011) on this host's hybrid layout
 *    (tmpfs /sys/fs/cgroup + v1 hierarchies + an empty cgroup2 at .../unified, which
 *    libcgroup 2.0.2 lists as the "hugetlb" mount), so files are read directly;
 *  - attaching: the pid is written into each cgroup.procs by the child between fork
 *    and exec (spawn_opts.cgroup_procs_v); cgroup_attach_task_pid() would have to run in
 *    the parent after fork, leaving a window where the child runs outside its limits;
 *  - the cgroup2 mirror (v1, for per-cgroup PSI) and the whole v2 backend: libcgroup
 *    2.0.2 resolves every controller name to a v1 mount on a hybrid host and has no way
 *    to name a cgroup2 tree without controllers, so v2 is plain mkdir/write/rmdir;
 *  - the final rmdir sweep after cgroup_delete_cgroup_ext(), which silently leaves a
 *    directory behind when one hierarchy lacks it (partial create).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "kdcg-internal.h"

static const char *const v1_ctrls[] = {"memory", "pids", "cpu", "cpuacct", "blkio", NULL};
static const char *const v2_ctrls[] = {"memory", "pids", "cpu", "io", NULL};

static bool is_v1(const struct kdcg_ctx *ctx)
{
	return ctx->ops->id == KDCG_V1 || (ctx->ops->id == KDCG_SYSTEMD && ctx->systemd_v1);
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static const char *v1_mount(const struct kdcg_ctx *ctx, const char *ctrl)
{
	for (size_t i = 0; ctx->hier_ctrls && ctx->hier_ctrls[i]; i++)
		if (!strcmp(ctx->hier_ctrls[i], ctrl))
			return ctx->hier_paths[i];
	return NULL;
}

/* Primary hierarchy: membership and the v1 memory files live there. */
static const char *primary(const struct kdcg_ctx *ctx)
{
	return ctx->hier_paths ? ctx->hier_paths[0] : NULL;
}

static int cg_errno(int r)
{
	int e;

	switch (r) {
	case 0:
		return 0;
	case ECGOTHER:
	case ECGCANTSETVALUE:
		e = cgroup_get_last_errno();
		return e > 0 ? -e : -EIO;
	case ECGROUPNOTOWNER:
	case ECGROUPNOTALLOWED:
		return -EACCES;
	case ECGROUPNOTEXIST:
	case ECGROUPVALUENOTEXIST:
		return -ENOENT;
	case ECGROUPNOTMOUNTED:
	case ECGROUPSUBSYSNOTMOUNTED:
		return -ENODEV;
	case ECGINVAL:
		return -EINVAL;
	case ECGNONEMPTY:
		return -EBUSY;
	default:
		return -EIO;
	}
}

char *kdcg_find_cgroup2_mount(void)
{
	_cleanup_free_ char *s = NULL;
	struct statfs sf;

	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return strdup("/sys/fs/cgroup");
	if (read_full_file("/proc/self/mounts", &s, NULL) < 0)
		return NULL;
	for (char *line = s; line && *line;) {
		char *nl = strchr(line, '\n'), *sp1, *sp2;
		if (nl)
			*nl = '\0';
		sp1 = strchr(line, ' ');
		sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		if (sp2 && !strncmp(sp2 + 1, "cgroup2 ", 8)) {
			*sp2 = '\0';
			if (!strchr(sp1 + 1, '\\'))
				return strdup(sp1 + 1);
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static bool word_in(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; p && (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

/* ---- open / close -------------------------------------------------------- */

static int check_writable(struct kdcg_ctx *ctx, const char *mnt)
{
	_cleanup_free_ char *p = strdupf("%s/" KDCG_ROOT, mnt);

	if (!p)
		return -ENOMEM;
	if (access(exists(p) ? p : mnt, W_OK) < 0)
		return kdcg_set_error(
		    ctx, -errno,
		    "cannot write %s: %s (kdrill needs root or a delegated cgroup tree)",
		    exists(p) ? p : mnt, strerror(errno));
	return 0;
}

static int v1_open(struct kdcg_ctx *ctx)
{
	int r = cgroup_init();

	if (r)
		return kdcg_set_error(ctx, -EOPNOTSUPP, "libcgroup cgroup_init: %s",
				      cgroup_strerror(r));
	for (size_t i = 0; v1_ctrls[i]; i++) {
		char *mp = NULL;
		struct statfs sf;

		if (cgroup_get_subsys_mount_point(v1_ctrls[i], &mp) != 0 || !mp)
			continue;
		if (statfs(mp, &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC) {
			if (strv_push(&ctx->hier_paths, mp) < 0 ||
			    strv_extend(&ctx->hier_ctrls, v1_ctrls[i]) < 0)
				return -ENOMEM;
		} else {
			free(mp);
		}
	}
	if (!v1_mount(ctx, "memory"))
		return kdcg_set_error(
		    ctx, -EOPNOTSUPP,
		    "no cgroup v1 memory hierarchy is mounted (pure cgroup2 host? use v2)");
	for (size_t i = 0; ctx->hier_paths[i]; i++) {
		r = check_writable(ctx, ctx->hier_paths[i]);
		if (r < 0)
			return r;
	}
	ctx->unified = kdcg_find_cgroup2_mount();
	if (ctx->unified &&
	    (access(ctx->unified, W_OK) < 0 || !startswith(ctx->unified, "/sys/fs/cgroup/"))) {
		free(ctx->unified);
		ctx->unified = NULL;
	}
	return 0;
}

static int v2_open(struct kdcg_ctx *ctx)
{
	_cleanup_free_ char *ctl = NULL, *p = NULL;
	char *mnt = kdcg_find_cgroup2_mount();
	int r;

	if (!mnt)
		return kdcg_set_error(ctx, -EOPNOTSUPP, "no cgroup2 filesystem is mounted");
	r = strv_push(&ctx->hier_paths, mnt);
	if (r < 0)
		return r;
	p = strdupf("%s/cgroup.controllers", mnt);
	if (!p || read_one_line(p, &ctl) < 0)
		ctl = strdup("");
	if (!ctl)
		return -ENOMEM;
	strstrip(ctl);
	ctx->v2_has_memory = word_in(ctl, "memory");
	ctx->v2_has_pids = word_in(ctl, "pids");
	ctx->v2_has_cpu = word_in(ctl, "cpu");
	ctx->v2_has_io = word_in(ctl, "io");
	if (ctx->auto_select && !(ctx->v2_has_memory && ctx->v2_has_pids))
		return kdcg_set_error(
		    ctx, -EOPNOTSUPP,
		    "cgroup2 at %s lacks the memory/pids controllers (cgroup.controllers: '%s'; "
		    "they are bound to v1 hierarchies)",
		    mnt, ctl);
	return check_writable(ctx, mnt);
}

static void cgfs_close(struct kdcg_ctx *ctx)
{
	/* Drop the shared root when we were the last user (others' EBUSY is fine). */
	for (size_t i = 0; ctx->hier_paths && ctx->hier_paths[i]; i++) {
		_cleanup_free_ char *p = strdupf("%s/" KDCG_ROOT, ctx->hier_paths[i]);
		if (p)
			(void)rmdir(p);
	}
	if (ctx->unified) {
		_cleanup_free_ char *p = strdupf("%s/" KDCG_ROOT, ctx->unified);
		if (p)
			(void)rmdir(p);
	}
	strv_free(ctx->hier_paths);
	strv_free(ctx->hier_ctrls);
	ctx->hier_paths = ctx->hier_ctrls = NULL;
	free(ctx->unified);
	ctx->unified = NULL;
}

/* ---- tree helpers -------------------------------------------------------- */

typedef int (*dir_fn)(const char *dir, void *userdata);

/* Post-order (children first) walk over a cgroup directory tree. */
static int walk(const char *dir, dir_fn fn, void *userdata)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *sub = strdupf("%s/%s", dir, de->d_name);
		if (!sub) {
			r = -ENOMEM;
			break;
		}
		r = walk(sub, fn, userdata);
		if (r < 0)
			break;
	}
	closedir(d);
	return r < 0 ? r : fn(dir, userdata);
}

struct pidv {
	pid_t *p;
	size_t n, cap;
};

/* "pid\npid\n..." -> v */
static int parse_pids(const char *s, struct pidv *v)
{
	for (const char *p = s; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		p = end;
		if (pid <= 0)
			continue;
		if (v->n == v->cap) {
			size_t nc = v->cap ? v->cap * 2 : 16;
			pid_t *np = realloc(v->p, nc * sizeof(*np));
			if (!np)
				return -ENOMEM;
			v->p = np;
			v->cap = nc;
		}
		v->p[v->n++] = (pid_t)pid;
	}
	return 0;
}

/* the pids in DIR/NAME -> v; -ENOENT when the file is not there */
static int collect_file(const char *dir, const char *name, struct pidv *v)
{
	_cleanup_free_ char *f = strdupf("%s/%s", dir, name), *s = NULL;
	int r;

	if (!f)
		return -ENOMEM;
	if ((r = read_full_file(f, &s, NULL)) < 0)
		return r;
	return parse_pids(s, v);
}

static int collect_procs(const char *dir, void *userdata)
{
	int r = collect_file(dir, "cgroup.procs", userdata);

	return r == -ENOENT ? 0 : r;
}

/* cgroup.threads (v2) or tasks (v1): every thread, not only every process */
static int collect_threads(const char *dir, void *userdata)
{
	int r = collect_file(dir, "cgroup.threads", userdata);

	if (r == -ENOENT)
		r = collect_file(dir, "tasks", userdata);
	return r == -ENOENT ? 0 : r;
}

/* every pid fn collects in the cgroup subtree at path; -ENOENT: the subtree is gone, or
 * part of it went while it was read (*ret holds what was collected) */
static int path_pids(struct kdcg_ctx *ctx, const char *path, dir_fn fn, pid_t **ret, size_t *n)
{
	_cleanup_free_ char *dir = strdupf("%s%s", primary(ctx), path);
	struct pidv v = {0};
	int r;

	*ret = NULL;
	*n = 0;
	if (!dir)
		return -ENOMEM;
	r = walk(dir, fn, &v);
	if (r < 0 && r != -ENOENT) {
		free(v.p);
		return r;
	}
	*ret = v.p;
	*n = v.n;
	return r;
}

int kdcg_cgfs_path_threads(struct kdcg_ctx *ctx, const char *path, pid_t **ret, size_t *n)
{
	return path_pids(ctx, path, collect_threads, ret, n);
}

static int cgfs_members(struct kdcg_ctx *ctx, const char *path, pid_t **ret, size_t *n)
{
	int r = path_pids(ctx, path, collect_procs, ret, n);

	return r == -ENOENT ? 0 : r;
}

static int rmdir_one(const char *dir, void *userdata)
{
	struct kdcg_ctx *ctx = userdata;
	for (int i = 0; i < 100; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		if (ctx && kdcg_past_deadline(ctx))
			break;
		usleep(10000); /* killed tasks still exiting */
	}
	return -EBUSY;
}

/* One attempt, never sleeps (the asynchronous destroy retries on its timer). */
static int rmdir_try(const char *dir, void *userdata)
{
	bool *busy = userdata;
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY)
		return -errno;
	*busy = true;
	return 0; /* go on with the siblings; the parent will be busy too */
}

struct sum_ctx {
	const char *file, *key;
	uint64_t total;
};

static int sum_keyed(const char *dir, void *userdata)
{
	struct sum_ctx *c = userdata;
	_cleanup_free_ char *f = strdupf("%s/%s", dir, c->file);
	uint64_t v = 0;

	if (!f)
		return -ENOMEM;
	if (kdcg_read_keyed(f, c->key, &v) >= 0)
		c->total += v;
	return 0;
}

static uint64_t subtree_sum(const char *mnt, const char *path, const char *file, const char *key)
{
	_cleanup_free_ char *dir = NULL;
	struct sum_ctx c = {file, key, 0};

	if (!mnt || !(dir = strdupf("%s%s", mnt, path)))
		return 0;
	walk(dir, sum_keyed, &c);
	return c.total;
}

/* ---- mkdir / remove ------------------------------------------------------ */

static int v1_mkdir(struct kdcg_ctx *ctx, const char *path, const struct kdcg_limits *lim);
static int v2_mkdir(struct kdcg_ctx *ctx, const char *path, const struct kdcg_limits *lim);

static int cgfs_remove(struct kdcg_ctx *ctx, const char *path)
{
	int r = 0;
	bool gone = false;

	if (!primary(ctx))
		return 0;
	/* Kill everything inside, again and again until the tree is empty (forks race). */
	for (int i = 0; i < 200 && !(i && kdcg_past_deadline(ctx)); i++) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;

		if (!is_v1(ctx)) {
			_cleanup_free_ char *k = strdupf("%s%s/cgroup.kill", primary(ctx), path);
			if (k && exists(k))
				(void)write_string_file(k, "1");
		}
		if (cgfs_members(ctx, path, &pids, &n) < 0 || n == 0) {
			gone = true;
			break;
		}
		for (size_t j = 0; j < n; j++)
			kill(pids[j], SIGKILL);
		usleep(i < 10 ? 2000 : 20000);
	}
	if (!gone)
		return kdcg_set_error(ctx, -EBUSY, "processes in %s survive SIGKILL (D state?)",
				      path);
	if (is_v1(ctx)) {
		struct cgroup *cg = cgroup_new_cgroup(path + 1);
		if (cg) {
			for (size_t i = 0; ctx->hier_ctrls[i]; i++)
				cgroup_add_controller(cg, ctx->hier_ctrls[i]);
			(void)cgroup_delete_cgroup_ext(cg, CGFLAG_DELETE_RECURSIVE |
							       CGFLAG_DELETE_IGNORE_MIGRATION);
			cgroup_free(&cg);
		}
	}
	for (size_t i = 0; ctx->hier_paths[i]; i++) {
		_cleanup_free_ char *d = strdupf("%s%s", ctx->hier_paths[i], path);
		int q = d ? walk(d, rmdir_one, ctx) : -ENOMEM;
		if (q < 0 && q != -ENOENT && r == 0)
			r = kdcg_set_error(ctx, q, "cannot remove %s: %s", d, strerror(-q));
	}
	if (is_v1(ctx) && ctx->unified) {
		_cleanup_free_ char *d = strdupf("%s%s", ctx->unified, path);
		int q = d ? walk(d, rmdir_one, ctx) : -ENOMEM;
		if (q < 0 && q != -ENOENT && r == 0)
			r = kdcg_set_error(ctx, q, "cannot remove %s: %s", d, strerror(-q));
	}
	return r;
}

static int any_exists(struct kdcg_ctx *ctx, const char *path)
{
	for (size_t i = 0; ctx->hier_paths[i]; i++) {
		_cleanup_free_ char *d = strdupf("%s%s", ctx->hier_paths[i], path);
		if (!d)
			return -ENOMEM;
		if (exists(d))
			return kdcg_set_error(ctx, -EEXIST, "cgroup %s already exists", d);
	}
	return 0;
}

static int v1_mkdir(struct kdcg_ctx *ctx, const char *path, const struct kdcg_limits *lim)
{
	static const struct kdcg_limits none;
	struct cgroup *cg = NULL;
	struct cgroup_controller *c;
	const char *mem = v1_mount(ctx, "memory");
	int r;

	if (!lim)
		lim = &none;
	r = any_exists(ctx, path);
	if (r < 0)
		return r;
	if ((lim->cpu_weight || lim->cpu_quota_pct) && !v1_mount(ctx, "cpu"))
		return kdcg_set_error(ctx, -EOPNOTSUPP, "v1: no cpu hierarchy mounted");
	if (lim->io_weight && !v1_mount(ctx, "blkio"))
		return kdcg_set_error(ctx, -EOPNOTSUPP, "v1: no blkio hierarchy mounted");
	if (lim->pids_max && !v1_mount(ctx, "pids"))
		return kdcg_set_error(ctx, -EOPNOTSUPP, "v1: no pids hierarchy mounted");
	if (lim->swap_max) {
		_cleanup_free_ char *f = strdupf("%s/memory.memsw.limit_in_bytes", mem);
		if (!lim->memory_max)
			return kdcg_set_error(
			    ctx, -EINVAL, "v1: swap max needs memory max (memsw = memory + swap)");
		if (!f || !exists(f))
			return kdcg_set_error(
			    ctx, -EOPNOTSUPP,
			    "v1: no memory.memsw.limit_in_bytes (boot with swapaccount=1)");
	}

	if (!memcmp(lim, &none, sizeof(none))) {
		/* No limits (a unit's cgroup): plain mkdir in each hierarchy.  libcgroup's create
		 * costs ~25 ms per cgroup here (some 44 mkdir calls and more), 7.5 s for the 300
		 * units of memcg-oom-jbd2. */
		size_t made = 0;
		for (; ctx->hier_paths[made]; made++) {
			_cleanup_free_ char *d = NULL;
			bool dup = false;
			for (size_t k = 0; k < made; k++) /* co-mounted (cpu,cpuacct) */
				dup = dup || !strcmp(ctx->hier_paths[k], ctx->hier_paths[made]);
			if (dup)
				continue;
			d = strdupf("%s%s", ctx->hier_paths[made], path);
			if (!d || mkdir(d, 0755) < 0)
				break;
		}
		if (!ctx->hier_paths[made])
			goto mirror;
		r = errno == ENOENT ? 0 : -errno; /* a parent missing: libcgroup makes them */
		cgfs_remove(ctx, path);
		if (r < 0)
			return kdcg_set_error(ctx, r, "cannot create cgroup %s: %s", path,
					      strerror(-r));
	}
	for (int attempt = 0; attempt < 3; attempt++) {
		cg = cgroup_new_cgroup(path + 1);
		if (!cg)
			return -ENOMEM;
		for (size_t i = 0; ctx->hier_ctrls[i]; i++)
			if (!cgroup_add_controller(cg, ctx->hier_ctrls[i])) {
				cgroup_free(&cg);
				return kdcg_set_error(ctx, -ENOMEM,
						      "libcgroup: cannot add controller %s",
						      ctx->hier_ctrls[i]);
			}
		c = cgroup_get_controller(cg, "memory");
		if (lim->memory_max)
			r = r
				?: cgroup_add_value_uint64(c, "memory.limit_in_bytes",
							   lim->memory_max);
		if (lim->swap_max)
			r = r
				?: cgroup_add_value_uint64(
				       c, "memory.memsw.limit_in_bytes",
				       lim->memory_max +
					   (lim->swap_max == KDCG_SWAP_ZERO ? 0 : lim->swap_max));
		if (lim->memory_high) /* v1 has no memory.high: the soft limit is the nearest */
			r = r
				?: cgroup_add_value_uint64(c, "memory.soft_limit_in_bytes",
							   lim->memory_high);
		if ((c = cgroup_get_controller(cg, "cpu"))) {
			if (lim->cpu_weight) /* CPUWeight 100 == cpu.shares 1024 */
				r = r
					?: cgroup_add_value_uint64(c, "cpu.shares",
								   lim->cpu_weight * 1024 / 100 < 2
								       ? 2
								       : lim->cpu_weight * 1024 /
									     100);
			if (lim->cpu_quota_pct) {
				r = r ?: cgroup_add_value_uint64(c, "cpu.cfs_period_us", 100000);
				r = r
					?: cgroup_add_value_uint64(c, "cpu.cfs_quota_us",
								   lim->cpu_quota_pct * 1000);
			}
		}
		if (lim->pids_max && (c = cgroup_get_controller(cg, "pids")))
			r = r ?: cgroup_add_value_uint64(c, "pids.max", lim->pids_max);
		if (r) {
			cgroup_free(&cg);
			return kdcg_set_error(ctx, cg_errno(r), "libcgroup: %s",
					      cgroup_strerror(r));
		}
		r = cgroup_create_cgroup(cg, 0);
		cgroup_free(&cg);
		if (r == 0)
			break;
		r = cg_errno(r);
		{
			_cleanup_free_ char *why = strdup(strerror(-r));
			cgfs_remove(ctx, path);
			if (r == -ENOENT && attempt < 2) { /* shared root rmdir'ed under us */
				r = 0;
				continue;
			}
			return kdcg_set_error(ctx, r, "cannot create cgroup %s: %s", path,
					      why ? why : "?");
		}
	}
	if (lim->io_weight) {
		const char *bm = v1_mount(ctx, "blkio");
		_cleanup_free_ char *bfq = strdupf("%s%s/blkio.bfq.weight", bm, path);
		_cleanup_free_ char *cfq = strdupf("%s%s/blkio.weight", bm, path);
		_cleanup_free_ char *v = NULL;
		const char *f = bfq && exists(bfq) ? bfq : cfq && exists(cfq) ? cfq : NULL;

		if (!f) {
			cgfs_remove(ctx, path);
			return kdcg_set_error(
			    ctx, -EOPNOTSUPP,
			    "v1: io weight needs blkio.bfq.weight or blkio.weight (BFQ/CFQ)");
		}
		/* IOWeight 1..10000 (default 100) -> BFQ/CFQ weight 1..1000 (default 100) */
		v = strdupf("%llu",
			    (unsigned long long)(lim->io_weight <= 100
						     ? lim->io_weight
						     : 100 + (lim->io_weight - 100) * 900 / 9900));
		r = v ? write_string_file(f, v) : -ENOMEM;
		if (r < 0) {
			cgfs_remove(ctx, path);
			return kdcg_set_error(ctx, r, "v1: write %s: %s", f, strerror(-r));
		}
	}
mirror:
	if (ctx->unified) {
		_cleanup_free_ char *d = strdupf("%s%s", ctx->unified, path);
		if (d)
			(void)mkdir_p(d, 0755); /* PSI mirror; best effort */
	}
	return 0;
}

static int v2_enable(struct kdcg_ctx *ctx, const char *dir)
{
	_cleanup_free_ char *f = strdupf("%s/cgroup.subtree_control", dir), *cur = NULL;
	const bool have[] = {ctx->v2_has_memory, ctx->v2_has_pids, ctx->v2_has_cpu, ctx->v2_has_io};

	if (!f)
		return -ENOMEM;
	(void)read_one_line(f, &cur);
	for (size_t i = 0; v2_ctrls[i]; i++) {
		_cleanup_free_ char *w = NULL;
		if (!have[i] || (cur && word_in(cur, v2_ctrls[i])))
			continue;
		w = strdupf("+%s", v2_ctrls[i]);
		if (w)
			(void)write_string_file(f, w);
	}
	return 0;
}

static int v2_write(struct kdcg_ctx *ctx, const char *dir, const char *file, const char *fmt,
		    unsigned long long v)
{
	_cleanup_free_ char *f = strdupf("%s/%s", dir, file), *s = strdupf(fmt, v);
	int r;

	if (!f || !s)
		return -ENOMEM;
	r = write_string_file(f, s);
	if (r < 0)
		return kdcg_set_error(ctx, r, "write %s=%s: %s", f, s, strerror(-r));
	return 0;
}

static int v2_mkdir(struct kdcg_ctx *ctx, const char *path, const struct kdcg_limits *lim)
{
	static const struct kdcg_limits none;
	const char *mnt = primary(ctx);
	_cleanup_free_ char *root = strdupf("%s/" KDCG_ROOT, mnt),
			    *dir = strdupf("%s%s", mnt, path);
	_cleanup_free_ char *ctl = NULL, *ctlf = strdupf("%s/cgroup.controllers", mnt);
	int r;

	if (!root || !dir || !ctlf)
		return -ENOMEM;
	if (!lim)
		lim = &none;
	r = any_exists(ctx, path);
	if (r < 0)
		return r;
	(void)read_one_line(ctlf, &ctl);
	if ((lim->memory_max || lim->memory_high || lim->swap_max) && !ctx->v2_has_memory)
		return kdcg_set_error(
		    ctx, -EOPNOTSUPP,
		    "memory controller not available in cgroup2 %s (cgroup.controllers: '%s')", mnt,
		    ctl ? strstrip(ctl) : "");
	if (lim->pids_max && !ctx->v2_has_pids)
		return kdcg_set_error(
		    ctx, -EOPNOTSUPP,
		    "pids controller not available in cgroup2 %s (cgroup.controllers: '%s')", mnt,
		    ctl ? strstrip(ctl) : "");
	if ((lim->cpu_weight || lim->cpu_quota_pct) && !ctx->v2_has_cpu)
		return kdcg_set_error(
		    ctx, -EOPNOTSUPP,
		    "cpu controller not available in cgroup2 %s (cgroup.controllers: '%s')", mnt,
		    ctl ? strstrip(ctl) : "");
	if (lim->io_weight && !ctx->v2_has_io)
		return kdcg_set_error(
		    ctx, -EOPNOTSUPP,
		    "io controller not available in cgroup2 %s (cgroup.controllers: '%s')", mnt,
		    ctl ? strstrip(ctl) : "");
	v2_enable(ctx, mnt);
	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		return kdcg_set_error(ctx, -errno, "mkdir %s: %s", root, strerror(errno));
	v2_enable(ctx, root);
	if (mkdir(dir, 0755) < 0) {
		if (errno == ENOENT) { /* shared root rmdir'ed under us: once more */
			(void)mkdir(root, 0755);
			v2_enable(ctx, root);
		}
		if (errno != ENOENT || mkdir(dir, 0755) < 0)
			return kdcg_set_error(ctx, -errno, "mkdir %s: %s", dir, strerror(errno));
	}
	r = 0;
	if (lim->memory_max)
		r = r ?: v2_write(ctx, dir, "memory.max", "%llu", lim->memory_max);
	if (lim->memory_high)
		r = r ?: v2_write(ctx, dir, "memory.high", "%llu", lim->memory_high);
	if (lim->swap_max)
		r = r
			?: v2_write(ctx, dir, "memory.swap.max", "%llu",
				    lim->swap_max == KDCG_SWAP_ZERO ? 0 : lim->swap_max);
	if (lim->cpu_weight)
		r = r ?: v2_write(ctx, dir, "cpu.weight", "%llu", lim->cpu_weight);
	if (lim->cpu_quota_pct)
		r = r ?: v2_write(ctx, dir, "cpu.max", "%llu 100000", lim->cpu_quota_pct * 1000);
	if (lim->io_weight)
		r = r ?: v2_write(ctx, dir, "io.weight", "default %llu", lim->io_weight);
	if (lim->pids_max)
		r = r ?: v2_write(ctx, dir, "pids.max", "%llu", lim->pids_max);
	if (r < 0) {
		_cleanup_free_ char *keep = strdup(kdcg_last_error(ctx));
		cgfs_remove(ctx, path);
		return kdcg_set_error(ctx, r, "%s", keep ? keep : "limit write failed");
	}
	if (endswith(path, ".slice"))
		v2_enable(ctx, dir);
	return 0;
}

/* ---- hooks for the supervisor -------------------------------------------- */

/* The child writes its pid into these in order.  The memory hierarchy comes last: once
 * charged to a memcg at its limit, every later attach would allocate (css_sets, links) in
 * reclaim while holding cgroup_mutex, and every cgroup operation on the machine (our
 * mkdirs included) waits behind it: a 3.3 s mkdir was measured with the memory file first. */
static int cgfs_procs_files(struct kdcg_ctx *ctx, const char *path, char ***ret)
{
	const char *mem = is_v1(ctx) ? v1_mount(ctx, "memory") : NULL;
	char **l = NULL;

	for (size_t i = 0; ctx->hier_paths[i]; i++) {
		if (mem && ctx->hier_paths[i] == mem)
			continue;
		char *f = strdupf("%s%s/cgroup.procs", ctx->hier_paths[i], path);
		if (!f || strv_push(&l, f) < 0)
			goto enomem;
	}
	if (is_v1(ctx) && ctx->unified) {
		_cleanup_free_ char *d = strdupf("%s%s", ctx->unified, path);
		if (d && exists(d)) {
			char *f = strdupf("%s/cgroup.procs", d);
			if (!f || strv_push(&l, f) < 0)
				goto enomem;
		}
	}
	if (mem) {
		char *f = strdupf("%s%s/cgroup.procs", mem, path);
		if (!f || strv_push(&l, f) < 0)
			goto enomem;
	}
	*ret = l;
	return 0;
enomem:
	strv_free(l);
	return -ENOMEM;
}

static int cgfs_oom_kill(struct kdcg_ctx *ctx, const char *path, uint64_t *ret)
{
	_cleanup_free_ char *f = NULL;

	*ret = 0;
	if (is_v1(ctx))
		f = strdupf("%s%s/memory.oom_control", v1_mount(ctx, "memory"), path);
	else
		f = strdupf("%s%s/memory.events", primary(ctx), path);
	if (!f)
		return -ENOMEM;
	return kdcg_read_keyed(f, "oom_kill", ret);
}

const struct kdcg_fs_hooks kdcg_fs_hooks_v1 = {
    .mkdir = v1_mkdir,
    .procs_files = cgfs_procs_files,
    .members = cgfs_members,
    .remove = cgfs_remove,
    .oom_kill = cgfs_oom_kill,
};
const struct kdcg_fs_hooks kdcg_fs_hooks_v2 = {
    .mkdir = v2_mkdir,
    .procs_files = cgfs_procs_files,
    .members = cgfs_members,
    .remove = cgfs_remove,
    .oom_kill = cgfs_oom_kill,
};

static const struct kdcg_fs_hooks *hooks(struct kdcg_ctx *ctx)
{
	return is_v1(ctx) ? &kdcg_fs_hooks_v1 : &kdcg_fs_hooks_v2;
}

/* ---- stats --------------------------------------------------------------- */

static void read_u64_at(const char *dir, const char *file, uint64_t *ret)
{
	_cleanup_free_ char *f = strdupf("%s/%s", dir, file);
	if (f)
		(void)kdcg_read_u64(f, ret);
}

static void read_keyed_at(const char *dir, const char *file, const char *key, uint64_t *ret)
{
	_cleanup_free_ char *f = strdupf("%s/%s", dir, file);
	if (f)
		(void)kdcg_read_keyed(f, key, ret);
}

static void read_psi_at(const char *dir, struct kdcg_stats *st)
{
	_cleanup_free_ char *m = strdupf("%s/memory.pressure", dir);
	_cleanup_free_ char *io = strdupf("%s/io.pressure", dir);
	_cleanup_free_ char *cpu = strdupf("%s/cpu.pressure", dir);

	if (m)
		kdcg_read_psi(m, &st->memory_psi_some_avg10, &st->memory_psi_full_avg10);
	if (io)
		kdcg_read_psi(io, &st->io_psi_some_avg10, NULL);
	if (cpu)
		kdcg_read_psi(cpu, &st->cpu_psi_some_avg10, NULL);
}

/* blkio "8:0 Read 123" lines or io.stat "8:0 rbytes=1 wbytes=2 ..." lines */
static void read_io(const char *file, bool v1, struct kdcg_stats *st)
{
	_cleanup_free_ char *s = NULL;

	if (read_full_file(file, &s, NULL) < 0)
		return;
	for (char *line = s; line && *line;) {
		char *nl = strchr(line, '\n'), *p;
		if (nl)
			*nl = '\0';
		if (v1) {
			char dev[64], op[16];
			unsigned long long v;
			if (sscanf(line, "%63s %15s %llu", dev, op, &v) == 3) {
				if (!strcmp(op, "Read"))
					st->io_rbytes += v;
				else if (!strcmp(op, "Write"))
					st->io_wbytes += v;
			}
		} else {
			if ((p = strstr(line, " rbytes=")))
				st->io_rbytes += strtoull(p + 8, NULL, 10);
			if ((p = strstr(line, " wbytes=")))
				st->io_wbytes += strtoull(p + 8, NULL, 10);
		}
		line = nl ? nl + 1 : NULL;
	}
}

int kdcg_cgfs_path_stats(struct kdcg_ctx *ctx, const char *path, struct kdcg_stats *st)
{
	_cleanup_free_ char *base = strdupf("%s%s", primary(ctx), path);
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;

	if (!base)
		return -ENOMEM;
	if (!exists(base))
		return kdcg_set_error(ctx, -ENOENT, "no cgroup %s", base);
	if (is_v1(ctx)) {
		const char *pm = v1_mount(ctx, "pids"), *cm = v1_mount(ctx, "cpuacct"),
			   *bm = v1_mount(ctx, "blkio");
		uint64_t oc = 0;

		read_u64_at(base, "memory.usage_in_bytes", &st->memory_current);
		read_u64_at(base, "memory.max_usage_in_bytes", &st->memory_peak);
		read_u64_at(base, "memory.limit_in_bytes", &st->memory_max);
		if (st->memory_max >= (1ULL << 62))
			st->memory_max = 0;
		{ /* with a memsw limit the memsw counter is the one that fails */
			uint64_t f1 = 0, f2 = 0;
			read_u64_at(base, "memory.failcnt", &f1);
			read_u64_at(base, "memory.memsw.failcnt", &f2);
			st->memory_events_max = f1 > f2 ? f1 : f2;
		}
		read_keyed_at(base, "memory.oom_control", "under_oom", &oc);
		st->under_oom = oc != 0;
		/* v1 counts oom_kill only in the victim's own memcg: sum the subtree. */
		st->oom_kill = subtree_sum(primary(ctx), path, "memory.oom_control", "oom_kill");
		st->oom = st->oom_kill;
		if (pm) {
			_cleanup_free_ char *pd = strdupf("%s%s", pm, path);
			if (pd) {
				read_u64_at(pd, "pids.current", &st->pids_current);
				read_u64_at(pd, "pids.max", &st->pids_max);
			}
			st->pids_events_max = subtree_sum(pm, path, "pids.events", "max");
		}
		if (cm) {
			_cleanup_free_ char *cd = strdupf("%s%s", cm, path);
			uint64_t ns = 0;
			if (cd)
				read_u64_at(cd, "cpuacct.usage", &ns);
			st->cpu_usage_usec = ns / 1000;
		}
		if (bm) {
			_cleanup_free_ char *bf =
			    strdupf("%s%s/blkio.throttle.io_service_bytes_recursive", bm, path);
			if (bf)
				read_io(bf, true, st);
		}
		if (ctx->unified) {
			_cleanup_free_ char *ud = strdupf("%s%s", ctx->unified, path);
			if (ud && exists(ud))
				read_psi_at(ud, st);
		}
	} else {
		_cleanup_free_ char *iof = strdupf("%s/io.stat", base);

		read_u64_at(base, "memory.current", &st->memory_current);
		read_u64_at(base, "memory.peak", &st->memory_peak);
		read_u64_at(base, "memory.max", &st->memory_max);
		read_keyed_at(base, "memory.events", "oom", &st->oom);
		read_keyed_at(base, "memory.events", "oom_kill", &st->oom_kill);
		read_keyed_at(base, "memory.events", "max", &st->memory_events_max);
		read_keyed_at(base, "memory.events", "high", &st->memory_events_high);
		read_keyed_at(base, "cpu.stat", "usage_usec", &st->cpu_usage_usec);
		read_u64_at(base, "pids.current", &st->pids_current);
		read_u64_at(base, "pids.max", &st->pids_max);
		read_keyed_at(base, "pids.events", "max", &st->pids_events_max);
		if (iof)
			read_io(iof, false, st);
		read_psi_at(base, st);
	}
	if (cgfs_members(ctx, path, &pids, &n) >= 0)
		st->n_pids = (unsigned)n;
	return 0;
}

/* ---- slices and units ---------------------------------------------------- */

/* v1 oom_kill / pids "max" are counted in the victim's own cgroup only; keep the
 * counts of a removed subtree in every ancestor slice so they stay hierarchical. */
static void v1_carry(struct kdcg_ctx *ctx, const char *path, struct kdcg_slice *to,
		     uint64_t extra_oom, uint64_t extra_pids) /* every ancestor gets the counts */
{
	uint64_t ook, pev;
	const char *pm;

	if (!is_v1(ctx))
		return;
	pm = v1_mount(ctx, "pids");
	ook = subtree_sum(primary(ctx), path, "memory.oom_control", "oom_kill") + extra_oom;
	pev = (pm ? subtree_sum(pm, path, "pids.events", "max") : 0) + extra_pids;
	for (; to; to = to->parent) {
		to->carried_oom_kill += ook;
		to->carried_pids_events += pev;
	}
}

/* Pin the creation time into the cgroup (kernfs keeps explicitly set times in the node;
 * otherwise a directory's times are those of its inode's last instantiation, which can be
 * much later).  The leftover reaper compares it with the owner pid's start time to tell a
 * reused pid from a live owner. */
static void pin_ctime(struct kdcg_ctx *ctx, const char *path)
{
	for (size_t i = 0; ctx->hier_paths && ctx->hier_paths[i]; i++) {
		_cleanup_free_ char *d = strdupf("%s%s", ctx->hier_paths[i], path);
		if (d)
			(void)utimensat(AT_FDCWD, d, NULL, 0);
	}
}

static int cgfs_slice_create(struct kdcg_slice *s)
{
	int r = hooks(s->ctx)->mkdir(s->ctx, s->path, &s->limits);
	if (r >= 0)
		pin_ctime(s->ctx, s->path);
	return r;
}

/* SIGKILL the whole subtree at once, without waiting: v2 cgroup.kill (recursive, also
 * catches forks in flight), and every pid listed anywhere in the subtree (v1; v2 without
 * cgroup.kill). */
int kdcg_cgfs_slice_kill(struct kdcg_slice *s)
{
	struct kdcg_ctx *ctx = s->ctx;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r;

	if (!is_v1(ctx)) {
		_cleanup_free_ char *k = strdupf("%s%s/cgroup.kill", primary(ctx), s->path);
		if (k && write_string_file(k, "1") == 0)
			return 0;
	}
	r = cgfs_members(ctx, s->path, &pids, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	return 0;
}

int kdcg_cgfs_slice_lift(struct kdcg_slice *s)
{
	struct kdcg_ctx *ctx = s->ctx;
	static const char *const v1_files[] = {"memory.memsw.limit_in_bytes", /* memsw >= limit */
					       "memory.limit_in_bytes", NULL};
	static const char *const v2_files[] = {"memory.high", "memory.max", NULL};
	const char *mnt = is_v1(ctx) ? v1_mount(ctx, "memory") : primary(ctx);
	int r = 0;

	if (!mnt)
		return 0;
	for (const char *const *f = is_v1(ctx) ? v1_files : v2_files; *f; f++) {
		_cleanup_free_ char *p = strdupf("%s%s/%s", mnt, s->path, *f);
		int q;
		if (!p)
			return -ENOMEM;
		if (!exists(p))
			continue;
		q = write_string_file(p, is_v1(ctx) ? "-1" : "max");
		if (q < 0 && r == 0)
			r = q;
	}
	return r;
}

static int cgfs_slice_try_remove(struct kdcg_slice *s)
{
	struct kdcg_ctx *ctx = s->ctx;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	bool busy = false;
	int r = 0;

	if (cgfs_members(ctx, s->path, &pids, &n) < 0 || n > 0)
		return -EBUSY;
	if (!s->carried) { /* the processes are gone: the v1 counts are final */
		v1_carry(ctx, s->path, s->parent, 0, 0);
		s->carried = true;
	}
	for (size_t i = 0; ctx->hier_paths[i]; i++) {
		_cleanup_free_ char *d = strdupf("%s%s", ctx->hier_paths[i], s->path);
		int q = d ? walk(d, rmdir_try, &busy) : -ENOMEM;
		if (q < 0 && q != -ENOENT && r == 0)
			r = kdcg_set_error(ctx, q, "cannot remove %s: %s", d, strerror(-q));
	}
	if (is_v1(ctx) && ctx->unified) {
		_cleanup_free_ char *d = strdupf("%s%s", ctx->unified, s->path);
		int q = d ? walk(d, rmdir_try, &busy) : -ENOMEM;
		if (q < 0 && q != -ENOENT && r == 0)
			r = kdcg_set_error(ctx, q, "cannot remove %s: %s", d, strerror(-q));
	}
	return r < 0 ? r : busy ? -EBUSY : 0;
}

static int cgfs_slice_remove(struct kdcg_slice *s)
{
	/* Units and child slices are gone already (their counts were carried upwards). */
	if (!s->carried)
		v1_carry(s->ctx, s->path, s->parent, 0, 0);
	s->carried = true;
	return cgfs_remove(s->ctx, s->path);
}

int kdcg_cgfs_set_attr(struct kdcg_slice *s, const char *key, const char *value)
{
	struct kdcg_ctx *ctx = s->ctx;
	_cleanup_free_ char *ctrl = strndup(key, strcspn(key, "."));
	_cleanup_free_ char *file = NULL;
	const char *mnt;
	int r;

	if (!ctrl)
		return -ENOMEM;
	if (is_v1(ctx)) {
		struct cgroup *cg;
		struct cgroup_controller *c;

		mnt = v1_mount(ctx, ctrl);
		if (!mnt)
			return kdcg_set_error(ctx, -EINVAL,
					      "unknown controller '%s' (v1 backend uses: memory "
					      "pids cpu cpuacct blkio)",
					      ctrl);
		file = strdupf("%s%s/%s", mnt, s->path, key);
		if (!file)
			return -ENOMEM;
		if (!exists(file))
			return kdcg_set_error(ctx, -ENOENT, "no attribute %s in the %s controller",
					      key, ctrl);
		if (ctx->ops->id != KDCG_V1) { /* systemd on a hybrid host: plain write */
			r = write_string_file(file, value);
			if (r < 0)
				return kdcg_set_error(ctx, r, "set %s=%s on %s: %s", key, value,
						      s->path, strerror(-r));
			return 0;
		}
		cg = cgroup_new_cgroup(s->path + 1);
		if (!cg)
			return -ENOMEM;
		c = cgroup_add_controller(cg, ctrl);
		r = c ? cgroup_add_value_string(c, key, value) : ECGFAIL;
		r = r ?: cgroup_modify_cgroup(cg);
		cgroup_free(&cg);
		if (r)
			return kdcg_set_error(ctx, cg_errno(r), "set %s=%s on %s: %s", key, value,
					      s->path, strerror(-cg_errno(r)));
		return 0;
	}
	mnt = primary(ctx);
	{
		_cleanup_free_ char *ctl = NULL, *ctlf = strdupf("%s/cgroup.controllers", mnt);
		if (!ctlf)
			return -ENOMEM;
		(void)read_one_line(ctlf, &ctl);
		if (strcmp(ctrl, "cgroup") && (!ctl || !word_in(ctl, ctrl)))
			return kdcg_set_error(ctx, -EINVAL,
					      "unknown controller '%s' (cgroup2 %s offers: '%s')",
					      ctrl, mnt, ctl ? strstrip(ctl) : "");
	}
	file = strdupf("%s%s/%s", mnt, s->path, key);
	if (!file)
		return -ENOMEM;
	if (!exists(file))
		return kdcg_set_error(ctx, -ENOENT, "no attribute %s in the %s controller", key,
				      ctrl);
	r = write_string_file(file, value);
	if (r < 0)
		return kdcg_set_error(ctx, r, "set %s=%s on %s: %s", key, value, s->path,
				      strerror(-r));
	return 0;
}

static int cgfs_list(struct kdcg_ctx *ctx, struct kdcg_leftover **ret, size_t *n)
{
	struct kdcg_leftover *l = NULL;
	size_t cnt = 0;
	char **mounts = NULL;
	int r = 0;

	for (size_t i = 0; ctx->hier_paths && ctx->hier_paths[i]; i++)
		if (strv_extend(&mounts, ctx->hier_paths[i]) < 0)
			goto enomem;
	if (is_v1(ctx) && ctx->unified && strv_extend(&mounts, ctx->unified) < 0)
		goto enomem;
	for (size_t i = 0; mounts && mounts[i]; i++) {
		_cleanup_free_ char *root = strdupf("%s/" KDCG_ROOT, mounts[i]);
		DIR *d = root ? opendir(root) : NULL;
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d))) {
			pid_t owner;
			char *path;
			bool dup = false;

			if (de->d_type != DT_DIR || !(owner = kdcg_owner_of(de->d_name)))
				continue;
			path = strdupf("/" KDCG_ROOT "/%s", de->d_name);
			if (!path) {
				closedir(d);
				goto enomem;
			}
			for (size_t j = 0; j < cnt && !dup; j++)
				dup = !strcmp(l[j].path, path);
			if (dup) {
				free(path);
				continue;
			}
			struct kdcg_leftover *nl = realloc(l, (cnt + 1) * sizeof(*l));
			if (!nl) {
				free(path);
				closedir(d);
				goto enomem;
			}
			l = nl;
			l[cnt].path = path;
			l[cnt].owner = owner;
			l[cnt].created_usec = 0;
			{
				struct stat st;
				if (fstatat(dirfd(d), de->d_name, &st, 0) == 0)
					l[cnt].created_usec =
					    (uint64_t)st.st_mtim.tv_sec * 1000000ULL +
					    (uint64_t)st.st_mtim.tv_nsec / 1000;
			}
			l[cnt].owner_alive = kdcg_owner_alive(owner, l[cnt].created_usec);
			cnt++;
		}
		closedir(d);
	}
	strv_free(mounts);
	*ret = l;
	*n = cnt;
	return r;
enomem:
	strv_free(mounts);
	kdcg_leftovers_free(l, cnt);
	return -ENOMEM;
}

static int cgfs_reap(struct kdcg_ctx *ctx, const struct kdcg_leftover *l)
{
	return cgfs_remove(ctx, l->path);
}

static int cgfs_unit_start(struct kdcg_unit *u)
{
	return kdcg_fs_unit_start(u, hooks(u->slice->ctx));
}

static int cgfs_unit_create(struct kdcg_unit *u)
{
	return kdcg_fs_unit_create(u, hooks(u->slice->ctx));
}

static int cgfs_unit_run(struct kdcg_unit *u)
{
	return kdcg_fs_unit_run(u, hooks(u->slice->ctx));
}

static int cgfs_unit_stop(struct kdcg_unit *u)
{
	return kdcg_fs_unit_stop(u, hooks(u->slice->ctx));
}

static int cgfs_unit_destroy(struct kdcg_unit *u)
{
	struct kdcg_ctx *ctx = u->slice->ctx;

	if (u->main_pid > 0) /* kill first so the carried counts are final */
		kill(u->main_pid, SIGKILL);
	v1_carry(ctx, u->path, u->slice, 0, 0);
	return kdcg_fs_unit_destroy(u, hooks(ctx));
}

static int cgfs_unit_stats(struct kdcg_unit *u, struct kdcg_stats *st)
{
	int r = kdcg_cgfs_path_stats(u->slice->ctx, u->path, st);
	return r == -ENOENT ? 0 : r;
}

/* v1 and v2 differ only in how they open; everything else is cgroupfs. */
#define CGFS_OPS(NAME, ID, OPEN)                                                                   \
	{                                                                                          \
		.name = NAME, .id = ID, .open = OPEN, .close = cgfs_close,                         \
		.slice_create = cgfs_slice_create, .slice_remove = cgfs_slice_remove,              \
		.set_attr = kdcg_cgfs_set_attr, .path_stats = kdcg_cgfs_path_stats,                \
		.list = cgfs_list, .reap = cgfs_reap, .unit_start = cgfs_unit_start,               \
		.unit_stop = cgfs_unit_stop, .unit_destroy = cgfs_unit_destroy,                    \
		.unit_stats = cgfs_unit_stats, .slice_kill = kdcg_cgfs_slice_kill,                 \
		.slice_try_remove = cgfs_slice_try_remove, .slice_lift = kdcg_cgfs_slice_lift,     \
		.unit_create = cgfs_unit_create, .unit_run = cgfs_unit_run,                        \
	}

const struct kdcg_ops kdcg_ops_v1 = CGFS_OPS("v1", KDCG_V1, v1_open);
const struct kdcg_ops kdcg_ops_v2 = CGFS_OPS("v2", KDCG_V2, v2_open);
