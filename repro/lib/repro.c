/* SPDX-License-Identifier: GPL-2.0 */
/*
 * repro.c — option parsing, run control, counters and reporting for kdrill reproducers.
 * See repro.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "repro.h"
#include "repro-internal.h"

#define MAX_ERRNO_TRACKED 4096
#define MAX_COUNTERS	  64
#define STOP_GRACE_USEC	  1800000ULL /* after a stop, threads get this long */

static struct repro_params params;
const struct repro_params *const repro = &params;

static const struct repro_test *T;
static char *workdir_owned;
static char *fstype_owned;

static atomic_bool stop_flag;
static atomic_int stop_reason_code; /* enum below, first one wins */
static atomic_uint_fast64_t stop_at_usec;
static uint64_t start_usec;

enum {
	STOP_NONE,
	STOP_DURATION,
	STOP_ITERATIONS,
	STOP_SIGNAL,
	STOP_ANOMALY,
	STOP_DONE,
	STOP_ERROR,
};
static const char *const stop_names[] = {
    [STOP_NONE] = "none",     [STOP_DURATION] = "duration", [STOP_ITERATIONS] = "iterations",
    [STOP_SIGNAL] = "signal", [STOP_ANOMALY] = "anomaly",   [STOP_DONE] = "done",
    [STOP_ERROR] = "error",
};

static atomic_uint_fast64_t c_ops, c_race, c_iter_claimed, c_iter_done, c_anomalies;
static atomic_uint_fast64_t c_prog[MAX_COUNTERS];
static atomic_uint_fast64_t c_errno[MAX_ERRNO_TRACKED];
static unsigned n_prog_counters;

struct anomaly {
	char *name;
	char *detail;
	uint64_t count;
};
static pthread_mutex_t anomaly_lock = PTHREAD_MUTEX_INITIALIZER;
static struct anomaly *anomalies;
static size_t n_anomalies;

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool result_printed;
static char *unsuitable_reason;

/* threads the library joins */
struct rthread {
	pthread_t t;
	char *name;
};
static pthread_mutex_t thr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rthread *threads;
static size_t n_threads;

static pthread_t timer_thread;
static bool timer_started;
static sigset_t stop_sigs;

/* ---- run control --------------------------------------------------------------------- */

static void request_stop(int code)
{
	int expect = STOP_NONE;

	atomic_compare_exchange_strong(&stop_reason_code, &expect, code);
	if (!atomic_exchange(&stop_flag, true))
		atomic_store(&stop_at_usec, now_usec());
}

bool repro_running(void)
{
	return !atomic_load_explicit(&stop_flag, memory_order_relaxed);
}

void repro_stop(void)
{
	request_stop(STOP_DONE);
}

bool repro_next_iteration(void)
{
	uint64_t n;

	if (!repro_running())
		return false;
	n = atomic_fetch_add(&c_iter_claimed, 1) + 1;
	if (params.iterations && n > params.iterations) {
		request_stop(STOP_ITERATIONS);
		return false;
	}
	atomic_fetch_add(&c_iter_done, 1);
	return true;
}

double repro_elapsed(void)
{
	return (double)(now_usec() - start_usec) / 1e6;
}

bool repro_sleep_usec(uint64_t usec)
{
	uint64_t end = now_usec() + usec;

	while (repro_running()) {
		uint64_t now = now_usec(), step;
		struct timespec ts;

		if (now >= end)
			return true;
		step = end - now;
		if (step > 50000)
			step = 50000;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)step * 1000;
		nanosleep(&ts, NULL);
	}
	return false;
}

int repro_thread_start(const char *name, void *(*fn)(void *), void *arg)
{
	struct rthread *n;
	int r;

	pthread_mutex_lock(&thr_lock);
	n = realloc(threads, (n_threads + 1) * sizeof(*threads));
	if (!n) {
		pthread_mutex_unlock(&thr_lock);
		return -ENOMEM;
	}
	threads = n;
	r = pthread_create(&threads[n_threads].t, NULL, fn, arg);
	if (r) {
		pthread_mutex_unlock(&thr_lock);
		return -r;
	}
	threads[n_threads].name = strdup(name ? name : "worker");
	n_threads++;
	pthread_mutex_unlock(&thr_lock);
	return 0;
}

void repro_threads_join(void)
{
	for (;;) {
		struct rthread t;

		pthread_mutex_lock(&thr_lock);
		if (!n_threads) {
			pthread_mutex_unlock(&thr_lock);
			return;
		}
		t = threads[--n_threads];
		pthread_mutex_unlock(&thr_lock);
		pthread_join(t.t, NULL);
		free(t.name);
	}
}

