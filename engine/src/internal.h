/*
 * engine/src/internal.h - private structures of libtofu shared by msg.c,
 * group.c and reactor.c. Nothing here is public API.
 *
 * Ownership and locking in one place:
 *   - engine->mu guards the posted-message mailbox, the command list, the
 *     channel-number slot table and the group list. Application threads
 *     (post, group create/destroy) and the reactor meet only there.
 *   - engine->pool_mu guards the message pool. The reactor takes pooled
 *     messages for received frames in batches into a private cache
 *     (reactor.c, POOL_CACHE) that it gives back at the end of every loop
 *     iteration, so the cache never outlives one iteration.
 *   - group->mu guards the group's inbox (reactor -> wait_receive).
 *   - Everything else (sockets, struct chan, send queues, timers) belongs to
 *     the reactor thread alone and is touched without locks, with one
 *     exception: the direct send below.
 *
 * Direct send (tofu_post writes from the posting thread). A data channel's
 * slot has `direct` set while the posting thread may write a plain data
 * frame (Request/Response/Signal) to `fd` itself. The rules that make this
 * safe:
 *   - Only the reactor sets `direct` (channel connected: accepted, or
 *     connect() done), under engine->mu.
 *   - Whatever clears it does so under engine->mu: the reactor when it
 *     releases the channel number, which close_chan does first, before any
 *     close()/shutdown(SHUT_WR) (so a poster never writes to a descriptor
 *     the reactor has closed and the kernel may have reused); tofu_post when
 *     it accepts a bye frame (ByeRequest/ByeResponse/ByeSignal, abort
 *     included: no frame may follow it, WIRE-8.4.2/8.5.1) or when its own
 *     write fails.
 *   - A poster writes only with `direct` set and `queued` == 0 (and, by
 *     default, only when it answers a received frame on a quiet channel:
 *     see `rx` and DIRECT_QUIET_NS in engine.c), and holds
 *     engine->mu from that test until the sendmsg returned and the unwritten
 *     rest (if any) is in the mailbox, counted in `queued`. `queued` counts
 *     every posted byte not yet written (mailbox + reactor send queue), and
 *     the reactor subtracts written frames under engine->mu only after its
 *     sendmsg returned, so `queued` == 0 means the reactor has nothing of this
 *     channel to write and will not write before a new post reaches it:
 *     writers of a channel never overlap and frames never reorder.
 *   - A part-written frame goes to the mailbox and the slot records
 *     `dsent` = bytes already written (the channel number goes to
 *     engine->dpend); the reactor picks that up with the mailbox and
 *     continues the frame, which is the first of its channel in that batch
 *     (nothing of the channel was queued), at that offset. A frame whose
 *     direct write failed goes there with `dfail` set and the reactor closes
 *     the channel as its own failing write would (send_failed, WIRE-8.7.9).
 *     Kept in the slot, not the message, so the message stays 184 bytes.
 */
#ifndef TOFU_ENGINE_INTERNAL_H
#define TOFU_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "tofu/tofu.h"

/* Bytes of text headers + body stored inside the message allocation itself;
 * a message that needs more moves everything to one heap buffer (kept while
 * the message is pooled, like the heap buffers before). Small on purpose:
 * under load hundreds of thousands of messages can be in flight and their
 * footprint decides the cache misses (at 100 connections 256 bytes inline
 * cost more page faults and CPU per message than 96-128 did). 100 makes
 * sizeof(struct tofu_msg) 184, a 192-byte glibc chunk: a 64-byte body with
 * up to 36 bytes of text headers stays inline. */
#define TOFU__MSG_INLINE 100

/* The frame lives in ONE buffer, in wire order: buf[0..16) the encoded
 * binary header (written by post), then th_len bytes of text headers, then
 * body_len bytes of body. A queued frame is therefore one iovec, and a
 * received frame is decoded straight into the same places. Changing the
 * text headers moves the body; growing past cap moves everything. */
struct tofu_msg {
	tofu_header h;
	uint8_t *buf; /* inl or a heap buffer of TOFU_HEADER_SIZE + cap bytes */
	struct tofu_msg *next;
	/* Engine-private while the engine owns the message. */
	tofu_group *group; /* group that posted it */
	uint32_t th_len, body_len;
	uint32_t cap;	    /* bytes for text headers + body after the wire header */
	uint32_t gen;	    /* slot generation at post time */
	uint32_t frame_len; /* 16 + text headers + body */
	uint8_t inl[TOFU_HEADER_SIZE + TOFU__MSG_INLINE];
};

