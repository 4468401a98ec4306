/* SPDX-License-Identifier: MIT */
/*
 * test-lo.c -- the lo (loopback interface) driver in a virtual-time world:
 * frames come back up unchanged, after the write returned and at the same
 * world time; order; flow control without loss; MTU; M_FLUSH; ioctls NAKed;
 * statistics; no leaks.
 */
#include "lo.h"

#include <errno.h>
#include <string.h>

#include <ustreams/debug.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

extern const UsModuleDesc us_lo_desc;

#define FRAME_LEN 64

typedef struct {
	UsWorld *world;
	UsStack *stack;
	gint64 live0;
	guint streams0;
} Env;

static void
env_init(Env *e)
{
	e->live0 = us_msg_live_count();
	e->streams0 = us_stream_live_count();
	e->world = us_world_new(US_CLOCK_VIRTUAL, 1);
	e->stack = us_stack_new(e->world, "lo-test");
}

static void
env_fini(Env *e)
{
	us_world_free(e->world);
	g_assert_cmpuint(us_stream_live_count(), ==, e->streams0);
	g_assert_cmpint(us_msg_live_count(), ==, e->live0);
}

static UsStream *
lo_stream(Env *e)
{
	GError *error = NULL;
	UsStream *st = us_stream_open(e->stack, "lo", 0, &us_plain_head, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(st);
	return st;
}

static guint64
stat_of(UsStream *st, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(us_stream_driver_rq(st), name, &v));
	return v;
}

/* Writes a frame of len bytes whose first four bytes carry seq. */
static void
send_frame(UsStream *st, guint32 seq, size_t len)
{
	guint8 buf[256 * 1024];
	g_assert_cmpuint(len, <=, sizeof buf);
	g_assert_cmpuint(len, >=, 4);
	for (size_t i = 0; i < len; i++)
		buf[i] = (guint8)(i * 13 + seq);
	buf[0] = (guint8)(seq >> 24);
	buf[1] = (guint8)(seq >> 16);
	buf[2] = (guint8)(seq >> 8);
	buf[3] = (guint8)seq;
	mblk_t *mp = us_msg_from(buf, len, 0);
	g_assert_nonnull(mp);
	put(us_stream_head_wq(st), mp);
}

/* Checks mp is frame seq of len bytes, exactly as sent; frees it. */
static void
check_frame(mblk_t *mp, guint32 seq, size_t len)
{
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_DATA);
	g_assert_cmpuint(msgdsize(mp), ==, len);
	guint8 *buf = g_malloc(len);
	us_msgcopyout(mp, 0, buf, len);
	guint32 got = (guint32)buf[0] << 24 | (guint32)buf[1] << 16 | (guint32)buf[2] << 8 | buf[3];
	g_assert_cmpuint(got, ==, seq);
	for (size_t i = 4; i < len; i++)
		g_assert_cmpuint(buf[i], ==, (guint8)(i * 13 + seq));
	g_free(buf);
	freemsg(mp);
}

/* The next frame up st, running the world when the head is empty (the
 * reader above may have held lo back). */
static mblk_t *
next_up(Env *e, UsStream *st)
{
	mblk_t *mp;
	while ((mp = us_plain_head_get(st)) == NULL)
		if (us_world_run_pending(e->world) == 0)
			return NULL;
	return mp;
}

/* A frame comes back unchanged -- not from inside the write, but when the
 * world runs, with no time passing. */
static void
test_echo_after_write(void)
{
	Env e;
	env_init(&e);
	UsStream *st = lo_stream(&e);
	gint64 t0 = us_world_now(e.world);
	send_frame(st, 7, FRAME_LEN);
	g_assert_null(us_plain_head_get(st)); /* not recursive */
	g_assert_cmpuint(stat_of(st, "frames_out"), ==, 1);
	g_assert_cmpuint(stat_of(st, "frames_in"), ==, 0);
	us_world_run_pending(e.world);
	check_frame(next_up(&e, st), 7, FRAME_LEN);
	g_assert_null(us_plain_head_get(st));
	g_assert_cmpint(us_world_now(e.world), ==, t0);
	us_stream_close(st);
	env_fini(&e);
}

/* A multi-block frame comes back as it went. */
static void
test_echo_multiblock(void)
{
	Env e;
	env_init(&e);
	UsStream *st = lo_stream(&e);
	mblk_t *mp = us_msg_from("\0\0\0\x09", 4, 0);
	guint8 tail[60];
	for (size_t i = 0; i < sizeof tail; i++)
		tail[i] = (guint8)((i + 4) * 13 + 9);
	linkb(mp, us_msg_from(tail, sizeof tail, 0));
	put(us_stream_head_wq(st), mp);
	us_world_run_pending(e.world);
	check_frame(next_up(&e, st), 9, 64);
	us_stream_close(st);
	env_fini(&e);
}

