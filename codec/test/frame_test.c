/* Frames (WIRE-1): the reference example frames byte for byte, the iovec
 * encoder, the whole-buffer parser and the incremental stream decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "tofu/codec.h"

/* Reference section 10, E1-E8: header fields, parts, expected bytes. */
struct example {
	const char *name;
	tofu_header h;
	const char *text;
	const char *body;
	const char *hex;
};

#define CONNECT_E1 "~connect_to:tcp|127.0.0.1|7099\r\n"
static const struct example examples[] = {
    {"E1 HelloRequest over TCP",
     {0x1A2B, 0x03, 0, 1, 0, 0},
     CONNECT_E1,
     "",
     "1a 2b 03 00 00 00 00 00 00 00 00 01 00 20 00 00"
     "7e 63 6f 6e 6e 65 63 74 5f 74 6f 3a 74 63 70 7c 31 32 37 2e 30 2e 30 2e 31 7c 37 30 39 39 0d "
     "0a"},
    {"E2 HelloRequest over UDS",
     {0x0101, 0x03, 0, 7, 0, 0},
     "~connect_to:uds|/tmp/app.sock\r\n",
     "",
     "01 01 03 00 00 00 00 00 00 00 00 07 00 1f 00 00"
     "7e 63 6f 6e 6e 65 63 74 5f 74 6f 3a 75 64 73 7c 2f 74 6d 70 2f 61 70 70 2e 73 6f 63 6b 0d "
     "0a"},
    {"E3 HelloResponse reusing E1",
     {0x04D2, 0x04, 0, 1, 0, 0},
     CONNECT_E1,
     "",
     "04 d2 04 00 00 00 00 00 00 00 00 01 00 20 00 00"
     "7e 63 6f 6e 6e 65 63 74 5f 74 6f 3a 74 63 70 7c 31 32 37 2e 30 2e 30 2e 31 7c 37 30 39 39 0d "
     "0a"},
    {"E4 Request with body",
     {0x1A2B, 0x00, 0, 2, 0, 0},
     "",
     "hello",
     "1a 2b 00 00 00 00 00 00 00 00 00 02 00 00 00 05 68 65 6c 6c 6f"},
    {"E5 Response with a big id",
     {0x04D2, 0x01, 0, 0x0102030405060708ULL, 0, 0},
     "",
     "",
     "04 d2 01 00 01 02 03 04 05 06 07 08 00 00 00 00"},
    {"E6 Signal with more",
     {0x1A2B, 0x22, 0, 42, 0, 0},
     "Job-ID:12345\r\n",
     "chunk",
     "1a 2b 22 00 00 00 00 00 00 00 00 2a 00 0e 00 05"
     "4a 6f 62 2d 49 44 3a 31 32 33 34 35 0d 0a 63 68 75 6e 6b"},
    {"E7 ByeRequest",
     {0x1A2B, 0x05, 0, 3, 0, 0},
     "",
     "",
     "1a 2b 05 00 00 00 00 00 00 00 00 03 00 00 00 00"},
    {"E7 ByeResponse",
     {0x04D2, 0x06, 0, 3, 0, 0},
     "",
     "",
     "04 d2 06 00 00 00 00 00 00 00 00 03 00 00 00 00"},
    {"E8 ByeSignal frame",
     {0x1A2B, 0x07, 0, 4, 0, 0},
     "",
     "",
     "1a 2b 07 00 00 00 00 00 00 00 00 04 00 00 00 00"},
};
#define NEXAMPLES (sizeof(examples) / sizeof(examples[0]))

static size_t flatten(const struct iovec *iov, int n, uint8_t *out)
{
	size_t k = 0;

	for (int i = 0; i < n; i++) {
		memcpy(out + k, iov[i].iov_base, iov[i].iov_len);
		k += iov[i].iov_len;
	}
	return k;
}

