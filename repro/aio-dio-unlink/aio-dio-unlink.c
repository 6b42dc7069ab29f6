/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio-dio-unlink — drop the last reference of a file while the kernel still has I/O to do
 * for it (seed 000: ext4 io_end igrab() on an inode being freed, RHEL 2.6.32-279,
 * `BUG in iput <- ext4_free_io_end <- ext4_end_aio_dio_work`, fixed upstream by f7ad6d2e9201).
 *
 * The bug: ext4 pinned the inode of every io_end with igrab() and dropped it with iput()
 * when the io_end was freed in the completion worker.  igrab() silently fails on an inode
 * that is already I_FREEING (unlinked, last reference gone), so the later iput() dropped a
 * reference that was never taken and hit BUG_ON(I_CLEAR).  Two ways to get an io_end for
 * an inode whose last reference is going away:
 *
 *  aio variant (the seed's explanation): O_DIRECT AIO writes into fallocated (unwritten)
 *    and already written ranges of a file, many iocbs in flight, then unlink() + close()
 *    before the completions are reaped, io_getevents() afterwards.  Unwritten extents need
 *    conversion in the completion worker, which is where the RHEL kernel did the iput().
 *    Half of the iterations keep the fd open after unlink(), reap, read the file back with
 *    O_DIRECT and verify every block (the unlinked inode must still be consistent).
 *
 *  writeback variant (what `stress --hdd` really does): buffered writes, then the last
 *    reference dropped while jbd2 commits a transaction in which ext4 allocated blocks of
 *    the file, with a dirty page left (the upstream 2.6.37 trace: ext4_evict_inode ->
 *    jbd2_journal_begin_ordered_truncate -> writeback of an I_FREEING inode).  That
 *    function writes back only when the inode's jbd2 transaction is the committing one
 *    and the commit has not yet finished waiting for ordered data, a window user space
 *    cannot see.  So right before each drop the file gets blocks appended and allocated
 *    one at a time (sync_file_range) for two typical commits: whichever transaction is
 *    committing at the drop then has the inode on it.  One more block is left dirty (the
 *    seed's `stress --io`, sync() in a loop, writes back every other dirty page).  A
 *    round drops several files: unlink + close of new files, or rename() of new files
 *    over the previous round's, which are read back and verified first.  A commit-kicker
 *    thread (fsync of a small file, every 8th time syncfs) keeps jbd2 committing and
 *    measures how long a commit takes.  On 6.1 this path is reachable only on ext4
 *    mounted nodioread_nolock (with dioread_nolock nothing goes on the ordered list).
 *
 * Race-window hits: unlink()/close() calls made while >= 1 AIO write of that file was still
 * in flight (a non-blocking reap just before the call did not return it), plus writeback
 * last-reference drops done while the commit kicker was inside fsync()/syncfs().
 * Anomalies: any AIO completion with res != nbytes (-EIO named "aio-write-eio"), a block
 * that does not verify ("data-mismatch"), an errno that must not happen ("unexpected-errno").
 * ENOSPC is tolerated and counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repro.h"

#define BS 4096u

static uint64_t opt_depth = 32;
static uint64_t opt_io_size = 64 << 10;
static uint64_t opt_file_size = 4 << 20;
static uint64_t opt_wb_size = 4 << 20;
static uint64_t opt_wb_files = 8;
static const char *opt_mode = "both";
static const char *opt_kicker = "fsync";
static const char *const modes[] = {"both", "aio", "writeback", NULL};
static const char *const kickers[] = {"fsync", "syncfs", "none", NULL};

static const struct repro_option options[] = {
    {"mode", "MODE", "both (default), aio or writeback", REPRO_ARG_CHOICE, &opt_mode, 0, 0, modes},
    {"depth", "N", "AIO writes in flight per file (default 32)", REPRO_ARG_U64, &opt_depth, 1, 1024,
     NULL},
    {"io-size", "BYTES", "size of one AIO write, multiple of 4K (default 64K)", REPRO_ARG_SIZE,
     &opt_io_size, 4096, 8 << 20, NULL},
    {"file-size", "BYTES", "size of each AIO file (default 4M)", REPRO_ARG_SIZE, &opt_file_size,
     64 << 10, 1ULL << 30, NULL},
    {"wb-size", "BYTES", "buffered bytes per writeback round (default 4M)", REPRO_ARG_SIZE,
     &opt_wb_size, 64 << 10, 1ULL << 30, NULL},
    {"wb-files", "N", "files per writeback round, each prepared and dropped in turn (default 8)",
     REPRO_ARG_U64, &opt_wb_files, 1, 64, NULL},
    {"kicker", "KIND", "commit kicker: fsync (default), syncfs or none", REPRO_ARG_CHOICE,
     &opt_kicker, 0, 0, kickers},
    {0},
};

enum {
	C_AIO_WRITES,
	C_AIO_ITERATIONS,
	C_UNLINKS_INFLIGHT,
	C_CLOSES_INFLIGHT,
	C_WB_ITERATIONS,
	C_WB_UNLINK_CLOSE,
	C_WB_RENAME_OVER,
	C_WB_LASTREF_IN_COMMIT,
	C_KICKER_COMMITS,
	C_BLOCKS_VERIFIED,
	C__MAX
};
static const char *const counters[] = {
    [C_AIO_WRITES] = "aio_writes",
    [C_AIO_ITERATIONS] = "aio_iterations",
    [C_UNLINKS_INFLIGHT] = "unlinks_inflight",
    [C_CLOSES_INFLIGHT] = "closes_inflight",
    [C_WB_ITERATIONS] = "wb_iterations",
    [C_WB_UNLINK_CLOSE] = "wb_unlink_close",
    [C_WB_RENAME_OVER] = "wb_rename_over",
    [C_WB_LASTREF_IN_COMMIT] = "wb_lastref_in_commit",
    [C_KICKER_COMMITS] = "kicker_commits",
    [C_BLOCKS_VERIFIED] = "blocks_verified",
    NULL,
};

static atomic_bool in_commit;
static uint64_t file_size;
static uint64_t wb_file_size; /* bytes of each writeback file as written */
static uint64_t wb_arm_len;   /* at most that many bytes allocated right before a drop */

/* the kicker's fsync() time in µs (moving average): how long a commit takes here */
static _Atomic uint64_t commit_usec_avg;

/* An errno from a syscall: ENOSPC is tolerated (counted), anything else is an anomaly. */
static bool tolerate(int err, const char *what, const char *path)
{
	if (err == ENOSPC || err == EDQUOT) {
		repro_errno(err);
		return true;
	}
	repro_anomaly("unexpected-errno", "%s %s: %s", what, path, strerror(err));
	return false;
}

struct worker {
	unsigned idx;
	struct repro_rng rng;
	struct repro_aio *aio;
	struct repro_io *ios;
	struct repro_io **done;
	char *buf;	    /* opt_depth * opt_io_size */
	char *rbuf;	    /* file_size (verification) */
	char *wbbuf;	    /* 1 MiB */
	uint64_t *slot_gen; /* per io slot, expected generation after an AIO round (0 = hole) */
	int *wb_fds;	    /* opt_wb_files: the new files of a round */
	uint64_t *final_id; /* per writeback slot: the file now at wb.W.I.final (0: none) */
};

static bool verify_blocks(const char *what, const char *buf, uint64_t len, uint64_t file_id,
			  uint64_t off0, const uint64_t *expect_gen, uint64_t gen_granule)
{
	for (uint64_t o = 0; o < len; o += BS) {
		uint64_t g = expect_gen ? expect_gen[o / gen_granule] : 1;
		struct repro_block_hdr h;
		enum repro_block_state s = repro_block_check(buf + o, BS, file_id, off0 + o, &h);
		bool ok = g ? (s == REPRO_BLOCK_OK && h.gen == g) : s == REPRO_BLOCK_ZERO;

		if (!ok) {
			_cleanup_free_ char *d = repro_block_describe(buf + o, BS, file_id,
								      off0 + o, g ? g : UINT64_MAX);

			repro_anomaly("data-mismatch", "%s: expected %s, got %s", what,
				      g ? "our block" : "zeros (unwritten)", d ? d : "?");
			return false;
		}
	}
	repro_count(C_BLOCKS_VERIFIED, len / BS);
	return true;
}

/* One AIO round on a fresh file. */
static void aio_round(struct worker *w, uint64_t iter)
{
	_cleanup_free_ char *path = repro_path("aio.%u", w->idx);
	uint64_t file_id = ((uint64_t)(w->idx + 1) << 40) | iter;
	uint64_t nslots = file_size / opt_io_size, head = nslots / 4, depth = opt_depth;
	bool keep_fd = iter & 1;
	unsigned n = 0;
	int fd, r;

	if (!path)
		return;
	if (depth > nslots)
		depth = nslots;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
	if (fd < 0) {
		tolerate(errno, "open", path);
		return;
	}
	/* unwritten extents for the whole file, then a written head (gen 1) */
	if (fallocate(fd, 0, 0, (off_t)file_size) < 0) {
		tolerate(errno, "fallocate", path);
		goto out_unlink;
	}
	memset(w->slot_gen, 0, nslots * sizeof(*w->slot_gen));
	for (uint64_t s = 0; s < head; s++) {
		ssize_t wr;

		repro_blocks_fill(w->buf, BS, opt_io_size / BS, file_id, 1, s * opt_io_size, 0);
		wr = repro_pwrite_full(fd, w->buf, opt_io_size, (off_t)(s * opt_io_size));
		repro_ops(1);
		if (wr != (ssize_t)opt_io_size) {
			if (wr < 0 && tolerate((int)-wr, "pwrite", path))
				goto out_unlink;
			if (wr >= 0)
				repro_anomaly("short-write",
					      "O_DIRECT pwrite of %" PRIu64 " bytes at %" PRIu64
					      " on %s returned %zd",
					      opt_io_size, s * opt_io_size, path, wr);
			goto out_unlink;
		}
		w->slot_gen[s] = 1;
	}

	/* depth AIO writes (gen 2) to distinct random slots: written head and unwritten rest */
	for (uint64_t i = 0; i < depth; i++) {
		uint64_t s;

		do
			s = repro_rng_below(&w->rng, nslots);
		while (w->slot_gen[s] == 2);
		w->slot_gen[s] = 2;
		struct repro_io *io = &w->ios[n++];
		io->fd = fd;
		io->write = true;
		io->buf = w->buf + i * opt_io_size;
		io->len = opt_io_size;
		io->off = (off_t)(s * opt_io_size);
		repro_blocks_fill(io->buf, BS, opt_io_size / BS, file_id, 2, s * opt_io_size, 0);
	}
	struct repro_io *list[1024];
	for (unsigned i = 0; i < n; i++)
		list[i] = &w->ios[i];
	r = repro_aio_submit(w->aio, list, n);
	if (r < 0) {
		tolerate(-r, "io_submit", path);
		goto out_unlink;
	}
	/* requests the kernel refused were never written: the slot keeps its old content */
	for (unsigned i = (unsigned)r; i < n; i++)
		w->slot_gen[w->ios[i].off / opt_io_size] =
		    w->ios[i].off / opt_io_size < head ? 1 : 0;
	n = (unsigned)r;

	/* collect what already completed, then drop the name (and maybe the fd) */
	unsigned got = 0;
	r = repro_aio_reap(w->aio, 0, n, w->done, 0);
	got = r > 0 ? (unsigned)r : 0;
	if (repro_aio_inflight(w->aio)) {
		repro_count(C_UNLINKS_INFLIGHT, 1);
		repro_race_hit(1);
	}
	if (unlink(path) < 0)
		tolerate(errno, "unlink", path);
	repro_ops(1);
	if (!keep_fd) {
		if (repro_aio_inflight(w->aio)) {
			repro_count(C_CLOSES_INFLIGHT, 1);
			repro_race_hit(1);
		}
		close(fd);
		fd = -1;
	}
	while (got < n) {
		r = repro_aio_reap(w->aio, 1, n - got, w->done + got, -1);
		if (r < 0) {
			repro_anomaly("unexpected-errno", "io_getevents: %s", strerror(-r));
			break;
		}
		if (r == 0 && !repro_running())
			continue; /* keep reaping: nothing may be left in flight */
		got += (unsigned)r;
	}
	for (unsigned i = 0; i < got; i++) {
		repro_ops(1);
		repro_count(C_AIO_WRITES, 1);
		if (!repro_aio_check(w->done[i], true))
			w->slot_gen[w->done[i]->off / opt_io_size] = UINT64_MAX; /* unknown */
	}
	repro_count(C_AIO_ITERATIONS, 1);
	if (fd >= 0 && !repro_anomaly_count()) {
		/* the unlinked inode is still ours: every block must be what we wrote */
		ssize_t rd = repro_pread_full(fd, w->rbuf, file_size, 0);

		if (rd != (ssize_t)file_size) {
			if (rd < 0)
				tolerate((int)-rd, "pread", path);
			else
				repro_anomaly("short-read",
					      "O_DIRECT read of unlinked %s returned %zd "
					      "of %" PRIu64,
					      path, rd, file_size);
		} else {
			for (uint64_t s = 0; s < nslots; s++) {
				uint64_t g[1] = {w->slot_gen[s]};
				_cleanup_free_ char *what =
				    strdupf("unlinked %s slot %" PRIu64, path, s);

				if (g[0] == UINT64_MAX)
					continue;
				if (!verify_blocks(what ? what : path, w->rbuf + s * opt_io_size,
						   opt_io_size, file_id, s * opt_io_size, g,
						   opt_io_size))
					break;
			}
		}
		repro_ops(1);
	}
	goto out;
out_unlink:
	unlink(path);
out:
	if (fd >= 0)
		close(fd);
}

static bool wb_write(int fd, struct worker *w, uint64_t file_id, uint64_t gen, uint64_t from,
		     uint64_t to, const char *path)
{
	for (uint64_t o = from; o < to && repro_running(); o += 1 << 20) {
		uint64_t len = to - o < (1 << 20) ? to - o : 1 << 20;
		ssize_t wr;

		repro_blocks_fill(w->wbbuf, BS, len / BS, file_id, gen, o, 1);
		wr = repro_pwrite_full(fd, w->wbbuf, len, (off_t)o);
		repro_ops(1);
		if (wr != (ssize_t)len) {
			if (wr < 0)
				tolerate((int)-wr, "write", path);
			else
				repro_anomaly("short-write",
					      "buffered write of %" PRIu64 " at %" PRIu64
					      " on %s returned %zd",
					      len, o, path, wr);
			return false;
		}
	}
	return repro_running();
}

static void lastref_dropped(void)
{
	if (atomic_load(&in_commit)) {
		repro_count(C_WB_LASTREF_IN_COMMIT, 1);
		repro_race_hit(1);
	}
}

/* Start writeback of [off, off + len): ext4 allocates those blocks now, in the running
 * transaction, and puts the inode on its ordered list; the pages after them stay dirty. */
static bool wb_arm(int fd, uint64_t off, uint64_t len, const char *path)
{
	if (sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE) == 0)
		return true;
	tolerate(errno, "sync_file_range", path);
	return false;
}

static char *wb_path(const struct worker *w, unsigned i, const char *kind)
{
	return repro_path("wb.%u.%u.%s", w->idx, i, kind);
}

/* a writeback file's id and the generation its blocks are written with */
static uint64_t wb_id(const struct worker *w, uint64_t iter, unsigned i)
{
	return ((uint64_t)(w->idx + 1) << 40) | (1ULL << 39) | (iter * opt_wb_files + i);
}

static uint64_t wb_gen(uint64_t id)
{
	return (id & ((1ULL << 39) - 1)) + 1;
}

/* Read back slot i's file of the previous round before it is replaced. */
static bool wb_verify_final(struct worker *w, unsigned i)
{
	_cleanup_free_ char *fin = wb_path(w, i, "final");
	_cleanup_free_ char *what = strdupf("%s (before rename-over)", fin ? fin : "?");
	_cleanup_close_ int fd = -1;
	uint64_t g[1] = {wb_gen(w->final_id[i])};

	if (!fin)
		return false;
	fd = open(fin, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		tolerate(errno, "open", fin);
		return false;
	}
	for (uint64_t o = 0; o < wb_file_size; o += 1 << 20) {
		uint64_t len = wb_file_size - o < (1 << 20) ? wb_file_size - o : 1 << 20;
		ssize_t rd = repro_pread_full(fd, w->wbbuf, len, (off_t)o);

		repro_ops(1);
		if (rd != (ssize_t)len) {
			repro_anomaly("short-read",
				      "read of %s at %" PRIu64 " returned %zd of %" PRIu64, fin, o,
				      rd, len);
			return false;
		}
		if (!verify_blocks(what ? what : fin, w->wbbuf, len, w->final_id[i], o, g,
				   1ULL << 40))
			return false;
	}
	return true;
}

/*
 * Right before a file's last reference goes: from `off`, append a block and allocate it
 * (sync_file_range), again and again for two typical commits (at most wb_arm_len bytes),
 * then append one more block and leave it dirty.  ext4 puts the inode on the running
 * transaction with each allocation, so whichever transaction is committing when the
 * caller drops the reference, the inode is on it: the eviction that follows writes the
 * dirty block back if that commit has not finished its ordered-data wait yet.  An error
 * is reported and ends the preparation.
 */
static void wb_prepare_drop(struct worker *w, int fd, uint64_t id, uint64_t off, const char *path)
{
	uint64_t avg = atomic_load(&commit_usec_avg);
	uint64_t until = now_usec() + 2 * (avg ? avg : 50000);
	uint64_t end = off + wb_arm_len;

	do {
		if (!wb_write(fd, w, id, wb_gen(id), off, off + BS, path) ||
		    !wb_arm(fd, off, BS, path))
			return;
		off += BS;
	} while (off < end && now_usec() < until);
	wb_write(fd, w, id, wb_gen(id), off, off + BS, path);
}

/* Slot i's new file written whole with buffered writes; its fd in w->wb_fds[i]. */
static bool wb_create(struct worker *w, uint64_t iter, unsigned i)
{
	_cleanup_free_ char *tmp = wb_path(w, i, "tmp");
	uint64_t id = wb_id(w, iter, i);
	int fd;

	if (!tmp)
		return false;
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		tolerate(errno, "open", tmp);
		return false;
	}
	w->wb_fds[i] = fd;
	return wb_write(fd, w, id, wb_gen(id), 0, wb_file_size, tmp);
}

