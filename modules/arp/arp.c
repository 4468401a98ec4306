/* SPDX-License-Identifier: MIT */
/*
 * arp -- the Address Resolution Protocol (RFC 826) for IPv4 over Ethernet,
 * pushed on an interface stream directly above ether:
 *
 *     (ip, or a plain head)      DLPI user
 *     arp                        this module
 *     ether                      DLPI provider (modules/ether)
 *     driver                     raw frames
 *
 * Theory
 * ------
 * Towards the user above, arp is a DLPI provider exactly like ether: every
 * primitive, ioctl and frame passes through unchanged, with one addition.  A
 * DL_UNITDATA_REQ whose dl_dest_addr_length is 6 names an IPv4 next hop and
 * a SAP (layout in arp.h); arp resolves the next hop and sends the request
 * down with the 8-byte MAC+SAP DLSAP ether expects.  The same holds for the
 * DL_UNITDATA_REQ inside a DL_IOC_HDR_INFO M_IOCTL (the fast path).
 *
 * Binding.  ether keeps a table of bound SAPs on its one stream: DL_BIND_REQ
 * adds a SAP in any state, DL_UNBIND_REQ removes them all (the DL_BIND_REQ
 * SAP cannot be removed by DL_SUBS_UNBIND_REQ).  So, at open (MODOPEN), arp
 * sends down DL_PHYS_ADDR_REQ(DL_CURR_PHYS_ADDR), DL_BIND_REQ(0x0806) and
 * DL_NOTIFY_REQ(DL_NOTE_PHYS_ADDR): its SAP is the first one and the user's
 * DL_BIND_REQ(0x0800) then adds another.  When the user sends DL_UNBIND_REQ, arp passes it down and
 * sends its own DL_BIND_REQ(0x0806) right behind it, so ARP frames keep arriving whatever the user
 * does.  Acknowledgements are matched to requests in order: arp keeps a FIFO of the outstanding
 * DL_BIND_REQ, DL_PHYS_ADDR_REQ and DL_NOTIFY_REQ (arp's and the user's); an ack (DL_BIND_ACK,
 * DL_PHYS_ADDR_ACK, DL_NOTIFY_ACK, or DL_ERROR_ACK naming one of those
 * primitives) goes to the oldest request of its primitive: arp's are
 * consumed, the user's pass up in order.  ether
 * answers every request at once and in order, which is what makes this
 * exact.  Because ether is always bound underneath, arp keeps the user's own
 * view of the state: DL_INFO_ACK going up is rewritten (state DL_UNBOUND and
 * no address until the user binds; the user's SAP in the address after),
 * and DL_UNBIND_REQ or DL_SUBS_BIND_REQ from an unbound user gets
 * DL_ERROR_ACK DL_OUTSTATE from arp itself.  The address arp writes in
 * ARP packets comes from the DL_PHYS_ADDR_ACK and follows DL_NOTIFY_IND
 * DL_NOTE_PHYS_ADDR (so setting ether's "mac" after arp is pushed works).
 * ether keeps one notification set per stream, so a user's DL_NOTIFY_REQ
 * goes down with DL_NOTE_PHYS_ADDR added, and DL_NOTE_PHYS_ADDR
 * indications go up only when the user asked for them.
 *
 * Receive (read put): DL_UNITDATA_IND whose source DLSAP carries SAP 0x0806
 * is ARP and never goes up.  It is checked (RFC 826 §Packet format: hardware
 * type 1, protocol 0x0800, lengths 6 and 4, op 1 or 2, at least 28 bytes:
 * else malformed) and the sender too (group MAC, group IP, or IP 0 other than
 * in an RFC 5227 probe: bad sender; our own MAC: own).  Then the RFC 826
 * algorithm: the merge step updates an entry that exists for the sender IP
 * (confirming it: REACHABLE); if the target IP is one of ours, an entry is
 * created if there was none, and a request gets a reply unicast to the
 * sender.  A gratuitous ARP (sender IP = target IP) thus only updates
 * existing entries; requests and replies for other hosts that merged nothing
 * are dropped, counted.  A sender claiming one of our addresses is dropped
 * (conflict) and logged.  Everything else (other DL_UNITDATA_IND, fast-path
 * M_DATA, other primitives, M_FLUSH canonically) goes up unchanged.
 *
 * The cache (RFC 1122 §2.3.2), one entry per IPv4 address, states:
 *   INCOMPLETE  created by a packet to send (or DL_IOC_HDR_INFO): a
 *               broadcast request at once and every retrans_ms, retries in
 *               all; packets wait on the entry (queue_max each, queue_total
 *               in all; when full the entry's oldest packet is dropped).
 *               An answer makes it REACHABLE and sends the packets in order.
 *               After the last request's retrans_ms: FAILED; the first
 *               packet's data goes up in ARP_UNREACH_IND, the rest dropped.
 *   REACHABLE   confirmed by an ARP packet from the neighbour; after
 *               reachable_ms: STALE.
 *   STALE       still used.  The first use sends one unicast request
 *               (RFC 1122 §2.3.2.1 "unicast poll") and starts a window of
 *               retries * retrans_ms; a confirmation makes it REACHABLE, the
 *               end of the window removes it (the next packet starts a new
 *               resolution, which reports failure properly).
 *   FAILED      packets sent to it are answered with ARP_UNREACH_IND at once;
 *               removed after failed_ms.  An ARP packet from it revives it.
 *   PERMANENT   ARP_ADD_STATIC; never aged, never changed by ARP packets.
 * At most max_entries entries: a new one evicts the oldest STALE or FAILED
 * entry, or else is refused (cache full: the packet is dropped).  A MAC
 * change of a resolved entry sends ARP_CHANGED_IND up.  Each entry has one
 * qtimeout on the world clock, so virtual time drives it deterministically.
 *
 * Fast path.  DL_IOC_HDR_INFO for a resolved next hop (REACHABLE, STALE,
 * PERMANENT, broadcast, multicast) is rewritten to name the 8-byte DLSAP and
 * passed to ether, which builds the header (with the 802.1Q tag when its
 * "vlan" is set) and enters fast-path mode; so the answer never waits.  For
 * an unresolved one arp starts resolution and NAKs EAGAIN (ip asks again
 * later); a FAILED one is NAKed EHOSTUNREACH, 0.0.0.0 EINVAL, a full cache
 * ENOBUFS.  The cache is the MAC per entry: the header itself is ether's to
 * build (see Deviations).  ARP_CHANGED_IND tells ip to drop headers.
 *
 * Our addresses: ARP_ADD_LOCAL/ARP_DEL_LOCAL.  Adding one sends "announce"
 * gratuitous requests (RFC 5227 §2.3: sender IP = target IP = the address,
 * target MAC 0, broadcast), "announce_ms" apart.  Requests arp sends carry
 * the first of our addresses (0.0.0.0 when none) as sender IP.
 *
 * ioctls (arp.h): ARP_ADD_LOCAL, ARP_DEL_LOCAL, ARP_ADD_STATIC,
 * ARP_DEL_ENTRY, ARP_LIST, ARP_FLUSH; DL_IOC_HDR_INFO as above; every other
 * ioctl passes down.  Parameters and statistics are tables (arp.h); every
 * drop goes through us_drop() with a reason from arp_drop_reasons.
 *
 * Flow control: no service procedures, so arp is transparent like ether.
 * Waiting packets are held by the cache, not on a queue: M_FLUSH (canonical
 * handling) does not touch them.  Malformed input is never read out of
 * bounds: primitives are copied out only after their length and every
 * offset/length pair were checked, ARP packets only after msgdsize().
 *
 * Reading list: RFC 826 (packet, merge algorithm); RFC 1122 §2.3.2 (cache,
 * flooding limits, unicast poll); RFC 5227 §2.3 (announcements) and §1.1
 * (probes: sender IP 0); RFC 1112 §6.4 (multicast MAC mapping); DLPI 2.0.0
 * and illumos dld (fast path); ether.c (the provider below).
 *
 * Deviations
 *  - No prebuilt header per entry: ether must see DL_IOC_HDR_INFO anyway to
 *    enter fast-path mode, and only it knows the VLAN tag; arp caches the MAC.
 *  - Address conflicts (RFC 5227 §2.4) are detected and counted but not
 *    defended; probes from others for our address are answered as requests.
 *  - arp stays bound to 0x0806 after it is popped (ether has no way to remove
 *    the first SAP alone); ARP frames then go up to the user.
 *  - Under DLIOCRAW (raw mode, asked for by the user) ether sends whole
 *    frames as M_DATA and arp does not see ARP frames.
 *  - DL_SUBS_BIND_REQ by a bound user goes to ether, which is always in
 *    DL_IDLE: ether's rules apply, not the user's state.
 *  - Lowering max_entries does not shrink the cache at once; it only bounds
 *    new entries.
 *  - A DL_UDERROR_IND that ether returns for a resolved request names the
 *    8-byte MAC+SAP destination, not the next hop the user gave.
 */
