/* SPDX-License-Identifier: MIT */
/*
 * test-head-threads.c -- descriptors used from several threads on a world
 * WITHOUT a thread of its own: one thread blocks in a call (and so drives the
 * world), another makes calls that run directly, serialised with it.
 */
#include "shtest.h"

#include "../../drivers/loop/loop.h"

typedef struct {
	int fd;
	int count;
} Writer;

static gpointer
late_writer(gpointer data)
{
	Writer *w = data;
	for (int i = 0; i < w->count; i++) {
		g_usleep(2000);
		char c = (char)('a' + i);
		g_assert_cmpint(us_write(w->fd, &c, 1), ==, 1);
	}
	return NULL;
}

/* A blocking read on a real-clock world with no thread of its own is woken
 * by a write made from another thread. */
static void
test_blocked_reader_woken_by_other_thread(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_REAL);
	int a = sh_open(&fx, "loop", O_RDWR), b = sh_open(&fx, "loop", O_RDWR);
	int minor = (int)getminor(us_stream_dev(us_fd_stream(b)));
	struct strioctl sio = { .ic_cmd = LOOP_SET,
				.ic_len = sizeof minor,
				.ic_dp = (char *)&minor };
	g_assert_cmpint(us_ioctl(a, I_STR, &sio), ==, 0);
	Writer w = { .fd = b, .count = 5 };
	GThread *t = g_thread_new("writer", late_writer, &w);
	char buf[8];
	for (int i = 0; i < 5; i++) {
		g_assert_cmpint(us_read(a, buf, 1), ==, 1); /* blocks until the write */
		g_assert_cmpint(buf[0], ==, 'a' + i);
	}
	g_thread_join(t);
	sh_close(a);
	sh_close(b);
	sh_fini(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sh_register();
	g_test_add_func("/head/threads/unthreaded-world-reader-woken",
			test_blocked_reader_woken_by_other_thread);
	return g_test_run();
}
