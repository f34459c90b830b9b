/*
 * The 16-byte binary header (WIRE-2).
 *
 * Every multi-byte field is assembled byte by byte in big-endian order. Zig
 * tofu copies a packed struct instead, which gives a different layout on
 * big-endian hosts (WIRE-10); doing it by shifts makes the result the same
 * on every host without any #if on byte order.
 */
#include "tofu/codec.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Written as one expression per byte so that compilers fold it into a
 * byte-swapping store/load on little-endian hosts and a plain one on
 * big-endian hosts. */
static void put64(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)(v >> 56);
	p[1] = (uint8_t)(v >> 48);
	p[2] = (uint8_t)(v >> 40);
	p[3] = (uint8_t)(v >> 32);
	p[4] = (uint8_t)(v >> 24);
	p[5] = (uint8_t)(v >> 16);
	p[6] = (uint8_t)(v >> 8);
	p[7] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
	       (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	       (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

void tofu_header_encode(const tofu_header *h, uint8_t out[TOFU_HEADER_SIZE])
{
	put16(out + TOFU_HDR_CHANNEL_NUMBER_OFFSET, h->channel_number);
	out[TOFU_HDR_PROTO_OFFSET] = h->proto;
	out[TOFU_HDR_STATUS_OFFSET] = h->status;
	put64(out + TOFU_HDR_MESSAGE_ID_OFFSET, h->message_id);
	put16(out + TOFU_HDR_TEXT_HEADERS_LEN_OFFSET, h->text_headers_len);
	put16(out + TOFU_HDR_BODY_LEN_OFFSET, h->body_len);
}

long tofu_header_decode(const void *buf, size_t len, tofu_header *h)
{
	const uint8_t *p = buf;

	if (len < TOFU_HEADER_SIZE)
		return TOFU_E_INCOMPLETE;
	h->channel_number = get16(p + TOFU_HDR_CHANNEL_NUMBER_OFFSET);
	h->proto = p[TOFU_HDR_PROTO_OFFSET];
	h->status = p[TOFU_HDR_STATUS_OFFSET];
	h->message_id = get64(p + TOFU_HDR_MESSAGE_ID_OFFSET);
	h->text_headers_len = get16(p + TOFU_HDR_TEXT_HEADERS_LEN_OFFSET);
	h->body_len = get16(p + TOFU_HDR_BODY_LEN_OFFSET);
	return TOFU_HEADER_SIZE;
}

/* WIRE-7: the order of the checks is normative, so that every conforming
 * receiver reports the same class for a frame with several faults. */
int tofu_header_check_received(const tofu_header *h)
{
	unsigned bit = 1u << tofu_proto_opcode(h->proto);

	if (!(bit & TOFU_OPCODES_ON_WIRE))
		return TOFU_E_BAD_OPCODE;
	if (tofu_proto_origin(h->proto))
		return TOFU_E_FORGED_ORIGIN;
	if (h->status != TOFU_STATUS_SUCCESS)
		return TOFU_E_NONZERO_STATUS;
	if (tofu_proto_more(h->proto) && !(bit & TOFU_OPCODES_TYPE_REGULAR))
		return TOFU_E_MORE_NOT_ALLOWED;
	if (h->message_id == 0 && (bit & TOFU_OPCODES_ROLE_RESPONSE))
		return TOFU_E_ZERO_RESPONSE_ID;
	return 0;
}

int tofu_header_check_send(const tofu_header *h, size_t text_headers_len, size_t body_len)
{
	int rc = tofu_header_check_received(h);

	if (rc != 0)
		return rc;
	/* ByeSignal with internal_a is the local abort form (proto 0x47): it
	 * must never become a frame (WIRE-8.5). */
	if (tofu_proto_opcode(h->proto) == TOFU_OP_BYE_SIGNAL && tofu_proto_internal_a(h->proto))
		return TOFU_E_BAD_OPCODE;
	if (text_headers_len > TOFU_MAX_TEXT_HEADERS_LEN)
		return TOFU_E_HEADERS_TOO_LONG;
	if (body_len > TOFU_MAX_BODY_LEN)
		return TOFU_E_BODY_TOO_LONG;
	return 0;
}
