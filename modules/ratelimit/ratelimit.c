/* SPDX-License-Identifier: MIT */
/*
 * ratelimit -- a token bucket per stream or per flow that shapes (messages
 * wait, and the writer above is stopped by flow control) or polices
 * (excess is dropped).  Registered and pushed as "ratelim" (RATELIMIT_NAME:
 * module names are at most FMNAMESZ, 8, bytes).
 *
 * Theory
 * ------
 * Each direction (write side "down", read side "up") has its own buckets:
 * one for the stream ("per=stream"), or one per IPv4 5-tuple ("per=flow"),
 * each filling at "rate" bits/s up to "burst" bytes.  Which directions are
 * limited is the "direction" parameter (ratelimit.h).
 *
 * Tokens are kept as integers in units of rate * ns (one bit is 10^9), so
 * refilling is rate * elapsed ns with no rounding and a run in virtual time
 * is exactly reproducible.  A message needs its M_DATA bytes in tokens, but
 * at most a full bucket: a message larger than the burst waits for a full
 * bucket and leaves it in debt, instead of never going.  A new flow starts
 * with a full bucket.
 *
 * Messages.  Only data messages are limited: M_DATA and M_PROTO carrying
 * DL_UNITDATA, IP_UNITDATA or T_UNITDATA (../common/datamsg.h).  High-
 * priority messages never wait.  M_FLUSH discards waiting data of the
 * directions it names (counted, RATELIMIT_DROP_FLUSH), then gets the
 * canonical module handling.  Other normal-priority messages are not
 * limited but never overtake a message waiting on this queue.
 *
 * Shaping (mode=shape, the default).  A message goes on at once when
 * nothing waits, its bucket holds enough and the next queue has room;
 * otherwise it waits on this queue (putq) and is counted as shaped.  The
 * service procedure scans the queue in order and sends every message whose
 * bucket allows it; a flow found short is skipped for the rest of the scan
 * so its messages keep their order, while other flows' messages behind it
 * may go (per=stream: the scan stops at the first short message).  When a
 * scan leaves messages waiting for tokens, a world timer (nanosecond
 * resolution) re-enables the service procedure at the earliest time one of
 * them can go.  When the next queue is full the scan stops and back-
 * enabling resumes it.  The waiting messages count against this queue's
 * water marks (hiwat, lowat), so when the bucket is slower than the writer
 * the queue reaches QFULL and canputnext() fails above: TCP, ip, the
 * stream head wait instead of losing data.  Writers that ignore flow
 * control meet "limit": beyond it messages are dropped
 * (RATELIMIT_DROP_OVERFLOW).
 *
 * Policing (mode=police).  A message that finds too few tokens is dropped
 * (RATELIMIT_DROP_POLICE); one that conforms takes its tokens and goes on,
 * waiting on this queue only for flow control below.
 *
 * Flows.  The key is (source, destination, protocol, source port,
 * destination port) of an IPv4 packet, found wherever the message carries
 * one: an Ethernet II frame (with one 802.1Q tag or none) in M_DATA, a
 * packet at the start of M_DATA (the fast path up from ether), the payload
 * of DL_UNITDATA_REQ/IND and of IP_UNITDATA_IND, or the fields of
 * IP_UNITDATA_REQ and the transport header after it.  Ports are those of
 * TCP, UDP and SCTP, zero for other protocols and for fragments (so all the
 * fragments of a datagram share a flow).  A packet must have a plausible
 * header (version 4, header length >= 20, total length within the message)
 * to count as IPv4; messages without one share the "other" bucket (key
 * zero).  Flows live in a hash table per direction with an LRU list; to
 * make room for a new flow beyond max_flows the least recently used flow
 * with nothing waiting is forgotten (a flow with messages waiting is never
 * forgotten, so the table may exceed max_flows by the number of waiting
 * messages; this keeps per-flow order and bucket state exact).
 *
 * Scheduling: both queues are noenable()d, so putq of a waiting message
 * does not start a scan each time; the module enables its service
 * procedure itself -- from the timer, when a message arrives whose bucket
 * already allows it, and through back-enabling from below (which ignores
 * noenable), so a scan runs once per event rather than once per message.
 *
 * Closing drops what still waits, counted (RATELIMIT_DROP_CLOSED).  I_POP
 * finds nothing to drop: the framework takes the waiting messages off the
 * queues before close and carries them on (core/stream.c), so popping a
 * shaper loses nothing; closing the whole stream does drop them.
 *
 * Parameters, statistics and drop reasons are listed in ratelimit.h.
 * Changing rate, burst, per, mode or direction re-runs the scans, so the
 * new values apply to what waits as well as to what comes.
 *
 * Deviations: none from STREAMS.  Compared with tc's tbf/police: no peak
 * rate, no overhead per packet (the bytes are what the message holds where
 * the module sits: Ethernet frames below ether, IP packets above it), and
 * per-flow buckets each get the full rate (a per-flow limit, as an
 * nftables meter), not a share of one.
 */
