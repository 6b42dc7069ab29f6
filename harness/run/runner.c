// SPDX-License-Identifier: GPL-2.0
/*
 * Run one scenario: storage, slices, reproducers and loads, kernel log watch,
 * stats, verdict, result files.  One sd-event loop, no threads.
 */
#include "runner.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>

#include "detect.h"
#include "jsonl.h"
#include "kmsg.h"
#include "results.h"
#include "taskstack.h"
#include "util.h"

#define NFS_START_USEC (300 * 1000000ULL) /* systemctl start nfs-server */

struct runner;

struct inst {
	struct runner *rn;
	const struct sc_proc *pr;
	char *label;	/* proc-N */
	char *engine;	/* may be NULL */
	char *out_path; /* JSON lines (stdout) */
	char *err_path; /* stderr */
	char *dir;	/* working directory */
	char **argv;
	struct kdcg_slice *cg_slice;
	struct kdcg_unit *unit;
	int slice_idx;
	bool no_nowait; /* its output file does not do RWF_NOWAIT reads */
	bool started;	/* kdcg_unit_start() called (units start in batches from the loop) */
	bool stop_sent; /* kdcg_unit_stop() called */
	bool done;
	int fd;
	off_t off;
	char *partial;
	size_t partial_len;
	/* collected */
	uint64_t ops_done; /* sum over finished incarnations */
	uint64_t ops_cur;  /* current incarnation's last progress */
	unsigned exits, restarts, results;
	int last_exit;
	char *last_result_kind;		/* kdcg's "oom-kill", ... */
	struct json_object *result;	/* last result record */
	struct json_object *exit_codes; /* {"0": n, "137": n} */
	bool anomaly;
	bool progressed; /* a progress record came: it reached its main loop */
	char *infra;
};

struct mnt {
	const struct sc_fs *fs;
	char *dev;     /* block device (loop, disk, or dm) */
	char *dm_name; /* dm target we made */
	int loop_fd;
	char *path; /* mount point */
	bool mounted, made_dir, exported, suspended;
};

struct slice_rt {
	const struct sc_slice *sc;
	char *name; /* name-i */
	char *path; /* cgroup path, kept after the slice is gone */
	struct kdcg_slice *s;
	struct kdcg_stats last;
	bool have_stats;
};

/* a unit's task seen dying during the run (watch_dying()) */
struct dying {
	pid_t tid;
	uint64_t since; /* first seen dying (CLOCK_MONOTONIC usec) */
	bool seen, reported;
};

struct runner {
	const struct scenario *sc;
	const struct run_opts *o;
	sd_event *e;
	char *run_id, *run_dir, *label;
	char *run_dir_abs; /* for what the units see: their cwd is not ours */
	char *bindir;
	uint64_t seed;
	double duration;
	enum sc_stop_on stop_on;
	uint64_t t0_mono, t0_real;

	struct kd_detector *det;
	struct kmsg_watch *kmsg;
	FILE *console; /* the kernel log of the run (not in VM mode: the host has the console) */
	FILE *events;  /* runner.log: what the runner did and saw, timestamped, every mode */
	FILE *stats;
	unsigned n_reports, n_failures;
	bool matched;
	double first_match_t; /* elapsed() at the first report matching the signature, -1 */
	char *first_failure;

	struct kdcg_ctx *cg;
	struct slice_rt *slices;
	size_t n_slices;
	struct kdcg_slice *free_slice;
	struct mnt *mnts;
	size_t n_mnts;
	struct inst *insts;
	size_t n_insts;

	sd_event_source *tick, *end_timer, *grace_timer, *kill_timer, *sigint, *sigterm, *sighup;
	sd_event_source *starter;	   /* starts the units a batch per loop iteration */
	sd_event_source *slice_kill_timer; /* kdcg_slice_kill() of slices being stopped */
	size_t next_start;		   /* first inst not started yet */
	double load_started;		   /* elapsed() at the first unit's start, -1 none */
	unsigned teardown_pending;	   /* slices being destroyed asynchronously */
	sd_event_source **action_src;
	char *nfsd_threads; /* nfs-server-stop: nfsd thread count to restore, NULL: running */
	sd_event_source *nfsd_timer; /* nfs-server-stop: the restart after the hold */
	bool stopping, done, interrupted, setup_failed;
	bool scratch_full; /* host: the --scratch filesystem filled up under the loop images */
	char *stop_reason;
	char *infra_reason;
	uint64_t kill_usec;	/* the slices' kill (every unit SIGKILLed), 0: not yet */
	bool cant_die_wait;	/* units outlived the kill: waiting for them, bounded */
	unsigned cant_die_secs; /* the bound; 0: not known yet (cant_die_bound()) */
	uint64_t cant_die_due;	/* the wait's end (CLOCK_MONOTONIC usec) */
	/* tasks of the units seen dying (SIGKILL pending or exiting) while the run goes on:
	 * an OOM victim the kernel does not let die is reported like a stop's */
	struct dying *dying;
	size_t n_dying;
	uint64_t dying_scan_usec;
	uint64_t last_ops;
	double last_ops_t;
	double ops_per_s;
	uint64_t oom_kills;
	bool progress_line;
};

static double elapsed(struct runner *rn)
{
	return (double)(now_usec() - rn->t0_mono) / 1e6;
}

_printf_(2, 3) static void note(struct runner *rn, const char *fmt, ...);

_printf_(2, 3) static void set_infra(struct runner *rn, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	if (rn->infra_reason)
		return;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	/* a reason is one line for people and index.jsonl: what it quotes (a mount option, a
	 * path) may be user input of any length */
	if (m && strlen(m) > 1000)
		strcpy(m + 997, "...");
	rn->infra_reason = m ? m : strdup("kdrill failure");
	note(rn, "kdrill: infra: %s", rn->infra_reason ? rn->infra_reason : "?");
}

static void vnote(struct runner *rn, const char *fmt, va_list ap)
{
	if (!rn->events)
		return;
	fprintf(rn->events, "[%8.3f] ", rn->t0_mono ? elapsed(rn) : 0.0);
	vfprintf(rn->events, fmt, ap);
	fputc('\n', rn->events);
	fflush(rn->events);
}

/* A runner event for runner.log only (with the run's elapsed time): setup commands, unit
 * starts and exits.  The agent runs quiet, so in the guest runner.log is the record. */
_printf_(2, 3) static void note(struct runner *rn, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote(rn, fmt, ap);
	va_end(ap);
}

/* An event the user sees too: runner.log and, unless quiet, stderr. */
_printf_(2, 3) static void say(struct runner *rn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(rn, fmt, ap);
	va_end(ap);
	if (rn->o->ui == RUN_UI_QUIET)
		return;
	if (rn->progress_line) {
		fputs("\r\033[K", stderr);
		rn->progress_line = false;
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void begin_stop(struct runner *rn, const char *why);

/* ---- kernel log ------------------------------------------------------------------ */

/* Host mode: is the filesystem under --scratch (where the sparse loop images grow) full? */
static bool scratch_is_full(const struct runner *rn)
{
	struct statvfs sv;
	if (!rn->o->host || !rn->o->scratch || statvfs(rn->o->scratch, &sv) < 0)
		return false;
	return (uint64_t)sv.f_bavail * sv.f_frsize < (8ULL << 20);
}

/* A report's role, except that once the scratch filesystem is full, I/O and filesystem
 * errors on kdrill's loop devices are the consequence of that (INFRA), not kernel bugs. */
static enum report_role role_of(const struct runner *rn, const struct kd_report *r)
{
	if (rn->scratch_full && r->cls == KD_CLASS_FSERROR)
		return ROLE_INFO;
	return report_role(rn->sc, r);
}

static enum report_role role_cb(const struct kd_report *r, void *userdata)
{
	return role_of(userdata, r);
}

static void on_report(const struct kd_report *r, bool first, void *userdata)
{
	struct runner *rn = userdata;
	enum report_role role;

	if (!first)
		return;
	rn->n_reports++;
	if (r->cls == KD_CLASS_FSERROR && !rn->scratch_full && scratch_is_full(rn)) {
		rn->scratch_full = true;
		set_infra(rn,
			  "the scratch directory %s is full: kdrill's loop images could not grow "
			  "(the kernel's I/O errors on its loop devices follow from that)",
			  rn->o->scratch);
		if (!rn->stopping)
			begin_stop(rn, "scratch directory full");
	}
	role = role_of(rn, r);
	if (report_is_match(rn->sc, r, role)) {
		if (!rn->matched)
			rn->first_match_t = elapsed(rn);
		rn->matched = true;
	}
	if (rn->o->report) {
		struct json_object *j = kd_report_to_json(r);
		if (j) {
			rn->o->report(j, rn->o->userdata);
			json_object_put(j);
		}
	}
	if (role != ROLE_FAILURE) {
		if (r->cls != KD_CLASS_OOM)
			say(rn, "kdrill: %s (%s: information)", r->title,
			    role == ROLE_ALLOWED ? "allowed" : kd_class_name(r->cls));
		return;
	}
	rn->n_failures++;
	say(rn, "kdrill: kernel report: %s", r->title);
	if (!rn->first_failure)
		rn->first_failure = strdup(r->title);
	if (rn->stop_on == SC_STOP_FIRST && !rn->stopping) {
		_cleanup_free_ char *why = strdupf("kernel report: %s", r->title);
		begin_stop(rn, why ? why : "kernel report");
	}
}

static void on_kernel_line(const char *line, size_t len, void *userdata)
{
	struct runner *rn = userdata;

	if (rn->console) {
		fwrite(line, 1, len, rn->console);
		fflush(rn->console);
	}
	kd_detector_feed(rn->det, line, len);
}

static int replay(struct runner *rn)
{
	int r;

	if (rn->o->replay_console) {
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if ((r = read_full_file(rn->o->replay_console, &buf, &len)) < 0) {
			set_infra(rn, "--replay-console %s: %s", rn->o->replay_console,
				  strerror(-r));
			return r;
		}
		if (rn->console) {
			fwrite(buf, 1, len, rn->console);
			fflush(rn->console);
		}
		kd_detector_feed(rn->det, buf, len);
		kd_detector_flush(rn->det);
	}
	if (rn->o->replay_kmsg) {
		_cleanup_free_ char *buf = NULL;
		size_t len;
		struct kmsg_watch *w = NULL;
		if ((r = read_full_file(rn->o->replay_kmsg, &buf, &len)) < 0) {
			set_infra(rn, "--replay-kmsg %s: %s", rn->o->replay_kmsg, strerror(-r));
			return r;
		}
		if ((r = kmsg_watch_new(&w, NULL, NULL, on_kernel_line, rn)) < 0)
			return r;
		r = kmsg_watch_feed_text(w, buf, len);
		kmsg_watch_free(w);
		kd_detector_flush(rn->det);
	}
	return 0;
}

/* ---- reproducer output ------------------------------------------------------------ */

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}

static uint64_t ju64(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k, &v))
		return 0;
	int64_t x = json_object_get_int64(v);
	return x > 0 ? (uint64_t)x : 0;
}

