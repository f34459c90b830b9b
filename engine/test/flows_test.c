/*
 * engine/test/flows_test.c - every connection flow of the reference
 * (sections 4-8) over TCP, UDS paths and abstract UDS names: Welcome
 * success/failure, Hello on the wire, Request/Response/Signal with more,
 * Bye, both ByeSignal forms, connect failures, peer FIN/RST, group destroy,
 * post validation, message ids, channel numbers, update_receiver.
 */
#include "testutil.h"

#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define T(s) ((int)(intptr_t)(*(s)))

static const char *lv(void **state)
{
	return tu_listen_values[T(state)];
}

/* ---------------------------------------------------------------- Welcome */

static void test_welcome_ok_and_abort(void **state)
{
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	char bound[256];
	assert_int_equal(tofu_group_create(e, &g), 0);
	uint16_t lc = tu_listen(e, g, lv(state), bound, sizeof(bound));
	uint64_t wid = tu_last_welcome_id;
	if (T(state) == 0) {
		/* The real port of a port-0 listener. */
		assert_true(strncmp(bound, "tcp|127.0.0.1|", 14) == 0);
		assert_int_not_equal(atoi(bound + 14), 0);
	} else if (T(state) == 1) {
		struct stat st;
		assert_true(strncmp(bound, "uds|/", 5) == 0);
		assert_int_equal(stat(bound + 4, &st), 0);
		assert_true(S_ISSOCK(st.st_mode));
	} else {
		assert_true(strncmp(bound, "uds|@tofu-test-", 15) == 0);
	}
	int fd = tu_raw_connect(bound);
	assert_true(fd >= 0);
	close(fd);
	/* An accepted channel that received nothing closes with id 0. */
	tofu_msg *m = tu_recv(g);
	assert_int_not_equal(tofu_msg_channel(m), lc);
	tu_check_closed(e, &m, tofu_msg_channel(m), 0, TOFU_STATUS_RECV_FAILED);

	/* Abort (0x47) of the listener: the ByeSignal comes back, then the
	 * close Signal with the WelcomeRequest's id. */
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	tofu_msg_set_abort(m, lc);
	tofu_header ph;
	assert_int_equal(tofu_post(g, &m, &ph), 0);
	m = tu_recv(g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_BYE_SIGNAL);
	assert_int_equal(tofu_msg_origin(m), 1);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_CHANNEL_CLOSED);
	assert_int_equal(tofu_msg_channel(m), lc);
	tofu_put(e, &m);
	m = tu_recv(g);
	assert_int_equal(tofu_msg_channel(m), lc);
	assert_int_equal(tofu_msg_id(m), wid);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_SIGNAL);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_CHANNEL_CLOSED);
	assert_int_equal(tofu_msg_origin(m), 1);
	tofu_put(e, &m);
	if (T(state) == 1) {
		struct stat st;
		assert_int_not_equal(stat(bound + 4, &st), 0); /* unlinked */
	}
	/* The channel number is gone: posting to it is refused. */
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	tofu_msg_set_abort(m, lc);
	assert_int_equal(tofu_post(g, &m, NULL), TOFU_STATUS_INVALID_CHANNEL_NUMBER);
	tofu_put(e, &m);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

/* post refuses the Welcome/Hello: the caller keeps it, status byte set. */
static void refused(tofu_engine *e, tofu_group *g, int opcode, const char *headers, int status)
{
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	tofu_msg_set_opcode(m, opcode);
	assert_int_equal(tofu_msg_set_headers(m, headers, strlen(headers)), 0);
	assert_int_equal(tofu_post(g, &m, NULL), status);
	assert_non_null(m);
	assert_int_equal(tofu_msg_status(m), status);
	assert_int_equal(tofu_msg_channel(m), 0);
	tofu_put(e, &m);
}

static void welcome_fails(tofu_engine *e, tofu_group *g, const char *headers, int status)
{
	tofu_msg *m = NULL;
	tofu_header ph;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	tofu_msg_set_opcode(m, TOFU_OP_WELCOME_REQUEST);
	assert_int_equal(tofu_msg_set_headers(m, headers, strlen(headers)), 0);
	assert_int_equal(tofu_post(g, &m, &ph), 0);
	m = tu_recv(g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_WELCOME_RESPONSE);
	assert_int_equal(tofu_msg_origin(m), 1);
	if (tofu_msg_status(m) != status)
		fail_msg("'%s': status %d, expected %d", headers, tofu_msg_status(m), status);
	assert_int_equal(tofu_msg_channel(m), ph.channel_number);
	assert_int_equal(tofu_msg_id(m), ph.message_id);
	tofu_put(e, &m);
	m = tu_recv(g);
	tu_check_closed(e, &m, ph.channel_number, ph.message_id, status);
}

