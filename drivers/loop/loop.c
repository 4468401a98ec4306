/* SPDX-License-Identifier: MIT */
/*
 * loop -- the loop-around driver of the STREAMS Programming Guide: joins two
 * streams so that what is written on one is read on the other.
 *
 * Theory
 * ------
 * Each open is a clone open with a fresh minor.  The LOOP_SET ioctl (loop.h)
 * on one stream names the minor of another open loop stream on the same
 * stack; from then on data written down either stream is sent up the other.
 *
 * Messages consumed on the write side: M_DATA, M_PROTO, M_PCPROTO (crossed
 * over), M_FLUSH (canonical driver handling on this side), M_IOCTL (LOOP_SET,
 * others NAKed).  Writing before the streams are joined sends M_ERROR ENXIO
 * up, as the Programming Guide's driver does.  When one side closes, the
 * other receives M_HANGUP.
 *
 * Flow control crosses the join: the write service procedure forwards while
 * canputnext() on the partner's read side allows and stops with putbq()
 * otherwise; when the partner's reader drains, back-enabling reaches the
 * partner's read service procedure (the nearest one below the reader), which
 * enables our write side again.
 *
 * Deviations: the minor table is per stack (stacks are isolated).
 */
#define G_LOG_DOMAIN "us-loop"

#include "loop.h"

#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <errno.h>
#include <glib.h>

/* Per-open state (q_ptr of both queues). */
typedef struct LoopState {
	guint minor;             /* our minor number */
	queue_t *rq;             /* our read queue */
	struct LoopState *other; /* the joined stream, or NULL */
	guint64 msgs;            /* messages crossed to the other side */
	guint64 bytes;           /* data bytes crossed */
} LoopState;

/* Per-stack table: minor -> LoopState. */
typedef struct {
	GHashTable *minors;
	guint next_minor;
} LoopTable;

static void
loop_table_free(gpointer p)
{
	LoopTable *t = p;
	g_hash_table_destroy(t->minors);
	g_free(t);
}

static LoopTable *
loop_table(queue_t *q)
{
	UsStack *s = us_queue_stack(q);
	LoopTable *t = us_stack_get_data(s, "loop");
	if (t == NULL) {
		t = g_new0(LoopTable, 1);
		t->minors = g_hash_table_new(g_direct_hash, g_direct_equal);
		t->next_minor = 1;
		us_stack_set_data(s, "loop", t, loop_table_free);
	}
	return t;
}

static int
loop_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)oflag;
	(void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO; /* only clone opens: minors are handed out here */
	LoopTable *t = loop_table(rq);
	LoopState *ls = g_new0(LoopState, 1);
	ls->minor = t->next_minor++;
	ls->rq = rq;
	g_hash_table_insert(t->minors, GUINT_TO_POINTER(ls->minor), ls);
	rq->q_ptr = WR(rq)->q_ptr = ls;
	*devp = makedevice(getmajor(*devp), ls->minor);
	return 0;
}

enum { LOOP_DROP_PEER_CLOSED };
static const char *const loop_drop_reasons[] = { "other stream closed", NULL };

/* Frees what waits to cross to a stream that went away, counting it. */
static void
loop_drop_waiting(queue_t *wq)
{
	mblk_t *mp;
	while ((mp = getq(wq)) != NULL)
		us_drop(wq, mp, LOOP_DROP_PEER_CLOSED);
}

static int
loop_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	LoopState *ls = rq->q_ptr;
	if (ls->other != NULL) {
		LoopState *peer = ls->other;
		putnextctl(peer->rq, M_HANGUP);
		peer->other = NULL;
		loop_drop_waiting(WR(peer->rq));
	}
	g_hash_table_remove(loop_table(rq)->minors, GUINT_TO_POINTER(ls->minor));
	g_free(ls);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

