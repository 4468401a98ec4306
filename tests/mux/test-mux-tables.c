/* SPDX-License-Identifier: MIT */
/*
 * test-mux-tables.c -- the multiplexing helpers (mux/mux.h) and the testmux
 * driver (mux/testmux.c).
 *
 * The tables are tested as plain data structures.  The link ioctls and the
 * driver are tested on real streams of a virtual-time world, doing by hand
 * what the stream head does for I_LINK (streamhead/link.c): the lower
 * stream's head pair gets the driver's st_muxrinit/st_muxwinit with q_ptr
 * NULL, and an M_IOCTL carrying a struct linkblk goes to the driver's
 * upper write queue from a plain head.
 *
 * Lower streams are loop-around drivers (drivers/loop): what testmux sends
 * down a lower stream comes up its loop partner's plain head, and what is
 * written on the partner comes up into testmux.  Water marks lowered with
 * strqset() make flow control visible with a few small messages.
 */
#include <errno.h>
#include <string.h>

#include <ustreams/debug.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/stropts.h>
#include <ustreams/world.h>

#include "../../drivers/loop/loop.h"
#include "mux.h"
#include "testmux.h"

/* ------------------------------------------------------------------ */
/* Fixture                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
	UsWorld *world;
	UsStack *stack;
	gint64 live0;   /* live messages when the test began */
	int next_muxid; /* as the stream head hands them out */
	guint setopts;  /* M_SETOPTS SO_WROFF taken by bind_key() */
} Fx;

/* A lower stream: a loop stream linked under the mux, and its partner. */
typedef struct {
	UsStream *low;  /* linked below the mux */
	UsStream *peer; /* loop partner: sees what the mux sends down `low` */
	int muxid;
} Lower;

static void
fx_init(Fx *fx)
{
	fx->live0 = us_msg_live_count();
	fx->world = us_world_new(US_CLOCK_VIRTUAL, 1);
	fx->stack = us_stack_new(fx->world, "mux");
	fx->next_muxid = 1;
	fx->setopts = 0;
}

static void
fx_fini(Fx *fx)
{
	us_world_free(fx->world);
	g_assert_cmpint(us_msg_live_count(), ==, fx->live0);
}

static void
run(Fx *fx)
{
	us_world_run_pending(fx->world);
}

static UsStream *
open_st(Fx *fx, const char *driver)
{
	GError *error = NULL;
	UsStream *st = us_stream_open(fx->stack, driver, 0, &us_plain_head, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(st);
	return st;
}

static guint64
drops(Fx *fx, guint reason)
{
	return us_stack_drop_count(fx->stack, "testmux", reason);
}

/* Sends an M_IOCTL built by the caller (consumed) down st and returns 0 for
 * an M_IOCACK or the M_IOCNAK's errno. */
static int
ioctl_msg(Fx *fx, UsStream *st, mblk_t *mp)
{
	unsigned int id = ((struct iocblk *)mp->b_rptr)->ioc_id;
	put(us_stream_head_wq(st), mp);
	run(fx);
	mblk_t *r = us_plain_head_get(st);
	g_assert_nonnull(r);
	g_assert_true(DB_TYPE(r) == M_IOCACK || DB_TYPE(r) == M_IOCNAK);
	struct iocblk *ioc = (struct iocblk *)r->b_rptr;
	g_assert_cmpuint(ioc->ioc_id, ==, id);
	int err = DB_TYPE(r) == M_IOCACK ? 0 : ioc->ioc_error;
	if (DB_TYPE(r) == M_IOCNAK)
		g_assert_cmpint(err, !=, 0);
	freemsg(r);
	return err;
}

/* An I_STR-style ioctl: len bytes of arg in b_cont, ioc_count = len. */
static int
ioctl_str(Fx *fx, UsStream *st, int cmd, const void *arg, size_t len)
{
	mblk_t *mp = mkiocb((unsigned int)cmd);
	((struct iocblk *)mp->b_rptr)->ioc_count = len;
	if (arg != NULL)
		mp->b_cont = us_msg_from(arg, len, 0);
	return ioctl_msg(fx, st, mp);
}

/* A clone open of testmux. */
static UsStream *
open_upper(Fx *fx)
{
	return open_st(fx, "testmux");
}

/* TESTMUX_BIND; on success also takes the M_SETOPTS that testmux sends up
 * at bind (behind the M_IOCACK, which is high priority). */
static int
bind_key(Fx *fx, UsStream *up, int key)
{
	int err = ioctl_str(fx, up, TESTMUX_BIND, &key, sizeof key);
	mblk_t *mp = us_plain_head_get(up);
	if (err != 0) {
		g_assert_null(mp);
		return err;
	}
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_SETOPTS);
	struct stroptions so;
	g_assert_cmpuint(us_msgcopyout(mp, 0, &so, sizeof so), ==, sizeof so);
	g_assert_cmpuint(so.so_flags & SO_WROFF, !=, 0);
	g_assert_cmpuint(so.so_wroff, ==, 1);
	fx->setopts++;
	freemsg(mp);
	return 0;
}

static UsStream *
open_bound(Fx *fx, int key)
{
	UsStream *up = open_upper(fx);
	g_assert_cmpint(bind_key(fx, up, key), ==, 0);
	return up;
}

static void
lower_open(Fx *fx, Lower *lo)
{
	lo->low = open_st(fx, "loop");
	lo->peer = open_st(fx, "loop");
	int minor = (int)getminor(us_stream_dev(lo->peer));
	g_assert_cmpint(ioctl_str(fx, lo->low, LOOP_SET, &minor, sizeof minor), ==, 0);
	lo->muxid = 0;
}

static int
link_ioctl(Fx *fx, UsStream *ctl, int cmd, Lower *lo)
{
	gboolean persistent = cmd == I_PLINK || cmd == I_PUNLINK;
	struct linkblk lb = {
		.l_qtop = persistent ? NULL : WR(us_stream_driver_rq(ctl)),
		.l_qbot = us_stream_head_wq(lo->low),
		.l_index = lo->muxid,
	};
	return ioctl_str(fx, ctl, cmd, &lb, sizeof lb);
}

/* What the stream head does when the link is over: its own procedures. */
static void
give_back(Lower *lo)
{
	queue_t *rq = us_stream_head_rq(lo->low);
	setq(rq, us_plain_head.rinit, us_plain_head.winit);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
}

/* I_LINK or I_PLINK lo->low under the driver of ctl, as the stream head
 * does.  Returns 0 or the NAK's errno (the head pair is then given back). */
static int
link_under(Fx *fx, UsStream *ctl, Lower *lo, int cmd)
{
	const struct streamtab *tab = us_queue_desc(us_stream_driver_rq(ctl))->streamtab;
	queue_t *rq = us_stream_head_rq(lo->low);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	setq(rq, tab->st_muxrinit, tab->st_muxwinit);
	lo->muxid = fx->next_muxid++;
	int err = link_ioctl(fx, ctl, cmd, lo);
	if (err != 0)
		give_back(lo);
	return err;
}

/* I_UNLINK or I_PUNLINK, then the head takes its pair back (as link.c,
 * which does so even when the driver NAKs). */
static int
unlink_from(Fx *fx, UsStream *ctl, Lower *lo, int cmd)
{
	int err = link_ioctl(fx, ctl, cmd, lo);
	give_back(lo);
	return err;
}

static void
set_marks(queue_t *q, size_t hiwat, size_t lowat)
{
	g_assert_cmpint(strqset(q, QHIWAT, 0, (intptr_t)hiwat), ==, 0);
	g_assert_cmpint(strqset(q, QLOWAT, 0, (intptr_t)lowat), ==, 0);
}

static queue_t *
upper_wq(UsStream *up)
{
	return WR(us_stream_driver_rq(up));
}

/* The lower record of a linked lower (q_ptr of its top queues). */
static UsMuxLower *
lower_rec(Lower *lo)
{
	return us_mux_lower_of(us_stream_head_wq(lo->low));
}

/* A 10-byte payload: tag, sequence number, filler. */
static mblk_t *
payload(unsigned char tag, unsigned char seq, size_t headroom)
{
	unsigned char b[10];
	memset(b, 'p', sizeof b);
	b[0] = tag;
	b[1] = seq;
	return us_msg_from(b, sizeof b, headroom);
}

