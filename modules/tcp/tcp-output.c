/* SPDX-License-Identifier: MIT */
/*
 * tcp-output -- deciding what to send, and building segments.
 *
 * Theory
 * ------
 * tcp_output() runs after every event that may allow sending: a user SEND,
 * an ACK, a timer.  It sends, in this order:
 *   - during SACK loss recovery, what NextSeg() chooses while cwnd - pipe
 *     allows at least one segment (RFC 6675 §5 step (C));
 *   - otherwise data from SND.NXT on within min(SND.WND, cwnd) (RFC 5681
 *     §3.1; plus up to two segments on the first duplicate ACKs, limited
 *     transmit, RFC 3042), in segments of Eff.snd.MSS, a smaller one only
 *     when the Nagle and sender-SWS rules allow it (RFC 1122 §4.2.3.4:
 *     all the queued data with nothing unacknowledged or TCP_NODELAY; or at
 *     least half the largest window the peer offered); TCP_CORK holds
 *     partial segments; the FIN rides on the last data;
 *   - a pure ACK if one is owed (delayed-ACK rules, in tcp-input.c).
 * Then the timers: the retransmission timer runs while data is in flight
 * (RFC 6298 (5.1)); the persist timer when data waits with nothing in
 * flight and nothing could be sent (RFC 1122 §4.2.2.17, a zero window or
 * one too small for the SWS rules).
 *
 * Every segment carries the ACK of RCV.NXT and our window, computed by
 * tcp_rcv_window() from the space the reader has: never shrinking the
 * right edge (RFC 9293 §3.8.6.2.2) and moving it only by at least
 * min(RCV.BUFF/2, MSS) (receiver SWS avoidance, RFC 1122 §4.2.3.3).
 * Options: timestamps on every segment once agreed (RFC 7323 §3.2), SACK
 * blocks while data waits out of order (RFC 2018 §4; a data segment then
 * carries less payload so the options fit).  The payload is a chain of
 * dupb()s of the send buffer: nothing is copied.
 */
#define G_LOG_DOMAIN "us-tcp"

#include "tcp-core.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

uint32_t
tcp_sndq_end(const TcpConn *c)
{
	return c->tcb_sndq_seq + c->tcb_sndq_bytes;
}

uint32_t
tcp_flight(const TcpConn *c)
{
	return c->tcb_snd_max - c->tcb_snd_una;
}

uint32_t
tcp_tsval(const TcpConn *c, gint64 now)
{
	return (uint32_t)(now / TCP_MSEC) + c->tcb_ts_offset; /* 1 ms ticks */
}

/* Option bytes the SACK blocks would take beside the timestamps. */
static uint32_t
tcp_sack_opt_len(const TcpConn *c)
{
	if (!c->tcb_sack_ok || c->tcb_nsack_out == 0)
		return 0;
	guint n = MIN(c->tcb_nsack_out, c->tcb_ts_ok ? 3u : (guint)TCP_SACK_MAX);
	return 4 + 8 * n;
}

/* The payload of a full segment now (SACK blocks take some room). */
uint32_t
tcp_cur_mss(const TcpConn *c)
{
	uint32_t s = tcp_sack_opt_len(c);
	return c->tcb_mss > s + 32 ? c->tcb_mss - s : c->tcb_mss;
}

/* The payload one emitted segment may carry: a full segment, or, where the
 * route segments for us (tcb_lso_max from IP_ROUTE_ACK), as many full
 * segments as one HW_LSO packet holds (stream.h); ip or the driver cuts it
 * into segments of mss, each a normal segment on the wire.  Not while
 * urgent data is pending (its pointer is per segment). */
static uint32_t
tcp_seg_max(const TcpConn *c, uint32_t mss)
{
	if (c->tcb_lso_max <= TCP_LSO_HDR_ROOM || c->tcb_snd_urg || mss == 0)
		return mss;
	uint32_t n = (c->tcb_lso_max - TCP_LSO_HDR_ROOM) / mss;
	return n > 1 ? n * mss : mss;
}

