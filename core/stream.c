/* SPDX-License-Identifier: MIT */
/*
 * stream.c -- stream plumbing: open a driver, push and pop modules, close.
 *
 * Theory
 * ------
 * A stream (struct us_stream, SVR4's stdata) is a doubly linked list of queue
 * pairs from the head down to the driver.  Write queues link downward through
 * q_next, read queues upward.  After any change to the list the cached flow
 * control pointers are recomputed (us_stream_rewire):
 *   q_nfsrv: the first queue at or after q, in q's direction, with a service
 *            procedure; the last queue of that direction if none has one;
 *   q_nbsrv: the nearest queue before q with a service procedure, or NULL.
 * Queues under qprocsoff() are skipped by both, and by putnext().
 *
 * Open order (as stropen): allocate head and driver pairs, link them, call
 * the driver's open with CLONEOPEN or a given minor, then push the autopush
 * list.  Push order (as strpush): link the module's pair below the head with
 * its procedures off, call open with MODOPEN, then qprocson() unless the
 * module did.  Any failure unlinks and frees what was built; nothing
 * half-built survives.  Close pops modules top down, then closes the driver;
 * each pair has its procedures turned off, is closed, has its timeouts and
 * bufcalls cancelled and its remaining messages freed.
 *
 * Live splicing (us_stream_insert/us_stream_remove; I_PUSH and I_POP are the
 * top-of-stream cases) works on any stream, linked lower streams included,
 * while traffic flows, and neither loses nor reorders a message.  The
 * argument rests on the world being single-threaded: one world call runs
 * between two messages, so within it nothing moves but what it moves.
 * Where a message can be when a pair X-M-Y is spliced:
 *   - on a queue or in the deferred-put list of X or Y: untouched; what M
 *     later sends to Y finds Y's deferred list non-empty and queues behind it
 *     (per-queue FIFO), and Y's own queue is Y's business as always;
 *   - on M's queues (accepted by M, waiting for its service procedure) or in
 *     M's deferred-put list (sent to M, not yet seen) when M is removed:
 *     taken off in that order before M's close routine runs, and put to the
 *     next queue in their direction once M is unlinked.  They are younger
 *     than anything M already passed on (M queues behind its own queue) and
 *     older than anything X sends afterwards, which is where they land.
 * A neighbour that stopped on M's QFULL would wait forever for M's
 * back-enable, and one that stopped on Y's QFULL before M was inserted would
 * be back-enabled at M instead; so after a splice the nearest service
 * procedures behind the splice point, in both directions, are enabled.
 *
 * Deviation: SVR4's strpop frees what the popped module still holds; here
 * I_POP carries it on like us_stream_remove.  us_stream_close still frees.
 *
 * Every operation runs on the stack's world thread (us_world_call).
 */
#define G_LOG_DOMAIN "us-stream"

#include "internal.h"

#include <errno.h>
#include <string.h>

void us__queue_free_bands(queue_t *q);

static gint us_streams_alive;

/* ------------------------------------------------------------------ */
/* Queue pairs                                                        */
/* ------------------------------------------------------------------ */

static void
queue_init(queue_t *q, struct qinit *qi, UsStream *st, unsigned int flags)
{
	q->q_magic = US_QUEUE_MAGIC;
	q->q_flag = QUSE | QWANTR | flags;
	q->q_stream = st;
	q->q_nfsrv = q;
	q->q_qinfo = qi;
	struct module_info *mi = qi ? qi->qi_minfo : NULL;
	if (mi != NULL) {
		q->q_hiwat = mi->mi_hiwat;
		q->q_lowat = mi->mi_lowat;
		q->q_minpsz = mi->mi_minpsz;
		q->q_maxpsz = mi->mi_maxpsz;
	}
}

static UsQpair *
qpair_new(UsStream *st, struct qinit *rinit, struct qinit *winit, const UsModuleDesc *desc,
	  unsigned int flags)
{
	UsQpair *qp = g_new0(UsQpair, 1);
	queue_init(&qp->qp_rq, rinit, st, QREADR | flags);
	queue_init(&qp->qp_wq, winit, st, flags);
	qp->qp_desc = desc;
	qp->qp_stream = st;
	return qp;
}

