/* SPDX-License-Identifier: MIT */
/*
 * tcp-timer -- the connection's timers as deadlines, and what happens when
 * each expires.
 *
 * Theory
 * ------
 * Six deadlines (ns on the owner's clock, 0 = off); the owner arms one
 * timer at tcp_conn_deadline() and calls tcp_conn_timer() when it fires.
 * A deadline that moved later is simply found not due; nothing is
 * cancelled on the owner's side.
 *
 *   retransmission  RFC 6298: SRTT/RTTVAR from samples (timestamps, RFC
 *                   7323 §4.1, or one timed segment at a time with Karn's
 *                   rule), RTO = SRTT + max(G, 4 RTTVAR) clamped to
 *                   [rto_min, rto_max], doubled per expiry (5.5); on
 *                   expiry the first unacknowledged segment goes again,
 *                   ssthresh and cwnd per RFC 5681 §3.1 eq. 4, go-back-N
 *                   from SND.UNA, the SACK scoreboard cleared (RFC 2018
 *                   §8); the SYN (TCP_SYNCNT, syn_retries) and SYN,ACK
 *                   (synack_retries) retries; after "retries" expiries the
 *                   connection fails with ETIMEDOUT (or the ICMP soft error
 *                   seen, RFC 1122 §4.2.3.9).
 *   persist         RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17: a one-octet
 *                   probe, backed off like the RTO, never giving up while
 *                   the peer answers.
 *   delayed ACK     RFC 1122 §4.2.3.2: the ACK owed goes out.
 *   keepalive       RFC 1122 §4.2.3.6: after TCP_KEEPIDLE without a
 *                   segment, probes every TCP_KEEPINTVL; TCP_KEEPCNT
 *                   unanswered: ETIMEDOUT.
 *   2MSL            TIME-WAIT ends (RFC 9293 §3.6.1); also bounds an
 *                   orphan's FIN-WAIT-2 (TCP_LINGER2).
 *   linger          SO_LINGER with a timeout: an orphan that could not
 *                   finish in time is reset.
 */
#define G_LOG_DOMAIN "us-tcp"

#include "tcp-core.h"

#include <errno.h>

#define TCP_RTO_G TCP_MSEC /* clock granularity G: the timestamp tick */

/* ------------------------------------------------------------------ */
/* RTT and RTO (RFC 6298 §2)                                           */
/* ------------------------------------------------------------------ */

static gint64
tcp_rto_clamp(const TcpConn *c, gint64 rto)
{
	const TcpParams *p = &c->tcb_ctx->tx_params;
	return CLAMP(rto, p->tp_rto_min, p->tp_rto_max);
}

void
tcp_rtt_sample(TcpConn *c, gint64 r, gint64 now)
{
	(void)now;
	if (r < 0)
		return;
	if (c->tcb_min_rtt == 0 || r < c->tcb_min_rtt)
		c->tcb_min_rtt = MAX(r, 1);
	if (c->tcb_srtt == 0) {
		/* (2.2) the first measurement */
		c->tcb_srtt = MAX(r, 1);
		c->tcb_rttvar = r / 2;
	} else {
		/* (2.3) RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|,
		 *       SRTT <- 7/8 SRTT + 1/8 R' */
		gint64 d = c->tcb_srtt > r ? c->tcb_srtt - r : r - c->tcb_srtt;
		c->tcb_rttvar = (3 * c->tcb_rttvar + d) / 4;
		c->tcb_srtt = MAX((7 * c->tcb_srtt + r) / 8, 1);
	}
	c->tcb_rto = tcp_rto_clamp(c, c->tcb_srtt + MAX(TCP_RTO_G, 4 * c->tcb_rttvar));
	c->tcb_cc.srtt = c->tcb_srtt;
	c->tcb_cc.min_rtt = c->tcb_min_rtt;
}

