/* SPDX-License-Identifier: MIT */
/*
 * route.c -- the IPv4 routing table of the ip driver (contract in route.h).
 *
 * Theory
 * ------
 * Two structures hold the same prefixes:
 *
 *   - the ORDERED SET: a GTree of IpRtPrefix sorted by (dst, plen).  Each
 *     prefix owns its routes in an array sorted by metric, equal metrics in
 *     the order added, so element 0 is the prefix's best route.  Exact
 *     lookups, the walk, metrics and ties are answered here; it is the truth
 *     the fast structure is derived from.
 *
 *   - the FAST STRUCTURE, mapping an address to the id of its longest
 *     matching prefix.  Ids are small integers, reused after a delete;
 *     rt_best[id] is a copy of the prefix's best route, kept in step with
 *     the route array, so a lookup ends in that dense array rather than
 *     chasing a pointer to wherever the prefix was allocated.  Id 0 is
 *     reserved for the /0 prefix: "no prefix matched" and "the default
 *     route" are the same answer, NULL when there is no /0.
 *
 * The fast structure is a three-level multibit trie with strides 16-8-8:
 *
 *     root: 2^16 entries, indexed by addr bits 31..16, holding prefixes /1-/16
 *     L2 chunk: 256 slots per /16, indexed by bits 15..8, for /17-/24
 *     L3 chunk: 256 slots per /24, indexed by bits 7..0,  for /25-/32
 *
 * Every prefix lives at the one level its length falls in and is EXPANDED
 * there (controlled prefix expansion): a /20 fills the 16 L2 slots it covers,
 * except slots already taken by a longer prefix of the same level.  A LEAF
 * (uint32_t) is id << 7 | plen << 1, 0 meaning no prefix at this level;
 * carrying the length lets an update compare lengths without loading the
 * prefix, and bit 0 stays free to tag the other kind of L2 value.  Prefixes
 * are NOT pushed into lower levels: a root entry holds its /1-/16 leaf and,
 * separately, the L2 chunk of the /16 if there is one; an L2 slot holds a
 * leaf or refers to an L3 chunk (bit 0 set), and an L3 chunk keeps in ck_def
 * the leaf its L2 slot would hold.  A lookup falls back to the level above
 * when a level has no leaf:
 *
 *     e = root[a >> 16]            no chunk -> e.leaf
 *     v = L2[(a >> 8) & 255]       0 -> e.leaf; chunk -> k = that L3 chunk:
 *     w = k[a & 255]               0 -> k.def (and 0 -> e.leaf)
 *
 * so a lookup is two to four dependent loads (root, L2 header and slot,
 * rt_best), five or six when a /25-/32 is involved.
 *
 * Chunks are COMPRESSED.  A /16 holding a few longer prefixes has a few runs
 * of equal slots, so a chunk stores one value per run and a 256-bit map with
 * bit s set where a run starts at slot s (Lulea/Poptrie-style): the value of
 * slot s is val[base[s / 64] + popcount(bm[s / 64] & bits 0..s) - 1], base[w]
 * counting the runs that start before word w.  The 44-byte header and the
 * 4-byte values are allocated in whole, aligned cache lines, so a chunk of
 * up to five runs (most of them) is one line and a lookup touches one line
 * per level; an L2 value referring to an L3 chunk holds its index in a
 * pointer array after the values.  This keeps 100k random prefixes in about
 * 4.5 MB of chunks (cache- and TLB-friendly) where plain 256-entry arrays
 * would take 50.
 *
 * Updates (add or delete of prefix P, length L, leaf id):
 *
 *   - A prefix that already exists only changes its route array and the
 *     copy in rt_best[id]; the trie is untouched.
 *   - New prefix: at its level, every slot of P's range whose leaf (in the
 *     slot, or in ck_def of the L3 chunk below it) is shorter than L becomes
 *     P.  Slots held by longer prefixes stay: they are more specific.
 *   - Removed prefix: every slot of its range whose leaf is P takes P's
 *     PARENT at that level: the longest prefix of length in the level's
 *     range and shorter than L that covers P, found by probing the ordered
 *     set for each shorter length (lengths with no prefix are skipped), or 0.
 *     This is exact because prefixes nest: anything shorter than P covering
 *     one address of P covers all of it.
 *   - In a chunk this is done on a decoded copy (256 slots, L3 chunks as
 *     tagged pointers): decode, paint, encode again, in place when the
 *     number of runs and L3 chunks is unchanged.  A /17-/24 change touches
 *     one L2 chunk (and ck_defs of its L3 chunks), a /25-/32 change one L3
 *     chunk and its L2 parent, a /1-/16 change the leaves of 2^(16-L)
 *     consecutive root entries, never a chunk.  /0 costs nothing.
 *   - A chunk whose slots are all 0 after a change holds nothing at its level
 *     or below: it is freed and its parent slot reverts to the leaf above.
 *
 * Small tables (at most RT_SMALL_MAX prefixes besides /0, the usual case of a
 * host's stack) have no trie: a lookup scans a short array sorted by length,
 * longest first, and the 1 MB root is never allocated.  The trie is built
 * from the ordered set when the array overflows and dropped again below half
 * of it, so a table oscillating around the limit does not rebuild each time.
 *
 * Costs with 100k random prefixes (bench/bench-route.c): a lookup about
 * 20-30 ns, an update a few microseconds (a /1, 32768 root entries, about
 * 25), 18 MB of which the trie is 5.5 (root 1, chunks 4.5); the ordered set
 * and the route copies take the rest.
 */
