/* SPDX-License-Identifier: MIT */
/*
 * test-wire.c -- the wire driver: two stacks of one virtual-time world joined
 * by a wire; delivery both ways, every impairment (counts and timing),
 * determinism by seed, flow control across the link, hangup on close, and no
 * leaked messages.
 */
#include "../common/ustest.h"
#include "wire.h"

#include <errno.h>
#include <string.h>

#include <ustreams/debug.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

extern const UsModuleDesc us_wire_desc;

#define FRAME_LEN 64
#define MS US_NSEC_PER_MSEC
#define US US_NSEC_PER_USEC

/* A world with two stacks, checked for leaks at the end. */
typedef struct {
	UsWorld *world;
	UsStack *s1, *s2;
	gint64 live0;
	guint streams0;
} Env;

static void
env_init(Env *e, guint64 seed)
{
	e->live0 = us_msg_live_count();
	e->streams0 = us_stream_live_count();
	e->world = us_world_new(US_CLOCK_VIRTUAL, seed);
	e->s1 = us_stack_new(e->world, "left");
	e->s2 = us_stack_new(e->world, "right");
}

static void
env_fini(Env *e)
{
	us_world_free(e->world);
	g_assert_cmpuint(us_stream_live_count(), ==, e->streams0);
	g_assert_cmpint(us_msg_live_count(), ==, e->live0);
}

/* Opens a on s1 and b on s2 and joins them as wire "w0". */
static void
env_pair(Env *e, UsStream **a, UsStream **b)
{
	*a = ustest_open(e->s1, "wire");
	*b = ustest_open(e->s2, "wire");
	ustest_param(*a, "name", "w0");
	g_assert_cmpuint(ustest_stat(*a, "joined"), ==, 0);
	ustest_param(*b, "name", "w0");
	g_assert_cmpuint(ustest_stat(*a, "joined"), ==, 1);
	g_assert_cmpuint(ustest_stat(*b, "joined"), ==, 1);
}

/* Byte i of frame seq (after its 18-byte header). */
static unsigned char
frame_fill(guint32 seq, size_t i)
{
	return (unsigned char)(seq * 7 + i);
}

/* A frame of len bytes: broadcast dst, fixed src, ethertype 0x88b5, the
 * sequence number (big endian), then a pattern derived from seq. */
static mblk_t *
frame_new(guint32 seq, size_t len)
{
	g_assert_cmpuint(len, >=, 18);
	mblk_t *mp = allocb(len, BPRI_MED);
	g_assert_nonnull(mp);
	unsigned char *p = mp->b_wptr;
	memset(p, 0xff, 6);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x01", 6);
	p[12] = 0x88;
	p[13] = 0xb5;
	p[14] = (unsigned char)(seq >> 24);
	p[15] = (unsigned char)(seq >> 16);
	p[16] = (unsigned char)(seq >> 8);
	p[17] = (unsigned char)seq;
	for (size_t i = 18; i < len; i++)
		p[i] = frame_fill(seq, i);
	mp->b_wptr += len;
	return mp;
}

static guint32
frame_seq(const mblk_t *mp)
{
	g_assert_cmpuint(MBLKL(mp), >=, 18);
	const unsigned char *p = mp->b_rptr;
	return (guint32)p[14] << 24 | (guint32)p[15] << 16 | (guint32)p[16] << 8 | p[17];
}

static void
send_frame(UsStream *st, guint32 seq, size_t len)
{
	put(us_stream_head_wq(st), frame_new(seq, len));
}

/* Takes every message waiting at st's head, appending the sequence numbers
 * of its M_DATA frames to seqs (NULL: just count); returns how many. */
static guint
pull_all(UsStream *st, GArray *seqs)
{
	guint n = 0;
	mblk_t *mp;
	while ((mp = us_plain_head_get(st)) != NULL) {
		g_assert_cmpint(DB_TYPE(mp), ==, M_DATA);
		guint32 seq = frame_seq(mp);
		if (seqs != NULL)
			g_array_append_val(seqs, seq);
		freemsg(mp);
		n++;
	}
	return n;
}

/* A frame received and the world time it reached the head. */
typedef struct {
	gint64 at;
	mblk_t *mp;
} Arrival;

/* Runs the world timer by timer until nothing is left to happen, noting
 * when each message reaches st's head.  Returns an array of Arrival. */
static GArray *
collect_timed(UsWorld *w, UsStream *st)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(Arrival));
	for (;;) {
		mblk_t *mp;
		while ((mp = us_plain_head_get(st)) != NULL) {
			Arrival a = { us_world_now(w), mp };
			g_array_append_val(out, a);
		}
		gint64 d = us_world_next_deadline(w);
		if (d < 0)
			break;
		us_world_advance(w, d);
	}
	return out;
}

static void
arrivals_free(GArray *arr)
{
	for (guint i = 0; i < arr->len; i++)
		freemsg(g_array_index(arr, Arrival, i).mp);
	g_array_free(arr, TRUE);
}

