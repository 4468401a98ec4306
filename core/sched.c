/* SPDX-License-Identifier: MIT */
/*
 * sched.c -- worlds, stacks, the service run list, deferred puts, clocks,
 * timers, bufcalls and cross-thread calls.
 *
 * Theory
 * ------
 * A world (UsWorld) is a single-threaded executor: every put procedure,
 * service procedure, timeout and bufcall callback of the stacks in a world
 * runs on the thread that is currently driving it, one at a time.  That is
 * the whole concurrency story for module code (FireEngine's squeue idea).
 *
 * Work a world can have, run by us_world_run_pending() in this order until
 * none is left at the current time:
 *   1. calls handed over from other threads (us_world_call/post);
 *   2. deferred puts: putnext() calls a put procedure directly unless the
 *      nesting depth on this thread reached US_PUT_MAX_DEPTH or the target
 *      queue already has deferred messages; then the message waits on the
 *      target queue's defer list (FIFO per queue, so order is kept) and runs
 *      from here with the depth back at zero;
 *   3. the service run list: qenable() appends a queue once (QENAB); QENAB
 *      is cleared before the service procedure runs so it may re-enable;
 *   4. timers whose deadline has come, in (deadline, id) order;
 *   5. bufcalls, when a data block was freed since they were registered or
 *      US_BUFCALL_RETRY_NS passed.
 *
 * Time: a real world reads CLOCK_MONOTONIC; a virtual world has a counter
 * that only moves when the driver says so (us_world_advance) or, when the
 * world runs from a GMainContext, when nothing else is ready: a low-priority
 * source then jumps the clock to the next timer.  Timer callbacks always see
 * the clock at exactly their deadline in virtual time.
 *
 * Deviations: SVR4 bufcall() is system-wide; here it belongs to the world
 * whose thread calls it.  Ticks are milliseconds.
 */
#define G_LOG_DOMAIN "us-sched"

#include "internal.h"

#include <ustreams/probes.h>

#include <errno.h>
#include <string.h>

#define US_PUT_MAX_DEPTH 48
#define US_BUFCALL_RETRY_NS (10 * US_NSEC_PER_MSEC)

typedef struct {
	gint64 deadline;
	guint64 id;
	void (*func)(gpointer);
	gpointer data;
	queue_t *q; /* owner for qtimeout, else NULL */
} UsTimer;

typedef struct {
	bufcall_id_t id;
	size_t size;
	void (*func)(void *);
	void *arg;
	queue_t *q;
	gint64 registered; /* world time */
	guint free_gen;    /* us_free_gen when registered */
} UsBufcall;

typedef struct {
	void (*func)(gpointer);
	gpointer data;
	gboolean wait;
	gboolean done;
} UsCall;

typedef struct {
	GSource base;
	UsWorld *world;
	gboolean jump; /* the virtual-time jump source */
} UsWorldSource;

struct _UsStack {
	UsWorld *world;
	char *name;
	GList *streams;    /* UsStream*, newest first */
	GHashTable *data;  /* key -> UsStackData */
	GHashTable *drops; /* module name -> GArray of guint64 */
	GHashTable *apush; /* driver name -> char ** */
	GSList *teardown;  /* UsStackData (fn in destroy, data), newest first */
};

typedef struct {
	gpointer data;
	GDestroyNotify destroy;
} UsStackData;

struct _UsWorld {
	UsClockKind clock;
	guint64 seed;
	GRand *rand;
	GMainContext *ctx;
	GSource *source;
	GSource *jump_source;
	gint64 vnow;
	gint64 real_base;
	/* run list (q_link) and deferred-put queues (q_defer_next) */
	queue_t *run_first, *run_last;
	queue_t *defer_first, *defer_last;
	/* timers: binary min-heap of UsTimer*, and id -> UsTimer* */
	GPtrArray *heap;
	GHashTable *timers;
	guint64 next_timer_id;
	/* bufcalls */
	GQueue bufcalls;
	guint64 bufcall_timer;
	/* cross-thread calls */
	GMutex lock;
	GCond cond;
	GRecMutex drive_lock; /* held while a thread runs the world's code */
	GQueue calls;
	gint ncalls; /* atomic: calls.length, read without the lock */
	GThread *thread;
	GMainLoop *loop;
	GList *stacks;
	gboolean freeing;
};

/* initial-exec: one %fs-relative access instead of __tls_get_addr on the
 * putnext hot path (the library is loaded at start-up, not dlopen'd). */
#define US_TLS _Thread_local __attribute__((tls_model("initial-exec")))
static US_TLS UsWorld *us_current_world;
static US_TLS guint us_put_depth;
static guint us_bufcalls_pending;      /* atomic: bufcalls registered anywhere */
static guint us_free_gen;              /* atomic: bumped on frees while pending */
static guint64 us_next_bufcall_id = 1; /* under us_bufcall_id_lock */
static GMutex us_bufcall_id_lock;

static gboolean world_has_work(UsWorld *w);

/* ------------------------------------------------------------------ */
/* Clock                                                              */
/* ------------------------------------------------------------------ */

static gint64
mono_ns(void)
{
	return g_get_monotonic_time() * US_NSEC_PER_USEC;
}

gint64
us_world_now(UsWorld *w)
{
	if (w->clock == US_CLOCK_VIRTUAL)
		return w->vnow;
	return mono_ns() - w->real_base;
}

clock_t
drv_usectohz(clock_t us)
{
	return (us + 999) / 1000;
}

clock_t
drv_hztousec(clock_t ticks)
{
	return ticks * 1000;
}

