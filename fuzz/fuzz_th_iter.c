/*
 * fuzz/fuzz_th_iter.c - the text-header iterator (tofu_th_next, Ragel) and
 * tofu_th_find, differentially against fuzz/ref_textheaders.h.
 *
 * Input: one text-header block, any bytes.
 *
 * Oracles:
 *   - call by call, tofu_th_next returns what the reference returns: the
 *     same 0/1, and the same name and value bytes at the same positions of
 *     the block (so the right occurrence is reported, not just equal text);
 *     this includes calls after a 0 at an empty-name line, which continue
 *     with the next line; after the end, 0 again;
 *   - tofu_th_find, for every name the iteration yields and for both
 *     reserved names and a name that is absent, finds what the reference
 *     finds (the first occurrence before the first 0);
 *   - every view lies inside the block.
 * Any disagreement abort()s with both answers printed.
 */
#include "fuzz.h"
#include "ref_textheaders.h"
#include "tofu/codec.h"

static void dump(const char *who, int r, const tofu_th_field *f)
{
	fprintf(stderr, "  %s: %d", who, r);
	if (r == 1) {
		fprintf(stderr, " name[%zu]=\"", f->name_len);
		fwrite(f->name, 1, f->name_len, stderr);
		fprintf(stderr, "\" value[%zu]=\"", f->value_len);
		fwrite(f->value, 1, f->value_len, stderr);
		fputc('"', stderr);
	}
	fputc('\n', stderr);
}

static int same_field(const tofu_th_field *a, const tofu_th_field *b)
{
	if (a->name_len != b->name_len || a->value_len != b->value_len)
		return 0;
	/* Positions, not only contents: both must point at the same line. An
	 * empty value has no position that matters. */
	if (a->name != b->name)
		return 0;
	return a->value_len == 0 || a->value == b->value;
}

static void check_find(const uint8_t *data, size_t size, const void *name, size_t name_len)
{
	tofu_th_field got, want;
	memset(&got, 0, sizeof got);
	int r = tofu_th_find(data, size, name, name_len, &got);
	int w = ref_th_find(data, size, name, name_len, &want);
	if (r != w || (r == 1 && !same_field(&got, &want))) {
		fprintf(stderr, "tofu_th_find(\"%.*s\") disagrees with the reference:\n",
			(int)name_len, (const char *)name);
		dump("codec", r, &got);
		dump("reference", w, &want);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tofu_th_iter it;
	struct ref_th_iter ref;
	tofu_th_iter_init(&it, data, size);
	ref_th_init(&ref, data, size);

	/* Names seen before the first 0, for the find checks (bounded). */
	enum { MAX_NAMES = 4 };
	tofu_th_field names[MAX_NAMES];
	size_t n_names = 0;
	int before_first_end = 1;

	/* Each reference call either yields or consumes a line, so len + 2
	 * calls reach its end; the codec must not need more. */
	for (size_t call = 0;; call++) {
		FUZZ_CHECK(call <= size + 2, "iteration did not end");
		tofu_th_field got, want;
		memset(&got, 0, sizeof got);
		int r = tofu_th_next(&it, &got);
		int w = ref_th_next(&ref, &want);
		if (r != w || (r == 1 && !same_field(&got, &want))) {
			fprintf(stderr, "tofu_th_next call %zu disagrees with the reference:\n",
				call);
			dump("codec", r, &got);
			dump("reference", w, &want);
			abort();
		}
		if (r == 1) {
			FUZZ_CHECK(fuzz_inside(got.name, got.name_len, data, size), "name view");
			FUZZ_CHECK(fuzz_inside(got.value, got.value_len, data, size), "value view");
			FUZZ_CHECK(got.name_len > 0, "empty name yielded");
			if (before_first_end && n_names < MAX_NAMES)
				names[n_names++] = got;
		} else {
			before_first_end = 0;
			if (ref.pos >= size)
				break;
		}
	}
	/* Past the end the iterator stays at the end. */
	tofu_th_field f;
	FUZZ_CHECK(tofu_th_next(&it, &f) == 0, "a field after the end");
	FUZZ_CHECK(tofu_th_next(&it, &f) == 0, "a field after the end (2)");

	for (size_t i = 0; i < n_names; i++)
		check_find(data, size, names[i].name, names[i].name_len);
	check_find(data, size, TOFU_HEADER_CONNECT_TO, sizeof TOFU_HEADER_CONNECT_TO - 1);
	check_find(data, size, TOFU_HEADER_LISTEN_ON, sizeof TOFU_HEADER_LISTEN_ON - 1);
	check_find(data, size, "\x01no-such-name", 13);
	return 0;
}