#define G_LOG_DOMAIN "us-arp"

#include "arp.h"
#include "arp-wire.h"
#include "ether.h"

#include <ustreams/dlpi.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

typedef struct ArpState ArpState;

/* One cache entry (values of as_cache). */
typedef struct {
	uint32_t ae_addr;           /* IPv4 address, network order (the key) */
	uint8_t ae_mac[ETHER_ALEN]; /* valid in REACHABLE, STALE, PERMANENT */
	uint8_t ae_state;           /* ARP_STATE_*, 0 only while being created */
	gboolean ae_probed;         /* STALE: the unicast poll went out */
	guint ae_tries;             /* INCOMPLETE: requests sent */
	gint64 ae_changed;          /* world ns of the last state or MAC change */
	timeout_id_t ae_tid;        /* the entry's qtimeout, 0 when none */
	mblk_t *ae_qhead;           /* waiting DL_UNITDATA_REQs, b_next chain */
	mblk_t *ae_qtail;
	guint ae_qlen;   /* messages on that chain */
	ArpState *ae_as; /* owner, for the timer */
} ArpEntry;

/* One address of ours (al_addr 0: free slot). */
typedef struct {
	uint32_t al_addr;    /* network order */
	guint al_left;       /* announcements still to send */
	timeout_id_t al_tid; /* announcement timer, 0 when none */
	ArpState *al_as;     /* owner, for the timer */
} ArpLocal;

/* Per-instance state (q_ptr of both queues).  Parameter and statistic fields
 * are read and written by the framework through the descriptor's tables. */
struct ArpState {
	/* parameters (arp.h) */
	guint64 as_queue_max, as_queue_total, as_retries, as_retrans_ms;
	guint64 as_reachable_ms, as_failed_ms, as_max_entries;
	guint64 as_announce, as_announce_ms;
	/* statistics (arp.h) */
	guint64 as_requests_in, as_requests_out, as_replies_in, as_replies_out;
	guint64 as_resolved, as_failed, as_queued, as_entries, as_announcements;
	guint64 as_unreach_ind, as_changed_ind;
	/* state */
	queue_t *as_rq;                   /* our read queue */
	uint8_t as_mac[ETHER_ALEN];       /* our MAC (DL_PHYS_ADDR_ACK) */
	gboolean as_have_mac;             /* as_mac is known */
	gboolean as_bound;                /* our DL_BIND_ACK arrived */
	GQueue as_pending;                /* outstanding tracked requests (ARP_PEND_*) */
	gboolean as_user_bound;           /* the user above has bound */
	uint16_t as_user_sap;             /* its DL_BIND_REQ SAP */
	uint32_t as_user_notes;           /* DL_NOTE_* the user enabled */
	GHashTable *as_cache;             /* GUINT_TO_POINTER(addr) -> ArpEntry */
	guint64 as_waiting;               /* packets waiting on all entries */
	ArpLocal as_local[ARP_LOCAL_MAX]; /* our addresses */
};

/* A tracked request in as_pending: primitive << 1 | 1 when it is arp's. */
#define ARP_PEND(prim, own) GUINT_TO_POINTER(((guint)(prim) << 1) | ((own) ? 1u : 0u))
#define ARP_PEND_PRIM(p) (GPOINTER_TO_UINT(p) >> 1)
#define ARP_PEND_OWN(p) ((GPOINTER_TO_UINT(p) & 1u) != 0)

#define ARP_DEFAULT_QUEUE_MAX 3
#define ARP_DEFAULT_QUEUE_TOTAL 256
#define ARP_DEFAULT_RETRIES 3
#define ARP_DEFAULT_RETRANS_MS 1000
#define ARP_DEFAULT_REACHABLE_MS 30000
#define ARP_DEFAULT_FAILED_MS 20000
#define ARP_DEFAULT_MAX_ENTRIES 1024
#define ARP_DEFAULT_ANNOUNCE 2
#define ARP_DEFAULT_ANNOUNCE_MS 2000 /* RFC 5227 ANNOUNCE_INTERVAL */

static const uint8_t arp_bcast[ETHER_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t arp_zero[ETHER_ALEN] = { 0 };

static const char *const arp_drop_reasons[] = {
	[ARP_DROP_MALFORMED] = "malformed ARP packet",
	[ARP_DROP_BAD_SENDER] = "bad sender address",
	[ARP_DROP_OWN] = "our own ARP packet",
	[ARP_DROP_CONFLICT] = "address conflict",
	[ARP_DROP_NOT_FOR_US] = "for another host",
	[ARP_DROP_GRATUITOUS] = "gratuitous ARP for an unknown address",
	[ARP_DROP_QUEUE_FULL] = "resolution queue full (queue_max)",
	[ARP_DROP_QUEUE_TOTAL] = "resolution queues full (queue_total)",
	[ARP_DROP_UNRESOLVED] = "next hop unresolved",
	[ARP_DROP_CACHE_FULL] = "cache full (max_entries)",
	[ARP_DROP_FLUSHED] = "entry removed while waiting",
	[ARP_DROP_BAD_NEXTHOP] = "next hop 0.0.0.0",
	[ARP_DROP_BADPRIM] = "DLPI message too short",
	[ARP_DROP_NOMEM] = "no memory",
	NULL,
};

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static gint64
arp_now(const ArpState *as)
{
	return us_world_now(us_queue_world(as->as_rq));
}

static clock_t
arp_ticks(guint64 ms)
{
	return (clock_t)MAX(ms * HZ / 1000, 1);
}

/* Copies the fixed part of a primitive; FALSE when the block is too short. */
static gboolean
arp_prim_get(const mblk_t *mp, void *out, size_t size)
{
	if (MBLKL(mp) < size)
		return FALSE;
	memcpy(out, mp->b_rptr, size);
	return TRUE;
}

/* TRUE when [off, off + len) lies inside mp's first block. */
static gboolean
arp_span_ok(const mblk_t *mp, t_uscalar_t off, t_uscalar_t len)
{
	size_t l = MBLKL(mp);
	return off <= l && len <= l - off;
}

static t_uscalar_t
arp_prim_of(const mblk_t *mp)
{
	t_uscalar_t prim;
	memcpy(&prim, mp->b_rptr, sizeof prim);
	return prim;
}

static gboolean
arp_is_local(const ArpState *as, uint32_t addr)
{
	for (guint i = 0; i < ARP_LOCAL_MAX; i++)
		if (addr != 0 && as->as_local[i].al_addr == addr)
			return TRUE;
	return FALSE;
}

/* The sender IP of our requests: the first of our addresses, else 0. */
static uint32_t
arp_source_addr(const ArpState *as)
{
	for (guint i = 0; i < ARP_LOCAL_MAX; i++)
		if (as->as_local[i].al_addr != 0)
			return as->as_local[i].al_addr;
	return 0;
}

/* MACs that need no resolution: broadcast and RFC 1112 multicast. */
static gboolean
arp_nh_fixed_mac(uint32_t addr, uint8_t mac[ETHER_ALEN])
{
	const uint8_t *b = (const uint8_t *)&addr;
	if (arp_ip_is_broadcast(addr)) {
		memcpy(mac, arp_bcast, ETHER_ALEN);
		return TRUE;
	}
	if (!arp_ip_is_multicast(addr))
		return FALSE;
	const uint8_t m[ETHER_ALEN] = { 0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3] };
	memcpy(mac, m, ETHER_ALEN);
	return TRUE;
}

