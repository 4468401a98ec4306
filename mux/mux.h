/* SPDX-License-Identifier: MIT */
/*
 * mux.h -- helpers for multiplexing drivers (ip, the transports, testmux):
 * the tables every multiplexor keeps, the I_LINK family of M_IOCTLs, and
 * lower-stream procedures that carry flow control across the multiplexor.
 *
 * A multiplexing driver (US_KIND_MUX) has upper streams above it, one per
 * open (usually clone opens), and lower streams linked below it with
 * I_LINK/I_PLINK.  The stream head does the user side of a link (streamhead/
 * link.c): it gives the lower stream's head queue pair the driver's
 * st_muxrinit/st_muxwinit procedures with q_ptr NULL, then sends the driver
 * an M_IOCTL (I_LINK or I_PLINK) carrying a struct linkblk:
 *
 *     upper stream           head (U)
 *                              |
 *                         [driver, upper pair]  <- l_qtop (I_LINK; NULL for I_PLINK)
 *                              :  the driver routes between the two
 *                         [driver, lower pair]  <- l_qbot (was the lower head)
 *     lower stream             |
 *                          modules ... driver
 *
 * The driver sends down a lower with putnext(l_qbot, mp); what the lower
 * stream sends up arrives at the st_muxrinit put procedure with q ==
 * RD(l_qbot).
 *
 * What is here
 *  - UsMuxLowers: the linked lower streams, by muxid and by l_qbot, in link
 *    order, each with a driver cookie and a wait list (below).
 *  - UsMuxUppers: clone-open minors (lowest free first, bounded) and the
 *    upper stream of each, in minor order.
 *  - UsMuxSlots: a demultiplexing table keyed by a small integer (a protocol
 *    number, a key byte): an array, O(1).
 *  - UsMuxTuples: a demultiplexing table keyed by a tuple of up to
 *    US_MUX_TUPLE_MAX 32-bit words ({proto, laddr, lport, raddr, rport}), a
 *    hash table with a seeded hash.  Each table answers exact matches only;
 *    a transport looks up the full tuple, then a wildcard (listener) tuple.
 *  - us_mux_handle_link_ioctl(): validates the linkblk, records or removes
 *    the lower, calls the driver's callbacks, and answers M_IOCACK/M_IOCNAK.
 *  - us_mux_lower_wput/us_mux_lower_wsrv: a ready-made st_muxwinit pair;
 *    us_mux_lower_flush(): M_FLUSH at the top of a lower stream.
 *
 * Flow control across the multiplexor
 * -----------------------------------
 * Back-enabling follows q_next chains, and no chain crosses a multiplexor,
 * so the driver carries it across by hand:
 *  - Down: an upper writer checks us_mux_lower_canput(lower).  When it says
 *    no, canputnext() has set QWANTW on the full queue below l_qbot; the
 *    writer calls us_mux_lower_wait(lower, upper_wq), putbq()s and returns.
 *    When the full queue drains, back-enabling reaches l_qbot (st_muxwinit
 *    has a service procedure for exactly this reason); us_mux_lower_wsrv
 *    then qenable()s every waiting upper write queue, in the order they
 *    began to wait, and their service procedures try again.
 *  - Up: the lower read service procedure holds messages (putbq) while the
 *    upper it routes to cannot take them; canputnext(upper_rq) has set
 *    QWANTW at the stream above the upper, whose draining back-enables the
 *    upper read queue (the driver gives it a service procedure).  That
 *    procedure calls us_mux_lowers_enable_read(), which enables every lower
 *    read queue holding messages.
 *
 * Ownership: the tables own their records; a UsMuxLowers owns its cookies
 * when created with a cookie_free function.  Queues and the uppers' states
 * belong to their streams: tables only point at them, so a driver removes an
 * upper from every table (and wait list, us_mux_lowers_forget) in its close
 * routine.  Functions taking an mblk_t say whether they consume it.
 *
 * Threads: like the DDI, everything here runs on the world thread of the
 * stack the tables belong to; nothing locks.
 *
 * Deviations from SVR4/illumos: none in the protocol.
 *  - The lower queue pair of a linked stream keeps the stream head's
 *    descriptor (or none), so us_drop() and us_stat_get() on it do not
 *    reach the driver's tables; us_mux_drop() counts such a drop through a
 *    queue of the driver instead.
 *  - When a stack is freed, the engine closes linked lower streams without
 *    unlinking them and without telling the driver: a record may then point
 *    at freed queues.  Drivers touch lower queues only from their data and
 *    link paths, never from an upper's close routine.
 */
#ifndef USTREAMS_MUX_H
#define USTREAMS_MUX_H

#include <glib.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>

G_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* Wait lists                                                         */
/* ------------------------------------------------------------------ */

