/*
 * tjson.c - see tjson.h.
 */
#include "tjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* A minimal JSON reader: enough for the requests of spec/testee.md     */
/* (objects, arrays, strings without escapes, unsigned numbers, bools). */
/* ------------------------------------------------------------------ */

static void skip_ws(jparser *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

static int parse_string(jparser *j, const char **s, size_t *len)
{
	if (j->p >= j->end || *j->p != '"')
		return -1;
	const char *b = ++j->p;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\')
			return -1; /* the contract never needs escapes */
		j->p++;
	}
	if (j->p >= j->end)
		return -1;
	*s = b;
	*len = (size_t)(j->p - b);
	j->p++;
	return 0;
}

jv *tj_parse(jparser *j, int depth)
{
	skip_ws(j);
	if (j->p >= j->end || j->used >= j->cap || depth > 32)
		return NULL;
	jv *v = &j->nodes[j->used++];
	memset(v, 0, sizeof(*v));
	char c = *j->p;
	if (c == '"') {
		v->type = J_STR;
		return parse_string(j, &v->str, &v->len) ? NULL : v;
	}
	if (c == '{' || c == '[') {
		v->type = c == '{' ? J_OBJ : J_ARR;
		char close = c == '{' ? '}' : ']';
		jv **tail = &v->kid;
		j->p++;
		skip_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return v;
		}
		for (;;) {
			const char *k = NULL;
			size_t kl = 0;
			if (v->type == J_OBJ) {
				skip_ws(j);
				if (parse_string(j, &k, &kl))
					return NULL;
				skip_ws(j);
				if (j->p >= j->end || *j->p++ != ':')
					return NULL;
			}
			jv *kid = tj_parse(j, depth + 1);
			if (!kid)
				return NULL;
			kid->key = k;
			kid->key_len = kl;
			*tail = kid;
			tail = &kid->next;
			skip_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == close) {
				j->p++;
				return v;
			}
			return NULL;
		}
	}
	if (c >= '0' && c <= '9') {
		v->type = J_NUM;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			v->num = v->num * 10 + (uint64_t)(*j->p++ - '0');
		return v;
	}
	static const struct {
		const char *w;
		int type;
		uint64_t num;
	} words[] = {{"true", J_BOOL, 1}, {"false", J_BOOL, 0}, {"null", J_NULL, 0}};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t wl = strlen(words[i].w);
		if ((size_t)(j->end - j->p) >= wl && !memcmp(j->p, words[i].w, wl)) {
			j->p += wl;
			v->type = words[i].type;
			v->num = words[i].num;
			return v;
		}
	}
	return NULL;
}

const jv *tj_member(const jv *obj, const char *key)
{
	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (const jv *k = obj->kid; k; k = k->next)
		if (k->key_len == strlen(key) && !memcmp(k->key, key, k->key_len))
			return k;
	return NULL;
}

uint64_t tj_num(const jv *obj, const char *key)
{
	const jv *v = tj_member(obj, key);
	return v && (v->type == J_NUM || v->type == J_BOOL) ? v->num : 0;
}

/* Decodes a hex J_STR into a fresh buffer (caller frees). NULL if bad. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint8_t *tj_unhex(const jv *v, size_t *len)
{
	if (!v || v->type != J_STR || v->len % 2)
		return NULL;
	uint8_t *b = malloc(v->len / 2 + 1);
	for (size_t i = 0; b && i < v->len / 2; i++) {
		int hi = hexval(v->str[2 * i]), lo = hexval(v->str[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return NULL;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = v->len / 2;
	return b;
}

/* ------------------------------------------------------------------ */
/* Response writer                                                     */
/* ------------------------------------------------------------------ */

void tj_put(out *o, const char *s, size_t n)
{
	if (!n)
		return; /* s may be NULL for an empty part */
	if (o->len + n > o->cap) {
		size_t cap = (o->cap ? o->cap * 2 : 4096) + n;
		char *np = realloc(o->p, cap);
		if (!np)
			abort();
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

void tj_puts(out *o, const char *s)
{
	tj_put(o, s, strlen(s));
}

void tj_putu(out *o, uint64_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	tj_puts(o, b);
}

void tj_hex(out *o, const uint8_t *b, size_t n)
{
	static const char d[] = "0123456789abcdef";
	tj_put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		char c[2] = {d[b[i] >> 4], d[b[i] & 15]};
		tj_put(o, c, 2);
	}
	tj_put(o, "\"", 1);
}