/* Sends n frames from a, one every `gap` ns, and collects what reaches b
 * (draining b's head after each step). */
static GArray *
stream_frames(Env *e, UsStream *a, UsStream *b, guint n, gint64 gap)
{
	GArray *seqs = g_array_new(FALSE, FALSE, sizeof(guint32));
	for (guint i = 0; i < n; i++) {
		send_frame(a, i, FRAME_LEN);
		us_world_advance(e->world, gap);
		pull_all(b, seqs);
	}
	us_world_run_until(e->world, NULL, NULL, -1);
	pull_all(b, seqs);
	return seqs;
}

/* An M_IOCTL with data (I_STR style). */
static mblk_t *
ioctl_msg(int cmd, const void *data, size_t len)
{
	mblk_t *mp = mkiocb((unsigned int)cmd);
	g_assert_nonnull(mp);
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	ioc->ioc_count = len;
	if (data != NULL)
		mp->b_cont = us_msg_from(data, len, 0);
	return mp;
}

/* Sends an ioctl down st and returns the error of its reply (0: ACK). */
static int
do_ioctl(Env *e, UsStream *st, int cmd, const void *data, size_t len)
{
	mblk_t *mp = ioctl_msg(cmd, data, len);
	unsigned int id = ((struct iocblk *)mp->b_rptr)->ioc_id;
	put(us_stream_head_wq(st), mp);
	us_world_run_pending(e->world);
	mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	g_assert_true(DB_TYPE(mp) == M_IOCACK || DB_TYPE(mp) == M_IOCNAK);
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	g_assert_cmpuint(ioc->ioc_id, ==, id);
	int err = DB_TYPE(mp) == M_IOCACK ? 0 : ioc->ioc_error;
	if (DB_TYPE(mp) == M_IOCNAK)
		g_assert_cmpint(err, !=, 0);
	freemsg(mp);
	return err;
}

static guint64
drops_named(UsStack *stack, const char *reason)
{
	GHashTable *t = us_stack_drops(stack);
	char *key = g_strconcat("wire ", reason, NULL);
	guint64 *v = g_hash_table_lookup(t, key);
	guint64 n = v ? *v : 0;
	g_free(key);
	g_hash_table_destroy(t);
	return n;
}

/* ------------------------------------------------------------------ */
/* Joining and delivery                                               */
/* ------------------------------------------------------------------ */

static void
test_join_both_ways(void)
{
	Env e;
	env_init(&e, 1);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	send_frame(a, 1, 60);
	send_frame(a, 2, 1514);
	send_frame(b, 3, 42);
	us_world_run_pending(e.world);
	mblk_t *mp = us_plain_head_get(b);
	g_assert_nonnull(mp);
	mblk_t *want = frame_new(1, 60);
	g_assert_cmpmem(mp->b_rptr, MBLKL(mp), want->b_rptr, MBLKL(want));
	freemsg(want);
	freemsg(mp);
	mp = us_plain_head_get(b);
	g_assert_nonnull(mp);
	g_assert_cmpuint(frame_seq(mp), ==, 2);
	g_assert_cmpuint(MBLKL(mp), ==, 1514);
	freemsg(mp);
	g_assert_null(us_plain_head_get(b));
	mp = us_plain_head_get(a);
	g_assert_nonnull(mp);
	g_assert_cmpuint(frame_seq(mp), ==, 3);
	freemsg(mp);
	g_assert_null(us_plain_head_get(a));
	g_assert_cmpuint(ustest_stat(a, "frames_out"), ==, 2);
	g_assert_cmpuint(ustest_stat(a, "bytes_out"), ==, 60 + 1514);
	g_assert_cmpuint(ustest_stat(b, "frames_in"), ==, 2);
	g_assert_cmpuint(ustest_stat(b, "bytes_in"), ==, 60 + 1514);
	g_assert_cmpuint(ustest_stat(b, "frames_out"), ==, 1);
	g_assert_cmpuint(ustest_stat(a, "frames_in"), ==, 1);
	g_assert_cmpuint(ustest_stat(a, "bytes_in"), ==, 42);
	env_fini(&e);
}

