/* SPDX-License-Identifier: MIT */
/*
 * internal.h -- what core files share and nothing outside core may use.
 */
#ifndef US_CORE_INTERNAL_H
#define US_CORE_INTERNAL_H

#include <ustreams/debug.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#define US_DBLK_MAGIC 0x64626c6bU  /* "dblk" */
#define US_QUEUE_MAGIC 0x71756575U /* "queu" */

/* msg.c -> sched.c: a message was freed; pending bufcalls may retry. */
void us__bufcall_kick(void);
/* msg.c: next ioc_id. */
unsigned int us__next_ioc_id(void);

/* sched.c */
void us__queue_cancel_callbacks(queue_t *rq);
/* sched.c -> stream.c: takes q off the world's lists and returns the messages
 * deferred to it (b_next chain, oldest first; the caller owns them). */
mblk_t *us__queue_take_deferred(queue_t *q);
/* sched.c -> stream.c: appends mp to q's deferred puts (consumes mp). */
void us__queue_defer(queue_t *q, mblk_t *mp);

/* sched.c: stack bookkeeping for stream.c and registry.c */
void us__stack_add_stream(UsStack *s, UsStream *st);
void us__stack_remove_stream(UsStack *s, UsStream *st);
GArray *us__stack_drop_counters(UsStack *s, const char *module, gboolean create);
GHashTable *us__stack_apush(UsStack *s);
GHashTable *us__stack_drop_table(UsStack *s);
GList *us__stack_streams(UsStack *s);

/* stream.c */
UsStream *us__stream_open_desc(UsStack *stack, const UsModuleDesc *desc, guint minor, int sflag,
			       int oflag, const UsHeadOps *head, gpointer head_ptr, int *errp,
			       GError **error);
int us__stream_push_desc(UsStream *st, const UsModuleDesc *desc, GError **error);

/* registry.c */
void us__registry_register_builtins(void);
gboolean us__registry_add(const UsModuleDesc *desc, GError **error);

#define US_STREAM_MAGIC 0x73747264U /* "strd" */

/* A stream (SVR4's stdata). */
struct us_stream {
	guint32 st_magic;
	UsStack *st_stack;
	UsWorld *st_world;          /* the stack's world, cached for the hot path */
	struct us_qpair *st_head;   /* head pair (top) */
	struct us_qpair *st_driver; /* driver pair (bottom) */
	dev_t st_dev;
	int st_oflag;
	guint st_depth; /* modules between head and driver */
	gboolean st_closing;
};

/* Queue pair as allocated: read queue first, write queue right after, so
 * RD/WR/OTHERQ are pointer arithmetic as in SVR4. */
typedef struct us_qpair {
	queue_t qp_rq;
	queue_t qp_wq;
	const UsModuleDesc *qp_desc; /* module/driver, NULL for head/fake */
	struct us_stream *qp_stream;
	struct us_qpair *qp_above; /* pair above in the stream, NULL for the head */
	struct us_qpair *qp_below; /* pair below, NULL for the driver */
	GSList *qp_timeouts;       /* live qtimeout ids */
	GSList *qp_bufcalls;       /* live qbufcall ids */
} UsQpair;

#define US_QPAIR(q) ((UsQpair *)RD(q))

#endif
