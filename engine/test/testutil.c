/*
 * engine/test/testutil.c - see testutil.h.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

const char *const tu_listen_values[] = {"tcp|127.0.0.1|0", "uds|", "uds|@"};

tofu_engine *tu_engine(const tofu_options *o)
{
	tofu_engine *e = NULL;
	assert_int_equal(tofu_engine_create(o, &e), 0);
	assert_non_null(e);
	return e;
}

void tu_pool_fill(tofu_engine *e, unsigned n)
{
	tofu_msg **held = calloc(n, sizeof *held);
	assert_non_null(held);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &held[i]), 0);
	for (unsigned i = 0; i < n; i++)
		tofu_put(e, &held[i]);
	free(held);
}

tofu_msg *tu_recv_within(tofu_group *g, unsigned ms)
{
	tofu_msg *m = NULL;
	assert_int_equal(tofu_wait_receive(g, (uint64_t)ms * 1000000u, &m), 0);
	return m;
}

tofu_msg *tu_recv(tofu_group *g)
{
	tofu_msg *m = tu_recv_within(g, TU_TIMEOUT_MS);
	if (!m)
		fail_msg("no message within %d ms", TU_TIMEOUT_MS);
	return m;
}

uint64_t tu_last_welcome_id;

uint16_t tu_listen(tofu_engine *e, tofu_group *g, const char *value, char *bound, size_t cap)
{
	tofu_msg *m = NULL;
	tofu_header ph;
	char v[160];
	/* "uds|@" alone: give the abstract name a unique suffix. */
	if (strcmp(value, "uds|@") == 0) {
		static int n;
		snprintf(v, sizeof(v), "uds|@tofu-test-%d-%d", (int)getpid(), n++);
		value = v;
	}
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	assert_int_equal(tofu_msg_prepare_welcome(m, value), 0);
	assert_int_equal(tofu_post(g, &m, &ph), 0);
	assert_null(m);
	assert_int_not_equal(ph.channel_number, 0);
	m = tu_recv(g);
	assert_int_equal(tofu_msg_opcode(m), TOFU_OP_WELCOME_RESPONSE);
	assert_int_equal(tofu_msg_status(m), 0);
	assert_int_equal(tofu_msg_origin(m), 0);
	assert_int_equal(tofu_msg_channel(m), ph.channel_number);
	assert_int_equal(tofu_msg_id(m), ph.message_id);
	tu_last_welcome_id = ph.message_id;
	const char *b;
	size_t blen;
	assert_true(tofu_msg_find_header(m, TOFU_HEADER_BOUND_TO, &b, &blen));
	assert_true(blen < cap);
	memcpy(bound, b, blen);
	bound[blen] = 0;
	tofu_put(e, &m);
	return ph.channel_number;
}

uint16_t tu_hello(tofu_engine *e, tofu_group *g, const char *value, uint64_t *id)
{
	tofu_msg *m = NULL;
	tofu_header ph;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	assert_int_equal(tofu_msg_prepare_hello(m, value), 0);
	assert_int_equal(tofu_post(g, &m, &ph), 0);
	assert_int_not_equal(ph.channel_number, 0);
	assert_int_not_equal(ph.channel_number, 65535);
	if (id)
		*id = ph.message_id;
	return ph.channel_number;
}

void tu_post(tofu_engine *e, tofu_group *g, uint16_t cn, int opcode, uint64_t id, const char *body)
{
	tofu_msg *m = NULL;
	assert_int_equal(tofu_get(e, TOFU_GET_ALWAYS, &m), 0);
	tofu_msg_set_opcode(m, opcode);
	tofu_msg_set_channel(m, cn);
	tofu_msg_set_id(m, id);
	if (body)
		assert_int_equal(tofu_msg_set_body(m, body, strlen(body)), 0);
	assert_int_equal(tofu_post(g, &m, NULL), 0);
}

void tu_check_closed(tofu_engine *e, tofu_msg **m, uint16_t cn, uint64_t id, int reason)
{
	assert_int_equal(tofu_msg_opcode(*m), TOFU_OP_SIGNAL);
	assert_int_equal(tofu_msg_origin(*m), 1);
	assert_int_equal(tofu_msg_status(*m), TOFU_STATUS_CHANNEL_CLOSED);
	assert_int_equal(tofu_msg_channel(*m), cn);
	assert_int_equal(tofu_msg_id(*m), id);
	const char *v;
	size_t vl;
	assert_true(tofu_msg_find_header(*m, TOFU_HEADER_CLOSE_REASON, &v, &vl));
	const char *want = tofu_status_name(reason);
	if (vl != strlen(want) || memcmp(v, want, vl) != 0)
		fail_msg("close reason '%.*s', expected '%s'", (int)vl, v, want);
	tofu_put(e, m);
}