/* splitmix64 for seeding, xorshift64* for the stream */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void repro_rng_init(struct repro_rng *r, uint64_t stream)
{
	uint64_t x = params.seed ^ (stream * 0xd1342543de82ef95ULL);

	r->s = splitmix64(&x);
	if (!r->s)
		r->s = 1;
}

uint64_t repro_rng_next(struct repro_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

uint64_t repro_rng_below(struct repro_rng *r, uint64_t n)
{
	return n ? repro_rng_next(r) % n : 0;
}

/* ---- files ----------------------------------------------------------------------------- */

char *repro_path(const char *fmt, ...)
{
	_cleanup_free_ char *rel = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&rel, fmt, ap);
	va_end(ap);
	if (r < 0)
		return NULL;
	return strdupf("%s/%s", params.workdir, rel);
}

void repro_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", T ? T->name : "repro");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (params.workdir)
		rmdir(params.workdir);
	exit(2);
}

int repro_unsuitable(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(unsuitable_reason);
	unsuitable_reason = s;
	return -ENOTSUP;
}

/* ---- counters ---------------------------------------------------------------------------- */

void repro_ops(uint64_t n)
{
	atomic_fetch_add_explicit(&c_ops, n, memory_order_relaxed);
}

void repro_race_hit(uint64_t n)
{
	atomic_fetch_add_explicit(&c_race, n, memory_order_relaxed);
}

void repro_count(unsigned idx, uint64_t n)
{
	if (idx < MAX_COUNTERS)
		atomic_fetch_add_explicit(&c_prog[idx], n, memory_order_relaxed);
}

uint64_t repro_counter_get(unsigned idx)
{
	return idx < MAX_COUNTERS ? atomic_load(&c_prog[idx]) : 0;
}

void repro_errno(int err)
{
	if (err < 0)
		err = -err;
	if (err >= MAX_ERRNO_TRACKED)
		err = 0;
	atomic_fetch_add_explicit(&c_errno[err], 1, memory_order_relaxed);
}

bool repro_tolerate_enospc(int err, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	va_list ap;

	if (err == ENOSPC) {
		repro_errno(err);
		return true;
	}
	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	repro_anomaly("unexpected-errno", "%s: %s", what ? what : "?", strerror(err));
	return false;
}

uint64_t repro_anomaly_count(void)
{
	return atomic_load(&c_anomalies);
}

void repro_anomaly(const char *name, const char *fmt, ...)
{
	char *detail = NULL;
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	if (vasprintf(&detail, fmt, ap) < 0)
		detail = NULL;
	va_end(ap);

	atomic_fetch_add(&c_anomalies, 1);
	pthread_mutex_lock(&anomaly_lock);
	for (i = 0; i < n_anomalies; i++)
		if (!strcmp(anomalies[i].name, name))
			break;
	if (i < n_anomalies) {
		anomalies[i].count++;
		free(detail);
		detail = NULL;
	} else {
		struct anomaly *n = realloc(anomalies, (n_anomalies + 1) * sizeof(*n));

		if (n) {
			anomalies = n;
			anomalies[n_anomalies].name = strdup(name);
			anomalies[n_anomalies].detail = detail;
			anomalies[n_anomalies].count = 1;
			if (anomalies[n_anomalies].name) {
				n_anomalies++;
				fprintf(stderr, "%s: ANOMALY %s: %s\n", T ? T->name : "repro", name,
					detail ? detail : "");
				detail = NULL;
			}
		}
		free(detail);
	}
	pthread_mutex_unlock(&anomaly_lock);
	request_stop(STOP_ANOMALY);
}

/* ---- reporting ----------------------------------------------------------------------------- */

static const char *errno_name(int e, char *buf, size_t len)
{
	const char *n = e ? strerrorname_np(e) : NULL;

	if (n)
		return n;
	snprintf(buf, len, "E%d", e);
	return buf;
}

static const char *engine_names[] = {
    [REPRO_ENGINE_LIBAIO] = "libaio", [REPRO_ENGINE_IO_URING] = "io_uring"};

const char *repro_engine_name(enum repro_engine e)
{
	return (unsigned)e < ELEMENTSOF(engine_names) ? engine_names[e] : "?";
}

static void emit(struct json_object *o)
{
	pthread_mutex_lock(&out_lock);
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), stdout);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
	json_object_put(o);
}

