/* SPDX-License-Identifier: MIT */
/*
 * ip-input.c -- datagrams arriving from interfaces and from the loopback:
 * header checks, the local/broadcast/forward decision, reassembly, delivery
 * to transports, and forwarding.  Theory in ip.c ("Input", "Forwarding").
 */
#define G_LOG_DOMAIN "us-ip"

#include "inet-cksum.h"
#include "ip-impl.h"

#include <errno.h>
#include <string.h>

#define IPOPT_EOL 0
#define IPOPT_NOP 1
#define IPOPT_LSRR 131
#define IPOPT_SSRR 137

/* ------------------------------------------------------------------ */
/* Checks                                                             */
/* ------------------------------------------------------------------ */

/* Makes the first len bytes of mp contiguous and private (writable) in its
 * first block.  Returns mp (perhaps another first block) or NULL when it
 * cannot (mp untouched then; the caller drops it). */
mblk_t *
ip_pullup_writable(mblk_t *mp, size_t len)
{
	if (MBLKL(mp) >= len && DB_REF(mp) == 1)
		return mp;
	if (msgdsize(mp) < len)
		return NULL;
	mblk_t *np = msgpullup(mp, (ssize_t)len);
	if (np == NULL)
		return NULL;
	/* msgpullup copied len bytes into a fresh block and the rest after */
	freemsg(mp);
	return np;
}

gboolean
ip_is_martian_src(IpStack *is, uint32_t src)
{
	return src == IP_BROADCAST || ip_is_multicast(src) || ip_is_zeronet(src) ||
	       ip_is_loopback(src) || g_hash_table_contains(is->is_bcast, GUINT_TO_POINTER(src));
}

/* Walks the options (RFC 791 §3.1): returns 0 when well formed, else the
 * offset (from the header start) of the bad octet for the parameter problem,
 * or -1 for a source-route option (refused, no ICMP). */
int
ip_check_options(const uint8_t *h, size_t hlen)
{
	size_t i = IP_HDR_MIN;
	while (i < hlen) {
		uint8_t type = h[i];
		if (type == IPOPT_EOL)
			break;
		if (type == IPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= hlen)
			return (int)i;
		uint8_t olen = h[i + 1];
		if (olen < 2 || i + olen > hlen)
			return (int)i + 1;
		if (type == IPOPT_LSRR || type == IPOPT_SSRR)
			return -1;
		i += olen;
	}
	return 0;
}

/* Counts and drops an input error; the interface's idrops too. */
static void
ip_in_drop(IpStack *is, IpIf *ifp, mblk_t *mp, guint reason)
{
	if (ifp != NULL)
		ifp->if_idrops++;
	if (reason <= IP_DROP_OPTIONS)
		is->st_in_hdr_errors++;
	ip_drop(is, NULL, mp, reason);
}

/* The header checks.  Returns mp with its header contiguous and writable and
 * trailing link padding trimmed, or NULL after dropping it. */
static mblk_t *
ip_input_check(IpStack *is, IpIf *ifp, mblk_t *mp)
{
	size_t total = msgdsize(mp);
	mblk_t *np = total >= IP_HDR_MIN ? ip_pullup_writable(mp, IP_HDR_MIN) : NULL;
	if (np == NULL) {
		ip_in_drop(is, ifp, mp, total >= IP_HDR_MIN ? IP_DROP_NOMEM : IP_DROP_SHORT);
		return NULL;
	}
	mp = np;
	const uint8_t *h = mp->b_rptr;
	if ((h[0] >> 4) != 4) {
		ip_in_drop(is, ifp, mp, IP_DROP_VERSION);
		return NULL;
	}
	size_t hlen = (size_t)(h[0] & 0x0f) * 4;
	if (hlen < IP_HDR_MIN || hlen > total) {
		ip_in_drop(is, ifp, mp, IP_DROP_HDR_LEN);
		return NULL;
	}
	if ((np = ip_pullup_writable(mp, hlen)) == NULL) {
		ip_in_drop(is, ifp, mp, IP_DROP_NOMEM);
		return NULL;
	}
	mp = np;
	h = mp->b_rptr;
	if (us_cksum(h, hlen) != 0) {
		ip_in_drop(is, ifp, mp, IP_DROP_CKSUM);
		return NULL;
	}
	size_t len = ((size_t)h[2] << 8) | h[3];
	if (len < hlen || len > total) {
		ip_in_drop(is, ifp, mp, IP_DROP_SHORT);
		return NULL;
	}
	if (len < total)
		(void)adjmsg(mp, -(ssize_t)(total - len)); /* link-layer padding */
	return mp;
}

