/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memcg-oom-fsync — file creation + write + fsync in a memory cgroup that is driven into its
 * limit until the OOM killer fires, with memory the OOM reaper cannot take back.
 *
 * Original bug (seed 002, CentOS 7 3.10.0-862+, RH bz 1911392): RHEL's backport of
 * mapping_gfp_constraint() into __add_to_page_cache_locked() dropped the __GFP_NOFAIL that
 * grow_dev_page() passes when ext4 reads metadata buffers (__getblk).  Inside a memcg at its
 * limit the page-cache charge for the block-device page then fails, and __getblk_slow() loops
 * on free_more_memory() forever -- while it holds a jbd2 handle (ext4_create ->
 * __ext4_new_inode -> ext4_mark_inode_dirty -> __ext4_get_inode_loc -> __getblk).  The jbd2
 * thread waits in jbd2_journal_commit_transaction() for t_updates to drop to 0; the OOM victim
 * (the process holding most of the memcg's memory) sits in fsync -> jbd2_log_wait_commit(),
 * uninterruptible, so it never exits and never frees memory: deadlock, the whole ext4 hangs
 * ("task ... blocked for more than 120 seconds").
 *
 * Pattern, in one process:
 *  - --threads workers: create a new file in a per-worker directory (ext4_create: new inode,
 *    inode table and directory blocks -> __getblk), write 16..--file-max KiB of self-verifying
 *    4 KiB blocks, fsync, close; old files are unlinked to stay under --size.
 *  - a "parker" thread: appends 4 KiB and fsyncs in a loop, so that whenever the OOM killer
 *    picks this process one of its threads is most likely inside fsync waiting for a jbd2
 *    commit (the seed's victim state).
 *  - a hog thread: grows memory the 6.1 OOM reaper cannot free (--hog memfd: a MAP_SHARED
 *    memfd mapping = shmem; --hog mlock: mlocked anonymous memory; --hog anon for comparison)
 *    fast until 80% of the memcg limit, then slowly, so that creates and fsyncs run for a
 *    while with the memcg at its limit, and finally past the limit -> memcg OOM kill.
 *  - a sampler thread: memory.usage_in_bytes/memory.current and the limit-hit counter
 *    (v1 memory.failcnt, v2 memory.events "max") every 20 ms; it defines "under pressure".
 * The program creates no cgroup: it runs inside whatever memcg it is started in (a supervisor
 * restarts it after the kill).  Outside a limited memcg the hog stops at --hog-max, releases
 * and grows again, so a run on a host is harmless.
 *
 * Self-check: a worker appends "S gen worker seq size" to the instance manifest after fsync
 * returned (and "D ..." before it unlinks a file).  The next start with the same --instance
 * (and the end of a clean run) reads every fsynced file back and checks every block (file id,
 * generation, offset, CRC-32C): a missing, short or corrupt fsynced file is an anomaly.
 * A state file (state.json, rewritten every second) carries the counters across the kill.
 *
 * Race-window hits: creates and fsyncs that completed under memcg pressure (memcg within 10%
 * of its limit, or its limit-hit counter grew while the operation ran), and hog allocations
 * made under pressure while one of our fsyncs was in flight.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memcg.h"
#include "repro.h"

#define BS	   4096u
#define MIB	   ((uint64_t)1 << 20)
#define WRITE_MAX  (64u * 1024)
#define PARKER_MAX (1024u * 1024)

/* ---- options ------------------------------------------------------------------------- */

static const char *opt_instance;
static const char *opt_hog = "memfd";
static uint64_t opt_hog_max = 256 * MIB;
static uint64_t opt_hog_rate = 64 * MIB;
static uint64_t opt_hog_step = 1 * MIB;
static uint64_t opt_hog_pct;
static uint64_t opt_file_max = 128 * 1024;
static uint64_t opt_parkers = 1;
static uint64_t opt_hog_procs;
static uint64_t opt_hold_room;
static uint64_t opt_ballast;
static bool opt_oom_immune;

static const char *opt_workload = "data";
static uint64_t opt_meta_open = 4096;

static const char *const hog_kinds[] = {"memfd", "mlock", "anon", "none", NULL};
static const char *const workloads[] = {"data", "meta", NULL};

static const struct repro_option options[] = {
    {"instance", "ID",
     "name this worker instance ([A-Za-z0-9_.-], <= 64); state and fsynced files persist in "
     "DIR/memcg-oom-fsync.i<ID>/ and the next start with the same ID verifies them",
     REPRO_ARG_STRING, &opt_instance, 0, 0, NULL},
    {"hog", "KIND",
     "memory the hog grows: memfd (shmem, not reapable), mlock (locked anon, not reapable), "
     "anon (reapable, for comparison), none (no hog thread: --ballast fills the memcg)",
     REPRO_ARG_CHOICE, &opt_hog, 0, 0, hog_kinds},
    {"hog-max", "BYTES",
     "outside a limited memcg the hog stops here, releases and grows again (default 256M)",
     REPRO_ARG_SIZE, &opt_hog_max, 1 * MIB, 1ull << 40, NULL},
    {"hog-rate", "BYTES", "hog growth per second below 80% of the limit (1/8 above; 64M)",
     REPRO_ARG_SIZE, &opt_hog_rate, 64 * 1024, 1ull << 40, NULL},
    {"hog-step", "BYTES", "hog allocation step (default 1M; 1/4 of it near the limit)",
     REPRO_ARG_SIZE, &opt_hog_step, 64 * 1024, 1ull << 30, NULL},
    {"hog-limit-pct", "PCT",
     "inside a limited memcg stop the hog at PCT% of the room left at start (pressure "
     "without an OOM kill); 0 = grow past the limit until killed (default)",
     REPRO_ARG_U64, &opt_hog_pct, 0, 100, NULL},
    {"file-max", "BYTES", "largest file a worker writes (16K..; default 128K)", REPRO_ARG_SIZE,
     &opt_file_max, 16 * 1024, 64 * MIB, NULL},
    {"parkers", "N", "threads that append+fsync in a loop (default 1)", REPRO_ARG_U64, &opt_parkers,
     0, 16, NULL},
    {"hog-procs", "N",
     "N child processes hog too, beside the hog thread: each grows memory at full speed and "
     "appends+fsyncs near the limit, so a victim is most likely a child in fsync; a killed "
     "child is replaced at once (many OOM kills per second), while the paced hog thread "
     "makes this process the victim now and then (default 0); with --hog-limit-pct the "
     "children are the victims (oom_score_adj 1000, and -1000 for this process)",
     REPRO_ARG_U64, &opt_hog_procs, 0, 16, NULL},
    {"hog-procs-hold", "BYTES",
     "the --hog-procs children stop growing at their share of the room the memcg has when "
     "they start, less BYTES, and then change their file's mode and fsync it in a loop: an OOM "
     "victim caught in fsync (jbd2_log_wait_commit), not in a page fault; this process "
     "takes oom_score_adj -1000, so they are the OOM killer's only choice, and a killed one "
     "that cannot exit leaves the killer none; the hog thread does not run (default 0: off)",
     REPRO_ARG_SIZE, &opt_hold_room, 0, 1ull << 30, NULL},
    {"ballast", "PCT",
     "inside a limited memcg first fill it up to PCT% of its limit with shmem that no task "
     "maps (fallocate on a memfd held open): charged and not reclaimable (swap 0), but in no "
     "task's RSS, so the OOM killer never picks its holder for it; the hogs then reach the "
     "limit, and an OOM kill, after (100-PCT)% of it instead of all of it (default 0)",
     REPRO_ARG_U64, &opt_ballast, 0, 99, NULL},
    {"oom-immune", NULL,
     "this process takes oom_score_adj -1000 (a daemon the OOM killer must not pick, as many "
     "set it); with --ballast it holds the memcg's memory, which no OOM kill can free, and "
     "gives 1M of it back only after an fsync returned, when the workload has been stuck "
     "for a second (needs CAP_SYS_RESOURCE)",
     REPRO_ARG_FLAG, &opt_oom_immune, 0, 0, NULL},
    {"workload", "KIND",
     "what the --threads threads do: data (create, write, fsync, read back, unlink) or meta "
     "(create empty files with a 3000-byte user xattr each and keep them open: every charge "
     "they make is slab or a block-device page, most of it under a jbd2 handle; default data)",
     REPRO_ARG_CHOICE, &opt_workload, 0, 0, workloads},
    {"meta-open", "N",
     "--workload meta: files a thread keeps open before it closes and unlinks the older "
     "half (default 4096)",
     REPRO_ARG_U64, &opt_meta_open, 16, 1 << 20, NULL},
    {0},
};

/* ---- counters ------------------------------------------------------------------------ */

enum {
	C_CREATES,
	C_XATTRS,
	C_WRITES,
	C_WRITE_BYTES,
	C_FSYNCS,
	C_UNLINKS,
	C_CREATES_PRESSURE,
	C_FSYNCS_PRESSURE,
	C_PARKER_FSYNCS,
	C_FSYNC_MAX_MS,
	C_ALLOCS,
	C_ALLOC_BYTES,
	C_HOG_PEAK,
	C_HOG_CYCLES,
	C_ALLOCS_DURING_FSYNC,
	C_LIMIT_HITS,
	C_USAGE_PEAK,
	C_MEMCG_LIMIT,
	C_MEMCG_OOM_KILLS,
	C_GENERATION,
	C_PREV_GENERATION,
	C_PREV_KILLED,
	C_PREV_ELAPSED_MS,
	C_PREV_CREATES,
	C_PREV_FSYNCS,
	C_PREV_VERIFIED_FILES,
	C_PREV_VERIFIED_BLOCKS,
	C_PREV_UNSYNCED_FILES,
	C_VERIFIED_FILES,
	C_VERIFIED_BLOCKS,
	C_VERIFY_SKIPPED,
	C_HOG_PROC_KILLS,
	C_HOG_PROC_STARTS,
	C_BALLAST_BYTES,
	C_VALVE_RELEASES,
	C_VALVE_FSYNC_MAX_MS,
	C__MAX
};

static const char *const counters[] = {
    [C_CREATES] = "creates",
    [C_XATTRS] = "xattrs",
    [C_WRITES] = "writes",
    [C_WRITE_BYTES] = "write_bytes",
    [C_FSYNCS] = "fsyncs",
    [C_UNLINKS] = "unlinks",
    [C_CREATES_PRESSURE] = "creates_under_pressure",
    [C_FSYNCS_PRESSURE] = "fsyncs_under_pressure",
    [C_PARKER_FSYNCS] = "parker_fsyncs",
    [C_FSYNC_MAX_MS] = "fsync_max_ms",
    [C_ALLOCS] = "allocs",
    [C_ALLOC_BYTES] = "alloc_bytes",
    [C_HOG_PEAK] = "hog_peak_bytes",
    [C_HOG_CYCLES] = "hog_cycles",
    [C_ALLOCS_DURING_FSYNC] = "allocs_during_fsync",
    [C_LIMIT_HITS] = "memcg_limit_hits",
    [C_USAGE_PEAK] = "memcg_usage_peak",
    [C_MEMCG_LIMIT] = "memcg_limit",
    [C_MEMCG_OOM_KILLS] = "memcg_oom_kills_at_start",
    [C_GENERATION] = "generation",
    [C_PREV_GENERATION] = "prev_generation",
    [C_PREV_KILLED] = "prev_killed",
    [C_PREV_ELAPSED_MS] = "prev_elapsed_ms",
    [C_PREV_CREATES] = "prev_creates",
    [C_PREV_FSYNCS] = "prev_fsyncs",
    [C_PREV_VERIFIED_FILES] = "prev_verified_files",
    [C_PREV_VERIFIED_BLOCKS] = "prev_verified_blocks",
    [C_PREV_UNSYNCED_FILES] = "prev_unsynced_files",
    [C_VERIFIED_FILES] = "verified_files",
    [C_VERIFIED_BLOCKS] = "verified_blocks",
    [C_VERIFY_SKIPPED] = "verify_skipped_files",
    [C_HOG_PROC_KILLS] = "hog_proc_kills",
    [C_HOG_PROC_STARTS] = "hog_proc_starts",
    [C_BALLAST_BYTES] = "ballast_bytes",
    [C_VALVE_RELEASES] = "valve_releases",
    [C_VALVE_FSYNC_MAX_MS] = "valve_fsync_max_ms",
    NULL,
};

/* Raise a "peak" counter to v (counters only add). */
static pthread_mutex_t peak_lock = PTHREAD_MUTEX_INITIALIZER;
static void count_max(unsigned idx, uint64_t v)
{
	pthread_mutex_lock(&peak_lock);
	uint64_t cur = repro_counter_get(idx);
	if (v > cur)
		repro_count(idx, v - cur);
	pthread_mutex_unlock(&peak_lock);
}

/* ---- state --------------------------------------------------------------------------- */

static struct memcg_info memcg;
static char *idir;	 /* instance directory (workdir when no --instance) */
static int idir_fd = -1; /* open on idir, for the hog children's files */
static int lock_fd = -1; /* flock'ed for the life of the process */
static int manifest_fd = -1;
static uint64_t generation = 1;

static int ballast_fd = -1;   /* --ballast memfd, held for the life of the process */
static uint64_t ballast_size; /* bytes ballast_fill() allocated */
static atomic_bool near_limit;
static atomic_uint_fast64_t pressure_epoch;
static atomic_int fsync_inflight;
static uint64_t usage_at_start;
/* --hog-procs-hold with --workload meta: how many meta threads are inside fsetxattr now,
 * in memory shared with the hog children (set up before they fork) */
static atomic_long *meta_busy;

static bool under_pressure(uint64_t epoch_before)
{
	return memcg.limited &&
	       (atomic_load(&near_limit) || atomic_load(&pressure_epoch) != epoch_before);
}

static uint64_t file_id(unsigned worker, uint64_t seq)
{
	return ((uint64_t)worker << 40) | seq;
}

static char *data_path(uint64_t gen, unsigned worker, uint64_t seq)
{
	return strdupf("%s/w%u/g%" PRIu64 "-%" PRIu64 ".dat", idir, worker, gen, seq);
}

/* --workload meta's empty files (sweep_unsynced() knows them by ".m") */
static char *meta_path(uint64_t gen, unsigned worker, uint64_t seq)
{
	return strdupf("%s/w%u/g%" PRIu64 "-%" PRIu64 ".m", idir, worker, gen, seq);
}

/* Write /proc/self/oom_score_adj (no stdio: also used in a child forked from a threaded
 * process).  Raising it needs no privilege, lowering it CAP_SYS_RESOURCE.  -errno. */
static int set_oom_score_adj(const char *v)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC), r = 0;
	size_t n = strlen(v);

	if (fd < 0)
		return -errno;
	if (write(fd, v, n) != (ssize_t)n)
		r = -errno;
	close(fd);
	return r;
}

