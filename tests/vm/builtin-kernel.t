#!/bin/bash
# The slim kernel built here with everything the guest needs built in (kvm/build-kernel,
# `make kernel-tree`: linux-source-6.1, allnoconfig + kvm/kdrill.config + kvm/slim.config,
# null_blk (+ what it selects) as the one module; an O= object tree):
#  - `kernel show` finds every option of kvm/kdrill.config, except those kvm/slim.config
#    leaves out (XFS): exactly those are MISSING, none fatal; PVPANIC_MMIO (found through
#    ACPI, which the slim kernel has not) is served by its "#or:", PVPANIC_PCI;
#  - the guest has both CPUs (qboot's MP table) and its run ends in a reset;
#  - `--kernel path:TREE/arch/x86/boot/bzImage` alone (config found from the tree): the
#    guest boots with no initramfs and no modules disk, root=/dev/vda; a short seed -> PASS
#    with reproducer counters > 0;
#  - `--kernel tree:TREE`: `make modules_install` into the cache (null_blk.ko installed and
#    depmod'ed), initramfs + modules disk; the same seed -> PASS;
#  - hang-selftest -> HANG with the jbd2 commit thread in the summary, crash-selftest -> BUG
#    through the built-in pvpanic_pci, and no failed modprobe in the guest journal.
# Skips (77) unless the kernel is built (make kernel-tree); KDRILL_BUILD_KERNEL=1 builds it
# first.
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

if [ "${KDRILL_BUILD_KERNEL-}" = 1 ]; then
	t0=$(date +%s)
	tree=$("$KDRILL_TOP/kvm/build-kernel") || fail "kvm/build-kernel failed" # stdout: the tree only
	echo "kernel ready in $(($(date +%s) - t0)) s"
elif ! tree=$("$KDRILL_TOP/kvm/build-kernel" --path); then
	echo "skip: the kdrill test kernel is not built; build it with: make kernel-tree (or KDRILL_BUILD_KERNEL=1 ./tests/run vm/builtin-kernel)"
	exit 77
fi
bz=$tree/arch/x86/boot/bzImage
release=$(cat "$tree/include/config/kernel.release")
out=$KDRILL_TMP/res
seed=dio-unwritten

# -- kernel show: every fragment option there, the config found from the tree ----------
kd kernel show "path:$bz" >"$KDRILL_TMP/show-path" 2>&1 || { cat "$KDRILL_TMP/show-path"; fail "kernel show path: exit $?"; }
grep -E 'release|modules:|config:|summary' "$KDRILL_TMP/show-path"
grep -q "^release: *$release\$" "$KDRILL_TMP/show-path" || fail "kernel show: release is not $release"
grep -q '^config: .*/config$' "$KDRILL_TMP/show-path" || fail "kernel show path:: no config found from the tree"
grep -q '^modules: *none' "$KDRILL_TMP/show-path" || fail "path: without modules= has modules"
# the options of kdrill.config that slim.config leaves out, and only those, are missing;
# one with an "#or:" alternative that the kernel has is not (PVPANIC_MMIO: PVPANIC_PCI)
with_or=$(awk '/^#or: /{alt=1; next} /^CONFIG_/{if (alt) print substr($0, 1, index($0, "=") - 1); alt=0}' \
	"$KDRILL_TOP/kvm/kdrill.config")