/* An M_FLUSH asking for `how` (FLUSHR, FLUSHW, FLUSHRW). */
static mblk_t *
flush_msg(unsigned char how)
{
	mblk_t *mp = allocb(1, BPRI_HI);
	g_assert_nonnull(mp);
	DB_TYPE(mp) = M_FLUSH;
	*mp->b_wptr++ = how;
	return mp;
}

static void
send_down(Fx *fx, UsStream *up, unsigned char tag, unsigned char seq)
{
	put(us_stream_head_wq(up), payload(tag, seq, 0));
	run(fx);
}

/* Writes on the loop partner: comes up `low` into the mux as [key, ...]. */
static void
send_up(Fx *fx, Lower *lo, unsigned char key, unsigned char seq)
{
	mblk_t *mp = payload(seq, seq, 1);
	*--mp->b_rptr = key;
	put(us_stream_head_wq(lo->peer), mp);
	run(fx);
}

/* Takes every message st's head can get, running the world until nothing
 * more moves; returns them in order (free with free_msgs). */
static GPtrArray *
drain(Fx *fx, UsStream *st)
{
	GPtrArray *out = g_ptr_array_new();
	for (;;) {
		mblk_t *mp;
		while ((mp = us_plain_head_get(st)) != NULL)
			g_ptr_array_add(out, mp);
		if (us_world_run_pending(fx->world) == 0)
			return out;
	}
}

static void
free_one(gpointer mp, gpointer data)
{
	(void)data;
	freemsg(mp);
}

static void
free_msgs(GPtrArray *a)
{
	g_ptr_array_foreach(a, free_one, NULL);
	g_ptr_array_free(a, TRUE);
}

/* Asserts that mp is M_DATA holding exactly len bytes equal to want. */
static void
assert_data(mblk_t *mp, const void *want, size_t len)
{
	unsigned char buf[64];
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_DATA);
	g_assert_cmpuint(msgdsize(mp), ==, len);
	g_assert_cmpuint(us_msgcopyout(mp, 0, buf, sizeof buf), ==, len);
	g_assert_cmpmem(buf, len, want, len);
}

static unsigned char
byte_at(mblk_t *mp, size_t off)
{
	unsigned char b = 0;
	g_assert_cmpuint(us_msgcopyout(mp, off, &b, 1), ==, 1);
	return b;
}

static void
close_all(UsStream **sts, guint n)
{
	for (guint i = 0; i < n; i++)
		us_stream_close(sts[i]);
}

/* ------------------------------------------------------------------ */
/* Tables                                                             */
/* ------------------------------------------------------------------ */

/* A queue pair that is not part of a stream (only flags and a qinit). */
typedef struct {
	queue_t q[2];
} FakePair;

static struct qinit fake_qinit; /* no service procedure: qenable() does nothing */

static void
fake_pair_init(FakePair *fp)
{
	memset(fp, 0, sizeof *fp);
	fp->q[0].q_flag = QREADR;
	fp->q[0].q_qinfo = fp->q[1].q_qinfo = &fake_qinit;
}

static void
test_wait_list(void)
{
	FakePair a, b;
	fake_pair_init(&a);
	fake_pair_init(&b);
	UsMuxWaitList wl;
	us_mux_wait_init(&wl);
	us_mux_wait_add(&wl, &a.q[1]);
	us_mux_wait_add(&wl, &b.q[1]);
	us_mux_wait_add(&wl, &a.q[1]); /* once only */
	g_assert_cmpuint(us_mux_wait_count(&wl), ==, 2);
	g_assert_true(us_mux_wait_remove(&wl, &a.q[1]));
	g_assert_false(us_mux_wait_remove(&wl, &a.q[1]));
	g_assert_cmpuint(us_mux_wait_count(&wl), ==, 1);
	us_mux_wait_add(&wl, &a.q[1]);
	g_assert_cmpuint(us_mux_wait_wake(&wl), ==, 2);
	g_assert_cmpuint(us_mux_wait_count(&wl), ==, 0);
	g_assert_cmpuint(us_mux_wait_wake(&wl), ==, 0);
	us_mux_wait_add(&wl, &b.q[1]);
	us_mux_wait_clear(&wl);
	g_assert_cmpuint(us_mux_wait_count(&wl), ==, 0);
}

static guint cookies_freed;

static void
count_cookie_free(gpointer p)
{
	cookies_freed++;
	g_free(p);
}

static void
collect_muxid(UsMuxLower *lower, gpointer data)
{
	g_array_append_val((GArray *)data, lower->ml_muxid);
}

static void
test_lowers_table(void)
{
	FakePair p[3], other;
	UsMuxLowers *t = us_mux_lowers_new(count_cookie_free);
	cookies_freed = 0;
	for (int i = 0; i < 3; i++) {
		fake_pair_init(&p[i]);
		struct linkblk lb = { .l_qbot = &p[i].q[1], .l_index = 10 + i };
		int err = -1;
		UsMuxLower *lo = us_mux_lowers_add(t, &lb, i == 1 ? I_PLINK : I_LINK,
						   g_strdup("cookie"), &err);
		g_assert_nonnull(lo);
		g_assert_cmpint(err, ==, 0);
		g_assert_cmpint(lo->ml_cmd, ==, i == 1 ? I_PLINK : I_LINK);
	}
	fake_pair_init(&other);
	int err = 0;
	struct linkblk dup_id = { .l_qbot = &other.q[1], .l_index = 11 };
	g_assert_null(us_mux_lowers_add(t, &dup_id, I_LINK, NULL, &err));
	g_assert_cmpint(err, ==, EEXIST);
	struct linkblk dup_q = { .l_qbot = &p[0].q[1], .l_index = 99 };
	g_assert_null(us_mux_lowers_add(t, &dup_q, I_LINK, NULL, &err));
	g_assert_cmpint(err, ==, EEXIST);
	struct linkblk bad[] = { { .l_qbot = NULL, .l_index = 5 },
				 { .l_qbot = &other.q[0], .l_index = 5 },
				 { .l_qbot = &other.q[1], .l_index = -1 } };
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_null(us_mux_lowers_add(t, &bad[i], I_LINK, NULL, &err));
		g_assert_cmpint(err, ==, EINVAL);
	}
	struct linkblk ok = { .l_qbot = &other.q[1], .l_index = 5 };
	g_assert_null(us_mux_lowers_add(t, &ok, I_UNLINK, NULL, &err));
	g_assert_cmpint(err, ==, EINVAL);

	g_assert_cmpuint(us_mux_lowers_count(t), ==, 3);
	g_assert_true(us_mux_lowers_find(t, 11)->ml_qbot == &p[1].q[1]);
	g_assert_null(us_mux_lowers_find(t, 5));
	g_assert_true(us_mux_lowers_find_queue(t, &p[2].q[0]) == us_mux_lowers_find(t, 12));
	g_assert_true(us_mux_lowers_find_queue(t, &p[2].q[1]) == us_mux_lowers_find(t, 12));
	g_assert_null(us_mux_lowers_find_queue(t, &other.q[1]));

	/* Removing the middle keeps link order; the first is the oldest. */
	g_assert_true(us_mux_lowers_remove(t, 11));
	g_assert_false(us_mux_lowers_remove(t, 11));
	g_assert_cmpuint(cookies_freed, ==, 1);
	g_assert_cmpint(us_mux_lowers_first(t)->ml_muxid, ==, 10);
	g_assert_cmpint(us_mux_lowers_next(us_mux_lowers_first(t))->ml_muxid, ==, 12);
	g_assert_null(us_mux_lowers_next(us_mux_lowers_find(t, 12)));
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(int));
	us_mux_lowers_foreach(t, collect_muxid, ids);
	g_assert_cmpuint(ids->len, ==, 2);
	g_assert_cmpint(g_array_index(ids, int, 0), ==, 10);
	g_assert_cmpint(g_array_index(ids, int, 1), ==, 12);
	g_array_free(ids, TRUE);
	g_assert_true(us_mux_lowers_remove(t, 10));
	g_assert_cmpint(us_mux_lowers_first(t)->ml_muxid, ==, 12);

	/* The freed muxid and queue may be linked again. */
	struct linkblk again = { .l_qbot = &p[1].q[1], .l_index = 11 };
	g_assert_nonnull(us_mux_lowers_add(t, &again, I_LINK, NULL, NULL));
	us_mux_lowers_free(t); /* frees the last cookie (muxid 12) */
	g_assert_cmpuint(cookies_freed, ==, 3);
}

