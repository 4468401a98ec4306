/* SPDX-License-Identifier: MIT */
/*
 * nat -- source NAT (masquerade) and port forwarding for the outside
 * interface of a router, with connection tracking for TCP, UDP and ICMP
 * echo, timeouts and bounded tables.  Pushed on the outside interface
 * stream between arp and ip:
 *
 *     ip                       forwards between inside and outside
 *     nat                      this module (every IPv4 packet of the link)
 *     arp                      DLPI provider with next-hop addresses
 *     ether, driver
 *
 * Theory
 * ------
 * What passes.  Going down (to the outside) ip sends DL_UNITDATA_REQ (the
 * IPv4 packet in b_cont; a 6-byte arp next hop or an 8-byte DLSAP, SAP
 * 0x0800) or, on the fast path, M_DATA starting with the Ethernet header
 * (14 bytes, 18 with an 802.1Q tag; ethertype 0x0800) and then the IP
 * header.  Coming up, arp passes DL_UNITDATA_IND (packet in b_cont) and
 * fast-path M_DATA starting at the IP header.  nat finds the packet in each
 * form (nat-xlate.c), rewrites it in place when it must, and passes the
 * message on in the same form.  Everything else passes: other primitives,
 * other SAPs, ioctls that are not nat's, M_FLUSH canonically.  An
 * ARP_UNREACH_IND coming up carries a packet that went out translated:
 * its source is put back so ip's host unreachable reaches the inside host.
 *
 * The outside address is the "address" parameter, or else learned: the
 * first ARP_ADD_LOCAL that ip sends down the interface (IP_ADDR_ADD on the
 * outside interface) names it, and an ARP_DEL_LOCAL of it forgets it (the
 * next ARP_ADD_LOCAL is taken).  Changing the address in use ends every
 * flow (the peers know the old one).  Until an address is known, inside
 * packets are dropped (no address), never sent with their inside source.
 *
 * Going out, a packet whose source is an inside one (not the outside
 * address; in "inside" when that is set) is translated: TCP, UDP and ICMP
 * echo requests get the outside address as source and an external port (or
 * identifier) from the flow's mapping; a TCP segment that opens nothing (no
 * flow, not a SYN) is dropped, as is any other protocol or ICMP type
 * (untranslatable).  Packets of the router itself (source = the outside
 * address) pass untouched: keep [port_min, port_max] (61000-65535) apart
 * from the router's ephemeral ports (32768-60999) so replies are never
 * mistaken.  Coming in, only packets for the outside address are looked at:
 * a reply to a flow (in-key match) gets the inside destination back; a
 * first packet to a forwarded port (a SYN for TCP) opens a flow to the
 * rule's inside endpoint; anything else passes up to the router's own ip.
 * Port forwarding is the same translation seen from the other side: the
 * peer is the originator, the destination is rewritten coming in and the
 * source going back out.  Mapping, filtering, states and timeouts: nat-ct.c.
 *
 * Checksums are updated incrementally (RFC 1624): the IP header checksum for
 * the address, TCP/UDP for the address (pseudo-header) and the port, ICMP
 * for the identifier; details and ICMP errors (RFC 5508) in nat-xlate.c.
 *
 * Fragments.  Only a first fragment carries ports.  Rule: the first
 * fragment is translated like a whole datagram and what it got is kept by
 * (src, dst, id, proto) for frag_timeout_ms (5 s); later fragments of the
 * same datagram get the same address.  A later fragment going out from an
 * inside source that arrives before its first, or after the window, is
 * dropped (frag); one coming in without state passes up untranslated (it
 * may be for the router, whose ip reassembles it).  So out-of-order
 * fragments are lost, where a reassembling NAT would keep them.
 *
 * Time and tables.  Flows expire on the world clock (virtual time
 * deterministic) through one qtimeout, re-armed at the tracker's earliest
 * deadline.  max_entries bounds the flows: when full, a new flow's packet is
 * dropped (table full) and existing flows are untouched; max_frags bounds
 * the fragment memory (the oldest goes).
 *
 * Flow control: no service procedures; nat is transparent like arp, and
 * every packet is decided in its put procedure.  Every drop goes through
 * us_drop() with a reason (nat.h); malformed packets coming up pass to ip,
 * which judges and counts them; an unreadable IPv4 packet going down is
 * dropped (malformed).
 *
 * ioctls, parameters and statistics: nat.h.  NAT_LIST returns the table.
 *
 * Reading list: RFC 3022 (traditional NAT, NAPT, header manipulations and
 * checksum adjustment); RFC 4787 (UDP behaviour: REQ-1 endpoint-independent
 * mapping, §5 filtering, REQ-5/6 timers and refresh, REQ-9 hairpinning);
 * RFC 5382 (TCP: REQ-1, REQ-5 timeouts); RFC 5508 (ICMP: query identifiers,
 * error payload translation); RFC 1624 (incremental checksum); conntrack's
 * TCP timeouts (nf_conntrack_proto_tcp).
 *
 * Deviations
 *  - Timeouts default to conntrack's, shorter than RFC 5382 REQ-5 (4 min
 *    transitory), RFC 4787 REQ-5 (2 min UDP) and RFC 5508 (60 s for ICMP
 *    query sessions) ask; raise them with the parameters to comply.
 *  - TCP tracking follows flags only (no sequence window checks); SYN_RECV
 *    is folded into SYN_SENT -> ESTABLISHED on the SYN+ACK.
 *  - Filtering is address-and-port-dependent (no endpoint-independent or
 *    address-dependent filtering option, which RFC 4787 REQ-8 recommends);
 *    no hairpinning (RFC 4787 REQ-9): an inside host
 *    cannot reach another through the outside address.
 *  - Mappings are exclusive per external port (no port overloading), no
 *    port preservation or parity; next-fit rather than random allocation.
 *  - Non-first fragments that arrive before the first are not held.
 *  - Other protocols (GRE, SCTP ...) are not translated, even address-only.
 *  - Inbound packets for inside addresses that did not come through a flow
 *    are not filtered here (that is the filter module's job).
 */
