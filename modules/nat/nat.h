/* SPDX-License-Identifier: MIT */
/*
 * nat.h -- the public contract of the nat module: source NAT (masquerade)
 * and port forwarding for the outside interface of a router.  The theory
 * (where it is pushed, mappings, filtering, timeouts, fragments, ICMP
 * errors, deviations) is at the top of nat.c; docs/modules.md has the
 * walkthrough.
 *
 * Where: on the outside interface stream, between arp and ip:
 *
 *     fd_if = us_open(stack, "wire", O_RDWR);
 *     I_PUSH "ether"; I_PUSH "arp"; I_PUSH "nat"      (nat above arp)
 *     us_param_set(nat rq, "forwards", "tcp 80 10.0.0.5:8080")
 *     I_PLINK under ip; IP_ADDR_ADD {"eth1", 192.0.2.1/24}
 *
 * or in a config:  push nat forwards="tcp 80 10.0.0.5:8080"
 *
 * ioctls (M_IOCTL, I_STR form; TRANSPARENT is NAKed with EINVAL; every
 * other ioctl passes down, ARP_ADD_LOCAL/ARP_DEL_LOCAL after nat has looked
 * at them to learn the outside address):
 *   NAT_LIST          the connection table: an array of struct
 *                     nat_entry_info, as many as fit in ic_len, ordered by
 *                     protocol, external port, peer; ioc_rval = the number
 *                     of entries in the table.
 *   NAT_FLUSH         removes every entry (forwarding rules stay);
 *                     ioc_rval = the number removed.
 *   NAT_FORWARD_ADD   struct nat_forward: a port forwarding rule.  EINVAL:
 *                     protocol not 6/17, port 0, inside address 0,
 *                     multicast or broadcast; EEXIST: a rule for that
 *                     protocol and port exists; EADDRINUSE: the port is
 *                     held by a dynamic mapping now; ENOSPC: NAT_FORWARD_MAX
 *                     rules already.
 *   NAT_FORWARD_DEL   struct nat_forward (proto and ext_port matter): the
 *                     rule goes, and so do the connections it let in;
 *                     ioc_rval = the number of connections ended.  ENOENT.
 *   NAT_FORWARD_LIST  array of struct nat_forward, as many as fit in ic_len,
 *                     ordered by protocol and port; ioc_rval = the count.
 * Short data: EINVAL.  Addresses are in network order, every other field in
 * host order (as in ip.h).
 */
#ifndef USTREAMS_NAT_H
#define USTREAMS_NAT_H

#include <stdint.h>

/* ------------------------------------------------------------------ */
/* ioctls                                                             */
/* ------------------------------------------------------------------ */

#define NAT_IOC ('N' << 8)
#define NAT_LIST (NAT_IOC | 1)
#define NAT_FLUSH (NAT_IOC | 2)
#define NAT_FORWARD_ADD (NAT_IOC | 3)
#define NAT_FORWARD_DEL (NAT_IOC | 4)
#define NAT_FORWARD_LIST (NAT_IOC | 5)

#define NAT_FORWARD_MAX 64 /* forwarding rules per instance */

/* A port forwarding rule: proto/ext_port on the outside address goes to
 * in_addr:in_port inside. */
struct nat_forward {
	uint8_t proto;     /* 6 (TCP) or 17 (UDP) */
	uint8_t pad;       /* zero */
	uint16_t ext_port; /* on the outside address, host order */
	uint32_t in_addr;  /* the inside host, network order */
	uint16_t in_port;  /* host order */
	uint16_t pad2;     /* zero */
};

/* Connection states (nat_entry_info.state).  TCP states follow the flags
 * seen (the table in nat-ct.c); UDP and ICMP have their own. */
enum {
	NAT_ST_NONE = 0,        /* just created (never seen in a list) */
	NAT_ST_SYN_SENT = 1,    /* TCP: the originator's SYN seen */
	NAT_ST_ESTABLISHED = 2, /* TCP: the SYN was answered with SYN+ACK */
	NAT_ST_FIN_WAIT = 3,    /* TCP: a FIN seen in one direction */
	NAT_ST_TIME_WAIT = 4,   /* TCP: FINs seen in both directions */
	NAT_ST_CLOSE = 5,       /* TCP: a RST seen */
	NAT_ST_UDP = 6,         /* UDP: nothing came back yet */
	NAT_ST_UDP_STREAM = 7,  /* UDP: a reply was seen */
	NAT_ST_ICMP = 8,        /* ICMP echo */
};

/* nat_entry_info.flags */
#define NAT_EF_FORWARD 0x01 /* created by a forwarding rule (inbound) */
#define NAT_EF_REPLIED 0x02 /* a packet in the reply direction was seen */