static void handle_line(struct inst *in, const char *line)
{
	struct json_object *o;
	const char *rec;

	if (in->pr->kind != SC_REPRO || line[0] != '{')
		return;
	o = json_tokener_parse(line);
	if (!o)
		return;
	rec = jstr(o, "record");
	if (rec && !strcmp(rec, "progress")) {
		in->ops_cur = ju64(o, "ops");
		in->progressed = true;
	} else if (rec && !strcmp(rec, "result")) {
		in->ops_done += ju64(o, "ops");
		in->ops_cur = 0;
		in->results++;
		json_object_put(in->result);
		in->result = json_object_get(o);
		if ((rec = jstr(o, "status")) && !strcmp(rec, "anomaly"))
			in->anomaly = true;
	}
	json_object_put(o);
}

/* Never blocks the loop unless final: a worker stuck in memcg reclaim while appending holds
 * the page cache folio locked, and a plain pread of it waited 1.9-2.2 s (measured under
 * memcg-oom-jbd2).  RWF_NOWAIT returns EAGAIN instead; the next tick reads it.
 * EAGAIN also means "not in the page cache": the output's pages are charged to the
 * writer's memcg, and a slice at its limit reclaims them as soon as they are written back
 * (memcg-oom-jbd2: a memfd hog is unreclaimable, the output files are the first victims),
 * so a NOWAIT read never found them and the run's progress was read only at its end.
 * WILLNEED starts the read-in asynchronously, charged to the runner's own cgroup, so the
 * next tick finds the data. */
static ssize_t pread_nowait(struct inst *in, void *buf, size_t len, bool final)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	ssize_t n;

	if (final || in->no_nowait)
		return pread(in->fd, buf, len, in->off);
	n = preadv2(in->fd, &iov, 1, in->off, RWF_NOWAIT);
	if (n < 0 && errno == EOPNOTSUPP) { /* filesystem without non-blocking reads */
		in->no_nowait = true;
		return pread(in->fd, buf, len, in->off);
	}
	if (n < 0 && errno == EAGAIN)
		(void)posix_fadvise(in->fd, in->off, 0, POSIX_FADV_WILLNEED);
	return n;
}

static void read_output(struct inst *in, bool final)
{
	char buf[8192];
	ssize_t n;

	if (in->fd < 0) {
		in->fd = open(in->out_path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0)
			return;
	}
	while ((n = pread_nowait(in, buf, sizeof(buf), final)) > 0) {
		char *p = buf, *end = buf + n, *nl;
		in->off += n;
		while (p < end) {
			nl = memchr(p, '\n', (size_t)(end - p));
			size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
			/* append to the partial line (unbounded lines are capped at 1 MiB) */
			if (in->partial_len + l < (1u << 20)) {
				char *np = realloc(in->partial, in->partial_len + l + 1);
				if (np) {
					memcpy(np + in->partial_len, p, l);
					in->partial_len += l;
					np[in->partial_len] = 0;
					in->partial = np;
				}
			}
			if (!nl)
				break;
			if (in->partial)
				handle_line(in, in->partial);
			free(in->partial);
			in->partial = NULL;
			in->partial_len = 0;
			p = nl + 1;
		}
	}
}

static uint64_t total_ops(struct runner *rn)
{
	uint64_t s = 0;
	for (size_t i = 0; i < rn->n_insts; i++)
		s += rn->insts[i].ops_done + rn->insts[i].ops_cur;
	return s;
}

static unsigned total_restarts(struct runner *rn)
{
	unsigned s = 0;
	for (size_t i = 0; i < rn->n_insts; i++)
		s += rn->insts[i].restarts;
	return s;
}

/* ---- units ------------------------------------------------------------------------ */

/* Every instance (repro_only: every reproducer, and there is one) is done.  A scenario of
 * loads only runs for its duration: a load that ends early (units start in batches, the
 * next may not have started yet) must not read as "reproducers finished". */
static bool all_done(struct runner *rn, bool repro_only)
{
	bool any = false;

	for (size_t i = 0; i < rn->n_insts; i++) {
		if (repro_only && rn->insts[i].pr->kind != SC_REPRO)
			continue;
		if (!rn->insts[i].done)
			return false;
		any = true;
	}
	return any || !repro_only;
}

static void finish_if_done(struct runner *rn)
{
	if (rn->stopping && all_done(rn, false))
		rn->done = true;
}

static void note_exit(struct inst *in, const struct kdcg_unit_status *st)
{
	struct runner *rn = in->rn;
	int code = st->last_exit;
	char key[16];
	struct json_object *c;

	in->exits++;
	in->last_exit = code;
	/* the first few exits of each instance (an OOM storm has thousands; they are counted) */
	if (in->exits <= 3)
		note(rn, "%s exited %d (%s)%s", in->label, code,
		     st->last_result ? st->last_result : "?",
		     in->exits == 3 ? "; further exits only counted" : "");
	snprintf(key, sizeof(key), "%d", code);
	if (!in->exit_codes)
		in->exit_codes = json_object_new_object();
	if (json_object_object_get_ex(in->exit_codes, key, &c))
		json_object_set_int(c, json_object_get_int(c) + 1);
	else
		json_object_object_add(in->exit_codes, key, json_object_new_int(1));
	if (st->last_result && !strcmp(st->last_result, "exec-failed")) {
		/* reported by kdcg as an event: the loop never waits for an exec */
		if (!in->infra)
			in->infra = strdupf("%s: cannot execute %s: %s", in->label, in->argv[0],
					    strerror(st->exec_errno ? st->exec_errno : EIO));
		return;
	}
	if (code == 0 || code >= 128)
		return; /* clean, or killed (OOM killer, our stop) */
	if (in->pr->kind == SC_REPRO) {
		if (code == 1) {
			in->anomaly = true;
			say(rn, "kdrill: %s exited 1 (anomaly)", in->label);
		} else if (!in->infra) {
			in->infra = strdupf("%s exited %d (%s)", in->label, code,
					    code == 3	  ? "environment unsuitable"
					    : code == 2	  ? "usage error"
					    : code == 127 ? "cannot execute"
							  : "error");
		}
		return;
	}
	if (rn->stopping)
		return; /* loads die in many ways when stopped */
	if (in->pr->on_fail == SC_FAIL_ANOMALY) {
		in->anomaly = true;
		say(rn, "kdrill: load %s exited %d (anomaly)", in->label, code);
	} else if (in->pr->on_fail == SC_FAIL_INFRA && !in->infra)
		in->infra = strdupf("load %s exited %d", in->label, code);
}

static void on_unit(struct kdcg_unit *u, enum kdcg_unit_event ev, void *userdata)
{
	struct inst *in = userdata;
	struct runner *rn = in->rn;
	struct kdcg_unit_status st = {0};

	kdcg_unit_status(u, &st);
	read_output(in, false);
	switch (ev) {
	case KDCG_UNIT_EXITED:
		note_exit(in, &st);
		free(in->last_result_kind);
		in->last_result_kind = st.last_result ? strdup(st.last_result) : NULL;
		/* an incarnation ended without a result record: its progress counts */
		in->ops_done += in->ops_cur;
		in->ops_cur = 0;
		break;
	case KDCG_UNIT_RESTARTED:
		in->restarts = st.restarts > in->restarts ? st.restarts : in->restarts + 1;
		break;
	case KDCG_UNIT_DONE:
		if (st.restarts > in->restarts)
			in->restarts = st.restarts;
		in->done = true;
		in->unit = NULL; /* kdcg keeps it until the slice goes */
		if (!rn->stopping && all_done(rn, true))
			begin_stop(rn, "reproducers finished");
		if (!rn->stopping && in->infra)
			begin_stop(rn, in->infra);
		if (!rn->stopping && in->anomaly && rn->stop_on == SC_STOP_FIRST)
			begin_stop(rn, "reproducer anomaly");
		finish_if_done(rn);
		break;
	}
}

static void stop_units(struct runner *rn, bool loads_and_restarting_only)
{
	for (size_t i = 0; i < rn->n_insts; i++) {
		struct inst *in = &rn->insts[i];
		if (in->done || !in->unit)
			continue;
		if (loads_and_restarting_only && in->pr->kind == SC_REPRO &&
		    in->pr->restart == KDCG_RESTART_NO)
			continue;
		in->stop_sent = true;
		kdcg_unit_stop(in->unit);
	}
}

/* Slice idx (-1: the free slice) is being stopped as a whole: every instance still alive in
 * it was sent its stop (none is in its grace period). */
static bool slice_all_stopping(struct runner *rn, int idx)
{
	bool live = false;

	for (size_t i = 0; i < rn->n_insts; i++) {
		struct inst *in = &rn->insts[i];
		if ((idx >= 0 ? in->slice_idx != idx : in->slice_idx >= 0) || in->done)
			continue;
		if (!in->stop_sent)
			return false;
		live = true;
	}
	return live;
}

/* kdcg stops a unit with SIGTERM and a SIGKILL 2 s later; a worker stuck in memcg reclaim at
 * its slice's limit acts on neither (and jbd2 handles queue up behind it).  A second later,
 * kill whatever is left of those slices at once and lift their memory limits (kdcg_slice_kill):
 * the stop at the duration then takes seconds, not the 20+ s measured under memcg-oom-jbd2. */
static int on_slice_kill(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct runner *rn = userdata;

	(void)s;
	(void)usec;
	if (!rn->kill_usec)
		rn->kill_usec = now_usec();
	for (size_t i = 0; i < rn->n_slices; i++)
		if (rn->slices[i].s && slice_all_stopping(rn, (int)i))
			kdcg_slice_kill(rn->slices[i].s);
	if (rn->free_slice && slice_all_stopping(rn, -1))
		kdcg_slice_kill(rn->free_slice);
	/* The units get their 10 s from this kill on.  The loop may have been held up before
	 * it (a synchronous bus call to a systemd that was itself stuck forking a restart into
	 * a slice at its limit: 20+ s measured): that wait must not eat the budget and turn a
	 * stop that takes its time into INFRA. */
	if (rn->kill_timer) {
		uint64_t due = 0, min = now_usec() + 10 * 1000000ULL;

		if (sd_event_source_get_time(rn->kill_timer, &due) >= 0 && due < min)
			sd_event_source_set_time(rn->kill_timer, min);
	}
	finish_if_done(rn);
	return 0;
}

static void arm_slice_kill(struct runner *rn)
{
	uint64_t at = now_usec() + 3 * 1000000ULL;

	if (rn->slice_kill_timer) {
		sd_event_source_set_time(rn->slice_kill_timer, at);
		sd_event_source_set_enabled(rn->slice_kill_timer, SD_EVENT_ONESHOT);
	} else {
		sd_event_add_time(rn->e, &rn->slice_kill_timer, CLOCK_MONOTONIC, at, 0,
				  on_slice_kill, rn);
	}
}

/* A report line of the runner's own: into the detector like a kernel line; in the guest
 * also into the kernel log, so that the host, which watches the console, sees it too. */
