/* SPDX-License-Identifier: MIT */
/*
 * echo -- a driver that sends back up whatever data is written to it.
 *
 * Theory
 * ------
 * Consumes on the write side: M_DATA, M_PROTO, M_PCPROTO (turned around with
 * qreply), M_FLUSH (canonical driver handling), M_IOCTL (NAKed: echo has no
 * ioctls).  Anything else is dropped and counted as unhandled.
 *
 * Flow control: ordinary messages go through the write queue; the service
 * procedure sends them up while canputnext() on the read side allows and
 * stops with putbq() otherwise.  The read side's service procedure runs when
 * the stream above drains (back-enable) and re-enables the write side, so a
 * full reader holds the writer back instead of losing messages.  High
 * priority messages are echoed at once.
 *
 * Deviations: none.  Each open is a clone open and gets a fresh minor.
 */
#define G_LOG_DOMAIN "us-echo"

#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <errno.h>
#include <glib.h>

/* Per-open state (read queue's q_ptr). */
typedef struct {
	guint64 msgs;  /* messages echoed */
	guint64 bytes; /* data bytes echoed */
} EchoState;

static guint echo_next_minor = 1;

static int
echo_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)oflag;
	(void)crp;
	if (sflag == MODOPEN)
		return ENXIO;
	if (rq->q_ptr != NULL)
		return 0; /* re-open of the same minor */
	rq->q_ptr = WR(rq)->q_ptr = g_new0(EchoState, 1);
	if (sflag == CLONEOPEN)
		*devp = makedevice(getmajor(*devp), g_atomic_int_add(&echo_next_minor, 1));
	return 0;
}

static int
echo_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	g_free(rq->q_ptr);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

static void
echo_send(queue_t *wq, mblk_t *mp)
{
	EchoState *es = wq->q_ptr;
	es->msgs++;
	es->bytes += msgdsize(mp);
	qreply(wq, mp);
}

/* Write put: data is queued for the service procedure unless it can go now. */
static int
echo_wput(queue_t *wq, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_PCPROTO: echo_send(wq, mp); break;
	case M_DATA:
	case M_PROTO:
		if (wq->q_first == NULL && canputnext(RD(wq)))
			echo_send(wq, mp);
		else
			putq(wq, mp);
		break;
	default: us_default_put(wq, mp); break;
	}
	return 0;
}

/* Write service: echo while the reader above has room. */
static int
echo_wsrv(queue_t *wq)
{
	mblk_t *mp;
	while ((mp = getq(wq)) != NULL) {
		if (!canputnext(RD(wq))) {
			putbq(wq, mp);
			return 0;
		}
		echo_send(wq, mp);
	}
	return 0;
}

/* Read service: back-enabled when the reader drained; restart the writer. */
static int
echo_rsrv(queue_t *rq)
{
	qenable(WR(rq));
	return 0;
}

static struct module_info echo_minfo = {
	.mi_idnum = 1001,
	.mi_idname = "echo",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit echo_rinit = {
	.qi_putp = us_putnext_put,
	.qi_srvp = echo_rsrv,
	.qi_qopen = echo_open,
	.qi_qclose = echo_close,
	.qi_minfo = &echo_minfo,
};
static struct qinit echo_winit = {
	.qi_putp = echo_wput,
	.qi_srvp = echo_wsrv,
	.qi_minfo = &echo_minfo,
};
static struct streamtab echo_info = { .st_rdinit = &echo_rinit, .st_wrinit = &echo_winit };

static const UsStatDesc echo_stats[] = {
	US_STAT("msgs", "messages echoed", EchoState, msgs),
	US_STAT("bytes", "data bytes echoed", EchoState, bytes),
	{ 0 },
};
static const char *const echo_accepts[] = { "M_DATA",  "M_PROTO",       "M_PCPROTO",
					    "M_FLUSH", "M_IOCTL (NAK)", NULL };

const UsModuleDesc us_echo_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "echo",
	.summary = "sends written data messages back up the stream",
	.kind = US_KIND_DRIVER,
	.streamtab = &echo_info,
	.mt_flags = US_MT_PERSTREAM,
	.stats = echo_stats,
	.accepts = echo_accepts,
};