/* Frames of many sizes come back in the order they were written; streams
 * are independent. */
static void
test_order(void)
{
	Env e;
	env_init(&e);
	UsStream *a = lo_stream(&e), *b = lo_stream(&e);
	for (guint32 i = 0; i < 200; i++) {
		send_frame(a, i, 14 + (i * 37) % 1500);
		if (i % 3 == 0)
			us_world_run_pending(e.world);
	}
	send_frame(b, 1000, FRAME_LEN);
	us_world_run_pending(e.world);
	for (guint32 i = 0; i < 200; i++)
		check_frame(next_up(&e, a), i, 14 + (i * 37) % 1500);
	g_assert_null(next_up(&e, a));
	check_frame(next_up(&e, b), 1000, FRAME_LEN);
	g_assert_null(us_plain_head_get(b));
	g_assert_cmpuint(stat_of(b, "frames_in"), ==, 1);
	us_stream_close(a);
	us_stream_close(b);
	env_fini(&e);
}

/* A slow reader: delivery waits on lo's write queue, the writer's queue
 * fills (canputnext above fails), and every frame comes back in order once
 * the reader drains.  None is dropped. */
static void
test_flow_control(void)
{
	Env e;
	env_init(&e);
	UsStream *st = lo_stream(&e);
	queue_t *hrq = us_stream_head_rq(st);
	g_assert_cmpint(strqset(hrq, QHIWAT, 0, 10 * FRAME_LEN), ==, 0);
	g_assert_cmpint(strqset(hrq, QLOWAT, 0, 2 * FRAME_LEN), ==, 0);
	queue_t *lwq = WR(us_stream_driver_rq(st));
	g_assert_cmpint(strqset(lwq, QHIWAT, 0, 20 * FRAME_LEN), ==, 0);
	g_assert_cmpint(strqset(lwq, QLOWAT, 0, 5 * FRAME_LEN), ==, 0);
	const guint n = 100;
	for (guint i = 0; i < n; i++)
		send_frame(st, i, FRAME_LEN);
	us_world_run_pending(e.world);
	g_assert_cmpuint(hrq->q_count, <=, 11 * FRAME_LEN);
	g_assert_cmpint(qsize(lwq), >=, 80);
	g_assert_cmpuint(stat_of(st, "flow_stops"), >, 0);
	g_assert_false(canputnext(us_stream_head_wq(st))); /* the writer is held back */
	for (guint got = 0; got < n;) {
		g_assert_cmpuint(hrq->q_count, <=, 11 * FRAME_LEN);
		mblk_t *mp = us_plain_head_get(st);
		if (mp == NULL) {
			g_assert_cmpuint(us_world_run_pending(e.world), >, 0);
			continue;
		}
		check_frame(mp, got++, FRAME_LEN);
	}
	us_world_run_pending(e.world);
	g_assert_null(us_plain_head_get(st));
	g_assert_cmpint(qsize(lwq), ==, 0);
	g_assert_true(canputnext(us_stream_head_wq(st)));
	g_assert_cmpuint(stat_of(st, "frames_in"), ==, n);
	g_assert_cmpuint(stat_of(st, "frames_out"), ==, n);
	us_stream_close(st);
	env_fini(&e);
}

/* Statistics count frames and bytes both ways. */
static void
test_stats(void)
{
	Env e;
	env_init(&e);
	UsStream *st = lo_stream(&e);
	send_frame(st, 1, 100);
	send_frame(st, 2, 1514);
	send_frame(st, 3, 60);
	us_world_run_pending(e.world);
	g_assert_cmpuint(stat_of(st, "frames_out"), ==, 3);
	g_assert_cmpuint(stat_of(st, "bytes_out"), ==, 1674);
	g_assert_cmpuint(stat_of(st, "frames_in"), ==, 3);
	g_assert_cmpuint(stat_of(st, "bytes_in"), ==, 1674);
	g_assert_cmpuint(stat_of(st, "drop_mtu"), ==, 0);
	g_assert_cmpuint(stat_of(st, "flow_stops"), ==, 0);
	mblk_t *mp;
	while ((mp = us_plain_head_get(st)) != NULL)
		freemsg(mp);
	us_stream_close(st);
	env_fini(&e);
}

/* Frames longer than mtu + 14 are dropped and counted; the default MTU is
 * 65536. */
