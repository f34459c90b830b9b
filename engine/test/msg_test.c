/*
 * engine/test/msg_test.c - messages, the pool, post validation (Zig's
 * check_and_prepare order and status bytes), message-id assignment, channel
 * numbers, wait_receive timeouts, update_receiver.
 */
#include "testutil.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

static void test_msg_accessors(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_POOL_ONLY, &m), 0);
	assert_non_null(m);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_REQUEST);
	assert_int_equal(tofu_msg_channel(m), 0);
	assert_int_equal(tofu_msg_id(m), 0);
	size_t n = 1;
	tofu_msg_headers(m, &n);
	assert_int_equal(n, 0);

	assert_int_equal(tofu_msg_add_header(m, "Job-ID", "12345"), 0);
	assert_int_equal(tofu_msg_add_header(m, "b", "x:y"), 0);
	const uint8_t *th = tofu_msg_headers(m, &n);
	assert_int_equal(n, strlen("Job-ID:12345\r\nb:x:y\r\n"));
	assert_memory_equal(th, "Job-ID:12345\r\nb:x:y\r\n", n);
	const char *v;
	size_t vl;
	assert_true(tofu_msg_find_header(m, "b", &v, &vl));
	assert_int_equal(vl, 3);
	assert_memory_equal(v, "x:y", 3);
	assert_false(tofu_msg_find_header(m, "c", &v, &vl));
	/* The serialiser refuses header injection; nothing is appended. */
	assert_int_equal(tofu_msg_add_header(m, "evil", "a\r\nb:c"), TOFU_STATUS_INVALID_MESSAGE);
	assert_int_equal(tofu_msg_add_header(m, "", "v"), TOFU_STATUS_INVALID_MESSAGE);
	tofu_msg_headers(m, &n);
	assert_int_equal(n, strlen("Job-ID:12345\r\nb:x:y\r\n"));

	static uint8_t big[70000];
	assert_int_equal(tofu_msg_set_body(m, big, 65536), TOFU_STATUS_INVALID_BODY_LEN);
	assert_int_equal(tofu_msg_set_body(m, big, 65535), 0);
	assert_int_equal(tofu_msg_set_headers(m, big, 65536), TOFU_STATUS_INVALID_HEADERS_LEN);
	assert_null(tofu_msg_body_reserve(m, 65536));
	uint8_t *b = tofu_msg_body_reserve(m, 5);
	assert_non_null(b);
	memcpy(b, "hello", 5);
	assert_memory_equal(tofu_msg_body(m, &n), "hello", 5);
	assert_int_equal(n, 5);

	tofu_msg_set_more(m, 1);
	tofu_msg_set_oob(m, 1);
	assert_int_equal(tofu_msg_header(m)->proto, 0x60);
	tofu_msg_set_abort(m, 7);
	assert_int_equal(tofu_msg_header(m)->proto, 0x47);
	assert_int_equal(tofu_msg_channel(m), 7);

	assert_int_equal(tofu_msg_prepare_hello(m, "tcp|127.0.0.1|7099"), 0);
	assert_int_equal(tofu_msg_header(m)->proto, 0x03);
	assert_int_equal(tofu_msg_channel(m), 0);
	tofu_msg_reset(m);
	tofu_msg_body(m, &n);
	assert_int_equal(n, 0);
	tofu_put(e, &m);
	assert_null(m);
	tofu_put(e, &m); /* no-op */
	tofu_put(e, NULL);
	tofu_engine_destroy(e);
}

static void test_pool(void **state)
{
	(void)state;
	tofu_options o;
	tofu_options_init(&o);
	o.pool_initial = 2;
	o.pool_max = 3;
	tofu_engine *e = tu_engine(&o);
	tofu_msg *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_POOL_ONLY, &a), 0);
	assert_int_equal(tofu_get(e, TOFU_GET_POOL_ONLY, &b), 0);
	assert_non_null(a);
	assert_non_null(b);
	/* Empty pool: NULL, not an error; ALWAYS allocates. */
	assert_int_equal(tofu_get(e, TOFU_GET_POOL_ONLY, &c), 0);
	assert_null(c);
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &c), 0);
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &d), 0);
	assert_non_null(c);
	/* Put resets: a reused message comes back clean. */
	tofu_msg_set_id(a, 99);
	tofu_msg_set_body(a, "x", 1);
	tofu_put(e, &a);
	tofu_put(e, &b);
	tofu_put(e, &c);
	tofu_put(e, &d); /* over pool_max: freed */
	assert_int_equal(tofu_get(e, TOFU_GET_POOL_ONLY, &a), 0);
	assert_non_null(a);
	assert_int_equal(tofu_msg_id(a), 0);
	size_t n;
	tofu_msg_body(a, &n);
	assert_int_equal(n, 0);
	tofu_put(e, &a);
	tofu_engine_destroy(e);
}

