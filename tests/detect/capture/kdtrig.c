// SPDX-License-Identifier: GPL-2.0
/*
 * kdtrig: tiny guest module that makes the kernel print real reports for the
 * detector's fixtures.  insmod kdtrig.ko mode=<warn|bug|null|refcount|atomic|spin|irqspin>
 * Only for throw-away QEMU guests (tests/detect/capture/capture.sh).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/delay.h>
#include <linux/refcount.h>
#include <linux/preempt.h>
#include <linux/jiffies.h>
#include <linux/string.h>

static char *mode = "warn";
module_param(mode, charp, 0444);
static int secs = 12;
module_param(secs, int, 0444);

struct kdtrig_obj {
	int a;
	int b;
};

static noinline void kdtrig_warn_path(int v)
{
	WARN(v != 0, "kdtrig: value %d is not zero\n", v);
}

static noinline void kdtrig_bug_path(int v)
{
	BUG_ON(v == 1);
}

static noinline int kdtrig_null_path(struct kdtrig_obj *o)
{
	return o->b;
}

static noinline void kdtrig_refcount_path(void)
{
	refcount_t r = REFCOUNT_INIT(1);

	refcount_dec(&r);
}

static noinline void kdtrig_atomic_path(void)
{
	preempt_disable();
	msleep(10);
	preempt_enable();
}

static noinline void kdtrig_spin_path(int s)
{
	unsigned long end = jiffies + s * HZ;

	preempt_disable();
	while (time_before(jiffies, end))
		cpu_relax();
	preempt_enable();
}

static int __init kdtrig_init(void)
{
	struct kdtrig_obj *volatile o = NULL;

	pr_info("kdtrig: mode=%s\n", mode);
	if (!strcmp(mode, "warn"))
		kdtrig_warn_path(secs);
	else if (!strcmp(mode, "bug"))
		kdtrig_bug_path(1);
	else if (!strcmp(mode, "null"))
		return kdtrig_null_path(o);
	else if (!strcmp(mode, "refcount"))
		kdtrig_refcount_path();
	else if (!strcmp(mode, "atomic"))
		kdtrig_atomic_path();
	else if (!strcmp(mode, "spin"))
		kdtrig_spin_path(secs);
	return 0;
}

static void __exit kdtrig_exit(void)
{
}

module_init(kdtrig_init);
module_exit(kdtrig_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kdrill detector fixture trigger");