static char *
arp_ntoa(uint32_t addr, char buf[16])
{
	const uint8_t *b = (const uint8_t *)&addr;
	g_snprintf(buf, 16, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	return buf;
}

/* A DL_UNITDATA_REQ for mac/sap with data (not consumed) as b_cont; NULL
 * when there is no memory. */
static mblk_t *
arp_unitdata_new(const uint8_t mac[ETHER_ALEN], uint16_t sap, const dl_priority_t *prio,
		 mblk_t *data)
{
	mblk_t *mp = allocb(sizeof(dl_unitdata_req_t) + ETHER_DLSAP_LEN, BPRI_MED);
	if (mp == NULL)
		return NULL;
	dl_unitdata_req_t req = { .dl_primitive = DL_UNITDATA_REQ,
				  .dl_dest_addr_length = ETHER_DLSAP_LEN,
				  .dl_dest_addr_offset = sizeof req };
	if (prio != NULL)
		req.dl_priority = *prio;
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, &req, sizeof req);
	ether_dlsap_make(mp->b_wptr + sizeof req, mac, sap);
	mp->b_wptr += sizeof req + ETHER_DLSAP_LEN;
	mp->b_cont = data;
	return mp;
}

/* Reads the next hop of a DL_UNITDATA_REQ already known to hold one. */
static void
arp_nh_read(const mblk_t *mp, const dl_unitdata_req_t *req, uint32_t *addr, uint16_t *sap)
{
	const uint8_t *d = mp->b_rptr + req->dl_dest_addr_offset;
	memcpy(addr, d, ARP_IP_ALEN);
	memcpy(sap, d + ARP_IP_ALEN, 2);
}

/* TRUE when mp (M_PROTO) is a DL_UNITDATA_REQ with a next-hop destination;
 * fills req. */
static gboolean
arp_is_nh_unitdata(const mblk_t *mp, dl_unitdata_req_t *req)
{
	return arp_prim_get(mp, req, sizeof *req) && req->dl_primitive == DL_UNITDATA_REQ &&
	       req->dl_dest_addr_length == ARP_NH_LEN &&
	       arp_span_ok(mp, req->dl_dest_addr_offset, req->dl_dest_addr_length);
}

/* ------------------------------------------------------------------ */
/* Output: ARP packets, indications                                   */
/* ------------------------------------------------------------------ */

/* Sends one ARP packet to dst.  FALSE when it could not (no MAC yet, no
 * memory). */
static gboolean
arp_output(ArpState *as, uint16_t op, const uint8_t *dst, uint32_t spa, const uint8_t *tha,
	   uint32_t tpa)
{
	if (!as->as_have_mac) {
		g_debug("no MAC address yet: ARP packet not sent");
		return FALSE;
	}
	mblk_t *data = allocb(ARP_PKT_LEN, BPRI_MED);
	mblk_t *mp = data != NULL ? arp_unitdata_new(dst, ETHER_T_ARP, NULL, data) : NULL;
	if (mp == NULL) {
		us_drop(as->as_rq, data, ARP_DROP_NOMEM);
		return FALSE;
	}
	ArpPkt pkt = { .op = op, .spa = spa, .tpa = tpa };
	memcpy(pkt.sha, as->as_mac, ETHER_ALEN);
	memcpy(pkt.tha, tha, ETHER_ALEN);
	arp_pkt_write(data->b_wptr, &pkt);
	data->b_wptr += ARP_PKT_LEN;
	putnext(WR(as->as_rq), mp);
	return TRUE;
}

/* A request for addr: broadcast, or unicast to mac (re-confirmation). */
static void
arp_send_request(ArpState *as, uint32_t addr, const uint8_t *mac)
{
	if (arp_output(as, ARP_OP_REQUEST, mac != NULL ? mac : arp_bcast, arp_source_addr(as),
		       arp_zero, addr))
		as->as_requests_out++;
}

/* Sends an 8-byte indication prim/addr up with data (consumed) as b_cont. */
static void
arp_indicate(ArpState *as, uint32_t prim, uint32_t addr, mblk_t *data)
{
	mblk_t *mp = allocb(sizeof(struct arp_unreach_ind), BPRI_MED);
	if (mp == NULL) {
		us_drop(as->as_rq, data, ARP_DROP_NOMEM);
		return;
	}
	struct arp_unreach_ind ind = { .prim = prim, .addr = addr };
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, &ind, sizeof ind);
	mp->b_wptr += sizeof ind;
	mp->b_cont = data;
	if (prim == ARP_UNREACH_IND)
		as->as_unreach_ind++;
	else
		as->as_changed_ind++;
	putnext(as->as_rq, mp);
}

/* Answers a DL_UNITDATA_REQ (consumed) for an unreachable addr: its data
 * goes up in ARP_UNREACH_IND. */
static void
arp_unreach(ArpState *as, uint32_t addr, mblk_t *req)
{
	mblk_t *data = req->b_cont;
	req->b_cont = NULL;
	freeb(req);
	arp_indicate(as, ARP_UNREACH_IND, addr, data);
}

/* Sends a user's DL_UNITDATA_REQ (consumed, next-hop form) down with the
 * resolved mac in its place. */
static void
arp_send_resolved(ArpState *as, mblk_t *mp, const uint8_t mac[ETHER_ALEN])
{
	dl_unitdata_req_t req;
	uint32_t addr;
	uint16_t sap;
	memcpy(&req, mp->b_rptr, sizeof req); /* checked when it came down */
	arp_nh_read(mp, &req, &addr, &sap);
	mblk_t *nmp = arp_unitdata_new(mac, sap, &req.dl_priority, mp->b_cont);
	if (nmp == NULL) {
		us_drop(as->as_rq, mp, ARP_DROP_NOMEM);
		return;
	}
	mp->b_cont = NULL;
	freeb(mp);
	putnext(WR(as->as_rq), nmp);
}

/* ------------------------------------------------------------------ */
/* The cache                                                          */
/* ------------------------------------------------------------------ */

static void arp_entry_timer(void *arg);

static ArpEntry *
arp_lookup(const ArpState *as, uint32_t addr)
{
	return g_hash_table_lookup(as->as_cache, GUINT_TO_POINTER(addr));
}

static void
arp_entry_untimeout(ArpState *as, ArpEntry *ae)
{
	if (ae->ae_tid != 0)
		quntimeout(as->as_rq, ae->ae_tid);
	ae->ae_tid = 0;
}

/* Enters state, restarting the entry's timer for ms (0: none). */
static void
arp_entry_set_state(ArpState *as, ArpEntry *ae, uint8_t state, guint64 ms)
{
	arp_entry_untimeout(as, ae);
	ae->ae_state = state;
	ae->ae_changed = arp_now(as);
	if (ms > 0)
		ae->ae_tid = qtimeout(as->as_rq, arp_entry_timer, ae, arp_ticks(ms));
}

/* Takes the oldest waiting packet off ae (NULL if none). */
static mblk_t *
arp_entry_dequeue(ArpState *as, ArpEntry *ae)
{
	mblk_t *mp = ae->ae_qhead;
	if (mp == NULL)
		return NULL;
	ae->ae_qhead = mp->b_next;
	if (ae->ae_qhead == NULL)
		ae->ae_qtail = NULL;
	mp->b_next = NULL;
	ae->ae_qlen--;
	as->as_waiting--;
	return mp;
}

static void
arp_entry_drop_all(ArpState *as, ArpEntry *ae, guint reason)
{
	mblk_t *mp;
	while ((mp = arp_entry_dequeue(as, ae)) != NULL)
		us_drop(as->as_rq, mp, reason);
}

