/*
 * engine/src/engine.c - engine lifetime, channel-number allocation, channel
 * groups and the application-thread side of post / wait_receive /
 * update_receiver.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"

/* TOFU_DIRECT_AUTO: when the posting thread writes (internal.h says why it
 * is safe). A direct write pays off when it saves waking the reactor for
 * one frame: request/response, where each post answers a received frame
 * (slot.rx, set by the reactor) on a quiet channel. A stream goes to the
 * reactor, which writes many frames per sendmsg: one write per post costs
 * a system call per frame, several times the cost of a post (measured:
 * 1.3-2x the CPU per message in the throughput benchmark with only 2-4% of
 * the posts written directly, on 2 shared cores). Quiet: the last two
 * answering posts each came at least this long after the answering post
 * before; two gaps, not one, because a poster that was preempted comes back
 * with one long gap and then streams on. Posts that answer nothing do not
 * read the clock (a stream pays nothing for this). */
#define DIRECT_QUIET_NS 10000u

void tofu_options_init(tofu_options *o)
{
	memset(o, 0, sizeof(*o));
	o->pool_initial = 16;
	o->pool_max = 64;
	o->frame_timeout_ms = 30000;
	o->bye_timeout_ms = 30000;
	o->max_text_headers_len = TOFU_MAX_TEXT_HEADERS_LEN;
	o->max_body_len = TOFU_MAX_BODY_LEN;
	o->close_linger_ms = 1000;
}

static void normalise(tofu_options *o)
{
	if (!o->pool_initial)
		o->pool_initial = 16;
	if (!o->pool_max)
		o->pool_max = 64;
	if (o->pool_max < o->pool_initial)
		o->pool_max = o->pool_initial;
	if (!o->max_text_headers_len)
		o->max_text_headers_len = TOFU_MAX_TEXT_HEADERS_LEN;
	if (!o->max_body_len)
		o->max_body_len = TOFU_MAX_BODY_LEN;
	if (!o->close_linger_ms)
		o->close_linger_ms = 1000;
	if (!o->frame_timeout_ms)
		o->frame_timeout_ms = 30000;
	if (!o->bye_timeout_ms)
		o->bye_timeout_ms = 30000;
	if (o->direct_send > TOFU_DIRECT_NEVER)
		o->direct_send = TOFU_DIRECT_AUTO;
}

static int engine_create(const tofu_options *opts, tofu_engine **out, int stepped)
{
	if (!out)
		return TOFU_STATUS_NULL_MESSAGE;
	*out = NULL;
	tofu_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return TOFU_STATUS_ALLOCATION_FAILED;
	if (opts)
		e->opt = *opts;
	normalise(&e->opt);
	e->efd = e->epfd = -1;
	e->stepped = stepped;
	pthread_mutex_init(&e->pool_mu, NULL);
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cmd_cv, NULL);
	/* calloc: untouched pages of the 1 MiB table cost no memory. */
	e->slots = calloc(65536, sizeof(struct slot));
	e->dpend = calloc(65536, sizeof(*e->dpend));
	if (!e->slots || !e->dpend)
		goto fail;
	if (getrandom(&e->rng, sizeof(e->rng), 0) != sizeof(e->rng))
		e->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)e;
	e->rng |= 1;
	e->rnd_pos = sizeof(e->rnd) / sizeof(e->rnd[0]); /* empty: fetch on first use */
	for (uint32_t i = 0; i < e->opt.pool_initial; i++) {
		tofu_msg *m = tofu__msg_new();
		if (!m)
			goto fail;
		m->next = e->pool;
		e->pool = m;
		e->pool_n++;
	}
	if (tofu__reactor_start(e))
		goto fail;
	*out = e;
	return 0;
fail:
	tofu_engine_destroy(e);
	return TOFU_STATUS_ALLOCATION_FAILED;
}

int tofu_engine_create(const tofu_options *opts, tofu_engine **out)
{
	return engine_create(opts, out, 0);
}

int tofu__engine_create_stepped(const tofu_options *opts, tofu_engine **out)
{
	return engine_create(opts, out, 1);
}

