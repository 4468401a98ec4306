/* SPDX-License-Identifier: MIT */
/*
 * pkthook -- where the packet is in a message: the helper snoop and filter
 * share to see packets wherever they are pushed.
 *
 * Theory
 * ------
 * A module pushed on an interface or an ip stream sees packets in one of a
 * few message forms, depending on where it sits (the hooks of pkthook.h):
 *
 *   below ether      M_DATA: a whole Ethernet frame, both ways.
 *   above ether      DL_UNITDATA_IND (up) / DL_UNITDATA_REQ (down): the
 *                    payload in b_cont, the ethertype as the SAP in the last
 *                    two bytes of the DLSAP (ether's 8-byte MAC+SAP, or
 *                    arp's 6-byte next hop + SAP: both put it last, host
 *                    order).  Fast-path M_DATA: going up it begins at the IP
 *                    header (ether moved b_rptr past the link header), going
 *                    down at the Ethernet header ip prepended (14 bytes, 18
 *                    with an 802.1Q tag), which is skipped.  Only IPv4
 *                    (SAP or ethertype 0x0800, version 4) is a packet here;
 *                    ARP and other SAPs are "foreign".
 *   ip/transport     IP_UNITDATA_IND: b_cont is the datagram from its IP
 *                    header.  IP_UNITDATA_REQ: b_cont is the payload; ip
 *                    builds the header later, so one is synthesised from the
 *                    request: version 4, IHL 5, tos, total length, id 0, DF
 *                    when IP_F_DF, ttl (64 when the request says 0, ip's
 *                    default), proto, src (0.0.0.0 when ip is to choose),
 *                    dst, and a correct header checksum.  The transport
 *                    checksum stays as the transport wrote it (under
 *                    IP_F_CKSUM ip fills it in later).  With IP_F_HDRINCL
 *                    b_cont already begins with the header and is taken as
 *                    it is.
 *
 * Which hook a module is at comes from the stream below its write queue
 * (us__pkthook_probe): ether below means above ether; ip at the bottom
 * means between ip and a transport; another multiplexor at the bottom (a
 * transport) means a socket stream, where TPI carries payload, not packets;
 * a plain driver means the link.  A primitive of the DLPI or IP form seen
 * where the probe said "link" proves otherwise (us__pkthook_refine): the
 * harness's fake driver, or a driver that speaks DLPI itself.
 *
 * Views never modify or consume the message: a packet contiguous in one
 * block is seen in place, anything else is copied once into the caller's
 * scratch buffer.  Only M_DATA blocks count as packet bytes.
 *
 * libpcap's compiler keeps global parser state in older versions, so
 * pcap_compile runs under one lock for all worlds.
 */
#define G_LOG_DOMAIN "us-pkthook"

#include "pkthook.h"

#include "ether-wire.h"
#include "inet-cksum.h"
#include "ip.h"

#include <ustreams/dlpi.h>
#include <ustreams/registry.h>

#include <string.h>

#define PKTHOOK_SNAPLEN 262144 /* what compiled programs accept at most */
#define PKTHOOK_PROBE_MAX 64   /* modules walked below, at most */
#define PKTHOOK_IP_HLEN 20
#define PKTHOOK_DEFAULT_TTL 64

static GMutex pkthook_compile_lock;

static const char *const pkthook_names[] = {
	[PKTHOOK_AUTO] = "auto", [PKTHOOK_LINK] = "link", [PKTHOOK_DLPI] = "dlpi",
	[PKTHOOK_IP] = "ip",     [PKTHOOK_NONE] = "none",
};

/* ------------------------------------------------------------------ */
/* Hooks                                                              */
/* ------------------------------------------------------------------ */

