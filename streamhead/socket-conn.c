/* SPDX-License-Identifier: MIT */
/*
 * socket-conn.c -- bind, listen, connect, accept, shutdown, getsockname and
 * getpeername over TPI.
 *
 * Theory
 * ------
 * Each call is a short script of TPI requests (socket-tpi.c sends one and
 * waits for its acknowledgement; the read-side hook in socket.c applies the
 * state changes) and of ops that wait for indications:
 *   bind         T_BIND_REQ(addr, 0) -> T_BIND_ACK
 *   listen       bound: T_UNBIND_REQ -> T_OK_ACK, then T_BIND_REQ(bound
 *                address, backlog); unbound: T_BIND_REQ(any:0, backlog)
 *   connect      datagram: [autobind] [T_DISCON_REQ if connected]
 *                T_CONN_REQ -> T_OK_ACK, wait T_CONN_CON (never EINPROGRESS);
 *                connection: [autobind] T_CONN_REQ -> T_OK_ACK, wait T_CONN_CON
 *                or T_DISCON_IND (SO_SNDTIMEO, O_NONBLOCK -> EINPROGRESS; a
 *                later connect reports the outcome once, as Linux does)
 *                AF_UNSPEC: T_DISCON_REQ -> T_OK_ACK
 *   accept       take a T_CONN_IND from the listener's queue; open the
 *                driver again; T_CAPABILITY_REQ(TC1_ACCEPTOR_ID) on the new
 *                stream; T_CONN_RES(ACCEPTOR_id, SEQ) on the listener
 *   shutdown     SHUT_WR: T_ORDREL_REQ (T_COTS_ORD only); SHUT_RD: local
 *   names        T_ADDR_REQ -> T_ADDR_ACK (what the library knows when the
 *                transport answers TNOTSUPPORT)
 *
 * Deviations: listen() on a listening socket keeps the first backlog; a
 * failed rebind in listen() leaves the socket unbound; accept() returns
 * ECONNABORTED when the indication was withdrawn before T_CONN_RES.
 */
#define G_LOG_DOMAIN "us-socket"

#include "socket-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* bind                                                               */
/* ------------------------------------------------------------------ */

static int
bind_check_unbound(UsSock *so, gpointer arg)
{
	(void)arg;
	return so->so_tstate == TS_UNBND ? 0 : -EINVAL;
}

static int
bind_check_auto(UsSock *so, gpointer arg)
{
	(void)arg;
	return so->so_tstate == TS_UNBND ? 0 : 1; /* bound already: nothing to do */
}

/* Sends T_BIND_REQ(a, conind) when check allows; 0 or -errno. */
static int
sock_bind(UsSock *so, const SockAddr *a, guint conind, int (*check)(UsSock *, gpointer))
{
	mblk_t *req = us__tpi_alloc(sizeof(struct T_bind_req), a->len, M_PROTO, T_BIND_REQ);
	if (req == NULL)
		return -ENOSR;
	struct T_bind_req *br = (struct T_bind_req *)req->b_rptr;
	br->CONIND_number = conind;
	us__tpi_append(req, &a->sa, a->len, &br->ADDR_length, &br->ADDR_offset);
	SockTxn t = { .req = req, .prim = T_BIND_REQ, .check = check };
	int r = us__sock_request(so, &t);
	if (r == 0 && t.ack != NULL)
		r = us__tpi_ack_errno(t.ack);
	freemsg(t.ack);
	return r;
}

int
us__sock_autobind(UsSock *so)
{
	SockAddr any;
	us__sock_addr_any(so, &any);
	return sock_bind(so, &any, 0, bind_check_auto);
}

int
us_bind(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	int err;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	SockAddr a;
	int r = us__sock_addr_in(so, addr, addrlen, &a, FALSE);
	if (r == 0)
		r = sock_bind(so, &a, 0, bind_check_unbound);
	return us__errno_ret(r);
}

/* ------------------------------------------------------------------ */
/* listen                                                             */
/* ------------------------------------------------------------------ */

enum { LISTEN_ALREADY = 1, LISTEN_REBIND, LISTEN_FRESH };

typedef struct {
	SockAddr addr; /* the address to listen on */
} ListenArgs;

static int
listen_plan(UsSock *so, gpointer arg)
{
	ListenArgs *a = arg;
	if (so->so_conind > 0)
		return LISTEN_ALREADY;
	if (so->so_connecting || us__sock_connected(so) || so->so_was_connected ||
	    so->so_tstate == TS_WCON_CREQ)
		return -EINVAL;
	if (so->so_tstate == TS_UNBND) {
		us__sock_addr_any(so, &a->addr);
		return LISTEN_FRESH;
	}
	a->addr = so->so_laddr;
	return LISTEN_REBIND;
}

