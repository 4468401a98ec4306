/* SPDX-License-Identifier: MIT */
/*
 * ustest.h -- helpers shared by the test programs: open a stream with the
 * plain head, set a driver's parameter, read a driver's statistic; each
 * asserts success, so a test reads as the behaviour it checks.
 */
#ifndef US_USTEST_H
#define US_USTEST_H

#include <ustreams/plumb.h>
#include <ustreams/registry.h>

/* Opens `driver` on stack under the plain head (us_plain_head_get reads). */
static inline UsStream *
ustest_open(UsStack *stack, const char *driver)
{
	GError *error = NULL;
	UsStream *st = us_stream_open(stack, driver, 0, &us_plain_head, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(st);
	return st;
}

/* Sets a parameter of the stream's driver. */
static inline void
ustest_param(UsStream *st, const char *name, const char *value)
{
	GError *error = NULL;
	g_assert_true(us_param_set(us_stream_driver_rq(st), name, value, &error));
	g_assert_no_error(error);
}

/* Reads a statistic of the stream's driver. */
static inline guint64
ustest_stat(UsStream *st, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(us_stream_driver_rq(st), name, &v));
	return v;
}

#endif
