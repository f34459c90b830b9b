/*
 * engine/test/resolver_test.c - host names are looked up off the reactor
 * thread (engine/src/resolver.c). A stand-in for getaddrinfo
 * (tofu__getaddrinfo) answers the made-up name "gate.test" only when the
 * test opens its gate, so each test decides what the engine must do while
 * a lookup is in progress: keep every other channel going, queue posts
 * behind the waiting Hello, report an unresolvable name as the spec says,
 * and forget a lookup whose channel is gone.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../src/internal.h"
#include "testutil.h"

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open, gate_waiting;
static int gate_fail; /* answer EAI_NONAME */

/* "gate.test" waits for the gate, then is 127.0.0.1 (or unresolvable);
 * any other name is the system's answer. */
static int gate_getaddrinfo(const char *host, const char *port, const struct addrinfo *hints,
			    struct addrinfo **res)
{
	if (!host || strcmp(host, "gate.test") != 0)
		return getaddrinfo(host, port, hints, res);
	pthread_mutex_lock(&gate_mu);
	gate_waiting++;
	pthread_cond_broadcast(&gate_cv);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	gate_waiting--;
	int fail = gate_fail;
	pthread_mutex_unlock(&gate_mu);
	if (fail)
		return EAI_NONAME;
	return getaddrinfo("127.0.0.1", port, hints, res);
}

static int setup(void **state)
{
	(void)state;
	gate_open = gate_fail = gate_waiting = 0;
	tofu__getaddrinfo = gate_getaddrinfo;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tofu__getaddrinfo = getaddrinfo;
	return 0;
}

/* Blocks until the resolver thread sits in the stand-in. */
static void wait_lookup_started(void)
{
	pthread_mutex_lock(&gate_mu);
	while (!gate_waiting)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

static void open_gate(int fail)
{
	pthread_mutex_lock(&gate_mu);
	gate_fail = fail;
	gate_open = 1;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static tofu_msg *expect_op(tofu_group *g, int opcode)
{
	tofu_msg *m = tu_recv(g);
	assert_int_equal(tofu_msg_opcode(m), opcode);
	return m;
}

/* Server side of a Hello: answer it; returns the server channel. */
static uint16_t accept_hello(tofu_group *sg, const char *body)
{
	tofu_msg *m = expect_op(sg, TOFU_OP_HELLO_REQUEST);
	uint16_t sc = tofu_msg_channel(m);
	tofu_msg_set_opcode(m, TOFU_OP_HELLO_RESPONSE);
	if (body)
		assert_int_equal(tofu_msg_set_body(m, body, strlen(body)), 0);
	assert_int_equal(tofu_post(sg, &m, NULL), 0);
	return sc;
}

struct pair {
	tofu_engine *e;
	tofu_group *sg, *cg;
	char port[16];
};

static void pair_open(struct pair *p)
{
	p->e = tu_engine(NULL);
	assert_int_equal(tofu_group_create(p->e, &p->sg), 0);
	assert_int_equal(tofu_group_create(p->e, &p->cg), 0);
	char bound[256];
	tu_listen(p->e, p->sg, "tcp|127.0.0.1|0", bound, sizeof(bound));
	snprintf(p->port, sizeof(p->port), "%s", strrchr(bound, '|') + 1);
}

/* An engine with a listener, and a Hello to it by the gated name whose
 * lookup is now in progress; returns the Hello's channel. */
static uint16_t pair_open_gated_hello(struct pair *p, uint64_t *hid)
{
	pair_open(p);
	char value[64];
	snprintf(value, sizeof(value), "tcp|gate.test|%s", p->port);
	uint16_t cn = tu_hello(p->e, p->cg, value, hid);
	wait_lookup_started();
	return cn;
}

static void pair_close(struct pair *p)
{
	tofu_group_destroy(p->cg);
	tofu_group_destroy(p->sg);
	tofu_engine_destroy(p->e);
}

/* While a lookup hangs, another channel of the same engine completes a
 * whole exchange (with the lookup on the reactor thread it could not);
 * a message posted behind the waiting Hello is written after it once the
 * name resolves. */
static void test_lookup_does_not_stall_the_engine(void **state)
{
	(void)state;
	struct pair p;
	uint64_t hid;
	uint16_t slow = pair_open_gated_hello(&p, &hid);
	tu_post(p.e, p.cg, slow, TOFU_OP_SIGNAL, 0, "behind the hello");

	char numeric[64];
	snprintf(numeric, sizeof(numeric), "tcp|127.0.0.1|%s", p.port);
	uint16_t fast = tu_hello(p.e, p.cg, numeric, NULL);
	accept_hello(p.sg, "fast");
	tofu_msg *m = expect_op(p.cg, TOFU_OP_HELLO_RESPONSE);
	assert_int_equal(tofu_msg_channel(m), fast);
	tofu_put(p.e, &m);

	open_gate(0);
	m = expect_op(p.sg, TOFU_OP_HELLO_REQUEST);
	assert_int_equal(tofu_msg_header_const(m)->message_id, hid);
	tofu_put(p.e, &m);
	m = expect_op(p.sg, TOFU_OP_SIGNAL);
	size_t bl = 0;
	const uint8_t *body = tofu_msg_body(m, &bl);
	assert_int_equal(bl, strlen("behind the hello"));
	assert_memory_equal(body, "behind the hello", bl);
	tofu_put(p.e, &m);
	pair_close(&p);
}

/* An unresolvable name: the Hello comes back as HelloResponse with
 * invalid_address, the message queued behind it with the same status,
 * then the final Signal (WIRE-5.4.2, WIRE-8.2). */
static void test_unresolvable_name(void **state)
{
	(void)state;
	struct pair p;
	uint64_t hid;
	uint16_t cn = pair_open_gated_hello(&p, &hid);
	tu_post(p.e, p.cg, cn, TOFU_OP_REQUEST, 77, "queued");
	open_gate(1);

	tofu_msg *m = expect_op(p.cg, TOFU_OP_HELLO_RESPONSE);
	assert_int_equal(tofu_msg_origin(m), 1);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_INVALID_ADDRESS);
	assert_int_equal(tofu_msg_channel(m), cn);
	assert_int_equal(tofu_msg_header_const(m)->message_id, hid);
	tofu_put(p.e, &m);
	m = expect_op(p.cg, TOFU_OP_REQUEST);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_INVALID_ADDRESS);
	assert_int_equal(tofu_msg_header_const(m)->message_id, 77);
	tofu_put(p.e, &m);
	m = tu_recv(p.cg);
	tu_check_closed(p.e, &m, cn, hid, TOFU_STATUS_INVALID_ADDRESS);
	pair_close(&p);
}

