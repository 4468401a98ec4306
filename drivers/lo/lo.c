/* SPDX-License-Identifier: MIT */
/*
 * lo -- a loopback interface driver: every frame written down comes back up
 * the same stream.
 *
 * Theory
 * ------
 * Each open is a clone open with its own state and statistics (lo.h).
 *
 * Messages consumed on the write side: M_DATA (looped back), M_FLUSH
 * (canonical driver handling: the write queue is flushed, FLUSHR turned
 * around), M_IOCTL (NAKed: lo has none); anything else is dropped as
 * unhandled.  Produced on the read side: M_DATA only.
 *
 * Never recursive: the write put procedure only queues the frame and enables
 * the write service procedure, so a frame comes back up after the write that
 * sent it has returned -- a protocol sending to itself never re-enters its
 * own put procedure from inside it.  The service procedure runs from the
 * world's run list at the same world time (in virtual time, no time passes).
 *
 * Flow control, as in echo: the write service procedure sends frames up
 * while canputnext() on the read side allows and puts the rest back; the read
 * side's service procedure is back-enabled when the reader drains and
 * re-enables the write side.  The write queue's water marks stop the writer
 * above in turn, so nothing is dropped for flow control.
 *
 * Deviations: frames are not checked to be Ethernet, nor addressed to
 * anyone in particular; ether above filters.  Frames longer than mtu + 14
 * are dropped and counted rather than refused with an error.
 */
#define G_LOG_DOMAIN "us-lo"

#include "lo.h"

#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <errno.h>
#include <glib.h>

/* Per-open state (q_ptr of both queues). */
typedef struct {
	guint64 mtu;        /* parameter: largest payload */
	guint64 frames_out; /* frames accepted down */
	guint64 bytes_out;  /* their bytes */
	guint64 frames_in;  /* frames delivered back up */
	guint64 bytes_in;   /* their bytes */
	guint64 drop_mtu;   /* frames longer than mtu + 14 */
	guint64 flow_stops; /* times delivery waited for the reader */
} LoState;

enum {
	LO_DROP_MTU,
};
static const char *const lo_drop_reasons[] = {
	"longer than the MTU",
	NULL,
};

static int
lo_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)oflag;
	(void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO;
	static gint next_minor = 1;
	LoState *ls = g_new0(LoState, 1);
	ls->mtu = LO_DEFAULT_MTU;
	rq->q_ptr = WR(rq)->q_ptr = ls;
	*devp = makedevice(getmajor(*devp), g_atomic_int_add(&next_minor, 1) & US_MAXMIN);
	return 0;
}

static int
lo_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	g_free(rq->q_ptr);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* A frame written down (consumes mp): queued for the service procedure. */
static void
lo_wput_data(queue_t *wq, mblk_t *mp)
{
	LoState *ls = wq->q_ptr;
	size_t len = msgdsize(mp);
	if (len > ls->mtu + LO_LINK_HDR) {
		ls->drop_mtu++;
		us_drop(wq, mp, LO_DROP_MTU);
		return;
	}
	ls->frames_out++;
	ls->bytes_out += len;
	putq(wq, mp);
	qenable(wq);
}

/* Write put: frames loop back from the service procedure. */
static int
lo_wput(queue_t *wq, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA: lo_wput_data(wq, mp); break;
	default: us_default_put(wq, mp); break;
	}
	return 0;
}

/* Write service: sends frames back up while the reader has room. */
static int
lo_wsrv(queue_t *wq)
{
	LoState *ls = wq->q_ptr;
	mblk_t *mp;
	while ((mp = getq(wq)) != NULL) {
		if (!canputnext(RD(wq))) {
			ls->flow_stops++;
			putbq(wq, mp);
			return 0;
		}
		ls->frames_in++;
		ls->bytes_in += msgdsize(mp);
		qreply(wq, mp);
	}
	return 0;
}

/* Read service: back-enabled when the reader drained; restart the writer. */
static int
lo_rsrv(queue_t *rq)
{
	qenable(WR(rq));
	return 0;
}

static const UsParamDesc lo_params[] = {
	{ .name = "mtu",
	  .description = "largest payload; longer frames are dropped",
	  .type = US_PARAM_UINT,
	  .offset = G_STRUCT_OFFSET(LoState, mtu),
	  .min = 1,
	  .max = G_MAXINT32 },
	{ 0 },
};

static const UsStatDesc lo_stats[] = {
	US_STAT("frames_out", "frames accepted down", LoState, frames_out),
	US_STAT("bytes_out", "bytes accepted down", LoState, bytes_out),
	US_STAT("frames_in", "frames delivered back up", LoState, frames_in),
	US_STAT("bytes_in", "bytes delivered back up", LoState, bytes_in),
	US_STAT("drop_mtu", "frames longer than mtu + 14", LoState, drop_mtu),
	US_STAT("flow_stops", "times delivery waited for the reader", LoState, flow_stops),
	{ 0 },
};

static struct module_info lo_minfo = {
	.mi_idnum = 1014,
	.mi_idname = "lo",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 256 * 1024,
	.mi_lowat = 64 * 1024,
};
static struct qinit lo_rinit = {
	.qi_putp = us_putnext_put,
	.qi_srvp = lo_rsrv,
	.qi_qopen = lo_open,
	.qi_qclose = lo_close,
	.qi_minfo = &lo_minfo,
};
static struct qinit lo_winit = {
	.qi_putp = lo_wput,
	.qi_srvp = lo_wsrv,
	.qi_minfo = &lo_minfo,
};
static struct streamtab lo_info = { .st_rdinit = &lo_rinit, .st_wrinit = &lo_winit };

static const char *const lo_accepts[] = { "M_DATA (Ethernet frames, looped back)", "M_FLUSH",
					  "M_IOCTL (NAK)", NULL };

const UsModuleDesc us_lo_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "lo",
	.summary = "loopback interface: frames written down come back up",
	.kind = US_KIND_DRIVER,
	.streamtab = &lo_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = lo_params,
	.stats = lo_stats,
	.drop_reasons = lo_drop_reasons,
	.accepts = lo_accepts,
};
