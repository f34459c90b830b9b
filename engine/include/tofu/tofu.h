/*
 * tofu/tofu.h - the tofu reference C engine: message pool, channel groups,
 * one reactor thread per engine over TCP and Unix sockets. The one public
 * header of libtofu (it includes tofu/codec.h for the wire constants).
 *
 * Concepts follow Zig tofu (g41797/tofu 1700d2a) in C idiom:
 *   Ampe          -> tofu_engine  (tofu_engine_create / tofu_engine_destroy)
 *   Message       -> tofu_msg     (opaque; tofu_get / tofu_put, accessors)
 *   ChannelGroup  -> tofu_group   (tofu_group_create / tofu_group_destroy)
 *   post / waitReceive / updateReceiver -> tofu_post / tofu_wait_receive /
 *                                           tofu_update_receiver
 *
 * Return values: every function returning int returns 0 on success or a
 * TOFU_STATUS_* wire status number (1..31, see codec.h); never anything else.
 *
 * Thread safety (as in Zig tofu): every function is thread-safe except
 * tofu_wait_receive, which must be called by one thread per group at a time.
 * A tofu_msg has exactly one owner; functions taking tofu_msg ** move
 * ownership and set the caller's pointer to NULL when they take it.
 *
 * Extensions beyond Zig tofu (documented in engine/README.md and spec WIRE-10):
 * `~bound_to` on a successful WelcomeResponse, `~close_reason` on the final
 * channel_closed Signal, `uds|@name` abstract Unix sockets, validation of
 * every received frame, graceful (FIN) close, configurable limits.
 */
#ifndef TOFU_TOFU_H
#define TOFU_TOFU_H

#include <stddef.h>
#include <stdint.h>

#include <tofu/codec.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TOFU_ENGINE_VERSION "0.1.0"

typedef struct tofu_engine tofu_engine;
typedef struct tofu_group tofu_group;
typedef struct tofu_msg tofu_msg;

/* Text headers added by this engine (extensions, see README). */
/* On a successful WelcomeResponse: the address actually bound, in
 * ~listen_on value syntax (real port for port 0, real path for `uds|`). */
#define TOFU_HEADER_BOUND_TO "~bound_to"
/* On the final channel_closed Signal: the status name of the close reason,
 * e.g. "recv_failed", "channel_closed", "invalid_op_code". */
#define TOFU_HEADER_CLOSE_REASON "~close_reason"

/* ------------------------------------------------------------------ */
/* Engine                                                              */
/* ------------------------------------------------------------------ */

typedef struct tofu_options {
	/* Messages preallocated in the pool (0 = 16). */
	uint32_t pool_initial;
	/* Most messages the pool keeps; extra puts free (0 = 64; raised to
	 * at least pool_initial). */
	uint32_t pool_max;
	/* Most open data channels (client + accepted); accepted sockets over
	 * the limit are closed at once (0 = unlimited). */
	uint32_t max_connections;
	/* Timeouts: TOFU_TIMEOUT_NONE disables. */
	/* Most time a peer may take to complete a frame once its first byte
	 * arrived; then the channel closes with recv_failed (0 = 30000,
	 * TOFU_TIMEOUT_NONE = no limit). Suspended while the pool is empty. */
	uint32_t frame_timeout_ms;
	/* Most time a channel stays open after this side wrote a bye frame;
	 * then it closes with channel_closed (0 = 30000, TOFU_TIMEOUT_NONE =
	 * no limit). */
	uint32_t bye_timeout_ms;
	/* Most bytes of frames queued (posted, not yet written) per channel;
	 * a post over it fails with TOFU_STATUS_NOT_ALLOWED (0 = unlimited). */
	size_t max_outbound_bytes;
	/* Largest accepted received text-header block / body; a bigger frame
	 * closes the channel with invalid_headers_len / invalid_body_len
	 * (0 = 65535, the protocol maximum). */
	uint16_t max_text_headers_len;
	uint16_t max_body_len;
	/* Graceful close: how long a closed socket keeps draining input after
	 * shutdown(SHUT_WR) before it is closed anyway (0 = 1000 ms). */
	uint32_t close_linger_ms;
	/* When tofu_post writes a Request/Response/Signal from the posting
	 * thread instead of handing it to the reactor (TOFU_DIRECT_*; 0 =
	 * TOFU_DIRECT_AUTO). Outcomes are reported the same way either way. */
	uint8_t direct_send;
} tofu_options;

enum {
	/* Only when nothing of the channel is queued, the post answers a frame
	 * received on the channel since its previous post, and the channel is
	 * quiet (request/response): saves waking the reactor. Streams go
	 * through the reactor, which writes many frames per system call. */
	TOFU_DIRECT_AUTO = 0,
	/* Whenever nothing of the channel is queued. */
	TOFU_DIRECT_ALWAYS = 1,
	/* Never: every frame is written by the reactor thread. */
	TOFU_DIRECT_NEVER = 2,
};

#define TOFU_TIMEOUT_NONE UINT32_MAX

