/*
 * engine/test/direct_test.c - tofu_post writing plain data frames from the
 * posting thread (internal.h, "direct send"): frames never reorder or
 * interleave with several posting threads, a full socket buffer hands the
 * rest to the reactor, max_outbound_bytes still counts unwritten bytes,
 * bye frames and aborts stop direct writes, and a peer reset or end of
 * stream during direct posts ends in the documented deliveries (WIRE-8.7).
 *
 * The peer is a raw socket, so the test sees exactly the bytes on the wire.
 */
#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define T(s) ((int)(intptr_t)(*(s)))

static const char *lv(void **state)
{
	return tu_listen_values[T(state)];
}

/* A channel the engine accepted from a raw client: the raw side sends one
 * Signal so the application learns the local channel number. From then on
 * posts on it may be written directly (connected, nothing queued). */
struct conn {
	tofu_engine *e;
	tofu_group *g;
	uint16_t cn;
	int fd; /* raw peer */
};

/* o NULL: defaults, but every post finding nothing queued is written by
 * the posting thread (TOFU_DIRECT_ALWAYS), so the races below really race
 * direct writes. */
static void open_conn(void **state, const tofu_options *o, struct conn *c)
{
	char bound[256];
	tofu_options d;
	if (!o) {
		tofu_options_init(&d);
		d.direct_send = TOFU_DIRECT_ALWAYS;
		o = &d;
	}
	c->e = tu_engine(o);
	assert_int_equal(tofu_group_create(c->e, &c->g), 0);
	tu_listen(c->e, c->g, lv(state), bound, sizeof(bound));
	c->fd = tu_raw_connect(bound);
	assert_true(c->fd >= 0);
	tu_raw_frame(c->fd, 1, TOFU_OP_SIGNAL, 0, 1, NULL, "hi");
	tofu_msg *m = tu_recv(c->g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_SIGNAL);
	assert_int_equal(tofu_msg_id(m), 1);
	c->cn = tofu_msg_channel(m);
	tofu_put(c->e, &m);
}

static void close_conn(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	tofu_group_destroy(c->g);
	tofu_engine_destroy(c->e);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Frame contents derived from (thread, seq) so the reader can check every
 * byte: body = u32 thread, u32 seq, u32 flag, then filler. */
#define MAX_BODY 24000

static size_t body_len_of(uint32_t t, uint32_t seq)
{
	return 12 + (size_t)((seq * 7919u + t * 104729u) % (MAX_BODY - 12));
}

static uint8_t fill_byte(uint32_t t, uint32_t seq, size_t i)
{
	return (uint8_t)(t * 31u + seq * 17u + (uint32_t)i);
}

static int post_seq(struct conn *c, uint32_t t, uint32_t seq, uint32_t flag, size_t len)
{
	static _Thread_local uint8_t buf[MAX_BODY];
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(c->e, TOFU_GET_ALWAYS, &m), 0);
	tofu_msg_set_opcode(m, TOFU_OP_SIGNAL);
	tofu_msg_set_channel(m, c->cn);
	memcpy(buf, &t, 4);
	memcpy(buf + 4, &seq, 4);
	memcpy(buf + 8, &flag, 4);
	for (size_t i = 12; i < len; i++)
		buf[i] = fill_byte(t, seq, i);
	assert_int_equal(tofu_msg_set_body(m, buf, len), 0);
	int rc = tofu_post(c->g, &m, NULL);
	if (rc) {
		/* Refused: the caller keeps the message (WIRE-9.5). */
		assert_non_null(m);
		tofu_put(c->e, &m);
	} else {
		assert_null(m);
	}
	return rc;
}

/* Reads one frame from the raw peer and checks its body against its
 * (thread, seq). Returns 1 and the frame's fields, 0 on EOF, -1 on error. */
