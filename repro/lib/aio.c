/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aio.c — one AIO interface over libaio (io_submit/io_getevents) and io_uring (liburing).
 * A struct repro_aio belongs to one thread; only repro_aio_inflight() may be read from
 * another thread.  Completions pass through the test-only fault hook (repro.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <libaio.h>
#include <liburing.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repro.h"
#include "repro-internal.h"

struct repro_aio {
	enum repro_engine engine;
	unsigned depth;
	atomic_uint inflight;
	/* libaio */
	io_context_t ctx;
	struct iocb *iocbs;
	struct iocb **free_iocbs;
	unsigned n_free;
	struct io_event *events;
	/* io_uring */
	struct io_uring ring;
	bool ring_ok;
};

int repro_aio_new(struct repro_aio **ret, enum repro_engine engine, unsigned depth)
{
	struct repro_aio *a;
	int r;

	if (!depth)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->engine = engine;
	a->depth = depth;
	a->events = calloc(depth, sizeof(*a->events));
	if (!a->events) {
		free(a);
		return -ENOMEM;
	}
	if (engine == REPRO_ENGINE_LIBAIO) {
		a->iocbs = calloc(depth, sizeof(*a->iocbs));
		a->free_iocbs = calloc(depth, sizeof(*a->free_iocbs));
		if (!a->iocbs || !a->free_iocbs) {
			r = -ENOMEM;
			goto fail;
		}
		for (unsigned i = 0; i < depth; i++)
			a->free_iocbs[i] = &a->iocbs[i];
		a->n_free = depth;
		r = io_setup((int)depth, &a->ctx);
		if (r < 0)
			goto fail;
	} else {
		r = io_uring_queue_init(depth, &a->ring, 0);
		if (r < 0)
			goto fail;
		a->ring_ok = true;
	}
	*ret = a;
	return 0;
fail:
	free(a->iocbs);
	free(a->free_iocbs);
	free(a->events);
	free(a);
	return r;
}

int repro_aio_new_or_unsuitable(struct repro_aio **ret, unsigned depth)
{
	int r = repro_aio_new(ret, repro->engine, depth);

	if (r < 0)
		return repro_unsuitable("%s unavailable: %s", repro_engine_name(repro->engine),
					strerror(-r));
	return 0;
}

void repro_aio_free(struct repro_aio *a)
{
	uint64_t deadline = now_usec() + 10 * 1000000ULL;

	if (!a)
		return;
	while (atomic_load(&a->inflight) && now_usec() < deadline) {
		struct repro_io *done[64];

		/* Drain completions; results are dropped (caller gave up on them). */
		if (a->engine == REPRO_ENGINE_LIBAIO) {
			struct timespec ts = {0, 100 * 1000 * 1000};
			int n = io_getevents(a->ctx, 0, (long)a->depth, a->events, &ts);

			if (n < 0 && n != -EINTR)
				break;
			for (int i = 0; i < n; i++) {
				a->free_iocbs[a->n_free++] = a->events[i].obj;
				atomic_fetch_sub(&a->inflight, 1);
			}
		} else if (repro_aio_reap(a, 0, ELEMENTSOF(done), done, 100) < 0) {
			break;
		}
	}
	if (a->engine == REPRO_ENGINE_LIBAIO)
		io_destroy(a->ctx); /* waits for the rest */
	else if (a->ring_ok)
		io_uring_queue_exit(&a->ring);
	free(a->iocbs);
	free(a->free_iocbs);
	free(a->events);
	free(a);
}

unsigned repro_aio_inflight(const struct repro_aio *a)
{
	return atomic_load(&((struct repro_aio *)a)->inflight);
}

static int submit_libaio(struct repro_aio *a, struct repro_io *const *ios, unsigned n)
{
	struct iocb *list[64];
	unsigned done = 0;

	while (done < n) {
		unsigned k = 0;
		int r;

		while (done + k < n && k < ELEMENTSOF(list) && a->n_free) {
			struct repro_io *io = ios[done + k];
			struct iocb *cb = a->free_iocbs[--a->n_free];

			if (io->write)
				io_prep_pwrite(cb, io->fd, io->buf, io->len, io->off);
			else
				io_prep_pread(cb, io->fd, io->buf, io->len, io->off);
			cb->data = io;
			list[k++] = cb;
		}
		if (!k)
			break; /* depth exhausted */
		r = io_submit(a->ctx, (long)k, list);
		if (r < 0)
			r = r == -EINTR ? 0 : r;
		/* give back the iocbs the kernel did not take */
		for (unsigned i = (unsigned)(r > 0 ? r : 0); i < k; i++)
			a->free_iocbs[a->n_free++] = list[i];
		if (r > 0) {
			atomic_fetch_add(&a->inflight, (unsigned)r);
			done += (unsigned)r;
		}
		if (r < 0)
			return done ? (int)done : r;
		if ((unsigned)r < k)
			break;
	}
	return (int)done;
}

static int submit_uring(struct repro_aio *a, struct repro_io *const *ios, unsigned n)
{
	unsigned k = 0, submitted = 0, retries = 0;

	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe;

		if (atomic_load(&a->inflight) + k >= a->depth)
			break;
		sqe = io_uring_get_sqe(&a->ring);
		if (!sqe)
			break;
		if (ios[i]->write)
			io_uring_prep_write(sqe, ios[i]->fd, ios[i]->buf, (unsigned)ios[i]->len,
					    (uint64_t)ios[i]->off);
		else
			io_uring_prep_read(sqe, ios[i]->fd, ios[i]->buf, (unsigned)ios[i]->len,
					   (uint64_t)ios[i]->off);
		io_uring_sqe_set_data(sqe, ios[i]);
		k++;
	}
	while (submitted < k) {
		int r = io_uring_submit(&a->ring);

		if ((r == -EINTR || r == -EAGAIN) && retries++ < 100)
			continue;
		if (r < 0)
			return submitted ? (int)submitted : r;
		if (r == 0)
			break;
		submitted += (unsigned)r;
		atomic_fetch_add(&a->inflight, (unsigned)r);
	}
	return (int)submitted;
}

