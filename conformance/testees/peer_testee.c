/*
 * tofu-peer-testee: our engine behind the conformance suite's peer testee
 * contract (spec/testee.md). One engine, one group, one application:
 *
 *   tofu-peer-testee listen ADDRESS [--echo] [options]
 *   tofu-peer-testee connect ADDRESS [options]
 *
 * options: --frame-timeout-ms N, --pool-max N (also sets pool_initial),
 *          --max-body N, --max-headers N, --max-outbound N
 *
 * Every message the application receives is printed as one JSON line
 * ("recv" event); commands arrive as JSON lines on stdin. A receiver thread
 * owns tofu_wait_receive; the main thread reads commands and posts.
 *
 * TOFU_TESTEE_BREAK=<mode> breaks one behaviour so the suite can prove it
 * notices (make test-conform-teeth):
 *   drop-tenth      every tenth delivery of a peer's frame is not reported
 *   strip-bits      deliveries report internal_a / internal_b as 0
 *   no-echo-id      echo answers carry message_id + 1
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tjson.h"
#include "tofu/tofu.h"

static tofu_engine *eng;
static tofu_group *grp;
static int echo_mode;
static const char *break_mode = "";
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static int holding, stopping;
static uint16_t listener_channel;
static int listen_failed;

static int broken(const char *mode)
{
	return strcmp(break_mode, mode) == 0;
}

/* One line to stdout, under the lock (two threads print). */
static void emit(out *o)
{
	pthread_mutex_lock(&out_mu);
	fwrite(o->p, 1, o->len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
	free(o->p);
	o->p = NULL;
	o->len = o->cap = 0;
}

static void emit_str(const char *s)
{
	out o = {0};
	tj_puts(&o, s);
	emit(&o);
}

static void emit_recv(tofu_msg *m)
{
	const tofu_header *h = tofu_msg_header_const(m);
	size_t tl = 0, bl = 0;
	const uint8_t *th = tofu_msg_headers(m, &tl);
	const uint8_t *body = tofu_msg_body(m, &bl);
	tofu_th_iter it;
	tofu_th_field f;
	int first = 1;
	out o = {0};
	uint8_t proto = h->proto;
	static unsigned delivered;
	if (broken("drop-tenth") && !tofu_proto_origin(proto) && ++delivered % 10 == 0)
		return;
	if (broken("strip-bits"))
		proto &= (uint8_t) ~(TOFU_PROTO_INTERNAL_A_MASK | TOFU_PROTO_INTERNAL_B_MASK);
	tj_puts(&o, "{\"event\":\"recv\",\"opcode\":");
	tj_putu(&o, tofu_proto_opcode(proto));
	tj_puts(&o, ",\"origin\":");
	tj_putu(&o, tofu_proto_origin(proto));
	tj_puts(&o, ",\"status\":");
	tj_putu(&o, h->status);
	tj_puts(&o, ",\"more\":");
	tj_putu(&o, tofu_proto_more(proto));
	tj_puts(&o, ",\"internal_a\":");
	tj_putu(&o, tofu_proto_internal_a(proto));
	tj_puts(&o, ",\"internal_b\":");
	tj_putu(&o, tofu_proto_internal_b(proto));
	tj_puts(&o, ",\"channel\":");
	tj_putu(&o, h->channel_number);
	tj_puts(&o, ",\"message_id\":");
	tj_putu(&o, h->message_id);
	tj_puts(&o, ",\"text_headers\":");
	tj_hex(&o, th, tl);
	tj_puts(&o, ",\"headers\":[");
	tofu_th_iter_init(&it, th, tl);
	while (tofu_th_next(&it, &f)) {
		tj_puts(&o, first ? "[" : ",[");
		first = 0;
		tj_hex(&o, f.name, f.name_len);
		tj_puts(&o, ",");
		tj_hex(&o, f.value, f.value_len);
		tj_puts(&o, "]");
	}
	tj_puts(&o, "],\"body\":");
	tj_hex(&o, body, bl);
	tj_puts(&o, "}");
	emit(&o);
}

static void emit_posted(const tofu_header *ph)
{
	out o = {0};
	tj_puts(&o, "{\"event\":\"posted\",\"channel\":");
	tj_putu(&o, ph->channel_number);
	tj_puts(&o, ",\"message_id\":");
	tj_putu(&o, ph->message_id);
	tj_puts(&o, "}");
	emit(&o);
}

static void emit_post_failed(int st)
{
	out o = {0};
	tj_puts(&o, "{\"event\":\"post_failed\",\"status\":");
	tj_putu(&o, (uint64_t)st);
	tj_puts(&o, "}");
	emit(&o);
}

/* Posts m; reports the outcome; returns the message to the pool on failure. */
static void post(tofu_msg *m)
{
	tofu_header ph;
	int st = tofu_post(grp, &m, &ph);
	if (st) {
		emit_post_failed(st);
		tofu_put(eng, &m);
	} else {
		emit_posted(&ph);
	}
}

/* Echo mode: answer requests with the same message, opcode echoed. */
static int echo(tofu_msg **m)
{
	int op = tofu_msg_opcode(*m);
	if (tofu_msg_origin(*m) || tofu_msg_status(*m))
		return 0;
	if (op != TOFU_OP_HELLO_REQUEST && op != TOFU_OP_REQUEST && op != TOFU_OP_BYE_REQUEST)
		return 0;
	tofu_msg_set_opcode(*m, tofu_opcode_echo(op));
	if (broken("no-echo-id"))
		tofu_msg_set_id(*m, tofu_msg_id(*m) + 1);
	post(*m);
	*m = NULL;
	return 1;
}

static void *receiver(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&hold_mu);
		while (holding && !stopping)
			pthread_cond_wait(&hold_cv, &hold_mu);
		int stop = stopping;
		pthread_mutex_unlock(&hold_mu);
		if (stop)
			return NULL;
		tofu_msg *m = NULL;
		int st = tofu_wait_receive(grp, TOFU_WAIT_SECOND / 10, &m);
		if (st)
			return NULL; /* shutdown_started */
		if (!m)
			continue;
		emit_recv(m);
		if (listen_failed && tofu_msg_channel(m) == listener_channel &&
		    tofu_msg_opcode(m) == TOFU_OP_SIGNAL &&
		    tofu_msg_status(m) == TOFU_STATUS_CHANNEL_CLOSED) {
			fflush(stdout);
			_exit(1); /* the failed listener's final Signal: nothing left */
		}
		if (tofu_msg_opcode(m) == TOFU_OP_WELCOME_RESPONSE &&
		    tofu_msg_channel(m) == listener_channel) {
			if (tofu_msg_status(m)) {
				listen_failed = 1;
				tofu_put(eng, &m);
				continue;
			}
			out o = {0};
			const char *v;
			size_t vl;
			tj_puts(&o, "{\"event\":\"ready\"");
			if (tofu_msg_find_header(m, TOFU_HEADER_BOUND_TO, &v, &vl)) {
				tj_puts(&o, ",\"bound_to\":");
				tj_hex(&o, (const uint8_t *)v, vl);
			}
			tj_puts(&o, "}");
			emit(&o);
		}
		if (echo_mode && echo(&m))
			continue;
		tofu_put(eng, &m);
	}
}

