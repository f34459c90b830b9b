/*
 * fuzz/ref_textheaders.h - a deliberately plain model of the text-header
 * iterator (WIRE-4.2), used as the differential oracle for the Ragel-built
 * tofu_th_next and checked against the Zig vectors by fuzz/ref_selftest.c.
 *
 * It is written for obviousness, not speed: find the next CR LF from the
 * current position, skip it if it sits right there, cut the line at the
 * first ':', trim SP/HTAB off both ends of the value, leave the name alone.
 * No state machine, no lookup tables: nothing in common with the code under
 * test except the rules.
 */
#ifndef TOFU_FUZZ_REF_TEXTHEADERS_H
#define TOFU_FUZZ_REF_TEXTHEADERS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tofu/codec.h"

struct ref_th_iter {
	const uint8_t *buf;
	size_t len;
	size_t pos;
};

static inline void ref_th_init(struct ref_th_iter *it, const void *buf, size_t len)
{
	it->buf = buf;
	it->len = len;
	it->pos = 0;
}

static inline int ref_is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* 1 and *f filled; 0 at the end or at a line whose name is empty (the
 * position has then moved past that line, as in the Zig iterator). */
static inline int ref_th_next(struct ref_th_iter *it, tofu_th_field *f)
{
	const uint8_t *b = it->buf;
	for (;;) {
		if (it->pos >= it->len)
			return 0;
		/* the line is [start, end); the next one starts at next */
		size_t start = it->pos, end = it->len, next = it->len;
		for (size_t i = start; i + 1 < it->len; i++) {
			if (b[i] == '\r' && b[i + 1] == '\n') {
				end = i;
				next = i + 2;
				break;
			}
		}
		if (end == start) {
			/* start < len, so end == start means a CR LF was found
			 * right at the position: an empty line, skipped */
			it->pos = next;
			continue;
		}
		it->pos = next;
		size_t colon = end;
		for (size_t i = start; i < end; i++) {
			if (b[i] == ':') {
				colon = i;
				break;
			}
		}
		if (colon == start)
			return 0; /* empty name */
		f->name = b + start;
		f->name_len = colon - start;
		if (colon == end) {
			/* no colon: the whole line is the name */
			f->value = b + end;
			f->value_len = 0;
			return 1;
		}
		size_t vs = colon + 1, ve = end;
		while (vs < ve && ref_is_ows(b[vs]))
			vs++;
		while (ve > vs && ref_is_ows(b[ve - 1]))
			ve--;
		f->value = b + vs;
		f->value_len = ve - vs;
		return 1;
	}
}

/* The first field named exactly name that a caller looping "until 0" sees. */
static inline int ref_th_find(const void *buf, size_t len, const void *name, size_t name_len,
			      tofu_th_field *f)
{
	struct ref_th_iter it;
	ref_th_init(&it, buf, len);
	while (ref_th_next(&it, f)) {
		if (f->name_len == name_len && memcmp(f->name, name, name_len) == 0)
			return 1;
	}
	return 0;
}

#endif /* TOFU_FUZZ_REF_TEXTHEADERS_H */
