/* SPDX-License-Identifier: MIT */
/*
 * nat-xlate.c -- the packet side of nat: finding the IPv4 packet in a
 * message, deciding what a packet is (inside source, reply, forwarded port,
 * fragment, ICMP error), and rewriting addresses, ports and identifiers
 * with RFC 1624 checksum updates.  The tracker (nat-ct.c) decides which
 * flow a packet belongs to; nat.c moves messages.
 *
 * Theory
 * ------
 * Parse once, at the boundary: nat_pkt_parse() checks version, header
 * length and total length against the bytes present, and keeps the fields
 * every decision needs (addresses, protocol, fragment word, id).  Only when
 * a packet is to be rewritten are its headers made contiguous and writable
 * (nat_pkt_writable: in place when the first data block is unshared and
 * holds them, else msgpullup() of just those bytes, so a shared payload,
 * such as TCP's retransmission dups, is never written and never copied).
 *
 * Every rewrite goes through nat_set16(): the 16-bit word changes and each
 * checksum that covers it is updated by RFC 1624 eqn. 3 (HC' = ~(~HC + ~m +
 * m')).  An address is two words; the IP header checksum covers it, and so
 * does the TCP/UDP checksum through the pseudo-header (RFC 793 §3.1, RFC
 * 768); the port word is covered by the transport checksum only, the ICMP
 * identifier by the ICMP checksum (no pseudo-header).  A UDP checksum of 0
 * means none and stays 0; an update that comes to 0 is stored as 0xffff.
 * Updates preserve errors: a packet that arrived with a bad checksum leaves
 * with a bad one (RFC 3022's checksum adjustment does the same).
 *
 * ICMP errors (RFC 5508): the quoted datagram is one we translated.  An
 * error coming in quotes a packet that went out (source = outside
 * address:external port): its flow is found by the in-key built from the
 * quote, the outer destination goes back to the inside host, and the
 * quote's source address and port to the inside endpoint, with the
 * quote's IP header checksum, its transport checksum when the quote holds
 * it, and the outer ICMP checksum (which covers every quoted byte, old and
 * new checksums included) updated.  An error going out (from an inside host
 * or the router itself) quotes a packet that came in: the quote's
 * destination goes back to the outside address and external port, and an
 * inside outer source becomes the outside address.  ICMP errors never
 * create or refresh flows; an inside host's error about no
 * known flow is dropped, never sent with its inside address.
 */
#define G_LOG_DOMAIN "us-nat"

#include "nat-impl.h"

#include "../ip/inet-cksum.h"

#define NAT_IP_HDR_MIN 20
#define NAT_IP_OFF_MASK 0x1fff
#define NAT_IP_MF 0x2000
#define NAT_ICMP_ECHOREPLY 0
#define NAT_ICMP_ECHO 8
#define NAT_TH_SYN 0x02
#define NAT_TH_RST 0x04
#define NAT_TH_ACK 0x10

/* ------------------------------------------------------------------ */
/* Bytes and checksums                                                */
/* ------------------------------------------------------------------ */

/* Words as stored (network order), read and written with memcpy. */
static inline uint16_t
nat_rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t
nat_rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* A checksum field covering a rewritten word; at NULL: none.  udp: the
 * RFC 768 rules for 0. */
typedef struct {
	uint8_t *at;
	gboolean udp;
	gboolean partial; /* HCK_PARTIALCKSUM: the field holds the bare pseudo-header sum */
} NatCk;

static const NatCk nat_nock = { NULL, FALSE, FALSE };

static void
nat_ck_adjust(NatCk ck, uint16_t old, uint16_t new_)
{
	if (ck.at == NULL || old == new_)
		return;
	uint16_t c = nat_rd16(ck.at);
	if (ck.partial) { /* an uncomplemented sum: S' = S - old + new */
		memcpy(ck.at, &(uint16_t){ us_cksum_adjust16(c, new_, old) }, 2);
		return;
	}
	if (ck.udp && c == 0)
		return; /* no checksum */
	c = us_cksum_adjust16(c, old, new_);
	if (ck.udp && c == 0)
		c = 0xffff;
	memcpy(ck.at, &c, 2);
}

