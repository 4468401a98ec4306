/* SPDX-License-Identifier: MIT */
/*
 * ip-output.c -- routing decisions, source selection, the IP header, IDs,
 * fragmentation, and IP_UNITDATA_REQ from transports.  Theory in ip.c
 * ("Output").
 */
#define G_LOG_DOMAIN "us-ip"

#include "inet-cksum.h"
#include "ip-impl.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Routing                                                            */
/* ------------------------------------------------------------------ */

/* The first running interface with an address (limited broadcast without a
 * source), or NULL. */
static IpIf *
ip_first_if(IpStack *is)
{
	for (guint i = 1; i < is->is_ifs->len; i++) {
		IpIf *ifp = g_ptr_array_index(is->is_ifs, i);
		if (ifp != NULL && ifp->if_naddrs > 0 && (ifp->if_flags & IP_IFF_RUNNING))
			return ifp;
	}
	return NULL;
}

static uint32_t
ip_path_mtu(IpStack *is, uint32_t dst, uint32_t mtu)
{
	guint learned = GPOINTER_TO_UINT(g_hash_table_lookup(is->is_pmtu, GUINT_TO_POINTER(dst)));
	return learned != 0 && learned < mtu ? learned : mtu;
}

static int
ip_route_local(IpStack *is, uint32_t dst, IpRouteOut *ro)
{
	ro->ifp = NULL;
	ro->nexthop = dst;
	ro->src = ip_is_loopback(dst) ? dst : dst;
	ro->mtu = IP_MAXPACKET;
	ro->flags = IP_RF_LOCAL;
	(void)is;
	return 0;
}

static int
ip_route_limited_bcast(IpStack *is, uint32_t src, uint32_t flags, IpRouteOut *ro)
{
	if (!(flags & IP_F_BROADCAST))
		return EACCES;
	IpIf *ifp = src != 0 ? g_hash_table_lookup(is->is_local, GUINT_TO_POINTER(src)) : NULL;
	if (ifp == NULL)
		ifp = ip_first_if(is);
	if (ifp == NULL)
		return ENETUNREACH;
	ro->ifp = ifp;
	ro->nexthop = IP_BROADCAST;
	ro->src = src != 0 ? src : ifp->if_addrs[0].addr;
	ro->mtu = ifp->if_mtu;
	ro->flags = IP_RF_BROADCAST;
	return 0;
}

/* Routes dst (network order).  src: a source the sender asked for (0: none);
 * flags: IP_F_BROADCAST, IP_F_DONTROUTE.  Returns 0 and fills *ro, or
 * ENETUNREACH (no route), EACCES (broadcast not allowed), EADDRNOTAVAIL (src
 * is not ours or no address to send from). */
int
ip_route_out(IpStack *is, uint32_t dst, uint32_t src, uint32_t flags, IpRouteOut *ro)
{
	memset(ro, 0, sizeof *ro);
	if (src != 0 && !g_hash_table_contains(is->is_local, GUINT_TO_POINTER(src)))
		return EADDRNOTAVAIL;
	if (ip_is_loopback(dst) || g_hash_table_contains(is->is_local, GUINT_TO_POINTER(dst)))
		return ip_route_local(is, dst, ro);
	if (dst == IP_BROADCAST)
		return ip_route_limited_bcast(is, src, flags, ro);
	if (ip_is_zeronet(dst))
		return ENETUNREACH;
	const IpRoute *r = ip_rt_lookup(is->is_rt, g_ntohl(dst));
	IpIf *ifp = r != NULL ? ip_if_by_index(is, r->ifindex) : NULL;
	if (ifp == NULL || ((flags & IP_F_DONTROUTE) && r->gateway != 0))
		return ENETUNREACH;
	ro->ifp = ifp;
	ro->gateway = g_htonl(r->gateway);
	ro->nexthop = r->gateway != 0 ? ro->gateway : dst;
	ro->metric = r->metric;
	ro->plen = r->plen;
	ro->mtu = ip_path_mtu(is, dst, r->mtu != 0 && r->mtu < ifp->if_mtu ? r->mtu : ifp->if_mtu);
	if (r->gateway != 0)
		ro->flags |= IP_RF_GATEWAY;
	if (g_hash_table_lookup(is->is_bcast, GUINT_TO_POINTER(dst)) == ifp) {
		if (!(flags & IP_F_BROADCAST))
			return EACCES;
		ro->nexthop = IP_BROADCAST; /* the link broadcast */
		ro->flags |= IP_RF_BROADCAST;
	}
	if (ip_is_multicast(dst))
		ro->flags |= IP_RF_MULTICAST;
	const IpAddr *a = ip_if_addr_for(ifp, ro->nexthop == IP_BROADCAST ? dst : ro->nexthop);
	ro->src = src != 0 ? src : r->src != 0 ? g_htonl(r->src) : a != NULL ? a->addr : 0;
	return ro->src != 0 ? 0 : EADDRNOTAVAIL;
}

