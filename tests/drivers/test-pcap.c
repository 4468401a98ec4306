/* SPDX-License-Identifier: MIT */
/*
 * test-pcap.c -- the pcap driver: replay of real pcap and pcapng captures
 * (bytes as libpcap reads them, delivery times from the timestamps in
 * virtual time, speed, flow control, non-monotonic stamps, end of file),
 * output captures read back with libpcap, byte-identical output between
 * runs, and clear failures (missing, unreadable, non-Ethernet, garbage).
 */
#include "../common/ustest.h"
#include "pcap-drv.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <string.h>
#include <unistd.h>

#include <ustreams/debug.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

extern const UsModuleDesc us_pcap_desc;

#define MS US_NSEC_PER_MSEC
#define SEC US_NSEC_PER_SEC
/* The shared captures: $US_PCAP_DIR (set by meson), else ../shared/pcaps
 * beside the source tree. */
static const char *
pcaps_dir(void)
{
	static char *dir;
	if (dir == NULL) {
		const char *env = g_getenv("US_PCAP_DIR");
		dir = env ? g_strdup(env)
			  : g_build_filename(G_STRINGIFY(US_SOURCE_ROOT), "..", "shared", "pcaps",
					     NULL);
	}
	return dir;
}

/* A path under the shared captures, interned (lives as long as the test). */
static const char *
shared_pcap(const char *rel)
{
	char *path = g_build_filename(pcaps_dir(), rel, NULL);
	const char *interned = g_intern_string(path);
	g_free(path);
	return interned;
}

#define ICMP_PCAP shared_pcap("icmp/suricata_icmpv4-ping-lan.pcap")
#define ARP_PCAPNG shared_pcap("arp/sanders_arp_resolution.pcapng")

typedef struct {
	UsWorld *world;
	UsStack *stack;
	gint64 live0;
	guint streams0;
} Env;

static void
env_init_clock(Env *e, UsClockKind clock, guint64 seed)
{
	e->live0 = us_msg_live_count();
	e->streams0 = us_stream_live_count();
	e->world = us_world_new(clock, seed);
	e->stack = us_stack_new(e->world, "replay");
}

static void
env_init(Env *e)
{
	env_init_clock(e, US_CLOCK_VIRTUAL, 1);
}

static void
env_fini(Env *e)
{
	us_world_free(e->world);
	g_assert_cmpuint(us_stream_live_count(), ==, e->streams0);
	g_assert_cmpint(us_msg_live_count(), ==, e->live0);
}

static UsStream *
pcap_stream(Env *e)
{
	return ustest_open(e->stack, "pcap");
}

/* Sends an I_STR ioctl with a string argument (NULL: none) and returns the
 * reply's error (0: ACK).  With `out`, the ACK's data is copied there. */
static int
do_ioctl(Env *e, UsStream *st, int cmd, const char *arg, void *out, size_t outlen)
{
	mblk_t *mp = mkiocb((unsigned int)cmd);
	g_assert_nonnull(mp);
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	ioc->ioc_count = 0;
	if (arg != NULL) {
		mp->b_cont = us_msg_from(arg, strlen(arg) + 1, 0);
		ioc->ioc_count = strlen(arg) + 1;
	}
	unsigned int id = ioc->ioc_id;
	put(us_stream_head_wq(st), mp);
	us_world_run_pending(e->world);
	mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	g_assert_true(DB_TYPE(mp) == M_IOCACK || DB_TYPE(mp) == M_IOCNAK);
	ioc = (struct iocblk *)mp->b_rptr;
	g_assert_cmpuint(ioc->ioc_id, ==, id);
	int err = DB_TYPE(mp) == M_IOCACK ? 0 : ioc->ioc_error;
	if (err == 0 && out != NULL) {
		g_assert_cmpuint(ioc->ioc_count, ==, outlen);
		g_assert_nonnull(mp->b_cont);
		g_assert_cmpuint(us_msgcopyout(mp->b_cont, 0, out, outlen), ==, outlen);
	}
	freemsg(mp);
	return err;
}

