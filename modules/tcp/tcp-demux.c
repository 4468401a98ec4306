/* SPDX-License-Identifier: MIT */
/*
 * tcp-demux -- where a segment goes: the checks at the boundary, the
 * connection and listener tables, ports, a listener's SYN and accept
 * queues, SYN cookies, and ICMP errors.
 *
 * Theory
 * ------
 * Input (IP_UNITDATA_IND, b_cont from the IP header), in order:
 *   1. at least the IP header and 20 bytes (else short, tcpInErrs);
 *   2. not to or from a broadcast or multicast address (RFC 1122
 *      §4.2.3.10: such SYNs MUST be dropped; so is the rest);
 *   3. the checksum over the pseudo header (RFC 9293 §3.1, MUST-2/3;
 *      tcpInCsumErrors and tcpInErrs);
 *   4. the header parsed once (data offset, options; RFC 9293 §3.2: a
 *      bad option length drops the segment); the payload is what follows,
 *      its blocks kept as they are (no copy);
 *   5. the connection {dst, dport, src, sport} (UsMuxTuples, behind a
 *      one-entry cache of the last connection found): the core
 *      takes the segment; a new SYN for a connection in TIME-WAIT that may
 *      reopen it (RFC 6191) ends the old one and goes to the listener; the
 *      final ACK of a handshake whose listener's accept queue is full is
 *      dropped (the SYN,ACK will be sent again);
 *   6. else the listener on {dst, dport}, then {INADDR_ANY, dport}
 *      (RFC 9293 §3.10.7.2); a SYN makes a connection in its SYN queue
 *      once ip told the route's MTU; an ACK may complete a SYN-cookie
 *      handshake; anything else gets a RST (or nothing, for a RST);
 *   7. else, CLOSED (RFC 9293 §3.10.7.1): a RST unless it was one.
 *
 * Listeners: a SYN queue (connections in SYN-RECEIVED) and an accept queue
 * (ESTABLISHED, announced with T_CONN_IND), each bounded by the backlog.
 * A SYN finding the SYN queue full gets a SYN cookie (RFC 4987 §3.6) when
 * "syncookies" is on, else it is dropped; one finding the accept queue full
 * is dropped (the peer retries).  Cookies are checked only for a while
 * after the last overflow.  Closing a listener resets what it held.
 *
 * Ports (Linux's rules for TCP): a bind conflicts with an endpoint on the
 * same port whose address overlaps (equal or either INADDR_ANY) unless
 * both set SO_REUSEADDR and the other is not listening, or both set
 * SO_REUSEPORT; a port that orphaned connections (TIME-WAIT ...) still use
 * needs SO_REUSEADDR.  Ephemeral ports: 32768-60999 from a pseudo-random
 * start (the world's seeded generator), the first nobody holds.
 *
 * ICMP (IP_ICMP_IND quoting our IP header and 8 bytes of ours): the
 * connection named by the quote; fragmentation needed lowers its path MTU
 * (RFC 1191 §6, plateaus when the router gave no MTU); port and protocol
 * unreachable and the administrative prohibitions are hard errors (they end
 * a connection being opened), the rest soft (RFC 1122 §4.2.3.9), except
 * that any destination unreachable ends a connection in SYN-SENT (what
 * RFC 5461 §4.1 reports stacks do: connect() fails at once with
 * EHOSTUNREACH rather than after the SYN retries).
 */
#define G_LOG_DOMAIN "us-tcp"

#include "tcp-impl.h"
#include "tcp-probes.h"
#include "inet-cksum.h"

#include <errno.h>
#include <string.h>

#define TCP_IP_HDR_MIN 20
#define TCP_COOKIE_WINDOW (128 * TCP_SEC) /* cookies are checked this long after an overflow */

/* ------------------------------------------------------------------ */
/* Ports                                                              */
/* ------------------------------------------------------------------ */

static GQueue *
tcp_port_group(TcpStack *ts, uint16_t port)
{
	return g_hash_table_lookup(ts->ts_ports, GUINT_TO_POINTER(port));
}

static guint
tcp_port_orphans(TcpStack *ts, uint16_t port)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(ts->ts_orphan_ports, GUINT_TO_POINTER(port)));
}

