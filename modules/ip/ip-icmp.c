/* SPDX-License-Identifier: MIT */
/*
 * ip-icmp.c -- ICMP (RFC 792) inside ip: echo replies, errors received and
 * passed to the transport they concern, and errors generated with the rules
 * of RFC 1122 §3.2.2 and RFC 1812 §4.3.2 and a rate limit.  Theory in ip.c
 * ("ICMP").
 */
#define G_LOG_DOMAIN "us-ip"

#include "inet-cksum.h"
#include "ip-impl.h"

#include <errno.h>
#include <string.h>

#define ICMP_QUOTE_MAX 576 /* RFC 1812 §4.3.2.3: the error fits in 576 bytes */
#define IP_PMTU_MIN 68     /* RFC 791: every host takes 68 bytes */

/* ------------------------------------------------------------------ */
/* Errors received                                                    */
/* ------------------------------------------------------------------ */

/* The errno a socket sees for an ICMP error (as Linux maps them). */
static int
ip_icmp_errno(uint8_t type, uint8_t code)
{
	if (type == ICMP_TIMXCEED)
		return EHOSTUNREACH;
	if (type == ICMP_PARAMPROB)
		return EPROTO;
	switch (code) {
	case ICMP_UNREACH_NET: return ENETUNREACH;
	case ICMP_UNREACH_HOST: return EHOSTUNREACH;
	case ICMP_UNREACH_PROTOCOL: return ENOPROTOOPT;
	case ICMP_UNREACH_PORT: return ECONNREFUSED;
	case ICMP_UNREACH_NEEDFRAG: return EMSGSIZE;
	case 5: return EOPNOTSUPP; /* source route failed */
	case 6: return ENETUNREACH;
	case 7: return EHOSTDOWN;
	default: return EHOSTUNREACH;
	}
}

/* Sends the quoted datagram q (its IP header first) to the transport of its
 * protocol as IP_ICMP_IND (consumes q). */
static void
ip_icmp_to_transport(IpStack *is, uint32_t reporter, mblk_t *q, uint8_t type, uint8_t code,
		     uint32_t info)
{
	IpHdr qh;
	us_msgcopyout(q, 0, &qh, sizeof qh);
	IpUpper *up = is->is_proto[qh.proto];
	if (up == NULL || !canputnext(up->up_rq)) {
		freemsg(q); /* nobody to tell: not a drop of a datagram */
		return;
	}
	mblk_t *ind = allocb(sizeof(struct ip_icmp_ind), BPRI_MED);
	if (ind == NULL) {
		ip_drop(is, NULL, q, IP_DROP_NOMEM);
		return;
	}
	struct ip_icmp_ind ii = {
		.prim = IP_ICMP_IND,
		.reporter = reporter,
		.type = type,
		.code = code,
		.info = info,
		.error = (uint32_t)ip_icmp_errno(type, code),
	};
	memcpy(ind->b_wptr, &ii, sizeof ii);
	ind->b_wptr += sizeof ii;
	DB_TYPE(ind) = M_PROTO;
	ind->b_cont = q;
	putnext(up->up_rq, ind);
}

/* Fragmentation needed: remember the smaller path MTU (RFC 1191 §3). */
static void
ip_icmp_learn_pmtu(IpStack *is, uint32_t dst, uint32_t mtu)
{
	if (mtu < IP_PMTU_MIN)
		mtu = IP_PMTU_MIN;
	guint old = GPOINTER_TO_UINT(g_hash_table_lookup(is->is_pmtu, GUINT_TO_POINTER(dst)));
	if (old != 0 && old <= mtu)
		return;
	if (g_hash_table_size(is->is_pmtu) >= 4096)
		g_hash_table_remove_all(is->is_pmtu); /* bounded */
	g_hash_table_insert(is->is_pmtu, GUINT_TO_POINTER(dst), GUINT_TO_POINTER(mtu));
}