static void own_report(struct runner *rn, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		_cleanup_free_ char *line = strdupf("%.*s\n", (int)n, p);

		if (line) {
			if (!rn->o->host)
				(void)write_string_file("/dev/kmsg", line);
			on_kernel_line(line, n + 1, rn);
		}
		p = e ? e + 1 : p + n;
	}
	kd_detector_flush(rn->det);
}

/* How long a SIGKILLed task may stay in the kernel: the scenario's cant_die_timeout, else
 * task_cant_die_bound() of the kernel's hung-task timeout (read once). */
static unsigned cant_die_bound(struct runner *rn)
{
	if (rn->cant_die_secs)
		return rn->cant_die_secs;
	if (rn->sc->cant_die_timeout > 0) {
		rn->cant_die_secs = (unsigned)ceil(rn->sc->cant_die_timeout);
	} else {
		_cleanup_free_ char *h = NULL;
		uint64_t hung = 0;
		if (read_one_line("/proc/sys/kernel/hung_task_timeout_secs", &h) < 0 ||
		    parse_u64(h, &hung) < 0)
			hung = 0;
		rn->cant_die_secs = task_cant_die_bound(hung);
	}
	return rn->cant_die_secs;
}

static struct dying *find_dying(struct runner *rn, pid_t tid)
{
	for (size_t i = 0; i < rn->n_dying; i++)
		if (rn->dying[i].tid == tid)
			return &rn->dying[i];
	return NULL;
}

/* Report the threads of one unit that are in the kernel, at most `max`, each once (the
 * time since its kill: since it was first seen dying, else since the stop's kill).
 * Returns how many are in the kernel, reported now or before. */
static unsigned report_threads(struct runner *rn, struct inst *in, const pid_t *tids, size_t n,
			       unsigned max)
{
	struct task_stack *t = NULL;
	size_t nt = 0;
	unsigned mine = 0;
	uint64_t now = now_usec();

	if (task_stacks_of(tids, n, &t, &nt) < 0)
		return 0;
	for (size_t j = 0; j < nt && mine < max; j++) {
		_cleanup_free_ char *rep = NULL;
		struct dying *d = find_dying(rn, t[j].tid);
		uint64_t since = d ? d->since : rn->kill_usec;

		if (!task_stack_in_kernel(&t[j]))
			continue;
		if (d && d->reported) { /* reported while the run went on */
			mine++;
			continue;
		}
		rep = task_cant_die_report(&t[j], cant_die_bound(rn),
					   since ? (double)(now - since) / 1e6 : 0);
		if (!rep)
			continue;
		if (d)
			d->reported = true;
		note(rn, "kdrill: %s: %s", in->label, rep);
		own_report(rn, rep);
		mine++;
	}
	task_stacks_free(t, nt);
	return mine;
}

/* Units still there after SIGKILL: report every thread of them that is in the kernel (a
 * task the kernel does not let die is the kernel's problem: "can't die" with its kernel
 * stack), INFRA for what is left without one.  The threads are the unit's cgroup's: a
 * stuck child counts though its parent, the main process, is gone. */
static void report_cant_die(struct runner *rn)
{
	unsigned total = 0;

	for (size_t i = 0; i < rn->n_insts; i++) {
		struct inst *in = &rn->insts[i];
		_cleanup_free_ pid_t *tids = NULL;
		size_t n = 0;
		unsigned mine = 0;

		if (in->done)
			continue;
		if (in->unit && total < 16 && kdcg_unit_threads(in->unit, &tids, &n) >= 0)
			mine = report_threads(rn, in, tids, n, total + 4 <= 16 ? 4 : 16 - total);
		total += mine;
		if (!mine)
			set_infra(rn, "%s did not stop, with no task of it in the kernel",
				  in->label);
	}
}

/* While the run goes on: a task of a unit that is dying -- the OOM killer's SIGKILL
 * pending, or exiting -- and still in the kernel after the bound is reported like a task
 * that does not die at the stop.  A memcg OOM victim that cannot exit (its charge retried
 * forever, or it waits for a lock that a looping task holds) frees nothing, and the kernel
 * itself reports nothing while it stays runnable.  Every 5 s; one report per task. */
static void watch_dying(struct runner *rn)
{
	uint64_t now = now_usec(), bound;
	unsigned total = 0;

	if (rn->stopping || now - rn->dying_scan_usec < 5 * 1000000ULL)
		return;
	rn->dying_scan_usec = now;
	bound = cant_die_bound(rn) * 1000000ULL;
	for (size_t i = 0; i < rn->n_dying; i++)
		rn->dying[i].seen = false;
	for (size_t i = 0; i < rn->n_insts; i++) {
		struct inst *in = &rn->insts[i];
		_cleanup_free_ pid_t *tids = NULL, *due = NULL;
		size_t n = 0, n_due = 0;

		if (!in->started || in->done || !in->unit ||
		    kdcg_unit_threads(in->unit, &tids, &n) < 0 || n == 0)
			continue;
		for (size_t j = 0; j < n; j++) {
			struct dying *d;
			bool dy;

			if (task_dying(tids[j], &dy) < 0 || !dy)
				continue;
			if (!(d = find_dying(rn, tids[j]))) {
				struct dying *a =
				    realloc(rn->dying, (rn->n_dying + 1) * sizeof(*a));
				if (!a)
					return;
				rn->dying = a;
				d = &a[rn->n_dying++];
				*d = (struct dying){.tid = tids[j], .since = now};
			}
			d->seen = true;
			if (!d->reported && now - d->since >= bound) {
				if (!due && !(due = calloc(n, sizeof(*due))))
					return;
				due[n_due++] = tids[j];
			}
		}
		if (n_due && total < 16) {
			if (!total)
				say(rn, "kdrill: %s: a task killed %u s ago is still in the kernel",
				    in->label, cant_die_bound(rn));
			total += report_threads(rn, in, due, n_due, 4);
		}
	}
	/* forget the tasks that died (tids are reused) */
	for (size_t i = 0; i < rn->n_dying;)
		if (!rn->dying[i].seen)
			rn->dying[i] = rn->dying[--rn->n_dying];
		else
			i++;
}

/* A unit being stopped whose cgroup holds no task any more has stopped, whether or not
 * its end reached us (systemd's signals for a unit can be late or lost under load): done.
 * Without this the wait below would run its whole bound and end as "did not stop". */
static void reconcile_stopped(struct runner *rn)
{
	for (size_t i = 0; i < rn->n_insts; i++) {
		struct inst *in = &rn->insts[i];
		_cleanup_free_ pid_t *tids = NULL;
		size_t n = 0;

		if (in->done || !in->unit || !in->stop_sent ||
		    kdcg_unit_threads(in->unit, &tids, &n) < 0 || n > 0)
			continue;
		note(rn,
		     "kdrill: %s: no task left in its cgroup: stopped (its end was not "
		     "reported)",
		     in->label);
		in->done = true;
		in->unit = NULL;
	}
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct runner *rn = userdata;
	unsigned left = 0;
	uint64_t now = now_usec();
	(void)usec;

	reconcile_stopped(rn);
	for (size_t i = 0; i < rn->n_insts; i++)
		left += !rn->insts[i].done;
	if (left && !rn->cant_die_wait) {
		/* wait for them up to the bound after the kill: a stop under load can take
		 * tens of seconds (I/O in flight, a loaded TCG guest) */
		rn->cant_die_wait = true;
		rn->cant_die_due =
		    (rn->kill_usec ? rn->kill_usec : now) + cant_die_bound(rn) * 1000000ULL;
		if (rn->cant_die_due > now + 1000000ULL)
			say(rn,
			    "kdrill: %u unit(s) still there after SIGKILL; waiting up to %u s "
			    "for them to die",
			    left, rn->cant_die_secs);
	}
	if (left && rn->cant_die_due > now + 1000000ULL) {
		/* look again in 2 s: units that die, or turn out to be gone, end the wait */
		uint64_t next = now + 2000000ULL;

		sd_event_source_set_time(s, next < rn->cant_die_due ? next : rn->cant_die_due);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
		return 0;
	}
	/* units that ignore SIGKILL this long are stuck in the kernel: report them, give up
	 * waiting; teardown kills what is left */
	if (left) {
		say(rn, "kdrill: units did not die in %u s after SIGKILL; tearing down",
		    rn->cant_die_secs);
		report_cant_die(rn);
	}
	rn->done = true;
	return 0;
}

static int on_grace(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct runner *rn = userdata;
	(void)s;
	(void)usec;
	stop_units(rn, false);
	arm_slice_kill(rn);
	return 0;
}

static void begin_stop(struct runner *rn, const char *why)
{
	if (rn->stopping)
		return;
	rn->stopping = true;
	free(rn->stop_reason);
	rn->stop_reason = strdup(why);
	/* instances the starter has not reached yet never run */
	rn->starter = sd_event_source_disable_unref(rn->starter);
	for (size_t i = 0; i < rn->n_insts; i++)
		if (!rn->insts[i].started)
			rn->insts[i].done = true;
	if (strcmp(why, "duration"))
		say(rn, "kdrill: stopping: %s", why);
	else
		note(rn, "kdrill: stopping: %s", why);
	/* A run that ends as planned (duration, until) has done its work: lift the slices'
	 * memory limits at once, so that nothing -- a worker in memcg reclaim, systemd forking
	 * a restart into a slice at its limit and answering no bus call meanwhile -- waits for
	 * the OOM killer before it can act on the stop.  (A stop for a kernel report keeps
	 * the limits until the slice kill below: the stuck state is the evidence.) */
	if (!strcmp(why, "duration") || startswith(why, "until reached")) {
		for (size_t i = 0; i < rn->n_slices; i++)
			if (rn->slices[i].s)
				kdcg_slice_lift(rn->slices[i].s);
		if (rn->free_slice)
			kdcg_slice_lift(rn->free_slice);
	}
	/* at the duration, reproducers that stop by themselves get the grace period */
	stop_units(rn, !strcmp(why, "duration"));
	arm_slice_kill(rn);
	sd_event_add_time_relative(rn->e, &rn->grace_timer, CLOCK_MONOTONIC,
				   usec_from_secs(rn->sc->grace), 0, on_grace, rn);
	sd_event_add_time_relative(rn->e, &rn->kill_timer, CLOCK_MONOTONIC,
				   usec_from_secs(rn->sc->grace + 10), 0, on_kill_timer, rn);
	finish_if_done(rn);
}

void runner_stop(struct runner *rn, const char *why)
{
	begin_stop(rn, why && *why ? why : "stop requested");
}

static int on_end(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	begin_stop(userdata, "duration");
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct runner *rn = userdata;
	(void)s;
	if (rn->interrupted) { /* second signal: stop waiting */
		rn->done = true;
		return 0;
	}
	rn->interrupted = true;
	set_infra(rn, "interrupted (%s)",
		  si->ssi_signo == SIGINT   ? "SIGINT"
		  : si->ssi_signo == SIGHUP ? "SIGHUP"
					    : "SIGTERM");
	begin_stop(rn, "interrupted");
	return 0;
}

