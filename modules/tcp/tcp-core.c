/* SPDX-License-Identifier: MIT */
/*
 * tcp-core -- the sans-I/O TCP: one connection's state machine, driven by
 * calls and producing segments through callbacks (tcp-core.h).  This file
 * holds the life cycle, the user calls (OPEN, SEND, CLOSE, ABORT), what
 * happens without a connection (listeners, resets, ISNs) and TCP_INFO; the
 * rest is split by concern:
 *
 *   tcp-input.c      SEGMENT ARRIVES (RFC 9293 §3.10.7), header prediction
 *   tcp-output.c     what to send and when: windows, Nagle, SWS, options
 *   tcp-timer.c      RTO (RFC 6298), persist, keepalive, delayed ACK, 2MSL
 *   tcp-sack.c       SACK scoreboard and RFC 6675 loss recovery helpers
 *   tcp-cc.c         congestion control: RFC 5681 frame, NewReno, CUBIC
 *   tcp-syncookie.c  SYN cookies (RFC 4987 §3.6)
 *   tcp-wire.c       header and options
 *
 * Theory
 * ------
 * A TcpConn is the TCB of RFC 9293 §3.3.1 plus what the modern RFCs add.
 * Every entry point takes `now` (ns on the owner's clock); the core keeps
 * deadlines (tcb_t_*) and the owner calls tcp_conn_timer() when the
 * earliest one (tcp_conn_deadline()) passes.  Segments go out through
 * co_output with their payload as dupb()s of the send buffer: the buffer
 * keeps the data until it is acknowledged (the retransmission queue is the
 * send buffer itself, by reference).  In-order data goes to co_deliver;
 * state changes the owner cares about go to co_event.  The receive window
 * comes from co_rcv_space (what the reader can still take): the owner ties
 * it to STREAMS flow control.
 *
 * Reading list, in the order the code follows them: RFC 9293 (the
 * protocol; §3.10 event processing), RFC 1122 §4.2 (delayed ACK,
 * keepalive, SWS, persist), RFC 6298 (RTO), RFC 5681 (congestion control),
 * RFC 6582 (NewReno), RFC 2018 and RFC 6675 (SACK loss recovery), RFC 9438
 * (CUBIC), RFC 7323 (window scale, timestamps, PAWS), RFC 5961 (blind
 * attacks), RFC 6528 (ISNs), RFC 6093 (urgent data), RFC 1191 (PMTU), RFC
 * 4987 (SYN cookies), RFC 6191 (TIME-WAIT reuse with timestamps).
 *
 * Deviations
 *  - The minimum RTO is 200 ms (a parameter), as Linux, where RFC 6298
 *    (2.4) says 1 s.
 *  - Data carried on a SYN is not queued (the peer retransmits it).
 *  - A FIN is sent only once the connection is ESTABLISHED (RFC 9293 lets
 *    SYN-RECEIVED send it when nothing else is queued).
 *  - Urgent data is presented as Linux does (the last urgent byte out of
 *    band, RFC 6093 §4 semantics of the urgent pointer); one urgent byte is
 *    tracked at a time.
 *  - TIME-WAIT is ended by a RST (RFC 9293), not protected as RFC 1337
 *    suggests.
 *  - No ECN, no D-SACK, no TCP Fast Open, no MD5/AO.
 */
#define G_LOG_DOMAIN "us-tcp"

#include "tcp-core.h"
#include "tcp-probes.h"

#include <errno.h>
#include <string.h>

static const char *const tcp_state_names[TCPS_N] = {
	"CLOSED",     "LISTEN",     "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",  "LAST-ACK",     "TIME-WAIT",
};

const char *
tcp_state_name(TcpState s)
{
	return s < TCPS_N ? tcp_state_names[s] : "?";
}

/* ------------------------------------------------------------------ */
/* SipHash-2-4 (Aumasson and Bernstein, 2012)                          */
/* ------------------------------------------------------------------ */