static int
unbind_check(UsSock *so, gpointer arg)
{
	(void)arg;
	return so->so_tstate == TS_IDLE && so->so_conind == 0 && !so->so_connecting ? 0 : -EINVAL;
}

static int
listen_result(UsSock *so, gpointer arg)
{
	(void)arg;
	return so->so_conind > 0 ? 0 : -EOPNOTSUPP;
}

int
us_listen(int fd, int backlog)
{
	int err;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	if (us__sock_is_dgram(so))
		return us__errno_ret(-EOPNOTSUPP);
	guint conind = (guint)CLAMP(backlog, 1, SOMAXCONN);
	ListenArgs a;
	int r = us__sock_call(so, listen_plan, &a);
	if (r == LISTEN_ALREADY)
		return 0;
	if (r == LISTEN_REBIND) {
		mblk_t *req = us__tpi_alloc(sizeof(struct T_unbind_req), 0, M_PROTO, T_UNBIND_REQ);
		SockTxn t = { .req = req, .prim = T_UNBIND_REQ, .check = unbind_check };
		r = req != NULL ? us__sock_request(so, &t) : -ENOSR;
		if (r == 0 && t.ack != NULL)
			r = us__tpi_ack_errno(t.ack);
		freemsg(t.ack);
		if (r == 0)
			r = LISTEN_FRESH;
	}
	if (r == LISTEN_FRESH) {
		r = sock_bind(so, &a.addr, conind, bind_check_unbound);
		if (r == 0)
			r = us__sock_call(so, listen_result, NULL);
	}
	return us__errno_ret(r);
}

/* ------------------------------------------------------------------ */
/* connect                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
	SockAddr dest;
	SockWait wait;
} ConnArgs;

/* Right before T_CONN_REQ goes: the state must still allow it. */
static int
conn_check(UsSock *so, gpointer arg)
{
	ConnArgs *a = arg;
	if (so->so_tstate == TS_WCON_CREQ)
		return -EALREADY;
	if (so->so_tstate != TS_IDLE || so->so_conind > 0)
		return -EISCONN;
	so->so_faddr = a->dest;
	so->so_connecting = TRUE;
	return 0;
}

static int
conn_send(UsSock *so, ConnArgs *a)
{
	mblk_t *req = us__tpi_alloc(sizeof(struct T_conn_req), a->dest.len, M_PROTO, T_CONN_REQ);
	if (req == NULL)
		return -ENOSR;
	struct T_conn_req *cr = (struct T_conn_req *)req->b_rptr;
	us__tpi_append(req, &a->dest.sa, a->dest.len, &cr->DEST_length, &cr->DEST_offset);
	SockTxn t = { .req = req, .prim = T_CONN_REQ, .check = conn_check, .arg = a };
	int r = us__sock_request(so, &t);
	if (r == 0 && t.ack != NULL)
		r = us__tpi_ack_errno(t.ack);
	freemsg(t.ack);
	return r;
}

/* The connect was refused before it started: forget it. */
static int
conn_forget(UsSock *so, gpointer arg)
{
	(void)arg;
	if (so->so_tstate != TS_WCON_CREQ && !us__sock_connected(so)) {
		so->so_connecting = FALSE;
		so->so_faddr.len = 0;
	}
	return 0;
}

/* Waits for T_CONN_CON or T_DISCON_IND. */
static int
op_conn_wait(UsHead *h, gpointer data)
{
	UsSock *so = h->sh_hook_data;
	ConnArgs *a = data;
	if (us__sock_connected(so)) {
		so->so_connecting = FALSE;
		us__head_changed(h);
		return 0;
	}
	if (so->so_tstate != TS_WCON_CREQ) {
		so->so_connecting = FALSE;
		int e = us__sock_take_error(so);
		us__head_changed(h);
		return -(e ? e : ECONNREFUSED);
	}
	int e = us__sock_stream_error(so, TRUE);
	if (e)
		return -e;
	int r = us__sock_wait(so, &a->wait);
	return r == -EAGAIN ? -EINPROGRESS : r;
}

/* Before a connection-mode connect: reports an outcome not yet reported
 * (1: return 0), refuses (-errno) or lets it go (0). */