void
tcp_orphan_port(TcpStack *ts, uint16_t port, int delta)
{
	guint n = tcp_port_orphans(ts, port);
	n = delta < 0 ? (n > 0 ? n - 1 : 0) : n + 1;
	if (n == 0)
		g_hash_table_remove(ts->ts_orphan_ports, GUINT_TO_POINTER(port));
	else
		g_hash_table_insert(ts->ts_orphan_ports, GUINT_TO_POINTER(port),
				    GUINT_TO_POINTER(n));
}

/* TRUE if ep may not hold laddr:port (the theory's rules). */
static gboolean
tcp_port_conflict(const TcpEp *ep, uint32_t laddr, uint16_t port)
{
	TcpStack *ts = ep->te_ts;
	GQueue *g = tcp_port_group(ts, port);
	for (GList *l = g != NULL ? g->head : NULL; l != NULL; l = l->next) {
		const TcpEp *e = l->data;
		if (e == ep)
			continue;
		if (e->te_laddr != laddr && e->te_laddr != INADDR_ANY && laddr != INADDR_ANY)
			continue;
		if (ep->te_reuseaddr && e->te_reuseaddr && e->te_backlog == 0)
			continue;
		if (ep->te_reuseport && e->te_reuseport)
			continue;
		return TRUE;
	}
	return tcp_port_orphans(ts, port) > 0 && !ep->te_reuseaddr;
}

static gboolean
tcp_port_ephemeral(TcpStack *ts, uint16_t *portp)
{
	const guint32 n = TCP_PORT_HIGH - TCP_PORT_LOW + 1;
	guint32 start = (guint32)g_rand_int_range(us_world_rand(ts->ts_world), 0, (gint32)n);
	for (guint32 i = 0; i < n; i++) {
		uint16_t p = (uint16_t)(TCP_PORT_LOW + (start + i) % n);
		if (tcp_port_group(ts, p) == NULL && tcp_port_orphans(ts, p) == 0) {
			*portp = p;
			return TRUE;
		}
	}
	return FALSE;
}

void
tcp_port_attach(TcpEp *ep, uint16_t port)
{
	TcpStack *ts = ep->te_ts;
	GQueue *g = tcp_port_group(ts, port);
	if (g == NULL) {
		g = g_queue_new();
		g_hash_table_insert(ts->ts_ports, GUINT_TO_POINTER(port), g);
	}
	g_queue_push_tail(g, ep);
	ep->te_bound = TRUE;
	ep->te_lport = port;
}

int
tcp_port_hold(TcpEp *ep, uint32_t laddr, uint16_t *portp, gboolean may_move)
{
	if (*portp != 0 && tcp_port_conflict(ep, laddr, *portp)) {
		if (!may_move)
			return TADDRBUSY;
		*portp = 0;
	}
	if (*portp == 0 && !tcp_port_ephemeral(ep->te_ts, portp))
		return TNOADDR;
	tcp_port_attach(ep, *portp);
	ep->te_laddr = ep->te_baddr = laddr;
	return 0;
}

void
tcp_port_release(TcpEp *ep)
{
	if (!ep->te_bound)
		return;
	TcpStack *ts = ep->te_ts;
	GQueue *g = tcp_port_group(ts, ep->te_lport);
	if (g != NULL) {
		g_queue_remove(g, ep);
		if (g_queue_is_empty(g))
			g_hash_table_remove(ts->ts_ports, GUINT_TO_POINTER(ep->te_lport));
	}
	ep->te_bound = FALSE;
	ep->te_lport = 0;
	ep->te_laddr = ep->te_baddr = INADDR_ANY;
}

/* ------------------------------------------------------------------ */
/* Connections and listeners                                          */
/* ------------------------------------------------------------------ */

int
tcp_conn_hash(TcpPcb *pcb)
{
	const TcpConn *c = &pcb->pc_tcb;
	pcb->pc_key = US_MUX_TUPLE(c->tcb_laddr, c->tcb_lport, c->tcb_raddr, c->tcb_rport);
	int err =
		us_mux_tuples_add(pcb->pc_ts->ts_conns, &pcb->pc_key, &pcb->pc_ts->ts_anchor, pcb);
	pcb->pc_hashed = err == 0;
	return err;
}