void tofu_engine_destroy(tofu_engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->pool_mu);
	e->pool_closed = 1; /* get() fails with not_allowed from now on */
	pthread_mutex_unlock(&e->pool_mu);
	pthread_mutex_lock(&e->mu);
	e->shutting_down = 1;
	for (tofu_group *g = e->groups; g; g = g->enext) {
		pthread_mutex_lock(&g->mu);
		g->closed = 1;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
	}
	pthread_mutex_unlock(&e->mu);
	/* The reactor closes every socket and frees everything it owns. */
	tofu__reactor_stop(e);

	/* Posts that arrived after the reactor's last look. */
	tofu_msg *m;
	while ((m = tofu__q_pop(&e->posted)))
		tofu__msg_free(m);
	while (e->groups) {
		tofu_group *g = e->groups;
		e->groups = g->enext;
		/* A receiver woken with shutdown_started leaves first. */
		pthread_mutex_lock(&g->mu);
		while (g->inside)
			pthread_cond_wait(&g->cv, &g->mu);
		pthread_mutex_unlock(&g->mu);
		tofu__group_free(g);
	}
	pthread_mutex_lock(&e->pool_mu);
	e->pool_closed = 1;
	while ((m = e->pool)) {
		e->pool = m->next;
		tofu__msg_free(m);
	}
	e->pool_n = 0;
	pthread_mutex_unlock(&e->pool_mu);
	free(e->slots);
	free(e->dpend);
	pthread_cond_destroy(&e->cmd_cv);
	pthread_mutex_destroy(&e->mu);
	pthread_mutex_destroy(&e->pool_mu);
	free(e);
}

/* ------------------------------------------------------ channel numbers */

/* Random channel numbers from the kernel CSPRNG (WIRE-6.2.4), fetched in
 * batches; xorshift64* only if getrandom() is unavailable. */
static uint32_t rng_u16(tofu_engine *e)
{
	if (e->rnd_pos >= sizeof(e->rnd) / sizeof(e->rnd[0])) {
		if (getrandom(e->rnd, sizeof(e->rnd), GRND_NONBLOCK) != (ssize_t)sizeof(e->rnd)) {
			for (size_t i = 0; i < sizeof(e->rnd) / sizeof(e->rnd[0]); i++) {
				uint64_t x = e->rng;
				x ^= x >> 12;
				x ^= x << 25;
				x ^= x >> 27;
				e->rng = x;
				e->rnd[i] = (uint16_t)((x * 0x2545F4914F6CDD1Dull) >> 48);
			}
		}
		e->rnd_pos = 0;
	}
	return e->rnd[e->rnd_pos++];
}

static int cn_usable(tofu_engine *e, uint32_t cn)
{
	return cn != TOFU_CHANNEL_UNASSIGNED && cn != TOFU_CHANNEL_RESERVED &&
	       e->slots[cn].kind == SLOT_FREE && !(e->recent_bits[cn >> 3] & (1u << (cn & 7)));
}

uint16_t tofu__chan_alloc_locked(tofu_engine *e, tofu_group *g, int kind)
{
	uint32_t cn = 0;
	/* Random draws succeed quickly unless the table is nearly full; then
	 * a scan from a random start finds a free number or proves none. */
	for (int i = 0; i < 64; i++) {
		uint32_t c = rng_u16(e);
		if (cn_usable(e, c)) {
			cn = c;
			break;
		}
	}
	if (!cn) {
		uint32_t start = rng_u16(e);
		for (uint32_t i = 0; i < 65536; i++) {
			uint32_t c = (start + i) & 0xFFFF;
			if (cn_usable(e, c)) {
				cn = c;
				break;
			}
		}
	}
	if (!cn)
		return 0;
	struct slot *s = &e->slots[cn];
	s->kind = (uint8_t)kind;
	s->g = g;
	s->gen++;
	s->queued = 0;
	s->direct = 0;
	s->send_err = 0;
	s->fd = -1;
	s->last_post = 0;
	s->quiet = 1; /* a new channel is quiet */
	s->rx = 0;
	e->n_slots++;
	if (kind == SLOT_IO)
		e->n_data++;
	return (uint16_t)cn;
}

