// SPDX-License-Identifier: GPL-2.0
/* Kernel refs, the kernel cache, bzImage validation and the config report.  See kernel.h. */
#include <dirent.h>
#include <fcntl.h>
#include <ctype.h>
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kernel.h"
#include "util.h"

uint64_t kd_fnv64(const void *buf, size_t len, uint64_t h)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int kd_lock_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	return fd;
}

int kd_run_logged(char *const argv[], const char *cwd, const char *log)
{
	struct spawn_opts o = {.cwd = cwd, .stdout_path = log, .stderr_path = log};
	int status;
	pid_t pid = spawn_argv(argv, &o);

	if (pid < 0)
		return pid;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return wait_status_to_exit(status);
}

int kd_sha256_file(const char *path, char **ret_hex)
{
	_cleanup_free_ char *out = NULL;
	char *argv[] = {(char *)"sha256sum", (char *)"--", (char *)path, NULL};
	int r = run_argv(argv, &out, 0);

	if (r < 0)
		return r;
	if (r != 0 || strlen(out) < 64)
		return -EIO;
	out[64] = 0;
	*ret_hex = strdup(out);
	return *ret_hex ? 0 : -ENOMEM;
}

/* ---- bzImage ------------------------------------------------------------------------ */

static unsigned le16(const unsigned char *p)
{
	return p[0] | (unsigned)p[1] << 8;
}

int kd_bzimage_probe(const char *path, char **ret_release, char **err)
{
	_cleanup_close_ int fd = -1;
	unsigned char hdr[0x8000];
	struct stat st;
	ssize_t n;
	unsigned version, kvoff;

	if (ret_release)
		*ret_release = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		SETERR(err, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		SETERR(err, "%s: not a regular file", path);
		return -EINVAL;
	}
	memset(hdr, 0, sizeof(hdr));
	n = pread(fd, hdr, sizeof(hdr), 0);
	if (n < 0)
		return -errno;
	if (n >= 4 && !memcmp(hdr, "\177ELF", 4)) {
		SETERR(
		    err,
		    "%s: an ELF file (vmlinux?), not a bootable bzImage: use arch/x86/boot/bzImage",
		    path);
		return -ENOEXEC;
	}
	if (n < 0x240) {
		SETERR(err, "%s: too small to be a kernel (%zd bytes)", path, n);
		return -ENOEXEC;
	}
	if (hdr[0x1fe] != 0x55 || hdr[0x1ff] != 0xaa) {
		SETERR(err, "%s: not an x86 kernel image (no boot sector signature 55 AA at 0x1fe)",
		       path);
		return -ENOEXEC;
	}
	if (memcmp(hdr + 0x202, "HdrS", 4)) {
		SETERR(err, "%s: not an x86 bzImage (no \"HdrS\" setup header at 0x202)", path);
		return -ENOEXEC;
	}
	version = le16(hdr + 0x206);
	if (version < 0x0200 || !(hdr[0x211] & 0x01)) {
		SETERR(err,
		       "%s: boot protocol %u.%02u without LOADED_HIGH: a zImage, not a bzImage",
		       path, version >> 8, version & 0xff);
		return -ENOEXEC;
	}
	if (version >= 0x020c && !(le16(hdr + 0x236) & 0x1)) {
		SETERR(err, "%s: a 32-bit x86 kernel (XLF_KERNEL_64 not set); kdrill boots x86_64",
		       path);
		return -ENOEXEC;
	}
	{
		/* setup sectors + protected-mode part (syssize, 16-byte units) must be there */
		unsigned setup = hdr[0x1f1] ? hdr[0x1f1] : 4;
		uint64_t syssize = (uint64_t)le16(hdr + 0x1f4) | (uint64_t)le16(hdr + 0x1f6) << 16;
		uint64_t need = (uint64_t)(setup + 1) * 512 + syssize * 16;
		if ((uint64_t)st.st_size < need) {
			SETERR(err,
			       "%s: truncated bzImage: the setup header says %llu bytes, the file "
			       "has %llu",
			       path, (unsigned long long)need, (unsigned long long)st.st_size);
			return -ENOEXEC;
		}
	}
	kvoff = le16(hdr + 0x20e);
	if (ret_release && kvoff && kvoff + 0x200 < (unsigned)n) {
		const char *s = (const char *)hdr + kvoff + 0x200;
		size_t max = (size_t)n - (kvoff + 0x200), l = 0;

		while (l < max && s[l] && s[l] != ' ')
			l++;
		if (l > 0 && l < max)
			*ret_release = strndup(s, l);
	}
	return 0;
}

/* ---- kernel.json -------------------------------------------------------------------- */

void kd_kernel_free(struct kd_kernel *k)
{
	if (!k)
		return;
	free(k->ref);
	free(k->key);
	free(k->dir);
	free(k->vmlinuz);
	free(k->release);
	free(k->modroot);
	free(k->config);
	free(k->source);
	free(k->vmlinux);
	free(k);
}

static char *rel_or_null(const char *dir, const char *path)
{
	size_t l = strlen(dir);

	if (!path)
		return NULL;
	if (!strcmp(path, dir))
		return strdup(".");
	if (!strncmp(path, dir, l) && path[l] == '/')
		return strdup(path + l + 1);
	return strdup(path);
}

static int kernel_save(const struct kd_kernel *k)
{
	json_object *o = json_object_new_object();
	_cleanup_free_ char *p = strdupf("%s/kernel.json", k->dir);
	const struct {
		const char *name, *val;
	} f[] = {{"ref", k->ref},	  {"key", k->key},	   {"release", k->release},
		 {"vmlinuz", k->vmlinuz}, {"modroot", k->modroot}, {"config", k->config},
		 {"source", k->source},	  {"vmlinux", k->vmlinux}};
	const char *s;
	int r;

	if (!o || !p)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(f); i++) {
		_cleanup_free_ char *v = rel_or_null(k->dir, f[i].val);
		if (v)
			json_object_object_add(o, f[i].name, json_object_new_string(v));
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	r = write_file_atomic(p, s, strlen(s), 0644);
	json_object_put(o);
	return r;
}