#define TCP_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void
tcp_sipround(guint64 v[4])
{
	v[0] += v[1];
	v[1] = TCP_ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = TCP_ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = TCP_ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = TCP_ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = TCP_ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = TCP_ROTL(v[2], 32);
}

static void
tcp_sipcompress(guint64 v[4], guint64 m)
{
	v[3] ^= m;
	tcp_sipround(v);
	tcp_sipround(v);
	v[0] ^= m;
}

guint64
tcp_siphash(const guint64 key[2], const void *data, size_t len)
{
	const guint8 *p = data;
	guint64 v[4] = { key[0] ^ 0x736f6d6570736575ULL, key[1] ^ 0x646f72616e646f6dULL,
			 key[0] ^ 0x6c7967656e657261ULL, key[1] ^ 0x7465646279746573ULL };
	size_t i;
	for (i = 0; i + 8 <= len; i += 8) {
		guint64 m = 0;
		for (int k = 0; k < 8; k++)
			m |= (guint64)p[i + k] << (8 * k); /* little-endian words */
		tcp_sipcompress(v, m);
	}
	guint64 last = (guint64)(len & 0xff) << 56;
	for (int k = 0; i + (size_t)k < len; k++)
		last |= (guint64)p[i + k] << (8 * k);
	tcp_sipcompress(v, last);
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		tcp_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                         */
/* ------------------------------------------------------------------ */

void
tcp_ctx_init(TcpCtx *ctx, GRand *rand)
{
	memset(ctx, 0, sizeof *ctx);
	TcpParams *p = &ctx->tx_params;
	p->tp_rto_min = 200 * TCP_MSEC;
	p->tp_rto_max = 60 * TCP_SEC; /* RFC 6298 (2.5): at least 60 s */
	p->tp_rto_init = 1 * TCP_SEC; /* RFC 6298 (2.1) */
	p->tp_delack = 40 * TCP_MSEC; /* RFC 1122 §4.2.3.2: under 0.5 s */
	p->tp_time_wait = 60 * TCP_SEC;
	p->tp_fin_wait_2 = 60 * TCP_SEC;
	p->tp_retries = 15; /* RFC 1122 §4.2.3.5 R2: at least 100 s */
	p->tp_syn_retries = 6;
	p->tp_synack_retries = 5;
	p->tp_sack = p->tp_ts = p->tp_wscale = TRUE;
	p->tp_challenge_limit = 1000;
	for (int i = 0; i < 2; i++) {
		ctx->tx_isn_key[i] = ((guint64)g_rand_int(rand) << 32) | g_rand_int(rand);
		ctx->tx_cookie_key[i] = ((guint64)g_rand_int(rand) << 32) | g_rand_int(rand);
	}
	ctx->tx_ts_offset_seed = g_rand_int(rand);
}

void
tcp_conn_init(TcpConn *c, TcpCtx *ctx, const TcpConnOps *ops, gpointer owner)
{
	memset(c, 0, sizeof *c);
	c->tcb_state = TCPS_CLOSED;
	c->tcb_ctx = ctx;
	c->tcb_ops = ops;
	c->tcb_owner = owner;
	c->tcb_mtu = 1500;
	c->tcb_peer_mss = TCP_DEFAULT_MSS;
	c->tcb_sndbuf = TCP_SNDBUF_DEFAULT;
	c->tcb_rcvbuf = TCP_RCVBUF_DEFAULT;
	c->tcb_rto = ctx->tx_params.tp_rto_init;
	c->tcb_ccops = tcp_cc_default();
	/* RFC 1122 §4.2.3.6: keep-alive idle time at least two hours. */
	c->tcb_keepidle = 7200 * TCP_SEC;
	c->tcb_keepintvl = 75 * TCP_SEC;
	c->tcb_keepcnt = 9;
	tcp_update_mss(c);
}

static void
tcp_ooo_free(TcpConn *c)
{
	TcpOoo *o = c->tcb_ooo;
	while (o != NULL) {
		TcpOoo *n = o->oo_next;
		freemsg(o->oo_data);
		g_free(o);
		o = n;
	}
	c->tcb_ooo = NULL;
}

static void
tcp_sndq_free_all(TcpConn *c)
{
	mblk_t *mp = c->tcb_sndq_head;
	while (mp != NULL) {
		mblk_t *n = mp->b_next;
		mp->b_next = NULL;
		freeb(mp);
		mp = n;
	}
	c->tcb_sndq_head = c->tcb_sndq_tail = c->tcb_sndq_cur = NULL;
	c->tcb_sndq_bytes = 0;
}

void
tcp_conn_fini(TcpConn *c)
{
	tcp_sndq_free_all(c);
	tcp_ooo_free(c);
}

void
tcp_conn_set_addrs(TcpConn *c, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	c->tcb_laddr = laddr;
	c->tcb_lport = lport;
	c->tcb_raddr = raddr;
	c->tcb_rport = rport;
	/* RFC 7323 §5.4: a per-connection random offset for TSval. */
	guint32 w[5] = { laddr, raddr, ((guint32)lport << 16) | rport,
			 c->tcb_ctx->tx_ts_offset_seed, 0x7453 };
	c->tcb_ts_offset = (uint32_t)tcp_siphash(c->tcb_ctx->tx_isn_key, w, sizeof w);
}

void
tcp_conn_set_mtu(TcpConn *c, uint32_t mtu)
{
	c->tcb_mtu = CLAMP(mtu, 68, 65535);
	tcp_update_mss(c);
}

gboolean
tcp_conn_set_cc(TcpConn *c, const TcpCcOps *ops)
{
	if (ops == NULL || ops->abi != TCP_CC_ABI)
		return FALSE;
	c->tcb_ccops = ops;
	if (c->tcb_state >= TCPS_ESTABLISHED)
		tcp_cc_init(c); /* restarts with the new algorithm's state */
	return TRUE;
}

/* The window shift for our receive buffer (RFC 7323 §2.3): the smallest
 * that lets the buffer be advertised in 16 bits. */
static uint8_t
tcp_choose_wscale(uint32_t rcvbuf)
{
	uint8_t s = 0;
	while (s < TCP_WSCALE_MAX && (rcvbuf >> s) > 65535)
		s++;
	return s;
}

/* ------------------------------------------------------------------ */
/* Opening                                                            */
/* ------------------------------------------------------------------ */

/* Starts the send sequence at iss (RFC 9293 §3.4.1). */
static void
tcp_init_send_seq(TcpConn *c, uint32_t iss)
{
	c->tcb_iss = iss;
	c->tcb_snd_una = c->tcb_snd_nxt = c->tcb_snd_max = iss;
	c->tcb_sndq_seq = iss + 1; /* the SYN takes one sequence number */
	c->tcb_recover = iss;
	c->tcb_high_rxt = iss;
}

void
tcp_conn_connect(TcpConn *c, gint64 now)
{
	const TcpParams *p = &c->tcb_ctx->tx_params;
	tcp_init_send_seq(c, tcp_isn(c->tcb_ctx, c->tcb_laddr, c->tcb_lport, c->tcb_raddr,
				     c->tcb_rport, now));
	c->tcb_rcv_wscale =
		p->tp_wscale ? tcp_choose_wscale(MAX(c->tcb_rcvbuf, c->tcb_rcvbuf_max)) : 0;
	c->tcb_passive = FALSE;
	c->tcb_last_rcv = now;
	TCP_MIB_INC(c, tm_active_opens);
	tcp_enter_state(c, TCPS_SYN_SENT, now);
	TCP_PROBE_CONN(connect__request, c);
	tcp_send_syn(c, now); /* RFC 9293 §3.10.1: a SYN segment is sent */
	tcp_rexmt_arm(c, now);
}

/* The peer's SYN options (RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC
 * 2018 §2): each is used only when both sides offered it. */
void
tcp_take_syn_opts(TcpConn *c, const TcpSeg *syn, gint64 now)
{
	const TcpParams *p = &c->tcb_ctx->tx_params;
	const TcpOpts *o = &syn->seg_opt;
	c->tcb_peer_mss = o->to_has_mss ? MAX(o->to_mss, 64) : TCP_DEFAULT_MSS;
	c->tcb_ws_ok = o->to_has_wscale && p->tp_wscale;
	c->tcb_snd_wscale = c->tcb_ws_ok ? o->to_wscale : 0;
	if (!c->tcb_ws_ok)
		c->tcb_rcv_wscale = 0;
	c->tcb_sack_ok = o->to_sack_ok && p->tp_sack;
	c->tcb_ts_ok = o->to_has_ts && p->tp_ts;
	if (c->tcb_ts_ok) {
		c->tcb_ts_recent = o->to_tsval;
		c->tcb_ts_recent_age = now;
	}
	tcp_update_mss(c);
}

/* Passive open state (RFC 9293 §3.10.7.2, third check): IRS from the SYN,
 * our ISS, the options. */
static void
tcp_passive_setup(TcpConn *c, const TcpSeg *syn, uint32_t iss, gint64 now)
{
	const TcpParams *p = &c->tcb_ctx->tx_params;
	c->tcb_passive = TRUE;
	c->tcb_irs = syn->seg_seq;
	c->tcb_rcv_nxt = syn->seg_seq + 1;
	c->tcb_rcv_adv = c->tcb_rcv_nxt;
	c->tcb_last_ack_sent = c->tcb_rcv_nxt;
	tcp_init_send_seq(c, iss);
	c->tcb_rcv_wscale =
		p->tp_wscale ? tcp_choose_wscale(MAX(c->tcb_rcvbuf, c->tcb_rcvbuf_max)) : 0;
	tcp_take_syn_opts(c, syn, now);
	/* RFC 7323 §2.2: the window of a SYN is never scaled. */
	c->tcb_snd_wnd = syn->seg_wnd;
	c->tcb_max_sndwnd = c->tcb_snd_wnd;
	c->tcb_snd_wl1 = syn->seg_seq;
	c->tcb_snd_wl2 = iss;
	c->tcb_last_rcv = now;
	tcp_enter_state(c, TCPS_SYN_RECEIVED, now);
}

void
tcp_conn_accept_syn(TcpConn *c, const TcpSeg *syn, gint64 now)
{
	uint32_t iss =
		tcp_isn(c->tcb_ctx, c->tcb_laddr, c->tcb_lport, c->tcb_raddr, c->tcb_rport, now);
	tcp_passive_setup(c, syn, iss, now);
	TCP_MIB_INC(c, tm_passive_opens);
	tcp_send_syn(c, now); /* <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
	tcp_rexmt_arm(c, now);
}

void
tcp_conn_synack_cookie(TcpConn *c, const TcpSeg *syn, uint32_t iss, gint64 now)
{
	TcpSeg s = *syn;
	s.seg_data = NULL;
	if (!s.seg_opt.to_has_ts) { /* the cookie cannot carry them otherwise */
		s.seg_opt.to_has_wscale = 0;
		s.seg_opt.to_sack_ok = 0;
	}
	tcp_passive_setup(c, &s, iss, now);
	tcp_send_syn(c, now);
}

