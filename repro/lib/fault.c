/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fault.c — test-only fault injection (KDRILL_REPRO_FAULT, see repro.h) and the
 * pread/pwrite wrappers that go through it.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repro.h"
#include "repro-internal.h"

enum { F_FLIP_READ, F_EIO_WRITE, F_SHORT_WRITE, F_AIO_FLIP_READ, F_AIO_EIO_WRITE, F__MAX };
static const char *const fault_names[F__MAX] = {"flip-read", "eio-write", "short-write",
						"aio-flip-read", "aio-eio-write"};

static uint64_t fault_at[F__MAX]; /* 0 = not planted */
static atomic_uint_fast64_t reads_seen, writes_seen, aio_reads_seen, aio_writes_seen;
static atomic_bool fired;
static const char *spec_str;

int repro_fault_init(const char *spec)
{
	_cleanup_free_ char *copy = NULL;
	char *save = NULL;

	if (!spec || !*spec)
		return 0;
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		uint64_t n;
		int k;

		if (!colon)
			return -EINVAL;
		*colon = 0;
		for (k = 0; k < F__MAX; k++)
			if (!strcmp(tok, fault_names[k]))
				break;
		if (k == F__MAX || parse_u64(colon + 1, &n) < 0 || n == 0)
			return -EINVAL;
		fault_at[k] = n;
	}
	spec_str = spec;
	return 0;
}

const char *repro_fault_spec(void)
{
	return spec_str;
}

bool repro_fault_fired(void)
{
	return atomic_load(&fired);
}

void repro_fault_read(void *buf, size_t len)
{
	uint64_t n;

	if (!fault_at[F_FLIP_READ] || !len)
		return;
	n = atomic_fetch_add(&reads_seen, 1) + 1;
	if (n == fault_at[F_FLIP_READ]) {
		((unsigned char *)buf)[len / 2] ^= 0x5a;
		atomic_store(&fired, true);
	}
}

ssize_t repro_fault_write(ssize_t res, size_t len)
{
	uint64_t n;

	if (!fault_at[F_EIO_WRITE] && !fault_at[F_SHORT_WRITE])
		return res;
	n = atomic_fetch_add(&writes_seen, 1) + 1;
	if (n == fault_at[F_EIO_WRITE]) {
		atomic_store(&fired, true);
		return -EIO;
	}
	if (n == fault_at[F_SHORT_WRITE]) {
		atomic_store(&fired, true);
		return (ssize_t)(len / 2);
	}
	return res;
}

void repro_fault_aio_read(void *buf, size_t len)
{
	if (fault_at[F_AIO_FLIP_READ] && len &&
	    atomic_fetch_add(&aio_reads_seen, 1) + 1 == fault_at[F_AIO_FLIP_READ]) {
		((unsigned char *)buf)[len / 2] ^= 0x5a;
		atomic_store(&fired, true);
	}
	repro_fault_read(buf, len);
}

ssize_t repro_fault_aio_write(ssize_t res, size_t len)
{
	if (fault_at[F_AIO_EIO_WRITE] &&
	    atomic_fetch_add(&aio_writes_seen, 1) + 1 == fault_at[F_AIO_EIO_WRITE]) {
		atomic_store(&fired, true);
		res = -EIO;
	}
	return repro_fault_write(res, len);
}

ssize_t repro_pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	repro_fault_read(buf, done);
	return (ssize_t)done;
}

ssize_t repro_pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return repro_fault_write(-errno, len);
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return repro_fault_write((ssize_t)done, len);
}
