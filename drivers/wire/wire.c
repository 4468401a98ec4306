/* SPDX-License-Identifier: MIT */
/*
 * wire -- an in-process Ethernet link between two streams of stacks in the
 * same world, with seeded impairments (loss, delay and jitter, rate limit,
 * duplication, reordering, corruption, MTU).
 *
 * Theory
 * ------
 * Each open is a clone open.  An end joins a link by naming it (the "name"
 * parameter or the WIRE_JOIN ioctl, wire.h); the two ends with the same name
 * in one world are joined, whatever stacks they belong to.  Names live in a
 * per-world table (WireNet), found through a small process-wide map keyed by
 * the world pointer; the map entry goes away when the last wire stream of
 * the world closes.  The map is the only state shared between worlds and is
 * taken under a mutex; a world's own table is used on its thread only.
 *
 * Messages consumed on the write side: M_DATA (a raw Ethernet frame, sent to
 * the other end), M_IOCTL (WIRE_JOIN, DLIOCLINKCAPAB; others NAKed), M_FLUSH (canonical
 * driver handling); anything else is dropped as unhandled.  Produced on the
 * read side: M_DATA (frames from the other end) and M_HANGUP (the other end
 * closed).
 *
 * A frame leaves the write side when the other end's reader can take it
 * (canputnext on the peer's read queue, and nothing already waiting there);
 * otherwise it waits on our write queue, up to "qlimit" bytes, and the write
 * service procedure sends it when the peer's read service procedure runs
 * after being back-enabled and enables us, as in the loop driver.  Leaving
 * the write side, a frame passes the sender's impairments in this fixed
 * order (each drawn from the world's GRand only when its setting is non-zero,
 * so a virtual-time run with a given seed is deterministic):
 *   1. rate: the frame is serialised after the ones before it
 *      (len * 8 / rate seconds); if the bytes still waiting to be serialised
 *      plus this one exceed qlimit it is dropped (drop_queue);
 *   2. loss: dropped with probability "loss" (lost; counted in frames_out,
 *      since it was put on the wire);
 *   3. delay + uniform jitter in [0, jitter] after serialisation ends;
 *      in-order frames are never delivered before an earlier one
 *      (delivery time = max(own, latest so far));
 *   4. reorder: with probability "reorder" the frame gets reorder_delay more
 *      and is exempt from the ordering rule, so later frames overtake it;
 *   5. dup: with probability "dup" a second copy (dupmsg, sharing the data)
 *      travels with the same delivery time;
 *   6. corrupt: each copy independently has one random bit flipped with
 *      probability "corrupt"; shared data blocks are copied first (never
 *      written while db_ref > 1).
 * Frames due at once with nothing ahead of them are delivered directly;
 * others wait in a per-direction list sorted by delivery time, served by one
 * world timer (us_world_timer_add).  Delivery putnexts up the peer's stream
 * when it can take it and otherwise queues on the peer's read queue, whose
 * service procedure forwards when back-enabled: a frame that reached the
 * other end is never dropped for flow control.
 *
 * Closing an end cancels both directions' timers and drops the frames in
 * flight (drop_closed); the other end gets the frames it had already
 * received, then M_HANGUP, and drops what waited to cross.  It stays
 * unjoined (writes are dropped as drop_nopeer) unless its name is set
 * again, and the name is free for a new pair of ends.
 *
 * Offload ("offload", off by default).  The end then answers ether's
 * DLIOCLINKCAPAB with partial checksums and segmentation offload, and frames
 * cross with their marks (stream.h) as over a veth pair: a HW_LSO frame is
 * one frame on the wire (one loss, one delay; exempt from "mtu"), a partial
 * checksum is trusted at the other end.  A frame picked for corruption has
 * its checksum completed first, as the sending NIC would have, so the
 * receiver sees the damage.
 *
 * Parameters and statistics are listed in wire.h.
 *
 * Deviations: a link, not a broadcast segment: exactly two ends.  Frames
 * written before the end is joined (or after a hangup) are dropped and
 * counted (drop_nopeer) instead of raising M_ERROR as loop does, because a
 * link layer without a cable loses frames rather than failing the stream.
 */
