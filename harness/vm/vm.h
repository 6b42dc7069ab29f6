/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU launch and the VM watcher, on one sd-event loop (no threads).
 *
 * kdrill listens on three unix sockets and QEMU connects to them at startup (so nothing
 * is lost before we accept): the serial console (ttyS0, chardev "con"), the agent channel
 * (virtio-serial port "kdrill.agent") and QMP.  The console goes to console.log (raw),
 * console-ts.log (host timestamps) and live into the detector (harness/detect/detect.h).
 *
 * Timeouts are ordered causally, derived from the hung-task timeout H (default 20 s):
 *   RCU stall H/2  <  soft lockup 0.7*H  <  hung task H..2H  <  lost heartbeat 2H+10
 * with floors of 10 s for the RCU stall and the soft lockup (TCG on a busy host makes
 * shorter ones fire falsely), so the order holds for H >= 20.
 * A hang report (hung task, soft lockup, RCU stall) or a lost heartbeat triggers sysrq-w
 * (after a hang report: once the hang has spread and the next hung-task scan has reported
 * and the console is quiet, so the dump does not interleave with a scan: hanggrace.h) then sysrq-l
 * through the serial line (QMP chardev-send-break, then the key), each followed by waiting for the
 * console to settle; then, when the agent still heartbeats and collect_on_hang is set,
 * {"cmd":"collect"} (the agent tars the run directory so far onto the results disk; bounded wait);
 * then an optional kdump-compressed vmcore (QMP dump-guest-memory); then the VM is stopped.  A
 * crash report or GUEST_PANICKED: the console is left to settle and the VM stopped.  Every path
 * keeps console.log.
 */
#ifndef KDRILL_VM_H
#define KDRILL_VM_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;
struct kd_detector;
struct kd_report;
struct kd_vm;

/* the guest's hung-task timeout when the scenario sets none; the RCU stall and soft-lockup
 * timeouts derive from it */
#define KD_VM_HUNG_TASK_SECS 20

/* The guest's firmware when present (Debian's qemu-system-data), else QEMU's default,
 * SeaBIOS.  qboot boots a -kernel faster and, for a kernel without ACPI (the slim test
 * kernels), writes an MP table that lists every CPU: SeaBIOS's lists only the boot CPU.
 * With ACPI, both pass QEMU's ACPI tables on. */
#define KD_VM_QBOOT "/usr/share/qemu/qboot.rom"

struct kd_vm_opts {
	const char *kernel;	 /* bzImage */
	const char *initrd;	 /* NULL: none */
	const char *root_img;	 /* NULL: no root disk (initramfs-only boot) */
	const char *modules_img; /* NULL: none */
	const char *out_dir;	 /* console.log, console-ts.log, qemu.log, vm.json, vmcore */
	unsigned cpus;		 /* 0: 2 */
	uint64_t mem_mb;	 /* 0: 2048 */
	const char *accel;	 /* "kvm", "tcg", NULL: probe (cached per host) */
	char **append;		 /* extra kernel command-line words (kdrill.*, sysctl.*, ...) */
	const uint64_t *scratch; /* sizes in bytes of fresh sparse scratch disks */
	size_t n_scratch;	 /* serial kdscratch0.. in the guest (/dev/disk/by-id/virtio-…) */
	const char *results_disk; /* NULL: none; else a raw file attached with serial kdresults
				     (the agent writes a tar of the run dir to it) */
	unsigned hung_task_secs;  /* 0: KD_VM_HUNG_TASK_SECS */
	unsigned hung_scan_secs;  /* khungtaskd's interval; 0 (or > H): H (hanggrace.h) */
	bool oops_panic, panic_on_warn;
	double boot_timeout;	  /* s until ready; 0: 300 */
	double heartbeat_timeout; /* s without heartbeat after ready; 0: 2H+10 */
	double run_timeout;	  /* s total; 0: none (boot + heartbeat bound it) */
	const char
	    *ready_marker;	/* console substring meaning "ready" (busybox bench); NULL: agent */
	bool poweroff_on_ready; /* send {"cmd":"poweroff"} once ready */
	bool vmcore;		/* dump guest memory on a hang/panic */
	bool collect_on_hang;	/* hang with a live agent: after the sysrq dumps, ask it to put
				   the run's files so far on the results disk ({"cmd":"collect"}) */
	/* every agent message after "ready" (the runner hooks in here) */
	void (*on_agent)(struct kd_vm *vm, struct json_object *msg, void *userdata);
	/* every new report of the console's detector (before the watcher acts on it) */
	void (*on_report)(struct kd_vm *vm, const struct kd_report *r, void *userdata);
	void *userdata;
};

