/* SPDX-License-Identifier: MIT */
/*
 * ip-ioctl.c -- the management ioctls of ip (I_STR on any upper): interface
 * names, addresses and routes.  The commands and their errors are listed in
 * ip.h; this file keeps the route table, the local-address and broadcast
 * sets, and arp's list of our addresses in step.
 */
#define G_LOG_DOMAIN "us-ip"

#include "ip-impl.h"

#include "arp.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static gboolean
ip_ioc_arg(mblk_t *mp, void *buf, size_t len)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	if (ioc->ioc_count == TRANSPARENT || ioc->ioc_count < len || mp->b_cont == NULL)
		return FALSE;
	return us_msgcopyout(mp->b_cont, 0, buf, len) == len;
}

/* Answers with data (consumes data) and rval. */
static void
ip_ioc_reply(queue_t *wq, mblk_t *mp, mblk_t *data, int rval)
{
	freemsg(mp->b_cont);
	mp->b_cont = data;
	miocack(wq, mp, data != NULL ? (int)msgdsize(data) : 0, rval);
}

/* Sends ARP_ADD_LOCAL/ARP_DEL_LOCAL for addr down ifp (the answer is only
 * logged when it is a refusal: see ip_if_ioc_reply). */
static void
ip_arp_local(IpIf *ifp, int cmd, uint32_t addr)
{
	struct arp_addr_req ar = { .addr = addr };
	mblk_t *io = mkiocb((unsigned)cmd);
	mblk_t *dp = io != NULL ? us_msg_from(&ar, sizeof ar, 0) : NULL;
	if (dp == NULL) {
		freemsg(io);
		g_message("%s: no memory to tell arp about an address", ifp->if_name);
		return;
	}
	struct iocblk *ioc = (struct iocblk *)io->b_rptr;
	ioc->ioc_id = ++ifp->if_is->is_ioc_next;
	ioc->ioc_count = sizeof ar;
	io->b_cont = dp;
	putnext(ifp->if_lower->ml_qbot, io);
}

static void
ip_name_copy(char *dst, const char *src)
{
	memset(dst, 0, IP_IFNAMSIZ);
	g_strlcpy(dst, src, IP_IFNAMSIZ);
}

/* ------------------------------------------------------------------ */
/* Interfaces                                                         */
/* ------------------------------------------------------------------ */

static int
ip_if_set(IpStack *is, mblk_t *mp)
{
	struct ip_if_req r;
	if (!ip_ioc_arg(mp, &r, sizeof r) || r.mtu > IP_MAXPACKET || (r.mtu != 0 && r.mtu < 68))
		return EINVAL;
	r.name[IP_IFNAMSIZ - 1] = '\0';
	UsMuxLower *lo = us_mux_lowers_find(is->is_lowers, r.muxid);
	IpIf *ifp = lo != NULL ? lo->ml_cookie : NULL;
	if (ifp == NULL)
		return ENOENT;
	if (r.name[0] != '\0') {
		IpIf *other = ip_if_by_name(is, r.name);
		if (other != NULL && other != ifp)
			return EEXIST;
		ip_name_copy(ifp->if_name, r.name);
	}
	if (r.mtu != 0) {
		ifp->if_mtu = r.mtu;
		ifp->if_mtu_set = TRUE;
	}
	if (r.flags & IP_IFF_DOWN)
		ifp->if_flags &= ~IP_IFF_UP;
	else if (r.flags & IP_IFF_UP)
		ifp->if_flags |= IP_IFF_UP;
	return 0;
}

static void
ip_if_list(queue_t *wq, IpStack *is, mblk_t *mp)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	size_t room =
		ioc->ioc_count == TRANSPARENT ? 0 : ioc->ioc_count / sizeof(struct ip_if_info);
	mblk_t *dp = allocb(room * sizeof(struct ip_if_info) + 1, BPRI_MED);
	if (dp == NULL) {
		miocnak(wq, mp, 0, ENOMEM);
		return;
	}
	int n = 0;
	for (guint i = 1; i < is->is_ifs->len; i++) {
		IpIf *ifp = g_ptr_array_index(is->is_ifs, i);
		if (ifp == NULL)
			continue;
		if ((size_t)n++ >= room)
			continue;
		struct ip_if_info ii = {
			.ifindex = ifp->if_index,
			.muxid = ifp->if_lower->ml_muxid,
			.mtu = ifp->if_mtu,
			.flags = ifp->if_flags,
			.naddrs = (uint8_t)ifp->if_naddrs,
			.ipackets = ifp->if_ipackets,
			.opackets = ifp->if_opackets,
			.ibytes = ifp->if_ibytes,
			.obytes = ifp->if_obytes,
			.idrops = ifp->if_idrops,
			.odrops = ifp->if_odrops,
		};
		memcpy(ii.name, ifp->if_name, IP_IFNAMSIZ);
		memcpy(ii.mac, ifp->if_mac, 6);
		memcpy(dp->b_wptr, &ii, sizeof ii);
		dp->b_wptr += sizeof ii;
	}
	ip_ioc_reply(wq, mp, dp, n);
}