/* TRUE while the FIN still has to be sent (or sent again) at SND.NXT. */
static gboolean
tcp_fin_pending(const TcpConn *c)
{
	return c->tcb_fin_queued && tcp_seq_le(c->tcb_snd_nxt, tcp_sndq_end(c));
}

/* ------------------------------------------------------------------ */
/* The receive window                                                 */
/* ------------------------------------------------------------------ */

uint32_t
tcp_rcv_window(TcpConn *c)
{
	uint32_t space = c->tcb_ops->co_rcv_space(c);
	space = space > c->tcb_ooo_bytes ? space - c->tcb_ooo_bytes : 0;
	uint8_t ws = c->tcb_rcv_wscale;
	uint32_t win = MIN(space, (uint32_t)65535 << ws);
	uint32_t cur =
		tcp_seq_gt(c->tcb_rcv_adv, c->tcb_rcv_nxt) ? c->tcb_rcv_adv - c->tcb_rcv_nxt : 0;
	if (win <= cur || win - cur < MIN(c->tcb_rcvbuf / 2, c->tcb_rcv_mss))
		win = cur; /* RFC 1122 §4.2.3.3; never shrink (RFC 9293 §3.8.6.2.2) */
	uint32_t field = win >> ws;
	if (win == cur && (field << ws) < win)
		field++; /* keep the right edge where it was */
	field = MIN(field, 65535);
	uint32_t edge = c->tcb_rcv_nxt + (field << ws);
	if (tcp_seq_gt(edge, c->tcb_rcv_adv))
		c->tcb_rcv_adv = edge;
	return field;
}

/* ------------------------------------------------------------------ */
/* Building segments                                                  */
/* ------------------------------------------------------------------ */

/* A segment with ACK, our window, timestamps and SACK blocks. */
static void
tcp_seg_init(TcpConn *c, TcpSeg *seg, uint32_t seq, gint64 now)
{
	memset(seg, 0, sizeof *seg);
	seg->seg_seq = seq;
	seg->seg_flags = TCP_F_ACK;
	seg->seg_ack = c->tcb_rcv_nxt;
	seg->seg_wnd = (uint16_t)tcp_rcv_window(c);
	TcpOpts *o = &seg->seg_opt;
	if (c->tcb_ts_ok) {
		o->to_has_ts = 1;
		o->to_tsval = tcp_tsval(c, now);
		o->to_tsecr = c->tcb_ts_recent;
	}
	if (c->tcb_sack_ok && c->tcb_nsack_out > 0) {
		o->to_nsack = c->tcb_nsack_out;
		memcpy(o->to_sack, c->tcb_sack_out, sizeof o->to_sack);
	}
}

/* Hands a finished segment to the owner and notes what it acknowledged. */
static void
tcp_emit(TcpConn *c, TcpSeg *seg)
{
	seg->seg_sport = c->tcb_lport;
	seg->seg_dport = c->tcb_rport;
	if (seg->seg_flags & TCP_F_ACK) {
		c->tcb_last_ack_sent = seg->seg_ack;
		c->tcb_t_delack = 0;
		c->tcb_ack_now = FALSE;
		c->tcb_unacked_segs = 0;
	}
	if (seg->seg_flags & TCP_F_RST)
		TCP_MIB_INC(c, tm_out_rsts);
	c->tcb_segs_out++;
	TCP_MIB_INC(c, tm_out_segs);
	c->tcb_ops->co_output(c, seg);
}

/* dupb()s of the send buffer's bytes [seq, seq + len): NULL without
 * memory.  The search starts at the cursor, which follows the sends. */
