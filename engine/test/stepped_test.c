/*
 * engine/test/stepped_test.c - the stepped engine (engine/src/internal.h):
 * the reactor loop run by the caller, one iteration per tofu__engine_step.
 * The receive-path fuzz harness stands on it, so it must behave as the
 * threaded engine does: listen, accept, receive, send, close notifications,
 * group and engine destroy (which step the loop themselves).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../src/internal.h"
#include "testutil.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Steps e until g has a message (at most TU_TIMEOUT_MS). */
static tofu_msg *step_recv(tofu_engine *e, tofu_group *g)
{
	uint64_t end = now_ms() + TU_TIMEOUT_MS;
	for (;;) {
		tofu_msg *m = NULL;
		assert_int_equal(tofu_wait_receive(g, 0, &m), 0);
		if (m)
			return m;
		if (now_ms() > end)
			fail_msg("stepped engine delivered nothing within %d ms", TU_TIMEOUT_MS);
		assert_int_equal(tofu__engine_step(e, 10), 0);
	}
}

/* Steps e until fd is readable (at most TU_TIMEOUT_MS). */
static void step_until_readable(tofu_engine *e, int fd)
{
	uint64_t end = now_ms() + TU_TIMEOUT_MS;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 0) == 1)
			return;
		if (now_ms() > end)
			fail_msg("the stepped engine wrote nothing within %d ms", TU_TIMEOUT_MS);
		assert_int_equal(tofu__engine_step(e, 10), 0);
	}
}

struct rig {
	tofu_engine *e;
	tofu_group *g;
	int peer;
};

/* A stepped engine listening on an abstract socket, and a raw peer
 * connected to it. */
static void rig_open(struct rig *r)
{
	tofu_options o;
	tofu_options_init(&o);
	o.pool_initial = 4;
	o.pool_max = 8;
	assert_int_equal(tofu__engine_create_stepped(&o, &r->e), 0);
	assert_int_equal(tofu_group_create(r->e, &r->g), 0);
	char value[64];
	snprintf(value, sizeof value, "uds|@tofu-stepped-test-%d", (int)getpid());
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(r->e, TOFU_GET_ALWAYS, &m), 0);
	assert_int_equal(tofu_msg_prepare_welcome(m, value), 0);
	assert_int_equal(tofu_post(r->g, &m, NULL), 0);
	m = step_recv(r->e, r->g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_WELCOME_RESPONSE);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_SUCCESS);
	const char *bound = NULL;
	size_t bl = 0;
	assert_int_equal(tofu_msg_find_header(m, TOFU_HEADER_BOUND_TO, &bound, &bl), 1);
	char b[128];
	assert_true(bl < sizeof b);
	memcpy(b, bound, bl);
	b[bl] = 0;
	tofu_put(r->e, &m);
	r->peer = tu_raw_connect(b);
	assert_true(r->peer >= 0);
}

/* Takes every pooled message (the pool holds at most 8 here), so that
 * only the app holds messages; returns how many. */
static int drain_pool(tofu_engine *e, tofu_msg *held[8])
{
	int nh = 0;
	while (nh < 8 && tofu_get(e, TOFU_GET_POOL_ONLY, &held[nh]) == 0 && held[nh])
		nh++;
	assert_true(nh > 0);
	return nh;
}

