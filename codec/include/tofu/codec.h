/*
 * tofu/codec.h - the tofu wire codec: binary header, frames, text headers,
 * address values. The one public header of libtofu-codec.
 *
 * Properties every function here keeps (spec/tofu-wire.md, section CODEC):
 *   - no allocation, no I/O, no threads, no global mutable state;
 *   - multi-byte fields are read and written byte by byte in big-endian
 *     order, so results are identical on little- and big-endian hosts;
 *   - a parser reads only the bytes [buf, buf + len) it is given and returns
 *     the number of bytes consumed (>= 0), TOFU_E_INCOMPLETE when the input
 *     ends before the item does, or another negative TOFU_E_* error class.
 *
 * The numbers between the GENERATED markers come from spec/tofu-wire.toml
 * (`make regen`); edit the definition, not them.
 */
#ifndef TOFU_CODEC_H
#define TOFU_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* BEGIN GENERATED (spec/gen/gen.py from spec/tofu-wire.toml) */
#define TOFU_WIRE_SPEC_VERSION "1.0.0"
#define TOFU_WIRE_DESCRIBES "g41797/tofu commit 1700d2a (2026-05-20)"

/* Binary header: size, and offset/size of each big-endian field. */
#define TOFU_HEADER_SIZE 16
#define TOFU_HDR_CHANNEL_NUMBER_OFFSET 0
#define TOFU_HDR_CHANNEL_NUMBER_SIZE 2
#define TOFU_HDR_PROTO_OFFSET 2
#define TOFU_HDR_PROTO_SIZE 1
#define TOFU_HDR_STATUS_OFFSET 3
#define TOFU_HDR_STATUS_SIZE 1
#define TOFU_HDR_MESSAGE_ID_OFFSET 4
#define TOFU_HDR_MESSAGE_ID_SIZE 8
#define TOFU_HDR_TEXT_HEADERS_LEN_OFFSET 12
#define TOFU_HDR_TEXT_HEADERS_LEN_SIZE 2
#define TOFU_HDR_BODY_LEN_OFFSET 14
#define TOFU_HDR_BODY_LEN_SIZE 2

/* The proto byte: bit position and mask of each field. */
#define TOFU_PROTO_OPCODE_SHIFT 0
#define TOFU_PROTO_OPCODE_MASK 0x0Fu
#define TOFU_PROTO_ORIGIN_SHIFT 4
#define TOFU_PROTO_ORIGIN_MASK 0x10u
#define TOFU_PROTO_MORE_SHIFT 5
#define TOFU_PROTO_MORE_MASK 0x20u
#define TOFU_PROTO_INTERNAL_A_SHIFT 6
#define TOFU_PROTO_INTERNAL_A_MASK 0x40u
#define TOFU_PROTO_INTERNAL_B_SHIFT 7
#define TOFU_PROTO_INTERNAL_B_MASK 0x80u

/* Opcodes (proto bits 0-3). */
enum tofu_opcode {
	TOFU_OP_REQUEST = 0,
	TOFU_OP_RESPONSE = 1,
	TOFU_OP_SIGNAL = 2,
	TOFU_OP_HELLO_REQUEST = 3,
	TOFU_OP_HELLO_RESPONSE = 4,
	TOFU_OP_BYE_REQUEST = 5,
	TOFU_OP_BYE_RESPONSE = 6,
	TOFU_OP_BYE_SIGNAL = 7,
	TOFU_OP_WELCOME_REQUEST = 8,
	TOFU_OP_WELCOME_RESPONSE = 9,
};
#define TOFU_OPCODE_COUNT 10
/* Opcode sets as bit masks (bit n = opcode n), for branch-free checks. */
#define TOFU_OPCODES_ON_WIRE 0x00FFu
#define TOFU_OPCODES_TYPE_REGULAR 0x0007u
#define TOFU_OPCODES_TYPE_HELLO 0x0018u
#define TOFU_OPCODES_TYPE_BYE 0x00E0u
#define TOFU_OPCODES_TYPE_WELCOME 0x0300u
#define TOFU_OPCODES_ROLE_REQUEST 0x0129u
#define TOFU_OPCODES_ROLE_RESPONSE 0x0252u
#define TOFU_OPCODES_ROLE_SIGNAL 0x0084u