/* ------------------------------------------------------------------ */
/* Headers and IDs                                                    */
/* ------------------------------------------------------------------ */

/* RFC 7739 §5.3: a counter per hash bucket of (src, dst, proto) with a
 * secret key, so that IDs seen by one peer say nothing about traffic to
 * others. */
uint16_t
ip_next_id(IpStack *is, uint32_t src, uint32_t dst, uint8_t proto)
{
	guint32 h = is->is_id_key;
	h ^= src;
	h *= 0x9e3779b1u;
	h ^= dst + proto;
	h *= 0x85ebca6bu;
	h ^= h >> 15;
	guint b = h % G_N_ELEMENTS(is->is_ids);
	guint16 id = ++is->is_ids[b];
	return g_htons(id);
}

static void
ip_fill_header(IpStack *is, uint8_t *p, size_t total, uint32_t src, uint32_t dst, uint8_t proto,
	       uint8_t ttl, uint8_t tos, gboolean df)
{
	IpHdr h = {
		.vhl = 0x45,
		.tos = tos,
		.len = g_htons((uint16_t)total),
		.id = ip_next_id(is, src, dst, proto),
		.off = g_htons(df ? IP_OFF_DF : 0),
		.ttl = ttl != 0 ? ttl : (uint8_t)is->is_ttl,
		.proto = proto,
		.sum = 0,
		.src = src,
		.dst = dst,
	};
	h.sum = us_cksum(&h, sizeof h);
	memcpy(p, &h, sizeof h);
}

/* Puts a 20-byte header in front of payload: in its headroom when private,
 * else in a new block with room for a link header.  NULL when no memory
 * (payload untouched). */
mblk_t *
ip_prepend_header(IpStack *is, mblk_t *payload, uint32_t src, uint32_t dst, uint8_t proto,
		  uint8_t ttl, uint8_t tos, gboolean df)
{
	size_t total = msgdsize(payload) + IP_HDR_MIN;
	mblk_t *mp = payload;
	if (DB_REF(payload) == 1 && MBLKHEAD(payload) >= IP_HDR_MIN && DB_TYPE(payload) == M_DATA) {
		payload->b_rptr -= IP_HDR_MIN;
	} else {
		mp = allocb(IP_LINK_HEADROOM + IP_HDR_MIN, BPRI_MED);
		if (mp == NULL)
			return NULL;
		mp->b_rptr += IP_LINK_HEADROOM;
		mp->b_wptr = mp->b_rptr + IP_HDR_MIN;
		mp->b_cont = payload;
		us_offload_copy(mp, payload); /* HW_LSO from tcp: the packet's mark */
	}
	ip_fill_header(is, mp->b_rptr, total, src, dst, proto, ttl, tos, df);
	return mp;
}

/* ------------------------------------------------------------------ */
/* Fragmentation (RFC 791 §3.2, "An Example Fragmentation Procedure")  */
/* ------------------------------------------------------------------ */

/* dupb()s of the bytes [off, off + len) of mp's chain; NULL without memory. */
mblk_t *
ip_msg_range(mblk_t *mp, size_t off, size_t len)
{
	mblk_t *head = NULL, **tail = &head;
	for (; mp != NULL && len > 0; mp = mp->b_cont) {
		size_t n = MBLKL(mp);
		if (off >= n) {
			off -= n;
			continue;
		}
		mblk_t *d = dupb(mp);
		if (d == NULL) {
			freemsg(head);
			return NULL;
		}
		d->b_rptr += off;
		if ((size_t)(d->b_wptr - d->b_rptr) > len)
			d->b_wptr = d->b_rptr + len;
		len -= MBLKL(d);
		off = 0;
		*tail = d;
		tail = &d->b_cont;
	}
	return head;
}

/* The header for fragments after the first: the fixed part and the options
 * with the copy flag (RFC 791 §3.1 "copied flag"), padded.  Returns its
 * length. */
