/* SPDX-License-Identifier: MIT */
/*
 * test-head-open.c -- us_open/us_close and the descriptors they hand out:
 * real kernel fds, readable exactly while the head has something to report.
 */
#include "shtest.h"

static gboolean
fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, 0);
	g_assert_cmpint(n, >=, 0);
	return n == 1 && (p.revents & POLLIN);
}

static void
test_open_unknown_driver(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	sh_assert_fails(us_open(fx.stack, "nosuchdrv", O_RDWR), ENXIO);
	g_assert_cmpuint(us_fd_count(), ==, fx.fds0);
	sh_fini(&fx);
}

static void
test_open_module_name(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	sh_assert_fails(us_open(fx.stack, "pass", O_RDWR), ENOENT);
	sh_assert_fails(us_open(fx.stack, "shmod", O_RDWR), ENOENT);
	g_assert_cmpuint(us_fd_count(), ==, fx.fds0);
	sh_fini(&fx);
}

static void
test_open_bad_args(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	sh_assert_fails(us_open(NULL, "echo", O_RDWR), EINVAL);
	sh_assert_fails(us_open(fx.stack, NULL, O_RDWR), EINVAL);
	sh_fini(&fx);
}

/* Each open is a new stream on a real, distinct kernel descriptor. */
static void
test_open_real_fds(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int a = sh_open(&fx, "echo", O_RDWR);
	int b = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(a, !=, b);
	g_assert_cmpuint(us_fd_count(), ==, fx.fds0 + 2);
	g_assert_cmpint(fcntl(a, F_GETFD), >=, 0);
	g_assert_cmpint(fcntl(b, F_GETFD), >=, 0);
	g_assert_true(us_fd_stream(a) != us_fd_stream(b));
	g_assert_true(us_fd_stack(a) == fx.stack);
	g_assert_cmpuint(getminor(us_stream_dev(us_fd_stream(a))), !=,
			 getminor(us_stream_dev(us_fd_stream(b))));
	sh_close(a);
	sh_close(b);
	/* The kernel descriptors went with them. */
	sh_assert_fails(fcntl(a, F_GETFD), EBADF);
	g_assert_null(us_fd_stream(a));
	sh_fini(&fx);
}

/* The fd polls readable exactly while data waits at the head. */
static void
test_open_fd_readable_with_data(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_false(fd_readable(fd));
	sh_write_str(fd, "ab");
	sh_write_str(fd, "cd");
	g_assert_true(fd_readable(fd));
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGN), ==, 0);
	sh_read_expect(fd, 10, "ab");
	g_assert_true(fd_readable(fd)); /* "cd" still waits */
	sh_read_expect(fd, 10, "cd");
	g_assert_false(fd_readable(fd));
	sh_write_str(fd, "e");
	g_assert_true(fd_readable(fd));
	g_assert_cmpint(us_ioctl(fd, I_FLUSH, FLUSHR), ==, 0);
	g_assert_false(fd_readable(fd));
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_close_bad_fd(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	sh_assert_fails(us_close(-1), EBADF);
	sh_assert_fails(us_close(1000000), EBADF);
	/* A real descriptor that is not a stream head. */
	int pfd[2];
	g_assert_cmpint(pipe(pfd), ==, 0);
	sh_assert_fails(us_close(pfd[0]), EBADF);
	close(pfd[0]);
	close(pfd[1]);
	int fd = sh_open(&fx, "null", O_RDWR);
	sh_close(fd);
	sh_assert_fails(us_close(fd), EBADF); /* twice */
	sh_fini(&fx);
}

/* Calls on a closed or never-opened descriptor fail with EBADF. */
static void
test_calls_bad_fd(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_close(fd);
	char buf[4];
	struct strbuf sb = { .maxlen = 4, .buf = buf };
	int flags = 0, band = 0;
	sh_assert_fails(us_read(fd, buf, 4), EBADF);
	sh_assert_fails(us_write(fd, "x", 1), EBADF);
	sh_assert_fails(us_getmsg(fd, NULL, &sb, &flags), EBADF);
	sh_assert_fails(us_getpmsg(fd, NULL, &sb, &band, &flags), EBADF);
	sh_assert_fails(us_putmsg(fd, NULL, &sb, 0), EBADF);
	sh_assert_fails(us_ioctl(fd, I_NREAD, &flags), EBADF);
	sh_assert_fails(us_fcntl(fd, F_GETFL), EBADF);
	sh_assert_fails(us_getsigevents(fd), EBADF);
	sh_fini(&fx);
}