void
tcp_conn_from_cookie(TcpConn *c, const TcpSeg *syn, TcpSeg *ack, gint64 now)
{
	tcp_passive_setup(c, syn, ack->seg_ack - 1, now);
	TCP_MIB_INC(c, tm_passive_opens);
	/* The SYN,ACK went out without state: pretend it was just sent, with
	 * the window it advertised (unscaled, RFC 7323 §2.2). */
	c->tcb_snd_nxt = c->tcb_snd_max = c->tcb_iss + 1;
	c->tcb_rcv_adv = c->tcb_rcv_nxt + MIN(c->tcb_ops->co_rcv_space(c), 65535);
	c->tcb_rtt_timing = FALSE;
	(void)tcp_conn_input(c, ack, now);
}

/* ------------------------------------------------------------------ */
/* Sending, closing, aborting                                         */
/* ------------------------------------------------------------------ */

uint32_t
tcp_conn_snd_space(const TcpConn *c)
{
	return c->tcb_sndbuf > c->tcb_sndq_bytes ? c->tcb_sndbuf - c->tcb_sndq_bytes : 0;
}

/* Appends the blocks of data (consumed) to the send buffer. */
static void
tcp_sndq_append(TcpConn *c, mblk_t *data)
{
	while (data != NULL) {
		mblk_t *b = data;
		data = b->b_cont;
		b->b_cont = NULL;
		if (DB_TYPE(b) != M_DATA || MBLKL(b) == 0) {
			freeb(b);
			continue;
		}
		c->tcb_sndq_bytes += (uint32_t)MBLKL(b);
		if (c->tcb_sndq_tail != NULL)
			c->tcb_sndq_tail->b_next = b;
		else
			c->tcb_sndq_head = b;
		c->tcb_sndq_tail = b;
	}
}

