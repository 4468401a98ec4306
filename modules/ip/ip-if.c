/* SPDX-License-Identifier: MIT */
/*
 * ip-if.c -- the interfaces below ip: the link and unlink of interface
 * streams, the DLPI handshake, what interfaces send up, and link-layer
 * output with the DL_IOC_HDR_INFO fast path.  Theory in ip.c ("Interfaces").
 */
#define G_LOG_DOMAIN "us-ip"

#include "ip-impl.h"

#include "arp.h"

#include <ustreams/dlpi.h>

#include <errno.h>
#include <string.h>

#define IP_NCE_RETRY_NS (100 * G_GINT64_CONSTANT(1000000))
#define IP_NCE_MAX 4096

/* ------------------------------------------------------------------ */
/* Interface records                                                  */
/* ------------------------------------------------------------------ */

static void
ip_nce_free(gpointer p)
{
	IpNce *nce = p;
	freemsg(nce->nce_hdr);
	g_free(nce);
}

void
ip_if_free(gpointer p)
{
	IpIf *ifp = p;
	if (ifp == NULL)
		return;
	g_hash_table_destroy(ifp->if_nce);
	/* The stack is going (an unlink would have answered them): the
	 * waiting ioctls' queues may be gone, so they are only freed. */
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, ifp->if_ioc);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		freemsg(((IpPendingIoc *)v)->pi_mp);
		g_free(v);
	}
	g_hash_table_destroy(ifp->if_ioc);
	g_free(ifp);
}

IpIf *
ip_if_by_index(IpStack *is, guint32 ifindex)
{
	if (ifindex == 0 || ifindex >= is->is_ifs->len)
		return NULL;
	return g_ptr_array_index(is->is_ifs, ifindex);
}

IpIf *
ip_if_by_name(IpStack *is, const char *name)
{
	for (guint i = 1; i < is->is_ifs->len; i++) {
		IpIf *ifp = g_ptr_array_index(is->is_ifs, i);
		if (ifp != NULL && strncmp(ifp->if_name, name, IP_IFNAMSIZ) == 0)
			return ifp;
	}
	return NULL;
}

/* The address of ifp on dst's subnet, else its first address, else NULL. */
const IpAddr *
ip_if_addr_for(const IpIf *ifp, uint32_t dst)
{
	for (guint i = 0; i < ifp->if_naddrs; i++) {
		const IpAddr *a = &ifp->if_addrs[i];
		if (((a->addr ^ dst) & a->mask) == 0)
			return a;
	}
	return ifp->if_naddrs > 0 ? &ifp->if_addrs[0] : NULL;
}

/* ------------------------------------------------------------------ */
/* DLPI requests                                                      */
/* ------------------------------------------------------------------ */

static void
ip_if_send_prim(IpIf *ifp, const void *prim, size_t len)
{
	if (!us_mux_lower_send_proto(ifp->if_lower, prim, len))
		g_message("%s: no memory for a DLPI request", ifp->if_name);
}

static void
ip_if_handshake(IpIf *ifp)
{
	dl_info_req_t ir = { .dl_primitive = DL_INFO_REQ };
	dl_bind_req_t br = { .dl_primitive = DL_BIND_REQ,
			     .dl_sap = IP_ETHERTYPE,
			     .dl_service_mode = DL_CLDLS };
	dl_phys_addr_req_t pr = { .dl_primitive = DL_PHYS_ADDR_REQ,
				  .dl_addr_type = DL_CURR_PHYS_ADDR };
	ip_if_send_prim(ifp, &ir, sizeof ir);
	ip_if_send_prim(ifp, &br, sizeof br);
	ip_if_send_prim(ifp, &pr, sizeof pr);
	ip_if_ask_capab(ifp);
}

static int
ip_on_link(queue_t *upper_wq, UsMuxLower *lower)
{
	IpStack *is = ip_stack(upper_wq);
	IpIf *ifp = g_new0(IpIf, 1);
	ifp->if_is = is;
	ifp->if_lower = lower;
	ifp->if_index = is->is_ifs->len;
	ifp->if_mtu = 1500;
	ifp->if_flags = IP_IFF_UP;
	g_snprintf(ifp->if_name, sizeof ifp->if_name, "if%d", lower->ml_muxid);
	ifp->if_nce = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, ip_nce_free);
	ifp->if_ioc = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_ptr_array_add(is->is_ifs, ifp);
	lower->ml_cookie = ifp;
	is->st_interfaces++;
	ip_if_handshake(ifp);
	return 0;
}

