/* Binary header and proto byte (WIRE-2, WIRE-3, WIRE-7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "tofu/codec.h"

/* The worked example of the spec: every field distinct, so any swapped or
 * misplaced byte shows. */
/* WIRE-2.1.1 WIRE-2.1.2 WIRE-2.1.3 */
static void test_layout_worked_example(void **state)
{
	(void)state;
	tofu_header h = {.channel_number = 0x1234,
			 .proto = 0x03,
			 .status = 0x56,
			 .message_id = 0x0102030405060708ULL,
			 .text_headers_len = 0xA1A2,
			 .body_len = 0xB1B2};
	uint8_t want[16], got[16];
	tofu_header back;

	tu_unhex("12 34 03 56 01 02 03 04 05 06 07 08 a1 a2 b1 b2", want, sizeof(want));
	tofu_header_encode(&h, got);
	assert_memory_equal(got, want, 16);
	assert_int_equal(tofu_header_decode(want, 16, &back), 16);
	assert_int_equal(back.channel_number, 0x1234);
	assert_int_equal(back.proto, 0x03);
	assert_int_equal(back.status, 0x56);
	assert_true(back.message_id == 0x0102030405060708ULL);
	assert_int_equal(back.text_headers_len, 0xA1A2);
	assert_int_equal(back.body_len, 0xB1B2);
}

/* The big-endian-host layout Zig emits on ppc64/s390x must NOT be what we
 * produce or read (WIRE-10): the same bytes decode to different fields. */
/* WIRE-11.3.3 (and WIRE-10.1 big-endian layout) */
static void test_big_endian_host_layout_is_not_ours(void **state)
{
	(void)state;
	uint8_t zig_be[16];
	tofu_header h;

	tu_unhex("b1 b2 a1 a2 01 02 03 04 05 06 07 08 56 03 12 34", zig_be, sizeof(zig_be));
	tofu_header_decode(zig_be, 16, &h);
	assert_int_equal(h.channel_number, 0xb1b2);
	assert_int_equal(h.proto, 0xa1);
	assert_int_equal(h.status, 0xa2);
	assert_int_equal(h.text_headers_len, 0x5603);
	assert_int_equal(h.body_len, 0x1234);
	assert_true(h.message_id == 0x0102030405060708ULL);
}

/* WIRE-3.3.2 WIRE-11.3.1 WIRE-11.3.2 */
static void test_decode_incomplete_every_prefix(void **state)
{
	(void)state;
	uint8_t bytes[16];
	tofu_header h;

	tu_unhex("1a 2b 00 00 00 00 00 00 00 00 00 02 00 00 00 05", bytes, sizeof(bytes));
	for (size_t len = 0; len < 16; len++) {
		tu_guarded g;

		tu_guard_alloc(&g, bytes, len);
		assert_int_equal(tofu_header_decode(g.data, len, &h), TOFU_E_INCOMPLETE);
		tu_guard_free(&g);
	}
}

/* Guard page right after the 16th byte: decode must not touch byte 17. */
/* WIRE-2.1.4 WIRE-11.3.1 */
static void test_decode_stays_inside_guard_page(void **state)
{
	(void)state;
	uint64_t seed = 0x1234;

	for (int i = 0; i < 1000; i++) {
		uint8_t bytes[16];
		tofu_header h;
		uint8_t again[16];
		tu_guarded g;

		for (int k = 0; k < 16; k++)
			bytes[k] = (uint8_t)tu_rand(&seed);
		tu_guard_alloc(&g, bytes, 16);
		assert_int_equal(tofu_header_decode(g.data, 16, &h), 16);
		tu_guard_free(&g);
		/* decode -> encode gives the same 16 bytes: no bit is lost */
		tofu_header_encode(&h, again);
		assert_memory_equal(again, bytes, 16);
	}
}

/* WIRE-2.1.2 */
static void test_round_trip_property(void **state)
{
	(void)state;
	uint64_t seed = 0xC0FFEE;

	for (int i = 0; i < 100000; i++) {
		tofu_header h, back;
		uint8_t b[16];

		/* zero the padding too, so the struct comparison is meaningful */
		memset(&h, 0, sizeof(h));
		memset(&back, 0xAA, sizeof(back));
		h.channel_number = (uint16_t)tu_rand(&seed);
		h.proto = (uint8_t)tu_rand(&seed);
		h.status = (uint8_t)tu_rand(&seed);
		h.message_id = tu_rand(&seed);
		h.text_headers_len = (uint16_t)tu_rand(&seed);
		h.body_len = (uint16_t)tu_rand(&seed);
		tofu_header_encode(&h, b);
		tofu_header_decode(b, 16, &back);
		assert_int_equal(back.channel_number, h.channel_number);
		assert_int_equal(back.proto, h.proto);
		assert_int_equal(back.status, h.status);
		assert_true(back.message_id == h.message_id);
		assert_int_equal(back.text_headers_len, h.text_headers_len);
		assert_int_equal(back.body_len, h.body_len);
		/* byte order by definition: the first byte of a field is its most
		 * significant one */
		assert_int_equal(b[0], h.channel_number >> 8);
		assert_int_equal(b[4], (uint8_t)(h.message_id >> 56));
		assert_int_equal(b[11], (uint8_t)h.message_id);
		assert_int_equal(b[15], (uint8_t)h.body_len);
	}
}

