/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest image, in three cached layers (all under $KDRILL_CACHE/images and kernels/<key>):
 *
 *   base-<sha(kvm/image-base.sh)>/root   debootstrap tree (70-110 s, once per recipe)
 *   root-<base>-<bins>.img               ext4 (mkfs.ext4 -d) of base + kdrill's binaries and
 *                                        units; <bins> hashes the files in bin, units
 *                                        kvm/image.sh (~3 s to rebuild)
 *   kernels/<key>/modules-<h>.img        the kernel's modules, mounted ro on /usr/lib/modules
 *   kernels/<key>/initrd-<h>.cpio        busybox + virtio/ext4 modules, mounts root + modules
 *
 * A kernel without modules boots with no initramfs and no modules disk.
 */
#ifndef KDRILL_IMAGE_H
#define KDRILL_IMAGE_H

#include <stdbool.h>

#include "kernel.h"

/* Directory of release binaries copied into the guest: $KDRILL_GUEST_BIN, $KDRILL_RELBIN,
 * else <datadir>/bin. */
const char *kd_guest_bindir(void);

/* The debootstrap'ed base tree; built when missing and build is true. */
int kd_image_base(bool build, char **ret_root, char **err);
/* The final root image for the current binaries (built when missing and build is true). */
int kd_image_root(bool build, char **ret_img, char **err);
/* Per-kernel initramfs and modules disk; *ret = NULL when the kernel has no modules. */
int kd_kernel_initrd(const struct kd_kernel *k, char **ret, char **err);
int kd_kernel_modules_img(const struct kd_kernel *k, char **ret, char **err);
/* The same initramfs, also for a kernel without modules (busybox boot baseline,
 * kernel command line kdrill.bench=1). */
int kd_kernel_bench_initrd(const struct kd_kernel *k, char **ret, char **err);

#endif
