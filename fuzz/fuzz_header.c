/*
 * fuzz/fuzz_header.c - binary header, receive/send checks, frame parse and
 * frame encode.
 *
 * Input: the first 16 bytes are a wire header; the whole input is also
 * offered to tofu_frame_parse; the bytes after the header are split (at an
 * offset taken from the input) into text headers and body for the encoder.
 *
 * Oracles:
 *   - decode(b) then encode gives b back: every 16 bytes are some header,
 *     and no field may be lost or altered;
 *   - decode(encode(h)) == h, field by field;
 *   - tofu_header_check_received agrees with a plain restatement of its
 *     documented rule order (ref_check_received below);
 *   - tofu_header_check_send never accepts what the receive check refuses,
 *     a local-only ByeSignal (internal_a), or over-long parts;
 *   - frame_parse returns exactly 16 + thl + bl, or incomplete when fewer
 *     bytes are there, with views inside the input;
 *   - frame_encode's iovecs, concatenated, parse back to the same header and
 *     parts.
 */
#include <sys/uio.h>

#include "fuzz.h"
#include "tofu/codec.h"

/* The documented order of tofu_header_check_received (codec.h, WIRE-7). */
static int ref_check_received(const tofu_header *h)
{
	unsigned op = tofu_proto_opcode(h->proto);
	if (op > TOFU_OP_BYE_SIGNAL)
		return TOFU_E_BAD_OPCODE;
	if (tofu_proto_origin(h->proto))
		return TOFU_E_FORGED_ORIGIN;
	if (h->status != 0)
		return TOFU_E_NONZERO_STATUS;
	if (tofu_proto_more(h->proto) && op >= TOFU_OP_HELLO_REQUEST)
		return TOFU_E_MORE_NOT_ALLOWED;
	if ((op == TOFU_OP_RESPONSE || op == TOFU_OP_HELLO_RESPONSE ||
	     op == TOFU_OP_BYE_RESPONSE) &&
	    h->message_id == 0)
		return TOFU_E_ZERO_RESPONSE_ID;
	return 0;
}

static void ref_decode(const uint8_t *b, tofu_header *h)
{
	h->channel_number = fuzz_be16(b + TOFU_HDR_CHANNEL_NUMBER_OFFSET);
	h->proto = b[TOFU_HDR_PROTO_OFFSET];
	h->status = b[TOFU_HDR_STATUS_OFFSET];
	h->message_id = 0;
	for (int i = 0; i < 8; i++)
		h->message_id = (h->message_id << 8) | b[TOFU_HDR_MESSAGE_ID_OFFSET + i];
	h->text_headers_len = fuzz_be16(b + TOFU_HDR_TEXT_HEADERS_LEN_OFFSET);
	h->body_len = fuzz_be16(b + TOFU_HDR_BODY_LEN_OFFSET);
}

static int same_header(const tofu_header *a, const tofu_header *b)
{
	return a->channel_number == b->channel_number && a->proto == b->proto &&
	       a->status == b->status && a->message_id == b->message_id &&
	       a->text_headers_len == b->text_headers_len && a->body_len == b->body_len;
}

static void check_names(const tofu_header *h)
{
	unsigned op = tofu_proto_opcode(h->proto);
	FUZZ_CHECK((tofu_opcode_name((int)op) != NULL) == (op < TOFU_OPCODE_COUNT), "op %u", op);
	FUZZ_CHECK((tofu_opcode_type((int)op) >= 0) == (op < TOFU_OPCODE_COUNT), "op %u", op);
	FUZZ_CHECK((tofu_opcode_role((int)op) >= 0) == (op < TOFU_OPCODE_COUNT), "op %u", op);
	FUZZ_CHECK(tofu_opcode_on_wire((int)op) == (op <= TOFU_OP_BYE_SIGNAL), "op %u", op);
	int echo = tofu_opcode_echo((int)op);
	if (echo >= 0)
		FUZZ_CHECK(echo < TOFU_OPCODE_COUNT &&
			       tofu_opcode_type(echo) == tofu_opcode_type((int)op),
			   "echo of %u is %d", op, echo);
	/* status/error tables, probed with input-chosen numbers */
	int s = (int)(int8_t)h->status;
	FUZZ_CHECK((tofu_status_name(s) != NULL) == (s >= 0 && s < TOFU_STATUS_COUNT), "status %d",
		   s);
	int e = -(int)(h->status % 32);
	if (e < 0 && e >= -TOFU_ERROR_COUNT) {
		FUZZ_CHECK(tofu_error_name(e) != NULL, "error %d has no name", e);
		int st = tofu_error_status(e);
		FUZZ_CHECK(st >= 0 && st < TOFU_STATUS_COUNT, "error %d -> status %d", e, st);
	} else if (e < -TOFU_ERROR_COUNT) {
		FUZZ_CHECK(tofu_error_name(e) == NULL, "unknown error %d has a name", e);
	}
}