#define G_LOG_DOMAIN "us-nat"

#include "nat-impl.h"

#include "arp.h"

#include <ustreams/dlpi.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define NAT_ETHERTYPE_IP 0x0800
#define NAT_ETHERTYPE_VLAN 0x8100

static const char *const nat_drop_reasons[] = {
	[NAT_DROP_NO_ADDRESS] = "inside packet, no outside address known",
	[NAT_DROP_MALFORMED] = "inside packet too short to translate",
	[NAT_DROP_PROTO] = "protocol or ICMP type not translated",
	[NAT_DROP_TCP_NOT_SYN] = "TCP segment of no known connection, not a SYN",
	[NAT_DROP_TABLE_FULL] = "new flow refused: table full (max_entries)",
	[NAT_DROP_PORTS] = "new flow refused: no free external port",
	[NAT_DROP_FRAG] = "later fragment without its first fragment",
	[NAT_DROP_ICMP_NO_FLOW] = "inside ICMP error about no known flow",
	[NAT_DROP_NOMEM] = "no memory",
	NULL,
};

static gint64
nat_now(const NatState *ns)
{
	return us_world_now(us_queue_world(ns->ns_rq));
}

/* ------------------------------------------------------------------ */
/* The expiry timer                                                   */
/* ------------------------------------------------------------------ */

static void nat_timer_arm(NatState *ns, gint64 now);

static void
nat_timer_fire(void *arg)
{
	NatState *ns = arg;
	ns->ns_timer = 0;
	gint64 now = nat_now(ns);
	guint n = nat_ct_expire(&ns->ns_ct, now);
	if (n > 0)
		g_debug("%u flow(s) expired, %" G_GUINT64_FORMAT " left", n, ns->ns_ct.ct_entries);
	nat_timer_arm(ns, now);
}

/* Makes the one timer fire no later than the tracker's next deadline. */
static void
nat_timer_arm(NatState *ns, gint64 now)
{
	gint64 d = nat_ct_next_deadline(&ns->ns_ct);
	if (d < 0 || (ns->ns_timer != 0 && ns->ns_timer_at <= d))
		return;
	if (ns->ns_timer != 0)
		quntimeout(ns->ns_rq, ns->ns_timer);
	gint64 wait = d - now;
	clock_t ticks = wait <= 0 ? 1 : (clock_t)((wait + US_NSEC_PER_MSEC - 1) / US_NSEC_PER_MSEC);
	ns->ns_timer_at = now + (gint64)ticks * US_NSEC_PER_MSEC;
	ns->ns_timer = qtimeout(ns->ns_rq, nat_timer_fire, ns, ticks);
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static int
nat_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp;
	(void)oflag;
	(void)crp;
	if (sflag != MODOPEN)
		return ENXIO;
	NatState *ns = g_new0(NatState, 1);
	ns->ns_rq = rq;
	nat_ct_init(&ns->ns_ct);
	ns->ns_address = g_strdup("");
	ns->ns_inside = g_strdup("");
	ns->ns_forwards = g_strdup("");
	ns->ns_inside_nets = g_array_new(FALSE, FALSE, sizeof(NatNet));
	rq->q_ptr = WR(rq)->q_ptr = ns;
	qprocson(rq);
	return 0;
}

static int
nat_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	NatState *ns = rq->q_ptr;
	qprocsoff(rq);
	if (ns->ns_timer != 0)
		quntimeout(rq, ns->ns_timer);
	nat_ct_destroy(&ns->ns_ct);
	g_array_free(ns->ns_inside_nets, TRUE);
	g_free(ns->ns_address);
	g_free(ns->ns_inside);
	g_free(ns->ns_forwards);
	g_free(ns);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* Ends every flow and fragment entry (the outside address changed). */
