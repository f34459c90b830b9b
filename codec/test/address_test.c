/* Address values of ~connect_to / ~listen_on (WIRE-5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "tofu/codec.h"

static int parse(const char *s, tofu_address *a)
{
	size_t len = strlen(s);
	tu_guarded g;
	int rc;

	tu_guard_alloc(&g, s, len);
	rc = tofu_address_parse(g.data, len, a);
	/* re-point into the caller's string: the guard copy is going away */
	if (rc == 0) {
		if (a->host)
			a->host = s + (a->host - (const char *)g.data);
		if (a->path)
			a->path = s + (a->path - (const char *)g.data);
	}
	tu_guard_free(&g);
	return rc;
}

/* WIRE-5.2.1 WIRE-5.2.4 WIRE-5.2.5 WIRE-5.2.6 */
static void test_valid(void **state)
{
	(void)state;
	tofu_address a;

	assert_int_equal(parse("tcp|127.0.0.1|7099", &a), 0);
	assert_int_equal(a.kind, TOFU_ADDR_TCP);
	assert_int_equal(a.host_len, 9);
	assert_memory_equal(a.host, "127.0.0.1", 9);
	assert_int_equal(a.port, 7099);

	assert_int_equal(parse("tcp||0", &a), 0); /* empty host: all interfaces */
	assert_int_equal(a.host_len, 0);
	assert_int_equal(a.port, 0);
	assert_int_equal(parse("tcp|::1|65535", &a), 0); /* IPv6 needs no brackets */
	assert_int_equal(a.host_len, 3);
	assert_int_equal(a.port, 65535);
	assert_int_equal(parse("tcp|localhost|00080", &a), 0);
	assert_int_equal(a.port, 80);

	assert_int_equal(parse("uds|/tmp/app.sock", &a), 0);
	assert_int_equal(a.kind, TOFU_ADDR_UDS);
	assert_int_equal(a.path_len, 13);
	assert_false(a.abstract);
	assert_int_equal(parse("uds|", &a), 0); /* empty: the listener picks one */
	assert_int_equal(a.path_len, 0);
	assert_int_equal(parse("uds|@tofu-test", &a), 0); /* abstract extension */
	assert_true(a.abstract);
	assert_int_equal(a.path_len, 9);
	assert_memory_equal(a.path, "tofu-test", 9);
}

/* WIRE-5.2.2 WIRE-5.2.3 WIRE-5.2.5 WIRE-5.2.7 WIRE-10.2.1 WIRE-10.2.2 WIRE-10.2.3 */
static void test_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *v;
		int err;
	} cases[] = {
	    {"", TOFU_E_ADDRESS_PARTS},
	    {"tcp", TOFU_E_ADDRESS_PARTS},
	    /* Zig tofu crashes on these (index out of bounds) */
	    {"tcp|a|1|x", TOFU_E_ADDRESS_PARTS},
	    {"tcp|a|1|", TOFU_E_ADDRESS_PARTS},
	    {"||||||||", TOFU_E_ADDRESS_PARTS},
	    {"uds|/a|b|c", TOFU_E_ADDRESS_PARTS},
	    /* Zig reads any 3-part value as TCP */
	    {"xyz|h|1", TOFU_E_ADDRESS_PROTOCOL},
	    {"TCP|h|1", TOFU_E_ADDRESS_PROTOCOL},
	    {"uds|h|1", TOFU_E_ADDRESS_PROTOCOL},
	    {"tcp|/p", TOFU_E_ADDRESS_PROTOCOL},
	    {" uds|/p", TOFU_E_ADDRESS_PROTOCOL},
	    /* Zig's parseInt takes "+7_099"; the wire grammar does not */
	    {"tcp|h|+7099", TOFU_E_ADDRESS_PORT},
	    {"tcp|h|7_099", TOFU_E_ADDRESS_PORT},
	    {"tcp|h|-0", TOFU_E_ADDRESS_PORT},
	    {"tcp|h|65536", TOFU_E_ADDRESS_PORT},
	    {"tcp|h|123456", TOFU_E_ADDRESS_PORT},
	    {"tcp|h|", TOFU_E_ADDRESS_PORT},
	    {"tcp|h| 7099", TOFU_E_ADDRESS_PORT},
	    {"tcp|h|99999", TOFU_E_ADDRESS_PORT},
	    {"tcp|a\rb|1", TOFU_E_ADDRESS_HOST},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tofu_address a;
		int rc = parse(cases[i].v, &a);

		if (rc != cases[i].err)
			fail_msg("\"%s\": got %s, want %s", cases[i].v,
				 rc ? tofu_error_name(rc) : "ok", tofu_error_name(cases[i].err));
		assert_int_equal(tofu_error_status(rc), TOFU_STATUS_INVALID_ADDRESS);
	}
}

