/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Console detector: kernel console bytes in -> titled, deduplicated reports out.
 * Pure and streaming: no I/O, no globals, no threads; rules are a data table
 * (harness/detect/detect-rules.c).  The runner, the VM
 * watcher and `kdrill scan` all use only this interface.
 */
#ifndef KDRILL_DETECT_H
#define KDRILL_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

enum kd_class {
	KD_CLASS_CRASH,
	KD_CLASS_HANG,
	KD_CLASS_WARNING,
	KD_CLASS_LOCKDEP,
	KD_CLASS_MEMSAFETY, /* "memory-safety" */
	KD_CLASS_OOM,
	KD_CLASS_FSERROR, /* "fs-error" */
	KD_CLASS_SUMMARY, /* hung-task summary */
	_KD_CLASS_MAX
};

/* Hung-task summary: blocked tasks grouped by innermost meaningful frame. */
struct kd_hung_group {
	char *frame; /* "jbd2_log_wait_commit" */
	/* next meaningful callers, "jbd2_complete_transaction < ext4_sync_file", or NULL */
	char *via;
	char *role; /* "fsync callers waiting for the journal commit", or NULL */
	unsigned count;
	char **tasks; /* "comm:pid", NULL-terminated */
};

struct kd_report {
	enum kd_class cls;
	char *title;			/* "INFO: task hung in jbd2_journal_commit_transaction" */
	char *frame;			/* guilty frame, NULL if none */
	char **stack;			/* NULL-terminated function names, innermost first */
	char *task;			/* "comm:pid" or NULL */
	uint64_t first_line, last_line; /* 1-based input lines */
	bool corrupted;
	char *signature; /* stable dedup key */
	unsigned count;	 /* times this signature was seen */
	char *excerpt;	 /* the report's cleaned lines, '\n'-separated */
	char *memcg;	 /* oom: memcg path, or NULL */
	char *victim;	 /* oom: "comm:pid" of the killed task, or NULL */
	/* summary only: human-readable grouping and the likely root */
	char *summary_text;
	struct kd_hung_group *groups; /* summary only */
	size_t n_groups;
	char *root; /* summary only: "jbd2/dm-0-8:105 in jbd2_journal_commit_transaction" */
};

struct kd_detector;

/* Called for every new report (first == true) and each time a duplicate bumps
 * the count of an earlier one (first == false).  The report stays owned by the
 * detector and valid until kd_detector_free(). */
typedef void (*kd_report_cb)(const struct kd_report *r, bool first, void *userdata);

int kd_detector_new(struct kd_detector **ret, kd_report_cb cb, void *userdata);
void kd_detector_free(struct kd_detector *d);
/* Feed raw bytes (any chunking; CR/LF, kmsg records, NULs, bad UTF-8 allowed). */
int kd_detector_feed(struct kd_detector *d, const void *buf, size_t len);
/* The stream went quiet: finish reports whose end is pending (live use, e.g. after
 * a second of console silence): every report whose stack has been seen is emitted;
 * one still waiting for its stack stays open.  Reports that end with their own
 * marker (</TASK> of a hung task, KASAN's closing =====, OOM's "Killed process")
 * are emitted during feed() without waiting.  Idempotent. */
int kd_detector_flush(struct kd_detector *d);
/* End of stream: flush, mark cut reports corrupted, emit the hung-task summary.
 * flush() also emits/updates the summary (first == false on updates). */
int kd_detector_finish(struct kd_detector *d);

size_t kd_detector_n_reports(const struct kd_detector *d);
const struct kd_report *kd_detector_report(const struct kd_detector *d, size_t i);

const char *kd_class_name(enum kd_class c); /* "crash", "memory-safety", ... */
/* Does this class make a run fail (crash/hang/warning/lockdep/memory-safety/fs-error)? */
bool kd_class_is_failure(enum kd_class c);
/* JSON object with the documented keys (docs/detector.md).  Caller owns it. */
struct json_object *kd_report_to_json(const struct kd_report *r);

#endif
