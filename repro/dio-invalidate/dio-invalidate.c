/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dio-invalidate — AIO O_DIRECT writes of large ranges racing buffered writes, buffered
 * reads and mmap stores to the same ranges (seed 004: 2.6.20, "Kernel BUG at fs/aio.c:509":
 * after ->direct_IO() had queued an AIO write (-EIOCBQUEUED), generic_file_direct_IO()
 * re-invalidated the page cache; when that failed (ext3_releasepage() refused while
 * kjournald held the buffers) it returned -EIO instead, so fs/aio.c completed the iocb now
 * and fs/direct-io.c completed it again at bio end: iocb users < 0).  xfstests generic/208
 * (aio-dio-invalidate-failure) descends from it; this is that shape and more.
 *
 * Why this syscall pattern: the invalidation after a DIO write fails when the range has
 * pages that cannot be dropped: dirty (buffered writes), mapped and dirty in page tables
 * (mmap stores), or pinned by the journal.  So on one file, over the same range:
 *   DIO writers  AIO O_DIRECT writes covering the whole range (--io-size pieces, all in
 *                flight at once), reaped with io_getevents / io_uring,
 *   buffered writer  pwrite() of 1 MiB units over the same range,
 *   mmap writer  whole-block stores through a MAP_SHARED mapping of the range,
 *   reader       buffered pread() of 1 MiB units (readahead pulls pages back in).
 * On a correct kernel a DIO write never fails because of the page cache: -EIO (or any
 * res != nbytes) from an AIO write is an anomaly ("aio-write-eio", "aio-res-mismatch").
 *
 * What is verifiable under legitimate races (and only that is flagged):
 *  - Every 4 KiB block carries (file id, generation, offset, crc32c) and a writer tag
 *    (init, dio, buffered, mmap).  Generations are issued from one counter per tag BEFORE
 *    the data is written, so a block claiming a generation never issued for its tag is
 *    impossible ("impossible-generation").
 *  - The file is fully written before the race starts and nobody writes zeros: a block of
 *    zeros is impossible ("zero-data", stale/unwritten data exposed).
 *  - An intact block at the wrong offset or from another file is impossible
 *    ("misplaced-block").
 *  - Page-cache writers and the reader take a per-MiB lock among themselves (this does not
 *    hide the DIO race, which is what we want), so a torn block seen by the reader can
 *    only come from the DIO race (racing reads of the device, stale page cache): counted
 *    ("torn_reads_live"), not flagged — unless no DIO write touched the unit during the
 *    read (per-unit in-flight count zero and submit/complete epoch unchanged).  Then the
 *    block is re-read: if it differs, read(2) returned bytes the page cache did not hold
 *    ("torn-data").  A torn block that persists (in the page cache, or on disk after the
 *    race) is legitimate only if it is a byte-wise splice of a DIO block and another legal
 *    block (ext4 falls back to a buffered write when the pre-DIO invalidation fails, and
 *    that copy races the mmap stores; device reads/writeback race DIO writes): counted as
 *    "torn_spliced".  A persistent torn page-cache block that is no such splice is
 *    tolerated only after the kernel reported a page-cache invalidation failure on the
 *    file (EIO from fdatasync of a probe fd: its documented "possible data corruption"),
 *    counted as "torn_after_stale_report"; anything else is "torn-data".
 *  - After the race has stopped (msync, fsync) every block ON DISK (O_DIRECT read) must be
 *    an intact block of a legal generation or such a splice, else "torn-data" / the names
 *    above.  Page-cache blocks that differ from the disk after
 *    fsync are counted ("stale_cache_blocks": the kernel's "Page cache invalidation failure
 *    on direct I/O" case, expected on stock kernels; the kernel then also makes the next
 *    msync/fsync return EIO, which is counted in "errors", not flagged).
 *
 * Race-window hit: a buffered write or mmap store to a 1 MiB unit while >= 1 AIO O_DIRECT
 * write covering that unit was in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "repro.h"

#define BS	4096u
#define UNIT	(1u << 20)
#define FILE_ID 0x0400u

enum { TAG_INIT = 1, TAG_DIO, TAG_BUF, TAG_MMAP, TAG__MAX };
static const char *const tag_names[TAG__MAX] = {"?", "init", "dio", "buffered", "mmap"};

