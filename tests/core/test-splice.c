/* SPDX-License-Identifier: MIT */
/*
 * test-splice.c -- live splicing (us_stream_insert / us_stream_remove, and
 * I_POP through the stream head): positions and errors; no message lost or
 * reordered when the removed module still held messages on its queues or in
 * its deferred-put list, in either direction; writers blocked on the old
 * neighbour's flow control resume after a splice; no drop counted.
 *
 * The streams are plain head / modules / echo: what goes down comes back
 * up, so every message is seen at the head in the order it finally took.
 * Messages carry a 32-bit sequence number.
 */
#include "testutil.h"

#include <fcntl.h>

#include <ustreams/head.h>

#define SEQ_LEN 10 /* bytes per test message: 4 of sequence, 6 of fill */

static mblk_t *
seq_msg(guint32 n)
{
	mblk_t *mp = tmsg(M_DATA, 0, SEQ_LEN, 0x5a);
	memcpy(mp->b_rptr, &n, sizeof n);
	return mp;
}

static guint32
seq_of(mblk_t *mp)
{
	guint32 n;
	g_assert_cmpuint(MBLKL(mp), ==, SEQ_LEN);
	memcpy(&n, mp->b_rptr, sizeof n);
	return n;
}

/* Sends [from, to) down from the head, without running the world. */
static void
send_seq(Fx *fx, guint32 from, guint32 to)
{
	for (guint32 n = from; n < to; n++)
		putnext(us_stream_head_wq(fx->st), seq_msg(n));
}

/* Runs the world and takes everything that reached the head: it must be
 * exactly [from, to) in order. */
static void
expect_seq(Fx *fx, guint32 from, guint32 to)
{
	us_world_run_pending(fx->world);
	for (guint32 n = from; n < to; n++) {
		mblk_t *mp = us_plain_head_get(fx->st);
		g_assert_nonnull(mp);
		g_assert_cmpuint(seq_of(mp), ==, n);
		freemsg(mp);
	}
	g_assert_null(us_plain_head_get(fx->st));
}

static ProbeSide *
probe_of(queue_t *q, gboolean read_side)
{
	Probe *p = RD(q)->q_ptr;
	return &p->side[read_side ? 0 : 1];
}

/* Makes one side of the probe whose write queue is wq hold what it gets. */
static void
probe_hold(queue_t *wq, gboolean read_side, gboolean hold)
{
	ProbeSide *s = probe_of(wq, read_side);
	s->queue_puts = TRUE;
	s->drain = !hold;
	if (!hold)
		qenable(read_side ? RD(wq) : wq);
}

static void
assert_no_drops(Fx *fx)
{
	GHashTable *drops = us_stack_drops(fx->stack);
	g_assert_cmpuint(g_hash_table_size(drops), ==, 0);
	g_hash_table_unref(drops);
}

static char *
names(UsStream *st)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i <= us_stream_depth(st); i++)
		g_string_append_printf(s, "%s%s", i ? " " : "", us_stream_module_name(st, i));
	return g_string_free(s, FALSE);
}

static void
assert_names(UsStream *st, const char *want)
{
	char *got = names(st);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
}

static void
insert_ok(Fx *fx, const char *module, UsStreamWhere where, const char *ref)
{
	GError *error = NULL;
	queue_t *rq = NULL;
	g_assert_cmpint(us_stream_insert(fx->st, module, where, ref, &rq, &error), ==, 0);
	g_assert_no_error(error);
	g_assert_nonnull(rq);
	g_assert_true(rq->q_flag & QREADR);
	g_assert_cmpstr(us_queue_desc(rq)->name, ==, module);
}

/* ------------------------------------------------------------------ */
/* Positions and errors                                               */
/* ------------------------------------------------------------------ */