void
tcp_conn_unhash(TcpPcb *pcb)
{
	if (pcb->pc_ts->ts_last == pcb)
		pcb->pc_ts->ts_last = NULL;
	if (pcb->pc_hashed)
		us_mux_tuples_remove(pcb->pc_ts->ts_conns, &pcb->pc_key);
	pcb->pc_hashed = FALSE;
}

/* The connection of a 4-tuple: the last one found is tried first (a bulk
 * transfer's segments come in trains). */
static TcpPcb *
tcp_conn_lookup(TcpStack *ts, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	TcpPcb *last = ts->ts_last;
	if (last != NULL && last->pc_tcb.tcb_lport == lport && last->pc_tcb.tcb_rport == rport &&
	    last->pc_tcb.tcb_raddr == raddr && last->pc_tcb.tcb_laddr == laddr)
		return last;
	UsMuxTuple k = US_MUX_TUPLE(laddr, lport, raddr, rport);
	gpointer pcb = NULL;
	if (us_mux_tuples_lookup(ts->ts_conns, &k, &pcb) == NULL)
		return NULL;
	ts->ts_last = pcb;
	return pcb;
}

int
tcp_listen_start(TcpEp *ep, guint backlog)
{
	UsMuxTuple k = US_MUX_TUPLE(ep->te_laddr, ep->te_lport);
	if (us_mux_tuples_add(ep->te_ts->ts_listen, &k, &ep->te_ts->ts_anchor, ep) != 0)
		return TADDRBUSY;
	ep->te_backlog = backlog;
	g_queue_init(&ep->te_synq);
	g_queue_init(&ep->te_acceptq);
	return 0;
}

/* Closing or unbinding a listener: what it held is reset. */
void
tcp_listen_stop(TcpEp *ep)
{
	TcpStack *ts = ep->te_ts;
	UsMuxTuple k = US_MUX_TUPLE(ep->te_laddr, ep->te_lport);
	us_mux_tuples_remove(ts->ts_listen, &k);
	TcpPcb *pcb;
	while ((pcb = g_queue_peek_head(&ep->te_synq)) != NULL ||
	       (pcb = g_queue_peek_head(&ep->te_acceptq)) != NULL) {
		tcp_listen_forget(pcb);
		if (ts->ts_dying) {
			tcp_pcb_destroy(pcb);
			continue;
		}
		pcb->pc_depth++;
		tcp_conn_abort(&pcb->pc_tcb, tcp_now(ts));
		pcb->pc_depth--;
		tcp_pcb_after(pcb);
	}
	ep->te_backlog = 0;
}

void
tcp_listen_forget(TcpPcb *pcb)
{
	TcpEp *l = pcb->pc_listener;
	if (l == NULL)
		return;
	g_queue_remove(pcb->pc_in_acceptq ? &l->te_acceptq : &l->te_synq, pcb);
	pcb->pc_listener = NULL;
	pcb->pc_in_acceptq = FALSE;
}

static TcpEp *
tcp_listener_lookup(TcpStack *ts, uint32_t addr, uint16_t port)
{
	UsMuxTuple k = US_MUX_TUPLE(addr, port);
	gpointer ep = NULL;
	if (us_mux_tuples_lookup(ts->ts_listen, &k, &ep) != NULL)
		return ep;
	k = US_MUX_TUPLE(INADDR_ANY, port);
	return us_mux_tuples_lookup(ts->ts_listen, &k, &ep) != NULL ? ep : NULL;
}

/* ------------------------------------------------------------------ */
/* Passive opens                                                      */
/* ------------------------------------------------------------------ */

/* A connection for listener l toward src:sport, in its SYN queue. */
static TcpPcb *
tcp_passive_pcb(TcpStack *ts, TcpEp *l, uint32_t dst, uint16_t dport, uint32_t src, uint16_t sport)
{
	TcpPcb *pcb = tcp_pcb_new(ts, l);
	tcp_conn_set_addrs(&pcb->pc_tcb, dst, dport, src, sport);
	if (tcp_conn_hash(pcb) != 0) {
		tcp_pcb_destroy(pcb);
		return NULL;
	}
	pcb->pc_tcb.tcb_epmib = &l->te_mib;
	pcb->pc_listener = l;
	g_queue_push_tail(&l->te_synq, pcb);
	return pcb;
}