static uint64_t opt_range = 32 << 20;
static uint64_t opt_io_size = 4 << 20;
static bool opt_no_mmap;

static const struct repro_option options[] = {
    {"range", "BYTES", "size of the contended range (default 32M, capped by --size/2)",
     REPRO_ARG_SIZE, &opt_range, 1 << 20, 1ULL << 32, NULL},
    {"io-size", "BYTES", "size of one AIO O_DIRECT write, MiB multiple (default 4M)",
     REPRO_ARG_SIZE, &opt_io_size, 1 << 20, 64 << 20, NULL},
    {"no-mmap", NULL, "do not run the mmap writer", REPRO_ARG_FLAG, &opt_no_mmap, 0, 0, NULL},
    {0},
};

enum {
	C_DIO_WRITES,
	C_DIO_ROUNDS,
	C_BUF_WRITES,
	C_MMAP_STORES,
	C_BUF_READS,
	C_READS_OVERLAPPING_DIO,
	C_TORN_READS_LIVE,
	C_TORN_SPLICED,
	C_TORN_AFTER_STALE,
	C_BLOCKS_VERIFIED,
	C_STALE_CACHE_BLOCKS,
	C__MAX
};
static const char *const counters[] = {
    [C_DIO_WRITES] = "dio_writes",
    [C_DIO_ROUNDS] = "dio_rounds",
    [C_BUF_WRITES] = "buffered_writes",
    [C_MMAP_STORES] = "mmap_stores",
    [C_BUF_READS] = "buffered_reads",
    [C_READS_OVERLAPPING_DIO] = "reads_overlapping_dio",
    [C_TORN_READS_LIVE] = "torn_reads_live",
    [C_TORN_SPLICED] = "torn_spliced",
    [C_TORN_AFTER_STALE] = "torn_after_stale_report",
    [C_BLOCKS_VERIFIED] = "blocks_verified",
    [C_STALE_CACHE_BLOCKS] = "stale_cache_blocks",
    NULL,
};

static char *path;
static int dfd = -1, bfd = -1;
static char *map;
static uint64_t range, nunits;
static atomic_uint *dio_inflight;	/* per unit */
static atomic_uint_fast64_t *dio_epoch; /* per unit: bumped at DIO submit and completion */
static pthread_mutex_t *unit_lock;
static atomic_uint_fast64_t max_gen[TAG__MAX];

struct dio_writer {
	unsigned idx;
	struct repro_aio *aio;
	char *buf;
	struct repro_io *ios;
	struct repro_io **done;
};
static struct dio_writer *dws;
static unsigned n_dws;

static bool tolerate(int err, const char *what)
{
	return repro_tolerate_enospc(err, "%s on %s", what, path);
}

static void tolerate_wb_err(int err, const char *what)
{
	if (err == EIO)
		repro_errno(EIO);
	else
		tolerate(err, what);
}

static uint64_t issue_gen(unsigned tag)
{
	return atomic_fetch_add(&max_gen[tag], 1) + 1;
}

/*
 * Is the torn block b a byte-wise splice of two legal blocks for this offset, one of them
 * written by a DIO writer?  That is what the legitimate races produce: a page-cache copy
 * racing ext4's DIO->buffered fallback (-ENOTBLK when the pre-write invalidation fails), a
 * buffered read of the device racing a DIO write, writeback racing a DIO write.  A random
 * corruption (a flipped byte, garbage) is not such a splice.  Candidates: every issued
 * (tag, generation); rare event, so brute force (tens of ms).
 */
