// SPDX-License-Identifier: GPL-2.0
/*
 * The detector's data: header rules, generic frames, report-body vocabulary
 * and the hung-task dependency table.  Adding a rule = adding a row here (and
 * a fixture under tests/detect/fixtures/); see docs/detector.md.
 *
 * Header rules match a literal prefix of the cleaned line (timestamps, caller
 * ids, <N> levels and kmsg headers already stripped).  Within one first byte
 * the table is searched top-down, so put specific prefixes before generic ones.
 */
#include <string.h>

#include "detect-internal.h"

#define C_CRASH KD_CLASS_CRASH
#define C_HANG	KD_CLASS_HANG
#define C_WARN	KD_CLASS_WARNING
#define C_LOCK	KD_CLASS_LOCKDEP
#define C_MEM	KD_CLASS_MEMSAFETY
#define C_OOM	KD_CLASS_OOM
#define C_FS	KD_CLASS_FSERROR
#define C_NONE	(-1)

const struct kd_rule kd_rules[] = {
	/* --- noise first: never a report --- */
	{"INFO: lockdep is turned off", NULL, C_NONE, KK_NOISE_LINE, KE_LINE, NULL},
	{"BUG: MAX_LOCKDEP", NULL, C_NONE, KK_NOISE, KE_STACK, NULL},
	{"BUG: MAX_STACK_TRACE_ENTRIES too low", NULL, C_NONE, KK_NOISE, KE_STACK, NULL},
	{"BUG: MAX_LOCK_DEPTH too low", NULL, C_NONE, KK_NOISE, KE_STACK, NULL},
	{"INFO: NMI handler", NULL, C_NONE, KK_NOISE_LINE, KE_LINE, NULL},
	{"NMI backtrace for cpu", NULL, C_NONE, KK_NOISE, KE_STACK, NULL},
	{"Sending NMI from CPU", NULL, C_NONE, KK_NOISE_LINE, KE_LINE, NULL},
	{"sysrq: Show backtrace", NULL, C_NONE, KK_NOISE_LINE, KE_LINE, NULL},
	{"sysrq: Show State", NULL, C_NONE, KK_NOISE_LINE, KE_LINE, NULL},

	/* --- markers --- */
	{"------------[ cut here ]", NULL, C_NONE, KK_CUT_HERE, KE_LINE, NULL},
	{"----------- [cut here ]", NULL, C_NONE, KK_CUT_HERE, KE_LINE, NULL},
	{"==================", NULL, C_NONE, KK_SEPARATOR, KE_LINE, NULL},
	{"Linux version ", NULL, C_NONE, KK_BANNER, KE_LINE, NULL},
	{"reboot: ", NULL, C_NONE, KK_REBOOT, KE_LINE, NULL},
	{"kexec_core: Starting new kernel", NULL, C_NONE, KK_REBOOT, KE_LINE, NULL},
	{"sysrq: Show Blocked State", NULL, C_NONE, KK_SYSRQ_W, KE_STACK, NULL},
	{"SysRq : Show Blocked State", NULL, C_NONE, KK_SYSRQ_W, KE_STACK, NULL},

	/* --- crash --- */
	{"kernel BUG at ", NULL, C_CRASH, KK_BUG_AT, KE_STACK, "kernel BUG"},
	{"Kernel BUG at ", NULL, C_CRASH, KK_BUG_AT, KE_STACK, "kernel BUG"},
	{"BUG: kernel NULL pointer dereference", NULL, C_CRASH, KK_PF_NULL, KE_STACK,
	 "BUG: unable to handle kernel NULL pointer dereference"},
	{"BUG: unable to handle kernel NULL pointer dereference", NULL, C_CRASH, KK_PF_NULL,
	 KE_STACK, "BUG: unable to handle kernel NULL pointer dereference"},
	{"Unable to handle kernel NULL pointer dereference", NULL, C_CRASH, KK_PF_NULL, KE_STACK,
	 "BUG: unable to handle kernel NULL pointer dereference"},
	{"BUG: unable to handle page fault", NULL, C_CRASH, KK_PF, KE_STACK,
	 "BUG: unable to handle kernel paging request"},
	{"BUG: unable to handle kernel paging request", NULL, C_CRASH, KK_PF, KE_STACK,
	 "BUG: unable to handle kernel paging request"},
	{"BUG: unable to handle kernel", NULL, C_CRASH, KK_PF, KE_STACK,
	 "BUG: unable to handle kernel paging request"},
	{"Unable to handle kernel paging request", NULL, C_CRASH, KK_PF, KE_STACK,
	 "BUG: unable to handle kernel paging request"},
	{"Unable to handle kernel ", NULL, C_CRASH, KK_PF, KE_STACK,
	 "BUG: unable to handle kernel paging request"},
	{"general protection fault", NULL, C_CRASH, KK_GPF, KE_STACK, "general protection fault"},
	{"Oops: general protection fault", NULL, C_CRASH, KK_GPF, KE_STACK,
	 "general protection fault"},
	{"invalid opcode: ", NULL, C_CRASH, KK_TRAP, KE_STACK, "invalid opcode"},
	{"Oops: invalid opcode", NULL, C_CRASH, KK_TRAP, KE_STACK, "invalid opcode"},
	{"divide error: ", NULL, C_CRASH, KK_TRAP, KE_STACK, "divide error"},
	{"Oops: divide error", NULL, C_CRASH, KK_TRAP, KE_STACK, "divide error"},
	{"double fault: ", NULL, C_CRASH, KK_TRAP, KE_STACK, "PANIC: double fault"},
	{"PANIC: double fault", NULL, C_CRASH, KK_TRAP, KE_STACK, "PANIC: double fault"},
	{"Oops: double fault", NULL, C_CRASH, KK_TRAP, KE_STACK, "PANIC: double fault"},
	{"BUG: stack guard page was hit", NULL, C_CRASH, KK_TRAP, KE_STACK,
	 "BUG: stack guard page was hit"},
	{"Oops: stack guard page", NULL, C_CRASH, KK_TRAP, KE_STACK,
	 "BUG: stack guard page was hit"},
	{"kernel tried to execute NX-protected page", NULL, C_CRASH, KK_PF, KE_STACK,
	 "BUG: unable to handle kernel paging request"},
	{"Oops: ", NULL, C_CRASH, KK_OOPS, KE_STACK, "Oops"},
	{"Kernel panic - not syncing", NULL, C_CRASH, KK_PANIC, KE_STACK, "kernel panic"},

	/* --- hang --- */
	{"INFO: task ", " blocked for more than ", C_HANG, KK_HUNG, KE_STACK, "INFO: task hung"},
	{"INFO: task ", " blocked in I/O wait for more than ", C_HANG, KK_HUNG, KE_STACK,
	 "INFO: task hung"},
	{"INFO: task ", " can't die for more than ", C_HANG, KK_CANT_DIE, KE_STACK,
	 "INFO: task can't die"},
	{"watchdog: BUG: soft lockup", NULL, C_HANG, KK_SOFTLOCKUP, KE_STACK, "BUG: soft lockup"},
	{"BUG: soft lockup", NULL, C_HANG, KK_SOFTLOCKUP, KE_STACK, "BUG: soft lockup"},
	{"watchdog: Watchdog detected hard LOCKUP", NULL, C_HANG, KK_HARDLOCKUP, KE_STACK,
	 "BUG: hard lockup"},
	{"NMI watchdog: Watchdog detected hard LOCKUP", NULL, C_HANG, KK_HARDLOCKUP, KE_STACK,
	 "BUG: hard lockup"},
	{"Watchdog detected hard LOCKUP", NULL, C_HANG, KK_HARDLOCKUP, KE_STACK,
	 "BUG: hard lockup"},
	{"rcu: INFO: rcu_", " stall", C_HANG, KK_RCU, KE_STACK, "INFO: rcu detected stall"},
	{"INFO: rcu_", " stall", C_HANG, KK_RCU, KE_STACK, "INFO: rcu detected stall"},
	{"rcu: INFO: ", " detected stall", C_HANG, KK_RCU, KE_STACK, "INFO: rcu detected stall"},
	{"INFO: ", " detected stall", C_HANG, KK_RCU, KE_STACK, "INFO: rcu detected stall"},
	{"rcu_tasks detected stalls", NULL, C_HANG, KK_RCU, KE_STACK, "INFO: rcu detected stall"},
	{"rcu: rcu_tasks", " detected stalls", C_HANG, KK_RCU, KE_STACK,
	 "INFO: rcu detected stall"},
	{"BUG: workqueue lockup", NULL, C_HANG, KK_WQ_LOCKUP, KE_LINE, "BUG: workqueue lockup"},

	/* --- lockdep & context bugs (before the generic WARNING:/BUG: rows) --- */
	{"WARNING: possible circular locking dependency detected", NULL, C_LOCK, KK_LOCKDEP,
	 KE_STACK, "possible deadlock"},
	{"INFO: possible circular locking dependency detected", NULL, C_LOCK, KK_LOCKDEP,
	 KE_STACK, "possible deadlock"},
	{"[ INFO: possible circular locking dependency detected ]", NULL, C_LOCK, KK_LOCKDEP,
	 KE_STACK, "possible deadlock"},
	{"WARNING: possible recursive locking detected", NULL, C_LOCK, KK_LOCKDEP, KE_STACK,
	 "possible deadlock"},
	{"INFO: possible recursive locking detected", NULL, C_LOCK, KK_LOCKDEP, KE_STACK,
	 "possible deadlock"},
	{"[ INFO: possible recursive locking detected ]", NULL, C_LOCK, KK_LOCKDEP, KE_STACK,
	 "possible deadlock"},
	{"WARNING: inconsistent lock state", NULL, C_LOCK, KK_LOCKDEP, KE_STACK,
	 "inconsistent lock state"},
	{"INFO: inconsistent lock state", NULL, C_LOCK, KK_LOCKDEP, KE_STACK,
	 "inconsistent lock state"},
	{"[ INFO: inconsistent lock state ]", NULL, C_LOCK, KK_LOCKDEP, KE_STACK,
	 "inconsistent lock state"},
	{"WARNING: possible irq lock inversion dependency detected", NULL, C_LOCK, KK_LOCKDEP,
	 KE_STACK, "possible deadlock"},
	{"INFO: possible irq lock inversion dependency detected", NULL, C_LOCK, KK_LOCKDEP,
	 KE_STACK, "possible deadlock"},
	{"WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected", NULL, C_LOCK, KK_LOCKDEP,
	 KE_STACK, "possible deadlock"},
	{"WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected", NULL, C_LOCK, KK_LOCKDEP,
	 KE_STACK, "possible deadlock"},
	{"WARNING: suspicious RCU usage", NULL, C_LOCK, KK_RCU_USAGE, KE_STACK,
	 "suspicious RCU usage"},
	{"INFO: suspicious RCU usage", NULL, C_LOCK, KK_RCU_USAGE, KE_STACK,
	 "suspicious RCU usage"},
	{"[ INFO: suspicious RCU usage. ]", NULL, C_LOCK, KK_RCU_USAGE, KE_STACK,
	 "suspicious RCU usage"},
	{"WARNING: bad unlock balance detected", NULL, C_LOCK, KK_LOCKDEP, KE_STACK,
	 "WARNING: bad unlock balance"},
	{"[ BUG: bad unlock balance detected! ]", NULL, C_LOCK, KK_LOCKDEP, KE_STACK,
	 "WARNING: bad unlock balance"},
	{"WARNING: held lock freed", NULL, C_LOCK, KK_LOCKDEP, KE_STACK, "BUG: held lock freed"},
	{"BUG: held lock freed", NULL, C_LOCK, KK_LOCKDEP, KE_STACK, "BUG: held lock freed"},
	{"[ BUG: held lock freed! ]", NULL, C_LOCK, KK_LOCKDEP, KE_STACK, "BUG: held lock freed"},
	{"WARNING: lock held when returning to user space", NULL, C_LOCK, KK_LOCKDEP, KE_STACK,
	 "WARNING: lock held when returning to user space"},
	{"INFO: trying to register non-static key", NULL, C_LOCK, KK_LOCKDEP_NOBT, KE_STACK,
	 "INFO: trying to register non-static key"},
	{"BUG: sleeping function called from invalid context", NULL, C_LOCK, KK_LOCKDEP_NOBT,
	 KE_STACK, "BUG: sleeping function called from invalid context"},
	{"BUG: scheduling while atomic", NULL, C_LOCK, KK_LOCKDEP_NOBT, KE_STACK,
	 "BUG: scheduling while atomic"},
	{"BUG: using smp_processor_id() in preemptible", NULL, C_LOCK, KK_LOCKDEP_NOBT, KE_STACK,
	 "BUG: using smp_processor_id() in preemptible code"},
	{"BUG: spinlock ", NULL, C_LOCK, KK_LOCKDEP_NOBT, KE_STACK, NULL},
	{"BUG: rwlock ", NULL, C_LOCK, KK_LOCKDEP_NOBT, KE_STACK, NULL},

	/* --- memory safety --- */
	{"BUG: KASAN: ", NULL, C_MEM, KK_SANITIZER, KE_SEPARATOR, "KASAN"},
	{"BUG: KFENCE: ", NULL, C_MEM, KK_SANITIZER, KE_SEPARATOR, "KFENCE"},
	{"BUG: KMSAN: ", NULL, C_MEM, KK_SANITIZER, KE_SEPARATOR, "KMSAN"},
	{"BUG: KCSAN: ", NULL, C_MEM, KK_SANITIZER, KE_SEPARATOR, "KCSAN"},
	{"UBSAN: ", NULL, C_MEM, KK_UBSAN, KE_SEPARATOR, "UBSAN"},
	{"BUG: Bad page state", NULL, C_MEM, KK_BUG_OTHER, KE_STACK, "BUG: Bad page state"},
	{"BUG: Bad page map", NULL, C_MEM, KK_BUG_OTHER, KE_STACK, "BUG: Bad page map"},
	{"BUG: Bad rss-counter state", NULL, C_MEM, KK_BUG_OTHER, KE_LINE,
	 "BUG: Bad rss-counter state"},

	/* --- warning --- */
	{"WARNING: CPU: ", NULL, C_WARN, KK_WARNING, KE_STACK, "WARNING"},
	{"WARNING: at ", NULL, C_WARN, KK_WARNING_OLD, KE_STACK, "WARNING"},
	{"refcount_t: ", NULL, C_WARN, KK_REFCOUNT, KE_STACK, "refcount bug"},
	{"VFS: Busy inodes after unmount", NULL, C_WARN, KK_BUG_OTHER, KE_LINE,
	 "VFS: Busy inodes after unmount"},
	{"BUG: Dentry ", NULL, C_WARN, KK_BUG_OTHER, KE_STACK, "BUG: Dentry still in use"},

	/* --- the generic BUG: row after every specific one --- */
	{"BUG: ", NULL, C_CRASH, KK_BUG_OTHER, KE_STACK, NULL},

	/* --- oom --- */
	{"oom-kill:constraint=", NULL, C_OOM, KK_OOM_CONSTRAINT, KE_OOM, NULL},
	{"Memory cgroup out of memory: Kill", NULL, C_OOM, KK_OOM_KILLED, KE_LINE, NULL},
	{"Out of memory: Kill", NULL, C_OOM, KK_OOM_KILLED, KE_LINE, NULL},
	{"Out of memory (oom_kill_allocating_task): Kill", NULL, C_OOM, KK_OOM_KILLED, KE_LINE,
	 NULL},
	{"Out of memory and no killable processes", NULL, C_CRASH, KK_PANIC, KE_STACK,
	 "kernel panic"},

	/* --- fs-error --- */
	{"EXT4-fs error (device ", NULL, C_FS, KK_FS_EXT4_ERROR, KE_LINE, "EXT4-fs error"},
	{"EXT4-fs (", "Remounting filesystem read-only", C_FS, KK_FS_LINE, KE_LINE,
	 "EXT4-fs: remounting filesystem read-only"},
	{"EXT4-fs (", "Detected aborted journal", C_FS, KK_FS_LINE, KE_LINE,
	 "EXT4-fs: detected aborted journal"},
	{"EXT4-fs (", "I/O error while writing superblock", C_FS, KK_FS_LINE, KE_LINE,
	 "EXT4-fs: I/O error while writing superblock"},
	{"Aborting journal on device ", NULL, C_FS, KK_FS_LINE, KE_LINE,
	 "JBD2: aborting journal"},
	{"JBD2: ", "rror", C_FS, KK_FS_LINE, KE_LINE, "JBD2: error"},
	{"JBD2: ", "fail", C_FS, KK_FS_LINE, KE_LINE, "JBD2: error"},
	{"JBD2: ", "corrupt", C_FS, KK_FS_LINE, KE_LINE, "JBD2: error"},
	{"JBD2: ", "Invalid", C_FS, KK_FS_LINE, KE_LINE, "JBD2: error"},
	{"Page cache invalidation failure on direct I/O", NULL, C_FS, KK_PAGECACHE_INVAL,
	 KE_LINE2, "Page cache invalidation failure on direct I/O"},
	{"NFS: Invalid unlock attempted", NULL, C_FS, KK_FS_LINE, KE_LINE,
	 "NFS: Invalid unlock attempted"},
	{"nfs: server ", " not responding", C_FS, KK_FS_LINE, KE_LINE,
	 "nfs: server not responding"},
	{"XFS (", "Corruption", C_FS, KK_FS_LINE, KE_LINE, "XFS: corruption detected"},
	{"BTRFS error (device ", NULL, C_FS, KK_FS_LINE, KE_LINE, "BTRFS error"},
	{"Buffer I/O error on dev", NULL, C_FS, KK_FS_LINE, KE_LINE, "Buffer I/O error"},
};
const size_t kd_n_rules = sizeof(kd_rules) / sizeof(kd_rules[0]);

