/*
 * fuzz/fuzz_engine.c - the engine's receive path, end to end: the input is
 * written by a peer socket into a live engine channel.
 *
 * Once per process: two engines, each with a bounded pool and a group
 * listening on a Linux abstract Unix socket. Inputs whose size is 7 mod 8
 * go to the one with a tiny pool (4 preallocated, at most 8 kept), where any
 * input of more than four frames runs the starve/resume path (pool_empty,
 * stash, resume on put); the others go to one whose pool (64/128) rarely
 * runs dry.
 *
 * The engines are stepped (engine/src/internal.h): their reactor loop runs
 * on this thread, one iteration per tofu__engine_step, so an input costs
 * no thread hand-off; the code under test is otherwise the engine's own
 * (epoll, recv, decode, pool, stash, delivery, close, linger; accept for
 * inputs whose size / 8 is 63 mod 64, the others adopt a socketpair end).
 * Each input has a connection of its own: the peer writes it, closes (a
 * FIN once it is written) and the input ends with the channel_closed
 * Signal. The peer socket is non-blocking and the harness alternates
 * writing, stepping and taking deliveries, putting each message back at
 * once. What an input does therefore depends on the input alone (and the
 * engines' pools), so a finding reproduces from its one file and AFL++
 * sees few variable edges.
 *
 * Oracle: the codec's stream decoder (validating, with the engine's limits)
 * is the model of what the engine must do with the bytes:
 *   - exactly the complete valid frames before the first invalid one (or up
 *     to and including a ByeResponse) are delivered, in order, each with the
 *     wire header (channel number replaced by the local one), text headers
 *     and body byte for byte;
 *   - nothing else is delivered except pool_empty Signals (origin engine);
 *   - then one channel_closed Signal (origin engine) on the same channel,
 *     whose ~close_reason names the first invalid frame's status, or
 *     channel_closed after a ByeResponse, or recv_failed for the FIN (a
 *     trailing partial frame is dropped); its message_id is that of the
 *     first frame delivered;
 *   - no crash, sanitizer report, hang (10 s without progress) or lost
 *     message.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "oracle_codec.h" /* first: the model's codec calls go to its copy */

#include "../engine/src/internal.h"
#include "fuzz.h"
#include "tofu/tofu.h"

#define STALL_NS (10ull * 1000000000ull)

/* One engine, its listening group and the peer side of its channel. */
struct rig {
	tofu_engine *eng;
	tofu_group *grp;
	struct sockaddr_un addr;
	socklen_t addr_len;
	/* the peer side of the current input's connection */
	int peer;
	int have_cn;
	int accepted; /* came through the listener: the peer closes late */
	uint16_t cn;
	uint64_t first_id;
};
static struct rig rigs[2];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++) {
		if (rigs[i].peer >= 0)
			close(rigs[i].peer);
		tofu_group_destroy(rigs[i].grp);
		tofu_engine_destroy(rigs[i].eng);
	}
}

static void rig_setup(struct rig *r, int idx, uint32_t pool_initial, uint32_t pool_max)
{
	tofu_options o;
	tofu_options_init(&o);
	o.pool_initial = pool_initial;
	o.pool_max = pool_max;
	FUZZ_CHECK(tofu__engine_create_stepped(&o, &r->eng) == 0, "engine_create");
	FUZZ_CHECK(tofu_group_create(r->eng, &r->grp) == 0, "group_create");

	char name[64];
	snprintf(name, sizeof name, "tofu-fuzz-engine-%d-%d", (int)getpid(), idx);
	char value[80];
	snprintf(value, sizeof value, "uds|@%s", name);
	tofu_msg *m = NULL;
	FUZZ_CHECK(tofu_get(r->eng, TOFU_GET_ALWAYS, &m) == 0 && m, "get");
	FUZZ_CHECK(tofu_msg_prepare_welcome(m, value) == 0, "prepare_welcome");
	FUZZ_CHECK(tofu_post(r->grp, &m, NULL) == 0, "post welcome");
	uint64_t t0 = now_ns();
	while (tofu_wait_receive(r->grp, 0, &m) == 0 && !m) {
		FUZZ_CHECK(now_ns() - t0 < STALL_NS, "no WelcomeResponse");
		tofu__engine_step(r->eng, 10);
	}
	FUZZ_CHECK(m && tofu_msg_opcode(m) == TOFU_OP_WELCOME_RESPONSE && tofu_msg_status(m) == 0,
		   "listen failed: opcode %d status %d", m ? tofu_msg_opcode(m) : -1,
		   m ? tofu_msg_status(m) : -1);
	tofu_put(r->eng, &m);

	memset(&r->addr, 0, sizeof r->addr);
	r->addr.sun_family = AF_UNIX;
	size_t n = strlen(name);
	memcpy(r->addr.sun_path + 1, name, n); /* leading NUL: abstract */
	r->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	r->peer = -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rig_setup(&rigs[0], 0, 64, 128);
	rig_setup(&rigs[1], 1, 4, 8);
	atexit(teardown);
	return 0;
}

