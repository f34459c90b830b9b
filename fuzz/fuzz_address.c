/*
 * fuzz/fuzz_address.c - ~connect_to / ~listen_on address values (WIRE-5):
 * tofu_address_parse, tofu_address_format, tofu_address_find.
 *
 * Input: an address value; the same bytes are also offered to
 * tofu_address_find as a text-header block, and (as raw parts) to
 * tofu_address_format.
 *
 * Oracles:
 *   - parse only accepts `tcp|host|port` and `uds|path` shapes, with the
 *     views pointing at exactly those parts of the input, the port equal to
 *     its digits, and the limits kept; plainly valid values are accepted;
 *     the part-count and protocol errors are the ones the shape calls for;
 *   - parse -> format -> parse gives the same address, and format gives the
 *     input back byte for byte when the input was already canonical (no
 *     leading zeros in the port); too small an output buffer gives no_space
 *     and no write past it;
 *   - format of an arbitrary address either refuses it or produces a value
 *     that parses back to the same address (never a value that reads back
 *     differently, e.g. a host holding '|');
 *   - find == "first ~connect_to/~listen_on a caller looping until 0 sees,
 *     parsed", computed with the reference iterator.
 */
#include "fuzz.h"
#include "ref_textheaders.h"
#include "tofu/codec.h"

#define MAX_FORMATTED (3 + 1 + TOFU_MAX_HOST_LEN + 1 + 5 + 16)

static int same_address(const tofu_address *a, const tofu_address *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == TOFU_ADDR_TCP)
		return a->port == b->port && a->host_len == b->host_len &&
		       (a->host_len == 0 || memcmp(a->host, b->host, a->host_len) == 0);
	return a->abstract == b->abstract && a->path_len == b->path_len &&
	       (a->path_len == 0 || memcmp(a->path, b->path, a->path_len) == 0);
}

static int is_plain(uint8_t c)
{
	return c >= 0x21 && c <= 0x7E && c != '|';
}

/* Splits at '|' into at most 4 parts; returns the number of parts (4 means
 * "4 or more"). */
static int split_parts(const uint8_t *v, size_t n, const uint8_t *part[4], size_t plen[4])
{
	int k = 0;
	size_t s = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || v[i] == '|') {
			part[k] = v + s;
			plen[k] = i - s;
			k++;
			s = i + 1;
			if (k == 4)
				return 4;
		}
	}
	return k;
}

static int word_is(const uint8_t *p, size_t n, const char *w)
{
	return n == strlen(w) && memcmp(p, w, n) == 0;
}

/* -1 when the digits are not 1-5 decimal digits in 0..65535 */
static long plain_port(const uint8_t *p, size_t n)
{
	if (n < 1 || n > 5)
		return -1;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v <= 65535 ? v : -1;
}

static void check_parse(const uint8_t *data, size_t size)
{
	const uint8_t *part[4];
	size_t plen[4];
	int k = split_parts(data, size, part, plen);

	tofu_address a;
	memset(&a, 0x5A, sizeof a);
	int rc = tofu_address_parse(data, size, &a);

	/* The errors the shape alone decides. */
	if (k != 2 && k != 3) {
		FUZZ_CHECK(rc == TOFU_E_ADDRESS_PARTS, "%d parts: %s", k, tofu_error_name(rc));
		return;
	}
	if ((k == 2 && !word_is(part[0], plen[0], TOFU_ADDRESS_UDS)) ||
	    (k == 3 && !word_is(part[0], plen[0], TOFU_ADDRESS_TCP))) {
		FUZZ_CHECK(rc == TOFU_E_ADDRESS_PROTOCOL, "protocol word: %s", tofu_error_name(rc));
		return;
	}

	int plain = 1;
	if (k == 3) {
		long port = plain_port(part[2], plen[2]);
		if (port < 0) {
			FUZZ_CHECK(rc == TOFU_E_ADDRESS_PORT || rc == TOFU_E_ADDRESS_HOST,
				   "bad port: %s", tofu_error_name(rc));
			return;
		}
		if (plen[1] > TOFU_MAX_HOST_LEN)
			FUZZ_CHECK(rc == TOFU_E_ADDRESS_HOST, "host of %zu bytes: %s", plen[1],
				   tofu_error_name(rc));
		for (size_t i = 0; i < plen[1]; i++)
			plain = plain && is_plain(part[1][i]);
		if (rc == 0) {
			FUZZ_CHECK(a.kind == TOFU_ADDR_TCP, "kind %d", a.kind);
			FUZZ_CHECK(a.host_len == plen[1] &&
				       (plen[1] == 0 || a.host == (const char *)part[1]),
				   "host view is not the host part");
			FUZZ_CHECK(a.port == port, "port %u, digits say %ld", a.port, port);
			for (size_t i = 0; i < a.host_len; i++)
				FUZZ_CHECK(part[1][i] >= 0x20 && part[1][i] != 0x7F,
					   "host holds control byte 0x%02x", part[1][i]);
		} else {
			FUZZ_CHECK(!plain || plen[1] > TOFU_MAX_HOST_LEN,
				   "plainly valid tcp address refused: %s", tofu_error_name(rc));
			FUZZ_CHECK(rc == TOFU_E_ADDRESS_HOST, "tcp value refused with %s",
				   tofu_error_name(rc));
		}
	} else {
		for (size_t i = 0; i < plen[1]; i++)
			plain = plain && is_plain(part[1][i]);
		if ((plen[1] > 0 && part[1][0] == '@') || plen[1] > TOFU_MAX_UDS_PATH_LEN)
			plain = 0; /* abstract names: checked by the round trip */
		if (plen[1] > TOFU_MAX_UDS_PATH_LEN)
			FUZZ_CHECK(rc == TOFU_E_ADDRESS_PATH, "path of %zu bytes: %s", plen[1],
				   tofu_error_name(rc));
		if (rc == 0) {
			FUZZ_CHECK(a.kind == TOFU_ADDR_UDS, "kind %d", a.kind);
			FUZZ_CHECK(fuzz_inside(a.path, a.path_len, part[1], plen[1]),
				   "path view outside the path part");
			FUZZ_CHECK(memchr(a.path, 0, a.path_len) == NULL, "path holds NUL");
			if (a.abstract) {
				FUZZ_CHECK(plen[1] > 0 && part[1][0] == '@',
					   "abstract without '@'");
			} else {
				FUZZ_CHECK(a.path_len == plen[1] &&
					       (plen[1] == 0 || a.path == (const char *)part[1]),
					   "path view is not the path part");
			}
		} else {
			FUZZ_CHECK(!plain, "plainly valid uds address refused: %s",
				   tofu_error_name(rc));
			FUZZ_CHECK(rc == TOFU_E_ADDRESS_PATH, "uds value refused with %s",
				   tofu_error_name(rc));
		}
	}
	if (rc != 0)
		return;

	/* parse -> format -> parse */
	char out[MAX_FORMATTED];
	long n = tofu_address_format(&a, out, sizeof out);
	FUZZ_CHECK(n > 0 && (size_t)n <= sizeof out, "format of a parsed address = %ld (%s)", n,
		   tofu_error_name((int)n));
	tofu_address b;
	int rc2 = tofu_address_parse(out, (size_t)n, &b);
	FUZZ_CHECK(rc2 == 0, "formatted value does not parse: %s", tofu_error_name(rc2));
	FUZZ_CHECK(same_address(&a, &b), "parse(format(a)) != a");
	int canonical = k == 2 || plen[2] == 1 || part[2][0] != '0';
	if (canonical)
		FUZZ_CHECK((size_t)n == size && memcmp(out, data, size) == 0,
			   "format(parse(v)) != v for a canonical value");

	/* too small a buffer: no_space, nothing written past it */
	char *tight = malloc((size_t)n);
	long t = tofu_address_format(&a, tight, (size_t)n - 1);
	FUZZ_CHECK(t == TOFU_E_NO_SPACE, "format into %ld bytes = %ld", n - 1, t);
	t = tofu_address_format(&a, tight, (size_t)n);
	FUZZ_CHECK(t == n && memcmp(tight, out, (size_t)n) == 0, "format into exact buffer");
	free(tight);
}

