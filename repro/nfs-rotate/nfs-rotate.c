/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nfs-rotate — syslog-style appenders, a log rotator and ftruncate racing them, with every
 * record accounted for.
 *
 * Original bug (seed 003, Kylin 4.19.90 NFS client): "NFS: Invalid unlock attempted" and
 * kernel BUG at fs/nfs/pagelist.c:382 in nfs_unlock_request() <- nfs_end_page_writeback() <-
 * nfs_redirty_request() <- nfs_do_writepage() <- nfs_writepages() <- ... <- nfs_file_fsync()
 * <- filp_close() (close of a log file), or from wb_workfn writeback.  The nfs_page had
 * refcount 1 and PG_BUSY clear: somebody had already unlocked and released it (a double
 * disposal: the 4.19 split-request error path redirties the head twice).  The
 * client wrote syslog to NFS and rotated it: lock messages, rename it to messages-YYYYMMDD,
 * create a new messages, write the data buffered during the lock, close.  The investigator
 * raced a write(4100 bytes)-sleep-close program with ftruncate(100) of the same file.
 *
 * Pattern:
 *  - --threads appenders: open NAME O_APPEND, write odd-sized records (64..5000 bytes, often
 *    4100) through a user-space buffer flushed at random sizes (stdio-like), sometimes keep
 *    the tail buffered and sleep before close (the seed's write.c), close (on NFS close =
 *    nfs_file_flush -> writeback, the first trace), reopen for the next session.
 *  - a rotator: open NAME, fcntl(F_SETLKW) (on NFS: lock -> flush/invalidate), block the
 *    appenders' writes (they keep buffering), rename NAME -> NAME-YYYYMMDD.N, create a new
 *    NAME, write the backlog collected during the lock into it, unlock, close both.
 *  - a truncator: ftruncate the live file (and sometimes the newest rotated one, copytruncate
 *    style) to small sizes (0, 100, 4096, random) while appenders hold it open with data.
 *  - a pair: the seed's two programs -- open(O_TRUNC) + write 4096 + hold 4 bytes + sleep +
 *    write the rest + close, racing ftruncate(100) of the same file (--no-pair to disable).
 *
 * Self-check.  Record = "KDR w=WRITER s=SEQ l=LEN c=CRC32C payload\n"; each writer's records
 * form a deterministic byte stream.  For every write(2) the writer notes (inode, offset from
 * its O_APPEND file position, stream position, event clock); the truncator notes (inode, new
 * size, event clock).  When a rotated file is no longer open (and at the end) it is read back:
 * every written range must still hold exactly its bytes unless a truncation below its end
 * completed after the write started (then its records count as lost-legitimately); every byte
 * of the file must belong to some written range.  Anything else is an anomaly
 * (record-lost / record-corrupt / unexplained-bytes / pair-data-mismatch).
 *
 * Race-window hits: rotations while an appender still had data for the old file (buffered in
 * user space or written but not yet closed), truncations of a file an appender had open with
 * such data, and pair truncations between the pair's first write and its close.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "repro.h"

#define HDR_LEN	    44u
#define REC_MIN	    64u
#define REC_MAX	    5000u
#define NFS_MAGIC   0x6969
#define PAIR_LEN    4100u
#define PAIR_SPLIT  4096u
#define PAIR_TRUNC  100u
#define MAX_WRITERS 257u

/* ---- options ------------------------------------------------------------------------- */

static const char *opt_name = "messages";
static uint64_t opt_rotate_ms = 100, opt_trunc_ms = 150, opt_hold_ms = 50, opt_flush_max = 16384;
static uint64_t opt_trunc_rotated_pct = 20;
static bool opt_no_pair, opt_no_lock;

static const struct repro_option options[] = {
    {"name", "NAME", "live log file name (default messages)", REPRO_ARG_STRING, &opt_name, 0, 0,
     NULL},
    {"rotate-ms", "MS", "mean time between rotations (default 100)", REPRO_ARG_U64, &opt_rotate_ms,
     1, 60000, NULL},
    {"trunc-ms", "MS", "mean time between truncations (default 150)", REPRO_ARG_U64, &opt_trunc_ms,
     1, 60000, NULL},
    {"trunc-rotated-pct", "PCT",
     "share of truncations aimed at the newest rotated file (default 20)", REPRO_ARG_U64,
     &opt_trunc_rotated_pct, 0, 100, NULL},
    {"hold-ms", "MS", "longest sleep with unflushed data before close (default 50)", REPRO_ARG_U64,
     &opt_hold_ms, 0, 10000, NULL},
    {"flush-max", "BYTES", "largest user-space buffer before a write (default 16K)", REPRO_ARG_SIZE,
     &opt_flush_max, 128, 1 << 20, NULL},
    {"no-pair", NULL, "do not run the write-sleep-close vs ftruncate(100) pair", REPRO_ARG_FLAG,
     &opt_no_pair, 0, 0, NULL},
    {"no-lock", NULL, "rotator does not take fcntl locks", REPRO_ARG_FLAG, &opt_no_lock, 0, 0,
     NULL},
    {0},
};