/* WIRE-2.4.1 WIRE-1.1.1 */
static void test_example_frames_byte_exact(void **state)
{
	(void)state;
	for (size_t i = 0; i < NEXAMPLES; i++) {
		const struct example *e = &examples[i];
		tofu_header h = e->h;
		uint8_t hdr[16], got[256], want[256];
		struct iovec iov[3];
		size_t tl = strlen(e->text), bl = strlen(e->body);
		int n = tofu_frame_encode(&h, hdr, e->text, tl, e->body, bl, iov);
		size_t wl = tu_unhex(e->hex, want, sizeof(want));
		tofu_frame_view v;

		print_message("%s\n", e->name);
		/* zero-length parts are left out of the iovec list */
		assert_int_equal(n, 1 + (tl > 0) + (bl > 0));
		assert_int_equal(flatten(iov, n, got), wl);
		assert_memory_equal(got, want, wl);
		/* and parse back to the same fields and parts */
		assert_int_equal(tofu_frame_parse(want, wl, &v), (long)wl);
		assert_int_equal(v.header.channel_number, e->h.channel_number);
		assert_int_equal(v.header.proto, e->h.proto);
		assert_true(v.header.message_id == e->h.message_id);
		assert_int_equal(v.header.text_headers_len, tl);
		assert_int_equal(v.header.body_len, bl);
		assert_memory_equal(v.text_headers, e->text, tl);
		assert_memory_equal(v.body, e->body, bl);
		assert_int_equal(tofu_header_check_received(&v.header), 0);
	}
}

/* WIRE-1.3.1 WIRE-1.1.3 WIRE-2.3.7 */
static void test_encode_limits(void **state)
{
	(void)state;
	static uint8_t big[65536];
	tofu_header h = {.channel_number = 1, .proto = 0, .message_id = 1};
	uint8_t hdr[16];
	struct iovec iov[3];

	assert_int_equal(tofu_frame_encode(&h, hdr, big, 65535, big, 65535, iov), 3);
	assert_int_equal(h.text_headers_len, 65535);
	assert_int_equal(h.body_len, 65535);
	assert_int_equal(iov[1].iov_len + iov[2].iov_len, 131070);
	h.text_headers_len = h.body_len = 0;
	assert_int_equal(tofu_frame_encode(&h, hdr, big, 65536, NULL, 0, iov),
			 TOFU_E_HEADERS_TOO_LONG);
	assert_int_equal(tofu_frame_encode(&h, hdr, NULL, 0, big, 65536, iov),
			 TOFU_E_BODY_TOO_LONG);
	/* refused encodes leave the header untouched */
	assert_int_equal(h.text_headers_len, 0);
	assert_int_equal(h.body_len, 0);
	assert_int_equal(tofu_frame_encode(&h, hdr, NULL, 0, big, 1, iov), 2);
	assert_ptr_equal(iov[1].iov_base, big);
}

/* Every proper prefix of a frame is incomplete, read inside a guard page. */
/* WIRE-1.1.2 WIRE-3.3.2 WIRE-11.3.1 */
static void test_parse_prefixes_incomplete(void **state)
{
	(void)state;
	uint8_t want[256];
	size_t wl = tu_unhex(examples[5].hex, want, sizeof(want));

	for (size_t len = 0; len <= wl; len++) {
		tu_guarded g;
		tofu_frame_view v;

		tu_guard_alloc(&g, want, len);
		assert_int_equal(tofu_frame_parse(g.data, len, &v),
				 len == wl ? (long)wl : TOFU_E_INCOMPLETE);
		tu_guard_free(&g);
	}
}

/* A header announcing more than is sent stays incomplete, never reads on. */
/* WIRE-1.1.2 WIRE-11.3.1 */
static void test_parse_lengths_beyond_data(void **state)
{
	(void)state;
	uint8_t b[16 + 10];
	tofu_frame_view v;
	tu_guarded g;

	tu_unhex("00 01 00 00 00 00 00 00 00 00 00 01 ff ff ff ff", b, 16);
	memset(b + 16, 'x', 10);
	tu_guard_alloc(&g, b, sizeof(b));
	assert_int_equal(tofu_frame_parse(g.data, sizeof(b), &v), TOFU_E_INCOMPLETE);
	tu_guard_free(&g);
}

/* ---- stream decoder ---- */

/* What a receiver reassembles from decoder events. */
struct collected {
	int frames;
	tofu_header hdr[64];
	size_t tlen[64], blen[64];
	uint8_t text[64][300];
	uint8_t body[64][300];
	int error;
};

/* Feeds buf in pieces of the sizes produced by `cut` (0 = random 1..max). */
static void feed(tofu_decoder *d, const uint8_t *buf, size_t len, size_t piece, uint64_t *seed,
		 struct collected *c)
{
	size_t off = 0;

