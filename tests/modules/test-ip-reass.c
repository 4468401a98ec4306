/* SPDX-License-Identifier: MIT */
/*
 * test-ip-reass.c -- the IPv4 reassembly table of the ip driver
 * (modules/ip/reass.c), driven directly with fragments built here and a
 * virtual clock.
 *
 * Each test builds whole datagrams (random payload, valid header checksum,
 * options when asked), cuts them into real fragments (RFC 791 §3.2: the
 * first fragment carries all options, the others only the copied ones), in
 * one or several blocks, and checks the verdict of every call, the table's
 * accounting, and that a reassembled datagram is byte-identical to the
 * original.  The fixture frees the table and asserts that no message block
 * is left alive, so every drop path is also a leak test.
 */
#include "inet-cksum.h"
#include "reass.h"

#include <ustreams/debug.h>
#include <ustreams/stream.h>

#include <glib.h>
#include <string.h>

#define SEC G_GUINT64_CONSTANT(1000000000)
#define TIMEOUT (30 * SEC)
#define BIG_LIMIT (G_GUINT64_CONSTANT(64) << 20)

static const guint8 SRC[4] = { 192, 0, 2, 1 };
static const guint8 DST[4] = { 198, 51, 100, 7 };

/* ------------------------------------------------------------------ */
/* Datagrams and fragments                                            */
/* ------------------------------------------------------------------ */

/* A whole datagram before fragmentation. */
typedef struct {
	guint8 *td_bytes; /* header then data; td_len may exceed 65535 (then
			   * the header's total length is meaningless) */
	size_t td_len;    /* header + data */
	size_t td_hlen;   /* header length, options included */
	size_t td_nf_opt; /* option bytes the other fragments copy (0 or 4) */
} TestDgram;

static void
put16(guint8 *p, guint v)
{
	p[0] = (guint8)(v >> 8);
	p[1] = (guint8)v;
}

static guint
get16(const guint8 *p)
{
	return (guint)p[0] << 8 | p[1];
}

static void
set_cksum(guint8 *h, size_t hlen)
{
	put16(h + 10, 0);
	guint16 ck = us_cksum(h, hlen);
	memcpy(h + 10, &ck, 2);
}

/* A datagram with opt_len option bytes (a multiple of 4; from 4 on, the
 * first option is a Router Alert, which has the copy flag, so the other
 * fragments carry it too) and dlen random data bytes. */
static TestDgram *
dgram_new(GRand *rng, guint16 id, guint8 proto, size_t opt_len, size_t dlen, gboolean df)
{
	TestDgram *td = g_new0(TestDgram, 1);
	td->td_hlen = 20 + opt_len;
	td->td_len = td->td_hlen + dlen;
	td->td_nf_opt = opt_len >= 4 ? 4 : 0;
	guint8 *h = td->td_bytes = g_malloc0(td->td_len);
	h[0] = (guint8)(0x40 | td->td_hlen / 4);
	h[1] = 0x02; /* ECT(0): the first fragment's TOS passes through */
	put16(h + 2, (guint)MIN(td->td_len, 65535));
	put16(h + 4, id);
	put16(h + 6, df ? 0x4000 : 0);
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, SRC, 4);
	memcpy(h + 16, DST, 4);
	if (opt_len >= 4) {
		static const guint8 ra[4] = { 0x94, 0x04, 0x00, 0x00 };
		memcpy(h + 20, ra, 4);
		memset(h + 24, 0x01, opt_len - 4); /* NOPs */
		if (opt_len > 4)
			h[td->td_hlen - 1] = 0x00; /* End of Option List */
	}
	set_cksum(h, td->td_hlen);
	for (size_t i = td->td_hlen; i < td->td_len; i++)
		td->td_bytes[i] = (guint8)g_rand_int(rng);
	return td;
}

static void
dgram_free(gpointer p)
{
	TestDgram *td = p;
	g_free(td->td_bytes);
	g_free(td);
}

static size_t
dgram_dlen(const TestDgram *td)
{
	return td->td_len - td->td_hlen;
}

/* The fragment of td carrying data [off, off + len) as a flat buffer
 * (*sizep bytes); its data bytes may then be changed. */
static guint8 *
frag_bytes(const TestDgram *td, size_t off, size_t len, gboolean mf, size_t *sizep)
{
	size_t hlen = off == 0 ? td->td_hlen : 20 + td->td_nf_opt;
	guint8 *b = g_malloc(hlen + len);
	memcpy(b, td->td_bytes, hlen);
	b[0] = (guint8)(0x40 | hlen / 4);
	put16(b + 2, (guint)(hlen + len));
	put16(b + 6, (get16(td->td_bytes + 6) & 0x4000) | (mf ? 0x2000 : 0) | (guint)(off / 8));
	set_cksum(b, hlen);
	memcpy(b + hlen, td->td_bytes + td->td_hlen + off, len);
	*sizep = hlen + len;
	return b;
}

/* An M_DATA chain holding buf: one block when rng is NULL, else cut at up
 * to four random places (empty blocks possible), each block with random
 * headroom and tailroom. */
