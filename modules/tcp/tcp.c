/* SPDX-License-Identifier: MIT */
/*
 * tcp -- the Transmission Control Protocol as a STREAMS multiplexing
 * driver over ip, offering the TPI connection-oriented service with
 * orderly release (T_COTS_ORD) to the socket library.  The protocol is the
 * sans-I/O core (tcp-core.c and its files); this driver gives it segments,
 * time and a reader, and turns what it produces into ip primitives and TPI.
 *
 *     socket  socket  socket       stream heads, TPI (T_COTS_ORD)
 *       |       |       |
 *     [    tcp upper streams   ]   one clone open per endpoint
 *                 |
 *               [ ip ]             one lower (an ip upper stream), I_PLINKed
 *
 * Files: tcp.c (streams, per-stack state, connections and their timers,
 * output to ip, the ip lower, the descriptor), tcp-tpi.c (the TPI
 * primitives, data up and down, flow control), tcp-demux.c (input checks,
 * the 4-tuple and listener tables, ports, SYN and accept queues, SYN
 * cookies, ICMP), tcp-opt.c (options and parameters).
 *
 * Theory
 * ------
 * Per stack one TcpStack (us_stack_get_data "tcp") holds the core's shared
 * context (parameters, MIB counters, ISN and cookie secrets), the upper
 * streams, the one ip lower, the connection table (mux/ UsMuxTuples keyed
 * {laddr, lport, raddr, rport}), the listener table ({laddr, lport}), the
 * ports held and the route questions in flight.  Each upper stream is a
 * TcpEp (TPI state, address, options, the listener's queues); each
 * connection a TcpPcb wrapping the core's TcpConn.  A connection lives
 * attached to an endpoint (its reader), in a listener's SYN or accept
 * queue (before T_CONN_RES), or alone: an orphan once its endpoint closed
 * (FIN-WAIT, LAST-ACK, TIME-WAIT ...) until the core says CLOSED.
 *
 * The lower.  The first I_LINK/I_PLINK sends IP_BIND_REQ {6}; until
 * IP_BIND_ACK nothing is sent.  Unlinking sends IP_UNBIND_REQ and fails
 * the route questions in flight.
 *
 * Time.  Each connection has one world timer (us_world_timer_add) armed at
 * the core's earliest deadline; a deadline that moved later is found not
 * due when the timer fires and the timer is armed again, so the busy path
 * (an ACK moving the RTO) never cancels timers.  In a virtual-time world
 * all of it is deterministic: the ISN and cookie secrets and the ephemeral
 * port start come from the world's seeded generator.
 *
 * Output.  Each segment the core emits becomes IP_UNITDATA_REQ {dst, src,
 * proto 6, IP_F_CKSUM | IP_F_DF, cksum_off 16, cookie} with the header in a
 * new block (room for ip and the link header in front) and the payload --
 * dupb()s of the send buffer -- behind it: no copy.  ip fills in the
 * checksum over the pseudo header; DF is always set (RFC 1191 path MTU
 * discovery; ICMP fragmentation needed comes back as IP_ICMP_IND).
 *
 * Input, demultiplexing, listeners, SYN cookies, ICMP: tcp-demux.c.  TPI,
 * data and flow control: tcp-tpi.c.
 *
 * Re-entrancy: a core call may make ip answer synchronously (an
 * IP_UDERROR_IND for a datagram it cannot send) while the core is still
 * running.  pc_depth counts the core calls in progress on a connection;
 * what arrives meanwhile only records an error, and a connection is taken
 * apart only when the outermost call returns (tcp_pcb_after).
 *
 * Reading list: the TPI specification rev. 1.5 §5 (connection-mode
 * service), illumos tcp.c (its TPI paths and T_CONN_RES on an acceptor
 * stream), and the RFCs listed in tcp-core.c.
 *
 * Deviations
 *  - close() never blocks: SO_LINGER {1, n} lets the connection go on
 *    alone and resets it if it is not done after n seconds; {1, 0} resets
 *    at once.
 *  - Data unread when the endpoint closes does not make a RST (the stream
 *    head has dropped it already); data arriving after the close does
 *    (RFC 1122 §4.2.2.13).
 *  - SO_SNDBUF bounds the send buffer and, as much again, what may wait on
 *    the write queue (Linux doubles the value instead).
 *  - IP options are neither sent nor acted on.
 */
#define G_LOG_DOMAIN "us-tcp"

#include "tcp-impl.h"
#include "tcp-probes.h"

#include <errno.h>
#include <string.h>

G_STATIC_ASSERT(offsetof(TcpEp, te_mib) == 0);
G_STATIC_ASSERT(offsetof(TcpPcb, pc_tcb) == 0);

/* ------------------------------------------------------------------ */
/* Per-stack state                                                    */
/* ------------------------------------------------------------------ */

TcpStack *
tcp_stack_find(UsStack *stack)
{
	return us_stack_get_data(stack, "tcp");
}

/* The stack is going: nothing may be sent any more, the orphans go now
 * (their timers with them). */
static void
tcp_stack_teardown(gpointer p)
{
	TcpStack *ts = p;
	ts->ts_dying = TRUE;
	ts->ts_lower = NULL;
	TcpPcb *pcb;
	while ((pcb = g_queue_peek_head(&ts->ts_orphans)) != NULL)
		tcp_pcb_destroy(pcb);
}