static void
qpair_free(UsQpair *qp)
{
	us__queue_cancel_callbacks(&qp->qp_rq);
	flushq(&qp->qp_rq, FLUSHALL);
	flushq(&qp->qp_wq, FLUSHALL);
	us__queue_free_bands(&qp->qp_rq);
	us__queue_free_bands(&qp->qp_wq);
	qp->qp_rq.q_magic = qp->qp_wq.q_magic = 0;
	qp->qp_rq.q_flag = qp->qp_wq.q_flag = 0;
	g_free(qp);
}

/* Links pair qp below `above` (and above above's old neighbour). */
static void
qpair_link_below(UsQpair *above, UsQpair *qp)
{
	UsQpair *below = above->qp_below;
	qp->qp_above = above;
	qp->qp_below = below;
	above->qp_below = qp;
	above->qp_wq.q_next = &qp->qp_wq;
	qp->qp_rq.q_next = &above->qp_rq;
	if (below != NULL) {
		below->qp_above = qp;
		qp->qp_wq.q_next = &below->qp_wq;
		below->qp_rq.q_next = &qp->qp_rq;
	}
}

static void
qpair_unlink(UsQpair *qp)
{
	UsQpair *above = qp->qp_above, *below = qp->qp_below;
	if (above != NULL) {
		above->qp_below = below;
		above->qp_wq.q_next = below ? &below->qp_wq : NULL;
	}
	if (below != NULL) {
		below->qp_above = above;
		below->qp_rq.q_next = above ? &above->qp_rq : NULL;
	}
	qp->qp_above = qp->qp_below = NULL;
	qp->qp_wq.q_next = qp->qp_rq.q_next = NULL;
}

/* ------------------------------------------------------------------ */
/* Flow-control pointers                                              */
/* ------------------------------------------------------------------ */

static gboolean
has_srv(queue_t *q)
{
	return q->q_qinfo->qi_srvp != NULL && !(q->q_flag & QPROCSOFF);
}

/* chain[0..n) is one direction of the stream in q_next order. */
static void
rewire_chain(queue_t **chain, guint n)
{
	queue_t *behind = NULL;
	for (guint i = 0; i < n; i++) {
		chain[i]->q_nbsrv = behind;
		if (has_srv(chain[i]))
			behind = chain[i];
	}
	queue_t *ahead = n ? chain[n - 1] : NULL;
	for (guint i = n; i-- > 0;) {
		if (has_srv(chain[i]))
			ahead = chain[i];
		chain[i]->q_nfsrv = ahead;
	}
}

void
us_stream_rewire(UsStream *st)
{
	guint n = 0;
	for (UsQpair *qp = st->st_head; qp; qp = qp->qp_below)
		n++;
	queue_t **w = g_newa(queue_t *, n), **r = g_newa(queue_t *, n);
	guint i = 0;
	for (UsQpair *qp = st->st_head; qp; qp = qp->qp_below, i++) {
		w[i] = &qp->qp_wq;
		r[n - 1 - i] = &qp->qp_rq;
	}
	rewire_chain(w, n);
	rewire_chain(r, n);
}

void
qprocson(queue_t *rq)
{
	rq = RD(rq);
	rq->q_flag &= ~QPROCSOFF;
	WR(rq)->q_flag &= ~QPROCSOFF;
	if (rq->q_stream)
		us_stream_rewire(rq->q_stream);
}

void
qprocsoff(queue_t *rq)
{
	rq = RD(rq);
	rq->q_flag |= QPROCSOFF;
	WR(rq)->q_flag |= QPROCSOFF;
	if (rq->q_stream)
		us_stream_rewire(rq->q_stream);
}

/* ------------------------------------------------------------------ */
/* The plain head                                                     */
/* ------------------------------------------------------------------ */

static int
plain_head_rput(queue_t *q, mblk_t *mp)
{
	putq(q, mp);
	return 0;
}

static int
plain_head_wput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return 0;
}

static struct module_info plain_head_minfo = {
	.mi_idname = "head",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 1024,
};
static struct qinit plain_head_rinit = { .qi_putp = plain_head_rput,
					 .qi_minfo = &plain_head_minfo };
