/* SPDX-License-Identifier: MIT */
/*
 * ip -- the IPv4 multiplexing driver (RFC 791, RFC 1122, RFC 1812 for the
 * router parts): interface streams I_PLINKed below, transports linked above,
 * routing, forwarding, fragmentation and reassembly, and ICMP.
 *
 *     udp   icmp(raw)   tcp        transports: ip upper streams linked under them
 *        \     |       /
 *              ip                  this driver: one instance per stack
 *        /            \
 *      arp            arp          interface streams (driver, ether, arp)
 *
 * Theory
 * ------
 * Files: ip.c (streams, per-stack state, upper side, descriptor), ip-if.c
 * (interfaces: the DLPI handshake, link-layer output with the fast path,
 * what interfaces send up), ip-input.c (checks, local delivery, forwarding,
 * reassembly), ip-output.c (routing decisions, headers, fragmentation),
 * ip-icmp.c (ICMP input and errors), ip-ioctl.c (interfaces, addresses,
 * routes), route.c (the longest-prefix-match table), reass.c (fragment
 * reassembly).  The contract with transports and the ioctls are in ip.h.
 *
 * Streams.  Every open is a clone open: an upper stream.  Its read queue's
 * q_ptr is the per-stack IpStack (so the parameters and statistics, which
 * the registry finds at offsets in the read queue's q_ptr, are per stack),
 * its write queue's q_ptr the per-upper IpUpper.  An upper is a control
 * stream (ioctls) until it sends IP_BIND_REQ; a transport links such an
 * upper under itself and it becomes that transport's lower.  Interfaces are
 * linked below with I_PLINK (or I_LINK) on any upper; each is an IpIf, the
 * ml_cookie of its UsMuxLower record.
 *
 * Interfaces (ip-if.c).  On the link ip sends DL_INFO_REQ (the MTU is
 * dl_max_sdu), DL_BIND_REQ for 0x0800 and DL_PHYS_ADDR_REQ; the interface
 * runs once DL_BIND_ACK came back.  Addresses are given to arp with
 * ARP_ADD_LOCAL (it answers ARP for them).  Output names the next hop in
 * arp's 6-byte form in a DL_UNITDATA_REQ; the first time a next hop is used
 * ip also asks for its link header with DL_IOC_HDR_INFO (the Solaris fast
 * path); once arp has resolved the hop the header comes back and later
 * datagrams go down as M_DATA with the header prepended in their headroom.
 * An EAGAIN answer (not resolved yet) is retried on a later datagram, at
 * most every 100 ms; ARP_CHANGED_IND throws the header away.  Datagrams that
 * wait for ARP wait in arp; ARP_UNREACH_IND turns the first of them into an
 * ICMP host unreachable (to the source, or to the local transport).
 *
 * Input (ip-input.c), RFC 791 §3.1 and RFC 1122 §3.2.1, in order: the
 * header is made contiguous; version 4; IHL >= 5 and within the packet;
 * header checksum; total length >= IHL and <= the frame (link padding is
 * trimmed); options walked (a malformed option: parameter problem pointing
 * at it; source-route options are refused, as Linux does by default);
 * martian sources (broadcast, multicast, 0/8, 127/8, one of ours: RFC 1122
 * §3.2.1.3, RFC 1812 §5.3.7) dropped; martian destinations (0/8, 127/8 from
 * the wire) dropped.  Then: one of our addresses (any interface: the weak
 * host model, RFC 1122 §3.3.4.2), the limited broadcast, a subnet broadcast
 * of ours, or 224.0.0.1 -> local delivery; another multicast -> dropped;
 * anything else -> forwarded when "forwarding" is on, else dropped (not for
 * us, ipInAddrErrors).  Local delivery reassembles fragments first (reass.c:
 * 30 s timeout, "reass_max_bytes" per stack, ICMP time exceeded code 1 when
 * the first fragment had come), then gives ICMP to ip-icmp.c and other
 * protocols to the transport bound to them as IP_UNITDATA_IND (the header
 * left in front, zero copy), a copy to the raw binding; no transport: ICMP
 * protocol unreachable.  A transport that cannot take a datagram (its read
 * side flow-controlled) loses it, counted: ip never blocks an interface.
 *
 * Forwarding (RFC 1812 §5.2-5.3): TTL <= 1 -> ICMP time exceeded; no route
 * -> ICMP net unreachable; TTL decremented with the RFC 1624 incremental
 * checksum update; larger than the outgoing MTU with DF -> ICMP
 * fragmentation needed carrying the MTU (RFC 1191), else fragmented.  The
 * output queue full -> dropped (counted).  No redirects are sent.
 *
 * Output (ip-output.c).  Routing picks, for a destination: local delivery
 * (one of ours, 127/8: through the loopback list, drained by an upper's
 * read service procedure so no put procedure re-enters itself), the limited
 * broadcast (the interface of the source, else the first running one), or
 * the longest-prefix route (metric breaks ties) giving the interface, the
 * next hop (the gateway, or the destination on link; a subnet broadcast goes
 * to the link broadcast) and the MTU (route, else interface, lowered by a
 * learned path MTU).  The source is the route's preferred source, else the
 * interface address on the next hop's subnet, else the interface's first
 * address (RFC 1122 §3.3.4.3).  The header is written into the payload's
 * headroom when it is private and has room, else into a new block that
 * leaves IP_LINK_HEADROOM for the link header.  Fragments (RFC 791 §3.2)
 * share the payload's data blocks (dupb); options without the copy flag
 * stay in the first fragment only.  IP IDs come from 2048 counters chosen by
 * a keyed hash of (source, destination, protocol) with a random key and
 * random starting values (RFC 7739 §5.3): no global counter leaks.
 *
 * ICMP (ip-icmp.c, RFC 792, RFC 1122 §3.2.2): echo requests are answered
 * (not to broadcasts); errors received are checked and the quoted datagram
 * goes to the transport of its protocol as IP_ICMP_IND with an errno;
 * fragmentation needed also lowers the destination's path MTU.  Errors
 * generated follow RFC 1122 §3.2.2 and RFC 1812 §4.3.2.7 (never about an
 * ICMP error, a broadcast or multicast, a non-initial fragment, or a martian
 * source) and a token bucket ("icmp_rate" per second, "icmp_burst" deep) on
 * the world clock; the quote is as much of the datagram as fits in 576
 * bytes.  Every ICMP message also goes to the raw binding.
 *
 * Flow control.  Down: a transport's IP_UNITDATA_REQ goes to the interface at
 * once when nothing waits on the upper and the interface's lower stream has
 * room; otherwise it waits on the upper write queue, which waits on the
 * lower (mux.h) and is enabled when it drained.  The transport above sees
 * this upper's queue fill and stops in turn.  Up: never blocked (above).
 *
 * Threads and time: everything runs on the world thread of the stack; the
 * reassembly timer and the ICMP rate limiter use the world clock, so virtual
 * time drives them deterministically; IDs come from the world's seeded GRand.
 *
 * Reading list: RFC 791, RFC 792, RFC 1122 §3, RFC 1191, RFC 1624, RFC 1812
 * §4-5, RFC 7739; illumos ip(4P) and the ip/arp split of Solaris 2.x; MIB-II
 * (RFC 1213) for the statistics.
 *
 * Deviations
 *  - One routing table per stack; no policy routing, no multicast routing,
 *    no IGMP (only 224.0.0.1 is accepted), no redirects sent or obeyed.
 *  - Source-routed datagrams are dropped (RFC 1122 §3.3.5 says a host MUST
 *    support them; Linux and most hosts refuse them by default).
 *  - Options are checked and kept but none is acted on (Record Route and
 *    Timestamp are not filled in).
 *  - An interface must have arp pushed (point-to-point links without ARP
 *    are not supported yet).
 *  - A datagram whose next hop does not answer ARP is reported with ICMP
 *    host unreachable only for the first datagram that waited (arp keeps
 *    only that one's data).
 */
