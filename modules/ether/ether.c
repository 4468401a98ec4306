/* SPDX-License-Identifier: MIT */
/*
 * ether -- a DLPI version 2 provider over Ethernet II framing, pushed on an
 * interface stream directly above a driver that moves raw frames.
 *
 * Theory
 * ------
 * Below: a driver (tap, afpacket, pcap, wire ...) that sends up and takes down
 * whole frames as M_DATA: the 14-byte header (18 with an 802.1Q tag), the
 * payload, no FCS.  Above: the one stream STREAMS gives a module, speaking
 * DLPI v2 as a style 1 (the interface is implied: the stream starts in
 * DL_UNBOUND), connectionless (DL_CLDLS), DL_ETHER provider whose DLSAP
 * addresses are the MAC followed by a 2-byte SAP (layout in ether.h).
 *
 * Binding.  A SAP is an ethertype (above 1500).  arp and ip share one
 * interface stream, so ether keeps a table of up to ETHER_SAP_MAX bound SAPs:
 * DL_BIND_REQ may be repeated in DL_IDLE, each adding a SAP (a duplicate is
 * acknowledged and changes nothing); DL_SUBS_BIND_REQ (DL_PEER_BIND, a bare
 * 2-byte SAP) adds one too; DL_SUBS_UNBIND_REQ removes an added SAP; and
 * DL_UNBIND_REQ removes them all and returns to DL_UNBOUND.  DL_UNITDATA_IND
 * carries the frame's ethertype in both DLSAP addresses, so the user above can
 * tell the protocols apart.
 *
 * Receive (read put, M_DATA from the driver), in this order:
 *  1. "up" false: dropped (down).
 *  2. The header is checked (runt: ierrors) and a tag recognised; a payload
 *     above "mru" (the MTU when 0) is dropped (oversize: ierrors).  Counted
 *     in ipackets/ibytes; a tag counts vlan_ipackets and sets vlan_last_id.
 *  3. VLAN: with "vlan" 0 untagged frames and tagged frames of any VID pass;
 *     with "vlan" N only frames tagged with VID N do (other VLAN).
 *  4. Addresses.  For us: unicast to the current address, broadcast (when
 *     "broadcast"), an enabled multicast address (when "multicast").
 *     Accepted promiscuously: any multicast under DL_PROMISC_MULTI, anything
 *     under DL_PROMISC_PHYS or the "promisc" parameter.  The rest: dropped
 *     (not for us).  Accepted group frames count imcasts.
 *  5. Not DL_IDLE: dropped (not bound).  Ethertype not bound and no
 *     DL_PROMISC_SAP: dropped (unbound SAP; LLC for an 802.3 length field).
 *     Both count noproto.
 *  6. Delivery, the 802.1Q tag removed in every form but raw:
 *       raw mode (DLIOCRAW)              M_DATA, the frame as received;
 *       fast-path SAP, frame for us      M_DATA, b_rptr past the MAC header;
 *       otherwise                        DL_UNITDATA_IND, payload in b_cont.
 *     A frame accepted only promiscuously always goes up as DL_UNITDATA_IND
 *     (unless raw), so a fast-path user (ip) never takes another host's
 *     unicast for its own.
 *
 * Send (write put):
 *   DL_UNITDATA_REQ: a header from dl_dest_addr (MAC + ethertype) and the
 *     current address, tagged when "vlan" is set, written into the payload's
 *     headroom when its first block is private (db_ref 1) and has room, else
 *     into a new block.  A payload above "mtu" or holding a non-M_DATA block
 *     is answered DL_UDERROR_IND DL_BADDATA.
 *   M_DATA (fast-path or raw mode, DL_IDLE): already a frame; checked (runt,
 *     oversize: oerrors) and passed down unchanged.
 *
 * The fast path, with Solaris semantics (illumos dld: ioc_fast and
 * dld_str_rx_fastpath).  An M_IOCTL DL_IOC_HDR_INFO whose b_cont holds a
 * DL_UNITDATA_REQ naming a destination is answered, in DL_IDLE, by M_IOCACK
 * with b_cont = that request and b_cont->b_cont = the prebuilt link header
 * (one M_DATA block, tagged when "vlan" is set); ioc_count covers both.  From
 * then on the stream is in fast-path mode: M_DATA sent down must begin with a
 * link header and goes to the driver unchanged, and frames of the SAP named
 * in the request (if bound then) go up as M_DATA with b_rptr just past the
 * MAC header (past the tag too).  NAKs: EINVAL (malformed, TRANSPARENT, bad address), ENOTSUP
 * (not DL_IDLE), ENOMEM.  DL_UNBIND_REQ leaves fast-path and raw mode.  When
 * what a header holds changes (the address, "vlan"), DL_NOTE_FASTPATH_FLUSH is
 * indicated if enabled; old headers still go out, with the old values.
 *
 * The interface: parameters "mac" (default 02:00:00:00:00:01; setting it
 * sets the factory and the current address, DL_SET_PHYS_ADDR_REQ only the
 * current one, and "mac" then reads the current one), "mtu" (1500), "mru",
 * "vlan", and the flags "up", "broadcast", "multicast" (all true at open, so a
 * freshly pushed ether works) and "promisc" (false).  Counters like ifnet's
 * and the flags word are statistics (ether.h); every drop goes through
 * us_drop() with a reason from ether_drop_reasons.
 *
 * Malformed requests never cause a read out of bounds: a primitive shorter
 * than its fixed part, or an offset/length pair pointing outside its first
 * block, gets DL_ERROR_ACK DL_BADPRIM; a block too short to hold dl_primitive
 * is dropped (bad primitive length).  Unknown primitives get DL_BADPRIM;
 * request primitives that this provider does not offer (connection mode,
 * XID/TEST, QoS, capabilities, statistics ...) get DL_NOTSUPPORTED.
 *
 * Primitive           state       answer and errors (E: DL_ERROR_ACK)
 * DL_INFO_REQ         any         DL_INFO_ACK
 * DL_ATTACH_REQ       -           E DL_OUTSTATE (E DL_BADPRIM if short)
 * DL_DETACH_REQ       -           E DL_OUTSTATE when bound, else DL_BADPRIM
 * DL_BIND_REQ         any         DL_BIND_ACK; E DL_BADSAP, DL_UNSUPPORTED
 *                                 (not DL_CLDLS), DL_NOAUTO, DL_TOOMANY
 * DL_SUBS_BIND_REQ    DL_IDLE     DL_SUBS_BIND_ACK; E DL_BADADDR,
 *                                 DL_UNSUPPORTED (hierarchical), DL_TOOMANY
 * DL_SUBS_UNBIND_REQ  DL_IDLE     DL_OK_ACK; E DL_BADADDR (not an added SAP)
 * DL_UNBIND_REQ       DL_IDLE     M_FLUSH(FLUSHRW) up, then DL_OK_ACK
 * DL_UNITDATA_REQ     DL_IDLE     a frame down; E DL_BADPRIM, DL_BADADDR,
 *                                 DL_OUTSTATE; DL_UDERROR_IND DL_BADDATA
 * DL_PHYS_ADDR_REQ    any         DL_PHYS_ADDR_ACK; E DL_UNSUPPORTED (type)
 * DL_SET_PHYS_ADDR_REQ any        DL_OK_ACK; E DL_BADADDR (group or zero)
 * DL_ENABMULTI_REQ    any         DL_OK_ACK; E DL_BADADDR, DL_TOOMANY
 * DL_DISABMULTI_REQ   any         DL_OK_ACK; E DL_BADADDR, DL_NOTENAB
 * DL_PROMISCON_REQ    any         DL_OK_ACK; E DL_NOTSUPPORTED (level)
 * DL_PROMISCOFF_REQ   any         DL_OK_ACK; E DL_NOTENAB, DL_NOTSUPPORTED
 * DL_NOTIFY_REQ       any         DL_NOTIFY_ACK (ETHER_NOTES), then one
 *                                 DL_NOTIFY_IND per enabled current state
 * Acknowledgements are M_PCPROTO sent with qreply(); DL_UDERROR_IND,
 * DL_NOTIFY_ACK and DL_NOTIFY_IND are M_PROTO.  dl_unix_errno is 0 throughout
 * (no DL_SYSERR is ever produced).
 *
 * Flow control: ether has no service procedures, so it is transparent: the
 * driver's and the user's canputnext() look straight past it and nothing is
 * ever queued here.  M_FLUSH gets the canonical module handling; other
 * messages pass through; unknown ioctls go down to the driver.
 *
 * Reading list: DLPI 2.0.0 (UNIX International, The Open Group C811) for
 * primitives, states and errors; illumos dlpi(4P) and the dld driver for the
 * Solaris Ethernet conventions (DLSAP layout, dl_sap_length -2, fast path);
 * IEEE 802.3 clause 3.2.6 and IEEE 802.1Q clause 9.6 for the frame.
 *
 * Deviations
 *  - DL_BIND_REQ in DL_IDLE adds a SAP (DLPI: DL_OUTSTATE), so several users
 *    can share the one stream above; DL_UNBIND_REQ removes all SAPs.
 *  - Fast-path receive is per SAP (Solaris: per stream, and one SAP per
 *    stream), so arp can stay on DL_UNITDATA_IND while ip uses the fast path.
 *  - DL_ATTACH_REQ is answered DL_OUTSTATE, from DLPI's state table (a style
 *    1 stream is never DL_UNATTACHED); illumos dld answers DL_BADPRIM.
 *  - DL_UNBIND_REQ sends M_FLUSH(FLUSHRW) up before DL_OK_ACK, as SVR4
 *    providers do; illumos dld sends none.
 *  - DL_UNITDATA_REQ and M_DATA while "up" is false are dropped (down), not
 *    answered with DL_UDERROR_IND.
 *  - Outgoing frames are not looped back to a promiscuous user; the Solaris
 *    DL_PROMISC_RX_ONLY/INCOMING/OUTGOING levels get DL_NOTSUPPORTED.
 *  - Raw mode keeps the 802.1Q tag on received frames (illumos strips it).
 *  - DL_INFO_ACK carries no QoS (dl_qos_length and dl_qos_range_length 0),
 *    and DL_UDQOS_REQ gets DL_NOTSUPPORTED; tagged output has PCP 0.
 *  - Output frames are not padded to the 60-byte minimum (the driver's or
 *    hardware's business), and 802.3/LLC output is not offered.
 */