#include "route.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Small tables scan this many prefixes (plus /0) before a trie is built. */
#define RT_SMALL_MAX 16

#define RT_ROOT_BITS 16
#define RT_ROOT_SLOTS (1u << RT_ROOT_BITS)
#define RT_CHUNK_SLOTS 256

/* Approximate size of a GTree node, for ip_rt_memory(). */
#define RT_TREE_NODE_BYTES (4 * sizeof(gpointer) + 8)

/* A prefix and its routes (a node of the ordered set). */
typedef struct {
	uint32_t px_dst;   /* host order, host bits zero */
	uint8_t px_plen;   /* 0..32 */
	guint32 px_id;     /* leaf id: index in rt_best (0 for /0) */
	guint px_n;        /* routes in px_route (>= 1) */
	IpRoute *px_route; /* sorted by metric, equal metrics oldest first */
} IpRtPrefix;

/* A compressed 256-slot trie node (see the theory), 64-byte aligned so that
 * the header and the first five values share one cache line.  An L2 chunk's
 * values are followed, pointer-aligned, by IpRtChunk *kid[ck_nkid]. */
typedef struct IpRtChunk IpRtChunk;
struct IpRtChunk {
	uint64_t ck_bm[4];  /* bit s: a run of equal slots starts at slot s */
	uint8_t ck_base[4]; /* runs starting before word w (at most 192) */
	uint16_t ck_nval;   /* runs, i.e. values in ck_val */
	uint16_t ck_nkid;   /* L2: L3 chunks in the array after ck_val */
	uint32_t ck_def;    /* L3: the leaf of the parent L2 slot (L2: 0) */
	uint32_t ck_val[];  /* per run: a leaf, or (L2) kid index << 1 | 1 */
};

/* A root entry: one /16. */
typedef struct {
	IpRtChunk *re_child; /* the /17-/32 prefixes inside this /16, or NULL */
	uint32_t re_leaf;    /* the longest /1-/16 prefix covering it, or 0 */
} IpRtRoot;

/* An entry of the small-table array. */
typedef struct {
	uint32_t sm_dst;
	uint32_t sm_mask;
	guint32 sm_id;
	uint8_t sm_plen;
} IpRtSmall;

struct _IpRouteTable {
	IpRtRoot *rt_root;                /* 2^16 entries, NULL while the table is small */
	IpRoute *rt_best;                 /* leaf id -> copy of the prefix's best route */
	guint32 rt_nid;                   /* capacity of rt_best */
	guint32 rt_next_id;               /* ids below were handed out at least once */
	GArray *rt_free_id;               /* guint32 ids to reuse */
	GTree *rt_tree;                   /* the ordered set: IpRtPrefix by (dst, plen) */
	guint rt_nlen[33];                /* prefixes of each length */
	guint rt_nprefix;                 /* prefixes other than /0 */
	guint rt_count;                   /* routes */
	guint rt_max;                     /* 0 = unbounded */
	guint64 rt_gen;                   /* bumped by every successful add/del */
	gsize rt_chunk_bytes;             /* bytes held by chunks */
	guint rt_nsmall;                  /* entries in rt_small while rt_root is NULL */
	IpRtSmall rt_small[RT_SMALL_MAX]; /* longest prefix first */
};

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static inline uint32_t
rt_mask(guint plen)
{
	return plen ? ~(uint32_t)0 << (32 - plen) : 0;
}