static void
tcp_stack_free(gpointer p)
{
	TcpStack *ts = p;
	TcpPcb *pcb;
	while ((pcb = g_queue_peek_head(&ts->ts_orphans)) != NULL)
		tcp_pcb_destroy(pcb);
	us_mux_lowers_free(ts->ts_lowers);
	us_mux_uppers_free(ts->ts_uppers);
	us_mux_tuples_free(ts->ts_conns);
	us_mux_tuples_free(ts->ts_listen);
	g_hash_table_destroy(ts->ts_ports);
	g_hash_table_destroy(ts->ts_orphan_ports);
	g_hash_table_destroy(ts->ts_cookies);
	g_queue_clear_full(&ts->ts_routes, g_free);
	tcp_stack_params_free(&ts->ts_sp);
	g_free(ts);
}

static TcpStack *
tcp_stack_get(queue_t *q)
{
	UsStack *s = us_queue_stack(q);
	TcpStack *ts = tcp_stack_find(s);
	if (ts != NULL)
		return ts;
	ts = g_new0(TcpStack, 1);
	ts->ts_stack = s;
	ts->ts_world = us_stack_world(s);
	GRand *r = us_world_rand(ts->ts_world);
	tcp_ctx_init(&ts->ts_ctx, r);
	tcp_stack_params_init(ts);
	ts->ts_uppers = us_mux_uppers_new(1, US_MAXMIN);
	ts->ts_lowers = us_mux_lowers_new(NULL);
	ts->ts_conns = us_mux_tuples_new(g_rand_int(r));
	ts->ts_listen = us_mux_tuples_new(g_rand_int(r));
	ts->ts_ports = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					     (GDestroyNotify)g_queue_free);
	ts->ts_orphan_ports = g_hash_table_new(g_direct_hash, g_direct_equal);
	ts->ts_cookies = g_hash_table_new(g_direct_hash, g_direct_equal);
	ts->ts_mtu_hint = 1500;
	g_queue_init(&ts->ts_routes);
	g_queue_init(&ts->ts_orphans);
	us_stack_set_data(s, "tcp", ts, tcp_stack_free);
	us_stack_add_teardown(s, tcp_stack_teardown, ts);
	return ts;
}

gboolean
us_tcp_stack_stat(UsStack *stack, const char *name, guint64 *value)
{
	TcpStack *ts = tcp_stack_find(stack);
	for (const UsStatDesc *t = us_tcp_desc.stats; t->name != NULL; t++) {
		if (strcmp(t->name, name) != 0)
			continue;
		/* The offsets point into te_mib, which is first in TcpEp. */
		g_assert(t->offset + sizeof(guint64) <= sizeof(TcpMib));
		*value = 0;
		if (ts != NULL)
			memcpy(value, (const guint8 *)&ts->ts_ctx.tx_mib + t->offset,
			       sizeof *value);
		return TRUE;
	}
	return FALSE;
}

void
tcp_drop(TcpStack *ts, queue_t *q, mblk_t *mp, guint reason)
{
	queue_t *anchor = us_mux_uppers_any_rq(ts->ts_uppers);
	if (q == NULL)
		q = anchor;
	if (q == NULL) {
		freemsg(mp); /* no stream of tcp left to count it against */
		return;
	}
	us_mux_drop(q, mp, reason, anchor);
}

/* ------------------------------------------------------------------ */
/* Output to ip                                                       */
/* ------------------------------------------------------------------ */

/* IP_UNITDATA_REQ for seg (its data consumed) from src to dst; NULL
 * without memory. */
static mblk_t *
tcp_ip_req(TcpStack *ts, uint32_t src, uint32_t dst, TcpSeg *seg, int ttl, int tos, guint32 cookie)
{
	size_t hlen = TCP_HDR_MIN + tcp_opts_len(&seg->seg_opt, seg->seg_flags);
	mblk_t *hp = allocb(TCP_WROFF + hlen, BPRI_MED);
	mblk_t *mp = allocb(sizeof(struct ip_unitdata_req), BPRI_MED);
	if (hp == NULL || mp == NULL) {
		freemsg(hp);
		freemsg(mp);
		tcp_drop(ts, NULL, g_steal_pointer(&seg->seg_data), TCP_DROP_NOMEM);
		return NULL;
	}
	hp->b_rptr = hp->b_wptr = DB_BASE(hp) + TCP_WROFF;
	hp->b_wptr += tcp_hdr_build(hp->b_wptr, seg);
	hp->b_cont = g_steal_pointer(&seg->seg_data);
	if (seg->seg_lso_mss != 0) { /* several segments in one (stream.h) */
		DB_CKSUMFLAGS(hp) |= HW_LSO;
		DB_LSOMSS(hp) = seg->seg_lso_mss;
	}
	struct ip_unitdata_req ur = { .prim = IP_UNITDATA_REQ,
				      .dst = dst,
				      .src = src,
				      .proto = IPPROTO_TCP,
				      .ttl = (uint8_t)ttl,
				      .tos = (uint8_t)tos,
				      .flags = IP_F_CKSUM | IP_F_DF, /* RFC 1191 */
				      .cksum_off = TCP_CKSUM_OFF,
				      .cookie = cookie };
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, &ur, sizeof ur);
	mp->b_wptr += sizeof ur;
	mp->b_cont = hp;
	return mp;
}

static gboolean
tcp_can_send(const TcpStack *ts)
{
	return ts->ts_lower != NULL && ts->ts_ipstate == TCP_IP_BOUND && !ts->ts_dying;
}

