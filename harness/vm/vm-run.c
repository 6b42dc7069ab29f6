// SPDX-License-Identifier: GPL-2.0
/* kdrill run --kernel: one scenario run in a guest.  See vm-run.h. */
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect.h"
#include "guestclock.h"
#include "jsonl.h"
#include "kernel.h"
#include "request.h"
#include "results.h"
#include "taskstack.h"
#include "verdict.h"
#include "vm-run.h"
#include "vm.h"
#include "util.h"

#define RESULTS_DISK_SIZE (4ULL << 30) /* sparse: only the tar's blocks are used */

struct vmrun {
	const struct scenario *sc;
	const struct vm_run_opts *o;
	double duration;	    /* the run length asked of the guest (0: the scenario's) */
	json_object *request;	    /* sent as {"cmd":"run"} once the agent is ready */
	const char *guest_files;    /* "complete" / "partial" (collected at a hang) / NULL */
	json_object *guest_verdict; /* from the "result" message */
	char *guest_kernel;
	int done_status;
	char *done_error;
	bool job_sent;
	bool running;	       /* the guest's run reports progress: a stop can be sent */
	uint64_t t0;	       /* the run's start (now_usec): t_load and t_match count from it */
	double t_load, t_match; /* struct vm_guest's, -1: not seen */
	double g_load, g_match; /* struct vm_guest's, -1: not seen */
	char *stop_reason;     /* stop_on = first and a failure report: stop the guest's run */
	bool stop_sent;
	struct kd_guest_clock clock;	    /* the runner's elapsed time against ours */
	double timeout_host, timeout_guest; /* the run timeout's parts (kd_run_timeout) */
};

/* Ask the guest's runner to stop (once it runs; the agent answers "stopping"). */
static void send_stop(struct kd_vm *vm, struct vmrun *vr)
{
	json_object *c;

	if (!vr->stop_reason || vr->stop_sent || !vr->running)
		return;
	c = json_object_new_object();
	json_object_object_add(c, "cmd", json_object_new_string("stop"));
	json_object_object_add(c, "reason", json_object_new_string(vr->stop_reason));
	vr->stop_sent = kd_vm_agent_send(vm, c) == 0;
	if (vr->stop_sent && !vr->o->quiet)
		fprintf(stderr, "kdrill run: stopping the guest's run: %s\n", vr->stop_reason);
}

/* A console report: with stop_on = first, the first failure ends the guest's run, as in
 * host mode (crashes and hangs also stop the VM itself; a warning, a lockdep or an
 * fs-error report does not, so without this the run went on to its duration). */
static void on_report(struct kd_vm *vm, const struct kd_report *r, void *userdata)
{
	struct vmrun *vr = userdata;
	int stop_on = vr->o->stop_on >= 0 ? vr->o->stop_on : (int)vr->sc->stop_on;
	enum report_role role = report_role(vr->sc, r);

	if (vr->t_match < 0 && report_is_match(vr->sc, r, role)) {
		uint64_t now = now_usec();
		vr->t_match = (double)(now - vr->t0) / 1e6;
		vr->g_match = kd_guest_clock_at(&vr->clock, now); /* -1 before any progress */
	}
	if (stop_on != SC_STOP_FIRST || vr->stop_reason || role != ROLE_FAILURE)
		return;
	vr->stop_reason = strdupf("kernel report: %s", r->title ? r->title : kd_class_name(r->cls));
	send_stop(vm, vr);
}

