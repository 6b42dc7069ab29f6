// SPDX-License-Identifier: GPL-2.0
/* When to dump the blocked tasks after a hang report (hanggrace.h). */
#include "hanggrace.h"

#define USEC 1000000ULL

unsigned kd_hung_scan_secs(unsigned hung_secs, unsigned asked_secs)
{
	if (!asked_secs || asked_secs > hung_secs)
		return hung_secs;
	return asked_secs;
}

enum kd_grace kd_hang_grace(const struct kd_grace_clock *c, unsigned hung_secs, unsigned scan_secs,
			    uint64_t quiet_usec, uint64_t settle_max_usec)
{
	uint64_t scan = (uint64_t)kd_hung_scan_secs(hung_secs, scan_secs) * USEC;
	uint64_t spread = (uint64_t)hung_secs * USEC / 2;
	uint64_t since = c->now - c->start;
	bool quiet = c->now - c->last_console >= quiet_usec;

	if (spread < scan)
		spread = scan;
	/* The looks come every `scan` after the one that gave the first report, whose other
	 * reports follow within moments (seconds under TCG): a report later than a quarter
	 * look before the end of the spread is the look that ends it (or a later one). */
	if (c->last_report >= c->start + spread - scan / 4 && quiet)
		return KD_GRACE_RESCANNED;
	if ((since >= 2 * spread && quiet) || since >= 2 * spread + settle_max_usec)
		return KD_GRACE_NO_REPORT;
	return KD_GRACE_WAIT;
}