/* The RTO with the back-off of consecutive expiries (5.5). */
static gint64
tcp_rto_cur(const TcpConn *c)
{
	gint64 rto = c->tcb_rto;
	for (guint i = 0; i < c->tcb_rxtshift && rto < c->tcb_ctx->tx_params.tp_rto_max; i++)
		rto *= 2;
	return tcp_rto_clamp(c, rto);
}

void
tcp_rexmt_arm(TcpConn *c, gint64 now)
{
	c->tcb_t_rexmt = now + tcp_rto_cur(c);
}

void
tcp_rexmt_restart(TcpConn *c, gint64 now)
{
	tcp_rexmt_arm(c, now);
}

void
tcp_persist_arm(TcpConn *c, gint64 now)
{
	gint64 t = c->tcb_rto;
	for (guint i = 0; i < c->tcb_persist_shift && t < c->tcb_ctx->tx_params.tp_rto_max; i++)
		t *= 2;
	c->tcb_t_persist = now + tcp_rto_clamp(c, t);
}

void
tcp_keep_arm(TcpConn *c, gint64 now)
{
	(void)now;
	if (!c->tcb_keepalive || c->tcb_state < TCPS_ESTABLISHED ||
	    c->tcb_state == TCPS_TIME_WAIT) {
		c->tcb_t_keep = 0;
		return;
	}
	c->tcb_t_keep =
		c->tcb_last_rcv + c->tcb_keepidle + (gint64)c->tcb_keep_probes * c->tcb_keepintvl;
}

gint64
tcp_conn_deadline(const TcpConn *c)
{
	gint64 t[] = { c->tcb_t_rexmt, c->tcb_t_persist, c->tcb_t_delack,
		       c->tcb_t_keep,  c->tcb_t_2msl,    c->tcb_t_linger };
	gint64 d = 0;
	for (guint i = 0; i < G_N_ELEMENTS(t); i++)
		if (t[i] != 0 && (d == 0 || t[i] < d))
			d = t[i];
	return d;
}

/* ------------------------------------------------------------------ */
/* Expiries                                                           */
/* ------------------------------------------------------------------ */

/* The error a connection that gave up reports: the soft error ICMP told
 * of, else ETIMEDOUT (RFC 1122 §4.2.3.9). */
static int
tcp_timeout_error(const TcpConn *c)
{
	return c->tcb_soft_error != 0 ? c->tcb_soft_error : ETIMEDOUT;
}

/* The SYN or SYN,ACK was not answered. */
static void
tcp_rexmt_syn(TcpConn *c, gint64 now)
{
	const TcpParams *p = &c->tcb_ctx->tx_params;
	guint max = c->tcb_state == TCPS_SYN_SENT
			    ? (c->tcb_syn_retries ? c->tcb_syn_retries : p->tp_syn_retries)
			    : p->tp_synack_retries;
	if (c->tcb_rxtshift >= max) {
		tcp_drop_conn(c, tcp_timeout_error(c), now);
		return;
	}
	c->tcb_rxtshift++;
	TCP_MIB_INC(c, tm_timeouts);
	tcp_send_syn(c, now);
	tcp_rexmt_arm(c, now);
}

static void
tcp_rexmt_expire(TcpConn *c, gint64 now)
{
	if (c->tcb_state == TCPS_SYN_SENT || c->tcb_state == TCPS_SYN_RECEIVED) {
		tcp_rexmt_syn(c, now);
		return;
	}
	if (c->tcb_snd_una == c->tcb_snd_max)
		return; /* everything was acknowledged meanwhile */
	if (c->tcb_snd_wnd == 0) {
		tcp_persist_arm(c, now); /* a closed window: probe, do not time out */
		tcp_send_probe(c, now, FALSE);
		return;
	}
	if (c->tcb_rxtshift >= c->tcb_ctx->tx_params.tp_retries) {
		tcp_drop_conn(c, tcp_timeout_error(c), now); /* RFC 1122 §4.2.3.5 R2 */
		return;
	}
	c->tcb_rxtshift++; /* (5.5) back off */
	TCP_MIB_INC(c, tm_timeouts);
	tcp_cc_timeout(c, now);
	if (c->tcb_rxtshift > 1)
		tcp_sack_clear(c); /* RFC 2018 §8: the peer may have reneged */
	c->tcb_dupacks = 0;
	c->tcb_rtt_timing = FALSE;
	c->tcb_snd_nxt = c->tcb_snd_una; /* go back N */
	tcp_retransmit_una(c, now);      /* (5.4) */
	tcp_rexmt_arm(c, now);           /* (5.6) */
	tcp_output(c, now);
}