static char *abs_in(const char *dir, const char *v)
{
	if (!v)
		return NULL;
	if (!strcmp(v, "."))
		return strdup(dir);
	return v[0] == '/' ? strdup(v) : strdupf("%s/%s", dir, v);
}

static int kernel_load(const char *dir, struct kd_kernel **ret)
{
	_cleanup_free_ char *p = strdupf("%s/kernel.json", dir);
	json_object *o, *v;
	struct kd_kernel *k;

	if (!p)
		return -ENOMEM;
	if (access(p, F_OK) < 0)
		return -ENOENT;
	o = json_object_from_file(p);
	if (!o)
		return -EBADMSG;
	k = calloc(1, sizeof(*k));
	if (!k) {
		json_object_put(o);
		return -ENOMEM;
	}
	k->dir = strdup(dir);
#define GET(field, name, absolute)                                                                 \
	if (json_object_object_get_ex(o, name, &v))                                                \
		k->field = (absolute) ? abs_in(dir, json_object_get_string(v))                     \
				      : strdup(json_object_get_string(v));
	GET(ref, "ref", false)
	GET(key, "key", false)
	GET(release, "release", false)
	GET(vmlinuz, "vmlinuz", true)
	GET(modroot, "modroot", true)
	GET(config, "config", true)
	GET(source, "source", false)
	GET(vmlinux, "vmlinux", true)
#undef GET
	json_object_put(o);
	if (!k->key || !k->vmlinuz) {
		kd_kernel_free(k);
		return -EBADMSG;
	}
	*ret = k;
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------ */

static void closedirp_(DIR **d)
{
	if (*d)
		closedir(*d);
}

static char *kernels_dir(void)
{
	return strdupf("%s/kernels", kd_cachedir());
}

static int copy_file(const char *from, const char *to)
{
	char *argv[] = {(char *)"cp", (char *)"-a", (char *)"--", (char *)from, (char *)to, NULL};
	int r = run_argv(argv, NULL, 0);
	return r < 0 ? r : r ? -EIO : 0;
}

/* Move a finished staging dir into place as kernels/<key>; fine if it already exists. */
static int publish(const char *tmp, const char *final)
{
	if (rename(tmp, final) == 0)
		return 0;
	if (errno == ENOTEMPTY || errno == EEXIST) {
		rm_rf(tmp);
		return 0;
	}
	return -errno;
}

/* Save k (consumed) in its temporary dir x, move x to final and load it from there.
 * Paths are saved relative to the kernel's dir, so the move keeps them valid. */
static int save_and_publish(struct kd_kernel *k, const char *x, const char *final,
			    struct kd_kernel **ret)
{
	int r = kernel_save(k);

	kd_kernel_free(k);
	*ret = NULL;
	if (r < 0)
		return r;
	r = publish(x, final);
	if (r < 0)
		return r;
	return kernel_load(final, ret);
}

static char *ref_link_path(const char *ref)
{
	_cleanup_free_ char *kd = kernels_dir();
	_cleanup_free_ char *esc = strdup(ref);

	if (!kd || !esc)
		return NULL;
	for (char *c = esc; *c; c++)
		if (*c == '/' || *c == ':' || *c == ',')
			*c = '_';
	return strdupf("%s/refs/%s", kd, esc);
}

static void ref_link_set(const char *ref, const char *key)
{
	_cleanup_free_ char *l = ref_link_path(ref);
	_cleanup_free_ char *d = NULL, *t = NULL, *target = strdupf("../%s", key);

	if (!l || !target)
		return;
	d = strdup(l);
	if (d && strrchr(d, '/'))
		*strrchr(d, '/') = 0;
	if (!d || mkdir_p(d, 0755) < 0)
		return;
	t = strdupf("%s.tmp.%d", l, (int)getpid());
	if (!t)
		return;
	unlink(t);
	if (symlink(target, t) == 0 && rename(t, l) < 0)
		unlink(t);
}

static int make_tmpdir(const char *parent, char **ret)
{
	char *t = strdupf("%s/.tmp-XXXXXX", parent);

	if (!t)
		return -ENOMEM;
	if (mkdir_p(parent, 0755) < 0 || !mkdtemp(t)) {
		int e = errno;
		free(t);
		return -e;
	}
	*ret = t;
	return 0;
}

static void rm_rf_freep(char **p)
{
	if (*p) {
		rm_rf(*p);
		free(*p);
	}
}
#define _cleanup_rmdir_ _cleanup_(rm_rf_freep)

static int depmod(const char *modroot, const char *release)
{
	char *argv[] = {(char *)"depmod", (char *)"-b", (char *)modroot, (char *)release, NULL};
	int r = run_argv(argv, NULL, 0);
	return r < 0 ? r : r ? -EIO : 0;
}

static bool has_modules(const char *modroot, const char *release)
{
	_cleanup_free_ char *p = strdupf("%s/lib/modules/%s/modules.dep", modroot, release);
	return p && access(p, F_OK) == 0;
}

/* ---- debian: ------------------------------------------------------------------------ */

static int find_with_suffix(const char *dir, const char *prefix, const char *suffix, char **ret)
{
	_cleanup_(closedirp_) DIR *d = NULL;
	struct dirent *de;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (startswith(de->d_name, prefix) && endswith(de->d_name, suffix)) {
			*ret = strdupf("%s/%s", dir, de->d_name);
			return *ret ? 0 : -ENOMEM;
		}
	return -ENOENT;
}

static int apt_download(const char *pkg, const char *dir, char **ret_deb, char **err)
{
	_cleanup_free_ char *log = strdupf("%s/apt.log", dir);
	char *argv[] = {(char *)"apt-get", (char *)"download", (char *)"-q", (char *)pkg, NULL};
	_cleanup_free_ char *prefix = strdupf("%s_", pkg);
	int r;

	if (!log || !prefix)
		return -ENOMEM;
	r = kd_run_logged(argv, dir, log);
	if (r != 0) {
		_cleanup_free_ char *t = file_tail(log, 800, "");
		SETERR(err, "apt-get download %s failed (%s): %s", pkg,
		       r < 0 ? strerror(-r) : "exit status", t ? t : "");
		return r < 0 ? r : -ENOENT;
	}
	r = find_with_suffix(dir, prefix, ".deb", ret_deb);
	if (r < 0)
		SETERR(err, "apt-get download %s: no .deb in %s", pkg, dir);
	return r;
}

static int deb_field(const char *deb, const char *field, char **ret)
{
	char *argv[] = {(char *)"dpkg-deb", (char *)"-f", (char *)deb, (char *)field, NULL};
	char *out = NULL;
	int r = run_argv(argv, &out, 0);

	if (r != 0) {
		free(out);
		return r < 0 ? r : -EIO;
	}
	strstrip(out);
	*ret = out;
	return 0;
}

static int fetch_debuginfo(struct kd_kernel *k, const char *name, char **err)
{
	_cleanup_rmdir_ char *tmp = NULL;
	_cleanup_free_ char *pkg = strdupf("linux-image-%s-dbg", name), *deb = NULL;
	_cleanup_free_ char *member = NULL, *stdin_path = NULL, *out = NULL;
	int p[2], status, r, r2 = 0;
	pid_t a, b;

	if (!pkg)
		return -ENOMEM;
	if (k->vmlinux && access(k->vmlinux, R_OK) == 0)
		return 0;
	r = make_tmpdir(k->dir, &tmp);
	if (r < 0)
		return r;
	r = apt_download(pkg, tmp, &deb, err);
	if (r < 0)
		return r;
	/* dpkg-deb --fsys-tarfile DEB | tar -x MEMBER, without a shell */
	member = strdupf("./usr/lib/debug/boot/vmlinux-%s", k->release);
	if (!member || pipe2(p, O_CLOEXEC) < 0)
		return -ENOMEM;
	{
		char *av[] = {(char *)"dpkg-deb", (char *)"--fsys-tarfile", deb, NULL};
		struct spawn_opts o = {.stdout_fd = p[1]};
		a = spawn_argv(av, &o);
	}
	close(p[1]);
	stdin_path = strdupf("/proc/self/fd/%d", p[0]);
	{
		char *av[] = {(char *)"tar", (char *)"-x", (char *)"-C", tmp, member, NULL};
		struct spawn_opts o = {.stdin_path = stdin_path};
		b = a > 0 ? spawn_argv(av, &o) : -ECHILD;
	}
	close(p[0]);
	if (a > 0) {
		waitpid(a, &status, 0);
		r2 = wait_status_to_exit(status);
	}
	if (b < 0)
		return b;
	waitpid(b, &status, 0);
	if (a < 0 || r2 != 0 || wait_status_to_exit(status) != 0) {
		SETERR(err, "extracting vmlinux-%s from %s failed", k->release, deb);
		return -EIO;
	}
	out = strdupf("%s/vmlinux", k->dir);
	{
		_cleanup_free_ char *src = strdupf("%s/%s", tmp, member + 2);
		if (!src || !out || rename(src, out) < 0)
			return -errno;
	}
	free(k->vmlinux);
	k->vmlinux = TAKE_PTR(out);
	return kernel_save(k);
}

/* Before a kernel is added to the cache kd: refused without KD_KERNEL_FETCH (-ENOENT,
 * "not in the cache"), else the cache's lock (an fd, held until it is closed). */
static int cache_lock_to_fetch(const char *kd, const char *ref, unsigned flags, char **err)
{
	_cleanup_free_ char *lockp = NULL;
	int r;

	if (!(flags & KD_KERNEL_FETCH)) {
		SETERR(err, "%s: not in the cache (kdrill kernel fetch %s)", ref, ref);
		return -ENOENT;
	}
	lockp = strdupf("%s/.lock", kd);
	if (!lockp)
		return -ENOMEM;
	if ((r = mkdir_p(kd, 0755)) < 0)
		return r;
	return kd_lock_file(lockp);
}

static int resolve_debian(const char *ref, const char *name, unsigned flags, struct kd_kernel **ret,
			  char **err)
{
	_cleanup_free_ char *kd = kernels_dir(), *link = ref_link_path(ref);
	_cleanup_free_ char *pkg = NULL, *deb = NULL, *version = NULL, *key = NULL;
	_cleanup_free_ char *final = NULL, *x = NULL, *vmlinuz = NULL, *release = NULL;
	_cleanup_free_ char *boot = NULL;
	_cleanup_rmdir_ char *tmp = NULL;
	_cleanup_close_ int lock = -1;
	struct kd_kernel *k = NULL;
	char resolved[PATH_MAX];
	int r;

	if (!kd || !link)
		return -ENOMEM;
	if (!*name) {
		SETERR(err, "%s: empty package name (e.g. debian:6.1.0-54-cloud-amd64)", ref);
		return -EINVAL;
	}
	/* cached: refs/<ref> -> ../<key> */
	if (realpath(link, resolved) && kernel_load(resolved, &k) == 0)
		goto have;
	lock = cache_lock_to_fetch(kd, ref, flags, err);
	if (lock < 0)
		return lock;
	pkg = startswith(name, "linux-image-") ? strdup(name) : strdupf("linux-image-%s", name);
	if (!pkg)
		return -ENOMEM;
	r = make_tmpdir(kd, &tmp);
	if (r < 0)
		return r;
	r = apt_download(pkg, tmp, &deb, err);
	if (r < 0)
		return r;
	r = deb_field(deb, "Version", &version);
	if (r < 0) {
		SETERR(err, "%s: cannot read the package version", deb);
		return r;
	}
	key = strdupf("deb-%s_%s", pkg + strlen("linux-image-"), version);
	final = strdupf("%s/%s", kd, key);
	x = strdupf("%s/x", tmp);
	boot = strdupf("%s/x/boot", tmp);
	if (!key || !final || !x || !boot)
		return -ENOMEM;
	if (kernel_load(final, &k) == 0)
		goto have_link;
	{
		char *argv[] = {(char *)"dpkg-deb", (char *)"-x", deb, x, NULL};
		r = run_argv(argv, NULL, 0);
		if (r != 0) {
			SETERR(err, "dpkg-deb -x %s failed", deb);
			return r < 0 ? r : -EIO;
		}
	}
	r = find_with_suffix(boot, "vmlinuz-", "", &vmlinuz);
	if (r < 0) {
		SETERR(err, "%s: the package has no boot/vmlinuz-*: not a kernel image package",
		       pkg);
		return r;
	}
	r = kd_bzimage_probe(vmlinuz, &release, err);
	if (r < 0)
		return r;
	if (!release)
		release = strdup(vmlinuz + strlen(boot) + strlen("/vmlinuz-"));
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->ref = strdup(ref);
	k->key = strdup(key);
	k->dir = strdup(x);
	k->release = strdup(release);
	k->vmlinuz = strdup(vmlinuz);
	k->source = strdupf("debian %s %s", pkg, version);
	k->config = strdupf("%s/config-%s", boot, release);
	if (k->config && access(k->config, F_OK) < 0) {
		free(k->config);
		k->config = NULL;
	}
	k->modroot = strdup(x);
	if (!has_modules(x, release)) {
		_cleanup_free_ char *md = strdupf("%s/lib/modules/%s", x, release);
		if (md && access(md, F_OK) == 0 && depmod(x, release) < 0) {
			kd_kernel_free(k);
			SETERR(err, "depmod -b %s %s failed", x, release);
			return -EIO;
		}
		if (!md || access(md, F_OK) < 0) {
			free(k->modroot);
			k->modroot = NULL;
		}
	}
	r = save_and_publish(k, x, final, &k);
	if (r < 0)
		return r;
have_link:
	ref_link_set(ref, key);
have:
	if (flags & KD_KERNEL_DEBUGINFO) {
		r = fetch_debuginfo(k, name, err);
		if (r < 0) {
			kd_kernel_free(k);
			return r;
		}
	}
	*ret = k;
	return 0;
}

/* ---- path: and tree: ---------------------------------------------------------------- */

static uint64_t walk_hash;
static size_t walk_base;
static int walk_cb(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	char buf[64];
	(void)ftw;
	if (type != FTW_F)
		return 0;
	walk_hash = kd_fnv64(p + walk_base, strlen(p + walk_base) + 1, walk_hash);
	snprintf(buf, sizeof(buf), "%lld %lld", (long long)st->st_size,
		 (long long)st->st_mtim.tv_sec);
	walk_hash = kd_fnv64(buf, strlen(buf) + 1, walk_hash);
	return 0;
}

/* The config of the bzImage at PATH (release RELEASE), or NULL: DIR/config-RELEASE,
 * DIR/config or DIR/.config next to it, or, for TREE/arch/x86/boot/bzImage, TREE/.config
 * when the tree's include/config/kernel.release says it was built for that release (a
 * tree reconfigured since the bzImage was built is not trusted). */
static char *find_config(const char *path, const char *release)
{
	_cleanup_free_ char *d = strdup(path), *tree = NULL, *kr = NULL, *krp = NULL;
	char *slash;

	if (!d)
		return NULL;
	slash = strrchr(d, '/');
	if (slash)
		*slash = 0;
	else
		strcpy(d, ".");
	for (int i = 0; i < 3; i++) {
		_cleanup_free_ char *c = i == 0	  ? strdupf("%s/config-%s", d, release)
					 : i == 1 ? strdupf("%s/config", d)
						  : strdupf("%s/.config", d);
		if (c && access(c, R_OK) == 0)
			return TAKE_PTR(c);
	}
	if (!endswith(d, "/arch/x86/boot") && !endswith(d, "/arch/x86_64/boot"))
		return NULL;
	tree = strndup(d, strrchr(d, '/') - d); /* .../arch/x86 */
	if (!tree || !(slash = strrchr(tree, '/')))
		return NULL;
	*slash = 0; /* .../arch */
	if (!(slash = strrchr(tree, '/')))
		return NULL;
	*slash = 0; /* the tree */
	krp = strdupf("%s/include/config/kernel.release", tree);
	if (!krp || read_full_file(krp, &kr, NULL) < 0)
		return NULL;
	kr[strcspn(kr, "\n")] = 0;
	if (strcmp(kr, release))
		return NULL;
	free(krp);
	krp = strdupf("%s/.config", tree);
	return krp && access(krp, R_OK) == 0 ? TAKE_PTR(krp) : NULL;
}

static int resolve_file(const char *ref, const char *arg, bool tree, unsigned flags,
			struct kd_kernel **ret, char **err)
{
	_cleanup_free_ char *kd = kernels_dir(), *path = NULL, *mods = NULL, *sha = NULL;
	_cleanup_free_ char *release = NULL, *key = NULL, *final = NULL, *config = NULL;
	_cleanup_free_ char *x = NULL;
	_cleanup_rmdir_ char *tmp = NULL;
	_cleanup_close_ int lock = -1;
	struct kd_kernel *k = NULL;
	uint64_t mh = 0;
	char *comma;
	int r;

	if (!kd)
		return -ENOMEM;
	path = strdup(arg);
	if (!path)
		return -ENOMEM;
	comma = strchr(path, ',');
	if (comma) {
		*comma++ = 0;
		if (tree || !startswith(comma, "modules=")) {
			SETERR(err, "%s: unknown option '%s' (path:FILE[,modules=DIR])", ref,
			       comma);
			return -EINVAL;
		}
		mods = strdup(comma + strlen("modules="));
	}
	if (tree) {
		_cleanup_free_ char *t = TAKE_PTR(path);
		struct stat st;
		if (stat(t, &st) < 0 || !S_ISDIR(st.st_mode)) {
			SETERR(err, "%s: %s is not a directory", ref, t);
			return -ENOTDIR;
		}
		path = strdupf("%s/arch/x86/boot/bzImage", t);
		config = strdupf("%s/.config", t);
		mods = strdup(t); /* the tree itself: modules_install */
		if (!path || !config)
			return -ENOMEM;
		if (access(path, F_OK) < 0) {
			SETERR(err,
			       "%s: no arch/x86/boot/bzImage (build the tree first: make bzImage "
			       "modules)",
			       ref);
			return -ENOENT;
		}
	}
	r = kd_bzimage_probe(path, &release, err);
	if (r < 0)
		return r;
	if (!release) {
		SETERR(err, "%s: the bzImage header carries no kernel version string", path);
		return -ENOEXEC;
	}
	r = kd_sha256_file(path, &sha);
	if (r < 0) {
		SETERR(err, "%s: cannot hash: %s", path, strerror(-r));
		return r;
	}
	if (mods && !tree) {
		struct stat st;
		if (stat(mods, &st) < 0 || !S_ISDIR(st.st_mode)) {
			SETERR(err, "%s: modules dir %s does not exist", ref, mods);
			return -ENOENT;
		}
		walk_hash = KD_FNV64_INIT;
		walk_base = strlen(mods);
		nftw(mods, walk_cb, 16, FTW_PHYS);
		mh = walk_hash;
	}
	if (mods && !tree)
		key = strdupf("path-%.16s-m%016llx", sha, (unsigned long long)mh);
	else
		key = strdupf("%s-%.16s", tree ? "tree" : "path", sha);
	final = strdupf("%s/%s", kd, key);
	if (!key || !final)
		return -ENOMEM;
	if (kernel_load(final, &k) == 0)
		goto done;
	lock = cache_lock_to_fetch(kd, ref, flags, err);
	if (lock < 0)
		return lock;
	if (kernel_load(final, &k) == 0)
		goto done;
	r = make_tmpdir(kd, &tmp);
	if (r < 0)
		return r;
	x = strdupf("%s/x", tmp);
	if (!x || mkdir_p(x, 0755) < 0)
		return -ENOMEM;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->ref = strdup(ref);
	k->key = strdup(key);
	k->dir = strdup(x);
	k->release = strdup(release);
	k->vmlinuz = strdupf("%s/vmlinuz", x);
	k->source = strdupf("%s %s", tree ? "tree" : "path", arg);
	r = copy_file(path, k->vmlinuz);
	if (r < 0)
		goto fail;
	if (!config) {
		/* /boot/vmlinuz-X -> /boot/config-X, a config next to the bzImage, the tree's
		 * .config for TREE/arch/x86/boot/bzImage; or /proc/config.gz for the running
		 * kernel */
		struct utsname u;
		config = find_config(path, release);
		if (!config) {
			if (uname(&u) == 0 && !strcmp(u.release, release) &&
			    access("/proc/config.gz", R_OK) == 0) {
				_cleanup_free_ char *out = NULL;
				char *argv[] = {(char *)"zcat", (char *)"/proc/config.gz", NULL};
				_cleanup_free_ char *cp = strdupf("%s/config", x);
				if (cp && run_argv(argv, &out, 0) == 0 &&
				    write_file_atomic(cp, out, strlen(out), 0644) == 0)
					k->config = TAKE_PTR(cp);
			}
		}
	}
	if (config && access(config, R_OK) == 0) {
		k->config = strdupf("%s/config", x);
		r = copy_file(config, k->config);
		if (r < 0)
			goto fail;
	}
	if (mods && tree) {
		/* modules only if the tree was configured with them and built them */
		_cleanup_free_ char *order = strdupf("%s/modules.order", mods);
		_cleanup_free_ char *cfg = NULL;
		bool modular = false;
		if (config && read_full_file(config, &cfg, NULL) == 0)
			modular = strstr(cfg, "\nCONFIG_MODULES=y") != NULL;
		if (modular && order && access(order, F_OK) == 0) {
			_cleanup_free_ char *imp = strdupf("INSTALL_MOD_PATH=%s", x);
			_cleanup_free_ char *log = strdupf("%s/modules_install.log", tmp);
			/* not the make flags of a make that runs kdrill (make check: -j, jobserver
			 * fds, command-line variables such as O= would reach the kernel's make) */
			char *argv[] = {(char *)"env",
					(char *)"-u",
					(char *)"MAKEFLAGS",
					(char *)"-u",
					(char *)"MFLAGS",
					(char *)"-u",
					(char *)"MAKELEVEL",
					(char *)"-u",
					(char *)"MAKEOVERRIDES",
					(char *)"make",
					(char *)"-C",
					mods,
					(char *)"-s",
					(char *)"modules_install",
					imp,
					NULL};
			r = kd_run_logged(argv, NULL, log);
			if (r != 0) {
				_cleanup_free_ char *t = file_tail(log, 800, "");
				SETERR(err, "%s: make modules_install failed: %s", ref, t ? t : "");
				r = r < 0 ? r : -EIO;
				goto fail;
			}
			k->modroot = strdup(x);
		}
	} else if (mods) {
		/* DIR is /lib/modules/X (or a dir holding lib/modules/X): copy and depmod */
		_cleanup_free_ char *dst = strdupf("%s/lib/modules", x);
		_cleanup_free_ char *inner = strdupf("%s/lib/modules/%s", mods, release);
		const char *src = inner && access(inner, F_OK) == 0 ? inner : mods;
		_cleanup_free_ char *to = strdupf("%s/%s", dst ? dst : "", release);
		if (!dst || !to || mkdir_p(dst, 0755) < 0) {
			r = -ENOMEM;
			goto fail;
		}
		r = copy_file(src, to);
		if (r < 0) {
			SETERR(err, "copying %s into the cache failed", src);
			goto fail;
		}
		/* drop dangling build/source links; depmod does not need them */
		{
			_cleanup_free_ char *b1 = strdupf("%s/build", to),
					    *b2 = strdupf("%s/source", to);
			if (b1)
				unlink(b1);
			if (b2)
				unlink(b2);
		}
		r = depmod(x, release);
		if (r < 0) {
			SETERR(err, "depmod -b %s %s failed", x, release);
			goto fail;
		}
		k->modroot = strdup(x);
	}
	r = save_and_publish(k, x, final, &k);
	if (r < 0)
		return r;
done:
	/* the cache is keyed by content: an entry made under another ref (the object tree's
	 * bzImage, then the same bytes as build:stock) is this kernel under the ref asked for */
	if (!k->ref || strcmp(k->ref, ref)) {
		char *nr = strdup(ref), *ns = strdupf("%s %s", tree ? "tree" : "path", arg);
		if (!nr || !ns) {
			free(nr);
			free(ns);
			kd_kernel_free(k);
			return -ENOMEM;
		}
		free(k->ref);
		free(k->source);
		k->ref = nr;
		k->source = ns;
	}
	*ret = k;
	return 0;
fail:
	kd_kernel_free(k);
	return r;
}

/* Debian package names: [a-z0-9][a-z0-9+.-]+ (Debian policy 5.6.1).  apt-get takes more
 * (globs, regexes, NAME=VERSION, NAME/RELEASE): none of that may reach it. */
static bool debian_name_ok(const char *n)
{
	if (!(islower((unsigned char)n[0]) || isdigit((unsigned char)n[0])))
		return false;
	for (const char *c = n; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '+' ||
		      *c == '.' || *c == '-'))
			return false;
	return strlen(n) >= 2 && strlen(n) <= 200;
}

