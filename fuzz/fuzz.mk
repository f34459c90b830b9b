# fuzz/: libFuzzer and AFL++ harnesses for every parser (and the engine
# receive path), their dictionaries and seed corpora. See FUZZING.md.
#
#   make fuzz-smoke                 every harness 20 s under ASan+UBSan, plus
#                                   replay of every corpus/regress file (gcc
#                                   ASan+UBSan build of the fallback main)
#   make fuzz FUZZ_SECONDS=600      longer libFuzzer campaigns, one harness at
#                                   a time (FUZZ_HARNESSES='stream address')
#   make fuzz-merge                 minimise campaign finds into fuzz/corpus
#   make fuzz-coverage              llvm-cov report of the corpora
#   make fuzz-afl FUZZ_HARNESSES=header FUZZ_SECONDS=300 [AFL_CMPLOG=1]
#   make fuzz-afl-cmin              minimise fuzz/corpus with afl-cmin
#   make fuzz-replay FILES='a b'    replay files under ASan+UBSan (gcc)

FUZZ_ALL_HARNESSES := header th_iter th_validate address stream
# The engine receive path, when the engine is in the tree.
ifneq ($(ENGINE_SRCS),)
FUZZ_ALL_HARNESSES += engine
endif
FUZZ_HARNESSES ?= $(FUZZ_ALL_HARNESSES)
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_JOBS_FLAGS ?=
FUZZ_OUT := $(BUILD)/fuzz
FUZZ_CC ?= $(CLANG)
AFL_CC ?= afl-clang-fast
AFL_CMPLOG ?=
LLVM_PROFDATA ?= llvm-profdata
LLVM_COV ?= llvm-cov

# What a harness links: the codec sources, compiled per fuzzing variant.
FUZZ_CODEC_SRCS := $(CODEC_SRCS)
FUZZ_HDRS := fuzz/fuzz.h fuzz/ref_textheaders.h fuzz/oracle_codec.h

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# Variants: lf (libFuzzer + ASan + UBSan), afl (afl-clang-fast + ASan +
# UBSan), aflcmp (cmplog instrumentation for afl-fuzz -c), cov (source-based
# coverage, no sanitizer). Each compiles the codec itself, so its
# instrumentation covers the code under test.
FUZZ_CFLAGS_lf := $(FUZZ_SAN) -O1 -fsanitize=fuzzer-no-link
FUZZ_CFLAGS_afl := $(FUZZ_SAN) -O1
FUZZ_CFLAGS_aflcmp := -O1
FUZZ_CFLAGS_cov := -O0 -fprofile-instr-generate -fcoverage-mapping
FUZZ_LDFLAGS_lf := $(FUZZ_SAN) -fsanitize=fuzzer
FUZZ_LDFLAGS_afl := $(FUZZ_SAN)
FUZZ_LDFLAGS_aflcmp :=
FUZZ_LDFLAGS_cov := -fprofile-instr-generate -fcoverage-mapping
FUZZ_CCENV_lf :=
FUZZ_CCENV_afl := AFL_QUIET=1
FUZZ_CCENV_aflcmp := AFL_QUIET=1 AFL_LLVM_CMPLOG=1
FUZZ_CCENV_cov :=
FUZZ_COMPILER_lf := $(FUZZ_CC)
FUZZ_COMPILER_afl := $(AFL_CC)
FUZZ_COMPILER_aflcmp := $(AFL_CC)
FUZZ_COMPILER_cov := $(FUZZ_CC)
# libFuzzer brings its own main; the others use fuzz/afl_main.c.
FUZZ_MAIN_lf :=
FUZZ_MAIN_afl := fuzz/afl_main.c
FUZZ_MAIN_aflcmp := fuzz/afl_main.c
FUZZ_MAIN_cov := fuzz/afl_main.c

define fuzz_variant
$(FUZZ_OUT)/$(1)/%.o: %.c $(FUZZ_HDRS) $(CODEC_HDRS) $(ENGINE_HDRS)
	@mkdir -p $$(dir $$@)
	$(FUZZ_CCENV_$(1)) $(FUZZ_COMPILER_$(1)) $(CFLAGS_BASE) $(FUZZ_CFLAGS_$(1)) $$(FUZZ_OBJ_CFLAGS) -c $$< -o $$@
