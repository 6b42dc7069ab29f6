// SPDX-License-Identifier: GPL-2.0
/*
 * kdtrig: tiny guest module that makes the kernel print real reports for the
 * detector's fixtures.  insmod kdtrig.ko mode=<warn|bug|null|refcount|atomic|spin|
 * kasan-uaf|kasan-oob|kasan-double-free|lockdep|list-del|odebug-work|alloc-atomic|
 * bad-unlock|held-lock-freed|rcu-usage|recursive-read|lock-held-return|irq-inconsistent>
 * The modes from kasan-uaf on need the debug flavor of the kdrill kernel (kvm/debug.config:
 * KASAN, PROVE_LOCKING (with PROVE_RCU), DEBUG_LIST, DEBUG_OBJECTS_WORK, DEBUG_ATOMIC_SLEEP).
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
#include <linux/rwsem.h>
#include <linux/rcupdate.h>
#include <linux/hrtimer.h>

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

static noinline int kdtrig_kasan_double_free_path(void)
{
	char *volatile p = kmalloc(32, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	kfree(p);
	kfree(p); /* KASAN: double-free */
	return 0;
}

/* Unlocking a mutex this task does not hold: lockdep's "bad unlock balance". */
static DEFINE_MUTEX(kdtrig_unheld);

static noinline void kdtrig_bad_unlock_path(void)
{
	mutex_unlock(&kdtrig_unheld);
}

/* kfree() of an object whose mutex is held: "BUG: held lock freed!". */
struct kdtrig_locked {
	struct mutex m;
	int v;
};

static noinline int kdtrig_held_lock_freed_path(void)
{
	struct kdtrig_locked *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return -ENOMEM;
	mutex_init(&o->m);
	mutex_lock(&o->m);
	kfree(o); /* still held; never unlocked (lockdep is off after its report) */
	return 0;
}

/* rcu_dereference() outside rcu_read_lock(): PROVE_RCU's "suspicious RCU usage". */
static struct kdtrig_obj __rcu *kdtrig_rcu_ptr;
static struct kdtrig_obj kdtrig_rcu_obj = {.a = 1};

static noinline int kdtrig_rcu_usage_path(void)
{
	struct kdtrig_obj *o;

	rcu_assign_pointer(kdtrig_rcu_ptr, &kdtrig_rcu_obj);
	o = rcu_dereference(kdtrig_rcu_ptr);
	return o ? o->a : 0;
}

/* down_read() twice on the same rwsem: "possible recursive locking" (two readers do
 * not block each other, so the task goes on). */
static DECLARE_RWSEM(kdtrig_rwsem);

static noinline void kdtrig_recursive_read_path(void)
{
	down_read(&kdtrig_rwsem);
	down_read(&kdtrig_rwsem);
	up_read(&kdtrig_rwsem);
	up_read(&kdtrig_rwsem);
}

/* insmod returns to user space with a mutex held: "lock held when returning to user
 * space!" (the module cannot be unloaded afterwards; the guest powers off). */
static DEFINE_MUTEX(kdtrig_kept);

static noinline void kdtrig_lock_held_return_path(void)
{
	mutex_lock(&kdtrig_kept);
}

/* A spinlock taken with interrupts on in process context, then in a hardirq hrtimer
 * callback: "inconsistent lock state" {HARDIRQ-ON-W} -> {IN-HARDIRQ-W}. */
static DEFINE_SPINLOCK(kdtrig_irq_lock);
static struct hrtimer kdtrig_timer;
static DECLARE_COMPLETION(kdtrig_timer_done);

static noinline enum hrtimer_restart kdtrig_timer_fn(struct hrtimer *t)
{
	spin_lock(&kdtrig_irq_lock);
	spin_unlock(&kdtrig_irq_lock);
	complete(&kdtrig_timer_done);
	return HRTIMER_NORESTART;
}

static noinline void kdtrig_irq_inconsistent_path(void)
{
	spin_lock(&kdtrig_irq_lock); /* irqs on */
	spin_unlock(&kdtrig_irq_lock);
	hrtimer_init(&kdtrig_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	kdtrig_timer.function = kdtrig_timer_fn;
	hrtimer_start(&kdtrig_timer, ms_to_ktime(10), HRTIMER_MODE_REL_HARD);
	wait_for_completion_timeout(&kdtrig_timer_done, 5 * HZ);
	hrtimer_cancel(&kdtrig_timer);
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
	else if (!strcmp(mode, "kasan-double-free"))
		kdtrig_kasan_double_free_path();
	else if (!strcmp(mode, "bad-unlock"))
		kdtrig_bad_unlock_path();
	else if (!strcmp(mode, "held-lock-freed"))
		kdtrig_held_lock_freed_path();
	else if (!strcmp(mode, "rcu-usage"))
		kdtrig_rcu_usage_path();
	else if (!strcmp(mode, "recursive-read"))
		kdtrig_recursive_read_path();
	else if (!strcmp(mode, "lock-held-return"))
		kdtrig_lock_held_return_path();
	else if (!strcmp(mode, "irq-inconsistent"))
		kdtrig_irq_inconsistent_path();
	return 0;
}

static void __exit kdtrig_exit(void)
{
}

module_init(kdtrig_init);
module_exit(kdtrig_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kdrill detector fixture trigger");
