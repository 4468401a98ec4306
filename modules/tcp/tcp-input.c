/* SPDX-License-Identifier: MIT */
/*
 * tcp-input -- SEGMENT ARRIVES (RFC 9293 §3.10.7) for one connection.
 *
 * Theory
 * ------
 * tcp_conn_input() dispatches on the state: SYN-SENT has its own rules
 * (§3.10.7.3); every synchronized state goes through the same steps
 * (§3.10.7.4), each a small function that either lets the segment go on or
 * stops it (saying why in tcb_drop):
 *
 *   0. PAWS (RFC 7323 §5.3)          tcp_in_paws
 *   1. sequence number, trimming     tcp_in_seqcheck
 *   2. RST (RFC 5961 §3.2)           tcp_in_rst
 *   4. SYN (RFC 5961 §4.2)           tcp_in_syn
 *   5. ACK (RFC 5961 §5.2)           tcp_in_ack: new data acknowledged,
 *      duplicate ACKs and loss recovery (RFC 5681, 6582, 6675), the send
 *      window, the states a FIN's acknowledgement moves
 *   6. URG (RFC 6093)                tcp_in_urg
 *   7. text, reassembly              tcp_in_text
 *   8. FIN                           tcp_in_fin
 *
 * Before the steps, header prediction (tcp_in_fast) takes the two common
 * cases of an ESTABLISHED connection -- a pure ACK of new data, in-order
 * data acknowledging nothing new -- when nothing unusual is going on.
 *
 * Received data is delivered at once when it is in order (co_deliver);
 * out-of-order segments wait in a sorted list (trimmed against their
 * neighbours) until the gap fills, and are reported in SACK blocks (RFC
 * 2018 §4).  ACKs are delayed for in-order data (RFC 1122 §4.2.3.2: at most
 * delack_ms, at least every second full segment) and immediate for
 * out-of-order or gap-filling segments (RFC 5681 §4.2).
 */
#define G_LOG_DOMAIN "us-tcp"

#include "tcp-core.h"
#include "tcp-probes.h"

#include <errno.h>

#define TCP_TS_RECENT_VALID (24LL * 24 * 3600 * TCP_SEC) /* RFC 7323 §5.5 */

static void tcp_in_fin(TcpConn *c, gint64 now);

/* ------------------------------------------------------------------ */
/* Shared helpers                                                     */
/* ------------------------------------------------------------------ */

void
tcp_update_mss(TcpConn *c)
{
	/* RFC 9293 §3.7.1: Eff.snd.MSS = min(SendMSS + 20, MMS_S) -
	 * TCPhdrsize - IPoptionsize, MMS_S = MTU - 20. */
	uint32_t mms_s = c->tcb_mtu - 20;
	uint32_t base = MIN(c->tcb_peer_mss + 20, mms_s) - 20;
	if (c->tcb_user_mss != 0 && c->tcb_user_mss < base)
		base = c->tcb_user_mss;
	base = MAX(base, 64);
	c->tcb_mss = base - (c->tcb_ts_ok ? 12 : 0);
	c->tcb_rcv_mss = c->tcb_mtu - 40;
	if (c->tcb_user_mss != 0 && c->tcb_user_mss < c->tcb_rcv_mss)
		c->tcb_rcv_mss = c->tcb_user_mss;
	c->tcb_cc.mss = c->tcb_mss;
}

static gboolean
tcp_state_is_estab(TcpState s)
{
	return s == TCPS_ESTABLISHED || s == TCPS_CLOSE_WAIT; /* RFC 1213 tcpCurrEstab */
}

static void
tcp_timers_clear(TcpConn *c)
{
	c->tcb_t_rexmt = c->tcb_t_persist = c->tcb_t_delack = 0;
	c->tcb_t_keep = c->tcb_t_2msl = c->tcb_t_linger = 0;
}

void
tcp_enter_state(TcpConn *c, TcpState s, gint64 now)
{
	TcpState old = c->tcb_state;
	TcpMib *m = &c->tcb_ctx->tx_mib;
	if (old == s)
		return;
	if (tcp_state_is_estab(old) && !tcp_state_is_estab(s) && m->tm_curr_estab > 0)
		m->tm_curr_estab--;
	if (!tcp_state_is_estab(old) && tcp_state_is_estab(s))
		m->tm_curr_estab++;
	g_debug("tcp %u->%u: %s -> %s", c->tcb_lport, c->tcb_rport, tcp_state_name(old),
		tcp_state_name(s));
	c->tcb_state = s;
	TCP_PROBE_STATE(c, old);
	if (s == TCPS_CLOSED) {
		/* RFC 1213: tcpAttemptFails, tcpEstabResets. */
		if (old == TCPS_SYN_SENT || old == TCPS_SYN_RECEIVED)
			TCP_MIB_INC(c, tm_attempt_fails);
		if (tcp_state_is_estab(old))
			TCP_MIB_INC(c, tm_estab_resets);
		tcp_timers_clear(c);
	} else if (s == TCPS_TIME_WAIT) {
		/* RFC 9293 §3.10.7.4: start the time-wait timer, turn off the
		 * other timers. */
		tcp_timers_clear(c);
		c->tcb_t_2msl = now + c->tcb_ctx->tx_params.tp_time_wait;
		c->tcb_ops->co_event(c, TCP_EV_TIME_WAIT, 0);
	}
}

void
tcp_drop_conn(TcpConn *c, int err, gint64 now)
{
	tcp_enter_state(c, TCPS_CLOSED, now);
	c->tcb_ops->co_event(c, err != 0 ? TCP_EV_RESET : TCP_EV_CLOSED, err);
}

/* Stops the processing of a segment, saying why. */
static void
tcp_reject(TcpConn *c, int reason)
{
	c->tcb_drop = reason;
}

