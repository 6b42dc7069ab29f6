# tests/lava: the root-free unit test of harness/lava/ (job text, job logs), built per
# variant under $(O) (not $(BINDIR): the guest image carries what is in bin/).
LAVA_TEST := $(O)/tests/lava/lava-test
$(LAVA_TEST): $(O)/tests/lava/lava-test.o $(LIBKDHARN) $(LIBKDCGROUP) $(LIBKDCOMMON)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)
EXTRA_TARGETS += $(LAVA_TEST)
