/* SPDX-License-Identifier: MIT */
/*
 * ip-impl.h -- state and internal functions shared by the files of the ip
 * driver (ip.c, ip-if.c, ip-input.c, ip-output.c, ip-icmp.c, ip-ioctl.c).
 * Not installed.  The theory is in ip.c.
 */
#ifndef USTREAMS_IP_IMPL_H
#define USTREAMS_IP_IMPL_H

#include "ip.h"
#include "reass.h"
#include "route.h"

#include <mux.h>
#include <ustreams/probes.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include <glib.h>
#include <stdint.h>

/* The IPv4 header (RFC 791 §3.1), fields as on the wire. */
typedef struct {
	uint8_t vhl; /* version << 4 | IHL (32-bit words) */
	uint8_t tos;
	uint16_t len; /* network order */
	uint16_t id;  /* network order */
	uint16_t off; /* network order: flags (3 bits) and fragment offset (8-byte units) */
	uint8_t ttl;
	uint8_t proto;
	uint16_t sum;
	uint32_t src;
	uint32_t dst;
} IpHdr;

#define IP_HDR_MIN 20
#define IP_HDR_MAX 60
#define IP_OFF_RF 0x8000
#define IP_OFF_DF 0x4000
#define IP_OFF_MF 0x2000
#define IP_OFF_MASK 0x1fff
#define IP_MAXPACKET 65535
#define IP_LINK_HEADROOM 32 /* room left in front of headers ip builds */
#define IP_ETHERTYPE 0x0800
#define IP_PROTO_ICMP 1

#define ICMP_ECHOREPLY 0
#define ICMP_UNREACH 3
#define ICMP_SOURCEQUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIMXCEED 11
#define ICMP_PARAMPROB 12
#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTOCOL 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_TIMXCEED_INTRANS 0
#define ICMP_TIMXCEED_REASS 1
#define ICMP_HDR_LEN 8

/* One address of an interface (network order). */
typedef struct {
	uint32_t addr;
	uint32_t plen;
	uint32_t mask;
	uint32_t bcast; /* 0 for /31 and /32 */
} IpAddr;

/* A next hop's fast-path state on one interface. */
typedef enum {
	IP_NCE_NONE,    /* no header; DL_UNITDATA_REQ, HDR_INFO may be asked */
	IP_NCE_PENDING, /* DL_IOC_HDR_INFO outstanding */
	IP_NCE_READY,   /* nce_hdr holds the link header */
} IpNceState;

typedef struct {
	uint32_t nce_addr;    /* next hop, network order */
	IpNceState nce_state; /* see above */
	uint32_t nce_ioc_id;  /* outstanding DL_IOC_HDR_INFO */
	gint64 nce_retry_at;  /* world time before which no new HDR_INFO */
	mblk_t *nce_hdr;      /* the prebuilt header (READY) */
} IpNce;

typedef struct _IpStack IpStack;

/* An upper's M_IOCTL waiting for the answer of one ip sent down. */
typedef struct {
	queue_t *pi_wq; /* the upper's write queue, to answer with qreply */
	mblk_t *pi_mp;  /* the upper's M_IOCTL */
} IpPendingIoc;

/* One interface: a lower stream (ml_cookie). */
typedef struct {
	IpStack *if_is;
	UsMuxLower *if_lower;
	guint32 if_index;
	char if_name[IP_IFNAMSIZ];
	guint32 if_mtu;      /* from DL_INFO_ACK dl_max_sdu, or IP_IF_SET */
	gboolean if_mtu_set; /* IP_IF_SET fixed it */
	gboolean if_hcksum;  /* DL_CAPAB_HCKSUM partial: checksums may leave partial */
	guint32 if_lso_max;  /* DL_CAPAB_LSO: largest HW_LSO packet, 0 without */
	guint8 if_mac[6];
	guint32 if_flags; /* IP_IFF_* */
	IpAddr if_addrs[IP_ADDR_MAX];
	guint if_naddrs;
	GHashTable *if_nce; /* next hop (network order) -> IpNce */
	GHashTable *if_ioc; /* ioc_id -> IpPendingIoc: upper ioctls waiting for arp */
	guint64 if_ipackets, if_opackets, if_ibytes, if_obytes, if_idrops, if_odrops;
} IpIf;

/* Per-upper state: the WRITE queue's q_ptr (the read queue's q_ptr is the
 * IpStack, so that parameters and statistics are per stack). */
typedef struct {
	IpStack *up_is;
	queue_t *up_rq;
	guint up_minor;
	int up_proto;    /* bound protocol, -1 when unbound */
	gboolean up_raw; /* IP_BINDF_RAW */
} IpUpper;

struct _IpStack {
	/* Parameters (us_param on any upper). */
	gboolean is_forwarding;
	guint64 is_ttl;
	guint64 is_reass_timeout_ms;
	guint64 is_reass_max_bytes;
	guint64 is_icmp_rate;
	guint64 is_icmp_burst;
	gboolean is_echo_reply;
	guint64 is_max_routes;