void
tcp_sndq_free_acked(TcpConn *c, uint32_t upto)
{
	uint32_t end = tcp_sndq_end(c);
	uint32_t lim = tcp_seq_lt(upto, end) ? upto : end;
	if (!tcp_seq_gt(lim, c->tcb_sndq_seq))
		return;
	uint32_t n = lim - c->tcb_sndq_seq;
	c->tcb_bytes_acked += n;
	c->tcb_sndq_bytes -= n;
	c->tcb_sndq_seq = lim;
	while (n > 0) {
		mblk_t *b = c->tcb_sndq_head;
		size_t l = MBLKL(b);
		if (l > n) {
			b->b_rptr += n; /* our own mblk; the shared data is not written */
			break;
		}
		n -= (uint32_t)l;
		c->tcb_sndq_head = b->b_next;
		if (c->tcb_sndq_head == NULL)
			c->tcb_sndq_tail = NULL;
		if (b == c->tcb_sndq_cur)
			c->tcb_sndq_cur = NULL;
		b->b_next = NULL;
		freeb(b);
	}
	if (c->tcb_sndq_cur == NULL || tcp_seq_lt(c->tcb_sndq_cur_seq, c->tcb_sndq_seq)) {
		c->tcb_sndq_cur = c->tcb_sndq_head;
		c->tcb_sndq_cur_seq = c->tcb_sndq_seq;
	}
}

/* Removes n bytes from the front of seg's payload. */
static void
tcp_seg_trim_front(TcpSeg *seg, uint32_t n)
{
	n = MIN(n, seg->seg_len);
	if (n == 0)
		return;
	if (n == seg->seg_len) {
		freemsg(seg->seg_data);
		seg->seg_data = NULL;
	} else {
		(void)adjmsg(seg->seg_data, (ssize_t)n);
	}
	seg->seg_seq += n;
	seg->seg_len -= n;
	seg->seg_up = seg->seg_up > n ? (uint16_t)(seg->seg_up - n) : 0;
}

/* Keeps only the first n bytes of seg's payload. */
static void
tcp_seg_trim_back(TcpSeg *seg, uint32_t n)
{
	if (n >= seg->seg_len)
		return;
	if (n == 0) {
		freemsg(seg->seg_data);
		seg->seg_data = NULL;
	} else {
		(void)adjmsg(seg->seg_data, -(ssize_t)(seg->seg_len - n));
	}
	seg->seg_len = n;
}

/* RCV.WND as last advertised (RFC 9293 §3.3.1). */
static uint32_t
tcp_rcv_wnd_now(const TcpConn *c)
{
	return tcp_seq_gt(c->tcb_rcv_adv, c->tcb_rcv_nxt) ? c->tcb_rcv_adv - c->tcb_rcv_nxt : 0;
}

static gboolean
tcp_in_window(uint32_t seq, uint32_t left, uint32_t wnd)
{
	return tcp_seq_le(left, seq) && tcp_seq_lt(seq, left + wnd);
}

