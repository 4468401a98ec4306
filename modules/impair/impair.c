/* SPDX-License-Identifier: MIT */
/*
 * impair -- a seeded network emulator that can be pushed on any stream: loss
 * (random and Gilbert-Elliott bursts), delay with jitter and a distribution,
 * a rate limit with a queue limit, duplication, reordering and corruption.
 * The kernel under ustreams has no netem; this module is it, in virtual time.
 *
 * Theory
 * ------
 * Each direction (write side "down", read side "up") has its own emulator:
 * a delay line (messages sorted by release time, stable for equal times),
 * one world timer for its head, a serialiser for the rate limit and the
 * state of the Gilbert-Elliott chain.  Which directions are impaired is the
 * "direction" parameter (impair.h).
 *
 * Messages.  Only data messages are impaired: M_DATA (raw frames below
 * ether, fast-path packets, stream data) and M_PROTO carrying DL_UNITDATA,
 * IP_UNITDATA or T_UNITDATA (../common/datamsg.h); the payload is the M_DATA
 * in b_cont.  High-priority messages pass at once and are never held,
 * duplicated or corrupted.  M_FLUSH flushes what is held for the directions
 * it names (counted, IMPAIR_DROP_FLUSH), then gets the canonical module
 * handling.  Other messages (M_IOCTL, control primitives, M_CTL ...) are not
 * impaired and pass at once; like the data messages that left the delay
 * line they wait on this queue when the next one is full, so a normal-
 * priority message never overtakes one that has already left the emulator.
 * It does overtake data still in the delay line: that data is "on the
 * wire", and a link's delay does not hold back its control plane.
 *
 * A data message meets the impairments in this fixed order; the generator
 * (the world's, or a private one when "seed" is set) is drawn only for
 * impairments whose setting is non-zero, so a virtual-time run with a given
 * seed is exactly reproducible:
 *   1. loss: the Gilbert-Elliott chain (when ge_p > 0) moves first, then the
 *      new state's loss probability decides (lost_burst); then "loss"
 *      (lost_random).  Lost messages never reach the serialiser.
 *   2. rate: the message is serialised after those before it (len * 8 /
 *      rate s, len being its M_DATA bytes); if `limit` messages or
 *      `limit_bytes` bytes already wait for or are in serialisation, it is
 *      dropped (rate_dropped).
 *   3. delay: release = end of serialisation + a sample of the delay
 *      distribution (impair.h); in-order messages are never released
 *      before an earlier one (release = max(own, latest so far)), so jitter
 *      alone does not reorder.
 *   4. reorder: with probability "reorder" the message gets reorder_delay
 *      more and is exempt from the ordering rule: later ones overtake it.
 *   5. dup: with probability "dup" a copy (dupmsg, sharing the data)
 *      follows with the same release time.
 *   6. corrupt: each copy independently, with probability "corrupt", has
 *      one random bit of its M_DATA bytes flipped; shared data blocks are
 *      copied first (never written while db_ref > 1).
 * A message whose release time has come and that nothing in the delay line
 * precedes goes on at once; the others wait for the direction's timer
 * (us_world_timer_add, nanosecond resolution -- qtimeout ticks are 1 ms).
 *
 * Flow control.  What leaves the delay line is put next when this queue is
 * empty and the next queue can take it (bcanputnext), else put on this
 * queue (putq), whose service procedure forwards it once back-enabled: a
 * message that survived the emulator is never dropped for flow control, and
 * the queue's water marks push back on the writer above.  The delay line
 * itself is not flow controlled (it is the network); the rate limit's queue
 * limits bound it when a rate is set.
 *
 * Closing (I_POP, stream close) cancels the timers and drops what is held in
 * the delay lines -- messages "on the wire" of an emulated link that goes
 * away -- counted (IMPAIR_DROP_CLOSED).  What already left the emulator and
 * waits on the queues is carried on by I_POP (the framework takes it off
 * before close, core/stream.c); a stream close drops it, counted the same.
 *
 * Parameters, statistics and drop reasons are listed in impair.h.
 *
 * Deviations from netem: the impairments apply where the module is pushed,
 * to messages rather than packets of a qdisc; jitter keeps order (netem
 * reorders with jitter unless a rate is set); "reorder" delays the chosen
 * message (netem sends the chosen ones early); "pareto" is delay plus a
 * Lomax-distributed extra, not netem's table; the Gilbert-Elliott state
 * moves before the loss is decided.
 */