static struct qinit plain_head_winit = { .qi_putp = plain_head_wput,
					 .qi_minfo = &plain_head_minfo };
const UsHeadOps us_plain_head = { .rinit = &plain_head_rinit, .winit = &plain_head_winit };

mblk_t *
us_plain_head_get(UsStream *st)
{
	return getq(&st->st_head->qp_rq);
}

/* ------------------------------------------------------------------ */
/* Open                                                               */
/* ------------------------------------------------------------------ */

static void
set_errno_error(GError **error, int err, const char *what, const char *name)
{
	g_set_error(error, US_ERROR, US_ERROR_ERRNO, "%s %s: %s", what, name, g_strerror(err));
}

static UsStream *
stream_new(UsStack *stack, const UsHeadOps *head, gpointer head_ptr, int oflag)
{
	UsStream *st = g_new0(UsStream, 1);
	st->st_magic = US_STREAM_MAGIC;
	st->st_stack = stack;
	st->st_world = us_stack_world(stack);
	st->st_oflag = oflag;
	st->st_head = qpair_new(st, head->rinit, head->winit, NULL, QHLIST);
	st->st_head->qp_rq.q_ptr = head_ptr;
	st->st_head->qp_wq.q_ptr = head_ptr;
	return st;
}

static void
stream_destroy(UsStream *st)
{
	if (st->st_driver) {
		qpair_unlink(st->st_driver);
		qpair_free(st->st_driver);
	}
	qpair_free(st->st_head);
	st->st_magic = 0;
	g_free(st);
}

/* Calls the driver's open; on success the stream is registered. */
static int
driver_open(UsStream *st, const UsModuleDesc *desc, guint minor, int sflag)
{
	const struct streamtab *tab = desc->streamtab;
	st->st_driver = qpair_new(st, tab->st_rdinit, tab->st_wrinit, desc, QISDRV);
	qpair_link_below(st->st_head, st->st_driver);
	us_stream_rewire(st);
	dev_t dev = makedevice(us_registry_major(desc), minor);
	int err = tab->st_rdinit->qi_qopen(&st->st_driver->qp_rq, &dev, st->st_oflag, sflag, NULL);
	if (err != 0)
		return err;
	st->st_dev = dev;
	return 0;
}

static gboolean
check_kind(const UsModuleDesc *desc, gboolean want_driver, GError **error)
{
	gboolean is_driver = desc->kind == US_KIND_DRIVER || desc->kind == US_KIND_MUX;
	if (is_driver == want_driver)
		return TRUE;
	g_set_error(error, US_ERROR, US_ERROR_KIND, "%s is a %s, not a %s", desc->name,
		    is_driver ? "driver" : "module", want_driver ? "driver" : "module");
	return FALSE;
}

/* Returns 0 or the errno of the push that failed. */
static int
autopush(UsStream *st, const char *driver, GError **error)
{
	char **mods = g_hash_table_lookup(us__stack_apush(st->st_stack), driver);
	for (guint i = 0; mods && mods[i]; i++) {
		int err = us_stream_push(st, mods[i], error);
		if (err != 0)
			return err;
	}
	return 0;
}

typedef struct {
	UsStack *stack;
	const UsModuleDesc *desc;
	guint minor;
	int sflag, oflag;
	const UsHeadOps *head;
	gpointer head_ptr;
	GError **error;
	UsStream *result;
	int err; /* errno of a failed open or autopush */
} OpenArgs;

static void
open_on_world(gpointer data)
{
	OpenArgs *a = data;
	UsStream *st = stream_new(a->stack, a->head, a->head_ptr, a->oflag);
	int err = driver_open(st, a->desc, a->minor, a->sflag);
	if (err != 0) {
		a->err = err;
		set_errno_error(a->error, err, "open", a->desc->name);
		stream_destroy(st);
		return;
	}
	g_atomic_int_inc(&us_streams_alive);
	us__stack_add_stream(a->stack, st);
	a->err = autopush(st, a->desc->name, a->error);
	if (a->err != 0) {
		us_stream_close(st);
		return;
	}
	a->result = st;
}

