/* SPDX-License-Identifier: MIT */
/*
 * harness.c -- UsHarness (see harness.h): one module between a fake head and
 * a fake driver on a virtual clock.
 *
 * Theory
 * ------
 * The harness builds an ordinary stream: its head pair is the fake upper end
 * and its driver is an unregistered fake driver, so the module under test
 * sees exactly what it would see in a real stream (q_next, canputnext,
 * back-enabling, qtimeout on the world's clock).  Each fake end has a
 * service procedure that moves what arrives into an output list; while an
 * end is "blocked" its service procedure does nothing, so messages pile up
 * on its queue until QFULL, and the module's canputnext() says no.
 * High-priority messages go straight to the output list, as they bypass flow
 * control.
 *
 * Leaks: the harness snapshots the live-message counter at creation and
 * requires it back at that value when freed.
 */
#define G_LOG_DOMAIN "us-harness"

#include "internal.h"

#include <errno.h>
#include <string.h>

#include <ustreams/harness.h>

/* One fake end. */
typedef struct {
	GQueue out;       /* messages that left the module in this direction */
	gboolean blocked; /* service procedure holds messages back */
} HarnessEnd;

struct _UsHarness {
	UsWorld *world;
	UsStack *stack;
	UsStream *st;
	HarnessEnd upper; /* fed by the module's read side */
	HarnessEnd lower; /* fed by the module's write side */
	gint64 live_at_start;
	gboolean allow_leaks;
};

static HarnessEnd *
end_of(queue_t *q)
{
	UsHarness *h = q->q_ptr;
	return (q->q_flag & QHLIST) ? &h->upper : &h->lower;
}

/* Put for both fake ends' receiving queues. */
static int
fake_put(queue_t *q, mblk_t *mp)
{
	if (DB_TYPE(mp) >= QPCTL)
		g_queue_push_tail(&end_of(q)->out, mp);
	else
		putq(q, mp);
	return 0;
}

/* Service for both receiving queues: drain unless blocked. */
static int
fake_srv(queue_t *q)
{
	HarnessEnd *e = end_of(q);
	mblk_t *mp;
	if (e->blocked)
		return 0;
	while ((mp = getq(q)) != NULL)
		g_queue_push_tail(&e->out, mp);
	return 0;
}

/* The sending sides just pass on. */
static int
fake_pass(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return 0;
}

static int
fake_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp;
	(void)oflag;
	(void)sflag;
	(void)crp;
	(void)rq;
	return 0;
}

static struct module_info fake_minfo = {
	.mi_idname = "harness",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit upper_rinit = { .qi_putp = fake_put,
				    .qi_srvp = fake_srv,
				    .qi_minfo = &fake_minfo };
static struct qinit upper_winit = { .qi_putp = fake_pass, .qi_minfo = &fake_minfo };
static const UsHeadOps harness_head = { .rinit = &upper_rinit, .winit = &upper_winit };
static struct qinit lower_rinit = { .qi_putp = fake_pass,
				    .qi_qopen = fake_open,
				    .qi_minfo = &fake_minfo };
static struct qinit lower_winit = { .qi_putp = fake_put,
				    .qi_srvp = fake_srv,
				    .qi_minfo = &fake_minfo };
static struct streamtab lower_info = { .st_rdinit = &lower_rinit, .st_wrinit = &lower_winit };
static const UsModuleDesc harness_lower_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "harness-lower",
	.kind = US_KIND_DRIVER,
	.summary = "fake driver under a module in a UsHarness",
	.streamtab = &lower_info,
};

static queue_t *
lower_wq(UsHarness *h)
{
	return WR(us_stream_driver_rq(h->st));
}

UsHarness *
us_harness_try_new(const char *module, guint64 seed, int *errp)
{
	UsHarness *h = g_new0(UsHarness, 1);
	h->live_at_start = us_msg_live_count();
	h->world = us_world_new(US_CLOCK_VIRTUAL, seed);
	h->stack = us_stack_new(h->world, "harness");
	g_queue_init(&h->upper.out);
	g_queue_init(&h->lower.out);
	GError *error = NULL;
	h->st = us__stream_open_desc(h->stack, &harness_lower_desc, 0, CLONEOPEN, 0, &harness_head,
				     h, NULL, &error);
	g_assert_no_error(error);
	WR(us_stream_driver_rq(h->st))->q_ptr = us_stream_driver_rq(h->st)->q_ptr = h;
	us_stream_head_wq(h->st)->q_ptr = h;
	int err = us_stream_push(h->st, module, &error);
	if (err != 0) {
		g_debug("harness: %s", error->message);
		g_error_free(error);
		if (errp)
			*errp = err;
		h->allow_leaks = TRUE;
		us_harness_free(h);
		return NULL;
	}
	return h;
}

UsHarness *
us_harness_new(const char *module)
{
	int err = 0;
	UsHarness *h = us_harness_try_new(module, 1, &err);
	if (h == NULL)
		g_error("harness: cannot push %s: %s", module, g_strerror(err));
	return h;
}