static inline guint
rt_popcount64(uint64_t x)
{
#if defined(__GNUC__) && (defined(__POPCNT__) || !(defined(__x86_64__) || defined(__i386__)))
	return (guint)__builtin_popcountll(x);
#else
	/* x86 without -mpopcnt: the builtin would be a call into libgcc. */
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (guint)((x * 0x0101010101010101ull) >> 56);
#endif
}

#define RT_ID_SHIFT 7
#define RT_ID_MAX (G_MAXUINT32 >> RT_ID_SHIFT)

static inline uint32_t
rt_leaf(const IpRtPrefix *p)
{
	return p->px_id << RT_ID_SHIFT | (uint32_t)p->px_plen << 1;
}

static inline guint
rt_leaf_plen(uint32_t leaf)
{
	return (leaf >> 1) & 63;
}

static inline guint32
rt_leaf_id(uint32_t leaf)
{
	return leaf >> RT_ID_SHIFT;
}

static inline gboolean
rt_is_chunk(uintptr_t e)
{
	return e & 1;
}

static inline IpRtChunk *
rt_chunk(uintptr_t e)
{
	return (IpRtChunk *)(e - 1);
}

static gboolean
rt_prefix_valid(uint32_t dst, guint plen)
{
	return plen <= 32 && (dst & ~rt_mask(plen)) == 0;
}

static gint
rt_prefix_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
	const IpRtPrefix *x = a, *y = b;

	(void)unused;
	if (x->px_dst != y->px_dst)
		return x->px_dst < y->px_dst ? -1 : 1;
	return (gint)x->px_plen - (gint)y->px_plen;
}

static IpRtPrefix *
rt_prefix_find(const IpRouteTable *t, uint32_t dst, guint plen)
{
	IpRtPrefix probe = { .px_dst = dst, .px_plen = (uint8_t)plen };

	return g_tree_lookup(t->rt_tree, &probe);
}

/* ------------------------------------------------------------------ */
/* Compressed chunks                                                  */
/* ------------------------------------------------------------------ */

static inline uint32_t
rt_chunk_get(const IpRtChunk *c, guint s)
{
	guint w = s >> 6;
	uint64_t upto = c->ck_bm[w] << (63 - (s & 63)); /* run starts at 0..s */

	return c->ck_val[c->ck_base[w] + rt_popcount64(upto) - 1];
}

static inline gsize
rt_chunk_kid_offset(guint nval)
{
	gsize end = offsetof(IpRtChunk, ck_val) + nval * sizeof(uint32_t);

	return (end + sizeof(gpointer) - 1) & ~(sizeof(gpointer) - 1);
}

static inline IpRtChunk **
rt_chunk_kids(const IpRtChunk *c)
{
	return (IpRtChunk **)((char *)c + rt_chunk_kid_offset(c->ck_nval));
}

/* Bytes allocated for a chunk: whole cache lines. */
static gsize
rt_chunk_size(guint nval, guint nkid)
{
	return (rt_chunk_kid_offset(nval) + nkid * sizeof(gpointer) + 63) & ~(gsize)63;
}

static IpRtChunk *
rt_chunk_alloc(IpRouteTable *t, guint nval, guint nkid)
{
	gsize size = rt_chunk_size(nval, nkid);
	IpRtChunk *c;
	void *mem;

	if (posix_memalign(&mem, 64, size) != 0)
		g_error("ip route: out of memory for a %zu-byte chunk", size);
	c = mem;
	memset(c, 0, offsetof(IpRtChunk, ck_val));
	c->ck_nval = (uint16_t)nval;
	c->ck_nkid = (uint16_t)nkid;
	t->rt_chunk_bytes += size;
	return c;
}

static void
rt_chunk_free(IpRouteTable *t, IpRtChunk *c)
{
	t->rt_chunk_bytes -= rt_chunk_size(c->ck_nval, c->ck_nkid);
	free(c);
}

/* A chunk whose slots are all 0 (nothing at its level); def is the leaf of
 * the parent slot for an L3 chunk, 0 for an L2 one. */
