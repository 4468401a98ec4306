/* SPDX-License-Identifier: MIT */
/*
 * socket.c -- sockets over the stream head: creation, the per-socket state,
 * and the TPI state machine that runs where messages arrive at the head.
 *
 * Theory
 * ------
 * A socket is a stream-head descriptor whose head carries the socket
 * library's hooks (UsHeadHooks, head-internal.h) and a UsSock.  Like Solaris
 * sockfs over a TPI transport, the library speaks TPI to whatever driver the
 * transport table (socket-table.c) names for (domain, type, protocol):
 *
 *   socket       open; [SOCK_RAW: T_SVR4_OPTMGMT_REQ US_SO_PROTOTYPE];
 *                T_INFO_REQ -> T_INFO_ACK (service type, TSDU/ETSDU/TIDU
 *                sizes, state), checked against the socket type
 *   bind         T_BIND_REQ(addr, CONIND 0) -> T_BIND_ACK | T_ERROR_ACK
 *   listen       [T_UNBIND_REQ -> T_OK_ACK] T_BIND_REQ(addr, CONIND backlog)
 *   connect      [T_BIND_REQ(any:0)] T_CONN_REQ -> T_OK_ACK; T_CONN_CON or
 *                T_DISCON_IND; AF_UNSPEC: T_DISCON_REQ -> T_OK_ACK
 *   accept       T_CONN_IND on the listener; new stream; on it
 *                T_CAPABILITY_REQ -> ACCEPTOR_id; T_CONN_RES -> T_OK_ACK
 *   send         T_UNITDATA_REQ (datagrams), M_DATA (connections),
 *                T_EXDATA_REQ (MSG_OOB)
 *   receive      T_UNITDATA_IND, M_DATA/T_DATA_IND, T_EXDATA_IND
 *   errors/EOF   T_UDERROR_IND, T_DISCON_IND, T_ORDREL_IND
 *   shutdown     T_ORDREL_REQ
 *   names        T_ADDR_REQ -> T_ADDR_ACK
 *   options      T_SVR4_OPTMGMT_REQ -> T_OPTMGMT_ACK (socket-opt.c)
 *
 * The read-side hook (sock_rput, on the world thread) sees every message
 * before the head does and keeps the socket's state as the transport
 * reports it, in arrival order:
 *   - acknowledgements (M_PCPROTO) of the request in flight are taken into
 *     so_ack and their state change applied (T_BIND_ACK: bound; T_OK_ACK of
 *     T_CONN_REQ: connecting, of T_DISCON_REQ: idle, of T_UNBIND_REQ:
 *     unbound); others are late and dropped;
 *   - T_CONN_CON: connected; T_DISCON_IND: the pending error (a refused or
 *     reset connection; or a withdrawn T_CONN_IND, removed from the queue);
 *     T_ORDREL_IND: end of data; T_UDERROR_IND: the pending error of a
 *     connected datagram socket, dropped otherwise;
 *   - T_DATA_IND and T_OPTDATA_IND become M_DATA; T_EXDATA_IND's last byte
 *     is the out-of-band byte (the rest is ordinary data, as with TCP's
 *     urgent pointer);
 *   - what remains for the head to queue: M_DATA, T_UNITDATA_IND (a
 *     datagram with its source) and T_CONN_IND on listeners.  Keeping them
 *     on the head's queue keeps the head's flow control and makes the
 *     eventfd and POLLIN work unchanged.
 * Calls run ops on the world thread (us__head_run) that read this state and
 * the queue, send requests (socket-tpi.c) and wait the head's way.
 *
 * State per socket (UsSock, socket-internal.h): the TPI state followed from
 * acks and indications (so_tstate), the listen queue granted, local and
 * peer addresses, whether a connect is outstanding or a connection ever
 * existed, the pending error, EOF and shutdown flags, the out-of-band byte,
 * timeouts, the one request in flight and counters.
 *
 * Deviations (see docs/sockets.md for the whole list): no control messages
 * (ancillary data); one out-of-band byte without a mark position; SIGPIPE is
 * never raised; the transport table is per process.
 */