/* Opcode types and roles. */
enum tofu_opcode_type {
	TOFU_TYPE_REGULAR = 0,
	TOFU_TYPE_HELLO = 1,
	TOFU_TYPE_BYE = 2,
	TOFU_TYPE_WELCOME = 3,
};
enum tofu_opcode_role {
	TOFU_ROLE_REQUEST = 0,
	TOFU_ROLE_RESPONSE = 1,
	TOFU_ROLE_SIGNAL = 2,
};

/* Status byte values: fixed wire numbers. */
enum tofu_status {
	TOFU_STATUS_SUCCESS = 0,
	TOFU_STATUS_NOT_IMPLEMENTED_YET = 1,
	TOFU_STATUS_WRONG_ADDRESS = 2,
	TOFU_STATUS_NOT_ALLOWED = 3,
	TOFU_STATUS_NULL_MESSAGE = 4,
	TOFU_STATUS_INVALID_MESSAGE = 5,
	TOFU_STATUS_INVALID_OP_CODE = 6,
	TOFU_STATUS_INVALID_HEADERS_LEN = 7,
	TOFU_STATUS_INVALID_BODY_LEN = 8,
	TOFU_STATUS_INVALID_MORE_USAGE = 9,
	TOFU_STATUS_INVALID_CHANNEL_NUMBER = 10,
	TOFU_STATUS_INVALID_MCHN_GROUP = 11,
	TOFU_STATUS_INVALID_MESSAGE_ID = 12,
	TOFU_STATUS_INVALID_ADDRESS = 13,
	TOFU_STATUS_UDS_PATH_NOT_FOUND = 14,
	TOFU_STATUS_NOTIFICATION_DISABLED = 15,
	TOFU_STATUS_NOTIFICATION_FAILED = 16,
	TOFU_STATUS_PEER_DISCONNECTED = 17,
	TOFU_STATUS_COMMUNICATION_FAILED = 18,
	TOFU_STATUS_POOL_EMPTY = 19,
	TOFU_STATUS_ALLOCATION_FAILED = 20,
	TOFU_STATUS_RECEIVER_UPDATE = 21,
	TOFU_STATUS_CHANNEL_CLOSED = 22,
	TOFU_STATUS_SHUTDOWN_STARTED = 23,
	TOFU_STATUS_CONNECT_FAILED = 24,
	TOFU_STATUS_LISTEN_FAILED = 25,
	TOFU_STATUS_ACCEPT_FAILED = 26,
	TOFU_STATUS_SEND_FAILED = 27,
	TOFU_STATUS_RECV_FAILED = 28,
	TOFU_STATUS_SETSOCKOPT_FAILED = 29,
	TOFU_STATUS_PROCESSING_FAILED = 30,
	TOFU_STATUS_UNKNOWN_ERROR = 31,
};
#define TOFU_STATUS_COUNT 32

/* Codec result classes (negative; >= 0 means bytes consumed / OK). */
enum tofu_codec_error {
	TOFU_E_INCOMPLETE = -1, /* input ends before the item does; feed more bytes */
	TOFU_E_BAD_OPCODE = -2, /* received opcode is not allowed on the wire (8-15) */
	TOFU_E_FORGED_ORIGIN = -3, /* received frame claims origin = engine */
	TOFU_E_NONZERO_STATUS = -4, /* received frame carries a non-zero status */
	TOFU_E_MORE_NOT_ALLOWED = -5, /* more = 1 on a hello or bye frame */
	TOFU_E_ZERO_RESPONSE_ID = -6, /* response-role frame with message_id 0 */
	TOFU_E_HEADERS_TOO_LONG = -7, /* text headers longer than the limit in force */
	TOFU_E_BODY_TOO_LONG = -8, /* body longer than the limit in force */
	TOFU_E_EMPTY_NAME = -9, /* text header line with an empty name */
	TOFU_E_BAD_NAME_CHAR = -10, /* name byte outside VCHAR or a colon */
	TOFU_E_BAD_VALUE_CHAR = -11, /* value holds CR, LF or another control byte */
	TOFU_E_EMPTY_VALUE = -12, /* text header line with an empty value */
	TOFU_E_MISSING_COLON = -13, /* text header line without a colon */
	TOFU_E_MISSING_CRLF = -14, /* last text header line is not terminated by CR LF */
	TOFU_E_EMPTY_LINE = -15, /* empty line inside a strict text-header block */
	TOFU_E_VALUE_NOT_CANONICAL = -16, /* value starts or ends with SP/HTAB, which a parser would trim away */
	TOFU_E_NO_SPACE = -17, /* the caller's output buffer is too small */
	TOFU_E_ADDRESS_MISSING = -18, /* no ~connect_to / ~listen_on header */
	TOFU_E_ADDRESS_PARTS = -19, /* address value does not have 2 (uds) or 3 (tcp) parts */
	TOFU_E_ADDRESS_PROTOCOL = -20, /* protocol word is not tcp (3 parts) or uds (2 parts) */
	TOFU_E_ADDRESS_PORT = -21, /* port is not 1-5 decimal digits in 0..65535 */
	TOFU_E_ADDRESS_HOST = -22, /* host too long or holds a control byte */
	TOFU_E_ADDRESS_PATH = -23, /* UDS path too long or holds a NUL */
};
#define TOFU_ERROR_COUNT 23

