# tests/verdict: kdverdict, the test driver of the harness's pure code (VM merge with recorded
# inputs, the verdict table, the JSON-lines reader and the run request), linked against the harness
# libraries; no root, no QEMU.
$(BINDIR)/kdverdict: $(O)/tests/verdict/kdverdict.o $(O)/tests/verdict/table.o $(O)/tests/verdict/proto.o $(LIBKDHARN) $(LIBKDCGROUP) $(LIBKDCOMMON)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)
EXTRA_TARGETS += $(BINDIR)/kdverdict
