/* SPDX-License-Identifier: MIT */
/*
 * plumb.h -- building and taking apart streams.
 *
 * A stream is a stack of queue pairs: a head pair on top, modules pushed
 * below it, and a driver pair at the bottom.  These functions do what SVR4's
 * stropen/strpush/strpop/strclose do and are what the stream head, the config
 * language and tests call.  They run on the stack's world thread (they use
 * us_world_call() when called from elsewhere).
 *
 * The head pair's procedures are supplied by the caller (the stream head of
 * streamhead/ supplies the real ones); us_plain_head gives a minimal head that
 * keeps everything arriving upstream on its read queue, for tests and tools.
 */
#ifndef USTREAMS_PLUMB_H
#define USTREAMS_PLUMB_H

#include <glib.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

G_BEGIN_DECLS

typedef struct us_stream UsStream;

/* The head's procedures and how to tell it about events. */
typedef struct {
	struct qinit *rinit; /* head read side: receives what comes up */
	struct qinit *winit; /* head write side: usually put = putnext */
} UsHeadOps;

/* A head that putq()s everything on its read queue (no service procedure,
 * so no flow control stops there); read it with us_plain_head_get(). */
extern const UsHeadOps us_plain_head;
/* Takes the next message the plain head received (caller owns it). */
mblk_t *us_plain_head_get(UsStream *st);

/* Opens driver_name on stack: allocates the head and driver pairs, calls the
 * driver's open with CLONEOPEN (sflag) and autopushes configured modules.
 * head_ptr becomes the head read queue's q_ptr.  On failure returns NULL
 * with US_ERROR_ERRNO and the open's errno in error's message, or a registry
 * error. */
UsStream *us_stream_open(UsStack *stack, const char *driver_name, int oflag, const UsHeadOps *head,
			 gpointer head_ptr, GError **error);
/* Opens with a specific minor instead of a clone open (sflag 0). */
UsStream *us_stream_open_minor(UsStack *stack, const char *driver_name, guint minor, int oflag,
			       const UsHeadOps *head, gpointer head_ptr, GError **error);
/* Pushes a module just below the head (MODOPEN).  Returns 0 or an errno. */
int us_stream_push(UsStream *st, const char *module, GError **error);
/* Pops the topmost module; EINVAL if there is none. */
int us_stream_pop(UsStream *st);
/* Closes: pops every module top down, closes the driver, frees all queues
 * and the messages left on them, cancels their timeouts and bufcalls. */
void us_stream_close(UsStream *st);

queue_t *us_stream_head_rq(UsStream *st);
queue_t *us_stream_head_wq(UsStream *st);
/* The read queue of the driver pair. */
queue_t *us_stream_driver_rq(UsStream *st);
UsStack *us_stream_stack(UsStream *st);
UsStream *us_queue_stream(queue_t *q);
UsStack *us_queue_stack(queue_t *q);
UsWorld *us_queue_world(queue_t *q);
dev_t us_stream_dev(UsStream *st);
int us_stream_oflag(UsStream *st);
/* Modules pushed, not counting head and driver. */
guint us_stream_depth(UsStream *st);
/* Name of the module at position i (0: just below the head), the driver at
 * position depth. NULL past the end. */
const char *us_stream_module_name(UsStream *st, guint i);
/* Recomputes q_nfsrv/q_nbsrv after q_next pointers were changed by hand. */
void us_stream_rewire(UsStream *st);
/* Debug counter: streams alive in the process. */
guint us_stream_live_count(void);

/* Calls fn for every open stream of the stack (linked lower streams
 * included), oldest first; on the world thread; fn must not open or close
 * streams. */
void us_stack_foreach_stream(UsStack *stack, void (*fn)(UsStream *st, gpointer data),
			     gpointer data);

/* Per-stack counters of us_drop(). */
guint64 us_stack_drop_count(UsStack *stack, const char *module, guint reason);
/* All non-zero drop counters: "module reason-name" -> guint64* (free). */
GHashTable *us_stack_drops(UsStack *stack);

/* Autopush (Solaris autopush): modules pushed at every open of a driver on a
 * stack; at most US_MAXAPUSH.  NULL or an empty list clears it. */
#define US_MAXAPUSH 8
gboolean us_autopush_set(UsStack *stack, const char *driver, const char *const *modules,
			 GError **error);
/* Returns a NULL-terminated list (g_strfreev) or NULL. */
char **us_autopush_get(UsStack *stack, const char *driver);

G_END_DECLS

#endif /* USTREAMS_PLUMB_H */