static struct json_object *counters_json(void)
{
	struct json_object *c = json_object_new_object();

	for (unsigned i = 0; i < n_prog_counters; i++)
		json_object_object_add(c, T->counters[i],
				       json_object_new_int64((int64_t)atomic_load(&c_prog[i])));
	return c;
}

static void add_opt_json(struct json_object *p, const struct repro_option *o)
{
	struct json_object *v = NULL;

	switch (o->type) {
	case REPRO_ARG_FLAG:
		v = json_object_new_boolean(*(bool *)o->value);
		break;
	case REPRO_ARG_U64:
	case REPRO_ARG_SIZE:
		v = json_object_new_int64((int64_t) * (uint64_t *)o->value);
		break;
	case REPRO_ARG_SECONDS:
		v = json_object_new_double(*(double *)o->value);
		break;
	case REPRO_ARG_STRING:
	case REPRO_ARG_CHOICE: {
		const char *s = *(const char **)o->value;

		v = s ? json_object_new_string(s) : NULL;
		break;
	}
	}
	json_object_object_add(p, o->name, v);
}

static void print_start(void)
{
	struct json_object *o = json_object_new_object(), *p = json_object_new_object();
	char ts[64] = "";
	const char *fault = getenv("KDRILL_REPRO_FAULT");

	format_iso8601(now_realtime_usec(), ts, sizeof(ts));
	json_object_object_add(o, "record", json_object_new_string("start"));
	json_object_object_add(o, "program", json_object_new_string(T->name));
	json_object_object_add(o, "version", json_object_new_string(KDRILL_VERSION));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "seed_report", T->seed ? json_object_new_string(T->seed) : NULL);
	json_object_object_add(o, "fstype", json_object_new_string(params.fstype));
	json_object_object_add(o, "workdir", json_object_new_string(params.workdir));
	json_object_object_add(o, "race_window",
			       T->race_window ? json_object_new_string(T->race_window) : NULL);
	if (fault && *fault)
		json_object_object_add(o, "fault", json_object_new_string(fault));

	json_object_object_add(p, "dir", json_object_new_string(params.dir));
	json_object_object_add(p, "duration", json_object_new_double(params.duration));
	json_object_object_add(p, "iterations", json_object_new_int64((int64_t)params.iterations));
	json_object_object_add(p, "threads", json_object_new_int((int)params.threads));
	json_object_object_add(p, "size", json_object_new_int64((int64_t)params.size));
	json_object_object_add(p, "seed", json_object_new_uint64(params.seed));
	json_object_object_add(p, "engine",
			       json_object_new_string(repro_engine_name(params.engine)));
	json_object_object_add(p, "json", json_object_new_boolean(params.json));
	json_object_object_add(p, "keep", json_object_new_boolean(params.keep));
	for (const struct repro_option *op = T->options; op && op->name; op++)
		add_opt_json(p, op);
	json_object_object_add(o, "params", p);
	emit(o);
}

static void print_progress(uint64_t *last_ops, uint64_t *last_race, uint64_t *last_t)
{
	struct json_object *o = json_object_new_object();
	uint64_t now = now_usec(), ops = atomic_load(&c_ops), race = atomic_load(&c_race);
	double dt = (double)(now - *last_t) / 1e6;

	if (dt <= 0)
		dt = 1e-6;
	json_object_object_add(o, "record", json_object_new_string("progress"));
	json_object_object_add(o, "program", json_object_new_string(T->name));
	json_object_object_add(o, "elapsed", json_object_new_double(repro_elapsed()));
	json_object_object_add(o, "iterations",
			       json_object_new_int64((int64_t)atomic_load(&c_iter_done)));
	json_object_object_add(o, "ops", json_object_new_int64((int64_t)ops));
	json_object_object_add(o, "ops_per_s",
			       json_object_new_double((double)(ops - *last_ops) / dt));
	json_object_object_add(o, "race_window_hits", json_object_new_int64((int64_t)race));
	json_object_object_add(o, "race_window_hits_per_s",
			       json_object_new_double((double)(race - *last_race) / dt));
	json_object_object_add(o, "anomalies",
			       json_object_new_int64((int64_t)atomic_load(&c_anomalies)));
	json_object_object_add(o, "counters", counters_json());
	emit(o);
	*last_ops = ops;
	*last_race = race;
	*last_t = now;
}

