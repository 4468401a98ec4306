/* SPDX-License-Identifier: MIT */
/*
 * testmux -- a small multiplexing driver that routes data between upper and
 * lower streams by a one-byte key: the test bed of the mux helpers (mux.h)
 * and an example of a multiplexor written with them.
 *
 * Theory
 * ------
 * Upper streams are clone opens (minors 1 .. TESTMUX_MAX_UPPERS).  Each
 * binds to a key with TESTMUX_BIND (testmux.h).  Lower streams are linked
 * with I_LINK or I_PLINK on any upper stream; TESTMUX_SETLOWER sends a key
 * down a given lower, and every other key goes down the default lower, the
 * oldest link.
 *
 *   down: M_DATA written on an upper bound to key k goes down k's lower with
 *         the byte k in front (in the block's headroom when the block is not
 *         shared: once an upper is bound, the driver asks its stream head for
 *         one byte of write offset with M_SETOPTS SO_WROFF).
 *   up:   M_DATA from a lower goes up the upper bound to its first byte, with
 *         that byte stripped.
 *
 * Messages consumed:
 *   upper write: M_DATA (routed), M_FLUSH (canonical driver handling),
 *                M_IOCTL (TESTMUX_BIND, TESTMUX_SETLOWER, I_LINK, I_PLINK,
 *                I_UNLINK, I_PUNLINK; others NAKed EINVAL); everything else
 *                is dropped as unhandled.
 *   lower read:  M_DATA (routed), M_FLUSH (answered as a stream head does);
 *                everything else is dropped as unhandled.
 *   lower write: nothing in practice: testmux sends with putnext(l_qbot);
 *                us_mux_lower_wput passes on whatever is put() there.
 * Produced: M_DATA both ways, M_SETOPTS up at bind, M_IOCACK/M_IOCNAK, and
 * the M_FLUSH turn-arounds.
 *
 * Drops (counted per reason, testmux.h): writing on an unbound upper; no
 * lower linked; data from below for a key nobody holds, or with no key byte;
 * no buffer for the key byte; messages queued on or arriving at a lower
 * being unlinked; data left on an upper when it closes.
 *
 * Flow control (mux.h "Flow control across the multiplexor"):
 *   down: an upper writer sends at once when its queue is empty and the
 *         lower has room; otherwise the message waits on the upper write
 *         queue, whose service procedure waits on the lower's wait list and
 *         is enabled by the lower's write service procedure once the stream
 *         below drained (back-enabling reaches it there).
 *   up:   the lower read side sends at once when its queue is empty and the
 *         upper's reader has room; otherwise the message waits on the lower
 *         read queue, which holds everything behind it (head-of-line
 *         blocking, as an SVR4 multiplexor's lower side does), and so pushes
 *         back on the lower stream.  The upper read service procedure, run
 *         when the stream above drains, enables the waiting lowers.
 * Unlinking a lower drops what waits on it; writers waiting for it are woken
 * and re-route to the default lower, or drop when none is left.
 *
 * Deviations:
 *  - A closing upper does not touch lower queues: when the stack itself is
 *    freed, the engine dismantles linked lower streams without unlinking
 *    them, so they may be gone already.  Lowers held back for the closing
 *    upper are enabled by another upper's read service procedure instead, or
 *    by the next open when no upper is left.
 *  - Routing state (keys, lowers) is per stack, as stacks are isolated.
 */
#define G_LOG_DOMAIN "us-testmux"

#include "testmux.h"

#include "mux.h"

#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

/* Per-upper state (q_ptr of both upper queues). */
typedef struct {
	guint64 tu_msgs_down;  /* messages sent down a lower */
	guint64 tu_bytes_down; /* payload bytes sent down */
	guint64 tu_msgs_up;    /* messages delivered up */
	guint64 tu_bytes_up;   /* payload bytes delivered up */
	guint tu_minor;        /* our clone minor */
	int tu_key;            /* bound key, -1 while unbound */
} TestmuxUpper;

/* Per-lower state (the lower record's ml_cookie). */
typedef struct {
	guint64 tl_msgs_down; /* messages sent down this lower */
	guint64 tl_msgs_up;   /* messages from it delivered up */
} TestmuxLower;

