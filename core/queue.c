/* SPDX-License-Identifier: MIT */
/*
 * queue.c -- message queues, priority bands and flow control.
 *
 * Theory
 * ------
 * Order on a queue: high-priority messages (db_type >= QPCTL) first, in
 * arrival order; then banded messages, band 255 down to band 1; then ordinary
 * band-0 messages.  Band 0 and high-priority bytes are counted in q_count,
 * band n > 0 bytes in that band's qb_count.  A byte count is the sum of
 * MBLKL over every block of the message.
 *
 * Flow control (SVR4/illumos rules, ARCHITECTURE.md section 2):
 *  - QFULL is set when q_count >= q_hiwat and cleared when it drops below;
 *    QB_FULL likewise per band.
 *  - canput(q) looks at q->q_nfsrv, the first queue at or after q that has a
 *    service procedure (or the end of the stream); if it is full, QWANTW is
 *    set there and the answer is 0.  bcanput() does the same per band.
 *  - When a queue that has QWANTW (QB_WANTW) drains to its low water mark
 *    or below, the flag is cleared and q->q_nbsrv, the nearest queue behind
 *    it with a service procedure, is back-enabled.
 *  - putq() enables the service procedure for a high-priority message even
 *    under noenable(); otherwise only when enabling is allowed and either
 *    QWANTR is set (the last getq found the queue empty) or the message is
 *    banded.  getq() clears QWANTR when it returns a message, so a service
 *    procedure that stopped with putbq() is woken by back-enabling only.
 *
 * Deviations: none intended.  q_nfsrv/q_nbsrv are maintained by the plumbing
 * code (us_stream_rewire), as illumos does, and skip queues under qprocsoff.
 */
#define G_LOG_DOMAIN "us-queue"

#include "internal.h"

#include <errno.h>
#include <string.h>

static inline gboolean
is_pri(const mblk_t *mp)
{
	return DB_TYPE(mp) >= QPCTL;
}

/* Band of a message for ordering: high priority above every band. */
static inline guint
order_key(const mblk_t *mp)
{
	return is_pri(mp) ? 256U : mp->b_band;
}

static void
msg_measure(const mblk_t *mp, size_t *bytes, size_t *blocks)
{
	size_t b = 0, n = 0;
	for (; mp != NULL; mp = mp->b_cont) {
		b += MBLKL(mp);
		n++;
	}
	*bytes = b;
	*blocks = n;
}

/* Returns band's qband, creating bands up to it when create is set. */
static qband_t *
get_band(queue_t *q, unsigned char band, gboolean create)
{
	g_assert(band > 0);
	if (band > q->q_nband) {
		if (!create)
			return NULL;
		qband_t **pp = &q->q_bandp;
		while (*pp)
			pp = &(*pp)->qb_next;
		for (guint b = q->q_nband + 1; b <= band; b++) {
			qband_t *qb = g_new0(qband_t, 1);
			qb->qb_hiwat = q->q_hiwat;
			qb->qb_lowat = q->q_lowat;
			*pp = qb;
			pp = &qb->qb_next;
		}
		q->q_nband = band;
	}
	qband_t *qb = q->q_bandp;
	for (guint b = 1; b < band; b++)
		qb = qb->qb_next;
	return qb;
}

void
us__queue_free_bands(queue_t *q)
{
	while (q->q_bandp) {
		qband_t *qb = q->q_bandp;
		q->q_bandp = qb->qb_next;
		g_free(qb);
	}
	q->q_nband = 0;
}

/* ------------------------------------------------------------------ */
/* Linking messages in and out, with accounting                       */
/* ------------------------------------------------------------------ */