static int
loop_set(queue_t *wq, mblk_t *mp)
{
	LoopState *ls = wq->q_ptr;
	if (mp->b_cont == NULL || MBLKL(mp->b_cont) < sizeof(int))
		return EINVAL;
	int minor;
	us_msgcopyout(mp->b_cont, 0, &minor, sizeof minor);
	LoopState *peer = g_hash_table_lookup(loop_table(wq)->minors, GINT_TO_POINTER(minor));
	if (peer == NULL)
		return ENXIO;
	if (peer == ls || ls->other != NULL || peer->other != NULL)
		return EBUSY;
	ls->other = peer;
	peer->other = ls;
	return 0;
}

static void
loop_ioctl(queue_t *wq, mblk_t *mp)
{
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	if (ioc->ioc_cmd != LOOP_SET || ioc->ioc_count == TRANSPARENT) {
		miocnak(wq, mp, 0, EINVAL);
		return;
	}
	int err = loop_set(wq, mp);
	if (err != 0)
		miocnak(wq, mp, 0, err);
	else
		miocack(wq, mp, 0, 0);
}

static void
loop_cross(LoopState *ls, mblk_t *mp)
{
	ls->msgs++;
	ls->bytes += msgdsize(mp);
	putnext(ls->other->rq, mp);
}

/* Write put: cross data over now when nothing waits and there is room. */
static int
loop_wput(queue_t *wq, mblk_t *mp)
{
	LoopState *ls = wq->q_ptr;
	switch (DB_TYPE(mp)) {
	case M_DATA:
	case M_PROTO:
	case M_PCPROTO:
		if (ls->other == NULL) {
			freemsg(mp);
			putnextctl1(RD(wq), M_ERROR, ENXIO);
		} else if (DB_TYPE(mp) == M_PCPROTO ||
			   (wq->q_first == NULL && canputnext(ls->other->rq))) {
			loop_cross(ls, mp);
		} else {
			putq(wq, mp);
		}
		break;
	case M_IOCTL: loop_ioctl(wq, mp); break;
	default: us_default_put(wq, mp); break;
	}
	return 0;
}

/* Write service: cross over while the other reader has room. */
static int
loop_wsrv(queue_t *wq)
{
	LoopState *ls = wq->q_ptr;
	mblk_t *mp;
	while ((mp = getq(wq)) != NULL) {
		if (ls->other == NULL) {
			us_drop(wq, mp, LOOP_DROP_PEER_CLOSED);
			continue;
		}
		if (!canputnext(ls->other->rq)) {
			putbq(wq, mp);
			return 0;
		}
		loop_cross(ls, mp);
	}
	return 0;
}

/* Read service: our reader drained; the writer on the other side may go on. */
static int
loop_rsrv(queue_t *rq)
{
	LoopState *ls = rq->q_ptr;
	if (ls->other != NULL)
		qenable(WR(ls->other->rq));
	return 0;
}

static struct module_info loop_minfo = {
	.mi_idnum = 1003,
	.mi_idname = "loop",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit loop_rinit = {
	.qi_putp = us_putnext_put,
	.qi_srvp = loop_rsrv,
	.qi_qopen = loop_open,
	.qi_qclose = loop_close,
	.qi_minfo = &loop_minfo,
};
static struct qinit loop_winit = {
	.qi_putp = loop_wput,
	.qi_srvp = loop_wsrv,
	.qi_minfo = &loop_minfo,
};
static struct streamtab loop_info = { .st_rdinit = &loop_rinit, .st_wrinit = &loop_winit };

static const UsStatDesc loop_stats[] = {
	US_STAT("msgs", "messages crossed to the other stream", LoopState, msgs),
	US_STAT("bytes", "data bytes crossed", LoopState, bytes),
	{ 0 },
};
static const char *const loop_accepts[] = {
	"M_DATA", "M_PROTO", "M_PCPROTO", "M_FLUSH", "M_IOCTL (LOOP_SET)", NULL
};

const UsModuleDesc us_loop_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "loop",
	.summary = "loop-around driver: joins two streams (LOOP_SET)",
	.kind = US_KIND_DRIVER,
	.streamtab = &loop_info,
	.mt_flags = US_MT_PERSTACK,
	.stats = loop_stats,
	.drop_reasons = loop_drop_reasons,
	.accepts = loop_accepts,
};
