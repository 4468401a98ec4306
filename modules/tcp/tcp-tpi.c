/* SPDX-License-Identifier: MIT */
/*
 * tcp-tpi -- the TPI connection-oriented service (T_COTS_ORD) of tcp: the
 * primitives from the user, the indications up, data both ways, and the
 * flow control that ties TCP's windows to the streams.
 *
 * Theory
 * ------
 * Messages consumed from the user (upper write side):
 *   T_INFO_REQ, T_CAPABILITY_REQ, T_ADDR_REQ      answered at once
 *   T_BIND_REQ, O_T_BIND_REQ                      T_BIND_ACK | T_ERROR_ACK
 *                                                 (CONIND_number > 0: listen)
 *   T_UNBIND_REQ                                  M_FLUSH(FLUSHRW), T_OK_ACK
 *   T_CONN_REQ                                    T_OK_ACK, later T_CONN_CON
 *                                                 or T_DISCON_IND
 *   T_CONN_RES, O_T_CONN_RES                      T_OK_ACK (the connection is
 *                                                 on the acceptor stream)
 *   T_DISCON_REQ                                  RST, T_OK_ACK
 *   T_ORDREL_REQ                                  FIN after the data
 *   M_DATA, T_DATA_REQ, T_EXDATA_REQ (urgent)     to the send buffer
 *   T_SVR4_OPTMGMT_REQ                            tcp-opt.c
 * Up: T_CONN_CON, T_CONN_IND (listeners), T_DISCON_IND (with SEQ_number on
 * a listener for a connection reset before T_CONN_RES), T_ORDREL_IND,
 * M_DATA, T_EXDATA_IND (its last byte is the urgent byte; the next data
 * message carries MSGMARK for I_ATMARK).
 *
 * States (CURRENT_state): TS_UNBND -> TS_IDLE (bound, or listening) ->
 * TS_WACK_CREQ (asking ip for the route) -> TS_WCON_CREQ -> TS_DATA_XFER ->
 * TS_WIND_ORDREL / TS_WREQ_ORDREL -> TS_IDLE.  An acceptor goes from
 * TS_UNBND to TS_DATA_XFER on T_CONN_RES.  While an endpoint waits for ip
 * (a bind to a specific address, a connect) its later M_PROTO and M_DATA
 * wait on its write queue.
 *
 * Sending: data goes into the connection's send buffer while it has room
 * (SO_SNDBUF); a message that does not fit waits on the write queue, whose
 * high water mark is SO_SNDBUF too, so the writer above blocks once that
 * fills; the core's TCP_EV_SND_SPACE (acknowledged data freed) enables the
 * queue again.
 *
 * Receiving: data goes up at once when nothing waits on our read queue and
 * the stream head can take it, else it waits on the read queue.  The
 * receive window is SO_RCVBUF minus what waits here and at the head
 * (tcp_tpi_rcv_space).  The head's high water mark is 3/4 of SO_RCVBUF:
 * before the window gets small the head is full, so canputnext() has set
 * QWANTW and the head's draining back-enables our read queue, whose
 * service procedure moves what waits and sends a window update (the
 * core's tcp_conn_rcv_opened).  Before T_CONN_RES a connection's data waits
 * in the connection against the listener's SO_RCVBUF.
 *
 * Auto-tuning (the "rcvbuf_autotune" parameter): SO_RCVBUF grows when the
 * reader takes more than half of it per round trip (to four round trips'
 * worth), SO_SNDBUF follows twice cwnd (tcp.c), both up to
 * TCP_AUTOTUNE_MAX, unless the user set them.
 *
 * Addresses are struct sockaddr_in of 16 bytes (another length, or another
 * family: TBADADDR).  A fixed part shorter than the primitive's structure
 * is TPROTO; a block too short for PRIM_type is dropped and counted.
 */
#define G_LOG_DOMAIN "us-tcp"

#include "tcp-impl.h"

#include "../inet/tpi-util.h"

#include <errno.h>
#include <string.h>

