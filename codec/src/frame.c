/*
 * Frames (WIRE-1): header, then <thl> bytes of text headers, then <bl> bytes
 * of body. A whole-buffer parser, an iovec encoder, and an incremental
 * decoder for a byte stream cut at arbitrary points.
 */
#include "tofu/codec.h"

long tofu_frame_parse(const void *buf, size_t len, tofu_frame_view *f)
{
	const uint8_t *p = buf;
	size_t need;

	if (tofu_header_decode(buf, len, &f->header) < 0)
		return TOFU_E_INCOMPLETE;
	need = (size_t)TOFU_HEADER_SIZE + f->header.text_headers_len + f->header.body_len;
	if (len < need)
		return TOFU_E_INCOMPLETE;
	f->text_headers = p + TOFU_HEADER_SIZE;
	f->body = f->text_headers + f->header.text_headers_len;
	return (long)need;
}

int tofu_frame_encode(tofu_header *h, uint8_t hdr_out[TOFU_HEADER_SIZE], const void *text_headers,
		      size_t text_headers_len, const void *body, size_t body_len,
		      struct iovec iov[3])
{
	int n = 0;

	if (text_headers_len > TOFU_MAX_TEXT_HEADERS_LEN)
		return TOFU_E_HEADERS_TOO_LONG;
	if (body_len > TOFU_MAX_BODY_LEN)
		return TOFU_E_BODY_TOO_LONG;
	h->text_headers_len = (uint16_t)text_headers_len;
	h->body_len = (uint16_t)body_len;
	tofu_header_encode(h, hdr_out);
	iov[n].iov_base = hdr_out;
	iov[n++].iov_len = TOFU_HEADER_SIZE;
	if (text_headers_len) {
		iov[n].iov_base = (void *)(uintptr_t)text_headers;
		iov[n++].iov_len = text_headers_len;
	}
	if (body_len) {
		iov[n].iov_base = (void *)(uintptr_t)body;
		iov[n++].iov_len = body_len;
	}
	return n;
}

/* Decoder states. */
enum { ST_HEADER, ST_TEXT, ST_BODY, ST_END };

void tofu_decoder_init(tofu_decoder *d, unsigned flags, uint16_t max_text_headers_len,
		       uint16_t max_body_len)
{
	d->flags = flags;
	d->state = ST_HEADER;
	d->have = 0;
	d->error = 0;
	d->max_text_headers_len = max_text_headers_len;
	d->max_body_len = max_body_len;
	d->header = (tofu_header){0};
}

int tofu_decoder_at_boundary(const tofu_decoder *d)
{
	return d->error == 0 && d->state == ST_HEADER && d->have == 0;
}

static int fail(tofu_decoder *d, int err)
{
	d->error = err;
	return err;
}

/* Hands out up to `part_len - have` bytes of the current part as one chunk. */
static int chunk(tofu_decoder *d, const uint8_t *p, size_t len, size_t part_len, unsigned next,
		 int event, size_t *consumed, tofu_dec_event *ev)
{
	size_t n = part_len - d->have;

	if (n > len)
		n = len;
	ev->header = d->header;
	ev->data = p;
	ev->len = n;
	d->have += n;
	*consumed = n;
	if (d->have == part_len) {
		d->state = next;
		d->have = 0;
	}
	return event;
}

int tofu_decoder_next(tofu_decoder *d, const void *buf, size_t len, size_t *consumed,
		      tofu_dec_event *ev)
{
	const uint8_t *p = buf;
	int rc;

	*consumed = 0;
	if (d->error)
		return d->error;

	switch (d->state) {
	case ST_HEADER:
		if (d->have == 0 && len >= TOFU_HEADER_SIZE) {
			/* Fast path: the whole header is in this buffer. */
			tofu_header_decode(p, len, &d->header);
			*consumed = TOFU_HEADER_SIZE;
		} else {
			size_t n = TOFU_HEADER_SIZE - d->have;

			if (n > len)
				n = len;
			for (size_t i = 0; i < n; i++)
				d->hbuf[d->have + i] = p[i];
			d->have += n;
			*consumed = n;
			if (d->have < TOFU_HEADER_SIZE)
				return TOFU_E_INCOMPLETE;
			tofu_header_decode(d->hbuf, TOFU_HEADER_SIZE, &d->header);
		}
		d->have = 0;
		if ((d->flags & TOFU_DEC_VALIDATE) &&
		    (rc = tofu_header_check_received(&d->header)) != 0)
			return fail(d, rc);
		if (d->header.text_headers_len > d->max_text_headers_len)
			return fail(d, TOFU_E_HEADERS_TOO_LONG);
		if (d->header.body_len > d->max_body_len)
			return fail(d, TOFU_E_BODY_TOO_LONG);
		d->state = ST_TEXT;
		ev->header = d->header;
		ev->data = NULL;
		ev->len = 0;
		return TOFU_DEC_HEADER;

	case ST_TEXT:
		if (d->header.text_headers_len > 0) {
			if (len == 0)
				return TOFU_E_INCOMPLETE;
			return chunk(d, p, len, d->header.text_headers_len, ST_BODY, TOFU_DEC_TEXT,
				     consumed, ev);
		}
		d->state = ST_BODY;
		/* fall through */
	case ST_BODY:
		if (d->header.body_len > 0) {
			if (len == 0)
				return TOFU_E_INCOMPLETE;
			return chunk(d, p, len, d->header.body_len, ST_END, TOFU_DEC_BODY, consumed,
				     ev);
		}
		d->state = ST_END;
		/* fall through */
	default: /* ST_END */
		d->state = ST_HEADER;
		d->have = 0;
		ev->header = d->header;
		ev->data = NULL;
		ev->len = 0;
		return TOFU_DEC_END;
	}
}