static IpRtChunk *
rt_chunk_new(IpRouteTable *t, uint32_t def)
{
	IpRtChunk *c = rt_chunk_alloc(t, 1, 0);

	c->ck_bm[0] = 1;
	c->ck_base[1] = c->ck_base[2] = c->ck_base[3] = 1;
	c->ck_def = def;
	c->ck_val[0] = 0;
	return c;
}

/* Expands c into 256 slots: leaves, and L3 chunks as tagged pointers. */
static void
rt_chunk_decode(const IpRtChunk *c, uintptr_t *slot)
{
	IpRtChunk **kid = rt_chunk_kids(c);
	guint v = 0;

	for (guint s = 0; s < RT_CHUNK_SLOTS; s++) {
		uint32_t val;

		v += s && ((c->ck_bm[s >> 6] >> (s & 63)) & 1);
		val = c->ck_val[v];
		slot[s] = val & 1 ? (uintptr_t)kid[val >> 1] | 1 : val;
	}
}

/* Fills c's map, bases, values and kids from 256 slots (c sized for them). */
static void
rt_chunk_fill(IpRtChunk *c, const uintptr_t *slot)
{
	IpRtChunk **kid = rt_chunk_kids(c);
	guint v = 0, k = 0;

	for (guint s = 0; s < RT_CHUNK_SLOTS; s++) {
		if (s && slot[s] == slot[s - 1])
			continue;
		c->ck_bm[s >> 6] |= (uint64_t)1 << (s & 63);
		if (rt_is_chunk(slot[s])) {
			kid[k] = rt_chunk(slot[s]);
			c->ck_val[v++] = k++ << 1 | 1;
		} else {
			c->ck_val[v++] = (uint32_t)slot[s];
		}
	}
	for (guint w = 1; w < 4; w++)
		c->ck_base[w] = (uint8_t)(c->ck_base[w - 1] + rt_popcount64(c->ck_bm[w - 1]));
}

/* The chunk holding 256 slots after a change to old (which is freed), or
 * NULL when every slot is 0: nothing is left at this level or below. */
static IpRtChunk *
rt_chunk_store(IpRouteTable *t, IpRtChunk *old, const uintptr_t *slot)
{
	guint nval = 1, nkid = rt_is_chunk(slot[0]);
	IpRtChunk *c;

	for (guint s = 1; s < RT_CHUNK_SLOTS; s++) {
		if (slot[s] == slot[s - 1])
			continue;
		nval++;
		nkid += rt_is_chunk(slot[s]);
	}
	if (nval == 1 && slot[0] == 0)
		c = NULL;
	else if (nval == old->ck_nval && nkid == old->ck_nkid)
		c = old; /* same size: rewrite in place */
	else
		c = rt_chunk_alloc(t, nval, nkid);
	if (c) {
		c->ck_def = old->ck_def;
		memset(c->ck_bm, 0, sizeof(c->ck_bm));
		rt_chunk_fill(c, slot);
	}
	if (c != old)
		rt_chunk_free(t, old);
	return c;
}

/* Frees c and, for an L2 chunk, its L3 chunks. */
static void
rt_chunk_free_tree(IpRouteTable *t, IpRtChunk *c)
{
	IpRtChunk **kid = rt_chunk_kids(c);

	for (guint i = 0; i < c->ck_nkid; i++)
		rt_chunk_free(t, kid[i]);
	rt_chunk_free(t, c);
}

/* ------------------------------------------------------------------ */
/* Trie updates                                                       */
/* ------------------------------------------------------------------ */

/* The longest prefix covering p with a length in [lo, plen), as a leaf; 0 if
 * none. */
static uint32_t
rt_parent(const IpRouteTable *t, const IpRtPrefix *p, guint lo)
{
	for (guint l = p->px_plen; l-- > lo;) {
		IpRtPrefix *q;

		if (!t->rt_nlen[l])
			continue;
		q = rt_prefix_find(t, p->px_dst & rt_mask(l), l);
		if (q)
			return rt_leaf(q);
	}
	return 0;
}

/* The leaf of one slot of a prefix's range after adding the prefix (leaf)
 * or removing it (falling back to parent). */
