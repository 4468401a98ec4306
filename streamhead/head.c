/* SPDX-License-Identifier: MIT */
/*
 * head.c -- the stream head: descriptors, open and close, the head's queue
 * procedures, and how calls wait.
 *
 * Theory
 * ------
 * A descriptor is an eventfd; a process-wide table maps it to its UsHead.
 * The head is the top queue pair of the stream:
 *   read side (put only, no service procedure): keeps data, protocol and
 *     high-priority messages on its queue for read/getmsg (so it is where
 *     upstream flow control ends: canputnext() below sees its QFULL), and
 *     acts on M_ERROR, M_HANGUP, M_UNHANGUP, M_SETOPTS, M_FLUSH, M_SIG,
 *     M_PCSIG and the replies of the ioctl in progress;
 *   write side: put is putnext; the service procedure only runs when a
 *     queue below drains (back-enabling) and wakes blocked writers.
 *
 * System-call-like entry points (us_read, us_write, ...) run "ops" on the
 * world thread with us_world_call().  An op returns a result, -errno, or
 * HEAD_BLOCK when it has to wait; us__head_run() then waits for the head to
 * change (sh_gen) and runs the op again:
 *   - on a world with its own thread: g_cond_wait on sh_cond;
 *   - otherwise the caller drives the world (us_world_run_until); in virtual
 *     time, if nothing can ever change the head, the call fails with EDEADLK.
 * Every head change (a message arrived, an error, a reply, a back-enable, a
 * timer) goes through us__head_changed(), which bumps sh_gen, wakes waiters
 * and makes the eventfd readable or not.
 *
 * Deviations: M_SIG is turned into an S_MSG event on arrival instead of when
 * it reaches the front of the read queue; a second M_PCPROTO arriving while
 * one is waiting at the head is discarded and counted (as SVR4 does).
 */
#define G_LOG_DOMAIN "us-head"

#include "head-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static GMutex us_fd_lock;
static GHashTable *us_fd_table; /* int fd -> UsHead* */

#define US_NOERROR 255 /* M_ERROR byte meaning "leave this side alone" */

enum { HEAD_DROP_PCPROTO, HEAD_DROP_UNEXPECTED, HEAD_DROP_LATE_REPLY };

/* ------------------------------------------------------------------ */
/* Descriptor table                                                   */
/* ------------------------------------------------------------------ */

static void
fd_table_add(UsHead *h)
{
	g_mutex_lock(&us_fd_lock);
	if (us_fd_table == NULL)
		us_fd_table = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_hash_table_insert(us_fd_table, GINT_TO_POINTER(h->sh_fd), h);
	g_mutex_unlock(&us_fd_lock);
}

static void
fd_table_remove(int fd)
{
	g_mutex_lock(&us_fd_lock);
	if (us_fd_table != NULL)
		g_hash_table_remove(us_fd_table, GINT_TO_POINTER(fd));
	g_mutex_unlock(&us_fd_lock);
}

UsHead *
us__head_get(int fd)
{
	g_mutex_lock(&us_fd_lock);
	UsHead *h = us_fd_table ? g_hash_table_lookup(us_fd_table, GINT_TO_POINTER(fd)) : NULL;
	g_mutex_unlock(&us_fd_lock);
	return h;
}

guint
us_fd_count(void)
{
	g_mutex_lock(&us_fd_lock);
	guint n = us_fd_table ? g_hash_table_size(us_fd_table) : 0;
	g_mutex_unlock(&us_fd_lock);
	return n;
}

UsStream *
us_fd_stream(int fd)
{
	UsHead *h = us__head_get(fd);
	return h ? h->sh_st : NULL;
}

UsStack *
us_fd_stack(int fd)
{
	UsHead *h = us__head_get(fd);
	return h ? h->sh_stack : NULL;
}

queue_t *
us__head_rq(UsHead *h)
{
	return us_stream_head_rq(h->sh_st);
}

queue_t *
us__head_wq(UsHead *h)
{
	return us_stream_head_wq(h->sh_st);
}