static void
tcp_persist_expire(TcpConn *c, gint64 now)
{
	if (c->tcb_snd_wnd > 0) {
		/* A window too small for the SWS rules: send what fits. */
		uint32_t end = tcp_sndq_end(c), nxt = c->tcb_snd_nxt;
		uint32_t avail = tcp_seq_lt(nxt, end) ? end - nxt : 0;
		uint32_t len = MIN(MIN(avail, c->tcb_snd_wnd), tcp_cur_mss(c));
		if (len > 0)
			tcp_send_seg(c, nxt, len, FALSE, now);
		tcp_output(c, now);
		return;
	}
	c->tcb_persist_shift = MIN(c->tcb_persist_shift + 1, 16);
	TCP_MIB_INC(c, tm_persist_probes);
	tcp_persist_arm(c, now); /* armed first: the probe must not start the RTO */
	tcp_send_probe(c, now, FALSE);
}

static void
tcp_keep_expire(TcpConn *c, gint64 now)
{
	if (!c->tcb_keepalive || c->tcb_state < TCPS_ESTABLISHED)
		return;
	gint64 due =
		c->tcb_last_rcv + c->tcb_keepidle + (gint64)c->tcb_keep_probes * c->tcb_keepintvl;
	if (now < due) {
		c->tcb_t_keep = due; /* something arrived meanwhile */
		return;
	}
	if (c->tcb_keep_probes >= c->tcb_keepcnt) {
		tcp_drop_conn(c, tcp_timeout_error(c), now);
		return;
	}
	c->tcb_keep_probes++;
	TCP_MIB_INC(c, tm_keepalive_probes);
	tcp_send_probe(c, now, TRUE);
	c->tcb_t_keep = now + c->tcb_keepintvl;
}

static void
tcp_delack_expire(TcpConn *c, gint64 now)
{
	TCP_MIB_INC(c, tm_delayed_acks);
	tcp_send_ack(c, now);
}

void
tcp_conn_timer(TcpConn *c, gint64 now)
{
	if (c->tcb_t_2msl != 0 && c->tcb_t_2msl <= now) {
		c->tcb_t_2msl = 0;
		tcp_drop_conn(c, 0, now); /* TIME-WAIT over (or an orphan's FIN-WAIT-2) */
		return;
	}
	if (c->tcb_t_linger != 0 && c->tcb_t_linger <= now) {
		c->tcb_t_linger = 0;
		tcp_conn_abort(c, now); /* SO_LINGER ran out: reset */
		return;
	}
	if (c->tcb_t_rexmt != 0 && c->tcb_t_rexmt <= now) {
		c->tcb_t_rexmt = 0;
		tcp_rexmt_expire(c, now);
		if (tcp_conn_is_closed(c))
			return;
	}
	if (c->tcb_t_persist != 0 && c->tcb_t_persist <= now) {
		c->tcb_t_persist = 0;
		tcp_persist_expire(c, now);
	}
	if (c->tcb_t_delack != 0 && c->tcb_t_delack <= now) {
		c->tcb_t_delack = 0;
		tcp_delack_expire(c, now);
	}
	if (c->tcb_t_keep != 0 && c->tcb_t_keep <= now) {
		c->tcb_t_keep = 0;
		tcp_keep_expire(c, now);
	}
}