	/* MIB-II ip group. */
	guint64 st_in_receives, st_in_hdr_errors, st_in_addr_errors, st_forw_datagrams;
	guint64 st_in_unknown_protos, st_in_discards, st_in_delivers, st_out_requests;
	guint64 st_out_discards, st_out_no_routes, st_reasm_reqds, st_reasm_oks;
	guint64 st_reasm_fails, st_frag_oks, st_frag_fails, st_frag_creates;
	guint64 st_lso_split, st_lso_segments;
	/* MIB-II icmp group. */
	guint64 st_icmp_in_msgs, st_icmp_in_errors, st_icmp_in_echos, st_icmp_in_echo_reps;
	guint64 st_icmp_in_dest_unreachs, st_icmp_in_time_excds, st_icmp_in_parm_probs;
	guint64 st_icmp_out_msgs, st_icmp_out_errors, st_icmp_out_echo_reps;
	guint64 st_icmp_out_dest_unreachs, st_icmp_out_time_excds, st_icmp_out_parm_probs;
	guint64 st_icmp_ratelimited;
	/* Gauges. */
	guint64 st_routes, st_interfaces, st_reass_datagrams, st_reass_bytes;

	UsStack *is_stack;
	UsWorld *is_world;
	UsMuxUppers *is_uppers; /* minor -> IpUpper */
	UsMuxLowers *is_lowers; /* linked interfaces, cookie IpIf */
	GPtrArray *is_ifs;      /* ifindex -> IpIf (index 0 unused; NULL = gone) */
	IpUpper *is_proto[256]; /* bound transports */
	IpUpper *is_raw;        /* the raw binding */
	IpRouteTable *is_rt;
	GHashTable *is_local; /* our addresses (network order) -> IpIf */
	GHashTable *is_bcast; /* subnet broadcast addresses -> IpIf */
	GHashTable *is_pmtu;  /* destination -> learned path MTU (GUINT) */
	IpReass *is_reass;
	guint64 is_reass_timer; /* world timer id, 0 when none */
	gint64 is_reass_deadline;
	GQueue is_loopback;    /* datagrams to ourselves, waiting for an upper's service */
	guint32 is_id_key;     /* IP ID hash secret */
	guint16 is_ids[2048];  /* IP ID counters per hash bucket */
	double is_icmp_tokens; /* ICMP error rate limiter */
	gint64 is_icmp_last;   /* world time of the last refill */
	guint32 is_ioc_next;   /* ioc_id for ioctls ip sends down */
	guint32 is_next_ifindex;
};

/* ip.c */
IpStack *ip_stack(queue_t *q);
void ip_drop(IpStack *is, queue_t *q, mblk_t *mp, guint reason);
void ip_deliver_loopback(IpStack *is);
gint64 ip_now(IpStack *is);

/* ip:::send and ip:::receive (docs/probes.md) for the datagram whose IPv4
 * header h (const IpHdr *) is contiguous: length, addresses and protocol
 * are read from it.  ifp NULL: the datagram loops back inside ip. */
#define IP_PROBE(name, is, ifp, h)                                                                 \
	US_PROBE8(ip, name, (const void *)(h), (uint32_t)g_ntohs((h)->len), ip_probe_ifindex(ifp), \
		  (h)->src, (h)->dst, (h)->proto, ip_probe_ifname(ifp), ip_probe_stack(is))

static inline guint32
ip_probe_ifindex(const IpIf *ifp)
{
	return ifp != NULL ? ifp->if_index : 0;
}

static inline const char *
ip_probe_ifname(const IpIf *ifp)
{
	return ifp != NULL ? ifp->if_name : "loopback";
}

static inline const char *
ip_probe_stack(const IpStack *is)
{
	return is->is_stack != NULL ? us_stack_name(is->is_stack) : "";
}

/* ip-if.c: interfaces and the link layer. */
extern const UsMuxLinkOps ip_link_ops;
void ip_if_free(gpointer p);
IpIf *ip_if_by_index(IpStack *is, guint32 ifindex);
IpIf *ip_if_by_name(IpStack *is, const char *name);
int ip_lrput(queue_t *q, mblk_t *mp);
/* Sends datagram mp to next hop nh on ifp (consumes mp). */
void ip_if_send(IpIf *ifp, uint32_t nh, mblk_t *mp);
gboolean ip_if_canput(IpIf *ifp);
void ip_if_forget_nce(IpIf *ifp, uint32_t nh);
const IpAddr *ip_if_addr_for(const IpIf *ifp, uint32_t dst);