/* Options: 0 to go on; otherwise mp was dropped (with a parameter problem
 * for a malformed option). */
static int
ip_input_options(IpStack *is, IpIf *ifp, mblk_t *mp)
{
	size_t hlen = (size_t)(mp->b_rptr[0] & 0x0f) * 4;
	if (hlen == IP_HDR_MIN)
		return 0;
	int bad = ip_check_options(mp->b_rptr, hlen);
	if (bad == 0)
		return 0;
	if (bad > 0)
		ip_icmp_error(is, mp, ICMP_PARAMPROB, 0, (uint32_t)bad);
	ip_in_drop(is, ifp, mp, IP_DROP_OPTIONS);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Local delivery                                                     */
/* ------------------------------------------------------------------ */

/* Sends mp up to upper up as IP_UNITDATA_IND (consumes mp). */
void
ip_deliver_up(IpStack *is, IpUpper *up, IpIf *ifp, mblk_t *mp, guint32 flags)
{
	const IpHdr *h = (const IpHdr *)mp->b_rptr;
	if (!canputnext(up->up_rq)) {
		is->st_in_discards++;
		us_drop(up->up_rq, mp, IP_DROP_TRANSPORT);
		return;
	}
	mblk_t *ind = allocb(sizeof(struct ip_unitdata_ind), BPRI_MED);
	if (ind == NULL) {
		is->st_in_discards++;
		us_drop(up->up_rq, mp, IP_DROP_NOMEM);
		return;
	}
	struct ip_unitdata_ind ui = {
		.prim = IP_UNITDATA_IND,
		.src = h->src,
		.dst = h->dst,
		.proto = h->proto,
		.ttl = h->ttl,
		.tos = h->tos,
		.hdr_len = (uint8_t)((h->vhl & 0x0f) * 4),
		.ifindex = ifp != NULL ? ifp->if_index : 0,
		.flags = flags,
	};
	memcpy(ind->b_wptr, &ui, sizeof ui);
	ind->b_wptr += sizeof ui;
	DB_TYPE(ind) = M_PROTO;
	ind->b_cont = mp;
	putnext(up->up_rq, ind);
}

/* A copy for the raw binding, if any (does not consume mp). */
static void
ip_deliver_raw(IpStack *is, IpIf *ifp, const mblk_t *mp, guint32 flags)
{
	if (is->is_raw == NULL)
		return;
	mblk_t *cp = dupmsg((mblk_t *)mp);
	if (cp == NULL) {
		is->st_in_discards++;
		ip_drop(is, NULL, NULL, IP_DROP_NOMEM);
		return;
	}
	ip_deliver_up(is, is->is_raw, ifp, cp, flags);
}

/* A whole datagram for us (consumes mp): ICMP, a bound transport, or
 * protocol unreachable.  ifp NULL: from the loopback. */
void
ip_deliver(IpStack *is, IpIf *ifp, mblk_t *mp, guint32 flags)
{
	const IpHdr *h = (const IpHdr *)mp->b_rptr;
	uint8_t proto = h->proto;
	is->st_in_delivers++;
	if (proto == IP_PROTO_ICMP) {
		ip_icmp_input(is, ifp, mp, flags);
		return;
	}
	IpUpper *up = is->is_proto[proto];
	if (up == NULL) {
		if (is->is_raw != NULL) {
			ip_deliver_up(is, is->is_raw, ifp, mp, flags);
			return;
		}
		is->st_in_delivers--;
		is->st_in_unknown_protos++;
		if (!(flags & (IP_IF_BROADCAST | IP_IF_MULTICAST)))
			ip_icmp_error(is, mp, ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, 0);
		ip_drop(is, NULL, mp, IP_DROP_UNKNOWN_PROTO);
		return;
	}
	ip_deliver_raw(is, ifp, mp, flags);
	ip_deliver_up(is, up, ifp, mp, flags);
}

/* Called by the reassembly timer: times out old datagrams. */
static void
ip_reass_expired(mblk_t *first, gpointer data)
{
	IpStack *is = data;
	ip_icmp_error(is, first, ICMP_TIMXCEED, ICMP_TIMXCEED_REASS, 0);
	freemsg(first);
}

static void
ip_reass_timer(gpointer data)
{
	IpStack *is = data;
	is->is_reass_timer = 0;
	guint64 now = (guint64)ip_now(is);
	guint n = ip_reass_expire(is->is_reass, now, ip_reass_expired, is);
	is->st_reasm_fails += n;
	for (guint i = 0; i < n; i++)
		ip_drop(is, NULL, NULL, IP_DROP_REASS_TIMEOUT);
	ip_reass_arm(is);
}

/* Arms the reassembly timer for the earliest deadline, if any. */
void
ip_reass_arm(IpStack *is)
{
	is->st_reass_datagrams = ip_reass_count(is->is_reass);
	is->st_reass_bytes = ip_reass_bytes(is->is_reass);
	guint64 dl = ip_reass_next_deadline(is->is_reass);
	if (dl == G_MAXUINT64) {
		if (is->is_reass_timer != 0)
			us_world_timer_cancel(is->is_world, is->is_reass_timer);
		is->is_reass_timer = 0;
		return;
	}
	if (is->is_reass_timer != 0 && is->is_reass_deadline == (gint64)dl)
		return;
	if (is->is_reass_timer != 0)
		us_world_timer_cancel(is->is_world, is->is_reass_timer);
	gint64 delay = (gint64)dl - ip_now(is);
	is->is_reass_deadline = (gint64)dl;
	is->is_reass_timer =
		us_world_timer_add(is->is_world, delay > 0 ? delay : 0, ip_reass_timer, is);
}

/* A fragment for us: the whole datagram when it completes, else NULL. */
static mblk_t *
ip_reassemble(IpStack *is, IpIf *ifp, mblk_t *mp)
{
	IpReassVerdict v;
	is->st_reasm_reqds++;
	mblk_t *whole = ip_reass_input(is->is_reass, mp, (guint64)ip_now(is), &v);
	switch (v) {
	case IP_REASS_DONE: is->st_reasm_oks++; break;
	case IP_REASS_KEPT: break;
	case IP_REASS_NOMEM:
		is->st_reasm_fails++;
		ip_in_drop(is, ifp, NULL, IP_DROP_NOMEM);
		break;
	case IP_REASS_DUP: ip_in_drop(is, ifp, NULL, IP_DROP_FRAG); break;
	default:
		is->st_reasm_fails++;
		ip_in_drop(is, ifp, NULL, IP_DROP_FRAG);
		break;
	}
	ip_reass_arm(is);
	return whole;
}

/* Local delivery of a checked datagram (consumes mp). */
static void
ip_input_local(IpStack *is, IpIf *ifp, mblk_t *mp, guint32 flags)
{
	const IpHdr *h = (const IpHdr *)mp->b_rptr;
	if (g_ntohs(h->off) & (IP_OFF_MF | IP_OFF_MASK)) {
		mp = ip_reassemble(is, ifp, mp);
		if (mp == NULL)
			return;
	}
	ip_deliver(is, ifp, mp, flags);
}

/* ------------------------------------------------------------------ */
/* Forwarding                                                         */
/* ------------------------------------------------------------------ */

static void
ip_forward(IpStack *is, IpIf *in, mblk_t *mp)
{
	IpHdr *h = (IpHdr *)mp->b_rptr;
	if (h->ttl <= 1) {
		ip_icmp_error(is, mp, ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, 0);
		is->st_in_hdr_errors++;
		ip_drop(is, NULL, mp, IP_DROP_TTL);
		return;
	}
	IpRouteOut ro;
	if (ip_route_out(is, h->dst, 0, IP_F_BROADCAST, &ro) != 0 || ro.ifp == NULL ||
	    (ro.flags & IP_RF_BROADCAST)) {
		ip_icmp_error(is, mp, ICMP_UNREACH, ICMP_UNREACH_NET, 0);
		is->st_out_no_routes++;
		ip_drop(is, NULL, mp, IP_DROP_NO_ROUTE);
		return;
	}
	if (!ip_if_canput(ro.ifp)) {
		is->st_out_discards++;
		ip_drop(is, NULL, mp, IP_DROP_QUEUE_FULL);
		return;
	}
	if ((g_ntohs(h->off) & IP_OFF_DF) && ip_wire_len(mp) > ro.mtu) {
		/* quoted as received, before the TTL changes (RFC 1812 §4.3.2.3) */
		ip_icmp_error(is, mp, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, ro.mtu);
		is->st_frag_fails++;
		ip_drop(is, NULL, mp, IP_DROP_DF);
		return;
	}
	/* RFC 1624 eqn. 3 for the TTL/protocol word. */
	uint16_t old, new_;
	memcpy(&old, &h->ttl, 2);
	h->ttl--;
	memcpy(&new_, &h->ttl, 2);
	h->sum = us_cksum_adjust16(h->sum, old, new_);
	(void)in;
	is->st_forw_datagrams++;
	if (ip_send_routed(is, &ro, mp, NULL) == EMSGSIZE) {
		ip_icmp_error(is, mp, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, ro.mtu);
		is->st_frag_fails++;
		ip_drop(is, NULL, mp, IP_DROP_DF);
	}
}

/* ------------------------------------------------------------------ */
/* Input                                                              */
/* ------------------------------------------------------------------ */

/* Where a datagram to dst goes: IP_IF_* flags for local delivery, 0 for
 * "not ours", or -1 for a martian destination. */
static int
ip_classify_dst(IpStack *is, uint32_t dst)
{
	if (g_hash_table_contains(is->is_local, GUINT_TO_POINTER(dst)))
		return IP_IF_LOOPBACK; /* any non-zero value: local unicast */
	if (dst == IP_BROADCAST || g_hash_table_contains(is->is_bcast, GUINT_TO_POINTER(dst)))
		return IP_IF_BROADCAST;
	if (ip_is_multicast(dst))
		return dst == g_htonl(0xe0000001u) ? IP_IF_MULTICAST : 0;
	if (ip_is_zeronet(dst) || ip_is_loopback(dst))
		return -1;
	return 0;
}

/* A datagram from interface ifp (consumes mp). */
void
ip_input(IpStack *is, IpIf *ifp, mblk_t *mp)
{
	is->st_in_receives++;
	ifp->if_ipackets++;
	ifp->if_ibytes += msgdsize(mp);
	if ((mp = ip_input_check(is, ifp, mp)) == NULL)
		return;
	const IpHdr *h = (const IpHdr *)mp->b_rptr;
	IP_PROBE(receive, is, ifp, h);
	if (ip_is_martian_src(is, h->src) ||
	    g_hash_table_contains(is->is_local, GUINT_TO_POINTER(h->src))) {
		ip_in_drop(is, ifp, mp, IP_DROP_MARTIAN_SRC);
		is->st_in_addr_errors++;
		return;
	}
	int cls = ip_classify_dst(is, h->dst);
	if (cls < 0) {
		is->st_in_addr_errors++;
		ip_in_drop(is, ifp, mp, IP_DROP_MARTIAN_DST);
		return;
	}
	if (ip_input_options(is, ifp, mp) != 0)
		return;
	if (cls > 0) {
		ip_input_local(is, ifp, mp, cls == IP_IF_LOOPBACK ? 0 : (guint32)cls);
		return;
	}
	if (!is->is_forwarding || ip_is_multicast(h->dst)) {
		is->st_in_addr_errors++;
		ip_in_drop(is, ifp, mp, IP_DROP_NOT_FOR_US);
		return;
	}
	ip_forward(is, ifp, mp);
}
