/* SPDX-License-Identifier: MIT */
/*
 * test-builtins.c -- the drivers and the module built into the library, each
 * in a real stream under the plain head on a virtual-time world:
 *   echo  data comes back with its type, in order; a full reader holds the
 *         writer back and back-enabling restarts it; M_FLUSH, ioctl NAK,
 *         statistics;
 *   null  data vanishes and is counted; ioctl NAK; M_FLUSH;
 *   loop  LOOP_SET joins two streams; data crosses both ways; errors before
 *         and after the join; M_HANGUP on close; flow control across;
 *   pass  every mode delivers in order; high priority never waits;
 *         back-pressure travels hop by hop.
 *
 * Messages are written with put() on the head write queue from the test
 * thread (the world has no thread of its own, so that is the world's
 * thread) and read with us_plain_head_get().
 */
#include "../common/ustest.h"
#include <errno.h>
#include <string.h>

#include <ustreams/debug.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include "../../drivers/loop/loop.h"
#include "../../modules/pass/pass.h"

/* ------------------------------------------------------------------ */
/* Fixture and helpers                                                */
/* ------------------------------------------------------------------ */

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
	e->stack = us_stack_new(e->world, "test");
}

/* Frees the world (closing every stream) and checks nothing was left. */
static void
env_fini(Env *e)
{
	us_world_free(e->world);
	g_assert_cmpuint(us_stream_live_count(), ==, e->streams0);
	g_assert_cmpint(us_msg_live_count(), ==, e->live0);
}

static UsStream *
env_open(Env *e, const char *driver)
{
	return ustest_open(e->stack, driver);
}

static void
env_push(UsStream *st, const char *module)
{
	GError *error = NULL;
	g_assert_cmpint(us_stream_push(st, module, &error), ==, 0);
	g_assert_no_error(error);
}

/* A one-block message of `type` with len bytes of value fill. */
static mblk_t *
fill_msg(unsigned char type, size_t len, unsigned char fill)
{
	mblk_t *mp = allocb(len, BPRI_MED);
	g_assert_nonnull(mp);
	DB_TYPE(mp) = type;
	memset(mp->b_wptr, fill, len);
	mp->b_wptr += len;
	return mp;
}

static mblk_t *
text_msg(unsigned char type, const char *text)
{
	size_t len = strlen(text);
	mblk_t *mp = fill_msg(type, len, 0);
	memcpy(mp->b_rptr, text, len);
	return mp;
}

static mblk_t *
flush_msg(unsigned char how)
{
	mblk_t *mp = fill_msg(M_FLUSH, 1, how);
	return mp;
}

/* An M_IOCTL for cmd; when arg is given, b_cont holds it (I_STR style). */
static mblk_t *
ioctl_msg(int cmd, const int *arg)
{
	mblk_t *mp = mkiocb((unsigned int)cmd);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_IOCTL);
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	ioc->ioc_count = 0;
	if (arg != NULL) {
		mp->b_cont = fill_msg(M_DATA, sizeof *arg, 0);
		memcpy(mp->b_cont->b_rptr, arg, sizeof *arg);
		ioc->ioc_count = sizeof *arg;
	}
	return mp;
}

/* Writes mp down st as the stream head would (consumes mp). */
static void
swrite(UsStream *st, mblk_t *mp)
{
	put(us_stream_head_wq(st), mp);
}

static int
head_count(UsStream *st)
{
	return qsize(us_stream_head_rq(st));
}

/* Sets the plain head's read-side water marks. */
static void
head_marks(UsStream *st, intptr_t hiwat, intptr_t lowat)
{
	g_assert_cmpint(strqset(us_stream_head_rq(st), QHIWAT, 0, hiwat), ==, 0);
	g_assert_cmpint(strqset(us_stream_head_rq(st), QLOWAT, 0, lowat), ==, 0);
}

/* The write queue of the driver at the bottom of st. */
static queue_t *
driver_wq(UsStream *st)
{
	return WR(us_stream_driver_rq(st));
}

/* Write queue of the module at position i below the head. */
static queue_t *
module_wq(UsStream *st, guint i)
{
	queue_t *q = us_stream_head_wq(st)->q_next;
	while (i-- > 0)
		q = q->q_next;
	return q;
}

/* Takes the next message from the head and checks its type and bytes. */
static void
expect_msg(UsStream *st, unsigned char type, const char *text)
{
	mblk_t *mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, type);
	g_assert_cmpmem(mp->b_rptr, MBLKL(mp), text, strlen(text));
	g_assert_null(mp->b_cont);
	freemsg(mp);
}

/* Takes an ioctl reply and checks it answers req_id with type and error. */
static void
expect_ioc(UsStream *st, unsigned char type, unsigned int req_id, int cmd, int error)
{
	mblk_t *mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, type);
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	g_assert_cmpuint(ioc->ioc_id, ==, req_id);
	g_assert_cmpint(ioc->ioc_cmd, ==, cmd);
	g_assert_cmpint(ioc->ioc_error, ==, error);
	freemsg(mp);
}