#define G_LOG_DOMAIN "us-ratelimit"

#include "ratelimit.h"

#include "../common/datamsg.h"

#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#define RL_CREDIT_PER_BYTE (8 * US_NSEC_PER_SEC)  /* tokens: rate (bits/s) * ns */
#define RL_MAX_BYTES (G_GINT64_CONSTANT(1) << 28) /* burst and counted message size */
#define RL_DEFAULT_BURST 16384
#define RL_DEFAULT_MAX_FLOWS 1024
#define RL_DEFAULT_LIMIT (256 * 1024)
#define RL_PEEK 96 /* tagged Ethernet header + longest IPv4 header + ports */

enum { RL_DIR_DOWN = 1, RL_DIR_UP = 2 };

typedef struct RlState RlState;

/* A flow's identity; padding zeroed so keys compare with memcmp. */
typedef struct {
	guint32 src, dst;     /* network order */
	guint16 sport, dport; /* network order; 0 without ports */
	guint8 proto;
	guint8 pad[3];
} RlKey;

/* A token bucket: the stream's, or one flow's. */
typedef struct {
	RlKey key;        /* the flow (zero for the stream's bucket) */
	gint64 credit;    /* tokens, rate * ns units; negative: in debt */
	gint64 last;      /* world time of the last refill */
	guint64 short_in; /* the scan that found it short (skip the rest) */
	guint64 waiting;  /* its messages on the queue (per=flow shaping) */
	GList lru;        /* link in the direction's LRU list, data = this */
} RlFlow;

/* One direction's buckets, scan state and statistics. */
typedef struct {
	RlState *rs;       /* the instance, for the timer */
	queue_t *q;        /* this direction's queue */
	guint mask;        /* RL_DIR_DOWN or RL_DIR_UP */
	GHashTable *flows; /* RlKey* -> RlFlow* (per=flow) */
	GQueue lru;        /* RlFlow*, most recently used first */
	RlFlow stream;     /* the bucket of per=stream */
	guint64 timer;     /* world timer re-enabling the scan, 0 if none */
	gint64 timer_at;   /* its deadline */
	guint64 scans;     /* scans started; numbers them for short_in */
	guint64 removals;  /* messages removed other than by the scan */
	guint64 passed;    /* stat: data messages sent on */
	guint64 bytes;     /* stat: their M_DATA bytes */
	guint64 shaped;    /* stat: data messages that waited on the queue */
	guint64 dropped;   /* stat: policed */
	guint64 overflow;  /* stat: over limit while shaping */
	guint64 queued;    /* stat: messages waiting now */
	guint64 tokens;    /* stat: bytes in the last bucket used */
	guint64 nflows;    /* stat: flows known */
	guint64 evicted;   /* stat: flows forgotten to make room */
	guint64 other;     /* stat: data messages without an IPv4 5-tuple */
} RlDir;

/* Per-instance state (q_ptr of both queues). */
struct RlState {
	guint64 rate;      /* parameter: bits/s, 0 no limit */
	guint64 burst;     /* parameter: bucket size, bytes */
	char *per;         /* parameter: stream | flow */
	guint64 max_flows; /* parameter: flows kept per direction */
	char *direction;   /* parameter: both | down | up */
	char *mode;        /* parameter: shape | police */
	guint64 limit;     /* parameter: bytes waiting before overflow drops */
	guint64 hiwat;     /* parameter: high water mark of both queues */
	guint64 lowat;     /* parameter: low water mark of both queues */
	gboolean per_flow; /* from per */
	gboolean police;   /* from mode */
	guint dirmask;     /* from direction */
	UsWorld *world;    /* the world of the stack */
	RlDir down;        /* write side */
	RlDir up;          /* read side */
};

static const char *const rl_drop_reasons[] = {
	[RATELIMIT_DROP_POLICE] = "over the rate (police)",
	[RATELIMIT_DROP_OVERFLOW] = "shaping queue over its limit",
	[RATELIMIT_DROP_FLUSH] = "flushed",
	[RATELIMIT_DROP_CLOSED] = "waiting when closed",
	NULL,
};

/* ------------------------------------------------------------------ */
/* Flow keys                                                          */
/* ------------------------------------------------------------------ */