#define G_LOG_DOMAIN "us-impair"

#include "impair.h"

#include "../common/datamsg.h"

#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#define IMPAIR_MAX_DELAY (3600 * US_NSEC_PER_SEC)
#define IMPAIR_DEFAULT_LIMIT 1000
#define IMPAIR_DEFAULT_REORDER_DELAY US_NSEC_PER_MSEC
#define IMPAIR_PARETO_SHAPE 3.0

enum { IMPAIR_DIR_DOWN = 1, IMPAIR_DIR_UP = 2 };
enum { IMPAIR_UNIFORM, IMPAIR_NORMAL, IMPAIR_PARETO };

typedef struct ImpairState ImpairState;

/* A message in a delay line. */
typedef struct {
	gint64 at;  /* world time of release */
	mblk_t *mp; /* the message (owned) */
} ImpairHeld;

/* A message in (or waiting for) the serialiser. */
typedef struct {
	gint64 end;   /* when its last bit is out */
	guint64 size; /* its bytes */
} ImpairTx;

/* One direction's emulator and statistics. */
typedef struct {
	ImpairState *is;      /* the instance, for the timer */
	queue_t *q;           /* the queue messages of this direction leave from */
	guint mask;           /* IMPAIR_DIR_DOWN or IMPAIR_DIR_UP */
	GQueue held;          /* ImpairHeld*, sorted by at, stable */
	guint64 timer;        /* world timer for the head of held, 0 if none */
	gint64 timer_at;      /* its deadline */
	GQueue tx;            /* ImpairTx*, oldest first: not yet serialised */
	guint64 tx_bytes;     /* sum of their sizes */
	gint64 link_free;     /* when the serialiser is next idle */
	gint64 last_at;       /* latest in-order release so far */
	gboolean ge_bad;      /* Gilbert-Elliott chain in the bad state */
	guint64 in;           /* stat: data messages that entered */
	guint64 passed;       /* stat: data messages sent on, copies included */
	guint64 bytes;        /* stat: their M_DATA bytes */
	guint64 lost_random;  /* stat: lost by "loss" */
	guint64 lost_burst;   /* stat: lost by the Gilbert-Elliott model */
	guint64 delayed;      /* stat: messages that waited in the delay line */
	guint64 duplicated;   /* stat: extra copies made */
	guint64 reordered;    /* stat: messages held back to be overtaken */
	guint64 corrupted;    /* stat: copies with a flipped bit */
	guint64 rate_dropped; /* stat: over limit / limit_bytes */
	guint64 queued;       /* stat: in the delay line now */
	guint64 flushed;      /* stat: discarded by M_FLUSH */
	guint64 bypassed;     /* stat: passed without impairment */
} ImpairDir;

/* Per-instance state (q_ptr of both queues). */
struct ImpairState {
	char *direction;       /* parameter: both | down | up */
	guint64 seed;          /* parameter: 0 world generator, else private */
	double loss;           /* parameter: random loss probability */
	double ge_p;           /* parameter: good -> bad probability */
	double ge_r;           /* parameter: bad -> good probability */
	double ge_loss_good;   /* parameter: loss probability in good */
	double ge_loss_bad;    /* parameter: loss probability in bad */
	guint64 delay;         /* parameter: ns */
	guint64 jitter;        /* parameter: ns */
	char *dist;            /* parameter: uniform | normal | pareto */
	guint64 rate;          /* parameter: bits/s, 0 unlimited */
	guint64 limit;         /* parameter: messages at the serialiser, 0 none */
	guint64 limit_bytes;   /* parameter: bytes at the serialiser, 0 none */
	double dup;            /* parameter: duplication probability */
	double reorder;        /* parameter: reordering probability */
	guint64 reorder_delay; /* parameter: ns */
	double corrupt;        /* parameter: corruption probability */
	guint64 errors;        /* stat: allocation failures */
	guint dirmask;         /* IMPAIR_DIR_* from direction */
	int dist_kind;         /* IMPAIR_UNIFORM ... from dist */
	GRand *rand;           /* private generator (seed != 0), or NULL */
	UsWorld *world;        /* the world of the stack */
	ImpairDir down;        /* write side */
	ImpairDir up;          /* read side */
};

