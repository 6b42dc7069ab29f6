/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small QMP client on an sd-event loop (json-c).  Commands issued before the greeting
 * and qmp_capabilities are queued.  Replies are matched by "id"; asynchronous events
 * (GUEST_PANICKED, SHUTDOWN, STOP, DUMP_COMPLETED...) go to the event callback, and the
 * connection closing is reported as the pseudo-event "QMP_CLOSED".
 */
#ifndef KDRILL_QMP_H
#define KDRILL_QMP_H

#include <stdbool.h>
#include <systemd/sd-event.h>

struct json_object;
struct kd_qmp;

typedef void (*kd_qmp_event_cb)(struct kd_qmp *q, const char *event, struct json_object *data,
				void *userdata);
/* ret: the "return" member (NULL on error); error: the error description (NULL on success) */
typedef void (*kd_qmp_reply_cb)(struct kd_qmp *q, struct json_object *ret, const char *error,
				void *userdata);

/* Takes ownership of fd (a connected stream socket). */
int kd_qmp_new(struct kd_qmp **ret, sd_event *ev, int fd, kd_qmp_event_cb ecb, void *userdata);
void kd_qmp_free(struct kd_qmp *q);
/* args may be NULL; ownership of args is taken.  cb may be NULL. */
int kd_qmp_command(struct kd_qmp *q, const char *cmd, struct json_object *args, kd_qmp_reply_cb cb,
		   void *userdata);
bool kd_qmp_is_ready(const struct kd_qmp *q);
bool kd_qmp_is_closed(const struct kd_qmp *q);

/* Helpers built on kd_qmp_command. */
/* A break on a serial chardev; the sysrq key is the next character written to that
 * serial line (the caller owns the console socket and writes it from cb). */
int kd_qmp_send_break(struct kd_qmp *q, const char *chardev, kd_qmp_reply_cb cb, void *userdata);
int kd_qmp_dump(struct kd_qmp *q, const char *path, kd_qmp_reply_cb cb, void *userdata);

#endif
