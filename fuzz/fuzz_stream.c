/*
 * fuzz/fuzz_stream.c - the incremental stream decoder (tofu_decoder_next),
 * fed the same byte stream whole and split at fuzzer-chosen points.
 *
 * Input layout (the first bytes steer the harness, the rest is the stream):
 *   [0]     bit 0: TOFU_DEC_VALIDATE; bit 1: use the limits below, else 65535
 *   [1..2]  max text-headers length (big-endian)
 *   [3..4]  max body length (big-endian)
 *   [5]     number of chunks k (at most 64), then k bytes: chunk lengths
 *           (0 = an empty feed); whatever is left after them is fed whole.
 *
 * Oracles:
 *   - per call: consumed <= len; chunk views inside the consumed bytes;
 *     chunks non-empty; incomplete only when everything was consumed; events
 *     in the order HEADER, TEXT*, BODY*, END with text/body totals equal to
 *     the header's lengths and END repeating the HEADER's header; errors are
 *     sticky; at_boundary exactly between frames; no endless loop;
 *   - whole vs split: the same events (chunks merged), the same bytes, the
 *     same final state (the same error class, or incomplete at the same
 *     boundary state);
 *   - against a plain model of the stream (16-byte header, thl bytes, bl
 *     bytes, repeated) with the receive check and the limits: the same
 *     frames, and an error exactly where the model has one, of a class that
 *     applies to that frame.
 */
#include "fuzz.h"
#include "tofu/codec.h"

/* The decoder's story as bytes: 'H' + 16 header bytes; 'T' then the text
 * bytes (chunks merged); 'B' then the body bytes; 'E' + 16 header bytes. */
struct log {
	uint8_t *b;
	size_t len, cap;
	int last; /* last section opened in the current frame */
};

static void log_put(struct log *l, const void *p, size_t n)
{
	if (l->len + n > l->cap) {
		size_t cap = l->cap ? l->cap : 256;
		while (cap < l->len + n)
			cap *= 2;
		l->b = realloc(l->b, cap);
		FUZZ_CHECK(l->b != NULL, "out of memory");
		l->cap = cap;
	}
	memcpy(l->b + l->len, p, n);
	l->len += n;
}

static int log_eq(const struct log *a, const struct log *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->b, b->b, a->len) == 0);
}

static void log_header(struct log *l, char tag, const tofu_header *h)
{
	uint8_t b[1 + TOFU_HEADER_SIZE];
	b[0] = (uint8_t)tag;
	tofu_header_encode(h, b + 1);
	log_put(l, b, sizeof b);
}

struct run {
	tofu_decoder d;
	struct log log;
	int state; /* 0 between frames, else the last event of this frame */
	tofu_header cur;
	size_t text_seen, body_seen;
	size_t frame_bytes; /* consumed since the last frame boundary */
	int final;	    /* TOFU_E_INCOMPLETE or the sticky error */
	size_t calls;
};

static void run_init(struct run *r, unsigned flags, uint16_t mt, uint16_t mb)
{
	memset(r, 0, sizeof *r);
	tofu_decoder_init(&r->d, flags, mt, mb);
	r->final = TOFU_E_INCOMPLETE;
}

/* Feeds one buffer until the decoder wants more or fails. Returns 0 once
 * the decoder has failed. */