/* WIRE-5.2.4 WIRE-5.2.6 WIRE-10.2.6 */
static void test_limits(void **state)
{
	(void)state;
	char v[400];
	tofu_address a;

	/* host: 255 bytes fit, 256 do not */
	memcpy(v, "tcp|", 4);
	memset(v + 4, 'h', 255);
	memcpy(v + 259, "|1", 3);
	assert_int_equal(parse(v, &a), 0);
	memset(v + 4, 'h', 256);
	memcpy(v + 260, "|1", 3);
	assert_int_equal(parse(v, &a), TOFU_E_ADDRESS_HOST);
	/* path: 107 bytes fit sun_path with its NUL, 108 do not */
	memcpy(v, "uds|", 4);
	memset(v + 4, 'p', 107);
	v[111] = 0;
	assert_int_equal(parse(v, &a), 0);
	v[111] = 'p';
	v[112] = 0;
	assert_int_equal(parse(v, &a), TOFU_E_ADDRESS_PATH);
	assert_int_equal(tofu_address_parse("uds|a\0b", 7, &a), TOFU_E_ADDRESS_PATH);
}

/* WIRE-5.3.1 WIRE-5.3.2 WIRE-5.3.3 */
static void test_find(void **state)
{
	(void)state;
	static const char both[] = "x:y\r\n~listen_on:uds|/l\r\n~connect_to:tcp|h|1\r\n";
	static const char bad4[] = "~connect_to:tcp|a|1|2\r\n";
	tofu_address a;
	int listen = -1;

	/* the first reserved header wins, whichever it is */
	assert_int_equal(tofu_address_find(both, sizeof(both) - 1, &a, &listen), 0);
	assert_int_equal(listen, 1);
	assert_int_equal(a.kind, TOFU_ADDR_UDS);
	assert_int_equal(tofu_address_find("a:b\r\n", 5, &a, NULL), TOFU_E_ADDRESS_MISSING);
	assert_int_equal(tofu_address_find(NULL, 0, &a, NULL), TOFU_E_ADDRESS_MISSING);
	assert_int_equal(tofu_error_status(TOFU_E_ADDRESS_MISSING), TOFU_STATUS_WRONG_ADDRESS);
	assert_int_equal(tofu_address_find(bad4, sizeof(bad4) - 1, &a, &listen),
			 TOFU_E_ADDRESS_PARTS);
	/* names are exact: no trimming, case-sensitive */
	assert_int_equal(tofu_address_find(" ~connect_to:tcp|h|1\r\n", 22, &a, NULL),
			 TOFU_E_ADDRESS_MISSING);
	/* the value is trimmed like any header value */
	assert_int_equal(tofu_address_find("~connect_to: tcp|h|1 \r\n", 23, &a, NULL), 0);
	assert_int_equal(a.port, 1);
}

/* WIRE-5.2.8 */
static void test_format_round_trip(void **state)
{
	(void)state;
	static const char *values[] = {"tcp|127.0.0.1|7099", "tcp||0", "tcp|::1|65535",
				       "uds|/tmp/app.sock",  "uds|",   "uds|@abstract"};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		tofu_address a;
		char out[300];
		long n;

		assert_int_equal(tofu_address_parse(values[i], strlen(values[i]), &a), 0);
		n = tofu_address_format(&a, out, sizeof(out));
		assert_int_equal(n, (long)strlen(values[i]));
		assert_memory_equal(out, values[i], (size_t)n);
		/* one byte short: no_space, never an overflow */
		assert_int_equal(tofu_address_format(&a, out, (size_t)n - 1), TOFU_E_NO_SPACE);
	}
	{
		tofu_address a = {.kind = TOFU_ADDR_TCP, .host = "a|b", .host_len = 3, .port = 1};
		char out[32];

		assert_int_equal(tofu_address_format(&a, out, sizeof(out)), TOFU_E_ADDRESS_HOST);
		a.kind = 0;
		assert_int_equal(tofu_address_format(&a, out, sizeof(out)),
				 TOFU_E_ADDRESS_PROTOCOL);
	}
	{
		/* a file path starting with '@' cannot be written: it would read
		 * back as an abstract name */
		tofu_address a = {.kind = TOFU_ADDR_UDS, .path = "@x", .path_len = 2};
		char out[32];

		assert_int_equal(tofu_address_format(&a, out, sizeof(out)), TOFU_E_ADDRESS_PATH);
		a.abstract = 1;
		assert_int_equal(tofu_address_format(&a, out, sizeof(out)), 7);
		assert_memory_equal(out, "uds|@@x", 7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_format_round_trip),
	};
	return cmocka_run_group_tests_name("address (WIRE-5)", tests, NULL, NULL);
}