/* Per-stack state, us_stack_get_data(stack, "testmux"). */
typedef struct {
	UsMuxUppers *ts_uppers; /* clone minors -> TestmuxUpper */
	UsMuxLowers *ts_lowers; /* linked lowers, cookie TestmuxLower */
	UsMuxSlots *ts_bound;   /* key -> upper read queue (cookie TestmuxUpper) */
	UsMuxSlots *ts_lowkey;  /* key -> l_qbot (cookie UsMuxLower) from SETLOWER */
	gboolean ts_rwake;      /* lowers must look again at the next open */
} TestmuxStack;

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static void
testmux_stack_free(gpointer p)
{
	TestmuxStack *ts = p;
	us_mux_lowers_free(ts->ts_lowers);
	us_mux_uppers_free(ts->ts_uppers);
	us_mux_slots_free(ts->ts_bound);
	us_mux_slots_free(ts->ts_lowkey);
	g_free(ts);
}

static TestmuxStack *
testmux_stack(queue_t *q)
{
	UsStack *s = us_queue_stack(q);
	TestmuxStack *ts = us_stack_get_data(s, "testmux");
	if (ts == NULL) {
		ts = g_new0(TestmuxStack, 1);
		ts->ts_uppers = us_mux_uppers_new(1, TESTMUX_MAX_UPPERS);
		ts->ts_lowers = us_mux_lowers_new(g_free);
		ts->ts_bound = us_mux_slots_new(TESTMUX_KEY_MAX + 1);
		ts->ts_lowkey = us_mux_slots_new(TESTMUX_KEY_MAX + 1);
		us_stack_set_data(s, "testmux", ts, testmux_stack_free);
	}
	return ts;
}

/* Drops and counts mp against testmux, also when q is a lower queue. */
static void
testmux_drop(TestmuxStack *ts, queue_t *q, mblk_t *mp, guint reason)
{
	us_mux_drop(q, mp, reason, us_mux_uppers_any_rq(ts->ts_uppers));
}

/* The lower that data with key goes down, or NULL. */
static UsMuxLower *
testmux_route_down(TestmuxStack *ts, guint key)
{
	gpointer lower = NULL;
	if (us_mux_slots_lookup(ts->ts_lowkey, key, &lower) != NULL)
		return lower;
	return us_mux_lowers_first(ts->ts_lowers);
}

/* Forgets the lower assigned to key; writers waiting on it re-route. */
static void
testmux_unassign(TestmuxStack *ts, guint key)
{
	gpointer lower = NULL;
	if (us_mux_slots_lookup(ts->ts_lowkey, key, &lower) == NULL)
		return;
	us_mux_wait_wake(&((UsMuxLower *)lower)->ml_wwait);
	us_mux_slots_remove(ts->ts_lowkey, key);
}

/* Puts the key byte in front of the payload: in the headroom when the first
 * block is not shared, else in a new block.  Returns the message to send,
 * or NULL (mp untouched, still the caller's) when no block can be had. */
static mblk_t *
testmux_prepend_key(mblk_t *mp, unsigned char key)
{
	if (DB_REF(mp) == 1 && MBLKHEAD(mp) >= 1) {
		*--mp->b_rptr = key;
		return mp;
	}
	mblk_t *kp = allocb(1, BPRI_MED);
	if (kp == NULL)
		return NULL;
	*kp->b_wptr++ = key;
	kp->b_cont = mp;
	return kp;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static int
testmux_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)oflag;
	(void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO; /* minors are handed out here */
	TestmuxStack *ts = testmux_stack(rq);
	TestmuxUpper *tu = g_new0(TestmuxUpper, 1);
	tu->tu_key = -1;
	int err = us_mux_uppers_alloc(ts->ts_uppers, rq, tu, &tu->tu_minor);
	if (err != 0) {
		g_free(tu);
		return err;
	}
	rq->q_ptr = WR(rq)->q_ptr = tu;
	*devp = makedevice(getmajor(*devp), tu->tu_minor);
	if (ts->ts_rwake) {
		ts->ts_rwake = FALSE;
		us_mux_lowers_enable_read(ts->ts_lowers);
	}
	return 0;
}

/* Lowers held back for a closing upper look again later (Deviations). */
static void
testmux_rewake_later(TestmuxStack *ts)
{
	queue_t *rq = us_mux_uppers_any_rq(ts->ts_uppers);
	if (rq != NULL)
		qenable(rq);
	else
		ts->ts_rwake = TRUE;
}

