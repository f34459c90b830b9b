/*
 * engine/src/reactor.c - the reactor thread: epoll + eventfd, listeners,
 * client and accepted channels, send queues with batched sendmsg, the
 * incremental receive path, close/notification flows, timers.
 *
 * Everything in this file runs on the reactor thread (for a stepped engine,
 * the thread calling tofu__engine_step) except tofu__wake,
 * tofu__reactor_start and tofu__reactor_stop. Channel state is never shared,
 * so the hot paths take no locks; engine->mu is taken once per loop
 * iteration to collect posts, and briefly to release channel numbers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define RBUF_SIZE     (256 * 1024)
#define MAX_EVENTS    256
#define MAX_IOV	      1024 /* Linux IOV_MAX */
#define WAIT_RETRY_MS 100
#define ACCEPT_BATCH  64
#define READ_BATCH    4
/* Pooled messages the reactor takes per pool lock for received frames. The
 * cache is given back to the pool at the end of every loop iteration, before
 * the reactor can block: a tofu_get(TOFU_GET_POOL_ONLY) may find the pool
 * empty only while the reactor is busy decoding (as if the cached messages
 * were already filled), never while it sleeps. */
#define POOL_CACHE 32
/* Channels per loop iteration whose received frames are reported to
 * tofu_post (slot.rx); more are simply not reported (a hint only). */
#define RX_MARKS 256

enum chan_kind {
	CH_CONNECTING = 1, /* client, connect() in progress */
	CH_IO,		   /* connected client or accepted channel */
	CH_LISTENER,
	CH_LINGER,    /* closed for the app; draining input before close() */
	CH_RESOLVING, /* client or listener waiting for a host-name lookup */
};

/* close_chan flags */
enum {
	CL_NOTIFY = 1, /* return queued messages and deliver channel_closed */
	CL_LINGER = 2, /* shutdown(SHUT_WR) and drain before close() */
};

struct chan {
	int fd;
	uint16_t cn;
	uint8_t kind;
	uint8_t is_tcp;
	uint32_t gen;
	uint32_t ev; /* events registered with epoll */
	unsigned in_epoll : 1, bye_sent : 1, got_first : 1, closed : 1, starved : 1, dirty : 1,
	    need_msg : 1, in_ft : 1, in_lg : 1, in_wait : 1, paused : 1, in_bt : 1, pe_sent : 1,
	    first_pending : 1, wr_shut : 1, send_err : 1, rx_mark : 1, dpend : 1,
	    peer_fin : 1,      /* the peer shut down its side (EPOLLRDHUP / EPOLLHUP) */
	    lookup_listen : 1; /* CH_RESOLVING for a Welcome, not a Hello */
	tofu_group *g;
	uint64_t close_id; /* message_id of the final channel_closed Signal */
	/* send side */
	struct msgq sq;
	size_t sq_off;	/* bytes of sq.head already written */
	uint32_t dsent; /* with dpend: bytes of the next post already written */
	/* receive side */
	tofu_decoder dec;
	tofu_msg *rm; /* message being filled */
	uint32_t rth, rbody;
	tofu_header pend; /* decoded header waiting for a pooled message */
	uint8_t *stash;	  /* bytes read but not decoded (pool was empty) */
	uint32_t stash_len, stash_off;
	uint64_t deadline;	    /* frame or linger deadline (ms) */
	uint32_t pe_gets;	    /* engine->pool_gets when pool_empty was sent */
	struct chan *tnext, *tprev; /* frame-timer or linger list */
	struct chan *wnext, *wprev; /* waiting list (starved / paused) */
	struct chan *bnext, *bprev; /* bye-timer list */
	uint64_t bye_deadline;
	struct chan *gnext, *gprev; /* group's channels */
	struct chan *dnext;	    /* dirty list */
	struct chan *gvnext;	    /* graveyard */
	char *unlink_path;	    /* UDS listener path to remove */
};

struct clist {
	struct chan *head, *tail;
};

