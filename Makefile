# kdrill — top-level build.  GNU make.
#
#   make            build everything into bin/
#   make check      install missing test packages, build (gcc, clang, ASan+UBSan), run every test
#   make demo       install what is missing, build, fetch the default kernel, build the guest
#                   image, run the seed scenarios, write a report under results/
#   make bench      benchmarks (reproducer ops/s, detector MB/s, runner footprint, boot times)
#   make fuzz       open-ended libFuzzer run over the console detector
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean
#
# Variants are separate object trees: O=build/<variant>, BINDIR=<where programs go>.
# Each area adds its own rules in <area>/module.mk (included below); sources are
# found by convention, so adding a reproducer needs no edit here:
#   repro/lib/*.c            -> $(O)/librepro.a
#   repro/<name>/*.c         -> $(BINDIR)/<name>
#   harness/common/*.c       -> $(O)/libkdcommon.a   (generic helpers: spawn, files, locks,
#                                                     hashing, JSON; used by every layer)
#   cgroups/*.c              -> $(O)/libkdcgroup.a
#   harness/<layer>/*.c      -> $(O)/libkdharness.a  (detect, run, vm, workflow, ...; not cli/main.c)
#   harness/cli/main.c       -> $(BINDIR)/kdrill
# Each harness/<layer>/ directory is on the include path.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= gcc
O       ?= build/default
BINDIR  ?= bin
SAN     ?=
V       ?=

HARNESS_DIRS = $(sort $(patsubst %/,%,$(filter-out harness/scenarios/,$(wildcard harness/*/))))

# The library flags are computed lazily, once, when the first compile or link needs them:
# every object waits (order-only) for `deps`, which installs the -dev packages on a fresh
# machine, so the flags must not be taken when the Makefile is read.
PKGS      := libsystemd json-c inih libcgroup liburing
pkgconf = $(shell pkg-config $(1) $(PKGS))$(if $(filter 0,$(.SHELLSTATUS)),,$(error \
          pkg-config $(1) $(PKGS) failed (missing -dev packages? make deps)))
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(call pkgconf,--cflags))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(call pkgconf,--libs))$(PKG_LIBS)

WARN    := -Wall -Wextra -Werror -Wformat=2 -Wno-format-nonliteral -Wshadow -Wvla
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -pthread \
              $(addprefix -I,$(HARNESS_DIRS)) -Icgroups -Irepro/lib $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -laio -lpthread -lm
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS    += -fsanitize=address,undefined
endif

ifeq ($(V),)
Q := @
else
Q :=
endif

KDRILL_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
ALL_CFLAGS += -DKDRILL_VERSION='"$(KDRILL_VERSION)"'

# ---- source discovery --------------------------------------------------------
REPRO_LIB_SRC := $(wildcard repro/lib/*.c)
REPRO_NAMES   := $(filter-out lib,$(notdir $(patsubst %/,%,$(dir $(wildcard repro/*/*.c)))))
REPRO_NAMES   := $(sort $(REPRO_NAMES))
COMMON_SRC    := $(wildcard harness/common/*.c)
CGROUP_SRC    := $(wildcard cgroups/*.c)
HARNESS_SRC   := $(filter-out harness/cli/main.c harness/common/%,$(wildcard harness/*/*.c))

obj = $(patsubst %.c,$(O)/%.o,$(1))

LIBREPRO    := $(O)/librepro.a
LIBKDCOMMON := $(O)/libkdcommon.a
LIBKDCGROUP := $(O)/libkdcgroup.a
LIBKDHARN   := $(O)/libkdharness.a
KDRILL      := $(BINDIR)/kdrill
REPRO_BINS  := $(addprefix $(BINDIR)/,$(REPRO_NAMES))

PROGS := $(KDRILL) $(REPRO_BINS)

.PHONY: all extra check check-build check-kernels check-tests bench demo fuzz install clean deps deps-test deps-vm \
        asan clang print-%
all: $(PROGS)

