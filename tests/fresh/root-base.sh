#!/bin/bash
# tests/fresh/root-base.sh — print the path of a pristine Debian 12 root made with
# `debootstrap --variant=minbase bookworm` (plus make, which a user needs to type
# `make`), building it once.  It stands for "a fresh Debian 12 machine": no compiler,
# no -dev package, no pkg-config.  Cached, like the guest image, under
# $KDRILL_CACHE/fresh/root-<sha256 of this file>/root (default ~/.cache/kdrill), so
# any change to this recipe makes a new root; a lock makes concurrent callers wait
# for the one that builds.  The mirror is the one this machine's apt uses
# (KDRILL_MIRROR overrides), like kvm/image-base.sh.  Callers must not write into the
# cached root: mount an overlay over it or copy it.
set -euo pipefail
SUITE=bookworm
INCLUDE=make

cache=${KDRILL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kdrill}
key=$(sha256sum "$0" | cut -c1-16)
dir=$cache/fresh/root-$key
mkdir -p "$cache/fresh"
exec 9>"$cache/fresh/.lock"
flock 9
if [ -x "$dir/root/usr/bin/make" ] && [ -e "$dir/done" ]; then
	echo "$dir/root"
	exit 0
fi

mirror=${KDRILL_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi
rm -rf "$dir"
mkdir -p "$dir"
echo "root-base: debootstrap --variant=minbase $SUITE from $mirror into $dir/root" >&2
t0=$SECONDS
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$dir/root.tmp" "$mirror" \
	>"$dir/debootstrap.log" 2>&1 || { tail -n 20 "$dir/debootstrap.log" >&2; exit 1; }
rm -f "$dir"/root.tmp/var/cache/apt/archives/*.deb
mv "$dir/root.tmp" "$dir/root"
echo "$((SECONDS - t0))" >"$dir/done"
echo "root-base: done in $((SECONDS - t0)) s ($(du -sm "$dir/root" | cut -f1) MB)" >&2
echo "$dir/root"