static mblk_t *
tcp_sndq_dup(TcpConn *c, uint32_t seq, uint32_t len)
{
	mblk_t *b = c->tcb_sndq_head;
	uint32_t bseq = c->tcb_sndq_seq;
	if (c->tcb_sndq_cur != NULL && tcp_seq_le(c->tcb_sndq_cur_seq, seq)) {
		b = c->tcb_sndq_cur;
		bseq = c->tcb_sndq_cur_seq;
	}
	while (b != NULL && tcp_seq_le(bseq + (uint32_t)MBLKL(b), seq)) {
		bseq += (uint32_t)MBLKL(b);
		b = b->b_next;
	}
	c->tcb_sndq_cur = b;
	c->tcb_sndq_cur_seq = bseq;
	mblk_t *head = NULL, **tailp = &head;
	uint32_t off = seq - bseq;
	while (len > 0 && b != NULL) {
		uint32_t take = MIN((uint32_t)MBLKL(b) - off, len);
		mblk_t *d = dupb(b);
		if (d == NULL) {
			freemsg(head);
			return NULL;
		}
		d->b_rptr += off;
		d->b_wptr = d->b_rptr + take;
		*tailp = d;
		tailp = &d->b_cont;
		len -= take;
		off = 0;
		b = b->b_next;
	}
	return head;
}

/* Sends [seq, seq + len) of the buffer, with the FIN after it if fin.
 * Returns FALSE when no memory was to be had (the timer will retry). */
static gboolean
tcp_send_range(TcpConn *c, uint32_t seq, uint32_t len, gboolean fin, gboolean probe, gint64 now)
{
	TcpSeg seg;
	uint32_t max = tcp_cur_mss(c), lim = tcp_seg_max(c, max);
	if (len > lim) { /* the options grew since the length was chosen */
		len = lim;
		fin = FALSE;
	}
	tcp_seg_init(c, &seg, seq, now);
	if (len > max) {
		seg.seg_lso_mss = (uint16_t)max;
		uint32_t extra = (len + max - 1) / max - 1; /* the segments it becomes */
		c->tcb_segs_out += extra;
		c->tcb_ctx->tx_mib.tm_out_segs += extra;
	}
	if (len > 0) {
		seg.seg_data = tcp_sndq_dup(c, seq, len);
		if (seg.seg_data == NULL)
			return FALSE;
		seg.seg_len = len;
		if (seq + len == tcp_sndq_end(c))
			seg.seg_flags |= TCP_F_PSH;
	}
	if (fin)
		seg.seg_flags |= TCP_F_FIN;
	if (c->tcb_snd_urg && tcp_seq_lt(seq, c->tcb_snd_up)) {
		seg.seg_flags |= TCP_F_URG; /* RFC 6093 §4: offset one past the urgent byte */
		seg.seg_up = (uint16_t)MIN(c->tcb_snd_up - seq, 65535);
	}
	uint32_t end = seq + len + (fin ? 1 : 0);
	gboolean rexmit = tcp_seq_lt(seq, c->tcb_snd_max);
	c->tcb_bytes_sent += len;
	if (rexmit) {
		c->tcb_bytes_retrans += len;
		c->tcb_total_retrans++;
		TCP_MIB_INC(c, tm_retrans_segs);
		c->tcb_rtt_timing = FALSE; /* RFC 6298 §3: Karn's algorithm */
	} else if (len > 0 && !c->tcb_rtt_timing) {
		c->tcb_rtt_timing = TRUE;
		c->tcb_rtt_seq = seq;
		c->tcb_rtt_start = now;
	}
	if (seq == c->tcb_snd_nxt)
		c->tcb_snd_nxt = end;
	if (tcp_seq_gt(end, c->tcb_snd_max))
		c->tcb_snd_max = end;
	tcp_emit(c, &seg);
	if (c->tcb_t_rexmt == 0 && c->tcb_t_persist == 0 && !probe)
		tcp_rexmt_arm(c, now); /* RFC 6298 (5.1) */
	return TRUE;
}

void
tcp_send_seg(TcpConn *c, uint32_t seq, uint32_t len, gboolean fin, gint64 now)
{
	(void)tcp_send_range(c, seq, len, fin, FALSE, now);
}