/* Frames in, a frame out, the peer's FIN: the threaded engine's flows. */
static void test_stepped_flows(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	tu_raw_frame(r.peer, 0, TOFU_OP_REQUEST, 0, 11, "a: b\r\n", "ping");
	tu_raw_frame(r.peer, 0, TOFU_OP_SIGNAL, 0, 12, NULL, "sig");

	tofu_msg *m = step_recv(r.e, r.g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_REQUEST);
	assert_int_equal(tofu_msg_header_const(m)->message_id, 11);
	size_t len = 0;
	const uint8_t *body = tofu_msg_body(m, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(body, "ping", 4);
	uint16_t cn = tofu_msg_header_const(m)->channel_number;
	assert_int_not_equal(cn, 0);
	tofu_put(r.e, &m);
	m = step_recv(r.e, r.g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_SIGNAL);
	assert_int_equal(tofu_msg_header_const(m)->channel_number, cn);
	tofu_put(r.e, &m);

	tu_post(r.e, r.g, cn, TOFU_OP_RESPONSE, 11, "pong");
	step_until_readable(r.e, r.peer);
	tofu_header h;
	uint8_t buf[64];
	assert_int_equal(tu_raw_read_frame(r.peer, &h, buf, sizeof buf), 1);
	assert_int_equal(tofu_proto_opcode(h.proto), TOFU_OP_RESPONSE);
	assert_int_equal(h.message_id, 11);
	assert_int_equal(h.body_len, 4);
	assert_memory_equal(buf, "pong", 4);

	shutdown(r.peer, SHUT_WR);
	m = step_recv(r.e, r.g);
	tu_check_closed(r.e, &m, cn, 11, TOFU_STATUS_RECV_FAILED);

	close(r.peer);
	tofu_group_destroy(r.g); /* steps the loop until the command is done */
	tofu_engine_destroy(r.e);
}

/* The pool runs dry (4 messages kept by the app, pool_max 8 but none
 * free): reading stops with one pool_empty Signal, and resumes on put. */
static void test_stepped_starve_resume(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	tofu_msg *held[8];
	int nh = drain_pool(r.e, held);
	for (int i = 0; i < 3; i++)
		tu_raw_frame(r.peer, 0, TOFU_OP_SIGNAL, 0, (uint64_t)(100 + i), NULL, "x");
	tofu_msg *m = step_recv(r.e, r.g);
	assert_int_equal(tofu_msg_origin(m), 1); /* engine */
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_POOL_EMPTY);
	tofu_put(r.e, &m);
	while (nh)
		tofu_put(r.e, &held[--nh]);
	for (int i = 0; i < 3; i++) {
		m = step_recv(r.e, r.g);
		assert_int_equal(tofu_msg_origin(m), 0); /* peer */
		assert_int_equal(tofu_msg_header_const(m)->message_id, (uint64_t)(100 + i));
		tofu_put(r.e, &m);
	}
	close(r.peer);
	tofu_group_destroy(r.g);
	tofu_engine_destroy(r.e);
}

/* Exactly one pool_empty Signal per pause (WIRE-8.8.4), and a new one
 * when the app's answer (a put) was taken by another get before the
 * reactor could use it: the app is told again instead of waiting forever.
 * Deterministic here because the test decides when the reactor runs. */
static void test_stepped_pool_empty_again_after_stolen_put(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	tofu_msg *held[8];
	int nh = drain_pool(r.e, held);
	tu_raw_frame(r.peer, 0, TOFU_OP_SIGNAL, 0, 200, NULL, "x");
	tofu_msg *m = step_recv(r.e, r.g);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_POOL_EMPTY);

	/* No put: steps (and the reactor's retries) bring no second Signal. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(tofu__engine_step(r.e, 20), 0);
	tofu_msg *none = NULL;
	assert_int_equal(tofu_wait_receive(r.g, 0, &none), 0);
	assert_null(none);

	/* Put the Signal back, and take it again before the reactor runs. */
	tofu_put(r.e, &m);
	tofu_msg *stolen = NULL;
	assert_int_equal(tofu_get(r.e, TOFU_GET_POOL_ONLY, &stolen), 0);
	assert_non_null(stolen);
	m = step_recv(r.e, r.g);
	assert_int_equal(tofu_msg_origin(m), 1);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_POOL_EMPTY);

	/* A put the reactor gets ends the pause: the frame arrives. */
	tofu_put(r.e, &m);
	m = step_recv(r.e, r.g);
	assert_int_equal(tofu_msg_origin(m), 0);
	assert_int_equal(tofu_msg_header_const(m)->message_id, 200);
	tofu_put(r.e, &m);
	tofu_put(r.e, &stolen);
	while (nh)
		tofu_put(r.e, &held[--nh]);
	close(r.peer);
	tofu_group_destroy(r.g);
	tofu_engine_destroy(r.e);
}

/* Destroy with the channel open runs the shutdown the thread would run:
 * the peer sees the connection end. */
static void test_stepped_destroy_open(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	tu_raw_frame(r.peer, 0, TOFU_OP_SIGNAL, 0, 5, NULL, "x");
	tofu_msg *m = step_recv(r.e, r.g);
	tofu_put(r.e, &m);
	tofu_engine_destroy(r.e);
	assert_int_equal(tu_raw_wait_eof(r.peer, TU_TIMEOUT_MS), 1);
	close(r.peer);
}

/* A threaded engine refuses to be stepped. */
static void test_threaded_not_steppable(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	assert_int_equal(tofu__engine_step(e, 0), -1);
	tofu_engine_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stepped_flows),
	    cmocka_unit_test(test_stepped_starve_resume),
	    cmocka_unit_test(test_stepped_pool_empty_again_after_stolen_put),
	    cmocka_unit_test(test_stepped_destroy_open),
	    cmocka_unit_test(test_threaded_not_steppable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