/* Sends an ioctl down st and checks the reply. */
static void
do_ioctl(UsWorld *w, UsStream *st, int cmd, const int *arg, unsigned char want, int error)
{
	mblk_t *mp = ioctl_msg(cmd, arg);
	unsigned int id = ((struct iocblk *)mp->b_rptr)->ioc_id;
	swrite(st, mp);
	us_world_run_pending(w);
	expect_ioc(st, want, id, cmd, error);
}

/* Takes an M_FLUSH from the head and returns its flags. */
static int
expect_flush(UsStream *st)
{
	mblk_t *mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_FLUSH);
	g_assert_cmpuint(MBLKL(mp), >=, 1);
	int how = mp->b_rptr[0];
	freemsg(mp);
	return how;
}

static guint64
stat_of(queue_t *q, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(q, name, &v));
	return v;
}

/* Reads messages of len bytes filled first, first + 1 ... first + n - 1
 * from the head of st, running the world whenever the head is empty, and
 * checks they come in that order and that the head never holds more than
 * hiwat bytes. */
static void
drain_range(UsWorld *w, UsStream *st, guint first, guint n, size_t len, size_t hiwat)
{
	guint got = 0;
	while (got < n) {
		g_assert_cmpuint(us_stream_head_rq(st)->q_count, <=, hiwat);
		mblk_t *mp = us_plain_head_get(st);
		if (mp == NULL) {
			if (us_world_run_pending(w) == 0 && head_count(st) == 0)
				break;
			continue;
		}
		g_assert_cmpint(DB_TYPE(mp), ==, M_DATA);
		g_assert_cmpuint(MBLKL(mp), ==, len);
		for (size_t i = 0; i < len; i++)
			g_assert_cmpuint(mp->b_rptr[i], ==, first + got);
		freemsg(mp);
		got++;
	}
	g_assert_cmpuint(got, ==, n);
	us_world_run_pending(w);
	g_assert_null(us_plain_head_get(st));
}

static void
drain_in_order(UsWorld *w, UsStream *st, guint n, size_t len, size_t hiwat)
{
	drain_range(w, st, 0, n, len, hiwat);
}

/* Reads the message filled with `fill` that must be next at the head. */
static void
expect_fill(UsStream *st, size_t len, unsigned char fill)
{
	mblk_t *mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	g_assert_cmpuint(MBLKL(mp), ==, len);
	g_assert_cmpuint(mp->b_rptr[0], ==, fill);
	freemsg(mp);
}

/* ------------------------------------------------------------------ */
/* echo                                                               */
/* ------------------------------------------------------------------ */

static void
test_echo_types_in_order(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "echo");
	swrite(st, text_msg(M_DATA, "one"));
	swrite(st, text_msg(M_PROTO, "two"));
	swrite(st, text_msg(M_DATA, "three"));
	swrite(st, text_msg(M_PROTO, "four"));
	us_world_run_pending(e.world);
	g_assert_cmpint(head_count(st), ==, 4);
	expect_msg(st, M_DATA, "one");
	expect_msg(st, M_PROTO, "two");
	expect_msg(st, M_DATA, "three");
	expect_msg(st, M_PROTO, "four");
	g_assert_null(us_plain_head_get(st));
	g_assert_cmpint(qsize(driver_wq(st)), ==, 0);
	env_fini(&e);
}

/* M_PCPROTO comes back as M_PCPROTO, ahead of ordinary messages waiting at
 * the head (high priority is queued first). */
static void
test_echo_pcproto(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "echo");
	swrite(st, text_msg(M_DATA, "a"));
	swrite(st, text_msg(M_PROTO, "b"));
	swrite(st, text_msg(M_PCPROTO, "urgent"));
	us_world_run_pending(e.world);
	expect_msg(st, M_PCPROTO, "urgent");
	expect_msg(st, M_DATA, "a");
	expect_msg(st, M_PROTO, "b");
	g_assert_null(us_plain_head_get(st));
	env_fini(&e);
}

/* A multi-block message comes back whole. */
static void
test_echo_multiblock(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "echo");
	mblk_t *mp = text_msg(M_PROTO, "hdr");
	mp->b_cont = text_msg(M_DATA, "payload");
	swrite(st, mp);
	us_world_run_pending(e.world);
	mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_PROTO);
	g_assert_cmpmem(mp->b_rptr, MBLKL(mp), "hdr", 3);
	g_assert_nonnull(mp->b_cont);
	g_assert_cmpint(DB_TYPE(mp->b_cont), ==, M_DATA);
	g_assert_cmpmem(mp->b_cont->b_rptr, MBLKL(mp->b_cont), "payload", 7);
	g_assert_cmpuint(msgdsize(mp), ==, 7);
	freemsg(mp);
	env_fini(&e);
}

/* The head holds 100 bytes: two 50-byte messages get through, the other
 * 18 wait on echo's write queue; reading the head back-enables echo, which
 * sends the rest, in order. */