static void test_welcome_failures(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	char busy[64];
	int lfd = tu_raw_listen(0, busy, sizeof(busy));
	char hdr[400];

	welcome_fails(e, g, "~listen_on:tcp|127.0.0.1|x\r\n", TOFU_STATUS_INVALID_ADDRESS);
	welcome_fails(e, g, "~listen_on:tcp|127.0.0.1|70000\r\n", TOFU_STATUS_INVALID_ADDRESS);
	/* Four parts crash Zig tofu; here they are invalid_address. */
	welcome_fails(e, g, "~listen_on:tcp|a|b|c\r\n", TOFU_STATUS_INVALID_ADDRESS);
	welcome_fails(e, g, "~listen_on:xyz|h|1\r\n", TOFU_STATUS_INVALID_ADDRESS);
	welcome_fails(e, g, "~listen_on:tcp\r\n", TOFU_STATUS_INVALID_ADDRESS);
	welcome_fails(e, g, "~listen_on:tcp|no-such-host.invalid|1\r\n",
		      TOFU_STATUS_INVALID_ADDRESS);
	/* Missing or mismatched address header: refused by post (check 10). */
	refused(e, g, TOFU_OP_WELCOME_REQUEST, "~connect_to:tcp|127.0.0.1|1\r\n",
		TOFU_STATUS_WRONG_ADDRESS);
	refused(e, g, TOFU_OP_WELCOME_REQUEST, "x-other:1\r\n", TOFU_STATUS_WRONG_ADDRESS);
	refused(e, g, TOFU_OP_WELCOME_REQUEST, "", TOFU_STATUS_WRONG_ADDRESS);
	snprintf(hdr, sizeof(hdr), "~listen_on:uds|/%0120d\r\n", 0);
	welcome_fails(e, g, hdr, TOFU_STATUS_INVALID_ADDRESS);
	welcome_fails(e, g, "~listen_on:uds|/nonexistent-dir-tofu/x.sock\r\n",
		      TOFU_STATUS_LISTEN_FAILED);
	/* No SO_REUSEPORT: a port in use cannot be listened on twice. */
	snprintf(hdr, sizeof(hdr), "~listen_on:%s\r\n", busy);
	welcome_fails(e, g, hdr, TOFU_STATUS_LISTEN_FAILED);
	close(lfd);

	assert_null(tu_recv_within(g, 50));
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

/* ---------------------------------------------------------- full session */

static tofu_msg *expect(tofu_group *g, int opcode, uint16_t cn)
{
	tofu_msg *m = tu_recv(g);
	if (tofu_msg_opcode(m) != opcode || tofu_msg_channel(m) != cn || tofu_msg_origin(m) != 0 ||
	    tofu_msg_status(m) != 0)
		fail_msg("got opcode %d status %d origin %d ch %u, expected opcode %d status 0 "
			 "origin 0 ch %u",
			 tofu_msg_opcode(m), tofu_msg_status(m), tofu_msg_origin(m),
			 tofu_msg_channel(m), opcode, cn);
	return m;
}

static void check_body(tofu_msg *m, const char *want)
{
	size_t n;
	const uint8_t *b = tofu_msg_body(m, &n);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(b, want, n);
}

static void test_session(void **state)
{
	tofu_engine *e = tu_engine(NULL);
	tofu_group *sg, *cg;
	char bound[256];
	assert_int_equal(tofu_group_create(e, &sg), 0);
	assert_int_equal(tofu_group_create(e, &cg), 0);
	tu_listen(e, sg, lv(state), bound, sizeof(bound));

	uint64_t hid;
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	assert_int_equal(tofu_msg_prepare_hello(m, bound), 0);
	assert_int_equal(tofu_msg_add_header(m, "x-app", "demo"), 0);
	assert_int_equal(tofu_msg_set_body(m, "hi", 2), 0);
	tofu_header ph;
	assert_int_equal(tofu_post(cg, &m, &ph), 0);
	uint16_t cc = ph.channel_number;
	hid = ph.message_id;
	assert_int_not_equal(hid, 0);

	/* Server: the HelloRequest exactly as sent, on a server-local channel. */
	m = tu_recv(sg);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_HELLO_REQUEST);
	assert_int_equal(tofu_msg_status(m), 0);
	assert_int_equal(tofu_msg_origin(m), 0);
	assert_int_equal(tofu_msg_id(m), hid);
	uint16_t sc = tofu_msg_channel(m);
	assert_int_not_equal(sc, 0);
	assert_int_not_equal(sc, cc);
	const char *v;
	size_t vl;
	assert_true(tofu_msg_find_header(m, TOFU_HEADER_CONNECT_TO, &v, &vl));
	assert_int_equal(vl, strlen(bound));
	assert_memory_equal(v, bound, vl);
	assert_true(tofu_msg_find_header(m, "x-app", &v, &vl));
	assert_memory_equal(v, "demo", 4);
	check_body(m, "hi");
	/* Reuse the message as the HelloResponse (Zig cookbook style). */
	tofu_msg_set_opcode(m, TOFU_OP_HELLO_RESPONSE);
	assert_int_equal(tofu_post(sg, &m, NULL), 0);

	m = expect(cg, TOFU_OP_HELLO_RESPONSE, cc);
	assert_int_equal(tofu_msg_id(m), hid);
	assert_true(tofu_msg_find_header(m, TOFU_HEADER_CONNECT_TO, &v, &vl));
	tofu_put(e, &m);

	/* Request -> Response, Signal with more, in order. */
	tu_post(e, cg, cc, TOFU_OP_REQUEST, 0, "ping");
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	tofu_msg_set_opcode(m, TOFU_OP_SIGNAL);
	tofu_msg_set_channel(m, cc);
	tofu_msg_set_more(m, 1);
	tofu_msg_set_id(m, 77);
	assert_int_equal(tofu_post(cg, &m, NULL), 0);
	tu_post(e, cg, cc, TOFU_OP_SIGNAL, 77, "last");

	m = expect(sg, TOFU_OP_REQUEST, sc);
	check_body(m, "ping");
	uint64_t rid = tofu_msg_id(m);
	assert_true(rid > hid);
	tofu_msg_set_opcode(m, TOFU_OP_RESPONSE);
	tofu_msg_set_body(m, "pong", 4);
	assert_int_equal(tofu_post(sg, &m, NULL), 0);
	m = expect(sg, TOFU_OP_SIGNAL, sc);
	assert_int_equal(tofu_msg_more(m), 1);
	assert_int_equal(tofu_msg_id(m), 77);
	tofu_put(e, &m);
	m = expect(sg, TOFU_OP_SIGNAL, sc);
	assert_int_equal(tofu_msg_more(m), 0);
	check_body(m, "last");
	tofu_put(e, &m);

	m = expect(cg, TOFU_OP_RESPONSE, cc);
	assert_int_equal(tofu_msg_id(m), rid);
	check_body(m, "pong");
	tofu_put(e, &m);

	/* Bye: request, response; the initiator closes on ByeResponse. */
	tu_post(e, cg, cc, TOFU_OP_BYE_REQUEST, 0, NULL);
	m = expect(sg, TOFU_OP_BYE_REQUEST, sc);
	tofu_msg_set_opcode(m, TOFU_OP_BYE_RESPONSE);
	assert_int_equal(tofu_post(sg, &m, NULL), 0);
	m = expect(cg, TOFU_OP_BYE_RESPONSE, cc);
	tofu_put(e, &m);
	/* Client: closed by ByeResponse; id = first frame received (the
	 * HelloResponse, which echoes the Hello id). */
	m = tu_recv(cg);
	tu_check_closed(e, &m, cc, hid, TOFU_STATUS_CHANNEL_CLOSED);
	/* Server: the client's FIN after its own ByeResponse completes the
	 * bye exchange (WIRE-8.4.7); id = first frame received (Hello). */
	m = tu_recv(sg);
	tu_check_closed(e, &m, sc, hid, TOFU_STATUS_CHANNEL_CLOSED);

	assert_null(tu_recv_within(cg, 20));
	tofu_group_destroy(cg);
	tofu_group_destroy(sg);
	tofu_engine_destroy(e);
}