static gboolean
rl_has_ports(guint8 proto)
{
	return proto == 6 || proto == 17 || proto == 132; /* TCP, UDP, SCTP */
}

/* An IPv4 header at p (n bytes copied of avail in the message). */
static gboolean
rl_key_ipv4(const guint8 *p, size_t n, size_t avail, RlKey *k)
{
	if (n < 20 || (p[0] >> 4) != 4)
		return FALSE;
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;
	size_t total = (size_t)p[2] << 8 | p[3];
	if (ihl < 20 || total < ihl || total > avail)
		return FALSE;
	memset(k, 0, sizeof *k);
	k->proto = p[9];
	memcpy(&k->src, p + 12, 4);
	memcpy(&k->dst, p + 16, 4);
	gboolean frag = (p[6] & 0x20) != 0 || (((p[6] & 0x1f) << 8) | p[7]) != 0;
	if (!frag && rl_has_ports(k->proto) && n >= ihl + 4) {
		memcpy(&k->sport, p + ihl, 2);
		memcpy(&k->dport, p + ihl + 2, 2);
	}
	return TRUE;
}

/* An Ethernet II frame carrying IPv4 (one 802.1Q tag allowed). */
static gboolean
rl_key_frame(const guint8 *p, size_t n, size_t avail, RlKey *k)
{
	if (n < 14)
		return FALSE;
	size_t off = 12;
	guint type = (guint)p[12] << 8 | p[13];
	if (type == 0x8100 && n >= 18) {
		off = 16;
		type = (guint)p[16] << 8 | p[17];
	}
	off += 2;
	return type == 0x0800 && rl_key_ipv4(p + off, n - off, avail - off, k);
}

/* The first RL_PEEK bytes of data's blocks, and the M_DATA bytes in all. */
static size_t
rl_peek(const mblk_t *data, guint8 buf[RL_PEEK], size_t *avail)
{
	*avail = msgdsize(data);
	return us_msgcopyout(data, 0, buf, MIN(*avail, (size_t)RL_PEEK));
}

/* IP_UNITDATA_REQ: the addresses are in the primitive, the ports at the
 * start of b_cont (or a whole header with IP_F_HDRINCL). */
static gboolean
rl_key_ip_req(const mblk_t *mp, RlKey *k)
{
	struct ip_unitdata_req ur;
	guint8 buf[RL_PEEK];
	size_t avail;
	if (MBLKL(mp) < sizeof ur)
		return FALSE;
	memcpy(&ur, mp->b_rptr, sizeof ur);
	size_t n = rl_peek(mp->b_cont, buf, &avail);
	if (ur.flags & IP_F_HDRINCL)
		return rl_key_ipv4(buf, n, avail, k);
	memset(k, 0, sizeof *k);
	k->src = ur.src;
	k->dst = ur.dst;
	k->proto = ur.proto;
	if (rl_has_ports(k->proto) && n >= 4) {
		memcpy(&k->sport, buf, 2);
		memcpy(&k->dport, buf + 2, 2);
	}
	return TRUE;
}

/* The flow of a data message; FALSE when it carries no IPv4 packet found
 * as described in the theory (mp is only looked at). */
static gboolean
rl_flow_key(const mblk_t *mp, RlKey *k)
{
	guint8 buf[RL_PEEK];
	size_t avail, n;
	if (DB_TYPE(mp) == M_DATA) {
		n = rl_peek(mp, buf, &avail);
		return rl_key_frame(buf, n, avail, k) || rl_key_ipv4(buf, n, avail, k);
	}
	uint32_t prim = us_datamsg_prim(mp);
	if (mp->b_cont == NULL)
		return FALSE;
	if (prim == IP_UNITDATA_REQ)
		return rl_key_ip_req(mp, k);
	if (prim != DL_UNITDATA_REQ && prim != DL_UNITDATA_IND && prim != IP_UNITDATA_IND)
		return FALSE;
	n = rl_peek(mp->b_cont, buf, &avail);
	return rl_key_ipv4(buf, n, avail, k);
}

static guint
rl_key_hash(gconstpointer p)
{
	const RlKey *k = p;
	guint32 h = k->src * 0x9e3779b1u;
	h = (h ^ k->dst) * 0x85ebca6bu;
	h = (h ^ ((guint32)k->sport << 16 | k->dport)) * 0xc2b2ae35u;
	h ^= k->proto;
	return h ^ (h >> 16);
}

static gboolean
rl_key_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(RlKey)) == 0;
}

/* ------------------------------------------------------------------ */
/* Buckets                                                            */
/* ------------------------------------------------------------------ */

static RlDir *
rl_dir(RlState *rs, queue_t *q)
{
	return (q->q_flag & QREADR) ? &rs->up : &rs->down;
}

