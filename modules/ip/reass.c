/* SPDX-License-Identifier: MIT */
/*
 * reass.c -- IPv4 fragment reassembly for the ip driver, sans-I/O: fragments
 * and the caller's clock in, whole datagrams and expiry notices out.
 *
 * Read first
 * ----------
 *   RFC 791 §3.2    the reassembly procedure (key, offsets, MF, first header)
 *   RFC 815         hole descriptors; here reduced to a byte count (below)
 *   RFC 1122 §3.3.2 reassembly MUST be done; fixed timeout; ICMP time exceeded
 *   RFC 792         time exceeded code 1 (fragment reassembly time exceeded)
 *   RFC 1858        overlapping-fragment attacks on filters
 *   RFC 5722        (IPv6) overlapping fragments drop the whole datagram
 *   RFC 4963, 8900  why fragments are fragile: id wrap, memory attacks
 *
 * Theory
 * ------
 * The table is a GHashTable from the RFC 791 key (source, destination,
 * identification, protocol) to a datagram record; the key lives in the
 * record.  Each record holds:
 *   - its fragments, a singly linked list sorted by offset, with a tail
 *     pointer.  Invariant: held fragments never overlap (a fragment that
 *     would overlap is either dropped as a duplicate or drops the datagram).
 *     The offset-0 fragment keeps its IP header (fr_skip bytes at its head);
 *     every other fragment's header is cut off on arrival by moving b_rptr,
 *     or freeing blocks that held only header bytes.
 *   - the data bytes held, the highest end seen, and the datagram's length
 *     once a fragment without MF arrived.  Because fragments never overlap,
 *     "first held, last seen and held == length" means there is no hole:
 *     RFC 815's hole list collapses to one counter.
 *   - its place in an intrusive doubly linked age list ordered by the
 *     arrival time of the datagram's first fragment, oldest first.  Expiry
 *     pops from the old end; so does eviction.
 *
 * On completion the fragment chains are linked in order behind the first
 * fragment's header.  No payload byte is copied: only when the header's
 * block is shared (db_ref > 1) or the header spans blocks does it get a
 * fresh block (the header bytes are copied, at most 60).
 *
 * Overlaps.  RFC 791 lets later data overwrite earlier data.  Overlapping
 * fragments are how filters are evaded (RFC 1858) and no correct sender
 * produces differing overlaps, so, as RFC 5722 requires for IPv6 and modern
 * IPv4 stacks do, a fragment that overlaps held data drops itself and the
 * whole datagram (IP_REASS_OVERLAP), with one exception: a fragment whose
 * every byte is already held, with the same values, is a harmless duplicate
 * (IP_REASS_DUP) and is dropped alone.  Exact repeats are the common case;
 * the same data cut differently (held [0,16), new [8,16) equal) is too.
 *
 * Limits.  Before a fragment is stored, the table makes room for its cost
 * (accounting rule in reass.h) and, for a new datagram, for one more
 * datagram: it evicts the oldest incomplete datagrams other than the one
 * being added to, counting them in ip_reass_evicted().  If there is still
 * no room (the datagram alone costs more than max_bytes, max_datagrams is
 * 0) or the datagram already holds max_frags fragments, the fragment and
 * its datagram are dropped: IP_REASS_LIMIT.  The check counts the fragment
 * even when it completes the datagram, so a datagram is reassembled only if
 * all of it fits under max_bytes at once.
 *
 * Complexity (n: fragments held by the datagram, at most max_frags):
 *   lookup           O(1) expected; the table holds <= max_datagrams keys
 *   insert position  O(1) for in-order and reverse-order arrival (tail and
 *                    head are checked first), O(n) otherwise
 *   duplicate check  O(bytes compared + blocks skipped)
 *   completion       O(n + blocks)
 *   expiry/eviction  O(1) per datagram removed, plus freeing its blocks
 *
 * The table reports, it does not count drops: every call returns a verdict
 * and the ip driver counts them per reason (us_drop) and sends ICMP.
 *
 * Deviations
 * ----------
 *  - Overlaps drop the datagram instead of overwriting (above).
 *  - The timeout is fixed and runs from the first fragment's arrival (RFC
 *    1122 §3.3.2 "fixed value"), not RFC 791's max(timer, TTL) reset on
 *    every fragment; a datagram expires AT its deadline (now >= arrival +
 *    timeout), so a timer armed at ip_reass_next_deadline() always removes
 *    something.
 *  - Only key, offset, MF and length are read from the headers of non-first
 *    fragments; the result carries the first fragment's header as RFC 791
 *    says.  ECN marks of other fragments are not merged (RFC 3168 §5.3).
 *  - "Too big" is judged on the result: first fragment's header length
 *    (20 until it arrives) + data length > 65535.
 *  - A fragment with MF ending exactly at the known end is not refused as
 *    inconsistent; it necessarily overlaps the last fragment and is judged
 *    as a duplicate or an overlap (as Linux does).
 */
