/* SPDX-License-Identifier: MIT */
/*
 * fakeip.h -- a test driver that plays ip below a transport: it speaks the
 * primitive set of modules/ip/ip.h from below, so transports (udp, icmp)
 * can be tested without the real ip.
 *
 *     fd_t = us_open(stack, "udp", O_RDWR);
 *     fd_ip = us_open(stack, "fakeip", O_RDWR);     (after fakeip_register())
 *     us_ioctl(fd_t, I_PLINK, fd_ip);
 *
 * What it does with what the transport sends down:
 *   IP_BIND_REQ      IP_BIND_ACK (or IP_ERROR_ACK fi_bind_error, or kept
 *                    unanswered while fi_hold_binds until fakeip_release_bind)
 *   IP_UNBIND_REQ    IP_OK_ACK
 *   IP_ROUTE_REQ     IP_ROUTE_ACK: src = dst for a local address (flags
 *                    IP_RF_LOCAL), else fi_route_src; IP_RF_BROADCAST for
 *                    255.255.255.255 and the broadcast addresses added,
 *                    IP_RF_MULTICAST for 224/4; IP_ERROR_ACK ENETUNREACH for
 *                    an unreachable address
 *   IP_UNITDATA_REQ  to an unreachable address: IP_UDERROR_IND ENETUNREACH;
 *                    to a broadcast address without IP_F_BROADCAST:
 *                    IP_UDERROR_IND EACCES (both with the payload); else
 *                    the transport checksum is filled in as ip would
 *                    (IP_F_CKSUM, IP_F_CKSUM_UDP) and the whole message is
 *                    recorded (fakeip_take_sent); with fi_loopback, a
 *                    datagram to a local or broadcast address also comes
 *                    back up as IP_UNITDATA_IND with a real IPv4 header
 *                    (later, from the read service procedure)
 *   IP_REJECT_REQ    recorded (fakeip_take_reject)
 * While plugged (fakeip_plug) the write side keeps everything queued, so its
 * queue fills (high water mark FAKEIP_HIWAT) and the transport above sees
 * flow control; unplugging drains it.
 *
 * Every helper taking a descriptor runs on the world's thread.
 */
#ifndef US_FAKEIP_H
#define US_FAKEIP_H

#include <stdint.h>

#include <ustreams/ustreams.h>

#include "ip.h"

#define FAKEIP_HIWAT 2048
#define FAKEIP_LOWAT 512
#define FAKEIP_MAX_ADDRS 8

typedef struct {
	queue_t *fi_rq; /* our read queue */
	/* configuration */
	uint32_t fi_local[FAKEIP_MAX_ADDRS]; /* our addresses (network order) */
	guint fi_nlocal;
	uint32_t fi_bcast[FAKEIP_MAX_ADDRS]; /* broadcast addresses */
	guint fi_nbcast;
	uint32_t fi_unreach[FAKEIP_MAX_ADDRS]; /* unreachable destinations */
	guint fi_nunreach;
	uint32_t fi_route_src;  /* source for non-local destinations */
	gboolean fi_loopback;   /* local/broadcast datagrams come back up */
	int fi_bind_error;      /* IP_ERROR_ACK for IP_BIND_REQ (0: ack) */
	gboolean fi_hold_binds; /* keep IP_BIND_REQ unanswered */
	gboolean fi_plugged;    /* the write side holds everything */
	/* what was seen */
	GQueue fi_sent;       /* IP_UNITDATA_REQ messages (whole) */
	GQueue fi_rejects;    /* IP_REJECT_REQ messages (whole) */
	mblk_t *fi_held_bind; /* the IP_BIND_REQ kept while fi_hold_binds */
	guint fi_nbind, fi_nunbind, fi_nroute, fi_nunknown;
	uint32_t fi_bind_proto, fi_bind_flags; /* of the last IP_BIND_REQ */
	uint16_t fi_ipid;                      /* IP id of looped datagrams */
} FakeIp;

/* Registers the driver (once per process; later calls do nothing). */
void fakeip_register(void);
/* The state of fakeip stream fd (linked or not).  Read it only while the
 * world is idle (worlds without a thread, between calls). */
FakeIp *fakeip_of(int fd);

void fakeip_add_local(int fd, uint32_t addr);
void fakeip_add_bcast(int fd, uint32_t addr);
void fakeip_add_unreach(int fd, uint32_t addr);
void fakeip_set_route_src(int fd, uint32_t addr);
void fakeip_set_loopback(int fd, gboolean on);
void fakeip_set_bind_error(int fd, int error);
void fakeip_hold_binds(int fd, gboolean on);
/* Answers the IP_BIND_REQ kept by fi_hold_binds; FALSE if none. */
gboolean fakeip_release_bind(int fd);
void fakeip_plug(int fd, gboolean on);

/* The oldest recorded IP_UNITDATA_REQ / IP_REJECT_REQ (caller frees), or NULL. */
mblk_t *fakeip_take_sent(int fd);
mblk_t *fakeip_take_reject(int fd);
guint fakeip_sent_count(int fd);
/* Sends mp (consumed) up from fakeip, as ip would. */
void fakeip_inject(int fd, mblk_t *mp);

/* Message builders (any thread). */

/* An IPv4 datagram: 20-byte header with a valid checksum, then len bytes. */
mblk_t *fakeip_datagram(uint32_t src, uint32_t dst, uint8_t proto, const void *payload, size_t len);
typedef enum { FAKEIP_CKSUM_GOOD, FAKEIP_CKSUM_ZERO, FAKEIP_CKSUM_BAD } FakeIpCksum;
/* An IPv4 datagram holding a udp datagram of len data bytes. */
mblk_t *fakeip_udp_datagram(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			    const void *data, size_t len, FakeIpCksum cksum);
/* The udp checksum (as stored) of the ulen bytes at udp (checksum field 0). */
uint16_t fakeip_udp_cksum(uint32_t src, uint32_t dst, const uint8_t *udp, size_t ulen);
/* IP_UNITDATA_IND carrying dgram (consumed; b_rptr at its IP header). */
mblk_t *fakeip_unitdata_ind(mblk_t *dgram, uint32_t flags);
/* IP_ICMP_IND with quote (consumed) as b_cont. */
mblk_t *fakeip_icmp_ind(uint32_t reporter, uint8_t type, uint8_t code, uint32_t error,
			mblk_t *quote);
/* IP_UDERROR_IND with payload (consumed, may be NULL). */
mblk_t *fakeip_uderror_ind(uint32_t dst, uint32_t proto, uint32_t error, mblk_t *payload);
/* Splits the first block of mp into two at off (for multi-block tests). */
void fakeip_split(mblk_t *mp, size_t off);

/* An address a.b.c.d in network order. */
static inline uint32_t
fakeip_addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t x[4] = { a, b, c, d };
	uint32_t v;
	memcpy(&v, x, 4);
	return v;
}

#endif
