/* SPDX-License-Identifier: MIT */
/*
 * poll-loop -- one thread serving several stream descriptors, waiting on
 * them as on any file descriptor: first with epoll(7), then with a GLib main
 * loop (g_unix_fd_add).  The stacks run on a world thread of their own, so
 * the descriptors' readiness comes from another thread, as with a kernel.
 *
 *   three "echo" streams (each with a "pass" module pushed) and a pair of
 *   "loop" streams joined with LOOP_SET: every message written is expected
 *   back on the descriptor it belongs to.
 *
 * Run: build/examples/poll-loop
 */
#include <ustreams/ustreams.h>

#include "../drivers/loop/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define NECHO 3
#define ROUNDS 5

typedef struct {
	int fds[NECHO + 2];    /* echo streams, then the two loop ends */
	int expect[NECHO + 2]; /* messages each descriptor should still receive */
	int received;
	gboolean timed_out;
	GMainLoop *loop;
} App;

/* Message-discard mode keeps each message apart (the default, RNORM, is a
 * byte stream that would join them). */
static int
set_msg_mode(int fd)
{
	return us_ioctl(fd, I_SRDOPT, RMSGD);
}

static int
open_all(App *app, UsStack *stack)
{
	for (int i = 0; i < NECHO; i++) {
		app->fds[i] = us_open(stack, "echo", O_RDWR | O_NONBLOCK);
		if (app->fds[i] < 0 || us_ioctl(app->fds[i], I_PUSH, "pass") < 0)
			return -1;
	}
	app->fds[NECHO] = us_open(stack, "loop", O_RDWR | O_NONBLOCK);
	app->fds[NECHO + 1] = us_open(stack, "loop", O_RDWR | O_NONBLOCK);
	if (app->fds[NECHO] < 0 || app->fds[NECHO + 1] < 0)
		return -1;
	for (int i = 0; i < NECHO + 2; i++)
		if (set_msg_mode(app->fds[i]) < 0)
			return -1;
	int minor = (int)getminor(us_stream_dev(us_fd_stream(app->fds[NECHO + 1])));
	struct strioctl sio = { .ic_cmd = LOOP_SET,
				.ic_len = sizeof minor,
				.ic_dp = (char *)&minor };
	return us_ioctl(app->fds[NECHO], I_STR, &sio);
}

/* Writes one round: a message on each echo stream and one across the loop. */
static void
write_round(App *app, int round)
{
	char msg[32];
	for (int i = 0; i < NECHO; i++) {
		int n = snprintf(msg, sizeof msg, "echo %d round %d", i, round);
		us_write(app->fds[i], msg, (size_t)n);
		app->expect[i]++;
	}
	int n = snprintf(msg, sizeof msg, "loop round %d", round);
	us_write(app->fds[NECHO], msg, (size_t)n);
	app->expect[NECHO + 1]++;
}

/* Reads everything waiting on fd; returns messages read. */
static int
drain(App *app, int idx, const char *how)
{
	char buf[64];
	int got = 0;
	ssize_t n;
	while ((n = us_read(app->fds[idx], buf, sizeof buf)) > 0) {
		printf("  [%s] fd %d: %.*s\n", how, app->fds[idx], (int)n, buf);
		app->expect[idx]--;
		app->received++;
		got++;
	}
	return got;
}

static int
run_epoll(App *app)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < NECHO + 2; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		epoll_ctl(ep, EPOLL_CTL_ADD, app->fds[i], &ev);
	}
	int want = app->received + NECHO + 1;
	write_round(app, 1);
	while (app->received < want) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, 2000);
		if (n <= 0)
			break;
		for (int k = 0; k < n; k++)
			drain(app, (int)evs[k].data.u32, "epoll");
	}
	close(ep);
	return app->received == want ? 0 : -1;
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer data)
{
	(void)cond;
	App *app = data;
	for (int i = 0; i < NECHO + 2; i++)
		if (app->fds[i] == fd)
			drain(app, i, "glib");
	if (app->received >= (NECHO + 1) * ROUNDS)
		g_main_loop_quit(app->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
give_up(gpointer data)
{
	App *app = data;
	app->timed_out = TRUE;
	g_main_loop_quit(app->loop);
	return G_SOURCE_REMOVE;
}

static void
run_glib(App *app)
{
	app->loop = g_main_loop_new(NULL, FALSE);
	guint ids[NECHO + 2];
	for (int i = 0; i < NECHO + 2; i++)
		ids[i] = g_unix_fd_add(app->fds[i], G_IO_IN, on_readable, app);
	guint t = g_timeout_add_seconds(5, give_up, app);
	for (int r = 2; r <= ROUNDS; r++)
		write_round(app, r);
	g_main_loop_run(app->loop);
	for (int i = 0; i < NECHO + 2; i++)
		g_source_remove(ids[i]);
	if (!app->timed_out)
		g_source_remove(t);
	g_main_loop_unref(app->loop);
}

int
main(void)
{
	UsWorld *world = us_world_new(US_CLOCK_REAL, 1);
	UsStack *stack = us_stack_new(world, "poll-loop");
	if (!us_world_start_thread(world, NULL))
		return 1;
	App app = { 0 };
	if (open_all(&app, stack) < 0) {
		fprintf(stderr, "poll-loop: setup failed: %s\n", strerror(errno));
		return 1;
	}
	printf("round 1 with epoll:\n");
	int ok = run_epoll(&app) == 0;
	printf("rounds 2-%d with a GLib main loop:\n", ROUNDS);
	run_glib(&app);
	for (int i = 0; i < NECHO + 2; i++) {
		ok &= app.expect[i] == 0;
		us_close(app.fds[i]);
	}
	us_world_free(world);
	printf("%s: %d messages came back on the right descriptors\n", ok ? "OK" : "FAILED",
	       app.received);
	return ok ? 0 : 1;
}