int64_t
ddi_get_lbolt64(void)
{
	UsWorld *w = us_current_world;
	return w ? us_world_now(w) / US_NSEC_PER_MSEC : g_get_monotonic_time() / 1000;
}

clock_t
ddi_get_lbolt(void)
{
	return (clock_t)ddi_get_lbolt64();
}

/* ------------------------------------------------------------------ */
/* Timer heap                                                         */
/* ------------------------------------------------------------------ */

static gboolean
timer_before(const UsTimer *a, const UsTimer *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->id < b->id);
}

static void
heap_swap(GPtrArray *h, guint i, guint j)
{
	gpointer t = h->pdata[i];
	h->pdata[i] = h->pdata[j];
	h->pdata[j] = t;
}

static void
heap_up(GPtrArray *h, guint i)
{
	while (i > 0) {
		guint p = (i - 1) / 2;
		if (!timer_before(h->pdata[i], h->pdata[p]))
			break;
		heap_swap(h, i, p);
		i = p;
	}
}

static void
heap_down(GPtrArray *h, guint i)
{
	for (;;) {
		guint l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->len && timer_before(h->pdata[l], h->pdata[m]))
			m = l;
		if (r < h->len && timer_before(h->pdata[r], h->pdata[m]))
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

/* Removes cancelled timers (no longer in the id table) from the top. */
static UsTimer *
heap_peek(UsWorld *w)
{
	while (w->heap->len > 0) {
		UsTimer *t = w->heap->pdata[0];
		if (g_hash_table_contains(w->timers, &t->id))
			return t;
		heap_swap(w->heap, 0, w->heap->len - 1);
		g_ptr_array_set_size(w->heap, w->heap->len - 1);
		heap_down(w->heap, 0);
		g_free(t);
	}
	return NULL;
}

static UsTimer *
heap_pop(UsWorld *w)
{
	UsTimer *t = heap_peek(w);
	if (t == NULL)
		return NULL;
	heap_swap(w->heap, 0, w->heap->len - 1);
	g_ptr_array_set_size(w->heap, w->heap->len - 1);
	heap_down(w->heap, 0);
	g_hash_table_remove(w->timers, &t->id);
	return t;
}

static guint64
timer_add(UsWorld *w, gint64 delay_ns, void (*func)(gpointer), gpointer data, queue_t *q)
{
	UsTimer *t = g_new0(UsTimer, 1);
	t->deadline = us_world_now(w) + MAX(delay_ns, 0);
	t->id = ++w->next_timer_id;
	t->func = func;
	t->data = data;
	t->q = q;
	g_ptr_array_add(w->heap, t);
	heap_up(w->heap, w->heap->len - 1);
	g_hash_table_insert(w->timers, &t->id, t);
	return t->id;
}

guint64
us_world_timer_add(UsWorld *w, gint64 delay_ns, void (*func)(gpointer), gpointer data)
{
	guint64 id = timer_add(w, delay_ns, func, data, NULL);
	if (!us_world_is_current(w))
		us_world_wakeup(w);
	return id;
}

/* The timer stays in the heap and is discarded when it reaches the top. */
gint64
us_world_timer_cancel(UsWorld *w, guint64 id)
{
	UsTimer *t = g_hash_table_lookup(w->timers, &id);
	if (t == NULL)
		return -1;
	g_hash_table_remove(w->timers, &id);
	return MAX(t->deadline - us_world_now(w), 0);
}

gint64
us_world_next_deadline(UsWorld *w)
{
	if (world_has_work(w))
		return 0;
	UsTimer *t = heap_peek(w);
	if (t == NULL)
		return -1;
	return MAX(t->deadline - us_world_now(w), 0);
}

/* ------------------------------------------------------------------ */
/* Run list and deferred puts                                         */
/* ------------------------------------------------------------------ */

static inline UsWorld *
queue_world(queue_t *q)
{
	if (G_LIKELY(q->q_stream != NULL))
		return q->q_stream->st_world;
	return us_current_world;
}

void
qenable(queue_t *q)
{
	if (q->q_qinfo->qi_srvp == NULL || (q->q_flag & QENAB))
		return;
	UsWorld *w = queue_world(q);
	g_return_if_fail(w != NULL);
	q->q_flag |= QENAB;
	q->q_link = NULL;
	if (w->run_last)
		w->run_last->q_link = q;
	else
		w->run_first = q;
	w->run_last = q;
	if (!us_world_is_current(w))
		us_world_wakeup(w);
}

static queue_t *
run_list_pop(UsWorld *w)
{
	queue_t *q = w->run_first;
	if (q == NULL)
		return NULL;
	w->run_first = q->q_link;
	if (w->run_first == NULL)
		w->run_last = NULL;
	q->q_link = NULL;
	return q;
}

/* Takes q off the run list and the deferred list (used when it is freed). */
static void
world_forget_queue(UsWorld *w, queue_t *q)
{
	queue_t **pp, *prev = NULL;
	for (pp = &w->run_first; *pp; prev = *pp, pp = &(*pp)->q_link) {
		if (*pp == q) {
			*pp = q->q_link;
			if (w->run_last == q)
				w->run_last = prev;
			break;
		}
	}
	prev = NULL;
	for (pp = &w->defer_first; *pp; prev = *pp, pp = &(*pp)->q_defer_next) {
		if (*pp == q) {
			*pp = q->q_defer_next;
			if (w->defer_last == q)
				w->defer_last = prev;
			break;
		}
	}
	q->q_flag &= ~QENAB;
	while (q->q_defer_first) {
		mblk_t *mp = q->q_defer_first;
		q->q_defer_first = mp->b_next;
		mp->b_next = NULL;
		freemsg(mp);
	}
	q->q_defer_last = NULL;
}

/* Takes q off the run list and the deferred list like world_forget_queue,
 * but hands back the messages deferred to it (oldest first, linked through
 * b_next) instead of freeing them: stream.c carries them past a module being
 * removed. */
mblk_t *
us__queue_take_deferred(queue_t *q)
{
	mblk_t *chain = q->q_defer_first;
	q->q_defer_first = NULL;
	world_forget_queue(queue_world(q), q);
	return chain;
}

static void
defer_put(UsWorld *w, queue_t *q, mblk_t *mp)
{
	mp->b_next = NULL;
	if (q->q_defer_first == NULL) {
		q->q_defer_first = mp;
		q->q_defer_next = NULL;
		if (w->defer_last)
			w->defer_last->q_defer_next = q;
		else
			w->defer_first = q;
		w->defer_last = q;
	} else {
		q->q_defer_last->b_next = mp;
	}
	q->q_defer_last = mp;
	if (!us_world_is_current(w))
		us_world_wakeup(w);
}

/* Appends mp to q's deferred puts (stream.c: carrying messages past a
 * removed module, placed in order before any of them runs). */
void
us__queue_defer(queue_t *q, mblk_t *mp)
{
	defer_put(queue_world(q), q, mp);
}

/* ------------------------------------------------------------------ */
/* Probes (docs/probes.md): their arguments are computed only while a  */
/* tracer is attached.                                                */
/* ------------------------------------------------------------------ */

static inline const char *
probe_qname(const queue_t *q)
{
	const struct module_info *mi = q->q_qinfo->qi_minfo;
	return mi != NULL && mi->mi_idname != NULL ? mi->mi_idname : "?";
}

static inline const char *
probe_stack(queue_t *q)
{
	UsStack *s = us_queue_stack(q);
	return s != NULL ? s->name : "";
}

/* streams:::put, as q's put procedure is entered with mp.  Out of line, so
 * that the put path pays for the semaphore test only: with the probe's
 * arguments inline, putnext needed more registers and saved four more. */
static __attribute__((noinline, cold)) void
probe_put_fire(queue_t *q, mblk_t *mp)
{
	US_PROBE8(streams, put, probe_qname(q), (int)DB_TYPE(mp), msgdsize(mp), q, us_put_depth,
		  (q->q_flag & QREADR) != 0, mp, probe_stack(q));
}

static inline void
probe_put(queue_t *q, mblk_t *mp)
{
	if (US_PROBE_ENABLED(streams, put))
		probe_put_fire(q, mp);
}

/* streams:::service, as q's service procedure is entered (out of line too). */
static __attribute__((noinline, cold)) void
probe_service_fire(queue_t *q)
{
	US_PROBE5(streams, service, probe_qname(q), q, (q->q_flag & QREADR) != 0, q->q_count,
		  probe_stack(q));
}

static inline void
probe_service(queue_t *q)
{
	if (US_PROBE_ENABLED(streams, service))
		probe_service_fire(q);
}

/* Runs one deferred message; FALSE if there were none. */
static gboolean
run_one_deferred(UsWorld *w)
{
	queue_t *q = w->defer_first;
	if (q == NULL)
		return FALSE;
	mblk_t *mp = q->q_defer_first;
	q->q_defer_first = mp->b_next;
	mp->b_next = NULL;
	if (q->q_defer_first == NULL) {
		q->q_defer_last = NULL;
		w->defer_first = q->q_defer_next;
		if (w->defer_first == NULL)
			w->defer_last = NULL;
		q->q_defer_next = NULL;
	}
	probe_put(q, mp);
	us_put_depth++;
	q->q_qinfo->qi_putp(q, mp);
	us_put_depth--;
	return TRUE;
}

/* Skips queues whose procedures are off (being pushed or popped). */
static queue_t *
live_queue(queue_t *q)
{
	while (q != NULL && (q->q_flag & QPROCSOFF))
		q = q->q_next;
	return q;
}

static inline __attribute__((always_inline)) int
enter_put(queue_t *q, mblk_t *mp)
{
	if (G_UNLIKELY(us_put_depth >= US_PUT_MAX_DEPTH || q->q_defer_first != NULL)) {
		UsWorld *w = queue_world(q);
		g_assert(w != NULL);
		defer_put(w, q, mp);
		return 1;
	}
	probe_put(q, mp);
	us_put_depth++;
	q->q_qinfo->qi_putp(q, mp);
	us_put_depth--;
	return 1;
}

int
put(queue_t *q, mblk_t *mp)
{
	g_return_val_if_fail(q != NULL && mp != NULL, 0);
	return enter_put(q, mp);
}

int
putnext(queue_t *q, mblk_t *mp)
{
	queue_t *nq = live_queue(q->q_next);
	if (G_UNLIKELY(nq == NULL)) {
		g_warning("putnext past the end of a stream (type 0x%x); dropped", DB_TYPE(mp));
		us_drop(q, mp, US_DROP_UNHANDLED);
		return 0;
	}
	return enter_put(nq, mp);
}

void
qreply(queue_t *q, mblk_t *mp)
{
	putnext(OTHERQ(q), mp);
}

/* ------------------------------------------------------------------ */
/* qtimeout / timeout                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
	queue_t *q;
	guint64 id;
	void (*func)(void *);
	void *arg;
} UsQTimeout;

static void
qtimeout_fire(gpointer data)
{
	UsQTimeout *qt = data;
	UsQpair *qp = US_QPAIR(qt->q);
	qp->qp_timeouts = g_slist_remove(qp->qp_timeouts, qt);
	void (*func)(void *) = qt->func;
	void *arg = qt->arg;
	g_free(qt);
	func(arg);
}

timeout_id_t
qtimeout(queue_t *q, void (*func)(void *), void *arg, clock_t ticks)
{
	UsWorld *w = queue_world(q);
	g_return_val_if_fail(w != NULL, 0);
	UsQTimeout *qt = g_new0(UsQTimeout, 1);
	qt->q = q;
	qt->func = func;
	qt->arg = arg;
	qt->id = timer_add(w, (gint64)ticks * US_NSEC_PER_MSEC, qtimeout_fire, qt, q);
	UsQpair *qp = US_QPAIR(q);
	qp->qp_timeouts = g_slist_prepend(qp->qp_timeouts, qt);
	return (timeout_id_t)qt->id;
}

static UsQTimeout *
find_qtimeout(UsQpair *qp, guint64 id)
{
	for (GSList *l = qp->qp_timeouts; l; l = l->next) {
		UsQTimeout *qt = l->data;
		if (qt->id == id)
			return qt;
	}
	return NULL;
}

clock_t
quntimeout(queue_t *q, timeout_id_t id)
{
	UsQpair *qp = US_QPAIR(q);
	UsQTimeout *qt = find_qtimeout(qp, id);
	if (qt == NULL)
		return -1;
	gint64 left = us_world_timer_cancel(queue_world(q), qt->id);
	qp->qp_timeouts = g_slist_remove(qp->qp_timeouts, qt);
	g_free(qt);
	return left < 0 ? -1 : (clock_t)((left + US_NSEC_PER_MSEC - 1) / US_NSEC_PER_MSEC);
}

typedef struct {
	void (*func)(void *);
	void *arg;
} UsPlainTimeout;

static void
plain_timeout_fire(gpointer data)
{
	UsPlainTimeout pt = *(UsPlainTimeout *)data;
	g_free(data);
	pt.func(pt.arg);
}

timeout_id_t
timeout(void (*func)(void *), void *arg, clock_t ticks)
{
	UsWorld *w = us_current_world;
	g_return_val_if_fail(w != NULL, 0);
	UsPlainTimeout *pt = g_new(UsPlainTimeout, 1);
	pt->func = func;
	pt->arg = arg;
	return (timeout_id_t)timer_add(w, (gint64)ticks * US_NSEC_PER_MSEC, plain_timeout_fire, pt,
				       NULL);
}

clock_t
untimeout(timeout_id_t id)
{
	UsWorld *w = us_current_world;
	g_return_val_if_fail(w != NULL, -1);
	guint64 key = id;
	UsTimer *t = g_hash_table_lookup(w->timers, &key);
	if (t == NULL)
		return -1;
	if (t->func == plain_timeout_fire)
		g_free(t->data);
	gint64 left = us_world_timer_cancel(w, id);
	return (clock_t)((left + US_NSEC_PER_MSEC - 1) / US_NSEC_PER_MSEC);
}

/* ------------------------------------------------------------------ */
/* bufcall                                                            */
/* ------------------------------------------------------------------ */

void
us__bufcall_kick(void)
{
	if (g_atomic_int_get(&us_bufcalls_pending) > 0)
		g_atomic_int_inc(&us_free_gen);
}

static bufcall_id_t
bufcall_add(UsWorld *w, queue_t *q, size_t size, void (*func)(void *), void *arg)
{
	if (w == NULL || func == NULL)
		return 0;
	UsBufcall *bc = g_new0(UsBufcall, 1);
	g_mutex_lock(&us_bufcall_id_lock);
	bc->id = (bufcall_id_t)us_next_bufcall_id++;
	g_mutex_unlock(&us_bufcall_id_lock);
	bc->size = size;
	bc->func = func;
	bc->arg = arg;
	bc->q = q;
	bc->registered = us_world_now(w);
	bc->free_gen = g_atomic_int_get(&us_free_gen);
	g_queue_push_tail(&w->bufcalls, bc);
	g_atomic_int_inc(&us_bufcalls_pending);
	if (q != NULL)
		US_QPAIR(q)->qp_bufcalls = g_slist_prepend(US_QPAIR(q)->qp_bufcalls, bc);
	return bc->id;
}

bufcall_id_t
bufcall(size_t size, unsigned int pri, void (*func)(void *), void *arg)
{
	(void)pri;
	return bufcall_add(us_current_world, NULL, size, func, arg);
}

bufcall_id_t
esbbcall(unsigned int pri, void (*func)(void *), void *arg)
{
	return bufcall(0, pri, func, arg);
}

bufcall_id_t
qbufcall(queue_t *q, size_t size, unsigned int pri, void (*func)(void *), void *arg)
{
	(void)pri;
	return bufcall_add(queue_world(q), q, size, func, arg);
}

static void
bufcall_remove(UsWorld *w, UsBufcall *bc)
{
	g_queue_remove(&w->bufcalls, bc);
	if (bc->q != NULL) {
		UsQpair *qp = US_QPAIR(bc->q);
		qp->qp_bufcalls = g_slist_remove(qp->qp_bufcalls, bc);
	}
	g_atomic_int_dec_and_test(&us_bufcalls_pending);
	g_free(bc);
}

static void
bufcall_cancel(UsWorld *w, bufcall_id_t id)
{
	if (w == NULL)
		return;
	for (GList *l = w->bufcalls.head; l; l = l->next) {
		UsBufcall *bc = l->data;
		if (bc->id == id) {
			bufcall_remove(w, bc);
			return;
		}
	}
}

void
unbufcall(bufcall_id_t id)
{
	bufcall_cancel(us_current_world, id);
}

void
qunbufcall(queue_t *q, bufcall_id_t id)
{
	bufcall_cancel(queue_world(q), id);
}

static gboolean
bufcall_ready(UsWorld *w, UsBufcall *bc)
{
	return bc->free_gen != (guint)g_atomic_int_get(&us_free_gen) ||
	       us_world_now(w) - bc->registered >= US_BUFCALL_RETRY_NS;
}

/* Runs the bufcalls that are due; a callback may register new ones, which
 * wait for the next free or retry period. */
static guint
run_bufcalls(UsWorld *w)
{
	guint n = 0;
	GList *l = w->bufcalls.head;
	while (l != NULL) {
		UsBufcall *bc = l->data;
		l = l->next;
		if (!bufcall_ready(w, bc))
			continue;
		void (*func)(void *) = bc->func;
		void *arg = bc->arg;
		bufcall_remove(w, bc);
		func(arg);
		n++;
		l = w->bufcalls.head; /* the list may have changed */
	}
	return n;
}

static void
bufcall_retry_timer(gpointer data)
{
	UsWorld *w = data;
	w->bufcall_timer = 0;
}

/* Keeps a timer armed while bufcalls wait, so virtual time moves to the
 * retry point instead of declaring the world stuck. */
static void
bufcall_arm(UsWorld *w)
{
	if (w->bufcalls.length == 0 || w->bufcall_timer != 0)
		return;
	w->bufcall_timer = timer_add(w, US_BUFCALL_RETRY_NS, bufcall_retry_timer, w, NULL);
}

/* Cancels a queue pair's timeouts and bufcalls (at close). */
void
us__queue_cancel_callbacks(queue_t *rq)
{
	UsQpair *qp = US_QPAIR(rq);
	UsWorld *w = queue_world(rq);
	while (qp->qp_timeouts) {
		UsQTimeout *qt = qp->qp_timeouts->data;
		us_world_timer_cancel(w, qt->id);
		qp->qp_timeouts = g_slist_delete_link(qp->qp_timeouts, qp->qp_timeouts);
		g_free(qt);
	}
	while (qp->qp_bufcalls)
		bufcall_remove(w, qp->qp_bufcalls->data);
	world_forget_queue(w, &qp->qp_rq);
	world_forget_queue(w, &qp->qp_wq);
}

/* ------------------------------------------------------------------ */
/* Cross-thread calls                                                 */
/* ------------------------------------------------------------------ */

static gboolean
run_one_call(UsWorld *w)
{
	if (g_atomic_int_get(&w->ncalls) == 0)
		return FALSE;
	g_mutex_lock(&w->lock);
	UsCall *c = g_queue_pop_head(&w->calls);
	if (c != NULL)
		g_atomic_int_add(&w->ncalls, -1);
	g_mutex_unlock(&w->lock);
	if (c == NULL)
		return FALSE;
	c->func(c->data);
	g_mutex_lock(&w->lock);
	if (c->wait) {
		c->done = TRUE;
		g_cond_broadcast(&w->cond);
	} else {
		g_free(c);
	}
	g_mutex_unlock(&w->lock);
	return TRUE;
}

static gboolean
calls_pending(UsWorld *w)
{
	return g_atomic_int_get(&w->ncalls) > 0;
}

void
us_world_post(UsWorld *w, void (*func)(gpointer), gpointer data)
{
	UsCall *c = g_new0(UsCall, 1);
	c->func = func;
	c->data = data;
	g_mutex_lock(&w->lock);
	g_queue_push_tail(&w->calls, c);
	g_atomic_int_inc(&w->ncalls);
	g_mutex_unlock(&w->lock);
	us_world_wakeup(w);
}

void
us_world_call(UsWorld *w, void (*func)(gpointer), gpointer data)
{
	if (us_world_is_current(w)) {
		func(data);
		return;
	}
	if (w->thread == NULL) {
		/* No thread of its own: run here, one thread at a time, and let a
		 * thread waiting in the world's main context look again. */
		g_rec_mutex_lock(&w->drive_lock);
		UsWorld *saved = us_current_world;
		us_current_world = w;
		func(data);
		us_current_world = saved;
		g_rec_mutex_unlock(&w->drive_lock);
		g_main_context_wakeup(w->ctx);
		return;
	}
	UsCall c = { .func = func, .data = data, .wait = TRUE };
	g_mutex_lock(&w->lock);
	g_queue_push_tail(&w->calls, &c);
	g_atomic_int_inc(&w->ncalls);
	g_main_context_wakeup(w->ctx);
	while (!c.done)
		g_cond_wait(&w->cond, &w->lock);
	g_mutex_unlock(&w->lock);
}

void
us_world_wakeup(UsWorld *w)
{
	g_main_context_wakeup(w->ctx);
}

gboolean
us_world_is_current(UsWorld *w)
{
	return us_current_world == w;
}

UsWorld *
us_world_current(void)
{
	return us_current_world;
}

/* ------------------------------------------------------------------ */
/* Running                                                            */
/* ------------------------------------------------------------------ */

static gboolean
world_has_work(UsWorld *w)
{
	if (w->defer_first || w->run_first || calls_pending(w))
		return TRUE;
	UsTimer *t = heap_peek(w);
	if (t != NULL && t->deadline <= us_world_now(w))
		return TRUE;
	for (GList *l = w->bufcalls.head; l; l = l->next)
		if (bufcall_ready(w, l->data))
			return TRUE;
	return FALSE;
}

static gboolean
run_one_service(UsWorld *w)
{
	queue_t *q = run_list_pop(w);
	if (q == NULL)
		return FALSE;
	q->q_flag &= ~QENAB;
	if (q->q_qinfo->qi_srvp == NULL)
		return TRUE; /* setq() took the service procedure away meanwhile */
	q->q_flag |= QINSERVICE;
	probe_service(q);
	q->q_qinfo->qi_srvp(q);
	q->q_flag &= ~(QINSERVICE | QBACK);
	return TRUE;
}

static gboolean
run_one_timer(UsWorld *w)
{
	UsTimer *t = heap_peek(w);
	if (t == NULL || t->deadline > us_world_now(w))
		return FALSE;
	t = heap_pop(w);
	t->func(t->data);
	g_free(t);
	return TRUE;
}

guint
us_world_run_pending(UsWorld *w)
{
	g_rec_mutex_lock(&w->drive_lock);
	UsWorld *saved = us_current_world;
	guint saved_depth = us_put_depth;
	us_current_world = w;
	us_put_depth = 0;
	guint n = 0;
	for (;;) {
		if (run_one_call(w) || run_one_deferred(w) || run_one_service(w) ||
		    run_one_timer(w)) {
			n++;
			continue;
		}
		guint b = run_bufcalls(w);
		if (b == 0)
			break;
		n += b;
	}
	bufcall_arm(w);
	us_put_depth = saved_depth;
	us_current_world = saved;
	g_rec_mutex_unlock(&w->drive_lock);
	return n;
}

void
us_world_advance(UsWorld *w, gint64 ns)
{
	if (w->clock == US_CLOCK_REAL) {
		us_world_run_until(w, NULL, NULL, ns);
		return;
	}
	gint64 end = w->vnow + MAX(ns, 0);
	for (;;) {
		us_world_run_pending(w);
		UsTimer *t = heap_peek(w);
		if (t == NULL || t->deadline > end)
			break;
		w->vnow = MAX(w->vnow, t->deadline);
	}
	w->vnow = end;
	us_world_run_pending(w);
}

static gboolean
run_until_virtual(UsWorld *w, gboolean (*done)(gpointer), gpointer data, gint64 end)
{
	for (;;) {
		us_world_run_pending(w);
		if (done != NULL && done(data))
			return TRUE;
		UsTimer *t = heap_peek(w);
		if (t == NULL) /* nothing can ever happen */
			return FALSE;
		if (end >= 0 && t->deadline > end) {
			w->vnow = end;
			us_world_run_pending(w);
			return done != NULL && done(data);
		}
		w->vnow = MAX(w->vnow, t->deadline);
	}
}

static gboolean
timeout_flag(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

static gboolean
run_until_real(UsWorld *w, gboolean (*done)(gpointer), gpointer data, gint64 timeout_ns)
{
	gboolean expired = FALSE;
	GSource *ts = NULL;
	if (timeout_ns >= 0) {
		ts = g_timeout_source_new((guint)((timeout_ns + 999999) / 1000000));
		g_source_set_callback(ts, timeout_flag, &expired, NULL);
		g_source_attach(ts, w->ctx);
	}
	gboolean ok = FALSE;
	g_main_context_push_thread_default(w->ctx);
	for (;;) {
		us_world_run_pending(w);
		if (done != NULL && done(data)) {
			ok = TRUE;
			break;
		}
		if (expired)
			break;
		g_main_context_iteration(w->ctx, TRUE);
	}
	g_main_context_pop_thread_default(w->ctx);
	if (ts != NULL) {
		g_source_destroy(ts);
		g_source_unref(ts);
	}
	return ok;
}

gboolean
us_world_run_until(UsWorld *w, gboolean (*done)(gpointer), gpointer data, gint64 timeout_ns)
{
	if (w->thread != NULL && !us_world_is_current(w)) {
		/* Another thread runs the world: just wait for the condition. */
		gint64 end = timeout_ns < 0 ? -1 : g_get_monotonic_time() + timeout_ns / 1000;
		while (done == NULL || !done(data)) {
			if (end >= 0 && g_get_monotonic_time() >= end)
				return FALSE;
			g_usleep(200);
		}
		return TRUE;
	}
	if (w->clock == US_CLOCK_VIRTUAL)
		return run_until_virtual(w, done, data, timeout_ns < 0 ? -1 : w->vnow + timeout_ns);
	return run_until_real(w, done, data, timeout_ns);
}

/* ------------------------------------------------------------------ */
/* GSource glue                                                       */
/* ------------------------------------------------------------------ */

static gboolean
source_prepare(GSource *s, gint *timeout_ms)
{
	UsWorldSource *ws = (UsWorldSource *)s;
	UsWorld *w = ws->world;
	*timeout_ms = -1;
	if (ws->jump)
		return w->clock == US_CLOCK_VIRTUAL && !world_has_work(w) && heap_peek(w) != NULL;
	if (world_has_work(w)) {
		*timeout_ms = 0;
		return TRUE;
	}
	if (w->clock == US_CLOCK_REAL) {
		gint64 d = us_world_next_deadline(w);
		if (d >= 0)
			*timeout_ms = (gint)MIN((d + 999999) / 1000000, G_MAXINT);
	}
	return FALSE;
}

static gboolean
source_check(GSource *s)
{
	gint t;
	return source_prepare(s, &t);
}

static gboolean
source_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
	(void)cb;
	(void)data;
	UsWorldSource *ws = (UsWorldSource *)s;
	UsWorld *w = ws->world;
	if (ws->jump) {
		UsTimer *t = heap_peek(w);
		if (t != NULL)
			w->vnow = MAX(w->vnow, t->deadline);
	}
	us_world_run_pending(w);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs us_world_source_funcs = {
	.prepare = source_prepare,
	.check = source_check,
	.dispatch = source_dispatch,
};

static GSource *
world_source_new(UsWorld *w, gboolean jump)
{
	GSource *s = g_source_new(&us_world_source_funcs, sizeof(UsWorldSource));
	((UsWorldSource *)s)->world = w;
	((UsWorldSource *)s)->jump = jump;
	g_source_set_priority(s, jump ? G_PRIORITY_LOW : G_PRIORITY_DEFAULT);
	g_source_set_name(s, jump ? "ustreams virtual clock" : "ustreams world");
	return s;
}

static void
world_detach(UsWorld *w)
{
	if (w->source) {
		g_source_destroy(w->source);
		g_source_unref(w->source);
		w->source = NULL;
	}
	if (w->jump_source) {
		g_source_destroy(w->jump_source);
		g_source_unref(w->jump_source);
		w->jump_source = NULL;
	}
}

void
us_world_attach(UsWorld *w, GMainContext *ctx)
{
	world_detach(w);
	if (ctx != NULL && ctx != w->ctx) {
		g_main_context_unref(w->ctx);
		w->ctx = g_main_context_ref(ctx);
	}
	w->source = world_source_new(w, FALSE);
	g_source_attach(w->source, w->ctx);
	w->jump_source = world_source_new(w, TRUE);
	g_source_attach(w->jump_source, w->ctx);
}

static gpointer
world_thread_main(gpointer data)
{
	UsWorld *w = data;
	us_current_world = w;
	g_main_context_push_thread_default(w->ctx);
	g_main_loop_run(w->loop);
	us_world_run_pending(w);
	g_main_context_pop_thread_default(w->ctx);
	us_current_world = NULL;
	return NULL;
}

gboolean
us_world_start_thread(UsWorld *w, GError **error)
{
	g_return_val_if_fail(w->thread == NULL, FALSE);
	w->loop = g_main_loop_new(w->ctx, FALSE);
	w->thread = g_thread_try_new("us-world", world_thread_main, w, error);
	if (w->thread == NULL) {
		g_main_loop_unref(w->loop);
		w->loop = NULL;
		return FALSE;
	}
	return TRUE;
}

gboolean
us_world_has_thread(UsWorld *w)
{
	return w->thread != NULL;
}

static void
quit_loop(gpointer data)
{
	g_main_loop_quit(((UsWorld *)data)->loop);
}

void
us_world_stop_thread(UsWorld *w)
{
	if (w->thread == NULL)
		return;
	us_world_post(w, quit_loop, w);
	g_thread_join(w->thread);
	w->thread = NULL;
	g_main_loop_unref(w->loop);
	w->loop = NULL;
	/* Anyone still waiting in us_world_call is served by us now. */
	while (run_one_call(w))
		;
}

/* ------------------------------------------------------------------ */
/* File descriptor watches                                            */
/* ------------------------------------------------------------------ */

struct _UsFdWatch {
	GSource base;
	UsWorld *world;
	gpointer tag; /* g_source_add_unix_fd */
	GIOCondition events;
	void (*func)(gpointer data, GIOCondition revents);
	gpointer data;
	GIOCondition revents; /* what the current dispatch saw */
};

static void
fd_watch_enter(gpointer data)
{
	UsFdWatch *fw = data;
	fw->func(fw->data, fw->revents);
}

static gboolean
fd_watch_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
	(void)cb;
	(void)data;
	UsFdWatch *fw = (UsFdWatch *)s;
	/* Only the world's thread (or the one driving it) iterates its context. */
	g_assert(fw->world->thread == NULL || us_world_is_current(fw->world));
	fw->revents = g_source_query_unix_fd(s, fw->tag);
	us_world_call(fw->world, fd_watch_enter, fw);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs us_fd_watch_funcs = { .dispatch = fd_watch_dispatch };

UsFdWatch *
us_fd_watch_add(UsWorld *w, int fd, GIOCondition events,
		void (*func)(gpointer data, GIOCondition revents), gpointer data)
{
	GSource *s = g_source_new(&us_fd_watch_funcs, sizeof(UsFdWatch));
	g_source_set_name(s, "ustreams fd watch");
	UsFdWatch *fw = (UsFdWatch *)s;
	fw->world = w;
	fw->events = events;
	fw->func = func;
	fw->data = data;
	fw->tag = g_source_add_unix_fd(s, fd, events);
	g_source_attach(s, w->ctx);
	return fw;
}

void
us_fd_watch_set(UsFdWatch *fw, GIOCondition events)
{
	if (fw->events == events)
		return;
	fw->events = events;
	g_source_modify_unix_fd(&fw->base, fw->tag, events);
}

GIOCondition
us_fd_watch_events(UsFdWatch *fw)
{
	return fw->events;
}

void
us_fd_watch_remove(UsFdWatch *fw)
{
	if (fw == NULL)
		return;
	g_source_destroy(&fw->base);
	g_source_unref(&fw->base);
}

/* ------------------------------------------------------------------ */
/* World and stack objects                                            */
/* ------------------------------------------------------------------ */

UsWorld *
us_world_new(UsClockKind clock, guint64 seed)
{
	us_init();
	UsWorld *w = g_new0(UsWorld, 1);
	w->clock = clock;
	w->seed = seed;
	guint32 words[2] = { (guint32)seed, (guint32)(seed >> 32) };
	w->rand = g_rand_new_with_seed_array(words, 2);
	w->ctx = g_main_context_new();
	w->real_base = mono_ns();
	w->heap = g_ptr_array_new();
	w->timers = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_mutex_init(&w->lock);
	g_cond_init(&w->cond);
	g_rec_mutex_init(&w->drive_lock);
	g_queue_init(&w->calls);
	g_queue_init(&w->bufcalls);
	us_world_attach(w, NULL);
	return w;
}

static void
free_timer(gpointer p)
{
	UsTimer *t = p;
	if (t->func == plain_timeout_fire)
		g_free(t->data);
	g_free(t);
}

void
us_world_free(UsWorld *w)
{
	if (w == NULL)
		return;
	us_world_stop_thread(w);
	w->freeing = TRUE;
	while (w->stacks)
		us_stack_free(w->stacks->data);
	world_detach(w);
	/* Timers still pending belong to nobody now; plain timeouts own data. */
	for (guint i = 0; i < w->heap->len; i++) {
		UsTimer *t = w->heap->pdata[i];
		if (g_hash_table_contains(w->timers, &t->id))
			free_timer(t);
		else
			g_free(t);
	}
	g_ptr_array_free(w->heap, TRUE);
	g_hash_table_destroy(w->timers);
	while (w->bufcalls.length)
		bufcall_remove(w, w->bufcalls.head->data);
	while (w->calls.length)
		run_one_call(w);
	g_main_context_unref(w->ctx);
	g_rand_free(w->rand);
	g_mutex_clear(&w->lock);
	g_cond_clear(&w->cond);
	g_rec_mutex_clear(&w->drive_lock);
	g_free(w);
}

UsClockKind
us_world_clock_kind(UsWorld *w)
{
	return w->clock;
}

GRand *
us_world_rand(UsWorld *w)
{
	return w->rand;
}

guint64
us_world_seed(UsWorld *w)
{
	return w->seed;
}

GMainContext *
us_world_context(UsWorld *w)
{
	return w->ctx;
}

static void
stack_data_free(gpointer p)
{
	UsStackData *d = p;
	if (d->destroy)
		d->destroy(d->data);
	g_free(d);
}

UsStack *
us_stack_new(UsWorld *w, const char *name)
{
	UsStack *s = g_new0(UsStack, 1);
	s->world = w;
	s->name = g_strdup(name ? name : "stack");
	s->data = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, stack_data_free);
	s->drops = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 (GDestroyNotify)g_array_unref);
	s->apush =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
	w->stacks = g_list_append(w->stacks, s);
	return s;
}

