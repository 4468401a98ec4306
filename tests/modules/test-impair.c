/* SPDX-License-Identifier: MIT */
/*
 * test-impair.c -- the impair module under UsHarness in virtual time: every
 * impairment's statistics against its setting over many messages with a
 * fixed seed (and exactly the same across two runs), delay and jitter bounds
 * and distributions, ordering, reordering, one flipped bit per corruption,
 * rate and queue limits, Gilbert-Elliott burst lengths, control messages
 * passing at once, flush, close with held messages, flow control; then
 * impair inside two composed stacks built through the config API, where
 * udp-send and tcp-source still complete over a 20% loss.
 *
 * Measured values are printed with g_test_message (run with --verbose).
 */
#include "config.h"
#include "impair.h"

#include <ustreams/debug.h>
#include <ustreams/dlpi.h>
#include <ustreams/harness.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <math.h>
#include <string.h>

#define MS US_NSEC_PER_MSEC

/* ------------------------------------------------------------------ */
/* Fixtures                                                           */
/* ------------------------------------------------------------------ */

/* An arrival at one end of the harness. */
typedef struct {
	guint32 seq;
	gint64 at;
	mblk_t *mp; /* kept only when asked */
} Arrival;

typedef struct {
	UsHarness *h;
	GArray *down; /* Arrival: what left the bottom */
	GArray *up;   /* Arrival: what left the top */
	gboolean keep;
} Fx;

static void
fx_init(Fx *f, guint64 seed)
{
	int err = 0;
	f->h = us_harness_try_new("impair", seed, &err);
	g_assert_nonnull(f->h);
	f->down = g_array_new(FALSE, TRUE, sizeof(Arrival));
	f->up = g_array_new(FALSE, TRUE, sizeof(Arrival));
	f->keep = FALSE;
}

static void
fx_free_arrivals(GArray *a)
{
	for (guint i = 0; i < a->len; i++)
		freemsg(g_array_index(a, Arrival, i).mp);
	g_array_free(a, TRUE);
}

static void
fx_fini(Fx *f)
{
	fx_free_arrivals(f->down);
	fx_free_arrivals(f->up);
	us_harness_free(f->h);
}

static void
fx_set(Fx *f, const char *name, const char *value)
{
	GError *error = NULL;
	g_assert_true(us_param_set(us_harness_wq(f->h), name, value, &error));
	g_assert_no_error(error);
}

static guint64
fx_stat(Fx *f, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(us_harness_wq(f->h), name, &v));
	return v;
}

static guint64
fx_drops(Fx *f, guint reason)
{
	return us_drop_count(us_harness_wq(f->h), reason);
}

/* Byte i of message seq's pattern (after the 4-byte sequence number). */
static unsigned char
fill(guint32 seq, size_t i)
{
	return (unsigned char)(seq * 13 + i * 7);
}

/* An M_DATA message: seq (big endian), then the pattern; len >= 4. */
static mblk_t *
msg_new(guint32 seq, size_t len)
{
	mblk_t *mp = allocb(len, BPRI_MED);
	g_assert_nonnull(mp);
	mp->b_wptr[0] = (unsigned char)(seq >> 24);
	mp->b_wptr[1] = (unsigned char)(seq >> 16);
	mp->b_wptr[2] = (unsigned char)(seq >> 8);
	mp->b_wptr[3] = (unsigned char)seq;
	for (size_t i = 4; i < len; i++)
		mp->b_wptr[i] = fill(seq, i);
	mp->b_wptr += len;
	return mp;
}

/* The sequence number of a message (from its first M_DATA bytes). */
static guint32
msg_seq(const mblk_t *mp)
{
	unsigned char b[4] = { 0 };
	const mblk_t *d = DB_TYPE(mp) == M_DATA ? mp : mp->b_cont;
	us_msgcopyout(d, 0, b, 4);
	return (guint32)b[0] << 24 | (guint32)b[1] << 16 | (guint32)b[2] << 8 | b[3];
}

/* Moves what left the module into the arrival lists, stamped now. */
static void
fx_collect(Fx *f)
{
	gint64 now = us_harness_now(f->h);
	mblk_t *mp;
	while ((mp = us_harness_pull_down(f->h)) != NULL) {
		Arrival a = { DB_TYPE(mp) == M_DATA ? msg_seq(mp) : G_MAXUINT32, now, NULL };
		if (f->keep)
			a.mp = mp;
		else
			freemsg(mp);
		g_array_append_val(f->down, a);
	}
	while ((mp = us_harness_pull_up(f->h)) != NULL) {
		Arrival a = { DB_TYPE(mp) == M_DATA ? msg_seq(mp) : G_MAXUINT32, now, NULL };
		if (f->keep)
			a.mp = mp;
		else
			freemsg(mp);
		g_array_append_val(f->up, a);
	}
}