static void
ip_on_unlink(queue_t *upper_wq, UsMuxLower *lower)
{
	IpStack *is = ip_stack(upper_wq);
	IpIf *ifp = lower->ml_cookie;
	if (ifp == NULL)
		return;
	ip_addr_forget_if(is, ifp);
	ip_ioc_pending_fail(ifp, ENXIO);
	ip_rt_del_ifindex(is->is_rt, ifp->if_index);
	is->st_routes = ip_rt_count(is->is_rt);
	g_ptr_array_index(is->is_ifs, ifp->if_index) = NULL;
	is->st_interfaces--;
}

const UsMuxLinkOps ip_link_ops = {
	.on_link = ip_on_link,
	.on_unlink = ip_on_unlink,
	.unlink_drop_reason = IP_DROP_NO_IFACE,
};

/* ------------------------------------------------------------------ */
/* Output                                                             */
/* ------------------------------------------------------------------ */

gboolean
ip_if_canput(IpIf *ifp)
{
	return us_mux_lower_canput(ifp->if_lower);
}

void
ip_if_forget_nce(IpIf *ifp, uint32_t nh)
{
	g_hash_table_remove(ifp->if_nce, GUINT_TO_POINTER(nh));
}

/* The DL_UNITDATA_REQ naming next hop nh in arp's form. */
static mblk_t *
ip_if_unitdata(uint32_t nh)
{
	mblk_t *mp = allocb(sizeof(dl_unitdata_req_t) + ARP_NH_LEN, BPRI_MED);
	if (mp == NULL)
		return NULL;
	dl_unitdata_req_t req = { .dl_primitive = DL_UNITDATA_REQ,
				  .dl_dest_addr_length = ARP_NH_LEN,
				  .dl_dest_addr_offset = sizeof req };
	memcpy(mp->b_wptr, &req, sizeof req);
	arp_nh_make(mp->b_wptr + sizeof req, nh, IP_ETHERTYPE);
	mp->b_wptr += sizeof req + ARP_NH_LEN;
	DB_TYPE(mp) = M_PROTO;
	return mp;
}

/* Asks for the link header of nh (DL_IOC_HDR_INFO). */
static void
ip_if_ask_header(IpIf *ifp, IpNce *nce)
{
	mblk_t *req = ip_if_unitdata(nce->nce_addr);
	mblk_t *io = req != NULL ? mkiocb(DL_IOC_HDR_INFO) : NULL;
	if (io == NULL) {
		freemsg(req);
		return;
	}
	DB_TYPE(req) = M_DATA;
	struct iocblk *ioc = (struct iocblk *)io->b_rptr;
	ioc->ioc_id = ++ifp->if_is->is_ioc_next;
	ioc->ioc_count = MBLKL(req);
	io->b_cont = req;
	nce->nce_state = IP_NCE_PENDING;
	nce->nce_ioc_id = ioc->ioc_id;
	putnext(ifp->if_lower->ml_qbot, io);
}

static IpNce *
ip_if_nce(IpIf *ifp, uint32_t nh)
{
	IpNce *nce = g_hash_table_lookup(ifp->if_nce, GUINT_TO_POINTER(nh));
	if (nce != NULL)
		return nce;
	if (g_hash_table_size(ifp->if_nce) >= IP_NCE_MAX)
		g_hash_table_remove_all(ifp->if_nce); /* crude, bounded */
	nce = g_new0(IpNce, 1);
	nce->nce_addr = nh;
	g_hash_table_insert(ifp->if_nce, GUINT_TO_POINTER(nh), nce);
	return nce;
}

/* Puts the prebuilt header in front of mp; NULL (mp freed) without memory. */
static mblk_t *
ip_if_prepend(const mblk_t *hdr, mblk_t *mp)
{
	size_t hl = MBLKL(hdr);
	if (DB_REF(mp) == 1 && MBLKHEAD(mp) >= hl) {
		mp->b_rptr -= hl;
		memcpy(mp->b_rptr, hdr->b_rptr, hl);
		return mp;
	}
	mblk_t *hp = allocb(hl, BPRI_MED);
	if (hp == NULL) {
		freemsg(mp);
		return NULL;
	}
	memcpy(hp->b_wptr, hdr->b_rptr, hl);
	hp->b_wptr += hl;
	hp->b_cont = mp;
	us_offload_copy(hp, mp);
	return hp;
}

