/*
 * Codec benchmark (make bench-codec): header encode/decode ns per header and
 * text-header parse throughput on a ~600-byte, 9-field block, beside a
 * memchr-only scan of the same block measured in the same run.
 *
 * Each workload runs ROUNDS rounds of at least MIN_NS/ROUNDS each,
 * interleaved with the others, and reports its best round.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>

#include "tofu/codec.h"

#define ROUNDS 7
#define MIN_NS 200000000.0

static volatile uint64_t sink;

static double now_ns(void)
{
	struct timespec ts;

	/* CPU time of this thread: time spent descheduled while other work
	 * runs on the two cores is not counted against any workload. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A block like real traffic: the reserved address header plus application
 * headers, 9 fields in all. */
static size_t make_block(char *out, size_t cap)
{
	static const char *const lines[] = {
	    "~connect_to:tcp|service-backend.internal.example.net|7099\r\n",
	    "Content-Type:application/vnd.example.order+json; charset=utf-8\r\n",
	    "Job-ID:7f3e2a10-5c4b-4d1e-9a8f-0b6c2d3e4f50\r\n",
	    "Trace-Parent:00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n",
	    "Reply-To:tcp|client-frontend-07.internal.example.net|41234\r\n",
	    "Authorization:Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0In0\r\n",
	    "X-Request-Deadline:2026-11-22T01:45:19.123456Z\r\n",
	    "User-Agent:tofu-c/1.0 (linux; x86_64) bench-client/2.3.4 build-20261122\r\n",
	    "X-Custom-Routing-Key:orders.eu-west.priority.high.partition-0042.shard-17\r\n",
	};
	size_t k = 0;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t n = strlen(lines[i]);

		if (k + n > cap)
			abort();
		memcpy(out + k, lines[i], n);
		k += n;
	}
	return k;
}

typedef uint64_t (*work_fn)(const void *arg, uint64_t iters);

/* One timed round: doubles the iteration count until the round lasts long
 * enough, returns ns per iteration. */
static double round_ns(work_fn fn, const void *arg)
{
	uint64_t iters = 1;

	for (;;) {
		double t0 = now_ns(), dt;

		sink += fn(arg, iters);
		dt = now_ns() - t0;
		if (dt >= MIN_NS / ROUNDS)
			return dt / (double)iters;
		iters *= 2;
	}
}

struct block {
	const char *buf;
	size_t len;
};

static uint64_t work_encode(const void *arg, uint64_t iters)
{
	tofu_header h = {0x1A2B, 0x02, 0, 1, 32, 100};
	uint8_t out[16];
	uint64_t acc = 0;

	(void)arg;
	for (uint64_t i = 0; i < iters; i++) {
		h.message_id = i;
		tofu_header_encode(&h, out);
		__asm__ volatile("" : : "r"(out) : "memory");
		acc += out[11];
	}
	return acc;
}

/* Decodes from a ring of distinct, pre-encoded headers: writing a byte into
 * one buffer before each decode would measure a store-forwarding stall. */
static uint8_t ring[256][16];

static uint64_t work_decode(const void *arg, uint64_t iters)
{
	tofu_header h;
	uint64_t acc = 0;

	(void)arg;
	for (uint64_t i = 0; i < iters; i++) {
		tofu_header_decode(ring[i & 255], 16, &h);
		acc += h.message_id + (uint64_t)tofu_header_check_received(&h);
	}
	return acc;
}

static uint64_t work_iterate(const void *arg, uint64_t iters)
{
	const struct block *b = arg;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < iters; i++) {
		tofu_th_iter it;
		tofu_th_field f;

		__asm__ volatile("" : : "r"(b->buf) : "memory");
		tofu_th_iter_init(&it, b->buf, b->len);
		while (tofu_th_next(&it, &f))
			acc += f.name_len + f.value_len;
	}
	return acc;
}

static uint64_t work_validate(const void *arg, uint64_t iters)
{
	const struct block *b = arg;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < iters; i++) {
		__asm__ volatile("" : : "r"(b->buf) : "memory");
		acc += (uint64_t)tofu_th_validate(b->buf, b->len, NULL);
	}
	return acc;
}

/* Baseline: the least any line parser must do, find each line end with
 * memchr and nothing else. */
static uint64_t work_memchr(const void *arg, uint64_t iters)
{
	const struct block *b = arg;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < iters; i++) {
		const char *p = b->buf, *end = b->buf + b->len, *q;

		__asm__ volatile("" : : "r"(b->buf) : "memory");
		while ((q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			acc++;
			p = q + 1;
		}
	}
	return acc;
}

int main(void)
{
	static char buf[1024];
	struct block b = {buf, make_block(buf, sizeof(buf))};
	tofu_th_iter it;
	tofu_th_field f;
	int fields = 0;
	double enc, dec, itr, val, mem;

	for (unsigned i = 0; i < 256; i++) {
		tofu_header h = {0x1A2B, 0x02, 0, 1000 + i, 32, 100};

		tofu_header_encode(&h, ring[i]);
	}
	tofu_th_iter_init(&it, buf, b.len);
	while (tofu_th_next(&it, &f))
		fields++;
	if (fields != 9 || tofu_th_validate(buf, b.len, NULL) != 0) {
		fprintf(stderr, "codec_bench: bad block (%d fields)\n", fields);
		return 1;
	}
	/* Rounds interleave the workloads so that a busy machine slows all of
	 * them alike; the best round of each is reported. */
	enc = dec = itr = val = mem = 1e30;
	for (int r = 0; r < ROUNDS; r++) {
		enc = fmin(enc, round_ns(work_encode, NULL));
		dec = fmin(dec, round_ns(work_decode, NULL));
		itr = fmin(itr, round_ns(work_iterate, &b));
		val = fmin(val, round_ns(work_validate, &b));
		mem = fmin(mem, round_ns(work_memchr, &b));
	}

	printf("codec benchmark (best of %d rounds)\n", ROUNDS);
	printf("%-44s %10s %12s\n", "what", "ns/op", "GB/s");
	printf("%-44s %10.2f %12s\n", "header encode (16 B)", enc, "-");
	printf("%-44s %10.2f %12s\n", "header decode + receiver check (16 B)", dec, "-");
	printf("%-44s %10.1f %12.2f\n", "text headers: iterate 9 fields", itr, (double)b.len / itr);
	printf("%-44s %10.1f %12.2f\n", "text headers: strict validate", val, (double)b.len / val);
	printf("%-44s %10.1f %12.2f\n", "baseline: memchr line scan", mem, (double)b.len / mem);
	printf("block: %zu bytes, %d fields\n", b.len, fields);
	printf("iterate / memchr baseline: %.0f%%   (target >= 50%%, >= 1.5 GB/s)\n",
	       100.0 * mem / itr);
	return 0;
}