static size_t
ip_frag_header(const uint8_t *h, size_t hlen, uint8_t *out)
{
	memcpy(out, h, IP_HDR_MIN);
	size_t o = IP_HDR_MIN;
	for (size_t i = IP_HDR_MIN; i < hlen;) {
		uint8_t type = h[i];
		if (type == 0)
			break;
		if (type == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hlen)
			break;
		uint8_t olen = h[i + 1];
		if (olen < 2 || i + olen > hlen)
			break; /* malformed: the rest is not copied (checked on input) */
		if (type & 0x80) {
			memcpy(out + o, h + i, olen);
			o += olen;
		}
		i += olen;
	}
	while (o % 4)
		out[o++] = 0;
	out[0] = (uint8_t)(0x40 | (o / 4));
	return o;
}

/* One fragment: header hdr (hlen bytes) with offset/MF set, then the data
 * [doff, doff + dlen) of the datagram's payload. */
static mblk_t *
ip_make_fragment(mblk_t *dgram, size_t phoff, const uint8_t *hdr, size_t hlen, size_t doff,
		 size_t dlen, uint16_t offbits)
{
	mblk_t *hp = allocb(IP_LINK_HEADROOM + hlen, BPRI_MED);
	if (hp == NULL)
		return NULL;
	hp->b_rptr += IP_LINK_HEADROOM;
	hp->b_wptr = hp->b_rptr + hlen;
	memcpy(hp->b_rptr, hdr, hlen);
	IpHdr *h = (IpHdr *)hp->b_rptr;
	h->len = g_htons((uint16_t)(hlen + dlen));
	h->off = g_htons(offbits);
	h->sum = 0;
	h->sum = us_cksum(hp->b_rptr, hlen);
	hp->b_cont = ip_msg_range(dgram, phoff + doff, dlen);
	if (hp->b_cont == NULL && dlen > 0) {
		freeb(hp);
		return NULL;
	}
	return hp;
}

/* Splits dgram (header contiguous in its first block) into fragments of at
 * most mtu bytes and sends them to ro (consumes dgram). */
static void
ip_fragment(IpStack *is, const IpRouteOut *ro, mblk_t *dgram)
{
	const uint8_t *h = dgram->b_rptr;
	size_t hlen = (size_t)(h[0] & 0x0f) * 4;
	size_t plen = msgdsize(dgram) - hlen;
	uint16_t off0 = g_ntohs(((const IpHdr *)h)->off);
	uint8_t later[IP_HDR_MAX];
	size_t later_len = ip_frag_header(h, hlen, later);
	size_t done = 0;
	guint n = 0;
	while (done < plen) {
		size_t hl = done == 0 ? hlen : later_len;
		size_t room = ro->mtu > hl ? ((ro->mtu - hl) & ~(size_t)7) : 0;
		if (room == 0) { /* a header as large as the MTU: cannot fragment */
			is->st_frag_fails++;
			ip_drop(is, NULL, NULL, IP_DROP_DF);
			break;
		}
		size_t dlen = plen - done <= ro->mtu - hl ? plen - done : room;
		gboolean last = done + dlen == plen;
		uint16_t bits = (uint16_t)((off0 & IP_OFF_DF) | ((off0 & IP_OFF_MASK) + done / 8));
		if (!last || (off0 & IP_OFF_MF))
			bits |= IP_OFF_MF;
		mblk_t *f =
			ip_make_fragment(dgram, hlen, done == 0 ? h : later, hl, done, dlen, bits);
		if (f == NULL) {
			is->st_frag_fails++;
			ip_drop(is, NULL, NULL, IP_DROP_NOMEM);
			break;
		}
		ip_if_send(ro->ifp, ro->nexthop, f);
		n++;
		done += dlen;
	}
	if (done == plen)
		is->st_frag_oks++;
	is->st_frag_creates += n;
	freemsg(dgram);
}

/* Sends a whole datagram along ro.  Returns 0 (mp consumed) or EMSGSIZE
 * (DF set and larger than the MTU -- for a HW_LSO segment, its segments
 * would be; mp still the caller's).  Offloads the interface lacks are done
 * here (ip-offload.c). */