/* Fills a message from a post command. Returns 0 or a status. */
static int fill(tofu_msg *m, const jv *cmd, int opcode)
{
	tofu_header *h = tofu_msg_header(m);
	const jv *list = tj_member(cmd, "headers");
	size_t n = 0;
	uint8_t *b;
	int st = 0;
	h->channel_number = (uint16_t)tj_num(cmd, "channel");
	h->message_id = tj_num(cmd, "message_id");
	h->proto = tofu_proto_make((unsigned)opcode, 0, (unsigned)tj_num(cmd, "more"),
				   (unsigned)tj_num(cmd, "internal_a"),
				   (unsigned)tj_num(cmd, "internal_b"));
	if ((b = tj_unhex(tj_member(cmd, "text_headers"), &n)) != NULL) {
		st = tofu_msg_set_headers(m, b, n);
		free(b);
	}
	for (const jv *p = list ? list->kid : NULL; p && !st; p = p->next) {
		size_t nl = 0, vl = 0;
		uint8_t *name = tj_unhex(p->kid, &nl);
		uint8_t *value = p->kid ? tj_unhex(p->kid->next, &vl) : NULL;
		st = tofu_msg_add_header_n(m, name, nl, value, vl);
		free(name);
		free(value);
	}
	if (!st && (b = tj_unhex(tj_member(cmd, "body"), &n)) != NULL) {
		st = tofu_msg_set_body(m, b, n);
		free(b);
	}
	return st;
}