void
tcp_send_syn(TcpConn *c, gint64 now)
{
	const TcpParams *p = &c->tcb_ctx->tx_params;
	gboolean synack = c->tcb_state == TCPS_SYN_RECEIVED;
	TcpSeg seg;
	memset(&seg, 0, sizeof seg);
	seg.seg_seq = c->tcb_iss;
	seg.seg_flags = TCP_F_SYN | (synack ? TCP_F_ACK : 0);
	seg.seg_ack = synack ? c->tcb_rcv_nxt : 0;
	/* RFC 7323 §2.2: the window of a SYN is not scaled. */
	seg.seg_wnd = (uint16_t)MIN(c->tcb_ops->co_rcv_space(c), 65535);
	if (synack && tcp_seq_gt(c->tcb_rcv_nxt + seg.seg_wnd, c->tcb_rcv_adv))
		c->tcb_rcv_adv = c->tcb_rcv_nxt + seg.seg_wnd;
	TcpOpts *o = &seg.seg_opt;
	o->to_has_mss = 1;
	o->to_mss = (uint16_t)MIN(c->tcb_rcv_mss, 65535);
	o->to_has_wscale = synack ? c->tcb_ws_ok : p->tp_wscale;
	o->to_wscale = c->tcb_rcv_wscale;
	o->to_sack_ok = synack ? c->tcb_sack_ok : p->tp_sack;
	o->to_has_ts = synack ? c->tcb_ts_ok : p->tp_ts;
	o->to_tsval = tcp_tsval(c, now);
	o->to_tsecr = synack ? c->tcb_ts_recent : 0;
	gboolean rexmit = c->tcb_snd_max != c->tcb_iss;
	if (rexmit) {
		c->tcb_syn_rexmitted = TRUE;
		c->tcb_total_retrans++;
		TCP_MIB_INC(c, tm_retrans_segs);
	} else {
		c->tcb_rtt_start = now;
	}
	c->tcb_snd_nxt = c->tcb_iss + 1;
	if (tcp_seq_gt(c->tcb_snd_nxt, c->tcb_snd_max))
		c->tcb_snd_max = c->tcb_snd_nxt;
	tcp_emit(c, &seg);
}

void
tcp_send_ack(TcpConn *c, gint64 now)
{
	TcpSeg seg;
	tcp_seg_init(c, &seg, c->tcb_snd_nxt, now); /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
	tcp_emit(c, &seg);
}

void
tcp_send_challenge_ack(TcpConn *c, gint64 now)
{
	tcp_send_ack(c, now);
}

void
tcp_send_rst(TcpConn *c, gint64 now)
{
	(void)now;
	TcpSeg seg;
	memset(&seg, 0, sizeof seg);
	seg.seg_seq = c->tcb_snd_max; /* RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST> */
	seg.seg_flags = TCP_F_RST;
	tcp_emit(c, &seg);
}

void
tcp_send_rst_reply(TcpConn *c, const TcpSeg *in, gint64 now)
{
	(void)now;
	TcpSeg rst;
	if (tcp_rst_reply(in, &rst))
		tcp_emit(c, &rst);
}

void
tcp_send_probe(TcpConn *c, gint64 now, gboolean keepalive)
{
	if (keepalive) {
		/* RFC 1122 §4.2.3.6: SEG.SEQ = SND.NXT-1, no data (it elicits
		 * an ACK of what the peer has). */
		TcpSeg seg;
		tcp_seg_init(c, &seg, c->tcb_snd_una - 1, now);
		tcp_emit(c, &seg);
		return;
	}
	/* RFC 9293 §3.8.6.1: a zero-window probe of one octet of data. */
	if (tcp_seq_lt(c->tcb_snd_una, tcp_sndq_end(c)))
		(void)tcp_send_range(c, c->tcb_snd_una, 1, FALSE, TRUE, now);
	else
		tcp_send_ack(c, now);
}

void
tcp_retransmit_una(TcpConn *c, gint64 now)
{
	uint32_t end = tcp_sndq_end(c), una = c->tcb_snd_una;
	uint32_t len = tcp_seq_lt(una, end) ? MIN(tcp_cur_mss(c), end - una) : 0;
	gboolean fin = c->tcb_fin_queued && una + len == end && tcp_seq_gt(c->tcb_snd_max, end);
	if (len == 0 && !fin)
		return;
	if (!tcp_send_range(c, una, len, fin, FALSE, now))
		return;
	if (tcp_seq_gt(una + len, c->tcb_high_rxt))
		c->tcb_high_rxt = una + len;
}