/* ------------------------------------------- the wire seen by a raw peer */

static void hello_to_raw(void **state, int rst)
{
	int uds = T(state) != 0;
	char addr[128];
	int lfd = tu_raw_listen(uds, addr, sizeof(addr));
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	uint64_t hid;
	uint16_t cc = tu_hello(e, g, addr, &hid);
	int fd = tu_raw_accept(lfd);

	tofu_header h;
	uint8_t buf[256];
	assert_int_equal(tu_raw_read_frame(fd, &h, buf, sizeof(buf)), 1);
	assert_int_equal(h.proto, 0x03);
	assert_int_equal(h.status, 0);
	assert_int_equal(h.channel_number, cc);
	assert_int_equal(h.message_id, hid);
	char want[200];
	snprintf(want, sizeof(want), "~connect_to:%s\r\n", addr);
	assert_int_equal(h.text_headers_len, strlen(want));
	assert_memory_equal(buf, want, strlen(want));
	assert_int_equal(h.body_len, 0);

	/* Byte-exact frame (reference E4): header fields big-endian, then
	 * the body; no text headers. */
	tu_post(e, g, cc, TOFU_OP_REQUEST, 2, "hello");
	uint8_t raw[21];
	struct pollfd rp = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	while (got < sizeof(raw) && poll(&rp, 1, TU_TIMEOUT_MS) == 1) {
		ssize_t n = recv(fd, raw + got, sizeof(raw) - got, 0);
		assert_true(n > 0);
		got += (size_t)n;
	}
	uint8_t want4[21] = {(uint8_t)(cc >> 8),
			     (uint8_t)cc,
			     0x00,
			     0x00,
			     0,
			     0,
			     0,
			     0,
			     0,
			     0,
			     0,
			     2,
			     0,
			     0,
			     0,
			     5,
			     'h',
			     'e',
			     'l',
			     'l',
			     'o'};
	assert_int_equal(got, sizeof(raw));
	assert_memory_equal(raw, want4, sizeof(raw));

	/* The peer's channel number is replaced by ours on delivery. */
	tu_raw_frame(fd, 0x4d2, 0x04, 0, 5000, NULL, NULL);
	tofu_msg *m = expect(g, TOFU_OP_HELLO_RESPONSE, cc);
	assert_int_equal(tofu_msg_id(m), 5000);
	tofu_put(e, &m);
	tu_raw_frame(fd, 0x4d2, 0x22, 0, 9, "Job-ID:12345\r\n", "chunk");
	m = expect(g, TOFU_OP_SIGNAL, cc);
	assert_int_equal(tofu_msg_more(m), 1);
	check_body(m, "chunk");
	tofu_put(e, &m);

	/* Plain ByeSignal (0x07) is a frame; after it nothing more is sent,
	 * so the Request stays queued. */
	tu_post(e, g, cc, TOFU_OP_BYE_SIGNAL, 0, NULL);
	tu_post(e, g, cc, TOFU_OP_REQUEST, 31, "unsent");
	assert_int_equal(tu_raw_read_frame(fd, &h, NULL, 0), 1);
	assert_int_equal(h.proto, 0x07);
	assert_int_equal(h.channel_number, cc);
	usleep(50 * 1000);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0);

	if (rst) {
		struct linger lg = {1, 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(fd);
	/* The end of the connection after our bye frame completes the
	 * exchange, FIN or RST alike (WIRE-8.4.7); the queued Request comes
	 * back with channel_closed (WIRE-8.7.12). */
	(void)uds;
	int reason = TOFU_STATUS_CHANNEL_CLOSED;
	m = tu_recv(g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_REQUEST);
	assert_int_equal(tofu_msg_origin(m), 1);
	assert_int_equal(tofu_msg_status(m), reason);
	assert_int_equal(tofu_msg_id(m), 31);
	assert_int_equal(tofu_msg_channel(m), cc);
	check_body(m, "unsent");
	tofu_put(e, &m);
	m = tu_recv(g);
	tu_check_closed(e, &m, cc, 5000, reason);
	close(lfd);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

static void test_hello_fin(void **state)
{
	hello_to_raw(state, 0);
}

static void test_hello_rst(void **state)
{
	hello_to_raw(state, 1);
}

/* ------------------------------------------------------- connect failures */

static void hello_fails(tofu_engine *e, tofu_group *g, const char *headers, int opcode, int status)
{
	tofu_msg *m = NULL;
	tofu_header ph;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	tofu_msg_set_opcode(m, TOFU_OP_HELLO_REQUEST);
	assert_int_equal(tofu_msg_set_headers(m, headers, strlen(headers)), 0);
	assert_int_equal(tofu_post(g, &m, &ph), 0);
	m = tu_recv(g);
	if (tofu_msg_opcode(m) != opcode || tofu_msg_status(m) != status)
		fail_msg("'%s': opcode %d status %d, expected %d/%d", headers, tofu_msg_opcode(m),
			 tofu_msg_status(m), opcode, status);
	assert_int_equal(tofu_msg_origin(m), 1);
	assert_int_equal(tofu_msg_channel(m), ph.channel_number);
	assert_int_equal(tofu_msg_id(m), ph.message_id);
	tofu_put(e, &m);
	m = tu_recv(g);
	tu_check_closed(e, &m, ph.channel_number, ph.message_id, status);
}

static void test_connect_failures(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	char addr[128], hdr[256];

	/* Closed TCP port on loopback: EINPROGRESS, then the HelloRequest
	 * comes back with connect_failed (asynchronous path). */
	int lfd = tu_raw_listen(0, addr, sizeof(addr));
	close(lfd);
	snprintf(hdr, sizeof(hdr), "~connect_to:%s\r\n", addr);
	hello_fails(e, g, hdr, TOFU_OP_HELLO_REQUEST, TOFU_STATUS_CONNECT_FAILED);

	/* Synchronous failures: the message comes back as HelloResponse. */
	hello_fails(e, g, "~connect_to:uds|/nonexistent-tofu/x.sock\r\n", TOFU_OP_HELLO_RESPONSE,
		    TOFU_STATUS_UDS_PATH_NOT_FOUND);
	/* A socket file nobody listens on: refused. */
	lfd = tu_raw_listen(1, addr, sizeof(addr));
	close(lfd);
	snprintf(hdr, sizeof(hdr), "~connect_to:%s\r\n", addr);
	hello_fails(e, g, hdr, TOFU_OP_HELLO_RESPONSE, TOFU_STATUS_COMMUNICATION_FAILED);
	unlink(addr + 4);
	hello_fails(e, g, "~connect_to:uds|\r\n", TOFU_OP_HELLO_RESPONSE,
		    TOFU_STATUS_INVALID_ADDRESS);
	hello_fails(e, g, "~connect_to:tcp|1|2|3\r\n", TOFU_OP_HELLO_RESPONSE,
		    TOFU_STATUS_INVALID_ADDRESS);
	hello_fails(e, g, "~connect_to:tcp|127.0.0.1|+7_099\r\n", TOFU_OP_HELLO_RESPONSE,
		    TOFU_STATUS_INVALID_ADDRESS);
	hello_fails(e, g, "~connect_to:uds|@\r\n", TOFU_OP_HELLO_RESPONSE,
		    TOFU_STATUS_INVALID_ADDRESS);
	refused(e, g, TOFU_OP_HELLO_REQUEST, "~listen_on:tcp|127.0.0.1|1\r\n",
		TOFU_STATUS_WRONG_ADDRESS);
	refused(e, g, TOFU_OP_HELLO_REQUEST, "a:b\r\n", TOFU_STATUS_WRONG_ADDRESS);

	/* Messages posted behind a failing Hello come back, never dropped. */
	tofu_msg *m = NULL;
	tofu_header ph;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	assert_int_equal(tofu_msg_prepare_hello(m, "uds|/nonexistent-tofu/y.sock"), 0);
	assert_int_equal(tofu_post(g, &m, &ph), 0);
	/* The reactor may already have failed the Hello: then the channel
	 * is gone and post says so; otherwise the Request comes back. */
	tofu_msg *r = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &r), 0);
	tofu_msg_set_channel(r, ph.channel_number);
	int prc = tofu_post(g, &r, NULL);
	int got_back = 0;
	if (prc) {
		assert_int_equal(prc, TOFU_STATUS_INVALID_CHANNEL_NUMBER);
		tofu_put(e, &r);
		got_back = 1;
	}
	for (int i = 0; i < (prc ? 2 : 3); i++) {
		m = tu_recv(g);
		if (tofu_msg_opcode(m) == TOFU_OP_REQUEST) {
			assert_int_equal(tofu_msg_status(m), TOFU_STATUS_CHANNEL_CLOSED);
			assert_int_equal(tofu_msg_origin(m), 1);
			got_back = 1;
		}
		tofu_put(e, &m);
	}
	assert_true(got_back);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

/* ----------------------------------------- abort, group destroy, closes */

static void connect_pair(tofu_engine *e, tofu_group *sg, tofu_group *cg, const char *value,
			 uint16_t *cc, uint16_t *sc, uint64_t *hid)
{
	char bound[256];
	tu_listen(e, sg, value, bound, sizeof(bound));
	*cc = tu_hello(e, cg, bound, hid);
	tofu_msg *m = tu_recv(sg);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_HELLO_REQUEST);
	*sc = tofu_msg_channel(m);
	tofu_msg_set_opcode(m, TOFU_OP_HELLO_RESPONSE);
	assert_int_equal(tofu_post(sg, &m, NULL), 0);
	m = expect(cg, TOFU_OP_HELLO_RESPONSE, *cc);
	tofu_put(e, &m);
}

