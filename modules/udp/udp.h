/* SPDX-License-Identifier: MIT */
/*
 * udp.h -- the public contract of the udp transport driver (RFC 768): its TPI
 * service, its own option, the names of its statistics and its drop reasons.
 * The theory is in udp.c and, for what udp shares with the raw-IP driver, in
 * modules/inet/dgram.c; the options they share are listed in dgram.h.
 *
 * Plumbing:
 *
 *     fd_t = us_open(stack, "udp", O_RDWR);     a socket endpoint (clone open)
 *     fd_ip = us_open(stack, "ip", O_RDWR);
 *     us_ioctl(fd_t, I_PLINK, fd_ip);            udp sends IP_BIND_REQ {17}
 *
 * Once (through any endpoint) per stack; a second link is refused (EBUSY).
 * Every open of "udp" is a new endpoint speaking TPI (T_CLTS):
 *
 *   T_INFO_ACK       TSDU_size 65507, ETSDU/CDATA/DDATA_size T_INVALID,
 *                    ADDR_size 16 (struct sockaddr_in), OPT_size 512,
 *                    TIDU_size 65507, SERV_type T_CLTS, PROVIDER_flag SENDZERO
 *   T_BIND_REQ       ADDR: sockaddr_in or empty (INADDR_ANY, port 0); port 0
 *                    takes an ephemeral port (32768-60999); an address must be
 *                    INADDR_ANY, one of the stack's, a broadcast or a
 *                    multicast address (TNOADDR); in use (Linux rules,
 *                    SO_REUSEADDR/SO_REUSEPORT): TADDRBUSY.  O_T_BIND_REQ
 *                    takes an ephemeral port instead of a busy one.
 *   T_UNITDATA_REQ   to DEST (empty: the peer of a connected endpoint); the
 *                    data goes in one datagram with the udp header; errors
 *                    come back as T_UDERROR_IND with an errno in ERROR_type
 *                    (ENETDOWN: ip not linked or not bound yet; EMSGSIZE;
 *                    EACCES: broadcast without SO_BROADCAST; what ip reports)
 *   T_UNITDATA_IND   SRC: the sender; the data is the payload only
 *   T_CONN_REQ       sets the peer: T_OK_ACK then T_CONN_CON; only the peer's
 *                    datagrams arrive afterwards; T_DISCON_REQ forgets it
 *   T_UDERROR_IND    also for ICMP errors (ECONNREFUSED ...) about datagrams
 *                    of a connected endpoint
 *   T_ADDR_REQ, T_UNBIND_REQ, T_CAPABILITY_REQ, T_SVR4_OPTMGMT_REQ
 *
 * Option of udp only: SOL_SOCKET SO_NO_CHECK (int): send without a checksum.
 */
#ifndef USTREAMS_UDP_H
#define USTREAMS_UDP_H

#include <ustreams/world.h>

#include "dgram.h"

#define UDP_TSDU_SIZE 65507 /* 65535 - 20 (IP) - 8 (udp) */
#define UDP_HDR_LEN 8

/* Statistics (MIB-II udp group names, RFC 4113; Linux's for the rest).  Each
 * endpoint counts what it saw (us_stat_get on its stream); the whole stack
 * with us_udp_stack_stat(). */
#define UDP_STAT_IN_DATAGRAMS "udpInDatagrams"    /* delivered */
#define UDP_STAT_NO_PORTS "udpNoPorts"            /* unicast for no endpoint */
#define UDP_STAT_IN_ERRORS "udpInErrors"          /* short, bad length, checksum, buffer */
#define UDP_STAT_OUT_DATAGRAMS "udpOutDatagrams"  /* sent to ip */
#define UDP_STAT_RCVBUF_ERRORS "udpRcvbufErrors"  /* receive buffer full */
#define UDP_STAT_IN_CSUM_ERRORS "udpInCsumErrors" /* bad checksum */
#define UDP_STAT_IGNORED_MULTI "udpIgnoredMulti"  /* broadcast/multicast for no endpoint */
#define UDP_STAT_OUT_ERRORS "udpOutErrors"        /* T_UDERROR_IND for a send */
#define UDP_STAT_ICMP_ERRORS "udpIcmpErrors"      /* ICMP errors reported up */
#define UDP_STAT_ICMP_IGNORED "udpIcmpIgnored"    /* ICMP errors not reported */

/* Drop reasons: DGRAM_DROP_* of dgram.h (us_stack_drop_count(stack, "udp", r)). */

/* Reads a stack-wide statistic (0 while udp was never opened on the stack).
 * FALSE for an unknown name.  Call on the stack's world thread. */
gboolean us_udp_stack_stat(UsStack *stack, const char *name, guint64 *value);

struct _UsModuleDesc;
extern const struct _UsModuleDesc us_udp_desc;

#endif /* USTREAMS_UDP_H */