/* Returns 1 for quit. */
static int command(const jv *cmd)
{
	const jv *c = tj_member(cmd, "cmd");
	tofu_msg *m = NULL;
#define IS(name) (c && c->type == J_STR && c->len == strlen(name) && !memcmp(c->str, name, c->len))
	if (IS("post")) {
		uint64_t repeat = tj_member(cmd, "repeat") ? tj_num(cmd, "repeat") : 1;
		for (uint64_t i = 0; i < repeat; i++) {
			if (tofu_get(eng, TOFU_GET_ALWAYS, &m))
				return emit_post_failed(TOFU_STATUS_ALLOCATION_FAILED), 0;
			int st = fill(m, cmd, (int)tj_num(cmd, "opcode"));
			if (!st && tofu_msg_id(m))
				tofu_msg_set_id(m, tofu_msg_id(m) + i);
			if (st) {
				emit_post_failed(st);
				tofu_put(eng, &m);
			} else {
				post(m);
			}
		}
	} else if (IS("bye") || IS("byesignal")) {
		if (tofu_get(eng, TOFU_GET_ALWAYS, &m))
			return emit_post_failed(TOFU_STATUS_ALLOCATION_FAILED), 0;
		fill(m, cmd, IS("bye") ? TOFU_OP_BYE_REQUEST : TOFU_OP_BYE_SIGNAL);
		post(m);
	} else if (IS("close")) {
		if (tofu_get(eng, TOFU_GET_ALWAYS, &m))
			return emit_post_failed(TOFU_STATUS_ALLOCATION_FAILED), 0;
		tofu_msg_set_abort(m, (uint16_t)tj_num(cmd, "channel"));
		post(m);
	} else if (IS("hold")) {
		pthread_mutex_lock(&hold_mu);
		holding = (int)tj_num(cmd, "on");
		pthread_cond_broadcast(&hold_cv);
		pthread_mutex_unlock(&hold_mu);
		emit_str("{\"event\":\"held\"}");
	} else if (IS("quit")) {
		return 1;
	} else {
		emit_str("{\"event\":\"unsupported\"}");
	}
#undef IS
	return 0;
}

static unsigned long opt_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "peer-testee: %s needs a value\n", argv[*i]);
		exit(2);
	}
	return strtoul(argv[++*i], NULL, 10);
}

int main(int argc, char **argv)
{
	tofu_options opt;
	tofu_msg *m = NULL;
	tofu_header ph;
	pthread_t th;
	char line[1 << 18];
	const char *bm = getenv("TOFU_TESTEE_BREAK");
	if (bm)
		break_mode = bm;
	if (argc < 3 || (strcmp(argv[1], "listen") && strcmp(argv[1], "connect"))) {
		fprintf(stderr, "usage: %s listen|connect ADDRESS [--echo] [options]\n", argv[0]);
		return 2;
	}
	tofu_options_init(&opt);
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--echo"))
			echo_mode = 1;
		else if (!strcmp(argv[i], "--frame-timeout-ms"))
			opt.frame_timeout_ms = (uint32_t)opt_value(argc, argv, &i);
		else if (!strcmp(argv[i], "--pool-max"))
			opt.pool_max = opt.pool_initial = (uint32_t)opt_value(argc, argv, &i);
		else if (!strcmp(argv[i], "--max-body"))
			opt.max_body_len = (uint16_t)opt_value(argc, argv, &i);
		else if (!strcmp(argv[i], "--max-headers"))
			opt.max_text_headers_len = (uint16_t)opt_value(argc, argv, &i);
		else if (!strcmp(argv[i], "--max-outbound"))
			opt.max_outbound_bytes = (size_t)opt_value(argc, argv, &i);
		else
			fprintf(stderr, "peer-testee: ignoring unknown option %s\n", argv[i]);
	}
	if (tofu_engine_create(&opt, &eng) || tofu_group_create(eng, &grp)) {
		fprintf(stderr, "peer-testee: cannot create the engine\n");
		return 1;
	}
	int listen = !strcmp(argv[1], "listen");
	if (tofu_get(eng, TOFU_GET_ALWAYS, &m) ||
	    (listen ? tofu_msg_prepare_welcome(m, argv[2]) : tofu_msg_prepare_hello(m, argv[2]))) {
		fprintf(stderr, "peer-testee: bad address %s\n", argv[2]);
		return 1;
	}
	int st = tofu_post(grp, &m, &ph);
	if (st) {
		emit_post_failed(st);
		return 1;
	}
	if (listen)
		listener_channel = ph.channel_number;
	emit_posted(&ph); /* before any event of the receiver thread */
	if (pthread_create(&th, NULL, receiver, NULL))
		return 1;
	if (!listen)
		emit_str("{\"event\":\"ready\"}");
	while (fgets(line, sizeof(line), stdin)) {
		size_t len = strlen(line);
		jparser j = {0};
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		if (!len)
			continue;
		j.p = line;
		j.end = line + len;
		j.cap = len + 1;
		j.nodes = malloc(j.cap * sizeof(jv));
		jv *cmd = j.nodes ? tj_parse(&j, 0) : NULL;
		int quit = 0;
		if (cmd && cmd->type == J_OBJ)
			quit = command(cmd);
		else
			emit_str("{\"event\":\"bad_command\"}");
		free(j.nodes);
		if (quit)
			break;
	}
	pthread_mutex_lock(&hold_mu);
	stopping = 1;
	pthread_cond_broadcast(&hold_cv);
	pthread_mutex_unlock(&hold_mu);
	tofu_group_destroy(grp);
	pthread_join(th, NULL);
	tofu_engine_destroy(eng);
	emit_str("{\"event\":\"bye\"}");
	return 0;
}
