/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dio-unwritten — concurrent AIO O_DIRECT overwrites and unwritten-extent writes on one file
 * (seed 001: ext4 dioread_nolock, 4.5-rc3: an unlocked overwrite DIO clobbered the inode-wide
 * io_end pointer of a DIO into unwritten extents, so the unwritten->written conversion ran
 * from the bio completion interrupt: panic in check_irqs_on() via ext4_end_io_dio; fixed by
 * 74dae4278546 and 109811c20fb8).  This is xfstests generic/300 in C.
 *
 * Why this syscall pattern: ext4 lets a DIO that only overwrites written blocks inside
 * i_size run with i_rwsem shared ("unlocked"), while a DIO into unwritten blocks takes it
 * exclusive and must have its completion deferred to a workqueue (conversion sleeps).  The
 * 2016 bug decided the deferral from per-inode state that the unlocked overwrite reset.  So
 * we need, on ONE inode and at the same time:
 *   U threads  AIO O_DIRECT overwrites (4-64 KiB) of written blocks in the first half,
 *   L threads  AIO O_DIRECT writes into fallocated (unwritten) blocks of the second half;
 *              when a thread's unwritten blocks are used up it verifies its regions and
 *              punches + re-fallocates them (unwritten again),
 *   F thread   fallocate / punch-hole churn on its own regions (extent tree changes),
 * with many iocbs in flight, completions arriving from the device interrupt.
 *
 * Verification: the file is divided in 1 MiB regions, each owned by exactly one thread,
 * so every block's expected content is known.  Every written range is read back (AIO
 * O_DIRECT read through the same engine) and verified block by block (file id, generation,
 * offset, crc32c); L threads re-verify whole regions before churning them; F checks that
 * punched / fallocated ranges read as zeros.  Anomalies: "aio-write-eio", "aio-res-mismatch",
 * "lost-write" (zeros where a write was acknowledged: a lost conversion), "stale-data"
 * (non-zero data in an unwritten/punched range), "data-mismatch" (anything else),
 * "unexpected-errno".  ENOSPC is tolerated and counted.
 *
 * Race-window hit: an overwrite AIO submitted while >= 1 unwritten-extent AIO write on the
 * same file was in flight (submitted, not yet reaped) — the window of the 2016 bug.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repro.h"

#define BS	    4096u
#define REGION	    (1u << 20)
#define SLOT	    (64u << 10) /* max io size; one io per slot per batch */
#define FILE_ID	    0x0100u
#define NO_GEN	    0u
#define GEN_UNKNOWN UINT32_MAX

static uint64_t opt_depth = 16;
static uint64_t opt_file_size = 64 << 20;
static uint64_t opt_max_io = 64 << 10;

static const struct repro_option options[] = {
    {"depth", "N", "AIO writes in flight per thread (default 16)", REPRO_ARG_U64, &opt_depth, 1,
     256, NULL},
    {"file-size", "BYTES", "size of the shared file (default 64M, capped by --size)",
     REPRO_ARG_SIZE, &opt_file_size, 8 << 20, 1ULL << 34, NULL},
    {"max-io", "BYTES", "largest AIO write, 4K..64K (default 64K)", REPRO_ARG_SIZE, &opt_max_io,
     4096, 64 << 10, NULL},
    {0},
};

enum {
	C_OVERWRITES,
	C_UNWRITTEN_WRITES,
	C_VERIFY_READS,
	C_BLOCKS_VERIFIED,
	C_PUNCHES,
	C_FALLOCATES,
	C_REGION_CHURNS,
	C__MAX
};
static const char *const counters[] = {
    [C_OVERWRITES] = "overwrites",
    [C_UNWRITTEN_WRITES] = "unwritten_writes",
    [C_VERIFY_READS] = "verify_reads",
    [C_BLOCKS_VERIFIED] = "blocks_verified",
    [C_PUNCHES] = "punches",
    [C_FALLOCATES] = "fallocates",
    [C_REGION_CHURNS] = "region_churns",
    NULL,
};

enum role { ROLE_U, ROLE_L, ROLE_F };