/* Close: frees the key and the minor; data still waiting here is dropped. */
static int
testmux_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	TestmuxStack *ts = testmux_stack(rq);
	TestmuxUpper *tu = rq->q_ptr;
	mblk_t *mp;
	if (tu->tu_key >= 0)
		us_mux_slots_remove(ts->ts_bound, (guint)tu->tu_key);
	us_mux_lowers_forget(ts->ts_lowers, WR(rq));
	while ((mp = getq(WR(rq))) != NULL)
		us_drop(WR(rq), mp, TESTMUX_DROP_CLOSED);
	us_mux_uppers_remove(ts->ts_uppers, tu->tu_minor);
	g_free(tu);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	testmux_rewake_later(ts);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Upper write side                                                   */
/* ------------------------------------------------------------------ */

/* Sends mp (M_DATA) down the lower for this upper's key, or drops it.
 * Returns FALSE, leaving mp with the caller, when that lower has no room:
 * wq then waits on the lower and is enabled when the lower drains. */
static gboolean
testmux_try_down(queue_t *wq, mblk_t *mp)
{
	TestmuxUpper *tu = wq->q_ptr;
	if (tu->tu_key < 0) {
		us_drop(wq, mp, TESTMUX_DROP_UNBOUND);
		return TRUE;
	}
	UsMuxLower *lo = testmux_route_down(testmux_stack(wq), (guint)tu->tu_key);
	if (lo == NULL) {
		us_drop(wq, mp, TESTMUX_DROP_NO_LOWER);
		return TRUE;
	}
	if (!us_mux_lower_canput(lo)) {
		us_mux_lower_wait(lo, wq);
		return FALSE;
	}
	size_t bytes = msgdsize(mp);
	mblk_t *kp = testmux_prepend_key(mp, (unsigned char)tu->tu_key);
	if (kp == NULL) {
		us_drop(wq, mp, TESTMUX_DROP_NOMEM);
		return TRUE;
	}
	tu->tu_msgs_down++;
	tu->tu_bytes_down += bytes;
	((TestmuxLower *)lo->ml_cookie)->tl_msgs_down++;
	putnext(lo->ml_qbot, kp);
	return TRUE;
}

/* Copies the I_STR argument of an M_IOCTL; FALSE if missing or short. */
static gboolean
testmux_ioc_arg(mblk_t *mp, void *buf, size_t len)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	if (ioc->ioc_count == TRANSPARENT || ioc->ioc_count < len || mp->b_cont == NULL)
		return FALSE;
	return us_msgcopyout(mp->b_cont, 0, buf, len) == len;
}

/* Asks the stream head for a byte of write offset for the key (best
 * effort: without it the key goes in a block of its own).  Sent at bind,
 * when the upper starts to carry data, not at open: the stream head of this
 * tree cannot take a message sent up before its open returns. */
static void
testmux_ask_wroff(queue_t *rq)
{
	mblk_t *mp = allocb(sizeof(struct stroptions), BPRI_MED);
	if (mp == NULL)
		return;
	DB_TYPE(mp) = M_SETOPTS;
	struct stroptions so = { .so_flags = SO_WROFF, .so_wroff = 1 };
	memcpy(mp->b_wptr, &so, sizeof so);
	mp->b_wptr += sizeof so;
	putnext(rq, mp);
}

static int
testmux_bind(queue_t *wq, mblk_t *mp)
{
	TestmuxUpper *tu = wq->q_ptr;
	int key;
	if (!testmux_ioc_arg(mp, &key, sizeof key) || key < 0 || key > TESTMUX_KEY_MAX ||
	    tu->tu_key >= 0)
		return EINVAL;
	int err = us_mux_slots_add(testmux_stack(wq)->ts_bound, (guint)key, RD(wq), tu);
	if (err != 0)
		return err;
	tu->tu_key = key;
	testmux_ask_wroff(RD(wq));
	return 0;
}

static int
testmux_setlower(queue_t *wq, mblk_t *mp)
{
	TestmuxStack *ts = testmux_stack(wq);
	struct testmux_setlower sl;
	if (!testmux_ioc_arg(mp, &sl, sizeof sl) || sl.key < 0 || sl.key > TESTMUX_KEY_MAX)
		return EINVAL;
	UsMuxLower *lo = us_mux_lowers_find(ts->ts_lowers, sl.muxid);
	if (lo == NULL)
		return EINVAL;
	testmux_unassign(ts, (guint)sl.key);
	return us_mux_slots_add(ts->ts_lowkey, (guint)sl.key, lo->ml_qbot, lo);
}