struct reactor {
	tofu_engine *e;
	struct chan **chans; /* by channel number */
	uint8_t *rbuf;
	struct iovec iov[MAX_IOV]; /* sendmsg batch (per reactor: engines run in parallel) */
	tofu_msg *iovm[MAX_IOV];   /* the message of each iov[] entry */
	struct clist ftimers;	   /* channels inside a frame, by deadline */
	struct clist lingers;	   /* closing channels, by deadline */
	struct clist waits;	   /* starved channels and paused listeners */
	struct clist byes;	   /* channels in SEND_DONE, by bye deadline */
	struct chan *dirty;	   /* channels with queued output */
	struct chan *grave;	   /* channels to free at the end of the iteration */
	tofu_group *dgroups;	   /* groups with deliveries to flush */
	struct msgq tofree;	   /* sent messages, back to the pool in one go */
	struct msgq cache;	   /* pooled messages taken for received frames */
	/* channels that received frames since the last mailbox pick-up */
	uint16_t rx_cn[RX_MARKS];
	uint32_t rx_gen[RX_MARKS];
	uint32_t rx_n;
	uint64_t now;
	int notifier; /* address is the epoll tag of the eventfd */
	int draining; /* engine shutdown: flushing queues of closed channels */
	int ready;    /* started: the loop may run */
	int finished; /* stepped engine: the loop has ended */
	uint64_t drain_deadline;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------- lists */

static void tl_add(struct clist *l, struct chan *c)
{
	c->tnext = NULL;
	c->tprev = l->tail;
	if (l->tail)
		l->tail->tnext = c;
	else
		l->head = c;
	l->tail = c;
}

static void tl_del(struct clist *l, struct chan *c)
{
	if (c->tprev)
		c->tprev->tnext = c->tnext;
	else
		l->head = c->tnext;
	if (c->tnext)
		c->tnext->tprev = c->tprev;
	else
		l->tail = c->tprev;
	c->tnext = c->tprev = NULL;
}

static void wl_add(struct reactor *r, struct chan *c)
{
	struct clist *l = &r->waits;
	c->in_wait = 1;
	c->wnext = NULL;
	c->wprev = l->tail;
	if (l->tail)
		l->tail->wnext = c;
	else
		l->head = c;
	l->tail = c;
}

static void wl_del(struct reactor *r, struct chan *c)
{
	struct clist *l = &r->waits;
	if (!c->in_wait)
		return;
	c->in_wait = 0;
	if (c->wprev)
		c->wprev->wnext = c->wnext;
	else
		l->head = c->wnext;
	if (c->wnext)
		c->wnext->wprev = c->wprev;
	else
		l->tail = c->wprev;
	c->wnext = c->wprev = NULL;
}

static void ft_del(struct reactor *r, struct chan *c)
{
	if (c->in_ft) {
		tl_del(&r->ftimers, c);
		c->in_ft = 0;
	}
}

static void bt_add(struct reactor *r, struct chan *c)
{
	struct clist *l = &r->byes;
	c->in_bt = 1;
	c->bnext = NULL;
	c->bprev = l->tail;
	if (l->tail)
		l->tail->bnext = c;
	else
		l->head = c;
	l->tail = c;
}

static void bt_del(struct reactor *r, struct chan *c)
{
	struct clist *l = &r->byes;
	if (!c->in_bt)
		return;
	c->in_bt = 0;
	if (c->bprev)
		c->bprev->bnext = c->bnext;
	else
		l->head = c->bnext;
	if (c->bnext)
		c->bnext->bprev = c->bprev;
	else
		l->tail = c->bprev;
	c->bnext = c->bprev = NULL;
}

/* --------------------------------------------------------------- epoll */

static void ep_set(struct reactor *r, struct chan *c, uint32_t ev)
{
	if (c->in_epoll && c->ev == ev)
		return;
	/* A reading socket also reports the peer's FIN (EPOLLRDHUP), so a
	 * short read need not be followed by another epoll_wait to find the
	 * end of stream (do_read). */
	uint32_t reg = ev;
	if ((ev & EPOLLIN) && c->kind != CH_LISTENER)
		reg |= EPOLLRDHUP;
	struct epoll_event ee = {.events = reg, .data.ptr = c};
	if (epoll_ctl(r->e->epfd, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ee) == 0) {
		c->in_epoll = 1;
		c->ev = ev;
	}
}

static void ep_del(struct reactor *r, struct chan *c)
{
	if (c->in_epoll) {
		epoll_ctl(r->e->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		c->in_epoll = 0;
		c->ev = 0;
	}
}

/* ------------------------------------------------------------ delivery */

static void deliver(struct reactor *r, tofu_group *g, tofu_msg *m)
{
	tofu__q_push(&g->out, m);
	if (!g->dirty) {
		g->dirty = 1;
		g->dnext = r->dgroups;
		r->dgroups = g;
	}
}

static void flush_groups(struct reactor *r)
{
	while (r->dgroups) {
		tofu_group *g = r->dgroups;
		r->dgroups = g->dnext;
		g->dirty = 0;
		g->dnext = NULL;
		tofu__group_push(g, &g->out);
	}
}

/* A message the engine creates (notifications); never taken from the pool
 * so notifications cannot be lost to an empty pool. */
static tofu_msg *engine_msg(int opcode, int status, uint16_t cn, uint64_t id)
{
	tofu_msg *m = tofu__msg_new();
	if (!m)
		return NULL;
	m->h.proto = tofu_proto_make((unsigned)opcode, 1, 0, 0, 0);
	m->h.status = (uint8_t)status;
	m->h.channel_number = cn;
	m->h.message_id = id;
	return m;
}

static void return_msg(struct reactor *r, tofu_group *g, tofu_msg *m, int status, uint16_t cn)
{
	m->h.proto |= TOFU_PROTO_ORIGIN_MASK;
	m->h.status = (uint8_t)status;
	m->h.channel_number = cn;
	deliver(r, g, m);
}

static void notify_closed(struct reactor *r, tofu_group *g, uint16_t cn, uint64_t id, int reason)
{
	tofu_msg *m = engine_msg(TOFU_OP_SIGNAL, TOFU_STATUS_CHANNEL_CLOSED, cn, id);
	if (!m)
		return;
	const char *name = tofu_status_name(reason);
	if (name)
		tofu_msg_add_header(m, TOFU_HEADER_CLOSE_REASON, name);
	m->h.text_headers_len = (uint16_t)m->th_len;
	deliver(r, g, m);
}

static void release_cn(struct reactor *r, uint16_t cn)
{
	pthread_mutex_lock(&r->e->mu);
	tofu__chan_release_locked(r->e, cn);
	pthread_mutex_unlock(&r->e->mu);
}

/* ------------------------------------------------------------ channels */

/* A connected data channel: posting threads may write to it from now on,
 * until the number is released (internal.h, direct send). */
static void set_direct_locked(tofu_engine *e, uint16_t cn, int fd)
{
	struct slot *s = &e->slots[cn];
	s->fd = fd;
	s->direct = 1;
}

/* Whether a posting thread's write failed on this channel: it consumed the
 * socket's pending error, so the reactor's read sees only end of stream. */
static int direct_failed(struct reactor *r, struct chan *c)
{
	pthread_mutex_lock(&r->e->mu);
	struct slot *s = &r->e->slots[c->cn];
	int f = s->gen == c->gen && s->kind != SLOT_FREE && s->send_err;
	pthread_mutex_unlock(&r->e->mu);
	return f;
}

static struct chan *new_chan(struct reactor *r, int fd, uint16_t cn, int kind, tofu_group *g)
{
	struct chan *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->cn = cn;
	c->kind = (uint8_t)kind;
	c->g = g;
	tofu_decoder_init(&c->dec, TOFU_DEC_VALIDATE, r->e->opt.max_text_headers_len,
			  r->e->opt.max_body_len);
	pthread_mutex_lock(&r->e->mu);
	c->gen = r->e->slots[cn].gen;
	if (kind == CH_IO)
		set_direct_locked(r->e, cn, fd);
	pthread_mutex_unlock(&r->e->mu);
	c->gnext = g->chans;
	if (g->chans)
		g->chans->gprev = c;
	g->chans = c;
	r->chans[cn] = c;
	return c;
}

static void to_grave(struct reactor *r, struct chan *c)
{
	tofu_msg *m;
	ep_del(r, c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	/* Frames a group-destroy flush could not write in time. */
	while ((m = tofu__q_pop(&c->sq)))
		tofu__q_push(&r->tofree, m);
	if (c->unlink_path) {
		unlink(c->unlink_path);
		free(c->unlink_path);
		c->unlink_path = NULL;
	}
	c->gvnext = r->grave;
	r->grave = c;
}

static void final_close(struct reactor *r, struct chan *c)
{
	if (c->in_lg) {
		tl_del(&r->lingers, c);
		c->in_lg = 0;
	}
	to_grave(r, c);
}

/* Reads and drops a lingering channel's input. 1 at its end (or on an
 * error): the socket may close; 0 when more is to come. */
static int linger_drain(struct reactor *r, struct chan *c)
{
	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, r->rbuf, RBUF_SIZE, MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return 1;
	}
	return 0;
}

/* A lingering channel reads (to see the end of stream) and writes while
 * its queue still holds frames. */
static void linger_events(struct reactor *r, struct chan *c)
{
	uint32_t ev = EPOLLIN;
	if (c->sq.head && !c->wr_shut)
		ev |= EPOLLOUT;
	ep_set(r, c, ev);
}

/* Closes a channel for the application. With CL_NOTIFY: `first` (the
 * abort ByeSignal, if any) comes back with channel_closed, then every unsent
 * message with `reason`, then the channel_closed Signal carrying
 * ~close_reason (WIRE-8.7). Without it (group destroy, shutdown) nothing is
 * delivered and frames already queued are still written, within the linger
 * time (WIRE-8.6.8). The number is released at once; the socket either
 * closes now or lingers: shutdown(SHUT_WR) after the last frame, input
 * drained until EOF or the linger time, so the peer reads all we wrote. */
static void close_chan(struct reactor *r, struct chan *c, int reason, int flags, tofu_msg *first)
{
	if (c->closed)
		return;
	c->closed = 1;
	/* First: posting threads stop writing (no new frame is started) before
	 * anything here can close or shut down the socket. */
	r->chans[c->cn] = NULL;
	release_cn(r, c->cn);
	tofu_group *g = c->g;
	ft_del(r, c);
	bt_del(r, c);
	if (c->in_wait) {
		wl_del(r, c);
		if (c->starved)
			atomic_fetch_sub(&r->e->starved, 1);
	}
	c->starved = 0;
	if (c->gprev)
		c->gprev->gnext = c->gnext;
	else
		g->chans = c->gnext;
	if (c->gnext)
		c->gnext->gprev = c->gprev;
	c->gnext = c->gprev = NULL;

	tofu_msg *m;
	int keep_queue = 0;
	if (flags & CL_NOTIFY) {
		if (first)
			return_msg(r, g, first, TOFU_STATUS_CHANNEL_CLOSED, c->cn);
		/* The part-written frame first: it is abandoned (WIRE-8.6.3). */
		while ((m = tofu__q_pop(&c->sq)))
			return_msg(r, g, m, reason, c->cn);
		c->sq_off = 0;
		notify_closed(r, g, c->cn, c->close_id, reason);
	} else {
		if (first)
			tofu__q_push(&r->tofree, first);
		keep_queue = c->kind == CH_IO && !c->bye_sent && (flags & CL_LINGER);
		if (!keep_queue) {
			while ((m = tofu__q_pop(&c->sq)))
				tofu__q_push(&r->tofree, m);
			c->sq_off = 0;
		}
	}
	if (c->rm)
		tofu__q_push(&r->tofree, c->rm);
	c->rm = NULL;
	free(c->stash);
	c->stash = NULL;

	if (c->kind == CH_LISTENER || c->kind == CH_CONNECTING || c->kind == CH_RESOLVING ||
	    !(flags & CL_LINGER)) {
		to_grave(r, c);
		return;
	}
	c->kind = CH_LINGER;
	if (!c->sq.head) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = 1;
		/* The peer's FIN already here: the input drains to its end
		 * now, and close() cannot reset; no linger needed. */
		if (c->peer_fin && linger_drain(r, c)) {
			to_grave(r, c);
			return;
		}
	}
	linger_events(r, c);
	c->deadline = r->now + r->e->opt.close_linger_ms;
	tl_add(&r->lingers, c);
	c->in_lg = 1;
}

/* ---------------------------------------------------------------- send */

static int is_bye(const tofu_msg *m)
{
	return tofu_opcode_type((int)tofu_proto_opcode(m->h.proto)) == TOFU_TYPE_BYE;
}

static void mark_dirty(struct reactor *r, struct chan *c)
{
	if (!c->dirty) {
		c->dirty = 1;
		c->dnext = r->dirty;
		r->dirty = c;
	}
}

/* A queued frame is one contiguous buffer (wire header, text headers,
 * body): one iovec per message. */
static size_t add_frame(struct iovec *iov, const tofu_msg *m, size_t skip)
{
	iov->iov_base = tofu__wire(m) + skip;
	iov->iov_len = m->frame_len - skip;
	return iov->iov_len;
}

static void update_out(struct reactor *r, struct chan *c)
{
	if (c->kind != CH_IO || c->closed)
		return;
	/* Not reading while starved is what pushes back on the peer. */
	uint32_t ev = c->starved ? 0 : EPOLLIN;
	if (c->sq.head && !c->bye_sent)
		ev |= EPOLLOUT;
	if (c->in_epoll || ev)
		ep_set(r, c, ev);
}

/* Writes as many queued frames as the socket takes, coalesced into few
 * sendmsg calls; stops for good after a bye frame (reference 4.6). */
/* Writes as many queued frames as the socket takes, coalesced into few
 * sendmsg calls; stops for good after a bye frame (WIRE-8.4.1). Also
 * finishes the queue of a lingering channel (WIRE-8.6.8). */
static void flush_chan(struct reactor *r, struct chan *c)
{
	struct iovec *iov = r->iov;
	size_t done_bytes = 0;
	int linger = c->kind == CH_LINGER;

	if ((c->kind != CH_IO && !linger) || c->fd < 0 || (c->closed && !linger))
		return;
	if (c->send_err && !linger) {
		/* A posting thread's write failed (tofu_post): the same close as
		 * a failing write here. */
		close_chan(r, c, TOFU_STATUS_SEND_FAILED, CL_NOTIFY, NULL);
		return;
	}
	while (c->sq.head && !c->bye_sent) {
		/* The only walk over the queued messages: under load they are
		 * long out of the cache, so what is written is popped below
		 * from iov[] and iovm[] without touching them again. */
		int n = 0, bye = 0;
		size_t total = 0, skip = c->sq_off;
		for (tofu_msg *m = c->sq.head; m && n < MAX_IOV; m = m->next) {
			r->iovm[n] = m;
			total += add_frame(&iov[n++], m, skip);
			skip = 0;
			if (is_bye(m)) {
				bye = 1; /* always the last iovec */
				break;
			}
		}
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (linger)
				final_close(r, c);
			else
				close_chan(r, c, TOFU_STATUS_SEND_FAILED, CL_NOTIFY, NULL);
			return;
		}
		size_t left = (size_t)w;
		int k = 0; /* frames written completely */
		while (k < n && left >= iov[k].iov_len)
			left -= iov[k++].iov_len;
		if (k == 0) {
			c->sq_off += left;
			break; /* a short write: the socket is full */
		}
		/* done_bytes counts whole frames, including the part of the
		 * first one that an earlier sendmsg wrote. */
		done_bytes += c->sq_off + ((size_t)w - left);
		c->sq_off = left;
		c->first_pending = 0;
		tofu_msg *last = r->iovm[k - 1];
		struct msgq sent = {.head = c->sq.head, .tail = last, .n = (size_t)k};
		c->sq.head = last->next;
		if (!c->sq.head)
			c->sq.tail = NULL;
		c->sq.n -= (size_t)k;
		last->next = NULL;
		tofu__q_splice(&r->tofree, &sent);
		if (bye && k == n) {
			/* SEND_DONE: nothing more is written; the bye timer
			 * bounds how long we wait for the end. */
			c->bye_sent = 1;
			if (!linger && r->e->opt.bye_timeout_ms != TOFU_TIMEOUT_NONE) {
				c->bye_deadline = r->now + r->e->opt.bye_timeout_ms;
				bt_add(r, c);
			}
		}
		if ((size_t)w < total)
			break;
	}
	if (linger) {
		if (!c->sq.head || c->bye_sent) {
			tofu_msg *m;
			while ((m = tofu__q_pop(&c->sq)))
				tofu__q_push(&r->tofree, m);
			if (!c->wr_shut) {
				shutdown(c->fd, SHUT_WR);
				c->wr_shut = 1;
			}
		}
		linger_events(r, c);
		return;
	}
	/* Always counted: `queued` == 0 is also what lets posting threads
	 * write directly (internal.h). */
	if (done_bytes) {
		pthread_mutex_lock(&r->e->mu);
		struct slot *s = &r->e->slots[c->cn];
		if (s->gen == c->gen && s->kind != SLOT_FREE)
			s->queued = s->queued > done_bytes ? s->queued - (uint32_t)done_bytes : 0;
		pthread_mutex_unlock(&r->e->mu);
	}
	update_out(r, c);
}

