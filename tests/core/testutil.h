/* SPDX-License-Identifier: MIT */
/*
 * testutil.h -- small helpers shared by the engine's unit tests.
 *
 * The "probe" module: a module whose put and service behaviour a test sets
 * per instance, and which records what happened to it.  Its put procedure
 * queues (putq) or forwards (putnext) ordinary messages as configured; its
 * service procedure counts its runs and, when `drain` is set, forwards while
 * canputnext() allows and stops with putbq() otherwise.
 */
#ifndef US_TESTUTIL_H
#define US_TESTUTIL_H

#include <errno.h>
#include <string.h>

#include <ustreams/debug.h>
#include <ustreams/harness.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

typedef struct {
	gboolean queue_puts; /* put: putq ordinary messages (else putnext) */
	gboolean drain;      /* service: forward while canputnext */
	guint srv_runs;      /* service procedure invocations */
	guint puts;          /* put procedure invocations */
	int open_error;      /* open returns this */
} ProbeSide;

typedef struct {
	ProbeSide side[2]; /* [0] read, [1] write */
} Probe;

static inline ProbeSide *
probe_side(queue_t *q)
{
	Probe *p = RD(q)->q_ptr;
	return &p->side[(q->q_flag & QREADR) ? 0 : 1];
}

static int probe_next_open_error;

static inline int
probe_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp, (void)oflag, (void)sflag, (void)crp;
	if (probe_next_open_error) {
		int e = probe_next_open_error;
		probe_next_open_error = 0;
		return e;
	}
	Probe *p = g_new0(Probe, 1);
	p->side[0].drain = p->side[1].drain = TRUE;
	rq->q_ptr = WR(rq)->q_ptr = p;
	return 0;
}

static inline int
probe_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag, (void)crp;
	g_free(rq->q_ptr);
	return 0;
}

static inline int
probe_put(queue_t *q, mblk_t *mp)
{
	ProbeSide *s = probe_side(q);
	s->puts++;
	if (DB_TYPE(mp) == M_FLUSH) {
		us_default_flush(q, mp);
		return 0;
	}
	if (s->queue_puts && DB_TYPE(mp) < QPCTL)
		putq(q, mp);
	else
		putnext(q, mp);
	return 0;
}

static inline int
probe_srv(queue_t *q)
{
	ProbeSide *s = probe_side(q);
	mblk_t *mp;
	s->srv_runs++;
	if (!s->drain)
		return 0;
	while ((mp = getq(q)) != NULL) {
		if (DB_TYPE(mp) < QPCTL && !bcanputnext(q, mp->b_band)) {
			putbq(q, mp);
			return 0;
		}
		putnext(q, mp);
	}
	return 0;
}

static struct module_info probe_minfo = {
	.mi_idname = "probe", .mi_maxpsz = INFPSZ, .mi_hiwat = 100, .mi_lowat = 30
};
static struct qinit probe_rinit = { .qi_putp = probe_put,
				    .qi_srvp = probe_srv,
				    .qi_qopen = probe_open,
				    .qi_qclose = probe_close,
				    .qi_minfo = &probe_minfo };
static struct qinit probe_winit = { .qi_putp = probe_put,
				    .qi_srvp = probe_srv,
				    .qi_minfo = &probe_minfo };
static struct streamtab probe_info = { .st_rdinit = &probe_rinit, .st_wrinit = &probe_winit };
/* Same module without service procedures ("putonly"). */
static struct qinit putonly_rinit = { .qi_putp = probe_put,
				      .qi_qopen = probe_open,
				      .qi_qclose = probe_close,
				      .qi_minfo = &probe_minfo };
static struct qinit putonly_winit = { .qi_putp = probe_put, .qi_minfo = &probe_minfo };
static struct streamtab putonly_info = { .st_rdinit = &putonly_rinit, .st_wrinit = &putonly_winit };

static const UsModuleDesc probe_desc = { .abi_version = US_ABI_VERSION,
					 .name = "probe",
					 .summary = "test probe",
					 .kind = US_KIND_MODULE,
					 .streamtab = &probe_info };
static const UsModuleDesc putonly_desc = { .abi_version = US_ABI_VERSION,
					   .name = "putonly",
					   .summary = "test probe without service procedures",
					   .kind = US_KIND_MODULE,
					   .streamtab = &putonly_info };

static inline void
test_register_probes(void)
{
	g_assert_true(us_registry_add(&probe_desc, NULL));
	g_assert_true(us_registry_add(&putonly_desc, NULL));
}

/* A message of type `type`, band `band`, with len bytes of value `fill`. */
static inline mblk_t *
tmsg(unsigned char type, unsigned char band, size_t len, unsigned char fill)
{
	mblk_t *mp = allocb(len, BPRI_MED);
	g_assert_nonnull(mp);
	DB_TYPE(mp) = type;
	mp->b_band = band;
	memset(mp->b_wptr, fill, len);
	mp->b_wptr += len;
	return mp;
}

/* A world + stack fixture with one stream: plain head / ... / driver. */
typedef struct {
	UsWorld *world;
	UsStack *stack;
	UsStream *st;
	gint64 live0;
} Fx;

static inline void
fx_open(Fx *fx, const char *driver)
{
	fx->live0 = us_msg_live_count();
	fx->world = us_world_new(US_CLOCK_VIRTUAL, 1);
	fx->stack = us_stack_new(fx->world, "test");
	GError *error = NULL;
	fx->st = us_stream_open(fx->stack, driver, 0, &us_plain_head, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fx->st);
}

static inline void
fx_push(Fx *fx, const char *module)
{
	GError *error = NULL;
	g_assert_cmpint(us_stream_push(fx->st, module, &error), ==, 0);
	g_assert_no_error(error);
}

/* Write queue of the module at position i below the head. */
static inline queue_t *
fx_wq(Fx *fx, guint i)
{
	queue_t *q = us_stream_head_wq(fx->st)->q_next;
	while (i-- > 0)
		q = q->q_next;
	return q;
}

static inline void
fx_close(Fx *fx)
{
	us_world_free(fx->world);
	g_assert_cmpint(us_msg_live_count(), ==, fx->live0);
}

#endif