UsStream *
us__stream_open_desc(UsStack *stack, const UsModuleDesc *desc, guint minor, int sflag, int oflag,
		     const UsHeadOps *head, gpointer head_ptr, int *errp, GError **error)
{
	if (!check_kind(desc, TRUE, error)) {
		if (errp)
			*errp = ENOENT;
		return NULL;
	}
	OpenArgs a = { stack,    desc,  minor, sflag, oflag, head ? head : &us_plain_head,
		       head_ptr, error, NULL,  0 };
	us_world_call(us_stack_world(stack), open_on_world, &a);
	if (errp)
		*errp = a.err;
	return a.result;
}

UsStream *
us_stream_open(UsStack *stack, const char *driver_name, int oflag, const UsHeadOps *head,
	       gpointer head_ptr, GError **error)
{
	const UsModuleDesc *desc = us_registry_lookup(driver_name, error);
	if (desc == NULL)
		return NULL;
	return us__stream_open_desc(stack, desc, 0, CLONEOPEN, oflag, head, head_ptr, NULL, error);
}

UsStream *
us_stream_open_minor(UsStack *stack, const char *driver_name, guint minor, int oflag,
		     const UsHeadOps *head, gpointer head_ptr, GError **error)
{
	const UsModuleDesc *desc = us_registry_lookup(driver_name, error);
	if (desc == NULL)
		return NULL;
	return us__stream_open_desc(stack, desc, minor, 0, oflag, head, head_ptr, NULL, error);
}

/* ------------------------------------------------------------------ */
/* Push and pop                                                       */
/* ------------------------------------------------------------------ */

/* The name a pair is listed under (us_stream_module_name). */
static const char *
qpair_name(UsQpair *qp)
{
	if (qp->qp_desc)
		return qp->qp_desc->name;
	struct module_info *mi = qp->qp_rq.q_qinfo->qi_minfo;
	return mi ? mi->mi_idname : "?";
}

/* The topmost module pair (not head, not driver) called name, or NULL. */
static UsQpair *
find_module(UsStream *st, const char *name)
{
	for (UsQpair *qp = st->st_head->qp_below; qp != NULL && qp != st->st_driver;
	     qp = qp->qp_below)
		if (strcmp(qpair_name(qp), name) == 0)
			return qp;
	return NULL;
}

/* The pair a module inserted at (where, ref) goes just below, or NULL with
 * error set. */
static UsQpair *
insert_point(UsStream *st, UsStreamWhere where, const char *ref, GError **error)
{
	UsQpair *qp = NULL;
	switch (where) {
	case US_STREAM_TOP: return st->st_head;
	case US_STREAM_BOTTOM: return st->st_driver->qp_above;
	case US_STREAM_BELOW:
		if (ref != NULL && strcmp(ref, qpair_name(st->st_head)) == 0)
			return st->st_head;
		qp = ref != NULL ? find_module(st, ref) : NULL;
		break;
	case US_STREAM_ABOVE:
		if (ref != NULL && strcmp(ref, qpair_name(st->st_driver)) == 0)
			return st->st_driver->qp_above;
		qp = ref != NULL ? find_module(st, ref) : NULL;
		qp = qp != NULL ? qp->qp_above : NULL;
		break;
	}
	if (qp == NULL)
		g_set_error(error, US_ERROR, US_ERROR_NOT_FOUND, "no module %s on the stream of %s",
			    ref != NULL ? ref : "(none)", qpair_name(st->st_driver));
	return qp;
}

/* Enables the nearest service procedure behind q (upstream in q's
 * direction): a queue that stopped on the old neighbour's QFULL waits for a
 * back-enable the new neighbour owes it nothing for. */
static void
kick_behind(queue_t *q)
{
	if (q->q_nbsrv != NULL)
		qenable(q->q_nbsrv);
}

typedef struct {
	UsStream *st;
	const UsModuleDesc *desc;
	UsStreamWhere where;
	const char *ref;
	GError **error;
	int result;
	queue_t *rq; /* the new pair's read queue */
} InsertArgs;

/* strpush generalised: link below the insertion point with procedures off,
 * open with MODOPEN, turn on.  Nothing runs between these steps (one world
 * call), so the messages already below stay ahead of those that go through
 * the new pair. */
