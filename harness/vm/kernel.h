/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernels under test: refs -> a bootable bzImage (+ modules, + config) in the cache.
 *
 *   debian:6.1.0-54-cloud-amd64          apt-get download linux-image-<name>, extracted
 *   path:/boot/vmlinuz-X[,modules=DIR]   a bzImage file; DIR = /lib/modules/X (copied, depmod'ed)
 *   tree:/src/linux                      arch/x86/boot/bzImage + modules_install into the cache
 *   build:stock, build:debug             the slim kernels kvm/make-kernels built ($cache/kbuild/refs)
 *   inject:NNN[-name][+debug]            the same with bug-injection patch kvm/inject/NNN-name.patch
 *
 * Cache: $KDRILL_CACHE/kernels/<key>/ with kernel.json; <key> is derived from content
 * (package version, or sha256 of the bzImage).  Errors come back as negative errno plus
 * an allocated message in *err (never printed here); -ENOPKG: a build:/inject: kernel
 * that `make kernels` has not built (a usage error for the commands).
 */
#ifndef KDRILL_KERNEL_H
#define KDRILL_KERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct kd_kernel {
	char *ref;     /* as given */
	char *key;     /* cache key */
	char *dir;     /* $cache/kernels/<key> */
	char *vmlinuz; /* absolute path of the bzImage */
	char *release; /* "6.1.0-54-cloud-amd64" (from the bzImage header) */
	char *modroot; /* dir with lib/modules/<release>, or NULL (no modules) */
	char *config;  /* kernel config file, or NULL */
	char *source;  /* "debian 6.1.190-1", "path /boot/vmlinuz-X", "tree /src/linux" */
	char *vmlinux; /* debug vmlinux (debian --debuginfo), or NULL */
};

enum {
	KD_KERNEL_FETCH = 1 << 0,     /* download/extract/install when not cached */
	KD_KERNEL_DEBUGINFO = 1 << 1, /* also fetch the -dbg vmlinux (debian refs) */
};

/* Check that PATH is an x86 bzImage (boot sector magic, "HdrS" setup header, 64-bit).
 * *ret_release gets the kernel release string (NULL if the header has none). */
int kd_bzimage_probe(const char *path, char **ret_release, char **err);

/* Syntax of a ref, nothing fetched or opened: -EINVAL with *err naming the problem (for
 * usage errors before anything runs).  kd_kernel_resolve() checks it too. */
int kd_kernel_ref_check(const char *ref, char **err);
int kd_kernel_resolve(const char *ref, unsigned flags, struct kd_kernel **ret, char **err);
void kd_kernel_free(struct kd_kernel *k);
static inline void kd_kernel_freep(struct kd_kernel **k)
{
	if (*k)
		kd_kernel_free(*k);
}

/* Print the kernel, then each option of kvm/kdrill.config: y / m / missing / unknown
 * with the cost of a missing one.  Returns the number of fatal ("!") options missing. */
int kd_kernel_show(const struct kd_kernel *k, FILE *f);

/* Value of CONFIG_x in the kernel's config ("y", "m", a string), NULL when not set or
 * unknown; *known tells whether any config evidence exists. */
char *kd_kernel_config_get(const struct kd_kernel *k, const char *opt, bool *known);

/* For every cached kernel: key, release, source. */
int kd_kernel_list(FILE *f);

/* Acquire an exclusive flock on PATH (created).  Returns the fd or negative errno. */
int kd_lock_file(const char *path);

/* sha256 hex of a file (via sha256sum); FNV-1a 64 of a buffer. */
int kd_sha256_file(const char *path, char **ret_hex);
uint64_t kd_fnv64(const void *buf, size_t len, uint64_t h);
#define KD_FNV64_INIT 0xcbf29ce484222325ULL

/* Run argv with cwd (may be NULL) and stdout+stderr appended to log (may be NULL);
 * returns the exit status or negative errno. */
int kd_run_logged(char *const argv[], const char *cwd, const char *log);

#endif