int
us__errno_ret(int r)
{
	if (r >= 0)
		return r;
	errno = -r;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Change notification and the eventfd                                */
/* ------------------------------------------------------------------ */

gboolean
us__head_has_input(UsHead *h)
{
	return us__head_rq(h)->q_first != NULL || h->sh_rerror || h->sh_werror || h->sh_hangup ||
	       h->sh_sigpending ||
	       (h->sh_hooks != NULL && h->sh_hooks->has_input != NULL && h->sh_hooks->has_input(h));
}

static void
evfd_update(UsHead *h)
{
	if (h->sh_st == NULL)
		return; /* still opening: synced once the open returns */
	gboolean want = h->sh_linked == NULL && us__head_has_input(h);
	if (want == h->sh_evfd_ready || h->sh_fd < 0)
		return;
	if (want) {
		eventfd_write(h->sh_fd, 1);
	} else {
		eventfd_t v;
		eventfd_read(h->sh_fd, &v); /* non-blocking: clears the count */
	}
	h->sh_evfd_ready = want;
}

void
us__head_changed(UsHead *h)
{
	g_mutex_lock(&h->sh_lock);
	h->sh_gen++;
	g_cond_broadcast(&h->sh_cond);
	g_mutex_unlock(&h->sh_lock);
	evfd_update(h);
}

void
us__head_post_sig(UsHead *h, int events)
{
	events &= h->sh_sigmask;
	if (events)
		h->sh_sigpending |= events;
}

/* ------------------------------------------------------------------ */
/* Running ops and waiting                                            */
/* ------------------------------------------------------------------ */

typedef struct {
	UsHead *h;
	int (*op)(UsHead *, gpointer);
	gpointer args;
	int result;
	guint gen; /* sh_gen when the op ran */
} OpCall;

static guint
head_gen(UsHead *h)
{
	g_mutex_lock(&h->sh_lock);
	guint g = h->sh_gen;
	g_mutex_unlock(&h->sh_lock);
	return g;
}

static void
op_on_world(gpointer data)
{
	OpCall *c = data;
	c->gen = head_gen(c->h);
	c->result = c->op(c->h, c->args);
}

static gboolean
gen_moved(gpointer data)
{
	OpCall *c = data;
	return head_gen(c->h) != c->gen;
}

/* Waits until the head changed after the op ran: 0, or -EDEADLK. */
static int
head_wait(OpCall *c)
{
	UsHead *h = c->h;
	UsWorld *w = h->sh_world;
	if (us_world_is_current(w))
		return -EDEADLK; /* an op cannot wait on its own thread */
	if (us_world_has_thread(w)) {
		/* The world's thread changes the head and signals sh_cond. */
		g_mutex_lock(&h->sh_lock);
		while (h->sh_gen == c->gen)
			g_cond_wait(&h->sh_cond, &h->sh_lock);
		g_mutex_unlock(&h->sh_lock);
		return 0;
	}
	if (us_world_run_until(w, gen_moved, c, -1))
		return 0;
	return -EDEADLK;
}

int
us__head_run(UsHead *h, int (*op)(UsHead *h, gpointer args), gpointer args)
{
	OpCall c = { .h = h, .op = op, .args = args };
	for (;;) {
		us_world_call(h->sh_world, op_on_world, &c);
		if (c.result != HEAD_BLOCK)
			return c.result;
		int r = head_wait(&c);
		if (r != 0)
			return r;
	}
}

/* Common checks for calls on a descriptor's stream (world thread). */
int
us__head_check_open(UsHead *h)
{
	if (h->sh_linked != NULL)
		return -EINVAL; /* a stream linked under a multiplexor */
	return 0;
}

/* ------------------------------------------------------------------ */
/* Read side put procedure                                            */
/* ------------------------------------------------------------------ */

static UsHead *
head_of(queue_t *q)
{
	return RD(q)->q_ptr;
}

static void
head_error(UsHead *h, queue_t *rq, mblk_t *mp)
{
	int r, w;
	if (MBLKL(mp) >= 2) {
		r = mp->b_rptr[0];
		w = mp->b_rptr[1];
	} else {
		r = w = MBLKL(mp) ? mp->b_rptr[0] : 0;
	}
	if (r != US_NOERROR)
		h->sh_rerror = r;
	if (w != US_NOERROR)
		h->sh_werror = w;
	freemsg(mp);
	/* The head flushes the sides that now have an error (SVR4 strrput). */
	int flush = (r != US_NOERROR && r ? FLUSHR : 0) | (w != US_NOERROR && w ? FLUSHW : 0);
	if (flush) {
		if (flush & FLUSHR)
			flushq(rq, FLUSHALL);
		putnextctl1(WR(rq), M_FLUSH, flush);
	}
	us__head_post_sig(h, S_ERROR);
}

static void
head_flush(queue_t *rq, mblk_t *mp)
{
	unsigned char how = MBLKL(mp) ? mp->b_rptr[0] : 0;
	if (how & FLUSHR) {
		if ((how & FLUSHBAND) && MBLKL(mp) >= 2)
			flushband(rq, mp->b_rptr[1], FLUSHALL);
		else
			flushq(rq, FLUSHALL);
	}
	if (how & FLUSHW) {
		mp->b_rptr[0] &= ~FLUSHR;
		qreply(rq, mp);
		return;
	}
	freemsg(mp);
}

static void
head_setopts(UsHead *h, queue_t *rq, mblk_t *mp)
{
	if (MBLKL(mp) >= sizeof(struct stroptions)) {
		struct stroptions so;
		memcpy(&so, mp->b_rptr, sizeof so);
		if (so.so_flags & SO_READOPT)
			h->sh_rdopt = so.so_readopt;
		if (so.so_flags & SO_WROFF)
			h->sh_wroff = so.so_wroff;
		if (so.so_flags & SO_MINPSZ)
			strqset(rq, QMINPSZ, 0, so.so_minpsz);
		if (so.so_flags & SO_MAXPSZ)
			strqset(rq, QMAXPSZ, 0, so.so_maxpsz);
		unsigned char band = (so.so_flags & SO_BAND) ? so.so_band : 0;
		if (so.so_flags & SO_HIWAT)
			strqset(rq, QHIWAT, band, (intptr_t)so.so_hiwat);
		if (so.so_flags & SO_LOWAT)
			strqset(rq, QLOWAT, band, (intptr_t)so.so_lowat);
		if (so.so_flags & SO_MREADON)
			h->sh_mread = TRUE;
		if (so.so_flags & SO_MREADOFF)
			h->sh_mread = FALSE;
		if (so.so_flags & SO_ERROPT)
			h->sh_erropt = so.so_erropt;
		if (so.so_flags & SO_MAXBLK)
			h->sh_maxblk = so.so_maxblk;
	}
	freemsg(mp);
}

/* Queues a message for read/getmsg and posts the matching I_SETSIG events. */
static void
head_queue(UsHead *h, queue_t *rq, mblk_t *mp)
{
	if (DB_TYPE(mp) >= QPCTL) {
		if (rq->q_first != NULL && DB_TYPE(rq->q_first) >= QPCTL) {
			h->sh_drops_pcproto++;
			us_drop(rq, mp, HEAD_DROP_PCPROTO);
			return;
		}
		us__head_post_sig(h, S_HIPRI);
	} else {
		int ev = mp->b_band ? S_RDBAND : S_RDNORM;
		if (rq->q_first == NULL)
			ev |= S_INPUT;
		if (mp->b_band && (mp->b_flag & MSGMARK))
			ev |= S_BANDURG;
		us__head_post_sig(h, ev);
	}
	putq(rq, mp);
}

static int
head_rput(queue_t *rq, mblk_t *mp)
{
	UsHead *h = head_of(rq);
	if (h->sh_hooks != NULL && h->sh_hooks->rput != NULL &&
	    (mp = h->sh_hooks->rput(h, mp)) == NULL) {
		us__head_changed(h);
		return 0;
	}
	switch (DB_TYPE(mp)) {
	case M_DATA:
	case M_PROTO:
	case M_PCPROTO: head_queue(h, rq, mp); break;
	case M_ERROR: head_error(h, rq, mp); break;
	case M_HANGUP:
		h->sh_hangup = TRUE;
		us__head_post_sig(h, S_HANGUP);
		freemsg(mp);
		break;
	case M_UNHANGUP:
		h->sh_hangup = FALSE;
		freemsg(mp);
		break;
	case M_SETOPTS: head_setopts(h, rq, mp); break;
	case M_FLUSH: head_flush(rq, mp); break;
	case M_SIG:
	case M_PCSIG:
		us__head_post_sig(h, S_MSG);
		freemsg(mp);
		break;
	case M_IOCACK:
	case M_IOCNAK:
	case M_COPYIN:
	case M_COPYOUT: us__head_ioc_reply(h, mp); break;
	case M_IOCTL:
		/* Nobody above to answer: NAK it back down. */
		miocnak(WR(rq), mp, 0, EINVAL);
		break;
	default: us_drop(rq, mp, HEAD_DROP_UNEXPECTED); break;
	}
	us__head_changed(h);
	return 0;
}

static int
head_wput(queue_t *wq, mblk_t *mp)
{
	putnext(wq, mp);
	return 0;
}

/* Back-enabled when a queue below drained: blocked writers may go on. */
static int
head_wsrv(queue_t *wq)
{
	UsHead *h = head_of(wq);
	us__head_post_sig(h, S_OUTPUT | S_WRBAND);
	us__head_changed(h);
	return 0;
}

static struct module_info head_minfo = {
	.mi_idname = "strhead",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 1024,
};
/* Pushing "strhead" as a module is refused. */
static int
head_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)rq, (void)devp, (void)oflag, (void)sflag, (void)crp;
	return EINVAL;
}