int kd_kernel_ref_check(const char *ref, char **err)
{
	const char *a;

	if (!*ref) {
		SETERR(err, "empty kernel ref (debian:NAME, path:FILE[,modules=DIR], tree:DIR, "
			    "build:FLAVOR, inject:NNN)");
		return -EINVAL;
	}
	if (startswith(ref, "debian:")) {
		a = ref + strlen("debian:");
		if (!*a) {
			SETERR(err, "%s: empty package name (e.g. debian:6.1.0-54-cloud-amd64)",
			       ref);
			return -EINVAL;
		}
		if (!debian_name_ok(a)) {
			SETERR(err,
			       "%s: '%s' is not a Debian package name ([a-z0-9][a-z0-9+.-]+, no "
			       "globs or versions)",
			       ref, a);
			return -EINVAL;
		}
		return 0;
	}
	if (startswith(ref, "path:") || startswith(ref, "tree:")) {
		bool tree = startswith(ref, "tree:");
		const char *comma;
		a = ref + strlen("path:");
		comma = strchr(a, ',');
		if (!*a || a == comma) {
			SETERR(err, "%s: empty %s", ref, tree ? "directory" : "file name");
			return -EINVAL;
		}
		if (comma && (tree || !startswith(comma + 1, "modules=") ||
			      !comma[1 + strlen("modules=")])) {
			SETERR(err, "%s: unknown option '%s' (path:FILE[,modules=DIR])", ref,
			       comma + 1);
			return -EINVAL;
		}
		return 0;
	}
	if (startswith(ref, "build:") || startswith(ref, "inject:")) {
		bool inject = startswith(ref, "inject:");
		a = ref + (inject ? strlen("inject:") : strlen("build:"));
		if (!*a || *a == '.' || strchr(a, '/') || (inject && !isdigit((unsigned char)*a))) {
			SETERR(err,
			       "%s: expected build:stock, build:debug or inject:NNN[-name][+debug]",
			       ref);
			return -EINVAL;
		}
		return 0;
	}
	if (ref[0] == '/' || ref[0] == '.')
		return 0;
	SETERR(err,
	       "%s: unknown kernel ref (debian:NAME, path:FILE[,modules=DIR], tree:DIR, "
	       "build:FLAVOR, inject:NNN)",
	       ref);
	return -EINVAL;
}