	memset(c, 0, sizeof(*c));
	while (off < len && !c->error) {
		size_t n = piece ? piece : 1 + tu_rand(seed) % 40;
		size_t pos = 0;
		tu_guarded g;

		if (n > len - off)
			n = len - off;
		/* each chunk in its own guard page: the decoder may not read past it */
		tu_guard_alloc(&g, buf + off, n);
		for (;;) {
			tofu_dec_event ev;
			size_t used;
			int rc = tofu_decoder_next(d, g.data + pos, n - pos, &used, &ev);

			assert_true(used <= n - pos);
			pos += used;
			if (rc == TOFU_E_INCOMPLETE) {
				assert_int_equal(pos, n);
				break;
			}
			if (rc < 0) {
				c->error = rc;
				break;
			}
			if (rc == TOFU_DEC_HEADER) {
				c->hdr[c->frames] = ev.header;
			} else if (rc == TOFU_DEC_TEXT) {
				memcpy(c->text[c->frames] + c->tlen[c->frames], ev.data, ev.len);
				c->tlen[c->frames] += ev.len;
			} else if (rc == TOFU_DEC_BODY) {
				memcpy(c->body[c->frames] + c->blen[c->frames], ev.data, ev.len);
				c->blen[c->frames] += ev.len;
			} else {
				assert_int_equal(rc, TOFU_DEC_END);
				c->frames++;
			}
		}
		tu_guard_free(&g);
		off += n;
	}
}

static size_t example_stream(uint8_t *out)
{
	size_t k = 0;

	for (size_t i = 0; i < NEXAMPLES; i++)
		k += tu_unhex(examples[i].hex, out + k, 4096 - k);
	return k;
}

static void check_examples(const struct collected *c)
{
	assert_int_equal(c->error, 0);
	assert_int_equal(c->frames, NEXAMPLES);
	for (size_t i = 0; i < NEXAMPLES; i++) {
		assert_int_equal(c->hdr[i].channel_number, examples[i].h.channel_number);
		assert_int_equal(c->hdr[i].proto, examples[i].h.proto);
		assert_true(c->hdr[i].message_id == examples[i].h.message_id);
		assert_int_equal(c->tlen[i], strlen(examples[i].text));
		assert_memory_equal(c->text[i], examples[i].text, c->tlen[i]);
		assert_int_equal(c->blen[i], strlen(examples[i].body));
		assert_memory_equal(c->body[i], examples[i].body, c->blen[i]);
	}
}

/* WIRE-1.1.4 WIRE-11.3.4 */
static void test_stream_any_split(void **state)
{
	(void)state;
	static uint8_t stream[4096];
	static struct collected c;
	size_t len = example_stream(stream);
	uint64_t seed = 42;
	tofu_decoder d;

	/* one byte at a time, fixed pieces, random pieces, all at once */
	for (size_t piece = 1; piece <= 33; piece++) {
		tofu_decoder_init(&d, TOFU_DEC_VALIDATE, 65535, 65535);
		feed(&d, stream, len, piece, &seed, &c);
		check_examples(&c);
		assert_true(tofu_decoder_at_boundary(&d));
	}
	for (int round = 0; round < 200; round++) {
		tofu_decoder_init(&d, TOFU_DEC_VALIDATE, 65535, 65535);
		feed(&d, stream, len, 0, &seed, &c);
		check_examples(&c);
	}
	tofu_decoder_init(&d, TOFU_DEC_VALIDATE, 65535, 65535);
	feed(&d, stream, len, len, &seed, &c);
	check_examples(&c);
}

/* WIRE-3.3.2 */
static void test_stream_boundary_tracking(void **state)
{
	(void)state;
	uint8_t b[64];
	size_t n = tu_unhex(examples[3].hex, b, sizeof(b)), used;
	tofu_decoder d;
	tofu_dec_event ev;

	tofu_decoder_init(&d, 0, 65535, 65535);
	assert_true(tofu_decoder_at_boundary(&d));
	assert_int_equal(tofu_decoder_next(&d, b, 3, &used, &ev), TOFU_E_INCOMPLETE);
	assert_int_equal(used, 3);
	assert_false(tofu_decoder_at_boundary(&d));
	assert_int_equal(tofu_decoder_next(&d, b + 3, n - 3, &used, &ev), TOFU_DEC_HEADER);
	assert_int_equal(ev.header.body_len, 5);
	/* a zero-length input mid-frame is incomplete, consuming nothing */
	assert_int_equal(tofu_decoder_next(&d, b, 0, &used, &ev), TOFU_E_INCOMPLETE);
	assert_int_equal(used, 0);
}

