/*
 * fuzz/fuzz_engine.c - the engine's receive path, end to end: the input is
 * written by a peer socket into a live engine channel.
 *
 * Once per process: an engine with a small bounded pool (2 preallocated, at
 * most 4 kept) and a group listening on a Linux abstract Unix socket. Per
 * input: write it into the peer socket, then take every delivery it causes,
 * putting each message back at once (so a stream of many frames drives the
 * pool empty and exercises the starve/resume path).
 *   - An input the model says leaves the channel open (valid frames only,
 *     ending at a frame boundary) keeps the connection for the next input:
 *     the channel is then exactly as a fresh one at a boundary, and sparing
 *     a connect/accept/close per input is what makes >10,000 exec/s.
 *   - Any other input is followed by a FIN (shutdown of the write side) and
 *     ends with the channel_closed Signal; the next input connects anew.
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
 *   - no crash, sanitizer report, hang (10 s per delivery) or lost message.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"
#include "tofu/tofu.h"

#define WAIT_NS (10 * TOFU_WAIT_SECOND)

static tofu_engine *eng;
static tofu_group *grp;
static struct sockaddr_un addr;
static socklen_t addr_len;

static void teardown(void)
{
	tofu_group_destroy(grp);
	tofu_engine_destroy(eng);
}

static void setup(void)
{
	tofu_options o;
	tofu_options_init(&o);
	o.pool_initial = 8;
	o.pool_max = 16;
	FUZZ_CHECK(tofu_engine_create(&o, &eng) == 0, "engine_create");
	FUZZ_CHECK(tofu_group_create(eng, &grp) == 0, "group_create");

	char name[64];
	snprintf(name, sizeof name, "tofu-fuzz-engine-%d", (int)getpid());
	char value[80];
	snprintf(value, sizeof value, "uds|@%s", name);
	tofu_msg *m = NULL;
	FUZZ_CHECK(tofu_get(eng, TOFU_GET_ALWAYS, &m) == 0 && m, "get");
	FUZZ_CHECK(tofu_msg_prepare_welcome(m, value) == 0, "prepare_welcome");
	FUZZ_CHECK(tofu_post(grp, &m, NULL) == 0, "post welcome");
	FUZZ_CHECK(tofu_wait_receive(grp, WAIT_NS, &m) == 0 && m, "no WelcomeResponse");
	FUZZ_CHECK(tofu_msg_opcode(m) == TOFU_OP_WELCOME_RESPONSE && tofu_msg_status(m) == 0,
		   "listen failed: opcode %d status %d", tofu_msg_opcode(m), tofu_msg_status(m));
	tofu_put(eng, &m);

	memset(&addr, 0, sizeof addr);
	addr.sun_family = AF_UNIX;
	size_t n = strlen(name);
	memcpy(addr.sun_path + 1, name, n); /* leading NUL: abstract */
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	atexit(teardown);
}

/* What the engine must deliver for `data`, from the codec's decoder. */
struct expect {
	size_t nframes;
	size_t *off; /* offset of each frame in data */
	int reason;  /* status of the final channel_closed Signal */
	int open;    /* the channel stays open (no close without a FIN) */
};

static void model(const uint8_t *data, size_t size, struct expect *x)
{
	tofu_decoder d;
	tofu_decoder_init(&d, TOFU_DEC_VALIDATE, TOFU_MAX_TEXT_HEADERS_LEN, TOFU_MAX_BODY_LEN);
	x->nframes = 0;
	x->off = malloc(sizeof(size_t) * (size / TOFU_HEADER_SIZE + 1));
	x->reason = TOFU_STATUS_RECV_FAILED;
	x->open = 0;
	size_t pos = 0, start = 0;
	for (;;) {
		size_t used;
		tofu_dec_event ev;
		int k = tofu_decoder_next(&d, data + pos, size - pos, &used, &ev);
		if (k == TOFU_DEC_HEADER)
			start = pos;
		pos += used;
		if (k == TOFU_E_INCOMPLETE) {
			x->open = tofu_decoder_at_boundary(&d);
			return;
		}
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

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return; /* the engine closed early (invalid frame): fine */
		p += w;
		n -= (size_t)w;
	}
}

