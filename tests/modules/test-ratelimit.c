/* SPDX-License-Identifier: MIT */
/*
 * test-ratelimit.c -- the ratelimit module under UsHarness in virtual time:
 * shaping releases messages exactly when the bucket allows, exerts back-
 * pressure (a writer that respects canputnext() is stopped and nothing is
 * dropped), policing drops the excess, per-flow buckets are fair to a light
 * flow beside a heavy one, flow keys are found in every message form, the
 * flow table is bounded (LRU), high-priority messages never wait, flush and
 * close count what they discard, runs are reproducible; then ratelimit in
 * two composed stacks through the config API, where a tcp-source transfer
 * takes about bytes * 8 / rate seconds of virtual time.
 *
 * Measured values are printed with g_test_message (run with --verbose).
 */
#include "config.h"
#include "ratelimit.h"

#include "../../modules/ip/ip.h"

#include <ustreams/debug.h>
#include <ustreams/dlpi.h>
#include <ustreams/harness.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MS US_NSEC_PER_MSEC
#define US US_NSEC_PER_USEC

/* ------------------------------------------------------------------ */
/* Fixtures                                                           */
/* ------------------------------------------------------------------ */

typedef struct {
	guint32 seq;
	gint64 at;
} Arrival;

typedef struct {
	UsHarness *h;
	GArray *down; /* Arrival */
	GArray *up;
} Fx;

static void
fx_init(Fx *f)
{
	f->h = us_harness_new(RATELIMIT_NAME);
	f->down = g_array_new(FALSE, TRUE, sizeof(Arrival));
	f->up = g_array_new(FALSE, TRUE, sizeof(Arrival));
}

static void
fx_fini(Fx *f)
{
	g_array_free(f->down, TRUE);
	g_array_free(f->up, TRUE);
	us_harness_free(f->h);
}

