/* Text headers (WIRE-4): the lenient iterator against the Zig vectors and
 * the spec's edge cases, the strict validator, the serialiser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "tofu/codec.h"

/* Collects what a caller looping "until 0" sees, as "name=value;" text. */
static size_t collect(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	tofu_th_iter it;
	tofu_th_field f;
	size_t k = 0;

	tofu_th_iter_init(&it, buf, len);
	while (tofu_th_next(&it, &f)) {
		assert_true(k + f.name_len + f.value_len + 2 < cap);
		memcpy(out + k, f.name, f.name_len);
		k += f.name_len;
		out[k++] = '=';
		memcpy(out + k, f.value, f.value_len);
		k += f.value_len;
		out[k++] = ';';
		/* every field lies inside the input */
		assert_true(f.name >= buf && f.name + f.name_len <= buf + len);
		assert_true(f.value >= buf && f.value + f.value_len <= buf + len);
	}
	out[k] = 0;
	return k;
}

/* Same, inside a guard page, so any read past the input faults. */
static void expect(const char *block, size_t len, const char *want)
{
	char got[4096];
	tu_guarded g;

	tu_guard_alloc(&g, block, len);
	collect(g.data, len, got, sizeof(got));
	tu_guard_free(&g);
	if (strcmp(got, want) != 0)
		fail_msg("block \"%.*s\": got \"%s\", want \"%s\"", (int)len, block, got, want);
}
#define EXPECT(lit, want) expect(lit, sizeof(lit) - 1, want)

/* WIRE-4.2: one case per edge case of the spec. */
/* WIRE-4.2.2 WIRE-4.2.3 WIRE-4.2.4 WIRE-4.2.5 WIRE-4.2.6 WIRE-4.2.7 WIRE-4.2.8 WIRE-4.2.11
 * WIRE-4.2.12 WIRE-4.1.3 */
static void test_iterator_edge_cases(void **state)
{
	(void)state;
	EXPECT("a:b\r\n", "a=b;");
	EXPECT("a:b:c\r\n", "a=b:c;");	       /* first colon splits */
	EXPECT("a: \tb\t \r\n", "a=b;");       /* value trimmed of SP/HTAB */
	EXPECT(" a :b\r\n", " a =b;");	       /* name not trimmed */
	EXPECT("\r\n\r\na:b\r\n\r\n", "a=b;"); /* empty lines skipped */
	EXPECT("a:b\r\nc:d", "a=b;c=d;");      /* last line without CRLF */
	EXPECT("a:b\nc:d\r\n", "a=b\nc:d;");   /* lone LF is data */
	EXPECT("a:b\rc\r\n", "a=b\rc;");       /* lone CR is data */
	EXPECT("a:b\r", "a=b\r;");	       /* trailing CR stays: not trimmed */
	EXPECT("a\r:b\r\n", "a\r=b;");	       /* CR then colon: name holds CR */
	EXPECT("a\r\n", "a=;");		       /* no colon: empty value */
	EXPECT("a:\r\n", "a=;");
	EXPECT("a:1\r\na:2\r\n", "a=1;a=2;");	/* duplicates kept in order */
	EXPECT("a:b\r\n:x\r\nc:d\r\n", "a=b;"); /* empty name ends iteration */
	EXPECT(":x\r\n", "");
	EXPECT("", "");
	EXPECT("\r\n", "");
	EXPECT("a:b\r\n\r", "a=b;\r=;"); /* a final lone CR is a name */
	EXPECT("\r\r\n", "\r=;");
	EXPECT("a:b\r\r\n", "a=b\r;");
	EXPECT("~connect_to:tcp|127.0.0.1|7099\r\n", "~connect_to=tcp|127.0.0.1|7099;");
}

/* After an empty name, another call continues with the next line. */
/* WIRE-4.2.9 WIRE-10.4.5 */
static void test_iterator_continues_after_empty_name(void **state)
{
	(void)state;
	static const char b[] = ":x\r\nb:c\r\n";
	tofu_th_iter it;
	tofu_th_field f;

	tofu_th_iter_init(&it, b, sizeof(b) - 1);
	assert_int_equal(tofu_th_next(&it, &f), 0);
	assert_int_equal(tofu_th_next(&it, &f), 1);
	assert_memory_equal(f.name, "b", 1);
	assert_memory_equal(f.value, "c", 1);
	assert_int_equal(tofu_th_next(&it, &f), 0);
	assert_int_equal(tofu_th_next(&it, &f), 0);
	tofu_th_iter_init(&it, NULL, 5);
	assert_int_equal(tofu_th_next(&it, &f), 0);
}

