// SPDX-License-Identifier: GPL-2.0
/*
 * kdrill cgroup: a small CLI over cgroups/kdcg.h for tests, debugging and labs.
 *
 *   kdrill cgroup run [OPTIONS] -- CMD [ARGS...]   slice with limits + supervised unit
 *   kdrill cgroup probe [--backend B] [LIMITS]      can this backend make such a slice?
 *   kdrill cgroup reap [--backend B]                remove leftovers of dead kdrills
 *   kdrill cgroup ls [--backend B] [--stats]        kdrill cgroups on this machine
 *   kdrill cgroup stats [--backend B] [--json] PATH stats of one cgroup
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "commands.h"
#include "kdcg.h"
#include "util.h"

extern char **environ;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: kdrill cgroup run [OPTIONS] -- CMD [ARGS...]\n"
	    "       kdrill cgroup probe [--backend B] [LIMITS]\n"
	    "       kdrill cgroup reap [--backend B]\n"
	    "       kdrill cgroup ls [--backend B] [--stats]\n"
	    "       kdrill cgroup stats [--backend B] [--json] PATH\n"
	    "\n"
	    "  --backend auto|systemd|v2|v1   (default: $KDCG_BACKEND, else auto)\n"
	    "limits (slice):\n"
	    "  --memory-max SIZE --memory-high SIZE --swap-max SIZE (0 = no swap)\n"
	    "  --cpu-weight 1..10000 --cpu-quota PCT --io-weight 1..10000 --pids-max N\n"
	    "  --set KEY=VALUE     raw cgroup attribute (e.g. memory.swappiness=0), repeatable\n"
	    "unit (run):\n"
	    "  --slice NAME (run)  --unit NAME (main)\n"
	    "  --restart no|on-failure|always  --restart-max N (0 = unlimited)  --restart-sec SEC\n"
	    "  --timeout SEC       stop the unit after SEC (default: wait until it is done)\n"
	    "  --stdout FILE --stderr FILE --cwd DIR --env K=V (added to the environment)\n"
	    "  --stats-json FILE   write the final status and slice stats as JSON\n"
	    "  --no-reap           do not reap dead kdrills' leftovers first\n"
	    "exit: run: 0 last result success, 1 otherwise; 2 usage/bad input; 125 cannot test\n");
}

struct opts {
	enum kdcg_backend backend;
	struct kdcg_limits lim;
	char **set;
	const char *slice, *unit, *stdout_path, *stderr_path, *cwd, *stats_json;
	char **env;
	enum kdcg_restart restart;
	unsigned restart_max;
	uint64_t restart_usec;
	double timeout;
	bool reap, stats, json;
};

enum {
	O_BACKEND = 256,
	O_MEMMAX,
	O_MEMHIGH,
	O_SWAPMAX,
	O_CPUW,
	O_CPUQ,
	O_IOW,
	O_PIDS,
	O_SET,
	O_SLICE,
	O_UNIT,
	O_RESTART,
	O_RESTART_MAX,
	O_RESTART_SEC,
	O_TIMEOUT,
	O_STDOUT,
	O_STDERR,
	O_CWD,
	O_ENV,
	O_STATS_JSON,
	O_NO_REAP,
	O_STATS,
	O_JSON,
};

static const struct option long_opts[] = {
    {"backend", required_argument, NULL, O_BACKEND},
    {"memory-max", required_argument, NULL, O_MEMMAX},
    {"memory-high", required_argument, NULL, O_MEMHIGH},
    {"swap-max", required_argument, NULL, O_SWAPMAX},
    {"cpu-weight", required_argument, NULL, O_CPUW},
    {"cpu-quota", required_argument, NULL, O_CPUQ},
    {"io-weight", required_argument, NULL, O_IOW},
    {"pids-max", required_argument, NULL, O_PIDS},
    {"set", required_argument, NULL, O_SET},
    {"slice", required_argument, NULL, O_SLICE},
    {"unit", required_argument, NULL, O_UNIT},
    {"restart", required_argument, NULL, O_RESTART},
    {"restart-max", required_argument, NULL, O_RESTART_MAX},
    {"restart-sec", required_argument, NULL, O_RESTART_SEC},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"stdout", required_argument, NULL, O_STDOUT},
    {"stderr", required_argument, NULL, O_STDERR},
    {"cwd", required_argument, NULL, O_CWD},
    {"env", required_argument, NULL, O_ENV},
    {"stats-json", required_argument, NULL, O_STATS_JSON},
    {"no-reap", no_argument, NULL, O_NO_REAP},
    {"stats", no_argument, NULL, O_STATS},
    {"json", no_argument, NULL, O_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Positive number (size or count); "0" and negatives are rejected with a reason. */