static void
test_echo_flow_control_holds_writer(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "echo");
	head_marks(st, 100, 10);
	for (guint i = 0; i < 20; i++)
		swrite(st, fill_msg(M_DATA, 50, (unsigned char)i));
	us_world_run_pending(e.world);
	g_assert_cmpint(head_count(st), ==, 2);
	g_assert_cmpint(qsize(driver_wq(st)), ==, 18);
	g_assert_true(us_stream_head_rq(st)->q_flag & QFULL);
	/* Nothing moves while nobody reads. */
	us_world_run_pending(e.world);
	g_assert_cmpint(head_count(st), ==, 2);
	g_assert_cmpint(qsize(driver_wq(st)), ==, 18);
	g_assert_cmpuint(stat_of(us_stream_driver_rq(st), "msgs"), ==, 2);

	/* Empty the head without running the world: there is room above now,
	 * but a new write must still queue behind the 18 that wait. */
	expect_fill(st, 50, 0);
	expect_fill(st, 50, 1);
	swrite(st, fill_msg(M_DATA, 50, 20));
	g_assert_cmpint(head_count(st), ==, 0);
	g_assert_cmpint(qsize(driver_wq(st)), ==, 19);

	drain_range(e.world, st, 2, 19, 50, 100);
	g_assert_cmpint(qsize(driver_wq(st)), ==, 0);
	g_assert_cmpuint(stat_of(us_stream_driver_rq(st), "msgs"), ==, 21);
	g_assert_cmpuint(stat_of(us_stream_driver_rq(st), "bytes"), ==, 1050);
	env_fini(&e);
}

/* High priority is echoed at once even while the writer is held back. */
static void
test_echo_flow_control_priority_bypasses(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "echo");
	head_marks(st, 100, 10);
	for (guint i = 0; i < 5; i++)
		swrite(st, fill_msg(M_DATA, 50, (unsigned char)i));
	us_world_run_pending(e.world);
	g_assert_cmpint(head_count(st), ==, 2);
	g_assert_cmpint(qsize(driver_wq(st)), ==, 3);
	swrite(st, text_msg(M_PCPROTO, "pc"));
	/* Without running the world: it went straight through. */
	g_assert_cmpint(head_count(st), ==, 3);
	g_assert_cmpint(qsize(driver_wq(st)), ==, 3);
	expect_msg(st, M_PCPROTO, "pc");
	drain_in_order(e.world, st, 5, 50, 100);
	env_fini(&e);
}

/* FLUSHRW flushes echo's write queue and comes back up as FLUSHR only. */
static void
test_echo_flush_rw(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "echo");
	head_marks(st, 100, 10);
	for (guint i = 0; i < 6; i++)
		swrite(st, fill_msg(M_DATA, 50, (unsigned char)i));
	us_world_run_pending(e.world);
	g_assert_cmpint(qsize(driver_wq(st)), ==, 4);
	gint64 live = us_msg_live_count();
	swrite(st, flush_msg(FLUSHRW));
	us_world_run_pending(e.world);
	g_assert_cmpint(qsize(driver_wq(st)), ==, 0);
	g_assert_cmpuint(driver_wq(st)->q_count, ==, 0);
	/* The four waiting messages are gone; the M_FLUSH is at the head. */
	g_assert_cmpint(us_msg_live_count(), ==, live - 4 + 1);
	/* The plain head does not flush itself: M_FLUSH first, then the two
	 * messages it already held. */
	g_assert_cmpint(head_count(st), ==, 3);
	g_assert_cmpint(expect_flush(st), ==, FLUSHR);
	drain_in_order(e.world, st, 2, 50, 100);
	/* Flushed messages were not echoed. */
	g_assert_cmpuint(stat_of(us_stream_driver_rq(st), "msgs"), ==, 2);
	/* The stream still works. */
	swrite(st, text_msg(M_DATA, "after"));
	us_world_run_pending(e.world);
	expect_msg(st, M_DATA, "after");
	env_fini(&e);
}

/* FLUSHW alone flushes the write queue and sends nothing up. */
static void
test_echo_flush_w(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "echo");
	head_marks(st, 100, 10);
	for (guint i = 0; i < 4; i++)
		swrite(st, fill_msg(M_DATA, 50, (unsigned char)i));
	us_world_run_pending(e.world);
	g_assert_cmpint(qsize(driver_wq(st)), ==, 2);
	swrite(st, flush_msg(FLUSHW));
	us_world_run_pending(e.world);
	g_assert_cmpint(qsize(driver_wq(st)), ==, 0);
	g_assert_cmpint(head_count(st), ==, 2);
	drain_in_order(e.world, st, 2, 50, 100);
	env_fini(&e);
}

