/* SPDX-License-Identifier: MIT */
/*
 * test-stream.c -- plumbing: open (clone minors), push, pop, close, failure
 * paths leaving nothing half-built, autopush.
 */
#include "testutil.h"

static void
test_open_clone_minors(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	UsStream *b = us_stream_open(fx.stack, "echo", 0, NULL, NULL, NULL);
	g_assert_nonnull(b);
	g_assert_cmpuint(getmajor(us_stream_dev(fx.st)), ==,
			 us_registry_major(us_registry_find("echo")));
	g_assert_cmpuint(getminor(us_stream_dev(fx.st)), !=, getminor(us_stream_dev(b)));
	g_assert_true(us_stream_stack(b) == fx.stack);
	g_assert_true(us_queue_stream(us_stream_head_rq(b)) == b);
	g_assert_true(us_queue_world(us_stream_driver_rq(b)) == fx.world);
	us_stream_close(b);
	fx_close(&fx);
}

static void
test_push_pop_names(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	g_assert_cmpuint(us_stream_depth(fx.st), ==, 0);
	g_assert_cmpstr(us_stream_module_name(fx.st, 0), ==, "echo");
	fx_push(&fx, "pass");
	fx_push(&fx, "probe");
	g_assert_cmpuint(us_stream_depth(fx.st), ==, 2);
	g_assert_cmpstr(us_stream_module_name(fx.st, 0), ==, "probe");
	g_assert_cmpstr(us_stream_module_name(fx.st, 1), ==, "pass");
	g_assert_cmpstr(us_stream_module_name(fx.st, 2), ==, "echo");
	g_assert_null(us_stream_module_name(fx.st, 3));
	/* Data goes through both modules and back. */
	put(us_stream_head_wq(fx.st), us_msg_from("abc", 3, 0));
	us_world_run_pending(fx.world);
	mblk_t *mp = us_plain_head_get(fx.st);
	g_assert_nonnull(mp);
	g_assert_cmpmem(mp->b_rptr, MBLKL(mp), "abc", 3);
	freemsg(mp);
	g_assert_cmpint(us_stream_pop(fx.st), ==, 0);
	g_assert_cmpstr(us_stream_module_name(fx.st, 0), ==, "pass");
	g_assert_cmpint(us_stream_pop(fx.st), ==, 0);
	g_assert_cmpint(us_stream_pop(fx.st), ==, EINVAL);
	g_assert_true(us_stream_head_wq(fx.st)->q_next == WR(us_stream_driver_rq(fx.st)));
	g_assert_true(us_stream_driver_rq(fx.st)->q_next == us_stream_head_rq(fx.st));
	fx_close(&fx);
}

static void
test_push_failure_leaves_stream_intact(void)
{
	Fx fx;
	fx_open(&fx, "echo");
	fx_push(&fx, "pass");
	probe_next_open_error = ENOSR;
	GError *error = NULL;
	g_assert_cmpint(us_stream_push(fx.st, "probe", &error), ==, ENOSR);
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_clear_error(&error);
	g_assert_cmpuint(us_stream_depth(fx.st), ==, 1);
	g_assert_cmpstr(us_stream_module_name(fx.st, 0), ==, "pass");
	g_assert_cmpint(us_stream_push(fx.st, "no-such-module", &error), ==, EINVAL);
	g_assert_error(error, US_ERROR, US_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_cmpint(us_stream_push(fx.st, "null", &error), ==, EINVAL);
	g_assert_error(error, US_ERROR, US_ERROR_KIND);
	g_clear_error(&error);
	g_assert_null(us_stream_open(fx.stack, "pass", 0, NULL, NULL, &error));
	g_assert_error(error, US_ERROR, US_ERROR_KIND);
	g_clear_error(&error);
	fx_close(&fx);
}

/* Messages left on any queue are freed by close; live count returns to 0. */
static void
test_close_frees_queued(void)
{
	Fx fx;
	fx_open(&fx, "null");
	fx_push(&fx, "probe");
	fx_push(&fx, "probe");
	queue_t *q = fx_wq(&fx, 1);
	probe_side(q)->drain = FALSE;
	probe_side(fx_wq(&fx, 0))->queue_puts = TRUE;
	for (int i = 0; i < 5; i++)
		put(us_stream_head_wq(fx.st), tmsg(M_DATA, 0, 100, 0));
	putq(RD(q), tmsg(M_PROTO, 3, 10, 0));
	putnextctl1(RD(q), M_ERROR, EIO); /* sits on the plain head */
	guint before = us_stream_live_count();
	us_stream_close(fx.st);
	g_assert_cmpuint(us_stream_live_count(), ==, before - 1);
	fx_close(&fx); /* asserts the live message count */
}

static void
test_autopush(void)
{
	Fx fx;
	fx_open(&fx, "null");
	const char *mods[] = { "pass", "probe", NULL };
	GError *error = NULL;
	g_assert_true(us_autopush_set(fx.stack, "echo", mods, &error));
	char **got = us_autopush_get(fx.stack, "echo");
	g_assert_cmpstrv(got, mods);
	g_strfreev(got);
	UsStream *st = us_stream_open(fx.stack, "echo", 0, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(us_stream_depth(st), ==, 2);
	g_assert_cmpstr(us_stream_module_name(st, 0), ==, "probe"); /* pushed last */
	g_assert_cmpstr(us_stream_module_name(st, 1), ==, "pass");
	us_stream_close(st);
	/* At most 8; unknown names and drivers refused; nothing changes then. */
	const char *nine[] = { "pass", "pass", "pass", "pass", "pass",
			       "pass", "pass", "pass", "pass", NULL };
	g_assert_false(us_autopush_set(fx.stack, "echo", nine, &error));
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_clear_error(&error);
	const char *bad[] = { "pass", "null", NULL };
	g_assert_false(us_autopush_set(fx.stack, "echo", bad, &error));
	g_assert_error(error, US_ERROR, US_ERROR_KIND);
	g_clear_error(&error);
	got = us_autopush_get(fx.stack, "echo");
	g_assert_cmpstrv(got, mods);
	g_strfreev(got);
	/* A failing autopush module fails the open and leaves nothing open. */
	const char *failing[] = { "probe", NULL };
	g_assert_true(us_autopush_set(fx.stack, "echo", failing, NULL));
	probe_next_open_error = EPERM;
	guint before = us_stream_live_count();
	g_assert_null(us_stream_open(fx.stack, "echo", 0, NULL, NULL, &error));
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_clear_error(&error);
	g_assert_cmpuint(us_stream_live_count(), ==, before);
	g_assert_true(us_autopush_set(fx.stack, "echo", NULL, NULL));
	g_assert_null(us_autopush_get(fx.stack, "echo"));
	fx_close(&fx);
}

/* The driver's open failing: error reported, nothing left behind. */
static int
failing_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)rq, (void)devp, (void)oflag, (void)sflag, (void)crp;
	return EBUSY;
}