static void
account_add(queue_t *q, mblk_t *mp)
{
	size_t bytes, blocks;
	msg_measure(mp, &bytes, &blocks);
	q->q_nmsgs++;
	if (mp->b_band == 0 || is_pri(mp)) {
		q->q_count += bytes;
		q->q_mblkcnt += blocks;
		if (q->q_count >= q->q_hiwat)
			q->q_flag |= QFULL;
		return;
	}
	qband_t *qb = get_band(q, mp->b_band, TRUE);
	qb->qb_count += bytes;
	qb->qb_mblkcnt += blocks;
	if (qb->qb_count >= qb->qb_hiwat)
		qb->qb_flag |= QB_FULL;
	if (qb->qb_first == NULL || mp->b_next == qb->qb_first)
		qb->qb_first = mp;
	if (qb->qb_last == NULL || mp->b_prev == qb->qb_last)
		qb->qb_last = mp;
}

/* Updates counts and flags after mp left q; returns the band that may need
 * a back-enable (0 for band 0), or -1 for none. */
static int
account_remove(queue_t *q, mblk_t *mp, mblk_t *oldprev, mblk_t *oldnext)
{
	size_t bytes, blocks;
	msg_measure(mp, &bytes, &blocks);
	q->q_nmsgs--;
	if (mp->b_band == 0 || is_pri(mp)) {
		q->q_count -= MIN(bytes, q->q_count);
		q->q_mblkcnt -= MIN(blocks, q->q_mblkcnt);
		if (q->q_count < q->q_hiwat)
			q->q_flag &= ~QFULL;
		if ((q->q_flag & QWANTW) && q->q_count <= q->q_lowat)
			return 0;
		return -1;
	}
	qband_t *qb = get_band(q, mp->b_band, FALSE);
	g_assert(qb != NULL);
	qb->qb_count -= MIN(bytes, qb->qb_count);
	qb->qb_mblkcnt -= MIN(blocks, qb->qb_mblkcnt);
	gboolean next_same = oldnext && !is_pri(oldnext) && oldnext->b_band == mp->b_band;
	gboolean prev_same = oldprev && !is_pri(oldprev) && oldprev->b_band == mp->b_band;
	if (qb->qb_first == mp)
		qb->qb_first = next_same ? oldnext : NULL;
	if (qb->qb_last == mp)
		qb->qb_last = prev_same ? oldprev : NULL;
	if (qb->qb_count < qb->qb_hiwat)
		qb->qb_flag &= ~QB_FULL;
	if ((qb->qb_flag & QB_WANTW) && qb->qb_count <= qb->qb_lowat)
		return mp->b_band;
	return -1;
}

/* Links mp in before emp (NULL: at the tail). */
static void
link_before(queue_t *q, mblk_t *emp, mblk_t *mp)
{
	mblk_t *prev = emp ? emp->b_prev : q->q_last;
	mp->b_next = emp;
	mp->b_prev = prev;
	if (prev)
		prev->b_next = mp;
	else
		q->q_first = mp;
	if (emp)
		emp->b_prev = mp;
	else
		q->q_last = mp;
	mp->b_queued = 1;
	account_add(q, mp);
}

static int
unlink_msg(queue_t *q, mblk_t *mp)
{
	mblk_t *prev = mp->b_prev, *next = mp->b_next;
	if (prev)
		prev->b_next = next;
	else
		q->q_first = next;
	if (next)
		next->b_prev = prev;
	else
		q->q_last = prev;
	mp->b_next = mp->b_prev = NULL;
	mp->b_queued = 0;
	return account_remove(q, mp, prev, next);
}

/* Nearest upstream service procedure gets enabled (flow control relief). */
static void
backenable(queue_t *q, int band)
{
	if (band < 0)
		return;
	if (band == 0)
		q->q_flag &= ~QWANTW;
	else
		get_band(q, (unsigned char)band, FALSE)->qb_flag &= ~QB_WANTW;
	queue_t *bq = q->q_nbsrv;
	if (bq == NULL)
		return;
	bq->q_flag |= QBACK;
	qenable(bq);
}

/* First message mp must go before, so the queue stays ordered; inserting at
 * the front of its class (putbq) or at the back (putq). */