/* Advances the clock to t, stopping at every timer so that arrivals are
 * stamped with their exact time. */
static void
fx_run_to(Fx *f, gint64 t)
{
	UsWorld *w = us_harness_world(f->h);
	for (;;) {
		fx_collect(f);
		gint64 now = us_harness_now(f->h), dl = us_world_next_deadline(w);
		if (dl < 0 || now + dl > t)
			break;
		us_harness_advance(f->h, dl);
	}
	us_harness_advance(f->h, t - us_harness_now(f->h));
	fx_collect(f);
}

/* Sends n messages of len bytes down, `gap` ns apart (0: all at once),
 * then runs `settle` ns more. */
static void
fx_send(Fx *f, guint n, size_t len, gint64 gap, gint64 settle)
{
	for (guint i = 0; i < n; i++) {
		if (gap > 0 && i > 0)
			fx_run_to(f, us_harness_now(f->h) + gap);
		us_harness_push_down(f->h, msg_new(i, len));
	}
	fx_run_to(f, us_harness_now(f->h) + settle);
}

/* Asserts |got - want| <= tol and prints both. */
static void
near(const char *what, double got, double want, double tol)
{
	g_test_message("%s: measured %.4f, configured/expected %.4f (tolerance %.4f)", what, got,
		       want, tol);
	if (fabs(got - want) > tol)
		g_error("%s: %.4f is not within %.4f of %.4f", what, got, tol, want);
}

/* ------------------------------------------------------------------ */
/* Loss                                                               */
/* ------------------------------------------------------------------ */

static void
test_loss_random(void)
{
	Fx f;
	fx_init(&f, 7);
	fx_set(&f, "loss", "0.1");
	guint n = 20000;
	fx_send(&f, n, 64, 0, MS);
	guint64 lost = fx_stat(&f, "down_lost_random");
	g_assert_cmpuint(fx_stat(&f, "down_in"), ==, n);
	g_assert_cmpuint(fx_stat(&f, "down_passed"), ==, f.down->len);
	g_assert_cmpuint(lost + f.down->len, ==, n);
	g_assert_cmpuint(fx_drops(&f, IMPAIR_DROP_LOSS), ==, lost);
	/* 4 standard deviations of a binomial(20000, 0.1) */
	near("random loss rate", (double)lost / n, 0.1, 4 * sqrt(0.1 * 0.9 / n));
	/* survivors in order, nothing delayed */
	for (guint i = 1; i < f.down->len; i++)
		g_assert_cmpuint(g_array_index(f.down, Arrival, i).seq, >,
				 g_array_index(f.down, Arrival, i - 1).seq);
	g_assert_cmpuint(fx_stat(&f, "down_delayed"), ==, 0);
	fx_fini(&f);
}

/* Digest of everything that came out (times, bytes) of one full run. */
static char *
run_digest(guint64 seed, const char *private_seed)
{
	Fx f;
	fx_init(&f, seed);
	f.keep = TRUE;
	if (private_seed != NULL)
		fx_set(&f, "seed", private_seed);
	fx_set(&f, "loss", "0.05");
	fx_set(&f, "ge_p", "0.01");
	fx_set(&f, "ge_r", "0.3");
	fx_set(&f, "delay", "5000000");
	fx_set(&f, "jitter", "1000000");
	fx_set(&f, "dist", "normal");
	fx_set(&f, "dup", "0.05");
	fx_set(&f, "reorder", "0.05");
	fx_set(&f, "corrupt", "0.05");
	fx_set(&f, "rate", "10000000");
	fx_send(&f, 2000, 200, 100 * US_NSEC_PER_USEC, 100 * MS);
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	for (guint i = 0; i < f.down->len; i++) {
		Arrival *a = &g_array_index(f.down, Arrival, i);
		g_checksum_update(sum, (const guchar *)&a->at, sizeof a->at);
		g_checksum_update(sum, a->mp->b_rptr, (gssize)MBLKL(a->mp));
	}
	char *s = g_strdup(g_checksum_get_string(sum));
	g_test_message("seed %" G_GUINT64_FORMAT "/%s: %u delivered, digest %.16s", seed,
		       private_seed ? private_seed : "world", f.down->len, s);
	g_checksum_free(sum);
	fx_fini(&f);
	return s;
}

static void
test_reproducible(void)
{
	char *a = run_digest(42, NULL), *b = run_digest(42, NULL), *c = run_digest(43, NULL);
	g_assert_cmpstr(a, ==, b);
	g_assert_cmpstr(a, !=, c);
	/* a private seed: the same whatever the world's seed */
	char *d = run_digest(1, "99"), *e = run_digest(2, "99");
	g_assert_cmpstr(d, ==, e);
	g_assert_cmpstr(d, !=, a);
	g_free(a);
	g_free(b);
	g_free(c);
	g_free(d);
	g_free(e);
}