static mblk_t *
chain_from(const guint8 *buf, size_t size, GRand *rng)
{
	if (rng == NULL)
		return us_msg_from(buf, size, 16);
	size_t cuts[6] = { 0 };
	guint n = (guint)g_rand_int_range(rng, 0, 5);
	for (guint i = 1; i <= n; i++)
		cuts[i] = (size_t)g_rand_int_range(rng, 0, (gint32)size + 1);
	cuts[n + 1] = size;
	for (guint i = 1; i <= n; i++) /* insertion sort of the cut points */
		for (guint j = i; j > 1 && cuts[j - 1] > cuts[j]; j--) {
			size_t t = cuts[j];
			cuts[j] = cuts[j - 1];
			cuts[j - 1] = t;
		}
	mblk_t *head = NULL, **tail = &head;
	for (guint i = 0; i <= n; i++) {
		size_t len = cuts[i + 1] - cuts[i];
		size_t room = (size_t)g_rand_int_range(rng, 0, 24);
		mblk_t *bp = allocb(room + len + 8, BPRI_MED);
		g_assert_nonnull(bp);
		bp->b_rptr = bp->b_wptr = bp->b_rptr + room;
		memcpy(bp->b_wptr, buf + cuts[i], len);
		bp->b_wptr += len;
		*tail = bp;
		tail = &bp->b_cont;
	}
	return head;
}

static mblk_t *
frag(const TestDgram *td, size_t off, size_t len, gboolean mf, GRand *split)
{
	size_t size;
	guint8 *b = frag_bytes(td, off, len, mf, &size);
	mblk_t *mp = chain_from(b, size, split);
	g_free(b);
	return mp;
}

/* Like frag(), with data byte `at` (relative to off) changed. */
static mblk_t *
frag_changed(const TestDgram *td, size_t off, size_t len, gboolean mf, size_t at)
{
	size_t size;
	guint8 *b = frag_bytes(td, off, len, mf, &size);
	b[size - len + at] ^= 0x5a;
	mblk_t *mp = chain_from(b, size, NULL);
	g_free(b);
	return mp;
}

/* One piece of a fragmentation plan. */
typedef struct {
	size_t p_off;
	size_t p_len;
	gboolean p_mf;
} Piece;

/* td's data cut into pieces of step bytes (a multiple of 8), in order. */
static GArray *
plan(const TestDgram *td, size_t step)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(Piece));
	size_t dlen = dgram_dlen(td);
	for (size_t off = 0; off < dlen; off += step) {
		Piece p = { off, MIN(step, dlen - off), off + step < dlen };
		g_array_append_val(a, p);
	}
	return a;
}

static mblk_t *
piece_frag(const TestDgram *td, GArray *pl, guint i, GRand *split)
{
	const Piece *p = &g_array_index(pl, Piece, i);
	return frag(td, p->p_off, p->p_len, p->p_mf, split);
}

static void
shuffle(GArray *a, GRand *rng)
{
	for (guint i = a->len; i > 1; i--) {
		guint j = (guint)g_rand_int_range(rng, 0, (gint32)i);
		Piece t = g_array_index(a, Piece, i - 1);
		g_array_index(a, Piece, i - 1) = g_array_index(a, Piece, j);
		g_array_index(a, Piece, j) = t;
	}
}

/* ------------------------------------------------------------------ */
/* Checks                                                             */
/* ------------------------------------------------------------------ */

/* Feeds mp and checks the verdict; returns the datagram for DONE. */
static mblk_t *
feed(IpReass *r, mblk_t *mp, guint64 now, IpReassVerdict expect)
{
	IpReassVerdict v = IP_REASS_N_VERDICTS;
	mblk_t *out = ip_reass_input(r, mp, now, &v);
	g_assert_cmpstr(ip_reass_verdict_name(v), ==, ip_reass_verdict_name(expect));
	if (expect == IP_REASS_DONE)
		g_assert_nonnull(out);
	else
		g_assert_null(out);
	return out;
}

/* Checks that mp (consumed) is td, byte for byte, with a valid header. */
static void
check_datagram(mblk_t *mp, const TestDgram *td)
{
	for (const mblk_t *b = mp; b != NULL; b = b->b_cont) {
		g_assert_cmpuint(DB_TYPE(b), ==, M_DATA);
		g_assert_null(b->b_next);
		g_assert_null(b->b_prev);
	}
	size_t len = msgdsize(mp);
	g_assert_cmpuint(len, ==, td->td_len);
	guint8 *flat = g_malloc(len);
	g_assert_cmpuint(us_msgcopyout(mp, 0, flat, len), ==, len);
	g_assert_cmpuint((flat[0] & 0x0f) * 4u, ==, td->td_hlen);
	g_assert_cmpuint(get16(flat + 2), ==, len);
	g_assert_cmpuint(get16(flat + 6), ==, get16(td->td_bytes + 6)); /* DF kept, MF/offset 0 */
	g_assert_cmpuint(us_cksum(flat, td->td_hlen), ==, 0);
	g_assert_cmpmem(flat, len, td->td_bytes, td->td_len);
	g_free(flat);
	freemsg(mp);
}

/* Flattens mp (not consumed). */
static GBytes *
flatten(const mblk_t *mp)
{
	size_t len = msgdsize(mp);
	guint8 *b = g_malloc(len + 1);
	g_assert_cmpuint(us_msgcopyout(mp, 0, b, len), ==, len);
	return g_bytes_new_take(b, len);
}