/* Proto byte: all 256 values, each field at its bit (WIRE-2). */
/* WIRE-2.2.1 */
static void test_proto_bits_all_256(void **state)
{
	(void)state;
	for (unsigned p = 0; p < 256; p++) {
		uint8_t b = (uint8_t)p;

		assert_int_equal(tofu_proto_opcode(b), p & 0x0F);
		assert_int_equal(tofu_proto_origin(b), (p >> 4) & 1);
		assert_int_equal(tofu_proto_more(b), (p >> 5) & 1);
		assert_int_equal(tofu_proto_internal_a(b), (p >> 6) & 1);
		assert_int_equal(tofu_proto_internal_b(b), (p >> 7) & 1);
		assert_int_equal(tofu_proto_make(p & 15, p & 16, p & 32, p & 64, p & 128), b);
	}
	/* values named by the reference */
	assert_int_equal(tofu_proto_make(TOFU_OP_HELLO_REQUEST, 0, 0, 0, 0), 0x03);
	assert_int_equal(tofu_proto_make(TOFU_OP_BYE_SIGNAL, 0, 0, 1, 0), 0x47);
	assert_int_equal(tofu_proto_make(TOFU_OP_WELCOME_RESPONSE, 1, 1, 1, 1), 0xF9);
	assert_int_equal(tofu_proto_make(TOFU_OP_SIGNAL, 0, 1, 0, 0), 0x22);
}

/* Conforming receiver (WIRE-7): for every proto byte, status 0/1 and id 0/1,
 * the class is the first failing rule in the normative order. The expected
 * value is spelled out rule by rule from the opcode table. */
/* WIRE-7.1.1 WIRE-7.1.2 WIRE-7.1.3 WIRE-7.1.4 WIRE-7.1.5 WIRE-7.1.6 */
static void test_check_received_every_combination(void **state)
{
	(void)state;
	static const int regular[16] = {1, 1, 1, 0, 0, 0, 0, 0};
	static const int response[16] = {0, 1, 0, 0, 1, 0, 1, 0};

	for (unsigned p = 0; p < 256; p++) {
		for (unsigned st = 0; st < 2; st++) {
			for (unsigned id = 0; id < 2; id++) {
				tofu_header h = {.channel_number = 7,
						 .proto = (uint8_t)p,
						 .status = (uint8_t)st,
						 .message_id = id};
				unsigned op = p & 15;
				int want = 0;

				if (op >= 8)
					want = TOFU_E_BAD_OPCODE;
				else if (p & 0x10)
					want = TOFU_E_FORGED_ORIGIN;
				else if (st)
					want = TOFU_E_NONZERO_STATUS;
				else if ((p & 0x20) && !regular[op])
					want = TOFU_E_MORE_NOT_ALLOWED;
				else if (!id && response[op])
					want = TOFU_E_ZERO_RESPONSE_ID;
				assert_int_equal(tofu_header_check_received(&h), want);
			}
		}
	}
}

/* Bits 6-7 and the channel number never matter to a receiver. */
/* WIRE-2.2.2 WIRE-7.1.7 */
static void test_check_received_ignores_internal_bits_and_channel(void **state)
{
	(void)state;
	tofu_header h = {.channel_number = 0, .proto = 0xC1, .message_id = 9};

	assert_int_equal(tofu_header_check_received(&h), 0);
	h.channel_number = 65535;
	assert_int_equal(tofu_header_check_received(&h), 0);
	h.proto = 0xC7; /* ByeSignal with both internal bits: still a valid frame */
	assert_int_equal(tofu_header_check_received(&h), 0);
}

/* WIRE-2.3.1 WIRE-2.3.5 WIRE-1.3.1 */
static void test_check_send(void **state)
{
	(void)state;
	tofu_header h = {.channel_number = 5, .proto = 0x47, .message_id = 4};

	/* 0x47 is the local abort form: never a frame */
	assert_int_equal(tofu_header_check_send(&h, 0, 0), TOFU_E_BAD_OPCODE);
	h.proto = 0x07;
	assert_int_equal(tofu_header_check_send(&h, 0, 0), 0);
	assert_int_equal(tofu_header_check_send(&h, 65535, 65535), 0);
	assert_int_equal(tofu_header_check_send(&h, 65536, 0), TOFU_E_HEADERS_TOO_LONG);
	assert_int_equal(tofu_header_check_send(&h, 0, 65536), TOFU_E_BODY_TOO_LONG);
	h.proto = TOFU_OP_WELCOME_REQUEST;
	assert_int_equal(tofu_header_check_send(&h, 10, 0), TOFU_E_BAD_OPCODE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout_worked_example),
	    cmocka_unit_test(test_big_endian_host_layout_is_not_ours),
	    cmocka_unit_test(test_decode_incomplete_every_prefix),
	    cmocka_unit_test(test_decode_stays_inside_guard_page),
	    cmocka_unit_test(test_round_trip_property),
	    cmocka_unit_test(test_proto_bits_all_256),
	    cmocka_unit_test(test_check_received_every_combination),
	    cmocka_unit_test(test_check_received_ignores_internal_bits_and_channel),
	    cmocka_unit_test(test_check_send),
	};
	return cmocka_run_group_tests_name("header (WIRE-2, WIRE-7)", tests, NULL, NULL);
}