static void
test_loss_gilbert_elliott(void)
{
	Fx f;
	fx_init(&f, 11);
	double p = 0.02, r = 0.25;
	fx_set(&f, "ge_p", "0.02");
	fx_set(&f, "ge_r", "0.25");
	guint n = 50000;
	fx_send(&f, n, 64, 0, MS);
	/* runs of consecutive missing sequence numbers are the bursts */
	guint bursts = 0, lost = 0, expect = 0, longest = 0;
	for (guint i = 0; i <= f.down->len; i++) {
		guint32 seq = i < f.down->len ? g_array_index(f.down, Arrival, i).seq : n;
		if (seq > expect) {
			bursts++;
			lost += seq - expect;
			longest = MAX(longest, seq - expect);
		}
		expect = seq + 1;
	}
	g_assert_cmpuint(lost, ==, fx_stat(&f, "down_lost_burst"));
	g_assert_cmpuint(fx_drops(&f, IMPAIR_DROP_BURST), ==, lost);
	g_assert_cmpuint(fx_stat(&f, "down_lost_random"), ==, 0);
	/* stationary loss p / (p + r); sojourns in the bad state are geometric
	 * with mean 1 / r (variance (1 - r) / r^2) */
	near("Gilbert-Elliott loss rate", (double)lost / n, p / (p + r), 0.1 * p / (p + r));
	near("Gilbert-Elliott mean burst length", (double)lost / bursts, 1 / r,
	     4 * sqrt((1 - r) / (r * r) / bursts));
	g_test_message("bursts %u, longest %u", bursts, longest);
	g_assert_cmpuint(longest, >, 10);
	fx_fini(&f);
}

/* Loss in the good state too, and an imperfect bad state. */
static void
test_loss_gilbert_elliott_states(void)
{
	Fx f;
	fx_init(&f, 12);
	fx_set(&f, "ge_p", "0.1");
	fx_set(&f, "ge_r", "0.4");
	fx_set(&f, "ge_loss_good", "0.01");
	fx_set(&f, "ge_loss_bad", "0.5");
	guint n = 40000;
	fx_send(&f, n, 64, 0, MS);
	double pi_bad = 0.1 / 0.5, want = pi_bad * 0.5 + (1 - pi_bad) * 0.01;
	near("Gilbert-Elliott 4-parameter loss rate", (double)fx_stat(&f, "down_lost_burst") / n,
	     want, 0.1 * want);
	fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* Delay                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
	double mean, sd, min, max, over; /* ms; over: fraction above delay + 3 jitter */
} DelayStats;

/* Sends n messages `gap` apart through delay 10 ms / jitter 2 ms of dist. */
static DelayStats
delay_run(const char *dist, guint n, gint64 gap)
{
	Fx f;
	fx_init(&f, 5);
	fx_set(&f, "delay", "10000000");
	fx_set(&f, "jitter", "2000000");
	fx_set(&f, "dist", dist);
	fx_send(&f, n, 100, gap, 200 * MS);
	g_assert_cmpuint(f.down->len, ==, n);
	DelayStats s = { 0, 0, G_MAXDOUBLE, 0, 0 };
	double sum2 = 0;
	for (guint i = 0; i < n; i++) {
		Arrival *a = &g_array_index(f.down, Arrival, i);
		g_assert_cmpuint(a->seq, ==, i); /* order kept */
		double d = (double)(a->at - (gint64)a->seq * gap) / 1e6;
		s.mean += d;
		sum2 += d * d;
		s.min = MIN(s.min, d);
		s.max = MAX(s.max, d);
		s.over += d > 16.0 ? 1 : 0;
	}
	s.mean /= n;
	s.sd = sqrt(sum2 / n - s.mean * s.mean);
	s.over /= n;
	g_test_message("%s: mean %.4f ms, sd %.4f ms, min %.4f ms, max %.4f ms, P(>16ms) %.4f",
		       dist, s.mean, s.sd, s.min, s.max, s.over);
	g_assert_cmpuint(fx_stat(&f, "down_delayed"), ==, n);
	fx_fini(&f);
	return s;
}

static void
test_delay_uniform(void)
{
	/* 5 ms apart: more than the 4 ms spread, so ordering never binds */
	DelayStats s = delay_run("uniform", 4000, 5 * MS);
	g_assert_cmpfloat(s.min, >=, 8.0);
	g_assert_cmpfloat(s.max, <=, 12.0);
	near("uniform mean delay (ms)", s.mean, 10.0, 0.1);
	near("uniform delay sd (ms)", s.sd, 2.0 / sqrt(3.0), 0.05);
}

