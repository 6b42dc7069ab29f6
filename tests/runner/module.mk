# tests/runner: unit test of the hostile-input file and duration helpers (util.c).
# Built next to the variant's objects, not into bin/ (it has no place in the guest image).
$(O)/tests/runner/safe-io-test: $(O)/tests/runner/safe-io.o $(LIBKDHARN) $(LIBKDCOMMON)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)
EXTRA_TARGETS += $(O)/tests/runner/safe-io-test