static int read_checked(int fd, tofu_header *h, uint32_t *t, uint32_t *seq, uint32_t *flag)
{
	static uint8_t buf[MAX_BODY + 64];
	int r = tu_raw_read_frame(fd, h, buf, sizeof(buf));
	if (r != 1)
		return r;
	if (h->body_len < 12)
		return 1; /* not one of ours (a bye frame): caller checks */
	const uint8_t *b = buf + h->text_headers_len;
	memcpy(t, b, 4);
	memcpy(seq, b + 4, 4);
	memcpy(flag, b + 8, 4);
	if (h->body_len != body_len_of(*t, *seq))
		fail_msg("thread %u seq %u: body_len %u, expected %zu", *t, *seq, h->body_len,
			 body_len_of(*t, *seq));
	for (size_t i = 12; i < h->body_len; i++)
		if (b[i] != fill_byte(*t, *seq, i))
			fail_msg("thread %u seq %u: byte %zu corrupted", *t, *seq, i);
	return 1;
}

/* ------------------------------------------------- posted = written at once */

/* Posts m and checks that its frame is in the raw peer's socket when
 * tofu_post returns: the posting thread wrote it (UDS delivers within the
 * sendmsg call; the reactor was not involved). */
static void post_and_check_at_once(struct conn *c, tofu_msg *m, int opcode, uint64_t id,
				   uint32_t seq)
{
	size_t len = body_len_of(0, seq) % 2000 + 12;
	uint8_t body[2100];
	memset(body, (int)seq, len);
	tofu_msg_set_opcode(m, opcode);
	tofu_msg_set_channel(m, c->cn);
	tofu_msg_set_id(m, id);
	assert_int_equal(tofu_msg_set_body(m, body, len), 0);
	assert_int_equal(tofu_post(c->g, &m, NULL), 0);
	uint8_t got[2200];
	ssize_t n = recv(c->fd, got, sizeof(got), MSG_DONTWAIT);
	assert_int_equal(n, (ssize_t)(16 + len));
	tofu_header h;
	assert_int_equal(tofu_header_decode(got, 16, &h), 16);
	assert_int_equal(tofu_proto_opcode(h.proto), opcode);
	assert_int_equal(h.message_id, id);
	assert_int_equal(h.body_len, len);
	assert_memory_equal(got + 16, body, len);
}

/* TOFU_DIRECT_AUTO (the default), request/response on a UDS channel: each
 * Response answers a received Request on a quiet channel (1 ms between
 * round trips), so the posting thread writes it. */
static void test_response_written_at_once(void **state)
{
	tofu_options o;
	tofu_options_init(&o);
	struct conn c;
	open_conn(state, &o, &c);
	for (uint32_t seq = 0; seq < 50; seq++) {
		sleep_ms(1);
		tu_raw_frame(c.fd, 1, TOFU_OP_REQUEST, 0, 100 + seq, NULL, "q");
		tofu_msg *m = tu_recv(c.g);
		assert_int_equal(tofu_msg_opcode(m), TOFU_OP_REQUEST);
		assert_int_equal(tofu_msg_id(m), 100 + seq);
		post_and_check_at_once(&c, m, TOFU_OP_RESPONSE, 100 + seq, seq);
	}
	close_conn(&c);
}

/* TOFU_DIRECT_ALWAYS: posts that answer nothing, back to back, are written
 * by the posting thread as long as nothing of the channel is queued. */
static void test_always_written_at_once(void **state)
{
	struct conn c;
	open_conn(state, NULL, &c);
	for (uint32_t seq = 0; seq < 50; seq++) {
		tofu_msg *m = NULL;
		assert_int_equal(tofu_get(c.e, TOFU_GET_ALWAYS, &m), 0);
		post_and_check_at_once(&c, m, TOFU_OP_SIGNAL, 0x5000 + seq, seq);
	}
	close_conn(&c);
}

/* -------------------------------------- many posting threads, one channel */

#define POSTERS	   4
#define PER_POSTER 300

struct poster {
	struct conn *c;
	uint32_t t;
	atomic_int *stop; /* set: stop posting (used by the race tests) */
	atomic_int *flag; /* value read before each post goes into the body */
	uint32_t posted;  /* posts accepted */
	int last_rc;
};

static void *poster_main(void *arg)
{
	struct poster *p = arg;
	for (uint32_t seq = 0; seq < PER_POSTER; seq++) {
		if (p->stop && atomic_load(p->stop))
			break;
		uint32_t flag = p->flag ? (uint32_t)atomic_load(p->flag) : 0;
		int rc = post_seq(p->c, p->t, seq, flag, body_len_of(p->t, seq));
		p->last_rc = rc;
		if (rc)
			break;
		p->posted++;
	}
	return NULL;
}