#define G_LOG_DOMAIN "us-socket"

#include "socket-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

static const UsHeadHooks sock_hooks;

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

UsWorld *
us__sock_world(UsSock *so)
{
	return so->so_head->sh_world;
}

queue_t *
us__sock_wq(UsSock *so)
{
	return us__head_wq(so->so_head);
}

queue_t *
us__sock_rq(UsSock *so)
{
	return us__head_rq(so->so_head);
}

gboolean
us__sock_is_dgram(const UsSock *so)
{
	return so->so_serv == T_CLTS;
}

gboolean
us__sock_connected(const UsSock *so)
{
	if (us__sock_is_dgram(so))
		return so->so_tstate == TS_DATA_XFER;
	return so->so_tstate == TS_DATA_XFER || so->so_tstate == TS_WIND_ORDREL ||
	       so->so_tstate == TS_WREQ_ORDREL;
}

int
us__sock_take_error(UsSock *so)
{
	int e = so->so_error;
	so->so_error = 0;
	if (e)
		us__head_changed(so->so_head);
	return e;
}

UsSock *
us__sock_get(int fd, int *err)
{
	UsHead *h = us__head_get(fd);
	if (h == NULL) {
		*err = -EBADF;
		return NULL;
	}
	if (h->sh_hooks != &sock_hooks) {
		*err = -ENOTSOCK;
		return NULL;
	}
	return h->sh_hook_data;
}

typedef struct {
	int (*fn)(UsSock *so, gpointer arg);
	gpointer arg;
} SockCall;

static int
op_call(UsHead *h, gpointer data)
{
	SockCall *c = data;
	return c->fn(h->sh_hook_data, c->arg);
}

int
us__sock_call(UsSock *so, int (*fn)(UsSock *so, gpointer arg), gpointer arg)
{
	SockCall c = { fn, arg };
	return us__head_run(so->so_head, op_call, &c);
}

/* Counts a discarded message (consumed) and logs the first of each kind. */
static void
sock_discard(UsSock *so, mblk_t *mp, guint64 *counter, const char *why)
{
	if ((*counter)++ == 0)
		g_debug("socket %d: discarding %s", so->so_head->sh_fd, why);
	freemsg(mp);
}

static t_scalar_t
prim_of(const mblk_t *mp)
{
	t_scalar_t prim = -1;
	if (MBLKL(mp) >= sizeof prim)
		memcpy(&prim, mp->b_rptr, sizeof prim);
	return prim;
}

/* A plausible errno from a transport's DISCON_reason/ERROR_type. */
static int
reason_errno(t_scalar_t reason, int fallback)
{
	return reason > 0 && reason < 4096 ? reason : fallback;
}

/* ------------------------------------------------------------------ */
/* Acknowledgements                                                   */
/* ------------------------------------------------------------------ */

/* TRUE if mp answers the request in flight. */
static gboolean
ack_matches(const UsSock *so, t_scalar_t prim, const mblk_t *mp)
{
	if (!so->so_req_busy || so->so_ack != NULL)
		return FALSE;
	t_scalar_t req = so->so_req_prim;
	t_scalar_t which; /* CORRECT_prim / ERROR_prim */
	switch (prim) {
	case T_OK_ACK:
	case T_ERROR_ACK:
		if (MBLKL(mp) < 2 * sizeof(t_scalar_t))
			return FALSE;
		memcpy(&which, mp->b_rptr + sizeof(t_scalar_t), sizeof which);
		return which == req;
	case T_BIND_ACK: return req == T_BIND_REQ || req == O_T_BIND_REQ;
	case T_INFO_ACK: return req == T_INFO_REQ;
	case T_ADDR_ACK: return req == T_ADDR_REQ;
	case T_OPTMGMT_ACK: return req == T_SVR4_OPTMGMT_REQ || req == T_OPTMGMT_REQ;
	case T_CAPABILITY_ACK: return req == T_CAPABILITY_REQ;
	default: return FALSE;
	}
}

