/*
 * Text headers (WIRE-4): the Ragel grammar of the lenient iterator (exactly
 * what Zig tofu's TextHeaderIterator accepts), of the strict validator and of
 * the serialiser's checks. `make regen` turns this file into textheaders.c;
 * both are committed, and `make regen-check` fails when they drift.
 *
 * Nothing here allocates or reads outside [buf, buf + len).
 */
#include <string.h>

#include "tofu/codec.h"

/* Ragel's goto-driven output (-G2) falls through between state labels on
 * purpose; the warning is about generated code, not about this grammar. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif

/* ------------------------------------------------------------------ */
/* Lenient iterator (WIRE-4.2)                                         */
/* ------------------------------------------------------------------ */

/*
 * One line, starting after any empty lines. Lines end only at CR LF: a CR
 * that is not followed by LF is data, in the name as in the value. The first
 * ':' of the line splits name from value.
 *
 * The chart only has to tell CR LF from any other CR. Between CRs there is
 * no structure, so the skip action jumps to the next CR with a vector scan
 * and, on the way, records the first ':' it passes (the split point). One
 * pass over each byte, one loop exit per line: that is what keeps the
 * iterator near a plain memchr line scan.
 */
%%{
	machine th_line;
	alphtype unsigned char;

	action eol { eol = p - 1; fbreak; }
	action skip { fexec scan_line(p, pe, &colon); }

	main := (
	  start: (
	    '\r' -> cr |
	    (any - '\r') @skip -> start
	  ),
	  cr: (
	    '\n' @eol -> final |
	    '\r' -> cr |
	    (any - [\r\n]) @skip -> start
	  )
	);
}%%

%% write data noerror nofinal noentry;

/*
 * The skip action's scanner: returns the first CR in [p, pe), or pe, and
 * sets *colon to the first ':' before it unless *colon is already set.
 * x86-64 compares 16 bytes per step (SSE2 is part of its baseline); other
 * hosts use 8-byte SWAR, whose byte test is exact (no carry crosses a
 * byte), so the first flagged byte in memory order is right on either byte
 * order. Loads never go past pe; the tail goes byte by byte.
 */
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__GNUC__)
#define TOFU__INLINE inline __attribute__((always_inline))
#else
#define TOFU__INLINE inline
#endif

/* Index of the first flagged byte of a SWAR mask, in memory order. */
static TOFU__INLINE unsigned first_byte(uint64_t mask)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (unsigned)__builtin_clzll(mask) >> 3;
#else
	return (unsigned)__builtin_ctzll(mask) >> 3;
#endif
}

/* 0x80 in every byte of w equal to the byte in `pattern`, 0 elsewhere. */
static TOFU__INLINE uint64_t bytes_equal(uint64_t w, uint64_t pattern)
{
	const uint64_t ones7 = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t x = w ^ pattern;

	return ~(((x & ones7) + ones7) | x | ones7);
}

static TOFU__INLINE const uint8_t *scan_line(const uint8_t *p, const uint8_t *pe,
					     const uint8_t **colon)
{
#if defined(__SSE2__)
	const __m128i vcr = _mm_set1_epi8('\r'), vcolon = _mm_set1_epi8(':');

	/* 32 bytes per step: half the loop exits of a 16-byte loop. */
	while (pe - p >= 32) {
		__m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
		unsigned mcr = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, vcr)) |
			       (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, vcr)) << 16;

		if (!*colon) {
			unsigned mc = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, vcolon)) |
				      (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, vcolon)) << 16;

			if (mcr)
				mc &= (mcr & -mcr) - 1; /* only colons before the CR */
			if (mc)
				*colon = p + __builtin_ctz(mc);
		}
		if (mcr)
			return p + __builtin_ctz(mcr);
		p += 32;
	}
	while (pe - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned mcr = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vcr));

		if (!*colon) {
			unsigned mc = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vcolon));

			if (mcr)
				mc &= (mcr & -mcr) - 1; /* only colons before the CR */
			if (mc)
				*colon = p + __builtin_ctz(mc);
		}
		if (mcr)
			return p + __builtin_ctz(mcr);
		p += 16;
	}