static gboolean
tcp_may_send(const TcpConn *c)
{
	switch (c->tcb_state) {
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT: return !c->tcb_fin_queued;
	default: return FALSE;
	}
}

void
tcp_conn_send(TcpConn *c, mblk_t *data, gboolean urgent, gint64 now)
{
	if (!tcp_may_send(c)) {
		freemsg(data); /* RFC 9293 §3.10.2: "connection closing" */
		return;
	}
	tcp_sndq_append(c, data);
	if (urgent && c->tcb_sndq_bytes > 0) {
		/* RFC 6093 §4: the urgent pointer points one past the last
		 * urgent byte. */
		c->tcb_snd_up = tcp_sndq_end(c);
		c->tcb_snd_urg = TRUE;
	}
	tcp_output(c, now);
}

void
tcp_conn_shutdown(TcpConn *c, gint64 now)
{
	switch (c->tcb_state) {
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
		c->tcb_fin_queued = TRUE; /* sent once ESTABLISHED (Deviations) */
		break;
	case TCPS_ESTABLISHED: /* RFC 9293 §3.10.4: FIN after the data, FIN-WAIT-1 */
		c->tcb_fin_queued = TRUE;
		tcp_enter_state(c, TCPS_FIN_WAIT_1, now);
		tcp_output(c, now);
		break;
	case TCPS_CLOSE_WAIT: /* RFC 9293 §3.10.4: FIN after the data, LAST-ACK */
		c->tcb_fin_queued = TRUE;
		tcp_enter_state(c, TCPS_LAST_ACK, now);
		tcp_output(c, now);
		break;
	default: break; /* already closing, or nothing to close */
	}
}