static void
nat_flush_all(NatState *ns)
{
	guint n = nat_ct_flush(&ns->ns_ct);
	nat_ct_frag_flush(&ns->ns_ct);
	if (n > 0)
		g_info("outside address changed: %u flow(s) ended", n);
}

/* ------------------------------------------------------------------ */
/* DLPI helpers                                                       */
/* ------------------------------------------------------------------ */

/* The SAP of a DLPI address (arp's 6-byte next hop or ether's 8-byte
 * DLSAP, SAP last in host order), or -1 when the layout is not one of
 * those. */
static int
nat_dl_sap(const mblk_t *mp, t_uscalar_t off, t_uscalar_t len)
{
	uint16_t sap;
	if ((len != ARP_NH_LEN && len != 8) || off > MBLKL(mp) || MBLKL(mp) - off < len)
		return -1;
	memcpy(&sap, mp->b_rptr + off + len - 2, 2);
	return sap;
}

/* The link-header length of a fast-path frame carrying IPv4, or 0. */
static size_t
nat_fast_l2(const mblk_t *mp)
{
	uint8_t h[18];
	size_t n = us_msgcopyout(mp, 0, h, sizeof h);
	if (n < 14)
		return 0;
	uint16_t type = (uint16_t)((h[12] << 8) | h[13]);
	if (type == NAT_ETHERTYPE_IP)
		return 14;
	if (type == NAT_ETHERTYPE_VLAN && n >= 18 && ((h[16] << 8) | h[17]) == NAT_ETHERTYPE_IP)
		return 18;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Write side: towards the outside                                    */
/* ------------------------------------------------------------------ */

/* An IPv4 packet going out (mp consumed): translated, passed or dropped. */
static void
nat_out(queue_t *q, mblk_t *mp, gboolean dlpi, size_t l2)
{
	NatState *ns = q->q_ptr;
	NatPkt p;
	if (!nat_pkt_parse(&p, mp, dlpi, l2)) {
		ns->ns_untranslatable++;
		us_drop(q, mp, NAT_DROP_MALFORMED);
		return;
	}
	gint64 now = nat_now(ns);
	guint verdict = nat_xlate_out(ns, &p, now);
	if (verdict != NAT_PASS) {
		us_drop(q, p.mp, verdict);
		return;
	}
	nat_timer_arm(ns, now);
	putnext(q, p.mp);
}

static void
nat_wput_proto(queue_t *q, mblk_t *mp)
{
	dl_unitdata_req_t req;
	if (MBLKL(mp) >= sizeof req && mp->b_cont != NULL) {
		memcpy(&req, mp->b_rptr, sizeof req);
		if (req.dl_primitive == DL_UNITDATA_REQ &&
		    nat_dl_sap(mp, req.dl_dest_addr_offset, req.dl_dest_addr_length) ==
			    NAT_ETHERTYPE_IP) {
			nat_out(q, mp, TRUE, 0);
			return;
		}
	}
	putnext(q, mp);
}

static void
nat_wput_data(queue_t *q, mblk_t *mp)
{
	size_t l2 = nat_fast_l2(mp);
	if (l2 == 0)
		putnext(q, mp); /* not IPv4: not ours */
	else
		nat_out(q, mp, FALSE, l2);
}

/* ------------------------------------------------------------------ */
/* ioctls                                                             */
/* ------------------------------------------------------------------ */

static gboolean
nat_ioc_arg(const mblk_t *mp, void *buf, size_t len)
{
	return mp->b_cont != NULL && msgdsize(mp->b_cont) >= len &&
	       us_msgcopyout(mp->b_cont, 0, buf, len) == len;
}

/* Replies with the n-byte array data (as much as fits in ic_len). */
static void
nat_ioc_reply_array(queue_t *wq, mblk_t *mp, const void *data, size_t size, guint n)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	size_t len = MIN(ioc->ioc_count / size, n) * size;
	mblk_t *dp = len > 0 ? us_msg_from(data, len, 0) : NULL;
	if (len > 0 && dp == NULL) {
		miocnak(wq, mp, 0, ENOMEM);
		return;
	}
	freemsg(mp->b_cont);
	mp->b_cont = dp;
	miocack(wq, mp, (int)len, (int)n);
}

static gint
nat_info_cmp(gconstpointer a, gconstpointer b)
{
	const struct nat_entry_info *x = a, *y = b;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->ext_port != y->ext_port)
		return x->ext_port < y->ext_port ? -1 : 1;
	if (x->peer_addr != y->peer_addr)
		return g_ntohl(x->peer_addr) < g_ntohl(y->peer_addr) ? -1 : 1;
	return x->peer_port < y->peer_port ? -1 : x->peer_port > y->peer_port;
}