#define G_LOG_DOMAIN "us-wire"

#include "wire.h"
#include "../../modules/ip/inet-cksum.h"

#include <ustreams/dlpi.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#define WIRE_ETHER_HDR 14
#define WIRE_DEFAULT_MTU 1500
#define WIRE_DEFAULT_QLIMIT (256 * 1024)
#define WIRE_DEFAULT_REORDER_DELAY US_NSEC_PER_MSEC
#define WIRE_MAX_DELAY (3600 * US_NSEC_PER_SEC)

typedef struct WireNet WireNet;

/* A frame on its way to the other end. */
typedef struct {
	gint64 at;  /* world time of delivery */
	mblk_t *mp; /* the frame (owned) */
} WireFlight;

/* Per-end state (q_ptr of both queues). */
typedef struct WireEnd {
	char *name;            /* parameter: wire name ("" or NULL: none) */
	double loss;           /* parameter: loss probability */
	guint64 delay;         /* parameter: propagation delay, ns */
	guint64 jitter;        /* parameter: uniform extra delay bound, ns */
	guint64 rate;          /* parameter: bits/s, 0 unlimited */
	guint64 qlimit;        /* parameter: bytes waiting to be serialised / sent */
	double dup;            /* parameter: duplication probability */
	double reorder;        /* parameter: reordering probability */
	guint64 reorder_delay; /* parameter: extra delay of a reordered frame, ns */
	double corrupt;        /* parameter: corruption probability per copy */
	guint64 mtu;           /* parameter: payload limit, 0 none */
	gboolean offload;      /* parameter: offer checksum and segmentation offload */
	guint64 frames_out;    /* frames put on the wire by this end */
	guint64 bytes_out;     /* their bytes */
	guint64 frames_in;     /* frames delivered up this end */
	guint64 bytes_in;      /* their bytes */
	guint64 lost;          /* frames this end sent that the wire lost */
	guint64 duplicated;    /* extra copies made */
	guint64 reordered;     /* frames held back to be overtaken */
	guint64 corrupted;     /* copies with a flipped bit */
	guint64 drop_mtu;      /* frames over mtu + 14 */
	guint64 drop_queue;    /* frames over qlimit */
	guint64 drop_nopeer;   /* frames written while not joined */
	guint64 drop_closed;   /* frames in flight or waiting when the link closed */
	guint64 errors;        /* allocation failures */
	guint64 joined;        /* 1 while the link is up */
	queue_t *rq;           /* our read queue */
	UsWorld *world;        /* the world of our stack */
	WireNet *net;          /* the world's name table */
	char *registered;      /* name we hold in net->names, or NULL */
	struct WireEnd *peer;  /* the other end, or NULL */
	GQueue flights;        /* WireFlight*, towards peer, sorted by at */
	guint64 timer;         /* world timer for the first flight, 0 if none */
	gint64 timer_at;       /* its deadline */
	gint64 link_free;      /* when the serialiser is next free (rate) */
	gint64 last_at;        /* latest in-order delivery time so far */
} WireEnd;

/* Per-world table of wire names. */
struct WireNet {
	UsWorld *world;
	GHashTable *names; /* name -> the WireEnd that took it first */
	guint ends;        /* wire streams open in this world */
	guint next_minor;
};

enum {
	WIRE_DROP_LOST,
	WIRE_DROP_MTU,
	WIRE_DROP_QUEUE,
	WIRE_DROP_NOPEER,
	WIRE_DROP_CLOSED,
	WIRE_DROP_NOMEM,
};
static const char *const wire_drop_reasons[] = {
	"lost on the wire",
	"longer than the MTU",
	"queue limit exceeded",
	"not joined to a peer",
	"link closed",
	"no memory",
	NULL,
};

static GMutex wire_lock;
static GHashTable *wire_nets; /* UsWorld* -> WireNet*, under wire_lock */

/* ------------------------------------------------------------------ */
/* Per-world name tables                                              */
/* ------------------------------------------------------------------ */

