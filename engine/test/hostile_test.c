/*
 * engine/test/hostile_test.c - frames a conforming peer never sends, sent
 * by a raw test socket: each is not delivered, closes its channel with the
 * matching status (in ~close_reason), the peer sees an orderly FIN, and a
 * healthy channel of the same listener keeps working throughout.
 */
#include "testutil.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_TIMEOUT_MS 300

struct fixture {
	tofu_engine *e;
	tofu_group *g;
	char bound[256];
	int good;	  /* healthy raw client */
	uint16_t good_cn; /* its server-side channel */
	uint64_t next_id;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	tofu_options o;
	tofu_options_init(&o);
	o.frame_timeout_ms = FRAME_TIMEOUT_MS;
	o.max_body_len = 1000;
	o.max_text_headers_len = 1000;
	f->e = tu_engine(&o);
	assert_int_equal(tofu_group_create(f->e, &f->g), 0);
	tu_listen(f->e, f->g, tu_listen_values[(intptr_t)*state], f->bound, sizeof(f->bound));
	f->good = tu_raw_connect(f->bound);
	assert_true(f->good >= 0);
	tu_raw_frame(f->good, 1, TOFU_OP_HELLO_REQUEST, 0, 1, "~connect_to:x|y\r\n", NULL);
	tofu_msg *m = tu_recv(f->g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_HELLO_REQUEST);
	f->good_cn = tofu_msg_channel(m);
	tofu_put(f->e, &m);
	f->next_id = 100;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->good);
	tofu_group_destroy(f->g);
	tofu_engine_destroy(f->e);
	free(f);
	return 0;
}

/* The healthy channel still delivers. */
static void good_still_works(struct fixture *f)
{
	uint64_t id = f->next_id++;
	tu_raw_frame(f->good, 1, TOFU_OP_REQUEST, 0, id, NULL, "alive");
	tofu_msg *m = tu_recv(f->g);
	assert_int_equal(tofu_msg_channel(m), f->good_cn);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_REQUEST);
	assert_int_equal(tofu_msg_id(m), id);
	tofu_put(f->e, &m);
}

/* Sends `bytes` on a fresh connection; expects `valid` good frames first,
 * then the close Signal with `reason`, and an orderly FIN on the socket. */
static void hostile(struct fixture *f, const void *bytes, size_t len, int valid, int reason,
		    uint64_t close_id)
{
	int fd = tu_raw_connect(f->bound);
	assert_true(fd >= 0);
	tu_raw_write(fd, bytes, len);
	uint16_t cn = 0;
	for (int i = 0; i < valid; i++) {
		tofu_msg *m = tu_recv(f->g);
		assert_int_equal(tofu_msg_origin(m), 0);
		assert_int_equal(tofu_msg_status(m), 0);
		cn = tofu_msg_channel(m);
		tofu_put(f->e, &m);
	}
	tofu_msg *m = tu_recv(f->g);
	if (!cn)
		cn = tofu_msg_channel(m);
	assert_int_not_equal(cn, f->good_cn);
	tu_check_closed(f->e, &m, cn, close_id, reason);
	/* Graceful close: EOF, not a reset, even with unread input. */
	assert_int_equal(tu_raw_wait_eof(fd, TU_TIMEOUT_MS), 1);
	close(fd);
	good_still_works(f);
}

static size_t frame(uint8_t *out, uint16_t cn, uint8_t proto, uint8_t status, uint64_t id,
		    uint16_t thl, uint16_t bl)
{
	tofu_header h = {cn, proto, status, id, thl, bl};
	tofu_header_encode(&h, out);
	memset(out + 16, 'a', (size_t)thl + bl);
	return 16u + thl + bl;
}

static void test_bad_opcodes(void **state)
{
	struct fixture *f = *state;
	uint8_t b[64];
	for (int op = 8; op < 16; op++) {
		size_t n = frame(b, 1, (uint8_t)op, 0, 5, 0, 0);
		hostile(f, b, n, 0, TOFU_STATUS_INVALID_OP_CODE, 0);
	}
}

static void test_forged_origin_and_status(void **state)
{
	struct fixture *f = *state;
	uint8_t b[64];
	/* origin = engine: a forged close Signal must not reach the app. */
	size_t n = frame(b, 1, 0x12, 22, 5, 0, 0);
	hostile(f, b, n, 0, TOFU_STATUS_INVALID_MESSAGE, 0);
	n = frame(b, 1, 0x10, 0, 5, 0, 0);
	hostile(f, b, n, 0, TOFU_STATUS_INVALID_MESSAGE, 0);
	n = frame(b, 1, 0x02, 19, 5, 0, 0);
	hostile(f, b, n, 0, TOFU_STATUS_INVALID_MESSAGE, 0);
}

