/* SPDX-License-Identifier: MIT */
/*
 * null -- a driver that discards what is written to it (like /dev/null).
 *
 * Theory
 * ------
 * Consumes on the write side: M_DATA, M_PROTO, M_PCPROTO (discarded and
 * counted: discarding is this driver's job, so these are not drops),
 * M_FLUSH (canonical driver handling), M_IOCTL (NAKed).  Nothing is ever sent
 * up except M_FLUSH replies and ioctl NAKs.  No flow control: it never fills.
 *
 * Deviations: none.
 */
#define G_LOG_DOMAIN "us-null"

#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <errno.h>
#include <glib.h>

typedef struct {
	guint64 msgs;  /* data messages discarded */
	guint64 bytes; /* data bytes discarded */
} NullState;

static guint null_next_minor = 1;

static int
null_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)oflag;
	(void)crp;
	if (sflag == MODOPEN)
		return ENXIO;
	if (rq->q_ptr == NULL)
		rq->q_ptr = WR(rq)->q_ptr = g_new0(NullState, 1);
	if (sflag == CLONEOPEN)
		*devp = makedevice(getmajor(*devp), g_atomic_int_add(&null_next_minor, 1));
	return 0;
}

static int
null_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	g_free(rq->q_ptr);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

static int
null_wput(queue_t *wq, mblk_t *mp)
{
	NullState *ns = wq->q_ptr;
	if (datamsg(DB_TYPE(mp)) && DB_TYPE(mp) != M_DELAY) {
		ns->msgs++;
		ns->bytes += msgdsize(mp);
		freemsg(mp);
		return 0;
	}
	us_default_put(wq, mp);
	return 0;
}

static struct module_info null_minfo = {
	.mi_idnum = 1002,
	.mi_idname = "null",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit null_rinit = {
	.qi_putp = us_putnext_put,
	.qi_qopen = null_open,
	.qi_qclose = null_close,
	.qi_minfo = &null_minfo,
};
static struct qinit null_winit = { .qi_putp = null_wput, .qi_minfo = &null_minfo };
static struct streamtab null_info = { .st_rdinit = &null_rinit, .st_wrinit = &null_winit };

static const UsStatDesc null_stats[] = {
	US_STAT("msgs", "data messages discarded", NullState, msgs),
	US_STAT("bytes", "data bytes discarded", NullState, bytes),
	{ 0 },
};
static const char *const null_accepts[] = { "M_DATA",  "M_PROTO",       "M_PCPROTO",
					    "M_FLUSH", "M_IOCTL (NAK)", NULL };

const UsModuleDesc us_null_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "null",
	.summary = "discards everything written to it",
	.kind = US_KIND_DRIVER,
	.streamtab = &null_info,
	.mt_flags = US_MT_PERSTREAM,
	.stats = null_stats,
	.accepts = null_accepts,
};
