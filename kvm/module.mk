# kvm/: a kdrill test kernel with everything the guest needs built in, from Debian's
# linux-source-6.1 (kvm/build-kernel; ~/.cache/kdrill/kbuild, never in the tree).  Boot it
# with `kdrill run --kernel tree:DIR` or `--kernel path:DIR/arch/x86/boot/bzImage`.
.PHONY: kernel-tree
kernel-tree:
	$(Q)./kvm/build-kernel