#define G_LOG_DOMAIN "us-ether"

#include "ether.h"
#include "ether-wire.h"

#include <ustreams/dlpi.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

/* One bound SAP. */
typedef struct {
	uint16_t sap;      /* the ethertype */
	gboolean fastpath; /* DL_IOC_HDR_INFO named it: its frames go up as M_DATA */
} EtherSap;

/* DL_PROMISC_* levels that are on (es_prom bits). */
#define ETHER_PROM_PHYS 0x1
#define ETHER_PROM_SAP 0x2
#define ETHER_PROM_MULTI 0x4

/* Per-instance state (q_ptr of both queues).  Parameter and statistic fields
 * are read and written by the framework through the descriptor's tables. */
typedef struct {
	/* parameters */
	char *es_mac;          /* "mac": the current address as text (freed at close) */
	guint64 es_mtu;        /* "mtu": dl_max_sdu, the largest payload sent */
	guint64 es_mru;        /* "mru": largest payload received, 0 meaning es_mtu */
	guint64 es_vlan;       /* "vlan": 0, or the VID output is tagged with */
	gboolean es_up;        /* "up": IFF_UP */
	gboolean es_broadcast; /* "broadcast": receive broadcast (IFF_BROADCAST) */
	gboolean es_multicast; /* "multicast": receive enabled groups (IFF_MULTICAST) */
	gboolean es_promisc;   /* "promisc": accept all unicast, like DL_PROMISC_PHYS */
	/* statistics (ETHER_STAT_* in ether.h) */
	guint64 es_ipackets, es_ibytes, es_ierrors, es_imcasts;
	guint64 es_opackets, es_obytes, es_oerrors, es_omcasts;
	guint64 es_noproto;
	guint64 es_vlan_ipackets, es_vlan_last_id;
	guint64 es_flags; /* ETHER_IFF_*, kept current by ether_update_flags() */
	guint64 es_unitdata_ind, es_unitdata_req, es_fastpath_in, es_fastpath_out;
	guint64 es_dl_errors;
	/* DLPI state */
	queue_t *es_rq;                                /* our read queue, for indications */
	t_uscalar_t es_dl_state;                       /* DL_UNBOUND or DL_IDLE */
	uint8_t es_fact_addr[ETHER_ALEN];              /* factory address ("mac" sets it) */
	uint8_t es_curr_addr[ETHER_ALEN];              /* current address (and DL_SET_PHYS_ADDR) */
	EtherSap es_saps[ETHER_SAP_MAX];               /* bound SAPs; [0] from DL_BIND_REQ */
	guint es_nsaps;                                /* entries used in es_saps */
	uint8_t es_mcast[ETHER_MCAST_MAX][ETHER_ALEN]; /* enabled multicast addresses */
	guint es_nmcast;                               /* entries used in es_mcast */
	guint es_prom;                                 /* ETHER_PROM_* */
	gboolean es_fastpath;                          /* DL_IOC_HDR_INFO done: M_DATA goes down */
	gboolean es_raw;                               /* DLIOCRAW done */
	uint32_t es_notes;                             /* DL_NOTE_* enabled by DL_NOTIFY_REQ */
	gboolean es_link_was_up;                       /* link state last indicated (or at open) */
	guint64 es_mtu_was;                            /* SDU size last indicated (or at open) */
	mblk_t *es_capab_wait; /* DL_CAPABILITY_REQs waiting for the driver (b_next list) */
	guint es_capab_ioc_id; /* the DLIOCLINKCAPAB sent for them, 0: none */
} EtherState;

static const char *const ether_drop_reasons[] = {
	[ETHER_DROP_RUNT] = "runt frame",
	[ETHER_DROP_OVERSIZE] = "oversize frame",
	[ETHER_DROP_NOT_FOR_US] = "not for us",
	[ETHER_DROP_UNBOUND_SAP] = "unbound SAP",
	[ETHER_DROP_LLC] = "802.3 length (LLC) frame",
	[ETHER_DROP_NOT_BOUND] = "stream not bound",
	[ETHER_DROP_OTHER_VLAN] = "other VLAN",
	[ETHER_DROP_DOWN] = "interface down",
	[ETHER_DROP_BADPRIM] = "bad primitive length",
	[ETHER_DROP_BADIOCTL] = "bad ioctl length",
	[ETHER_DROP_NOT_FASTPATH] = "M_DATA outside fast-path or raw mode",
	[ETHER_DROP_NOMEM] = "no memory",
	[ETHER_DROP_N] = NULL,
};

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

/* The largest payload the frame mp may carry: limit (the MTU down, the MRU
 * up), or an IP packet's maximum for a HW_LSO segment (cut by the driver,
 * or coalesced by the peer; stream.h). */
static size_t
ether_max_payload(const mblk_t *mp, guint64 limit)
{
	return (DB_CKSUMFLAGS(mp) & HW_LSO) ? ETHER_LSO_MAX : (size_t)limit;
}

static guint64
ether_mru(const EtherState *es)
{
	return es->es_mru != 0 ? es->es_mru : es->es_mtu;
}

static uint16_t
ether_vid(const EtherState *es)
{
	return (uint16_t)es->es_vlan;
}

static void
ether_update_flags(EtherState *es)
{
	guint64 f = 0;
	if (es->es_up)
		f |= ETHER_IFF_UP;
	if (es->es_broadcast)
		f |= ETHER_IFF_BROADCAST;
	if (es->es_multicast)
		f |= ETHER_IFF_MULTICAST;
	if (es->es_promisc || (es->es_prom & ETHER_PROM_PHYS))
		f |= ETHER_IFF_PROMISC;
	if (es->es_prom & ETHER_PROM_MULTI)
		f |= ETHER_IFF_ALLMULTI;
	es->es_flags = f;
}

/* A station address: not a group address and not all zeroes. */
static gboolean
ether_station_addr_ok(const uint8_t *a)
{
	return !ether_addr_is_group(a) && !ether_addr_is_zero(a);
}

static EtherSap *
ether_sap_find(EtherState *es, uint16_t sap)
{
	for (guint i = 0; i < es->es_nsaps; i++)
		if (es->es_saps[i].sap == sap)
			return &es->es_saps[i];
	return NULL;
}

/* Adds sap unless bound already; FALSE when the table is full. */
static gboolean
ether_sap_add(EtherState *es, uint16_t sap)
{
	if (ether_sap_find(es, sap) != NULL)
		return TRUE;
	if (es->es_nsaps == ETHER_SAP_MAX)
		return FALSE;
	es->es_saps[es->es_nsaps++] = (EtherSap){ .sap = sap };
	return TRUE;
}

static void
ether_sap_remove(EtherState *es, EtherSap *s)
{
	guint i = (guint)(s - es->es_saps);
	memmove(&es->es_saps[i], &es->es_saps[i + 1], (es->es_nsaps - i - 1) * sizeof *s);
	es->es_nsaps--;
}