/* ------------------------------------------------------------------ */
/* Addresses                                                          */
/* ------------------------------------------------------------------ */

static IpRoute
ip_connected_route(const IpIf *ifp, const IpAddr *a)
{
	IpRoute r = {
		.dst = g_ntohl(a->addr & a->mask),
		.plen = (uint8_t)a->plen,
		.type = IP_RT_CONNECTED,
		.ifindex = ifp->if_index,
		.src = g_ntohl(a->addr),
	};
	return r;
}

static int
ip_addr_add(IpStack *is, mblk_t *mp)
{
	struct ip_addr_req r;
	if (!ip_ioc_arg(mp, &r, sizeof r) || r.plen > 32 || r.addr == 0 || r.addr == IP_BROADCAST ||
	    ip_is_multicast(r.addr) || ip_is_loopback(r.addr) || ip_is_zeronet(r.addr))
		return EINVAL;
	r.ifname[IP_IFNAMSIZ - 1] = '\0';
	IpIf *ifp = ip_if_by_name(is, r.ifname);
	if (ifp == NULL)
		return ENXIO;
	if (g_hash_table_contains(is->is_local, GUINT_TO_POINTER(r.addr)))
		return EEXIST;
	if (ifp->if_naddrs >= IP_ADDR_MAX)
		return ENOSPC;
	IpAddr *a = &ifp->if_addrs[ifp->if_naddrs];
	a->addr = r.addr;
	a->plen = r.plen;
	a->mask = ip_mask(r.plen);
	a->bcast = r.plen < 31 ? (r.addr | ~a->mask) : 0;
	IpRoute cr = ip_connected_route(ifp, a);
	int err = ip_rt_add(is->is_rt, &cr);
	if (err != 0 && err != EEXIST)
		return err;
	ifp->if_naddrs++;
	g_hash_table_insert(is->is_local, GUINT_TO_POINTER(r.addr), ifp);
	if (a->bcast != 0)
		g_hash_table_insert(is->is_bcast, GUINT_TO_POINTER(a->bcast), ifp);
	is->st_routes = ip_rt_count(is->is_rt);
	ip_arp_local(ifp, ARP_ADD_LOCAL, r.addr);
	return 0;
}

/* Removes address i of ifp: its connected route unless another address of
 * ifp has the same prefix, the local and broadcast entries, arp's. */
static void
ip_addr_remove(IpStack *is, IpIf *ifp, guint i, gboolean tell_arp)
{
	IpAddr a = ifp->if_addrs[i];
	memmove(&ifp->if_addrs[i], &ifp->if_addrs[i + 1],
		(ifp->if_naddrs - i - 1) * sizeof(IpAddr));
	ifp->if_naddrs--;
	gboolean shared = FALSE;
	for (guint j = 0; j < ifp->if_naddrs; j++)
		if (ifp->if_addrs[j].plen == a.plen &&
		    ((ifp->if_addrs[j].addr ^ a.addr) & a.mask) == 0)
			shared = TRUE;
	if (!shared)
		(void)ip_rt_del(is->is_rt, g_ntohl(a.addr & a.mask), (uint8_t)a.plen, 0,
				ifp->if_index);
	g_hash_table_remove(is->is_local, GUINT_TO_POINTER(a.addr));
	if (a.bcast != 0 && !shared)
		g_hash_table_remove(is->is_bcast, GUINT_TO_POINTER(a.bcast));
	is->st_routes = ip_rt_count(is->is_rt);
	if (tell_arp)
		ip_arp_local(ifp, ARP_DEL_LOCAL, a.addr);
}