#endif
	while (pe - p >= 8) {
		uint64_t w, mcr;

		memcpy(&w, p, 8);
		mcr = bytes_equal(w, 0x0d0d0d0d0d0d0d0dULL);
		if (!*colon) {
			uint64_t mc = bytes_equal(w, 0x3a3a3a3a3a3a3a3aULL);

			if (mc && (!mcr || first_byte(mc) < first_byte(mcr)))
				*colon = p + first_byte(mc);
		}
		if (mcr)
			return p + first_byte(mcr);
		p += 8;
	}
	for (; p < pe && *p != '\r'; p++)
		if (*p == ':' && !*colon)
			*colon = p;
	return p;
}

static int is_trim(uint8_t c)
{
	return c == ' ' || c == '\t';
}

void tofu_th_iter_init(tofu_th_iter *it, const void *buf, size_t len)
{
	it->buf = buf;
	it->len = buf ? len : 0;
	it->pos = 0;
}

int tofu_th_next(tofu_th_iter *it, tofu_th_field *f)
{
	const uint8_t *start, *p, *pe;
	const uint8_t *colon = NULL, *eol = NULL, *line_end, *v, *ve;
	int cs;

	if (it->buf == NULL)
		return 0;
	start = it->buf + it->pos;
	pe = it->buf + it->len;
	/* Empty lines (CR LF at the current position) are skipped. */
	while (pe - start >= 2 && start[0] == '\r' && start[1] == '\n')
		start += 2;
	if (start >= pe) {
		it->pos = it->len;
		return 0;
	}
	p = start;
	%% write init;
	%% write exec;

	/* Without CR LF the line runs to the end of the buffer. */
	line_end = eol ? eol : pe;
	it->pos = (size_t)((eol ? eol + 2 : pe) - it->buf);
	if (colon) {
		f->name = start;
		f->name_len = (size_t)(colon - start);
		v = colon + 1;
		ve = line_end;
		while (v < ve && is_trim(*v))
			v++;
		while (ve > v && is_trim(ve[-1]))
			ve--;
		f->value = v;
		f->value_len = (size_t)(ve - v);
	} else {
		f->name = start;
		f->name_len = (size_t)(line_end - start);
		f->value = line_end;
		f->value_len = 0;
	}
	/* An empty name ends the iteration; the position has already moved on,
	 * so another call continues with the next line, as Zig's does. */
	return f->name_len != 0;
}

