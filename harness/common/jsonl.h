/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JSON lines from a byte stream: the agent channel (host and guest ends) and QMP.
 * Bytes in (any chunking), one callback per complete '\n'-terminated line with the
 * parsed value (NULL when the line is not JSON; the raw line is given for logging).
 * Blank lines are skipped; a line longer than `max` bytes is dropped whole.
 *
 *   struct jsonl in = {.max = 1 << 20};
 *   ssize_t n = jsonl_read(&in, fd, on_line, userdata);  // from the fd's sd-event handler
 *   ...
 *   jsonl_clear(&in);
 */
#ifndef KDRILL_JSONL_H
#define KDRILL_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct json_object;

struct jsonl {
	size_t max; /* longest line kept; 0: 1 MiB */
	char *buf;
	size_t len;
	bool skipping; /* inside an over-long line: drop until its '\n' */
};

/* o is borrowed (NULL: not JSON).  Return 0 to go on, > 0 to stop delivering lines
 * for now (the rest stays buffered), < 0 for an error (returned by the caller). */
typedef int (*jsonl_line_fn)(struct json_object *o, const char *line, void *userdata);

/* Feed bytes; returns 0, or the callback's non-zero return. */
int jsonl_feed(struct jsonl *j, const void *data, size_t n, jsonl_line_fn fn, void *userdata);
/* One non-blocking read(2) of fd fed through jsonl_feed().  Returns the bytes read
 * (> 0), 0 at end of file, -EAGAIN when there was nothing, or -errno. */
ssize_t jsonl_read(struct jsonl *j, int fd, jsonl_line_fn fn, void *userdata);
void jsonl_clear(struct jsonl *j);

/* A number that prints with `places` decimals ("12.5", not 12.499999999999998); seconds
 * in results are json_fixed(s, 1). */
struct json_object *json_fixed(double d, int places);

#endif
