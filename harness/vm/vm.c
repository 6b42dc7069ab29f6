// SPDX-License-Identifier: GPL-2.0
/* QEMU launch + VM watcher.  See vm.h. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>

#include "detect.h"
#include "jsonl.h"
#include "hanggrace.h"
#include "qmp.h"
#include "verdict.h"
#include "vm.h"
#include "util.h"

#define USEC		  1000000ULL
#define SETTLE_QUIET_USEC (1500 * 1000ULL) /* console quiet this long = settled */
#define SETTLE_MAX_USEC	  (20 * USEC)	   /* ...or give up waiting after this */
#define STOP_GRACE_USEC	  (30 * USEC)	   /* guest poweroff / quit -> QEMU gone */
#define COLLECT_MAX_USEC  (45 * USEC)	   /* agent tar of the run so far (TCG, journal) */
#define AGENT_ALIVE_USEC  (5 * USEC)	   /* heartbeat this recent = agent can collect */

/* the guest's hung-task timeout H, from which the other watchdog timeouts derive */
static unsigned hung_secs(const struct kd_vm_opts *o)
{
	return o->hung_task_secs ? o->hung_task_secs : KD_VM_HUNG_TASK_SECS;
}

enum phase { PH_BOOT, PH_READY, PH_STOPPING, PH_DONE };
/* ST_GRACE: after a hang report, let the hang spread (the jbd2 thread often blocks after
 * the first writer it stalls) before the sysrq-w dump, and send that dump between two
 * khungtaskd scans (on_step, hanggrace.h). */
enum step {
	ST_GRACE,
	ST_NONE,
	ST_SYSRQ_W,
	ST_SYSRQ_L,
	ST_SETTLE,
	ST_COLLECT,
	ST_DUMP,
	ST_QUIT,
	ST_WAIT_EXIT
};

struct conn {
	int lfd; /* listening */
	int fd;	 /* accepted */
	sd_event_source *lsrc, *src;
	char *buf; /* partial line */
	size_t len;
};

struct kd_vm {
	const struct kd_vm_opts *o;
	struct kd_vm_result *res;
	sd_event *ev;
	pid_t pid;
	uint64_t t0;
	double run_timeout, run_timeout_noted; /* s after t0 (kd_vm_extend_run_timeout) */
	char *sockdir;
	struct conn con, agent, qmpc;
	struct jsonl agent_in; /* the agent's messages */
	struct kd_qmp *qmp;
	int log_fd, ts_fd;
	uint64_t console_lines;
	uint64_t last_console, last_heartbeat;
	uint64_t last_hang_report; /* any hang-class report, repeats included */
	sd_event_source *t_boot, *t_hb, *t_flush, *t_run, *t_step, *t_kill, *child, *sigint,
	    *sigterm, *sighup;
	enum phase phase;
	enum step step;
	uint64_t step_start;
	enum kd_vm_end pending_end;
	char *pending_reason;
	bool guest_shutdown, bye, hang_dumps_done, qemu_exited, killed;
	char pending_key;
};

static const char *const end_names[] = {
    [KD_VM_END_POWEROFF] = "poweroff", [KD_VM_END_PANIC] = "panic",
    [KD_VM_END_HANG] = "hang",	       [KD_VM_END_TIMEOUT] = "timeout",
    [KD_VM_END_NO_BOOT] = "no-boot",   [KD_VM_END_QEMU_DIED] = "qemu-died",
    [KD_VM_END_INFRA] = "infra",       [KD_VM_END_INTERRUPTED] = "interrupted",
};

const char *kd_vm_end_name(enum kd_vm_end e)
{
	return (unsigned)e < ELEMENTSOF(end_names) && end_names[e] ? end_names[e] : "?";
}

static double since(const struct kd_vm *vm, uint64_t t)
{
	return (double)(t - vm->t0) / 1e6;
}

static void vm_log(struct kd_vm *vm, const char *fmt, ...) _printf_(2, 3);
/* harness notes go into console-ts.log (never into console.log, which is the guest's) */
static void vm_log(struct kd_vm *vm, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL, *line = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s || vm->ts_fd < 0)
		return;
	line = strdupf("[%9.3f] kdrill: %s\n", since(vm, now_usec()), s);
	if (line && write(vm->ts_fd, line, strlen(line)) < 0)
		return;
}

/* ---- stopping -------------------------------------------------------------------------- */

static void step_next(struct kd_vm *vm);

static void kill_qemu(struct kd_vm *vm, int sig)
{
	if (vm->pid > 0 && !vm->qemu_exited)
		kill(vm->pid, sig);
}

static int on_kill(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct kd_vm *vm = userdata;
	(void)s;
	(void)usec;
	vm_log(vm, "QEMU still running, sending %s", vm->killed ? "SIGKILL" : "SIGTERM");
	kill_qemu(vm, vm->killed ? SIGKILL : SIGTERM);
	vm->killed = true;
	sd_event_source_set_time_relative(vm->t_kill, 5 * USEC);
	sd_event_source_set_enabled(vm->t_kill, SD_EVENT_ONESHOT);
	return 0;
}

static void arm_kill(struct kd_vm *vm, uint64_t after)
{
	if (!vm->t_kill)
		sd_event_add_time_relative(vm->ev, &vm->t_kill, CLOCK_MONOTONIC, after, 0, on_kill,
					   vm);
}

static void quit_reply(struct kd_qmp *q, json_object *ret, const char *error, void *userdata)
{
	struct kd_vm *vm = userdata;
	(void)q;
	(void)ret;
	if (error)
		kill_qemu(vm, SIGTERM);
}

static void vm_quit(struct kd_vm *vm)
{
	vm->step = ST_WAIT_EXIT;
	if (vm->qemu_exited)
		return;
	if (kd_qmp_is_ready(vm->qmp))
		kd_qmp_command(vm->qmp, "quit", NULL, quit_reply, vm);
	else
		kill_qemu(vm, SIGTERM);
	arm_kill(vm, 10 * USEC);
}

/* Decide how the run ends (first decision wins) and start collecting evidence. */
static void begin_stop_ex(struct kd_vm *vm, enum kd_vm_end end, const char *reason, bool hang,
			  bool grace);
static void begin_stop(struct kd_vm *vm, enum kd_vm_end end, const char *reason, bool hang)
{
	begin_stop_ex(vm, end, reason, hang, false);
}

static void begin_stop_ex(struct kd_vm *vm, enum kd_vm_end end, const char *reason, bool hang,
			  bool grace)
{
	if (vm->phase >= PH_STOPPING)
		return;
	vm->phase = PH_STOPPING;
	vm->pending_end = end;
	free(vm->pending_reason);
	vm->pending_reason = strdup(reason);
	vm_log(vm, "stopping (%s): %s", kd_vm_end_name(end), reason);
	sd_event_source_set_enabled(vm->t_boot, SD_EVENT_OFF);
	sd_event_source_set_enabled(vm->t_hb, SD_EVENT_OFF);
	/* hang: [grace,] sysrq-w, sysrq-l, settle; otherwise just settle */
	if (hang && grace) {
		vm->step = ST_GRACE;
		vm->step_start = now_usec();
		sd_event_source_set_time_relative(vm->t_step, 250 * 1000);
		sd_event_source_set_enabled(vm->t_step, SD_EVENT_ON);
		return;
	}
	vm->step = hang ? ST_NONE : ST_SYSRQ_L;
	step_next(vm);
}