static void
insert_on_world(gpointer data)
{
	InsertArgs *a = data;
	UsStream *st = a->st;
	UsQpair *above = insert_point(st, a->where, a->ref, a->error);
	if (above == NULL) {
		a->result = EINVAL;
		return;
	}
	const struct streamtab *tab = a->desc->streamtab;
	UsQpair *qp = qpair_new(st, tab->st_rdinit, tab->st_wrinit, a->desc, QPROCSOFF);
	qpair_link_below(above, qp);
	us_stream_rewire(st);
	dev_t dev = st->st_dev;
	int err = tab->st_rdinit->qi_qopen(&qp->qp_rq, &dev, st->st_oflag, MODOPEN, NULL);
	if (err != 0) {
		qpair_unlink(qp);
		us_stream_rewire(st);
		qpair_free(qp);
		set_errno_error(a->error, err, "push", a->desc->name);
		a->result = err;
		return;
	}
	if (qp->qp_rq.q_flag & QPROCSOFF)
		qprocson(&qp->qp_rq);
	st->st_depth++;
	kick_behind(&qp->qp_wq);
	kick_behind(&qp->qp_rq);
	a->rq = &qp->qp_rq;
	a->result = 0;
}

static int
insert_desc(UsStream *st, const UsModuleDesc *desc, UsStreamWhere where, const char *ref,
	    queue_t **rqp, GError **error)
{
	if (!check_kind(desc, FALSE, error))
		return EINVAL;
	InsertArgs a = { st, desc, where, ref, error, 0, NULL };
	us_world_call(us_stack_world(st->st_stack), insert_on_world, &a);
	if (rqp != NULL)
		*rqp = a.rq;
	return a.result;
}

int
us__stream_push_desc(UsStream *st, const UsModuleDesc *desc, GError **error)
{
	return insert_desc(st, desc, US_STREAM_TOP, NULL, NULL, error);
}

int
us_stream_insert(UsStream *st, const char *module, UsStreamWhere where, const char *ref,
		 queue_t **rqp, GError **error)
{
	g_return_val_if_fail(st != NULL && st->st_magic == US_STREAM_MAGIC, EINVAL);
	if (rqp != NULL)
		*rqp = NULL;
	const UsModuleDesc *desc = us_registry_lookup(module, error);
	if (desc == NULL)
		return EINVAL;
	return insert_desc(st, desc, where, ref, rqp, error);
}

int
us_stream_push(UsStream *st, const char *module, GError **error)
{
	const UsModuleDesc *desc = us_registry_lookup(module, error);
	if (desc == NULL)
		return EINVAL;
	return us__stream_push_desc(st, desc, error);
}

/* Turns a pair's procedures off, closes it and frees it. */
static void
close_pair(UsStream *st, UsQpair *qp)
{
	qprocsoff(&qp->qp_rq);
	pfi_close_t cl = qp->qp_rq.q_qinfo->qi_qclose;
	if (cl != NULL)
		cl(&qp->qp_rq, st->st_oflag, NULL);
	qpair_unlink(qp);
	us_stream_rewire(st);
	qpair_free(qp);
}

static void
pop_on_world(gpointer data)
{
	UsStream *st = data;
	close_pair(st, st->st_head->qp_below);
	st->st_depth--;
}

/* Everything a pair's queue q holds, oldest first, as a b_next chain: what
 * is on the queue (accepted by the module, in getq order), then what was
 * deferred to its put procedure (sent to it, not seen yet; always younger,
 * since a queue's deferred puts run in order before it gets anything new). */
static mblk_t *
take_held(queue_t *q)
{
	mblk_t *first = NULL, **tail = &first, *mp;
	while ((mp = q->q_first) != NULL) {
		rmvq(q, mp);
		*tail = mp;
		tail = &mp->b_next;
	}
	*tail = us__queue_take_deferred(q);
	return first;
}

/* Hands a chain on past `from` (consumes it): to the next live queue in
 * from's direction, where the removed module would have sent it, as
 * deferred puts.  Deferring rather than calling the put procedures places
 * both directions' chains before any of them runs: a put that turned a
 * message around at once (a driver echoing, a module answering) would
 * otherwise send it past messages still waiting to be carried the other
 * way.  Anything arriving later at that queue goes behind (deferred puts are
 * FIFO per queue).  Returns the number of messages. */