static int
ip_addr_del(IpStack *is, mblk_t *mp)
{
	struct ip_addr_req r;
	if (!ip_ioc_arg(mp, &r, sizeof r))
		return EINVAL;
	r.ifname[IP_IFNAMSIZ - 1] = '\0';
	IpIf *ifp = ip_if_by_name(is, r.ifname);
	if (ifp == NULL)
		return ENXIO;
	for (guint i = 0; i < ifp->if_naddrs; i++) {
		if (ifp->if_addrs[i].addr == r.addr) {
			ip_addr_remove(is, ifp, i, TRUE);
			return 0;
		}
	}
	return ENOENT;
}

/* The interface is going away: its addresses go (arp goes with it). */
void
ip_addr_forget_if(IpStack *is, IpIf *ifp)
{
	while (ifp->if_naddrs > 0)
		ip_addr_remove(is, ifp, ifp->if_naddrs - 1, FALSE);
}

static void
ip_addr_list(queue_t *wq, IpStack *is, mblk_t *mp)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	size_t room =
		ioc->ioc_count == TRANSPARENT ? 0 : ioc->ioc_count / sizeof(struct ip_addr_req);
	mblk_t *dp = allocb(room * sizeof(struct ip_addr_req) + 1, BPRI_MED);
	if (dp == NULL) {
		miocnak(wq, mp, 0, ENOMEM);
		return;
	}
	int n = 0;
	for (guint i = 1; i < is->is_ifs->len; i++) {
		IpIf *ifp = g_ptr_array_index(is->is_ifs, i);
		for (guint j = 0; ifp != NULL && j < ifp->if_naddrs; j++) {
			if ((size_t)n++ >= room)
				continue;
			struct ip_addr_req r = { .addr = ifp->if_addrs[j].addr,
						 .plen = ifp->if_addrs[j].plen,
						 .broadcast = ifp->if_addrs[j].bcast };
			memcpy(r.ifname, ifp->if_name, IP_IFNAMSIZ);
			memcpy(dp->b_wptr, &r, sizeof r);
			dp->b_wptr += sizeof r;
		}
	}
	ip_ioc_reply(wq, mp, dp, n);
}

/* ------------------------------------------------------------------ */
/* Routes                                                             */
/* ------------------------------------------------------------------ */

/* The interface whose connected route reaches gw (network order). */
static IpIf *
ip_if_reaching(IpStack *is, uint32_t gw)
{
	const IpRoute *r = ip_rt_lookup(is->is_rt, g_ntohl(gw));
	if (r == NULL || r->type != IP_RT_CONNECTED)
		return NULL;
	return ip_if_by_index(is, r->ifindex);
}

static int
ip_route_add(IpStack *is, mblk_t *mp)
{
	struct ip_route_entry e;
	if (!ip_ioc_arg(mp, &e, sizeof e) || e.plen > 32 || (e.dst & ~ip_mask(e.plen)) != 0 ||
	    (e.mtu != 0 && (e.mtu < 68 || e.mtu > IP_MAXPACKET)))
		return EINVAL; /* RFC 791: every link takes 68 bytes */
	e.ifname[IP_IFNAMSIZ - 1] = '\0';
	IpIf *ifp = NULL;
	if (e.ifname[0] != '\0' && (ifp = ip_if_by_name(is, e.ifname)) == NULL)
		return ENXIO;
	if (e.gateway != 0) {
		IpIf *via = ip_if_reaching(is, e.gateway);
		if (via == NULL || (ifp != NULL && via != ifp))
			return ENETUNREACH;
		ifp = via;
	}
	if (ifp == NULL)
		return ENXIO;
	IpRoute r = {
		.dst = g_ntohl(e.dst),
		.plen = (uint8_t)e.plen,
		.type = IP_RT_STATIC,
		.gateway = g_ntohl(e.gateway),
		.ifindex = ifp->if_index,
		.metric = e.metric,
		.mtu = e.mtu,
		.src = g_ntohl(e.src),
	};
	int err = ip_rt_add(is->is_rt, &r);
	is->st_routes = ip_rt_count(is->is_rt);
	return err;
}