static struct pcap_drv_status
get_status(Env *e, UsStream *st)
{
	struct pcap_drv_status s;
	g_assert_cmpint(do_ioctl(e, st, PCAP_STATUS, NULL, &s, sizeof s), ==, 0);
	return s;
}

/* ------------------------------------------------------------------ */
/* Reference captures, read with libpcap directly                     */
/* ------------------------------------------------------------------ */

typedef struct {
	gint64 ts;    /* ns */
	GBytes *data; /* captured bytes */
} RefFrame;

static void
ref_clear(gpointer p)
{
	g_bytes_unref(((RefFrame *)p)->data);
}

/* Frames of a capture as libpcap reads them (nanosecond stamps). */
static GArray *
ref_load(const char *path, gboolean nsec)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(
		path, nsec ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	if (p == NULL)
		g_error("%s: %s", path, errbuf);
	GArray *out = g_array_new(FALSE, FALSE, sizeof(RefFrame));
	g_array_set_clear_func(out, ref_clear);
	struct pcap_pkthdr *h;
	const u_char *d;
	while (pcap_next_ex(p, &h, &d) == 1) {
		gint64 frac = h->ts.tv_usec;
		RefFrame f = { (gint64)h->ts.tv_sec * SEC + (nsec ? frac : frac * 1000),
			       g_bytes_new(d, h->caplen) };
		g_array_append_val(out, f);
	}
	pcap_close(p);
	return out;
}

/* Writes a capture of link type dlt with frames of the given lengths and
 * nanosecond stamps. */