static void
test_positions(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	insert_ok(&fx, "pass", US_STREAM_BOTTOM, NULL);
	insert_ok(&fx, "probe", US_STREAM_TOP, NULL);
	assert_names(fx.st, "probe pass echo");
	insert_ok(&fx, "putonly", US_STREAM_BELOW, "probe");
	assert_names(fx.st, "probe putonly pass echo");
	insert_ok(&fx, "putonly", US_STREAM_ABOVE, "echo");
	assert_names(fx.st, "probe putonly pass putonly echo");
	insert_ok(&fx, "pass", US_STREAM_ABOVE, "probe");
	insert_ok(&fx, "probe", US_STREAM_BELOW, "head"); /* the plain head's name */
	assert_names(fx.st, "probe pass probe putonly pass putonly echo");
	/* Names refer to the topmost instance. */
	insert_ok(&fx, "putonly", US_STREAM_ABOVE, "putonly");
	assert_names(fx.st, "probe pass probe putonly putonly pass putonly echo");
	g_assert_cmpuint(us_stream_depth(fx.st), ==, 7);
	/* Data passes through all of them. */
	send_seq(&fx, 0, 5);
	expect_seq(&fx, 0, 5);
	/* Removal by name takes the topmost; by queue, that very instance. */
	GError *error = NULL;
	g_assert_cmpint(us_stream_remove(fx.st, "pass", &error), ==, 0);
	assert_names(fx.st, "probe probe putonly putonly pass putonly echo");
	queue_t *lowest = us_stream_find_module(fx.st, "pass");
	g_assert_nonnull(lowest);
	g_assert_cmpint(us_stream_remove_queue(WR(lowest), &error), ==, 0);
	g_assert_no_error(error);
	assert_names(fx.st, "probe probe putonly putonly putonly echo");
	g_assert_null(us_stream_find_module(fx.st, "pass"));
	g_assert_cmpint(us_stream_pop(fx.st), ==, 0);
	assert_names(fx.st, "probe putonly putonly putonly echo");
	send_seq(&fx, 5, 9);
	expect_seq(&fx, 5, 9);
	assert_no_drops(&fx);
	fx_close(&fx);
}

static void
test_errors(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	fx_push(&fx, "pass");
	GError *error = NULL;
	queue_t *rq = (queue_t *)&error; /* must be cleared on failure */
	g_assert_cmpint(us_stream_insert(fx.st, "no-such", US_STREAM_TOP, NULL, &rq, &error), ==,
			EINVAL);
	g_assert_error(error, US_ERROR, US_ERROR_NOT_FOUND);
	g_assert_null(rq);
	g_clear_error(&error);
	g_assert_cmpint(us_stream_insert(fx.st, "null", US_STREAM_TOP, NULL, NULL, &error), ==,
			EINVAL);
	g_assert_error(error, US_ERROR, US_ERROR_KIND);
	g_clear_error(&error);
	/* An unknown neighbour; "below" the driver; "above" the head. */
	static const struct {
		UsStreamWhere where;
		const char *ref;
	} bad[] = { { US_STREAM_BELOW, "nothing" }, { US_STREAM_ABOVE, "nothing" },
		    { US_STREAM_BELOW, "echo" },    { US_STREAM_ABOVE, "head" },
		    { US_STREAM_BELOW, NULL },      { US_STREAM_ABOVE, NULL } };
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(
			us_stream_insert(fx.st, "probe", bad[i].where, bad[i].ref, NULL, &error),
			==, EINVAL);
		g_assert_error(error, US_ERROR, US_ERROR_NOT_FOUND);
		g_clear_error(&error);
	}
	/* A failing open leaves the stream as it was. */
	probe_next_open_error = ENOSR;
	g_assert_cmpint(us_stream_insert(fx.st, "probe", US_STREAM_BOTTOM, NULL, NULL, &error), ==,
			ENOSR);
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_clear_error(&error);
	assert_names(fx.st, "pass echo");
	/* Nothing of that name; the driver and the head are not modules. */
	g_assert_cmpint(us_stream_remove(fx.st, "probe", &error), ==, EINVAL);
	g_assert_error(error, US_ERROR, US_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_cmpint(us_stream_remove(fx.st, "echo", NULL), ==, EINVAL);
	g_assert_cmpint(us_stream_remove_queue(us_stream_driver_rq(fx.st), NULL), ==, EINVAL);
	g_assert_cmpint(us_stream_remove_queue(us_stream_head_wq(fx.st), NULL), ==, EINVAL);
	assert_names(fx.st, "pass echo");
	fx_close(&fx);
}

/* ------------------------------------------------------------------ */
/* Carrying what the removed module held                              */
/* ------------------------------------------------------------------ */

/* Messages held on the removed module's write queue go down, in order,
 * behind the ones that passed before and ahead of later ones. */