static guint
carry_on(queue_t *from, mblk_t *chain)
{
	queue_t *nq = from->q_next;
	while (nq != NULL && (nq->q_flag & QPROCSOFF))
		nq = nq->q_next;
	guint n = 0;
	while (chain != NULL) {
		mblk_t *mp = chain;
		chain = mp->b_next;
		mp->b_next = NULL;
		if (nq != NULL)
			us__queue_defer(nq, mp);
		else
			us_drop(from, mp, US_DROP_UNHANDLED); /* no queue beyond: cannot happen */
		n++;
	}
	return n;
}

typedef struct {
	UsStream *st;
	const char *module; /* by name (topmost instance) ... */
	queue_t *q;         /* ... or this pair; both NULL: the topmost module */
	GError **error;
	int result;
} RemoveArgs;

/* The pair RemoveArgs names, or NULL with error set. */
static UsQpair *
remove_target(RemoveArgs *a)
{
	UsStream *st = a->st;
	UsQpair *qp = NULL;
	if (a->q != NULL)
		qp = US_QPAIR(a->q);
	else if (a->module != NULL)
		qp = find_module(st, a->module);
	else if (st->st_depth > 0)
		qp = st->st_head->qp_below;
	if (qp != NULL && qp->qp_stream == st && qp != st->st_head && qp != st->st_driver)
		return qp;
	g_set_error(a->error, US_ERROR, US_ERROR_NOT_FOUND, "no module %s on the stream of %s",
		    a->module != NULL ? a->module : "to remove", qpair_name(st->st_driver));
	return NULL;
}

/* strpop without losing anything: procedures off, held messages taken
 * before close (a close routine that flushes its queues finds them empty),
 * close, unlink, then the held messages carried on in their directions. */
static void
remove_on_world(gpointer data)
{
	RemoveArgs *a = data;
	UsStream *st = a->st;
	UsQpair *qp = remove_target(a);
	if (qp == NULL) {
		a->result = EINVAL;
		return;
	}
	if ((qp->qp_rq.q_flag | qp->qp_wq.q_flag) & QINSERVICE) {
		g_set_error(a->error, US_ERROR, US_ERROR_INVALID,
			    "%s: removed from its own service procedure", qpair_name(qp));
		a->result = EBUSY;
		return;
	}
	UsQpair *above = qp->qp_above, *below = qp->qp_below;
	qprocsoff(&qp->qp_rq);
	mblk_t *down = take_held(&qp->qp_wq), *up = take_held(&qp->qp_rq);
	close_pair(st, qp);
	st->st_depth--;
	guint nd = carry_on(&above->qp_wq, down), nu = carry_on(&below->qp_rq, up);
	if (nd + nu > 0)
		g_debug("removed a module: carried %u message(s) down and %u up", nd, nu);
	kick_behind(&below->qp_wq);
	kick_behind(&above->qp_rq);
	a->result = 0;
}

int
us_stream_remove(UsStream *st, const char *module, GError **error)
{
	g_return_val_if_fail(st != NULL && st->st_magic == US_STREAM_MAGIC, EINVAL);
	RemoveArgs a = { st, module, NULL, error, 0 };
	us_world_call(us_stack_world(st->st_stack), remove_on_world, &a);
	return a.result;
}

int
us_stream_remove_queue(queue_t *q, GError **error)
{
	g_return_val_if_fail(q != NULL && q->q_stream != NULL, EINVAL);
	RemoveArgs a = { q->q_stream, NULL, q, error, 0 };
	us_world_call(us_stack_world(a.st->st_stack), remove_on_world, &a);
	return a.result;
}

int
us_stream_pop(UsStream *st)
{
	if (st->st_depth == 0)
		return EINVAL;
	RemoveArgs a = { st, NULL, NULL, NULL, 0 };
	us_world_call(us_stack_world(st->st_stack), remove_on_world, &a);
	return a.result;
}

typedef struct {
	UsStream *st;
	const char *module;
	queue_t *result;
} FindArgs;

