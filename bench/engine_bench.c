/*
 * bench/engine_bench.c - the engine beside raw sockets and libzmq, in one run.
 *
 * Workloads (each measured for every implementation in the same round, the
 * rounds interleaved so that load from other processes hits all alike; the
 * best round of each is reported):
 *   throughput  one sender -> one receiver, N messages of 64 B and 1 KiB body,
 *               TCP loopback and UDS;
 *   latency     request/response ping-pong, M round trips, p50/p99/p99.9;
 *   scale       the 64-B TCP throughput spread over 1..10,000 connections of
 *               one engine pair; CPU cost per message and RSS per idle
 *               connection.
 * Implementations:
 *   raw1   blocking sockets, the same 16-byte framing, one write per message;
 *   rawB   blocking sockets, frames batched into 64 KiB writes;
 *   zmq    libzmq PUSH/PULL (throughput) and REQ/REP (latency), each message
 *          is the same 16-byte header + body;
 *   engine two tofu engines (sender, receiver) in this process, each with its
 *          reactor thread, as two peers would be; Signal frames for
 *          throughput, Request/Response for latency.
 * Every peer pair lives in one process as two threads (zmq: two contexts,
 * tofu: two engines), so each side has its own I/O thread as across hosts.
 *
 * Environment: BENCH_SCALE (default 1: 10^6 messages, 10^5 round trips),
 * BENCH_ROUNDS (default 3), BENCH_CONNS (comma list, default
 * 1,100,1000,10000), BENCH_ONLY (substring filter: "tput", "lat", "scale"),
 * BENCH_ENGINE_ONLY=1 (skip the baselines: for profiling the engine alone),
 * BENCH_POOL_MAX (engine pool_max, default 65536).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "tofu/tofu.h"

#define DIE(...)                                                                                   \
	do {                                                                                       \
		fprintf(stderr, "engine_bench: " __VA_ARGS__);                                     \
		fputc('\n', stderr);                                                               \
		exit(1);                                                                           \
	} while (0)

static double g_scale = 1.0;
static int g_rounds = 3;
static const char *g_only = "";
static unsigned g_seq;
/* Most messages each engine's pool keeps (BENCH_POOL_MAX). Messages in
 * flight beyond it are malloc'ed and freed per message. */
static uint32_t g_pool_max = 65536;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return v;
}

/* ------------------------------------------------------------------ */
/* Raw sockets                                                         */
/* ------------------------------------------------------------------ */

enum { T_TCP = 0, T_UDS = 1 };
static const char *const tname[] = {"tcp", "uds"};

struct endpoint {
	int kind;
	struct sockaddr_storage sa;
	socklen_t sl;
	char path[108];
};

static int raw_listen(int kind, struct endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->kind = kind;
	int fd;
	if (kind == T_TCP) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ep->sa;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ep->sl = sizeof(*sin);
	} else {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ep->sa;
		sun->sun_family = AF_UNIX;
		snprintf(ep->path, sizeof(ep->path), "/tmp/tofu-bench-%d-%u.sock", (int)getpid(),
			 g_seq++);
		unlink(ep->path);
		memcpy(sun->sun_path, ep->path, strlen(ep->path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ep->sl = sizeof(*sun);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&ep->sa, ep->sl) || listen(fd, 16))
		DIE("listen: %s", strerror(errno));
	if (kind == T_TCP && getsockname(fd, (struct sockaddr *)&ep->sa, &ep->sl))
		DIE("getsockname: %s", strerror(errno));
	return fd;
}

static void nodelay(int fd, int kind)
{
	int one = 1;
	if (kind == T_TCP)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int raw_connect(const struct endpoint *ep)
{
	int fd = socket(ep->kind == T_TCP ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&ep->sa, ep->sl))
		DIE("connect: %s", strerror(errno));
	nodelay(fd, ep->kind);
	return fd;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			DIE("write: %s", strerror(errno));
		p += w;
		len -= (size_t)w;
	}
}

static void read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			DIE("read: %s", n ? strerror(errno) : "end of stream");
		p += n;
		len -= (size_t)n;
	}
}

/* One frame (Signal, channel 1) with the given id into out; returns size. */
static size_t make_frame(uint8_t *out, uint64_t id, size_t body_len)
{
	tofu_header h = {.channel_number = 1,
			 .proto = TOFU_OP_SIGNAL,
			 .message_id = id,
			 .body_len = (uint16_t)body_len};
	tofu_header_encode(&h, out);
	memset(out + TOFU_HEADER_SIZE, 'x', body_len);
	return TOFU_HEADER_SIZE + body_len;
}

struct raw_rx {
	int lfd;
	size_t n, size;
	uint64_t t_end;
};

/* Receiver of the raw throughput runs: large reads, frames parsed in the
 * buffer as any real receiver must. */