static void
test_carry_queued_down(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	fx_push(&fx, "pass");
	insert_ok(&fx, "probe", US_STREAM_BOTTOM, NULL);
	queue_t *pwq = WR(us_stream_find_module(fx.st, "probe"));
	send_seq(&fx, 0, 4);
	expect_seq(&fx, 0, 4);
	probe_hold(pwq, FALSE, TRUE);
	send_seq(&fx, 4, 12);
	us_world_run_pending(fx.world);
	g_assert_cmpint(pwq->q_nmsgs, ==, 8);
	g_assert_null(us_plain_head_get(fx.st));
	GError *error = NULL;
	g_assert_cmpint(us_stream_remove(fx.st, "probe", &error), ==, 0);
	g_assert_no_error(error);
	send_seq(&fx, 12, 20);
	expect_seq(&fx, 4, 20);
	assert_names(fx.st, "pass echo");
	assert_no_drops(&fx);
	fx_close(&fx);
}

/* The same on the read side: held messages go up to the head. */
static void
test_carry_queued_up(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	fx_push(&fx, "probe");
	fx_push(&fx, "pass");
	queue_t *pwq = WR(us_stream_find_module(fx.st, "probe"));
	probe_hold(pwq, TRUE, TRUE);
	send_seq(&fx, 0, 7);
	us_world_run_pending(fx.world);
	g_assert_cmpint(RD(pwq)->q_nmsgs, ==, 7);
	g_assert_cmpint(us_stream_remove(fx.st, "probe", NULL), ==, 0);
	send_seq(&fx, 7, 9);
	expect_seq(&fx, 0, 9);
	assert_no_drops(&fx);
	fx_close(&fx);
}

/* Both queues of the module hold messages: each direction keeps its own
 * order, and what was held going up stays ahead of what the driver turns
 * around from the messages carried down. */
static void
test_carry_both_directions(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	fx_push(&fx, "probe");
	queue_t *pwq = WR(us_stream_find_module(fx.st, "probe"));
	probe_hold(pwq, TRUE, TRUE);
	send_seq(&fx, 0, 3); /* go down, come back up and wait on the read side */
	us_world_run_pending(fx.world);
	probe_hold(pwq, FALSE, TRUE);
	send_seq(&fx, 3, 6); /* wait on the write side */
	us_world_run_pending(fx.world);
	g_assert_cmpint(pwq->q_nmsgs, ==, 3);
	g_assert_cmpint(RD(pwq)->q_nmsgs, ==, 3);
	g_assert_cmpint(us_stream_pop(fx.st), ==, 0);
	send_seq(&fx, 6, 8);
	expect_seq(&fx, 0, 8);
	assert_no_drops(&fx);
	fx_close(&fx);
}

/* Messages deferred to the removed module's put procedure (sent to it and
 * not yet seen: a put chain deeper than the nesting limit) are carried on
 * too.  Fifty put-only modules make the chain deep enough; the message sent
 * from the head at depth 0 stops, deferred, in front of one of them. */
static void
test_carry_deferred(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	for (int i = 0; i < 50; i++)
		fx_push(&fx, "putonly");
	queue_t *deferred_at = NULL;
	send_seq(&fx, 0, 3);
	for (guint i = 0; i < 50 && deferred_at == NULL; i++)
		if (fx_wq(&fx, i)->q_defer_first != NULL)
			deferred_at = fx_wq(&fx, i);
	g_assert_nonnull(deferred_at);
	g_assert_cmpuint(probe_of(deferred_at, FALSE)->puts, ==, 0);
	GError *error = NULL;
	g_assert_cmpint(us_stream_remove_queue(deferred_at, &error), ==, 0);
	g_assert_no_error(error);
	g_assert_cmpuint(us_stream_depth(fx.st), ==, 49);
	send_seq(&fx, 3, 6);
	expect_seq(&fx, 0, 6);
	assert_no_drops(&fx);
	fx_close(&fx);
}

/* ------------------------------------------------------------------ */
/* Flow control across a splice                                       */
/* ------------------------------------------------------------------ */

/* A writer stopped on the removed module's QFULL resumes: A (drains when it
 * can) above B (holds until QFULL); removing B leaves A facing echo. */