static void
nat_ioc_list(queue_t *wq, mblk_t *mp)
{
	NatState *ns = wq->q_ptr;
	NatCt *ct = &ns->ns_ct;
	gint64 now = nat_now(ns);
	GArray *a = g_array_sized_new(FALSE, TRUE, sizeof(struct nat_entry_info), ct->ct_heap->len);
	for (guint i = 0; i < ct->ct_heap->len; i++) {
		const NatFlow *f = g_ptr_array_index(ct->ct_heap, i);
		gint64 left = MAX(f->nf_expire - now, 0) / US_NSEC_PER_MSEC;
		struct nat_entry_info e = {
			.proto = f->nf_out.proto,
			.state = f->nf_state,
			.flags = f->nf_flags & (NAT_EF_FORWARD | NAT_EF_REPLIED),
			.in_addr = f->nf_out.in_addr,
			.peer_addr = f->nf_out.peer_addr,
			.ext_addr = nat_ext_addr(ns),
			.in_port = g_ntohs(f->nf_out.in_port),
			.peer_port = g_ntohs(f->nf_out.peer_port),
			.ext_port = g_ntohs(f->nf_in.ext_port),
			.expires_ms = (uint32_t)MIN(left, G_MAXUINT32),
			.packets_out = f->nf_pkts_out,
			.packets_in = f->nf_pkts_in,
		};
		g_array_append_val(a, e);
	}
	g_array_sort(a, nat_info_cmp);
	nat_ioc_reply_array(wq, mp, a->data, sizeof(struct nat_entry_info), a->len);
	g_array_free(a, TRUE);
}

static void
nat_ioc_forward_list(queue_t *wq, mblk_t *mp)
{
	NatCt *ct = &((NatState *)wq->q_ptr)->ns_ct;
	GArray *a = g_array_new(FALSE, TRUE, sizeof(struct nat_forward));
	for (guint i = 0; i < ct->ct_rules->len; i++) {
		const NatRule *r = &g_array_index(ct->ct_rules, NatRule, i);
		struct nat_forward fw = { .proto = r->nr_proto,
					  .ext_port = g_ntohs(r->nr_ext_port),
					  .in_addr = r->nr_in_addr,
					  .in_port = g_ntohs(r->nr_in_port) };
		g_array_append_val(a, fw);
	}
	nat_ioc_reply_array(wq, mp, a->data, sizeof(struct nat_forward), a->len);
	g_array_free(a, TRUE);
}

static void nat_forwards_update_text(NatState *ns);

/* NAT_FORWARD_ADD / NAT_FORWARD_DEL: 0 or an errno; *rval for DEL. */
static int
nat_ioc_forward(NatState *ns, int cmd, mblk_t *mp, int *rval)
{
	struct nat_forward fw;
	if (!nat_ioc_arg(mp, &fw, sizeof fw))
		return EINVAL;
	int err;
	if (cmd == NAT_FORWARD_ADD) {
		NatRule r = { .nr_proto = fw.proto,
			      .nr_ext_port = g_htons(fw.ext_port),
			      .nr_in_addr = fw.in_addr,
			      .nr_in_port = g_htons(fw.in_port) };
		err = nat_ct_rule_add(&ns->ns_ct, &r);
	} else {
		guint ended = 0;
		err = nat_ct_rule_del(&ns->ns_ct, fw.proto, g_htons(fw.ext_port), &ended);
		*rval = (int)ended;
	}
	if (err == 0)
		nat_forwards_update_text(ns);
	return err;
}

/* nat's own ioctls (consumed). */
static void
nat_ioc(queue_t *wq, mblk_t *mp, int cmd)
{
	NatState *ns = wq->q_ptr;
	int err = 0, rval = 0;
	switch (cmd) {
	case NAT_LIST: nat_ioc_list(wq, mp); return;
	case NAT_FORWARD_LIST: nat_ioc_forward_list(wq, mp); return;
	case NAT_FLUSH:
		rval = (int)nat_ct_flush(&ns->ns_ct);
		nat_ct_frag_flush(&ns->ns_ct);
		break;
	default: err = nat_ioc_forward(ns, cmd, mp, &rval); break;
	}
	if (err != 0)
		miocnak(wq, mp, 0, err);
	else
		miocack(wq, mp, 0, rval);
}

/* ARP_ADD_LOCAL / ARP_DEL_LOCAL on their way to arp: the outside address. */
static void
nat_learn(NatState *ns, int cmd, const mblk_t *mp)
{
	struct arp_addr_req ar;
	if (!nat_ioc_arg(mp, &ar, sizeof ar) || ar.addr == 0)
		return;
	uint32_t before = nat_ext_addr(ns);
	if (cmd == ARP_ADD_LOCAL && ns->ns_addr_learned == 0)
		ns->ns_addr_learned = ar.addr;
	else if (cmd == ARP_DEL_LOCAL && ar.addr == ns->ns_addr_learned)
		ns->ns_addr_learned = 0;
	if (nat_ext_addr(ns) != before)
		nat_flush_all(ns);
}

