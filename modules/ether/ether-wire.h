/* SPDX-License-Identifier: MIT */
/*
 * ether-wire.h -- Ethernet II and IEEE 802.1Q header layout: fixed offsets and
 * byte-order-safe accessors.
 *
 *   untagged   dst(6) src(6) type(2)                       14 bytes
 *   tagged     dst(6) src(6) 0x8100(2) TCI(2) type(2)      18 bytes
 *   TCI        PCP(3 bits) DEI(1 bit) VID(12 bits)
 *
 * References: IEEE 802.3 clause 3.2.6 (a type/length value up to 1500 is an
 * 802.3 length, 1536 and above an ethertype); IEEE 802.1Q clause 9.6 (the tag).
 * Frames carry no FCS here: drivers strip it on input and hardware (or the
 * kernel's TAP) adds it on output.  Short frames are not padded to 60 bytes
 * here either; that is the hardware's job.
 *
 * Every accessor takes a pointer to the first header byte, and the caller has
 * already checked that the bytes it reads are there (parse once, at the
 * boundary).  Reads and writes go byte by byte, so any alignment is fine;
 * nothing is ever cast to a packed struct.  Multi-byte fields are big-endian
 * on the wire; the accessors return host values.
 *
 * Names avoid those of <net/ethernet.h> (ETHER_ADDR_LEN, ETHERTYPE_*, ...)
 * so that both headers can be included together.
 */
#ifndef USTREAMS_ETHER_WIRE_H
#define USTREAMS_ETHER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ETHER_ALEN 6       /* a MAC address */
#define ETHER_HLEN 14      /* untagged header */
#define ETHER_TAGLEN 4     /* an 802.1Q tag */
#define ETHER_VLAN_HLEN 18 /* tagged header */

#define ETHER_OFF_DST 0        /* destination address */
#define ETHER_OFF_SRC 6        /* source address */
#define ETHER_OFF_TYPE 12      /* ethertype, or 0x8100 when tagged */
#define ETHER_OFF_TCI 14       /* tag control information (tagged only) */
#define ETHER_OFF_VLAN_TYPE 16 /* the ethertype after the tag */

/* Type/length values up to this are 802.3 lengths (LLC frames follow). */
#define ETHER_MAX_LENGTH_FIELD 1500

#define ETHER_T_IPV4 0x0800
#define ETHER_T_ARP 0x0806
#define ETHER_T_VLAN 0x8100 /* 802.1Q tag protocol identifier */
#define ETHER_T_IPV6 0x86dd

#define ETHER_VID_MAX 4094 /* 4095 is reserved */
#define ETHER_TCI_VID(tci) ((uint16_t)((tci)&0x0fff))
#define ETHER_TCI_PCP(tci) ((uint16_t)((tci) >> 13))

static inline uint16_t
ether_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline void
ether_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline const uint8_t *
ether_hdr_dst(const uint8_t *h)
{
	return h + ETHER_OFF_DST;
}

static inline const uint8_t *
ether_hdr_src(const uint8_t *h)
{
	return h + ETHER_OFF_SRC;
}

/* The outer type field: 0x8100 for a tagged frame.  Needs ETHER_HLEN bytes. */
static inline uint16_t
ether_hdr_type(const uint8_t *h)
{
	return ether_get16(h + ETHER_OFF_TYPE);
}

static inline bool
ether_hdr_is_tagged(const uint8_t *h)
{
	return ether_hdr_type(h) == ETHER_T_VLAN;
}

/* Tagged frames only; need ETHER_VLAN_HLEN bytes. */
static inline uint16_t
ether_hdr_tci(const uint8_t *h)
{
	return ether_get16(h + ETHER_OFF_TCI);
}

static inline uint16_t
ether_hdr_inner_type(const uint8_t *h)
{
	return ether_get16(h + ETHER_OFF_VLAN_TYPE);
}

/* Length of the header ether_hdr_write() makes for VLAN id vid (0: none). */
static inline size_t
ether_hdr_len(uint16_t vid)
{
	return vid != 0 ? ETHER_VLAN_HLEN : ETHER_HLEN;
}

/* Writes a header at h (ether_hdr_len(vid) bytes) and returns its length.
 * vid 0 makes an untagged header; otherwise a tag with PCP 0 and that VID. */
static inline size_t
ether_hdr_write(uint8_t *h, const uint8_t *dst, const uint8_t *src, uint16_t vid, uint16_t type)
{
	memcpy(h + ETHER_OFF_DST, dst, ETHER_ALEN);
	memcpy(h + ETHER_OFF_SRC, src, ETHER_ALEN);
	if (vid == 0) {
		ether_put16(h + ETHER_OFF_TYPE, type);
		return ETHER_HLEN;
	}
	ether_put16(h + ETHER_OFF_TYPE, ETHER_T_VLAN);
	ether_put16(h + ETHER_OFF_TCI, ETHER_TCI_VID(vid));
	ether_put16(h + ETHER_OFF_VLAN_TYPE, type);
	return ETHER_VLAN_HLEN;
}

/* The I/G bit: multicast or broadcast. */
static inline bool
ether_addr_is_group(const uint8_t *a)
{
	return (a[0] & 0x01) != 0;
}

static inline bool
ether_addr_is_broadcast(const uint8_t *a)
{
	return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}

static inline bool
ether_addr_is_zero(const uint8_t *a)
{
	return (a[0] | a[1] | a[2] | a[3] | a[4] | a[5]) == 0;
}

static inline bool
ether_addr_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, ETHER_ALEN) == 0;
}

#endif /* USTREAMS_ETHER_WIRE_H */
