// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's clock rate and the run timeout (harness/vm/guestclock.c): a guest whose
 * refined-jiffies clock loses ticks under load gets the host time its run needs, a guest
 * whose clock stopped still ends, an idle host's run timeout is what it always was, and a
 * console report's host time maps onto the guest's clock.
 */
#include <math.h>
#include <stdio.h>

#include "guestclock.h"

#define USEC 1000000ULL

static int failed;

static void want(const char *what, double got, double want)
{
	if (fabs(got - want) > 1e-6) {
		printf("FAIL %s: %.6f, want %.6f\n", what, got, want);
		failed = 1;
	} else {
		printf("ok   %s: %.4f\n", what, got);
	}
}

/* samples every `step` host seconds for `host` seconds, the guest's clock at `rate` */
static struct kd_guest_clock run(double host, double step, double rate, double guest0)
{
	struct kd_guest_clock c = {0};
	for (double t = 0; t <= host + 1e-9; t += step)
		kd_guest_clock_sample(&c, (uint64_t)(1000 * USEC + t * 1e6), guest0 + t * rate);
	return c;
}

int main(void)
{
	struct kd_guest_clock c = {0};

	want("no sample: 1", kd_guest_clock_rate(&c), 1);
	c = run(10, 1, 0.5, 3);
	want("10 s of samples at 0.5: not yet believed", kd_guest_clock_rate(&c), 1);
	want("10 s of samples: not measured", kd_guest_clock_measured(&c), 0);
	c = run(KD_GUEST_RATE_WINDOW, 1, 0.5, 3);
	want("a window at 0.5", kd_guest_clock_rate(&c), 0.5);
	c = run(300, 2, 0.46, 0.8);
	want("300 s at 0.46 (five guests on two cores)", kd_guest_clock_rate(&c), 0.46);
	want("300 s at 0.46: measured", kd_guest_clock_measured(&c), 0.46);
	c = run(300, 2, 1.03, 0.8);
	want("a guest clock faster than the host's counts as 1", kd_guest_clock_rate(&c), 1);
	want("a faster guest clock: measured as it is", kd_guest_clock_measured(&c), 1.03);
	c = run(300, 2, 0, 42);
	want("a stopped guest clock: the floor", kd_guest_clock_rate(&c), KD_GUEST_RATE_MIN);

	/* elapsed starts again (a second run in the same guest): a new window */
	c = run(300, 2, 0.46, 0.8);
	kd_guest_clock_sample(&c, 1400 * USEC, 1.0);
	want("elapsed went back: a new window", kd_guest_clock_rate(&c), 1);
	kd_guest_clock_sample(&c, 1440 * USEC, 21.0);
	want("the new window's rate", kd_guest_clock_rate(&c), 0.5);

	/* the guest's time at a console report (the time to report, on the clock of the
	 * scenario's duration): a jbd2 hang reported 730 host seconds after the load's start,
	 * the guest's clock at 0.5, is 365 guest seconds */
	c = (struct kd_guest_clock){0};
	want("no sample: no guest time", kd_guest_clock_at(&c, 5 * USEC), -1);
	c = run(800, 2, 0.5, 10);
	want("at the latest sample", kd_guest_clock_at(&c, 1800 * USEC), 410);
	want("after it: the rate", kd_guest_clock_at(&c, 1801 * USEC), 410.5);
	want("before it: the rate back", kd_guest_clock_at(&c, 1730 * USEC), 375);
	c = run(10, 1, 0.5, 3);
	want("before a window: at 1", kd_guest_clock_at(&c, 1014 * USEC), 12);
	c = run(300, 2, 0, 42);
	want("a stopped clock: the floor", kd_guest_clock_at(&c, 1310 * USEC), 44);

	/* the debug stock runs that ended INFRA "run timeout" (five guests on two cores):
	 * boot timeout 300 + 240 host seconds, 465 guest seconds (the 360 s run, its grace
	 * and the can't-die bound); the runner started ~250 host seconds after QEMU, its
	 * clock at 0.46: it needed until ~1261 s, the old timeout was 1005 s */
	want("idle host: the timeout as before", kd_run_timeout(540, 465, 1), 1005);
	want("guest at 0.46", kd_run_timeout(540, 465, 0.46), 540 + 465 / 0.46);
	if (!(250 + 465 / 0.46 < kd_run_timeout(540, 465, 0.46))) {
		printf("FAIL guest at 0.46: a run set up at 250 s outlasts its timeout\n");
		failed = 1;
	}
	want("rate 0: the floor", kd_run_timeout(540, 465, 0), 540 + 465 / KD_GUEST_RATE_MIN);
	want("rate NaN: the floor", kd_run_timeout(540, 465, NAN), 540 + 465 / KD_GUEST_RATE_MIN);
	want("rate 2: as 1", kd_run_timeout(540, 465, 2), 1005);
	return failed;
}
