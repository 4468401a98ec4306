/* SPDX-License-Identifier: MIT */
/*
 * arp-wire.h -- the ARP packet for Ethernet and IPv4 (RFC 826): fixed
 * offsets, a parser into host-side fields and a writer.
 *
 *   0  hardware type (1, Ethernet)       2  protocol type (0x0800)
 *   4  hardware length (6)               5  protocol length (4)
 *   6  operation (1 request, 2 reply)
 *   8  sender hardware address (6)      14  sender protocol address (4)
 *  18  target hardware address (6)      24  target protocol address (4)
 *                                       28  end (Ethernet pads to 46)
 *
 * The parser works on a 28-byte copy the caller made after checking the
 * length (parse once, at the boundary); IPv4 addresses stay in network byte
 * order, as uint32_t values copied byte for byte.
 */
#ifndef USTREAMS_ARP_WIRE_H
#define USTREAMS_ARP_WIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ether-wire.h"

#define ARP_PKT_LEN 28

#define ARP_OFF_HTYPE 0
#define ARP_OFF_PTYPE 2
#define ARP_OFF_HLEN 4
#define ARP_OFF_PLEN 5
#define ARP_OFF_OP 6
#define ARP_OFF_SHA 8
#define ARP_OFF_SPA 14
#define ARP_OFF_THA 18
#define ARP_OFF_TPA 24

#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

/* An ARP packet's fields. */
typedef struct {
	uint16_t op;
	uint8_t sha[ETHER_ALEN];
	uint32_t spa; /* network order */
	uint8_t tha[ETHER_ALEN];
	uint32_t tpa; /* network order */
} ArpPkt;

/* Checks the fixed fields of p (ARP_PKT_LEN bytes) and fills pkt; false for
 * anything but Ethernet/IPv4 requests and replies. */
static inline bool
arp_pkt_parse(const uint8_t *p, ArpPkt *pkt)
{
	if (ether_get16(p + ARP_OFF_HTYPE) != ARP_HTYPE_ETHER ||
	    ether_get16(p + ARP_OFF_PTYPE) != ETHER_T_IPV4 || p[ARP_OFF_HLEN] != ETHER_ALEN ||
	    p[ARP_OFF_PLEN] != 4)
		return false;
	pkt->op = ether_get16(p + ARP_OFF_OP);
	if (pkt->op != ARP_OP_REQUEST && pkt->op != ARP_OP_REPLY)
		return false;
	memcpy(pkt->sha, p + ARP_OFF_SHA, ETHER_ALEN);
	memcpy(&pkt->spa, p + ARP_OFF_SPA, 4);
	memcpy(pkt->tha, p + ARP_OFF_THA, ETHER_ALEN);
	memcpy(&pkt->tpa, p + ARP_OFF_TPA, 4);
	return true;
}

/* Writes pkt as ARP_PKT_LEN bytes at p. */
static inline void
arp_pkt_write(uint8_t *p, const ArpPkt *pkt)
{
	ether_put16(p + ARP_OFF_HTYPE, ARP_HTYPE_ETHER);
	ether_put16(p + ARP_OFF_PTYPE, ETHER_T_IPV4);
	p[ARP_OFF_HLEN] = ETHER_ALEN;
	p[ARP_OFF_PLEN] = 4;
	ether_put16(p + ARP_OFF_OP, pkt->op);
	memcpy(p + ARP_OFF_SHA, pkt->sha, ETHER_ALEN);
	memcpy(p + ARP_OFF_SPA, &pkt->spa, 4);
	memcpy(p + ARP_OFF_THA, pkt->tha, ETHER_ALEN);
	memcpy(p + ARP_OFF_TPA, &pkt->tpa, 4);
}

/* IPv4 address classes (network order in, as stored). */
static inline bool
arp_ip_is_multicast(uint32_t a)
{
	const uint8_t *b = (const uint8_t *)&a;
	return (b[0] & 0xf0) == 0xe0;
}

static inline bool
arp_ip_is_broadcast(uint32_t a)
{
	return a == 0xffffffffu;
}

#endif /* USTREAMS_ARP_WIRE_H */
