/* SPDX-License-Identifier: MIT */
/*
 * ip-offload.c -- checksum and segmentation offload: what an interface
 * advertises (DL_CAPABILITY_ACK), partial checksums on output, and the
 * software fallbacks when a packet's offloads meet an interface without them.
 *
 * Theory
 * ------
 * At link time ip asks the interface stream for its capabilities
 * (DL_CAPABILITY_REQ).  An interface whose driver completes partial
 * checksums (DL_CAPAB_HCKSUM, HCKSUM_INET_PARTIAL) is sent transport
 * checksums left partial: ip stores only the pseudo-header sum and marks the
 * packet HCK_PARTIALCKSUM (stream.h), saving a pass over every byte.  One
 * that also segments (DL_CAPAB_LSO) takes TCP segments of up to lso_max bytes
 * marked HW_LSO by tcp; IP_ROUTE_ACK tells tcp the limit of the route's
 * interface, so tcp builds such segments only where they can go.
 *
 * Packets keep their marks across ip: a forwarded packet received from a TAP
 * may be partial or coalesced (HW_LSO).  Whenever a marked packet is to leave
 * by a way that cannot honour the mark, ip does the work itself, as Linux's
 * skb_checksum_help and GSO do:
 *  - HW_LSO toward an interface without LSO (or above its lso_max): cut into
 *    segments of db_lsomss payload bytes, each with its own IP header (IDs
 *    counting up from the original's, as the kernel's segmenter does), its
 *    sequence number, FIN and PSH only on the last, CWR only on the first;
 *  - HCK_PARTIALCKSUM toward an interface without it, or to be fragmented:
 *    the checksum completed in software.
 * Local delivery (loopback) keeps the marks: the receiving transport takes
 * a partial checksum as verified and accepts a segment of any size.
 */
#define G_LOG_DOMAIN "us-ip"

#include "inet-cksum.h"
#include "ip-impl.h"

#include <netinet/in.h>
#include <string.h>
#include <ustreams/dlpi.h>

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_CWR 0x80

/* ------------------------------------------------------------------ */
/* Capabilities                                                       */
/* ------------------------------------------------------------------ */

void
ip_if_ask_capab(IpIf *ifp)
{
	dl_capability_req_t cr = { .dl_primitive = DL_CAPABILITY_REQ };
	if (!us_mux_lower_send_proto(ifp->if_lower, &cr, sizeof cr))
		g_message("%s: no memory for DL_CAPABILITY_REQ", ifp->if_name);
}

/* One sub-capability of a DL_CAPABILITY_ACK. */
static void
ip_if_capab_one(IpIf *ifp, t_uscalar_t cap, const uint8_t *body, size_t len)
{
	if (cap == DL_CAPAB_HCKSUM && len >= sizeof(dl_capab_hcksum_t)) {
		dl_capab_hcksum_t hc;
		memcpy(&hc, body, sizeof hc);
		ifp->if_hcksum = (hc.hcksum_txflags & HCKSUM_INET_PARTIAL) != 0;
	} else if (cap == DL_CAPAB_LSO && len >= sizeof(dl_capab_lso_t)) {
		dl_capab_lso_t lso;
		memcpy(&lso, body, sizeof lso);
		if ((lso.lso_flags & LSO_TX_BASIC_TCP_IPV4) && lso.lso_max > IP_HDR_MIN)
			ifp->if_lso_max = MIN(lso.lso_max, IP_MAXPACKET);
	}
}

void
ip_if_capab_ack(IpIf *ifp, mblk_t *mp)
{
	dl_capability_ack_t ack;
	if (MBLKL(mp) < sizeof ack)
		return;
	memcpy(&ack, mp->b_rptr, sizeof ack);
	size_t have = MBLKL(mp);
	if (ack.dl_sub_offset > have || ack.dl_sub_length > have - ack.dl_sub_offset)
		return;
	ifp->if_hcksum = FALSE;
	ifp->if_lso_max = 0;
	const uint8_t *p = mp->b_rptr + ack.dl_sub_offset;
	size_t left = ack.dl_sub_length;
	while (left >= sizeof(dl_capability_sub_t)) {
		dl_capability_sub_t sub;
		memcpy(&sub, p, sizeof sub);
		if (sub.dl_length > left - sizeof sub)
			break;
		ip_if_capab_one(ifp, sub.dl_cap, p + sizeof sub, sub.dl_length);
		p += sizeof sub + sub.dl_length;
		left -= sizeof sub + sub.dl_length;
	}
	if (!ifp->if_hcksum)
		ifp->if_lso_max = 0; /* segments always leave with partial checksums */
}

/* ------------------------------------------------------------------ */
/* Partial checksums                                                  */
/* ------------------------------------------------------------------ */

void
ip_partial_mark(mblk_t *mp, size_t hlen, size_t cksum_off)
{
	DB_CKSUMFLAGS(mp) |= HCK_PARTIALCKSUM;
	DB_CKSUMSTART(mp) = (uint16_t)hlen;
	DB_CKSUMSTUFF(mp) = (uint16_t)(hlen + cksum_off);
}