/* Each hostile header gives its class, and the decoder stays failed. */
/* WIRE-7.1.6 WIRE-3.3.1 WIRE-1.2.4 */
static void test_stream_hostile_headers(void **state)
{
	(void)state;
	static const struct {
		const char *hex;
		int err;
	} cases[] = {
	    {"00 01 08 00 00 00 00 00 00 00 00 01 00 00 00 00", TOFU_E_BAD_OPCODE},
	    {"00 01 0f 00 00 00 00 00 00 00 00 01 00 00 00 00", TOFU_E_BAD_OPCODE},
	    {"00 01 12 00 00 00 00 00 00 00 00 01 00 00 00 00", TOFU_E_FORGED_ORIGIN},
	    {"00 01 02 16 00 00 00 00 00 00 00 01 00 00 00 00", TOFU_E_NONZERO_STATUS},
	    {"00 01 23 00 00 00 00 00 00 00 00 01 00 00 00 00", TOFU_E_MORE_NOT_ALLOWED},
	    {"00 01 25 00 00 00 00 00 00 00 00 01 00 00 00 00", TOFU_E_MORE_NOT_ALLOWED},
	    {"00 01 01 00 00 00 00 00 00 00 00 00 00 00 00 00", TOFU_E_ZERO_RESPONSE_ID},
	    {"00 01 04 00 00 00 00 00 00 00 00 00 00 00 00 00", TOFU_E_ZERO_RESPONSE_ID},
	    {"00 01 00 00 00 00 00 00 00 00 00 01 01 01 00 00", TOFU_E_HEADERS_TOO_LONG},
	    {"00 01 00 00 00 00 00 00 00 00 00 01 00 00 01 01", TOFU_E_BODY_TOO_LONG},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[16];
		tofu_decoder d;
		tofu_dec_event ev;
		size_t used;

		tu_unhex(cases[i].hex, b, sizeof(b));
		tofu_decoder_init(&d, TOFU_DEC_VALIDATE, 256, 256);
		assert_int_equal(tofu_decoder_next(&d, b, 16, &used, &ev), cases[i].err);
		assert_int_equal(tofu_decoder_next(&d, b, 16, &used, &ev), cases[i].err);
		assert_int_equal(used, 0);
		assert_false(tofu_decoder_at_boundary(&d));
		assert_non_null(tofu_error_name(cases[i].err));
	}
}

/* Without TOFU_DEC_VALIDATE every header passes (a raw trace reader). */
/* WIRE-2.1.4 */
static void test_stream_without_validation(void **state)
{
	(void)state;
	uint8_t b[16];
	tofu_decoder d;
	tofu_dec_event ev;
	size_t used;

	tu_unhex("00 01 1f 09 00 00 00 00 00 00 00 00 00 00 00 00", b, sizeof(b));
	tofu_decoder_init(&d, 0, 65535, 65535);
	assert_int_equal(tofu_decoder_next(&d, b, 16, &used, &ev), TOFU_DEC_HEADER);
	assert_int_equal(ev.header.proto, 0x1f);
	assert_int_equal(tofu_decoder_next(&d, b + 16, 0, &used, &ev), TOFU_DEC_END);
}

/* 65535-byte parts, streamed in 1000-byte pieces. */
/* WIRE-1.3.1 */
static void test_stream_max_parts(void **state)
{
	(void)state;
	size_t len = 16 + 65535 + 65535;
	uint8_t *f = malloc(len);
	tofu_header h = {.channel_number = 9, .proto = 0x20, .message_id = 77};
	struct iovec iov[3];
	uint8_t hdr[16];
	size_t off = 0, tl = 0, bl = 0;
	tofu_decoder d;

	assert_non_null(f);
	for (size_t i = 16; i < len; i++)
		f[i] = (uint8_t)(i * 7);
	assert_int_equal(tofu_frame_encode(&h, hdr, f + 16, 65535, f + 16 + 65535, 65535, iov), 3);
	memcpy(f, hdr, 16);
	tofu_decoder_init(&d, TOFU_DEC_VALIDATE, 65535, 65535);
	while (off < len) {
		size_t n = len - off < 1000 ? len - off : 1000, pos = 0;

		while (pos < n) {
			tofu_dec_event ev;
			size_t used;
			int rc = tofu_decoder_next(&d, f + off + pos, n - pos, &used, &ev);

			if (rc == TOFU_DEC_TEXT) {
				assert_memory_equal(ev.data, f + 16 + tl, ev.len);
				tl += ev.len;
			} else if (rc == TOFU_DEC_BODY) {
				assert_memory_equal(ev.data, f + 16 + 65535 + bl, ev.len);
				bl += ev.len;
			}
			assert_true(rc > 0 || rc == TOFU_E_INCOMPLETE);
			pos += used;
			if (rc == TOFU_E_INCOMPLETE)
				break;
		}
		off += n;
	}
	{
		tofu_dec_event ev;
		size_t used;

		/* the frame ends exactly after the last body byte */
		assert_int_equal(tofu_decoder_next(&d, f, 0, &used, &ev), TOFU_DEC_END);
		assert_true(tofu_decoder_at_boundary(&d));
	}
	assert_int_equal(tl, 65535);
	assert_int_equal(bl, 65535);
	free(f);
}