static void
collect_minor(UsMuxUpper *up, gpointer data)
{
	g_array_append_val((GArray *)data, up->mu_minor);
}

static void
test_uppers_lowest_free(void)
{
	FakePair p[6];
	UsMuxUppers *u = us_mux_uppers_new(1, 5);
	guint m;
	for (guint i = 0; i < 5; i++) {
		fake_pair_init(&p[i]);
		g_assert_cmpint(us_mux_uppers_alloc(u, &p[i].q[0], GUINT_TO_POINTER(i + 100), &m),
				==, 0);
		g_assert_cmpuint(m, ==, i + 1);
	}
	fake_pair_init(&p[5]);
	g_assert_cmpint(us_mux_uppers_alloc(u, &p[5].q[0], NULL, &m), ==, ENXIO);
	g_assert_cmpuint(us_mux_uppers_count(u), ==, 5);
	g_assert_true(us_mux_uppers_any_rq(u) == &p[0].q[0]);

	g_assert_true(us_mux_uppers_remove(u, 4));
	g_assert_true(us_mux_uppers_remove(u, 2));
	g_assert_false(us_mux_uppers_remove(u, 2));
	g_assert_null(us_mux_uppers_find(u, 2));
	g_assert_cmpuint(GPOINTER_TO_UINT(us_mux_uppers_find(u, 3)->mu_state), ==, 102);
	g_assert_cmpint(us_mux_uppers_alloc(u, &p[5].q[0], NULL, &m), ==, 0);
	g_assert_cmpuint(m, ==, 2); /* lowest free first */
	g_assert_cmpint(us_mux_uppers_alloc(u, &p[5].q[0], NULL, &m), ==, 0);
	g_assert_cmpuint(m, ==, 4);
	g_assert_cmpint(us_mux_uppers_alloc(u, &p[5].q[0], NULL, &m), ==, ENXIO);
	g_assert_true(us_mux_uppers_remove(u, 1));
	g_assert_true(us_mux_uppers_any_rq(u) == &p[5].q[0]); /* minor 2 now */
	g_assert_cmpint(us_mux_uppers_alloc(u, &p[0].q[0], NULL, &m), ==, 0);
	g_assert_cmpuint(m, ==, 1);

	GArray *minors = g_array_new(FALSE, FALSE, sizeof(guint));
	us_mux_uppers_foreach(u, collect_minor, minors);
	g_assert_cmpuint(minors->len, ==, 5);
	for (guint i = 0; i < minors->len; i++)
		g_assert_cmpuint(g_array_index(minors, guint, i), ==, i + 1);
	g_array_free(minors, TRUE);
	us_mux_uppers_free(u);

	/* A range not starting at 1, one minor wide. */
	u = us_mux_uppers_new(7, 7);
	g_assert_null(us_mux_uppers_any_rq(u));
	g_assert_cmpint(us_mux_uppers_alloc(u, &p[0].q[0], NULL, &m), ==, 0);
	g_assert_cmpuint(m, ==, 7);
	g_assert_cmpint(us_mux_uppers_alloc(u, &p[1].q[0], NULL, &m), ==, ENXIO);
	g_assert_true(us_mux_uppers_remove(u, 7));
	g_assert_cmpint(us_mux_uppers_alloc(u, &p[1].q[0], NULL, &m), ==, 0);
	g_assert_cmpuint(m, ==, 7);
	us_mux_uppers_free(u);
}

static void
test_slots(void)
{
	FakePair a, b;
	fake_pair_init(&a);
	fake_pair_init(&b);
	UsMuxSlots *s = us_mux_slots_new(256);
	gpointer cookie = NULL;
	g_assert_cmpint(us_mux_slots_add(s, 6, &a.q[0], GINT_TO_POINTER(6)), ==, 0);
	g_assert_cmpint(us_mux_slots_add(s, 6, &b.q[0], NULL), ==, EADDRINUSE);
	g_assert_cmpint(us_mux_slots_add(s, 256, &b.q[0], NULL), ==, EINVAL);
	g_assert_cmpint(us_mux_slots_add(s, 7, NULL, NULL), ==, EINVAL);
	g_assert_cmpint(us_mux_slots_add(s, 17, &a.q[0], GINT_TO_POINTER(17)), ==, 0);
	g_assert_cmpint(us_mux_slots_add(s, 0, &b.q[0], NULL), ==, 0);
	g_assert_cmpint(us_mux_slots_add(s, 255, &b.q[0], NULL), ==, 0);
	g_assert_cmpuint(us_mux_slots_count(s), ==, 4);
	g_assert_true(us_mux_slots_lookup(s, 17, &cookie) == &a.q[0]);
	g_assert_cmpint(GPOINTER_TO_INT(cookie), ==, 17);
	g_assert_true(us_mux_slots_lookup(s, 0, NULL) == &b.q[0]);
	g_assert_null(us_mux_slots_lookup(s, 5, &cookie));
	g_assert_null(us_mux_slots_lookup(s, 256, &cookie));
	g_assert_null(us_mux_slots_lookup(s, G_MAXUINT, NULL));
	g_assert_true(us_mux_slots_remove(s, 6));
	g_assert_false(us_mux_slots_remove(s, 6));
	g_assert_false(us_mux_slots_remove(s, 300));
	g_assert_cmpint(us_mux_slots_add(s, 6, &b.q[0], NULL), ==, 0);
	g_assert_cmpuint(us_mux_slots_remove_queue(s, &b.q[0]), ==, 3);
	g_assert_cmpuint(us_mux_slots_count(s), ==, 1);
	g_assert_null(us_mux_slots_lookup(s, 255, NULL));
	g_assert_true(us_mux_slots_lookup(s, 17, NULL) == &a.q[0]);
	us_mux_slots_free(s);
}

static void
count_tuple(const UsMuxTuple *key, queue_t *q, gpointer cookie, gpointer data)
{
	(void)q;
	(void)cookie;
	g_assert_cmpuint(key->t_len, >=, 1);
	(*(guint *)data)++;
}

static void
test_tuples(void)
{
	FakePair a, b;
	fake_pair_init(&a);
	fake_pair_init(&b);
	UsMuxTuples *t = us_mux_tuples_new(0x5eed);
	UsMuxTuple conn = US_MUX_TUPLE(17, 0x0a000001, 5353, 0x0a000002, 40000);
	UsMuxTuple listen = US_MUX_TUPLE(17, 0x0a000001, 5353);
	UsMuxTuple longer = US_MUX_TUPLE(17, 0x0a000001, 5353, 0);
	g_assert_cmpuint(conn.t_len, ==, 5);
	g_assert_cmpuint(listen.t_len, ==, 3);
	gpointer cookie = NULL;
	g_assert_cmpint(us_mux_tuples_add(t, &conn, &a.q[0], GINT_TO_POINTER(1)), ==, 0);
	g_assert_cmpint(us_mux_tuples_add(t, &listen, &b.q[0], GINT_TO_POINTER(2)), ==, 0);
	g_assert_cmpint(us_mux_tuples_add(t, &conn, &b.q[0], NULL), ==, EADDRINUSE);
	g_assert_cmpint(us_mux_tuples_add(t, &longer, &b.q[0], NULL), ==, 0); /* other length */
	UsMuxTuple empty = { .t_len = 0 }, huge = { .t_len = US_MUX_TUPLE_MAX + 1 };
	g_assert_cmpint(us_mux_tuples_add(t, &empty, &a.q[0], NULL), ==, EINVAL);
	g_assert_cmpint(us_mux_tuples_add(t, &huge, &a.q[0], NULL), ==, EINVAL);
	g_assert_cmpint(us_mux_tuples_add(t, &listen, NULL, NULL), ==, EINVAL);
	g_assert_null(us_mux_tuples_lookup(t, &huge, NULL));

	/* Exact match first, then the listener, as a transport would. */
	UsMuxTuple probe = US_MUX_TUPLE(17, 0x0a000001, 5353, 0x0a000002, 40000);
	g_assert_true(us_mux_tuples_lookup(t, &probe, &cookie) == &a.q[0]);
	g_assert_cmpint(GPOINTER_TO_INT(cookie), ==, 1);
	probe.t_w[4] = 40001; /* words past t_len are ignored: */
	g_assert_null(us_mux_tuples_lookup(t, &probe, NULL));
	probe.t_len = 3;
	g_assert_true(us_mux_tuples_lookup(t, &probe, &cookie) == &b.q[0]);
	g_assert_cmpint(GPOINTER_TO_INT(cookie), ==, 2);

	g_assert_cmpuint(us_mux_tuples_count(t), ==, 3);
	guint n = 0;
	us_mux_tuples_foreach(t, count_tuple, &n);
	g_assert_cmpuint(n, ==, 3);
	g_assert_true(us_mux_tuples_remove(t, &conn));
	g_assert_false(us_mux_tuples_remove(t, &conn));
	g_assert_cmpuint(us_mux_tuples_remove_queue(t, &b.q[0]), ==, 2);
	g_assert_cmpuint(us_mux_tuples_count(t), ==, 0);
	us_mux_tuples_free(t);
}