enum {
	C_RECORDS_WRITTEN,
	C_RECORDS_VERIFIED,
	C_RECORDS_LOST_LEGIT,
	C_RECORDS_LOST_UNEXPLAINED,
	C_RECORDS_UNVERIFIED,
	C_BYTES_WRITTEN,
	C_WRITES,
	C_SESSIONS,
	C_HELD_CLOSES,
	C_ROTATIONS,
	C_ROTATIONS_UNFLUSHED,
	C_TRUNCATES,
	C_TRUNCATES_ROTATED,
	C_TRUNCATES_RACING,
	C_FILES_VERIFIED,
	C_UNEXPLAINED_BYTES,
	C_PAIR_CYCLES,
	C_PAIR_TRUNCATES,
	C_PAIR_RACES,
	C_ON_NFS,
	C__MAX
};
static const char *const counters[] = {
    [C_RECORDS_WRITTEN] = "records_written",
    [C_RECORDS_VERIFIED] = "records_verified",
    [C_RECORDS_LOST_LEGIT] = "records_lost_legitimately",
    [C_RECORDS_LOST_UNEXPLAINED] = "records_lost_unexplained",
    [C_RECORDS_UNVERIFIED] = "records_unverified",
    [C_BYTES_WRITTEN] = "bytes_written",
    [C_WRITES] = "writes",
    [C_SESSIONS] = "sessions",
    [C_HELD_CLOSES] = "held_closes",
    [C_ROTATIONS] = "rotations",
    [C_ROTATIONS_UNFLUSHED] = "rotations_unflushed",
    [C_TRUNCATES] = "truncates",
    [C_TRUNCATES_ROTATED] = "truncates_rotated",
    [C_TRUNCATES_RACING] = "truncates_racing_writers",
    [C_FILES_VERIFIED] = "files_verified",
    [C_UNEXPLAINED_BYTES] = "unexplained_bytes",
    [C_PAIR_CYCLES] = "pair_cycles",
    [C_PAIR_TRUNCATES] = "pair_truncates",
    [C_PAIR_RACES] = "pair_races",
    [C_ON_NFS] = "on_nfs",
    NULL,
};

/* ---- records ------------------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rec_hash(unsigned w, uint64_t seq)
{
	return mix64(((uint64_t)w << 48) ^ seq ^ repro->seed);
}

static size_t rec_len(unsigned w, uint64_t seq)
{
	uint64_t h = rec_hash(w, seq);

	if (h % 8 == 0)
		return 4100; /* the seed's size: one page + 4 bytes */
	if (h % 16 == 1)
		return 3000 + (h >> 16) % (REC_MAX - 3000);
	return REC_MIN + (h >> 16) % 700;
}

/* Build record (w, seq) into buf (>= REC_MAX); returns its length. */
static size_t rec_build(char *buf, unsigned w, uint64_t seq)
{
	size_t len = rec_len(w, seq), plen = len - HDR_LEN - 1;
	uint64_t x = rec_hash(w, seq) | 1;
	char *pl = buf + HDR_LEN;
	char hdr[HDR_LEN + 1];

	for (size_t i = 0; i < plen; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		pl[i] = (char)('a' + x % 26);
	}
	snprintf(hdr, sizeof(hdr), "KDR w=%03u s=%012" PRIu64 " l=%05zu c=%08x ", w,
		 (uint64_t)(seq % 1000000000000ull), len, repro_crc32c(0, pl, plen));
	memcpy(buf, hdr, HDR_LEN);
	buf[len - 1] = '\n';
	return len;
}

/* ---- inode table --------------------------------------------------------------------- */

struct chunk {
	uint64_t start; /* file offset */
	uint64_t ws;	/* event clock when the write started */
	uint64_t seq0;	/* first record (maybe partial) */
	uint32_t skip;	/* bytes of seq0 already written before this chunk */
	uint32_t len;
	uint32_t writer;
};

struct trunc {
	uint64_t size, te;
};

struct irec {
	dev_t dev;
	ino_t ino;
	char *path;
	uint64_t rot; /* rotation number that renamed it, 0 while live */
	int refs;
	bool live;
	struct chunk *chunks;
	size_t nchunks, cchunks;
	struct trunc *truncs;
	size_t ntruncs, ctruncs;
};

static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct irec **tab;
static size_t ntab;
static atomic_uint_fast64_t clk; /* event clock */
static pthread_rwlock_t rot_lock;
static char *live_path;
static atomic_bool rotate_now; /* the live log grew past --size / 16 */

struct appender {
	atomic_uint_fast64_t ino;     /* inode open, 0 = none */
	atomic_uint_fast64_t pending; /* bytes buffered in user space or written since open */
};
static struct appender *apps;

static void irec_free(struct irec *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->chunks);
	free(r->truncs);
	free(r);
}

/* Under tab_lock: find or create the record of (dev, ino). */
static struct irec *irec_get(dev_t dev, ino_t ino, const char *path)
{
	struct irec *r, **n;

	for (size_t i = 0; i < ntab; i++)
		if (tab[i]->ino == ino && tab[i]->dev == dev)
			return tab[i];
	r = calloc(1, sizeof(*r));
	n = realloc(tab, (ntab + 1) * sizeof(*tab));
	if (!r || !n || !(r->path = strdup(path))) {
		free(r);
		if (n)
			tab = n;
		return NULL;
	}
	tab = n;
	r->dev = dev;
	r->ino = ino;
	r->live = true;
	tab[ntab++] = r;
	return r;
}

static void tab_remove(struct irec *r)
{
	for (size_t i = 0; i < ntab; i++)
		if (tab[i] == r) {
			tab[i] = tab[--ntab];
			return;
		}
}