void
tcp_ip_send(TcpStack *ts, uint32_t src, uint32_t dst, TcpSeg *seg)
{
	if (!tcp_can_send(ts)) {
		freemsg(g_steal_pointer(&seg->seg_data));
		return;
	}
	ts->ts_ctx.tx_mib.tm_out_segs++;
	if (seg->seg_flags & TCP_F_RST)
		ts->ts_ctx.tx_mib.tm_out_rsts++;
	TCP_PROBE_SEND(NULL, src, dst, seg);
	mblk_t *mp = tcp_ip_req(ts, src, dst, seg, 0, 0, 0);
	if (mp != NULL)
		putnext(ts->ts_lower->ml_qbot, mp);
}

void
tcp_send_reset_for(TcpStack *ts, uint32_t src, uint32_t dst, const TcpSeg *seg)
{
	TcpSeg rst;
	if (tcp_rst_reply(seg, &rst))
		tcp_ip_send(ts, src, dst, &rst);
}

/* ------------------------------------------------------------------ */
/* The core's callbacks                                               */
/* ------------------------------------------------------------------ */

static void
tcp_co_output(TcpConn *c, TcpSeg *seg)
{
	TcpPcb *pcb = tcp_pcb_of(c);
	TcpStack *ts = pcb->pc_ts;
	if (!tcp_can_send(ts)) {
		freemsg(g_steal_pointer(&seg->seg_data)); /* as if lost on the way */
		return;
	}
	TCP_PROBE_SEND(c, c->tcb_laddr, c->tcb_raddr, seg);
	mblk_t *mp = tcp_ip_req(ts, c->tcb_laddr, c->tcb_raddr, seg, pcb->pc_ttl, pcb->pc_tos,
				pcb->pc_cookie);
	if (mp != NULL)
		putnext(ts->ts_lower->ml_qbot, mp);
}

static void
tcp_co_deliver(TcpConn *c, mblk_t *data, gboolean urgent)
{
	tcp_tpi_deliver(tcp_pcb_of(c), data, urgent);
}

/* With auto-tuning the send buffer follows cwnd (twice it, as Linux),
 * up to TCP_AUTOTUNE_MAX, unless the user set SO_SNDBUF. */
static void
tcp_sndbuf_autotune(TcpEp *ep, const TcpConn *c)
{
	guint64 want = MIN(2 * (guint64)c->tcb_cc.cwnd, (guint64)TCP_AUTOTUNE_MAX);
	if (!ep->te_sp.sp_autotune || ep->te_sndbuf_set || want <= ep->te_sndbuf)
		return;
	ep->te_sndbuf = want;
	tcp_ep_apply_sndbuf(ep);
}

static void
tcp_co_event(TcpConn *c, TcpEvent ev, int err)
{
	TcpPcb *pcb = tcp_pcb_of(c);
	switch (ev) {
	case TCP_EV_ESTABLISHED:
		if (pcb->pc_listener != NULL)
			tcp_tpi_conn_ind(pcb);
		else
			tcp_tpi_established(pcb);
		break;
	case TCP_EV_FIN: tcp_tpi_ordrel(pcb); break;
	case TCP_EV_RESET: tcp_tpi_discon(pcb, err); break;
	case TCP_EV_SND_SPACE:
		if (pcb->pc_ep != NULL)
			tcp_sndbuf_autotune(pcb->pc_ep, c);
		if (pcb->pc_ep != NULL && WR(pcb->pc_ep->te_rq)->q_first != NULL)
			qenable(WR(pcb->pc_ep->te_rq)); /* data waits for room */
		break;
	case TCP_EV_CLOSED:
	case TCP_EV_TIME_WAIT: break; /* tcp_pcb_after takes it from here */
	}
}

static uint32_t
tcp_co_rcv_space(TcpConn *c)
{
	return tcp_tpi_rcv_space(tcp_pcb_of(c));
}

static const TcpConnOps tcp_conn_ops = {
	.co_output = tcp_co_output,
	.co_deliver = tcp_co_deliver,
	.co_event = tcp_co_event,
	.co_rcv_space = tcp_co_rcv_space,
};

/* ------------------------------------------------------------------ */
/* Connections                                                        */
/* ------------------------------------------------------------------ */

TcpPcb *
tcp_pcb_new(TcpStack *ts, const TcpEp *ep)
{
	TcpPcb *pcb = g_new0(TcpPcb, 1);
	pcb->pc_ts = ts;
	tcp_conn_init(&pcb->pc_tcb, &ts->ts_ctx, &tcp_conn_ops, pcb);
	do /* 0 means "no cookie" */
		pcb->pc_cookie = ++ts->ts_next_cookie;
	while (pcb->pc_cookie == 0 ||
	       g_hash_table_contains(ts->ts_cookies, GUINT_TO_POINTER(pcb->pc_cookie)));
	g_hash_table_insert(ts->ts_cookies, GUINT_TO_POINTER(pcb->pc_cookie), pcb);
	if (ep != NULL)
		tcp_pcb_apply_opts(pcb, ep);
	return pcb;
}

static void tcp_pcb_fire(gpointer data);

