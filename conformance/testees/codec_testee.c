/*
 * tofu-codec-testee: the C codec behind the conformance suite's codec testee
 * contract (spec/testee.md). Requests and responses are 4-byte big-endian
 * length-prefixed JSON objects on stdin/stdout; byte strings are hex.
 *
 * TOFU_TESTEE_BREAK=<mode> deliberately breaks one behaviour so the suite can
 * prove it notices (make test-conform-teeth):
 *   byteorder     channel_number little-endian in encode/decode/parse
 *   trim-names    the iterator trims SP/HTAB around header names
 *   forge-origin  check_received lets origin = engine through
 *   crlf-inject   the serialiser copies values verbatim (CR LF injection)
 *   lax-address   a 4-part address value is read as its first 3 parts
 *   more-anywhere check_received lets `more` through on hello/bye frames
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "tofu/codec.h"

/* ------------------------------------------------------------------ */
/* A minimal JSON reader: enough for the requests of spec/testee.md     */
/* (objects, arrays, strings without escapes, unsigned numbers, bools). */
/* ------------------------------------------------------------------ */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
	int type;
	uint64_t num;	 /* J_NUM, J_BOOL */
	const char *str; /* J_STR: points into the request */
	size_t len;	 /* J_STR length */
	const char *key; /* member name when inside an object */
	size_t key_len;
	struct jv *kid, *next; /* J_ARR / J_OBJ children */
} jv;

typedef struct jparser {
	const char *p, *end;
	jv *nodes;
	size_t used, cap;
} jparser;

static void skip_ws(jparser *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

static int parse_string(jparser *j, const char **s, size_t *len)
{
	if (j->p >= j->end || *j->p != '"')
		return -1;
	const char *b = ++j->p;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\')
			return -1; /* the contract never needs escapes */
		j->p++;
	}
	if (j->p >= j->end)
		return -1;
	*s = b;
	*len = (size_t)(j->p - b);
	j->p++;
	return 0;
}

static jv *parse_value(jparser *j, int depth)
{
	skip_ws(j);
	if (j->p >= j->end || j->used >= j->cap || depth > 32)
		return NULL;
	jv *v = &j->nodes[j->used++];
	memset(v, 0, sizeof(*v));
	char c = *j->p;
	if (c == '"') {
		v->type = J_STR;
		return parse_string(j, &v->str, &v->len) ? NULL : v;
	}
	if (c == '{' || c == '[') {
		v->type = c == '{' ? J_OBJ : J_ARR;
		char close = c == '{' ? '}' : ']';
		jv **tail = &v->kid;
		j->p++;
		skip_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return v;
		}
		for (;;) {
			const char *k = NULL;
			size_t kl = 0;
			if (v->type == J_OBJ) {
				skip_ws(j);
				if (parse_string(j, &k, &kl))
					return NULL;
				skip_ws(j);
				if (j->p >= j->end || *j->p++ != ':')
					return NULL;
			}
			jv *kid = parse_value(j, depth + 1);
			if (!kid)
				return NULL;
			kid->key = k;
			kid->key_len = kl;
			*tail = kid;
			tail = &kid->next;
			skip_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == close) {
				j->p++;
				return v;
			}
			return NULL;
		}
	}
	if (c >= '0' && c <= '9') {
		v->type = J_NUM;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			v->num = v->num * 10 + (uint64_t)(*j->p++ - '0');
		return v;
	}
	static const struct {
		const char *w;
		int type;
		uint64_t num;
	} words[] = {{"true", J_BOOL, 1}, {"false", J_BOOL, 0}, {"null", J_NULL, 0}};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t wl = strlen(words[i].w);
		if ((size_t)(j->end - j->p) >= wl && !memcmp(j->p, words[i].w, wl)) {
			j->p += wl;
			v->type = words[i].type;
			v->num = words[i].num;
			return v;
		}
	}
	return NULL;
}

