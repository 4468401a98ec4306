/* SPDX-License-Identifier: MIT */
/*
 * mux.c -- helpers for multiplexing drivers (see mux.h for the contract).
 *
 * Theory
 * ------
 * Tables:
 *  - UsMuxLowers keeps each record three ways: a GQueue in link order (the
 *    oldest link first, the usual default route), a hash by muxid and a hash
 *    by l_qbot.  The data path needs none of them: a lower's queues carry
 *    the record in q_ptr.
 *  - UsMuxUppers is a GTree by minor, so that walks go in minor order (the
 *    same order in every run: virtual-time worlds are deterministic).
 *    Lowest-free allocation keeps a hint h with every minor in
 *    [first_minor, h) in use: allocation scans up from h, a removal below h
 *    lowers h.  Scans are short unless most minors above h are in use.
 *  - UsMuxSlots is an array indexed by the key.
 *  - UsMuxTuples is a GHashTable whose keys carry a precomputed hash
 *    (MurmurHash3's 32-bit mixing over the words, seeded per table), so a
 *    lookup hashes the caller's tuple once and copies nothing.
 *
 * The link ioctls (us_mux_handle_link_ioctl) follow the stream head's side
 * of the protocol described in mux.h and streamhead/link.c: validate,
 * record, hand the driver the record through q_ptr, ask the driver, answer.
 *
 * Flow control across the multiplexor is the wait-list scheme of mux.h: the
 * lower write service procedure is the back-enable target below, and it
 * passes the wake-up on to the upper writers that wait on it.
 *
 * Deviations: none.
 */
#define G_LOG_DOMAIN "us-mux"

#include "mux.h"

#include <ustreams/stropts.h>

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Wait lists                                                         */
/* ------------------------------------------------------------------ */

void
us_mux_wait_init(UsMuxWaitList *wl)
{
	g_queue_init(&wl->wl_order);
	wl->wl_set = NULL;
}

void
us_mux_wait_clear(UsMuxWaitList *wl)
{
	g_queue_clear(&wl->wl_order);
	g_clear_pointer(&wl->wl_set, g_hash_table_destroy);
}

void
us_mux_wait_add(UsMuxWaitList *wl, queue_t *q)
{
	if (wl->wl_set == NULL)
		wl->wl_set = g_hash_table_new(g_direct_hash, g_direct_equal);
	if (!g_hash_table_add(wl->wl_set, q))
		return; /* waiting already */
	g_queue_push_tail(&wl->wl_order, q);
}

gboolean
us_mux_wait_remove(UsMuxWaitList *wl, queue_t *q)
{
	if (wl->wl_set == NULL || !g_hash_table_remove(wl->wl_set, q))
		return FALSE;
	g_queue_remove(&wl->wl_order, q);
	return TRUE;
}

guint
us_mux_wait_wake(UsMuxWaitList *wl)
{
	guint n = 0;
	queue_t *q;
	/* Emptied first: a woken queue that finds no room again re-adds
	 * itself, and qenable() only schedules, so nothing re-enters here. */
	GQueue order = wl->wl_order;
	g_queue_init(&wl->wl_order);
	g_clear_pointer(&wl->wl_set, g_hash_table_destroy);
	while ((q = g_queue_pop_head(&order)) != NULL) {
		qenable(q);
		n++;
	}
	return n;
}

guint
us_mux_wait_count(const UsMuxWaitList *wl)
{
	return wl->wl_order.length;
}

/* ------------------------------------------------------------------ */
/* Lower streams                                                      */
/* ------------------------------------------------------------------ */

struct _UsMuxLowers {
	GQueue ls_order;               /* UsMuxLower *, oldest link first */
	GHashTable *ls_by_muxid;       /* GINT_TO_POINTER(muxid) -> UsMuxLower * */
	GHashTable *ls_by_qbot;        /* l_qbot -> UsMuxLower * */
	GDestroyNotify ls_cookie_free; /* frees ml_cookie, or NULL */
};

UsMuxLowers *
us_mux_lowers_new(GDestroyNotify cookie_free)
{
	UsMuxLowers *ls = g_new0(UsMuxLowers, 1);
	g_queue_init(&ls->ls_order);
	ls->ls_by_muxid = g_hash_table_new(g_direct_hash, g_direct_equal);
	ls->ls_by_qbot = g_hash_table_new(g_direct_hash, g_direct_equal);
	ls->ls_cookie_free = cookie_free;
	return ls;
}

