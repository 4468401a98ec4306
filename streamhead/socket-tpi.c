/* SPDX-License-Identifier: MIT */
/*
 * socket-tpi.c -- the socket library's TPI plumbing: building primitives,
 * sending one request and waiting for its acknowledgement, mapping TLI
 * errors to errno, bounded waits (SO_RCVTIMEO/SO_SNDTIMEO, MSG_DONTWAIT),
 * and user addresses.
 *
 * Theory
 * ------
 * Requests.  A socket has one request in flight at a time (so_req_busy), as
 * a TPI endpoint answers requests in order and sockfs serialises them too.
 * us__sock_request() runs an op that waits for the slot, runs the caller's
 * check with the slot held (so "not bound yet" and sending T_BIND_REQ are
 * one step), sends the request, and then waits until the read-side hook
 * (socket.c) stores the matching acknowledgement in so_ack.  The hook also
 * applies the state change the acknowledgement means, in arrival order, so
 * an indication right behind it (T_CONN_CON after T_OK_ACK) sees it done.
 * An M_ERROR or M_HANGUP ends the wait with its errno.  A caller that cannot
 * wait (EDEADLK) releases the slot; an acknowledgement arriving later finds
 * no request and is dropped (counted as late).
 *
 * Waits.  An op that must wait returns HEAD_BLOCK through us__sock_wait():
 * with MSG_DONTWAIT or O_NONBLOCK it fails with EAGAIN instead; with a
 * timeout it arms a world timer for the deadline (on the world's clock, so
 * virtual time jumps to it) and fails with EAGAIN once it passed.
 *
 * TLI errors (T_ERROR_ACK TLI_error) map to errno as sockfs does: TSYSERR
 * gives UNIX_error; TADDRBUSY EADDRINUSE; TNOADDR EADDRNOTAVAIL; TBADADDR,
 * TOUTSTATE, TBADOPT, TBADF, TBADFLAG, TBADSEQ... EINVAL (option requests
 * re-map TBADOPT, socket-opt.c); TACCES EACCES; TNOTSUPPORT EOPNOTSUPP;
 * TFLOW EAGAIN; TBADDATA EMSGSIZE; anything else EPROTO.
 */
#define G_LOG_DOMAIN "us-socket"

#include "socket-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Building and reading primitives                                    */
/* ------------------------------------------------------------------ */

mblk_t *
us__tpi_alloc(size_t size, size_t room, unsigned char type, t_scalar_t prim)
{
	/* room for appended parts, each padded to the TPI alignment */
	mblk_t *mp = allocb(size + room + 2 * __TPI_ALIGN_SIZE, BPRI_MED);
	if (mp == NULL)
		return NULL;
	DB_TYPE(mp) = type;
	memset(mp->b_rptr, 0, size);
	memcpy(mp->b_rptr, &prim, sizeof prim);
	mp->b_wptr = mp->b_rptr + size;
	return mp;
}

void
us__tpi_append(mblk_t *mp, const void *buf, size_t len, t_scalar_t *lenp, t_scalar_t *offp)
{
	size_t off = _TPI_ALIGN_OPT(MBLKL(mp));
	g_assert(mp->b_rptr + off + len <= mp->b_datap->db_lim);
	memset(mp->b_wptr, 0, off - MBLKL(mp));
	memcpy(mp->b_rptr + off, buf, len);
	mp->b_wptr = mp->b_rptr + off + len;
	*lenp = (t_scalar_t)len;
	*offp = len > 0 ? (t_scalar_t)off : 0;
}

const unsigned char *
us__tpi_part(const mblk_t *mp, t_scalar_t len, t_scalar_t off)
{
	if (len <= 0 || off < 0 || (size_t)off > MBLKL(mp) || (size_t)len > MBLKL(mp) - (size_t)off)
		return NULL;
	return mp->b_rptr + off;
}

void
us__tpi_addr(const mblk_t *mp, t_scalar_t len, t_scalar_t off, SockAddr *out)
{
	const unsigned char *p = us__tpi_part(mp, len, off);
	out->len = 0;
	if (p == NULL || (size_t)len > sizeof out->sa)
		return;
	memset(&out->sa, 0, sizeof out->sa);
	memcpy(&out->sa, p, (size_t)len);
	out->len = (socklen_t)len;
}

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

