// SPDX-License-Identifier: GPL-2.0
/* JSON lines from a byte stream.  See jsonl.h. */
#include "jsonl.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSONL_DEFAULT_MAX (1u << 20)

static int deliver(char *line, jsonl_line_fn fn, void *userdata)
{
	json_object *o;
	char *s = line;
	int r;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	if (!*s)
		return 0;
	o = json_tokener_parse(s);
	r = fn(o, s, userdata);
	json_object_put(o);
	return r;
}

int jsonl_feed(struct jsonl *j, const void *data, size_t n, jsonl_line_fn fn, void *userdata)
{
	size_t max = j->max ? j->max : JSONL_DEFAULT_MAX;
	char *nb;

	if (n) {
		nb = realloc(j->buf, j->len + n + 1);
		if (!nb)
			return -ENOMEM;
		j->buf = nb;
		memcpy(j->buf + j->len, data, n);
		j->len += n;
		j->buf[j->len] = 0;
	}
	while (j->len) {
		char *nl = memchr(j->buf, '\n', j->len);
		size_t l;
		int r = 0;

		if (!nl) {
			if (j->len > max) { /* the start of an over-long line: drop it */
				j->len = 0;
				j->buf[0] = 0;
				j->skipping = true;
			}
			break;
		}
		*nl = 0;
		l = (size_t)(nl - j->buf) + 1;
		if (!j->skipping && l - 1 <= max)
			r = deliver(j->buf, fn, userdata);
		j->skipping = false;
		memmove(j->buf, nl + 1, j->len - l + 1);
		j->len -= l;
		if (r)
			return r;
	}
	return 0;
}

ssize_t jsonl_read(struct jsonl *j, int fd, jsonl_line_fn fn, void *userdata)
{
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));
	int r;

	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	if (n == 0)
		return 0;
	r = jsonl_feed(j, buf, (size_t)n, fn, userdata);
	return r < 0 ? r : n;
}

void jsonl_clear(struct jsonl *j)
{
	free(j->buf);
	j->buf = NULL;
	j->len = 0;
	j->skipping = false;
}

json_object *json_fixed(double d, int places)
{
	char buf[64];
	double scale = pow(10, places);

	snprintf(buf, sizeof(buf), "%.*f", places, d);
	return json_object_new_double_s(round(d * scale) / scale, buf);
}