#include "reass.h"

#include "inet-cksum.h"

#include <string.h>

/* IPv4 header layout (RFC 791 §3.1); read at fixed offsets. */
#define REASS_IP_MIN_HLEN 20u
#define REASS_IP_MAX_HLEN 60u
#define REASS_IP_MAX_LEN 65535u
#define REASS_IP_OFF_TOTLEN 2
#define REASS_IP_OFF_ID 4
#define REASS_IP_OFF_FRAG 6
#define REASS_IP_OFF_PROTO 9
#define REASS_IP_OFF_CKSUM 10
#define REASS_IP_OFF_SRC 12
#define REASS_IP_OFF_DST 16
#define REASS_IP_MF 0x2000u
#define REASS_IP_OFFMASK 0x1fffu

/* The RFC 791 reassembly key.  Addresses as stored (network order). */
typedef struct {
	guint32 k_src;
	guint32 k_dst;
	guint16 k_id;
	guint8 k_proto;
} IpReassKey;

typedef struct _IpReassFrag IpReassFrag;
struct _IpReassFrag {
	IpReassFrag *fr_next; /* the fragment at the next higher offset */
	mblk_t *fr_mp;        /* fr_skip header bytes, then exactly fr_end - fr_off data bytes */
	guint32 fr_off;       /* offset of the first data byte in the datagram */
	guint32 fr_end;       /* offset one past the last data byte */
	guint32 fr_skip;      /* header length for the offset-0 fragment, else 0 */
	guint64 fr_cost;      /* bytes accounted for this fragment */
};

typedef struct _IpReassDgram IpReassDgram;
struct _IpReassDgram {
	IpReassKey rd_key;      /* hash key (the table points at it) */
	IpReassDgram *rd_older; /* age list: toward ir_oldest */
	IpReassDgram *rd_newer; /* age list: toward ir_newest */
	guint64 rd_arrival;     /* now_ns of the first fragment to arrive */
	IpReassFrag *rd_frags;  /* fragments by offset, never overlapping */
	IpReassFrag *rd_tail;   /* last of rd_frags */
	IpReassFrag *rd_first;  /* the offset-0 fragment, or NULL */
	guint rd_nfrags;        /* fragments in rd_frags */
	guint32 rd_held;        /* data bytes held (headers excluded) */
	guint32 rd_maxend;      /* highest fr_end held */
	guint32 rd_total;       /* data length of the datagram, if rd_have_last */
	gboolean rd_have_last;  /* a fragment without MF arrived */
	guint64 rd_cost;        /* bytes accounted: fragments + IP_REASS_DGRAM_COST */
};

struct _IpReass {
	GHashTable *ir_table;    /* IpReassKey * -> IpReassDgram *, incomplete datagrams */
	IpReassDgram *ir_oldest; /* age list head: first to expire or be evicted */
	IpReassDgram *ir_newest; /* age list tail */
	guint64 ir_max_bytes;    /* bound on ir_bytes */
	guint ir_max_dgrams;     /* bound on the table's size */
	guint ir_max_frags;      /* bound on rd_nfrags */
	guint64 ir_timeout;      /* reassembly timeout, ns */
	guint64 ir_bytes;        /* sum of rd_cost */
	guint64 ir_evicted;      /* datagrams evicted for room */
};

