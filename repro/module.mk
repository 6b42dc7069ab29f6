# repro/module.mk — reproducers link librepro.a and the shared common library (harness/common).
# (Prerequisites added here are appended to the link line after librepro.a.)
$(REPRO_BINS): $(LIBKDCOMMON)