left_out=$(sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' "$KDRILL_TOP/kvm/slim.config" |
	grep -Fxf <(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$/\1/p' "$KDRILL_TOP/kvm/kdrill.config") |
	grep -Fxvf <(echo "$with_or") | sort)
grep -Eq '^ *CONFIG_PVPANIC_MMIO +y \(CONFIG_PVPANIC_PCI\)$' "$KDRILL_TMP/show-path" ||
	fail "kernel show: PVPANIC_MMIO is not served by PVPANIC_PCI: $(grep PVPANIC_MMIO "$KDRILL_TMP/show-path")"
n_out=$(printf '%s' "$left_out" | grep -c .)
got=$(sed -n 's/^ *\(CONFIG_[A-Z0-9_]*\) .*MISSING.*/\1/p' "$KDRILL_TMP/show-path" | sort)
[ "$got" = "$left_out" ] || fail "kernel show: missing '$got', want the options slim.config leaves out: '$left_out'"
grep -E '^ *CONFIG_.*unknown' "$KDRILL_TMP/show-path" && fail "kernel show: options unknown"
grep -Eq "^summary: *[1-9][0-9]* built in, 0 modules, $n_out missing \(0 fatal\), 0 unknown" "$KDRILL_TMP/show-path" ||
	fail "kernel show: summary"

check_pass() { # label kind -> run dir on stdout
	local v
	v=$(ls -d "$out"/*-"$seed"-*/ | tail -n 1)
	[ -n "$v" ] || fail "$1: no run dir"
	[ "$(json "$v/verdict.json" .verdict)" = PASS ] ||
		fail "$1: verdict $(json "$v/verdict.json" .verdict): $(json "$v/verdict.json" .reason)"
	[ "$(json "$v/verdict.json" .mode)" = vm ] || fail "$1: mode"
	[ "$(json "$v/verdict.json" .kernel.release)" = "$release" ] || fail "$1: guest ran $(json "$v/verdict.json" .kernel.release)"
	[ "$(json "$v/verdict.json" .counters.ops)" -gt 0 ] 2>/dev/null || fail "$1: ops = $(json "$v/verdict.json" .counters.ops)"
	grep -q "Linux version $release" "$v/console.log" || fail "$1: console.log is not the kernel's"
	echo "$v"
}

run_seed() { # REF LABEL -> the run dir in $v
	kd run --kernel "$1" --out "$out" --boot-timeout 180 --duration 10 --param fio=0 "$seed" \
		>"$KDRILL_TMP/$2.log" 2>&1
	local rc=$?
	grep -v '^  \[vm\]' "$KDRILL_TMP/$2.log"
	[ $rc = 0 ] || fail "$2: exit $rc"
	v=$(check_pass "$2:") || { echo "$v"; exit 1; }
}

# -- path:bzImage alone: no initramfs, no modules disk ---------------------------------
t0=$(date +%s)
run_seed "path:$bz" path
grep -q -- ' -initrd ' "$v/qemu.cmdline" && fail "path: booted with an initramfs"
grep -q 'serial=kdmods' "$v/qemu.cmdline" && fail "path: booted with a modules disk"
grep -q 'Kernel command line:.* root=/dev/vda' "$v/console.log" || fail "path: root= not on the command line"
grep -Eq 'Unpacking initramfs|unpack rootfs image as initramfs' "$v/console.log" && fail "path: the kernel unpacked an initramfs"
# no ACPI: the CPUs come from qboot's MP table (SeaBIOS's would list one), the run ends in
# a reset (QEMU -no-reboot), not in a panic of a dying init
grep -q 'smp: Brought up 1 node, 2 CPUs' "$v/console.log" || fail "path: the guest did not get 2 CPUs: $(grep -a 'smp: Brought' "$v/console.log")"
grep -q 'reboot: Restarting system' "$v/console.log" || fail "path: the run did not end in a reset"
grep -q 'Attempted to kill init' "$v/console.log" && fail "path: init died at the end of the run"
echo "path: PASS ops $(json "$v/verdict.json" .counters.ops), agent ready $(json "$v/verdict.json" .vm.t_ready_s) s, $(($(date +%s) - t0)) s"
mv "$v" "$KDRILL_TMP/run-path"

# -- tree: modules_install into the cache (fresh: drop this tree's cache entry first) ---
kd kernel show "tree:$tree" >"$KDRILL_TMP/show-tree" 2>&1 || { cat "$KDRILL_TMP/show-tree"; fail "kernel show tree: exit $?"; }
kdir=$(sed -n 's|^vmlinuz: *\(.*\)/vmlinuz$|\1|p' "$KDRILL_TMP/show-tree")
{ [ -n "$kdir" ] && [ -f "$kdir/kernel.json" ]; } || fail "tree: no cache entry ($kdir)"
rm -rf "$kdir"
kd kernel show "tree:$tree" >"$KDRILL_TMP/show-tree" 2>&1 || { cat "$KDRILL_TMP/show-tree"; fail "kernel show tree: exit $?"; }
grep -E 'source|modules:|config:|summary' "$KDRILL_TMP/show-tree"
grep -Eq "^modules: *$kdir/lib/modules/$release \([1-9][0-9]* modules\)" "$KDRILL_TMP/show-tree" || fail "tree: modules"
ko=$(find "$kdir/lib/modules/$release" -name null_blk.ko)
[ -n "$ko" ] || fail "tree: modules_install did not install null_blk.ko"
grep -q 'null_blk.ko:' "$kdir/lib/modules/$release/modules.dep" || fail "tree: null_blk not in modules.dep"
grep -Eq "^summary: .* $n_out missing \(0 fatal\), 0 unknown" "$KDRILL_TMP/show-tree" || fail "kernel show tree: summary"

t0=$(date +%s)
run_seed "tree:$tree" tree
grep -q 'serial=kdmods' "$v/qemu.cmdline" || fail "tree: no modules disk"
echo "tree: PASS ops $(json "$v/verdict.json" .counters.ops), agent ready $(json "$v/verdict.json" .vm.t_ready_s) s, $(($(date +%s) - t0)) s"

# -- the hang and crash pipelines with everything built in (dm, pvpanic: no modprobe) --
vm_run_expect "path:$bz" "$out" hang-selftest 1 HANG
json "$v/verdict.json" .hang_summary | grep -q 'the jbd2 commit thread' || fail "hang-selftest: no jbd2 commit thread in the summary"
grep -q 'modprobe .* failed' "$v/journal.txt" && fail "hang-selftest: the agent's modprobe failed on a built-in kernel"
vm_run_expect "path:$bz" "$out" crash-selftest 1 BUG
grep -q 'GUEST_PANICKED' "$v/console-ts.log" || fail "crash-selftest: no pvpanic event (built-in pvpanic_pci)"
echo ok