/* ------------------------------------------------------------------ */
/* Fixture                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
	IpReass *r;
	GRand *rng;
	GPtrArray *dgrams; /* TestDgram *, freed at teardown */
	gint64 live;       /* us_msg_live_count() at setup */
} Fx;

static void
fx_setup(Fx *fx, gconstpointer data)
{
	(void)data;
	fx->live = us_msg_live_count();
	fx->r = ip_reass_new(BIG_LIMIT, 64, TIMEOUT);
	fx->rng = g_rand_new_with_seed(0x1dc0de);
	fx->dgrams = g_ptr_array_new_with_free_func(dgram_free);
}

static void
fx_teardown(Fx *fx, gconstpointer data)
{
	(void)data;
	ip_reass_free(fx->r);
	g_rand_free(fx->rng);
	g_ptr_array_unref(fx->dgrams);
	g_assert_cmpint(us_msg_live_count(), ==, fx->live);
}

/* Replaces the fixture's table by one with these limits. */
static void
fx_limits(Fx *fx, guint64 max_bytes, guint max_dgrams)
{
	ip_reass_free(fx->r);
	fx->r = ip_reass_new(max_bytes, max_dgrams, TIMEOUT);
}

static TestDgram *
fx_dgram(Fx *fx, guint16 id, guint8 proto, size_t opt_len, size_t dlen, gboolean df)
{
	TestDgram *td = dgram_new(fx->rng, id, proto, opt_len, dlen, df);
	g_ptr_array_add(fx->dgrams, td);
	return td;
}

/* Feeds the pieces of pl in the order given; all KEPT but the last, DONE. */
static void
feed_all(Fx *fx, const TestDgram *td, GArray *pl, GRand *split)
{
	for (guint i = 0; i < pl->len; i++) {
		mblk_t *mp = piece_frag(td, pl, i, split);
		if (i + 1 < pl->len) {
			feed(fx->r, mp, 0, IP_REASS_KEPT);
			g_assert_cmpuint(ip_reass_count(fx->r), ==, 1);
		} else {
			check_datagram(feed(fx->r, mp, 0, IP_REASS_DONE), td);
		}
	}
	g_assert_cmpuint(ip_reass_count(fx->r), ==, 0);
	g_assert_cmpuint(ip_reass_bytes(fx->r), ==, 0);
}

/* The cost of a one-block fragment with len data bytes (plus the header
 * for the first one, which keeps it). */
static guint64
cost1(size_t hdr, size_t len)
{
	return hdr + len + IP_REASS_BLOCK_COST + IP_REASS_FRAG_COST;
}

/* ------------------------------------------------------------------ */
/* Orders                                                             */
/* ------------------------------------------------------------------ */

static void
test_in_order(Fx *fx, gconstpointer data)
{
	(void)data;
	TestDgram *td = fx_dgram(fx, 0x1234, 17, 0, 4000, FALSE);
	GArray *pl = plan(td, 1480);
	g_assert_cmpuint(pl->len, ==, 3);

	/* Zero copy: the result is made of the fragments' own data blocks,
	 * the first one's header fixed in place (its block is not shared). */
	dblk_t *dbs[3];
	mblk_t *mps[3];
	for (guint i = 0; i < 3; i++) {
		mps[i] = piece_frag(td, pl, i, NULL);
		dbs[i] = mps[i]->b_datap;
	}
	feed(fx->r, mps[0], 0, IP_REASS_KEPT);
	g_assert_cmpuint(ip_reass_bytes(fx->r), ==, IP_REASS_DGRAM_COST + cost1(20, 1480));
	feed(fx->r, mps[1], 0, IP_REASS_KEPT);
	mblk_t *out = feed(fx->r, mps[2], 0, IP_REASS_DONE);
	const mblk_t *b = out;
	for (guint i = 0; i < 3; i++, b = b->b_cont)
		g_assert_true(b->b_datap == dbs[i]);
	g_assert_null(b);
	check_datagram(out, td);
	g_assert_cmpuint(ip_reass_bytes(fx->r), ==, 0);
	g_array_unref(pl);
}

static void
test_reverse_order(Fx *fx, gconstpointer data)
{
	(void)data;
	TestDgram *td = fx_dgram(fx, 7, 6, 0, 3001, TRUE);
	GArray *pl = plan(td, 512);
	for (guint i = 0; i < pl->len / 2; i++) {
		Piece t = g_array_index(pl, Piece, i);
		g_array_index(pl, Piece, i) = g_array_index(pl, Piece, pl->len - 1 - i);
		g_array_index(pl, Piece, pl->len - 1 - i) = t;
	}
	feed_all(fx, td, pl, NULL);
	g_array_unref(pl);
}

/* Random sizes, options, orders and block splits, several seeds. */
static void
test_random_order(Fx *fx, gconstpointer data)
{
	(void)data;
	static const size_t opts[] = { 0, 4, 8, 40 };
	for (guint32 seed = 1; seed <= 24; seed++) {
		GRand *rng = g_rand_new_with_seed(seed);
		size_t step = 8 * (size_t)g_rand_int_range(rng, 1, 186);
		size_t dlen = (size_t)g_rand_int_range(rng, (gint32)step + 1, 20000);
		size_t opt = opts[seed % G_N_ELEMENTS(opts)];
		TestDgram *td = fx_dgram(fx, (guint16)seed, 17, opt, dlen, seed & 1);
		GArray *pl = plan(td, step);
		shuffle(pl, rng);
		feed_all(fx, td, pl, rng);
		g_array_unref(pl);
		g_rand_free(rng);
	}
}