static const char *js(json_object *o, const char *k)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static void on_agent(struct kd_vm *vm, json_object *m, void *userdata)
{
	struct vmrun *vr = userdata;
	const char *type = js(m, "type");
	json_object *v;

	if (!type)
		return;
	if (!strcmp(type, "ready")) {
		free(vr->guest_kernel);
		vr->guest_kernel = js(m, "kernel") ? strdup(js(m, "kernel")) : NULL;
		if (!vr->job_sent) {
			json_object *c = json_object_new_object();
			json_object_object_add(c, "cmd", json_object_new_string("run"));
			json_object_object_add(c, "request", json_object_get(vr->request));
			vr->job_sent = kd_vm_agent_send(vm, c) == 0;
		}
	} else if (!strcmp(type, "progress")) {
		json_object *jel, *jls;

		vr->running = true;
		/* the load's start on this clock: the message left the guest `elapsed -
		 * load_started` after it, and took some time to come (so keep the earliest) */
		if (json_object_object_get_ex(m, "elapsed", &jel) &&
		    json_object_object_get_ex(m, "load_started", &jls)) {
			double t = (double)(now_usec() - vr->t0) / 1e6 -
				   (json_object_get_double(jel) - json_object_get_double(jls));
			if (vr->t_load < 0 || t < vr->t_load)
				vr->t_load = t;
			vr->g_load = json_object_get_double(jls);
		}
		if (json_object_object_get_ex(m, "elapsed", &jel)) {
			double rate;
			_cleanup_free_ char *why = NULL;

			kd_guest_clock_sample(&vr->clock, now_usec(), json_object_get_double(jel));
			rate = kd_guest_clock_rate(&vr->clock);
			why = strdupf("the guest's clock runs at %.2f of the host's", rate);
			kd_vm_extend_run_timeout(
			    vm, kd_run_timeout(vr->timeout_host, vr->timeout_guest, rate), why);
		}
		send_stop(vm, vr);
		if (!vr->o->quiet) {
			json_object *x;
			double el = json_object_object_get_ex(m, "elapsed", &x)
					? json_object_get_double(x)
					: 0;
			double tot = json_object_object_get_ex(m, "total", &x)
					 ? json_object_get_double(x)
					 : 0;
			double rate = json_object_object_get_ex(m, "ops_per_s", &x)
					  ? json_object_get_double(x)
					  : 0;
			fprintf(stderr,
				"  [vm] %s %4.0f/%.0fs ops %s (%.0f/s) oom %s restarts %s "
				"running %s\n",
				vr->sc->name, el, tot, js(m, "ops") ? js(m, "ops") : "0", rate,
				js(m, "oom_kills") ? js(m, "oom_kills") : "0",
				js(m, "restarts") ? js(m, "restarts") : "0",
				js(m, "running") ? js(m, "running") : "0");
		}
	} else if (!strcmp(type, "stopping")) {
		/* -EAGAIN: the run's units were not running yet; the next progress retries */
		if (json_object_object_get_ex(m, "status", &v) && json_object_get_int(v) != 0)
			vr->stop_sent = false;
	} else if (!strcmp(type, "result")) {
		if (json_object_object_get_ex(m, "verdict", &v) &&
		    json_object_is_type(v, json_type_object)) {
			json_object_put(vr->guest_verdict);
			vr->guest_verdict = json_object_get(v);
		}
	} else if (!strcmp(type, "done")) {
		if (json_object_object_get_ex(m, "status", &v))
			vr->done_status = json_object_get_int(v);
		free(vr->done_error);
		vr->done_error = js(m, "error") ? strdup(js(m, "error")) : NULL;
	}
}

/* The run request for the guest: the scenario file as resolved here, the overrides,
 * the run length, the PRNG seed and the stop policy, typed (harness/run/request.h). */
static int build_request(struct vmrun *vr)
{
	const struct scenario *sc = vr->sc;
	const struct vm_run_opts *o = vr->o;
	_cleanup_free_ char *text = NULL, *target = NULL;
	struct run_request rq = {.params = (char **)o->params,
				 .duration = vr->duration,
				 .rand_seed = o->seed,
				 .stop_on = o->stop_on,
				 .cgroup_backend = (char *)o->cg_backend};
	int r;

	if ((r = read_full_file(sc->path, &text, NULL)) < 0)
		return r;
	target = sc->variant ? strdupf("%s:%s", sc->name, sc->variant) : strdup(sc->name);
	if (!target)
		return -ENOMEM;
	rq.scenario = target;
	rq.scenario_text = text;
	vr->request = run_request_to_json(&rq);
	return vr->request ? 0 : -ENOMEM;
}

/* Extract the agent's tar (results disk) into run_dir/.guest, then move its files up:
 * verdict.json becomes guest-verdict.json, junit.xml is dropped (rewritten from the merged
 * verdict), runner.log (the guest runner's events) and the reproducers' logs keep their
 * names; console.log (the host's serial capture) is never overwritten. */
