/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LAVA: kdrill cells on the devices of a LAVA lab (docs/lava.md).
 *
 * A LAVA job deploys kdrill's kernel, initramfs, root image (kdrill and its units
 * inside) and modules image to a QEMU device, boots it into kdrill-lava.target (a root
 * shell on the serial console, no agent) and runs `kdrill lava dut SCENARIO...` there,
 * which runs each scenario in host mode on the device's own kernel, reports it with
 * lava-test-case and prints its verdict on the console between markers.  `kdrill lava
 * collect` reads the job's log back: the verdicts the device printed, and for a scenario
 * that killed the device (panic, hang) the kernel report kdrill's detector finds in the
 * console LAVA recorded.
 *
 * Pure functions here (job text, log parsing); the commands are in harness/cli/cmd-lava.c.
 */
#ifndef KDRILL_LAVA_H
#define KDRILL_LAVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Console markers `kdrill lava dut` prints, one per line. */
#define LAVA_MARK_START	  "kdrill-lava: start "	  /* SCENARIO */
#define LAVA_MARK_SUMMARY "kdrill-lava: summary " /* SCENARIO {compact json} */
#define LAVA_MARK_B64	  "kdrill-lava: b64 "	  /* SCENARIO I/N CHUNK (verdict.json) */
#define LAVA_MARK_END	  "kdrill-lava: end "	  /* SCENARIO EXIT */

struct lava_job {
	const char *name;	 /* job_name */
	const char *device_type; /* "qemu" */
	const char *kernel_ref;	 /* for the metadata */
	const char *kernel_url, *initrd_url, *rootfs_url, *modules_url; /* modules: may be NULL */
	const char *rootfs_compression; /* "zstd", or NULL */
	char *const *scenarios;		/* validated names (lava_name_ok) */
	double duration;		/* per scenario; <= 0: the scenario's own */
	unsigned test_minutes;		/* the test action's timeout */
};

/* A scenario[:variant] name that may go into a job's shell step: [A-Za-z0-9._:+-]{1,128}. */
bool lava_name_ok(const char *s);
/* The job definition (YAML).  -EINVAL for a name lava_name_ok() refuses. */
int lava_job_write(const struct lava_job *j, FILE *f);

/* One scenario as read back from a job's log. */
struct lava_cell {
	char *scenario;
	bool started;	  /* its start marker was seen */
	bool ended;	  /* its end marker was seen (kdrill run returned) */
	int exit_code;	  /* from the end marker, -1 if none */
	char *verdict;	  /* verdict.json text (from the b64 chunks), or NULL */
	char *summary;	  /* the compact summary line's json, or NULL */
	size_t con_start; /* offset in lava_log.console where its start marker is */
	size_t con_end;	  /* offset after its end marker (or the end of the console) */
};

struct lava_log {
	char *console; /* the device's serial output (LAVA "target" lines), '\n'-joined */
	size_t console_len;
	struct lava_cell *cells;
	size_t n_cells;
	char *error; /* the job's last error message (LAVA "error"/"results" of lava), or NULL */
};

/* Parse a LAVA job log (the YAML LAVA serves: one "- {"dt": ..., "lvl": ..., "msg": ...}"
 * mapping per line).  Lines that are not such mappings are ignored. */
int lava_log_parse(const char *text, size_t len, struct lava_log *ret);
void lava_log_done(struct lava_log *l);

/* base64 (RFC 4648, no line breaks) for the verdict chunks; decode returns -EINVAL on a
 * corrupted chunk. */
char *lava_b64_encode(const void *data, size_t len);
int lava_b64_decode(const char *s, size_t slen, char **ret, size_t *ret_len);

#endif
