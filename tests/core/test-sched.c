/* SPDX-License-Identifier: MIT */
/*
 * test-sched.c -- worlds, clocks, timers, bufcalls and cross-thread calls.
 */
#include "testutil.h"

#include <unistd.h>

static void
record_time(gpointer data)
{
	GArray *a = data;
	UsWorld *w = us_world_current();
	gint64 now = us_world_now(w);
	g_array_append_val(a, now);
}

static void
test_virtual_timers_in_order(void)
{
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 7);
	GArray *fired = g_array_new(FALSE, FALSE, sizeof(gint64));
	us_world_timer_add(w, 300, record_time, fired);
	us_world_timer_add(w, 100, record_time, fired);
	us_world_timer_add(w, 200, record_time, fired);
	guint64 gone = us_world_timer_add(w, 150, record_time, fired);
	g_assert_cmpint(us_world_timer_cancel(w, gone), ==, 150);
	g_assert_cmpint(us_world_timer_cancel(w, gone), ==, -1);
	g_assert_cmpint(us_world_next_deadline(w), ==, 100);
	us_world_advance(w, 250);
	g_assert_cmpuint(fired->len, ==, 2);
	g_assert_cmpint(g_array_index(fired, gint64, 0), ==, 100); /* exactly at deadline */
	g_assert_cmpint(g_array_index(fired, gint64, 1), ==, 200);
	g_assert_cmpint(us_world_now(w), ==, 250);
	us_world_advance(w, 1000);
	g_assert_cmpuint(fired->len, ==, 3);
	g_assert_cmpint(g_array_index(fired, gint64, 2), ==, 300);
	g_assert_cmpint(us_world_now(w), ==, 1250);
	g_array_unref(fired);
	us_world_free(w);
}

static void
append_tag(gpointer data)
{
	GString *s = us_world_current() ? data : NULL;
	g_string_append_c(s, 'x');
}

static void
test_same_deadline_fifo(void)
{
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	GString *order = g_string_new(NULL);
	for (int i = 0; i < 5; i++)
		us_world_timer_add(w, 10, append_tag, order);
	us_world_advance(w, 10);
	g_assert_cmpstr(order->str, ==, "xxxxx");
	g_string_free(order, TRUE);
	us_world_free(w);
}

static gboolean
flag_is_set(gpointer data)
{
	return *(gboolean *)data;
}

static void
set_flag(gpointer data)
{
	*(gboolean *)data = TRUE;
}

static void
test_run_until(void)
{
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	gboolean flag = FALSE;
	/* Nothing pending: no progress possible, returns FALSE at once. */
	g_assert_false(us_world_run_until(w, flag_is_set, &flag, -1));
	us_world_timer_add(w, 5 * US_NSEC_PER_SEC, set_flag, &flag);
	/* A limit shorter than the timer: FALSE, clock at the limit. */
	g_assert_false(us_world_run_until(w, flag_is_set, &flag, US_NSEC_PER_SEC));
	g_assert_cmpint(us_world_now(w), ==, US_NSEC_PER_SEC);
	g_assert_true(us_world_run_until(w, flag_is_set, &flag, -1));
	g_assert_cmpint(us_world_now(w), ==, 5 * US_NSEC_PER_SEC);
	us_world_free(w);
}

static void
test_real_clock_timer(void)
{
	UsWorld *w = us_world_new(US_CLOCK_REAL, 1);
	gboolean flag = FALSE;
	gint64 t0 = g_get_monotonic_time();
	us_world_timer_add(w, 20 * US_NSEC_PER_MSEC, set_flag, &flag);
	g_assert_true(us_world_run_until(w, flag_is_set, &flag, 5 * US_NSEC_PER_SEC));
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 20000);
	us_world_free(w);
}

/* The world's sources on a GMainContext drive virtual time by themselves. */
static void
test_main_context_drives_virtual_time(void)
{
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	gboolean flag = FALSE;
	us_world_timer_add(w, 3600 * US_NSEC_PER_SEC, set_flag, &flag);
	GMainContext *ctx = us_world_context(w);
	for (int i = 0; i < 100 && !flag; i++)
		g_main_context_iteration(ctx, FALSE);
	g_assert_true(flag);
	g_assert_cmpint(us_world_now(w), ==, 3600 * US_NSEC_PER_SEC);
	us_world_free(w);
}

