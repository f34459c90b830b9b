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

/* ---------------------------------------- layout: headers + body in one buffer */

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7u);
}

static void check_bytes(const uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(seed + i * 7u))
			fail_msg("byte %zu of %zu differs", i, n);
}

static void check_th(const tofu_msg *m, const char *want)
{
	size_t n;
	const uint8_t *th = tofu_msg_headers(m, &n);
	assert_non_null(th);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(th, want, n);
}

static void check_body_seed(const tofu_msg *m, size_t len, unsigned seed)
{
	size_t n;
	const uint8_t *b = tofu_msg_body(m, &n);
	assert_non_null(b);
	assert_int_equal(n, len);
	check_bytes(b, n, seed);
}

/* The body moves whenever the text headers change size and the whole buffer
 * moves when it outgrows the inline storage: contents must survive every
 * transition, in both directions. */
static void test_layout_inline_heap(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	static uint8_t src[65535];

	/* Small: inline. */
	assert_int_equal(tofu_msg_add_header(m, "a", "1"), 0);
	fill(src, 100, 1);
	assert_int_equal(tofu_msg_set_body(m, src, 100), 0);
	check_th(m, "a:1\r\n");
	check_body_seed(m, 100, 1);
	/* A header added after the body shifts the body. */
	assert_int_equal(tofu_msg_add_header(m, "bb", "22"), 0);
	check_th(m, "a:1\r\nbb:22\r\n");
	check_body_seed(m, 100, 1);
	/* Body to the heap (far past any inline size). */
	fill(src, 5000, 2);
	assert_int_equal(tofu_msg_set_body(m, src, 5000), 0);
	check_th(m, "a:1\r\nbb:22\r\n");
	check_body_seed(m, 5000, 2);
	/* Headers growing past the inline size with a heap body. */
	char val[600];
	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = 0;
	assert_int_equal(tofu_msg_add_header(m, "long", val), 0);
	check_body_seed(m, 5000, 2);
	size_t n;
	const uint8_t *th = tofu_msg_headers(m, &n);
	assert_int_equal(n, strlen("a:1\r\nbb:22\r\n") + 5 + 599 + 2);
	assert_memory_equal(th + n - 2, "\r\n", 2);
	/* Headers shrink (body moves back toward them), then clear. */
	assert_int_equal(tofu_msg_set_headers(m, "x:y\r\n", 5), 0);
	check_th(m, "x:y\r\n");
	check_body_seed(m, 5000, 2);
	assert_int_equal(tofu_msg_set_headers(m, NULL, 0), 0);
	check_th(m, "");
	check_body_seed(m, 5000, 2);
	/* Back to a small body, headers again. */
	fill(src, 10, 3);
	assert_int_equal(tofu_msg_set_body(m, src, 10), 0);
	assert_int_equal(tofu_msg_add_header(m, "c", "3"), 0);
	check_th(m, "c:3\r\n");
	check_body_seed(m, 10, 3);
	/* body_reserve keeps the prefix of the body while growing. */
	uint8_t *b = tofu_msg_body_reserve(m, 3000);
	assert_non_null(b);
	check_bytes(b, 10, 3);
	assert_int_equal(tofu_msg_body(m, NULL), b);
	check_th(m, "c:3\r\n");
	/* Empty body and headers: pointers stay usable, never NULL. */
	assert_int_equal(tofu_msg_set_body(m, NULL, 0), 0);
	assert_non_null(tofu_msg_body(m, &n));
	assert_int_equal(n, 0);
	check_th(m, "c:3\r\n");
	tofu_put(e, &m);
	tofu_engine_destroy(e);
}

/* A message reused from the pool keeps its (heap) buffer but comes back
 * empty, and everything written to it afterwards reads back exactly. */
static void test_layout_pool_reuse(void **state)
{
	(void)state;
	tofu_options o;
	tofu_options_init(&o);
	o.pool_initial = 1;
	o.pool_max = 1;
	tofu_engine *e = tu_engine(&o);
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_POOL_ONLY, &m), 0);
	assert_non_null(m);
	tofu_msg *first = m;
	static uint8_t src[20000];
	fill(src, 20000, 4);
	assert_int_equal(tofu_msg_set_headers(m, "h:1\r\n", 5), 0);
	assert_int_equal(tofu_msg_set_body(m, src, 20000), 0);
	tofu_put(e, &m);
	assert_int_equal(tofu_get(e, TOFU_GET_POOL_ONLY, &m), 0);
	assert_ptr_equal(m, first); /* the one pooled message */
	size_t n;
	tofu_msg_headers(m, &n);
	assert_int_equal(n, 0);
	tofu_msg_body(m, &n);
	assert_int_equal(n, 0);
	/* Body first, then headers: the body shifts behind them. */
	fill(src, 300, 5);
	assert_int_equal(tofu_msg_set_body(m, src, 300), 0);
	assert_int_equal(tofu_msg_add_header(m, "k", "v"), 0);
	check_th(m, "k:v\r\n");
	check_body_seed(m, 300, 5);
	tofu_put(e, &m);
	/* Small again after reuse (inline-sized contents in a heap buffer). */
	assert_int_equal(tofu_get(e, TOFU_GET_POOL_ONLY, &m), 0);
	assert_int_equal(tofu_msg_set_body(m, "ab", 2), 0);
	assert_int_equal(tofu_msg_set_headers(m, "q:r\r\n", 5), 0);
	check_th(m, "q:r\r\n");
	assert_memory_equal(tofu_msg_body(m, &n), "ab", 2);
	assert_int_equal(n, 2);
	tofu_put(e, &m);
	tofu_engine_destroy(e);
}