static int
ip_route_del(IpStack *is, mblk_t *mp)
{
	struct ip_route_entry e;
	if (!ip_ioc_arg(mp, &e, sizeof e) || e.plen > 32 || (e.dst & ~ip_mask(e.plen)) != 0)
		return EINVAL;
	e.ifname[IP_IFNAMSIZ - 1] = '\0';
	guint32 ifindex = 0;
	if (e.ifname[0] != '\0') {
		IpIf *ifp = ip_if_by_name(is, e.ifname);
		if (ifp == NULL)
			return ENOENT;
		ifindex = ifp->if_index;
	}
	int err =
		ip_rt_del(is->is_rt, g_ntohl(e.dst), (uint8_t)e.plen, g_ntohl(e.gateway), ifindex);
	is->st_routes = ip_rt_count(is->is_rt);
	return err;
}

static void
ip_route_entry_fill(IpStack *is, const IpRoute *r, struct ip_route_entry *e)
{
	memset(e, 0, sizeof *e);
	e->dst = g_htonl(r->dst);
	e->plen = r->plen;
	e->gateway = g_htonl(r->gateway);
	e->metric = r->metric;
	e->mtu = r->mtu;
	e->src = g_htonl(r->src);
	e->type = r->type == IP_RT_CONNECTED ? IP_RTT_CONNECTED : IP_RTT_STATIC;
	IpIf *ifp = ip_if_by_index(is, r->ifindex);
	if (ifp != NULL)
		memcpy(e->ifname, ifp->if_name, IP_IFNAMSIZ);
}

typedef struct {
	IpStack *is;
	mblk_t *dp;
	size_t room;
	int n;
} IpRouteWalk;

static void
ip_route_list_one(const IpRoute *r, gpointer data)
{
	IpRouteWalk *w = data;
	if ((size_t)w->n++ >= w->room)
		return;
	struct ip_route_entry e;
	ip_route_entry_fill(w->is, r, &e);
	memcpy(w->dp->b_wptr, &e, sizeof e);
	w->dp->b_wptr += sizeof e;
}

static void
ip_route_list(queue_t *wq, IpStack *is, mblk_t *mp)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	IpRouteWalk w = { .is = is };
	w.room = ioc->ioc_count == TRANSPARENT ? 0 : ioc->ioc_count / sizeof(struct ip_route_entry);
	guint count = ip_rt_count(is->is_rt);
	if (w.room > count)
		w.room = count;
	w.dp = allocb(w.room * sizeof(struct ip_route_entry) + 1, BPRI_MED);
	if (w.dp == NULL) {
		miocnak(wq, mp, 0, ENOMEM);
		return;
	}
	ip_rt_foreach(is->is_rt, ip_route_list_one, &w);
	ip_ioc_reply(wq, mp, w.dp, w.n);
}

static void
ip_route_get(queue_t *wq, IpStack *is, mblk_t *mp)
{
	struct ip_route_entry e;
	if (!ip_ioc_arg(mp, &e, sizeof e)) {
		miocnak(wq, mp, 0, EINVAL);
		return;
	}
	IpRouteOut ro;
	int err = ip_route_out(is, e.dst, 0, IP_F_BROADCAST, &ro);
	if (err != 0) {
		miocnak(wq, mp, 0, err);
		return;
	}
	uint32_t dst = e.dst;
	memset(&e, 0, sizeof e);
	e.dst = dst;
	e.plen = ro.ifp != NULL ? ro.plen : 32;
	e.gateway = ro.gateway;
	e.metric = ro.metric;
	e.mtu = ro.mtu;
	e.src = ro.src;
	e.type = (ro.flags & IP_RF_GATEWAY) ? IP_RTT_STATIC : IP_RTT_CONNECTED;
	if (ro.ifp != NULL)
		memcpy(e.ifname, ro.ifp->if_name, IP_IFNAMSIZ);
	else
		ip_name_copy(e.ifname, "lo");
	mblk_t *dp = us_msg_from(&e, sizeof e, 0);
	if (dp == NULL) {
		miocnak(wq, mp, 0, ENOMEM);
		return;
	}
	ip_ioc_reply(wq, mp, dp, 0);
}

/* ------------------------------------------------------------------ */
/* Neighbours: answered by the interface's arp                        */
/* ------------------------------------------------------------------ */