/* Fills *o with the defaults (all zero = defaults). */
void tofu_options_init(tofu_options *o);

/* Creates an engine and starts its reactor thread. opts may be NULL.
 * Returns 0, TOFU_STATUS_ALLOCATION_FAILED or TOFU_STATUS_UNKNOWN_ERROR. */
int tofu_engine_create(const tofu_options *opts, tofu_engine **out);

/* Stops the reactor, closes every socket, frees queued messages, the pool
 * and any group not yet destroyed (destroy groups first). NULL is a no-op.
 * No notifications are delivered. */
void tofu_engine_destroy(tofu_engine *e);

/* ------------------------------------------------------------------ */
/* Messages and the pool                                               */
/* ------------------------------------------------------------------ */

enum {
	TOFU_GET_POOL_ONLY = 0, /* NULL (not an error) when the pool is empty */
	TOFU_GET_ALWAYS = 1,	/* allocate when the pool is empty */
};

/* Takes a reset message (default header: Request, channel 0, id 0, no
 * headers, no body). *out = NULL and 0 when TOFU_GET_POOL_ONLY finds the
 * pool empty. Returns 0, TOFU_STATUS_ALLOCATION_FAILED, or
 * TOFU_STATUS_NOT_ALLOWED after tofu_engine_destroy started. */
int tofu_get(tofu_engine *e, int strategy, tofu_msg **out);

/* Returns *msg to the pool (freed when the pool is full) and sets *msg =
 * NULL. msg == NULL or *msg == NULL is a no-op. Wakes a reactor that stopped
 * reading because the pool was empty. */
void tofu_put(tofu_engine *e, tofu_msg **msg);

/* Resets to the state tofu_get returns (keeps the buffers). */
void tofu_msg_reset(tofu_msg *m);

/* The binary header, read/write in place. channel_number, proto, status,
 * message_id are meaningful; the two lengths are recomputed on post. */
tofu_header *tofu_msg_header(tofu_msg *m);
const tofu_header *tofu_msg_header_const(const tofu_msg *m);

/* Convenience accessors of the header fields. */
int tofu_msg_opcode(const tofu_msg *m);
void tofu_msg_set_opcode(tofu_msg *m, int opcode);
int tofu_msg_status(const tofu_msg *m);
int tofu_msg_origin(const tofu_msg *m); /* 0 application, 1 engine */
int tofu_msg_more(const tofu_msg *m);
void tofu_msg_set_more(tofu_msg *m, int more);
/* internal_a ("oob"): jump the channel's send queue; with ByeSignal it means
 * local abort (proto 0x47), see tofu_msg_set_abort. */
int tofu_msg_oob(const tofu_msg *m);
void tofu_msg_set_oob(tofu_msg *m, int oob);
uint16_t tofu_msg_channel(const tofu_msg *m);
void tofu_msg_set_channel(tofu_msg *m, uint16_t channel_number);
uint64_t tofu_msg_id(const tofu_msg *m);
void tofu_msg_set_id(tofu_msg *m, uint64_t message_id);
/* Makes m the force-close ByeSignal (opcode 7 + internal_a) for a channel. */
void tofu_msg_set_abort(tofu_msg *m, uint16_t channel_number);

/* Text headers. The block is raw bytes; tofu_msg_add_header appends one
 * `name:value\r\n` line through the codec's strict serialiser (WIRE-4.4).
 * Returns 0, TOFU_STATUS_INVALID_HEADERS_LEN (block would exceed 65535) or
 * TOFU_STATUS_INVALID_MESSAGE (name/value refused by the serialiser). */
int tofu_msg_add_header(tofu_msg *m, const char *name, const char *value);
int tofu_msg_add_header_n(tofu_msg *m, const void *name, size_t name_len, const void *value,
			  size_t value_len);
/* Replaces the whole block with raw bytes (len <= 65535, else
 * TOFU_STATUS_INVALID_HEADERS_LEN). len 0 clears it. */
int tofu_msg_set_headers(tofu_msg *m, const void *raw, size_t len);
/* The raw block; *len (if not NULL) gets its length. Never NULL. */
const uint8_t *tofu_msg_headers(const tofu_msg *m, size_t *len);
/* First header named exactly `name` (Zig iterator semantics). Returns 1 and
 * sets *value / *value_len (pointing into the message), or 0. */
int tofu_msg_find_header(const tofu_msg *m, const char *name, const char **value,
			 size_t *value_len);

/* Body. set copies (len <= 65535, else TOFU_STATUS_INVALID_BODY_LEN);
 * reserve resizes to len bytes (content of new bytes undefined) and returns a
 * pointer to fill, or NULL on a bad length / allocation failure. */
int tofu_msg_set_body(tofu_msg *m, const void *data, size_t len);
uint8_t *tofu_msg_body_reserve(tofu_msg *m, size_t len);
const uint8_t *tofu_msg_body(const tofu_msg *m, size_t *len);
/* Pointers into a message (tofu_msg_headers, tofu_msg_find_header,
 * tofu_msg_body, tofu_msg_body_reserve) stay valid until the next change of
 * that message's text headers or body, its put or its post: header and body
 * share one buffer (engine/README.md, performance notes). */