static void test_abort_channel(void **state)
{
	tofu_engine *e = tu_engine(NULL);
	tofu_group *sg, *cg;
	assert_int_equal(tofu_group_create(e, &sg), 0);
	assert_int_equal(tofu_group_create(e, &cg), 0);
	uint16_t cc, sc;
	uint64_t hid;
	connect_pair(e, sg, cg, lv(state), &cc, &sc, &hid);

	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	tofu_msg_set_abort(m, cc);
	assert_int_equal(tofu_post(cg, &m, NULL), 0);
	m = tu_recv(cg);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_BYE_SIGNAL);
	assert_int_equal(tofu_msg_oob(m), 1);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_CHANNEL_CLOSED);
	assert_int_equal(tofu_msg_origin(m), 1);
	tofu_put(e, &m);
	m = tu_recv(cg);
	tu_check_closed(e, &m, cc, hid, TOFU_STATUS_CHANNEL_CLOSED);
	/* Graceful: the peer sees a FIN, nothing was sent. */
	m = tu_recv(sg);
	tu_check_closed(e, &m, sc, hid, TOFU_STATUS_RECV_FAILED);
	tofu_group_destroy(cg);
	tofu_group_destroy(sg);
	tofu_engine_destroy(e);
}

static void test_group_destroy(void **state)
{
	tofu_engine *e = tu_engine(NULL);
	tofu_group *sg, *cg;
	assert_int_equal(tofu_group_create(e, &sg), 0);
	assert_int_equal(tofu_group_create(e, &cg), 0);
	uint16_t cc, sc;
	uint64_t hid;
	connect_pair(e, sg, cg, lv(state), &cc, &sc, &hid);
	/* Undelivered inbound messages are freed with the group. */
	tu_post(e, sg, sc, TOFU_OP_SIGNAL, 0, "never read");
	usleep(20 * 1000);
	tofu_group_destroy(cg);
	tofu_msg *m = tu_recv(sg);
	tu_check_closed(e, &m, sc, hid, TOFU_STATUS_RECV_FAILED);
	/* The destroyed group's channel number is released. */
	tofu_group_destroy(sg);
	tofu_engine_destroy(e);
}

