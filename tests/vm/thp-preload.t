#!/bin/bash
# kvm/thp-preload.c, which kvm/kbuild-make preloads into the kernel build: it compiles
# warning-free with gcc and clang, and under it
#  - an anonymous private mapping of >= 2 MiB starts at a 2 MiB boundary, has the length
#    asked for (the alignment slack is unmapped) and is advised MADV_HUGEPAGE ("hg" in
#    its VmFlags);
#  - a small one, a shared one and a file mapping are left as they were (no "hg");
#  - both names are interposed: mmap (gcc's cc1) and mmap64 (Python, built with
#    _FILE_OFFSET_BITS=64);
#  - a program runs the same under it (a compiler builds the same object, byte for byte).
set -u
fail() {
	echo "FAIL: $*"
	exit 1
}
py=/usr/bin/python3 # Debian's, whatever python3 comes first in PATH
[ -x $py ] || {
	echo "skip: no $py"
	exit 77
}
so=$KDRILL_TMP/thp.so
for cc in gcc clang; do
	command -v $cc >/dev/null || continue
	$cc -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC -o "$so" "$KDRILL_TOP/kvm/thp-preload.c" -ldl ||
		fail "$cc: thp-preload.c does not compile cleanly"
done

cat >"$KDRILL_TMP/maps.py" <<'EOF'
import ctypes, mmap, os, sys
HP = 2 << 20
def vma(addr):
    """the smaps entry (start, end, VmFlags) of the mapping holding addr"""
    cur = None
    for line in open("/proc/self/smaps"):
        f = line.split()
        if "-" in f[0] and len(f) >= 5 and not f[0].endswith(":"):
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            cur = (lo, hi) if lo <= addr < hi else None
        elif cur and line.startswith("VmFlags:"):
            return cur[0], cur[1], f[1:]
    sys.exit("no mapping holds %#x" % addr)
def addr(m):
    return ctypes.addressof(ctypes.c_char.from_buffer(m))
out = []
for name, size, flags, fd in (("big", 8 << 20, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1),
                              ("small", 1 << 20, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1),
                              ("shared", 8 << 20, mmap.MAP_SHARED | mmap.MAP_ANONYMOUS, -1),
                              ("file", 8 << 20, mmap.MAP_PRIVATE, os.open(sys.argv[1], os.O_RDWR))):
    m = mmap.mmap(fd, size, flags=flags)
    m[0:1] = b"x"
    a = addr(m)
    lo, hi, vf = vma(a)
    out.append("%s aligned=%d hg=%d" % (name, a % HP == 0, "hg" in vf))
    if name == "big":
        # unmapped, nothing advised is left behind: the alignment slack was unmapped
        m.close()
        left = [l for l in open("/proc/self/smaps") if l.split()[0].count("-") == 1
                and not l.split()[0].endswith(":")]
        over = []
        for l in left:
            lo, hi = (int(x, 16) for x in l.split()[0].split("-"))
            if lo < a + size + HP and hi > a - HP:
                over.append((lo, hi))
        out.append("big-left=%d" % sum(1 for lo, hi in over if "hg" in vma(lo)[2]))
print(" ".join(out))
EOF
truncate -s 8M "$KDRILL_TMP/file"
got=$(LD_PRELOAD=$so $py "$KDRILL_TMP/maps.py" "$KDRILL_TMP/file") || fail "python3 under the preload: $got"
echo "preloaded: $got"
for want in "big aligned=1 hg=1" "big-left=0" "small aligned=. hg=0" "shared aligned=. hg=0" "file aligned=. hg=0"; do
	echo "$got" | grep -Eq "(^| )$want( |$)" || fail "want '$want' in '$got'"
done
plain=$($py "$KDRILL_TMP/maps.py" "$KDRILL_TMP/file") || fail "python3: $plain"
echo "plain:     $plain"
echo "$plain" | grep -q 'big aligned=. hg=0' || fail "without the preload the big mapping is advised: $plain"

# a compiler's output is the same under it
printf 'int f(int x) { return x * 3 + 1; }\n' >"$KDRILL_TMP/a.c"
gcc -O2 -c -o "$KDRILL_TMP/a0.o" "$KDRILL_TMP/a.c" || fail "gcc"
LD_PRELOAD=$so GLIBC_TUNABLES=glibc.malloc.hugetlb=1 gcc -O2 -c -o "$KDRILL_TMP/a1.o" "$KDRILL_TMP/a.c" ||
	fail "gcc under the preload"
cmp "$KDRILL_TMP/a0.o" "$KDRILL_TMP/a1.o" || fail "gcc built a different object under the preload"
echo ok