/* One manifest line in one write(2) (O_APPEND): survives a SIGKILL of this process.
 * False when it did not land whole (a write at the memcg limit can fail with ENOMEM): the
 * caller must not act as if it had -- a file unlinked without its "D" line reads as an
 * fsynced file that vanished to the next generation. */
static bool manifest_add(char type, uint64_t gen, unsigned worker, uint64_t seq, uint64_t size)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "%c %" PRIu64 " %u %" PRIu64 " %" PRIu64 "\n", type,
			 gen, worker, seq, size);

	errno = 0;
	if (write(manifest_fd, line, (size_t)n) != n) {
		repro_errno(errno ? errno : EIO);
		return false;
	}
	return true;
}

/* ---- verification -------------------------------------------------------------------- */

struct mentry {
	uint64_t gen, seq, size;
	unsigned worker;
	bool synced, deleted;
};

static int mentry_cmp(const void *a, const void *b)
{
	const struct mentry *x = a, *y = b;

	if (x->gen != y->gen)
		return x->gen < y->gen ? -1 : 1;
	if (x->worker != y->worker)
		return x->worker < y->worker ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* Read the manifest, merge S and D lines per file.  Returns count or negative errno. */
static ssize_t manifest_load(struct mentry **ret)
{
	_cleanup_free_ char *p = strdupf("%s/manifest", idir), *line = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	struct mentry *v = NULL;
	size_t n = 0, cap = 0, lcap = 0, out = 0;

	*ret = NULL;
	if (!p)
		return -ENOMEM;
	f = fopen(p, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &lcap, f) > 0) {
		struct mentry e = {0};
		char type;

		if (sscanf(line, "%c %" SCNu64 " %u %" SCNu64 " %" SCNu64, &type, &e.gen, &e.worker,
			   &e.seq, &e.size) != 5 ||
		    (type != 'S' && type != 'D'))
			continue; /* a torn last line (ENOSPC) */
		e.synced = type == 'S';
		e.deleted = type == 'D';
		if (n == cap) {
			struct mentry *nv = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = e;
	}
	if (n)
		qsort(v, n, sizeof(*v), mentry_cmp);
	for (size_t i = 0; i < n; i++) {
		if (out && !mentry_cmp(&v[out - 1], &v[i])) {
			v[out - 1].synced |= v[i].synced;
			v[out - 1].deleted |= v[i].deleted;
			if (v[i].synced)
				v[out - 1].size = v[i].size;
			continue;
		}
		v[out++] = v[i];
	}
	*ret = v;
	return (ssize_t)out;
}

/* Check one fsynced file block by block.  Returns true if intact. */
static bool verify_file(const struct mentry *e, uint64_t *blocks)
{
	_cleanup_free_ char *p = data_path(e->gen, e->worker, e->seq);
	_cleanup_free_ void *buf = malloc(BS);
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (!p || !buf) {
		repro_errno(ENOMEM);
		return false;
	}
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		repro_anomaly("fsynced-file-missing",
			      "%s: %s (fsync returned for it, generation %" PRIu64 ")", p,
			      strerror(errno), e->gen);
		return false;
	}
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != e->size) {
		repro_anomaly("fsynced-file-size",
			      "%s: size %jd, expected %" PRIu64 " (fsync returned for it)", p,
			      (intmax_t)st.st_size, e->size);
		return false;
	}
	for (uint64_t off = 0; off < e->size; off += BS) {
		ssize_t r = repro_pread_full(fd, buf, BS, (off_t)off);
		struct repro_block_hdr h;
		enum repro_block_state s;

		if (r != BS) {
			repro_anomaly("fsynced-file-size", "%s: read at %" PRIu64 ": %s", p, off,
				      r < 0 ? strerror((int)-r) : "short read");
			return false;
		}
		s = repro_block_check(buf, BS, file_id(e->worker, e->seq), off, &h);
		if (s != REPRO_BLOCK_OK || h.gen != e->gen) {
			_cleanup_free_ char *d =
			    repro_block_describe(buf, BS, file_id(e->worker, e->seq), off, e->gen);

			repro_anomaly("fsynced-data-mismatch", "%s: %s", p,
				      d ? d : repro_block_state_name(s));
			return false;
		}
		(*blocks)++;
	}
	return true;
}

