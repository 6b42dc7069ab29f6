// SPDX-License-Identifier: GPL-2.0
/* Kernels from a git tree (tree.h): candidate commits, the worktree, incremental builds. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "repeat.h" /* repeat_interrupted */
#include "tree.h"
#include "util.h"

#define TREE_MAX_COMMITS 100000

/* Run `git -C DIR ARGS...` (argv, no shell), stdout into *out (may be NULL), stderr
 * appended to LOG (NULL: /dev/null).  Returns git's exit status or a negative errno. */
static int git_run(const char *dir, char **out, const char *log, ...)
{
	_cleanup_strv_ char **argv = NULL;
	struct spawn_opts o = {.stderr_path = log ? log : "/dev/null"};
	const char *a;
	va_list ap;

	if (strv_extend(&argv, "git") < 0 || strv_extend(&argv, "-C") < 0 ||
	    strv_extend(&argv, dir) < 0)
		return -ENOMEM;
	va_start(ap, log);
	while ((a = va_arg(ap, const char *)))
		if (strv_extend(&argv, a) < 0) {
			va_end(ap);
			return -ENOMEM;
		}
	va_end(ap);
	if (!out)
		o.stdout_path = log ? log : "/dev/null";
	return run_argv_opts(argv, &o, out, 0);
}

static void commit_free(struct kd_tree_commit *c)
{
	free(c->id);
	free(c->subject);
}

void kd_tree_close(struct kd_tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		commit_free(&t->c[i]);
	free(t->c);
	free(t->gitdir);
	free(t->name);
	free(t->dir);
	free(t->worktree);
	free(t->obj);
	free(t->cfgkey);
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	memset(t, 0, sizeof(*t));
	t->lock_fd = -1;
}

void kd_tree_build_done(struct kd_tree_build *b)
{
	free(b->bzimage);
	free(b->release);
	free(b->log);
	free(b->reason);
	memset(b, 0, sizeof(*b));
}