$(O)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBREPRO): $(call obj,$(REPRO_LIB_SRC))
$(LIBKDCOMMON): $(call obj,$(COMMON_SRC))
$(LIBKDCGROUP): $(call obj,$(CGROUP_SRC))
$(LIBKDHARN): $(call obj,$(HARNESS_SRC))
$(O)/%.a:
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# One binary per repro/<name>/ directory.
define repro_rule
$(BINDIR)/$(1): $(call obj,$(wildcard repro/$(1)/*.c)) $(LIBREPRO)
	@mkdir -p $$(dir $$@)
	$$(if $$(Q),@echo "  LD      $$@")
	$$(Q)$$(CC) $$(ALL_CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS_ALL)
endef
$(foreach r,$(REPRO_NAMES),$(eval $(call repro_rule,$(r))))

$(KDRILL): $(call obj,harness/cli/main.c) $(LIBKDHARN) $(LIBKDCGROUP) $(LIBKDCOMMON)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

# Areas add programs, test helpers and check/bench steps here.
-include $(sort $(wildcard */module.mk repro/*/module.mk tests/*/module.mk))

-include $(shell find $(O) -name '*.d' 2>/dev/null)

# Helper programs the tests need (EXTRA_TARGETS, added by the module.mk files), built
# for the variant of this make invocation.
extra: $(EXTRA_TARGETS)

# ---- dependencies (Debian packages, listed once in mk/packages.txt) ----------
deps:
	$(Q)./mk/ensure-deps build
deps-test:
	$(Q)./mk/ensure-deps build test
deps-vm:
	$(Q)./mk/ensure-deps build test vm

# ---- variants ----------------------------------------------------------------
asan:
	$(Q)$(MAKE) --no-print-directory O=build/asan BINDIR=build/asan/bin SAN=1 CC=$(CC) all extra
clang:
	$(Q)$(MAKE) --no-print-directory O=build/clang BINDIR=build/clang/bin CC=clang all extra

# ---- check -------------------------------------------------------------------
# gcc release build (used inside the guest and by the VM tests), clang -Werror
# build, and the ASan+UBSan build that the host-side tests run against.
check-build: deps-vm
	$(Q)$(MAKE) --no-print-directory all extra
	$(Q)$(MAKE) --no-print-directory clang
	$(Q)$(MAKE) --no-print-directory asan
# the slim test kernels that vm/builtin-kernel and vm/inject boot (build:stock and the
# injections vm/inject runs): reused from ~/.cache/kdrill/kbuild when current, built on
# a fresh machine (kvm/make-kernels; `make kernels` builds every injection)
CHECK_INJECTIONS = 000 003 004
check-kernels:
	$(Q)./mk/ensure-deps kbuild
	$(Q)mkdir -p build && ./kvm/make-kernels $(addprefix --only ,$(CHECK_INJECTIONS)) \
	    >build/make-kernels.log 2>&1 || { tail -n 40 build/make-kernels.log; exit 1; }
	$(Q)grep -E '^make-kernels: .*(built in|stock:)' build/make-kernels.log || true
check: check-build check-kernels
	$(Q)KDRILL_TOP=$(CURDIR) KDRILL_BIN=$(CURDIR)/build/asan/bin KDRILL_RELBIN=$(CURDIR)/bin \
	    ./tests/run $(T)
check-tests:
	$(Q)KDRILL_TOP=$(CURDIR) KDRILL_BIN=$(CURDIR)/build/asan/bin KDRILL_RELBIN=$(CURDIR)/bin \
	    ./tests/run $(T)

bench: deps-vm all extra
	$(Q)KDRILL_TOP=$(CURDIR) KDRILL_RELBIN=$(CURDIR)/bin ./tests/bench $(B)

demo: deps-vm all
	$(Q)./bin/kdrill demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/kdrill/harness
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	cp -r units kvm $(DESTDIR)$(PREFIX)/share/kdrill/
	cp -r harness/scenarios $(DESTDIR)$(PREFIX)/share/kdrill/harness/

clean:
	rm -rf build bin

print-%:
	@echo '$($*)'