int
us__tli_errno(t_scalar_t tli, t_scalar_t unix_error)
{
	switch (tli) {
	case TSYSERR: return unix_error > 0 ? unix_error : EPROTO;
	case TADDRBUSY: return EADDRINUSE;
	case TNOADDR: return EADDRNOTAVAIL;
	case TACCES: return EACCES;
	case TNOTSUPPORT: return EOPNOTSUPP;
	case TFLOW: return EAGAIN;
	case TBADDATA: return EMSGSIZE;
	case TBADADDR:
	case TOUTSTATE:
	case TBADOPT:
	case TBADF:
	case TBADFLAG:
	case TBADSEQ:
	case TBADQLEN:
	case TRESQLEN:
	case TRESADDR:
	case TPROVMISMATCH:
	case TINDOUT: return EINVAL;
	default: return EPROTO;
	}
}

int
us__tpi_ack_errno(const mblk_t *ack)
{
	struct T_error_ack ea;
	if (MBLKL(ack) < sizeof(t_scalar_t))
		return -EPROTO;
	memcpy(&ea.PRIM_type, ack->b_rptr, sizeof ea.PRIM_type);
	if (ea.PRIM_type != T_ERROR_ACK)
		return 0;
	if (MBLKL(ack) < sizeof ea)
		return -EPROTO;
	memcpy(&ea, ack->b_rptr, sizeof ea);
	return -us__tli_errno(ea.TLI_error, ea.UNIX_error);
}

int
us__sock_stream_error(UsSock *so, gboolean writing)
{
	UsHead *h = so->so_head;
	if (h->sh_hangup)
		return writing ? ENXIO : 0;
	int e = writing ? h->sh_werror : h->sh_rerror;
	if (e && (h->sh_erropt & (writing ? WERRNONPERSIST : RERRNONPERSIST))) {
		if (writing)
			h->sh_werror = 0;
		else
			h->sh_rerror = 0;
	}
	return e;
}

/* ------------------------------------------------------------------ */
/* One request, one acknowledgement                                   */
/* ------------------------------------------------------------------ */

/* Frees the request slot and wakes whoever waits for it. */
static void
txn_release(UsSock *so)
{
	so->so_req_busy = FALSE;
	freemsg(so->so_ack);
	so->so_ack = NULL;
	us__head_changed(so->so_head);
}

/* An M_ERROR/M_HANGUP ends requests: the transport will not answer. */
static int
txn_stream_error(UsSock *so)
{
	UsHead *h = so->so_head;
	if (h->sh_hangup)
		return ENXIO;
	return h->sh_werror ? h->sh_werror : h->sh_rerror;
}

static int
txn_send(UsSock *so, SockTxn *t)
{
	int e = txn_stream_error(so);
	if (e)
		return -e;
	if (so->so_req_busy)
		return HEAD_BLOCK; /* one request at a time */
	if (t->check != NULL) {
		int r = t->check(so, t->arg);
		if (r != 0)
			return r < 0 ? r : 1;
	}
	so->so_req_busy = TRUE;
	so->so_req_prim = t->prim;
	t->sent = TRUE;
	putnext(us__sock_wq(so), g_steal_pointer(&t->req));
	return 0;
}

static int
op_txn(UsHead *h, gpointer data)
{
	UsSock *so = h->sh_hook_data;
	SockTxn *t = data;
	if (!t->sent) {
		int r = txn_send(so, t);
		if (r != 0)
			return r > 0 ? 0 : r;
	}
	if (so->so_ack != NULL) {
		t->ack = g_steal_pointer(&so->so_ack);
		txn_release(so);
		return 0;
	}
	int e = txn_stream_error(so);
	if (e) {
		txn_release(so);
		return -e;
	}
	return HEAD_BLOCK;
}

/* The caller could not wait (EDEADLK): give the slot back. */
static int
op_txn_abandon(UsHead *h, gpointer data)
{
	UsSock *so = h->sh_hook_data;
	SockTxn *t = data;
	if (t->sent && so->so_req_busy)
		txn_release(so);
	return 0;
}

int
us__sock_request(UsSock *so, SockTxn *t)
{
	t->sent = FALSE;
	t->ack = NULL;
	int r = us__head_run(so->so_head, op_txn, t);
	if (r == -EDEADLK)
		us__head_run(so->so_head, op_txn_abandon, t);
	freemsg(t->req); /* not sent: refused or skipped */
	t->req = NULL;
	return r;
}

int
us__sock_simple(UsSock *so, mblk_t *req, mblk_t **ackp)
{
	if (req == NULL)
		return -ENOSR;
	t_scalar_t prim;
	memcpy(&prim, req->b_rptr, sizeof prim);
	SockTxn t = { .req = req, .prim = prim };
	int r = us__sock_request(so, &t);
	if (r == 0 && t.ack != NULL)
		r = us__tpi_ack_errno(t.ack);
	if (ackp != NULL && r == 0)
		*ackp = g_steal_pointer(&t.ack);
	freemsg(t.ack);
	return r;
}

