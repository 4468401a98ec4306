/* SPDX-License-Identifier: MIT */
/*
 * live-env.h -- the world, stream, statistic and ioctl helpers of the tap
 * and afpacket tests.  Define LIVE_DRIVER (the driver's name) first.
 */
#ifndef USTREAMS_TEST_LIVE_ENV_H
#define USTREAMS_TEST_LIVE_ENV_H

typedef struct {
	UsWorld *world;
	UsStack *stack;
	gint64 live0;
} Env;

/* A real-clock world with one stack named after the driver under test. */
static void
env_init(Env *e)
{
	e->live0 = us_msg_live_count();
	e->world = us_world_new(US_CLOCK_REAL, 1);
	e->stack = us_stack_new(e->world, LIVE_DRIVER "-test");
}

static void
env_fini(Env *e)
{
	us_world_free(e->world);
	g_assert_cmpint(us_msg_live_count(), ==, e->live0);
}

/* Opens the driver under test under the plain head. */
static UsStream *
live_stream(Env *e)
{
	GError *error = NULL;
	UsStream *st = us_stream_open(e->stack, LIVE_DRIVER, 0, &us_plain_head, NULL, &error);
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

/* Sends an I_STR ioctl with arg (inlen bytes) and returns the reply's
 * errno (0: ACK); the ACK's data is copied to out. */
static int
do_ioctl(Env *e, UsStream *st, int cmd, const void *arg, size_t inlen, void *out, size_t outlen)
{
	mblk_t *mp = mkiocb((unsigned int)cmd);
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	ioc->ioc_count = inlen;
	if (arg != NULL)
		mp->b_cont = us_msg_from(arg, inlen, 0);
	put(us_stream_head_wq(st), mp);
	us_world_run_pending(e->world);
	mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	g_assert_true(DB_TYPE(mp) == M_IOCACK || DB_TYPE(mp) == M_IOCNAK);
	ioc = (struct iocblk *)mp->b_rptr;
	int err = DB_TYPE(mp) == M_IOCACK ? 0 : ioc->ioc_error;
	if (err == 0 && out != NULL) {
		g_assert_nonnull(mp->b_cont);
		g_assert_cmpuint(us_msgcopyout(mp->b_cont, 0, out, outlen), ==, outlen);
	}
	freemsg(mp);
	return err;
}

#endif