/* The first fragment carries 40 option bytes, the others only the copied
 * Router Alert: the result has the first fragment's header. */
static void
test_options(Fx *fx, gconstpointer data)
{
	(void)data;
	TestDgram *td = fx_dgram(fx, 99, 17, 40, 2000, FALSE);
	g_assert_cmpuint(td->td_hlen, ==, 60);
	GArray *pl = plan(td, 1000);
	mblk_t *mp = piece_frag(td, pl, 1, NULL);
	g_assert_cmpuint(msgdsize(mp), ==, 24 + 1000); /* not the first: 24-byte header */
	feed(fx->r, mp, 0, IP_REASS_KEPT);
	check_datagram(feed(fx->r, piece_frag(td, pl, 0, NULL), 0, IP_REASS_DONE), td);
	g_array_unref(pl);
}

/* A header cut across blocks gets a fresh block; the data blocks do not. */
static void
test_split_header(Fx *fx, gconstpointer data)
{
	(void)data;
	TestDgram *td = fx_dgram(fx, 5, 17, 8, 64, FALSE);
	size_t size;
	guint8 *b = frag_bytes(td, 0, 32, TRUE, &size);
	mblk_t *first = us_msg_from(b, 7, 0);
	first->b_cont = us_msg_from(b + 7, size - 7, 0);
	dblk_t *data_db = first->b_cont->b_datap;
	g_free(b);
	feed(fx->r, first, 0, IP_REASS_KEPT);
	mblk_t *out = feed(fx->r, frag(td, 32, 32, FALSE, NULL), 0, IP_REASS_DONE);
	g_assert_cmpuint(MBLKL(out), ==, td->td_hlen);
	g_assert_true(out->b_cont->b_datap == data_db);
	check_datagram(out, td);
}

/* ------------------------------------------------------------------ */
/* Duplicates and overlaps                                            */
/* ------------------------------------------------------------------ */