static int
conn_precheck(UsSock *so, gpointer arg)
{
	(void)arg;
	if (so->so_connecting) {
		if (so->so_tstate == TS_WCON_CREQ)
			return -EALREADY;
		so->so_connecting = FALSE;
		if (us__sock_connected(so))
			return 1;
		int e = us__sock_take_error(so);
		return -(e ? e : ECONNABORTED);
	}
	if (so->so_conind > 0 || us__sock_connected(so) || so->so_was_connected)
		return -EISCONN;
	return 0;
}

static int
connect_stream(UsSock *so, ConnArgs *a)
{
	int r = us__sock_call(so, conn_precheck, NULL);
	if (r != 0)
		return r > 0 ? 0 : r;
	if ((r = us__sock_autobind(so)) != 0)
		return r;
	if ((r = conn_send(so, a)) != 0) {
		us__sock_call(so, conn_forget, NULL);
		return r;
	}
	us__sock_wait_init(&a->wait, SOCK_WAIT_SND, FALSE);
	r = us__head_run(so->so_head, op_conn_wait, a);
	us__sock_wait_end(so, &a->wait);
	return r;
}

static int
disconnect_check(UsSock *so, gpointer arg)
{
	(void)arg;
	return us__sock_connected(so) || so->so_tstate == TS_WCON_CREQ ? 0 : 1;
}

static int
sock_disconnect(UsSock *so)
{
	mblk_t *req = us__tpi_alloc(sizeof(struct T_discon_req), 0, M_PROTO, T_DISCON_REQ);
	if (req == NULL)
		return -ENOSR;
	((struct T_discon_req *)req->b_rptr)->SEQ_number = -1;
	SockTxn t = { .req = req, .prim = T_DISCON_REQ, .check = disconnect_check };
	int r = us__sock_request(so, &t);
	if (r == 0 && t.ack != NULL)
		r = us__tpi_ack_errno(t.ack);
	freemsg(t.ack);
	return r;
}

static int
connect_dgram(UsSock *so, ConnArgs *a)
{
	int r = us__sock_autobind(so);
	if (r == 0)
		r = sock_disconnect(so); /* a connected datagram socket may reconnect */
	if (r == 0 && (r = conn_send(so, a)) != 0)
		us__sock_call(so, conn_forget, NULL);
	if (r != 0)
		return r;
	/* T_CONN_CON comes at once from a datagram transport: wait for it
	 * whatever O_NONBLOCK says. */
	us__sock_wait_init(&a->wait, SOCK_WAIT_SURE, FALSE);
	return us__head_run(so->so_head, op_conn_wait, a);
}

int
us_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	int err;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	ConnArgs a;
	memset(&a, 0, sizeof a);
	int r = us__sock_addr_in(so, addr, addrlen, &a.dest, TRUE);
	if (r != 0)
		return us__errno_ret(r);
	if (a.dest.sa.ss_family == AF_UNSPEC)
		return us__errno_ret(sock_disconnect(so));
	if (us__sock_is_dgram(so))
		return us__errno_ret(connect_dgram(so, &a));
	return us__errno_ret(connect_stream(so, &a));
}

/* ------------------------------------------------------------------ */
/* accept                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
	SockWait wait;
	mblk_t *ind;      /* the T_CONN_IND taken */
	SockAddr src;     /* its SRC */
	t_scalar_t seq;   /* its SEQ_number */
	UsSock *acceptor; /* the new socket */
} AcceptArgs;

/* Takes the first T_CONN_IND off the listener's queue. */
static int
op_accept_take(UsHead *h, gpointer data)
{
	UsSock *so = h->sh_hook_data;
	AcceptArgs *a = data;
	if (so->so_conind == 0)
		return -EINVAL;
	int e = us__sock_stream_error(so, FALSE);
	if (e)
		return -e;
	queue_t *rq = us__sock_rq(so);
	mblk_t *mp = rq->q_first;
	if (mp == NULL)
		return h->sh_hangup ? -ECONNABORTED : us__sock_wait(so, &a->wait);
	a->ind = getq(rq);
	us__head_changed(h);
	return 0;
}

/* Puts an indication back when no acceptor could be made. */
static int
accept_putback(UsSock *so, gpointer arg)
{
	AcceptArgs *a = arg;
	putbq(us__sock_rq(so), g_steal_pointer(&a->ind));
	us__head_changed(so->so_head);
	return 0;
}