/* Several threads post on one channel while the peer does not read at
 * first (the socket buffer fills: short writes, rests handed to the
 * reactor, later posts queued behind them), then reads everything: every
 * frame arrives once, intact, and each thread's frames in post order. */
static void test_many_posters_order(void **state)
{
	struct conn c;
	open_conn(state, NULL, &c);
	pthread_t th[POSTERS];
	struct poster p[POSTERS];
	for (uint32_t i = 0; i < POSTERS; i++) {
		p[i] = (struct poster){.c = &c, .t = i};
		assert_int_equal(pthread_create(&th[i], NULL, poster_main, &p[i]), 0);
	}
	sleep_ms(150);
	uint32_t next[POSTERS] = {0};
	for (int k = 0; k < POSTERS * PER_POSTER; k++) {
		tofu_header h;
		uint32_t t, seq, flag;
		assert_int_equal(read_checked(c.fd, &h, &t, &seq, &flag), 1);
		assert_int_equal(tofu_proto_opcode(h.proto), TOFU_OP_SIGNAL);
		assert_true(t < POSTERS);
		if (seq != next[t])
			fail_msg("thread %u: seq %u arrived, expected %u", t, seq, next[t]);
		next[t]++;
	}
	for (int i = 0; i < POSTERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(p[i].posted, PER_POSTER);
	}
	/* Nothing more than was posted. */
	struct pollfd pf = {.fd = c.fd, .events = POLLIN};
	assert_int_equal(poll(&pf, 1, 100), 0);
	close_conn(&c);
}

/* ------------------------------------------------------ max_outbound_bytes */

/* The unwritten rest of a direct post counts against max_outbound_bytes
 * like a queued frame: with a peer that does not read, posts are refused
 * with not_allowed once the socket buffer and the limit are full; after
 * the peer read everything, posts are accepted (and written) again. */
static void test_outbound_limit(void **state)
{
	tofu_options o;
	tofu_options_init(&o);
	o.max_outbound_bytes = 64 * 1024;
	o.direct_send = TOFU_DIRECT_ALWAYS;
	struct conn c;
	open_conn(state, &o, &c);
	uint32_t seq = 0;
	int rc = 0;
	/* Bounded: socket buffers are a few MiB at most. */
	for (; seq < 4000; seq++) {
		rc = post_seq(&c, 0, seq, 0, body_len_of(0, seq));
		if (rc)
			break;
	}
	assert_int_equal(rc, TOFU_STATUS_NOT_ALLOWED);
	uint32_t accepted = seq;
	assert_true(accepted > 0);
	for (uint32_t k = 0; k < accepted; k++) {
		tofu_header h;
		uint32_t t, s, f;
		assert_int_equal(read_checked(c.fd, &h, &t, &s, &f), 1);
		assert_int_equal(t, 0);
		assert_int_equal(s, k);
	}
	/* Drained: the reactor gave the bytes back; the refused frame is
	 * accepted now and arrives. */
	rc = -1;
	for (int i = 0; i < 500 && rc; i++) {
		rc = post_seq(&c, 0, accepted, 0, body_len_of(0, accepted));
		if (rc) {
			assert_int_equal(rc, TOFU_STATUS_NOT_ALLOWED);
			sleep_ms(10);
		}
	}
	assert_int_equal(rc, 0);
	tofu_header h;
	uint32_t t, s, f;
	assert_int_equal(read_checked(c.fd, &h, &t, &s, &f), 1);
	assert_int_equal(s, accepted);
	close_conn(&c);
}

/* ------------------------------------------------ bye and abort vs. posts */

/* A poster streams frames while the application posts a ByeRequest (bye)
 * or the abort ByeSignal (abort) from another thread. No frame posted after
 * that post returned may reach the wire (WIRE-8.4.2, WIRE-8.5.1): each
 * frame carries the flag the poster read before posting. */