static void
test_remove_resumes_blocked_writer(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	fx_push(&fx, "probe"); /* B */
	fx_push(&fx, "probe"); /* A */
	queue_t *awq = fx_wq(&fx, 0), *bwq = fx_wq(&fx, 1);
	probe_hold(awq, FALSE, FALSE);
	probe_hold(bwq, FALSE, TRUE);
	send_seq(&fx, 0, 40);
	us_world_run_pending(fx.world);
	g_assert_true(bwq->q_flag & QFULL);
	g_assert_cmpint(awq->q_nmsgs, >, 0); /* A stopped: B is full */
	g_assert_cmpint(us_stream_remove_queue(bwq, NULL), ==, 0);
	expect_seq(&fx, 0, 40);
	assert_no_drops(&fx);
	fx_close(&fx);
}

/* A writer stopped on its neighbour's QFULL resumes when a module is
 * inserted between them (the neighbour's back-enable would go to the new
 * module, which never asked for one). */
static void
test_insert_resumes_blocked_writer(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	fx_push(&fx, "probe"); /* B */
	fx_push(&fx, "probe"); /* A */
	queue_t *awq = fx_wq(&fx, 0), *bwq = fx_wq(&fx, 1);
	probe_hold(awq, FALSE, FALSE);
	probe_hold(bwq, FALSE, TRUE);
	send_seq(&fx, 0, 40);
	us_world_run_pending(fx.world);
	g_assert_cmpint(awq->q_nmsgs, >, 0);
	insert_ok(&fx, "pass", US_STREAM_BELOW, "probe"); /* between A and B */
	assert_names(fx.st, "probe pass probe echo");
	probe_hold(bwq, FALSE, FALSE); /* B drains (and back-enables pass) */
	expect_seq(&fx, 0, 40);
	g_assert_cmpint(awq->q_nmsgs, ==, 0);
	assert_no_drops(&fx);
	fx_close(&fx);
}

/* ------------------------------------------------------------------ */
/* Through the stream head                                            */
/* ------------------------------------------------------------------ */

/* I_POP of a module holding written data: the data still reaches echo and
 * comes back, in order, after what passed before. */
static void
test_ipop_carries(void)
{
	gint64 live0 = us_msg_live_count();
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *s = us_stack_new(w, "head");
	int fd = us_open(s, "echo", O_RDWR | O_NONBLOCK);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "probe"), ==, 0);
	queue_t *pwq = us_stream_head_wq(us_fd_stream(fd))->q_next;
	g_assert_cmpint(us_write(fd, "one", 3), ==, 3);
	us_world_run_pending(w);
	probe_hold(pwq, FALSE, TRUE);
	g_assert_cmpint(us_write(fd, "two", 3), ==, 3);
	g_assert_cmpint(us_write(fd, "three", 5), ==, 5);
	us_world_run_pending(w);
	g_assert_cmpint(pwq->q_nmsgs, ==, 2);
	g_assert_cmpint(us_ioctl(fd, I_POP, 0), ==, 0);
	us_world_run_pending(w);
	GString *got = g_string_new(NULL);
	char buf[4];
	ssize_t n;
	while ((n = us_read(fd, buf, sizeof buf)) > 0)
		g_string_append_len(got, buf, n);
	g_assert_cmpint(n, ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
	g_assert_cmpstr(got->str, ==, "onetwothree");
	g_string_free(got, TRUE);
	g_assert_cmpint(us_close(fd), ==, 0);
	us_world_free(w);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	test_register_probes();
	g_test_add_func("/stream/splice/positions", test_positions);
	g_test_add_func("/stream/splice/errors", test_errors);
	g_test_add_func("/stream/splice/carry/queued-down", test_carry_queued_down);
	g_test_add_func("/stream/splice/carry/queued-up", test_carry_queued_up);
	g_test_add_func("/stream/splice/carry/both-directions", test_carry_both_directions);
	g_test_add_func("/stream/splice/carry/deferred", test_carry_deferred);
	g_test_add_func("/stream/splice/flow/remove-resumes-writer",
			test_remove_resumes_blocked_writer);
	g_test_add_func("/stream/splice/flow/insert-resumes-writer",
			test_insert_resumes_blocked_writer);
	g_test_add_func("/stream/splice/head/i-pop-carries", test_ipop_carries);
	return g_test_run();
}