/* ------------------------------------------------------------------ */
/* The output loop                                                    */
/* ------------------------------------------------------------------ */

/* May a segment of len bytes (avail waiting from SND.NXT) go now?  idle:
 * nothing would be unacknowledged before it (FALSE for the last part of a
 * HW_LSO packet, which follows full segments). */
static gboolean
tcp_send_ok(const TcpConn *c, uint32_t len, uint32_t avail, gboolean fin, uint32_t mss,
	    gboolean idle)
{
	if (len >= mss)
		return TRUE; /* a full segment */
	if (tcp_seq_lt(c->tcb_snd_nxt, c->tcb_snd_max))
		return TRUE; /* retransmitting after a timeout */
	if (fin)
		return TRUE; /* the last data with the FIN */
	if (c->tcb_push && len == avail)
		return TRUE; /* an explicit push (TCP_CORK cleared, TCP_NODELAY set) */
	if (c->tcb_cork)
		return FALSE; /* TCP_CORK: full segments only */
	if (len == avail && (c->tcb_nodelay || idle))
		return TRUE; /* RFC 1122 §4.2.3.4 (Nagle) */
	/* RFC 1122 §4.2.3.4 sender SWS: at least half the largest window. */
	return c->tcb_max_sndwnd > 0 && len >= c->tcb_max_sndwnd / 2;
}

/* Data (or the FIN) from SND.NXT within the windows. */
static gboolean
tcp_output_new(TcpConn *c, gint64 now)
{
	gboolean sent = FALSE;
	for (;;) {
		uint32_t end = tcp_sndq_end(c), nxt = c->tcb_snd_nxt, lim = end;
		if (c->tcb_nsacked > 0 && tcp_seq_lt(nxt, c->tcb_snd_max)) {
			/* After a timeout the scoreboard is kept (RFC 6675 §5.1):
			 * go-back-N skips what the peer SACKed. */
			nxt = c->tcb_snd_nxt = tcp_sack_skip(c, nxt, &lim);
			lim = tcp_seq_min(lim, end);
		}
		uint32_t avail = tcp_seq_lt(nxt, lim) ? lim - nxt : 0;
		if (avail == 0 && tcp_seq_lt(nxt, end))
			avail = end - nxt;
		gboolean finp = tcp_fin_pending(c);
		if (avail == 0 && !finp)
			break;
		uint32_t extra = 0;
		if (c->tcb_ca_state == TCP_CA_OPEN && c->tcb_dupacks > 0 &&
		    c->tcb_dupacks < TCP_DUPTHRESH)
			extra = c->tcb_dupacks * c->tcb_mss; /* RFC 3042 limited transmit */
		uint32_t wnd = MIN(c->tcb_snd_wnd, c->tcb_cc.cwnd + extra);
		uint32_t off = nxt - c->tcb_snd_una;
		if (c->tcb_nsacked > 0)
			off -= tcp_sack_bytes_in(c, c->tcb_snd_una, nxt); /* not in flight */
		uint32_t usable = wnd > off ? wnd - off : 0;
		uint32_t mss = tcp_cur_mss(c);
		uint32_t len = MIN(avail, MIN(tcp_seg_max(c, mss), usable));
		if (len > mss && len % mss != 0) {
			/* The short last segment of a HW_LSO packet: the Nagle
			 * and SWS rules, with the full ones ahead of it. */
			uint32_t head = len - len % mss;
			if (!tcp_send_ok(c, len - head, avail - head, finp && nxt + len == end, mss,
					 FALSE))
				len = head;
		}
		gboolean fin = finp && nxt + len == end;
		if (len == 0 && !(fin && avail == 0))
			break;
		if (!tcp_send_ok(c, len, avail, fin, mss, c->tcb_snd_max == c->tcb_snd_una))
			break;
		if (!tcp_send_range(c, nxt, len, fin, FALSE, now))
			break;
		sent = TRUE;
	}
	return sent;
}