static void
test_join_ioctl(void)
{
	Env e;
	env_init(&e, 1);
	UsStream *a = ustest_open(e.s1, "wire"), *b = ustest_open(e.s2, "wire"),
		 *c = ustest_open(e.s2, "wire");
	g_assert_cmpint(do_ioctl(&e, a, WIRE_JOIN, "cable", 6), ==, 0);
	g_assert_cmpint(do_ioctl(&e, b, WIRE_JOIN, "cable", 5), ==, 0); /* no NUL: fine */
	g_assert_cmpuint(ustest_stat(b, "joined"), ==, 1);
	char *name = us_param_get(us_stream_driver_rq(b), "name", NULL);
	g_assert_cmpstr(name, ==, "cable");
	g_free(name);
	/* A third end on a joined wire, an empty name, no name, a bad command. */
	g_assert_cmpint(do_ioctl(&e, c, WIRE_JOIN, "cable", 6), ==, EBUSY);
	g_assert_cmpint(do_ioctl(&e, c, WIRE_JOIN, "", 1), ==, EINVAL);
	g_assert_cmpint(do_ioctl(&e, c, WIRE_JOIN, NULL, 0), ==, EINVAL);
	char longname[WIRE_NAMESZ + 8];
	memset(longname, 'x', sizeof longname);
	g_assert_cmpint(do_ioctl(&e, c, WIRE_JOIN, longname, sizeof longname), ==, EINVAL);
	g_assert_cmpint(do_ioctl(&e, c, WIRE_JOIN + 7, "x", 2), ==, EINVAL);
	/* A joined end cannot be renamed: the parameter is refused and kept. */
	GError *error = NULL;
	g_assert_false(us_param_set(us_stream_driver_rq(a), "name", "other", &error));
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_clear_error(&error);
	name = us_param_get(us_stream_driver_rq(a), "name", NULL);
	g_assert_cmpstr(name, ==, "cable");
	g_free(name);
	/* The link still works; c stayed out. */
	send_frame(a, 9, 60);
	us_world_run_pending(e.world);
	g_assert_cmpuint(pull_all(b, NULL), ==, 1);
	g_assert_cmpuint(pull_all(c, NULL), ==, 0);
	/* A waiting end may change its mind. */
	ustest_param(c, "name", "spare");
	ustest_param(c, "name", "spare2");
	ustest_param(c, "name", "");
	g_assert_cmpuint(ustest_stat(c, "joined"), ==, 0);
	env_fini(&e);
}

/* Names are per world: same-named ends of two worlds never meet. */
static void
test_join_per_world(void)
{
	Env e, f;
	env_init(&e, 1);
	env_init(&f, 1);
	UsStream *a = ustest_open(e.s1, "wire"), *b = ustest_open(f.s1, "wire");
	ustest_param(a, "name", "w0");
	ustest_param(b, "name", "w0");
	g_assert_cmpuint(ustest_stat(a, "joined"), ==, 0);
	g_assert_cmpuint(ustest_stat(b, "joined"), ==, 0);
	send_frame(a, 1, 60);
	us_world_run_pending(e.world);
	us_world_run_pending(f.world);
	g_assert_cmpuint(pull_all(b, NULL), ==, 0);
	g_assert_cmpuint(ustest_stat(a, "drop_nopeer"), ==, 1);
	g_assert_cmpuint(drops_named(e.s1, "not joined to a peer"), ==, 1);
	/* Ends of one world, on one stack, join. */
	UsStream *c = ustest_open(e.s1, "wire");
	ustest_param(c, "name", "w0");
	g_assert_cmpuint(ustest_stat(a, "joined"), ==, 1);
	us_world_free(f.world); /* e's checks below cover both worlds */
	env_fini(&e);
}

static void
test_open_minor_refused(void)
{
	Env e;
	env_init(&e, 1);
	GError *error = NULL;
	UsStream *st = us_stream_open_minor(e.s1, "wire", 3, 0, &us_plain_head, NULL, &error);
	g_assert_null(st);
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_clear_error(&error);
	env_fini(&e);
}

/* ------------------------------------------------------------------ */
/* Delay, jitter, rate                                                */
/* ------------------------------------------------------------------ */

static void
test_delay_exact(void)
{
	Env e;
	env_init(&e, 1);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "delay", "5000000");
	us_world_advance(e.world, 3 * MS);
	send_frame(a, 1, 60);
	send_frame(b, 2, 60); /* b has no delay: at once */
	us_world_advance(e.world, 5 * MS - 1);
	g_assert_cmpuint(pull_all(b, NULL), ==, 0);
	g_assert_cmpuint(pull_all(a, NULL), ==, 1);
	us_world_advance(e.world, 1);
	g_assert_cmpint(us_world_now(e.world), ==, 8 * MS);
	g_assert_cmpuint(pull_all(b, NULL), ==, 1);
	/* Timed to the nanosecond by the collector as well. */
	send_frame(a, 3, 60);
	GArray *arr = collect_timed(e.world, b);
	g_assert_cmpuint(arr->len, ==, 1);
	g_assert_cmpint(g_array_index(arr, Arrival, 0).at, ==, 13 * MS);
	arrivals_free(arr);
	env_fini(&e);
}

/* With jitter frames arrive within [delay, delay + jitter] of sending and
 * never out of order. */