static int
ether_mcast_find(const EtherState *es, const uint8_t *a)
{
	for (guint i = 0; i < es->es_nmcast; i++)
		if (ether_addr_eq(es->es_mcast[i], a))
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Primitive helpers                                                  */
/* ------------------------------------------------------------------ */

/* "No DLPI error": dl_errno values start at 0 (DL_BADSAP), so success needs
 * a value of its own. */
#define ETHER_DL_OK ((t_uscalar_t)-1)

/* TRUE when [off, off + len) lies inside mp's first block (no overflow). */
static gboolean
ether_span_ok(const mblk_t *mp, t_uscalar_t off, t_uscalar_t len)
{
	size_t have = MBLKL(mp);
	return off <= have && len <= have - off;
}

/* Copies the fixed part of the primitive in mp (not consumed) into req, which
 * may be any alignment; FALSE when the first block is shorter than size. */
static gboolean
ether_prim_get(const mblk_t *mp, void *req, size_t size)
{
	if (MBLKL(mp) < size)
		return FALSE;
	memcpy(req, mp->b_rptr, size);
	return TRUE;
}

/* Turns mp (consumed) into a zeroed reply of size bytes and type; NULL, with
 * the drop counted, when there is no memory. */
static mblk_t *
ether_reply_new(queue_t *wq, mblk_t *mp, size_t size, unsigned char type)
{
	mblk_t *r = mexchange(wq, mp, size, type, -1);
	if (r == NULL) {
		us_drop(wq, NULL, ETHER_DROP_NOMEM);
		return NULL;
	}
	memset(r->b_rptr, 0, size);
	return r;
}

/* Answers the request mp (consumed) with DL_OK_ACK. */
static void
ether_ok_ack(queue_t *wq, mblk_t *mp, t_uscalar_t prim)
{
	mblk_t *r = ether_reply_new(wq, mp, sizeof(dl_ok_ack_t), M_PCPROTO);
	if (r == NULL)
		return;
	dl_ok_ack_t ack = { .dl_primitive = DL_OK_ACK, .dl_correct_primitive = prim };
	memcpy(r->b_rptr, &ack, sizeof ack);
	qreply(wq, r);
}

/* Answers the request mp (consumed) with DL_ERROR_ACK. */
static void
ether_error_ack(queue_t *wq, mblk_t *mp, t_uscalar_t prim, t_uscalar_t dl_errno)
{
	EtherState *es = wq->q_ptr;
	mblk_t *r = ether_reply_new(wq, mp, sizeof(dl_error_ack_t), M_PCPROTO);
	if (r == NULL)
		return;
	dl_error_ack_t ack = { .dl_primitive = DL_ERROR_ACK,
			       .dl_error_primitive = prim,
			       .dl_errno = dl_errno,
			       .dl_unix_errno = 0 };
	memcpy(r->b_rptr, &ack, sizeof ack);
	es->es_dl_errors++;
	g_debug("DL_ERROR_ACK primitive 0x%x errno 0x%x", prim, dl_errno);
	qreply(wq, r);
}

/* Answers a DL_UNITDATA_REQ (consumed, payload too) with DL_UDERROR_IND for
 * its destination dest (a DLSAP address). */
static void
ether_uderror_ind(queue_t *wq, mblk_t *mp, const uint8_t dest[ETHER_DLSAP_LEN],
		  t_uscalar_t dl_errno)
{
	EtherState *es = wq->q_ptr;
	size_t size = sizeof(dl_uderror_ind_t) + ETHER_DLSAP_LEN;
	mblk_t *r = ether_reply_new(wq, mp, size, M_PROTO);
	if (r == NULL)
		return;
	dl_uderror_ind_t ind = { .dl_primitive = DL_UDERROR_IND,
				 .dl_dest_addr_length = ETHER_DLSAP_LEN,
				 .dl_dest_addr_offset = sizeof ind,
				 .dl_unix_errno = 0,
				 .dl_errno = dl_errno };
	memcpy(r->b_rptr, &ind, sizeof ind);
	memcpy(r->b_rptr + sizeof ind, dest, ETHER_DLSAP_LEN);
	es->es_dl_errors++;
	qreply(wq, r);
}

/* Sends DL_NOTIFY_IND for note up, if the user enabled it.  addr, when not
 * NULL, is a MAC address carried after the fixed part. */
static void
ether_notify(EtherState *es, uint32_t note, uint32_t data, const uint8_t *addr)
{
	if (!(es->es_notes & note))
		return;
	size_t size = sizeof(dl_notify_ind_t) + (addr != NULL ? ETHER_ALEN : 0);
	mblk_t *mp = allocb(size, BPRI_MED);
	if (mp == NULL) {
		us_drop(es->es_rq, NULL, ETHER_DROP_NOMEM);
		return;
	}
	dl_notify_ind_t ind = { .dl_primitive = DL_NOTIFY_IND, .dl_notification = note };
	ind.dl_data = data;
	if (addr != NULL) {
		ind.dl_addr_length = ETHER_ALEN;
		ind.dl_addr_offset = sizeof ind;
		memcpy(mp->b_wptr + sizeof ind, addr, ETHER_ALEN);
	}
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, &ind, sizeof ind);
	mp->b_wptr += size;
	putnext(es->es_rq, mp);
}

/* The current address changed: keep the "mac" text in step and tell users
 * that prebuilt headers are stale. */
static void
ether_set_curr(EtherState *es, const uint8_t a[ETHER_ALEN])
{
	char text[ETHER_ADDRSTRLEN];
	memcpy(es->es_curr_addr, a, ETHER_ALEN);
	ether_addr_format(a, text);
	g_free(es->es_mac);
	es->es_mac = g_strdup(text);
	ether_notify(es, DL_NOTE_PHYS_ADDR, DL_CURR_PHYS_ADDR, es->es_curr_addr);
	ether_notify(es, DL_NOTE_FASTPATH_FLUSH, 0, NULL);
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static int
ether_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp;
	(void)oflag;
	(void)crp;
	if (sflag != MODOPEN)
		return ENXIO;
	EtherState *es = g_new0(EtherState, 1);
	es->es_rq = rq;
	es->es_mac = g_strdup(ETHER_DEFAULT_MAC);
	gboolean parsed = ether_addr_parse(es->es_mac, es->es_fact_addr);
	g_assert(parsed);
	(void)parsed;
	memcpy(es->es_curr_addr, es->es_fact_addr, ETHER_ALEN);
	es->es_mtu = ETHER_DEFAULT_MTU;
	es->es_up = es->es_broadcast = es->es_multicast = TRUE;
	es->es_dl_state = DL_UNBOUND;
	es->es_link_was_up = es->es_up;
	es->es_mtu_was = es->es_mtu;
	ether_update_flags(es);
	rq->q_ptr = WR(rq)->q_ptr = es;
	qprocson(rq);
	return 0;
}

static int
ether_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	EtherState *es = rq->q_ptr;
	qprocsoff(rq);
	freemsg(es->es_capab_wait);
	g_free(es->es_mac);
	g_free(es);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Frames                                                             */
/* ------------------------------------------------------------------ */

/* What ether_parse() found in a frame. */
typedef struct {
	size_t hlen;     /* ETHER_HLEN, or ETHER_VLAN_HLEN when tagged */
	size_t paylen;   /* bytes after the header */
	uint16_t type;   /* ethertype (or 802.3 length) after any tag */
	gboolean tagged; /* an 802.1Q tag was present */
	uint16_t vid;    /* its VLAN id (tagged only) */
} EtherFrame;

typedef enum { ETHER_PARSE_OK, ETHER_PARSE_RUNT, ETHER_PARSE_NOMEM } EtherParse;

/* Makes sure mp's first block holds len bytes (pulling up only if not). */
static gboolean
ether_pullup(mblk_t *mp, size_t len)
{
	return MBLKL(mp) >= len || pullupmsg(mp, (ssize_t)len);
}

/* Checks the header of the frame mp (not consumed) and leaves it, tag
 * included, in mp's first block. */
static EtherParse
ether_parse(mblk_t *mp, EtherFrame *fr)
{
	size_t total = mp->b_cont == NULL ? MBLKL(mp) : msgdsize(mp);
	if (total < ETHER_HLEN)
		return ETHER_PARSE_RUNT;
	if (!ether_pullup(mp, ETHER_HLEN))
		return ETHER_PARSE_NOMEM;
	fr->tagged = ether_hdr_is_tagged(mp->b_rptr);
	fr->hlen = fr->tagged ? ETHER_VLAN_HLEN : ETHER_HLEN;
	if (total < fr->hlen)
		return ETHER_PARSE_RUNT;
	if (!ether_pullup(mp, fr->hlen))
		return ETHER_PARSE_NOMEM;
	const uint8_t *h = mp->b_rptr;
	fr->type = fr->tagged ? ether_hdr_inner_type(h) : ether_hdr_type(h);
	fr->vid = fr->tagged ? ETHER_TCI_VID(ether_hdr_tci(h)) : 0;
	fr->paylen = total - fr->hlen;
	return ETHER_PARSE_OK;
}

/* The drop reason for a frame ether_parse() refused, or OVERSIZE for one it
 * accepted but whose payload is too long. */
static guint
ether_parse_drop(EtherParse pr)
{
	switch (pr) {
	case ETHER_PARSE_RUNT: return ETHER_DROP_RUNT;
	case ETHER_PARSE_NOMEM: return ETHER_DROP_NOMEM;
	case ETHER_PARSE_OK: break;
	}
	return ETHER_DROP_OVERSIZE;
}

/* Counts and sends a finished frame (consumed) to the driver. */
static void
ether_send(queue_t *wq, mblk_t *frame, size_t len)
{
	EtherState *es = wq->q_ptr;
	es->es_opackets++;
	es->es_obytes += len;
	if (ether_addr_is_group(ether_hdr_dst(frame->b_rptr)))
		es->es_omcasts++;
	putnext(wq, frame);
}

/* Puts a header for dest/sap in front of payload (consumed); returns the
 * frame, or NULL (payload freed) when there is no memory. */
static mblk_t *
ether_encap(EtherState *es, const uint8_t *dest, uint16_t sap, mblk_t *payload)
{
	size_t hlen = ether_hdr_len(ether_vid(es));
	mblk_t *hp;
	if (DB_REF(payload) == 1 && MBLKHEAD(payload) >= hlen) {
		payload->b_rptr -= hlen; /* private block with headroom: no copy */
		hp = payload;
	} else {
		hp = allocb(hlen, BPRI_MED);
		if (hp == NULL) {
			freemsg(payload);
			return NULL;
		}
		hp->b_wptr += hlen;
		hp->b_cont = payload;
		us_offload_copy(hp, payload);
	}
	ether_hdr_write(hp->b_rptr, dest, es->es_curr_addr, ether_vid(es), sap);
	return hp;
}