static int feed(struct run *r, const uint8_t *buf, size_t len, size_t budget)
{
	size_t off = 0;
	for (;;) {
		FUZZ_CHECK(++r->calls <= budget, "decoder makes no progress (%zu calls)", r->calls);
		tofu_dec_event ev;
		size_t consumed = (size_t)-1;
		const uint8_t *p = buf + off;
		size_t n = len - off;
		int e = tofu_decoder_next(&r->d, p, n, &consumed, &ev);
		FUZZ_CHECK(consumed <= n, "consumed %zu of %zu", consumed, n);
		off += consumed;
		r->frame_bytes += consumed;
		if (e == TOFU_E_INCOMPLETE) {
			FUZZ_CHECK(consumed == n, "incomplete with %zu bytes left", n - consumed);
			int between =
			    (r->state == 0 || r->state == TOFU_DEC_END) && r->frame_bytes == 0;
			FUZZ_CHECK(tofu_decoder_at_boundary(&r->d) == between,
				   "at_boundary %d, but state %d after %zu bytes of a frame",
				   tofu_decoder_at_boundary(&r->d), r->state, r->frame_bytes);
			return 1;
		}
		if (e < 0) {
			FUZZ_CHECK(tofu_error_name(e) != NULL, "unknown error %d", e);
			r->final = e;
			size_t c2 = (size_t)-1;
			int again = tofu_decoder_next(&r->d, p + consumed, n - consumed, &c2, &ev);
			FUZZ_CHECK(again == e && c2 == 0,
				   "error not sticky: %d then %d (%zu bytes)", e, again, c2);
			return 0;
		}
		switch (e) {
		case TOFU_DEC_HEADER:
			FUZZ_CHECK(r->state == 0 || r->state == TOFU_DEC_END, "HEADER after %d",
				   r->state);
			FUZZ_CHECK(r->frame_bytes == TOFU_HEADER_SIZE,
				   "HEADER after %zu bytes of the frame", r->frame_bytes);
			FUZZ_CHECK(!tofu_decoder_at_boundary(&r->d) ||
				       (ev.header.text_headers_len == 0 && ev.header.body_len == 0),
				   "at a boundary right after HEADER");
			r->cur = ev.header;
			r->text_seen = r->body_seen = 0;
			r->log.last = 0;
			log_header(&r->log, 'H', &ev.header);
			break;
		case TOFU_DEC_TEXT:
		case TOFU_DEC_BODY: {
			int text = e == TOFU_DEC_TEXT;
			FUZZ_CHECK(r->state == TOFU_DEC_HEADER || r->state == TOFU_DEC_TEXT ||
				       (!text && r->state == TOFU_DEC_BODY),
				   "%s chunk after %d", text ? "text" : "body", r->state);
			FUZZ_CHECK(ev.len > 0, "empty chunk");
			FUZZ_CHECK(ev.data >= p && ev.data + ev.len <= p + consumed,
				   "chunk outside the consumed bytes");
			size_t *seen = text ? &r->text_seen : &r->body_seen;
			size_t limit = text ? r->cur.text_headers_len : r->cur.body_len;
			*seen += ev.len;
			FUZZ_CHECK(*seen <= limit, "%zu %s bytes, header says %zu", *seen,
				   text ? "text" : "body", limit);
			if (r->log.last != e) {
				log_put(&r->log, text ? "T" : "B", 1);
				r->log.last = e;
			}
			log_put(&r->log, ev.data, ev.len);
			FUZZ_CHECK(r->frame_bytes == TOFU_HEADER_SIZE + r->text_seen + r->body_seen,
				   "%zu bytes consumed for %zu of the frame", r->frame_bytes,
				   TOFU_HEADER_SIZE + r->text_seen + r->body_seen);
			break;
		}
		case TOFU_DEC_END: {
			FUZZ_CHECK(r->state != 0 && r->state != TOFU_DEC_END, "END after %d",
				   r->state);
			FUZZ_CHECK(r->text_seen == r->cur.text_headers_len &&
				       r->body_seen == r->cur.body_len,
				   "END after %zu/%zu bytes of %u/%u", r->text_seen, r->body_seen,
				   r->cur.text_headers_len, r->cur.body_len);
			uint8_t a[TOFU_HEADER_SIZE], b[TOFU_HEADER_SIZE];
			tofu_header_encode(&ev.header, a);
			tofu_header_encode(&r->cur, b);
			FUZZ_CHECK(memcmp(a, b, sizeof a) == 0, "END header differs from HEADER");
			FUZZ_CHECK(tofu_decoder_at_boundary(&r->d), "not at a boundary after END");
			FUZZ_CHECK(consumed == 0, "END consumed %zu bytes", consumed);
			r->frame_bytes = 0;
			log_header(&r->log, 'E', &ev.header);
			break;
		}
		default:
			FUZZ_CHECK(0, "unknown event %d", e);
		}
		r->state = e;
	}
}

/* The plain model: frames back to back; returns the final state and writes
 * the same log a correct decoder produces. *allowed gets the error classes
 * that apply to a failing frame (bit -e). */