static void
test_jitter_keeps_order(void)
{
	Env e;
	env_init(&e, 7);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "delay", "1000000");
	ustest_param(a, "jitter", "3000000");
	GArray *seqs = stream_frames(&e, a, b, 2000, 100 * US);
	g_assert_cmpuint(seqs->len, ==, 2000);
	for (guint i = 0; i < seqs->len; i++)
		g_assert_cmpuint(g_array_index(seqs, guint32, i), ==, i);
	g_array_free(seqs, TRUE);
	/* Timing bounds on a burst sent at one instant. */
	gint64 t0 = us_world_now(e.world);
	for (guint i = 0; i < 50; i++)
		send_frame(a, i, 60);
	GArray *arr = collect_timed(e.world, b);
	g_assert_cmpuint(arr->len, ==, 50);
	gint64 prev = 0;
	for (guint i = 0; i < arr->len; i++) {
		Arrival *x = &g_array_index(arr, Arrival, i);
		g_assert_cmpuint(frame_seq(x->mp), ==, i);
		g_assert_cmpint(x->at, >=, t0 + 1 * MS);
		g_assert_cmpint(x->at, <=, t0 + 4 * MS);
		g_assert_cmpint(x->at, >=, prev);
		prev = x->at;
	}
	arrivals_free(arr);
	env_fini(&e);
}

/* 1 Mbit/s: a 1000-byte frame takes 8 ms to serialise, then 1 ms to travel. */
static void
test_rate_serialisation(void)
{
	Env e;
	env_init(&e, 1);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "rate", "1000000");
	ustest_param(a, "delay", "1000000");
	gint64 t0 = us_world_now(e.world);
	for (guint i = 0; i < 4; i++)
		send_frame(a, i, 1000);
	GArray *arr = collect_timed(e.world, b);
	g_assert_cmpuint(arr->len, ==, 4);
	for (guint i = 0; i < 4; i++) {
		Arrival *x = &g_array_index(arr, Arrival, i);
		g_assert_cmpuint(frame_seq(x->mp), ==, i);
		g_assert_cmpint(x->at - t0, ==, (gint64)(8 * (i + 1) + 1) * MS);
	}
	arrivals_free(arr);
	/* The link is idle again: the next frame pays one serialisation. */
	t0 = us_world_now(e.world);
	send_frame(a, 9, 125); /* 1 ms */
	arr = collect_timed(e.world, b);
	g_assert_cmpuint(arr->len, ==, 1);
	g_assert_cmpint(g_array_index(arr, Arrival, 0).at - t0, ==, 2 * MS);
	arrivals_free(arr);
	env_fini(&e);
}

/* Bytes waiting to be serialised beyond qlimit are dropped and counted. */
static void
test_rate_queue_limit(void)
{
	Env e;
	env_init(&e, 1);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "rate", "1000000");
	ustest_param(a, "qlimit", "2500");
	for (guint i = 0; i < 5; i++)
		send_frame(a, i, 1000);
	GArray *arr = collect_timed(e.world, b);
	g_assert_cmpuint(arr->len, ==, 2);
	g_assert_cmpuint(frame_seq(g_array_index(arr, Arrival, 1).mp), ==, 1);
	arrivals_free(arr);
	g_assert_cmpuint(ustest_stat(a, "drop_queue"), ==, 3);
	g_assert_cmpuint(ustest_stat(a, "frames_out"), ==, 2);
	g_assert_cmpuint(drops_named(e.s1, "queue limit exceeded"), ==, 3);
	env_fini(&e);
}

/* ------------------------------------------------------------------ */
/* Loss, duplication, reordering, corruption, MTU                     */
/* ------------------------------------------------------------------ */

static void
test_loss_rate(void)
{
	Env e;
	env_init(&e, 42);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "loss", "0.1");
	GArray *seqs = stream_frames(&e, a, b, 10000, 10 * US);
	guint64 lost = ustest_stat(a, "lost");
	g_test_message("lost %" G_GUINT64_FORMAT " of 10000 at p = 0.1", lost);
	/* Binomial(10000, 0.1): sigma = 30; allow 5 sigma. */
	g_assert_cmpuint(lost, >=, 850);
	g_assert_cmpuint(lost, <=, 1150);
	g_assert_cmpuint(seqs->len + lost, ==, 10000);
	g_assert_cmpuint(ustest_stat(a, "frames_out"), ==, 10000);
	g_assert_cmpuint(ustest_stat(b, "frames_in"), ==, seqs->len);
	g_assert_cmpuint(drops_named(e.s1, "lost on the wire"), ==, lost);
	for (guint i = 1; i < seqs->len; i++)
		g_assert_cmpuint(g_array_index(seqs, guint32, i - 1), <,
				 g_array_index(seqs, guint32, i));
	g_array_free(seqs, TRUE);
	env_fini(&e);
}

/* Digest of the sequence numbers b receives from a lossy wire. */
static char *
loss_trace(guint64 seed)
{
	Env e;
	env_init(&e, seed);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "loss", "0.1");
	GArray *seqs = stream_frames(&e, a, b, 10000, 10 * US);
	char *digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)seqs->data,
						   seqs->len * sizeof(guint32));
	g_array_free(seqs, TRUE);
	env_fini(&e);
	return digest;
}

