# tests/cgroups: load helper for the cgroup tests (memory hog, bounded fork bomb, sleeper).
# Built per variant like any program; also lands in the guest image (bin/*).
$(BINDIR)/kdcg-hog: $(O)/tests/cgroups/kdcg-hog.o
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^
EXTRA_TARGETS += $(BINDIR)/kdcg-hog