static void
test_seeded_random(void)
{
	UsWorld *a = us_world_new(US_CLOCK_VIRTUAL, 42), *b = us_world_new(US_CLOCK_VIRTUAL, 42);
	UsWorld *c = us_world_new(US_CLOCK_VIRTUAL, 43);
	gboolean differs = FALSE;
	for (int i = 0; i < 16; i++) {
		guint32 x = g_rand_int(us_world_rand(a)), y = g_rand_int(us_world_rand(b));
		g_assert_cmpuint(x, ==, y);
		differs |= x != g_rand_int(us_world_rand(c));
	}
	g_assert_true(differs);
	g_assert_cmpuint(us_world_seed(a), ==, 42);
	us_world_free(a);
	us_world_free(b);
	us_world_free(c);
}

/* ------------------------------------------------------------------ */
/* qtimeout / quntimeout on a module                                  */
/* ------------------------------------------------------------------ */

static guint tick_count;

static void
tick(void *arg)
{
	(void)arg;
	tick_count++;
}

static void
test_qtimeout(void)
{
	Fx fx;
	fx_open(&fx, "null");
	fx_push(&fx, "probe");
	queue_t *q = fx_wq(&fx, 0);
	tick_count = 0;
	timeout_id_t a = qtimeout(q, tick, NULL, drv_usectohz(10000)); /* 10 ms */
	timeout_id_t b = qtimeout(q, tick, NULL, 50);
	g_assert_cmpuint(a, !=, b);
	us_world_advance(fx.world, 5 * US_NSEC_PER_MSEC);
	g_assert_cmpuint(tick_count, ==, 0);
	g_assert_cmpint(quntimeout(q, b), ==, 45);
	us_world_advance(fx.world, 5 * US_NSEC_PER_MSEC);
	g_assert_cmpuint(tick_count, ==, 1);
	g_assert_cmpint(quntimeout(q, a), ==, -1); /* already ran */
	us_world_advance(fx.world, US_NSEC_PER_SEC);
	g_assert_cmpuint(tick_count, ==, 1); /* b was cancelled */
	g_assert_cmpint(ddi_get_lbolt() >= 0, ==, 1);
	fx_close(&fx);
}

/* Timeouts still pending when a module is popped never run. */
static void
test_pop_cancels_qtimeouts(void)
{
	Fx fx;
	fx_open(&fx, "null");
	fx_push(&fx, "probe");
	tick_count = 0;
	qtimeout(fx_wq(&fx, 0), tick, NULL, 10);
	qbufcall(fx_wq(&fx, 0), 10, BPRI_MED, tick, NULL);
	g_assert_cmpint(us_stream_pop(fx.st), ==, 0);
	us_world_advance(fx.world, US_NSEC_PER_SEC);
	g_assert_cmpuint(tick_count, ==, 0);
	fx_close(&fx);
}

/* ------------------------------------------------------------------ */
/* bufcall with allocation failure injection                          */
/* ------------------------------------------------------------------ */

typedef struct {
	queue_t *q;
	guint attempts;
	mblk_t *got;
} Retry;

static void
retry_alloc(void *arg)
{
	Retry *r = arg;
	r->attempts++;
	r->got = allocb(100, BPRI_MED);
	if (r->got == NULL)
		g_assert_cmpuint(qbufcall(r->q, 100, BPRI_MED, retry_alloc, r), !=, 0);
}

static void
test_bufcall_after_failures(void)
{
	Fx fx;
	fx_open(&fx, "null");
	fx_push(&fx, "probe");
	Retry r = { .q = fx_wq(&fx, 0) };
	us_msg_fail_allocs(0, 3);
	retry_alloc(&r); /* fails: registers a bufcall */
	g_assert_null(r.got);
	g_assert_cmpuint(r.attempts, ==, 1);
	/* No frees happen: the retry period moves virtual time on. */
	g_assert_true(us_world_run_until(fx.world, NULL, NULL, 0) == FALSE);
	for (int i = 0; i < 10 && r.got == NULL; i++)
		us_world_advance(fx.world, 10 * US_NSEC_PER_MSEC);
	g_assert_nonnull(r.got);
	g_assert_cmpuint(r.attempts, ==, 4);
	freemsg(r.got);
	fx_close(&fx);
}

