/*
 * engine/test/testutil.h - helpers shared by the engine tests: receiving
 * with a deadline, opening listeners/clients through the engine, raw test
 * sockets that speak the wire format byte by byte.
 */
#ifndef TOFU_ENGINE_TESTUTIL_H
#define TOFU_ENGINE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tofu/tofu.h"

/* Every wait in the tests is bounded by this (ms). */
#define TU_TIMEOUT_MS 5000

/* Transport under test: "tcp" or "uds" listen values. */
extern const char *const tu_listen_values[];
#define TU_N_TRANSPORTS 3

/* A test run once per transport (TCP, UDS path, abstract UDS), or per the
 * first two; the test reads its transport index from its state. */
#define PER_T(f)                                                                                   \
	cmocka_unit_test_prestate(f, (void *)0), cmocka_unit_test_prestate(f, (void *)1),          \
	    cmocka_unit_test_prestate(f, (void *)2)
#define PER_T2(f) cmocka_unit_test_prestate(f, (void *)0), cmocka_unit_test_prestate(f, (void *)1)

tofu_engine *tu_engine(const tofu_options *o);

/* Next message of g within TU_TIMEOUT_MS; fails the test on timeout. */
tofu_msg *tu_recv(tofu_group *g);
/* Next message within ms; NULL on timeout. */
tofu_msg *tu_recv_within(tofu_group *g, unsigned ms);

/* Posts a WelcomeRequest for `value`, checks the successful
 * WelcomeResponse, copies ~bound_to into bound (cap bytes, NUL-terminated)
 * and returns the listener channel. */
/* message_id of the last WelcomeRequest tu_listen posted. */
extern uint64_t tu_last_welcome_id;
uint16_t tu_listen(tofu_engine *e, tofu_group *g, const char *value, char *bound, size_t cap);

/* Leaves at least n messages in e's pool (n <= pool_max): gets n with
 * TOFU_GET_ALWAYS and puts them back. A test that receives a burst of n
 * frames uses it when its own gets may have emptied the pool, because a
 * reactor finding the pool empty pauses the channel with a pool_empty
 * Signal (WIRE-8.8), a delivery such a test does not expect. */
void tu_pool_fill(tofu_engine *e, unsigned n);

/* Posts a HelloRequest to `value`; returns the client channel. */
uint16_t tu_hello(tofu_engine *e, tofu_group *g, const char *value, uint64_t *id);

/* Posts a message with opcode/id/body on channel cn; asserts success. */
void tu_post(tofu_engine *e, tofu_group *g, uint16_t cn, int opcode, uint64_t id, const char *body);

/* Checks m is the final channel_closed Signal of cn with ~close_reason
 * `reason` (a status number) and message_id id; puts it. */
void tu_check_closed(tofu_engine *e, tofu_msg **m, uint16_t cn, uint64_t id, int reason);

/* Receives until the channel_closed Signal of cn; returns how many other
 * messages came before it (they are put). */
int tu_wait_closed(tofu_engine *e, tofu_group *g, uint16_t cn, int reason);

/* Raw sockets. Connect to a ~bound_to value; -1 on failure. */
int tu_raw_connect(const char *bound);
/* A raw listener on loopback; *port or path in value (cap) as a
 * ~connect_to value. */
int tu_raw_listen(int uds, char *value, size_t cap);
int tu_raw_accept(int lfd);
/* Writes all bytes (blocking). */
void tu_raw_write(int fd, const void *buf, size_t len);
/* Writes one frame. */
void tu_raw_frame(int fd, uint16_t cn, uint8_t proto, uint8_t status, uint64_t id, const char *th,
		  const char *body);
/* Reads one frame within TU_TIMEOUT_MS into h and up to cap bytes of
 * headers+body into buf. Returns 1, or 0 on EOF, -1 on error/timeout. */
int tu_raw_read_frame(int fd, tofu_header *h, uint8_t *buf, size_t cap);
/* Waits for EOF (1), RST (-2) or data (0) within ms; -1 on timeout. */
int tu_raw_wait_eof(int fd, unsigned ms);

/* Raises RLIMIT_NOFILE to at least n; 0 when the hard limit is lower. */
int tu_raise_nofile(unsigned n);

#endif
