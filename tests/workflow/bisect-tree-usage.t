#!/bin/bash
# kdrill bisect --tree before anything builds: usage errors exit 2 with the reason (not a
# git repository, an unknown revision, good not an ancestor of bad, good not on bad's
# first-parent line, --tree with --kernels, good = bad), the user's checkout is left as
# it was; and a bad end that does not build ends the bisection with 125 ("does not
# build") and bisect.json records the failed build -- no VM is started.  Root-free: a
# small git repository (not a kernel) in KDRILL_TMP, KDRILL_CACHE in KDRILL_TMP.
set -u
kd() { KDRILL_DATA=$KDRILL_TOP "$KDRILL_BIN/kdrill" "$@"; }
fail() {
	echo "FAIL: $*"
	exit 1
}
command -v git >/dev/null || {
	echo "skip: git not installed"
	exit 77
}
export KDRILL_CACHE=$KDRILL_TMP/cache
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t.invalid GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t.invalid
repo=$KDRILL_TMP/repo
mkdir -p "$repo"
g() { git -C "$repo" "$@"; }
g init -q -b main
for i in 1 2 3 4; do
	echo "$i" >"$repo/file"
	g add file
	g commit -qm "commit $i"
done
c1=$(g rev-parse HEAD~3) c4=$(g rev-parse HEAD)
# a side branch merged into main: its commit is an ancestor of main, not on the
# first-parent line
g checkout -q -b side HEAD~1
echo side >"$repo/side"
g add side
g commit -qm side
side=$(g rev-parse HEAD)
g checkout -q main
g merge -q --no-ff -m merge side
echo dirty >>"$repo/file" # the user's uncommitted change must survive
head_before=$(g rev-parse HEAD)
status_before=$(g status --porcelain)

expect_usage() { # WHY-REGEX ARGS...
	local want=$1 rc
	shift
	kd bisect --out "$KDRILL_TMP/results" "$@" >"$KDRILL_TMP/out" 2>"$KDRILL_TMP/err"
	rc=$?
	[ "$rc" = 2 ] || fail "bisect $*: exit $rc (want 2): $(cat "$KDRILL_TMP/err")"
	grep -Eq "$want" "$KDRILL_TMP/err" || fail "bisect $*: '$(cat "$KDRILL_TMP/err")' does not say /$want/"
	echo "ok: exit 2: $(head -n 1 "$KDRILL_TMP/err")"
}
mkdir -p "$KDRILL_TMP/plain"
expect_usage 'is not a git repository' --tree "$KDRILL_TMP/plain" --good a --bad b crash-selftest
expect_usage 'is not a directory' --tree "$KDRILL_TMP/nonexistent" --good a --bad b crash-selftest
expect_usage "unknown revision 'nosuchrev'" --tree "$repo" --good nosuchrev --bad main crash-selftest
expect_usage "unknown revision 'nosuchrev'" --tree "$repo" --good "$c1" --bad nosuchrev crash-selftest
expect_usage "'--help' is not a revision" --tree "$repo" --good=--help --bad main crash-selftest
expect_usage "is not an ancestor of" --tree "$repo" --good "$c4" --bad "$c1" crash-selftest
expect_usage "is not an ancestor of" --tree "$repo" --good "$c1" --bad main --reverse crash-selftest
expect_usage "not on its first-parent line" --tree "$repo" --good "$side" --bad main crash-selftest
expect_usage "are the same commit" --tree "$repo" --good main --bad "$head_before" crash-selftest
expect_usage "either --kernels LIST\|RANGE or --tree DIR" --tree "$repo" --kernels /dev/null --good "$c1" --bad main crash-selftest
expect_usage "unknown scenario|no such scenario|not found" --tree "$repo" --good "$c1" --bad main no-such-scenario
[ ! -e "$KDRILL_CACHE/kbuild" ] || fail "a usage error created $KDRILL_CACHE/kbuild"

# The ends are fine: the bad end is built first (calibration) and does not build (this
# is no kernel): 125, nothing ran.
kd bisect --out "$KDRILL_TMP/results" --tree "$repo" --good "$c1" --bad main crash-selftest \
	>"$KDRILL_TMP/out" 2>"$KDRILL_TMP/err"
rc=$?
cat "$KDRILL_TMP/err"
[ "$rc" = 125 ] || fail "bisect of a tree that does not build: exit $rc (want 125)"
d=$KDRILL_TMP/results/$(awk '{print $3}' "$KDRILL_TMP/out")
[ -f "$d/bisect.json" ] || fail "no bisect.json ($(cat "$KDRILL_TMP/out"))"
j() { jq -r "$1" "$d/bisect.json"; }
[ "$(j .result)" = INFRA ] || fail "result $(j .result) (want INFRA)"
j .reason | grep -q "does not build" || fail "reason: $(j .reason)"
[ "$(j '.kernels | length')" = 5 ] || fail "$(j '.kernels | length') commits (want 5: c1..c4 + the merge)"
[ "$(j '.kernels[4].commit')" = "$head_before" ] || fail "bad end $(j '.kernels[4].commit')"
[ "$(j '.kernels[4].merge')" = true ] || fail "the merge commit is not flagged as one"
[ "$(j '.kernels[3].merge')" = false ] || fail "commit 4 is flagged as a merge"
[ "$(j '.kernels[0].commit')" = "$c1" ] || fail "good end $(j '.kernels[0].commit')"
[ "$(j '.kernels[4].build.result')" = failed ] || fail "bad end build: $(j '.kernels[4].build')"
j '.kernels[4].build.error' | grep -q "is not a kernel source tree" ||
	fail "build error: $(j '.kernels[4].build.error')"
[ "$(j '.kernels[0].build')" = null ] || fail "the good end was built: $(j '.kernels[0].build')"
[ "$(j .runs)" = 0 ] || fail "$(j .runs) runs (want 0)"
[ "$(j .tree.builds_failed)" = 1 ] || fail "builds_failed $(j .tree.builds_failed)"
wt=$(j .tree.worktree)
case $wt in "$KDRILL_CACHE"/kbuild/trees/repo-*/src) ;; *) fail "worktree $wt not in the cache" ;; esac
# kdrill's worktree is locked and detached at the bad end; the user's checkout is untouched
g worktree list --porcelain | grep -qx "worktree $wt" || fail "$wt is not a worktree of $repo"
g worktree list --porcelain | grep -A4 -x "worktree $wt" | grep -q '^locked' || fail "$wt is not locked"
[ "$(git -C "$wt" rev-parse HEAD)" = "$head_before" ] || fail "worktree not at the bad end"
[ "$(g rev-parse HEAD)" = "$head_before" ] || fail "the user's HEAD moved"
[ "$(g symbolic-ref HEAD)" = refs/heads/main ] || fail "the user's branch changed"
[ "$(g status --porcelain)" = "$status_before" ] || fail "the user's checkout changed: $(g status --porcelain)"
echo "ok: exit 125: $(j .reason)"

# a second bisection reuses the worktree (checks it is one of this repository's)
kd bisect --quiet --out "$KDRILL_TMP/results" --tree "$repo" --good "$c1" --bad main crash-selftest \
	>"$KDRILL_TMP/out" 2>"$KDRILL_TMP/err"
rc=$?
[ "$rc" = 125 ] || fail "second bisection: exit $rc: $(cat "$KDRILL_TMP/err")"
[ "$(g worktree list | wc -l)" = 2 ] || fail "worktrees: $(g worktree list)"
echo "ok: the worktree is reused"
