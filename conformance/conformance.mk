# conformance/: the multi-implementation conformance suite (Python +
# hypothesis) and the C testees that plug our codec and engine into it
# (contract: spec/testee.md).
#
#   make conform                 the suite against our C testees (ci profile)
#   make conform IMPL=x.json     against another implementation
#   make conform CONFORM_ARGS='--profile thorough WIRE-4.*'

IMPL ?= c
CONFORM_ARGS ?=
CONFORM_RUN := PYTHONPATH=conformance $(PYTHON) -m tofu_conformance

CODEC_TESTEE      := $(BUILD)/bin/tofu-codec-testee
CODEC_TESTEE_ASAN := $(BUILD)/asan/bin/tofu-codec-testee

$(CODEC_TESTEE): $(BUILD)/rel/conformance/testees/codec_testee.o $(BUILD)/rel/conformance/testees/tjson.o $(CODEC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_LDFLAGS_rel) -o $@ $^
$(CODEC_TESTEE_ASAN): $(BUILD)/asan/conformance/testees/codec_testee.o $(BUILD)/asan/conformance/testees/tjson.o $(CODEC_LIB_ASAN)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_LDFLAGS_asan) -o $@ $^

# The peer testee needs the engine (engine/engine.mk).
PEER_TESTEE      := $(BUILD)/bin/tofu-peer-testee
PEER_TESTEE_ASAN := $(BUILD)/asan/bin/tofu-peer-testee
$(PEER_TESTEE): $(BUILD)/rel/conformance/testees/peer_testee.o $(BUILD)/rel/conformance/testees/tjson.o $(ENGINE_LIB) $(CODEC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_LDFLAGS_rel) -o $@ $^ -lpthread
$(PEER_TESTEE_ASAN): $(BUILD)/asan/conformance/testees/peer_testee.o $(BUILD)/asan/conformance/testees/tjson.o $(ENGINE_LIB_ASAN) $(CODEC_LIB_ASAN)
	@mkdir -p $(dir $@)
	$(CC) $(VARIANT_LDFLAGS_asan) -o $@ $^ -lpthread

CONFORM_TESTEES := $(CODEC_TESTEE) $(if $(ENGINE_LIB),$(PEER_TESTEE))
CONFORM_TESTEES_ASAN := $(CODEC_TESTEE_ASAN) $(if $(ENGINE_LIB),$(PEER_TESTEE_ASAN))

.PHONY: conform test-conform test-conform-teeth test-conform-oracle
conform: $(DEPS_STAMP) $(CONFORM_TESTEES)
	$(CONFORM_RUN) --impl $(IMPL) $(CONFORM_ARGS)

# CI: the derandomised ci profile against the ASan+UBSan build of our testees,
# with JUnit/JSON reports under build/conformance/.
test-conform: $(CONFORM_TESTEES_ASAN)
	@mkdir -p $(BUILD)/conformance
	$(CONFORM_RUN) --impl c-asan --profile ci \
		--junit $(BUILD)/conformance/junit.xml --json $(BUILD)/conformance/report.json

# The suite's own test: each TOFU_TESTEE_BREAK mode must make its cases fail.
test-conform-teeth: $(CONFORM_TESTEES)
	$(CONFORM_RUN).teeth --impl c

# The oracle against the shared Zig vectors.
test-conform-oracle:
	PYTHONPATH=conformance $(PYTHON) -m tofu_conformance.oracle

ALL += $(CONFORM_TESTEES)
FORMAT_SRCS += conformance/testees/codec_testee.c conformance/testees/tjson.c conformance/testees/tjson.h \
	conformance/testees/peer_testee.c
TESTS += test-conform test-conform-teeth test-conform-oracle