/* "<comm> invoked oom-killer:" and "<comm>: page allocation failure:" */
const struct kd_rule kd_comm_rules[] = {
	{"invoked oom-killer: ", NULL, C_OOM, KK_OOM_INVOKED, KE_OOM, NULL},
	{"page allocation failure: ", NULL, C_NONE, KK_NOISE, KE_STACK, NULL},
};
const size_t kd_n_comm_rules = sizeof(kd_comm_rules) / sizeof(kd_comm_rules[0]);

/* Frames that never name the culprit: scheduler, locking primitives, waiting,
 * workqueue/kthread plumbing, syscall and interrupt entry, generic VFS/mm
 * wrappers, and the reporting machinery itself ('*' = prefix). */
static const char *const generic_frames[] = {
	/* scheduler and waiting */
	"schedule", "__schedule", "schedule_timeout*", "schedule_preempt_disabled",
	"schedule_hrtimeout*", "io_schedule*", "preempt_schedule*", "_cond_resched",
	"__cond_resched*", "bit_wait*", "__wait_on_bit*", "out_of_line_wait_on_bit*",
	"wait_on_bit*", "wait_for_completion*", "__wait_for_common", "do_wait_for_common",
	"wait_woken", "prepare_to_wait*", "finish_wait", "msleep*", "usleep_range*", "ssleep",
	"__might_sleep", "___might_sleep", "__might_resched", "__might_fault", "might_fault",
	"__schedule_bug", "schedule_debug*", "yield", "do_nanosleep", "hrtimer_nanosleep",
	"cpu_relax", "__wait_rcu_gp", "synchronize_rcu*", "wait_rcu_gp",
	/* locking primitives */
	"mutex_lock*", "__mutex_lock*", "mutex_unlock*", "__mutex_unlock*", "down", "down_*",
	"__down*", "up", "up_*", "rwsem_down_*", "rwsem_*", "__rwsem_*", "_raw_spin_*",
	"__raw_spin_*", "_raw_read_*", "_raw_write_*", "do_raw_spin_*", "queued_spin_lock_slowpath",
	"native_queued_spin_lock_slowpath", "queued_read_lock_slowpath",
	"queued_write_lock_slowpath", "__pv_queued_spin_lock_slowpath", "lock_acquire*",
	"lock_release", "__lock_acquire", "percpu_rwsem_wait", "__percpu_down_read",
	"percpu_down_*", "percpu_up_*", "rt_mutex*", "__rt_mutex*", "rt_spin_lock*", "spin_lock*",
	"__lock_page*", "lock_page*", "__folio_lock*", "folio_lock*", "folio_wait_bit*",
	"wait_on_page_bit*", "__wait_on_buffer", "__lock_buffer", "lock_buffer",
	"__sb_start_write", "sb_start_write", "__sb_end_write", "folio_wait_writeback",
	"__folio_wait_writeback*", "wait_on_page_writeback", "__wait_on_freeing_inode",
	/* workqueue / kthread / boot */
	"process_one_work", "worker_thread", "rescuer_thread", "kthread", "ret_from_fork*",
	"kthread_worker_fn", "smpboot_thread_fn", "child_rip", "kernel_thread_helper",
	"start_secondary", "secondary_startup_64*", "cpu_startup_entry", "do_idle", "rest_init",
	"start_kernel", "x86_64_start_*", "cpuidle_enter*", "default_idle*", "arch_cpu_idle",
	"native_safe_halt", "acpi_idle_*",
	/* syscall and exception entry */
	"do_syscall_64", "do_syscall_x64", "do_syscall_32_irqs_on", "do_fast_syscall_32",
	"do_int80_syscall_32", "entry_SYSCALL*", "entry_SYSENTER*", "entry_INT80*",
	"system_call*", "sysenter_*", "syscall_exit_to_user_mode*", "exit_to_user_mode*",
	"__x64_sys_*", "__ia32_sys_*", "__se_sys_*", "__do_sys_*", "__arm64_sys_*", "ksys_*",
	"sys_*", "SyS_*", "compat_sys_*", "el0_*", "el1_*", "invoke_syscall", "do_el0_svc", "asm_*", "ret_from_intr",
	"irq_exit*", "__irq_exit_rcu", "handle_irq*", "do_IRQ", "common_interrupt",
	"__do_softirq", "do_softirq*", "__sysvec_*", "sysvec_*", "smp_apic_timer_interrupt",
	"apic_timer_interrupt", "call_timer_fn", "run_timer_softirq", "expire_timers",
	"__run_timers", "hrtimer_interrupt", "__hrtimer_run_queues", "hrtimer_run_queues",
	"tick_sched_timer", "tick_sched_handle", "update_process_times", "tick_handle_periodic",
	"watchdog_timer_fn", "rcu_sched_clock_irq", "rcu_pending", "print_cpu_stall*",
	"rcu_dump_cpu_stacks", "check_cpu_stall", "rcu_check_callbacks", "rcu_core*",
	"rcu_do_batch", "nmi_cpu_backtrace*", "nmi_trigger_cpumask_backtrace",
	"arch_trigger_cpumask_backtrace", "default_do_nmi", "exc_nmi", "end_repeat_nmi",
	"do_nmi", "nmi_handle", "irq_work_*", "flush_smp_call_function_*",
	"generic_smp_call_function_*", "do_one_initcall", "do_init_module", "load_module",
	"init_module", "finit_module", "idempotent_init_module",
	/* generic VFS wrappers */
	"vfs_read", "vfs_write", "vfs_writev", "vfs_readv", "vfs_fsync*", "do_fsync", "vfs_create",
	"vfs_open", "vfs_iter_*", "do_open", "do_dentry_open", "do_filp_open", "path_openat",
	"do_last", "do_sys_open*", "do_sys_openat2", "new_sync_write", "new_sync_read",
	"__vfs_write", "__vfs_read", "do_iter_*", "do_readv_writev", "do_writepages",
	"filemap_*", "__filemap_*", "file_write_and_wait_range", "generic_perform_write",
	"__generic_file_write_iter", "generic_file_write_iter", "generic_write_sync",
	"generic_file_read_iter", "generic_file_aio_write", "__generic_file_aio_write",
	"do_sync_write", "do_sync_read", "write_cache_pages", "writeback_sb_inodes",
	"__writeback_single_inode", "writeback_single_inode", "__writeback_inodes_wb",
	"wb_writeback", "wb_workfn", "wb_do_writeback", "bdi_writeback_workfn", "filp_close",
	"filp_flush", "__fput", "____fput", "fput", "task_work_run", "do_exit", "do_group_exit",
	"get_signal", "arch_do_signal*", "do_signal", "file_update_time", "update_time",
	"generic_update_time", "__mark_inode_dirty", "inode_update_time", "touch_atime",
	"notify_change", "do_truncate", "do_unlinkat", "vfs_unlink", "do_renameat2", "vfs_rename",
	"iterate_dir", "lookup_*", "__lookup_*", "walk_component", "link_path_walk",
	"path_lookupat", "filename_lookup", "do_mkdirat", "vfs_mkdir", "open_last_lookups",
	"mount_bdev", "legacy_get_tree", "vfs_get_tree", "path_mount", "do_mount",
	"generic_shutdown_super", "kill_block_super", "deactivate_*", "cleanup_mnt",
	"iterate_supers", "sync_filesystem", "ksys_sync", "__iterate_supers",
	"blkdev_*", "submit_bio*", "__submit_bio*", "generic_make_request*", "blk_mq_*",
	"bio_endio", "blk_update_request", "blk_finish_request",
	/* generic mm wrappers */
	"handle_mm_fault", "__handle_mm_fault", "handle_pte_fault", "do_anonymous_page",
	"do_fault", "do_read_fault", "do_cow_fault", "do_shared_fault", "__do_fault",
	"do_user_addr_fault", "exc_page_fault", "page_fault", "do_page_fault", "__do_page_fault",
	"alloc_pages*", "__alloc_pages*", "folio_alloc*", "__folio_alloc*", "alloc_page*",
	"__get_free_pages", "get_page_from_freelist", "kmalloc*", "__kmalloc*", "kmem_cache_*",
	"slab_alloc*", "__slab_alloc*", "___slab_alloc", "kfree*", "kvmalloc*", "kvfree",
	"vmalloc*", "__vmalloc*", "kzalloc", "krealloc", "copy_from_user*", "_copy_from_user",
	"copy_to_user*", "_copy_to_user", "copy_user_*", "raw_copy_*", "__copy_*",
	"memcpy*", "__memcpy*", "memset*", "__memset*", "memmove*", "strcpy", "strncpy",
	"strscpy*", "strlen", "strnlen", "strcmp", "strncmp", "memcmp",
	"oom_kill_process", "out_of_memory", "mem_cgroup_out_of_memory", "mem_cgroup_oom*",
	"try_charge*", "charge_memcg", "__mem_cgroup_charge", "mem_cgroup_charge*",
	"pagefault_out_of_memory", "mm_fault_error", "__alloc_pages_may_oom", "__alloc_pages_slowpath*",
	"try_to_free_pages", "do_try_to_free_pages", "shrink_*", "free_more_memory",
	"page_cache_ra_*", "ondemand_readahead", "read_pages", "generic_fillattr",
	/* the reporting machinery */
	"dump_stack*", "show_stack*", "show_trace_log_lvl", "show_regs", "__show_regs",
	"sched_show_task", "show_state_filter", "__warn", "warn_slowpath*", "__warn_printk",
	"report_bug", "handle_bug", "exc_invalid_op", "do_error_trap", "do_trap", "do_invalid_op",
	"invalid_op", "die", "__die*", "oops_*", "panic", "nmi_panic", "vpanic", "printk*",
	"vprintk*", "_printk*", "dump_header", "dump_tasks", "check_hung_task",
	"check_hung_uninterruptible_tasks", "watchdog", "hung_task_*", "check_preemption_disabled",
	"debug_smp_processor_id", "lockdep_*", "__lockdep_*", "print_circular_bug*",
	"print_usage_bug*", "print_bad_irq_dependency", "print_irq_inversion_bug*", "check_usage*", "print_lock*", "check_noncircular", "check_prev_add",
	"check_prevs_add", "validate_chain", "mark_lock*", "mark_usage", "check_deadlock",
	"print_deadlock_bug", "valid_state", "lock_is_held*", "debug_check_no_locks_freed",
	"kasan_*", "__kasan_*", "__asan_*", "asan_*", "check_memory_region*", "kasan_report*",
	"print_report", "print_address_description*", "kfence_*", "__kfence_*", "kmsan_*",
	"__msan_*", "kcsan_*", "__tsan_*", "ubsan_*", "__ubsan_*", "refcount_warn_saturate",
	"refcount_*", "__refcount_*", "bad_page", "free_pages_check*", "__list_add_valid*",
	"__list_del_entry_valid*", "list_*", "__list_*", "rcu_lockdep_current_cpu_online",
	"__might_sleep_*", "debug_object*", "__debug_object*", "stack_trace_save*",
	"arch_stack_walk", "unwind_*", "__unwind_*", "sysrq_handle_show*",
	"__handle_sysrq*", "write_sysrq_trigger", "proc_reg_write", "handle_sysrq",
	"ret_from_fork_asm", "0x*",
};

