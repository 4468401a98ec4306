/* SPDX-License-Identifier: MIT */
/*
 * test-flow.c -- flow control and scheduling rules of ARCHITECTURE.md §2:
 * QFULL at hiwat, QWANTW set by canputnext on the next queue with a service
 * procedure, back-enabling exactly at lowat, putq not rescheduling after
 * putbq, high-priority bypass and ordering, noenable, bands, flushing, and
 * the bounded putnext depth.
 *
 * Fixture stream (top to bottom):
 *   plain head / probe [0] / putonly [1] / probe [2] / null driver
 * probe has service procedures, putonly has none; both have hiwat 100 and
 * lowat 30.
 */
#include "testutil.h"

#define MID 1
#define LOW 2

static void
fx_flow(Fx *fx)
{
	fx_open(fx, "null");
	fx_push(fx, "probe");
	fx_push(fx, "putonly");
	fx_push(fx, "probe");
}

static ProbeSide *
wside(Fx *fx, guint i)
{
	return probe_side(fx_wq(fx, i));
}

static void
fill(queue_t *q, guint n, size_t len)
{
	for (guint i = 0; i < n; i++)
		putq(q, tmsg(M_DATA, 0, len, (unsigned char)i));
}

static void
test_qfull_at_hiwat(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *q = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	fill(q, 9, 10);
	g_assert_cmpuint(q->q_count, ==, 90);
	g_assert_false(q->q_flag & QFULL);
	fill(q, 1, 10);
	g_assert_true(q->q_flag & QFULL);
	freemsg(getq(q));
	g_assert_cmpuint(q->q_count, ==, 90);
	g_assert_false(q->q_flag & QFULL);
	fx_close(&fx);
}

static void
test_canputnext_sets_wantw_on_service_queue(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *top = fx_wq(&fx, 0), *mid = fx_wq(&fx, MID), *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	g_assert_true(canputnext(top));
	fill(low, 10, 10);
	g_assert_true(mid->q_nfsrv == low);
	g_assert_false(canputnext(top));
	g_assert_true(low->q_flag & QWANTW);
	g_assert_false(mid->q_flag & QWANTW);
	fx_close(&fx);
}

/* probe[0]'s service procedure is stopped by a full probe[2]; draining
 * probe[2] back-enables probe[0] when, and only when, it reaches lowat. */
static void
test_backenable_exactly_at_lowat(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *top = fx_wq(&fx, 0), *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	wside(&fx, 0)->queue_puts = TRUE;
	fill(low, 10, 10);
	put(top, tmsg(M_DATA, 0, 5, 0));
	us_world_run_pending(fx.world);
	g_assert_cmpuint(wside(&fx, 0)->srv_runs, ==, 1);
	g_assert_cmpint(qsize(top), ==, 1); /* put back with putbq */
	g_assert_true(low->q_flag & QWANTW);
	while (low->q_count > 40) {
		freemsg(getq(low));
		g_assert_false(top->q_flag & QENAB);
	}
	freemsg(getq(low)); /* 40 -> 30 == lowat */
	g_assert_cmpuint(low->q_count, ==, 30);
	g_assert_true(top->q_flag & QENAB);
	g_assert_false(low->q_flag & QWANTW);
	us_world_run_pending(fx.world);
	g_assert_cmpuint(wside(&fx, 0)->srv_runs, ==, 2);
	g_assert_cmpint(qsize(top), ==, 0);
	g_assert_cmpint(qsize(low), ==, 3); /* low's put forwarded it to null */
	fx_close(&fx);
}