void
us_stack_add_teardown(UsStack *s, void (*fn)(gpointer), gpointer data)
{
	UsStackData *d = g_new0(UsStackData, 1);
	d->data = data;
	d->destroy = fn;
	s->teardown = g_slist_prepend(s->teardown, d);
}

static void
stack_close_streams(gpointer data)
{
	UsStack *s = data;
	while (s->teardown) {
		UsStackData *d = s->teardown->data;
		s->teardown = g_slist_delete_link(s->teardown, s->teardown);
		d->destroy(d->data);
		g_free(d);
	}
	while (s->streams)
		us_stream_close(s->streams->data); /* removes itself from the list */
}

void
us_stack_free(UsStack *s)
{
	if (s == NULL)
		return;
	us_world_call(s->world, stack_close_streams, s);
	/* Per-stack subsystem data goes after the streams that used it. */
	g_hash_table_destroy(s->data);
	g_hash_table_destroy(s->drops);
	g_hash_table_destroy(s->apush);
	s->world->stacks = g_list_remove(s->world->stacks, s);
	g_free(s->name);
	g_free(s);
}

UsWorld *
us_stack_world(UsStack *s)
{
	return s->world;
}

const char *
us_stack_name(UsStack *s)
{
	return s->name;
}

UsStack *
us_world_find_stack(UsWorld *w, const char *name)
{
	for (GList *l = w->stacks; l; l = l->next)
		if (g_strcmp0(((UsStack *)l->data)->name, name) == 0)
			return l->data;
	return NULL;
}