static void *raw_rx_main(void *arg)
{
	struct raw_rx *rx = arg;
	int fd = accept(rx->lfd, NULL, NULL);
	if (fd < 0)
		DIE("accept: %s", strerror(errno));
	size_t cap = 256 * 1024, have = 0, got = 0;
	uint8_t *buf = malloc(cap);
	while (got < rx->n) {
		ssize_t r = read(fd, buf + have, cap - have);
		if (r <= 0)
			DIE("raw rx read: %s", r ? strerror(errno) : "eof");
		have += (size_t)r;
		size_t pos = 0;
		for (;;) {
			tofu_header h;
			if (tofu_header_decode(buf + pos, have - pos, &h) < 0)
				break;
			size_t fl = TOFU_HEADER_SIZE + h.text_headers_len + h.body_len;
			if (have - pos < fl)
				break;
			if (h.body_len != rx->size)
				DIE("raw rx: bad frame");
			pos += fl;
			got++;
		}
		memmove(buf, buf + pos, have - pos);
		have -= pos;
	}
	rx->t_end = now_ns();
	free(buf);
	close(fd);
	return NULL;
}

struct tput {
	double mps, mbps, cpu_ns; /* messages/s, MB/s of frame bytes, CPU ns/msg */
};

static struct tput mk_tput(size_t n, size_t size, uint64_t t0, uint64_t t1, uint64_t c0,
			   uint64_t c1)
{
	struct tput r;
	double s = (double)(t1 - t0) / 1e9;
	r.mps = (double)n / s;
	r.mbps = r.mps * (double)(TOFU_HEADER_SIZE + size) / 1e6;
	r.cpu_ns = (double)(c1 - c0) / (double)n;
	return r;
}

static struct tput raw_tput(int kind, size_t size, size_t n, int batched)
{
	struct endpoint ep;
	struct raw_rx rx = {.lfd = raw_listen(kind, &ep), .n = n, .size = size};
	pthread_t th;
	pthread_create(&th, NULL, raw_rx_main, &rx);
	int fd = raw_connect(&ep);
	uint8_t frame[TOFU_HEADER_SIZE + 1024];
	size_t bcap = 64 * 1024, blen = 0;
	uint8_t *batch = malloc(bcap);
	uint64_t c0 = cpu_ns(), t0 = now_ns();
	for (size_t i = 0; i < n; i++) {
		if (!batched) {
			size_t fl = make_frame(frame, i + 1, size);
			write_all(fd, frame, fl);
			continue;
		}
		if (blen + TOFU_HEADER_SIZE + size > bcap) {
			write_all(fd, batch, blen);
			blen = 0;
		}
		blen += make_frame(batch + blen, i + 1, size);
	}
	if (blen)
		write_all(fd, batch, blen);
	pthread_join(th, NULL);
	uint64_t c1 = cpu_ns();
	close(fd);
	close(rx.lfd);
	if (kind == T_UDS)
		unlink(ep.path);
	free(batch);
	return mk_tput(n, size, t0, rx.t_end, c0, c1);
}

struct lat {
	double p50, p99, p999; /* microseconds */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static struct lat mk_lat(uint64_t *rtt, size_t n)
{
	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	struct lat l;
	l.p50 = (double)rtt[n / 2] / 1e3;
	l.p99 = (double)rtt[(size_t)((double)n * 0.99)] / 1e3;
	l.p999 = (double)rtt[(size_t)((double)n * 0.999)] / 1e3;
	return l;
}

struct raw_echo {
	int lfd, kind;
	size_t n;
};

static void *raw_echo_main(void *arg)
{
	struct raw_echo *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	if (fd < 0)
		DIE("accept: %s", strerror(errno));
	nodelay(fd, s->kind);
	uint8_t buf[TOFU_HEADER_SIZE + 65536];
	for (size_t i = 0; i < s->n; i++) {
		tofu_header h;
		read_all(fd, buf, TOFU_HEADER_SIZE);
		tofu_header_decode(buf, TOFU_HEADER_SIZE, &h);
		size_t rest = (size_t)h.text_headers_len + h.body_len;
		read_all(fd, buf + TOFU_HEADER_SIZE, rest);
		h.proto = TOFU_OP_RESPONSE;
		tofu_header_encode(&h, buf);
		write_all(fd, buf, TOFU_HEADER_SIZE + rest);
	}
	close(fd);
	return NULL;
}

static struct lat raw_lat(int kind, size_t size, size_t n, uint64_t *rtt)
{
	struct endpoint ep;
	struct raw_echo s = {.lfd = raw_listen(kind, &ep), .kind = kind, .n = n};
	pthread_t th;
	pthread_create(&th, NULL, raw_echo_main, &s);
	int fd = raw_connect(&ep);
	uint8_t frame[TOFU_HEADER_SIZE + 1024], in[TOFU_HEADER_SIZE + 1024];
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		size_t fl = make_frame(frame, i + 1, size);
		frame[TOFU_HDR_PROTO_OFFSET] = TOFU_OP_REQUEST;
		write_all(fd, frame, fl);
		read_all(fd, in, fl);
		rtt[i] = now_ns() - t0;
	}
	pthread_join(th, NULL);
	close(fd);
	close(s.lfd);
	if (kind == T_UDS)
		unlink(ep.path);
	return mk_lat(rtt, n);
}

