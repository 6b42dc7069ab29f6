# tests/vm: kdtest-dwarf runs the DWARF struct-size fix of harness/vm/dwarf.c (the crash
# vmlinux, harness/vm/vmcore.h) on any ELF file: tests/vm/dwarf-flex.t.
$(BINDIR)/kdtest-dwarf: $(O)/tests/vm/kdtest-dwarf.o $(LIBKDHARN) $(LIBKDCOMMON)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)
EXTRA_TARGETS += $(BINDIR)/kdtest-dwarf