static void
lower_free(UsMuxLowers *ls, UsMuxLower *lo)
{
	if (ls->ls_cookie_free != NULL && lo->ml_cookie != NULL)
		ls->ls_cookie_free(lo->ml_cookie);
	us_mux_wait_clear(&lo->ml_wwait);
	g_free(lo);
}

void
us_mux_lowers_free(UsMuxLowers *lowers)
{
	if (lowers == NULL)
		return;
	UsMuxLower *lo;
	while ((lo = g_queue_pop_head(&lowers->ls_order)) != NULL)
		lower_free(lowers, lo);
	g_hash_table_destroy(lowers->ls_by_muxid);
	g_hash_table_destroy(lowers->ls_by_qbot);
	g_free(lowers);
}

static int
lower_add_check(UsMuxLowers *ls, const struct linkblk *lb, int cmd)
{
	if (lb->l_qbot == NULL || (lb->l_qbot->q_flag & QREADR) || lb->l_index < 0)
		return EINVAL;
	if (cmd != I_LINK && cmd != I_PLINK)
		return EINVAL;
	if (g_hash_table_contains(ls->ls_by_muxid, GINT_TO_POINTER(lb->l_index)) ||
	    g_hash_table_contains(ls->ls_by_qbot, lb->l_qbot))
		return EEXIST;
	return 0;
}

UsMuxLower *
us_mux_lowers_add(UsMuxLowers *lowers, const struct linkblk *lb, int cmd, gpointer cookie,
		  int *errp)
{
	int err = lower_add_check(lowers, lb, cmd);
	if (errp != NULL)
		*errp = err;
	if (err != 0)
		return NULL;
	UsMuxLower *lo = g_new0(UsMuxLower, 1);
	lo->ml_muxid = lb->l_index;
	lo->ml_cmd = cmd;
	lo->ml_qbot = lb->l_qbot;
	lo->ml_qtop = lb->l_qtop;
	lo->ml_cookie = cookie;
	lo->ml_table = lowers;
	us_mux_wait_init(&lo->ml_wwait);
	g_queue_push_tail(&lowers->ls_order, lo);
	lo->ml_node = lowers->ls_order.tail;
	g_hash_table_insert(lowers->ls_by_muxid, GINT_TO_POINTER(lo->ml_muxid), lo);
	g_hash_table_insert(lowers->ls_by_qbot, lo->ml_qbot, lo);
	return lo;
}

UsMuxLower *
us_mux_lowers_find(UsMuxLowers *lowers, int muxid)
{
	return g_hash_table_lookup(lowers->ls_by_muxid, GINT_TO_POINTER(muxid));
}

UsMuxLower *
us_mux_lowers_find_queue(UsMuxLowers *lowers, queue_t *q)
{
	if (q == NULL)
		return NULL;
	return g_hash_table_lookup(lowers->ls_by_qbot, WR(q));
}

gboolean
us_mux_lowers_remove(UsMuxLowers *lowers, int muxid)
{
	UsMuxLower *lo = us_mux_lowers_find(lowers, muxid);
	if (lo == NULL)
		return FALSE;
	g_hash_table_remove(lowers->ls_by_muxid, GINT_TO_POINTER(muxid));
	g_hash_table_remove(lowers->ls_by_qbot, lo->ml_qbot);
	g_queue_delete_link(&lowers->ls_order, lo->ml_node);
	/* Writers waiting for this lower re-route (or drop) when they run. */
	us_mux_wait_wake(&lo->ml_wwait);
	lower_free(lowers, lo);
	return TRUE;
}

guint
us_mux_lowers_count(UsMuxLowers *lowers)
{
	return lowers->ls_order.length;
}

UsMuxLower *
us_mux_lowers_first(UsMuxLowers *lowers)
{
	return lowers->ls_order.head ? lowers->ls_order.head->data : NULL;
}

UsMuxLower *
us_mux_lowers_next(UsMuxLower *lower)
{
	GList *n = lower->ml_node->next;
	return n ? n->data : NULL;
}