/* The new stream's ACCEPTOR_id (T_CAPABILITY_REQ); 0 or -errno. */
static int
accept_acceptor_id(UsSock *nso, t_uscalar_t *idp)
{
	mblk_t *req =
		us__tpi_alloc(sizeof(struct T_capability_req), 0, M_PCPROTO, T_CAPABILITY_REQ);
	if (req != NULL)
		((struct T_capability_req *)req->b_rptr)->CAP_bits1 = TC1_ACCEPTOR_ID;
	mblk_t *ack = NULL;
	int r = us__sock_simple(nso, req, &ack);
	if (r != 0)
		return r;
	struct T_capability_ack ca;
	if (MBLKL(ack) < sizeof ca) {
		freemsg(ack);
		return -EPROTO;
	}
	memcpy(&ca, ack->b_rptr, sizeof ca);
	freemsg(ack);
	if (!(ca.CAP_bits1 & TC1_ACCEPTOR_ID))
		return -EPROTO;
	*idp = ca.ACCEPTOR_id;
	return 0;
}

/* Makes the acceptor connected before T_CONN_RES goes, so that whatever
 * the transport sends up it right after is taken in that state. */
static int
accept_prepare(UsSock *so, gpointer arg)
{
	AcceptArgs *a = arg;
	UsSock *nso = a->acceptor;
	nso->so_tstate = TS_DATA_XFER;
	nso->so_was_connected = TRUE;
	nso->so_faddr = a->src;
	nso->so_laddr = so->so_laddr;
	return 0;
}

/* T_CONN_RES on the listener; 0 or -errno. */
static int
accept_conn_res(UsSock *so, AcceptArgs *a, t_uscalar_t acceptor_id)
{
	mblk_t *req = us__tpi_alloc(sizeof(struct T_conn_res), 0, M_PROTO, T_CONN_RES);
	if (req == NULL)
		return -ENOSR;
	struct T_conn_res *cr = (struct T_conn_res *)req->b_rptr;
	cr->ACCEPTOR_id = acceptor_id;
	cr->SEQ_number = a->seq;
	SockTxn t = { .req = req, .prim = T_CONN_RES };
	int r = us__sock_request(so, &t);
	if (r == 0 && t.ack != NULL) {
		struct T_error_ack ea = { 0 };
		if (MBLKL(t.ack) >= sizeof ea)
			memcpy(&ea, t.ack->b_rptr, sizeof ea);
		r = ea.PRIM_type == T_ERROR_ACK && ea.TLI_error == TBADSEQ
			    ? -ECONNABORTED
			    : us__tpi_ack_errno(t.ack);
	}
	freemsg(t.ack);
	return r;
}

static void
accept_parse(AcceptArgs *a)
{
	struct T_conn_ind ci = { .SEQ_number = -1 };
	if (MBLKL(a->ind) >= sizeof ci)
		memcpy(&ci, a->ind->b_rptr, sizeof ci);
	a->seq = ci.SEQ_number;
	us__tpi_addr(a->ind, ci.SRC_length, ci.SRC_offset, &a->src);
}

/* Makes the connected socket for a taken indication; fd or -errno. */
static int
accept_finish(UsSock *so, AcceptArgs *a, int nonblock)
{
	UsStack *stack = so->so_head->sh_stack;
	int nfd = us_open(stack, so->so_driver, O_RDWR | nonblock);
	int r = nfd < 0 ? -errno
			: us__sock_setup(nfd, so->so_domain, so->so_type, so->so_protocol,
					 so->so_driver);
	if (r < 0) {
		us__sock_call(so, accept_putback, a); /* a later accept may succeed */
		return r;
	}
	int err;
	a->acceptor = us__sock_get(nfd, &err);
	t_uscalar_t id = 0;
	r = accept_acceptor_id(a->acceptor, &id);
	if (r == 0)
		r = us__sock_call(so, accept_prepare, a);
	if (r == 0)
		r = accept_conn_res(so, a, id);
	if (r != 0) {
		us_close(nfd);
		return r;
	}
	return nfd;
}

int
us_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	int err;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return us__errno_ret(-EINVAL);
	if ((addr != NULL && addrlen == NULL))
		return us__errno_ret(-EFAULT);
	if (addrlen != NULL && (int)*addrlen < 0)
		return us__errno_ret(-EINVAL);
	if (us__sock_is_dgram(so))
		return us__errno_ret(-EOPNOTSUPP);
	AcceptArgs a;
	memset(&a, 0, sizeof a);
	us__sock_wait_init(&a.wait, SOCK_WAIT_RCV, FALSE);
	int r = us__head_run(so->so_head, op_accept_take, &a);
	us__sock_wait_end(so, &a.wait);
	if (r != 0)
		return us__errno_ret(r);
	accept_parse(&a);
	r = accept_finish(so, &a, (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
	freemsg(a.ind);
	if (r >= 0 && addr != NULL)
		us__sock_addr_out(&a.src, addr, addrlen);
	return us__errno_ret(r);
}

int
us_accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return us_accept4(fd, addr, addrlen, 0);
}