/* ------------------------------------------------------------------ */
/* libzmq                                                              */
/* ------------------------------------------------------------------ */

static void zmq_endpoint(int kind, char *out, size_t cap)
{
	if (kind == T_TCP)
		snprintf(out, cap, "tcp://127.0.0.1:*");
	else
		snprintf(out, cap, "ipc:///tmp/tofu-bench-zmq-%d-%u", (int)getpid(), g_seq++);
}

struct zmq_side {
	void *sock;
	size_t n, size;
	uint64_t t_end;
};

static void *zmq_pull_main(void *arg)
{
	struct zmq_side *z = arg;
	uint8_t buf[TOFU_HEADER_SIZE + 1024];
	for (size_t i = 0; i < z->n; i++) {
		int r = zmq_recv(z->sock, buf, sizeof(buf), 0);
		if (r != (int)(TOFU_HEADER_SIZE + z->size))
			DIE("zmq_recv: %d %s", r, zmq_strerror(zmq_errno()));
	}
	z->t_end = now_ns();
	return NULL;
}

static void zmq_bind_last(void *sock, int kind, char *ep, size_t cap)
{
	zmq_endpoint(kind, ep, cap);
	if (zmq_bind(sock, ep))
		DIE("zmq_bind %s: %s", ep, zmq_strerror(zmq_errno()));
	size_t l = cap;
	zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, ep, &l);
}

static void zmq_cleanup_ep(const char *ep)
{
	if (strncmp(ep, "ipc://", 6) == 0)
		unlink(ep + 6);
}

static struct tput zmq_tput(int kind, size_t size, size_t n)
{
	void *rctx = zmq_ctx_new(), *sctx = zmq_ctx_new();
	void *pull = zmq_socket(rctx, ZMQ_PULL), *push = zmq_socket(sctx, ZMQ_PUSH);
	char ep[256];
	zmq_bind_last(pull, kind, ep, sizeof(ep));
	if (zmq_connect(push, ep))
		DIE("zmq_connect: %s", zmq_strerror(zmq_errno()));
	struct zmq_side z = {.sock = pull, .n = n, .size = size};
	pthread_t th;
	pthread_create(&th, NULL, zmq_pull_main, &z);
	uint8_t frame[TOFU_HEADER_SIZE + 1024];
	uint64_t c0 = cpu_ns(), t0 = now_ns();
	for (size_t i = 0; i < n; i++) {
		size_t fl = make_frame(frame, i + 1, size);
		if (zmq_send(push, frame, fl, 0) != (int)fl)
			DIE("zmq_send: %s", zmq_strerror(zmq_errno()));
	}
	pthread_join(th, NULL);
	uint64_t c1 = cpu_ns();
	int zero = 0;
	zmq_setsockopt(push, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(sctx);
	zmq_ctx_term(rctx);
	zmq_cleanup_ep(ep);
	return mk_tput(n, size, t0, z.t_end, c0, c1);
}

static void *zmq_rep_main(void *arg)
{
	struct zmq_side *z = arg;
	uint8_t buf[TOFU_HEADER_SIZE + 1024];
	for (size_t i = 0; i < z->n; i++) {
		int r = zmq_recv(z->sock, buf, sizeof(buf), 0);
		if (r < 0 || zmq_send(z->sock, buf, (size_t)r, 0) != r)
			DIE("zmq rep: %s", zmq_strerror(zmq_errno()));
	}
	return NULL;
}

static struct lat zmq_lat(int kind, size_t size, size_t n, uint64_t *rtt)
{
	void *rctx = zmq_ctx_new(), *sctx = zmq_ctx_new();
	void *rep = zmq_socket(rctx, ZMQ_REP), *req = zmq_socket(sctx, ZMQ_REQ);
	char ep[256];
	zmq_bind_last(rep, kind, ep, sizeof(ep));
	if (zmq_connect(req, ep))
		DIE("zmq_connect: %s", zmq_strerror(zmq_errno()));
	struct zmq_side z = {.sock = rep, .n = n, .size = size};
	pthread_t th;
	pthread_create(&th, NULL, zmq_rep_main, &z);
	uint8_t frame[TOFU_HEADER_SIZE + 1024], in[TOFU_HEADER_SIZE + 1024];
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		size_t fl = make_frame(frame, i + 1, size);
		if (zmq_send(req, frame, fl, 0) != (int)fl ||
		    zmq_recv(req, in, sizeof(in), 0) != (int)fl)
			DIE("zmq req: %s", zmq_strerror(zmq_errno()));
		rtt[i] = now_ns() - t0;
	}
	pthread_join(th, NULL);
	zmq_close(req);
	zmq_close(rep);
	zmq_ctx_term(sctx);
	zmq_ctx_term(rctx);
	zmq_cleanup_ep(ep);
	return mk_lat(rtt, n);
}

