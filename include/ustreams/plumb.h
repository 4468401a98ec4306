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
/* Pops the topmost module; EINVAL if there is none.  What the module still
 * held is carried on in order, as us_stream_remove() does. */
int us_stream_pop(UsStream *st);

/* Live splicing: inserting and removing a module anywhere in a stream,
 * including a stream linked under a multiplexor (where the stream head
 * refuses I_PUSH/I_POP), while traffic flows.  Both run on the world thread
 * between two messages and neither loses nor reorders a message:
 *  - insert: the new pair is linked with its procedures off, opened with
 *    MODOPEN, then turned on; messages already past the insertion point stay
 *    ahead of everything that goes through the new module;
 *  - remove: the module's procedures are turned off, the messages it held
 *    (on its queues, then those sent to it and not yet seen) are taken off
 *    before its close routine runs, and after the pair is unlinked they are
 *    put to the next queue in their direction, in their order, ahead of
 *    anything that arrives later.
 * The nearest service procedures behind the splice point are enabled, so a
 * writer that waited for a back-enable from the old neighbour resumes.  Not
 * to be called from the procedures of the module being removed. */
typedef enum {
	US_STREAM_TOP = 0,    /* just below the head: where I_PUSH puts a module */
	US_STREAM_BOTTOM = 1, /* just above the driver */
	US_STREAM_ABOVE = 2,  /* just above module (or driver) `ref` */
	US_STREAM_BELOW = 3,  /* just below module `ref`; the head's module_info
			       * name (the multiplexor's, e.g. "ip", on a linked
			       * stream) means US_STREAM_TOP */
} UsStreamWhere;
/* Inserts module at where (ref names the neighbour for ABOVE/BELOW; the
 * topmost instance when a name appears twice).  Returns 0 and the new
 * module's read queue in *rqp (may be NULL; for us_param_set), or an errno:
 * EINVAL for an unknown module or ref (with error set), the open's errno.
 * Called off the world thread, a message may pass between the insert and a
 * following us_param_set; wrap both in one us_world_call() to avoid that. */
int us_stream_insert(UsStream *st, const char *module, UsStreamWhere where, const char *ref,
		     queue_t **rqp, GError **error);
/* Removes the topmost instance of module; EINVAL (error set) if the stream
 * has none, EBUSY if its service procedure is running. */
int us_stream_remove(UsStream *st, const char *module, GError **error);
/* Removes the module instance q (either of its queues) belongs to. */
int us_stream_remove_queue(queue_t *q, GError **error);
/* The read queue of the topmost instance of module, or NULL. */
queue_t *us_stream_find_module(UsStream *st, const char *module);
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
