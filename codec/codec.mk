# codec/: libtofu-codec, its tests, its big-endian run and its benchmark.

CODEC_SRCS := codec/src/header.c codec/src/frame.c codec/src/textheaders.c \
	      codec/src/address.c codec/src/wire_gen.c
CODEC_TESTS := header frame textheaders address names
CODEC_HDRS := codec/include/tofu/codec.h

# Static library per variant: $(BUILD)/<v>/libtofu-codec.a
define codec_lib
$(BUILD)/$(1)/libtofu-codec.a: $(patsubst %.c,$(BUILD)/$(1)/%.o,$(CODEC_SRCS))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach v,rel asan tsan,$(eval $(call codec_lib,$(v))))

CODEC_LIB      := $(BUILD)/rel/libtofu-codec.a
CODEC_LIB_ASAN := $(BUILD)/asan/libtofu-codec.a
CODEC_LIB_TSAN := $(BUILD)/tsan/libtofu-codec.a

# Unit tests (cmocka), built with ASan+UBSan. codec/test/<m>_test.c
CODEC_TEST_BINS := $(patsubst %,$(BUILD)/asan/codec/test/%_test,$(CODEC_TESTS))
$(BUILD)/asan/codec/test/%_test: $(BUILD)/asan/codec/test/%_test.o $(BUILD)/asan/codec/test/testutil.o $(CODEC_LIB_ASAN)
	$(CC) $(VARIANT_LDFLAGS_asan) -o $@ $^ -lcmocka

.PHONY: test-codec test-be valgrind-codec bench-codec regen-ragel regen-check-ragel
test-codec: $(CODEC_TEST_BINS)
	@set -e; for t in $^; do echo "== $$t"; TOFU_VECTORS_DIR=$(abspath ../shared/interop) $$t; done

# Big-endian: the same tests cross-built for s390x and run under qemu-user.
BE_CC   ?= s390x-linux-gnu-gcc
# -L /: the multiarch s390x libc that libcmocka0:s390x was built against.
BE_QEMU ?= qemu-s390x -L /
BE_DIR  := $(BUILD)/s390x
$(BE_DIR)/inc/cmocka.h:
	@mkdir -p $(dir $@)
	ln -sf /usr/include/cmocka.h $@
$(BE_DIR)/codec/test/%_test: codec/test/%_test.c codec/test/testutil.c $(CODEC_SRCS) $(CODEC_HDRS) codec/test/testutil.h $(BE_DIR)/inc/cmocka.h
	@mkdir -p $(dir $@)
	$(BE_CC) $(CFLAGS_BASE) -O1 -I$(BE_DIR)/inc -o $@ $< codec/test/testutil.c $(CODEC_SRCS) \
		-L/usr/lib/s390x-linux-gnu -Wl,-rpath-link,/usr/lib/s390x-linux-gnu -lcmocka
test-be: $(patsubst %,$(BE_DIR)/codec/test/%_test,$(CODEC_TESTS))
	@set -e; for t in $^; do echo "== (s390x, big-endian) $$t"; \
		TOFU_VECTORS_DIR=$(abspath ../shared/interop) $(BE_QEMU) $$t; done

valgrind-codec: $(patsubst %,$(BUILD)/rel/codec/test/%_test,$(CODEC_TESTS))
	@set -e; for t in $^; do TOFU_VECTORS_DIR=$(abspath ../shared/interop) \
		valgrind -q --error-exitcode=1 --leak-check=full $$t >/dev/null; echo "valgrind clean: $$t"; done
$(BUILD)/rel/codec/test/%_test: $(BUILD)/rel/codec/test/%_test.o $(BUILD)/rel/codec/test/testutil.o $(CODEC_LIB)
	$(CC) -o $@ $^ -lcmocka

# Text headers: Ragel grammar beside its generated C (both committed).
# -G2: goto-driven code; -L: no #line directives. Ragel still writes
# "/* #line N "<output>" */" comments naming its output file; they are
# dropped so that the output does not depend on where it was written.
RAGEL_FLAGS := -G2 -L
ragel_gen = $(RAGEL) $(RAGEL_FLAGS) -o $(2).tmp $(1) && sed '/^\/\* \#line [0-9]* ".*" \*\/$$/d' $(2).tmp > $(2) && rm -f $(2).tmp
codec/src/textheaders.c: codec/src/textheaders.rl
	$(call ragel_gen,$<,$@)
regen-ragel:
	$(call ragel_gen,codec/src/textheaders.rl,codec/src/textheaders.c)
regen-check-ragel:
	@mkdir -p $(BUILD)
	@$(call ragel_gen,codec/src/textheaders.rl,$(BUILD)/textheaders.c.check)
	@diff -q codec/src/textheaders.c $(BUILD)/textheaders.c.check >/dev/null || \
		{ echo "regen-check: codec/src/textheaders.c differs from ragel output of textheaders.rl (run make regen)"; exit 1; }
	@echo "regen-check: ragel output current"

# Benchmark: header encode/decode, text-header parse vs a memchr scan.
$(BUILD)/rel/bench/codec_bench: $(BUILD)/rel/bench/codec_bench.o $(CODEC_LIB)
	$(CC) -o $@ $^ -lm
bench-codec: $(BUILD)/rel/bench/codec_bench
	$<

ALL += $(CODEC_LIB)
TESTS += test-codec test-be valgrind-codec
BENCHES += bench-codec
REGEN += regen-ragel
REGEN_CHECKS += regen-check-ragel
FORMAT_SRCS += codec/src/header.c codec/src/frame.c codec/src/address.c \
	       $(wildcard codec/test/*.c codec/test/*.h) $(wildcard bench/codec_bench.c)

# The same tests built by clang (the default CC is gcc): both must be clean.
test-codec-clang:
	$(MAKE) --no-print-directory CC=$(CLANG) BUILD=$(BUILD)/clang test-codec
TESTS += test-codec-clang
.PHONY: test-codec-clang

# WIRE-11.3.1 for the built library: no allocator, no I/O, no writable
# global data. Only these libc symbols may be imported.
CODEC_ALLOWED_IMPORTS := memcpy memchr memcmp memset strlen
check-codec-isolation: $(CODEC_LIB)
	@bad=$$(nm -u $(CODEC_LIB) | awk '/ U /{print $$2}' | sort -u | grep -v '^tofu_' | grep -vxE '$(subst $(eval) ,|,$(CODEC_ALLOWED_IMPORTS))'); \
	if [ -n "$$bad" ]; then echo "check-codec-isolation: codec imports $$bad"; exit 1; fi
	@data=$$(size -A $(CODEC_LIB) | awk '$$1 ~ /^\.(data|bss)/ && $$1 !~ /^\.data\.rel\.ro/ && $$2 > 0 {print FILENAME": "$$1" "$$2}'); \
	if [ -n "$$data" ]; then echo "check-codec-isolation: writable global data: $$data"; exit 1; fi
	@echo "check-codec-isolation: imports only $(CODEC_ALLOWED_IMPORTS); no .data/.bss"

# Every requirement of the codec profile (WIRE-11.1) is cited by a codec test.
check-codec-reqs:
	$(PYTHON) tools/req_coverage.py --profile codec codec/test/*.c

TESTS += check-codec-isolation check-codec-reqs
.PHONY: check-codec-isolation check-codec-reqs