/*
 * One writeback round on opt_wb_files files, each file's last reference dropped right
 * after wb_prepare_drop().
 *  even rounds: the new files unlink()ed, then each prepared and close()d;
 *  odd rounds: the new files written back whole (the rename's auto_da_alloc flush then has
 *    nothing to do), the previous round's files read back and verified, then each old file
 *    prepared and closed and the new one rename()d over it.
 */
static void wb_round(struct worker *w, uint64_t iter)
{
	bool rename_over = (iter & 1) == 1;
	unsigned n = (unsigned)opt_wb_files;

	for (unsigned i = 0; i < n; i++)
		w->wb_fds[i] = -1;
	for (unsigned i = 0; i < n; i++) {
		_cleanup_free_ char *tmp = wb_path(w, i, "tmp");

		if (!wb_create(w, iter, i) ||
		    (rename_over && !wb_arm(w->wb_fds[i], 0, wb_file_size, tmp ? tmp : "?")))
			goto out;
	}
	repro_count(C_WB_ITERATIONS, 1);

	if (!rename_over) {
		for (unsigned i = 0; i < n; i++) {
			_cleanup_free_ char *tmp = wb_path(w, i, "tmp");

			if (tmp && unlink(tmp) < 0)
				tolerate(errno, "unlink", tmp);
		}
		for (unsigned i = 0; i < n; i++) {
			_cleanup_free_ char *tmp = wb_path(w, i, "tmp");

			wb_prepare_drop(w, w->wb_fds[i], wb_id(w, iter, i), wb_file_size,
					tmp ? tmp : "?");
			lastref_dropped();
			close(w->wb_fds[i]);
			w->wb_fds[i] = -1;
			repro_ops(2);
			repro_count(C_WB_UNLINK_CLOSE, 1);
		}
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		close(w->wb_fds[i]);
		w->wb_fds[i] = -1;
		if (w->final_id[i] && !wb_verify_final(w, i))
			w->final_id[i] = 0;
	}
	for (unsigned i = 0; i < n; i++) {
		_cleanup_free_ char *tmp = wb_path(w, i, "tmp");
		_cleanup_free_ char *fin = wb_path(w, i, "final");

		if (!tmp || !fin)
			goto out;
		if (w->final_id[i]) {
			_cleanup_close_ int fd = open(fin, O_WRONLY | O_CLOEXEC);

			if (fd < 0)
				tolerate(errno, "open", fin);
			else
				wb_prepare_drop(w, fd, w->final_id[i], wb_file_size, fin);
		}
		lastref_dropped();
		if (rename(tmp, fin) < 0) {
			tolerate(errno, "rename", tmp);
			unlink(tmp);
			w->final_id[i] = 0;
			continue;
		}
		repro_ops(2);
		repro_count(C_WB_RENAME_OVER, 1);
		w->final_id[i] = wb_id(w, iter, i);
	}
	return;
out:
	for (unsigned i = 0; i < n; i++) {
		_cleanup_free_ char *tmp = wb_path(w, i, "tmp");

		if (w->wb_fds[i] < 0)
			continue;
		if (tmp)
			unlink(tmp);
		close(w->wb_fds[i]);
		w->wb_fds[i] = -1;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t iter = 0;

	while (repro_next_iteration()) {
		bool aio;

		if (!strcmp(opt_mode, "aio"))
			aio = true;
		else if (!strcmp(opt_mode, "writeback"))
			aio = false;
		else if (repro->threads == 1)
			aio = (iter & 2) == 0;
		else
			aio = (w->idx & 1) == 0;
		if (aio)
			aio_round(w, iter);
		else
			wb_round(w, iter);
		iter++;
	}
	return NULL;
}

static void *kicker_main(void *arg)
{
	_cleanup_free_ char *path = repro_path("kicker");
	_cleanup_close_ int fd = -1;
	char buf[BS];
	uint64_t n = 0;
	bool use_syncfs = !strcmp(opt_kicker, "syncfs");

	(void)arg;
	if (!path)
		return NULL;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		tolerate(errno, "open", path);
		return NULL;
	}
	memset(buf, 'k', sizeof(buf));
	while (repro_running()) {
		bool syncfs_now = use_syncfs || (++n % 8) == 0;
		uint64_t t0, d;
		int r;

		if (pwrite(fd, buf, sizeof(buf), 0) < 0 && !tolerate(errno, "pwrite", path))
			break;
		atomic_store(&in_commit, true);
		t0 = now_usec();
		r = syncfs_now ? syncfs(fd) : fsync(fd);
		d = now_usec() - t0;
		atomic_store(&in_commit, false);
		if (r < 0 && !tolerate(errno, "fsync", path))
			break;
		if (!syncfs_now)
			atomic_store(&commit_usec_avg, (atomic_load(&commit_usec_avg) * 7 + d) / 8);
		repro_count(C_KICKER_COMMITS, 1);
	}
	return NULL;
}

