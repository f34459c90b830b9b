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
#include "tjson.h"

static void put_error(out *o, int err)
{
	const char *n = tofu_error_name(err);
	tj_puts(o, "{\"error\":\"");
	tj_puts(o, n ? n : "unknown");
	tj_puts(o, "\"}");
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
	h->channel_number = (uint16_t)tj_num(o, "channel_number");
	h->proto = (uint8_t)tj_num(o, "proto");
	h->status = (uint8_t)tj_num(o, "status");
	h->message_id = tj_num(o, "message_id");
	h->text_headers_len = (uint16_t)tj_num(o, "text_headers_len");
	h->body_len = (uint16_t)tj_num(o, "body_len");
}

static void put_header(out *o, const tofu_header *h)
{
	tj_puts(o, "{\"channel_number\":");
	tj_putu(o, broken("byteorder") ? swap16(h->channel_number) : h->channel_number);
	tj_puts(o, ",\"proto\":");
	tj_putu(o, h->proto);
	tj_puts(o, ",\"status\":");
	tj_putu(o, h->status);
	tj_puts(o, ",\"message_id\":");
	tj_putu(o, h->message_id);
	tj_puts(o, ",\"text_headers_len\":");
	tj_putu(o, h->text_headers_len);
	tj_puts(o, ",\"body_len\":");
	tj_putu(o, h->body_len);
	tj_puts(o, "}");
}

static void op_encode_header(const jv *req, out *o)
{
	tofu_header h;
	uint8_t b[TOFU_HEADER_SIZE];
	header_from(tj_member(req, "header"), &h);
	if (broken("byteorder"))
		h.channel_number = swap16(h.channel_number);
	tofu_header_encode(&h, b);
	tj_puts(o, "{\"ok\":");
	tj_hex(o, b, sizeof(b));
	tj_puts(o, "}");
}

static void op_decode_header(const uint8_t *b, size_t n, out *o)
{
	tofu_header h;
	long r = tofu_header_decode(b, n, &h);
	if (r < 0)
		return put_error(o, (int)r);
	tj_puts(o, "{\"ok\":");
	put_header(o, &h);
	tj_puts(o, "}");
}

static void op_check_received(const jv *req, out *o)
{
	tofu_header h;
	header_from(tj_member(req, "header"), &h);
	if (broken("forge-origin"))
		h.proto &= (uint8_t)~TOFU_PROTO_ORIGIN_MASK;
	if (broken("more-anywhere"))
		h.proto &= (uint8_t)~TOFU_PROTO_MORE_MASK;
	int r = tofu_header_check_received(&h);
	if (r)
		return put_error(o, r);
	tj_puts(o, "{\"ok\":true}");
}

