/*
 * tofu-echo-client CONNECT COUNT SIZE
 *
 * Connects to CONNECT (~connect_to value syntax), exchanges COUNT Requests
 * of SIZE body bytes with an echo server (up to 64 in flight), checks that
 * every Response has the request's message_id and the same body, says bye
 * (ByeRequest -> ByeResponse -> channel closed) and prints what it measured.
 * Exit status: 0 all good, 1 a check failed or the connection broke,
 * 2 usage.
 */
/* Standalone builds (against an installed libtofu) need POSIX names. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tofu/tofu.h"

#define WINDOW 64

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fill(uint8_t *b, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Next message for our channel that is not a pool_empty note. */
static tofu_msg *next_msg(tofu_engine *e, tofu_group *g)
{
	for (;;) {
		tofu_msg *m = NULL;
		if (tofu_wait_receive(g, 10 * TOFU_WAIT_SECOND, &m) || !m)
			return NULL;
		if (tofu_msg_origin(m) && tofu_msg_status(m) == TOFU_STATUS_POOL_EMPTY) {
			tofu_put(e, &m);
			continue;
		}
		return m;
	}
}

static void describe(const char *what, tofu_msg *m)
{
	fprintf(stderr, "tofu-echo-client: %s: opcode %s, status %s\n", what,
		tofu_opcode_name(tofu_msg_opcode(m)) ? tofu_opcode_name(tofu_msg_opcode(m)) : "?",
		tofu_status_name(tofu_msg_status(m)));
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: tofu-echo-client CONNECT COUNT SIZE\n"
				"  e.g. tofu-echo-client 'tcp|127.0.0.1|7099' 10000 100\n");
		return 2;
	}
	const char *addr = argv[1];
	long count = strtol(argv[2], NULL, 10);
	long size = strtol(argv[3], NULL, 10);
	if (count < 0 || size < 0 || size > TOFU_MAX_BODY_LEN) {
		fprintf(stderr, "tofu-echo-client: COUNT >= 0, 0 <= SIZE <= 65535\n");
		return 2;
	}
	uint8_t *body = malloc((size_t)size + 1), *want = malloc((size_t)size + 1);
	uint64_t *sent_at = calloc((size_t)count + 1, sizeof(uint64_t));
	uint64_t *lat = calloc((size_t)count + 1, sizeof(uint64_t));
	uint64_t *ids = calloc((size_t)count + 1, sizeof(uint64_t));
	if (!body || !want || !sent_at || !lat || !ids)
		return 1;

	tofu_options o;
	tofu_options_init(&o);
	o.pool_max = 256;
	tofu_engine *e;
	tofu_group *g;
	if (tofu_engine_create(&o, &e) || tofu_group_create(e, &g))
		return 1;
	int rc = 1;
	tofu_msg *m = NULL;
	tofu_header ph;
	uint64_t t0 = now_ns();
	if (tofu_get(e, TOFU_GET_ALWAYS, &m) || tofu_msg_prepare_hello(m, addr) ||
	    tofu_post(g, &m, &ph)) {
		fprintf(stderr, "tofu-echo-client: bad address %s\n", addr);
		tofu_put(e, &m);
		goto out;
	}
	uint16_t cn = ph.channel_number;
	m = next_msg(e, g);
	if (!m || tofu_msg_opcode(m) != TOFU_OP_HELLO_RESPONSE || tofu_msg_status(m)) {
		if (m)
			describe("connect failed", m);
		else
			fprintf(stderr, "tofu-echo-client: no HelloResponse\n");
		tofu_put(e, &m);
		goto out;
	}
	tofu_put(e, &m);
	uint64_t t_conn = now_ns() - t0;

	long sent = 0, got = 0, bad = 0;
	uint64_t t1 = now_ns();
	while (got < count) {
		while (sent < count && sent - got < WINDOW) {
			/* Our own ids 1..COUNT tie each Response to its Request. */
			uint64_t id = (uint64_t)sent + 1;
			if (tofu_get(e, TOFU_GET_ALWAYS, &m))
				goto out;
			tofu_msg_set_channel(m, cn);
			tofu_msg_set_id(m, id);
			uint8_t *b = tofu_msg_body_reserve(m, (size_t)size);
			fill(b, (size_t)size, id);
			sent_at[id] = now_ns();
			int prc = tofu_post(g, &m, NULL);
			if (prc) {
				fprintf(stderr, "tofu-echo-client: post: %s\n",
					tofu_status_name(prc));
				tofu_put(e, &m);
				goto out;
			}
			sent++;
		}
		m = next_msg(e, g);
		if (!m) {
			fprintf(stderr, "tofu-echo-client: timeout after %ld replies\n", got);
			goto out;
		}
		if (tofu_msg_origin(m) || tofu_msg_opcode(m) != TOFU_OP_RESPONSE) {
			describe("unexpected message", m);
			tofu_put(e, &m);
			goto out;
		}
		uint64_t id = tofu_msg_id(m);
		size_t n;
		const uint8_t *b = tofu_msg_body(m, &n);
		if (id < 1 || id > (uint64_t)count || !sent_at[id] || lat[id]) {
			bad++;
		} else {
			lat[id] = now_ns() - sent_at[id];
			fill(want, (size_t)size, id);
			if (n != (size_t)size || memcmp(b, want, n))
				bad++;
		}
		got++;
		tofu_put(e, &m);
	}
	uint64_t t_xchg = now_ns() - t1;

	/* Bye: the server answers ByeResponse, then our engine closes. */
	if (tofu_get(e, TOFU_GET_ALWAYS, &m))
		goto out;
	tofu_msg_set_opcode(m, TOFU_OP_BYE_REQUEST);
	tofu_msg_set_channel(m, cn);
	if (tofu_post(g, &m, NULL)) {
		tofu_put(e, &m);
		goto out;
	}
	int bye_ok = 0, closed = 0;
	while (!closed && (m = next_msg(e, g))) {
		if (tofu_msg_opcode(m) == TOFU_OP_BYE_RESPONSE && !tofu_msg_origin(m))
			bye_ok = 1;
		else if (tofu_msg_opcode(m) == TOFU_OP_SIGNAL && tofu_msg_origin(m) &&
			 tofu_msg_status(m) == TOFU_STATUS_CHANNEL_CLOSED)
			closed = 1;
		tofu_put(e, &m);
	}
	uint64_t t_total = now_ns() - t0;

	for (long i = 0; i < count; i++)
		ids[i] = lat[i + 1];
	qsort(ids, (size_t)count, sizeof(uint64_t), cmp_u64);
	double secs = (double)t_xchg / 1e9;
	printf("tofu-echo-client: %s\n", addr);
	printf("  requests      %ld x %ld bytes, %ld replies, %ld bad\n", count, size, got, bad);
	printf("  connect       %.3f ms\n", (double)t_conn / 1e6);
	if (count) {
		printf("  exchange      %.3f s, %.0f req/s, %.2f MB/s each way\n", secs,
		       (double)count / secs, (double)count * (double)size / secs / 1e6);
		printf("  latency       p50 %.1f us, p99 %.1f us, max %.1f us (window %d)\n",
		       (double)ids[count / 2] / 1e3, (double)ids[(count * 99) / 100] / 1e3,
		       (double)ids[count - 1] / 1e3, WINDOW);
	}
	printf("  bye           %s, channel %s, total %.3f s\n", bye_ok ? "ok" : "MISSING",
	       closed ? "closed" : "NOT CLOSED", (double)t_total / 1e9);
	rc = (bad == 0 && got == count && bye_ok && closed) ? 0 : 1;
out:
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
	free(body);
	free(want);
	free(sent_at);
	free(lat);
	free(ids);
	return rc;
}