static mblk_t *
insertion_point(queue_t *q, mblk_t *mp, gboolean front)
{
	guint key = order_key(mp);
	if (!front && key == 0)
		return NULL; /* ordinary message: at the tail */
	if (!front && key < 256) {
		qband_t *qb = get_band(q, mp->b_band, FALSE);
		if (qb != NULL && qb->qb_last != NULL)
			return qb->qb_last->b_next;
	}
	mblk_t *emp = q->q_first;
	if (front) {
		while (emp && order_key(emp) > key)
			emp = emp->b_next;
	} else {
		while (emp && order_key(emp) >= key)
			emp = emp->b_next;
	}
	return emp;
}

static gboolean
can_enable(queue_t *q)
{
	return (q->q_flag & QNOENB) == 0;
}

int
putq(queue_t *q, mblk_t *mp)
{
	g_return_val_if_fail(q != NULL && mp != NULL, 0);
	if (mp->b_band > 0 && !is_pri(mp) && get_band(q, mp->b_band, TRUE) == NULL)
		return 0;
	link_before(q, insertion_point(q, mp, FALSE), mp);
	if (is_pri(mp))
		qenable(q);
	else if (can_enable(q) && ((q->q_flag & QWANTR) || mp->b_band > 0))
		qenable(q);
	return 1;
}

int
putbq(queue_t *q, mblk_t *mp)
{
	g_return_val_if_fail(q != NULL && mp != NULL, 0);
	if (mp->b_band > 0 && !is_pri(mp) && get_band(q, mp->b_band, TRUE) == NULL)
		return 0;
	link_before(q, insertion_point(q, mp, TRUE), mp);
	if (is_pri(mp) || (can_enable(q) && (q->q_flag & QWANTR)))
		qenable(q);
	return 1;
}

mblk_t *
getq(queue_t *q)
{
	mblk_t *mp = q->q_first;
	if (mp == NULL) {
		q->q_flag |= QWANTR;
		/* An empty queue is at or below any low water mark. */
		if (q->q_flag & QWANTW)
			backenable(q, 0);
		return NULL;
	}
	q->q_flag &= ~QWANTR;
	backenable(q, unlink_msg(q, mp));
	return mp;
}

void
rmvq(queue_t *q, mblk_t *mp)
{
	g_return_if_fail(mp->b_queued);
	backenable(q, unlink_msg(q, mp));
}

int
insq(queue_t *q, mblk_t *emp, mblk_t *mp)
{
	mblk_t *prev = emp ? emp->b_prev : q->q_last;
	if ((prev && order_key(prev) < order_key(mp)) || (emp && order_key(mp) < order_key(emp)))
		return 0;
	if (mp->b_band > 0 && !is_pri(mp))
		get_band(q, mp->b_band, TRUE);
	link_before(q, emp, mp);
	if (is_pri(mp) || (can_enable(q) && (q->q_flag & QWANTR)))
		qenable(q);
	return 1;
}

/* Removes messages matching keep() == FALSE; then relieves flow control. */
static void
flush_matching(queue_t *q, gboolean (*match)(mblk_t *, gpointer), gpointer data)
{
	gboolean want0 = FALSE;
	guint64 want_bands[4] = { 0 };
	mblk_t *mp = q->q_first;
	while (mp != NULL) {
		mblk_t *next = mp->b_next;
		if (match(mp, data)) {
			int b = unlink_msg(q, mp);
			if (b == 0)
				want0 = TRUE;
			else if (b > 0)
				want_bands[b / 64] |= G_GUINT64_CONSTANT(1) << (b % 64);
			freemsg(mp);
		}
		mp = next;
	}
	if (want0)
		backenable(q, 0);
	for (int b = 1; b < 256; b++)
		if (want_bands[b / 64] & (G_GUINT64_CONSTANT(1) << (b % 64)))
			backenable(q, b);
}

static gboolean
match_flushq(mblk_t *mp, gpointer data)
{
	return GPOINTER_TO_INT(data) == FLUSHALL || datamsg(DB_TYPE(mp));
}