static int model(const uint8_t *s, size_t n, unsigned flags, uint16_t mt, uint16_t mb,
		 struct log *l, uint32_t *allowed)
{
	size_t off = 0;
	*allowed = 0;
	while (n - off >= TOFU_HEADER_SIZE) {
		tofu_header h;
		tofu_header_decode(s + off, TOFU_HEADER_SIZE, &h);
		if (flags & TOFU_DEC_VALIDATE) {
			int c = tofu_header_check_received(&h);
			if (c)
				*allowed |= 1u << -c;
		}
		if (h.text_headers_len > mt)
			*allowed |= 1u << -TOFU_E_HEADERS_TOO_LONG;
		if (h.body_len > mb)
			*allowed |= 1u << -TOFU_E_BODY_TOO_LONG;
		if (*allowed)
			return -1;
		log_header(l, 'H', &h);
		off += TOFU_HEADER_SIZE;
		size_t t = h.text_headers_len < n - off ? h.text_headers_len : n - off;
		if (t) {
			log_put(l, "T", 1);
			log_put(l, s + off, t);
		}
		off += t;
		size_t b = h.body_len < n - off ? h.body_len : n - off;
		if (b) {
			log_put(l, "B", 1);
			log_put(l, s + off, b);
		}
		off += b;
		if (t < h.text_headers_len || b < h.body_len)
			return 0; /* inside a frame */
		log_header(l, 'E', &h);
	}
	return off == n; /* 1: at a boundary */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 6)
		return 0;
	unsigned flags = (data[0] & 1) ? TOFU_DEC_VALIDATE : 0;
	uint16_t mt = TOFU_MAX_TEXT_HEADERS_LEN, mb = TOFU_MAX_BODY_LEN;
	if (data[0] & 2) {
		mt = fuzz_be16(data + 1);
		mb = fuzz_be16(data + 3);
	}
	size_t k = data[5] > 64 ? 64 : data[5];
	size_t pos = 6;
	if (size - pos < k)
		k = size - pos;
	const uint8_t *chunks = data + pos;
	pos += k;
	const uint8_t *s = data + pos;
	size_t n = size - pos;
	size_t budget = 4 * n + 4 * k + 16;

	/* whole */
	struct run whole, split;
	run_init(&whole, flags, mt, mb);
	feed(&whole, s, n, budget);

	/* split: each chunk in a buffer of its own size, so a read past a
	 * chunk is caught by the sanitizer */
	run_init(&split, flags, mt, mb);
	size_t off = 0;
	int alive = 1;
	for (size_t i = 0; alive && i <= k; i++) {
		size_t c = i < k ? chunks[i] : n - off;
		if (c > n - off)
			c = n - off;
		uint8_t *piece = malloc(c ? c : 1);
		memcpy(piece, s + off, c);
		alive = feed(&split, piece, c, budget);
		free(piece);
		off += c;
	}

	FUZZ_CHECK(whole.final == split.final, "whole ends %s, split ends %s",
		   tofu_error_name(whole.final), tofu_error_name(split.final));
	FUZZ_CHECK(log_eq(&whole.log, &split.log),
		   "whole and split events differ (%zu vs %zu log bytes)", whole.log.len,
		   split.log.len);
	FUZZ_CHECK(tofu_decoder_at_boundary(&whole.d) == tofu_decoder_at_boundary(&split.d),
		   "boundary state differs");

	/* the model */
	struct log ml = {0};
	uint32_t allowed;
	int m = model(s, n, flags, mt, mb, &ml, &allowed);
	FUZZ_CHECK(log_eq(&ml, &whole.log),
		   "decoder events differ from the model (%zu vs %zu log bytes)", whole.log.len,
		   ml.len);
	if (m < 0) {
		FUZZ_CHECK(whole.final < 0 && whole.final != TOFU_E_INCOMPLETE &&
			       (allowed & (1u << -whole.final)),
			   "decoder ends %s where the model fails (mask 0x%x)",
			   tofu_error_name(whole.final), allowed);
	} else {
		FUZZ_CHECK(whole.final == TOFU_E_INCOMPLETE, "decoder fails (%s), model does not",
			   tofu_error_name(whole.final));
		FUZZ_CHECK(tofu_decoder_at_boundary(&whole.d) == m, "at_boundary %d, model %d",
			   tofu_decoder_at_boundary(&whole.d), m);
	}
	free(whole.log.b);
	free(split.log.b);
	free(ml.b);
	return 0;
}