/* ------------------------------------------------------------------ */
/* The tofu engine                                                     */
/* ------------------------------------------------------------------ */

struct epair {
	tofu_engine *se, *re; /* sender (clients), receiver (listener) */
	tofu_group *sg, *rg;
	char bound[256];
	uint16_t *cc; /* client channels on se */
	size_t k;
};

static tofu_msg *wait_msg(tofu_group *g, uint64_t ms)
{
	tofu_msg *m = NULL;
	int rc = tofu_wait_receive(g, ms * 1000000ull, &m);
	if (rc)
		DIE("wait_receive: %s", tofu_status_name(rc));
	return m;
}

static void eng_open(struct epair *p, int kind, size_t k)
{
	memset(p, 0, sizeof(*p));
	tofu_options so, ro;
	tofu_options_init(&so);
	tofu_options_init(&ro);
	/* Sender: bounded queue per channel, so a fast poster gets
	 * not_allowed and waits instead of queueing 10^6 messages. */
	so.pool_initial = 1024;
	so.pool_max = g_pool_max;
	so.max_outbound_bytes = 256 * 1024;
	ro.pool_initial = 1024;
	ro.pool_max = g_pool_max;
	if (tofu_engine_create(&so, &p->se) || tofu_engine_create(&ro, &p->re) ||
	    tofu_group_create(p->se, &p->sg) || tofu_group_create(p->re, &p->rg))
		DIE("engine create");
	tofu_msg *m = NULL;
	tofu_get(p->re, TOFU_GET_ALWAYS, &m);
	tofu_msg_prepare_welcome(m, kind == T_TCP ? "tcp|127.0.0.1|0" : "uds|");
	if (tofu_post(p->rg, &m, NULL))
		DIE("post welcome");
	m = wait_msg(p->rg, 5000);
	const char *v;
	size_t vl;
	if (!m || tofu_msg_status(m) || !tofu_msg_find_header(m, TOFU_HEADER_BOUND_TO, &v, &vl) ||
	    vl >= sizeof(p->bound))
		DIE("welcome failed");
	memcpy(p->bound, v, vl);
	p->bound[vl] = 0;
	tofu_put(p->re, &m);
	p->cc = calloc(k ? k : 1, sizeof(*p->cc));
}

/* Opens k client channels, in batches so the listen backlog never
 * overflows; the receiver side answers each HelloRequest. */
static void eng_connect(struct epair *p, size_t k)
{
	const size_t batch = 500;
	for (size_t done = 0; done < k;) {
		size_t nb = k - done < batch ? k - done : batch, acked = 0, answered = 0;
		for (size_t i = 0; i < nb; i++) {
			tofu_msg *m = NULL;
			tofu_header ph;
			tofu_get(p->se, TOFU_GET_ALWAYS, &m);
			tofu_msg_prepare_hello(m, p->bound);
			int rc = tofu_post(p->sg, &m, &ph);
			if (rc)
				DIE("post hello: %s", tofu_status_name(rc));
			p->cc[done + i] = ph.channel_number;
		}
		uint64_t deadline = now_ns() + 30 * 1000000000ull;
		while (acked < nb || answered < nb) {
			if (now_ns() > deadline)
				DIE("connect: %zu/%zu answered, %zu/%zu acked", answered, nb, acked,
				    nb);
			tofu_msg *m = wait_msg(p->rg, answered < nb ? 1 : 0);
			if (m) {
				if (tofu_msg_opcode(m) != TOFU_OP_HELLO_REQUEST)
					DIE("server got opcode %d status %d", tofu_msg_opcode(m),
					    tofu_msg_status(m));
				tofu_msg_set_opcode(m, TOFU_OP_HELLO_RESPONSE);
				if (tofu_post(p->rg, &m, NULL))
					DIE("post hello response");
				answered++;
			}
			m = wait_msg(p->sg, acked < nb ? 1 : 0);
			if (m) {
				if (tofu_msg_opcode(m) != TOFU_OP_HELLO_RESPONSE ||
				    tofu_msg_status(m))
					DIE("client got opcode %d status %s", tofu_msg_opcode(m),
					    tofu_status_name(tofu_msg_status(m)));
				tofu_put(p->se, &m);
				acked++;
			}
		}
		done += nb;
	}
	p->k = k;
}

static void eng_close(struct epair *p)
{
	tofu_group_destroy(p->sg);
	tofu_group_destroy(p->rg);
	tofu_engine_destroy(p->se);
	tofu_engine_destroy(p->re);
	free(p->cc);
}

struct eng_rx {
	struct epair *p;
	size_t n, size, starved;
	uint64_t t_end;
};