void tofu__chan_release_locked(tofu_engine *e, uint16_t cn)
{
	struct slot *s = &e->slots[cn];
	if (s->kind == SLOT_FREE)
		return;
	if (s->kind == SLOT_IO)
		e->n_data--;
	s->kind = SLOT_FREE;
	s->g = NULL;
	s->queued = 0;
	/* From now on no poster writes to the socket: the reactor may close it. */
	s->direct = 0;
	s->fd = -1;
	e->n_slots--;
	/* Remember the number so it is not handed out again soon. */
	if (e->recent_n == TOFU_RECENTLY_RELEASED_CHANNELS) {
		uint16_t old = e->recent[e->recent_head];
		e->recent_bits[old >> 3] &= (uint8_t) ~(1u << (old & 7));
		e->recent_head = (e->recent_head + 1) % TOFU_RECENTLY_RELEASED_CHANNELS;
		e->recent_n--;
	}
	uint32_t tail = (e->recent_head + e->recent_n) % TOFU_RECENTLY_RELEASED_CHANNELS;
	e->recent[tail] = cn;
	e->recent_n++;
	e->recent_bits[cn >> 3] |= (uint8_t)(1u << (cn & 7));
}

/* --------------------------------------------------------------- groups */

int tofu_group_create(tofu_engine *e, tofu_group **out)
{
	if (!out)
		return TOFU_STATUS_NULL_MESSAGE;
	*out = NULL;
	if (!e)
		return TOFU_STATUS_SHUTDOWN_STARTED;
	tofu_group *g = calloc(1, sizeof(*g));
	if (!g)
		return TOFU_STATUS_ALLOCATION_FAILED;
	g->e = e;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_lock(&e->mu);
	if (e->shutting_down) {
		pthread_mutex_unlock(&e->mu);
		tofu__group_free(g);
		return TOFU_STATUS_SHUTDOWN_STARTED;
	}
	g->enext = e->groups;
	if (e->groups)
		e->groups->eprev = g;
	e->groups = g;
	pthread_mutex_unlock(&e->mu);
	*out = g;
	return 0;
}

void tofu__group_free(tofu_group *g)
{
	tofu_msg *m;
	while ((m = tofu__q_pop(&g->local)))
		tofu__msg_free(m);
	while ((m = tofu__q_pop(&g->inbox)))
		tofu__msg_free(m);
	while ((m = tofu__q_pop(&g->out)))
		tofu__msg_free(m);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

void tofu_group_destroy(tofu_group *g)
{
	if (!g)
		return;
	tofu_engine *e = g->e;
	struct cmd c = {.kind = CMD_GROUP_DESTROY, .g = g};

	pthread_mutex_lock(&e->mu);
	if (e->shutting_down) {
		/* The engine frees every group it still knows. */
		pthread_mutex_unlock(&e->mu);
		return;
	}
	pthread_mutex_lock(&g->mu);
	g->closed = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	/* Unlink now so engine_destroy never frees it under us. */
	if (g->eprev)
		g->eprev->enext = g->enext;
	else
		e->groups = g->enext;
	if (g->enext)
		g->enext->eprev = g->eprev;
	if (e->cmds_tail)
		e->cmds_tail->next = &c;
	else
		e->cmds = &c;
	e->cmds_tail = &c;
	int wake = tofu__need_wake_locked(e);
	pthread_mutex_unlock(&e->mu);
	if (wake)
		tofu__wake(e);

	pthread_mutex_lock(&e->mu);
	while (!c.done) {
		if (e->stepped) {
			/* No reactor thread: run its loop here until it
			 * has handled the command. */
			pthread_mutex_unlock(&e->mu);
			tofu__engine_step(e, 0);
			pthread_mutex_lock(&e->mu);
			continue;
		}
		pthread_cond_wait(&e->cmd_cv, &e->mu);
	}
	pthread_mutex_unlock(&e->mu);

	/* Let a receiver that was woken leave wait_receive first. */
	pthread_mutex_lock(&g->mu);
	while (g->inside)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);

	struct msgq all = {0};
	tofu__q_splice(&all, &g->local);
	tofu__q_splice(&all, &g->inbox);
	tofu__q_splice(&all, &g->out);
	tofu__pool_put_list(e, &all);
	tofu__group_free(g);
}