static void
test_echo_ioctl_nak(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "echo");
	do_ioctl(e.world, st, 0x1234, NULL, M_IOCNAK, EINVAL);
	int arg = 5;
	do_ioctl(e.world, st, LOOP_SET, &arg, M_IOCNAK, EINVAL);
	g_assert_null(us_plain_head_get(st));
	/* NAKs are not echoed data. */
	g_assert_cmpuint(stat_of(us_stream_driver_rq(st), "msgs"), ==, 0);
	env_fini(&e);
}

static void
test_echo_stats(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "echo");
	UsStream *other = env_open(&e, "echo");
	swrite(st, fill_msg(M_DATA, 10, 1));
	swrite(st, fill_msg(M_DATA, 20, 2));
	swrite(st, fill_msg(M_DATA, 30, 3));
	mblk_t *mp = text_msg(M_PROTO, "prim");
	mp->b_cont = fill_msg(M_DATA, 7, 4);
	swrite(st, mp);
	swrite(st, text_msg(M_PCPROTO, "pc"));
	us_world_run_pending(e.world);
	queue_t *rq = us_stream_driver_rq(st);
	g_assert_cmpuint(stat_of(rq, "msgs"), ==, 5);
	/* "bytes" counts data bytes (M_DATA blocks), as msgdsize does. */
	g_assert_cmpuint(stat_of(rq, "bytes"), ==, 67);
	/* The same numbers through the write queue; none on the other stream. */
	g_assert_cmpuint(stat_of(WR(rq), "msgs"), ==, 5);
	g_assert_cmpuint(stat_of(us_stream_driver_rq(other), "msgs"), ==, 0);
	g_assert_cmpuint(stat_of(us_stream_driver_rq(other), "bytes"), ==, 0);
	guint64 v;
	g_assert_false(us_stat_get(rq, "drops", &v));
	g_assert_cmpint(head_count(st), ==, 5);
	env_fini(&e);
}

static void
test_echo_clone_minors(void)
{
	Env e;
	env_init(&e);
	UsStream *a = env_open(&e, "echo"), *b = env_open(&e, "echo");
	guint major = us_registry_major(us_registry_find("echo"));
	g_assert_cmpuint(getmajor(us_stream_dev(a)), ==, major);
	g_assert_cmpuint(getmajor(us_stream_dev(b)), ==, major);
	g_assert_cmpuint(getminor(us_stream_dev(a)), !=, getminor(us_stream_dev(b)));
	/* Streams are independent. */
	swrite(a, text_msg(M_DATA, "to-a"));
	us_world_run_pending(e.world);
	g_assert_null(us_plain_head_get(b));
	expect_msg(a, M_DATA, "to-a");
	env_fini(&e);
}

/* ------------------------------------------------------------------ */
/* null                                                               */
/* ------------------------------------------------------------------ */

static void
test_null_discards(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "null");
	gint64 live = us_msg_live_count();
	swrite(st, fill_msg(M_DATA, 10, 1));
	mblk_t *mp = text_msg(M_PROTO, "prim");
	mp->b_cont = fill_msg(M_DATA, 7, 2);
	swrite(st, mp);
	swrite(st, text_msg(M_PCPROTO, "pc"));
	us_world_run_pending(e.world);
	g_assert_null(us_plain_head_get(st));
	g_assert_cmpint(us_msg_live_count(), ==, live);
	queue_t *rq = us_stream_driver_rq(st);
	g_assert_cmpuint(stat_of(rq, "msgs"), ==, 3);
	g_assert_cmpuint(stat_of(rq, "bytes"), ==, 17);
	/* Discarding is null's job, not a drop. */
	GHashTable *drops = us_stack_drops(e.stack);
	g_assert_cmpuint(g_hash_table_size(drops), ==, 0);
	g_hash_table_destroy(drops);
	/* Something it does not handle is a drop. */
	swrite(st, text_msg(M_CTL, "ctl"));
	us_world_run_pending(e.world);
	g_assert_null(us_plain_head_get(st));
	g_assert_cmpuint(us_stack_drop_count(e.stack, "null", US_DROP_UNHANDLED), ==, 1);
	g_assert_cmpuint(stat_of(rq, "msgs"), ==, 3);
	env_fini(&e);
}

static void
test_null_ioctl_nak(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "null");
	do_ioctl(e.world, st, 0x4321, NULL, M_IOCNAK, EINVAL);
	g_assert_null(us_plain_head_get(st));
	g_assert_cmpuint(stat_of(us_stream_driver_rq(st), "msgs"), ==, 0);
	env_fini(&e);
}

static void
test_null_flush(void)
{
	Env e;
	env_init(&e);
	UsStream *st = env_open(&e, "null");
	swrite(st, flush_msg(FLUSHR));
	us_world_run_pending(e.world);
	g_assert_cmpint(expect_flush(st), ==, FLUSHR);
	swrite(st, flush_msg(FLUSHRW));
	us_world_run_pending(e.world);
	g_assert_cmpint(expect_flush(st), ==, FLUSHR);
	swrite(st, flush_msg(FLUSHW));
	us_world_run_pending(e.world);
	g_assert_null(us_plain_head_get(st));
	env_fini(&e);
}