/* ip-input.c: datagrams from interfaces and from the loopback. */
void ip_input(IpStack *is, IpIf *ifp, mblk_t *mp);
void ip_deliver(IpStack *is, IpIf *ifp, mblk_t *mp, guint32 flags);
/* IP_UNITDATA_IND to one upper (consumes mp). */
void ip_deliver_up(IpStack *is, IpUpper *up, IpIf *ifp, mblk_t *mp, guint32 flags);
gboolean ip_is_martian_src(IpStack *is, uint32_t src);
/* 0 when the options of header h (hlen bytes) are well formed, the offset
 * of a bad octet, or -1 for a (refused) source-route option. */
int ip_check_options(const uint8_t *h, size_t hlen);
void ip_reass_arm(IpStack *is);

/* ip-output.c */
typedef struct {
	IpIf *ifp;        /* NULL: local delivery */
	uint32_t nexthop; /* network order */
	uint32_t src;     /* network order */
	uint32_t mtu;
	uint32_t flags; /* IP_RF_* */
	uint32_t metric;
	uint32_t plen;
	uint32_t gateway;
} IpRouteOut;
int ip_route_out(IpStack *is, uint32_t dst, uint32_t src, uint32_t flags, IpRouteOut *ro);
/* Sends a whole datagram (header built, checksum valid) along ro,
 * fragmenting it to ro->mtu; consumes mp.  Returns 0 or EMSGSIZE (DF and
 * too big; mp is then still the caller's). */
int ip_send_routed(IpStack *is, const IpRouteOut *ro, mblk_t *mp, queue_t *anchor);
mblk_t *ip_msg_range(mblk_t *mp, size_t off, size_t len);

/* ip-offload.c: capabilities and the software fallbacks for offloads. */
void ip_if_ask_capab(IpIf *ifp);
void ip_if_capab_ack(IpIf *ifp, mblk_t *mp);
/* Marks mp HCK_PARTIALCKSUM: sum from hlen, field at hlen + cksum_off. */
void ip_partial_mark(mblk_t *mp, size_t hlen, size_t cksum_off);
/* Completes mp's partial checksum in software (*pp may become a new
 * message); FALSE when its offsets do not fit it. */
gboolean ip_partial_finish(mblk_t **pp);
/* The largest packet mp puts on the wire: a HW_LSO segment's segments. */
size_t ip_wire_len(mblk_t *mp);
/* Cuts a HW_LSO segment into segments for ro (consumes mp). */
void ip_lso_send(IpStack *is, const IpRouteOut *ro, mblk_t *mp);
int ip_output_req(IpStack *is, queue_t *wq, mblk_t *mp);
mblk_t *ip_prepend_header(IpStack *is, mblk_t *payload, uint32_t src, uint32_t dst, uint8_t proto,
			  uint8_t ttl, uint8_t tos, gboolean df);
uint16_t ip_next_id(IpStack *is, uint32_t src, uint32_t dst, uint8_t proto);
mblk_t *ip_pullup_writable(mblk_t *mp, size_t len);
void ip_uderror(IpStack *is, queue_t *wq, uint32_t dst, uint32_t proto, int error, uint32_t cookie,
		mblk_t *payload);

/* ip-icmp.c */
void ip_icmp_input(IpStack *is, IpIf *ifp, mblk_t *mp, guint32 flags);
/* Answers the source of datagram orig (starting at its IP header) with an
 * ICMP error; rate limited, RFC 1122 §3.2.2 exceptions.  Does not consume
 * orig. */
void ip_icmp_error(IpStack *is, const mblk_t *orig, uint8_t type, uint8_t code, uint32_t info);
/* Delivers an ICMP error about a locally sent datagram to its transport. */
void ip_icmp_local_error(IpStack *is, uint32_t reporter, const mblk_t *orig, uint8_t type,
			 uint8_t code, uint32_t info);

/* ip-ioctl.c */
void ip_ioctl(queue_t *wq, mblk_t *mp);
/* Answers (ACK with the reply's data, or NAK) the upper ioctl waiting for
 * reply; consumes both.  FALSE (nothing done) when nobody waits for it. */
gboolean ip_ioc_pending_reply(IpIf *ifp, mblk_t *reply);
/* NAKs every upper ioctl waiting on ifp (it is going) with err. */
void ip_ioc_pending_fail(IpIf *ifp, int err);
/* Forgets the ioctls of an upper that is closing. */
void ip_ioc_pending_forget(IpStack *is, queue_t *wq);
void ip_addr_forget_if(IpStack *is, IpIf *ifp);

static inline uint32_t
ip_mask(uint32_t plen)
{
	return plen == 0 ? 0 : g_htonl(0xffffffffu << (32 - plen));
}

static inline gboolean
ip_is_multicast(uint32_t a)
{
	return (g_ntohl(a) & 0xf0000000u) == 0xe0000000u;
}

static inline gboolean
ip_is_loopback(uint32_t a)
{
	return (g_ntohl(a) >> 24) == 127;
}

static inline gboolean
ip_is_zeronet(uint32_t a)
{
	return (g_ntohl(a) >> 24) == 0;
}

#define IP_BROADCAST 0xffffffffu

#endif /* USTREAMS_IP_IMPL_H */