/* Many random 5-tuples: every one is found with its own cookie, before and
 * after half of them are removed. */
static void
test_tuples_many(void)
{
	enum { N = 4000 };
	FakePair a;
	fake_pair_init(&a);
	GRand *r = g_rand_new_with_seed(42);
	UsMuxTuple *keys = g_new(UsMuxTuple, N);
	UsMuxTuples *t = us_mux_tuples_new(g_rand_int(r));
	for (guint i = 0; i < N; i++) {
		keys[i] = US_MUX_TUPLE(6, g_rand_int(r), g_rand_int(r) & 0xffff, g_rand_int(r), i);
		g_assert_cmpint(us_mux_tuples_add(t, &keys[i], &a.q[0], GUINT_TO_POINTER(i + 1)),
				==, 0);
	}
	g_assert_cmpuint(us_mux_tuples_count(t), ==, N);
	for (guint i = 0; i < N; i += 2)
		g_assert_true(us_mux_tuples_remove(t, &keys[i]));
	for (guint i = 0; i < N; i++) {
		gpointer cookie = NULL;
		queue_t *q = us_mux_tuples_lookup(t, &keys[i], &cookie);
		if (i % 2 == 0) {
			g_assert_null(q);
		} else {
			g_assert_true(q == &a.q[0]);
			g_assert_cmpuint(GPOINTER_TO_UINT(cookie), ==, i + 1);
		}
	}
	g_assert_cmpuint(us_mux_tuples_count(t), ==, N / 2);
	us_mux_tuples_free(t);
	g_free(keys);
	g_rand_free(r);
}

/* ------------------------------------------------------------------ */
/* us_mux_handle_link_ioctl, with a minimal test multiplexor          */
/* ------------------------------------------------------------------ */

/* "linkprobe": a multiplexor that only links; its lower read side keeps
 * what arrives (putq, no service procedure). */
static UsMuxLowers *lp_lowers;
static int lp_links, lp_unlinks, lp_refuse;

static int
lp_on_link(queue_t *upper_wq, UsMuxLower *lower)
{
	g_assert_nonnull(upper_wq);
	g_assert_true(us_mux_lower_of(lower->ml_qbot) == lower);
	g_assert_true(us_mux_lower_of(RD(lower->ml_qbot)) == lower);
	lp_links++;
	if (lp_refuse != 0)
		return lp_refuse;
	lower->ml_cookie = g_strdup("linkprobe");
	return 0;
}

static void
lp_on_unlink(queue_t *upper_wq, UsMuxLower *lower)
{
	(void)upper_wq;
	g_assert_cmpstr(lower->ml_cookie, ==, "linkprobe");
	lp_unlinks++;
}

static const UsMuxLinkOps lp_ops = { .on_link = lp_on_link,
				     .on_unlink = lp_on_unlink,
				     .unlink_drop_reason = 0 };

static int
lp_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)rq, (void)devp, (void)oflag, (void)crp;
	return sflag == CLONEOPEN ? 0 : ENXIO;
}

static int
lp_wput(queue_t *wq, mblk_t *mp)
{
	if (us_mux_handle_link_ioctl(wq, mp, lp_lowers, &lp_ops))
		return 0;
	if (DB_TYPE(mp) == M_IOCTL)
		miocnak(wq, mp, 0, EOPNOTSUPP); /* tells the test FALSE came back */
	else
		us_default_put(wq, mp);
	return 0;
}

static int
lp_rput(queue_t *rq, mblk_t *mp)
{
	putnext(rq, mp);
	return 0;
}

static int
lp_lrput(queue_t *rq, mblk_t *mp)
{
	putq(rq, mp);
	return 0;
}

static struct module_info lp_minfo = {
	.mi_idname = "linkprobe", .mi_maxpsz = INFPSZ, .mi_hiwat = 1000, .mi_lowat = 100
};
static struct qinit lp_rinit = { .qi_putp = lp_rput, .qi_qopen = lp_open, .qi_minfo = &lp_minfo };
static struct qinit lp_winit = { .qi_putp = lp_wput, .qi_minfo = &lp_minfo };
static struct qinit lp_lrinit = { .qi_putp = lp_lrput, .qi_minfo = &lp_minfo };
static struct qinit lp_lwinit = { .qi_putp = us_mux_lower_wput,
				  .qi_srvp = us_mux_lower_wsrv,
				  .qi_minfo = &lp_minfo };
static struct streamtab lp_info = { .st_rdinit = &lp_rinit,
				    .st_wrinit = &lp_winit,
				    .st_muxrinit = &lp_lrinit,
				    .st_muxwinit = &lp_lwinit };
static const char *const lp_drop_reasons[] = { "lower unlinked", NULL };
static const UsModuleDesc lp_desc = { .abi_version = US_ABI_VERSION,
				      .name = "linkprobe",
				      .summary = "test multiplexor for the link ioctls",
				      .kind = US_KIND_MUX,
				      .streamtab = &lp_info,
				      .drop_reasons = lp_drop_reasons };

/* A link M_IOCTL with a hand-made linkblk and ioc_count. */
static mblk_t *
link_msg(int cmd, queue_t *qtop, queue_t *qbot, int muxid, size_t count)
{
	struct linkblk lb = { .l_qtop = qtop, .l_qbot = qbot, .l_index = muxid };
	mblk_t *mp = mkiocb((unsigned int)cmd);
	((struct iocblk *)mp->b_rptr)->ioc_count = count;
	mp->b_cont = us_msg_from(&lb, sizeof lb, 0);
	return mp;
}