static int extract_results(const char *disk, const char *run_dir)
{
	_cleanup_free_ char *gdir = strdupf("%s/.guest", run_dir);
	_cleanup_free_ char *out = NULL;
	DIR *d;
	struct dirent *de;
	int r, n = 0;

	if (!gdir)
		return -ENOMEM;
	if ((r = mkdir_p(gdir, 0755)) < 0)
		return r;
	{
		char *argv[] = {"tar", "-xf", (char *)disk, "-C", gdir, "--no-same-owner", NULL};
		r = run_argv(argv, &out, 120 * 1000000ULL);
	}
	d = opendir(gdir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *src = NULL, *dst = NULL;
		const char *name = de->d_name;
		if (name[0] == '.')
			continue;
		src = strdupf("%s/%s", gdir, name);
		if (!strcmp(name, "console.log")) /* older guests: an empty kernel-log copy */
			name = "guest-console.log";
		else if (!strcmp(name, "verdict.json"))
			name = "guest-verdict.json";
		dst = strdupf("%s/%s", run_dir, name);
		if (!src || !dst)
			continue;
		if (!strcmp(de->d_name, "junit.xml")) {
			unlink(src);
			continue;
		}
		if (rename(src, dst) == 0)
			n++;
	}
	closedir(d);
	rm_rf(gdir);
	return r == 0 || n > 0 ? n : -EIO;
}

static json_object *base_verdict(const struct scenario *sc, const char *run_id, uint64_t t0_real,
				 double duration)
{
	json_object *v = json_object_new_object();
	json_object *files = json_object_new_object();
	char started[64] = "";

	format_iso8601(t0_real, started, sizeof(started));
	json_object_object_add(files, "console", json_object_new_string("console.log"));
	json_object_object_add(files, "junit", json_object_new_string("junit.xml"));
	verdict_json_head(v, sc, run_id);
	json_object_object_add(v, "stop_reason", json_object_new_string("guest did not finish"));
	json_object_object_add(v, "started", json_object_new_string(started));
	json_object_object_add(v, "duration_planned_s", json_fixed(duration, 1));
	json_object_object_add(v, "counters", json_object_new_object());
	json_object_object_add(v, "reproducers", json_object_new_array());
	json_object_object_add(v, "files", files);
	return v;
}

static bool is_report_verdict_name(enum verdict v)
{
	return v == V_BUG || v == V_HANG || v == V_WARN;
}