static struct qinit head_rinit = { .qi_putp = head_rput,
				   .qi_qopen = head_open,
				   .qi_minfo = &head_minfo };
static struct qinit head_winit = { .qi_putp = head_wput,
				   .qi_srvp = head_wsrv,
				   .qi_minfo = &head_minfo };
static const UsHeadOps us_head_ops = { .rinit = &head_rinit, .winit = &head_winit };

static const char *const head_drop_reasons[] = {
	"second M_PCPROTO while one waits",
	"unexpected message type",
	"late ioctl reply",
	NULL,
};

/* The head's own descriptor, so us_drop() counts under "strhead". */
static struct streamtab head_tab = { .st_rdinit = &head_rinit, .st_wrinit = &head_winit };
const UsModuleDesc us_strhead_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "strhead",
	.kind = US_KIND_MODULE,
	.summary = "the stream head",
	.streamtab = &head_tab,
	.drop_reasons = head_drop_reasons,
};

/* ------------------------------------------------------------------ */
/* Open                                                               */
/* ------------------------------------------------------------------ */

static UsHead *
head_new(UsStack *stack, int oflag)
{
	UsHead *h = g_new0(UsHead, 1);
	h->sh_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	h->sh_stack = stack;
	h->sh_world = us_stack_world(stack);
	h->sh_oflag = oflag;
	h->sh_rdopt = RNORM | RPROTNORM;
	h->sh_closetime = US_CLOSE_TIME_DEFAULT;
	g_mutex_init(&h->sh_lock);
	g_cond_init(&h->sh_cond);
	return h;
}