static const char *status_name(int code)
{
	switch (code) {
	case 0:
		return "clean";
	case 1:
		return "anomaly";
	case 3:
		return "unsuitable";
	default:
		return "error";
	}
}

static void print_result(int code, const char *reason)
{
	double el = repro_elapsed();
	uint64_t ops = atomic_load(&c_ops), race = atomic_load(&c_race);
	int sr = atomic_load(&stop_reason_code);
	const char *stop = stop_names[sr == STOP_NONE ? STOP_DONE : sr];
	char eb[32];

	if (atomic_exchange(&result_printed, true))
		return;
	if (el <= 0)
		el = 1e-6;
	pthread_mutex_lock(&anomaly_lock);
	if (params.json) {
		struct json_object *o = json_object_new_object();
		struct json_object *errs = json_object_new_object(), *an = json_object_new_array();

		json_object_object_add(o, "record", json_object_new_string("result"));
		json_object_object_add(o, "program", json_object_new_string(T->name));
		json_object_object_add(o, "status", json_object_new_string(status_name(code)));
		json_object_object_add(o, "exit_code", json_object_new_int(code));
		json_object_object_add(o, "stop_reason", json_object_new_string(stop));
		json_object_object_add(o, "elapsed", json_object_new_double(el));
		json_object_object_add(o, "engine",
				       json_object_new_string(repro_engine_name(params.engine)));
		json_object_object_add(o, "fstype",
				       json_object_new_string(params.fstype ? params.fstype : "?"));
		json_object_object_add(o, "iterations",
				       json_object_new_int64((int64_t)atomic_load(&c_iter_done)));
		json_object_object_add(o, "ops", json_object_new_int64((int64_t)ops));
		json_object_object_add(o, "ops_per_s", json_object_new_double((double)ops / el));
		json_object_object_add(o, "race_window_hits", json_object_new_int64((int64_t)race));
		json_object_object_add(o, "race_window_hits_per_s",
				       json_object_new_double((double)race / el));
		for (int e = 0; e < MAX_ERRNO_TRACKED; e++) {
			uint64_t v = atomic_load(&c_errno[e]);

			if (v)
				json_object_object_add(errs, errno_name(e, eb, sizeof(eb)),
						       json_object_new_int64((int64_t)v));
		}
		json_object_object_add(o, "errors", errs);
		json_object_object_add(o, "counters", counters_json());
		for (size_t i = 0; i < n_anomalies; i++) {
			struct json_object *a = json_object_new_object();

			json_object_object_add(a, "name",
					       json_object_new_string(anomalies[i].name));
			json_object_object_add(a, "count",
					       json_object_new_int64((int64_t)anomalies[i].count));
			json_object_object_add(
			    a, "detail",
			    json_object_new_string(anomalies[i].detail ? anomalies[i].detail : ""));
			json_object_array_add(an, a);
		}
		json_object_object_add(o, "anomalies", an);
		if (reason)
			json_object_object_add(o, "reason", json_object_new_string(reason));
		if (repro_fault_spec())
			json_object_object_add(o, "fault_fired",
					       json_object_new_boolean(repro_fault_fired()));
		emit(o);
	} else {
		pthread_mutex_lock(&out_lock);
		printf("%s: %s after %.1f s (stop: %s), engine %s, fs %s\n", T->name,
		       status_name(code), el, stop, repro_engine_name(params.engine),
		       params.fstype ? params.fstype : "?");
		if (reason)
			printf("  reason: %s\n", reason);
		printf("  ops %" PRIu64 " (%.1f/s), race-window hits %" PRIu64 " (%.1f/s), "
		       "iterations %" PRIu64 "\n",
		       ops, (double)ops / el, race, (double)race / el,
		       (uint64_t)atomic_load(&c_iter_done));
		if (T->race_window)
			printf("  race window: %s\n", T->race_window);
		if (n_prog_counters) {
			printf("  counters:");
			for (unsigned i = 0; i < n_prog_counters; i++)
				printf(" %s=%" PRIu64, T->counters[i],
				       (uint64_t)atomic_load(&c_prog[i]));
			printf("\n");
		}
		printf("  errors:");
		bool any = false;
		for (int e = 0; e < MAX_ERRNO_TRACKED; e++) {
			uint64_t v = atomic_load(&c_errno[e]);

			if (v) {
				printf(" %s=%" PRIu64, errno_name(e, eb, sizeof(eb)), v);
				any = true;
			}
		}
		printf("%s\n", any ? "" : " none");
		if (!n_anomalies)
			printf("  anomalies: none\n");
		for (size_t i = 0; i < n_anomalies; i++)
			printf("  ANOMALY %s x%" PRIu64 ": %s\n", anomalies[i].name,
			       anomalies[i].count, anomalies[i].detail ? anomalies[i].detail : "");
		fflush(stdout);
		pthread_mutex_unlock(&out_lock);
	}
	pthread_mutex_unlock(&anomaly_lock);
}

