/* SPDX-License-Identifier: MIT */
/*
 * arp.h -- the public contract of the arp module: the next-hop address form
 * of DL_UNITDATA_REQ, the two indications arp sends up, the ioctl commands
 * and their structures, cache states, parameter, statistic and drop-reason
 * names.  The theory (binding, states, timers, deviations) is in arp.c.
 *
 * Next-hop addresses.  Above arp the stream is ether's DLPI provider (the
 * DLSAP layout of ether.h: 6-byte MAC then 2-byte SAP in host order) with one
 * addition: a DL_UNITDATA_REQ, or the DL_UNITDATA_REQ inside a DL_IOC_HDR_INFO
 * M_IOCTL, whose dl_dest_addr_length is ARP_NH_LEN (6) holds
 *
 *     byte 0..3   IPv4 next hop, NETWORK byte order
 *     byte 4..5   SAP (the ethertype) in HOST byte order, as in a DLSAP
 *
 * arp resolves the next hop and passes the request down with the ordinary
 * 8-byte DLSAP.  255.255.255.255 maps to the broadcast MAC and 224.0.0.0/4 to
 * 01:00:5e plus the low 23 bits (RFC 1112 §6.4) without resolution.
 *
 * Indications (M_PROTO, sent up; all fields host order except addresses):
 *   ARP_UNREACH_IND  resolution of addr failed; b_cont holds the data of the
 *                    first packet that waited for it (ip quotes it in an ICMP
 *                    host unreachable), or of the packet sent to a FAILED
 *                    entry.
 *   ARP_CHANGED_IND  the MAC of a resolved entry changed: link headers built
 *                    for addr (DL_IOC_HDR_INFO) are stale.
 */
#ifndef USTREAMS_ARP_H
#define USTREAMS_ARP_H

#include <stdint.h>
#include <string.h>

#include "ether-wire.h"

/* ------------------------------------------------------------------ */
/* Addresses                                                          */
/* ------------------------------------------------------------------ */

#define ARP_NH_LEN 6 /* dl_dest_addr_length of a next-hop DL_UNITDATA_REQ */
#define ARP_IP_ALEN 4

/* Writes a next-hop destination: addr in network order, sap in host order. */
static inline void
arp_nh_make(uint8_t out[ARP_NH_LEN], uint32_t addr, uint16_t sap)
{
	memcpy(out, &addr, ARP_IP_ALEN);
	memcpy(out + ARP_IP_ALEN, &sap, 2);
}

/* ------------------------------------------------------------------ */
/* Indications                                                        */
/* ------------------------------------------------------------------ */

/* Primitive numbers outside DLPI's ranges (DLPI uses 0x00..0x1ff). */
#define ARP_UNREACH_IND 0x4101
#define ARP_CHANGED_IND 0x4102

struct arp_unreach_ind {
	uint32_t prim; /* ARP_UNREACH_IND */
	uint32_t addr; /* the next hop, network order */
};

struct arp_changed_ind {
	uint32_t prim; /* ARP_CHANGED_IND */
	uint32_t addr; /* network order */
};

/* ------------------------------------------------------------------ */
/* ioctls (M_IOCTL, I_STR form; TRANSPARENT is NAKed with EINVAL)     */
/* ------------------------------------------------------------------ */
/*
 *   ARP_ADD_LOCAL   struct arp_addr_req: an address of ours (replies are sent
 *                   for it; "announce" gratuitous ARPs go out, "announce_ms"
 *                   apart).  EINVAL: 0, broadcast or multicast; EEXIST: known;
 *                   ENOSPC: ARP_LOCAL_MAX addresses already.
 *   ARP_DEL_LOCAL   struct arp_addr_req.  ENOENT: not ours.
 *   ARP_ADD_STATIC  struct arp_static_req: a PERMANENT entry, replacing any
 *                   dynamic one (packets waiting on it leave at once).
 *                   EINVAL: bad address or group/zero MAC; ENOSPC: cache full.
 *   ARP_DEL_ENTRY   struct arp_addr_req: removes an entry of any state
 *                   (packets waiting on it are dropped).  ENOENT.
 *   ARP_LIST        the reply data is an array of struct arp_entry_info,
 *                   ascending by address, as many as fit in the ioctl's data
 *                   length (ic_len); ioc_rval = the number of entries.
 *   ARP_FLUSH       removes every entry but PERMANENT ones; ioc_rval = the
 *                   number removed.
 * Short data: EINVAL.  Other ioctls (DL_IOC_HDR_INFO aside, see arp.c) are
 * passed down to ether.
 */
#define ARP_IOC ('A' << 8)
#define ARP_ADD_LOCAL (ARP_IOC | 1)
#define ARP_DEL_LOCAL (ARP_IOC | 2)
#define ARP_ADD_STATIC (ARP_IOC | 3)
#define ARP_DEL_ENTRY (ARP_IOC | 4)
#define ARP_LIST (ARP_IOC | 5)
#define ARP_FLUSH (ARP_IOC | 6)