void
tcp_conn_close(TcpConn *c, gint64 linger_ns, gint64 now)
{
	c->tcb_orphan = TRUE;
	c->tcb_epmib = NULL;
	switch (c->tcb_state) {
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
		/* RFC 9293 §3.10.4: delete the TCB. */
		tcp_enter_state(c, TCPS_CLOSED, now);
		return;
	case TCPS_FIN_WAIT_2: {
		gint64 w =
			c->tcb_linger2 > 0 ? c->tcb_linger2 : c->tcb_ctx->tx_params.tp_fin_wait_2;
		c->tcb_t_2msl = now + w; /* an orphan does not wait forever */
		break;
	}
	default: tcp_conn_shutdown(c, now); break;
	}
	if (linger_ns > 0 && !tcp_conn_is_closed(c) && c->tcb_state != TCPS_TIME_WAIT)
		c->tcb_t_linger = now + linger_ns;
}

void
tcp_conn_abort(TcpConn *c, gint64 now)
{
	switch (c->tcb_state) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
		/* RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST>. */
		tcp_send_rst(c, now);
		break;
	default: break; /* LISTEN, SYN-SENT, CLOSING, LAST-ACK, TIME-WAIT: no RST */
	}
	tcp_enter_state(c, TCPS_CLOSED, now);
}