static void test_engine_destroy_with_open_channels(void **state)
{
	tofu_engine *e = tu_engine(NULL);
	tofu_group *sg, *cg;
	assert_int_equal(tofu_group_create(e, &sg), 0);
	assert_int_equal(tofu_group_create(e, &cg), 0);
	uint16_t cc, sc;
	uint64_t hid;
	connect_pair(e, sg, cg, lv(state), &cc, &sc, &hid);
	tu_post(e, cg, cc, TOFU_OP_REQUEST, 0, "in flight");
	/* Groups not destroyed: the engine frees them; nothing leaks. */
	tofu_engine_destroy(e);
}

/* ------------------------------------------- IPv6, host names, engines */

static tofu_msg *expect_op(tofu_group *g, int opcode)
{
	tofu_msg *m = tu_recv(g);
	if (tofu_msg_opcode(m) != opcode || tofu_msg_status(m) != 0)
		fail_msg("got opcode %d status %d, expected opcode %d", tofu_msg_opcode(m),
			 tofu_msg_status(m), opcode);
	return m;
}

static void round_trip(tofu_engine *ce, tofu_group *cg, tofu_engine *se, tofu_group *sg,
		       const char *bound)
{
	uint64_t hid;
	uint16_t cc = tu_hello(ce, cg, bound, &hid);
	tofu_msg *m = expect_op(sg, TOFU_OP_HELLO_REQUEST);
	tofu_msg_set_opcode(m, TOFU_OP_HELLO_RESPONSE);
	assert_int_equal(tofu_post(sg, &m, NULL), 0);
	m = expect(cg, TOFU_OP_HELLO_RESPONSE, cc);
	tofu_put(ce, &m);
	tu_post(ce, cg, cc, TOFU_OP_BYE_REQUEST, 0, NULL);
	m = expect_op(sg, TOFU_OP_BYE_REQUEST);
	uint16_t sc = tofu_msg_channel(m);
	tofu_msg_set_opcode(m, TOFU_OP_BYE_RESPONSE);
	assert_int_equal(tofu_post(sg, &m, NULL), 0);
	m = expect(cg, TOFU_OP_BYE_RESPONSE, cc);
	tofu_put(ce, &m);
	m = tu_recv(cg);
	tu_check_closed(ce, &m, cc, hid, TOFU_STATUS_CHANNEL_CLOSED);
	m = tu_recv(sg);
	tu_check_closed(se, &m, sc, hid, TOFU_STATUS_CHANNEL_CLOSED);
}

static void test_ipv6_hostnames_two_engines(void **state)
{
	(void)state;
	tofu_engine *se = tu_engine(NULL), *ce = tu_engine(NULL);
	tofu_group *sg, *cg;
	assert_int_equal(tofu_group_create(se, &sg), 0);
	assert_int_equal(tofu_group_create(ce, &cg), 0);
	char bound[256];
	tu_listen(se, sg, "tcp|::1|0", bound, sizeof(bound));
	assert_true(strncmp(bound, "tcp|::1|", 8) == 0);
	round_trip(ce, cg, se, sg, bound);
	/* A host name resolves (first getaddrinfo result, as Zig). */
	tu_listen(se, sg, "tcp|localhost|0", bound, sizeof(bound));
	char byname[256];
	snprintf(byname, sizeof(byname), "tcp|localhost|%s", strrchr(bound, '|') + 1);
	round_trip(ce, cg, se, sg, byname);
	/* Empty host: all IPv4 interfaces; reachable on loopback. */
	tu_listen(se, sg, "tcp||0", bound, sizeof(bound));
	assert_true(strncmp(bound, "tcp|0.0.0.0|", 12) == 0);
	snprintf(byname, sizeof(byname), "tcp|127.0.0.1|%s", strrchr(bound, '|') + 1);
	round_trip(ce, cg, se, sg, byname);
	tofu_group_destroy(cg);
	tofu_group_destroy(sg);
	tofu_engine_destroy(ce);
	tofu_engine_destroy(se);
}

/* ---------------------------------------------------------- send failure */

/* The engine's end of the TCP connection whose other end is `raw`, found
 * among this process's descriptors (tests share the process). */
