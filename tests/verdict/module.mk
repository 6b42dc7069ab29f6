# tests/verdict: kdverdict, the verdict code's test driver (VM merge with recorded inputs,
# the verdict table), linked against the harness libraries; no root, no QEMU.
$(BINDIR)/kdverdict: $(O)/tests/verdict/kdverdict.o $(O)/tests/verdict/table.o $(LIBKDHARN) $(LIBKDCGROUP) $(LIBKDCOMMON)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)
EXTRA_TARGETS += $(BINDIR)/kdverdict