struct nat_entry_info {
	uint8_t proto;        /* 6, 17 or 1 */
	uint8_t state;        /* NAT_ST_* */
	uint8_t flags;        /* NAT_EF_* */
	uint8_t pad;          /* zero */
	uint32_t in_addr;     /* the inside host, network order */
	uint32_t peer_addr;   /* the outside peer, network order */
	uint32_t ext_addr;    /* the outside address, network order */
	uint16_t in_port;     /* inside port (ICMP: the echo identifier) */
	uint16_t peer_port;   /* the peer's port (ICMP: 0) */
	uint16_t ext_port;    /* external port or identifier */
	uint16_t pad2;        /* zero */
	uint32_t expires_ms;  /* until the entry expires if nothing passes */
	uint32_t pad3;        /* zero */
	uint64_t packets_out; /* translated towards the outside */
	uint64_t packets_in;  /* translated towards the inside */
};

/* ------------------------------------------------------------------ */
/* Parameters, statistics, drop reasons                               */
/* ------------------------------------------------------------------ */

#define NAT_PARAM_ADDRESS "address"                     /* outside address ("": learned) */
#define NAT_PARAM_INSIDE "inside"                       /* inside prefixes ("": any other source) */
#define NAT_PARAM_PORT_MIN "port_min"                   /* external ports and ids (61000) */
#define NAT_PARAM_PORT_MAX "port_max"                   /* (65535) */
#define NAT_PARAM_MAX_ENTRIES "max_entries"             /* connection table size (16384) */
#define NAT_PARAM_FORWARDS "forwards"                   /* "tcp 80 10.0.0.5:8080; udp 53 ..." */
#define NAT_PARAM_TCP_SYN_SENT_S "tcp_syn_sent_s"       /* 120 */
#define NAT_PARAM_TCP_ESTABLISHED_S "tcp_established_s" /* 432000 (5 days) */
#define NAT_PARAM_TCP_FIN_WAIT_S "tcp_fin_wait_s"       /* 120 */
#define NAT_PARAM_TCP_TIME_WAIT_S "tcp_time_wait_s"     /* 120 */
#define NAT_PARAM_TCP_CLOSE_S "tcp_close_s"             /* 10 */
#define NAT_PARAM_UDP_S "udp_s"                         /* 30 */
#define NAT_PARAM_UDP_STREAM_S "udp_stream_s"           /* 180 */
#define NAT_PARAM_ICMP_S "icmp_s"                       /* 30 */
#define NAT_PARAM_FRAG_TIMEOUT_MS "frag_timeout_ms"     /* 5000 */
#define NAT_PARAM_MAX_FRAGS "max_frags"                 /* 1024 */

#define NAT_STAT_TRANSLATED_OUT "translated_out"   /* packets rewritten going out */
#define NAT_STAT_TRANSLATED_IN "translated_in"     /* packets rewritten coming in */
#define NAT_STAT_ICMP_ERRORS "icmp_errors"         /* ICMP errors whose quote was rewritten */
#define NAT_STAT_NEW_FLOWS "new_flows"             /* entries created */
#define NAT_STAT_EXPIRED "expired"                 /* entries that timed out */
#define NAT_STAT_TABLE_FULL "table_full"           /* new flows refused: max_entries */
#define NAT_STAT_PORTS_EXHAUSTED "ports_exhausted" /* new flows refused: no free port */
#define NAT_STAT_UNTRANSLATABLE "untranslatable"   /* inside packets that could not be */
#define NAT_STAT_ENTRIES "entries"                 /* entries now */
#define NAT_STAT_MAPPINGS "mappings"               /* external ports held now */
#define NAT_STAT_FRAGS "frags"                     /* fragment entries now */

/* Drop reasons: indices into us_nat_desc.drop_reasons (us_drop_count). */
enum {
	NAT_DROP_NO_ADDRESS,   /* inside source, but no outside address known yet */
	NAT_DROP_MALFORMED,    /* inside packet too short for its transport header */
	NAT_DROP_PROTO,        /* inside packet of a protocol (or ICMP type) not translated */
	NAT_DROP_TCP_NOT_SYN,  /* inside TCP segment of no known connection, not a SYN */
	NAT_DROP_TABLE_FULL,   /* new flow refused: max_entries */
	NAT_DROP_PORTS,        /* new flow refused: no free port in [port_min, port_max] */
	NAT_DROP_FRAG,         /* inside non-first fragment whose first fragment was not seen */
	NAT_DROP_ICMP_NO_FLOW, /* inside ICMP error about a datagram not in the table */
	NAT_DROP_NOMEM,        /* allocation failed */
	NAT_DROP_N
};

struct _UsModuleDesc;
extern const struct _UsModuleDesc us_nat_desc;

#endif /* USTREAMS_NAT_H */
