/* SPDX-License-Identifier: GPL-2.0 */
/*
 * repro.h — the kdrill reproducer library (librepro.a), in the spirit of LTP's tst_test.
 *
 * A reproducer declares what it needs in a `struct repro_test` and hands it to repro_main():
 *
 *	static uint64_t opt_depth = 64;
 *	static const struct repro_option opts[] = {
 *		{ "depth", "N", "AIO requests in flight per thread", REPRO_ARG_U64, &opt_depth, 1,
 *4096 }, { 0 }
 *	};
 *	enum { C_UNLINKS, C_AIO_WRITES, C__MAX };
 *	static const char *const counters[] = { [C_UNLINKS] = "unlinks",
 *						[C_AIO_WRITES] = "aio_writes", NULL };
 *	static const struct repro_test test = {
 *		.name = "aio-dio-unlink", .summary = "...", .seed = "000_...",
 *		.common = REPRO_OPT_DURATION | REPRO_OPT_ITERATIONS | REPRO_OPT_THREADS |
 *			  REPRO_OPT_SIZE | REPRO_OPT_SEED | REPRO_OPT_ENGINE,
 *		.options = opts, .counters = counters,
 *		.needs_odirect = true,
 *		.setup = setup, .run = run, .cleanup = cleanup,
 *	};
 *	int main(int argc, char **argv) { return repro_main(&test, argc, argv); }
 *
 * What the library does (the program does none of it):
 *  - Options.  Always: --dir DIR (required), --json, --keep, --help.  Selected by .common:
 *    --duration SEC (default 60; 0 = no time bound), --iterations N (default 0 = unbounded;
 *    with both the first bound reached wins), --threads N (default .default_threads or 2),
 *    --size BYTES (K/M/G suffix; default .default_size or 256M: the on-disk cap),
 *    --seed N (default: time-based, printed), --engine libaio|io_uring (default libaio).
 *    Extra options come from .options.  A bad argument exits 2 with a message naming it
 *    ("aio-dio-unlink: --threads: '0' is out of range 1..256").
 *  - Environment checks: --dir must be an existing writable directory (else exit 2 naming
 *    --dir); with .needs_odirect an aligned O_DIRECT write is tried in it, failure -> exit 3
 *    with a one-line reason ("environment unsuitable: O_DIRECT not supported on tmpfs ...").
 *    The program may also call repro_unsuitable() from setup() -> exit 3.
 *  - A private work directory DIR/<name>.<pid>/ is created; programs make every path with
 *    repro_path(), so nothing is written outside --dir.  It is removed at exit unless --keep.
 *  - Bounds: a timer thread ends the run at --duration (counted from program start, setup
 *    included); SIGINT/SIGTERM/SIGHUP end it too (exit code as usual).  Programs
 *    poll repro_running() (cheap) in every loop and must return within ~1 s of a stop; the
 *    library waits at most 2 s for threads started with repro_thread_start() and then prints
 *    the result anyway (exit code unchanged) and _exit()s.
 *  - Reporting: with --json one JSON object per line on stdout (json-c):
 *      {"record":"start","program":..,"version":..,"pid":..,"time":..,"fstype":..,"workdir":..,
 *       "params":{"dir":..,"duration":..,"iterations":..,"threads":..,"size":..,"seed":..,
 *                 "engine":..,"json":..,"keep":.., <each extra option>}}
 *      {"record":"progress","elapsed":1.0,"ops":..,"ops_per_s":..,"race_window_hits":..,
 *       "anomalies":..,"counters":{..}}                                    (every second)
 *      {"record":"result","program":..,"status":"clean"|"anomaly"|"unsuitable"|"error",
 *       "exit_code":0|1|3,"stop_reason":"duration"|"iterations"|"signal"|"anomaly"|"done"|
 *       "error","elapsed":..,"iterations":..,"ops":..,"ops_per_s":..,"race_window_hits":..,
 *       "race_window_hits_per_s":..,"errors":{"ENOSPC":3,..},"counters":{..},
 *       "anomalies":[{"name":..,"count":..,"detail":..}],"reason":..(unsuitable/error only)}
 *    Without --json, a human summary on stdout at the end (and nothing per second).
 *    Diagnostics always go to stderr.
 *  - Exit codes: 0 clean, 1 anomaly (at least one repro_anomaly() or run() failed), 2 usage,
 *    3 environment unsuitable.
 *
 * Thread safety: every counter/anomaly/errno function below may be called from any thread.
 *
 * Fault injection (TEST ONLY): the environment variable KDRILL_REPRO_FAULT plants a fault
 * so tests can prove the checker works.  Comma-separated list of KIND:N (N counts from 1,
 * per process, across all threads):
 *   flip-read:N    the N-th read completion (AIO engine reads, repro_pread_full(), or a
 *                  program calling repro_fault_read() after its own read/mmap load) gets one
 *                  byte flipped in the returned buffer (the middle byte).
 *   eio-write:N    the N-th write (AIO engine write completion, repro_pwrite_full(), or
 *                  repro_fault_write()) reports -EIO instead of its real result (the
 *                  data is still written; only the result is replaced).
 *   short-write:N  the N-th write reports half its length.
 *   aio-flip-read:N / aio-eio-write:N   like flip-read / eio-write but counting only the
 *                  AIO engine's read / write completions (deterministic in programs that
 *                  also do synchronous I/O).
 * The fault spec is echoed in the start record ("fault") and a used fault in the result.
 */