/* ---- kernels built here: build:FLAVOR, inject:NNN[-name][+FLAVOR] (kvm/make-kernels) ---- */

static char *kbuild_refs_dir(void)
{
	return strdupf("%s/kbuild/refs", kd_cachedir());
}

/* The kvm/make-kernels ref name ("stock", "inject-000-ext4-ioend-igrab+debug") for REF,
 * or NULL with *err set: build:FLAVOR is the name itself; inject:SPEC[+FLAVOR] matches
 * the one name "inject-SPEC[-*][+FLAVOR]" (SPEC: the patch number, or number-name). */
static char *kbuild_find(const char *ref, char **err)
{
	_cleanup_free_ char *dir = kbuild_refs_dir(), *spec = NULL, *found = NULL;
	_cleanup_(closedirp_) DIR *d = NULL;
	const char *flavor = "";
	struct dirent *de;
	char *plus;
	bool inject = startswith(ref, "inject:");

	if (!dir)
		return NULL;
	spec = strdup(ref + (inject ? strlen("inject:") : strlen("build:")));
	if (!spec)
		return NULL;
	if (!*spec || strchr(spec, '/') || spec[0] == '.') {
		SETERR(err, "%s: expected build:stock, build:debug or inject:NNN[-name][+debug]",
		       ref);
		return NULL;
	}
	if (!inject) {
		_cleanup_free_ char *l = strdupf("%s/%s", dir, spec);
		if (l && access(l, F_OK) == 0)
			return TAKE_PTR(spec);
		SETERR(err, "%s: not built (make kernels%s)", ref,
		       strcmp(spec, "stock") ? " KERNELS_DEBUG=1" : "");
		return NULL;
	}
	plus = strchr(spec, '+');
	if (plus) {
		flavor = strdupa(plus);
		*plus = 0;
	}
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		const char *n = de->d_name, *rest, *fl;
		size_t sl = strlen(spec);
		if (!startswith(n, "inject-"))
			continue;
		rest = n + strlen("inject-");
		fl = strchr(rest, '+');
		if (strcmp(fl ? fl : "", flavor))
			continue;
		if (strncmp(rest, spec, sl) ||
		    (rest[sl] != 0 && rest[sl] != '-' && rest[sl] != '+'))
			continue;
		if (found) {
			SETERR(err, "%s: ambiguous (%s, %s)", ref, found, n);
			return NULL;
		}
		found = strdup(n);
		if (!found)
			return NULL;
	}
	if (!found)
		SETERR(err, "%s: not built (make kernels%s; kvm/inject/ has the patches)", ref,
		       *flavor ? " KERNELS_DEBUG=1" : "");
	return TAKE_PTR(found);
}

