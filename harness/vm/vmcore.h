/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opening a kdrill vmcore with `crash`: the vmlinux it needs and the command line.
 *
 * kdrill's vmcore.kdump is QEMU's dump-guest-memory in kdump-compressed (zlib) format,
 * taken with the VM stopped; the guest kernel publishes VMCOREINFO through QEMU's
 * `-device vmcoreinfo` (KERNELOFFSET, phys_base), so crash needs no --kaslr option.  What
 * crash still needs is the kernel's debug vmlinux, and crash 8.0.2 (Debian 12) needs it
 * with one fix for Linux >= 6.1 (dwarf.h: struct pid ends in a flexible array): the
 * "crash vmlinux" is a copy without the .rela.debug_* sections (not used on a linked
 * executable: half the size) with struct pid's DWARF size grown by one struct upid.
 */
#ifndef KDRILL_VMCORE_H
#define KDRILL_VMCORE_H

#include "kernel.h"

/* The debug vmlinux of kernel K: its -dbg vmlinux (debian: refs fetched with
 * KD_KERNEL_DEBUGINFO), a `vmlinux` kept in its cache entry, a kernel tree's vmlinux
 * (tree: refs), or the `vmlinux` next to a path: bzImage.  It must have DWARF
 * (CONFIG_DEBUG_INFO) for crash.  NULL when unknown. */
char *kd_vmcore_debug_vmlinux(const struct kd_kernel *k);

/* Make (once, cached next to the kernel as vmlinux-crash; locked) the vmlinux to give
 * crash for kernel K, from kd_vmcore_debug_vmlinux().  *ret: its path.  -ENOENT with a
 * message in *err when K has no debug vmlinux. */
int kd_vmcore_crash_vmlinux(const struct kd_kernel *k, char **ret, char **err);

/* "crash --zero_excluded [--no_panic] VMLINUX VMCORE" quoted for a POSIX shell (single
 * quotes where needed).  --zero_excluded: QEMU leaves zero-filled pages out of the dump
 * (dump_level 1, which is why crash says [PARTIAL DUMP]); they read as zeros instead of
 * as errors.  --no_panic for a dump with no panic in it (a hang): crash does not search
 * for a panic task (a bt of every task on a CPU), its context starts at swapper/0. */
char *kd_vmcore_crash_cmdline(const char *vmlinux, const char *vmcore, bool panicked);

#endif