/* RFC 6675 §5 step (C): while cwnd - pipe >= 1 SMSS, send NextSeg(). */
static gboolean
tcp_output_sack(TcpConn *c, gint64 now)
{
	gboolean sent = FALSE;
	for (guint guard = 0; guard < 4096; guard++) {
		uint32_t pipe = tcp_sack_pipe(c), cwnd = c->tcb_cc.cwnd;
		if (cwnd <= pipe || cwnd - pipe < c->tcb_mss)
			break;
		uint32_t seq, len;
		gboolean rescue = FALSE;
		if (!tcp_sack_next_seg(c, &seq, &len, &rescue))
			break;
		uint32_t end = tcp_sndq_end(c);
		uint32_t dlen = tcp_seq_lt(seq, end) ? MIN(len, end - seq) : 0;
		gboolean fin = c->tcb_fin_queued && seq + dlen == end &&
			       (tcp_seq_gt(c->tcb_snd_max, end) || seq == c->tcb_snd_nxt);
		if (dlen == 0 && !fin)
			break;
		gboolean fresh = seq == c->tcb_snd_nxt;
		if (!tcp_send_range(c, seq, dlen, fin, FALSE, now))
			break;
		sent = TRUE;
		if (rescue) {
			c->tcb_rescue_rxt = c->tcb_recover; /* (4): RescueRxt = RecoveryPoint */
			c->tcb_rescue_valid = TRUE;
		} else if (!fresh && tcp_seq_gt(seq + dlen, c->tcb_high_rxt)) {
			c->tcb_high_rxt = seq + dlen; /* HighRxt */
		}
	}
	return sent;
}

/* The timers after sending: RTO while data is in flight, persist when
 * data waits and none is in flight. */
static void
tcp_output_timers(TcpConn *c, gint64 now)
{
	gboolean inflight = c->tcb_snd_max != c->tcb_snd_una;
	uint32_t end = tcp_sndq_end(c);
	gboolean pending = tcp_seq_lt(c->tcb_snd_nxt, end) || tcp_fin_pending(c);
	if (inflight && c->tcb_t_rexmt == 0 && c->tcb_t_persist == 0)
		tcp_rexmt_arm(c, now);
	if (!inflight && pending && c->tcb_t_persist == 0 && c->tcb_t_rexmt == 0)
		tcp_persist_arm(c, now);
}

void
tcp_output(TcpConn *c, gint64 now)
{
	gboolean sent = FALSE;
	switch (c->tcb_state) {
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		if (c->tcb_ca_state == TCP_CA_RECOVERY && c->tcb_sack_ok)
			sent = tcp_output_sack(c, now);
		else
			sent = tcp_output_new(c, now);
		tcp_output_timers(c, now);
		break;
	case TCPS_FIN_WAIT_2:
	case TCPS_TIME_WAIT: break;
	default: return; /* no data before the handshake completes */
	}
	if (!sent && c->tcb_ack_now)
		tcp_send_ack(c, now);
}

void
tcp_conn_rcv_opened(TcpConn *c, gint64 now)
{
	if (c->tcb_state < TCPS_ESTABLISHED || c->tcb_fin_rcvd)
		return;
	uint32_t space = c->tcb_ops->co_rcv_space(c);
	space = space > c->tcb_ooo_bytes ? space - c->tcb_ooo_bytes : 0;
	uint32_t cur =
		tcp_seq_gt(c->tcb_rcv_adv, c->tcb_rcv_nxt) ? c->tcb_rcv_adv - c->tcb_rcv_nxt : 0;
	/* A window update when the right edge can move by two segments or
	 * half the buffer (RFC 1122 §4.2.3.3 and what stacks do). */
	if (space > cur && (space - cur >= 2 * c->tcb_rcv_mss || space - cur >= c->tcb_rcvbuf / 2))
		tcp_send_ack(c, now);
}