static bool match_list(const char *const *l, size_t n, const char *fn)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = l[i];
		size_t pl = strlen(p);
		if (pl && p[pl - 1] == '*') {
			if (!strncmp(fn, p, pl - 1))
				return true;
		} else if (!strcmp(fn, p))
			return true;
	}
	return false;
}

bool kd_frame_is_generic(const char *fn)
{
	return match_list(generic_frames, sizeof(generic_frames) / sizeof(generic_frames[0]),
			  fn);
}

/* For grouping blocked tasks we also skip waiting helpers that are
 * filesystem-agnostic but not in the generic list above. */
static const char *const wait_frames[] = {
	"jbd2_journal_get_write_access_*", "wait_on_page_writeback", "folio_wait_writeback",
	"__folio_wait_writeback*", "wait_on_buffer", "__wait_on_freeing_inode",
	"inode_dio_wait", "__inode_dio_wait",
};

bool kd_frame_is_wait_primitive(const char *fn)
{
	return kd_frame_is_generic(fn) ||
	       match_list(wait_frames, sizeof(wait_frames) / sizeof(wait_frames[0]), fn);
}

/* Lines that belong to a report after its stack has started: markers,
 * register dumps, module lists, panic trailers. */
static const char *const body_prefixes[] = {
	"<IRQ>",      "</IRQ>",	     "<NMI>",	     "</NMI>",	  "<TASK>",  "</TASK>",
	"<EOI>",      "<SOFTIRQ>",   "</SOFTIRQ>",   "Call Trace", "Call trace:", "Modules linked in",
	"---[ end",   "Code: ",	     "Kernel Offset", "Kernel panic - not syncing", "Stack:",
	"Hardware name:", "CPU: ",   "Pid: ",	     "Process ",  "Workqueue:", "Preemption disabled",
	"irq event stamp", "hardirqs last", "softirqs last", "Tainted:", "Not tainted",
	"task:",      "Exception stack", "Showing all locks", "Sending NMI", "Lost ",
	"Disabling lock debugging", "Dumping ftrace", "(ftrace buffer empty)", "? ", "[<",
	"Kernel BUG at", "Oops", "invalid opcode", "pc : ", "lr : ", "sp : ", "Internal error",
	"Mem abort info", "Data abort info", "ESR = ", "FAR = ", "  EC = ", "DFSC = ",
	"pstate:",    "{",	     "}",	     "Rebooting in", "NMI backtrace for cpu",
	"Uhhuh.",     "Dazed and confused", "Do you have a strange", "PGD ", "#PF:",
	"CR2: ",      "RIP: ",	     "EIP: ",	     "EIP is at", "RIP [<",   "BUG: unable to handle",
	"Unable to handle kernel", "IP: ", "*pde = ", "*pdpt = ", "Thread overran stack",
	"kernel stack overflow", "Kernel stack is corrupted", "Code: Unable to access",
	"RIP [", "RSP <", "ESP <", "PKRU: ", "task: ", "last sysfs file", "DR0: ", "DR3: ", "DR6: ",
};

