/*
 * engine/src/resolver.c - host-name lookups off the reactor thread.
 *
 * getaddrinfo() of a name may wait seconds for DNS; on the reactor thread
 * that would stall every channel of the engine. The reactor hands lookups
 * of TCP host names (anything inet_pton does not read) to one resolver
 * thread per engine, started on the first such lookup, and continues the
 * Hello or Welcome when the answer comes back through engine->mu and the
 * eventfd, like a post (reactor.c: start_lookup, on_looked_up). Numeric
 * hosts and UDS paths never come here.
 *
 * The thread runs one lookup at a time, in order. Engine destroy waits for
 * the lookup in progress (getaddrinfo cannot be interrupted): at most the
 * system resolver's own timeout (resolv.conf: 5 s x attempts by default).
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct tofu__resolver {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct tofu__lookup *head, *tail; /* waiting (mu) */
	int stop;			  /* mu */
	pthread_t thread;
};

int (*tofu__getaddrinfo)(const char *, const char *, const struct addrinfo *,
			 struct addrinfo **) = getaddrinfo;

int tofu__lookup_host(const char *host, const char *port, int passive, struct addrinfo **res)
{
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM; /* any family; the first result (WIRE-5.4.2) */
	if (passive)
		hints.ai_flags = AI_PASSIVE;
	*res = NULL;
	return tofu__getaddrinfo(host, port, &hints, res) == 0 && *res ? 0 : -1;
}

void tofu__lookup_free(struct tofu__lookup *l)
{
	if (l->ai)
		freeaddrinfo(l->ai);
	free(l);
}

static void *resolver_main(void *arg)
{
	tofu_engine *e = arg;
	struct tofu__resolver *rs = e->resolver;
	pthread_mutex_lock(&rs->mu);
	for (;;) {
		while (!rs->head && !rs->stop)
			pthread_cond_wait(&rs->cv, &rs->mu);
		if (rs->stop)
			break;
		struct tofu__lookup *l = rs->head;
		rs->head = l->next;
		if (!rs->head)
			rs->tail = NULL;
		pthread_mutex_unlock(&rs->mu);

		l->next = NULL;
		l->failed = tofu__lookup_host(l->host, l->port, l->passive, &l->ai);

		/* Back to the reactor as a post is: engine->mu, one wake-up. */
		pthread_mutex_lock(&e->mu);
		l->next = e->looked_up;
		e->looked_up = l;
		int wake = tofu__need_wake_locked(e);
		pthread_mutex_unlock(&e->mu);
		if (wake)
			tofu__wake(e);

		pthread_mutex_lock(&rs->mu);
	}
	pthread_mutex_unlock(&rs->mu);
	return NULL;
}

int tofu__resolve_submit(tofu_engine *e, struct tofu__lookup *l)
{
	struct tofu__resolver *rs = e->resolver;
	if (!rs) {
		rs = calloc(1, sizeof(*rs));
		if (!rs)
			return -1;
		pthread_mutex_init(&rs->mu, NULL);
		pthread_cond_init(&rs->cv, NULL);
		e->resolver = rs;
		if (pthread_create(&rs->thread, NULL, resolver_main, e)) {
			e->resolver = NULL;
			pthread_cond_destroy(&rs->cv);
			pthread_mutex_destroy(&rs->mu);
			free(rs);
			return -1;
		}
	}
	l->next = NULL;
	pthread_mutex_lock(&rs->mu);
	if (rs->tail)
		rs->tail->next = l;
	else
		rs->head = l;
	rs->tail = l;
	pthread_cond_signal(&rs->cv);
	pthread_mutex_unlock(&rs->mu);
	return 0;
}

void tofu__resolver_stop(tofu_engine *e)
{
	struct tofu__resolver *rs = e->resolver;
	if (rs) {
		pthread_mutex_lock(&rs->mu);
		rs->stop = 1;
		pthread_cond_signal(&rs->cv);
		pthread_mutex_unlock(&rs->mu);
		pthread_join(rs->thread, NULL);
		while (rs->head) {
			struct tofu__lookup *l = rs->head;
			rs->head = l->next;
			tofu__lookup_free(l);
		}
		pthread_cond_destroy(&rs->cv);
		pthread_mutex_destroy(&rs->mu);
		free(rs);
		e->resolver = NULL;
	}
	/* Answers the reactor did not take before it stopped. */
	while (e->looked_up) {
		struct tofu__lookup *l = e->looked_up;
		e->looked_up = l->next;
		tofu__lookup_free(l);
	}
}