static void
test_delay_normal(void)
{
	DelayStats s = delay_run("normal", 4000, 30 * MS);
	g_assert_cmpfloat(s.min, >=, 0.0);
	near("normal mean delay (ms)", s.mean, 10.0, 0.15);
	near("normal delay sd (ms)", s.sd, 2.0, 0.15);
	g_assert_cmpfloat(s.over, <, 0.01); /* P(z > 3) = 0.00135 */
}

static void
test_delay_pareto(void)
{
	DelayStats s = delay_run("pareto", 4000, 200 * MS);
	g_assert_cmpfloat(s.min, >=, 10.0);
	near("pareto mean delay (ms)", s.mean, 12.0, 0.5);
	/* Lomax(3, 4 ms): P(extra > 6 ms) = (1 + 6/4)^-3 = 0.064 */
	near("pareto P(delay > delay + 3 jitter)", s.over, 0.064, 0.02);
}

/* Jitter larger than the gap between messages: order is still kept, and
 * every delay stays within delay +- jitter. */
static void
test_delay_keeps_order(void)
{
	Fx f;
	fx_init(&f, 3);
	fx_set(&f, "delay", "10000000");
	fx_set(&f, "jitter", "5000000");
	guint n = 1000;
	fx_send(&f, n, 100, MS, 100 * MS);
	g_assert_cmpuint(f.down->len, ==, n);
	for (guint i = 0; i < n; i++) {
		Arrival *a = &g_array_index(f.down, Arrival, i);
		g_assert_cmpuint(a->seq, ==, i);
		gint64 d = a->at - (gint64)i * MS;
		g_assert_cmpint(d, >=, 5 * MS);
		g_assert_cmpint(d, <=, 15 * MS);
	}
	fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* Rate                                                               */
/* ------------------------------------------------------------------ */

static void
test_rate_limit(void)
{
	Fx f;
	fx_init(&f, 1);
	fx_set(&f, "rate", "1000000"); /* 1000 bytes: 8 ms */
	fx_set(&f, "limit", "10");
	fx_send(&f, 30, 1000, 0, 0);
	g_assert_cmpuint(fx_stat(&f, "down_rate_dropped"), ==, 20);
	g_assert_cmpuint(fx_drops(&f, IMPAIR_DROP_RATE), ==, 20);
	g_assert_cmpuint(fx_stat(&f, "down_queued"), ==, 10);
	fx_run_to(&f, 200 * MS);
	g_assert_cmpuint(f.down->len, ==, 10);
	for (guint i = 0; i < 10; i++) {
		Arrival *a = &g_array_index(f.down, Arrival, i);
		g_assert_cmpuint(a->seq, ==, i);
		g_assert_cmpint(a->at, ==, (gint64)(i + 1) * 8 * MS);
	}
	/* limit in bytes: 3000 may wait, a fourth 1000-byte message may not */
	fx_set(&f, "limit", "0");
	fx_set(&f, "limit_bytes", "3000");
	for (guint i = 0; i < 5; i++)
		us_harness_push_down(f.h, msg_new(100 + i, 1000));
	g_assert_cmpuint(fx_stat(&f, "down_rate_dropped"), ==, 22);
	/* a steady 2 Mbit/s offered to 1 Mbit/s: about half goes */
	fx_set(&f, "limit_bytes", "0");
	fx_set(&f, "limit", "5");
	fx_run_to(&f, us_harness_now(f.h) + 100 * MS);
	guint before = f.down->len;
	guint64 dropped0 = fx_stat(&f, "down_rate_dropped");
	fx_send(&f, 1000, 1000, 4 * MS, 100 * MS);
	guint got = f.down->len - before;
	near("rate-limited fraction at twice the rate", (double)got / 1000, 0.5, 0.02);
	g_assert_cmpuint(got + fx_stat(&f, "down_rate_dropped") - dropped0, ==, 1000);
	fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* Duplication, reordering, corruption                                */
/* ------------------------------------------------------------------ */

static void
test_dup(void)
{
	Fx f;
	fx_init(&f, 21);
	fx_set(&f, "dup", "0.2");
	guint n = 10000;
	fx_send(&f, n, 64, 0, MS);
	guint64 dups = fx_stat(&f, "down_duplicated");
	g_assert_cmpuint(f.down->len, ==, n + dups);
	near("duplication rate", (double)dups / n, 0.2, 4 * sqrt(0.2 * 0.8 / n));
	/* a copy follows its original */
	guint seen = 0;
	for (guint i = 1; i < f.down->len; i++)
		seen += g_array_index(f.down, Arrival, i).seq ==
			g_array_index(f.down, Arrival, i - 1).seq;
	g_assert_cmpuint(seen, ==, dups);
	fx_fini(&f);
}

static void
test_reorder(void)
{
	Fx f;
	fx_init(&f, 31);
	fx_set(&f, "reorder", "0.1");
	fx_set(&f, "reorder_delay", "5000000");
	guint n = 5000;
	fx_send(&f, n, 64, MS, 20 * MS);
	g_assert_cmpuint(f.down->len, ==, n);
	guint64 reordered = fx_stat(&f, "down_reordered");
	near("reordering rate", (double)reordered / n, 0.1, 4 * sqrt(0.1 * 0.9 / n));
	/* a held-back message arrives 5 ms late and is overtaken by 4 or 5 */
	guint late = 0, overtaken = 0;
	guint32 maxseq = 0;
	for (guint i = 0; i < n; i++) {
		Arrival *a = &g_array_index(f.down, Arrival, i);
		gint64 d = a->at - (gint64)a->seq * MS;
		g_assert_true(d == 0 || d == 5 * MS);
		late += d == 5 * MS;
		if (i > 0 && a->seq < maxseq)
			overtaken++;
		maxseq = MAX(maxseq, a->seq);
	}
	g_assert_cmpuint(late, ==, reordered);
	/* every late one is overtaken, unless it was among the last few sent */
	g_assert_cmpuint(overtaken, <=, reordered);
	g_assert_cmpuint(overtaken + 5, >=, reordered);
	g_assert_cmpuint(overtaken, >, 0);
	fx_fini(&f);
}

/* Bits that differ between a message's payload and its original. */
static guint
bit_diff(const mblk_t *mp)
{
	guint32 seq = msg_seq(mp);
	guint bits = 0;
	size_t off = 0;
	for (const mblk_t *b = mp; b != NULL; b = b->b_cont) {
		if (DB_TYPE(b) != M_DATA)
			continue;
		for (size_t i = 0; i < MBLKL(b); i++, off++) {
			unsigned char want =
				off < 4 ? (unsigned char)(seq >> (24 - 8 * off)) : fill(seq, off);
			bits += (guint)__builtin_popcount((unsigned)(b->b_rptr[i] ^ want));
		}
	}
	return bits;
}

static void
test_corrupt(void)
{
	Fx f;
	fx_init(&f, 41);
	f.keep = TRUE;
	fx_set(&f, "corrupt", "1");
	/* a flip in the first 32 bits changes the sequence number itself: it
	 * is then one bit off the expected one */
	guint n = 2000;
	mblk_t *keep[4];
	for (guint i = 0; i < n; i++) {
		mblk_t *mp = msg_new(i, 1000);
		if (i < 4) {
			keep[i] = dupmsg(mp); /* shared data: must not be written */
			g_assert_nonnull(keep[i]);
		}
		us_harness_push_down(f.h, mp);
	}
	fx_collect(&f);
	g_assert_cmpuint(f.down->len, ==, n);
	g_assert_cmpuint(fx_stat(&f, "down_corrupted"), ==, n);
	guint in_seq = 0;
	for (guint i = 0; i < n; i++) {
		mblk_t *mp = g_array_index(f.down, Arrival, i).mp;
		if (msg_seq(mp) != i) {
			/* the flip hit the sequence number: one bit off i */
			g_assert_cmpint(__builtin_popcount(msg_seq(mp) ^ i), ==, 1);
			in_seq++;
			continue;
		}
		g_assert_cmpuint(bit_diff(mp), ==, 1);
	}
	g_test_message("corruption: %u of %u flips in the first 32 of 8000 bits", in_seq, n);
	for (guint i = 0; i < 4; i++) {
		g_assert_cmpuint(bit_diff(keep[i]), ==, 0); /* the original is intact */
		freemsg(keep[i]);
	}
	/* M_PROTO + M_DATA: only the payload is touched */
	mblk_t *proto = allocb(sizeof(dl_unitdata_req_t) + 6, BPRI_MED);
	DB_TYPE(proto) = M_PROTO;
	dl_unitdata_req_t req = { .dl_primitive = DL_UNITDATA_REQ,
				  .dl_dest_addr_length = 6,
				  .dl_dest_addr_offset = sizeof req };
	memcpy(proto->b_wptr, &req, sizeof req);
	memset(proto->b_wptr + sizeof req, 0xee, 6);
	proto->b_wptr += sizeof req + 6;
	proto->b_cont = msg_new(5000, 100);
	us_harness_push_down(f.h, proto);
	mblk_t *out = us_harness_pull_down(f.h);
	g_assert_nonnull(out);
	g_assert_cmpint(DB_TYPE(out), ==, M_PROTO);
	g_assert_cmpmem(out->b_rptr, sizeof req, &req, sizeof req);
	for (size_t i = 0; i < 6; i++)
		g_assert_cmpint(out->b_rptr[sizeof req + i], ==, 0xee);
	if (msg_seq(out) == 5000)
		g_assert_cmpuint(bit_diff(out), ==, 1);
	freemsg(out);
	fx_fini(&f);
}

static void
test_corrupt_rate(void)
{
	Fx f;
	fx_init(&f, 42);
	fx_set(&f, "corrupt", "0.05");
	guint n = 20000;
	fx_send(&f, n, 100, 0, MS);
	near("corruption rate", (double)fx_stat(&f, "down_corrupted") / n, 0.05,
	     4 * sqrt(0.05 * 0.95 / n));
	fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* Control messages, flush, close, flow control, direction            */
/* ------------------------------------------------------------------ */

static uint32_t
prim_of(const mblk_t *mp)
{
	uint32_t prim;
	g_assert_cmpuint(MBLKL(mp), >=, sizeof prim);
	memcpy(&prim, mp->b_rptr, sizeof prim);
	return prim;
}

static mblk_t *
ctl_msg(unsigned char type, uint32_t prim)
{
	mblk_t *mp = allocb(sizeof prim, BPRI_HI);
	DB_TYPE(mp) = type;
	memcpy(mp->b_wptr, &prim, sizeof prim);
	mp->b_wptr += sizeof prim;
	return mp;
}

/* High-priority messages, M_IOCTL and control primitives pass at once,
 * ahead of data in the delay line; they are never impaired. */
static void
test_control_passes(void)
{
	Fx f;
	fx_init(&f, 1);
	fx_set(&f, "delay", "10000000");
	fx_set(&f, "corrupt", "1");
	fx_set(&f, "dup", "1");
	us_harness_push_down(f.h, msg_new(1, 64));
	us_harness_push_down(f.h, ctl_msg(M_PCPROTO, DL_INFO_REQ));
	us_harness_push_down(f.h, ctl_msg(M_PROTO, DL_BIND_REQ));
	us_harness_push_down(f.h, mkiocb(0x7777));
	us_harness_push_up(f.h, ctl_msg(M_PCPROTO, DL_INFO_ACK));
	g_assert_cmpuint(us_harness_count_down(f.h), ==, 3);
	mblk_t *mp = us_harness_pull_down(f.h);
	g_assert_cmpint(DB_TYPE(mp), ==, M_PCPROTO);
	g_assert_cmpuint(prim_of(mp), ==, DL_INFO_REQ);
	freemsg(mp);
	mp = us_harness_pull_down(f.h);
	g_assert_cmpint(DB_TYPE(mp), ==, M_PROTO);
	g_assert_cmpuint(prim_of(mp), ==, DL_BIND_REQ);
	freemsg(mp);
	mp = us_harness_pull_down(f.h);
	g_assert_cmpint(DB_TYPE(mp), ==, M_IOCTL);
	freemsg(mp);
	mp = us_harness_pull_up(f.h);
	g_assert_cmpint(DB_TYPE(mp), ==, M_PCPROTO);
	freemsg(mp);
	g_assert_cmpuint(fx_stat(&f, "down_bypassed"), ==, 2);
	g_assert_cmpuint(fx_stat(&f, "down_queued"), ==, 2); /* the data and its copy */
	fx_run_to(&f, 20 * MS);
	g_assert_cmpuint(f.down->len, ==, 2);
	g_assert_cmpint(g_array_index(f.down, Arrival, 0).at, ==, 10 * MS);
	fx_fini(&f);
}

static void
test_flush(void)
{
	Fx f;
	fx_init(&f, 1);
	fx_set(&f, "delay", "10000000");
	for (guint i = 0; i < 10; i++)
		us_harness_push_down(f.h, msg_new(i, 64));
	for (guint i = 0; i < 5; i++)
		us_harness_push_up(f.h, msg_new(100 + i, 64));
	g_assert_cmpuint(fx_stat(&f, "down_queued"), ==, 10);
	g_assert_cmpuint(fx_stat(&f, "up_queued"), ==, 5);
	mblk_t *fl = allocb(2, BPRI_HI);
	DB_TYPE(fl) = M_FLUSH;
	*fl->b_wptr++ = FLUSHW;
	us_harness_push_down(f.h, fl);
	g_assert_cmpuint(fx_stat(&f, "down_queued"), ==, 0);
	g_assert_cmpuint(fx_stat(&f, "down_flushed"), ==, 10);
	g_assert_cmpuint(fx_stat(&f, "up_queued"), ==, 5);
	g_assert_cmpuint(fx_drops(&f, IMPAIR_DROP_FLUSH), ==, 10);
	mblk_t *mp = us_harness_pull_down(f.h); /* the M_FLUSH went on */
	g_assert_cmpint(DB_TYPE(mp), ==, M_FLUSH);
	freemsg(mp);
	fx_run_to(&f, 20 * MS);
	g_assert_cmpuint(f.down->len, ==, 0);
	g_assert_cmpuint(f.up->len, ==, 5);
	/* FLUSHR from below empties the read side */
	for (guint i = 0; i < 3; i++)
		us_harness_push_up(f.h, msg_new(200 + i, 64));
	fl = allocb(2, BPRI_HI);
	DB_TYPE(fl) = M_FLUSH;
	*fl->b_wptr++ = FLUSHR;
	us_harness_push_up(f.h, fl);
	g_assert_cmpuint(fx_stat(&f, "up_flushed"), ==, 3);
	fx_run_to(&f, 40 * MS);
	g_assert_cmpuint(f.up->len, ==, 6); /* 5 + the M_FLUSH */
	fx_fini(&f);
}

static void
test_close_with_held(void)
{
	Fx f;
	fx_init(&f, 1);
	UsStack *stack = us_harness_stack(f.h);
	fx_set(&f, "delay", "1000000000");
	for (guint i = 0; i < 7; i++)
		us_harness_push_down(f.h, msg_new(i, 64));
	for (guint i = 0; i < 2; i++)
		us_harness_push_up(f.h, msg_new(i, 64));
	g_assert_cmpint(us_stream_pop(us_harness_stream(f.h)), ==, 0);
	g_assert_cmpuint(us_stack_drop_count(stack, "impair", IMPAIR_DROP_CLOSED), ==, 9);
	fx_run_to(&f, 2 * US_NSEC_PER_SEC); /* the timers were cancelled */
	g_assert_cmpuint(f.down->len + f.up->len, ==, 0);
	fx_fini(&f);
}

/* What leaves the delay line waits on impair's queue while the next queue
 * is full; nothing is dropped and order is kept. */
static void
test_flow_control(void)
{
	Fx f;
	fx_init(&f, 1);
	fx_set(&f, "delay", "1000000");
	us_harness_set_watermarks(f.h, TRUE, 10000, 2000);
	us_harness_set_blocked(f.h, TRUE, TRUE);
	for (guint i = 0; i < 100; i++)
		us_harness_push_down(f.h, msg_new(i, 1000));
	fx_run_to(&f, 10 * MS);
	g_assert_cmpuint(f.down->len, ==, 0);
	g_assert_cmpint(qsize(us_harness_wq(f.h)), >, 80);
	/* 100 kB waiting is above impair's 64 KiB: the writer above is stopped */
	g_assert_false(canputnext(us_stream_head_wq(us_harness_stream(f.h))));
	us_harness_set_blocked(f.h, TRUE, FALSE);
	fx_collect(&f);
	g_assert_cmpuint(f.down->len, ==, 100);
	for (guint i = 0; i < 100; i++)
		g_assert_cmpuint(g_array_index(f.down, Arrival, i).seq, ==, i);
	g_assert_true(canputnext(us_stream_head_wq(us_harness_stream(f.h))));
	fx_fini(&f);
}

static void
test_direction(void)
{
	Fx f;
	fx_init(&f, 1);
	fx_set(&f, "loss", "1");
	fx_set(&f, "direction", "up");
	for (guint i = 0; i < 10; i++) {
		us_harness_push_down(f.h, msg_new(i, 64));
		us_harness_push_up(f.h, msg_new(i, 64));
	}
	fx_collect(&f);
	g_assert_cmpuint(f.down->len, ==, 10);
	g_assert_cmpuint(f.up->len, ==, 0);
	g_assert_cmpuint(fx_stat(&f, "down_bypassed"), ==, 10);
	g_assert_cmpuint(fx_stat(&f, "up_lost_random"), ==, 10);
	fx_set(&f, "direction", "down");
	us_harness_push_down(f.h, msg_new(99, 64));
	us_harness_push_up(f.h, msg_new(99, 64));
	fx_collect(&f);
	g_assert_cmpuint(f.down->len, ==, 10);
	g_assert_cmpuint(f.up->len, ==, 1);
	fx_fini(&f);
}

static void
test_params_refused(void)
{
	Fx f;
	fx_init(&f, 1);
	const char *bad[][2] = {
		{ "loss", "1.5" },    { "loss", "-0.1" }, { "direction", "sideways" },
		{ "dist", "cauchy" }, { "ge_r", "2" },    { "delay", "-1" }
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		GError *error = NULL;
		g_assert_false(us_param_set(us_harness_wq(f.h), bad[i][0], bad[i][1], &error));
		g_assert_nonnull(error);
		g_error_free(error);
	}
	char *v = us_param_get(us_harness_wq(f.h), "direction", NULL);
	g_assert_cmpstr(v, ==, "both");
	g_free(v);
	fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* In a composed stack, through the config API                        */
/* ------------------------------------------------------------------ */

static const char *stack_conf =
	"world { clock virtual; seed 9 }\n"
	"wire lan { delay 1ms }\n"
	"stack a {\n"
	"  interface eth0 { driver wire lan; push impair loss=0.2 seed=%s;"
	" push ether mac=02:00:00:00:00:0a; push arp; address 10.0.0.1/24 }\n"
	"  app udp-send 10.0.0.2:7 count=20 size=200 retries=20 timeout=100ms\n"
	"  app tcp-source 10.0.0.2:5001 bytes=100k\n"
	"}\n"
	"stack b {\n"
	"  interface eth0 { driver wire lan; push ether mac=02:00:00:00:00:0b; push arp;"
	" address 10.0.0.2/24 }\n"
	"  app udp-echo port=7\n"
	"  app tcp-sink port=5001\n"
	"}\n";

/* Builds and runs stack_conf with impair's private seed; returns the
 * run's summary (g_free) after checking the apps and impair's counters. */
static char *
stack_run(const char *seed)
{
	gint64 live0 = us_msg_live_count();
	char *text = g_strdup_printf(stack_conf, seed);
	GError *error = NULL;
	UsCfg *cfg = us_cfg_parse_text("impair.conf", text, &error);
	g_assert_no_error(error);
	g_assert_true(us_cfg_check(cfg, &error));
	UsCfgRun *run = us_cfg_build(cfg, &error);
	g_assert_no_error(error);
	queue_t *drv = us_cfg_run_iface_driver(run, "a", "eth0");
	queue_t *imp = drv->q_next; /* the read queue just above the driver */
	g_assert_cmpstr(us_queue_desc(imp)->name, ==, "impair");
	gboolean ok = us_cfg_run(run, 0);
	char *s = us_cfg_run_summary(run);
	g_test_message("%s", s);
	g_assert_true(ok);
	g_assert_nonnull(strstr(s, "20 echoed intact"));
	g_assert_nonnull(strstr(s, "matches the sink's"));
	guint64 din, dlost, uin, ulost;
	g_assert_true(us_stat_get(imp, "down_in", &din));
	g_assert_true(us_stat_get(imp, "down_lost_random", &dlost));
	g_assert_true(us_stat_get(imp, "up_in", &uin));
	g_assert_true(us_stat_get(imp, "up_lost_random", &ulost));
	g_test_message("down %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
		       " lost, up %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " lost",
		       dlost, din, ulost, uin);
	near("loss in the stack, down", (double)dlost / din, 0.2, 4 * sqrt(0.16 / din));
	near("loss in the stack, up", (double)ulost / uin, 0.2, 4 * sqrt(0.16 / uin));
	g_assert_cmpuint(
		us_stack_drop_count(us_cfg_run_stack(run, "a"), "impair", IMPAIR_DROP_LOSS), ==,
		dlost + ulost);
	g_assert_nonnull(strstr(s, "impair lost at random"));
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_free(text);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
	return s;
}

/* udp-send and tcp-source complete over 20% loss each way; the run is the
 * same to the byte when repeated, and differs with another seed. */
static void
test_stack_loss(void)
{
	char *a = stack_run("1234"), *b = stack_run("1234"), *c = stack_run("77");
	g_assert_cmpstr(a, ==, b);
	g_assert_cmpstr(a, !=, c);
	g_free(a);
	g_free(b);
	g_free(c);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/impair/loss/random", test_loss_random);
	g_test_add_func("/impair/loss/gilbert-elliott", test_loss_gilbert_elliott);
	g_test_add_func("/impair/loss/gilbert-elliott-states", test_loss_gilbert_elliott_states);
	g_test_add_func("/impair/reproducible", test_reproducible);
	g_test_add_func("/impair/delay/uniform", test_delay_uniform);
	g_test_add_func("/impair/delay/normal", test_delay_normal);
	g_test_add_func("/impair/delay/pareto", test_delay_pareto);
	g_test_add_func("/impair/delay/keeps-order", test_delay_keeps_order);
	g_test_add_func("/impair/rate/limits", test_rate_limit);
	g_test_add_func("/impair/dup", test_dup);
	g_test_add_func("/impair/reorder", test_reorder);
	g_test_add_func("/impair/corrupt/one-bit", test_corrupt);
	g_test_add_func("/impair/corrupt/rate", test_corrupt_rate);
	g_test_add_func("/impair/control-passes", test_control_passes);
	g_test_add_func("/impair/flush", test_flush);
	g_test_add_func("/impair/close-with-held", test_close_with_held);
	g_test_add_func("/impair/flow-control", test_flow_control);
	g_test_add_func("/impair/direction", test_direction);
	g_test_add_func("/impair/params-refused", test_params_refused);
	g_test_add_func("/impair/stack/loss", test_stack_loss);
	return g_test_run();
}