void
ip_icmp_local_error(IpStack *is, uint32_t reporter, const mblk_t *orig, uint8_t type, uint8_t code,
		    uint32_t info)
{
	mblk_t *q = dupmsg((mblk_t *)orig);
	if (q == NULL) {
		ip_drop(is, NULL, NULL, IP_DROP_NOMEM);
		return;
	}
	ip_icmp_to_transport(is, reporter, q, type, code, info);
}

/* An ICMP error received: mp is the whole datagram, icmp at hlen.  Returns
 * FALSE when the quote is malformed. */
static gboolean
ip_icmp_input_error(IpStack *is, mblk_t *mp, size_t hlen, const uint8_t *icmp)
{
	size_t qoff = hlen + ICMP_HDR_LEN;
	size_t total = msgdsize(mp);
	IpHdr qh;
	if (total < qoff + IP_HDR_MIN + 8)
		return FALSE;
	us_msgcopyout(mp, qoff, &qh, sizeof qh);
	size_t qhl = (size_t)(qh.vhl & 0x0f) * 4;
	if ((qh.vhl >> 4) != 4 || qhl < IP_HDR_MIN || total < qoff + qhl + 8)
		return FALSE;
	uint32_t info = 0;
	if (icmp[0] == ICMP_UNREACH && icmp[1] == ICMP_UNREACH_NEEDFRAG) {
		info = ((uint32_t)icmp[6] << 8) | icmp[7];
		ip_icmp_learn_pmtu(is, qh.dst, info);
	} else if (icmp[0] == ICMP_PARAMPROB) {
		info = icmp[4];
	}
	mblk_t *q = dupmsg(mp);
	if (q == NULL)
		return TRUE;
	(void)adjmsg(q, (ssize_t)qoff);
	const IpHdr *h = (const IpHdr *)mp->b_rptr;
	ip_icmp_to_transport(is, h->src, q, icmp[0], icmp[1], info);
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Echo                                                               */
/* ------------------------------------------------------------------ */

/* Turns the echo request mp (whole datagram, header hlen) into the reply
 * and sends it (consumes mp). */
static void
ip_icmp_echo_reply(IpStack *is, mblk_t *mp, size_t hlen, guint32 flags)
{
	IpHdr h;
	memcpy(&h, mp->b_rptr, sizeof h);
	if ((flags & (IP_IF_BROADCAST | IP_IF_MULTICAST)) || !is->is_echo_reply) {
		freemsg(mp); /* RFC 1122 §3.2.2.6: MAY ignore; Linux does */
		return;
	}
	mblk_t *np = ip_pullup_writable(mp, hlen + ICMP_HDR_LEN);
	if (np == NULL) {
		ip_drop(is, NULL, mp, IP_DROP_NOMEM);
		return;
	}
	mp = np;
	uint8_t *icmp = mp->b_rptr + hlen;
	uint16_t old, new_, sum;
	memcpy(&old, icmp, 2);
	icmp[0] = ICMP_ECHOREPLY;
	memcpy(&new_, icmp, 2);
	memcpy(&sum, icmp + 2, 2);
	sum = us_cksum_adjust16(sum, old, new_);
	memcpy(icmp + 2, &sum, 2);
	mp->b_rptr += hlen; /* the old header's room takes the new one */
	IpRouteOut ro;
	mblk_t *out = NULL;
	if (ip_route_out(is, h.src, h.dst, 0, &ro) != 0 ||
	    (out = ip_prepend_header(is, mp, ro.src, h.src, IP_PROTO_ICMP, 0, h.tos, FALSE)) ==
		    NULL) {
		is->st_icmp_out_errors++;
		ip_drop(is, NULL, mp, IP_DROP_NO_ROUTE);
		return;
	}
	is->st_icmp_out_msgs++;
	is->st_icmp_out_echo_reps++;
	is->st_out_requests++;
	if (ip_send_routed(is, &ro, out, NULL) == EMSGSIZE)
		ip_drop(is, NULL, out, IP_DROP_DF);
}

/* ------------------------------------------------------------------ */
/* Input                                                              */
/* ------------------------------------------------------------------ */

static void
ip_icmp_count_in(IpStack *is, uint8_t type)
{
	switch (type) {
	case ICMP_ECHO: is->st_icmp_in_echos++; break;
	case ICMP_ECHOREPLY: is->st_icmp_in_echo_reps++; break;
	case ICMP_UNREACH: is->st_icmp_in_dest_unreachs++; break;
	case ICMP_TIMXCEED: is->st_icmp_in_time_excds++; break;
	case ICMP_PARAMPROB: is->st_icmp_in_parm_probs++; break;
	default: break;
	}
}

/* An ICMP datagram for us (consumes mp).  Checked, acted on, and copied to
 * the raw binding. */
void
ip_icmp_input(IpStack *is, IpIf *ifp, mblk_t *mp, guint32 flags)
{
	size_t hlen = (size_t)(mp->b_rptr[0] & 0x0f) * 4;
	size_t len = msgdsize(mp) - hlen;
	uint8_t icmp[ICMP_HDR_LEN];
	is->st_icmp_in_msgs++;
	if (len < ICMP_HDR_LEN || us_cksum_finish(us_cksum_mblk(0, mp, hlen, len)) != 0) {
		is->st_icmp_in_errors++;
		ip_drop(is, NULL, mp, IP_DROP_ICMP_BAD);
		return;
	}
	us_msgcopyout(mp, hlen, icmp, sizeof icmp);
	ip_icmp_count_in(is, icmp[0]);
	if ((icmp[0] == ICMP_UNREACH || icmp[0] == ICMP_TIMXCEED || icmp[0] == ICMP_PARAMPROB) &&
	    !ip_icmp_input_error(is, mp, hlen, icmp)) {
		is->st_icmp_in_errors++;
		ip_drop(is, NULL, mp, IP_DROP_ICMP_BAD);
		return;
	}
	if (is->is_raw != NULL) {
		mblk_t *cp = dupmsg(mp);
		if (cp != NULL)
			ip_deliver_up(is, is->is_raw, ifp, cp, flags);
	}
	if (icmp[0] == ICMP_ECHO)
		ip_icmp_echo_reply(is, mp, hlen, flags);
	else
		freemsg(mp);
}

/* ------------------------------------------------------------------ */
/* Errors generated                                                   */
/* ------------------------------------------------------------------ */

/* Token bucket on the world clock. */
static gboolean
ip_icmp_allowed(IpStack *is)
{
	gint64 now = ip_now(is);
	double burst = (double)is->is_icmp_burst;
	is->is_icmp_tokens += (double)(now - is->is_icmp_last) * (double)is->is_icmp_rate / 1e9;
	is->is_icmp_last = now;
	if (is->is_icmp_tokens > burst)
		is->is_icmp_tokens = burst;
	if (is->is_icmp_tokens < 1.0)
		return FALSE;
	is->is_icmp_tokens -= 1.0;
	return TRUE;
}

/* RFC 1122 §3.2.2 and RFC 1812 §4.3.2.7: may an error be sent about orig? */
static gboolean
ip_icmp_may_answer(IpStack *is, const mblk_t *orig, const IpHdr *h)
{
	if (g_ntohs(h->off) & IP_OFF_MASK)
		return FALSE; /* not the first fragment */
	if (ip_is_martian_src(is, h->src))
		return FALSE;
	if (h->dst == IP_BROADCAST || ip_is_multicast(h->dst) ||
	    g_hash_table_contains(is->is_bcast, GUINT_TO_POINTER(h->dst)))
		return FALSE;
	if (h->proto == IP_PROTO_ICMP) {
		size_t hlen = (size_t)(h->vhl & 0x0f) * 4;
		uint8_t type = 0;
		if (us_msgcopyout(orig, hlen, &type, 1) != 1)
			return FALSE;
		if (type != ICMP_ECHO && type != ICMP_ECHOREPLY && type != 13 && type != 14 &&
		    type != 15 && type != 16 && type != 17 && type != 18)
			return FALSE; /* never about an ICMP error */
	}
	return TRUE;
}

static void
ip_icmp_count_out(IpStack *is, uint8_t type)
{
	is->st_icmp_out_msgs++;
	if (type == ICMP_UNREACH)
		is->st_icmp_out_dest_unreachs++;
	else if (type == ICMP_TIMXCEED)
		is->st_icmp_out_time_excds++;
	else if (type == ICMP_PARAMPROB)
		is->st_icmp_out_parm_probs++;
}

/* The ICMP error message: header then the quote of orig. */
static mblk_t *
ip_icmp_build_error(const mblk_t *orig, uint8_t type, uint8_t code, uint32_t info)
{
	size_t qlen = msgdsize(orig);
	if (qlen > ICMP_QUOTE_MAX - IP_HDR_MIN - ICMP_HDR_LEN)
		qlen = ICMP_QUOTE_MAX - IP_HDR_MIN - ICMP_HDR_LEN;
	mblk_t *mp = allocb(IP_LINK_HEADROOM + IP_HDR_MIN + ICMP_HDR_LEN + qlen, BPRI_MED);
	if (mp == NULL)
		return NULL;
	mp->b_rptr += IP_LINK_HEADROOM + IP_HDR_MIN;
	mp->b_wptr = mp->b_rptr;
	uint8_t *p = mp->b_wptr;
	memset(p, 0, ICMP_HDR_LEN);
	p[0] = type;
	p[1] = code;
	if (type == ICMP_UNREACH && code == ICMP_UNREACH_NEEDFRAG) {
		p[6] = (uint8_t)(info >> 8); /* RFC 1191 §4: next-hop MTU */
		p[7] = (uint8_t)info;
	} else if (type == ICMP_PARAMPROB) {
		p[4] = (uint8_t)info; /* the pointer */
	}
	us_msgcopyout(orig, 0, p + ICMP_HDR_LEN, qlen);
	uint16_t sum = us_cksum(p, ICMP_HDR_LEN + qlen);
	memcpy(p + 2, &sum, 2);
	mp->b_wptr += ICMP_HDR_LEN + qlen;
	return mp;
}

void
ip_icmp_error(IpStack *is, const mblk_t *orig, uint8_t type, uint8_t code, uint32_t info)
{
	IpHdr h;
	if (us_msgcopyout(orig, 0, &h, sizeof h) != sizeof h || !ip_icmp_may_answer(is, orig, &h))
		return;
	if (!ip_icmp_allowed(is)) {
		is->st_icmp_ratelimited++;
		ip_drop(is, NULL, NULL, IP_DROP_ICMP_RATE);
		return;
	}
	/* The source: the address the datagram was sent to when it is ours,
	 * else the one routing picks towards the sender. */
	uint32_t src = g_hash_table_contains(is->is_local, GUINT_TO_POINTER(h.dst)) ? h.dst : 0;
	IpRouteOut ro;
	mblk_t *mp = NULL, *out = NULL;
	if (ip_route_out(is, h.src, src, 0, &ro) != 0 ||
	    (mp = ip_icmp_build_error(orig, type, code, info)) == NULL ||
	    (out = ip_prepend_header(is, mp, ro.src, h.src, IP_PROTO_ICMP, 0, 0, FALSE)) == NULL) {
		freemsg(mp);
		is->st_icmp_out_errors++;
		return;
	}
	ip_icmp_count_out(is, type);
	is->st_out_requests++;
	if (ip_send_routed(is, &ro, out, NULL) == EMSGSIZE)
		ip_drop(is, NULL, out, IP_DROP_DF);
}