static const char *const impair_drop_reasons[] = {
	[IMPAIR_DROP_LOSS] = "lost at random",
	[IMPAIR_DROP_BURST] = "lost in a burst (Gilbert-Elliott)",
	[IMPAIR_DROP_RATE] = "rate limit queue full",
	[IMPAIR_DROP_FLUSH] = "flushed",
	[IMPAIR_DROP_CLOSED] = "held when closed",
	[IMPAIR_DROP_NOMEM] = "no memory",
	NULL,
};

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static ImpairDir *
impair_dir(ImpairState *is, queue_t *q)
{
	return (q->q_flag & QREADR) ? &is->up : &is->down;
}

static GRand *
impair_rand(ImpairState *is)
{
	return is->rand != NULL ? is->rand : us_world_rand(is->world);
}

/* TRUE with probability p; draws only when 0 < p < 1. */
static gboolean
impair_chance(ImpairState *is, double p)
{
	if (p <= 0.0)
		return FALSE;
	if (p >= 1.0)
		return TRUE;
	return g_rand_double(impair_rand(is)) < p;
}

/* A standard normal deviate (Box-Muller; the second one is not kept, so
 * every sample costs two draws and no state carries between messages). */
static double
impair_normal(GRand *r)
{
	double u1 = 1.0 - g_rand_double(r); /* (0, 1]: log is finite */
	double u2 = g_rand_double(r);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * G_PI * u2);
}

/* Pareto II (Lomax) with shape 3 and the given mean: >= 0, heavy tail. */
static double
impair_pareto(GRand *r, double mean)
{
	double u = 1.0 - g_rand_double(r); /* (0, 1] */
	double scale = mean * (IMPAIR_PARETO_SHAPE - 1.0);
	return scale * (pow(u, -1.0 / IMPAIR_PARETO_SHAPE) - 1.0);
}

/* One sample of the delay distribution, ns, in [0, IMPAIR_MAX_DELAY]. */
static gint64
impair_delay_sample(ImpairState *is)
{
	if (is->jitter == 0)
		return (gint64)is->delay;
	GRand *r = impair_rand(is);
	double d = (double)is->delay, j = (double)is->jitter, v;
	switch (is->dist_kind) {
	case IMPAIR_NORMAL: v = d + j * impair_normal(r); break;
	case IMPAIR_PARETO: v = d + impair_pareto(r, j); break;
	default: v = d + j * (2.0 * g_rand_double(r) - 1.0); break;
	}
	return (gint64)CLAMP(v, 0.0, (double)IMPAIR_MAX_DELAY);
}

/* Sends mp on from the direction's queue (consumes mp): now when nothing
 * waits there and the next queue has room, else behind what waits. */
static void
impair_forward(queue_t *q, mblk_t *mp)
{
	if (q->q_first == NULL && bcanputnext(q, mp->b_band))
		putnext(q, mp);
	else
		putq(q, mp);
}

/* A data message leaves the emulator (consumes mp). */
static void
impair_pass(ImpairDir *d, mblk_t *mp)
{
	d->passed++;
	d->bytes += msgdsize(mp);
	impair_forward(d->q, mp);
}

/* ------------------------------------------------------------------ */
/* The delay line                                                     */
/* ------------------------------------------------------------------ */

static void impair_fire(gpointer data);

/* Keeps the direction's one timer on the head of the delay line. */
static void
impair_arm(ImpairDir *d)
{
	UsWorld *w = d->is->world;
	ImpairHeld *h = g_queue_peek_head(&d->held);
	if (d->timer != 0 && (h == NULL || d->timer_at != h->at)) {
		us_world_timer_cancel(w, d->timer);
		d->timer = 0;
	}
	if (h == NULL || d->timer != 0)
		return;
	d->timer_at = h->at;
	d->timer = us_world_timer_add(w, MAX(h->at - us_world_now(w), 0), impair_fire, d);
}

/* Timer: releases every message that is due, in order, then re-arms.  A
 * release may re-enter the module (a loop below answering at once); the
 * head is looked up afresh each time. */