static int parse_limit(const char *opt, const char *arg, bool size, bool zero_ok, uint64_t *ret)
{
	int r;

	if (arg[0] == '-') {
		fprintf(stderr, "kdrill cgroup: %s %s: must not be negative\n", opt, arg);
		return -EINVAL;
	}
	r = size ? parse_size(arg, ret) : parse_u64(arg, ret);
	if (r < 0) {
		fprintf(stderr, "kdrill cgroup: %s %s: not a %s\n", opt, arg,
			size ? "size (123, 64K, 100M, 1G)" : "number");
		return r;
	}
	if (*ret == 0 && !zero_ok) {
		fprintf(stderr,
			"kdrill cgroup: %s 0: a zero limit is not allowed (omit it for none)\n",
			opt);
		return -EINVAL;
	}
	return 0;
}

/* label: "--backend " or "KDCG_BACKEND=" (for the message). */
static int parse_backend(const char *label, const char *arg, enum kdcg_backend *ret)
{
	if (kdcg_backend_from_string(arg, ret) < 0) {
		fprintf(stderr, "kdrill cgroup: %s%s: unknown backend (auto, systemd, v2, v1)\n",
			label, arg);
		return -EINVAL;
	}
	return 0;
}

/* --set KEY=VALUE / --env K=V: appended to *list; form names the expected shape. */
static int add_assignment(const char *opt, const char *arg, const char *form, char ***list)
{
	if (!strchr(arg, '=')) {
		fprintf(stderr, "kdrill cgroup: %s %s: expected %s\n", opt, arg, form);
		return -EINVAL;
	}
	return strv_extend(list, arg);
}