static WireNet *
wire_net_ref(UsWorld *world)
{
	g_mutex_lock(&wire_lock);
	if (wire_nets == NULL)
		wire_nets = g_hash_table_new(g_direct_hash, g_direct_equal);
	WireNet *net = g_hash_table_lookup(wire_nets, world);
	if (net == NULL) {
		net = g_new0(WireNet, 1);
		net->world = world;
		net->names = g_hash_table_new(g_str_hash, g_str_equal);
		net->next_minor = 1;
		g_hash_table_insert(wire_nets, world, net);
	}
	net->ends++;
	g_mutex_unlock(&wire_lock);
	return net;
}

static void
wire_net_unref(WireNet *net)
{
	g_mutex_lock(&wire_lock);
	if (--net->ends == 0) {
		g_hash_table_remove(wire_nets, net->world);
		g_assert(g_hash_table_size(net->names) == 0);
		g_hash_table_destroy(net->names);
		g_free(net);
		if (g_hash_table_size(wire_nets) == 0)
			g_clear_pointer(&wire_nets, g_hash_table_destroy);
	}
	g_mutex_unlock(&wire_lock);
}

/* ------------------------------------------------------------------ */
/* Delivery                                                           */
/* ------------------------------------------------------------------ */

/* Sends a frame up our stream (consumes mp). */
static void
wire_up(WireEnd *we, mblk_t *mp)
{
	we->frames_in++;
	we->bytes_in += msgdsize(mp);
	putnext(we->rq, mp);
}

/* A frame arrives at `to` (consumes mp): up at once when the reader can
 * take it and nothing is ahead, else on our read queue until back-enabled. */
static void
wire_deliver(WireEnd *to, mblk_t *mp)
{
	queue_t *rq = to->rq;
	if (rq->q_first == NULL && canputnext(rq))
		wire_up(to, mp);
	else
		putq(rq, mp);
}

static void wire_fire(gpointer data);

/* Arms the timer for the first flight (one timer per direction). */
static void
wire_arm(WireEnd *we)
{
	WireFlight *f = g_queue_peek_head(&we->flights);
	if (f == NULL)
		return;
	if (we->timer != 0) {
		if (we->timer_at == f->at)
			return;
		us_world_timer_cancel(we->world, we->timer);
	}
	we->timer_at = f->at;
	we->timer = us_world_timer_add(we->world, f->at - us_world_now(we->world), wire_fire, we);
}

/* Timer: delivers every flight that is due, then re-arms. */
static void
wire_fire(gpointer data)
{
	WireEnd *we = data;
	we->timer = 0;
	gint64 now = us_world_now(we->world);
	WireFlight *f;
	while ((f = g_queue_peek_head(&we->flights)) != NULL && f->at <= now) {
		g_queue_pop_head(&we->flights);
		g_assert(we->peer != NULL); /* flights are purged when the link goes */
		wire_deliver(we->peer, f->mp);
		g_free(f);
	}
	wire_arm(we);
}

/* Schedules mp for delivery to the peer at `at` (consumes mp; NULL is
 * allowed and ignored).  Equal times keep their sending order. */
static void
wire_launch(WireEnd *we, gint64 at, mblk_t *mp)
{
	if (mp == NULL)
		return;
	if (at <= us_world_now(we->world) && g_queue_is_empty(&we->flights)) {
		wire_deliver(we->peer, mp);
		return;
	}
	WireFlight *f = g_new(WireFlight, 1);
	f->at = at;
	f->mp = mp;
	GList *l = we->flights.tail;
	while (l != NULL && ((WireFlight *)l->data)->at > at)
		l = l->prev;
	if (l != NULL)
		g_queue_insert_after(&we->flights, l, f);
	else
		g_queue_push_head(&we->flights, f);
	wire_arm(we);
}

/* Drops every frame in flight from we and cancels its timer. */
static void
wire_purge(WireEnd *we)
{
	if (we->timer != 0) {
		us_world_timer_cancel(we->world, we->timer);
		we->timer = 0;
	}
	WireFlight *f;
	while ((f = g_queue_pop_head(&we->flights)) != NULL) {
		we->drop_closed++;
		us_drop(WR(we->rq), f->mp, WIRE_DROP_CLOSED);
		g_free(f);
	}
}

/* ------------------------------------------------------------------ */
/* Impairments                                                        */
/* ------------------------------------------------------------------ */