static void bye_race(void **state, int abort)
{
	struct conn c;
	open_conn(state, NULL, &c);
	atomic_int stop = 0, after = 0;
	struct poster p = {.c = &c, .t = 0, .stop = &stop, .flag = &after};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, poster_main, &p), 0);
	/* Let some frames go out first, directly or through the reactor. */
	uint32_t next = 0;
	for (int k = 0; k < 20; k++) {
		tofu_header h;
		uint32_t t, seq, flag;
		assert_int_equal(read_checked(c.fd, &h, &t, &seq, &flag), 1);
		assert_int_equal(seq, next);
		next++;
	}
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(c.e, TOFU_GET_ALWAYS, &m), 0);
	if (abort) {
		tofu_msg_set_abort(m, c.cn);
	} else {
		tofu_msg_set_opcode(m, TOFU_OP_BYE_REQUEST);
		tofu_msg_set_channel(m, c.cn);
	}
	assert_int_equal(tofu_post(c.g, &m, NULL), 0);
	atomic_store(&after, 1);
	/* The peer reads until the bye frame (bye) or end of stream (abort):
	 * every frame in order, none posted after the bye/abort. */
	int saw_bye = 0;
	tofu_header bye = {0};
	for (;;) {
		tofu_header h;
		uint32_t t, seq, flag;
		int r = read_checked(c.fd, &h, &t, &seq, &flag);
		/* After an abort the stream ends; a part-written frame was
		 * returned to the application and its tail is cut off
		 * (WIRE-8.6.3). */
		if (r != 1 && abort)
			break;
		assert_int_equal(r, 1);
		if (tofu_proto_opcode(h.proto) == TOFU_OP_BYE_REQUEST) {
			assert_false(abort);
			saw_bye = 1;
			bye = h;
			break;
		}
		assert_int_equal(tofu_proto_opcode(h.proto), TOFU_OP_SIGNAL);
		assert_int_equal(seq, next);
		if (flag)
			fail_msg("seq %u posted after the %s reached the wire", seq,
				 abort ? "abort" : "ByeRequest");
		next++;
	}
	if (!abort) {
		assert_true(saw_bye);
		/* SEND_DONE: nothing follows the ByeRequest on the wire while
		 * the poster keeps posting. */
		struct pollfd pf = {.fd = c.fd, .events = POLLIN};
		assert_int_equal(poll(&pf, 1, 100), 0);
		tu_raw_frame(c.fd, bye.channel_number, TOFU_OP_BYE_RESPONSE, 0, bye.message_id,
			     NULL, NULL);
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	/* Deliveries: the ByeSignal back (abort) or the ByeResponse (bye),
	 * the unsent frames with channel_closed, the final Signal; then
	 * only posts the engine took before the number was released but
	 * processed after the close (WIRE-8.7.5), also channel_closed. */
	int final = 0;
	for (;;) {
		m = final ? tu_recv_within(c.g, 200) : tu_recv(c.g);
		if (!m)
			break;
		assert_int_equal(tofu_msg_channel(m), c.cn);
		if (tofu_msg_status(m) == TOFU_STATUS_POOL_EMPTY) {
			/* The poster's queued frames hold the pool: the
			 * reactor says so before it reads the ByeResponse. */
			tofu_put(c.e, &m);
			continue;
		}
		int op = tofu_msg_opcode(m);
		if (tofu_msg_find_header(m, TOFU_HEADER_CLOSE_REASON, NULL, NULL)) {
			assert_false(final);
			final = 1;
			tu_check_closed(c.e, &m, c.cn, 1, TOFU_STATUS_CHANNEL_CLOSED);
			continue;
		}
		if (op == TOFU_OP_BYE_RESPONSE) {
			assert_false(abort);
			assert_int_equal(tofu_msg_origin(m), 0);
		} else {
			assert_int_equal(tofu_msg_origin(m), 1);
			assert_int_equal(tofu_msg_status(m), TOFU_STATUS_CHANNEL_CLOSED);
		}
		tofu_put(c.e, &m);
	}
	assert_true(final);
	/* The poster stopped on the flag or on the released number. */
	assert_true(p.last_rc == 0 || p.last_rc == TOFU_STATUS_INVALID_CHANNEL_NUMBER);
	close_conn(&c);
}

static void test_bye_race(void **state)
{
	bye_race(state, 0);
}

static void test_abort_race(void **state)
{
	bye_race(state, 1);
}

/* Deterministic form of the above: the bye frame (ByeRequest or the
 * ordinary ByeSignal) is written and read by the peer, so nothing of the
 * channel is queued any more; a Signal posted now must still not be
 * written (SEND_DONE, WIRE-8.4.1/2), directly or otherwise; it comes back
 * with channel_closed when the peer ends the exchange. */