gboolean
ip_partial_finish(mblk_t **pp)
{
	mblk_t *mp = *pp;
	size_t len = msgdsize(mp), start = DB_CKSUMSTART(mp), stuff = DB_CKSUMSTUFF(mp);
	if (stuff + 2 > len || start > stuff || len < IP_HDR_MIN)
		return FALSE;
	if ((mp = ip_pullup_writable(mp, stuff + 2)) == NULL)
		return FALSE;
	*pp = mp;
	us_cksum_complete(mp, 0, start, stuff);
	DB_CKSUMFLAGS(mp) &= (uint16_t)~HW_LSO;
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Software segmentation                                              */
/* ------------------------------------------------------------------ */

/* The geometry of a HW_LSO packet: IP and TCP header lengths, checked. */
static gboolean
ip_lso_geometry(mblk_t **pp, size_t *iphl, size_t *thl)
{
	mblk_t *mp = *pp;
	size_t len = msgdsize(mp);
	/* HW_LSO comes with HCK_PARTIALCKSUM (stream.h): without it the
	 * checksum is a full one, or damaged, and fresh ones would hide that. */
	if (len < IP_HDR_MIN + 20 || DB_LSOMSS(mp) == 0 || mp->b_rptr[9] != IPPROTO_TCP ||
	    !(DB_CKSUMFLAGS(mp) & HCK_PARTIALCKSUM))
		return FALSE;
	*iphl = (size_t)(mp->b_rptr[0] & 0x0f) * 4;
	if (*iphl < IP_HDR_MIN || *iphl + 20 > len ||
	    (mp = ip_pullup_writable(mp, *iphl + 20)) == NULL)
		return FALSE;
	*pp = mp;
	*thl = (size_t)(mp->b_rptr[*iphl + 12] >> 4) * 4;
	if (*thl < 20 || *iphl + *thl > len || (mp = ip_pullup_writable(mp, *iphl + *thl)) == NULL)
		return FALSE;
	*pp = mp;
	return TRUE;
}

size_t
ip_wire_len(mblk_t *mp)
{
	if (!(DB_CKSUMFLAGS(mp) & HW_LSO) || MBLKL(mp) < IP_HDR_MIN)
		return msgdsize(mp);
	size_t iphl = (size_t)(mp->b_rptr[0] & 0x0f) * 4;
	size_t thl = MBLKL(mp) >= iphl + 13 ? (size_t)(mp->b_rptr[iphl + 12] >> 4) * 4 : 20;
	return MIN(msgdsize(mp), iphl + thl + DB_LSOMSS(mp));
}

/* Segment i of the HW_LSO packet mp (headers hl = iphl + thl contiguous):
 * payload [off, off + n) of it, its checksum partial.  NULL without memory. */
static mblk_t *
ip_lso_segment(mblk_t *mp, size_t iphl, size_t thl, size_t off, size_t n, guint i, gboolean last)
{
	size_t hl = iphl + thl;
	mblk_t *hp = allocb(IP_LINK_HEADROOM + hl, BPRI_MED);
	if (hp == NULL)
		return NULL;
	hp->b_rptr += IP_LINK_HEADROOM;
	hp->b_wptr = hp->b_rptr + hl;
	memcpy(hp->b_rptr, mp->b_rptr, hl);
	if (n > 0 && (hp->b_cont = ip_msg_range(mp, hl + off, n)) == NULL) {
		freeb(hp);
		return NULL;
	}
	uint8_t *h = hp->b_rptr, *th = h + iphl;
	IpHdr *ih = (IpHdr *)h;
	ih->len = g_htons((uint16_t)(hl + n));
	ih->id = g_htons((uint16_t)(g_ntohs(ih->id) + i));
	ih->sum = 0;
	ih->sum = us_cksum(h, iphl);
	uint32_t seq;
	memcpy(&seq, th + 4, 4);
	seq = g_htonl(g_ntohl(seq) + (uint32_t)off);
	memcpy(th + 4, &seq, 4);
	if (!last)
		th[13] &= (uint8_t) ~(TCP_FLAG_FIN | TCP_FLAG_PSH);
	if (i > 0)
		th[13] &= (uint8_t)~TCP_FLAG_CWR;
	uint16_t seed =
		us_cksum_fold(us_cksum_pseudo(ih->src, ih->dst, IPPROTO_TCP, (uint16_t)(thl + n)));
	memcpy(th + 16, &seed, 2);
	ip_partial_mark(hp, iphl, 16);
	return hp;
}

void
ip_lso_send(IpStack *is, const IpRouteOut *ro, mblk_t *mp)
{
	size_t iphl, thl;
	if (!ip_lso_geometry(&mp, &iphl, &thl)) {
		is->st_out_discards++;
		ip_drop(is, NULL, mp, IP_DROP_BAD_OFFLOAD);
		return;
	}
	size_t mss = DB_LSOMSS(mp), plen = msgdsize(mp) - iphl - thl;
	guint i = 0;
	for (size_t off = 0; i == 0 || off < plen; off += mss, i++) {
		size_t n = MIN(mss, plen - off);
		mblk_t *seg = ip_lso_segment(mp, iphl, thl, off, n, i, off + n >= plen);
		if (seg == NULL) {
			is->st_out_discards++;
			ip_drop(is, NULL, NULL, IP_DROP_NOMEM);
			break;
		}
		is->st_lso_segments++;
		if (ip_send_routed(is, ro, seg, NULL) == EMSGSIZE) {
			is->st_frag_fails++;
			ip_drop(is, NULL, seg, IP_DROP_DF); /* the caller checked ip_wire_len */
		}
	}
	is->st_lso_split++;
	freemsg(mp);
}