#define G_LOG_DOMAIN "us-ip"

#include "ip-impl.h"

#include <ustreams/plumb.h>
#include <ustreams/registry.h>

#include <errno.h>
#include <string.h>

#define IP_MAX_UPPERS 65535

/* ------------------------------------------------------------------ */
/* Per-stack state                                                    */
/* ------------------------------------------------------------------ */

static void
ip_stack_free(gpointer p)
{
	IpStack *is = p;
	if (is->is_reass_timer != 0)
		us_world_timer_cancel(is->is_world, is->is_reass_timer);
	mblk_t *mp;
	while ((mp = g_queue_pop_head(&is->is_loopback)) != NULL)
		freemsg(mp);
	us_mux_lowers_free(is->is_lowers);
	us_mux_uppers_free(is->is_uppers);
	g_ptr_array_free(is->is_ifs, TRUE);
	ip_rt_free(is->is_rt);
	ip_reass_free(is->is_reass);
	g_hash_table_destroy(is->is_local);
	g_hash_table_destroy(is->is_bcast);
	g_hash_table_destroy(is->is_pmtu);
	g_free(is);
}

static IpStack *
ip_stack_new(UsStack *s)
{
	IpStack *is = g_new0(IpStack, 1);
	is->is_stack = s;
	is->is_world = us_stack_world(s);
	is->is_ttl = 64;
	is->is_reass_timeout_ms = 30000;
	is->is_reass_max_bytes = 4 << 20;
	is->is_icmp_rate = 100;
	is->is_icmp_burst = 50;
	is->is_echo_reply = TRUE;
	is->is_max_routes = 1 << 20;
	is->is_uppers = us_mux_uppers_new(1, IP_MAX_UPPERS);
	is->is_lowers = us_mux_lowers_new(ip_if_free);
	is->is_ifs = g_ptr_array_new();
	g_ptr_array_add(is->is_ifs, NULL); /* ifindex 0 is nobody */
	is->is_next_ifindex = 1;
	is->is_rt = ip_rt_new((guint)is->is_max_routes);
	is->is_reass = ip_reass_new(is->is_reass_max_bytes, 1024,
				    is->is_reass_timeout_ms * G_GUINT64_CONSTANT(1000000));
	is->is_local = g_hash_table_new(g_direct_hash, g_direct_equal);
	is->is_bcast = g_hash_table_new(g_direct_hash, g_direct_equal);
	is->is_pmtu = g_hash_table_new(g_direct_hash, g_direct_equal);
	GRand *r = us_world_rand(is->is_world);
	is->is_id_key = g_rand_int(r);
	for (guint i = 0; i < G_N_ELEMENTS(is->is_ids); i++)
		is->is_ids[i] = (guint16)g_rand_int(r);
	is->is_icmp_tokens = (double)is->is_icmp_burst;
	is->is_icmp_last = us_world_now(is->is_world);
	is->is_ioc_next = 0x49500000u; /* "IP" ioc_ids, distinct from a head's */
	return is;
}