/* Makes mp (a next-hop DL_UNITDATA_REQ, consumed) wait on ae. */
static void
arp_entry_enqueue(ArpState *as, ArpEntry *ae, mblk_t *mp)
{
	if (ae->ae_qlen >= as->as_queue_max) {
		us_drop(as->as_rq, arp_entry_dequeue(as, ae), ARP_DROP_QUEUE_FULL);
	} else if (as->as_waiting >= as->as_queue_total) {
		if (ae->ae_qlen == 0) {
			us_drop(as->as_rq, mp, ARP_DROP_QUEUE_TOTAL);
			return;
		}
		us_drop(as->as_rq, arp_entry_dequeue(as, ae), ARP_DROP_QUEUE_TOTAL);
	}
	mp->b_next = NULL;
	if (ae->ae_qtail != NULL)
		ae->ae_qtail->b_next = mp;
	else
		ae->ae_qhead = mp;
	ae->ae_qtail = mp;
	ae->ae_qlen++;
	as->as_waiting++;
	as->as_queued++;
}

/* Removes ae, dropping what waited on it with reason. */
static void
arp_entry_free(ArpState *as, ArpEntry *ae, guint reason)
{
	arp_entry_untimeout(as, ae);
	arp_entry_drop_all(as, ae, reason);
	g_hash_table_remove(as->as_cache, GUINT_TO_POINTER(ae->ae_addr));
	as->as_entries--;
	g_free(ae);
}

/* The oldest STALE or FAILED entry, or NULL. */
static ArpEntry *
arp_evictable(ArpState *as)
{
	ArpEntry *best = NULL;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, as->as_cache);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		ArpEntry *ae = v;
		if ((ae->ae_state == ARP_STATE_STALE || ae->ae_state == ARP_STATE_FAILED) &&
		    (best == NULL || ae->ae_changed < best->ae_changed ||
		     (ae->ae_changed == best->ae_changed && ae->ae_addr < best->ae_addr)))
			best = ae;
	}
	return best;
}

/* A new entry for addr in state 0 (the caller sets one); NULL when the cache
 * is full and nothing can be evicted. */
static ArpEntry *
arp_entry_new(ArpState *as, uint32_t addr)
{
	if (as->as_entries >= as->as_max_entries) {
		ArpEntry *old = arp_evictable(as);
		if (old == NULL)
			return NULL;
		arp_entry_free(as, old, ARP_DROP_FLUSHED);
	}
	ArpEntry *ae = g_new0(ArpEntry, 1);
	ae->ae_addr = addr;
	ae->ae_as = as;
	ae->ae_changed = arp_now(as);
	g_hash_table_insert(as->as_cache, GUINT_TO_POINTER(addr), ae);
	as->as_entries++;
	return ae;
}

/* Starts resolving addr: a new INCOMPLETE entry and its first request. */
static ArpEntry *
arp_resolve_start(ArpState *as, uint32_t addr)
{
	ArpEntry *ae = arp_entry_new(as, addr);
	if (ae == NULL)
		return NULL;
	arp_entry_set_state(as, ae, ARP_STATE_INCOMPLETE, as->as_retrans_ms);
	ae->ae_tries = 1;
	arp_send_request(as, addr, NULL);
	return ae;
}

/* Sends what waited on ae, in order, to its MAC. */
static void
arp_entry_release(ArpState *as, ArpEntry *ae)
{
	mblk_t *mp;
	while ((mp = arp_entry_dequeue(as, ae)) != NULL)
		arp_send_resolved(as, mp, ae->ae_mac);
}

/* Sets ae's MAC, telling the user when a MAC it may have used changed. */
static void
arp_entry_set_mac(ArpState *as, ArpEntry *ae, const uint8_t mac[ETHER_ALEN])
{
	gboolean had = ae->ae_state == ARP_STATE_REACHABLE || ae->ae_state == ARP_STATE_STALE ||
		       ae->ae_state == ARP_STATE_PERMANENT;
	if (had && ether_addr_eq(ae->ae_mac, mac))
		return;
	memcpy(ae->ae_mac, mac, ETHER_ALEN);
	if (had)
		arp_indicate(as, ARP_CHANGED_IND, ae->ae_addr, NULL);
}

/* The RFC 826 merge: the neighbour at ae spoke from mac.  PERMANENT entries
 * do not change. */
static void
arp_entry_confirm(ArpState *as, ArpEntry *ae, const uint8_t mac[ETHER_ALEN])
{
	if (ae->ae_state == ARP_STATE_PERMANENT)
		return;
	gboolean was_incomplete = ae->ae_state == ARP_STATE_INCOMPLETE;
	arp_entry_set_mac(as, ae, mac);
	arp_entry_set_state(as, ae, ARP_STATE_REACHABLE, as->as_reachable_ms);
	ae->ae_probed = FALSE;
	ae->ae_tries = 0;
	if (was_incomplete) {
		as->as_resolved++;
		arp_entry_release(as, ae);
	}
}

/* Resolution failed: the first waiting packet goes up in ARP_UNREACH_IND,
 * the others are dropped, and the entry is FAILED for failed_ms. */
static void
arp_entry_fail(ArpState *as, ArpEntry *ae)
{
	char buf[16];
	g_debug("%s: no answer after %u requests", arp_ntoa(ae->ae_addr, buf), ae->ae_tries);
	as->as_failed++;
	memset(ae->ae_mac, 0, ETHER_ALEN);
	arp_entry_set_state(as, ae, ARP_STATE_FAILED, as->as_failed_ms);
	mblk_t *first = arp_entry_dequeue(as, ae);
	arp_entry_drop_all(as, ae, ARP_DROP_UNRESOLVED);
	if (first != NULL)
		arp_unreach(as, ae->ae_addr, first);
}

/* A use of a STALE entry: one unicast request (RFC 1122 §2.3.2.1), then a
 * window of retries * retrans_ms for the answer. */
static void
arp_entry_stale_use(ArpState *as, ArpEntry *ae)
{
	if (ae->ae_probed)
		return;
	ae->ae_probed = TRUE;
	arp_entry_untimeout(as, ae);
	ae->ae_tid = qtimeout(as->as_rq, arp_entry_timer, ae,
			      arp_ticks(as->as_retries * as->as_retrans_ms));
	arp_send_request(as, ae->ae_addr, ae->ae_mac);
}

/* The entry's timer: the next step of its state. */
static void
arp_entry_timer(void *arg)
{
	ArpEntry *ae = arg;
	ArpState *as = ae->ae_as;
	ae->ae_tid = 0;
	switch (ae->ae_state) {
	case ARP_STATE_INCOMPLETE:
		if (ae->ae_tries < as->as_retries) {
			ae->ae_tries++;
			ae->ae_tid = qtimeout(as->as_rq, arp_entry_timer, ae,
					      arp_ticks(as->as_retrans_ms));
			arp_send_request(as, ae->ae_addr, NULL);
		} else {
			arp_entry_fail(as, ae);
		}
		break;
	case ARP_STATE_REACHABLE: arp_entry_set_state(as, ae, ARP_STATE_STALE, 0); break;
	case ARP_STATE_STALE: /* the unicast poll went unanswered */
	case ARP_STATE_FAILED: arp_entry_free(as, ae, ARP_DROP_FLUSHED); break;
	default: break;
	}
}

/* ------------------------------------------------------------------ */
/* Our addresses                                                      */
/* ------------------------------------------------------------------ */

static void
arp_announce(void *arg)
{
	ArpLocal *al = arg;
	ArpState *as = al->al_as;
	al->al_tid = 0;
	if (al->al_left == 0)
		return;
	al->al_left--;
	if (arp_output(as, ARP_OP_REQUEST, arp_bcast, al->al_addr, arp_zero, al->al_addr))
		as->as_announcements++;
	if (al->al_left > 0)
		al->al_tid = qtimeout(as->as_rq, arp_announce, al, arp_ticks(as->as_announce_ms));
}

static ArpLocal *
arp_local_find(ArpState *as, uint32_t addr)
{
	for (guint i = 0; i < ARP_LOCAL_MAX; i++)
		if (as->as_local[i].al_addr == addr)
			return &as->as_local[i];
	return NULL;
}

