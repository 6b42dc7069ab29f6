/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /dev/kmsg watcher on an sd-event loop.  Opened at the start of a run and
 * seeked to the end; only kernel-facility records (facility = prio >> 3 == 0)
 * are passed on, so a process writing to /dev/kmsg (facility >= 1, the kernel
 * forces LOG_USER for "<0>" too) cannot fake a kernel report.  Records are turned
 * into console-style lines "[   12.345678] text\n" (continuation lines and the
 * KEY=value dictionary dropped).
 */
#ifndef KDRILL_KMSG_H
#define KDRILL_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sd_event sd_event;

struct kmsg_record {
	unsigned prio;	   /* syslog priority incl. facility */
	unsigned facility; /* prio >> 3 */
	unsigned level;	   /* prio & 7 */
	uint64_t seq;
	uint64_t ts_usec; /* since boot */
	const char *text; /* points into the record, not NUL-terminated */
	size_t text_len;
};

/* Parse one record "prio,seq,ts,flags[,...];text\n[ KEY=value\n...]".  0 or -EINVAL. */
int kmsg_parse_record(const char *rec, size_t len, struct kmsg_record *ret);

/* Called with one console line (with its '\n', NUL-terminated) per kernel record. */
typedef void (*kmsg_line_cb)(const char *line, size_t len, void *userdata);

struct kmsg_watch;
/* path NULL = /dev/kmsg.  Counters: records seen, kernel records passed, others dropped,
 * records lost to ring-buffer overrun (EPIPE). */
int kmsg_watch_new(struct kmsg_watch **ret, sd_event *e, const char *path, kmsg_line_cb cb,
		   void *userdata);
void kmsg_watch_free(struct kmsg_watch *w);
/* Read whatever is pending now (also called by the io source). */
int kmsg_watch_drain(struct kmsg_watch *w);
/* Feed records from a buffer with the /dev/kmsg text format, one record per line
 * (lines starting with a space are continuation/dictionary lines).  For replays. */
int kmsg_watch_feed_text(struct kmsg_watch *w, const char *buf, size_t len);
void kmsg_watch_counts(const struct kmsg_watch *w, uint64_t *kernel, uint64_t *dropped,
		       uint64_t *lost);

#endif