/* REV -> full commit id; -EINVAL when unknown or not a commit */
static int resolve(const char *repo, const char *rev, char **ret, char **err)
{
	_cleanup_free_ char *spec = NULL, *out = NULL;
	int r;

	if (!*rev || rev[0] == '-' || strpbrk(rev, "\n\r")) {
		set_error(err, "'%s' is not a revision", rev);
		return -EINVAL;
	}
	spec = strdupf("%s^{commit}", rev);
	if (!spec)
		return -ENOMEM;
	r = git_run(repo, &out, NULL, "rev-parse", "--verify", "--quiet", "--end-of-options", spec,
		    NULL);
	if (r < 0)
		return r;
	strstrip(out);
	if (r != 0 || strlen(out) < 40) {
		set_error(err, "%s: unknown revision '%s' (or not a commit)", repo, rev);
		return -EINVAL;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

/* "<id>\x01<parents>\x01<subject>\n" records -> commits appended to t; the first
 * record's first parent into *ret_first_parent */
static int parse_commits(struct kd_tree *t, char *text, char **ret_first_parent)
{
	for (char *l = text, *nl; l && *l; l = nl) {
		char *parents, *subject, *sp;
		struct kd_tree_commit *nc;
		nl = strchr(l, '\n');
		if (nl)
			*nl++ = 0;
		parents = strchr(l, '\x01');
		subject = parents ? strchr(parents + 1, '\x01') : NULL;
		if (!subject)
			return -EIO;
		*parents++ = 0;
		*subject++ = 0;
		if (t->n >= TREE_MAX_COMMITS)
			return -E2BIG;
		nc = realloc(t->c, (t->n + 1) * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		t->c = nc;
		sp = strchr(parents, ' ');
		nc[t->n] = (struct kd_tree_commit){
		    .id = strdup(l), .subject = strdup(subject), .merge = sp && sp[1]};
		if (!nc[t->n].id || !nc[t->n].subject)
			return -ENOMEM;
		if (ret_first_parent && !*ret_first_parent)
			*ret_first_parent =
			    sp ? strndup(parents, (size_t)(sp - parents)) : strdup(parents);
		t->n++;
	}
	return 0;
}

static char *tree_name(const char *gitdir)
{
	_cleanup_free_ char *d = strdup(gitdir);
	char *base, *slash;
	uint64_t h = 0xcbf29ce484222325ULL;

	if (!d)
		return NULL;
	for (const char *c = gitdir; *c; c++) {
		h ^= (unsigned char)*c;
		h *= 0x100000001b3ULL;
	}
	/* /x/linux/.git -> linux; /x/linux.git -> linux */
	while ((slash = strrchr(d, '/')) && !slash[1] && slash != d)
		*slash = 0;
	if (endswith(d, "/.git"))
		d[strlen(d) - 5] = 0;
	else if (endswith(d, ".git"))
		d[strlen(d) - 4] = 0;
	base = strrchr(d, '/') ? strrchr(d, '/') + 1 : d;
	if (strlen(base) > 40)
		base[40] = 0;
	for (char *c = base; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-')
			*c = '_';
	return strdupf("%s-%016llx", *base && *base != '.' ? base : "repo", (unsigned long long)h);
}

int kd_tree_open(const char *repo, const char *older, const char *newer, struct kd_tree *t,
		 char **err)
{
	_cleanup_free_ char *gd = NULL, *o = NULL, *n = NULL, *range = NULL, *out = NULL,
			    *fp = NULL;
	struct stat st;
	int r;

	memset(t, 0, sizeof(*t));
	t->lock_fd = -1;
	if (stat(repo, &st) < 0 || !S_ISDIR(st.st_mode)) {
		set_error(err, "%s is not a directory", repo);
		return -EINVAL;
	}
	r = git_run(repo, &gd, NULL, "rev-parse", "--path-format=absolute", "--git-common-dir",
		    NULL);
	if (r < 0) {
		set_error(err, "cannot run git: %s", strerror(-r));
		return r;
	}
	strstrip(gd);
	if (r != 0 || !*gd) {
		set_error(err, "%s is not a git repository", repo);
		return -EINVAL;
	}
	t->gitdir = realpath(gd, NULL);
	if (!t->gitdir) {
		set_error(err, "%s: git directory %s: %s", repo, gd, strerror(errno));
		return -EINVAL;
	}
	t->name = tree_name(t->gitdir);
	if (!t->name)
		return -ENOMEM;
	if ((r = resolve(repo, older, &o, err)) < 0 || (r = resolve(repo, newer, &n, err)) < 0)
		return r;
	if (!strcmp(o, n)) {
		set_error(err, "'%s' and '%s' are the same commit %.12s", older, newer, o);
		return -EINVAL;
	}
	r = git_run(repo, NULL, NULL, "merge-base", "--is-ancestor", o, n, NULL);
	if (r < 0)
		return r;
	if (r == 1) {
		set_error(err, "%s (%.12s) is not an ancestor of %s (%.12s)", older, o, newer, n);
		return -EINVAL;
	}
	if (r != 0) {
		set_error(err, "git merge-base --is-ancestor %.12s %.12s failed (exit %d)", o, n,
			  r);
		return -EIO;
	}
	/* the older end, then the first-parent line above it */
	r = git_run(repo, &out, NULL, "rev-list", "--no-commit-header", "--no-walk",
		    "--format=%H%x01%P%x01%s", o, NULL);
	if (r != 0) {
		set_error(err, "git rev-list %.12s failed", o);
		return r < 0 ? r : -EIO;
	}
	if ((r = parse_commits(t, out, NULL)) < 0 || t->n != 1)
		return r < 0 ? r : -EIO;
	free(out);
	out = NULL;
	range = strdupf("%s..%s", o, n);
	if (!range)
		return -ENOMEM;
	r = git_run(repo, &out, NULL, "rev-list", "--no-commit-header", "--first-parent",
		    "--reverse", "--format=%H%x01%P%x01%s", range, NULL);
	if (r != 0) {
		set_error(err, "git rev-list --first-parent %.25s... failed", range);
		return r < 0 ? r : -EIO;
	}
	r = parse_commits(t, out, &fp);
	if (r == -E2BIG) {
		set_error(err, "more than %d commits from %s to %s", TREE_MAX_COMMITS, older,
			  newer);
		return -EINVAL;
	}
	if (r < 0)
		return r;
	if (t->n < 2 || !fp || strcmp(fp, o)) {
		set_error(err,
			  "%s (%.12s) is an ancestor of %s but not on its first-parent line (it "
			  "is on a branch merged later): give a commit of the first-parent "
			  "history, such as the merge base's (git rev-list --first-parent %s)",
			  older, o, newer, newer);
		return -EINVAL;
	}
	return 0;
}

static int tree_git_common_dir(const char *wt, char **ret)
{
	_cleanup_free_ char *gd = NULL;
	int r =
	    git_run(wt, &gd, NULL, "rev-parse", "--path-format=absolute", "--git-common-dir", NULL);

	if (r != 0)
		return r < 0 ? r : -ENOENT;
	strstrip(gd);
	*ret = realpath(gd, NULL);
	return *ret ? 0 : -errno;
}

static char *build_kernel_path(void)
{
	return strdupf("%s/kvm/build-kernel", kd_datadir());
}

int kd_tree_prepare(struct kd_tree *t, char **err)
{
	_cleanup_free_ char *lockp = NULL, *repof = NULL, *git = NULL, *bk = NULL, *key = NULL,
			    *gd = NULL, *sub = NULL, *log = NULL;
	struct stat st;
	int r;

	t->dir = strdupf("%s/kbuild/trees/%s", kd_cachedir(), t->name);
	t->worktree = t->dir ? strdupf("%s/src", t->dir) : NULL;
	t->obj = t->dir ? strdupf("%s/obj", t->dir) : NULL;
	lockp = t->dir ? strdupf("%s/lock", t->dir) : NULL;
	repof = t->dir ? strdupf("%s/repo", t->dir) : NULL;
	log = t->dir ? strdupf("%s/worktree.log", t->dir) : NULL;
	bk = build_kernel_path();
	if (!t->worktree || !t->obj || !lockp || !repof || !bk || !log)
		return -ENOMEM;
	r = mkdir_p(t->dir, 0755);
	if (r < 0) {
		set_error(err, "%s: %s", t->dir, strerror(-r));
		return r;
	}
	t->lock_fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (t->lock_fd < 0) {
		set_error(err, "%s: %s", lockp, strerror(errno));
		return -errno;
	}
	while (flock(t->lock_fd, LOCK_EX) < 0)
		if (errno != EINTR || repeat_interrupted) {
			set_error(err, "%s: %s", lockp, strerror(errno));
			return -errno;
		}
	sub = strdupf("%s\n", t->gitdir);
	if (!sub || (r = write_file_atomic(repof, sub, strlen(sub), 0644)) < 0)
		return sub ? r : -ENOMEM;
	if (lstat(t->worktree, &st) == 0) {
		r = tree_git_common_dir(t->worktree, &gd);
		if (r < 0 || strcmp(gd, t->gitdir)) {
			set_error(err,
				  "%s is not a worktree of %s (remove it and it is made again)",
				  t->worktree, t->gitdir);
			return -EEXIST;
		}
	} else {
		/* a worktree of the repository, detached at the older end, locked so that a
		 * `git worktree prune` of the user's never drops it */
		r = git_run(t->gitdir, NULL, log, "worktree", "add", "--detach", "--lock",
			    "--reason", "kdrill bisect --tree: its build worktree", t->worktree,
			    t->c[0].id, NULL);
		if (r > 0) /* registered but missing (the directory was removed): ours */
			r = git_run(t->gitdir, NULL, log, "worktree", "add", "-f", "-f", "--detach",
				    "--lock", "--reason",
				    "kdrill bisect --tree: its build worktree", t->worktree,
				    t->c[0].id, NULL);
		if (r != 0) {
			_cleanup_free_ char *text = NULL;
			read_full_file(log, &text, NULL);
			set_error(err, "git worktree add %s failed: %s", t->worktree,
				  text ? strstrip(text) : "?");
			return r < 0 ? r : -EIO;
		}
	}
	{
		char *argv[] = {bk, (char *)"--config-key", NULL};
		r = run_argv(argv, &key, 0);
		if (r != 0 || !key || strlen(strstrip(key)) < 8) {
			set_error(err, "%s --config-key failed", bk);
			return r < 0 ? r : -EIO;
		}
	}
	t->cfgkey = TAKE_PTR(key);
	if (mkdir_p(t->obj, 0755) < 0 || (git = strdupf("%s/commits", t->dir)) == NULL ||
	    mkdir_p(git, 0755) < 0)
		return -errno ? -errno : -ENOMEM;
	free(git);
	git = strdupf("%s/builds", t->dir);
	if (!git || mkdir_p(git, 0755) < 0)
		return -ENOMEM;
	return 0;
}

char *kd_tree_commit_dir(const struct kd_tree *t, size_t i)
{
	return strdupf("%s/commits/%s-%s", t->dir, t->c[i].id, t->cfgkey);
}

static int copy_bytes(const char *from, const char *to)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_full_file(from, &buf, &len);

	return r < 0 ? r : write_file_atomic(to, buf, len, 0644);
}

static int publish(struct kd_tree *t, size_t i, struct kd_tree_build *b, const char *final)
{
	_cleanup_free_ char *tmp = strdupf("%s/commits/.tmp-XXXXXX", t->dir), *p = NULL, *q = NULL,
			    *json = NULL;
	struct json_object *j;
	int r = 0;
	static const char *const files[][2] = {{"arch/x86/boot/bzImage", "bzImage"},
					       {".config", "config"},
					       {"include/config/kernel.release", "kernel.release"},
					       {"build.log", "build.log"}};

	if (!tmp || !mkdtemp(tmp))
		return tmp ? -errno : -ENOMEM;
	for (size_t f = 0; f < ELEMENTSOF(files) && r >= 0; f++) {
		free(p);
		free(q);
		p = strdupf("%s/%s", t->obj, files[f][0]);
		q = strdupf("%s/%s", tmp, files[f][1]);
		r = p && q ? copy_bytes(p, q) : -ENOMEM;
	}
	if (r >= 0) {
		j = json_object_new_object();
		json_object_object_add(j, "commit", json_object_new_string(t->c[i].id));
		json_object_object_add(j, "subject", json_object_new_string(t->c[i].subject));
		json_object_object_add(j, "repository", json_object_new_string(t->gitdir));
		json_object_object_add(j, "config_key", json_object_new_string(t->cfgkey));
		json_object_object_add(j, "seconds", json_object_new_double(b->seconds));
		json_object_object_add(j, "load", json_object_new_string(b->load));
		json = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
		json_object_put(j);
		free(q);
		q = strdupf("%s/build.json", tmp);
		r = json && q ? write_file_atomic(q, json, strlen(json), 0644) : -ENOMEM;
	}
	if (r >= 0 && rename(tmp, final) < 0)
		r = -errno;
	if (r < 0)
		rm_rf(tmp);
	return r;
}

int kd_tree_build(struct kd_tree *t, size_t i, struct kd_tree_build *ret, char **err)
{
	_cleanup_free_ char *final = kd_tree_commit_dir(t, i), *bz = NULL, *krp = NULL,
			    *bk = build_kernel_path(), *log = NULL, *la = NULL;
	uint64_t t0 = now_usec();
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!final || !bk)
		return -ENOMEM;
	bz = strdupf("%s/bzImage", final);
	krp = strdupf("%s/kernel.release", final);
	log = strdupf("%s/builds/%s.log", t->dir, t->c[i].id);
	if (!bz || !krp || !log)
		return -ENOMEM;
	if (read_one_line("/proc/loadavg", &la) == 0) {
		char *sp = strchr(la, ' ');
		sp = sp ? strchr(sp + 1, ' ') : NULL;
		sp = sp ? strchr(sp + 1, ' ') : NULL;
		if (sp)
			*sp = 0;
		snprintf(ret->load, sizeof(ret->load), "%s", la);
	}
	if (access(bz, R_OK) == 0 && read_one_line(krp, &ret->release) == 0) {
		ret->ok = ret->cached = true;
		ret->bzimage = TAKE_PTR(bz);
		return 0;
	}
	unlink(log);
	/* only the files that differ are rewritten (new mtimes): the object tree rebuilds
	 * what depends on them */
	r = git_run(t->worktree, NULL, log, "checkout", "--detach", "--force", "--quiet",
		    t->c[i].id, NULL);
	if (r != 0) {
		_cleanup_free_ char *tail = file_tail(log, 1500, "(no build output)");
		set_error(err, "git checkout %.12s in %s failed: %s", t->c[i].id, t->worktree,
			  tail ? tail : "?");
		return r < 0 ? r : -EIO;
	}
	{
		char *argv[] = {bk,	(char *)"--src",  t->worktree, (char *)"--obj",
				t->obj, (char *)"--seed", NULL};
		/* its own session: a ^C reaches kdrill, which stops the whole build (make
		 * and the compilers) and reports the bisection interrupted */
		struct spawn_opts o = {.stdout_path = log,
				       .stderr_path = log,
				       .new_session = true,
				       .pdeathsig = SIGTERM};
		bool stopped = false;
		int status;
		pid_t pid = spawn_argv(argv, &o);
		if (pid < 0) {
			set_error(err, "%s: %s", bk, strerror(-pid));
			return pid;
		}
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR) {
				r = -errno;
				set_error(err, "waiting for %s: %s", bk, strerror(errno));
				return r;
			}
			if (repeat_interrupted && !stopped) {
				kill(-pid, SIGTERM);
				stopped = true;
			}
		}
		r = wait_status_to_exit(status);
	}
	ret->seconds = (double)(now_usec() - t0) / 1e6;
	ret->log = TAKE_PTR(log);
	if (repeat_interrupted) {
		set_error(err, "interrupted while building %.12s", t->c[i].id);
		return -EINTR;
	}
	if (r >= 128) { /* killed: says nothing about the commit */
		_cleanup_free_ char *tail = file_tail(ret->log, 1500, "(no build output)");
		set_error(err, "the build of %.12s was killed (signal %d): %s", t->c[i].id, r - 128,
			  tail ? tail : "");
		return -ECANCELED;
	}
	if (r != 0) { /* does not build (configuration or compiler error): a skip */
		ret->reason = file_tail(ret->log, 1500, "(no build output)");
		return 0;
	}
	/* record the worktree's new stat data in its index (a seeded build dates most files
	 * back): otherwise the next checkout re-reads and hashes every file */
	(void)git_run(t->worktree, NULL, NULL, "update-index", "-q", "--refresh", NULL);
	r = publish(t, i, ret, final);
	if (r < 0 && access(bz, R_OK) < 0) {
		set_error(err, "publishing the kernel of %.12s in %s: %s", t->c[i].id, final,
			  strerror(-r));
		return r;
	}
	if (read_one_line(krp, &ret->release) < 0)
		ret->release = NULL;
	ret->ok = true;
	ret->bzimage = TAKE_PTR(bz);
	return 0;
}