static gboolean
wire_chance(GRand *r, double p)
{
	return p > 0.0 && g_rand_double(r) < p;
}

/* Flips bit `bit` of the M_DATA bytes of mp (which must be writable). */
static void
wire_flip_bit(mblk_t *mp, size_t bit)
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

static gboolean
wire_is_shared(const mblk_t *mp)
{
	for (const mblk_t *b = mp; b != NULL; b = b->b_cont)
		if (DB_REF(b) > 1)
			return TRUE;
	return FALSE;
}

/* Completes the partial checksum of the frame mp (private, header and
 * checksum field in its first block after pulling up) in software and clears
 * the mark: what a NIC does on the way out. */
static void
wire_csum_complete(mblk_t *mp)
{
	size_t lh = MBLKL(mp) >= 14 && mp->b_rptr[12] == 0x81 && mp->b_rptr[13] == 0 ? 18 : 14;
	size_t start = DB_CKSUMSTART(mp), stuff = DB_CKSUMSTUFF(mp), len = msgdsize(mp);
	if (lh + stuff + 2 > len || start > stuff || !pullupmsg(mp, (ssize_t)(lh + stuff + 2))) {
		DB_CKSUMFLAGS(mp) &= (uint16_t)~HCK_PARTIALCKSUM;
		return;
	}
	us_cksum_complete(mp, lh, start, stuff);
}

/* With probability "corrupt" flips one random bit of mp.  Consumes mp and
 * returns the frame to send (a private copy when mp's data was shared), or
 * NULL when the copy could not be made (the frame is dropped). */
static mblk_t *
wire_maybe_corrupt(WireEnd *we, mblk_t *mp)
{
	GRand *r = us_world_rand(we->world);
	size_t len = msgdsize(mp);
	if (len == 0 || !wire_chance(r, we->corrupt))
		return mp;
	size_t bit = (size_t)(g_rand_double(r) * (double)(len * 8));
	bit = MIN(bit, len * 8 - 1);
	if (wire_is_shared(mp)) {
		mblk_t *copy = copymsg(mp);
		if (copy == NULL) {
			we->errors++;
			us_drop(WR(we->rq), mp, WIRE_DROP_NOMEM);
			return NULL;
		}
		freemsg(mp);
		mp = copy;
	}
	if (DB_CKSUMFLAGS(mp) & HCK_PARTIALCKSUM)
		wire_csum_complete(mp); /* as the sending NIC would have, so it shows */
	wire_flip_bit(mp, bit);
	we->corrupted++;
	return mp;
}

static gint64
wire_serialise_ns(guint64 rate, size_t len)
{
	guint64 bits = (guint64)len * 8;
	return (gint64)((bits * (guint64)US_NSEC_PER_SEC + rate - 1) / rate);
}

/* Rate limit: returns the time serialisation of a len-byte frame ends, or
 * -1 when the serialiser's backlog would exceed qlimit. */
static gint64
wire_serialise(WireEnd *we, gint64 now, size_t len)
{
	if (we->rate == 0)
		return now;
	gint64 start = MAX(now, we->link_free);
	double backlog = (double)(start - now) * (double)we->rate / 8e9;
	if (backlog + (double)len > (double)we->qlimit)
		return -1;
	we->link_free = start + wire_serialise_ns(we->rate, len);
	return we->link_free;
}

/* Delivery time of a frame whose last bit left at tx_end. */
static gint64
wire_arrival(WireEnd *we, gint64 tx_end)
{
	GRand *r = us_world_rand(we->world);
	gint64 at = tx_end + (gint64)we->delay;
	if (we->jitter > 0) {
		double j = g_rand_double(r) * (double)(we->jitter + 1);
		at += MIN((gint64)j, (gint64)we->jitter);
	}
	if (wire_chance(r, we->reorder)) {
		we->reordered++;
		return at + (gint64)we->reorder_delay;
	}
	at = MAX(at, we->last_at);
	we->last_at = at;
	return at;
}

/* Puts a frame on the wire towards the peer, through the impairments
 * (consumes mp).  The caller checked that the peer can take it. */