static void
test_link_ioctl_not_link(void)
{
	gint64 live0 = us_msg_live_count();
	UsMuxLowers *t = us_mux_lowers_new(NULL);
	mblk_t *mp = mkiocb(TESTMUX_BIND);
	unsigned char *rptr = mp->b_rptr;
	g_assert_false(us_mux_handle_link_ioctl(NULL, mp, t, NULL));
	g_assert_cmpint(DB_TYPE(mp), ==, M_IOCTL);
	g_assert_true(mp->b_rptr == rptr);
	freemsg(mp);
	mp = us_msg_from("x", 1, 0);
	g_assert_false(us_mux_handle_link_ioctl(NULL, mp, t, NULL));
	freemsg(mp);
	us_mux_lowers_free(t);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

static void
test_link_ioctl_validate(void)
{
	Fx fx;
	fx_init(&fx);
	lp_lowers = us_mux_lowers_new(g_free);
	lp_links = lp_unlinks = lp_refuse = 0;
	UsStream *ctl = open_st(&fx, "linkprobe");
	UsStream *low = open_st(&fx, "null");
	queue_t *top = WR(us_stream_driver_rq(ctl));
	queue_t *qbot = us_stream_head_wq(low);
	size_t lbsz = sizeof(struct linkblk);

	/* The head has not handed the pair over yet: refused. */
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_LINK, top, qbot, 1, lbsz)), ==, EINVAL);
	setq(RD(qbot), &lp_lrinit, &lp_lwinit);
	RD(qbot)->q_ptr = qbot->q_ptr = NULL;
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_LINK, top, qbot, 1, lbsz - 1)), ==, EINVAL);
	mblk_t *nocont = link_msg(I_LINK, top, qbot, 1, lbsz);
	freemsg(unlinkb(nocont));
	g_assert_cmpint(ioctl_msg(&fx, ctl, nocont), ==, EINVAL);
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_LINK, NULL, qbot, 1, lbsz)), ==, EINVAL);
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_PLINK, top, qbot, 1, lbsz)), ==, EINVAL);
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_LINK, top, RD(qbot), 1, lbsz)), ==, EINVAL);
	g_assert_cmpint(lp_links, ==, 0);

	/* The driver may refuse. */
	lp_refuse = EPERM;
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_LINK, top, qbot, 1, lbsz)), ==, EPERM);
	g_assert_cmpint(lp_links, ==, 1);
	g_assert_cmpuint(us_mux_lowers_count(lp_lowers), ==, 0);
	g_assert_null(qbot->q_ptr);
	lp_refuse = 0;

	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_LINK, top, qbot, 1, lbsz)), ==, 0);
	UsMuxLower *lo = us_mux_lowers_find(lp_lowers, 1);
	g_assert_nonnull(lo);
	g_assert_true(lo->ml_qbot == qbot && lo->ml_qtop == top && lo->ml_cmd == I_LINK);
	g_assert_true(qbot->q_ptr == lo && RD(qbot)->q_ptr == lo);
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_LINK, top, qbot, 2, lbsz)), ==, EINVAL);
	g_assert_cmpint(ioctl_str(&fx, ctl, TESTMUX_BIND, NULL, 0), ==, EOPNOTSUPP);

	/* Data put on l_qbot goes down the lower stream. */
	put(qbot, us_msg_from("down", 4, 0));
	run(&fx);
	guint64 nullmsgs = 0;
	g_assert_true(us_stat_get(us_stream_driver_rq(low), "msgs", &nullmsgs));
	g_assert_cmpuint(nullmsgs, ==, 1);

	/* Unlink: wrong muxid, wrong queue, then right; what waits is dropped. */
	put(RD(qbot), us_msg_from("up1", 3, 0));
	put(RD(qbot), us_msg_from("up2", 3, 0));
	g_assert_cmpint(qsize(RD(qbot)), ==, 2);
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_UNLINK, top, qbot, 2, lbsz)), ==, EINVAL);
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_UNLINK, top, top, 1, lbsz)), ==, EINVAL);
	g_assert_cmpint(lp_unlinks, ==, 0);
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_UNLINK, top, qbot, 1, lbsz)), ==, 0);
	g_assert_cmpint(lp_unlinks, ==, 1);
	g_assert_cmpuint(us_mux_lowers_count(lp_lowers), ==, 0);
	g_assert_null(qbot->q_ptr);
	g_assert_null(RD(qbot)->q_ptr);
	g_assert_cmpint(qsize(RD(qbot)), ==, 0);
	g_assert_cmpuint(us_stack_drop_count(fx.stack, "linkprobe", 0), ==, 2);

	/* I_PLINK has no l_qtop; I_PUNLINK undoes it. */
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_PLINK, NULL, qbot, 3, lbsz)), ==, 0);
	g_assert_cmpint(us_mux_lowers_find(lp_lowers, 3)->ml_cmd, ==, I_PLINK);
	g_assert_cmpint(ioctl_msg(&fx, ctl, link_msg(I_PUNLINK, NULL, qbot, 3, lbsz)), ==, 0);
	g_assert_cmpuint(us_mux_lowers_count(lp_lowers), ==, 0);

	setq(RD(qbot), us_plain_head.rinit, us_plain_head.winit);
	us_mux_lowers_free(lp_lowers);
	lp_lowers = NULL;
	fx_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* testmux                                                            */
/* ------------------------------------------------------------------ */

static void
test_testmux_bind_errors(void)
{
	Fx fx;
	fx_init(&fx);
	UsStream *a = open_upper(&fx), *b = open_upper(&fx);
	g_assert_cmpuint(getminor(us_stream_dev(a)), ==, 1);
	g_assert_cmpuint(getminor(us_stream_dev(b)), ==, 2);
	g_assert_cmpint(bind_key(&fx, a, -1), ==, EINVAL);
	g_assert_cmpint(bind_key(&fx, a, TESTMUX_KEY_MAX + 1), ==, EINVAL);
	g_assert_cmpint(bind_key(&fx, a, 7), ==, 0);
	g_assert_cmpuint(fx.setopts, ==, 1);              /* only a successful bind asks */
	g_assert_cmpint(bind_key(&fx, a, 8), ==, EINVAL); /* bound already */
	g_assert_cmpint(bind_key(&fx, b, 7), ==, EADDRINUSE);
	short shortarg = 9;
	g_assert_cmpint(ioctl_str(&fx, b, TESTMUX_BIND, &shortarg, sizeof shortarg), ==, EINVAL);
	g_assert_cmpint(ioctl_str(&fx, b, TESTMUX_BIND, NULL, 0), ==, EINVAL);
	g_assert_cmpint(ioctl_str(&fx, b, ('t' << 8) | 99, NULL, 0), ==, EINVAL);
	struct testmux_setlower sl = { .muxid = 1, .key = 3 };
	g_assert_cmpint(ioctl_str(&fx, b, TESTMUX_SETLOWER, &sl, sizeof sl), ==, EINVAL);

	/* Closing an upper frees its key and its minor (lowest free first). */
	us_stream_close(a);
	g_assert_cmpint(bind_key(&fx, b, 7), ==, 0);
	UsStream *c = open_upper(&fx);
	g_assert_cmpuint(getminor(us_stream_dev(c)), ==, 1);
	g_assert_cmpint(bind_key(&fx, c, 0), ==, 0);
	g_assert_cmpint(bind_key(&fx, open_upper(&fx), TESTMUX_KEY_MAX), ==, 0);
	fx_fini(&fx); /* closes b, c and the last one */
}

static void
test_testmux_route_both_ways(void)
{
	Fx fx;
	fx_init(&fx);
	UsStream *u1 = open_bound(&fx, 1), *u2 = open_bound(&fx, 2);
	Lower a, b;
	lower_open(&fx, &a);
	lower_open(&fx, &b);
	g_assert_cmpint(link_under(&fx, u1, &a, I_LINK), ==, 0);
	g_assert_cmpint(link_under(&fx, u2, &b, I_PLINK), ==, 0);
	struct testmux_setlower sl = { .muxid = b.muxid, .key = 2 };
	g_assert_cmpint(ioctl_str(&fx, u1, TESTMUX_SETLOWER, &sl, sizeof sl), ==, 0);
	sl.key = 256;
	g_assert_cmpint(ioctl_str(&fx, u1, TESTMUX_SETLOWER, &sl, sizeof sl), ==, EINVAL);

	/* Down: key 1 takes the default lower, key 2 the one assigned. */
	put(us_stream_head_wq(u1), us_msg_from("hello", 5, 0)); /* key in a new block */
	put(us_stream_head_wq(u2), us_msg_from("world", 5, 1)); /* key in the headroom */
	run(&fx);
	mblk_t *mp = us_plain_head_get(a.peer);
	assert_data(mp, "\001hello", 6);
	freemsg(mp);
	mp = us_plain_head_get(b.peer);
	assert_data(mp, "\002world", 6);
	g_assert_null(mp->b_cont); /* prepended in place */
	freemsg(mp);
	g_assert_null(us_plain_head_get(a.peer));
	g_assert_null(us_plain_head_get(b.peer));

	/* A shared block is not written into: the key goes in a block of its own. */
	mblk_t *orig = us_msg_from("dup", 3, 1);
	orig->b_rptr[-1] = 0xee;
	put(us_stream_head_wq(u1), dupmsg(orig));
	run(&fx);
	mp = us_plain_head_get(a.peer);
	assert_data(mp, "\001dup", 4);
	g_assert_nonnull(mp->b_cont);
	freemsg(mp);
	g_assert_cmpuint(orig->b_rptr[-1], ==, 0xee);
	freemsg(orig);

	/* Up: by the key byte, whichever lower it came from. */
	put(us_stream_head_wq(a.peer), us_msg_from("\002abc", 4, 0));
	put(us_stream_head_wq(b.peer), us_msg_from("\001xyz", 4, 0));
	run(&fx);
	mp = us_plain_head_get(u2);
	assert_data(mp, "abc", 3);
	freemsg(mp);
	mp = us_plain_head_get(u1);
	assert_data(mp, "xyz", 3);
	freemsg(mp);

	guint64 v = 0;
	queue_t *r1 = us_stream_driver_rq(u1);
	g_assert_true(us_stat_get(r1, "msgs_down", &v) && v == 2);
	g_assert_true(us_stat_get(r1, "bytes_down", &v) && v == 8);
	g_assert_true(us_stat_get(r1, "msgs_up", &v) && v == 1);
	g_assert_true(us_stat_get(r1, "bytes_up", &v) && v == 3);

	/* I_PUNLINK works from any upper stream. */
	g_assert_cmpint(unlink_from(&fx, u1, &b, I_PUNLINK), ==, 0);
	g_assert_cmpint(unlink_from(&fx, u1, &a, I_UNLINK), ==, 0);
	g_assert_cmpint(unlink_from(&fx, u1, &a, I_UNLINK), ==, EINVAL); /* gone */
	fx_fini(&fx);
}

