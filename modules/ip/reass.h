/* SPDX-License-Identifier: MIT */
/*
 * reass.h -- the IPv4 fragment reassembly table of the ip driver: a sans-I/O
 * object that takes fragments and the caller's clock and returns whole
 * datagrams (RFC 791 §3.2, RFC 815, RFC 1122 §3.3.2).  The theory, the
 * overlap policy and the deviations are at the top of reass.c.
 *
 * Ownership: ip_reass_input() consumes the fragment in every case; a returned
 * datagram and the copies ip_reass_expire() hands to its callback belong to
 * the caller.  The table is not thread-safe: one world thread uses it.
 *
 * Memory accounting (ip_reass_bytes(), bounded by max_bytes): every byte in
 * the blocks held (MBLKL: the payload, plus the IP header of each held
 * offset-0 fragment), plus IP_REASS_BLOCK_COST per message block held, plus
 * IP_REASS_FRAG_COST per fragment held, plus IP_REASS_DGRAM_COST per
 * incomplete datagram.  The constants stand for the mblk_t, dblk_t and
 * allocator header of a block, the fragment record, and the datagram record
 * with its hash-table slot.  Buffer slack (a 60-byte fragment in a 2 KB
 * buffer) is not counted: the per-block cost is what bounds it.
 */
#ifndef USTREAMS_IP_REASS_H
#define USTREAMS_IP_REASS_H

#include <glib.h>
#include <ustreams/stream.h>

G_BEGIN_DECLS

typedef enum {
	IP_REASS_KEPT,    /* fragment stored, datagram incomplete */
	IP_REASS_DONE,    /* the call returned the whole datagram */
	IP_REASS_DUP,     /* duplicate of data already held: dropped (the datagram continues) */
	IP_REASS_OVERLAP, /* overlaps held data differently: fragment AND datagram dropped */
	IP_REASS_TOO_BIG, /* the datagram would exceed 65535 bytes: fragment and datagram dropped */
	IP_REASS_BAD,     /* malformed, or inconsistent with the datagram (then dropped too) */
	IP_REASS_LIMIT,   /* memory, datagram-count or fragment-count limit: dropped */
	IP_REASS_NOMEM,   /* allocation failed: dropped */
	IP_REASS_N_VERDICTS /* not a verdict: the number of them (for counter tables) */
} IpReassVerdict;

/* Accounting costs, in bytes (see above). */
#define IP_REASS_BLOCK_COST 128u
#define IP_REASS_FRAG_COST 64u
#define IP_REASS_DGRAM_COST 256u

/* The most fragments a datagram can have: 65535 bytes in pieces of 8. */
#define IP_REASS_MAX_FRAGS 8192u

typedef struct _IpReass IpReass;

/* A new, empty table.  max_bytes bounds ip_reass_bytes(); max_datagrams the
 * incomplete datagrams held; timeout_ns is the reassembly timeout (RFC 1122
 * §3.3.2; ip uses 30 s) counted from a datagram's first arriving fragment. */
IpReass *ip_reass_new(guint64 max_bytes, guint max_datagrams, guint64 timeout_ns);
/* Frees the table and every fragment it holds.  NULL is allowed. */
void ip_reass_free(IpReass *r);

/* Bounds the fragments held per datagram (1 .. IP_REASS_MAX_FRAGS, the
 * default); a fragment beyond it drops its datagram with IP_REASS_LIMIT.  A
 * low bound (FreeBSD uses 16) caps the cost of inserting into one datagram. */
void ip_reass_set_max_frags(IpReass *r, guint max_frags);

/* Takes one fragment and consumes it in every case.  mp is an M_DATA chain
 * (blocks may be shared: none with db_ref > 1 is written) starting at an
 * IPv4 header the caller has checked: version 4, IHL >= 5, checksum good,
 * total length == msgdsize(mp), and MF set or offset != 0 (violations give
 * IP_REASS_BAD).  The key is (src, dst, id, protocol).  Returns the whole
 * datagram when this fragment completes it (*verdict IP_REASS_DONE): the
 * first fragment's header, options included, with total length, flags and
 * offset (MF and offset cleared, DF and the reserved bit as received) and
 * checksum fixed, followed by the data in order, in several blocks.
 * Otherwise NULL, and *verdict says what happened.  now_ns is the caller's
 * clock; it should not go backwards. */
mblk_t *ip_reass_input(IpReass *r, mblk_t *mp, guint64 now_ns, IpReassVerdict *verdict);

/* Removes every datagram whose deadline (first fragment's arrival +
 * timeout_ns) is <= now_ns, oldest first.  For each one holding its offset-0
 * fragment, cb (may be NULL) gets a copy of that fragment, header and data,
 * which cb must free (for ICMP time exceeded code 1, RFC 792, RFC 1122
 * §3.3.2); when the copy cannot be allocated cb is not called.  cb may use
 * the table but not free it.  Returns the number of datagrams removed. */
guint ip_reass_expire(IpReass *r, guint64 now_ns, void (*cb)(mblk_t *first, gpointer data),
		      gpointer data);
/* The earliest deadline of the datagrams held (the time at which
 * ip_reass_expire() removes one), G_MAXUINT64 when none. */
guint64 ip_reass_next_deadline(const IpReass *r);

/* Bytes accounted now (rule above). */
guint64 ip_reass_bytes(const IpReass *r);
/* Incomplete datagrams held. */
guint ip_reass_count(const IpReass *r);
/* Datagrams evicted so far to make room for others (max_bytes or
 * max_datagrams); not counting timeouts or the datagram a verdict drops. */
guint64 ip_reass_evicted(const IpReass *r);

/* A short lower-case name for a verdict ("kept", "overlap" ...), for logs
 * and statistic names. */
const char *ip_reass_verdict_name(IpReassVerdict v);

G_END_DECLS

#endif /* USTREAMS_IP_REASS_H */
