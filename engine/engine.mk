# engine/: libtofu (the reference engine), its tests, make install.

ENGINE_SRCS := engine/src/msg.c engine/src/engine.c engine/src/reactor.c engine/src/resolver.c
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
ENGINE_TESTS := msg flows hostile limits stepped direct resolver
ENGINE_TSAN_TESTS := msg flows limits direct resolver
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
	@set -e; for t in $^; do TOFU_TEST_UNDER_VALGRIND=1 valgrind -q --error-exitcode=1 --leak-check=full \
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

# ------------------------------------------------------------- install
# make install PREFIX=/usr/local DESTDIR=
#   lib/libtofu.a        engine + codec (static)
#   lib/libtofu.so.0     engine + codec (shared) and the libtofu.so link
#   lib/libtofu-codec.a  the codec alone
#   include/tofu/{tofu.h,codec.h}, lib/pkgconfig/tofu.pc, bin/<examples>
TOFU_VERSION := 0.1.0
TOFU_STATIC_ALL := $(BUILD)/rel/install/libtofu.a
$(TOFU_STATIC_ALL): $(patsubst %.c,$(BUILD)/rel/%.o,$(ENGINE_SRCS) $(CODEC_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/rel/install/tofu.pc: engine/tofu.pc.in engine/engine.mk
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(TOFU_VERSION)|' $< > $@

.PHONY: install install-lib test-install
install: install-lib
install-lib: $(TOFU_STATIC_ALL) $(ENGINE_SO) $(CODEC_LIB) $(BUILD)/rel/install/tofu.pc
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/tofu
	install -m 644 $(TOFU_STATIC_ALL) $(DESTDIR)$(PREFIX)/lib/libtofu.a
	install -m 644 $(CODEC_LIB) $(DESTDIR)$(PREFIX)/lib/libtofu-codec.a
	install -m 755 $(ENGINE_SO) $(DESTDIR)$(PREFIX)/lib/libtofu.so.$(TOFU_SOVERSION)
	ln -sf libtofu.so.$(TOFU_SOVERSION) $(DESTDIR)$(PREFIX)/lib/libtofu.so
	install -m 644 engine/include/tofu/tofu.h codec/include/tofu/codec.h $(DESTDIR)$(PREFIX)/include/tofu/
	install -m 644 $(BUILD)/rel/install/tofu.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/tofu.pc

# Installs into a temporary DESTDIR and builds + runs an example against
# the installed copy through pkg-config (shared and static).
test-install:
	bash engine/test-install.sh "$(MAKE)" "$(abspath $(BUILD))/install-test" "$(CC)"

TESTS += test-install