static void
arp_local_clear(ArpState *as, ArpLocal *al)
{
	if (al->al_tid != 0)
		quntimeout(as->as_rq, al->al_tid);
	memset(al, 0, sizeof *al);
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

/* Sends one of arp's own DLPI requests down, remembering it. */
static gboolean
arp_own_request(ArpState *as, const void *prim, size_t len)
{
	mblk_t *mp = allocb(len, BPRI_HI);
	if (mp == NULL)
		return FALSE;
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, prim, len);
	mp->b_wptr += len;
	t_uscalar_t p;
	memcpy(&p, prim, sizeof p);
	g_queue_push_tail(&as->as_pending, ARP_PEND(p, TRUE));
	putnext(WR(as->as_rq), mp); /* the ack may come back before this returns */
	return TRUE;
}

static gboolean
arp_bind(ArpState *as)
{
	dl_bind_req_t req = { .dl_primitive = DL_BIND_REQ,
			      .dl_sap = ETHER_T_ARP,
			      .dl_service_mode = DL_CLDLS };
	return arp_own_request(as, &req, sizeof req);
}

static int
arp_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp;
	(void)oflag;
	(void)crp;
	if (sflag != MODOPEN)
		return ENXIO;
	ArpState *as = g_new0(ArpState, 1);
	as->as_rq = rq;
	as->as_queue_max = ARP_DEFAULT_QUEUE_MAX;
	as->as_queue_total = ARP_DEFAULT_QUEUE_TOTAL;
	as->as_retries = ARP_DEFAULT_RETRIES;
	as->as_retrans_ms = ARP_DEFAULT_RETRANS_MS;
	as->as_reachable_ms = ARP_DEFAULT_REACHABLE_MS;
	as->as_failed_ms = ARP_DEFAULT_FAILED_MS;
	as->as_max_entries = ARP_DEFAULT_MAX_ENTRIES;
	as->as_announce = ARP_DEFAULT_ANNOUNCE;
	as->as_announce_ms = ARP_DEFAULT_ANNOUNCE_MS;
	g_queue_init(&as->as_pending);
	as->as_cache = g_hash_table_new(g_direct_hash, g_direct_equal);
	rq->q_ptr = WR(rq)->q_ptr = as;
	qprocson(rq);
	dl_phys_addr_req_t pa = { .dl_primitive = DL_PHYS_ADDR_REQ,
				  .dl_addr_type = DL_CURR_PHYS_ADDR };
	dl_notify_req_t nr = { .dl_primitive = DL_NOTIFY_REQ,
			       .dl_notifications = DL_NOTE_PHYS_ADDR };
	if (!arp_own_request(as, &pa, sizeof pa) || !arp_bind(as) ||
	    !arp_own_request(as, &nr, sizeof nr)) {
		qprocsoff(rq);
		g_queue_clear(&as->as_pending);
		g_hash_table_destroy(as->as_cache);
		g_free(as);
		rq->q_ptr = WR(rq)->q_ptr = NULL;
		return ENOMEM;
	}
	return 0;
}

static int
arp_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	ArpState *as = rq->q_ptr;
	qprocsoff(rq);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, as->as_cache);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		ArpEntry *ae = v;
		arp_entry_untimeout(as, ae);
		arp_entry_drop_all(as, ae, ARP_DROP_FLUSHED);
		g_hash_table_iter_remove(&it);
		g_free(ae);
	}
	g_hash_table_destroy(as->as_cache);
	for (guint i = 0; i < ARP_LOCAL_MAX; i++)
		arp_local_clear(as, &as->as_local[i]);
	g_queue_clear(&as->as_pending);
	g_free(as);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Write side                                                         */
/* ------------------------------------------------------------------ */

/* A next-hop DL_UNITDATA_REQ (consumed): send, wait or report. */
static void
arp_unitdata_req(queue_t *wq, mblk_t *mp, const dl_unitdata_req_t *req)
{
	ArpState *as = wq->q_ptr;
	uint32_t addr;
	uint16_t sap;
	uint8_t mac[ETHER_ALEN];
	arp_nh_read(mp, req, &addr, &sap);
	if (addr == 0) {
		us_drop(wq, mp, ARP_DROP_BAD_NEXTHOP);
		return;
	}
	if (arp_nh_fixed_mac(addr, mac)) {
		arp_send_resolved(as, mp, mac);
		return;
	}
	ArpEntry *ae = arp_lookup(as, addr);
	if (ae == NULL) {
		ae = arp_entry_new(as, addr);
		if (ae == NULL) {
			us_drop(wq, mp, ARP_DROP_CACHE_FULL);
			return;
		}
		arp_entry_set_state(as, ae, ARP_STATE_INCOMPLETE, as->as_retrans_ms);
		ae->ae_tries = 1;
		arp_entry_enqueue(as, ae, mp);
		arp_send_request(as, addr, NULL);
		return;
	}
	switch (ae->ae_state) {
	case ARP_STATE_INCOMPLETE: arp_entry_enqueue(as, ae, mp); break;
	case ARP_STATE_FAILED: arp_unreach(as, addr, mp); break;
	case ARP_STATE_STALE:
		arp_entry_stale_use(as, ae);
		arp_send_resolved(as, mp, ae->ae_mac);
		break;
	default: arp_send_resolved(as, mp, ae->ae_mac); break;
	}
}

/* Answers a request of the user's on ether's behalf. */
static void
arp_error_ack(queue_t *wq, mblk_t *mp, t_uscalar_t prim, t_uscalar_t err)
{
	mp = mexchange(wq, mp, sizeof(dl_error_ack_t), M_PCPROTO, DL_ERROR_ACK);
	if (mp == NULL)
		return;
	dl_error_ack_t ack = { .dl_primitive = DL_ERROR_ACK,
			       .dl_error_primitive = prim,
			       .dl_errno = err };
	memcpy(mp->b_rptr, &ack, sizeof ack);
	qreply(wq, mp);
}

/* The user's DL_NOTIFY_REQ (consumed) goes down with DL_NOTE_PHYS_ADDR
 * added, which arp needs (see Theory). */
static void
arp_user_notify_req(queue_t *wq, mblk_t *mp)
{
	ArpState *as = wq->q_ptr;
	dl_notify_req_t req;
	if (arp_prim_get(mp, &req, sizeof req)) {
		if (DB_REF(mp) > 1) {
			mblk_t *c = copymsg(mp);
			if (c == NULL) {
				us_drop(wq, mp, ARP_DROP_NOMEM);
				return;
			}
			freemsg(mp);
			mp = c;
		}
		as->as_user_notes = req.dl_notifications;
		req.dl_notifications |= DL_NOTE_PHYS_ADDR;
		memcpy(mp->b_rptr, &req, sizeof req);
	}
	g_queue_push_tail(&as->as_pending, ARP_PEND(DL_NOTIFY_REQ, FALSE));
	putnext(wq, mp);
}

/* DLPI from the user (consumed). */
static void
arp_wput_proto(queue_t *wq, mblk_t *mp)
{
	ArpState *as = wq->q_ptr;
	if (MBLKL(mp) < sizeof(t_uscalar_t)) {
		putnext(wq, mp); /* ether's to refuse */
		return;
	}
	dl_unitdata_req_t req;
	t_uscalar_t prim = arp_prim_of(mp);
	switch (prim) {
	case DL_UNITDATA_REQ:
		if (arp_is_nh_unitdata(mp, &req))
			arp_unitdata_req(wq, mp, &req);
		else
			putnext(wq, mp);
		return;
	case DL_NOTIFY_REQ: arp_user_notify_req(wq, mp); return;
	case DL_BIND_REQ:
	case DL_PHYS_ADDR_REQ:
		g_queue_push_tail(&as->as_pending, ARP_PEND(prim, FALSE));
		putnext(wq, mp);
		return;
	case DL_UNBIND_REQ:
	case DL_SUBS_BIND_REQ:
		if (!as->as_user_bound) {
			arp_error_ack(wq, mp, prim, DL_OUTSTATE);
			return;
		}
		putnext(wq, mp);
		if (prim == DL_UNBIND_REQ)
			arp_bind(as); /* keep receiving ARP (see Theory) */
		return;
	default: putnext(wq, mp); return;
	}
}