#define ARP_LOCAL_MAX 16 /* addresses of ours per interface */

struct arp_addr_req {
	uint32_t addr; /* IPv4, network order */
};

struct arp_static_req {
	uint32_t addr;           /* IPv4, network order */
	uint8_t mac[ETHER_ALEN]; /* unicast */
	uint8_t pad[2];          /* zero */
};

/* Cache states (arp_entry_info.state). */
enum {
	ARP_STATE_INCOMPLETE = 1, /* requests out, packets waiting */
	ARP_STATE_REACHABLE = 2,  /* confirmed less than reachable_ms ago */
	ARP_STATE_STALE = 3,      /* still used; a use sends one unicast request */
	ARP_STATE_FAILED = 4,     /* no answer: packets refused for failed_ms */
	ARP_STATE_PERMANENT = 5,  /* static, never aged */
};

struct arp_entry_info {
	uint32_t addr;           /* IPv4, network order */
	uint8_t mac[ETHER_ALEN]; /* zero while INCOMPLETE or FAILED */
	uint8_t state;           /* ARP_STATE_* */
	uint8_t pad;             /* zero */
	uint32_t age_ms;         /* since the entry last changed state or MAC */
	uint32_t queued;         /* packets waiting on it */
};

/* ------------------------------------------------------------------ */
/* Parameters, statistics, drop reasons                               */
/* ------------------------------------------------------------------ */

#define ARP_PARAM_QUEUE_MAX "queue_max"       /* packets waiting per entry (3) */
#define ARP_PARAM_QUEUE_TOTAL "queue_total"   /* packets waiting in all (256) */
#define ARP_PARAM_RETRIES "retries"           /* requests before failing (3) */
#define ARP_PARAM_RETRANS_MS "retrans_ms"     /* between requests (1000) */
#define ARP_PARAM_REACHABLE_MS "reachable_ms" /* REACHABLE lifetime (30000) */
#define ARP_PARAM_FAILED_MS "failed_ms"       /* FAILED lifetime (20000) */
#define ARP_PARAM_MAX_ENTRIES "max_entries"   /* cache size (1024) */
#define ARP_PARAM_ANNOUNCE "announce"         /* announcements per address (2) */
#define ARP_PARAM_ANNOUNCE_MS "announce_ms"   /* between them (2000) */

#define ARP_STAT_REQUESTS_IN "requests_in"     /* valid requests received */
#define ARP_STAT_REQUESTS_OUT "requests_out"   /* requests sent (not announcements) */
#define ARP_STAT_REPLIES_IN "replies_in"       /* valid replies received */
#define ARP_STAT_REPLIES_OUT "replies_out"     /* replies sent */
#define ARP_STAT_RESOLVED "resolved"           /* INCOMPLETE entries resolved */
#define ARP_STAT_FAILED "failed"               /* resolutions that failed */
#define ARP_STAT_QUEUED "queued"               /* packets that waited */
#define ARP_STAT_ENTRIES "entries"             /* entries now in the cache */
#define ARP_STAT_ANNOUNCEMENTS "announcements" /* gratuitous ARPs sent */
#define ARP_STAT_UNREACH_IND "unreach_ind"     /* ARP_UNREACH_IND sent up */
#define ARP_STAT_CHANGED_IND "changed_ind"     /* ARP_CHANGED_IND sent up */

/* Drop reasons: indices into us_arp_desc.drop_reasons (us_drop_count). */
enum {
	ARP_DROP_MALFORMED,   /* short, or not Ethernet/IPv4, or bad op */
	ARP_DROP_BAD_SENDER,  /* sender MAC group, sender IP 0 (non-probe) or group */
	ARP_DROP_OWN,         /* sender MAC is ours (our frame came back) */
	ARP_DROP_CONFLICT,    /* another host claims one of our addresses */
	ARP_DROP_NOT_FOR_US,  /* request or reply for another host */
	ARP_DROP_GRATUITOUS,  /* gratuitous ARP for an address not cached */
	ARP_DROP_QUEUE_FULL,  /* oldest waiting packet pushed out (queue_max) */
	ARP_DROP_QUEUE_TOTAL, /* waiting packet refused or pushed out (queue_total) */
	ARP_DROP_UNRESOLVED,  /* waited on an entry that failed (not the first) */
	ARP_DROP_CACHE_FULL,  /* no room for a new entry */
	ARP_DROP_FLUSHED,     /* waited on an entry removed by ioctl, flush or close */
	ARP_DROP_BAD_NEXTHOP, /* next hop 0.0.0.0 */
	ARP_DROP_BADPRIM,     /* DLPI message too short to read */
	ARP_DROP_NOMEM,       /* allocation failed */
	ARP_DROP_N
};

/* The module's descriptor (registry name "arp"). */
struct _UsModuleDesc;
extern const struct _UsModuleDesc us_arp_desc;

#endif /* USTREAMS_ARP_H */