/* Prepares m as a WelcomeRequest (`~listen_on`) or HelloRequest
 * (`~connect_to`) like Zig's Address.format: header reset to the opcode's
 * default (channel 0, id 0), then the address header appended (existing
 * headers and body are kept). value is in ~listen_on / ~connect_to syntax,
 * e.g. "tcp|127.0.0.1|7099", "uds|/tmp/x.sock", "uds|@abstract".
 * Returns 0 or TOFU_STATUS_INVALID_HEADERS_LEN / TOFU_STATUS_INVALID_MESSAGE. */
int tofu_msg_prepare_welcome(tofu_msg *m, const char *listen_on);
int tofu_msg_prepare_hello(tofu_msg *m, const char *connect_to);

/* ------------------------------------------------------------------ */
/* Channel groups                                                      */
/* ------------------------------------------------------------------ */

/* Returns 0, TOFU_STATUS_ALLOCATION_FAILED or TOFU_STATUS_SHUTDOWN_STARTED. */
int tofu_group_create(tofu_engine *e, tofu_group **out);

/* Closes every channel of the group without notifications (gracefully on
 * the wire), frees its queued outbound and undelivered inbound messages,
 * waits for the reactor to finish, then frees the group. A tofu_wait_receive
 * blocked on the group returns TOFU_STATUS_SHUTDOWN_STARTED first. */
void tofu_group_destroy(tofu_group *g);

/* Posts *msg: validates it (spec WIRE-9.5, in this order; the first
 * failing check decides), prepares it as Zig's check_and_prepare does
 * (origin = application, status 0, lengths, message_id from the
 * process-wide counter when 0, a random channel for Welcome/Hello posted
 * with channel 0), then hands it to the reactor.
 * Success: 0, *msg = NULL (the engine owns it), *prepared (if not NULL) =
 * the final header (channel, id, lengths). The outcome arrives later via
 * tofu_wait_receive.
 * Failure: a status; the caller keeps *msg with its status byte set to that
 * status and nothing else changed:
 *   TOFU_STATUS_NULL_MESSAGE          msg or *msg NULL (nothing set)
 *   TOFU_STATUS_SHUTDOWN_STARTED      group or engine being destroyed
 *   TOFU_STATUS_INVALID_OP_CODE       opcode 9 (WelcomeResponse) to 15
 *   TOFU_STATUS_INVALID_MESSAGE_ID    response-role opcode with id 0
 *   TOFU_STATUS_INVALID_MORE_USAGE    more = 1 on hello/bye/welcome
 *   TOFU_STATUS_INVALID_CHANNEL_NUMBER channel 0 on other opcodes; non-zero
 *                                     channel on Welcome/Hello; channel not
 *                                     open; data posted to a listener
 *   TOFU_STATUS_INVALID_MCHN_GROUP    channel belongs to another group
 *   TOFU_STATUS_INVALID_HEADERS_LEN   text headers > 65535
 *   TOFU_STATUS_WRONG_ADDRESS         Hello without ~connect_to / Welcome
 *                                     without ~listen_on (first address
 *                                     header decides)
 *   TOFU_STATUS_INVALID_BODY_LEN      body > 65535
 *   TOFU_STATUS_NOT_ALLOWED           Hello while max_connections data
 *                                     channels are open, or the channel's
 *                                     max_outbound_bytes would be exceeded
 *                                     (retry later; abort exempt)
 *   TOFU_STATUS_ALLOCATION_FAILED     no free channel number
 * A malformed address value is reported by the failure delivery
 * (invalid_address), not by post. */
int tofu_post(tofu_group *g, tofu_msg **msg, tofu_header *prepared);

#define TOFU_WAIT_INFINITE UINT64_MAX
#define TOFU_WAIT_SECOND   1000000000ull

/* Waits up to timeout_ns (0 = poll, TOFU_WAIT_INFINITE) for the next
 * message of the group. Returns 0 with *out = the message (caller owns it),
 * 0 with *out = NULL on timeout, or TOFU_STATUS_SHUTDOWN_STARTED when the
 * group/engine is being destroyed. One thread per group. */
int tofu_wait_receive(tofu_group *g, uint64_t timeout_ns, tofu_msg **out);

/* Wakes the group's receiver. msg == NULL or *msg == NULL: a new Signal
 * (origin engine, status receiver_update, channel 0, id 0) is delivered.
 * Otherwise *msg is delivered with origin application and status
 * receiver_update, and *msg = NULL. Returns 0,
 * TOFU_STATUS_ALLOCATION_FAILED or TOFU_STATUS_SHUTDOWN_STARTED. */
int tofu_update_receiver(tofu_group *g, tofu_msg **msg);

#ifdef __cplusplus
}
#endif

#endif /* TOFU_TOFU_H */