static inline uint32_t
rt_painted(uint32_t cur, gboolean add, uint32_t leaf, uint32_t parent)
{
	if (add && rt_leaf_plen(cur) < rt_leaf_plen(leaf))
		return leaf;
	if (!add && cur == leaf)
		return parent;
	return cur;
}

/* Adds or removes a /1-/16 in the leaves of its root entries. */
static void
rt_root_paint(IpRouteTable *t, const IpRtPrefix *p, gboolean add)
{
	guint first = p->px_dst >> 16;
	guint n = 1u << (RT_ROOT_BITS - p->px_plen);
	uint32_t leaf = rt_leaf(p);
	uint32_t parent = add ? 0 : rt_parent(t, p, 1);

	for (IpRtRoot *re = &t->rt_root[first]; re < &t->rt_root[first + n]; re++)
		re->re_leaf = rt_painted(re->re_leaf, add, leaf, parent);
}

/* Adds or removes p in the 256 decoded slots of a chunk holding lengths
 * (hi - 8, hi], hi 24 (L2) or 32 (L3).  The leaf of an L2 slot holding an
 * L3 chunk is that chunk's ck_def. */
static void
rt_chunk_paint(const IpRouteTable *t, const IpRtPrefix *p, gboolean add, uintptr_t *slot, guint hi)
{
	guint first = (p->px_dst >> (32 - hi)) & 0xff;
	guint n = 1u << (hi - p->px_plen);
	uint32_t leaf = rt_leaf(p);
	uint32_t parent = add ? 0 : rt_parent(t, p, hi - 7);

	for (guint i = first; i < first + n; i++) {
		if (rt_is_chunk(slot[i])) {
			IpRtChunk *k = rt_chunk(slot[i]);

			k->ck_def = rt_painted(k->ck_def, add, leaf, parent);
		} else {
			slot[i] = rt_painted((uint32_t)slot[i], add, leaf, parent);
		}
	}
}

/* A /25-/32 change in the L3 chunk under L2 slot *ps (created if needed). */
static void
rt_l3_update(IpRouteTable *t, const IpRtPrefix *p, gboolean add, uintptr_t *ps)
{
	IpRtChunk *k = rt_is_chunk(*ps) ? rt_chunk(*ps) : rt_chunk_new(t, (uint32_t)*ps);
	uintptr_t slot[RT_CHUNK_SLOTS];
	uint32_t def = k->ck_def;

	rt_chunk_decode(k, slot);
	rt_chunk_paint(t, p, add, slot, 32);
	k = rt_chunk_store(t, k, slot);
	*ps = k ? (uintptr_t)k | 1 : def;
}

/* A /17-/32 change in the L2 chunk of p's /16 (created if needed). */
static void
rt_l2_update(IpRouteTable *t, const IpRtPrefix *p, gboolean add)
{
	IpRtRoot *re = &t->rt_root[p->px_dst >> 16];
	IpRtChunk *c = re->re_child ? re->re_child : rt_chunk_new(t, 0);
	uintptr_t slot[RT_CHUNK_SLOTS];

	rt_chunk_decode(c, slot);
	if (p->px_plen <= 24)
		rt_chunk_paint(t, p, add, slot, 24);
	else
		rt_l3_update(t, p, add, &slot[(p->px_dst >> 8) & 0xff]);
	re->re_child = rt_chunk_store(t, c, slot);
}

static void
rt_trie_update(IpRouteTable *t, const IpRtPrefix *p, gboolean add)
{
	g_assert(p->px_plen > 0);
	if (p->px_plen <= RT_ROOT_BITS)
		rt_root_paint(t, p, add);
	else
		rt_l2_update(t, p, add);
}

static gboolean
rt_trie_build_one(gpointer key, gpointer value, gpointer data)
{
	const IpRtPrefix *p = value;

	(void)key;
	if (p->px_plen > 0)
		rt_trie_update(data, p, TRUE);
	return FALSE;
}

static void
rt_trie_build(IpRouteTable *t)
{
	t->rt_root = g_new0(IpRtRoot, RT_ROOT_SLOTS);
	t->rt_nsmall = 0;
	g_tree_foreach(t->rt_tree, rt_trie_build_one, t);
}