/* ---- stats and progress ------------------------------------------------------------ */

static void sample(struct runner *rn)
{
	double t = elapsed(rn);
	uint64_t oom = 0;

	for (size_t i = 0; i < rn->n_slices; i++) {
		struct slice_rt *s = &rn->slices[i];
		struct kdcg_stats st;
		unsigned restarts = 0, running = 0;

		if (!s->s || kdcg_slice_stats(s->s, &st) < 0)
			continue;
		s->last = st;
		s->have_stats = true;
		oom += st.oom_kill;
		for (size_t k = 0; k < rn->n_insts; k++)
			if (rn->insts[k].slice_idx == (int)i) {
				restarts += rn->insts[k].restarts;
				running += rn->insts[k].started && !rn->insts[k].done;
			}
		if (rn->stats)
			fprintf(rn->stats,
				"{\"t\":%.1f,\"slice\":\"%s\",\"memory_current\":%llu,"
				"\"memory_peak\":%llu,\"memory_max\":%llu,\"oom\":%llu,"
				"\"oom_kill\":%llu,\"pids\":%u,\"restarts\":%u,\"running\":%u}\n",
				t, s->name, (unsigned long long)st.memory_current,
				(unsigned long long)st.memory_peak,
				(unsigned long long)st.memory_max, (unsigned long long)st.oom,
				(unsigned long long)st.oom_kill, st.n_pids, restarts, running);
	}
	if (rn->stats)
		fflush(rn->stats);
	if (oom > rn->oom_kills)
		rn->oom_kills = oom;
}

static void progress(struct runner *rn, bool final)
{
	double t = elapsed(rn);
	uint64_t ops = total_ops(rn);
	unsigned running = 0;
	struct run_progress p;

	for (size_t i = 0; i < rn->n_insts; i++)
		running += rn->insts[i].started && !rn->insts[i].done;
	if (t - rn->last_ops_t >= 0.5) {
		rn->ops_per_s =
		    ops >= rn->last_ops ? (double)(ops - rn->last_ops) / (t - rn->last_ops_t) : 0;
		rn->last_ops = ops;
		rn->last_ops_t = t;
	}
	p = (struct run_progress){.run_id = rn->run_id,
				  .scenario = rn->label,
				  .elapsed = t,
				  .total = rn->duration,
				  .load_started = rn->load_started,
				  .ops = ops,
				  .ops_per_s = rn->ops_per_s,
				  .oom_kills = rn->oom_kills,
				  .restarts = total_restarts(rn),
				  .reports = rn->n_reports,
				  .failures = rn->n_failures,
				  .running = running};
	if (rn->o->progress)
		rn->o->progress(&p, rn->o->userdata);
	if (final)
		return;
	if (rn->o->ui == RUN_UI_TTY) {
		fprintf(
		    stderr,
		    "\r\033[K%s  %3.0f/%.0fs  ops/s %-8.0f ops %-10llu OOM kills %-5llu restarts "
		    "%-5llu reports %u%s",
		    rn->label, t, rn->duration, p.ops_per_s, (unsigned long long)ops,
		    (unsigned long long)p.oom_kills, (unsigned long long)p.restarts, p.reports,
		    rn->stopping ? "  (stopping)" : "");
		rn->progress_line = true;
	} else if (rn->o->ui == RUN_UI_PLAIN && ((int)t % 10 == 0)) {
		fprintf(stderr,
			"kdrill: %s %.0f/%.0fs ops/s %.0f ops %llu oom_kills %llu restarts %llu "
			"reports %u\n",
			rn->label, t, rn->duration, p.ops_per_s, (unsigned long long)ops,
			(unsigned long long)p.oom_kills, (unsigned long long)p.restarts, p.reports);
	}
}

/* The scenario's `until`: every minimum it names is reached (none named: never). */
static bool until_reached(struct runner *rn)
{
	const struct sc_until *u = &rn->sc->until;

	if (!u->ops && !u->oom_kills && !u->restarts)
		return false;
	return total_ops(rn) >= u->ops && rn->oom_kills >= u->oom_kills &&
	       total_restarts(rn) >= u->restarts;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct runner *rn = userdata;

	for (size_t i = 0; i < rn->n_insts; i++)
		read_output(&rn->insts[i], false);
	if (rn->kmsg)
		kmsg_watch_drain(rn->kmsg);
	kd_detector_flush(rn->det);
	sample(rn);
	progress(rn, false);
	watch_dying(rn);
	if (!rn->stopping && until_reached(rn)) {
		const struct sc_until *u = &rn->sc->until;
		const struct {
			const char *name;
			uint64_t min, now;
		} c[] = {{"ops", u->ops, total_ops(rn)},
			 {"oom_kills", u->oom_kills, rn->oom_kills},
			 {"restarts", u->restarts, total_restarts(rn)}};
		_cleanup_free_ char *why = strdup("until reached:");

		for (size_t i = 0; why && i < ELEMENTSOF(c); i++) {
			char *n;
			if (!c[i].min)
				continue;
			n = strdupf("%s %s %llu>=%llu", why, c[i].name,
				    (unsigned long long)c[i].now, (unsigned long long)c[i].min);
			free(why);
			why = n;
		}
		begin_stop(rn, why ? why : "until reached");
	}
	/* next tick a second from now, not from the scheduled time: after a stall do
	 * not fire a burst of catch-up ticks */
	(void)usec;
	sd_event_source_set_time(s, now_usec() + 1000000);
	sd_event_source_set_enabled(s, SD_EVENT_ON); /* time sources are one-shot */
	return 0;
}

/* ---- actions ------------------------------------------------------------------------ */

static struct mnt *find_mnt(struct runner *rn, const char *fsname)
{
	for (size_t i = 0; i < rn->n_mnts; i++)
		if (!strcmp(rn->mnts[i].fs->name, fsname))
			return &rn->mnts[i];
	return NULL;
}

static int dm_resume(struct mnt *m)
{
	char *argv[] = {"dmsetup", "resume", m->dm_name, NULL};
	int r = run_argv(argv, NULL, 60 * 1000000ULL);
	if (r == 0)
		m->suspended = false;
	return r;
}

static int on_resume(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct mnt *m = userdata;
	(void)usec;
	if (m->suspended)
		dm_resume(m);
	sd_event_source_disable_unref(s);
	return 0;
}

/* nfs-server-stop: `rpc.nfsd 0` stops every nfsd thread and closes the listeners, but
 * keeps the export table (`systemctl stop nfs-server` would unexport everything, and
 * our exportfs -i export is not in /etc/exports), so clients keep retrying the same
 * server; `rpc.nfsd N` brings it back with the thread count it had. */
static int nfsd_stop(struct runner *rn)
{
	_cleanup_free_ char *threads = NULL;
	char *argv[] = {"rpc.nfsd", "0", NULL};
	int r;

	if (rn->nfsd_threads)
		return 0;
	/* the running thread count ("8" from nfs.conf unless changed) */
	if (read_one_line("/proc/fs/nfsd/threads", &threads) == 0) {
		unsigned n;
		char *end;
		errno = 0;
		n = (unsigned)strtoul(strstrip(threads), &end, 10);
		if (errno || end == threads || *end || n == 0) {
			free(threads);
			threads = NULL;
		}
	}
	if (!threads && !(threads = strdup("8")))
		return -ENOMEM;
	r = run_argv(argv, NULL, 60 * 1000000ULL);
	if (r == 0)
		rn->nfsd_threads = TAKE_PTR(threads);
	return r;
}

static int nfsd_start(struct runner *rn)
{
	char *argv[] = {"rpc.nfsd", rn->nfsd_threads, NULL};
	int r;

	if (!rn->nfsd_threads)
		return 0;
	r = run_argv(argv, NULL, 60 * 1000000ULL);
	say(rn, "kdrill: nfs server: rpc.nfsd %s%s", rn->nfsd_threads, r == 0 ? "" : " failed");
	if (r == 0) {
		rn->nfsd_timer = sd_event_source_disable_unref(rn->nfsd_timer);
		free(rn->nfsd_threads);
		rn->nfsd_threads = NULL;
	}
	return r;
}

static int on_nfsd_restart(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct runner *rn = userdata;
	(void)s;
	(void)usec;
	rn->nfsd_timer = sd_event_source_disable_unref(rn->nfsd_timer);
	if (nfsd_start(rn) != 0)
		set_infra(rn, "rpc.nfsd could not restart the NFS server");
	return 0;
}

struct action_rt {
	struct runner *rn;
	const struct sc_action *a;
	pid_t child;
};

static int on_writer_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	(void)si;
	(void)userdata;
	sd_event_source_disable_unref(s);
	return 0;
}

/* Write value into path from a child process (reaped by the loop). */
static int write_in_child(struct runner *rn, const char *path, const char *value, pid_t *ret)
{
	sd_event_source *src = NULL;
	pid_t pid = fork();
	int r;

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(write_string_file(path, value) < 0 ? 1 : 0);
	r = sd_event_add_child(rn->e, &src, pid, WEXITED, on_writer_exit, NULL);
	if (r < 0) {
		waitpid(pid, NULL, 0);
		return r;
	}
	*ret = pid;
	return 0;
}

static int run_action(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct action_rt *ar = userdata;
	struct runner *rn = ar->rn;
	const struct sc_action *a = ar->a;
	int r = 0;

	if (rn->stopping)
		return 0;
	switch (a->op) {
	case SC_ACT_DROP_CACHES:
		/* can take seconds under memory pressure: never in the event loop */
		if (ar->child > 0 && pid_alive(ar->child))
			break;
		r = write_in_child(rn, "/proc/sys/vm/drop_caches", a->arg, &ar->child);
		break;
	case SC_ACT_SYSRQ:
		say(rn, "kdrill: action %s: sysrq %s", a->name, a->arg);
		r = write_string_file("/proc/sysrq-trigger", a->arg);
		break;
	case SC_ACT_DM_SUSPEND: {
		struct mnt *m = find_mnt(rn, a->fs);
		char *argv[] = {"dmsetup", "suspend", "--nolockfs", m ? m->dm_name : NULL, NULL};
		if (!m || !m->dm_name) {
			r = -ENODEV;
			break;
		}
		say(rn, "kdrill: action %s: dmsetup suspend --nolockfs %s for %.0fs", a->name,
		    m->dm_name, a->hold);
		r = run_argv(argv, NULL, 60 * 1000000ULL);
		if (r == 0) {
			m->suspended = true;
			sd_event_add_time_relative(rn->e, NULL, CLOCK_MONOTONIC,
						   usec_from_secs(a->hold), 0, on_resume, m);
		}
		break;
	}
	case SC_ACT_NFS_SERVER_STOP:
		if (rn->nfsd_threads)
			break; /* still down from the last time */
		say(rn, "kdrill: action %s: rpc.nfsd 0 (NFS server down) for %.0fs", a->name,
		    a->hold);
		r = nfsd_stop(rn);
		if (r == 0) /* the hold counts from the stop (rpc.nfsd 0 takes ~2 s in TCG) */
			sd_event_add_time(rn->e, &rn->nfsd_timer, CLOCK_MONOTONIC,
					  now_usec() + usec_from_secs(a->hold), 0, on_nfsd_restart,
					  rn);
		break;
	}
	if (r != 0)
		say(rn, "kdrill: action %s failed: %s", a->name,
		    r < 0 ? strerror(-r) : "non-zero exit");
	if (a->every > 0) {
		sd_event_source_set_time(s, usec + usec_from_secs(a->every));
		sd_event_source_set_enabled(s, SD_EVENT_ON);
	} else
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
	return 0;
}

