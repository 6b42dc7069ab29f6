/* SPDX-License-Identifier: GPL-2.0 */
/* kdcg internals shared by kdcg.c (common part + cgroupfs supervisor) and the backends. */
#ifndef KDRILL_KDCG_INTERNAL_H
#define KDRILL_KDCG_INTERNAL_H

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "kdcg.h"
#include "util.h"

#define KDCG_ROOT "kdrill.slice"

struct kdcg_ops;

struct kdcg_ctx {
	const struct kdcg_ops *ops;
	sd_event *event;
	pid_t self;
	char *error;
	struct kdcg_slice *slices; /* top-level slices (children hang off each slice) */
	unsigned n_units_alive;
	uint64_t deadline; /* CLOCK_MONOTONIC usec bounding a synchronous destroy; 0: none */

	/* cgroupfs (v1/v2) */
	char **hier_paths; /* v1: mount point per hierarchy we use; v2: the one mount */
	char **hier_ctrls; /* v1: controller name per hier_paths entry */
	char *unified;	   /* v1: the cgroup2 mount used for PSI/membership, or NULL */
	bool v2_has_memory, v2_has_pids, v2_has_cpu, v2_has_io;
	bool auto_select; /* AUTO: v2 only if memory+pids are available */

	/* systemd */
	sd_bus *bus;
	sd_bus_slot *match_slot;
	char *cgroup_mount; /* where the unit ControlGroup paths live (/sys/fs/cgroup[/unified]) */
	bool systemd_v1; /* hybrid/legacy systemd host: memory etc. under /sys/fs/cgroup/<ctrl> */
};

struct kdcg_slice {
	struct kdcg_ctx *ctx;
	struct kdcg_slice *parent, *children, *next;
	struct kdcg_unit *units;
	char *name;	 /* as given */
	char *path;	 /* cgroup path with leading '/', e.g. /kdrill.slice/kdrill-1-a.slice */
	char *unit_name; /* systemd: kdrill-1-a.slice */
	struct kdcg_limits limits;
	/* v1: oom counts of removed descendants (memory.oom_control is not hierarchical) */
	uint64_t carried_oom_kill, carried_pids_events;
	bool carried; /* this slice's own subtree counts went to its ancestors already */

	/* kdcg_slice_destroy_async() in progress */
	bool dying;
	sd_event_source *destroy_src;
	uint64_t destroy_deadline;
	kdcg_slice_cb destroy_cb;
	void *destroy_userdata;
};

struct kdcg_unit {
	struct kdcg_slice *slice;
	struct kdcg_unit *next;
	char *name;
	char *path;	 /* cgroup path */
	char *unit_name; /* systemd: kdrill-1-x.service; cgroupfs: last path component */
	char **argv, **envp;
	char *cwd, *stdout_path, *stderr_path;
	enum kdcg_restart restart;
	unsigned restart_max;
	uint64_t restart_usec;
	kdcg_unit_cb cb;
	void *userdata;

	/* state */
	bool active, done, stopping;
	bool ran; /* kdcg_unit_run() (or _start) happened */
	pid_t main_pid;
	unsigned restarts;
	int last_exit;
	const char *last_result;
	uint64_t oom_kill_at_start;
	sd_event_source *child_src, *timer_src, *kill_src;
	int exec_fd; /* cgroupfs: spawn status pipe of the current incarnation, or -1 */
	sd_event_source *exec_src; /* watches exec_fd */
	int exec_errno;		   /* the current/last incarnation could not exec: its errno */

	/* systemd */
	char *object_path;
	sd_bus_slot *props_slot;
	char *active_state, *sub_state;
	bool exit_reported; /* EXITED sent for the current incarnation */
	/* from the Service/Unit PropertiesChanged signals, as they arrive */
	pid_t sd_exec_pid;	    /* ExecMainPID: the current/last incarnation's process */
	pid_t sd_reported_pid;	    /* the incarnation whose exit was reported (EXITED) */
	int32_t sd_code, sd_status; /* ExecMainCode (CLD_*; 0: still running), ExecMainStatus */
	const char *sd_result;	    /* Result (static string) */
	uint32_t sd_job;	    /* Job id, 0: none */
	bool sd_job_known;	    /* a Unit signal with Job arrived */
};