static bool explain_splice(const char *b, uint64_t off, char **why)
{
	_cleanup_free_ unsigned char *cand = malloc(BS);
	_cleanup_free_ unsigned char *rest = calloc(BS, 1); /* 1 = byte not explained by A */
	unsigned best = 0, best_tag = 0;
	uint64_t best_gen = 0, maxg[TAG__MAX];

	if (!cand || !rest)
		return false;
	for (unsigned t = TAG_INIT; t < TAG__MAX; t++)
		maxg[t] = atomic_load(&max_gen[t]);
	for (unsigned t = TAG_INIT; t < TAG__MAX; t++)
		for (uint64_t g = 1; g <= maxg[t]; g++) {
			unsigned m = 0;

			repro_block_fill(cand, BS, FILE_ID, g, off, t);
			for (unsigned i = 0; i < BS; i++)
				m += cand[i] == (unsigned char)b[i];
			if (m > best) {
				best = m;
				best_tag = t;
				best_gen = g;
			}
		}
	if (!best_tag || best == BS)
		return false;
	/* the other block must cover the whole span [lo, hi] where b differs from A, and the
	 * span must be long enough that a chance match is impossible (a flipped byte is not
	 * a splice) */
	repro_block_fill(cand, BS, FILE_ID, best_gen, off, best_tag);
	unsigned lo = BS, hi = 0;
	for (unsigned i = 0; i < BS; i++)
		if (cand[i] != (unsigned char)b[i]) {
			lo = i < lo ? i : lo;
			hi = i;
		}
	if (why)
		*why = strdupf("closest legal block %s gen %" PRIu64 " differs in [%u, %u]",
			       tag_names[best_tag], best_gen, lo, hi);
	if (lo > hi || hi - lo + 1 < 16)
		return false;
	for (unsigned i = lo; i <= hi; i++)
		rest[i] = 1;
	for (unsigned t = TAG_INIT; t < TAG__MAX; t++) {
		if (t != TAG_DIO && best_tag != TAG_DIO)
			continue;
		for (uint64_t g = 1; g <= maxg[t]; g++) {
			unsigned i;

			if (t == best_tag && g == best_gen)
				continue;
			repro_block_fill(cand, BS, FILE_ID, g, off, t);
			for (i = 0; i < BS; i++)
				if (rest[i] && cand[i] != (unsigned char)b[i])
					break;
			if (i == BS)
				return true;
		}
	}
	if (why) { /* diagnostics: which non-DIO block would complete the splice? */
		for (unsigned t = TAG_INIT; t < TAG__MAX; t++)
			for (uint64_t g = 1; g <= maxg[t]; g++) {
				unsigned i;

				repro_block_fill(cand, BS, FILE_ID, g, off, t);
				for (i = lo; i <= hi; i++)
					if (cand[i] != (unsigned char)b[i])
						break;
				if (i > hi) {
					char *w = strdupf("%s; span matches %s gen %" PRIu64,
							  *why ? *why : "", tag_names[t], g);
					free(*why);
					*why = w;
					return false;
				}
			}
	}
	return false;
}

/* Verify one block against what is possible.  live: torn blocks are only counted. */
static bool check_block(const char *b, uint64_t off, bool live, const char *ctx)
{
	struct repro_block_hdr h;
	enum repro_block_state s = repro_block_check(b, BS, FILE_ID, off, &h);
	_cleanup_free_ char *d = NULL;

	switch (s) {
	case REPRO_BLOCK_OK:
		if (h.tag > 0 && h.tag < TAG__MAX && h.gen >= 1 &&
		    h.gen <= atomic_load(&max_gen[h.tag]))
			return true;
		d = repro_block_describe(b, BS, FILE_ID, off, UINT64_MAX);
		repro_anomaly("impossible-generation",
			      "%s: block at 0x%" PRIx64 " claims %s generation %" PRIu64
			      " but only %" PRIu64 " were issued: %s",
			      ctx, off, h.tag < TAG__MAX ? tag_names[h.tag] : "unknown-tag", h.gen,
			      h.tag < TAG__MAX ? (uint64_t)atomic_load(&max_gen[h.tag]) : 0,
			      d ? d : "?");
		return false;
	case REPRO_BLOCK_ZERO:
		repro_anomaly("zero-data",
			      "%s: block at 0x%" PRIx64 " reads as zeros in a fully written file",
			      ctx, off);
		return false;
	case REPRO_BLOCK_WRONG_FILE:
	case REPRO_BLOCK_WRONG_OFFSET:
	case REPRO_BLOCK_WRONG_SIZE:
		d = repro_block_describe(b, BS, FILE_ID, off, UINT64_MAX);
		repro_anomaly("misplaced-block", "%s: %s", ctx, d ? d : "?");
		return false;
	case REPRO_BLOCK_GARBAGE:
	case REPRO_BLOCK_BAD_CRC:
		if (live) {
			repro_count(C_TORN_READS_LIVE, 1);
			return true;
		}
		{
			_cleanup_free_ char *why = NULL;

			if (explain_splice(b, off, &why)) {
				repro_count(C_TORN_SPLICED, 1);
				return true;
			}
			d = repro_block_describe(b, BS, FILE_ID, off, UINT64_MAX);
			repro_anomaly(
			    "torn-data",
			    "%s: not a splice of a DIO block with another legal block: %s (%s)",
			    ctx, d ? d : "?", why ? why : "");
		}
		return false;
	}
	return false;
}

