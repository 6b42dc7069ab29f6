# tests/vm: kdtest-dwarf runs the DWARF struct-size fix of harness/vm/dwarf.c (the crash
# vmlinux, harness/vm/vmcore.h) on any ELF file: tests/vm/dwarf-flex.t.
$(BINDIR)/kdtest-dwarf: $(O)/tests/vm/kdtest-dwarf.o $(LIBKDHARN) $(LIBKDCOMMON)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)
EXTRA_TARGETS += $(BINDIR)/kdtest-dwarf

# memcg-oom-ref: the yardstick of tests/vm/memcg-oom.bench (OOM kills/s the kernel can give
# in one memcg; tests/vm/memcg-oom-ref.ini).  A reproducer program, so it lives in bin/ where
# the runner (and the guest image) finds reproducers.
$(BINDIR)/memcg-oom-ref: $(O)/tests/vm/memcg-oom-ref.o $(LIBREPRO) $(LIBKDCOMMON)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)
EXTRA_TARGETS += $(BINDIR)/memcg-oom-ref

# hang-grace: the watcher's sysrq-w timing after a hang report (harness/vm/hanggrace.c).
$(O)/tests/vm/hang-grace-test: $(O)/tests/vm/hang-grace.o $(LIBKDHARN) $(LIBKDCOMMON)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)
EXTRA_TARGETS += $(O)/tests/vm/hang-grace-test

# guest-clock: the run timeout stretched by the guest's clock rate (harness/vm/guestclock.c).
$(O)/tests/vm/guest-clock-test: $(O)/tests/vm/guest-clock.o $(LIBKDHARN) $(LIBKDCOMMON)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)
EXTRA_TARGETS += $(O)/tests/vm/guest-clock-test
