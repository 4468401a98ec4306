/* SPDX-License-Identifier: MIT */
/*
 * icmp.h -- the public contract of the raw-IP transport driver "icmp" (as
 * Solaris calls /dev/icmp): SOCK_RAW sockets over ip, e.g. IPPROTO_ICMP for
 * ping.  The theory is in icmp.c and, for what it shares with udp, in
 * modules/inet/dgram.c; the options they share are listed in dgram.h.
 *
 * Plumbing:
 *
 *     fd_r = us_open(stack, "icmp", O_RDWR);     a raw socket endpoint
 *     fd_ip = us_open(stack, "ip", O_RDWR);
 *     us_ioctl(fd_r, I_PLINK, fd_ip);             IP_BIND_REQ {flags IP_BINDF_RAW}
 *
 * Once per stack (a second link: EBUSY).  Every open is an endpoint whose
 * protocol is IPPROTO_ICMP until US_SO_PROTOTYPE (dgram.h) sets another
 * (1..255; IPPROTO_RAW implies IP_HDRINCL).  TPI (T_CLTS) as udp's, with:
 *
 *   T_INFO_ACK       TSDU_size and TIDU_size 65515 (65535 - 20)
 *   T_BIND_REQ       the port is ignored (T_BIND_ACK has port 0); the
 *                    address only filters what is received
 *   T_CONN_REQ       the peer filters what is received and is the default
 *                    destination; the port is ignored
 *   T_UNITDATA_REQ   the data is the protocol payload the application built
 *                    (an ICMP echo request with its checksum, say), sent with
 *                    the endpoint's protocol; with IP_HDRINCL the data starts
 *                    with the IP header (up to 65535 bytes)
 *   T_UNITDATA_IND   every datagram of the endpoint's protocol delivered to
 *                    the stack whose destination matches the bound address
 *                    and whose source matches the peer, if any; the data
 *                    INCLUDES the IP header, as Linux raw IPv4 sockets give it
 *                    (SRC port 0)
 *
 * Options of the raw driver only:
 *   IPPROTO_IP  IP_HDRINCL  (int) the data carries its IP header
 *   SOL_RAW     ICMP_FILTER (uint32_t, IPPROTO_ICMP endpoints only, else
 *                           EOPNOTSUPP): bit n set drops ICMP type n
 */
#ifndef USTREAMS_ICMP_H
#define USTREAMS_ICMP_H

#include <ustreams/world.h>

#include "dgram.h"

#define ICMP_RAW_TSDU_SIZE 65515 /* 65535 - 20 (IP) */
#define ICMP_RAW_HDRINCL_MAX 65535

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* level SOL_RAW (255), <linux/icmp.h> */
#endif

/* Statistics: the counters of dgram.h under raw names.  Each endpoint counts
 * what it saw; the stack with us_icmp_stack_stat(). */
#define ICMP_STAT_IN_DATAGRAMS "rawInDatagrams"   /* copies delivered */
#define ICMP_STAT_NO_ENDPOINT "rawNoEndpoint"     /* datagrams no endpoint wanted */
#define ICMP_STAT_IN_ERRORS "rawInErrors"         /* not delivered (short, buffer) */
#define ICMP_STAT_OUT_DATAGRAMS "rawOutDatagrams" /* sent to ip */
#define ICMP_STAT_RCVBUF_ERRORS "rawRcvbufErrors" /* receive buffer full */
#define ICMP_STAT_OUT_ERRORS "rawOutErrors"       /* T_UDERROR_IND for a send */
#define ICMP_STAT_ICMP_ERRORS "rawIcmpErrors"     /* ICMP errors reported up */
#define ICMP_STAT_ICMP_IGNORED "rawIcmpIgnored"   /* ICMP errors not reported */
#define ICMP_STAT_FILTERED "rawFiltered"          /* dropped by ICMP_FILTER */

/* Drop reasons: DGRAM_DROP_* of dgram.h (us_stack_drop_count(stack, "icmp", r)). */

/* Reads a stack-wide statistic (0 while the driver was never opened on the
 * stack).  FALSE for an unknown name.  Call on the stack's world thread. */
gboolean us_icmp_stack_stat(UsStack *stack, const char *name, guint64 *value);

struct _UsModuleDesc;
extern const struct _UsModuleDesc us_icmp_desc;

#endif /* USTREAMS_ICMP_H */