static gint64
rl_cap(const RlState *rs)
{
	return (gint64)rs->burst * RL_CREDIT_PER_BYTE;
}

static gint64
rl_cost(size_t len)
{
	return MIN((gint64)len, RL_MAX_BYTES) * RL_CREDIT_PER_BYTE;
}

/* Tokens a message of len bytes needs before it may go. */
static gint64
rl_need(const RlState *rs, size_t len)
{
	return MIN(rl_cost(len), rl_cap(rs));
}

/* Adds the tokens earned since the last refill, up to the cap. */
static void
rl_refill(const RlState *rs, RlFlow *f, gint64 now)
{
	gint64 cap = rl_cap(rs);
	if (now > f->last && f->credit < cap && rs->rate > 0) {
		guint64 room = (guint64)(cap - f->credit);
		guint64 dt = (guint64)(now - f->last);
		if (dt > room / rs->rate)
			f->credit = cap;
		else
			f->credit += (gint64)(dt * rs->rate);
	}
	f->credit = MIN(f->credit, cap);
	f->last = MAX(f->last, now);
}

/* Nanoseconds until f holds need tokens. */
static gint64
rl_wait(const RlState *rs, const RlFlow *f, gint64 need)
{
	guint64 missing = (guint64)(need - f->credit);
	return (gint64)((missing + rs->rate - 1) / rs->rate);
}

/* TRUE while shaping per flow, when flows with waiting messages are kept. */
static gboolean
rl_tracks_waiting(const RlState *rs)
{
	return rs->per_flow && !rs->police && rs->rate != 0;
}

/* Forgets the least recently used flow with nothing waiting, if any. */
static gboolean
rl_evict(RlDir *d)
{
	for (GList *l = d->lru.tail; l != NULL; l = l->prev) {
		RlFlow *f = l->data;
		if (f->waiting != 0)
			continue;
		g_queue_unlink(&d->lru, l);
		g_hash_table_remove(d->flows, &f->key);
		g_free(f);
		d->evicted++;
		return TRUE;
	}
	return FALSE;
}

/* The flow of key, made most recently used; created (full bucket) when
 * unknown, after making room. */
static RlFlow *
rl_flow_get(RlState *rs, RlDir *d, const RlKey *key, gint64 now)
{
	RlFlow *f = g_hash_table_lookup(d->flows, key);
	if (f != NULL) {
		g_queue_unlink(&d->lru, &f->lru);
		g_queue_push_head_link(&d->lru, &f->lru);
		return f;
	}
	while (g_hash_table_size(d->flows) >= MAX(rs->max_flows, 1) && rl_evict(d))
		;
	f = g_new0(RlFlow, 1);
	f->key = *key;
	f->credit = rl_cap(rs);
	f->last = now;
	f->lru.data = f;
	g_hash_table_insert(d->flows, &f->key, f);
	g_queue_push_head_link(&d->lru, &f->lru);
	d->nflows = g_hash_table_size(d->flows);
	return f;
}

/* The bucket mp is charged to, refilled to now.  `arriving`: count a
 * message without a flow key in "other" (not again when rescanned). */
static RlFlow *
rl_bucket(RlState *rs, RlDir *d, const mblk_t *mp, gint64 now, gboolean arriving)
{
	RlFlow *f = &d->stream;
	if (rs->per_flow) {
		RlKey key;
		if (!rl_flow_key(mp, &key)) {
			memset(&key, 0, sizeof key);
			d->other += arriving ? 1 : 0;
		}
		f = rl_flow_get(rs, d, &key, now);
	}
	rl_refill(rs, f, now);
	d->tokens = f->credit > 0 ? (guint64)(f->credit / RL_CREDIT_PER_BYTE) : 0;
	return f;
}

/* The flow mp was counted against while waiting, or NULL (no change). */
static RlFlow *
rl_waiting_flow(RlDir *d, const mblk_t *mp)
{
	RlKey key;
	if (!rl_flow_key(mp, &key))
		memset(&key, 0, sizeof key);
	return g_hash_table_lookup(d->flows, &key);
}

/* Takes the tokens of a conforming message and counts it. */
static void
rl_take(RlDir *d, RlFlow *f, const mblk_t *mp)
{
	size_t len = msgdsize(mp);
	f->credit -= rl_cost(len);
	d->tokens = f->credit > 0 ? (guint64)(f->credit / RL_CREDIT_PER_BYTE) : 0;
	d->passed++;
	d->bytes += len;
}

/* ------------------------------------------------------------------ */
/* Timer                                                              */
/* ------------------------------------------------------------------ */