static int resolve_build(const char *ref, unsigned flags, struct kd_kernel **ret, char **err)
{
	_cleanup_free_ char *dir = kbuild_refs_dir(), *name = NULL, *link = NULL, *entry = NULL;
	_cleanup_free_ char *bz = NULL;

	if (!dir)
		return -ENOMEM;
	name = kbuild_find(ref, err);
	if (!name)
		return err && *err ? -ENOPKG : -ENOMEM;
	link = strdupf("%s/%s", dir, name);
	if (!link)
		return -ENOMEM;
	entry = realpath(link, NULL);
	bz = entry ? strdupf("%s/bzImage", entry) : NULL;
	if (!bz || access(bz, R_OK) < 0) {
		SETERR(err, "%s: %s is gone (make kernels)", ref, link);
		return -ENOPKG;
	}
	return resolve_file(ref, bz, false, flags, ret, err);
}

/* kd_kernel_list(): the refs kvm/make-kernels published */
static void kbuild_list(FILE *f)
{
	_cleanup_free_ char *dir = kbuild_refs_dir();
	struct dirent **names = NULL;
	bool head = false;
	int n;

	if (!dir || (n = scandir(dir, &names, NULL, alphasort)) < 0)
		return;
	for (int i = 0; i < n; free(names[i]), i++) {
		_cleanup_free_ char *l = NULL, *entry = NULL, *krp = NULL, *rel = NULL;
		const struct dirent *de = names[i];
		if (de->d_name[0] == '.')
			continue;
		l = strdupf("%s/%s", dir, de->d_name);
		entry = l ? realpath(l, NULL) : NULL;
		if (!entry)
			continue;
		krp = strdupf("%s/kernel.release", entry);
		if (!krp || read_full_file(krp, &rel, NULL) < 0)
			continue;
		rel[strcspn(rel, "\n")] = 0;
		if (!head) {
			fprintf(f, "built here (make kernels; %s):\n", dir);
			head = true;
		}
		if (startswith(de->d_name, "inject-"))
			fprintf(f, "  inject:%-40s %-28s %s\n", de->d_name + strlen("inject-"), rel,
				entry);
		else
			fprintf(f, "  build:%-41s %-28s %s\n", de->d_name, rel, entry);
	}
	free(names);
}

