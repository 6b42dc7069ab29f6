/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The runner: execute one scenario here (host mode, or inside the guest when the
 * agent calls it) and produce a complete result directory.
 *
 *   struct run_opts o = { .host = true, .scratch = "/var/tmp/kd" };
 *   struct run_result res;
 *   runner_run(sc, &o, &res);   // always fills res (INFRA on failures) unless < 0
 *   ... res.verdict, res.exit_code, res.run_dir, res.json (verdict.json object)
 *   run_result_done(&res);
 *
 * Everything happens on one sd-event loop (the caller's, if o->event is set: the
 * runner then drives it with sd_event_run() until the run is over and leaves it
 * usable).  Host-specific pieces (sparse images + loop devices under --scratch)
 * are in runner-host.c; in the guest the VM layer passes whole scratch disks in
 * o->devices and the systemd cgroup backend in o->cg_backend.
 */
#ifndef KDRILL_RUNNER_H
#define KDRILL_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "kdcg.h"
#include "scenario.h"
#include "verdict.h"

struct json_object;

enum run_ui { RUN_UI_QUIET, RUN_UI_PLAIN, RUN_UI_TTY };

struct run_progress {
	const char *run_id;
	const char *scenario; /* name[.variant] */
	double elapsed, total;
	double load_started; /* elapsed at the first unit's start, -1: none yet */
	uint64_t ops;
	double ops_per_s;
	uint64_t oom_kills, restarts;
	unsigned reports, failures; /* reports so far, of which failures */
	unsigned running;	    /* units alive */
};

struct run_opts {
	bool host;		      /* host mode: refuse scenarios with !host_ok, loop devices */
	bool dut;		      /* host mode on a disposable test device: host_destructive ok */
	const char *scratch;	      /* host: images + mount points; guest: mount points */
	char *const *devices;	      /* guest: whole disks, one per local [fs.X] in file order */
	enum kdcg_backend cg_backend; /* KDCG_AUTO on the host, KDCG_SYSTEMD in the guest */
	double duration;	      /* seconds; 0: the scenario's duration */
	int stop_on;		      /* -1: the scenario's; else enum sc_stop_on */
	const char *out_dir;	      /* results root; NULL: results_default_dir() */
	const char *bindir;	      /* where reproducers are; NULL: next to the kdrill binary */
	const char *mode_name;	      /* "host" or "vm" (for verdict.json); NULL: from .host */
	bool no_kmsg;		      /* do not watch /dev/kmsg (the host watches the console) */
	const char *kmsg_path;	      /* NULL: /dev/kmsg */
	const char *replay_kmsg;      /* test: /dev/kmsg-format records fed through the filter */
	const char *replay_console;   /* test: console bytes fed to the detector */
	uint64_t seed;		      /* 0: random; instance i gets seed + i */
	enum run_ui ui;		      /* progress on stderr */
	bool handle_signals;	      /* SIGINT/SIGTERM end the run with INFRA "interrupted" */
	struct sd_event *event;	      /* NULL: a private loop */
	/* Called every second and once at the end (e.g. the agent forwards it). */
	void (*progress)(const struct run_progress *p, void *userdata);
	/* Called for each new kernel report (the detector's JSON object, borrowed). */
	void (*report)(struct json_object *report, void *userdata);
	void *userdata;
	/* Set to the running runner while its units run (for runner_stop() from a handler
	 * on the same loop, e.g. the agent's "stop" command), NULL before and after. */
	struct runner **handle;
};

struct run_result {
	enum verdict verdict;
	bool match;
	int exit_code; /* git bisect run: 0 / 1 / 125 */
	char *reason;
	char *run_id;
	char *run_dir;
	struct json_object *json; /* verdict.json content */
	bool interrupted;
};

/* 0 with *ret filled (any verdict, INFRA included); -EOPNOTSUPP: host mode and the
 * scenario cannot run on the host (nothing written; ret->reason says why); other
 * negative errno: no result could be written at all (ret->reason says why). */
int runner_run(const struct scenario *sc, const struct run_opts *o, struct run_result *ret);
void run_result_done(struct run_result *r);
/* Stop the run now, as stop_on = first does at a kernel report: units get SIGTERM, the
 * result is written as usual; stop_reason = why.  No-op when already stopping. */
void runner_stop(struct runner *rn, const char *why);

/* ---- runner-host.c: loop devices and leftovers (host mode) ---------------------- */

/* Sparse image scratch/<name>.img of size bytes attached to a free loop device (the
 * image is unlinked right away: only the loop device holds it; LO_FLAGS_AUTOCLEAR).
 * Returns the device path and an fd that keeps it attached. */
int host_loop_create(const char *scratch, const char *name, uint64_t size, char **ret_dev,
		     int *ret_fd);
int host_loop_detach(int fd);
/* Unmount/detach what dead kdrill runs left under scratch (mount points and loop
 * backing files named kdrill-<pid>-*).  Returns the number cleaned. */
int host_reap_leftovers(const char *scratch);
/* Is this block device (or anything on it) mounted? */
bool block_device_busy(const char *dev);

#endif
