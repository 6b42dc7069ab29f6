/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal DWARF 4/5 walker over a 64-bit little-endian ELF file, for one job: fix, in a
 * copy of a debug vmlinux, the size that `crash` reads for a structure ending in a
 * flexible array.
 *
 * Since Linux 6.1 `struct pid` ends in `struct upid numbers[]` (a flexible array; before
 * it was numbers[1]), so sizeof(struct pid) no longer covers numbers[0].  crash 8.0.2
 * (Debian 12) reads SIZE(pid) bytes of each PID it finds in init_pid_ns.idr and then takes
 * numbers[0].ns from past the end of that buffer: no PID matches init_pid_ns and its task
 * table holds only the tasks running on a CPU ("TASKS: 3", "active task ... not found in
 * PID hash", `ps` and `foreach bt` blind).  Growing the DWARF byte size of struct pid by
 * one element makes crash read numbers[0] with the rest.
 */
#ifndef KDRILL_DWARF_H
#define KDRILL_DWARF_H

/* In the ELF file PATH (modified in place), for every complete structure named SNAME whose
 * member MEMBER starts at the structure's byte size (a flexible array at the end), add
 * the size of one element of MEMBER's array type to the structure's DW_AT_byte_size.
 * *ret_patched gets the number of definitions changed (0: none needed it, e.g. already
 * patched or a kernel before 6.1).  Errors: -EINVAL/-EBADMSG for a file that is not a
 * 64-bit little-endian ELF with .debug_info / malformed DWARF, with a message in *err. */
int kd_dwarf_grow_flex_struct(const char *path, const char *sname, const char *member,
			      unsigned *ret_patched, char **err);

#endif
