# bench/: engine benchmark (beside raw sockets and libzmq) and the engine's
# load and fault tests (bench/load/). bench/codec_bench.c is built by
# codec/codec.mk.

# Engine benchmark: one program, one run, every baseline in the same run.
# Quick run: BENCH_SCALE=0.1 BENCH_ROUNDS=1 make bench-engine
$(BUILD)/rel/bench/engine_bench: $(BUILD)/rel/bench/engine_bench.o $(ENGINE_LIB) $(CODEC_LIB)
	$(CC) -o $@ $^ -lzmq -lpthread
bench-engine: $(BUILD)/rel/bench/engine_bench
	$<

.PHONY: bench-engine
BENCHES += bench-engine
FORMAT_SRCS += bench/engine_bench.c

# Load and fault tests (cmocka, ASan+UBSan). LOAD_MSGS messages per
# connection: 1000 by default, not the 10,000 of issue 4, because 10^7
# messages under ASan on the 2 shared cores take minutes alone; the full
# count runs with `make test-load LOAD_MSGS=10000` (see BENCHMARKS.md).
LOAD_MSGS ?= 1000
$(BUILD)/asan/bench/load/load_test: $(BUILD)/asan/bench/load/load_test.o $(ENGINE_LIB_ASAN) $(CODEC_LIB_ASAN)
	$(CC) $(VARIANT_LDFLAGS_asan) -o $@ $^ -lcmocka -lpthread
test-load: $(BUILD)/asan/bench/load/load_test
	LOAD_MSGS=$(LOAD_MSGS) timeout 240 $<

.PHONY: test-load
TESTS += test-load
FORMAT_SRCS += bench/load/load_test.c
# TSan build of the same tests (not in TESTS; for hunting races).
$(BUILD)/tsan/bench/load/load_test: $(BUILD)/tsan/bench/load/load_test.o $(ENGINE_LIB_TSAN) $(CODEC_LIB_TSAN)
	$(CC) $(VARIANT_LDFLAGS_tsan) -o $@ $^ -lcmocka -lpthread