static int push(void **v, size_t *n, size_t *cap, size_t sz, const void *e)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *nv = realloc(*v, nc * sz);

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	memcpy((char *)*v + *n * sz, e, sz);
	(*n)++;
	return 0;
}

/* ---- verification -------------------------------------------------------------------- */

/* Expected bytes of a chunk into out (len bytes); record boundaries via the callback data:
 * ends[k] = offset in the chunk just past the end of the k-th record ending in it. */
static void chunk_expect(const struct chunk *c, char *out, char *scratch)
{
	uint64_t seq = c->seq0;
	size_t skip = c->skip, done = 0;

	while (done < c->len) {
		size_t l = rec_build(scratch, c->writer, seq++), take = l - skip;

		if (take > c->len - done)
			take = c->len - done;
		memcpy(out + done, scratch + skip, take);
		done += take;
		skip = 0;
	}
}

static bool chunk_affected(const struct irec *r, const struct chunk *c)
{
	for (size_t i = 0; i < r->ntruncs; i++)
		if (r->truncs[i].size < c->start + c->len && r->truncs[i].te > c->ws)
			return true;
	return false;
}

static uint64_t chunk_records(const struct chunk *c);

/* Read the file back and account for every record of every chunk.  r is private to the
 * caller (removed from the table or all threads joined).  When the run stops (abort_on_stop)
 * or the deadline passes, the remaining chunks count as unverified and the every-byte check
 * is skipped. */
static void irec_verify(struct irec *r, bool abort_on_stop, uint64_t deadline)
{
	_cleanup_close_ int fd = open(r->path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *data = NULL, *cover = NULL, *exp = NULL, *scratch = NULL;
	struct stat st;
	uint64_t size = 0, unexplained = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		repro_anomaly("file-missing", "%s: %s (rotated/live log we wrote)", r->path,
			      strerror(errno));
		return;
	}
	if (st.st_ino != r->ino) {
		repro_anomaly("file-missing", "%s: inode %ju, expected %ju", r->path,
			      (uintmax_t)st.st_ino, (uintmax_t)r->ino);
		return;
	}
	size = (uint64_t)st.st_size;
	data = malloc(size + 1);
	cover = calloc(size + 1, 1);
	scratch = malloc(REC_MAX);
	if (!data || !cover || !scratch) {
		repro_errno(ENOMEM);
		return;
	}
	if (size) {
		ssize_t n = repro_pread_full(fd, data, size, 0);

		if (n < 0 || (uint64_t)n != size) {
			repro_anomaly("read-error", "%s: read %" PRIu64 " bytes: %s", r->path, size,
				      n < 0 ? strerror((int)-n) : "short read");
			return;
		}
	}
	for (size_t i = 0; i < r->nchunks; i++) {
		const struct chunk *c = &r->chunks[i];
		bool affected;
		uint64_t seq = c->seq0, off = 0;
		size_t skip = c->skip;
		char *e;

		if ((i & 63) == 0 &&
		    ((abort_on_stop && !repro_running()) || (deadline && now_usec() > deadline))) {
			for (; i < r->nchunks; i++)
				repro_count(C_RECORDS_UNVERIFIED, chunk_records(&r->chunks[i]));
			return;
		}
		e = realloc(exp, c->len);
		if (!e) {
			repro_errno(ENOMEM);
			return;
		}
		exp = e;
		chunk_expect(c, exp, scratch);
		/* fast path: the chunk is there, byte for byte */
		if (c->start + c->len <= size && !memcmp(data + c->start, exp, c->len)) {
			memset(cover + c->start, 1, c->len);
			repro_count(C_RECORDS_VERIFIED, chunk_records(c));
			continue;
		}
		affected = chunk_affected(r, c);
		/* walk the records (pieces) of the chunk */
		while (off < c->len) {
			size_t l = rec_len(c->writer, seq) - skip, piece = l;
			bool ends = true, ok = true;
			uint64_t bad_at = 0;

			if (piece > c->len - off) {
				piece = c->len - off;
				ends = false;
			}
			for (size_t k = 0; k < piece; k++) {
				uint64_t fo = c->start + off + k;

				if (fo < size && data[fo] == exp[off + k]) {
					cover[fo] = 1;
				} else if (ok) {
					ok = false;
					bad_at = fo;
				}
			}
			if (ends) {
				if (ok)
					repro_count(C_RECORDS_VERIFIED, 1);
				else if (affected)
					repro_count(C_RECORDS_LOST_LEGIT, 1);
				else
					repro_count(C_RECORDS_LOST_UNEXPLAINED, 1);
			}
			if (!ok && !affected) {
				if (bad_at >= size)
					repro_anomaly("record-lost",
						      "%s: writer %u record %" PRIu64 " at %" PRIu64
						      "..%" PRIu64 " missing (file size %" PRIu64
						      ") and no truncation explains it",
						      r->path, c->writer, seq, c->start + off,
						      c->start + off + piece, size);
				else
					repro_anomaly("record-corrupt",
						      "%s: writer %u record %" PRIu64 " at %" PRIu64
						      "..%" PRIu64 ": first wrong byte at %" PRIu64
						      " (0x%02x, expected 0x%02x), no truncation "
						      "explains it",
						      r->path, c->writer, seq, c->start + off,
						      c->start + off + piece, bad_at,
						      (unsigned char)data[bad_at],
						      (unsigned char)exp[bad_at - c->start]);
			}
			off += piece;
			seq++;
			skip = 0;
		}
	}
	for (uint64_t i = 0; i < size; i++)
		unexplained += !cover[i];
	if (unexplained) {
		uint64_t first = 0;

		while (cover[first])
			first++;
		repro_count(C_UNEXPLAINED_BYTES, unexplained);
		repro_anomaly("unexplained-bytes",
			      "%s: %" PRIu64 " of %" PRIu64 " bytes belong to no write we made "
			      "(first at %" PRIu64 ": 0x%02x)",
			      r->path, unexplained, size, first, (unsigned char)data[first]);
	}
	repro_count(C_FILES_VERIFIED, 1);
}

