/* SPDX-License-Identifier: MIT */
/*
 * core-demo -- composes streams from the built-in drivers and modules and
 * shows the STREAMS engine at work, in virtual time, with no privileges.
 *
 *   stream A: head / pass (hiwat 2000) / pass / loop ──┐
 *   stream B: head / pass                   / loop ──┘  (joined with LOOP_SET)
 *
 * A writer floods stream A with 1 KiB messages; a slow reader takes one
 * message from stream B every millisecond.  Flow control carries the reader's
 * pace back through the loop driver to the writer: nothing is lost, nothing
 * is reordered, and queues never grow past their water marks.  At the end it
 * prints what each module saw.
 *
 * Run: build/examples/core-demo [--messages N]
 */
#include <ustreams/ustreams.h>

#include "../drivers/loop/loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	UsWorld *world;
	UsStream *a, *b;
	guint total;      /* messages to send */
	guint sent;       /* accepted by stream A so far */
	guint received;   /* read from stream B */
	guint in_order;   /* received with the expected sequence number */
	gint64 overshoot; /* largest q_count - q_hiwat seen on any queue of A */
} Demo;

static UsStream *
open_stream(UsStack *stack, const char *const *mods)
{
	GError *error = NULL;
	UsStream *st = us_stream_open(stack, "loop", 0, &us_plain_head, NULL, &error);
	if (st == NULL)
		g_error("open loop: %s", error->message);
	for (guint i = 0; mods[i]; i++)
		if (us_stream_push(st, mods[i], &error) != 0)
			g_error("push %s: %s", mods[i], error->message);
	return st;
}

/* Joins A to B with the LOOP_SET ioctl, sent the way I_STR would send it. */
static void
join(Demo *d)
{
	int minor = (int)getminor(us_stream_dev(d->b));
	mblk_t *mp = mkiocb(LOOP_SET);
	((struct iocblk *)mp->b_rptr)->ioc_count = sizeof minor;
	mp->b_cont = us_msg_from(&minor, sizeof minor, 0);
	put(us_stream_head_wq(d->a), mp);
	us_world_run_pending(d->world);
	mblk_t *reply = us_plain_head_get(d->a);
	if (reply == NULL || DB_TYPE(reply) != M_IOCACK)
		g_error("LOOP_SET was not acknowledged");
	freemsg(reply);
}

/* Writer: sends while the stream below the head has room (canputnext). */
static void
writer(gpointer data)
{
	Demo *d = data;
	queue_t *hq = us_stream_head_wq(d->a);
	while (d->sent < d->total && canputnext(hq)) {
		mblk_t *mp = allocb(1024, BPRI_MED);
		memcpy(mp->b_wptr, &d->sent, sizeof d->sent);
		mp->b_wptr += 1024;
		putnext(hq, mp);
		d->sent++;
	}
	if (d->sent < d->total)
		us_world_timer_add(d->world, 100 * US_NSEC_PER_USEC, writer, d);
}

/* Reader: one message per millisecond from stream B. */
static void
reader(gpointer data)
{
	Demo *d = data;
	mblk_t *mp = us_plain_head_get(d->b);
	if (mp != NULL) {
		guint seq;
		memcpy(&seq, mp->b_rptr, sizeof seq);
		d->in_order += seq == d->received;
		d->received++;
		freemsg(mp);
	}
	for (queue_t *q = us_stream_head_wq(d->a)->q_next; q; q = q->q_next)
		d->overshoot = MAX(d->overshoot, (gint64)q->q_count - (gint64)q->q_hiwat);
	if (d->received < d->total)
		us_world_timer_add(d->world, US_NSEC_PER_MSEC, reader, d);
}

static void
print_stream(const char *label, UsStream *st)
{
	printf("  stream %s:", label);
	for (guint i = 0; i <= us_stream_depth(st); i++)
		printf(" %s%s", i ? "→ " : "head → ", us_stream_module_name(st, i));
	printf("\n");
	queue_t *q = us_stream_head_wq(st)->q_next;
	for (guint i = 0; q; i++, q = q->q_next) {
		guint64 down = 0, up = 0, queued = 0;
		if (us_stat_get(q, "msgs_down", &down)) {
			us_stat_get(q, "msgs_up", &up);
			us_stat_get(q, "queued", &queued);
			printf("    %-5s down %-6" G_GUINT64_FORMAT " up %-6" G_GUINT64_FORMAT
			       " waited on a queue %" G_GUINT64_FORMAT "\n",
			       us_stream_module_name(st, i), down, up, queued);
		} else if (us_stat_get(q, "msgs", &down)) {
			printf("    %-5s crossed to the other stream %" G_GUINT64_FORMAT "\n",
			       us_stream_module_name(st, i), down);
		}
	}
}

int
main(int argc, char **argv)
{
	guint total = 5000;
	if (argc == 3 && strcmp(argv[1], "--messages") == 0)
		total = (guint)strtoul(argv[2], NULL, 10);
	Demo d = { .total = total, .overshoot = G_MININT64 };
	d.world = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *stack = us_stack_new(d.world, "demo");
	const char *mods_a[] = { "pass", "pass", NULL }, *mods_b[] = { "pass", NULL };
	d.a = open_stream(stack, mods_a);
	d.b = open_stream(stack, mods_b);
	GError *error = NULL;
	queue_t *first = us_stream_head_wq(d.a)->q_next;
	if (!us_param_set(first, "lowat", "500", &error) ||
	    !us_param_set(first, "hiwat", "2000", &error))
		g_error("%s", error->message);
	join(&d);

	printf("ustreams core demo: %u messages of 1 KiB through a loop-around driver,\n"
	       "read by a consumer that takes one per millisecond (virtual time).\n\n",
	       total);
	writer(&d);
	reader(&d);
	us_world_run_until(d.world, NULL, NULL, (gint64)(total + 10) * US_NSEC_PER_MSEC);

	print_stream("A", d.a);
	print_stream("B", d.b);
	printf("\n  sent %u, received %u, in order %u, lost %u\n", d.sent, d.received, d.in_order,
	       d.sent - d.received);
	printf("  fullest queue on stream A: %+" G_GINT64_FORMAT
	       " bytes against its high water mark (one message may cross it)\n",
	       d.overshoot);
	printf("  virtual time elapsed: %.3f s\n", (double)us_world_now(d.world) / US_NSEC_PER_SEC);
	gboolean ok = d.received == total && d.in_order == total && d.overshoot <= 1024;
	printf("\n%s\n",
	       ok ? "OK: flow control carried the reader's pace back to the writer." : "FAILED");
	us_world_free(d.world);
	return ok ? 0 : 1;
}