int tu_wait_closed(tofu_engine *e, tofu_group *g, uint16_t cn, int reason)
{
	int others = 0;
	for (int i = 0; i < 100000; i++) {
		tofu_msg *m = tu_recv(g);
		if (tofu_msg_opcode(m) == TOFU_OP_SIGNAL && tofu_msg_origin(m) &&
		    tofu_msg_status(m) == TOFU_STATUS_CHANNEL_CLOSED && tofu_msg_channel(m) == cn) {
			const char *v;
			size_t vl;
			assert_true(tofu_msg_find_header(m, TOFU_HEADER_CLOSE_REASON, &v, &vl));
			const char *want = tofu_status_name(reason);
			if (vl != strlen(want) || memcmp(v, want, vl) != 0)
				fail_msg("channel %u close reason '%.*s', expected '%s'", cn,
					 (int)vl, v, want);
			tofu_put(e, &m);
			return others;
		}
		others++;
		tofu_put(e, &m);
	}
	fail_msg("no close signal");
	return -1;
}

int tu_raw_connect(const char *bound)
{
	if (strncmp(bound, "tcp|", 4) == 0) {
		const char *h = bound + 4;
		const char *bar = strchr(h, '|');
		assert_non_null(bar);
		char host[64];
		assert_true((size_t)(bar - h) < sizeof(host));
		memcpy(host, h, (size_t)(bar - h));
		host[bar - h] = 0;
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons((uint16_t)atoi(bar + 1))};
		assert_int_equal(inet_pton(AF_INET, host, &sa.sin_addr), 1);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fd >= 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(fd);
			return -1;
		}
		return fd;
	}
	assert_true(strncmp(bound, "uds|", 4) == 0);
	const char *p = bound + 4;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t sl = sizeof(sa);
	size_t len = strlen(p);
	assert_true(len < sizeof(sa.sun_path));
	if (p[0] == '@') {
		memcpy(sa.sun_path + 1, p + 1, len - 1);
		sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		memcpy(sa.sun_path, p, len);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sl)) {
		close(fd);
		return -1;
	}
	return fd;
}

int tu_raw_listen(int uds, char *value, size_t cap)
{
	if (!uds) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fd >= 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(listen(fd, 16), 0);
		socklen_t sl = sizeof(sa);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
		snprintf(value, cap, "tcp|127.0.0.1|%u", ntohs(sa.sin_port));
		return fd;
	}
	static int n;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/tofu-raw-%d-%d.sock", (int)getpid(), n++);
	unlink(sa.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	snprintf(value, cap, "uds|%s", sa.sun_path);
	return fd;
}

int tu_raw_accept(int lfd)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, TU_TIMEOUT_MS), 1);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

void tu_raw_write(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		p += w;
		len -= (size_t)w;
	}
}

void tu_raw_frame(int fd, uint16_t cn, uint8_t proto, uint8_t status, uint64_t id, const char *th,
		  const char *body)
{
	tofu_header h = {.channel_number = cn, .proto = proto, .status = status, .message_id = id};
	size_t tl = th ? strlen(th) : 0, bl = body ? strlen(body) : 0;
	h.text_headers_len = (uint16_t)tl;
	h.body_len = (uint16_t)bl;
	uint8_t buf[16 + 512];
	assert_true(tl + bl <= 512);
	tofu_header_encode(&h, buf);
	if (tl)
		memcpy(buf + 16, th, tl);
	if (bl)
		memcpy(buf + 16 + tl, body, bl);
	tu_raw_write(fd, buf, 16 + tl + bl);
}

/* Reads exactly len bytes; 1, 0 on EOF, -1 on error/timeout. */
static int read_exact(int fd, uint8_t *buf, size_t len)
{
	while (len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, TU_TIMEOUT_MS) != 1)
			return -1;
		ssize_t n = recv(fd, buf, len, 0);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 1;
}

int tu_raw_read_frame(int fd, tofu_header *h, uint8_t *buf, size_t cap)
{
	uint8_t hb[16];
	int r = read_exact(fd, hb, 16);
	if (r != 1)
		return r;
	tofu_header_decode(hb, 16, h);
	size_t n = (size_t)h->text_headers_len + h->body_len;
	uint8_t *tmp = malloc(n + 1);
	assert_non_null(tmp);
	r = n ? read_exact(fd, tmp, n) : 1;
	if (r == 1 && buf)
		memcpy(buf, tmp, n < cap ? n : cap);
	free(tmp);
	return r == 1 ? 1 : -1;
}

int tu_raw_wait_eof(int fd, unsigned ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, (int)ms) != 1)
		return -1;
	char b[256];
	ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
	if (n == 0)
		return 1;
	if (n < 0)
		return errno == ECONNRESET ? -2 : -1;
	return 0;
}

int tu_raise_nofile(unsigned n)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur >= n)
		return 1;
	if (rl.rlim_max < n)
		return 0;
	rl.rlim_cur = n;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}