void
tcp_syn_route_done(TcpPcb *pcb, const struct ip_route_ack *ra)
{
	TcpStack *ts = pcb->pc_ts;
	pcb->pc_route_wait = FALSE;
	tcp_conn_set_mtu(&pcb->pc_tcb, ra != NULL ? ra->mtu : ts->ts_mtu_hint);
	pcb->pc_tcb.tcb_lso_max = ra != NULL ? ra->lso_max : 0;
	pcb->pc_depth++;
	tcp_conn_accept_syn(&pcb->pc_tcb, &pcb->pc_syn, tcp_now(ts));
	pcb->pc_depth--;
	tcp_pcb_after(pcb);
}

typedef struct {
	TcpStack *ck_ts;
	TcpEp *ck_l;
	uint32_t ck_optbits;
} TcpCookieCtx;

static void
tcp_cookie_output(TcpConn *c, TcpSeg *seg)
{
	TcpCookieCtx *ck = c->tcb_owner;
	if (seg->seg_opt.to_has_ts)
		seg->seg_opt.to_tsval = tcp_cookie_tsval(seg->seg_opt.to_tsval, ck->ck_optbits);
	tcp_ip_send(ck->ck_ts, c->tcb_laddr, c->tcb_raddr, seg);
}

static void
tcp_cookie_deliver(TcpConn *c, mblk_t *data, gboolean urgent)
{
	(void)c;
	(void)urgent;
	freemsg(data);
}

static void
tcp_cookie_event(TcpConn *c, TcpEvent ev, int err)
{
	(void)c;
	(void)ev;
	(void)err;
}

static uint32_t
tcp_cookie_space(TcpConn *c)
{
	TcpCookieCtx *ck = c->tcb_owner;
	return (uint32_t)ck->ck_l->te_rcvbuf;
}

static const TcpConnOps tcp_cookie_ops = {
	.co_output = tcp_cookie_output,
	.co_deliver = tcp_cookie_deliver,
	.co_event = tcp_cookie_event,
	.co_rcv_space = tcp_cookie_space,
};

/* The SYN queue is full: answer with a cookie and keep nothing. */
static void
tcp_cookie_synack(TcpStack *ts, TcpEp *l, const TcpSeg *syn, uint32_t dst, uint32_t src, gint64 now)
{
	TcpCookieCtx ck = { .ck_ts = ts, .ck_l = l };
	TcpConn c;
	tcp_conn_init(&c, &ts->ts_ctx, &tcp_cookie_ops, &ck);
	c.tcb_rcvbuf = (uint32_t)l->te_rcvbuf;
	c.tcb_rcvbuf_max = tcp_ep_rcvbuf_max(l); /* the same window scale as later */
	tcp_conn_set_addrs(&c, dst, syn->seg_dport, src, syn->seg_sport);
	tcp_conn_set_mtu(&c, ts->ts_mtu_hint);
	uint32_t peer = syn->seg_opt.to_has_mss ? syn->seg_opt.to_mss : TCP_DEFAULT_MSS;
	uint32_t iss = tcp_cookie_make(&ts->ts_ctx, dst, syn->seg_dport, src, syn->seg_sport, syn,
				       MIN(peer, ts->ts_mtu_hint - 40), now, &ck.ck_optbits);
	tcp_conn_synack_cookie(&c, syn, iss, now);
	tcp_conn_fini(&c);
	ts->ts_ctx.tx_mib.tm_syncookies_sent++;
	l->te_mib.tm_syncookies_sent++;
}

static void
tcp_listen_overflow(TcpStack *ts, TcpEp *l, gint64 now)
{
	ts->ts_ctx.tx_mib.tm_listen_overflows++;
	l->te_mib.tm_listen_overflows++;
	ts->ts_last_overflow = now;
}

