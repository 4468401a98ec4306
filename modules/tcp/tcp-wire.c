/* SPDX-License-Identifier: MIT */
/*
 * tcp-wire.c -- parsing and building the TCP header and its options.
 *
 * Theory
 * ------
 * Parsing (RFC 9293 §3.1, §3.2): the data offset must be at least 5 words
 * and within the bytes available; options are walked once.  An option with
 * a length byte below 2 or running past the end makes the segment malformed
 * (RFC 9293 §3.2: a TCP implementation MUST be prepared to handle an illegal
 * option length without crashing; we drop such segments).  Known options of
 * the wrong length are ignored as RFC 7323 §2.2/§3.2 and RFC 2018 ask, not
 * treated as malformed: MSS only counts in a SYN (RFC 9293 §3.7.1), window
 * scale only in a SYN (RFC 7323 §2.2), SACK-permitted only in a SYN (RFC 2018
 * §2); unknown options are skipped by their length (RFC 9293 §3.2, MUST-6).
 *
 * Building: the layout Linux and most stacks use, aligned on 4 bytes with
 * NOPs: SYN: MSS, SACK-permitted + timestamps (or NOP NOP timestamps), NOP +
 * window scale; other segments: NOP NOP timestamps, NOP NOP SACK blocks.
 * With timestamps at most three SACK blocks fit (RFC 2018 §3), else four.
 */
#include "tcp-wire.h"

static void
tcp_opt_one(uint8_t kind, const uint8_t *v, size_t vlen, gboolean syn, TcpOpts *o)
{
	switch (kind) {
	case TCPOPT_MSS:
		if (vlen == 2 && syn) {
			o->to_has_mss = 1;
			o->to_mss = tcp_get16(v);
		}
		break;
	case TCPOPT_WSCALE:
		if (vlen == 1 && syn) {
			o->to_has_wscale = 1;
			/* RFC 7323 §2.3: a shift above 14 is used as 14. */
			o->to_wscale = MIN(v[0], TCP_WSCALE_MAX);
		}
		break;
	case TCPOPT_SACK_OK:
		if (vlen == 0 && syn)
			o->to_sack_ok = 1;
		break;
	case TCPOPT_TIMESTAMP:
		if (vlen == 8) {
			o->to_has_ts = 1;
			o->to_tsval = tcp_get32(v);
			o->to_tsecr = tcp_get32(v + 4);
		}
		break;
	case TCPOPT_SACK:
		if (vlen >= 8 && vlen % 8 == 0 && !syn) {
			o->to_nsack = 0;
			for (size_t i = 0; i < vlen / 8 && i < TCP_SACK_MAX; i++) {
				o->to_sack[i].sb_left = tcp_get32(v + 8 * i);
				o->to_sack[i].sb_right = tcp_get32(v + 8 * i + 4);
				o->to_nsack++;
			}
		}
		break;
	default: break; /* unknown: skipped (RFC 9293 §3.2) */
	}
}

gboolean
tcp_opts_parse(const uint8_t *p, size_t len, gboolean syn, TcpOpts *o)
{
	memset(o, 0, sizeof *o);
	size_t i = 0;
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return FALSE;
		size_t olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			return FALSE;
		tcp_opt_one(kind, p + i + 2, olen - 2, syn, o);
		i += olen;
	}
	return TRUE;
}

size_t
tcp_hdr_parse(const uint8_t *p, size_t hlen_avail, TcpSeg *seg)
{
	if (hlen_avail < TCP_HDR_MIN)
		return 0;
	size_t hlen = (size_t)(p[12] >> 4) * 4;
	if (hlen < TCP_HDR_MIN || hlen > hlen_avail)
		return 0;
	seg->seg_sport = tcp_get16(p);
	seg->seg_dport = tcp_get16(p + 2);
	seg->seg_seq = tcp_get32(p + 4);
	seg->seg_ack = tcp_get32(p + 8);
	seg->seg_flags = p[13];
	seg->seg_wnd = tcp_get16(p + 14);
	seg->seg_up = tcp_get16(p + 18);
	seg->seg_unscaled = FALSE;
	if (hlen == TCP_HDR_MIN) {
		memset(&seg->seg_opt, 0, sizeof seg->seg_opt);
		return hlen;
	}
	/* The common data segment: NOP NOP timestamps, nothing else. */
	if (hlen == TCP_HDR_MIN + 12 && p[20] == TCPOPT_NOP && p[21] == TCPOPT_NOP &&
	    p[22] == TCPOPT_TIMESTAMP && p[23] == 10) {
		memset(&seg->seg_opt, 0, sizeof seg->seg_opt);
		seg->seg_opt.to_has_ts = 1;
		seg->seg_opt.to_tsval = tcp_get32(p + 24);
		seg->seg_opt.to_tsecr = tcp_get32(p + 28);
		return hlen;
	}
	if (!tcp_opts_parse(p + TCP_HDR_MIN, hlen - TCP_HDR_MIN, (seg->seg_flags & TCP_F_SYN) != 0,
			    &seg->seg_opt))
		return 0;
	return hlen;
}