static int find_engine_fd(int raw)
{
	struct sockaddr_in me, peer;
	socklen_t sl = sizeof(me);
	assert_int_equal(getsockname(raw, (struct sockaddr *)&me, &sl), 0);
	sl = sizeof(peer);
	assert_int_equal(getpeername(raw, (struct sockaddr *)&peer, &sl), 0);
	for (int fd = 3; fd < 4096; fd++) {
		struct sockaddr_in a, b;
		socklen_t al = sizeof(a), bl = sizeof(b);
		if (fd == raw || getsockname(fd, (struct sockaddr *)&a, &al) ||
		    a.sin_family != AF_INET || getpeername(fd, (struct sockaddr *)&b, &bl))
			continue;
		if (a.sin_port == peer.sin_port && b.sin_port == me.sin_port)
			return fd;
	}
	return -1;
}

static void test_send_failed(void **state)
{
	(void)state;
	char addr[128];
	int lfd = tu_raw_listen(0, addr, sizeof(addr));
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	uint64_t hid;
	uint16_t cc = tu_hello(e, g, addr, &hid);
	int fd = tu_raw_accept(lfd);
	tofu_header h;
	assert_int_equal(tu_raw_read_frame(fd, &h, NULL, 0), 1);
	/* Break the engine's sending side under it: the next write fails. */
	int efd = find_engine_fd(fd);
	assert_true(efd >= 0);
	assert_int_equal(shutdown(efd, SHUT_WR), 0);
	tu_post(e, g, cc, TOFU_OP_REQUEST, 61, "lost");
	tofu_msg *m = tu_recv(g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_REQUEST);
	assert_int_equal(tofu_msg_origin(m), 1);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_SEND_FAILED);
	assert_int_equal(tofu_msg_id(m), 61);
	tofu_put(e, &m);
	m = tu_recv(g);
	tu_check_closed(e, &m, cc, hid, TOFU_STATUS_SEND_FAILED);
	close(fd);
	close(lfd);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

/* OPEN (no bye written): the peer stops reading, the engine's queue backs
 * up, then the peer half-closes (FIN) or resets. Unsent messages come back
 * in post order with recv_failed / communication_failed (WIRE-8.7.6/8). */