static int final_code(void)
{
	return atomic_load(&c_anomalies) ? 1 : 0;
}

static void remove_workdir(void)
{
	if (params.workdir && !params.keep) {
		int r = rm_rf(params.workdir);

		if (r < 0)
			fprintf(stderr, "%s: cannot remove %s: %s\n", T->name, params.workdir,
				strerror(-r));
	}
}

/* Timer thread: duration bound, signals, progress, and the hard stop deadline. */
static void *timer_main(void *arg)
{
	uint64_t last_ops = 0, last_race = 0, last_t = now_usec(), next_progress = last_t + 1000000;
	(void)arg;

	for (;;) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		siginfo_t si;
		uint64_t now;

		if (sigtimedwait(&stop_sigs, &si, &ts) > 0) {
			fprintf(stderr, "%s: signal %d, stopping\n", T->name, si.si_signo);
			request_stop(STOP_SIGNAL);
		}
		now = now_usec();
		if (params.duration > 0 && now - start_usec >= (uint64_t)(params.duration * 1e6))
			request_stop(STOP_DURATION);
		if (params.json && now >= next_progress && repro_running()) {
			print_progress(&last_ops, &last_race, &last_t);
			next_progress += 1000000;
			if (next_progress < now)
				next_progress = now + 1000000;
		}
		if (atomic_load(&result_printed))
			return NULL;
		now = now_usec();
		if (!repro_running() && atomic_load(&stop_at_usec) &&
		    now > atomic_load(&stop_at_usec) + STOP_GRACE_USEC) {
			int code = final_code();

			fprintf(stderr, "%s: workload did not stop within %.1f s, exiting anyway\n",
				T->name, STOP_GRACE_USEC / 1e6);
			print_result(code, "workload did not stop in time");
			remove_workdir();
			_exit(code);
		}
	}
}

/* ---- options --------------------------------------------------------------------------- */

enum {
	OPT_DIR = 1000,
	OPT_DURATION,
	OPT_ITERATIONS,
	OPT_THREADS,
	OPT_SIZE,
	OPT_SEED,
	OPT_ENGINE,
	OPT_JSON,
	OPT_KEEP,
	OPT_HELP,
	OPT_EXTRA = 2000,
};

static struct option *parse_lo; /* freed by usage_error() before exit */

static _Noreturn void usage_error(const char *fmt, ...) _printf_(1, 2);
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", T->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", T->name);
	free(parse_lo);
	exit(2);
}

static void help(void)
{
	printf("Usage: %s --dir DIR [options]\n%s\n", T->name, T->summary ? T->summary : "");
	if (T->seed)
		printf("Seed report: %s\n", T->seed);
	if (T->race_window)
		printf("Race-window hit: %s\n", T->race_window);
	printf("\nCommon options:\n"
	       "  --dir DIR          directory on the filesystem under test (required); the\n"
	       "                     program works in DIR/%s.<pid>/ and removes it at exit\n",
	       T->name);
	if (T->common & REPRO_OPT_DURATION)
		printf("  --duration SEC     stop after SEC seconds (default 60, 0 = no limit)\n");
	if (T->common & REPRO_OPT_ITERATIONS)
		printf("  --iterations N     stop after N iterations (default 0 = no limit)\n");
	if (T->common & REPRO_OPT_THREADS)
		printf("  --threads N        worker threads (default %u)\n",
		       T->default_threads ? T->default_threads : 2);
	if (T->common & REPRO_OPT_SIZE)
		printf("  --size BYTES       disk space cap, K/M/G suffixes (default %" PRIu64
		       "M)\n",
		       (uint64_t)((T->default_size ? T->default_size : 256ULL << 20) >> 20));
	if (T->common & REPRO_OPT_SEED)
		printf("  --seed N           PRNG seed (default: time based, printed in the start "
		       "record)\n");
	if (T->common & REPRO_OPT_ENGINE)
		printf("  --engine E         AIO engine: libaio (default) or io_uring\n");
	printf("  --json             JSON lines on stdout (start, progress every second, result)\n"
	       "  --keep             keep the work directory\n"
	       "  --help             this text\n");
	if (T->options && T->options->name) {
		printf("\nProgram options:\n");
		for (const struct repro_option *o = T->options; o->name; o++) {
			_cleanup_free_ char *l = strdupf("--%s%s%s", o->name, o->metavar ? " " : "",
							 o->metavar ? o->metavar : "");
			printf("  %-18s %s\n", l ? l : o->name, o->help ? o->help : "");
		}
	}
	printf("\nExit status: 0 clean, 1 anomaly, 2 usage, 3 environment unsuitable.\n"
	       "Test-only fault injection: "
	       "KDRILL_REPRO_FAULT=KIND:N (flip-read, eio-write, short-write, aio-flip-read,\n"
	       "aio-eio-write; see repro/lib/repro.h)\n");
}