#ifndef KDRILL_REPRO_H
#define KDRILL_REPRO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* ---- declaration --------------------------------------------------------------------- */

/* Common options a program accepts (bit mask; --dir/--json/--keep/--help always apply). */
enum {
	REPRO_OPT_DURATION = 1u << 0,
	REPRO_OPT_ITERATIONS = 1u << 1,
	REPRO_OPT_THREADS = 1u << 2,
	REPRO_OPT_SIZE = 1u << 3,
	REPRO_OPT_SEED = 1u << 4,
	REPRO_OPT_ENGINE = 1u << 5,
};

enum repro_arg_type {
	REPRO_ARG_FLAG,	   /* bool *value; no argument */
	REPRO_ARG_U64,	   /* uint64_t *value; decimal; range [min, max] if max != 0 */
	REPRO_ARG_SIZE,	   /* uint64_t *value; 4096, 64K, 1M, 1G; range as above */
	REPRO_ARG_SECONDS, /* double *value; 1.5, 30s, 5m; range as above (whole seconds) */
	REPRO_ARG_STRING,  /* const char **value (points into argv) */
	REPRO_ARG_CHOICE,  /* const char **value; must be one of choices[] */
};

struct repro_option {
	const char *name; /* long option without "--"; NULL ends the array */
	const char *metavar;
	const char *help;
	enum repro_arg_type type;
	void *value; /* holds the default on entry; written by the parser */
	uint64_t min, max;
	const char *const *choices; /* REPRO_ARG_CHOICE: NULL-terminated */
};

struct repro_test {
	const char *name;    /* program name, e.g. "aio-dio-unlink" */
	const char *summary; /* one line for --help */
	const char *seed; /* seed report file, e.g. "000_1d8902fdec5dc61a.txt" (for --help/start) */
	unsigned common;  /* REPRO_OPT_* */
	const struct repro_option *options; /* extra options, { 0 }-terminated, may be NULL */
	const char *const *counters; /* program counter names, NULL-terminated, may be NULL */
	const char *race_window;     /* what a race-window hit means (for --help/summary) */
	bool needs_odirect;	     /* probe O_DIRECT in --dir, exit 3 if unsupported */
	unsigned default_threads;    /* 0 -> 2 */
	uint64_t default_size;	     /* 0 -> 256 MiB */
	unsigned max_threads;	     /* 0 -> 256 */

	/* Callbacks.  Return 0 or a negative errno.
	 *  setup:   runs after options/environment checks, work dir exists.  A negative return
	 *           exits 3 (reason from repro_unsuitable(), else strerror) unless an anomaly
	 *           was recorded (then 1).
	 *  run:     the workload; returns when repro_running() turns false (or it is done).
	 *           A negative return is recorded as anomaly "run-error" (exit 1).
	 *  cleanup: always called if setup was called (also after a failed setup); may be NULL.
	 *           Runs after every repro_thread_start() thread has been joined. */
	int (*setup)(void);
	int (*run)(void);
	void (*cleanup)(void);
};

enum repro_engine {
	REPRO_ENGINE_LIBAIO,
	REPRO_ENGINE_IO_URING,
};

/* Parsed common parameters; valid from setup() on.  Read-only for programs. */
struct repro_params {
	const char *dir;     /* --dir as given */
	const char *workdir; /* DIR/<name>.<pid> (created by the library) */
	const char *fstype;  /* "ext4", "tmpfs", "nfs", ... from statfs(2) of --dir */
	double duration;     /* seconds, 0 = unbounded */
	uint64_t iterations; /* 0 = unbounded */
	unsigned threads;
	uint64_t size;
	uint64_t seed;
	enum repro_engine engine;
	bool json, keep;
};
extern const struct repro_params *const repro;