static void check_frame_parse(const uint8_t *data, size_t size)
{
	tofu_frame_view f;
	long n = tofu_frame_parse(data, size, &f);
	if (size < TOFU_HEADER_SIZE) {
		FUZZ_CHECK(n == TOFU_E_INCOMPLETE, "frame_parse(%zu bytes) = %ld", size, n);
		return;
	}
	tofu_header h;
	ref_decode(data, &h);
	size_t need = TOFU_HEADER_SIZE + (size_t)h.text_headers_len + h.body_len;
	if (size < need) {
		FUZZ_CHECK(n == TOFU_E_INCOMPLETE, "frame_parse short = %ld", n);
		return;
	}
	FUZZ_CHECK(n == (long)need, "frame_parse = %ld, want %zu", n, need);
	FUZZ_CHECK(same_header(&f.header, &h), "frame_parse header differs");
	FUZZ_CHECK(fuzz_inside(f.text_headers, h.text_headers_len, data, size), "th view");
	FUZZ_CHECK(fuzz_inside(f.body, h.body_len, data, size), "body view");
	FUZZ_CHECK(h.text_headers_len == 0 || f.text_headers == data + TOFU_HEADER_SIZE, "th ptr");
	FUZZ_CHECK(h.body_len == 0 || f.body == data + TOFU_HEADER_SIZE + h.text_headers_len,
		   "body ptr");
}