static void
test_putq_does_not_reschedule_after_putbq(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *top = fx_wq(&fx, 0), *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	wside(&fx, 0)->queue_puts = TRUE;
	fill(low, 10, 10);
	put(top, tmsg(M_DATA, 0, 5, 0));
	us_world_run_pending(fx.world);
	g_assert_cmpuint(wside(&fx, 0)->srv_runs, ==, 1);
	for (int i = 0; i < 3; i++) {
		put(top, tmsg(M_DATA, 0, 5, 1));
		g_assert_false(top->q_flag & QENAB);
	}
	us_world_run_pending(fx.world);
	g_assert_cmpuint(wside(&fx, 0)->srv_runs, ==, 1);
	g_assert_cmpint(qsize(top), ==, 4);
	/* Back-enabling is what wakes it. */
	mblk_t *mp;
	while ((mp = getq(low)) != NULL)
		freemsg(mp);
	g_assert_true(top->q_flag & QENAB);
	us_world_run_pending(fx.world);
	g_assert_cmpuint(wside(&fx, 0)->srv_runs, ==, 2);
	g_assert_cmpint(qsize(top), ==, 0);
	fx_close(&fx);
}

static void
test_new_queue_first_putq_enables(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	g_assert_true(low->q_flag & QWANTR);
	putq(low, tmsg(M_DATA, 0, 1, 0));
	g_assert_true(low->q_flag & QENAB);
	us_world_run_pending(fx.world);
	/* A getq that returns a message clears QWANTR: putq no longer enables. */
	mblk_t *mp = getq(low);
	g_assert_false(low->q_flag & QWANTR);
	putq(low, mp);
	g_assert_false(low->q_flag & QENAB);
	/* An empty getq sets it again. */
	freemsg(getq(low));
	g_assert_null(getq(low));
	g_assert_true(low->q_flag & QWANTR);
	putq(low, tmsg(M_DATA, 0, 1, 0));
	g_assert_true(low->q_flag & QENAB);
	fx_close(&fx);
}

static void
test_high_priority_bypass_and_order(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	fill(low, 10, 10);
	us_world_run_pending(fx.world);
	g_assert_true(low->q_flag & QFULL);
	noenable(low);
	putq(low, tmsg(M_PCPROTO, 0, 1, 0xa1));
	g_assert_true(low->q_flag & QENAB); /* even under noenable */
	putq(low, tmsg(M_PCPROTO, 0, 1, 0xa2));
	putq(low, tmsg(M_DATA, 3, 1, 0xb3)); /* banded, behind high priority */
	mblk_t *a = getq(low), *b = getq(low), *c = getq(low), *d = getq(low);
	g_assert_cmpint(a->b_rptr[0], ==, 0xa1);
	g_assert_cmpint(b->b_rptr[0], ==, 0xa2);
	g_assert_cmpint(c->b_rptr[0], ==, 0xb3);
	g_assert_cmpint(DB_TYPE(d), ==, M_DATA);
	g_assert_cmpint(d->b_band, ==, 0);
	freemsg(a), freemsg(b), freemsg(c), freemsg(d);
	fx_close(&fx);
}

static void
test_noenable(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	noenable(low);
	putq(low, tmsg(M_DATA, 0, 1, 0));
	g_assert_false(low->q_flag & QENAB);
	putq(low, tmsg(M_DATA, 2, 1, 0));
	g_assert_false(low->q_flag & QENAB);
	enableok(low);
	g_assert_true(low->q_flag & QWANTR);
	putq(low, tmsg(M_DATA, 0, 1, 0));
	g_assert_true(low->q_flag & QENAB);
	/* qenable itself ignores noenable. */
	us_world_run_pending(fx.world);
	noenable(low);
	qenable(low);
	g_assert_true(low->q_flag & QENAB);
	fx_close(&fx);
}