/* Replaces the DL_UNITDATA_REQ nmp of a DL_IOC_HDR_INFO (mp) by one naming
 * mac, and passes the ioctl down to ether. */
static void
arp_hdr_info_pass(queue_t *wq, mblk_t *mp, const dl_unitdata_req_t *req, uint16_t sap,
		  const uint8_t mac[ETHER_ALEN])
{
	mblk_t *nmp = mp->b_cont;
	mblk_t *r = arp_unitdata_new(mac, sap, &req->dl_priority, NULL);
	if (r == NULL) {
		miocnak(wq, mp, 0, ENOMEM);
		return;
	}
	DB_TYPE(r) = M_DATA; /* an ioctl's data, as the user sent it */
	r->b_cont = nmp->b_cont;
	nmp->b_cont = NULL;
	freeb(nmp);
	mp->b_cont = r;
	((struct iocblk *)mp->b_rptr)->ioc_count = msgdsize(r);
	putnext(wq, mp);
}

/* DL_IOC_HDR_INFO (consumed): next-hop requests are resolved here (see
 * Theory); anything else is ether's. */
static void
arp_ioc_hdr_info(queue_t *wq, mblk_t *mp)
{
	ArpState *as = wq->q_ptr;
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	mblk_t *nmp = mp->b_cont;
	dl_unitdata_req_t req;
	if (ioc->ioc_count == TRANSPARENT || nmp == NULL || DB_TYPE(nmp) != M_DATA ||
	    (MBLKL(nmp) < sizeof req && !pullupmsg(nmp, -1)) || !arp_is_nh_unitdata(nmp, &req)) {
		putnext(wq, mp);
		return;
	}
	uint32_t addr;
	uint16_t sap;
	uint8_t mac[ETHER_ALEN];
	arp_nh_read(nmp, &req, &addr, &sap);
	if (addr == 0) {
		miocnak(wq, mp, 0, EINVAL);
		return;
	}
	if (arp_nh_fixed_mac(addr, mac)) {
		arp_hdr_info_pass(wq, mp, &req, sap, mac);
		return;
	}
	ArpEntry *ae = arp_lookup(as, addr);
	if (ae == NULL) {
		miocnak(wq, mp, 0, arp_resolve_start(as, addr) != NULL ? EAGAIN : ENOBUFS);
		return;
	}
	switch (ae->ae_state) {
	case ARP_STATE_INCOMPLETE: miocnak(wq, mp, 0, EAGAIN); return;
	case ARP_STATE_FAILED: miocnak(wq, mp, 0, EHOSTUNREACH); return;
	case ARP_STATE_STALE: arp_entry_stale_use(as, ae); break;
	default: break;
	}
	arp_hdr_info_pass(wq, mp, &req, sap, ae->ae_mac);
}

/* Copies an ioctl's argument; FALSE when it is shorter than len. */
static gboolean
arp_ioc_arg(const mblk_t *mp, void *out, size_t len)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	return ioc->ioc_count != TRANSPARENT && ioc->ioc_count >= len && mp->b_cont != NULL &&
	       us_msgcopyout(mp->b_cont, 0, out, len) == len;
}

static gboolean
arp_unicast_ip(uint32_t addr)
{
	return addr != 0 && !arp_ip_is_broadcast(addr) && !arp_ip_is_multicast(addr);
}

static int
arp_ioc_add_local(ArpState *as, uint32_t addr)
{
	if (!arp_unicast_ip(addr))
		return EINVAL;
	if (arp_is_local(as, addr))
		return EEXIST;
	ArpLocal *al = arp_local_find(as, 0);
	if (al == NULL)
		return ENOSPC;
	al->al_addr = addr;
	al->al_as = as;
	al->al_left = (guint)as->as_announce;
	arp_announce(al);
	return 0;
}

static int
arp_ioc_add_static(ArpState *as, const struct arp_static_req *sr)
{
	if (!arp_unicast_ip(sr->addr) || ether_addr_is_group(sr->mac) ||
	    ether_addr_is_zero(sr->mac))
		return EINVAL;
	ArpEntry *ae = arp_lookup(as, sr->addr);
	if (ae == NULL && (ae = arp_entry_new(as, sr->addr)) == NULL)
		return ENOSPC;
	arp_entry_set_mac(as, ae, sr->mac);
	gboolean was_incomplete = ae->ae_state == ARP_STATE_INCOMPLETE;
	arp_entry_set_state(as, ae, ARP_STATE_PERMANENT, 0);
	if (was_incomplete)
		arp_entry_release(as, ae);
	return 0;
}

static gint
arp_info_cmp(gconstpointer a, gconstpointer b)
{
	uint32_t x = g_ntohl(((const struct arp_entry_info *)a)->addr);
	uint32_t y = g_ntohl(((const struct arp_entry_info *)b)->addr);
	return x < y ? -1 : x > y;
}

/* ARP_LIST: the entries, as many as fit in the caller's buffer. */
static void
arp_ioc_list(queue_t *wq, mblk_t *mp)
{
	ArpState *as = wq->q_ptr;
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	size_t cap =
		ioc->ioc_count == TRANSPARENT ? 0 : ioc->ioc_count / sizeof(struct arp_entry_info);
	GArray *a = g_array_new(FALSE, TRUE, sizeof(struct arp_entry_info));
	gint64 now = arp_now(as);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, as->as_cache);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const ArpEntry *ae = v;
		struct arp_entry_info info = { .addr = ae->ae_addr,
					       .state = ae->ae_state,
					       .age_ms = (uint32_t)MIN((now - ae->ae_changed) /
									       US_NSEC_PER_MSEC,
								       G_MAXUINT32),
					       .queued = ae->ae_qlen };
		memcpy(info.mac, ae->ae_mac, ETHER_ALEN);
		g_array_append_val(a, info);
	}
	g_array_sort(a, arp_info_cmp);
	size_t n = MIN(cap, a->len), len = n * sizeof(struct arp_entry_info);
	mblk_t *dp = len > 0 ? us_msg_from(a->data, len, 0) : NULL;
	int total = (int)a->len;
	g_array_free(a, TRUE);
	if (len > 0 && dp == NULL) {
		miocnak(wq, mp, 0, ENOMEM);
		return;
	}
	freemsg(mp->b_cont);
	mp->b_cont = dp;
	miocack(wq, mp, (int)len, total);
}

/* ARP_FLUSH: every entry but PERMANENT ones; returns how many went. */
static int
arp_ioc_flush(ArpState *as)
{
	GPtrArray *victims = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, as->as_cache);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((ArpEntry *)v)->ae_state != ARP_STATE_PERMANENT)
			g_ptr_array_add(victims, v);
	for (guint i = 0; i < victims->len; i++)
		arp_entry_free(as, victims->pdata[i], ARP_DROP_FLUSHED);
	int n = (int)victims->len;
	g_ptr_array_free(victims, TRUE);
	return n;
}

/* arp's own ioctls (consumed). */
static void
arp_ioc(queue_t *wq, mblk_t *mp, int cmd)
{
	ArpState *as = wq->q_ptr;
	struct arp_addr_req ar;
	struct arp_static_req sr;
	int err = 0, rval = 0;
	ArpEntry *ae;
	ArpLocal *al;
	switch (cmd) {
	case ARP_ADD_LOCAL:
		err = arp_ioc_arg(mp, &ar, sizeof ar) ? arp_ioc_add_local(as, ar.addr) : EINVAL;
		break;
	case ARP_DEL_LOCAL:
		if (!arp_ioc_arg(mp, &ar, sizeof ar) || ar.addr == 0)
			err = EINVAL;
		else if ((al = arp_local_find(as, ar.addr)) == NULL)
			err = ENOENT;
		else
			arp_local_clear(as, al);
		break;
	case ARP_ADD_STATIC:
		err = arp_ioc_arg(mp, &sr, sizeof sr) ? arp_ioc_add_static(as, &sr) : EINVAL;
		break;
	case ARP_DEL_ENTRY:
		if (!arp_ioc_arg(mp, &ar, sizeof ar))
			err = EINVAL;
		else if ((ae = arp_lookup(as, ar.addr)) == NULL)
			err = ENOENT;
		else
			arp_entry_free(as, ae, ARP_DROP_FLUSHED);
		break;
	case ARP_LIST: arp_ioc_list(wq, mp); return;
	case ARP_FLUSH: rval = arp_ioc_flush(as); break;
	default: g_assert_not_reached();
	}
	if (err != 0)
		miocnak(wq, mp, 0, err);
	else
		miocack(wq, mp, 0, rval);
}