int kd_kernel_resolve(const char *ref, unsigned flags, struct kd_kernel **ret, char **err)
{
	struct kd_kernel *k = NULL;
	int r;

	if ((r = kd_kernel_ref_check(ref, err)) < 0)
		return r;
	if (startswith(ref, "debian:"))
		r = resolve_debian(ref, ref + strlen("debian:"), flags, &k, err);
	else if (startswith(ref, "path:"))
		r = resolve_file(ref, ref + strlen("path:"), false, flags, &k, err);
	else if (startswith(ref, "tree:"))
		r = resolve_file(ref, ref + strlen("tree:"), true, flags, &k, err);
	else if (startswith(ref, "build:") || startswith(ref, "inject:"))
		r = resolve_build(ref, flags, &k, err);
	else if (ref[0] == '/' || ref[0] == '.')
		r = resolve_file(ref, ref, false, flags, &k, err);
	else {
		SETERR(err,
		       "%s: unknown kernel ref (debian:NAME, path:FILE[,modules=DIR], tree:DIR, "
		       "build:FLAVOR, inject:NNN)",
		       ref);
		return -EINVAL;
	}
	if (r < 0)
		return r;
	if ((flags & KD_KERNEL_DEBUGINFO) && !startswith(ref, "debian:") && !k->vmlinux) {
		SETERR(err, "%s: --debuginfo is only available for debian: refs", ref);
		kd_kernel_free(k);
		return -EOPNOTSUPP;
	}
	if (access(k->vmlinuz, R_OK) < 0) {
		SETERR(err, "%s: cached kernel %s is gone (remove %s)", ref, k->vmlinuz, k->dir);
		kd_kernel_free(k);
		return -ENOENT;
	}
	*ret = k;
	return 0;
}