static void flush_dirty(struct reactor *r)
{
	while (r->dirty) {
		struct chan *c = r->dirty;
		r->dirty = c->dnext;
		c->dnext = NULL;
		c->dirty = 0;
		if (!c->closed && c->kind == CH_IO)
			flush_chan(r, c);
	}
}

/* ------------------------------------------------------------- receive */

static void send_pool_empty(struct reactor *r, struct chan *c)
{
	tofu_msg *m = engine_msg(TOFU_OP_SIGNAL, TOFU_STATUS_POOL_EMPTY, c->cn, 0);
	if (m)
		deliver(r, c->g, m);
}

/* The pool is empty: keep what was read, stop reading the socket (the peer
 * is pushed back by TCP/UDS flow control), tell the app once per pause
 * (WIRE-8.8.3/4), wait for a put.
 *
 * A pause the app answered by putting messages, whose messages an
 * application thread then took with tofu_get before the reactor could, is
 * a new pause and gets a new Signal: otherwise an app that has put back
 * everything it held would wait for deliveries that never come (posting
 * threads with TOFU_GET_ALWAYS on the same engine take the put messages
 * first). Messages the reactor itself gives to another starved channel do
 * not count: that channel delivers a frame, whose put comes back. Signals
 * stay bounded by gets: the 100 ms retries of a pool nobody refills send
 * none. */
static void starve(struct reactor *r, struct chan *c, const uint8_t *rest, size_t restlen,
		   int from_stash)
{
	if (from_stash) {
		c->stash_off = (uint32_t)(rest - c->stash);
	} else if (restlen) {
		c->stash = malloc(restlen);
		if (!c->stash) {
			close_chan(r, c, TOFU_STATUS_ALLOCATION_FAILED, CL_NOTIFY | CL_LINGER,
				   NULL);
			return;
		}
		memcpy(c->stash, rest, restlen);
		c->stash_len = (uint32_t)restlen;
		c->stash_off = 0;
	}
	c->starved = 1;
	ft_del(r, c);
	atomic_fetch_add(&r->e->starved, 1);
	wl_add(r, c);
	update_out(r, c);
	uint32_t gets = atomic_load_explicit(&r->e->pool_gets, memory_order_relaxed);
	if (!c->pe_sent || c->pe_gets != gets) {
		c->pe_sent = 1;
		c->pe_gets = gets;
		send_pool_empty(r, c);
	}
}

/* A message for a received frame: from the reactor's cache, refilled
 * POOL_CACHE at a time under one pool lock. NULL only when the cache and the
 * pool are both empty: that is when reading stops (WIRE-8.8). */
static tofu_msg *pool_get(struct reactor *r)
{
	if (!r->cache.head && !tofu__pool_take(r->e, &r->cache, POOL_CACHE))
		return NULL;
	tofu_msg *m = tofu__q_pop(&r->cache);
	tofu_msg_reset(m);
	return m;
}