static void
impair_fire(gpointer data)
{
	ImpairDir *d = data;
	d->timer = 0;
	gint64 now = us_world_now(d->is->world);
	ImpairHeld *h;
	while ((h = g_queue_peek_head(&d->held)) != NULL && h->at <= now) {
		g_queue_pop_head(&d->held);
		d->queued--;
		mblk_t *mp = g_steal_pointer(&h->mp);
		g_free(h);
		impair_pass(d, mp);
	}
	impair_arm(d);
}

/* Schedules mp for release at `at` (consumes mp; NULL is ignored).  Due
 * with nothing due before it: sent on at once. */
static void
impair_launch(ImpairDir *d, gint64 at, mblk_t *mp)
{
	if (mp == NULL)
		return;
	ImpairHeld *head = g_queue_peek_head(&d->held);
	if (at <= us_world_now(d->is->world) && (head == NULL || head->at > at)) {
		impair_pass(d, mp);
		return;
	}
	ImpairHeld *h = g_new(ImpairHeld, 1);
	h->at = at;
	h->mp = mp;
	GList *l = d->held.tail;
	while (l != NULL && ((ImpairHeld *)l->data)->at > at)
		l = l->prev;
	if (l != NULL)
		g_queue_insert_after(&d->held, l, h);
	else
		g_queue_push_head(&d->held, h);
	d->delayed++;
	d->queued++;
	impair_arm(d);
}

/* Drops what the delay line holds (of band `band` only when by_band). */
static guint
impair_drain(ImpairDir *d, gboolean by_band, unsigned char band, guint reason)
{
	guint n = 0;
	GList *l = d->held.head;
	while (l != NULL) {
		GList *next = l->next;
		ImpairHeld *h = l->data;
		if (!by_band || h->mp->b_band == band) {
			g_queue_delete_link(&d->held, l);
			d->queued--;
			us_drop(d->q, h->mp, reason);
			g_free(h);
			n++;
		}
		l = next;
	}
	impair_arm(d);
	return n;
}

/* ------------------------------------------------------------------ */
/* Impairments                                                        */
/* ------------------------------------------------------------------ */

/* Step 1: the drop reason when the message is lost (counted), else -1. */
static int
impair_loss(ImpairState *is, ImpairDir *d)
{
	if (is->ge_p > 0.0) {
		if (d->ge_bad ? impair_chance(is, is->ge_r) : impair_chance(is, is->ge_p))
			d->ge_bad = !d->ge_bad;
		if (impair_chance(is, d->ge_bad ? is->ge_loss_bad : is->ge_loss_good)) {
			d->lost_burst++;
			return IMPAIR_DROP_BURST;
		}
	} else {
		d->ge_bad = FALSE;
	}
	if (impair_chance(is, is->loss)) {
		d->lost_random++;
		return IMPAIR_DROP_LOSS;
	}
	return -1;
}

/* Forgets messages whose serialisation has ended. */
static void
impair_tx_prune(ImpairDir *d, gint64 now)
{
	ImpairTx *t;
	while ((t = g_queue_peek_head(&d->tx)) != NULL && t->end <= now) {
		d->tx_bytes -= t->size;
		g_free(g_queue_pop_head(&d->tx));
	}
}

/* Step 2: the time the message's last bit is out, or -1 when the
 * serialiser's queue is over a limit. */
static gint64
impair_serialise(ImpairState *is, ImpairDir *d, gint64 now, size_t len)
{
	if (is->rate == 0)
		return now;
	impair_tx_prune(d, now);
	if ((is->limit != 0 && d->tx.length >= is->limit) ||
	    (is->limit_bytes != 0 && d->tx_bytes + len > is->limit_bytes))
		return -1;
	guint64 bits = (guint64)len * 8;
	gint64 ns = (gint64)((bits * (guint64)US_NSEC_PER_SEC + is->rate - 1) / is->rate);
	d->link_free = MAX(now, d->link_free) + ns;
	ImpairTx *t = g_new(ImpairTx, 1);
	t->end = d->link_free;
	t->size = len;
	g_queue_push_tail(&d->tx, t);
	d->tx_bytes += len;
	return d->link_free;
}

/* Steps 3 and 4: the release time of a message whose last bit left at
 * tx_end. */