/* Signals after unlocking: a receiver woken while the reactor still holds
 * g->mu would block on the mutex at once (an extra futex wait and wake per
 * delivery). Safe because the group outlives this call (destroy waits for
 * the reactor) and `waiting` is read under the mutex: a receiver that stops
 * waiting meanwhile only sees a spurious wake-up and finds the inbox full. */
void tofu__group_push(tofu_group *g, struct msgq *q)
{
	pthread_mutex_lock(&g->mu);
	tofu__q_splice(&g->inbox, q);
	int wake = g->waiting;
	pthread_mutex_unlock(&g->mu);
	if (wake)
		pthread_cond_signal(&g->cv);
}

/* ----------------------------------------------------------------- post */

static int set_status(tofu_msg *m, int status)
{
	m->h.status = (uint8_t)status;
	return status;
}

/* The address header of a Welcome/Hello must exist and match the opcode
 * (WIRE-9.5 check 10); a malformed value is left to the reactor, which
 * reports invalid_address through the failure delivery. */
static int address_header_ok(const tofu_msg *m, int want_listen)
{
	tofu_address a;
	int is_listen = -1;
	int k = tofu_address_find(tofu__th(m), m->th_len, &a, &is_listen);
	if (k == TOFU_E_ADDRESS_MISSING)
		return 0;
	return is_listen == want_listen;
}

/* WIRE-9.5: the checks in their order; the first failing one decides and
 * the caller keeps the message with only its status byte changed. Runs
 * under engine->mu (channel table, limits). */
static int check_locked(tofu_engine *e, tofu_group *g, tofu_msg *m, int *abort)
{
	tofu_header *h = &m->h;
	int op = (int)tofu_proto_opcode(h->proto);
	if (g->closed || e->shutting_down)
		return TOFU_STATUS_SHUTDOWN_STARTED;
	if (op >= TOFU_OP_WELCOME_RESPONSE)
		return TOFU_STATUS_INVALID_OP_CODE;
	if (tofu_opcode_role(op) == TOFU_ROLE_RESPONSE && h->message_id == 0)
		return TOFU_STATUS_INVALID_MESSAGE_ID;
	if (tofu_proto_more(h->proto) && tofu_opcode_type(op) != TOFU_TYPE_REGULAR)
		return TOFU_STATUS_INVALID_MORE_USAGE;
	int opens = op == TOFU_OP_WELCOME_REQUEST || op == TOFU_OP_HELLO_REQUEST;
	*abort = op == TOFU_OP_BYE_SIGNAL && tofu_proto_internal_a(h->proto);
	if (opens ? h->channel_number != 0 : h->channel_number == 0)
		return TOFU_STATUS_INVALID_CHANNEL_NUMBER;
	struct slot *s = &e->slots[h->channel_number];
	if (!opens) {
		/* A listener carries no data; only the abort may close it. */
		if (s->kind == SLOT_FREE || (s->kind == SLOT_LISTENER && !*abort))
			return TOFU_STATUS_INVALID_CHANNEL_NUMBER;
		if (s->g != g)
			return TOFU_STATUS_INVALID_MCHN_GROUP;
	}
	if (m->th_len > TOFU_MAX_TEXT_HEADERS_LEN)
		return TOFU_STATUS_INVALID_HEADERS_LEN;
	if (opens && !address_header_ok(m, op == TOFU_OP_WELCOME_REQUEST))
		return TOFU_STATUS_WRONG_ADDRESS;
	if (m->body_len > TOFU_MAX_BODY_LEN)
		return TOFU_STATUS_INVALID_BODY_LEN;
	if (op == TOFU_OP_HELLO_REQUEST && e->opt.max_connections &&
	    e->n_data >= e->opt.max_connections)
		return TOFU_STATUS_NOT_ALLOWED;
	uint32_t frame = TOFU_HEADER_SIZE + m->th_len + m->body_len;
	if (!opens && !*abort && e->opt.max_outbound_bytes &&
	    (size_t)s->queued + frame > e->opt.max_outbound_bytes)
		return TOFU_STATUS_NOT_ALLOWED;
	return 0;
}