/* ------------------------------------------------------------------ */
/* Write side: DLPI requests                                          */
/* ------------------------------------------------------------------ */

static void
ether_info_req(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	size_t size = sizeof(dl_info_ack_t) + ETHER_DLSAP_LEN + ETHER_ALEN;
	mblk_t *r = ether_reply_new(wq, mp, size, M_PCPROTO);
	if (r == NULL)
		return;
	dl_info_ack_t ack = {
		.dl_primitive = DL_INFO_ACK,
		.dl_max_sdu = (t_uscalar_t)es->es_mtu,
		.dl_min_sdu = 0,
		.dl_addr_length = ETHER_DLSAP_LEN,
		.dl_mac_type = DL_ETHER,
		.dl_current_state = es->es_dl_state,
		.dl_sap_length = ETHER_SAP_LENGTH,
		.dl_service_mode = DL_CLDLS,
		.dl_provider_style = DL_STYLE1,
		.dl_version = DL_VERSION_2,
		.dl_brdcst_addr_length = ETHER_ALEN,
		.dl_brdcst_addr_offset = sizeof ack + ETHER_DLSAP_LEN,
	};
	if (es->es_dl_state == DL_IDLE) {
		ack.dl_addr_offset = sizeof ack;
		ether_dlsap_make(r->b_rptr + sizeof ack, es->es_curr_addr, es->es_saps[0].sap);
	}
	memset(r->b_rptr + ack.dl_brdcst_addr_offset, 0xff, ETHER_ALEN);
	memcpy(r->b_rptr, &ack, sizeof ack);
	qreply(wq, r);
}

/* DLPI allows DL_ATTACH_REQ only in DL_UNATTACHED, which a style 1 stream
 * never is. */
static void
ether_attach_req(queue_t *wq, mblk_t *mp)
{
	t_uscalar_t err = MBLKL(mp) < sizeof(dl_attach_req_t) ? DL_BADPRIM : DL_OUTSTATE;
	ether_error_ack(wq, mp, DL_ATTACH_REQ, err);
}

/* Valid only in DL_UNBOUND, and then refused as illumos does for style 1. */
static void
ether_detach_req(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	ether_error_ack(wq, mp, DL_DETACH_REQ,
			es->es_dl_state != DL_UNBOUND ? DL_OUTSTATE : DL_BADPRIM);
}

static void
ether_bind_ack(queue_t *wq, mblk_t *mp, uint16_t sap)
{
	EtherState *es = wq->q_ptr;
	mblk_t *r = ether_reply_new(wq, mp, sizeof(dl_bind_ack_t) + ETHER_DLSAP_LEN, M_PCPROTO);
	if (r == NULL)
		return;
	dl_bind_ack_t ack = { .dl_primitive = DL_BIND_ACK,
			      .dl_sap = sap,
			      .dl_addr_length = ETHER_DLSAP_LEN,
			      .dl_addr_offset = sizeof ack };
	memcpy(r->b_rptr, &ack, sizeof ack);
	ether_dlsap_make(r->b_rptr + sizeof ack, es->es_curr_addr, sap);
	qreply(wq, r);
}

/* Binds a SAP; in DL_IDLE adds one (see Deviations). */
static void
ether_bind_req(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	dl_bind_req_t req;
	t_uscalar_t err = ETHER_DL_OK;
	if (!ether_prim_get(mp, &req, sizeof req))
		err = DL_BADPRIM;
	else if (req.dl_xidtest_flg != 0)
		err = DL_NOAUTO;
	else if (req.dl_service_mode != DL_CLDLS)
		err = DL_UNSUPPORTED;
	else if (!ether_sap_valid(req.dl_sap))
		err = DL_BADSAP;
	else if (!ether_sap_add(es, (uint16_t)req.dl_sap))
		err = DL_TOOMANY;
	if (err != ETHER_DL_OK) {
		ether_error_ack(wq, mp, DL_BIND_REQ, err);
		return;
	}
	es->es_dl_state = DL_IDLE;
	g_debug("bound SAP 0x%04x (%u bound)", req.dl_sap, es->es_nsaps);
	ether_bind_ack(wq, mp, (uint16_t)req.dl_sap);
}

/* Reads the bare 2-byte SAP a DL_SUBS_(UN)BIND_REQ points at; ETHER_DL_OK,
 * or the DL_* error. */
static t_uscalar_t
ether_subs_sap(const mblk_t *mp, t_uscalar_t off, t_uscalar_t len, uint16_t *sap)
{
	if (!ether_span_ok(mp, off, len))
		return DL_BADPRIM;
	if (len != ETHER_SAP_LEN)
		return DL_BADADDR;
	memcpy(sap, mp->b_rptr + off, ETHER_SAP_LEN);
	return ether_sap_valid(*sap) ? ETHER_DL_OK : DL_BADADDR;
}

/* Checks a DL_SUBS_BIND_REQ or DL_SUBS_UNBIND_REQ (their offset and length
 * are at the same place) and reads its SAP; ETHER_DL_OK or the DL_* error. */
_Static_assert(offsetof(dl_subs_bind_req_t, dl_subs_sap_offset) ==
			       offsetof(dl_subs_unbind_req_t, dl_subs_sap_offset) &&
		       offsetof(dl_subs_bind_req_t, dl_subs_sap_length) ==
			       offsetof(dl_subs_unbind_req_t, dl_subs_sap_length),
	       "DL_SUBS_BIND_REQ and DL_SUBS_UNBIND_REQ share their first fields");

static t_uscalar_t
ether_subs_check(const EtherState *es, const mblk_t *mp, size_t size, uint16_t *sap)
{
	dl_subs_bind_req_t req = { 0 };
	if (!ether_prim_get(mp, &req, size))
		return DL_BADPRIM;
	if (es->es_dl_state != DL_IDLE)
		return DL_OUTSTATE;
	if (size == sizeof req && req.dl_subs_bind_class != DL_PEER_BIND)
		return DL_UNSUPPORTED;
	return ether_subs_sap(mp, req.dl_subs_sap_offset, req.dl_subs_sap_length, sap);
}

static void
ether_subs_bind_req(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	uint16_t sap = 0;
	t_uscalar_t err = ether_subs_check(es, mp, sizeof(dl_subs_bind_req_t), &sap);
	if (err == ETHER_DL_OK && !ether_sap_add(es, sap))
		err = DL_TOOMANY;
	if (err != ETHER_DL_OK) {
		ether_error_ack(wq, mp, DL_SUBS_BIND_REQ, err);
		return;
	}
	mblk_t *r = ether_reply_new(wq, mp, sizeof(dl_subs_bind_ack_t) + ETHER_SAP_LEN, M_PCPROTO);
	if (r == NULL)
		return;
	dl_subs_bind_ack_t ack = { .dl_primitive = DL_SUBS_BIND_ACK,
				   .dl_subs_sap_offset = sizeof ack,
				   .dl_subs_sap_length = ETHER_SAP_LEN };
	memcpy(r->b_rptr, &ack, sizeof ack);
	memcpy(r->b_rptr + sizeof ack, &sap, ETHER_SAP_LEN);
	qreply(wq, r);
}

/* Removes one SAP added after the first; the DL_BIND_REQ one stays. */
static void
ether_subs_unbind_req(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	uint16_t sap = 0;
	EtherSap *s = NULL;
	t_uscalar_t err = ether_subs_check(es, mp, sizeof(dl_subs_unbind_req_t), &sap);
	if (err == ETHER_DL_OK) {
		s = ether_sap_find(es, sap);
		if (s == NULL || s == &es->es_saps[0])
			err = DL_BADADDR;
	}
	if (err != ETHER_DL_OK) {
		ether_error_ack(wq, mp, DL_SUBS_UNBIND_REQ, err);
		return;
	}
	ether_sap_remove(es, s);
	ether_ok_ack(wq, mp, DL_SUBS_UNBIND_REQ);
}

static void
ether_unbind_req(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	if (es->es_dl_state != DL_IDLE) {
		ether_error_ack(wq, mp, DL_UNBIND_REQ, DL_OUTSTATE);
		return;
	}
	es->es_nsaps = 0;
	es->es_dl_state = DL_UNBOUND;
	es->es_fastpath = es->es_raw = FALSE;
	/* What is still on its way up belongs to the binding just undone. */
	if (!putnextctl1(RD(wq), M_FLUSH, FLUSHRW))
		us_drop(wq, NULL, ETHER_DROP_NOMEM);
	ether_ok_ack(wq, mp, DL_UNBIND_REQ);
}

/* Checks a DL_UNITDATA_REQ payload: M_DATA blocks only and at most the MTU. */
static gboolean
ether_payload_ok(const EtherState *es, const mblk_t *payload, size_t *len)
{
	size_t n = 0;
	for (const mblk_t *bp = payload; bp != NULL; bp = bp->b_cont) {
		if (DB_TYPE(bp) != M_DATA)
			return FALSE;
		n += MBLKL(bp);
	}
	*len = n;
	return n <= ether_max_payload(payload, es->es_mtu);
}