void
us_mux_lowers_foreach(UsMuxLowers *lowers, void (*func)(UsMuxLower *lower, gpointer data),
		      gpointer data)
{
	for (GList *l = lowers->ls_order.head; l != NULL; l = l->next)
		func(l->data, data);
}

gboolean
us_mux_lower_canput(UsMuxLower *lower)
{
	queue_t *qbot = lower->ml_qbot;
	return qbot->q_first == NULL && canputnext(qbot);
}

void
us_mux_lower_wait(UsMuxLower *lower, queue_t *wq)
{
	us_mux_wait_add(&lower->ml_wwait, wq);
}

void
us_mux_lowers_forget(UsMuxLowers *lowers, queue_t *q)
{
	for (GList *l = lowers->ls_order.head; l != NULL; l = l->next) {
		UsMuxLower *lo = l->data;
		us_mux_wait_remove(&lo->ml_wwait, q);
	}
}

guint
us_mux_lowers_enable_read(UsMuxLowers *lowers)
{
	guint n = 0;
	for (GList *l = lowers->ls_order.head; l != NULL; l = l->next) {
		UsMuxLower *lo = l->data;
		queue_t *rq = RD(lo->ml_qbot);
		if (rq->q_first != NULL) {
			qenable(rq);
			n++;
		}
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Lower-stream procedures                                            */
/* ------------------------------------------------------------------ */

/* Write put of a lower (st_muxwinit): what the driver put() on l_qbot. */
gboolean
us_mux_lower_send_proto(UsMuxLower *lower, const void *prim, size_t len)
{
	mblk_t *mp = us_msg_from(prim, len, 0);
	if (mp == NULL)
		return FALSE;
	DB_TYPE(mp) = M_PROTO;
	putnext(lower->ml_qbot, mp);
	return TRUE;
}

int
us_mux_lower_wput(queue_t *q, mblk_t *mp)
{
	if (DB_TYPE(mp) == M_FLUSH) {
		us_default_flush(q, mp);
		return 0;
	}
	if (DB_TYPE(mp) >= QPCTL || (q->q_first == NULL && bcanputnext(q, mp->b_band)))
		putnext(q, mp);
	else
		putq(q, mp);
	return 0;
}

/* Write service of a lower: run by putq and by back-enabling from below;
 * once its own queue is empty the waiting upper writers may go. */
int
us_mux_lower_wsrv(queue_t *q)
{
	mblk_t *mp;
	while ((mp = getq(q)) != NULL) {
		if (DB_TYPE(mp) < QPCTL && !bcanputnext(q, mp->b_band)) {
			putbq(q, mp);
			return 0;
		}
		putnext(q, mp);
	}
	UsMuxLower *lo = us_mux_lower_of(q);
	if (lo != NULL)
		us_mux_wait_wake(&lo->ml_wwait);
	return 0;
}

/* Flushes q as the first byte (and band byte) of an M_FLUSH ask. */
static void
lower_flush_one(queue_t *q, const mblk_t *mp)
{
	if ((mp->b_rptr[0] & FLUSHBAND) && MBLKL(mp) >= 2)
		flushband(q, mp->b_rptr[1], FLUSHDATA);
	else
		flushq(q, FLUSHDATA);
}

void
us_mux_lower_flush(queue_t *rq, mblk_t *mp)
{
	if (MBLKL(mp) < 1) {
		us_drop(rq, mp, US_DROP_UNHANDLED);
		return;
	}
	if (mp->b_rptr[0] & FLUSHR)
		lower_flush_one(rq, mp);
	if (!(mp->b_rptr[0] & FLUSHW)) {
		freemsg(mp); /* consumed, as a stream head consumes it */
		return;
	}
	if (DB_REF(mp) > 1) { /* about to write the flag byte */
		mblk_t *copy = copymsg(mp);
		if (copy == NULL) {
			us_drop(rq, mp, US_DROP_UNHANDLED);
			return;
		}
		freemsg(mp);
		mp = copy;
	}
	mp->b_rptr[0] &= ~FLUSHR;
	lower_flush_one(WR(rq), mp);
	qreply(rq, mp);
}

void
us_mux_drop(queue_t *q, mblk_t *mp, guint reason, queue_t *anchor)
{
	if (anchor != NULL && us_queue_desc(q) != us_queue_desc(anchor))
		q = anchor;
	us_drop(q, mp, reason);
}

/* ------------------------------------------------------------------ */
/* The link ioctls                                                    */
/* ------------------------------------------------------------------ */

static gboolean
is_link_cmd(int cmd)
{
	return cmd == I_LINK || cmd == I_PLINK || cmd == I_UNLINK || cmd == I_PUNLINK;
}

/* Copies the linkblk out of an M_IOCTL; FALSE if it is not all there. */
static gboolean
link_parse(mblk_t *mp, struct linkblk *lb)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	if (ioc->ioc_count != sizeof *lb || mp->b_cont == NULL)
		return FALSE;
	return us_msgcopyout(mp->b_cont, 0, lb, sizeof *lb) == sizeof *lb;
}

/* The stream head must have given l_qbot's pair this driver's lower
 * procedures, and named upper_wq as l_qtop for I_LINK only. */
static int
link_check_queues(queue_t *upper_wq, const struct linkblk *lb, int cmd)
{
	if (lb->l_qbot == NULL || (lb->l_qbot->q_flag & QREADR))
		return EINVAL;
	const UsModuleDesc *d = us_queue_desc(upper_wq);
	const struct streamtab *st = d ? d->streamtab : NULL;
	if (st != NULL &&
	    (lb->l_qbot->q_qinfo != st->st_muxwinit || RD(lb->l_qbot)->q_qinfo != st->st_muxrinit))
		return EINVAL;
	if (lb->l_qtop != (cmd == I_LINK ? upper_wq : NULL))
		return EINVAL;
	return 0;
}

static void
link_set_qptr(UsMuxLower *lo, gpointer ptr)
{
	RD(lo->ml_qbot)->q_ptr = ptr;
	lo->ml_qbot->q_ptr = ptr;
}

static void
ioc_ack(queue_t *wq, mblk_t *mp)
{
	freemsg(unlinkb(mp)); /* nothing is returned with the ACK */
	miocack(wq, mp, 0, 0);
}

/* I_LINK / I_PLINK: returns 0 (the lower is linked) or the errno to NAK. */
static int
link_add(queue_t *upper_wq, const struct linkblk *lb, int cmd, UsMuxLowers *lowers,
	 const UsMuxLinkOps *ops)
{
	int err = link_check_queues(upper_wq, lb, cmd);
	if (err != 0)
		return err;
	UsMuxLower *lo = us_mux_lowers_add(lowers, lb, cmd, NULL, &err);
	if (lo == NULL)
		return EINVAL; /* SVR4 answers EINVAL for a stream linked already */
	link_set_qptr(lo, lo);
	err = ops && ops->on_link ? ops->on_link(upper_wq, lo) : 0;
	if (err != 0) {
		link_set_qptr(lo, NULL);
		us_mux_lowers_remove(lowers, lo->ml_muxid);
		return err;
	}
	g_debug("linked muxid %d (%s)", lb->l_index, cmd == I_LINK ? "I_LINK" : "I_PLINK");
	return 0;
}

/* Drops what is left on one of an unlinked lower's queues. */
static void
unlink_drain(queue_t *q, queue_t *upper_wq, guint reason)
{
	mblk_t *mp;
	while ((mp = getq(q)) != NULL)
		us_drop(upper_wq, mp, reason);
}

/* I_UNLINK / I_PUNLINK: returns 0 (the lower is gone) or the errno to NAK. */
static int
link_remove(queue_t *upper_wq, const struct linkblk *lb, UsMuxLowers *lowers,
	    const UsMuxLinkOps *ops)
{
	UsMuxLower *lo = us_mux_lowers_find(lowers, lb->l_index);
	if (lo == NULL || lo->ml_qbot != lb->l_qbot)
		return EINVAL;
	if (ops && ops->on_unlink)
		ops->on_unlink(upper_wq, lo);
	guint reason = ops ? ops->unlink_drop_reason : US_DROP_UNHANDLED;
	link_set_qptr(lo, NULL);
	unlink_drain(RD(lo->ml_qbot), upper_wq, reason);
	unlink_drain(lo->ml_qbot, upper_wq, reason);
	us_mux_lowers_remove(lowers, lo->ml_muxid);
	g_debug("unlinked muxid %d", lb->l_index);
	return 0;
}

gboolean
us_mux_handle_link_ioctl(queue_t *upper_wq, mblk_t *mp, UsMuxLowers *lowers,
			 const UsMuxLinkOps *ops)
{
	if (DB_TYPE(mp) != M_IOCTL || MBLKL(mp) < sizeof(struct iocblk))
		return FALSE;
	int cmd = ((const struct iocblk *)mp->b_rptr)->ioc_cmd;
	if (!is_link_cmd(cmd))
		return FALSE;
	struct linkblk lb;
	int err;
	if (!link_parse(mp, &lb))
		err = EINVAL;
	else if (cmd == I_LINK || cmd == I_PLINK)
		err = link_add(upper_wq, &lb, cmd, lowers, ops);
	else
		err = link_remove(upper_wq, &lb, lowers, ops);
	if (err != 0)
		miocnak(upper_wq, mp, 0, err);
	else
		ioc_ack(upper_wq, mp);
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Upper streams                                                      */
/* ------------------------------------------------------------------ */

struct _UsMuxUppers {
	GTree *us_by_minor; /* GUINT_TO_POINTER(minor) -> UsMuxUpper * (owned) */
	guint us_first;     /* lowest minor handed out */
	guint us_max;       /* highest minor handed out */
	guint us_hint;      /* every minor in [us_first, us_hint) is in use */
};

static gint
minor_cmp(gconstpointer a, gconstpointer b, gpointer data)
{
	(void)data;
	guint x = GPOINTER_TO_UINT(a), y = GPOINTER_TO_UINT(b);
	return x < y ? -1 : x > y;
}

UsMuxUppers *
us_mux_uppers_new(guint first_minor, guint max_minor)
{
	g_return_val_if_fail(first_minor <= max_minor && max_minor <= US_MAXMIN, NULL);
	UsMuxUppers *u = g_new0(UsMuxUppers, 1);
	u->us_by_minor = g_tree_new_full(minor_cmp, NULL, NULL, g_free);
	u->us_first = u->us_hint = first_minor;
	u->us_max = max_minor;
	return u;
}

void
us_mux_uppers_free(UsMuxUppers *uppers)
{
	if (uppers == NULL)
		return;
	g_tree_destroy(uppers->us_by_minor);
	g_free(uppers);
}

int
us_mux_uppers_alloc(UsMuxUppers *uppers, queue_t *rq, gpointer state, guint *minorp)
{
	guint m = uppers->us_hint;
	while (m <= uppers->us_max && g_tree_lookup(uppers->us_by_minor, GUINT_TO_POINTER(m)))
		m++;
	if (m > uppers->us_max) {
		uppers->us_hint = m; /* everything below is in use */
		return ENXIO;
	}
	UsMuxUpper *up = g_new0(UsMuxUpper, 1);
	up->mu_minor = m;
	up->mu_rq = rq;
	up->mu_state = state;
	g_tree_insert(uppers->us_by_minor, GUINT_TO_POINTER(m), up);
	uppers->us_hint = m + 1;
	if (minorp != NULL)
		*minorp = m;
	return 0;
}

UsMuxUpper *
us_mux_uppers_find(UsMuxUppers *uppers, guint minor)
{
	return g_tree_lookup(uppers->us_by_minor, GUINT_TO_POINTER(minor));
}

gboolean
us_mux_uppers_remove(UsMuxUppers *uppers, guint minor)
{
	if (!g_tree_remove(uppers->us_by_minor, GUINT_TO_POINTER(minor)))
		return FALSE;
	if (minor < uppers->us_hint)
		uppers->us_hint = minor;
	return TRUE;
}

guint
us_mux_uppers_count(UsMuxUppers *uppers)
{
	return (guint)g_tree_nnodes(uppers->us_by_minor);
}

typedef struct {
	void (*func)(UsMuxUpper *upper, gpointer data);
	gpointer data;
} UppersWalk;

static gboolean
uppers_walk_one(gpointer key, gpointer value, gpointer data)
{
	(void)key;
	UppersWalk *w = data;
	w->func(value, w->data);
	return FALSE;
}

void
us_mux_uppers_foreach(UsMuxUppers *uppers, void (*func)(UsMuxUpper *upper, gpointer data),
		      gpointer data)
{
	UppersWalk w = { func, data };
	g_tree_foreach(uppers->us_by_minor, uppers_walk_one, &w);
}

queue_t *
us_mux_uppers_any_rq(UsMuxUppers *uppers)
{
	GTreeNode *n = g_tree_node_first(uppers->us_by_minor);
	return n ? ((UsMuxUpper *)g_tree_node_value(n))->mu_rq : NULL;
}

/* ------------------------------------------------------------------ */
/* Demultiplexing by a small integer                                  */
/* ------------------------------------------------------------------ */

typedef struct {
	queue_t *sl_q; /* bound queue, NULL when free */
	gpointer sl_cookie;
} UsMuxSlot;

struct _UsMuxSlots {
	guint ss_nkeys;
	guint ss_count;     /* bound slots */
	UsMuxSlot *ss_slot; /* ss_nkeys entries */
};

UsMuxSlots *
us_mux_slots_new(guint nkeys)
{
	g_return_val_if_fail(nkeys >= 1 && nkeys <= 65536, NULL);
	UsMuxSlots *s = g_new0(UsMuxSlots, 1);
	s->ss_nkeys = nkeys;
	s->ss_slot = g_new0(UsMuxSlot, nkeys);
	return s;
}

void
us_mux_slots_free(UsMuxSlots *slots)
{
	if (slots == NULL)
		return;
	g_free(slots->ss_slot);
	g_free(slots);
}

int
us_mux_slots_add(UsMuxSlots *slots, guint key, queue_t *q, gpointer cookie)
{
	if (key >= slots->ss_nkeys || q == NULL)
		return EINVAL;
	UsMuxSlot *sl = &slots->ss_slot[key];
	if (sl->sl_q != NULL)
		return EADDRINUSE;
	sl->sl_q = q;
	sl->sl_cookie = cookie;
	slots->ss_count++;
	return 0;
}

queue_t *
us_mux_slots_lookup(UsMuxSlots *slots, guint key, gpointer *cookiep)
{
	if (key >= slots->ss_nkeys || slots->ss_slot[key].sl_q == NULL)
		return NULL;
	if (cookiep != NULL)
		*cookiep = slots->ss_slot[key].sl_cookie;
	return slots->ss_slot[key].sl_q;
}

gboolean
us_mux_slots_remove(UsMuxSlots *slots, guint key)
{
	if (key >= slots->ss_nkeys || slots->ss_slot[key].sl_q == NULL)
		return FALSE;
	slots->ss_slot[key] = (UsMuxSlot){ NULL, NULL };
	slots->ss_count--;
	return TRUE;
}

guint
us_mux_slots_remove_queue(UsMuxSlots *slots, queue_t *q)
{
	guint n = 0;
	for (guint k = 0; k < slots->ss_nkeys && slots->ss_count > 0; k++) {
		if (slots->ss_slot[k].sl_q == q) {
			us_mux_slots_remove(slots, k);
			n++;
		}
	}
	return n;
}

guint
us_mux_slots_count(UsMuxSlots *slots)
{
	return slots->ss_count;
}

/* ------------------------------------------------------------------ */
/* Demultiplexing by a tuple                                          */
/* ------------------------------------------------------------------ */

/* The hash table's key: the tuple's hash, computed once, and the tuple. */
typedef struct {
	guint32 tk_hash;
	const UsMuxTuple *tk_tuple;
} TupleKey;

typedef struct {
	TupleKey te_key;     /* te_key.tk_tuple points at te_tuple */
	UsMuxTuple te_tuple; /* the caller's key, copied */
	queue_t *te_q;
	gpointer te_cookie;
} TupleEntry;

struct _UsMuxTuples {
	GHashTable *ts_table; /* TupleKey * -> TupleEntry * (owned) */
	guint32 ts_seed;
};

static inline guint32
rotl32(guint32 x, unsigned r)
{
	return (x << r) | (x >> (32 - r));
}

/* MurmurHash3 x86_32 over the words (Austin Appleby, public domain). */
static guint32
tuple_hash(guint32 seed, const UsMuxTuple *t)
{
	guint32 h = seed;
	for (guint32 i = 0; i < t->t_len; i++) {
		guint32 k = t->t_w[i] * 0xcc9e2d51U;
		k = rotl32(k, 15) * 0x1b873593U;
		h ^= k;
		h = rotl32(h, 13) * 5 + 0xe6546b64U;
	}
	h ^= t->t_len * 4;
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

static guint
tuple_key_hash(gconstpointer p)
{
	return ((const TupleKey *)p)->tk_hash;
}

static gboolean
tuple_key_equal(gconstpointer a, gconstpointer b)
{
	const TupleKey *ka = a, *kb = b;
	const UsMuxTuple *x = ka->tk_tuple, *y = kb->tk_tuple;
	if (ka->tk_hash != kb->tk_hash || x->t_len != y->t_len)
		return FALSE;
	return memcmp(x->t_w, y->t_w, x->t_len * sizeof(guint32)) == 0;
}

static gboolean
tuple_valid(const UsMuxTuple *t)
{
	return t != NULL && t->t_len >= 1 && t->t_len <= US_MUX_TUPLE_MAX;
}

UsMuxTuples *
us_mux_tuples_new(guint32 seed)
{
	UsMuxTuples *t = g_new0(UsMuxTuples, 1);
	t->ts_table = g_hash_table_new_full(tuple_key_hash, tuple_key_equal, NULL, g_free);
	t->ts_seed = seed;
	return t;
}

void
us_mux_tuples_free(UsMuxTuples *tuples)
{
	if (tuples == NULL)
		return;
	g_hash_table_destroy(tuples->ts_table);
	g_free(tuples);
}

int
us_mux_tuples_add(UsMuxTuples *tuples, const UsMuxTuple *key, queue_t *q, gpointer cookie)
{
	if (!tuple_valid(key) || q == NULL)
		return EINVAL;
	TupleKey probe = { tuple_hash(tuples->ts_seed, key), key };
	if (g_hash_table_contains(tuples->ts_table, &probe))
		return EADDRINUSE;
	TupleEntry *e = g_new0(TupleEntry, 1);
	e->te_tuple.t_len = key->t_len;
	memcpy(e->te_tuple.t_w, key->t_w, key->t_len * sizeof(guint32));
	e->te_key = (TupleKey){ probe.tk_hash, &e->te_tuple };
	e->te_q = q;
	e->te_cookie = cookie;
	g_hash_table_insert(tuples->ts_table, &e->te_key, e);
	return 0;
}

queue_t *
us_mux_tuples_lookup(UsMuxTuples *tuples, const UsMuxTuple *key, gpointer *cookiep)
{
	if (!tuple_valid(key))
		return NULL;
	TupleKey probe = { tuple_hash(tuples->ts_seed, key), key };
	TupleEntry *e = g_hash_table_lookup(tuples->ts_table, &probe);
	if (e == NULL)
		return NULL;
	if (cookiep != NULL)
		*cookiep = e->te_cookie;
	return e->te_q;
}

gboolean
us_mux_tuples_remove(UsMuxTuples *tuples, const UsMuxTuple *key)
{
	if (!tuple_valid(key))
		return FALSE;
	TupleKey probe = { tuple_hash(tuples->ts_seed, key), key };
	return g_hash_table_remove(tuples->ts_table, &probe);
}

static gboolean
tuple_entry_is_queue(gpointer key, gpointer value, gpointer q)
{
	(void)key;
	return ((TupleEntry *)value)->te_q == q;
}

guint
us_mux_tuples_remove_queue(UsMuxTuples *tuples, queue_t *q)
{
	return g_hash_table_foreach_remove(tuples->ts_table, tuple_entry_is_queue, q);
}

guint
us_mux_tuples_count(UsMuxTuples *tuples)
{
	return g_hash_table_size(tuples->ts_table);
}

void
us_mux_tuples_foreach(UsMuxTuples *tuples,
		      void (*func)(const UsMuxTuple *key, queue_t *q, gpointer cookie,
				   gpointer data),
		      gpointer data)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, tuples->ts_table);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		TupleEntry *e = value;
		func(&e->te_tuple, e->te_q, e->te_cookie, data);
	}
}