static void op_encode_frame(const jv *req, out *o)
{
	tofu_header h;
	uint8_t hb[TOFU_HEADER_SIZE];
	struct iovec iov[3];
	size_t tl = 0, bl = 0;
	uint8_t *t = tj_unhex(tj_member(req, "text_headers"), &tl);
	uint8_t *b = tj_unhex(tj_member(req, "body"), &bl);
	header_from(tj_member(req, "header"), &h);
	if (broken("byteorder"))
		h.channel_number = swap16(h.channel_number);
	int n = tofu_frame_encode(&h, hb, t, tl, b, bl, iov);
	if (n < 0) {
		put_error(o, n);
	} else {
		out f = {0};
		for (int i = 0; i < n; i++)
			tj_put(&f, iov[i].iov_base, iov[i].iov_len);
		tj_puts(o, "{\"ok\":");
		tj_hex(o, (const uint8_t *)f.p, f.len);
		tj_puts(o, "}");
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
	tj_puts(o, "{\"ok\":{\"header\":");
	put_header(o, &f.header);
	tj_puts(o, ",\"text_headers\":");
	tj_hex(o, f.text_headers, f.header.text_headers_len);
	tj_puts(o, ",\"body\":");
	tj_hex(o, f.body, f.header.body_len);
	tj_puts(o, ",\"consumed\":");
	tj_putu(o, (uint64_t)r);
	tj_puts(o, "}}");
}

static void op_stream_decode(const jv *req, out *o)
{
	tofu_decoder d;
	tofu_dec_event ev;
	const jv *chunks = tj_member(req, "chunks");
	unsigned flags = tj_num(req, "validate") ? TOFU_DEC_VALIDATE : 0;
	uint64_t mt = tj_member(req, "max_text_headers_len") ? tj_num(req, "max_text_headers_len")
							     : TOFU_MAX_TEXT_HEADERS_LEN;
	uint64_t mb =
	    tj_member(req, "max_body_len") ? tj_num(req, "max_body_len") : TOFU_MAX_BODY_LEN;
	out text = {0}, body = {0};
	int err = 0, nframes = 0;
	tofu_decoder_init(&d, flags, (uint16_t)mt, (uint16_t)mb);
	tj_puts(o, "{\"ok\":{\"frames\":[");
	for (const jv *c = chunks ? chunks->kid : NULL; c && !err; c = c->next) {
		size_t n = 0, pos = 0;
		uint8_t *b = tj_unhex(c, &n);
		while (!err) {
			size_t used = 0;
			int r = tofu_decoder_next(&d, b + pos, n - pos, &used, &ev);
			pos += used;
			if (r == TOFU_E_INCOMPLETE)
				break;
			if (r < 0) {
				err = r;
			} else if (r == TOFU_DEC_TEXT) {
				tj_put(&text, (const char *)ev.data, ev.len);
			} else if (r == TOFU_DEC_BODY) {
				tj_put(&body, (const char *)ev.data, ev.len);
			} else if (r == TOFU_DEC_END) {
				tj_puts(o, nframes++ ? ",{\"header\":" : "{\"header\":");
				put_header(o, &ev.header);
				tj_puts(o, ",\"text_headers\":");
				tj_hex(o, (const uint8_t *)text.p, text.len);
				tj_puts(o, ",\"body\":");
				tj_hex(o, (const uint8_t *)body.p, body.len);
				tj_puts(o, "}");
				text.len = body.len = 0;
			}
		}
		free(b);
	}
	tj_puts(o, "],\"error\":");
	if (err) {
		tj_puts(o, "\"");
		tj_puts(o, tofu_error_name(err));
		tj_puts(o, "\"");
	} else {
		tj_puts(o, "null");
	}
	tj_puts(o, ",\"at_boundary\":");
	tj_puts(o, tofu_decoder_at_boundary(&d) ? "true" : "false");
	tj_puts(o, "}}");
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
	tj_puts(o, "{\"ok\":[");
	while (tofu_th_next(&it, &f)) {
		if (broken("trim-names")) {
			while (f.name_len && is_ows(f.name[0])) {
				f.name++;
				f.name_len--;
			}
			while (f.name_len && is_ows(f.name[f.name_len - 1]))
				f.name_len--;
		}
		tj_puts(o, first ? "[" : ",[");
		first = 0;
		tj_hex(o, f.name, f.name_len);
		tj_puts(o, ",");
		tj_hex(o, f.value, f.value_len);
		tj_puts(o, "]");
	}
	tj_puts(o, "]}");
}

static void op_validate_headers(const uint8_t *b, size_t n, out *o)
{
	size_t off = 0;
	int r = tofu_th_validate(b, n, &off);
	if (!r)
		return tj_puts(o, "{\"ok\":true}");
	tj_puts(o, "{\"error\":\"");
	tj_puts(o, tofu_error_name(r));
	tj_puts(o, "\",\"offset\":");
	tj_putu(o, off);
	tj_puts(o, "}");
}

/* Appends the pairs in order. "cap" (optional) is the caller's buffer size;
 * with "keep_going" a refused pair is recorded and the next one is tried,
 * which shows whether a refusal left the block unchanged. */
static void op_serialise_headers(const jv *req, out *o)
{
	const jv *list = tj_member(req, "headers");
	size_t cap =
	    tj_member(req, "cap") ? (size_t)tj_num(req, "cap") : 2 * TOFU_MAX_TEXT_HEADERS_LEN;
	int keep_going = (int)tj_num(req, "keep_going");
	uint8_t *buf = malloc(cap ? cap : 1);
	tofu_th_writer w;
	int err = 0;
	out errs = {0};
	tofu_th_writer_init(&w, buf, cap);
	for (const jv *p = list ? list->kid : NULL; p && (!err || keep_going); p = p->next) {
		size_t nl = 0, vl = 0;
		uint8_t *name = tj_unhex(p->kid, &nl);
		uint8_t *value = p->kid ? tj_unhex(p->kid->next, &vl) : NULL;
		if (broken("crlf-inject") && name && value && nl + vl + 3 <= cap - w.len) {
			memcpy(buf + w.len, name, nl);
			buf[w.len + nl] = ':';
			memcpy(buf + w.len + nl + 1, value, vl);
			memcpy(buf + w.len + nl + 1 + vl, "\r\n", 2);
			w.len += nl + vl + 3;
			err = 0;
		} else {
			err = tofu_th_append(&w, name, nl, value, vl);
		}
		tj_puts(&errs, errs.len ? "," : "");
		if (err) {
			tj_puts(&errs, "\"");
			tj_puts(&errs, tofu_error_name(err));
			tj_puts(&errs, "\"");
		} else {
			tj_puts(&errs, "null");
		}
		free(name);
		free(value);
	}
	if (keep_going) {
		tj_puts(o, "{\"ok\":{\"block\":");
		tj_hex(o, buf, w.len);
		tj_puts(o, ",\"errors\":[");
		tj_put(o, errs.p ? errs.p : "", errs.len);
		tj_puts(o, "]}}");
	} else if (err) {
		put_error(o, err);
	} else {
		tj_puts(o, "{\"ok\":");
		tj_hex(o, buf, w.len);
		tj_puts(o, "}");
	}
	free(errs.p);
	free(buf);
}

static void op_format_address(const jv *req, out *o)
{
	tofu_address a;
	size_t hl = 0, pl = 0;
	char buf[512];
	const jv *kind = tj_member(req, "kind");
	uint8_t *host = tj_unhex(tj_member(req, "host"), &hl);
	uint8_t *path = tj_unhex(tj_member(req, "path"), &pl);
	memset(&a, 0, sizeof(a));
	a.kind =
	    kind && kind->len == 3 && !memcmp(kind->str, "tcp", 3) ? TOFU_ADDR_TCP : TOFU_ADDR_UDS;
	a.host = (const char *)host;
	a.host_len = hl;
	a.port = (uint16_t)tj_num(req, "port");
	a.path = (const char *)path;
	a.path_len = pl;
	a.abstract = (int)tj_num(req, "abstract");
	long r = tofu_address_format(&a, buf, sizeof(buf));
	if (r < 0) {
		put_error(o, (int)r);
	} else {
		tj_puts(o, "{\"ok\":");
		tj_hex(o, (const uint8_t *)buf, (size_t)r);
		tj_puts(o, "}");
	}
	free(host);
	free(path);
}

static void put_address(out *o, const tofu_address *a, int listen, int with_listen)
{
	if (a->kind == TOFU_ADDR_TCP) {
		tj_puts(o, "{\"ok\":{\"kind\":\"tcp\",\"host\":");
		tj_hex(o, (const uint8_t *)a->host, a->host_len);
		tj_puts(o, ",\"port\":");
		tj_putu(o, a->port);
	} else {
		tj_puts(o, "{\"ok\":{\"kind\":\"uds\",\"path\":");
		tj_hex(o, (const uint8_t *)a->path, a->path_len);
		tj_puts(o, a->abstract ? ",\"abstract\":true" : ",\"abstract\":false");
	}
	if (with_listen)
		tj_puts(o, listen ? ",\"listen\":true" : ",\"listen\":false");
	tj_puts(o, "}}");
}

static void op_parse_address(const jv *req, out *o)
{
	tofu_address a;
	size_t n = 0;
	int listen = 0, r;
	uint8_t *b;
	memset(&a, 0, sizeof(a));
	if ((b = tj_unhex(tj_member(req, "value"), &n)) != NULL) {
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
	} else if ((b = tj_unhex(tj_member(req, "headers"), &n)) != NULL) {
		r = tofu_address_find(b, n, &a, &listen);
		if (r)
			put_error(o, r);
		else
			put_address(o, &a, listen, 1);
	} else {
		tj_puts(o, "{\"unsupported\":true}");
	}
	free(b);
}

static void handle(const jv *req, out *o)
{
	const jv *op = tj_member(req, "op");
	size_t n = 0;
	uint8_t *b = tj_unhex(tj_member(req, "bytes"), &n);
#define IS(name)                                                                                   \
	(op && op->type == J_STR && op->len == strlen(name) && !memcmp(op->str, name, op->len))
	if (IS("caps"))
		tj_puts(o,
			"{\"ok\":{\"name\":\"tofu-c codec\",\"version\":\"" TOFU_WIRE_SPEC_VERSION
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
	else if (IS("format_address"))
		op_format_address(req, o);
	else
		tj_puts(o, "{\"unsupported\":true}");
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
		jv *root = j.nodes ? tj_parse(&j, 0) : NULL;
		if (root && root->type == J_OBJ)
			handle(root, &o);
		else
			tj_puts(&o, "{\"error\":\"bad_request\"}");
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