static struct worker *workers;

static int setup(void)
{
	uint64_t per_file;
	int r;

	if (opt_io_size % BS)
		return repro_unsuitable("--io-size must be a multiple of 4096");
	/* disk cap: each worker owns at most two files of max(file, wb) size */
	per_file = repro->size / (2ULL * repro->threads + 1);
	file_size = opt_file_size < per_file ? opt_file_size : per_file;
	file_size -= file_size % opt_io_size;
	/* a writeback round: opt_wb_files new files and as many old ones (each grows by at most
	 * wb_arm_len and a block before its last reference goes) */
	wb_file_size = (opt_wb_size < per_file ? opt_wb_size : per_file) / opt_wb_files;
	wb_arm_len = wb_file_size / 4 < (256 << 10) ? wb_file_size / 4 : 256 << 10;
	wb_arm_len -= wb_arm_len % BS;
	wb_file_size -= 2 * wb_arm_len;
	wb_file_size -= wb_file_size % BS;
	if (file_size < 4 * opt_io_size || wb_arm_len < BS)
		return repro_unsuitable("--size %" PRIu64 " too small for %u threads and %" PRIu64
					" writeback files",
					repro->size, repro->threads, opt_wb_files);

	workers = calloc(repro->threads, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	for (unsigned i = 0; i < repro->threads; i++) {
		struct worker *w = &workers[i];
		uint64_t nslots = file_size / opt_io_size;

		w->idx = i;
		repro_rng_init(&w->rng, i);
		w->ios = calloc(opt_depth, sizeof(*w->ios));
		w->done = calloc(opt_depth, sizeof(*w->done));
		w->slot_gen = calloc(nslots, sizeof(*w->slot_gen));
		w->buf = repro_alloc_aligned(opt_depth * opt_io_size);
		w->rbuf = repro_alloc_aligned(file_size);
		w->wbbuf = repro_alloc_aligned(1 << 20);
		w->wb_fds = calloc(opt_wb_files, sizeof(*w->wb_fds));
		w->final_id = calloc(opt_wb_files, sizeof(*w->final_id));
		if (!w->ios || !w->done || !w->slot_gen || !w->buf || !w->rbuf || !w->wbbuf ||
		    !w->wb_fds || !w->final_id)
			return -ENOMEM;
		r = repro_aio_new_or_unsuitable(&w->aio, (unsigned)opt_depth);
		if (r < 0)
			return r;
	}
	return 0;
}

static int run(void)
{
	int r;

	if (strcmp(opt_kicker, "none") && strcmp(opt_mode, "aio")) {
		r = repro_thread_start("kicker", kicker_main, NULL);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < repro->threads; i++) {
		r = repro_thread_start("worker", worker_main, &workers[i]);
		if (r < 0)
			return r;
	}
	while (repro_running())
		repro_sleep_usec(200000);
	return 0;
}

static void cleanup(void)
{
	for (unsigned i = 0; workers && i < repro->threads; i++) {
		struct worker *w = &workers[i];

		repro_aio_free(w->aio);
		free(w->ios);
		free(w->done);
		free(w->slot_gen);
		free(w->buf);
		free(w->rbuf);
		free(w->wbbuf);
		free(w->wb_fds);
		free(w->final_id);
	}
	free(workers);
}

static const struct repro_test test = {
    .name = "aio-dio-unlink",
    .summary = "Drop the last reference of a file while AIO O_DIRECT writes or writeback are "
	       "still in flight for it (ext4 io_end / iput race).",
    .seed = "000_1d8902fdec5dc61a.txt",
    .common = REPRO_OPT_DURATION | REPRO_OPT_ITERATIONS | REPRO_OPT_THREADS | REPRO_OPT_SIZE |
	      REPRO_OPT_SEED | REPRO_OPT_ENGINE,
    .options = options,
    .counters = counters,
    .race_window = "unlink/close while >= 1 AIO write of the file was in flight, or a "
		   "writeback last-reference drop while the commit kicker was in fsync/syncfs",
    .needs_odirect = true,
    .default_threads = 2,
    .default_size = 256ULL << 20,
    .setup = setup,
    .run = run,
    .cleanup = cleanup,
};

int main(int argc, char **argv)
{
	return repro_main(&test, argc, argv);
}
