# kvm/: slim kdrill test kernels from Debian's linux-source-6.1, with everything the guest
# needs built in (kvm/build-kernel, kvm/slim.config + kvm/kdrill.config;
# ~/.cache/kdrill/kbuild, never in the tree).
#   make kernel-tree   the stock object tree (boot it with --kernel tree:DIR, path:DIR/...)
#   make kernels       build:stock + one inject:NNN kernel per kvm/inject/NNN-*.patch
#                      (KERNELS_DEBUG=1: also build:debug and inject:NNN+debug)
.PHONY: kernel-tree kernels
kernel-tree:
	$(Q)./kvm/build-kernel
kernels:
	$(Q)./kvm/make-kernels $(if $(filter 1,$(KERNELS_DEBUG)),--debug)