/* Queues waiting for something (room on a lower stream), each once, in the
 * order they began to wait.  Embedded in its owner; zero-filled memory or
 * us_mux_wait_init() makes an empty list. */
typedef struct {
	GQueue wl_order;    /* queue_t *, oldest first */
	GHashTable *wl_set; /* the same queues, for membership; NULL while empty */
} UsMuxWaitList;

void us_mux_wait_init(UsMuxWaitList *wl);
/* Empties the list without enabling anything. */
void us_mux_wait_clear(UsMuxWaitList *wl);
/* Adds q unless it is already waiting. */
void us_mux_wait_add(UsMuxWaitList *wl, queue_t *q);
/* Removes q; FALSE if it was not waiting. */
gboolean us_mux_wait_remove(UsMuxWaitList *wl, queue_t *q);
/* Empties the list, qenable()ing each queue oldest first; returns how many. */
guint us_mux_wait_wake(UsMuxWaitList *wl);
guint us_mux_wait_count(const UsMuxWaitList *wl);

/* ------------------------------------------------------------------ */
/* Lower streams                                                      */
/* ------------------------------------------------------------------ */

typedef struct _UsMuxLowers UsMuxLowers;

/* One linked lower stream.  The driver reads every field and owns
 * ml_cookie; the table writes the rest. */
typedef struct _UsMuxLower {
	int ml_muxid;           /* l_index: the muxid the stream head gave */
	int ml_cmd;             /* I_LINK or I_PLINK */
	queue_t *ml_qbot;       /* l_qbot: top write queue of the lower stream */
	queue_t *ml_qtop;       /* l_qtop: controlling driver write queue; NULL (I_PLINK) */
	gpointer ml_cookie;     /* the driver's per-lower state */
	UsMuxWaitList ml_wwait; /* upper write queues waiting for room below */
	UsMuxLowers *ml_table;  /* the table holding this record */
	GList *ml_node;         /* private: position in the table's link order */
} UsMuxLower;

/* cookie_free (may be NULL) frees a record's ml_cookie when the record goes. */
UsMuxLowers *us_mux_lowers_new(GDestroyNotify cookie_free);
/* Frees the table, its records and their cookies; touches no queue. */
void us_mux_lowers_free(UsMuxLowers *lowers);
/* Records the link described by lb (cmd I_LINK or I_PLINK).  Does not touch
 * the queues.  Returns the record, or NULL with *errp (may be NULL) set to
 * EINVAL (no l_qbot, a read queue, a negative muxid, a bad cmd) or EEXIST
 * (the muxid or l_qbot is recorded already). */
UsMuxLower *us_mux_lowers_add(UsMuxLowers *lowers, const struct linkblk *lb, int cmd,
			      gpointer cookie, int *errp);
UsMuxLower *us_mux_lowers_find(UsMuxLowers *lowers, int muxid);
/* By l_qbot or its read queue; NULL if q is not a recorded lower. */
UsMuxLower *us_mux_lowers_find_queue(UsMuxLowers *lowers, queue_t *q);
/* Removes and frees a record: its waiters are woken (they re-route), its
 * cookie freed.  Does not touch the lower's queues.  FALSE if unknown. */
gboolean us_mux_lowers_remove(UsMuxLowers *lowers, int muxid);
guint us_mux_lowers_count(UsMuxLowers *lowers);
/* Iteration in link order (the first is the oldest link, a natural
 * default route).  The table must not change during a walk, except that
 * the record just returned may be removed after taking its successor. */
UsMuxLower *us_mux_lowers_first(UsMuxLowers *lowers);
UsMuxLower *us_mux_lowers_next(UsMuxLower *lower);
void us_mux_lowers_foreach(UsMuxLowers *lowers, void (*func)(UsMuxLower *lower, gpointer data),
			   gpointer data);

/* The record of a queue of a linked lower (its q_ptr, which
 * us_mux_handle_link_ioctl sets on both queues); NULL once unlinked. */
static inline UsMuxLower *
us_mux_lower_of(queue_t *q)
{
	return (UsMuxLower *)q->q_ptr;
}

/* TRUE when an ordinary message may go down the lower now: nothing waits on
 * l_qbot itself and canputnext(l_qbot).  Sets QWANTW below when it says no. */
gboolean us_mux_lower_canput(UsMuxLower *lower);
/* Upper write queue wq waits until the lower has room (after a FALSE from
 * us_mux_lower_canput); it is qenable()d then. */
void us_mux_lower_wait(UsMuxLower *lower, queue_t *wq);
/* Removes q from every lower's wait list (an upper is closing). */
void us_mux_lowers_forget(UsMuxLowers *lowers, queue_t *q);
/* Enables the read service procedure of every lower whose read queue holds
 * messages; an upper's read service procedure calls this when the stream
 * above drained.  Returns how many were enabled. */