void
ip_if_send(IpIf *ifp, uint32_t nh, mblk_t *mp)
{
	IpStack *is = ifp->if_is;
	if (!(ifp->if_flags & IP_IFF_UP) || !(ifp->if_flags & IP_IFF_RUNNING)) {
		ifp->if_odrops++;
		is->st_out_discards++;
		ip_drop(is, NULL, mp, IP_DROP_NO_IFACE);
		return;
	}
	size_t len = msgdsize(mp);
	IP_PROBE(send, is, ifp, (const IpHdr *)mp->b_rptr);
	IpNce *nce = ip_if_nce(ifp, nh);
	mblk_t *out;
	if (nce->nce_state == IP_NCE_READY) {
		out = ip_if_prepend(nce->nce_hdr, mp);
	} else {
		out = ip_if_unitdata(nh);
		if (out != NULL)
			out->b_cont = mp;
		else
			freemsg(mp);
	}
	if (out == NULL) {
		ifp->if_odrops++;
		is->st_out_discards++;
		ip_drop(is, NULL, NULL, IP_DROP_NOMEM);
		return;
	}
	ifp->if_opackets++;
	ifp->if_obytes += len;
	gboolean ask = nce->nce_state == IP_NCE_NONE && ip_now(is) >= nce->nce_retry_at;
	putnext(ifp->if_lower->ml_qbot, out);
	/* arp may have answered ARP_UNREACH_IND inside putnext, and that
	 * frees the entry: look it up again. */
	if (ask && (nce = g_hash_table_lookup(ifp->if_nce, GUINT_TO_POINTER(nh))) != NULL)
		ip_if_ask_header(ifp, nce);
}

/* ------------------------------------------------------------------ */
/* From the interface                                                 */
/* ------------------------------------------------------------------ */

static void
ip_if_info_ack(IpIf *ifp, mblk_t *mp)
{
	dl_info_ack_t ia;
	if (MBLKL(mp) < sizeof ia)
		return;
	memcpy(&ia, mp->b_rptr, sizeof ia);
	if (!ifp->if_mtu_set && ia.dl_max_sdu >= 68)
		ifp->if_mtu = ia.dl_max_sdu;
}

static void
ip_if_phys_ack(IpIf *ifp, mblk_t *mp)
{
	dl_phys_addr_ack_t pa;
	if (MBLKL(mp) < sizeof pa)
		return;
	memcpy(&pa, mp->b_rptr, sizeof pa);
	if (pa.dl_addr_length >= 6 && pa.dl_addr_offset <= MBLKL(mp) &&
	    MBLKL(mp) - pa.dl_addr_offset >= 6)
		memcpy(ifp->if_mac, mp->b_rptr + pa.dl_addr_offset, 6);
}

static void
ip_if_error_ack(IpIf *ifp, mblk_t *mp)
{
	dl_error_ack_t ea;
	if (MBLKL(mp) < sizeof ea)
		return;
	memcpy(&ea, mp->b_rptr, sizeof ea);
	g_message("%s: DLPI primitive 0x%x failed: error %u", ifp->if_name, ea.dl_error_primitive,
		  ea.dl_errno);
	if (ea.dl_error_primitive == DL_BIND_REQ)
		ifp->if_flags &= ~IP_IFF_RUNNING;
}

/* ARP could not resolve addr: the first datagram that waited is quoted in
 * an ICMP host unreachable (RFC 1122 §3.2.2.1, RFC 1812 §4.3.3.1). */
static void
ip_if_arp_unreach(IpIf *ifp, mblk_t *mp)
{
	IpStack *is = ifp->if_is;
	struct arp_unreach_ind ui;
	memcpy(&ui, mp->b_rptr, sizeof ui);
	ip_if_forget_nce(ifp, ui.addr);
	mblk_t *dp = mp->b_cont;
	if (dp != NULL && msgdsize(dp) >= IP_HDR_MIN) {
		IpHdr h;
		us_msgcopyout(dp, 0, &h, sizeof h);
		if (g_hash_table_contains(is->is_local, GUINT_TO_POINTER(h.src)))
			ip_icmp_local_error(is, h.src, dp, ICMP_UNREACH, ICMP_UNREACH_HOST, 0);
		else
			ip_icmp_error(is, dp, ICMP_UNREACH, ICMP_UNREACH_HOST, 0);
	}
	is->st_out_discards++;
	ip_drop(is, NULL, mp, IP_DROP_ARP);
}