/* Arms the world timer for the core's earliest deadline (see Time). */
static void
tcp_pcb_arm(TcpPcb *pcb)
{
	TcpStack *ts = pcb->pc_ts;
	gint64 d = tcp_conn_deadline(&pcb->pc_tcb);
	if (d == 0) {
		if (pcb->pc_timer != 0)
			us_world_timer_cancel(ts->ts_world, pcb->pc_timer);
		pcb->pc_timer = 0;
		return;
	}
	if (pcb->pc_timer != 0 && pcb->pc_timer_at <= d)
		return; /* fires first and looks again */
	if (pcb->pc_timer != 0)
		us_world_timer_cancel(ts->ts_world, pcb->pc_timer);
	gint64 now = tcp_now(ts);
	pcb->pc_timer = us_world_timer_add(ts->ts_world, d > now ? d - now : 0, tcp_pcb_fire, pcb);
	pcb->pc_timer_at = d;
}

static void
tcp_pcb_fire(gpointer data)
{
	TcpPcb *pcb = data;
	pcb->pc_timer = 0;
	pcb->pc_depth++;
	tcp_conn_timer(&pcb->pc_tcb, tcp_now(pcb->pc_ts));
	pcb->pc_depth--;
	tcp_pcb_after(pcb);
}

void
tcp_pcb_after(TcpPcb *pcb)
{
	if (pcb->pc_depth > 0)
		return;
	if (tcp_conn_is_closed(&pcb->pc_tcb) || pcb->pc_doomed) {
		tcp_pcb_destroy(pcb);
		return;
	}
	tcp_pcb_arm(pcb);
}

static void
tcp_rcvq_free(TcpPcb *pcb)
{
	mblk_t *mp = pcb->pc_rcvq_head;
	while (mp != NULL) {
		mblk_t *n = mp->b_next;
		mp->b_next = NULL;
		freemsg(mp);
		mp = n;
	}
	pcb->pc_rcvq_head = pcb->pc_rcvq_tail = NULL;
	pcb->pc_rcvq_bytes = 0;
}

void
tcp_pcb_destroy(TcpPcb *pcb)
{
	TcpStack *ts = pcb->pc_ts;
	if (pcb->pc_timer != 0)
		us_world_timer_cancel(ts->ts_world, pcb->pc_timer);
	pcb->pc_timer = 0;
	tcp_conn_unhash(pcb);
	g_hash_table_remove(ts->ts_cookies, GUINT_TO_POINTER(pcb->pc_cookie));
	for (GList *l = ts->ts_routes.head; l != NULL; l = l->next) {
		TcpRouteWait *w = l->data;
		if (w->rw_pcb == pcb)
			w->rw_pcb = NULL;
	}
	if (pcb->pc_listener != NULL)
		tcp_listen_forget(pcb);
	if (pcb->pc_ep != NULL) {
		TcpEp *ep = pcb->pc_ep;
		ep->te_pcb = NULL;
		if (ep->te_state != TS_UNBND)
			ep->te_state = ep->te_bound ? TS_IDLE : TS_UNBND;
	}
	if (pcb->pc_orphan) {
		g_queue_remove(&ts->ts_orphans, pcb);
		tcp_orphan_port(ts, pcb->pc_tcb.tcb_lport, -1);
	}
	if (pcb->pc_tcb.tcb_state != TCPS_CLOSED)
		tcp_enter_state(&pcb->pc_tcb, TCPS_CLOSED, tcp_now(ts)); /* counters */
	tcp_rcvq_free(pcb);
	tcp_conn_fini(&pcb->pc_tcb);
	g_free(pcb);
}

uint32_t
tcp_ep_rcvbuf_max(const TcpEp *ep)
{
	if (!ep->te_sp.sp_autotune || ep->te_rcvbuf_set)
		return (uint32_t)ep->te_rcvbuf;
	return MAX((uint32_t)ep->te_rcvbuf, TCP_AUTOTUNE_MAX);
}

void
tcp_pcb_apply_opts(TcpPcb *pcb, const TcpEp *ep)
{
	TcpConn *c = &pcb->pc_tcb;
	c->tcb_sndbuf = (uint32_t)ep->te_sndbuf;
	c->tcb_rcvbuf = (uint32_t)ep->te_rcvbuf;
	c->tcb_rcvbuf_max = tcp_ep_rcvbuf_max(ep);
	c->tcb_nodelay = ep->te_nodelay;
	c->tcb_cork = ep->te_cork;
	c->tcb_keepalive = ep->te_keepalive;
	c->tcb_keepidle = (gint64)ep->te_keepidle * TCP_SEC;
	c->tcb_keepintvl = (gint64)ep->te_keepintvl * TCP_SEC;
	c->tcb_keepcnt = (guint)ep->te_keepcnt;
	c->tcb_syn_retries = (guint)ep->te_syncnt;
	c->tcb_linger2 = (gint64)ep->te_linger2 * TCP_SEC;
	if ((uint32_t)ep->te_maxseg != c->tcb_user_mss) {
		c->tcb_user_mss = (uint32_t)ep->te_maxseg;
		tcp_update_mss(c);
	}
	pcb->pc_ttl = ep->te_ttl > 0 ? ep->te_ttl : 0;
	pcb->pc_tos = ep->te_tos;
	const char *cc = ep->te_cc[0] != '\0' ? ep->te_cc : ep->te_sp.sp_cc;
	if (cc != NULL && strcmp(cc, c->tcb_ccops->name) != 0)
		(void)tcp_conn_set_cc(c, us_tcp_cc_find(cc));
	if (c->tcb_state >= TCPS_ESTABLISHED)
		tcp_keep_arm(c, tcp_now(pcb->pc_ts));
}

/* ------------------------------------------------------------------ */
/* Routes: asking ip                                                  */
/* ------------------------------------------------------------------ */