static void check_range(const char *name, const char *arg, uint64_t v, uint64_t min, uint64_t max)
{
	if (max && (v < min || v > max))
		usage_error("--%s: '%s' is out of range %" PRIu64 "..%" PRIu64, name, arg, min,
			    max);
}

static void parse_extra(const struct repro_option *o, const char *arg)
{
	uint64_t v;
	double d;

	switch (o->type) {
	case REPRO_ARG_FLAG:
		*(bool *)o->value = true;
		return;
	case REPRO_ARG_U64:
		if (parse_u64(arg, &v) < 0)
			usage_error("--%s: '%s' is not a number", o->name, arg);
		check_range(o->name, arg, v, o->min, o->max);
		*(uint64_t *)o->value = v;
		return;
	case REPRO_ARG_SIZE:
		if (parse_size(arg, &v) < 0)
			usage_error("--%s: '%s' is not a size (e.g. 4096, 64K, 1M, 1G)", o->name,
				    arg);
		check_range(o->name, arg, v, o->min, o->max);
		*(uint64_t *)o->value = v;
		return;
	case REPRO_ARG_SECONDS:
		if (parse_seconds(arg, &d) < 0)
			usage_error("--%s: '%s' is not a duration (e.g. 30, 1.5, 5m)", o->name,
				    arg);
		if (o->max && (d < (double)o->min || d > (double)o->max))
			usage_error("--%s: '%s' is out of range %" PRIu64 "..%" PRIu64 " s",
				    o->name, arg, o->min, o->max);
		*(double *)o->value = d;
		return;
	case REPRO_ARG_STRING:
		*(const char **)o->value = arg;
		return;
	case REPRO_ARG_CHOICE:
		for (const char *const *c = o->choices; c && *c; c++)
			if (!strcmp(*c, arg)) {
				*(const char **)o->value = *c;
				return;
			}
		usage_error("--%s: '%s' is not a valid choice", o->name, arg);
	}
}