/* Validates a DL_UNITDATA_REQ and copies its destination; ETHER_DL_OK or a
 * DL_* error. */
static t_uscalar_t
ether_unitdata_check(const EtherState *es, const mblk_t *mp, uint8_t dest[ETHER_DLSAP_LEN])
{
	dl_unitdata_req_t req;
	if (!ether_prim_get(mp, &req, sizeof req) || mp->b_cont == NULL)
		return DL_BADPRIM;
	if (es->es_dl_state != DL_IDLE)
		return DL_OUTSTATE;
	if (!ether_span_ok(mp, req.dl_dest_addr_offset, req.dl_dest_addr_length))
		return DL_BADPRIM;
	if (req.dl_dest_addr_length != ETHER_DLSAP_LEN)
		return DL_BADADDR;
	memcpy(dest, mp->b_rptr + req.dl_dest_addr_offset, ETHER_DLSAP_LEN);
	return ether_sap_valid(ether_dlsap_sap(dest)) ? ETHER_DL_OK : DL_BADADDR;
}

static void
ether_unitdata_req(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	uint8_t dest[ETHER_DLSAP_LEN];
	size_t len = 0;
	t_uscalar_t err = ether_unitdata_check(es, mp, dest);
	if (err != ETHER_DL_OK) {
		ether_error_ack(wq, mp, DL_UNITDATA_REQ, err);
		return;
	}
	if (!ether_payload_ok(es, mp->b_cont, &len)) {
		ether_uderror_ind(wq, mp, dest, DL_BADDATA);
		return;
	}
	if (!es->es_up) {
		us_drop(wq, mp, ETHER_DROP_DOWN);
		return;
	}
	mblk_t *payload = unlinkb(mp);
	freeb(mp);
	mblk_t *frame = ether_encap(es, dest, ether_dlsap_sap(dest), payload);
	if (frame == NULL) {
		es->es_oerrors++;
		us_drop(wq, NULL, ETHER_DROP_NOMEM);
		return;
	}
	es->es_unitdata_req++;
	ether_send(wq, frame, ether_hdr_len(ether_vid(es)) + len);
}

static void
ether_phys_addr_req(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	dl_phys_addr_req_t req;
	if (!ether_prim_get(mp, &req, sizeof req)) {
		ether_error_ack(wq, mp, DL_PHYS_ADDR_REQ, DL_BADPRIM);
		return;
	}
	if (req.dl_addr_type != DL_FACT_PHYS_ADDR && req.dl_addr_type != DL_CURR_PHYS_ADDR) {
		ether_error_ack(wq, mp, DL_PHYS_ADDR_REQ, DL_UNSUPPORTED);
		return;
	}
	mblk_t *r = ether_reply_new(wq, mp, sizeof(dl_phys_addr_ack_t) + ETHER_ALEN, M_PCPROTO);
	if (r == NULL)
		return;
	dl_phys_addr_ack_t ack = { .dl_primitive = DL_PHYS_ADDR_ACK,
				   .dl_addr_length = ETHER_ALEN,
				   .dl_addr_offset = sizeof ack };
	memcpy(r->b_rptr, &ack, sizeof ack);
	memcpy(r->b_rptr + sizeof ack,
	       req.dl_addr_type == DL_FACT_PHYS_ADDR ? es->es_fact_addr : es->es_curr_addr,
	       ETHER_ALEN);
	qreply(wq, r);
}

/* Reads the 6-byte MAC a primitive points at: DL_BADPRIM when the offset and
 * length are not a MAC inside the block (illumos checks the same way). */
static t_uscalar_t
ether_prim_mac(const mblk_t *mp, t_uscalar_t off, t_uscalar_t len, uint8_t mac[ETHER_ALEN])
{
	if (!ether_span_ok(mp, off, len) || len != ETHER_ALEN)
		return DL_BADPRIM;
	memcpy(mac, mp->b_rptr + off, ETHER_ALEN);
	return ETHER_DL_OK;
}

static void
ether_set_phys_addr_req(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	dl_set_phys_addr_req_t req;
	uint8_t a[ETHER_ALEN];
	t_uscalar_t err = DL_BADPRIM;
	if (ether_prim_get(mp, &req, sizeof req))
		err = ether_prim_mac(mp, req.dl_addr_offset, req.dl_addr_length, a);
	if (err == ETHER_DL_OK && !ether_station_addr_ok(a))
		err = DL_BADADDR;
	if (err != ETHER_DL_OK) {
		ether_error_ack(wq, mp, DL_SET_PHYS_ADDR_REQ, err);
		return;
	}
	ether_set_curr(es, a);
	ether_ok_ack(wq, mp, DL_SET_PHYS_ADDR_REQ);
}

/* DL_ENABMULTI_REQ and DL_DISABMULTI_REQ share their layout. */
_Static_assert(sizeof(dl_enabmulti_req_t) == sizeof(dl_disabmulti_req_t) &&
		       offsetof(dl_enabmulti_req_t, dl_addr_offset) ==
			       offsetof(dl_disabmulti_req_t, dl_addr_offset),
	       "DL_ENABMULTI_REQ and DL_DISABMULTI_REQ layouts");
static void
ether_multi_req(queue_t *wq, mblk_t *mp, t_uscalar_t prim)
{
	EtherState *es = wq->q_ptr;
	dl_enabmulti_req_t req;
	uint8_t a[ETHER_ALEN];
	t_uscalar_t err = DL_BADPRIM;
	if (ether_prim_get(mp, &req, sizeof req))
		err = ether_prim_mac(mp, req.dl_addr_offset, req.dl_addr_length, a);
	if (err == ETHER_DL_OK && !ether_addr_is_group(a))
		err = DL_BADADDR;
	int i = err == ETHER_DL_OK ? ether_mcast_find(es, a) : -1;
	if (err == ETHER_DL_OK && prim == DL_ENABMULTI_REQ && i < 0 &&
	    es->es_nmcast == ETHER_MCAST_MAX)
		err = DL_TOOMANY;
	if (err == ETHER_DL_OK && prim == DL_DISABMULTI_REQ && i < 0)
		err = DL_NOTENAB;
	if (err != ETHER_DL_OK) {
		ether_error_ack(wq, mp, prim, err);
		return;
	}
	if (prim == DL_ENABMULTI_REQ && i < 0) {
		memcpy(es->es_mcast[es->es_nmcast++], a, ETHER_ALEN);
	} else if (prim == DL_DISABMULTI_REQ) {
		memmove(es->es_mcast[i], es->es_mcast[i + 1],
			(es->es_nmcast - (guint)i - 1) * ETHER_ALEN);
		es->es_nmcast--;
	}
	ether_ok_ack(wq, mp, prim);
}

static void
ether_enabmulti_req(queue_t *wq, mblk_t *mp)
{
	ether_multi_req(wq, mp, DL_ENABMULTI_REQ);
}

static void
ether_disabmulti_req(queue_t *wq, mblk_t *mp)
{
	ether_multi_req(wq, mp, DL_DISABMULTI_REQ);
}

/* DL_PROMISCON_REQ and DL_PROMISCOFF_REQ share their layout. */
_Static_assert(sizeof(dl_promiscon_req_t) == sizeof(dl_promiscoff_req_t),
	       "DL_PROMISCON_REQ and DL_PROMISCOFF_REQ layouts");
static void
ether_promisc_req(queue_t *wq, mblk_t *mp, t_uscalar_t prim)
{
	EtherState *es = wq->q_ptr;
	dl_promiscon_req_t req;
	guint bit = 0;
	t_uscalar_t err = ETHER_DL_OK;
	if (!ether_prim_get(mp, &req, sizeof req))
		err = DL_BADPRIM;
	else if (req.dl_level == DL_PROMISC_PHYS)
		bit = ETHER_PROM_PHYS;
	else if (req.dl_level == DL_PROMISC_SAP)
		bit = ETHER_PROM_SAP;
	else if (req.dl_level == DL_PROMISC_MULTI)
		bit = ETHER_PROM_MULTI;
	else
		err = DL_NOTSUPPORTED;
	if (err == ETHER_DL_OK && prim == DL_PROMISCOFF_REQ && !(es->es_prom & bit))
		err = DL_NOTENAB;
	if (err != ETHER_DL_OK) {
		ether_error_ack(wq, mp, prim, err);
		return;
	}
	if (prim == DL_PROMISCON_REQ)
		es->es_prom |= bit;
	else
		es->es_prom &= ~bit;
	ether_update_flags(es);
	ether_ok_ack(wq, mp, prim);
}

static void
ether_promiscon_req(queue_t *wq, mblk_t *mp)
{
	ether_promisc_req(wq, mp, DL_PROMISCON_REQ);
}

static void
ether_promiscoff_req(queue_t *wq, mblk_t *mp)
{
	ether_promisc_req(wq, mp, DL_PROMISCOFF_REQ);
}

/* Enables notifications; as illumos, the current state of each one enabled
 * is indicated at once. */