/* ---- storage ------------------------------------------------------------------------ */

static void log_argv(struct runner *rn, char *const *argv)
{
	_cleanup_free_ char *cmd = strv_join(argv, " ");
	note(rn, "%s", cmd ? cmd : argv[0]);
}

static int mkfs(struct runner *rn, struct mnt *m)
{
	_cleanup_strv_ char **argv = NULL;
	_cleanup_free_ char *prog = strdupf("mkfs.%s", m->fs->type);
	_cleanup_free_ char *out = NULL;
	int r;

	if (!prog || strv_extend(&argv, prog) < 0)
		return -ENOMEM;
	if (startswith(m->fs->type, "ext")) {
		if (strv_extend(&argv, "-q") < 0 || strv_extend(&argv, "-F") < 0)
			return -ENOMEM;
	} else if (!strcmp(m->fs->type, "xfs")) {
		if (strv_extend(&argv, "-q") < 0 || strv_extend(&argv, "-f") < 0)
			return -ENOMEM;
	}
	STRV_FOREACH (x, m->fs->mkfs_opts)
		if (strv_extend(&argv, *x) < 0)
			return -ENOMEM;
	if (strv_extend(&argv, m->dev) < 0)
		return -ENOMEM;
	log_argv(rn, argv);
	r = run_argv(argv, &out, 300 * 1000000ULL);
	if (r != 0) {
		set_infra(rn, "%s %s failed (%s)", prog, m->dev,
			  r < 0 ? strerror(-r) : "non-zero exit");
		return r < 0 ? r : -EIO;
	}
	return 0;
}

static int do_mount(struct runner *rn, struct mnt *m, const char *type, const char *src)
{
	_cleanup_strv_ char **argv = NULL;
	int r;

	if (mkdir(m->path, 0755) < 0) {
		int e = errno;
		struct stat st;
		/* in host mode the name carries our pid and leftovers of dead runs are gone by
		 * now: whatever is there was planted (a symlink would send the mount elsewhere:
		 * mkdir() does not follow it, mount(8) would) */
		if (e != EEXIST || rn->o->host || lstat(m->path, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid()) {
			set_infra(rn, "mount point %s: %s", m->path,
				  e == EEXIST ? "exists already and is not kdrill's directory (a "
						"symlink?): refusing to mount there"
					      : strerror(e));
			return -e;
		}
	}
	m->made_dir = true;
	if (strv_extend(&argv, "mount") < 0 || strv_extend(&argv, "-t") < 0 ||
	    strv_extend(&argv, type) < 0)
		return -ENOMEM;
	if (m->fs->mount_opts &&
	    (strv_extend(&argv, "-o") < 0 || strv_extend(&argv, m->fs->mount_opts) < 0))
		return -ENOMEM;
	if (strv_extend(&argv, src) < 0 || strv_extend(&argv, m->path) < 0)
		return -ENOMEM;
	log_argv(rn, argv);
	r = run_argv(argv, NULL, 120 * 1000000ULL);
	if (r != 0) {
		set_infra(rn, "mount -t %s %s%s %s %s failed", type, m->fs->mount_opts ? "-o " : "",
			  m->fs->mount_opts ? m->fs->mount_opts : "", src, m->path);
		return r < 0 ? r : -EIO;
	}
	m->mounted = true;
	return 0;
}

static int setup_storage(struct runner *rn)
{
	const struct scenario *sc = rn->sc;
	size_t next_dev = 0;
	int r;

	rn->mnts = calloc(sc->n_fs ? sc->n_fs : 1, sizeof(*rn->mnts));
	if (!rn->mnts)
		return -ENOMEM;
	/* local filesystems first, NFS (which exports one of them) after */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < sc->n_fs; i++) {
			const struct sc_fs *fs = &sc->fs[i];
			bool nfs = !strcmp(fs->type, "nfs");
			struct mnt *m;

			if (nfs != (pass == 1))
				continue;
			m = &rn->mnts[rn->n_mnts++];
			m->fs = fs;
			m->loop_fd = -1;
			m->path = rn->o->host ? strdupf("%s/kdrill-%d-%s", rn->o->scratch,
							(int)getpid(), fs->name)
					      : strdupf("%s/%s", rn->o->scratch, fs->name);
			if (!m->path)
				return -ENOMEM;
			if (nfs) {
				struct mnt *srv = find_mnt(rn, fs->server);
				_cleanup_free_ char *src = NULL, *fsid = NULL;
				char *start[] = {"systemctl", "start", "nfs-server", NULL};
				if (!srv || !srv->mounted)
					return -ENODEV;
				/* rpcbind, statd, mountd, nfsdcld and nfsd: on a KASAN kernel under
				 * TCG with four guests on two cores that took more than 60 s (each
				 * unit's own start timeout, 90 s, still bounds a real failure) */
				if ((r = run_argv(start, NULL, NFS_START_USEC)) != 0) {
					set_infra(rn, "systemctl start nfs-server failed (%s)",
						  r == -ETIMEDOUT ? "not done within 300 s"
						  : r < 0	  ? strerror(-r)
								  : "non-zero exit");
					return -EIO;
				}
				src = strdupf("127.0.0.1:%s", srv->path);
				fsid = strdupf(
				    "rw,no_root_squash,insecure,no_subtree_check,fsid=%zu", i + 1);
				if (!src || !fsid)
					return -ENOMEM;
				char *exp[] = {"exportfs", "-i", "-o", fsid, src, NULL};
				if ((r = run_argv(exp, NULL, 60 * 1000000ULL)) != 0) {
					set_infra(rn, "exportfs %s failed", src);
					return -EIO;
				}
				srv->exported = true;
				if ((r = do_mount(rn, m, "nfs", src)) < 0)
					return r;
				continue;
			}
			if (rn->o->devices) {
				if (!rn->o->devices[next_dev]) {
					set_infra(rn, "[fs.%s]: no scratch disk left (%zu given)",
						  fs->name, next_dev);
					return -ENODEV;
				}
				m->dev = strdup(rn->o->devices[next_dev++]);
				if (!m->dev)
					return -ENOMEM;
				if (block_device_busy(m->dev)) {
					set_infra(rn, "%s is mounted: refusing to mkfs it", m->dev);
					return -EBUSY;
				}
			} else if (rn->o->host) {
				r = host_loop_create(rn->o->scratch, fs->name, fs->size, &m->dev,
						     &m->loop_fd);
				if (r < 0) {
					set_infra(rn, "loop device for [fs.%s] under %s: %s",
						  fs->name, rn->o->scratch, strerror(-r));
					return r;
				}
			} else {
				set_infra(rn, "no devices for [fs.%s]", fs->name);
				return -ENODEV;
			}
			if (fs->dm) {
				_cleanup_free_ char *out = NULL, *table = NULL, *dmdev = NULL;
				char *gs[] = {"blockdev", "--getsz", m->dev, NULL};
				if (run_argv(gs, &out, 30 * 1000000ULL) != 0) {
					set_infra(rn, "blockdev --getsz %s failed", m->dev);
					return -EIO;
				}
				m->dm_name = strdupf("kdrill-%d-%s", (int)getpid(), fs->name);
				table = strdupf("0 %s linear %s 0", strstrip(out), m->dev);
				if (!m->dm_name || !table)
					return -ENOMEM;
				char *cr[] = {"dmsetup", "create", m->dm_name,
					      "--table", table,	   NULL};
				if (run_argv(cr, NULL, 60 * 1000000ULL) != 0) {
					set_infra(rn, "dmsetup create %s failed", m->dm_name);
					free(m->dm_name);
					m->dm_name = NULL;
					return -EIO;
				}
				dmdev = strdupf("/dev/mapper/%s", m->dm_name);
				if (!dmdev)
					return -ENOMEM;
				free(m->dev);
				m->dev = TAKE_PTR(dmdev);
			}
			if ((r = mkfs(rn, m)) < 0)
				return r;
			if ((r = do_mount(rn, m, fs->type, m->dev)) < 0)
				return r;
		}
	return 0;
}

static void teardown_storage(struct runner *rn)
{
	/* an NFS server stopped by an action comes back first, or the client mounts
	 * cannot flush and unmount */
	if (rn->nfsd_threads && nfsd_start(rn) != 0)
		set_infra(rn, "rpc.nfsd could not restart the NFS server");
	/* reverse order: NFS client mounts before the exported filesystems */
	for (size_t k = rn->n_mnts; k-- > 0;) {
		struct mnt *m = &rn->mnts[k];
		if (m->suspended)
			dm_resume(m);
		/* unexport before the umount: nfsd holds the exported files open until then
		 * (umount EBUSY for the 5 s below, then a lazy detach) */
		if (m->exported) {
			_cleanup_free_ char *src = strdupf("127.0.0.1:%s", m->path);
			char *argv[] = {"exportfs", "-u", src, NULL};
			if (src)
				run_argv(argv, NULL, 60 * 1000000ULL);
			m->exported = false;
		}
		if (m->mounted) {
			int tries;
			for (tries = 0; tries < 50; tries++) {
				if (umount2(m->path, 0) == 0 || errno == EINVAL || errno == ENOENT)
					break;
				usleep(100000);
			}
			if (tries == 50) {
				say(rn, "kdrill: umount %s: %m; detaching lazily", m->path);
				umount2(m->path, MNT_DETACH);
			}
			m->mounted = false;
		}
		if (m->dm_name) {
			char *argv[] = {"dmsetup", "remove", "--retry", m->dm_name, NULL};
			run_argv(argv, NULL, 60 * 1000000ULL);
			free(m->dm_name);
			m->dm_name = NULL;
		}
		if (m->loop_fd >= 0) {
			host_loop_detach(m->loop_fd);
			m->loop_fd = -1;
		}
		if (m->made_dir && m->path) {
			rmdir(m->path);
			m->made_dir = false;
		}
		free(m->dev);
		free(m->path);
		m->dev = m->path = NULL;
	}
	free(rn->mnts);
	rn->mnts = NULL;
	rn->n_mnts = 0;
}

/* ---- slices and units ---------------------------------------------------------------- */

