/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memcg-oom-ref: the yardstick of tests/vm/memcg-oom.bench -- how many memcg OOM kills per
 * second the kernel under test can give at all (tests/vm/memcg-oom-ref.ini: one 64 MiB
 * slice, drop_caches 10/s).  One process, started inside the limited memcg:
 *  - an allocator thread keeps one child alive that grows a MAP_SHARED memfd (shmem: the OOM
 *    reaper cannot free it) at full speed; the child is the largest task of the memcg, so it
 *    is the victim; the thread replaces it as soon as it was reaped (a child that reaches
 *    --size, i.e. outside a smaller memcg, exits and is replaced: harmless on a host);
 *  - --threads writers create a file, write 64 KiB, fsync, close, unlink, in a loop.
 * Nothing is verified: it measures the kernel's OOM path, it does not check data.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "repro.h"

#define STEP (1u << 20)

enum { C_KILLS, C_CHILDREN, C_FSYNCS, C__MAX };
static const char *const counters[] = {"oom_victims", "children", "fsyncs", NULL};

static _Noreturn void child(pid_t parent)
{
	uint64_t cap = repro->size / STEP * STEP;
	unsigned char *map;
	int fd;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	fd = memfd_create("kdrill-ref", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)cap) < 0)
		_exit(3);
	map = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (map == MAP_FAILED)
		_exit(3);
	for (uint64_t off = 0; off < cap; off += STEP)
		memset(map + off, 0xa5, STEP);
	_exit(0);
}

static void *allocator(void *arg)
{
	pid_t self = getpid(), kid = 0;
	int st;

	(void)arg;
	while (repro_running()) {
		if (kid > 0) {
			pid_t r = waitpid(kid, &st, WNOHANG);
			if (r == 0) {
				repro_sleep_usec(1000);
				continue;
			}
			if (r == kid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
				repro_count(C_KILLS, 1);
				repro_ops(1);
			}
		}
		kid = fork();
		if (kid == 0)
			child(self);
		if (kid < 0) {
			repro_errno(errno);
			kid = 0;
			repro_sleep_usec(10000);
		} else {
			repro_count(C_CHILDREN, 1);
		}
	}
	if (kid > 0) {
		kill(kid, SIGKILL);
		(void)waitpid(kid, NULL, 0);
	}
	return NULL;
}

static void *writer(void *arg)
{
	static char buf[64 * 1024];
	unsigned w = (unsigned)(uintptr_t)arg;

	memset(buf, 0x5a, sizeof(buf));
	for (uint64_t seq = 0; repro_running(); seq++) {
		_cleanup_free_ char *p = repro_path("w%u-%llu", w, (unsigned long long)(seq % 8));
		int fd = p ? open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;

		if (fd < 0) {
			repro_errno(errno);
			repro_sleep_usec(10000);
			continue;
		}
		if (repro_pwrite_full(fd, buf, sizeof(buf), 0) < 0 || fsync(fd) < 0)
			repro_errno(errno);
		else
			repro_count(C_FSYNCS, 1), repro_ops(1);
		close(fd);
		(void)unlink(p);
	}
	return NULL;
}

static int run(void)
{
	int r = repro_thread_start("allocator", allocator, NULL);

	for (unsigned w = 0; r == 0 && w < repro->threads; w++)
		r = repro_thread_start("writer", writer, (void *)(uintptr_t)w);
	if (r < 0)
		repro_stop();
	while (repro_running())
		repro_sleep_usec(100000);
	repro_threads_join();
	return r;
}

static const struct repro_test test = {
    .name = "memcg-oom-ref",
    .summary = "yardstick: a full-speed shmem allocator child (replaced when OOM-killed) and "
	       "create/write/fsync writers in one memcg",
    .common = REPRO_OPT_DURATION | REPRO_OPT_THREADS | REPRO_OPT_SIZE | REPRO_OPT_SEED,
    .counters = counters,
    .default_threads = 4,
    .default_size = 256ull << 20,
    .run = run,
};

int main(int argc, char **argv)
{
	return repro_main(&test, argc, argv);
}