/* WIRE-4.2 ground truth: every vector of what Zig's iterator yields. */
/* WIRE-4.2.1 WIRE-4.1.4 WIRE-11.3.1 */
static void test_iterator_zig_vectors(void **state)
{
	(void)state;
	size_t flen;
	char *file = tu_load_vectors("textheaders-iterator.json", &flen);
	const char *cur;
	static tu_iter_vector v;
	int n = 0, rc;

	if (!file) {
		skip();
		return;
	}
	cur = file;
	while ((rc = tu_next_iter_vector(&cur, &v)) == 1) {
		tofu_th_iter it;
		tofu_th_field f;
		size_t i = 0;
		tu_guarded g;

		tu_guard_alloc(&g, v.input, v.input_len);
		tofu_th_iter_init(&it, g.data, v.input_len);
		while (tofu_th_next(&it, &f)) {
			if (i >= v.npairs)
				fail_msg("tcId %ld: extra field", v.tc_id);
			if (f.name_len != v.name_len[i] ||
			    memcmp(f.name, v.pairs_buf + v.name_off[i], f.name_len) ||
			    f.value_len != v.value_len[i] ||
			    memcmp(f.value, v.pairs_buf + v.value_off[i], f.value_len))
				fail_msg("tcId %ld: field %zu differs", v.tc_id, i);
			i++;
		}
		if (i != v.npairs)
			fail_msg("tcId %ld: %zu fields, want %zu", v.tc_id, i, v.npairs);
		tu_guard_free(&g);
		n++;
	}
	assert_int_equal(rc, 0);
	free(file);
	print_message("%d Zig iterator vectors agree\n", n);
	assert_true(n >= 300);
}

/* Differential check against the simplest possible reading of WIRE-4.2. */
static size_t reference_collect(const uint8_t *b, size_t n, char *out)
{
	size_t i = 0, k = 0;

	while (i < n) {
		size_t e = i, end, c, vs, ve;

		if (n - i >= 2 && b[i] == '\r' && b[i + 1] == '\n') {
			i += 2;
			continue;
		}
		while (e < n && !(e + 1 < n && b[e] == '\r' && b[e + 1] == '\n'))
			e++;
		end = e;
		for (c = i; c < end && b[c] != ':'; c++)
			;
		if (c == i)
			break;
		memcpy(out + k, b + i, c - i);
		k += c - i;
		out[k++] = '=';
		if (c < end) {
			vs = c + 1;
			ve = end;
			while (vs < ve && (b[vs] == ' ' || b[vs] == '\t'))
				vs++;
			while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t'))
				ve--;
			memcpy(out + k, b + vs, ve - vs);
			k += ve - vs;
		}
		out[k++] = ';';
		i = end < n ? end + 2 : n;
	}
	out[k] = 0;
	return k;
}

/* WIRE-4.2.1 */
static void test_iterator_differential_random(void **state)
{
	(void)state;
	static const uint8_t alphabet[] = {'a', 'b', ':', ' ', '\t', '\r', '\n', 0, 0xff, '~'};
	uint64_t seed = 7;

	for (int round = 0; round < 20000; round++) {
		uint8_t b[64];
		char got[512], want[512];
		size_t n = tu_rand(&seed) % sizeof(b), kg, kw;
		tu_guarded g;

		for (size_t i = 0; i < n; i++)
			b[i] = alphabet[tu_rand(&seed) % sizeof(alphabet)];
		tu_guard_alloc(&g, b, n);
		kg = collect(g.data, n, got, sizeof(got));
		tu_guard_free(&g);
		kw = reference_collect(b, n, want);
		assert_int_equal(kg, kw);
		assert_memory_equal(got, want, kg);
	}
}

/* WIRE-4.2.10 WIRE-4.1.2 */
static void test_find(void **state)
{
	(void)state;
	static const char b[] = "x:1\r\n~listen_on:uds|/a\r\nx:2\r\n";
	tofu_th_field f;

	assert_int_equal(tofu_th_find(b, sizeof(b) - 1, "x", 1, &f), 1);
	assert_memory_equal(f.value, "1", 1);
	assert_int_equal(tofu_th_find(b, sizeof(b) - 1, "~listen_on", 10, &f), 1);
	assert_int_equal(f.value_len, 6);
	assert_int_equal(tofu_th_find(b, sizeof(b) - 1, "y", 1, &f), 0);
	/* not seen after an empty name, as for any "until null" loop */
	assert_int_equal(tofu_th_find("::\r\nx:1\r\n", 9, "x", 1, &f), 0);
}