static int setup_slices(struct runner *rn)
{
	const struct scenario *sc = rn->sc;
	size_t n = 0;
	int r;

	r = kdcg_open(&rn->cg, rn->o->cg_backend, rn->e);
	if (r < 0) {
		set_infra(rn, "cgroups: %s",
			  kdcg_last_error(NULL) ? kdcg_last_error(NULL) : strerror(-r));
		return r;
	}
	kdcg_reap_leftovers(rn->cg);
	for (size_t i = 0; i < sc->n_slices; i++)
		n += sc->slices[i].count;
	rn->slices = calloc(n ? n : 1, sizeof(*rn->slices));
	if (!rn->slices)
		return -ENOMEM;
	for (size_t i = 0; i < sc->n_slices; i++)
		for (unsigned k = 0; k < sc->slices[i].count; k++) {
			struct slice_rt *s = &rn->slices[rn->n_slices];
			s->sc = &sc->slices[i];
			s->name = sc->slices[i].count > 1 ? strdupf("%s-%u", sc->slices[i].name, k)
							  : strdup(sc->slices[i].name);
			if (!s->name)
				return -ENOMEM;
			rn->n_slices++;
			r = kdcg_slice_new(rn->cg, NULL, s->name, &sc->slices[i].limits, &s->s);
			if (r >= 0 && kdcg_slice_path(s->s))
				s->path = strdup(kdcg_slice_path(s->s));
			if (r < 0) {
				set_infra(rn, "slice %s: %s", s->name,
					  kdcg_last_error(rn->cg) ? kdcg_last_error(rn->cg)
								  : strerror(-r));
				return r;
			}
		}
	/* a slice without limits for what runs outside the scenario's slices */
	for (size_t i = 0; i < sc->n_procs; i++)
		if (!sc->procs[i].slice && !rn->free_slice) {
			static const struct kdcg_limits none;
			r = kdcg_slice_new(rn->cg, NULL, "free", &none, &rn->free_slice);
			if (r < 0) {
				set_infra(rn, "slice free: %s",
					  kdcg_last_error(rn->cg) ? kdcg_last_error(rn->cg)
								  : strerror(-r));
				return r;
			}
		}
	return 0;
}

static int find_bindir(struct runner *rn)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *s;

	if (rn->o->bindir)
		return (rn->bindir = strdup(rn->o->bindir)) ? 0 : -ENOMEM;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -errno;
	exe[n] = 0;
	s = strrchr(exe, '/');
	if (s)
		*s = 0;
	return (rn->bindir = strdup(exe)) ? 0 : -ENOMEM;
}

static int build_argv(struct runner *rn, struct inst *in, const char *dir, unsigned global_idx,
		      const char *slice_name, char ***ret)
{
	const struct sc_proc *pr = in->pr;
	_cleanup_strv_ char **argv = NULL, **vars = NULL;
	char num[64];
	double dur = rn->duration;
	int r;

	if (pr->kind == SC_REPRO && pr->restart != KDCG_RESTART_NO)
		dur += rn->sc->grace; /* we stop restarting units at the duration */
#define VAR(fmt, ...)                                                                              \
	do {                                                                                       \
		char *_v = strdupf(fmt, __VA_ARGS__);                                              \
		if (!_v || strv_push(&vars, _v) < 0) {                                             \
			free(_v);                                                                  \
			return -ENOMEM;                                                            \
		}                                                                                  \
	} while (0)
	VAR("dir=%s", dir);
	VAR("mnt=%s", dir); /* replaced below */
	VAR("duration=%.0f", ceil(dur));
	VAR("instance=%u", global_idx);
	VAR("seed=%llu", (unsigned long long)(rn->seed + global_idx));
	VAR("slice=%s", slice_name ? slice_name : "free");
	VAR("engine=%s", in->engine ? in->engine : "libaio");
	VAR("bindir=%s", rn->bindir);
	VAR("run_dir=%s", rn->run_dir_abs);
#undef VAR
	{
		const char *fsname = pr->fs ? pr->fs : rn->sc->n_fs ? rn->sc->fs[0].name : NULL;
		struct mnt *m = fsname ? find_mnt(rn, fsname) : NULL;
		free(vars[1]);
		vars[1] = strdupf("mnt=%s", m ? m->path : dir);
		if (!vars[1])
			return -ENOMEM;
	}
	if (pr->kind == SC_REPRO) {
		_cleanup_free_ char *prog = strdupf("%s/%s", rn->bindir, pr->program);
		if (!prog || strv_extend(&argv, prog) < 0 || strv_extend(&argv, "--dir") < 0 ||
		    strv_extend(&argv, dir) < 0 || strv_extend(&argv, "--json") < 0 ||
		    strv_extend(&argv, "--duration") < 0)
			return -ENOMEM;
		snprintf(num, sizeof(num), "%.0f", ceil(dur));
		if (strv_extend(&argv, num) < 0 || strv_extend(&argv, "--seed") < 0)
			return -ENOMEM;
		snprintf(num, sizeof(num), "%llu", (unsigned long long)(rn->seed + global_idx));
		if (strv_extend(&argv, num) < 0)
			return -ENOMEM;
		if (in->engine &&
		    (strv_extend(&argv, "--engine") < 0 || strv_extend(&argv, in->engine) < 0))
			return -ENOMEM;
		if (pr->threads &&
		    (strv_extend(&argv, "--threads") < 0 || strv_extend(&argv, pr->threads) < 0))
			return -ENOMEM;
		if (pr->size &&
		    (strv_extend(&argv, "--size") < 0 || strv_extend(&argv, pr->size) < 0))
			return -ENOMEM;
	} else if (strv_extend(&argv, pr->program) < 0)
		return -ENOMEM;
	STRV_FOREACH (a, pr->args) {
		char *x;
		if ((r = scenario_expand_runtime(*a, vars, &x)) < 0) {
			set_infra(rn, "[%s.%s] args: cannot expand '%s'", sc_kind_name(pr->kind),
				  pr->name, *a);
			return r;
		}
		if (strv_push(&argv, x) < 0) {
			free(x);
			return -ENOMEM;
		}
	}
	*ret = TAKE_PTR(argv);
	return 0;
}

/* Every unit's cgroup is made now, before anything runs (kdcg_unit_new): once workers
 * fork at their memcg limit, a cgroupfs mkdir can wait seconds for cgroup_mutex. */
static int create_inst(struct runner *rn, struct inst *in)
{
	struct kdcg_unit_spec spec = {
	    .argv = in->argv,
	    .cwd = in->dir,
	    .stdout_path = in->out_path,
	    .stderr_path = in->err_path,
	    .restart = in->pr->restart,
	    .restart_max = in->pr->restart_max,
	};
	int r = kdcg_unit_new(in->cg_slice, in->label, &spec, on_unit, in, &in->unit);

	if (r < 0) {
		in->done = true;
		set_infra(rn, "start %s (%s): %s", in->label, in->argv[0],
			  kdcg_last_error(rn->cg) ? kdcg_last_error(rn->cg) : strerror(-r));
	}
	return r;
}

/* Instances, their directories, argvs and units; nothing runs yet (see on_start_batch). */
static int prepare_units(struct runner *rn)
{
	const struct scenario *sc = rn->sc;
	size_t total = 0, si_base = 0;
	unsigned global = 0;
	int r;

	/* count instances */
	for (size_t i = 0; i < sc->n_procs; i++) {
		const struct sc_proc *pr = &sc->procs[i];
		const struct sc_slice *sl = pr->slice ? scenario_slice(sc, pr->slice) : NULL;
		size_t ne = pr->engines ? strv_length(pr->engines) : 1;
		total += (size_t)(sl ? sl->count : 1) * ne * pr->instances;
	}
	rn->insts = calloc(total ? total : 1, sizeof(*rn->insts));
	if (!rn->insts)
		return -ENOMEM;
	for (size_t i = 0; i < sc->n_procs; i++) {
		const struct sc_proc *pr = &sc->procs[i];
		const struct sc_slice *sl = pr->slice ? scenario_slice(sc, pr->slice) : NULL;
		size_t ne = pr->engines ? strv_length(pr->engines) : 1;
		unsigned nslices = sl ? sl->count : 1;
		unsigned n_in_proc = 0;

		/* index of the first runtime slice of this [slice.X] */
		si_base = 0;
		if (sl)
			while (si_base < rn->n_slices && rn->slices[si_base].sc != sl)
				si_base++;
		for (unsigned k = 0; k < nslices; k++)
			for (size_t e = 0; e < ne; e++)
				for (unsigned j = 0; j < pr->instances; j++) {
					struct inst *in = &rn->insts[rn->n_insts++];
					struct slice_rt *srt = sl ? &rn->slices[si_base + k] : NULL;
					const char *fsname = pr->fs	? pr->fs
							     : sc->n_fs ? sc->fs[0].name
									: NULL;
					struct mnt *m = fsname ? find_mnt(rn, fsname) : NULL;
					_cleanup_free_ char *dir = NULL;

					in->rn = rn;
					in->pr = pr;
					in->fd = -1;
					in->last_exit = -1;
					in->slice_idx = srt ? (int)(si_base + k) : -1;
					in->label = strdupf("%s-%u", pr->name, n_in_proc++);
					in->engine = pr->engines ? strdup(pr->engines[e]) : NULL;
					in->out_path =
					    strdupf("%s/%s.jsonl", rn->run_dir, in->label);
					in->err_path =
					    strdupf("%s/%s.stderr", rn->run_dir, in->label);
					if (!in->label || !in->out_path || !in->err_path ||
					    (pr->engines && !in->engine))
						return -ENOMEM;
					/* create the output file now: the tick opens it */
					close(open(in->out_path,
						   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
						       O_CLOEXEC,
						   0644));
					dir = m ? strdupf("%s/%s", m->path, in->label)
						: strdupf("%s/%s", rn->run_dir_abs, in->label);
					if (!dir)
						return -ENOMEM;
					if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
						set_infra(rn, "mkdir %s: %m", dir);
						return -errno;
					}
					r = build_argv(rn, in, dir, global++,
						       srt ? srt->name : NULL, &in->argv);
					if (r < 0)
						return r;
					in->dir = TAKE_PTR(dir);
					in->cg_slice = srt ? srt->s : rn->free_slice;
					if ((r = create_inst(rn, in)) < 0)
						return r;
				}
	}
	return 0;
}

static int start_inst(struct runner *rn, struct inst *in)
{
	int r;

	in->started = true;
	if (rn->load_started < 0) {
		rn->load_started = elapsed(rn);
		/* at once, not at the next tick: a VM's host times reports from it, and a
		 * kernel may panic within the second */
		progress(rn, false);
	}
	r = in->unit ? kdcg_unit_run(in->unit) : -ENOENT;
	if (r >= 0) {
		_cleanup_free_ char *cmd = strv_join(in->argv, " ");
		note(rn, "start %s: %s", in->label, cmd ? cmd : in->argv[0]);
	}
	if (r < 0) {
		in->done = true;
		set_infra(rn, "start %s (%s): %s", in->label, in->argv[0],
			  kdcg_last_error(rn->cg) ? kdcg_last_error(rn->cg) : strerror(-r));
	}
	return r;
}

