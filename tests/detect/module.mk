# tests/detect: libFuzzer target over the console detector (clang only).
#   make fuzz                 open-ended run, corpus in build/fuzz/corpus-detect
#   tests/detect/fuzz.t       bounded run (~60 s) in make check
# Built only when clang's libFuzzer runtime is installed (libclang-rt-*-dev).
FUZZ_DETECT     := build/fuzz/detect-fuzz
FUZZ_DETECT_SRC := tests/detect/fuzz-detect.c harness/detect/detect.c harness/detect/detect-rules.c \
                   harness/detect/detect-summary.c harness/common/util.c
HAVE_LIBFUZZER  := $(if $(wildcard /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a),1)

ifeq ($(HAVE_LIBFUZZER),1)
EXTRA_TARGETS += $(FUZZ_DETECT)
endif

$(FUZZ_DETECT): $(FUZZ_DETECT_SRC) harness/detect/detect.h harness/detect/detect-internal.h harness/common/util.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  FUZZ    $@")
	$(Q)clang -std=gnu11 -g -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -Iharness/detect -Iharness/common \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$(shell pkg-config --cflags json-c) -o $@ $(FUZZ_DETECT_SRC) $(shell pkg-config --libs json-c)

fuzz: $(FUZZ_DETECT)
	@mkdir -p build/fuzz/corpus-detect
	./$(FUZZ_DETECT) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		build/fuzz/corpus-detect tests/detect/fixtures