static void
find_on_world(gpointer data)
{
	FindArgs *a = data;
	UsQpair *qp = find_module(a->st, a->module);
	a->result = qp != NULL ? &qp->qp_rq : NULL;
}

queue_t *
us_stream_find_module(UsStream *st, const char *module)
{
	g_return_val_if_fail(st != NULL && st->st_magic == US_STREAM_MAGIC, NULL);
	FindArgs a = { st, module, NULL };
	us_world_call(us_stack_world(st->st_stack), find_on_world, &a);
	return a.result;
}

static void
close_on_world(gpointer data)
{
	UsStream *st = data;
	st->st_closing = TRUE;
	while (st->st_depth > 0)
		pop_on_world(st);
	UsQpair *drv = st->st_driver;
	st->st_driver = NULL;
	close_pair(st, drv);
	us__stack_remove_stream(st->st_stack, st);
	stream_destroy(st);
}

void
us_stream_close(UsStream *st)
{
	g_return_if_fail(st != NULL && st->st_magic == US_STREAM_MAGIC);
	us_world_call(us_stack_world(st->st_stack), close_on_world, st);
	g_atomic_int_add(&us_streams_alive, -1);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                          */
/* ------------------------------------------------------------------ */

queue_t *
us_stream_head_rq(UsStream *st)
{
	return &st->st_head->qp_rq;
}

queue_t *
us_stream_head_wq(UsStream *st)
{
	return &st->st_head->qp_wq;
}

queue_t *
us_stream_driver_rq(UsStream *st)
{
	return st->st_driver ? &st->st_driver->qp_rq : NULL;
}

UsStack *
us_stream_stack(UsStream *st)
{
	return st->st_stack;
}

UsStream *
us_queue_stream(queue_t *q)
{
	return q->q_stream;
}

UsStack *
us_queue_stack(queue_t *q)
{
	return q->q_stream ? q->q_stream->st_stack : NULL;
}

UsWorld *
us_queue_world(queue_t *q)
{
	return q->q_stream ? q->q_stream->st_world : NULL;
}

dev_t
us_stream_dev(UsStream *st)
{
	return st->st_dev;
}

int
us_stream_oflag(UsStream *st)
{
	return st->st_oflag;
}

guint
us_stream_depth(UsStream *st)
{
	return st->st_depth;
}

const char *
us_stream_module_name(UsStream *st, guint i)
{
	UsQpair *qp = st->st_head->qp_below;
	for (guint k = 0; qp && k < i; k++)
		qp = qp->qp_below;
	if (qp == NULL)
		return NULL;
	if (qp->qp_desc)
		return qp->qp_desc->name;
	struct module_info *mi = qp->qp_rq.q_qinfo->qi_minfo;
	return mi ? mi->mi_idname : "?";
}

guint
us_stream_live_count(void)
{
	return (guint)g_atomic_int_get(&us_streams_alive);
}

const UsModuleDesc *
us_queue_desc(queue_t *q)
{
	return US_QPAIR(q)->qp_desc;
}

/* ------------------------------------------------------------------ */
/* Autopush                                                           */
/* ------------------------------------------------------------------ */

gboolean
us_autopush_set(UsStack *stack, const char *driver, const char *const *modules, GError **error)
{
	const UsModuleDesc *d = us_registry_lookup(driver, error);
	if (d == NULL || !check_kind(d, TRUE, error))
		return FALSE;
	guint n = modules ? g_strv_length((char **)modules) : 0;
	if (n > US_MAXAPUSH) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "autopush list for %s has %u modules; at most %d", driver, n,
			    US_MAXAPUSH);
		return FALSE;
	}
	for (guint i = 0; i < n; i++) {
		const UsModuleDesc *m = us_registry_lookup(modules[i], error);
		if (m == NULL || !check_kind(m, FALSE, error))
			return FALSE;
	}
	if (n == 0)
		g_hash_table_remove(us__stack_apush(stack), driver);
	else
		g_hash_table_replace(us__stack_apush(stack), g_strdup(driver),
				     g_strdupv((char **)modules));
	return TRUE;
}

char **
us_autopush_get(UsStack *stack, const char *driver)
{
	return g_strdupv(g_hash_table_lookup(us__stack_apush(stack), driver));
}