static void
ack_bind(UsSock *so, const mblk_t *mp)
{
	struct T_bind_ack ba;
	if (MBLKL(mp) < sizeof ba)
		return;
	memcpy(&ba, mp->b_rptr, sizeof ba);
	so->so_tstate = TS_IDLE;
	so->so_conind = ba.CONIND_number;
	SockAddr a;
	us__tpi_addr(mp, ba.ADDR_length, ba.ADDR_offset, &a);
	if (a.len > 0)
		so->so_laddr = a;
}

/* T_DISCON_REQ succeeded: back to bound and idle (Linux lets a socket
 * disconnected with AF_UNSPEC connect again). */
static void
ack_disconnected(UsSock *so)
{
	so->so_tstate = TS_IDLE;
	so->so_faddr.len = 0;
	so->so_connecting = FALSE;
	if (!us__sock_is_dgram(so)) {
		so->so_was_connected = FALSE;
		so->so_rcv_eof = so->so_shut_rd = so->so_shut_wr = FALSE;
		flushq(us__sock_rq(so), FLUSHDATA);
	}
}

static void
ack_ok(UsSock *so)
{
	switch (so->so_req_prim) {
	case T_CONN_REQ: so->so_tstate = TS_WCON_CREQ; break;
	case T_DISCON_REQ: ack_disconnected(so); break;
	case T_UNBIND_REQ:
		so->so_tstate = TS_UNBND;
		so->so_conind = 0;
		so->so_laddr.len = 0;
		break;
	default: break;
	}
}

static void
sock_ack_in(UsSock *so, t_scalar_t prim, mblk_t *mp)
{
	if (!ack_matches(so, prim, mp)) {
		sock_discard(so, mp, &so->so_stats.late_acks, "an acknowledgement nobody awaits");
		return;
	}
	if (prim == T_BIND_ACK)
		ack_bind(so, mp);
	else if (prim == T_OK_ACK)
		ack_ok(so);
	so->so_ack = mp;
}

/* ------------------------------------------------------------------ */
/* Indications                                                        */
/* ------------------------------------------------------------------ */

/* Data for the head to queue, or NULL when shutdown(SHUT_RD) drops it. */
static mblk_t *
sock_data_in(UsSock *so, mblk_t *mp)
{
	if (so->so_shut_rd) {
		sock_discard(so, mp, &so->so_stats.data_dropped, "data after SHUT_RD");
		return NULL;
	}
	return mp;
}

/* Strips the primitive in front of data (T_DATA_IND, T_CONN_CON ...). */
static mblk_t *
sock_strip_proto(UsSock *so, mblk_t *mp)
{
	mblk_t *data = unlinkb(mp);
	freeb(mp);
	if (data == NULL)
		return NULL;
	return sock_data_in(so, data);
}

/* T_EXDATA_IND: the last byte is the out-of-band byte, any before it is
 * ordinary data (TCP urgent data as Linux presents it). */
static mblk_t *
sock_exdata_in(UsSock *so, mblk_t *mp)
{
	mblk_t *data = unlinkb(mp);
	freeb(mp);
	size_t n = msgdsize(data);
	if (n == 0 || so->so_shut_rd) {
		if (data != NULL)
			sock_discard(so, data, &so->so_stats.data_dropped, "expedited data");
		return NULL;
	}
	unsigned char last;
	us_msgcopyout(data, n - 1, &last, 1);
	so->so_oob = last;
	if (n == 1) {
		freemsg(data);
		return NULL;
	}
	adjmsg(data, -1);
	return data;
}

static mblk_t *
sock_conn_con_in(UsSock *so, mblk_t *mp)
{
	struct T_conn_con cc;
	if (MBLKL(mp) >= sizeof cc) {
		memcpy(&cc, mp->b_rptr, sizeof cc);
		SockAddr a;
		us__tpi_addr(mp, cc.RES_length, cc.RES_offset, &a);
		if (a.len > 0)
			so->so_faddr = a;
	}
	so->so_tstate = TS_DATA_XFER;
	so->so_was_connected = !us__sock_is_dgram(so);
	return sock_strip_proto(so, mp);
}

