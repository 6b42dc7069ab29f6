// SPDX-License-Identifier: GPL-2.0
/* QMP client.  See qmp.h. */
#include <json-c/json.h>
#include <string.h>
#include <sys/socket.h>

#include "jsonl.h"
#include "qmp.h"
#include "util.h"

struct pending {
	uint64_t id;
	char *cmd; /* serialized, sent once the session is ready */
	kd_qmp_reply_cb cb;
	void *userdata;
	bool sent;
	struct pending *next;
};

struct kd_qmp {
	sd_event_source *io;
	int fd;
	bool greeted, ready, closed;
	uint64_t next_id;
	struct jsonl in;
	char *out;
	size_t outlen;
	struct pending *pending; /* FIFO */
	kd_qmp_event_cb ecb;
	void *userdata;
};

static void qmp_close(struct kd_qmp *q)
{
	if (q->closed)
		return;
	q->closed = true;
	q->io = sd_event_source_disable_unref(q->io);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	/* fail what is still waiting */
	while (q->pending) {
		struct pending *p = q->pending;
		q->pending = p->next;
		if (p->cb)
			p->cb(q, NULL, "QMP connection closed", p->userdata);
		free(p->cmd);
		free(p);
	}
	if (q->ecb)
		q->ecb(q, "QMP_CLOSED", NULL, q->userdata);
}