/* O_NONBLOCK from open and through us_fcntl; other commands EINVAL. */
static void
test_open_fcntl_nonblock(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR | O_NONBLOCK);
	g_assert_cmpint(us_fcntl(fd, F_GETFL) & O_NONBLOCK, ==, O_NONBLOCK);
	char buf[4];
	sh_assert_fails(us_read(fd, buf, sizeof buf), EAGAIN);
	g_assert_cmpint(us_fcntl(fd, F_SETFL, 0), ==, 0);
	g_assert_cmpint(us_fcntl(fd, F_GETFL) & O_NONBLOCK, ==, 0);
	g_assert_cmpint(us_fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0);
	sh_assert_fails(us_read(fd, buf, sizeof buf), EAGAIN);
	sh_assert_fails(us_fcntl(fd, F_GETFD), EINVAL);
	sh_close(fd);
	sh_fini(&fx);
}

/* Closing frees what waits at the head and in the stream. */
static void
test_close_frees_waiting(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "pass");
	for (int i = 0; i < 5; i++)
		sh_write_str(fd, "waiting");
	struct strbuf ctl = { .len = 3, .buf = "ctl" };
	g_assert_cmpint(us_putmsg(fd, &ctl, NULL, RS_HIPRI), ==, 0);
	sh_settle(&fx);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 6);
	sh_close(fd);
	sh_fini(&fx); /* checks the live message count */
}

/* Fills the loop from a to b until a's write side holds data back. */
static void
fill_loop(int a)
{
	g_assert_cmpint(us_fcntl(a, F_SETFL, O_NONBLOCK), ==, 0);
	char *buf = g_malloc0(400000);
	ssize_t n = us_write(a, buf, 400000);
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(n, <, 400000);
	g_free(buf);
}

/* A blocking close waits for the write side to drain, at most the close
 * time (I_SETCLTIME), on the world's clock. */
static void
test_close_waits_close_time(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int a, b;
	sh_loop_pair(&fx, &a, &b, O_RDWR, O_RDWR);
	fill_loop(a);
	g_assert_cmpint(us_fcntl(a, F_SETFL, 0), ==, 0);
	int ms = 250;
	g_assert_cmpint(us_ioctl(a, I_SETCLTIME, &ms), ==, 0);
	gint64 t0 = us_world_now(fx.world);
	sh_close(a);
	g_assert_cmpint(us_world_now(fx.world) - t0, ==, 250 * US_NSEC_PER_MSEC);
	sh_close(b);
	sh_fini(&fx);
}

/* With O_NONBLOCK, close does not wait. */
static void
test_close_nonblock_does_not_wait(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int a, b;
	sh_loop_pair(&fx, &a, &b, O_RDWR, O_RDWR);
	fill_loop(a); /* leaves O_NONBLOCK set */
	gint64 t0 = us_world_now(fx.world);
	sh_close(a);
	g_assert_cmpint(us_world_now(fx.world), ==, t0);
	sh_close(b);
	sh_fini(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sh_register();
	g_test_add_func("/head/open/unknown-driver-enxio", test_open_unknown_driver);
	g_test_add_func("/head/open/module-name-enoent", test_open_module_name);
	g_test_add_func("/head/open/bad-args-einval", test_open_bad_args);
	g_test_add_func("/head/open/real-fds", test_open_real_fds);
	g_test_add_func("/head/open/fd-readable-with-data", test_open_fd_readable_with_data);
	g_test_add_func("/head/open/fcntl-nonblock", test_open_fcntl_nonblock);
	g_test_add_func("/head/close/bad-fd-ebadf", test_close_bad_fd);
	g_test_add_func("/head/close/calls-after-close-ebadf", test_calls_bad_fd);
	g_test_add_func("/head/close/frees-waiting", test_close_frees_waiting);
	g_test_add_func("/head/close/waits-close-time", test_close_waits_close_time);
	g_test_add_func("/head/close/nonblock-does-not-wait", test_close_nonblock_does_not_wait);
	return g_test_run();
}