guint us_mux_lowers_enable_read(UsMuxLowers *lowers);

/* A ready-made st_muxwinit: the put procedure passes messages down (high
 * priority at once; ordinary ones at once when nothing waits and the stream
 * below has room, else putq), M_FLUSH with the canonical module handling.
 * The service procedure forwards while there is room, and when its queue is
 * empty wakes the upper writers waiting on this lower.  Both consume mp. */
int us_mux_lower_wput(queue_t *q, mblk_t *mp);
/* Sends a copy of the len bytes of prim down the lower as one M_PROTO
 * message (a DLPI or ip.h request from the multiplexor itself).  FALSE, and
 * nothing sent, when no block can be had. */
gboolean us_mux_lower_send_proto(UsMuxLower *lower, const void *prim, size_t len);
int us_mux_lower_wsrv(queue_t *q);
/* M_FLUSH arriving at the top of a lower stream, handled as a stream head
 * does (consumes mp): FLUSHR flushes the lower read queue; FLUSHW flushes
 * the lower write queue and sends the message back down with FLUSHR
 * cleared.  Band flushes (FLUSHBAND) flush one band. */
void us_mux_lower_flush(queue_t *rq, mblk_t *mp);

/* us_drop() (consumes mp) counted against the driver: when q is a lower
 * queue (whose pair is described as the stream head's, or not at all) the
 * drop is counted through anchor, a queue of the driver (an upper's), so
 * that it lands under the driver's name and reason.  anchor may be NULL. */
void us_mux_drop(queue_t *q, mblk_t *mp, guint reason, queue_t *anchor);

/* ------------------------------------------------------------------ */
/* The link ioctls                                                    */
/* ------------------------------------------------------------------ */

/* What a driver adds to the handling of I_LINK/I_PLINK/I_UNLINK/I_PUNLINK.
 * Every member may be left 0/NULL. */
typedef struct {
	/* Called once the lower is recorded and the q_ptr of both its queues
	 * points at the record, before the ACK.  May set ml_cookie.  Returns 0
	 * to accept, or an errno: the record is then removed and the ioctl
	 * NAKed with that errno. */
	int (*on_link)(queue_t *upper_wq, UsMuxLower *lower);
	/* Called first when a lower is unlinked, while its record is whole: the
	 * driver forgets routes to it.  Cannot refuse. */
	void (*on_unlink)(queue_t *upper_wq, UsMuxLower *lower);
	/* Reason (the driver's drop_reasons index) under which messages still
	 * queued on the lower's queues at unlink are dropped and counted. */
	guint unlink_drop_reason;
} UsMuxLinkOps;

/* Handles the link M_IOCTLs arriving on an upper write queue upper_wq of a
 * multiplexing driver.  For other messages and other ioctls returns FALSE
 * and leaves mp untouched.  For I_LINK/I_PLINK/I_UNLINK/I_PUNLINK consumes
 * mp, answers M_IOCACK or M_IOCNAK, and returns TRUE.
 *
 * Link: the linkblk must be whole (ioc_count == sizeof(struct linkblk)),
 * l_qbot a write queue running the driver's st_muxwinit (and its read
 * queue st_muxrinit), l_qtop upper_wq for I_LINK and NULL for I_PLINK, and
 * neither the muxid nor l_qbot recorded (EINVAL otherwise).  The lower is
 * recorded, both its queues get q_ptr = the record, then ops->on_link runs.
 *
 * Unlink: the muxid must be recorded with that l_qbot (EINVAL otherwise).
 * ops->on_unlink runs, messages left on the lower's queues are dropped
 * (ops->unlink_drop_reason, counted through upper_wq), both q_ptr become
 * NULL, the waiters are woken and the record freed.  Until the stream head
 * gives the lower back its own procedures, the driver's lower procedures
 * still run with q_ptr NULL and must drop what arrives. */
gboolean us_mux_handle_link_ioctl(queue_t *upper_wq, mblk_t *mp, UsMuxLowers *lowers,
				  const UsMuxLinkOps *ops);

/* ------------------------------------------------------------------ */
/* Upper streams                                                      */
/* ------------------------------------------------------------------ */

typedef struct _UsMuxUppers UsMuxUppers;

typedef struct {
	guint mu_minor;    /* the minor the clone open got */
	queue_t *mu_rq;    /* the upper's driver read queue */
	gpointer mu_state; /* the driver's per-upper state (not owned) */
} UsMuxUpper;

/* Minors are handed out from first_minor to max_minor (inclusive), lowest
 * free first; first_minor >= 1 keeps 0 for a control node if wanted. */
UsMuxUppers *us_mux_uppers_new(guint first_minor, guint max_minor);
/* Frees the table and its records, not the states. */
void us_mux_uppers_free(UsMuxUppers *uppers);
/* Records an upper under the lowest free minor (*minorp).  Returns 0, or
 * ENXIO when every minor is in use. */