void
flushq(queue_t *q, int flag)
{
	flush_matching(q, match_flushq, GINT_TO_POINTER(flag));
}

typedef struct {
	unsigned char band;
	int flag;
} FlushBand;

static gboolean
match_flushband(mblk_t *mp, gpointer data)
{
	FlushBand *fb = data;
	if (is_pri(mp) || mp->b_band != fb->band)
		return FALSE;
	return fb->flag == FLUSHALL || datamsg(DB_TYPE(mp));
}

void
flushband(queue_t *q, unsigned char pri, int flag)
{
	if (pri > q->q_nband)
		return;
	FlushBand fb = { pri, flag };
	flush_matching(q, match_flushband, &fb);
}

/* ------------------------------------------------------------------ */
/* canput and friends                                                 */
/* ------------------------------------------------------------------ */

static queue_t *
next_srv(queue_t *q)
{
	return q->q_nfsrv != NULL ? q->q_nfsrv : q;
}

int
canput(queue_t *q)
{
	if (q == NULL)
		return 1;
	queue_t *sq = next_srv(q);
	if (sq->q_flag & QFULL) {
		sq->q_flag |= QWANTW;
		return 0;
	}
	return 1;
}

int
canputnext(queue_t *q)
{
	return canput(q->q_next);
}

int
bcanput(queue_t *q, unsigned char pri)
{
	if (pri == 0)
		return canput(q);
	if (q == NULL)
		return 1;
	queue_t *sq = next_srv(q);
	qband_t *qb = get_band(sq, pri, FALSE);
	if (qb != NULL && (qb->qb_flag & QB_FULL)) {
		qb->qb_flag |= QB_WANTW;
		return 0;
	}
	return 1;
}

int
bcanputnext(queue_t *q, unsigned char pri)
{
	return bcanput(q->q_next, pri);
}

void
noenable(queue_t *q)
{
	q->q_flag |= QNOENB;
}

void
enableok(queue_t *q)
{
	q->q_flag &= ~QNOENB;
}

int
qsize(queue_t *q)
{
	return (int)q->q_nmsgs;
}

queue_t *
backq(queue_t *q)
{
	queue_t *o = OTHERQ(q)->q_next;
	if (o == NULL || ((o->q_flag ^ OTHERQ(q)->q_flag) & QREADR))
		return NULL;
	queue_t *cand = OTHERQ(o);
	return cand->q_next == q ? cand : NULL;
}

/* ------------------------------------------------------------------ */
/* Control messages                                                   */
/* ------------------------------------------------------------------ */

static mblk_t *
ctl_msg(int type, int param, gboolean one)
{
	if (datamsg(type))
		return NULL;
	mblk_t *mp = allocb(one ? 1 : 0, BPRI_HI);
	if (mp == NULL)
		return NULL;
	DB_TYPE(mp) = (unsigned char)type;
	if (one)
		*mp->b_wptr++ = (unsigned char)param;
	return mp;
}

int
putctl(queue_t *q, int type)
{
	mblk_t *mp = ctl_msg(type, 0, FALSE);
	return mp ? put(q, mp) : 0;
}

int
putctl1(queue_t *q, int type, int param)
{
	mblk_t *mp = ctl_msg(type, param, TRUE);
	return mp ? put(q, mp) : 0;
}

int
putnextctl(queue_t *q, int type)
{
	mblk_t *mp = ctl_msg(type, 0, FALSE);
	return mp ? putnext(q, mp) : 0;
}

int
putnextctl1(queue_t *q, int type, int param)
{
	mblk_t *mp = ctl_msg(type, param, TRUE);
	return mp ? putnext(q, mp) : 0;
}

/* ------------------------------------------------------------------ */
/* strqget / strqset / setq                                           */
/* ------------------------------------------------------------------ */