/* Limits. */
#define TOFU_MAX_TEXT_HEADERS_LEN 65535
#define TOFU_MAX_BODY_LEN 65535
#define TOFU_MAX_FRAME_LEN 131086
#define TOFU_CHANNEL_UNASSIGNED 0
#define TOFU_CHANNEL_RESERVED 65535
#define TOFU_MAX_HOST_LEN 255
#define TOFU_MAX_UDS_PATH_LEN 107
#define TOFU_DEFAULT_PORT 7099
#define TOFU_DEFAULT_HOST "127.0.0.1"
#define TOFU_RECENTLY_RELEASED_CHANNELS 1024

/* Reserved text headers and address syntax. */
#define TOFU_HEADER_CONNECT_TO "~connect_to"
#define TOFU_HEADER_LISTEN_ON "~listen_on"
#define TOFU_ADDRESS_PART_SEPARATOR "|"
#define TOFU_ADDRESS_TCP "tcp"
#define TOFU_ADDRESS_UDS "uds"
#define TOFU_ADDRESS_ABSTRACT_PREFIX "@"
/* END GENERATED */

/* ------------------------------------------------------------------ */
/* Names and opcode classification                                     */
/* ------------------------------------------------------------------ */

/* "success" ... "unknown_error"; NULL for a number outside 0..31. */
const char *tofu_status_name(int status);
/* "Request" ... "WelcomeResponse"; NULL for 10..15 and out of range. */
const char *tofu_opcode_name(int opcode);
/* Error class name ("incomplete", "bad_opcode", ...); NULL if unknown. */
const char *tofu_error_name(int err);
/* The wire status an engine reports for an error class (TOFU_STATUS_*). */
int tofu_error_status(int err);

/* TOFU_TYPE_* of an opcode, or -1 for 10..15. */
int tofu_opcode_type(int opcode);
/* TOFU_ROLE_* of an opcode, or -1 for 10..15. */
int tofu_opcode_role(int opcode);
/* The opcode that echoes `opcode` (Request -> Response, ...), or -1. */
int tofu_opcode_echo(int opcode);
/* 1 if a conforming sender may put `opcode` on the wire (0..7). */
int tofu_opcode_on_wire(int opcode);

/* ------------------------------------------------------------------ */
/* The proto byte                                                      */
/* ------------------------------------------------------------------ */

static inline unsigned tofu_proto_opcode(uint8_t proto)
{
	return proto & TOFU_PROTO_OPCODE_MASK;
}
static inline unsigned tofu_proto_origin(uint8_t proto)
{
	return (proto & TOFU_PROTO_ORIGIN_MASK) ? 1u : 0u;
}
static inline unsigned tofu_proto_more(uint8_t proto)
{
	return (proto & TOFU_PROTO_MORE_MASK) ? 1u : 0u;
}
static inline unsigned tofu_proto_internal_a(uint8_t proto)
{
	return (proto & TOFU_PROTO_INTERNAL_A_MASK) ? 1u : 0u;
}
static inline unsigned tofu_proto_internal_b(uint8_t proto)
{
	return (proto & TOFU_PROTO_INTERNAL_B_MASK) ? 1u : 0u;
}
/* Builds a proto byte; each flag argument is treated as a boolean. */
static inline uint8_t tofu_proto_make(unsigned opcode, unsigned origin, unsigned more,
				      unsigned internal_a, unsigned internal_b)
{
	return (uint8_t)((opcode & TOFU_PROTO_OPCODE_MASK) |
			 (origin ? TOFU_PROTO_ORIGIN_MASK : 0u) | (more ? TOFU_PROTO_MORE_MASK : 0u) |
			 (internal_a ? TOFU_PROTO_INTERNAL_A_MASK : 0u) |
			 (internal_b ? TOFU_PROTO_INTERNAL_B_MASK : 0u));
}

