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

# Load and fault tests (cmocka, ASan+UBSan): 1,000 connections x 10,000
# messages over TCP (x 2,000 over UDS), SIGKILL mid-frame, half-header stall,
# link down in network namespaces, pool exhaustion. About 2 minutes on the
# shared 2 cores; bounded by `timeout 240` and by a timeout on every wait.
# Smaller: make test-load LOAD_MSGS=1000.
$(BUILD)/asan/bench/load/load_test: $(BUILD)/asan/bench/load/load_test.o $(ENGINE_LIB_ASAN) $(CODEC_LIB_ASAN)
	$(CC) $(VARIANT_LDFLAGS_asan) -o $@ $^ -lcmocka -lpthread
test-load: $(BUILD)/asan/bench/load/load_test
	timeout 240 $<

.PHONY: test-load
TESTS += test-load
FORMAT_SRCS += bench/load/load_test.c
# TSan build of the same tests (not in TESTS; for hunting races).
$(BUILD)/tsan/bench/load/load_test: $(BUILD)/tsan/bench/load/load_test.o $(ENGINE_LIB_TSAN) $(CODEC_LIB_TSAN)
	$(CC) $(VARIANT_LDFLAGS_tsan) -o $@ $^ -lcmocka -lpthread
