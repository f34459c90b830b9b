/*
 * engine/test/stepped_test.c - the stepped engine (engine/src/internal.h):
 * the reactor loop run by the caller, one iteration per tofu__engine_step.
 * The receive-path fuzz harness stands on it, so it must behave as the
 * threaded engine does: listen, accept, receive, send, close notifications,
 * group and engine destroy (which step the loop themselves). Also what the
 * harness adds: adopted sockets (tofu__engine_adopt), and how the loop ends
 * a channel whose peer already sent its FIN.
 */
#include <errno.h>
#include <fcntl.h>
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

/* Posts a Response on channel cn and checks that the peer reads it. */
static void answer_and_read(struct rig *r, uint16_t cn, uint64_t id, const char *body)
{
	tu_post(r->e, r->g, cn, TOFU_OP_RESPONSE, id, body);
	step_until_readable(r->e, r->peer);
	tofu_header h;
	uint8_t buf[64];
	size_t bl = strlen(body);
	assert_int_equal(tu_raw_read_frame(r->peer, &h, buf, sizeof buf), 1);
	assert_int_equal(tofu_proto_opcode(h.proto), TOFU_OP_RESPONSE);
	assert_int_equal(h.message_id, id);
	assert_int_equal(h.body_len, bl);
	assert_memory_equal(buf, body, bl);
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

	answer_and_read(&r, cn, 11, "pong");

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

/* A stepped engine and a group, no listener: channels come by adoption. */
static void adopt_rig(struct rig *r, uint32_t max_connections)
{
	tofu_options o;
	tofu_options_init(&o);
	o.max_connections = max_connections;
	assert_int_equal(tofu__engine_create_stepped(&o, &r->e), 0);
	assert_int_equal(tofu_group_create(r->e, &r->g), 0);
	r->peer = -1;
}

/* Adopts one end of a new socketpair (blocking, as the engine must not
 * need O_NONBLOCK); returns tofu__engine_adopt's result, the other end in
 * *peer, the adopted descriptor in *mine (if not NULL). */
static int adopt_pair(struct rig *r, int *peer, int *mine)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	*peer = sv[0];
	if (mine)
		*mine = sv[1];
	return tofu__engine_adopt(r->e, r->g, sv[1]);
}

/* Whether descriptor fd is open in this process. */
static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

static void close_rig(struct rig *r)
{
	if (r->peer >= 0)
		close(r->peer);
	tofu_group_destroy(r->g);
	tofu_engine_destroy(r->e);
}

/* An adopted socket is an accepted channel of the group: frames in, an
 * answer out, the peer's FIN closes it (a blocking socket is fine: every
 * engine send and recv is MSG_DONTWAIT). */
static void test_adopt_flows(void **state)
{
	(void)state;
	struct rig r;
	adopt_rig(&r, 0);
	assert_int_equal(adopt_pair(&r, &r.peer, NULL), 0);
	tu_raw_frame(r.peer, 0, TOFU_OP_REQUEST, 0, 21, "k: v\r\n", "ask");
	tofu_msg *m = step_recv(r.e, r.g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_REQUEST);
	assert_int_equal(tofu_msg_header_const(m)->message_id, 21);
	uint16_t cn = tofu_msg_header_const(m)->channel_number;
	assert_int_not_equal(cn, 0);
	tofu_put(r.e, &m);

	answer_and_read(&r, cn, 21, "answer");

	shutdown(r.peer, SHUT_WR);
	m = step_recv(r.e, r.g);
	tu_check_closed(r.e, &m, cn, 21, TOFU_STATUS_RECV_FAILED);
	close_rig(&r);
}

/* Refused adoptions close the socket and deliver nothing: over
 * max_connections, and on an engine that is not stepped. */
