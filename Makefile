# tofu-c top-level Makefile.
#
#   make               build every library, testee and example (release)
#   make test          everything CI runs (regen-check, unit tests under
#                      ASan+UBSan, big-endian tests, fuzz smoke, interop,
#                      conformance)
#   make conform       the conformance suite against our implementation
#   make bench         benchmarks, each beside its baseline
#   make regen         regenerate code from spec/ and the Ragel grammar
#   make regen-check   fail when generated code has drifted
#
# Each folder adds its own rules in <folder>/<folder>.mk and appends to the
# lists below, so a layer's build lives next to its code.

CC      ?= cc
CLANG   ?= clang
PYTHON  ?= python3
RAGEL   ?= ragel
BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
STD     := -std=c11
INCLUDES := -Icodec/include -Iengine/include
CFLAGS_BASE := $(STD) $(WARN) $(INCLUDES) -g -D_GNU_SOURCE
OPTFLAGS ?= -O2
SANFLAGS := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TSANFLAGS := -O1 -fsanitize=thread -fno-omit-frame-pointer

# Build variants: rel (optimised), asan (ASan+UBSan), tsan (ThreadSanitizer).
# An object for variant V of src/x.c lands in $(BUILD)/V/src/x.o.
VARIANT_CFLAGS_rel  := $(OPTFLAGS) -fPIC
VARIANT_CFLAGS_asan := $(SANFLAGS)
VARIANT_CFLAGS_tsan := $(TSANFLAGS)
VARIANT_LDFLAGS_rel  :=
VARIANT_LDFLAGS_asan := -fsanitize=address,undefined
VARIANT_LDFLAGS_tsan := -fsanitize=thread

ALL        :=
TESTS      :=
BENCHES    :=
REGEN      :=
REGEN_CHECKS :=
FORMAT_SRCS :=
CLEAN      :=

.PHONY: all test conform bench regen regen-check format format-check deps clean install
all: real-all

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(VARIANT_CFLAGS_rel) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(VARIANT_CFLAGS_asan) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(VARIANT_CFLAGS_tsan) $(CFLAGS) -MMD -MP -c $< -o $@

# Installs missing Debian/PyPI packages once (a stamp remembers success).
DEPS_STAMP := $(BUILD)/.deps-ok
$(DEPS_STAMP): tools/install-deps.sh
	@mkdir -p $(dir $@)
	bash tools/install-deps.sh
	@touch $@
deps: $(DEPS_STAMP)

include spec/spec.mk
include codec/codec.mk
-include engine/engine.mk
-include examples/examples.mk
-include conformance/conformance.mk
-include fuzz/fuzz.mk
-include interop/interop.mk
-include bench/bench.mk

real-all: $(ALL) | $(DEPS_STAMP)

regen: $(REGEN)
regen-check: $(REGEN_CHECKS)

# `make test` runs every suite even when an earlier one fails (-k is
# passed down by the recipe), then reports.
test: $(DEPS_STAMP)
	$(MAKE) regen-check
	$(MAKE) format-check
	$(MAKE) -k $(TESTS)

bench: $(DEPS_STAMP) $(BENCHES)

format:
	clang-format -i $(FORMAT_SRCS)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRCS) && echo "format-check: ok ($(words $(FORMAT_SRCS)) files)"

clean:
	rm -rf $(BUILD) $(CLEAN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