/* Units start from the loop, a batch of at most ~20 ms per iteration, at a lower priority
 * than everything else: hundreds of workers (each a cgroup mkdir and a fork) never hold
 * off the ticks, the kernel log, the duration or a signal.  kdcg never waits for an exec
 * (a child attached to a memcg at its limit can take seconds to get there). */
static int on_start_batch(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct runner *rn = userdata;
	uint64_t t0 = now_usec();

	(void)usec;
	while (rn->next_start < rn->n_insts && !rn->stopping) {
		struct inst *in = &rn->insts[rn->next_start++];
		if (start_inst(rn, in) < 0) {
			begin_stop(rn, "setup failed");
			return 0; /* begin_stop() dropped this source */
		}
		if (now_usec() - t0 >= 20000)
			break;
	}
	if (rn->next_start < rn->n_insts && !rn->stopping) {
		sd_event_source_set_time(s, now_usec());
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	} else {
		rn->starter = sd_event_source_disable_unref(rn->starter);
	}
	return 0;
}

/* ---- verdict ----------------------------------------------------------------------- */

static struct json_object *kernel_json(void)
{
	struct utsname u;
	struct json_object *k = json_object_new_object();

	if (uname(&u) == 0) {
		json_object_object_add(k, "release", json_object_new_string(u.release));
		json_object_object_add(k, "version", json_object_new_string(u.version));
		json_object_object_add(k, "machine", json_object_new_string(u.machine));
	}
	return k;
}

/* Did this reproducer do its work: reach its main loop (the repro library prints
 * progress records only from there) or count an op? */
static bool inst_ran(const struct inst *in)
{
	return in->progressed || in->ops_done + in->ops_cur > 0;
}

static int build_verdict(struct runner *rn, struct run_result *res)
{
	const struct scenario *sc = rn->sc;
	struct json_object *v = json_object_new_object();
	struct json_object *reports = json_object_new_array(), *repros = json_object_new_array();
	struct json_object *slices = json_object_new_array(), *files = json_object_new_object();
	struct json_object *counters = json_object_new_object();
	struct report_tally t = {.reports = reports};
	struct verdict_in vin = {.reports = &t, .end = RUN_END_DONE, .infra = rn->infra_reason};
	struct verdict_out out;
	unsigned n_anom = 0;
	char started[64] = "";
	const char *anom_label = NULL;
	double dur = elapsed(rn);

	report_tally(&t, sc, rn->det, role_cb, rn);
	for (size_t i = 0; i < rn->n_insts; i++) {
		struct inst *in = &rn->insts[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(in->label));
		json_object_object_add(o, "kind",
				       json_object_new_string(sc_kind_name(in->pr->kind)));
		json_object_object_add(o, "program", json_object_new_string(in->pr->program));
		if (in->engine)
			json_object_object_add(o, "engine", json_object_new_string(in->engine));
		if (in->slice_idx >= 0)
			json_object_object_add(
			    o, "slice", json_object_new_string(rn->slices[in->slice_idx].name));
		json_object_object_add(o, "exits", json_object_new_int((int)in->exits));
		json_object_object_add(o, "last_exit", json_object_new_int(in->last_exit));
		if (in->exit_codes)
			json_object_object_add(o, "exit_codes", json_object_get(in->exit_codes));
		json_object_object_add(o, "restarts", json_object_new_int((int)in->restarts));
		json_object_object_add(
		    o, "ops", json_object_new_int64((int64_t)(in->ops_done + in->ops_cur)));
		json_object_object_add(o, "anomaly", json_object_new_boolean(in->anomaly));
		if (in->pr->kind == SC_REPRO)
			json_object_object_add(o, "ran", json_object_new_boolean(inst_ran(in)));
		json_object_object_add(o, "output",
				       json_object_new_string(strrchr(in->out_path, '/') + 1));
		json_object_object_add(o, "stderr",
				       json_object_new_string(strrchr(in->err_path, '/') + 1));
		json_object_object_add(o, "result",
				       in->result ? json_object_get(in->result) : NULL);
		json_object_array_add(repros, o);
		if (in->anomaly) {
			n_anom++;
			if (!anom_label)
				anom_label = in->label;
		}
		if (in->infra && !vin.infra)
			vin.infra = in->infra;
		if (in->pr->kind == SC_REPRO) {
			vin.repros++;
			vin.repros_ran += inst_ran(in);
		}
	}
	for (size_t i = 0; i < rn->n_slices; i++) {
		struct slice_rt *s = &rn->slices[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(s->name));
		if (s->path)
			json_object_object_add(o, "path", json_object_new_string(s->path));
		if (s->have_stats) {
			json_object_object_add(o, "memory_peak",
					       json_object_new_int64((int64_t)s->last.memory_peak));
			json_object_object_add(o, "oom_kill",
					       json_object_new_int64((int64_t)s->last.oom_kill));
		}
		json_object_array_add(slices, o);
	}
	/* EIO/ENOSPC from a full scratch are not the kernel's: no anomaly */
	vin.anomalies = rn->scratch_full ? 0 : n_anom;
	vin.anomaly = anom_label;
	vin.matched = rn->matched;
	vin.units_started = rn->load_started >= 0;
	vin.duration_s = round(dur * 10) / 10; /* as in verdict.json: the VM's merge reads that */
	vin.ops = total_ops(rn);
	vin.oom_kills = rn->oom_kills;
	vin.restarts = total_restarts(rn);
	if (verdict_decide(&vin, &out) < 0) {
		json_object_put(v);
		json_object_put(repros);
		json_object_put(slices);
		json_object_put(files);
		json_object_put(counters);
		json_object_put(reports);
		return -ENOMEM;
	}
	format_iso8601(rn->t0_real, started, sizeof(started));

	json_object_object_add(counters, "ops", json_object_new_int64((int64_t)total_ops(rn)));
	json_object_object_add(
	    counters, "oom_kills",
	    json_object_new_int64((int64_t)(rn->oom_kills > t.n_oom ? rn->oom_kills : t.n_oom)));
	json_object_object_add(counters, "oom_reports", json_object_new_int((int)t.n_oom));
	json_object_object_add(counters, "restarts", json_object_new_int((int)total_restarts(rn)));
	json_object_object_add(counters, "reports", json_object_new_int((int)rn->n_reports));
	if (rn->kmsg) {
		uint64_t k, d, l;
		kmsg_watch_counts(rn->kmsg, &k, &d, &l);
		json_object_object_add(counters, "kmsg_kernel_records",
				       json_object_new_int64((int64_t)k));
		json_object_object_add(counters, "kmsg_dropped_records",
				       json_object_new_int64((int64_t)d));
		json_object_object_add(counters, "kmsg_lost", json_object_new_int64((int64_t)l));
	}

	if (rn->console || !rn->o->no_kmsg)
		json_object_object_add(files, "console", json_object_new_string("console.log"));
	json_object_object_add(files, "runner_log", json_object_new_string("runner.log"));
	json_object_object_add(files, "stats", json_object_new_string("stats.jsonl"));
	json_object_object_add(files, "junit", json_object_new_string("junit.xml"));

	if (t.summary && t.summary->summary_text)
		json_object_object_add(v, "hang_summary",
				       json_object_new_string(t.summary->summary_text));
	verdict_json_head(v, sc, rn->run_id);
	json_object_object_add(v, "mode",
			       json_object_new_string(rn->o->mode_name ? rn->o->mode_name
						      : rn->o->host    ? "host"
								       : "vm"));
	json_object_object_add(v, "kernel", kernel_json());
	verdict_json_outcome(v, &out);
	json_object_object_add(v, "stop_reason",
			       json_object_new_string(rn->stop_reason ? rn->stop_reason : "setup"));
	json_object_object_add(v, "started", json_object_new_string(started));
	json_object_object_add(v, "duration_s", json_fixed(dur, 1));
	json_object_object_add(v, "duration_planned_s", json_fixed(rn->duration, 1));
	json_object_object_add(v, "load_started_s",
			       rn->load_started >= 0 ? json_fixed(rn->load_started, 1) : NULL);
	/* time to reproduce: from the load's start to the first matching report */
	json_object_object_add(
	    v, "time_to_report_s",
	    rn->first_match_t >= 0
		? json_fixed(rn->first_match_t - (rn->load_started >= 0 ? rn->load_started : 0), 1)
		: NULL);
	/* "seed" is the old name of "rand_seed" (the PRNG's; seed_report is the bug report) */
	json_object_object_add(v, "rand_seed", json_object_new_int64((int64_t)rn->seed));
	json_object_object_add(v, "seed", json_object_new_int64((int64_t)rn->seed));
	json_object_object_add(v, "counters", counters);
	json_object_object_add(v, "reports", reports);
	json_object_object_add(v, "reproducers", repros);
	json_object_object_add(v, "slices", slices);
	json_object_object_add(v, "cgroup_backend",
			       rn->cg ? json_object_new_string(kdcg_backend_name(rn->cg)) : NULL);
	json_object_object_add(v, "files", files);
	json_object_object_add(v, "dir", json_object_new_string(rn->run_dir));

	note(rn, "verdict %s: %s", verdict_name(out.verdict), out.reason);
	res->verdict = out.verdict;
	res->match = out.match;
	res->exit_code = out.exit_code;
	res->reason = TAKE_PTR(out.reason);
	res->json = v;
	res->interrupted = rn->interrupted;
	return 0;
}

/* ---- main ------------------------------------------------------------------------- */

static void runner_cleanup(struct runner *rn)
{
	if (rn->events)
		fclose(rn->events);
	rn->events = NULL;
	for (size_t i = 0; i < rn->n_insts; i++) {
		struct inst *in = &rn->insts[i];
		free(in->label);
		free(in->engine);
		free(in->out_path);
		free(in->err_path);
		free(in->dir);
		strv_free(in->argv);
		free(in->partial);
		free(in->infra);
		free(in->last_result_kind);
		json_object_put(in->result);
		json_object_put(in->exit_codes);
		if (in->fd >= 0)
			close(in->fd);
	}
	free(rn->insts);
	for (size_t i = 0; i < rn->n_slices; i++) {
		free(rn->slices[i].name);
		free(rn->slices[i].path);
	}
	free(rn->slices);
	free(rn->action_src);
	sd_event_source_disable_unref(rn->nfsd_timer);
	free(rn->nfsd_threads);
	kd_detector_free(rn->det);
	free(rn->run_id);
	free(rn->run_dir);
	free(rn->run_dir_abs);
	free(rn->label);
	free(rn->bindir);
	free(rn->first_failure);
	free(rn->stop_reason);
	free(rn->infra_reason);
	free(rn->dying);
}

static void on_slice_gone(struct kdcg_slice *s, int r, void *userdata)
{
	struct runner *rn = userdata;

	(void)s;
	if (r < 0)
		say(rn, "kdrill: cgroup teardown: %s", kdcg_last_error(rn->cg));
	if (rn->teardown_pending)
		rn->teardown_pending--;
}