void
tcp_conn_push(TcpConn *c, gint64 now)
{
	c->tcb_push = TRUE; /* what waits goes, Nagle or not (uncorking) */
	tcp_output(c, now);
	c->tcb_push = FALSE;
}

/* ------------------------------------------------------------------ */
/* ICMP                                                               */
/* ------------------------------------------------------------------ */

void
tcp_conn_pmtu(TcpConn *c, uint32_t mtu, uint32_t seq, gint64 now)
{
	/* RFC 5927 §4.1: only about data in flight. */
	if (tcp_seq_lt(seq, c->tcb_snd_una) || tcp_seq_ge(seq, c->tcb_snd_max))
		return;
	if (mtu < 68 || mtu >= c->tcb_mtu)
		return; /* RFC 1191 §6.1: never raise the estimate from an ICMP */
	uint32_t old = c->tcb_mss;
	tcp_conn_set_mtu(c, mtu);
	TCP_MIB_INC(c, tm_pmtu_updates);
	if (c->tcb_mss < old && c->tcb_state >= TCPS_ESTABLISHED) {
		/* RFC 1191 §6.3: retransmit what was sent too large, without
		 * treating it as congestion. */
		c->tcb_snd_nxt = c->tcb_snd_una;
		c->tcb_rtt_timing = FALSE;
		tcp_output(c, now);
	}
}

void
tcp_conn_icmp_error(TcpConn *c, int err, gboolean hard, gint64 now)
{
	/* RFC 1122 §4.2.3.9: hard errors (port, protocol unreachable ...)
	 * SHOULD abort; RFC 5461 §4.1: only while the connection is being
	 * established, as implementations do. */
	if (hard && (c->tcb_state == TCPS_SYN_SENT || c->tcb_state == TCPS_SYN_RECEIVED)) {
		tcp_drop_conn(c, err, now);
		return;
	}
	c->tcb_soft_error = err; /* reported if the connection times out */
}

/* ------------------------------------------------------------------ */
/* Without a connection                                               */
/* ------------------------------------------------------------------ */

TcpListenVerdict
tcp_listen_input(const TcpSeg *seg)
{
	if (seg->seg_flags & TCP_F_RST)
		return TCP_LISTEN_DROP; /* first: an incoming RST is ignored */
	if (seg->seg_flags & TCP_F_ACK)
		return TCP_LISTEN_ACK; /* second: any ACK is bad (or a cookie) */
	if (seg->seg_flags & TCP_F_SYN)
		return TCP_LISTEN_SYN; /* third: a connection request */
	return TCP_LISTEN_DROP;        /* fourth: other text or control: drop */
}

gboolean
tcp_rst_reply(const TcpSeg *seg, TcpSeg *rst)
{
	if (seg->seg_flags & TCP_F_RST)
		return FALSE; /* RFC 9293 §3.10.7.1: an incoming RST is discarded */
	memset(rst, 0, sizeof *rst);
	rst->seg_sport = seg->seg_dport;
	rst->seg_dport = seg->seg_sport;
	if (seg->seg_flags & TCP_F_ACK) {
		rst->seg_seq = seg->seg_ack; /* <SEQ=SEG.ACK><CTL=RST> */
		rst->seg_flags = TCP_F_RST;
	} else {
		/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
		rst->seg_ack = seg->seg_seq + tcp_seg_space(seg);
		rst->seg_flags = TCP_F_RST | TCP_F_ACK;
	}
	return TRUE;
}

