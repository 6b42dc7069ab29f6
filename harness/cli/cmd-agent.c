// SPDX-License-Identifier: GPL-2.0
/*
 * kdrill agent: the in-guest end of the agent channel (docs/agent-protocol.md).
 * Started by kdrill-agent.service.  Opens the virtio-serial port "kdrill.agent", sends
 * "ready" with the job taken from the kernel command line (kdrill.* parameters), a
 * "heartbeat" every second, answers host commands (ping, poweroff, job), and powers the
 * guest off when told or when the job is done.  One sd-event loop, no threads.
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>

#include "commands.h"
#include "jsonl.h"
#include "request.h"
#include "runner.h"
#include "scenario.h"
#include "util.h"

#ifndef KDRILL_VERSION
#define KDRILL_VERSION "unknown"
#endif

#define AGENT_PORT_NAME	  "kdrill.agent"
#define AGENT_PROTO	  1
#define AGENT_RESULTS_DIR "/var/lib/kdrill/results"

struct agent {
	sd_event *ev;
	int fd;
	char *port;
	struct jsonl in; /* host commands */
	uint64_t seq;
	json_object *job; /* kdrill.* parameters, "kdrill." stripped */
	bool no_poweroff;
	bool system_up; /* systemctl is-system-running --wait returned */
	bool job_waits; /* the job starts once the system is up */
	int sys_pipe;	/* stdout of systemctl is-system-running --wait */
	sd_event_source *sys_child;
	sd_event_source *heartbeat;
	bool powering_off;
	bool run_pending; /* a "run" job: started from the main loop, outside any dispatch */
	bool running;
	struct runner *runner; /* while the run's units run (runner_stop()) */
	struct run_request req; /* the "run" command's request */
	bool have_req;
	char *run_dir; /* the running scenario's directory (from the runner's progress) */
	unsigned write_drops;
};

static void closedirp_agent(DIR **d)
{
	if (*d)
		closedir(*d);
}

static double uptime_sec(void)
{
	_cleanup_free_ char *s = NULL;
	return read_one_line("/proc/uptime", &s) == 0 ? strtod(s, NULL) : 0.0;
}

static int agent_send(struct agent *a, json_object *o)
{
	_cleanup_free_ char *line = NULL;
	const char *s;
	size_t len, off = 0;

	json_object_object_add(o, "uptime", json_object_new_double(uptime_sec()));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	line = strdupf("%s\n", s);
	json_object_put(o);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	while (off < len) {
		ssize_t n = write(a->fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* host not reading: drop rather than block the loop (counted) */
			a->write_drops++;
			return -EAGAIN;
		}
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

static json_object *msg(const char *type)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string(type));
	return o;
}

/* Kernel command line -> job object: kdrill.a=b -> {"a":"b"}, kdrill.flag -> {"flag":"1"} */
static json_object *job_from_cmdline(const char *cmdline)
{
	json_object *job = json_object_new_object();
	_cleanup_free_ char *copy = strdup(cmdline ? cmdline : "");
	char *save = NULL;

	if (!copy)
		return job;
	for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		char *eq;
		if (!startswith(w, "kdrill."))
			continue;
		w += strlen("kdrill.");
		eq = strchr(w, '=');
		if (eq)
			*eq++ = 0;
		json_object_object_add(job, w, json_object_new_string(eq ? eq : "1"));
	}
	return job;
}

static const char *job_get(struct agent *a, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(a->job, key, &v) ? json_object_get_string(v) : NULL;
}

/* The end of a run: a poweroff, or on a kernel without ACPI (the slim test kernels) a
 * reset: such a kernel cannot power off QEMU's pc machine ("poweroff" ends in a halt, or
 * with init gone in a panic), and QEMU runs with -no-reboot, so the reset ends it.  The
 * host takes either for the end of the run because "bye" came first. */