static void *eng_rx_main(void *arg)
{
	struct eng_rx *rx = arg;
	size_t got = 0;
	while (got < rx->n) {
		tofu_msg *m = wait_msg(rx->p->rg, 10000);
		if (!m)
			DIE("engine rx: timeout after %zu of %zu", got, rx->n);
		if (tofu_msg_opcode(m) == TOFU_OP_SIGNAL && !tofu_msg_origin(m)) {
			size_t bl;
			tofu_msg_body(m, &bl);
			if (bl != rx->size)
				DIE("engine rx: body %zu", bl);
			got++;
		} else if (tofu_msg_status(m) == TOFU_STATUS_POOL_EMPTY) {
			rx->starved++;
		} else {
			DIE("engine rx: opcode %d status %d", tofu_msg_opcode(m),
			    tofu_msg_status(m));
		}
		tofu_put(rx->p->re, &m);
	}
	rx->t_end = now_ns();
	return NULL;
}

static size_t g_busy; /* posts refused with not_allowed (queue full) */

static void eng_send(struct epair *p, size_t ci, size_t size, const uint8_t *body)
{
	tofu_msg *m = NULL;
	if (tofu_get(p->se, TOFU_GET_ALWAYS, &m))
		DIE("get");
	tofu_msg_set_opcode(m, TOFU_OP_SIGNAL);
	tofu_msg_set_channel(m, p->cc[ci]);
	tofu_msg_set_body(m, body, size);
	for (unsigned spin = 0;; spin++) {
		int rc = tofu_post(p->sg, &m, NULL);
		if (!rc)
			return;
		if (rc != TOFU_STATUS_NOT_ALLOWED)
			DIE("post: %s", tofu_status_name(rc));
		g_busy++;
		if (spin < 16)
			sched_yield();
		else
			usleep(20);
	}
}

static struct tput eng_tput_run(struct epair *p, size_t size, size_t n)
{
	uint8_t body[1024];
	memset(body, 'x', sizeof(body));
	struct eng_rx rx = {.p = p, .n = n, .size = size};
	pthread_t th;
	pthread_create(&th, NULL, eng_rx_main, &rx);
	uint64_t c0 = cpu_ns(), t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		eng_send(p, i % p->k, size, body);
	pthread_join(th, NULL);
	uint64_t c1 = cpu_ns();
	return mk_tput(n, size, t0, rx.t_end, c0, c1);
}

static struct tput eng_tput(int kind, size_t size, size_t n)
{
	struct epair p;
	eng_open(&p, kind, 1);
	eng_connect(&p, 1);
	struct tput r = eng_tput_run(&p, size, n);
	eng_close(&p);
	return r;
}

struct eng_echo {
	struct epair *p;
	size_t n;
};

static void *eng_echo_main(void *arg)
{
	struct eng_echo *s = arg;
	for (size_t i = 0; i < s->n; i++) {
		tofu_msg *m = wait_msg(s->p->rg, 10000);
		if (!m || tofu_msg_opcode(m) != TOFU_OP_REQUEST)
			DIE("engine echo: %s", m ? "unexpected message" : "timeout");
		tofu_msg_set_opcode(m, TOFU_OP_RESPONSE);
		int rc = tofu_post(s->p->rg, &m, NULL);
		if (rc)
			DIE("engine echo post: %s", tofu_status_name(rc));
	}
	return NULL;
}

static struct lat eng_lat(int kind, size_t size, size_t n, uint64_t *rtt)
{
	struct epair p;
	eng_open(&p, kind, 1);
	eng_connect(&p, 1);
	struct eng_echo s = {.p = &p, .n = n};
	pthread_t th;
	pthread_create(&th, NULL, eng_echo_main, &s);
	uint8_t body[1024];
	memset(body, 'x', sizeof(body));
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		tofu_msg *m = NULL;
		tofu_get(p.se, TOFU_GET_ALWAYS, &m);
		tofu_msg_set_channel(m, p.cc[0]);
		tofu_msg_set_body(m, body, size);
		int rc = tofu_post(p.sg, &m, NULL);
		if (rc)
			DIE("engine lat post: %s", tofu_status_name(rc));
		m = wait_msg(p.sg, 10000);
		if (!m || tofu_msg_opcode(m) != TOFU_OP_RESPONSE)
			DIE("engine lat: %s", m ? "unexpected message" : "timeout");
		tofu_put(p.se, &m);
		rtt[i] = now_ns() - t0;
	}
	pthread_join(th, NULL);
	eng_close(&p);
	return mk_lat(rtt, n);
}

/* Scale: the receiving engine (this process) holds k accepted connections;
 * the sending engine runs in a forked child with the k client channels, as a
 * second peer would (the file limit, 20,000 here, is per process). The child
 * is forked before this process creates an engine, so no thread is copied. */