static void
rt_trie_free(IpRouteTable *t)
{
	if (!t->rt_root)
		return;
	for (guint i = 0; i < RT_ROOT_SLOTS; i++)
		if (t->rt_root[i].re_child)
			rt_chunk_free_tree(t, t->rt_root[i].re_child);
	g_free(t->rt_root);
	t->rt_root = NULL;
	g_assert(t->rt_chunk_bytes == 0);
}

/* The leaf of addr's longest matching prefix (0: the default route). */
static inline uint32_t
rt_trie_lookup(const IpRtRoot *root, uint32_t addr)
{
	const IpRtRoot *re = &root[addr >> 16];
	const IpRtChunk *k;
	uint32_t v, w;

	if (!re->re_child)
		return re->re_leaf;
	v = rt_chunk_get(re->re_child, (addr >> 8) & 0xff);
	if (G_UNLIKELY(v & 1)) {
		k = rt_chunk_kids(re->re_child)[v >> 1];
		w = rt_chunk_get(k, addr & 0xff);
		v = w ? w : k->ck_def;
	}
	return v ? v : re->re_leaf;
}

/* ------------------------------------------------------------------ */
/* Small tables                                                       */
/* ------------------------------------------------------------------ */

static void
rt_small_insert(IpRouteTable *t, const IpRtPrefix *p)
{
	guint i = 0;

	g_assert(t->rt_nsmall < RT_SMALL_MAX);
	while (i < t->rt_nsmall && t->rt_small[i].sm_plen >= p->px_plen)
		i++;
	memmove(&t->rt_small[i + 1], &t->rt_small[i], (t->rt_nsmall - i) * sizeof(IpRtSmall));
	t->rt_small[i] = (IpRtSmall){ p->px_dst, rt_mask(p->px_plen), p->px_id, p->px_plen };
	t->rt_nsmall++;
}

static void
rt_small_remove(IpRouteTable *t, guint32 id)
{
	guint i = 0;

	while (i < t->rt_nsmall && t->rt_small[i].sm_id != id)
		i++;
	g_assert(i < t->rt_nsmall);
	t->rt_nsmall--;
	memmove(&t->rt_small[i], &t->rt_small[i + 1], (t->rt_nsmall - i) * sizeof(IpRtSmall));
}

static gboolean
rt_small_build_one(gpointer key, gpointer value, gpointer data)
{
	const IpRtPrefix *p = value;

	(void)key;
	if (p->px_plen > 0)
		rt_small_insert(data, p);
	return FALSE;
}

/* Leaves the trie for the array once the table has shrunk. */
static void
rt_small_build(IpRouteTable *t)
{
	rt_trie_free(t);
	t->rt_nsmall = 0;
	g_tree_foreach(t->rt_tree, rt_small_build_one, t);
}