/* ------------------------------------------------------------------ */
/* loop                                                               */
/* ------------------------------------------------------------------ */

static int
minor_of(UsStream *st)
{
	return (int)getminor(us_stream_dev(st));
}

/* LOOP_SET on a naming b's minor; expects an ACK. */
static void
loop_join(Env *e, UsStream *a, UsStream *b)
{
	int minor = minor_of(b);
	do_ioctl(e->world, a, LOOP_SET, &minor, M_IOCACK, 0);
}

static void
test_loop_join_ack(void)
{
	Env e;
	env_init(&e);
	UsStream *a = env_open(&e, "loop"), *b = env_open(&e, "loop");
	g_assert_cmpint(minor_of(a), !=, minor_of(b));
	g_assert_cmpuint(getmajor(us_stream_dev(a)), ==,
			 us_registry_major(us_registry_find("loop")));
	loop_join(&e, a, b);
	g_assert_null(us_plain_head_get(a));
	g_assert_null(us_plain_head_get(b));
	env_fini(&e);
}

static void
test_loop_data_crosses(void)
{
	Env e;
	env_init(&e);
	UsStream *a = env_open(&e, "loop"), *b = env_open(&e, "loop");
	loop_join(&e, a, b);
	swrite(a, text_msg(M_DATA, "ping"));
	swrite(a, text_msg(M_PROTO, "proto-a"));
	us_world_run_pending(e.world);
	g_assert_null(us_plain_head_get(a));
	expect_msg(b, M_DATA, "ping");
	expect_msg(b, M_PROTO, "proto-a");
	swrite(b, text_msg(M_DATA, "pong"));
	swrite(b, text_msg(M_PCPROTO, "pc-b"));
	us_world_run_pending(e.world);
	g_assert_null(us_plain_head_get(b));
	expect_msg(a, M_PCPROTO, "pc-b");
	expect_msg(a, M_DATA, "pong");
	g_assert_null(us_plain_head_get(a));
	g_assert_cmpuint(stat_of(us_stream_driver_rq(a), "msgs"), ==, 2);
	g_assert_cmpuint(stat_of(us_stream_driver_rq(a), "bytes"), ==, 4);
	g_assert_cmpuint(stat_of(us_stream_driver_rq(b), "msgs"), ==, 2);
	env_fini(&e);
}

static void
test_loop_unjoined_error(void)
{
	Env e;
	env_init(&e);
	UsStream *a = env_open(&e, "loop"), *b = env_open(&e, "loop");
	gint64 live = us_msg_live_count();
	swrite(a, text_msg(M_DATA, "nobody"));
	us_world_run_pending(e.world);
	mblk_t *mp = us_plain_head_get(a);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_ERROR);
	g_assert_cmpuint(MBLKL(mp), >=, 1);
	g_assert_cmpint(mp->b_rptr[0], ==, ENXIO);
	freemsg(mp);
	/* The data is gone, and nothing went anywhere else. */
	g_assert_cmpint(us_msg_live_count(), ==, live);
	g_assert_null(us_plain_head_get(a));
	g_assert_null(us_plain_head_get(b));
	g_assert_cmpuint(stat_of(us_stream_driver_rq(a), "msgs"), ==, 0);
	env_fini(&e);
}

static void
test_loop_join_unknown_minor(void)
{
	Env e;
	env_init(&e);
	UsStream *a = env_open(&e, "loop");
	int minor = 999;
	do_ioctl(e.world, a, LOOP_SET, &minor, M_IOCNAK, ENXIO);
	/* Still unjoined. */
	swrite(a, text_msg(M_DATA, "x"));
	us_world_run_pending(e.world);
	mblk_t *mp = us_plain_head_get(a);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_ERROR);
	freemsg(mp);
	env_fini(&e);
}

static void
test_loop_join_busy(void)
{
	Env e;
	env_init(&e);
	UsStream *a = env_open(&e, "loop"), *b = env_open(&e, "loop");
	UsStream *c = env_open(&e, "loop");
	int self = minor_of(a);
	do_ioctl(e.world, a, LOOP_SET, &self, M_IOCNAK, EBUSY);
	loop_join(&e, a, b);
	int mc = minor_of(c), ma = minor_of(a), mb = minor_of(b);
	do_ioctl(e.world, a, LOOP_SET, &mc, M_IOCNAK, EBUSY); /* a already joined */
	do_ioctl(e.world, c, LOOP_SET, &ma, M_IOCNAK, EBUSY); /* a taken */
	do_ioctl(e.world, c, LOOP_SET, &mb, M_IOCNAK, EBUSY); /* b taken */
	do_ioctl(e.world, a, LOOP_SET, &mb, M_IOCNAK, EBUSY); /* again */
	/* The original join still works and c is still free. */
	swrite(a, text_msg(M_DATA, "still"));
	us_world_run_pending(e.world);
	expect_msg(b, M_DATA, "still");
	g_assert_null(us_plain_head_get(c));
	env_fini(&e);
}