/* WIRE-4.3.6 WIRE-7.4.1: the receive path delivers any text-header bytes
 * unchanged; the strict validator never decides delivery. */
static void test_stream_delivers_raw_text_headers(void **state)
{
	(void)state;
	static const char raw[] = ":no name\r\n\r\nlone\rCR\nx";
	uint8_t f[64];
	struct iovec iov[3];
	tofu_header h = {.channel_number = 3, .proto = TOFU_OP_SIGNAL, .message_id = 1};
	tofu_decoder d;
	tofu_dec_event ev;
	size_t used, off = 0, n;
	int rc;

	assert_int_not_equal(tofu_th_validate(raw, sizeof(raw) - 1, NULL), 0);
	assert_int_equal(tofu_frame_encode(&h, f, raw, sizeof(raw) - 1, NULL, 0, iov), 2);
	n = 16;
	memcpy(f + 16, raw, sizeof(raw) - 1);
	n += sizeof(raw) - 1;
	tofu_decoder_init(&d, TOFU_DEC_VALIDATE, 65535, 65535);
	assert_int_equal(tofu_decoder_next(&d, f, n, &used, &ev), TOFU_DEC_HEADER);
	off += used;
	assert_int_equal(tofu_decoder_next(&d, f + off, n - off, &used, &ev), TOFU_DEC_TEXT);
	assert_int_equal(ev.len, sizeof(raw) - 1);
	assert_memory_equal(ev.data, raw, ev.len);
	off += used;
	rc = tofu_decoder_next(&d, f + off, n - off, &used, &ev);
	assert_int_equal(rc, TOFU_DEC_END);
}

/* WIRE-11.3.2: once a parser has answered something other than incomplete,
 * every longer input with the same start gets the same answer. */
static void test_parsers_prefix_stable(void **state)
{
	(void)state;
	uint64_t seed = 5;

	for (int round = 0; round < 3000; round++) {
		uint8_t b[64];
		long first = TOFU_E_INCOMPLETE, hfirst = TOFU_E_INCOMPLETE;
		size_t len = 16 + tu_rand(&seed) % 48;

		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)tu_rand(&seed);
		b[12] = 0; /* keep lengths small so frames complete inside b */
		b[13] = (uint8_t)(b[13] % 24);
		b[14] = 0;
		b[15] = (uint8_t)(b[15] % 24);
		for (size_t k = 0; k <= len; k++) {
			tofu_frame_view v;
			tofu_header h;
			long r = tofu_frame_parse(b, k, &v), hr = tofu_header_decode(b, k, &h);

			if (first != TOFU_E_INCOMPLETE)
				assert_int_equal(r, first);
			else
				first = r;
			if (hfirst != TOFU_E_INCOMPLETE)
				assert_int_equal(hr, hfirst);
			else
				hfirst = hr;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example_frames_byte_exact),
	    cmocka_unit_test(test_encode_limits),
	    cmocka_unit_test(test_parse_prefixes_incomplete),
	    cmocka_unit_test(test_parse_lengths_beyond_data),
	    cmocka_unit_test(test_stream_any_split),
	    cmocka_unit_test(test_stream_boundary_tracking),
	    cmocka_unit_test(test_stream_hostile_headers),
	    cmocka_unit_test(test_stream_without_validation),
	    cmocka_unit_test(test_stream_max_parts),
	    cmocka_unit_test(test_stream_delivers_raw_text_headers),
	    cmocka_unit_test(test_parsers_prefix_stable),
	};
	return cmocka_run_group_tests_name("frame (WIRE-1)", tests, NULL, NULL);
}