/* A DIO write of opt_io_size at off is submitted (+1) or completed (-1). */
static void dio_mark(off_t off, int delta)
{
	for (uint64_t u = (uint64_t)off / UNIT; u < ((uint64_t)off + opt_io_size) / UNIT; u++) {
		atomic_fetch_add(&dio_epoch[u], 1);
		if (delta > 0)
			atomic_fetch_add(&dio_inflight[u], 1);
		else
			atomic_fetch_sub(&dio_inflight[u], 1);
	}
}

static void *dio_main(void *arg)
{
	struct dio_writer *w = arg;
	unsigned n = (unsigned)(range / opt_io_size);
	struct repro_io *list[64];

	while (repro_next_iteration()) {
		uint64_t g = issue_gen(TAG_DIO);
		unsigned got = 0;
		int r;

		for (unsigned i = 0; i < n; i++) {
			struct repro_io *io = &w->ios[i];

			*io = (struct repro_io){.fd = dfd,
						.write = true,
						.buf = w->buf + i * opt_io_size,
						.len = opt_io_size,
						.off = (off_t)(i * opt_io_size)};
			repro_blocks_fill(io->buf, BS, opt_io_size / BS, FILE_ID, g, io->off,
					  TAG_DIO);
			list[i] = io;
			dio_mark(io->off, 1);
		}
		r = repro_aio_submit(w->aio, list, n);
		if (r < 0)
			r = 0;
		for (unsigned i = (unsigned)r; i < n; i++)
			dio_mark(list[i]->off, -1);
		while (got < (unsigned)r) {
			int k = repro_aio_reap(w->aio, 1, (unsigned)r - got, w->done + got, -1);

			if (k < 0) {
				tolerate(-k, "io_getevents");
				break;
			}
			for (int i = 0; i < k; i++) {
				struct repro_io *io = w->done[got + (unsigned)i];

				dio_mark(io->off, -1);
				repro_ops(1);
				repro_count(C_DIO_WRITES, 1);
				repro_aio_check(io, true);
			}
			got += (unsigned)k;
		}
		repro_count(C_DIO_ROUNDS, 1);
	}
	return NULL;
}

static bool unit_has_dio(uint64_t u)
{
	return atomic_load(&dio_inflight[u]) > 0;
}

static void *buf_writer_main(void *arg)
{
	_cleanup_free_ char *buf = malloc(UNIT);
	struct repro_rng rng;

	(void)arg;
	if (!buf)
		return NULL;
	repro_rng_init(&rng, 1001);
	while (repro_running()) {
		uint64_t u = repro_rng_below(&rng, nunits), g = issue_gen(TAG_BUF);
		ssize_t wr;

		repro_blocks_fill(buf, BS, UNIT / BS, FILE_ID, g, u * UNIT, TAG_BUF);
		pthread_mutex_lock(&unit_lock[u]);
		if (unit_has_dio(u))
			repro_race_hit(1);
		wr = repro_pwrite_full(bfd, buf, UNIT, (off_t)(u * UNIT));
		pthread_mutex_unlock(&unit_lock[u]);
		repro_ops(1);
		repro_count(C_BUF_WRITES, 1);
		if (wr != UNIT) {
			if (wr < 0 && tolerate((int)-wr, "buffered pwrite"))
				continue;
			if (wr < 0)
				break;
			repro_anomaly("short-write",
				      "buffered pwrite of 1 MiB at %" PRIu64 " returned %zd",
				      u * UNIT, wr);
			break;
		}
	}
	return NULL;
}

static void *mmap_writer_main(void *arg)
{
	char blk[BS];
	struct repro_rng rng;

	(void)arg;
	repro_rng_init(&rng, 1002);
	while (repro_running()) {
		uint64_t u = repro_rng_below(&rng, nunits), g = issue_gen(TAG_MMAP);

		pthread_mutex_lock(&unit_lock[u]);
		if (unit_has_dio(u))
			repro_race_hit(1);
		/* one whole-block store per 64 KiB of the unit: dirty PTEs across it */
		for (uint64_t o = 0; o < UNIT; o += 64 << 10) {
			uint64_t off = u * UNIT + o + BS * repro_rng_below(&rng, (64 << 10) / BS);

			repro_block_fill(blk, BS, FILE_ID, g, off, TAG_MMAP);
			memcpy(map + off, blk, BS);
		}
		pthread_mutex_unlock(&unit_lock[u]);
		repro_ops(1);
		repro_count(C_MMAP_STORES, 1);
	}
	return NULL;
}