/* Records whose last byte lies in chunk c. */
static uint64_t chunk_records(const struct chunk *c)
{
	uint64_t seq = c->seq0, off = 0, n = 0;
	size_t skip = c->skip;

	while (off < c->len) {
		size_t l = rec_len(c->writer, seq) - skip;

		if (l <= c->len - off)
			n++;
		off += l;
		seq++;
		skip = 0;
	}
	return n;
}

static void irec_count_unverified(const struct irec *r)
{
	for (size_t i = 0; i < r->nchunks; i++)
		repro_count(C_RECORDS_UNVERIFIED, chunk_records(&r->chunks[i]));
}

/* ---- writers ------------------------------------------------------------------------- */

struct wstream {
	unsigned writer;
	char *buf; /* user-space buffer */
	size_t len, cap;
	uint64_t seq0; /* record at buf[0] */
	size_t skip0;  /* bytes of seq0 already written (after a short write) */
	uint64_t next_seq;
	char *scratch;
};

static int ws_init(struct wstream *s, unsigned writer)
{
	*s = (struct wstream){.writer = writer, .cap = opt_flush_max + 2 * REC_MAX};
	s->buf = malloc(s->cap);
	s->scratch = malloc(REC_MAX);
	return s->buf && s->scratch ? 0 : -ENOMEM;
}

static void ws_done(struct wstream *s)
{
	free(s->buf);
	free(s->scratch);
}

/* Append the next record to the user-space buffer (growing it).  0 or -ENOMEM. */
static int ws_add(struct wstream *s)
{
	if (s->len + REC_MAX > s->cap) {
		size_t nc = s->cap * 2 > s->len + REC_MAX ? s->cap * 2 : s->len + REC_MAX;
		char *nb = realloc(s->buf, nc);

		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		s->cap = nc;
	}
	s->len += rec_build(s->buf + s->len, s->writer, s->next_seq++);
	return 0;
}

/* Records ending within the first n bytes of the buffer. */
static uint64_t ws_records_in(const struct wstream *s, size_t n)
{
	uint64_t seq = s->seq0, cnt = 0;
	size_t off = 0, skip = s->skip0;

	while (off < n) {
		size_t l = rec_len(s->writer, seq++) - skip;

		skip = 0;
		if (off + l <= n)
			cnt++;
		off += l;
	}
	return cnt;
}

/* write(2) the buffer to fd (an O_APPEND fd of inode r), noting every chunk.  Returns 0,
 * or a tolerated errno (the unwritten records are dropped), or -1 after an anomaly. */
static int ws_flush(struct wstream *s, int fd, struct irec *r, struct appender *a)
{
	while (s->len) {
		uint64_t ws = atomic_fetch_add(&clk, 1);
		ssize_t n = write(fd, s->buf, s->len);
		off_t pos;
		struct chunk c;
		int e = errno;

		n = repro_fault_write(n < 0 ? -e : n, s->len);
		if (n < 0) {
			e = (int)-n;
			if (e == ENOSPC || e == EDQUOT || e == EINTR) {
				repro_errno(e);
				s->len = 0; /* dropped: never entered in a chunk */
				s->skip0 = 0;
				s->seq0 = s->next_seq;
				return e;
			}
			repro_anomaly("unexpected-errno", "write %s: %s", r->path, strerror(e));
			return -1;
		}
		pos = lseek(fd, 0, SEEK_CUR);
		if (pos < n) {
			repro_anomaly("unexpected-errno", "lseek after O_APPEND write: %s",
				      strerror(errno));
			return -1;
		}
		c = (struct chunk){.start = (uint64_t)pos - (uint64_t)n,
				   .ws = ws,
				   .seq0 = s->seq0,
				   .skip = (uint32_t)s->skip0,
				   .len = (uint32_t)n,
				   .writer = s->writer};
		repro_count(C_RECORDS_WRITTEN, ws_records_in(s, (size_t)n));
		repro_count(C_BYTES_WRITTEN, (uint64_t)n);
		repro_count(C_WRITES, 1);
		repro_ops(1);
		pthread_mutex_lock(&tab_lock);
		e = push((void **)&r->chunks, &r->nchunks, &r->cchunks, sizeof(c), &c);
		pthread_mutex_unlock(&tab_lock);
		if (e < 0) {
			repro_errno(ENOMEM);
			return -1;
		}
		/* advance seq0/skip0 past n bytes */
		{
			size_t off = 0, skip = s->skip0;

			while (off < (size_t)n) {
				size_t l = rec_len(s->writer, s->seq0) - skip;

				if (off + l > (size_t)n) {
					s->skip0 = skip + ((size_t)n - off);
					break;
				}
				off += l;
				s->seq0++;
				skip = 0;
				s->skip0 = 0;
			}
		}
		if (r->live && (uint64_t)pos > repro->size / 16)
			atomic_store(&rotate_now, true);
		memmove(s->buf, s->buf + n, s->len - (size_t)n);
		s->len -= (size_t)n;
		if (a)
			atomic_store(&a->pending, s->len + 1); /* +1: written, not closed yet */
	}
	return 0;
}

