/* SPDX-License-Identifier: MIT */
/*
 * ip.h -- the public contract of the ip multiplexing driver: the primitives
 * exchanged with transports above it, the ioctls that manage interfaces,
 * addresses and routes, and the names of its parameters, statistics and drop
 * reasons.  The theory (input checks, routing, forwarding, fragmentation,
 * ICMP) is in ip.c.
 *
 * Plumbing (the config language and programs do exactly this):
 *
 *     fd_if = us_open(stack, "tap", O_RDWR);            an interface stream
 *     us_ioctl(fd_if, I_PUSH, "ether");
 *     us_ioctl(fd_if, I_PUSH, "arp");
 *     fd_ip = us_open(stack, "ip", O_RDWR);             an ip upper stream
 *     muxid = us_ioctl(fd_ip, I_PLINK, fd_if);          interface below ip
 *     IP_IF_SET {muxid, "eth0"} then IP_ADDR_ADD {"eth0", 10.0.0.1/24}
 *         through I_STR on fd_ip
 *     fd_t = us_open(stack, "udp", O_RDWR);             a transport
 *     fd_ip2 = us_open(stack, "ip", O_RDWR);
 *     us_ioctl(fd_t, I_PLINK, fd_ip2);                  ip upper under udp
 *     (udp sends IP_BIND_REQ{17} down its lower)
 *
 * There is one ip instance per stack; every upper stream reaches it.  An
 * interface stream must have arp pushed (ip sends DL_UNITDATA_REQ with arp's
 * 6-byte next-hop address and uses the DL_IOC_HDR_INFO fast path).
 *
 * Primitives between ip and a transport (M_PROTO; the M_DATA in b_cont).
 * Every field is host order except addresses, which are network order.
 *   down  IP_BIND_REQ      bind this upper to a protocol number:
 *                          IP_BIND_ACK, or IP_ERROR_ACK (EADDRINUSE: another
 *                          upper has it; EINVAL: 0 or 255 or already bound)
 *   down  IP_UNBIND_REQ    IP_OK_ACK (or IP_ERROR_ACK EINVAL if unbound)
 *   down  IP_UNITDATA_REQ  send b_cont (the transport header and data) to
 *                          dst; ip adds the header (src 0: chosen by the
 *                          route; ttl 0: the "ttl" parameter), fills in the
 *                          transport checksum when asked (IP_F_CKSUM: the
 *                          pseudo-header sum plus the payload, stored at
 *                          cksum_off; IP_F_CKSUM_UDP: a zero result is sent
 *                          as 0xffff), fragments to the path MTU.
 *                          Failures: IP_UDERROR_IND with the payload.
 *                          b_cont must hold at least one M_DATA block (an
 *                          empty one for an empty payload); cookie is the
 *                          transport's, echoed in IP_UDERROR_IND so it can
 *                          tell which endpoint sent the datagram.
 *   down  IP_ROUTE_REQ     which source, next hop and MTU would be used for
 *                          dst: IP_ROUTE_ACK or IP_ERROR_ACK (ENETUNREACH).
 *                          ip answers every request at once and in order,
 *                          so a transport matches answers to requests FIFO.
 *   down  IP_REJECT_REQ    b_cont is a datagram ip delivered (from its IP
 *                          header on): ip answers its source with an ICMP
 *                          error (type/code), rate limited; used by
 *                          transports for port unreachable.  Never acked.
 *   up    IP_UNITDATA_IND  a datagram for the bound protocol: b_cont starts
 *                          at the IP header (hdr_len bytes, options
 *                          included), the transport header follows; the
 *                          datagram is whole (reassembled) and its header
 *                          checked.  One block or several.
 *   up    IP_UDERROR_IND   an IP_UNITDATA_REQ failed locally (error: an
 *                          errno: ENETUNREACH no route, EHOSTUNREACH next
 *                          hop did not answer ARP, EMSGSIZE larger than the
 *                          MTU with IP_F_DF or above 65535, EACCES
 *                          broadcast without IP_F_BROADCAST, EADDRNOTAVAIL
 *                          bad source, ENOBUFS no memory or queue full,
 *                          EINVAL malformed); b_cont: the payload when kept.
 *   up    IP_ICMP_IND      an ICMP error arrived about a datagram of the
 *                          bound protocol: b_cont starts at the quoted IP
 *                          header (its header, options, and at least 8
 *                          bytes of the transport header); type/code/info
 *                          from the ICMP message (info: the next-hop MTU of
 *                          fragmentation needed, the pointer of a parameter
 *                          problem).  error is the errno a socket would see
 *                          (ECONNREFUSED port or protocol unreachable,
 *                          EHOSTUNREACH, ENETUNREACH, EMSGSIZE, ...).
 *   up    IP_ROUTE_ACK, IP_BIND_ACK, IP_OK_ACK, IP_ERROR_ACK (M_PCPROTO).
 * The raw binding (IP_BINDF_RAW, the raw socket driver) receives every ICMP
 * message as IP_UNITDATA_IND, after ip has acted on it; IP_ICMP_IND goes only
 * to the binding of the quoted datagram's protocol, never to the raw one.
 *
 * Interface, address and route management: I_STR on any ip upper stream
 * (the data structures below; every address in network order):
 *   IP_IF_SET       struct ip_if_req: names the interface linked with
 *                   muxid (and sets mtu if non-zero, flags).  ENOENT: no
 *                   such muxid; EEXIST: name taken; EINVAL: empty name.
 *                   A linked interface is named "if<muxid>" until then.
 *   IP_IF_LIST      array of struct ip_if_info; ioc_rval = count.
 *   IP_ADDR_ADD     struct ip_addr_req: adds addr/plen to an interface
 *                   (a connected route, the broadcast address, and
 *                   ARP_ADD_LOCAL on the interface).  ENXIO: no such
 *                   interface; EEXIST; EINVAL: plen > 32, zero, group or
 *                   loopback address; ENOSPC: IP_ADDR_MAX per interface.
 *   IP_ADDR_DEL     struct ip_addr_req (plen ignored).  ENOENT, ENXIO.
 *   IP_ADDR_LIST    array of struct ip_addr_req; ioc_rval = count.
 *   IP_ROUTE_ADD    struct ip_route_entry: static route (gateway 0 = on
 *                   link; ifname "" = the interface whose connected route
 *                   reaches the gateway).  ENETUNREACH: gateway not on a
 *                   connected network; ENXIO: no such interface; EEXIST;
 *                   EINVAL: host bits set, plen > 32; ENOSPC.
 *   IP_ROUTE_DEL    struct ip_route_entry (gateway 0 and ifname "" match
 *                   any).  ENOENT.
 *   IP_ROUTE_LIST   array of struct ip_route_entry, ascending by prefix;
 *                   ioc_rval = count.
 *   IP_NEIGH_LIST   struct ip_neigh_req naming an interface: ip asks the
 *                   interface's arp (ARP_LIST) and answers with its reply,
 *                   an array of struct arp_entry_info (arp.h) as large as
 *                   ic_len allows; ioc_rval = the number of entries.  ENXIO:
 *                   no such interface (or it went away meanwhile).
 *   IP_ROUTE_GET    struct ip_route_entry with dst: filled in with the route
 *                   that would be used (gateway, ifname, src, mtu,
 *                   metric, plen).  ENETUNREACH.
 * Lists take as many entries as fit in ic_len.  Short data: EINVAL.
 * TRANSPARENT ioctls: EINVAL.  Other ioctls on an upper: EINVAL.
 */
