#!/bin/bash
# The DWARF fix behind the crash vmlinux (harness/vm/dwarf.c): in a program built with
# -g (DWARF 5 and DWARF 4), a struct pid ending in a flexible array grows by one element
# as gdb sees it (48 -> 64), only once; a struct whose flexible array is not at its end
# and other structs are left alone; garbage, a truncated ELF and an ELF without DWARF are
# refused with a message, never a crash (ASan build).
set -u
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
bin=$KDRILL_BIN/kdtest-dwarf
[ -x "$bin" ] || fail "$bin missing (make extra asan)"
command -v gdb >/dev/null || { echo "skip: gdb not installed (mk/ensure-deps test)"; exit 77; }
t=$KDRILL_TMP
cat >"$t/fx.c" <<'C'
struct upid { int nr; void *ns; };
struct pid { int count; unsigned level; long lock; void *tasks[4]; struct upid numbers[]; };
struct other { int n; struct upid numbers[]; };
struct notlast { long a; struct upid numbers[1]; long b; };
struct pid *p1; struct other *p2; struct notlast *p3;
int main(void) { return p1 || p2 || p3; }
C
size() { gdb -nx -batch -ex "p sizeof(struct $2)" "$1" 2>/dev/null | sed -n 's/^\$1 = //p'; }
for dw in 5 4; do
	f=$t/fx-dwarf$dw
	gcc -g -gdwarf-$dw -O0 -o "$f" "$t/fx.c" || fail "gcc -gdwarf-$dw"
	[ "$(size "$f" pid)" = 48 ] || fail "dwarf$dw: fixture struct pid is $(size "$f" pid), expected 48"
	out=$("$bin" "$f" pid numbers) || fail "dwarf$dw: exit $?"
	[ "$out" = "patched 1" ] || fail "dwarf$dw: '$out', expected 'patched 1'"
	[ "$(size "$f" pid)" = 64 ] || fail "dwarf$dw: struct pid is $(size "$f" pid) after the fix, expected 64"
	[ "$(size "$f" other)" = 8 ] || fail "dwarf$dw: struct other changed"
	[ "$(size "$f" upid)" = 16 ] || fail "dwarf$dw: struct upid changed"
	out=$("$bin" "$f" pid numbers) || fail "dwarf$dw: second run exit $?"
	[ "$out" = "patched 0" ] || fail "dwarf$dw: second run '$out', expected 'patched 0'"
	out=$("$bin" "$f" notlast numbers) || fail "dwarf$dw: notlast exit $?"
	[ "$out" = "patched 0" ] || fail "dwarf$dw: numbers[1] in the middle was patched"
	"$f"; [ $? = 0 ] || fail "dwarf$dw: patched program no longer runs"
	ok "DWARF $dw: struct pid 48 -> 64 once, other structs untouched"
done

refuse() { # FILE REGEX
	local out rc
	out=$("$bin" "$1" pid numbers 2>&1); rc=$?
	echo "$out"
	[ $rc = 1 ] || fail "$1: exit $rc, expected 1"
	echo "$out" | grep -Eq "$2" || fail "$1: message does not match /$2/"
}
head -c 65536 /dev/urandom >"$t/garbage"
refuse "$t/garbage" 'not a 64-bit little-endian ELF'
head -c 4096 "$t/fx-dwarf5" >"$t/truncated"
refuse "$t/truncated" 'not a 64-bit little-endian ELF'
gcc -O0 -o "$t/nodebug" "$t/fx.c" && strip "$t/nodebug"
refuse "$t/nodebug" 'uncompressed DWARF'
refuse "$t/missing" 'No such file'
# a corrupted .debug_info: every byte after the first unit header flipped
cp "$t/fx-dwarf5" "$t/corrupt"
# the section's file offset, hex (readelf's "[Nr]" column dropped first: "[ 9]" is two fields)
off=$(readelf -SW "$t/corrupt" | sed 's/^ *\[ *[0-9]*\]//' | awk '$1 == ".debug_info" { print $4 }')
[ -n "$off" ] || fail "no .debug_info offset"
python3 - "$t/corrupt" "$off" <<'P'
import sys
p, off = sys.argv[1], int(sys.argv[2], 16)
b = bytearray(open(p, 'rb').read())
for i in range(off + 12, off + 200):
    b[i] ^= 0xff
open(p, 'wb').write(b)
P
"$bin" "$t/corrupt" pid numbers; rc=$?
[ $rc = 0 ] || [ $rc = 1 ] || fail "corrupt DWARF: exit $rc (crash?)"
ok "garbage, truncated, stripped, missing and corrupt files refused cleanly"