static int begin_msg(struct chan *c, tofu_msg *m)
{
	m->h = c->pend;
	m->h.channel_number = c->cn;
	/* Text headers and body land right behind the wire-header bytes, in
	 * the layout a post sends from. */
	if (tofu__msg_reserve(m, (size_t)c->pend.text_headers_len + c->pend.body_len))
		return -1;
	m->th_len = c->pend.text_headers_len;
	m->body_len = c->pend.body_len;
	c->rth = c->rbody = 0;
	c->rm = m;
	return 0;
}

/* Decodes buf into messages. Returns 1 when all input was used, 0 when the
 * channel closed or starved (the rest is stashed). *frames counts completed
 * frames. */
static int process(struct reactor *r, struct chan *c, const uint8_t *buf, size_t len,
		   int from_stash, int *frames)
{
	size_t off = 0;
	for (;;) {
		if (c->need_msg) {
			tofu_msg *m = pool_get(r);
			if (!m) {
				starve(r, c, buf ? buf + off : NULL, len - off, from_stash);
				return 0;
			}
			c->need_msg = 0;
			c->pe_sent = 0; /* the pause, if any, is over */
			if (begin_msg(c, m)) {
				tofu__q_push(&r->tofree, m);
				close_chan(r, c, TOFU_STATUS_ALLOCATION_FAILED,
					   CL_NOTIFY | CL_LINGER, NULL);
				return 0;
			}
		}
		size_t used = 0;
		tofu_dec_event ev;
		int k = tofu_decoder_next(&c->dec, buf ? buf + off : NULL, len - off, &used, &ev);
		off += used;
		switch (k) {
		case TOFU_E_INCOMPLETE:
			return 1;
		case TOFU_DEC_HEADER:
			c->pend = ev.header;
			c->need_msg = 1;
			break;
		case TOFU_DEC_TEXT:
			memcpy(tofu__th(c->rm) + c->rth, ev.data, ev.len);
			c->rth += (uint32_t)ev.len;
			break;
		case TOFU_DEC_BODY:
			memcpy(tofu__body(c->rm) + c->rbody, ev.data, ev.len);
			c->rbody += (uint32_t)ev.len;
			break;
		case TOFU_DEC_END: {
			tofu_msg *m = c->rm;
			c->rm = NULL;
			(*frames)++;
			if (!c->got_first) {
				c->got_first = 1;
				c->close_id = m->h.message_id;
			}
			int op = (int)tofu_proto_opcode(m->h.proto);
			deliver(r, c->g, m);
			if (!c->rx_mark && r->rx_n < RX_MARKS) {
				c->rx_mark = 1;
				r->rx_cn[r->rx_n] = c->cn;
				r->rx_gen[r->rx_n++] = c->gen;
			}
			/* Receiving ByeResponse closes the channel at once, as in
			 * Zig; nothing after it is read (WIRE-8.4.5). A ByeRequest
			 * that arrives after our own bye frame cannot be answered
			 * any more: close too (WIRE-8.4.6). */
			if (op == TOFU_OP_BYE_RESPONSE ||
			    (op == TOFU_OP_BYE_REQUEST && c->bye_sent)) {
				close_chan(r, c, TOFU_STATUS_CHANNEL_CLOSED, CL_NOTIFY | CL_LINGER,
					   NULL);
				return 0;
			}
			break;
		}
		default:
			/* A frame a conforming peer never sends: not delivered;
			 * the channel closes with the matching status. */
			close_chan(r, c, tofu_error_status(k), CL_NOTIFY | CL_LINGER, NULL);
			return 0;
		}
	}
}

static void frame_timer(struct reactor *r, struct chan *c, int frames)
{
	if (r->e->opt.frame_timeout_ms == TOFU_TIMEOUT_NONE || c->closed || c->starved)
		return;
	if (tofu_decoder_at_boundary(&c->dec) && !c->need_msg) {
		ft_del(r, c);
		return;
	}
	/* A frame is in progress; a new one started if any completed. */
	if (c->in_ft && !frames)
		return;
	ft_del(r, c);
	c->deadline = r->now + r->e->opt.frame_timeout_ms;
	tl_add(&r->ftimers, c);
	c->in_ft = 1;
}

/* SEND_DONE at a frame boundary: the end of the connection completes the
 * bye exchange (WIRE-8.4.7). */
static int bye_done(const struct chan *c)
{
	return c->bye_sent && !c->need_msg && !c->rm && tofu_decoder_at_boundary(&c->dec);
}

static void do_read(struct reactor *r, struct chan *c, uint32_t events)
{
	int frames = 0;
	/* The peer has shut down its side: read on to the end of stream
	 * rather than wait for another event to report it. */
	int eof_pending = (events & (EPOLLRDHUP | EPOLLHUP)) != 0;
	if (eof_pending)
		c->peer_fin = 1; /* for close_chan: no linger needed */
	for (int i = 0; i < READ_BATCH; i++) {
		ssize_t n = recv(c->fd, r->rbuf, RBUF_SIZE, MSG_DONTWAIT);
		if (n > 0) {
			if (!process(r, c, r->rbuf, (size_t)n, 0, &frames))
				return;
			if ((size_t)n < RBUF_SIZE && !eof_pending)
				break;
			continue;
		}
		if (n == 0) {
			/* Peer FIN: everything before it was delivered; a
			 * partial frame is dropped (WIRE-8.7.6/7). */
			close_chan(r, c,
				   bye_done(c)		 ? TOFU_STATUS_CHANNEL_CLOSED
				   : direct_failed(r, c) ? TOFU_STATUS_SEND_FAILED
							 : TOFU_STATUS_RECV_FAILED,
				   CL_NOTIFY, NULL);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		/* Reset or socket error (WIRE-8.7.8). */
		close_chan(r, c,
			   bye_done(c)		 ? TOFU_STATUS_CHANNEL_CLOSED
			   : direct_failed(r, c) ? TOFU_STATUS_SEND_FAILED
						 : TOFU_STATUS_COMMUNICATION_FAILED,
			   CL_NOTIFY, NULL);
		return;
	}
	frame_timer(r, c, frames);
}

/* The pool may have messages again: continue a starved channel. */
static void resume(struct reactor *r, struct chan *c)
{
	int frames = 0;
	wl_del(r, c);
	c->starved = 0;
	atomic_fetch_sub(&r->e->starved, 1);
	if (c->stash) {
		int ok =
		    process(r, c, c->stash + c->stash_off, c->stash_len - c->stash_off, 1, &frames);
		if (c->closed)
			return;
		if (!c->starved) {
			free(c->stash);
			c->stash = NULL;
		}
		if (!ok)
			return;
	} else if (c->need_msg) {
		if (!process(r, c, NULL, 0, 0, &frames))
			return;
	}
	if (!c->in_epoll)
		c->ev = 0;
	update_out(r, c);
	frame_timer(r, c, frames);
}

/* --------------------------------------------------------------- accept */

/* A connected socket becomes a data channel of group g, as accepted by a
 * listener of g. Returns 0, or -1 when refused (fd closed, nothing
 * allocated, nothing delivered). */
static int accept_fd(struct reactor *r, tofu_group *g, int fd, int is_tcp)
{
	tofu_engine *e = r->e;
	/* Over max_connections: closed at once, nothing allocated and nothing
	 * delivered (WIRE-8.1.9). */
	pthread_mutex_lock(&e->mu);
	uint16_t cn = 0;
	if (!e->opt.max_connections || e->n_data < e->opt.max_connections)
		cn = tofu__chan_alloc_locked(e, g, SLOT_IO);
	pthread_mutex_unlock(&e->mu);
	if (!cn) {
		close(fd);
		return -1;
	}
	if (is_tcp) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	struct chan *c = new_chan(r, fd, cn, CH_IO, g);
	if (!c) {
		release_cn(r, cn);
		close(fd);
		return -1;
	}
	c->is_tcp = (uint8_t)is_tcp;
	/* An accepted channel that receives nothing closes with id 0. */
	c->close_id = 0;
	ep_set(r, c, EPOLLIN);
	if (!c->in_epoll) {
		close_chan(r, c, TOFU_STATUS_UNKNOWN_ERROR, 0, NULL);
		return -1;
	}
	return 0;
}

static void on_accept(struct reactor *r, struct chan *l)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Out of descriptors: pause this listener
				 * briefly instead of spinning on it. */
				ep_set(r, l, 0);
				l->paused = 1;
				l->deadline = r->now + WAIT_RETRY_MS;
				wl_add(r, l);
			}
			return;
		}
		accept_fd(r, l->g, fd, l->is_tcp);
	}
}