gboolean
tcp_route_ask(TcpStack *ts, TcpRouteWait *w)
{
	if (ts->ts_lower == NULL || ts->ts_dying) {
		g_free(w);
		return FALSE;
	}
	mblk_t *mp = allocb(sizeof(struct ip_route_req), BPRI_MED);
	if (mp == NULL) {
		g_free(w);
		return FALSE;
	}
	struct ip_route_req rr = { .prim = IP_ROUTE_REQ, .dst = w->rw_dst };
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, &rr, sizeof rr);
	mp->b_wptr += sizeof rr;
	g_queue_push_tail(&ts->ts_routes, w); /* before sending: ip may answer at once */
	putnext(ts->ts_lower->ml_qbot, mp);
	return TRUE;
}

static void
tcp_route_dispatch(TcpStack *ts, TcpRouteWait *w, const struct ip_route_ack *ra, int err)
{
	if (ra != NULL && ra->mtu >= 68)
		ts->ts_mtu_hint = ra->mtu;
	if (w->rw_kind == TCP_RW_SYN) {
		if (w->rw_pcb != NULL)
			tcp_syn_route_done(w->rw_pcb, ra);
	} else if (w->rw_ep != NULL) {
		tcp_tpi_route_done(w->rw_ep, w->rw_kind, ra, err);
	}
	g_free(w);
}

/* IP_ROUTE_ACK (ra) or IP_ERROR_ACK for IP_ROUTE_REQ (ra NULL, err). */
static void
tcp_route_answer(TcpStack *ts, queue_t *q, mblk_t *mp, const struct ip_route_ack *ra, int err)
{
	TcpRouteWait *w = g_queue_pop_head(&ts->ts_routes);
	if (w == NULL) {
		tcp_drop(ts, q, mp, TCP_DROP_LATE);
		return;
	}
	freemsg(mp);
	if (ra != NULL && ra->dst != w->rw_dst) {
		g_warning("tcp: IP_ROUTE_ACK out of order");
		ra = NULL;
		err = EPROTO;
	}
	tcp_route_dispatch(ts, w, ra, err);
}

static void
tcp_routes_fail(TcpStack *ts, int err)
{
	TcpRouteWait *w;
	while ((w = g_queue_pop_head(&ts->ts_routes)) != NULL)
		tcp_route_dispatch(ts, w, NULL, err);
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static int
tcp_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)oflag;
	(void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO; /* every open is a new endpoint */
	TcpStack *ts = tcp_stack_get(rq);
	TcpEp *ep = g_new0(TcpEp, 1);
	tcp_ep_defaults(ep, ts);
	ep->te_rq = rq;
	int err = us_mux_uppers_alloc(ts->ts_uppers, rq, ep, &ep->te_minor);
	if (err != 0) {
		tcp_stack_params_free(&ep->te_sp);
		g_free(ep);
		return err;
	}
	rq->q_ptr = WR(rq)->q_ptr = ep;
	*devp = makedevice(getmajor(*devp), ep->te_minor);
	tcp_ep_apply_sndbuf(ep);
	tcp_ep_setopts(ep);
	return 0;
}

/* What still waits on a closing endpoint's write queue goes to its
 * connection, in order: data (the send buffer may overflow SO_SNDBUF now:
 * close() has returned, the data must still go) and T_ORDREL_REQ. */
static void
tcp_ep_flush_to_conn(TcpEp *ep, TcpConn *c, gint64 now)
{
	queue_t *wq = WR(ep->te_rq);
	mblk_t *mp;
	while ((mp = getq(wq)) != NULL) {
		t_scalar_t prim = -1;
		if (DB_TYPE(mp) != M_DATA && MBLKL(mp) >= sizeof prim)
			memcpy(&prim, mp->b_rptr, sizeof prim);
		if (DB_TYPE(mp) == M_DATA) {
			tcp_conn_send(c, mp, FALSE, now);
		} else if (prim == T_DATA_REQ || prim == T_EXDATA_REQ) {
			tcp_conn_send(c, unlinkb(mp), prim == T_EXDATA_REQ, now);
			freeb(mp);
		} else if (prim == T_ORDREL_REQ) {
			freemsg(mp);
			tcp_conn_shutdown(c, now);
		} else {
			us_drop(wq, mp, TCP_DROP_CLOSED);
		}
	}
}

/* The endpoint's connection goes on alone, or is reset (SO_LINGER
 * {1, 0}, or the stack is going). */
static void
tcp_ep_close_conn(TcpEp *ep)
{
	TcpStack *ts = ep->te_ts;
	TcpPcb *pcb = g_steal_pointer(&ep->te_pcb);
	TcpConn *c = &pcb->pc_tcb;
	gint64 now = tcp_now(ts);
	pcb->pc_ep = NULL;
	c->tcb_epmib = NULL;
	if (ts->ts_dying) {
		tcp_pcb_destroy(pcb);
		return;
	}
	pcb->pc_depth++;
	if (ep->te_linger_onoff && ep->te_linger_secs == 0) {
		tcp_conn_abort(c, now);
	} else {
		tcp_ep_flush_to_conn(ep, c, now);
		tcp_conn_close(c, ep->te_linger_onoff ? (gint64)ep->te_linger_secs * TCP_SEC : 0,
			       now);
	}
	pcb->pc_depth--;
	if (!tcp_conn_is_closed(c)) {
		pcb->pc_orphan = TRUE;
		g_queue_push_tail(&ts->ts_orphans, pcb);
		tcp_orphan_port(ts, c->tcb_lport, +1);
	}
	tcp_pcb_after(pcb);
}