/* The ip instance of the stack owning q, created on first use. */
IpStack *
ip_stack(queue_t *q)
{
	UsStack *s = us_queue_stack(q);
	IpStack *is = us_stack_get_data(s, "ip");
	if (is == NULL) {
		is = ip_stack_new(s);
		us_stack_set_data(s, "ip", is, ip_stack_free);
	}
	return is;
}

gint64
ip_now(IpStack *is)
{
	return us_world_now(is->is_world);
}

/* Drops mp counted against ip, also when q is a lower queue. */
void
ip_drop(IpStack *is, queue_t *q, mblk_t *mp, guint reason)
{
	if (q == NULL)
		q = us_mux_uppers_any_rq(is->is_uppers);
	if (q == NULL) {
		freemsg(mp); /* no stream of ip left to count it against */
		return;
	}
	us_mux_drop(q, mp, reason, us_mux_uppers_any_rq(is->is_uppers));
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static int
ip_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)oflag;
	(void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO;
	IpStack *is = ip_stack(rq);
	IpUpper *up = g_new0(IpUpper, 1);
	up->up_is = is;
	up->up_rq = rq;
	up->up_proto = -1;
	int err = us_mux_uppers_alloc(is->is_uppers, rq, up, &up->up_minor);
	if (err != 0) {
		g_free(up);
		return err;
	}
	rq->q_ptr = is;
	WR(rq)->q_ptr = up;
	*devp = makedevice(getmajor(*devp), up->up_minor);
	return 0;
}