static void
nat_wput_ioctl(queue_t *wq, mblk_t *mp)
{
	if (MBLKL(mp) < sizeof(struct iocblk)) {
		putnext(wq, mp); /* not ours to judge */
		return;
	}
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	int cmd = ioc->ioc_cmd;
	switch (cmd) {
	case ARP_ADD_LOCAL:
	case ARP_DEL_LOCAL:
		if (ioc->ioc_count != TRANSPARENT)
			nat_learn(wq->q_ptr, cmd, mp);
		putnext(wq, mp);
		return;
	case NAT_LIST:
	case NAT_FLUSH:
	case NAT_FORWARD_ADD:
	case NAT_FORWARD_DEL:
	case NAT_FORWARD_LIST:
		if (ioc->ioc_count == TRANSPARENT)
			miocnak(wq, mp, 0, EINVAL);
		else
			nat_ioc(wq, mp, cmd);
		return;
	default: putnext(wq, mp); return;
	}
}

/* Write put: IPv4 packets going out are translated; the rest goes down. */
static int
nat_wput(queue_t *q, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA: nat_wput_data(q, mp); break;
	case M_PROTO:
	case M_PCPROTO: nat_wput_proto(q, mp); break;
	case M_IOCTL: nat_wput_ioctl(q, mp); break;
	default: us_default_put(q, mp); break; /* M_FLUSH ... */
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Read side: from the outside                                        */
/* ------------------------------------------------------------------ */

/* An IPv4 packet coming in (mp consumed): translated, passed or dropped. */
static void
nat_in(queue_t *q, mblk_t *mp, gboolean dlpi)
{
	NatState *ns = q->q_ptr;
	NatPkt p;
	if (!nat_pkt_parse(&p, mp, dlpi, 0)) {
		putnext(q, mp); /* ip judges and counts it */
		return;
	}
	gint64 now = nat_now(ns);
	guint verdict = nat_xlate_in(ns, &p, now);
	if (verdict != NAT_PASS) {
		us_drop(q, p.mp, verdict);
		return;
	}
	nat_timer_arm(ns, now);
	putnext(q, p.mp);
}

/* ARP_UNREACH_IND: the packet that waited went out translated. */
static void
nat_rput_unreach(queue_t *q, mblk_t *mp)
{
	NatPkt p;
	if (nat_pkt_parse(&p, mp, TRUE, 0)) {
		nat_xlate_unsent(q->q_ptr, &p);
		mp = p.mp;
	}
	putnext(q, mp);
}

static void
nat_rput_proto(queue_t *q, mblk_t *mp)
{
	dl_unitdata_ind_t ind;
	uint32_t prim;
	if (MBLKL(mp) < sizeof prim || mp->b_cont == NULL) {
		putnext(q, mp);
		return;
	}
	memcpy(&prim, mp->b_rptr, sizeof prim);
	if (prim == DL_UNITDATA_IND && MBLKL(mp) >= sizeof ind) {
		memcpy(&ind, mp->b_rptr, sizeof ind);
		int sap = nat_dl_sap(mp, ind.dl_dest_addr_offset, ind.dl_dest_addr_length);
		if (sap == NAT_ETHERTYPE_IP || sap < 0) {
			nat_in(q, mp, TRUE);
			return;
		}
	} else if (prim == ARP_UNREACH_IND && MBLKL(mp) >= sizeof(struct arp_unreach_ind)) {
		nat_rput_unreach(q, mp);
		return;
	}
	putnext(q, mp);
}

/* Read put: IPv4 packets coming in are translated; the rest goes up. */
static int
nat_rput(queue_t *q, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA: nat_in(q, mp, FALSE); break;
	case M_PROTO:
	case M_PCPROTO: nat_rput_proto(q, mp); break;
	default: us_default_put(q, mp); break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

static gboolean
nat_parse_addr(const char *s, uint32_t *addr)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return FALSE;
	*addr = a.s_addr;
	return TRUE;
}

static gboolean
nat_parse_port(const char *s, uint16_t *port)
{
	char *end;
	if (!g_ascii_isdigit(*s))
		return FALSE;
	guint64 v = g_ascii_strtoull(s, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return FALSE;
	*port = (uint16_t)v;
	return TRUE;
}

static gboolean
nat_param_address(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	NatState *ns = rq->q_ptr;
	uint32_t addr = 0;
	char *s = g_strstrip(g_strdup(ns->ns_address));
	gboolean ok = *s == '\0' || (nat_parse_addr(s, &addr) && addr != 0);
	g_free(s);
	if (!ok) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "address '%s': expected a dotted quad, or empty to learn it",
			    ns->ns_address);
		return FALSE;
	}
	uint32_t before = nat_ext_addr(ns);
	ns->ns_addr_set = addr;
	if (nat_ext_addr(ns) != before)
		nat_flush_all(ns);
	return TRUE;
}