static int fd = -1;
static char *path;
static uint64_t file_size, nregions, half_regions;
static uint32_t *shadow; /* expected gen per block; only the owner thread touches its blocks */
static atomic_uint unwritten_inflight;

struct worker {
	unsigned idx;
	enum role role;
	struct repro_rng rng;
	struct repro_aio *aio;
	uint64_t *regions; /* owned region indices */
	unsigned n_regions;
	struct repro_io *ios, *rios;
	struct repro_io **done;
	char *wbuf, *rbuf;
	uint32_t gen;
};
static struct worker *workers;
static unsigned n_workers;

static bool tolerate(int err, const char *what)
{
	return repro_tolerate_enospc(err, "%s on %s", what, path);
}

/* Verify len bytes read from off against the shadow. */
static bool verify_range(const char *buf, uint64_t off, uint64_t len, const char *ctx)
{
	for (uint64_t o = 0; o < len; o += BS) {
		uint64_t b = (off + o) / BS;
		uint32_t g = shadow[b];
		struct repro_block_hdr h;
		enum repro_block_state s;

		if (g == GEN_UNKNOWN)
			continue;
		s = repro_block_check(buf + o, BS, FILE_ID, off + o, &h);
		if (g == NO_GEN ? s == REPRO_BLOCK_ZERO : (s == REPRO_BLOCK_OK && h.gen == g))
			continue;
		_cleanup_free_ char *d =
		    repro_block_describe(buf + o, BS, FILE_ID, off + o, g ? g : UINT64_MAX);
		if (g == NO_GEN)
			repro_anomaly("stale-data",
				      "%s: block at 0x%" PRIx64
				      " must read as zeros (unwritten or punched): %s",
				      ctx, off + o, d ? d : "?");
		else if (s == REPRO_BLOCK_ZERO)
			repro_anomaly("lost-write",
				      "%s: block at 0x%" PRIx64
				      " reads as zeros after an acknowledged write of gen %u: %s",
				      ctx, off + o, g, d ? d : "?");
		else
			repro_anomaly("data-mismatch",
				      "%s: block at 0x%" PRIx64 " expected gen %u: %s", ctx,
				      off + o, g, d ? d : "?");
		return false;
	}
	repro_count(C_BLOCKS_VERIFIED, len / BS);
	return true;
}

/* Read back [off, off+len) ranges with AIO O_DIRECT and verify. */
static bool aio_read_verify(struct worker *w, struct repro_io *const *ios, unsigned n,
			    const char *ctx)
{
	struct repro_io *list[256];
	unsigned got = 0;
	int r;

	for (unsigned i = 0; i < n; i++) {
		struct repro_io *ri = &w->rios[i];

		*ri = (struct repro_io){.fd = fd,
					.write = false,
					.buf = w->rbuf + i * SLOT,
					.len = ios[i]->len,
					.off = ios[i]->off};
		list[i] = ri;
	}
	r = repro_aio_submit(w->aio, list, n);
	if (r < 0)
		return tolerate(-r, "io_submit(read)");
	while (got < (unsigned)r) {
		int k = repro_aio_reap(w->aio, 1, (unsigned)r - got, w->done + got, -1);

		if (k < 0)
			return tolerate(-k, "io_getevents");
		got += (unsigned)k;
	}
	for (unsigned i = 0; i < got; i++) {
		struct repro_io *ri = w->done[i];

		repro_ops(1);
		repro_count(C_VERIFY_READS, 1);
		if (!repro_aio_check(ri, false))
			return false;
		if (!verify_range(ri->buf, (uint64_t)ri->off, ri->len, ctx))
			return false;
	}
	return true;
}

/* Sync O_DIRECT read of a whole region + verify. */
static bool verify_region(struct worker *w, uint64_t reg, const char *ctx)
{
	ssize_t rd = repro_pread_full(fd, w->rbuf, REGION, (off_t)(reg * REGION));

	repro_ops(1);
	repro_count(C_VERIFY_READS, 1);
	if (rd != REGION) {
		if (rd < 0)
			return tolerate((int)-rd, "pread");
		repro_anomaly("short-read", "O_DIRECT read of region %" PRIu64 " returned %zd", reg,
			      rd);
		return false;
	}
	return verify_range(w->rbuf, reg * REGION, REGION, ctx);
}