static gint64
impair_release_time(ImpairState *is, ImpairDir *d, gint64 tx_end)
{
	gint64 at = tx_end + impair_delay_sample(is);
	if (impair_chance(is, is->reorder)) {
		d->reordered++;
		return at + (gint64)is->reorder_delay;
	}
	at = MAX(at, d->last_at);
	d->last_at = at;
	return at;
}

static gboolean
impair_is_shared(const mblk_t *mp)
{
	for (const mblk_t *b = mp; b != NULL; b = b->b_cont)
		if (DB_REF(b) > 1)
			return TRUE;
	return FALSE;
}

/* Flips bit `bit` of the M_DATA bytes of mp (which must be writable). */
static void
impair_flip_bit(mblk_t *mp, size_t bit)
{
	size_t byte = bit / 8;
	for (mblk_t *b = mp; b != NULL; b = b->b_cont) {
		if (DB_TYPE(b) != M_DATA)
			continue;
		if (byte < MBLKL(b)) {
			b->b_rptr[byte] ^= (unsigned char)(1U << (bit % 8));
			return;
		}
		byte -= MBLKL(b);
	}
}

/* Step 6: with probability "corrupt" flips one random payload bit (and
 * drops a partial-checksum mark, stream.h).  Consumes mp; returns the message to send (a private
 * copy when the data was shared), or NULL when no copy could be made (dropped, counted). */
static mblk_t *
impair_corrupt(ImpairState *is, ImpairDir *d, mblk_t *mp)
{
	size_t len = msgdsize(mp);
	if (len == 0 || !impair_chance(is, is->corrupt))
		return mp;
	size_t bit = (size_t)(g_rand_double(impair_rand(is)) * (double)(len * 8));
	bit = MIN(bit, len * 8 - 1);
	if (impair_is_shared(mp)) {
		mblk_t *copy = copymsg(mp);
		if (copy == NULL) {
			is->errors++;
			us_drop(d->q, mp, IMPAIR_DROP_NOMEM);
			return NULL;
		}
		freemsg(mp);
		mp = copy;
	}
	impair_flip_bit(mp, bit);
	/* A partial checksum would be completed over the damage downstream and
	 * trusted: without the mark the field (a bare pseudo-header sum) fails
	 * wherever it is checked, as a damaged frame's checksum would. */
	for (mblk_t *b = mp; b != NULL; b = b->b_cont)
		DB_CKSUMFLAGS(b) &= (uint16_t)~HCK_PARTIALCKSUM;
	d->corrupted++;
	return mp;
}

/* A data message through the emulator, steps 1 to 6 (consumes mp). */
static void
impair_data(ImpairState *is, ImpairDir *d, mblk_t *mp)
{
	d->in++;
	int lost = impair_loss(is, d);
	if (lost >= 0) {
		us_drop(d->q, mp, (guint)lost);
		return;
	}
	gint64 now = us_world_now(is->world);
	gint64 tx_end = impair_serialise(is, d, now, msgdsize(mp));
	if (tx_end < 0) {
		d->rate_dropped++;
		us_drop(d->q, mp, IMPAIR_DROP_RATE);
		return;
	}
	gint64 at = impair_release_time(is, d, tx_end);
	mblk_t *copy = NULL;
	if (impair_chance(is, is->dup)) {
		copy = dupmsg(mp);
		if (copy != NULL)
			d->duplicated++;
		else
			is->errors++;
	}
	impair_launch(d, at, impair_corrupt(is, d, mp));
	if (copy != NULL)
		impair_launch(d, at, impair_corrupt(is, d, copy));
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static void
impair_dir_init(ImpairState *is, ImpairDir *d, queue_t *q, guint mask)
{
	d->is = is;
	d->q = q;
	d->mask = mask;
	g_queue_init(&d->held);
	g_queue_init(&d->tx);
}

static int
impair_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp;
	(void)oflag;
	(void)crp;
	if (sflag != MODOPEN)
		return ENXIO;
	ImpairState *is = g_new0(ImpairState, 1);
	is->direction = g_strdup(IMPAIR_DIRECTION_BOTH);
	is->dirmask = IMPAIR_DIR_DOWN | IMPAIR_DIR_UP;
	is->dist = g_strdup(IMPAIR_DIST_UNIFORM);
	is->dist_kind = IMPAIR_UNIFORM;
	is->ge_loss_bad = 1.0;
	is->limit = IMPAIR_DEFAULT_LIMIT;
	is->reorder_delay = IMPAIR_DEFAULT_REORDER_DELAY;
	is->world = us_queue_world(rq);
	impair_dir_init(is, &is->down, WR(rq), IMPAIR_DIR_DOWN);
	impair_dir_init(is, &is->up, rq, IMPAIR_DIR_UP);
	rq->q_ptr = WR(rq)->q_ptr = is;
	qprocson(rq);
	return 0;
}