/* Writes the word at field and updates the checksums covering it. */
static void
nat_set16(uint8_t *field, uint16_t v, NatCk a, NatCk b, NatCk c)
{
	uint16_t old = nat_rd16(field);
	if (old == v)
		return;
	memcpy(field, &v, 2);
	nat_ck_adjust(a, old, v);
	nat_ck_adjust(b, old, v);
	nat_ck_adjust(c, old, v);
}

static void
nat_set32(uint8_t *field, uint32_t v, NatCk a, NatCk b, NatCk c)
{
	uint8_t w[4];
	memcpy(w, &v, 4);
	nat_set16(field, nat_rd16(w), a, b, c);
	nat_set16(field + 2, nat_rd16(w + 2), a, b, c);
}

/* Where the ports (ICMP: the identifier, both "ports") and the checksum
 * are in a transport header, and how much of it a rewrite needs. */
typedef struct {
	size_t sport, dport, ck, need;
	gboolean pseudo; /* the checksum covers the pseudo-header */
	gboolean udp;
} NatL4;

static gboolean
nat_l4(uint8_t proto, NatL4 *l)
{
	switch (proto) {
	case NAT_PROTO_TCP: *l = (NatL4){ 0, 2, 16, 20, TRUE, FALSE }; return TRUE;
	case NAT_PROTO_UDP: *l = (NatL4){ 0, 2, 6, 8, TRUE, TRUE }; return TRUE;
	case NAT_PROTO_ICMP: *l = (NatL4){ 4, 4, 2, 8, FALSE, FALSE }; return TRUE;
	default: return FALSE;
	}
}