static void set_shadow(uint64_t off, uint64_t len, uint32_t g)
{
	for (uint64_t b = off / BS; b < (off + len) / BS; b++)
		shadow[b] = g;
}

/* Pick a slot in the worker's regions; for L only slots whose first block is unwritten. */
static bool pick_slot(struct worker *w, uint64_t *off, unsigned char *used)
{
	uint64_t slots_per_region = REGION / SLOT, total = w->n_regions * slots_per_region;

	for (unsigned tries = 0; tries < 4 * total; tries++) {
		uint64_t s = repro_rng_below(&w->rng, total);
		uint64_t o =
		    w->regions[s / slots_per_region] * REGION + (s % slots_per_region) * SLOT;

		if (used[s])
			continue;
		if (w->role == ROLE_L && shadow[o / BS] != NO_GEN)
			continue;
		used[s] = 1;
		*off = o;
		return true;
	}
	return false;
}

static void churn_regions(struct worker *w)
{
	for (unsigned i = 0; i < w->n_regions && repro_running(); i++) {
		uint64_t reg = w->regions[i];

		if (!verify_region(w, reg, "before punch"))
			return;
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(reg * REGION),
			      REGION) < 0) {
			tolerate(errno, "punch hole");
			return;
		}
		repro_count(C_PUNCHES, 1);
		set_shadow(reg * REGION, REGION, NO_GEN);
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)(reg * REGION), REGION) < 0) {
			if (!tolerate(errno, "fallocate"))
				return;
		} else {
			repro_count(C_FALLOCATES, 1);
		}
		repro_ops(2);
		repro_count(C_REGION_CHURNS, 1);
	}
}

static void writer_batch(struct worker *w, unsigned char *used)
{
	struct repro_io *list[256];
	unsigned n = 0, got = 0;
	uint64_t slots_total = w->n_regions * (REGION / SLOT);
	int r;

	memset(used, 0, slots_total);
	w->gen++;
	for (unsigned i = 0; i < opt_depth; i++) {
		uint64_t off, len;
		struct repro_io *io = &w->ios[n];

		if (!pick_slot(w, &off, used))
			break;
		len = BS * (1 + repro_rng_below(&w->rng, opt_max_io / BS));
		if (w->role == ROLE_L) /* stay inside the unwritten run */
			for (uint64_t l = BS; l < len; l += BS)
				if (shadow[(off + l) / BS] != NO_GEN) {
					len = l;
					break;
				}
		*io = (struct repro_io){.fd = fd,
					.write = true,
					.buf = w->wbuf + n * SLOT,
					.len = len,
					.off = (off_t)off};
		repro_blocks_fill(io->buf, BS, len / BS, FILE_ID, w->gen, off, w->role);
		list[n++] = io;
	}
	if (!n) {
		if (w->role == ROLE_L)
			churn_regions(w);
		return;
	}
	if (w->role == ROLE_U && atomic_load(&unwritten_inflight)) {
		repro_race_hit(n);
	}
	if (w->role == ROLE_L)
		atomic_fetch_add(&unwritten_inflight, n);
	/* while in flight the blocks' content is undetermined */
	for (unsigned i = 0; i < n; i++)
		set_shadow((uint64_t)list[i]->off, list[i]->len, GEN_UNKNOWN);
	r = repro_aio_submit(w->aio, list, n);
	if (r < 0) {
		if (w->role == ROLE_L)
			atomic_fetch_sub(&unwritten_inflight, n);
		tolerate(-r, "io_submit");
		return;
	}
	if (w->role == ROLE_L && (unsigned)r < n)
		atomic_fetch_sub(&unwritten_inflight, n - (unsigned)r);
	for (unsigned i = (unsigned)r; i < n; i++) /* not submitted: old content stays */
		set_shadow((uint64_t)list[i]->off, list[i]->len,
			   w->role == ROLE_L ? NO_GEN : GEN_UNKNOWN);
	while (got < (unsigned)r) {
		int k = repro_aio_reap(w->aio, 1, (unsigned)r - got, w->done + got, -1);

		if (k < 0) {
			tolerate(-k, "io_getevents");
			break;
		}
		if (w->role == ROLE_L)
			atomic_fetch_sub(&unwritten_inflight, (unsigned)k);
		got += (unsigned)k;
	}
	n = 0;
	for (unsigned i = 0; i < got; i++) {
		struct repro_io *io = w->done[i];

		repro_ops(1);
		repro_count(w->role == ROLE_U ? C_OVERWRITES : C_UNWRITTEN_WRITES, 1);
		if (repro_aio_check(io, true)) {
			set_shadow((uint64_t)io->off, io->len, w->gen);
			list[n++] = io;
		}
	}
	if (n && repro_running())
		aio_read_verify(w, list, n, w->role == ROLE_U ? "overwrite" : "unwritten write");
}