static void
wire_transmit(WireEnd *we, mblk_t *mp)
{
	queue_t *wq = WR(we->rq);
	GRand *r = us_world_rand(we->world);
	size_t len = msgdsize(mp);
	gint64 tx_end = wire_serialise(we, us_world_now(we->world), len);
	if (tx_end < 0) {
		we->drop_queue++;
		us_drop(wq, mp, WIRE_DROP_QUEUE);
		return;
	}
	we->frames_out++;
	we->bytes_out += len;
	if (wire_chance(r, we->loss)) {
		we->lost++;
		us_drop(wq, mp, WIRE_DROP_LOST);
		return;
	}
	gint64 at = wire_arrival(we, tx_end);
	mblk_t *copy = NULL;
	if (wire_chance(r, we->dup)) {
		copy = dupmsg(mp);
		if (copy != NULL)
			we->duplicated++;
		else
			we->errors++;
	}
	wire_launch(we, at, wire_maybe_corrupt(we, mp));
	if (copy != NULL)
		wire_launch(we, at, wire_maybe_corrupt(we, copy));
}

/* ------------------------------------------------------------------ */
/* Joining and leaving                                                */
/* ------------------------------------------------------------------ */

/* Gives up a name we wait under (not joined). */
static void
wire_unregister(WireEnd *we)
{
	if (we->registered == NULL)
		return;
	if (g_hash_table_lookup(we->net->names, we->registered) == we)
		g_hash_table_remove(we->net->names, we->registered);
	g_clear_pointer(&we->registered, g_free);
}

/* Joins we to the other end named `name`, or makes it wait under that name.
 * An empty name withdraws a waiting end.  Returns 0 or an errno. */
static int
wire_join(WireEnd *we, const char *name)
{
	if (name == NULL || name[0] == '\0') {
		if (we->peer != NULL)
			return EBUSY;
		wire_unregister(we);
		return 0;
	}
	if (strlen(name) >= WIRE_NAMESZ)
		return EINVAL;
	if (g_strcmp0(we->registered, name) == 0)
		return 0;
	if (we->peer != NULL)
		return EBUSY;
	WireEnd *other = g_hash_table_lookup(we->net->names, name);
	if (other != NULL && other->peer != NULL)
		return EBUSY;
	wire_unregister(we);
	we->registered = g_strdup(name);
	if (other == NULL) {
		g_hash_table_insert(we->net->names, we->registered, we);
		return 0;
	}
	we->peer = other;
	other->peer = we;
	we->joined = other->joined = 1;
	we->link_free = other->link_free = us_world_now(we->world);
	we->last_at = other->last_at = 0;
	g_info("wire %s: up between stacks %s and %s", name,
	       us_stack_name(us_queue_stack(other->rq)), us_stack_name(us_queue_stack(we->rq)));
	return 0;
}

/* Drops every frame waiting on q (consumes them), counting them on we. */
static void
wire_drop_waiting(WireEnd *we, queue_t *q)
{
	mblk_t *mp;
	while ((mp = getq(q)) != NULL) {
		we->drop_closed++;
		us_drop(WR(we->rq), mp, WIRE_DROP_CLOSED);
	}
}

/* we is closing: takes the link down.  The survivor gets what it already
 * received, then M_HANGUP; what waited to cross either way is dropped. */
