/*
 * fuzz/fuzz.h - shared by every tofu-c fuzz harness.
 *
 * Each harness defines LLVMFuzzerTestOneInput (and, when it has state to
 * build once, LLVMFuzzerInitialize) and nothing else global; the
 * same object links against libFuzzer (clang -fsanitize=fuzzer), against
 * afl_main.c for AFL++ persistent mode, or against afl_main.c's fallback
 * main for replaying files with any compiler.
 *
 * FUZZ_CHECK is the oracle: a broken property is reported and abort()ed, so
 * every fuzzer and the replay build treat it exactly like a crash.
 */
#ifndef TOFU_FUZZ_H
#define TOFU_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, libFuzzer's name: a harness with state to build once (the
 * engine harness) defines it; libFuzzer and afl_main.c call it before the
 * first input. Under AFL++ it runs before the persistent loop, so the edges
 * of that start-up are not counted against the first input (they made
 * AFL++ see most of the engine as variable: stability 36%). */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FUZZ ORACLE FAILED %s:%d: %s: ", __FILE__, __LINE__,      \
				#cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* 1 when [p, p + n) lies inside [base, base + len): views a parser returns
 * must point into the caller's input, never elsewhere. */
static inline int fuzz_inside(const void *p, size_t n, const void *base, size_t len)
{
	const uint8_t *q = p, *b = base;
	if (n == 0)
		return 1; /* an empty view may point anywhere (even NULL) */
	return q >= b && q <= b + len && n <= (size_t)(b + len - q);
}

/* Reads big-endian integers from a fuzz input (used for harness control
 * bytes, never for what is under test). */
static inline uint16_t fuzz_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

#endif /* TOFU_FUZZ_H */