/* format must refuse, or produce what parses back to the same address. */
static void check_format_arbitrary(const uint8_t *data, size_t size)
{
	if (size < 3)
		return;
	tofu_address a;
	memset(&a, 0, sizeof a);
	a.kind = (data[0] & 1) ? TOFU_ADDR_UDS : TOFU_ADDR_TCP;
	a.abstract = (data[0] >> 1) & 1;
	a.port = fuzz_be16(data + 1);
	if (a.kind == TOFU_ADDR_TCP) {
		a.host = (const char *)data + 3;
		a.host_len = size - 3;
	} else {
		a.path = (const char *)data + 3;
		a.path_len = size - 3;
	}
	char out[MAX_FORMATTED];
	long n = tofu_address_format(&a, out, sizeof out);
	if (n < 0) {
		FUZZ_CHECK(tofu_error_name((int)n) != NULL && n != TOFU_E_INCOMPLETE,
			   "format = %ld", n);
		return;
	}
	FUZZ_CHECK((size_t)n <= sizeof out, "format claims %ld bytes", n);
	tofu_address b;
	int rc = tofu_address_parse(out, (size_t)n, &b);
	FUZZ_CHECK(rc == 0, "format produced an unparsable value: %s", tofu_error_name(rc));
	FUZZ_CHECK(same_address(&a, &b), "format produced a value that reads back differently");
}

static void check_find(const uint8_t *data, size_t size)
{
	tofu_address got, want;
	memset(&got, 0, sizeof got);
	int is_listen = -1;
	int rc = tofu_address_find(data, size, &got, &is_listen);

	struct ref_th_iter it;
	tofu_th_field f;
	ref_th_init(&it, data, size);
	int found = 0, want_listen = 0;
	while (!found && ref_th_next(&it, &f)) {
		if (f.name_len == sizeof TOFU_HEADER_CONNECT_TO - 1 &&
		    memcmp(f.name, TOFU_HEADER_CONNECT_TO, f.name_len) == 0)
			found = 1;
		else if (f.name_len == sizeof TOFU_HEADER_LISTEN_ON - 1 &&
			 memcmp(f.name, TOFU_HEADER_LISTEN_ON, f.name_len) == 0)
			found = 1, want_listen = 1;
	}
	if (!found) {
		FUZZ_CHECK(rc == TOFU_E_ADDRESS_MISSING, "find without the header = %s",
			   tofu_error_name(rc));
		return;
	}
	int wrc = tofu_address_parse(f.value, f.value_len, &want);
	FUZZ_CHECK(rc == wrc, "find = %s, parse of the first header = %s", tofu_error_name(rc),
		   tofu_error_name(wrc));
	if (rc == 0) {
		FUZZ_CHECK(same_address(&got, &want), "find parsed a different address");
		FUZZ_CHECK(is_listen == want_listen, "is_listen %d, want %d", is_listen,
			   want_listen);
	}
	FUZZ_CHECK(tofu_address_find(data, size, &got, NULL) == rc, "result depends on is_listen");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parse(data, size);
	check_format_arbitrary(data, size);
	check_find(data, size);
	return 0;
}