static void
ether_notify_req(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	dl_notify_req_t req;
	if (!ether_prim_get(mp, &req, sizeof req)) {
		ether_error_ack(wq, mp, DL_NOTIFY_REQ, DL_BADPRIM);
		return;
	}
	es->es_notes = req.dl_notifications & ETHER_NOTES;
	mblk_t *r = ether_reply_new(wq, mp, sizeof(dl_notify_ack_t), M_PROTO);
	if (r == NULL)
		return;
	dl_notify_ack_t ack = { .dl_primitive = DL_NOTIFY_ACK, .dl_notifications = ETHER_NOTES };
	memcpy(r->b_rptr, &ack, sizeof ack);
	qreply(wq, r);
	ether_notify(es, es->es_up ? DL_NOTE_LINK_UP : DL_NOTE_LINK_DOWN, 0, NULL);
	ether_notify(es, DL_NOTE_SDU_SIZE, (uint32_t)es->es_mtu, NULL);
	ether_notify(es, DL_NOTE_PHYS_ADDR, DL_CURR_PHYS_ADDR, es->es_curr_addr);
}

typedef void (*EtherPrimFn)(queue_t *wq, mblk_t *mp);

/* The requests this provider serves. */
/* ------------------------------------------------------------------ */
/* Capabilities: what the driver below offloads                       */
/* ------------------------------------------------------------------ */

/* Appends sub-capability cap (body of len bytes) at *off in r. */
static void
ether_capab_put(mblk_t *r, size_t *off, t_uscalar_t cap, const void *body, size_t len)
{
	dl_capability_sub_t sub = { .dl_cap = cap, .dl_length = (t_uscalar_t)len };
	memcpy(r->b_rptr + *off, &sub, sizeof sub);
	memcpy(r->b_rptr + *off + sizeof sub, body, len);
	*off += sizeof sub + len;
}

/* Answers every waiting DL_CAPABILITY_REQ with what the driver said (lc
 * NULL: it offloads nothing). */
static void
ether_capab_answer(EtherState *es, const struct dl_link_capab *lc)
{
	mblk_t *req;
	queue_t *wq = WR(es->es_rq);
	es->es_capab_ioc_id = 0;
	while ((req = es->es_capab_wait) != NULL) {
		es->es_capab_wait = req->b_next;
		req->b_next = NULL;
		size_t size = sizeof(dl_capability_ack_t) + 2 * sizeof(dl_capability_sub_t) +
			      sizeof(dl_capab_hcksum_t) + sizeof(dl_capab_lso_t);
		mblk_t *r = ether_reply_new(wq, req, size, M_PROTO);
		if (r == NULL)
			continue;
		size_t off = sizeof(dl_capability_ack_t);
		if (lc != NULL && lc->dlc_hcksum_txflags != 0) {
			dl_capab_hcksum_t hc = { .hcksum_version = HCKSUM_VERSION_1,
						 .hcksum_txflags = lc->dlc_hcksum_txflags };
			ether_capab_put(r, &off, DL_CAPAB_HCKSUM, &hc, sizeof hc);
		}
		if (lc != NULL && lc->dlc_lso_flags != 0 && lc->dlc_hcksum_txflags != 0) {
			dl_capab_lso_t lso = { .lso_version = LSO_VERSION_1,
					       .lso_flags = lc->dlc_lso_flags,
					       .lso_max = MIN(lc->dlc_lso_max, ETHER_LSO_MAX) };
			ether_capab_put(r, &off, DL_CAPAB_LSO, &lso, sizeof lso);
		}
		dl_capability_ack_t ack = { .dl_primitive = DL_CAPABILITY_ACK,
					    .dl_sub_offset = sizeof ack,
					    .dl_sub_length = (t_uscalar_t)(off - sizeof ack) };
		memcpy(r->b_rptr, &ack, sizeof ack);
		r->b_wptr = r->b_rptr + off;
		qreply(wq, r);
	}
}

/* DL_CAPABILITY_REQ (a query, or an enable request answered the same way:
 * every capability the driver has is on).  The driver is asked with
 * DLIOCLINKCAPAB; its answer comes back on the read side. */
static void
ether_capability_req(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	dl_capability_req_t req;
	if (!ether_prim_get(mp, &req, sizeof req) ||
	    (req.dl_sub_length != 0 && !ether_span_ok(mp, req.dl_sub_offset, req.dl_sub_length))) {
		ether_error_ack(wq, mp, DL_CAPABILITY_REQ, DL_BADPRIM);
		return;
	}
	mp->b_next = es->es_capab_wait;
	es->es_capab_wait = mp;
	if (es->es_capab_ioc_id != 0)
		return; /* one question answers them all */
	mblk_t *ioc = mkiocb(DLIOCLINKCAPAB);
	if (ioc == NULL) {
		ether_capab_answer(es, NULL);
		return;
	}
	es->es_capab_ioc_id = ((struct iocblk *)ioc->b_rptr)->ioc_id;
	putnext(wq, ioc);
}

/* The driver's answer to DLIOCLINKCAPAB: TRUE when mp was it (consumed). */
static gboolean
ether_capab_reply(EtherState *es, mblk_t *mp)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	if (MBLKL(mp) < sizeof *ioc || ioc->ioc_cmd != DLIOCLINKCAPAB || es->es_capab_ioc_id == 0 ||
	    ioc->ioc_id != es->es_capab_ioc_id)
		return FALSE;
	struct dl_link_capab lc;
	gboolean have = DB_TYPE(mp) == M_IOCACK && mp->b_cont != NULL &&
			us_msgcopyout(mp->b_cont, 0, &lc, sizeof lc) == sizeof lc;
	ether_capab_answer(es, have ? &lc : NULL);
	freemsg(mp);
	return TRUE;
}

static const struct {
	t_uscalar_t prim;
	EtherPrimFn fn;
} ether_prims[] = {
	{ DL_INFO_REQ, ether_info_req },
	{ DL_ATTACH_REQ, ether_attach_req },
	{ DL_DETACH_REQ, ether_detach_req },
	{ DL_BIND_REQ, ether_bind_req },
	{ DL_UNBIND_REQ, ether_unbind_req },
	{ DL_SUBS_BIND_REQ, ether_subs_bind_req },
	{ DL_SUBS_UNBIND_REQ, ether_subs_unbind_req },
	{ DL_UNITDATA_REQ, ether_unitdata_req },
	{ DL_PHYS_ADDR_REQ, ether_phys_addr_req },
	{ DL_SET_PHYS_ADDR_REQ, ether_set_phys_addr_req },
	{ DL_ENABMULTI_REQ, ether_enabmulti_req },
	{ DL_DISABMULTI_REQ, ether_disabmulti_req },
	{ DL_PROMISCON_REQ, ether_promiscon_req },
	{ DL_PROMISCOFF_REQ, ether_promiscoff_req },
	{ DL_NOTIFY_REQ, ether_notify_req },
	{ DL_CAPABILITY_REQ, ether_capability_req },
};

/* Requests DLPI (and Solaris) define that this provider does not offer. */
static const t_uscalar_t ether_unsupported_prims[] = {
	DL_UDQOS_REQ,   DL_CONNECT_REQ, DL_CONNECT_RES,  DL_TOKEN_REQ,   DL_DISCONNECT_REQ,
	DL_RESET_REQ,   DL_RESET_RES,   DL_DATA_ACK_REQ, DL_REPLY_REQ,   DL_REPLY_UPDATE_REQ,
	DL_XID_REQ,     DL_XID_RES,     DL_TEST_REQ,     DL_TEST_RES,    DL_GET_STATISTICS_REQ,
	DL_AGGR_REQ,    DL_UNAGGR_REQ,  DL_CONTROL_REQ,  DL_PASSIVE_REQ, DL_INTR_MODE_REQ,
	DL_NOTIFY_CONF,
};

/* M_PROTO/M_PCPROTO from the user (consumed): dispatch on dl_primitive. */
static void
ether_wput_proto(queue_t *wq, mblk_t *mp)
{
	t_uscalar_t prim;
	if (MBLKL(mp) < sizeof prim) {
		us_drop(wq, mp, ETHER_DROP_BADPRIM);
		return;
	}
	memcpy(&prim, mp->b_rptr, sizeof prim);
	for (guint i = 0; i < G_N_ELEMENTS(ether_prims); i++) {
		if (ether_prims[i].prim == prim) {
			ether_prims[i].fn(wq, mp);
			return;
		}
	}
	t_uscalar_t err = DL_BADPRIM;
	for (guint i = 0; i < G_N_ELEMENTS(ether_unsupported_prims); i++)
		if (ether_unsupported_prims[i] == prim)
			err = DL_NOTSUPPORTED;
	ether_error_ack(wq, mp, prim, err);
}

/* ------------------------------------------------------------------ */
/* Write side: data and ioctls                                        */
/* ------------------------------------------------------------------ */

/* M_DATA from the user (consumed): a whole frame, in fast-path or raw mode. */
static void
ether_wput_data(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	EtherFrame fr;
	if (es->es_dl_state != DL_IDLE || !(es->es_fastpath || es->es_raw)) {
		us_drop(wq, mp, ETHER_DROP_NOT_FASTPATH);
		return;
	}
	if (!es->es_up) {
		us_drop(wq, mp, ETHER_DROP_DOWN);
		return;
	}
	EtherParse pr = ether_parse(mp, &fr);
	if (pr != ETHER_PARSE_OK || fr.paylen > ether_max_payload(mp, es->es_mtu)) {
		es->es_oerrors++;
		us_drop(wq, mp, ether_parse_drop(pr));
		return;
	}
	es->es_fastpath_out++;
	ether_send(wq, mp, fr.hlen + fr.paylen);
}

