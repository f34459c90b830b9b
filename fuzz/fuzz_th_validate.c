/*
 * fuzz/fuzz_th_validate.c - the strict text-header validator
 * (tofu_th_validate, WIRE-4.3) and the serialiser (tofu_th_append, WIRE-4.4).
 *
 * Every input is used twice:
 *
 * 1. As a text-header block for tofu_th_validate.
 *    - A refused block gets a known error class and an offset inside it.
 *    - The validator never accepts a block breaking the grammar (names of
 *      VCHAR except ':', a colon on every line, non-empty value, CR LF after
 *      every line, no empty line) and never refuses one that plainly keeps
 *      it (printable ASCII values, OWS only next to the colon or the CR LF).
 *    - Re-serialising an accepted block: every field the iterator yields is
 *      appended with tofu_th_append, which must accept it, and the result
 *      must be the block itself once the OWS the parser trims is removed
 *      (byte for byte the same block when it had none). The re-serialised
 *      block validates and iterates to the same fields.
 *
 * 2. As (name, value) pairs for tofu_th_append: the input cut at each 0x1F
 *    byte gives name, value, name, value, ... (0x1F is a control byte that
 *    is never valid in either, so no valid pair is unreachable).
 *    - An accepted pair adds exactly name ":" value CR LF, which the
 *      iterator reads back as exactly that one field, and the block stays
 *      valid: no injected header, nothing trimmed away.
 *    - A refused pair leaves the writer untouched; no_space only when it
 *      really does not fit; a plainly valid pair that fits is accepted.
 */
#include "fuzz.h"
#include "ref_textheaders.h"
#include "tofu/codec.h"

static int is_name_byte(uint8_t c)
{
	return c >= 0x21 && c <= 0x7E && c != ':';
}

/* Beyond doubt not allowed in a value, whatever the reading of "control":
 * C0 controls other than HTAB, and DEL. */
static int is_bad_value_byte(uint8_t c)
{
	return (c < 0x20 && c != '\t') || c == 0x7F;
}

/* Beyond doubt allowed inside a value: printable ASCII and SP. */
static int is_plain_value_byte(uint8_t c)
{
	return c >= 0x20 && c <= 0x7E;
}

/* What the grammar rules out for sure, and what it plainly allows; a block
 * in neither class (HTAB or bytes >= 0x80 inside a value) may go either way. */
enum { BLOCK_BAD, BLOCK_PLAIN, BLOCK_EITHER };

static int classify_block(const uint8_t *b, size_t n)
{
	int cls = BLOCK_PLAIN;
	size_t pos = 0;
	while (pos < n) {
		size_t end = pos;
		while (end + 1 < n && !(b[end] == '\r' && b[end + 1] == '\n'))
			end++;
		if (end + 1 >= n)
			return BLOCK_BAD; /* last line without CR LF */
		if (end == pos)
			return BLOCK_BAD; /* empty line */
		size_t colon = pos;
		while (colon < end && b[colon] != ':')
			colon++;
		if (colon == end || colon == pos)
			return BLOCK_BAD; /* no colon, or empty name */
		for (size_t i = pos; i < colon; i++)
			if (!is_name_byte(b[i]))
				return BLOCK_BAD;
		size_t vs = colon + 1, ve = end;
		while (vs < ve && ref_is_ows(b[vs]))
			vs++;
		while (ve > vs && ref_is_ows(b[ve - 1]))
			ve--;
		if (vs == ve)
			return BLOCK_BAD; /* empty value */
		for (size_t i = vs; i < ve; i++) {
			if (is_bad_value_byte(b[i]))
				return BLOCK_BAD;
			if (!is_plain_value_byte(b[i]))
				cls = BLOCK_EITHER;
		}
		pos = end + 2;
	}
	return cls;
}

/* The block with the OWS around each value removed: what re-serialising
 * the fields must give. Returns its length. */