static int flush_out(struct kd_qmp *q)
{
	while (q->outlen) {
		ssize_t n = send(q->fd, q->out, q->outlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return -errno;
		memmove(q->out, q->out + n, q->outlen - (size_t)n);
		q->outlen -= (size_t)n;
	}
	return sd_event_source_set_io_events(q->io, EPOLLIN | (q->outlen ? EPOLLOUT : 0));
}

static int queue_out(struct kd_qmp *q, const char *s)
{
	size_t l = strlen(s);
	char *nb = realloc(q->out, q->outlen + l + 1);

	if (!nb)
		return -ENOMEM;
	q->out = nb;
	memcpy(q->out + q->outlen, s, l);
	q->out[q->outlen + l] = '\n';
	q->outlen += l + 1;
	return flush_out(q);
}

static int send_pending(struct kd_qmp *q)
{
	for (struct pending *p = q->pending; p; p = p->next)
		if (!p->sent &&
		    (q->ready || !strncmp(p->cmd, "{\"execute\":\"qmp_capabilities\"", 29))) {
			int r = queue_out(q, p->cmd);
			if (r < 0)
				return r;
			p->sent = true;
		}
	return 0;
}

static int enqueue(struct kd_qmp *q, const char *cmd, json_object *args, kd_qmp_reply_cb cb,
		   void *userdata)
{
	json_object *o = json_object_new_object();
	struct pending *p = calloc(1, sizeof(*p)), **tail;

	if (!o || !p) {
		json_object_put(o);
		json_object_put(args);
		free(p);
		return -ENOMEM;
	}
	p->id = ++q->next_id;
	json_object_object_add(o, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(o, "arguments", args);
	json_object_object_add(o, "id", json_object_new_int64((int64_t)p->id));
	p->cmd = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	p->cb = cb;
	p->userdata = userdata;
	if (!p->cmd) {
		free(p);
		return -ENOMEM;
	}
	for (tail = &q->pending; *tail; tail = &(*tail)->next)
		;
	*tail = p;
	return send_pending(q);
}

static void on_caps(struct kd_qmp *q, json_object *ret, const char *error, void *userdata)
{
	(void)ret;
	(void)userdata;
	if (error)
		return;
	q->ready = true;
	send_pending(q);
}

static void handle(struct kd_qmp *q, json_object *m)
{
	json_object *v;

	if (json_object_object_get_ex(m, "QMP", &v)) {
		q->greeted = true;
		/* capabilities go first, ahead of anything queued */
		{
			struct pending *p = calloc(1, sizeof(*p));
			if (!p)
				return;
			p->id = ++q->next_id;
			p->cmd = strdupf("{\"execute\":\"qmp_capabilities\",\"id\":%llu}",
					 (unsigned long long)p->id);
			p->cb = on_caps;
			p->next = q->pending;
			q->pending = p;
		}
		send_pending(q);
		return;
	}
	if (json_object_object_get_ex(m, "event", &v)) {
		json_object *data = NULL;
		json_object_object_get_ex(m, "data", &data);
		if (q->ecb)
			q->ecb(q, json_object_get_string(v), data, q->userdata);
		return;
	}
	if (json_object_object_get_ex(m, "id", &v)) {
		uint64_t id = (uint64_t)json_object_get_int64(v);
		for (struct pending **pp = &q->pending; *pp; pp = &(*pp)->next) {
			struct pending *p = *pp;
			json_object *ret = NULL, *err = NULL, *desc = NULL;
			if (p->id != id)
				continue;
			*pp = p->next;
			json_object_object_get_ex(m, "return", &ret);
			if (json_object_object_get_ex(m, "error", &err))
				json_object_object_get_ex(err, "desc", &desc);
			if (p->cb)
				p->cb(q, err ? NULL : ret,
				      err ? (desc ? json_object_get_string(desc) : "error") : NULL,
				      p->userdata);
			free(p->cmd);
			free(p);
			return;
		}
	}
}

static int on_line(json_object *m, const char *line, void *userdata)
{
	struct kd_qmp *q = userdata;

	(void)line;
	if (m)
		handle(q, m);
	return q->closed ? 1 : 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct kd_qmp *q = userdata;
	ssize_t n;

	(void)s;
	if (revents & EPOLLOUT && flush_out(q) < 0) {
		qmp_close(q);
		return 0;
	}
	if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return 0;
	n = jsonl_read(&q->in, fd, on_line, q);
	if (n == -EAGAIN)
		return 0;
	if (n == -ENOMEM)
		return (int)n;
	if (n <= 0)
		qmp_close(q);
	return 0;
}

int kd_qmp_new(struct kd_qmp **ret, sd_event *ev, int fd, kd_qmp_event_cb ecb, void *userdata)
{
	struct kd_qmp *q = calloc(1, sizeof(*q));
	int r;

	if (!q) {
		close(fd);
		return -ENOMEM;
	}
	q->fd = fd;
	q->ecb = ecb;
	q->userdata = userdata;
	r = sd_event_add_io(ev, &q->io, fd, EPOLLIN, on_io, q);
	if (r < 0) {
		close(fd);
		free(q);
		return r;
	}
	*ret = q;
	return 0;
}

void kd_qmp_free(struct kd_qmp *q)
{
	if (!q)
		return;
	q->ecb = NULL;
	qmp_close(q);
	jsonl_clear(&q->in);
	free(q->out);
	free(q);
}

int kd_qmp_command(struct kd_qmp *q, const char *cmd, json_object *args, kd_qmp_reply_cb cb,
		   void *userdata)
{
	if (q->closed) {
		json_object_put(args);
		return -ENOTCONN;
	}
	return enqueue(q, cmd, args, cb, userdata);
}

bool kd_qmp_is_ready(const struct kd_qmp *q)
{
	return q && q->ready && !q->closed;
}

bool kd_qmp_is_closed(const struct kd_qmp *q)
{
	return !q || q->closed;
}

int kd_qmp_send_break(struct kd_qmp *q, const char *chardev, kd_qmp_reply_cb cb, void *userdata)
{
	json_object *a = json_object_new_object();

	if (!a)
		return -ENOMEM;
	json_object_object_add(a, "id", json_object_new_string(chardev));
	return kd_qmp_command(q, "chardev-send-break", a, cb, userdata);
}

int kd_qmp_dump(struct kd_qmp *q, const char *path, kd_qmp_reply_cb cb, void *userdata)
{
	json_object *a = json_object_new_object();
	_cleanup_free_ char *proto = strdupf("file:%s", path);

	if (!a || !proto) {
		json_object_put(a);
		return -ENOMEM;
	}
	json_object_object_add(a, "paging", json_object_new_boolean(false));
	json_object_object_add(a, "protocol", json_object_new_string(proto));
	json_object_object_add(a, "format", json_object_new_string("kdump-zlib"));
	return kd_qmp_command(q, "dump-guest-memory", a, cb, userdata);
}