/* DL_IOC_HDR_INFO: validates the DL_UNITDATA_REQ in b_cont and copies its
 * destination; 0 or the errno to NAK with. */
static int
ether_hdr_info_check(const EtherState *es, mblk_t *mp, uint8_t dest[ETHER_DLSAP_LEN])
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	mblk_t *nmp = mp->b_cont;
	dl_unitdata_req_t req;
	if (ioc->ioc_count == TRANSPARENT || nmp == NULL || DB_TYPE(nmp) != M_DATA)
		return EINVAL;
	if (MBLKL(nmp) < sizeof req && !pullupmsg(nmp, -1))
		return EINVAL;
	if (!ether_prim_get(nmp, &req, sizeof req) || req.dl_primitive != DL_UNITDATA_REQ ||
	    !ether_span_ok(nmp, req.dl_dest_addr_offset, req.dl_dest_addr_length))
		return EINVAL;
	if (es->es_dl_state != DL_IDLE)
		return ENOTSUP;
	if (req.dl_dest_addr_length != ETHER_DLSAP_LEN)
		return EINVAL;
	memcpy(dest, nmp->b_rptr + req.dl_dest_addr_offset, ETHER_DLSAP_LEN);
	return ether_sap_valid(ether_dlsap_sap(dest)) ? 0 : EINVAL;
}

/* The fast path: answers with the prebuilt header and enters fast-path mode
 * (for input, for the SAP named). */
static void
ether_ioc_hdr_info(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	uint8_t dest[ETHER_DLSAP_LEN];
	int err = ether_hdr_info_check(es, mp, dest);
	mblk_t *hmp = err == 0 ? allocb(ETHER_VLAN_HLEN, BPRI_MED) : NULL;
	if (err == 0 && hmp == NULL)
		err = ENOMEM;
	if (err != 0) {
		miocnak(wq, mp, 0, err);
		return;
	}
	uint16_t sap = ether_dlsap_sap(dest);
	hmp->b_wptr += ether_hdr_write(hmp->b_wptr, dest, es->es_curr_addr, ether_vid(es), sap);
	mblk_t *nmp = mp->b_cont;
	freemsg(nmp->b_cont);
	nmp->b_cont = hmp;
	EtherSap *s = ether_sap_find(es, sap);
	if (s != NULL)
		s->fastpath = TRUE;
	es->es_fastpath = TRUE;
	g_debug("fast path for SAP 0x%04x", sap);
	miocack(wq, mp, (int)(MBLKL(nmp) + MBLKL(hmp)), 0);
}

/* Replaces the ioctl's data with len bytes of data and acknowledges. */
static void
ether_ioc_reply(queue_t *wq, mblk_t *mp, const void *data, size_t len)
{
	mblk_t *dp = NULL;
	if (len > 0 && (dp = us_msg_from(data, len, 0)) == NULL) {
		miocnak(wq, mp, 0, ENOMEM);
		return;
	}
	freemsg(mp->b_cont);
	mp->b_cont = dp;
	miocack(wq, mp, (int)len, 0);
}

static void
ether_ioc_getsaps(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	uint16_t saps[ETHER_SAP_MAX];
	for (guint i = 0; i < es->es_nsaps; i++)
		saps[i] = es->es_saps[i].sap;
	ether_ioc_reply(wq, mp, saps, es->es_nsaps * sizeof saps[0]);
}

static void
ether_ioc_getmcast(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	ether_ioc_reply(wq, mp, es->es_mcast, es->es_nmcast * (size_t)ETHER_ALEN);
}

/* M_IOCTL (consumed): ours are answered, the rest go down to the driver. */
static void
ether_wput_ioctl(queue_t *wq, mblk_t *mp)
{
	EtherState *es = wq->q_ptr;
	if (MBLKL(mp) < sizeof(struct iocblk)) {
		us_drop(wq, mp, ETHER_DROP_BADIOCTL);
		return;
	}
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	gboolean ours = ioc->ioc_cmd == DL_IOC_HDR_INFO || ioc->ioc_cmd == DLIOCRAW ||
			ioc->ioc_cmd == ETHER_IOC_GETSAPS || ioc->ioc_cmd == ETHER_IOC_GETMCAST;
	if (!ours) {
		putnext(wq, mp);
	} else if (ioc->ioc_count == TRANSPARENT) {
		miocnak(wq, mp, 0, EINVAL);
	} else if (ioc->ioc_cmd == DL_IOC_HDR_INFO) {
		ether_ioc_hdr_info(wq, mp);
	} else if (ioc->ioc_cmd == DLIOCRAW) {
		es->es_raw = TRUE;
		miocack(wq, mp, 0, 0);
	} else if (ioc->ioc_cmd == ETHER_IOC_GETSAPS) {
		ether_ioc_getsaps(wq, mp);
	} else {
		ether_ioc_getmcast(wq, mp);
	}
}

/* Write put: DLPI requests, fast-path/raw frames, ioctls; the rest passes. */
static int
ether_wput(queue_t *wq, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA: ether_wput_data(wq, mp); break;
	case M_PROTO:
	case M_PCPROTO: ether_wput_proto(wq, mp); break;
	case M_IOCTL: ether_wput_ioctl(wq, mp); break;
	default:
		us_default_put(wq, mp); /* M_FLUSH: canonical */
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Read side                                                          */
/* ------------------------------------------------------------------ */

/* How a frame passed the address filter. */
typedef enum {
	ETHER_RX_REJECT,  /* not for us */
	ETHER_RX_FOR_US,  /* our unicast, broadcast, an enabled group */
	ETHER_RX_PROMISC, /* only because of a promiscuous level */
} EtherRx;

static EtherRx
ether_rx_filter(const EtherState *es, const uint8_t *dst)
{
	if (!ether_addr_is_group(dst)) {
		if (ether_addr_eq(dst, es->es_curr_addr))
			return ETHER_RX_FOR_US;
	} else if (ether_addr_is_broadcast(dst)) {
		if (es->es_broadcast)
			return ETHER_RX_FOR_US;
	} else {
		if (es->es_multicast && ether_mcast_find(es, dst) >= 0)
			return ETHER_RX_FOR_US;
		if (es->es_prom & ETHER_PROM_MULTI)
			return ETHER_RX_PROMISC;
	}
	if (es->es_promisc || (es->es_prom & ETHER_PROM_PHYS))
		return ETHER_RX_PROMISC;
	return ETHER_RX_REJECT;
}

/* Sends the accepted frame mp (consumed; header in its first block) up as
 * DL_UNITDATA_IND. */
static void
ether_unitdata_ind(queue_t *rq, mblk_t *mp, const EtherFrame *fr)
{
	EtherState *es = rq->q_ptr;
	size_t size = sizeof(dl_unitdata_ind_t) + 2 * ETHER_DLSAP_LEN;
	mblk_t *ind = allocb(size, BPRI_MED);
	if (ind == NULL) {
		us_drop(rq, mp, ETHER_DROP_NOMEM);
		return;
	}
	const uint8_t *h = mp->b_rptr;
	dl_unitdata_ind_t u = { .dl_primitive = DL_UNITDATA_IND,
				.dl_dest_addr_length = ETHER_DLSAP_LEN,
				.dl_dest_addr_offset = sizeof u,
				.dl_src_addr_length = ETHER_DLSAP_LEN,
				.dl_src_addr_offset = sizeof u + ETHER_DLSAP_LEN,
				.dl_group_address = ether_addr_is_group(ether_hdr_dst(h)) };
	DB_TYPE(ind) = M_PROTO;
	memcpy(ind->b_wptr, &u, sizeof u);
	ether_dlsap_make(ind->b_wptr + u.dl_dest_addr_offset, ether_hdr_dst(h), fr->type);
	ether_dlsap_make(ind->b_wptr + u.dl_src_addr_offset, ether_hdr_src(h), fr->type);
	ind->b_wptr += size;
	mp->b_rptr += fr->hlen; /* moves our window only: fine on shared data */
	ind->b_cont = mp;
	es->es_unitdata_ind++;
	putnext(rq, ind);
}

/* Steps 5 and 6 of the theory: SAP demultiplexing and delivery. */
static void
ether_demux(queue_t *rq, mblk_t *mp, const EtherFrame *fr, EtherRx rx)
{
	EtherState *es = rq->q_ptr;
	if (es->es_dl_state != DL_IDLE) {
		es->es_noproto++;
		us_drop(rq, mp, ETHER_DROP_NOT_BOUND);
		return;
	}
	EtherSap *s = ether_sap_find(es, fr->type);
	if (s == NULL && !(es->es_prom & ETHER_PROM_SAP)) {
		es->es_noproto++;
		us_drop(rq, mp,
			fr->type <= ETHER_MAX_LENGTH_FIELD ? ETHER_DROP_LLC
							   : ETHER_DROP_UNBOUND_SAP);
		return;
	}
	if (es->es_raw) {
		putnext(rq, mp);
	} else if (s != NULL && s->fastpath && rx == ETHER_RX_FOR_US) {
		mp->b_rptr += fr->hlen;
		es->es_fastpath_in++;
		putnext(rq, mp);
	} else {
		ether_unitdata_ind(rq, mp, fr);
	}
}

/* A frame from the driver (consumed): steps 1 to 4 of the theory. */
static void
ether_input(queue_t *rq, mblk_t *mp)
{
	EtherState *es = rq->q_ptr;
	EtherFrame fr;
	if (!es->es_up) {
		us_drop(rq, mp, ETHER_DROP_DOWN);
		return;
	}
	EtherParse pr = ether_parse(mp, &fr);
	if (pr != ETHER_PARSE_OK || fr.paylen > ether_max_payload(mp, ether_mru(es))) {
		if (pr != ETHER_PARSE_NOMEM)
			es->es_ierrors++;
		us_drop(rq, mp, ether_parse_drop(pr));
		return;
	}
	es->es_ipackets++;
	es->es_ibytes += fr.hlen + fr.paylen;
	if (fr.tagged) {
		es->es_vlan_ipackets++;
		es->es_vlan_last_id = fr.vid;
	}
	if (es->es_vlan != 0 && !(fr.tagged && fr.vid == es->es_vlan)) {
		us_drop(rq, mp, ETHER_DROP_OTHER_VLAN);
		return;
	}
	const uint8_t *dst = ether_hdr_dst(mp->b_rptr);
	EtherRx rx = ether_rx_filter(es, dst);
	if (rx == ETHER_RX_REJECT) {
		us_drop(rq, mp, ETHER_DROP_NOT_FOR_US);
		return;
	}
	if (ether_addr_is_group(dst))
		es->es_imcasts++;
	ether_demux(rq, mp, &fr, rx);
}

/* Read put: frames from the driver; everything else passes up. */
static int
ether_rput(queue_t *rq, mblk_t *mp)
{
	if (DB_TYPE(mp) == M_DATA)
		ether_input(rq, mp);
	else if ((DB_TYPE(mp) == M_IOCACK || DB_TYPE(mp) == M_IOCNAK) &&
		 ether_capab_reply(rq->q_ptr, mp))
		return 0;
	else
		us_default_put(rq, mp); /* M_FLUSH: canonical */
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

/* "mac" configures the hardware: factory and current address both. */
static gboolean
ether_param_mac(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	EtherState *es = rq->q_ptr;
	uint8_t a[ETHER_ALEN];
	if (!ether_addr_parse(es->es_mac, a) || !ether_station_addr_ok(a)) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "mac: '%s' is not a unicast MAC address (xx:xx:xx:xx:xx:xx)",
			    es->es_mac);
		return FALSE;
	}
	memcpy(es->es_fact_addr, a, ETHER_ALEN);
	ether_set_curr(es, a); /* replaces es_mac by its canonical form */
	return TRUE;
}