static tofu_msg *fresh(tofu_engine *e, int opcode, uint16_t cn, uint64_t id)
{
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	tofu_msg_set_opcode(m, opcode);
	tofu_msg_set_channel(m, cn);
	tofu_msg_set_id(m, id);
	return m;
}

static void rejects(tofu_group *g, tofu_msg **m, int status, int status_byte)
{
	assert_int_equal(tofu_post(g, m, NULL), status);
	assert_non_null(*m);
	assert_int_equal(tofu_msg_status(*m), status_byte);
}

static void test_post_validation(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g, *g2;
	assert_int_equal(tofu_group_create(e, &g), 0);
	assert_int_equal(tofu_group_create(e, &g2), 0);
	tofu_msg *m = NULL;
	assert_int_equal(tofu_post(g, NULL, NULL), TOFU_STATUS_NULL_MESSAGE);
	assert_int_equal(tofu_post(g, &m, NULL), TOFU_STATUS_NULL_MESSAGE);

	/* Opcodes 10-15 and WelcomeResponse: refused (WIRE-9.4.2); the
	 * caller keeps the message, only its status byte changes. */
	for (int op = 9; op < 16; op++) {
		m = fresh(e, op, 5, 1);
		tofu_msg_header(m)->proto |= TOFU_PROTO_ORIGIN_MASK;
		rejects(g, &m, TOFU_STATUS_INVALID_OP_CODE, TOFU_STATUS_INVALID_OP_CODE);
		assert_int_equal(tofu_msg_origin(m), 1);
		assert_int_equal(tofu_msg_opcode(m), op);
		tofu_put(e, &m);
	}
	/* Response roles need an id; status byte set as in Zig. */
	int resp[] = {TOFU_OP_RESPONSE, TOFU_OP_HELLO_RESPONSE, TOFU_OP_BYE_RESPONSE};
	for (int i = 0; i < 3; i++) {
		m = fresh(e, resp[i], 5, 0);
		rejects(g, &m, TOFU_STATUS_INVALID_MESSAGE_ID, TOFU_STATUS_INVALID_MESSAGE_ID);
		tofu_put(e, &m);
	}
	/* more only on regular opcodes. */
	int nonreg[] = {TOFU_OP_HELLO_REQUEST, TOFU_OP_BYE_REQUEST, TOFU_OP_BYE_SIGNAL,
			TOFU_OP_WELCOME_REQUEST};
	for (int i = 0; i < 4; i++) {
		m = fresh(e, nonreg[i], 5, 1);
		tofu_msg_set_more(m, 1);
		rejects(g, &m, TOFU_STATUS_INVALID_MORE_USAGE, TOFU_STATUS_INVALID_MORE_USAGE);
		tofu_put(e, &m);
	}
	/* Channel 0 only for Welcome/Hello, which must use 0. */
	m = fresh(e, TOFU_OP_REQUEST, 0, 0);
	rejects(g, &m, TOFU_STATUS_INVALID_CHANNEL_NUMBER, TOFU_STATUS_INVALID_CHANNEL_NUMBER);
	tofu_put(e, &m);
	m = fresh(e, TOFU_OP_HELLO_REQUEST, 9, 0);
	tofu_msg_add_header(m, TOFU_HEADER_CONNECT_TO, "tcp|127.0.0.1|1");
	rejects(g, &m, TOFU_STATUS_INVALID_CHANNEL_NUMBER, TOFU_STATUS_INVALID_CHANNEL_NUMBER);
	tofu_put(e, &m);
	/* A channel that is not open. */
	m = fresh(e, TOFU_OP_SIGNAL, 1234, 0);
	rejects(g, &m, TOFU_STATUS_INVALID_CHANNEL_NUMBER, TOFU_STATUS_INVALID_CHANNEL_NUMBER);
	tofu_put(e, &m);
	/* Welcome/Hello without headers. */
	m = fresh(e, TOFU_OP_HELLO_REQUEST, 0, 0);
	rejects(g, &m, TOFU_STATUS_WRONG_ADDRESS, TOFU_STATUS_WRONG_ADDRESS);
	tofu_put(e, &m);
	/* origin/status are forced to 0 on a successful post. */
	char bound[200];
	uint16_t lc = tu_listen(e, g, "uds|", bound, sizeof(bound));
	m = fresh(e, TOFU_OP_REQUEST, lc, 0);
	/* data on a listener channel is refused */
	rejects(g, &m, TOFU_STATUS_INVALID_CHANNEL_NUMBER, TOFU_STATUS_INVALID_CHANNEL_NUMBER);
	tofu_put(e, &m);
	/* another group's channel */
	m = fresh(e, TOFU_OP_BYE_SIGNAL, lc, 0);
	tofu_msg_set_oob(m, 1);
	rejects(g2, &m, TOFU_STATUS_INVALID_MCHN_GROUP, TOFU_STATUS_INVALID_MCHN_GROUP);
	tofu_put(e, &m);

	uint16_t cc = tu_hello(e, g, bound, NULL);
	tofu_msg *hello = tu_recv(g); /* accepted side: same group */
	assert_int_equal(tofu_msg_opcode(hello), TOFU_OP_HELLO_REQUEST);
	tofu_put(e, &hello);
	m = fresh(e, TOFU_OP_SIGNAL, cc, 0);
	tofu_msg_header(m)->proto |= TOFU_PROTO_ORIGIN_MASK;
	tofu_msg_header(m)->status = 19;
	tofu_header ph;
	assert_int_equal(tofu_post(g, &m, &ph), 0);
	assert_null(m);
	assert_int_equal(ph.status, 0);
	assert_int_equal(tofu_proto_origin(ph.proto), 0);
	m = tu_recv(g);
	assert_int_equal(tofu_msg_origin(m), 0);
	assert_int_equal(tofu_msg_status(m), 0);
	assert_int_equal(tofu_msg_id(m), ph.message_id);
	tofu_put(e, &m);
	tofu_group_destroy(g2);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

static void test_message_ids(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	char bound[200];
	tu_listen(e, g, "uds|", bound, sizeof(bound));
	uint16_t cc = tu_hello(e, g, bound, NULL);
	uint64_t last = 0;
	for (int i = 0; i < 10; i++) {
		tofu_msg *m = fresh(e, TOFU_OP_SIGNAL, cc, 0);
		tofu_header ph;
		assert_int_equal(tofu_post(g, &m, &ph), 0);
		assert_true(ph.message_id > last);
		last = ph.message_id;
	}
	/* App-chosen ids are kept as they are. */
	tofu_msg *m = fresh(e, TOFU_OP_SIGNAL, cc, 424242);
	tofu_header ph;
	assert_int_equal(tofu_post(g, &m, &ph), 0);
	assert_int_equal(ph.message_id, 424242);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

static void test_channel_numbers(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	static uint8_t seen[65536];
	memset(seen, 0, sizeof(seen));
	/* Open and close listeners: numbers are never 0/65535 and a released
	 * number is not handed out again among the next 1024. */
	for (int i = 0; i < 200; i++) {
		char bound[200];
		uint16_t lc = tu_listen(e, g, "uds|", bound, sizeof(bound));
		assert_int_not_equal(lc, 0);
		assert_int_not_equal(lc, 65535);
		assert_int_equal(seen[lc], 0);
		seen[lc] = 1;
		tofu_msg *m = NULL;
		assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
		tofu_msg_set_abort(m, lc);
		assert_int_equal(tofu_post(g, &m, NULL), 0);
		m = tu_recv(g);
		tofu_put(e, &m);
		m = tu_recv(g);
		assert_int_equal(tofu_msg_status(m), TOFU_STATUS_CHANNEL_CLOSED);
		tofu_put(e, &m);
	}
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

static void test_wait_receive_timeouts(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	tofu_msg *m = (tofu_msg *)1;
	assert_int_equal(tofu_wait_receive(g, 0, &m), 0);
	assert_null(m);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(tofu_wait_receive(g, 30 * 1000000ull, &m), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_null(m);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 29);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

static void test_update_receiver(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	assert_int_equal(tofu_update_receiver(g, NULL), 0);
	tofu_msg *m = fresh(e, TOFU_OP_REQUEST, 0, 55);
	tofu_msg_header(m)->proto |= TOFU_PROTO_ORIGIN_MASK;
	assert_int_equal(tofu_update_receiver(g, &m), 0);
	assert_null(m);
	m = tu_recv(g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_SIGNAL);
	assert_int_equal(tofu_msg_origin(m), 1);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_RECEIVER_UPDATE);
	assert_int_equal(tofu_msg_channel(m), 0);
	assert_int_equal(tofu_msg_id(m), 0);
	tofu_put(e, &m);
	m = tu_recv(g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_REQUEST);
	assert_int_equal(tofu_msg_origin(m), 0);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_RECEIVER_UPDATE);
	assert_int_equal(tofu_msg_id(m), 55);
	tofu_put(e, &m);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

struct waiter {
	tofu_group *g;
	int rc;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	tofu_msg *m = NULL;
	w->rc = tofu_wait_receive(w->g, TOFU_WAIT_INFINITE, &m);
	return NULL;
}

static void test_destroy_wakes_receiver(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	struct waiter w = {g, -1};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
	struct timespec ts = {0, 20 * 1000000};
	nanosleep(&ts, NULL);
	tofu_group_destroy(g);
	pthread_join(t, NULL);
	assert_int_equal(w.rc, TOFU_STATUS_SHUTDOWN_STARTED);
	tofu_engine_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_msg_accessors),   cmocka_unit_test(test_pool),
	    cmocka_unit_test(test_post_validation), cmocka_unit_test(test_message_ids),
	    cmocka_unit_test(test_channel_numbers), cmocka_unit_test(test_wait_receive_timeouts),
	    cmocka_unit_test(test_update_receiver), cmocka_unit_test(test_destroy_wakes_receiver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