/* A duration >= 0 (30, 1.5s, 5m). */
static int parse_duration(const char *opt, const char *arg, double *ret)
{
	if (parse_seconds(arg, ret) < 0 || *ret < 0) {
		fprintf(stderr, "kdrill cgroup: %s %s: bad duration\n", opt, arg);
		return -EINVAL;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	const char *env_b = getenv("KDCG_BACKEND");
	int c;

	memset(o, 0, sizeof(*o));
	o->slice = "run";
	o->unit = "main";
	o->reap = true;
	if (env_b && *env_b && parse_backend("KDCG_BACKEND=", env_b, &o->backend) < 0)
		return -EINVAL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", long_opts, NULL)) >= 0) {
		uint64_t v = 0;
		double d;
		int r = 0;

		switch (c) {
		case 'h':
			usage(stdout);
			return 1;
		case O_BACKEND:
			r = parse_backend("--backend ", optarg, &o->backend);
			break;
		case O_MEMMAX:
			r = parse_limit("--memory-max", optarg, true, false, &o->lim.memory_max);
			break;
		case O_MEMHIGH:
			r = parse_limit("--memory-high", optarg, true, false, &o->lim.memory_high);
			break;
		case O_SWAPMAX:
			r = parse_limit("--swap-max", optarg, true, true, &v);
			o->lim.swap_max = v ? v : KDCG_SWAP_ZERO;
			break;
		case O_CPUW:
			r = parse_limit("--cpu-weight", optarg, false, false, &o->lim.cpu_weight);
			break;
		case O_CPUQ:
			r = parse_limit("--cpu-quota", optarg, false, false, &o->lim.cpu_quota_pct);
			break;
		case O_IOW:
			r = parse_limit("--io-weight", optarg, false, false, &o->lim.io_weight);
			break;
		case O_PIDS:
			r = parse_limit("--pids-max", optarg, false, false, &o->lim.pids_max);
			break;
		case O_SET:
			r = add_assignment("--set", optarg, "KEY=VALUE", &o->set);
			break;
		case O_SLICE:
			o->slice = optarg;
			break;
		case O_UNIT:
			o->unit = optarg;
			break;
		case O_RESTART:
			if (!strcmp(optarg, "no"))
				o->restart = KDCG_RESTART_NO;
			else if (!strcmp(optarg, "on-failure"))
				o->restart = KDCG_RESTART_ON_FAILURE;
			else if (!strcmp(optarg, "always"))
				o->restart = KDCG_RESTART_ALWAYS;
			else {
				fprintf(stderr,
					"kdrill cgroup: --restart %s: expected no, on-failure or "
					"always\n",
					optarg);
				return -EINVAL;
			}
			break;
		case O_RESTART_MAX:
			r = parse_limit("--restart-max", optarg, false, true, &v);
			o->restart_max = (unsigned)v;
			break;
		case O_RESTART_SEC:
			if ((r = parse_duration("--restart-sec", optarg, &d)) == 0)
				o->restart_usec = usec_from_secs(d);
			break;
		case O_TIMEOUT:
			r = parse_duration("--timeout", optarg, &o->timeout);
			break;
		case O_STDOUT:
			o->stdout_path = optarg;
			break;
		case O_STDERR:
			o->stderr_path = optarg;
			break;
		case O_CWD:
			o->cwd = optarg;
			break;
		case O_ENV:
			r = add_assignment("--env", optarg, "K=V", &o->env);
			break;
		case O_STATS_JSON:
			o->stats_json = optarg;
			break;
		case O_NO_REAP:
			o->reap = false;
			break;
		case O_STATS:
			o->stats = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static void opts_free(struct opts *o)
{
	strv_free(o->set);
	strv_free(o->env);
}

static int open_ctx(struct opts *o, sd_event *e, struct kdcg_ctx **ret)
{
	int r = kdcg_open(ret, o->backend, e);

	if (r < 0) {
		fprintf(stderr, "kdrill cgroup: %s\n", kdcg_last_error(NULL));
		return r == -EINVAL ? KD_EXIT_USAGE : KD_EXIT_INFRA;
	}
	if (o->reap) {
		r = kdcg_reap_leftovers(*ret);
		if (r > 0)
			fprintf(stderr,
				"kdrill cgroup: reaped %d leftover(s) of dead kdrill processes\n",
				r);
		else if (r < 0)
			fprintf(stderr, "kdrill cgroup: reap: %s\n", kdcg_last_error(*ret));
	}
	return 0;
}

static int lib_exit(int r)
{
	return r == -EINVAL || r == -EEXIST || r == -ENOENT ? KD_EXIT_USAGE : KD_EXIT_INFRA;
}

static json_object *stats_json(const struct kdcg_stats *st)
{
	json_object *o = json_object_new_object();

#define U(k) json_object_object_add(o, #k, json_object_new_uint64(st->k))
	U(memory_current);
	U(memory_peak);
	U(memory_max);
	U(memory_events_max);
	U(memory_events_high);
	U(oom);
	U(oom_kill);
	U(cpu_usage_usec);
	U(io_rbytes);
	U(io_wbytes);
	U(pids_current);
	U(pids_max);
	U(pids_events_max);
#undef U
	json_object_object_add(o, "n_pids", json_object_new_int64(st->n_pids));
	json_object_object_add(o, "under_oom", json_object_new_boolean(st->under_oom));
#define D(k) json_object_object_add(o, #k, st->k < 0 ? NULL : json_object_new_double(st->k))
	D(memory_psi_some_avg10);
	D(memory_psi_full_avg10);
	D(io_psi_some_avg10);
	D(cpu_psi_some_avg10);
#undef D
	return o;
}

static void print_stats(const char *what, const struct kdcg_stats *st)
{
	printf("%s memory_current=%llu memory_peak=%llu memory_max=%llu memory_events_max=%llu "
	       "oom=%llu oom_kill=%llu under_oom=%d cpu_usage_usec=%llu io_rbytes=%llu "
	       "io_wbytes=%llu pids_current=%llu pids_max=%llu pids_events_max=%llu n_pids=%u "
	       "memory_psi_some_avg10=%.2f\n",
	       what, (unsigned long long)st->memory_current, (unsigned long long)st->memory_peak,
	       (unsigned long long)st->memory_max, (unsigned long long)st->memory_events_max,
	       (unsigned long long)st->oom, (unsigned long long)st->oom_kill, st->under_oom,
	       (unsigned long long)st->cpu_usage_usec, (unsigned long long)st->io_rbytes,
	       (unsigned long long)st->io_wbytes, (unsigned long long)st->pids_current,
	       (unsigned long long)st->pids_max, (unsigned long long)st->pids_events_max,
	       st->n_pids, st->memory_psi_some_avg10);
}

/* ---- run ----------------------------------------------------------------- */

struct run_state {
	sd_event *e;
	struct kdcg_unit *u;
	json_object *exits;
	bool done;
};

static void on_unit(struct kdcg_unit *u, enum kdcg_unit_event ev, void *userdata)
{
	struct run_state *rs = userdata;
	struct kdcg_unit_status st;

	kdcg_unit_status(u, &st);
	switch (ev) {
	case KDCG_UNIT_EXITED: {
		json_object *x = json_object_new_object();
		printf("event exited restarts=%u result=%s exit=%d\n", st.restarts,
		       st.last_result ? st.last_result : "-", st.last_exit);
		json_object_object_add(
		    x, "result", json_object_new_string(st.last_result ? st.last_result : ""));
		json_object_object_add(x, "exit", json_object_new_int(st.last_exit));
		json_object_array_add(rs->exits, x);
		break;
	}
	case KDCG_UNIT_RESTARTED:
		printf("event restarted restarts=%u pid=%d\n", st.restarts, (int)st.main_pid);
		break;
	case KDCG_UNIT_DONE:
		printf("event done restarts=%u result=%s\n", st.restarts,
		       st.last_result ? st.last_result : "-");
		rs->done = true;
		sd_event_exit(rs->e, 0);
		break;
	}
	fflush(stdout);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct run_state *rs = userdata;
	(void)s;
	(void)usec;
	printf("event timeout: stopping the unit\n");
	kdcg_unit_stop(rs->u);
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct run_state *rs = userdata;
	(void)s;
	fprintf(stderr, "kdrill cgroup: signal %u: stopping\n", si->ssi_signo);
	if (rs->u)
		kdcg_unit_stop(rs->u);
	else
		sd_event_exit(rs->e, 0);
	return 0;
}

static int set_attrs(struct kdcg_ctx *ctx, struct kdcg_slice *s, char **set)
{
	STRV_FOREACH (kv, set) {
		_cleanup_free_ char *k = strndup(*kv, strcspn(*kv, "="));
		int r;
		if (!k)
			return -ENOMEM;
		r = kdcg_slice_set_attr(s, k, strchr(*kv, '=') + 1);
		if (r < 0) {
			fprintf(stderr, "kdrill cgroup: --set %s: %s\n", *kv, kdcg_last_error(ctx));
			return r;
		}
	}
	return 0;
}

static int cmd_run_unit(struct opts *o, char **cmd)
{
	_cleanup_strv_ char **envp = NULL;
	struct run_state rs = {0};
	struct kdcg_ctx *ctx = NULL;
	struct kdcg_slice *s = NULL, *leaf = NULL; /* s: outermost (destroyed), leaf: innermost */
	struct kdcg_unit_spec spec = {0};
	struct kdcg_unit_status ust = {0};
	struct kdcg_stats st;
	sd_event_source *tsrc = NULL, *sig1 = NULL, *sig2 = NULL;
	sigset_t ss;
	int r, ret = KD_EXIT_INFRA;

	r = sd_event_new(&rs.e);
	if (r < 0) {
		fprintf(stderr, "kdrill cgroup: sd_event_new: %s\n", strerror(-r));
		return KD_EXIT_INFRA;
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	rs.exits = json_object_new_array();
	r = open_ctx(o, rs.e, &ctx);
	if (r) {
		ret = r;
		goto out;
	}
	printf("backend %s\n", kdcg_backend_name(ctx));
	/* "a/b/c": nested slices, the limits go on the innermost one */
	{
		_cleanup_free_ char *names = strdup(o->slice);
		struct kdcg_slice *parent = NULL;
		static const struct kdcg_limits none;
		char *save = NULL;

		if (!names)
			goto out;
		for (char *n = strtok_r(names, "/", &save); n; n = strtok_r(NULL, "/", &save)) {
			bool last = !save || !*save;
			r = kdcg_slice_new(ctx, parent, n, last ? &o->lim : &none, &leaf);
			if (r < 0) {
				fprintf(stderr, "kdrill cgroup: slice %s: %s\n", n,
					kdcg_last_error(ctx));
				ret = lib_exit(r);
				goto out;
			}
			if (!s)
				s = leaf;
			parent = leaf;
			printf("slice %s\n", kdcg_slice_path(leaf));
		}
		if (!leaf) {
			fprintf(stderr, "kdrill cgroup: --slice '%s': empty name\n", o->slice);
			ret = KD_EXIT_USAGE;
			goto out;
		}
	}
	if (set_attrs(ctx, leaf, o->set) < 0) {
		ret = lib_exit(-EINVAL);
		goto out;
	}
	if (o->env) {
		for (char **e = environ; e && *e; e++)
			if (strv_extend(&envp, *e) < 0)
				goto out;
		STRV_FOREACH (e, o->env)
			if (strv_extend(&envp, *e) < 0)
				goto out;
	}
	spec.argv = cmd;
	spec.envp = envp;
	spec.cwd = o->cwd;
	spec.stdout_path = o->stdout_path;
	spec.stderr_path = o->stderr_path;
	spec.restart = o->restart;
	spec.restart_max = o->restart_max;
	spec.restart_usec = o->restart_usec;
	r = kdcg_unit_start(leaf, o->unit, &spec, on_unit, &rs, &rs.u);
	if (r < 0) {
		fprintf(stderr, "kdrill cgroup: %s\n", kdcg_last_error(ctx));
		ret = lib_exit(r);
		goto out;
	}
	kdcg_unit_status(rs.u, &ust);
	printf("unit %s pid=%d\n", kdcg_unit_name(rs.u), (int)ust.main_pid);
	fflush(stdout);
	if (o->timeout > 0)
		sd_event_add_time_relative(rs.e, &tsrc, CLOCK_MONOTONIC, usec_from_secs(o->timeout),
					   0, on_timeout, &rs);
	sd_event_add_signal(rs.e, &sig1, SIGINT, on_signal, &rs);
	sd_event_add_signal(rs.e, &sig2, SIGTERM, on_signal, &rs);
	r = sd_event_loop(rs.e);
	if (r < 0)
		fprintf(stderr, "kdrill cgroup: event loop: %s\n", strerror(-r));

	kdcg_unit_status(rs.u, &ust);
	if (s != leaf) { /* the outer slice sees the inner one's counts (hierarchical) */
		r = kdcg_slice_stats(leaf, &st);
		if (r >= 0)
			print_stats("stats-leaf", &st);
	}
	r = kdcg_slice_stats(s, &st);
	if (r < 0)
		fprintf(stderr, "kdrill cgroup: stats: %s\n", kdcg_last_error(ctx));
	printf("result unit=%s restarts=%u result=%s exit=%d\n", kdcg_unit_name(rs.u), ust.restarts,
	       ust.last_result ? ust.last_result : "-", ust.last_exit);
	print_stats("stats", &st);
	if (o->stats_json) {
		json_object *j = json_object_new_object();
		const char *txt;
		json_object_object_add(j, "backend",
				       json_object_new_string(kdcg_backend_name(ctx)));
		json_object_object_add(j, "slice", json_object_new_string(kdcg_slice_path(s)));
		json_object_object_add(j, "unit", json_object_new_string(kdcg_unit_name(rs.u)));
		json_object_object_add(j, "restarts", json_object_new_int64(ust.restarts));
		json_object_object_add(
		    j, "result", json_object_new_string(ust.last_result ? ust.last_result : ""));
		json_object_object_add(j, "exit", json_object_new_int(ust.last_exit));
		json_object_object_add(j, "exits", json_object_get(rs.exits));
		json_object_object_add(j, "stats", stats_json(&st));
		txt = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY);
		r = write_file_atomic(o->stats_json, txt, strlen(txt), 0644);
		if (r < 0)
			fprintf(stderr, "kdrill cgroup: %s: %s\n", o->stats_json, strerror(-r));
		json_object_put(j);
	}
	ret = ust.last_result && !strcmp(ust.last_result, "success") ? KD_EXIT_OK : KD_EXIT_BAD;
out:
	if (s) {
		r = kdcg_slice_destroy(s);
		if (r < 0) {
			fprintf(stderr, "kdrill cgroup: teardown: %s\n", kdcg_last_error(ctx));
			ret = KD_EXIT_INFRA;
		}
	}
	kdcg_close(ctx);
	sd_event_source_disable_unref(tsrc);
	sd_event_source_disable_unref(sig1);
	sd_event_source_disable_unref(sig2);
	sd_event_unref(rs.e);
	json_object_put(rs.exits);
	return ret;
}

static int cmd_probe(struct opts *o)
{
	struct kdcg_ctx *ctx = NULL;
	struct kdcg_slice *s = NULL;
	sd_event *e = NULL;
	int r, ret;

	if (sd_event_new(&e) < 0)
		return KD_EXIT_INFRA;
	o->reap = false;
	ret = open_ctx(o, e, &ctx);
	if (ret)
		goto out;
	r = kdcg_slice_new(ctx, NULL, "probe", &o->lim, &s);
	if (r < 0) {
		fprintf(stderr, "kdrill cgroup: %s backend cannot make this slice: %s\n",
			kdcg_backend_name(ctx), kdcg_last_error(ctx));
		ret = r == -EINVAL ? KD_EXIT_USAGE : KD_EXIT_INFRA;
		goto out;
	}
	r = set_attrs(ctx, s, o->set);
	printf("backend %s ok %s\n", kdcg_backend_name(ctx), kdcg_slice_path(s));
	ret = r < 0 ? lib_exit(r) : KD_EXIT_OK;
	if (kdcg_slice_destroy(s) < 0) {
		fprintf(stderr, "kdrill cgroup: teardown: %s\n", kdcg_last_error(ctx));
		ret = KD_EXIT_INFRA;
	}
out:
	kdcg_close(ctx);
	sd_event_unref(e);
	return ret;
}

static int cmd_reap_ls(struct opts *o, bool reap)
{
	struct kdcg_ctx *ctx = NULL;
	struct kdcg_leftover *l = NULL;
	size_t n = 0;
	sd_event *e = NULL;
	int r, ret = KD_EXIT_OK;

	if (sd_event_new(&e) < 0)
		return KD_EXIT_INFRA;
	o->reap = false;
	ret = open_ctx(o, e, &ctx);
	if (ret)
		goto out;
	if (reap) {
		r = kdcg_reap_leftovers(ctx);
		if (r < 0) {
			fprintf(stderr, "kdrill cgroup: reap: %s\n", kdcg_last_error(ctx));
			ret = KD_EXIT_INFRA;
		} else {
			printf("reaped %d\n", r);
		}
		goto out;
	}
	r = kdcg_list(ctx, &l, &n);
	if (r < 0) {
		fprintf(stderr, "kdrill cgroup: ls: %s\n", kdcg_last_error(ctx));
		ret = KD_EXIT_INFRA;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s owner=%d %s\n", l[i].path, (int)l[i].owner,
		       l[i].owner_alive ? "alive" : "dead");
		if (o->stats && l[i].path[0] == '/') {
			struct kdcg_stats st;
			if (kdcg_path_stats(ctx, l[i].path, &st) >= 0)
				print_stats("  stats", &st);
		}
	}
out:
	kdcg_leftovers_free(l, n);
	kdcg_close(ctx);
	sd_event_unref(e);
	return ret;
}

static int cmd_stats(struct opts *o, const char *path)
{
	struct kdcg_ctx *ctx = NULL;
	struct kdcg_stats st;
	sd_event *e = NULL;
	int r, ret;

	if (sd_event_new(&e) < 0)
		return KD_EXIT_INFRA;
	o->reap = false;
	ret = open_ctx(o, e, &ctx);
	if (ret)
		goto out;
	r = kdcg_path_stats(ctx, path, &st);
	if (r < 0) {
		fprintf(stderr, "kdrill cgroup: stats %s: %s\n", path, kdcg_last_error(ctx));
		ret = lib_exit(r);
		goto out;
	}
	if (o->json) {
		json_object *j = stats_json(&st);
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
		json_object_put(j);
	} else {
		print_stats("stats", &st);
	}
out:
	kdcg_close(ctx);
	sd_event_unref(e);
	return ret;
}

int cmd_cgroup(int argc, char **argv)
{
	struct opts o;
	const char *sub;
	int r;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? KD_EXIT_USAGE : KD_EXIT_OK;
	}
	sub = argv[1];
	r = parse_opts(argc - 1, argv + 1, &o);
	if (r) {
		opts_free(&o);
		return r > 0 ? KD_EXIT_OK : KD_EXIT_USAGE;
	}
	argc -= 1;
	argv += 1;
	if (!strcmp(sub, "run")) {
		if (optind >= argc) {
			fprintf(stderr, "kdrill cgroup run: no command (use -- CMD ARGS...)\n");
			r = KD_EXIT_USAGE;
		} else {
			r = cmd_run_unit(&o, argv + optind);
		}
	} else if (!strcmp(sub, "probe")) {
		r = cmd_probe(&o);
	} else if (!strcmp(sub, "reap")) {
		r = cmd_reap_ls(&o, true);
	} else if (!strcmp(sub, "ls")) {
		r = cmd_reap_ls(&o, false);
	} else if (!strcmp(sub, "stats")) {
		if (optind >= argc) {
			fprintf(stderr, "kdrill cgroup stats: PATH missing\n");
			r = KD_EXIT_USAGE;
		} else {
			r = cmd_stats(&o, argv[optind]);
		}
	} else {
		fprintf(stderr, "kdrill cgroup: unknown subcommand '%s'\n", sub);
		usage(stderr);
		r = KD_EXIT_USAGE;
	}
	opts_free(&o);
	return r;
}
