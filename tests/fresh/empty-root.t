#!/bin/bash
# From nothing: the README's first commands on a fresh Debian 12.  A pristine
# `debootstrap --variant=minbase bookworm` root (tests/fresh/root-base.sh, cached by
# content) gets this working tree copied in (the files git knows, tracked or not ignored:
# no bin/, build/, results/), and inside it, via chroot with /proc, /sys and /dev from the
# host:
#   1. `make -j2 all` must install the build packages itself (mk/ensure-deps) and build
#      kdrill and every reproducer in the same make: the flags of the -dev packages it
#      installs must be taken after the install, not when the Makefile is read;
#   2. `make deps-test`, then `kdrill run --host --scratch DIR --duration 3 dio-invalidate`
#      on the host's kernel through the chroot's loop device and cgroups: PASS with ops > 0.
# The root is an overlay over the cached one (nothing is written into the cache but the
# downloaded .deb files, kept in $KDRILL_CACHE/fresh/apt-archives so that a rerun does not
# download them again).  Everything is unmounted on any exit.
# KDRILL_FRESH_KEEP=1 keeps the overlay's upper directory (the installed root) for a look.
set -u
top=$KDRILL_TOP
fail() {
	echo "FAIL: $*"
	exit 1
}
[ "$(id -u)" = 0 ] || { echo "skip: needs root (debootstrap, chroot, mounts)"; exit 77; }
for t in debootstrap chroot git flock; do
	command -v "$t" >/dev/null 2>&1 || { echo "skip: $t not installed (make deps-vm)"; exit 77; }
done
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 || { echo "skip: $top is not a git work tree"; exit 77; }

cache=${KDRILL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kdrill}
t0=$SECONDS
base=$("$top/tests/fresh/root-base.sh") || fail "debootstrap of the base root failed"
t_base=$((SECONDS - t0))
[ -x "$base/usr/bin/make" ] || fail "$base: no make"

w=$KDRILL_TMP/fresh
root=$w/root
mkdir -p "$w/upper" "$w/work" "$root" "$cache/fresh/apt-archives/partial"
mounted=()
cleanup() {
	local i
	# innermost first; the bind mounts are slaves, so this never unmounts the host's own
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -R "${mounted[$i]}" 2>/dev/null || umount -R -l "${mounted[$i]}" 2>/dev/null
	done
	if [ -n "${KDRILL_FRESH_KEEP:-}" ]; then
		echo "kept: $w/upper"
	else
		rm -rf "$w" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mnt() { # TARGET MOUNT-ARGS...
	local tgt=$1
	shift
	mount "$@" "$tgt" || fail "mount $* $tgt"
	mounted+=("$tgt")
}
if mount -t overlay overlay -o "lowerdir=$base,upperdir=$w/upper,workdir=$w/work" "$root" 2>/dev/null; then
	mounted+=("$root")
else
	echo "note: overlayfs not available, copying the base root"
	cp -a "$base/." "$root/" || fail "copy of $base"
fi
mnt "$root/proc" -t proc proc
for d in sys dev; do
	mnt "$root/$d" --rbind "/$d"
	mount --make-rslave "$root/$d" || fail "make-rslave $root/$d"
done
mnt "$root/var/cache/apt/archives" --bind "$cache/fresh/apt-archives"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# a chroot has no init: package scripts must not try to start services
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# The tree: what git knows of the working tree (tracked, or untracked and not ignored),
# as it is now, uncommitted edits included.
mkdir -p "$root/src/kdrill"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -C "$root/src/kdrill" -xf - || fail "copy of the tree"
[ -e "$root/src/kdrill/Makefile" ] || fail "tree not copied"
[ ! -e "$root/src/kdrill/bin" ] && [ ! -e "$root/src/kdrill/build" ] || fail "build dirs were copied"

inroot() { # run a shell command in the chroot, at the top of the tree, with a clean environment
	chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb /bin/sh -c "cd /src/kdrill && $1"
}

# The base root must really be empty of what kdrill builds with.
inroot 'command -v cc || command -v gcc || command -v pkg-config || test -e /usr/include/systemd/sd-event.h' &&
	fail "the base root already has a compiler, pkg-config or libsystemd-dev"

t1=$SECONDS
echo "== make -j2 all (from nothing)"
inroot 'make -j2 all' >"$w/make-all.log" 2>&1
rc=$?
t_all=$((SECONDS - t1))
grep -E 'ensure-deps|error|undefined reference|Error|not found' "$w/make-all.log" | head -n 30
[ "$rc" = 0 ] || { tail -n 40 "$w/make-all.log"; fail "make all in a fresh root: exit $rc"; }
grep -q '^ensure-deps: installing:.*libsystemd-dev' "$w/make-all.log" ||
	fail "make all did not install the build packages itself"
for p in kdrill aio-dio-unlink dio-unwritten dio-invalidate memcg-oom-fsync nfs-rotate; do
	[ -x "$root/src/kdrill/bin/$p" ] || fail "make all built no bin/$p"
done
inroot 'bin/kdrill --version' || fail "bin/kdrill --version"
echo "make all: ${t_all}s"

t2=$SECONDS
echo "== make deps-test, kdrill run --host (in the chroot, on the host's kernel)"
inroot 'make deps-test' >"$w/deps-test.log" 2>&1 || { tail -n 30 "$w/deps-test.log"; fail "make deps-test"; }
t_deps=$((SECONDS - t2))
t3=$SECONDS
mkdir -p "$root/var/tmp/kd"
inroot 'bin/kdrill run --host --scratch /var/tmp/kd --out /var/tmp/kd-res --duration 3 dio-invalidate' \
	>"$w/run.log" 2>&1
rc=$?
t_run=$((SECONDS - t3))
cat "$w/run.log"
v=$(ls -d "$root"/var/tmp/kd-res/*-dio-invalidate*/ 2>/dev/null | tail -n 1)
[ -n "$v" ] || fail "kdrill run --host wrote no run directory (exit $rc)"
verdict=$(inroot "jq -r .verdict ${v#"$root"}verdict.json")
[ "$rc" = 0 ] && [ "$verdict" = PASS ] || fail "kdrill run --host in the fresh root: exit $rc, verdict '$verdict'"
ops=$(inroot "jq -r .counters.ops ${v#"$root"}verdict.json")
[ "$ops" -gt 0 ] 2>/dev/null || fail "kdrill run --host: ops = '$ops'"
echo "fresh root: base ${t_base}s (cached after the first), make all ${t_all}s, make deps-test ${t_deps}s, run ${t_run}s; total $((SECONDS - t0))s"
echo ok