/* ---- config report ------------------------------------------------------------------ */

char *kd_kernel_config_get(const struct kd_kernel *k, const char *opt, bool *known)
{
	_cleanup_free_ char *cfg = NULL, *pat = NULL;
	const char *p;

	*known = false;
	if (!k->config || read_full_file(k->config, &cfg, NULL) < 0)
		return NULL;
	*known = true;
	pat = strdupf("\n%s=", opt);
	if (!pat)
		return NULL;
	if (startswith(cfg, pat + 1))
		p = cfg + strlen(pat + 1);
	else if ((p = strstr(cfg, pat)))
		p += strlen(pat);
	else
		return NULL;
	return strndup(p, strcspn(p, "\n"));
}

/* module evidence: "m" when <name>.ko* is among the modules, "y" when modules.builtin lists it */
static const char *module_evidence(const char *mod, const char *mlist, const char *builtin)
{
	_cleanup_free_ char *a = NULL;
	if (!mod)
		return NULL;
	a = strdupf("/%s.ko", mod);
	if (!a)
		return NULL;
	if (builtin && strstr(builtin, a))
		return "y";
	if (mlist && strstr(mlist, a))
		return "m";
	/* dash/underscore are equivalent in module names */
	for (char *c = a; *c; c++)
		if (*c == '-')
			*c = '_';
		else if (*c == '_')
			*c = '-';
	if (builtin && strstr(builtin, a))
		return "y";
	if (mlist && strstr(mlist, a))
		return "m";
	return NULL;
}

enum opt_state { OPT_Y, OPT_M, OPT_MISSING, OPT_UNKNOWN };

/* one option of kvm/kdrill.config on kernel K: from its config file when it has one,
 * else from the evidence of MODULE (the module list, modules.builtin) */
static enum opt_state option_state(const struct kd_kernel *k, const char *opt, const char *module,
				   const char *mlist, const char *builtin, const char **label)
{
	_cleanup_free_ char *val = NULL;
	bool known = false;

	val = kd_kernel_config_get(k, opt, &known);
	if (!known) {
		const char *ev = module_evidence(module, mlist, builtin);
		*label = !ev ? "unknown" : *ev == 'm' ? "m (module found)" : "y (modules.builtin)";
		return !ev ? OPT_UNKNOWN : *ev == 'm' ? OPT_M : OPT_Y;
	}
	if (!val) {
		*label = "MISSING";
		return OPT_MISSING;
	}
	if (!strcmp(val, "m")) {
		*label = k->modroot ? "m" : "m, but no modules: MISSING";
		return k->modroot ? OPT_M : OPT_MISSING;
	}
	*label = "y";
	return OPT_Y;
}

