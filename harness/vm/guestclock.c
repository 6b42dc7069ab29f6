// SPDX-License-Identifier: GPL-2.0
/* The guest's clock rate and the run timeout (guestclock.h). */
#include "guestclock.h"

void kd_guest_clock_sample(struct kd_guest_clock *c, uint64_t host_usec, double guest_secs)
{
	if (!c->have || host_usec < c->h || guest_secs < c->g) {
		/* the first sample, or a new run's clock (its elapsed starts again) */
		*c = (struct kd_guest_clock){.have = true,
					     .h0 = host_usec,
					     .h = host_usec,
					     .g0 = guest_secs,
					     .g = guest_secs};
		return;
	}
	c->h = host_usec;
	c->g = guest_secs;
}

/* host seconds between the first and latest sample, -1 before a window of them */
static double window(const struct kd_guest_clock *c)
{
	double host = c->have ? (double)(c->h - c->h0) / 1e6 : 0;
	return host < KD_GUEST_RATE_WINDOW ? -1 : host;
}

double kd_guest_clock_measured(const struct kd_guest_clock *c)
{
	double host = window(c);
	return host < 0 ? 0 : (c->g - c->g0) / host;
}

double kd_guest_clock_rate(const struct kd_guest_clock *c)
{
	double rate = kd_guest_clock_measured(c);

	if (window(c) < 0 || rate > 1)
		return 1;
	return rate < KD_GUEST_RATE_MIN ? KD_GUEST_RATE_MIN : rate;
}

double kd_guest_clock_at(const struct kd_guest_clock *c, uint64_t host_usec)
{
	if (!c->have)
		return -1;
	return c->g + ((double)host_usec - (double)c->h) / 1e6 * kd_guest_clock_rate(c);
}

double kd_run_timeout(double host_secs, double guest_secs, double rate)
{
	if (!(rate >= KD_GUEST_RATE_MIN)) /* NaN too */
		rate = KD_GUEST_RATE_MIN;
	if (rate > 1)
		rate = 1;
	return host_secs + guest_secs / rate;
}