static void
fx_set(Fx *f, const char *name, const char *value)
{
	GError *error = NULL;
	g_assert_true(us_param_set(us_harness_wq(f->h), name, value, &error));
	g_assert_no_error(error);
	us_harness_run(f->h); /* a new setting may release what waits */
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

/* Offset of the sequence number in the messages built here. */
#define SEQ_OFF 42

static guint32
rd32(const unsigned char *p)
{
	return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static void
wr16(unsigned char *p, guint v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
wr32(unsigned char *p, guint32 v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

/* An IPv4/UDP packet of len bytes (>= 32) from 10.0.0.1:sport to
 * 10.0.0.2:dport, with seq at SEQ_OFF - 14 of the packet. */
static void
ip_fill(unsigned char *p, size_t len, guint sport, guint dport, guint32 seq)
{
	memset(p, 0, len);
	p[0] = 0x45;
	wr16(p + 2, (guint)len);
	p[8] = 64;
	p[9] = 17;
	wr32(p + 12, 0x0a000001);
	wr32(p + 16, 0x0a000002);
	wr16(p + 20, sport);
	wr16(p + 22, dport);
	wr16(p + 24, (guint)len - 20);
	wr32(p + SEQ_OFF - 14, seq);
}

/* An Ethernet frame of len bytes (>= 46) carrying that packet. */
static mblk_t *
frame_new(guint sport, guint32 seq, size_t len)
{
	mblk_t *mp = allocb(len, BPRI_MED);
	unsigned char *p = mp->b_wptr;
	memset(p, 0x02, 12);
	wr16(p + 12, 0x0800);
	ip_fill(p + 14, len - 14, sport, 5001, seq);
	mp->b_wptr += len;
	return mp;
}

/* Moves what left the module into the arrival lists, stamped now. */
static void
fx_collect(Fx *f)
{
	gint64 now = us_harness_now(f->h);
	mblk_t *mp;
	while ((mp = us_harness_pull_down(f->h)) != NULL) {
		Arrival a = { G_MAXUINT32, now };
		if (DB_TYPE(mp) == M_DATA && MBLKL(mp) >= SEQ_OFF + 4)
			a.seq = rd32(mp->b_rptr + SEQ_OFF);
		g_array_append_val(f->down, a);
		freemsg(mp);
	}
	while ((mp = us_harness_pull_up(f->h)) != NULL) {
		Arrival a = { G_MAXUINT32, now };
		if (DB_TYPE(mp) == M_DATA && MBLKL(mp) >= SEQ_OFF + 4)
			a.seq = rd32(mp->b_rptr + SEQ_OFF);
		g_array_append_val(f->up, a);
		freemsg(mp);
	}
}

/* Advances to t, stopping at every timer (arrivals get exact times). */
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

static void
near(const char *what, double got, double want, double tol)
{
	g_test_message("%s: measured %.4f, expected %.4f (tolerance %.4f)", what, got, want, tol);
	if (fabs(got - want) > tol)
		g_error("%s: %.4f is not within %.4f of %.4f", what, got, tol, want);
}

/* ------------------------------------------------------------------ */
/* Shaping                                                            */
/* ------------------------------------------------------------------ */

/* 1 MB/s, a 1000-byte bucket: the first message at once, then one every
 * millisecond to the nanosecond; nothing dropped. */
static void
test_shape_timing(void)
{
	Fx f;
	fx_init(&f);
	fx_set(&f, "rate", "8000000");
	fx_set(&f, "burst", "1000");
	for (guint i = 0; i < 50; i++)
		us_harness_push_down(f.h, frame_new(1, i, 1000));
	g_assert_cmpuint(fx_stat(&f, "down_queued"), ==, 49);
	fx_run_to(&f, 100 * MS);
	g_assert_cmpuint(f.down->len, ==, 50);
	for (guint i = 0; i < 50; i++) {
		Arrival *a = &g_array_index(f.down, Arrival, i);
		g_assert_cmpuint(a->seq, ==, i);
		g_assert_cmpint(a->at, ==, (gint64)i * MS);
	}
	g_assert_cmpuint(fx_stat(&f, "down_passed"), ==, 50);
	g_assert_cmpuint(fx_stat(&f, "down_bytes"), ==, 50000);
	g_assert_cmpuint(fx_stat(&f, "down_shaped"), ==, 49);
	g_assert_cmpuint(fx_stat(&f, "down_queued"), ==, 0);
	g_assert_cmpuint(fx_stat(&f, "down_dropped") + fx_stat(&f, "down_overflow"), ==, 0);
	/* after a quiet period the bucket is full again: a burst of one */
	fx_run_to(&f, 200 * MS);
	us_harness_push_down(f.h, frame_new(1, 50, 1000));
	fx_collect(&f);
	g_assert_cmpint(g_array_index(f.down, Arrival, 50).at, ==, 200 * MS);
	/* the read side has its own bucket */
	us_harness_push_up(f.h, frame_new(1, 60, 1000));
	us_harness_push_up(f.h, frame_new(1, 61, 1000));
	fx_run_to(&f, 210 * MS);
	g_assert_cmpuint(f.up->len, ==, 2);
	g_assert_cmpint(g_array_index(f.up, Arrival, 1).at, ==, 201 * MS);
	fx_fini(&f);
}

/* A writer that respects canputnext() is stopped by the queue's water
 * marks and loses nothing; the transfer takes bytes * 8 / rate. */
static void
test_shape_backpressure(void)
{
	Fx f;
	fx_init(&f);
	fx_set(&f, "rate", "1000000");
	fx_set(&f, "burst", "1500");
	queue_t *head = us_stream_head_wq(us_harness_stream(f.h));
	guint n = 500, sent = 0, blocked = 0;
	size_t maxq = 0;
	while (sent < n) {
		if (canputnext(head)) {
			us_harness_push_down(f.h, frame_new(1, sent++, 1000));
			maxq = MAX(maxq, us_harness_wq(f.h)->q_count);
		} else {
			blocked++;
			fx_run_to(&f, us_harness_now(f.h) + MS);
		}
	}
	fx_run_to(&f, us_harness_now(f.h) + 10 * US_NSEC_PER_SEC);
	g_assert_cmpuint(f.down->len, ==, n);
	for (guint i = 0; i < n; i++)
		g_assert_cmpuint(g_array_index(f.down, Arrival, i).seq, ==, i);
	g_assert_cmpuint(blocked, >, 0);
	g_assert_cmpuint(maxq, <=, 32768 + 1000); /* hiwat plus the message that crossed */
	g_assert_cmpuint(fx_stat(&f, "down_dropped") + fx_stat(&f, "down_overflow"), ==, 0);
	g_assert_cmpuint(us_stack_drop_count(us_harness_stack(f.h), RATELIMIT_NAME, 0) +
				 us_stack_drop_count(us_harness_stack(f.h), RATELIMIT_NAME, 1),
			 ==, 0);
	/* message k (1-based) leaves once k * 1000 - 1500 bytes were earned */
	gint64 last = g_array_index(f.down, Arrival, n - 1).at;
	g_assert_cmpint(last, ==, (gint64)(n * 1000 - 1500) * 8 * 1000);
	g_test_message("back-pressure: writer stopped %u times, queue at most %zu bytes, "
		       "%u kB in %.3f s (%.3f Mbit/s)",
		       blocked, maxq, n, (double)last / 1e9,
		       (double)(n * 1000 - 1500) * 8 / ((double)last / 1e9) / 1e6);
	fx_fini(&f);
}

/* A writer that ignores flow control meets "limit". */
static void
test_shape_overflow(void)
{
	Fx f;
	fx_init(&f);
	fx_set(&f, "rate", "1000000");
	fx_set(&f, "burst", "1000");
	fx_set(&f, "limit", "10000");
	for (guint i = 0; i < 20; i++)
		us_harness_push_down(f.h, frame_new(1, i, 1000));
	g_assert_cmpuint(fx_stat(&f, "down_overflow"), ==, 9); /* 1 passed, 10 wait */
	g_assert_cmpuint(fx_drops(&f, RATELIMIT_DROP_OVERFLOW), ==, 9);
	fx_fini(&f);
}

/* High-priority messages never wait; other control messages never
 * overtake waiting data. */
static void
test_shape_control(void)
{
	Fx f;
	fx_init(&f);
	fx_set(&f, "rate", "8000000");
	fx_set(&f, "burst", "1000");
	for (guint i = 0; i < 3; i++)
		us_harness_push_down(f.h, frame_new(1, i, 1000));
	mblk_t *pc = allocb(4, BPRI_HI);
	DB_TYPE(pc) = M_PCPROTO;
	pc->b_wptr += 4;
	us_harness_push_down(f.h, pc);
	mblk_t *ctl = allocb(4, BPRI_MED);
	DB_TYPE(ctl) = M_PROTO;
	uint32_t prim = DL_BIND_REQ;
	memcpy(ctl->b_wptr, &prim, 4);
	ctl->b_wptr += 4;
	us_harness_push_down(f.h, ctl);
	us_harness_push_down(f.h, frame_new(1, 3, 1000));
	g_assert_cmpuint(us_harness_count_down(f.h), ==, 2); /* the first frame, M_PCPROTO */
	mblk_t *mp = us_harness_pull_down(f.h);
	g_assert_cmpint(DB_TYPE(mp), ==, M_DATA);
	freemsg(mp);
	mp = us_harness_pull_down(f.h);
	g_assert_cmpint(DB_TYPE(mp), ==, M_PCPROTO);
	freemsg(mp);
	fx_run_to(&f, 10 * MS);
	/* frames 1 and 2 at 1 and 2 ms, then the M_PROTO, then frame 3 */
	g_assert_cmpuint(f.down->len, ==, 4);
	g_assert_cmpuint(g_array_index(f.down, Arrival, 0).seq, ==, 1);
	g_assert_cmpuint(g_array_index(f.down, Arrival, 1).seq, ==, 2);
	g_assert_cmpuint(g_array_index(f.down, Arrival, 2).seq, ==, G_MAXUINT32);
	g_assert_cmpint(g_array_index(f.down, Arrival, 2).at, ==, 2 * MS);
	g_assert_cmpuint(g_array_index(f.down, Arrival, 3).seq, ==, 3);
	g_assert_cmpint(g_array_index(f.down, Arrival, 3).at, ==, 3 * MS);
	fx_fini(&f);
}

/* A blocked next queue stops the scan; back-enabling resumes it. */
static void
test_shape_blocked_below(void)
{
	Fx f;
	fx_init(&f);
	fx_set(&f, "rate", "8000000");
	fx_set(&f, "burst", "100000");
	us_harness_set_watermarks(f.h, TRUE, 5000, 1000);
	us_harness_set_blocked(f.h, TRUE, TRUE);
	for (guint i = 0; i < 20; i++)
		us_harness_push_down(f.h, frame_new(1, i, 1000));
	fx_run_to(&f, 10 * MS);
	g_assert_cmpuint(f.down->len, ==, 0);
	us_harness_set_blocked(f.h, TRUE, FALSE);
	fx_collect(&f);
	g_assert_cmpuint(f.down->len, ==, 20);
	g_assert_cmpuint(fx_stat(&f, "down_passed"), ==, 20);
	fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* Policing                                                           */
/* ------------------------------------------------------------------ */

static void
test_police(void)
{
	Fx f;
	fx_init(&f);
	fx_set(&f, "rate", "8000000");
	fx_set(&f, "burst", "3000");
	fx_set(&f, "mode", "police");
	for (guint i = 0; i < 100; i++)
		us_harness_push_down(f.h, frame_new(1, i, 1000));
	fx_collect(&f);
	g_assert_cmpuint(f.down->len, ==, 3);
	g_assert_cmpuint(fx_stat(&f, "down_dropped"), ==, 97);
	g_assert_cmpuint(fx_drops(&f, RATELIMIT_DROP_POLICE), ==, 97);
	/* offered at twice the rate for a second: half passes, at once */
	fx_run_to(&f, US_NSEC_PER_SEC);
	guint before = f.down->len;
	for (guint i = 0; i < 2000; i++) {
		fx_run_to(&f, US_NSEC_PER_SEC + (gint64)i * 500 * US);
		us_harness_push_down(f.h, frame_new(1, 1000 + i, 1000));
	}
	fx_collect(&f);
	guint got = f.down->len - before;
	near("policed fraction at twice the rate", (double)got / 2000, 0.5, 0.005);
	g_assert_cmpuint(fx_stat(&f, "down_shaped"), ==, 0);
	fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* Flows                                                              */
/* ------------------------------------------------------------------ */

/* Police per flow and per stream: a heavy flow (4x the rate) beside a
 * light one (half the rate) for one second. */
static void
fairness_run(const char *per, guint *heavy, guint *light)
{
	Fx f;
	fx_init(&f);
	fx_set(&f, "rate", "8000000");
	fx_set(&f, "burst", "2000");
	fx_set(&f, "mode", "police");
	fx_set(&f, "per", per);
	for (guint t = 0; t < 4000; t++) {
		fx_run_to(&f, (gint64)t * 250 * US);
		us_harness_push_down(f.h, frame_new(1000, t, 1000));
		if (t % 8 == 0)
			us_harness_push_down(f.h, frame_new(2000, 1000000 + t, 1000));
	}
	fx_collect(&f);
	*heavy = *light = 0;
	for (guint i = 0; i < f.down->len; i++) {
		if (g_array_index(f.down, Arrival, i).seq >= 1000000)
			(*light)++;
		else
			(*heavy)++;
	}
	g_test_message("per=%s: heavy flow %u of 4000 passed, light flow %u of 500, flows "
		       "%" G_GUINT64_FORMAT,
		       per, *heavy, *light, fx_stat(&f, "down_flows"));
	fx_fini(&f);
}

static void
test_flow_fairness(void)
{
	guint heavy, light;
	fairness_run("flow", &heavy, &light);
	g_assert_cmpuint(light, ==, 500); /* its own bucket: never short */
	near("heavy flow's share of its rate", heavy / 1000.0, 1.0, 0.01);
	fairness_run("stream", &heavy, &light);
	g_assert_cmpuint(light, <, 250); /* one bucket: the heavy flow starves it */
	near("stream total against the rate", (heavy + light) / 1000.0, 1.0, 0.01);
}

/* Shaping per flow: a light flow's messages overtake a heavy flow's
 * backlog (each flow keeps its own order). */
static void
test_flow_shape_overtakes(void)
{
	for (guint per_flow = 0; per_flow < 2; per_flow++) {
		Fx f;
		fx_init(&f);
		fx_set(&f, "rate", "8000000");
		fx_set(&f, "burst", "1000");
		fx_set(&f, "per", per_flow ? "flow" : "stream");
		for (guint i = 0; i < 30; i++)
			us_harness_push_down(f.h, frame_new(1000, i, 1000));
		for (guint i = 0; i < 3; i++)
			us_harness_push_down(f.h, frame_new(2000, 100 + i, 1000));
		fx_run_to(&f, 100 * MS);
		g_assert_cmpuint(f.down->len, ==, 33);
		guint32 last_heavy = 0, last_light = 99;
		gint64 light_done = 0;
		for (guint i = 0; i < f.down->len; i++) {
			Arrival *a = &g_array_index(f.down, Arrival, i);
			if (a->seq >= 100) {
				g_assert_cmpuint(a->seq, ==, last_light + 1);
				last_light = a->seq;
				light_done = a->at;
			} else {
				g_assert_true(a->seq == 0 || a->seq == last_heavy + 1);
				last_heavy = a->seq;
			}
		}
		g_test_message("per=%s: the light flow's 3 messages done at %.1f ms",
			       per_flow ? "flow" : "stream", (double)light_done / 1e6);
		if (per_flow)
			g_assert_cmpint(light_done, ==, 2 * MS);
		else
			g_assert_cmpint(light_done, ==, 32 * MS);
		fx_fini(&f);
	}
}

static mblk_t *
proto_new(uint32_t prim, size_t hdr, mblk_t *data)
{
	mblk_t *mp = allocb(hdr, BPRI_MED);
	DB_TYPE(mp) = M_PROTO;
	memset(mp->b_wptr, 0, hdr);
	memcpy(mp->b_wptr, &prim, sizeof prim);
	mp->b_wptr += hdr;
	mp->b_cont = data;
	return mp;
}

static mblk_t *
packet_new(guint sport, size_t len)
{
	mblk_t *mp = allocb(len, BPRI_MED);
	ip_fill(mp->b_wptr, len, sport, 5001, 0);
	mp->b_wptr += len;
	return mp;
}

/* One flow seen in every message form that carries it. */
static void
test_flow_keys(void)
{
	Fx f;
	fx_init(&f);
	fx_set(&f, "rate", "8000000000");
	fx_set(&f, "per", "flow");
	us_harness_push_down(f.h, frame_new(7, 0, 100)); /* Ethernet II */
	mblk_t *v = allocb(104, BPRI_MED);               /* 802.1Q tagged */
	memset(v->b_wptr, 0x02, 12);
	wr16(v->b_wptr + 12, 0x8100);
	wr16(v->b_wptr + 14, 5);
	wr16(v->b_wptr + 16, 0x0800);
	ip_fill(v->b_wptr + 18, 86, 7, 5001, 0);
	v->b_wptr += 104;
	us_harness_push_down(f.h, v);
	us_harness_push_down(f.h, packet_new(7, 86)); /* fast path up: IP at 0 */
	us_harness_push_down(
		f.h, proto_new(DL_UNITDATA_REQ, sizeof(dl_unitdata_req_t) + 6, packet_new(7, 86)));
	us_harness_push_up(
		f.h, proto_new(IP_UNITDATA_IND, sizeof(struct ip_unitdata_ind), packet_new(7, 86)));
	g_assert_cmpuint(fx_stat(&f, "down_flows"), ==, 1);
	g_assert_cmpuint(fx_stat(&f, "up_flows"), ==, 1);
	/* IP_UNITDATA_REQ: addresses in the primitive, ports in b_cont */
	struct ip_unitdata_req ur = { .prim = IP_UNITDATA_REQ, .proto = 17 };
	ur.dst = htonl(0x0a000002);
	ur.src = htonl(0x0a000001);
	mblk_t *udp = allocb(8, BPRI_MED);
	wr16(udp->b_wptr, 7);
	wr16(udp->b_wptr + 2, 5001);
	udp->b_wptr += 8;
	mblk_t *req = proto_new(IP_UNITDATA_REQ, sizeof ur, udp);
	memcpy(req->b_rptr, &ur, sizeof ur);
	us_harness_push_down(f.h, req);
	g_assert_cmpuint(fx_stat(&f, "down_flows"), ==, 1);
	/* another port: another flow; fragments share one flow without ports */
	us_harness_push_down(f.h, frame_new(8, 0, 100));
	g_assert_cmpuint(fx_stat(&f, "down_flows"), ==, 2);
	for (guint i = 0; i < 2; i++) {
		mblk_t *fr = frame_new(100 + i, 0, 100);
		fr->b_rptr[14 + 6] = i == 0 ? 0x20 : 0x00; /* MF, then an offset */
		fr->b_rptr[14 + 7] = i == 0 ? 0x00 : 0x10;
		us_harness_push_down(f.h, fr);
	}
	g_assert_cmpuint(fx_stat(&f, "down_flows"), ==, 3);
	/* not IPv4 (ARP; a truncated packet): the "other" bucket */
	mblk_t *arp = frame_new(7, 0, 60);
	wr16(arp->b_rptr + 12, 0x0806);
	us_harness_push_down(f.h, arp);
	mblk_t *trunc = frame_new(7, 0, 100);
	wr16(trunc->b_rptr + 16, 1500); /* total length beyond the frame */
	us_harness_push_down(f.h, trunc);
	g_assert_cmpuint(fx_stat(&f, "down_other"), ==, 2);
	g_assert_cmpuint(fx_stat(&f, "down_flows"), ==, 4);
	fx_collect(&f);
	g_assert_cmpuint(f.down->len, ==, 10);
	g_assert_cmpuint(f.up->len, ==, 1);
	fx_fini(&f);
}

/* The flow table is bounded; flows with messages waiting stay. */
static void
test_flow_lru(void)
{
	Fx f;
	fx_init(&f);
	fx_set(&f, "rate", "8000000000");
	fx_set(&f, "per", "flow");
	fx_set(&f, "max_flows", "3");
	for (guint i = 0; i < 5; i++)
		us_harness_push_down(f.h, frame_new(10 + i, i, 100));
	g_assert_cmpuint(fx_stat(&f, "down_flows"), ==, 3);
	g_assert_cmpuint(fx_stat(&f, "down_evicted"), ==, 2);
	/* the most recent ones were kept: flow 14 again is no new flow */
	us_harness_push_down(f.h, frame_new(14, 5, 100));
	g_assert_cmpuint(fx_stat(&f, "down_evicted"), ==, 2);
	/* slow buckets, two messages per flow: the second of each waits and
	 * pins its flow, so the table grows past max_flows until they go */
	fx_set(&f, "rate", "8000");
	fx_set(&f, "burst", "100");
	for (guint i = 0; i < 5; i++) {
		us_harness_push_down(f.h, frame_new(20 + i, 100 + 2 * i, 100));
		us_harness_push_down(f.h, frame_new(20 + i, 101 + 2 * i, 100));
	}
	g_test_message("flows while 5 wait: %" G_GUINT64_FORMAT, fx_stat(&f, "down_flows"));
	g_assert_cmpuint(fx_stat(&f, "down_flows"), >=, 5);
	fx_run_to(&f, US_NSEC_PER_SEC);
	g_assert_cmpuint(fx_stat(&f, "down_queued"), ==, 0);
	us_harness_push_down(f.h, frame_new(99, 999, 100));
	g_assert_cmpuint(fx_stat(&f, "down_flows"), <=, 3);
	fx_collect(&f);
	/* each flow's pair in order, 100 ms apart */
	for (guint i = 0; i < 5; i++) {
		gint64 first = -1, second = -1;
		for (guint j = 0; j < f.down->len; j++) {
			Arrival *a = &g_array_index(f.down, Arrival, j);
			if (a->seq == 100 + 2 * i)
				first = a->at;
			if (a->seq == 101 + 2 * i)
				second = a->at;
		}
		g_assert_cmpint(first, >=, 0);
		g_assert_cmpint(second - first, ==, 100 * MS);
	}
	fx_fini(&f);
}

/* ------------------------------------------------------------------ */
/* Flush, close, parameters, reproducibility                          */
/* ------------------------------------------------------------------ */

static void
test_flush(void)
{
	Fx f;
	fx_init(&f);
	fx_set(&f, "rate", "8000000");
	fx_set(&f, "burst", "1000");
	for (guint i = 0; i < 11; i++)
		us_harness_push_down(f.h, frame_new(1, i, 1000));
	g_assert_cmpuint(fx_stat(&f, "down_queued"), ==, 10);
	mblk_t *fl = allocb(2, BPRI_HI);
	DB_TYPE(fl) = M_FLUSH;
	*fl->b_wptr++ = FLUSHRW;
	us_harness_push_down(f.h, fl);
	g_assert_cmpuint(fx_stat(&f, "down_queued"), ==, 0);
	g_assert_cmpuint(fx_drops(&f, RATELIMIT_DROP_FLUSH), ==, 10);
	fx_run_to(&f, 50 * MS);
	g_assert_cmpuint(f.down->len, ==, 2); /* the first frame and the M_FLUSH */
	/* the bucket is refilled by then: the next frame passes at once */
	us_harness_push_down(f.h, frame_new(1, 20, 1000));
	g_assert_cmpuint(us_harness_count_down(f.h), ==, 1);
	fx_fini(&f);
}

/* I_POP carries what waits on (the framework takes it off the queues
 * before close): nothing is lost. */
static void
test_pop_with_waiting(void)
{
	Fx f;
	fx_init(&f);
	UsStack *stack = us_harness_stack(f.h);
	fx_set(&f, "rate", "8000");
	fx_set(&f, "burst", "1000");
	for (guint i = 0; i < 6; i++)
		us_harness_push_down(f.h, frame_new(1, i, 1000));
	g_assert_cmpuint(us_harness_count_down(f.h), ==, 1);
	g_assert_cmpint(us_stream_pop(us_harness_stream(f.h)), ==, 0);
	us_harness_run(f.h);
	fx_collect(&f);
	g_assert_cmpuint(f.down->len, ==, 6);
	for (guint i = 0; i < 6; i++)
		g_assert_cmpuint(g_array_index(f.down, Arrival, i).seq, ==, i);
	g_assert_cmpuint(us_stack_drop_count(stack, RATELIMIT_NAME, RATELIMIT_DROP_CLOSED), ==, 0);
	fx_fini(&f);
}

typedef struct {
	queue_t *q;
	mblk_t *mp;
} PutArgs;

static void
put_on_world(gpointer data)
{
	PutArgs *a = data;
	put(a->q, a->mp);
}

/* Closing the stream drops what waits, counted. */
static void
test_close_with_waiting(void)
{
	gint64 live0 = us_msg_live_count();
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *stack = us_stack_new(w, "close");
	GError *error = NULL;
	UsStream *st = us_stream_open(stack, "null", 0, &us_plain_head, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(us_stream_push(st, RATELIMIT_NAME, &error), ==, 0);
	queue_t *wq = us_stream_head_wq(st)->q_next;
	g_assert_true(us_param_set(wq, "rate", "8000", &error));
	g_assert_true(us_param_set(wq, "burst", "1000", &error));
	for (guint i = 0; i < 6; i++) {
		PutArgs a = { wq, frame_new(1, i, 1000) };
		us_world_call(w, put_on_world, &a);
	}
	us_world_run_pending(w);
	us_stream_close(st);
	g_assert_cmpuint(us_stack_drop_count(stack, RATELIMIT_NAME, RATELIMIT_DROP_CLOSED), ==, 5);
	us_world_free(w);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

/* Raising the rate applies to what already waits. */
static void
test_params(void)
{
	Fx f;
	fx_init(&f);
	const char *bad[][2] = { { "per", "host" },
				 { "mode", "drop" },
				 { "direction", "left" },
				 { "burst", "0" },
				 { "lowat", "99999999" } };
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		GError *error = NULL;
		g_assert_false(us_param_set(us_harness_wq(f.h), bad[i][0], bad[i][1], &error));
		g_assert_nonnull(error);
		g_error_free(error);
	}
	fx_set(&f, "rate", "8000");
	fx_set(&f, "burst", "1000");
	for (guint i = 0; i < 5; i++)
		us_harness_push_down(f.h, frame_new(1, i, 1000));
	fx_run_to(&f, 10 * MS);
	g_assert_cmpuint(f.down->len, ==, 1);
	fx_set(&f, "rate", "0"); /* no limit: everything goes */
	fx_collect(&f);
	g_assert_cmpuint(f.down->len, ==, 5);
	/* direction=up leaves the write side alone */
	fx_set(&f, "rate", "8000");
	fx_set(&f, "direction", "up");
	for (guint i = 0; i < 5; i++)
		us_harness_push_down(f.h, frame_new(1, 10 + i, 1000));
	fx_collect(&f);
	g_assert_cmpuint(f.down->len, ==, 10);
	fx_fini(&f);
}

static char *
digest_run(void)
{
	Fx f;
	fx_init(&f);
	fx_set(&f, "rate", "3000000");
	fx_set(&f, "burst", "2500");
	fx_set(&f, "per", "flow");
	for (guint i = 0; i < 600; i++) {
		fx_run_to(&f, (gint64)i * 700 * US);
		us_harness_push_down(f.h, frame_new(1 + i % 3, i, 200 + (i * 37) % 1200));
	}
	fx_run_to(&f, 5 * US_NSEC_PER_SEC);
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	for (guint i = 0; i < f.down->len; i++) {
		Arrival *a = &g_array_index(f.down, Arrival, i);
		g_checksum_update(sum, (const guchar *)&a->seq, sizeof a->seq);
		g_checksum_update(sum, (const guchar *)&a->at, sizeof a->at);
	}
	char *s = g_strdup(g_checksum_get_string(sum));
	g_checksum_free(sum);
	fx_fini(&f);
	return s;
}

static void
test_reproducible(void)
{
	char *a = digest_run(), *b = digest_run();
	g_assert_cmpstr(a, ==, b);
	g_free(a);
	g_free(b);
}

/* ------------------------------------------------------------------ */
/* In a composed stack, through the config API                        */
/* ------------------------------------------------------------------ */

static const char *stack_conf =
	"world { clock virtual; seed 4 }\n"
	"wire lan { delay 1ms }\n"
	"stack a {\n"
	"  interface eth0 { driver wire lan; push ratelim rate=1M %s;"
	" push ether mac=02:00:00:00:00:0a; push arp; address 10.0.0.1/24 }\n"
	"  app tcp-source 10.0.0.2:5001 bytes=%s\n"
	"}\n"
	"stack b {\n"
	"  interface eth0 { driver wire lan; push ether mac=02:00:00:00:00:0b; push arp;"
	" address 10.0.0.2/24 }\n"
	"  app tcp-sink port=5001\n"
	"}\n";

/* Runs a tcp-source of `bytes` through ratelimit with extra parameters;
 * returns the transfer's seconds and the ratelimit's statistics. */
static double
stack_run(const char *extra, const char *bytes, guint64 *shaped, guint64 *dropped)
{
	gint64 live0 = us_msg_live_count();
	char *text = g_strdup_printf(stack_conf, extra, bytes);
	GError *error = NULL;
	UsCfg *cfg = us_cfg_parse_text("ratelimit.conf", text, &error);
	g_assert_no_error(error);
	g_assert_true(us_cfg_check(cfg, &error));
	UsCfgRun *run = us_cfg_build(cfg, &error);
	g_assert_no_error(error);
	queue_t *rl = us_cfg_run_iface_driver(run, "a", "eth0")->q_next;
	g_assert_cmpstr(us_queue_desc(rl)->name, ==, RATELIMIT_NAME);
	g_assert_true(us_cfg_run(run, 0));
	char *s = us_cfg_run_summary(run);
	g_test_message("%s", s);
	g_assert_nonnull(strstr(s, "matches the sink's"));
	const char *p = strstr(s, " bytes in ");
	g_assert_nonnull(p);
	double secs = g_ascii_strtod(p + strlen(" bytes in "), NULL);
	guint64 overflow = 0;
	g_assert_true(us_stat_get(rl, "down_shaped", shaped));
	g_assert_true(us_stat_get(rl, "down_dropped", dropped));
	g_assert_true(us_stat_get(rl, "down_overflow", &overflow));
	g_assert_cmpuint(overflow, ==, 0);
	g_free(s);
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_free(text);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
	return secs;
}

static void
test_stack_shape(void)
{
	guint64 shaped, dropped;
	double secs = stack_run("", "200k", &shaped, &dropped);
	/* 200 kB of payload at 1 Mbit/s is 1.6 s; frames add about 4.5 % */
	near("tcp transfer time / (bytes * 8 / rate)", secs / 1.6, 1.0, 0.1);
	g_assert_cmpuint(shaped, >, 0);
	g_assert_cmpuint(dropped, ==, 0);
}

static void
test_stack_police(void)
{
	guint64 shaped, dropped;
	double secs = stack_run("mode=police burst=8k", "50k", &shaped, &dropped);
	g_test_message("policed: %.3f s, %" G_GUINT64_FORMAT " frames dropped", secs, dropped);
	g_assert_cmpuint(dropped, >, 0);
	g_assert_cmpuint(shaped, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ratelimit/shape/timing", test_shape_timing);
	g_test_add_func("/ratelimit/shape/backpressure", test_shape_backpressure);
	g_test_add_func("/ratelimit/shape/overflow", test_shape_overflow);
	g_test_add_func("/ratelimit/shape/control", test_shape_control);
	g_test_add_func("/ratelimit/shape/blocked-below", test_shape_blocked_below);
	g_test_add_func("/ratelimit/police", test_police);
	g_test_add_func("/ratelimit/flow/fairness", test_flow_fairness);
	g_test_add_func("/ratelimit/flow/shape-overtakes", test_flow_shape_overtakes);
	g_test_add_func("/ratelimit/flow/keys", test_flow_keys);
	g_test_add_func("/ratelimit/flow/lru", test_flow_lru);
	g_test_add_func("/ratelimit/flush", test_flush);
	g_test_add_func("/ratelimit/pop-with-waiting", test_pop_with_waiting);
	g_test_add_func("/ratelimit/close-with-waiting", test_close_with_waiting);
	g_test_add_func("/ratelimit/params", test_params);
	g_test_add_func("/ratelimit/reproducible", test_reproducible);
	g_test_add_func("/ratelimit/stack/shape", test_stack_shape);
	g_test_add_func("/ratelimit/stack/police", test_stack_police);
	return g_test_run();
}