static void
test_testmux_drops_counted(void)
{
	Fx fx;
	fx_init(&fx);
	UsStream *u1 = open_bound(&fx, 1), *unbound = open_upper(&fx);

	/* No lower linked yet. */
	send_down(&fx, u1, 1, 0);
	g_assert_cmpuint(drops(&fx, TESTMUX_DROP_NO_LOWER), ==, 1);

	Lower a;
	lower_open(&fx, &a);
	g_assert_cmpint(link_under(&fx, u1, &a, I_LINK), ==, 0);
	send_down(&fx, unbound, 1, 0);
	g_assert_cmpuint(drops(&fx, TESTMUX_DROP_UNBOUND), ==, 1);

	send_up(&fx, &a, 9, 0); /* nobody holds key 9 */
	send_up(&fx, &a, 9, 1);
	g_assert_cmpuint(drops(&fx, TESTMUX_DROP_UNKNOWN_KEY), ==, 2);
	put(us_stream_head_wq(a.peer), allocb(0, BPRI_MED)); /* no key byte */
	run(&fx);
	g_assert_cmpuint(drops(&fx, TESTMUX_DROP_NO_KEY), ==, 1);
	mblk_t *proto = us_msg_from("\001p", 2, 0);
	DB_TYPE(proto) = M_PROTO;
	put(us_stream_head_wq(a.peer), proto);
	run(&fx);
	g_assert_cmpuint(drops(&fx, US_DROP_UNHANDLED), ==, 1);
	mblk_t *pw = us_msg_from("x", 1, 0);
	DB_TYPE(pw) = M_PROTO;
	put(us_stream_head_wq(u1), pw);
	run(&fx);
	g_assert_cmpuint(drops(&fx, US_DROP_UNHANDLED), ==, 2);

	g_assert_null(us_plain_head_get(u1));
	g_assert_null(us_plain_head_get(unbound));
	g_assert_null(us_plain_head_get(a.peer));
	g_assert_cmpuint(drops(&fx, TESTMUX_DROP_UNLINKED), ==, 0);
	g_assert_cmpint(unlink_from(&fx, u1, &a, I_UNLINK), ==, 0);
	fx_fini(&fx);
}

static void
test_testmux_unlink_fallback(void)
{
	Fx fx;
	fx_init(&fx);
	UsStream *u5 = open_bound(&fx, 5);
	Lower a, b;
	lower_open(&fx, &a);
	lower_open(&fx, &b);
	g_assert_cmpint(link_under(&fx, u5, &a, I_LINK), ==, 0);
	g_assert_cmpint(link_under(&fx, u5, &b, I_LINK), ==, 0);
	struct testmux_setlower sl = { .muxid = b.muxid, .key = 5 };
	g_assert_cmpint(ioctl_str(&fx, u5, TESTMUX_SETLOWER, &sl, sizeof sl), ==, 0);

	send_down(&fx, u5, 'b', 0);
	mblk_t *mp = us_plain_head_get(b.peer);
	g_assert_nonnull(mp);
	g_assert_cmpuint(byte_at(mp, 0), ==, 5);
	freemsg(mp);

	/* B goes: key 5 falls back to the default lower A. */
	g_assert_cmpint(unlink_from(&fx, u5, &b, I_UNLINK), ==, 0);
	send_down(&fx, u5, 'a', 1);
	mp = us_plain_head_get(a.peer);
	g_assert_nonnull(mp);
	g_assert_cmpuint(byte_at(mp, 1), ==, 'a');
	freemsg(mp);
	g_assert_null(us_plain_head_get(b.peer));

	/* B is an ordinary stream again: its head gets what comes up. */
	put(us_stream_head_wq(b.peer), us_msg_from("\005hi", 3, 0));
	run(&fx);
	mp = us_plain_head_get(b.low);
	assert_data(mp, "\005hi", 3);
	freemsg(mp);

	/* No lower left: dropped and counted. */
	g_assert_cmpint(unlink_from(&fx, u5, &a, I_UNLINK), ==, 0);
	send_down(&fx, u5, 'x', 2);
	g_assert_cmpuint(drops(&fx, TESTMUX_DROP_NO_LOWER), ==, 1);
	g_assert_null(us_plain_head_get(a.peer));
	fx_fini(&fx);
}

/* Checks that msgs (as received on a loop partner: key, tag, seq, ...) hold
 * n messages per key in keys[], each key's in sequence from 0. */
static void
assert_sequences_down(GPtrArray *msgs, const unsigned char *keys, guint nkeys, guint n)
{
	guint next[256] = { 0 };
	for (guint i = 0; i < msgs->len; i++) {
		mblk_t *mp = msgs->pdata[i];
		unsigned char key = byte_at(mp, 0);
		g_assert_cmpuint(byte_at(mp, 1), ==, key); /* tag == key in these tests */
		g_assert_cmpuint(byte_at(mp, 2), ==, next[key]);
		next[key]++;
	}
	for (guint k = 0; k < nkeys; k++)
		g_assert_cmpuint(next[keys[k]], ==, n);
	g_assert_cmpuint(msgs->len, ==, nkeys * n);
}

/* A full stream below the lower holds the upper writers back; draining it
 * lets them go on, in order, with nothing lost. */
static void
test_testmux_flow_down(void)
{
	enum { N = 30 };
	Fx fx;
	fx_init(&fx);
	UsStream *u1 = open_bound(&fx, 1), *u2 = open_bound(&fx, 2);
	Lower a;
	lower_open(&fx, &a);
	g_assert_cmpint(link_under(&fx, u1, &a, I_LINK), ==, 0);
	set_marks(us_stream_head_rq(a.peer), 40, 10);
	queue_t *loop_wq = WR(us_stream_driver_rq(a.low));
	set_marks(loop_wq, 40, 10);
	set_marks(upper_wq(u1), 50, 10);
	set_marks(upper_wq(u2), 50, 10);

	for (unsigned char i = 0; i < N; i++) {
		send_down(&fx, u1, 1, i);
		send_down(&fx, u2, 2, i);
	}
	g_assert_true(loop_wq->q_flag & QFULL);
	g_assert_nonnull(upper_wq(u1)->q_first);
	g_assert_nonnull(upper_wq(u2)->q_first);
	g_assert_true(upper_wq(u1)->q_flag & QFULL); /* the pressure reaches the writers */
	g_assert_cmpuint(us_mux_wait_count(&lower_rec(&a)->ml_wwait), ==, 2);
	guint held = (guint)(qsize(upper_wq(u1)) + qsize(upper_wq(u2)));
	g_assert_cmpuint(held, >, N);

	GPtrArray *got = drain(&fx, a.peer);
	static const unsigned char keys[] = { 1, 2 };
	assert_sequences_down(got, keys, 2, N);
	free_msgs(got);
	g_assert_null(upper_wq(u1)->q_first);
	g_assert_null(upper_wq(u2)->q_first);
	g_assert_null(loop_wq->q_first);
	g_assert_cmpuint(us_mux_wait_count(&lower_rec(&a)->ml_wwait), ==, 0);
	guint64 v = 0;
	g_assert_true(us_stat_get(us_stream_driver_rq(u2), "msgs_down", &v) && v == N);
	g_assert_cmpint(unlink_from(&fx, u1, &a, I_UNLINK), ==, 0);
	fx_fini(&fx);
}

