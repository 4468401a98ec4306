/* SPDX-License-Identifier: MIT */
/*
 * pass -- a pass-through module with a service procedure and settable water
 * marks: the reference module for tests and benchmarks of the engine.
 *
 * Theory
 * ------
 * Every message passes through unchanged in both directions.  How ordinary
 * messages pass depends on the "mode" parameter (pass.h):
 *   direct (0)  putnext at once when this queue is empty and canputnext();
 *               otherwise putq, and the service procedure forwards later;
 *   queue  (1)  always putq; the service procedure forwards (one scheduling
 *               hop per message: the putq/service path);
 *   put    (2)  always putnext at once, as a put-only module would.
 * The service procedure forwards while canputnext() allows and stops with
 * putbq() otherwise, so back-pressure propagates hop by hop.  High-priority
 * messages are never queued; M_FLUSH gets the canonical module handling.
 *
 * Parameters: hiwat, lowat (both queues of this instance), mode.
 * Statistics: msgs/bytes down and up, queued (messages that went via putq).
 *
 * Deviations: none.
 */
#define G_LOG_DOMAIN "us-pass"

#include "pass.h"

#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <errno.h>
#include <glib.h>

/* Per-instance state (q_ptr of both queues). */
typedef struct {
	guint64 hiwat;      /* parameter: high water mark of both queues */
	guint64 lowat;      /* parameter: low water mark of both queues */
	guint64 mode;       /* parameter: PASS_MODE_* */
	guint64 msgs_down;  /* messages passed down */
	guint64 bytes_down; /* data bytes passed down */
	guint64 msgs_up;    /* messages passed up */
	guint64 bytes_up;   /* data bytes passed up */
	guint64 queued;     /* messages that waited on a queue */
} PassState;

static struct module_info pass_minfo = {
	.mi_idnum = 1004,
	.mi_idname = "pass",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};

static int
pass_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp;
	(void)oflag;
	(void)crp;
	if (sflag != MODOPEN)
		return ENXIO;
	PassState *ps = g_new0(PassState, 1);
	ps->hiwat = rq->q_hiwat;
	ps->lowat = rq->q_lowat;
	ps->mode = PASS_MODE_DIRECT;
	rq->q_ptr = WR(rq)->q_ptr = ps;
	qprocson(rq);
	return 0;
}

static int
pass_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	qprocsoff(rq);
	g_free(rq->q_ptr);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

static void
pass_count(queue_t *q, mblk_t *mp)
{
	PassState *ps = q->q_ptr;
	/* One-block M_DATA is the common case: no walk. */
	size_t bytes = mp->b_cont == NULL ? (DB_TYPE(mp) == M_DATA ? MBLKL(mp) : 0) : msgdsize(mp);
	if (q->q_flag & QREADR) {
		ps->msgs_up++;
		ps->bytes_up += bytes;
	} else {
		ps->msgs_down++;
		ps->bytes_down += bytes;
	}
}

/* Put (both sides): forward, or queue when asked to or held back. */
static int
pass_put(queue_t *q, mblk_t *mp)
{
	PassState *ps = q->q_ptr;
	unsigned char type = DB_TYPE(mp);
	if (G_UNLIKELY(type == M_FLUSH)) {
		us_default_flush(q, mp);
		return 0;
	}
	if (ps->mode == PASS_MODE_PUT || type >= QPCTL ||
	    (ps->mode == PASS_MODE_DIRECT && q->q_first == NULL && canputnext(q))) {
		pass_count(q, mp);
		putnext(q, mp);
		return 0;
	}
	ps->queued++;
	putq(q, mp);
	return 0;
}

/* Service (both sides): forward while the next queue has room. */
static int
pass_srv(queue_t *q)
{
	mblk_t *mp;
	while ((mp = getq(q)) != NULL) {
		if (!bcanputnext(q, mp->b_band)) {
			putbq(q, mp);
			return 0;
		}
		pass_count(q, mp);
		putnext(q, mp);
	}
	return 0;
}

/* Applies new water marks to both queues (may back-enable). */
static gboolean
pass_set_marks(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	PassState *ps = rq->q_ptr;
	if (ps->lowat > ps->hiwat) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "lowat %" G_GUINT64_FORMAT " is above hiwat %" G_GUINT64_FORMAT,
			    ps->lowat, ps->hiwat);
		return FALSE;
	}
	for (queue_t *q = rq; q != NULL; q = (q == rq ? WR(rq) : NULL)) {
		strqset(q, QHIWAT, 0, (intptr_t)ps->hiwat);
		strqset(q, QLOWAT, 0, (intptr_t)ps->lowat);
	}
	return TRUE;
}

static struct qinit pass_rinit = {
	.qi_putp = pass_put,
	.qi_srvp = pass_srv,
	.qi_qopen = pass_open,
	.qi_qclose = pass_close,
	.qi_minfo = &pass_minfo,
};
static struct qinit pass_winit = { .qi_putp = pass_put,
				   .qi_srvp = pass_srv,
				   .qi_minfo = &pass_minfo };
static struct streamtab pass_info = { .st_rdinit = &pass_rinit, .st_wrinit = &pass_winit };

static const UsParamDesc pass_params[] = {
	{ .name = "hiwat",
	  .description = "high water mark of both queues (bytes)",
	  .type = US_PARAM_UINT,
	  .offset = G_STRUCT_OFFSET(PassState, hiwat),
	  .min = 0,
	  .max = G_MAXINT32,
	  .on_set = pass_set_marks },
	{ .name = "lowat",
	  .description = "low water mark of both queues (bytes)",
	  .type = US_PARAM_UINT,
	  .offset = G_STRUCT_OFFSET(PassState, lowat),
	  .min = 0,
	  .max = G_MAXINT32,
	  .on_set = pass_set_marks },
	{ .name = "mode",
	  .description = "0 direct, 1 always queue, 2 always putnext",
	  .type = US_PARAM_UINT,
	  .offset = G_STRUCT_OFFSET(PassState, mode),
	  .min = 0,
	  .max = 2 },
	{ 0 },
};
static const UsStatDesc pass_stats[] = {
	US_STAT("msgs_down", "messages passed down", PassState, msgs_down),
	US_STAT("bytes_down", "data bytes passed down", PassState, bytes_down),
	US_STAT("msgs_up", "messages passed up", PassState, msgs_up),
	US_STAT("bytes_up", "data bytes passed up", PassState, bytes_up),
	US_STAT("queued", "messages that waited on a queue", PassState, queued),
	{ 0 },
};
static const char *const pass_accepts[] = { "all (passed through)", NULL };

const UsModuleDesc us_pass_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "pass",
	.summary = "pass-through module with a service procedure and settable water marks",
	.kind = US_KIND_MODULE,
	.streamtab = &pass_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = pass_params,
	.stats = pass_stats,
	.accepts = pass_accepts,
};