static void parse_args(int argc, char **argv)
{
	struct option *lo;
	size_t n = 0, n_extra = 0;
	const char *a_dur = NULL;
	int c;

	for (const struct repro_option *o = T->options; o && o->name; o++)
		n_extra++;
	lo = parse_lo = calloc(n_extra + 16, sizeof(*lo));
	if (!lo) {
		fprintf(stderr, "%s: out of memory\n", T->name);
		exit(3);
	}
#define ADD(nm, has, val) lo[n++] = (struct option){nm, has, NULL, val}
	ADD("dir", required_argument, OPT_DIR);
	ADD("json", no_argument, OPT_JSON);
	ADD("keep", no_argument, OPT_KEEP);
	ADD("help", no_argument, OPT_HELP);
	if (T->common & REPRO_OPT_DURATION)
		ADD("duration", required_argument, OPT_DURATION);
	if (T->common & REPRO_OPT_ITERATIONS)
		ADD("iterations", required_argument, OPT_ITERATIONS);
	if (T->common & REPRO_OPT_THREADS)
		ADD("threads", required_argument, OPT_THREADS);
	if (T->common & REPRO_OPT_SIZE)
		ADD("size", required_argument, OPT_SIZE);
	if (T->common & REPRO_OPT_SEED)
		ADD("seed", required_argument, OPT_SEED);
	if (T->common & REPRO_OPT_ENGINE)
		ADD("engine", required_argument, OPT_ENGINE);
	for (size_t i = 0; i < n_extra; i++)
		ADD(T->options[i].name,
		    T->options[i].type == REPRO_ARG_FLAG ? no_argument : required_argument,
		    OPT_EXTRA + (int)i);
#undef ADD

	params.duration = 60;
	params.threads = T->default_threads ? T->default_threads : 2;
	params.size = T->default_size ? T->default_size : 256ULL << 20;
	params.seed = now_realtime_usec() ^ ((uint64_t)getpid() << 32);
	params.engine = REPRO_ENGINE_LIBAIO;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		uint64_t v;

		switch (c) {
		case OPT_DIR:
			params.dir = optarg;
			break;
		case OPT_JSON:
			params.json = true;
			break;
		case OPT_KEEP:
			params.keep = true;
			break;
		case OPT_HELP:
			help();
			free(lo);
			exit(0);
		case OPT_DURATION:
			a_dur = optarg;
			if (parse_seconds(optarg, &params.duration) < 0)
				usage_error("--duration: '%s' is not a duration (e.g. 30, 1.5, 5m)",
					    optarg);
			if (params.duration > 7 * 86400.0)
				usage_error("--duration: '%s' is longer than a week", optarg);
			break;
		case OPT_ITERATIONS:
			if (parse_u64(optarg, &params.iterations) < 0)
				usage_error("--iterations: '%s' is not a number", optarg);
			break;
		case OPT_THREADS: {
			unsigned max = T->max_threads ? T->max_threads : 256;

			if (parse_u64(optarg, &v) < 0)
				usage_error("--threads: '%s' is not a number", optarg);
			check_range("threads", optarg, v, 1, max);
			params.threads = (unsigned)v;
			break;
		}
		case OPT_SIZE:
			if (parse_size(optarg, &v) < 0)
				usage_error("--size: '%s' is not a size (e.g. 64M, 1G)", optarg);
			check_range("size", optarg, v, 1ULL << 20, 1ULL << 50);
			params.size = v;
			break;
		case OPT_SEED:
			if (parse_u64(optarg, &params.seed) < 0)
				usage_error("--seed: '%s' is not a number", optarg);
			break;
		case OPT_ENGINE:
			if (!strcmp(optarg, "libaio"))
				params.engine = REPRO_ENGINE_LIBAIO;
			else if (!strcmp(optarg, "io_uring") || !strcmp(optarg, "io-uring") ||
				 !strcmp(optarg, "uring"))
				params.engine = REPRO_ENGINE_IO_URING;
			else
				usage_error("--engine: '%s' is not libaio or io_uring", optarg);
			break;
		case ':':
			usage_error("%s: missing argument", argv[optind - 1]);
		case '?':
			usage_error("%s: unknown option", argv[optind - 1]);
		default:
			if (c >= OPT_EXTRA && (size_t)(c - OPT_EXTRA) < n_extra)
				parse_extra(&T->options[c - OPT_EXTRA], optarg);
			break;
		}
	}
	free(lo);
	parse_lo = NULL;
	(void)a_dur;
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!params.dir)
		usage_error("--dir: missing (the directory to work in is required)");
}

/* ---- environment ------------------------------------------------------------------------- */

static const char *fs_name(long magic)
{
	switch ((unsigned long)magic) {
	case 0xEF53:
		return "ext4"; /* ext2/3/4 share the magic */
	case 0x01021994:
		return "tmpfs";
	case 0x858458f6:
		return "ramfs";
	case 0x6969:
		return "nfs";
	case 0x58465342:
		return "xfs";
	case 0x9123683E:
		return "btrfs";
	case 0x794c7630:
		return "overlayfs";
	case 0x65735546:
		return "fuse";
	case 0x2011BAB0:
		return "exfat";
	case 0x4d44:
		return "vfat";
	case 0x9fa0:
		return "proc";
	case 0x62656572:
		return "sysfs";
	default:
		return NULL;
	}
}

