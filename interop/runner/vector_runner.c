/*
 * tofu-vector-runner: runs the golden vectors against the C codec.
 *
 * Input is the line form written by `run_vectors.py --emit-lines` (the JSON
 * sets are schema-checked by the shared Python loader first, so this program
 * only has to read one simple, already-validated format; it runs unchanged
 * under qemu on big-endian hosts). One vector per line, tokens separated by a
 * single space, byte strings as 'x' + lowercase hex, '-' for "absent":
 *
 *   F id result err xFRAME 0|1 [ch proto opcode origin more ia ib status mid thl bl]
 *                           0|1 [n xNAME xVALUE ... xBODY]
 *   I id result err xINPUT n xNAME xVALUE ...
 *   V id result err xINPUT offset(-1: none)
 *   A id result err n xNAME xVALUE ... xBLOCK|-
 *   D id result err xVALUE - | tcp xHOST port | uds xPATH abstract   xFORMATTED|-
 *   L id result err xBLOCK - | tcp xHOST port listen | uds xPATH abstract listen
 *   T id result err xSTREAM validate maxth maxbl at_boundary nframes
 *                   { ch proto status mid thl bl n xNAME xVALUE ... xBODY } * nframes
 *   S set reason...       (a set that is skipped)
 *
 * What is checked for each kind is described in interop/VECTORS.md.
 * Usage: tofu-vector-runner FILE [--verbose]; exit 0 when nothing failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tofu/codec.h"

static int verbose;
static const char *cur_id = "?";
static char fail_msg[512];

/* Records the first failure of the current vector. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (fail_msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
	char *p; /* next unread byte of the line (NUL-terminated) */
	int bad; /* set when the line is malformed */
} line_reader;

static char *next_tok(line_reader *r)
{
	char *t = r->p, *sp;

	if (*t == '\0') {
		r->bad = 1;
		return NULL;
	}
	sp = strchr(t, ' ');
	if (sp) {
		*sp = '\0';
		r->p = sp + 1;
	} else {
		r->p = t + strlen(t);
	}
	return t;
}

static unsigned long long tok_u64(line_reader *r)
{
	char *t = next_tok(r), *end;
	unsigned long long v;

	if (!t)
		return 0;
	errno = 0;
	v = strtoull(t, &end, 10);
	if (errno || *end || end == t)
		r->bad = 1;
	return v;
}

static long tok_long(line_reader *r)
{
	char *t = next_tok(r), *end;
	long v;

	if (!t)
		return 0;
	errno = 0;
	v = strtol(t, &end, 10);
	if (errno || *end || end == t)
		r->bad = 1;
	return v;
}