static void test_adopt_refused(void **state)
{
	(void)state;
	struct rig r;
	adopt_rig(&r, 1);
	assert_int_equal(adopt_pair(&r, &r.peer, NULL), 0);
	int extra = -1;
	assert_int_equal(adopt_pair(&r, &extra, NULL), -1);
	assert_int_equal(tu_raw_wait_eof(extra, TU_TIMEOUT_MS), 1);
	close(extra);
	for (int i = 0; i < 3; i++)
		assert_int_equal(tofu__engine_step(r.e, 10), 0);
	tofu_msg *none = NULL;
	assert_int_equal(tofu_wait_receive(r.g, 0, &none), 0);
	assert_null(none);
	close_rig(&r);

	tofu_engine *e = tu_engine(NULL);
	tofu_group *g = NULL;
	assert_int_equal(tofu_group_create(e, &g), 0);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(tofu__engine_adopt(e, g, sv[1]), -1);
	assert_int_equal(tu_raw_wait_eof(sv[0], TU_TIMEOUT_MS), 1);
	close(sv[0]);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

/* Frames followed by the peer's FIN, both in the socket before the loop
 * runs: one loop iteration delivers the frames and the close (the FIN is
 * reported with the data, EPOLLRDHUP; no second wait to find it). */
static void test_fin_with_data_one_iteration(void **state)
{
	(void)state;
	struct rig r;
	adopt_rig(&r, 0);
	assert_int_equal(adopt_pair(&r, &r.peer, NULL), 0);
	tu_raw_frame(r.peer, 0, TOFU_OP_SIGNAL, 0, 31, NULL, "one");
	tu_raw_frame(r.peer, 0, TOFU_OP_SIGNAL, 0, 32, NULL, "two");
	shutdown(r.peer, SHUT_WR);
	assert_int_equal(tofu__engine_step(r.e, TU_TIMEOUT_MS), 0);
	tofu_msg *m[3] = {NULL, NULL, NULL};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tofu_wait_receive(r.g, 0, &m[i]), 0);
		assert_non_null(m[i]);
	}
	assert_int_equal(tofu_msg_header_const(m[0])->message_id, 31);
	assert_int_equal(tofu_msg_header_const(m[1])->message_id, 32);
	uint16_t cn = tofu_msg_header_const(m[0])->channel_number;
	tofu_put(r.e, &m[0]);
	tofu_put(r.e, &m[1]);
	tu_check_closed(r.e, &m[2], cn, 31, TOFU_STATUS_RECV_FAILED);
	close_rig(&r);
}

/* An invalid frame closes the channel. If the peer's FIN is already in,
 * the socket closes at once (its input read to the end: nothing to wait
 * for, no reset). Otherwise the engine lingers (WIRE-8.6.8): FIN out, the
 * socket open and reading until the peer's FIN. */
static void test_invalid_frame_linger_or_not(void **state)
{
	(void)state;
	uint8_t bad[16];
	tofu_header h = {0, 9, 0, 41, 0, 0}; /* opcode 9 does not exist */
	tofu_header_encode(&h, bad);
	for (int fin = 0; fin < 2; fin++) {
		struct rig r;
		adopt_rig(&r, 0);
		int mine = -1;
		assert_int_equal(adopt_pair(&r, &r.peer, &mine), 0);
		tu_raw_frame(r.peer, 0, TOFU_OP_SIGNAL, 0, 40, NULL, "ok");
		tu_raw_write(r.peer, bad, sizeof bad);
		tu_raw_write(r.peer, "trailing bytes", 14);
		if (fin)
			shutdown(r.peer, SHUT_WR);
		tofu_msg *m = step_recv(r.e, r.g);
		assert_int_equal(tofu_msg_header_const(m)->message_id, 40);
		uint16_t cn = tofu_msg_header_const(m)->channel_number;
		tofu_put(r.e, &m);
		m = step_recv(r.e, r.g);
		tu_check_closed(r.e, &m, cn, 40, TOFU_STATUS_INVALID_OP_CODE);
		/* No further step: the state the close left. */
		assert_int_equal(tu_raw_wait_eof(r.peer, TU_TIMEOUT_MS), 1);
		if (fin) {
			assert_false(fd_open(mine));
		} else {
			assert_true(fd_open(mine));
			assert_int_equal(send(r.peer, "x", 1, MSG_NOSIGNAL), 1); /* drained */
			shutdown(r.peer, SHUT_WR);
			/* The linger ends with the peer's FIN. */
			uint64_t end = now_ms() + TU_TIMEOUT_MS;
			while (fd_open(mine)) {
				assert_true(now_ms() < end);
				assert_int_equal(tofu__engine_step(r.e, 10), 0);
			}
		}
		close_rig(&r);
	}
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
	    cmocka_unit_test(test_adopt_flows),
	    cmocka_unit_test(test_adopt_refused),
	    cmocka_unit_test(test_fin_with_data_one_iteration),
	    cmocka_unit_test(test_invalid_frame_linger_or_not),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