PktHook
us__pkthook_probe(queue_t *q)
{
	queue_t *wq = WR(q)->q_next;
	for (guint depth = 0; wq != NULL && depth < PKTHOOK_PROBE_MAX; depth++) {
		const UsModuleDesc *d = us_queue_desc(wq);
		if (d != NULL && d->kind == US_KIND_MODULE && strcmp(d->name, "ether") == 0)
			return PKTHOOK_DLPI;
		if (wq->q_next == NULL || (wq->q_flag & QISDRV)) {
			if (d != NULL && d->kind == US_KIND_MUX)
				return strcmp(d->name, "ip") == 0 ? PKTHOOK_IP : PKTHOOK_NONE;
			return PKTHOOK_LINK;
		}
		wq = wq->q_next;
	}
	return PKTHOOK_LINK;
}

const char *
us__pkthook_name(PktHook hook)
{
	return (guint)hook < G_N_ELEMENTS(pkthook_names) ? pkthook_names[hook] : "?";
}

gboolean
us__pkthook_parse(const char *s, PktHook *out)
{
	if (s == NULL || *s == '\0') {
		*out = PKTHOOK_AUTO;
		return TRUE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(pkthook_names); i++) {
		if (strcmp(s, pkthook_names[i]) == 0) {
			*out = (PktHook)i;
			return TRUE;
		}
	}
	return FALSE;
}

int
us__pkthook_dlt(PktHook hook)
{
	switch (hook) {
	case PKTHOOK_LINK: return DLT_EN10MB;
	case PKTHOOK_DLPI:
	case PKTHOOK_IP: return DLT_RAW;
	default: return -1;
	}
}

PktHook
us__pkthook_refine(PktHook probed, PktForm form)
{
	if (probed != PKTHOOK_LINK)
		return probed;
	switch (form) {
	case PKTFORM_DLPI: return PKTHOOK_DLPI;
	case PKTFORM_IP: return PKTHOOK_IP;
	default: return probed;
	}
}

/* ------------------------------------------------------------------ */
/* Forms                                                              */
/* ------------------------------------------------------------------ */

static uint32_t
pkthook_prim(const mblk_t *mp)
{
	uint32_t prim;
	memcpy(&prim, mp->b_rptr, sizeof prim);
	return prim;
}

PktForm
us__pkthook_form(const mblk_t *mp, gboolean up)
{
	if (DB_TYPE(mp) == M_DATA)
		return PKTFORM_DATA;
	if (DB_TYPE(mp) != M_PROTO || MBLKL(mp) < sizeof(uint32_t))
		return PKTFORM_NONE;
	uint32_t prim = pkthook_prim(mp);
	size_t len = MBLKL(mp);
	if (up ? prim == DL_UNITDATA_IND && len >= sizeof(dl_unitdata_ind_t)
	       : prim == DL_UNITDATA_REQ && len >= sizeof(dl_unitdata_req_t))
		return PKTFORM_DLPI;
	if (up ? prim == IP_UNITDATA_IND && len >= sizeof(struct ip_unitdata_ind)
	       : prim == IP_UNITDATA_REQ && len >= sizeof(struct ip_unitdata_req))
		return PKTFORM_IP;
	return PKTFORM_NONE;
}

/* ------------------------------------------------------------------ */
/* Views                                                              */
/* ------------------------------------------------------------------ */

static guint8 *
pkthook_scratch(PktScratch *s, size_t len)
{
	if (s->cap < len) {
		s->cap = MAX(len, 2048);
		g_free(s->buf);
		s->buf = g_malloc(s->cap);
	}
	return s->buf;
}

void
us__pkthook_scratch_clear(PktScratch *s)
{
	g_clear_pointer(&s->buf, g_free);
	s->cap = 0;
}

/* Bytes of the M_DATA blocks of the chain mp. */
static size_t
pkthook_data_len(const mblk_t *mp)
{
	size_t n = 0;
	for (; mp != NULL; mp = mp->b_cont)
		if (DB_TYPE(mp) == M_DATA)
			n += MBLKL(mp);
	return n;
}