static void
test_loss_deterministic(void)
{
	char *one = loss_trace(42), *two = loss_trace(42), *other = loss_trace(43);
	g_assert_cmpstr(one, ==, two);
	g_assert_cmpstr(one, !=, other);
	g_free(one);
	g_free(two);
	g_free(other);
}

static void
test_duplication(void)
{
	Env e;
	env_init(&e, 5);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "dup", "0.2");
	ustest_param(a, "delay", "500000");
	GArray *seqs = stream_frames(&e, a, b, 10000, 10 * US);
	guint64 dups = ustest_stat(a, "duplicated");
	g_test_message("duplicated %" G_GUINT64_FORMAT " of 10000 at p = 0.2", dups);
	g_assert_cmpuint(dups, >=, 1800); /* sigma = 40 */
	g_assert_cmpuint(dups, <=, 2200);
	g_assert_cmpuint(seqs->len, ==, 10000 + dups);
	/* Copies arrive right after their original; nothing else moves. */
	guint32 want = 0;
	guint seen_dups = 0;
	for (guint i = 0; i < seqs->len; i++) {
		guint32 s = g_array_index(seqs, guint32, i);
		if (i > 0 && s == g_array_index(seqs, guint32, i - 1)) {
			seen_dups++;
			continue;
		}
		g_assert_cmpuint(s, ==, want);
		want++;
	}
	g_assert_cmpuint(seen_dups, ==, dups);
	g_assert_cmpuint(ustest_stat(b, "frames_in"), ==, seqs->len);
	g_array_free(seqs, TRUE);
	env_fini(&e);
}

static void
test_reordering(void)
{
	Env e;
	env_init(&e, 9);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "reorder", "0.1");
	ustest_param(a, "reorder_delay", "1000000");
	GArray *seqs = stream_frames(&e, a, b, 10000, 100 * US);
	guint64 reordered = ustest_stat(a, "reordered");
	g_test_message("reordered %" G_GUINT64_FORMAT " of 10000 at p = 0.1", reordered);
	g_assert_cmpuint(reordered, >=, 850);
	g_assert_cmpuint(reordered, <=, 1150);
	g_assert_cmpuint(seqs->len, ==, 10000);
	/* Every frame arrives once; a frame is "late" when a higher sequence
	 * number came before it.  Held-back frames are exactly the late ones
	 * unless two held-back frames in a row keep their relative order. */
	gboolean *seen = g_new0(gboolean, 10000);
	guint32 highest = 0;
	guint late = 0;
	for (guint i = 0; i < seqs->len; i++) {
		guint32 s = g_array_index(seqs, guint32, i);
		g_assert_false(seen[s]);
		seen[s] = TRUE;
		if (i > 0 && s < highest)
			late++;
		highest = MAX(highest, s);
	}
	g_test_message("%u frames overtaken", late);
	g_assert_cmpuint(late, >, 0);
	g_assert_cmpuint(late, <=, reordered);
	g_assert_cmpuint(late, >=, reordered * 8 / 10);
	g_free(seen);
	g_array_free(seqs, TRUE);
	env_fini(&e);
}

/* Bits that differ between two buffers of equal length. */
static guint
bit_diff(const unsigned char *x, const unsigned char *y, size_t len)
{
	guint n = 0;
	for (size_t i = 0; i < len; i++)
		n += (guint)__builtin_popcount((unsigned)(x[i] ^ y[i]));
	return n;
}

static void
test_corruption(void)
{
	Env e;
	env_init(&e, 11);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "corrupt", "0.1");
	guint n = 5000, damaged = 0;
	for (guint i = 0; i < n; i++) {
		send_frame(a, i, FRAME_LEN);
		us_world_run_pending(e.world);
		mblk_t *mp = us_plain_head_get(b);
		g_assert_nonnull(mp);
		mblk_t *want = frame_new(i, FRAME_LEN);
		g_assert_cmpuint(MBLKL(mp), ==, FRAME_LEN);
		guint d = bit_diff(mp->b_rptr, want->b_rptr, FRAME_LEN);
		g_assert_cmpuint(d, <=, 1);
		damaged += d;
		freemsg(want);
		freemsg(mp);
	}
	g_test_message("corrupted %u of %u at p = 0.1", damaged, n);
	g_assert_cmpuint(damaged, ==, ustest_stat(a, "corrupted"));
	g_assert_cmpuint(damaged, >=, 400); /* sigma = 21 */
	g_assert_cmpuint(damaged, <=, 600);
	env_fini(&e);
}

/* A frame whose data is shared (the sender keeps a reference, as TCP's
 * retransmission queue does) is copied before a bit is flipped. */
