// SPDX-License-Identifier: GPL-2.0
#include "kmsg.h"

#include <fcntl.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "util.h"

struct kmsg_watch {
	int fd;
	sd_event_source *src;
	kmsg_line_cb cb;
	void *userdata;
	char *buf;
	size_t cap;
	char *line;
	size_t line_cap;
	uint64_t n_kernel, n_dropped, n_lost;
};

static int parse_num(const char **p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return -EINVAL;
	while (s < end && *s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*p = s;
	*ret = v;
	return 0;
}

int kmsg_parse_record(const char *rec, size_t len, struct kmsg_record *ret)
{
	const char *p = rec, *end = rec + len, *semi, *nl;
	uint64_t prio, seq, ts;

	if (parse_num(&p, end, &prio) < 0 || p >= end || *p++ != ',')
		return -EINVAL;
	if (parse_num(&p, end, &seq) < 0 || p >= end || *p++ != ',')
		return -EINVAL;
	if (parse_num(&p, end, &ts) < 0 || p >= end || *p != ',')
		return -EINVAL;
	semi = memchr(p, ';', (size_t)(end - p));
	if (!semi || prio > 1023)
		return -EINVAL;
	nl = memchr(semi + 1, '\n', (size_t)(end - semi - 1));
	ret->prio = (unsigned)prio;
	ret->facility = (unsigned)prio >> 3;
	ret->level = (unsigned)prio & 7;
	ret->seq = seq;
	ret->ts_usec = ts;
	ret->text = semi + 1;
	ret->text_len = (size_t)((nl ? nl : end) - (semi + 1));
	return 0;
}

static int handle_record(struct kmsg_watch *w, const char *rec, size_t len)
{
	struct kmsg_record r;
	size_t need;
	int n;

	if (kmsg_parse_record(rec, len, &r) < 0 || r.facility != 0) {
		w->n_dropped++;
		return 0;
	}
	w->n_kernel++;
	need = r.text_len + 40;
	if (need > w->line_cap) {
		char *nl = realloc(w->line, need);
		if (!nl)
			return -ENOMEM;
		w->line = nl;
		w->line_cap = need;
	}
	n = snprintf(w->line, w->line_cap, "[%5llu.%06llu] %.*s\n",
		     (unsigned long long)(r.ts_usec / 1000000),
		     (unsigned long long)(r.ts_usec % 1000000), (int)r.text_len, r.text);
	if (n < 0)
		return -EIO;
	if (w->cb)
		w->cb(w->line, (size_t)n, w->userdata);
	return 0;
}

int kmsg_watch_drain(struct kmsg_watch *w)
{
	for (;;) {
		ssize_t n = read(w->fd, w->buf, w->cap - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			if (errno == EPIPE) { /* overrun: records lost, the next read continues */
				w->n_lost++;
				continue;
			}
			if (errno == EINVAL && w->cap < (1u << 20)) { /* record larger than buf */
				char *nb = realloc(w->buf, w->cap * 2);
				if (!nb)
					return -ENOMEM;
				w->buf = nb;
				w->cap *= 2;
				continue;
			}
			return -errno;
		}
		if (n == 0)
			return 0;
		w->buf[n] = 0;
		int r = handle_record(w, w->buf, (size_t)n);
		if (r < 0)
			return r;
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)s;
	(void)fd;
	(void)revents;
	kmsg_watch_drain(userdata);
	return 0;
}

int kmsg_watch_new(struct kmsg_watch **ret, sd_event *e, const char *path, kmsg_line_cb cb,
		   void *userdata)
{
	struct kmsg_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->cb = cb;
	w->userdata = userdata;
	w->cap = 16384;
	w->buf = malloc(w->cap);
	if (!w->buf) {
		kmsg_watch_free(w);
		return -ENOMEM;
	}
	if (e) {
		w->fd = open(path ? path : "/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (w->fd < 0) {
			r = -errno;
			kmsg_watch_free(w);
			return r;
		}
		if (lseek(w->fd, 0, SEEK_END) < 0) {
			r = -errno;
			kmsg_watch_free(w);
			return r;
		}
		r = sd_event_add_io(e, &w->src, w->fd, EPOLLIN, on_io, w);
		if (r < 0) {
			kmsg_watch_free(w);
			return r;
		}
	}
	*ret = w;
	return 0;
}

void kmsg_watch_free(struct kmsg_watch *w)
{
	if (!w)
		return;
	sd_event_source_disable_unref(w->src);
	if (w->fd >= 0)
		close(w->fd);
	free(w->buf);
	free(w->line);
	free(w);
}

int kmsg_watch_feed_text(struct kmsg_watch *w, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (*p != ' ' && l > 1) {
			int r = handle_record(w, p, l);
			if (r < 0)
				return r;
		}
		p += l;
	}
	return 0;
}

void kmsg_watch_counts(const struct kmsg_watch *w, uint64_t *kernel, uint64_t *dropped,
		       uint64_t *lost)
{
	if (kernel)
		*kernel = w->n_kernel;
	if (dropped)
		*dropped = w->n_dropped;
	if (lost)
		*lost = w->n_lost;
}