/* ------------------------------------------------------ address helpers */

static int fill_un(struct sockaddr_un *sa, socklen_t *sl, const char *path, size_t len, int abs)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* An empty path or abstract name names nothing (WIRE-5.4.7). */
	if (len == 0 || len + (abs ? 1u : 0u) >= sizeof(sa->sun_path))
		return -1;
	if (abs) {
		memcpy(sa->sun_path + 1, path, len);
		*sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
	} else {
		memcpy(sa->sun_path, path, len);
		*sl = (socklen_t)sizeof(*sa);
	}
	return 0;
}

static void host_port(const tofu_address *a, int passive, char *host, char *port)
{
	/* An empty host means all IPv4 interfaces (listen) or loopback. */
	if (a->host_len) {
		memcpy(host, a->host, a->host_len);
		host[a->host_len] = 0;
	} else {
		strcpy(host, passive ? "0.0.0.0" : "127.0.0.1");
	}
	snprintf(port, 8, "%u", (unsigned)a->port);
}

/* Whether a TCP host is a name, to be looked up off the reactor thread
 * (resolver.c); numeric hosts resolve without I/O. */
static int needs_lookup(const tofu_address *a)
{
	if (a->kind != TOFU_ADDR_TCP || !a->host_len)
		return 0;
	char host[TOFU_MAX_HOST_LEN + 1], port[8];
	uint8_t buf[sizeof(struct in6_addr)];
	host_port(a, 0, host, port);
	return inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1;
}

static int resolve(const tofu_address *a, int passive, struct addrinfo **res)
{
	char host[TOFU_MAX_HOST_LEN + 1], port[8];
	host_port(a, passive, host, port);
	return tofu__lookup_host(host, port, passive, res);
}

/* --------------------------------------------------------------- listen */

static atomic_uint uds_counter;