static void
test_bands_accounting(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *top = fx_wq(&fx, 0), *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	putq(low, tmsg(M_DATA, 0, 7, 0x00));
	putq(low, tmsg(M_DATA, 1, 40, 0x11));
	putq(low, tmsg(M_DATA, 2, 5, 0x22));
	putq(low, tmsg(M_DATA, 1, 60, 0x12));
	g_assert_cmpuint(low->q_count, ==, 7);
	g_assert_cmpint(low->q_nband, ==, 2);
	intptr_t v;
	g_assert_cmpint(strqget(low, QCOUNT, 1, &v), ==, 0);
	g_assert_cmpint(v, ==, 100);
	g_assert_cmpint(strqget(low, QFLAG, 1, &v), ==, 0);
	g_assert_true(v & QB_FULL);
	g_assert_false(bcanput(low, 1));
	g_assert_true(low->q_bandp->qb_flag & QB_WANTW);
	g_assert_true(bcanput(low, 2));
	g_assert_true(canput(low));
	/* Order: band 2, band 1 (FIFO), band 0. */
	unsigned char want[] = { 0x22, 0x11, 0x12, 0x00 };
	wside(&fx, 0)->queue_puts = TRUE;
	for (guint i = 0; i < 4; i++) {
		mblk_t *mp = getq(low);
		g_assert_cmpint(mp->b_rptr[0], ==, want[i]);
		if (i == 1) /* band 1 at 60 > lowat 30: nobody enabled yet */
			g_assert_true(low->q_bandp->qb_flag & QB_WANTW);
		if (i == 2) /* band 1 empty: back-enabled */
			g_assert_false(low->q_bandp->qb_flag & QB_WANTW);
		freemsg(mp);
	}
	(void)top;
	fx_close(&fx);
}

static void
test_banded_putq_enables(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	putq(low, tmsg(M_DATA, 0, 1, 0));
	us_world_run_pending(fx.world);
	freemsg(getq(low)); /* QWANTR cleared by the returned message */
	putq(low, tmsg(M_DATA, 0, 1, 0));
	g_assert_false(low->q_flag & QENAB);
	putq(low, tmsg(M_DATA, 4, 1, 0));
	g_assert_true(low->q_flag & QENAB);
	fx_close(&fx);
}

static void
test_flushq_data_keeps_control(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	unsigned char types[] = { M_DATA,    M_PROTO,   M_IOCTL, M_CTL,
				  M_SETOPTS, M_PCPROTO, M_DELAY, M_DATA };
	for (guint i = 0; i < G_N_ELEMENTS(types); i++)
		putq(low, tmsg(types[i], 0, 4, (unsigned char)i));
	flushq(low, FLUSHDATA);
	g_assert_cmpint(qsize(low), ==, 3);
	unsigned char kept[] = { M_IOCTL, M_CTL, M_SETOPTS };
	guint i = 0;
	for (mblk_t *mp = low->q_first; mp; mp = mp->b_next)
		g_assert_cmpint(DB_TYPE(mp), ==, kept[i++]);
	g_assert_cmpuint(low->q_count, ==, 12);
	flushq(low, FLUSHALL);
	g_assert_cmpint(qsize(low), ==, 0);
	g_assert_cmpuint(low->q_count, ==, 0);
	fx_close(&fx);
}

static void
test_flushq_backenables(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *top = fx_wq(&fx, 0), *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	fill(low, 10, 10);
	g_assert_false(canputnext(top));
	flushq(low, FLUSHDATA);
	g_assert_true(top->q_flag & QENAB);
	g_assert_false(low->q_flag & (QWANTW | QFULL));
	fx_close(&fx);
}

static void
test_flushband(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	putq(low, tmsg(M_PCPROTO, 0, 1, 0));
	putq(low, tmsg(M_DATA, 0, 1, 0));
	putq(low, tmsg(M_DATA, 1, 1, 0));
	putq(low, tmsg(M_DATA, 2, 1, 0));
	putq(low, tmsg(M_CTL, 1, 1, 0));
	flushband(low, 1, FLUSHDATA);
	g_assert_cmpint(qsize(low), ==, 4); /* band-1 M_CTL survives FLUSHDATA */
	flushband(low, 1, FLUSHALL);
	g_assert_cmpint(qsize(low), ==, 3);
	flushband(low, 0, FLUSHALL); /* ordinary band 0 only, not high priority */
	g_assert_cmpint(qsize(low), ==, 2);
	g_assert_cmpint(DB_TYPE(low->q_first), ==, M_PCPROTO);
	g_assert_cmpint(low->q_last->b_band, ==, 2);
	flushband(low, 9, FLUSHALL); /* no such band: nothing happens */
	g_assert_cmpint(qsize(low), ==, 2);
	fx_close(&fx);
}