/* A SYN for listener l (RFC 9293 §3.10.7.2, third check). */
static void
tcp_listen_syn(TcpStack *ts, queue_t *lrq, TcpEp *l, TcpSeg *seg, uint32_t dst, uint32_t src,
	       gint64 now)
{
	if (g_queue_get_length(&l->te_acceptq) >= l->te_backlog) {
		tcp_listen_overflow(ts, l, now);
		tcp_drop(ts, lrq, NULL, TCP_DROP_LISTEN_FULL);
		return;
	}
	if (g_queue_get_length(&l->te_synq) >= l->te_backlog) {
		tcp_listen_overflow(ts, l, now);
		if (ts->ts_sp.sp_syncookies)
			tcp_cookie_synack(ts, l, seg, dst, src, now);
		else
			tcp_drop(ts, lrq, NULL, TCP_DROP_LISTEN_FULL);
		return;
	}
	TcpPcb *pcb = tcp_passive_pcb(ts, l, dst, seg->seg_dport, src, seg->seg_sport);
	if (pcb == NULL) {
		tcp_drop(ts, lrq, NULL, TCP_DROP_NOMEM);
		return;
	}
	pcb->pc_syn = *seg;
	pcb->pc_syn.seg_data = NULL; /* data on a SYN is not queued (tcp-core.c) */
	pcb->pc_route_wait = TRUE;
	TcpRouteWait *w = g_new0(TcpRouteWait, 1);
	w->rw_kind = TCP_RW_SYN;
	w->rw_dst = src;
	w->rw_pcb = pcb;
	if (!tcp_route_ask(ts, w))
		tcp_syn_route_done(pcb, NULL);
}

/* An ACK for listener l: the end of a cookie handshake, else a RST. */
static void
tcp_listen_ack(TcpStack *ts, queue_t *lrq, TcpEp *l, TcpSeg *seg, uint32_t dst, uint32_t src,
	       gint64 now)
{
	TcpSeg syn;
	gboolean recent =
		ts->ts_last_overflow != 0 && now - ts->ts_last_overflow < TCP_COOKIE_WINDOW;
	if (ts->ts_sp.sp_syncookies && recent && !(seg->seg_flags & (TCP_F_SYN | TCP_F_RST))) {
		if (tcp_cookie_check(&ts->ts_ctx, dst, seg->seg_dport, src, seg->seg_sport, seg,
				     now, &syn)) {
			if (g_queue_get_length(&l->te_acceptq) >= l->te_backlog) {
				tcp_listen_overflow(ts, l, now);
				tcp_drop(ts, lrq, NULL, TCP_DROP_LISTEN_FULL);
				return;
			}
			TcpPcb *pcb =
				tcp_passive_pcb(ts, l, dst, seg->seg_dport, src, seg->seg_sport);
			if (pcb == NULL) {
				tcp_drop(ts, lrq, NULL, TCP_DROP_NOMEM);
				return;
			}
			ts->ts_ctx.tx_mib.tm_syncookies_recv++;
			l->te_mib.tm_syncookies_recv++;
			tcp_conn_set_mtu(&pcb->pc_tcb, ts->ts_mtu_hint);
			pcb->pc_depth++;
			tcp_conn_from_cookie(&pcb->pc_tcb, &syn, seg, now);
			pcb->pc_depth--;
			tcp_pcb_after(pcb);
			return;
		}
		ts->ts_ctx.tx_mib.tm_syncookies_failed++;
		tcp_drop(ts, lrq, NULL, TCP_DROP_COOKIE);
	} else {
		tcp_drop(ts, lrq, NULL, TCP_DROP_NO_CONN);
	}
	tcp_send_reset_for(ts, dst, src, seg); /* <SEQ=SEG.ACK><CTL=RST> */
}

/* ------------------------------------------------------------------ */
/* Input                                                              */
/* ------------------------------------------------------------------ */

/* Step 3: the checksum over the pseudo header.  One verified below or left
 * partial by a trusted sender (a TAP's kernel, our own ip on loopback;
 * stream.h) is not summed. */
static gboolean
tcp_cksum_ok(const struct ip_unitdata_ind *ind, const mblk_t *dg, size_t hl, size_t tlen)
{
	if (DB_CKSUMFLAGS(dg) & (HCK_FULLCKSUM_OK | HCK_PARTIALCKSUM))
		return TRUE;
	uint64_t sum = us_cksum_pseudo(ind->src, ind->dst, IPPROTO_TCP, (uint16_t)tlen);
	return us_cksum_finish(us_cksum_mblk(sum, dg, hl, tlen)) == 0;
}

/* Steps 1-4 of the theory: the segment parsed into seg (the payload in
 * seg_data) from dg (consumed).  FALSE when dropped (counted). */