static void agent_poweroff(struct agent *a, const char *why)
{
	json_object *o = msg("bye");
	bool acpi = access("/sys/firmware/acpi", F_OK) == 0;
	const char *verb = acpi ? "poweroff" : "reboot";
	char *argv[] = {(char *)"systemctl", (char *)"--no-block", (char *)verb, NULL};

	if (a->powering_off)
		return;
	a->powering_off = true;
	json_object_object_add(o, "action", json_object_new_string(a->no_poweroff ? "exit" : verb));
	json_object_object_add(o, "reason", json_object_new_string(why));
	agent_send(a, o);
	if (a->running) { /* the run ends with the system going down */
		if (!a->no_poweroff)
			run_argv(argv, NULL, 10000000);
		return;
	}
	if (!a->no_poweroff) {
		if (access("/run/systemd/system", F_OK) != 0 ||
		    run_argv(argv, NULL, 10000000) != 0) {
			sync();
			reboot(acpi ? RB_POWER_OFF : RB_AUTOBOOT);
		}
	}
	sd_event_exit(a->ev, 0);
}

/* The job hand-off.  Today: "boot" (report ready, done, power off) and "idle" (wait for
 * host commands).  The runner plugs in here later: a job names what to run and the
 * agent reports progress/result messages on the same channel. */
/* modprobe NAME unless the driver is already there (/sys/module/NAME, or PROOF: built-in
 * drivers without parameters have no /sys/module entry) or the kernel has no modules at
 * all (a kernel with everything built in: nothing to load, nothing to complain about). */
static int load_module(const char *name, const char *proof)
{
	_cleanup_free_ char *sys = strdupf("/sys/module/%s", name), *dep = NULL;
	char *argv[] = {(char *)"modprobe", (char *)"-q", (char *)name, NULL};
	struct utsname u;

	if ((sys && access(sys, F_OK) == 0) || (proof && access(proof, F_OK) == 0))
		return 0;
	if (uname(&u) == 0 && (dep = strdupf("/lib/modules/%s/modules.dep", u.release)) &&
	    access(dep, F_OK) < 0)
		return 0;
	return run_argv(argv, NULL, 60 * 1000000ULL) == 0 ? 0 : -ENOENT;
}

static void agent_start_job(struct agent *a)
{
	const char *name = job_get(a, "job");

	if (!name || !strcmp(name, "idle"))
		return;
	if (!a->system_up) { /* jobs run in a booted system (dbus, units) */
		a->job_waits = true;
		return;
	}
	a->job_waits = false;
	{ /* the host learns of a panic (GUEST_PANICKED: vmcore, verdict) only through pvpanic:
	   * QEMU's ISA device (ACPI QEMU0001, driven by pvpanic_mmio) or its PCI device
	   * (pvpanic_pci; kernels without ACPI have only that one), and udev may not have
	   * loaded the modules yet when the boot counts as finished */
		int r_mmio = load_module("pvpanic_mmio", "/sys/bus/platform/drivers/pvpanic-mmio");
		int r_pci = load_module("pvpanic_pci", "/sys/bus/pci/drivers/pvpanic-pci");
		if (r_mmio < 0 && r_pci < 0)
			fprintf(stderr, "kdrill agent: modprobe pvpanic_mmio and pvpanic_pci "
					"failed: a panic will be seen on the console only\n");
	}
	if (!strcmp(name, "boot")) {
		json_object *o = msg("done");
		json_object_object_add(o, "job", json_object_new_string(name));
		json_object_object_add(o, "status", json_object_new_int(0));
		agent_send(a, o);
		if (!job_get(a, "nopoweroff"))
			agent_poweroff(a, "job done");
		return;
	}
	/* watcher self-checks: a kernel crash, and a guest that stops answering */
	if (!strcmp(name, "sysrq-crash")) {
		sync();
		if (write_string_file("/proc/sysrq-trigger", "c") < 0)
			fprintf(stderr, "kdrill agent: sysrq-trigger: %m\n");
		return;
	}
	if (!strcmp(name, "stall")) {
		sd_event_source_set_enabled(a->heartbeat, SD_EVENT_OFF);
		return;
	}
	if (!strcmp(name, "run")) {
		/* runner_run() drives this loop with sd_event_run(): not from a callback */
		if (!a->running)
			a->run_pending = true;
		return;
	}
	{
		json_object *o = msg("done");
		json_object_object_add(o, "job", json_object_new_string(name));
		json_object_object_add(o, "status", json_object_new_int(KD_EXIT_USAGE));
		json_object_object_add(o, "error", json_object_new_string("unknown job"));
		agent_send(a, o);
	}
}

