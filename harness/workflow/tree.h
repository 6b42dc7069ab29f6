/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernels from a git tree, for `kdrill bisect --tree`: the candidate commits between two
 * revisions, and one build per tested commit in a worktree kdrill owns.
 *
 * The user's repository is only read (git rev-parse, merge-base, log) and given one
 * worktree (`git worktree add --detach --lock`, which writes its administrative files
 * under the repository's .git/worktrees/ and nothing else): its checkout, index and HEAD
 * are never touched.  Everything else lives in the cache, per repository:
 *
 *   $KDRILL_CACHE/kbuild/trees/<name>-<hash>/     <name> the repository's directory name,
 *                                                  <hash> FNV-64 of its git directory
 *     lock          flock held while a bisection uses the worktree (one at a time)
 *     repo          the repository's git directory, for people
 *     src/          the worktree: `git checkout --detach --force REV` per build, so only
 *                   the files that differ get new mtimes and the build is incremental
 *     obj/          the object tree (make O=), built by kvm/build-kernel --src --obj
 *     commits/<commit>-<config key>/   a published kernel: bzImage, config,
 *                   kernel.release, build.log (the make output), build.json (commit,
 *                   subject, seconds, load); found again by later bisections
 *     builds/<commit>.log   the last build's output of a commit (kept when it failed)
 *
 * <config key> is kvm/build-kernel --config-key (the fragments and the script), so a
 * change of kvm/slim.config never reuses a kernel built with the old one.
 *
 * Functions return a negative errno; *err (allocated) says why.  -EINVAL is a usage
 * error (not a repository, an unknown revision, good not an ancestor of bad).  Nothing
 * here prints.
 */
#ifndef KDRILL_TREE_H
#define KDRILL_TREE_H

#include <stdbool.h>
#include <stddef.h>

struct kd_tree_commit {
	char *id;      /* full commit id */
	char *subject; /* first line of the message */
	bool merge;    /* more than one parent */
};

struct kd_tree {
	char *gitdir;	/* the repository's common git directory (absolute) */
	char *name;	/* <name>-<hash> */
	char *dir;	/* $KDRILL_CACHE/kbuild/trees/<name>-<hash> */
	char *worktree; /* dir/src */
	char *obj;	/* dir/obj */
	char *cfgkey;	/* kvm/build-kernel --config-key */
	int lock_fd;
	struct kd_tree_commit *c; /* oldest first: the older end, then its first-parent
				   * descendants up to the newer end */
	size_t n;
};

/* Check REPO, resolve OLDER and NEWER and list the commits from OLDER to NEWER along
 * NEWER's first parents (git rev-list --first-parent --reverse OLDER..NEWER, preceded by
 * OLDER).  Reads only.  -EINVAL: REPO is not a git repository, a revision is unknown or
 * not a commit, OLDER is not an ancestor on NEWER's first-parent line, or they are the
 * same commit. */
int kd_tree_open(const char *repo, const char *older, const char *newer, struct kd_tree *t,
		 char **err);
void kd_tree_close(struct kd_tree *t); /* also of a zeroed struct with lock_fd -1 */
static inline void kd_tree_closep(struct kd_tree *t)
{
	kd_tree_close(t);
}

/* Take the repository's lock, create (or check) the worktree and ask kvm/build-kernel
 * for the configuration key.  Call once before the first build. */
int kd_tree_prepare(struct kd_tree *t, char **err);

struct kd_tree_build {
	bool ok;	/* a bzImage was built (or found published) */
	bool cached;	/* found published: nothing was built */
	double seconds; /* wall time of checkout + build (0 when cached) */
	char *bzimage;	/* published bzImage (ok) */
	char *release;	/* kernel.release (ok) */
	char *log;	/* the build's output (builds/<commit>.log), NULL when cached */
	char *reason;	/* why it failed: the last lines of the output (not ok) */
	char load[32];	/* load average when the build started */
};
void kd_tree_build_done(struct kd_tree_build *b);

/* The kernel of commit i: published already, or checked out and built (a build failure
 * is a result, ok = false, not an error).  Errors: the worktree could not be checked out
 * or the kernel not published. */
int kd_tree_build(struct kd_tree *t, size_t i, struct kd_tree_build *ret, char **err);

/* Where the commit's kernel is or would be published (no I/O). */
char *kd_tree_commit_dir(const struct kd_tree *t, size_t i);

#endif