static gboolean
tcp_parse(TcpStack *ts, queue_t *lrq, mblk_t *dg, const struct ip_unitdata_ind *ind, TcpSeg *seg)
{
	size_t hl = ind->hdr_len, total = msgdsize(dg);
	TcpMib *m = &ts->ts_ctx.tx_mib;
	if (hl < TCP_IP_HDR_MIN || total < hl + TCP_HDR_MIN) {
		m->tm_in_errs++;
		tcp_drop(ts, lrq, dg, TCP_DROP_SHORT);
		return FALSE;
	}
	if ((ind->flags & (IP_IF_BROADCAST | IP_IF_MULTICAST)) || ind->dst == INADDR_BROADCAST ||
	    IN_MULTICAST(ntohl(ind->dst)) || IN_MULTICAST(ntohl(ind->src)) ||
	    ind->src == INADDR_BROADCAST) {
		tcp_drop(ts, lrq, dg, TCP_DROP_BCAST);
		return FALSE;
	}
	size_t tlen = total - hl;
	if (!tcp_cksum_ok(ind, dg, hl, tlen)) {
		m->tm_in_csum_errors++;
		m->tm_in_errs++;
		tcp_drop(ts, lrq, dg, TCP_DROP_CKSUM);
		return FALSE;
	}
	uint8_t buf[TCP_HDR_MAX];
	size_t avail = MIN(tlen, (size_t)TCP_HDR_MAX);
	const uint8_t *h = buf;
	if (MBLKL(dg) >= hl + avail)
		h = dg->b_rptr + hl; /* the usual case: no copy */
	else
		avail = us_msgcopyout(dg, hl, buf, avail);
	size_t thl = tcp_hdr_parse(h, avail, seg);
	if (thl == 0) {
		m->tm_in_errs++;
		tcp_drop(ts, lrq, dg, TCP_DROP_BADHDR);
		return FALSE;
	}
	seg->seg_len = (uint32_t)(tlen - thl);
	if (seg->seg_len == 0) {
		freemsg(dg);
		seg->seg_data = NULL;
		return TRUE;
	}
	(void)adjmsg(dg, (ssize_t)(hl + thl));
	while (MBLKL(dg) == 0 && dg->b_cont != NULL) {
		mblk_t *n = dg->b_cont;
		freeb(dg);
		dg = n;
	}
	seg->seg_data = dg;
	return TRUE;
}

/* The segment for connection pcb (step 5). */
static void
tcp_input_conn(TcpStack *ts, queue_t *lrq, TcpPcb *pcb, TcpSeg *seg, gint64 now)
{
	TcpConn *c = &pcb->pc_tcb;
	TcpEp *l = pcb->pc_listener;
	if (pcb->pc_route_wait) {
		freemsg(g_steal_pointer(&seg->seg_data)); /* the SYN,ACK is not out yet */
		tcp_drop(ts, lrq, NULL, TCP_DROP_STATE);
		return;
	}
	if (c->tcb_state == TCPS_SYN_RECEIVED && l != NULL &&
	    (seg->seg_flags & (TCP_F_ACK | TCP_F_SYN | TCP_F_RST)) == TCP_F_ACK &&
	    g_queue_get_length(&l->te_acceptq) >= l->te_backlog) {
		tcp_listen_overflow(ts, l, now);
		freemsg(g_steal_pointer(&seg->seg_data));
		tcp_drop(ts, lrq, NULL, TCP_DROP_LISTEN_FULL);
		return;
	}
	pcb->pc_depth++;
	int why = tcp_conn_input(c, seg, now);
	pcb->pc_depth--;
	if (why != TCP_DROP_N)
		tcp_drop(ts, lrq, NULL, (guint)why);
	tcp_pcb_after(pcb);
}