static int check_dir(void)
{
	struct stat st;
	struct statfs sf;
	const char *n;

	if (stat(params.dir, &st) < 0)
		usage_error("--dir: '%s': %s", params.dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		usage_error("--dir: '%s' is not a directory", params.dir);
	if (statfs(params.dir, &sf) < 0)
		return repro_unsuitable("statfs %s: %s", params.dir, strerror(errno));
	n = fs_name((long)sf.f_type);
	fstype_owned = n ? strdup(n) : strdupf("0x%lx", (unsigned long)sf.f_type);
	params.fstype = fstype_owned ? fstype_owned : "?";

	workdir_owned = strdupf("%s/%s.%d", params.dir, T->name, (int)getpid());
	if (!workdir_owned)
		return -ENOMEM;
	if (mkdir(workdir_owned, 0755) < 0) {
		int e = errno;

		if (e == EACCES || e == EROFS || e == EPERM)
			return repro_unsuitable("cannot create %s: %s", workdir_owned, strerror(e));
		return repro_unsuitable("mkdir %s: %s", workdir_owned, strerror(e));
	}
	params.workdir = workdir_owned;
	return 0;
}

static int check_odirect(void)
{
	_cleanup_free_ char *p = repro_path(".odirect-probe");
	_cleanup_free_ void *buf = repro_alloc_aligned(4096);
	_cleanup_close_ int fd = -1;
	ssize_t w;
	int e;

	if (!p || !buf)
		return -ENOMEM;
	if (!strcmp(params.fstype, "tmpfs") || !strcmp(params.fstype, "ramfs"))
		return repro_unsuitable("O_DIRECT unsupported on %s (%s): no block device, direct "
					"I/O would be emulated through the page cache",
					params.dir, params.fstype);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		unlink(p);
		return repro_unsuitable("O_DIRECT unsupported on %s (%s): open: %s", params.dir,
					params.fstype, strerror(e));
	}
	memset(buf, 0, 4096);
	w = pwrite(fd, buf, 4096, 0);
	e = errno;
	unlink(p);
	if (w != 4096)
		return repro_unsuitable(
		    "O_DIRECT unsupported on %s (%s): aligned 4096-byte write: %s", params.dir,
		    params.fstype, w < 0 ? strerror(e) : "short write");
	return 0;
}

/* ---- main -------------------------------------------------------------------------------- */

static void finish_unsuitable(int r)
{
	const char *why = unsuitable_reason ? unsuitable_reason : strerror(-r);

	fprintf(stderr, "%s: environment unsuitable: %s\n", T->name, why);
	if (params.json && params.fstype)
		print_result(3, why);
}

int repro_main(const struct repro_test *t, int argc, char **argv)
{
	int r, code;
	bool setup_called = false;

	T = t;
	for (n_prog_counters = 0; t->counters && t->counters[n_prog_counters]; n_prog_counters++)
		if (n_prog_counters >= MAX_COUNTERS)
			break;
	parse_args(argc, argv);
	r = repro_fault_init(getenv("KDRILL_REPRO_FAULT"));
	if (r < 0)
		usage_error("KDRILL_REPRO_FAULT: '%s' is not KIND:N[,KIND:N] with KIND flip-read, "
			    "eio-write, short-write, aio-flip-read or aio-eio-write",
			    getenv("KDRILL_REPRO_FAULT"));

	/* Signals: blocked in every thread, consumed by the timer thread. */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	start_usec = now_usec();
	r = check_dir();
	if (r == 0 && t->needs_odirect)
		r = check_odirect();
	if (r < 0) {
		finish_unsuitable(r);
		code = 3;
		goto out;
	}
	if (params.json)
		print_start();

	r = pthread_create(&timer_thread, NULL, timer_main, NULL);
	if (r) {
		fprintf(stderr, "%s: cannot start timer thread: %s\n", t->name, strerror(r));
		code = 3;
		goto out;
	}
	timer_started = true;

	setup_called = true;
	r = t->setup ? t->setup() : 0;
	if (r < 0) {
		request_stop(STOP_ERROR);
		repro_threads_join();
		if (final_code()) {
			code = 1;
			print_result(code, NULL);
		} else {
			code = 3;
			finish_unsuitable(r);
		}
		goto out;
	}
	r = t->run ? t->run() : 0;
	if (r < 0 && !final_code())
		repro_anomaly("run-error", "%s", strerror(-r));
	if (repro_running())
		request_stop(STOP_DONE);
	repro_threads_join();
	code = final_code();
	print_result(code, NULL);
out:
	request_stop(STOP_DONE);
	atomic_store(&result_printed, true);
	if (timer_started)
		pthread_join(timer_thread, NULL);
	if (setup_called && t->cleanup)
		t->cleanup();
	remove_workdir();
	free(workdir_owned);
	free(fstype_owned);
	free(unsuitable_reason);
	pthread_mutex_lock(&anomaly_lock);
	for (size_t i = 0; i < n_anomalies; i++) {
		free(anomalies[i].name);
		free(anomalies[i].detail);
	}
	free(anomalies);
	anomalies = NULL;
	n_anomalies = 0;
	pthread_mutex_unlock(&anomaly_lock);
	free(threads);
	threads = NULL;
	return code;
}