static void
test_duplicate(Fx *fx, gconstpointer data)
{
	(void)data;
	TestDgram *td = fx_dgram(fx, 1, 17, 0, 64, FALSE);
	IpReass *r = fx->r;
	feed(r, frag(td, 16, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	guint64 bytes = ip_reass_bytes(r);
	feed(r, frag(td, 16, 16, TRUE, fx->rng), 0, IP_REASS_DUP);
	g_assert_cmpuint(ip_reass_bytes(r), ==, bytes);
	feed(r, frag(td, 48, 16, FALSE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 48, 16, FALSE, NULL), 0, IP_REASS_DUP);
	feed(r, frag(td, 0, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 0, 16, TRUE, fx->rng), 0, IP_REASS_DUP);
	/* The same bytes cut differently are duplicates too. */
	feed(r, frag(td, 8, 8, TRUE, NULL), 0, IP_REASS_DUP);
	feed(r, frag(td, 8, 16, TRUE, NULL), 0, IP_REASS_DUP);
	feed(r, frag(td, 0, 32, TRUE, NULL), 0, IP_REASS_DUP);
	g_assert_cmpuint(ip_reass_count(r), ==, 1);
	check_datagram(feed(r, frag(td, 32, 16, TRUE, NULL), 0, IP_REASS_DONE), td);
}

/* A fragment partly over held data and partly new drops the datagram; the
 * fragments that follow start a fresh one. */
static void
test_overlap_partial(Fx *fx, gconstpointer data)
{
	(void)data;
	TestDgram *td = fx_dgram(fx, 2, 17, 0, 64, FALSE);
	IpReass *r = fx->r;
	feed(r, frag(td, 0, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 32, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	/* Same bytes where they overlap, but [16, 24) is new. */
	feed(r, frag(td, 8, 16, TRUE, NULL), 0, IP_REASS_OVERLAP);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	g_assert_cmpuint(ip_reass_bytes(r), ==, 0);

	/* Fresh datagram: a fragment covering a held one and more. */
	feed(r, frag(td, 16, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 8, 32, TRUE, NULL), 0, IP_REASS_OVERLAP);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	/* Starting before a held one and ending inside it. */
	feed(r, frag(td, 16, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 8, 16, TRUE, NULL), 0, IP_REASS_OVERLAP);
	/* Spanning a gap between two held ones. */
	feed(r, frag(td, 0, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 32, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 0, 48, TRUE, NULL), 0, IP_REASS_OVERLAP);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);

	GArray *pl = plan(td, 16);
	feed_all(fx, td, pl, NULL);
	g_array_unref(pl);
}

/* Data entirely inside held data but different: overlap, datagram gone. */
static void
test_overlap_contained(Fx *fx, gconstpointer data)
{
	(void)data;
	TestDgram *td = fx_dgram(fx, 3, 17, 0, 64, FALSE);
	IpReass *r = fx->r;
	/* Same region, different bytes. */
	feed(r, frag(td, 0, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 16, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag_changed(td, 16, 16, TRUE, 15), 0, IP_REASS_OVERLAP);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	g_assert_cmpuint(ip_reass_bytes(r), ==, 0);
	/* A sub-range, different bytes. */
	feed(r, frag(td, 0, 32, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag_changed(td, 8, 8, TRUE, 0), 0, IP_REASS_OVERLAP);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	/* Across two held fragments, the difference in the second. */
	feed(r, frag(td, 0, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 16, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag_changed(td, 8, 16, TRUE, 12), 0, IP_REASS_OVERLAP);
	/* The last fragment repeated with different bytes. */
	feed(r, frag(td, 48, 16, FALSE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag_changed(td, 48, 16, FALSE, 3), 0, IP_REASS_OVERLAP);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);

	GArray *pl = plan(td, 16);
	shuffle(pl, fx->rng);
	feed_all(fx, td, pl, NULL);
	g_array_unref(pl);
}

/* ------------------------------------------------------------------ */
/* Malformed and oversized                                            */
/* ------------------------------------------------------------------ */

static void
test_too_big(Fx *fx, gconstpointer data)
{
	(void)data;
	IpReass *r = fx->r;
	TestDgram *td = fx_dgram(fx, 4, 17, 0, 65600, FALSE);
	/* offset*8 + length > 65535, nothing held. */
	feed(r, frag(td, 65512, 32, FALSE, NULL), 0, IP_REASS_TOO_BIG);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	/* With a datagram held: it goes too. */
	feed(r, frag(td, 0, 1480, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 65512, 32, TRUE, NULL), 0, IP_REASS_TOO_BIG);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	g_assert_cmpuint(ip_reass_bytes(r), ==, 0);
	/* The result's total length counts the first header: 20 + 65516 > 65535. */
	feed(r, frag(td, 65512, 4, FALSE, NULL), 0, IP_REASS_TOO_BIG);

	/* The largest datagram, 20 + 65515 bytes, reassembles. */
	TestDgram *max = fx_dgram(fx, 5, 17, 0, 65515, FALSE);
	GArray *pl = plan(max, 1480);
	shuffle(pl, fx->rng);
	feed_all(fx, max, pl, fx->rng);
	g_array_unref(pl);

	/* The same data behind a 24-byte first header is 4 bytes too long:
	 * judged when the first fragment arrives. */
	TestDgram *opt = fx_dgram(fx, 6, 17, 4, 65515, FALSE);
	feed(r, frag(opt, 65512, 3, FALSE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(opt, 0, 1480, TRUE, NULL), 0, IP_REASS_TOO_BIG);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
}

static void
test_bad(Fx *fx, gconstpointer data)
{
	(void)data;
	IpReass *r = fx->r;
	TestDgram *td = fx_dgram(fx, 8, 17, 0, 64, FALSE);

	/* Malformed: dropped alone, a held datagram continues. */
	feed(r, frag(td, 0, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 16, 12, TRUE, NULL), 0, IP_REASS_BAD); /* MF, not 8k */
	feed(r, frag(td, 16, 0, TRUE, NULL), 0, IP_REASS_BAD);  /* empty */
	feed(r, frag(td, 0, 16, FALSE, NULL), 0, IP_REASS_BAD); /* not a fragment */
	mblk_t *mp = frag(td, 16, 16, TRUE, NULL);
	mp->b_wptr--; /* total length != msgdsize */
	feed(r, mp, 0, IP_REASS_BAD);
	mp = frag(td, 16, 16, TRUE, NULL);
	mp->b_rptr[0] = 0x45 + 0x10; /* version 5 */
	feed(r, mp, 0, IP_REASS_BAD);
	g_assert_cmpuint(ip_reass_count(r), ==, 1);
	GArray *pl = plan(td, 16);
	for (guint i = 1; i < pl->len - 1; i++)
		feed(r, piece_frag(td, pl, i, NULL), 0, IP_REASS_KEPT);
	check_datagram(feed(r, piece_frag(td, pl, pl->len - 1, NULL), 0, IP_REASS_DONE), td);
	g_array_unref(pl);

	/* Inconsistent: the datagram goes too.  A second last fragment with
	 * another end: */
	feed(r, frag(td, 0, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 48, 16, FALSE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 48, 8, FALSE, NULL), 0, IP_REASS_BAD);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	/* a last fragment ending before data held: */
	feed(r, frag(td, 32, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 16, 8, FALSE, NULL), 0, IP_REASS_BAD);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	/* data past the known end: */
	feed(r, frag(td, 16, 16, FALSE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 32, 16, TRUE, NULL), 0, IP_REASS_BAD);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	g_assert_cmpuint(ip_reass_bytes(r), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Shared blocks and allocation failure                               */
/* ------------------------------------------------------------------ */

/* dupmsg'd fragments in several blocks: the originals are unchanged, the
 * result's header is a fresh block and its data the original blocks. */
static void
test_shared_blocks(Fx *fx, gconstpointer data)
{
	(void)data;
	TestDgram *td = fx_dgram(fx, 9, 17, 8, 3000, TRUE);
	GArray *pl = plan(td, 800);
	shuffle(pl, fx->rng);
	mblk_t *orig[8];
	GBytes *snap[8];
	g_assert_cmpuint(pl->len, <=, G_N_ELEMENTS(orig));
	mblk_t *out = NULL;
	for (guint i = 0; i < pl->len; i++) {
		orig[i] = piece_frag(td, pl, i, fx->rng);
		snap[i] = flatten(orig[i]);
		mblk_t *dup = dupmsg(orig[i]);
		g_assert_nonnull(dup);
		out = feed(fx->r, dup, 0, i + 1 < pl->len ? IP_REASS_KEPT : IP_REASS_DONE);
	}
	gboolean shared_data = FALSE;
	for (guint i = 0; i < pl->len; i++) {
		const Piece *p = &g_array_index(pl, Piece, i);
		if (p->p_off == 0)
			for (const mblk_t *b = orig[i]; b != NULL; b = b->b_cont)
				g_assert_false(out->b_datap == b->b_datap);
		for (const mblk_t *b = out->b_cont; b != NULL; b = b->b_cont)
			for (const mblk_t *o = orig[i]; o != NULL; o = o->b_cont)
				shared_data |= b->b_datap == o->b_datap && MBLKL(b) > 0;
	}
	g_assert_true(shared_data);
	check_datagram(out, td);
	for (guint i = 0; i < pl->len; i++) {
		GBytes *now = flatten(orig[i]);
		g_assert_true(g_bytes_equal(now, snap[i]));
		g_bytes_unref(now);
		g_bytes_unref(snap[i]);
		freemsg(orig[i]);
	}
	g_array_unref(pl);
}

/* The header block is shared and the copy cannot be allocated: the
 * datagram is dropped (IP_REASS_NOMEM), nothing leaks. */
static void
test_nomem(Fx *fx, gconstpointer data)
{
	(void)data;
	TestDgram *td = fx_dgram(fx, 10, 17, 0, 32, FALSE);
	mblk_t *first = frag(td, 0, 16, TRUE, NULL);
	feed(fx->r, dupmsg(first), 0, IP_REASS_KEPT);
	mblk_t *last = frag(td, 16, 16, FALSE, NULL);
	us_msg_fail_allocs(0, 1);
	feed(fx->r, last, 0, IP_REASS_NOMEM);
	us_msg_fail_allocs(0, 0);
	g_assert_cmpuint(ip_reass_count(fx->r), ==, 0);
	g_assert_cmpuint(ip_reass_bytes(fx->r), ==, 0);
	freemsg(first);
}

/* ------------------------------------------------------------------ */
/* Several datagrams                                                  */
/* ------------------------------------------------------------------ */

/* Same addresses, different ids; and the same id with another protocol. */
static void
test_interleave(Fx *fx, gconstpointer data)
{
	(void)data;
	TestDgram *td[3] = {
		fx_dgram(fx, 100, 17, 0, 3000, FALSE),
		fx_dgram(fx, 101, 17, 4, 3000, FALSE),
		fx_dgram(fx, 100, 6, 0, 3000, FALSE),
	};
	GArray *pl[3];
	for (guint d = 0; d < 3; d++) {
		pl[d] = plan(td[d], 600);
		shuffle(pl[d], fx->rng);
	}
	guint n = pl[0]->len;
	for (guint i = 0; i < n; i++)
		for (guint d = 0; d < 3; d++) {
			mblk_t *mp = piece_frag(td[d], pl[d], i, fx->rng);
			if (i + 1 < n) {
				feed(fx->r, mp, 0, IP_REASS_KEPT);
				g_assert_cmpuint(ip_reass_count(fx->r), ==, i == 0 ? d + 1 : 3);
			} else {
				check_datagram(feed(fx->r, mp, 0, IP_REASS_DONE), td[d]);
				g_assert_cmpuint(ip_reass_count(fx->r), ==, 2 - d);
			}
		}
	for (guint d = 0; d < 3; d++)
		g_array_unref(pl[d]);
	g_assert_cmpuint(ip_reass_bytes(fx->r), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Timeout                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
	guint calls;
	GBytes *first; /* the last copy received */
} ExpireLog;

static void
on_expire(mblk_t *first, gpointer data)
{
	ExpireLog *log = data;
	log->calls++;
	if (log->first != NULL)
		g_bytes_unref(log->first);
	log->first = flatten(first);
	freemsg(first);
}

static void
test_timeout(Fx *fx, gconstpointer data)
{
	(void)data;
	IpReass *r = fx->r;
	TestDgram *a = fx_dgram(fx, 20, 17, 8, 64, FALSE);
	TestDgram *b = fx_dgram(fx, 21, 17, 0, 64, FALSE);
	ExpireLog log = { 0 };
	g_assert_cmpuint(ip_reass_next_deadline(r), ==, G_MAXUINT64);
	g_assert_cmpuint(ip_reass_expire(r, 100 * SEC, on_expire, &log), ==, 0);

	size_t size;
	guint8 *a0 = frag_bytes(a, 0, 16, TRUE, &size);
	feed(r, frag(a, 0, 16, TRUE, fx->rng), 1 * SEC, IP_REASS_KEPT);
	feed(r, frag(b, 16, 16, TRUE, NULL), 5 * SEC, IP_REASS_KEPT);
	/* Later fragments do not push the deadline back. */
	feed(r, frag(a, 16, 16, TRUE, NULL), 20 * SEC, IP_REASS_KEPT);
	g_assert_cmpuint(ip_reass_next_deadline(r), ==, 31 * SEC);

	g_assert_cmpuint(ip_reass_expire(r, 31 * SEC - 1, on_expire, &log), ==, 0);
	g_assert_cmpuint(log.calls, ==, 0);
	/* At the deadline: a goes, with a copy of its first fragment. */
	g_assert_cmpuint(ip_reass_expire(r, 31 * SEC, on_expire, &log), ==, 1);
	g_assert_cmpuint(log.calls, ==, 1);
	g_assert_cmpmem(g_bytes_get_data(log.first, NULL), g_bytes_get_size(log.first), a0, size);
	g_assert_cmpuint(ip_reass_count(r), ==, 1);
	g_assert_cmpuint(ip_reass_next_deadline(r), ==, 35 * SEC);

	/* A late fragment of a starts a new datagram. */
	feed(r, frag(a, 48, 16, FALSE, NULL), 32 * SEC, IP_REASS_KEPT);
	g_assert_cmpuint(ip_reass_next_deadline(r), ==, 35 * SEC);
	/* b had no first fragment: removed without a callback. */
	g_assert_cmpuint(ip_reass_expire(r, 40 * SEC, on_expire, &log), ==, 1);
	g_assert_cmpuint(log.calls, ==, 1);
	g_assert_cmpuint(ip_reass_next_deadline(r), ==, 62 * SEC);
	/* A NULL callback is fine. */
	feed(r, frag(b, 0, 16, TRUE, NULL), 50 * SEC, IP_REASS_KEPT);
	g_assert_cmpuint(ip_reass_expire(r, 100 * SEC, NULL, NULL), ==, 2);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	g_assert_cmpuint(ip_reass_bytes(r), ==, 0);
	g_assert_cmpuint(ip_reass_next_deadline(r), ==, G_MAXUINT64);
	g_assert_cmpuint(ip_reass_evicted(r), ==, 0);

	g_bytes_unref(log.first);
	g_free(a0);
}

/* A clock that steps back still expires datagrams by arrival time. */
static void
test_clock_backwards(Fx *fx, gconstpointer data)
{
	(void)data;
	IpReass *r = fx->r;
	TestDgram *a = fx_dgram(fx, 22, 17, 0, 64, FALSE);
	TestDgram *b = fx_dgram(fx, 23, 17, 0, 64, FALSE);
	feed(r, frag(a, 16, 16, TRUE, NULL), 10 * SEC, IP_REASS_KEPT);
	feed(r, frag(b, 16, 16, TRUE, NULL), 5 * SEC, IP_REASS_KEPT);
	g_assert_cmpuint(ip_reass_next_deadline(r), ==, 35 * SEC);
	g_assert_cmpuint(ip_reass_expire(r, 35 * SEC, NULL, NULL), ==, 1);
	g_assert_cmpuint(ip_reass_next_deadline(r), ==, 40 * SEC);
	/* a is still held and completes. */
	feed(r, frag(a, 0, 16, TRUE, NULL), 36 * SEC, IP_REASS_KEPT);
	check_datagram(feed(r, frag(a, 32, 32, FALSE, NULL), 37 * SEC, IP_REASS_DONE), a);
}

/* ------------------------------------------------------------------ */
/* Limits                                                             */
/* ------------------------------------------------------------------ */

static void
test_memory_limit(Fx *fx, gconstpointer data)
{
	(void)data;
	/* Each datagram below holds one 512-byte non-first fragment. */
	const guint64 one = IP_REASS_DGRAM_COST + cost1(0, 512);
	fx_limits(fx, 3 * one, 100);
	IpReass *r = fx->r;
	TestDgram *td[5];
	for (guint i = 0; i < 5; i++)
		td[i] = fx_dgram(fx, (guint16)(30 + i), 17, 0, 4096, FALSE);

	for (guint i = 0; i < 3; i++)
		feed(r, frag(td[i], 512, 512, TRUE, NULL), i * SEC, IP_REASS_KEPT);
	g_assert_cmpuint(ip_reass_bytes(r), ==, 3 * one);
	/* A fourth evicts the oldest, td[0]. */
	feed(r, frag(td[3], 512, 512, TRUE, NULL), 3 * SEC, IP_REASS_KEPT);
	g_assert_cmpuint(ip_reass_evicted(r), ==, 1);
	g_assert_cmpuint(ip_reass_count(r), ==, 3);
	g_assert_cmpuint(ip_reass_next_deadline(r), ==, 1 * SEC + TIMEOUT);
	/* Adding to the oldest, td[1], evicts td[2], not td[1]. */
	feed(r, frag(td[1], 1024, 512, TRUE, NULL), 4 * SEC, IP_REASS_KEPT);
	g_assert_cmpuint(ip_reass_evicted(r), ==, 2);
	g_assert_cmpuint(ip_reass_count(r), ==, 2);
	g_assert_cmpuint(ip_reass_next_deadline(r), ==, 1 * SEC + TIMEOUT);
	g_assert_cmpuint(ip_reass_bytes(r), <=, 3 * one);
	/* td[1] is still there: the same fragment again is a duplicate. */
	feed(r, frag(td[1], 512, 512, TRUE, NULL), 5 * SEC, IP_REASS_DUP);

	/* A datagram that does not fit even alone: LIMIT, after evicting all. */
	for (guint i = 0; i < 3; i++)
		feed(r, frag(td[4], i * 512, 512, TRUE, NULL), 6 * SEC, IP_REASS_KEPT);
	g_assert_cmpuint(ip_reass_count(r), ==, 1);
	feed(r, frag(td[4], 1536, 512, TRUE, NULL), 6 * SEC, IP_REASS_LIMIT);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	g_assert_cmpuint(ip_reass_bytes(r), ==, 0);
	g_assert_cmpuint(ip_reass_evicted(r), ==, 4);
}

static void
test_datagram_limit(Fx *fx, gconstpointer data)
{
	(void)data;
	fx_limits(fx, BIG_LIMIT, 2);
	IpReass *r = fx->r;
	TestDgram *td[3];
	for (guint i = 0; i < 3; i++)
		td[i] = fx_dgram(fx, (guint16)(40 + i), 17, 0, 64, FALSE);
	feed(r, frag(td[0], 0, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td[1], 0, 16, TRUE, NULL), 1, IP_REASS_KEPT);
	/* More fragments of held datagrams do not count. */
	feed(r, frag(td[0], 16, 16, TRUE, NULL), 2, IP_REASS_KEPT);
	g_assert_cmpuint(ip_reass_evicted(r), ==, 0);
	/* A third datagram evicts the oldest. */
	feed(r, frag(td[2], 0, 16, TRUE, NULL), 3, IP_REASS_KEPT);
	g_assert_cmpuint(ip_reass_evicted(r), ==, 1);
	g_assert_cmpuint(ip_reass_count(r), ==, 2);
	feed(r, frag(td[0], 32, 32, FALSE, NULL), 4, IP_REASS_KEPT); /* td[0] is new again */
	g_assert_cmpuint(ip_reass_evicted(r), ==, 2);
	GArray *pl = plan(td[2], 16);
	for (guint i = 1; i < pl->len - 1; i++)
		feed(r, piece_frag(td[2], pl, i, NULL), 5, IP_REASS_KEPT);
	check_datagram(feed(r, piece_frag(td[2], pl, pl->len - 1, NULL), 5, IP_REASS_DONE), td[2]);
	g_array_unref(pl);
	g_assert_cmpuint(ip_reass_count(r), ==, 1);

	/* No datagram at all. */
	fx_limits(fx, BIG_LIMIT, 0);
	feed(fx->r, frag(td[0], 0, 16, TRUE, NULL), 0, IP_REASS_LIMIT);
	g_assert_cmpuint(ip_reass_bytes(fx->r), ==, 0);
}

static void
test_max_frags(Fx *fx, gconstpointer data)
{
	(void)data;
	IpReass *r = fx->r;
	ip_reass_set_max_frags(r, 2);
	TestDgram *td = fx_dgram(fx, 50, 17, 0, 64, FALSE);
	feed(r, frag(td, 0, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 16, 16, TRUE, NULL), 0, IP_REASS_KEPT);
	feed(r, frag(td, 16, 16, TRUE, NULL), 0, IP_REASS_DUP);
	feed(r, frag(td, 32, 32, FALSE, NULL), 0, IP_REASS_LIMIT);
	g_assert_cmpuint(ip_reass_count(r), ==, 0);
	/* Two fragments are allowed. */
	feed(r, frag(td, 0, 32, TRUE, NULL), 0, IP_REASS_KEPT);
	check_datagram(feed(r, frag(td, 32, 32, FALSE, NULL), 0, IP_REASS_DONE), td);
}

/* Freeing the table frees what it holds (the fixture checks the count). */
static void
test_free_held(Fx *fx, gconstpointer data)
{
	(void)data;
	for (guint i = 0; i < 10; i++) {
		TestDgram *td = fx_dgram(fx, (guint16)(60 + i), 17, 4 * (i % 3), 5000, FALSE);
		GArray *pl = plan(td, 1000);
		shuffle(pl, fx->rng);
		for (guint j = 0; j + 1 < pl->len; j++)
			feed(fx->r, piece_frag(td, pl, j, fx->rng), i, IP_REASS_KEPT);
		g_array_unref(pl);
	}
	g_assert_cmpuint(ip_reass_count(fx->r), ==, 10);
	g_assert_cmpint(us_msg_live_count(), >, fx->live);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add("/ip/reass/" path, Fx, NULL, fx_setup, fn, fx_teardown)
	ADD("in-order", test_in_order);
	ADD("reverse-order", test_reverse_order);
	ADD("random-order", test_random_order);
	ADD("options", test_options);
	ADD("split-header", test_split_header);
	ADD("duplicate", test_duplicate);
	ADD("overlap-partial", test_overlap_partial);
	ADD("overlap-contained", test_overlap_contained);
	ADD("too-big", test_too_big);
	ADD("bad", test_bad);
	ADD("shared-blocks", test_shared_blocks);
	ADD("nomem", test_nomem);
	ADD("interleave", test_interleave);
	ADD("timeout", test_timeout);
	ADD("clock-backwards", test_clock_backwards);
	ADD("memory-limit", test_memory_limit);
	ADD("datagram-limit", test_datagram_limit);
	ADD("max-frags", test_max_frags);
	ADD("free-held", test_free_held);
#undef ADD
	return g_test_run();
}
