/* SPDX-License-Identifier: GPL-2.0 */
/* Internal to librepro: not for programs. */
#ifndef KDRILL_REPRO_INTERNAL_H
#define KDRILL_REPRO_INTERNAL_H

#include <stdbool.h>

int repro_fault_init(const char *spec); /* 0, or -EINVAL for a bad spec */
const char *repro_fault_spec(void);	/* NULL if none planted */
bool repro_fault_fired(void);
/* engine completions: the aio-* kinds, then the generic ones */
void repro_fault_aio_read(void *buf, size_t len);
ssize_t repro_fault_aio_write(ssize_t res, size_t len);

#endif