static void
rl_fire(gpointer data)
{
	RlDir *d = data;
	d->timer = 0;
	qenable(d->q);
}

/* Makes sure the scan runs again by `at` (keeps an earlier timer). */
static void
rl_arm(RlDir *d, gint64 at)
{
	UsWorld *w = d->rs->world;
	if (d->timer != 0) {
		if (d->timer_at <= at)
			return;
		us_world_timer_cancel(w, d->timer);
	}
	d->timer_at = at;
	d->timer = us_world_timer_add(w, MAX(at - us_world_now(w), 0), rl_fire, d);
}

static void
rl_disarm(RlDir *d)
{
	if (d->timer != 0)
		us_world_timer_cancel(d->rs->world, d->timer);
	d->timer = 0;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static void
rl_dir_init(RlState *rs, RlDir *d, queue_t *q, guint mask)
{
	d->rs = rs;
	d->q = q;
	d->mask = mask;
	d->flows = g_hash_table_new(rl_key_hash, rl_key_equal);
	g_queue_init(&d->lru);
	d->stream.credit = rl_cap(rs);
	d->stream.last = us_world_now(rs->world);
	d->tokens = rs->burst;
}

static int
rl_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp;
	(void)oflag;
	(void)crp;
	if (sflag != MODOPEN)
		return ENXIO;
	RlState *rs = g_new0(RlState, 1);
	rs->burst = RL_DEFAULT_BURST;
	rs->per = g_strdup(RATELIMIT_PER_STREAM);
	rs->max_flows = RL_DEFAULT_MAX_FLOWS;
	rs->direction = g_strdup(RATELIMIT_DIRECTION_BOTH);
	rs->dirmask = RL_DIR_DOWN | RL_DIR_UP;
	rs->mode = g_strdup(RATELIMIT_MODE_SHAPE);
	rs->limit = RL_DEFAULT_LIMIT;
	rs->hiwat = rq->q_hiwat;
	rs->lowat = rq->q_lowat;
	rs->world = us_queue_world(rq);
	rl_dir_init(rs, &rs->down, WR(rq), RL_DIR_DOWN);
	rl_dir_init(rs, &rs->up, rq, RL_DIR_UP);
	rq->q_ptr = WR(rq)->q_ptr = rs;
	/* the module schedules its service procedures itself (see theory) */
	noenable(rq);
	noenable(WR(rq));
	qprocson(rq);
	return 0;
}

static void
rl_dir_close(RlDir *d)
{
	rl_disarm(d);
	us_datamsg_flushq(d->q, FALSE, 0, RATELIMIT_DROP_CLOSED);
	g_hash_table_destroy(d->flows);
	GList *l;
	while ((l = g_queue_peek_head_link(&d->lru)) != NULL) {
		g_queue_unlink(&d->lru, l);
		g_free(l->data);
	}
}

static int
rl_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	RlState *rs = rq->q_ptr;
	qprocsoff(rq);
	rl_dir_close(&rs->down);
	rl_dir_close(&rs->up);
	g_free(rs->per);
	g_free(rs->direction);
	g_free(rs->mode);
	g_free(rs);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Put and service (both sides)                                       */
/* ------------------------------------------------------------------ */

/* TRUE when mp is subject to the bucket in d's direction. */
static gboolean
rl_limited(const RlState *rs, const RlDir *d, const mblk_t *mp)
{
	return rs->rate != 0 && (rs->dirmask & d->mask) && us_datamsg_is_data(mp);
}

/* Sends mp on now when nothing waits and the next queue has room, else
 * behind what waits (consumes mp). */
static void
rl_forward(queue_t *q, mblk_t *mp)
{
	if (q->q_first == NULL && bcanputnext(q, mp->b_band))
		putnext(q, mp);
	else
		putq(q, mp);
}

/* Police mode: conforming messages take their tokens, the rest is
 * dropped (consumes mp). */
static void
rl_police(RlState *rs, RlDir *d, queue_t *q, mblk_t *mp)
{
	RlFlow *f = rl_bucket(rs, d, mp, us_world_now(rs->world), TRUE);
	if (f->credit < rl_need(rs, msgdsize(mp))) {
		d->dropped++;
		us_drop(q, mp, RATELIMIT_DROP_POLICE);
		return;
	}
	rl_take(d, f, mp);
	rl_forward(q, mp);
}

/* Shape mode: at once when possible, else on the queue until the scan
 * finds tokens and room (consumes mp). */
