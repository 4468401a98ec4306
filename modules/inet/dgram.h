/* SPDX-License-Identifier: MIT */
/*
 * dgram.h -- the public contract shared by the connectionless TPI transports
 * over ip (udp and the raw-IP driver icmp): the socket options they
 * understand, their defaults and limits, the statistics layout and the drop
 * reasons.  The theory (TPI service, binding, demultiplexing, flow control)
 * is in dgram.c; what is proper to each protocol is in udp.h and icmp.h.
 *
 * Addresses in TPI primitives are struct sockaddr_in (16 bytes, sin_family
 * AF_INET, port and address in network order), as illumos sockfs passes
 * them.
 *
 * Options (T_SVR4_OPTMGMT_REQ, struct opthdr + value; values are ints of 4
 * bytes unless said otherwise; levels and names are the Linux ones of
 * <sys/socket.h> and <netinet/in.h>):
 *   SOL_SOCKET  SO_RCVBUF      receive buffer in bytes (default 212992)
 *               SO_SNDBUF      send buffer in bytes (default 212992)
 *               SO_REUSEADDR   share a port (udp: both sockets must set it)
 *               SO_REUSEPORT   share a port and spread unicast by source
 *               SO_BROADCAST   allow sending to broadcast addresses
 *               SO_DONTROUTE   only on-link destinations
 *               SO_KEEPALIVE   accepted, no effect on datagrams
 *               SO_LINGER      struct linger (8 bytes); accepted, no effect
 *               SO_TYPE        read only: SOCK_DGRAM (udp), SOCK_RAW (icmp)
 *               US_SO_PROTOTYPE the protocol: udp accepts 0 and 17 only;
 *                              icmp: the raw socket's IP protocol, 1..255
 *   IPPROTO_IP  IP_TTL         1..255; -1 restores the default (ip's "ttl")
 *               IP_TOS         0..255
 * plus the protocol's own (udp.h, icmp.h).
 */
#ifndef USTREAMS_DGRAM_H
#define USTREAMS_DGRAM_H

#include <stdint.h>

/* SOL_SOCKET option naming the protocol of a socket (Solaris SO_PROTOTYPE):
 * the socket library sets it on a raw socket after the open. */
#ifndef US_SO_PROTOTYPE
#define US_SO_PROTOTYPE 0x1009
#endif

/* Limits and defaults. */
#define DGRAM_ADDR_SIZE 16               /* sizeof(struct sockaddr_in): ADDR_size */
#define DGRAM_OPT_SIZE 512               /* OPT_size of T_INFO_ACK */
#define DGRAM_WROFF 64                   /* headroom asked of the stream head (SO_WROFF) */
#define DGRAM_RCVBUF_DEFAULT 212992      /* SO_RCVBUF, as Linux's rmem_default */
#define DGRAM_SNDBUF_DEFAULT 212992      /* SO_SNDBUF, as Linux's wmem_default */
#define DGRAM_RCVBUF_MIN 2304            /* smaller values are raised to this */
#define DGRAM_SNDBUF_MIN 4608            /* smaller values are raised to this */
#define DGRAM_BUF_MAX (16 * 1024 * 1024) /* larger values are lowered to this */
#define DGRAM_PORT_LOW 32768             /* ephemeral ports, as Linux's ip_local_port_range */
#define DGRAM_PORT_HIGH 60999

/*
 * Statistics: a block of counters found both in each endpoint's state (what
 * that endpoint saw) and in the per-stack state (the whole stack).  The
 * descriptor's table reads an endpoint's (us_stat_get on a stream of the
 * transport); us_udp_stack_stat()/us_icmp_stack_stat() read the stack's.
 * Names are in udp.h and icmp.h.
 */
typedef struct {
	uint64_t dm_in_datagrams;   /* delivered to an endpoint */
	uint64_t dm_no_ports;       /* unicast for no endpoint (udp: port unreachable sent) */
	uint64_t dm_in_errors;      /* not delivered for another reason than no port */
	uint64_t dm_out_datagrams;  /* sent down to ip */
	uint64_t dm_rcvbuf_errors;  /* dropped: the receiver's buffer was full */
	uint64_t dm_in_csum_errors; /* dropped: bad checksum */
	uint64_t dm_ignored_multi;  /* broadcast/multicast for no endpoint */
	uint64_t dm_out_errors;     /* refused locally or by ip (T_UDERROR_IND) */
	uint64_t dm_icmp_errors;    /* ICMP errors about our datagrams reported up */
	uint64_t dm_icmp_ignored;   /* ICMP errors not reported (unconnected, soft, no endpoint) */
	uint64_t dm_filtered;       /* raw: dropped by ICMP_FILTER */
} DgramMib;

/* Drop reasons: indices into the drop_reasons of us_udp_desc and
 * us_icmp_desc (us_drop_count / us_stack_drop_count). */
enum {
	DGRAM_DROP_BADPRIM,  /* malformed or unknown primitive from ip */
	DGRAM_DROP_SHORT,    /* datagram shorter than its headers */
	DGRAM_DROP_BADLEN,   /* udp length field below 8 or beyond the datagram */
	DGRAM_DROP_CKSUM,    /* bad checksum */
	DGRAM_DROP_NO_PORT,  /* unicast for no endpoint */
	DGRAM_DROP_NO_MULTI, /* broadcast/multicast for no endpoint */
	DGRAM_DROP_RCVBUF,   /* receive buffer full */
	DGRAM_DROP_FILTERED, /* raw: ICMP_FILTER */
	DGRAM_DROP_NOMEM,    /* allocation failed */
	DGRAM_DROP_UNLINKED, /* arrived at or queued on an unlinked lower */
	DGRAM_DROP_CLOSED,   /* queued on an endpoint when it closed */
	DGRAM_DROP_ICMP,     /* ICMP error not reported (see dm_icmp_ignored) */
	DGRAM_DROP_UDERROR,  /* IP_UDERROR_IND for no endpoint */
	DGRAM_DROP_SEND,     /* datagram refused (T_UDERROR_IND sent) */
	DGRAM_DROP_TPI,      /* TPI message too short to answer, or unexpected type */
	DGRAM_DROP_LATE,     /* ip acknowledgement nobody waits for */
	DGRAM_DROP_N
};

#endif /* USTREAMS_DGRAM_H */