struct scale_res {
	struct tput t[2];      /* [0] round-robin, [1] bursts */
	double rx_kib, tx_kib; /* RSS delta / connections: receiver, sender side */
	double connect_s;
};

struct child_report {
	uint64_t cpu_ns; /* child CPU while sending */
	double kib;	 /* child RSS delta per connection */
	int ok;
};

static void read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			DIE("pipe read: %s", n ? strerror(errno) : "peer gone");
		p += n;
		len -= (size_t)n;
	}
}

static void scale_child(int rfd, int wfd, size_t k, size_t n)
{
	struct epair p;
	memset(&p, 0, sizeof(p));
	read_full(rfd, p.bound, sizeof(p.bound));
	tofu_options so;
	tofu_options_init(&so);
	so.pool_initial = 1024;
	so.pool_max = g_pool_max;
	so.max_outbound_bytes = 256 * 1024;
	if (tofu_engine_create(&so, &p.se) || tofu_group_create(p.se, &p.sg))
		DIE("child engine");
	p.cc = calloc(k, sizeof(*p.cc));
	malloc_trim(0);
	long rss0 = rss_kib();
	const size_t batch = 500;
	for (size_t done = 0; done < k;) {
		size_t nb = k - done < batch ? k - done : batch, acked = 0;
		for (size_t i = 0; i < nb; i++) {
			tofu_msg *m = NULL;
			tofu_header ph;
			tofu_get(p.se, TOFU_GET_ALWAYS, &m);
			tofu_msg_prepare_hello(m, p.bound);
			int rc = tofu_post(p.sg, &m, &ph);
			if (rc)
				DIE("post hello: %s", tofu_status_name(rc));
			p.cc[done + i] = ph.channel_number;
		}
		while (acked < nb) {
			tofu_msg *m = wait_msg(p.sg, 30000);
			if (!m)
				DIE("child: hello timeout (%zu/%zu acked)", acked, nb);
			if (tofu_msg_opcode(m) != TOFU_OP_HELLO_RESPONSE || tofu_msg_status(m))
				DIE("child: opcode %d status %s", tofu_msg_opcode(m),
				    tofu_status_name(tofu_msg_status(m)));
			tofu_put(p.se, &m);
			acked++;
		}
		done += nb;
	}
	p.k = k;
	malloc_trim(0);
	struct child_report rep = {.kib = (double)(rss_kib() - rss0) / (double)k, .ok = 1};
	char go;
	write_all(wfd, &rep, sizeof(rep)); /* connected */
	uint8_t body[64];
	memset(body, 'x', sizeof(body));
	size_t per = (n + k - 1) / k;
	for (int mode = 0; mode < 2; mode++) {
		read_full(rfd, &go, 1);
		uint64_t c0 = cpu_ns();
		/* Round-robin: one message per channel in turn (no two frames
		 * of a channel can share a write). Bursts: each channel's
		 * share in a row, as at 1 connection. */
		for (size_t i = 0; i < n; i++)
			eng_send(&p, mode ? (i / per) % k : i % k, 64, body);
		read_full(rfd, &go, 1); /* all received */
		rep.cpu_ns = cpu_ns() - c0;
		write_all(wfd, &rep, sizeof(rep));
	}
	tofu_group_destroy(p.sg);
	tofu_engine_destroy(p.se);
	free(p.cc);
}

static struct scale_res eng_scale(size_t k, size_t n)
{
	struct scale_res r;
	int p2c[2], c2p[2];
	if (pipe(p2c) || pipe(c2p))
		DIE("pipe");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		DIE("fork");
	if (pid == 0) {
		close(p2c[1]);
		close(c2p[0]);
		scale_child(p2c[0], c2p[1], k, n);
		_exit(0);
	}
	close(p2c[0]);
	close(c2p[1]);
	struct epair p;
	eng_open(&p, T_TCP, 1);
	malloc_trim(0);
	long rss0 = rss_kib();
	uint64_t t0 = now_ns();
	write_all(p2c[1], p.bound, sizeof(p.bound));
	size_t answered = 0;
	uint64_t deadline = now_ns() + 120 * 1000000000ull;
	while (answered < k) {
		if (now_ns() > deadline)
			DIE("scale %zu: only %zu hellos", k, answered);
		tofu_msg *m = wait_msg(p.rg, 1000);
		if (!m)
			continue;
		if (tofu_msg_opcode(m) != TOFU_OP_HELLO_REQUEST)
			DIE("server got opcode %d status %d", tofu_msg_opcode(m),
			    tofu_msg_status(m));
		tofu_msg_set_opcode(m, TOFU_OP_HELLO_RESPONSE);
		if (tofu_post(p.rg, &m, NULL))
			DIE("post hello response");
		answered++;
	}
	struct child_report rep;
	read_full(c2p[0], &rep, sizeof(rep));
	r.connect_s = (double)(now_ns() - t0) / 1e9;
	malloc_trim(0);
	r.rx_kib = (double)(rss_kib() - rss0) / (double)k;
	r.tx_kib = rep.kib;