static gboolean
ether_param_mtu(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	(void)error;
	EtherState *es = rq->q_ptr;
	if (es->es_mtu != es->es_mtu_was) {
		es->es_mtu_was = es->es_mtu;
		ether_notify(es, DL_NOTE_SDU_SIZE, (uint32_t)es->es_mtu, NULL);
	}
	return TRUE;
}

static gboolean
ether_param_vlan(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	(void)error;
	ether_notify(rq->q_ptr, DL_NOTE_FASTPATH_FLUSH, 0, NULL);
	return TRUE;
}

/* "up", "broadcast", "multicast", "promisc": the flags, and link state. */
static gboolean
ether_param_flags(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	(void)error;
	EtherState *es = rq->q_ptr;
	ether_update_flags(es);
	if (es->es_up != es->es_link_was_up) {
		es->es_link_was_up = es->es_up;
		ether_notify(es, es->es_up ? DL_NOTE_LINK_UP : DL_NOTE_LINK_DOWN, 0, NULL);
	}
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info ether_minfo = {
	.mi_idnum = 1020,
	.mi_idname = "ether",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit ether_rinit = {
	.qi_putp = ether_rput,
	.qi_qopen = ether_open,
	.qi_qclose = ether_close,
	.qi_minfo = &ether_minfo,
};
static struct qinit ether_winit = { .qi_putp = ether_wput, .qi_minfo = &ether_minfo };
static struct streamtab ether_info = { .st_rdinit = &ether_rinit, .st_wrinit = &ether_winit };

#define ETHER_PARAM(nm, desc, ty, fld, lo, hi, hook)                                  \
	{                                                                             \
		.name = (nm), .description = (desc), .type = (ty),                    \
		.offset = G_STRUCT_OFFSET(EtherState, fld), .min = (lo), .max = (hi), \
		.on_set = (hook)                                                      \
	}

static const UsParamDesc ether_params[] = {
	ETHER_PARAM(ETHER_PARAM_MAC, "MAC address (sets the factory and current address)",
		    US_PARAM_STRING, es_mac, 0, 0, ether_param_mac),
	ETHER_PARAM(ETHER_PARAM_MTU, "largest payload sent (dl_max_sdu)", US_PARAM_UINT, es_mtu,
		    ETHER_MIN_MTU, ETHER_MAX_MTU, ether_param_mtu),
	ETHER_PARAM(ETHER_PARAM_MRU, "largest payload received, 0 for the MTU", US_PARAM_UINT,
		    es_mru, 0, ETHER_MAX_MTU, NULL),
	ETHER_PARAM(ETHER_PARAM_VLAN, "802.1Q VID to tag output with and accept, 0 for none",
		    US_PARAM_UINT, es_vlan, 0, ETHER_VID_MAX, ether_param_vlan),
	ETHER_PARAM(ETHER_PARAM_UP, "interface up (IFF_UP)", US_PARAM_BOOL, es_up, 0, 0,
		    ether_param_flags),
	ETHER_PARAM(ETHER_PARAM_BROADCAST, "receive broadcast frames (IFF_BROADCAST)",
		    US_PARAM_BOOL, es_broadcast, 0, 0, ether_param_flags),
	ETHER_PARAM(ETHER_PARAM_MULTICAST, "receive enabled multicast (IFF_MULTICAST)",
		    US_PARAM_BOOL, es_multicast, 0, 0, ether_param_flags),
	ETHER_PARAM(ETHER_PARAM_PROMISC, "receive all unicast, like DL_PROMISC_PHYS (IFF_PROMISC)",
		    US_PARAM_BOOL, es_promisc, 0, 0, ether_param_flags),
	{ 0 },
};

static const UsStatDesc ether_stats[] = {
	US_STAT(ETHER_STAT_IPACKETS, "well-formed frames received", EtherState, es_ipackets),
	US_STAT(ETHER_STAT_IBYTES, "bytes of those frames, headers included", EtherState,
		es_ibytes),
	US_STAT(ETHER_STAT_IERRORS, "runt and oversize frames received", EtherState, es_ierrors),
	US_STAT(ETHER_STAT_IMCASTS, "multicast and broadcast frames accepted", EtherState,
		es_imcasts),
	US_STAT(ETHER_STAT_OPACKETS, "frames sent", EtherState, es_opackets),
	US_STAT(ETHER_STAT_OBYTES, "bytes of those frames, headers included", EtherState,
		es_obytes),
	US_STAT(ETHER_STAT_OERRORS, "frames that could not be sent", EtherState, es_oerrors),
	US_STAT(ETHER_STAT_OMCASTS, "multicast and broadcast frames sent", EtherState, es_omcasts),
	US_STAT(ETHER_STAT_NOPROTO, "accepted frames of no bound SAP", EtherState, es_noproto),
	US_STAT(ETHER_STAT_VLAN_IPACKETS, "802.1Q-tagged frames received", EtherState,
		es_vlan_ipackets),
	US_STAT(ETHER_STAT_VLAN_LAST_ID, "VLAN id of the last tagged frame", EtherState,
		es_vlan_last_id),
	US_STAT(ETHER_STAT_FLAGS, "interface flags (ETHER_IFF_*)", EtherState, es_flags),
	US_STAT(ETHER_STAT_UNITDATA_IND, "DL_UNITDATA_IND sent up", EtherState, es_unitdata_ind),
	US_STAT(ETHER_STAT_UNITDATA_REQ, "DL_UNITDATA_REQ sent as frames", EtherState,
		es_unitdata_req),
	US_STAT(ETHER_STAT_FASTPATH_IN, "frames sent up as fast-path M_DATA", EtherState,
		es_fastpath_in),
	US_STAT(ETHER_STAT_FASTPATH_OUT, "fast-path or raw M_DATA frames sent", EtherState,
		es_fastpath_out),
	US_STAT(ETHER_STAT_DL_ERRORS, "DL_ERROR_ACK and DL_UDERROR_IND sent", EtherState,
		es_dl_errors),
	{ 0 },
};

static const char *const ether_accepts[] = {
	"M_DATA (frames up; fast-path and raw frames down)",
	"M_PROTO/M_PCPROTO (DLPI v2 requests)",
	"M_IOCTL (DL_IOC_HDR_INFO, DLIOCRAW, ETHER_IOC_*; others passed down)",
	"M_FLUSH",
	"others passed through",
	NULL,
};

const UsModuleDesc us_ether_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "ether",
	.summary = "DLPI v2 provider over Ethernet II framing (802.1Q, fast path)",
	.kind = US_KIND_MODULE,
	.streamtab = &ether_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = ether_params,
	.stats = ether_stats,
	.drop_reasons = ether_drop_reasons,
	.accepts = ether_accepts,
};