static void console_write(struct kd_vm *vm, const char *s, size_t n)
{
	size_t off = 0;
	while (vm->con.fd >= 0 && off < n) {
		ssize_t w = send(vm->con.fd, s + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return;
		off += (size_t)w;
	}
}

static void break_reply(struct kd_qmp *q, json_object *ret, const char *error, void *userdata)
{
	struct kd_vm *vm = userdata;
	(void)q;
	(void)ret;
	if (error) {
		vm_log(vm, "chardev-send-break failed: %s", error);
		return;
	}
	vm_log(vm, "sysrq-%c", vm->pending_key);
	console_write(vm, &vm->pending_key, 1);
}

static void sysrq(struct kd_vm *vm, char key)
{
	vm->pending_key = key;
	if (!kd_qmp_is_ready(vm->qmp) || kd_qmp_send_break(vm->qmp, "con", break_reply, vm) < 0)
		vm_log(vm, "no QMP: cannot send sysrq-%c", key);
}

static void dump_reply(struct kd_qmp *q, json_object *ret, const char *error, void *userdata)
{
	struct kd_vm *vm = userdata;
	(void)q;
	(void)ret;
	if (error)
		vm_log(vm, "dump-guest-memory failed: %s", error);
	else {
		vm->res->vmcore_written = true;
		vm_log(vm, "vmcore written");
	}
	if (vm->step == ST_DUMP)
		step_next(vm);
}

static void step_next(struct kd_vm *vm)
{
	vm->step_start = now_usec();
	switch (vm->step) {
	case ST_NONE:
		vm->step = ST_SYSRQ_W;
		sysrq(vm, 'w');
		break;
	case ST_SYSRQ_W:
		vm->step = ST_SYSRQ_L;
		sysrq(vm, 'l');
		break;
	case ST_SYSRQ_L:
		vm->step = ST_SETTLE;
		break;
	case ST_SETTLE:
		if (vm->pending_end == KD_VM_END_HANG && vm->o->collect_on_hang && !vm->bye &&
		    vm->last_heartbeat && now_usec() - vm->last_heartbeat < AGENT_ALIVE_USEC) {
			json_object *m = json_object_new_object();
			if (m) {
				json_object_object_add(m, "cmd", json_object_new_string("collect"));
				if (kd_vm_agent_send(vm, m) == 0) {
					vm_log(vm, "asking the agent to collect the run so far");
					vm->step = ST_COLLECT;
					break;
				}
			}
		}
		/* no agent to ask */
		__attribute__((fallthrough));
	case ST_COLLECT:
		vm->step = ST_DUMP;
		if (vm->o->vmcore && kd_qmp_is_ready(vm->qmp) && !vm->qemu_exited) {
			_cleanup_free_ char *p = strdupf("%s/vmcore.kdump", vm->o->out_dir);
			vm_log(vm, "dump-guest-memory kdump-zlib -> %s", p ? p : "?");
			if (p && kd_qmp_dump(vm->qmp, p, dump_reply, vm) >= 0)
				break;
		}
		/* fall through: nothing to dump */
		vm->step = ST_QUIT;
		vm_quit(vm);
		break;
	case ST_DUMP:
		vm->step = ST_QUIT;
		vm_quit(vm);
		break;
	default:
		break;
	}
	if (vm->step < ST_DUMP) {
		sd_event_source_set_time_relative(vm->t_step, 250 * 1000);
		sd_event_source_set_enabled(vm->t_step, SD_EVENT_ON);
	} else
		sd_event_source_set_enabled(vm->t_step, SD_EVENT_OFF);
}

/* sysrq/settle steps advance once the console has been quiet for a moment */
static int on_step(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct kd_vm *vm = userdata;
	uint64_t now = now_usec();
	(void)usec;

	if (vm->qemu_exited)
		return 0;
	if (vm->step == ST_COLLECT) { /* advanced by the agent's "collected", or here */
		if (now - vm->step_start >= COLLECT_MAX_USEC) {
			vm_log(vm, "agent did not collect within %.0f s",
			       (double)COLLECT_MAX_USEC / 1e6);
			step_next(vm);
		} else
			sd_event_source_set_time_relative(s, 250 * 1000);
		return 0;
	}
	if (vm->step == ST_GRACE) {
		unsigned h = hung_secs(vm->o);
		struct kd_grace_clock c = {.start = vm->step_start,
					   .now = now,
					   .last_report = vm->last_hang_report,
					   .last_console = vm->last_console};
		enum kd_grace g =
		    kd_hang_grace(&c, h, vm->o->hung_scan_secs, SETTLE_QUIET_USEC, SETTLE_MAX_USEC);

		if (g != KD_GRACE_WAIT) {
			vm_log(vm, "hang grace over (%s after %.1f s): dumping blocked tasks",
			       g == KD_GRACE_RESCANNED ? "next hang report seen, console quiet"
						       : "no further report",
			       (double)(now - vm->step_start) / 1e6);
			vm->step = ST_NONE;
			step_next(vm);
		} else
			sd_event_source_set_time_relative(s, 250 * 1000);
		return 0;
	}
	if ((now - vm->step_start >= 500 * 1000 && now - vm->last_console >= SETTLE_QUIET_USEC) ||
	    now - vm->step_start >= SETTLE_MAX_USEC) {
		step_next(vm);
		return 0;
	}
	sd_event_source_set_time_relative(s, 250 * 1000);
	return 0;
}

/* ---- detector -------------------------------------------------------------------------- */

static void on_report(const struct kd_report *r, bool first, void *userdata)
{
	struct kd_vm *vm = userdata;

	if (r->cls == KD_CLASS_HANG)
		vm->last_hang_report = now_usec();
	if (!first)
		return;
	vm_log(vm, "report: %s: %s", kd_class_name(r->cls), r->title ? r->title : "?");
	if (vm->o->on_report)
		vm->o->on_report(vm, r, vm->o->userdata);
	switch (r->cls) {
	case KD_CLASS_CRASH:
	case KD_CLASS_MEMSAFETY:
		begin_stop(vm, KD_VM_END_PANIC, r->title ? r->title : "kernel crash", false);
		break;
	case KD_CLASS_HANG:
		begin_stop_ex(vm, KD_VM_END_HANG, r->title ? r->title : "kernel hang", true, true);
		break;
	default:
		break;
	}
}

/* ---- sockets ------------------------------------------------------------------------- */

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static void conn_close(struct conn *c)
{
	c->src = sd_event_source_disable_unref(c->src);
	c->lsrc = sd_event_source_disable_unref(c->lsrc);
	if (c->fd >= 0)
		close(c->fd);
	if (c->lfd >= 0)
		close(c->lfd);
	c->fd = c->lfd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = 0;
}

static int on_flush(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct kd_vm *vm = userdata;
	(void)s;
	(void)usec;
	kd_detector_flush(vm->res->det);
	return 0;
}

static void check_ready(struct kd_vm *vm, const char *how);

static void console_line(struct kd_vm *vm, const char *line, size_t len, uint64_t now)
{
	_cleanup_free_ char *ts = strdupf("[%9.3f] ", since(vm, now));

	vm->console_lines++;
	if (ts && vm->ts_fd >= 0 &&
	    (write(vm->ts_fd, ts, strlen(ts)) < 0 || write(vm->ts_fd, line, len) < 0 ||
	     write(vm->ts_fd, "\n", 1) < 0))
		vm->ts_fd = -1;
	if (vm->o->ready_marker && vm->phase == PH_BOOT &&
	    memmem(line, len, vm->o->ready_marker, strlen(vm->o->ready_marker)))
		check_ready(vm, "console marker");
}

static int on_console(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct kd_vm *vm = userdata;
	char buf[16384];
	uint64_t now = now_usec();
	ssize_t n;

	(void)s;
	(void)revents;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		vm->con.src = sd_event_source_disable_unref(vm->con.src);
		return 0;
	}
	if (!vm->res->t_first_console)
		vm->res->t_first_console = since(vm, now);
	vm->last_console = now;
	if (vm->log_fd >= 0 && write(vm->log_fd, buf, (size_t)n) != n)
		vm_log(vm, "console.log write failed: %s", strerror(errno));
	/* host-timestamped copy, line by line */
	{
		size_t start = 0;
		for (size_t i = 0; i < (size_t)n; i++) {
			if (buf[i] != '\n')
				continue;
			if (vm->con.len) {
				char *nb = realloc(vm->con.buf, vm->con.len + i - start + 1);
				if (nb) {
					memcpy(nb + vm->con.len, buf + start, i - start);
					vm->con.buf = nb;
					vm->con.len += i - start;
					console_line(vm, nb, vm->con.len, now);
				}
				vm->con.len = 0;
			} else
				console_line(vm, buf + start, i - start, now);
			start = i + 1;
		}
		if (start < (size_t)n && vm->con.len < (1u << 20)) {
			char *nb = realloc(vm->con.buf, vm->con.len + (size_t)n - start);
			if (nb) {
				memcpy(nb + vm->con.len, buf + start, (size_t)n - start);
				vm->con.buf = nb;
				vm->con.len += (size_t)n - start;
			}
		}
	}
	kd_detector_feed(vm->res->det, buf, (size_t)n);
	sd_event_source_set_time_relative(vm->t_flush, USEC);
	sd_event_source_set_enabled(vm->t_flush, SD_EVENT_ONESHOT);
	return 0;
}