static int
tcp_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	TcpEp *ep = rq->q_ptr;
	TcpStack *ts = ep->te_ts;
	mblk_t *mp;
	for (GList *l = ts->ts_routes.head; l != NULL; l = l->next) {
		TcpRouteWait *w = l->data;
		if (w->rw_ep == ep)
			w->rw_ep = NULL;
	}
	if (ep->te_backlog > 0)
		tcp_listen_stop(ep);
	if (ep->te_pcb != NULL)
		tcp_ep_close_conn(ep);
	us_mux_lowers_forget(ts->ts_lowers, WR(rq));
	while ((mp = getq(WR(rq))) != NULL)
		us_drop(WR(rq), mp, TCP_DROP_CLOSED);
	flushq(rq, FLUSHALL);
	tcp_port_release(ep);
	us_mux_uppers_remove(ts->ts_uppers, ep->te_minor);
	tcp_stack_params_free(&ep->te_sp);
	g_free(ep);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The ip lower                                                       */
/* ------------------------------------------------------------------ */

static int
tcp_on_link(queue_t *upper_wq, UsMuxLower *lower)
{
	TcpStack *ts = tcp_stack_find(us_queue_stack(upper_wq));
	if (ts->ts_lower != NULL)
		return EBUSY;
	struct ip_bind_req br = { .prim = IP_BIND_REQ, .proto = IPPROTO_TCP };
	ts->ts_lower = lower; /* before sending: ip may answer at once */
	ts->ts_ipstate = TCP_IP_BINDING;
	if (!us_mux_lower_send_proto(lower, &br, sizeof br)) {
		ts->ts_lower = NULL;
		ts->ts_ipstate = TCP_IP_NONE;
		return ENOSR;
	}
	return 0;
}

static void
tcp_on_unlink(queue_t *upper_wq, UsMuxLower *lower)
{
	TcpStack *ts = tcp_stack_find(us_queue_stack(upper_wq));
	if (lower != ts->ts_lower)
		return;
	if (ts->ts_ipstate == TCP_IP_BINDING || ts->ts_ipstate == TCP_IP_BOUND) {
		struct ip_unbind_req ur = { .prim = IP_UNBIND_REQ };
		if (!us_mux_lower_send_proto(lower, &ur, sizeof ur))
			us_drop(upper_wq, NULL, TCP_DROP_NOMEM);
	}
	ts->ts_lower = NULL;
	ts->ts_ipstate = TCP_IP_NONE;
	tcp_routes_fail(ts, ENETDOWN);
}

static const UsMuxLinkOps tcp_link_ops = {
	.on_link = tcp_on_link,
	.on_unlink = tcp_on_unlink,
	.unlink_drop_reason = TCP_DROP_UNLINKED,
};

/* The link ioctls; every other ioctl is refused (EINVAL). */
void
tcp_ioctl(queue_t *wq, mblk_t *mp)
{
	TcpStack *ts = tcp_stack_find(us_queue_stack(wq));
	if (us_mux_handle_link_ioctl(wq, mp, ts->ts_lowers, &tcp_link_ops))
		return;
	if (MBLKL(mp) < sizeof(struct iocblk)) {
		us_drop(wq, mp, TCP_DROP_TPI);
		return;
	}
	miocnak(wq, mp, 0, EINVAL);
}

static gboolean
tcp_prim_read(const mblk_t *mp, void *out, size_t len)
{
	if (MBLKL(mp) < len)
		return FALSE;
	memcpy(out, mp->b_rptr, len);
	return TRUE;
}

static void
tcp_ip_error_ack(TcpStack *ts, queue_t *q, mblk_t *mp)
{
	struct ip_error_ack ea;
	if (!tcp_prim_read(mp, &ea, sizeof ea)) {
		tcp_drop(ts, q, mp, TCP_DROP_BADPRIM);
		return;
	}
	if (ea.error_prim == IP_ROUTE_REQ) {
		tcp_route_answer(ts, q, mp, NULL, (int)ea.error);
	} else if (ea.error_prim == IP_BIND_REQ && ts->ts_ipstate == TCP_IP_BINDING) {
		ts->ts_ipstate = TCP_IP_FAILED;
		g_warning("tcp: ip refused IP_BIND_REQ: %s", g_strerror((int)ea.error));
		freemsg(mp);
	} else {
		tcp_drop(ts, q, mp, TCP_DROP_LATE);
	}
}

static void
tcp_ip_ack(TcpStack *ts, queue_t *q, mblk_t *mp, uint32_t prim)
{
	struct ip_ok_ack oa;
	if (prim == IP_BIND_ACK && ts->ts_ipstate == TCP_IP_BINDING) {
		ts->ts_ipstate = TCP_IP_BOUND;
		freemsg(mp);
	} else if (prim == IP_OK_ACK && tcp_prim_read(mp, &oa, sizeof oa) &&
		   oa.correct_prim == IP_UNBIND_REQ) {
		freemsg(mp);
	} else {
		tcp_drop(ts, q, mp, TCP_DROP_LATE);
	}
}

/* A segment ip could not send: the error is the connection's soft error
 * (RFC 1122 §4.2.3.9); EMSGSIZE means the route's MTU shrank. */