static void check_frame_encode(const tofu_header *h0, const uint8_t *rest, size_t rest_len)
{
	size_t split = 0;
	if (rest_len >= 2) {
		split = fuzz_be16(rest) % (rest_len - 1);
		rest += 2;
		rest_len -= 2;
	}
	const uint8_t *th = rest, *body = rest + split;
	size_t thl = split, bl = rest_len - split;
	tofu_header h = *h0;
	uint8_t hdr[TOFU_HEADER_SIZE];
	struct iovec iov[3];
	int n = tofu_frame_encode(&h, hdr, th, thl, body, bl, iov);
	FUZZ_CHECK(n == 1 + (thl > 0) + (bl > 0), "frame_encode = %d (thl %zu bl %zu)", n, thl, bl);
	FUZZ_CHECK(h.text_headers_len == thl && h.body_len == bl, "encode did not set lengths");
	uint8_t *wire = malloc(TOFU_HEADER_SIZE + thl + bl);
	size_t off = 0;
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(iov[i].iov_len > 0, "empty iovec %d", i);
		memcpy(wire + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	FUZZ_CHECK(off == TOFU_HEADER_SIZE + thl + bl, "iov total %zu", off);
	FUZZ_CHECK(memcmp(wire, hdr, TOFU_HEADER_SIZE) == 0, "iov[0] is not hdr_out");
	tofu_frame_view f;
	long got = tofu_frame_parse(wire, off, &f);
	FUZZ_CHECK(got == (long)off, "re-parse = %ld", got);
	FUZZ_CHECK(same_header(&f.header, &h), "re-parsed header differs");
	FUZZ_CHECK(thl == 0 || memcmp(f.text_headers, th, thl) == 0, "text headers differ");
	FUZZ_CHECK(bl == 0 || memcmp(f.body, body, bl) == 0, "body differs");
	free(wire);

	/* Over-long parts are refused and leave the header as it was. The
	 * encoder only records pointers, so the short buffers are never read. */
	tofu_header before = h;
	int big = (h0->message_id & 1u) ? 1 : 2;
	n = tofu_frame_encode(&h, hdr, th, big == 1 ? (size_t)TOFU_MAX_TEXT_HEADERS_LEN + 1 : thl,
			      body, big == 2 ? (size_t)TOFU_MAX_BODY_LEN + 1 : bl, iov);
	FUZZ_CHECK(n == (big == 1 ? TOFU_E_HEADERS_TOO_LONG : TOFU_E_BODY_TOO_LONG),
		   "frame_encode with an over-long part = %d", n);
	FUZZ_CHECK(same_header(&h, &before), "failed frame_encode changed the header");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tofu_header h;
	memset(&h, 0xA5, sizeof h);
	long n = tofu_header_decode(data, size, &h);
	if (size < TOFU_HEADER_SIZE) {
		FUZZ_CHECK(n == TOFU_E_INCOMPLETE, "decode(%zu bytes) = %ld", size, n);
		check_frame_parse(data, size);
		return 0;
	}
	FUZZ_CHECK(n == TOFU_HEADER_SIZE, "decode = %ld", n);

	/* Only the first 16 bytes matter. */
	tofu_header ref, h16;
	ref_decode(data, &ref);
	FUZZ_CHECK(same_header(&h, &ref), "decode disagrees with the byte layout");
	FUZZ_CHECK(tofu_header_decode(data, TOFU_HEADER_SIZE, &h16) == TOFU_HEADER_SIZE &&
		       same_header(&h16, &h),
		   "decode depends on bytes after the header");

	/* decode -> encode -> decode */
	uint8_t out[TOFU_HEADER_SIZE];
	tofu_header_encode(&h, out);
	FUZZ_CHECK(memcmp(out, data, TOFU_HEADER_SIZE) == 0, "encode(decode(b)) != b");
	tofu_header h2;
	FUZZ_CHECK(tofu_header_decode(out, sizeof out, &h2) == TOFU_HEADER_SIZE, "re-decode");
	FUZZ_CHECK(same_header(&h, &h2), "decode(encode(h)) != h");

	/* receive check against the documented rule order */
	int rc = tofu_header_check_received(&h);
	int want = ref_check_received(&h);
	FUZZ_CHECK(rc == want, "check_received = %d (%s), reference %d (%s), proto 0x%02x", rc,
		   tofu_error_name(rc), want, tofu_error_name(want), h.proto);

	/* send check: never laxer than the receive check */
	size_t thl = h.text_headers_len, bl = h.body_len;
	if (h.channel_number & 1u)
		thl += TOFU_MAX_TEXT_HEADERS_LEN; /* probe the part-length limits */
	if (h.channel_number & 2u)
		bl += TOFU_MAX_BODY_LEN;
	int sc = tofu_header_check_send(&h, thl, bl);
	if (sc == 0) {
		FUZZ_CHECK(rc == 0, "check_send accepts what check_received refuses (%d)", rc);
		FUZZ_CHECK(!(tofu_proto_opcode(h.proto) == TOFU_OP_BYE_SIGNAL &&
			     tofu_proto_internal_a(h.proto)),
			   "check_send accepts a local-only ByeSignal");
		FUZZ_CHECK(thl <= TOFU_MAX_TEXT_HEADERS_LEN && bl <= TOFU_MAX_BODY_LEN,
			   "check_send accepts parts %zu/%zu", thl, bl);
	} else {
		FUZZ_CHECK(tofu_error_name(sc) != NULL && sc != TOFU_E_INCOMPLETE,
			   "check_send = %d", sc);
	}

	check_names(&h);
	check_frame_parse(data, size);
	check_frame_encode(&h, data + TOFU_HEADER_SIZE, size - TOFU_HEADER_SIZE);
	return 0;
}