static void bye_then_post(void **state, int opcode)
{
	struct conn c;
	open_conn(state, NULL, &c);
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(c.e, TOFU_GET_ALWAYS, &m), 0);
	tofu_msg_set_opcode(m, opcode);
	tofu_msg_set_channel(m, c.cn);
	assert_int_equal(tofu_post(c.g, &m, NULL), 0);
	tofu_header h;
	assert_int_equal(tu_raw_read_frame(c.fd, &h, NULL, 0), 1);
	assert_int_equal(tofu_proto_opcode(h.proto), opcode);
	/* The reactor counts the bye as written just after its sendmsg. */
	sleep_ms(20);
	assert_int_equal(post_seq(&c, 0, 0, 0, 100), 0);
	struct pollfd pf = {.fd = c.fd, .events = POLLIN};
	assert_int_equal(poll(&pf, 1, 100), 0);
	if (opcode == TOFU_OP_BYE_REQUEST)
		tu_raw_frame(c.fd, h.channel_number, TOFU_OP_BYE_RESPONSE, 0, h.message_id, NULL,
			     NULL);
	else
		shutdown(c.fd, SHUT_WR); /* end of stream completes SEND_DONE */
	if (opcode == TOFU_OP_BYE_REQUEST) {
		m = tu_recv(c.g);
		assert_int_equal(tofu_msg_opcode(m), TOFU_OP_BYE_RESPONSE);
		tofu_put(c.e, &m);
	}
	m = tu_recv(c.g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_SIGNAL);
	assert_int_equal(tofu_msg_origin(m), 1);
	assert_int_equal(tofu_msg_status(m), TOFU_STATUS_CHANNEL_CLOSED);
	assert_false(tofu_msg_find_header(m, TOFU_HEADER_CLOSE_REASON, NULL, NULL));
	tofu_put(c.e, &m);
	m = tu_recv(c.g);
	tu_check_closed(c.e, &m, c.cn, 1, TOFU_STATUS_CHANNEL_CLOSED);
	close_conn(&c);
}

static void test_bye_request_then_post(void **state)
{
	bye_then_post(state, TOFU_OP_BYE_REQUEST);
}

static void test_bye_signal_then_post(void **state)
{
	bye_then_post(state, TOFU_OP_BYE_SIGNAL);
}

/* ------------------------------------------- peer reset / end of stream */

/* The peer resets (or ends) the connection while threads post directly.
 * Whatever the reactor or a posting thread sees first, the application gets
 * the unsent messages with one close reason, then exactly one final Signal
 * with it, then at most late posts with channel_closed (WIRE-8.7.5/8/9);
 * no crash, nothing lost: every refused post is the caller's again. */