static void
test_putbq_front_of_class(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	putq(low, tmsg(M_PCPROTO, 0, 1, 1));
	putq(low, tmsg(M_DATA, 1, 1, 2));
	putq(low, tmsg(M_DATA, 0, 1, 3));
	putbq(low, tmsg(M_DATA, 0, 1, 4));    /* before 3, after the band-1 one */
	putbq(low, tmsg(M_DATA, 1, 1, 5));    /* before 2 */
	putbq(low, tmsg(M_PCPROTO, 0, 1, 6)); /* first of all */
	unsigned char want[] = { 6, 1, 5, 2, 4, 3 };
	guint i = 0;
	for (mblk_t *mp = low->q_first; mp; mp = mp->b_next)
		g_assert_cmpint(mp->b_rptr[0], ==, want[i++]);
	g_assert_cmpuint(i, ==, 6);
	fx_close(&fx);
}

static void
test_insq_rmvq(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	mblk_t *b1 = tmsg(M_DATA, 1, 10, 1), *d0 = tmsg(M_DATA, 0, 10, 2);
	putq(low, b1);
	putq(low, d0);
	mblk_t *pc = tmsg(M_PCPROTO, 0, 1, 3);
	g_assert_false(insq(low, d0, pc)); /* priority after band 1: out of order */
	g_assert_true(insq(low, b1, pc));
	mblk_t *b2 = tmsg(M_DATA, 2, 1, 4);
	g_assert_false(insq(low, NULL, b2)); /* band 2 at the tail: out of order */
	g_assert_true(insq(low, b1, b2));
	g_assert_true(low->q_first == pc);
	g_assert_cmpint(qsize(low), ==, 4);
	rmvq(low, b1);
	g_assert_cmpint(qsize(low), ==, 3);
	intptr_t v;
	strqget(low, QCOUNT, 1, &v);
	g_assert_cmpint(v, ==, 0);
	freemsg(b1);
	rmvq(low, d0);
	g_assert_cmpuint(low->q_count, ==, 1); /* only the M_PCPROTO byte */
	freemsg(d0);
	fx_close(&fx);
}

static void
test_strqget_strqset(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	intptr_t v;
	g_assert_cmpint(strqget(low, QHIWAT, 0, &v), ==, 0);
	g_assert_cmpint(v, ==, 100);
	g_assert_cmpint(strqget(low, QLOWAT, 0, &v), ==, 0);
	g_assert_cmpint(v, ==, 30);
	g_assert_cmpint(strqget(low, QMAXPSZ, 0, &v), ==, 0);
	g_assert_cmpint(v, ==, INFPSZ);
	g_assert_cmpint(strqset(low, QCOUNT, 0, 5), ==, EPERM);
	g_assert_cmpint(strqset(low, QFLAG, 0, 5), ==, EPERM);
	g_assert_cmpint(strqset(low, QBAD, 0, 5), ==, EINVAL);
	g_assert_cmpint(strqset(low, QMAXPSZ, 3, 5), ==, EINVAL);
	fill(low, 5, 10);
	g_assert_false(low->q_flag & QFULL);
	g_assert_cmpint(strqset(low, QHIWAT, 0, 50), ==, 0);
	g_assert_true(low->q_flag & QFULL); /* lowering hiwat below q_count */
	g_assert_cmpint(strqset(low, QHIWAT, 5, 7), ==, 0);
	g_assert_cmpint(low->q_nband, ==, 5);
	g_assert_cmpint(strqget(low, QHIWAT, 5, &v), ==, 0);
	g_assert_cmpint(v, ==, 7);
	g_assert_cmpint(strqget(low, QFIRST, 0, &v), ==, 0);
	g_assert_true((mblk_t *)v == low->q_first);
	fx_close(&fx);
}