int repro_aio_submit(struct repro_aio *a, struct repro_io *const *ios, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ios[i]->res = 0;
	if (a->engine == REPRO_ENGINE_LIBAIO)
		return submit_libaio(a, ios, n);
	return submit_uring(a, ios, n);
}

static void complete(struct repro_io *io, ssize_t res)
{
	if (io->write) {
		res = repro_fault_aio_write(res, io->len);
	} else if (res > 0) {
		repro_fault_aio_read(io->buf, (size_t)res);
	}
	io->res = res;
}

static int reap_once(struct repro_aio *a, unsigned min, unsigned max, struct repro_io **done,
		     int timeout_ms)
{
	unsigned got = 0;

	if (a->engine == REPRO_ENGINE_LIBAIO) {
		struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
		int n = io_getevents(a->ctx, (long)min, (long)max, a->events, &ts);

		if (n < 0)
			return n == -EINTR ? 0 : n;
		for (int i = 0; i < n; i++) {
			struct iocb *cb = a->events[i].obj;
			struct repro_io *io = cb->data;

			complete(io, (ssize_t)(long)a->events[i].res);
			a->free_iocbs[a->n_free++] = cb;
			done[got++] = io;
		}
		atomic_fetch_sub(&a->inflight, got);
		return (int)got;
	} else {
		struct io_uring_cqe *cqe;
		int r;

		while (got < max) {
			if (got < min) {
				struct __kernel_timespec ts = {
				    timeout_ms / 1000, (long long)(timeout_ms % 1000) * 1000000LL};

				r = io_uring_wait_cqe_timeout(&a->ring, &cqe, &ts);
			} else {
				r = io_uring_peek_cqe(&a->ring, &cqe);
			}
			if (r == -ETIME || r == -EAGAIN || r == -EINTR)
				break;
			if (r < 0)
				return got ? (int)got : r;
			complete(io_uring_cqe_get_data(cqe), cqe->res);
			done[got++] = io_uring_cqe_get_data(cqe);
			io_uring_cqe_seen(&a->ring, cqe);
			atomic_fetch_sub(&a->inflight, 1);
		}
		return (int)got;
	}
}

int repro_aio_reap(struct repro_aio *a, unsigned min, unsigned max, struct repro_io **done,
		   int timeout_ms)
{
	unsigned got = 0;

	if (max > a->depth)
		max = a->depth;
	if (min > max)
		min = max;
	if (min > atomic_load(&a->inflight))
		min = atomic_load(&a->inflight);
	if (!atomic_load(&a->inflight))
		return 0; /* nothing can complete */
	if (timeout_ms >= 0)
		return reap_once(a, min, max, done, timeout_ms);
	/* wait "forever" for min, in 1 s slices so that a stuck kernel is visible */
	do {
		int r = reap_once(a, min - got, max - got, done + got, 1000);

		if (r < 0)
			return got ? (int)got : r;
		got += (unsigned)r;
		if (!min && !repro_running())
			break;
	} while (got < min || (!min && !got && repro_running()));
	return (int)got;
}

bool repro_aio_check(const struct repro_io *io, bool allow_enospc)
{
	if (io->res == (ssize_t)io->len)
		return true;
	if (io->res == -ENOSPC && allow_enospc) {
		repro_errno(ENOSPC);
		return false;
	}
	if (io->res == -EIO && io->write)
		repro_anomaly("aio-write-eio",
			      "AIO O_DIRECT write of %zu bytes at offset %" PRId64 " (fd %d) "
			      "completed with -EIO",
			      io->len, (int64_t)io->off, io->fd);
	else if (io->res < 0)
		repro_anomaly("aio-res-mismatch",
			      "AIO %s of %zu bytes at offset %" PRId64 " completed with %s",
			      io->write ? "write" : "read", io->len, (int64_t)io->off,
			      strerrorname_np((int)-io->res) ? strerrorname_np((int)-io->res)
							     : "unknown errno");
	else
		repro_anomaly("aio-res-mismatch",
			      "AIO %s of %zu bytes at offset %" PRId64 " completed with res %zd "
			      "(short)",
			      io->write ? "write" : "read", io->len, (int64_t)io->off, io->res);
	return false;
}