/* An RTT sample from the echoed timestamp (RFC 7323 §4.1). */
static gboolean
tcp_ts_rtt(const TcpConn *c, const TcpSeg *seg, gint64 now, gint64 *rtt)
{
	if (!c->tcb_ts_ok || !seg->seg_opt.to_has_ts || seg->seg_opt.to_tsecr == 0)
		return FALSE;
	uint32_t ms = tcp_tsval(c, now) - seg->seg_opt.to_tsecr;
	if (ms > 3600 * 1000)
		return FALSE; /* not one of ours (or a broken peer) */
	*rtt = (gint64)ms * TCP_MSEC;
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* SYN-SENT (RFC 9293 §3.10.7.3)                                      */
/* ------------------------------------------------------------------ */

/* Our SYN was acknowledged by the peer's SYN: ESTABLISHED. */
static void
tcp_syn_sent_established(TcpConn *c, TcpSeg *seg, gint64 now)
{
	gint64 rtt = 0;
	c->tcb_snd_una = seg->seg_ack;
	/* RFC 7323 §2.2: the window of a SYN is never scaled. */
	c->tcb_snd_wnd = seg->seg_wnd;
	c->tcb_max_sndwnd = c->tcb_snd_wnd;
	c->tcb_snd_wl1 = seg->seg_seq;
	c->tcb_snd_wl2 = seg->seg_ack;
	if (tcp_ts_rtt(c, seg, now, &rtt) || !c->tcb_syn_rexmitted) { /* Karn */
		if (rtt == 0)
			rtt = now - c->tcb_rtt_start;
		tcp_rtt_sample(c, rtt, now);
	}
	c->tcb_rtt_timing = FALSE;
	c->tcb_rxtshift = 0;
	c->tcb_t_rexmt = 0;
	tcp_enter_state(c, TCPS_ESTABLISHED, now);
	tcp_cc_init(c);
	tcp_keep_arm(c, now);
	TCP_PROBE_ESTABLISHED(c);
	c->tcb_ops->co_event(c, TCP_EV_ESTABLISHED, 0);
	if (c->tcb_fin_queued) {
		c->tcb_fin_queued = FALSE;
		tcp_conn_shutdown(c, now);
	}
	c->tcb_ack_now = TRUE; /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
}

static void
tcp_in_syn_sent(TcpConn *c, TcpSeg *seg, gint64 now)
{
	uint8_t f = seg->seg_flags;
	gboolean ack_ok = FALSE;
	if (f & TCP_F_ACK) {
		/* first: SEG.ACK =< ISS or > SND.NXT is unacceptable: reset it
		 * (unless it is a reset) and drop. */
		if (tcp_seq_le(seg->seg_ack, c->tcb_iss) ||
		    tcp_seq_gt(seg->seg_ack, c->tcb_snd_max)) {
			if (!(f & TCP_F_RST))
				tcp_send_rst_reply(c, seg, now);
			tcp_reject(c, TCP_DROP_BAD_ACK);
			return;
		}
		ack_ok = tcp_seq_lt(c->tcb_snd_una, seg->seg_ack);
	}
	if (f & TCP_F_RST) {
		/* second: with an acceptable ACK the connection is refused
		 * (RFC 5961 §3.2: that ACK makes the RST acceptable); else
		 * drop. */
		if (ack_ok)
			tcp_drop_conn(c, ECONNREFUSED, now);
		else
			tcp_reject(c, TCP_DROP_RST_INVALID);
		return;
	}
	if (!(f & TCP_F_SYN)) {
		tcp_reject(c, TCP_DROP_STATE); /* fifth: neither SYN nor RST */
		return;
	}
	/* fourth: the SYN. */
	c->tcb_irs = seg->seg_seq;
	c->tcb_rcv_nxt = c->tcb_rcv_adv = c->tcb_last_ack_sent = seg->seg_seq + 1;
	tcp_take_syn_opts(c, seg, now);
	if (ack_ok) {
		tcp_syn_sent_established(c, seg, now);
		seg->seg_seq++; /* the rest (text, FIN) from the sixth step on */
		seg->seg_flags &= (uint8_t)~TCP_F_SYN;
		seg->seg_up = 0;
		seg->seg_flags &= (uint8_t)~TCP_F_URG;
		return;
	}
	/* Simultaneous open: SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
	c->tcb_snd_wnd = seg->seg_wnd;
	c->tcb_max_sndwnd = c->tcb_snd_wnd;
	c->tcb_snd_wl1 = seg->seg_seq;
	tcp_enter_state(c, TCPS_SYN_RECEIVED, now);
	tcp_send_syn(c, now);
	tcp_rexmt_arm(c, now);
}

/* ------------------------------------------------------------------ */
/* Steps 0-4: PAWS, sequence number, RST, SYN                         */
/* ------------------------------------------------------------------ */

/* Step 0, RFC 7323 §5.3 R1: a segment whose TSval is older than TS.Recent
 * is a duplicate from an earlier wrap: acknowledged and dropped. */
static gboolean
tcp_in_paws(TcpConn *c, const TcpSeg *seg, gint64 now)
{
	if (!c->tcb_ts_ok || (seg->seg_flags & TCP_F_RST))
		return TRUE;
	if (!seg->seg_opt.to_has_ts) {
		/* RFC 7323 §3.2: a non-RST segment without TSopt SHOULD be
		 * silently dropped once timestamps are in use. */
		tcp_reject(c, TCP_DROP_PAWS);
		return FALSE;
	}
	if (!tcp_seq_lt(seg->seg_opt.to_tsval, c->tcb_ts_recent))
		return TRUE;
	if (now - c->tcb_ts_recent_age > TCP_TS_RECENT_VALID) {
		/* RFC 7323 §5.5: TS.Recent older than 24 days is invalid. */
		c->tcb_ts_recent = seg->seg_opt.to_tsval;
		c->tcb_ts_recent_age = now;
		return TRUE;
	}
	TCP_MIB_INC(c, tm_paws_drops);
	tcp_reject(c, TCP_DROP_PAWS);
	tcp_send_ack(c, now);
	return FALSE;
}

/* An unacceptable segment (step 1): <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
 * unless it is a RST; a retransmitted SYN in SYN-RECEIVED gets the SYN,ACK
 * again; a retransmitted FIN in TIME-WAIT restarts the 2 MSL timer. */
static void
tcp_in_unacceptable(TcpConn *c, const TcpSeg *seg, gint64 now)
{
	uint8_t f = seg->seg_flags;
	if (f & TCP_F_RST) {
		tcp_reject(c, TCP_DROP_RST_INVALID);
		return;
	}
	tcp_reject(c, TCP_DROP_OUT_OF_WINDOW);
	if (c->tcb_state == TCPS_TIME_WAIT && (f & TCP_F_FIN))
		c->tcb_t_2msl = now + c->tcb_ctx->tx_params.tp_time_wait;
	tcp_send_ack(c, now);
}

/* Step 1 (RFC 9293 §3.10.7.4, the four cases of the acceptability test),
 * then trims the segment to the window. */
static gboolean
tcp_in_seqcheck(TcpConn *c, TcpSeg *seg, gint64 now)
{
	uint32_t wnd = tcp_rcv_wnd_now(c), nxt = c->tcb_rcv_nxt;
	if ((seg->seg_flags & TCP_F_SYN) && tcp_seq_lt(seg->seg_seq, nxt)) {
		if (c->tcb_state == TCPS_SYN_RECEIVED && !(seg->seg_flags & TCP_F_ACK) &&
		    seg->seg_seq == c->tcb_irs) {
			tcp_reject(c, TCP_DROP_OUT_OF_WINDOW);
			tcp_send_syn(c, now); /* the SYN again: the SYN,ACK again */
			return FALSE;
		}
		/* A SYN we hold already (the SYN,ACK of a simultaneous open,
		 * RFC 9293 §3.5 figure 7): it is trimmed as old (SND.WND from
		 * it stays unscaled, RFC 7323 §2.2). */
		seg->seg_flags &= (uint8_t)~TCP_F_SYN;
		seg->seg_seq++;
		seg->seg_unscaled = TRUE;
		c->tcb_ack_now = TRUE;
	}
	uint32_t len = tcp_seg_space(seg), seq = seg->seg_seq;
	gboolean ok;
	if (len == 0)
		ok = wnd == 0 ? seq == nxt : tcp_in_window(seq, nxt, wnd);
	else if (wnd == 0)
		ok = FALSE;
	else
		ok = tcp_in_window(seq, nxt, wnd) || tcp_in_window(seq + len - 1, nxt, wnd);
	if (!ok && wnd == 0 && seq == nxt && !(seg->seg_flags & TCP_F_SYN)) {
		/* A zero window: "special allowance should be made to accept
		 * valid ACKs, URGs, and RSTs" -- the text is dropped. */
		tcp_seg_trim_back(seg, 0);
		seg->seg_flags &= (uint8_t)~TCP_F_FIN;
		c->tcb_ack_now = TRUE;
		ok = TRUE;
	}
	if (!ok) {
		tcp_in_unacceptable(c, seg, now);
		return FALSE;
	}
	if (tcp_seq_lt(seg->seg_seq, nxt)) {
		uint32_t d = nxt - seg->seg_seq;
		if (seg->seg_flags & TCP_F_SYN) { /* the SYN is before RCV.NXT */
			seg->seg_flags &= (uint8_t)~TCP_F_SYN;
			seg->seg_seq++;
			d--;
		}
		tcp_seg_trim_front(seg, d);
		c->tcb_ack_now = TRUE; /* duplicate data: acknowledge at once */
	}
	uint32_t right = nxt + wnd;
	if (tcp_seq_gt(seg->seg_seq + seg->seg_len, right)) {
		tcp_seg_trim_back(seg, right - seg->seg_seq);
		seg->seg_flags &= (uint8_t)~TCP_F_FIN; /* beyond the window */
		c->tcb_ack_now = TRUE;
	}
	/* A FIN right at the edge is kept: it takes no buffer space. */
	return TRUE;
}

/* Sends a challenge ACK unless the stack's budget for this second is spent
 * (RFC 5961 §7). */
static void
tcp_challenge(TcpConn *c, gint64 now)
{
	TcpCtx *x = c->tcb_ctx;
	gint64 sec = now / TCP_SEC;
	if (x->tx_challenge_second != sec) {
		x->tx_challenge_second = sec;
		x->tx_challenge_count = 0;
	}
	if (x->tx_challenge_count >= x->tx_params.tp_challenge_limit)
		return;
	x->tx_challenge_count++;
	TCP_MIB_INC(c, tm_challenge_acks);
	tcp_send_ack(c, now);
}

/* Step 2 (RFC 5961 §3.2): only a RST exactly at RCV.NXT resets; one
 * elsewhere in the window gets a challenge ACK. */
static void
tcp_in_rst(TcpConn *c, const TcpSeg *seg, gint64 now)
{
	if (seg->seg_seq != c->tcb_rcv_nxt) {
		tcp_reject(c, TCP_DROP_RST_INVALID);
		tcp_challenge(c, now);
		return;
	}
	switch (c->tcb_state) {
	case TCPS_SYN_RECEIVED:
		/* Passive: back to LISTEN (the owner forgets it); active:
		 * "connection refused". */
		tcp_drop_conn(c, ECONNREFUSED, now);
		break;
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT: tcp_drop_conn(c, ECONNRESET, now); break;
	default: tcp_drop_conn(c, 0, now); break; /* CLOSING, LAST-ACK, TIME-WAIT */
	}
}

/* Step 4 (RFC 5961 §4.2): a SYN in a synchronized state gets a challenge
 * ACK; in SYN-RECEIVED of a passive open the connection returns to LISTEN. */
static void
tcp_in_syn(TcpConn *c, gint64 now)
{
	tcp_reject(c, TCP_DROP_SYN_INVALID);
	if (c->tcb_state == TCPS_SYN_RECEIVED && c->tcb_passive) {
		tcp_drop_conn(c, ECONNREFUSED, now);
		return;
	}
	tcp_challenge(c, now);
}

/* RFC 7323 §4.3 (2): TS.Recent follows the segment that covers
 * Last.ACK.sent. */
static void
tcp_ts_recent_update(TcpConn *c, const TcpSeg *seg, gint64 now)
{
	if (!c->tcb_ts_ok || !seg->seg_opt.to_has_ts)
		return;
	if (tcp_seq_ge(seg->seg_opt.to_tsval, c->tcb_ts_recent) &&
	    tcp_seq_le(seg->seg_seq, c->tcb_last_ack_sent)) {
		c->tcb_ts_recent = seg->seg_opt.to_tsval;
		c->tcb_ts_recent_age = now;
	}
}

/* ------------------------------------------------------------------ */
/* Step 5: ACK                                                        */
/* ------------------------------------------------------------------ */

/* SYN-RECEIVED: the ACK of our SYN makes the connection ESTABLISHED and
 * takes the (now scaled) window; another ACK is answered with a RST. */
static gboolean
tcp_ack_synrcvd(TcpConn *c, const TcpSeg *seg, gint64 now)
{
	if (!tcp_seq_lt(c->tcb_snd_una, seg->seg_ack) || tcp_seq_gt(seg->seg_ack, c->tcb_snd_max)) {
		tcp_send_rst_reply(c, seg, now); /* <SEQ=SEG.ACK><CTL=RST> */
		tcp_reject(c, TCP_DROP_BAD_ACK);
		return FALSE;
	}
	c->tcb_snd_wnd =
		seg->seg_unscaled ? seg->seg_wnd : (uint32_t)seg->seg_wnd << c->tcb_snd_wscale;
	c->tcb_max_sndwnd = MAX(c->tcb_max_sndwnd, c->tcb_snd_wnd);
	c->tcb_snd_wl1 = seg->seg_seq;
	c->tcb_snd_wl2 = seg->seg_ack;
	tcp_enter_state(c, TCPS_ESTABLISHED, now);
	tcp_cc_init(c);
	tcp_keep_arm(c, now);
	TCP_PROBE_ESTABLISHED(c);
	c->tcb_ops->co_event(c, TCP_EV_ESTABLISHED, 0);
	if (c->tcb_fin_queued) {
		c->tcb_fin_queued = FALSE;
		tcp_conn_shutdown(c, now); /* the CLOSE queued while opening */
	}
	return TRUE;
}

/* The congestion side of an ACK of new data (RFC 5681 §3.1, RFC 6582
 * §3.2 step 3, RFC 6675 §5). */
static void
tcp_ack_new_cc(TcpConn *c, uint32_t acked, gint64 rtt, gint64 now)
{
	switch (c->tcb_ca_state) {
	case TCP_CA_RECOVERY:
		if (tcp_seq_ge(c->tcb_snd_una, c->tcb_recover)) {
			tcp_cc_exit_recovery(c, now); /* a full ACK */
			break;
		}
		if (!c->tcb_sack_ok) {
			/* RFC 6582 §3.2 step 3, partial ACK: retransmit the
			 * first unacknowledged segment, deflate cwnd by the
			 * amount acknowledged, add back one SMSS if that was
			 * at least SMSS; restart the RTO on the first one. */
			tcp_retransmit_una(c, now);
			uint32_t cw = c->tcb_cc.cwnd > acked ? c->tcb_cc.cwnd - acked : 0;
			if (acked >= c->tcb_mss)
				cw += c->tcb_mss;
			c->tcb_cc.cwnd = MAX(cw, c->tcb_mss);
			if (!c->tcb_partial_acked) {
				c->tcb_partial_acked = TRUE;
				tcp_rexmt_restart(c, now);
			}
		}
		break;
	case TCP_CA_LOSS:
		if (tcp_seq_ge(c->tcb_snd_una, c->tcb_recover))
			c->tcb_ca_state = TCP_CA_OPEN;
		tcp_cc_ack(c, acked, rtt, now);
		break;
	default: tcp_cc_ack(c, acked, rtt, now); break;
	}
}

/* SND.UNA < SEG.ACK =< SND.NXT: new data acknowledged. */
static void
tcp_ack_new(TcpConn *c, const TcpSeg *seg, gint64 now)
{
	uint32_t ack = seg->seg_ack, acked = ack - c->tcb_snd_una;
	uint32_t before = c->tcb_sndq_bytes;
	gint64 rtt = 0;
	gboolean have = tcp_ts_rtt(c, seg, now, &rtt);
	if (c->tcb_rtt_timing && tcp_seq_gt(ack, c->tcb_rtt_seq)) {
		if (!have) { /* RFC 6298 §3 (Karn): never from a retransmission */
			rtt = now - c->tcb_rtt_start;
			have = TRUE;
		}
		c->tcb_rtt_timing = FALSE;
	}
	if (have)
		tcp_rtt_sample(c, rtt, now);
	tcp_sndq_free_acked(c, ack);
	c->tcb_snd_una = ack;
	if (tcp_seq_lt(c->tcb_snd_nxt, ack))
		c->tcb_snd_nxt = ack;
	if (c->tcb_snd_urg && tcp_seq_ge(ack, c->tcb_snd_up))
		c->tcb_snd_urg = FALSE;
	c->tcb_rxtshift = 0;
	(void)tcp_sack_update(c, NULL); /* forget blocks now below SND.UNA */
	tcp_ack_new_cc(c, acked, have ? rtt : 0, now);
	if (c->tcb_ca_state == TCP_CA_OPEN)
		c->tcb_dupacks = 0;
	if (c->tcb_snd_una == c->tcb_snd_max)
		c->tcb_t_rexmt = 0; /* RFC 6298 (5.2) */
	else if (c->tcb_ca_state != TCP_CA_RECOVERY || c->tcb_sack_ok)
		tcp_rexmt_restart(c, now); /* RFC 6298 (5.3) */
	if (c->tcb_sndq_bytes < before)
		c->tcb_ops->co_event(c, TCP_EV_SND_SPACE, 0);
}

/* Enters fast recovery (RFC 6675 §5 step 4 with SACK, RFC 6582 §3.2 step
 * 2 without). */
static void
tcp_enter_recovery(TcpConn *c, gint64 now)
{
	c->tcb_recover = c->tcb_snd_max; /* RecoveryPoint = HighData */
	tcp_cc_enter_recovery(c, now);
	c->tcb_ca_state = TCP_CA_RECOVERY;
	c->tcb_high_rxt = c->tcb_snd_una;
	c->tcb_rescue_valid = FALSE;
	c->tcb_partial_acked = FALSE;
	TCP_MIB_INC(c, tm_fast_retrans);
	if (c->tcb_sack_ok)
		TCP_MIB_INC(c, tm_sack_recoveries);
	else
		TCP_MIB_INC(c, tm_reno_recoveries);
	/* (4.3) / RFC 5681 §3.2 step 2: retransmit the first segment. */
	tcp_retransmit_una(c, now);
	if (!c->tcb_sack_ok)
		c->tcb_cc.cwnd = c->tcb_cc.ssthresh + 3 * c->tcb_mss; /* step 3 */
}

/* SEG.ACK == SND.UNA: a duplicate ACK (RFC 5681 §2, and RFC 6675 §2 when
 * it SACKs new data) feeds loss detection. */
static void
tcp_ack_dup(TcpConn *c, const TcpSeg *seg, uint32_t newsack, gboolean wnd_changed, gint64 now)
{
	/* The answers to zero-window probes repeat themselves without loss. */
	gboolean dup = c->tcb_snd_max != c->tcb_snd_una && seg->seg_len == 0 &&
		       !(seg->seg_flags & (TCP_F_SYN | TCP_F_FIN)) && !wnd_changed &&
		       c->tcb_snd_wnd != 0;
	if (c->tcb_sack_ok)
		dup = (dup || newsack > 0) && c->tcb_snd_max != c->tcb_snd_una;
	if (!dup)
		return;
	if (c->tcb_ca_state == TCP_CA_RECOVERY) {
		if (!c->tcb_sack_ok) /* RFC 5681 §3.2 step 4: inflate */
			c->tcb_cc.cwnd += c->tcb_mss;
		return;
	}
	c->tcb_dupacks++;
	if (c->tcb_ca_state == TCP_CA_LOSS)
		return; /* go-back-N after a timeout is already repairing */
	if (c->tcb_sack_ok) {
		if (c->tcb_dupacks >= TCP_DUPTHRESH ||
		    tcp_seq_gt(tcp_sack_lost_edge(c), c->tcb_snd_una))
			tcp_enter_recovery(c, now);
		return;
	}
	/* RFC 6582 §3.2 step 2: only when the ACK covers more than
	 * "recover" (no second reduction for one window). */
	if (c->tcb_dupacks == TCP_DUPTHRESH && tcp_seq_gt(seg->seg_ack, c->tcb_recover))
		tcp_enter_recovery(c, now);
}

/* The send window (RFC 9293 §3.10.7.4 step 5): SND.WL1/WL2 keep old
 * segments from updating it.  Returns TRUE if it changed. */
static gboolean
tcp_ack_window(TcpConn *c, const TcpSeg *seg)
{
	uint32_t wnd =
		seg->seg_unscaled ? seg->seg_wnd : (uint32_t)seg->seg_wnd << c->tcb_snd_wscale;
	if (!(tcp_seq_lt(c->tcb_snd_wl1, seg->seg_seq) ||
	      (c->tcb_snd_wl1 == seg->seg_seq && tcp_seq_le(c->tcb_snd_wl2, seg->seg_ack))))
		return FALSE;
	gboolean changed = wnd != c->tcb_snd_wnd;
	c->tcb_snd_wnd = wnd;
	c->tcb_snd_wl1 = seg->seg_seq;
	c->tcb_snd_wl2 = seg->seg_ack;
	c->tcb_max_sndwnd = MAX(c->tcb_max_sndwnd, wnd);
	if (wnd > 0 && c->tcb_t_persist != 0) {
		c->tcb_t_persist = 0; /* the window opened: out of persist */
		c->tcb_persist_shift = 0;
		c->tcb_snd_nxt = c->tcb_snd_una; /* the probe octet was refused: again */
	}
	return changed;
}

/* The states the acknowledgement of our FIN moves (step 5).  FALSE when
 * the connection is gone. */
static gboolean
tcp_ack_fin_states(TcpConn *c, gint64 now)
{
	gboolean fin_acked = c->tcb_fin_queued && tcp_seq_gt(c->tcb_snd_una, tcp_sndq_end(c));
	if (!fin_acked)
		return TRUE;
	switch (c->tcb_state) {
	case TCPS_FIN_WAIT_1:
		tcp_enter_state(c, TCPS_FIN_WAIT_2, now);
		if (c->tcb_orphan) /* an orphan does not wait forever */
			c->tcb_t_2msl =
				now + (c->tcb_linger2 > 0 ? c->tcb_linger2
							  : c->tcb_ctx->tx_params.tp_fin_wait_2);
		return TRUE;
	case TCPS_CLOSING: tcp_enter_state(c, TCPS_TIME_WAIT, now); return TRUE;
	case TCPS_LAST_ACK: tcp_drop_conn(c, 0, now); return FALSE;
	default: return TRUE;
	}
}

static gboolean
tcp_in_ack(TcpConn *c, const TcpSeg *seg, gint64 now)
{
	uint32_t ack = seg->seg_ack;
	if (c->tcb_state == TCPS_SYN_RECEIVED && !tcp_ack_synrcvd(c, seg, now))
		return FALSE;
	if (tcp_seq_gt(ack, c->tcb_snd_max)) {
		/* It acks something not yet sent: ACK and drop. */
		tcp_reject(c, TCP_DROP_BAD_ACK);
		tcp_send_ack(c, now);
		return FALSE;
	}
	if (tcp_seq_lt(ack, c->tcb_snd_una - c->tcb_max_sndwnd)) {
		/* RFC 5961 §5.2: older than the peer could have seen. */
		tcp_reject(c, TCP_DROP_BAD_ACK);
		tcp_challenge(c, now);
		return FALSE;
	}
	uint32_t newsack = c->tcb_sack_ok ? tcp_sack_update(c, &seg->seg_opt) : 0;
	gboolean wnd_changed = FALSE;
	if (tcp_seq_le(c->tcb_snd_una, ack))
		wnd_changed = tcp_ack_window(c, seg);
	if (tcp_seq_gt(ack, c->tcb_snd_una))
		tcp_ack_new(c, seg, now);
	else if (ack == c->tcb_snd_una)
		tcp_ack_dup(c, seg, newsack, wnd_changed, now);
	return tcp_ack_fin_states(c, now);
}

/* ------------------------------------------------------------------ */
/* Steps 6-8: URG, text, FIN                                          */
/* ------------------------------------------------------------------ */

/* Step 6 (RFC 6093 §4): the urgent pointer points one past the urgent
 * byte; RCV.UP = max(RCV.UP, SEG.UP). */
static void
tcp_in_urg(TcpConn *c, const TcpSeg *seg)
{
	if (!(seg->seg_flags & TCP_F_URG) || seg->seg_up == 0)
		return;
	if (c->tcb_state != TCPS_ESTABLISHED && c->tcb_state != TCPS_FIN_WAIT_1 &&
	    c->tcb_state != TCPS_FIN_WAIT_2)
		return;
	uint32_t up = seg->seg_seq + seg->seg_up;
	if (!tcp_seq_gt(up, c->tcb_rcv_nxt))
		return; /* that byte was delivered already */
	if (!c->tcb_rcv_urg || tcp_seq_gt(up, c->tcb_rcv_up)) {
		c->tcb_rcv_up = up;
		c->tcb_rcv_urg = TRUE;
	}
}

/* Splits mp after its first n bytes: returns the rest (NULL if none or no
 * memory, in which case mp is whole). */
static mblk_t *
tcp_msg_split(mblk_t *mp, size_t n)
{
	for (mblk_t *b = mp; b != NULL; b = b->b_cont) {
		size_t l = MBLKL(b);
		if (n > l) {
			n -= l;
			continue;
		}
		if (n == l) {
			mblk_t *rest = b->b_cont;
			b->b_cont = NULL;
			return rest;
		}
		mblk_t *nb = dupb(b);
		if (nb == NULL)
			return NULL;
		nb->b_rptr += n;
		b->b_wptr = b->b_rptr + n;
		nb->b_cont = b->b_cont;
		b->b_cont = NULL;
		return nb;
	}
	return NULL;
}

/* Hands len in-order bytes (data, consumed) to the reader, the urgent byte
 * at the end of its own piece. */
static void
tcp_rcv_deliver(TcpConn *c, mblk_t *data, uint32_t len)
{
	uint32_t nxt = c->tcb_rcv_nxt;
	c->tcb_rcv_nxt += len;
	c->tcb_bytes_received += len;
	if (c->tcb_rcv_urg && tcp_seq_gt(c->tcb_rcv_up, nxt) &&
	    tcp_seq_le(c->tcb_rcv_up, nxt + len)) {
		uint32_t k = c->tcb_rcv_up - nxt; /* up to and with the urgent byte */
		mblk_t *rest = k < len ? tcp_msg_split(data, k) : NULL;
		if (k == len || rest != NULL) {
			c->tcb_rcv_urg = FALSE;
			c->tcb_ops->co_deliver(c, data, TRUE);
			if (rest != NULL)
				c->tcb_ops->co_deliver(c, rest, FALSE);
			return;
		}
	}
	c->tcb_ops->co_deliver(c, data, FALSE);
}

/* Queues an out-of-order segment, trimmed against its neighbours. */
static void
tcp_rcv_ooo(TcpConn *c, TcpSeg *seg)
{
	TcpOoo **pp = &c->tcb_ooo;
	while (*pp != NULL && tcp_seq_le((*pp)->oo_seq, seg->seg_seq)) {
		TcpOoo *p = *pp;
		uint32_t pend = p->oo_seq + p->oo_len;
		if (tcp_seq_ge(pend, seg->seg_seq + seg->seg_len) && seg->seg_len > 0) {
			tcp_reject(c, TCP_DROP_DUP); /* all of it is held already */
			return;
		}
		if (tcp_seq_gt(pend, seg->seg_seq))
			tcp_seg_trim_front(seg, pend - seg->seg_seq);
		pp = &p->oo_next;
	}
	while (*pp != NULL && tcp_seq_lt((*pp)->oo_seq, seg->seg_seq + seg->seg_len)) {
		TcpOoo *n = *pp;
		if (tcp_seq_le(n->oo_seq + n->oo_len, seg->seg_seq + seg->seg_len) && !n->oo_fin) {
			*pp = n->oo_next; /* covered by the new one */
			c->tcb_ooo_bytes -= n->oo_len;
			freemsg(n->oo_data);
			g_free(n);
			continue;
		}
		tcp_seg_trim_back(seg, n->oo_seq - seg->seg_seq);
		seg->seg_flags &= (uint8_t)~TCP_F_FIN;
		break;
	}
	if (seg->seg_len == 0 && !(seg->seg_flags & TCP_F_FIN))
		return;
	TcpOoo *o = g_new(TcpOoo, 1);
	o->oo_seq = seg->seg_seq;
	o->oo_len = seg->seg_len;
	o->oo_fin = (seg->seg_flags & TCP_F_FIN) != 0;
	o->oo_data = g_steal_pointer(&seg->seg_data);
	o->oo_next = *pp;
	*pp = o;
	c->tcb_ooo_bytes += o->oo_len;
	TCP_MIB_INC(c, tm_ofo_queued);
	tcp_sack_out_add(c, o->oo_seq, o->oo_seq + o->oo_len);
}

/* Delivers what the out-of-order queue holds from RCV.NXT on.  Returns
 * TRUE if a FIN was reached. */
static gboolean
tcp_rcv_reass(TcpConn *c)
{
	gboolean fin = FALSE;
	TcpOoo *o;
	while (!fin && (o = c->tcb_ooo) != NULL && tcp_seq_le(o->oo_seq, c->tcb_rcv_nxt)) {
		c->tcb_ooo = o->oo_next;
		c->tcb_ooo_bytes -= o->oo_len;
		uint32_t end = o->oo_seq + o->oo_len;
		if (tcp_seq_gt(end, c->tcb_rcv_nxt)) {
			uint32_t skip = c->tcb_rcv_nxt - o->oo_seq;
			if (skip > 0)
				(void)adjmsg(o->oo_data, (ssize_t)skip);
			tcp_rcv_deliver(c, g_steal_pointer(&o->oo_data), end - c->tcb_rcv_nxt);
		}
		fin = o->oo_fin && end == c->tcb_rcv_nxt;
		freemsg(o->oo_data);
		g_free(o);
	}
	tcp_sack_out_trim(c);
	return fin;
}

/* In-order data: delivered, and acknowledged at least every second full
 * segment or after the delayed-ACK time (RFC 1122 §4.2.3.2, RFC 5681
 * §4.2). */
static gboolean
tcp_rcv_inorder(TcpConn *c, TcpSeg *seg, gint64 now)
{
	gboolean had_ooo = c->tcb_ooo != NULL;
	tcp_rcv_deliver(c, g_steal_pointer(&seg->seg_data), seg->seg_len);
	gboolean fin = (seg->seg_flags & TCP_F_FIN) != 0;
	if (had_ooo) {
		fin = tcp_rcv_reass(c) || fin;
		c->tcb_ack_now = TRUE; /* it filled (part of) a gap */
	}
	c->tcb_unacked_segs += (seg->seg_len + c->tcb_rcv_mss - 1) / c->tcb_rcv_mss;
	if (c->tcb_unacked_segs >= 2)
		c->tcb_ack_now = TRUE;
	else if (c->tcb_t_delack == 0)
		c->tcb_t_delack = now + c->tcb_ctx->tx_params.tp_delack;
	return fin;
}

/* Steps 7 and 8: the text, then the FIN.  FALSE when the connection is
 * gone. */
static gboolean
tcp_in_text(TcpConn *c, TcpSeg *seg, gint64 now)
{
	TcpState s = c->tcb_state;
	gboolean takes_text = s == TCPS_ESTABLISHED || s == TCPS_FIN_WAIT_1 ||
			      s == TCPS_FIN_WAIT_2 || s == TCPS_SYN_RECEIVED;
	if (seg->seg_len > 0 && !takes_text) {
		tcp_seg_trim_back(seg, 0); /* after the peer's FIN: ignored */
		tcp_reject(c, TCP_DROP_STATE);
	}
	if (seg->seg_len > 0 && c->tcb_orphan) {
		/* RFC 1122 §4.2.2.13: new data after CLOSE: RST. */
		tcp_reject(c, TCP_DROP_AFTER_CLOSE);
		tcp_send_rst(c, now);
		tcp_drop_conn(c, ECONNRESET, now);
		return FALSE;
	}
	gboolean fin = FALSE;
	if (seg->seg_seq == c->tcb_rcv_nxt && (seg->seg_len > 0 || (seg->seg_flags & TCP_F_FIN))) {
		if (seg->seg_len > 0)
			fin = tcp_rcv_inorder(c, seg, now);
		else
			fin = TRUE;
	} else if (seg->seg_len > 0 || (seg->seg_flags & TCP_F_FIN)) {
		if (takes_text)
			tcp_rcv_ooo(c, seg);
		c->tcb_ack_now = TRUE; /* RFC 5681 §4.2: out of order, ACK at once */
	}
	if (fin && !c->tcb_fin_rcvd)
		tcp_in_fin(c, now);
	return !tcp_conn_is_closed(c);
}

/* Step 8: the FIN (in order).  RCV.NXT passes it; the reader sees the end
 * of the data; the state moves. */
static void
tcp_in_fin(TcpConn *c, gint64 now)
{
	c->tcb_rcv_nxt++;
	c->tcb_fin_rcvd = TRUE;
	c->tcb_ack_now = TRUE;
	c->tcb_ops->co_event(c, TCP_EV_FIN, 0);
	gboolean fin_acked = c->tcb_fin_queued && tcp_seq_gt(c->tcb_snd_una, tcp_sndq_end(c));
	switch (c->tcb_state) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED: tcp_enter_state(c, TCPS_CLOSE_WAIT, now); break;
	case TCPS_FIN_WAIT_1:
		tcp_enter_state(c, fin_acked ? TCPS_TIME_WAIT : TCPS_CLOSING, now);
		break;
	case TCPS_FIN_WAIT_2: tcp_enter_state(c, TCPS_TIME_WAIT, now); break;
	case TCPS_TIME_WAIT: c->tcb_t_2msl = now + c->tcb_ctx->tx_params.tp_time_wait; break;
	default: break; /* CLOSE-WAIT, CLOSING, LAST-ACK: remain */
	}
}

/* ------------------------------------------------------------------ */
/* Header prediction and the entry point                              */
/* ------------------------------------------------------------------ */

/* The two common cases of ESTABLISHED taken without the full steps:
 * nothing but an ACK of new data, or in-order data that acknowledges
 * nothing new.  FALSE: take the slow path. */
static gboolean
tcp_in_fast(TcpConn *c, TcpSeg *seg, gint64 now)
{
	const TcpOpts *o = &seg->seg_opt;
	if (c->tcb_state != TCPS_ESTABLISHED ||
	    (seg->seg_flags & (TCP_F_SYN | TCP_F_FIN | TCP_F_RST | TCP_F_URG | TCP_F_ACK)) !=
		    TCP_F_ACK ||
	    seg->seg_seq != c->tcb_rcv_nxt || c->tcb_snd_nxt != c->tcb_snd_max ||
	    ((uint32_t)seg->seg_wnd << c->tcb_snd_wscale) != c->tcb_snd_wnd ||
	    c->tcb_ca_state != TCP_CA_OPEN || c->tcb_dupacks != 0 || o->to_nsack != 0 ||
	    c->tcb_ooo != NULL || c->tcb_rcv_urg || c->tcb_orphan || c->tcb_t_persist != 0)
		return FALSE;
	if (c->tcb_ts_ok && (!o->to_has_ts || tcp_seq_lt(o->to_tsval, c->tcb_ts_recent)))
		return FALSE;
	uint32_t ack = seg->seg_ack;
	if (seg->seg_len == 0 && tcp_seq_gt(ack, c->tcb_snd_una) &&
	    tcp_seq_le(ack, c->tcb_snd_max)) {
		tcp_ts_recent_update(c, seg, now);
		c->tcb_snd_wl1 = seg->seg_seq;
		c->tcb_snd_wl2 = ack;
		tcp_ack_new(c, seg, now);
		tcp_output(c, now);
		return TRUE;
	}
	if (seg->seg_len > 0 && ack == c->tcb_snd_una && seg->seg_len <= tcp_rcv_wnd_now(c)) {
		tcp_ts_recent_update(c, seg, now);
		(void)tcp_rcv_inorder(c, seg, now);
		if (c->tcb_ack_now)
			tcp_output(c, now);
		return TRUE;
	}
	return FALSE;
}

/* The steps of §3.10.7.4 for the synchronized states. */
static void
tcp_in_sync(TcpConn *c, TcpSeg *seg, gint64 now)
{
	if (!tcp_in_paws(c, seg, now) || !tcp_in_seqcheck(c, seg, now))
		return;
	if (seg->seg_flags & TCP_F_RST) {
		tcp_in_rst(c, seg, now);
		return;
	}
	if (seg->seg_flags & TCP_F_SYN) {
		tcp_in_syn(c, now);
		return;
	}
	if (!(seg->seg_flags & TCP_F_ACK)) {
		tcp_reject(c, TCP_DROP_NO_ACK); /* step 5: no ACK, drop */
		return;
	}
	tcp_ts_recent_update(c, seg, now);
	if (!tcp_in_ack(c, seg, now))
		return;
	tcp_in_urg(c, seg);
	if (!tcp_in_text(c, seg, now))
		return;
	tcp_output(c, now);
}

int
tcp_conn_input(TcpConn *c, TcpSeg *seg, gint64 now)
{
	c->tcb_drop = TCP_DROP_N;
	c->tcb_segs_in++;
	c->tcb_last_rcv = now;
	c->tcb_keep_probes = 0;
	switch (c->tcb_state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN: tcp_reject(c, TCP_DROP_STATE); break;
	case TCPS_SYN_SENT:
		tcp_in_syn_sent(c, seg, now);
		if (c->tcb_state == TCPS_ESTABLISHED) { /* text and FIN of a SYN,ACK */
			tcp_in_urg(c, seg);
			if (tcp_in_text(c, seg, now))
				tcp_output(c, now);
		}
		break;
	default:
		if (!tcp_in_fast(c, seg, now))
			tcp_in_sync(c, seg, now);
		break;
	}
	freemsg(seg->seg_data);
	seg->seg_data = NULL;
	return c->tcb_drop;
}