#ifndef USTREAMS_IP_H
#define USTREAMS_IP_H

#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Primitives between ip and transports                               */
/* ------------------------------------------------------------------ */

#define IP_BIND_REQ 0x4201
#define IP_UNBIND_REQ 0x4202
#define IP_UNITDATA_REQ 0x4203
#define IP_ROUTE_REQ 0x4204
#define IP_REJECT_REQ 0x4205
#define IP_BIND_ACK 0x4211
#define IP_OK_ACK 0x4212
#define IP_ERROR_ACK 0x4213
#define IP_ROUTE_ACK 0x4214
#define IP_UNITDATA_IND 0x4221
#define IP_UDERROR_IND 0x4222
#define IP_ICMP_IND 0x4223

struct ip_bind_req {
	uint32_t prim;  /* IP_BIND_REQ */
	uint32_t proto; /* 1..254; ignored with IP_BINDF_RAW */
	uint32_t flags; /* IP_BINDF_* */
};
/* Raw binding (one per stack, the raw socket driver): a copy of every
 * datagram delivered locally, of any protocol, after ip acted on it (so echo
 * replies, and echo requests ip answered, reach raw sockets).  While a raw
 * binding exists ip sends no ICMP protocol unreachable. */
#define IP_BINDF_RAW 0x01