static size_t canonical_block(const uint8_t *b, size_t n, uint8_t *out)
{
	size_t pos = 0, o = 0;
	while (pos < n) {
		size_t end = pos;
		while (!(b[end] == '\r' && b[end + 1] == '\n'))
			end++;
		size_t colon = pos;
		while (b[colon] != ':')
			colon++;
		size_t vs = colon + 1, ve = end;
		while (vs < ve && ref_is_ows(b[vs]))
			vs++;
		while (ve > vs && ref_is_ows(b[ve - 1]))
			ve--;
		memcpy(out + o, b + pos, colon + 1 - pos);
		o += colon + 1 - pos;
		memcpy(out + o, b + vs, ve - vs);
		o += ve - vs;
		out[o++] = '\r';
		out[o++] = '\n';
		pos = end + 2;
	}
	return o;
}

static void check_same_fields(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	struct ref_th_iter ia, ib;
	tofu_th_field fa, fb;
	ref_th_init(&ia, a, an);
	ref_th_init(&ib, b, bn);
	for (;;) {
		int ra = ref_th_next(&ia, &fa), rb = ref_th_next(&ib, &fb);
		FUZZ_CHECK(ra == rb, "field count differs after re-serialising");
		if (!ra)
			break;
		FUZZ_CHECK(fa.name_len == fb.name_len && memcmp(fa.name, fb.name, fa.name_len) == 0,
			   "name differs after re-serialising");
		FUZZ_CHECK(fa.value_len == fb.value_len &&
			       memcmp(fa.value, fb.value, fa.value_len) == 0,
			   "value differs after re-serialising");
	}
}

static void check_validate(const uint8_t *data, size_t size)
{
	size_t off = (size_t)-1;
	int rc = tofu_th_validate(data, size, &off);
	int cls = classify_block(data, size);
	if (rc != 0) {
		FUZZ_CHECK(rc < 0 && rc != TOFU_E_INCOMPLETE && tofu_error_name(rc) != NULL,
			   "validate = %d", rc);
		FUZZ_CHECK(off <= size, "err_offset %zu past the block (%zu)", off, size);
		FUZZ_CHECK(cls != BLOCK_PLAIN, "validate refuses a plainly valid block: %s at %zu",
			   tofu_error_name(rc), off);
		FUZZ_CHECK(tofu_th_validate(data, size, NULL) == rc,
			   "result depends on err_offset");
		return;
	}
	FUZZ_CHECK(cls != BLOCK_BAD, "validate accepts a block that breaks the grammar");
	FUZZ_CHECK(tofu_th_validate(data, size, NULL) == 0, "result depends on err_offset");

	/* Re-serialise every field the codec's iterator yields. */
	uint8_t *out = malloc(size + 1), *canon = malloc(size + 1);
	tofu_th_writer w;
	tofu_th_writer_init(&w, out, size);
	tofu_th_iter it;
	tofu_th_field f;
	tofu_th_iter_init(&it, data, size);
	while (tofu_th_next(&it, &f)) {
		int a = tofu_th_append(&w, f.name, f.name_len, f.value, f.value_len);
		FUZZ_CHECK(a == 0, "append refuses a field of a valid block: %s",
			   tofu_error_name(a));
	}
	size_t cn = canonical_block(data, size, canon);
	FUZZ_CHECK(w.len == cn && memcmp(out, canon, cn) == 0,
		   "re-serialised block differs from the block (%zu vs %zu bytes)", w.len, cn);
	FUZZ_CHECK(tofu_th_validate(out, w.len, NULL) == 0, "re-serialised block is invalid");
	check_same_fields(data, size, out, w.len);
	free(out);
	free(canon);
}