int
ip_send_routed(IpStack *is, const IpRouteOut *ro, mblk_t *mp, queue_t *anchor)
{
	if (ro->ifp == NULL) {
		IP_PROBE(send, is, NULL, (const IpHdr *)mp->b_rptr);
		g_queue_push_tail(&is->is_loopback, mp);
		if (anchor == NULL)
			anchor = us_mux_uppers_any_rq(is->is_uppers);
		if (anchor != NULL)
			qenable(anchor);
		return 0;
	}
	uint16_t fl = DB_CKSUMFLAGS(mp);
	size_t len = msgdsize(mp), wire = (fl & HW_LSO) ? ip_wire_len(mp) : len;
	gboolean df = (g_ntohs(((const IpHdr *)mp->b_rptr)->off) & IP_OFF_DF) != 0;
	if (wire > ro->mtu && df)
		return EMSGSIZE;
	if (fl & HW_LSO) {
		if (len <= ro->ifp->if_lso_max && wire <= ro->mtu)
			ip_if_send(ro->ifp, ro->nexthop, mp);
		else
			ip_lso_send(is, ro, mp);
		return 0;
	}
	if ((fl & HCK_PARTIALCKSUM) && (!ro->ifp->if_hcksum || len > ro->mtu) &&
	    !ip_partial_finish(&mp)) {
		is->st_out_discards++;
		ip_drop(is, NULL, mp, IP_DROP_BAD_OFFLOAD);
		return 0;
	}
	if (len <= ro->mtu)
		ip_if_send(ro->ifp, ro->nexthop, mp);
	else
		ip_fragment(is, ro, mp);
	return 0;
}

/* ------------------------------------------------------------------ */
/* IP_UNITDATA_REQ                                                    */
/* ------------------------------------------------------------------ */

/* Tells the transport on wq that a datagram to dst failed (consumes
 * payload, which goes back with the indication). */
void
ip_uderror(IpStack *is, queue_t *wq, uint32_t dst, uint32_t proto, int error, uint32_t cookie,
	   mblk_t *payload)
{
	is->st_out_discards++;
	mblk_t *mp = allocb(sizeof(struct ip_uderror_ind), BPRI_MED);
	if (mp == NULL) {
		us_drop(wq, payload, IP_DROP_NOMEM);
		return;
	}
	struct ip_uderror_ind ue = { .prim = IP_UDERROR_IND,
				     .dst = dst,
				     .proto = proto,
				     .error = (uint32_t)error,
				     .cookie = cookie };
	memcpy(mp->b_wptr, &ue, sizeof ue);
	mp->b_wptr += sizeof ue;
	DB_TYPE(mp) = M_PROTO;
	mp->b_cont = payload;
	qreply(wq, mp);
}

/* Fills in the transport checksum (IP_F_CKSUM), or only its pseudo-header
 * part when partial (HCK_PARTIALCKSUM: the interface, or the receiving
 * transport, does the rest; ip-offload.c).  Returns FALSE when the offset
 * is outside the payload. */
static gboolean
ip_transport_cksum(mblk_t **pp, const struct ip_unitdata_req *ur, uint32_t src, gboolean partial)
{
	size_t len = msgdsize(*pp);
	if ((size_t)ur->cksum_off + 2 > len || len > IP_MAXPACKET)
		return FALSE;
	mblk_t *np = ip_pullup_writable(*pp, ur->cksum_off + 2);
	if (np == NULL)
		return FALSE;
	*pp = np;
	uint64_t sum = us_cksum_pseudo(src, ur->dst, ur->proto, (uint16_t)len);
	if (partial) {
		uint16_t seed = us_cksum_fold(sum);
		memcpy(np->b_rptr + ur->cksum_off, &seed, 2);
		ip_partial_mark(np, IP_HDR_MIN, ur->cksum_off); /* ip_prepend_header's */
		return TRUE;
	}
	DB_CKSUMFLAGS(np) &= (uint16_t)~HCK_PARTIALCKSUM;
	memset(np->b_rptr + ur->cksum_off, 0, 2);
	sum = us_cksum_mblk(sum, np, 0, len);
	uint16_t c = us_cksum_finish(sum);
	if (c == 0 && (ur->flags & IP_F_CKSUM_UDP))
		c = 0xffff;
	memcpy(np->b_rptr + ur->cksum_off, &c, 2);
	return TRUE;
}

/* IP_HDRINCL: the header is the sender's; ip fills in the length, the ID
 * when 0, the source when 0, and the checksum (as Linux raw(7) does). */