$(FUZZ_OUT)/$(1)/bin/fuzz_%: $(FUZZ_OUT)/$(1)/fuzz/fuzz_%.o \
		$(patsubst %.c,$(FUZZ_OUT)/$(1)/%.o,$(FUZZ_CODEC_SRCS) $(FUZZ_MAIN_$(1)))
	@mkdir -p $$(dir $$@)
	$(FUZZ_CCENV_$(1)) $(FUZZ_COMPILER_$(1)) $(FUZZ_LDFLAGS_$(1)) -o $$@ $$^ $(FUZZ_LIBS_$$*)
endef
$(foreach v,lf afl aflcmp cov,$(eval $(call fuzz_variant,$(v))))
# The engine harness also links the engine (compiled per variant too).
FUZZ_LIBS_engine := -lpthread
$(foreach v,lf afl aflcmp cov,$(eval \
	$(FUZZ_OUT)/$(v)/bin/fuzz_engine: $(patsubst %.c,$(FUZZ_OUT)/$(v)/%.o,$(ENGINE_SRCS))))
$(BUILD)/asan/fuzz/bin/fuzz_engine: $(ENGINE_LIB_ASAN)
# The harnesses' own code (oracles, reference models) is compiled by plain
# clang, without coverage or comparison tracing, in the libFuzzer and AFL++
# builds: its edges guide nothing, and tracing the models' byte loops cost
# more than half the time per input (th_iter under libFuzzer; stream under
# AFL++, see FUZZING.md). The AFL++ driver (fuzz/afl_main.c) still goes
# through afl-clang-fast, which defines its persistent-mode macros. The
# cov variant instruments everything: its report names only the code under
# test. FUZZ_PLAIN_<v> is the harness's flags for variant v.
FUZZ_PLAIN_lf := $(FUZZ_SAN) -O1
FUZZ_PLAIN_afl := $(FUZZ_SAN) -O1
FUZZ_PLAIN_aflcmp := -O1
FUZZ_PLAIN_VARIANTS := lf afl aflcmp
# The engine harness's model decodes with a copy of the codec built the same
# plain way, every tofu_ symbol renamed oracle_tofu_ (fuzz/oracle_codec.h):
# the engine under test keeps the instrumented codec, the oracle's decoding
# guides nothing and is not traced twice.
define fuzz_plain_variant
$(FUZZ_OUT)/$(1)/fuzz/fuzz_%.o: fuzz/fuzz_%.c $(FUZZ_HDRS) $(CODEC_HDRS) $(ENGINE_HDRS)
	@mkdir -p $$(dir $$@)
	$(FUZZ_CC) $(CFLAGS_BASE) $(FUZZ_PLAIN_$(1)) $$(FUZZ_HARNESS_DEFS) -c $$< -o $$@
$(FUZZ_OUT)/$(1)/oracle/%.o: %.c $(CODEC_HDRS)
	@mkdir -p $$(dir $$@)
	$(FUZZ_CC) $(CFLAGS_BASE) $(FUZZ_PLAIN_$(1)) -c $$< -o $$@
$(FUZZ_OUT)/$(1)/oracle/codec.o: $(patsubst %.c,$(FUZZ_OUT)/$(1)/oracle/%.o,$(FUZZ_CODEC_SRCS))
	$(LD) -r -o $$@.all $$^
	nm -g --defined-only $$@.all | awk '$$$$3 ~ /^tofu_/ {print $$$$3, "oracle_" $$$$3}' >$$@.syms
	objcopy --redefine-syms=$$@.syms $$@.all $$@