static int
strqget_band(qband_t *qb, qfields_t what, intptr_t *valp)
{
	switch (what) {
	case QHIWAT: *valp = (intptr_t)qb->qb_hiwat; return 0;
	case QLOWAT: *valp = (intptr_t)qb->qb_lowat; return 0;
	case QCOUNT: *valp = (intptr_t)qb->qb_count; return 0;
	case QFIRST: *valp = (intptr_t)qb->qb_first; return 0;
	case QLAST: *valp = (intptr_t)qb->qb_last; return 0;
	case QFLAG: *valp = (intptr_t)qb->qb_flag; return 0;
	default: return EINVAL;
	}
}

int
strqget(queue_t *q, qfields_t what, unsigned char pri, intptr_t *valp)
{
	if (pri > 0) {
		qband_t *qb = get_band(q, pri, TRUE);
		return qb ? strqget_band(qb, what, valp) : EINVAL;
	}
	switch (what) {
	case QHIWAT: *valp = (intptr_t)q->q_hiwat; return 0;
	case QLOWAT: *valp = (intptr_t)q->q_lowat; return 0;
	case QMAXPSZ: *valp = (intptr_t)q->q_maxpsz; return 0;
	case QMINPSZ: *valp = (intptr_t)q->q_minpsz; return 0;
	case QCOUNT: *valp = (intptr_t)q->q_count; return 0;
	case QFIRST: *valp = (intptr_t)q->q_first; return 0;
	case QLAST: *valp = (intptr_t)q->q_last; return 0;
	case QFLAG: *valp = (intptr_t)q->q_flag; return 0;
	default: return EINVAL;
	}
}

/* Re-evaluates QFULL after a water mark changed; may back-enable. */
static void
recheck_full(queue_t *q)
{
	if (q->q_count >= q->q_hiwat)
		q->q_flag |= QFULL;
	else
		q->q_flag &= ~QFULL;
	if ((q->q_flag & QWANTW) && q->q_count <= q->q_lowat)
		backenable(q, 0);
}

static void
recheck_band(queue_t *q, unsigned char pri, qband_t *qb)
{
	if (qb->qb_count >= qb->qb_hiwat)
		qb->qb_flag |= QB_FULL;
	else
		qb->qb_flag &= ~QB_FULL;
	if ((qb->qb_flag & QB_WANTW) && qb->qb_count <= qb->qb_lowat)
		backenable(q, pri);
}

int
strqset(queue_t *q, qfields_t what, unsigned char pri, intptr_t val)
{
	if (what == QCOUNT || what == QFIRST || what == QLAST || what == QFLAG)
		return EPERM;
	if (val < 0 && what != QMAXPSZ)
		return EINVAL;
	if (pri > 0) {
		qband_t *qb = get_band(q, pri, TRUE);
		if (what == QHIWAT)
			qb->qb_hiwat = (size_t)val;
		else if (what == QLOWAT)
			qb->qb_lowat = (size_t)val;
		else
			return EINVAL;
		recheck_band(q, pri, qb);
		return 0;
	}
	switch (what) {
	case QHIWAT: q->q_hiwat = (size_t)val; break;
	case QLOWAT: q->q_lowat = (size_t)val; break;
	case QMAXPSZ: q->q_maxpsz = (ssize_t)val; return 0;
	case QMINPSZ: q->q_minpsz = (ssize_t)val; return 0;
	default: return EINVAL;
	}
	recheck_full(q);
	return 0;
}

static void
apply_minfo(queue_t *q, struct qinit *qi)
{
	q->q_qinfo = qi;
	struct module_info *mi = qi->qi_minfo;
	if (mi == NULL)
		return;
	q->q_hiwat = mi->mi_hiwat;
	q->q_lowat = mi->mi_lowat;
	q->q_minpsz = mi->mi_minpsz;
	q->q_maxpsz = mi->mi_maxpsz;
}

void
setq(queue_t *rq, struct qinit *rinit, struct qinit *winit)
{
	apply_minfo(rq, rinit);
	apply_minfo(WR(rq), winit);
	if (rq->q_stream != NULL)
		us_stream_rewire(rq->q_stream);
}