/* Binds and listens on the first address of res (not freed here). */
static int listen_ai(const struct addrinfo *res, int *fdp, char *bound, size_t cap)
{
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return TOFU_STATUS_LISTEN_FAILED;
	int one = 1;
	/* SO_REUSEADDR for quick restarts; no SO_REUSEPORT (unlike Zig), so a
	 * second listener on the same port fails with listen_failed. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024)) {
		close(fd);
		return TOFU_STATUS_LISTEN_FAILED;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "";
	uint16_t port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
			port = ntohs(s4->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
			port = ntohs(s6->sin6_port);
		}
	}
	tofu_address b = {.kind = TOFU_ADDR_TCP, .host = ip, .host_len = strlen(ip), .port = port};
	long n = tofu_address_format(&b, bound, cap - 1);
	bound[n > 0 ? n : 0] = 0;
	*fdp = fd;
	return 0;
}

static int listen_tcp(const tofu_address *a, int *fdp, char *bound, size_t cap)
{
	struct addrinfo *res;
	if (resolve(a, 1, &res))
		return TOFU_STATUS_INVALID_ADDRESS;
	int st = listen_ai(res, fdp, bound, cap);
	freeaddrinfo(res);
	return st;
}

/* A path that exists but where nobody accepts is a stale socket file. */
static int stale_socket(const struct sockaddr_un *sa, socklen_t sl)
{
	struct stat st;
	if (stat(sa->sun_path, &st) || !S_ISSOCK(st.st_mode))
		return 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int stale = connect(fd, (const struct sockaddr *)sa, sl) < 0 && errno == ECONNREFUSED;
	close(fd);
	return stale;
}

static int listen_uds(const tofu_address *a, int *fdp, char *bound, size_t cap, char **unlink_path)
{
	char tmp[TOFU_MAX_UDS_PATH_LEN + 1];
	const char *path = a->path;
	size_t len = a->path_len;
	int autobind = a->abstract && len == 0;
	struct sockaddr_un sa;
	socklen_t sl;
	if (!a->abstract && len == 0) {
		/* Empty path: invent one and report it in ~bound_to. */
		const char *dir = getenv("TMPDIR");
		if (!dir || !*dir)
			dir = "/tmp";
		int k = snprintf(tmp, sizeof(tmp), "%s/tofu_%d_%u.sock", dir, (int)getpid(),
				 atomic_fetch_add(&uds_counter, 1));
		if (k < 0 || (size_t)k >= sizeof(tmp))
			return TOFU_STATUS_INVALID_ADDRESS;
		path = tmp;
		len = (size_t)k;
	}
	if (autobind) {
		/* `uds|@`: the kernel picks an abstract name (WIRE-5.4.6). */
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		sl = (socklen_t)sizeof(sa_family_t);
	} else if (fill_un(&sa, &sl, path, len, a->abstract)) {
		return TOFU_STATUS_INVALID_ADDRESS;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return TOFU_STATUS_LISTEN_FAILED;
	int rc = bind(fd, (struct sockaddr *)&sa, sl);
	if (rc && errno == EADDRINUSE && !a->abstract && stale_socket(&sa, sl)) {
		/* Only a socket file that refuses connections is removed. */
		unlink(sa.sun_path);
		rc = bind(fd, (struct sockaddr *)&sa, sl);
	}
	if (rc || listen(fd, 1024)) {
		close(fd);
		return TOFU_STATUS_LISTEN_FAILED;
	}
	if (autobind) {
		struct sockaddr_un got;
		socklen_t gl = sizeof(got);
		size_t base = offsetof(struct sockaddr_un, sun_path) + 1;
		if (getsockname(fd, (struct sockaddr *)&got, &gl) || gl <= base) {
			close(fd);
			return TOFU_STATUS_LISTEN_FAILED;
		}
		len = gl - base;
		memcpy(tmp, got.sun_path + 1, len);
		path = tmp;
	}
	if (!a->abstract) {
		*unlink_path = malloc(len + 1);
		if (*unlink_path) {
			memcpy(*unlink_path, path, len);
			(*unlink_path)[len] = 0;
		}
	}
	tofu_address b = {
	    .kind = TOFU_ADDR_UDS, .path = path, .path_len = len, .abstract = a->abstract};
	long n = tofu_address_format(&b, bound, cap - 1);
	bound[n > 0 ? n : 0] = 0;
	*fdp = fd;
	return 0;
}

static int address_status(int k, int want_listen, int is_listen)
{
	if (k == TOFU_E_ADDRESS_MISSING)
		return TOFU_STATUS_WRONG_ADDRESS;
	if (k < 0 || want_listen != is_listen)
		return TOFU_STATUS_INVALID_ADDRESS;
	return 0;
}

/* Fails a Welcome/Hello: the message comes back with `opcode`, origin
 * engine and the status, then the channel_closed Signal (reference 4.1,
 * 4.9); the number is released. */
static void fail_open(struct reactor *r, tofu_msg *m, int opcode, int st)
{
	tofu_group *g = m->group;
	uint16_t cn = m->h.channel_number;
	uint64_t id = m->h.message_id;
	tofu_msg_set_opcode(m, opcode);
	return_msg(r, g, m, st, cn);
	notify_closed(r, g, cn, id, st);
	release_cn(r, cn);
}

/* Success of a listen: the same message, WelcomeResponse, origin
 * application, status 0 (reference 4.1) plus our ~bound_to. */
static void welcome_done(struct reactor *r, tofu_msg *m, const char *bound)
{
	tofu_msg_set_opcode(m, TOFU_OP_WELCOME_RESPONSE);
	m->h.proto &= (uint8_t)~TOFU_PROTO_ORIGIN_MASK;
	m->h.status = 0;
	tofu_msg_add_header(m, TOFU_HEADER_BOUND_TO, bound);
	m->h.text_headers_len = (uint16_t)m->th_len;
	deliver(r, m->group, m);
}

static void start_lookup(struct reactor *r, tofu_msg *m, const tofu_address *a, int passive);

static void do_listen(struct reactor *r, tofu_msg *m)
{
	tofu_address a;
	int is_listen = 0, fd = -1;
	char bound[TOFU_MAX_UDS_PATH_LEN + TOFU_MAX_HOST_LEN + 16];
	char *unlink_path = NULL;
	int k = tofu_address_find(tofu__th(m), m->th_len, &a, &is_listen);
	int st = address_status(k, 1, is_listen);
	if (!st && needs_lookup(&a)) {
		start_lookup(r, m, &a, 1);
		return;
	}
	if (!st)
		st = a.kind == TOFU_ADDR_TCP
			 ? listen_tcp(&a, &fd, bound, sizeof(bound))
			 : listen_uds(&a, &fd, bound, sizeof(bound), &unlink_path);
	struct chan *c = NULL;
	if (!st) {
		c = new_chan(r, fd, m->h.channel_number, CH_LISTENER, m->group);
		if (!c) {
			close(fd);
			if (unlink_path)
				unlink(unlink_path);
			free(unlink_path);
			st = TOFU_STATUS_ALLOCATION_FAILED;
		}
	}
	if (st) {
		fail_open(r, m, TOFU_OP_WELCOME_RESPONSE, st);
		return;
	}
	c->is_tcp = a.kind == TOFU_ADDR_TCP;
	c->unlink_path = unlink_path;
	c->close_id = m->h.message_id;
	c->got_first = 1;
	ep_set(r, c, EPOLLIN);
	welcome_done(r, m, bound);
}

/* -------------------------------------------------------------- connect */

/* Returns 0 (fd set, *inprogress set) or the status of a synchronous
 * failure (reference 4.9). */
/* After connect(): 0 (connected or *inprogress), or the Hello's status. */
static int connect_result(int fd, int rc, int *fdp, int *inprogress)
{
	if (rc == 0) {
		*fdp = fd;
		return 0;
	}
	if (errno == EINPROGRESS) {
		*inprogress = 1;
		*fdp = fd;
		return 0;
	}
	int err = errno;
	close(fd);
	return err == ENOENT ? TOFU_STATUS_UDS_PATH_NOT_FOUND : TOFU_STATUS_COMMUNICATION_FAILED;
}

/* Connects to the first address of res (not freed here). */
static int connect_ai(const struct addrinfo *res, int *fdp, int *inprogress)
{
	*inprogress = 0;
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return TOFU_STATUS_INVALID_ADDRESS;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return connect_result(fd, connect(fd, res->ai_addr, res->ai_addrlen), fdp, inprogress);
}

static int open_client(const tofu_address *a, int *fdp, int *inprogress, int *is_tcp)
{
	int fd, rc;
	*inprogress = 0;
	if (a->kind == TOFU_ADDR_TCP) {
		struct addrinfo *res;
		if (resolve(a, 0, &res))
			return TOFU_STATUS_INVALID_ADDRESS;
		*is_tcp = 1;
		int st = connect_ai(res, fdp, inprogress);
		freeaddrinfo(res);
		return st;
	} else {
		struct sockaddr_un sa;
		socklen_t sl;
		if (fill_un(&sa, &sl, a->path, a->path_len, a->abstract))
			return TOFU_STATUS_INVALID_ADDRESS;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return TOFU_STATUS_INVALID_ADDRESS;
		rc = connect(fd, (struct sockaddr *)&sa, sl);
		*is_tcp = 0;
	}
	return connect_result(fd, rc, fdp, inprogress);
}

static void do_connect(struct reactor *r, tofu_msg *m)
{
	tofu_address a;
	int is_listen = 0, fd = -1, inprogress = 0, is_tcp = 0;
	int k = tofu_address_find(tofu__th(m), m->th_len, &a, &is_listen);
	int st = address_status(k, 0, is_listen);
	if (!st && needs_lookup(&a)) {
		start_lookup(r, m, &a, 0);
		return;
	}
	if (!st)
		st = open_client(&a, &fd, &inprogress, &is_tcp);
	struct chan *c = NULL;
	if (!st) {
		c = new_chan(r, fd, m->h.channel_number, inprogress ? CH_CONNECTING : CH_IO,
			     m->group);
		if (!c) {
			close(fd);
			st = TOFU_STATUS_ALLOCATION_FAILED;
		}
	}
	if (st) {
		fail_open(r, m, TOFU_OP_HELLO_RESPONSE, st);
		return;
	}
	c->is_tcp = (uint8_t)is_tcp;
	c->close_id = m->h.message_id;
	c->first_pending = 1; /* nothing goes ahead of the Hello (WIRE-8.2.1) */
	/* The HelloRequest itself is the first frame on the wire. */
	tofu__q_push(&c->sq, m);
	if (inprogress) {
		ep_set(r, c, EPOLLOUT);
	} else {
		ep_set(r, c, EPOLLIN);
		mark_dirty(r, c);
	}
	if (!c->in_epoll)
		close_chan(r, c, TOFU_STATUS_UNKNOWN_ERROR, CL_NOTIFY, NULL);
}

static void on_connected(struct reactor *r, struct chan *c, uint32_t events)
{
	int err = 0;
	socklen_t sl = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl))
		err = errno;
	if (err == 0 && !(events & EPOLLOUT))
		return;
	if (err) {
		/* Asynchronous failure: the HelloRequest comes back unchanged
		 * in opcode with connect_failed (reference 4.9). */
		close_chan(r, c, TOFU_STATUS_CONNECT_FAILED, CL_NOTIFY, NULL);
		return;
	}
	c->kind = CH_IO;
	pthread_mutex_lock(&r->e->mu);
	set_direct_locked(r->e, c->cn, c->fd);
	pthread_mutex_unlock(&r->e->mu);
	ep_set(r, c, EPOLLIN);
	flush_chan(r, c);
}

/* ---------------------------------------------------------------- posts */

/* ------------------------------------------------ host-name lookups */

/* The Welcome/Hello at the head of the queue comes back as the failed
 * response, the messages behind it with the same status, then the final
 * Signal (WIRE-8.1.4, WIRE-8.2). */
static void lookup_failed(struct reactor *r, struct chan *c, int st)
{
	tofu_msg_set_opcode(c->sq.head,
			    c->lookup_listen ? TOFU_OP_WELCOME_RESPONSE : TOFU_OP_HELLO_RESPONSE);
	close_chan(r, c, st, CL_NOTIFY, NULL);
}

/* A Welcome or Hello whose TCP host is a name: its channel waits in
 * CH_RESOLVING (no socket; posts queue behind the Welcome/Hello, which
 * stays first in the send queue) while the resolver thread looks the name
 * up (resolver.c); on_looked_up continues it. */
static void start_lookup(struct reactor *r, tofu_msg *m, const tofu_address *a, int passive)
{
	int opcode = passive ? TOFU_OP_WELCOME_RESPONSE : TOFU_OP_HELLO_RESPONSE;
	struct tofu__lookup *l = calloc(1, sizeof(*l));
	struct chan *c = l ? new_chan(r, -1, m->h.channel_number, CH_RESOLVING, m->group) : NULL;
	if (!c) {
		free(l);
		fail_open(r, m, opcode, TOFU_STATUS_ALLOCATION_FAILED);
		return;
	}
	c->is_tcp = 1;
	c->lookup_listen = (unsigned)passive;
	c->close_id = m->h.message_id;
	c->got_first = (unsigned)passive;
	c->first_pending = 1; /* nothing goes ahead of the Welcome/Hello */
	tofu__q_push(&c->sq, m);
	l->cn = c->cn;
	l->gen = c->gen;
	l->passive = passive;
	host_port(a, passive, l->host, l->port);
	if (tofu__resolve_submit(r->e, l)) {
		free(l);
		lookup_failed(r, c, TOFU_STATUS_ALLOCATION_FAILED);
	}
}