static void open_close(void **state, int rst)
{
	int uds = (intptr_t)*state != 0;
	char addr[128];
	int lfd = tu_raw_listen(uds, addr, sizeof(addr));
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	uint64_t hid;
	uint16_t cc = tu_hello(e, g, addr, &hid);
	int fd = tu_raw_accept(lfd);
	static uint8_t big[60000];
	enum { N = 200 }; /* 12 MB: more than any socket buffer here */
	for (int i = 0; i < N; i++) {
		tofu_msg *m = NULL;
		assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
		tofu_msg_set_channel(m, cc);
		tofu_msg_set_id(m, 1000 + (uint64_t)i);
		assert_int_equal(tofu_msg_set_body(m, big, sizeof(big)), 0);
		assert_int_equal(tofu_post(g, &m, NULL), 0);
	}
	usleep(100 * 1000);
	if (rst) {
		struct linger lg = {1, 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	} else {
		shutdown(fd, SHUT_WR);
	}
	int reason = rst ? TOFU_STATUS_COMMUNICATION_FAILED : TOFU_STATUS_RECV_FAILED;
	int returned = 0;
	uint64_t last = 0;
	tofu_msg *m;
	for (;;) {
		m = tu_recv(g);
		if (tofu_msg_opcode(m) == TOFU_OP_SIGNAL)
			break;
		assert_int_equal(tofu_msg_opcode(m), TOFU_OP_REQUEST);
		assert_int_equal(tofu_msg_origin(m), 1);
		assert_int_equal(tofu_msg_status(m), reason);
		assert_int_equal(tofu_msg_channel(m), cc);
		assert_true(tofu_msg_id(m) > last); /* post order */
		last = tofu_msg_id(m);
		size_t n;
		tofu_msg_body(m, &n);
		assert_int_equal(n, sizeof(big));
		returned++;
		tofu_put(e, &m);
	}
	assert_true(returned > 0);
	assert_int_equal(last, 1000 + N - 1);
	tu_check_closed(e, &m, cc, hid, reason);
	if (!rst)
		close(fd);
	close(lfd);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

static void test_open_fin(void **state)
{
	open_close(state, 0);
}

static void test_open_rst(void **state)
{
	open_close(state, 1);
}

/* Both sides send ByeRequest: neither can answer, both close with
 * channel_closed (WIRE-8.4.6; Zig deadlocks here). */
static void test_simultaneous_bye(void **state)
{
	tofu_engine *e = tu_engine(NULL);
	tofu_group *sg, *cg;
	assert_int_equal(tofu_group_create(e, &sg), 0);
	assert_int_equal(tofu_group_create(e, &cg), 0);
	uint16_t cc, sc;
	uint64_t hid;
	connect_pair(e, sg, cg, lv(state), &cc, &sc, &hid);
	tu_post(e, cg, cc, TOFU_OP_BYE_REQUEST, 0, NULL);
	tu_post(e, sg, sc, TOFU_OP_BYE_REQUEST, 0, NULL);
	tofu_group *gs[2] = {cg, sg};
	uint16_t cns[2] = {cc, sc};
	for (int k = 0; k < 2; k++) {
		tofu_msg *m = tu_recv(gs[k]);
		assert_int_equal(tofu_msg_opcode(m), TOFU_OP_BYE_REQUEST);
		assert_int_equal(tofu_msg_origin(m), 0);
		tofu_put(e, &m);
		m = tu_recv(gs[k]);
		tu_check_closed(e, &m, cns[k], hid, TOFU_STATUS_CHANNEL_CLOSED);
	}
	tofu_group_destroy(cg);
	tofu_group_destroy(sg);
	tofu_engine_destroy(e);
}

/* After our ByeRequest the peer neither answers nor closes: the bye timer
 * closes the channel with channel_closed (WIRE-8.4.8). */
static void test_bye_timeout(void **state)
{
	int uds = (intptr_t)*state != 0;
	char addr[128];
	int lfd = tu_raw_listen(uds, addr, sizeof(addr));
	tofu_options o;
	tofu_options_init(&o);
	o.bye_timeout_ms = 200;
	tofu_engine *e = tu_engine(&o);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	uint64_t hid;
	uint16_t cc = tu_hello(e, g, addr, &hid);
	int fd = tu_raw_accept(lfd);
	tu_post(e, g, cc, TOFU_OP_BYE_REQUEST, 0, NULL);
	tofu_header h;
	assert_int_equal(tu_raw_read_frame(fd, &h, NULL, 0), 1); /* Hello */
	assert_int_equal(tu_raw_read_frame(fd, &h, NULL, 0), 1);
	assert_int_equal(h.proto, TOFU_OP_BYE_REQUEST);
	assert_null(tu_recv_within(g, 100));
	tofu_msg *m = tu_recv(g);
	tu_check_closed(e, &m, cc, hid, TOFU_STATUS_CHANNEL_CLOSED);
	/* Graceful: the peer reads end of stream. */
	assert_int_equal(tu_raw_wait_eof(fd, TU_TIMEOUT_MS), 1);
	close(fd);
	close(lfd);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

/* Group destroy and engine shutdown still write the frames already queued
 * before the graceful close (WIRE-8.6.8); nothing is delivered. */
static void destroy_flushes(void **state, int engine)
{
	int uds = (intptr_t)*state != 0;
	char addr[128];
	int lfd = tu_raw_listen(uds, addr, sizeof(addr));
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	uint16_t cc = tu_hello(e, g, addr, NULL);
	int fd = tu_raw_accept(lfd);
	enum { N = 50 };
	for (int i = 0; i < N; i++)
		tu_post(e, g, cc, TOFU_OP_SIGNAL, 500 + (uint64_t)i, "queued");
	if (engine) {
		tofu_engine_destroy(e);
	} else {
		tofu_group_destroy(g);
	}
	tofu_header h;
	assert_int_equal(tu_raw_read_frame(fd, &h, NULL, 0), 1);
	assert_int_equal(h.proto, TOFU_OP_HELLO_REQUEST);
	for (int i = 0; i < N; i++) {
		uint8_t b[16];
		assert_int_equal(tu_raw_read_frame(fd, &h, b, sizeof(b)), 1);
		assert_int_equal(h.message_id, 500 + (uint64_t)i);
		assert_memory_equal(b, "queued", 6);
	}
	assert_int_equal(tu_raw_wait_eof(fd, TU_TIMEOUT_MS), 1);
	close(fd);
	close(lfd);
	if (!engine)
		tofu_engine_destroy(e);
}

static void test_group_destroy_flushes(void **state)
{
	destroy_flushes(state, 0);
}

static void test_engine_destroy_flushes(void **state)
{
	destroy_flushes(state, 1);
}

/* An internal_a message never overtakes the HelloRequest (WIRE-8.2.1). */
/* Frames of every size class (empty, inline-sized, heap-sized; headers added
 * before and after the body, which moves the body) reach a raw peer
 * byte-exact and in order, many per sendmsg and across partial writes; a
 * raw peer's frames of the same classes are delivered byte-exact. */
#define WL_FRAMES 300
static size_t wl_body_len(int i)
{
	static const size_t sizes[] = {0, 1, 40, 200, 241, 256, 300, 3000, 20000};
	return sizes[i % 9];
}

static uint8_t wl_byte(int i, size_t k)
{
	return (uint8_t)(i * 31 + (int)k * 7);
}

static void wl_headers(int i, char *th, size_t cap)
{
	if (i % 3 == 0)
		th[0] = 0;
	else
		snprintf(th, cap, "n:%d\r\n%s", i,
			 i % 3 == 2 ? "pad:xxxxxxxxxxxxxxxxxxxx\r\n" : "");
}

static void test_wire_layout(void **state)
{
	int uds = T(state) != 0;
	char addr[128];
	int lfd = tu_raw_listen(uds, addr, sizeof(addr));
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	uint64_t hid;
	uint16_t cc = tu_hello(e, g, addr, &hid);
	int fd = tu_raw_accept(lfd);
	tofu_header h;
	assert_int_equal(tu_raw_read_frame(fd, &h, NULL, 0), 1);

	static uint8_t body[20000];
	char th[64];
	for (int i = 0; i < WL_FRAMES; i++) {
		tofu_msg *m = NULL;
		assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
		tofu_msg_set_opcode(m, TOFU_OP_SIGNAL);
		tofu_msg_set_channel(m, cc);
		tofu_msg_set_id(m, (uint64_t)i + 1);
		size_t bl = wl_body_len(i);
		for (size_t k = 0; k < bl; k++)
			body[k] = wl_byte(i, k);
		wl_headers(i, th, sizeof(th));
		if (i % 2) { /* headers after the body: the body moves */
			assert_int_equal(tofu_msg_set_body(m, body, bl), 0);
			assert_int_equal(tofu_msg_set_headers(m, th, strlen(th)), 0);
		} else {
			assert_int_equal(tofu_msg_set_headers(m, th, strlen(th)), 0);
			assert_int_equal(tofu_msg_set_body(m, body, bl), 0);
		}
		assert_int_equal(tofu_post(g, &m, NULL), 0);
	}
	static uint8_t got[20064];
	for (int i = 0; i < WL_FRAMES; i++) {
		assert_int_equal(tu_raw_read_frame(fd, &h, got, sizeof(got)), 1);
		wl_headers(i, th, sizeof(th));
		size_t tl = strlen(th), bl = wl_body_len(i);
		assert_int_equal(h.proto, TOFU_OP_SIGNAL);
		assert_int_equal(h.channel_number, cc);
		assert_int_equal(h.message_id, (uint64_t)i + 1);
		assert_int_equal(h.text_headers_len, tl);
		assert_int_equal(h.body_len, bl);
		assert_memory_equal(got, th, tl);
		for (size_t k = 0; k < bl; k++)
			if (got[tl + k] != wl_byte(i, k))
				fail_msg("frame %d body byte %zu", i, k);
	}

	/* The other direction: one write with all frames back to back. The
	 * gets above took what the reactor put back as it wrote, so the
	 * pool may hold fewer than the 18 messages this burst needs. */
	tu_pool_fill(e, 18);
	size_t cap = 0;
	for (int i = 0; i < 18; i++)
		cap += 16 + 64 + wl_body_len(i);
	uint8_t *wbuf = malloc(cap);
	assert_non_null(wbuf);
	size_t off = 0;
	for (int i = 0; i < 18; i++) {
		wl_headers(i, th, sizeof(th));
		size_t tl = strlen(th), bl = wl_body_len(i);
		tofu_header wh = {.channel_number = 0x4d2,
				  .proto = TOFU_OP_SIGNAL,
				  .message_id = (uint64_t)i + 100,
				  .text_headers_len = (uint16_t)tl,
				  .body_len = (uint16_t)bl};
		tofu_header_encode(&wh, wbuf + off);
		memcpy(wbuf + off + 16, th, tl);
		for (size_t k = 0; k < bl; k++)
			wbuf[off + 16 + tl + k] = wl_byte(i, k);
		off += 16 + tl + bl;
	}
	tu_raw_write(fd, wbuf, off);
	free(wbuf);
	for (int i = 0; i < 18; i++) {
		tofu_msg *m = expect(g, TOFU_OP_SIGNAL, cc);
		assert_int_equal(tofu_msg_id(m), (uint64_t)i + 100);
		wl_headers(i, th, sizeof(th));
		size_t n;
		const uint8_t *p = tofu_msg_headers(m, &n);
		assert_int_equal(n, strlen(th));
		assert_memory_equal(p, th, n);
		p = tofu_msg_body(m, &n);
		assert_int_equal(n, wl_body_len(i));
		for (size_t k = 0; k < n; k++)
			if (p[k] != wl_byte(i, k))
				fail_msg("received frame %d body byte %zu", i, k);
		tofu_put(e, &m);
	}
	close(fd);
	close(lfd);
	assert_int_equal(tu_wait_closed(e, g, cc, TOFU_STATUS_RECV_FAILED), 0);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

static void test_oob_after_hello(void **state)
{
	int uds = (intptr_t)*state != 0;
	char addr[128];
	int lfd = tu_raw_listen(uds, addr, sizeof(addr));
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	for (int k = 0; k < 20; k++) {
		uint64_t hid;
		uint16_t cc = tu_hello(e, g, addr, &hid);
		tofu_msg *m = NULL;
		assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
		tofu_msg_set_channel(m, cc);
		tofu_msg_set_oob(m, 1);
		assert_int_equal(tofu_post(g, &m, NULL), 0);
		int fd = tu_raw_accept(lfd);
		tofu_header h;
		assert_int_equal(tu_raw_read_frame(fd, &h, NULL, 0), 1);
		assert_int_equal(h.proto, TOFU_OP_HELLO_REQUEST);
		assert_int_equal(h.message_id, hid);
		assert_int_equal(tu_raw_read_frame(fd, &h, NULL, 0), 1);
		assert_int_equal(h.proto, 0x40);
		close(fd);
		assert_int_equal(tu_wait_closed(e, g, cc, TOFU_STATUS_RECV_FAILED), 0);
	}
	close(lfd);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

/* `uds|@`: the kernel picks an abstract name, reported in ~bound_to. */
static void test_uds_autobind(void **state)
{
	(void)state;
	tofu_engine *e = tu_engine(NULL);
	tofu_group *g;
	assert_int_equal(tofu_group_create(e, &g), 0);
	char bound[256];
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	assert_int_equal(tofu_msg_prepare_welcome(m, "uds|@"), 0);
	assert_int_equal(tofu_post(g, &m, NULL), 0);
	m = tu_recv(g);
	assert_int_equal(tofu_msg_status(m), 0);
	const char *v;
	size_t vl;
	assert_true(tofu_msg_find_header(m, TOFU_HEADER_BOUND_TO, &v, &vl));
	assert_true(vl > 5 && vl < sizeof(bound));
	memcpy(bound, v, vl);
	bound[vl] = 0;
	tofu_put(e, &m);
	assert_true(strncmp(bound, "uds|@", 5) == 0);
	int fd = tu_raw_connect(bound);
	assert_true(fd >= 0);
	tu_raw_frame(fd, 1, TOFU_OP_SIGNAL, 0, 3, NULL, "x");
	m = tu_recv(g);
	assert_int_equal(tofu_msg_id(m), 3);
	tofu_put(e, &m);
	close(fd);
	tofu_group_destroy(g);
	tofu_engine_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    PER_T(test_welcome_ok_and_abort),
	    cmocka_unit_test(test_welcome_failures),
	    PER_T(test_session),
	    PER_T2(test_hello_fin),
	    PER_T2(test_hello_rst),
	    cmocka_unit_test(test_connect_failures),
	    PER_T(test_abort_channel),
	    PER_T(test_group_destroy),
	    PER_T(test_engine_destroy_with_open_channels),
	    cmocka_unit_test(test_ipv6_hostnames_two_engines),
	    cmocka_unit_test(test_send_failed),
	    PER_T2(test_open_fin),
	    PER_T2(test_open_rst),
	    PER_T(test_simultaneous_bye),
	    PER_T2(test_bye_timeout),
	    PER_T2(test_group_destroy_flushes),
	    PER_T2(test_engine_destroy_flushes),
	    PER_T2(test_oob_after_hello),
	    PER_T2(test_wire_layout),
	    cmocka_unit_test(test_uds_autobind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