static void
test_corruption_shared_data(void)
{
	Env e;
	env_init(&e, 3);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "corrupt", "1");
	mblk_t *orig = frame_new(77, FRAME_LEN);
	mblk_t *pristine = copymsg(orig);
	put(us_stream_head_wq(a), dupmsg(orig));
	us_world_run_pending(e.world);
	g_assert_cmpmem(orig->b_rptr, MBLKL(orig), pristine->b_rptr, MBLKL(pristine));
	g_assert_cmpint(DB_REF(orig), ==, 1);
	mblk_t *mp = us_plain_head_get(b);
	g_assert_nonnull(mp);
	g_assert_cmpuint(bit_diff(mp->b_rptr, orig->b_rptr, FRAME_LEN), ==, 1);
	g_assert_true(mp->b_datap != orig->b_datap);
	freemsg(mp);
	freemsg(orig);
	freemsg(pristine);
	/* With duplication too, each copy is corrupted on its own. */
	ustest_param(a, "dup", "1");
	send_frame(a, 5, FRAME_LEN);
	us_world_run_pending(e.world);
	mblk_t *x = us_plain_head_get(b), *y = us_plain_head_get(b);
	g_assert_nonnull(x);
	g_assert_nonnull(y);
	g_assert_true(x->b_datap != y->b_datap);
	mblk_t *want = frame_new(5, FRAME_LEN);
	g_assert_cmpuint(bit_diff(x->b_rptr, want->b_rptr, FRAME_LEN), ==, 1);
	g_assert_cmpuint(bit_diff(y->b_rptr, want->b_rptr, FRAME_LEN), ==, 1);
	freemsg(want);
	freemsg(x);
	freemsg(y);
	g_assert_cmpuint(ustest_stat(a, "corrupted"), ==, 3);
	env_fini(&e);
}

/* A copy that cannot be made is counted as an error; the original goes. */
static void
test_duplication_no_memory(void)
{
	Env e;
	env_init(&e, 1);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "dup", "1");
	mblk_t *mp = frame_new(1, FRAME_LEN);
	us_msg_fail_allocs(0, 1);
	put(us_stream_head_wq(a), mp);
	us_world_run_pending(e.world);
	g_assert_cmpuint(pull_all(b, NULL), ==, 1);
	g_assert_cmpuint(ustest_stat(a, "errors"), ==, 1);
	g_assert_cmpuint(ustest_stat(a, "duplicated"), ==, 0);
	env_fini(&e);
}

static void
test_mtu(void)
{
	Env e;
	env_init(&e, 1);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	send_frame(a, 1, 1514);
	send_frame(a, 2, 1515);
	ustest_param(a, "mtu", "100");
	send_frame(a, 3, 114);
	send_frame(a, 4, 115);
	ustest_param(a, "mtu", "0");
	send_frame(a, 5, 9000);
	us_world_run_pending(e.world);
	GArray *seqs = g_array_new(FALSE, FALSE, sizeof(guint32));
	pull_all(b, seqs);
	g_assert_cmpuint(seqs->len, ==, 3);
	g_assert_cmpuint(g_array_index(seqs, guint32, 0), ==, 1);
	g_assert_cmpuint(g_array_index(seqs, guint32, 1), ==, 3);
	g_assert_cmpuint(g_array_index(seqs, guint32, 2), ==, 5);
	g_array_free(seqs, TRUE);
	g_assert_cmpuint(ustest_stat(a, "drop_mtu"), ==, 2);
	g_assert_cmpuint(drops_named(e.s1, "longer than the MTU"), ==, 2);
	env_fini(&e);
}

static void
test_params_invalid(void)
{
	Env e;
	env_init(&e, 1);
	UsStream *a = ustest_open(e.s1, "wire");
	queue_t *rq = us_stream_driver_rq(a);
	GError *error = NULL;
	g_assert_false(us_param_set(rq, "loss", "1.5", &error));
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(us_param_set(rq, "dup", "-0.1", &error));
	g_clear_error(&error);
	g_assert_false(us_param_set(rq, "qlimit", "0", &error));
	g_clear_error(&error);
	char *v = us_param_get(rq, "loss", NULL);
	g_assert_cmpfloat(g_ascii_strtod(v, NULL), ==, 0.0);
	g_free(v);
	/* qlimit becomes the write queue's high water mark. */
	ustest_param(a, "qlimit", "4000");
	g_assert_cmpuint(WR(rq)->q_hiwat, ==, 4000);
	g_assert_cmpuint(WR(rq)->q_lowat, ==, 1000);
	env_fini(&e);
}

/* ------------------------------------------------------------------ */
/* Flow control                                                       */
/* ------------------------------------------------------------------ */

static void
head_marks(UsStream *st, intptr_t hiwat, intptr_t lowat)
{
	g_assert_cmpint(strqset(us_stream_head_rq(st), QHIWAT, 0, hiwat), ==, 0);
	g_assert_cmpint(strqset(us_stream_head_rq(st), QLOWAT, 0, lowat), ==, 0);
}

/* Reads n frames from st one at a time, running the world when the head is
 * empty; checks order and that the head never held more than hiwat plus one
 * frame. */