static inline uint8_t *tofu__wire(const tofu_msg *m)
{
	return m->buf;
}

static inline uint8_t *tofu__th(const tofu_msg *m)
{
	return m->buf + TOFU_HEADER_SIZE;
}

static inline uint8_t *tofu__body(const tofu_msg *m)
{
	return m->buf + TOFU_HEADER_SIZE + m->th_len;
}

/* A FIFO of messages linked through ->next. */
struct msgq {
	tofu_msg *head, *tail;
	size_t n;
};

static inline void tofu__q_push(struct msgq *q, tofu_msg *m)
{
	m->next = NULL;
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->n++;
}

static inline tofu_msg *tofu__q_pop(struct msgq *q)
{
	tofu_msg *m = q->head;
	if (m) {
		q->head = m->next;
		if (!q->head)
			q->tail = NULL;
		m->next = NULL;
		q->n--;
	}
	return m;
}

/* Appends all of src to dst and empties src. */
static inline void tofu__q_splice(struct msgq *dst, struct msgq *src)
{
	if (!src->head)
		return;
	if (dst->tail)
		dst->tail->next = src->head;
	else
		dst->head = src->head;
	dst->tail = src->tail;
	dst->n += src->n;
	src->head = src->tail = NULL;
	src->n = 0;
}

enum slot_kind {
	SLOT_FREE = 0,
	SLOT_IO = 1,	   /* client or accepted data channel */
	SLOT_LISTENER = 2, /* listener channel */
};

/* What post() needs to know about a channel number (guarded by engine->mu). */
struct slot {
	tofu_group *g;
	uint32_t gen;
	uint32_t queued;    /* bytes posted and not yet written or returned */
	uint64_t last_post; /* CLOCK_MONOTONIC ns of the last answering post */
	int fd;		    /* socket a poster may write when `direct` */
	uint8_t kind;
	uint8_t direct;	  /* posting thread may write (see top of file) */
	uint8_t send_err; /* a direct write failed (socket error consumed) */
	uint8_t dfail;	  /* the frame handed over with dpend failed */
	uint32_t dsent;	  /* bytes of that frame the poster wrote */
	uint8_t quiet;	  /* the gap before the last answering post was long */
	uint8_t rx;	  /* a frame was received since the last data post */
};

struct chan;

struct tofu_group {
	tofu_engine *e;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct msgq inbox; /* reactor/update_receiver -> receiver (mu) */
	struct msgq local; /* receiver-private: already taken from inbox */
	int closed;	   /* destroy started (mu; also set under engine->mu) */
	int waiting;	   /* receiver blocked in cond wait (mu) */
	int inside;	   /* threads inside wait_receive (mu) */
	/* engine->mu */
	struct tofu_group *enext, *eprev;
	/* reactor-private */
	struct chan *chans; /* channels of this group */
	struct msgq out;    /* deliveries not yet moved to inbox */
	int dirty;
	struct tofu_group *dnext;
};

enum cmd_kind {
	CMD_GROUP_DESTROY = 1,
};

struct cmd {
	int kind;
	tofu_group *g;
	int done;
	struct cmd *next;
};

struct reactor;
struct tofu__resolver;

/* A host-name lookup (resolver.c): submitted by the reactor, answered by
 * the resolver thread through engine->looked_up. cn/gen name the channel
 * waiting for it, which may be gone by then. */
struct tofu__lookup {
	struct tofu__lookup *next;
	uint16_t cn;
	uint32_t gen;
	int passive; /* for a listener (AI_PASSIVE) */
	int failed;  /* the answer: nonzero = unresolvable */
	struct addrinfo *ai;
	char host[TOFU_MAX_HOST_LEN + 1];
	char port[8];
};

struct tofu_engine {
	tofu_options opt;

	pthread_mutex_t pool_mu;
	tofu_msg *pool;
	uint32_t pool_n;
	int pool_closed;
	atomic_int starved; /* reactor waits for a pooled message */
	/* Pooled messages taken by tofu_get (starve() in reactor.c). */
	atomic_uint pool_gets;

	pthread_mutex_t mu;
	pthread_cond_t cmd_cv;
	struct msgq posted;
	struct cmd *cmds, *cmds_tail;
	int notified; /* eventfd written and not yet consumed */
	int shutting_down;
	struct slot *slots; /* 65536 entries */
	uint16_t *dpend;    /* channels whose direct write left a rest (65536) */
	uint32_t dpend_n;
	uint16_t recent[TOFU_RECENTLY_RELEASED_CHANNELS];
	uint32_t recent_head, recent_n;
	uint8_t recent_bits[65536 / 8];
	uint64_t rng;
	uint16_t rnd[64]; /* getrandom() batch for channel numbers */
	uint32_t rnd_pos;
	uint32_t n_slots;
	uint32_t n_data; /* open data channels (SLOT_IO) */
	struct tofu_group *groups;
	struct tofu__lookup *looked_up; /* answered lookups for the reactor */