/* "A.B.C.D/N" or "A.B.C.D" (a /32). */
static gboolean
nat_parse_net(const char *s, NatNet *n)
{
	char **parts = g_strsplit(s, "/", 2);
	guint64 plen = 32;
	char *end = NULL;
	gboolean ok = nat_parse_addr(parts[0], &n->net);
	if (ok && parts[1] != NULL) {
		plen = g_ascii_strtoull(parts[1], &end, 10);
		ok = g_ascii_isdigit(parts[1][0]) && *end == '\0' && plen <= 32;
	}
	g_strfreev(parts);
	n->mask = plen == 0 ? 0 : g_htonl(0xffffffffu << (32 - plen));
	n->net &= n->mask;
	return ok;
}

static gboolean
nat_param_inside(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	NatState *ns = rq->q_ptr;
	GArray *nets = g_array_new(FALSE, FALSE, sizeof(NatNet));
	char **words = g_strsplit_set(ns->ns_inside, " ,;\t\n", -1);
	gboolean ok = TRUE;
	for (char **w = words; ok && *w != NULL; w++) {
		NatNet n;
		if (**w == '\0')
			continue;
		if (!(ok = nat_parse_net(*w, &n)))
			g_set_error(error, US_ERROR, US_ERROR_INVALID,
				    "inside: '%s' is not a prefix (A.B.C.D/N)", *w);
		else
			g_array_append_val(nets, n);
	}
	g_strfreev(words);
	if (!ok) {
		g_array_free(nets, TRUE);
		return FALSE;
	}
	g_array_free(ns->ns_inside_nets, TRUE);
	ns->ns_inside_nets = nets;
	return TRUE;
}

/* One rule: "[forward] tcp|udp PORT A.B.C.D:PORT". */
static gboolean
nat_parse_rule(const char *text, NatRule *r, GError **error)
{
	char **all = g_strsplit_set(text, " \t\n", -1);
	GPtrArray *w = g_ptr_array_new();
	for (char **s = all; *s != NULL; s++)
		if (**s != '\0' && (w->len > 0 || strcmp(*s, "forward") != 0))
			g_ptr_array_add(w, *s);
	uint16_t ext = 0, in = 0;
	uint32_t addr = 0;
	char *colon = w->len == 3 ? strrchr(w->pdata[2], ':') : NULL;
	gboolean ok = colon != NULL;
	if (ok) {
		*colon = '\0';
		ok = nat_parse_port(w->pdata[1], &ext) && nat_parse_addr(w->pdata[2], &addr) &&
		     nat_parse_port(colon + 1, &in);
	}
	memset(r, 0, sizeof *r);
	r->nr_proto = ok && strcmp(w->pdata[0], "tcp") == 0   ? NAT_PROTO_TCP
		      : ok && strcmp(w->pdata[0], "udp") == 0 ? NAT_PROTO_UDP
							      : 0;
	r->nr_ext_port = g_htons(ext);
	r->nr_in_addr = addr;
	r->nr_in_port = g_htons(in);
	g_ptr_array_free(w, TRUE);
	g_strfreev(all);
	if (r->nr_proto == 0)
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "forwards: '%s' is not \"tcp|udp PORT A.B.C.D:PORT\"", text);
	return r->nr_proto != 0;
}

/* The rules of a "forwards" text (';'-separated), or NULL and an error. */
static GArray *
nat_parse_rules(const char *text, GError **error)
{
	GArray *rules = g_array_new(FALSE, TRUE, sizeof(NatRule));
	char **items = g_strsplit(text, ";", -1);
	gboolean ok = TRUE;
	for (char **s = items; ok && *s != NULL; s++) {
		NatRule r;
		if (*g_strstrip(*s) == '\0')
			continue;
		if ((ok = nat_parse_rule(*s, &r, error)))
			g_array_append_val(rules, r);
	}
	g_strfreev(items);
	if (!ok) {
		g_array_free(rules, TRUE);
		return NULL;
	}
	return rules;
}

static gboolean
nat_rule_same(const NatRule *a, const NatRule *b)
{
	return a->nr_proto == b->nr_proto && a->nr_ext_port == b->nr_ext_port &&
	       a->nr_in_addr == b->nr_in_addr && a->nr_in_port == b->nr_in_port;
}

static const NatRule *
nat_rules_find(GArray *rules, uint8_t proto, uint16_t port)
{
	for (guint i = 0; i < rules->len; i++) {
		const NatRule *r = &g_array_index(rules, NatRule, i);
		if (r->nr_proto == proto && r->nr_ext_port == port)
			return r;
	}
	return NULL;
}