static void test_more_and_zero_ids(void **state)
{
	struct fixture *f = *state;
	uint8_t b[64];
	uint8_t bad_more[] = {0x23, 0x24, 0x25, 0x26, 0x27};
	for (size_t i = 0; i < sizeof(bad_more); i++) {
		size_t n = frame(b, 1, bad_more[i], 0, 5, 0, 0);
		hostile(f, b, n, 0, TOFU_STATUS_INVALID_MORE_USAGE, 0);
	}
	uint8_t resp[] = {0x01, 0x04, 0x06};
	for (size_t i = 0; i < sizeof(resp); i++) {
		size_t n = frame(b, 1, resp[i], 0, 0, 0, 0);
		hostile(f, b, n, 0, TOFU_STATUS_INVALID_MESSAGE_ID, 0);
	}
}

static void test_over_limit_lengths(void **state)
{
	struct fixture *f = *state;
	uint8_t b[64];
	/* Only the header is needed: the lengths are refused before any
	 * byte of the parts is buffered. */
	frame(b, 1, 0x00, 0, 5, 0, 0);
	b[14] = 0x07; /* bl = 2000 > 1000 */
	b[15] = 0xd0;
	hostile(f, b, 16, 0, TOFU_STATUS_INVALID_BODY_LEN, 0);
	frame(b, 1, 0x00, 0, 5, 0, 0);
	b[12] = 0xff; /* thl = 65535 > 1000 */
	b[13] = 0xff;
	hostile(f, b, 16, 0, TOFU_STATUS_INVALID_HEADERS_LEN, 0);
}

static void test_good_then_bad(void **state)
{
	struct fixture *f = *state;
	uint8_t b[256];
	/* A valid Request (id 42) then an opcode-12 frame and trailing junk:
	 * the first is delivered, the rest is not; close id = first id. */
	size_t n = frame(b, 1, 0x00, 0, 42, 3, 4);
	n += frame(b + n, 1, 0x0c, 0, 43, 0, 2);
	memset(b + n, 0xee, 40);
	n += 40;
	hostile(f, b, n, 1, TOFU_STATUS_INVALID_OP_CODE, 42);
}

static void test_garbage(void **state)
{
	struct fixture *f = *state;
	const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	/* 'T' (0x54) as proto: opcode 4 with origin = engine. */
	hostile(f, http, strlen(http), 0, TOFU_STATUS_INVALID_MESSAGE, 0);
	uint8_t ff[64];
	memset(ff, 0xff, sizeof(ff));
	hostile(f, ff, sizeof(ff), 0, TOFU_STATUS_INVALID_OP_CODE, 0);
}

static void test_half_header_stall(void **state)
{
	struct fixture *f = *state;
	uint8_t b[64];
	frame(b, 1, 0x00, 0, 5, 0, 10);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Slowloris: 7 bytes of a header, then nothing. */
	hostile(f, b, 7, 0, TOFU_STATUS_RECV_FAILED, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= FRAME_TIMEOUT_MS - 20);
	/* Also a full header with a body that never completes. */
	hostile(f, b, 16 + 3, 0, TOFU_STATUS_RECV_FAILED, 0);
}

static void test_slow_but_steady_frame_is_fine(void **state)
{
	struct fixture *f = *state;
	uint8_t b[64];
	size_t n = frame(b, 1, 0x02, 0, 77, 0, 4);
	int fd = tu_raw_connect(f->bound);
	/* The frame completes within the timeout although it trickles. */
	for (size_t i = 0; i < n; i++) {
		tu_raw_write(fd, b + i, 1);
		struct timespec ts = {0, 5 * 1000000};
		nanosleep(&ts, NULL);
	}
	tofu_msg *m = tu_recv(f->g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_SIGNAL);
	assert_int_equal(tofu_msg_id(m), 77);
	uint16_t cn = tofu_msg_channel(m);
	tofu_put(f->e, &m);
	/* Idle between frames is not a stalled frame. */
	assert_null(tu_recv_within(f->g, FRAME_TIMEOUT_MS + 200));
	close(fd);
	m = tu_recv(f->g);
	tu_check_closed(f->e, &m, cn, 77, TOFU_STATUS_RECV_FAILED);
}

static void test_truncated_then_fin(void **state)
{
	struct fixture *f = *state;
	uint8_t b[64];
	size_t n = frame(b, 1, 0x00, 0, 5, 0, 20);
	int fd = tu_raw_connect(f->bound);
	tu_raw_write(fd, b, n - 5);
	shutdown(fd, SHUT_WR);
	/* The partial frame is dropped, the channel closes with recv_failed. */
	tofu_msg *m = tu_recv(f->g);
	tu_check_closed(f->e, &m, tofu_msg_channel(m), 0, TOFU_STATUS_RECV_FAILED);
	close(fd);
	good_still_works(f);
}

#define BOTH(fn)                                                                                   \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)0),                  \
	    cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)1)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_bad_opcodes),	   BOTH(test_forged_origin_and_status),
	    BOTH(test_more_and_zero_ids),  BOTH(test_over_limit_lengths),
	    BOTH(test_good_then_bad),	   BOTH(test_garbage),
	    BOTH(test_half_header_stall),  BOTH(test_slow_but_steady_frame_is_fine),
	    BOTH(test_truncated_then_fin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
