/* SPDX-License-Identifier: MIT */
/*
 * tcp-syncookie -- SYN cookies (RFC 4987 §3.6): when a listener's SYN queue
 * is full, the SYN,ACK carries in its ISS what the connection needs, and
 * no state is kept until the ACK brings it back.
 *
 * Theory
 * ------
 * ISS = t (5 bits) | m (3 bits) | h (24 bits), where t is a 64-second
 * counter modulo 32, m indexes a table of MSS values (the largest not above
 * what the peer offered), and h = SipHash(secret; addresses, ports, the
 * peer's ISN, t) truncated.  The ACK is valid when ACK - 1 decodes to a t
 * at most one period old and the hash matches for SEQ - 1.
 *
 * Options that do not fit the ISS ride in the timestamp when the peer sent
 * one: the low 6 bits of our TSval hold the peer's window shift (4 bits),
 * whether it offered window scaling, and SACK-permitted; the ACK's TSecr
 * echoes them.  The TSval is lowered (never raised) so that our later
 * timestamps never go backwards.  Without timestamps, window scaling and
 * SACK are not offered in the cookie SYN,ACK.
 */
#define G_LOG_DOMAIN "us-tcp"

#include "tcp-core.h"

#define TCP_COOKIE_PERIOD (64 * TCP_SEC)
#define TCP_COOKIE_TSBITS 0x3f

static const uint16_t tcp_cookie_mss[8] = { 536, 1200, 1360, 1400, 1440, 1452, 1460, 8960 };

static uint32_t
tcp_cookie_hash(const TcpCtx *ctx, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
		uint32_t peer_isn, uint32_t t)
{
	guint32 w[5] = { laddr, raddr, ((guint32)lport << 16) | rport, peer_isn, t };
	return (uint32_t)tcp_siphash(ctx->tx_cookie_key, w, sizeof w) & 0xffffff;
}

uint32_t
tcp_cookie_make(const TcpCtx *ctx, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
		const TcpSeg *syn, uint32_t mss, gint64 now, uint32_t *optbits)
{
	uint32_t t = (uint32_t)(now / TCP_COOKIE_PERIOD) & 31;
	uint32_t m = 0;
	for (uint32_t i = 0; i < G_N_ELEMENTS(tcp_cookie_mss); i++)
		if (tcp_cookie_mss[i] <= mss)
			m = i;
	const TcpOpts *o = &syn->seg_opt;
	*optbits = 0;
	if (o->to_has_ts)
		*optbits =
			(o->to_has_wscale ? 0x10u | o->to_wscale : 0) | (o->to_sack_ok ? 0x20u : 0);
	return (t << 27) | (m << 24) |
	       tcp_cookie_hash(ctx, laddr, lport, raddr, rport, syn->seg_seq, t);
}

gboolean
tcp_cookie_check(const TcpCtx *ctx, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
		 const TcpSeg *ack, gint64 now, TcpSeg *syn)
{
	uint32_t cookie = ack->seg_ack - 1, peer_isn = ack->seg_seq - 1;
	uint32_t t = cookie >> 27, cur = (uint32_t)(now / TCP_COOKIE_PERIOD) & 31;
	if (((cur - t) & 31) > 1)
		return FALSE; /* older than two periods */
	if ((cookie & 0xffffff) != tcp_cookie_hash(ctx, laddr, lport, raddr, rport, peer_isn, t))
		return FALSE;
	memset(syn, 0, sizeof *syn);
	syn->seg_sport = ack->seg_sport;
	syn->seg_dport = ack->seg_dport;
	syn->seg_seq = peer_isn;
	syn->seg_flags = TCP_F_SYN;
	syn->seg_wnd = ack->seg_wnd;
	TcpOpts *o = &syn->seg_opt;
	o->to_has_mss = 1;
	o->to_mss = tcp_cookie_mss[(cookie >> 24) & 7];
	if (ack->seg_opt.to_has_ts) {
		uint32_t bits = ack->seg_opt.to_tsecr & TCP_COOKIE_TSBITS;
		o->to_has_ts = 1;
		o->to_tsval = ack->seg_opt.to_tsval;
		o->to_has_wscale = (bits & 0x10) != 0;
		o->to_wscale = (uint8_t)(bits & 0x0f);
		o->to_sack_ok = (bits & 0x20) != 0;
	}
	return TRUE;
}

/* The TSval of a cookie SYN,ACK: the clock's, its low bits replaced by the
 * option bits, never above the clock (later TSvals must not go back). */
uint32_t
tcp_cookie_tsval(uint32_t tsval, uint32_t optbits)
{
	uint32_t v = (tsval & ~(uint32_t)TCP_COOKIE_TSBITS) | optbits;
	if (tcp_seq_gt(v, tsval))
		v -= TCP_COOKIE_TSBITS + 1;
	return v;
}