/* Refusal that is beyond doubt; 0 when the pair may be acceptable. */
static int must_refuse(const uint8_t *n, size_t nl, const uint8_t *v, size_t vl)
{
	if (nl == 0 || vl == 0)
		return 1;
	for (size_t i = 0; i < nl; i++)
		if (!is_name_byte(n[i]))
			return 1;
	if (ref_is_ows(v[0]) || ref_is_ows(v[vl - 1]))
		return 1; /* a parser would trim it away */
	for (size_t i = 0; i < vl; i++)
		if (is_bad_value_byte(v[i]))
			return 1;
	return 0;
}

static int plainly_valid(const uint8_t *n, size_t nl, const uint8_t *v, size_t vl)
{
	if (must_refuse(n, nl, v, vl))
		return 0;
	for (size_t i = 0; i < vl; i++)
		if (!is_plain_value_byte(v[i]))
			return 0;
	return 1;
}

static void check_append(const uint8_t *data, size_t size)
{
	/* Small enough that no_space happens on longer inputs. */
	size_t cap = size / 2 + 8;
	uint8_t *buf = malloc(cap), *copy = malloc(cap);
	tofu_th_writer w;
	tofu_th_writer_init(&w, buf, cap);
	const uint8_t *p = data, *end = data + size;
	while (p < end) {
		const uint8_t *n = p, *v;
		while (p < end && *p != 0x1F)
			p++;
		size_t nl = (size_t)(p - n);
		if (p < end)
			p++;
		v = p;
		while (p < end && *p != 0x1F)
			p++;
		size_t vl = (size_t)(p - v);
		if (p < end)
			p++;

		size_t before = w.len;
		memcpy(copy, buf, before);
		int rc = tofu_th_append(&w, n, nl, v, vl);
		size_t need = nl + 1 + vl + 2;
		if (rc != 0) {
			FUZZ_CHECK(w.len == before && memcmp(copy, buf, before) == 0,
				   "refused append (%s) changed the block", tofu_error_name(rc));
			FUZZ_CHECK(rc < 0 && rc != TOFU_E_INCOMPLETE && tofu_error_name(rc) != NULL,
				   "append = %d", rc);
			if (rc == TOFU_E_NO_SPACE)
				FUZZ_CHECK(before + need > cap, "no_space, but %zu + %zu <= %zu",
					   before, need, cap);
			else
				FUZZ_CHECK(!plainly_valid(n, nl, v, vl) || before + need > cap,
					   "append refuses a plainly valid pair: %s",
					   tofu_error_name(rc));
			continue;
		}
		FUZZ_CHECK(!must_refuse(n, nl, v, vl), "append accepts a bad pair (%zu, %zu)", nl,
			   vl);
		FUZZ_CHECK(w.len == before + need && w.len <= cap,
			   "append wrote %zu bytes, want %zu", w.len - before, need);
		const uint8_t *line = buf + before;
		FUZZ_CHECK(memcmp(copy, buf, before) == 0, "append changed earlier lines");
		FUZZ_CHECK(memcmp(line, n, nl) == 0 && line[nl] == ':' &&
			       memcmp(line + nl + 1, v, vl) == 0 && line[nl + 1 + vl] == '\r' &&
			       line[nl + 2 + vl] == '\n',
			   "appended bytes are not name:value CRLF");
		/* reads back as exactly this one field */
		struct ref_th_iter it;
		tofu_th_field f;
		ref_th_init(&it, line, need);
		FUZZ_CHECK(ref_th_next(&it, &f) == 1 && f.name_len == nl && f.value_len == vl &&
			       memcmp(f.value, v, vl) == 0,
			   "appended line reads back differently");
		FUZZ_CHECK(ref_th_next(&it, &f) == 0 && it.pos == need,
			   "appended line injects more");
		size_t off;
		int vr = tofu_th_validate(buf, w.len, &off);
		FUZZ_CHECK(vr == 0, "block invalid after an accepted append: %s at %zu",
			   tofu_error_name(vr), off);
	}
	free(buf);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_validate(data, size);
	check_append(data, size);
	return 0;
}