static void
tcp_ip_uderror(TcpStack *ts, queue_t *q, mblk_t *mp)
{
	struct ip_uderror_ind u;
	if (!tcp_prim_read(mp, &u, sizeof u)) {
		tcp_drop(ts, q, mp, TCP_DROP_BADPRIM);
		return;
	}
	TcpPcb *pcb = g_hash_table_lookup(ts->ts_cookies, GUINT_TO_POINTER(u.cookie));
	if (pcb == NULL) {
		tcp_drop(ts, q, mp, TCP_DROP_ICMP);
		return;
	}
	freemsg(mp);
	pcb->pc_tcb.tcb_soft_error = (int)u.error;
	if (u.error == EMSGSIZE && pcb->pc_tcb.tcb_mtu > 576 && pcb->pc_depth == 0) {
		pcb->pc_depth++;
		tcp_conn_pmtu(&pcb->pc_tcb, 576, pcb->pc_tcb.tcb_snd_una, tcp_now(ts));
		pcb->pc_depth--;
		tcp_pcb_after(pcb);
	}
}

static void
tcp_ip_prim(TcpStack *ts, queue_t *q, mblk_t *mp)
{
	uint32_t prim;
	union {
		struct ip_unitdata_ind ui;
		struct ip_icmp_ind ii;
		struct ip_route_ack ra;
	} u;
	if (!tcp_prim_read(mp, &prim, sizeof prim)) {
		tcp_drop(ts, q, mp, TCP_DROP_BADPRIM);
		return;
	}
	switch (prim) {
	case IP_UNITDATA_IND:
		if (!tcp_prim_read(mp, &u.ui, sizeof u.ui) || mp->b_cont == NULL)
			tcp_drop(ts, q, mp, TCP_DROP_BADPRIM);
		else
			tcp_input(ts, q, mp, &u.ui);
		break;
	case IP_ICMP_IND:
		if (!tcp_prim_read(mp, &u.ii, sizeof u.ii))
			tcp_drop(ts, q, mp, TCP_DROP_BADPRIM);
		else
			tcp_icmp(ts, q, mp, &u.ii);
		break;
	case IP_ROUTE_ACK:
		if (!tcp_prim_read(mp, &u.ra, sizeof u.ra))
			tcp_drop(ts, q, mp, TCP_DROP_BADPRIM);
		else
			tcp_route_answer(ts, q, mp, &u.ra, 0);
		break;
	case IP_UDERROR_IND: tcp_ip_uderror(ts, q, mp); break;
	case IP_ERROR_ACK: tcp_ip_error_ack(ts, q, mp); break;
	case IP_BIND_ACK:
	case IP_OK_ACK: tcp_ip_ack(ts, q, mp, prim); break;
	default: tcp_drop(ts, q, mp, TCP_DROP_BADPRIM); break;
	}
}