/* ------------------------------------------------------------------ */
/* The 16-byte binary header                                           */
/* ------------------------------------------------------------------ */

/* The decoded header, in host representation. Never cast wire bytes to it. */
typedef struct tofu_header {
	uint16_t channel_number;
	uint8_t proto;
	uint8_t status;
	uint64_t message_id;
	uint16_t text_headers_len;
	uint16_t body_len;
} tofu_header;

/* Writes the 16 wire bytes of `h` to `out`. Cannot fail. */
void tofu_header_encode(const tofu_header *h, uint8_t out[TOFU_HEADER_SIZE]);

/* Reads a header from `buf`. Returns TOFU_HEADER_SIZE, or TOFU_E_INCOMPLETE
 * when len < 16. Decoding never fails otherwise: every 16 bytes are some
 * header; whether a receiver may accept it is tofu_header_check_received. */
long tofu_header_decode(const void *buf, size_t len, tofu_header *h);

/* The conforming-receiver check (WIRE-7.*): 0 when a frame with this header
 * may be delivered to the application, else the first failing error class in
 * this order: bad_opcode, forged_origin, nonzero_status, more_not_allowed,
 * zero_response_id. Flag bits 6-7 and the channel number are ignored. */
int tofu_header_check_received(const tofu_header *h);

/* The sender-side check of a frame about to be written (WIRE-2.*): the
 * same rules as tofu_header_check_received plus ByeSignal with internal_a
 * (a local abort, never a frame), and the part lengths. Returns 0 or an
 * error class. */
int tofu_header_check_send(const tofu_header *h, size_t text_headers_len, size_t body_len);

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

/* A whole frame found in a buffer; the pointers point into that buffer. */
typedef struct tofu_frame_view {
	tofu_header header;
	const uint8_t *text_headers; /* header.text_headers_len bytes */
	const uint8_t *body;	     /* header.body_len bytes */
} tofu_frame_view;

/* Parses one complete frame at the start of buf (no validation beyond the
 * lengths). Returns the frame size, or TOFU_E_INCOMPLETE. */
long tofu_frame_parse(const void *buf, size_t len, tofu_frame_view *f);

/* Frame encoder: sets h->text_headers_len / body_len from the part lengths,
 * writes the 16 header bytes to hdr_out and fills iov with the non-empty
 * parts in wire order (header, text headers, body). Returns the number of
 * iovecs used (1..3), or headers_too_long / body_too_long (h unchanged). */
int tofu_frame_encode(tofu_header *h, uint8_t hdr_out[TOFU_HEADER_SIZE], const void *text_headers,
		      size_t text_headers_len, const void *body, size_t body_len,
		      struct iovec iov[3]);

/* Incremental stream decoder over a byte stream split anywhere. Caller-
 * allocated; initialise with tofu_decoder_init. One frame at a time:
 *   TOFU_DEC_HEADER  a header was decoded (ev->header), validated if asked;
 *   TOFU_DEC_TEXT    ev->data/ev->len: the next chunk of text headers;
 *   TOFU_DEC_BODY    ev->data/ev->len: the next chunk of body;
 *   TOFU_DEC_END     the frame is complete (ev->header again);
 *   TOFU_E_INCOMPLETE  all input consumed, feed more;
 *   another TOFU_E_*   the stream is invalid; the decoder stays failed.
 * *consumed is always set to the bytes used from buf by this call; chunk
 * pointers point into buf. Zero-length parts produce no chunk event. */
enum {
	TOFU_DEC_HEADER = 1,
	TOFU_DEC_TEXT = 2,
	TOFU_DEC_BODY = 3,
	TOFU_DEC_END = 4,
};

/* Decoder options (bit set). */
enum {
	/* Apply tofu_header_check_received to every header. */
	TOFU_DEC_VALIDATE = 1u << 0,
};

typedef struct tofu_decoder {
	/* private */
	unsigned flags;
	unsigned state;
	size_t have; /* bytes of the current part already seen */
	int error;   /* sticky error class, 0 while healthy */
	uint16_t max_text_headers_len;
	uint16_t max_body_len;
	uint8_t hbuf[TOFU_HEADER_SIZE];
	tofu_header header;
} tofu_decoder;

