/*
 * fuzz/oracle_codec.h - the engine harness's model decodes with its own copy
 * of the codec: fuzz.mk compiles the codec a second time without coverage
 * instrumentation and renames every tofu_ symbol of that copy to
 * oracle_tofu_ (objcopy --redefine-syms). Included before any tofu header,
 * these names make the harness's codec calls go to the copy, while the
 * engine under test keeps the instrumented codec.
 *
 * Why: the model's decoding is not code under test, its coverage duplicates
 * the engine's own decoding of the same bytes, and its comparison tracing
 * cost about a twentieth of the time per input. The libFuzzer and AFL++
 * builds define FUZZ_ORACLE_CODEC; the coverage and replay builds use the
 * one codec.
 */
#ifndef TOFU_FUZZ_ORACLE_CODEC_H
#define TOFU_FUZZ_ORACLE_CODEC_H

#ifdef FUZZ_ORACLE_CODEC
#define tofu_decoder_init  oracle_tofu_decoder_init
#define tofu_decoder_next  oracle_tofu_decoder_next
#define tofu_error_status  oracle_tofu_error_status
#define tofu_header_decode oracle_tofu_header_decode
#define tofu_status_name   oracle_tofu_status_name
#endif

#endif