static void
test_loop_join_bad_request(void)
{
	Env e;
	env_init(&e);
	UsStream *a = env_open(&e, "loop"), *b = env_open(&e, "loop");
	/* No argument. */
	do_ioctl(e.world, a, LOOP_SET, NULL, M_IOCNAK, EINVAL);
	/* Transparent ioctl. */
	int mb = minor_of(b);
	mblk_t *mp = ioctl_msg(LOOP_SET, &mb);
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	ioc->ioc_count = TRANSPARENT;
	unsigned int id = ioc->ioc_id;
	swrite(a, mp);
	us_world_run_pending(e.world);
	expect_ioc(a, M_IOCNAK, id, LOOP_SET, EINVAL);
	/* An unknown command. */
	do_ioctl(e.world, a, LOOP_SET + 1, &mb, M_IOCNAK, EINVAL);
	/* None of that joined anything. */
	loop_join(&e, a, b);
	env_fini(&e);
}

static void
test_loop_close_hangup(void)
{
	Env e;
	env_init(&e);
	UsStream *a = env_open(&e, "loop"), *b = env_open(&e, "loop");
	loop_join(&e, a, b);
	us_stream_close(a);
	us_world_run_pending(e.world);
	mblk_t *mp = us_plain_head_get(b);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_HANGUP);
	freemsg(mp);
	g_assert_null(us_plain_head_get(b));
	/* b is unjoined now: writing gets ENXIO. */
	swrite(b, text_msg(M_DATA, "anyone?"));
	us_world_run_pending(e.world);
	mp = us_plain_head_get(b);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_ERROR);
	g_assert_cmpint(mp->b_rptr[0], ==, ENXIO);
	freemsg(mp);
	/* ... and can be joined again. */
	UsStream *c = env_open(&e, "loop");
	loop_join(&e, b, c);
	swrite(c, text_msg(M_DATA, "again"));
	us_world_run_pending(e.world);
	expect_msg(b, M_DATA, "again");
	env_fini(&e);
}

/* b's head holds 100 bytes: a's writes wait on a's write queue and arrive
 * in order once b is read. */
static void
test_loop_flow_control(void)
{
	Env e;
	env_init(&e);
	UsStream *a = env_open(&e, "loop"), *b = env_open(&e, "loop");
	loop_join(&e, a, b);
	head_marks(b, 100, 10);
	for (guint i = 0; i < 20; i++)
		swrite(a, fill_msg(M_DATA, 50, (unsigned char)i));
	us_world_run_pending(e.world);
	g_assert_cmpint(head_count(b), ==, 2);
	g_assert_cmpint(qsize(driver_wq(a)), ==, 18);
	g_assert_cmpint(qsize(driver_wq(b)), ==, 0);
	g_assert_null(us_plain_head_get(a));
	/* Room at b's head does not let a late write overtake. */
	expect_fill(b, 50, 0);
	expect_fill(b, 50, 1);
	swrite(a, fill_msg(M_DATA, 50, 20));
	g_assert_cmpint(head_count(b), ==, 0);
	g_assert_cmpint(qsize(driver_wq(a)), ==, 19);
	drain_range(e.world, b, 2, 19, 50, 100);
	g_assert_cmpint(qsize(driver_wq(a)), ==, 0);
	g_assert_cmpuint(stat_of(us_stream_driver_rq(a), "msgs"), ==, 21);
	g_assert_cmpuint(stat_of(us_stream_driver_rq(a), "bytes"), ==, 1050);
	env_fini(&e);
}

/* Messages waiting for the other side are discarded when it goes away. */
static void
test_loop_close_while_held(void)
{
	Env e;
	env_init(&e);
	UsStream *a = env_open(&e, "loop"), *b = env_open(&e, "loop");
	loop_join(&e, a, b);
	head_marks(b, 100, 10);
	for (guint i = 0; i < 6; i++)
		swrite(a, fill_msg(M_DATA, 50, (unsigned char)i));
	us_world_run_pending(e.world);
	g_assert_cmpint(qsize(driver_wq(a)), ==, 4);
	us_stream_close(b);
	us_world_run_pending(e.world);
	mblk_t *mp = us_plain_head_get(a);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_HANGUP);
	freemsg(mp);
	/* a's write side has nowhere to send; kick it and check it empties. */
	qenable(driver_wq(a));
	us_world_run_pending(e.world);
	g_assert_cmpint(qsize(driver_wq(a)), ==, 0);
	g_assert_null(us_plain_head_get(a));
	env_fini(&e);
}