/* Lower read put: everything from ip is handled at once. */
static int
tcp_lrput(queue_t *q, mblk_t *mp)
{
	TcpStack *ts = tcp_stack_find(us_queue_stack(q));
	UsMuxLower *lo = us_mux_lower_of(q);
	if (ts == NULL) {
		us_drop(q, mp, US_DROP_UNHANDLED);
		return 0;
	}
	if (lo == NULL || lo != ts->ts_lower) {
		tcp_drop(ts, q, mp, TCP_DROP_UNLINKED);
		return 0;
	}
	switch (DB_TYPE(mp)) {
	case M_PROTO:
	case M_PCPROTO: tcp_ip_prim(ts, q, mp); break;
	case M_FLUSH: us_mux_lower_flush(q, mp); break;
	default: tcp_drop(ts, q, mp, TCP_DROP_BADPRIM); break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info tcp_minfo = {
	.mi_idnum = 2116,
	.mi_idname = "tcp",
	.mi_minpsz = 0,
	.mi_maxpsz = TCP_TIDU_SIZE,
	.mi_hiwat = TCP_SNDBUF_DEFAULT,
	.mi_lowat = TCP_SNDBUF_DEFAULT / 4,
};
static struct qinit tcp_urinit = {
	.qi_putp = us_putnext_put,
	.qi_srvp = tcp_ursrv,
	.qi_qopen = tcp_open,
	.qi_qclose = tcp_close,
	.qi_minfo = &tcp_minfo,
};
static struct qinit tcp_uwinit = {
	.qi_putp = tcp_uwput,
	.qi_srvp = tcp_uwsrv,
	.qi_minfo = &tcp_minfo,
};
static struct qinit tcp_lrinit = {
	.qi_putp = tcp_lrput,
	.qi_minfo = &tcp_minfo,
};
static struct qinit tcp_lwinit = {
	.qi_putp = us_mux_lower_wput,
	.qi_srvp = us_mux_lower_wsrv,
	.qi_minfo = &tcp_minfo,
};
static struct streamtab tcp_info = {
	.st_rdinit = &tcp_urinit,
	.st_wrinit = &tcp_uwinit,
	.st_muxrinit = &tcp_lrinit,
	.st_muxwinit = &tcp_lwinit,
};

#define TCP_STAT(nm, desc, fld) US_STAT(nm, desc, TcpEp, te_mib.fld)
static const UsStatDesc tcp_stats[] = {
	TCP_STAT(TCP_STAT_ACTIVE_OPENS, "SYN-SENT from CLOSED", tm_active_opens),
	TCP_STAT(TCP_STAT_PASSIVE_OPENS, "SYN-RECEIVED from LISTEN", tm_passive_opens),
	TCP_STAT(TCP_STAT_ATTEMPT_FAILS, "opens that failed", tm_attempt_fails),
	TCP_STAT(TCP_STAT_ESTAB_RESETS, "ESTABLISHED or CLOSE-WAIT to CLOSED", tm_estab_resets),
	TCP_STAT(TCP_STAT_CURR_ESTAB, "ESTABLISHED or CLOSE-WAIT now (stack only)", tm_curr_estab),
	TCP_STAT(TCP_STAT_IN_SEGS, "segments received", tm_in_segs),
	TCP_STAT(TCP_STAT_OUT_SEGS, "segments sent", tm_out_segs),
	TCP_STAT(TCP_STAT_RETRANS_SEGS, "segments retransmitted", tm_retrans_segs),
	TCP_STAT(TCP_STAT_IN_ERRS, "segments received in error", tm_in_errs),
	TCP_STAT(TCP_STAT_OUT_RSTS, "resets sent", tm_out_rsts),
	TCP_STAT(TCP_STAT_IN_CSUM_ERRORS, "segments with a bad checksum", tm_in_csum_errors),
	TCP_STAT(TCP_STAT_TIMEOUTS, "retransmission timeouts", tm_timeouts),
	TCP_STAT(TCP_STAT_FAST_RETRANS, "fast retransmits", tm_fast_retrans),
	TCP_STAT(TCP_STAT_SACK_RECOVERIES, "SACK loss recoveries (RFC 6675)", tm_sack_recoveries),
	TCP_STAT(TCP_STAT_RENO_RECOVERIES, "NewReno recoveries (RFC 6582)", tm_reno_recoveries),
	TCP_STAT(TCP_STAT_CHALLENGE_ACKS, "challenge ACKs sent (RFC 5961)", tm_challenge_acks),
	TCP_STAT(TCP_STAT_PAWS_DROPS, "segments dropped by PAWS (RFC 7323)", tm_paws_drops),
	TCP_STAT(TCP_STAT_SYNCOOKIES_SENT, "SYN cookies sent", tm_syncookies_sent),
	TCP_STAT(TCP_STAT_SYNCOOKIES_RECV, "valid SYN cookies received", tm_syncookies_recv),
	TCP_STAT(TCP_STAT_SYNCOOKIES_FAILED, "invalid SYN cookies", tm_syncookies_failed),
	TCP_STAT(TCP_STAT_LISTEN_OVERFLOWS, "SYN or ACK beyond a listener's backlog",
		 tm_listen_overflows),
	TCP_STAT(TCP_STAT_KEEPALIVE_PROBES, "keepalive probes sent", tm_keepalive_probes),
	TCP_STAT(TCP_STAT_PERSIST_PROBES, "zero-window probes sent", tm_persist_probes),
	TCP_STAT(TCP_STAT_DELAYED_ACKS, "ACKs sent by the delayed-ACK timer", tm_delayed_acks),
	TCP_STAT(TCP_STAT_OFO_QUEUED, "segments queued out of order", tm_ofo_queued),
	TCP_STAT(TCP_STAT_TW_RECYCLED, "TIME-WAIT connections reused by a new SYN", tm_tw_recycled),
	TCP_STAT(TCP_STAT_PMTU_UPDATES, "path MTU reductions (RFC 1191)", tm_pmtu_updates),
	{ 0 },
};

static const char *const tcp_drop_reasons[] = {
	"malformed or unknown primitive from ip",
	"segment shorter than its header",
	"bad data offset or options",
	"bad checksum",
	"no connection or listener (RST sent)",
	"to or from a broadcast or multicast address",
	"sequence number not acceptable (ACK sent)",
	"timestamp older than TS.Recent (PAWS)",
	"acknowledges something not sent",
	"RST not exactly at RCV.NXT (RFC 5961)",
	"SYN in a synchronized state (RFC 5961)",
	"no ACK bit in a synchronized state",
	"listener's queues full",
	"invalid SYN cookie",
	"not acceptable in the connection's state",
	"beyond the receive buffer",
	"no memory",
	"lower stream unlinked",
	"queued on an endpoint when it closed",
	"TPI message too short or unexpected",
	"ip acknowledgement nobody waits for",
	"ICMP error for no connection, or ignored",
	"data for a closed endpoint (RST sent)",
	"duplicate data",
	NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(tcp_drop_reasons) == TCP_DROP_N + 1);

static const char *const tcp_accepts[] = {
	"M_PROTO/M_PCPROTO (TPI T_COTS_ORD: T_INFO, T_CAPABILITY, T_ADDR, T_BIND, O_T_BIND, "
	"T_UNBIND, T_SVR4_OPTMGMT, T_CONN, T_CONN_RES, T_DISCON, T_ORDREL, T_EXDATA, T_DATA)",
	"M_DATA",
	"M_IOCTL (I_LINK, I_PLINK, I_UNLINK, I_PUNLINK)",
	"M_FLUSH",
	"from ip: IP_BIND_ACK, IP_OK_ACK, IP_ERROR_ACK, IP_ROUTE_ACK, IP_UNITDATA_IND, "
	"IP_UDERROR_IND, IP_ICMP_IND",
	NULL,
};

const UsModuleDesc us_tcp_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "tcp",
	.summary = "TCP (RFC 9293): TPI connection-oriented transport over ip",
	.kind = US_KIND_MUX,
	.streamtab = &tcp_info,
	.mt_flags = US_MT_PERSTACK,
	.params = tcp_params,
	.stats = tcp_stats,
	.drop_reasons = tcp_drop_reasons,
	.accepts = tcp_accepts,
};