enum kd_vm_end {
	KD_VM_END_POWEROFF,  /* guest powered off after ready */
	KD_VM_END_PANIC,     /* crash report / guest panicked; VM stopped */
	KD_VM_END_HANG,	     /* hang report or lost heartbeat; dumps taken, VM stopped */
	KD_VM_END_TIMEOUT,   /* run timeout */
	KD_VM_END_NO_BOOT,   /* no ready within the boot timeout */
	KD_VM_END_QEMU_DIED, /* QEMU exited on its own without a guest poweroff */
	KD_VM_END_INFRA,     /* could not start: sockets, QEMU, disks */
	KD_VM_END_INTERRUPTED,
};

struct kd_vm_result {
	enum kd_vm_end end;
	char *reason; /* one line */
	char *accel;  /* "kvm" / "tcg" */
	bool ready;
	double t_ready;	 /* s from QEMU start to ready (agent or marker) */
	double t_system; /* s from QEMU start to systemd's boot finished (agent "system") */
	double t_first_console;
	double t_end;	 /* s from QEMU start to QEMU exit */
	int qemu_status; /* exit status, 128+sig, -1 unknown */
	unsigned boot_attempts; /* 2: QEMU crashed before ready and the boot was repeated */
	char *retried;		/* the repeated attempt's end reason */
	unsigned heartbeats;
	int job_status;		 /* from the agent's "done", -1 none */
	struct kd_detector *det; /* finished detector with the console's reports (owned) */
	bool vmcore_written;
	int collected; /* -1 not asked / no answer, else the agent's "collected" status */
};

const char *kd_vm_end_name(enum kd_vm_end e);
int kd_vm_run(const struct kd_vm_opts *o, struct kd_vm_result *res);
/* Remove what VM runs of dead kdrill processes left (their /tmp/kdrill-vm-<pid>.* socket
 * directory and the raw disks it lists); returns how many runs were reaped (negative errno
 * on failure) and, in *what (may be NULL), the directories and disk counts, for one line. */
int kd_vm_reap_leftovers(char **what);
void kd_vm_result_clear(struct kd_vm_result *res);
struct verdict_in;
struct verdict_out;
/* verdict_decide() input for how the VM ended: panic, hang after ready, done (the
 * guest's outcome came back: have_outcome), else lost ("<end>: <reason>", or "guest powered
 * off without a result[: done_error]" in *end_reason, which the caller frees). */
int kd_vm_end_verdict_in(const struct kd_vm_result *res, bool have_outcome,
			 const char *done_error, struct verdict_in *in, char **end_reason);
/* The verdict of a bare boot (kdrill vm boot): a failure report on the console -> BUG /
 * HANG / WARN, a panic -> BUG, a hang after ready -> HANG, a clean poweroff -> PASS,
 * else INFRA. */
int kd_vm_result_verdict(const struct kd_vm_result *res, struct verdict_out *out);
/* Write vm.json into out_dir. */
int kd_vm_result_save(const struct kd_vm_result *res, const struct kd_vm_opts *o);

/* Send a JSON object (taken) to the agent. */
int kd_vm_agent_send(struct kd_vm *vm, struct json_object *msg);

/* Move the run timeout (o->run_timeout) to `secs` after QEMU's start, `why` noted in
 * console-ts.log; only later, never earlier, and not once the VM is stopping. */
int kd_vm_extend_run_timeout(struct kd_vm *vm, double secs, const char *why);

/* KVM probe: boot the kernel with -accel kvm and no disks, success = a console line within
 * 10 s.  Answer cached per host in $KDRILL_CACHE/kvm-probe.  Returns "kvm" or "tcg";
 * *why explains a TCG answer. */
const char *kd_vm_pick_accel(const char *kernel, char **why, bool *from_cache);

#endif