	for (int mode = 0; mode < 2; mode++) {
		struct eng_rx rx = {.p = &p, .n = n, .size = 64};
		uint64_t c0 = cpu_ns();
		t0 = now_ns();
		write_all(p2c[1], "g", 1);
		eng_rx_main(&rx);
		uint64_t c1 = cpu_ns();
		write_all(p2c[1], "d", 1);
		read_full(c2p[0], &rep, sizeof(rep));
		r.t[mode] = mk_tput(n, 64, t0, rx.t_end, c0, c1);
		r.t[mode].cpu_ns += (double)rep.cpu_ns / (double)n;
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		DIE("scale child failed");
	close(p2c[1]);
	close(c2p[0]);
	eng_close(&p);
	return r;
}

/* ------------------------------------------------------------------ */
/* Driver                                                              */
/* ------------------------------------------------------------------ */

static int want(const char *what)
{
	return !*g_only || strstr(g_only, what);
}

static void best_tput(struct tput *b, struct tput r)
{
	if (r.mps > b->mps)
		*b = r;
}

static void best_lat(struct lat *b, struct lat r)
{
	if (b->p50 == 0 || r.p50 < b->p50)
		*b = r;
}

static void raise_nofile(rlim_t n)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < n) {
		rl.rlim_cur = n < rl.rlim_max ? n : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

enum { I_RAW1, I_RAWB, I_ZMQ, I_ENG, N_IMPL };
static const char *const iname[] = {"raw1", "rawB", "zmq", "engine"};

int main(void)
{
	const char *s = getenv("BENCH_SCALE");
	if (s && atof(s) > 0)
		g_scale = atof(s);
	s = getenv("BENCH_ROUNDS");
	if (s && atoi(s) > 0)
		g_rounds = atoi(s);
	s = getenv("BENCH_POOL_MAX");
	if (s && atoi(s) > 0)
		g_pool_max = (uint32_t)atoi(s);
	s = getenv("BENCH_ONLY");
	if (s)
		g_only = s;
	size_t conns[8] = {1, 100, 1000, 10000}, nconns = 4;
	s = getenv("BENCH_CONNS");
	if (s && *s) {
		nconns = 0;
		for (char *q = (char *)s; *q && nconns < 8;) {
			conns[nconns++] = strtoul(q, &q, 10);
			while (*q == ',')
				q++;
		}
	}
	size_t n_tput = (size_t)(1e6 * g_scale), n_lat = (size_t)(1e5 * g_scale);
	if (n_tput < 1000)
		n_tput = 1000;
	if (n_lat < 1000)
		n_lat = 1000;
	raise_nofile(65536);
	uint64_t *rtt = malloc(n_lat * sizeof(*rtt));

	static const size_t sizes[2] = {64, 1024};
	int zmaj, zmin, zpat;
	zmq_version(&zmaj, &zmin, &zpat);
	printf("engine_bench: %zu messages per throughput run, %zu round trips per latency run, "
	       "best of %d interleaved rounds; libzmq %d.%d.%d; engine pool_max %u, "
	       "max_outbound_bytes 256 KiB\n",
	       n_tput, n_lat, g_rounds, zmaj, zmin, zpat, g_pool_max);
	fflush(stdout);

	/* Throughput [transport][size][impl], latency [transport][impl]. */
	struct tput tp[2][2][N_IMPL];
	struct lat lt[2][N_IMPL];
	struct scale_res sc[8];
	memset(tp, 0, sizeof(tp));
	memset(lt, 0, sizeof(lt));
	memset(sc, 0, sizeof(sc));

	int base = getenv("BENCH_ENGINE_ONLY") == NULL;
	for (int round = 0; round < g_rounds; round++) {
		for (int t = 0; t < 2 && want("tput"); t++)
			for (int z = 0; z < 2; z++) {
				if (base)
					best_tput(&tp[t][z][I_RAW1],
						  raw_tput(t, sizes[z], n_tput, 0));
				best_tput(&tp[t][z][I_ENG], eng_tput(t, sizes[z], n_tput));
				if (base) {
					best_tput(&tp[t][z][I_RAWB],
						  raw_tput(t, sizes[z], n_tput, 1));
					best_tput(&tp[t][z][I_ZMQ], zmq_tput(t, sizes[z], n_tput));
				}
			}
		for (int t = 0; t < 2 && want("lat"); t++) {
			if (base)
				best_lat(&lt[t][I_RAW1], raw_lat(t, 64, n_lat, rtt));
			best_lat(&lt[t][I_ENG], eng_lat(t, 64, n_lat, rtt));
			if (base)
				best_lat(&lt[t][I_ZMQ], zmq_lat(t, 64, n_lat, rtt));
		}
		for (size_t i = 0; i < nconns && want("scale"); i++) {
			struct scale_res r = eng_scale(conns[i], n_tput);
			/* Best round per mode: highest rate; lowest CPU cost. */
			for (int mo = 0; mo < 2; mo++) {
				if (r.t[mo].mps > sc[i].t[mo].mps)
					sc[i].t[mo].mps = r.t[mo].mps;
				if (round == 0 || r.t[mo].cpu_ns < sc[i].t[mo].cpu_ns)
					sc[i].t[mo].cpu_ns = r.t[mo].cpu_ns;
			}
			/* Memory: the smallest delta seen (least allocator noise). */
			if (round == 0 || r.rx_kib < sc[i].rx_kib)
				sc[i].rx_kib = r.rx_kib;
			if (round == 0 || r.tx_kib < sc[i].tx_kib)
				sc[i].tx_kib = r.tx_kib;
			if (sc[i].connect_s == 0 || r.connect_s < sc[i].connect_s)
				sc[i].connect_s = r.connect_s;
		}
		fprintf(stderr, "engine_bench: round %d/%d done\n", round + 1, g_rounds);
	}

	if (want("tput")) {
		printf("\nThroughput, one sender -> one receiver (MB/s counts 16-byte header + "
		       "body)\n");
		printf("| transport | body | impl | msg/s | MB/s | CPU ns/msg |\n");
		printf("|---|---|---|---:|---:|---:|\n");
		for (int t = 0; t < 2; t++)
			for (int z = 0; z < 2; z++)
				for (int i = 0; i < N_IMPL; i++)
					printf("| %s | %zu | %s | %.0f | %.1f | %.0f |\n", tname[t],
					       sizes[z], iname[i], tp[t][z][i].mps,
					       tp[t][z][i].mbps, tp[t][z][i].cpu_ns);
		printf("\nThroughput ratios (engine / baseline, > 1 = engine faster)\n");
		printf("| transport | body | engine/raw1 | engine/rawB | engine/zmq |\n");
		printf("|---|---|---:|---:|---:|\n");
		for (int t = 0; t < 2; t++)
			for (int z = 0; z < 2; z++)
				printf("| %s | %zu | %.2f | %.2f | %.2f |\n", tname[t], sizes[z],
				       tp[t][z][I_ENG].mps / tp[t][z][I_RAW1].mps,
				       tp[t][z][I_ENG].mps / tp[t][z][I_RAWB].mps,
				       tp[t][z][I_ENG].mps / tp[t][z][I_ZMQ].mps);
		printf("(engine posts refused with not_allowed and retried: %zu)\n", g_busy);
	}
	if (want("lat")) {
		printf("\nLatency, 64-B request/response ping-pong, round trip in microseconds\n");
		printf("| transport | impl | p50 | p99 | p99.9 |\n");
		printf("|---|---|---:|---:|---:|\n");
		static const int li[3] = {I_RAW1, I_ZMQ, I_ENG};
		for (int t = 0; t < 2; t++)
			for (int j = 0; j < 3; j++)
				printf("| %s | %s | %.1f | %.1f | %.1f |\n", tname[t],
				       li[j] == I_RAW1	? "raw blocking"
				       : li[j] == I_ZMQ ? "zmq REQ/REP"
							: "engine",
				       lt[t][li[j]].p50, lt[t][li[j]].p99, lt[t][li[j]].p999);
		printf("\nLatency ratios (engine / baseline p50, < 1 = engine faster)\n");
		printf("| transport | engine/raw p50 | engine/zmq p50 |\n|---|---:|---:|\n");
		for (int t = 0; t < 2; t++)
			printf("| %s | %.2f | %.2f |\n", tname[t],
			       lt[t][I_ENG].p50 / lt[t][I_RAW1].p50,
			       lt[t][I_ENG].p50 / lt[t][I_ZMQ].p50);
	}
	if (want("scale")) {
		printf("\nScale: 64-B TCP throughput spread over k connections (receiving engine "
		       "here, sending engine in a child process). rr = round-robin, one message "
		       "per channel in turn; burst = each channel's share in a row. CPU = both "
		       "processes, lowest of the rounds.\n");
		printf("| connections | rr msg/s | rr CPU ns/msg | rr vs 1 conn | burst msg/s | "
		       "burst CPU ns/msg | burst vs 1 conn | RSS KiB/idle conn, receiving engine "
		       "| sending engine | connect s |\n");
		printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		for (size_t i = 0; i < nconns; i++)
			printf(
			    "| %zu | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f "
			    "|\n",
			    conns[i], sc[i].t[0].mps, sc[i].t[0].cpu_ns,
			    sc[i].t[0].cpu_ns / sc[0].t[0].cpu_ns, sc[i].t[1].mps,
			    sc[i].t[1].cpu_ns, sc[i].t[1].cpu_ns / sc[0].t[1].cpu_ns, sc[i].rx_kib,
			    sc[i].tx_kib, sc[i].connect_s);
	}
	free(rtt);
	return 0;
}