static void
testmux_ioctl(queue_t *wq, mblk_t *mp)
{
	int err;
	if (MBLKL(mp) < sizeof(struct iocblk)) {
		us_drop(wq, mp, US_DROP_UNHANDLED); /* too short to answer */
		return;
	}
	switch (((struct iocblk *)mp->b_rptr)->ioc_cmd) {
	case TESTMUX_BIND: err = testmux_bind(wq, mp); break;
	case TESTMUX_SETLOWER: err = testmux_setlower(wq, mp); break;
	default: err = EINVAL; break;
	}
	if (err != 0) {
		miocnak(wq, mp, 0, err);
		return;
	}
	freemsg(unlinkb(mp)); /* nothing is returned */
	miocack(wq, mp, 0, 0);
}

static int
testmux_on_link(queue_t *upper_wq, UsMuxLower *lower)
{
	(void)upper_wq;
	lower->ml_cookie = g_new0(TestmuxLower, 1);
	return 0;
}

/* Keys sent down this lower fall back to the default lower. */
static void
testmux_on_unlink(queue_t *upper_wq, UsMuxLower *lower)
{
	TestmuxLower *tl = lower->ml_cookie;
	us_mux_slots_remove_queue(testmux_stack(upper_wq)->ts_lowkey, lower->ml_qbot);
	g_debug("muxid %d unlinked: %" G_GUINT64_FORMAT " messages down, %" G_GUINT64_FORMAT " up",
		lower->ml_muxid, tl->tl_msgs_down, tl->tl_msgs_up);
}

static const UsMuxLinkOps testmux_link_ops = {
	.on_link = testmux_on_link,
	.on_unlink = testmux_on_unlink,
	.unlink_drop_reason = TESTMUX_DROP_UNLINKED,
};

/* Upper write put: data goes down at once when nothing waits ahead of it
 * and the lower has room; otherwise it waits here. */
static int
testmux_uwput(queue_t *wq, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA:
		if (wq->q_first != NULL || !testmux_try_down(wq, mp))
			putq(wq, mp);
		break;
	case M_IOCTL:
		if (!us_mux_handle_link_ioctl(wq, mp, testmux_stack(wq)->ts_lowers,
					      &testmux_link_ops))
			testmux_ioctl(wq, mp);
		break;
	default:
		us_default_put(wq, mp); /* M_FLUSH canonically; the rest unhandled */
		break;
	}
	return 0;
}

/* Upper write service: run at the first putq and when the lower we wait on
 * drained; sends until that lower is full again. */
