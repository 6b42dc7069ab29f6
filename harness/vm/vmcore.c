/* SPDX-License-Identifier: GPL-2.0 */
/* The vmlinux and command line for opening a kdrill vmcore with crash (vmcore.h). */
#include "vmcore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dwarf.h"
#include "util.h"

char *kd_vmcore_debug_vmlinux(const struct kd_kernel *k)
{
	if (k->vmlinux && access(k->vmlinux, R_OK) == 0)
		return strdup(k->vmlinux);
	if (k->dir) { /* a cache entry that keeps its kernel's vmlinux */
		char *p = strdupf("%s/vmlinux", k->dir);
		if (p && access(p, R_OK) == 0)
			return p;
		free(p);
	}
	if (k->source && startswith(k->source, "tree ")) {
		char *p = strdupf("%s/vmlinux", k->source + strlen("tree "));
		if (p && access(p, R_OK) == 0)
			return p;
		free(p);
	}
	/* a bzImage with its vmlinux beside it (a kernel build published with both) */
	if (k->source && startswith(k->source, "path ")) {
		const char *bz = k->source + strlen("path "), *slash = strrchr(bz, '/');
		char *p = slash ? strdupf("%.*s/vmlinux", (int)(slash - bz), bz) : NULL;
		if (p && access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

static bool newer_or_same(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       (sa.st_mtim.tv_sec > sb.st_mtim.tv_sec ||
		(sa.st_mtim.tv_sec == sb.st_mtim.tv_sec &&
		 sa.st_mtim.tv_nsec >= sb.st_mtim.tv_nsec));
}

int kd_vmcore_crash_vmlinux(const struct kd_kernel *k, char **ret, char **err)
{
	_cleanup_free_ char *src = kd_vmcore_debug_vmlinux(k), *out = NULL, *tmp = NULL;
	_cleanup_free_ char *lockp = NULL;
	_cleanup_close_ int lock = -1;
	unsigned patched = 0;
	int r;

	if (!src) {
		SETERR(err,
		       "%s: no debug vmlinux known for this kernel (debian: kdrill kernel fetch "
		       "--debuginfo; tree: TREE/vmlinux; path: a vmlinux next to the bzImage)",
		       k->ref ? k->ref : "?");
		return -ENOENT;
	}
	out = strdupf("%s/vmlinux-crash", k->dir);
	tmp = strdupf("%s/.vmlinux-crash.tmp", k->dir);
	lockp = strdupf("%s/.vmlinux-crash.lock", k->dir);
	if (!out || !tmp || !lockp)
		return -ENOMEM;
	lock = kd_lock_file(lockp);
	if (lock < 0) {
		SETERR(err, "%s: %s", lockp, strerror(-lock));
		return lock;
	}
	if (newer_or_same(out, src)) {
		*ret = TAKE_PTR(out);
		return 0;
	}
	(void)unlink(tmp);
	{
		char *av[] = {(char *)"objcopy", (char *)"--remove-section=.rela.debug_*", src, tmp,
			      NULL};
		r = run_argv(av, NULL, 0);
	}
	if (r != 0) {
		(void)unlink(tmp);
		SETERR(err, "objcopy %s: %s", src, r < 0 ? strerror(-r) : "failed");
		return r < 0 ? r : -EIO;
	}
	r = kd_dwarf_grow_flex_struct(tmp, "pid", "numbers", &patched, err);
	if (r == -EINVAL)
		SETERR(err,
		       "%s: no usable debug info (crash needs a vmlinux built with "
		       "CONFIG_DEBUG_INFO, uncompressed DWARF)",
		       src);
	if (r < 0 || rename(tmp, out) < 0) {
		r = r < 0 ? r : -errno;
		(void)unlink(tmp);
		if (r != -EBADMSG && r != -EINVAL && r != -ERANGE)
			SETERR(err, "%s: %s", out, strerror(-r));
		return r;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%",
			*s))
			return false;
	return true;
}

static char *shell_quote(const char *s)
{
	size_t n = 3;
	char *q, *p;

	if (shell_safe(s))
		return strdup(s);
	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	q = p = malloc(n);
	if (!q)
		return NULL;
	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else
			*p++ = *s;
	}
	*p++ = '\'';
	*p = 0;
	return q;
}

char *kd_vmcore_crash_cmdline(const char *vmlinux, const char *vmcore, bool panicked)
{
	_cleanup_free_ char *a = shell_quote(vmlinux), *b = shell_quote(vmcore);

	if (!a || !b)
		return NULL;
	return strdupf("crash --zero_excluded%s %s %s", panicked ? "" : " --no_panic", a, b);
}