/* WIRE-4.3: strict validator, one case per class, with the offset. */
/* WIRE-4.3.1 WIRE-4.3.3 WIRE-4.3.5 WIRE-4.1.1 */
static void test_validate(void **state)
{
	(void)state;
	static const struct {
		const char *block;
		int err;
		size_t at;
	} cases[] = {
	    {"", 0, 0},
	    {"a:b\r\n", 0, 0},
	    {"Job-ID: 12345 \r\n~connect_to:tcp|::1|7099\r\n", 0, 0},
	    {"a:b c\td\r\n", 0, 0},
	    {"a:\x80\xff\r\n", 0, 0},
	    {":b\r\n", TOFU_E_EMPTY_NAME, 0},
	    {"a:b\r\n:b\r\n", TOFU_E_EMPTY_NAME, 5},
	    {"a b:c\r\n", TOFU_E_BAD_NAME_CHAR, 1},
	    {" a:b\r\n", TOFU_E_BAD_NAME_CHAR, 0},
	    {"a\x01:b\r\n", TOFU_E_BAD_NAME_CHAR, 1},
	    {"a:b\x01\r\n", TOFU_E_BAD_VALUE_CHAR, 3},
	    {"a:b\nc\r\n", TOFU_E_BAD_VALUE_CHAR, 3},
	    {"a:b\rc\r\n", TOFU_E_BAD_VALUE_CHAR, 3},
	    {"a:b\x7f\r\n", TOFU_E_BAD_VALUE_CHAR, 3},
	    {"a:\r\n", TOFU_E_EMPTY_VALUE, 2},
	    {"a:  \r\n", TOFU_E_EMPTY_VALUE, 4},
	    {"a:", TOFU_E_EMPTY_VALUE, 2},
	    {"a\r\n", TOFU_E_MISSING_COLON, 1},
	    {"a", TOFU_E_MISSING_COLON, 1},
	    {"a:b", TOFU_E_MISSING_CRLF, 3},
	    {"a:b\r", TOFU_E_MISSING_CRLF, 4},
	    {"\r\n", TOFU_E_EMPTY_LINE, 0},
	    {"a:b\r\n\r\n", TOFU_E_EMPTY_LINE, 5},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].block), at = 9999;
		tu_guarded g;
		int rc;

		tu_guard_alloc(&g, cases[i].block, len);
		rc = tofu_th_validate(g.data, len, &at);
		tu_guard_free(&g);
		if (rc != cases[i].err || (rc && at != cases[i].at))
			fail_msg("case %zu \"%s\": got %s at %zu, want %s at %zu", i,
				 cases[i].block, rc ? tofu_error_name(rc) : "ok", at,
				 cases[i].err ? tofu_error_name(cases[i].err) : "ok", cases[i].at);
	}
}

/* WIRE-4.3.2 */
static void test_validate_too_long(void **state)
{
	(void)state;
	size_t len = 65536;
	char *b = malloc(len);
	size_t at;

	assert_non_null(b);
	memset(b, 'a', len);
	assert_int_equal(tofu_th_validate(b, len, &at), TOFU_E_HEADERS_TOO_LONG);
	/* a single line of exactly 65535 bytes is fine */
	b[1] = ':';
	b[65533] = '\r';
	b[65534] = '\n';
	assert_int_equal(tofu_th_validate(b, 65535, &at), 0);
	free(b);
}

/* WIRE-4.4: serialiser output, refusals, and nothing appended on error. */
/* WIRE-4.4.1 WIRE-4.4.2 WIRE-4.4.3 WIRE-4.4.4 WIRE-4.4.5 WIRE-4.4.6 WIRE-4.4.7 WIRE-4.4.8
 * WIRE-10.2.4 */