static int on_hb_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct kd_vm *vm = userdata;
	_cleanup_free_ char *why = NULL;
	(void)s;
	(void)usec;
	why = strdupf("lost heartbeat: none for %.0f s (last console output %.1f s ago)",
		      (double)(now_usec() - vm->last_heartbeat) / 1e6,
		      (double)(now_usec() - vm->last_console) / 1e6);
	begin_stop(vm, KD_VM_END_HANG, why ? why : "lost heartbeat", true);
	return 0;
}

static double hb_timeout(const struct kd_vm_opts *o)
{
	unsigned h = hung_secs(o);
	return o->heartbeat_timeout > 0 ? o->heartbeat_timeout : 2.0 * h + 10;
}

static void check_ready(struct kd_vm *vm, const char *how)
{
	if (vm->phase != PH_BOOT)
		return;
	vm->phase = PH_READY;
	vm->res->ready = true;
	vm->res->t_ready = since(vm, now_usec());
	vm->last_heartbeat = now_usec();
	vm_log(vm, "ready (%s) at %.3f s", how, vm->res->t_ready);
	sd_event_source_set_enabled(vm->t_boot, SD_EVENT_OFF);
	if (!vm->o->ready_marker) {
		sd_event_source_set_time_relative(vm->t_hb, usec_from_secs(hb_timeout(vm->o)));
		sd_event_source_set_enabled(vm->t_hb, SD_EVENT_ONESHOT);
	}
	if (vm->o->poweroff_on_ready && !vm->o->ready_marker) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "cmd", json_object_new_string("poweroff"));
		kd_vm_agent_send(vm, m);
	}
}

int kd_vm_extend_run_timeout(struct kd_vm *vm, double secs, const char *why)
{
	int r;

	/* whole seconds: a rate that wobbles does not move the timer at every message */
	if (!vm->t_run || vm->phase >= PH_STOPPING || secs < vm->run_timeout + 1)
		return 0;
	r = sd_event_source_set_time(vm->t_run, vm->t0 + usec_from_secs(secs));
	if (r < 0)
		return r;
	if (secs >= vm->run_timeout_noted + 10) {
		vm_log(vm, "run timeout %.0f s (was %.0f s): %s", secs, vm->o->run_timeout, why);
		vm->run_timeout_noted = secs;
	}
	vm->run_timeout = secs;
	return 0;
}