/* Heads of a stack still around when the stack is freed (their streams
 * were closed by the stack): freed with it. */
static void
stack_heads_free(gpointer p)
{
	GHashTable *set = p;
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, set);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		UsHead *h = k;
		g_hash_table_iter_remove(&it);
		h->sh_st = NULL;
		h->sh_stack = NULL; /* do not touch the set again */
		us__head_destroy(h);
	}
	g_hash_table_destroy(set);
}

static GHashTable *
stack_heads(UsStack *s)
{
	GHashTable *set = us_stack_get_data(s, "us-heads");
	if (set == NULL) {
		set = g_hash_table_new(g_direct_hash, g_direct_equal);
		us_stack_set_data(s, "us-heads", set, stack_heads_free);
	}
	return set;
}

void
us__head_destroy(UsHead *h)
{
	if (h->sh_hooks != NULL && h->sh_hooks->destroy != NULL)
		h->sh_hooks->destroy(h);
	if (h->sh_stack != NULL)
		g_hash_table_remove(stack_heads(h->sh_stack), h);
	if (h->sh_fd >= 0) {
		fd_table_remove(h->sh_fd);
		close(h->sh_fd);
	}
	freemsg(h->sh_ioc_reply);
	g_list_free(h->sh_links);
	g_mutex_clear(&h->sh_lock);
	g_cond_clear(&h->sh_cond);
	g_free(h);
}

/* Brings the eventfd in line with what arrived during the driver's open. */
static void
head_sync(gpointer data)
{
	us__head_changed(data);
}