static int
noop_put(queue_t *q, mblk_t *mp)
{
	(void)q;
	freemsg(mp);
	return 0;
}

static struct module_info failing_minfo = { .mi_idname = "failing", .mi_maxpsz = INFPSZ };
static struct qinit failing_rinit = { .qi_putp = noop_put,
				      .qi_qopen = failing_open,
				      .qi_minfo = &failing_minfo };
static struct qinit failing_winit = { .qi_putp = noop_put, .qi_minfo = &failing_minfo };
static struct streamtab failing_info = { .st_rdinit = &failing_rinit, .st_wrinit = &failing_winit };

static void
test_driver_open_failure(void)
{
	Fx fx;
	fx_open(&fx, "null");
	g_assert_cmpint(us_register_driver(&failing_info, US_KIND_DRIVER), ==, 0);
	g_assert_cmpint(us_register_driver(&failing_info, US_KIND_MODULE), ==, EINVAL);
	GError *error = NULL;
	guint before = us_stream_live_count();
	g_assert_null(us_stream_open(fx.stack, "failing", 0, NULL, NULL, &error));
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_assert_nonnull(strstr(error->message, g_strerror(EBUSY)));
	g_clear_error(&error);
	g_assert_cmpuint(us_stream_live_count(), ==, before);
	fx_close(&fx);
}

/* Freeing a stack closes its streams; freeing the world frees its stacks. */
static void
test_stack_free_closes(void)
{
	gint64 live0 = us_msg_live_count();
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *s = us_stack_new(w, "s");
	guint before = us_stream_live_count();
	for (int i = 0; i < 4; i++) {
		UsStream *st = us_stream_open(s, "echo", 0, NULL, NULL, NULL);
		g_assert_cmpint(us_stream_push(st, "pass", NULL), ==, 0);
		put(us_stream_head_wq(st), tmsg(M_DATA, 0, 10, 0));
	}
	us_world_run_pending(w);
	g_assert_cmpuint(us_stream_live_count(), ==, before + 4);
	us_stack_free(s);
	g_assert_cmpuint(us_stream_live_count(), ==, before);
	us_world_free(w);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	test_register_probes();
	g_test_add_func("/stream/open/clone-minors", test_open_clone_minors);
	g_test_add_func("/stream/push-pop/names", test_push_pop_names);
	g_test_add_func("/stream/push/failure-leaves-stream",
			test_push_failure_leaves_stream_intact);
	g_test_add_func("/stream/close/frees-queued", test_close_frees_queued);
	g_test_add_func("/stream/autopush", test_autopush);
	g_test_add_func("/stream/open/driver-failure", test_driver_open_failure);
	g_test_add_func("/stream/stack-free-closes", test_stack_free_closes);
	return g_test_run();
}