static const jv *member(const jv *obj, const char *key)
{
	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (const jv *k = obj->kid; k; k = k->next)
		if (k->key_len == strlen(key) && !memcmp(k->key, key, k->key_len))
			return k;
	return NULL;
}

static uint64_t num_member(const jv *obj, const char *key)
{
	const jv *v = member(obj, key);
	return v && (v->type == J_NUM || v->type == J_BOOL) ? v->num : 0;
}

/* Decodes a hex J_STR into a fresh buffer (caller frees). NULL if bad. */
static uint8_t *unhex(const jv *v, size_t *len)
{
	if (!v || v->type != J_STR || v->len % 2)
		return NULL;
	uint8_t *b = malloc(v->len / 2 + 1);
	for (size_t i = 0; b && i < v->len / 2; i++) {
		unsigned x;
		if (sscanf(v->str + 2 * i, "%2x", &x) != 1) {
			free(b);
			return NULL;
		}
		b[i] = (uint8_t)x;
	}
	*len = v->len / 2;
	return b;
}

/* ------------------------------------------------------------------ */
/* Response writer                                                     */
/* ------------------------------------------------------------------ */

typedef struct out {
	char *p;
	size_t len, cap;
} out;

static void put(out *o, const char *s, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = (o->cap ? o->cap * 2 : 4096) + n;
		char *np = realloc(o->p, cap);
		if (!np)
			abort();
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void puts_(out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putu(out *o, uint64_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	puts_(o, b);
}

static void puthex(out *o, const uint8_t *b, size_t n)
{
	static const char d[] = "0123456789abcdef";
	put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		char c[2] = {d[b[i] >> 4], d[b[i] & 15]};
		put(o, c, 2);
	}
	put(o, "\"", 1);
}

static void put_error(out *o, int err)
{
	const char *n = tofu_error_name(err);
	puts_(o, "{\"error\":\"");
	puts_(o, n ? n : "unknown");
	puts_(o, "\"}");
}

/* ------------------------------------------------------------------ */
/* Deliberate breakage for the suite's own test                        */
/* ------------------------------------------------------------------ */

static const char *break_mode = "";

static int broken(const char *mode)
{
	return strcmp(break_mode, mode) == 0;
}

static uint16_t swap16(uint16_t v)
{
	return (uint16_t)((v >> 8) | (v << 8));
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */
/* ------------------------------------------------------------------ */

static void header_from(const jv *o, tofu_header *h)
{
	h->channel_number = (uint16_t)num_member(o, "channel_number");
	h->proto = (uint8_t)num_member(o, "proto");
	h->status = (uint8_t)num_member(o, "status");
	h->message_id = num_member(o, "message_id");
	h->text_headers_len = (uint16_t)num_member(o, "text_headers_len");
	h->body_len = (uint16_t)num_member(o, "body_len");
}

static void put_header(out *o, const tofu_header *h)
{
	puts_(o, "{\"channel_number\":");
	putu(o, broken("byteorder") ? swap16(h->channel_number) : h->channel_number);
	puts_(o, ",\"proto\":");
	putu(o, h->proto);
	puts_(o, ",\"status\":");
	putu(o, h->status);
	puts_(o, ",\"message_id\":");
	putu(o, h->message_id);
	puts_(o, ",\"text_headers_len\":");
	putu(o, h->text_headers_len);
	puts_(o, ",\"body_len\":");
	putu(o, h->body_len);
	puts_(o, "}");
}

static void op_encode_header(const jv *req, out *o)
{
	tofu_header h;
	uint8_t b[TOFU_HEADER_SIZE];
	header_from(member(req, "header"), &h);
	if (broken("byteorder"))
		h.channel_number = swap16(h.channel_number);
	tofu_header_encode(&h, b);
	puts_(o, "{\"ok\":");
	puthex(o, b, sizeof(b));
	puts_(o, "}");
}

static void op_decode_header(const uint8_t *b, size_t n, out *o)
{
	tofu_header h;
	long r = tofu_header_decode(b, n, &h);
	if (r < 0)
		return put_error(o, (int)r);
	puts_(o, "{\"ok\":");
	put_header(o, &h);
	puts_(o, "}");
}

static void op_check_received(const jv *req, out *o)
{
	tofu_header h;
	header_from(member(req, "header"), &h);
	if (broken("forge-origin"))
		h.proto &= (uint8_t)~TOFU_PROTO_ORIGIN_MASK;
	if (broken("more-anywhere"))
		h.proto &= (uint8_t)~TOFU_PROTO_MORE_MASK;
	int r = tofu_header_check_received(&h);
	if (r)
		return put_error(o, r);
	puts_(o, "{\"ok\":true}");
}

static void op_encode_frame(const jv *req, out *o)
{
	tofu_header h;
	uint8_t hb[TOFU_HEADER_SIZE];
	struct iovec iov[3];
	size_t tl = 0, bl = 0;
	uint8_t *t = unhex(member(req, "text_headers"), &tl);
	uint8_t *b = unhex(member(req, "body"), &bl);
	header_from(member(req, "header"), &h);
	if (broken("byteorder"))
		h.channel_number = swap16(h.channel_number);
	int n = tofu_frame_encode(&h, hb, t, tl, b, bl, iov);
	if (n < 0) {
		put_error(o, n);
	} else {
		out f = {0};
		for (int i = 0; i < n; i++)
			put(&f, iov[i].iov_base, iov[i].iov_len);
		puts_(o, "{\"ok\":");
		puthex(o, (const uint8_t *)f.p, f.len);
		puts_(o, "}");
		free(f.p);
	}
	free(t);
	free(b);
}

static void op_parse_frame(const uint8_t *b, size_t n, out *o)
{
	tofu_frame_view f;
	long r = tofu_frame_parse(b, n, &f);
	if (r < 0)
		return put_error(o, (int)r);
	puts_(o, "{\"ok\":{\"header\":");
	put_header(o, &f.header);
	puts_(o, ",\"text_headers\":");
	puthex(o, f.text_headers, f.header.text_headers_len);
	puts_(o, ",\"body\":");
	puthex(o, f.body, f.header.body_len);
	puts_(o, ",\"consumed\":");
	putu(o, (uint64_t)r);
	puts_(o, "}}");
}

static void op_stream_decode(const jv *req, out *o)
{
	tofu_decoder d;
	tofu_dec_event ev;
	const jv *chunks = member(req, "chunks");
	unsigned flags = num_member(req, "validate") ? TOFU_DEC_VALIDATE : 0;
	uint64_t mt = member(req, "max_text_headers_len") ? num_member(req, "max_text_headers_len")
							  : TOFU_MAX_TEXT_HEADERS_LEN;
	uint64_t mb =
	    member(req, "max_body_len") ? num_member(req, "max_body_len") : TOFU_MAX_BODY_LEN;
	out text = {0}, body = {0};
	int err = 0, nframes = 0;
	tofu_decoder_init(&d, flags, (uint16_t)mt, (uint16_t)mb);
	puts_(o, "{\"ok\":{\"frames\":[");
	for (const jv *c = chunks ? chunks->kid : NULL; c && !err; c = c->next) {
		size_t n = 0, pos = 0;
		uint8_t *b = unhex(c, &n);
		while (!err) {
			size_t used = 0;
			int r = tofu_decoder_next(&d, b + pos, n - pos, &used, &ev);
			pos += used;
			if (r == TOFU_E_INCOMPLETE)
				break;
			if (r < 0) {
				err = r;
			} else if (r == TOFU_DEC_TEXT) {
				put(&text, (const char *)ev.data, ev.len);
			} else if (r == TOFU_DEC_BODY) {
				put(&body, (const char *)ev.data, ev.len);
			} else if (r == TOFU_DEC_END) {
				puts_(o, nframes++ ? ",{\"header\":" : "{\"header\":");
				put_header(o, &ev.header);
				puts_(o, ",\"text_headers\":");
				puthex(o, (const uint8_t *)text.p, text.len);
				puts_(o, ",\"body\":");
				puthex(o, (const uint8_t *)body.p, body.len);
				puts_(o, "}");
				text.len = body.len = 0;
			}
		}
		free(b);
	}
	puts_(o, "],\"error\":");
	if (err) {
		puts_(o, "\"");
		puts_(o, tofu_error_name(err));
		puts_(o, "\"");
	} else {
		puts_(o, "null");
	}
	puts_(o, ",\"at_boundary\":");
	puts_(o, tofu_decoder_at_boundary(&d) ? "true" : "false");
	puts_(o, "}}");
	free(text.p);
	free(body.p);
}

static int is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static void op_iterate_headers(const uint8_t *b, size_t n, out *o)
{
	tofu_th_iter it;
	tofu_th_field f;
	int first = 1;
	tofu_th_iter_init(&it, b, n);
	puts_(o, "{\"ok\":[");
	while (tofu_th_next(&it, &f)) {
		if (broken("trim-names")) {
			while (f.name_len && is_ows(f.name[0])) {
				f.name++;
				f.name_len--;
			}
			while (f.name_len && is_ows(f.name[f.name_len - 1]))
				f.name_len--;
		}
		puts_(o, first ? "[" : ",[");
		first = 0;
		puthex(o, f.name, f.name_len);
		puts_(o, ",");
		puthex(o, f.value, f.value_len);
		puts_(o, "]");
	}
	puts_(o, "]}");
}

static void op_validate_headers(const uint8_t *b, size_t n, out *o)
{
	size_t off = 0;
	int r = tofu_th_validate(b, n, &off);
	if (!r)
		return puts_(o, "{\"ok\":true}");
	puts_(o, "{\"error\":\"");
	puts_(o, tofu_error_name(r));
	puts_(o, "\",\"offset\":");
	putu(o, off);
	puts_(o, "}");
}

static void op_serialise_headers(const jv *req, out *o)
{
	const jv *list = member(req, "headers");
	size_t cap = 2 * TOFU_MAX_TEXT_HEADERS_LEN;
	uint8_t *buf = malloc(cap);
	tofu_th_writer w;
	int err = 0;
	tofu_th_writer_init(&w, buf, cap);
	for (const jv *p = list ? list->kid : NULL; p && !err; p = p->next) {
		size_t nl = 0, vl = 0;
		uint8_t *name = unhex(p->kid, &nl);
		uint8_t *value = p->kid ? unhex(p->kid->next, &vl) : NULL;
		if (broken("crlf-inject") && name && value && nl + vl + 3 <= cap - w.len) {
			memcpy(buf + w.len, name, nl);
			buf[w.len + nl] = ':';
			memcpy(buf + w.len + nl + 1, value, vl);
			memcpy(buf + w.len + nl + 1 + vl, "\r\n", 2);
			w.len += nl + vl + 3;
		} else {
			err = tofu_th_append(&w, name, nl, value, vl);
		}
		free(name);
		free(value);
	}
	if (err) {
		put_error(o, err);
	} else {
		puts_(o, "{\"ok\":");
		puthex(o, buf, w.len);
		puts_(o, "}");
	}
	free(buf);
}

static void put_address(out *o, const tofu_address *a, int listen, int with_listen)
{
	if (a->kind == TOFU_ADDR_TCP) {
		puts_(o, "{\"ok\":{\"kind\":\"tcp\",\"host\":");
		puthex(o, (const uint8_t *)a->host, a->host_len);
		puts_(o, ",\"port\":");
		putu(o, a->port);
	} else {
		puts_(o, "{\"ok\":{\"kind\":\"uds\",\"path\":");
		puthex(o, (const uint8_t *)a->path, a->path_len);
		puts_(o, a->abstract ? ",\"abstract\":true" : ",\"abstract\":false");
	}
	if (with_listen)
		puts_(o, listen ? ",\"listen\":true" : ",\"listen\":false");
	puts_(o, "}}");
}

static void op_parse_address(const jv *req, out *o)
{
	tofu_address a;
	size_t n = 0;
	int listen = 0, r;
	uint8_t *b;
	memset(&a, 0, sizeof(a));
	if ((b = unhex(member(req, "value"), &n)) != NULL) {
		if (broken("lax-address")) {
			/* read only up to a fourth part, as a careless port would */
			size_t bars = 0;
			for (size_t i = 0; i < n; i++)
				if (b[i] == '|' && ++bars == 3)
					n = i;
		}
		r = tofu_address_parse(b, n, &a);
		if (r)
			put_error(o, r);
		else
			put_address(o, &a, 0, 0);
	} else if ((b = unhex(member(req, "headers"), &n)) != NULL) {
		r = tofu_address_find(b, n, &a, &listen);
		if (r)
			put_error(o, r);
		else
			put_address(o, &a, listen, 1);
	} else {
		puts_(o, "{\"unsupported\":true}");
	}
	free(b);
}

static void handle(const jv *req, out *o)
{
	const jv *op = member(req, "op");
	size_t n = 0;
	uint8_t *b = unhex(member(req, "bytes"), &n);
#define IS(name)                                                                                   \
	(op && op->type == J_STR && op->len == strlen(name) && !memcmp(op->str, name, op->len))
	if (IS("caps"))
		puts_(o, "{\"ok\":{\"name\":\"tofu-c codec\",\"version\":\"" TOFU_WIRE_SPEC_VERSION
			 "\"}}");
	else if (IS("encode_header"))
		op_encode_header(req, o);
	else if (IS("decode_header") && b)
		op_decode_header(b, n, o);
	else if (IS("check_received"))
		op_check_received(req, o);
	else if (IS("encode_frame"))
		op_encode_frame(req, o);
	else if (IS("parse_frame") && b)
		op_parse_frame(b, n, o);
	else if (IS("stream_decode"))
		op_stream_decode(req, o);
	else if (IS("iterate_headers") && b)
		op_iterate_headers(b, n, o);
	else if (IS("validate_headers") && b)
		op_validate_headers(b, n, o);
	else if (IS("serialise_headers"))
		op_serialise_headers(req, o);
	else if (IS("parse_address"))
		op_parse_address(req, o);
	else
		puts_(o, "{\"unsupported\":true}");
#undef IS
	free(b);
}

/* ------------------------------------------------------------------ */
/* Main loop: length-prefixed requests in, responses out               */
/* ------------------------------------------------------------------ */

static int read_full(void *p, size_t n)
{
	return fread(p, 1, n, stdin) == n ? 0 : -1;
}

int main(void)
{
	const char *m = getenv("TOFU_TESTEE_BREAK");
	if (m)
		break_mode = m;
	for (;;) {
		uint8_t lb[4];
		if (read_full(lb, 4))
			return 0; /* end of stdin: done */
		size_t len = (size_t)lb[0] << 24 | (size_t)lb[1] << 16 | (size_t)lb[2] << 8 | lb[3];
		char *req = malloc(len + 1);
		jparser j = {0};
		out o = {0};
		if (!req || read_full(req, len)) {
			fprintf(stderr, "codec-testee: short request\n");
			return 1;
		}
		j.p = req;
		j.end = req + len;
		j.cap = len + 1;
		j.nodes = malloc(j.cap * sizeof(jv));
		jv *root = j.nodes ? parse_value(&j, 0) : NULL;
		if (root && root->type == J_OBJ)
			handle(root, &o);
		else
			puts_(&o, "{\"error\":\"bad_request\"}");
		uint8_t ob[4] = {(uint8_t)(o.len >> 24), (uint8_t)(o.len >> 16),
				 (uint8_t)(o.len >> 8), (uint8_t)o.len};
		fwrite(ob, 1, 4, stdout);
		fwrite(o.p, 1, o.len, stdout);
		fflush(stdout);
		free(o.p);
		free(j.nodes);
		free(req);
	}
}