static void
arp_wput_ioctl(queue_t *wq, mblk_t *mp)
{
	if (MBLKL(mp) < sizeof(struct iocblk)) {
		putnext(wq, mp); /* not ours to judge */
		return;
	}
	int cmd = ((const struct iocblk *)mp->b_rptr)->ioc_cmd;
	switch (cmd) {
	case DL_IOC_HDR_INFO: arp_ioc_hdr_info(wq, mp); return;
	case ARP_ADD_LOCAL:
	case ARP_DEL_LOCAL:
	case ARP_ADD_STATIC:
	case ARP_DEL_ENTRY:
	case ARP_LIST:
	case ARP_FLUSH:
		if (((const struct iocblk *)mp->b_rptr)->ioc_count == TRANSPARENT)
			miocnak(wq, mp, 0, EINVAL);
		else
			arp_ioc(wq, mp, cmd);
		return;
	default: putnext(wq, mp); return;
	}
}

/* Write put: next-hop requests are resolved; everything else goes down. */
static int
arp_wput(queue_t *wq, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_PROTO:
	case M_PCPROTO: arp_wput_proto(wq, mp); break;
	case M_IOCTL: arp_wput_ioctl(wq, mp); break;
	default: us_default_put(wq, mp); break; /* M_DATA, M_FLUSH ... */
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Read side: ARP input                                               */
/* ------------------------------------------------------------------ */

/* The sender checks of the Theory; ARP_DROP_N when the sender is fine. */
static guint
arp_sender_check(const ArpState *as, const ArpPkt *pkt)
{
	if (ether_addr_is_group(pkt->sha) || arp_ip_is_multicast(pkt->spa) ||
	    arp_ip_is_broadcast(pkt->spa) || (pkt->spa == 0 && pkt->op != ARP_OP_REQUEST))
		return ARP_DROP_BAD_SENDER;
	if (as->as_have_mac && ether_addr_eq(pkt->sha, as->as_mac))
		return ARP_DROP_OWN;
	if (arp_is_local(as, pkt->spa)) {
		char buf[16];
		char mac[ETHER_ADDRSTRLEN];
		ether_addr_format(pkt->sha, mac);
		g_message("address conflict: %s claimed by %s", arp_ntoa(pkt->spa, buf), mac);
		return ARP_DROP_CONFLICT;
	}
	return ARP_DROP_N;
}

/* RFC 826 reception of a DL_UNITDATA_IND (consumed) holding ARP. */
static void
arp_input(queue_t *rq, mblk_t *mp)
{
	ArpState *as = rq->q_ptr;
	uint8_t buf[ARP_PKT_LEN];
	ArpPkt pkt;
	if (mp->b_cont == NULL || msgdsize(mp->b_cont) < ARP_PKT_LEN ||
	    us_msgcopyout(mp->b_cont, 0, buf, ARP_PKT_LEN) != ARP_PKT_LEN ||
	    !arp_pkt_parse(buf, &pkt)) {
		us_drop(rq, mp, ARP_DROP_MALFORMED);
		return;
	}
	guint bad = arp_sender_check(as, &pkt);
	if (bad != ARP_DROP_N) {
		us_drop(rq, mp, bad);
		return;
	}
	if (pkt.op == ARP_OP_REQUEST)
		as->as_requests_in++;
	else
		as->as_replies_in++;
	ArpEntry *ae = pkt.spa != 0 ? arp_lookup(as, pkt.spa) : NULL;
	gboolean merged = ae != NULL;
	if (merged)
		arp_entry_confirm(as, ae, pkt.sha); /* the merge flag */
	if (!arp_is_local(as, pkt.tpa)) {
		if (merged)
			freemsg(mp);
		else
			us_drop(rq, mp,
				pkt.spa == pkt.tpa ? ARP_DROP_GRATUITOUS : ARP_DROP_NOT_FOR_US);
		return;
	}
	if (!merged && pkt.spa != 0 && (ae = arp_entry_new(as, pkt.spa)) != NULL)
		arp_entry_confirm(as, ae, pkt.sha);
	if (pkt.op == ARP_OP_REQUEST &&
	    arp_output(as, ARP_OP_REPLY, pkt.sha, pkt.tpa, pkt.sha, pkt.spa))
		as->as_replies_out++;
	freemsg(mp);
}

/* TRUE when the DL_UNITDATA_IND mp carries SAP 0x0806. */
static gboolean
arp_ind_is_arp(const mblk_t *mp)
{
	dl_unitdata_ind_t u;
	return arp_prim_get(mp, &u, sizeof u) && u.dl_src_addr_length == ETHER_DLSAP_LEN &&
	       arp_span_ok(mp, u.dl_src_addr_offset, u.dl_src_addr_length) &&
	       ether_dlsap_sap(mp->b_rptr + u.dl_src_addr_offset) == ETHER_T_ARP;
}

/* ------------------------------------------------------------------ */
/* Read side: acknowledgements and the user's view                     */
/* ------------------------------------------------------------------ */

/* Takes the oldest outstanding request of prim off the FIFO; returns
 * whether it was arp's.  *found is FALSE when none was outstanding. */
static gboolean
arp_pending_take(ArpState *as, t_uscalar_t prim, gboolean *found)
{
	for (GList *l = as->as_pending.head; l != NULL; l = l->next) {
		if (ARP_PEND_PRIM(l->data) != prim)
			continue;
		gboolean own = ARP_PEND_OWN(l->data);
		g_queue_delete_link(&as->as_pending, l);
		*found = TRUE;
		return own;
	}
	*found = FALSE;
	return FALSE;
}

/* An acknowledgement of prim (mp consumed): arp's own are consumed. */
static void
arp_ack(queue_t *rq, mblk_t *mp, t_uscalar_t prim)
{
	ArpState *as = rq->q_ptr;
	gboolean found;
	gboolean own = arp_pending_take(as, prim, &found);
	t_uscalar_t kind = arp_prim_of(mp);
	if (!own) {
		if (found && kind == DL_BIND_ACK && !as->as_user_bound) {
			dl_bind_ack_t ack;
			if (arp_prim_get(mp, &ack, sizeof ack)) {
				as->as_user_bound = TRUE;
				as->as_user_sap = (uint16_t)ack.dl_sap;
			}
		}
		putnext(rq, mp);
		return;
	}
	dl_phys_addr_ack_t pa;
	if (kind == DL_PHYS_ADDR_ACK && arp_prim_get(mp, &pa, sizeof pa) &&
	    pa.dl_addr_length == ETHER_ALEN && arp_span_ok(mp, pa.dl_addr_offset, ETHER_ALEN)) {
		memcpy(as->as_mac, mp->b_rptr + pa.dl_addr_offset, ETHER_ALEN);
		as->as_have_mac = TRUE;
	} else if (kind == DL_BIND_ACK) {
		as->as_bound = TRUE;
	} else if (kind == DL_NOTIFY_ACK) {
		/* subscribed */
	} else {
		g_message("arp's own DLPI request 0x%x was refused (ack 0x%x)", prim, kind);
	}
	freemsg(mp);
}

/* DL_INFO_ACK going up (consumed): the user's state and SAP, not arp's. */
static void
arp_info_ack(queue_t *rq, mblk_t *mp)
{
	ArpState *as = rq->q_ptr;
	dl_info_ack_t ack;
	if (!arp_prim_get(mp, &ack, sizeof ack)) {
		putnext(rq, mp);
		return;
	}
	if (DB_REF(mp) > 1) {
		mblk_t *c = copymsg(mp);
		if (c == NULL) {
			us_drop(rq, mp, ARP_DROP_NOMEM);
			return;
		}
		freemsg(mp);
		mp = c;
	}
	ack.dl_current_state = as->as_user_bound ? DL_IDLE : DL_UNBOUND;
	if (!as->as_user_bound)
		ack.dl_addr_offset = 0;
	else if (ack.dl_addr_offset != 0 && ack.dl_addr_length == ETHER_DLSAP_LEN &&
		 arp_span_ok(mp, ack.dl_addr_offset, ETHER_DLSAP_LEN))
		memcpy(mp->b_rptr + ack.dl_addr_offset + ETHER_ALEN, &as->as_user_sap, 2);
	memcpy(mp->b_rptr, &ack, sizeof ack);
	putnext(rq, mp);
}

/* DL_NOTIFY_IND going up (consumed): follow our address; pass it up only
 * when the user enabled it. */
static void
arp_notify_ind(queue_t *rq, mblk_t *mp)
{
	ArpState *as = rq->q_ptr;
	dl_notify_ind_t n;
	if (!arp_prim_get(mp, &n, sizeof n) || n.dl_notification != DL_NOTE_PHYS_ADDR) {
		putnext(rq, mp);
		return;
	}
	if (n.dl_addr_length >= ETHER_ALEN && arp_span_ok(mp, n.dl_addr_offset, ETHER_ALEN)) {
		memcpy(as->as_mac, mp->b_rptr + n.dl_addr_offset, ETHER_ALEN);
		as->as_have_mac = TRUE;
	}
	if (as->as_user_notes & DL_NOTE_PHYS_ADDR)
		putnext(rq, mp);
	else
		freemsg(mp); /* arp's own subscription: not a drop */
}

static void
arp_rput_proto(queue_t *rq, mblk_t *mp)
{
	ArpState *as = rq->q_ptr;
	if (MBLKL(mp) < sizeof(t_uscalar_t)) {
		putnext(rq, mp);
		return;
	}
	dl_ok_ack_t ok;
	dl_error_ack_t err;
	switch (arp_prim_of(mp)) {
	case DL_UNITDATA_IND:
		if (arp_ind_is_arp(mp))
			arp_input(rq, mp);
		else
			putnext(rq, mp);
		return;
	case DL_BIND_ACK: arp_ack(rq, mp, DL_BIND_REQ); return;
	case DL_PHYS_ADDR_ACK: arp_ack(rq, mp, DL_PHYS_ADDR_REQ); return;
	case DL_ERROR_ACK:
		if (arp_prim_get(mp, &err, sizeof err) &&
		    (err.dl_error_primitive == DL_BIND_REQ ||
		     err.dl_error_primitive == DL_PHYS_ADDR_REQ ||
		     err.dl_error_primitive == DL_NOTIFY_REQ)) {
			arp_ack(rq, mp, err.dl_error_primitive);
			return;
		}
		break;
	case DL_OK_ACK:
		if (arp_prim_get(mp, &ok, sizeof ok) && ok.dl_correct_primitive == DL_UNBIND_REQ)
			as->as_user_bound = FALSE;
		break;
	case DL_INFO_ACK: arp_info_ack(rq, mp); return;
	case DL_NOTIFY_IND: arp_notify_ind(rq, mp); return;
	case DL_NOTIFY_ACK: arp_ack(rq, mp, DL_NOTIFY_REQ); return;
	default: break;
	}
	putnext(rq, mp);
}

/* Read put: ARP is consumed, acks sorted, everything else goes up. */
static int
arp_rput(queue_t *rq, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_PROTO:
	case M_PCPROTO: arp_rput_proto(rq, mp); break;
	default: us_default_put(rq, mp); break; /* M_DATA (fast path), M_FLUSH ... */
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info arp_minfo = {
	.mi_idnum = 1021,
	.mi_idname = "arp",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit arp_rinit = {
	.qi_putp = arp_rput,
	.qi_qopen = arp_open,
	.qi_qclose = arp_close,
	.qi_minfo = &arp_minfo,
};
static struct qinit arp_winit = { .qi_putp = arp_wput, .qi_minfo = &arp_minfo };
static struct streamtab arp_info = { .st_rdinit = &arp_rinit, .st_wrinit = &arp_winit };

#define ARP_PARAM(nm, desc, fld, lo, hi)                                           \
	{                                                                          \
		.name = (nm), .description = (desc), .type = US_PARAM_UINT,        \
		.offset = G_STRUCT_OFFSET(ArpState, fld), .min = (lo), .max = (hi) \
	}
#define ARP_MS_MAX (24 * 3600 * 1000) /* a day */

static const UsParamDesc arp_params[] = {
	ARP_PARAM(ARP_PARAM_QUEUE_MAX, "packets waiting per unresolved entry", as_queue_max, 1,
		  65536),
	ARP_PARAM(ARP_PARAM_QUEUE_TOTAL, "packets waiting on all entries", as_queue_total, 1,
		  1 << 20),
	ARP_PARAM(ARP_PARAM_RETRIES, "requests sent before resolution fails", as_retries, 1, 100),
	ARP_PARAM(ARP_PARAM_RETRANS_MS, "ms between requests", as_retrans_ms, 1, ARP_MS_MAX),
	ARP_PARAM(ARP_PARAM_REACHABLE_MS, "ms an entry stays REACHABLE", as_reachable_ms, 1,
		  ARP_MS_MAX),
	ARP_PARAM(ARP_PARAM_FAILED_MS, "ms a FAILED entry is kept", as_failed_ms, 1, ARP_MS_MAX),
	ARP_PARAM(ARP_PARAM_MAX_ENTRIES, "cache size", as_max_entries, 1, 1 << 20),
	ARP_PARAM(ARP_PARAM_ANNOUNCE, "gratuitous ARPs when an address is added", as_announce, 0,
		  100),
	ARP_PARAM(ARP_PARAM_ANNOUNCE_MS, "ms between announcements", as_announce_ms, 1, ARP_MS_MAX),
	{ 0 },
};

static const UsStatDesc arp_stats[] = {
	US_STAT(ARP_STAT_REQUESTS_IN, "valid requests received", ArpState, as_requests_in),
	US_STAT(ARP_STAT_REQUESTS_OUT, "requests sent", ArpState, as_requests_out),
	US_STAT(ARP_STAT_REPLIES_IN, "valid replies received", ArpState, as_replies_in),
	US_STAT(ARP_STAT_REPLIES_OUT, "replies sent", ArpState, as_replies_out),
	US_STAT(ARP_STAT_RESOLVED, "unresolved entries resolved", ArpState, as_resolved),
	US_STAT(ARP_STAT_FAILED, "resolutions that failed", ArpState, as_failed),
	US_STAT(ARP_STAT_QUEUED, "packets that waited for resolution", ArpState, as_queued),
	US_STAT(ARP_STAT_ENTRIES, "entries in the cache", ArpState, as_entries),
	US_STAT(ARP_STAT_ANNOUNCEMENTS, "gratuitous ARPs sent", ArpState, as_announcements),
	US_STAT(ARP_STAT_UNREACH_IND, "ARP_UNREACH_IND sent up", ArpState, as_unreach_ind),
	US_STAT(ARP_STAT_CHANGED_IND, "ARP_CHANGED_IND sent up", ArpState, as_changed_ind),
	{ 0 },
};

static const char *const arp_accepts[] = {
	"M_PROTO/M_PCPROTO (DLPI; DL_UNITDATA_REQ with an IPv4 next hop resolved)",
	"M_IOCTL (ARP_*, DL_IOC_HDR_INFO; others passed down)",
	"M_FLUSH",
	"others passed through",
	NULL,
};

const UsModuleDesc us_arp_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "arp",
	.summary = "ARP (RFC 826) for IPv4 over ether: neighbour cache, resolution, replies",
	.kind = US_KIND_MODULE,
	.streamtab = &arp_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = arp_params,
	.stats = arp_stats,
	.drop_reasons = arp_drop_reasons,
	.accepts = arp_accepts,
};