/* Open path O_APPEND and register (a reference on) its inode. */
static int open_log(const char *path, int flags, struct irec **ret)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | flags, 0644);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	pthread_mutex_lock(&tab_lock);
	*ret = irec_get(st.st_dev, st.st_ino, path);
	if (*ret)
		(*ret)->refs++;
	pthread_mutex_unlock(&tab_lock);
	if (!*ret) {
		close(fd);
		return -ENOMEM;
	}
	return fd;
}

static void put_ref(struct irec *r)
{
	pthread_mutex_lock(&tab_lock);
	r->refs--;
	pthread_mutex_unlock(&tab_lock);
}

static void *appender_main(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	struct appender *a = &apps[id];
	struct wstream s;
	struct repro_rng rng;

	repro_rng_init(&rng, 1000 + id);
	if (ws_init(&s, id + 1) < 0) {
		repro_errno(ENOMEM);
		ws_done(&s);
		return NULL;
	}
	while (repro_next_iteration()) {
		struct irec *r = NULL;
		int fd = open_log(live_path, O_CREAT, &r);
		unsigned nrec = 1 + (unsigned)repro_rng_below(&rng, 24);
		size_t flush_at = 128 + repro_rng_below(&rng, opt_flush_max);
		bool hold = repro_rng_below(&rng, 2) == 0;
		int e = 0;

		if (fd < 0) {
			if (fd == -ENOENT || fd == -ESTALE) /* renamed under us: retry */
				continue;
			repro_anomaly("unexpected-errno", "open %s: %s", live_path, strerror(-fd));
			break;
		}
		atomic_store(&a->ino, (uint64_t)r->ino);
		repro_count(C_SESSIONS, 1);
		for (unsigned i = 0; i < nrec && e == 0; i++) {
			if (ws_add(&s) < 0) {
				repro_anomaly("out-of-memory", "appender buffer");
				e = -1;
				break;
			}
			atomic_store(&a->pending, s.len + 1);
			if (s.len >= flush_at && !(hold && i + 1 == nrec)) {
				pthread_rwlock_rdlock(&rot_lock);
				e = ws_flush(&s, fd, r, a);
				pthread_rwlock_unlock(&rot_lock);
			}
		}
		/* the seed's write.c: data still buffered, sleep, then close flushes it */
		if (e == 0 && hold && s.len && opt_hold_ms) {
			repro_count(C_HELD_CLOSES, 1);
			repro_sleep_usec(1000 * repro_rng_below(&rng, opt_hold_ms + 1));
		}
		if (e == 0 && s.len) {
			pthread_rwlock_rdlock(&rot_lock);
			e = ws_flush(&s, fd, r, a);
			pthread_rwlock_unlock(&rot_lock);
		}
		if (close(fd) < 0 && errno != EINTR) {
			repro_anomaly("unexpected-errno", "close %s: %s (data lost at close)",
				      r->path, strerror(errno));
			e = -1;
		}
		atomic_store(&a->pending, 0);
		atomic_store(&a->ino, 0);
		put_ref(r);
		if (e < 0)
			break;
	}
	ws_done(&s);
	return NULL;
}

/* ---- rotator ------------------------------------------------------------------------- */

static void retire_old(uint64_t rotations, bool all, uint64_t deadline)
{
	for (;;) {
		struct irec *victim = NULL;

		pthread_mutex_lock(&tab_lock);
		for (size_t i = 0; i < ntab; i++)
			if (all ||
			    (!tab[i]->live && tab[i]->refs == 0 && tab[i]->rot + 2 <= rotations)) {
				victim = tab[i];
				tab_remove(victim);
				break;
			}
		pthread_mutex_unlock(&tab_lock);
		if (!victim)
			return;
		if (deadline && now_usec() > deadline)
			irec_count_unverified(victim);
		else if (repro_anomaly_count() == 0)
			irec_verify(victim, !all, deadline);
		if (!repro->keep)
			(void)unlink(victim->path);
		irec_free(victim);
	}
}