enum {
	TCP_DONE,  /* consumed */
	TCP_RETRY, /* not consumed: wait (room in the send buffer, or ip) */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

void
tcp_error_ack(queue_t *wq, mblk_t *mp, t_scalar_t prim, t_scalar_t tli, int err)
{
	struct T_error_ack ea = { .PRIM_type = T_ERROR_ACK,
				  .ERROR_prim = prim,
				  .TLI_error = tli,
				  .UNIX_error = tli == TSYSERR ? err : 0 };
	us_tpi_reply_copy(wq, mp, &ea, sizeof ea, TCP_DROP_NOMEM);
}

void
tcp_ok_ack(queue_t *wq, mblk_t *mp, t_scalar_t prim)
{
	struct T_ok_ack oa = { .PRIM_type = T_OK_ACK, .CORRECT_prim = prim };
	us_tpi_reply_copy(wq, mp, &oa, sizeof oa, TCP_DROP_NOMEM);
}

/* A new M_PROTO primitive of len bytes (zeroed), or NULL (counted). */
static mblk_t *
tcp_prim_alloc(TcpEp *ep, size_t len)
{
	mblk_t *mp = allocb(len, BPRI_MED);
	if (mp == NULL) {
		us_drop(ep->te_rq, NULL, TCP_DROP_NOMEM);
		return NULL;
	}
	DB_TYPE(mp) = M_PROTO;
	memset(mp->b_wptr, 0, len);
	mp->b_wptr += len;
	return mp;
}

void
tcp_ep_up(TcpEp *ep, mblk_t *mp)
{
	queue_t *rq = ep->te_rq;
	if (rq->q_first == NULL && canputnext(rq)) {
		putnext(rq, mp);
		(void)canputnext(rq); /* full now: QWANTW, so its draining wakes us */
	} else {
		putq(rq, mp);
	}
}

void
tcp_ep_setopts(TcpEp *ep)
{
	mblk_t *mp = allocb(sizeof(struct stroptions), BPRI_MED);
	if (mp == NULL) {
		us_drop(ep->te_rq, NULL, TCP_DROP_NOMEM);
		return;
	}
	struct stroptions so;
	memset(&so, 0, sizeof so);
	so.so_flags = SO_HIWAT | SO_LOWAT;
	so.so_hiwat = (size_t)(ep->te_rcvbuf * 3 / 4);
	so.so_lowat = (size_t)(ep->te_rcvbuf / 2);
	DB_TYPE(mp) = M_SETOPTS;
	memcpy(mp->b_wptr, &so, sizeof so);
	mp->b_wptr += sizeof so;
	putnext(ep->te_rq, mp);
}

void
tcp_ep_apply_sndbuf(TcpEp *ep)
{
	queue_t *wq = WR(ep->te_rq);
	strqset(wq, QHIWAT, 0, (intptr_t)ep->te_sndbuf);
	strqset(wq, QLOWAT, 0, (intptr_t)(ep->te_sndbuf / 4));
	if (ep->te_pcb != NULL)
		ep->te_pcb->pc_tcb.tcb_sndbuf = (uint32_t)ep->te_sndbuf;
}

static gboolean
tcp_ep_connected(const TcpEp *ep)
{
	return ep->te_pcb != NULL &&
	       (ep->te_state == TS_DATA_XFER || ep->te_state == TS_WIND_ORDREL ||
		ep->te_state == TS_WREQ_ORDREL);
}

/* ------------------------------------------------------------------ */
/* Information                                                        */
/* ------------------------------------------------------------------ */

static void
tcp_info_fill(const TcpEp *ep, struct T_info_ack *ia)
{
	memset(ia, 0, sizeof *ia);
	ia->PRIM_type = T_INFO_ACK;
	ia->TSDU_size = 0; /* a byte stream */
	ia->ETSDU_size = 1;
	ia->CDATA_size = T_INVALID;
	ia->DDATA_size = T_INVALID;
	ia->ADDR_size = TCP_ADDR_SIZE;
	ia->OPT_size = TCP_OPT_SIZE;
	ia->TIDU_size = TCP_TIDU_SIZE;
	ia->SERV_type = T_COTS_ORD;
	ia->CURRENT_state = ep->te_state;
	ia->PROVIDER_flag = 0;
}

static void
tcp_t_info(queue_t *wq, mblk_t *mp)
{
	struct T_info_ack ia;
	tcp_info_fill(wq->q_ptr, &ia);
	us_tpi_reply_copy(wq, mp, &ia, sizeof ia, TCP_DROP_NOMEM);
}

static void
tcp_t_capability(queue_t *wq, mblk_t *mp)
{
	TcpEp *ep = wq->q_ptr;
	struct T_capability_req cr;
	struct T_capability_ack ca;
	if (MBLKL(mp) < sizeof cr) {
		tcp_error_ack(wq, mp, T_CAPABILITY_REQ, TPROTO, 0);
		return;
	}
	memcpy(&cr, mp->b_rptr, sizeof cr);
	memset(&ca, 0, sizeof ca);
	ca.PRIM_type = T_CAPABILITY_ACK;
	ca.CAP_bits1 = cr.CAP_bits1 & (TC1_INFO | TC1_ACCEPTOR_ID);
	if (ca.CAP_bits1 & TC1_INFO)
		tcp_info_fill(ep, &ca.INFO_ack);
	if (ca.CAP_bits1 & TC1_ACCEPTOR_ID)
		ca.ACCEPTOR_id = ep->te_minor;
	us_tpi_reply_copy(wq, mp, &ca, sizeof ca, TCP_DROP_NOMEM);
}

static void
tcp_t_addr(queue_t *wq, mblk_t *mp)
{
	TcpEp *ep = wq->q_ptr;
	gboolean conn = tcp_ep_connected(ep) || ep->te_state == TS_WCON_CREQ;
	size_t rlen = conn ? TCP_ADDR_SIZE : 0;
	struct T_addr_ack aa = { .PRIM_type = T_ADDR_ACK,
				 .LOCADDR_length = TCP_ADDR_SIZE,
				 .LOCADDR_offset = sizeof aa,
				 .REMADDR_length = (t_scalar_t)rlen,
				 .REMADDR_offset =
					 rlen ? (t_scalar_t)(sizeof aa + TCP_ADDR_SIZE) : 0 };
	mp = us_tpi_reply_alloc(wq, mp, sizeof aa + TCP_ADDR_SIZE + rlen, M_PCPROTO,
				TCP_DROP_NOMEM);
	if (mp == NULL)
		return;
	memcpy(mp->b_rptr, &aa, sizeof aa);
	us_tpi_sin_put(mp->b_rptr + sizeof aa, ep->te_laddr, ep->te_lport);
	if (conn) {
		const TcpConn *c = &ep->te_pcb->pc_tcb;
		us_tpi_sin_put(mp->b_rptr + sizeof aa + TCP_ADDR_SIZE, c->tcb_raddr, c->tcb_rport);
	}
	qreply(wq, mp);
}

/* ------------------------------------------------------------------ */
/* Binding                                                            */
/* ------------------------------------------------------------------ */

static void
tcp_bind_ack(queue_t *wq, mblk_t *mp, TcpEp *ep)
{
	struct T_bind_ack ba = { .PRIM_type = T_BIND_ACK,
				 .ADDR_length = TCP_ADDR_SIZE,
				 .ADDR_offset = sizeof ba,
				 .CONIND_number = ep->te_backlog };
	mp = us_tpi_reply_alloc(wq, mp, sizeof ba + TCP_ADDR_SIZE, M_PCPROTO, TCP_DROP_NOMEM);
	if (mp == NULL)
		return;
	memcpy(mp->b_rptr, &ba, sizeof ba);
	us_tpi_sin_put(mp->b_rptr + sizeof ba, ep->te_laddr, ep->te_lport);
	qreply(wq, mp);
}

/* Takes addr:port (0: ephemeral), listening with backlog conind if > 0. */
static void
tcp_bind_finish(queue_t *wq, mblk_t *mp, t_scalar_t prim, uint32_t addr, uint16_t port,
		guint conind)
{
	TcpEp *ep = wq->q_ptr;
	int terr = tcp_port_hold(ep, addr, &port, prim == O_T_BIND_REQ);
	if (terr == 0 && conind > 0 && (terr = tcp_listen_start(ep, conind)) != 0)
		tcp_port_release(ep);
	if (terr != 0) {
		tcp_error_ack(wq, mp, prim, terr, 0);
		return;
	}
	ep->te_state = TS_IDLE;
	tcp_bind_ack(wq, mp, ep);
}

static void
tcp_pend_start(TcpEp *ep, int kind, t_scalar_t prim, uint32_t addr, uint16_t port,
	       t_scalar_t wait_state)
{
	ep->te_pend = TRUE;
	ep->te_pend_prim = prim;
	ep->te_pend_addr = addr;
	ep->te_pend_port = port;
	ep->te_pend_state = ep->te_state;
	ep->te_state = wait_state;
	TcpRouteWait *w = g_new0(TcpRouteWait, 1);
	w->rw_kind = kind;
	w->rw_dst = addr;
	w->rw_ep = ep;
	if (!tcp_route_ask(ep->te_ts, w))
		tcp_tpi_route_done(ep, kind, NULL, ENETDOWN);
}

static void
tcp_t_bind(queue_t *wq, mblk_t *mp, t_scalar_t prim)
{
	TcpEp *ep = wq->q_ptr;
	struct T_bind_req br;
	gboolean present;
	uint32_t addr;
	uint16_t port;
	if (MBLKL(mp) < sizeof br) {
		tcp_error_ack(wq, mp, prim, TPROTO, 0);
		return;
	}
	memcpy(&br, mp->b_rptr, sizeof br);
	if (ep->te_state != TS_UNBND) {
		tcp_error_ack(wq, mp, prim, TOUTSTATE, 0);
		return;
	}
	if (us_tpi_sin_get(mp, br.ADDR_length, br.ADDR_offset, &present, &addr, &port) != 0) {
		tcp_error_ack(wq, mp, prim, TBADADDR, 0);
		return;
	}
	guint conind = MIN(br.CONIND_number, TCP_BACKLOG_MAX);
	if (addr == INADDR_ANY) {
		tcp_bind_finish(wq, mp, prim, addr, port, conind);
		return;
	}
	if (addr == INADDR_BROADCAST || IN_MULTICAST(ntohl(addr))) {
		tcp_error_ack(wq, mp, prim, TNOADDR, 0); /* no TCP to such an address */
		return;
	}
	freemsg(mp);
	ep->te_backlog = conind; /* kept until ip answers */
	tcp_pend_start(ep, TCP_RW_BIND, prim, addr, port, TS_WACK_BREQ);
}

static void
tcp_bind_done(TcpEp *ep, const struct ip_route_ack *ra)
{
	queue_t *wq = WR(ep->te_rq);
	guint conind = ep->te_backlog;
	ep->te_backlog = 0;
	ep->te_state = ep->te_pend_state;
	if (ra == NULL || !(ra->flags & IP_RF_LOCAL)) {
		tcp_error_ack(wq, NULL, ep->te_pend_prim, TNOADDR, 0);
		return;
	}
	tcp_bind_finish(wq, NULL, ep->te_pend_prim, ep->te_pend_addr, ep->te_pend_port, conind);
}

static void
tcp_t_unbind(queue_t *wq, mblk_t *mp)
{
	TcpEp *ep = wq->q_ptr;
	if (ep->te_state != TS_IDLE || ep->te_pcb != NULL) {
		tcp_error_ack(wq, mp, T_UNBIND_REQ, TOUTSTATE, 0);
		return;
	}
	if (ep->te_backlog > 0)
		tcp_listen_stop(ep);
	tcp_port_release(ep);
	ep->te_state = TS_UNBND;
	putnextctl1(RD(wq), M_FLUSH, FLUSHRW); /* TPI: flush before acknowledging */
	tcp_ok_ack(wq, mp, T_UNBIND_REQ);
}

/* ------------------------------------------------------------------ */
/* Connecting                                                         */
/* ------------------------------------------------------------------ */

static void
tcp_t_conn(queue_t *wq, mblk_t *mp)
{
	TcpEp *ep = wq->q_ptr;
	struct T_conn_req cr;
	gboolean present;
	uint32_t addr;
	uint16_t port;
	if (MBLKL(mp) < sizeof cr) {
		tcp_error_ack(wq, mp, T_CONN_REQ, TPROTO, 0);
		return;
	}
	memcpy(&cr, mp->b_rptr, sizeof cr);
	if ((ep->te_state != TS_IDLE && ep->te_state != TS_UNBND) || ep->te_backlog > 0 ||
	    ep->te_pcb != NULL) {
		tcp_error_ack(wq, mp, T_CONN_REQ, TOUTSTATE, 0);
		return;
	}
	if (us_tpi_sin_get(mp, cr.DEST_length, cr.DEST_offset, &present, &addr, &port) != 0 ||
	    !present || port == 0 || addr == INADDR_ANY || addr == INADDR_BROADCAST ||
	    IN_MULTICAST(ntohl(addr))) {
		tcp_error_ack(wq, mp, T_CONN_REQ, TBADADDR, 0);
		return;
	}
	if (mp->b_cont != NULL && msgdsize(mp->b_cont) > 0) {
		tcp_error_ack(wq, mp, T_CONN_REQ, TBADDATA, 0); /* CDATA_size T_INVALID */
		return;
	}
	if (ep->te_state == TS_UNBND) {
		uint16_t p = 0;
		int terr = tcp_port_hold(ep, INADDR_ANY, &p, FALSE);
		if (terr != 0) {
			tcp_error_ack(wq, mp, T_CONN_REQ, terr, 0);
			return;
		}
		ep->te_state = TS_IDLE;
	}
	freemsg(mp);
	tcp_pend_start(ep, TCP_RW_CONNECT, T_CONN_REQ, addr, port, TS_WACK_CREQ);
}

static void
tcp_conn_con(TcpEp *ep, const TcpConn *c)
{
	struct T_conn_con cc = { .PRIM_type = T_CONN_CON,
				 .RES_length = TCP_ADDR_SIZE,
				 .RES_offset = sizeof cc };
	mblk_t *mp = tcp_prim_alloc(ep, sizeof cc + TCP_ADDR_SIZE);
	if (mp == NULL)
		return;
	memcpy(mp->b_rptr, &cc, sizeof cc);
	us_tpi_sin_put(mp->b_rptr + sizeof cc, c->tcb_raddr, c->tcb_rport);
	tcp_ep_up(ep, mp);
}

/* ip gave the route to the peer: the connection starts (SYN-SENT). */
static void
tcp_connect_done(TcpEp *ep, const struct ip_route_ack *ra, int err)
{
	TcpStack *ts = ep->te_ts;
	queue_t *wq = WR(ep->te_rq);
	ep->te_state = ep->te_pend_state;
	if (ra == NULL || (ra->flags & (IP_RF_BROADCAST | IP_RF_MULTICAST))) {
		tcp_error_ack(wq, NULL, T_CONN_REQ, TSYSERR, ra == NULL ? err : ENETUNREACH);
		return;
	}
	uint32_t laddr = ep->te_laddr != INADDR_ANY ? ep->te_laddr : ra->src;
	TcpPcb *pcb = tcp_pcb_new(ts, ep);
	TcpConn *c = &pcb->pc_tcb;
	tcp_conn_set_addrs(c, laddr, ep->te_lport, ep->te_pend_addr, ep->te_pend_port);
	tcp_conn_set_mtu(c, ra->mtu);
	c->tcb_lso_max = ra->lso_max;
	if (tcp_conn_hash(pcb) != 0) {
		tcp_pcb_destroy(pcb);
		tcp_error_ack(wq, NULL, T_CONN_REQ, TSYSERR, EADDRNOTAVAIL);
		return;
	}
	c->tcb_epmib = &ep->te_mib;
	pcb->pc_ep = ep;
	ep->te_pcb = pcb;
	ep->te_laddr = laddr;
	ep->te_state = TS_WCON_CREQ;
	tcp_ok_ack(wq, NULL, T_CONN_REQ);
	pcb->pc_depth++;
	tcp_conn_connect(c, tcp_now(ts));
	pcb->pc_depth--;
	tcp_pcb_after(pcb);
}

void
tcp_tpi_route_done(TcpEp *ep, int kind, const struct ip_route_ack *ra, int err)
{
	ep->te_pend = FALSE;
	if (kind == TCP_RW_BIND)
		tcp_bind_done(ep, ra);
	else
		tcp_connect_done(ep, ra, err);
	queue_t *wq = WR(ep->te_rq);
	if (wq->q_first != NULL)
		qenable(wq);
}

void
tcp_tpi_established(TcpPcb *pcb)
{
	TcpEp *ep = pcb->pc_ep;
	if (ep == NULL)
		return;
	ep->te_state = TS_DATA_XFER;
	tcp_conn_con(ep, &pcb->pc_tcb);
}

/* ------------------------------------------------------------------ */
/* Accepting                                                          */
/* ------------------------------------------------------------------ */

void
tcp_tpi_conn_ind(TcpPcb *pcb)
{
	TcpEp *l = pcb->pc_listener;
	const TcpConn *c = &pcb->pc_tcb;
	g_queue_remove(&l->te_synq, pcb);
	g_queue_push_tail(&l->te_acceptq, pcb);
	pcb->pc_in_acceptq = TRUE;
	TcpStack *ts = l->te_ts;
	if (++ts->ts_next_seqno <= 0)
		ts->ts_next_seqno = 1;
	pcb->pc_seqno = ts->ts_next_seqno;
	struct T_conn_ind ci = { .PRIM_type = T_CONN_IND,
				 .SRC_length = TCP_ADDR_SIZE,
				 .SRC_offset = sizeof ci,
				 .SEQ_number = pcb->pc_seqno };
	mblk_t *mp = tcp_prim_alloc(l, sizeof ci + TCP_ADDR_SIZE);
	if (mp == NULL)
		return;
	memcpy(mp->b_rptr, &ci, sizeof ci);
	us_tpi_sin_put(mp->b_rptr + sizeof ci, c->tcb_raddr, c->tcb_rport);
	tcp_ep_up(l, mp);
}

static TcpPcb *
tcp_acceptq_find(TcpEp *l, t_scalar_t seq)
{
	for (GList *n = l->te_acceptq.head; n != NULL; n = n->next) {
		TcpPcb *pcb = n->data;
		if (pcb->pc_seqno == seq)
			return pcb;
	}
	return NULL;
}

/* The acceptor takes the listener's options (as accept(2) does). */
static void
tcp_acceptor_inherit(TcpEp *a, const TcpEp *l)
{
	a->te_rcvbuf = l->te_rcvbuf;
	a->te_rcvbuf_set = l->te_rcvbuf_set;
	a->te_sndbuf_set = l->te_sndbuf_set;
	a->te_sndbuf = l->te_sndbuf;
	a->te_keepalive = l->te_keepalive;
	a->te_nodelay = l->te_nodelay;
	a->te_cork = l->te_cork;
	a->te_oobinline = l->te_oobinline;
	a->te_linger_onoff = l->te_linger_onoff;
	a->te_linger_secs = l->te_linger_secs;
	a->te_ttl = l->te_ttl;
	a->te_tos = l->te_tos;
	a->te_maxseg = l->te_maxseg;
	a->te_keepidle = l->te_keepidle;
	a->te_keepintvl = l->te_keepintvl;
	a->te_keepcnt = l->te_keepcnt;
	a->te_syncnt = l->te_syncnt;
	a->te_linger2 = l->te_linger2;
	memcpy(a->te_cc, l->te_cc, sizeof a->te_cc);
}

/* Moves pcb onto the acceptor a: what arrived before goes up now. */
static void
tcp_accept_move(TcpPcb *pcb, TcpEp *a)
{
	TcpEp *l = pcb->pc_listener;
	tcp_listen_forget(pcb);
	tcp_acceptor_inherit(a, l);
	pcb->pc_ep = a;
	a->te_pcb = pcb;
	pcb->pc_tcb.tcb_epmib = &a->te_mib;
	a->te_laddr = a->te_baddr = pcb->pc_tcb.tcb_laddr;
	tcp_port_attach(a, pcb->pc_tcb.tcb_lport);
	a->te_state = TS_DATA_XFER;
	tcp_ep_apply_sndbuf(a);
	tcp_ep_setopts(a);
	mblk_t *mp;
	while ((mp = pcb->pc_rcvq_head) != NULL) {
		pcb->pc_rcvq_head = mp->b_next;
		mp->b_next = NULL;
		tcp_ep_up(a, mp);
	}
	pcb->pc_rcvq_tail = NULL;
	pcb->pc_rcvq_bytes = 0;
	if (pcb->pc_fin_up) {
		pcb->pc_fin_up = FALSE;
		tcp_tpi_ordrel(pcb);
	}
}

static void
tcp_t_conn_res(queue_t *wq, mblk_t *mp, t_scalar_t prim)
{
	TcpEp *l = wq->q_ptr;
	TcpStack *ts = l->te_ts;
	struct T_conn_res cr;
	if (MBLKL(mp) < sizeof cr) {
		tcp_error_ack(wq, mp, prim, TPROTO, 0);
		return;
	}
	memcpy(&cr, mp->b_rptr, sizeof cr);
	if (l->te_backlog == 0) {
		tcp_error_ack(wq, mp, prim, TOUTSTATE, 0);
		return;
	}
	UsMuxUpper *u = us_mux_uppers_find(ts->ts_uppers, cr.ACCEPTOR_id);
	TcpEp *a = u != NULL ? u->mu_state : NULL;
	if (a == NULL || a == l || a->te_state != TS_UNBND || a->te_pcb != NULL) {
		tcp_error_ack(wq, mp, prim, a == NULL ? TBADF : TOUTSTATE, 0);
		return;
	}
	TcpPcb *pcb = tcp_acceptq_find(l, cr.SEQ_number);
	if (pcb == NULL) {
		tcp_error_ack(wq, mp, prim, TBADSEQ, 0);
		return;
	}
	tcp_ok_ack(wq, mp, prim);
	pcb->pc_depth++;
	tcp_accept_move(pcb, a);
	pcb->pc_depth--;
	tcp_pcb_after(pcb);
}

/* ------------------------------------------------------------------ */
/* Releasing                                                          */
/* ------------------------------------------------------------------ */

/* Resets a connection the user no longer wants. */
static void
tcp_pcb_reset(TcpPcb *pcb)
{
	pcb->pc_depth++;
	tcp_conn_abort(&pcb->pc_tcb, tcp_now(pcb->pc_ts));
	pcb->pc_depth--;
	tcp_pcb_after(pcb); /* CLOSED: taken apart */
}

static void
tcp_t_discon(queue_t *wq, mblk_t *mp)
{
	TcpEp *ep = wq->q_ptr;
	struct T_discon_req dr;
	if (MBLKL(mp) < sizeof dr) {
		tcp_error_ack(wq, mp, T_DISCON_REQ, TPROTO, 0);
		return;
	}
	memcpy(&dr, mp->b_rptr, sizeof dr);
	if (ep->te_backlog > 0 && dr.SEQ_number != -1) {
		TcpPcb *pcb = tcp_acceptq_find(ep, dr.SEQ_number);
		if (pcb == NULL) {
			tcp_error_ack(wq, mp, T_DISCON_REQ, TBADSEQ, 0);
			return;
		}
		tcp_pcb_reset(pcb); /* refused: RST */
		tcp_ok_ack(wq, mp, T_DISCON_REQ);
		return;
	}
	if (ep->te_pcb == NULL) {
		tcp_error_ack(wq, mp, T_DISCON_REQ, TOUTSTATE, 0);
		return;
	}
	TcpPcb *pcb = ep->te_pcb;
	tcp_pcb_reset(pcb);
	ep->te_state = ep->te_bound ? TS_IDLE : TS_UNBND;
	flushq(wq, FLUSHDATA); /* what waited to be sent goes with the connection */
	putnextctl1(RD(wq), M_FLUSH, FLUSHRW);
	tcp_ok_ack(wq, mp, T_DISCON_REQ);
}

static void
tcp_t_ordrel(queue_t *wq, mblk_t *mp)
{
	TcpEp *ep = wq->q_ptr;
	freemsg(mp);
	if (ep->te_state == TS_DATA_XFER)
		ep->te_state = TS_WIND_ORDREL;
	else if (ep->te_state == TS_WREQ_ORDREL)
		ep->te_state = TS_IDLE;
	TcpPcb *pcb = ep->te_pcb;
	if (pcb == NULL)
		return; /* reset meanwhile: T_DISCON_IND told the user */
	pcb->pc_depth++;
	tcp_conn_shutdown(&pcb->pc_tcb, tcp_now(ep->te_ts));
	pcb->pc_depth--;
	tcp_pcb_after(pcb);
}

void
tcp_tpi_discon(TcpPcb *pcb, int err)
{
	struct T_discon_ind di = { .PRIM_type = T_DISCON_IND,
				   .DISCON_reason = err,
				   .SEQ_number = -1 };
	TcpEp *ep = pcb->pc_ep;
	if (ep == NULL && pcb->pc_listener != NULL && pcb->pc_in_acceptq) {
		ep = pcb->pc_listener; /* withdraws its T_CONN_IND */
		di.SEQ_number = pcb->pc_seqno;
	}
	if (ep == NULL)
		return;
	if (di.SEQ_number == -1)
		ep->te_state = ep->te_bound ? TS_IDLE : TS_UNBND;
	mblk_t *mp = tcp_prim_alloc(ep, sizeof di);
	if (mp == NULL)
		return;
	memcpy(mp->b_rptr, &di, sizeof di);
	tcp_ep_up(ep, mp);
}

void
tcp_tpi_ordrel(TcpPcb *pcb)
{
	TcpEp *ep = pcb->pc_ep;
	if (ep == NULL) {
		pcb->pc_fin_up = pcb->pc_listener != NULL; /* for the acceptor */
		return;
	}
	if (ep->te_state == TS_DATA_XFER)
		ep->te_state = TS_WREQ_ORDREL;
	else if (ep->te_state == TS_WIND_ORDREL)
		ep->te_state = TS_IDLE;
	struct T_ordrel_ind oi = { .PRIM_type = T_ORDREL_IND };
	mblk_t *mp = tcp_prim_alloc(ep, sizeof oi);
	if (mp == NULL)
		return;
	memcpy(mp->b_rptr, &oi, sizeof oi);
	tcp_ep_up(ep, mp);
}

/* ------------------------------------------------------------------ */
/* Data                                                               */
/* ------------------------------------------------------------------ */

/* Receive buffer auto-tuning (Dynamic Right-Sizing, as Linux does): when
 * the reader takes more than half the buffer per round trip, the buffer
 * grows to four round trips' worth, up to TCP_AUTOTUNE_MAX.  Off when the
 * user set SO_RCVBUF or the "rcvbuf_autotune" parameter is off. */
static void
tcp_autotune(TcpPcb *pcb, TcpEp *ep, size_t n)
{
	TcpConn *c = &pcb->pc_tcb;
	if (ep->te_rcvbuf >= c->tcb_rcvbuf_max)
		return;
	gint64 now = tcp_now(ep->te_ts), rtt = MAX(c->tcb_srtt, TCP_MSEC);
	pcb->pc_at_bytes += n;
	if (pcb->pc_at_start == 0)
		pcb->pc_at_start = now;
	gint64 span = now - pcb->pc_at_start;
	if (span < rtt)
		return;
	guint64 per_rtt = pcb->pc_at_bytes * (guint64)rtt / (guint64)span;
	pcb->pc_at_start = now;
	pcb->pc_at_bytes = 0;
	if (2 * per_rtt <= ep->te_rcvbuf)
		return;
	ep->te_rcvbuf = MIN(4 * per_rtt, (guint64)c->tcb_rcvbuf_max);
	c->tcb_rcvbuf = (uint32_t)ep->te_rcvbuf;
	tcp_ep_setopts(ep);
}

void
tcp_tpi_deliver(TcpPcb *pcb, mblk_t *data, gboolean urgent)
{
	TcpEp *ep = pcb->pc_ep;
	mblk_t *mp = data;
	size_t n = msgdsize(data);
	TcpEp *owner = ep != NULL ? ep : pcb->pc_listener;
	if (owner == NULL) {
		tcp_drop(pcb->pc_ts, NULL, data, TCP_DROP_AFTER_CLOSE);
		return;
	}
	if (urgent) {
		struct T_exdata_ind ei = { .PRIM_type = T_EXDATA_IND };
		mp = tcp_prim_alloc(owner, sizeof ei);
		if (mp == NULL) {
			mp = data; /* the urgent byte goes as ordinary data */
		} else {
			memcpy(mp->b_rptr, &ei, sizeof ei);
			mp->b_cont = data;
		}
	} else if (owner->te_mark_next) {
		data->b_flag |= MSGMARK; /* I_ATMARK: right after the urgent byte */
		owner->te_mark_next = FALSE;
	}
	if (urgent)
		owner->te_mark_next = TRUE;
	if (ep != NULL) {
		tcp_ep_up(ep, mp);
		tcp_autotune(pcb, ep, n);
		return;
	}
	if (pcb->pc_rcvq_tail != NULL) /* kept for the acceptor */
		pcb->pc_rcvq_tail->b_next = mp;
	else
		pcb->pc_rcvq_head = mp;
	pcb->pc_rcvq_tail = mp;
	pcb->pc_rcvq_bytes += (uint32_t)n;
}

uint32_t
tcp_tpi_rcv_space(TcpPcb *pcb)
{
	TcpEp *ep = pcb->pc_ep;
	guint64 buf, queued;
	if (ep != NULL) {
		queue_t *rq = ep->te_rq;
		buf = ep->te_rcvbuf;
		queued = rq->q_count + (rq->q_next != NULL ? rq->q_next->q_count : 0);
	} else if (pcb->pc_listener != NULL) {
		buf = pcb->pc_listener->te_rcvbuf;
		queued = pcb->pc_rcvq_bytes;
	} else {
		buf = pcb->pc_tcb.tcb_rcvbuf;
		queued = 0;
	}
	return queued < buf ? (uint32_t)(buf - queued) : 0;
}

/* M_DATA, T_DATA_REQ or T_EXDATA_REQ (mp, the data in b_cont for the
 * last two): into the send buffer, or TCP_RETRY while it lacks room. */
static int
tcp_data(queue_t *wq, mblk_t *mp, gboolean urgent)
{
	TcpEp *ep = wq->q_ptr;
	TcpPcb *pcb = ep->te_pcb;
	if (pcb == NULL || !(ep->te_state == TS_DATA_XFER || ep->te_state == TS_WREQ_ORDREL ||
			     ep->te_state == TS_WCON_CREQ)) {
		us_drop(wq, mp, TCP_DROP_STATE); /* after a reset; T_DISCON_IND said so */
		return TCP_DONE;
	}
	TcpConn *c = &pcb->pc_tcb;
	size_t n = msgdsize(mp);
	uint32_t room = tcp_conn_snd_space(c);
	if (room == 0 || (n > room && c->tcb_sndq_bytes > 0))
		return TCP_RETRY; /* TCP_EV_SND_SPACE enables the queue */
	mblk_t *data = mp;
	if (DB_TYPE(mp) != M_DATA) {
		data = unlinkb(mp);
		freeb(mp);
	}
	pcb->pc_depth++;
	tcp_conn_send(c, data, urgent, tcp_now(ep->te_ts));
	pcb->pc_depth--;
	tcp_pcb_after(pcb);
	return TCP_DONE;
}

/* ------------------------------------------------------------------ */
/* Upper write side                                                   */
/* ------------------------------------------------------------------ */

static int
tcp_wproc(queue_t *wq, mblk_t *mp)
{
	t_scalar_t prim;
	if (DB_TYPE(mp) == M_DATA)
		return tcp_data(wq, mp, FALSE);
	if (MBLKL(mp) < sizeof prim) {
		us_drop(wq, mp, TCP_DROP_TPI);
		return TCP_DONE;
	}
	memcpy(&prim, mp->b_rptr, sizeof prim);
	switch (prim) {
	case T_DATA_REQ: return tcp_data(wq, mp, FALSE);
	case T_EXDATA_REQ: return tcp_data(wq, mp, TRUE);
	case T_INFO_REQ: tcp_t_info(wq, mp); break;
	case T_CAPABILITY_REQ: tcp_t_capability(wq, mp); break;
	case T_ADDR_REQ: tcp_t_addr(wq, mp); break;
	case T_BIND_REQ:
	case O_T_BIND_REQ: tcp_t_bind(wq, mp, prim); break;
	case T_UNBIND_REQ: tcp_t_unbind(wq, mp); break;
	case T_SVR4_OPTMGMT_REQ: tcp_t_optmgmt(wq, mp); break;
	case T_CONN_REQ: tcp_t_conn(wq, mp); break;
	case T_CONN_RES:
	case O_T_CONN_RES: tcp_t_conn_res(wq, mp, prim); break;
	case T_DISCON_REQ: tcp_t_discon(wq, mp); break;
	case T_ORDREL_REQ: tcp_t_ordrel(wq, mp); break;
	default: tcp_error_ack(wq, mp, prim, TNOTSUPPORT, 0); break;
	}
	return TCP_DONE;
}

/* TRUE for what must keep its place in the byte stream (data, urgent
 * data, the FIN); other requests are answered at once unless the endpoint
 * waits for ip. */
static gboolean
tcp_is_stream(const mblk_t *mp)
{
	t_scalar_t prim;
	if (DB_TYPE(mp) == M_DATA)
		return TRUE;
	if (MBLKL(mp) < sizeof prim)
		return FALSE;
	memcpy(&prim, mp->b_rptr, sizeof prim);
	return prim == T_DATA_REQ || prim == T_EXDATA_REQ || prim == T_ORDREL_REQ;
}

static gboolean
tcp_answer_now(const mblk_t *mp)
{
	t_scalar_t prim;
	if (MBLKL(mp) < sizeof prim)
		return TRUE;
	memcpy(&prim, mp->b_rptr, sizeof prim);
	return prim == T_INFO_REQ || prim == T_ADDR_REQ || prim == T_CAPABILITY_REQ;
}

/* Upper write put: T_INFO_REQ, T_ADDR_REQ and T_CAPABILITY_REQ are
 * answered at once; data, urgent data and T_ORDREL_REQ keep their order
 * behind what waits for room; other requests go at once (an option request
 * never waits behind data a zero window holds), or wait while the endpoint
 * waits for ip. */
int
tcp_uwput(queue_t *wq, mblk_t *mp)
{
	TcpEp *ep = wq->q_ptr;
	switch (DB_TYPE(mp)) {
	case M_PCPROTO:
		if (tcp_answer_now(mp) || DB_REF(mp) != 1) {
			if (tcp_wproc(wq, mp) == TCP_RETRY)
				putq(wq, mp);
			break;
		}
		DB_TYPE(mp) = M_PROTO;
		/* FALLTHROUGH */
	case M_PROTO:
	case M_DATA:
		if (ep->te_pend || (wq->q_first != NULL && tcp_is_stream(mp)) ||
		    tcp_wproc(wq, mp) == TCP_RETRY)
			putq(wq, mp);
		break;
	case M_IOCTL: tcp_ioctl(wq, mp); break;
	default: us_default_put(wq, mp); break;
	}
	return 0;
}

/* Upper write service: room in the send buffer (or ip answered).  When it
 * empties the queue it enables the queue behind it as back-enabling would:
 * a writer that never had to wait set no QWANTW, yet a close() waiting for
 * the write side to drain must hear of it. */
int
tcp_uwsrv(queue_t *wq)
{
	TcpEp *ep = wq->q_ptr;
	mblk_t *mp;
	gboolean took = FALSE;
	while (!ep->te_pend && (mp = getq(wq)) != NULL) {
		if (tcp_wproc(wq, mp) == TCP_RETRY) {
			putbq(wq, mp);
			return 0;
		}
		took = TRUE;
	}
	queue_t *bq = backq(wq);
	if (took && wq->q_first == NULL && bq != NULL && bq->q_qinfo->qi_srvp != NULL)
		qenable(bq);
	return 0;
}

/* Upper read service: the head drained; what waits goes up and the
 * window may open. */
int
tcp_ursrv(queue_t *rq)
{
	TcpEp *ep = rq->q_ptr;
	mblk_t *mp;
	while ((mp = getq(rq)) != NULL) {
		if (DB_TYPE(mp) < QPCTL && !canputnext(rq)) {
			putbq(rq, mp);
			break;
		}
		putnext(rq, mp);
	}
	TcpPcb *pcb = ep != NULL ? ep->te_pcb : NULL;
	if (pcb != NULL && pcb->pc_depth == 0) {
		pcb->pc_depth++;
		tcp_conn_rcv_opened(&pcb->pc_tcb, tcp_now(ep->te_ts));
		pcb->pc_depth--;
		tcp_pcb_after(pcb);
	}
	return 0;
}