static void on_looked_up(struct reactor *r, struct tofu__lookup *l)
{
	struct chan *c = r->chans[l->cn];
	/* Closed meanwhile (group destroy, abort): nothing waits for it. */
	if (!c || c->gen != l->gen || c->closed || c->kind != CH_RESOLVING)
		return;
	if (l->failed) {
		lookup_failed(r, c, TOFU_STATUS_INVALID_ADDRESS);
		return;
	}
	int fd = -1, st;
	if (c->lookup_listen) {
		char bound[TOFU_MAX_HOST_LEN + 16];
		st = listen_ai(l->ai, &fd, bound, sizeof(bound));
		if (st) {
			lookup_failed(r, c, st);
			return;
		}
		c->fd = fd;
		c->kind = CH_LISTENER;
		ep_set(r, c, EPOLLIN);
		if (!c->in_epoll) {
			lookup_failed(r, c, TOFU_STATUS_UNKNOWN_ERROR);
			return;
		}
		c->first_pending = 0;
		welcome_done(r, tofu__q_pop(&c->sq), bound);
		return;
	}
	int inprogress = 0;
	st = connect_ai(l->ai, &fd, &inprogress);
	if (st) {
		lookup_failed(r, c, st);
		return;
	}
	c->fd = fd;
	if (inprogress) {
		c->kind = CH_CONNECTING;
		ep_set(r, c, EPOLLOUT);
	} else {
		c->kind = CH_IO;
		pthread_mutex_lock(&r->e->mu);
		set_direct_locked(r->e, c->cn, fd);
		pthread_mutex_unlock(&r->e->mu);
		ep_set(r, c, EPOLLIN);
		mark_dirty(r, c);
	}
	if (!c->in_epoll)
		close_chan(r, c, TOFU_STATUS_UNKNOWN_ERROR, CL_NOTIFY, NULL);
}

static void handle_post(struct reactor *r, tofu_msg *m)
{
	int op = (int)tofu_proto_opcode(m->h.proto);
	if (op == TOFU_OP_WELCOME_REQUEST) {
		do_listen(r, m);
		return;
	}
	if (op == TOFU_OP_HELLO_REQUEST) {
		do_connect(r, m);
		return;
	}
	struct chan *c = r->chans[m->h.channel_number];
	if (!c || c->gen != m->gen || c->closed) {
		/* Closed between post and now: back to the app, never dropped. */
		return_msg(r, m->group, m, TOFU_STATUS_CHANNEL_CLOSED, m->h.channel_number);
		return;
	}
	if (op == TOFU_OP_BYE_SIGNAL && tofu_proto_internal_a(m->h.proto)) {
		/* Local abort (0x47): nothing is sent (reference 4.7). */
		close_chan(r, c, TOFU_STATUS_CHANNEL_CLOSED, CL_NOTIFY | CL_LINGER, m);
		return;
	}
	if (c->dpend) {
		/* Part-written or failed by the posting thread, which wrote only
		 * with nothing of this channel queued or in the mailbox ahead
		 * (internal.h): this is the channel's first message of the
		 * batch, the queue is empty and the frame goes first. */
		c->dpend = 0;
		if (!c->sq.head)
			c->sq_off = c->dsent;
		tofu__q_push(&c->sq, m);
	} else if (tofu_proto_internal_a(m->h.proto) && c->sq.head) {
		/* oob: ahead of every frame not yet started; never ahead of a
		 * part-written frame or of the HelloRequest of a connecting
		 * channel (so the peer still sees Hello first). */
		if (c->sq_off == 0 && !c->first_pending) {
			m->next = c->sq.head;
			c->sq.head = m;
			c->sq.n++;
		} else {
			tofu_msg *h = c->sq.head;
			m->next = h->next;
			h->next = m;
			if (c->sq.tail == h)
				c->sq.tail = m;
			c->sq.n++;
		}
	} else {
		tofu__q_push(&c->sq, m);
	}
	if (c->kind == CH_IO)
		mark_dirty(r, c);
}

static void handle_cmd(struct reactor *r, struct cmd *cmd)
{
	tofu_group *g = cmd->g;
	/* Group destroy: every channel closes without notifications. */
	while (g->chans)
		close_chan(r, g->chans, TOFU_STATUS_CHANNEL_CLOSED, CL_LINGER, NULL);
	pthread_mutex_lock(&r->e->mu);
	cmd->done = 1;
	pthread_cond_broadcast(&r->e->cmd_cv);
	pthread_mutex_unlock(&r->e->mu);
}

/* ----------------------------------------------------------------- loop */

static void handle_event(struct reactor *r, struct chan *c, uint32_t events)
{
	switch (c->kind) {
	case CH_LISTENER:
		if (!c->closed && (events & EPOLLIN))
			on_accept(r, c);
		break;
	case CH_CONNECTING:
		if (!c->closed)
			on_connected(r, c, events);
		break;
	case CH_IO:
		if (c->closed)
			break;
		if (c->starved) {
			/* Not reading; a hang-up would be reported forever. */
			if (events & (EPOLLHUP | EPOLLERR))
				ep_del(r, c);
			else if (events & EPOLLOUT)
				flush_chan(r, c);
			break;
		}
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			do_read(r, c, events);
		if (!c->closed && c->kind == CH_IO && (events & EPOLLOUT))
			flush_chan(r, c);
		break;
	case CH_LINGER:
		if (c->fd < 0)
			break;
		if ((events & EPOLLOUT) && !c->wr_shut) {
			flush_chan(r, c);
			if (c->fd < 0)
				break;
		}
		if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			break;
		if (linger_drain(r, c))
			final_close(r, c);
		break;
	}
}

static void handle_waits(struct reactor *r)
{
	/* Take the whole list; whatever still has to wait is re-added. */
	struct chan *c = r->waits.head, *next;
	r->waits.head = r->waits.tail = NULL;
	int pool_dry = 0;
	for (; c; c = next) {
		next = c->wnext;
		c->in_wait = 0;
		c->wnext = c->wprev = NULL;
		if (c->paused) {
			if (r->now >= c->deadline) {
				c->paused = 0;
				ep_set(r, c, EPOLLIN);
			} else {
				wl_add(r, c);
			}
			continue;
		}
		if (!pool_dry) {
			/* resume() re-adds the channel if the pool runs dry. */
			resume(r, c);
			if (!c->closed && c->starved)
				pool_dry = 1;
			continue;
		}
		wl_add(r, c);
	}
}

static int timeout_ms(struct reactor *r)
{
	int64_t t = -1;
	if (r->waits.head)
		t = WAIT_RETRY_MS;
	uint64_t dl[3] = {0, 0, 0};
	int have[3] = {r->ftimers.head != NULL, r->lingers.head != NULL, r->byes.head != NULL};
	if (have[0])
		dl[0] = r->ftimers.head->deadline;
	if (have[1])
		dl[1] = r->lingers.head->deadline;
	if (have[2])
		dl[2] = r->byes.head->bye_deadline;
	for (int i = 0; i < 3; i++) {
		if (!have[i])
			continue;
		int64_t d = (int64_t)dl[i] - (int64_t)r->now;
		if (d < 0)
			d = 0;
		if (t < 0 || d < t)
			t = d;
	}
	if (r->draining) {
		int64_t d = (int64_t)r->drain_deadline - (int64_t)r->now;
		if (d < 0)
			d = 0;
		if (t < 0 || d < t)
			t = d;
	}
	return (int)(t > INT_MAX ? INT_MAX : t);
}

static void expire_timers(struct reactor *r)
{
	while (r->ftimers.head && r->ftimers.head->deadline <= r->now)
		/* Slowloris: a started frame not completed in time. */
		close_chan(r, r->ftimers.head, TOFU_STATUS_RECV_FAILED, CL_NOTIFY | CL_LINGER,
			   NULL);
	while (r->byes.head && r->byes.head->bye_deadline <= r->now)
		/* The peer never ended the connection after our bye. */
		close_chan(r, r->byes.head, TOFU_STATUS_CHANNEL_CLOSED, CL_NOTIFY | CL_LINGER,
			   NULL);
	while (r->lingers.head && r->lingers.head->deadline <= r->now)
		final_close(r, r->lingers.head);
}