/* SACK blocks that fit beside the other options. */
static guint
tcp_opts_nsack(const TcpOpts *o)
{
	guint max = o->to_has_ts ? 3 : TCP_SACK_MAX;
	return MIN(o->to_nsack, max);
}

size_t
tcp_opts_len(const TcpOpts *o, uint8_t flags)
{
	size_t n = 0;
	if (flags & TCP_F_SYN) {
		n += o->to_has_mss ? 4 : 0;
		n += o->to_has_ts ? 12 : (o->to_sack_ok ? 4 : 0); /* SACK_OK rides with TS */
		n += o->to_has_wscale ? 4 : 0;
		return n;
	}
	n += o->to_has_ts ? 12 : 0;
	guint ns = tcp_opts_nsack(o);
	n += ns > 0 ? 4 + 8 * ns : 0;
	return n;
}

static uint8_t *
tcp_put_ts(uint8_t *q, const TcpOpts *o, uint8_t first, uint8_t second)
{
	*q++ = first;
	*q++ = second;
	*q++ = TCPOPT_TIMESTAMP;
	*q++ = 10;
	tcp_put32(q, o->to_tsval);
	tcp_put32(q + 4, o->to_tsecr);
	return q + 8;
}

static uint8_t *
tcp_build_syn_opts(uint8_t *q, const TcpOpts *o)
{
	if (o->to_has_mss) {
		*q++ = TCPOPT_MSS;
		*q++ = 4;
		tcp_put16(q, o->to_mss);
		q += 2;
	}
	if (o->to_has_ts)
		q = o->to_sack_ok ? tcp_put_ts(q, o, TCPOPT_SACK_OK, 2)
				  : tcp_put_ts(q, o, TCPOPT_NOP, TCPOPT_NOP);
	else if (o->to_sack_ok) {
		*q++ = TCPOPT_NOP;
		*q++ = TCPOPT_NOP;
		*q++ = TCPOPT_SACK_OK;
		*q++ = 2;
	}
	if (o->to_has_wscale) {
		*q++ = TCPOPT_NOP;
		*q++ = TCPOPT_WSCALE;
		*q++ = 3;
		*q++ = o->to_wscale;
	}
	return q;
}

size_t
tcp_hdr_build(uint8_t *p, const TcpSeg *seg)
{
	const TcpOpts *o = &seg->seg_opt;
	size_t hlen = TCP_HDR_MIN + tcp_opts_len(o, seg->seg_flags);
	tcp_put16(p, seg->seg_sport);
	tcp_put16(p + 2, seg->seg_dport);
	tcp_put32(p + 4, seg->seg_seq);
	tcp_put32(p + 8, seg->seg_ack);
	p[12] = (uint8_t)((hlen / 4) << 4);
	p[13] = seg->seg_flags;
	tcp_put16(p + 14, seg->seg_wnd);
	tcp_put16(p + 16, 0);
	tcp_put16(p + 18, seg->seg_up);
	uint8_t *q = p + TCP_HDR_MIN;
	if (seg->seg_flags & TCP_F_SYN) {
		q = tcp_build_syn_opts(q, o);
	} else {
		if (o->to_has_ts)
			q = tcp_put_ts(q, o, TCPOPT_NOP, TCPOPT_NOP);
		guint ns = tcp_opts_nsack(o);
		if (ns > 0) {
			*q++ = TCPOPT_NOP;
			*q++ = TCPOPT_NOP;
			*q++ = TCPOPT_SACK;
			*q++ = (uint8_t)(2 + 8 * ns);
			for (guint i = 0; i < ns; i++, q += 8) {
				tcp_put32(q, o->to_sack[i].sb_left);
				tcp_put32(q + 4, o->to_sack[i].sb_right);
			}
		}
	}
	g_assert((size_t)(q - p) == hlen);
	return hlen;
}