int kd_vm_agent_send(struct kd_vm *vm, json_object *msg)
{
	_cleanup_free_ char *line =
	    strdupf("%s\n", json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
	size_t off = 0;

	json_object_put(msg);
	if (!line)
		return -ENOMEM;
	if (vm->agent.fd < 0)
		return -ENOTCONN;
	while (off < strlen(line)) {
		ssize_t w = send(vm->agent.fd, line + off, strlen(line) - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	return 0;
}

static void agent_msg(struct kd_vm *vm, json_object *m)
{
	json_object *v;
	const char *type =
	    json_object_object_get_ex(m, "type", &v) ? json_object_get_string(v) : "";

	if (!strcmp(type, "ready")) {
		vm_log(vm, "agent: %s", json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN));
		check_ready(vm, "agent");
	} else if (!strcmp(type, "heartbeat")) {
		vm->res->heartbeats++;
		vm->last_heartbeat = now_usec();
		if (vm->phase == PH_READY) {
			sd_event_source_set_time_relative(vm->t_hb,
							  usec_from_secs(hb_timeout(vm->o)));
			sd_event_source_set_enabled(vm->t_hb, SD_EVENT_ONESHOT);
		}
	} else if (!strcmp(type, "system")) {
		vm->res->t_system = since(vm, now_usec());
		vm_log(vm, "agent: system %s at %.3f s",
		       json_object_object_get_ex(m, "state", &v) ? json_object_get_string(v) : "?",
		       vm->res->t_system);
	} else if (!strcmp(type, "done")) {
		if (json_object_object_get_ex(m, "status", &v))
			vm->res->job_status = json_object_get_int(v);
		vm_log(vm, "agent: job done, status %d", vm->res->job_status);
	} else if (!strcmp(type, "collected")) {
		vm->res->collected =
		    json_object_object_get_ex(m, "status", &v) ? json_object_get_int(v) : -EIO;
		vm_log(vm, "agent: collected, status %d", vm->res->collected);
		if (vm->step == ST_COLLECT)
			step_next(vm);
	} else if (!strcmp(type, "bye")) {
		vm->bye = true;
		sd_event_source_set_enabled(vm->t_hb, SD_EVENT_OFF);
		vm_log(vm, "agent: bye (%s)",
		       json_object_object_get_ex(m, "reason", &v) ? json_object_get_string(v) : "");
		arm_kill(vm, STOP_GRACE_USEC);
	}
	if (vm->o->on_agent && vm->phase >= PH_READY)
		vm->o->on_agent(vm, m, vm->o->userdata);
}

static int on_agent_line(json_object *m, const char *line, void *userdata)
{
	struct kd_vm *vm = userdata;

	if (m && json_object_is_type(m, json_type_object))
		agent_msg(vm, m);
	else
		vm_log(vm, "agent: not JSON: %.200s", line);
	return 0;
}

static int on_agent(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct kd_vm *vm = userdata;
	ssize_t n;

	(void)s;
	(void)revents;
	n = jsonl_read(&vm->agent_in, fd, on_agent_line, vm);
	if (n == -ENOMEM)
		return (int)n;
	if (n == 0 || (n < 0 && n != -EAGAIN))
		vm->agent.src = sd_event_source_disable_unref(vm->agent.src);
	return 0;
}

static void on_qmp_event(struct kd_qmp *q, const char *event, json_object *data, void *userdata)
{
	struct kd_vm *vm = userdata;
	json_object *v;
	(void)q;

	if (!strcmp(event, "GUEST_PANICKED")) {
		vm_log(vm, "QMP: GUEST_PANICKED");
		begin_stop(vm, KD_VM_END_PANIC, "guest panicked (pvpanic)", false);
	} else if (!strcmp(event, "SHUTDOWN")) {
		const char *reason = data && json_object_object_get_ex(data, "reason", &v)
					 ? json_object_get_string(v)
					 : "";
		vm_log(vm, "QMP: SHUTDOWN %s", reason);
		if (!strcmp(reason, "guest-shutdown"))
			vm->guest_shutdown = true;
	} else if (!strcmp(event, "BLOCK_IO_ERROR")) {
		/* a host-side write failed (QEMU's default werror=enospc then pauses the VM):
		 * the heartbeat would stop and look like a guest hang; it is the harness's disk */
		const char *dev = data && json_object_object_get_ex(data, "device", &v)
				      ? json_object_get_string(v)
				      : "?";
		const char *why = data && json_object_object_get_ex(data, "reason", &v)
				      ? json_object_get_string(v)
				      : "";
		bool nospace = data && json_object_object_get_ex(data, "nospace", &v) &&
			       json_object_get_boolean(v);
		_cleanup_free_ char *msg = strdupf(
		    "host I/O error on disk '%s'%s%s%s", dev && *dev ? dev : "?", *why ? ": " : "",
		    why,
		    nospace ? " (no space left on the host: the results directory's filesystem "
			      "is full)"
			    : "");
		vm_log(vm, "QMP: BLOCK_IO_ERROR %s", msg ? msg : "");
		begin_stop(vm, KD_VM_END_INFRA, msg ? msg : "host I/O error", false);
	} else if (!strcmp(event, "QMP_CLOSED")) {
		if (!vm->qemu_exited)
			vm_log(vm, "QMP connection closed");
	}
}

static int on_accept(sd_event_source *s, int lfd, uint32_t revents, void *userdata)
{
	struct kd_vm *vm = userdata;
	struct conn *c = lfd == vm->con.lfd	? &vm->con
			 : lfd == vm->agent.lfd ? &vm->agent
						: &vm->qmpc;
	int fd;
	(void)revents;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return 0;
	if (c->fd >= 0 || (c == &vm->qmpc && vm->qmp)) {
		close(fd); /* one peer per channel */
		return 0;
	}
	sd_event_source_set_enabled(s, SD_EVENT_OFF);
	if (c == &vm->qmpc) {
		if (kd_qmp_new(&vm->qmp, vm->ev, fd, on_qmp_event, vm) < 0)
			vm_log(vm, "QMP client setup failed");
		return 0;
	}
	c->fd = fd;
	return sd_event_add_io(vm->ev, &c->src, fd, EPOLLIN, c == &vm->con ? on_console : on_agent,
			       vm);
}

/* ---- timers, child, signals ------------------------------------------------------------ */

static int on_boot_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct kd_vm *vm = userdata;
	_cleanup_free_ char *why = NULL;
	(void)s;
	(void)usec;
	why = strdupf("no %s within %.0f s (%" PRIu64 " console lines%s)",
		      vm->o->ready_marker ? "ready marker" : "agent ready",
		      vm->o->boot_timeout > 0 ? vm->o->boot_timeout : 300.0, vm->console_lines,
		      vm->console_lines
			  ? ""
			  : ": the kernel printed nothing, not bootable or no serial console");
	/* a hang during boot still gets its sysrq dumps */
	begin_stop(vm, KD_VM_END_NO_BOOT, why ? why : "no boot", vm->console_lines > 0);
	return 0;
}

static int on_run_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct kd_vm *vm = userdata;
	_cleanup_free_ char *why = NULL;
	(void)s;
	(void)usec;
	why = strdupf("run timeout (%.0f s)", vm->run_timeout);
	begin_stop(vm, KD_VM_END_TIMEOUT, why ? why : "run timeout", true);
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct kd_vm *vm = userdata;
	(void)s;
	if (vm->phase >= PH_STOPPING) {
		kill_qemu(vm, SIGKILL);
		return 0;
	}
	vm->phase = PH_STOPPING;
	vm->pending_end = KD_VM_END_INTERRUPTED;
	free(vm->pending_reason);
	vm->pending_reason = strdupf("interrupted by signal %u", si->ssi_signo);
	vm_quit(vm);
	return 0;
}