/* Copies the M_DATA bytes of mp from off on into out (len of them). */
static void
pkthook_copy(const mblk_t *mp, size_t off, guint8 *out, size_t len)
{
	for (; mp != NULL && len > 0; mp = mp->b_cont) {
		if (DB_TYPE(mp) != M_DATA)
			continue;
		size_t l = MBLKL(mp);
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t n = MIN(l - off, len);
		memcpy(out, mp->b_rptr + off, n);
		out += n;
		len -= n;
		off = 0;
	}
}

/* The M_DATA bytes of the chain mp from off on: in place when they lie in
 * one block, else copied into s.  FALSE when there are none. */
static gboolean
pkthook_chain_view(const mblk_t *mp, size_t off, PktScratch *s, PktView *v)
{
	size_t total = pkthook_data_len(mp);
	if (total <= off)
		return FALSE;
	v->len = total - off;
	size_t skip = off;
	for (const mblk_t *b = mp; b != NULL; b = b->b_cont) {
		if (DB_TYPE(b) != M_DATA)
			continue;
		if (skip >= MBLKL(b)) {
			skip -= MBLKL(b);
			continue;
		}
		if (MBLKL(b) - skip == v->len) {
			v->data = b->b_rptr + skip;
			return TRUE;
		}
		break;
	}
	guint8 *buf = pkthook_scratch(s, v->len);
	pkthook_copy(mp, off, buf, v->len);
	v->data = buf;
	return TRUE;
}

static PktVerdict
pkthook_ipv4(gboolean have, const PktView *v)
{
	if (!have)
		return PKT_FOREIGN;
	return (v->data[0] >> 4) == 4 ? PKT_OK : PKT_FOREIGN;
}

/* Fast-path M_DATA going down: skip the Ethernet header (and tag). */
static PktVerdict
pkthook_fastpath_down(const mblk_t *mp, PktScratch *s, PktView *v)
{
	guint8 h[ETHER_VLAN_HLEN];
	size_t n = us_msgcopyout(mp, 0, h, sizeof h);
	if (n < ETHER_HLEN)
		return PKT_FOREIGN;
	uint16_t type = ether_get16(h + ETHER_OFF_TYPE);
	size_t off = ETHER_HLEN;
	if (type == ETHER_T_VLAN && n >= ETHER_VLAN_HLEN) {
		type = ether_get16(h + ETHER_OFF_VLAN_TYPE);
		off = ETHER_VLAN_HLEN;
	}
	if (type != ETHER_T_IPV4)
		return PKT_FOREIGN;
	return pkthook_ipv4(pkthook_chain_view(mp, off, s, v), v);
}

/* The SAP at the end of a DLSAP address of the primitive in mp, or -1
 * when the address is missing or out of the block. */
static int
pkthook_sap(const mblk_t *mp, uint32_t len, uint32_t off)
{
	if (len < 2 || off > MBLKL(mp) || len > MBLKL(mp) - off)
		return -1;
	uint16_t sap;
	memcpy(&sap, mp->b_rptr + off + len - 2, sizeof sap);
	return sap;
}

static PktVerdict
pkthook_dl_unitdata(gboolean up, const mblk_t *mp, PktScratch *s, PktView *v)
{
	int sap;
	if (up) {
		dl_unitdata_ind_t ind;
		memcpy(&ind, mp->b_rptr, sizeof ind);
		sap = pkthook_sap(mp, ind.dl_dest_addr_length, ind.dl_dest_addr_offset);
		if (sap < 0)
			sap = pkthook_sap(mp, ind.dl_src_addr_length, ind.dl_src_addr_offset);
	} else {
		dl_unitdata_req_t req;
		memcpy(&req, mp->b_rptr, sizeof req);
		sap = pkthook_sap(mp, req.dl_dest_addr_length, req.dl_dest_addr_offset);
	}
	if (sap >= 0 && sap != ETHER_T_IPV4)
		return PKT_FOREIGN;
	return pkthook_ipv4(pkthook_chain_view(mp->b_cont, 0, s, v), v);
}