static guint32
rt_small_lookup(const IpRouteTable *t, uint32_t addr)
{
	for (guint i = 0; i < t->rt_nsmall; i++)
		if ((addr & t->rt_small[i].sm_mask) == t->rt_small[i].sm_dst)
			return t->rt_small[i].sm_id;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Prefixes                                                           */
/* ------------------------------------------------------------------ */

static guint32
rt_id_alloc(IpRouteTable *t)
{
	guint32 id;

	if (t->rt_free_id->len) {
		id = g_array_index(t->rt_free_id, guint32, t->rt_free_id->len - 1);
		g_array_set_size(t->rt_free_id, t->rt_free_id->len - 1);
		return id;
	}
	if (t->rt_next_id == t->rt_nid) {
		guint32 old = t->rt_nid;

		/* Ids must fit a leaf next to the length. */
		g_assert(old <= RT_ID_MAX / 2);
		t->rt_nid *= 2;
		t->rt_best = g_renew(IpRoute, t->rt_best, t->rt_nid);
	}
	return t->rt_next_id++;
}

/* Enters a new prefix p (already in the ordered set) in the fast structure. */
static void
rt_index_add(IpRouteTable *t, const IpRtPrefix *p)
{
	t->rt_nprefix++;
	if (t->rt_root)
		rt_trie_update(t, p, TRUE);
	else if (t->rt_nsmall < RT_SMALL_MAX)
		rt_small_insert(t, p);
	else
		rt_trie_build(t);
}

/* Removes p (already out of the ordered set) from the fast structure. */
static void
rt_index_del(IpRouteTable *t, const IpRtPrefix *p)
{
	t->rt_nprefix--;
	if (!t->rt_root) {
		rt_small_remove(t, p->px_id);
		return;
	}
	rt_trie_update(t, p, FALSE);
	if (t->rt_nprefix <= RT_SMALL_MAX / 2)
		rt_small_build(t);
}

static IpRtPrefix *
rt_prefix_new(IpRouteTable *t, uint32_t dst, guint plen)
{
	IpRtPrefix *p = g_new0(IpRtPrefix, 1);

	p->px_dst = dst;
	p->px_plen = (uint8_t)plen;
	p->px_id = plen ? rt_id_alloc(t) : 0;
	g_tree_insert(t->rt_tree, p, p);
	t->rt_nlen[plen]++;
	if (plen)
		rt_index_add(t, p);
	return p;
}

static void
rt_prefix_free(gpointer data)
{
	IpRtPrefix *p = data;

	g_free(p->px_route);
	g_free(p);
}

static void
rt_prefix_remove(IpRouteTable *t, IpRtPrefix *p)
{
	g_tree_steal(t->rt_tree, p);
	t->rt_nlen[p->px_plen]--;
	if (p->px_plen)
		rt_index_del(t, p);
	memset(&t->rt_best[p->px_id], 0, sizeof(IpRoute));
	if (p->px_id)
		g_array_append_val(t->rt_free_id, p->px_id);
	rt_prefix_free(p);
}

/* Inserts a copy of r after the routes of lower or equal metric. */
static void
rt_prefix_add_route(IpRouteTable *t, IpRtPrefix *p, const IpRoute *r)
{
	guint i = 0;

	while (i < p->px_n && p->px_route[i].metric <= r->metric)
		i++;
	p->px_route = g_renew(IpRoute, p->px_route, p->px_n + 1);
	memmove(&p->px_route[i + 1], &p->px_route[i], (p->px_n - i) * sizeof(IpRoute));
	p->px_route[i] = *r;
	p->px_n++;
	t->rt_best[p->px_id] = p->px_route[0];
}

/* The first (best) route of p matching gateway and ifindex, 0 matching any
 * when wild; -1 if none. */
static gint
rt_prefix_match(const IpRtPrefix *p, uint32_t gateway, uint32_t ifindex, gboolean wild)
{
	for (guint i = 0; i < p->px_n; i++) {
		const IpRoute *r = &p->px_route[i];

		if ((r->gateway == gateway || (wild && gateway == 0)) &&
		    (r->ifindex == ifindex || (wild && ifindex == 0)))
			return (gint)i;
	}
	return -1;
}

static void
rt_prefix_del_route(IpRouteTable *t, IpRtPrefix *p, guint i)
{
	p->px_n--;
	if (p->px_n == 0) {
		rt_prefix_remove(t, p);
		return;
	}
	memmove(&p->px_route[i], &p->px_route[i + 1], (p->px_n - i) * sizeof(IpRoute));
	p->px_route = g_renew(IpRoute, p->px_route, p->px_n);
	t->rt_best[p->px_id] = p->px_route[0];
}

/* ------------------------------------------------------------------ */
/* The API                                                            */
/* ------------------------------------------------------------------ */

IpRouteTable *
ip_rt_new(guint max_routes)
{
	IpRouteTable *t = g_new0(IpRouteTable, 1);

	t->rt_max = max_routes;
	t->rt_nid = 8;
	t->rt_next_id = 1; /* 0 is the /0 prefix */
	t->rt_best = g_new0(IpRoute, t->rt_nid);
	t->rt_free_id = g_array_new(FALSE, FALSE, sizeof(guint32));
	t->rt_tree = g_tree_new_full(rt_prefix_cmp, NULL, NULL, rt_prefix_free);
	return t;
}

void
ip_rt_free(IpRouteTable *t)
{
	if (!t)
		return;
	rt_trie_free(t);
	g_tree_destroy(t->rt_tree);
	g_array_free(t->rt_free_id, TRUE);
	g_free(t->rt_best);
	g_free(t);
}

int
ip_rt_add(IpRouteTable *t, const IpRoute *r)
{
	IpRtPrefix *p;

	if (!rt_prefix_valid(r->dst, r->plen) || r->ifindex == 0 || r->type < IP_RT_CONNECTED ||
	    r->type > IP_RT_BROADCAST)
		return EINVAL;
	p = rt_prefix_find(t, r->dst, r->plen);
	if (p && rt_prefix_match(p, r->gateway, r->ifindex, FALSE) >= 0)
		return EEXIST;
	if (t->rt_max && t->rt_count >= t->rt_max)
		return ENOSPC;
	if (!p)
		p = rt_prefix_new(t, r->dst, r->plen);
	rt_prefix_add_route(t, p, r);
	t->rt_count++;
	t->rt_gen++;
	return 0;
}

int
ip_rt_del(IpRouteTable *t, uint32_t dst, uint8_t plen, uint32_t gateway, uint32_t ifindex)
{
	IpRtPrefix *p;
	gint i;

	if (!rt_prefix_valid(dst, plen))
		return EINVAL;
	p = rt_prefix_find(t, dst, plen);
	if (!p || (i = rt_prefix_match(p, gateway, ifindex, TRUE)) < 0)
		return ENOENT;
	rt_prefix_del_route(t, p, (guint)i);
	t->rt_count--;
	t->rt_gen++;
	return 0;
}

const IpRoute *
ip_rt_lookup(const IpRouteTable *t, uint32_t addr)
{
	guint32 id;

	if (G_LIKELY(t->rt_root))
		id = rt_leaf_id(rt_trie_lookup(t->rt_root, addr));
	else
		id = rt_small_lookup(t, addr);
	if (G_UNLIKELY(id == 0) && t->rt_nlen[0] == 0)
		return NULL; /* no default route */
	return &t->rt_best[id];
}

const IpRoute *
ip_rt_find(const IpRouteTable *t, uint32_t dst, uint8_t plen)
{
	IpRtPrefix *p;

	if (!rt_prefix_valid(dst, plen))
		return NULL;
	p = rt_prefix_find(t, dst, plen);
	return p ? &t->rt_best[p->px_id] : NULL; /* the pointer lookups return */
}

typedef struct {
	void (*fn)(const IpRoute *r, gpointer data);
	gpointer data;
	uint32_t ifindex;
	GArray *found; /* IpRoute, for ip_rt_del_ifindex */
} IpRtWalk;

static gboolean
rt_walk_one(gpointer key, gpointer value, gpointer data)
{
	const IpRtPrefix *p = value;
	IpRtWalk *w = data;

	(void)key;
	for (guint i = 0; i < p->px_n; i++)
		w->fn(&p->px_route[i], w->data);
	return FALSE;
}

void
ip_rt_foreach(const IpRouteTable *t, void (*fn)(const IpRoute *r, gpointer data), gpointer data)
{
	IpRtWalk w = { .fn = fn, .data = data };

	g_tree_foreach(t->rt_tree, rt_walk_one, &w);
}

static void
rt_collect_ifindex(const IpRoute *r, gpointer data)
{
	IpRtWalk *w = data;

	if (r->ifindex == w->ifindex)
		g_array_append_val(w->found, *r);
}

guint
ip_rt_del_ifindex(IpRouteTable *t, uint32_t ifindex)
{
	IpRtWalk w = { .ifindex = ifindex };
	guint n = 0;

	if (ifindex == 0)
		return 0;
	w.found = g_array_new(FALSE, FALSE, sizeof(IpRoute));
	ip_rt_foreach(t, rt_collect_ifindex, &w);
	for (guint i = 0; i < w.found->len; i++) {
		const IpRoute *r = &g_array_index(w.found, IpRoute, i);

		n += ip_rt_del(t, r->dst, r->plen, r->gateway, r->ifindex) == 0;
	}
	g_array_free(w.found, TRUE);
	return n;
}

guint
ip_rt_count(const IpRouteTable *t)
{
	return t->rt_count;
}

guint64
ip_rt_generation(const IpRouteTable *t)
{
	return t->rt_gen;
}

gsize
ip_rt_memory(const IpRouteTable *t)
{
	guint nprefix = (guint)g_tree_nnodes(t->rt_tree);

	return sizeof(*t) + (t->rt_root ? RT_ROOT_SLOTS * sizeof(IpRtRoot) : 0) +
	       t->rt_chunk_bytes + t->rt_nid * sizeof(*t->rt_best) +
	       t->rt_free_id->len * sizeof(guint32) +
	       nprefix * (sizeof(IpRtPrefix) + RT_TREE_NODE_BYTES) + t->rt_count * sizeof(IpRoute);
}
