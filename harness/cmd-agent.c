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
#include <systemd/sd-event.h>

#include "commands.h"
#include "util/util.h"

#ifndef KDRILL_VERSION
#define KDRILL_VERSION "unknown"
#endif

#define AGENT_PORT_NAME "kdrill.agent"
#define AGENT_PROTO	1

struct agent {
	sd_event *ev;
	int fd;
	char *port;
	char *inbuf;
	size_t inlen;
	uint64_t seq;
	json_object *job; /* kdrill.* parameters, "kdrill." stripped */
	bool no_poweroff;
	bool system_up; /* systemctl is-system-running --wait returned */
	bool job_waits; /* the job starts once the system is up */
	int sys_pipe;	/* stdout of systemctl is-system-running --wait */
	sd_event_source *sys_child;
	sd_event_source *heartbeat;
	bool powering_off;
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

static void agent_poweroff(struct agent *a, const char *why)
{
	json_object *o = msg("bye");

	if (a->powering_off)
		return;
	a->powering_off = true;
	json_object_object_add(o, "action",
			       json_object_new_string(a->no_poweroff ? "exit" : "poweroff"));
	json_object_object_add(o, "reason", json_object_new_string(why));
	agent_send(a, o);
	if (!a->no_poweroff) {
		char *argv[] = {(char *)"systemctl", (char *)"--no-block", (char *)"poweroff",
				NULL};
		if (access("/run/systemd/system", F_OK) != 0 ||
		    run_argv(argv, NULL, 10000000) != 0) {
			sync();
			reboot(RB_POWER_OFF);
		}
	}
	sd_event_exit(a->ev, 0);
}

/* The job hand-off.  Today: "boot" (report ready, done, power off) and "idle" (wait for
 * host commands).  The runner plugs in here later: a job names what to run and the
 * agent reports progress/result messages on the same channel. */
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
	{
		json_object *o = msg("done");
		json_object_object_add(o, "job", json_object_new_string(name));
		json_object_object_add(o, "status", json_object_new_int(KD_EXIT_USAGE));
		json_object_object_add(o, "error", json_object_new_string("unknown job"));
		agent_send(a, o);
	}
}

static void agent_handle(struct agent *a, const char *line)
{
	json_object *o = json_tokener_parse(line), *v;
	const char *cmd = NULL;

	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object *e = msg("error");
		json_object_object_add(e, "error", json_object_new_string("not a JSON object"));
		agent_send(a, e);
		json_object_put(o);
		return;
	}
	if (json_object_object_get_ex(o, "cmd", &v))
		cmd = json_object_get_string(v);
	if (cmd && !strcmp(cmd, "ping")) {
		json_object *p = msg("pong");
		if (json_object_object_get_ex(o, "id", &v))
			json_object_object_add(p, "id", json_object_get(v));
		agent_send(a, p);
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
	json_object_put(o);
}

static int on_input(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct agent *a = userdata;
	char buf[4096];
	ssize_t n;

	(void)s;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		/* host side closed (EPOLLHUP on virtio-serial): keep writing heartbeats, stop
		 * polling for input so the loop does not spin */
		if (revents & (EPOLLHUP | EPOLLERR) || n == 0)
			sd_event_source_set_enabled(s, SD_EVENT_OFF);
		return 0;
	}
	{
		char *nb = realloc(a->inbuf, a->inlen + (size_t)n + 1);
		if (!nb)
			return -ENOMEM;
		a->inbuf = nb;
		memcpy(a->inbuf + a->inlen, buf, (size_t)n);
		a->inlen += (size_t)n;
		a->inbuf[a->inlen] = 0;
	}
	for (;;) {
		char *nl = memchr(a->inbuf, '\n', a->inlen);
		size_t l;
		if (!nl)
			break;
		*nl = 0;
		if (*strstrip(a->inbuf))
			agent_handle(a, a->inbuf);
		if (a->powering_off)
			return 0;
		l = (size_t)(nl - a->inbuf) + 1;
		memmove(a->inbuf, nl + 1, a->inlen - l + 1);
		a->inlen -= l;
	}
	if (a->inlen > (1u << 20)) { /* a line longer than 1 MiB: drop it */
		a->inlen = 0;
		a->inbuf[0] = 0;
	}
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

static int find_port(char **ret)
{
	_cleanup_(closedirp_agent) DIR *d = NULL;
	struct dirent *de;

	if (access("/dev/virtio-ports/" AGENT_PORT_NAME, F_OK) == 0) {
		*ret = strdup("/dev/virtio-ports/" AGENT_PORT_NAME);
		return *ret ? 0 : -ENOMEM;
	}
	d = opendir("/sys/class/virtio-ports");
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = strdupf("/sys/class/virtio-ports/%s/name", de->d_name);
		_cleanup_free_ char *name = NULL;
		if (de->d_name[0] == '.' || !p || read_one_line(p, &name) < 0)
			continue;
		if (!strcmp(strstrip(name), AGENT_PORT_NAME)) {
			*ret = strdupf("/dev/%s", de->d_name);
			return *ret ? 0 : -ENOMEM;
		}
	}
	return -ENOENT;
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
	if (!a.powering_off)
		r = sd_event_loop(a.ev);
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
	free(a.inbuf);
	free(a.port);
	return r;
}
