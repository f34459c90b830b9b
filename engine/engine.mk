# engine/: libtofu (the reference engine), its tests, make install.

ENGINE_SRCS := engine/src/msg.c engine/src/engine.c engine/src/reactor.c
ENGINE_HDRS := engine/include/tofu/tofu.h engine/src/internal.h

# Static library per variant: $(BUILD)/<v>/libtofu.a (engine only; link it
# before libtofu-codec.a).
define engine_lib
$(BUILD)/$(1)/libtofu.a: $(patsubst %.c,$(BUILD)/$(1)/%.o,$(ENGINE_SRCS))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach v,rel asan tsan,$(eval $(call engine_lib,$(v))))

ENGINE_LIB      := $(BUILD)/rel/libtofu.a
ENGINE_LIB_ASAN := $(BUILD)/asan/libtofu.a
ENGINE_LIB_TSAN := $(BUILD)/tsan/libtofu.a

# Tests (cmocka): engine/test/<m>_test.c + engine/test/testutil.c.
ENGINE_TESTS := msg flows hostile limits
ENGINE_TSAN_TESTS := msg flows limits
ENGINE_TEST_UTIL = $(BUILD)/$(1)/engine/test/testutil.o

$(BUILD)/asan/engine/test/%_test: $(BUILD)/asan/engine/test/%_test.o $(BUILD)/asan/engine/test/testutil.o $(ENGINE_LIB_ASAN) $(CODEC_LIB_ASAN)
	$(CC) $(VARIANT_LDFLAGS_asan) -o $@ $^ -lcmocka -lpthread
$(BUILD)/tsan/engine/test/%_test: $(BUILD)/tsan/engine/test/%_test.o $(BUILD)/tsan/engine/test/testutil.o $(ENGINE_LIB_TSAN) $(CODEC_LIB_TSAN)
	$(CC) $(VARIANT_LDFLAGS_tsan) -o $@ $^ -lcmocka -lpthread
$(BUILD)/rel/engine/test/%_test: $(BUILD)/rel/engine/test/%_test.o $(BUILD)/rel/engine/test/testutil.o $(ENGINE_LIB) $(CODEC_LIB)
	$(CC) -o $@ $^ -lcmocka -lpthread

.PHONY: test-engine test-engine-tsan valgrind-engine
test-engine: $(patsubst %,$(BUILD)/asan/engine/test/%_test,$(ENGINE_TESTS))
	@set -e; for t in $^; do echo "== $$t"; $$t; done
test-engine-tsan: $(patsubst %,$(BUILD)/tsan/engine/test/%_test,$(ENGINE_TSAN_TESTS))
	@set -e; for t in $^; do echo "== (tsan) $$t"; TSAN_OPTIONS=halt_on_error=1 $$t; done
valgrind-engine: $(patsubst %,$(BUILD)/rel/engine/test/%_test,$(ENGINE_TESTS))
	@set -e; for t in $^; do TOFU_TEST_SLOW=1 valgrind -q --error-exitcode=1 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect,possible $$t >/dev/null; echo "valgrind clean: $$t"; done

# Shared library: engine + codec in one libtofu.so (rel objects are -fPIC).
TOFU_SOVERSION := 0
ENGINE_SO := $(BUILD)/rel/libtofu.so.$(TOFU_SOVERSION)
$(ENGINE_SO): $(patsubst %.c,$(BUILD)/rel/%.o,$(ENGINE_SRCS) $(CODEC_SRCS))
	$(CC) -shared -Wl,-soname,libtofu.so.$(TOFU_SOVERSION) -o $@ $^ -lpthread

ALL += $(ENGINE_LIB) $(ENGINE_SO)
FORMAT_SRCS += $(ENGINE_SRCS) $(ENGINE_HDRS) $(wildcard engine/test/*.c engine/test/*.h)

# Keep test objects (otherwise make deletes them as intermediates).
.SECONDARY: $(foreach v,rel asan tsan,$(patsubst %,$(BUILD)/$(v)/engine/test/%_test.o,$(ENGINE_TESTS)) $(BUILD)/$(v)/engine/test/testutil.o)

TESTS += test-engine test-engine-tsan valgrind-engine
