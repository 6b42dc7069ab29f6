// SPDX-License-Identifier: GPL-2.0
/* Guest image layers and per-kernel boot material.  See image.h. */
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "image.h"
#include "util.h"

static void globfreep(glob_t *g)
{
	globfree(g);
}

const char *kd_guest_bindir(void)
{
	static char *cached;
	const char *e;

	if (cached)
		return cached;
	if ((e = getenv("KDRILL_GUEST_BIN")) && *e)
		return cached = strdup(e);
	if ((e = getenv("KDRILL_RELBIN")) && *e)
		return cached = strdup(e);
	return cached = strdupf("%s/bin", kd_datadir());
}

static char *script(const char *name)
{
	return strdupf("%s/kvm/%s", kd_datadir(), name);
}

/* short hex key over the sha256sums of a set of files (names included) */
static int files_key(char **files, char **ret)
{
	_cleanup_strv_ char **argv = NULL;
	_cleanup_free_ char *out = NULL;
	int r;

	if (strv_extend(&argv, "sha256sum") < 0 || strv_extend(&argv, "--") < 0)
		return -ENOMEM;
	STRV_FOREACH (f, files)
		if (strv_extend(&argv, *f) < 0)
			return -ENOMEM;
	r = run_argv(argv, &out, 0);
	if (r != 0)
		return r < 0 ? r : -EIO;
	*ret = strdupf("%016llx", (unsigned long long)kd_fnv64(out, strlen(out), KD_FNV64_INIT));
	return *ret ? 0 : -ENOMEM;
}

static int run_step(char *const argv[], const char *log, const char *what, char **err)
{
	int r = kd_run_logged(argv, NULL, log);

	if (r != 0) {
		_cleanup_free_ char *s = NULL;
		size_t len = 0;
		const char *t = "";
		if (log && read_full_file(log, &s, &len) == 0)
			t = s + (len > 1200 ? len - 1200 : 0);
		SETERR(err, "%s failed (%s); log %s:\n%s", what,
		       r < 0 ? strerror(-r) : "non-zero exit", log ? log : "-", t);
		return r < 0 ? r : -EIO;
	}
	return 0;
}

static int base_key(char **ret)
{
	_cleanup_free_ char *s = script("image-base.sh");
	_cleanup_free_ char *sha = NULL;
	int r;

	if (!s)
		return -ENOMEM;
	r = kd_sha256_file(s, &sha);
	if (r < 0)
		return r;
	*ret = strndup(sha, 16);
	return *ret ? 0 : -ENOMEM;
}

int kd_image_base(bool build, char **ret_root, char **err)
{
	_cleanup_free_ char *key = NULL, *dir = NULL, *root = NULL, *lockp = NULL, *s = NULL;
	_cleanup_free_ char *log = NULL, *images = strdupf("%s/images", kd_cachedir());
	_cleanup_close_ int lock = -1;
	int r;

	if (!images)
		return -ENOMEM;
	r = base_key(&key);
	if (r < 0) {
		SETERR(err, "cannot read kvm/image-base.sh under %s: %s", kd_datadir(),
		       strerror(-r));
		return r;
	}
	dir = strdupf("%s/base-%s", images, key);
	root = strdupf("%s/root", dir);
	lockp = strdupf("%s/.lock", images);
	s = script("image-base.sh");
	log = strdupf("%s/build.log", dir);
	if (!dir || !root || !lockp || !s || !log)
		return -ENOMEM;
	if (access(root, F_OK) == 0)
		goto done;
	if (!build) {
		SETERR(err, "no guest base image (kdrill image build)");
		return -ENOENT;
	}
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	lock = kd_lock_file(lockp);
	if (lock < 0)
		return lock;
	if (access(root, F_OK) == 0)
		goto done;
	fprintf(stderr, "kdrill: building the guest base image (debootstrap, ~2 min, once)\n");
	{
		char *argv[] = {s, dir, NULL};
		r = run_step(argv, log, "kvm/image-base.sh", err);
		if (r < 0)
			return r;
	}
done:
	*ret_root = TAKE_PTR(root);
	return 0;
}

static int bins_key(char **ret, char **err)
{
	_cleanup_strv_ char **files = NULL;
	_cleanup_(globfreep) glob_t g = {0};
	const char *pats[] = {"/*", "/units/*", "/units/*/*", "/kvm/image.sh",
			      "/harness/scenarios/*.ini"};
	int r;

	for (size_t i = 0; i < ELEMENTSOF(pats); i++) {
		_cleanup_free_ char *p =
		    strdupf("%s%s", i == 0 ? kd_guest_bindir() : kd_datadir(), pats[i]);
		if (!p)
			return -ENOMEM;
		glob(p, i ? GLOB_APPEND : 0, NULL, &g);
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct stat st;
		if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode))
			if (strv_extend(&files, g.gl_pathv[i]) < 0)
				return -ENOMEM;
	}
	{
		_cleanup_free_ char *k = strdupf("%s/kdrill", kd_guest_bindir());
		if (!k || access(k, X_OK) < 0) {
			SETERR(
			    err,
			    "no release build of kdrill in %s (make all, or set KDRILL_GUEST_BIN)",
			    kd_guest_bindir());
			return -ENOENT;
		}
	}
	r = files_key(files, ret);
	if (r < 0)
		SETERR(err, "hashing kdrill's binaries failed: %s", strerror(-r));
	return r;
}