int
us_open(UsStack *stack, const char *name, int oflag)
{
	if (stack == NULL || name == NULL) {
		errno = EINVAL;
		return -1;
	}
	UsHead *h = head_new(stack, oflag);
	if (h->sh_fd < 0) {
		int e = errno;
		g_free(h);
		errno = e;
		return -1;
	}
	GError *error = NULL;
	int e = ENXIO; /* no such driver */
	const UsModuleDesc *d = us_registry_lookup(name, &error);
	if (d != NULL)
		h->sh_st = us__stream_open_desc(stack, d, 0, CLONEOPEN, oflag, &us_head_ops, h, &e,
						&error);
	if (h->sh_st == NULL) {
		g_debug("us_open %s: %s", name, error ? error->message : "?");
		g_clear_error(&error);
		us__head_destroy(h);
		errno = e ? e : EIO;
		return -1;
	}
	US_QPAIR(us__head_rq(h))->qp_desc = &us_strhead_desc;
	g_hash_table_add(stack_heads(stack), h);
	fd_table_add(h);
	us_world_call(h->sh_world, head_sync, h);
	return h->sh_fd;
}

/* ------------------------------------------------------------------ */
/* Close                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
	gint64 deadline; /* world time at which close stops waiting */
	guint64 timer;
} CloseArgs;

static gboolean
write_side_empty(UsHead *h)
{
	for (queue_t *q = us__head_wq(h); q != NULL; q = q->q_next)
		if (q->q_first != NULL)
			return FALSE;
	return TRUE;
}

static void
close_timer(gpointer data)
{
	us__head_changed(data);
}

/* Waits (world time) for the write side to drain, up to the close time. */
static int
op_close_drain(UsHead *h, gpointer data)
{
	CloseArgs *a = data;
	if (write_side_empty(h) || h->sh_hangup || (h->sh_oflag & O_NONBLOCK) ||
	    us_world_now(h->sh_world) >= a->deadline) {
		if (a->timer)
			us_world_timer_cancel(h->sh_world, a->timer);
		return 0;
	}
	if (a->timer == 0)
		a->timer = us_world_timer_add(h->sh_world, a->deadline - us_world_now(h->sh_world),
					      close_timer, h);
	return HEAD_BLOCK;
}

static int
op_close_start(UsHead *h, gpointer data)
{
	CloseArgs *a = data;
	a->deadline = us_world_now(h->sh_world) + (gint64)h->sh_closetime * US_NSEC_PER_MSEC;
	return 0;
}

static void
close_stream(gpointer data)
{
	UsHead *h = data;
	us_stream_close(h->sh_st);
	h->sh_st = NULL;
}

int
us_close(int fd)
{
	UsHead *h = us__head_get(fd);
	if (h == NULL) {
		errno = EBADF;
		return -1;
	}
	fd_table_remove(fd);
	if (h->sh_linked != NULL) {
		/* Held by the multiplexor: freed when unlinked. */
		h->sh_fd_closed = TRUE;
		close(h->sh_fd);
		h->sh_fd = -1;
		return 0;
	}
	us__head_unlink_all(h);
	CloseArgs a = { 0 };
	us__head_run(h, op_close_start, &a);
	us__head_run(h, op_close_drain, &a);
	us_world_call(h->sh_world, close_stream, h);
	us__head_destroy(h);
	return 0;
}

/* Closes a stream whose descriptor is already gone (world thread). */
void
us__head_close_orphan(UsHead *h)
{
	us_stream_close(h->sh_st);
	h->sh_st = NULL;
	us__head_destroy(h);
}

/* ------------------------------------------------------------------ */
/* fcntl and signal events                                            */
/* ------------------------------------------------------------------ */

int
us_fcntl(int fd, int cmd, ...)
{
	UsHead *h = us__head_get(fd);
	if (h == NULL) {
		errno = EBADF;
		return -1;
	}
	va_list ap;
	va_start(ap, cmd);
	int arg = cmd == F_SETFL ? va_arg(ap, int) : 0;
	va_end(ap);
	switch (cmd) {
	case F_GETFL: return h->sh_oflag;
	case F_SETFL: h->sh_oflag = (h->sh_oflag & ~O_NONBLOCK) | (arg & O_NONBLOCK); return 0;
	default: errno = EINVAL; return -1;
	}
}

static int
op_getsig(UsHead *h, gpointer data)
{
	(void)data;
	int ev = h->sh_sigpending;
	h->sh_sigpending = 0;
	us__head_changed(h);
	return ev;
}

int
us_getsigevents(int fd)
{
	UsHead *h = us__head_get(fd);
	if (h == NULL) {
		errno = EBADF;
		return -1;
	}
	return us__head_run(h, op_getsig, NULL);
}
