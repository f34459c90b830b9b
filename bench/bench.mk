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
