/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kdcg: slices with limits, supervised commands inside them, stats, teardown.
 * One interface, three backends: systemd (sd-bus transient units), cgroupfs v2
 * and cgroupfs v1 (libcgroup).  Everything runs on the caller's sd-event loop;
 * functions return >= 0 or a negative errno and never print.  Everything made
 * carries the "kdrill-<ownerpid>-" name prefix so a later start can reap what a
 * killed kdrill left behind (only cgroups whose owner pid is dead).  The runner uses only
 * this interface.
 */
#ifndef KDRILL_KDCG_H
#define KDRILL_KDCG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct sd_event sd_event;

enum kdcg_backend { KDCG_AUTO, KDCG_SYSTEMD, KDCG_V2, KDCG_V1 };
enum kdcg_restart { KDCG_RESTART_NO, KDCG_RESTART_ON_FAILURE, KDCG_RESTART_ALWAYS };

/* 0 = not set, for every field. */
struct kdcg_limits {
	uint64_t memory_max;	/* bytes */
	uint64_t memory_high;	/* bytes */
	uint64_t swap_max;	/* bytes; KDCG_SWAP_ZERO for 0 */
	uint64_t cpu_weight;	/* 1..10000 */
	uint64_t cpu_quota_pct; /* 1.. (100 = one CPU) */
	uint64_t io_weight;	/* 1..10000 */
	uint64_t pids_max;
};
#define KDCG_SWAP_ZERO UINT64_MAX

struct kdcg_unit_spec {
	char *const *argv;
	char *const *envp; /* NULL: inherit */
	const char *cwd;
	const char *stdout_path; /* appended to; NULL: /dev/null */
	const char *stderr_path;
	enum kdcg_restart restart;
	unsigned restart_max;  /* 0 = unlimited */
	uint64_t restart_usec; /* delay before a restart (default 100 ms) */
};

enum kdcg_unit_event { KDCG_UNIT_EXITED, KDCG_UNIT_RESTARTED, KDCG_UNIT_DONE };

struct kdcg_unit_status {
	bool active;
	pid_t main_pid;
	unsigned restarts;
	int last_exit;		 /* exit code or 128+signal of the last incarnation, -1 none */
	const char *last_result; /* "success", "exit-code", "signal", "core-dump", "oom-kill",
				    "exec-failed" (cgroupfs: could not exec, see exec_errno) */
	/* Added after the first version (append only): */
	int exec_errno; /* last incarnation's exec failure (ENOENT, EACCES...), 0 none */
};

struct kdcg_stats {
	uint64_t memory_current, memory_peak, memory_max; /* memory_max 0 = no limit */
	uint64_t oom, oom_kill; /* hierarchical counts (survive child removal) */
	uint64_t cpu_usage_usec;
	uint64_t io_rbytes, io_wbytes;
	double memory_psi_some_avg10, io_psi_some_avg10; /* -1 when unavailable */
	unsigned n_pids;
	/* Added after the first version (append only): */
	uint64_t memory_events_max;	 /* v2 memory.events "max"; v1 memory.failcnt */
	uint64_t memory_events_high;	 /* v2 memory.events "high"; v1 0 */
	bool under_oom;			 /* v1 memory.oom_control under_oom; v2 false */
	uint64_t pids_current, pids_max; /* pids_max 0 = no limit */
	uint64_t pids_events_max;	 /* forks refused by pids.max (EAGAIN), hierarchical */
	double memory_psi_full_avg10, cpu_psi_some_avg10; /* -1 when unavailable */
};

struct kdcg_ctx;
struct kdcg_slice;
struct kdcg_unit;
typedef void (*kdcg_unit_cb)(struct kdcg_unit *u, enum kdcg_unit_event ev, void *userdata);
typedef void (*kdcg_slice_cb)(struct kdcg_slice *s, int r, void *userdata);

/* Pick (AUTO) or force a backend; a forced backend that cannot work is -EOPNOTSUPP
 * (kdcg_last_error(NULL) gives the one-line reason; *ret is NULL on failure).  Blocks
 * SIGCHLD in the calling thread (sd-event child sources need it).  The cgroupfs root is
 * "kdrill.slice" under each hierarchy. */
int kdcg_open(struct kdcg_ctx **ret, enum kdcg_backend backend, sd_event *event);
void kdcg_close(struct kdcg_ctx *ctx);			   /* destroys every slice still alive */
const char *kdcg_backend_name(const struct kdcg_ctx *ctx); /* "systemd", "v2", "v1" */
const char *kdcg_last_error(const struct kdcg_ctx *ctx);   /* human reason for the last failure;
							     NULL ctx: why kdcg_open failed */
int kdcg_backend_from_string(const char *s, enum kdcg_backend *ret);
/* Remove leftovers of dead kdrill processes; returns how many were reaped. */
int kdcg_reap_leftovers(struct kdcg_ctx *ctx);

/* parent NULL = directly under kdrill's root slice. Names: [A-Za-z0-9_-], 1..64, unique. */
int kdcg_slice_new(struct kdcg_ctx *ctx, struct kdcg_slice *parent, const char *name,
		   const struct kdcg_limits *limits, struct kdcg_slice **ret);
int kdcg_slice_stats(struct kdcg_slice *s, struct kdcg_stats *ret);
const char *kdcg_slice_path(const struct kdcg_slice *s); /* cgroup path, for the record */
/* Synchronous: SIGKILLs every process in the subtree (all at once first), reaps the units'
 * main pids, removes the cgroups/units.  Bounded: gives up after ~10 s in total (-EBUSY,
 * kdcg_last_error() says what is stuck; leftovers are reaped by a later start).  Frees
 * the slice, its child slices and units (no callbacks fire). */