static double jnum(json_object *o, const char *k)
{
	json_object *v;
	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

/* The guest runner's outcome, from its verdict.json, as verdict_decide() input: the
 * guest decided its own ANOMALY / INFRA with the same function; the host re-applies the
 * rules with the console's reports added (and the no-work rule, whatever the guest's
 * version said). */
static void guest_outcome(struct verdict_in *in, json_object *guest, enum verdict gv)
{
	json_object *repros, *counters = NULL, *x;
	const char *greason = js(guest, "reason");

	if (gv == V_INFRA)
		in->infra = greason ? greason : "the guest runner failed";
	else if (is_report_verdict_name(gv)) {
		in->other = gv;
		in->other_reason = greason;
	}
	in->units_started = json_object_object_get_ex(guest, "load_started_s", &x) &&
			    !json_object_is_type(x, json_type_null);
	if (json_object_object_get_ex(guest, "reproducers", &repros) &&
	    json_object_is_type(repros, json_type_array))
		for (size_t i = 0; i < json_object_array_length(repros); i++) {
			json_object *r = json_object_array_get_idx(repros, i);
			const char *kind = js(r, "kind");
			bool ran = jnum(r, "ops") > 0 ||
				   (json_object_object_get_ex(r, "ran", &x) && json_object_get_boolean(x));
			if (kind && !strcmp(kind, "repro")) {
				in->repros++;
				in->repros_ran += ran;
			}
			/* anomalies the guest counted (a full scratch excuses them there) */
			if (gv == V_ANOMALY && json_object_object_get_ex(r, "anomaly", &x) &&
			    json_object_get_boolean(x) && in->anomalies++ == 0)
				in->anomaly = js(r, "name");
		}
	if (gv == V_ANOMALY && !in->anomalies) {
		in->anomalies = 1;
		in->anomaly = "?";
	}
	json_object_object_get_ex(guest, "counters", &counters);
	in->duration_s = jnum(guest, "duration_s");
	in->ops = (uint64_t)jnum(counters, "ops");
	in->oom_kills = (uint64_t)jnum(counters, "oom_kills");
	in->restarts = (unsigned)jnum(counters, "restarts");
}

json_object *vm_merge_verdict(const struct scenario *sc, const struct vm_guest *vr,
			      const struct kd_vm_result *vres, json_object *guest, const char *run_id,
			      const char *run_dir, uint64_t t0_real, double wall,
			      struct run_result *res)
{
	const struct kd_kernel *k = vr->kernel;
	json_object *v = guest ? json_object_get(guest)
			       : base_verdict(sc, run_id, t0_real,
					      scenario_duration(sc, vr->duration));
	json_object *reports = json_object_new_array(), *kern, *vmj, *x;
	struct report_tally t = {.reports = reports};
	struct verdict_in in = {.reports = &t};
	struct verdict_out out;
	enum verdict gv = V_INFRA;
	_cleanup_free_ char *end_reason = NULL;
	size_t n = vres->det ? kd_detector_n_reports(vres->det) : 0;

	report_tally(&t, sc, vres->det, NULL, NULL);
	if (guest && (!js(guest, "verdict") || verdict_from_name(js(guest, "verdict"), &gv) < 0))
		gv = V_INFRA;
	if (kd_vm_end_verdict_in(vres, guest && (vres->end == KD_VM_END_POWEROFF || vr->done_status >= 0),
				 vr->done_error, &in, &end_reason) < 0) {
		json_object_put(v);
		json_object_put(reports);
		return NULL;
	}
	if (in.end == RUN_END_DONE)
		guest_outcome(&in, guest, gv);
	/* the guest runner does not watch the kernel log (the host has the console) */
	in.matched = guest && json_object_object_get_ex(guest, "match", &x) &&
		     json_object_get_boolean(x);
	if (verdict_decide(&in, &out) < 0) {
		json_object_put(v);
		json_object_put(reports);
		return NULL;
	}

	/* kernel: the guest's uname + the ref */
	if (!json_object_object_get_ex(v, "kernel", &kern) ||
	    !json_object_is_type(kern, json_type_object)) {
		kern = json_object_new_object();
		json_object_object_add(v, "kernel", kern);
	}
	if (!js(kern, "release"))
		json_object_object_add(kern, "release",
				       json_object_new_string(vr->kernel_release ? vr->kernel_release
							      : k->release     ? k->release
									       : "?"));
	json_object_object_add(kern, "ref", json_object_new_string(k->ref));
	json_object_object_add(kern, "key", json_object_new_string(k->key));
	if (k->source)
		json_object_object_add(kern, "source", json_object_new_string(k->source));

	vmj = json_object_new_object();
	json_object_object_add(vmj, "end", json_object_new_string(kd_vm_end_name(vres->end)));
	json_object_object_add(vmj, "reason",
			       json_object_new_string(vres->reason ? vres->reason : ""));
	json_object_object_add(vmj, "accel",
			       json_object_new_string(vres->accel ? vres->accel : "?"));
	json_object_object_add(vmj, "ready", json_object_new_boolean(vres->ready));
	json_object_object_add(vmj, "t_ready_s", json_fixed(vres->t_ready, 1));
	json_object_object_add(vmj, "t_system_s", json_fixed(vres->t_system, 1));
	json_object_object_add(vmj, "t_end_s", json_fixed(vres->t_end, 1));
	if (vr->clock_rate > 0)
		json_object_object_add(vmj, "guest_clock_rate", json_fixed(vr->clock_rate, 2));
	json_object_object_add(vmj, "qemu_status", json_object_new_int(vres->qemu_status));
	if (vres->boot_attempts)
		json_object_object_add(vmj, "boot_attempts",
				       json_object_new_int((int)vres->boot_attempts));
	if (vres->retried)
		json_object_object_add(vmj, "retried", json_object_new_string(vres->retried));
	json_object_object_add(vmj, "heartbeats", json_object_new_int64(vres->heartbeats));
	json_object_object_add(vmj, "job_status", json_object_new_int(vr->done_status));
	json_object_object_add(vmj, "guest_result", json_object_new_boolean(guest != NULL));
	json_object_object_add(vmj, "vmcore", json_object_new_boolean(vres->vmcore_written));
	/* the guest run directory's files: complete (job done), partial (collected at a
	 * hang, mid-run), none */
	json_object_object_add(vmj, "guest_files",
			       json_object_new_string(vr->files ? vr->files : "none"));
	if (guest)
		json_object_object_add(vmj, "guest_verdict",
				       json_object_new_string(verdict_name(gv)));

	json_object_object_add(v, "run_id", json_object_new_string(run_id));
	json_object_object_add(v, "dir", json_object_new_string(run_dir));
	json_object_object_add(v, "mode", json_object_new_string("vm"));
	verdict_json_outcome(v, &out);
	json_object_object_add(v, "reports", reports);
	if (t.summary && t.summary->summary_text)
		json_object_object_add(v, "hang_summary",
				       json_object_new_string(t.summary->summary_text));
	json_object_object_add(v, "vm", vmj);
	if (!guest)
		json_object_object_add(v, "duration_s", json_fixed(wall, 1));
	/* the time to report: the guest's runner does not read the kernel log (the host
	 * has the console, and a panic leaves the guest no time), so the host places the
	 * report on the runner's clock (g_match, struct kd_guest_clock) */
	if (out.match && vr->g_load >= 0 && vr->g_match >= vr->g_load &&
	    (!json_object_object_get_ex(v, "time_to_report_s", &x) ||
	     json_object_is_type(x, json_type_null))) {
		json_object_object_add(v, "time_to_report_s",
				       json_fixed(vr->g_match - vr->g_load, 1));
		json_object_object_add(v, "time_to_report_from", json_object_new_string("console"));
	}
	/* what the user waited: more than the above when the guest's clock lags */
	if (out.match && vr->t_load >= 0 && vr->t_match >= vr->t_load)
		json_object_object_add(v, "time_to_report_host_s",
				       json_fixed(vr->t_match - vr->t_load, 1));
	if (json_object_object_get_ex(v, "counters", &x) &&
	    json_object_is_type(x, json_type_object))
		json_object_object_add(x, "reports", json_object_new_int((int)n));
	if (json_object_object_get_ex(v, "files", &x) && json_object_is_type(x, json_type_object)) {
		json_object_object_add(x, "console", json_object_new_string("console.log"));
		json_object_object_add(x, "console_ts", json_object_new_string("console-ts.log"));
		json_object_object_add(x, "vm", json_object_new_string("vm.json"));
		if (guest)
			json_object_object_add(x, "runner_log",
					       json_object_new_string("runner.log"));
		if (vres->vmcore_written)
			json_object_object_add(x, "vmcore", json_object_new_string("vmcore.kdump"));
		if (vres->boot_attempts > 1)
			json_object_object_add(x, "console_attempt1",
					       json_object_new_string("console.attempt1.log"));
	}
	res->verdict = out.verdict;
	res->match = out.match;
	res->exit_code = out.exit_code;
	res->reason = TAKE_PTR(out.reason);
	return v;
}

/* A sanitizer or lockdep kernel runs several times slower under TCG (the slim debug
 * flavor: agent ready after ~65 s against 7-10 s, and seed 000's BUG after a median of
 * 218 s against 39 s), and the watchdogs' timeouts made for a release kernel then report
 * the slowness itself: "rcu detected stall in fs_reclaim_acquire" in ACPI's AML parser
 * after 10 s on inject:004+debug.  Such a kernel gets WATCHDOG_SLOW_FACTOR times the
 * hung-task timeout, and the RCU stall and soft-lockup timeouts derived from it. */
#define WATCHDOG_SLOW_FACTOR 3
static unsigned watchdog_factor(const struct kd_kernel *k, const char **why)
{
	static const char *const slow[] = {"CONFIG_KASAN", "CONFIG_KCSAN", "CONFIG_PROVE_LOCKING"};

	for (size_t i = 0; i < ELEMENTSOF(slow); i++) {
		bool known = false;
		_cleanup_free_ char *v = kd_kernel_config_get(k, slow[i], &known);
		if (v && !strcmp(v, "y")) {
			*why = slow[i];
			return WATCHDOG_SLOW_FACTOR;
		}
	}
	*why = NULL;
	return 1;
}

int vm_run_scenario(const struct scenario *sc, const struct vm_run_opts *o, struct run_result *res)
{
	struct vmrun vr = {.sc = sc,
			   .o = o,
			   .duration = o->duration,
			   .done_status = -1,
			   .t0 = now_usec(),
			   .t_load = -1,
			   .t_match = -1,
			   .g_load = -1,
			   .g_match = -1};
	struct kd_vm_opts vo = {0};
	struct kd_vm_result vres = {0};
	const char *out_root = o->out_dir ? o->out_dir : results_default_dir();
	_cleanup_free_ char *label = NULL, *resdisk = NULL, *gv_path = NULL;
	_cleanup_free_ uint64_t *sizes = NULL;
	_cleanup_strv_ char **append = NULL;
	json_object *guest = NULL;
	uint64_t t0_real = now_realtime_usec(), t0 = now_usec();
	double duration = scenario_duration(sc, o->duration);
	const char *slow_why;
	unsigned slow = watchdog_factor(o->kernel, &slow_why);
	unsigned hung_secs = sc->vm.hung_task_timeout > 0 ? (unsigned)sc->vm.hung_task_timeout
							  : KD_VM_HUNG_TASK_SECS;
	size_t n_scratch = 0;
	int r;

	/* A hang is reported one hung-task timeout after it starts.  On a kernel whose
	 * timeouts are scaled the run is longer by what the scaling added, so that a hang
	 * that starts as late as one a release kernel reports is still reported within the
	 * run; a --duration given is kept as it is. */
	if (slow > 1 && o->duration <= 0)
		vr.duration = duration + (double)hung_secs * (slow - 1);
	if (slow > 1 && !o->quiet) {
		fprintf(stderr, "kdrill run: %s has %s: watchdog timeouts x%u (hung task %u s)",
			o->kernel->ref, slow_why, slow, hung_secs * slow);
		if (vr.duration > duration)
			fprintf(stderr, ", the run %.0f s + %.0f s", duration,
				vr.duration - duration);
		fputc('\n', stderr);
	}
	duration = scenario_duration(sc, vr.duration);

	memset(res, 0, sizeof(*res));
	label = sc->variant ? strdupf("%s.%s", sc->name, sc->variant) : strdup(sc->name);
	if (!label)
		return -ENOMEM;
	if ((r = results_new_run_dir(out_root, NULL, label, t0_real, &res->run_id, &res->run_dir)) <
	    0) {
		res->reason =
		    strdupf("cannot create a run directory in %s: %s", out_root, strerror(-r));
		return r;
	}
	/* scratch disks: one per local filesystem (the scenario's size), at least vm.disks */
	sizes = calloc(sc->n_fs + sc->vm.disks + 1, sizeof(*sizes));
	if (!sizes)
		return -ENOMEM;
	for (size_t i = 0; i < sc->n_fs; i++)
		if (strcmp(sc->fs[i].type, "nfs"))
			sizes[n_scratch++] =
			    sc->fs[i].size > (64ULL << 20) ? sc->fs[i].size : (1ULL << 30);
	while (n_scratch < sc->vm.disks)
		sizes[n_scratch++] = 1ULL << 30;
	resdisk = strdupf("%s/results.raw", res->run_dir);
	if (!resdisk)
		return -ENOMEM;
	{
		_cleanup_close_ int fd =
		    open(resdisk, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || ftruncate(fd, (off_t)RESULTS_DISK_SIZE) < 0) {
			vres.end = KD_VM_END_INFRA;
			vres.reason = strdupf("results disk %s: %m", resdisk);
			goto verdict;
		}
	}
	STRV_FOREACH (w, sc->vm.cmdline)
		if (strv_extend(&append, *w) < 0)
			return -ENOMEM;
	if (strv_extend(&append, "kdrill.job=idle") < 0)
		return -ENOMEM;
	if ((r = build_request(&vr)) < 0) {
		vres.end = KD_VM_END_INFRA;
		vres.reason = strdupf("%s: %s", sc->path, strerror(-r));
		goto verdict;
	}
	vo.kernel = o->kernel->vmlinuz;
	vo.initrd = o->initrd;
	vo.root_img = o->root_img;
	vo.modules_img = o->modules_img;
	vo.out_dir = res->run_dir;
	vo.cpus = sc->vm.cpus;
	vo.mem_mb = sc->vm.memory >> 20;
	vo.accel = o->accel;
	vo.append = append;
	vo.scratch = sizes;
	vo.n_scratch = n_scratch;
	vo.results_disk = resdisk;
	vo.hung_task_secs = hung_secs * slow;
	/* the interval is a cadence, not a timeout: a slowed kernel keeps it */
	vo.hung_scan_secs = (unsigned)sc->vm.hung_task_scan;
	vo.oops_panic = sc->vm.oops_panic;
	vo.panic_on_warn = sc->vm.panic_on_warn;
	vo.boot_timeout = o->boot_timeout > 0 ? o->boot_timeout : 300;
	/* boot + setup/teardown/tar under TCG (host seconds) + the run, its grace and the
	 * wait for units that outlive SIGKILL (from the guest's hung-task timeout), which are
	 * guest seconds: the runner's progress stretches them by the guest's clock rate */
	vr.timeout_host = vo.boot_timeout + 240;
	vr.timeout_guest = duration + sc->grace +
			   (sc->cant_die_timeout > 0 ? sc->cant_die_timeout
						     : task_cant_die_bound(vo.hung_task_secs));
	vo.run_timeout = kd_run_timeout(vr.timeout_host, vr.timeout_guest, 1);
	vo.vmcore = o->vmcore;
	vo.collect_on_hang = true;
	vo.on_agent = on_agent;
	vo.on_report = on_report;
	vo.userdata = &vr;
	if (!o->quiet)
		fprintf(stderr, "kdrill run: booting %s for %s (%s)\n", o->kernel->ref, label,
			res->run_dir);
	r = kd_vm_run(&vo, &vres);
	if (r < 0 && !vres.reason)
		vres.reason = strdupf("VM: %s", strerror(-r));
	kd_vm_result_save(&vres, &vo);
	if (!o->quiet)
		fprintf(stderr, "kdrill run: VM %s at %.1f s (ready %.1f s): %s\n",
			kd_vm_end_name(vres.end), vres.t_end, vres.t_ready,
			vres.reason ? vres.reason : "");
	/* the tar is there after a finished job, or after a hang the agent collected */
	if (vr.done_status >= 0 || vres.collected == 0) {
		if (extract_results(resdisk, res->run_dir) >= 0)
			vr.guest_files = vr.done_status >= 0 ? "complete" : "partial";
		else if (!o->quiet)
			fprintf(stderr, "kdrill run: could not extract the guest's results disk\n");
	}
verdict:
	unlink(resdisk);
	gv_path = strdupf("%s/guest-verdict.json", res->run_dir);
	if (gv_path) {
		_cleanup_free_ char *text = NULL;
		if (read_full_file(gv_path, &text, NULL) == 0)
			guest = json_tokener_parse(text);
	}
	if (!guest && vr.guest_verdict)
		guest = json_object_get(vr.guest_verdict);
	/* a match before the first progress message: placed from the samples that came after */
	if (vr.t_match >= 0 && vr.g_match < 0)
		vr.g_match = kd_guest_clock_at(&vr.clock, vr.t0 + (uint64_t)(vr.t_match * 1e6));
	{
		struct vm_guest g = {.kernel = o->kernel,
				     .duration = vr.duration,
				     .files = vr.guest_files,
				     .kernel_release = vr.guest_kernel,
				     .done_status = vr.done_status,
				     .done_error = vr.done_error,
				     .t_load = vr.t_load,
				     .t_match = vr.t_match,
				     .g_load = vr.g_load,
				     .g_match = vr.g_match,
				     .clock_rate = kd_guest_clock_measured(&vr.clock)};
		res->json = vm_merge_verdict(sc, &g, &vres, guest, res->run_id, res->run_dir,
					     t0_real, (double)(now_usec() - t0) / 1e6, res);
	}
	res->interrupted = vres.end == KD_VM_END_INTERRUPTED;
	json_object_put(guest);
	r = results_write(out_root, res->run_dir, res->json);
	if (r < 0 && !o->quiet)
		fprintf(stderr, "kdrill run: writing %s/verdict.json: %s\n", res->run_dir,
			strerror(-r));
	kd_vm_result_clear(&vres);
	json_object_put(vr.request);
	json_object_put(vr.guest_verdict);
	free(vr.guest_kernel);
	free(vr.done_error);
	free(vr.stop_reason);
	return 0;
}
