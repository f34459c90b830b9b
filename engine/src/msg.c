/*
 * engine/src/msg.c - tofu_msg storage, accessors and the message pool.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Process-wide message-id counter shared by all engines, first id 1, as
 * Zig's next_mid (reference section 8). */
static atomic_uint_fast64_t next_mid = 1;

uint64_t tofu__next_message_id(void)
{
	return atomic_fetch_add_explicit(&next_mid, 1, memory_order_relaxed);
}

static void header_default(tofu_header *h, int opcode)
{
	memset(h, 0, sizeof(*h));
	/* Zig's ProtoFields.default sets internal_a only for ByeSignal; the
	 * API offers that form through tofu_msg_set_abort instead. */
	h->proto = tofu_proto_make((unsigned)opcode, 0, 0, 0, 0);
}

tofu_msg *tofu__msg_new(void)
{
	/* No calloc: the inline buffer needs no zeroing (only written bytes
	 * are ever read or sent). */
	tofu_msg *m = malloc(sizeof(*m));
	if (!m)
		return NULL;
	m->buf = m->inl;
	m->cap = TOFU__MSG_INLINE;
	tofu_msg_reset(m);
	return m;
}

void tofu__msg_free(tofu_msg *m)
{
	if (!m)
		return;
	if (m->buf != m->inl)
		free(m->buf);
	free(m);
}

void tofu_msg_reset(tofu_msg *m)
{
	header_default(&m->h, TOFU_OP_REQUEST);
	m->th_len = 0;
	m->body_len = 0;
	m->next = NULL;
	m->group = NULL;
	m->gen = 0;
	m->frame_len = 0;
}

/* Largest text headers + body a message can hold. */
#define MAX_PAYLOAD ((size_t)TOFU_MAX_TEXT_HEADERS_LEN + TOFU_MAX_BODY_LEN)

int tofu__msg_reserve(tofu_msg *m, size_t len)
{
	if (len <= m->cap)
		return 0;
	if (len > MAX_PAYLOAD)
		return -1;
	size_t ncap = (size_t)m->cap * 2;
	if (ncap < len)
		ncap = len;
	if (ncap > MAX_PAYLOAD)
		ncap = MAX_PAYLOAD;
	uint8_t *n;
	if (m->buf == m->inl) {
		n = malloc(TOFU_HEADER_SIZE + ncap);
		if (!n)
			return -1;
		memcpy(n, m->buf, TOFU_HEADER_SIZE + (size_t)m->th_len + m->body_len);
	} else {
		n = realloc(m->buf, TOFU_HEADER_SIZE + ncap);
		if (!n)
			return -1;
	}
	m->buf = n;
	m->cap = (uint32_t)ncap;
	return 0;
}

/* Whether [p, p + n) lies in m's own buffer: such a source moves when the
 * buffer grows or the body shifts, so it is copied first. */
static int aliases(const tofu_msg *m, const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, lo = (uintptr_t)m->buf;
	uintptr_t hi = lo + TOFU_HEADER_SIZE + m->cap;
	return n && a < hi && a + n > lo;
}

/* Copies of the caller's bytes that alias the message (rare: e.g. a header
 * value found in the same message). */
static int unalias(const tofu_msg *m, const void **p, size_t n, void **tmp)
{
	*tmp = NULL;
	if (!aliases(m, *p, n))
		return 0;
	*tmp = malloc(n);
	if (!*tmp)
		return -1;
	memcpy(*tmp, *p, n);
	*p = *tmp;
	return 0;
}

/* Makes the text-header block th bytes long, moving the body behind it.
 * New header bytes are undefined. */
static int resize_th(tofu_msg *m, size_t th)
{
	if (tofu__msg_reserve(m, th + m->body_len))
		return -1;
	if (th != m->th_len && m->body_len)
		memmove(tofu__th(m) + th, tofu__body(m), m->body_len);
	m->th_len = (uint32_t)th;
	return 0;
}