/* Verify every fsynced, not deleted file of generations [gmin, gmax]; with remove, delete
 * each verified file.  deadline (now_usec() clock, 0 = none): files left when it passes are
 * counted in verify_skipped_files and kept for the next start.  Counts into cfiles/cblocks. */
static int verify_manifest(uint64_t gmin, uint64_t gmax, bool remove, unsigned cfiles,
			   unsigned cblocks, uint64_t deadline)
{
	struct mentry *v = NULL;
	ssize_t n = manifest_load(&v);

	if (n < 0)
		return (int)n;
	for (ssize_t i = 0; i < n && repro_anomaly_count() == 0; i++) {
		uint64_t blocks = 0;

		if (v[i].gen < gmin || v[i].gen > gmax || !v[i].synced || v[i].deleted)
			continue;
		if (deadline && now_usec() > deadline) {
			repro_count(C_VERIFY_SKIPPED, 1);
			continue;
		}
		if (!verify_file(&v[i], &blocks))
			break;
		repro_count(cfiles, 1);
		repro_count(cblocks, blocks);
		if (remove) {
			_cleanup_free_ char *p = data_path(v[i].gen, v[i].worker, v[i].seq);

			if (p)
				(void)unlink(p);
		}
	}
	free(v);
	return 0;
}

/* Files of earlier generations the manifest does not list as fsynced: the kill came between
 * create and the manifest line.  Counted and removed (unless --keep), not checked. */
static void sweep_unsynced(uint64_t gen_now)
{
	struct mentry *v = NULL;
	ssize_t n = manifest_load(&v);

	if (n < 0)
		n = 0;
	for (unsigned w = 0; w < 4096; w++) {
		_cleanup_free_ char *d = strdupf("%s/w%u", idir, w);
		DIR *dir = d ? opendir(d) : NULL;
		struct dirent *de;

		if (!dir)
			break;
		while ((de = readdir(dir))) {
			struct mentry key = {.worker = w};
			size_t len = strlen(de->d_name);

			/* --workload meta files: never fsynced, never verified */
			if (de->d_name[0] == 'g' && len > 2 &&
			    !strcmp(de->d_name + len - 2, ".m")) {
				if (!repro->keep)
					(void)unlinkat(dirfd(dir), de->d_name, 0);
				continue;
			}

			if (sscanf(de->d_name, "g%" SCNu64 "-%" SCNu64 ".dat", &key.gen,
				   &key.seq) != 2 ||
			    key.gen >= gen_now)
				continue;
			struct mentry *e =
			    n ? bsearch(&key, v, (size_t)n, sizeof(*v), mentry_cmp) : NULL;
			if (e && e->synced && !e->deleted)
				continue;
			repro_count(C_PREV_UNSYNCED_FILES, 1);
			if (!repro->keep)
				(void)unlinkat(dirfd(dir), de->d_name, 0);
		}
		closedir(dir);
	}
	free(v);
	/* parker files of earlier generations */
	for (unsigned i = 0; i < 16 && !repro->keep; i++)
		for (uint64_t g = gen_now > 8 ? gen_now - 8 : 1; g < gen_now; g++) {
			_cleanup_free_ char *pp = strdupf("%s/parker%u-g%" PRIu64, idir, i, g);

			if (pp)
				(void)unlink(pp);
		}
}

/* ---- state file ---------------------------------------------------------------------- */

/* temp file + rename, no fsync: it must survive a SIGKILL of this process (page cache is
 * enough), not a crash, and the sampler thread that calls it must not wait for the journal. */