struct ip_bind_ack {
	uint32_t prim; /* IP_BIND_ACK */
	uint32_t proto;
};

struct ip_unbind_req {
	uint32_t prim; /* IP_UNBIND_REQ */
};

struct ip_ok_ack {
	uint32_t prim;         /* IP_OK_ACK */
	uint32_t correct_prim; /* the request it answers */
};

struct ip_error_ack {
	uint32_t prim;       /* IP_ERROR_ACK */
	uint32_t error_prim; /* the request it answers */
	uint32_t error;      /* errno */
};

/* IP_UNITDATA_REQ flags */
#define IP_F_DF 0x01        /* set Don't Fragment: larger than the MTU fails EMSGSIZE */
#define IP_F_DONTROUTE 0x02 /* only on-link destinations (SO_DONTROUTE) */
#define IP_F_BROADCAST 0x04 /* a broadcast destination is allowed (SO_BROADCAST) */
#define IP_F_CKSUM 0x08     /* fill in the transport checksum at cksum_off */
#define IP_F_CKSUM_UDP 0x10 /* with IP_F_CKSUM: a zero checksum is sent as 0xffff */
#define IP_F_HDRINCL 0x20   /* b_cont begins with an IP header (raw sockets) */

struct ip_unitdata_req {
	uint32_t prim;      /* IP_UNITDATA_REQ */
	uint32_t dst;       /* network order */
	uint32_t src;       /* network order; 0: chosen by ip */
	uint8_t proto;      /* the protocol field (ignored with IP_F_HDRINCL) */
	uint8_t ttl;        /* 0: the "ttl" parameter */
	uint8_t tos;        /* type of service / DSCP+ECN */
	uint8_t pad;        /* zero */
	uint32_t flags;     /* IP_F_* */
	uint32_t cksum_off; /* offset of the checksum field in b_cont (IP_F_CKSUM) */
	uint32_t cookie;    /* the sender's, echoed in IP_UDERROR_IND (0: none) */
};

struct ip_route_req {
	uint32_t prim; /* IP_ROUTE_REQ */
	uint32_t dst;  /* network order */
};

struct ip_route_ack {
	uint32_t prim;    /* IP_ROUTE_ACK */
	uint32_t dst;     /* network order, as asked */
	uint32_t src;     /* the source ip would choose, network order */
	uint32_t nexthop; /* gateway or dst itself, network order */
	uint32_t ifindex; /* outgoing interface (0: local delivery) */
	uint32_t mtu;     /* path MTU (route, interface, or learned) */
	uint32_t flags;   /* IP_RF_* */
	uint32_t lso_max; /* the interface takes HW_LSO TCP packets this large; 0: no */
};
#define IP_RF_LOCAL 0x01     /* dst is one of ours */
#define IP_RF_BROADCAST 0x02 /* dst is a broadcast address */
#define IP_RF_MULTICAST 0x04 /* dst is a multicast address */
#define IP_RF_GATEWAY 0x08   /* through a gateway (not on link) */

struct ip_reject_req {
	uint32_t prim; /* IP_REJECT_REQ */
	uint8_t type;  /* ICMP type (3: destination unreachable) */
	uint8_t code;  /* ICMP code (3: port unreachable) */
	uint16_t pad;  /* zero */
};

/* IP_UNITDATA_IND flags */
#define IP_IF_BROADCAST 0x01 /* sent to a broadcast address */
#define IP_IF_MULTICAST 0x02 /* sent to a multicast address */
#define IP_IF_LOOPBACK 0x04  /* sent by this stack to itself */