uint32_t
tcp_isn(const TcpCtx *ctx, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
	gint64 now)
{
	/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
	 * secretkey), M a 4-microsecond timer, F a keyed hash. */
	guint32 w[3] = { laddr, raddr, ((guint32)lport << 16) | rport };
	uint32_t m = (uint32_t)(now / 4000);
	return m + (uint32_t)tcp_siphash(ctx->tx_isn_key, w, sizeof w);
}

gboolean
tcp_timewait_accepts_syn(const TcpConn *c, const TcpSeg *syn)
{
	if (c->tcb_state != TCPS_TIME_WAIT || !(syn->seg_flags & TCP_F_SYN) ||
	    (syn->seg_flags & (TCP_F_ACK | TCP_F_RST)))
		return FALSE;
	/* RFC 6191 §2: with timestamps, a SYN whose TSval is newer. */
	if (c->tcb_ts_ok && syn->seg_opt.to_has_ts)
		return tcp_seq_gt(syn->seg_opt.to_tsval, c->tcb_ts_recent);
	/* RFC 9293 §3.6.1 (RFC 1122 §4.2.2.13): a sequence number above the
	 * end of the old incarnation. */
	return tcp_seq_gt(syn->seg_seq, c->tcb_rcv_nxt);
}

/* ------------------------------------------------------------------ */
/* TCP_INFO                                                           */
/* ------------------------------------------------------------------ */

void
tcp_conn_info(const TcpConn *c, struct us_tcp_info *ti)
{
	memset(ti, 0, sizeof *ti);
	ti->tcpi_state = (uint8_t)c->tcb_state;
	ti->tcpi_ca_state = (uint8_t)c->tcb_ca_state;
	ti->tcpi_options = (c->tcb_ts_ok ? US_TCPI_OPT_TIMESTAMPS : 0) |
			   (c->tcb_sack_ok ? US_TCPI_OPT_SACK : 0) |
			   (c->tcb_ws_ok ? US_TCPI_OPT_WSCALE : 0);
	ti->tcpi_snd_wscale = c->tcb_snd_wscale;
	ti->tcpi_rcv_wscale = c->tcb_rcv_wscale;
	ti->tcpi_backoff = (uint8_t)MIN(c->tcb_rxtshift, 255);
	ti->tcpi_rto = (uint32_t)(c->tcb_rto / 1000);
	ti->tcpi_rtt = (uint32_t)(c->tcb_srtt / 1000);
	ti->tcpi_rttvar = (uint32_t)(c->tcb_rttvar / 1000);
	ti->tcpi_min_rtt = (uint32_t)(c->tcb_min_rtt / 1000);
	ti->tcpi_snd_mss = c->tcb_mss;
	ti->tcpi_rcv_mss = c->tcb_rcv_mss;
	ti->tcpi_snd_cwnd = c->tcb_cc.cwnd;
	ti->tcpi_snd_ssthresh = c->tcb_cc.ssthresh;
	ti->tcpi_snd_wnd = c->tcb_snd_wnd;
	ti->tcpi_rcv_wnd =
		tcp_seq_gt(c->tcb_rcv_adv, c->tcb_rcv_nxt) ? c->tcb_rcv_adv - c->tcb_rcv_nxt : 0;
	ti->tcpi_unacked = c->tcb_snd_max - c->tcb_snd_una;
	ti->tcpi_retransmits = c->tcb_rxtshift;
	ti->tcpi_total_retrans = c->tcb_total_retrans;
	ti->tcpi_bytes_sent = c->tcb_bytes_sent;
	ti->tcpi_bytes_retrans = c->tcb_bytes_retrans;
	ti->tcpi_bytes_acked = c->tcb_bytes_acked;
	ti->tcpi_bytes_received = c->tcb_bytes_received;
	ti->tcpi_segs_out = c->tcb_segs_out;
	ti->tcpi_segs_in = c->tcb_segs_in;
	g_strlcpy(ti->tcpi_cc, c->tcb_ccops->name, sizeof ti->tcpi_cc);
}