$(FUZZ_OUT)/$(1)/bin/fuzz_engine: $(FUZZ_OUT)/$(1)/oracle/codec.o
$(FUZZ_OUT)/$(1)/fuzz/fuzz_engine.o: FUZZ_HARNESS_DEFS := -DFUZZ_ORACLE_CODEC
endef
$(foreach v,$(FUZZ_PLAIN_VARIANTS),$(eval $(call fuzz_plain_variant,$(v))))
# The engine's own objects keep edge coverage but not comparison tracing
# (trace-cmp) in the libFuzzer build. Its comparisons are of pointers,
# counters and states; the input's values are compared in the codec, which
# keeps full tracing. Without it an input costs ~30% less CPU (user time
# 50 -> 35 us), and two 120 s runs from the same corpus reached the same
# coverage (cov 388, ft 1,328 vs 1,329): see FUZZING.md.
$(patsubst %.c,$(FUZZ_OUT)/lf/%.o,$(ENGINE_SRCS)): FUZZ_OBJ_CFLAGS := -fno-sanitize-coverage=trace-cmp
# Keep the objects (they are intermediate files of chained pattern rules).
.PRECIOUS: $(foreach v,lf afl aflcmp cov,$(FUZZ_OUT)/$(v)/%.o) \
	$(foreach v,$(FUZZ_PLAIN_VARIANTS),$(FUZZ_OUT)/$(v)/fuzz/fuzz_%.o $(FUZZ_OUT)/$(v)/oracle/%.o) \
	$(BUILD)/asan/%.o

# Replay build: the fallback main with the team's gcc ASan+UBSan variant.
$(BUILD)/asan/fuzz/bin/fuzz_%: $(BUILD)/asan/fuzz/fuzz_%.o $(BUILD)/asan/fuzz/afl_main.o \
		$(CODEC_LIB_ASAN)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_LDFLAGS_asan) -o $@ $^ $(CODEC_LIB_ASAN) $(FUZZ_LIBS_$*)

FUZZ_LF_BINS = $(patsubst %,$(FUZZ_OUT)/lf/bin/fuzz_%,$(FUZZ_HARNESSES))
FUZZ_REPLAY_BINS = $(patsubst %,$(BUILD)/asan/fuzz/bin/fuzz_%,$(FUZZ_HARNESSES))
FUZZ_RUN := bash fuzz/tools/run-libfuzzer.sh

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-replay fuzz-regress fuzz-merge fuzz-coverage \
	fuzz-afl fuzz-afl-build fuzz-afl-cmin fuzz-ref-check fuzz-seeds fuzz-record fuzz-stats

fuzz-build: $(FUZZ_LF_BINS) $(FUZZ_REPLAY_BINS)

# The reference iterator of the differential oracle, checked against the
# 300 Zig vectors, so a disagreement always indicts the codec.
FUZZ_VECTORS ?= $(abspath ../shared/interop)/textheaders-iterator.json
$(BUILD)/asan/fuzz/bin/ref_selftest: $(BUILD)/asan/fuzz/ref_selftest.o $(CODEC_LIB_ASAN)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_LDFLAGS_asan) -o $@ $^
fuzz-ref-check: $(BUILD)/asan/fuzz/bin/ref_selftest
	@mkdir -p $(FUZZ_OUT)
	$(PYTHON) fuzz/tools/vectors2txt.py $(FUZZ_VECTORS) > $(FUZZ_OUT)/iterator-vectors.txt
	$< $(FUZZ_OUT)/iterator-vectors.txt

# Every seed and regression file once, under gcc ASan+UBSan (and the oracles).
FILES ?=
fuzz-replay: $(FUZZ_REPLAY_BINS)
	@set -e; for h in $(FUZZ_HARNESSES); do \
		dirs=""; for d in fuzz/corpus/$$h fuzz/regress/$$h; do [ -d $$d ] && dirs="$$dirs $$d"; done; \
		[ -n "$(FILES)" ] && dirs="$(FILES)"; \
		$(BUILD)/asan/fuzz/bin/fuzz_$$h $$dirs; done

fuzz-smoke: fuzz-ref-check fuzz-replay $(FUZZ_LF_BINS)
	@set -e; for h in $(FUZZ_HARNESSES); do \
		$(FUZZ_RUN) smoke $$h $(FUZZ_SMOKE_SECONDS) $(FUZZ_OUT); done

# Campaigns: new inputs go to build/fuzz/campaign/<h> (kept between runs);
# each run appends its numbers to fuzz/campaigns.log.
fuzz: $(FUZZ_LF_BINS)
	@set -e; for h in $(FUZZ_HARNESSES); do \
		$(FUZZ_RUN) campaign $$h $(FUZZ_SECONDS) $(FUZZ_OUT) $(FUZZ_JOBS_FLAGS); done