static void
ip_unbind(IpUpper *up)
{
	IpStack *is = up->up_is;
	if (up->up_raw && is->is_raw == up)
		is->is_raw = NULL;
	if (up->up_proto >= 0 && is->is_proto[up->up_proto] == up)
		is->is_proto[up->up_proto] = NULL;
	up->up_proto = -1;
	up->up_raw = FALSE;
}

static int
ip_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	IpStack *is = rq->q_ptr;
	IpUpper *up = WR(rq)->q_ptr;
	ip_unbind(up);
	ip_ioc_pending_forget(is, WR(rq));
	us_mux_lowers_forget(is->is_lowers, WR(rq));
	mblk_t *mp;
	while ((mp = getq(WR(rq))) != NULL)
		us_drop(WR(rq), mp, IP_DROP_NO_IFACE);
	us_mux_uppers_remove(is->is_uppers, up->up_minor);
	g_free(up);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	/* Datagrams to ourselves waiting for this upper's service go on with
	 * another's, or are dropped when none is left. */
	queue_t *other = us_mux_uppers_any_rq(is->is_uppers);
	if (other != NULL && !g_queue_is_empty(&is->is_loopback))
		qenable(other);
	else if (other == NULL)
		while ((mp = g_queue_pop_head(&is->is_loopback)) != NULL)
			freemsg(mp);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Upper write side                                                   */
/* ------------------------------------------------------------------ */

static void
ip_reply_pc(queue_t *wq, mblk_t *mp, const void *prim, size_t len)
{
	freemsg(mp);
	mblk_t *ap = allocb(len, BPRI_HI);
	if (ap == NULL)
		return; /* the transport times out or asks again */
	DB_TYPE(ap) = M_PCPROTO;
	memcpy(ap->b_wptr, prim, len);
	ap->b_wptr += len;
	qreply(wq, ap);
}

static void
ip_error_ack(queue_t *wq, mblk_t *mp, uint32_t prim, int error)
{
	struct ip_error_ack ea = { .prim = IP_ERROR_ACK,
				   .error_prim = prim,
				   .error = (uint32_t)error };
	ip_reply_pc(wq, mp, &ea, sizeof ea);
}

static void
ip_bind(queue_t *wq, mblk_t *mp)
{
	IpUpper *up = wq->q_ptr;
	IpStack *is = up->up_is;
	struct ip_bind_req br = { 0 };
	size_t n = MBLKL(mp) < sizeof br ? MBLKL(mp) : sizeof br;
	memcpy(&br, mp->b_rptr, n);
	if (n < offsetof(struct ip_bind_req, flags) || up->up_proto >= 0 || up->up_raw) {
		ip_error_ack(wq, mp, IP_BIND_REQ, EINVAL);
		return;
	}
	if (br.flags & IP_BINDF_RAW) {
		if (is->is_raw != NULL) {
			ip_error_ack(wq, mp, IP_BIND_REQ, EADDRINUSE);
			return;
		}
		up->up_raw = TRUE;
		is->is_raw = up;
	} else {
		if (br.proto == 0 || br.proto >= 255) {
			ip_error_ack(wq, mp, IP_BIND_REQ, EINVAL);
			return;
		}
		if (is->is_proto[br.proto] != NULL) {
			ip_error_ack(wq, mp, IP_BIND_REQ, EADDRINUSE);
			return;
		}
		up->up_proto = (int)br.proto;
		is->is_proto[br.proto] = up;
	}
	struct ip_bind_ack ba = { .prim = IP_BIND_ACK, .proto = br.proto };
	ip_reply_pc(wq, mp, &ba, sizeof ba);
}