struct kdcg_ops {
	const char *name;
	enum kdcg_backend id;
	int (*open)(struct kdcg_ctx *ctx); /* probe and initialise; kdcg_set_error() on failure */
	void (*close)(struct kdcg_ctx *ctx);
	int (*slice_create)(struct kdcg_slice *s);
	int (*slice_remove)(struct kdcg_slice *s); /* units already torn down */
	int (*set_attr)(struct kdcg_slice *s, const char *key, const char *value);
	int (*path_stats)(struct kdcg_ctx *ctx, const char *path, struct kdcg_stats *st);
	int (*list)(struct kdcg_ctx *ctx, struct kdcg_leftover **ret, size_t *n);
	int (*reap)(struct kdcg_ctx *ctx, const struct kdcg_leftover *l);
	int (*unit_start)(struct kdcg_unit *u);
	int (*unit_stop)(struct kdcg_unit *u);	  /* graceful, async */
	int (*unit_destroy)(struct kdcg_unit *u); /* synchronous kill + removal */
	int (*unit_stats)(struct kdcg_unit *u, struct kdcg_stats *st);
	/* Optional (kdcg_slice_destroy_async; without them it falls back to the synchronous
	 * destroy): SIGKILL every process in the subtree at once, without waiting; and try to
	 * remove the subtree's cgroups without blocking: 0 gone, -EBUSY processes or busy
	 * cgroups left (stragglers are SIGKILLed again), else an error. */
	int (*slice_kill)(struct kdcg_slice *s);
	int (*slice_try_remove)(struct kdcg_slice *s);
	/* Optional: drop this slice's own memory limits (max/high; not recursive). */
	int (*slice_lift)(struct kdcg_slice *s);
	/* Optional: unit_start in two steps (create the cgroup; start the process). */
	int (*unit_create)(struct kdcg_unit *u);
	int (*unit_run)(struct kdcg_unit *u);
};

extern const struct kdcg_ops kdcg_ops_v1, kdcg_ops_v2, kdcg_ops_systemd;

int kdcg_set_error(struct kdcg_ctx *ctx, int r, const char *fmt, ...) _printf_(3, 4);
void kdcg_stats_init(struct kdcg_stats *st);
/* "kdrill-<pid>-..." or "kdrill-<pid>.slice" -> pid, else 0. */
pid_t kdcg_owner_of(const char *name);
/* zombies, and a process started after created_usec (pid reuse; 0 unknown), count as dead */
bool kdcg_owner_alive(pid_t pid, uint64_t created_usec);
bool kdcg_past_deadline(const struct kdcg_ctx *ctx); /* a bounded destroy ran out of time */
void kdcg_unit_notify(struct kdcg_unit *u, enum kdcg_unit_event ev);

/* cgroupfs supervisor (kdcg.c), used by the v1 and v2 backends. */
struct kdcg_fs_hooks {
	int (*mkdir)(struct kdcg_ctx *ctx, const char *path, const struct kdcg_limits *lim);
	int (*procs_files)(struct kdcg_ctx *ctx, const char *path, char ***ret);
	int (*members)(struct kdcg_ctx *ctx, const char *path, pid_t **ret, size_t *n);
	int (*remove)(struct kdcg_ctx *ctx, const char *path); /* kill all, rmdir depth-first */
	int (*oom_kill)(struct kdcg_ctx *ctx, const char *path, uint64_t *ret); /* local */
};
int kdcg_fs_unit_start(struct kdcg_unit *u, const struct kdcg_fs_hooks *h);
int kdcg_fs_unit_create(struct kdcg_unit *u, const struct kdcg_fs_hooks *h);
int kdcg_fs_unit_run(struct kdcg_unit *u, const struct kdcg_fs_hooks *h);
int kdcg_fs_unit_stop(struct kdcg_unit *u, const struct kdcg_fs_hooks *h);
int kdcg_fs_unit_destroy(struct kdcg_unit *u, const struct kdcg_fs_hooks *h);

/* backend-cgfs.c, reused by the systemd backend on the unit's cgroup path: needs
 * ctx->hier_paths/hier_ctrls (and ->unified) filled in. */
int kdcg_cgfs_path_stats(struct kdcg_ctx *ctx, const char *path, struct kdcg_stats *st);
int kdcg_cgfs_set_attr(struct kdcg_slice *s, const char *key, const char *value);
/* Every thread (tid) in the cgroup subtree at path; -ENOENT (with what was read) when
 * the subtree, or part of it, is gone. */
int kdcg_cgfs_path_threads(struct kdcg_ctx *ctx, const char *path, pid_t **ret, size_t *n);
/* SIGKILL everything in the slice's cgroup subtree (v2 cgroup.kill, else every pid) and
 * lift its memory limits: the ops slice_kill / slice_lift of every backend. */
int kdcg_cgfs_slice_kill(struct kdcg_slice *s);
int kdcg_cgfs_slice_lift(struct kdcg_slice *s);
char *kdcg_find_cgroup2_mount(void);

/* PSI line "some avg10=0.00 ..." of a pressure file; -1 when absent. */
void kdcg_read_psi(const char *file, double *some10, double *full10);
/* "key value" lines (memory.events, pids.events, cpu.stat, memory.oom_control). */
int kdcg_read_keyed(const char *file, const char *key, uint64_t *ret);
int kdcg_read_u64(const char *file, uint64_t *ret); /* "max" -> 0 */

#endif