/* Writes the frame of m to channel cn's socket without blocking, under
 * engine->mu. Returns 1 when all of it was written. Otherwise the caller
 * hands m to the reactor: after a short write the slot records how much
 * was written (the reactor writes the rest); after a failure it records
 * that (the write consumed the socket's error: the reactor closes the
 * channel with send_failed as if its own write had failed, WIRE-8.7.9). */
static int direct_send(tofu_engine *e, uint16_t cn, tofu_msg *m)
{
	struct slot *s = &e->slots[cn];
	/* The frame is one buffer in wire order (internal.h). */
	ssize_t w;
	int tries = 0;
	do
		w = send(s->fd, tofu__wire(m), m->frame_len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR && ++tries < 8);
	if (w == (ssize_t)m->frame_len)
		return 1;
	if (w > 0) {
		s->dsent = (uint32_t)w;
	} else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		s->dfail = 1;
		s->send_err = 1;
		s->direct = 0;
	} else {
		return 0; /* nothing written: an ordinary post */
	}
	e->dpend[e->dpend_n++] = cn;
	return 0;
}

int tofu_post(tofu_group *g, tofu_msg **msg, tofu_header *prepared)
{
	if (!msg || !*msg)
		return TOFU_STATUS_NULL_MESSAGE;
	tofu_msg *m = *msg;
	if (!g)
		return set_status(m, TOFU_STATUS_INVALID_MCHN_GROUP);
	tofu_engine *e = g->e;
	tofu_header *h = &m->h;
	int op = (int)tofu_proto_opcode(h->proto);
	int abort = 0;
	pthread_mutex_lock(&e->mu);
	int rc = check_locked(e, g, m, &abort);
	uint16_t cn = h->channel_number;
	if (!rc && cn == 0) {
		cn = tofu__chan_alloc_locked(
		    e, g, op == TOFU_OP_WELCOME_REQUEST ? SLOT_LISTENER : SLOT_IO);
		if (!cn)
			rc = TOFU_STATUS_ALLOCATION_FAILED;
	}
	if (rc) {
		pthread_mutex_unlock(&e->mu);
		return set_status(m, rc);
	}
	/* Prepared as Zig's check_and_prepare leaves it. */
	h->proto &= (uint8_t)~TOFU_PROTO_ORIGIN_MASK;
	h->status = 0;
	h->channel_number = cn;
	h->text_headers_len = (uint16_t)m->th_len;
	h->body_len = (uint16_t)m->body_len;
	if (h->message_id == 0)
		h->message_id = tofu__next_message_id();
	int on_wire = op != TOFU_OP_WELCOME_REQUEST && !abort;
	m->frame_len = on_wire ? TOFU_HEADER_SIZE + m->th_len + m->body_len : 0;
	m->group = g;
	struct slot *s = &e->slots[cn];
	m->gen = s->gen;
	if (on_wire)
		tofu_header_encode(h, tofu__wire(m));
	if (prepared)
		*prepared = *h;
	if (tofu_opcode_type(op) == TOFU_TYPE_BYE) {
		/* Nothing may follow a bye frame or an abort on the wire
		 * (WIRE-8.4.2, WIRE-8.5.1): the reactor writes from now on. */
		s->direct = 0;
	} else if (on_wire && tofu_opcode_type(op) == TOFU_TYPE_REGULAR &&
		   e->opt.direct_send != TOFU_DIRECT_NEVER) {
		int want = 1;
		if (e->opt.direct_send == TOFU_DIRECT_AUTO) {
			/* Only answers are timed: a stream (nothing received)
			 * never reads the clock. */
			want = 0;
			if (s->rx) {
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				uint64_t now =
				    (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
				int quiet = now - s->last_post >= DIRECT_QUIET_NS;
				want = quiet && s->quiet;
				s->last_post = now;
				s->quiet = (uint8_t)quiet;
				s->rx = 0;
			}
		}
		/* Nothing of this channel is in the mailbox or the reactor's
		 * send queue: write from this thread (see internal.h). */
		if (want && s->direct && s->queued == 0 && e->dpend_n < 65536 &&
		    direct_send(e, cn, m)) {
			pthread_mutex_unlock(&e->mu);
			*msg = NULL;
			struct msgq q = {0};
			tofu__q_push(&q, m);
			tofu__pool_put_list(e, &q);
			return 0;
		}
	}
	s->queued += m->frame_len;
	tofu__q_push(&e->posted, m);
	int wake = tofu__need_wake_locked(e);
	pthread_mutex_unlock(&e->mu);
	*msg = NULL;
	if (wake)
		tofu__wake(e);
	return 0;
}

/* --------------------------------------------------------- wait_receive */

int tofu_wait_receive(tofu_group *g, uint64_t timeout_ns, tofu_msg **out)
{
	if (!out)
		return TOFU_STATUS_NULL_MESSAGE;
	*out = NULL;
	if (!g)
		return TOFU_STATUS_INVALID_MCHN_GROUP;
	/* The receiver drains a private batch first: one lock per batch. */
	if (g->local.head) {
		*out = tofu__q_pop(&g->local);
		return 0;
	}
	struct timespec dl;
	if (timeout_ns != TOFU_WAIT_INFINITE && timeout_ns) {
		clock_gettime(CLOCK_MONOTONIC, &dl);
		uint64_t ns = (uint64_t)dl.tv_nsec + timeout_ns % 1000000000ull;
		dl.tv_sec += (time_t)(timeout_ns / 1000000000ull + ns / 1000000000ull);
		dl.tv_nsec = (long)(ns % 1000000000ull);
	}
	int rc = 0;
	pthread_mutex_lock(&g->mu);
	g->inside++;
	for (;;) {
		if (g->closed) {
			rc = TOFU_STATUS_SHUTDOWN_STARTED;
			break;
		}
		if (g->local.head || g->inbox.head) {
			tofu__q_splice(&g->local, &g->inbox);
			*out = tofu__q_pop(&g->local);
			break;
		}
		if (timeout_ns == 0)
			break;
		g->waiting = 1;
		int w = timeout_ns == TOFU_WAIT_INFINITE
			    ? pthread_cond_wait(&g->cv, &g->mu)
			    : pthread_cond_timedwait(&g->cv, &g->mu, &dl);
		g->waiting = 0;
		if (w == ETIMEDOUT) {
			if (g->inbox.head && !g->closed)
				continue;
			break;
		}
	}
	g->inside--;
	if (g->closed)
		pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	return rc;
}

int tofu_update_receiver(tofu_group *g, tofu_msg **msg)
{
	if (!g)
		return TOFU_STATUS_INVALID_MCHN_GROUP;
	tofu_msg *m = msg ? *msg : NULL;
	int created = 0;
	if (m) {
		m->h.proto &= (uint8_t)~TOFU_PROTO_ORIGIN_MASK;
		m->h.status = TOFU_STATUS_RECEIVER_UPDATE;
	} else {
		m = tofu__msg_new();
		if (!m)
			return TOFU_STATUS_ALLOCATION_FAILED;
		created = 1;
		m->h.proto = tofu_proto_make(TOFU_OP_SIGNAL, 1, 0, 0, 0);
		m->h.status = TOFU_STATUS_RECEIVER_UPDATE;
	}
	pthread_mutex_lock(&g->mu);
	if (g->closed) {
		pthread_mutex_unlock(&g->mu);
		if (created)
			tofu__msg_free(m);
		return TOFU_STATUS_SHUTDOWN_STARTED;
	}
	tofu__q_push(&g->inbox, m);
	if (g->waiting)
		pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (msg)
		*msg = NULL;
	return 0;
}