static void
rl_shape(RlState *rs, RlDir *d, queue_t *q, mblk_t *mp)
{
	gint64 now = us_world_now(rs->world);
	size_t len = msgdsize(mp);
	RlFlow *f = rl_bucket(rs, d, mp, now, TRUE);
	gint64 need = rl_need(rs, len);
	if (q->q_first == NULL && f->credit >= need && bcanputnext(q, mp->b_band)) {
		rl_take(d, f, mp);
		putnext(q, mp);
		return;
	}
	if (rs->limit != 0 && q->q_count + len > rs->limit) {
		d->overflow++;
		us_drop(q, mp, RATELIMIT_DROP_OVERFLOW);
		return;
	}
	d->shaped++;
	if (rl_tracks_waiting(rs))
		f->waiting++;
	putq(q, mp);
	if (f->credit >= need)
		qenable(q); /* may go behind others, or once there is room below */
	else
		rl_arm(d, now + rl_wait(rs, f, need));
}

/* Drops waiting data of d (of one band when by_band), counted. */
static void
rl_flush_dir(RlState *rs, RlDir *d, gboolean by_band, unsigned char band)
{
	queue_t *q = d->q;
	mblk_t *mp = q->q_first;
	while (mp != NULL) {
		mblk_t *next = mp->b_next;
		if (datamsg(DB_TYPE(mp)) && (!by_band || mp->b_band == band)) {
			RlFlow *f = NULL;
			if (rl_tracks_waiting(rs) && rl_limited(rs, d, mp))
				f = rl_waiting_flow(d, mp);
			if (f != NULL && f->waiting > 0)
				f->waiting--;
			rmvq(q, mp);
			d->removals++;
			us_drop(q, mp, RATELIMIT_DROP_FLUSH);
		}
		mp = next;
	}
	if (q->q_first == NULL)
		rl_disarm(d);
}

static void
rl_flush(RlState *rs, queue_t *q, mblk_t *mp)
{
	unsigned char flags = MBLKL(mp) > 0 ? mp->b_rptr[0] : 0;
	gboolean by_band = (flags & FLUSHBAND) != 0 && MBLKL(mp) > 1;
	unsigned char band = by_band ? mp->b_rptr[1] : 0;
	if (flags & FLUSHW)
		rl_flush_dir(rs, &rs->down, by_band, band);
	if (flags & FLUSHR)
		rl_flush_dir(rs, &rs->up, by_band, band);
	us_default_flush(q, mp);
}

/* Put (both sides). */
static int
rl_put(queue_t *q, mblk_t *mp)
{
	RlState *rs = q->q_ptr;
	RlDir *d = rl_dir(rs, q);
	if (DB_TYPE(mp) == M_FLUSH)
		rl_flush(rs, q, mp);
	else if (DB_TYPE(mp) >= QPCTL)
		putnext(q, mp);
	else if (!rl_limited(rs, d, mp))
		rl_forward(q, mp);
	else if (rs->police)
		rl_police(rs, d, q, mp);
	else
		rl_shape(rs, d, q, mp);
	d->queued = (guint64)qsize(q);
	return 0;
}

/* Service while not shaping: forwards what waited for room. */
static void
rl_srv_plain(queue_t *q)
{
	mblk_t *mp;
	while ((mp = getq(q)) != NULL) {
		if (DB_TYPE(mp) < QPCTL && !bcanputnext(q, mp->b_band)) {
			putbq(q, mp);
			return;
		}
		putnext(q, mp);
	}
}

/* One scan step on a limited message: sends it when its bucket allows
 * (TRUE), or marks its flow short and notes when it could go (FALSE).
 * *blocked is set when the next queue is full. */
static gboolean
rl_scan_one(RlState *rs, RlDir *d, mblk_t *mp, gint64 now, gint64 *wait, gboolean *blocked)
{
	RlFlow *f = rl_bucket(rs, d, mp, now, FALSE);
	if (f->short_in == d->scans)
		return FALSE;
	gint64 need = rl_need(rs, msgdsize(mp));
	if (f->credit < need) {
		f->short_in = d->scans;
		gint64 w = rl_wait(rs, f, need);
		*wait = *wait < 0 ? w : MIN(*wait, w);
		return FALSE;
	}
	if (!bcanputnext(d->q, mp->b_band)) {
		*blocked = TRUE;
		return FALSE;
	}
	rmvq(d->q, mp);
	if (rl_tracks_waiting(rs) && f->waiting > 0)
		f->waiting--;
	rl_take(d, f, mp);
	putnext(d->q, mp);
	return TRUE;
}