static void agent_collect(struct agent *a);
static void run_done(struct agent *a, int status, const char *error);

static int agent_handle(json_object *o, const char *line, void *userdata)
{
	struct agent *a = userdata;
	json_object *v;
	const char *cmd = NULL;

	(void)line;
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object *e = msg("error");
		json_object_object_add(e, "error", json_object_new_string("not a JSON object"));
		agent_send(a, e);
		return 0;
	}
	if (json_object_object_get_ex(o, "cmd", &v))
		cmd = json_object_get_string(v);
	if (cmd && !strcmp(cmd, "ping")) {
		json_object *p = msg("pong");
		if (json_object_object_get_ex(o, "id", &v))
			json_object_object_add(p, "id", json_object_get(v));
		agent_send(a, p);
	} else if (cmd && !strcmp(cmd, "run")) {
		_cleanup_free_ char *err = NULL;
		if (a->running || a->have_req) {
			run_done(a, KD_EXIT_USAGE, "a run is already going");
		} else if (!json_object_object_get_ex(o, "request", &v) ||
			   run_request_from_json(v, &a->req, &err) < 0) {
			run_done(a, KD_EXIT_USAGE, err ? err : "run without a request");
		} else {
			a->have_req = true;
			json_object_object_add(a->job, "job", json_object_new_string("run"));
			agent_start_job(a);
		}
	} else if (cmd && !strcmp(cmd, "stop")) {
		/* the host saw a kernel report and the scenario stops at the first one */
		json_object *p = msg("stopping");
		const char *why = json_object_object_get_ex(o, "reason", &v) ? json_object_get_string(v)
									   : NULL;
		if (a->runner)
			runner_stop(a->runner, why);
		json_object_object_add(p, "status", json_object_new_int(a->runner ? 0 : -EAGAIN));
		agent_send(a, p);
	} else if (cmd && !strcmp(cmd, "collect")) {
		agent_collect(a);
	} else if (cmd && !strcmp(cmd, "poweroff")) {
		agent_poweroff(a, "host request");
	} else if (cmd && !strcmp(cmd, "job") && json_object_object_get_ex(o, "job", &v) &&
		   json_object_is_type(v, json_type_object)) {
		json_object_object_foreach (v, key, val)
			json_object_object_add(a->job, key,
					       json_object_new_string(json_object_get_string(val)));
		agent_start_job(a);
	} else {
		json_object *e = msg("error");
		json_object_object_add(e, "error", json_object_new_string("unknown command"));
		if (cmd)
			json_object_object_add(e, "cmd", json_object_new_string(cmd));
		agent_send(a, e);
	}
	return a->powering_off ? 1 : 0; /* nothing more once powering off */
}

static int on_input(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct agent *a = userdata;
	ssize_t n = jsonl_read(&a->in, fd, agent_handle, a);

	if (n == -ENOMEM)
		return (int)n;
	if (n == 0 || (n < 0 && n != -EAGAIN && revents & (EPOLLHUP | EPOLLERR)))
		/* host side closed (EPOLLHUP on virtio-serial): keep writing heartbeats, stop
		 * polling for input so the loop does not spin */
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
	return 0;
}

static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;
	json_object *o = msg("heartbeat");

	json_object_object_add(o, "seq", json_object_new_int64((int64_t)++a->seq));
	if (a->write_drops)
		json_object_object_add(o, "dropped", json_object_new_int64(a->write_drops));
	agent_send(a, o);
	sd_event_source_set_time(s, usec + 1000000);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT); /* time sources are one-shot */
	return 0;
}