static void
ip_unbind_req(queue_t *wq, mblk_t *mp)
{
	IpUpper *up = wq->q_ptr;
	if (up->up_proto < 0 && !up->up_raw) {
		ip_error_ack(wq, mp, IP_UNBIND_REQ, EINVAL);
		return;
	}
	ip_unbind(up);
	struct ip_ok_ack ok = { .prim = IP_OK_ACK, .correct_prim = IP_UNBIND_REQ };
	ip_reply_pc(wq, mp, &ok, sizeof ok);
}

static void
ip_route_req(queue_t *wq, mblk_t *mp)
{
	IpStack *is = ((IpUpper *)wq->q_ptr)->up_is;
	struct ip_route_req rr;
	if (MBLKL(mp) < sizeof rr) {
		ip_error_ack(wq, mp, IP_ROUTE_REQ, EINVAL);
		return;
	}
	memcpy(&rr, mp->b_rptr, sizeof rr);
	IpRouteOut ro;
	int err = ip_route_out(is, rr.dst, 0, IP_F_BROADCAST, &ro);
	if (err != 0) {
		ip_error_ack(wq, mp, IP_ROUTE_REQ, err);
		return;
	}
	struct ip_route_ack ra = {
		.prim = IP_ROUTE_ACK,
		.dst = rr.dst,
		.src = ro.src,
		.nexthop = ro.nexthop,
		.ifindex = ro.ifp != NULL ? ro.ifp->if_index : 0,
		.mtu = ro.mtu,
		.flags = ro.flags,
		.lso_max = ro.ifp != NULL ? ro.ifp->if_lso_max : 0,
	};
	ip_reply_pc(wq, mp, &ra, sizeof ra);
}

static void
ip_reject_req(queue_t *wq, mblk_t *mp)
{
	IpStack *is = ((IpUpper *)wq->q_ptr)->up_is;
	struct ip_reject_req rj;
	if (MBLKL(mp) < sizeof rj || mp->b_cont == NULL) {
		us_drop(wq, mp, IP_DROP_BADPRIM);
		return;
	}
	memcpy(&rj, mp->b_rptr, sizeof rj);
	ip_icmp_error(is, mp->b_cont, rj.type, rj.code, 0);
	freemsg(mp);
}

/* A primitive from a transport.  Returns FALSE, leaving mp with the caller,
 * when an IP_UNITDATA_REQ must wait for room on its interface. */
static gboolean
ip_uwput_proto(queue_t *wq, mblk_t *mp)
{
	IpStack *is = ((IpUpper *)wq->q_ptr)->up_is;
	uint32_t prim;
	if (MBLKL(mp) < sizeof prim) {
		us_drop(wq, mp, IP_DROP_BADPRIM);
		return TRUE;
	}
	memcpy(&prim, mp->b_rptr, sizeof prim);
	switch (prim) {
	case IP_UNITDATA_REQ: return ip_output_req(is, wq, mp) != EAGAIN;
	case IP_BIND_REQ: ip_bind(wq, mp); break;
	case IP_UNBIND_REQ: ip_unbind_req(wq, mp); break;
	case IP_ROUTE_REQ: ip_route_req(wq, mp); break;
	case IP_REJECT_REQ: ip_reject_req(wq, mp); break;
	default: us_drop(wq, mp, IP_DROP_BADPRIM); break;
	}
	return TRUE;
}