/* What the header of an arriving fragment says. */
typedef struct {
	IpReassKey fi_key;
	guint32 fi_hlen; /* header length */
	guint32 fi_off;  /* data offset in bytes */
	guint32 fi_end;  /* fi_off + data length */
	gboolean fi_mf;  /* more fragments */
} IpReassFragInfo;

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static guint
reass_key_hash(gconstpointer p)
{
	const IpReassKey *k = p;
	guint64 h = ((guint64)k->k_src << 32 | k->k_dst) * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15);
	h ^= ((guint64)k->k_id << 8 | k->k_proto) * G_GUINT64_CONSTANT(0xc2b2ae3d27d4eb4f);
	return (guint)(h >> 32) ^ (guint)h;
}

static gboolean
reass_key_equal(gconstpointer a, gconstpointer b)
{
	const IpReassKey *x = a, *y = b;
	return x->k_src == y->k_src && x->k_dst == y->k_dst && x->k_id == y->k_id &&
	       x->k_proto == y->k_proto;
}

static guint16
reass_get16(const guint8 *p)
{
	return (guint16)(p[0] << 8 | p[1]);
}

static void
reass_put16(guint8 *p, guint16 v)
{
	p[0] = (guint8)(v >> 8);
	p[1] = (guint8)v;
}