static void *rotator_main(void *arg)
{
	struct wstream s;
	struct repro_rng rng;
	uint64_t rotations = 0;

	(void)arg;
	repro_rng_init(&rng, 7);
	if (ws_init(&s, 0) < 0) {
		repro_errno(ENOMEM);
		ws_done(&s);
		return NULL;
	}
	for (;;) {
		uint64_t until = now_usec() + 1000 * (opt_rotate_ms / 2 +
						      repro_rng_below(&rng, opt_rotate_ms + 1));

		/* rotate on time, or early when the live log passes its share of --size */
		while (now_usec() < until && !atomic_load(&rotate_now) && repro_sleep_usec(10000))
			;
		if (!repro_running())
			break;
		atomic_store(&rotate_now, false);
		struct irec *old = NULL, *nw = NULL;
		int fo = open_log(live_path, O_CREAT, &old), fn, e = 0;
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		char date[16], *rot_path;
		time_t now = time(NULL);
		struct tm tm;
		unsigned unflushed = 0;

		if (fo < 0) {
			repro_anomaly("unexpected-errno", "open %s: %s", live_path, strerror(-fo));
			break;
		}
		if (!opt_no_lock && fcntl(fo, F_SETLKW, &fl) < 0)
			repro_errno(errno); /* ENOLCK on NFS without lockd: go on */
		pthread_rwlock_wrlock(&rot_lock);
		/* "the data buffered during the lock": the daemon's own backlog */
		for (unsigned i = 1 + (unsigned)repro_rng_below(&rng, 8); i; i--)
			if (ws_add(&s) < 0)
				break; /* a shorter backlog */
		for (unsigned i = 0; i < repro->threads; i++)
			unflushed += atomic_load(&apps[i].ino) == (uint64_t)old->ino &&
				     atomic_load(&apps[i].pending) > 0;
		localtime_r(&now, &tm);
		strftime(date, sizeof(date), "%Y%m%d", &tm);
		rot_path = strdupf("%s-%s.%06" PRIu64, live_path, date, rotations + 1);
		if (!rot_path || rename(live_path, rot_path) < 0) {
			e = rot_path ? errno : ENOMEM;
			free(rot_path);
			pthread_rwlock_unlock(&rot_lock);
			repro_anomaly("unexpected-errno", "rename %s: %s", live_path, strerror(e));
			close(fo);
			put_ref(old);
			break;
		}
		rotations++;
		pthread_mutex_lock(&tab_lock);
		free(old->path);
		old->path = rot_path;
		old->live = false;
		old->rot = rotations;
		pthread_mutex_unlock(&tab_lock);
		repro_count(C_ROTATIONS, 1);
		repro_ops(1);
		if (unflushed) {
			repro_count(C_ROTATIONS_UNFLUSHED, 1);
			repro_race_hit(1);
		}
		fn = open_log(live_path, O_CREAT, &nw);
		if (fn >= 0) {
			e = ws_flush(&s, fn, nw, NULL);
		} else {
			repro_anomaly("unexpected-errno", "create %s: %s", live_path,
				      strerror(-fn));
			e = -1;
		}
		if (!opt_no_lock) {
			fl.l_type = F_UNLCK;
			(void)fcntl(fo, F_SETLK, &fl);
		}
		if (close(fo) < 0)
			repro_anomaly("unexpected-errno", "close %s: %s", old->path,
				      strerror(errno));
		if (fn >= 0 && close(fn) < 0)
			repro_anomaly("unexpected-errno", "close %s: %s", live_path,
				      strerror(errno));
		pthread_rwlock_unlock(&rot_lock);
		put_ref(old);
		if (nw)
			put_ref(nw);
		if (e < 0)
			break;
		/* logrotate's post-processing: files nobody has open any more are read back */
		retire_old(rotations, false, 0);
	}
	ws_done(&s);
	return NULL;
}

/* ---- truncator ----------------------------------------------------------------------- */

static void *truncator_main(void *arg)
{
	struct repro_rng rng;

	(void)arg;
	repro_rng_init(&rng, 11);
	while (
	    repro_sleep_usec(1000 * (opt_trunc_ms / 2 + repro_rng_below(&rng, opt_trunc_ms + 1)))) {
		bool rotated = repro_rng_below(&rng, 100) < opt_trunc_rotated_pct;
		_cleanup_free_ char *path = NULL;
		struct irec *r = NULL;
		struct stat st;
		uint64_t size, ns, te;
		unsigned racing = 0;
		int fd;

		pthread_mutex_lock(&tab_lock);
		for (size_t i = 0; i < ntab; i++) {
			struct irec *t = tab[i];

			if (rotated ? (!t->live && (!r || t->rot > r->rot)) : t->live)
				r = t;
		}
		if (r && (r->live ? !rotated : true)) {
			r->refs++;
			path = strdup(r->path);
		} else {
			r = NULL;
		}
		pthread_mutex_unlock(&tab_lock);
		if (!r)
			continue;
		fd = path ? open(path, O_WRONLY | O_CLOEXEC) : -1;
		if (fd < 0 || fstat(fd, &st) < 0 || st.st_ino != r->ino || st.st_size == 0) {
			/* renamed or replaced between the lookup and open: skip this one */
			if (fd >= 0)
				close(fd);
			put_ref(r);
			continue;
		}
		size = (uint64_t)st.st_size;
		switch (repro_rng_below(&rng, 4)) {
		case 0:
			ns = 0;
			break;
		case 1:
			ns = 100;
			break;
		case 2:
			ns = 4096;
			break;
		default:
			ns = repro_rng_below(&rng, size);
			break;
		}
		if (ns >= size)
			ns = size / 2;
		for (unsigned i = 0; i < repro->threads; i++)
			racing += atomic_load(&apps[i].ino) == (uint64_t)r->ino &&
				  atomic_load(&apps[i].pending) > 0;
		if (ftruncate(fd, (off_t)ns) < 0) {
			int e = errno;

			close(fd);
			put_ref(r);
			if (e == EINTR || e == ENOSPC)
				continue;
			repro_anomaly("unexpected-errno", "ftruncate %s: %s", path, strerror(e));
			break;
		}
		te = atomic_fetch_add(&clk, 1);
		pthread_mutex_lock(&tab_lock);
		if (push((void **)&r->truncs, &r->ntruncs, &r->ctruncs, sizeof(struct trunc),
			 &(struct trunc){ns, te}) < 0)
			repro_anomaly("out-of-memory", "truncation log");
		pthread_mutex_unlock(&tab_lock);
		close(fd);
		put_ref(r);
		repro_count(C_TRUNCATES, 1);
		repro_ops(1);
		if (!r->live)
			repro_count(C_TRUNCATES_ROTATED, 1);
		if (racing) {
			repro_count(C_TRUNCATES_RACING, 1);
			repro_race_hit(1);
		}
	}
	return NULL;
}