static int write_state(const char *path, const char *txt)
{
	_cleanup_free_ char *tmp = strdupf("%s.tmp", path);
	size_t len = strlen(txt);
	int fd, r = 0;

	if (!tmp)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, txt, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

static void state_write(bool ended)
{
	_cleanup_free_ char *p = strdupf("%s/state.json", idir);
	struct json_object *o = json_object_new_object(), *c = json_object_new_object();

	if (!p || !o || !c)
		goto out;
	json_object_object_add(o, "instance",
			       json_object_new_string(opt_instance ? opt_instance : ""));
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)generation));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "elapsed", json_object_new_double(repro_elapsed()));
	json_object_object_add(o, "ended", json_object_new_boolean(ended));
	json_object_object_add(o, "anomalies",
			       json_object_new_int64((int64_t)repro_anomaly_count()));
	for (unsigned i = 0; i < C__MAX; i++)
		json_object_object_add(c, counters[i],
				       json_object_new_int64((int64_t)repro_counter_get(i)));
	json_object_object_add(o, "counters", json_object_get(c));
	{
		const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		_cleanup_free_ char *txt = strdupf("%s\n", s);

		if (txt)
			(void)write_state(p, txt);
	}
out:
	json_object_put(c);
	json_object_put(o);
}

static uint64_t json_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

/* Read the previous generation's state; sets generation.  */
static void state_read_previous(void)
{
	_cleanup_free_ char *p = strdupf("%s/state.json", idir);
	struct json_object *o = p ? json_object_from_file(p) : NULL, *c = NULL, *v;
	uint64_t prev_gen, pid;
	bool ended;

	if (!o)
		return;
	prev_gen = json_u64(o, "generation");
	pid = json_u64(o, "pid");
	ended = json_object_object_get_ex(o, "ended", &v) && json_object_get_boolean(v);
	json_object_object_get_ex(o, "counters", &c);
	generation = prev_gen + 1;
	repro_count(C_PREV_GENERATION, prev_gen);
	repro_count(C_PREV_KILLED, ended ? 0 : 1);
	if (json_object_object_get_ex(o, "elapsed", &v))
		repro_count(C_PREV_ELAPSED_MS, (uint64_t)(json_object_get_double(v) * 1000));
	repro_count(C_PREV_CREATES, json_u64(c, "creates"));
	repro_count(C_PREV_FSYNCS, json_u64(c, "fsyncs"));
	fprintf(stderr,
		"memcg-oom-fsync: instance %s generation %" PRIu64 ": previous generation %" PRIu64
		" (pid %" PRIu64 ") %s after %.1f s with %" PRIu64 " creates, %" PRIu64
		" fsyncs, %" PRIu64 " creates / %" PRIu64 " fsyncs under memcg pressure\n",
		opt_instance, generation, prev_gen, pid, ended ? "ended cleanly" : "was killed",
		repro_counter_get(C_PREV_ELAPSED_MS) / 1000.0, json_u64(c, "creates"),
		json_u64(c, "fsyncs"), json_u64(c, "creates_under_pressure"),
		json_u64(c, "fsyncs_under_pressure"));
	/* The library's private work dir of a killed run is left behind, empty: tidy it. */
	if (!ended && pid) {
		_cleanup_free_ char *w = strdupf("%s/memcg-oom-fsync.%" PRIu64, repro->dir, pid);

		if (w)
			(void)rmdir(w);
	}
	json_object_put(o);
}

/* ---- threads ------------------------------------------------------------------------- */

static void note_fsync_latency(uint64_t t0)
{
	count_max(C_FSYNC_MAX_MS, (now_usec() - t0) / 1000);
}

/* Tolerated errnos under memory/disk pressure; anything else is an anomaly. */
static bool tolerated(int e)
{
	return e == ENOSPC || e == ENOMEM || e == EDQUOT || e == EINTR;
}

struct wfile {
	uint64_t seq, size;
};

static void *worker_main(void *arg)
{
	unsigned w = (unsigned)(uintptr_t)arg;
	uint64_t budget = repro->size / repro->threads, live = 0, seq = 0;
	struct wfile *ring = NULL;
	size_t nring = 0, cap = 0;
	void *buf = malloc(WRITE_MAX);
	struct repro_rng rng;

	repro_rng_init(&rng, 100 + w);
	if (!buf) {
		repro_errno(ENOMEM);
		return NULL;
	}
	while (repro_next_iteration()) {
		uint64_t nblocks = 4 + repro_rng_below(&rng, opt_file_max / BS - 3);
		uint64_t size = nblocks * BS, done = 0, ep;
		_cleanup_free_ char *p = data_path(generation, w, ++seq);
		int fd, e = 0;
		const char *op = "open";

		/* stay under the disk budget: drop the oldest files first */
		while (nring && (live + size > budget || nring > 4096)) {
			_cleanup_free_ char *old = data_path(generation, w, ring[0].seq);
			struct mentry me = {.gen = generation,
					    .seq = ring[0].seq,
					    .size = ring[0].size,
					    .worker = w,
					    .synced = true};
			uint64_t blocks = 0;

			/* read it back first (likely evicted by now: reads under pressure too) */
			if (!verify_file(&me, &blocks))
				goto out;
			repro_count(C_VERIFIED_FILES, 1);
			repro_count(C_VERIFIED_BLOCKS, blocks);
			/* without its "D" line the file stays: the next generation verifies it */
			if (manifest_add('D', generation, w, ring[0].seq, ring[0].size) && old &&
			    unlink(old) == 0)
				repro_count(C_UNLINKS, 1);
			live -= ring[0].size;
			memmove(ring, ring + 1, --nring * sizeof(*ring));
		}
		if (!p)
			break;
		ep = atomic_load(&pressure_epoch);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			e = errno;
			goto fail;
		}
		repro_count(C_CREATES, 1);
		repro_ops(1);
		if (under_pressure(ep)) {
			repro_count(C_CREATES_PRESSURE, 1);
			repro_race_hit(1);
		}
		op = "write";
		while (done < size) {
			size_t len = size - done > WRITE_MAX ? WRITE_MAX : (size_t)(size - done);
			ssize_t r;

			repro_blocks_fill(buf, BS, len / BS, file_id(w, seq), generation, done, 0);
			r = repro_pwrite_full(fd, buf, len, (off_t)done);
			if (r < 0) {
				e = (int)-r;
				break;
			}
			if ((size_t)r != len) {
				repro_anomaly("short-write",
					      "%s: pwrite at %" PRIu64 " returned %zd of %zu", p,
					      done, r, len);
				e = -1;
				break;
			}
			done += len;
			repro_count(C_WRITES, 1);
			repro_count(C_WRITE_BYTES, len);
			repro_ops(1);
		}
		if (!e) {
			uint64_t t0 = now_usec();

			op = "fsync";
			ep = atomic_load(&pressure_epoch);
			atomic_fetch_add(&fsync_inflight, 1);
			if (fsync(fd) < 0)
				e = errno;
			atomic_fetch_sub(&fsync_inflight, 1);
			note_fsync_latency(t0);
			if (!e) {
				repro_count(C_FSYNCS, 1);
				repro_ops(1);
				if (under_pressure(ep)) {
					repro_count(C_FSYNCS_PRESSURE, 1);
					repro_race_hit(1);
				}
			}
		}
		close(fd);
		if (!e) {
			(void)manifest_add('S', generation, w, seq, size); /* lost: unverified */
			if (nring == cap) {
				struct wfile *n =
				    realloc(ring, (cap = cap ? cap * 2 : 64) * sizeof(*ring));
				if (!n) {
					repro_errno(ENOMEM);
					break;
				}
				ring = n;
			}
			ring[nring++] = (struct wfile){seq, size};
			live += size;
			continue;
		}
		(void)unlink(p); /* incomplete: never listed as fsynced */
	fail:
		if (e < 0)
			break;
		if (!tolerated(e)) {
			repro_anomaly("unexpected-errno", "%s %s: %s", op, p, strerror(e));
			break;
		}
		repro_errno(e);
		if (e == ENOSPC && nring) /* make room and go on */
			budget = live > 2 * BS ? live / 2 : budget;
		repro_sleep_usec(1000);
	}