static void
test_mtu(void)
{
	Env e;
	env_init(&e);
	UsStream *st = lo_stream(&e);
	queue_t *rq = us_stream_driver_rq(st);
	char *v = us_param_get(rq, "mtu", NULL);
	g_assert_cmpstr(v, ==, "65536");
	g_free(v);
	send_frame(st, 1, LO_DEFAULT_MTU + 14);
	send_frame(st, 2, LO_DEFAULT_MTU + 15);
	GError *error = NULL;
	g_assert_true(us_param_set(rq, "mtu", "100", &error));
	g_assert_no_error(error);
	send_frame(st, 3, 114);
	send_frame(st, 4, 115);
	us_world_run_pending(e.world);
	check_frame(next_up(&e, st), 1, LO_DEFAULT_MTU + 14);
	check_frame(next_up(&e, st), 3, 114);
	g_assert_null(us_plain_head_get(st));
	g_assert_cmpuint(stat_of(st, "drop_mtu"), ==, 2);
	g_assert_cmpuint(us_drop_count(rq, 0), ==, 2);
	g_assert_false(us_param_set(rq, "mtu", "0", &error));
	g_clear_error(&error);
	us_stream_close(st);
	env_fini(&e);
}

/* M_FLUSH(FLUSHRW) empties frames waiting in lo and comes back up. */
static void
test_flush(void)
{
	Env e;
	env_init(&e);
	UsStream *st = lo_stream(&e);
	queue_t *hrq = us_stream_head_rq(st);
	g_assert_cmpint(strqset(hrq, QHIWAT, 0, 2 * FRAME_LEN), ==, 0);
	g_assert_cmpint(strqset(hrq, QLOWAT, 0, FRAME_LEN), ==, 0);
	for (guint i = 0; i < 10; i++)
		send_frame(st, i, FRAME_LEN);
	us_world_run_pending(e.world);
	queue_t *lwq = WR(us_stream_driver_rq(st));
	g_assert_cmpint(qsize(lwq), >, 0);
	/* Empty the head, then flush: what waited in lo is gone. */
	mblk_t *mp;
	while ((mp = getq(hrq)) != NULL)
		freemsg(mp);
	g_assert_cmpint(putnextctl1(us_stream_head_wq(st), M_FLUSH, FLUSHRW), ==, 1);
	g_assert_cmpint(qsize(lwq), ==, 0);
	us_world_run_pending(e.world);
	mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_FLUSH);
	g_assert_cmpint(*mp->b_rptr & FLUSHW, ==, 0);
	freemsg(mp);
	/* The stream works on afterwards. */
	while ((mp = us_plain_head_get(st)) != NULL)
		freemsg(mp);
	send_frame(st, 99, FRAME_LEN);
	us_world_run_pending(e.world);
	check_frame(next_up(&e, st), 99, FRAME_LEN);
	us_stream_close(st);
	env_fini(&e);
}

/* lo has no ioctls; other message types are dropped as unhandled. */
static void
test_ioctl_nak(void)
{
	Env e;
	env_init(&e);
	UsStream *st = lo_stream(&e);
	mblk_t *mp = mkiocb(('x' << 8) | 1);
	((struct iocblk *)mp->b_rptr)->ioc_count = 0;
	put(us_stream_head_wq(st), mp);
	us_world_run_pending(e.world);
	mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_IOCNAK);
	g_assert_cmpint(((struct iocblk *)mp->b_rptr)->ioc_error, ==, EINVAL);
	freemsg(mp);
	mp = allocb(8, BPRI_MED);
	DB_TYPE(mp) = M_PROTO;
	put(us_stream_head_wq(st), mp);
	us_world_run_pending(e.world);
	g_assert_null(us_plain_head_get(st));
	us_stream_close(st);
	env_fini(&e);
}

/* Closing with frames still waiting frees them. */
static void
test_close_waiting(void)
{
	Env e;
	env_init(&e);
	UsStream *st = lo_stream(&e);
	g_assert_cmpint(strqset(us_stream_head_rq(st), QHIWAT, 0, FRAME_LEN), ==, 0);
	for (guint i = 0; i < 20; i++)
		send_frame(st, i, FRAME_LEN);
	us_world_run_pending(e.world);
	g_assert_cmpint(qsize(WR(us_stream_driver_rq(st))), >, 0);
	us_stream_close(st);
	env_fini(&e);
}

/* Only clone opens. */
static void
test_open_minor_refused(void)
{
	Env e;
	env_init(&e);
	GError *error = NULL;
	UsStream *st = us_stream_open_minor(e.stack, "lo", 3, 0, &us_plain_head, NULL, &error);
	g_assert_null(st);
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_clear_error(&error);
	env_fini(&e);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_true(us_registry_add(&us_lo_desc, NULL));
	g_test_add_func("/lo/echo/after-write", test_echo_after_write);
	g_test_add_func("/lo/echo/multiblock", test_echo_multiblock);
	g_test_add_func("/lo/order", test_order);
	g_test_add_func("/lo/flow-control", test_flow_control);
	g_test_add_func("/lo/stats", test_stats);
	g_test_add_func("/lo/mtu", test_mtu);
	g_test_add_func("/lo/flush", test_flush);
	g_test_add_func("/lo/ioctl-nak", test_ioctl_nak);
	g_test_add_func("/lo/close/waiting", test_close_waiting);
	g_test_add_func("/lo/open/minor-refused", test_open_minor_refused);
	return g_test_run();
}