/* Both blocks at the protocol maximum at once; refused changes (too long,
 * rejected by the serialiser) leave headers and body exactly as they were. */
static void test_layout_limits_and_refusals(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	static uint8_t th[65535], body[65535];
	fill(th, sizeof(th), 6);
	fill(body, sizeof(body), 7);

	/* A refused header with a body present: the body must not move. */
	fill(body, 200, 7);
	assert_int_equal(tofu_msg_set_body(m, body, 200), 0);
	assert_int_equal(tofu_msg_add_header(m, "a", "1"), 0);
	assert_int_equal(tofu_msg_add_header(m, "bad name", "x"), TOFU_STATUS_INVALID_MESSAGE);
	assert_int_equal(tofu_msg_add_header(m, "n", "a\r\nb"), TOFU_STATUS_INVALID_MESSAGE);
	check_th(m, "a:1\r\n");
	check_body_seed(m, 200, 7);

	assert_int_equal(tofu_msg_set_headers(m, th, 65535), 0);
	assert_int_equal(tofu_msg_set_body(m, body, 65535), 0);
	size_t n;
	const uint8_t *p = tofu_msg_headers(m, &n);
	assert_int_equal(n, 65535);
	check_bytes(p, n, 6);
	check_body_seed(m, 65535, 7);
	/* Over the limits: refused, nothing changed. */
	assert_int_equal(tofu_msg_add_header(m, "a", "1"), TOFU_STATUS_INVALID_HEADERS_LEN);
	assert_int_equal(tofu_msg_set_headers(m, th, 65536), TOFU_STATUS_INVALID_HEADERS_LEN);
	assert_int_equal(tofu_msg_set_body(m, body, 65536), TOFU_STATUS_INVALID_BODY_LEN);
	assert_null(tofu_msg_body_reserve(m, 65536));
	p = tofu_msg_headers(m, &n);
	assert_int_equal(n, 65535);
	check_bytes(p, n, 6);
	check_body_seed(m, 65535, 7);
	/* Post refuses nothing here but the sizes are the largest frame. */
	tofu_put(e, &m);
	tofu_engine_destroy(e);
}

/* Sources inside the message itself (a found header value, the body, the
 * header block) stay correct when the buffer grows or the body moves. */
static void test_layout_aliasing(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	char val[201];
	memset(val, 'z', 200);
	val[200] = 0;
	assert_int_equal(tofu_msg_add_header(m, "v", val), 0);
	assert_int_equal(tofu_msg_set_body(m, "0123456789", 10), 0);
	/* Value found in the message appended to the message (grows past the
	 * inline storage: the source moves with the buffer). */
	const char *fv;
	size_t fl;
	assert_true(tofu_msg_find_header(m, "v", &fv, &fl));
	assert_int_equal(tofu_msg_add_header_n(m, "w", 1, fv, fl), 0);
	assert_true(tofu_msg_find_header(m, "w", &fv, &fl));
	assert_int_equal(fl, 200);
	assert_memory_equal(fv, val, 200);
	size_t n;
	assert_memory_equal(tofu_msg_body(m, &n), "0123456789", 10);
	/* Header value taken from the body (the body shifts over it). */
	const uint8_t *b = tofu_msg_body(m, &n);
	assert_int_equal(tofu_msg_add_header_n(m, "x", 1, b, 10), 0);
	assert_true(tofu_msg_find_header(m, "x", &fv, &fl));
	assert_int_equal(fl, 10);
	assert_memory_equal(fv, "0123456789", 10);
	assert_memory_equal(tofu_msg_body(m, &n), "0123456789", 10);
	/* Body set from the message's own header block, larger than the
	 * buffer holds (grows while the source is inside it). */
	size_t hl;
	const uint8_t *h = tofu_msg_headers(m, &hl);
	uint8_t copy[1024];
	assert_true(hl <= sizeof(copy));
	memcpy(copy, h, hl);
	assert_int_equal(tofu_msg_set_body(m, h, hl), 0);
	assert_memory_equal(tofu_msg_body(m, &n), copy, hl);
	assert_int_equal(n, hl);
	/* Header block set from part of the body (the body moves). */
	b = tofu_msg_body(m, &n);
	assert_int_equal(tofu_msg_set_headers(m, b, 13), 0); /* "v:zzzzzzzzzzz" */
	check_th(m, "v:zzzzzzzzzzz");
	assert_memory_equal(tofu_msg_body(m, &n), copy, hl);
	/* Body set from a tail of itself (overlapping, no growth). */
	b = tofu_msg_body(m, &n);
	assert_int_equal(tofu_msg_set_body(m, b + 2, n - 2), 0);
	assert_memory_equal(tofu_msg_body(m, &n), copy + 2, hl - 2);
	tofu_put(e, &m);
	tofu_engine_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_msg_accessors),
	    cmocka_unit_test(test_pool),
	    cmocka_unit_test(test_post_validation),
	    cmocka_unit_test(test_message_ids),
	    cmocka_unit_test(test_channel_numbers),
	    cmocka_unit_test(test_wait_receive_timeouts),
	    cmocka_unit_test(test_update_receiver),
	    cmocka_unit_test(test_destroy_wakes_receiver),
	    cmocka_unit_test(test_layout_inline_heap),
	    cmocka_unit_test(test_layout_pool_reuse),
	    cmocka_unit_test(test_layout_limits_and_refusals),
	    cmocka_unit_test(test_layout_aliasing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