/* Checks that msgs (as received on an upper: seq, seq, ...) are n messages
 * in sequence from 0. */
static void
assert_sequence_up(GPtrArray *msgs, guint n)
{
	g_assert_cmpuint(msgs->len, ==, n);
	for (guint i = 0; i < n; i++) {
		g_assert_cmpuint(msgsize(msgs->pdata[i]), ==, 10);
		g_assert_cmpuint(byte_at(msgs->pdata[i], 0), ==, i);
	}
}

/* A full upper reader holds the lower back (and everything behind on that
 * lower), which pushes back on the lower stream; draining the reader lets
 * it all through. */
static void
test_testmux_flow_up(void)
{
	enum { N1 = 30, N2 = 10 };
	Fx fx;
	fx_init(&fx);
	UsStream *u1 = open_bound(&fx, 1), *u2 = open_bound(&fx, 2);
	Lower a;
	lower_open(&fx, &a);
	g_assert_cmpint(link_under(&fx, u1, &a, I_LINK), ==, 0);
	set_marks(us_stream_head_rq(u1), 40, 10);
	queue_t *lrq = us_stream_head_rq(a.low); /* RD(l_qbot) */
	set_marks(lrq, 40, 10);

	unsigned char s1 = 0, s2 = 0;
	for (guint i = 0; i < N1 + N2; i++) {
		if (i % 4 == 3)
			send_up(&fx, &a, 2, s2++);
		else
			send_up(&fx, &a, 1, s1++);
	}
	g_assert_cmpuint(s1, ==, N1);
	g_assert_cmpuint(s2, ==, N2);
	g_assert_nonnull(lrq->q_first);
	g_assert_true(lrq->q_flag & QFULL);
	g_assert_nonnull(WR(us_stream_driver_rq(a.peer))->q_first); /* the lower stream waits */
	g_assert_cmpint(qsize(us_stream_head_rq(u2)), <, N2);       /* stuck behind key 1 */

	GPtrArray *got1 = drain(&fx, u1);
	assert_sequence_up(got1, N1);
	free_msgs(got1);
	GPtrArray *got2 = drain(&fx, u2);
	assert_sequence_up(got2, N2);
	free_msgs(got2);
	g_assert_null(lrq->q_first);
	g_assert_null(WR(us_stream_driver_rq(a.peer))->q_first);
	guint64 v = 0;
	g_assert_true(us_stat_get(us_stream_driver_rq(u1), "msgs_up", &v) && v == N1);
	g_assert_cmpint(unlink_from(&fx, u1, &a, I_UNLINK), ==, 0);
	fx_fini(&fx);
}

/* Writers waiting for a lower that is unlinked re-route to the default. */
static void
test_testmux_unlink_waiting_writers(void)
{
	enum { N = 12 };
	Fx fx;
	fx_init(&fx);
	UsStream *u5 = open_bound(&fx, 5);
	Lower a, b;
	lower_open(&fx, &a);
	lower_open(&fx, &b);
	g_assert_cmpint(link_under(&fx, u5, &a, I_LINK), ==, 0);
	g_assert_cmpint(link_under(&fx, u5, &b, I_LINK), ==, 0);
	struct testmux_setlower sl = { .muxid = b.muxid, .key = 5 };
	g_assert_cmpint(ioctl_str(&fx, u5, TESTMUX_SETLOWER, &sl, sizeof sl), ==, 0);
	set_marks(us_stream_head_rq(b.peer), 20, 5);
	set_marks(WR(us_stream_driver_rq(b.low)), 20, 5);

	for (unsigned char i = 0; i < N; i++)
		send_down(&fx, u5, 5, i);
	guint waiting = (guint)qsize(upper_wq(u5));
	g_assert_cmpuint(waiting, >, 0);
	g_assert_cmpuint(us_mux_wait_count(&lower_rec(&b)->ml_wwait), ==, 1);

	g_assert_cmpint(unlink_from(&fx, u5, &b, I_UNLINK), ==, 0);
	run(&fx);
	g_assert_null(upper_wq(u5)->q_first);
	GPtrArray *on_a = drain(&fx, a.peer), *on_b = drain(&fx, b.peer);
	g_assert_cmpuint(on_a->len, ==, waiting);
	g_assert_cmpuint(on_a->len + on_b->len, ==, N);
	for (guint i = 0; i < on_b->len; i++)
		g_assert_cmpuint(byte_at(on_b->pdata[i], 2), ==, i);
	for (guint i = 0; i < on_a->len; i++)
		g_assert_cmpuint(byte_at(on_a->pdata[i], 2), ==, on_b->len + i);
	free_msgs(on_a);
	free_msgs(on_b);
	g_assert_cmpint(unlink_from(&fx, u5, &a, I_UNLINK), ==, 0);
	fx_fini(&fx);
}

/* What waits on a lower's read queue when it is unlinked is dropped and
 * counted; the stream is then an ordinary one again. */
static void
test_testmux_unlink_drops_queued(void)
{
	Fx fx;
	fx_init(&fx);
	UsStream *u1 = open_bound(&fx, 1);
	Lower a;
	lower_open(&fx, &a);
	g_assert_cmpint(link_under(&fx, u1, &a, I_LINK), ==, 0);
	set_marks(us_stream_head_rq(u1), 30, 10);
	for (unsigned char i = 0; i < 8; i++)
		send_up(&fx, &a, 1, i);
	guint held = (guint)qsize(us_stream_head_rq(a.low));
	g_assert_cmpuint(held, >, 0);
	g_assert_cmpint(unlink_from(&fx, u1, &a, I_UNLINK), ==, 0);
	g_assert_cmpuint(drops(&fx, TESTMUX_DROP_UNLINKED), ==, held);
	g_assert_cmpint(qsize(us_stream_head_rq(u1)) + (int)held, ==, 8);

	send_up(&fx, &a, 1, 99);
	GPtrArray *back = drain(&fx, a.low);
	g_assert_cmpuint(back->len, >=, 1);
	g_assert_cmpuint(byte_at(back->pdata[back->len - 1], 1), ==, 99);
	free_msgs(back);
	fx_fini(&fx);
}

/* M_FLUSH on an upper: its queued writes go, the read half comes back. */
static void
test_testmux_flush_upper(void)
{
	Fx fx;
	fx_init(&fx);
	UsStream *u1 = open_bound(&fx, 1);
	Lower a;
	lower_open(&fx, &a);
	g_assert_cmpint(link_under(&fx, u1, &a, I_LINK), ==, 0);
	set_marks(us_stream_head_rq(a.peer), 20, 5);
	set_marks(WR(us_stream_driver_rq(a.low)), 20, 5);
	for (unsigned char i = 0; i < 10; i++)
		send_down(&fx, u1, 1, i);
	guint below = 10 - (guint)qsize(upper_wq(u1));
	g_assert_cmpuint(below, <, 10);

	put(us_stream_head_wq(u1), flush_msg(FLUSHRW));
	run(&fx);
	g_assert_null(upper_wq(u1)->q_first);
	mblk_t *mp = us_plain_head_get(u1);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_FLUSH);
	g_assert_cmpuint(mp->b_rptr[0], ==, FLUSHR);
	freemsg(mp);

	GPtrArray *got = drain(&fx, a.peer);
	g_assert_cmpuint(got->len, ==, below);
	free_msgs(got);
	g_assert_cmpint(unlink_from(&fx, u1, &a, I_UNLINK), ==, 0);
	fx_fini(&fx);
}

/* M_FLUSH coming up a lower is answered as a stream head would. */
static void
test_testmux_flush_lower(void)
{
	Fx fx;
	fx_init(&fx);
	UsStream *u1 = open_bound(&fx, 1);
	Lower a;
	lower_open(&fx, &a);
	g_assert_cmpint(link_under(&fx, u1, &a, I_LINK), ==, 0);
	set_marks(us_stream_head_rq(u1), 20, 5);
	for (unsigned char i = 0; i < 6; i++)
		send_up(&fx, &a, 1, i);
	queue_t *lrq = us_stream_head_rq(a.low);
	g_assert_nonnull(lrq->q_first);
	put(lrq, flush_msg(FLUSHRW)); /* as if from the loop driver below */
	run(&fx);
	g_assert_null(lrq->q_first);
	g_assert_cmpuint(drops(&fx, TESTMUX_DROP_UNLINKED), ==, 0);
	g_assert_cmpint(unlink_from(&fx, u1, &a, I_UNLINK), ==, 0);
	fx_fini(&fx);
}

