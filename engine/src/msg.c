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
	tofu_msg *m = calloc(1, sizeof(*m));
	return m;
}

void tofu__msg_free(tofu_msg *m)
{
	if (!m)
		return;
	free(m->th);
	free(m->body);
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

static int grow(uint8_t **buf, uint32_t *cap, size_t len)
{
	if (len <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 64;
	while (ncap < len)
		ncap *= 2;
	if (ncap > 65535)
		ncap = 65535;
	uint8_t *n = realloc(*buf, ncap);
	if (!n)
		return -1;
	*buf = n;
	*cap = (uint32_t)ncap;
	return 0;
}

int tofu__msg_th_reserve(tofu_msg *m, size_t len)
{
	return grow(&m->th, &m->th_cap, len);
}

int tofu__msg_body_reserve(tofu_msg *m, size_t len)
{
	return grow(&m->body, &m->body_cap, len);
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
 * reactor when it waits for messages and the pool was empty. */
void tofu__pool_put_list(tofu_engine *e, struct msgq *q)
{
	tofu_msg *m, *extra = NULL;
	int was_empty;
	pthread_mutex_lock(&e->pool_mu);
	was_empty = e->pool == NULL;
	while ((m = tofu__q_pop(q))) {
		if (!e->pool_closed && e->pool_n < e->opt.pool_max) {
			m->next = e->pool;
			e->pool = m;
			e->pool_n++;
		} else {
			m->next = extra;
			extra = m;
		}
	}
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
	struct msgq q = {0};
	tofu__q_push(&q, *msg);
	*msg = NULL;
	if (!e) {
		tofu__msg_free(q.head);
		return;
	}
	tofu__pool_put_list(e, &q);
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
	size_t need = (size_t)m->th_len + name_len + value_len + 3;
	if (need > TOFU_MAX_TEXT_HEADERS_LEN)
		return TOFU_STATUS_INVALID_HEADERS_LEN;
	if (tofu__msg_th_reserve(m, need))
		return TOFU_STATUS_ALLOCATION_FAILED;
	tofu_th_writer w;
	tofu_th_writer_init(&w, m->th, m->th_cap);
	w.len = m->th_len;
	int r = tofu_th_append(&w, name, name_len, value, value_len);
	if (r < 0)
		return r == TOFU_E_NO_SPACE ? TOFU_STATUS_INVALID_HEADERS_LEN
					    : TOFU_STATUS_INVALID_MESSAGE;
	m->th_len = (uint32_t)w.len;
	return 0;
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
	if (tofu__msg_th_reserve(m, len))
		return TOFU_STATUS_ALLOCATION_FAILED;
	if (len)
		memmove(m->th, raw, len);
	m->th_len = (uint32_t)len;
	return 0;
}

const uint8_t *tofu_msg_headers(const tofu_msg *m, size_t *len)
{
	static const uint8_t empty[1];
	if (len)
		*len = m->th_len;
	return m->th ? m->th : empty;
}

int tofu_msg_find_header(const tofu_msg *m, const char *name, const char **value, size_t *value_len)
{
	tofu_th_field f;
	if (!m->th_len || !name)
		return 0;
	if (!tofu_th_find(m->th, m->th_len, name, strlen(name), &f))
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
	if (tofu__msg_body_reserve(m, len))
		return TOFU_STATUS_ALLOCATION_FAILED;
	if (len)
		memmove(m->body, data, len);
	m->body_len = (uint32_t)len;
	return 0;
}

uint8_t *tofu_msg_body_reserve(tofu_msg *m, size_t len)
{
	if (len > TOFU_MAX_BODY_LEN || tofu__msg_body_reserve(m, len ? len : 1))
		return NULL;
	m->body_len = (uint32_t)len;
	return m->body;
}

const uint8_t *tofu_msg_body(const tofu_msg *m, size_t *len)
{
	static const uint8_t empty[1];
	if (len)
		*len = m->body_len;
	return m->body ? m->body : empty;
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