/* ---- the seed's pair: write(4096)+hold 4 bytes+sleep+close vs ftruncate(100) ---------- */

static pthread_mutex_t pair_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t pair_ts[64], pair_te[64]; /* clock before / after each ftruncate */
static unsigned pair_nte;
static atomic_bool pair_open;
static char *pair_path;

static void *pair_truncator_main(void *arg)
{
	struct repro_rng rng;

	(void)arg;
	repro_rng_init(&rng, 13);
	while (repro_sleep_usec(1000 * repro_rng_below(&rng, opt_hold_ms + 2))) {
		int fd = open(pair_path, O_RDWR | O_CLOEXEC);

		if (fd < 0)
			continue;
		pthread_mutex_lock(&pair_lock);
		uint64_t ts = atomic_fetch_add(&clk, 1);
		if (ftruncate(fd, PAIR_TRUNC) == 0) {
			pair_ts[pair_nte % 64] = ts;
			pair_te[pair_nte++ % 64] = atomic_fetch_add(&clk, 1);
			repro_count(C_PAIR_TRUNCATES, 1);
			if (atomic_load(&pair_open)) {
				repro_count(C_PAIR_RACES, 1);
				repro_race_hit(1);
			}
		} else {
			repro_errno(errno);
		}
		pthread_mutex_unlock(&pair_lock);
		close(fd);
	}
	return NULL;
}