/* Minors belong to a stack: a minor open only on another stack is unknown. */
static void
test_loop_minors_per_stack(void)
{
	Env e;
	env_init(&e);
	UsStack *s2 = us_stack_new(e.world, "second");
	UsStream *a = env_open(&e, "loop");
	UsStream *x = ustest_open(s2, "loop"), *y = ustest_open(s2, "loop");
	g_assert_cmpint(minor_of(a), ==, minor_of(x));
	int my = minor_of(y);
	do_ioctl(e.world, a, LOOP_SET, &my, M_IOCNAK, ENXIO);
	loop_join(&e, x, y);
	swrite(x, text_msg(M_DATA, "s2"));
	us_world_run_pending(e.world);
	expect_msg(y, M_DATA, "s2");
	g_assert_null(us_plain_head_get(a));
	env_fini(&e);
}

static void
test_loop_open_minor_refused(void)
{
	Env e;
	env_init(&e);
	GError *error = NULL;
	g_assert_null(us_stream_open_minor(e.stack, "loop", 3, 0, &us_plain_head, NULL, &error));
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_clear_error(&error);
	g_assert_cmpuint(us_stream_live_count(), ==, e.streams0);
	env_fini(&e);
}

/* ------------------------------------------------------------------ */
/* pass                                                               */
/* ------------------------------------------------------------------ */

static queue_t *
pass_on_echo(Env *e, UsStream **stp, const char *mode)
{
	UsStream *st = env_open(e, "echo");
	env_push(st, "pass");
	queue_t *wq = module_wq(st, 0);
	GError *error = NULL;
	g_assert_true(us_param_set(wq, "mode", mode, &error));
	g_assert_no_error(error);
	*stp = st;
	return wq;
}

static void
pass_mode_check(const char *mode, guint64 want_queued)
{
	Env e;
	env_init(&e);
	UsStream *st;
	queue_t *wq = pass_on_echo(&e, &st, mode);
	for (guint i = 0; i < 10; i++)
		swrite(st, fill_msg(M_DATA, 8, (unsigned char)i));
	if (want_queued > 0) {
		/* Queue mode: nothing moves until the service procedure runs. */
		g_assert_cmpint(qsize(wq), ==, 10);
		g_assert_cmpint(head_count(st), ==, 0);
	} else {
		g_assert_cmpint(qsize(wq), ==, 0);
		g_assert_cmpint(head_count(st), ==, 10);
	}
	us_world_run_pending(e.world);
	g_assert_cmpint(qsize(wq), ==, 0);
	g_assert_cmpint(qsize(RD(wq)), ==, 0);
	drain_in_order(e.world, st, 10, 8, G_MAXSIZE);
	g_assert_cmpuint(stat_of(wq, "queued"), ==, want_queued);
	g_assert_cmpuint(stat_of(wq, "msgs_down"), ==, 10);
	g_assert_cmpuint(stat_of(wq, "msgs_up"), ==, 10);
	g_assert_cmpuint(stat_of(wq, "bytes_down"), ==, 80);
	g_assert_cmpuint(stat_of(wq, "bytes_up"), ==, 80);
	env_fini(&e);
}

static void
test_pass_mode_direct(void)
{
	pass_mode_check("0", 0);
}

/* Every message waits once on each side: 10 down + 10 up. */
static void
test_pass_mode_queue(void)
{
	pass_mode_check("1", 20);
}

static void
test_pass_mode_put(void)
{
	pass_mode_check("2", 0);
}

/* In queue mode ordinary messages wait for the service procedure; high
 * priority goes through at once, ahead of them. */
static void
test_pass_priority_bypasses_queue(void)
{
	Env e;
	env_init(&e);
	UsStream *st;
	queue_t *wq = pass_on_echo(&e, &st, "1");
	for (guint i = 0; i < 3; i++)
		swrite(st, fill_msg(M_DATA, 8, (unsigned char)i));
	swrite(st, text_msg(M_PCPROTO, "pc"));
	g_assert_cmpint(qsize(wq), ==, 3);
	g_assert_cmpint(head_count(st), ==, 1);
	expect_msg(st, M_PCPROTO, "pc");
	g_assert_cmpuint(stat_of(wq, "queued"), ==, 3);
	drain_in_order(e.world, st, 3, 8, G_MAXSIZE);
	env_fini(&e);
}

/* pass (hiwat 100) on echo (write queue hiwat 100) under a head holding
 * 100 bytes.  20 messages of 50 bytes: the head takes 2, pass's read queue
 * fills with 2, echo's write queue with 2, and the remaining 14 wait on
 * pass's write queue.  High priority still passes.  Reading the head
 * relieves each hop in turn and everything arrives in order. */
