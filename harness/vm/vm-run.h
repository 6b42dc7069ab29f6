/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `kdrill run --kernel REF`: one scenario run inside a guest booted with REF.
 *
 * The host boots the guest (harness/vm/vm.h) with fresh scratch disks sized from the
 * scenario's [fs.X] sections and a results disk, hands the resolved scenario file and
 * parameters to the agent as a "run" job (docs/agent-protocol.md), prints the agent's
 * progress messages, and after the guest powered off (or crashed, hung, died) extracts
 * the tar the agent wrote on the results disk into results/<run-id>/.  The verdict merges
 * the host's view (serial-console detector reports, QEMU/agent state) with the guest
 * runner's verdict.json: a kernel report seen on the console wins; a guest that dies or
 * hangs mid-run is BUG/HANG from the console; no boot / QEMU death without a report is
 * INFRA.  console.log in the run directory is always the host-side serial capture.
 */
#ifndef KDRILL_VM_RUN_H
#define KDRILL_VM_RUN_H

#include <stdbool.h>

#include "runner.h"

struct kd_kernel;

struct vm_run_opts {
	const struct kd_kernel *kernel; /* resolved (kd_kernel_resolve) */
	const char *root_img, *initrd, *modules_img;
	char *const *params; /* "k=v" (--param), re-applied in the guest */
	double duration;     /* 0: the scenario's duration */
	int stop_on;	     /* -1: the scenario's */
	uint64_t seed;
	const char *cg_backend; /* NULL: systemd (the guest default) */
	const char *out_dir;	/* results root; NULL: results_default_dir() */
	const char *accel;	/* NULL: probe */
	double boot_timeout;	/* 0: 300 s */
	bool vmcore;
	bool quiet;
};

/* Fills *res like runner_run() (run_id, run_dir, verdict, exit_code, json, reason).
 * Returns 0 (any verdict, INFRA included) or a negative errno when no result directory
 * could be written at all. */
int vm_run_scenario(const struct scenario *sc, const struct vm_run_opts *o, struct run_result *res);

/* What the host knows of the guest at the end of a VM run. */
struct vm_guest {
	const struct kd_kernel *kernel; /* the ref that was booted */
	double duration;		/* requested (--duration), 0: the scenario's */
	const char *files;		/* "complete" / "partial" / NULL (none) */
	const char *kernel_release;	/* the agent's uname -r, NULL: not heard */
	int done_status;		/* the agent's "done" status, -1: none */
	const char *done_error;		/* the agent's "done" error, NULL: none */
	/* The load's start (from the agent's progress) and the first console report that
	 * matches the signature: the run's time to report (the guest's runner does not read
	 * the kernel log).  t_*: on the host's clock, seconds since the run started; g_*: on
	 * the guest runner's (its elapsed seconds, the clock of duration_s and of the
	 * scenario's duration), the report's placed there by struct kd_guest_clock.
	 * < 0: not seen. */
	double t_load, t_match, g_load, g_match;
	double clock_rate; /* guest seconds per host second during the run (0: not measured) */
};
struct kd_vm_result;
struct json_object;
/* The VM run's verdict.json: the console's reports + how the VM ended + the guest
 * runner's verdict.json (NULL: none came back).  Fills res (verdict, match, exit_code,
 * reason).  Pure apart from allocation: the golden tests call it with recorded inputs. */
struct json_object *vm_merge_verdict(const struct scenario *sc, const struct vm_guest *g,
				     const struct kd_vm_result *vres, struct json_object *guest,
				     const char *run_id, const char *run_dir, uint64_t t0_real,
				     double wall, struct run_result *res);

#endif