static gboolean
nat_icmp_is_error(uint8_t type)
{
	/* unreachable, source quench, redirect, time exceeded, parameter
	 * problem (RFC 792) */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* ------------------------------------------------------------------ */
/* The packet                                                         */
/* ------------------------------------------------------------------ */

gboolean
nat_pkt_parse(NatPkt *p, mblk_t *mp, gboolean dlpi, size_t l2)
{
	memset(p, 0, sizeof *p);
	p->mp = mp;
	p->dpp = dlpi ? &p->mp->b_cont : &p->mp;
	p->l2 = l2;
	const mblk_t *d = *p->dpp;
	if (d == NULL || DB_TYPE(d) != M_DATA)
		return FALSE;
	size_t avail = msgdsize(d);
	uint8_t h[NAT_IP_HDR_MIN];
	if (avail < l2 + sizeof h || us_msgcopyout(d, l2, h, sizeof h) != sizeof h)
		return FALSE;
	p->hl = (size_t)(h[0] & 15) * 4;
	p->len = ((size_t)h[2] << 8) | h[3];
	if ((h[0] >> 4) != 4 || p->hl < NAT_IP_HDR_MIN || p->len < p->hl || p->len > avail - l2)
		return FALSE;
	p->proto = h[9];
	p->frag = (uint16_t)((h[6] << 8) | h[7]);
	p->id = nat_rd16(h + 4);
	p->src = nat_rd32(h + 12);
	p->dst = nat_rd32(h + 16);
	return TRUE;
}

/* Makes the first need bytes of the IP packet contiguous and writable;
 * p->ip points at them.  FALSE without memory (the message is intact). */
static gboolean
nat_pkt_writable(NatPkt *p, size_t need)
{
	mblk_t *d = *p->dpp;
	size_t n = p->l2 + need;
	if (DB_REF(d) != 1 || MBLKL(d) < n) {
		mblk_t *nd = msgpullup(d, (ssize_t)n);
		if (nd == NULL)
			return FALSE;
		freemsg(d);
		*p->dpp = d = nd;
	}
	p->ip = d->b_rptr + p->l2;
	return TRUE;
}

/* Copies up to len bytes of the packet from off (IP header = 0). */
static size_t
nat_pkt_peek(const NatPkt *p, size_t off, void *buf, size_t len)
{
	if (off >= p->len)
		return 0;
	return us_msgcopyout(*p->dpp, p->l2 + off, buf, MIN(len, p->len - off));
}

static gboolean
nat_pkt_first(const NatPkt *p)
{
	return (p->frag & NAT_IP_OFF_MASK) == 0;
}

gboolean
nat_is_inside(const NatState *ns, uint32_t src)
{
	if (src == 0 || src == nat_ext_addr(ns))
		return FALSE;
	if (ns->ns_inside_nets->len == 0)
		return TRUE;
	for (guint i = 0; i < ns->ns_inside_nets->len; i++) {
		const NatNet *n = &g_array_index(ns->ns_inside_nets, NatNet, i);
		if ((src & n->mask) == n->net)
			return TRUE;
	}
	return FALSE;
}

static guint
nat_untranslatable(NatState *ns, guint reason)
{
	ns->ns_untranslatable++;
	return reason;
}

/* ------------------------------------------------------------------ */
/* Quoted datagrams (ICMP errors, ARP_UNREACH_IND)                    */
/* ------------------------------------------------------------------ */

typedef struct {
	uint8_t *q; /* the quoted IP header */
	size_t hl;  /* its length */
	uint8_t proto;
	uint32_t src, dst;
	uint8_t *th; /* the quoted transport header (at least 8 bytes) */
	size_t tlen; /* bytes of it present */
	NatL4 l;
} NatQuote;

static gboolean
nat_quote_parse(uint8_t *q, size_t qlen, NatQuote *qt)
{
	if (qlen < NAT_IP_HDR_MIN || (q[0] >> 4) != 4)
		return FALSE;
	qt->q = q;
	qt->hl = (size_t)(q[0] & 15) * 4;
	if (qt->hl < NAT_IP_HDR_MIN || qlen < qt->hl + 8)
		return FALSE;
	if ((((q[6] << 8) | q[7]) & NAT_IP_OFF_MASK) != 0)
		return FALSE; /* no ports in a later fragment */
	qt->proto = q[9];
	if (!nat_l4(qt->proto, &qt->l))
		return FALSE;
	qt->src = nat_rd32(q + 12);
	qt->dst = nat_rd32(q + 16);
	qt->th = q + qt->hl;
	qt->tlen = qlen - qt->hl;
	return TRUE;
}

/* The flow of a quoted packet that went out translated (its source is the
 * outside address and external port), or NULL. */
static NatFlow *
nat_quote_sent_flow(NatState *ns, const NatQuote *qt)
{
	gboolean icmp = qt->proto == NAT_PROTO_ICMP;
	if (qt->src != nat_ext_addr(ns) || (icmp && qt->th[0] != NAT_ICMP_ECHO))
		return NULL;
	NatInKey k = { .peer_addr = qt->dst,
		       .peer_port = icmp ? 0 : nat_rd16(qt->th + qt->l.dport),
		       .ext_port = nat_rd16(qt->th + qt->l.sport),
		       .proto = qt->proto };
	return nat_ct_find_in(&ns->ns_ct, &k);
}

/* The flow of a quoted packet that came in translated (its destination is
 * the inside endpoint), or NULL. */
static NatFlow *
nat_quote_received_flow(NatState *ns, const NatQuote *qt)
{
	gboolean icmp = qt->proto == NAT_PROTO_ICMP;
	if (icmp && qt->th[0] != NAT_ICMP_ECHOREPLY)
		return NULL;
	NatOutKey k = { .in_addr = qt->dst,
			.peer_addr = qt->src,
			.in_port = nat_rd16(qt->th + qt->l.dport),
			.peer_port = icmp ? 0 : nat_rd16(qt->th + qt->l.sport),
			.proto = qt->proto };
	return nat_ct_find_out(&ns->ns_ct, &k);
}

/* Rewrites the source (src_side) or destination of a quoted packet to
 * addr:port with every checksum involved: the quote's own IP header and
 * transport checksums, and outer (the ICMP checksum covering the quote,
 * NULL when there is none). */
static void
nat_quote_rewrite(NatQuote *qt, gboolean src_side, uint32_t addr, uint16_t port, uint8_t *outer)
{
	NatCk oc = { outer, FALSE, FALSE };
	uint8_t *tck = qt->l.ck + 2 <= qt->tlen ? qt->th + qt->l.ck : NULL;
	uint16_t old_ipck = nat_rd16(qt->q + 10), old_tck = tck != NULL ? nat_rd16(tck) : 0;
	NatCk qipck = { qt->q + 10, FALSE, FALSE }, qtck = { tck, qt->l.udp, FALSE };
	nat_set32(qt->q + (src_side ? 12 : 16), addr, qipck, qt->l.pseudo ? qtck : nat_nock, oc);
	nat_set16(qt->th + (src_side ? qt->l.sport : qt->l.dport), port, qtck, oc, nat_nock);
	/* The outer checksum covers the quote's checksums too. */
	nat_ck_adjust(oc, old_ipck, nat_rd16(qt->q + 10));
	if (tck != NULL)
		nat_ck_adjust(oc, old_tck, nat_rd16(tck));
}

/* ------------------------------------------------------------------ */
/* Going out                                                          */
/* ------------------------------------------------------------------ */

/* An ICMP error leaving: its quote came in through us. */
static guint
nat_out_icmp_error(NatState *ns, NatPkt *p)
{
	uint32_t ext = nat_ext_addr(ns);
	gboolean inside = nat_is_inside(ns, p->src);
	size_t qoff = p->hl + 8;
	NatQuote qt;
	if (ext == 0)
		return inside ? nat_untranslatable(ns, NAT_DROP_NO_ADDRESS) : NAT_PASS;
	if (p->len < qoff + NAT_IP_HDR_MIN + 8)
		return inside ? nat_untranslatable(ns, NAT_DROP_MALFORMED) : NAT_PASS;
	if (!nat_pkt_writable(p, p->len))
		return NAT_DROP_NOMEM;
	NatFlow *f = nat_quote_parse(p->ip + qoff, p->len - qoff, &qt)
			     ? nat_quote_received_flow(ns, &qt)
			     : NULL;
	if (f == NULL)
		return inside ? nat_untranslatable(ns, NAT_DROP_ICMP_NO_FLOW) : NAT_PASS;
	if (inside)
		nat_set32(p->ip + 12, ext, (NatCk){ p->ip + 10, FALSE, FALSE }, nat_nock, nat_nock);
	nat_quote_rewrite(&qt, FALSE, ext, f->nf_in.ext_port, p->ip + p->hl + 2);
	ns->ns_icmp_errors++;
	return NAT_PASS;
}

/* A later fragment of an inside datagram: the source its first got. */
static guint
nat_out_frag(NatState *ns, NatPkt *p, gint64 now)
{
	NatFragKey k = { .src = p->src, .dst = p->dst, .id = p->id, .proto = p->proto, .out = 1 };
	uint32_t addr;
	if (!nat_ct_frag_find(&ns->ns_ct, &k, now, &addr))
		return nat_untranslatable(ns, NAT_DROP_FRAG);
	if (!nat_pkt_writable(p, p->hl))
		return NAT_DROP_NOMEM;
	nat_set32(p->ip + 12, addr, (NatCk){ p->ip + 10, FALSE, FALSE }, nat_nock, nat_nock);
	ns->ns_translated_out++;
	return NAT_PASS;
}

/* Rewrites one endpoint of a packet being translated: the source (out) or
 * destination address and port, with the IP and transport checksums. */
static void
nat_rewrite(NatPkt *p, const NatL4 *l, gboolean src_side, uint32_t addr, uint16_t port)
{
	uint8_t *ip = p->ip, *th = ip + p->hl;
	/* A partial checksum (stream.h) is completed later over the ports: only
	 * its pseudo-header part follows the addresses. */
	gboolean partial = l->pseudo && (DB_CKSUMFLAGS(*p->dpp) & HCK_PARTIALCKSUM);
	NatCk ipck = { ip + 10, FALSE, FALSE }, tck = { th + l->ck, l->udp, partial };
	nat_set32(ip + (src_side ? 12 : 16), addr, ipck, l->pseudo ? tck : nat_nock, nat_nock);
	nat_set16(th + (src_side ? l->sport : l->dport), port, partial ? nat_nock : tck, nat_nock,
		  nat_nock);
}

/* Remembers what later fragments of p's datagram get. */
static void
nat_frag_note(NatState *ns, const NatPkt *p, gboolean out, uint32_t addr, gint64 now)
{
	if (!(p->frag & NAT_IP_MF))
		return;
	NatFragKey k = { .src = p->src, .dst = p->dst, .id = p->id, .proto = p->proto, .out = out };
	nat_ct_frag_note(&ns->ns_ct, &k, addr, now);
}

/* The first (or only) fragment of an inside TCP/UDP/ICMP echo packet. */
static guint
nat_out_flow(NatState *ns, NatPkt *p, gint64 now)
{
	NatL4 l;
	uint8_t th[20];
	if (!nat_l4(p->proto, &l))
		return nat_untranslatable(ns, NAT_DROP_PROTO);
	if (p->len - p->hl < l.need || nat_pkt_peek(p, p->hl, th, l.need) != l.need)
		return nat_untranslatable(ns, NAT_DROP_MALFORMED);
	gboolean icmp = p->proto == NAT_PROTO_ICMP;
	if (icmp && th[0] != NAT_ICMP_ECHO)
		return nat_untranslatable(ns, NAT_DROP_PROTO);
	uint8_t flags = p->proto == NAT_PROTO_TCP ? th[13] : 0;
	NatOutKey k = { .in_addr = p->src,
			.peer_addr = p->dst,
			.in_port = nat_rd16(th + l.sport),
			.peer_port = icmp ? 0 : nat_rd16(th + l.dport),
			.proto = p->proto };
	NatFlow *f = nat_ct_find_out(&ns->ns_ct, &k);
	if (f == NULL) {
		guint reason;
		if (p->proto == NAT_PROTO_TCP &&
		    (flags & (NAT_TH_SYN | NAT_TH_ACK | NAT_TH_RST)) != NAT_TH_SYN)
			return nat_untranslatable(ns, NAT_DROP_TCP_NOT_SYN);
		if ((f = nat_ct_new_out(&ns->ns_ct, &k, now, &reason)) == NULL)
			return reason;
	}
	if (!nat_pkt_writable(p, p->hl + l.need))
		return NAT_DROP_NOMEM;
	uint32_t ext = nat_ext_addr(ns);
	nat_frag_note(ns, p, TRUE, ext, now);
	nat_rewrite(p, &l, TRUE, ext, f->nf_in.ext_port);
	nat_ct_track(&ns->ns_ct, f, TRUE, flags, now);
	ns->ns_translated_out++;
	return NAT_PASS;
}

guint
nat_xlate_out(NatState *ns, NatPkt *p, gint64 now)
{
	uint8_t type;
	if (p->proto == NAT_PROTO_ICMP && nat_pkt_first(p) &&
	    nat_pkt_peek(p, p->hl, &type, 1) == 1 && nat_icmp_is_error(type))
		return nat_out_icmp_error(ns, p);
	if (!nat_is_inside(ns, p->src))
		return NAT_PASS; /* the router's own, or not ours to hide */
	if (nat_ext_addr(ns) == 0)
		return nat_untranslatable(ns, NAT_DROP_NO_ADDRESS);
	if (!nat_pkt_first(p))
		return nat_out_frag(ns, p, now);
	return nat_out_flow(ns, p, now);
}

/* ------------------------------------------------------------------ */
/* Coming in                                                          */
/* ------------------------------------------------------------------ */

/* An ICMP error for the outside address: its quote went out through us. */
static guint
nat_in_icmp_error(NatState *ns, NatPkt *p)
{
	size_t qoff = p->hl + 8;
	NatQuote qt;
	if (p->len < qoff + NAT_IP_HDR_MIN + 8)
		return NAT_PASS;
	if (!nat_pkt_writable(p, p->len))
		return NAT_DROP_NOMEM;
	NatFlow *f = nat_quote_parse(p->ip + qoff, p->len - qoff, &qt)
			     ? nat_quote_sent_flow(ns, &qt)
			     : NULL;
	if (f == NULL)
		return NAT_PASS; /* about the router's own traffic */
	nat_set32(p->ip + 16, f->nf_out.in_addr, (NatCk){ p->ip + 10, FALSE, FALSE }, nat_nock,
		  nat_nock);
	nat_quote_rewrite(&qt, TRUE, f->nf_out.in_addr, f->nf_out.in_port, p->ip + p->hl + 2);
	ns->ns_icmp_errors++;
	return NAT_PASS;
}

static guint
nat_in_frag(NatState *ns, NatPkt *p, gint64 now)
{
	NatFragKey k = { .src = p->src, .dst = p->dst, .id = p->id, .proto = p->proto, .out = 0 };
	uint32_t addr;
	if (!nat_ct_frag_find(&ns->ns_ct, &k, now, &addr))
		return NAT_PASS; /* perhaps the router's own */
	if (!nat_pkt_writable(p, p->hl))
		return NAT_DROP_NOMEM;
	nat_set32(p->ip + 16, addr, (NatCk){ p->ip + 10, FALSE, FALSE }, nat_nock, nat_nock);
	ns->ns_translated_in++;
	return NAT_PASS;
}

/* The flow a packet for the outside address belongs to: a reply, or the
 * first packet to a forwarded port (which makes one).  NULL and NAT_PASS
 * in *verdict when it is the router's own, or a drop reason. */
static NatFlow *
nat_in_find(NatState *ns, NatPkt *p, const NatL4 *l, const uint8_t *th, gint64 now, guint *verdict)
{
	gboolean icmp = p->proto == NAT_PROTO_ICMP;
	*verdict = NAT_PASS;
	if (icmp && th[0] != NAT_ICMP_ECHOREPLY)
		return NULL;
	NatInKey k = { .peer_addr = p->src,
		       .peer_port = icmp ? 0 : nat_rd16(th + l->sport),
		       .ext_port = nat_rd16(th + l->dport),
		       .proto = p->proto };
	NatFlow *f = nat_ct_find_in(&ns->ns_ct, &k);
	if (f != NULL || icmp)
		return f;
	const NatRule *r = nat_ct_rule_find(&ns->ns_ct, p->proto, k.ext_port);
	if (r == NULL)
		return NULL;
	if (p->proto == NAT_PROTO_TCP &&
	    (th[13] & (NAT_TH_SYN | NAT_TH_ACK | NAT_TH_RST)) != NAT_TH_SYN)
		return NULL; /* no connection to join: the router answers it */
	if ((f = nat_ct_new_forward(&ns->ns_ct, r, p->src, k.peer_port, now, verdict)) == NULL)
		return NULL;
	return f;
}

static guint
nat_in_flow(NatState *ns, NatPkt *p, gint64 now)
{
	NatL4 l;
	uint8_t th[20];
	guint verdict;
	if (!nat_l4(p->proto, &l) || p->len - p->hl < l.need ||
	    nat_pkt_peek(p, p->hl, th, l.need) != l.need)
		return NAT_PASS;
	NatFlow *f = nat_in_find(ns, p, &l, th, now, &verdict);
	if (f == NULL)
		return verdict;
	if (!nat_pkt_writable(p, p->hl + l.need))
		return NAT_DROP_NOMEM;
	nat_frag_note(ns, p, FALSE, f->nf_out.in_addr, now);
	nat_rewrite(p, &l, FALSE, f->nf_out.in_addr, f->nf_out.in_port);
	nat_ct_track(&ns->ns_ct, f, FALSE, p->proto == NAT_PROTO_TCP ? th[13] : 0, now);
	ns->ns_translated_in++;
	return NAT_PASS;
}

guint
nat_xlate_in(NatState *ns, NatPkt *p, gint64 now)
{
	uint32_t ext = nat_ext_addr(ns);
	uint8_t type;
	if (ext == 0 || p->dst != ext)
		return NAT_PASS;
	if (!nat_pkt_first(p))
		return nat_in_frag(ns, p, now);
	if (p->proto == NAT_PROTO_ICMP && nat_pkt_peek(p, p->hl, &type, 1) == 1 &&
	    nat_icmp_is_error(type))
		return nat_in_icmp_error(ns, p);
	return nat_in_flow(ns, p, now);
}

void
nat_xlate_unsent(NatState *ns, NatPkt *p)
{
	NatQuote qt;
	size_t n = MIN(p->len, p->hl + 20);
	if (!nat_pkt_first(p) || !nat_pkt_writable(p, n) || !nat_quote_parse(p->ip, n, &qt))
		return;
	NatFlow *f = nat_quote_sent_flow(ns, &qt);
	if (f != NULL)
		nat_quote_rewrite(&qt, TRUE, f->nf_out.in_addr, f->nf_out.in_port, NULL);
}