bool kd_line_is_body(const char *t, size_t n)
{
	while (n && (*t == ' ' || *t == '\t')) {
		t++;
		n--;
	}
	if (!n)
		return false;
	for (size_t i = 0; i < sizeof(body_prefixes) / sizeof(body_prefixes[0]); i++) {
		size_t pl = strlen(body_prefixes[i]);
		if (pl <= n && !memcmp(t, body_prefixes[i], pl))
			return true;
	}
	/* register dumps: "RAX: ...", "R10: ...", "FS:  ...", "x29: ..." */
	size_t i = 0;
	while (i < n && i < 5 && ((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
				  (t[i] >= 'a' && t[i] <= 'z' && i > 0) || t[i] == '_'))
		i++;
	if (i >= 2 && i < n && t[i] == ':' && (i + 1 >= n || t[i + 1] == ' ') &&
	    ((t[0] >= 'A' && t[0] <= 'Z') || t[0] == 'x'))
		return true;
	/* raw stack words: "ffff8800 00000000 ..." */
	bool hex = true;
	size_t nhex = 0;
	for (size_t k = 0; k < n; k++) {
		char c = t[k];
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
			nhex++;
		else if (c != ' ' && c != '<' && c != '>') {
			hex = false;
			break;
		}
	}
	return hex && nhex >= 8;
}

/* Hung-task dependency knowledge: who waits for whom. */
const struct kd_wait_rule kd_wait_rules[] = {
	{"jbd2_log_wait_commit", "jbd2_journal_commit_transaction",
	 "fsync callers waiting for the journal commit"},
	{"jbd2_complete_transaction", "jbd2_journal_commit_transaction",
	 "fsync callers waiting for the journal commit"},
	{"wait_transaction_locked", "jbd2_journal_commit_transaction",
	 "handle creators (start_this_handle) waiting for the locked transaction"},
	{"wait_transaction_switching", "jbd2_journal_commit_transaction",
	 "handle creators (start_this_handle) waiting for the transaction switch"},
	{"add_transaction_credits", "jbd2_journal_commit_transaction",
	 "handle creators (start_this_handle) waiting for journal space"},
	{"start_this_handle", "jbd2_journal_commit_transaction",
	 "handle creators waiting in start_this_handle"},
	{"jbd2__journal_start", "jbd2_journal_commit_transaction",
	 "handle creators waiting in start_this_handle"},
	{"do_get_write_access", "jbd2_journal_commit_transaction",
	 "writers waiting for a buffer under journal commit"},
	{"jbd2_journal_get_write_access", "jbd2_journal_commit_transaction",
	 "writers waiting for a buffer under journal commit"},
	{"jbd2_journal_lock_updates", "jbd2_journal_commit_transaction",
	 "waiting to lock journal updates"},
	{"jbd2_log_wait_for_space", "jbd2_journal_commit_transaction",
	 "waiting for journal space (checkpoint)"},
	{"__jbd2_log_wait_for_space", "jbd2_journal_commit_transaction",
	 "waiting for journal space (checkpoint)"},
	{"ext4_sync_file", "jbd2_journal_commit_transaction", "fsync callers"},
	{"nfs_wait_bit_killable", "nfs server", "NFS callers waiting for the server"},
	{"rpc_wait_bit_killable", "nfs server", "RPC callers waiting for the server"},
	{"nfs_page_group_lock", "nfs server", "NFS writeback waiters"},
};
const size_t kd_n_wait_rules = sizeof(kd_wait_rules) / sizeof(kd_wait_rules[0]);

const struct kd_root_rule kd_root_rules[] = {
	{"jbd2_journal_commit_transaction", "the jbd2 commit thread",
	 "the commit waits for running handles to stop (t_updates) or for journal I/O: look for a "
	 "task holding a journal handle that is not blocked (e.g. looping in memory allocation) or "
	 "for I/O that never completes"},
	{"kjournald2", "the jbd2 commit thread", "the journal thread is stuck"},
	{"percpu_rwsem_wait", "a frozen filesystem",
	 "writers wait in sb_start_write: the filesystem is frozen (fsfreeze / dm suspend)"},
	{"__percpu_down_read", "a frozen filesystem",
	 "writers wait in sb_start_write: the filesystem is frozen (fsfreeze / dm suspend)"},
	{"blk_mq_get_tag", "the block layer", "requests wait for a free tag: the device stopped "
					       "completing I/O"},
	{"rpc_wait_bit_killable", "the NFS server", "RPCs are not answered"},
};
const size_t kd_n_root_rules = sizeof(kd_root_rules) / sizeof(kd_root_rules[0]);