/* The next delivery. Polls (yielding the CPU to the reactor) before it
 * blocks: a blocking wait costs a sleep and a wake-up per input, which on
 * two shared cores halves the executions per second. */
static int next_delivery(tofu_msg **m)
{
	for (int i = 0; i < 200; i++) {
		int rc = tofu_wait_receive(grp, 0, m);
		if (rc != 0 || *m != NULL)
			return rc;
		sched_yield();
	}
	return tofu_wait_receive(grp, WAIT_NS, m);
}

/* The peer connection, kept while the channel stays open. */
static int peer = -1;
static int have_cn;
static uint16_t cn;
static uint64_t first_id;

/* Connections are made and closed in batches: each connect and each final
 * close wakes the reactor, and one wake-up per batch instead of per input
 * triples the executions per second of inputs that close the channel. */
enum { BATCH = 32 };
static int spare[BATCH], n_spare;
static int dead[BATCH], n_dead;

static void reconnect(void)
{
	if (n_spare == 0) {
		for (int i = 0; i < BATCH; i++) {
			int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			FUZZ_CHECK(fd >= 0, "socket: %s", strerror(errno));
			FUZZ_CHECK(connect(fd, (struct sockaddr *)&addr, addr_len) == 0,
				   "connect: %s", strerror(errno));
			spare[BATCH - 1 - i] = fd; /* used in connect order */
		}
		n_spare = BATCH;
	}
	peer = spare[--n_spare];
	have_cn = 0;
}

static void retire(int fd)
{
	dead[n_dead++] = fd;
	if (n_dead == BATCH) {
		for (int i = 0; i < n_dead; i++)
			close(dead[i]);
		n_dead = 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, setup);

	struct expect x;
	model(data, size, &x);

	if (peer < 0)
		reconnect();
	write_all(peer, data, size);
	if (!x.open)
		shutdown(peer, SHUT_WR);

	size_t got = 0;
	while (got < x.nframes || !x.open) {
		tofu_msg *m = NULL;
		int rc = next_delivery(&m);
		FUZZ_CHECK(rc == 0 && m != NULL,
			   "no delivery within 10 s (rc %d) after %zu of %zu frames", rc, got,
			   x.nframes);
		const tofu_header *h = tofu_msg_header_const(m);
		if (tofu_msg_origin(m)) {
			if (h->status == TOFU_STATUS_POOL_EMPTY) {
				tofu_put(eng, &m);
				continue;
			}
			FUZZ_CHECK(h->status == TOFU_STATUS_CHANNEL_CLOSED &&
				       tofu_msg_opcode(m) == TOFU_OP_SIGNAL,
				   "unexpected engine message opcode %d status %d",
				   tofu_msg_opcode(m), h->status);
			FUZZ_CHECK(!x.open, "channel closed, but the input leaves it open");
			FUZZ_CHECK(got == x.nframes, "closed after %zu frames, %zu expected", got,
				   x.nframes);
			FUZZ_CHECK(!have_cn || h->channel_number == cn, "closed channel %u, not %u",
				   h->channel_number, cn);
			const char *v = NULL;
			size_t vl = 0;
			const char *want = tofu_status_name(x.reason);
			FUZZ_CHECK(tofu_msg_find_header(m, TOFU_HEADER_CLOSE_REASON, &v, &vl) ==
					   1 &&
				       vl == strlen(want) && memcmp(v, want, vl) == 0,
				   "close reason '%.*s', expected '%s'", (int)vl, v ? v : "", want);
			FUZZ_CHECK(!have_cn || h->message_id == first_id,
				   "close Signal id %llu, first frame's %llu",
				   (unsigned long long)h->message_id, (unsigned long long)first_id);
			tofu_put(eng, &m);
			retire(peer);
			peer = -1;
			break;
		}
		FUZZ_CHECK(got < x.nframes, "frame %zu delivered, only %zu expected", got,
			   x.nframes);
		if (!have_cn) {
			have_cn = 1;
			cn = h->channel_number;
			first_id = h->message_id;
		}
		check_frame(m, data + x.off[got], got, cn);
		got++;
		tofu_put(eng, &m);
	}
	free(x.off);
	return 0;
}
