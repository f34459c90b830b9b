/*
 * tofu-echo-server LISTEN...
 *
 * Listens on every LISTEN (in ~listen_on value syntax: 'tcp|127.0.0.1|7099',
 * 'uds|/tmp/echo.sock', 'uds|@name'; several = one multi-homed server),
 * prints "listening on <value>" per listener with the real port/path, and
 * answers HelloRequest, Request, ByeRequest and Signal with the echo opcode,
 * the same message_id, text headers and body, like Zig tofu's echo service.
 * Serves until SIGINT/SIGTERM, then shuts down cleanly (exit 0).
 */
/* Standalone builds (against an installed libtofu) need POSIX names. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tofu/tofu.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int start_listener(tofu_engine *e, tofu_group *g, const char *value)
{
	tofu_msg *m = NULL;
	int rc = tofu_get(e, TOFU_GET_ALWAYS, &m);
	if (!rc)
		rc = tofu_msg_prepare_welcome(m, value);
	if (!rc)
		rc = tofu_post(g, &m, NULL);
	if (rc) {
		fprintf(stderr, "tofu-echo-server: %s: %s\n", value, tofu_status_name(rc));
		tofu_put(e, &m);
		return -1;
	}
	/* The WelcomeResponse: success carries ~bound_to; failure is followed
	 * by the listener's channel_closed Signal. */
	for (;;) {
		rc = tofu_wait_receive(g, 10 * TOFU_WAIT_SECOND, &m);
		if (rc || !m) {
			fprintf(stderr, "tofu-echo-server: %s: no answer from the engine\n", value);
			return -1;
		}
		if (tofu_msg_opcode(m) == TOFU_OP_WELCOME_RESPONSE)
			break;
		tofu_put(e, &m);
	}
	int st = tofu_msg_status(m);
	if (st) {
		fprintf(stderr, "tofu-echo-server: cannot listen on %s: %s\n", value,
			tofu_status_name(st));
		tofu_put(e, &m);
		return -1;
	}
	const char *b;
	size_t bl;
	if (tofu_msg_find_header(m, TOFU_HEADER_BOUND_TO, &b, &bl))
		printf("listening on %.*s\n", (int)bl, b);
	else
		printf("listening on %s\n", value);
	fflush(stdout);
	tofu_put(e, &m);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: tofu-echo-server LISTEN...\n"
				"  LISTEN: 'tcp|127.0.0.1|7099', 'tcp||0', 'uds|/path', "
				"'uds|@abstract'\n");
		return argc < 2 ? 2 : 0;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	tofu_options o;
	tofu_options_init(&o);
	o.pool_max = 1024;
	tofu_engine *e;
	tofu_group *g;
	if (tofu_engine_create(&o, &e) || tofu_group_create(e, &g)) {
		fprintf(stderr, "tofu-echo-server: cannot start the engine\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (start_listener(e, g, argv[i])) {
			tofu_group_destroy(g);
			tofu_engine_destroy(e);
			return 1;
		}
	}

	unsigned long echoed = 0, closed = 0;
	while (!stop) {
		tofu_msg *m = NULL;
		/* Short waits so a signal is noticed promptly. */
		if (tofu_wait_receive(g, TOFU_WAIT_SECOND / 5, &m))
			break;
		if (!m)
			continue;
		if (tofu_msg_origin(m)) {
			/* Engine notifications: closes, pool_empty, returns. */
			if (tofu_msg_status(m) == TOFU_STATUS_CHANNEL_CLOSED &&
			    tofu_msg_opcode(m) == TOFU_OP_SIGNAL)
				closed++;
			tofu_put(e, &m);
			continue;
		}
		int echo = tofu_opcode_echo(tofu_msg_opcode(m));
		if (echo < 0 || tofu_msg_opcode(m) == TOFU_OP_WELCOME_REQUEST) {
			tofu_put(e, &m);
			continue;
		}
		tofu_msg_set_opcode(m, echo);
		if (tofu_post(g, &m, NULL))
			tofu_put(e, &m); /* channel gone meanwhile */
		else
			echoed++;
	}
	fprintf(stderr, "tofu-echo-server: shutting down (%lu echoed, %lu channels closed)\n",
		echoed, closed);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
	return 0;
}