int us_mux_uppers_alloc(UsMuxUppers *uppers, queue_t *rq, gpointer state, guint *minorp);
UsMuxUpper *us_mux_uppers_find(UsMuxUppers *uppers, guint minor);
/* FALSE if the minor was free. */
gboolean us_mux_uppers_remove(UsMuxUppers *uppers, guint minor);
guint us_mux_uppers_count(UsMuxUppers *uppers);
/* Calls func for each upper in minor order; the table must not change. */
void us_mux_uppers_foreach(UsMuxUppers *uppers, void (*func)(UsMuxUpper *upper, gpointer data),
			   gpointer data);
/* The read queue of the upper with the lowest minor, or NULL: an anchor
 * for us_mux_drop(). */
queue_t *us_mux_uppers_any_rq(UsMuxUppers *uppers);

/* ------------------------------------------------------------------ */
/* Demultiplexing by a small integer                                  */
/* ------------------------------------------------------------------ */

typedef struct _UsMuxSlots UsMuxSlots;

/* Keys 0 .. nkeys-1 (1 <= nkeys <= 65536), e.g. 256 for IP protocols. */
UsMuxSlots *us_mux_slots_new(guint nkeys);
void us_mux_slots_free(UsMuxSlots *slots);
/* Binds key to q (not NULL) with a cookie.  Returns 0, EINVAL (key out of
 * range, q NULL) or EADDRINUSE (key bound already). */
int us_mux_slots_add(UsMuxSlots *slots, guint key, queue_t *q, gpointer cookie);
/* The queue bound to key (and its cookie in *cookiep, may be NULL), or NULL
 * (for keys out of range too). */
queue_t *us_mux_slots_lookup(UsMuxSlots *slots, guint key, gpointer *cookiep);
/* FALSE if key was not bound. */
gboolean us_mux_slots_remove(UsMuxSlots *slots, guint key);
/* Removes every key bound to q; returns how many. */
guint us_mux_slots_remove_queue(UsMuxSlots *slots, queue_t *q);
guint us_mux_slots_count(UsMuxSlots *slots);

/* ------------------------------------------------------------------ */
/* Demultiplexing by a tuple of 32-bit words                          */
/* ------------------------------------------------------------------ */

/* Enough for an IPv6 5-tuple: proto, 4 + 4 address words, 2 ports. */
#define US_MUX_TUPLE_MAX 12

/* A key: t_len words (1..US_MUX_TUPLE_MAX) of t_w; the rest is ignored.
 * Tuples of different lengths are different keys.  Words are compared as
 * they are: keep a fixed byte order (network order, say) per table. */
typedef struct {
	guint32 t_len;
	guint32 t_w[US_MUX_TUPLE_MAX];
} UsMuxTuple;

/* A tuple literal of the words given: US_MUX_TUPLE(IPPROTO_UDP, laddr, lport). */
#define US_MUX_TUPLE(...)                                                             \
	((UsMuxTuple){ .t_len = sizeof((guint32[]){ __VA_ARGS__ }) / sizeof(guint32), \
		       .t_w = { __VA_ARGS__ } })

typedef struct _UsMuxTuples UsMuxTuples;

/* seed perturbs the hash so that peers cannot aim collisions at a table;
 * take it from the world's random generator to stay deterministic. */
UsMuxTuples *us_mux_tuples_new(guint32 seed);
void us_mux_tuples_free(UsMuxTuples *tuples);
/* Binds a copy of key to q (not NULL) with a cookie.  Returns 0, EINVAL (bad
 * length, q NULL) or EADDRINUSE (the tuple is bound already). */
int us_mux_tuples_add(UsMuxTuples *tuples, const UsMuxTuple *key, queue_t *q, gpointer cookie);
/* The queue bound to key (cookie in *cookiep, may be NULL), or NULL. */
queue_t *us_mux_tuples_lookup(UsMuxTuples *tuples, const UsMuxTuple *key, gpointer *cookiep);
gboolean us_mux_tuples_remove(UsMuxTuples *tuples, const UsMuxTuple *key);
/* Removes every tuple bound to q; returns how many. */
guint us_mux_tuples_remove_queue(UsMuxTuples *tuples, queue_t *q);
guint us_mux_tuples_count(UsMuxTuples *tuples);
/* Calls func for every binding, in no particular order; the table must not
 * change meanwhile. */
void us_mux_tuples_foreach(UsMuxTuples *tuples,
			   void (*func)(const UsMuxTuple *key, queue_t *q, gpointer cookie,
					gpointer data),
			   gpointer data);

G_END_DECLS

#endif /* USTREAMS_MUX_H */