/* Whether the new rule set can replace the current one as a whole. */
static gboolean
nat_rules_check(NatState *ns, GArray *rules, GError **error)
{
	if (rules->len > NAT_FORWARD_MAX) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID, "forwards: more than %d rules",
			    NAT_FORWARD_MAX);
		return FALSE;
	}
	for (guint i = 0; i < rules->len; i++) {
		const NatRule *r = &g_array_index(rules, NatRule, i);
		const char *name = r->nr_proto == NAT_PROTO_TCP ? "tcp" : "udp";
		guint port = g_ntohs(r->nr_ext_port);
		const char *why = NULL;
		if (nat_rules_find(rules, r->nr_proto, r->nr_ext_port) != r)
			why = "is forwarded twice";
		else if (nat_ct_port_mapped(&ns->ns_ct, r->nr_proto, r->nr_ext_port))
			why = "is held by a mapping now";
		else if (g_ntohl(r->nr_in_addr) >> 28 >= 14)
			why = "goes to a multicast or broadcast address";
		if (why != NULL) {
			g_set_error(error, US_ERROR, US_ERROR_INVALID, "forwards: %s port %u %s",
				    name, port, why);
			return FALSE;
		}
	}
	return TRUE;
}

/* Rewrites the "forwards" parameter from the rules in force. */
static void
nat_forwards_update_text(NatState *ns)
{
	GString *s = g_string_new(NULL);
	GArray *rules = ns->ns_ct.ct_rules;
	for (guint i = 0; i < rules->len; i++) {
		const NatRule *r = &g_array_index(rules, NatRule, i);
		char addr[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &r->nr_in_addr, addr, sizeof addr);
		g_string_append_printf(s, "%s%s %u %s:%u", i > 0 ? "; " : "",
				       r->nr_proto == NAT_PROTO_TCP ? "tcp" : "udp",
				       g_ntohs(r->nr_ext_port), addr, g_ntohs(r->nr_in_port));
	}
	g_free(ns->ns_forwards);
	ns->ns_forwards = g_string_free(s, FALSE);
}

/* A new "forwards" text: rules that stay keep their flows, those that go
 * (or change) end theirs. */
static gboolean
nat_param_forwards(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	NatState *ns = rq->q_ptr;
	GArray *rules = nat_parse_rules(ns->ns_forwards, error);
	if (rules == NULL || !nat_rules_check(ns, rules, error)) {
		if (rules != NULL)
			g_array_free(rules, TRUE);
		return FALSE;
	}
	GArray *old = g_array_copy(ns->ns_ct.ct_rules);
	for (guint i = 0; i < old->len; i++) {
		const NatRule *o = &g_array_index(old, NatRule, i);
		const NatRule *n = nat_rules_find(rules, o->nr_proto, o->nr_ext_port);
		guint ended;
		if (n == NULL || !nat_rule_same(n, o))
			nat_ct_rule_del(&ns->ns_ct, o->nr_proto, o->nr_ext_port, &ended);
	}
	for (guint i = 0; i < rules->len; i++) {
		const NatRule *r = &g_array_index(rules, NatRule, i);
		if (nat_ct_rule_find(&ns->ns_ct, r->nr_proto, r->nr_ext_port) == NULL) {
			int err = nat_ct_rule_add(&ns->ns_ct, r);
			if (err != 0)
				g_warning("forwards: rule refused: %s", g_strerror(err));
		}
	}
	g_array_free(old, TRUE);
	g_array_free(rules, TRUE);
	nat_forwards_update_text(ns);
	return TRUE;
}