/* drain what the console socket still holds after QEMU exited */
static void drain(struct kd_vm *vm, struct conn *c,
		  int (*fn)(sd_event_source *, int, uint32_t, void *))
{
	for (int i = 0; i < 4096 && c->fd >= 0 && c->src; i++) {
		char probe;
		if (recv(c->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
			break;
		fn(c->src, c->fd, EPOLLIN, vm);
	}
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct kd_vm *vm = userdata;
	struct kd_vm_result *res = vm->res;
	(void)s;

	vm->qemu_exited = true;
	res->t_end = since(vm, now_usec());
	res->qemu_status = si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
	drain(vm, &vm->con, on_console);
	drain(vm, &vm->agent, on_agent);
	if (vm->con.len) { /* unterminated last line */
		console_line(vm, vm->con.buf, vm->con.len, now_usec());
		vm->con.len = 0;
	}
	kd_detector_finish(res->det);
	vm_log(vm, "QEMU exited (status %d) at %.3f s", res->qemu_status, res->t_end);
	if (vm->phase == PH_STOPPING) {
		res->end = vm->pending_end;
		res->reason = TAKE_PTR(vm->pending_reason);
	} else if (vm->phase == PH_READY && (vm->guest_shutdown || vm->bye)) {
		res->end = KD_VM_END_POWEROFF;
		res->reason = strdup("guest powered off");
	} else if (vm->o->ready_marker && vm->phase == PH_READY) {
		res->end = KD_VM_END_POWEROFF;
		res->reason = strdup("guest powered off");
	} else {
		/* died on its own: a crash report (panic=-1 reboot + -no-reboot) explains it */
		size_t n = kd_detector_n_reports(res->det);
		const struct kd_report *crash = NULL;
		for (size_t i = 0; i < n && !crash; i++) {
			const struct kd_report *r = kd_detector_report(res->det, i);
			if (r->cls == KD_CLASS_CRASH || r->cls == KD_CLASS_MEMSAFETY)
				crash = r;
		}
		if (crash) {
			res->end = KD_VM_END_PANIC;
			res->reason = strdup(crash->title ? crash->title : "kernel crash");
		} else {
			res->end = KD_VM_END_QEMU_DIED;
			res->reason = strdupf(
			    "QEMU exited (status %d) %s%s", res->qemu_status,
			    vm->phase == PH_BOOT ? "before the guest was ready"
						 : "without a guest poweroff",
			    vm->console_lines ? ""
					      : " and the kernel printed nothing (not a bootable "
						"kernel, or no serial console?)");
		}
	}
	vm->phase = PH_DONE;
	sd_event_exit(vm->ev, 0);
	return 0;
}

/* ---- KVM probe ------------------------------------------------------------------------- */

const char *kd_vm_pick_accel(const char *kernel, char **why, bool *from_cache)
{
	struct utsname u;
	_cleanup_free_ char *cache = NULL, *cached = NULL, *key = NULL, *dir = NULL;
	_cleanup_free_ char *log = NULL;
	const char *answer = "tcg";
	/* KDRILL_KVM_DEV: test hook (a stand-in for /dev/kvm) */
	const char *kvmdev = getenv("KDRILL_KVM_DEV") ? getenv("KDRILL_KVM_DEV") : "/dev/kvm";
	int fd;

	*why = NULL;
	*from_cache = false;
	if (getenv("KDRILL_ACCEL") && *getenv("KDRILL_ACCEL"))
		return getenv("KDRILL_ACCEL");
	uname(&u);
	key = strdupf("%s %s %s", u.nodename, u.release, u.machine);
	cache = strdupf("%s/kvm-probe", kd_cachedir());
	if (!key || !cache)
		return "tcg";
	if (read_full_file(cache, &cached, NULL) == 0 && startswith(cached, key) &&
	    cached[strlen(key)] == '\t') {
		char *a = cached + strlen(key) + 1, *w = strchr(a, '\t');
		if (w)
			*w++ = 0;
		*from_cache = true;
		*why = w ? strdup(strstrip(w)) : NULL;
		return !strcmp(a, "kvm") ? "kvm" : "tcg";
	}
	/* probe: the kernel alone, no disks; any console line within 10 s = KVM works */
	dir = strdupf("/tmp/kdrill-kvmprobe-%d.XXXXXX", (int)getpid());
	if ((fd = open(kvmdev, O_RDWR | O_CLOEXEC)) < 0)
		*why = strdupf("%s: %s", kvmdev, strerror(errno));
	else if (close(fd), dir && mkdtemp(dir)) {
		_cleanup_free_ char *ser = strdupf("file:%s/serial", dir);
		_cleanup_free_ char *serp = strdupf("%s/serial", dir);
		char *argv[] = {(char *)"qemu-system-x86_64",
				(char *)"-accel",
				(char *)"kvm",
				(char *)"-m",
				(char *)"256",
				(char *)"-nodefaults",
				(char *)"-display",
				(char *)"none",
				(char *)"-no-reboot",
				(char *)"-serial",
				ser,
				(char *)"-kernel",
				(char *)kernel,
				(char *)"-append",
				(char *)"console=ttyS0 panic=-1",
				NULL};
		struct spawn_opts so = {.pdeathsig = SIGKILL};
		uint64_t deadline = now_usec() + 10 * USEC;
		pid_t pid;
		bool ok = false, exited = false;
		int st;

		log = strdupf("%s/qemu.log", dir);
		so.stdout_path = so.stderr_path = log;
		pid = ser && serp ? spawn_argv(argv, &so) : -ENOMEM;
		while (pid > 0 && now_usec() < deadline && !ok && !exited) {
			struct stat sst;
			usleep(100 * 1000);
			ok = stat(serp, &sst) == 0 && sst.st_size > 0;
			exited = waitpid(pid, &st, WNOHANG) == pid;
		}
		if (pid > 0 && !exited) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
		if (ok)
			answer = "kvm";
		else if (pid < 0)
			*why = strdupf("cannot run qemu-system-x86_64: %s", strerror(-pid));
		else if (exited) {
			_cleanup_free_ char *q = NULL;
			read_full_file(log, &q, NULL);
			*why = strdupf("KVM boot failed: %s", q ? strstrip(q) : "?");
			for (char *c = *why; c && *c; c++)
				if (*c == '\n' || *c == '\t')
					*c = ' ';
		} else
			*why = strdup("KVM probe: no console output within 10 s (nested KVM hangs "
				      "at kernel entry)");
		rm_rf(dir);
	}
	{
		_cleanup_free_ char *line = strdupf("%s\t%s\t%s\n", key, answer, *why ? *why : "");
		mkdir_p(kd_cachedir(), 0755);
		if (line)
			write_file_atomic(cache, line, strlen(line), 0644);
	}
	return answer;
}

/* ---- launch ---------------------------------------------------------------------------- */

static int push(char ***argv, const char *s)
{
	return strv_extend(argv, s);
}

static int pushf(char ***argv, const char *fmt, ...) _printf_(2, 3);
static int pushf(char ***argv, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return strv_push(argv, s);
}

static char *build_cmdline(const struct kd_vm_opts *o)
{
	unsigned h = hung_secs(o);
	/* RCU stall H/2 < soft lockup 2*thresh (~0.7 H) < hung task H, floored so that a
	 * busy TCG host does not produce false stall reports: RCU >= 10 s, soft lockup >= 10 s.
	 * no_timer_check: on a loaded TCG host the early IO-APIC timer check can miss its ticks
	 * and panic ("IO-APIC + timer doesn't work!") before anything ran. */
	unsigned rcu = h / 2 < 10 ? 10 : h / 2;
	unsigned wd = (h * 7 / 10) / 2 < 5 ? 5 : (h * 7 / 10) / 2;
	char *s =
	    strdupf("console=ttyS0 ignore_loglevel panic=-1 printk.time=1 rw no_timer_check "
		    "rcupdate.rcu_cpu_stall_timeout=%u watchdog_thresh=%u "
		    "sysctl.kernel.hung_task_timeout_secs=%u "
		    "sysctl.kernel.hung_task_check_interval_secs=%u "
		    "sysctl.kernel.hung_task_all_cpu_backtrace=1 "
		    "sysctl.kernel.hung_task_warnings=-1 sysctl.kernel.sysrq=1%s%s%s",
		    rcu, wd, h, kd_hung_scan_secs(h, o->hung_scan_secs),
		    o->root_img ? " root=/dev/vda rootfstype=ext4" : "",
		    o->oops_panic ? " oops=panic" : "", o->panic_on_warn ? " panic_on_warn=1" : "");
	STRV_FOREACH (a, o->append) {
		char *n;
		if (!s)
			return NULL;
		n = strdupf("%s %s", s, *a);
		free(s);
		s = n;
	}
	return s;
}

static int build_argv(struct kd_vm *vm, const char *accel, char ***ret)
{
	const struct kd_vm_opts *o = vm->o;
	_cleanup_strv_ char **a = NULL;
	_cleanup_free_ char *cmdline = build_cmdline(o);

	if (!cmdline)
		return -ENOMEM;
	if (push(&a, "qemu-system-x86_64") < 0 || push(&a, "-accel") < 0 || push(&a, accel) < 0 ||
	    push(&a, "-smp") < 0 || pushf(&a, "%u", o->cpus ? o->cpus : 2) < 0 ||
	    push(&a, "-m") < 0 ||
	    pushf(&a, "%llu", (unsigned long long)(o->mem_mb ? o->mem_mb : 2048)) < 0)
		return -ENOMEM;
	{
		const char *fixed[] = {"-nodefaults",
				       "-no-user-config",
				       "-vga",
				       "none",
				       "-nic",
				       "none",
				       "-display",
				       "none",
				       "-no-reboot",
				       "-device",
				       "pvpanic",
				       "-device",
				       "pvpanic-pci",
				       "-device",
				       "vmcoreinfo",
				       "-device",
				       "virtio-rng-pci",
				       "-action",
				       o->vmcore ? "panic=pause" : "panic=none"};
		for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
			if (push(&a, fixed[i]) < 0)
				return -ENOMEM;
	}
	if (access(KD_VM_QBOOT, R_OK) == 0 && (push(&a, "-bios") < 0 || push(&a, KD_VM_QBOOT) < 0))
		return -ENOMEM;
	if (push(&a, "-chardev") < 0 || pushf(&a, "socket,id=con,path=%s/con", vm->sockdir) < 0 ||
	    push(&a, "-serial") < 0 || push(&a, "chardev:con") < 0 || push(&a, "-chardev") < 0 ||
	    pushf(&a, "socket,id=qmp,path=%s/qmp", vm->sockdir) < 0 || push(&a, "-mon") < 0 ||
	    push(&a, "chardev=qmp,mode=control") < 0 || push(&a, "-device") < 0 ||
	    push(&a, "virtio-serial-pci,id=vser") < 0 || push(&a, "-chardev") < 0 ||
	    pushf(&a, "socket,id=agent,path=%s/agent", vm->sockdir) < 0 ||
	    push(&a, "-device") < 0 ||
	    push(&a, "virtserialport,bus=vser.0,chardev=agent,name=kdrill.agent") < 0)
		return -ENOMEM;
	if (push(&a, "-kernel") < 0 || push(&a, o->kernel) < 0)
		return -ENOMEM;
	if (o->initrd && (push(&a, "-initrd") < 0 || push(&a, o->initrd) < 0))
		return -ENOMEM;
	if (o->root_img &&
	    (push(&a, "-drive") < 0 ||
	     pushf(&a, "file=%s,if=none,id=root,format=raw,snapshot=on", o->root_img) < 0 ||
	     push(&a, "-device") < 0 || push(&a, "virtio-blk-pci,drive=root,serial=kdroot") < 0))
		return -ENOMEM;
	if (o->modules_img &&
	    (push(&a, "-drive") < 0 ||
	     pushf(&a, "file=%s,if=none,id=mods,format=raw,readonly=on", o->modules_img) < 0 ||
	     push(&a, "-device") < 0 || push(&a, "virtio-blk-pci,drive=mods,serial=kdmods") < 0))
		return -ENOMEM;
	for (size_t i = 0; i < o->n_scratch; i++)
		if (push(&a, "-drive") < 0 ||
		    pushf(&a, "file=%s/scratch%zu.raw,if=none,id=s%zu,format=raw,cache=unsafe",
			  o->out_dir, i, i) < 0 ||
		    push(&a, "-device") < 0 ||
		    pushf(&a, "virtio-blk-pci,drive=s%zu,serial=kdscratch%zu", i, i) < 0)
			return -ENOMEM;
	if (o->results_disk &&
	    (push(&a, "-drive") < 0 ||
	     pushf(&a, "file=%s,if=none,id=res,format=raw,cache=unsafe", o->results_disk) < 0 ||
	     push(&a, "-device") < 0 || push(&a, "virtio-blk-pci,drive=res,serial=kdresults") < 0))
		return -ENOMEM;
	if (push(&a, "-append") < 0 || push(&a, cmdline) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(a);
	return 0;
}

static int make_scratch(const struct kd_vm_opts *o)
{
	for (size_t i = 0; i < o->n_scratch; i++) {
		_cleanup_free_ char *p = strdupf("%s/scratch%zu.raw", o->out_dir, i);
		_cleanup_close_ int fd = -1;
		if (!p)
			return -ENOMEM;
		unlink(p);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || ftruncate(fd, (off_t)o->scratch[i]) < 0)
			return -errno;
	}
	return 0;
}

static void remove_scratch(const struct kd_vm_opts *o)
{
	for (size_t i = 0; i < o->n_scratch; i++) {
		_cleanup_free_ char *p = strdupf("%s/scratch%zu.raw", o->out_dir, i);
		if (p)
			unlink(p);
	}
}

/* ---- leftovers of a VM run whose kdrill died (SIGKILL) ----------------------------
 * A run keeps its QEMU sockets in /tmp/kdrill-vm-<pid>.XXXXXX (and the KVM probe in
 * /tmp/kdrill-kvmprobe-<pid>.XXXXXX) and lists there, in "disks", the raw disk files it
 * made (scratch disks, the results disk), which a clean end removes.  QEMU dies with its
 * kdrill (PR_SET_PDEATHSIG), so what a SIGKILL leaves is these directories and the disks.
 * A later VM start removes them once the owner pid is dead -- or reused by a process that
 * started after the directory was made (pid_owner_alive) -- like the cgroup leftovers. */
static const char *const leftover_prefixes[] = {"kdrill-vm-", "kdrill-kvmprobe-", NULL};

/* Only what a run makes: <dir>/scratchN.raw and <dir>/results.raw, regular files. */
static bool reapable_disk(const char *path)
{
	const char *b = strrchr(path, '/');
	struct stat st;
	size_t n;

	if (path[0] != '/' || !b)
		return false;
	b++;
	n = strlen(b);
	if (strcmp(b, "results.raw") &&
	    !(startswith(b, "scratch") && n > strlen("scratch.raw") && endswith(b, ".raw") &&
	      strspn(b + 7, "0123456789") == n - strlen("scratch.raw")))
		return false;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int write_disk_list(const char *sockdir, const struct kd_vm_opts *o)
{
	_cleanup_free_ char *list = strdup(""), *p = strdupf("%s/disks", sockdir);
	char real[PATH_MAX];

	if (!list || !p)
		return -ENOMEM;
	if (!realpath(o->out_dir, real))
		return -errno;
	for (size_t i = 0; i < o->n_scratch; i++) {
		char *n = strdupf("%s%s/scratch%zu.raw\n", list, real, i);
		if (!n)
			return -ENOMEM;
		free(list);
		list = n;
	}
	if (o->results_disk) {
		char rreal[PATH_MAX], *n;
		if (!realpath(o->results_disk, rreal))
			return -errno;
		if (!(n = strdupf("%s%s\n", list, rreal)))
			return -ENOMEM;
		free(list);
		list = n;
	}
	return write_file_atomic(p, list, strlen(list), 0600);
}

/* Reap one /tmp/<name> if it is a leftover of a dead owner: 1 reaped, 0 not, <0 error. */
static int reap_one(const char *name, char **what)
{
	_cleanup_free_ char *dir = NULL, *list_path = NULL, *list = NULL, *n = NULL;
	const char *const *pfx;
	unsigned disks = 0;
	struct stat st;
	char *end, *save = NULL;
	long pid;

	for (pfx = leftover_prefixes; *pfx && !startswith(name, *pfx); pfx++)
		;
	if (!*pfx)
		return 0;
	errno = 0;
	pid = strtol(name + strlen(*pfx), &end, 10);
	if (errno || pid <= 0 || pid > INT32_MAX || *end != '.' || pid == getpid())
		return 0;
	dir = strdupf("/tmp/%s", name);
	list_path = strdupf("/tmp/%s/disks", name);
	if (!dir || !list_path)
		return -ENOMEM;
	/* ours (mkdtemp: 0700, our uid), a real directory, not a planted link */
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return 0;
	if (pid_owner_alive((pid_t)pid, (uint64_t)st.st_ctim.tv_sec * 1000000ULL +
					    (uint64_t)st.st_ctim.tv_nsec / 1000))
		return 0;
	if (read_full_file(list_path, &list, NULL) < 0)
		list = NULL;
	for (char *l = list ? strtok_r(list, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save))
		if (reapable_disk(l) && unlink(l) == 0)
			disks++;
	if (rm_rf(dir) < 0)
		return 0;
	n = strdupf("%s%s%s (pid %ld, %u raw disk%s)", *what ? *what : "", *what ? "; " : "",
		    dir, pid, disks, disks == 1 ? "" : "s");
	if (!n)
		return -ENOMEM;
	free(*what);
	*what = TAKE_PTR(n);
	return 1;
}

int kd_vm_reap_leftovers(char **ret_what)
{
	char *what = NULL;
	struct dirent *de;
	int n = 0, r = 0;
	DIR *d = opendir("/tmp");

	if (!d)
		return -errno;
	while (r >= 0 && (de = readdir(d)))
		if ((r = reap_one(de->d_name, &what)) > 0)
			n += r;
	closedir(d);
	if (ret_what)
		*ret_what = what;
	else
		free(what);
	return r < 0 && n == 0 ? r : n;
}

static int setup_conn(struct kd_vm *vm, struct conn *c, const char *name)
{
	_cleanup_free_ char *p = strdupf("%s/%s", vm->sockdir, name);
	if (!p)
		return -ENOMEM;
	c->lfd = listen_unix(p);
	if (c->lfd < 0)
		return c->lfd;
	return sd_event_add_io(vm->ev, &c->lsrc, c->lfd, EPOLLIN, on_accept, vm);
}

/* res->reason (or FALLBACK when there is none) followed by SEP and TAIL; unchanged when out
 * of memory */
static void reason_extend(struct kd_vm_result *res, const char *fallback, const char *sep,
			  const char *tail)
{
	char *n = strdupf("%s%s%s", res->reason ? res->reason : fallback, sep, tail);

	if (n) {
		free(res->reason);
		res->reason = n;
	}
}

static int vm_run_once(const struct kd_vm_opts *o, struct kd_vm_result *res)
{
	struct kd_vm vm = {.o = o, .res = res, .log_fd = -1, .ts_fd = -1};
	_cleanup_strv_ char **argv = NULL;
	_cleanup_free_ char *why = NULL, *clog = NULL, *tlog = NULL, *qlog = NULL, *cmd = NULL;
	const char *accel = o->accel;
	bool cached = false;
	sigset_t mask;
	int r;

	memset(res, 0, sizeof(*res));
	res->qemu_status = -1;
	res->job_status = -1;
	res->collected = -1;
	res->end = KD_VM_END_INFRA;
	vm.con.fd = vm.con.lfd = vm.agent.fd = vm.agent.lfd = vm.qmpc.fd = vm.qmpc.lfd = -1;
	r = kd_detector_new(&res->det, on_report, &vm);
	if (r < 0) {
		res->reason = strdupf("detector: %s", strerror(-r));
		return r;
	}
	r = mkdir_p(o->out_dir, 0755);
	clog = strdupf("%s/console.log", o->out_dir);
	tlog = strdupf("%s/console-ts.log", o->out_dir);
	qlog = strdupf("%s/qemu.log", o->out_dir);
	if (r < 0 || !clog || !tlog || !qlog) {
		res->reason =
		    strdupf("cannot create %s: %s", o->out_dir, strerror(r < 0 ? -r : ENOMEM));
		return r < 0 ? r : -ENOMEM;
	}
	unlink(qlog);
	vm.log_fd = open(clog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	vm.ts_fd = open(tlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (vm.log_fd < 0) {
		r = -errno;
		res->reason = strdupf("%s: %s", clog, strerror(-r));
		goto out;
	}
	if (!accel) {
		accel = kd_vm_pick_accel(o->kernel, &why, &cached);
		if (!strcmp(accel, "tcg") && why && !cached)
			fprintf(stderr, "kdrill: KVM not usable (%s): using TCG\n", why);
	}
	res->accel = strdup(accel);
	{
		_cleanup_free_ char *what = NULL;
		int reaped = kd_vm_reap_leftovers(&what);

		if (reaped > 0)
			fprintf(stderr, "kdrill: reaped %d leftover(s) of dead kdrill VM runs: %s\n",
				reaped, what ? what : "");
	}
	vm.sockdir = strdupf("/tmp/kdrill-vm-%d.XXXXXX", (int)getpid());
	if (!vm.sockdir || !mkdtemp(vm.sockdir)) {
		r = -errno;
		free(vm.sockdir);
		vm.sockdir = NULL;
		res->reason = strdupf("mkdtemp: %s", strerror(-r));
		goto out;
	}
	r = sd_event_new(&vm.ev);
	if (r < 0)
		goto fail;
	if ((r = setup_conn(&vm, &vm.con, "con")) < 0 ||
	    (r = setup_conn(&vm, &vm.agent, "agent")) < 0 ||
	    (r = setup_conn(&vm, &vm.qmpc, "qmp")) < 0)
		goto fail;
	r = make_scratch(o);
	if (r >= 0)
		r = write_disk_list(vm.sockdir, o);
	if (r < 0) {
		res->reason = strdupf("scratch disks in %s: %s", o->out_dir, strerror(-r));
		goto out;
	}
	r = build_argv(&vm, accel, &argv);
	if (r < 0)
		goto fail;
	{
		cmd = strv_join(argv, " ");
		vm.t0 = now_usec();
		vm_log(&vm, "qemu: %s", cmd ? cmd : "?");
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP); /* the terminal went away: stop the VM, keep the evidence */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	{
		struct spawn_opts so = {
		    .stdout_path = qlog, .stderr_path = qlog, .pdeathsig = SIGKILL};
		vm.t0 = now_usec();
		vm.last_console = vm.t0;
		vm.pid = spawn_argv(argv, &so);
	}
	if (vm.pid < 0) {
		r = vm.pid;
		res->reason = strdupf("cannot start qemu-system-x86_64: %s", strerror(-r));
		goto out;
	}
	{
		_cleanup_free_ char *pf = strdupf("%s/qemu.pid", o->out_dir);
		_cleanup_free_ char *ps = strdupf("%d\n", (int)vm.pid);
		if (pf && ps)
			write_file_atomic(pf, ps, strlen(ps), 0644);
	}
	if ((r = sd_event_add_child(vm.ev, &vm.child, vm.pid, WEXITED, on_child, &vm)) < 0 ||
	    (r = sd_event_add_signal(vm.ev, &vm.sigint, SIGINT, on_signal, &vm)) < 0 ||
	    (r = sd_event_add_signal(vm.ev, &vm.sigterm, SIGTERM, on_signal, &vm)) < 0 ||
	    (r = sd_event_add_signal(vm.ev, &vm.sighup, SIGHUP, on_signal, &vm)) < 0 ||
	    (r = sd_event_add_time_relative(
		 vm.ev, &vm.t_boot, CLOCK_MONOTONIC,
		 usec_from_secs(o->boot_timeout > 0 ? o->boot_timeout : 300), 0, on_boot_timeout,
		 &vm)) < 0 ||
	    (r = sd_event_add_time_relative(vm.ev, &vm.t_hb, CLOCK_MONOTONIC, USEC, 0,
					    on_hb_timeout, &vm)) < 0 ||
	    (r = sd_event_add_time_relative(vm.ev, &vm.t_flush, CLOCK_MONOTONIC, USEC, 0, on_flush,
					    &vm)) < 0 ||
	    (r = sd_event_add_time_relative(vm.ev, &vm.t_step, CLOCK_MONOTONIC, USEC, 0, on_step,
					    &vm)) < 0) {
		kill(vm.pid, SIGKILL);
		waitpid(vm.pid, NULL, 0);
		goto fail;
	}
	sd_event_source_set_enabled(vm.t_hb, SD_EVENT_OFF);
	sd_event_source_set_enabled(vm.t_step, SD_EVENT_OFF);
	sd_event_source_set_enabled(vm.t_flush, SD_EVENT_OFF);
	vm.run_timeout = vm.run_timeout_noted = o->run_timeout;
	if (o->run_timeout > 0)
		sd_event_add_time(vm.ev, &vm.t_run, CLOCK_MONOTONIC,
				  vm.t0 + usec_from_secs(o->run_timeout), 0, on_run_timeout, &vm);
	r = sd_event_loop(vm.ev);
	if (r < 0) {
		kill(vm.pid, SIGKILL);
		waitpid(vm.pid, NULL, 0);
		goto fail;
	}
	r = 0;
	goto out;
fail:
	if (!res->reason)
		res->reason = strdupf("VM setup failed: %s", strerror(-r));
out:
	/* QEMU's own complaint is the best INFRA reason when it died early */
	if (res->end == KD_VM_END_QEMU_DIED && !res->t_first_console) {
		_cleanup_free_ char *q = NULL;
		if (read_one_line(qlog, &q) == 0 && *q)
			reason_extend(res, "", ": ", q);
	}
	sd_event_source_unref(vm.t_boot);
	sd_event_source_unref(vm.t_hb);
	sd_event_source_unref(vm.t_flush);
	sd_event_source_unref(vm.t_run);
	sd_event_source_unref(vm.t_step);
	sd_event_source_unref(vm.t_kill);
	sd_event_source_unref(vm.child);
	sd_event_source_unref(vm.sigint);
	sd_event_source_unref(vm.sigterm);
	sd_event_source_unref(vm.sighup);
	kd_qmp_free(vm.qmp);
	conn_close(&vm.con);
	conn_close(&vm.agent);
	jsonl_clear(&vm.agent_in);
	conn_close(&vm.qmpc);
	sd_event_unref(vm.ev);
	if (vm.sockdir) {
		rm_rf(vm.sockdir);
		free(vm.sockdir);
	}
	remove_scratch(o);
	if (vm.log_fd >= 0)
		close(vm.log_fd);
	if (vm.ts_fd >= 0)
		close(vm.ts_fd);
	free(vm.pending_reason);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	if (cmd) {
		_cleanup_free_ char *p = strdupf("%s/qemu.cmdline", o->out_dir);
		if (p) {
			_cleanup_free_ char *l = strdupf("%s\n", cmd);
			if (l)
				write_file_atomic(p, l, strlen(l), 0644);
		}
	}
	return r;
}

/* QEMU killed by a fault of its own (TCG has crashed in device setup here, SIGSEGV while
 * the guest probed PCI) before the guest was ready and before the kernel printed any
 * report: nothing of the job ran and the kernel under test said nothing, so the boot is
 * repeated once.  A SIGKILL or SIGTERM came from outside (the OOM killer, an operator) and
 * is not repeated; neither is a boot that timed out, which may be the kernel's doing. */
static bool qemu_fault_before_ready(const struct kd_vm_result *res)
{
	int sig = res->qemu_status - 128;

	if (res->end != KD_VM_END_QEMU_DIED || res->ready || res->qemu_status <= 128 ||
	    (res->det && kd_detector_n_reports(res->det) > 0))
		return false;
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT || sig == SIGILL ||
	       sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS;
}

/* keep the failed attempt's files beside the next one's: console.log ->
 * console.attempt1.log, ... */
static void keep_attempt(const char *dir, unsigned attempt)
{
	static const char *const names[] = {"console", "console-ts", "qemu"};

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		_cleanup_free_ char *from = strdupf("%s/%s.log", dir, names[i]);
		_cleanup_free_ char *to = strdupf("%s/%s.attempt%u.log", dir, names[i], attempt);
		if (from && to)
			rename(from, to);
	}
}

int kd_vm_run(const struct kd_vm_opts *o, struct kd_vm_result *res)
{
	_cleanup_free_ char *first = NULL;
	int r = vm_run_once(o, res), sig;

	if (r < 0 || !qemu_fault_before_ready(res)) {
		res->boot_attempts = 1;
		return r;
	}
	sig = res->qemu_status - 128;
	first = TAKE_PTR(res->reason);
	fprintf(stderr,
		"kdrill: %s, signal %d (%s): a QEMU fault before anything ran; booting again, "
		"attempt 2 of 2 (attempt 1's console kept in %s/console.attempt1.log)\n",
		first ? first : "QEMU died", sig, strsignal(sig), o->out_dir);
	keep_attempt(o->out_dir, 1);
	kd_vm_result_clear(res);
	r = vm_run_once(o, res);
	res->boot_attempts = 2;
	res->retried = TAKE_PTR(first);
	if (res->end == KD_VM_END_QEMU_DIED && !res->ready)
		reason_extend(res, "QEMU died", " ", "(attempt 2 of 2)");
	return r;
}

void kd_vm_result_clear(struct kd_vm_result *res)
{
	free(res->reason);
	free(res->retried);
	free(res->accel);
	kd_detector_free(res->det);
	memset(res, 0, sizeof(*res));
}

int kd_vm_end_verdict_in(const struct kd_vm_result *res, bool have_outcome,
			 const char *done_error, struct verdict_in *in, char **end_reason)
{
	*end_reason = NULL;
	if (res->end == KD_VM_END_PANIC) {
		in->end = RUN_END_PANIC;
		in->end_reason = res->reason ? res->reason : "guest panicked";
	} else if (res->end == KD_VM_END_HANG && res->ready) {
		in->end = RUN_END_HANG; /* a lost heartbeat without a report is a hang too */
		in->end_reason = res->reason ? res->reason : "guest hung";
	} else if (have_outcome) {
		in->end = RUN_END_DONE;
		in->end_reason = res->reason;
	} else {
		in->end = RUN_END_LOST;
		if (res->end == KD_VM_END_POWEROFF)
			*end_reason = strdupf("guest powered off without a result%s%s",
					      done_error ? ": " : "", done_error ? done_error : "");
		else
			*end_reason = strdupf("%s: %s", kd_vm_end_name(res->end),
					      res->reason ? res->reason : "?");
		if (!*end_reason)
			return -ENOMEM;
		in->end_reason = *end_reason;
	}
	return 0;
}

int kd_vm_result_verdict(const struct kd_vm_result *res, struct verdict_out *out)
{
	struct report_tally t = {0};
	struct verdict_in in = {.reports = &t, .boot_only = true};
	_cleanup_free_ char *end_reason = NULL;
	int r;

	report_tally(&t, NULL, res->det, NULL, NULL);
	r = kd_vm_end_verdict_in(res, res->end == KD_VM_END_POWEROFF, NULL, &in, &end_reason);
	if (r < 0)
		return r;
	return verdict_decide(&in, out);
}

int kd_vm_result_save(const struct kd_vm_result *res, const struct kd_vm_opts *o)
{
	json_object *j = json_object_new_object(), *reps = json_object_new_array();
	_cleanup_free_ char *p = strdupf("%s/vm.json", o->out_dir);
	struct verdict_out out = {0};
	size_t n = res->det ? kd_detector_n_reports(res->det) : 0;
	const char *s;
	int r;

	if (!j || !reps || !p) {
		json_object_put(j);
		json_object_put(reps);
		return -ENOMEM;
	}
	if (kd_vm_result_verdict(res, &out) < 0) {
		json_object_put(j);
		json_object_put(reps);
		return -ENOMEM;
	}
	json_object_object_add(j, "end", json_object_new_string(kd_vm_end_name(res->end)));
	json_object_object_add(j, "reason", json_object_new_string(res->reason ? res->reason : ""));
	json_object_object_add(j, "exit_code", json_object_new_int(out.exit_code));
	json_object_object_add(j, "title", json_object_new_string(out.reason));
	json_object_object_add(j, "accel", json_object_new_string(res->accel ? res->accel : ""));
	json_object_object_add(j, "ready", json_object_new_boolean(res->ready));
	if (res->ready)
		json_object_object_add(j, "t_ready", json_object_new_double(res->t_ready));
	if (res->t_system > 0)
		json_object_object_add(j, "t_system", json_object_new_double(res->t_system));
	json_object_object_add(j, "t_first_console", json_object_new_double(res->t_first_console));
	json_object_object_add(j, "t_end", json_object_new_double(res->t_end));
	json_object_object_add(j, "qemu_status", json_object_new_int(res->qemu_status));
	if (res->boot_attempts)
		json_object_object_add(j, "boot_attempts",
				       json_object_new_int((int)res->boot_attempts));
	if (res->retried)
		json_object_object_add(j, "retried", json_object_new_string(res->retried));
	json_object_object_add(j, "heartbeats", json_object_new_int((int)res->heartbeats));
	json_object_object_add(j, "job_status", json_object_new_int(res->job_status));
	json_object_object_add(j, "vmcore", json_object_new_boolean(res->vmcore_written));
	if (res->collected != -1)
		json_object_object_add(j, "collected", json_object_new_int(res->collected));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(reps, kd_report_to_json(kd_detector_report(res->det, i)));
	json_object_object_add(j, "reports", reps);
	s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY);
	r = write_file_atomic(p, s, strlen(s), 0644);
	json_object_put(j);
	verdict_out_done(&out);
	return r;
}