/* Removes the T_CONN_IND numbered seq from the listener's queue. */
static void
sock_conind_withdraw(UsSock *so, t_scalar_t seq)
{
	queue_t *rq = us__sock_rq(so);
	for (mblk_t *ind = rq->q_first; ind != NULL; ind = ind->b_next) {
		struct T_conn_ind ci;
		if (prim_of(ind) != T_CONN_IND || MBLKL(ind) < sizeof ci)
			continue;
		memcpy(&ci, ind->b_rptr, sizeof ci);
		if (ci.SEQ_number == seq) {
			rmvq(rq, ind);
			sock_discard(so, ind, &so->so_stats.conind_withdrawn,
				     "a withdrawn T_CONN_IND");
			return;
		}
	}
}

static void
sock_discon_in(UsSock *so, mblk_t *mp)
{
	struct T_discon_ind di = { .SEQ_number = -1 };
	if (MBLKL(mp) >= sizeof di)
		memcpy(&di, mp->b_rptr, sizeof di);
	if (so->so_conind > 0 && di.SEQ_number != -1) {
		sock_conind_withdraw(so, di.SEQ_number);
		freemsg(mp);
		return;
	}
	if (so->so_tstate == TS_WCON_CREQ) {
		so->so_error = reason_errno(di.DISCON_reason, ECONNREFUSED);
	} else if (us__sock_connected(so)) {
		so->so_error = reason_errno(di.DISCON_reason, ECONNRESET);
		so->so_rcv_eof = TRUE;
	} else {
		sock_discard(so, mp, &so->so_stats.unexpected, "T_DISCON_IND out of state");
		return;
	}
	so->so_tstate = TS_IDLE;
	freemsg(mp);
}

static void
sock_ordrel_in(UsSock *so, mblk_t *mp)
{
	freemsg(mp);
	so->so_rcv_eof = TRUE;
	if (so->so_tstate == TS_DATA_XFER)
		so->so_tstate = TS_WREQ_ORDREL;
	else if (so->so_tstate == TS_WIND_ORDREL)
		so->so_tstate = TS_IDLE;
}

/* A datagram could not be delivered: Linux reports it only on a connected
 * socket, as the error of its next call. */
static void
sock_uderror_in(UsSock *so, mblk_t *mp)
{
	struct T_uderror_ind ue;
	if (!us__sock_is_dgram(so) || so->so_tstate != TS_DATA_XFER || MBLKL(mp) < sizeof ue) {
		sock_discard(so, mp, &so->so_stats.uderror_dropped,
			     "T_UDERROR_IND (not connected)");
		return;
	}
	memcpy(&ue, mp->b_rptr, sizeof ue);
	so->so_error = reason_errno(ue.ERROR_type, EIO);
	so->so_stats.uderror_pending++;
	freemsg(mp);
}

static mblk_t *
sock_optdata_in(UsSock *so, mblk_t *mp)
{
	struct T_optdata_ind od = { 0 };
	if (MBLKL(mp) >= sizeof od)
		memcpy(&od, mp->b_rptr, sizeof od);
	if (od.DATA_flag & T_ODF_EX)
		return sock_exdata_in(so, mp);
	return sock_strip_proto(so, mp);
}