struct ip_unitdata_ind {
	uint32_t prim;    /* IP_UNITDATA_IND */
	uint32_t src;     /* network order */
	uint32_t dst;     /* network order */
	uint8_t proto;    /* protocol */
	uint8_t ttl;      /* as received */
	uint8_t tos;      /* as received */
	uint8_t hdr_len;  /* bytes of IP header at the start of b_cont */
	uint32_t ifindex; /* interface it arrived on (0: loopback) */
	uint32_t flags;   /* IP_IF_* */
};

struct ip_uderror_ind {
	uint32_t prim; /* IP_UDERROR_IND */
	uint32_t dst;  /* network order */
	uint32_t proto;
	uint32_t error;  /* errno */
	uint32_t cookie; /* from the IP_UNITDATA_REQ that failed */
};

struct ip_icmp_ind {
	uint32_t prim;     /* IP_ICMP_IND */
	uint32_t reporter; /* source of the ICMP message, network order */
	uint8_t type;      /* ICMP type */
	uint8_t code;      /* ICMP code */
	uint16_t pad;      /* zero */
	uint32_t info;     /* next-hop MTU (fragmentation needed) or pointer */
	uint32_t error;    /* the errno a socket would report */
};

/* ------------------------------------------------------------------ */
/* ioctls (I_STR on any ip upper stream)                              */
/* ------------------------------------------------------------------ */

#define IP_IOC ('I' << 8)
#define IP_IF_SET (IP_IOC | 1)
#define IP_IF_LIST (IP_IOC | 2)
#define IP_ADDR_ADD (IP_IOC | 3)
#define IP_ADDR_DEL (IP_IOC | 4)
#define IP_ADDR_LIST (IP_IOC | 5)
#define IP_ROUTE_ADD (IP_IOC | 6)
#define IP_ROUTE_DEL (IP_IOC | 7)
#define IP_ROUTE_LIST (IP_IOC | 8)
#define IP_ROUTE_GET (IP_IOC | 9)
#define IP_NEIGH_LIST (IP_IOC | 10)

struct ip_neigh_req {
	char ifname[16]; /* IP_IFNAMSIZ */
};

#define IP_IFNAMSIZ 16 /* with the terminating NUL */
#define IP_ADDR_MAX 8  /* addresses per interface */

/* Interface flags (ip_if_req.flags, ip_if_info.flags). */
#define IP_IFF_UP 0x01      /* administratively up (default once linked) */
#define IP_IFF_RUNNING 0x02 /* DLPI bound and answered (read only) */
#define IP_IFF_NOARP 0x04   /* reserved */
#define IP_IFF_DOWN 0x80    /* in IP_IF_SET only: take the interface down */

struct ip_if_req {
	int32_t muxid;
	char name[IP_IFNAMSIZ];
	uint32_t mtu;   /* 0: keep (from DL_INFO_ACK) */
	uint32_t flags; /* IP_IFF_UP or IP_IFF_DOWN; 0 = keep as is */
};

struct ip_if_info {
	uint32_t ifindex;
	int32_t muxid;
	char name[IP_IFNAMSIZ];
	uint32_t mtu;
	uint32_t flags;
	uint8_t mac[6];
	uint8_t naddrs;
	uint8_t pad;
	uint64_t ipackets, opackets, ibytes, obytes, idrops, odrops;
};

struct ip_addr_req {
	char ifname[IP_IFNAMSIZ];
	uint32_t addr;      /* network order */
	uint32_t plen;      /* prefix length */
	uint32_t broadcast; /* network order; filled in by ip (list) */
};

/* Route types (ip_route_entry.type). */
#define IP_RTT_CONNECTED 1
#define IP_RTT_STATIC 2

struct ip_route_entry {
	uint32_t dst;     /* network order */
	uint32_t plen;    /* 0..32 */
	uint32_t gateway; /* network order, 0 = on link */
	char ifname[IP_IFNAMSIZ];
	uint32_t metric;
	uint32_t mtu;  /* 0: the interface's */
	uint32_t src;  /* preferred source (network order), 0: none */
	uint32_t type; /* IP_RTT_*, filled in by ip */
};

/* ------------------------------------------------------------------ */
/* Parameters, statistics, drop reasons                               */
/* ------------------------------------------------------------------ */