static void destroy_slice(struct runner *rn, struct kdcg_slice *s)
{
	if (rn->e && kdcg_slice_destroy_async(s, 10 * 1000000ULL, on_slice_gone, rn) >= 0)
		rn->teardown_pending++;
	else
		kdcg_slice_destroy(s);
}

static void teardown_units(struct runner *rn)
{
	int r;

	/* Every slice at once: SIGKILL whole subtrees, then the loop reaps and removes the
	 * cgroups as they empty (bounded: kdcg gives up after 10 s; the kernel log is still
	 * watched meanwhile).  Hundreds of OOM-looping workers die in parallel, not one
	 * after the other. */
	for (size_t i = 0; i < rn->n_insts; i++)
		rn->insts[i].unit = NULL;
	for (size_t i = 0; i < rn->n_slices; i++)
		if (rn->slices[i].s) {
			destroy_slice(rn, rn->slices[i].s);
			rn->slices[i].s = NULL;
		}
	if (rn->free_slice) {
		destroy_slice(rn, rn->free_slice);
		rn->free_slice = NULL;
	}
	while (rn->teardown_pending) {
		r = sd_event_run(rn->e, UINT64_MAX);
		if (r < 0) {
			set_infra(rn, "event loop: %s", strerror(-r));
			break; /* kdcg_close() finishes them */
		}
	}
}

int runner_run(const struct scenario *sc, const struct run_opts *o, struct run_result *res)
{
	struct runner rn_ = {0}, *rn = &rn_;
	sd_event *own = NULL;
	struct action_rt *ars = NULL;
	sigset_t mask, oldmask;
	bool masked = false;
	const char *out_dir = o->out_dir ? o->out_dir : results_default_dir();
	_cleanup_free_ char *console_path = NULL, *stats_path = NULL, *events_path = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	if (o->host && (!sc->host_ok || (sc->host_destructive && !o->dut))) {
		res->reason = strdupf("%s: host mode refuses it: %s", sc->name,
				      sc->host_refusal ? sc->host_refusal : SC_DESTRUCTIVE_REFUSAL);
		return -EOPNOTSUPP;
	}
	if (o->host && !o->devices && !o->scratch) {
		res->reason = strdup("host mode needs --scratch DIR");
		return -EINVAL;
	}
	rn->sc = sc;
	rn->o = o;
	rn->duration = scenario_duration(sc, o->duration);
	rn->stop_on = o->stop_on >= 0 ? (enum sc_stop_on)o->stop_on : sc->stop_on;
	rn->load_started = -1;
	rn->first_match_t = -1;
	rn->seed = o->seed;
	if (!rn->seed) {
		rn->seed = now_realtime_usec() % 1000000007ULL;
		if (!rn->seed)
			rn->seed = 1;
	}
	rn->t0_real = now_realtime_usec();
	rn->label = sc->variant ? strdupf("%s.%s", sc->name, sc->variant) : strdup(sc->name);
	if (!rn->label) {
		runner_cleanup(rn);
		return -ENOMEM;
	}
	if ((r = results_new_run_dir(out_dir, NULL, rn->label, rn->t0_real, &rn->run_id,
				     &rn->run_dir)) < 0) {
		res->reason =
		    strdupf("cannot create a run directory in %s: %s", out_dir, strerror(-r));
		runner_cleanup(rn);
		return r;
	}
	rn->run_dir_abs = path_absolute(rn->run_dir);
	console_path = strdupf("%s/console.log", rn->run_dir);
	stats_path = strdupf("%s/stats.jsonl", rn->run_dir);
	events_path = strdupf("%s/runner.log", rn->run_dir);
	if (!console_path || !stats_path || !events_path || !rn->run_dir_abs) {
		runner_cleanup(rn);
		return -ENOMEM;
	}
	/* in the guest (no_kmsg) the host captures the console: no empty console.log here */
	if (!o->no_kmsg || o->replay_console || o->replay_kmsg)
		rn->console = fopen(console_path, "wex");
	rn->events = fopen(events_path, "wex");
	rn->stats = fopen(stats_path, "wex");
	if (find_bindir(rn) < 0)
		set_infra(rn, "cannot find the reproducer directory");

	if (o->event)
		rn->e = sd_event_ref(o->event);
	else if ((r = sd_event_new(&own)) < 0) {
		set_infra(rn, "sd_event_new: %s", strerror(-r));
	} else
		rn->e = own;
	rn->t0_mono = now_usec();

	if ((r = kd_detector_new(&rn->det, on_report, rn)) < 0) {
		set_infra(rn, "detector: %s", strerror(-r));
		rn->det = NULL;
	}
	if (o->handle_signals && rn->e) {
		sigemptyset(&mask);
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGHUP); /* the terminal went away: the same clean stop */
		sigprocmask(SIG_BLOCK, &mask, &oldmask);
		masked = true;
		sd_event_add_signal(rn->e, &rn->sigint, SIGINT, on_signal, rn);
		sd_event_add_signal(rn->e, &rn->sigterm, SIGTERM, on_signal, rn);
		sd_event_add_signal(rn->e, &rn->sighup, SIGHUP, on_signal, rn);
	}
	if (!rn->infra_reason && !o->no_kmsg) {
		r = kmsg_watch_new(&rn->kmsg, rn->e, o->kmsg_path, on_kernel_line, rn);
		if (r < 0)
			set_infra(rn, "%s: %s", o->kmsg_path ? o->kmsg_path : "/dev/kmsg",
				  strerror(-r));
	}
	if (!rn->infra_reason)
		replay(rn);
	if (o->host && o->scratch && !rn->infra_reason) {
		if (mkdir_p(o->scratch, 0755) < 0)
			set_infra(rn, "--scratch %s: %m", o->scratch);
		else
			host_reap_leftovers(o->scratch);
	}
	say(rn, "kdrill: %s: %s for %.0fs (run %s)", rn->label, o->host ? "host" : "vm",
	    rn->duration, rn->run_id);
	if (!rn->infra_reason && setup_storage(rn) < 0)
		set_infra(rn, "storage setup failed");
	if (!rn->infra_reason && setup_slices(rn) < 0)
		set_infra(rn, "slice setup failed");
	if (!rn->infra_reason && !rn->interrupted && prepare_units(rn) < 0)
		set_infra(rn, "starting units failed");

	if (!rn->infra_reason && !rn->interrupted && !(rn->stopping && rn->done)) {
		/* the duration runs from the first unit's start; units start from the loop.
		 * Absolute times from now, not sd_event_add_time_relative(): that counts from
		 * the loop's last iteration, which for a caller's loop (the agent's) was before
		 * the setup, so `at = 10s` fired at once after a 10 s setup. */
		uint64_t t_arm = now_usec();
		sd_event_add_time(rn->e, &rn->tick, CLOCK_MONOTONIC, t_arm + 1000000, 0, on_tick,
				  rn);
		sd_event_add_time(rn->e, &rn->end_timer, CLOCK_MONOTONIC,
				  t_arm + usec_from_secs(rn->duration), 0, on_end, rn);
		if (sd_event_add_time(rn->e, &rn->starter, CLOCK_MONOTONIC, 0, 0, on_start_batch,
				      rn) >= 0)
			sd_event_source_set_priority(rn->starter, SD_EVENT_PRIORITY_NORMAL + 10);
		else
			set_infra(rn, "starting units failed");
		if (o->handle)
			*o->handle = rn;
		ars = calloc(sc->n_actions ? sc->n_actions : 1, sizeof(*ars));
		rn->action_src = calloc(sc->n_actions ? sc->n_actions : 1, sizeof(*rn->action_src));
		for (size_t i = 0; ars && rn->action_src && i < sc->n_actions; i++) {
			ars[i].rn = rn;
			ars[i].a = &sc->actions[i];
			sd_event_add_time(rn->e, &rn->action_src[i], CLOCK_MONOTONIC,
					  t_arm + usec_from_secs(sc->actions[i].at) + 1, 0,
					  run_action, &ars[i]);
		}
	} else if (!rn->stopping) {
		begin_stop(rn, rn->infra_reason ? "setup failed" : "interrupted");
	}
	if (rn->infra_reason && !rn->stopping)
		begin_stop(rn, "setup failed");
	/* wait for units to finish; setup failures also pass here so started units stop */
	while (rn->e && !rn->done && rn->n_insts) {
		r = sd_event_run(rn->e, UINT64_MAX);
		if (r < 0) {
			set_infra(rn, "event loop: %s", strerror(-r));
			break;
		}
	}
	if (o->handle)
		*o->handle = NULL;
	sample(rn);
	for (size_t i = 0; rn->action_src && i < sc->n_actions; i++)
		sd_event_source_disable_unref(rn->action_src[i]);
	sd_event_source_disable_unref(rn->tick);
	sd_event_source_disable_unref(rn->end_timer);
	sd_event_source_disable_unref(rn->grace_timer);
	sd_event_source_disable_unref(rn->kill_timer);
	rn->starter = sd_event_source_disable_unref(rn->starter);
	rn->slice_kill_timer = sd_event_source_disable_unref(rn->slice_kill_timer);
	rn->tick = rn->end_timer = rn->grace_timer = rn->kill_timer = NULL;
	teardown_units(rn);
	/* final reads, blocking: every writer is gone now (or given up on) */
	for (size_t i = 0; i < rn->n_insts; i++)
		read_output(&rn->insts[i], true);
	teardown_storage(rn);
	if (rn->kmsg)
		kmsg_watch_drain(rn->kmsg);
	if (rn->det)
		kd_detector_finish(rn->det);
	if (rn->progress_line && o->ui == RUN_UI_TTY) {
		fputs("\r\033[K", stderr);
		rn->progress_line = false;
	}
	progress(rn, true);
	build_verdict(rn, res);
	res->run_id = strdup(rn->run_id);
	res->run_dir = strdup(rn->run_dir);
	if (rn->console)
		fclose(rn->console);
	if (rn->stats)
		fclose(rn->stats);
	rn->console = rn->stats = NULL;
	r = results_write(out_dir, rn->run_dir, res->json);

	if (rn->kmsg) {
		uint64_t k;
		kmsg_watch_counts(rn->kmsg, &k, NULL, NULL);
	}
	kmsg_watch_free(rn->kmsg);
	rn->kmsg = NULL;
	if (rn->cg) {
		kdcg_close(rn->cg);
		rn->cg = NULL;
	}
	sd_event_source_disable_unref(rn->sigint);
	sd_event_source_disable_unref(rn->sigterm);
	sd_event_source_disable_unref(rn->sighup);
	if (masked)
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	free(ars);
	if (rn->e)
		sd_event_unref(rn->e);
	runner_cleanup(rn);
	if (r < 0) {
		free(res->reason);
		res->reason =
		    strdupf("writing results under %s: %s%s", out_dir, strerror(-r),
			    r == -ELOOP ? " (a symlink where kdrill writes: refused)" : "");
		return r;
	}
	return 0;
}

void run_result_done(struct run_result *r)
{
	free(r->reason);
	free(r->run_id);
	free(r->run_dir);
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}