/* What the engine must deliver for `data`, from the codec's decoder. */
struct expect {
	size_t nframes;
	size_t *off; /* offset of each frame in data */
	int reason;  /* status of the final channel_closed Signal */
};

static void model(const uint8_t *data, size_t size, struct expect *x)
{
	tofu_decoder d;
	tofu_decoder_init(&d, TOFU_DEC_VALIDATE, TOFU_MAX_TEXT_HEADERS_LEN, TOFU_MAX_BODY_LEN);
	x->nframes = 0;
	x->off = malloc(sizeof(size_t) * (size / TOFU_HEADER_SIZE + 1));
	x->reason = TOFU_STATUS_RECV_FAILED;
	size_t pos = 0, start = 0;
	for (;;) {
		size_t used;
		tofu_dec_event ev;
		int k = tofu_decoder_next(&d, data + pos, size - pos, &used, &ev);
		if (k == TOFU_DEC_HEADER)
			start = pos;
		pos += used;
		if (k == TOFU_E_INCOMPLETE)
			return; /* then the FIN: recv_failed */
		if (k < 0) {
			x->reason = tofu_error_status(k);
			return;
		}
		if (k == TOFU_DEC_END) {
			x->off[x->nframes++] = start;
			if (tofu_proto_opcode(ev.header.proto) == TOFU_OP_BYE_RESPONSE) {
				x->reason = TOFU_STATUS_CHANNEL_CLOSED;
				return;
			}
		}
	}
}

static void check_frame(tofu_msg *m, const uint8_t *frame, size_t i, uint16_t cn)
{
	tofu_header want;
	tofu_header_decode(frame, TOFU_HEADER_SIZE, &want);
	const tofu_header *h = tofu_msg_header_const(m);
	FUZZ_CHECK(h->proto == want.proto && h->status == want.status &&
		       h->message_id == want.message_id,
		   "frame %zu: header proto 0x%02x status %u id %llu, wire 0x%02x %u %llu", i,
		   h->proto, h->status, (unsigned long long)h->message_id, want.proto, want.status,
		   (unsigned long long)want.message_id);
	FUZZ_CHECK(h->channel_number == cn, "frame %zu on channel %u, not %u", i, h->channel_number,
		   cn);
	size_t thl, bl;
	const uint8_t *th = tofu_msg_headers(m, &thl);
	const uint8_t *body = tofu_msg_body(m, &bl);
	FUZZ_CHECK(thl == want.text_headers_len && bl == want.body_len,
		   "frame %zu: parts %zu/%zu, wire %u/%u", i, thl, bl, want.text_headers_len,
		   want.body_len);
	FUZZ_CHECK(thl == 0 || memcmp(th, frame + TOFU_HEADER_SIZE, thl) == 0,
		   "frame %zu: text headers differ", i);
	FUZZ_CHECK(bl == 0 || memcmp(body, frame + TOFU_HEADER_SIZE + thl, bl) == 0,
		   "frame %zu: body differs", i);
}

/* A new peer connection. Most are one end of a socketpair the engine adopts
 * as if accepted (tofu__engine_adopt): socket, connect and accept would
 * otherwise be a third of the syscalls of an input. One input size in 64
 * (chosen by the size, so an input always takes the same way) goes
 * through the listener, so accept stays on the fuzzed path; on those the
 * peer closes only after the engine did (when the engine closes by itself),
 * so the engine's linger runs as well. */
static void connect_peer(struct rig *r, size_t size)
{
	r->have_cn = 0;
	r->accepted = size / 8 % 64 == 63;
	if (!r->accepted) {
		int sv[2];
		FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) ==
			       0,
			   "socketpair: %s", strerror(errno));
		FUZZ_CHECK(tofu__engine_adopt(r->eng, r->grp, sv[1]) == 0, "adopt refused");
		r->peer = sv[0];
		return;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(fd >= 0, "socket: %s", strerror(errno));
	int rc;
	uint64_t t0 = now_ns();
	/* EAGAIN: the listen backlog is full until the engine accepts. */
	while ((rc = connect(fd, (struct sockaddr *)&r->addr, r->addr_len)) != 0 &&
	       errno == EAGAIN) {
		FUZZ_CHECK(now_ns() - t0 < STALL_NS, "connect: backlog stays full");
		tofu__engine_step(r->eng, 1);
	}
	FUZZ_CHECK(rc == 0, "connect: %s", strerror(errno));
	r->peer = fd;
}