#define IP_PARAM_FORWARDING "forwarding"             /* forward between interfaces (false) */
#define IP_PARAM_TTL "ttl"                           /* default TTL (64) */
#define IP_PARAM_REASS_TIMEOUT_MS "reass_timeout_ms" /* 30000 */
#define IP_PARAM_REASS_MAX_BYTES "reass_max_bytes"   /* 4 MiB */
#define IP_PARAM_ICMP_RATE "icmp_rate"               /* ICMP errors per second (100) */
#define IP_PARAM_ICMP_BURST "icmp_burst"             /* bucket depth (50) */
#define IP_PARAM_ECHO_REPLY "echo_reply"             /* answer echo requests (true) */
#define IP_PARAM_MAX_ROUTES "max_routes"             /* routes in the table (1M) */

/* Statistics: MIB-II ip group (RFC 1213) and icmp group names. */
#define IP_STAT_IN_RECEIVES "ipInReceives"
#define IP_STAT_IN_HDR_ERRORS "ipInHdrErrors"
#define IP_STAT_IN_ADDR_ERRORS "ipInAddrErrors"
#define IP_STAT_FORW_DATAGRAMS "ipForwDatagrams"
#define IP_STAT_IN_UNKNOWN_PROTOS "ipInUnknownProtos"
#define IP_STAT_IN_DISCARDS "ipInDiscards"
#define IP_STAT_IN_DELIVERS "ipInDelivers"
#define IP_STAT_OUT_REQUESTS "ipOutRequests"
#define IP_STAT_OUT_DISCARDS "ipOutDiscards"
#define IP_STAT_OUT_NO_ROUTES "ipOutNoRoutes"
#define IP_STAT_REASM_REQDS "ipReasmReqds"
#define IP_STAT_REASM_OKS "ipReasmOKs"
#define IP_STAT_REASM_FAILS "ipReasmFails"
#define IP_STAT_FRAG_OKS "ipFragOKs"
#define IP_STAT_FRAG_FAILS "ipFragFails"
#define IP_STAT_FRAG_CREATES "ipFragCreates"

/* Drop reasons: indices into us_ip_desc.drop_reasons. */
enum {
	IP_DROP_SHORT,         /* shorter than a header, or than its total length */
	IP_DROP_VERSION,       /* version is not 4 */
	IP_DROP_HDR_LEN,       /* IHL below 5 or beyond the packet */
	IP_DROP_CKSUM,         /* header checksum */
	IP_DROP_OPTIONS,       /* malformed options (parameter problem sent) */
	IP_DROP_MARTIAN_SRC,   /* source broadcast, multicast, 0/8, 127/8, ours */
	IP_DROP_MARTIAN_DST,   /* destination 0/8 or 127/8 from the wire */
	IP_DROP_NOT_FOR_US,    /* not ours and forwarding off */
	IP_DROP_TTL,           /* TTL expired while forwarding */
	IP_DROP_NO_ROUTE,      /* no route (input forwarding or output) */
	IP_DROP_UNKNOWN_PROTO, /* no transport bound (protocol unreachable sent) */
	IP_DROP_FRAG,          /* fragment dropped by reassembly (see verdict stats) */
	IP_DROP_REASS_TIMEOUT, /* reassembly timed out */
	IP_DROP_DF,            /* DF set and larger than the MTU (frag. needed sent) */
	IP_DROP_QUEUE_FULL,    /* interface output queue full */
	IP_DROP_NO_IFACE,      /* interface down, not bound, or gone */
	IP_DROP_ARP,           /* next hop did not answer ARP */
	IP_DROP_BADPRIM,       /* malformed or unknown primitive */
	IP_DROP_NOMEM,         /* allocation failed */
	IP_DROP_ICMP_BAD,      /* ICMP message short, bad checksum or unknown */
	IP_DROP_ICMP_RATE,     /* ICMP error not sent: rate limit */
	IP_DROP_TRANSPORT,     /* transport could not take it (flow control) */
	IP_DROP_BAD_OFFLOAD,   /* offload marks (stream.h) that do not fit the packet */
	IP_DROP_N
};

struct _UsModuleDesc;
extern const struct _UsModuleDesc us_ip_desc;

#endif /* USTREAMS_IP_H */