/* Drops everything a direction holds and frees its serialiser state. */
static void
impair_dir_close(ImpairDir *d)
{
	if (d->timer != 0) {
		us_world_timer_cancel(d->is->world, d->timer);
		d->timer = 0;
	}
	impair_drain(d, FALSE, 0, IMPAIR_DROP_CLOSED);
	us_datamsg_flushq(d->q, FALSE, 0, IMPAIR_DROP_CLOSED);
	g_queue_clear_full(&d->tx, g_free);
}

static int
impair_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	ImpairState *is = rq->q_ptr;
	qprocsoff(rq);
	impair_dir_close(&is->down);
	impair_dir_close(&is->up);
	if (is->rand != NULL)
		g_rand_free(is->rand);
	g_free(is->direction);
	g_free(is->dist);
	g_free(is);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Put and service (both sides)                                       */
/* ------------------------------------------------------------------ */

/* M_FLUSH: empties the delay lines (and queued data) of the directions it
 * names, counted, then the canonical handling passes it on. */
static void
impair_flush(ImpairState *is, queue_t *q, mblk_t *mp)
{
	unsigned char flags = MBLKL(mp) > 0 ? mp->b_rptr[0] : 0;
	gboolean by_band = (flags & FLUSHBAND) != 0 && MBLKL(mp) > 1;
	unsigned char band = by_band ? mp->b_rptr[1] : 0;
	if (flags & FLUSHW) {
		ImpairDir *d = &is->down;
		d->flushed += impair_drain(d, by_band, band, IMPAIR_DROP_FLUSH);
		d->flushed += us_datamsg_flushq(d->q, by_band, band, IMPAIR_DROP_FLUSH);
	}
	if (flags & FLUSHR) {
		ImpairDir *d = &is->up;
		d->flushed += impair_drain(d, by_band, band, IMPAIR_DROP_FLUSH);
		d->flushed += us_datamsg_flushq(d->q, by_band, band, IMPAIR_DROP_FLUSH);
	}
	us_default_flush(q, mp);
}

/* Put (both sides): data of an impaired direction through the emulator;
 * high priority at once; everything else passes as it came. */
static int
impair_put(queue_t *q, mblk_t *mp)
{
	ImpairState *is = q->q_ptr;
	ImpairDir *d = impair_dir(is, q);
	unsigned char type = DB_TYPE(mp);
	if (type == M_FLUSH) {
		impair_flush(is, q, mp);
	} else if (type >= QPCTL) {
		putnext(q, mp);
	} else if ((is->dirmask & d->mask) && us_datamsg_is_data(mp)) {
		impair_data(is, d, mp);
	} else {
		d->bypassed++;
		impair_forward(q, mp);
	}
	return 0;
}

