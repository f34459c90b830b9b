/* Opcodes and statuses (WIRE-3): the fixed numbers and names generated from
 * spec/tofu-wire.toml, checked against values the reference documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tofu/codec.h"

/* WIRE-3.2.1 WIRE-3.2.2 */
static void test_status_numbers(void **state)
{
	(void)state;
	/* numbers the Zig enum gives implicitly; a reordering must fail here */
	static const struct {
		int value;
		const char *name;
	} fixed[] = {
	    {0, "success"},
	    {2, "wrong_address"},
	    {5, "invalid_message"},
	    {9, "invalid_more_usage"},
	    {11, "invalid_mchn_group"},
	    {12, "invalid_message_id"},
	    {13, "invalid_address"},
	    {17, "peer_disconnected"},
	    {18, "communication_failed"},
	    {19, "pool_empty"},
	    {21, "receiver_update"},
	    {22, "channel_closed"},
	    {24, "connect_failed"},
	    {25, "listen_failed"},
	    {27, "send_failed"},
	    {28, "recv_failed"},
	    {31, "unknown_error"},
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		assert_string_equal(tofu_status_name(fixed[i].value), fixed[i].name);
	assert_int_equal(TOFU_STATUS_CHANNEL_CLOSED, 22);
	assert_int_equal(TOFU_STATUS_POOL_EMPTY, 19);
	assert_null(tofu_status_name(-1));
	assert_null(tofu_status_name(32));
	for (int s = 0; s < 32; s++)
		assert_non_null(tofu_status_name(s));
}

/* WIRE-3.1.1 WIRE-3.1.4 */
static void test_opcodes(void **state)
{
	(void)state;
	static const char *names[] = {
	    "Request",	  "Response",	 "Signal",    "HelloRequest",	"HelloResponse",
	    "ByeRequest", "ByeResponse", "ByeSignal", "WelcomeRequest", "WelcomeResponse"};
	static const int echo[] = {1, -1, 2, 4, -1, 6, -1, -1, 9, -1};
	static const int type[] = {0, 0, 0, 1, 1, 2, 2, 2, 3, 3};
	static const int role[] = {0, 1, 2, 0, 1, 0, 1, 2, 0, 1};

	for (int op = 0; op < 10; op++) {
		assert_string_equal(tofu_opcode_name(op), names[op]);
		assert_int_equal(tofu_opcode_echo(op), echo[op]);
		assert_int_equal(tofu_opcode_type(op), type[op]);
		assert_int_equal(tofu_opcode_role(op), role[op]);
		assert_int_equal(tofu_opcode_on_wire(op), op < 8);
	}
	for (int op = 10; op < 16; op++) {
		assert_null(tofu_opcode_name(op));
		assert_int_equal(tofu_opcode_type(op), -1);
		assert_int_equal(tofu_opcode_echo(op), -1);
		assert_int_equal(tofu_opcode_on_wire(op), 0);
	}
	assert_int_equal(TOFU_TYPE_REGULAR, 0);
	assert_int_equal(TOFU_ROLE_SIGNAL, 2);
}

/* WIRE-3.3.1 */
static void test_error_classes(void **state)
{
	(void)state;
	assert_string_equal(tofu_error_name(TOFU_E_INCOMPLETE), "incomplete");
	assert_string_equal(tofu_error_name(TOFU_E_BAD_OPCODE), "bad_opcode");
	assert_int_equal(tofu_error_status(TOFU_E_BAD_OPCODE), TOFU_STATUS_INVALID_OP_CODE);
	assert_int_equal(tofu_error_status(TOFU_E_FORGED_ORIGIN), TOFU_STATUS_INVALID_MESSAGE);
	assert_int_equal(tofu_error_status(TOFU_E_MORE_NOT_ALLOWED),
			 TOFU_STATUS_INVALID_MORE_USAGE);
	assert_int_equal(tofu_error_status(TOFU_E_ZERO_RESPONSE_ID),
			 TOFU_STATUS_INVALID_MESSAGE_ID);
	assert_int_equal(tofu_error_status(TOFU_E_HEADERS_TOO_LONG),
			 TOFU_STATUS_INVALID_HEADERS_LEN);
	assert_int_equal(tofu_error_status(TOFU_E_BODY_TOO_LONG), TOFU_STATUS_INVALID_BODY_LEN);
	assert_int_equal(tofu_error_status(TOFU_E_ADDRESS_PORT), TOFU_STATUS_INVALID_ADDRESS);
	assert_int_equal(tofu_error_status(0), TOFU_STATUS_SUCCESS);
	assert_int_equal(tofu_error_status(-1000), TOFU_STATUS_UNKNOWN_ERROR);
	assert_null(tofu_error_name(0));
	assert_null(tofu_error_name(-TOFU_ERROR_COUNT - 1));
	for (int e = -1; e >= -TOFU_ERROR_COUNT; e--)
		assert_non_null(tofu_error_name(e));
	assert_int_equal(TOFU_MAX_FRAME_LEN, 16 + 65535 + 65535);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_numbers),
	    cmocka_unit_test(test_opcodes),
	    cmocka_unit_test(test_error_classes),
	};
	return cmocka_run_group_tests_name("names (WIRE-3)", tests, NULL, NULL);
}
