#!/bin/bash
# kdrill bisect --tree on a real kernel history (opt-in: KDRILL_TEST_TREE=1).
#
# tests/workflow/make-tree-repo makes (once, cached content-keyed under
# $KDRILL_CACHE/test-tree/) six commits over Debian's linux-source-6.1, the fourth
# applying kvm/inject/003-nfs-redirty-double-unlock.patch; the bisection from the first
# to the last with nfs-rotate:v3 must name the fourth, with its probability, having built
# only the commits it tested, and leave the repository's HEAD, index and checkout as they
# were.
#
# Cost: the first time, the repository (unpack + git add of ~75k files: 2-20 min
# depending on the disk), kdrill's worktree (a checkout of the tree), the object tree
# seeded from the stock slim build (`make kernels`; without it the first build compiles
# the whole slim kernel, ~20 min of 2 idle cores) and one incremental build per tested
# commit (the config step and a relink, plus the changed NFS files), then ~10 VM runs of
# up to 60 s + boot.  Later runs find the kernels published by commit and only run.
# Measured at a load average of ~20 (2 cores): repository 6 min, worktree ~3 min, the
# seeded build of the bad end 759 s at nice 19, each calibration run ~40 s.  A run with
# the bad end already built (load 3-10): 2 incremental builds (115 s, 65 s), 10 runs,
# culprit at probability 0.994, 13 min.
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require
if [ "${KDRILL_TEST_TREE:-}" != 1 ]; then
	echo "skip: set KDRILL_TEST_TREE=1 (opt-in: kernel builds + ~10 VM runs, 30-60 min the first time)"
	exit 77
fi
[ -f /usr/src/linux-source-6.1.tar.xz ] || {
	echo "skip: linux-source-6.1 not installed (make kernels)"
	exit 77
}
t0=$SECONDS
repo=$("$KDRILL_TOP/tests/workflow/make-tree-repo" | tail -n 1) || fail "make-tree-repo failed"
mapfile -t c < <(git -C "$repo" rev-list --reverse HEAD)
[ "${#c[@]}" = 6 ] || fail "$repo has ${#c[@]} commits (want 6)"
culprit=${c[3]}
git -C "$repo" show --stat --format=%s "$culprit" | grep -q "fs/nfs/pagelist.c" || fail "commit 4 is not the injection"
head_before=$(git -C "$repo" rev-parse HEAD)
echo "repository $repo ready after $((SECONDS - t0)) s; culprit ${culprit:0:12}"

out=$KDRILL_TMP/results
kd bisect --tree "$repo" --good "${c[0]}" --bad "${c[5]}" --duration 60 --boot-timeout 300 \
	--out "$out" nfs-rotate:v3 >"$KDRILL_TMP/b.out" 2>"$KDRILL_TMP/b.err"
rc=$?
cat "$KDRILL_TMP/b.err"
d=$out/$(awk '{print $3}' "$KDRILL_TMP/b.out")
[ -f "$d/bisect.json" ] || fail "exit $rc, no bisect.json: $(cat "$KDRILL_TMP/b.out")"
[ "$rc" = 0 ] && [ "$(json "$d/bisect.json" .culprit.commit)" = "$culprit" ] ||
	fail "bisect: exit $rc, culprit $(json "$d/bisect.json" .culprit.commit) (want $culprit): $(json "$d/bisect.json" .reason)"
p=$(json "$d/bisect.json" .culprit.probability)
awk -v p="$p" 'BEGIN { exit !(p >= 0.95) }' || fail "culprit probability $p < 0.95"
# only tested commits were built, each with its time and result
for i in 0 1 2 3 4 5; do
	runs=$(json "$d/bisect.json" ".kernels[$i].runs + .kernels[$i].infra + .kernels[$i].others")
	b=$(json "$d/bisect.json" ".kernels[$i].build.result // \"none\"")
	if [ "$runs" = 0 ] && [ "$b" != none ] && [ "$b" != failed ]; then
		fail "commit $i was built ($b) but never run"
	fi
	[ "$runs" = 0 ] || [ "$b" = built ] || [ "$b" = cached ] || fail "commit $i ran without a build ($b)"
	echo "commit $i ${c[$i]:0:12}: runs $runs, build $b $(json "$d/bisect.json" ".kernels[$i].build.seconds // \"-\"") s"
done
[ "$(git -C "$repo" rev-parse HEAD)" = "$head_before" ] || fail "the repository's HEAD moved"
[ -z "$(git -C "$repo" status --porcelain)" ] || fail "the repository's checkout changed: $(git -C "$repo" status --porcelain | head)"
echo "ok: $(json "$d/bisect.json" .reason); $(json "$d/bisect.json" .runs) runs, build $(json "$d/bisect.json" .tree.build_s) s, wall $(json "$d/bisect.json" .wall_s) s; test $((SECONDS - t0)) s (load $(cut -d' ' -f1-3 /proc/loadavg))"