static void test_serialiser(void **state)
{
	(void)state;
	uint8_t buf[64];
	tofu_th_writer w;

	tofu_th_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(tofu_th_append(&w, "Job-ID", 6, "12345", 5), 0);
	assert_int_equal(w.len, 14);
	assert_memory_equal(buf, "Job-ID:12345\r\n", 14); /* no space after the colon */
	assert_int_equal(tofu_th_append(&w, "", 0, "v", 1), TOFU_E_EMPTY_NAME);
	assert_int_equal(tofu_th_append(&w, "a:b", 3, "v", 1), TOFU_E_BAD_NAME_CHAR);
	assert_int_equal(tofu_th_append(&w, " a", 2, "v", 1), TOFU_E_BAD_NAME_CHAR);
	assert_int_equal(tofu_th_append(&w, "a\r\nb", 4, "v", 1), TOFU_E_BAD_NAME_CHAR);
	assert_int_equal(tofu_th_append(&w, "a", 1, "", 0), TOFU_E_EMPTY_VALUE);
	/* header injection */
	assert_int_equal(tofu_th_append(&w, "a", 1, "x\r\n~connect_to:tcp|evil|1", 25),
			 TOFU_E_BAD_VALUE_CHAR);
	assert_int_equal(tofu_th_append(&w, "a", 1, "x\ny", 3), TOFU_E_BAD_VALUE_CHAR);
	assert_int_equal(tofu_th_append(&w, "a", 1, " x\r", 3), TOFU_E_BAD_VALUE_CHAR);
	assert_int_equal(tofu_th_append(&w, "a", 1, "x\0y", 3), TOFU_E_BAD_VALUE_CHAR);
	/* would be trimmed away by a parser */
	assert_int_equal(tofu_th_append(&w, "a", 1, " x", 2), TOFU_E_VALUE_NOT_CANONICAL);
	assert_int_equal(tofu_th_append(&w, "a", 1, "x\t", 2), TOFU_E_VALUE_NOT_CANONICAL);
	assert_int_equal(tofu_th_append(&w, "a", 1, " ", 1), TOFU_E_VALUE_NOT_CANONICAL);
	/* out of space: 14 used, 50 left; "n:" + 46 + CRLF = 50 fits, 47 not */
	{
		char v[47];

		memset(v, 'v', sizeof(v));
		assert_int_equal(tofu_th_append(&w, "n", 1, v, 47), TOFU_E_NO_SPACE);
		assert_int_equal(w.len, 14);
		assert_int_equal(tofu_th_append(&w, "n", 1, v, 46), 0);
		assert_int_equal(w.len, 64);
	}
	assert_int_equal(tofu_th_validate(buf, w.len, NULL), 0);
}

/* Whatever the serialiser accepts, the iterator reads back unchanged and
 * the strict validator accepts. */
/* WIRE-4.4.9 WIRE-4.3.4 WIRE-4.1.5 */
static void test_serialiser_round_trip_random(void **state)
{
	(void)state;
	/* mostly legal bytes, with some that must be refused */
	static const uint8_t nchars[] = {'a', 'Z', '-', '_', '~', '!', ':', ' ', 0x80};
	static const uint8_t vchars[] = {'a', 'b', ':', ' ', '\t', '|', 0x80, 0xff, '\r', '\n'};
	uint64_t seed = 99;
	size_t accepted = 0;

	for (int round = 0; round < 5000; round++) {
		uint8_t buf[2048], names[8][16], values[8][32];
		size_t nl[8], vl[8], count = 0;
		tofu_th_writer w;
		tofu_th_iter it;
		tofu_th_field f;
		size_t i = 0;

		tofu_th_writer_init(&w, buf, sizeof(buf));
		for (int k = 0; k < 8; k++) {
			nl[count] = 1 + tu_rand(&seed) % 15;
			vl[count] = tu_rand(&seed) % 8;
			for (size_t j = 0; j < nl[count]; j++)
				names[count][j] =
				    nchars[tu_rand(&seed) % 7 + (tu_rand(&seed) % 4 == 0) * 2];
			for (size_t j = 0; j < vl[count]; j++)
				values[count][j] =
				    vchars[tu_rand(&seed) % 8 + (tu_rand(&seed) % 8 == 0) * 2];
			if (tofu_th_append(&w, names[count], nl[count], values[count], vl[count]) ==
			    0)
				count++;
		}
		assert_int_equal(tofu_th_validate(buf, w.len, NULL), 0);
		tofu_th_iter_init(&it, buf, w.len);
		while (tofu_th_next(&it, &f)) {
			assert_true(i < count);
			assert_int_equal(f.name_len, nl[i]);
			assert_memory_equal(f.name, names[i], nl[i]);
			assert_int_equal(f.value_len, vl[i]);
			assert_memory_equal(f.value, values[i], vl[i]);
			i++;
		}
		assert_int_equal(i, count);
		accepted += count;
	}
	/* the property is only worth something if many lines were accepted */
	print_message("%zu lines accepted and read back\n", accepted);
	assert_true(accepted > 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_iterator_edge_cases),
	    cmocka_unit_test(test_iterator_continues_after_empty_name),
	    cmocka_unit_test(test_iterator_zig_vectors),
	    cmocka_unit_test(test_iterator_differential_random),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_validate_too_long),
	    cmocka_unit_test(test_serialiser),
	    cmocka_unit_test(test_serialiser_round_trip_random),
	};
	return cmocka_run_group_tests_name("textheaders (WIRE-4)", tests, NULL, NULL);
}