static int
ip_uwput(queue_t *wq, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_PROTO:
	case M_PCPROTO:
		if (DB_TYPE(mp) == M_PROTO && wq->q_first != NULL)
			putq(wq, mp); /* behind datagrams waiting for room */
		else if (!ip_uwput_proto(wq, mp))
			putq(wq, mp);
		break;
	case M_IOCTL:
		if (!us_mux_handle_link_ioctl(wq, mp, ip_stack(wq)->is_lowers, &ip_link_ops))
			ip_ioctl(wq, mp);
		break;
	case M_FLUSH: us_default_flush(wq, mp); break;
	default: us_drop(wq, mp, US_DROP_UNHANDLED); break;
	}
	return 0;
}

/* Upper write service: datagrams that waited for an interface. */
static int
ip_uwsrv(queue_t *wq)
{
	mblk_t *mp;
	while ((mp = getq(wq)) != NULL) {
		if (!ip_uwput_proto(wq, mp)) {
			putbq(wq, mp);
			return 0;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Upper read side                                                    */
/* ------------------------------------------------------------------ */

static int
ip_urput(queue_t *rq, mblk_t *mp)
{
	putnext(rq, mp);
	return 0;
}

/* Datagrams sent to ourselves go up from here: a service procedure, so the
 * transport that sent one is never re-entered from inside its own put. */
void
ip_deliver_loopback(IpStack *is)
{
	guint n = g_queue_get_length(&is->is_loopback);
	for (guint i = 0; i < n; i++) {
		mblk_t *mp = g_queue_pop_head(&is->is_loopback);
		if (mp == NULL)
			break;
		IP_PROBE(receive, is, NULL, (const IpHdr *)mp->b_rptr);
		ip_deliver(is, NULL, mp, IP_IF_LOOPBACK);
	}
}

static int
ip_ursrv(queue_t *rq)
{
	ip_deliver_loopback(rq->q_ptr);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

/* The reassembly limits take effect for datagrams started from now on. */
static gboolean
ip_on_set_reass(queue_t *rq, const UsParamDesc *param, GError **error)
{
	(void)param;
	(void)error;
	IpStack *is = rq->q_ptr;
	if (ip_reass_count(is->is_reass) == 0) {
		ip_reass_free(is->is_reass);
		is->is_reass = ip_reass_new(is->is_reass_max_bytes, 1024,
					    is->is_reass_timeout_ms * G_GUINT64_CONSTANT(1000000));
		return TRUE;
	}
	g_set_error(error, US_ERROR, US_ERROR_INVALID,
		    "reassembly limits change only while no datagram is being reassembled");
	return FALSE;
}

static const UsParamDesc ip_params[] = {
	US_PARAM_FIELD(IP_PARAM_FORWARDING, "forward datagrams between interfaces", US_PARAM_BOOL,
		       IpStack, is_forwarding, 0, 0),
	US_PARAM_FIELD(IP_PARAM_TTL, "TTL of datagrams sent", US_PARAM_UINT, IpStack, is_ttl, 1,
		       255),
	{ .name = IP_PARAM_REASS_TIMEOUT_MS,
	  .description = "reassembly timeout (ms)",
	  .type = US_PARAM_UINT,
	  .offset = offsetof(IpStack, is_reass_timeout_ms),
	  .min = 1,
	  .max = 600000,
	  .on_set = ip_on_set_reass },
	{ .name = IP_PARAM_REASS_MAX_BYTES,
	  .description = "memory held by reassembly per stack (bytes)",
	  .type = US_PARAM_UINT,
	  .offset = offsetof(IpStack, is_reass_max_bytes),
	  .min = 65536,
	  .max = G_GINT64_CONSTANT(1) << 32,
	  .on_set = ip_on_set_reass },
	US_PARAM_FIELD(IP_PARAM_ICMP_RATE, "ICMP errors sent per second", US_PARAM_UINT, IpStack,
		       is_icmp_rate, 0, 1000000),
	US_PARAM_FIELD(IP_PARAM_ICMP_BURST, "ICMP error burst", US_PARAM_UINT, IpStack,
		       is_icmp_burst, 1, 1000000),
	US_PARAM_FIELD(IP_PARAM_ECHO_REPLY, "answer ICMP echo requests", US_PARAM_BOOL, IpStack,
		       is_echo_reply, 0, 0),
	{ NULL },
};

/* ------------------------------------------------------------------ */
/* Statistics, drop reasons, descriptor                               */
/* ------------------------------------------------------------------ */

#define IP_ST(name, desc, fld) US_STAT(name, desc, IpStack, fld)
static const UsStatDesc ip_stats[] = {
	IP_ST(IP_STAT_IN_RECEIVES, "datagrams received from interfaces", st_in_receives),
	IP_ST(IP_STAT_IN_HDR_ERRORS, "discarded for header errors", st_in_hdr_errors),
	IP_ST(IP_STAT_IN_ADDR_ERRORS, "discarded for their destination", st_in_addr_errors),
	IP_ST(IP_STAT_FORW_DATAGRAMS, "datagrams forwarded", st_forw_datagrams),
	IP_ST(IP_STAT_IN_UNKNOWN_PROTOS, "for a protocol nobody bound", st_in_unknown_protos),
	IP_ST(IP_STAT_IN_DISCARDS, "received, fine, but discarded", st_in_discards),
	IP_ST(IP_STAT_IN_DELIVERS, "delivered to transports and ICMP", st_in_delivers),
	IP_ST(IP_STAT_OUT_REQUESTS, "datagrams sent by transports and ICMP", st_out_requests),
	IP_ST(IP_STAT_OUT_DISCARDS, "sent, fine, but discarded", st_out_discards),
	IP_ST(IP_STAT_OUT_NO_ROUTES, "discarded for lack of a route", st_out_no_routes),
	IP_ST(IP_STAT_REASM_REQDS, "fragments received for reassembly", st_reasm_reqds),
	IP_ST(IP_STAT_REASM_OKS, "datagrams reassembled", st_reasm_oks),
	IP_ST(IP_STAT_REASM_FAILS, "reassembly failures", st_reasm_fails),
	IP_ST(IP_STAT_FRAG_OKS, "datagrams fragmented", st_frag_oks),
	IP_ST(IP_STAT_FRAG_FAILS, "datagrams that needed but could not be fragmented",
	      st_frag_fails),
	IP_ST(IP_STAT_FRAG_CREATES, "fragments created", st_frag_creates),
	IP_ST("lsoSplit", "HW_LSO packets segmented in software", st_lso_split),
	IP_ST("lsoSegments", "segments made from them", st_lso_segments),
	IP_ST("icmpInMsgs", "ICMP messages received", st_icmp_in_msgs),
	IP_ST("icmpInErrors", "ICMP messages received with errors", st_icmp_in_errors),
	IP_ST("icmpInEchos", "echo requests received", st_icmp_in_echos),
	IP_ST("icmpInEchoReps", "echo replies received", st_icmp_in_echo_reps),
	IP_ST("icmpInDestUnreachs", "destination unreachables received", st_icmp_in_dest_unreachs),
	IP_ST("icmpInTimeExcds", "time exceededs received", st_icmp_in_time_excds),
	IP_ST("icmpInParmProbs", "parameter problems received", st_icmp_in_parm_probs),
	IP_ST("icmpOutMsgs", "ICMP messages sent", st_icmp_out_msgs),
	IP_ST("icmpOutErrors", "ICMP messages not sent for lack of resources", st_icmp_out_errors),
	IP_ST("icmpOutEchoReps", "echo replies sent", st_icmp_out_echo_reps),
	IP_ST("icmpOutDestUnreachs", "destination unreachables sent", st_icmp_out_dest_unreachs),
	IP_ST("icmpOutTimeExcds", "time exceededs sent", st_icmp_out_time_excds),
	IP_ST("icmpOutParmProbs", "parameter problems sent", st_icmp_out_parm_probs),
	IP_ST("icmpRateLimited", "ICMP errors not sent: rate limit", st_icmp_ratelimited),
	IP_ST("routes", "routes in the table", st_routes),
	IP_ST("interfaces", "interfaces linked", st_interfaces),
	IP_ST("reassDatagrams", "datagrams being reassembled", st_reass_datagrams),
	IP_ST("reassBytes", "bytes held by reassembly", st_reass_bytes),
	{ NULL },
};

static const char *const ip_drop_reasons[] = {
	[IP_DROP_SHORT] = "shorter than its header or total length",
	[IP_DROP_VERSION] = "not IPv4",
	[IP_DROP_HDR_LEN] = "bad header length",
	[IP_DROP_CKSUM] = "bad header checksum",
	[IP_DROP_OPTIONS] = "bad or refused options",
	[IP_DROP_MARTIAN_SRC] = "martian source",
	[IP_DROP_MARTIAN_DST] = "martian destination",
	[IP_DROP_NOT_FOR_US] = "not for us (forwarding off or unknown multicast)",
	[IP_DROP_TTL] = "TTL expired in transit",
	[IP_DROP_NO_ROUTE] = "no route",
	[IP_DROP_UNKNOWN_PROTO] = "no transport for the protocol",
	[IP_DROP_FRAG] = "fragment refused by reassembly",
	[IP_DROP_REASS_TIMEOUT] = "reassembly timed out",
	[IP_DROP_DF] = "too big with DF set",
	[IP_DROP_QUEUE_FULL] = "interface output queue full",
	[IP_DROP_NO_IFACE] = "interface down, unbound or gone",
	[IP_DROP_ARP] = "next hop did not answer ARP",
	[IP_DROP_BADPRIM] = "malformed or unknown primitive",
	[IP_DROP_NOMEM] = "out of memory",
	[IP_DROP_ICMP_BAD] = "malformed ICMP message",
	[IP_DROP_ICMP_RATE] = "ICMP error rate limited",
	[IP_DROP_TRANSPORT] = "transport flow-controlled",
	[IP_DROP_BAD_OFFLOAD] = "offload marks do not fit the packet",
	NULL,
};

static const char *const ip_accepts[] = {
	"M_PROTO/M_PCPROTO (IP_* primitives from transports)",
	"M_IOCTL (I_PLINK/I_LINK/I_UNLINK/I_PUNLINK, IP_IF_*, IP_ADDR_*, IP_ROUTE_*)",
	"M_FLUSH",
	"from interfaces: M_DATA (fast path), DL_UNITDATA_IND, DLPI acks, ARP indications",
	NULL,
};

static struct module_info ip_minfo = {
	.mi_idnum = 2100,
	.mi_idname = "ip",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 256 * 1024,
	.mi_lowat = 64 * 1024,
};
static struct qinit ip_urinit = {
	.qi_putp = ip_urput,
	.qi_srvp = ip_ursrv,
	.qi_qopen = ip_open,
	.qi_qclose = ip_close,
	.qi_minfo = &ip_minfo,
};
static struct qinit ip_uwinit = {
	.qi_putp = ip_uwput,
	.qi_srvp = ip_uwsrv,
	.qi_minfo = &ip_minfo,
};
static struct qinit ip_lrinit = {
	.qi_putp = ip_lrput,
	.qi_minfo = &ip_minfo,
};
static struct qinit ip_lwinit = {
	.qi_putp = us_mux_lower_wput,
	.qi_srvp = us_mux_lower_wsrv,
	.qi_minfo = &ip_minfo,
};
static struct streamtab ip_streamtab = {
	.st_rdinit = &ip_urinit,
	.st_wrinit = &ip_uwinit,
	.st_muxrinit = &ip_lrinit,
	.st_muxwinit = &ip_lwinit,
};

const UsModuleDesc us_ip_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "ip",
	.summary = "IPv4 multiplexor: routing, forwarding, fragmentation, ICMP",
	.kind = US_KIND_MUX,
	.streamtab = &ip_streamtab,
	.mt_flags = US_MT_PERSTACK,
	.params = ip_params,
	.stats = ip_stats,
	.drop_reasons = ip_drop_reasons,
	.accepts = ip_accepts,
};
