/*
 * tjson - the little JSON the conformance testees need (spec/testee.md):
 * a reader for objects, arrays, strings without escapes, unsigned numbers
 * and booleans, and an append-only writer. Testee support code, not a
 * general JSON library.
 */
#ifndef TOFU_TJSON_H
#define TOFU_TJSON_H

#include <stddef.h>
#include <stdint.h>

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
	int type;
	uint64_t num;	 /* J_NUM, J_BOOL */
	const char *str; /* J_STR: points into the request */
	size_t len;	 /* J_STR length */
	const char *key; /* member name when inside an object */
	size_t key_len;
	struct jv *kid, *next; /* J_ARR / J_OBJ children */
} jv;

typedef struct jparser {
	const char *p, *end;
	jv *nodes;
	size_t used, cap;
} jparser;

typedef struct out {
	char *p;
	size_t len, cap;
} out;

/* Parses one value; nodes come from j->nodes (j->cap of them). */
jv *tj_parse(jparser *j, int depth);
/* Member `key` of an object, or NULL. */
const jv *tj_member(const jv *obj, const char *key);
/* Numeric or boolean member, 0 when absent. */
uint64_t tj_num(const jv *obj, const char *key);
/* Hex string -> fresh buffer (caller frees), NULL if not valid hex. */
uint8_t *tj_unhex(const jv *v, size_t *len);

void tj_put(out *o, const char *s, size_t n);
void tj_puts(out *o, const char *s);
void tj_putu(out *o, uint64_t v);
void tj_hex(out *o, const uint8_t *b, size_t n);

#endif