out:
	free(ring);
	free(buf);
	return NULL;
}

/* --workload meta: create empty files, give each a user xattr too big for the inode (a new
 * xattr block of its own: the values differ, so mbcache cannot share one), and keep them
 * open.  Their inodes, dentries and files stay pinned (nothing reclaim can take) and no
 * data page is ever charged.  The thread's time goes to ext4_create() -- the new inode's
 * inode table block and the directory block under a jbd2 handle -- and to
 * ext4_xattr_block_set(), which allocates the xattr block and sb_getblk()s it under its
 * handle: a block-device page charged to this memcg for nearly every file.  That is the
 * charge whose failure began the seed's spin; a data writer holds no handle when its
 * page-cache charge fails.  At --meta-open files the older half is closed and unlinked. */
#define META_XATTR 3000
static void *meta_main(void *arg)
{
	unsigned w = (unsigned)(uintptr_t)arg;
	size_t cap = (size_t)opt_meta_open, n = 0;
	_cleanup_free_ int *fds = calloc(cap, sizeof(*fds));
	_cleanup_free_ uint64_t *seqs = calloc(cap, sizeof(*seqs));
	_cleanup_free_ uint64_t *val = malloc(META_XATTR + 8);
	struct repro_rng rng;
	uint64_t seq = 0;
	/* On the stack, not in .rodata: in a memcg at its limit with no OOM victim, a file page
	 * of the program that reclaim took cannot be read back in, and a system call reading
	 * its argument from it fails with EFAULT; the stack stays resident. */
	char xname[] = "user.kdrill";

	repro_rng_init(&rng, 200 + w);
	if (!fds || !seqs || !val) {
		repro_errno(ENOMEM);
		return NULL;
	}
	while (repro_next_iteration()) {
		_cleanup_free_ char *p = NULL;
		uint64_t ep = atomic_load(&pressure_epoch);
		int fd, e;

		if (n == cap) {
			size_t half = cap / 2;

			for (size_t i = 0; i < half; i++) {
				_cleanup_free_ char *old = meta_path(generation, w, seqs[i]);
				close(fds[i]);
				if (old && unlink(old) == 0)
					repro_count(C_UNLINKS, 1);
			}
			memmove(fds, fds + half, (n - half) * sizeof(*fds));
			memmove(seqs, seqs + half, (n - half) * sizeof(*seqs));
			n -= half;
		}
		p = meta_path(generation, w, ++seq);
		if (!p)
			break;
		fd = open(p, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			e = errno;
			if (!tolerated(e) && e != EMFILE && e != ENFILE) {
				repro_anomaly("unexpected-errno", "open %s: %s", p, strerror(e));
				break;
			}
			repro_errno(e);
			if ((e == EMFILE || e == ENFILE) && n > 0)
				cap = n;
			repro_sleep_usec(1000);
			continue;
		}
		repro_count(C_CREATES, 1);
		repro_ops(1);
		if (under_pressure(ep)) {
			repro_count(C_CREATES_PRESSURE, 1);
			repro_race_hit(1);
		}
		fds[n] = fd;
		seqs[n++] = seq;
		for (size_t i = 0; i < (META_XATTR + 7) / 8; i++)
			val[i] = repro_rng_next(&rng);
		ep = atomic_load(&pressure_epoch);
		if (meta_busy)
			atomic_fetch_add(meta_busy, 1);
		e = fsetxattr(fd, xname, val, META_XATTR, 0) < 0 ? errno : 0;
		if (meta_busy)
			atomic_fetch_sub(meta_busy, 1);
		if (e) {
			/* no user xattrs here (EOPNOTSUPP): plain creates */
			if (!tolerated(e) && e != EOPNOTSUPP) {
				repro_anomaly("unexpected-errno", "fsetxattr %s: %s", p,
					      strerror(e));
				break;
			}
			repro_errno(e);
			continue;
		}
		repro_count(C_XATTRS, 1);
		repro_ops(1);
		if (under_pressure(ep))
			repro_race_hit(1);
	}
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return NULL;
}

static void *parker_main(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	_cleanup_free_ char *p = strdupf("%s/parker%u-g%" PRIu64, idir, id, generation);
	_cleanup_free_ void *buf = malloc(BS);
	_cleanup_close_ int fd = -1;
	uint64_t off = 0;

	if (!p || !buf)
		return NULL;
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		repro_anomaly("unexpected-errno", "open %s: %s", p, strerror(errno));
		return NULL;
	}
	while (repro_running()) {
		uint64_t ep, t0;
		int e = 0;

		repro_block_fill(buf, BS, ~0ull - id, generation, off, 1);
		if (pwrite(fd, buf, BS, (off_t)off) != BS) {
			e = errno;
			if (!tolerated(e)) {
				repro_anomaly("unexpected-errno", "pwrite %s: %s", p, strerror(e));
				break;
			}
			repro_errno(e);
			(void)ftruncate(fd, 0);
			off = 0;
			repro_sleep_usec(1000);
			continue;
		}
		off += BS;
		ep = atomic_load(&pressure_epoch);
		t0 = now_usec();
		atomic_fetch_add(&fsync_inflight, 1);
		if (fsync(fd) < 0)
			e = errno;
		atomic_fetch_sub(&fsync_inflight, 1);
		note_fsync_latency(t0);
		if (e) {
			if (!tolerated(e)) {
				repro_anomaly("unexpected-errno", "fsync %s: %s", p, strerror(e));
				break;
			}
			repro_errno(e);
		} else {
			repro_count(C_PARKER_FSYNCS, 1);
			repro_ops(1);
			if (under_pressure(ep)) {
				repro_count(C_FSYNCS_PRESSURE, 1);
				repro_race_hit(1);
			}
		}
		if (off >= PARKER_MAX) {
			if (ftruncate(fd, 0) < 0)
				repro_errno(errno);
			off = 0;
		}
	}
	if (!repro->keep)
		(void)unlink(p);
	return NULL;
}

/* --ballast: fill the memcg up to opt_ballast % of its limit with shmem pages of a memfd
 * that is never mapped.  They stay charged (shmem, swap 0: reclaim cannot take them) but
 * count in no task's RSS: the OOM killer's badness ignores them, so the victims remain the
 * hogs, and each kill only needs the hogs to refill the rest of the limit.  Several
 * processes of one memcg fill together (each step re-reads the usage): the overshoot is at
 * most one step per process.  Filled in setup(), before any hog runs, so that the hogs do
 * not take the room first.  Returns the memfd (held until exit), or -1. */
#define BALLAST_STEP (256u * 1024)
static int ballast_fill(void)
{
	uint64_t target = memcg.limit / 100 * opt_ballast, size = 0;
	struct memcg_sample s;
	int fd;

	if (!opt_ballast || !memcg.limited || !memcg.version)
		return -1;
	fd = memfd_create("kdrill-ballast", MFD_CLOEXEC);
	if (fd < 0) {
		repro_errno(errno);
		return -1;
	}
	while (repro_running() && memcg_sample(&memcg, &s) == 0 &&
	       s.usage + BALLAST_STEP <= target) {
		if (fallocate(fd, 0, (off_t)size, BALLAST_STEP) < 0) {
			repro_errno(errno);
			break;
		}
		size += BALLAST_STEP;
		repro_count(C_BALLAST_BYTES, BALLAST_STEP);
	}
	ballast_size = size;
	return fd;
}