/* ---------------------------------------------------------------- pool */

/* Moves up to `max` pooled messages to q under one lock (the reactor's
 * private cache); they are reset when taken from the cache. Returns how
 * many were moved; 0 means the pool is empty. */
uint32_t tofu__pool_take(tofu_engine *e, struct msgq *q, uint32_t max)
{
	uint32_t n = 0;
	pthread_mutex_lock(&e->pool_mu);
	while (n < max && e->pool) {
		tofu_msg *m = e->pool;
		e->pool = m->next;
		e->pool_n--;
		tofu__q_push(q, m);
		n++;
	}
	pthread_mutex_unlock(&e->pool_mu);
	return n;
}

int tofu_get(tofu_engine *e, int strategy, tofu_msg **out)
{
	if (!out)
		return TOFU_STATUS_NULL_MESSAGE;
	*out = NULL;
	if (!e)
		return TOFU_STATUS_NOT_ALLOWED;
	pthread_mutex_lock(&e->pool_mu);
	if (e->pool_closed) {
		pthread_mutex_unlock(&e->pool_mu);
		return TOFU_STATUS_NOT_ALLOWED;
	}
	tofu_msg *m = e->pool;
	if (m) {
		e->pool = m->next;
		e->pool_n--;
		atomic_fetch_add_explicit(&e->pool_gets, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&e->pool_mu);
	if (!m) {
		if (strategy != TOFU_GET_ALWAYS)
			return 0;
		m = tofu__msg_new();
		if (!m)
			return TOFU_STATUS_ALLOCATION_FAILED;
	}
	tofu_msg_reset(m);
	*out = m;
	return 0;
}

/* Puts a whole list back (one lock); frees what does not fit. Wakes the
 * reactor when it waits for messages and the pool was empty. When the whole
 * list fits it is spliced in without walking it: under load the reactor
 * returns thousands of sent messages at once, long out of the cache, and a
 * walk under pool_mu would also hold up every tofu_get. */
void tofu__pool_put_list(tofu_engine *e, struct msgq *q)
{
	tofu_msg *m, *extra = NULL;
	pthread_mutex_lock(&e->pool_mu);
	int was_empty = e->pool == NULL;
	size_t room = 0;
	if (!e->pool_closed && e->pool_n < e->opt.pool_max)
		room = e->opt.pool_max - e->pool_n;
	if (q->head && q->n <= room) {
		q->tail->next = e->pool;
		e->pool = q->head;
		e->pool_n += (uint32_t)q->n;
	} else {
		for (; room && (m = tofu__q_pop(q)); room--) {
			m->next = e->pool;
			e->pool = m;
			e->pool_n++;
		}
		extra = q->head;
	}
	q->head = q->tail = NULL;
	q->n = 0;
	int now_nonempty = e->pool != NULL;
	pthread_mutex_unlock(&e->pool_mu);
	while (extra) {
		m = extra->next;
		tofu__msg_free(extra);
		extra = m;
	}
	if (was_empty && now_nonempty && atomic_load(&e->starved))
		tofu__wake(e);
}

void tofu_put(tofu_engine *e, tofu_msg **msg)
{
	if (!msg || !*msg)
		return;
	tofu_msg *m = *msg;
	*msg = NULL;
	if (!e) {
		tofu__msg_free(m);
		return;
	}
	/* One message: tofu__pool_put_list's rules without its list work
	 * (called once per received message by the application). */
	pthread_mutex_lock(&e->pool_mu);
	if (e->pool_closed || e->pool_n >= e->opt.pool_max) {
		pthread_mutex_unlock(&e->pool_mu);
		tofu__msg_free(m);
		return;
	}
	int was_empty = e->pool == NULL;
	m->next = e->pool;
	e->pool = m;
	e->pool_n++;
	pthread_mutex_unlock(&e->pool_mu);
	if (was_empty && atomic_load(&e->starved))
		tofu__wake(e);
}

/* ----------------------------------------------------------- accessors */

tofu_header *tofu_msg_header(tofu_msg *m)
{
	return &m->h;
}

const tofu_header *tofu_msg_header_const(const tofu_msg *m)
{
	return &m->h;
}

int tofu_msg_opcode(const tofu_msg *m)
{
	return (int)tofu_proto_opcode(m->h.proto);
}

void tofu_msg_set_opcode(tofu_msg *m, int opcode)
{
	m->h.proto = (uint8_t)((m->h.proto & ~TOFU_PROTO_OPCODE_MASK) |
			       ((unsigned)opcode & TOFU_PROTO_OPCODE_MASK));
}

int tofu_msg_status(const tofu_msg *m)
{
	return m->h.status;
}

int tofu_msg_origin(const tofu_msg *m)
{
	return (int)tofu_proto_origin(m->h.proto);
}

int tofu_msg_more(const tofu_msg *m)
{
	return (int)tofu_proto_more(m->h.proto);
}

void tofu_msg_set_more(tofu_msg *m, int more)
{
	if (more)
		m->h.proto |= TOFU_PROTO_MORE_MASK;
	else
		m->h.proto &= (uint8_t)~TOFU_PROTO_MORE_MASK;
}

int tofu_msg_oob(const tofu_msg *m)
{
	return (int)tofu_proto_internal_a(m->h.proto);
}

void tofu_msg_set_oob(tofu_msg *m, int oob)
{
	if (oob)
		m->h.proto |= TOFU_PROTO_INTERNAL_A_MASK;
	else
		m->h.proto &= (uint8_t)~TOFU_PROTO_INTERNAL_A_MASK;
}

uint16_t tofu_msg_channel(const tofu_msg *m)
{
	return m->h.channel_number;
}

void tofu_msg_set_channel(tofu_msg *m, uint16_t channel_number)
{
	m->h.channel_number = channel_number;
}

uint64_t tofu_msg_id(const tofu_msg *m)
{
	return m->h.message_id;
}

void tofu_msg_set_id(tofu_msg *m, uint64_t message_id)
{
	m->h.message_id = message_id;
}

void tofu_msg_set_abort(tofu_msg *m, uint16_t channel_number)
{
	m->h.proto = tofu_proto_make(TOFU_OP_BYE_SIGNAL, 0, 0, 1, 0);
	m->h.channel_number = channel_number;
}

int tofu_msg_add_header_n(tofu_msg *m, const void *name, size_t name_len, const void *value,
			  size_t value_len)
{
	/* name ':' value CRLF; the serialiser refuses what it cannot write. */
	size_t old = m->th_len;
	size_t need = old + name_len + value_len + 3;
	if (need > TOFU_MAX_TEXT_HEADERS_LEN)
		return TOFU_STATUS_INVALID_HEADERS_LEN;
	void *tn, *tv;
	if (unalias(m, &name, name_len, &tn))
		return TOFU_STATUS_ALLOCATION_FAILED;
	if (unalias(m, &value, value_len, &tv)) {
		free(tn);
		return TOFU_STATUS_ALLOCATION_FAILED;
	}
	int rc = 0;
	if (resize_th(m, need)) {
		rc = TOFU_STATUS_ALLOCATION_FAILED;
		goto out;
	}
	tofu_th_writer w;
	tofu_th_writer_init(&w, tofu__th(m), need);
	w.len = old;
	int r = tofu_th_append(&w, name, name_len, value, value_len);
	/* Refused: the body goes back where it was, nothing changed. */
	resize_th(m, r < 0 ? old : w.len);
	if (r < 0)
		rc = r == TOFU_E_NO_SPACE ? TOFU_STATUS_INVALID_HEADERS_LEN
					  : TOFU_STATUS_INVALID_MESSAGE;
out:
	if (tn)
		free(tn);
	if (tv)
		free(tv);
	return rc;
}

int tofu_msg_add_header(tofu_msg *m, const char *name, const char *value)
{
	if (!name || !value)
		return TOFU_STATUS_INVALID_MESSAGE;
	return tofu_msg_add_header_n(m, name, strlen(name), value, strlen(value));
}

int tofu_msg_set_headers(tofu_msg *m, const void *raw, size_t len)
{
	if (len > TOFU_MAX_TEXT_HEADERS_LEN)
		return TOFU_STATUS_INVALID_HEADERS_LEN;
	if (len && !raw)
		return TOFU_STATUS_INVALID_MESSAGE;
	void *tmp = NULL;
	if (len != m->th_len && unalias(m, &raw, len, &tmp))
		return TOFU_STATUS_ALLOCATION_FAILED;
	int rc = 0;
	if (resize_th(m, len))
		rc = TOFU_STATUS_ALLOCATION_FAILED;
	else if (len)
		memmove(tofu__th(m), raw, len);
	if (tmp)
		free(tmp);
	return rc;
}

const uint8_t *tofu_msg_headers(const tofu_msg *m, size_t *len)
{
	if (len)
		*len = m->th_len;
	return tofu__th(m);
}

int tofu_msg_find_header(const tofu_msg *m, const char *name, const char **value, size_t *value_len)
{
	tofu_th_field f;
	if (!m->th_len || !name)
		return 0;
	if (!tofu_th_find(tofu__th(m), m->th_len, name, strlen(name), &f))
		return 0;
	if (value)
		*value = (const char *)f.value;
	if (value_len)
		*value_len = f.value_len;
	return 1;
}

int tofu_msg_set_body(tofu_msg *m, const void *data, size_t len)
{
	if (len > TOFU_MAX_BODY_LEN)
		return TOFU_STATUS_INVALID_BODY_LEN;
	if (len && !data)
		return TOFU_STATUS_INVALID_MESSAGE;
	size_t need = (size_t)m->th_len + len;
	if (need > m->cap) {
		/* Growing moves the buffer: a source inside it is copied
		 * first. Otherwise the body stays where it is and memmove
		 * handles any overlap. */
		void *tmp;
		if (unalias(m, &data, len, &tmp))
			return TOFU_STATUS_ALLOCATION_FAILED;
		int bad = tofu__msg_reserve(m, need);
		if (!bad)
			memcpy(tofu__body(m), data, len);
		free(tmp);
		if (bad)
			return TOFU_STATUS_ALLOCATION_FAILED;
	} else if (len) {
		memmove(tofu__body(m), data, len);
	}
	m->body_len = (uint32_t)len;
	return 0;
}

uint8_t *tofu_msg_body_reserve(tofu_msg *m, size_t len)
{
	if (len > TOFU_MAX_BODY_LEN || tofu__msg_reserve(m, (size_t)m->th_len + len))
		return NULL;
	m->body_len = (uint32_t)len;
	return tofu__body(m);
}

const uint8_t *tofu_msg_body(const tofu_msg *m, size_t *len)
{
	if (len)
		*len = m->body_len;
	return tofu__body(m);
}

static int prepare_addr(tofu_msg *m, int opcode, const char *hname, const char *value)
{
	if (!value)
		return TOFU_STATUS_INVALID_MESSAGE;
	header_default(&m->h, opcode);
	return tofu_msg_add_header(m, hname, value);
}

int tofu_msg_prepare_welcome(tofu_msg *m, const char *listen_on)
{
	return prepare_addr(m, TOFU_OP_WELCOME_REQUEST, TOFU_HEADER_LISTEN_ON, listen_on);
}

int tofu_msg_prepare_hello(tofu_msg *m, const char *connect_to)
{
	return prepare_addr(m, TOFU_OP_HELLO_REQUEST, TOFU_HEADER_CONNECT_TO, connect_to);
}