/* Sends ARP_LIST down the named interface; the upper's ioctl waits. */
static int
ip_neigh_list(queue_t *wq, IpStack *is, mblk_t *mp)
{
	struct ip_neigh_req r;
	if (!ip_ioc_arg(mp, &r, sizeof r))
		return EINVAL;
	r.ifname[IP_IFNAMSIZ - 1] = '\0';
	IpIf *ifp = ip_if_by_name(is, r.ifname);
	if (ifp == NULL)
		return ENXIO;
	size_t room = ((const struct iocblk *)mp->b_rptr)->ioc_count;
	mblk_t *io = mkiocb(ARP_LIST);
	mblk_t *dp = io != NULL ? allocb(room + 1, BPRI_MED) : NULL;
	if (dp == NULL) {
		freemsg(io);
		return ENOMEM;
	}
	struct iocblk *ioc = (struct iocblk *)io->b_rptr;
	ioc->ioc_id = ++is->is_ioc_next;
	ioc->ioc_count = room;
	memset(dp->b_wptr, 0, room);
	dp->b_wptr += room;
	io->b_cont = dp;
	IpPendingIoc *pi = g_new0(IpPendingIoc, 1);
	pi->pi_wq = wq;
	pi->pi_mp = mp;
	g_hash_table_insert(ifp->if_ioc, GUINT_TO_POINTER(ioc->ioc_id), pi);
	putnext(ifp->if_lower->ml_qbot, io);
	return -1; /* answered later */
}

gboolean
ip_ioc_pending_reply(IpIf *ifp, mblk_t *reply)
{
	const struct iocblk *rio = (const struct iocblk *)reply->b_rptr;
	IpPendingIoc *pi = g_hash_table_lookup(ifp->if_ioc, GUINT_TO_POINTER(rio->ioc_id));
	if (pi == NULL)
		return FALSE;
	g_hash_table_remove(ifp->if_ioc, GUINT_TO_POINTER(rio->ioc_id));
	if (DB_TYPE(reply) == M_IOCACK) {
		mblk_t *data = unlinkb(reply);
		ip_ioc_reply(pi->pi_wq, pi->pi_mp, data, rio->ioc_rval);
	} else {
		miocnak(pi->pi_wq, pi->pi_mp, 0, rio->ioc_error);
	}
	freemsg(reply);
	g_free(pi);
	return TRUE;
}

void
ip_ioc_pending_fail(IpIf *ifp, int err)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, ifp->if_ioc);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		IpPendingIoc *pi = v;
		miocnak(pi->pi_wq, pi->pi_mp, 0, err);
		g_free(pi);
		g_hash_table_iter_remove(&it);
	}
}

void
ip_ioc_pending_forget(IpStack *is, queue_t *wq)
{
	for (guint i = 1; i < is->is_ifs->len; i++) {
		IpIf *ifp = g_ptr_array_index(is->is_ifs, i);
		GHashTableIter it;
		gpointer v;
		if (ifp == NULL)
			continue;
		g_hash_table_iter_init(&it, ifp->if_ioc);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			IpPendingIoc *pi = v;
			if (pi->pi_wq != wq)
				continue;
			freemsg(pi->pi_mp);
			g_free(pi);
			g_hash_table_iter_remove(&it);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                           */
/* ------------------------------------------------------------------ */

/* An M_IOCTL on an upper other than the link ioctls (consumes mp). */
void
ip_ioctl(queue_t *wq, mblk_t *mp)
{
	IpStack *is = ip_stack(wq);
	if (MBLKL(mp) < sizeof(struct iocblk)) {
		us_drop(wq, mp, US_DROP_UNHANDLED);
		return;
	}
	int err;
	switch (((struct iocblk *)mp->b_rptr)->ioc_cmd) {
	case IP_IF_SET: err = ip_if_set(is, mp); break;
	case IP_ADDR_ADD: err = ip_addr_add(is, mp); break;
	case IP_ADDR_DEL: err = ip_addr_del(is, mp); break;
	case IP_ROUTE_ADD: err = ip_route_add(is, mp); break;
	case IP_ROUTE_DEL: err = ip_route_del(is, mp); break;
	case IP_IF_LIST: ip_if_list(wq, is, mp); return;
	case IP_ADDR_LIST: ip_addr_list(wq, is, mp); return;
	case IP_ROUTE_LIST: ip_route_list(wq, is, mp); return;
	case IP_ROUTE_GET: ip_route_get(wq, is, mp); return;
	case IP_NEIGH_LIST:
		if ((err = ip_neigh_list(wq, is, mp)) < 0)
			return;
		break;
	default: err = EINVAL; break;
	}
	if (err != 0) {
		miocnak(wq, mp, 0, err);
		return;
	}
	ip_ioc_reply(wq, mp, NULL, 0);
}
