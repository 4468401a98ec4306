/* SPDX-License-Identifier: MIT */
/*
 * test-harness.c -- self-tests of UsHarness, using the pass module.
 */
#include "testutil.h"

static void
test_passes_both_ways(void)
{
	UsHarness *h = us_harness_new("pass");
	us_harness_push_down_data(h, "down", 4);
	us_harness_push_up_data(h, "up", 2);
	g_assert_cmpuint(us_harness_count_down(h), ==, 1);
	g_assert_cmpuint(us_harness_count_up(h), ==, 1);
	mblk_t *d = us_harness_pull_down(h), *u = us_harness_pull_up(h);
	g_assert_cmpmem(d->b_rptr, MBLKL(d), "down", 4);
	g_assert_cmpmem(u->b_rptr, MBLKL(u), "up", 2);
	freemsg(d);
	freemsg(u);
	g_assert_null(us_harness_pull_down(h));
	guint64 v = 0;
	g_assert_true(us_stat_get(us_harness_rq(h), "msgs_down", &v));
	g_assert_cmpuint(v, ==, 1);
	us_harness_free(h);
}

/* A blocked lower end fills to QFULL; the module holds messages on its own
 * queue; unblocking delivers everything in order. */
static void
test_blocked_lower_backpressure(void)
{
	UsHarness *h = us_harness_new("pass");
	us_harness_set_watermarks(h, TRUE, 100, 20);
	us_harness_set_blocked(h, TRUE, TRUE);
	for (unsigned char i = 0; i < 20; i++) {
		mblk_t *mp = tmsg(M_DATA, 0, 25, i);
		us_harness_push_down(h, mp);
	}
	g_assert_cmpuint(us_harness_count_down(h), ==, 0);
	g_assert_cmpint(qsize(us_harness_wq(h)), >, 10); /* pass is holding them */
	us_harness_set_blocked(h, TRUE, FALSE);
	g_assert_cmpuint(us_harness_count_down(h), ==, 20);
	for (unsigned char i = 0; i < 20; i++) {
		mblk_t *mp = us_harness_pull_down(h);
		g_assert_cmpint(mp->b_rptr[0], ==, i);
		freemsg(mp);
	}
	us_harness_free(h);
}

/* High-priority messages reach a blocked end at once. */
static void
test_high_priority_not_held(void)
{
	UsHarness *h = us_harness_new("pass");
	us_harness_set_blocked(h, FALSE, TRUE);
	us_harness_push_up(h, tmsg(M_PCPROTO, 0, 4, 9));
	g_assert_cmpuint(us_harness_count_up(h), ==, 1);
	mblk_t *mp = us_harness_pull_up(h);
	g_assert_cmpint(DB_TYPE(mp), ==, M_PCPROTO);
	freemsg(mp);
	us_harness_free(h);
}

/* pass has no ioctls: the M_IOCTL goes down to the fake driver, no reply. */
static void
test_ioctl_passes_down(void)
{
	UsHarness *h = us_harness_new("pass");
	int arg = 7;
	g_assert_null(us_harness_ioctl(h, 0x1234, &arg, sizeof arg));
	mblk_t *mp = us_harness_pull_down(h);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_IOCTL);
	g_assert_cmpint(((struct iocblk *)mp->b_rptr)->ioc_cmd, ==, 0x1234);
	g_assert_cmpuint(msgdsize(mp->b_cont), ==, sizeof arg);
	freemsg(mp);
	us_harness_free(h);
}

/* Virtual time: a module's qtimeout fires when the harness advances. */
static guint fired;

static void
on_tick(void *arg)
{
	(void)arg;
	fired++;
}

static void
test_virtual_time(void)
{
	UsHarness *h = us_harness_new("pass");
	fired = 0;
	qtimeout(us_harness_wq(h), on_tick, NULL, 1000);
	us_harness_advance(h, 999 * US_NSEC_PER_MSEC);
	g_assert_cmpuint(fired, ==, 0);
	us_harness_advance(h, US_NSEC_PER_MSEC);
	g_assert_cmpuint(fired, ==, 1);
	g_assert_cmpint(us_harness_now(h), ==, US_NSEC_PER_SEC);
	us_harness_free(h);
}

static void
test_leak_detected(void)
{
	if (g_test_subprocess()) {
		UsHarness *h = us_harness_new("pass");
		us_harness_push_down_data(h, "x", 1);
		mblk_t *mp = us_harness_pull_down(h);
		(void)mp; /* leaked on purpose */
		us_harness_free(h);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_failed();
	g_test_trap_assert_stderr("*leaked*");
}

static void
test_unknown_module(void)
{
	int err = 0;
	g_assert_null(us_harness_try_new("no-such-module", 1, &err));
	g_assert_cmpint(err, ==, EINVAL);
	probe_next_open_error = EACCES;
	g_assert_null(us_harness_try_new("probe", 1, &err));
	g_assert_cmpint(err, ==, EACCES);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	test_register_probes();
	g_test_add_func("/harness/pass/both-ways", test_passes_both_ways);
	g_test_add_func("/harness/flow/blocked-lower", test_blocked_lower_backpressure);
	g_test_add_func("/harness/flow/high-priority", test_high_priority_not_held);
	g_test_add_func("/harness/ioctl/passes-down", test_ioctl_passes_down);
	g_test_add_func("/harness/time/virtual", test_virtual_time);
	g_test_add_func("/harness/leak-detected", test_leak_detected);
	g_test_add_func("/harness/open-errors", test_unknown_module);
	return g_test_run();
}