/* M_PROTO/M_PCPROTO from the transport. */
static mblk_t *
sock_proto_in(UsSock *so, mblk_t *mp)
{
	t_scalar_t prim = prim_of(mp);
	switch (prim) {
	case T_OK_ACK:
	case T_ERROR_ACK:
	case T_BIND_ACK:
	case T_INFO_ACK:
	case T_ADDR_ACK:
	case T_OPTMGMT_ACK:
	case T_CAPABILITY_ACK: sock_ack_in(so, prim, mp); return NULL;
	case T_UNITDATA_IND: return sock_data_in(so, mp);
	case T_DATA_IND: return sock_strip_proto(so, mp);
	case T_OPTDATA_IND: return sock_optdata_in(so, mp);
	case T_EXDATA_IND: return sock_exdata_in(so, mp);
	case T_CONN_CON: return sock_conn_con_in(so, mp);
	case T_DISCON_IND: sock_discon_in(so, mp); return NULL;
	case T_ORDREL_IND: sock_ordrel_in(so, mp); return NULL;
	case T_UDERROR_IND: sock_uderror_in(so, mp); return NULL;
	case T_CONN_IND:
		if (so->so_conind > 0)
			return mp; /* waits on the queue for accept */
		break;
	default: break;
	}
	sock_discard(so, mp, &so->so_stats.unexpected, "an unexpected primitive");
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Head hooks                                                         */
/* ------------------------------------------------------------------ */

static mblk_t *
sock_rput(UsHead *h, mblk_t *mp)
{
	UsSock *so = h->sh_hook_data;
	switch (DB_TYPE(mp)) {
	case M_DATA: return sock_data_in(so, mp);
	case M_PROTO:
	case M_PCPROTO: return sock_proto_in(so, mp);
	default: return mp; /* M_ERROR, M_SETOPTS, M_FLUSH ...: the head's */
	}
}

static gboolean
sock_has_input(UsHead *h)
{
	UsSock *so = h->sh_hook_data;
	return so->so_error != 0 || so->so_rcv_eof || so->so_shut_rd || so->so_oob >= 0 ||
	       (so->so_connecting && so->so_tstate != TS_WCON_CREQ);
}

/* Poll events as Linux reports them for sockets. */
static short
sock_revents(UsHead *h, short events, short rev)
{
	UsSock *so = h->sh_hook_data;
	const short out = POLLOUT | POLLWRNORM | POLLWRBAND;
	if (so->so_error)
		rev |= POLLERR;
	if (so->so_rcv_eof || so->so_shut_rd)
		rev |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (so->so_oob >= 0)
		rev |= POLLPRI;
	if (so->so_conind > 0)
		rev &= ~out; /* a listener is never writable */
	if (!us__sock_is_dgram(so)) {
		if (so->so_tstate == TS_WCON_CREQ)
			rev &= ~out; /* writable once connected or failed */
		else if ((so->so_tstate == TS_UNBND || so->so_tstate == TS_IDLE) &&
			 so->so_conind == 0)
			rev |= POLLHUP; /* not (or no longer) connected */
	}
	if (so->so_shut_wr && (so->so_shut_rd || so->so_rcv_eof))
		rev |= POLLHUP;
	return rev & (events | POLLERR | POLLHUP | POLLNVAL);
}

static void
sock_destroy(UsHead *h)
{
	UsSock *so = h->sh_hook_data;
	h->sh_hook_data = NULL;
	if (so == NULL)
		return;
	freemsg(so->so_ack);
	g_free(so->so_driver);
	g_free(so);
}

static const UsHeadHooks sock_hooks = {
	.rput = sock_rput,
	.has_input = sock_has_input,
	.revents = sock_revents,
	.readv = us__sock_readv,
	.writev = us__sock_writev,
	.destroy = sock_destroy,
};

/* ------------------------------------------------------------------ */
/* Creation                                                           */
/* ------------------------------------------------------------------ */

static void
sock_attach(gpointer data)
{
	UsSock *so = data;
	so->so_head->sh_hook_data = so;
	so->so_head->sh_hooks = &sock_hooks;
	us__head_changed(so->so_head);
}

/* SOCK_RAW: tells the transport the protocol (Solaris SO_PROTOTYPE). */
static int
sock_prototype(UsSock *so)
{
	int proto = so->so_protocol;
	if (us_setsockopt(so->so_head->sh_fd, SOL_SOCKET, US_SO_PROTOTYPE, &proto, sizeof proto) ==
	    0)
		return 0;
	return errno == ENOPROTOOPT ? -EPROTONOSUPPORT : -errno;
}

/* Does the transport's service type fit the socket type? */
static gboolean
serv_fits(int type, t_scalar_t serv)
{
	if (type == SOCK_STREAM || type == SOCK_SEQPACKET)
		return serv == T_COTS || serv == T_COTS_ORD;
	return serv == T_CLTS;
}

/* Takes in the T_INFO_ACK (world thread). */
static int
sock_info_apply(UsSock *so, gpointer arg)
{
	const struct T_info_ack *ia = arg;
	so->so_serv = ia->SERV_type;
	so->so_tsdu = ia->TSDU_size;
	so->so_etsdu = ia->ETSDU_size;
	so->so_tidu = ia->TIDU_size;
	so->so_addr_size = ia->ADDR_size;
	so->so_opt_size = ia->OPT_size;
	so->so_tstate = ia->CURRENT_state >= 0 && ia->CURRENT_state < TS_NOSTATES
				? ia->CURRENT_state
				: TS_UNBND;
	return 0;
}

static int
sock_info(UsSock *so)
{
	mblk_t *ack = NULL;
	mblk_t *req = us__tpi_alloc(sizeof(struct T_info_req), 0, M_PCPROTO, T_INFO_REQ);
	int r = us__sock_simple(so, req, &ack);
	if (r != 0)
		return r;
	struct T_info_ack ia;
	if (MBLKL(ack) < sizeof ia) {
		freemsg(ack);
		return -EPROTO;
	}
	memcpy(&ia, ack->b_rptr, sizeof ia);
	freemsg(ack);
	if (!serv_fits(so->so_type, ia.SERV_type))
		return -EPROTONOSUPPORT;
	return us__sock_call(so, sock_info_apply, &ia);
}

int
us__sock_setup(int fd, int domain, int type, int protocol, const char *driver)
{
	UsHead *h = us__head_get(fd);
	g_assert(h != NULL);
	UsSock *so = g_new0(UsSock, 1);
	so->so_head = h;
	so->so_domain = domain;
	so->so_type = type;
	so->so_protocol = protocol;
	so->so_driver = g_strdup(driver);
	so->so_oob = -1;
	so->so_serv = type == SOCK_STREAM || type == SOCK_SEQPACKET ? T_COTS : T_CLTS;
	us_world_call(h->sh_world, sock_attach, so);
	int r = type == SOCK_RAW ? sock_prototype(so) : 0;
	if (r == 0)
		r = sock_info(so);
	if (r != 0) {
		us_close(fd); /* frees so */
		return r;
	}
	return fd;
}

int
us_socket(UsStack *stack, int domain, int type, int protocol)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (stack == NULL || type <= 0 || type > 10 || protocol < 0)
		return us__errno_ret(-EINVAL);
	if (domain < 0 || domain >= AF_MAX)
		return us__errno_ret(-EAFNOSUPPORT);
	char *driver = NULL;
	int proto = protocol;
	int r = us__sock_table_find(domain, type, protocol, &driver, &proto);
	if (r < 0)
		return us__errno_ret(r);
	int fd = us_open(stack, driver, O_RDWR | ((flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0));
	if (fd < 0) {
		r = errno == ENXIO || errno == ENOENT ? -EPROTONOSUPPORT : -errno;
		g_debug("us_socket: cannot open transport %s: %s", driver, g_strerror(errno));
	} else {
		r = us__sock_setup(fd, domain, type, proto, driver);
	}
	g_free(driver);
	return us__errno_ret(r);
}

static int
sock_stats_copy(UsSock *so, gpointer arg)
{
	*(UsSocketStats *)arg = so->so_stats;
	return 0;
}

int
us_socket_stats(int fd, UsSocketStats *stats)
{
	int err = 0;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	if (stats == NULL)
		return us__errno_ret(-EFAULT);
	return us__errno_ret(us__sock_call(so, sock_stats_copy, stats));
}