int tofu_th_find(const void *buf, size_t len, const char *name, size_t name_len,
		 tofu_th_field *f)
{
	tofu_th_iter it;
	tofu_th_field cur;

	tofu_th_iter_init(&it, buf, len);
	while (tofu_th_next(&it, &cur)) {
		if (cur.name_len == name_len && memcmp(cur.name, name, name_len) == 0) {
			*f = cur;
			return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Strict grammar (WIRE-4.1, WIRE-4.3)                                 */
/* ------------------------------------------------------------------ */

%%{
	machine th_common;
	alphtype unsigned char;

	name_char = 0x21..0x39 | 0x3b..0x7e;   # VCHAR except ':'
	value_char = 0x21..0x7e | 0x80..0xff;  # VCHAR and obs-text
	wsp = ' ' | '\t';
}%%

/* Where the validator stands inside a line; decides the error class. */
enum { PH_LINE_START, PH_NAME, PH_OWS, PH_VALUE, PH_CR };

%%{
	machine th_strict;
	include th_common;

	action name { phase = PH_NAME; }
	action colon { phase = PH_OWS; }
	action value { phase = PH_VALUE; }
	action cr { phase = PH_CR; }
	action lf { phase = PH_LINE_START; }
	action refuse { rc = classify(phase, p, &at); fbreak; }

	line = name_char+ >name ':' @colon wsp* value_char >value (value_char | wsp)*
	       '\r' @cr '\n' @lf;
	main := line* $!refuse;
}%%

%% write data noerror noentry;

/* Error class for the byte at p that the grammar refused in `phase`. */
static int classify(int phase, const uint8_t *p, const uint8_t **at)
{
	*at = p;
	switch (phase) {
	case PH_LINE_START:
		if (*p == ':')
			return TOFU_E_EMPTY_NAME;
		if (*p == '\r' || *p == '\n')
			return TOFU_E_EMPTY_LINE;
		return TOFU_E_BAD_NAME_CHAR;
	case PH_NAME:
		return (*p == '\r' || *p == '\n') ? TOFU_E_MISSING_COLON : TOFU_E_BAD_NAME_CHAR;
	case PH_OWS:
		return (*p == '\r' || *p == '\n') ? TOFU_E_EMPTY_VALUE : TOFU_E_BAD_VALUE_CHAR;
	case PH_CR:
		/* a CR not followed by LF: the CR is the offending byte */
		*at = p - 1;
		return TOFU_E_BAD_VALUE_CHAR;
	default:
		return TOFU_E_BAD_VALUE_CHAR;
	}
}

/* Error class when the input ends inside a line. */
static int classify_eof(int phase)
{
	switch (phase) {
	case PH_NAME:
		return TOFU_E_MISSING_COLON;
	case PH_OWS:
		return TOFU_E_EMPTY_VALUE;
	default:
		return TOFU_E_MISSING_CRLF;
	}
}

int tofu_th_validate(const void *buf, size_t len, size_t *err_offset)
{
	const uint8_t *base = buf, *p = buf, *pe, *at = NULL;
	/* eof stays NULL: the end of input inside a line is classified below
	 * rather than by the error action, which would look at the byte at pe. */
	const uint8_t *eof = NULL;
	int cs, rc = 0, phase = PH_LINE_START;

	if (len > TOFU_MAX_TEXT_HEADERS_LEN) {
		if (err_offset)
			*err_offset = TOFU_MAX_TEXT_HEADERS_LEN;
		return TOFU_E_HEADERS_TOO_LONG;
	}
	if (len == 0)
		return 0;
	pe = base + len;
	%% write init;
	%% write exec;

	if (rc == 0 && cs < th_strict_first_final) {
		rc = classify_eof(phase);
		at = pe;
	}
	if (rc != 0 && err_offset)
		*err_offset = (size_t)(at - base);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Serialiser (WIRE-4.4)                                               */
/* ------------------------------------------------------------------ */

/* A canonical value: no leading or trailing SP/HTAB (a parser would trim
 * them), no control byte (CR LF would inject a header). */
%%{
	machine th_name;
	include th_common;
	main := name_char+;
}%%

%% write data noerror noentry;

static int is_name(const uint8_t *p, size_t len)
{
	const uint8_t *pe = p + len;
	int cs;

	%% write init;
	%% write exec;
	return p == pe && cs >= th_name_first_final;
}

%%{
	machine th_value;
	include th_common;
	main := value_char ((value_char | wsp)* value_char)?;
}%%

%% write data noerror noentry;

/* 0 for a canonical value, else the error class. */
static int check_value(const uint8_t *p, size_t len)
{
	const uint8_t *pe = p + len, *q = p;
	int cs;

	if (len == 0)
		return TOFU_E_EMPTY_VALUE;
	%% write init;
	%% write exec;
	if (p == pe && cs >= th_value_first_final)
		return 0;
	/* Refused: a control byte anywhere is an injection risk and wins over
	 * mere surrounding whitespace. */
	for (; q < pe; q++)
		if (*q != ' ' && *q != '\t' && (*q < 0x20 || *q == 0x7f))
			return TOFU_E_BAD_VALUE_CHAR;
	return TOFU_E_VALUE_NOT_CANONICAL;
}

void tofu_th_writer_init(tofu_th_writer *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
}

int tofu_th_append(tofu_th_writer *w, const void *name, size_t name_len, const void *value,
		   size_t value_len)
{
	size_t need;
	int rc;

	if (name_len == 0)
		return TOFU_E_EMPTY_NAME;
	if (!is_name(name, name_len))
		return TOFU_E_BAD_NAME_CHAR;
	if ((rc = check_value(value, value_len)) != 0)
		return rc;
	need = name_len + 1 + value_len + 2;
	if (need > w->cap - w->len)
		return TOFU_E_NO_SPACE;
	if (w->len + need > TOFU_MAX_TEXT_HEADERS_LEN)
		return TOFU_E_HEADERS_TOO_LONG;
	memcpy(w->buf + w->len, name, name_len);
	w->buf[w->len + name_len] = ':';
	memcpy(w->buf + w->len + name_len + 1, value, value_len);
	w->buf[w->len + need - 2] = '\r';
	w->buf[w->len + need - 1] = '\n';
	w->len += need;
	return 0;
}
