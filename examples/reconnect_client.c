/*
 * tofu-reconnect-client CONNECT MAX_FAILURES WINDOW_MS [REQUESTS]
 *
 * A small supervisor in the spirit of an OTP restart intensity: it keeps a
 * connection to CONNECT (~connect_to syntax) alive, sending one Request
 * every 100 ms and checking each echo. Every failed connect or lost
 * connection is a failure; it retries with exponential backoff (100 ms
 * doubling to 3.2 s, with jitter) and gives up when MAX_FAILURES failures
 * fall within WINDOW_MS. With REQUESTS it stops successfully after that many
 * echoed Requests (across reconnects).
 * Exit status: 0 done, 2 usage, 3 gave up.
 */
/* Standalone builds (against an installed libtofu) need POSIX names. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tofu/tofu.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Connects; returns the channel or 0 (with the reason printed). */
static uint16_t connect_once(tofu_engine *e, tofu_group *g, const char *addr)
{
	tofu_msg *m = NULL;
	tofu_header ph;
	if (tofu_get(e, TOFU_GET_ALWAYS, &m) || tofu_msg_prepare_hello(m, addr) ||
	    tofu_post(g, &m, &ph)) {
		tofu_put(e, &m);
		printf("connect: bad address\n");
		return 0;
	}
	for (;;) {
		if (tofu_wait_receive(g, 5 * TOFU_WAIT_SECOND, &m) || !m) {
			printf("connect: no answer\n");
			/* Abort the attempt so the engine closes it. */
			if (!tofu_get(e, TOFU_GET_ALWAYS, &m)) {
				tofu_msg_set_abort(m, ph.channel_number);
				if (tofu_post(g, &m, NULL))
					tofu_put(e, &m);
			}
			return 0;
		}
		if (tofu_msg_channel(m) != ph.channel_number) {
			tofu_put(e, &m);
			continue;
		}
		int op = tofu_msg_opcode(m), st = tofu_msg_status(m);
		tofu_put(e, &m);
		if (op == TOFU_OP_HELLO_RESPONSE && st == 0)
			return ph.channel_number;
		if (st == TOFU_STATUS_POOL_EMPTY)
			continue;
		printf("connect: %s\n", tofu_status_name(st));
		return 0;
	}
}

/* Exchanges Requests until the connection is lost (returns 0) or enough
 * were echoed (returns 1). */
static int serve(tofu_engine *e, tofu_group *g, uint16_t cn, long *done, long want)
{
	uint64_t next_id = 1;
	while (!stop && (want == 0 || *done < want)) {
		tofu_msg *m = NULL;
		if (tofu_get(e, TOFU_GET_ALWAYS, &m))
			return 0;
		tofu_msg_set_channel(m, cn);
		tofu_msg_set_id(m, next_id);
		tofu_msg_set_body(m, "tick", 4);
		if (tofu_post(g, &m, NULL)) {
			tofu_put(e, &m);
			return 0;
		}
		uint64_t until = now_ms() + 2000;
		int answered = 0;
		while (!answered && now_ms() < until) {
			if (tofu_wait_receive(g, TOFU_WAIT_SECOND / 10, &m))
				return 0;
			if (!m)
				continue;
			int lost = tofu_msg_origin(m) && tofu_msg_channel(m) == cn &&
				   tofu_msg_status(m) != TOFU_STATUS_POOL_EMPTY &&
				   tofu_msg_opcode(m) == TOFU_OP_SIGNAL &&
				   tofu_msg_status(m) == TOFU_STATUS_CHANNEL_CLOSED;
			if (!tofu_msg_origin(m) && tofu_msg_opcode(m) == TOFU_OP_RESPONSE &&
			    tofu_msg_id(m) == next_id)
				answered = 1;
			tofu_put(e, &m);
			if (lost) {
				printf("connection lost\n");
				return 0;
			}
		}
		if (!answered) {
			printf("no echo within 2 s\n");
			return 0;
		}
		(*done)++;
		next_id++;
		sleep_ms(100);
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5) {
		fprintf(stderr,
			"usage: tofu-reconnect-client CONNECT MAX_FAILURES WINDOW_MS [REQUESTS]\n");
		return 2;
	}
	const char *addr = argv[1];
	long max_fail = strtol(argv[2], NULL, 10);
	long window = strtol(argv[3], NULL, 10);
	long want = argc == 5 ? strtol(argv[4], NULL, 10) : 0;
	if (max_fail < 1 || max_fail > 1000 || window < 1) {
		fprintf(stderr, "tofu-reconnect-client: MAX_FAILURES 1..1000, WINDOW_MS >= 1\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	srand((unsigned)now_ms());

	tofu_engine *e;
	tofu_group *g;
	if (tofu_engine_create(NULL, &e) || tofu_group_create(e, &g))
		return 1;
	/* Ring of the last MAX_FAILURES failure times. */
	uint64_t *fails = calloc((size_t)max_fail, sizeof(uint64_t));
	long nfail = 0, done = 0;
	int backoff_step = 0, rc = 0;
	while (!stop) {
		uint16_t cn = connect_once(e, g, addr);
		if (cn) {
			printf("connected\n");
			backoff_step = 0;
			if (serve(e, g, cn, &done, want)) {
				printf("done: %ld requests echoed\n", done);
				break;
			}
		}
		if (stop)
			break;
		uint64_t t = now_ms();
		fails[nfail % max_fail] = t;
		nfail++;
		if (nfail >= max_fail && t - fails[nfail % max_fail] <= (uint64_t)window) {
			printf("giving up: %ld failures within %ld ms\n", max_fail, window);
			rc = 3;
			break;
		}
		uint64_t delay = 100u << (backoff_step < 5 ? backoff_step : 5);
		backoff_step++;
		delay += (uint64_t)rand() % (delay / 4 + 1);
		printf("retry in %llu ms\n", (unsigned long long)delay);
		sleep_ms(delay);
	}
	free(fails);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
	return rc;
}