static void free_grave(struct reactor *r)
{
	while (r->grave) {
		struct chan *c = r->grave;
		r->grave = c->gvnext;
		free(c->stash);
		free(c);
	}
}

static void shutdown_all(struct reactor *r)
{
	for (uint32_t cn = 0; cn < 65536; cn++) {
		struct chan *c = r->chans[cn];
		if (c)
			close_chan(r, c, TOFU_STATUS_SHUTDOWN_STARTED, 0, NULL);
	}
	while (r->lingers.head)
		final_close(r, r->lingers.head);
	free_grave(r);
	tofu__q_splice(&r->tofree, &r->cache);
	tofu_msg *m;
	while ((m = tofu__q_pop(&r->tofree)))
		tofu__msg_free(m);
}

/* One loop iteration: wait for events (at most max_wait_ms; -1 = only the
 * timers bound it), handle them, the mailbox, commands and timers, give
 * the pool cache back and flush deliveries. Returns 1 when the engine has
 * shut down and every lingering channel is done. */
static int reactor_iter(struct reactor *r, int max_wait_ms)
{
	tofu_engine *e = r->e;
	struct epoll_event evs[MAX_EVENTS];
	r->now = now_ms();
	int wait_ms = timeout_ms(r);
	if (max_wait_ms >= 0 && (wait_ms < 0 || wait_ms > max_wait_ms))
		wait_ms = max_wait_ms;
	int n = epoll_wait(e->epfd, evs, MAX_EVENTS, wait_ms);
	r->now = now_ms();
	for (int i = 0; i < n; i++) {
		/* The eventfd is edge-triggered and never read: every write is
		 * an edge, so no read() per wake-up is needed (the counter
		 * cannot reach its 2^64-2 limit). */
		if (evs[i].data.ptr == &r->notifier)
			continue;
		handle_event(r, evs[i].data.ptr, evs[i].events);
	}

	pthread_mutex_lock(&e->mu);
	/* Received frames: a post that answers one may be written by the
	 * posting thread (engine.c). Reported here, in the lock taken anyway,
	 * before the deliveries reach the groups. */
	for (uint32_t i = 0; i < r->rx_n; i++) {
		uint16_t cn = r->rx_cn[i];
		struct slot *s = &e->slots[cn];
		if (s->gen == r->rx_gen[i] && s->kind == SLOT_IO)
			s->rx = 1;
		struct chan *c = r->chans[cn];
		if (c && c->gen == r->rx_gen[i])
			c->rx_mark = 0;
	}
	r->rx_n = 0;
	/* Direct writes that left a rest or failed: their frame is the first
	 * of its channel in the posts taken below. */
	for (uint32_t i = 0; i < e->dpend_n; i++) {
		uint16_t cn = e->dpend[i];
		struct slot *s = &e->slots[cn];
		struct chan *c = r->chans[cn];
		if (c && c->gen == s->gen && s->kind == SLOT_IO && !c->closed) {
			c->dpend = 1;
			c->dsent = s->dsent;
			c->send_err |= s->dfail;
		}
		s->dsent = 0;
		s->dfail = 0;
	}
	e->dpend_n = 0;
	struct msgq posted = e->posted;
	e->posted.head = e->posted.tail = NULL;
	e->posted.n = 0;
	struct cmd *cmds = e->cmds;
	e->cmds = e->cmds_tail = NULL;
	struct tofu__lookup *looked_up = e->looked_up;
	e->looked_up = NULL;
	e->notified = 0;
	int stop = e->shutting_down;
	pthread_mutex_unlock(&e->mu);

	tofu_msg *m;
	while ((m = tofu__q_pop(&posted)))
		handle_post(r, m);
	/* After the posts: one posted before the answer came is queued
	 * behind its Hello, and shares its fate. */
	while (looked_up) {
		struct tofu__lookup *l = looked_up;
		looked_up = l->next;
		on_looked_up(r, l);
		tofu__lookup_free(l);
	}
	flush_dirty(r);
	if (cmds) {
		flush_groups(r);
		while (cmds) {
			struct cmd *next = cmds->next;
			handle_cmd(r, cmds);
			cmds = next;
		}
	}
	if (r->waits.head)
		handle_waits(r);
	expire_timers(r);
	flush_dirty(r);
	/* The cache goes back with the sent messages, in the same lock. */
	tofu__q_splice(&r->tofree, &r->cache);
	if (r->tofree.head)
		tofu__pool_put_list(e, &r->tofree);
	flush_groups(r);
	free_grave(r);
	if (stop && !r->draining) {
		/* Shutdown: every channel closes without notifications, writing
		 * what is already queued within the linger time (WIRE-8.6.8). */
		r->draining = 1;
		r->drain_deadline = r->now + e->opt.close_linger_ms;
		for (uint32_t cn = 0; cn < 65536; cn++)
			if (r->chans[cn])
				close_chan(r, r->chans[cn], TOFU_STATUS_SHUTDOWN_STARTED, CL_LINGER,
					   NULL);
		if (r->tofree.head)
			tofu__pool_put_list(e, &r->tofree);
		free_grave(r);
	}
	return r->draining && (!r->lingers.head || r->now >= r->drain_deadline);
}

static void *reactor_main(void *arg)
{
	tofu_engine *e = arg;
	sigset_t all;
	/* Signals belong to the application's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!reactor_iter(e->r, -1))
		;
	shutdown_all(e->r);
	return NULL;
}

/* A stepped engine's loop, one iteration per call (internal.h). */
int tofu__engine_step(tofu_engine *e, int max_wait_ms)
{
	struct reactor *r = e->r;
	if (!e->stepped || r->finished)
		return -1;
	if (reactor_iter(r, max_wait_ms < 0 ? 0 : max_wait_ms)) {
		r->finished = 1;
		shutdown_all(r);
		return 1;
	}
	return 0;
}

/* A stepped engine adopts a connected socket as an accepted channel
 * (internal.h). */
int tofu__engine_adopt(tofu_engine *e, tofu_group *g, int fd)
{
	struct reactor *r = e->r;
	if (fd < 0)
		return -1;
	if (!e->stepped || r->finished || !g || g->e != e) {
		close(fd);
		return -1;
	}
	return accept_fd(r, g, fd, 0);
}

/* ------------------------------------------------------ start and stop */

void tofu__wake(tofu_engine *e)
{
	uint64_t one = 1;
	ssize_t w = write(e->efd, &one, sizeof(one));
	(void)w; /* a full counter already means "wake up" */
}

int tofu__reactor_start(tofu_engine *e)
{
	struct reactor *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	r->e = e;
	e->r = r;
	r->chans = calloc(65536, sizeof(*r->chans));
	r->rbuf = malloc(RBUF_SIZE);
	if (!r->chans || !r->rbuf)
		return -1;
	e->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->efd < 0 || e->epfd < 0)
		return -1;
	struct epoll_event ee = {.events = EPOLLIN | EPOLLET, .data.ptr = &r->notifier};
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->efd, &ee))
		return -1;
	r->ready = 1;
	if (e->stepped)
		return 0; /* the caller runs the loop: tofu__engine_step */
	if (pthread_create(&e->thread, NULL, reactor_main, e))
		return -1;
	e->thread_started = 1;
	return 0;
}

void tofu__reactor_stop(tofu_engine *e)
{
	if (e->thread_started) {
		tofu__wake(e);
		pthread_join(e->thread, NULL);
		e->thread_started = 0;
	}
	struct reactor *r = e->r;
	if (r && e->stepped && r->ready && !r->finished) {
		/* The same shutdown the thread would run, on the caller. */
		tofu__wake(e);
		while (!reactor_iter(r, -1))
			;
		r->finished = 1;
		shutdown_all(r);
	}
	/* No lookup can start now; the resolver thread's last wake-up must
	 * find the eventfd still open. */
	tofu__resolver_stop(e);
	if (r) {
		free(r->chans);
		free(r->rbuf);
		free(r);
		e->r = NULL;
	}
	if (e->epfd >= 0)
		close(e->epfd);
	if (e->efd >= 0)
		close(e->efd);
	e->epfd = e->efd = -1;
}