/* ------------------------------------------------------------------ */
/* Bounded waits                                                      */
/* ------------------------------------------------------------------ */

void
us__sock_wait_init(SockWait *w, SockWaitKind kind, gboolean dontwait)
{
	memset(w, 0, sizeof *w);
	w->kind = kind;
	w->dontwait = dontwait;
}

/* Reads the socket's timeout and O_NONBLOCK at the first wait (world
 * thread, where they change). */
static void
wait_start(UsSock *so, SockWait *w)
{
	w->started = TRUE;
	if (w->kind == SOCK_WAIT_SURE) {
		w->timeo = SOCK_TIMEO_FOREVER;
		return;
	}
	w->timeo = w->kind == SOCK_WAIT_RCV ? so->so_rcvtimeo : so->so_sndtimeo;
	w->nonblock = w->dontwait || w->timeo == SOCK_TIMEO_NOWAIT ||
		      (so->so_head->sh_oflag & O_NONBLOCK) != 0;
}

static void
wait_timer(gpointer data)
{
	us__head_changed(data);
}

int
us__sock_wait(UsSock *so, SockWait *w)
{
	if (!w->started)
		wait_start(so, w);
	if (w->nonblock)
		return -EAGAIN;
	if (w->timeo <= 0)
		return HEAD_BLOCK;
	UsWorld *world = us__sock_world(so);
	gint64 now = us_world_now(world);
	if (w->deadline == 0)
		w->deadline = now + w->timeo;
	if (now >= w->deadline)
		return -EAGAIN;
	if (w->timer == 0)
		w->timer = us_world_timer_add(world, w->deadline - now, wait_timer, so->so_head);
	return HEAD_BLOCK;
}

static void
wait_cancel(gpointer data)
{
	gpointer *pair = data;
	us_world_timer_cancel(pair[0], *(guint64 *)pair[1]);
}

void
us__sock_wait_end(UsSock *so, SockWait *w)
{
	if (w->timer == 0)
		return;
	gpointer pair[2] = { us__sock_world(so), &w->timer };
	us_world_call(pair[0], wait_cancel, pair);
	w->timer = 0;
}

/* ------------------------------------------------------------------ */
/* Addresses                                                          */
/* ------------------------------------------------------------------ */

/* Size of the domain's socket address (what TPI carries). */
static socklen_t
domain_addr_len(int domain)
{
	switch (domain) {
	case AF_INET: return sizeof(struct sockaddr_in);
	case AF_INET6: return sizeof(struct sockaddr_in6);
	default: return sizeof(sa_family_t);
	}
}

void
us__sock_addr_any(const UsSock *so, SockAddr *out)
{
	memset(out, 0, sizeof *out);
	out->sa.ss_family = (sa_family_t)so->so_domain;
	out->len = domain_addr_len(so->so_domain);
}

int
us__sock_addr_in(const UsSock *so, const struct sockaddr *sa, socklen_t len, SockAddr *out,
		 gboolean unspec_ok)
{
	if (sa == NULL)
		return -EFAULT;
	if ((int)len < 0 || len > sizeof out->sa)
		return -EINVAL;
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	memset(out, 0, sizeof *out);
	memcpy(&out->sa, sa, len);
	if (out->sa.ss_family == AF_UNSPEC && unspec_ok) {
		out->len = len;
		return 0;
	}
	socklen_t need = domain_addr_len(so->so_domain);
	if (len < need)
		return -EINVAL;
	if (out->sa.ss_family != so->so_domain) {
		/* Linux accepts AF_UNSPEC with INADDR_ANY as AF_INET for bind. */
		const struct sockaddr_in *in = (const struct sockaddr_in *)&out->sa;
		if (so->so_domain != AF_INET || out->sa.ss_family != AF_UNSPEC ||
		    in->sin_addr.s_addr != htonl(INADDR_ANY))
			return -EAFNOSUPPORT;
		out->sa.ss_family = AF_INET;
	}
	if (so->so_domain == AF_INET)
		memset(((struct sockaddr_in *)&out->sa)->sin_zero, 0, 8);
	out->len = need;
	return 0;
}

int
us__sock_addr_out(const SockAddr *a, struct sockaddr *addr, socklen_t *lenp)
{
	if (lenp == NULL)
		return addr == NULL ? 0 : -EFAULT;
	if ((int)*lenp < 0)
		return -EINVAL;
	if (addr == NULL && *lenp > 0)
		return -EFAULT;
	if (*lenp > 0)
		memcpy(addr, &a->sa, MIN(*lenp, a->len));
	*lenp = a->len;
	return 0;
}