static void
wire_hangup(WireEnd *we)
{
	WireEnd *peer = we->peer;
	wire_purge(we);
	wire_drop_waiting(we, WR(we->rq));
	if (peer == NULL) {
		wire_unregister(we);
		return;
	}
	wire_purge(peer);
	g_hash_table_remove(we->net->names, we->registered);
	g_clear_pointer(&we->registered, g_free);
	g_clear_pointer(&peer->registered, g_free);
	we->peer = peer->peer = NULL;
	we->joined = peer->joined = 0;
	mblk_t *mp;
	while ((mp = getq(peer->rq)) != NULL)
		wire_up(peer, mp);
	putnextctl(peer->rq, M_HANGUP);
	wire_drop_waiting(peer, WR(peer->rq));
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

/* Applies qlimit as the write queue's water marks, so modules above that
 * respect canputnext() stop before frames would be dropped. */
static void
wire_apply_qlimit(WireEnd *we)
{
	queue_t *wq = WR(we->rq);
	strqset(wq, QHIWAT, 0, (intptr_t)we->qlimit);
	strqset(wq, QLOWAT, 0, (intptr_t)(we->qlimit / 4));
}

static int
wire_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)oflag;
	(void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO;
	WireEnd *we = g_new0(WireEnd, 1);
	we->qlimit = WIRE_DEFAULT_QLIMIT;
	we->reorder_delay = WIRE_DEFAULT_REORDER_DELAY;
	we->mtu = WIRE_DEFAULT_MTU;
	we->rq = rq;
	we->world = us_queue_world(rq);
	we->net = wire_net_ref(we->world);
	g_queue_init(&we->flights);
	rq->q_ptr = WR(rq)->q_ptr = we;
	wire_apply_qlimit(we);
	*devp = makedevice(getmajor(*devp), we->net->next_minor++);
	return 0;
}

static int
wire_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	WireEnd *we = rq->q_ptr;
	wire_hangup(we);
	wire_net_unref(we->net);
	g_free(we->name);
	g_free(we);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Write side                                                         */
/* ------------------------------------------------------------------ */

/* The other end can take a frame now: nothing waits at it and its reader
 * has room (canputnext sets QWANTW there otherwise, so we are enabled
 * again through its read service procedure). */
static gboolean
wire_peer_ready(WireEnd *peer)
{
	return peer->rq->q_first == NULL && canputnext(peer->rq);
}

/* A frame written down (consumes mp). */
static void
wire_wput_data(queue_t *wq, mblk_t *mp)
{
	WireEnd *we = wq->q_ptr;
	size_t len = msgdsize(mp);
	if (we->mtu != 0 && len > we->mtu + WIRE_ETHER_HDR && !(DB_CKSUMFLAGS(mp) & HW_LSO)) {
		we->drop_mtu++;
		us_drop(wq, mp, WIRE_DROP_MTU);
	} else if (we->peer == NULL) {
		we->drop_nopeer++;
		us_drop(wq, mp, WIRE_DROP_NOPEER);
	} else if (wq->q_first == NULL && wire_peer_ready(we->peer)) {
		wire_transmit(we, mp);
	} else if (wq->q_count + len > we->qlimit) {
		we->drop_queue++;
		us_drop(wq, mp, WIRE_DROP_QUEUE);
	} else {
		putq(wq, mp);
	}
}

/* Copies the name of a WIRE_JOIN request into buf; returns 0 or EINVAL. */
static int
wire_ioctl_name(mblk_t *mp, char buf[WIRE_NAMESZ])
{
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	if (ioc->ioc_count == TRANSPARENT || mp->b_cont == NULL)
		return EINVAL;
	size_t n = MIN(ioc->ioc_count, msgdsize(mp->b_cont));
	n = us_msgcopyout(mp->b_cont, 0, buf, MIN(n, (size_t)WIRE_NAMESZ));
	if (memchr(buf, '\0', n) == NULL) {
		if (n >= WIRE_NAMESZ)
			return EINVAL;
		buf[n] = '\0';
	}
	return buf[0] == '\0' ? EINVAL : 0;
}

/* DLIOCLINKCAPAB (from ether): with "offload" the wire carries partial
 * checksums and HW_LSO frames to the other end unchanged, as a veth pair
 * does; without, NAK (no offloads). */
static void
wire_ioctl_capab(queue_t *wq, mblk_t *mp)
{
	WireEnd *we = wq->q_ptr;
	struct dl_link_capab lc = DL_LINK_CAPAB_TSO4(65535);
	mblk_t *dp = we->offload ? us_msg_from(&lc, sizeof lc, 0) : NULL;
	if (dp == NULL) {
		miocnak(wq, mp, 0, we->offload ? ENOMEM : EOPNOTSUPP);
		return;
	}
	freemsg(mp->b_cont);
	mp->b_cont = dp;
	miocack(wq, mp, sizeof lc, 0);
}

