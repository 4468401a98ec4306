/* SPDX-License-Identifier: MIT */
/*
 * tcp-wire.h -- the TCP header (RFC 9293 §3.1) and its options: MSS
 * (§3.7.1), window scale and timestamps (RFC 7323 §2, §3), SACK-permitted
 * and SACK (RFC 2018 §2, §3).  Parsing happens once, at the boundary, into a
 * TcpSeg; building writes a header from one.  Sequence arithmetic (RFC 9293
 * §3.4) is here too.  Private to the library.
 */
#ifndef USTREAMS_TCP_WIRE_H
#define USTREAMS_TCP_WIRE_H

#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <ustreams/stream.h>

#define TCP_HDR_MIN 20
#define TCP_HDR_MAX 60
#define TCP_OPT_MAX (TCP_HDR_MAX - TCP_HDR_MIN)
#define TCP_CKSUM_OFF 16 /* of the checksum field in the header */

/* Control bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR). */
#define TCP_F_FIN 0x01
#define TCP_F_SYN 0x02
#define TCP_F_RST 0x04
#define TCP_F_PSH 0x08
#define TCP_F_ACK 0x10
#define TCP_F_URG 0x20
#define TCP_F_ECE 0x40
#define TCP_F_CWR 0x80

/* Option kinds. */
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2       /* RFC 9293 §3.2 */
#define TCPOPT_WSCALE 3    /* RFC 7323 §2.2 */
#define TCPOPT_SACK_OK 4   /* RFC 2018 §2 */
#define TCPOPT_SACK 5      /* RFC 2018 §3 */
#define TCPOPT_TIMESTAMP 8 /* RFC 7323 §3.2 */

#define TCP_WSCALE_MAX 14 /* RFC 7323 §2.3 */
#define TCP_SACK_MAX 4    /* blocks one segment can carry (40 option bytes) */

typedef struct {
	uint32_t sb_left;  /* first sequence number of the block */
	uint32_t sb_right; /* the one after its last */
} TcpSackBlock;

/* Options of one segment as parsed (or to build). */
typedef struct {
	guint8 to_has_mss : 1;
	guint8 to_has_wscale : 1;
	guint8 to_sack_ok : 1;
	guint8 to_has_ts : 1;
	uint8_t to_wscale;
	uint16_t to_mss;
	uint32_t to_tsval, to_tsecr;
	guint to_nsack;
	TcpSackBlock to_sack[TCP_SACK_MAX];
} TcpOpts;

/* One segment: the header fields in host order, the options, and the
 * payload (a chain of M_DATA blocks of exactly seg_len bytes, or NULL). */
typedef struct {
	uint16_t seg_sport, seg_dport;
	uint32_t seg_seq;      /* SEG.SEQ */
	uint32_t seg_ack;      /* SEG.ACK */
	uint8_t seg_flags;     /* TCP_F_* */
	uint16_t seg_wnd;      /* SEG.WND as sent (not scaled) */
	uint16_t seg_up;       /* SEG.UP */
	uint32_t seg_len;      /* payload bytes (SYN and FIN not counted) */
	TcpOpts seg_opt;       /* options */
	mblk_t *seg_data;      /* payload or NULL */
	gboolean seg_unscaled; /* seg_wnd is not scaled (it came with a SYN) */
	uint16_t seg_lso_mss;  /* sent: several segments of this payload (HW_LSO), 0: one */
} TcpSeg;

/* Sequence-number comparisons modulo 2^32 (RFC 9293 §3.4). */
static inline gboolean
tcp_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline gboolean
tcp_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline gboolean
tcp_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline gboolean
tcp_seq_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

static inline uint32_t
tcp_seq_max(uint32_t a, uint32_t b)
{
	return tcp_seq_gt(a, b) ? a : b;
}

static inline uint32_t
tcp_seq_min(uint32_t a, uint32_t b)
{
	return tcp_seq_lt(a, b) ? a : b;
}

/* The sequence space a segment occupies: payload plus SYN and FIN. */
static inline uint32_t
tcp_seg_space(const TcpSeg *seg)
{
	return seg->seg_len + ((seg->seg_flags & TCP_F_SYN) != 0) +
	       ((seg->seg_flags & TCP_F_FIN) != 0);
}

static inline uint16_t
tcp_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
tcp_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void
tcp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
tcp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Parses the options in [p, p + len).  Malformed options (a length byte
 * below 2 or past the end, a known option of the wrong length) make it
 * return FALSE (RFC 9293 §3.2: MUST be prepared to handle an illegal option
 * length without crashing; the segment is dropped). */
gboolean tcp_opts_parse(const uint8_t *p, size_t len, gboolean syn, TcpOpts *o);
/* Parses a header of hlen_avail contiguous bytes at p into seg (options
 * included; seg_len and seg_data are not touched).  Returns the header
 * length, or 0 when it is malformed (data offset below 5 or beyond
 * hlen_avail, bad options). */
size_t tcp_hdr_parse(const uint8_t *p, size_t hlen_avail, TcpSeg *seg);
/* The bytes the options of o take once built (a multiple of 4). */
size_t tcp_opts_len(const TcpOpts *o, uint8_t flags);
/* Writes the header of seg (options from seg_opt, checksum 0) at p, which
 * has room for TCP_HDR_MAX bytes; returns its length. */
size_t tcp_hdr_build(uint8_t *p, const TcpSeg *seg);

#endif /* USTREAMS_TCP_WIRE_H */