/* bufcall() belongs to the calling world; with none it cannot register. */
static void
test_bufcall_without_world(void)
{
	g_assert_null(us_world_current());
	g_assert_cmpuint(bufcall(10, BPRI_LO, tick, NULL), ==, 0);
}

typedef struct {
	bufcall_id_t id;
	gboolean cancel;
} BufArgs;

static void
register_bufcall(gpointer data)
{
	BufArgs *a = data;
	a->id = bufcall(64, BPRI_LO, tick, NULL);
	if (a->cancel)
		unbufcall(a->id);
}

static void
test_bufcall_free_and_unbufcall(void)
{
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	tick_count = 0;
	BufArgs a = { 0, FALSE };
	us_world_call(w, register_bufcall, &a);
	g_assert_cmpuint(a.id, !=, 0);
	us_world_run_pending(w);
	g_assert_cmpuint(tick_count, ==, 0); /* nothing freed yet, no time passed */
	freemsg(allocb(10, BPRI_LO));
	us_world_run_pending(w);
	g_assert_cmpuint(tick_count, ==, 1); /* woken by the free at once */
	BufArgs b = { 0, TRUE };
	us_world_call(w, register_bufcall, &b);
	freemsg(allocb(10, BPRI_LO));
	us_world_advance(w, US_NSEC_PER_SEC);
	g_assert_cmpuint(tick_count, ==, 1);
	us_world_free(w);
}

/* ------------------------------------------------------------------ */
/* Threads                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
	UsWorld *w;
	GThread *ran_on;
	gboolean was_current;
} CallArgs;

static void
note_thread(gpointer data)
{
	CallArgs *a = data;
	a->ran_on = g_thread_self();
	a->was_current = us_world_is_current(a->w);
}

static gpointer
caller_thread(gpointer data)
{
	CallArgs *a = data;
	us_world_call(a->w, note_thread, a);
	return NULL;
}

static void
test_world_thread_and_calls(void)
{
	UsWorld *w = us_world_new(US_CLOCK_REAL, 1);
	g_assert_true(us_world_start_thread(w, NULL));
	CallArgs a = { .w = w };
	GThread *t = g_thread_new("caller", caller_thread, &a);
	g_thread_join(t);
	g_assert_nonnull(a.ran_on);
	g_assert_true(a.ran_on != t);
	g_assert_true(a.ran_on != g_thread_self());
	g_assert_true(a.was_current);
	/* A timer set from outside fires on the world's thread. */
	gboolean flag = FALSE;
	us_world_timer_add(w, US_NSEC_PER_MSEC, set_flag, &flag);
	g_assert_true(us_world_run_until(w, flag_is_set, &flag, 5 * US_NSEC_PER_SEC));
	us_world_stop_thread(w);
	/* Without a thread, calls run on the caller. */
	CallArgs b = { .w = w };
	us_world_call(w, note_thread, &b);
	g_assert_true(b.ran_on == g_thread_self());
	us_world_free(w);
}

/* Echo on a world running on its own thread, driven from this thread. */
typedef struct {
	UsStream *st;
	mblk_t *got;
} EchoArgs;

static void
write_hello(gpointer data)
{
	EchoArgs *a = data;
	put(us_stream_head_wq(a->st), us_msg_from("hello", 5, 0));
}

static void
read_one(gpointer data)
{
	EchoArgs *a = data;
	a->got = us_plain_head_get(a->st);
}