void
us_harness_allow_leaks(UsHarness *h)
{
	h->allow_leaks = TRUE;
}

void
us_harness_free(UsHarness *h)
{
	if (h == NULL)
		return;
	g_queue_clear_full(&h->upper.out, (GDestroyNotify)freemsg);
	g_queue_clear_full(&h->lower.out, (GDestroyNotify)freemsg);
	us_world_free(h->world); /* closes the stream and frees what is queued */
	gint64 live = us_msg_live_count();
	if (!h->allow_leaks && live != h->live_at_start)
		g_error("harness: %" G_GINT64_FORMAT " message blocks leaked",
			live - h->live_at_start);
	g_free(h);
}

void
us_harness_run(UsHarness *h)
{
	us_world_run_pending(h->world);
}

void
us_harness_advance(UsHarness *h, gint64 ns)
{
	us_world_advance(h->world, ns);
}

gint64
us_harness_now(UsHarness *h)
{
	return us_world_now(h->world);
}

typedef struct {
	queue_t *q;
	mblk_t *mp;
} PutArgs;

static void
put_on_world(gpointer data)
{
	PutArgs *a = data;
	put(a->q, a->mp);
}

static void
harness_put(UsHarness *h, queue_t *q, mblk_t *mp)
{
	PutArgs a = { q, mp };
	us_world_call(h->world, put_on_world, &a);
	us_harness_run(h);
}

void
us_harness_push_down(UsHarness *h, mblk_t *mp)
{
	harness_put(h, us_harness_wq(h), mp);
}

void
us_harness_push_up(UsHarness *h, mblk_t *mp)
{
	harness_put(h, us_harness_rq(h), mp);
}

void
us_harness_push_down_data(UsHarness *h, const void *buf, size_t len)
{
	us_harness_push_down(h, us_msg_from(buf, len, 0));
}

void
us_harness_push_up_data(UsHarness *h, const void *buf, size_t len)
{
	us_harness_push_up(h, us_msg_from(buf, len, 0));
}

mblk_t *
us_harness_pull_down(UsHarness *h)
{
	return g_queue_pop_head(&h->lower.out);
}

mblk_t *
us_harness_pull_up(UsHarness *h)
{
	return g_queue_pop_head(&h->upper.out);
}

guint
us_harness_count_down(UsHarness *h)
{
	return h->lower.out.length;
}

guint
us_harness_count_up(UsHarness *h)
{
	return h->upper.out.length;
}

static queue_t *
end_queue(UsHarness *h, gboolean lower)
{
	return lower ? lower_wq(h) : us_stream_head_rq(h->st);
}

void
us_harness_set_blocked(UsHarness *h, gboolean lower, gboolean blocked)
{
	HarnessEnd *e = lower ? &h->lower : &h->upper;
	e->blocked = blocked;
	if (!blocked) {
		qenable(end_queue(h, lower));
		us_harness_run(h);
	}
}

void
us_harness_set_watermarks(UsHarness *h, gboolean lower, size_t hiwat, size_t lowat)
{
	queue_t *q = end_queue(h, lower);
	strqset(q, QHIWAT, 0, (intptr_t)hiwat);
	strqset(q, QLOWAT, 0, (intptr_t)lowat);
	us_harness_run(h);
}

static gboolean
is_reply_to(mblk_t *mp, unsigned int id)
{
	if (DB_TYPE(mp) != M_IOCACK && DB_TYPE(mp) != M_IOCNAK)
		return FALSE;
	return MBLKL(mp) >= sizeof(struct iocblk) && ((struct iocblk *)mp->b_rptr)->ioc_id == id;
}

mblk_t *
us_harness_ioctl(UsHarness *h, int cmd, const void *data, size_t len)
{
	mblk_t *mp = mkiocb((unsigned int)cmd);
	g_assert(mp != NULL);
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	unsigned int id = ioc->ioc_id;
	ioc->ioc_count = len;
	if (len > 0)
		mp->b_cont = us_msg_from(data, len, 0);
	us_harness_push_down(h, mp);
	for (GList *l = h->upper.out.head; l; l = l->next) {
		if (is_reply_to(l->data, id)) {
			mblk_t *reply = l->data;
			g_queue_delete_link(&h->upper.out, l);
			return reply;
		}
	}
	return NULL;
}

UsWorld *
us_harness_world(UsHarness *h)
{
	return h->world;
}

UsStack *
us_harness_stack(UsHarness *h)
{
	return h->stack;
}

UsStream *
us_harness_stream(UsHarness *h)
{
	return h->st;
}

queue_t *
us_harness_rq(UsHarness *h)
{
	return RD(us_stream_head_wq(h->st)->q_next);
}

queue_t *
us_harness_wq(UsHarness *h)
{
	return us_stream_head_wq(h->st)->q_next;
}