	int efd;  /* eventfd notifier */
	int epfd; /* epoll */
	pthread_t thread;
	int thread_started;
	int stepped; /* no reactor thread: tofu__engine_step runs the loop */
	struct reactor *r;
	struct tofu__resolver *resolver; /* started on the first host name */
};

/* Under engine->mu, after queueing work for the reactor: whether the
 * caller must write the eventfd once it has unlocked (only the first
 * since the reactor's last pick-up does). */
static inline int tofu__need_wake_locked(tofu_engine *e)
{
	int wake = !e->notified;
	e->notified = 1;
	return wake;
}

/* msg.c */
tofu_msg *tofu__msg_new(void);
void tofu__msg_free(tofu_msg *m);
uint32_t tofu__pool_take(tofu_engine *e, struct msgq *q, uint32_t max);
void tofu__pool_put_list(tofu_engine *e, struct msgq *q);
/* Room for `len` bytes of text headers + body (contents kept). */
int tofu__msg_reserve(tofu_msg *m, size_t len);
uint64_t tofu__next_message_id(void);

/* resolver.c */
struct addrinfo;
/* getaddrinfo(host, port) for SOCK_STREAM, any family (AI_PASSIVE for a
 * listener); 0 with *res set, or -1. */
int tofu__lookup_host(const char *host, const char *port, int passive, struct addrinfo **res);
/* Queues l for the resolver thread (started here on first use); the reactor
 * only. -1: no thread or no memory (l is still the caller's). */
int tofu__resolve_submit(tofu_engine *e, struct tofu__lookup *l);
void tofu__lookup_free(struct tofu__lookup *l);
/* tofu__reactor_stop, once the loop has ended and before the eventfd
 * closes: joins the thread (waiting for a lookup in progress) and frees
 * every lookup left. */
void tofu__resolver_stop(tofu_engine *e);
/* getaddrinfo, or a test's stand-in (a slow or failing resolver). */
extern int (*tofu__getaddrinfo)(const char *, const char *, const struct addrinfo *,
				struct addrinfo **);

/* group.c */
void tofu__group_push(tofu_group *g, struct msgq *q); /* reactor flush */
void tofu__group_free(tofu_group *g);

/* engine.c: an engine whose reactor runs on the caller's thread, one loop
 * iteration per tofu__engine_step call; for the fuzzing harness of the
 * receive path (fuzz/fuzz_engine.c), which then runs the real socket,
 * epoll, decode and delivery code without a thread hand-off per input.
 * Nothing else differs from tofu_engine_create. A caller of a stepped
 * engine must step it itself: tofu_wait_receive with a timeout blocks
 * without progress (use 0); tofu_group_destroy and tofu_engine_destroy
 * step it internally. Not API: nothing outside the tree may rely on it. */
int tofu__engine_create_stepped(const tofu_options *opts, tofu_engine **out);

/* reactor.c */
/* One iteration of a stepped engine's loop, waiting at most max_wait_ms
 * for events. 0: running; 1: shut down; -1: not a stepped engine. */
int tofu__engine_step(tofu_engine *e, int max_wait_ms);
/* A stepped engine takes a connected stream socket as if a listener of
 * group g (a live group of e) had just accepted it: a data channel whose
 * frames go to g. It skips socket/connect/accept per connection, so the
 * fuzzing harness can hand each input a socketpair end. The socket is the
 * engine's from the call on, also on failure; it need not be non-blocking
 * (every send and recv of the engine passes MSG_DONTWAIT).
 * 0, or -1 (not stepped, shut down, over max_connections, no channel
 * number or memory: the socket is closed, nothing is delivered). */
int tofu__engine_adopt(tofu_engine *e, tofu_group *g, int fd);
int tofu__reactor_start(tofu_engine *e);
void tofu__reactor_stop(tofu_engine *e);
void tofu__wake(tofu_engine *e);
/* Allocates a channel number under engine->mu; 0 when none is free. */
uint16_t tofu__chan_alloc_locked(tofu_engine *e, tofu_group *g, int kind);
void tofu__chan_release_locked(tofu_engine *e, uint16_t cn);

#endif