int kdcg_slice_destroy(struct kdcg_slice *s);
/* Stop every unit of the subtree now, without waiting: no more restarts, SIGKILL to every
 * process at once (cgroupfs v2: cgroup.kill; v1: every pid in every cgroup.procs), then the
 * slices' memory limits are lifted: a task stuck in memcg reclaim at its limit cannot act on
 * SIGKILL (measured: memcg-oom-jbd2 workers in reclaim_throttle, others queued behind their
 * jbd2 handle, for 20 s after SIGKILL); once killed nothing can use the room in user space.
 * Units report EXITED/DONE from the loop as usual.  systemd backend: the same on the
 * slice's cgroup (the caller has StopUnit'ed its units: Restart= would bring a killed one
 * back). */
int kdcg_slice_kill(struct kdcg_slice *s);
/* Lift the memory limits (max/high) of s and every slice under it, now (cgroupfs writes, no
 * bus round trip, every backend).  A task charging at its limit -- a reproducer, or systemd
 * (PID 1) itself forking a unit's restart into the slice, which then answers no bus call
 * until the charge goes through -- proceeds at once.  0 or the first error. */
int kdcg_slice_lift(struct kdcg_slice *s);
/* Asynchronous destroy, for callers whose loop must keep running and for many units: at
 * once cancels every restart and SIGKILLs the whole subtree (cgroupfs v2: cgroup.kill; v1:
 * every pid in every cgroup.procs) and lifts its memory limits (see kdcg_slice_kill), then
 * on a 20 ms timer re-kills stragglers, reaps the
 * units' main pids (unit callbacks no longer fire) and removes the cgroups as they empty.
 * cb(s, 0) once everything is gone, cb(s, -EBUSY) when timeout_usec (0: 10 s) passed first
 * (what is left is reaped by a later start).  In cb, s is only an identity token: the
 * slice, its children and units are (being) freed; do not use them or their units.  systemd
 * backend: the synchronous destroy, from a defer source. kdcg_close() finishes pending ones
 * synchronously (without callbacks). */
int kdcg_slice_destroy_async(struct kdcg_slice *s, uint64_t timeout_usec, kdcg_slice_cb cb,
			     void *userdata);
/* Raw cgroup attribute ("memory.swappiness", "memory.oom.group"...).  cgroupfs backends
 * write the file of the owning controller; unknown controller -> -EINVAL, unknown
 * attribute -> -ENOENT.  systemd backend: written into the unit's cgroup directory. */
int kdcg_slice_set_attr(struct kdcg_slice *s, const char *key, const char *value);

int kdcg_unit_start(struct kdcg_slice *s, const char *name, const struct kdcg_unit_spec *spec,
		    kdcg_unit_cb cb, void *userdata, struct kdcg_unit **ret);
/* kdcg_unit_start() in two steps: _new validates, checks the program and creates the
 * unit's cgroup; _run starts it.  Lets a caller create every cgroup before any load runs:
 * while processes in a memcg at its limit fork (cgroup_threadgroup_rwsem held across
 * reclaim), cgroup attaches hold cgroup_mutex and a mkdir in cgroupfs can wait seconds
 * (3.3-4 s measured under memcg-oom-jbd2); starts and restarts need no mkdir.  A unit that
 * was never run counts as not active; kdcg_unit_stop() finishes it (DONE). */
int kdcg_unit_new(struct kdcg_slice *s, const char *name, const struct kdcg_unit_spec *spec,
		  kdcg_unit_cb cb, void *userdata, struct kdcg_unit **ret);
int kdcg_unit_run(struct kdcg_unit *u); /* -EALREADY if it ran already */
int kdcg_unit_status(struct kdcg_unit *u, struct kdcg_unit_status *ret);
int kdcg_unit_stop(struct kdcg_unit *u); /* SIGTERM, then SIGKILL after 2 s; async (DONE cb) */
/* Starting never blocks on the new process: cgroupfs backends fork and watch the exec
 * through a status pipe on the loop, so a child that is slow to exec (attached to a memcg
 * at its limit) stalls nothing.  A program that does not exist (PATH lookup) is still an
 * immediate error of kdcg_unit_start(); later exec failures (cwd, permissions, ...) arrive
 * as KDCG_UNIT_EXITED with last_result "exec-failed", last_exit 127 and exec_errno, and
 * follow the restart policy like any failure. */
const char *kdcg_unit_name(const struct kdcg_unit *u);
int kdcg_unit_stats(struct kdcg_unit *u, struct kdcg_stats *ret); /* zeros between restarts */
/* Every thread (tid) in the unit's cgroup subtree now, the main process's and its
 * children's alike (a unit whose main process is gone can still hold stuck children).
 * None between restarts; -errno. */
int kdcg_unit_threads(struct kdcg_unit *u, pid_t **ret, size_t *ret_n);

/* Stats of any cgroup path (as kdcg_slice_path() prints it) under this backend. */
int kdcg_path_stats(struct kdcg_ctx *ctx, const char *path, struct kdcg_stats *ret);
/* kdrill-made top-level cgroups/units on this machine, any owner (for `kdrill cgroup ls`). */
struct kdcg_leftover {
	char *path; /* cgroup path, e.g. /kdrill.slice/kdrill-123-a.slice */
	pid_t owner;
	bool owner_alive;      /* the owner runs (not a zombie, not a reused pid) */
	uint64_t created_usec; /* CLOCK_REALTIME of the cgroup's creation, 0 unknown */
};
int kdcg_list(struct kdcg_ctx *ctx, struct kdcg_leftover **ret, size_t *ret_n);
void kdcg_leftovers_free(struct kdcg_leftover *l, size_t n);

#endif