/* Service while shaping: the scan described in the theory. */
static void
rl_srv_shape(RlState *rs, RlDir *d)
{
	queue_t *q = d->q;
	gint64 now = us_world_now(rs->world), wait = -1;
	gboolean skipped = FALSE, blocked = FALSE;
	d->scans++;
	mblk_t *mp = q->q_first;
	while (mp != NULL && !blocked) {
		mblk_t *next = mp->b_next;
		guint64 removals = d->removals;
		gboolean sent;
		if (rl_limited(rs, d, mp)) {
			sent = rl_scan_one(rs, d, mp, now, &wait, &blocked);
			skipped |= !sent && !blocked;
			if (!sent && skipped && !rs->per_flow)
				break;
		} else {
			/* not limited: never overtakes what waits before it */
			if (skipped || !bcanputnext(q, mp->b_band))
				break;
			rmvq(q, mp);
			putnext(q, mp);
			sent = TRUE;
		}
		/* a flush re-entered through putnext may have freed `next` */
		mp = sent && d->removals != removals ? q->q_first : next;
	}
	if (q->q_first != NULL && wait >= 0)
		rl_arm(d, now + wait);
}

static int
rl_srv(queue_t *q)
{
	RlState *rs = q->q_ptr;
	RlDir *d = rl_dir(rs, q);
	if (rs->rate == 0 || rs->police)
		rl_srv_plain(q);
	else
		rl_srv_shape(rs, d);
	d->queued = (guint64)qsize(q);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

/* Recounts the waiting messages of each flow after a change of settings,
 * then lets both scans run under the new ones. */
static void
rl_rescan(RlState *rs, RlDir *d)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, d->flows);
	while (g_hash_table_iter_next(&it, NULL, &v))
		((RlFlow *)v)->waiting = 0;
	if (rl_tracks_waiting(rs)) {
		gint64 now = us_world_now(rs->world);
		for (mblk_t *mp = d->q->q_first; mp != NULL; mp = mp->b_next)
			if (rl_limited(rs, d, mp))
				rl_bucket(rs, d, mp, now, FALSE)->waiting++;
	}
	rl_disarm(d);
	qenable(d->q);
}

/* Parses a string parameter into one of two values. */
static gboolean
rl_choice(const UsParamDesc *p, const char *v, const char *a, const char *b, gboolean *is_b,
	  GError **error)
{
	if (g_strcmp0(v, a) == 0 || g_strcmp0(v, b) == 0) {
		*is_b = g_strcmp0(v, b) == 0;
		return TRUE;
	}
	g_set_error(error, US_ERROR, US_ERROR_INVALID, "%s: '%s' is not one of %s, %s", p->name,
		    v ? v : "", a, b);
	return FALSE;
}

/* The direction mask of a "direction" value, 0 if it is none. */
static guint
rl_dirmask(const char *v)
{
	if (g_strcmp0(v, RATELIMIT_DIRECTION_BOTH) == 0)
		return RL_DIR_DOWN | RL_DIR_UP;
	if (g_strcmp0(v, RATELIMIT_DIRECTION_DOWN) == 0)
		return RL_DIR_DOWN;
	if (g_strcmp0(v, RATELIMIT_DIRECTION_UP) == 0)
		return RL_DIR_UP;
	return 0;
}

/* on_set of rate, burst, per, mode and direction. */
static gboolean
rl_set_limits(queue_t *rq, const UsParamDesc *p, GError **error)
{
	RlState *rs = rq->q_ptr;
	gboolean per_flow, police;
	guint mask = rl_dirmask(rs->direction);
	if (!rl_choice(p, rs->per, RATELIMIT_PER_STREAM, RATELIMIT_PER_FLOW, &per_flow, error) ||
	    !rl_choice(p, rs->mode, RATELIMIT_MODE_SHAPE, RATELIMIT_MODE_POLICE, &police, error))
		return FALSE;
	if (mask == 0) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "%s: '%s' is not one of both, down, up", p->name,
			    rs->direction ? rs->direction : "");
		return FALSE;
	}
	rs->dirmask = mask;
	rs->per_flow = per_flow;
	rs->police = police;
	rl_rescan(rs, &rs->down);
	rl_rescan(rs, &rs->up);
	return TRUE;
}

/* Applies new water marks to both queues (may back-enable). */
static gboolean
rl_set_marks(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	RlState *rs = rq->q_ptr;
	if (rs->lowat > rs->hiwat) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "lowat %" G_GUINT64_FORMAT " is above hiwat %" G_GUINT64_FORMAT,
			    rs->lowat, rs->hiwat);
		return FALSE;
	}
	for (queue_t *q = rq; q != NULL; q = (q == rq ? WR(rq) : NULL)) {
		strqset(q, QHIWAT, 0, (intptr_t)rs->hiwat);
		strqset(q, QLOWAT, 0, (intptr_t)rs->lowat);
	}
	return TRUE;
}