int repro_main(const struct repro_test *t, int argc, char **argv);

/* ---- run control --------------------------------------------------------------------- */

/* False once the run must stop (duration, signal, iterations exhausted, anomaly). */
bool repro_running(void);
/* Claim the next iteration (shared across threads).  False when --iterations are used up or
 * the run is stopping.  Counts into the result's "iterations". */
bool repro_next_iteration(void);
/* Ask the run to stop (stop_reason "done"). */
void repro_stop(void);
/* Seconds since the run started. */
double repro_elapsed(void);
/* Sleep up to usec, returning early (false) if the run stops. */
bool repro_sleep_usec(uint64_t usec);

/* Start a thread the library joins (after run() returns, before cleanup()).  name is for
 * diagnostics.  Returns 0 or a negative errno. */
int repro_thread_start(const char *name, void *(*fn)(void *), void *arg);
/* Join every thread started so far (run() may call it itself). */
void repro_threads_join(void);

/* Per-thread PRNG (xorshift), seeded from --seed and a stream number. */
struct repro_rng {
	uint64_t s;
};
void repro_rng_init(struct repro_rng *r, uint64_t stream);
uint64_t repro_rng_next(struct repro_rng *r);
uint64_t repro_rng_below(struct repro_rng *r, uint64_t n); /* [0, n), n > 0 */

/* ---- environment / files ------------------------------------------------------------- */

/* Path inside the work dir, malloc'd ("%s/%s", workdir, name); NULL on ENOMEM. */
char *repro_path(const char *fmt, ...) _printf_(1, 2);
/* A bad argument only setup() can judge (the option table has no validator): prints
 * "<name>: <message>" to stderr, removes the still empty work dir and exits 2 (usage).
 * Call it before anything is written. */
__attribute__((noreturn)) void repro_usage_error(const char *fmt, ...) _printf_(1, 2);
/* Record why the environment is unsuitable; setup() then returns the result (-ENOTSUP). */
int repro_unsuitable(const char *fmt, ...) _printf_(1, 2);

/* ---- counters ------------------------------------------------------------------------ */

void repro_ops(uint64_t n);		    /* operations done (ops, ops/s) */
void repro_race_hit(uint64_t n);	    /* race-window hits */
void repro_count(unsigned idx, uint64_t n); /* program counter idx (index into .counters) */
uint64_t repro_counter_get(unsigned idx);   /* current value */
/* An expected/tolerated error (e.g. ENOSPC): counted in "errors" by errno name. err > 0. */
void repro_errno(int err);
/* An anomaly: counted per name, the first detail per name kept; the run stops
 * (stop_reason "anomaly") and the program exits 1.  name: short kebab-case id such as
 * "data-mismatch", "aio-res-mismatch", "unexpected-errno". */
void repro_anomaly(const char *name, const char *fmt, ...) _printf_(2, 3);
uint64_t repro_anomaly_count(void);
/* An errno (> 0) from a syscall of a workload that may fill the disk: ENOSPC is counted
 * with repro_errno() and true returned; any other errno is anomaly "unexpected-errno" with
 * detail "<fmt...>: <strerror(err)>" and false returned. */
bool repro_tolerate_enospc(int err, const char *fmt, ...) _printf_(2, 3);

/* ---- fault injection (see top comment) ------------------------------------------------ */

/* Called by the program after a read it did itself (read(2), mmap load) and is about to
 * verify strictly: may flip a byte. */
void repro_fault_read(void *buf, size_t len);
/* Called by the program after a write it did itself with result res (bytes or -errno);
 * returns res or the planted fault (-EIO / len/2). */
ssize_t repro_fault_write(ssize_t res, size_t len);

/* Full-length pread/pwrite (retrying short transfers and EINTR) through the fault hook.
 * Return len, a short count at EOF (read), or a negative errno. */
ssize_t repro_pread_full(int fd, void *buf, size_t len, off_t off);
ssize_t repro_pwrite_full(int fd, const void *buf, size_t len, off_t off);

/* ---- self-verifying blocks ----------------------------------------------------------- */

/* Every data block starts with this header; the rest is a pseudo-random fill derived from
 * (file_id, gen, offset, tag), and crc covers the whole block with crc = 0 (CRC-32C). */
#define REPRO_BLOCK_MAGIC 0x4b44524bu /* "KDRK" */
#define REPRO_BLOCK_MIN	  64u
struct repro_block_hdr {
	uint32_t magic;
	uint32_t crc;
	uint64_t file_id;
	uint64_t gen;
	uint64_t offset; /* file offset of this block */
	uint32_t size;	 /* block size */
	uint32_t tag;	 /* free for the program (e.g. writer kind) */
};

