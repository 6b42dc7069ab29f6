// SPDX-License-Identifier: GPL-2.0
/*
 * kdtrig: tiny guest module that makes the kernel print real reports for the
 * detector's fixtures.  insmod kdtrig.ko mode=<warn|bug|null|refcount|atomic|spin|
 * kasan-uaf|kasan-oob|lockdep|list-del|odebug-work|alloc-atomic>
 * The last six need the debug flavor of the kdrill kernel (kvm/debug.config: KASAN,
 * PROVE_LOCKING, DEBUG_LIST, DEBUG_OBJECTS_WORK, DEBUG_ATOMIC_SLEEP).
 * Only for throw-away QEMU guests (tests/detect/capture/capture.sh).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/delay.h>
#include <linux/refcount.h>
#include <linux/preempt.h>
#include <linux/jiffies.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/list.h>
#include <linux/workqueue.h>
#include <linux/completion.h>
#include <linux/spinlock.h>

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

static noinline int kdtrig_kasan_uaf_path(void)
{
	int *p = kmalloc(64, GFP_KERNEL);
	int v;

	if (!p)
		return -ENOMEM;
	p[0] = 1;
	kfree(p);
	v = READ_ONCE(p[4]); /* a read of the freed object */
	return v == 42;
}

static noinline int kdtrig_kasan_oob_path(void)
{
	char *p = kmalloc(40, GFP_KERNEL);
	char *volatile q;

	if (!p)
		return -ENOMEM;
	q = p;
	q[40] = 'x'; /* one byte past the object */
	kfree(p);
	return 0;
}

/* A then B, later B then A: lockdep reports the inversion at the second order. */
static DEFINE_MUTEX(kdtrig_lock_a);
static DEFINE_MUTEX(kdtrig_lock_b);

static noinline void kdtrig_lockdep_path(void)
{
	mutex_lock(&kdtrig_lock_a);
	mutex_lock(&kdtrig_lock_b);
	mutex_unlock(&kdtrig_lock_b);
	mutex_unlock(&kdtrig_lock_a);

	mutex_lock(&kdtrig_lock_b);
	mutex_lock(&kdtrig_lock_a);
	mutex_unlock(&kdtrig_lock_a);
	mutex_unlock(&kdtrig_lock_b);
}

/* The same entry deleted twice: the second list_del sees LIST_POISON1. */
static noinline void kdtrig_list_del_path(void)
{
	LIST_HEAD(head);
	struct list_head e;

	list_add(&e, &head);
	list_del(&e);
	list_del(&e);
}

/* A queued work item freed before it ran: an ordered workqueue whose first item blocks
 * keeps the second one pending; ODEBUG's free fixup cancels it. */
struct kdtrig_work {
	struct work_struct work;
	struct completion *go;
};

static noinline void kdtrig_blocker_fn(struct work_struct *w)
{
	wait_for_completion(container_of(w, struct kdtrig_work, work)->go);
}

static noinline void kdtrig_pending_fn(struct work_struct *w)
{
}

static noinline int kdtrig_odebug_work_path(void)
{
	DECLARE_COMPLETION_ONSTACK(go);
	struct workqueue_struct *wq = alloc_ordered_workqueue("kdtrig", 0);
	struct kdtrig_work *blocker = kzalloc(sizeof(*blocker), GFP_KERNEL);
	struct kdtrig_work *pending = kzalloc(sizeof(*pending), GFP_KERNEL);

	if (!wq || !blocker || !pending) {
		kfree(blocker);
		kfree(pending);
		if (wq)
			destroy_workqueue(wq);
		return -ENOMEM;
	}
	blocker->go = &go;
	INIT_WORK(&blocker->work, kdtrig_blocker_fn);
	INIT_WORK(&pending->work, kdtrig_pending_fn);
	queue_work(wq, &blocker->work);
	queue_work(wq, &pending->work);
	kfree(pending); /* still queued */
	complete(&go);
	destroy_workqueue(wq);
	kfree(blocker);
	return 0;
}

/* A GFP_KERNEL allocation under a spinlock: might_alloc() -> "BUG: sleeping function
 * called from invalid context" (DEBUG_ATOMIC_SLEEP; the allocation itself succeeds). */
static DEFINE_SPINLOCK(kdtrig_spin);

static noinline void kdtrig_alloc_atomic_path(void)
{
	void *p;

	spin_lock(&kdtrig_spin);
	p = kmalloc(64, GFP_KERNEL);
	spin_unlock(&kdtrig_spin);
	kfree(p);
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
	else if (!strcmp(mode, "kasan-uaf"))
		kdtrig_kasan_uaf_path();
	else if (!strcmp(mode, "kasan-oob"))
		kdtrig_kasan_oob_path();
	else if (!strcmp(mode, "lockdep"))
		kdtrig_lockdep_path();
	else if (!strcmp(mode, "list-del"))
		kdtrig_list_del_path();
	else if (!strcmp(mode, "odebug-work"))
		kdtrig_odebug_work_path();
	else if (!strcmp(mode, "alloc-atomic"))
		kdtrig_alloc_atomic_path();
	return 0;
}

static void __exit kdtrig_exit(void)
{
}

module_init(kdtrig_init);
module_exit(kdtrig_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kdrill detector fixture trigger");