/* Has the kernel reported a page-cache invalidation failure on this file since setup?
 * dio_warn_stale_pagecache() sets the mapping's wb_err; fdatasync() of a probe fd opened at
 * setup returns EIO once that happened (sticky here: errseq reports it once per fd). */
static int probe_fd = -1;
static bool stale_reported, reported_torn_after_stale;
static bool kernel_reported_stale(void)
{
	if (!stale_reported && probe_fd >= 0 && fdatasync(probe_fd) < 0 && errno == EIO)
		stale_reported = true;
	return stale_reported;
}

/* A torn block in a read no DIO write touched (the unit lock is held, epoch e0).  Re-read it:
 * different now -> read(2) returned bytes the page cache did not hold: impossible.  Same ->
 * a torn page sits in the page cache: legitimate only as a splice made by an earlier DIO
 * race (see explain_splice()), else impossible. */
static bool torn_strict(const char *b, uint64_t u, uint64_t off, uint64_t e0)
{
	char again[BS];
	ssize_t rd = pread(bfd, again, BS, (off_t)off);
	_cleanup_free_ char *d = NULL;

	if (atomic_load(&dio_epoch[u]) != e0 || rd != BS) {
		repro_count(C_TORN_READS_LIVE, 1);
		return true;
	}
	if (memcmp(again, b, BS)) {
		d = repro_block_describe(b, BS, FILE_ID, off, UINT64_MAX);
		repro_anomaly("torn-data",
			      "buffered read with no DIO on the unit returned a torn block that a "
			      "re-read does not show: %s",
			      d ? d : "?");
		return false;
	}
	_cleanup_free_ char *why = NULL;
	if (explain_splice(b, off, &why)) {
		repro_count(C_TORN_SPLICED, 1);
		return true;
	}
	if (kernel_reported_stale()) {
		/* the kernel said "Possible data corruption due to collision with buffered
		 * I/O" for this file: its page cache is no longer guaranteed (counted) */
		repro_count(C_TORN_AFTER_STALE, 1);
		if (!reported_torn_after_stale) {
			reported_torn_after_stale = true;
			d = repro_block_describe(b, BS, FILE_ID, off, UINT64_MAX);
			fprintf(stderr,
				"dio-invalidate: note: torn page-cache block after a reported "
				"invalidation failure: %s (%s)\n",
				d ? d : "?", why ? why : "");
		}
		return true;
	}
	d = repro_block_describe(b, BS, FILE_ID, off, UINT64_MAX);
	repro_anomaly("torn-data",
		      "torn block persists in the page cache with no DIO on the unit, and it is "
		      "not a splice of a DIO block with another legal block: %s (%s)",
		      d ? d : "?", why ? why : "");
	return false;
}

static void *reader_main(void *arg)
{
	_cleanup_free_ char *buf = malloc(UNIT);
	struct repro_rng rng;

	(void)arg;
	if (!buf)
		return NULL;
	repro_rng_init(&rng, 1003);
	while (repro_running()) {
		uint64_t u = repro_rng_below(&rng, nunits), e0;
		bool strict, ok = true;
		ssize_t rd;

		/* the lock is held through verification: no buffered/mmap writer in the unit */
		pthread_mutex_lock(&unit_lock[u]);
		e0 = atomic_load(&dio_epoch[u]);
		strict = !unit_has_dio(u);
		rd = pread(bfd, buf, UNIT, (off_t)(u * UNIT));
		if (rd < 0)
			rd = -errno;
		/* no DIO touched the unit during the read: torn data cannot be the DIO race, so
		 * this read is verified strictly (and is where the test-only flip-read applies) */
		strict = strict && atomic_load(&dio_epoch[u]) == e0;
		if (!strict)
			repro_count(C_READS_OVERLAPPING_DIO, 1);
		else if (rd > 0)
			repro_fault_read(buf, (size_t)rd);
		repro_ops(1);
		repro_count(C_BUF_READS, 1);
		if (rd != UNIT) {
			pthread_mutex_unlock(&unit_lock[u]);
			if (rd < 0)
				tolerate((int)-rd, "buffered pread");
			else
				repro_anomaly("short-read",
					      "buffered pread of 1 MiB at %" PRIu64 " returned %zd",
					      u * UNIT, rd);
			break;
		}
		for (uint64_t o = 0; o < UNIT && ok; o += BS) {
			enum repro_block_state st =
			    repro_block_check(buf + o, BS, FILE_ID, u * UNIT + o, NULL);

			if (strict && (st == REPRO_BLOCK_GARBAGE || st == REPRO_BLOCK_BAD_CRC))
				ok = torn_strict(buf + o, u, u * UNIT + o, e0);
			else
				ok = check_block(buf + o, u * UNIT + o, !strict,
						 strict ? "buffered read, no DIO on the unit"
							: "buffered read racing DIO");
		}
		pthread_mutex_unlock(&unit_lock[u]);
		repro_count(C_BLOCKS_VERIFIED, UNIT / BS);
	}
	return NULL;
}