enum repro_block_state {
	REPRO_BLOCK_OK = 0,
	REPRO_BLOCK_ZERO,	  /* all zero bytes (hole / unwritten) */
	REPRO_BLOCK_GARBAGE,	  /* no magic: not written by us (stale data?) */
	REPRO_BLOCK_BAD_CRC,	  /* magic ok, checksum wrong (torn or corrupted) */
	REPRO_BLOCK_WRONG_FILE,	  /* intact block of another file id */
	REPRO_BLOCK_WRONG_OFFSET, /* intact block written for another offset */
	REPRO_BLOCK_WRONG_SIZE,	  /* intact header with another block size */
};

uint32_t repro_crc32c(uint32_t crc, const void *buf, size_t len);
/* Fill a block (size >= REPRO_BLOCK_MIN, multiple of 8). */
void repro_block_fill(void *buf, size_t size, uint64_t file_id, uint64_t gen, uint64_t offset,
		      uint32_t tag);
/* Fill n consecutive blocks of bs bytes starting at file offset off. */
void repro_blocks_fill(void *buf, size_t bs, size_t n, uint64_t file_id, uint64_t gen, uint64_t off,
		       uint32_t tag);
/* Check one block read from file offset `offset` of file `file_id`.  On return *hdr (if not
 * NULL) holds the header as read (valid for OK/WRONG_*).  Generation is NOT checked: the
 * caller decides which generations are legal. */
enum repro_block_state repro_block_check(const void *buf, size_t size, uint64_t file_id,
					 uint64_t offset, struct repro_block_hdr *hdr);
const char *repro_block_state_name(enum repro_block_state s); /* "ok", "zero", "bad-crc".. */
/* Human description of a block: "file 3 off 0x1000: bad-crc (stored 0x.., computed 0x..),
 * header file 3 gen 7 off 0x1000, first byte != expected(gen 7) at +1234 (0x12 vs 0x34)".
 * expect_gen = UINT64_MAX: do not compare with an expected fill.  malloc'd, NULL on ENOMEM. */
char *repro_block_describe(const void *buf, size_t size, uint64_t file_id, uint64_t offset,
			   uint64_t expect_gen);

/* ---- AIO engine (libaio or io_uring) --------------------------------------------------- */

struct repro_io {
	int fd;
	bool write;
	void *buf;
	size_t len;
	off_t off;
	ssize_t res;  /* on completion: bytes or -errno (after fault injection) */
	void *user;   /* free for the caller */
	uint64_t seq; /* free for the caller */
};

struct repro_aio;
/* depth = max requests in flight.  engine: usually repro->engine.  Returns 0 or -errno
 * (-ENOSYS/-EPERM: engine unavailable: treat as unsuitable). */
int repro_aio_new(struct repro_aio **ret, enum repro_engine engine, unsigned depth);
/* For setup(): repro_aio_new() with --engine; any failure is recorded as the unsuitable
 * reason "<engine> unavailable: <strerror>" and repro_unsuitable()'s -ENOTSUP returned. */
int repro_aio_new_or_unsuitable(struct repro_aio **ret, unsigned depth);
/* Waits for everything in flight (bounded: 10 s), then frees. */
void repro_aio_free(struct repro_aio *a);
static inline void repro_aio_freep(struct repro_aio **a)
{
	if (*a)
		repro_aio_free(*a);
}
const char *repro_engine_name(enum repro_engine e);
/* Submit n requests; returns the number queued (all, unless the kernel refused some:
 * then fewer, >= 0) or -errno when none could be submitted.  The repro_io structs and
 * buffers must stay valid until reaped. */
int repro_aio_submit(struct repro_aio *a, struct repro_io *const *ios, unsigned n);
/* Reap between min and max completions into done[], waiting up to timeout_ms (< 0: forever,
 * but still returns when the run stops and min == 0).  Returns count or -errno. */
int repro_aio_reap(struct repro_aio *a, unsigned min, unsigned max, struct repro_io **done,
		   int timeout_ms);
unsigned repro_aio_inflight(const struct repro_aio *a);
/* Check a completion: res == len, otherwise record anomaly "aio-res-mismatch" (or
 * "aio-write-eio" for -EIO on a write; ENOSPC is counted with repro_errno and tolerated
 * when allow_enospc).  Returns true if the I/O completed fully. */
bool repro_aio_check(const struct repro_io *io, bool allow_enospc);

/* Aligned allocation for O_DIRECT buffers (4096); NULL on ENOMEM; free with free(). */
void *repro_alloc_aligned(size_t len);

#endif