/* Service (both sides): forwards what waited for room below or above. */
static int
impair_srv(queue_t *q)
{
	mblk_t *mp;
	while ((mp = getq(q)) != NULL) {
		if (DB_TYPE(mp) < QPCTL && !bcanputnext(q, mp->b_band)) {
			putbq(q, mp);
			return 0;
		}
		putnext(q, mp);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

static double
impair_param_double(queue_t *rq, const UsParamDesc *p)
{
	double v;
	memcpy(&v, (guint8 *)rq->q_ptr + p->offset, sizeof v);
	return v;
}

static gboolean
impair_set_probability(queue_t *rq, const UsParamDesc *p, GError **error)
{
	double v = impair_param_double(rq, p);
	if (v >= 0.0 && v <= 1.0)
		return TRUE;
	g_set_error(error, US_ERROR, US_ERROR_INVALID, "%s: %g is not a probability in [0, 1]",
		    p->name, v);
	return FALSE;
}

static gboolean
impair_set_direction(queue_t *rq, const UsParamDesc *p, GError **error)
{
	ImpairState *is = rq->q_ptr;
	if (g_strcmp0(is->direction, IMPAIR_DIRECTION_BOTH) == 0)
		is->dirmask = IMPAIR_DIR_DOWN | IMPAIR_DIR_UP;
	else if (g_strcmp0(is->direction, IMPAIR_DIRECTION_DOWN) == 0)
		is->dirmask = IMPAIR_DIR_DOWN;
	else if (g_strcmp0(is->direction, IMPAIR_DIRECTION_UP) == 0)
		is->dirmask = IMPAIR_DIR_UP;
	else {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "%s: '%s' is not one of both, down, up", p->name, is->direction);
		return FALSE;
	}
	return TRUE;
}

static gboolean
impair_set_dist(queue_t *rq, const UsParamDesc *p, GError **error)
{
	ImpairState *is = rq->q_ptr;
	if (g_strcmp0(is->dist, IMPAIR_DIST_UNIFORM) == 0)
		is->dist_kind = IMPAIR_UNIFORM;
	else if (g_strcmp0(is->dist, IMPAIR_DIST_NORMAL) == 0)
		is->dist_kind = IMPAIR_NORMAL;
	else if (g_strcmp0(is->dist, IMPAIR_DIST_PARETO) == 0)
		is->dist_kind = IMPAIR_PARETO;
	else {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "%s: '%s' is not one of uniform, normal, pareto", p->name, is->dist);
		return FALSE;
	}
	return TRUE;
}

static gboolean
impair_set_seed(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	(void)error;
	ImpairState *is = rq->q_ptr;
	g_clear_pointer(&is->rand, g_rand_free);
	if (is->seed != 0) {
		guint32 words[2] = { (guint32)is->seed, (guint32)(is->seed >> 32) };
		is->rand = g_rand_new_with_seed_array(words, 2);
	}
	return TRUE;
}

#define IMPAIR_PARAM(nm, desc, ty, fld, lo, hi, hook)                                  \
	{                                                                              \
		.name = (nm), .description = (desc), .type = (ty),                     \
		.offset = G_STRUCT_OFFSET(ImpairState, fld), .min = (lo), .max = (hi), \
		.on_set = (hook)                                                       \
	}
#define IMPAIR_PROB(nm, desc, fld) \
	IMPAIR_PARAM(nm, desc, US_PARAM_DOUBLE, fld, 0, 0, impair_set_probability)

static const UsParamDesc impair_params[] = {
	IMPAIR_PARAM("direction", "impaired direction: both, down (write side) or up (read side)",
		     US_PARAM_STRING, direction, 0, 0, impair_set_direction),
	IMPAIR_PARAM("seed", "0: the world's generator; else a private one with this seed",
		     US_PARAM_UINT, seed, 0, 0, impair_set_seed),
	IMPAIR_PROB("loss", "probability that a message is lost", loss),
	IMPAIR_PROB("ge_p", "Gilbert-Elliott: good to bad probability per message (0: off)", ge_p),
	IMPAIR_PROB("ge_r", "Gilbert-Elliott: bad to good probability per message", ge_r),
	IMPAIR_PROB("ge_loss_good", "Gilbert-Elliott: loss probability in the good state",
		    ge_loss_good),
	IMPAIR_PROB("ge_loss_bad", "Gilbert-Elliott: loss probability in the bad state",
		    ge_loss_bad),
	IMPAIR_PARAM("delay", "delay (ns)", US_PARAM_UINT, delay, 0, IMPAIR_MAX_DELAY, NULL),
	IMPAIR_PARAM("jitter", "spread of the delay (ns), see dist", US_PARAM_UINT, jitter, 0,
		     IMPAIR_MAX_DELAY, NULL),
	IMPAIR_PARAM("dist",
		     "delay distribution: uniform (delay +- jitter), normal (sd jitter), "
		     "pareto (delay + heavy tail of mean jitter)",
		     US_PARAM_STRING, dist, 0, 0, impair_set_dist),
	IMPAIR_PARAM("rate", "serialisation rate (bits/s), 0 unlimited", US_PARAM_UINT, rate, 0, 0,
		     NULL),
	IMPAIR_PARAM("limit", "messages that may wait for the serialiser (0: no limit)",
		     US_PARAM_UINT, limit, 0, G_MAXINT32, NULL),
	IMPAIR_PARAM("limit_bytes", "bytes that may wait for the serialiser (0: no limit)",
		     US_PARAM_UINT, limit_bytes, 0, 0, NULL),
	IMPAIR_PROB("dup", "probability that a message is duplicated", dup),
	IMPAIR_PROB("reorder", "probability that a message is held back and overtaken", reorder),
	IMPAIR_PARAM("reorder_delay", "extra delay of a reordered message (ns)", US_PARAM_UINT,
		     reorder_delay, 0, IMPAIR_MAX_DELAY, NULL),
	IMPAIR_PROB("corrupt", "probability that one payload bit is flipped", corrupt),
	{ 0 },
};