static void churner(struct worker *w)
{
	uint64_t reg = w->regions[repro_rng_below(&w->rng, w->n_regions)];
	off_t off = (off_t)(reg * REGION);

	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, REGION) < 0) {
		tolerate(errno, "punch hole");
		return;
	}
	repro_count(C_PUNCHES, 1);
	set_shadow(reg * REGION, REGION, NO_GEN);
	if (!verify_region(w, reg, "after punch"))
		return;
	/* a few partial fallocates, then the whole region: extent splits and merges */
	for (unsigned i = 0; i < 4; i++) {
		uint64_t o = repro_rng_below(&w->rng, REGION / BS) * BS;
		uint64_t l = BS * (1 + repro_rng_below(&w->rng, (REGION - o) / BS));

		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, off + (off_t)o, (off_t)l) < 0 &&
		    !tolerate(errno, "fallocate"))
			return;
		repro_count(C_FALLOCATES, 1);
		repro_ops(1);
	}
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, off, REGION) < 0 && !tolerate(errno, "fallocate"))
		return;
	repro_count(C_FALLOCATES, 1);
	repro_ops(2);
	verify_region(w, reg, "after fallocate");
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	_cleanup_free_ unsigned char *used = calloc(w->n_regions ? w->n_regions : 1, REGION / SLOT);

	if (!used)
		return NULL;
	while (repro_next_iteration()) {
		if (w->role == ROLE_F)
			churner(w);
		else
			writer_batch(w, used);
	}
	return NULL;
}