/* drop images matching PATTERN (but KEEP) unused for an hour (qemu keeps open ones alive) */
static void prune(const char *pattern, const char *keep)
{
	_cleanup_(globfreep) glob_t g = {0};
	const char *p = pattern;

	if (!p || glob(p, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct stat st;
		/* another kdrill may be about to boot an older one: keep recent images */
		if (strcmp(g.gl_pathv[i], keep) && stat(g.gl_pathv[i], &st) == 0 &&
		    st.st_mtime + 3600 < time(NULL))
			unlink(g.gl_pathv[i]);
	}
}

int kd_image_root(bool build, char **ret_img, char **err)
{
	_cleanup_free_ char *base = NULL, *bkey = NULL, *key = NULL, *img = NULL, *lockp = NULL;
	_cleanup_free_ char *images = strdupf("%s/images", kd_cachedir()), *s = NULL;
	_cleanup_free_ char *units = NULL, *kvm = NULL, *log = NULL;
	_cleanup_close_ int lock = -1;
	int r;

	if (!images)
		return -ENOMEM;
	r = bins_key(&key, err);
	if (r < 0)
		return r;
	r = base_key(&bkey);
	if (r < 0)
		return r;
	img = strdupf("%s/root-%s-%s.img", images, bkey, key);
	if (!img)
		return -ENOMEM;
	if (access(img, F_OK) == 0) {
		utimensat(AT_FDCWD, img, NULL, 0); /* mtime = last use (see prune) */
		goto done;
	}
	r = kd_image_base(build, &base, err);
	if (r < 0)
		return r;
	if (!build) {
		SETERR(err, "no root image for the current binaries yet (%s; kdrill image build)",
		       img);
		return -ENOENT;
	}
	lockp = strdupf("%s/.lock", images);
	s = script("image.sh");
	units = strdupf("%s/units", kd_datadir());
	kvm = strdupf("%s/kvm", kd_datadir());
	log = strdupf("%s/root-build.log", images);
	if (!lockp || !s || !units || !kvm || !log)
		return -ENOMEM;
	lock = kd_lock_file(lockp);
	if (lock < 0)
		return lock;
	if (access(img, F_OK) == 0)
		goto done;
	unlink(log);
	{
		char *argv[] = {
		    s, (char *)"final", base, (char *)kd_guest_bindir(), units, kvm, img, NULL};
		r = run_step(argv, log, "building the guest root image", err);
		if (r < 0)
			return r;
	}
	{
		_cleanup_free_ char *pat = strdupf("%s/root-%s-*.img", images, bkey);
		if (pat)
			prune(pat, img);
	}
done:
	*ret_img = TAKE_PTR(img);
	return 0;
}

static int kernel_artifact(const struct kd_kernel *k, const char *step, const char *prefix,
			   const char *suffix, char **ret, char **err)
{
	_cleanup_free_ char *s = script("image.sh"), *init = script("initramfs-init");
	_cleanup_free_ char *key = NULL, *out = NULL, *lockp = NULL, *log = NULL, *kvm = NULL;
	_cleanup_close_ int lock = -1;
	char *files[3];
	int r;

	if (!s || !init)
		return -ENOMEM;
	files[0] = s;
	files[1] = init;
	files[2] = NULL;
	r = files_key(files, &key);
	if (r < 0) {
		SETERR(err, "cannot read kvm/image.sh under %s", kd_datadir());
		return r;
	}
	out = strdupf("%s/%s-%.8s%s", k->dir, prefix, key, suffix);
	lockp = strdupf("%s/.lock", k->dir);
	log = strdupf("%s/%s.log", k->dir, prefix);
	kvm = strdupf("%s/kvm", kd_datadir());
	if (!out || !lockp || !log || !kvm)
		return -ENOMEM;
	if (access(out, F_OK) == 0) {
		utimensat(AT_FDCWD, out, NULL, 0);
		goto done;
	}
	lock = kd_lock_file(lockp);
	if (lock < 0)
		return lock;
	if (access(out, F_OK) == 0)
		goto done;
	unlink(log);
	if (!strcmp(step, "modules")) {
		char *argv[] = {s, (char *)step, k->modroot, k->release, out, NULL};
		r = run_step(argv, log, "building the kernel modules disk", err);
	} else {
		char *argv[] = {s,	    (char *)step, k->modroot ? k->modroot : (char *)"-",
				k->release, kvm,	  out,
				NULL};
		r = run_step(argv, log, "building the initramfs", err);
	}
	if (r < 0)
		return r;
	{
		_cleanup_free_ char *pat = strdupf("%s/%s-*%s", k->dir, prefix, suffix);
		if (pat)
			prune(pat, out);
	}
done:
	*ret = TAKE_PTR(out);
	return 0;
}

int kd_kernel_initrd(const struct kd_kernel *k, char **ret, char **err)
{
	*ret = NULL;
	if (!k->modroot)
		return 0;
	return kernel_artifact(k, "initramfs", "initrd", ".cpio", ret, err);
}

int kd_kernel_bench_initrd(const struct kd_kernel *k, char **ret, char **err)
{
	*ret = NULL;
	return kernel_artifact(k, "initramfs", "initrd", ".cpio", ret, err);
}

int kd_kernel_modules_img(const struct kd_kernel *k, char **ret, char **err)
{
	*ret = NULL;
	if (!k->modroot)
		return 0;
	return kernel_artifact(k, "modules", "modules", ".img", ret, err);
}