static void
drain_in_order(UsWorld *w, UsStream *st, guint n, size_t hiwat)
{
	guint got = 0;
	while (got < n) {
		g_assert_cmpuint(us_stream_head_rq(st)->q_count, <=, hiwat + FRAME_LEN);
		mblk_t *mp = us_plain_head_get(st);
		if (mp == NULL) {
			gint64 d = us_world_next_deadline(w);
			g_assert_cmpint(d, >=, 0); /* something must still be coming */
			us_world_advance(w, d);
			continue;
		}
		g_assert_cmpuint(frame_seq(mp), ==, got);
		freemsg(mp);
		got++;
	}
	us_world_run_until(w, NULL, NULL, -1);
	g_assert_null(us_plain_head_get(st));
}

static void
flow_control_case(gint64 delay)
{
	Env e;
	env_init(&e, 1);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	char buf[32];
	g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT, delay);
	ustest_param(a, "delay", buf);
	head_marks(b, 10 * FRAME_LEN, 2 * FRAME_LEN);
	for (guint i = 0; i < 100; i++)
		send_frame(a, i, FRAME_LEN);
	us_world_advance(e.world, delay + MS);
	queue_t *awq = WR(us_stream_driver_rq(a));
	/* The reader filled up; the rest waits on a's write side. */
	g_assert_cmpuint(us_stream_head_rq(b)->q_count, >=, 10 * FRAME_LEN);
	g_assert_cmpint(qsize(awq) + qsize(us_stream_driver_rq(b)), >, 50);
	drain_in_order(e.world, b, 100, 10 * FRAME_LEN);
	g_assert_cmpint(qsize(awq), ==, 0);
	g_assert_cmpuint(ustest_stat(a, "frames_out"), ==, 100);
	g_assert_cmpuint(ustest_stat(b, "frames_in"), ==, 100);
	g_assert_cmpuint(ustest_stat(a, "drop_queue"), ==, 0);
	env_fini(&e);
}

static void
test_flow_control_no_delay(void)
{
	flow_control_case(0);
}

static void
test_flow_control_delay(void)
{
	flow_control_case(2 * MS);
}

/* Beyond qlimit on the write queue, frames are dropped and counted. */
static void
test_flow_control_qlimit(void)
{
	Env e;
	env_init(&e, 1);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "qlimit", "640"); /* ten frames may wait */
	head_marks(b, 5 * FRAME_LEN, FRAME_LEN);
	for (guint i = 0; i < 30; i++)
		send_frame(a, i, FRAME_LEN);
	us_world_run_pending(e.world);
	guint64 dropped = ustest_stat(a, "drop_queue");
	g_assert_cmpuint(dropped, >, 0);
	GArray *seqs = g_array_new(FALSE, FALSE, sizeof(guint32));
	while (pull_all(b, seqs) > 0 || us_world_run_pending(e.world) > 0)
		;
	g_assert_cmpuint(seqs->len + dropped, ==, 30);
	for (guint i = 0; i < seqs->len; i++)
		g_assert_cmpuint(g_array_index(seqs, guint32, i), ==, i);
	g_array_free(seqs, TRUE);
	env_fini(&e);
}

/* ------------------------------------------------------------------ */
/* Close and determinism                                              */
/* ------------------------------------------------------------------ */

static void
test_close_hangup(void)
{
	Env e;
	env_init(&e, 1);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "delay", "10000000");
	ustest_param(b, "delay", "10000000");
	head_marks(b, 2 * FRAME_LEN, FRAME_LEN);
	for (guint i = 0; i < 3; i++)
		send_frame(a, i, FRAME_LEN); /* land at b's full reader at 10 ms */
	us_world_advance(e.world, 10 * MS);
	g_assert_cmpint(qsize(us_stream_driver_rq(b)), >, 0);
	for (guint i = 0; i < 4; i++)
		send_frame(a, 10 + i, FRAME_LEN); /* wait on a's write side */
	send_frame(b, 20, FRAME_LEN);             /* in flight to a */
	us_world_advance(e.world, 1 * MS);
	gint64 live_before = us_msg_live_count();
	us_stream_close(a);
	us_world_run_pending(e.world);
	/* b gets the three frames that reached it, and M_HANGUP (which the
	 * plain head, queueing by priority, hands out first). */
	guint data = 0, hangups = 0;
	mblk_t *mp;
	while ((mp = us_plain_head_get(b)) != NULL) {
		if (DB_TYPE(mp) == M_HANGUP) {
			hangups++;
		} else {
			g_assert_cmpint(DB_TYPE(mp), ==, M_DATA);
			g_assert_cmpuint(frame_seq(mp), ==, data);
			data++;
		}
		freemsg(mp);
	}
	g_assert_cmpuint(data, ==, 3);
	g_assert_cmpuint(hangups, ==, 1);
	g_assert_cmpuint(ustest_stat(b, "joined"), ==, 0);
	g_assert_cmpuint(ustest_stat(b, "drop_closed"), ==, 1);
	/* Nothing in flight any more; timers were cancelled. */
	us_world_run_pending(e.world);
	g_assert_cmpint(us_world_next_deadline(e.world), ==, -1);
	us_world_advance(e.world, 50 * MS);
	g_assert_null(us_plain_head_get(b));
	g_assert_cmpint(us_msg_live_count(), <, live_before);
	/* b's writes now go nowhere, counted. */
	send_frame(b, 30, FRAME_LEN);
	us_world_run_pending(e.world);
	g_assert_cmpuint(ustest_stat(b, "drop_nopeer"), ==, 1);
	/* The name is free again for two new ends. */
	UsStream *c = ustest_open(e.s1, "wire"), *d = ustest_open(e.s2, "wire");
	ustest_param(c, "name", "w0");
	ustest_param(d, "name", "w0");
	g_assert_cmpuint(ustest_stat(c, "joined"), ==, 1);
	env_fini(&e);
}

