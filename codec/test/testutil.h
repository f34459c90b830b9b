/* Helpers shared by the codec tests: guard pages, hex, deterministic
 * randomness and the shared Zig vector file. */
#ifndef TOFU_CODEC_TESTUTIL_H
#define TOFU_CODEC_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* picohttpparser-style guard page: a copy of `len` bytes placed so that its
 * last byte is the last readable byte before a PROT_NONE page. Reading one
 * byte past the input faults (SIGSEGV), even without ASan. */
typedef struct tu_guarded {
	uint8_t *data; /* the copy */
	void *map;
	size_t map_len;
} tu_guarded;

void tu_guard_alloc(tu_guarded *g, const void *src, size_t len);
void tu_guard_free(tu_guarded *g);

/* Hex string (spaces allowed) -> bytes; returns the byte count. */
size_t tu_unhex(const char *hex, uint8_t *out, size_t cap);

/* xorshift64*: reproducible pseudo-random numbers for property loops. */
uint64_t tu_rand(uint64_t *state);

/* Shared Zig vectors (../shared/interop/textheaders-iterator.json, located
 * through $TOFU_VECTORS_DIR). Loads the whole file; returns NULL and prints
 * why when it is absent. */
char *tu_load_vectors(const char *file_name, size_t *len);

/* Walks the iterator vector file: each call finds the next test and decodes
 * its input and expected header list into caller buffers. Pairs are stored
 * as offsets into `pairs_buf`: names[i], values[i] with lengths. Returns 1
 * per test, 0 at the end, -1 on a malformed file. */
typedef struct tu_iter_vector {
	long tc_id;
	uint8_t input[8192];
	size_t input_len;
	size_t npairs;
	uint8_t pairs_buf[8192];
	size_t name_off[256], name_len[256], value_off[256], value_len[256];
} tu_iter_vector;

int tu_next_iter_vector(const char **cursor, tu_iter_vector *v);

#endif