static void
test_stream_on_threaded_world(void)
{
	gint64 live0 = us_msg_live_count();
	UsWorld *w = us_world_new(US_CLOCK_REAL, 1);
	UsStack *s = us_stack_new(w, "t");
	g_assert_true(us_world_start_thread(w, NULL));
	EchoArgs a = { 0 };
	a.st = us_stream_open(s, "echo", 0, &us_plain_head, NULL, NULL);
	g_assert_nonnull(a.st);
	us_world_call(w, write_hello, &a);
	for (int i = 0; i < 1000 && a.got == NULL; i++) {
		us_world_call(w, read_one, &a);
		if (a.got == NULL)
			g_usleep(1000);
	}
	g_assert_nonnull(a.got);
	g_assert_cmpmem(a.got->b_rptr, MBLKL(a.got), "hello", 5);
	freemsg(a.got);
	us_world_free(w);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

typedef struct {
	UsWorld *w;
	guint calls;
	GIOCondition last;
	gboolean on_world;
} FdSeen;

static void
on_fd(gpointer data, GIOCondition revents)
{
	FdSeen *f = data;
	f->calls++;
	f->last = revents;
	f->on_world = us_world_is_current(f->w);
}

static gboolean
fd_called(gpointer data)
{
	return ((FdSeen *)data)->calls > 0;
}

/* A watched pipe calls back on the world when it becomes readable; with
 * the watch set to 0 it does not. */
static void
test_fd_watch(void)
{
	int p[2];
	g_assert_cmpint(pipe(p), ==, 0);
	UsWorld *w = us_world_new(US_CLOCK_REAL, 1);
	FdSeen f = { .w = w };
	UsFdWatch *fw = us_fd_watch_add(w, p[0], G_IO_IN, on_fd, &f);
	g_assert_false(us_world_run_until(w, fd_called, &f, 20 * US_NSEC_PER_MSEC));
	g_assert_cmpint(write(p[1], "x", 1), ==, 1);
	g_assert_true(us_world_run_until(w, fd_called, &f, 5 * US_NSEC_PER_SEC));
	g_assert_true(f.last & G_IO_IN);
	g_assert_true(f.on_world);
	us_fd_watch_set(fw, 0);
	g_assert_cmpuint(us_fd_watch_events(fw), ==, 0);
	f.calls = 0;
	g_assert_false(us_world_run_until(w, fd_called, &f, 20 * US_NSEC_PER_MSEC));
	us_fd_watch_remove(fw);
	us_world_free(w);
	close(p[0]);
	close(p[1]);
}

static void
free_string(gpointer p)
{
	*(gboolean *)p = TRUE;
}

static void
test_stack_data(void)
{
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *s = us_stack_new(w, "alpha");
	gboolean destroyed = FALSE;
	us_stack_set_data(s, "k", &destroyed, free_string);
	g_assert_true(us_stack_get_data(s, "k") == &destroyed);
	g_assert_null(us_stack_get_data(s, "other"));
	g_assert_true(us_world_find_stack(w, "alpha") == s);
	g_assert_null(us_world_find_stack(w, "beta"));
	g_assert_cmpstr(us_stack_name(s), ==, "alpha");
	g_assert_true(us_stack_world(s) == w);
	us_stack_free(s);
	g_assert_true(destroyed);
	us_world_free(w);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	test_register_probes();
	g_test_add_func("/sched/virtual/timers-in-order", test_virtual_timers_in_order);
	g_test_add_func("/sched/virtual/same-deadline-fifo", test_same_deadline_fifo);
	g_test_add_func("/sched/virtual/run-until", test_run_until);
	g_test_add_func("/sched/virtual/main-context", test_main_context_drives_virtual_time);
	g_test_add_func("/sched/real/timer", test_real_clock_timer);
	g_test_add_func("/sched/random/seeded", test_seeded_random);
	g_test_add_func("/sched/qtimeout/fire-and-cancel", test_qtimeout);
	g_test_add_func("/sched/qtimeout/pop-cancels", test_pop_cancels_qtimeouts);
	g_test_add_func("/sched/bufcall/after-failures", test_bufcall_after_failures);
	g_test_add_func("/sched/bufcall/no-world", test_bufcall_without_world);
	g_test_add_func("/sched/bufcall/free-and-unbufcall", test_bufcall_free_and_unbufcall);
	g_test_add_func("/sched/thread/calls", test_world_thread_and_calls);
	g_test_add_func("/sched/thread/stream", test_stream_on_threaded_world);
	g_test_add_func("/sched/stack/data", test_stack_data);
	g_test_add_func("/sched/fd-watch", test_fd_watch);
	return g_test_run();
}
