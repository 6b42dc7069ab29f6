# shellcheck shell=bash
# tests/lib/vm.sh — helpers for tests that boot the guest under QEMU.
#
#   . "$KDRILL_TOP/tests/lib/vm.sh"
#   vm_require          exit 77 (skip, reason on the last line) unless root, qemu, the
#                       release kdrill ($KDRILL_RELBIN/kdrill, copied into the guest) and
#                       the ASan kdrill ($KDRILL_BIN/kdrill) are there
#   VM_KERNEL           the kernel ref the VM tests use (KDRILL_TEST_KERNEL overrides;
#                       default debian:6.1.0-54-cloud-amd64, fetched into the cache)
#   kd ARGS...          run the ASan kdrill with KDRILL_DATA=$KDRILL_TOP
#   json FILE FILTER    jq -r FILTER FILE
#   vm_run_expect REF OUT SCENARIO EXIT VERDICT [RUN-ARGS...]
#                       kd run --kernel REF --out OUT RUN-ARGS SCENARIO (output in
#                       $KDRILL_TMP/SCENARIO.log); fail unless it exits EXIT with VERDICT;
#                       sets $v to the run directory
#
# The kernel and the guest image are cached under ~/.cache/kdrill (KDRILL_CACHE): the
# first run downloads the kernel and runs debootstrap (~2 min); later runs reuse them.

VM_KERNEL=${KDRILL_TEST_KERNEL:-debian:6.1.0-54-cloud-amd64}
export KDRILL_DATA=$KDRILL_TOP

vm_require() {
	if [ "$(id -u)" != 0 ]; then echo "skip: needs root (debootstrap, mkfs.ext4 -d)"; exit 77; fi
	local t
	for t in qemu-system-x86_64 debootstrap mkfs.ext4 cpio busybox jq; do
		command -v "$t" >/dev/null 2>&1 || { echo "skip: $t not installed (make deps-vm)"; exit 77; }
	done
	[ -x "$KDRILL_RELBIN/kdrill" ] || { echo "skip: no release build in $KDRILL_RELBIN (make all)"; exit 77; }
	[ -x "$KDRILL_BIN/kdrill" ] || { echo "skip: no $KDRILL_BIN/kdrill (make asan)"; exit 77; }
}

kd() {
	"$KDRILL_BIN/kdrill" "$@"
}

json() {
	jq -r "$2" "$1"
}

fail() {
	echo "FAIL: $*"
	exit 1
}

vm_run_expect() {
	local ref=$1 out=$2 sc=$3 want_rc=$4 want=$5 rc
	shift 5
	kd run --kernel "$ref" --out "$out" --boot-timeout 180 "$@" "$sc" >"$KDRILL_TMP/$sc.log" 2>&1
	rc=$?
	grep -v '^  \[vm\]' "$KDRILL_TMP/$sc.log"
	[ "$rc" = "$want_rc" ] || fail "$sc: exit $rc, expected $want_rc"
	v=$(ls -d "$out"/*-"${sc/:/.}"[.-]*/ | tail -n 1)
	[ "$(json "$v/verdict.json" .verdict)" = "$want" ] ||
		fail "$sc: verdict $(json "$v/verdict.json" .verdict), expected $want: $(json "$v/verdict.json" .reason)"
}

# kernels_current NNN...: 0 when build:stock and inject:NNN are published and each
# published injection carries the very patch of kvm/inject/NNN-*.patch, so that
# kvm/make-kernels (which waits for the shared source tree's lock, held for an hour by a
# debug-flavor build) has nothing to do.
kernels_current() {
	local refs=${KDRILL_CACHE:-$HOME/.cache/kdrill}/kbuild/refs n p
	[ -f "$refs/stock/bzImage" ] || return 1
	for n in "$@"; do
		for p in "$KDRILL_TOP"/kvm/inject/"$n"-*.patch; do
			[ -f "$p" ] || return 1
			cmp -s "$p" "$refs/inject-$(basename "$p" .patch)/$(basename "$p")" || return 1
		done
	done
}