typedef struct tofu_dec_event {
	tofu_header header;
	const uint8_t *data;
	size_t len;
} tofu_dec_event;

/* max_*: per-part limits in force (65535 = protocol maximum). */
void tofu_decoder_init(tofu_decoder *d, unsigned flags, uint16_t max_text_headers_len,
		       uint16_t max_body_len);
int tofu_decoder_next(tofu_decoder *d, const void *buf, size_t len, size_t *consumed,
		      tofu_dec_event *ev);
/* 1 when the decoder sits between frames (no partial frame buffered). */
int tofu_decoder_at_boundary(const tofu_decoder *d);

/* ------------------------------------------------------------------ */
/* Text headers                                                        */
/* ------------------------------------------------------------------ */

typedef struct tofu_th_field {
	const uint8_t *name;
	size_t name_len;
	const uint8_t *value;
	size_t value_len;
} tofu_th_field;

/* Pull iterator with exactly the Zig TextHeaderIterator semantics (WIRE-4.2):
 * lines end only at CR LF; empty lines are skipped; name/value split at the
 * first ':'; value trimmed of SP/HTAB; name untouched; a line without ':' is
 * a name with an empty value; the last line may lack CR LF; an empty name
 * ends the iteration (a later call continues after that line). */
typedef struct tofu_th_iter {
	const uint8_t *buf;
	size_t len;
	size_t pos;
} tofu_th_iter;

void tofu_th_iter_init(tofu_th_iter *it, const void *buf, size_t len);
/* 1 and *f filled, or 0 at the end (or at a line with an empty name). */
int tofu_th_next(tofu_th_iter *it, tofu_th_field *f);

/* First header named exactly `name` as a caller looping "until 0" sees it.
 * Returns 1 and fills *f, or 0. */
int tofu_th_find(const void *buf, size_t len, const char *name, size_t name_len,
		 tofu_th_field *f);

/* Strict validator (WIRE-4.3): the block must be a sequence of
 * name ":" OWS value OWS CRLF lines, name = 1*(VCHAR except ':'), value
 * non-empty without control bytes. Returns 0 or an error class; *err_offset
 * (if not NULL) gets the offset of the offending byte. */
int tofu_th_validate(const void *buf, size_t len, size_t *err_offset);

/* Serialiser into a caller's buffer (WIRE-4.4): appends name ":" value CRLF,
 * refusing anything a parser would read back differently or that would
 * inject a header. On error nothing is appended. */
typedef struct tofu_th_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
} tofu_th_writer;

void tofu_th_writer_init(tofu_th_writer *w, void *buf, size_t cap);
int tofu_th_append(tofu_th_writer *w, const void *name, size_t name_len, const void *value,
		   size_t value_len);

/* ------------------------------------------------------------------ */
/* Address values of ~connect_to / ~listen_on (WIRE-5.*)               */
/* ------------------------------------------------------------------ */

enum {
	TOFU_ADDR_TCP = 1,
	TOFU_ADDR_UDS = 2,
};

/* Pointers point into the parsed value; nothing is NUL-terminated. */
typedef struct tofu_address {
	int kind;	     /* TOFU_ADDR_TCP or TOFU_ADDR_UDS */
	const char *host;    /* TCP: may be empty (all interfaces) */
	size_t host_len;
	uint16_t port;	     /* TCP */
	const char *path;    /* UDS: may be empty (listener picks one) */
	size_t path_len;
	int abstract;	     /* UDS: 1 for the `@name` extension */
} tofu_address;

/* Parses `tcp|host|port` or `uds|path`. Returns 0 or an address_* error. */
int tofu_address_parse(const void *value, size_t len, tofu_address *a);

/* Finds the first ~connect_to or ~listen_on header of a block (the first one
 * wins, whichever it is) and parses it. *is_listen (if not NULL) is set to 1
 * for ~listen_on. Returns 0, address_missing, or an address_* error. */
int tofu_address_find(const void *text_headers, size_t len, tofu_address *a, int *is_listen);

/* Formats an address value into out (no NUL). Returns bytes written or
 * no_space / address_* errors. */
long tofu_address_format(const tofu_address *a, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* TOFU_CODEC_H */