/* A DLPI primitive or arp indication from the interface (consumes mp). */
static void
ip_if_proto(IpIf *ifp, queue_t *q, mblk_t *mp)
{
	IpStack *is = ifp->if_is;
	uint32_t prim;
	if (MBLKL(mp) < sizeof prim) {
		ip_drop(is, q, mp, IP_DROP_BADPRIM);
		return;
	}
	memcpy(&prim, mp->b_rptr, sizeof prim);
	switch (prim) {
	case DL_UNITDATA_IND: {
		mblk_t *dp = mp->b_cont;
		if (dp == NULL || MBLKL(mp) < sizeof(dl_unitdata_ind_t)) {
			ip_drop(is, q, mp, IP_DROP_BADPRIM);
			return;
		}
		mp->b_cont = NULL;
		freeb(mp);
		ip_input(is, ifp, dp);
		return;
	}
	case DL_INFO_ACK: ip_if_info_ack(ifp, mp); break;
	case DL_CAPABILITY_ACK: ip_if_capab_ack(ifp, mp); break;
	case DL_BIND_ACK: ifp->if_flags |= IP_IFF_RUNNING; break;
	case DL_PHYS_ADDR_ACK: ip_if_phys_ack(ifp, mp); break;
	case DL_ERROR_ACK: ip_if_error_ack(ifp, mp); break;
	case DL_OK_ACK:
	case DL_NOTIFY_IND:
	case DL_UDERROR_IND: break;
	case ARP_UNREACH_IND:
		if (MBLKL(mp) >= sizeof(struct arp_unreach_ind)) {
			ip_if_arp_unreach(ifp, mp);
			return;
		}
		ip_drop(is, q, mp, IP_DROP_BADPRIM);
		return;
	case ARP_CHANGED_IND:
		if (MBLKL(mp) >= sizeof(struct arp_changed_ind)) {
			struct arp_changed_ind ci;
			memcpy(&ci, mp->b_rptr, sizeof ci);
			ip_if_forget_nce(ifp, ci.addr);
		}
		break;
	default: ip_drop(is, q, mp, IP_DROP_BADPRIM); return;
	}
	freemsg(mp);
}

static IpNce *
ip_if_nce_by_ioc(IpIf *ifp, uint32_t id)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, ifp->if_nce);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		IpNce *nce = v;
		if (nce->nce_state == IP_NCE_PENDING && nce->nce_ioc_id == id)
			return nce;
	}
	return NULL;
}

/* The answer to an ioctl ip sent down: DL_IOC_HDR_INFO (the header is
 * b_cont->b_cont of an ACK) or ARP_ADD_LOCAL/ARP_DEL_LOCAL. */
static void
ip_if_ioc_reply(IpIf *ifp, mblk_t *mp)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	if (MBLKL(mp) < sizeof *ioc)
		goto done;
	if (ip_ioc_pending_reply(ifp, mp))
		return;
	if (ioc->ioc_cmd == DL_IOC_HDR_INFO) {
		IpNce *nce = ip_if_nce_by_ioc(ifp, ioc->ioc_id);
		if (nce == NULL)
			goto done;
		mblk_t *hdr = mp->b_cont != NULL ? mp->b_cont->b_cont : NULL;
		if (DB_TYPE(mp) == M_IOCACK && hdr != NULL && MBLKL(hdr) > 0) {
			freemsg(nce->nce_hdr);
			nce->nce_hdr = copyb(hdr);
			nce->nce_state = nce->nce_hdr != NULL ? IP_NCE_READY : IP_NCE_NONE;
		} else {
			nce->nce_state = IP_NCE_NONE;
			nce->nce_retry_at = ip_now(ifp->if_is) + IP_NCE_RETRY_NS;
		}
	} else if (DB_TYPE(mp) == M_IOCNAK) {
		g_message("%s: ioctl 0x%x refused: %s", ifp->if_name, ioc->ioc_cmd,
			  g_strerror(ioc->ioc_error));
	}
done:
	freemsg(mp);
}

/* Lower read put: what an interface stream sends up. */
int
ip_lrput(queue_t *q, mblk_t *mp)
{
	UsMuxLower *lower = us_mux_lower_of(q);
	IpIf *ifp = lower != NULL ? lower->ml_cookie : NULL;
	if (ifp == NULL) {
		/* unlinked, not yet given back */
		ip_drop(ip_stack(q), q, mp, IP_DROP_NO_IFACE);
		return 0;
	}
	IpStack *is = ifp->if_is;
	switch (DB_TYPE(mp)) {
	case M_DATA: ip_input(is, ifp, mp); break;
	case M_PROTO:
	case M_PCPROTO: ip_if_proto(ifp, q, mp); break;
	case M_IOCACK:
	case M_IOCNAK: ip_if_ioc_reply(ifp, mp); break;
	case M_FLUSH: us_mux_lower_flush(q, mp); break;
	case M_ERROR:
	case M_HANGUP:
		g_info("%s: the interface stream failed (%s)", ifp->if_name,
		       DB_TYPE(mp) == M_ERROR ? "M_ERROR" : "M_HANGUP");
		ifp->if_flags &= ~IP_IFF_RUNNING;
		freemsg(mp);
		break;
	default: ip_drop(is, q, mp, US_DROP_UNHANDLED); break;
	}
	return 0;
}