/* After the race: what is on disk must be intact and legal; count page-cache divergence. */
static void final_check(void)
{
	_cleanup_free_ char *dbuf = repro_alloc_aligned(UNIT), *cbuf = malloc(UNIT);
	uint64_t t0 = now_usec();

	if (!dbuf || !cbuf)
		return;
	/* EIO here is the kernel's own report of a page-cache invalidation failure
	 * (dio_warn_stale_pagecache() sets the mapping's wb_err): counted, not an anomaly. */
	if (map && msync(map, range, MS_SYNC) < 0)
		tolerate_wb_err(errno, "msync");
	if (fsync(bfd) < 0)
		tolerate_wb_err(errno, "fsync");
	for (uint64_t u = 0; u < nunits && !repro_anomaly_count(); u++) {
		ssize_t rd;

		if (now_usec() - t0 > 900000)
			break; /* bounded: stop within 2 s of the duration */
		rd = repro_pread_full(dfd, dbuf, UNIT, (off_t)(u * UNIT));
		repro_ops(1);
		if (rd != UNIT) {
			if (rd < 0)
				tolerate((int)-rd, "O_DIRECT pread");
			else
				repro_anomaly("short-read",
					      "O_DIRECT pread at %" PRIu64 " returned %zd",
					      u * UNIT, rd);
			return;
		}
		for (uint64_t o = 0; o < UNIT; o += BS)
			if (!check_block(dbuf + o, u * UNIT + o, false, "on disk after the race"))
				return;
		repro_count(C_BLOCKS_VERIFIED, UNIT / BS);
		rd = pread(bfd, cbuf, UNIT, (off_t)(u * UNIT));
		if (rd == UNIT)
			for (uint64_t o = 0; o < UNIT; o += BS)
				if (memcmp(cbuf + o, dbuf + o, BS))
					repro_count(C_STALE_CACHE_BLOCKS, 1);
	}
}

