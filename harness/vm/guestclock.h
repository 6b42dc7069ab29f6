/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's clock against the host's, and the run timeout that allows for it: pure
 * arithmetic, no VM.
 *
 * A scenario's duration, its grace and the guest's watchdog timeouts are guest seconds;
 * the harness's run timeout is host seconds.  Under TCG a kernel without ACPI has no HPET
 * or PM timer to calibrate the TSC against and keeps time with refined-jiffies, which
 * loses the ticks its vCPU threads do not get: on a loaded host the guest's clock runs at
 * 0.4-0.6 of the host's, and a 360 s run takes ~800 host seconds.  The runner's progress
 * messages carry its elapsed guest time; the rate over them stretches the guest part of
 * the timeout.  The rate is not trusted below KD_GUEST_RATE_MIN (a timeout at most 5x the
 * guest part), so a guest whose clock stopped still ends.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define KD_GUEST_RATE_MIN    0.2
#define KD_GUEST_RATE_WINDOW 20.0 /* host seconds of samples before a rate is believed */

struct kd_guest_clock {
	bool have;
	uint64_t h0, h; /* host CLOCK_MONOTONIC, microseconds: first and latest sample */
	double g0, g;	/* the guest's elapsed seconds at them */
};

/* one progress message: the guest said `guest_secs` at host time `host_usec` */
void kd_guest_clock_sample(struct kd_guest_clock *c, uint64_t host_usec, double guest_secs);

/* guest seconds per host second as measured, 0 before a window of KD_GUEST_RATE_WINDOW
 * host seconds (vm.guest_clock_rate in verdict.json) */
double kd_guest_clock_measured(const struct kd_guest_clock *c);

/* guest seconds per host second, in [KD_GUEST_RATE_MIN, 1]; 1 before a window of
 * KD_GUEST_RATE_WINDOW host seconds (a guest clock faster than the host's counts as 1) */
double kd_guest_clock_rate(const struct kd_guest_clock *c);

/* the guest's elapsed seconds at host time `host_usec` (before or after the latest sample),
 * from the latest sample at kd_guest_clock_rate(); -1 before any sample */
double kd_guest_clock_at(const struct kd_guest_clock *c, uint64_t host_usec);

/* host seconds for `host_secs` of host-timed work plus `guest_secs` of guest time at `rate` */
double kd_run_timeout(double host_secs, double guest_secs, double rate);
