# tests/workflow: root-free unit tests and simulators of the workflow layer
# (harness/workflow/: statistics, validate decisions, bisection posterior).  One program
# per tests/workflow/<name>.c, named wf-<name>, built per variant.
WF_TEST_NAMES := $(basename $(notdir $(wildcard tests/workflow/*.c)))
define wf_test_rule
$(BINDIR)/wf-$(1): $(O)/tests/workflow/$(1).o $(LIBKDHARN) $(LIBKDCGROUP) $(LIBKDCOMMON)
	@mkdir -p $$(dir $$@)
	$$(if $$(Q),@echo "  LD      $$@")
	$$(Q)$$(CC) $$(ALL_CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS_ALL)
EXTRA_TARGETS += $(BINDIR)/wf-$(1)
endef
$(foreach t,$(WF_TEST_NAMES),$(eval $(call wf_test_rule,$(t))))