static void
test_backq_and_qprocsoff(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *top = fx_wq(&fx, 0), *mid = fx_wq(&fx, MID), *low = fx_wq(&fx, LOW);
	g_assert_true(backq(mid) == top);
	g_assert_true(backq(low) == mid);
	g_assert_true(backq(RD(top)) == RD(mid));
	g_assert_null(backq(us_stream_head_wq(fx.st))); /* nothing above the head */
	/* Turn probe[2] off: putnext from mid skips it, canput skips it too. */
	wside(&fx, LOW)->drain = FALSE;
	fill(low, 10, 10);
	g_assert_false(canputnext(top));
	qprocsoff(RD(low));
	g_assert_true(mid->q_nfsrv != low);
	g_assert_true(canputnext(top));
	guint before = wside(&fx, LOW)->puts;
	put(mid, tmsg(M_DATA, 0, 1, 0));
	g_assert_cmpuint(wside(&fx, LOW)->puts, ==, before);
	qprocson(RD(low));
	g_assert_true(mid->q_nfsrv == low);
	fx_close(&fx);
}

static void
test_putctl(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->queue_puts = TRUE;
	wside(&fx, LOW)->drain = FALSE;
	g_assert_cmpint(putctl(low, M_DATA), ==, 0);
	g_assert_cmpint(putctl(low, M_PROTO), ==, 0);
	g_assert_cmpint(putctl(low, M_CTL), ==, 1);
	g_assert_cmpint(putctl1(low, M_CTL, 42), ==, 1);
	g_assert_cmpint(qsize(low), ==, 2);
	g_assert_cmpint(low->q_last->b_rptr[0], ==, 42);
	/* putnextctl1 of M_ERROR from the driver side reaches the plain head. */
	g_assert_cmpint(putnextctl1(us_stream_driver_rq(fx.st), M_ERROR, EIO), ==, 1);
	us_world_run_pending(fx.world);
	mblk_t *mp = us_plain_head_get(fx.st);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_ERROR);
	g_assert_cmpint(mp->b_rptr[0], ==, EIO);
	freemsg(mp);
	fx_close(&fx);
}

/* M_FLUSH FLUSHRW written down: modules flush both queues, the driver turns
 * FLUSHR around, and the head sees FLUSHR only. */
static void
test_default_flush(void)
{
	Fx fx;
	fx_flow(&fx);
	queue_t *low = fx_wq(&fx, LOW);
	wside(&fx, LOW)->drain = FALSE;
	probe_side(RD(low))->drain = FALSE;
	wside(&fx, LOW)->queue_puts = TRUE;
	fill(low, 3, 1);
	fill(RD(low), 2, 1);
	putctl1(us_stream_head_wq(fx.st), M_FLUSH, FLUSHRW);
	us_world_run_pending(fx.world);
	g_assert_cmpint(qsize(low), ==, 0);
	g_assert_cmpint(qsize(RD(low)), ==, 0);
	mblk_t *mp = us_plain_head_get(fx.st);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_FLUSH);
	g_assert_cmpint(mp->b_rptr[0], ==, FLUSHR);
	freemsg(mp);
	fx_close(&fx);
}

/* An M_FLUSH without its flags byte is dropped and counted. */
static void
test_default_flush_malformed(void)
{
	Fx fx;
	fx_flow(&fx);
	mblk_t *mp = allocb(0, BPRI_HI);
	DB_TYPE(mp) = M_FLUSH;
	put(fx_wq(&fx, LOW), mp);
	us_world_run_pending(fx.world);
	g_assert_cmpuint(us_stack_drop_count(fx.stack, "probe", US_DROP_UNHANDLED), ==, 1);
	fx_close(&fx);
}