/* Closing an upper: its queued writes are dropped and counted, its key is
 * free again, and a lower held back for it goes on (another upper's read
 * service procedure enables it). */
static void
test_testmux_close_upper(void)
{
	Fx fx;
	fx_init(&fx);
	UsStream *u1 = open_bound(&fx, 1), *u2 = open_bound(&fx, 2);
	Lower a;
	lower_open(&fx, &a);
	g_assert_cmpint(link_under(&fx, u1, &a, I_LINK), ==, 0);

	/* Reads: u1's reader is full and the lower holds key 2 behind it. */
	set_marks(us_stream_head_rq(u1), 20, 5);
	for (unsigned char i = 0; i < 6; i++)
		send_up(&fx, &a, 1, i);
	for (unsigned char i = 0; i < 3; i++)
		send_up(&fx, &a, 2, i);
	int at_u1 = qsize(us_stream_head_rq(u1));
	g_assert_cmpint(qsize(us_stream_head_rq(u2)), ==, 0);
	g_assert_cmpint(qsize(us_stream_head_rq(a.low)), ==, 9 - at_u1);

	/* Writes: u1 has data waiting for the lower. */
	set_marks(us_stream_head_rq(a.peer), 20, 5);
	set_marks(WR(us_stream_driver_rq(a.low)), 20, 5);
	for (unsigned char i = 0; i < 10; i++)
		send_down(&fx, u1, 1, i);
	guint queued = (guint)qsize(upper_wq(u1));
	g_assert_cmpuint(queued, >, 0);

	us_stream_close(u1);
	run(&fx);
	g_assert_cmpuint(drops(&fx, TESTMUX_DROP_CLOSED), ==, queued);
	g_assert_cmpuint(drops(&fx, TESTMUX_DROP_UNKNOWN_KEY), ==, (guint)(6 - at_u1));
	GPtrArray *got2 = drain(&fx, u2);
	assert_sequence_up(got2, 3);
	free_msgs(got2);
	g_assert_null(us_stream_head_rq(a.low)->q_first);

	UsStream *u3 = open_bound(&fx, 1); /* the key is free again */
	send_up(&fx, &a, 1, 0);
	GPtrArray *got3 = drain(&fx, u3);
	assert_sequence_up(got3, 1);
	free_msgs(got3);
	GPtrArray *rest = drain(&fx, a.peer);
	free_msgs(rest);
	g_assert_cmpint(unlink_from(&fx, u2, &a, I_UNLINK), ==, 0);
	fx_fini(&fx);
}

/* The last upper closes while a lower is held back for it: the lower goes
 * on at the next open, dropping what nobody holds a key for. */
static void
test_testmux_close_last_upper(void)
{
	Fx fx;
	fx_init(&fx);
	UsStream *u1 = open_bound(&fx, 1);
	Lower a;
	lower_open(&fx, &a);
	g_assert_cmpint(link_under(&fx, u1, &a, I_PLINK), ==, 0);
	set_marks(us_stream_head_rq(u1), 20, 5);
	for (unsigned char i = 0; i < 8; i++)
		send_up(&fx, &a, 1, i);
	queue_t *lrq = us_stream_head_rq(a.low);
	int held = qsize(lrq);
	g_assert_cmpint(held, >, 0);
	us_stream_close(u1);
	run(&fx);
	g_assert_cmpint(qsize(lrq), ==, held); /* nobody above to wake it */
	UsStream *u2 = open_upper(&fx);
	run(&fx);
	g_assert_null(lrq->q_first);
	g_assert_cmpuint(drops(&fx, TESTMUX_DROP_UNKNOWN_KEY), ==, (guint)held);
	g_assert_cmpint(unlink_from(&fx, u2, &a, I_PUNLINK), ==, 0);
	fx_fini(&fx);
}

/* Routing on a busy mux: many uppers, two lowers, messages both ways, and
 * the live-message counter back where it began once everything closed. */
static void
test_testmux_many_uppers(void)
{
	enum { NU = 40 };
	Fx fx;
	fx_init(&fx);
	UsStream *up[NU];
	for (int k = 0; k < NU; k++)
		up[k] = open_bound(&fx, k);
	Lower a, b;
	lower_open(&fx, &a);
	lower_open(&fx, &b);
	g_assert_cmpint(link_under(&fx, up[0], &a, I_PLINK), ==, 0);
	g_assert_cmpint(link_under(&fx, up[0], &b, I_PLINK), ==, 0);
	for (int k = 0; k < NU; k += 2) {
		struct testmux_setlower sl = { .muxid = b.muxid, .key = k };
		g_assert_cmpint(ioctl_str(&fx, up[k], TESTMUX_SETLOWER, &sl, sizeof sl), ==, 0);
	}
	for (int k = 0; k < NU; k++) {
		send_down(&fx, up[k], (unsigned char)k, 0);
		send_up(&fx, k % 3 ? &a : &b, (unsigned char)k, (unsigned char)k);
	}
	GPtrArray *on_a = drain(&fx, a.peer), *on_b = drain(&fx, b.peer);
	g_assert_cmpuint(on_a->len, ==, NU / 2);
	g_assert_cmpuint(on_b->len, ==, NU / 2);
	for (guint i = 0; i < on_b->len; i++)
		g_assert_cmpuint(byte_at(on_b->pdata[i], 0) % 2, ==, 0);
	free_msgs(on_a);
	free_msgs(on_b);
	for (int k = 0; k < NU; k++) {
		mblk_t *mp = us_plain_head_get(up[k]);
		g_assert_nonnull(mp);
		g_assert_cmpuint(byte_at(mp, 0), ==, (guint)k);
		freemsg(mp);
	}
	g_assert_cmpint(unlink_from(&fx, up[1], &a, I_PUNLINK), ==, 0);
	g_assert_cmpint(unlink_from(&fx, up[1], &b, I_PUNLINK), ==, 0);
	close_all(up, NU);
	fx_fini(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (us_registry_find("testmux") == NULL)
		g_assert_true(us_registry_add(&us_testmux_desc, NULL));
	g_assert_true(us_registry_add(&lp_desc, NULL));

	g_test_add_func("/mux/wait-list/order-dedup", test_wait_list);
	g_test_add_func("/mux/lowers/add-find-remove", test_lowers_table);
	g_test_add_func("/mux/uppers/lowest-free", test_uppers_lowest_free);
	g_test_add_func("/mux/slots/add-lookup-remove", test_slots);
	g_test_add_func("/mux/tuples/add-lookup-remove", test_tuples);
	g_test_add_func("/mux/tuples/many", test_tuples_many);
	g_test_add_func("/mux/link-ioctl/not-a-link", test_link_ioctl_not_link);
	g_test_add_func("/mux/link-ioctl/validate", test_link_ioctl_validate);
	g_test_add_func("/testmux/bind/errors", test_testmux_bind_errors);
	g_test_add_func("/testmux/route/both-ways", test_testmux_route_both_ways);
	g_test_add_func("/testmux/route/drops-counted", test_testmux_drops_counted);
	g_test_add_func("/testmux/unlink/fallback", test_testmux_unlink_fallback);
	g_test_add_func("/testmux/unlink/waiting-writers", test_testmux_unlink_waiting_writers);
	g_test_add_func("/testmux/unlink/drops-queued", test_testmux_unlink_drops_queued);
	g_test_add_func("/testmux/flow/down", test_testmux_flow_down);
	g_test_add_func("/testmux/flow/up", test_testmux_flow_up);
	g_test_add_func("/testmux/flush/upper", test_testmux_flush_upper);
	g_test_add_func("/testmux/flush/lower", test_testmux_flush_lower);
	g_test_add_func("/testmux/close/upper", test_testmux_close_upper);
	g_test_add_func("/testmux/close/last-upper", test_testmux_close_last_upper);
	g_test_add_func("/testmux/route/many-uppers", test_testmux_many_uppers);
	return g_test_run();
}
