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

# kvm/lava/: a real local LAVA instance for kdrill's LAVA jobs (docs/lava.md).
#   make lava-lab        install the lava group of mk/packages.txt, start the lab (idempotent)
#   make lava-lab-down   stop what lava-lab started
#   make check-lava      the lab, then tests/lava/ (which make check skips without LAVA)
.PHONY: lava-lab lava-lab-down check-lava
lava-lab:
	$(Q)./kvm/lava/lava-lab up
lava-lab-down:
	$(Q)./kvm/lava/lava-lab down
check-lava: check-build lava-lab
	$(Q)KDRILL_TOP=$(CURDIR) KDRILL_BIN=$(CURDIR)/build/asan/bin KDRILL_RELBIN=$(CURDIR)/bin \
	    ./tests/run lava/