void
us_stack_set_data(UsStack *s, const char *key, gpointer data, GDestroyNotify destroy)
{
	UsStackData *d = g_new0(UsStackData, 1);
	d->data = data;
	d->destroy = destroy;
	g_hash_table_replace(s->data, (gpointer)key, d);
}

gpointer
us_stack_get_data(UsStack *s, const char *key)
{
	UsStackData *d = g_hash_table_lookup(s->data, key);
	return d ? d->data : NULL;
}

/* Stream bookkeeping for stream.c */
void
us__stack_add_stream(UsStack *s, UsStream *st)
{
	s->streams = g_list_prepend(s->streams, st);
}

void
us__stack_remove_stream(UsStack *s, UsStream *st)
{
	s->streams = g_list_remove(s->streams, st);
}

/* Drop counters */
GArray *
us__stack_drop_counters(UsStack *s, const char *module, gboolean create)
{
	GArray *a = g_hash_table_lookup(s->drops, module);
	if (a == NULL && create) {
		a = g_array_new(FALSE, TRUE, sizeof(guint64));
		g_hash_table_insert(s->drops, g_strdup(module), a);
	}
	return a;
}

GHashTable *
us__stack_drop_table(UsStack *s)
{
	return s->drops;
}

GHashTable *
us__stack_apush(UsStack *s)
{
	return s->apush;
}

GList *
us__stack_streams(UsStack *s)
{
	return s->streams;
}

void
us_stack_foreach_stream(UsStack *stack, void (*fn)(UsStream *st, gpointer data), gpointer data)
{
	for (GList *l = g_list_last(stack->streams); l != NULL; l = l->prev)
		fn(l->data, data);
}