#define IMPAIR_STATS(dir, side)                                                                 \
	US_STAT(#dir "_in", "data messages that entered (" side ")", ImpairState, dir.in),      \
		US_STAT(#dir "_passed", "data messages sent on, copies included (" side ")",    \
			ImpairState, dir.passed),                                               \
		US_STAT(#dir "_bytes", "bytes of those (" side ")", ImpairState, dir.bytes),    \
		US_STAT(#dir "_lost_random", "lost at random (" side ")", ImpairState,          \
			dir.lost_random),                                                       \
		US_STAT(#dir "_lost_burst", "lost by the Gilbert-Elliott model (" side ")",     \
			ImpairState, dir.lost_burst),                                           \
		US_STAT(#dir "_delayed", "held in the delay line (" side ")", ImpairState,      \
			dir.delayed),                                                           \
		US_STAT(#dir "_duplicated", "extra copies (" side ")", ImpairState,             \
			dir.duplicated),                                                        \
		US_STAT(#dir "_reordered", "held back to be overtaken (" side ")", ImpairState, \
			dir.reordered),                                                         \
		US_STAT(#dir "_corrupted", "copies with a flipped bit (" side ")", ImpairState, \
			dir.corrupted),                                                         \
		US_STAT(#dir "_rate_dropped", "over the serialiser's limits (" side ")",        \
			ImpairState, dir.rate_dropped),                                         \
		US_STAT(#dir "_queued", "in the delay line now (" side ")", ImpairState,        \
			dir.queued),                                                            \
		US_STAT(#dir "_flushed", "discarded by M_FLUSH (" side ")", ImpairState,        \
			dir.flushed),                                                           \
		US_STAT(#dir "_bypassed", "passed without impairment (" side ")", ImpairState,  \
			dir.bypassed)

static const UsStatDesc impair_stats[] = {
	IMPAIR_STATS(down, "write side"),
	IMPAIR_STATS(up, "read side"),
	US_STAT("errors", "allocation failures", ImpairState, errors),
	{ 0 },
};

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info impair_minfo = {
	.mi_idnum = 1040,
	.mi_idname = "impair",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit impair_rinit = {
	.qi_putp = impair_put,
	.qi_srvp = impair_srv,
	.qi_qopen = impair_open,
	.qi_qclose = impair_close,
	.qi_minfo = &impair_minfo,
};
static struct qinit impair_winit = {
	.qi_putp = impair_put,
	.qi_srvp = impair_srv,
	.qi_minfo = &impair_minfo,
};
static struct streamtab impair_info = { .st_rdinit = &impair_rinit, .st_wrinit = &impair_winit };

static const char *const impair_accepts[] = {
	"M_DATA, M_PROTO DL_UNITDATA/IP_UNITDATA/T_UNITDATA (impaired)",
	"M_FLUSH (flushes what is held)", "all others (passed at once)", NULL
};

const UsModuleDesc us_impair_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "impair",
	.summary =
		"seeded network emulator: loss, bursts, delay/jitter, rate, dup, reorder, corrupt",
	.kind = US_KIND_MODULE,
	.streamtab = &impair_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = impair_params,
	.stats = impair_stats,
	.drop_reasons = impair_drop_reasons,
	.accepts = impair_accepts,
};