/* a + b, or G_MAXUINT64 when that overflows. */
static guint64
reass_sat_add(guint64 a, guint64 b)
{
	return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

static guint64
reass_deadline(const IpReass *r, const IpReassDgram *rd)
{
	return reass_sat_add(rd->rd_arrival, r->ir_timeout);
}

/* Reads the fragment's header (mp is not consumed).  Checks again what the
 * caller promised, since a wrong length would make us read past the chain;
 * IP_REASS_KEPT means "valid". */
static IpReassVerdict
reass_parse(const mblk_t *mp, IpReassFragInfo *fi)
{
	size_t bytes = 0;
	for (const mblk_t *b = mp; b != NULL; b = b->b_cont) {
		if (DB_TYPE(b) != M_DATA)
			return IP_REASS_BAD;
		bytes += MBLKL(b);
	}
	guint8 h[REASS_IP_MAX_HLEN];
	if (bytes < REASS_IP_MIN_HLEN || bytes > REASS_IP_MAX_LEN)
		return IP_REASS_BAD;
	us_msgcopyout(mp, 0, h, MIN(bytes, sizeof h));
	guint32 hlen = (h[0] & 0x0fu) * 4u;
	if ((h[0] >> 4) != 4 || hlen < REASS_IP_MIN_HLEN || hlen > bytes ||
	    reass_get16(h + REASS_IP_OFF_TOTLEN) != bytes)
		return IP_REASS_BAD;
	guint16 frag = reass_get16(h + REASS_IP_OFF_FRAG);
	fi->fi_hlen = hlen;
	fi->fi_mf = (frag & REASS_IP_MF) != 0;
	fi->fi_off = (frag & REASS_IP_OFFMASK) * 8u;
	fi->fi_end = fi->fi_off + (guint32)(bytes - hlen);
	memcpy(&fi->fi_key.k_src, h + REASS_IP_OFF_SRC, 4);
	memcpy(&fi->fi_key.k_dst, h + REASS_IP_OFF_DST, 4);
	fi->fi_key.k_id = reass_get16(h + REASS_IP_OFF_ID);
	fi->fi_key.k_proto = h[REASS_IP_OFF_PROTO];
	/* RFC 791 §3.2: every fragment but the last carries a multiple of 8. */
	if ((!fi->fi_mf && fi->fi_off == 0) || fi->fi_end == fi->fi_off ||
	    (fi->fi_mf && (fi->fi_end - fi->fi_off) % 8u != 0))
		return IP_REASS_BAD;
	return IP_REASS_KEPT;
}

/* Cuts n bytes off the head of mp (consumed), freeing blocks left empty
 * before the cut; returns the new head.  The chain must hold more than n. */
static mblk_t *
reass_trim_head(mblk_t *mp, size_t n)
{
	while (n > 0) {
		size_t l = MBLKL(mp);
		if (l > n) {
			mp->b_rptr += n; /* per-mblk window: fine on shared blocks */
			break;
		}
		n -= l;
		mblk_t *next = mp->b_cont;
		freeb(mp);
		mp = next;
	}
	return mp;
}

/* Moves *mpp and *offp forward until *offp lies inside *mpp (skipping
 * empty blocks); FALSE when the chain ends first. */
static gboolean
reass_seek(const mblk_t **mpp, size_t *offp)
{
	while (*mpp != NULL && *offp >= MBLKL(*mpp)) {
		*offp -= MBLKL(*mpp);
		*mpp = (*mpp)->b_cont;
	}
	return *mpp != NULL;
}

/* TRUE when len bytes of chain a from aoff equal those of chain b from
 * boff; FALSE also when either chain is too short. */
static gboolean
reass_bytes_equal(const mblk_t *a, size_t aoff, const mblk_t *b, size_t boff, size_t len)
{
	while (len > 0) {
		if (!reass_seek(&a, &aoff) || !reass_seek(&b, &boff))
			return FALSE;
		size_t n = MIN(MIN(MBLKL(a) - aoff, MBLKL(b) - boff), len);
		if (memcmp(a->b_rptr + aoff, b->b_rptr + boff, n) != 0)
			return FALSE;
		aoff += n;
		boff += n;
		len -= n;
	}
	return TRUE;
}

/* The accounted cost of a fragment chain as it will be held. */
static guint64
reass_frag_cost(const mblk_t *mp)
{
	guint64 cost = IP_REASS_FRAG_COST;
	for (; mp != NULL; mp = mp->b_cont)
		cost += MBLKL(mp) + IP_REASS_BLOCK_COST;
	return cost;
}

/* ------------------------------------------------------------------ */
/* Datagram records                                                   */
/* ------------------------------------------------------------------ */

/* Inserts rd in the age list by arrival; a clock that does not go back
 * makes this O(1) (append). */
static void
reass_age_insert(IpReass *r, IpReassDgram *rd)
{
	IpReassDgram *older = r->ir_newest;
	while (older != NULL && older->rd_arrival > rd->rd_arrival)
		older = older->rd_older;
	rd->rd_older = older;
	rd->rd_newer = older != NULL ? older->rd_newer : r->ir_oldest;
	if (rd->rd_newer != NULL)
		rd->rd_newer->rd_older = rd;
	else
		r->ir_newest = rd;
	if (older != NULL)
		older->rd_newer = rd;
	else
		r->ir_oldest = rd;
}

static void
reass_age_remove(IpReass *r, IpReassDgram *rd)
{
	if (rd->rd_older != NULL)
		rd->rd_older->rd_newer = rd->rd_newer;
	else
		r->ir_oldest = rd->rd_newer;
	if (rd->rd_newer != NULL)
		rd->rd_newer->rd_older = rd->rd_older;
	else
		r->ir_newest = rd->rd_older;
}

static IpReassDgram *
reass_dgram_new(IpReass *r, const IpReassKey *key, guint64 now_ns)
{
	IpReassDgram *rd = g_try_new0(IpReassDgram, 1);
	if (rd == NULL)
		return NULL;
	rd->rd_key = *key;
	rd->rd_arrival = now_ns;
	rd->rd_cost = IP_REASS_DGRAM_COST;
	r->ir_bytes += rd->rd_cost;
	g_hash_table_insert(r->ir_table, &rd->rd_key, rd);
	reass_age_insert(r, rd);
	return rd;
}

/* Removes rd from the table and frees it with the fragments it still holds
 * (chains already handed out are NULL). */
static void
reass_dgram_drop(IpReass *r, IpReassDgram *rd)
{
	g_hash_table_remove(r->ir_table, &rd->rd_key);
	reass_age_remove(r, rd);
	r->ir_bytes -= rd->rd_cost;
	IpReassFrag *f = rd->rd_frags;
	while (f != NULL) {
		IpReassFrag *next = f->fr_next;
		freemsg(f->fr_mp);
		g_free(f);
		f = next;
	}
	g_free(rd);
}

/* Evicts the oldest datagrams other than keep until cost more bytes and
 * new_dgram more datagrams fit; FALSE when they cannot. */
static gboolean
reass_make_room(IpReass *r, const IpReassDgram *keep, guint64 cost, gboolean new_dgram)
{
	for (;;) {
		guint count = g_hash_table_size(r->ir_table);
		gboolean count_ok = !new_dgram || count < r->ir_max_dgrams;
		gboolean bytes_ok =
			cost <= r->ir_max_bytes && r->ir_bytes <= r->ir_max_bytes - cost;
		if (count_ok && bytes_ok)
			return TRUE;
		IpReassDgram *victim = r->ir_oldest;
		if (victim == keep && victim != NULL)
			victim = victim->rd_newer;
		if (victim == NULL)
			return FALSE;
		reass_dgram_drop(r, victim);
		r->ir_evicted++;
	}
}

/* ------------------------------------------------------------------ */
/* Placing a fragment                                                 */
/* ------------------------------------------------------------------ */

/* Checks fi against what rd (may be NULL) already knows.  Anything but
 * IP_REASS_KEPT drops the datagram. */
static IpReassVerdict
reass_check(const IpReassDgram *rd, const IpReassFragInfo *fi)
{
	guint32 hlen = REASS_IP_MIN_HLEN;
	if (fi->fi_off == 0)
		hlen = fi->fi_hlen;
	else if (rd != NULL && rd->rd_first != NULL)
		hlen = rd->rd_first->fr_skip;
	guint32 maxend = MAX(fi->fi_end, rd != NULL ? rd->rd_maxend : 0);
	if (hlen + maxend > REASS_IP_MAX_LEN) /* RFC 791 §3.1: total length is 16 bits */
		return IP_REASS_TOO_BIG;
	if (rd == NULL)
		return IP_REASS_KEPT;
	if (!fi->fi_mf) {
		/* A second last fragment must agree; data past the end must not be held. */
		if (rd->rd_have_last ? fi->fi_end != rd->rd_total : fi->fi_end < rd->rd_maxend)
			return IP_REASS_BAD;
	} else if (rd->rd_have_last && fi->fi_end > rd->rd_total) {
		return IP_REASS_BAD;
	}
	return IP_REASS_KEPT;
}

/* The link before which a fragment starting at off goes: the first held
 * fragment ending after off (every fragment before it ends at or before
 * off, by the no-overlap invariant). */
static IpReassFrag **
reass_find_link(IpReassDgram *rd, guint32 off)
{
	if (rd->rd_tail == NULL || rd->rd_tail->fr_end <= off)
		return rd->rd_tail != NULL ? &rd->rd_tail->fr_next : &rd->rd_frags;
	IpReassFrag **link = &rd->rd_frags;
	while ((*link)->fr_end <= off) /* stops at the tail at the latest */
		link = &(*link)->fr_next;
	return link;
}

/* Judges a fragment that overlaps held data (f: the first held fragment
 * ending after fi_off): IP_REASS_DUP when the held fragments cover
 * [fi_off, fi_end) without a gap and hold the same bytes as mp (whose data
 * starts at skip), else IP_REASS_OVERLAP. */
static IpReassVerdict
reass_classify_overlap(const IpReassFrag *f, const IpReassFragInfo *fi, const mblk_t *mp,
		       size_t skip)
{
	if (f->fr_off > fi->fi_off)
		return IP_REASS_OVERLAP; /* new data in front of f */
	guint32 pos = fi->fi_off;
	for (;;) {
		guint32 stop = MIN(f->fr_end, fi->fi_end);
		if (!reass_bytes_equal(mp, skip + (pos - fi->fi_off), f->fr_mp,
				       f->fr_skip + (pos - f->fr_off), stop - pos))
			return IP_REASS_OVERLAP;
		pos = stop;
		if (pos == fi->fi_end)
			return IP_REASS_DUP;
		f = f->fr_next;
		if (f == NULL || f->fr_off != pos)
			return IP_REASS_OVERLAP; /* a gap: the fragment has new data */
	}
}

/* Links frag in at link and updates rd's summary. */
static void
reass_insert(IpReass *r, IpReassDgram *rd, IpReassFrag **link, IpReassFrag *frag,
	     const IpReassFragInfo *fi)
{
	frag->fr_next = *link;
	*link = frag;
	if (frag->fr_next == NULL)
		rd->rd_tail = frag;
	if (frag->fr_off == 0)
		rd->rd_first = frag;
	if (!fi->fi_mf) {
		rd->rd_have_last = TRUE;
		rd->rd_total = fi->fi_end;
	}
	rd->rd_nfrags++;
	rd->rd_held += frag->fr_end - frag->fr_off;
	rd->rd_maxend = MAX(rd->rd_maxend, frag->fr_end);
	rd->rd_cost += frag->fr_cost;
	r->ir_bytes += frag->fr_cost;
}

/* ------------------------------------------------------------------ */
/* Completion                                                         */
/* ------------------------------------------------------------------ */

/* Makes the first block of first's chain a writable block holding the
 * whole header, copying the header into a fresh block when the block is
 * shared or too short.  FALSE (chain unchanged) when that allocation fails. */
static gboolean
reass_header_writable(IpReassFrag *first)
{
	mblk_t *mp = first->fr_mp;
	size_t hlen = first->fr_skip;
	if (DB_REF(mp) == 1 && MBLKL(mp) >= hlen)
		return TRUE;
	mblk_t *hp = allocb(hlen, BPRI_MED);
	if (hp == NULL)
		return FALSE;
	hp->b_wptr += us_msgcopyout(mp, 0, hp->b_wptr, hlen);
	hp->b_cont = reass_trim_head(mp, hlen);
	first->fr_mp = hp;
	return TRUE;
}

/* Rewrites the first fragment's header into the datagram's (RFC 791 §3.2). */
static void
reass_fix_header(guint8 *h, size_t hlen, guint32 total)
{
	reass_put16(h + REASS_IP_OFF_TOTLEN, (guint16)(hlen + total));
	/* Keep DF and the reserved bit; clear MF and the offset. */
	h[REASS_IP_OFF_FRAG] &= (guint8) ~((REASS_IP_MF | REASS_IP_OFFMASK) >> 8);
	h[REASS_IP_OFF_FRAG + 1] = 0;
	reass_put16(h + REASS_IP_OFF_CKSUM, 0);
	guint16 ck = us_cksum(h, hlen);
	memcpy(h + REASS_IP_OFF_CKSUM, &ck, 2);
}

/* Hands out rd's datagram (rd is complete) and frees rd. */
static mblk_t *
reass_complete(IpReass *r, IpReassDgram *rd, IpReassVerdict *verdict)
{
	IpReassFrag *first = rd->rd_first;
	g_assert(first == rd->rd_frags && rd->rd_held == rd->rd_total);
	if (!reass_header_writable(first)) {
		reass_dgram_drop(r, rd);
		*verdict = IP_REASS_NOMEM;
		return NULL;
	}
	reass_fix_header(first->fr_mp->b_rptr, first->fr_skip, rd->rd_total);
	mblk_t *head = NULL, *tail = NULL;
	for (IpReassFrag *f = rd->rd_frags; f != NULL; f = f->fr_next) {
		mblk_t *mp = g_steal_pointer(&f->fr_mp);
		if (tail != NULL)
			tail->b_cont = mp;
		else
			head = mp;
		for (tail = mp; tail->b_cont != NULL; tail = tail->b_cont)
			;
	}
	reass_dgram_drop(r, rd);
	*verdict = IP_REASS_DONE;
	return head;
}

/* ------------------------------------------------------------------ */
/* Public API                                                         */
/* ------------------------------------------------------------------ */

IpReass *
ip_reass_new(guint64 max_bytes, guint max_datagrams, guint64 timeout_ns)
{
	IpReass *r = g_new0(IpReass, 1);
	r->ir_table = g_hash_table_new(reass_key_hash, reass_key_equal);
	r->ir_max_bytes = max_bytes;
	r->ir_max_dgrams = max_datagrams;
	r->ir_max_frags = IP_REASS_MAX_FRAGS;
	r->ir_timeout = timeout_ns;
	return r;
}

void
ip_reass_free(IpReass *r)
{
	if (r == NULL)
		return;
	while (r->ir_oldest != NULL)
		reass_dgram_drop(r, r->ir_oldest);
	g_assert(r->ir_bytes == 0);
	g_hash_table_unref(r->ir_table);
	g_free(r);
}

void
ip_reass_set_max_frags(IpReass *r, guint max_frags)
{
	r->ir_max_frags = CLAMP(max_frags, 1u, IP_REASS_MAX_FRAGS);
}

/* Drops mp with verdict v, and rd (may be NULL) with it when asked. */
static mblk_t *
reass_reject(IpReass *r, IpReassDgram *rd, mblk_t *mp, IpReassVerdict v, IpReassVerdict *verdict)
{
	if (rd != NULL)
		reass_dgram_drop(r, rd);
	freemsg(mp);
	*verdict = v;
	return NULL;
}

mblk_t *
ip_reass_input(IpReass *r, mblk_t *mp, guint64 now_ns, IpReassVerdict *verdict)
{
	IpReassFragInfo fi;
	IpReassVerdict v = reass_parse(mp, &fi);
	if (v != IP_REASS_KEPT)
		return reass_reject(r, NULL, mp, v, verdict);
	IpReassDgram *rd = g_hash_table_lookup(r->ir_table, &fi.fi_key);
	if ((v = reass_check(rd, &fi)) != IP_REASS_KEPT)
		return reass_reject(r, rd, mp, v, verdict);
	IpReassFrag **link = NULL;
	if (rd != NULL) {
		link = reass_find_link(rd, fi.fi_off);
		if (*link != NULL && (*link)->fr_off < fi.fi_end) {
			v = reass_classify_overlap(*link, &fi, mp, fi.fi_hlen);
			return reass_reject(r, v == IP_REASS_DUP ? NULL : rd, mp, v, verdict);
		}
		if (rd->rd_nfrags >= r->ir_max_frags)
			return reass_reject(r, rd, mp, IP_REASS_LIMIT, verdict);
	}
	size_t skip = fi.fi_off == 0 ? fi.fi_hlen : 0;
	if (skip == 0)
		mp = reass_trim_head(mp, fi.fi_hlen);
	guint64 cost = reass_frag_cost(mp);
	if (!reass_make_room(r, rd, cost + (rd == NULL ? IP_REASS_DGRAM_COST : 0), rd == NULL))
		return reass_reject(r, rd, mp, IP_REASS_LIMIT, verdict);
	IpReassFrag *frag = g_try_new0(IpReassFrag, 1);
	if (frag == NULL || (rd == NULL && (rd = reass_dgram_new(r, &fi.fi_key, now_ns)) == NULL)) {
		g_free(frag);
		return reass_reject(r, NULL, mp, IP_REASS_NOMEM, verdict);
	}
	frag->fr_mp = g_steal_pointer(&mp);
	frag->fr_off = fi.fi_off;
	frag->fr_end = fi.fi_end;
	frag->fr_skip = (guint32)skip;
	frag->fr_cost = cost;
	reass_insert(r, rd, link != NULL ? link : &rd->rd_frags, frag, &fi);
	if (rd->rd_first != NULL && rd->rd_have_last && rd->rd_held == rd->rd_total)
		return reass_complete(r, rd, verdict);
	*verdict = IP_REASS_KEPT;
	return NULL;
}

guint
ip_reass_expire(IpReass *r, guint64 now_ns, void (*cb)(mblk_t *first, gpointer data), gpointer data)
{
	guint removed = 0;
	IpReassDgram *rd;
	while ((rd = r->ir_oldest) != NULL && reass_deadline(r, rd) <= now_ns) {
		/* Copied before the drop, handed over after it, so that cb
		 * sees a consistent table. */
		mblk_t *copy = NULL;
		if (cb != NULL && rd->rd_first != NULL)
			copy = copymsg(rd->rd_first->fr_mp);
		reass_dgram_drop(r, rd);
		removed++;
		if (copy != NULL)
			cb(copy, data);
	}
	return removed;
}

guint64
ip_reass_next_deadline(const IpReass *r)
{
	return r->ir_oldest != NULL ? reass_deadline(r, r->ir_oldest) : G_MAXUINT64;
}

guint64
ip_reass_bytes(const IpReass *r)
{
	return r->ir_bytes;
}

guint
ip_reass_count(const IpReass *r)
{
	return g_hash_table_size(r->ir_table);
}

guint64
ip_reass_evicted(const IpReass *r)
{
	return r->ir_evicted;
}

const char *
ip_reass_verdict_name(IpReassVerdict v)
{
	static const char *const names[IP_REASS_N_VERDICTS] = {
		[IP_REASS_KEPT] = "kept",       [IP_REASS_DONE] = "done",
		[IP_REASS_DUP] = "dup",         [IP_REASS_OVERLAP] = "overlap",
		[IP_REASS_TOO_BIG] = "too-big", [IP_REASS_BAD] = "bad",
		[IP_REASS_LIMIT] = "limit",     [IP_REASS_NOMEM] = "nomem",
	};
	return (guint)v < IP_REASS_N_VERDICTS ? names[v] : "?";
}