/* ------------------------------------------------------------------ */
/* Framework defaults                                                 */
/* ------------------------------------------------------------------ */

static void
flush_one(queue_t *q, const mblk_t *mp)
{
	if ((mp->b_rptr[0] & FLUSHBAND) && MBLKL(mp) >= 2)
		flushband(q, mp->b_rptr[1], FLUSHDATA);
	else
		flushq(q, FLUSHDATA);
}

void
us_default_flush(queue_t *q, mblk_t *mp)
{
	if (MBLKL(mp) < 1) {
		us_drop(q, mp, US_DROP_UNHANDLED); /* an M_FLUSH without its flags byte */
		return;
	}
	unsigned char how = mp->b_rptr[0];
	gboolean reader = (q->q_flag & QREADR) != 0;
	if (how & (reader ? FLUSHR : FLUSHW))
		flush_one(q, mp);
	if (how & (reader ? FLUSHW : FLUSHR))
		flush_one(OTHERQ(q), mp);
	if (q->q_next != NULL) {
		putnext(q, mp);
		return;
	}
	/* A driver (write side end) turns the read half around. */
	if (!reader && (how & FLUSHR)) {
		if (DB_REF(mp) > 1) {
			/* Shared: write the changed flags into a copy. */
			mblk_t *copy = copymsg(mp);
			freemsg(mp);
			if (copy == NULL)
				return;
			mp = copy;
		}
		mp->b_rptr[0] &= ~FLUSHW;
		qreply(q, mp);
		return;
	}
	freemsg(mp);
}

void
us_default_put(queue_t *q, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_FLUSH: us_default_flush(q, mp); return;
	case M_IOCTL:
		if (q->q_next == NULL && !(q->q_flag & QREADR)) {
			miocnak(q, mp, 0, EINVAL);
			return;
		}
		break;
	default: break;
	}
	if (q->q_next != NULL)
		putnext(q, mp);
	else
		us_drop(q, mp, US_DROP_UNHANDLED);
}

int
us_putnext_put(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return 0;
}

/* ------------------------------------------------------------------ */
/* strsun.h reply helpers                                             */
/* ------------------------------------------------------------------ */

static void
ioc_reply(queue_t *wq, mblk_t *mp, unsigned char type, int count, int rval, int error)
{
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	DB_TYPE(mp) = type;
	ioc->ioc_count = (size_t)MAX(count, 0);
	ioc->ioc_rval = rval;
	ioc->ioc_error = error;
	qreply(wq, mp);
}

void
miocack(queue_t *wq, mblk_t *mp, int count, int rval)
{
	ioc_reply(wq, mp, M_IOCACK, count, rval, 0);
}

void
miocnak(queue_t *wq, mblk_t *mp, int count, int error)
{
	ioc_reply(wq, mp, M_IOCNAK, count, 0, error ? error : EINVAL);
}

void
merror(queue_t *wq, mblk_t *mp, int error)
{
	mp = mexchange(wq, mp, 1, M_ERROR, -1);
	if (mp == NULL)
		return;
	mp->b_rptr[0] = (unsigned char)error;
	qreply(wq, mp);
}

mblk_t *
mexchange(queue_t *wq, mblk_t *mp, size_t size, unsigned char type, int32_t primtype)
{
	(void)wq;
	if (mp == NULL || DB_REF(mp) != 1 || MBLKSIZE(mp) < size) {
		freemsg(mp);
		mp = allocb(size, BPRI_HI);
		if (mp == NULL)
			return NULL;
	} else {
		freemsg(mp->b_cont);
		mp->b_cont = NULL;
	}
	DB_TYPE(mp) = type;
	mp->b_rptr = DB_BASE(mp);
	mp->b_wptr = mp->b_rptr + size;
	if (primtype >= 0 && size >= sizeof(int32_t))
		memcpy(mp->b_rptr, &primtype, sizeof(int32_t));
	return mp;
}