int kd_kernel_show(const struct kd_kernel *k, FILE *f)
{
	_cleanup_free_ char *frag = strdupf("%s/kvm/kdrill.config", kd_datadir());
	_cleanup_free_ char *text = NULL, *mlist = NULL, *builtin = NULL;
	_cleanup_free_ char *cost = NULL, *module = NULL, *alt = NULL;
	unsigned n_y = 0, n_m = 0, n_missing = 0, n_unknown = 0, n_fatal = 0;
	bool known = false;
	char *save = NULL;

	fprintf(f, "ref:       %s\n", k->ref ? k->ref : "?");
	fprintf(f, "key:       %s\n", k->key);
	fprintf(f, "source:    %s\n", k->source ? k->source : "?");
	fprintf(f, "release:   %s\n", k->release ? k->release : "?");
	fprintf(f, "vmlinuz:   %s\n", k->vmlinuz);
	if (k->modroot && k->release) {
		_cleanup_free_ char *md = strdupf("%s/lib/modules/%s", k->modroot, k->release);
		_cleanup_free_ char *dep = strdupf("%s/modules.dep", md ? md : "");
		_cleanup_free_ char *bi = strdupf("%s/modules.builtin", md ? md : "");
		size_t n = 0;
		if (dep && read_full_file(dep, &mlist, NULL) == 0)
			for (const char *c = mlist; *c; c++)
				n += *c == '\n';
		if (bi)
			read_full_file(bi, &builtin, NULL);
		fprintf(f, "modules:   %s (%zu modules)\n", md ? md : "?", n);
	} else
		fprintf(f, "modules:   none (everything the guest needs must be built in)\n");
	fprintf(f, "config:    %s\n",
		k->config ? k->config : "none (evidence from the module list only)");
	fprintf(f, "debuginfo: %s\n", k->vmlinux ? k->vmlinux : "none");
	if (!frag || read_full_file(frag, &text, NULL) < 0) {
		fprintf(f, "options:   cannot read %s\n", frag ? frag : "kvm/kdrill.config");
		return 0;
	}
	free(kd_kernel_config_get(k, "CONFIG_MODULES", &known));
	fprintf(f, "options of kvm/kdrill.config:\n");
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (startswith(line, "#module: ")) {
			free(module);
			module = strdup(line + 9);
		} else if (startswith(line, "#or: ")) {
			free(alt);
			alt = strdup(line + 5);
		} else if (startswith(line, "#: ")) {
			free(cost);
			cost = strdup(line + 3);
		} else if (startswith(line, "CONFIG_")) {
			_cleanup_free_ char *opt = strndup(line, strcspn(line, "="));
			_cleanup_free_ char *label_alt = NULL;
			const char *why = cost ? cost : "", *label;
			bool fatal = *why == '!';
			enum opt_state st;

			if (fatal)
				why++;
			if (!opt)
				return -ENOMEM;
			st = option_state(k, opt, module, mlist, builtin, &label);
			if (alt && (st == OPT_MISSING || st == OPT_UNKNOWN)) {
				/* "#or: CONFIG_OTHER [MODULE]": the other option serves as well */
				_cleanup_free_ char *aopt = strndup(alt, strcspn(alt, " "));
				const char *amod = alt + strcspn(alt, " "), *alabel;
				enum opt_state ast;

				amod += strspn(amod, " ");
				if (!aopt)
					return -ENOMEM;
				ast = option_state(k, aopt, *amod ? amod : NULL, mlist, builtin,
						   &alabel);
				if (ast == OPT_Y || ast == OPT_M) {
					label_alt = strdupf("%s (%s)", alabel, aopt);
					if (!label_alt)
						return -ENOMEM;
					label = label_alt;
					st = ast;
				}
			}
			n_y += st == OPT_Y;
			n_m += st == OPT_M;
			n_missing += st == OPT_MISSING;
			n_unknown += st == OPT_UNKNOWN;
			n_fatal += fatal && st == OPT_MISSING;
			if (st == OPT_MISSING || st == OPT_UNKNOWN)
				fprintf(f, "  %-28s %-10s -> %s%s\n", opt, label,
					fatal && st == OPT_MISSING ? "FATAL: " : "", why);
			else
				fprintf(f, "  %-28s %s\n", opt, label);
			module = mfree(module);
			alt = mfree(alt);
			cost = mfree(cost);
		}
	}
	fprintf(f, "summary:   %u built in, %u modules, %u missing (%u fatal), %u unknown\n", n_y,
		n_m, n_missing, n_fatal, n_unknown);
	return (int)n_fatal;
}

int kd_kernel_list(FILE *f)
{
	_cleanup_free_ char *kd = kernels_dir();
	_cleanup_(closedirp_) DIR *d = NULL;
	struct dirent *de;
	unsigned n = 0;

	if (!kd)
		return -ENOMEM;
	d = opendir(kd);
	if (d)
		while ((de = readdir(d))) {
			_cleanup_free_ char *p = NULL;
			struct kd_kernel *k = NULL;
			if (de->d_name[0] == '.' || !strcmp(de->d_name, "refs"))
				continue;
			p = strdupf("%s/%s", kd, de->d_name);
			if (!p || kernel_load(p, &k) < 0)
				continue;
			fprintf(f, "%-44s %-28s %s%s\n", k->key, k->release ? k->release : "?",
				k->ref ? k->ref : "?", k->vmlinux ? " (+debuginfo)" : "");
			kd_kernel_free(k);
			n++;
		}
	if (!n)
		fprintf(f, "no kernels in %s (kdrill kernel fetch debian:6.1.0-54-cloud-amd64)\n",
			kd);
	kbuild_list(f);
	return (int)n;
}