static void
test_pass_flow_control_hop_by_hop(void)
{
	Env e;
	env_init(&e);
	UsStream *st;
	queue_t *wq = pass_on_echo(&e, &st, "0");
	GError *error = NULL;
	g_assert_true(us_param_set(wq, "lowat", "10", &error));
	g_assert_true(us_param_set(wq, "hiwat", "100", &error));
	g_assert_no_error(error);
	queue_t *ewq = driver_wq(st);
	g_assert_cmpint(strqset(ewq, QHIWAT, 0, 100), ==, 0);
	g_assert_cmpint(strqset(ewq, QLOWAT, 0, 10), ==, 0);
	head_marks(st, 100, 10);

	for (guint i = 0; i < 20; i++)
		swrite(st, fill_msg(M_DATA, 50, (unsigned char)i));
	us_world_run_pending(e.world);
	g_assert_cmpint(head_count(st), ==, 2);
	g_assert_cmpint(qsize(RD(wq)), ==, 2);
	g_assert_cmpint(qsize(ewq), ==, 2);
	g_assert_cmpint(qsize(wq), ==, 14);
	g_assert_true(RD(wq)->q_flag & QFULL);
	g_assert_true(ewq->q_flag & QFULL);
	g_assert_true(wq->q_flag & QFULL);
	g_assert_cmpuint(stat_of(wq, "queued"), ==, 16);

	/* High priority is never held, not even by a full stream. */
	swrite(st, text_msg(M_PCPROTO, "pc"));
	g_assert_cmpint(head_count(st), ==, 3);
	expect_msg(st, M_PCPROTO, "pc");
	g_assert_cmpint(qsize(wq), ==, 14);

	drain_in_order(e.world, st, 20, 50, 100);
	g_assert_cmpint(qsize(wq), ==, 0);
	g_assert_cmpint(qsize(RD(wq)), ==, 0);
	g_assert_cmpint(qsize(ewq), ==, 0);
	g_assert_cmpuint(stat_of(us_stream_driver_rq(st), "msgs"), ==, 21);
	env_fini(&e);
}

/* M_FLUSH passes through pass to the driver and back, flushing pass's
 * queues on the way. */
static void
test_pass_flush(void)
{
	Env e;
	env_init(&e);
	UsStream *st;
	queue_t *wq = pass_on_echo(&e, &st, "1");
	for (guint i = 0; i < 3; i++)
		swrite(st, fill_msg(M_DATA, 8, (unsigned char)i));
	g_assert_cmpint(qsize(wq), ==, 3);
	swrite(st, flush_msg(FLUSHRW));
	us_world_run_pending(e.world);
	g_assert_cmpint(qsize(wq), ==, 0);
	g_assert_cmpint(expect_flush(st), ==, FLUSHR);
	g_assert_null(us_plain_head_get(st));
	g_assert_cmpuint(stat_of(us_stream_driver_rq(st), "msgs"), ==, 0);
	env_fini(&e);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	us_init();

	g_test_add_func("/echo/data/types-in-order", test_echo_types_in_order);
	g_test_add_func("/echo/data/pcproto-first", test_echo_pcproto);
	g_test_add_func("/echo/data/multiblock", test_echo_multiblock);
	g_test_add_func("/echo/flow-control/holds-writer", test_echo_flow_control_holds_writer);
	g_test_add_func("/echo/flow-control/priority-bypasses",
			test_echo_flow_control_priority_bypasses);
	g_test_add_func("/echo/flush/flushrw-returns-flushr", test_echo_flush_rw);
	g_test_add_func("/echo/flush/flushw-stays-down", test_echo_flush_w);
	g_test_add_func("/echo/ioctl/nak", test_echo_ioctl_nak);
	g_test_add_func("/echo/stats/msgs-bytes", test_echo_stats);
	g_test_add_func("/echo/open/clone-minors", test_echo_clone_minors);

	g_test_add_func("/null/data/discarded", test_null_discards);
	g_test_add_func("/null/ioctl/nak", test_null_ioctl_nak);
	g_test_add_func("/null/flush/flushr-returns", test_null_flush);

	g_test_add_func("/loop/join/ack", test_loop_join_ack);
	g_test_add_func("/loop/data/crosses", test_loop_data_crosses);
	g_test_add_func("/loop/unjoined/m-error-enxio", test_loop_unjoined_error);
	g_test_add_func("/loop/join/unknown-minor", test_loop_join_unknown_minor);
	g_test_add_func("/loop/join/busy", test_loop_join_busy);
	g_test_add_func("/loop/join/bad-request", test_loop_join_bad_request);
	g_test_add_func("/loop/close/hangup", test_loop_close_hangup);
	g_test_add_func("/loop/close/while-held", test_loop_close_while_held);
	g_test_add_func("/loop/flow-control/crosses", test_loop_flow_control);
	g_test_add_func("/loop/minors/per-stack", test_loop_minors_per_stack);
	g_test_add_func("/loop/open/minor-refused", test_loop_open_minor_refused);

	g_test_add_func("/pass/mode/direct", test_pass_mode_direct);
	g_test_add_func("/pass/mode/queue", test_pass_mode_queue);
	g_test_add_func("/pass/mode/put", test_pass_mode_put);
	g_test_add_func("/pass/priority/bypasses-queue", test_pass_priority_bypasses_queue);
	g_test_add_func("/pass/flow-control/hop-by-hop", test_pass_flow_control_hop_by_hop);
	g_test_add_func("/pass/flush/flushes-queues", test_pass_flush);
	return g_test_run();
}