/* IP_UNITDATA_REQ: the datagram ip will build, header synthesised. */
static PktVerdict
pkthook_ip_req(const mblk_t *mp, PktScratch *s, PktView *v)
{
	struct ip_unitdata_req req;
	memcpy(&req, mp->b_rptr, sizeof req);
	if (req.flags & IP_F_HDRINCL)
		return pkthook_ipv4(pkthook_chain_view(mp->b_cont, 0, s, v), v);
	size_t plen = pkthook_data_len(mp->b_cont);
	guint8 *h = pkthook_scratch(s, PKTHOOK_IP_HLEN + plen);
	size_t total = MIN(PKTHOOK_IP_HLEN + plen, 0xffff);
	memset(h, 0, PKTHOOK_IP_HLEN);
	h[0] = 0x45;
	h[1] = req.tos;
	ether_put16(h + 2, (uint16_t)total);
	ether_put16(h + 6, (req.flags & IP_F_DF) ? 0x4000 : 0);
	h[8] = req.ttl != 0 ? req.ttl : PKTHOOK_DEFAULT_TTL;
	h[9] = req.proto;
	memcpy(h + 12, &req.src, 4);
	memcpy(h + 16, &req.dst, 4);
	uint16_t ck = us_cksum(h, PKTHOOK_IP_HLEN);
	memcpy(h + 10, &ck, sizeof ck);
	pkthook_copy(mp->b_cont, 0, h + PKTHOOK_IP_HLEN, plen);
	v->data = h;
	v->len = PKTHOOK_IP_HLEN + plen;
	return PKT_OK;
}

PktVerdict
us__pkthook_view(PktHook hook, gboolean up, const mblk_t *mp, PktScratch *s, PktView *v)
{
	PktForm form = us__pkthook_form(mp, up);
	switch (hook) {
	case PKTHOOK_LINK:
		if (form != PKTFORM_DATA)
			return PKT_NOT_PACKET;
		return pkthook_chain_view(mp, 0, s, v) ? PKT_OK : PKT_NOT_PACKET;
	case PKTHOOK_DLPI:
		if (form == PKTFORM_DLPI)
			return pkthook_dl_unitdata(up, mp, s, v);
		if (form != PKTFORM_DATA || pkthook_data_len(mp) == 0)
			return PKT_NOT_PACKET;
		if (!up)
			return pkthook_fastpath_down(mp, s, v);
		return pkthook_ipv4(pkthook_chain_view(mp, 0, s, v), v);
	case PKTHOOK_IP:
		if (form != PKTFORM_IP)
			return PKT_NOT_PACKET;
		if (!up)
			return pkthook_ip_req(mp, s, v);
		return pkthook_ipv4(pkthook_chain_view(mp->b_cont, 0, s, v), v);
	default: return PKT_NOT_PACKET;
	}
}

/* ------------------------------------------------------------------ */
/* BPF                                                                */
/* ------------------------------------------------------------------ */

gboolean
us__pkthook_compile(int dlt, const char *expr, struct bpf_program *prog, GError **error)
{
	gboolean ok = FALSE;
	g_mutex_lock(&pkthook_compile_lock);
	pcap_t *p = pcap_open_dead(dlt, PKTHOOK_SNAPLEN);
	if (p == NULL) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID, "pcap_open_dead(%d) failed", dlt);
	} else if (pcap_compile(p, prog, expr != NULL ? expr : "", 1, PCAP_NETMASK_UNKNOWN) != 0) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID, "%s", pcap_geterr(p));
	} else {
		ok = TRUE;
	}
	if (p != NULL)
		pcap_close(p);
	g_mutex_unlock(&pkthook_compile_lock);
	return ok;
}

gboolean
us__pkthook_match(const struct bpf_program *prog, const PktView *v)
{
	struct pcap_pkthdr h = { .caplen = (bpf_u_int32)v->len, .len = (bpf_u_int32)v->len };
	return pcap_offline_filter(prog, &h, v->data) != 0;
}