static int
testmux_uwsrv(queue_t *wq)
{
	mblk_t *mp;
	while ((mp = getq(wq)) != NULL) {
		if (!testmux_try_down(wq, mp)) {
			putbq(wq, mp);
			return 0;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Upper read side                                                    */
/* ------------------------------------------------------------------ */

/* Upper read put: nothing is queued here; pass on what is put to us. */
static int
testmux_urput(queue_t *rq, mblk_t *mp)
{
	putnext(rq, mp);
	return 0;
}

/* Upper read service: back-enabled when the reader above drained; the
 * lowers holding data (perhaps for us) may go on. */
static int
testmux_ursrv(queue_t *rq)
{
	us_mux_lowers_enable_read(testmux_stack(rq)->ts_lowers);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lower read side                                                    */
/* ------------------------------------------------------------------ */

/* Delivers mp (M_DATA from lower rq) to the upper its key byte names, or
 * drops it.  Returns FALSE, leaving mp with the caller, when that upper's
 * reader has no room. */
static gboolean
testmux_try_up(TestmuxStack *ts, queue_t *rq, mblk_t *mp)
{
	unsigned char key;
	if (us_msgcopyout(mp, 0, &key, 1) != 1) {
		testmux_drop(ts, rq, mp, TESTMUX_DROP_NO_KEY);
		return TRUE;
	}
	gpointer state = NULL;
	queue_t *urq = us_mux_slots_lookup(ts->ts_bound, key, &state);
	if (urq == NULL) {
		testmux_drop(ts, rq, mp, TESTMUX_DROP_UNKNOWN_KEY);
		return TRUE;
	}
	if (!canputnext(urq))
		return FALSE;
	adjmsg(mp, 1);
	TestmuxUpper *tu = state;
	tu->tu_msgs_up++;
	tu->tu_bytes_up += msgdsize(mp);
	((TestmuxLower *)us_mux_lower_of(rq)->ml_cookie)->tl_msgs_up++;
	putnext(urq, mp);
	return TRUE;
}

/* Lower read put: what the lower stream sends up. */
static int
testmux_lrput(queue_t *rq, mblk_t *mp)
{
	TestmuxStack *ts = testmux_stack(rq);
	if (us_mux_lower_of(rq) == NULL) {
		testmux_drop(ts, rq, mp, TESTMUX_DROP_UNLINKED); /* unlinked, not yet given back */
		return 0;
	}
	switch (DB_TYPE(mp)) {
	case M_DATA:
		if (rq->q_first != NULL || !testmux_try_up(ts, rq, mp))
			putq(rq, mp);
		break;
	case M_FLUSH: us_mux_lower_flush(rq, mp); break;
	default: testmux_drop(ts, rq, mp, US_DROP_UNHANDLED); break;
	}
	return 0;
}

/* Lower read service: delivers in order while the uppers have room; stops
 * at the first message whose upper has none (head-of-line blocking). */
static int
testmux_lrsrv(queue_t *rq)
{
	TestmuxStack *ts = testmux_stack(rq);
	mblk_t *mp;
	while ((mp = getq(rq)) != NULL) {
		if (us_mux_lower_of(rq) == NULL) {
			testmux_drop(ts, rq, mp, TESTMUX_DROP_UNLINKED);
			continue;
		}
		if (!testmux_try_up(ts, rq, mp)) {
			putbq(rq, mp);
			return 0;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info testmux_minfo = {
	.mi_idnum = 1010,
	.mi_idname = "testmux",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit testmux_urinit = {
	.qi_putp = testmux_urput,
	.qi_srvp = testmux_ursrv,
	.qi_qopen = testmux_open,
	.qi_qclose = testmux_close,
	.qi_minfo = &testmux_minfo,
};
static struct qinit testmux_uwinit = {
	.qi_putp = testmux_uwput,
	.qi_srvp = testmux_uwsrv,
	.qi_minfo = &testmux_minfo,
};
/* The lower pair keeps the name: drops counted on it land under "testmux". */
static struct qinit testmux_lrinit = {
	.qi_putp = testmux_lrput,
	.qi_srvp = testmux_lrsrv,
	.qi_minfo = &testmux_minfo,
};
static struct qinit testmux_lwinit = {
	.qi_putp = us_mux_lower_wput,
	.qi_srvp = us_mux_lower_wsrv,
	.qi_minfo = &testmux_minfo,
};
static struct streamtab testmux_info = {
	.st_rdinit = &testmux_urinit,
	.st_wrinit = &testmux_uwinit,
	.st_muxrinit = &testmux_lrinit,
	.st_muxwinit = &testmux_lwinit,
};

static const UsStatDesc testmux_stats[] = {
	US_STAT("msgs_down", "messages sent down a lower stream", TestmuxUpper, tu_msgs_down),
	US_STAT("bytes_down", "payload bytes sent down", TestmuxUpper, tu_bytes_down),
	US_STAT("msgs_up", "messages delivered up this stream", TestmuxUpper, tu_msgs_up),
	US_STAT("bytes_up", "payload bytes delivered up", TestmuxUpper, tu_bytes_up),
	{ 0 },
};
/* Indexed by TESTMUX_DROP_* (testmux.h). */
static const char *const testmux_drop_reasons[] = {
	"data written on an unbound upper stream",
	"no lower stream linked for the key",
	"data from below for a key no upper stream holds",
	"data from below without a key byte",
	"no buffer for the key byte",
	"lower stream unlinked",
	"data queued on an upper stream when it closed",
	NULL,
};
static const char *const testmux_accepts[] = {
	"M_DATA",
	"M_FLUSH",
	"M_IOCTL (TESTMUX_BIND, TESTMUX_SETLOWER, I_LINK, I_PLINK, I_UNLINK, I_PUNLINK)",
	NULL,
};

const UsModuleDesc us_testmux_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "testmux",
	.summary = "test multiplexor: routes data between upper and lower streams by a key byte",
	.kind = US_KIND_MUX,
	.streamtab = &testmux_info,
	.mt_flags = US_MT_PERSTACK,
	.stats = testmux_stats,
	.drop_reasons = testmux_drop_reasons,
	.accepts = testmux_accepts,
};