/* A 0/1 token. */
static int tok_flag(line_reader *r)
{
	long v = tok_long(r);

	if (v != 0 && v != 1)
		r->bad = 1;
	return v == 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A byte string token: decoded in place (the hex text is at least twice as
 * long as the bytes). Returns 1 and sets *out and *len, 0 for '-' (absent). */
static int tok_bytes(line_reader *r, uint8_t **out, size_t *len)
{
	char *t = next_tok(r);
	size_t n, i;

	*out = NULL;
	*len = 0;
	if (!t)
		return 0;
	if (strcmp(t, "-") == 0)
		return 0;
	if (t[0] != 'x') {
		r->bad = 1;
		return 0;
	}
	t++;
	n = strlen(t);
	if (n % 2) {
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(t[2 * i]), lo = hexval(t[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			r->bad = 1;
			return 0;
		}
		((uint8_t *)t)[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = (uint8_t *)t;
	*len = n / 2;
	return 1;
}

static int bytes_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* ------------------------------------------------------------------ */
/* Verdicts                                                            */
/* ------------------------------------------------------------------ */

/* Name of a verdict: 0 is "valid", a negative number an error class. */
static const char *vname(int v)
{
	const char *n;

	if (v == 0)
		return "valid";
	n = tofu_error_name(v);
	return n ? n : "(unknown error class)";
}

/* Does verdict v match the vector's result / error class? */
static int verdict_ok(const char *result, const char *err, int v)
{
	if (strcmp(result, "valid") == 0)
		return v == 0;
	if (strcmp(result, "invalid") == 0)
		return v != 0 && strcmp(vname(v), err) == 0;
	/* acceptable: either outcome */
	return v == 0 || (strcmp(err, "-") != 0 && strcmp(vname(v), err) == 0);
}

static void check_verdict(const char *what, const char *result, const char *err, int v)
{
	if (!verdict_ok(result, err, v))
		fail("%s: got %s, want %s%s%s", what, vname(v),
		     strcmp(result, "invalid") ? result : "", strcmp(result, "invalid") ? " " : "",
		     strcmp(err, "-") ? err : "");
}

/* ------------------------------------------------------------------ */
/* Frame vectors                                                       */
/* ------------------------------------------------------------------ */

#define MAX_PAIRS 64

typedef struct {
	uint8_t *name, *value;
	size_t name_len, value_len;
} pair;

typedef struct {
	int has_hdr, has_parts;
	unsigned long long f[11]; /* ch proto opcode origin more ia ib status mid thl bl */
	size_t npairs;
	pair pairs[MAX_PAIRS];
	uint8_t *body;
	size_t body_len;
} frame_expect;

static void check_pairs(const char *what, const uint8_t *buf, size_t len, const pair *pairs,
			size_t npairs)
{
	tofu_th_iter it;
	tofu_th_field fld;
	size_t i = 0;

	tofu_th_iter_init(&it, buf, len);
	while (tofu_th_next(&it, &fld)) {
		if (i >= npairs) {
			fail("%s: more headers than the %zu expected", what, npairs);
			return;
		}
		if (!bytes_eq(fld.name, fld.name_len, pairs[i].name, pairs[i].name_len) ||
		    !bytes_eq(fld.value, fld.value_len, pairs[i].value, pairs[i].value_len)) {
			fail("%s: header %zu differs", what, i);
			return;
		}
		i++;
	}
	if (i != npairs)
		fail("%s: %zu headers, want %zu", what, i, npairs);
}

static void check_header(const char *what, const tofu_header *h, const frame_expect *e)
{
	unsigned long long got[11] = {
	    h->channel_number,
	    h->proto,
	    tofu_proto_opcode(h->proto),
	    tofu_proto_origin(h->proto),
	    tofu_proto_more(h->proto),
	    tofu_proto_internal_a(h->proto),
	    tofu_proto_internal_b(h->proto),
	    h->status,
	    h->message_id,
	    h->text_headers_len,
	    h->body_len,
	};
	static const char *names[11] = {
	    "channel_number", "proto",	"opcode",     "origin",		  "more",    "internal_a",
	    "internal_b",     "status", "message_id", "text_headers_len", "body_len"};

	for (int i = 0; i < 11; i++)
		if (got[i] != e->f[i]) {
			fail("%s: %s = %llu, want %llu", what, names[i], got[i], e->f[i]);
			return;
		}
}

/* Feeds the frame to a validating stream decoder in chunks of `step` bytes
 * (0: all at once) and returns its verdict; checks the reassembled parts. */
static int stream_verdict(const uint8_t *buf, size_t len, size_t step, const frame_expect *e)
{
	tofu_decoder d;
	tofu_dec_event ev;
	size_t pos = 0, th_got = 0, body_got = 0;
	int ended = 0, guard = 0;
	uint8_t *th = malloc(e->has_hdr ? (size_t)e->f[9] + 1 : 1);
	uint8_t *body = malloc(e->has_hdr ? (size_t)e->f[10] + 1 : 1);
	int verdict = TOFU_E_INCOMPLETE;

	if (!th || !body) {
		fail("out of memory");
		free(th);
		free(body);
		return 0;
	}
	tofu_decoder_init(&d, TOFU_DEC_VALIDATE, TOFU_MAX_TEXT_HEADERS_LEN, TOFU_MAX_BODY_LEN);
	while (!ended && guard++ < 4 * (int)len + 16) {
		size_t avail = len - pos, n = step && step < avail ? step : avail, used = 0;
		int rc = tofu_decoder_next(&d, buf + pos, n, &used, &ev);

		if (used > n) {
			fail("stream decoder consumed %zu of %zu bytes", used, n);
			break;
		}
		pos += used;
		if (rc == TOFU_E_INCOMPLETE) {
			if (pos == len)
				break;
			continue;
		}
		if (rc < 0) {
			verdict = rc;
			break;
		}
		switch (rc) {
		case TOFU_DEC_HEADER:
			if (e->has_hdr)
				check_header("stream header", &ev.header, e);
			break;
		case TOFU_DEC_TEXT:
			if (!e->has_hdr || th_got + ev.len > e->f[9]) {
				fail("stream decoder: too many text-header bytes");
				goto out;
			}
			memcpy(th + th_got, ev.data, ev.len);
			th_got += ev.len;
			break;
		case TOFU_DEC_BODY:
			if (!e->has_hdr || body_got + ev.len > e->f[10]) {
				fail("stream decoder: too many body bytes");
				goto out;
			}
			memcpy(body + body_got, ev.data, ev.len);
			body_got += ev.len;
			break;
		case TOFU_DEC_END:
			ended = 1;
			verdict = 0;
			break;
		default:
			fail("stream decoder: unknown event %d", rc);
			goto out;
		}
	}
	if (verdict == 0) {
		if (pos != len)
			fail("stream decoder: frame ended after %zu of %zu bytes", pos, len);
		if (!tofu_decoder_at_boundary(&d))
			fail("stream decoder: not at a boundary after the frame");
		if (e->has_parts) {
			check_pairs("stream text headers", th, th_got, e->pairs, e->npairs);
			if (!bytes_eq(body, body_got, e->body, e->body_len))
				fail("stream body differs (step %zu)", step);
		}
	} else if (verdict == TOFU_E_INCOMPLETE && tofu_decoder_at_boundary(&d) != (len == 0)) {
		fail("stream decoder: at_boundary %d for %zu bytes", tofu_decoder_at_boundary(&d),
		     len);
	}
out:
	free(th);
	free(body);
	return verdict;
}

static void run_frame(line_reader *r, const char *result, const char *err)
{
	uint8_t *frame;
	size_t len;
	frame_expect e;
	tofu_header h;
	tofu_frame_view fv;
	long rc;
	int verdict;

	memset(&e, 0, sizeof(e));
	tok_bytes(r, &frame, &len);
	e.has_hdr = tok_flag(r);
	if (e.has_hdr)
		for (int i = 0; i < 11; i++)
			e.f[i] = tok_u64(r);
	e.has_parts = tok_flag(r);
	if (e.has_parts) {
		e.npairs = (size_t)tok_long(r);
		if (e.npairs > MAX_PAIRS) {
			r->bad = 1;
			return;
		}
		for (size_t i = 0; i < e.npairs; i++) {
			tok_bytes(r, &e.pairs[i].name, &e.pairs[i].name_len);
			tok_bytes(r, &e.pairs[i].value, &e.pairs[i].value_len);
		}
		tok_bytes(r, &e.body, &e.body_len);
	}
	if (r->bad)
		return;

	/* Direct functions: decode, receive check, frame parse. */
	rc = tofu_header_decode(frame, len, &h);
	if (len < TOFU_HEADER_SIZE) {
		if (rc != TOFU_E_INCOMPLETE)
			fail("tofu_header_decode on %zu bytes returned %ld", len, rc);
		verdict = TOFU_E_INCOMPLETE;
	} else {
		if (rc != TOFU_HEADER_SIZE)
			fail("tofu_header_decode returned %ld", rc);
		if (e.has_hdr)
			check_header("header", &h, &e);
		verdict = tofu_header_check_received(&h);
		rc = tofu_frame_parse(frame, len, &fv);
		if (rc < 0) {
			if (rc != TOFU_E_INCOMPLETE)
				fail("tofu_frame_parse returned %s", vname((int)rc));
			if (verdict == 0)
				verdict = (int)rc;
		} else {
			if ((size_t)rc != len)
				fail("tofu_frame_parse consumed %ld of %zu bytes", rc, len);
			if (fv.text_headers != frame + TOFU_HEADER_SIZE ||
			    fv.body != frame + TOFU_HEADER_SIZE + fv.header.text_headers_len)
				fail("tofu_frame_parse part pointers are wrong");
			if (e.has_parts) {
				check_pairs("text headers", fv.text_headers,
					    fv.header.text_headers_len, e.pairs, e.npairs);
				if (!bytes_eq(fv.body, fv.header.body_len, e.body, e.body_len))
					fail("body differs");
			}
		}
	}
	check_verdict("verdict", result, err, verdict);

	/* A valid frame encodes back to the same bytes (sender side). */
	if (verdict == 0 && e.has_parts) {
		tofu_header eh = h;
		uint8_t hb[TOFU_HEADER_SIZE];
		struct iovec iov[3];
		size_t pos = 0;
		int n;

		eh.text_headers_len = 0;
		eh.body_len = 0;
		n = tofu_frame_encode(&eh, hb, fv.text_headers, fv.header.text_headers_len, fv.body,
				      fv.header.body_len, iov);
		if (n < 1 || n > 3) {
			fail("tofu_frame_encode returned %d", n);
		} else {
			for (int i = 0; i < n && !fail_msg[0]; i++) {
				if (iov[i].iov_len == 0 || pos + iov[i].iov_len > len ||
				    memcmp(frame + pos, iov[i].iov_base, iov[i].iov_len) != 0)
					fail("tofu_frame_encode: iovec %d differs from the vector",
					     i);
				pos += iov[i].iov_len;
			}
			if (pos != len)
				fail("tofu_frame_encode wrote %zu bytes, want %zu", pos, len);
		}
		tofu_header_encode(&h, hb);
		if (memcmp(hb, frame, TOFU_HEADER_SIZE) != 0)
			fail("tofu_header_encode differs from the vector");
	}

	/* The same bytes through the validating stream decoder, whole and in
	 * pieces: the verdict must not depend on how the stream is split. */
	{
		static const size_t steps[] = {0, 1, 7};

		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			int sv;

			if (steps[i] == 1 && len > 4096)
				continue; /* byte by byte only for small frames */
			sv = stream_verdict(frame, len, steps[i], &e);
			if (sv != verdict)
				fail("stream decoder (step %zu): %s, direct functions: %s",
				     steps[i], vname(sv), vname(verdict));
		}
	}
}

/* ------------------------------------------------------------------ */
/* Text headers and addresses                                          */
/* ------------------------------------------------------------------ */

static void run_iterate(line_reader *r)
{
	uint8_t *in;
	size_t len, n;
	pair pairs[MAX_PAIRS];

	tok_bytes(r, &in, &len);
	n = (size_t)tok_long(r);
	if (n > MAX_PAIRS) {
		r->bad = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		tok_bytes(r, &pairs[i].name, &pairs[i].name_len);
		tok_bytes(r, &pairs[i].value, &pairs[i].value_len);
	}
	if (r->bad)
		return;
	check_pairs("iterator", in, len, pairs, n);
}

static void run_validate(line_reader *r, const char *result, const char *err)
{
	uint8_t *in;
	size_t len, off = (size_t)-1;
	long want_off;
	int rc;

	tok_bytes(r, &in, &len);
	want_off = tok_long(r);
	if (r->bad)
		return;
	rc = tofu_th_validate(in, len, &off);
	check_verdict("tofu_th_validate", result, err, rc);
	if (rc != 0 && want_off >= 0 && off != (size_t)want_off)
		fail("tofu_th_validate offset %zu, want %ld", off, want_off);
}

static void run_append(line_reader *r, const char *result, const char *err)
{
	uint8_t *block, out[4096];
	size_t n, blen;
	pair pairs[MAX_PAIRS];
	tofu_th_writer w;
	int rc = 0, has_block;

	n = (size_t)tok_long(r);
	if (n > MAX_PAIRS) {
		r->bad = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		tok_bytes(r, &pairs[i].name, &pairs[i].name_len);
		tok_bytes(r, &pairs[i].value, &pairs[i].value_len);
	}
	has_block = tok_bytes(r, &block, &blen);
	if (r->bad)
		return;
	tofu_th_writer_init(&w, out, sizeof(out));
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t before = w.len;

		rc = tofu_th_append(&w, pairs[i].name, pairs[i].name_len, pairs[i].value,
				    pairs[i].value_len);
		if (rc != 0 && w.len != before)
			fail("tofu_th_append wrote bytes although it refused the field");
	}
	check_verdict("tofu_th_append", result, err, rc);
	if (rc == 0 && has_block && !bytes_eq(out, w.len, block, blen))
		fail("serialised block differs");
}

/* ------------------------------------------------------------------ */
/* Streams of several frames                                           */
/* ------------------------------------------------------------------ */

#define MAX_STREAM_FRAMES 128

typedef struct {
	unsigned long long h[6]; /* ch proto status mid thl bl */
	size_t npairs;
	pair pairs[MAX_PAIRS];
	uint8_t *body;
	size_t body_len;
} stream_frame;

static stream_frame sframes[MAX_STREAM_FRAMES];

/* Decodes the stream in chunks of `step` bytes (0: whole) and compares
 * every delivered frame; returns the verdict (0, an error class, or
 * incomplete when the stream ends inside a frame). */
static int run_stream_step(const uint8_t *buf, size_t len, size_t step, unsigned flags,
			   unsigned maxth, unsigned maxbl, size_t nframes, int want_boundary)
{
	tofu_decoder d;
	tofu_dec_event ev;
	size_t pos = 0, nf = 0, th_got = 0, body_got = 0;
	static uint8_t th[TOFU_MAX_TEXT_HEADERS_LEN], body[TOFU_MAX_BODY_LEN];
	int verdict = 0;
	unsigned guard = 0;

	tofu_decoder_init(&d, flags, (uint16_t)maxth, (uint16_t)maxbl);
	while (guard++ < 8 * len + 64) {
		size_t avail = len - pos, n = step && step < avail ? step : avail, used = 0;
		int rc = tofu_decoder_next(&d, buf + pos, n, &used, &ev);

		if (used > n) {
			fail("stream decoder consumed %zu of %zu bytes", used, n);
			return 0;
		}
		pos += used;
		if (rc == TOFU_E_INCOMPLETE) {
			if (pos == len)
				break;
			continue;
		}
		if (rc < 0) {
			verdict = rc;
			break;
		}
		if (rc == TOFU_DEC_HEADER) {
			const stream_frame *w = nf < nframes ? &sframes[nf] : NULL;
			unsigned long long g[6] = {ev.header.channel_number,   ev.header.proto,
						   ev.header.status,	       ev.header.message_id,
						   ev.header.text_headers_len, ev.header.body_len};

			th_got = body_got = 0;
			if (w && memcmp(g, w->h, sizeof(g)) != 0)
				fail("step %zu: header of frame %zu differs", step, nf);
		} else if (rc == TOFU_DEC_TEXT) {
			if (th_got + ev.len > sizeof(th)) {
				fail("stream decoder: text-header chunk overflows");
				return 0;
			}
			memcpy(th + th_got, ev.data, ev.len);
			th_got += ev.len;
		} else if (rc == TOFU_DEC_BODY) {
			if (body_got + ev.len > sizeof(body)) {
				fail("stream decoder: body chunk overflows");
				return 0;
			}
			memcpy(body + body_got, ev.data, ev.len);
			body_got += ev.len;
		} else if (rc == TOFU_DEC_END) {
			if (nf >= nframes) {
				fail("step %zu: more than the %zu expected frames delivered", step,
				     nframes);
				return 0;
			}
			check_pairs("stream frame text headers", th, th_got, sframes[nf].pairs,
				    sframes[nf].npairs);
			if (!bytes_eq(body, body_got, sframes[nf].body, sframes[nf].body_len))
				fail("step %zu: body of frame %zu differs", step, nf);
			nf++;
		} else {
			fail("stream decoder: unknown event %d", rc);
			return 0;
		}
	}
	if (nf != nframes)
		fail("step %zu: %zu frames delivered, want %zu", step, nf, nframes);
	if (verdict == 0 && !tofu_decoder_at_boundary(&d))
		verdict = TOFU_E_INCOMPLETE;
	if (tofu_decoder_at_boundary(&d) != want_boundary)
		fail("step %zu: at_boundary %d, want %d", step, tofu_decoder_at_boundary(&d),
		     want_boundary);
	return verdict;
}

static void run_stream(line_reader *r, const char *result, const char *err)
{
	uint8_t *buf;
	size_t len, nframes;
	unsigned flags, maxth, maxbl;
	int want_boundary;
	static const size_t steps[] = {0, 1, 5, 13};

	tok_bytes(r, &buf, &len);
	flags = tok_flag(r) ? TOFU_DEC_VALIDATE : 0;
	maxth = (unsigned)tok_u64(r);
	maxbl = (unsigned)tok_u64(r);
	want_boundary = tok_flag(r);
	nframes = (size_t)tok_long(r);
	if (nframes > MAX_STREAM_FRAMES || maxth > 65535 || maxbl > 65535) {
		r->bad = 1;
		return;
	}
	for (size_t i = 0; i < nframes && !r->bad; i++) {
		stream_frame *f = &sframes[i];

		for (int k = 0; k < 6; k++)
			f->h[k] = tok_u64(r);
		f->npairs = (size_t)tok_long(r);
		if (f->npairs > MAX_PAIRS) {
			r->bad = 1;
			return;
		}
		for (size_t k = 0; k < f->npairs; k++) {
			tok_bytes(r, &f->pairs[k].name, &f->pairs[k].name_len);
			tok_bytes(r, &f->pairs[k].value, &f->pairs[k].value_len);
		}
		tok_bytes(r, &f->body, &f->body_len);
	}
	if (r->bad)
		return;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int v = run_stream_step(buf, len, steps[i], flags, maxth, maxbl, nframes,
					want_boundary);

		if (!verdict_ok(result, err, v))
			fail("stream decoder (step %zu): got %s, want %s %s", steps[i], vname(v),
			     result, err);
	}
}

/* Checks a parsed address against the vector's kind, bytes and number. */
static void check_address(const char *what, const tofu_address *a, const char *kind,
			  const uint8_t *s, size_t slen, unsigned long long num)
{
	if (strcmp(kind, "tcp") == 0) {
		if (a->kind != TOFU_ADDR_TCP || !bytes_eq(a->host, a->host_len, s, slen) ||
		    a->port != num)
			fail("%s: tcp address decoded differently", what);
	} else if (strcmp(kind, "uds") == 0) {
		if (a->kind != TOFU_ADDR_UDS || !bytes_eq(a->path, a->path_len, s, slen) ||
		    a->abstract != (int)num)
			fail("%s: uds address decoded differently", what);
	} else {
		fail("%s: vector has no decoded address although the parser accepted it", what);
	}
}

static void run_address(line_reader *r, const char *result, const char *err)
{
	uint8_t *value, *s = NULL, *formatted;
	size_t vlen, slen = 0, flen;
	char *kind = NULL;
	unsigned long long num = 0;
	int has_fmt;
	tofu_address a;
	int rc;

	tok_bytes(r, &value, &vlen);
	kind = next_tok(r);
	if (kind && strcmp(kind, "-") != 0 && strcmp(kind, "tcp") != 0 && strcmp(kind, "uds") != 0)
		r->bad = 1;
	if (kind && strcmp(kind, "-") != 0) {
		tok_bytes(r, &s, &slen);
		num = tok_u64(r);
	}
	has_fmt = tok_bytes(r, &formatted, &flen);
	if (r->bad || !kind)
		return;
	rc = tofu_address_parse(value, vlen, &a);
	check_verdict("tofu_address_parse", result, err, rc);
	if (rc != 0)
		return;
	check_address("tofu_address_parse", &a, kind, s, slen, num);
	if (has_fmt) {
		char out[512];
		long n = tofu_address_format(&a, out, sizeof(out));

		if (n < 0 || !bytes_eq(out, (size_t)n, formatted, flen))
			fail("tofu_address_format: %s", n < 0 ? vname((int)n) : "bytes differ");
	}
}

static void run_lookup(line_reader *r, const char *result, const char *err)
{
	uint8_t *block, *s = NULL;
	size_t blen, slen = 0;
	char *kind;
	unsigned long long num = 0;
	int listen = 0, got_listen = -1, rc;
	tofu_address a;

	tok_bytes(r, &block, &blen);
	kind = next_tok(r);
	if (kind && strcmp(kind, "-") != 0 && strcmp(kind, "tcp") != 0 && strcmp(kind, "uds") != 0)
		r->bad = 1;
	if (kind && strcmp(kind, "-") != 0) {
		tok_bytes(r, &s, &slen);
		num = tok_u64(r);
		listen = tok_flag(r);
	}
	if (r->bad || !kind)
		return;
	rc = tofu_address_find(block, blen, &a, &got_listen);
	check_verdict("tofu_address_find", result, err, rc);
	if (rc != 0)
		return;
	check_address("tofu_address_find", &a, kind, s, slen, num);
	if (got_listen != listen)
		fail("tofu_address_find: is_listen %d, want %d", got_listen, listen);
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t got;

		if (cap - n < 65536) {
			char *nb = realloc(buf, cap ? cap * 2 : 1 << 20);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 1 << 20;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	size_t len;
	char *text, *line, *next;
	unsigned passed = 0, failed = 0, skipped = 0, lineno = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s VECTOR-LINES-FILE [--verbose]\n", argv[0]);
		return 2;
	}
	verbose = argc > 2 && strcmp(argv[2], "--verbose") == 0;
	text = read_file(argv[1], &len);
	if (!text) {
		fprintf(stderr, "%s: cannot read %s: %s\n", argv[0], argv[1], strerror(errno));
		return 2;
	}
	for (line = text; line && *line; line = next) {
		line_reader r = {0, 0};
		char *kind, *result, *err;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (line[0] == 'S' && line[1] == ' ') {
			char *sp = strchr(line + 2, ' ');

			if (sp)
				*sp = '\0';
			printf("SKIP set %s: %s\n", line + 2, sp ? sp + 1 : "(no reason given)");
			skipped++;
			continue;
		}
		r.p = line;
		kind = next_tok(&r);
		cur_id = next_tok(&r);
		result = next_tok(&r);
		err = next_tok(&r);
		fail_msg[0] = '\0';
		if (!kind || !cur_id || !result || !err || kind[1] != '\0') {
			r.bad = 1;
		} else {
			switch (kind[0]) {
			case 'F':
				run_frame(&r, result, err);
				break;
			case 'I':
				run_iterate(&r);
				break;
			case 'V':
				run_validate(&r, result, err);
				break;
			case 'A':
				run_append(&r, result, err);
				break;
			case 'D':
				run_address(&r, result, err);
				break;
			case 'L':
				run_lookup(&r, result, err);
				break;
			case 'T':
				run_stream(&r, result, err);
				break;
			default:
				r.bad = 1;
			}
		}
		if (r.bad || *r.p != '\0') {
			fprintf(stderr, "%s: line %u is malformed\n", argv[1], lineno);
			free(text);
			return 2;
		}
		if (fail_msg[0]) {
			failed++;
			printf("FAIL %s: %s\n", cur_id, fail_msg);
		} else {
			passed++;
			if (verbose)
				printf("ok %s\n", cur_id);
		}
	}
	free(text);
	printf("tofu-vector-runner (%s): %u passed, %u failed, %u skipped\n",
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	       "big-endian",
#else
	       "little-endian",
#endif
	       passed, failed, skipped);
	return failed ? 1 : 0;
}