static void
write_capture(const char *path, int dlt, guint n, const gint64 *ts, const guint *lens)
{
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(dlt, 65535, PCAP_TSTAMP_PRECISION_NANO);
	g_assert_nonnull(dead);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	g_assert_nonnull(d);
	for (guint i = 0; i < n; i++) {
		guchar buf[1514];
		g_assert_cmpuint(lens[i], <=, sizeof buf);
		for (guint k = 0; k < lens[i]; k++)
			buf[k] = (guchar)(i * 31 + k);
		struct pcap_pkthdr h = { .ts = { .tv_sec = ts[i] / SEC, .tv_usec = ts[i] % SEC },
					 .caplen = lens[i],
					 .len = lens[i] };
		pcap_dump((u_char *)d, &h, buf);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

/* A fresh temporary file name (the file exists, empty). */
static char *
tmp_path(const char *tmpl)
{
	char *path = NULL;
	GError *error = NULL;
	int fd = g_file_open_tmp(tmpl, &path, &error);
	g_assert_no_error(error);
	close(fd);
	return path;
}

static void
tmp_remove(char *path)
{
	g_assert_cmpint(g_unlink(path), ==, 0);
	g_free(path);
}

/* ------------------------------------------------------------------ */
/* Replay                                                             */
/* ------------------------------------------------------------------ */

static gboolean
head_has_data(gpointer data)
{
	return qsize(us_stream_head_rq(data)) > 0;
}

/* Runs the world frame by frame and checks each frame against the reference:
 * same bytes, delivered at start + (ts_i - ts_0) / speed. */
static void
expect_replay(Env *e, UsStream *st, GArray *ref, gint64 start, double speed)
{
	gint64 ts0 = g_array_index(ref, RefFrame, 0).ts;
	for (guint i = 0; i < ref->len; i++) {
		RefFrame *f = &g_array_index(ref, RefFrame, i);
		g_assert_true(us_world_run_until(e->world, head_has_data, st, -1));
		mblk_t *mp = us_plain_head_get(st);
		g_assert_cmpint(DB_TYPE(mp), ==, M_DATA);
		gsize len;
		const void *want = g_bytes_get_data(f->data, &len);
		g_assert_cmpmem(mp->b_rptr, MBLKL(mp), want, len);
		g_assert_null(mp->b_cont);
		gint64 off = f->ts - ts0;
		if (speed != 1.0)
			off = (gint64)((double)off / speed);
		g_assert_cmpint(us_world_now(e->world), ==, start + off);
		freemsg(mp);
	}
	g_assert_false(us_world_run_until(e->world, head_has_data, st, -1));
}

static guint64
ref_bytes(GArray *ref)
{
	guint64 n = 0;
	for (guint i = 0; i < ref->len; i++)
		n += g_bytes_get_size(g_array_index(ref, RefFrame, i).data);
	return n;
}

static void
test_replay_icmp_pcap(void)
{
	GArray *ref = ref_load(ICMP_PCAP, TRUE);
	g_assert_cmpuint(ref->len, ==, 150);
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	us_world_advance(e.world, 5 * SEC);
	struct pcap_drv_status s = get_status(&e, st);
	g_assert_cmpint(s.eof, ==, 0);
	g_assert_cmpint(s.reading, ==, 0);
	g_assert_cmpint(do_ioctl(&e, st, PCAP_START, ICMP_PCAP, NULL, 0), ==, 0);
	expect_replay(&e, st, ref, 5 * SEC, 1.0);
	s = get_status(&e, st);
	g_assert_cmpuint(s.frames_in, ==, 150);
	g_assert_cmpuint(s.bytes_in, ==, ref_bytes(ref));
	g_assert_cmpint(s.eof, ==, 1);
	g_assert_cmpint(s.reading, ==, 0);
	g_assert_cmpuint(ustest_stat(st, "frames_in"), ==, 150);
	g_assert_cmpuint(ustest_stat(st, "eof"), ==, 1);
	g_assert_cmpuint(ustest_stat(st, "nonmono"), ==, 0);
	char *in = us_param_get(us_stream_driver_rq(st), "in", NULL);
	g_assert_cmpstr(in, ==, ICMP_PCAP);
	g_free(in);
	env_fini(&e);
	g_array_free(ref, TRUE);
}

/* The "in" parameter starts replay too; pcapng is read as well. */
static void
test_replay_arp_pcapng(void)
{
	GArray *ref = ref_load(ARP_PCAPNG, TRUE);
	g_assert_cmpuint(ref->len, ==, 2);
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	us_world_advance(e.world, 123 * MS);
	ustest_param(st, "in", ARP_PCAPNG);
	expect_replay(&e, st, ref, 123 * MS, 1.0);
	g_assert_cmpuint(ustest_stat(st, "frames_in"), ==, 2);
	g_assert_cmpuint(ustest_stat(st, "bytes_in"), ==, ref_bytes(ref));
	g_assert_cmpuint(ustest_stat(st, "eof"), ==, 1);
	/* PCAP_START without a name replays "in" again from the start. */
	gint64 again = us_world_now(e.world);
	g_assert_cmpint(do_ioctl(&e, st, PCAP_START, NULL, NULL, 0), ==, 0);
	g_assert_cmpuint(ustest_stat(st, "eof"), ==, 0);
	expect_replay(&e, st, ref, again, 1.0);
	g_assert_cmpuint(ustest_stat(st, "frames_in"), ==, 4);
	env_fini(&e);
	g_array_free(ref, TRUE);
}

static void
test_replay_speed(void)
{
	GArray *ref = ref_load(ICMP_PCAP, TRUE);
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	ustest_param(st, "speed", "4");
	ustest_param(st, "in", ICMP_PCAP);
	expect_replay(&e, st, ref, 0, 4.0);
	/* speed 0: everything at once, one frame per pass, time stands still. */
	ustest_param(st, "speed", "0");
	gint64 now = us_world_now(e.world);
	g_assert_cmpint(do_ioctl(&e, st, PCAP_START, NULL, NULL, 0), ==, 0);
	us_world_run_pending(e.world);
	g_assert_cmpint(us_world_now(e.world), ==, now);
	g_assert_cmpint(qsize(us_stream_head_rq(st)), ==, 150);
	for (guint i = 0; i < ref->len; i++) {
		mblk_t *mp = us_plain_head_get(st);
		gsize len;
		const void *want = g_bytes_get_data(g_array_index(ref, RefFrame, i).data, &len);
		g_assert_cmpmem(mp->b_rptr, MBLKL(mp), want, len);
		freemsg(mp);
	}
	g_assert_cmpuint(ustest_stat(st, "eof"), ==, 1);
	GError *error = NULL;
	g_assert_false(us_param_set(us_stream_driver_rq(st), "speed", "-1", &error));
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_clear_error(&error);
	env_fini(&e);
	g_array_free(ref, TRUE);
}

/* A full reader stops delivery; draining it resumes; nothing is lost. */
static void
flow_control_case(double speed)
{
	GArray *ref = ref_load(ICMP_PCAP, TRUE);
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	queue_t *hq = us_stream_head_rq(st);
	g_assert_cmpint(strqset(hq, QHIWAT, 0, 300), ==, 0);
	g_assert_cmpint(strqset(hq, QLOWAT, 0, 100), ==, 0);
	char buf[G_ASCII_DTOSTR_BUF_SIZE];
	ustest_param(st, "speed", g_ascii_dtostr(buf, sizeof buf, speed));
	ustest_param(st, "in", ICMP_PCAP);
	us_world_advance(e.world, 200 * SEC); /* the whole capture is due */
	g_assert_cmpuint(hq->q_count, >=, 300);
	g_assert_cmpuint(ustest_stat(st, "frames_in"), <, 10);
	guint got = 0;
	while (got < ref->len) {
		g_assert_cmpuint(hq->q_count, <=, 300 + 1514);
		mblk_t *mp = us_plain_head_get(st);
		if (mp == NULL) {
			g_assert_cmpuint(us_world_run_pending(e.world), >, 0);
			continue;
		}
		gsize len;
		const void *want = g_bytes_get_data(g_array_index(ref, RefFrame, got).data, &len);
		g_assert_cmpmem(mp->b_rptr, MBLKL(mp), want, len);
		freemsg(mp);
		got++;
	}
	us_world_run_pending(e.world);
	g_assert_null(us_plain_head_get(st));
	g_assert_cmpuint(ustest_stat(st, "frames_in"), ==, ref->len);
	g_assert_cmpuint(ustest_stat(st, "eof"), ==, 1);
	env_fini(&e);
	g_array_free(ref, TRUE);
}

static void
test_replay_flow_control(void)
{
	flow_control_case(1.0);
}

static void
test_replay_flow_control_fastest(void)
{
	flow_control_case(0.0);
}

/* A frame stamped before an earlier one goes right after it, counted. */
static void
test_replay_nonmonotonic(void)
{
	char *path = tmp_path("us-pcap-nonmono-XXXXXX.pcap");
	const gint64 ts[] = { 1 * SEC, 1 * SEC + 10 * MS, 1 * SEC + 5 * MS, 1 * SEC + 20 * MS,
			      1 * SEC + 7 * MS };
	const guint lens[] = { 60, 61, 62, 63, 64 };
	const gint64 want[] = { 0, 10 * MS, 10 * MS, 20 * MS, 20 * MS };
	write_capture(path, DLT_EN10MB, 5, ts, lens);
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	ustest_param(st, "in", path);
	for (guint i = 0; i < 5; i++) {
		g_assert_true(us_world_run_until(e.world, head_has_data, st, -1));
		mblk_t *mp = us_plain_head_get(st);
		g_assert_cmpuint(MBLKL(mp), ==, lens[i]);
		g_assert_cmpint(us_world_now(e.world), ==, want[i]);
		freemsg(mp);
	}
	g_assert_cmpuint(ustest_stat(st, "nonmono"), ==, 2);
	g_assert_cmpint(get_status(&e, st).nonmono, ==, 2);
	env_fini(&e);
	tmp_remove(path);
}

/* With a real clock replay is paced in real time. */
static void
test_replay_real_clock(void)
{
	char *path = tmp_path("us-pcap-real-XXXXXX.pcap");
	const gint64 ts[] = { 50 * SEC, 50 * SEC + 30 * MS, 50 * SEC + 60 * MS };
	const guint lens[] = { 60, 60, 60 };
	write_capture(path, DLT_EN10MB, 3, ts, lens);
	Env e;
	env_init_clock(&e, US_CLOCK_REAL, 1);
	UsStream *st = pcap_stream(&e);
	gint64 t0 = g_get_monotonic_time();
	ustest_param(st, "in", path);
	for (guint i = 0; i < 3; i++) {
		g_assert_true(us_world_run_until(e.world, head_has_data, st, 5 * SEC));
		freemsg(us_plain_head_get(st));
	}
	gint64 elapsed_us = g_get_monotonic_time() - t0;
	g_assert_cmpint(elapsed_us, >=, 60000);
	g_assert_cmpint(elapsed_us, <, 5000000);
	env_fini(&e);
	tmp_remove(path);
}

/* ------------------------------------------------------------------ */
/* Output                                                             */
/* ------------------------------------------------------------------ */

static mblk_t *
frame_msg(guint i, size_t len)
{
	mblk_t *mp = allocb(len, BPRI_MED);
	for (size_t k = 0; k < len; k++)
		*mp->b_wptr++ = (unsigned char)(i + k);
	return mp;
}

static void
test_out_readback(void)
{
	char *path = tmp_path("us-pcap-out-XXXXXX.pcap");
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	/* Without an output frames are dropped and counted. */
	put(us_stream_head_wq(st), frame_msg(0, 60));
	g_assert_cmpuint(ustest_stat(st, "dropped"), ==, 1);
	g_assert_cmpint(do_ioctl(&e, st, PCAP_OUT, path, NULL, 0), ==, 0);
	const gint64 when[] = { 1 * SEC, 1 * SEC + 250 * MS, 3 * SEC + 7000, 3 * SEC + 7000 };
	const size_t lens[] = { 60, 1514, 42, 100 };
	for (guint i = 0; i < 4; i++) {
		us_world_advance(e.world, when[i] - us_world_now(e.world));
		mblk_t *mp = frame_msg(i, lens[i]);
		if (i == 3) /* a two-block frame is written whole */
			linkb(mp, frame_msg(i + 100, 20));
		put(us_stream_head_wq(st), mp);
	}
	struct pcap_drv_status s = get_status(&e, st);
	g_assert_cmpuint(s.frames_out, ==, 4);
	g_assert_cmpuint(s.bytes_out, ==, 60 + 1514 + 42 + 120);
	us_stream_close(st);
	GArray *got = ref_load(path, FALSE);
	g_assert_cmpuint(got->len, ==, 4);
	for (guint i = 0; i < 4; i++) {
		RefFrame *f = &g_array_index(got, RefFrame, i);
		g_assert_cmpint(f->ts, ==, when[i]);
		mblk_t *want = frame_msg(i, lens[i]);
		if (i == 3)
			linkb(want, frame_msg(i + 100, 20));
		mblk_t *flat = us_msgpullup_all(want);
		gsize len;
		const void *data = g_bytes_get_data(f->data, &len);
		g_assert_cmpmem(data, len, flat->b_rptr, MBLKL(flat));
		freemsg(flat);
		freemsg(want);
	}
	g_array_free(got, TRUE);
	env_fini(&e);
	tmp_remove(path);
}

/* Nanosecond stamps and a base added to the world time. */
static void
test_out_nsec_base(void)
{
	char *path = tmp_path("us-pcap-ns-XXXXXX.pcap");
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	ustest_param(st, "out_nsec", "true");
	ustest_param(st, "out_base", "1700000000000000000");
	ustest_param(st, "out", path);
	us_world_advance(e.world, 1234567);
	put(us_stream_head_wq(st), frame_msg(1, 64));
	us_stream_close(st);
	GArray *got = ref_load(path, TRUE);
	g_assert_cmpuint(got->len, ==, 1);
	g_assert_cmpint(g_array_index(got, RefFrame, 0).ts, ==,
			G_GINT64_CONSTANT(1700000000000000000) + 1234567);
	g_array_free(got, TRUE);
	env_fini(&e);
	tmp_remove(path);
}

/* Replays the ICMP capture and writes each frame back down 1 ms after it
 * arrived, with its MAC addresses swapped; returns the output's bytes. */
static GBytes *
reflect_run(const char *out)
{
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	ustest_param(st, "out", out);
	ustest_param(st, "in", ICMP_PCAP);
	while (us_world_run_until(e.world, head_has_data, st, -1)) {
		mblk_t *mp = us_plain_head_get(st);
		unsigned char mac[6];
		memcpy(mac, mp->b_rptr, 6);
		memmove(mp->b_rptr, mp->b_rptr + 6, 6);
		memcpy(mp->b_rptr + 6, mac, 6);
		us_world_advance(e.world, 1 * MS);
		put(us_stream_head_wq(st), mp);
	}
	g_assert_cmpuint(ustest_stat(st, "frames_out"), ==, 150);
	env_fini(&e);
	char *contents;
	gsize len;
	g_assert_true(g_file_get_contents(out, &contents, &len, NULL));
	return g_bytes_new_take(contents, len);
}

static void
test_out_deterministic(void)
{
	char *p1 = tmp_path("us-pcap-run1-XXXXXX.pcap"), *p2 = tmp_path("us-pcap-run2-XXXXXX.pcap");
	GBytes *one = reflect_run(p1), *two = reflect_run(p2);
	g_assert_cmpuint(g_bytes_get_size(one), >, 24 + 150 * 16);
	g_assert_true(g_bytes_equal(one, two));
	/* And it is a capture libpcap reads, with the reflected frames. */
	GArray *in = ref_load(ICMP_PCAP, TRUE), *out = ref_load(p1, TRUE);
	g_assert_cmpuint(out->len, ==, in->len);
	gint64 ts0 = g_array_index(in, RefFrame, 0).ts;
	for (guint i = 0; i < out->len; i++) {
		RefFrame *a = &g_array_index(in, RefFrame, i),
			 *b = &g_array_index(out, RefFrame, i);
		g_assert_cmpint(b->ts, >=, a->ts - ts0 + 1 * MS);
		gsize la, lb;
		const guchar *da = g_bytes_get_data(a->data, &la),
			     *db = g_bytes_get_data(b->data, &lb);
		g_assert_cmpuint(la, ==, lb);
		g_assert_cmpmem(da, 6, db + 6, 6);
		g_assert_cmpmem(da + 12, la - 12, db + 12, lb - 12);
	}
	g_array_free(in, TRUE);
	g_array_free(out, TRUE);
	g_bytes_unref(one);
	g_bytes_unref(two);
	tmp_remove(p1);
	tmp_remove(p2);
}

/* ------------------------------------------------------------------ */
/* Failures                                                           */
/* ------------------------------------------------------------------ */

static void
test_error_missing(void)
{
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	const char *missing = "/nonexistent-dir/no-such-capture.pcap";
	g_test_expect_message("us-pcap", G_LOG_LEVEL_WARNING, "*no-such-capture.pcap*");
	g_assert_cmpint(do_ioctl(&e, st, PCAP_START, missing, NULL, 0), ==, ENOENT);
	g_test_assert_expected_messages();
	g_test_expect_message("us-pcap", G_LOG_LEVEL_WARNING, "*no-such-capture.pcap*");
	GError *error = NULL;
	g_assert_false(us_param_set(us_stream_driver_rq(st), "in", missing, &error));
	g_test_assert_expected_messages();
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_assert_nonnull(strstr(error->message, "no-such-capture.pcap"));
	g_clear_error(&error);
	/* No file to restart; nothing is being read. */
	g_assert_cmpint(do_ioctl(&e, st, PCAP_START, NULL, NULL, 0), ==, EINVAL);
	g_assert_cmpint(do_ioctl(&e, st, PCAP_START, "", NULL, 0), ==, EINVAL);
	struct pcap_drv_status s = get_status(&e, st);
	g_assert_cmpint(s.reading, ==, 0);
	g_assert_cmpuint(s.frames_in, ==, 0);
	/* Output into a missing directory. */
	g_test_expect_message("us-pcap", G_LOG_LEVEL_WARNING, "*no-such-capture.pcap*");
	g_assert_cmpint(do_ioctl(&e, st, PCAP_OUT, missing, NULL, 0), ==, ENOENT);
	g_test_assert_expected_messages();
	g_assert_cmpint(do_ioctl(&e, st, 0x7777, NULL, NULL, 0), ==, EINVAL);
	env_fini(&e);
}

static void
test_error_not_ethernet(void)
{
	char *path = tmp_path("us-pcap-raw-XXXXXX.pcap");
	const gint64 ts[] = { 0 };
	const guint lens[] = { 40 };
	write_capture(path, DLT_RAW, 1, ts, lens);
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	g_test_expect_message("us-pcap", G_LOG_LEVEL_WARNING, "*not Ethernet*");
	g_assert_cmpint(do_ioctl(&e, st, PCAP_START, path, NULL, 0), ==, EINVAL);
	g_test_assert_expected_messages();
	us_world_advance(e.world, SEC);
	g_assert_null(us_plain_head_get(st));
	g_assert_cmpuint(ustest_stat(st, "frames_in"), ==, 0);
	env_fini(&e);
	tmp_remove(path);
}

static void
test_error_not_capture(void)
{
	char *path = tmp_path("us-pcap-text-XXXXXX.pcap");
	g_assert_true(g_file_set_contents(path, "this is not a capture file\n", -1, NULL));
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	g_test_expect_message("us-pcap", G_LOG_LEVEL_WARNING, "*us-pcap-text-*");
	g_assert_cmpint(do_ioctl(&e, st, PCAP_START, path, NULL, 0), ==, EINVAL);
	g_test_assert_expected_messages();
	g_test_expect_message("us-pcap", G_LOG_LEVEL_WARNING, "*cannot replay*");
	g_assert_cmpint(do_ioctl(&e, st, PCAP_START, g_get_tmp_dir(), NULL, 0), ==, EISDIR);
	g_test_assert_expected_messages();
	env_fini(&e);
	tmp_remove(path);
}

static void
test_error_unreadable(void)
{
	if (geteuid() == 0) {
		g_test_skip("running as root: permissions do not stop reading");
		return;
	}
	char *path = tmp_path("us-pcap-noread-XXXXXX.pcap");
	const gint64 ts[] = { 0 };
	const guint lens[] = { 60 };
	write_capture(path, DLT_EN10MB, 1, ts, lens);
	g_assert_cmpint(g_chmod(path, 0), ==, 0);
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	g_test_expect_message("us-pcap", G_LOG_LEVEL_WARNING, "*us-pcap-noread-*");
	g_assert_cmpint(do_ioctl(&e, st, PCAP_START, path, NULL, 0), ==, EACCES);
	g_test_assert_expected_messages();
	env_fini(&e);
	tmp_remove(path);
}

/* A frame that cannot get a buffer is dropped and counted; the rest go up. */
static void
test_replay_no_memory(void)
{
	GArray *ref = ref_load(ARP_PCAPNG, TRUE);
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	us_msg_fail_allocs(0, 1);
	ustest_param(st, "in", ARP_PCAPNG);
	us_world_run_until(e.world, NULL, NULL, -1);
	mblk_t *mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	gsize len;
	const void *want = g_bytes_get_data(g_array_index(ref, RefFrame, 1).data, &len);
	g_assert_cmpmem(mp->b_rptr, MBLKL(mp), want, len);
	freemsg(mp);
	g_assert_null(us_plain_head_get(st));
	g_assert_cmpuint(ustest_stat(st, "frames_in"), ==, 1);
	g_assert_cmpuint(ustest_stat(st, "errors"), ==, 1);
	g_assert_cmpuint(us_stack_drop_count(e.stack, "pcap", 1), ==, 1);
	env_fini(&e);
	g_array_free(ref, TRUE);
}

/* Input and output at once on one stream, and a stream closed mid-replay. */
static void
test_close_mid_replay(void)
{
	char *path = tmp_path("us-pcap-mid-XXXXXX.pcap");
	Env e;
	env_init(&e);
	UsStream *st = pcap_stream(&e);
	ustest_param(st, "out", path);
	ustest_param(st, "in", ICMP_PCAP);
	us_world_advance(e.world, 3 * SEC);
	struct pcap_drv_status s = get_status(&e, st);
	g_assert_cmpint(s.reading, ==, 1);
	g_assert_cmpint(s.eof, ==, 0);
	g_assert_cmpuint(s.frames_in, >, 0);
	g_assert_cmpuint(s.frames_in, <, 150);
	mblk_t *mp;
	while ((mp = us_plain_head_get(st)) != NULL)
		put(us_stream_head_wq(st), mp);
	us_stream_close(st);
	g_assert_cmpint(us_world_next_deadline(e.world), ==, -1);
	GArray *got = ref_load(path, TRUE);
	g_assert_cmpuint(got->len, ==, s.frames_in);
	g_array_free(got, TRUE);
	env_fini(&e);
	tmp_remove(path);
}

/* Tests that read the shared captures skip, visibly, when they are not
 * there (a clone without ../shared beside it). */
static void
skip_no_captures(void)
{
	char *why = g_strdup_printf("shared captures not found in %s", pcaps_dir());
	g_test_skip(why);
	g_free(why);
}

static void
add_capture_test(const char *path, GTestFunc fn)
{
	char *icmp = g_build_filename(pcaps_dir(), "icmp", NULL);
	gboolean have = g_file_test(icmp, G_FILE_TEST_IS_DIR);
	g_free(icmp);
	g_test_add_func(path, have ? fn : skip_no_captures);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_true(us_registry_add(&us_pcap_desc, NULL));

	add_capture_test("/pcap/replay/icmp-pcap", test_replay_icmp_pcap);
	add_capture_test("/pcap/replay/arp-pcapng", test_replay_arp_pcapng);
	add_capture_test("/pcap/replay/speed", test_replay_speed);
	add_capture_test("/pcap/replay/flow-control", test_replay_flow_control);
	add_capture_test("/pcap/replay/flow-control-fastest", test_replay_flow_control_fastest);
	g_test_add_func("/pcap/replay/non-monotonic", test_replay_nonmonotonic);
	g_test_add_func("/pcap/replay/real-clock", test_replay_real_clock);
	add_capture_test("/pcap/replay/no-memory", test_replay_no_memory);
	g_test_add_func("/pcap/out/readback", test_out_readback);
	g_test_add_func("/pcap/out/nsec-base", test_out_nsec_base);
	add_capture_test("/pcap/out/deterministic", test_out_deterministic);
	g_test_add_func("/pcap/error/missing", test_error_missing);
	g_test_add_func("/pcap/error/not-ethernet", test_error_not_ethernet);
	g_test_add_func("/pcap/error/not-a-capture", test_error_not_capture);
	g_test_add_func("/pcap/error/unreadable", test_error_unreadable);
	add_capture_test("/pcap/close/mid-replay", test_close_mid_replay);
	return g_test_run();
}