#define RL_PARAM(nm, desc, ty, fld, lo, hi, hook)                                  \
	{                                                                          \
		.name = (nm), .description = (desc), .type = (ty),                 \
		.offset = G_STRUCT_OFFSET(RlState, fld), .min = (lo), .max = (hi), \
		.on_set = (hook)                                                   \
	}

static const UsParamDesc rl_params[] = {
	RL_PARAM("rate", "bits per second, 0 no limit", US_PARAM_UINT, rate, 0, 0, rl_set_limits),
	RL_PARAM("burst", "bucket size (bytes)", US_PARAM_UINT, burst, 1, RL_MAX_BYTES,
		 rl_set_limits),
	RL_PARAM("per", "stream (one bucket) or flow (one per IPv4 5-tuple)", US_PARAM_STRING, per,
		 0, 0, rl_set_limits),
	RL_PARAM("max_flows", "flows kept per direction (least recently used forgotten)",
		 US_PARAM_UINT, max_flows, 1, 1 << 20, NULL),
	RL_PARAM("direction", "limited direction: both, down (write side) or up (read side)",
		 US_PARAM_STRING, direction, 0, 0, rl_set_limits),
	RL_PARAM("mode", "shape (wait, flow control) or police (drop)", US_PARAM_STRING, mode, 0, 0,
		 rl_set_limits),
	RL_PARAM("limit", "shape: bytes that may wait before drops (0: no limit)", US_PARAM_UINT,
		 limit, 0, 0, NULL),
	RL_PARAM("hiwat", "high water mark of both queues (bytes)", US_PARAM_UINT, hiwat, 0,
		 G_MAXINT32, rl_set_marks),
	RL_PARAM("lowat", "low water mark of both queues (bytes)", US_PARAM_UINT, lowat, 0,
		 G_MAXINT32, rl_set_marks),
	{ 0 },
};

#define RL_STATS(dir, side)                                                                      \
	US_STAT(#dir "_passed", "data messages sent on (" side ")", RlState, dir.passed),        \
		US_STAT(#dir "_bytes", "bytes of those (" side ")", RlState, dir.bytes),         \
		US_STAT(#dir "_shaped", "data messages that waited (" side ")", RlState,         \
			dir.shaped),                                                             \
		US_STAT(#dir "_dropped", "policed (" side ")", RlState, dir.dropped),            \
		US_STAT(#dir "_overflow", "over limit while shaping (" side ")", RlState,        \
			dir.overflow),                                                           \
		US_STAT(#dir "_queued", "messages waiting now (" side ")", RlState, dir.queued), \
		US_STAT(#dir "_tokens", "bytes in the last bucket used (" side ")", RlState,     \
			dir.tokens),                                                             \
		US_STAT(#dir "_flows", "flows known (" side ")", RlState, dir.nflows),           \
		US_STAT(#dir "_evicted", "flows forgotten to make room (" side ")", RlState,     \
			dir.evicted),                                                            \
		US_STAT(#dir "_other", "data messages without an IPv4 5-tuple (" side ")",       \
			RlState, dir.other)

static const UsStatDesc rl_stats[] = {
	RL_STATS(down, "write side"),
	RL_STATS(up, "read side"),
	{ 0 },
};

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info rl_minfo = {
	.mi_idnum = 1041,
	.mi_idname = RATELIMIT_NAME,
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 32768,
	.mi_lowat = 8192,
};
static struct qinit rl_rinit = {
	.qi_putp = rl_put,
	.qi_srvp = rl_srv,
	.qi_qopen = rl_open,
	.qi_qclose = rl_close,
	.qi_minfo = &rl_minfo,
};
static struct qinit rl_winit = {
	.qi_putp = rl_put,
	.qi_srvp = rl_srv,
	.qi_minfo = &rl_minfo,
};
static struct streamtab rl_info = { .st_rdinit = &rl_rinit, .st_wrinit = &rl_winit };

static const char *const rl_accepts[] = {
	"M_DATA, M_PROTO DL_UNITDATA/IP_UNITDATA/T_UNITDATA (limited)",
	"M_FLUSH (flushes what waits)", "all others (passed in order)", NULL
};

const UsModuleDesc us_ratelimit_desc = {
	.abi_version = US_ABI_VERSION,
	.name = RATELIMIT_NAME,
	.summary = "token bucket per stream or per flow: shaping with flow control, or policing",
	.kind = US_KIND_MODULE,
	.streamtab = &rl_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = rl_params,
	.stats = rl_stats,
	.drop_reasons = rl_drop_reasons,
	.accepts = rl_accepts,
};
