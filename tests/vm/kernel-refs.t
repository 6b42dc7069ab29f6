#!/bin/bash
# build:FLAVOR and inject:NNN[-name][+FLAVOR] refs resolve to what kvm/make-kernels
# published in $KDRILL_CACHE/kbuild (builds/<name>-<key>/ + refs/<name> links).  The
# entries here are laid out by hand, in make-kernels' format, around the Debian cloud
# kernel's real bzImage and config (building the slim kernels takes long; vm/inject.t
# does it for real).  Nothing boots.
#  - build:stock, inject:000 (the number alone), inject:000-ext4-ioend-igrab (full name)
#    and inject:000+debug resolve to their entries, with the config next to the bzImage;
#  - a kernel cached under one ref is shown under the ref asked for (same bytes);
#  - kernel list shows the built refs;
#  - a ref that is not built, a number prefix (inject:00), an ambiguous number, a path in
#    the name: exit 2 with a message naming `make kernels`, and `kdrill run` runs nothing.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

kd kernel show "$VM_KERNEL" >"$KDRILL_TMP/deb" 2>&1 || { cat "$KDRILL_TMP/deb"; fail "kernel show $VM_KERNEL"; }
bz=$(sed -n 's/^vmlinuz: *//p' "$KDRILL_TMP/deb")
cfg=$(sed -n 's/^config: *//p' "$KDRILL_TMP/deb")
rel=$(sed -n 's/^release: *//p' "$KDRILL_TMP/deb")
[ -f "$bz" ] && [ -f "$cfg" ] || fail "no bzImage/config for $VM_KERNEL"

export KDRILL_CACHE=$KDRILL_TMP/cache
kb=$KDRILL_CACHE/kbuild
entry() { # NAME KEY [EXTRA-BYTES]: a published build, refs/NAME -> it
	local d=$kb/builds/$1-$2
	mkdir -p "$d" "$kb/refs"
	cp "$bz" "$d/bzImage"
	# a different bzImage per flavor (trailing bytes after the payload are ignored)
	[ -z "${3-}" ] || printf '%s' "$3" >>"$d/bzImage"
	cp "$cfg" "$d/config"
	echo "$rel" >"$d/kernel.release"
	ln -sfn "../builds/$1-$2" "$kb/refs/$1"
}
entry stock 1111111111111111
entry inject-000-ext4-ioend-igrab 2222222222222222
entry inject-000-ext4-ioend-igrab+debug 3333333333333333 debug
entry inject-001-a 4444444444444444
entry inject-001-b 5555555555555555

show() { # REF -> $KDRILL_TMP/show
	kd kernel show "$1" >"$KDRILL_TMP/show" 2>&1 || { cat "$KDRILL_TMP/show"; fail "kernel show $1: exit $?"; }
	grep -q "^release: *$rel\$" "$KDRILL_TMP/show" || fail "$1: release"
	grep -q '^config: .*/config$' "$KDRILL_TMP/show" || fail "$1: no config found next to the bzImage"
	sed -n 's/^key: *//p' "$KDRILL_TMP/show"
}
k_stock=$(show build:stock) || exit 1
k0=$(show inject:000) || exit 1
k0full=$(show inject:000-ext4-ioend-igrab) || exit 1
# the same bytes, cached under inject:000 first: shown (and recorded in runs) as asked
grep -q '^ref: *inject:000-ext4-ioend-igrab$' "$KDRILL_TMP/show" || { grep ref: "$KDRILL_TMP/show"; fail "ref of a cached kernel"; }
k0dbg=$(show inject:000+debug) || exit 1
echo "build:stock $k_stock; inject:000 $k0; inject:000+debug $k0dbg"
[ "$k0" = "$k0full" ] || fail "inject:000 and inject:000-ext4-ioend-igrab differ"
[ "$k0dbg" != "$k0" ] || fail "inject:000+debug resolved to the release build"
grep -q '^source: *path .*/kbuild/builds/inject-000-ext4-ioend-igrab+debug-3333333333333333/bzImage$' "$KDRILL_TMP/show" ||
	{ grep source "$KDRILL_TMP/show"; fail "inject:000+debug: wrong entry"; }

kd kernel list >"$KDRILL_TMP/list" 2>&1 || fail "kernel list"
cat "$KDRILL_TMP/list"
grep -Eq "^  build:stock +$rel +$kb/builds/stock-1111111111111111\$" "$KDRILL_TMP/list" || fail "list: build:stock"
grep -Eq "^  inject:000-ext4-ioend-igrab\+debug +$rel " "$KDRILL_TMP/list" || fail "list: inject:000+debug"

usage() { # REF MESSAGE-ERE
	local rc
	kd kernel show "$1" >"$KDRILL_TMP/err" 2>&1
	rc=$?
	cat "$KDRILL_TMP/err"
	[ $rc = 2 ] || fail "$1: exit $rc, expected 2"
	grep -Eq "$2" "$KDRILL_TMP/err" || fail "$1: message does not match /$2/"
}
usage build:debug 'build:debug: not built \(make kernels KERNELS_DEBUG=1\)'
usage inject:002 'inject:002: not built \(make kernels;'
usage inject:00 'inject:00: not built'
usage inject:001 'inject:001: ambiguous \(inject-001-[ab], inject-001-[ab]\)'
usage inject:001-a+debug 'not built \(make kernels KERNELS_DEBUG=1;'
usage build:../refs/stock 'expected build:stock, build:debug or inject:NNN'

kd run --kernel inject:002 --out "$KDRILL_TMP/res" aio-dio-unlink >"$KDRILL_TMP/run" 2>&1
rc=$?
cat "$KDRILL_TMP/run"
[ $rc = 2 ] || fail "run --kernel inject:002: exit $rc, expected 2"
[ -z "$(ls -A "$KDRILL_TMP/res" 2>/dev/null)" ] || fail "run --kernel inject:002 ran something"
echo ok