/* --ballast with --oom-immune: the ballast's holder cannot be OOM-killed, so the memcg gets
 * memory back only from this thread.  When the workload has made no progress for a second,
 * it changes its own file's mode and fsyncs it -- a jbd2 commit of the running transaction
 * -- and only after the fsync returned punches VALVE_STEP out of the ballast; the ballast
 * grows back, a step a second, when the memcg has room.  That is the seed's OOM victim,
 * which could give its memory back only after its fsync returned: where a jbd2 handle
 * holder waits for a memcg charge that cannot fail (seed 002), the fsync waits for that
 * handle's commit (jbd2_log_wait_commit), nothing is given back and the journal stops.
 * Elsewhere the workload goes on, in bursts. */
#define VALVE_STEP (1024u * 1024)
static uint64_t progress(void)
{
	return repro_counter_get(C_CREATES) + repro_counter_get(C_XATTRS) +
	       repro_counter_get(C_WRITES) + repro_counter_get(C_FSYNCS);
}

static void *valve_main(void *arg)
{
	_cleanup_free_ char *p = strdupf("%s/valve-g%" PRIu64, idir, generation);
	_cleanup_close_ int fd = -1;
	uint64_t size = ballast_size, last = progress(), t = now_usec(), moved = t, grown = t;
	mode_t mode = 0644;

	(void)arg;
	if (!p || (fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0) {
		repro_errno(p ? errno : ENOMEM);
		return NULL;
	}
	while (repro_sleep_usec(100000)) {
		uint64_t now = now_usec(), done = progress();
		struct memcg_sample s;

		if (done != last) {
			last = done;
			moved = now;
		}
		if (now - moved >= 1000000 && size >= VALVE_STEP) {
			mode ^= 0200;
			if (fchmod(fd, mode) < 0)
				repro_errno(errno);
			if (fsync(fd) < 0)
				repro_errno(errno);
			count_max(C_VALVE_FSYNC_MAX_MS, (now_usec() - now) / 1000);
			if (fallocate(ballast_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (off_t)(size - VALVE_STEP), VALVE_STEP) == 0) {
				size -= VALVE_STEP;
				repro_count(C_VALVE_RELEASES, 1);
			} else
				repro_errno(errno);
			moved = grown = now_usec();
		} else if (size < ballast_size && now - grown >= 1000000 &&
			   memcg_sample(&memcg, &s) == 0 &&
			   s.usage + 2 * VALVE_STEP <= memcg.limit) {
			/* in BALLAST_STEPs: a failed shmem fallocate undoes its whole range */
			for (uint64_t end = size + VALVE_STEP; size < end && size < ballast_size;
			     size += BALLAST_STEP)
				if (fallocate(ballast_fd, 0, (off_t)size, BALLAST_STEP) < 0) {
					repro_errno(errno);
					break;
				}
			grown = now;
		}
	}
	if (!repro->keep)
		(void)unlink(p);
	return NULL;
}

/* The hog: grows memory the OOM reaper cannot free, paced, releasing at its cap. */
static void *hog_main(void *arg)
{
	bool use_memfd = !strcmp(opt_hog, "memfd"), use_mlock = !strcmp(opt_hog, "mlock");
	uint64_t cap, reserve, size = 0;
	unsigned char *map = MAP_FAILED;
	int fd = -1;

	(void)arg;
	if (memcg.limited) {
		uint64_t room = memcg.limit > usage_at_start ? memcg.limit - usage_at_start : MIB;

		cap = opt_hog_pct ? room / 100 * opt_hog_pct : memcg.limit + memcg.limit / 4;
	} else {
		cap = opt_hog_max;
	}
	cap = cap / BS * BS;
	if (cap < BS)
		cap = BS;
	reserve = cap;
	if (use_memfd) {
		fd = memfd_create("kdrill-hog", MFD_CLOEXEC);
		if (fd < 0) {
			repro_anomaly("unexpected-errno", "memfd_create: %s", strerror(errno));
			return NULL;
		}
		map =
		    mmap(NULL, reserve, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	} else {
		map = mmap(NULL, reserve, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (map == MAP_FAILED) {
		repro_anomaly("unexpected-errno", "mmap %" PRIu64 " bytes: %s", reserve,
			      strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (repro_running()) {
		/* with --hog-procs the children fill the memcg; this one only creeps, so that the
		 * process becomes the largest, and the victim, now and then */
		bool slow = memcg.limited && (opt_hog_procs || atomic_load(&near_limit));
		uint64_t step = slow ? opt_hog_step / 4 : opt_hog_step, rate;

		step = step / BS * BS;
		if (size + step > cap)
			step = cap - size;
		if (step == 0) {
			/* at the cap: hold a second, give everything back, grow again */
			if (!repro_sleep_usec(1000000))
				break;
			if (use_mlock)
				(void)munlock(map, size);
			(void)madvise(map, size, MADV_DONTNEED);
			if (use_memfd && ftruncate(fd, 0) < 0)
				repro_errno(errno);
			size = 0;
			repro_count(C_HOG_CYCLES, 1);
			continue;
		}
		if (use_memfd && ftruncate(fd, (off_t)(size + step)) < 0) {
			repro_errno(errno);
			repro_sleep_usec(10000);
			continue;
		}
		uint64_t ep = atomic_load(&pressure_epoch);
		memset(map + size, 0xa5, step); /* charge it: page faults, shmem pages */
		if (use_mlock && mlock(map + size, step) < 0)
			repro_errno(errno);
		size += step;
		repro_count(C_ALLOCS, 1);
		repro_count(C_ALLOC_BYTES, step);
		count_max(C_HOG_PEAK, size);
		if (atomic_load(&fsync_inflight) > 0) {
			repro_count(C_ALLOCS_DURING_FSYNC, 1);
			if (under_pressure(ep))
				repro_race_hit(1);
		}
		rate = slow ? opt_hog_rate / 8 : opt_hog_rate;
		if (!repro_sleep_usec(step * 1000000 / (rate ? rate : 1)))
			break;
	}
	if (use_mlock)
		(void)munlock(map, size);
	munmap(map, reserve);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* --hog-procs: a child process that grows memory the OOM reaper cannot free at full speed
 * (no pacing: the kill is the point) and appends 4 KiB + fsync between steps, so that the
 * memcg's OOM victim -- this child, which holds most of the memory -- is most likely in
 * fsync -> jbd2_log_wait_commit when it is killed (the seed's victim state).  It never
 * returns: killed by the OOM killer, or _exit at its cap or when the parent is gone. */
static _Noreturn void hog_child(unsigned id, uint64_t cap, pid_t parent, uint64_t fsync_from,
				bool hold)
{
	bool use_memfd = !strcmp(opt_hog, "memfd"), use_mlock = !strcmp(opt_hog, "mlock");
	char path[16];
	unsigned char blk[BS];
	uint64_t size = 0, off = 0;
	unsigned char *map;
	int mfd = -1, fd;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	/* --hog-limit-pct: this process's own hog stops short of the limit, it is not meant to
	 * be a victim; the children volunteer (raising one's own oom_score_adj needs no
	 * privilege).  Without it a child just forked, still small, lost to the parent's RSS
	 * and the parent was killed now and then. */
	if (opt_hog_pct || hold)
		(void)set_oom_score_adj("1000");
	if (use_memfd && (mfd = memfd_create("kdrill-hog", MFD_CLOEXEC)) < 0)
		_exit(3);
	map = mmap(NULL, cap, PROT_READ | PROT_WRITE,
		   use_memfd ? MAP_SHARED | MAP_NORESERVE
			     : MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   mfd, 0);
	if (map == MAP_FAILED)
		_exit(3);
	/* no stdio after fork() in a threaded process: "hogproc" + id (< 16) by hand */
	memcpy(path, "hogproc", 7);
	path[7] = (char)('a' + id % 26);
	path[8] = 0;
	fd = openat(idir_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	memset(blk, 0x5a, sizeof(blk));
	while (size < cap) {
		uint64_t step = opt_hog_step / BS * BS;

		if (step > cap - size)
			step = cap - size;
		if (use_memfd && ftruncate(mfd, (off_t)(size + step)) < 0)
			_exit(3);
		memset(map + size, 0xa5, step);
		if (use_mlock)
			(void)mlock(map + size, step);
		size += step;
		if (fd >= 0 && size >= fsync_from && pwrite(fd, blk, BS, (off_t)off) == BS) {
			(void)fsync(fd);
			off = off + BS >= PARKER_MAX ? 0 : off + BS;
		}
	}
	/* --hog-procs-hold: from now on a metadata change and fsync: every fsync commits the
	 * running transaction and waits for every handle in it (an overwrite with the same
	 * data changes no metadata within a clock tick: its fsync waits for the data I/O
	 * only, not for a commit).  fchmod touches only this inode, always in cache. */
	for (unsigned i = 0; hold && fd >= 0 && getppid() == parent; i++) {
		/* with --workload meta: only while a meta thread is inside fsetxattr, so that
		 * this fsync's commit is the one its handle belongs to (a commit already under
		 * way when the handle's charge fails would end, and let this child exit) */
		if (meta_busy && atomic_load(meta_busy) == 0) {
			usleep(100);
			continue;
		}
		if (fchmod(fd, i & 1 ? 0600 : 0644) == 0)
			(void)fsync(fd);
		else
			usleep(1000);
	}
	_exit(0); /* at the cap without a kill: not in a limited memcg */
}

/* --hog-procs: keep N hog children alive, count their OOM kills. */
static void *hog_procs_main(void *arg)
{
	pid_t *kids = calloc(opt_hog_procs, sizeof(*kids));
	uint64_t cap = memcg.limited ? memcg.limit + memcg.limit / 4 : opt_hog_max;
	pid_t self = getpid();
	bool hold = opt_hold_room && memcg.limited;

	(void)arg;
	if (!kids)
		return NULL;
	cap = cap / BS * BS;
	while (repro_running()) {
		for (unsigned i = 0; i < opt_hog_procs; i++) {
			int st;

			if (kids[i] > 0) {
				pid_t r = waitpid(kids[i], &st, WNOHANG);
				if (r == 0)
					continue;
				if (r == kids[i] && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
					repro_count(C_HOG_PROC_KILLS, 1);
				else if (r == kids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0)
					repro_count(C_HOG_CYCLES, 1);
				kids[i] = 0;
				/* a supervisor stopping the unit signals every process of it at
				 * once (systemd's KillMode=control-group): the child's SIGTERM may
				 * be reaped before ours reaches the timer thread, and a child
				 * forked now would escape the stop and charge on at the limit */
				if (r > 0 && WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL) {
					repro_stop();
					break;
				}
			}
			if (!repro_running())
				break;
			/* fsync in the last quarter of the room the memcg has now (the ballast
			 * and the other tasks hold the rest): it is where the kill comes */
			uint64_t fsync_from = 0, kcap = cap;
			struct memcg_sample s;
			bool sampled =
			    memcg.limited && memcg.version && memcg_sample(&memcg, &s) == 0;

			if (sampled)
				fsync_from =
				    memcg.limit > s.usage ? (memcg.limit - s.usage) / 4 * 3 : 0;
			else if (memcg.limited)
				fsync_from = memcg.limit / 4 * 3;
			if (hold) {
				/* its share of the room left now, less --hog-procs-hold */
				uint64_t room = sampled && memcg.limit > s.usage + opt_hold_room
						    ? memcg.limit - s.usage - opt_hold_room
						    : BS;
				kcap = room / opt_hog_procs / BS * BS;
				kcap = kcap < BS ? BS : kcap;
				fsync_from = kcap;
			}
			kids[i] = fork();
			if (kids[i] == 0)
				hog_child(i, kcap, self, fsync_from, hold);
			if (kids[i] < 0) {
				repro_errno(errno);
				kids[i] = 0;
			} else {
				repro_count(C_HOG_PROC_STARTS, 1);
			}
		}
		repro_sleep_usec(5000);
	}
	for (unsigned i = 0; i < opt_hog_procs; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			(void)waitpid(kids[i], NULL, 0);
		}
	free(kids);
	for (unsigned i = 0; i < opt_hog_procs; i++) {
		char path[] = "hogprocX";
		path[7] = (char)('a' + i % 26);
		(void)unlinkat(idir_fd, path, 0);
	}
	return NULL;
}

/* Sampler: pressure flag and epoch every 20 ms, state file every second. */
static void *sampler_main(void *arg)
{
	struct memcg_sample s, last = {0};
	uint64_t next_state = now_usec() + 1000000;
	bool first = true;

	(void)arg;
	while (repro_running()) {
		if (memcg.version && memcg_sample(&memcg, &s) == 0) {
			if (!first && s.limit_hits > last.limit_hits) {
				repro_count(C_LIMIT_HITS, s.limit_hits - last.limit_hits);
				atomic_fetch_add(&pressure_epoch, 1);
			}
			atomic_store(&near_limit, memcg.limited && s.usage >= memcg.limit / 10 * 9);
			count_max(C_USAGE_PEAK, s.usage);
			last = s;
			first = false;
		}
		if (now_usec() >= next_state) {
			state_write(false);
			next_state += 1000000;
		}
		repro_sleep_usec(20000);
	}
	return NULL;
}

/* ---- setup / run / cleanup ----------------------------------------------------------- */

static bool instance_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

static int setup(void)
{
	struct memcg_sample s;
	int r;

	if (opt_instance && !instance_name_ok(opt_instance))
		repro_usage_error("--instance: '%s' is not 1..64 characters of [A-Za-z0-9_.-]",
				  opt_instance);
	r = memcg_detect(&memcg);
	if (r < 0)
		return repro_unsuitable("cannot read the memory cgroup: %s", strerror(-r));
	if (memcg.version && memcg_sample(&memcg, &s) == 0) {
		usage_at_start = s.usage;
		repro_count(C_MEMCG_OOM_KILLS, s.oom_kills);
	}
	if (memcg.limited)
		repro_count(C_MEMCG_LIMIT, memcg.limit);
	fprintf(stderr,
		"memcg-oom-fsync: memcg v%d %s: limit %s%" PRIu64 " MiB (usage %" PRIu64
		" MiB)%s; hog %s %s\n",
		memcg.version, memcg.cgroup ? memcg.cgroup : "-", memcg.limited ? "" : "none, ",
		memcg.limited ? memcg.limit / MIB : memcg.mem_total / MIB, usage_at_start / MIB,
		memcg.oom_kill_disable ? ", OOM killer disabled (tasks will wait)" : "", opt_hog,
		memcg.limited ? (opt_hog_pct ? "stops below the limit" : "grows until the OOM kill")
			      : "capped by --hog-max");

	if (opt_instance) {
		idir = strdupf("%s/memcg-oom-fsync.i%s", repro->dir, opt_instance);
		if (!idir)
			return -ENOMEM;
		if (mkdir(idir, 0755) < 0 && errno != EEXIST)
			return repro_unsuitable("mkdir %s: %s", idir, strerror(errno));
	} else {
		idir = strdup(repro->workdir);
		if (!idir)
			return -ENOMEM;
	}
	{
		_cleanup_free_ char *lp = strdupf("%s/lock", idir);

		lock_fd = lp ? open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
		if (lock_fd < 0)
			return repro_unsuitable("open %s: %s", lp ? lp : idir, strerror(errno));
		if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0)
			return repro_unsuitable(
			    "instance '%s' is in use by another running process", opt_instance);
	}
	if (opt_instance) {
		state_read_previous();
		r = verify_manifest(0, generation - 1, !repro->keep, C_PREV_VERIFIED_FILES,
				    C_PREV_VERIFIED_BLOCKS, 0);
		if (r < 0)
			return repro_unsuitable("manifest: %s", strerror(-r));
		sweep_unsynced(generation);
		if (repro_counter_get(C_PREV_GENERATION))
			fprintf(stderr,
				"memcg-oom-fsync: verified %" PRIu64 " fsynced files (%" PRIu64
				" blocks) of earlier generations, %" PRIu64
				" unsynced leftovers, anomalies %" PRIu64 "\n",
				repro_counter_get(C_PREV_VERIFIED_FILES),
				repro_counter_get(C_PREV_VERIFIED_BLOCKS),
				repro_counter_get(C_PREV_UNSYNCED_FILES), repro_anomaly_count());
		if (repro_anomaly_count())
			return -EIO;
		if (!repro->keep) {
			_cleanup_free_ char *mp = strdupf("%s/manifest", idir);

			if (mp)
				(void)truncate(mp, 0);
		}
	}
	idir_fd = open(idir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (idir_fd < 0)
		return repro_unsuitable("open %s: %s", idir, strerror(errno));
	repro_count(C_GENERATION, generation);
	{
		_cleanup_free_ char *mp = strdupf("%s/manifest", idir);

		manifest_fd = mp ? open(mp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
		if (manifest_fd < 0)
			return repro_unsuitable("open manifest in %s: %s", idir, strerror(errno));
	}
	for (unsigned w = 0; w < repro->threads; w++) {
		_cleanup_free_ char *d = strdupf("%s/w%u", idir, w);

		if (!d)
			return -ENOMEM;
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			return repro_unsuitable("mkdir %s: %s", d, strerror(errno));
	}
	if (opt_oom_immune || ((opt_hold_room || opt_hog_pct) && opt_hog_procs && memcg.limited)) {
		/* --oom-immune, or --hog-procs with --hog-procs-hold or --hog-limit-pct: the
		 * children are the OOM killer's only choice (without CAP_SYS_RESOURCE, a
		 * warning).  Their volunteering (oom_score_adj 1000) is not enough: a killed
		 * child is skipped once exit_mmap() set MMF_OOM_SKIP, but its memfd's shmem is
		 * freed only at the last fput(), from task work at the end of do_exit(); with
		 * every child in that gap this process was the only candidate and was killed
		 * (seen on 6.18, the parent 3 ms after the second child). */
		r = set_oom_score_adj("-1000");
		if (r < 0)
			fprintf(stderr,
				"memcg-oom-fsync: oom_score_adj -1000: %s (without "
				"CAP_SYS_RESOURCE this process can be an OOM victim)\n",
				strerror(-r));
	}
	if (opt_hold_room && opt_hog_procs && memcg.limited) {
		/* with --workload meta the children fsync while a meta thread is in fsetxattr */
		if (!strcmp(opt_workload, "meta")) {
			void *m = mmap(NULL, sizeof(*meta_busy), PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

			if (m != MAP_FAILED)
				meta_busy = m;
		}
	}
	if (!strcmp(opt_workload, "meta")) {
		/* the open files of --workload meta (systemd's services start at 1024) */
		struct rlimit rl;
		rlim_t want = (rlim_t)(repro->threads * opt_meta_open + 256);

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
			rl.rlim_cur =
			    rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	ballast_fd = ballast_fill();
	state_write(false);
	return 0;
}

static int run(void)
{
	bool meta = !strcmp(opt_workload, "meta");
	int r = repro_thread_start("sampler", sampler_main, NULL);

	for (unsigned w = 0; r == 0 && w < repro->threads; w++)
		r = repro_thread_start(meta ? "meta" : "worker", meta ? meta_main : worker_main,
				       (void *)(uintptr_t)w);
	for (unsigned i = 0; r == 0 && i < opt_parkers; i++)
		r = repro_thread_start("parker", parker_main, (void *)(uintptr_t)i);
	/* --hog-procs-hold: the children hold the memory, this process (oom_score_adj -1000)
	 * must not take it */
	if (r == 0 && strcmp(opt_hog, "none") && !(opt_hold_room && opt_hog_procs))
		r = repro_thread_start("hog", hog_main, NULL);
	if (r == 0 && opt_hog_procs)
		r = repro_thread_start("hog-procs", hog_procs_main, NULL);
	if (r == 0 && opt_oom_immune && ballast_fd >= 0)
		r = repro_thread_start("valve", valve_main, NULL);
	if (r < 0)
		repro_stop();
	while (repro_running())
		repro_sleep_usec(100000);
	/* the library allows ~1.5 s between the stop and our return */
	uint64_t deadline = now_usec() + 900000;
	repro_threads_join();
	if (r < 0)
		return r;
	/* End of a clean run: read back what this generation fsynced and still has (files
	 * not reached before the deadline stay for the next start of the same instance). */
	if (repro_anomaly_count() == 0)
		(void)verify_manifest(generation, generation, !repro->keep, C_VERIFIED_FILES,
				      C_VERIFIED_BLOCKS, deadline);
	return 0;
}

static void cleanup(void)
{
	if (idir && manifest_fd >= 0) {
		if (!repro->keep && opt_instance && repro_anomaly_count() == 0 &&
		    repro_counter_get(C_VERIFY_SKIPPED) == 0) {
			/* everything fsynced was verified and removed; keep state.json only */
			_cleanup_free_ char *mp = strdupf("%s/manifest", idir);

			if (mp)
				(void)truncate(mp, 0);
			for (unsigned w = 0; w < repro->threads; w++) {
				_cleanup_free_ char *d = strdupf("%s/w%u", idir, w);

				if (d)
					(void)rm_rf(d);
			}
		}
		state_write(true);
	}
	if (manifest_fd >= 0)
		close(manifest_fd);
	if (lock_fd >= 0)
		close(lock_fd);
	if (ballast_fd >= 0)
		close(ballast_fd);
	if (idir_fd >= 0)
		close(idir_fd);
	memcg_info_done(&memcg);
	free(idir);
}

static const struct repro_test test = {
    .name = "memcg-oom-fsync",
    .summary = "create+write+fsync files while a non-reapable memory hog drives the memcg "
	       "into OOM (seed 002: CentOS 7 memcg OOM / jbd2 deadlock)",
    .seed = "002_363406695e656b26.txt",
    .common = REPRO_OPT_DURATION | REPRO_OPT_ITERATIONS | REPRO_OPT_THREADS | REPRO_OPT_SIZE |
	      REPRO_OPT_SEED,
    .options = options,
    .counters = counters,
    .race_window = "create or fsync completed under memcg pressure (usage within 10% of the "
		   "limit or limit hits during the call), or a hog allocation under pressure "
		   "while an fsync was in flight",
    .default_threads = 4,
    .default_size = 64 * MIB,
    .setup = setup,
    .run = run,
    .cleanup = cleanup,
};

int main(int argc, char **argv)
{
	return repro_main(&test, argc, argv);
}
