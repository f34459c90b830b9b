# interop/: golden vectors (format: interop/VECTORS.md), their runners for the
# C codec (native, s390x, powerpc), the Python oracle and any codec testee,
# and the Wireshark dissector.
#
#   make test-interop      C runner (ASan+UBSan) + oracle (+ codec testee)
#   make test-interop-be   the C runner cross-built for s390x and powerpc,
#                          run under qemu-user, compared with the native run
#   make test-wireshark    tshark + interop/wireshark/tofu.lua on pcaps
#                          written from the vectors
#   make regen-interop     rewrite interop/vectors/ from spec/tofu-wire.toml

INTEROP_DIR     := $(BUILD)/interop
INTEROP_VECTORS := $(wildcard interop/vectors/*.json)
# The Zig tofu sets, read in place (never copied); absent = skipped.
INTEROP_ZIG_DIR ?= $(abspath ../shared/interop)
INTEROP_LINES   := $(INTEROP_DIR)/vectors.lines
INTEROP_PY      := TOFU_VECTORS_DIR=$(INTEROP_ZIG_DIR) $(PYTHON)
VECTOR_RUNNER      := $(BUILD)/bin/tofu-vector-runner
VECTOR_RUNNER_ASAN := $(BUILD)/asan/bin/tofu-vector-runner

# Remembers which Zig directory the line form was made from, so that changing
# INTEROP_ZIG_DIR (or the directory appearing/disappearing) remakes it.
$(INTEROP_DIR)/zig-dir: interop-force
	@mkdir -p $(dir $@)
	@echo '$(INTEROP_ZIG_DIR) $(wildcard $(INTEROP_ZIG_DIR)/*.json)' | cmp -s - $@ || \
		echo '$(INTEROP_ZIG_DIR) $(wildcard $(INTEROP_ZIG_DIR)/*.json)' > $@
.PHONY: interop-force

# The JSON sets -> the line form the C runner reads (schema-checked on the way).
$(INTEROP_LINES): $(INTEROP_VECTORS) $(wildcard $(INTEROP_ZIG_DIR)/*.json) interop/runner/run_vectors.py \
		conformance/tofu_conformance/vectors.py $(wildcard interop/schema/*.json) $(INTEROP_DIR)/zig-dir
	@mkdir -p $(dir $@)
	$(INTEROP_PY) interop/runner/run_vectors.py --emit-lines $@

$(VECTOR_RUNNER): $(BUILD)/rel/interop/runner/vector_runner.o $(CODEC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_LDFLAGS_rel) -o $@ $^
$(VECTOR_RUNNER_ASAN): $(BUILD)/asan/interop/runner/vector_runner.o $(CODEC_LIB_ASAN)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_LDFLAGS_asan) -o $@ $^

# Big-endian hosts: the runner and the codec sources compiled directly with
# the Debian cross compilers (the codec has no dependencies), run under qemu.
# Linked statically: a dynamic s390x binary aborts in libc start-up under
# qemu-s390x 7.2 here (cross libc vs multiarch libc6:s390x mismatch).
INTEROP_BE_SRCS := interop/runner/vector_runner.c $(CODEC_SRCS)
$(INTEROP_DIR)/s390x/tofu-vector-runner: $(INTEROP_BE_SRCS) $(CODEC_HDRS)
	@mkdir -p $(dir $@)
	s390x-linux-gnu-gcc $(CFLAGS_BASE) -O2 -static -o $@ $(INTEROP_BE_SRCS)
$(INTEROP_DIR)/powerpc/tofu-vector-runner: $(INTEROP_BE_SRCS) $(CODEC_HDRS)
	@mkdir -p $(dir $@)
	powerpc-linux-gnu-gcc $(CFLAGS_BASE) -O2 -static -o $@ $(INTEROP_BE_SRCS)

# The C codec testee (conformance/conformance.mk), ASan build, when that
# fragment defines it; run through the testee protocol like any other
# implementation's testee.
INTEROP_TESTEE := $(CODEC_TESTEE_ASAN)

.PHONY: test-interop test-interop-py test-interop-be test-wireshark regen-interop regen-check-interop
test-interop: $(VECTOR_RUNNER_ASAN) $(VECTOR_RUNNER) $(INTEROP_LINES) $(INTEROP_TESTEE) test-interop-py
	$(INTEROP_PY) interop/runner/test_interop.py $(INTEROP_LINES) \
		--c c-native-asan $(VECTOR_RUNNER_ASAN) \
		--c c-native-valgrind valgrind -q --error-exitcode=1 --leak-check=full $(VECTOR_RUNNER) \
		--oracle interop/known-failures/oracle.txt \
		$(if $(INTEROP_TESTEE),--testee $(INTEROP_TESTEE) interop/known-failures/c-testee.txt)

# The generator, the loader and the schema themselves (pytest).
# With the release codec testee, each of its TOFU_TESTEE_BREAK modes must
# make vectors fail.
test-interop-py: $(CODEC_TESTEE)
	TOFU_CODEC_TESTEE=$(CODEC_TESTEE) $(INTEROP_PY) -m pytest -q -p no:cacheprovider interop/test

test-interop-be: $(VECTOR_RUNNER) $(INTEROP_LINES) $(INTEROP_DIR)/s390x/tofu-vector-runner \
		$(INTEROP_DIR)/powerpc/tofu-vector-runner
	$(PYTHON) interop/runner/test_interop.py $(INTEROP_LINES) \
		--c native $(VECTOR_RUNNER) \
		--c s390x qemu-s390x -L /usr/s390x-linux-gnu $(INTEROP_DIR)/s390x/tofu-vector-runner \
		--c powerpc qemu-ppc -L /usr/powerpc-linux-gnu $(INTEROP_DIR)/powerpc/tofu-vector-runner \
		--same-as native

test-wireshark:
	$(INTEROP_PY) interop/wireshark/test_dissector.py --out $(INTEROP_DIR)/wireshark

regen-interop:
	$(PYTHON) interop/gen_vectors.py
regen-check-interop:
	$(PYTHON) interop/gen_vectors.py --check

ALL += $(VECTOR_RUNNER)
TESTS += test-interop test-interop-be test-wireshark
REGEN += regen-interop
REGEN_CHECKS += regen-check-interop
FORMAT_SRCS += interop/runner/vector_runner.c
CLEAN +=
