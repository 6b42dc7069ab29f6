/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verify.c — self-verifying data blocks: header (magic, crc32c, file id, generation,
 * offset, size, tag) + a pseudo-random fill derived from (file id, gen, offset).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "repro.h"

/* ---- CRC-32C (Castagnoli) ----------------------------------------------------------- */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool have_sse42;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] =
			    (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const unsigned char *p,
							 size_t len)
{
	uint64_t c = crc;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

uint32_t repro_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
#if defined(__x86_64__)
	if (have_sse42)
		return ~crc_hw(crc, p, len);
#endif
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		v ^= crc;
		crc = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^
		      crc_table[5][(v >> 16) & 0xff] ^ crc_table[4][(v >> 24) & 0xff] ^
		      crc_table[3][(v >> 32) & 0xff] ^ crc_table[2][(v >> 40) & 0xff] ^
		      crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

/* ---- blocks ----------------------------------------------------------------------- */

static uint64_t fill_seed(uint64_t file_id, uint64_t gen, uint64_t offset, uint32_t tag)
{
	uint64_t x = file_id * 0x9e3779b97f4a7c15ULL ^ gen * 0xc2b2ae3d27d4eb4fULL ^
		     offset * 0x165667b19e3779f9ULL ^ (uint64_t)tag * 0x27d4eb2f165667c5ULL;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x ? x : 1;
}

static void fill_body(unsigned char *p, size_t len, uint64_t s)
{
	for (size_t i = 0; i + 8 <= len; i += 8) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		memcpy(p + i, &s, 8);
	}
}

void repro_block_fill(void *buf, size_t size, uint64_t file_id, uint64_t gen, uint64_t offset,
		      uint32_t tag)
{
	struct repro_block_hdr h = {
	    .magic = REPRO_BLOCK_MAGIC,
	    .crc = 0,
	    .file_id = file_id,
	    .gen = gen,
	    .offset = offset,
	    .size = (uint32_t)size,
	    .tag = tag,
	};

	memcpy(buf, &h, sizeof(h));
	fill_body((unsigned char *)buf + sizeof(h), size - sizeof(h),
		  fill_seed(file_id, gen, offset, tag));
	h.crc = repro_crc32c(0, buf, size);
	memcpy((char *)buf + offsetof(struct repro_block_hdr, crc), &h.crc, sizeof(h.crc));
}

void repro_blocks_fill(void *buf, size_t bs, size_t n, uint64_t file_id, uint64_t gen, uint64_t off,
		       uint32_t tag)
{
	for (size_t i = 0; i < n; i++)
		repro_block_fill((char *)buf + i * bs, bs, file_id, gen, off + i * bs, tag);
}

static bool all_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static uint32_t block_crc(const void *buf, size_t size)
{
	static const uint32_t zero;
	uint32_t c;
	size_t co = offsetof(struct repro_block_hdr, crc);

	c = repro_crc32c(0, buf, co);
	c = repro_crc32c(c, &zero, sizeof(zero));
	return repro_crc32c(c, (const char *)buf + co + sizeof(uint32_t),
			    size - co - sizeof(uint32_t));
}

enum repro_block_state repro_block_check(const void *buf, size_t size, uint64_t file_id,
					 uint64_t offset, struct repro_block_hdr *hdr)
{
	struct repro_block_hdr h;

	memcpy(&h, buf, sizeof(h));
	if (hdr)
		*hdr = h;
	if (h.magic != REPRO_BLOCK_MAGIC)
		return all_zero(buf, size) ? REPRO_BLOCK_ZERO : REPRO_BLOCK_GARBAGE;
	if (h.size != size)
		return REPRO_BLOCK_WRONG_SIZE;
	if (block_crc(buf, size) != h.crc)
		return REPRO_BLOCK_BAD_CRC;
	if (h.file_id != file_id)
		return REPRO_BLOCK_WRONG_FILE;
	if (h.offset != offset)
		return REPRO_BLOCK_WRONG_OFFSET;
	return REPRO_BLOCK_OK;
}

const char *repro_block_state_name(enum repro_block_state s)
{
	static const char *const n[] = {
	    [REPRO_BLOCK_OK] = "ok",
	    [REPRO_BLOCK_ZERO] = "zero",
	    [REPRO_BLOCK_GARBAGE] = "garbage",
	    [REPRO_BLOCK_BAD_CRC] = "bad-crc",
	    [REPRO_BLOCK_WRONG_FILE] = "wrong-file",
	    [REPRO_BLOCK_WRONG_OFFSET] = "wrong-offset",
	    [REPRO_BLOCK_WRONG_SIZE] = "wrong-size",
	};
	return (unsigned)s < ELEMENTSOF(n) ? n[s] : "?";
}

char *repro_block_describe(const void *buf, size_t size, uint64_t file_id, uint64_t offset,
			   uint64_t expect_gen)
{
	struct repro_block_hdr h;
	enum repro_block_state s = repro_block_check(buf, size, file_id, offset, &h);
	_cleanup_free_ char *base = NULL, *cmp = NULL;
	const unsigned char *p = buf;

	if (s == REPRO_BLOCK_ZERO || s == REPRO_BLOCK_GARBAGE)
		base = strdupf("file %" PRIu64 " off 0x%" PRIx64 ": %s (first bytes %02x %02x %02x "
			       "%02x %02x %02x %02x %02x)",
			       file_id, offset, repro_block_state_name(s), p[0], p[1], p[2], p[3],
			       p[4], p[5], p[6], p[7]);
	else
		base =
		    strdupf("file %" PRIu64 " off 0x%" PRIx64 ": %s (header: file %" PRIu64
			    " gen %" PRIu64 " off 0x%" PRIx64 " size %u tag %u, crc stored "
			    "0x%08x computed 0x%08x)",
			    file_id, offset, repro_block_state_name(s), h.file_id, h.gen, h.offset,
			    h.size, h.tag, h.crc, h.size == size ? block_crc(buf, size) : 0);
	if (!base)
		return NULL;
	if (expect_gen != UINT64_MAX) {
		_cleanup_free_ unsigned char *exp = malloc(size);
		size_t i;

		if (!exp)
			return NULL;
		repro_block_fill(exp, size, file_id, expect_gen, offset,
				 s == REPRO_BLOCK_ZERO || s == REPRO_BLOCK_GARBAGE ? 0 : h.tag);
		for (i = 0; i < size; i++)
			if (i >= 4 && i < 8)
				continue; /* crc field */
			else if (p[i] != exp[i])
				break;
		if (i < size)
			cmp = strdupf("; vs expected gen %" PRIu64 ": first difference at +%zu "
				      "(0x%02x, expected 0x%02x)",
				      expect_gen, i, p[i], exp[i]);
		else
			cmp = strdupf("; identical to expected gen %" PRIu64 " except crc",
				      expect_gen);
		if (!cmp)
			return NULL;
		return strdupf("%s%s", base, cmp);
	}
	return TAKE_PTR(base);
}

void *repro_alloc_aligned(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len ? len : 4096))
		return NULL;
	return p;
}