/* Closing the world with frames in flight both ways frees everything. */
static void
test_close_world_in_flight(void)
{
	Env e;
	env_init(&e, 1);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "delay", "5000000");
	ustest_param(b, "rate", "1000");
	for (guint i = 0; i < 10; i++) {
		send_frame(a, i, FRAME_LEN);
		send_frame(b, i, FRAME_LEN);
	}
	us_world_advance(e.world, 1 * MS);
	env_fini(&e);
}

/* Digest of (arrival time, frame bytes) through every impairment at once. */
static char *
mixed_trace(guint64 seed)
{
	Env e;
	env_init(&e, seed);
	UsStream *a, *b;
	env_pair(&e, &a, &b);
	ustest_param(a, "loss", "0.05");
	ustest_param(a, "dup", "0.05");
	ustest_param(a, "reorder", "0.05");
	ustest_param(a, "corrupt", "0.05");
	ustest_param(a, "delay", "2000000");
	ustest_param(a, "jitter", "1000000");
	ustest_param(a, "rate", "100000000");
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	for (guint i = 0; i < 3000; i++) {
		send_frame(a, i, FRAME_LEN + i % 200);
		us_world_advance(e.world, 20 * US);
		mblk_t *mp;
		while ((mp = us_plain_head_get(b)) != NULL) {
			gint64 now = us_world_now(e.world);
			g_checksum_update(sum, (const guchar *)&now, sizeof now);
			g_checksum_update(sum, mp->b_rptr, MBLKL(mp));
			freemsg(mp);
		}
	}
	char *digest = g_strdup(g_checksum_get_string(sum));
	g_checksum_free(sum);
	env_fini(&e);
	return digest;
}

static void
test_determinism_mixed(void)
{
	char *one = mixed_trace(2024), *two = mixed_trace(2024), *other = mixed_trace(2025);
	g_assert_cmpstr(one, ==, two);
	g_assert_cmpstr(one, !=, other);
	g_free(one);
	g_free(two);
	g_free(other);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_true(us_registry_add(&us_wire_desc, NULL));

	g_test_add_func("/wire/join/both-ways", test_join_both_ways);
	g_test_add_func("/wire/join/ioctl", test_join_ioctl);
	g_test_add_func("/wire/join/per-world", test_join_per_world);
	g_test_add_func("/wire/open/minor-refused", test_open_minor_refused);
	g_test_add_func("/wire/delay/exact", test_delay_exact);
	g_test_add_func("/wire/jitter/keeps-order", test_jitter_keeps_order);
	g_test_add_func("/wire/rate/serialisation", test_rate_serialisation);
	g_test_add_func("/wire/rate/queue-limit", test_rate_queue_limit);
	g_test_add_func("/wire/loss/rate", test_loss_rate);
	g_test_add_func("/wire/loss/deterministic", test_loss_deterministic);
	g_test_add_func("/wire/dup/rate", test_duplication);
	g_test_add_func("/wire/dup/no-memory", test_duplication_no_memory);
	g_test_add_func("/wire/reorder/rate", test_reordering);
	g_test_add_func("/wire/corrupt/rate", test_corruption);
	g_test_add_func("/wire/corrupt/shared-data-copied", test_corruption_shared_data);
	g_test_add_func("/wire/mtu/drops-long", test_mtu);
	g_test_add_func("/wire/params/invalid", test_params_invalid);
	g_test_add_func("/wire/flow-control/no-delay", test_flow_control_no_delay);
	g_test_add_func("/wire/flow-control/delay", test_flow_control_delay);
	g_test_add_func("/wire/flow-control/qlimit", test_flow_control_qlimit);
	g_test_add_func("/wire/close/hangup", test_close_hangup);
	g_test_add_func("/wire/close/world-in-flight", test_close_world_in_flight);
	g_test_add_func("/wire/determinism/mixed", test_determinism_mixed);
	return g_test_run();
}
