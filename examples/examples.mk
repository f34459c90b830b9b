# examples/: echo server, echo client, reconnecting client -> build/bin/.

EXAMPLES := tofu-echo-server tofu-echo-client tofu-reconnect-client
EXAMPLE_BINS := $(patsubst %,$(BUILD)/bin/%,$(EXAMPLES))

$(BUILD)/bin/tofu-echo-server: $(BUILD)/rel/examples/echo_server.o $(ENGINE_LIB) $(CODEC_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lpthread
$(BUILD)/bin/tofu-echo-client: $(BUILD)/rel/examples/echo_client.o $(ENGINE_LIB) $(CODEC_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lpthread
$(BUILD)/bin/tofu-reconnect-client: $(BUILD)/rel/examples/reconnect_client.o $(ENGINE_LIB) $(CODEC_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lpthread

# Runs the examples against each other over TCP, UDS and an abstract name.
.PHONY: test-examples
test-examples: $(EXAMPLE_BINS)
	bash examples/test-examples.sh $(BUILD)/bin

ALL += $(EXAMPLE_BINS)
TESTS += test-examples
FORMAT_SRCS += examples/echo_server.c examples/echo_client.c examples/reconnect_client.c

.PHONY: install-examples
install: install-examples
install-examples: $(EXAMPLE_BINS)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(EXAMPLE_BINS) $(DESTDIR)$(PREFIX)/bin/