static int
ip_hdrincl(IpStack *is, mblk_t **pp, struct ip_unitdata_req *ur)
{
	size_t len = msgdsize(*pp);
	mblk_t *np = len >= IP_HDR_MIN && len <= IP_MAXPACKET ? ip_pullup_writable(*pp, IP_HDR_MIN)
							      : NULL;
	if (np == NULL)
		return EINVAL;
	*pp = np;
	IpHdr *h = (IpHdr *)np->b_rptr;
	size_t hlen = (size_t)(h->vhl & 0x0f) * 4;
	if ((h->vhl >> 4) != 4 || hlen < IP_HDR_MIN || hlen > len)
		return EINVAL;
	if (hlen > IP_HDR_MIN && (np = ip_pullup_writable(np, hlen)) != NULL &&
	    ip_check_options(np->b_rptr, hlen) != 0) {
		*pp = np;
		return EINVAL; /* options a receiver would refuse */
	}
	if (np == NULL)
		return ENOBUFS;
	*pp = np;
	if ((np = ip_pullup_writable(np, hlen)) == NULL)
		return ENOBUFS;
	*pp = np;
	h = (IpHdr *)np->b_rptr;
	ur->dst = h->dst;
	ur->proto = h->proto;
	h->len = g_htons((uint16_t)len);
	if (h->id == 0)
		h->id = ip_next_id(is, h->src, h->dst, h->proto);
	return 0;
}

static int
ip_output_build(IpStack *is, struct ip_unitdata_req *ur, mblk_t **pp, const IpRouteOut *ro)
{
	if (ur->flags & IP_F_HDRINCL) {
		IpHdr *h = (IpHdr *)(*pp)->b_rptr;
		if (h->src == 0)
			h->src = ro->src;
		h->sum = 0;
		h->sum = us_cksum(h, (size_t)(h->vhl & 0x0f) * 4);
		return 0;
	}
	/* A HW_LSO segment's checksums are done per segment in any case. */
	gboolean partial = ro->ifp == NULL || ro->ifp->if_hcksum || (DB_CKSUMFLAGS(*pp) & HW_LSO);
	if ((ur->flags & IP_F_CKSUM) && !ip_transport_cksum(pp, ur, ro->src, partial))
		return EINVAL;
	if (msgdsize(*pp) + IP_HDR_MIN > IP_MAXPACKET)
		return EMSGSIZE;
	mblk_t *mp = ip_prepend_header(is, *pp, ro->src, ur->dst, ur->proto, ur->ttl, ur->tos,
				       (ur->flags & IP_F_DF) != 0);
	if (mp == NULL)
		return ENOBUFS;
	*pp = mp;
	return 0;
}

/* An IP_UNITDATA_REQ from the transport on wq.  Returns EAGAIN (mp still the
 * caller's; wq waits for the interface) or 0 (mp consumed: sent, or
 * answered with IP_UDERROR_IND). */
int
ip_output_req(IpStack *is, queue_t *wq, mblk_t *mp)
{
	struct ip_unitdata_req ur;
	mblk_t *payload = mp->b_cont;
	if (MBLKL(mp) < sizeof ur || payload == NULL || DB_TYPE(payload) != M_DATA) {
		us_drop(wq, mp, IP_DROP_BADPRIM);
		return 0;
	}
	memcpy(&ur, mp->b_rptr, sizeof ur);
	int err = 0;
	if ((ur.flags & IP_F_HDRINCL) && (err = ip_hdrincl(is, &mp->b_cont, &ur)) != 0)
		goto fail;
	IpRouteOut ro;
	if ((err = ip_route_out(is, ur.dst, ur.src, ur.flags, &ro)) != 0) {
		if (err == ENETUNREACH)
			is->st_out_no_routes++;
		goto fail;
	}
	if (ro.ifp != NULL && !ip_if_canput(ro.ifp)) {
		us_mux_lower_wait(ro.ifp->if_lower, wq);
		return EAGAIN;
	}
	if ((err = ip_output_build(is, &ur, &mp->b_cont, &ro)) != 0)
		goto fail;
	payload = mp->b_cont;
	mp->b_cont = NULL;
	is->st_out_requests++;
	if (ip_send_routed(is, &ro, payload, RD(wq)) == EMSGSIZE) {
		is->st_frag_fails++;
		if (!(ur.flags & IP_F_HDRINCL))
			(void)adjmsg(payload, IP_HDR_MIN); /* back to the transport's payload */
		mp->b_cont = payload;
		err = EMSGSIZE;
		goto fail;
	}
	freeb(mp);
	return 0;
fail:
	payload = mp->b_cont;
	mp->b_cont = NULL;
	freeb(mp);
	ip_uderror(is, wq, ur.dst, ur.proto, err, ur.cookie, payload);
	return 0;
}