# Minimise the in-tree corpus plus campaign finds with -merge=1; files stay
# named by their SHA-1 (libFuzzer's naming).
fuzz-merge: $(FUZZ_LF_BINS)
	@set -e; for h in $(FUZZ_HARNESSES); do \
		$(FUZZ_RUN) merge $$h 0 $(FUZZ_OUT); done

# Coverage of the codec by each corpus (regress files included).
fuzz-coverage: $(patsubst %,$(FUZZ_OUT)/cov/bin/fuzz_%,$(FUZZ_HARNESSES))
	@bash fuzz/tools/coverage.sh $(FUZZ_OUT) "$(FUZZ_HARNESSES)" "$(FUZZ_CODEC_SRCS)" \
		$(LLVM_PROFDATA) $(LLVM_COV)

# AFL++: persistent mode, shared-memory test cases, one dictionary per
# harness; AFL_CMPLOG=1 adds a cmplog binary (afl-fuzz -c).
FUZZ_AFL_BINS = $(patsubst %,$(FUZZ_OUT)/afl/bin/fuzz_%,$(FUZZ_HARNESSES)) \
	$(if $(AFL_CMPLOG),$(patsubst %,$(FUZZ_OUT)/aflcmp/bin/fuzz_%,$(FUZZ_HARNESSES)))
fuzz-afl-build: $(FUZZ_AFL_BINS)
fuzz-afl: $(FUZZ_AFL_BINS)
	@set -e; for h in $(FUZZ_HARNESSES); do \
		bash fuzz/tools/run-afl.sh $$h $(FUZZ_SECONDS) $(FUZZ_OUT) "$(AFL_CMPLOG)"; done
fuzz-afl-cmin: $(patsubst %,$(FUZZ_OUT)/afl/bin/fuzz_%,$(FUZZ_HARNESSES))
	@set -e; for h in $(FUZZ_HARNESSES); do \
		bash fuzz/tools/run-afl.sh $$h cmin $(FUZZ_OUT); done

# Totals of fuzz/campaigns.log per harness.
fuzz-stats:
	@$(PYTHON) fuzz/tools/stats.py fuzz/campaigns.log

# Regenerates the seed corpora from the reference frames and the shared
# vectors (then `make fuzz-merge` minimises them).
fuzz-seeds:
	$(PYTHON) fuzz/tools/make_seeds.py --vectors $(abspath ../shared/interop) --out fuzz/corpus

# Seeds from traffic: the conformance suite runs against our codec testee
# through a recording proxy; what it sends becomes campaign input and
# `fuzz-merge` keeps what adds coverage.
FUZZ_RECORD_DIR := $(FUZZ_OUT)/recorded
FUZZ_RECORD_PROFILE ?= ci
fuzz-record: $(CODEC_TESTEE) $(FUZZ_LF_BINS)
	rm -rf $(FUZZ_RECORD_DIR)
	@mkdir -p $(FUZZ_RECORD_DIR) $(FUZZ_OUT)/logs
	printf '{"name": "tofu-c codec (recorded for fuzz seeds)", "codec": ["%s", "%s", "%s", "--", "%s"]}\n' \
		$(PYTHON) $(abspath fuzz/tools/record_testee.py) $(abspath $(FUZZ_RECORD_DIR)) \
		$(abspath $(CODEC_TESTEE)) > $(FUZZ_OUT)/record-impl.json
	-$(CONFORM_RUN) --impl $(FUZZ_OUT)/record-impl.json --profile $(FUZZ_RECORD_PROFILE) >$(FUZZ_OUT)/logs/record-conform.log 2>&1
	@for h in $(FUZZ_HARNESSES); do [ -d $(FUZZ_RECORD_DIR)/$$h ] || continue; \
		mkdir -p $(FUZZ_OUT)/campaign/$$h; cp $(FUZZ_RECORD_DIR)/$$h/* $(FUZZ_OUT)/campaign/$$h/; \
		echo "fuzz-record $$h: $$(ls $(FUZZ_RECORD_DIR)/$$h | wc -l) inputs recorded"; done
	$(MAKE) fuzz-merge FUZZ_HARNESSES="$(FUZZ_HARNESSES)"

TESTS += fuzz-smoke
FORMAT_SRCS += $(wildcard fuzz/*.c fuzz/*.h)
