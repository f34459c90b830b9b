/*
 * Address values of the reserved headers ~connect_to / ~listen_on (WIRE-5):
 *   tcp|<host>|<port>    uds|<path>    (uds|@name: Linux abstract extension)
 *
 * Stricter than Zig tofu on purpose (WIRE-10): Zig indexes a 3-element array
 * with the 4th part of a 4-part value (a crash), reads any 3-part value as
 * TCP and accepts "+7_099" as a port. Here every malformed value is an
 * address_* error that an engine reports as invalid_address.
 */
#include <string.h>

#include "tofu/codec.h"

static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int word_is(const char *p, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(p, word, len) == 0;
}

int tofu_address_parse(const void *value, size_t len, tofu_address *a)
{
	const char *v = value, *part[3];
	size_t plen[3], nparts = 0, start = 0;

	/* Split on '|' and count every part, so a 4th part is refused before
	 * anything indexes it. */
	for (size_t i = 0; i <= len; i++) {
		if (i < len && v[i] != '|')
			continue;
		if (nparts == 3)
			return TOFU_E_ADDRESS_PARTS;
		part[nparts] = v + start;
		plen[nparts++] = i - start;
		start = i + 1;
	}

	memset(a, 0, sizeof(*a));
	if (nparts == 3) {
		uint32_t port = 0;

		if (!word_is(part[0], plen[0], TOFU_ADDRESS_TCP))
			return TOFU_E_ADDRESS_PROTOCOL;
		if (plen[1] > TOFU_MAX_HOST_LEN)
			return TOFU_E_ADDRESS_HOST;
		for (size_t i = 0; i < plen[1]; i++)
			if (is_ctl((unsigned char)part[1][i]))
				return TOFU_E_ADDRESS_HOST;
		if (plen[2] < 1 || plen[2] > 5)
			return TOFU_E_ADDRESS_PORT;
		for (size_t i = 0; i < plen[2]; i++) {
			if (part[2][i] < '0' || part[2][i] > '9')
				return TOFU_E_ADDRESS_PORT;
			port = port * 10 + (uint32_t)(part[2][i] - '0');
		}
		if (port > 65535)
			return TOFU_E_ADDRESS_PORT;
		a->kind = TOFU_ADDR_TCP;
		a->host = part[1];
		a->host_len = plen[1];
		a->port = (uint16_t)port;
		return 0;
	}
	if (nparts == 2) {
		if (!word_is(part[0], plen[0], TOFU_ADDRESS_UDS))
			return TOFU_E_ADDRESS_PROTOCOL;
		/* sun_path holds 108 bytes including the terminating NUL (an
		 * abstract name has a leading NUL instead of the '@'). */
		if (plen[1] > TOFU_MAX_UDS_PATH_LEN || memchr(part[1], '\0', plen[1]))
			return TOFU_E_ADDRESS_PATH;
		a->kind = TOFU_ADDR_UDS;
		a->path = part[1];
		a->path_len = plen[1];
		if (plen[1] > 0 && part[1][0] == TOFU_ADDRESS_ABSTRACT_PREFIX[0]) {
			a->abstract = 1;
			a->path++;
			a->path_len--;
		}
		return 0;
	}
	return TOFU_E_ADDRESS_PARTS;
}

int tofu_address_find(const void *text_headers, size_t len, tofu_address *a, int *is_listen)
{
	static const size_t connect_len = sizeof(TOFU_HEADER_CONNECT_TO) - 1;
	static const size_t listen_len = sizeof(TOFU_HEADER_LISTEN_ON) - 1;
	tofu_th_iter it;
	tofu_th_field f;

	/* The first reserved header wins, whichever it is (as in Zig). */
	tofu_th_iter_init(&it, text_headers, len);
	while (tofu_th_next(&it, &f)) {
		int listen;

		if (f.name_len == connect_len &&
		    memcmp(f.name, TOFU_HEADER_CONNECT_TO, connect_len) == 0)
			listen = 0;
		else if (f.name_len == listen_len &&
			 memcmp(f.name, TOFU_HEADER_LISTEN_ON, listen_len) == 0)
			listen = 1;
		else
			continue;
		if (is_listen)
			*is_listen = listen;
		return tofu_address_parse(f.value, f.value_len, a);
	}
	return TOFU_E_ADDRESS_MISSING;
}

/* Appends len bytes at *pos if they fit. */
static int put(char *out, size_t cap, size_t *pos, const void *p, size_t len)
{
	if (len > cap - *pos)
		return TOFU_E_NO_SPACE;
	memcpy(out + *pos, p, len);
	*pos += len;
	return 0;
}

long tofu_address_format(const tofu_address *a, char *out, size_t cap)
{
	size_t pos = 0;
	int rc = 0;

	if (a->kind == TOFU_ADDR_TCP) {
		char digits[5];
		size_t nd = 0;
		unsigned port = a->port;

		if (a->host_len > TOFU_MAX_HOST_LEN ||
		    memchr(a->host ? a->host : "", '|', a->host_len))
			return TOFU_E_ADDRESS_HOST;
		for (size_t i = 0; i < a->host_len; i++)
			if (is_ctl((unsigned char)a->host[i]))
				return TOFU_E_ADDRESS_HOST;
		do {
			digits[sizeof(digits) - 1 - nd++] = (char)('0' + port % 10);
			port /= 10;
		} while (port);
		rc = put(out, cap, &pos, TOFU_ADDRESS_TCP "|", 4);
		if (!rc && a->host_len)
			rc = put(out, cap, &pos, a->host, a->host_len);
		if (!rc)
			rc = put(out, cap, &pos, "|", 1);
		if (!rc)
			rc = put(out, cap, &pos, digits + sizeof(digits) - nd, nd);
	} else if (a->kind == TOFU_ADDR_UDS) {
		size_t full = a->path_len + (a->abstract ? 1 : 0);

		/* A file path starting with '@' would read back as abstract. */
		if (!a->abstract && a->path_len && a->path[0] == TOFU_ADDRESS_ABSTRACT_PREFIX[0])
			return TOFU_E_ADDRESS_PATH;
		if (full > TOFU_MAX_UDS_PATH_LEN ||
		    (a->path_len &&
		     (memchr(a->path, '\0', a->path_len) || memchr(a->path, '|', a->path_len))))
			return TOFU_E_ADDRESS_PATH;
		rc = put(out, cap, &pos, TOFU_ADDRESS_UDS "|", 4);
		if (!rc && a->abstract)
			rc = put(out, cap, &pos, TOFU_ADDRESS_ABSTRACT_PREFIX, 1);
		if (!rc && a->path_len)
			rc = put(out, cap, &pos, a->path, a->path_len);
	} else {
		return TOFU_E_ADDRESS_PROTOCOL;
	}
	return rc ? rc : (long)pos;
}
