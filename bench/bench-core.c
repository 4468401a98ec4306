/* SPDX-License-Identifier: MIT */
/*
 * bench-core -- engine micro-benchmarks, each printed next to a reference
 * measured in the same run (ARCHITECTURE.md section 12):
 *
 *   allocb+freeb of 64 and 1500 bytes   vs  malloc+free of the same sizes
 *   putnext per hop (put-only pass)     vs  a chain of function-pointer calls
 *   putq/service per hop (pass mode 1)  vs  the same function-pointer chain
 *   messages/s through 8 pass modules   (allocb, 8 hops, freed by null)
 *
 * Per-hop figures are differences between a chain of N modules and an empty
 * stream divided by N, so the cost of entering and leaving the stream is not
 * counted as hops.  Each figure is the best of several runs.
 *
 * Usage: bench-core [--quick]
 */
#include <ustreams/ustreams.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static guint iters = 2000000;

static gint64
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef double (*BenchFn)(gpointer data);

/* Best (lowest) ns/op of five runs. */
static double
best_of(BenchFn fn, gpointer data)
{
	double best = 1e30;
	for (int i = 0; i < 5; i++)
		best = MIN(best, fn(data));
	return best;
}

/* ------------------------------------------------------------------ */
/* allocb vs malloc                                                   */
/* ------------------------------------------------------------------ */

static double
run_allocb(gpointer data)
{
	size_t size = GPOINTER_TO_SIZE(data);
	gint64 t0 = now_ns();
	for (guint i = 0; i < iters; i++) {
		mblk_t *mp = allocb(size, BPRI_MED);
		mp->b_wptr[0] = (unsigned char)i;
		freeb(mp);
	}
	return (double)(now_ns() - t0) / iters;
}

static double
run_malloc(gpointer data)
{
	size_t size = GPOINTER_TO_SIZE(data);
	gint64 t0 = now_ns();
	for (guint i = 0; i < iters; i++) {
		/* The header an allocb carries is part of the reference too. */
		unsigned char *volatile p = malloc(size + sizeof(mblk_t) + sizeof(dblk_t));
		p[0] = (unsigned char)i;
		free(p);
	}
	return (double)(now_ns() - t0) / iters;
}

static void
bench_alloc(size_t size)
{
	double a = best_of(run_allocb, GSIZE_TO_POINTER(size));
	double m = best_of(run_malloc, GSIZE_TO_POINTER(size));
	printf("allocb+freeb %4zu B   %7.2f ns/op   malloc+free %7.2f ns/op   ratio %.2f"
	       "   (target <= 0.50)\n",
	       size, a, m, a / m);
}

/* ------------------------------------------------------------------ */
/* Function-pointer chain (the reference for per-hop costs)           */
/* ------------------------------------------------------------------ */

typedef struct Hop Hop;
struct Hop {
	int (*fn)(Hop *self, void *arg);
	Hop *next;
	guint64 count;
};

/* Each hop calls the next and then does its own bookkeeping, so every call
 * returns to its caller, as a put procedure does after putnext. */
static int
hop_fn(Hop *h, void *arg)
{
	int r = h->next ? h->next->fn(h->next, arg) : 0;
	h->count++;
	return r;
}

/* The same chain written so the compiler turns each hop into a tail jump. */
static int
hop_tail(Hop *h, void *arg)
{
	h->count++;
	return h->next ? h->next->fn(h->next, arg) : 0;
}

static int
hop_end(Hop *h, void *arg)
{
	(void)arg;
	h->count++;
	return 0;
}

typedef struct {
	guint n;
	gboolean tail; /* hop_tail instead of hop_fn */
} ChainArgs;