/* ------------------------------------------------------------------ */
/* Bounded putnext depth                                              */
/* ------------------------------------------------------------------ */

static guint depth_now, depth_max;

static int
depth_put(queue_t *q, mblk_t *mp)
{
	depth_now++;
	depth_max = MAX(depth_max, depth_now);
	putnext(q, mp);
	depth_now--;
	return 0;
}

static int
depth_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)rq, (void)devp, (void)oflag, (void)sflag, (void)crp;
	return 0;
}

static struct module_info depth_minfo = {
	.mi_idname = "depth", .mi_maxpsz = INFPSZ, .mi_hiwat = 1 << 20, .mi_lowat = 0
};
static struct qinit depth_rinit = { .qi_putp = depth_put,
				    .qi_qopen = depth_open,
				    .qi_minfo = &depth_minfo };
static struct qinit depth_winit = { .qi_putp = depth_put, .qi_minfo = &depth_minfo };
static struct streamtab depth_info = { .st_rdinit = &depth_rinit, .st_wrinit = &depth_winit };

static void
test_putnext_depth_bounded(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	g_assert_cmpint(us_register_module(&depth_info), ==, 0);
	for (int i = 0; i < 300; i++)
		fx_push(&fx, "depth");
	depth_max = 0;
	for (unsigned char i = 0; i < 5; i++)
		put(us_stream_head_wq(fx.st), tmsg(M_DATA, 0, 1, i));
	us_world_run_pending(fx.world);
	g_assert_cmpuint(depth_now, ==, 0);
	g_assert_cmpuint(depth_max, >, 10);
	g_assert_cmpuint(depth_max, <=, 64);
	for (unsigned char i = 0; i < 5; i++) {
		mblk_t *mp = us_plain_head_get(fx.st);
		g_assert_nonnull(mp);
		g_assert_cmpint(mp->b_rptr[0], ==, i); /* order kept through deferral */
		freemsg(mp);
	}
	g_assert_null(us_plain_head_get(fx.st));
	fx_close(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	test_register_probes();
	g_test_add_func("/flow/qfull/at-hiwat", test_qfull_at_hiwat);
	g_test_add_func("/flow/canputnext/sets-wantw-on-service-queue",
			test_canputnext_sets_wantw_on_service_queue);
	g_test_add_func("/flow/backenable/exactly-at-lowat", test_backenable_exactly_at_lowat);
	g_test_add_func("/flow/putq/no-reschedule-after-putbq",
			test_putq_does_not_reschedule_after_putbq);
	g_test_add_func("/flow/putq/wantr", test_new_queue_first_putq_enables);
	g_test_add_func("/flow/high-priority/bypass-and-order",
			test_high_priority_bypass_and_order);
	g_test_add_func("/flow/noenable", test_noenable);
	g_test_add_func("/flow/bands/accounting", test_bands_accounting);
	g_test_add_func("/flow/bands/banded-putq-enables", test_banded_putq_enables);
	g_test_add_func("/flow/flushq/data-keeps-control", test_flushq_data_keeps_control);
	g_test_add_func("/flow/flushq/backenables", test_flushq_backenables);
	g_test_add_func("/flow/flushband", test_flushband);
	g_test_add_func("/flow/putbq/front-of-class", test_putbq_front_of_class);
	g_test_add_func("/flow/insq-rmvq", test_insq_rmvq);
	g_test_add_func("/flow/strqget-strqset", test_strqget_strqset);
	g_test_add_func("/flow/backq-qprocsoff", test_backq_and_qprocsoff);
	g_test_add_func("/flow/putctl", test_putctl);
	g_test_add_func("/flow/default-flush", test_default_flush);
	g_test_add_func("/flow/default-flush/malformed", test_default_flush_malformed);
	g_test_add_func("/flow/putnext/depth-bounded", test_putnext_depth_bounded);
	return g_test_run();
}
