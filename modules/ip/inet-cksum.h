/* SPDX-License-Identifier: MIT */
/*
 * inet-cksum.h -- the Internet checksum (RFC 1071) for ip and the transports:
 * one's complement sums over buffers and message chains, the pseudo-header
 * sum of TCP and UDP, and the incremental update of RFC 1624.
 *
 * Theory
 * ------
 * The checksum is the one's complement of the one's complement sum of the
 * data taken as 16-bit big-endian words.  Sums are carried in a uint32_t
 * (or wider) accumulator and folded at the end; the sum is byte-order
 * independent (RFC 1071 §2(B)), so words are added in host order and the
 * result is swapped once, and an odd-length piece followed by another is
 * handled by swapping the bytes of the later piece's sum (RFC 1071 §2(C)):
 * us_cksum_mblk() does this for chains whose blocks have odd lengths.
 *
 * The value returned by us_cksum_finish() is in NETWORK byte order as a
 * uint16_t ready to be stored with memcpy: a buffer whose stored checksum is
 * right sums to 0 (us_cksum_finish() of it is 0).
 *
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') updates a stored checksum HC when
 * a 16-bit field changes from m to m' (both in the byte order they are
 * stored in), without summing the packet again; ip uses it for the TTL.
 */
#ifndef USTREAMS_INET_CKSUM_H
#define USTREAMS_INET_CKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ustreams/stream.h>

/* Adds len bytes at p to sum (host-order words; see above). */
static inline uint64_t
us_cksum_add(uint64_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, b, 8);
		sum += w & 0xffffffffu;
		sum += w >> 32;
		b += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t w;
		memcpy(&w, b, 2);
		sum += w;
		b += 2;
		len -= 2;
	}
	if (len) {
		uint16_t w = 0;
		memcpy(&w, b, 1); /* the last byte is the high-order byte of a word */
		sum += w;
	}
	return sum;
}

/* Folds a sum to 16 bits (still host order, not complemented). */
static inline uint16_t
us_cksum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum to store (memcpy, 2 bytes) for a sum: ~fold(sum). */
static inline uint16_t
us_cksum_finish(uint64_t sum)
{
	return (uint16_t)~us_cksum_fold(sum);
}

/* The checksum of one buffer. */
static inline uint16_t
us_cksum(const void *p, size_t len)
{
	return us_cksum_finish(us_cksum_add(0, p, len));
}

/* Adds len bytes of the M_DATA chain mp starting off bytes into it (bytes
 * past the end of the chain are not read).  Odd-length blocks are handled. */
static inline uint64_t
us_cksum_mblk(uint64_t sum, const mblk_t *mp, size_t off, size_t len)
{
	int odd = 0;
	for (; mp != NULL && len > 0; mp = mp->b_cont) {
		size_t n = (size_t)(mp->b_wptr - mp->b_rptr);
		if (off >= n) {
			off -= n;
			continue;
		}
		n -= off;
		if (n > len)
			n = len;
		uint64_t s = us_cksum_add(0, mp->b_rptr + off, n);
		if (odd) { /* this piece starts on an odd byte: swap its sum */
			uint16_t f = us_cksum_fold(s);
			s = (uint16_t)((f >> 8) | (f << 8));
		}
		sum += s;
		odd ^= (int)(n & 1);
		len -= n;
		off = 0;
	}
	return sum;
}

/* The pseudo-header sum of TCP and UDP over IPv4 (RFC 793 §3.1, RFC 768):
 * src and dst in network order, proto, len (the transport length) in host
 * order. */
static inline uint64_t
us_cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint8_t ph[12];
	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return us_cksum_add(0, ph, sizeof ph);
}

/* RFC 1624 eqn. 3: the new stored checksum when a 16-bit field changes from
 * old to new (all three as stored, i.e. read with memcpy from the packet). */
static inline uint16_t
us_cksum_adjust16(uint16_t cksum, uint16_t old, uint16_t new_)
{
	uint64_t sum = (uint16_t)~cksum;
	sum += (uint16_t)~old;
	sum += new_;
	return (uint16_t)~us_cksum_fold(sum);
}

/* Completes a partial checksum (HCK_PARTIALCKSUM, stream.h) of the packet
 * whose IP header starts l2 bytes into mp, the first l2 + stuff + 2 bytes
 * contiguous and writable in mp's first block: the Internet checksum of the
 * bytes from the IP header's start + start to the end goes to start + stuff
 * (RFC 768: a UDP zero is sent as 0xffff), and the mark is dropped. */
static inline void
us_cksum_complete(mblk_t *mp, size_t l2, size_t start, size_t stuff)
{
	size_t len = msgdsize(mp);
	uint16_t c = us_cksum_finish(us_cksum_mblk(0, mp, l2 + start, len - l2 - start));
	if (c == 0 && mp->b_rptr[l2 + 9] == 17)
		c = 0xffff;
	memcpy(mp->b_rptr + l2 + stuff, &c, 2);
	DB_CKSUMFLAGS(mp) &= (uint16_t)~HCK_PARTIALCKSUM;
}

#endif /* USTREAMS_INET_CKSUM_H */