static void *pair_writer_main(void *arg)
{
	_cleanup_free_ char *buf = malloc(PAIR_LEN), *rd = malloc(PAIR_LEN + 1);
	struct repro_rng rng;
	uint64_t cycle = 0;

	(void)arg;
	repro_rng_init(&rng, 17);
	if (!buf || !rd)
		return NULL;
	while (repro_running()) {
		char letter = (char)('A' + cycle++ % 26);
		uint64_t c1, c2, c2s = 0;
		int fd = open(pair_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		bool mid = false, after = false, bad = false;
		ssize_t n;

		if (fd < 0) {
			repro_anomaly("unexpected-errno", "open %s: %s", pair_path,
				      strerror(errno));
			break;
		}
		memset(buf, letter, PAIR_LEN);
		c1 = atomic_fetch_add(&clk, 1);
		atomic_store(&pair_open, true);
		/* fwrite(4100) with a 4096-byte stdio buffer: 4096 now, 4 at fclose */
		n = write(fd, buf, PAIR_SPLIT);
		if (n == PAIR_SPLIT) {
			repro_sleep_usec(1000 * repro_rng_below(&rng, opt_hold_ms + 1));
			c2s = atomic_fetch_add(&clk, 1);
			n = write(fd, buf, PAIR_LEN - PAIR_SPLIT);
			n = n == PAIR_LEN - PAIR_SPLIT ? (ssize_t)PAIR_LEN : -1;
		}
		c2 = atomic_fetch_add(&clk, 1);
		if (close(fd) < 0 && n == PAIR_LEN)
			n = -1;
		atomic_store(&pair_open, false);
		if (n != PAIR_LEN) {
			if (errno == ENOSPC || errno == EINTR) {
				repro_errno(errno);
				continue;
			}
			repro_anomaly("unexpected-errno", "pair write/close %s: %s", pair_path,
				      strerror(errno));
			break;
		}
		repro_count(C_PAIR_CYCLES, 1);
		repro_ops(1);
		/* verify, with truncations held off */
		pthread_mutex_lock(&pair_lock);
		for (unsigned i = 0; i < 64 && i < pair_nte; i++) {
			/* the truncation ran somewhere in [ts, te] */
			mid |= pair_te[i] > c1 && pair_ts[i] < c2;
			after |= pair_te[i] > c2s; /* may have landed after the tail write */
		}
		fd = open(pair_path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? repro_pread_full(fd, rd, PAIR_LEN + 1, 0) : -errno;
		if (fd >= 0)
			close(fd);
		pair_nte = 0;
		pthread_mutex_unlock(&pair_lock);
		if (n < 0) {
			repro_anomaly("unexpected-errno", "pair read %s: %s", pair_path,
				      strerror((int)-n));
			break;
		}
		ssize_t bad_at = -1;

		if (n != PAIR_LEN && !(after && n == PAIR_TRUNC))
			bad = true;
		for (ssize_t i = 0; i < n && !bad; i++) {
			bool zero_ok = mid && i >= PAIR_TRUNC && i < PAIR_SPLIT;

			if (rd[i] != letter && !(zero_ok && rd[i] == 0)) {
				bad = true;
				bad_at = i;
			}
		}
		if (bad) {
			repro_anomaly("pair-data-mismatch",
				      "%s: cycle %" PRIu64
				      ": size %zd (expected %u%s), byte at %zd "
				      "is 0x%02x (expected '%c'%s)",
				      pair_path, cycle, n, PAIR_LEN, after ? " or 100" : "", bad_at,
				      bad_at >= 0 ? (unsigned char)rd[bad_at] : 0, letter,
				      mid ? ", or zero in 100..4095" : "");
			break;
		}
	}
	return NULL;
}

/* ---- setup / run / cleanup ----------------------------------------------------------- */

static int setup(void)
{
	struct statfs sf;
	pthread_rwlockattr_t ra;

	if (!*opt_name || strchr(opt_name, '/') || !strcmp(opt_name, ".") ||
	    !strcmp(opt_name, ".."))
		repro_usage_error("--name: '%s' must be a plain file name", opt_name);
	if (statfs(repro->workdir, &sf) == 0 && sf.f_type == NFS_MAGIC)
		repro_count(C_ON_NFS, 1);
	fprintf(stderr, "nfs-rotate: %s is %son NFS (fstype %s)\n", repro->dir,
		repro_counter_get(C_ON_NFS) ? "" : "not ", repro->fstype);
	live_path = repro_path("%s", opt_name);
	pair_path = repro_path("pairfile");
	apps = calloc(repro->threads, sizeof(*apps));
	if (!live_path || !pair_path || !apps)
		return -ENOMEM;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&rot_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	return 0;
}

static int run(void)
{
	int r = 0;

	for (unsigned i = 0; r == 0 && i < repro->threads; i++)
		r = repro_thread_start("appender", appender_main, (void *)(uintptr_t)i);
	if (r == 0)
		r = repro_thread_start("rotator", rotator_main, NULL);
	if (r == 0)
		r = repro_thread_start("truncator", truncator_main, NULL);
	if (r == 0 && !opt_no_pair)
		r = repro_thread_start("pair-writer", pair_writer_main, NULL);
	if (r == 0 && !opt_no_pair)
		r = repro_thread_start("pair-truncator", pair_truncator_main, NULL);
	if (r < 0)
		repro_stop();
	while (repro_running())
		repro_sleep_usec(100000);
	uint64_t deadline = now_usec() + 900000;
	repro_threads_join();
	if (r < 0)
		return r;
	/* everything is closed now: read back whatever is left (live + recent rotations) */
	retire_old(0, true, deadline);
	{
		uint64_t w = repro_counter_get(C_RECORDS_WRITTEN),
			 acc = repro_counter_get(C_RECORDS_VERIFIED) +
			       repro_counter_get(C_RECORDS_LOST_LEGIT) +
			       repro_counter_get(C_RECORDS_LOST_UNEXPLAINED) +
			       repro_counter_get(C_RECORDS_UNVERIFIED);

		fprintf(stderr,
			"nfs-rotate: records written %" PRIu64 ", verified %" PRIu64
			", lost to truncation %" PRIu64 ", lost unexplained %" PRIu64
			", not verified (time) %" PRIu64 "; rotations %" PRIu64 " (%" PRIu64
			" with unflushed data), truncations %" PRIu64 " (%" PRIu64
			" racing writers), pair cycles %" PRIu64 " (%" PRIu64
			" truncations while open)\n",
			w, repro_counter_get(C_RECORDS_VERIFIED),
			repro_counter_get(C_RECORDS_LOST_LEGIT),
			repro_counter_get(C_RECORDS_LOST_UNEXPLAINED),
			repro_counter_get(C_RECORDS_UNVERIFIED), repro_counter_get(C_ROTATIONS),
			repro_counter_get(C_ROTATIONS_UNFLUSHED), repro_counter_get(C_TRUNCATES),
			repro_counter_get(C_TRUNCATES_RACING), repro_counter_get(C_PAIR_CYCLES),
			repro_counter_get(C_PAIR_RACES));
		if (w != acc && repro_anomaly_count() == 0)
			repro_anomaly("accounting",
				      "%" PRIu64 " records written but %" PRIu64 " accounted for",
				      w, acc);
	}
	return 0;
}

static void cleanup(void)
{
	pthread_mutex_lock(&tab_lock);
	for (size_t i = 0; i < ntab; i++)
		irec_free(tab[i]);
	free(tab);
	tab = NULL;
	ntab = 0;
	pthread_mutex_unlock(&tab_lock);
	free(apps);
	free(live_path);
	free(pair_path);
}

static const struct repro_test test = {
    .name = "nfs-rotate",
    .summary = "syslog-style O_APPEND writers, log rotation (lock, rename, create, backlog, "
	       "close) and ftruncate racing them, every record accounted for (seed 003: NFS "
	       "'Invalid unlock attempted')",
    .seed = "003_6511a08bf7437241.txt",
    .common = REPRO_OPT_DURATION | REPRO_OPT_ITERATIONS | REPRO_OPT_THREADS | REPRO_OPT_SEED |
	      REPRO_OPT_SIZE,
    .options = options,
    .counters = counters,
    .race_window = "rotation while an appender still had data for the old file, truncation of "
		   "a file an appender had open with data, pair truncation between the first "
		   "write and close",
    .default_threads = 4,
    .max_threads = MAX_WRITERS - 1,
    .setup = setup,
    .run = run,
    .cleanup = cleanup,
};

int main(int argc, char **argv)
{
	return repro_main(&test, argc, argv);
}