static double
run_fnchain(gpointer data)
{
	guint n = ((ChainArgs *)data)->n;
	Hop *hops = g_new0(Hop, n + 1);
	for (guint i = 0; i < n; i++) {
		hops[i].fn = ((ChainArgs *)data)->tail ? hop_tail : hop_fn;
		hops[i].next = &hops[i + 1];
	}
	hops[n].fn = hop_end;
	gint64 t0 = now_ns();
	for (guint i = 0; i < iters; i++)
		hops[0].fn(&hops[0], hops);
	double ns = (double)(now_ns() - t0) / iters;
	g_free(hops);
	return ns;
}

/* ------------------------------------------------------------------ */
/* Streams                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
	guint n;          /* pass modules */
	const char *mode; /* pass mode parameter */
	gboolean batch;   /* queue mode: run the world every 64 messages */
	guint msgs;
} StreamArgs;

static UsStream *
build(UsStack *stack, guint n, const char *mode)
{
	UsStream *st = us_stream_open(stack, "null", 0, NULL, NULL, NULL);
	for (guint i = 0; i < n; i++) {
		us_stream_push(st, "pass", NULL);
		us_param_set(us_stream_head_wq(st)->q_next, "mode", mode, NULL);
		us_param_set(us_stream_head_wq(st)->q_next, "hiwat", "1048576", NULL);
	}
	return st;
}

/* One message is reused: a high-priority-free M_DATA that null would free,
 * so each run pays allocb+freeb once per message (subtracted by the N=0 run). */
static double
run_stream(gpointer data)
{
	StreamArgs *a = data;
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *s = us_stack_new(w, "bench");
	UsStream *st = build(s, a->n, a->mode);
	queue_t *hq = us_stream_head_wq(st);
	guint msgs = a->msgs;
	gint64 t0 = now_ns();
	for (guint i = 0; i < msgs; i++) {
		mblk_t *mp = allocb(64, BPRI_MED);
		mp->b_wptr += 64;
		putnext(hq, mp);
		if (a->batch && (i & 63) == 63)
			us_world_run_pending(w);
	}
	us_world_run_pending(w);
	double ns = (double)(now_ns() - t0) / msgs;
	us_world_free(w);
	return ns;
}

static void
bench_hops(const char *label, const char *mode, gboolean batch, guint n)
{
	StreamArgs zero = { 0, mode, batch, iters / 4 }, chain = { n, mode, batch, iters / 4 };
	ChainArgs f0 = { 0, FALSE }, fn = { n, FALSE }, t0 = { 0, TRUE }, tn = { n, TRUE };
	double s0 = best_of(run_stream, &zero), sn = best_of(run_stream, &chain);
	double c0 = best_of(run_fnchain, &f0), cn = best_of(run_fnchain, &fn);
	double tail = (best_of(run_fnchain, &tn) - best_of(run_fnchain, &t0)) / n;
	double hop = (sn - s0) / n, ref = (cn - c0) / n;
	printf("%-24s %7.2f ns/hop   function-pointer call %5.2f ns/hop   ratio %.1f"
	       "   (tail-call chain %.2f ns/hop, ratio %.1f)\n",
	       label, hop, ref, hop / ref, tail, hop / tail);
}

static void
bench_throughput(void)
{
	StreamArgs a = { 8, "0", FALSE, iters / 2 };
	double ns = best_of(run_stream, &a);
	printf("8-module chain           %7.2f ns/msg   %.1f M messages/s"
	       "   (allocb + 8 pass modules + null; target >= 10 M/s)\n",
	       ns, 1000.0 / ns);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--quick") == 0)
		iters = 100000;
	us_init();
	printf("ustreams core benchmarks (%s pooling, best of 5, %u iterations)\n\n",
	       us_msg_pooling() ? "with" : "WITHOUT", iters);
	bench_alloc(64);
	bench_alloc(1500);
	bench_hops("putnext, put-only pass", "2", FALSE, 16);
	printf("                         (target ratio <= 3)\n");
	bench_hops("putq/service, pass", "1", TRUE, 16);
	bench_throughput();
	return 0;
}