static int setup(void)
{
	_cleanup_free_ char *buf = NULL;

	if (opt_io_size % UNIT)
		return repro_unsuitable("--io-size must be a multiple of 1M");
	range = opt_range < repro->size / 2 ? opt_range : repro->size / 2;
	range -= range % opt_io_size;
	if (range < opt_io_size || range / opt_io_size > 64)
		return repro_unsuitable("--range must hold 1..64 --io-size pieces within --size/2");
	nunits = range / UNIT;

	path = repro_path("target");
	buf = repro_alloc_aligned(UNIT);
	dio_inflight = calloc(nunits, sizeof(*dio_inflight));
	dio_epoch = calloc(nunits, sizeof(*dio_epoch));
	unit_lock = calloc(nunits, sizeof(*unit_lock));
	if (!path || !buf || !dio_inflight || !dio_epoch || !unit_lock)
		return -ENOMEM;
	for (uint64_t u = 0; u < nunits; u++)
		pthread_mutex_init(&unit_lock[u], NULL);

	dfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
	if (dfd < 0)
		return repro_unsuitable("open %s O_DIRECT: %s", path, strerror(errno));
	bfd = open(path, O_RDWR | O_CLOEXEC);
	if (bfd >= 0)
		probe_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (bfd >= 0 && probe_fd < 0)
		return repro_unsuitable("open %s: %s", path, strerror(errno));
	if (bfd < 0)
		return repro_unsuitable("open %s: %s", path, strerror(errno));
	atomic_store(&max_gen[TAG_INIT], 1);
	for (uint64_t u = 0; u < nunits; u++) {
		ssize_t w;

		repro_blocks_fill(buf, BS, UNIT / BS, FILE_ID, 1, u * UNIT, TAG_INIT);
		w = repro_pwrite_full(dfd, buf, UNIT, (off_t)(u * UNIT));
		if (w != UNIT) {
			if (w < 0 && w != -EIO)
				return repro_unsuitable("writing %s: %s", path, strerror((int)-w));
			repro_anomaly(w == -EIO ? "write-eio" : "short-write",
				      "setup write at %" PRIu64 " returned %zd", u * UNIT, w);
			return -EIO;
		}
	}
	if (fsync(dfd) < 0)
		return repro_unsuitable("fsync %s: %s", path, strerror(errno));
	if (!opt_no_mmap) {
		map = mmap(NULL, range, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
		if (map == MAP_FAILED) {
			map = NULL;
			return repro_unsuitable("mmap %s: %s", path, strerror(errno));
		}
	}

	n_dws = repro->threads;
	dws = calloc(n_dws, sizeof(*dws));
	if (!dws)
		return -ENOMEM;
	for (unsigned i = 0; i < n_dws; i++) {
		unsigned depth = (unsigned)(range / opt_io_size);
		int r;

		dws[i].idx = i;
		dws[i].buf = repro_alloc_aligned(range);
		dws[i].ios = calloc(depth, sizeof(*dws[i].ios));
		dws[i].done = calloc(depth, sizeof(*dws[i].done));
		if (!dws[i].buf || !dws[i].ios || !dws[i].done)
			return -ENOMEM;
		r = repro_aio_new_or_unsuitable(&dws[i].aio, depth);
		if (r < 0)
			return r;
	}
	return 0;
}

static int run(void)
{
	int r;

	for (unsigned i = 0; i < n_dws; i++)
		if ((r = repro_thread_start("dio", dio_main, &dws[i])) < 0)
			return r;
	if ((r = repro_thread_start("buffered", buf_writer_main, NULL)) < 0)
		return r;
	if (map && (r = repro_thread_start("mmap", mmap_writer_main, NULL)) < 0)
		return r;
	if ((r = repro_thread_start("reader", reader_main, NULL)) < 0)
		return r;
	while (repro_running())
		repro_sleep_usec(200000);
	repro_threads_join();
	final_check();
	return 0;
}

static void cleanup(void)
{
	for (unsigned i = 0; dws && i < n_dws; i++) {
		repro_aio_free(dws[i].aio);
		free(dws[i].buf);
		free(dws[i].ios);
		free(dws[i].done);
	}
	free(dws);
	if (map)
		munmap(map, range);
	if (dfd >= 0)
		close(dfd);
	if (bfd >= 0)
		close(bfd);
	if (probe_fd >= 0)
		close(probe_fd);
	for (uint64_t u = 0; unit_lock && u < nunits; u++)
		pthread_mutex_destroy(&unit_lock[u]);
	free(unit_lock);
	free(dio_inflight);
	free(dio_epoch);
	free(path);
}

static const struct repro_test test = {
    .name = "dio-invalidate",
    .summary = "AIO O_DIRECT writes of large ranges racing buffered writes, buffered reads and "
	       "mmap stores to the same ranges (generic/208 and more).",
    .seed = "004_ef5d9ec70bccdd58.txt",
    .common = REPRO_OPT_DURATION | REPRO_OPT_ITERATIONS | REPRO_OPT_THREADS | REPRO_OPT_SIZE |
	      REPRO_OPT_SEED | REPRO_OPT_ENGINE,
    .options = options,
    .counters = counters,
    .race_window = "a buffered write or mmap store to a 1 MiB unit while >= 1 AIO O_DIRECT "
		   "write covering it was in flight",
    .needs_odirect = true,
    .default_threads = 1,
    .default_size = 256ULL << 20,
    .max_threads = 8,
    .setup = setup,
    .run = run,
    .cleanup = cleanup,
};

int main(int argc, char **argv)
{
	return repro_main(&test, argc, argv);
}