/* Writes what the socket takes now. Returns 1 once the input is out (or
 * the engine closed the connection early, after an invalid frame). */
static int write_some(int fd, const uint8_t *p, size_t n, size_t *sent)
{
	while (*sent < n) {
		ssize_t w = send(fd, p + *sent, n - *sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			*sent += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return 1; /* EPIPE / ECONNRESET: the engine closed early: fine */
	}
	return 1;
}

/* Checks one delivery against the model. Returns 1 when it was the final
 * channel_closed Signal. */
static int take(struct rig *r, tofu_msg *m, const uint8_t *data, const struct expect *x,
		size_t *got)
{
	const tofu_header *h = tofu_msg_header_const(m);
	if (tofu_msg_origin(m)) {
		if (h->status == TOFU_STATUS_POOL_EMPTY) {
			tofu_put(r->eng, &m);
			return 0;
		}
		FUZZ_CHECK(
		    h->status == TOFU_STATUS_CHANNEL_CLOSED && tofu_msg_opcode(m) == TOFU_OP_SIGNAL,
		    "unexpected engine message opcode %d status %d", tofu_msg_opcode(m), h->status);
		FUZZ_CHECK(*got == x->nframes, "closed after %zu frames, %zu expected", *got,
			   x->nframes);
		FUZZ_CHECK(!r->have_cn || h->channel_number == r->cn, "closed channel %u, not %u",
			   h->channel_number, r->cn);
		const char *v = NULL;
		size_t vl = 0;
		const char *want = tofu_status_name(x->reason);
		FUZZ_CHECK(tofu_msg_find_header(m, TOFU_HEADER_CLOSE_REASON, &v, &vl) == 1 &&
			       vl == strlen(want) && memcmp(v, want, vl) == 0,
			   "close reason '%.*s', expected '%s'", (int)vl, v ? v : "", want);
		FUZZ_CHECK(!r->have_cn || h->message_id == r->first_id,
			   "close Signal id %llu, first frame's %llu",
			   (unsigned long long)h->message_id, (unsigned long long)r->first_id);
		tofu_put(r->eng, &m);
		return 1;
	}
	FUZZ_CHECK(*got < x->nframes, "frame %zu delivered, only %zu expected", *got, x->nframes);
	if (!r->have_cn) {
		r->have_cn = 1;
		r->cn = h->channel_number;
		r->first_id = h->message_id;
	}
	check_frame(m, data + x->off[*got], *got, r->cn);
	(*got)++;
	tofu_put(r->eng, &m);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rig *r = &rigs[size % 8 == 7];

	struct expect x;
	model(data, size, &x);

	connect_peer(r, size);
	size_t sent = 0, got = 0;
	int written = 0, closed = 0;
	uint64_t idle_since = 0;
	while (!closed) {
		int progress = 0;
		if (!written) {
			size_t before = sent;
			written = write_some(r->peer, data, size, &sent);
			/* The peer's FIN, unless the engine closes first. */
			if (written && !(r->accepted && x.reason != TOFU_STATUS_RECV_FAILED)) {
				close(r->peer);
				r->peer = -1;
			}
			progress = written || sent != before;
		}
		tofu__engine_step(r->eng, 0);
		tofu_msg *m = NULL;
		while (!closed && tofu_wait_receive(r->grp, 0, &m) == 0 && m) {
			closed = take(r, m, data, &x, &got);
			m = NULL;
			progress = 1;
		}
		if (progress) {
			idle_since = 0;
		} else if (!idle_since) {
			idle_since = now_ns();
		} else {
			FUZZ_CHECK(now_ns() - idle_since < STALL_NS,
				   "nothing happened for 10 s after %zu of %zu frames (%zu of %zu "
				   "bytes written)",
				   got, x.nframes, sent, size);
		}
	}
	/* Closed by the engine before the peer closed (or wrote all): the
	 * lingering channel sees the FIN on the next input's steps. */
	if (r->peer >= 0) {
		close(r->peer);
		r->peer = -1;
	}
	free(x.off);
	return 0;
}