/* ------------------------------------------------------------------ */
/* shutdown                                                           */
/* ------------------------------------------------------------------ */

static int
shut_write(UsSock *so)
{
	if (so->so_shut_wr)
		return 0;
	if (!us__sock_is_dgram(so) && so->so_serv == T_COTS_ORD) {
		mblk_t *req = us__tpi_alloc(sizeof(struct T_ordrel_req), 0, M_PROTO, T_ORDREL_REQ);
		if (req == NULL)
			return -ENOSR;
		putnext(us__sock_wq(so), req);
		if (so->so_tstate == TS_DATA_XFER)
			so->so_tstate = TS_WIND_ORDREL;
		else if (so->so_tstate == TS_WREQ_ORDREL)
			so->so_tstate = TS_IDLE;
	}
	so->so_shut_wr = TRUE;
	return 0;
}

static int
shut_op(UsSock *so, gpointer arg)
{
	int how = GPOINTER_TO_INT(arg);
	if (!us__sock_connected(so))
		return -ENOTCONN;
	int e = us__sock_stream_error(so, TRUE);
	if (e && (how == SHUT_WR || how == SHUT_RDWR))
		return -e;
	if (how == SHUT_RD || how == SHUT_RDWR) {
		queue_t *rq = us__sock_rq(so);
		so->so_stats.data_dropped += (guint64)qsize(rq);
		flushq(rq, FLUSHDATA);
		so->so_shut_rd = TRUE;
	}
	int r = 0;
	if (how == SHUT_WR || how == SHUT_RDWR)
		r = shut_write(so);
	us__head_changed(so->so_head);
	return r;
}

int
us_shutdown(int fd, int how)
{
	int err;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return us__errno_ret(-EINVAL);
	return us__errno_ret(us__sock_call(so, shut_op, GINT_TO_POINTER(how)));
}

/* ------------------------------------------------------------------ */
/* getsockname / getpeername                                          */
/* ------------------------------------------------------------------ */

typedef struct {
	gboolean peer;
	SockAddr known; /* what the library knows */
} NameArgs;

static int
name_known(UsSock *so, gpointer arg)
{
	NameArgs *a = arg;
	if (a->peer) {
		if (!us__sock_connected(so))
			return -ENOTCONN;
		a->known = so->so_faddr;
	} else if (so->so_tstate != TS_UNBND && so->so_laddr.len > 0) {
		a->known = so->so_laddr;
	} else {
		us__sock_addr_any(so, &a->known);
	}
	return 0;
}

/* Asks the transport (T_ADDR_REQ); keeps what is known when it cannot. */
static int
name_ask(UsSock *so, NameArgs *a)
{
	mblk_t *ack = NULL;
	int r = us__sock_simple(
		so, us__tpi_alloc(sizeof(struct T_addr_req), 0, M_PROTO, T_ADDR_REQ), &ack);
	if (r == -EOPNOTSUPP)
		return 0;
	if (r != 0)
		return r;
	struct T_addr_ack aa;
	if (MBLKL(ack) >= sizeof aa) {
		memcpy(&aa, ack->b_rptr, sizeof aa);
		SockAddr got;
		if (a->peer)
			us__tpi_addr(ack, aa.REMADDR_length, aa.REMADDR_offset, &got);
		else
			us__tpi_addr(ack, aa.LOCADDR_length, aa.LOCADDR_offset, &got);
		if (got.len > 0)
			a->known = got;
	}
	freemsg(ack);
	return 0;
}

static int
sock_name(int fd, struct sockaddr *addr, socklen_t *addrlen, gboolean peer)
{
	int err;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	if (addrlen == NULL || (addr == NULL && *addrlen > 0))
		return us__errno_ret(-EFAULT);
	if ((int)*addrlen < 0)
		return us__errno_ret(-EINVAL);
	NameArgs a = { .peer = peer };
	int r = us__sock_call(so, name_known, &a);
	if (r == 0)
		r = name_ask(so, &a);
	if (r == 0)
		r = us__sock_addr_out(&a.known, addr, addrlen);
	return us__errno_ret(r);
}

int
us_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return sock_name(fd, addr, addrlen, FALSE);
}

int
us_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return sock_name(fd, addr, addrlen, TRUE);
}
