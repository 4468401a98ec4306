/* SPDX-License-Identifier: MIT */
/*
 * world.h -- worlds, stacks and time.
 *
 * A world is one thread of execution with one clock and one random generator;
 * it runs the put and service procedures, timeouts and bufcalls of every stack
 * that belongs to it.  A stack is an isolated network instance (streams,
 * interfaces, routes, statistics); several stacks share a world when they must
 * run in one virtual time, e.g. simulated hosts joined by wires.
 *
 * Clocks:
 *  - US_CLOCK_REAL follows CLOCK_MONOTONIC.
 *  - US_CLOCK_VIRTUAL never sleeps: when nothing is runnable the clock jumps to
 *    the next timer.  With a fixed seed a virtual world is deterministic.
 *
 * Driving a world: either us_world_start_thread() runs it on a thread of its
 * own (a GMainLoop on the world's GMainContext), or the owner drives it with
 * us_world_run_pending(), us_world_advance() and us_world_run_until().  A world
 * can also be attached to an application's GMainContext with
 * us_world_attach().
 *
 * Calls from other threads: us_world_call() hands a function to the world's
 * thread and waits for it, the way a system call enters a kernel.
 */
#ifndef USTREAMS_WORLD_H
#define USTREAMS_WORLD_H

#include <glib.h>
#include <ustreams/stream.h>

G_BEGIN_DECLS

typedef struct _UsWorld UsWorld;
typedef struct _UsStack UsStack;

typedef enum {
	US_CLOCK_REAL = 0,
	US_CLOCK_VIRTUAL = 1,
} UsClockKind;

#define US_NSEC_PER_SEC G_GINT64_CONSTANT(1000000000)
#define US_NSEC_PER_MSEC G_GINT64_CONSTANT(1000000)
#define US_NSEC_PER_USEC G_GINT64_CONSTANT(1000)

/* Creates a world; seed feeds the world's random generator. */
UsWorld *us_world_new(UsClockKind clock, guint64 seed);
/* Stops the world's thread if any, closes every stack and frees the world. */
void us_world_free(UsWorld *world);
UsClockKind us_world_clock_kind(UsWorld *world);
/* Nanoseconds since the world was created, on its clock. */
gint64 us_world_now(UsWorld *world);
/* The world's random generator; use only on the world's thread. */
GRand *us_world_rand(UsWorld *world);
guint64 us_world_seed(UsWorld *world);
GMainContext *us_world_context(UsWorld *world);

/* Runs everything runnable at the current time: deferred puts, service
 * procedures, due timers, cross-thread calls.  Returns the number of items
 * run.  Must be called on the thread that drives the world. */
guint us_world_run_pending(UsWorld *world);
/* Virtual time: runs timers in order up to now + ns, running pending work
 * after each, and leaves the clock at now + ns.  Real time: runs the world
 * for ns of wall time. */
void us_world_advance(UsWorld *world, gint64 ns);
/* Drives the world until done(data) returns TRUE, at most timeout_ns
 * (negative: no limit).  Returns TRUE when done; FALSE on timeout, or in
 * virtual time when nothing could ever make progress (no work and no timer). */
gboolean us_world_run_until(UsWorld *world, gboolean (*done)(gpointer data), gpointer data,
			    gint64 timeout_ns);
/* Nanoseconds until the next timer, or -1 if none; 0 if work is pending. */
gint64 us_world_next_deadline(UsWorld *world);

/* Runs the world on its own thread until us_world_stop_thread(). */
gboolean us_world_start_thread(UsWorld *world, GError **error);
void us_world_stop_thread(UsWorld *world);
/* TRUE while the world runs on a thread of its own. */
gboolean us_world_has_thread(UsWorld *world);
/* Attaches the world's event source to ctx (for embedding in an app loop);
 * the world's own context is used when ctx is NULL. */
void us_world_attach(UsWorld *world, GMainContext *ctx);
/* TRUE when the calling thread is the one running (or driving) the world. */
gboolean us_world_is_current(UsWorld *world);
/* The world whose code is running on this thread, or NULL. */
UsWorld *us_world_current(void);

/* Runs func(data) on the world's thread and waits for it.  Runs it directly
 * when called on that thread; when the world has no thread of its own, runs
 * it on the calling thread, serialised with any other thread that is running
 * the world's code at the time (a recursive lock around the world's work). */
void us_world_call(UsWorld *world, void (*func)(gpointer data), gpointer data);
/* Queues func(data) for the world's thread and returns at once. */
void us_world_post(UsWorld *world, void (*func)(gpointer data), gpointer data);

/* World timers (not tied to a queue).  Returns an id > 0. */
guint64 us_world_timer_add(UsWorld *world, gint64 delay_ns, void (*func)(gpointer data),
			   gpointer data);
/* Returns the ns that were left, or -1 if the timer had run or is unknown. */
gint64 us_world_timer_cancel(UsWorld *world, guint64 id);

/* Wake hook: called (from any thread) whenever the world gains work; used by
 * stream heads and drivers that wait on their own conditions. */
void us_world_wakeup(UsWorld *world);

/* File descriptor watches, for drivers doing I/O: func(data, revents) runs
 * on the world (like a put procedure: on the world's own thread, or on the
 * thread driving a world that has none) whenever fd is ready for one of
 * `events`.  The watch lives on the world's GMainContext; change what it
 * waits for with us_fd_watch_set (0: nothing, the watch stays). */
typedef struct _UsFdWatch UsFdWatch;
UsFdWatch *us_fd_watch_add(UsWorld *world, int fd, GIOCondition events,
			   void (*func)(gpointer data, GIOCondition revents), gpointer data);
void us_fd_watch_set(UsFdWatch *watch, GIOCondition events);
GIOCondition us_fd_watch_events(UsFdWatch *watch);
/* Stops watching; func is not called again.  NULL is allowed. */
void us_fd_watch_remove(UsFdWatch *watch);

/* Stacks */
UsStack *us_stack_new(UsWorld *world, const char *name);
/* Closes every stream of the stack (in reverse order of opening). */
void us_stack_free(UsStack *stack);
UsWorld *us_stack_world(UsStack *stack);
const char *us_stack_name(UsStack *stack);
/* Looks a stack of world up by name. */
UsStack *us_world_find_stack(UsWorld *world, const char *name);
/* Per-stack private slots for subsystems (ip, tcp ...), keyed by a static
 * string; destroy runs when the stack is freed. */
void us_stack_set_data(UsStack *stack, const char *key, gpointer data, GDestroyNotify destroy);
/* Registers fn(data) to run on the world thread when the stack is freed,
 * before its streams are closed (newest first); e.g. to take multiplexor
 * links apart while both sides still exist. */
void us_stack_add_teardown(UsStack *stack, void (*fn)(gpointer data), gpointer data);
gpointer us_stack_get_data(UsStack *stack, const char *key);

G_END_DECLS

#endif /* USTREAMS_WORLD_H */