static void
wire_ioctl(queue_t *wq, mblk_t *mp)
{
	WireEnd *we = wq->q_ptr;
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	if (ioc->ioc_cmd == DLIOCLINKCAPAB) {
		wire_ioctl_capab(wq, mp);
		return;
	}
	if (ioc->ioc_cmd != WIRE_JOIN) {
		miocnak(wq, mp, 0, EINVAL);
		return;
	}
	char name[WIRE_NAMESZ];
	int err = wire_ioctl_name(mp, name);
	if (err == 0)
		err = wire_join(we, name);
	if (err != 0) {
		g_info("%s: WIRE_JOIN refused: %s", us_stack_name(us_queue_stack(wq)),
		       g_strerror(err));
		miocnak(wq, mp, 0, err);
		return;
	}
	g_free(we->name);
	we->name = g_strdup(name);
	miocack(wq, mp, 0, 0);
}

/* Write put: frames go out now when nothing waits and the peer has room. */
static int
wire_wput(queue_t *wq, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA: wire_wput_data(wq, mp); break;
	case M_IOCTL: wire_ioctl(wq, mp); break;
	default: us_default_put(wq, mp); break;
	}
	return 0;
}

/* Write service: sends waiting frames while the peer can take them. */
static int
wire_wsrv(queue_t *wq)
{
	WireEnd *we = wq->q_ptr;
	mblk_t *mp;
	while ((mp = getq(wq)) != NULL) {
		if (we->peer == NULL) {
			we->drop_nopeer++;
			us_drop(wq, mp, WIRE_DROP_NOPEER);
			continue;
		}
		if (!wire_peer_ready(we->peer)) {
			putbq(wq, mp);
			return 0;
		}
		wire_transmit(we, mp);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Read side                                                          */
/* ------------------------------------------------------------------ */

/* Read put: nothing comes from below a driver; pass on whatever does. */
static int
wire_rput(queue_t *rq, mblk_t *mp)
{
	putnext(rq, mp);
	return 0;
}

/* Read service: forwards frames that arrived while the reader was full;
 * once empty, lets the other end's writer go on. */
static int
wire_rsrv(queue_t *rq)
{
	WireEnd *we = rq->q_ptr;
	mblk_t *mp;
	while ((mp = getq(rq)) != NULL) {
		if (!canputnext(rq)) {
			putbq(rq, mp);
			return 0;
		}
		wire_up(we, mp);
	}
	if (we->peer != NULL)
		qenable(WR(we->peer->rq));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

static gboolean
wire_set_name(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	WireEnd *we = rq->q_ptr;
	int err = wire_join(we, we->name);
	if (err != 0) {
		g_set_error(error, US_ERROR, US_ERROR_ERRNO, "wire name %s: %s", we->name,
			    g_strerror(err));
		return FALSE;
	}
	return TRUE;
}

static gboolean
wire_set_probability(queue_t *rq, const UsParamDesc *p, GError **error)
{
	double v;
	memcpy(&v, (guint8 *)rq->q_ptr + p->offset, sizeof v);
	if (v >= 0.0 && v <= 1.0)
		return TRUE;
	g_set_error(error, US_ERROR, US_ERROR_INVALID, "%s: %g is not a probability in [0, 1]",
		    p->name, v);
	return FALSE;
}

static gboolean
wire_set_qlimit(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	(void)error;
	wire_apply_qlimit(rq->q_ptr);
	return TRUE;
}

#define WIRE_PARAM(nm, desc, ty, fld, lo, hi, hook)                                \
	{                                                                          \
		.name = (nm), .description = (desc), .type = (ty),                 \
		.offset = G_STRUCT_OFFSET(WireEnd, fld), .min = (lo), .max = (hi), \
		.on_set = (hook)                                                   \
	}

static const UsParamDesc wire_params[] = {
	WIRE_PARAM("name", "wire name; the two ends with one name are joined", US_PARAM_STRING,
		   name, 0, 0, wire_set_name),
	WIRE_PARAM("loss", "probability that a frame is lost", US_PARAM_DOUBLE, loss, 0, 0,
		   wire_set_probability),
	WIRE_PARAM("delay", "one-way delay (ns)", US_PARAM_UINT, delay, 0, WIRE_MAX_DELAY, NULL),
	WIRE_PARAM("jitter", "uniform extra delay bound (ns), order kept", US_PARAM_UINT, jitter, 0,
		   WIRE_MAX_DELAY, NULL),
	WIRE_PARAM("rate", "bits per second, 0 unlimited", US_PARAM_UINT, rate, 0, 0, NULL),
	WIRE_PARAM("qlimit", "bytes that may wait to be serialised or sent", US_PARAM_UINT, qlimit,
		   1, G_MAXINT32, wire_set_qlimit),
	WIRE_PARAM("dup", "probability that a frame is duplicated", US_PARAM_DOUBLE, dup, 0, 0,
		   wire_set_probability),
	WIRE_PARAM("reorder", "probability that a frame is held back and overtaken",
		   US_PARAM_DOUBLE, reorder, 0, 0, wire_set_probability),
	WIRE_PARAM("reorder_delay", "extra delay of a reordered frame (ns)", US_PARAM_UINT,
		   reorder_delay, 0, WIRE_MAX_DELAY, NULL),
	WIRE_PARAM("corrupt", "probability that a copy gets one bit flipped", US_PARAM_DOUBLE,
		   corrupt, 0, 0, wire_set_probability),
	WIRE_PARAM("mtu", "largest payload; longer frames are dropped (0: no limit)", US_PARAM_UINT,
		   mtu, 0, G_MAXINT32, NULL),
	WIRE_PARAM("offload",
		   "carry partial checksums and HW_LSO frames like a veth pair (DLIOCLINKCAPAB)",
		   US_PARAM_BOOL, offload, 0, 0, NULL),
	{ 0 },
};

static const UsStatDesc wire_stats[] = {
	US_STAT("frames_out", "frames put on the wire by this end", WireEnd, frames_out),
	US_STAT("bytes_out", "bytes put on the wire by this end", WireEnd, bytes_out),
	US_STAT("frames_in", "frames delivered up this end", WireEnd, frames_in),
	US_STAT("bytes_in", "bytes delivered up this end", WireEnd, bytes_in),
	US_STAT("lost", "frames this end sent that the wire lost", WireEnd, lost),
	US_STAT("duplicated", "extra copies of frames this end sent", WireEnd, duplicated),
	US_STAT("reordered", "frames this end sent that were held back", WireEnd, reordered),
	US_STAT("corrupted", "copies this end sent with a flipped bit", WireEnd, corrupted),
	US_STAT("drop_mtu", "frames longer than mtu + 14", WireEnd, drop_mtu),
	US_STAT("drop_queue", "frames beyond the queue limit", WireEnd, drop_queue),
	US_STAT("drop_nopeer", "frames written while not joined", WireEnd, drop_nopeer),
	US_STAT("drop_closed", "frames in flight or waiting when the link closed", WireEnd,
		drop_closed),
	US_STAT("errors", "allocation failures", WireEnd, errors),
	US_STAT("joined", "1 while joined to the other end", WireEnd, joined),
	{ 0 },
};

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info wire_minfo = {
	.mi_idnum = 1010,
	.mi_idname = "wire",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit wire_rinit = {
	.qi_putp = wire_rput,
	.qi_srvp = wire_rsrv,
	.qi_qopen = wire_open,
	.qi_qclose = wire_close,
	.qi_minfo = &wire_minfo,
};
static struct qinit wire_winit = {
	.qi_putp = wire_wput,
	.qi_srvp = wire_wsrv,
	.qi_minfo = &wire_minfo,
};
static struct streamtab wire_info = { .st_rdinit = &wire_rinit, .st_wrinit = &wire_winit };

static const char *const wire_accepts[] = { "M_DATA (Ethernet frames)", "M_FLUSH",
					    "M_IOCTL (WIRE_JOIN)", NULL };

const UsModuleDesc us_wire_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "wire",
	.summary = "in-process Ethernet link between stacks of one world, with impairments",
	.kind = US_KIND_DRIVER,
	.streamtab = &wire_info,
	.mt_flags = US_MT_PERSTACK, /* the two ends share state, across stacks */
	.params = wire_params,
	.stats = wire_stats,
	.drop_reasons = wire_drop_reasons,
	.accepts = wire_accepts,
};