/* systemd finished booting (or the wait failed): tell the host, start a waiting job */
static int on_system(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct agent *a = userdata;
	json_object *o = msg("system");
	char buf[256] = "";
	ssize_t n;

	(void)s;
	if (a->sys_pipe >= 0) {
		n = read(a->sys_pipe, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(a->sys_pipe);
		a->sys_pipe = -1;
	}
	json_object_object_add(o, "state",
			       json_object_new_string(*buf ? strstrip(buf) : "unknown"));
	json_object_object_add(o, "status", json_object_new_int(si->si_status));
	agent_send(a, o);
	a->system_up = true;
	if (a->job_waits)
		agent_start_job(a);
	return 0;
}

static int watch_system(struct agent *a)
{
	char *argv[] = {(char *)"systemctl", (char *)"is-system-running", (char *)"--wait", NULL};
	int p[2];
	pid_t pid;

	if (access("/run/systemd/system", F_OK) != 0) {
		a->system_up = true; /* not under systemd (tests, other inits) */
		return 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	{
		struct spawn_opts so = {.stdout_fd = p[1]};
		pid = spawn_argv(argv, &so);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		a->system_up = true;
		return pid;
	}
	a->sys_pipe = p[0];
	return sd_event_add_child(a->ev, &a->sys_child, pid, WEXITED, on_system, a);
}

/* /dev/<entry> for the entry of the sysfs directory DIR whose ATTR file reads VALUE
 * (no udev needed) */
static int dev_by_sysfs_attr(const char *dir, const char *attr, const char *value, char **ret)
{
	_cleanup_(closedirp_agent) DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = strdupf("%s/%s/%s", dir, de->d_name, attr);
		_cleanup_free_ char *v = NULL;
		if (de->d_name[0] == '.' || !p || read_one_line(p, &v) < 0)
			continue;
		if (!strcmp(strstrip(v), value)) {
			*ret = strdupf("/dev/%s", de->d_name);
			return *ret ? 0 : -ENOMEM;
		}
	}
	return -ENOENT;
}

static int find_port(char **ret)
{
	if (access("/dev/virtio-ports/" AGENT_PORT_NAME, F_OK) == 0) {
		*ret = strdup("/dev/virtio-ports/" AGENT_PORT_NAME);
		return *ret ? 0 : -ENOMEM;
	}
	return dev_by_sysfs_attr("/sys/class/virtio-ports", "name", AGENT_PORT_NAME, ret) == 0
		   ? 0
		   : -ENOENT;
}

/* ---- the "run" job: a scenario through the runner, results onto the results disk ---- */

/* /dev/<name> of the virtio disk whose serial is SERIAL */
static int disk_by_serial(const char *serial, char **ret)
{
	return dev_by_sysfs_attr("/sys/block", "serial", serial, ret);
}

/* The run directory onto the results disk as a raw tar (the host extracts it), with the
 * guest's journal (unit failures, systemd's view) saved beside the run's files first.
 * partial: the run is still going (a hang: files change under tar, which is fine). */
static int pack_results(const char *run_dir, bool partial)
{
	_cleanup_free_ char *resdisk = NULL, *jp = strdupf("%s/journal.txt", run_dir);
	_cleanup_close_ int jfd =
	    jp ? open(jp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	char *jargv[] = {(char *)"journalctl",	    (char *)"-b",
			 (char *)"--no-pager",	    (char *)"-o",
			 (char *)"short-monotonic", NULL};
	char *targv[] = {(char *)"tar",
			 (char *)"-cf",
			 NULL,
			 (char *)"--ignore-failed-read",
			 (char *)"--warning=no-file-changed",
			 (char *)"-C",
			 (char *)run_dir,
			 (char *)".",
			 NULL};
	int r;

	if (jfd >= 0) {
		struct spawn_opts so = {.stdout_fd = jfd};
		pid_t pid = spawn_argv(jargv, &so);
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	if ((r = disk_by_serial("kdresults", &resdisk)) < 0)
		return r;
	targv[2] = resdisk;
	r = run_argv(targv, NULL, (partial ? 30 : 300) * 1000000ULL);
	/* flush the results disk only: a global sync() would wait on the very filesystem
	 * that hangs (seen: the agent stuck in ext4_sync_fs behind a suspended dm device) */
	{
		_cleanup_close_ int dfd = open(resdisk, O_RDONLY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) < 0)
			fprintf(stderr, "kdrill agent: flushing %s: %m\n", resdisk);
	}
	/* GNU tar: 1 = some file changed while being read (expected mid-run) */
	if (r == 0 || (partial && r == 1))
		return 0;
	fprintf(stderr, "kdrill agent: tar %s -> %s failed (%d)\n", run_dir, resdisk, r);
	return r < 0 ? r : -EIO;
}

/* {"cmd":"collect"}: the host saw a hang and is about to stop the VM */
static void agent_collect(struct agent *a)
{
	json_object *o = msg("collected");
	int r = a->running && a->run_dir ? pack_results(a->run_dir, true) : -ENOENT;

	json_object_object_add(o, "status", json_object_new_int(r));
	if (a->run_dir)
		json_object_object_add(o, "dir", json_object_new_string(a->run_dir));
	agent_send(a, o);
}

static void agent_progress(const struct run_progress *p, void *userdata)
{
	struct agent *a = userdata;
	json_object *o = msg("progress");

	if (!a->run_dir && p->run_id)
		a->run_dir = strdupf("%s/%s", AGENT_RESULTS_DIR, p->run_id);

	json_object_object_add(o, "run_id", json_object_new_string(p->run_id ? p->run_id : ""));
	json_object_object_add(o, "elapsed", json_object_new_double(p->elapsed));
	json_object_object_add(o, "total", json_object_new_double(p->total));
	if (p->load_started >= 0)
		json_object_object_add(o, "load_started", json_object_new_double(p->load_started));
	json_object_object_add(o, "ops", json_object_new_int64((int64_t)p->ops));
	json_object_object_add(o, "ops_per_s", json_object_new_double(p->ops_per_s));
	json_object_object_add(o, "oom_kills", json_object_new_int64((int64_t)p->oom_kills));
	json_object_object_add(o, "restarts", json_object_new_int64((int64_t)p->restarts));
	json_object_object_add(o, "reports", json_object_new_int((int)p->reports));
	json_object_object_add(o, "running", json_object_new_int((int)p->running));
	agent_send(a, o);
}

static void run_done(struct agent *a, int status, const char *error)
{
	json_object *o = msg("done");
	json_object_object_add(o, "job", json_object_new_string("run"));
	json_object_object_add(o, "status", json_object_new_int(status));
	if (error)
		json_object_object_add(o, "error", json_object_new_string(error));
	agent_send(a, o);
}

/* The "run" command's request (harness/run/request.h): the scenario file the host
 * resolved is written under /run/kdrill/scenario and loaded with the overrides. */
static int agent_run_job(struct agent *a)
{
	_cleanup_(scenario_freep) struct scenario *sc = NULL;
	_cleanup_free_ char *err = NULL, *path = NULL, *load = NULL, *name = NULL;
	_cleanup_strv_ char **devices = NULL;
	const struct run_request *rq = &a->req;
	const char *target = rq->scenario, *colon;
	struct run_opts o = {.stop_on = rq->stop_on,
			     .duration = rq->duration,
			     .seed = rq->rand_seed,
			     .cg_backend = KDCG_SYSTEMD,
			     .mode_name = "vm",
			     .no_kmsg = true,
			     .scratch = "/run/kdrill/mnt",
			     .out_dir = AGENT_RESULTS_DIR,
			     .ui = RUN_UI_QUIET,
			     .event = a->ev,
			     .progress = agent_progress,
			     .userdata = a,
			     .handle = &a->runner};
	struct run_result res = {0};
	bool need_dm = false;
	int r;

	if (!a->have_req) {
		run_done(a, KD_EXIT_USAGE, "run job without a request (send {\"cmd\":\"run\"})");
		return -EINVAL;
	}
	colon = strchr(target, ':');
	name = colon ? strndup(target, (size_t)(colon - target)) : strdup(target);
	if (!name || strchr(name, '/') || !*name) {
		run_done(a, KD_EXIT_USAGE, "bad scenario name");
		return -EINVAL;
	}
	if ((r = mkdir_p("/run/kdrill/scenario", 0755)) < 0 || (r = mkdir_p(o.scratch, 0755)) < 0 ||
	    (r = mkdir_p(o.out_dir, 0755)) < 0) {
		run_done(a, KD_EXIT_INFRA, "cannot create /run/kdrill");
		return r;
	}
	path = strdupf("/run/kdrill/scenario/%s.ini", name);
	load = colon ? strdupf("%s%s", path ? path : "", colon) : strdup(path ? path : "");
	if (!path || !load ||
	    write_file_atomic(path, rq->scenario_text, strlen(rq->scenario_text), 0644) < 0) {
		run_done(a, KD_EXIT_INFRA, "cannot write the scenario file");
		return -EIO;
	}
	r = scenario_load(load, rq->params, &sc, &err);
	if (r < 0) {
		run_done(a, r == -ENOMEM ? KD_EXIT_INFRA : KD_EXIT_USAGE, err ? err : strerror(-r));
		return r;
	}
	if (rq->cgroup_backend && kdcg_backend_from_string(rq->cgroup_backend, &o.cg_backend) < 0)
		o.cg_backend = KDCG_SYSTEMD;
	/* one whole scratch disk per local filesystem, in file order (serial kdscratchN) */
	for (size_t i = 0, n = 0; i < sc->n_fs; i++) {
		_cleanup_free_ char *serial = NULL;
		char *dev = NULL;
		if (!strcmp(sc->fs[i].type, "nfs"))
			continue;
		need_dm |= sc->fs[i].dm != NULL;
		serial = strdupf("kdscratch%zu", n++);
		if (!serial || disk_by_serial(serial, &dev) < 0) {
			_cleanup_free_ char *e =
			    strdupf("no scratch disk with serial %s for [fs.%s]",
				    serial ? serial : "?", sc->fs[i].name);
			run_done(a, KD_EXIT_INFRA, e);
			return -ENODEV;
		}
		if (strv_push(&devices, dev) < 0)
			return -ENOMEM;
	}
	o.devices = devices;
	if (need_dm) { /* dmsetup does not load it: without the module every dmsetup create fails */
		if (load_module("dm_mod", "/dev/mapper/control") < 0)
			fprintf(stderr, "kdrill agent: modprobe dm_mod failed\n");
	}
	fprintf(stderr, "kdrill agent: running %s\n", target);
	a->running = true;
	r = runner_run(sc, &o, &res);
	a->running = false;
	free(a->run_dir);
	a->run_dir = NULL;
	if (r < 0) {
		run_done(a, KD_EXIT_INFRA, res.reason ? res.reason : strerror(-r));
		run_result_done(&res);
		return r;
	}
	r = res.run_dir ? pack_results(res.run_dir, false) : -ENOENT;
	{
		json_object *o2 = msg("result");
		json_object_object_add(o2, "results_disk",
				       json_object_new_string(r == 0 ? "tar" : "none"));
		json_object_object_add(o2, "verdict", json_object_get(res.json));
		agent_send(a, o2);
	}
	run_done(a, res.exit_code, NULL);
	run_result_done(&res);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: kdrill agent [--port PATH] [--cmdline FILE] [--no-poweroff]\n"
		   "In-guest agent (kdrill-agent.service).  Talks JSON lines on the virtio-serial\n"
		   "port " AGENT_PORT_NAME
		   " (docs/agent-protocol.md); the job comes from the kdrill.*\n"
		   "parameters of the kernel command line or a host 'job' command.\n");
}

int cmd_agent(int argc, char **argv)
{
	static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
					     {"cmdline", required_argument, NULL, 'c'},
					     {"no-poweroff", no_argument, NULL, 'n'},
					     {"help", no_argument, NULL, 'h'},
					     {}};
	struct agent a = {.fd = -1, .sys_pipe = -1};
	double t_start = uptime_sec();
	_cleanup_free_ char *cmdline = NULL;
	const char *cmdline_path = "/proc/cmdline";
	sd_event_source *hb = NULL, *io = NULL;
	struct utsname u;
	json_object *o;
	uint64_t deadline;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
		switch (c) {
		case 'p':
			free(a.port);
			a.port = strdup(optarg);
			break;
		case 'c':
			cmdline_path = optarg;
			break;
		case 'n':
			a.no_poweroff = true;
			break;
		case 'h':
			usage(stdout);
			return KD_EXIT_OK;
		default:
			usage(stderr);
			return KD_EXIT_USAGE;
		}
	if (optind != argc) {
		usage(stderr);
		return KD_EXIT_USAGE;
	}
	/* json-c seeds its string hash from getrandom/urandom, which blocks for seconds
	 * early in a TCG guest's boot (crng not ready): use the unseeded hash */
	json_global_set_string_hash(JSON_C_STR_HASH_PERLLIKE);
	read_full_file(cmdline_path, &cmdline, NULL);
	a.job = job_from_cmdline(cmdline);
	/* the port appears once virtio_console is loaded (udev adds the by-name link) */
	deadline = now_usec() + 30 * 1000000ULL;
	while (!a.port && find_port(&a.port) < 0 && now_usec() < deadline)
		usleep(50000);
	if (!a.port) {
		fprintf(stderr, "kdrill agent: no virtio-serial port named " AGENT_PORT_NAME "\n");
		r = KD_EXIT_INFRA;
		goto out;
	}
	a.fd = open(a.port, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (a.fd < 0) {
		fprintf(stderr, "kdrill agent: %s: %s\n", a.port, strerror(errno));
		r = KD_EXIT_INFRA;
		goto out;
	}
	{
		sigset_t ss;
		sigemptyset(&ss);
		sigaddset(&ss, SIGCHLD);
		sigprocmask(SIG_BLOCK, &ss, NULL);
	}
	r = sd_event_default(&a.ev);
	if (r < 0)
		goto fail;
	r = sd_event_add_io(a.ev, &io, a.fd, EPOLLIN, on_input, &a);
	if (r < 0)
		goto fail;
	r = sd_event_add_time_relative(a.ev, &hb, CLOCK_MONOTONIC, 1000000, 0, on_heartbeat, &a);
	if (r < 0)
		goto fail;
	a.heartbeat = hb;
	o = msg("ready");
	json_object_object_add(o, "proto", json_object_new_int(AGENT_PROTO));
	json_object_object_add(o, "started", json_object_new_double(t_start));
	json_object_object_add(o, "port", json_object_new_string(a.port));
	json_object_object_add(o, "version", json_object_new_string(KDRILL_VERSION));
	if (uname(&u) == 0)
		json_object_object_add(o, "kernel", json_object_new_string(u.release));
	json_object_object_add(o, "job", json_object_get(a.job));
	agent_send(&a, o);
	fprintf(stderr, "kdrill agent: ready on %s\n", a.port);
	r = watch_system(&a);
	if (r < 0)
		fprintf(stderr, "kdrill agent: cannot watch the boot: %s\n", strerror(-r));
	agent_start_job(&a);
	r = 0;
	while (!a.powering_off && sd_event_get_state(a.ev) != SD_EVENT_FINISHED) {
		if (a.run_pending) {
			a.run_pending = false;
			agent_run_job(&a);
			if (!job_get(&a, "nopoweroff"))
				agent_poweroff(&a, "job done");
			continue;
		}
		r = sd_event_run(a.ev, UINT64_MAX);
		if (r < 0)
			break;
	}
	r = r < 0 ? KD_EXIT_INFRA : KD_EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "kdrill agent: event loop: %s\n", strerror(-r));
	r = KD_EXIT_INFRA;
out:
	sd_event_source_unref(hb);
	sd_event_source_unref(io);
	sd_event_source_unref(a.sys_child);
	if (a.sys_pipe >= 0)
		close(a.sys_pipe);
	sd_event_unref(a.ev);
	if (a.fd >= 0)
		close(a.fd);
	json_object_put(a.job);
	run_request_done(&a.req);
	jsonl_clear(&a.in);
	free(a.port);
	return r;
}