void
tcp_input(TcpStack *ts, queue_t *lrq, mblk_t *mp, const struct ip_unitdata_ind *ind)
{
	TcpSeg seg;
	gint64 now = tcp_now(ts);
	mblk_t *dg = unlinkb(mp);
	freeb(mp);
	if (!tcp_parse(ts, lrq, dg, ind, &seg))
		return;
	ts->ts_ctx.tx_mib.tm_in_segs++;
	TcpPcb *pcb = tcp_conn_lookup(ts, ind->dst, seg.seg_dport, ind->src, seg.seg_sport);
	TCP_PROBE_RECEIVE(pcb != NULL ? &pcb->pc_tcb : NULL, ind->src, ind->dst, &seg);
	if (pcb != NULL && pcb->pc_ep == NULL && tcp_timewait_accepts_syn(&pcb->pc_tcb, &seg)) {
		ts->ts_ctx.tx_mib.tm_tw_recycled++; /* RFC 6191: a new incarnation */
		tcp_pcb_destroy(pcb);
		pcb = NULL;
	}
	if (pcb != NULL) {
		tcp_input_conn(ts, lrq, pcb, &seg, now);
		return;
	}
	TcpEp *l = tcp_listener_lookup(ts, ind->dst, seg.seg_dport);
	TcpListenVerdict v = l != NULL ? tcp_listen_input(&seg) : TCP_LISTEN_RST;
	switch (v) {
	case TCP_LISTEN_SYN: tcp_listen_syn(ts, lrq, l, &seg, ind->dst, ind->src, now); break;
	case TCP_LISTEN_ACK: tcp_listen_ack(ts, lrq, l, &seg, ind->dst, ind->src, now); break;
	case TCP_LISTEN_DROP: tcp_drop(ts, lrq, NULL, TCP_DROP_STATE); break;
	case TCP_LISTEN_RST:
		tcp_drop(ts, lrq, NULL, TCP_DROP_NO_CONN);
		tcp_send_reset_for(ts, ind->dst, ind->src, &seg); /* RFC 9293 §3.10.7.1 */
		break;
	}
	freemsg(seg.seg_data);
}

/* ------------------------------------------------------------------ */
/* ICMP                                                               */
/* ------------------------------------------------------------------ */

/* RFC 1191 §7: the plateau below mtu, for a router that gave none. */
static uint32_t
tcp_pmtu_plateau(uint32_t mtu)
{
	static const uint32_t p[] = { 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68 };
	for (guint i = 0; i < G_N_ELEMENTS(p); i++)
		if (p[i] < mtu)
			return p[i];
	return 68;
}

/* RFC 1122 §4.2.3.9: codes 2-4 of destination unreachable are hard (4 is
 * PMTU here); the administrative prohibitions too (RFC 5461 §4.1). */
static gboolean
tcp_icmp_hard(uint8_t type, uint8_t code)
{
	return type == 3 && (code == 2 || code == 3 || code == 9 || code == 10 || code == 13);
}

void
tcp_icmp(TcpStack *ts, queue_t *lrq, mblk_t *mp, const struct ip_icmp_ind *ii)
{
	uint8_t q[60 + 8];
	size_t n = mp->b_cont != NULL ? us_msgcopyout(mp->b_cont, 0, q, sizeof q) : 0;
	size_t hl = n >= 20 ? (size_t)(q[0] & 0x0f) * 4 : 0;
	if (hl < 20 || n < hl + 8 || (q[0] >> 4) != 4 || q[9] != IPPROTO_TCP) {
		tcp_drop(ts, lrq, mp, TCP_DROP_BADPRIM);
		return;
	}
	uint32_t src, dst;
	memcpy(&src, q + 12, 4);
	memcpy(&dst, q + 16, 4);
	uint16_t sport = tcp_get16(q + hl), dport = tcp_get16(q + hl + 2);
	uint32_t seq = tcp_get32(q + hl + 4);
	TcpPcb *pcb = tcp_conn_lookup(ts, src, sport, dst, dport);
	if (pcb == NULL || pcb->pc_depth > 0) {
		tcp_drop(ts, lrq, mp, TCP_DROP_ICMP);
		return;
	}
	freemsg(mp);
	TcpConn *c = &pcb->pc_tcb;
	gint64 now = tcp_now(ts);
	pcb->pc_depth++;
	if (ii->type == 3 && ii->code == 4)
		tcp_conn_pmtu(c, ii->info != 0 ? ii->info : tcp_pmtu_plateau(c->tcb_mtu), seq, now);
	else /* RFC 5461 §4.1: in SYN-SENT any unreachable ends it, as stacks do */
		tcp_conn_icmp_error(c, (int)ii->error,
				    tcp_icmp_hard(ii->type, ii->code) ||
					    (ii->type == 3 && c->tcb_state == TCPS_SYN_SENT),
				    now);
	pcb->pc_depth--;
	tcp_pcb_after(pcb);
}