static int setup(void)
{
	_cleanup_free_ char *wbuf = NULL;
	unsigned nw = repro->threads < 2 ? 2 : repro->threads, nu = (nw + 1) / 2, nl = nw - nu;
	uint64_t f_regions;

	file_size = opt_file_size < repro->size / 2 ? opt_file_size : repro->size / 2;
	file_size -= file_size % (2 * REGION);
	nregions = file_size / REGION;
	half_regions = nregions / 2;
	f_regions = half_regions / 8 ? half_regions / 8 : 1;
	if (half_regions < nu || half_regions - f_regions < nl)
		return repro_unsuitable("file of %" PRIu64 " bytes too small for %u threads "
					"(raise --size/--file-size)",
					file_size, nw);

	path = repro_path("racer");
	shadow = calloc(file_size / BS, sizeof(*shadow));
	wbuf = repro_alloc_aligned(REGION);
	if (!path || !shadow || !wbuf)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
	if (fd < 0)
		return repro_unsuitable("open %s: %s", path, strerror(errno));
	/* first half written (gen 1) and synced, second half fallocated (unwritten) */
	for (uint64_t reg = 0; reg < half_regions; reg++) {
		ssize_t w;

		repro_blocks_fill(wbuf, BS, REGION / BS, FILE_ID, 1, reg * REGION, 9);
		w = repro_pwrite_full(fd, wbuf, REGION, (off_t)(reg * REGION));
		if (w != REGION) {
			if (w < 0 && w != -ENOSPC && w != -EIO)
				return repro_unsuitable("writing %s: %s", path, strerror((int)-w));
			repro_anomaly(w == -EIO ? "write-eio" : "short-write",
				      "setup write of region %" PRIu64 " returned %zd", reg, w);
			return -EIO;
		}
		set_shadow(reg * REGION, REGION, 1);
	}
	if (fallocate(fd, 0, (off_t)(half_regions * REGION), (off_t)(file_size / 2)) < 0)
		return repro_unsuitable("fallocate on %s (%s): %s", path, repro->fstype,
					strerror(errno));
	if (fsync(fd) < 0)
		return repro_unsuitable("fsync %s: %s", path, strerror(errno));

	n_workers = nw + 1;
	workers = calloc(n_workers, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	for (unsigned i = 0; i < n_workers; i++) {
		struct worker *w = &workers[i];
		int r;

		w->idx = i;
		w->role = i < nu ? ROLE_U : i < nw ? ROLE_L : ROLE_F;
		w->gen = 1;
		repro_rng_init(&w->rng, i);
		w->regions = calloc(nregions, sizeof(*w->regions));
		w->ios = calloc(opt_depth, sizeof(*w->ios));
		w->rios = calloc(opt_depth, sizeof(*w->rios));
		w->done = calloc(opt_depth, sizeof(*w->done));
		w->wbuf = repro_alloc_aligned(opt_depth * SLOT);
		w->rbuf =
		    repro_alloc_aligned(opt_depth * SLOT > REGION ? opt_depth * SLOT : REGION);
		if (!w->regions || !w->ios || !w->rios || !w->done || !w->wbuf || !w->rbuf)
			return -ENOMEM;
		r = repro_aio_new_or_unsuitable(&w->aio, (unsigned)opt_depth);
		if (r < 0)
			return r;
	}
	/* region ownership */
	for (uint64_t reg = 0; reg < nregions; reg++) {
		struct worker *w;

		if (reg < half_regions)
			w = &workers[reg % nu];
		else if (reg >= nregions - f_regions)
			w = &workers[nw];
		else
			w = &workers[nu + (reg - half_regions) % nl];
		w->regions[w->n_regions++] = reg;
	}
	return 0;
}

static int run(void)
{
	for (unsigned i = 0; i < n_workers; i++) {
		int r = repro_thread_start("worker", worker_main, &workers[i]);

		if (r < 0)
			return r;
	}
	while (repro_running())
		repro_sleep_usec(200000);
	repro_threads_join();
	/* final pass: every region verified once more, quiesced */
	uint64_t t0 = now_usec();

	for (uint64_t reg = 0; reg < nregions && !repro_anomaly_count(); reg++) {
		if (now_usec() - t0 > 800000)
			break; /* bounded: stop within 2 s of the duration */
		verify_region(&workers[0], reg, "final check");
	}
	return 0;
}

static void cleanup(void)
{
	for (unsigned i = 0; workers && i < n_workers; i++) {
		struct worker *w = &workers[i];

		repro_aio_free(w->aio);
		free(w->regions);
		free(w->ios);
		free(w->rios);
		free(w->done);
		free(w->wbuf);
		free(w->rbuf);
	}
	free(workers);
	if (fd >= 0)
		close(fd);
	free(shadow);
	free(path);
}

static const struct repro_test test = {
    .name = "dio-unwritten",
    .summary = "AIO O_DIRECT overwrites + writes into unwritten extents + fallocate/punch-hole "
	       "churn on one file, every block verified (generic/300 in C).",
    .seed = "001_24c4e577b77aa653.txt",
    .common = REPRO_OPT_DURATION | REPRO_OPT_ITERATIONS | REPRO_OPT_THREADS | REPRO_OPT_SIZE |
	      REPRO_OPT_SEED | REPRO_OPT_ENGINE,
    .options = options,
    .counters = counters,
    .race_window = "an overwrite AIO submitted while >= 1 unwritten-extent AIO write on the "
		   "same file was in flight",
    .needs_odirect = true,
    .default_threads = 4,
    .default_size = 256ULL << 20,
    .max_threads = 64,
    .setup = setup,
    .run = run,
    .cleanup = cleanup,
};

int main(int argc, char **argv)
{
	return repro_main(&test, argc, argv);
}