/* A Welcome by name listens on the looked-up address; its ~bound_to is
 * numeric, and a client reaches it. */
static void test_listen_by_name(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_group *sg, *cg;
	assert_int_equal(tofu_group_create(e, &sg), 0);
	assert_int_equal(tofu_group_create(e, &cg), 0);
	open_gate(0);
	char bound[256];
	tu_listen(e, sg, "tcp|gate.test|0", bound, sizeof(bound));
	assert_true(strncmp(bound, "tcp|127.0.0.1|", 14) == 0);
	uint16_t cn = tu_hello(e, cg, bound, NULL);
	accept_hello(sg, NULL);
	tofu_msg *m = expect_op(cg, TOFU_OP_HELLO_RESPONSE);
	assert_int_equal(tofu_msg_channel(m), cn);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_SUCCESS);
	tofu_put(e, &m);
	tofu_group_destroy(cg);
	tofu_group_destroy(sg);
	tofu_engine_destroy(e);
}

static void *open_gate_later(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 100 * 1000000};
	nanosleep(&ts, NULL);
	open_gate(0);
	return NULL;
}

/* The group of a waiting Hello is destroyed: the late answer finds no
 * channel and is dropped (no delivery, no leak: ASan, valgrind); an
 * engine destroyed while a lookup hangs waits for it. */
static void test_lookup_outlives_its_channel(void **state)
{
	(void)state;
	struct pair p;
	pair_open_gated_hello(&p, NULL);
	tofu_group_destroy(p.cg);
	open_gate(0);
	/* The listener got nothing: no connection was made for the Hello. */
	tofu_msg *m = tu_recv_within(p.sg, 200);
	assert_null(m);
	assert_int_equal(tofu_group_create(p.e, &p.cg), 0);

	pthread_mutex_lock(&gate_mu);
	gate_open = 0; /* the next lookup hangs: the engine is destroyed meanwhile */
	pthread_mutex_unlock(&gate_mu);
	char value[64];
	snprintf(value, sizeof(value), "tcp|gate.test|%s", p.port);
	tu_hello(p.e, p.cg, value, NULL);
	wait_lookup_started();
	pthread_t opener;
	assert_int_equal(pthread_create(&opener, NULL, open_gate_later, NULL), 0);
	pair_close(&p); /* returns once the lookup in progress has ended */
	pthread_join(opener, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lookup_does_not_stall_the_engine, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unresolvable_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listen_by_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lookup_outlives_its_channel, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