static void peer_gone(void **state, int rst)
{
	struct conn c;
	open_conn(state, NULL, &c);
	pthread_t th[2];
	struct poster p[2];
	atomic_int stop = 0;
	for (uint32_t i = 0; i < 2; i++) {
		p[i] = (struct poster){.c = &c, .t = i, .stop = &stop};
		assert_int_equal(pthread_create(&th[i], NULL, poster_main, &p[i]), 0);
	}
	/* Read a few frames, then go away with the rest unread. */
	for (int k = 0; k < 10; k++) {
		tofu_header h;
		uint32_t t, seq, flag;
		assert_int_equal(read_checked(c.fd, &h, &t, &seq, &flag), 1);
	}
	if (rst) {
		/* TCP: RST at once; UDS: the engine's writes fail with EPIPE
		 * and its read sees ECONNRESET or end of stream. */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		assert_int_equal(setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
		close(c.fd);
		c.fd = -1;
	} else {
		/* End of stream only: the engine's writes still succeed, so the
		 * close reason is recv_failed (WIRE-8.7.6). */
		assert_int_equal(shutdown(c.fd, SHUT_WR), 0);
	}
	int reason = -1, final = 0;
	for (;;) {
		tofu_msg *m = final ? tu_recv_within(c.g, 300) : tu_recv(c.g);
		if (!m)
			break;
		assert_int_equal(tofu_msg_channel(m), c.cn);
		assert_int_equal(tofu_msg_origin(m), 1);
		if (tofu_msg_status(m) == TOFU_STATUS_POOL_EMPTY && !final && reason < 0) {
			tofu_put(c.e, &m);
			continue;
		}
		if (tofu_msg_find_header(m, TOFU_HEADER_CLOSE_REASON, NULL, NULL)) {
			assert_false(final);
			final = 1;
			const char *v;
			size_t vl;
			tofu_msg_find_header(m, TOFU_HEADER_CLOSE_REASON, &v, &vl);
			int want[] = {TOFU_STATUS_SEND_FAILED, TOFU_STATUS_COMMUNICATION_FAILED,
				      TOFU_STATUS_RECV_FAILED};
			int found = -1;
			for (int i = 0; i < 3; i++)
				if (strlen(tofu_status_name(want[i])) == vl &&
				    memcmp(tofu_status_name(want[i]), v, vl) == 0)
					found = want[i];
			if (found < 0 || (!rst && found != TOFU_STATUS_RECV_FAILED))
				fail_msg("close reason %.*s", (int)vl, v);
			if (reason >= 0)
				assert_int_equal(found, reason);
			reason = found;
			tofu_put(c.e, &m);
			atomic_store(&stop, 1);
			continue;
		}
		assert_int_equal(tofu_msg_opcode(m), TOFU_OP_SIGNAL);
		if (final) {
			assert_int_equal(tofu_msg_status(m), TOFU_STATUS_CHANNEL_CLOSED);
		} else if (reason < 0) {
			reason = tofu_msg_status(m);
		} else {
			/* Every unsent message carries the same close reason. */
			assert_int_equal(tofu_msg_status(m), reason);
		}
		tofu_put(c.e, &m);
	}
	assert_true(final);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_true(p[i].last_rc == 0 ||
			    p[i].last_rc == TOFU_STATUS_INVALID_CHANNEL_NUMBER);
	}
	close_conn(&c);
}

static void test_peer_reset(void **state)
{
	peer_gone(state, 1);
}

static void test_peer_fin(void **state)
{
	peer_gone(state, 0);
}

/* ----------------------------------------------- group destroy, full socket */

/* Posts fill the socket (the last ones part-written by posting threads and
 * finished by the reactor), then the group is destroyed: the frames already
 * taken are still written within the linger time (WIRE-8.6.8), complete and
 * in order, and the stream ends at a frame boundary. */
static void test_destroy_with_rest(void **state)
{
	tofu_options o;
	tofu_options_init(&o);
	o.close_linger_ms = 20000; /* the slow reader below (valgrind) must not lose frames */
	o.direct_send = TOFU_DIRECT_ALWAYS;
	struct conn c;
	open_conn(state, &o, &c);
	pthread_t th[2];
	struct poster p[2];
	for (uint32_t i = 0; i < 2; i++) {
		p[i] = (struct poster){.c = &c, .t = i};
		assert_int_equal(pthread_create(&th[i], NULL, poster_main, &p[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(p[i].posted, PER_POSTER);
	}
	int fd = c.fd;
	c.fd = -1;
	tofu_group_destroy(c.g);
	uint32_t next[2] = {0, 0};
	int r;
	for (;;) {
		tofu_header h;
		uint32_t t, seq, flag;
		r = read_checked(fd, &h, &t, &seq, &flag);
		if (r != 1)
			break;
		assert_true(t < 2);
		assert_int_equal(seq, next[t]);
		next[t]++;
	}
	assert_int_equal(r, 0); /* end of stream at a frame boundary */
	assert_int_equal(next[0], PER_POSTER);
	assert_int_equal(next[1], PER_POSTER);
	close(fd);
	tofu_engine_destroy(c.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate(test_response_written_at_once, (void *)1),
	    cmocka_unit_test_prestate(test_response_written_at_once, (void *)2),
	    cmocka_unit_test_prestate(test_always_written_at_once, (void *)1),
	    cmocka_unit_test_prestate(test_always_written_at_once, (void *)2),
	    PER_T(test_many_posters_order),
	    PER_T(test_outbound_limit),
	    PER_T(test_bye_race),
	    PER_T(test_abort_race),
	    PER_T(test_bye_request_then_post),
	    PER_T(test_bye_signal_then_post),
	    PER_T(test_peer_reset),
	    PER_T(test_peer_fin),
	    PER_T(test_destroy_with_rest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