static gboolean
nat_param_ports(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	NatCt *ct = &((NatState *)rq->q_ptr)->ns_ct;
	if (ct->ct_port_min > ct->ct_port_max) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "port_min %" G_GUINT64_FORMAT " is above port_max %" G_GUINT64_FORMAT,
			    ct->ct_port_min, ct->ct_port_max);
		return FALSE;
	}
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info nat_minfo = {
	.mi_idnum = 1040,
	.mi_idname = "nat",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit nat_rinit = {
	.qi_putp = nat_rput,
	.qi_qopen = nat_open,
	.qi_qclose = nat_close,
	.qi_minfo = &nat_minfo,
};
static struct qinit nat_winit = { .qi_putp = nat_wput, .qi_minfo = &nat_minfo };
static struct streamtab nat_info = { .st_rdinit = &nat_rinit, .st_wrinit = &nat_winit };

#define NAT_UINT(nm, desc, fld, lo, hi, set)                                                 \
	{                                                                                    \
		.name = (nm), .description = (desc), .type = US_PARAM_UINT,                  \
		.offset = offsetof(NatState, fld), .min = (lo), .max = (hi), .on_set = (set) \
	}
#define NAT_STRING(nm, desc, fld, set)                                        \
	{                                                                     \
		.name = (nm), .description = (desc), .type = US_PARAM_STRING, \
		.offset = offsetof(NatState, fld), .on_set = (set)            \
	}
#define NAT_S_MAX (30 * 24 * 3600) /* a month */

static const UsParamDesc nat_params[] = {
	NAT_STRING(NAT_PARAM_ADDRESS, "outside address (empty: learned from ARP_ADD_LOCAL)",
		   ns_address, nat_param_address),
	NAT_STRING(NAT_PARAM_INSIDE, "inside prefixes, comma-separated (empty: any source)",
		   ns_inside, nat_param_inside),
	NAT_STRING(NAT_PARAM_FORWARDS, "port forwards: \"tcp 80 10.0.0.5:8080; udp 53 ...\"",
		   ns_forwards, nat_param_forwards),
	NAT_UINT(NAT_PARAM_PORT_MIN, "first external port / ICMP identifier", ns_ct.ct_port_min, 1,
		 65535, nat_param_ports),
	NAT_UINT(NAT_PARAM_PORT_MAX, "last external port / ICMP identifier", ns_ct.ct_port_max, 1,
		 65535, nat_param_ports),
	NAT_UINT(NAT_PARAM_MAX_ENTRIES, "connection table size", ns_ct.ct_max_entries, 1, 1 << 22,
		 NULL),
	NAT_UINT(NAT_PARAM_TCP_SYN_SENT_S, "TCP SYN_SENT timeout (s)", ns_ct.ct_to_syn_sent, 1,
		 NAT_S_MAX, NULL),
	NAT_UINT(NAT_PARAM_TCP_ESTABLISHED_S, "TCP ESTABLISHED timeout (s)",
		 ns_ct.ct_to_established, 1, NAT_S_MAX, NULL),
	NAT_UINT(NAT_PARAM_TCP_FIN_WAIT_S, "TCP FIN_WAIT timeout (s)", ns_ct.ct_to_fin_wait, 1,
		 NAT_S_MAX, NULL),
	NAT_UINT(NAT_PARAM_TCP_TIME_WAIT_S, "TCP TIME_WAIT timeout (s)", ns_ct.ct_to_time_wait, 1,
		 NAT_S_MAX, NULL),
	NAT_UINT(NAT_PARAM_TCP_CLOSE_S, "TCP CLOSE timeout (s)", ns_ct.ct_to_close, 1, NAT_S_MAX,
		 NULL),
	NAT_UINT(NAT_PARAM_UDP_S, "UDP timeout before a reply (s)", ns_ct.ct_to_udp, 1, NAT_S_MAX,
		 NULL),
	NAT_UINT(NAT_PARAM_UDP_STREAM_S, "UDP timeout once replied (s)", ns_ct.ct_to_udp_stream, 1,
		 NAT_S_MAX, NULL),
	NAT_UINT(NAT_PARAM_ICMP_S, "ICMP echo timeout (s)", ns_ct.ct_to_icmp, 1, NAT_S_MAX, NULL),
	NAT_UINT(NAT_PARAM_FRAG_TIMEOUT_MS, "how long later fragments are matched (ms)",
		 ns_ct.ct_frag_timeout_ms, 1, 600000, NULL),
	NAT_UINT(NAT_PARAM_MAX_FRAGS, "fragment entries at most", ns_ct.ct_max_frags, 0, 1 << 20,
		 NULL),
	{ 0 },
};

static const UsStatDesc nat_stats[] = {
	US_STAT(NAT_STAT_TRANSLATED_OUT, "packets translated going out", NatState,
		ns_translated_out),
	US_STAT(NAT_STAT_TRANSLATED_IN, "packets translated coming in", NatState, ns_translated_in),
	US_STAT(NAT_STAT_ICMP_ERRORS, "ICMP errors whose quote was translated", NatState,
		ns_icmp_errors),
	US_STAT(NAT_STAT_NEW_FLOWS, "connection entries created", NatState, ns_ct.ct_new_flows),
	US_STAT(NAT_STAT_EXPIRED, "connection entries that timed out", NatState, ns_ct.ct_expired),
	US_STAT(NAT_STAT_TABLE_FULL, "new flows refused: table full", NatState,
		ns_ct.ct_table_full),
	US_STAT(NAT_STAT_PORTS_EXHAUSTED, "new flows refused: no free port", NatState,
		ns_ct.ct_ports_exhausted),
	US_STAT(NAT_STAT_UNTRANSLATABLE, "inside packets that could not be translated", NatState,
		ns_untranslatable),
	US_STAT(NAT_STAT_ENTRIES, "connection entries now", NatState, ns_ct.ct_entries),
	US_STAT(NAT_STAT_MAPPINGS, "external ports held by mappings now", NatState,
		ns_ct.ct_mappings),
	US_STAT(NAT_STAT_FRAGS, "fragment entries now", NatState, ns_ct.ct_frags),
	{ 0 },
};

static const char *const nat_accepts[] = {
	"M_PROTO (DL_UNITDATA_REQ/IND with IPv4: translated; ARP_UNREACH_IND: quote restored)",
	"M_DATA (fast path, IPv4: translated)",
	"M_IOCTL (NAT_*; ARP_ADD_LOCAL/ARP_DEL_LOCAL looked at; others passed down)",
	"M_FLUSH",
	"others passed through",
	NULL,
};

const UsModuleDesc us_nat_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "nat",
	.summary = "source NAT (masquerade) and port forwarding with connection tracking",
	.kind = US_KIND_MODULE,
	.streamtab = &nat_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = nat_params,
	.stats = nat_stats,
	.drop_reasons = nat_drop_reasons,
	.accepts = nat_accepts,
};
