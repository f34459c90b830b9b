#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void tu_guard_alloc(tu_guarded *g, const void *src, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + page - 1) / page;
	uint8_t *base;

	if (data_pages == 0)
		data_pages = 1;
	g->map_len = (data_pages + 1) * page;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	base = g->map;
	if (mprotect(base + data_pages * page, page, PROT_NONE) != 0) {
		perror("mprotect");
		abort();
	}
	g->data = base + data_pages * page - len;
	if (len)
		memcpy(g->data, src, len);
}

void tu_guard_free(tu_guarded *g)
{
	munmap(g->map, g->map_len);
	g->map = NULL;
	g->data = NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t tu_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*hex) {
		int hi, lo;

		if (*hex == ' ' || *hex == '\n') {
			hex++;
			continue;
		}
		hi = hexval(hex[0]);
		lo = hexval(hex[1]);
		if (hi < 0 || lo < 0 || n == cap) {
			fprintf(stderr, "tu_unhex: bad hex or overflow at '%.8s'\n", hex);
			abort();
		}
		out[n++] = (uint8_t)(hi << 4 | lo);
		hex += 2;
	}
	return n;
}

uint64_t tu_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

char *tu_load_vectors(const char *file_name, size_t *len)
{
	const char *dir = getenv("TOFU_VECTORS_DIR");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	if (!dir || !*dir)
		dir = "../shared/interop";
	snprintf(path, sizeof(path), "%s/%s", dir, file_name);
	f = fopen(path, "rb");
	if (!f) {
		printf("SKIP: vector file %s not found (set TOFU_VECTORS_DIR)\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Reads the JSON string starting at the '"' at *p into hex bytes. */
static int read_hex_string(const char **p, uint8_t *out, size_t cap, size_t *n)
{
	const char *s = *p;
	size_t k = 0;

	if (*s != '"')
		return -1;
	s++;
	while (*s && *s != '"') {
		int hi = hexval(s[0]), lo = hexval(s[1]);

		if (hi < 0 || lo < 0 || k == cap)
			return -1;
		out[k++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	if (*s != '"')
		return -1;
	*p = s + 1;
	*n = k;
	return 0;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == ',')
		p++;
	return p;
}

/* The file's shape is fixed (interop/README): each test object holds "tcId",
 * "comment", "input" and "headers" in this order. */
int tu_next_iter_vector(const char **cursor, tu_iter_vector *v)
{
	const char *p = strstr(*cursor, "\"tcId\"");
	size_t used = 0;

	if (!p)
		return 0;
	v->tc_id = strtol(strchr(p, ':') + 1, NULL, 10);
	p = strstr(p, "\"input\"");
	if (!p)
		return -1;
	p = skip_ws(strchr(p, ':') + 1);
	if (read_hex_string(&p, v->input, sizeof(v->input), &v->input_len))
		return -1;
	p = strstr(p, "\"headers\"");
	if (!p)
		return -1;
	p = skip_ws(strchr(p, ':') + 1);
	if (*p++ != '[')
		return -1;
	v->npairs = 0;
	for (;;) {
		size_t n;

		p = skip_ws(p);
		if (*p == ']') {
			p++;
			break;
		}
		if (*p++ != '[' || v->npairs == 256)
			return -1;
		p = skip_ws(p);
		if (read_hex_string(&p, v->pairs_buf + used, sizeof(v->pairs_buf) - used, &n))
			return -1;
		v->name_off[v->npairs] = used;
		v->name_len[v->npairs] = n;
		used += n;
		p = skip_ws(p);
		if (read_hex_string(&p, v->pairs_buf + used, sizeof(v->pairs_buf) - used, &n))
			return -1;
		v->value_off[v->npairs] = used;
		v->value_len[v->npairs] = n;
		used += n;
		p = skip_ws(p);
		if (*p++ != ']')
			return -1;
		v->npairs++;
	}
	*cursor = p;
	return 1;
}
