/* SPDX-License-Identifier: MIT */
/*
 * test-snoop.c -- the snoop module under the harness (every message form
 * that carries a packet: raw frames, DL_UNITDATA_IND/REQ, fast-path M_DATA
 * both ways, IP_UNITDATA_IND/REQ; messages passed on untouched; captures
 * read back with libpcap and compared byte for byte; directions, BPF
 * filters changed at run time and refused, rotation and rotate_keep, write
 * errors, timestamps, snaplen, flow-control transparency), and inside two
 * stacks built from a config in virtual time (a ping recorded above arp on
 * one side and below ether on the other: the same packets in both files).
 *
 * The harness fails a test that leaks message blocks.
 */
#include "snoop.h"

#include "config.h"
#include "pkttest.h"

#include <ustreams/debug.h>
#include <ustreams/harness.h>
#include <ustreams/registry.h>
#include <ustreams/ustreams.h>

#include <errno.h>
#include <string.h>

#define MS (G_GINT64_CONSTANT(1000000))

static char *tmpdir;

static char *
tmp_path(const char *name)
{
	return g_build_filename(tmpdir, name, NULL);
}

static void
set(UsHarness *h, const char *name, const char *value)
{
	GError *error = NULL;
	g_assert_true(us_param_set(us_harness_rq(h), name, value, &error));
	g_assert_no_error(error);
}

static guint64
qstat(queue_t *q, const char *name)
{
	guint64 v = G_MAXUINT64;
	g_assert_true(us_stat_get(q, name, &v));
	return v;
}

#define HSTAT(h, name) qstat(us_harness_rq(h), name)

/* Pushes mp through snoop (up or down) and checks that the very same
 * message came out at the other end, unchanged, and nothing else. */
static void
pass(UsHarness *h, gboolean up, mblk_t *mp)
{
	GBytes *before = pt_msg_image(mp);
	mblk_t *orig = mp;
	if (up)
		us_harness_push_up(h, mp);
	else
		us_harness_push_down(h, mp);
	mblk_t *out = up ? us_harness_pull_up(h) : us_harness_pull_down(h);
	g_assert_true(out == orig);
	g_assert_null(up ? us_harness_pull_up(h) : us_harness_pull_down(h));
	GBytes *after = pt_msg_image(out);
	g_assert_true(g_bytes_equal(before, after));
	g_bytes_unref(before);
	g_bytes_unref(after);
	freemsg(out);
}

static void
pass_up(UsHarness *h, mblk_t *mp)
{
	pass(h, TRUE, mp);
}

static void
pass_down(UsHarness *h, mblk_t *mp)
{
	pass(h, FALSE, mp);
}

static GPtrArray *
read_back(const char *path, int want_dlt)
{
	GPtrArray *recs;
	g_assert_cmpint(pt_read_pcap(path, &recs), ==, want_dlt);
	return recs;
}

static GByteArray *
ping_req(uint16_t seq)
{
	return pt_icmp_echo("10.0.0.1", "10.0.0.2", TRUE, 7, seq, 56);
}

/* ------------------------------------------------------------------ */
/* Below ether: raw frames                                            */
/* ------------------------------------------------------------------ */

static void
test_link_frames(void)
{
	UsHarness *h = us_harness_new("snoop");
	char *path = tmp_path("link.pcap");
	set(h, SNOOP_PARAM_FILE, path);
	GByteArray *ip = ping_req(1), *arp = pt_arp_request("10.0.0.1", "10.0.0.2");
	GByteArray *f1 = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, ip, -1);
	GByteArray *f2 = pt_frame(PT_MAC_A, PT_MAC_B, ETHER_T_ARP, arp, -1);
	GByteArray *f3 = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, ip, 42);
	gint64 t1 = us_harness_now(h);
	pass_up(h, pt_data_ba(f1, 1));
	us_harness_advance(h, 3 * MS / 2);
	pass_down(h, pt_data_ba(f2, 3));
	us_harness_advance(h, 2 * MS);
	pass_up(h, pt_data_ba(f3, 4));
	/* messages that carry no packet pass and are not recorded */
	dl_info_req_t info = { .dl_primitive = DL_INFO_REQ };
	pass_down(h, pt_proto(&info, sizeof info, NULL, 0, NULL));
	mblk_t *ack = pt_proto(&info, sizeof info, NULL, 0, NULL);
	DB_TYPE(ack) = M_PCPROTO;
	pass_up(h, ack);
	pass_down(h, mkiocb(DL_IOC_HDR_INFO));
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_MSGS), ==, 6);
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_PACKETS), ==, 3);
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_SKIPPED), ==, 0);
	guint64 bytes = HSTAT(h, SNOOP_STAT_BYTES);
	g_assert_cmpuint(bytes, ==, 24 + 3 * 16 + f1->len + f2->len + f3->len);
	us_harness_free(h); /* closes the file */
	g_assert_cmpuint(pt_file_size(path), ==, bytes);
	GPtrArray *recs = read_back(path, DLT_EN10MB);
	g_assert_cmpuint(recs->len, ==, 3);
	pt_assert_rec(recs->pdata[0], f1);
	pt_assert_rec(recs->pdata[1], f2);
	pt_assert_rec(recs->pdata[2], f3);
	g_assert_cmpint(((PtRec *)recs->pdata[0])->ts_ns, ==, t1);
	g_assert_cmpint(((PtRec *)recs->pdata[1])->ts_ns, ==, t1 + 3 * MS / 2);
	g_assert_cmpint(((PtRec *)recs->pdata[2])->ts_ns, ==, t1 + 7 * MS / 2);
	g_ptr_array_unref(recs);
	g_byte_array_unref(ip);
	g_byte_array_unref(arp);
	g_byte_array_unref(f1);
	g_byte_array_unref(f2);
	g_byte_array_unref(f3);
	g_unlink(path);
	g_free(path);
}

/* ------------------------------------------------------------------ */
/* Above ether: DLPI and the fast path                                */
/* ------------------------------------------------------------------ */

static void
test_dlpi_forms(void)
{
	UsHarness *h = us_harness_new("snoop");
	char *path = tmp_path("dlpi.pcap");
	set(h, SNOOP_PARAM_FILE, path);
	GByteArray *p1 = ping_req(1);
	GByteArray *p2 = pt_icmp_echo("10.0.0.2", "10.0.0.1", FALSE, 7, 1, 56);
	GByteArray *p3 = pt_udp("10.0.0.1", "10.0.0.9", 1234, 53, 30);
	GByteArray *p4 = pt_udp("10.0.0.9", "10.0.0.1", 53, 1234, 100);
	GByteArray *p5 = pt_tcp("10.0.0.1", "10.0.0.2", 40000, 80, 0x02);
	GByteArray *p6 = pt_tcp("10.0.0.1", "10.0.0.2", 40000, 80, 0x10);
	GByteArray *arp = pt_arp_request("10.0.0.2", "10.0.0.1");
	GByteArray *fp5 = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, p5, -1);
	GByteArray *fp6 = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, p6, 9);
	GByteArray *farp = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_ARP, arp, -1);
	/* the first message, a DL_UNITDATA_IND, makes the file DLT_RAW */
	pass_up(h, pt_dl_ind(ETHER_T_IPV4, p1, 2));
	pass_up(h, pt_dl_ind(ETHER_T_ARP, arp, 1));               /* skipped */
	pass_down(h, pt_dl_req(ETHER_T_IPV4, "10.0.0.2", p2, 1)); /* arp's next hop */
	pass_down(h, pt_dl_req(ETHER_T_IPV4, NULL, p3, 3));       /* ether's DLSAP */
	pass_down(h, pt_dl_req(ETHER_T_ARP, NULL, arp, 1));       /* skipped */
	pass_up(h, pt_data_ba(p4, 3));                            /* fast path: IP */
	pass_down(h, pt_data_ba(fp5, 2));                         /* fast path: frame */
	pass_down(h, pt_data_ba(fp6, 1));                         /* tagged */
	pass_down(h, pt_data_ba(farp, 1));                        /* skipped */
	dl_ok_ack_t ok = { .dl_primitive = DL_OK_ACK, .dl_correct_primitive = DL_BIND_REQ };
	mblk_t *ack = pt_proto(&ok, sizeof ok, NULL, 0, NULL);
	DB_TYPE(ack) = M_PCPROTO;
	pass_up(h, ack);
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_PACKETS), ==, 6);
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_SKIPPED), ==, 3);
	us_harness_free(h);
	GPtrArray *recs = read_back(path, DLT_RAW);
	g_assert_cmpuint(recs->len, ==, 6);
	GByteArray *want[] = { p1, p2, p3, p4, p5, p6 };
	for (guint i = 0; i < 6; i++)
		pt_assert_rec(recs->pdata[i], want[i]);
	g_ptr_array_unref(recs);
	GByteArray *all[] = { p1, p2, p3, p4, p5, p6, arp, fp5, fp6, farp };
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		g_byte_array_unref(all[i]);
	g_unlink(path);
	g_free(path);
}

/* The "hook" parameter forces dlpi: fast-path M_DATA first. */
static void
test_dlpi_hook_param(void)
{
	UsHarness *h = us_harness_new("snoop");
	char *path = tmp_path("hook.pcap");
	set(h, SNOOP_PARAM_HOOK, "dlpi");
	set(h, SNOOP_PARAM_FILE, path);
	GByteArray *p = ping_req(3);
	GByteArray *f = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, p, -1);
	pass_down(h, pt_data_ba(f, 1));
	pass_up(h, pt_data_ba(p, 1));
	GError *error = NULL;
	g_assert_false(us_param_set(us_harness_rq(h), SNOOP_PARAM_HOOK, "sideways", &error));
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_clear_error(&error);
	us_harness_free(h);
	GPtrArray *recs = read_back(path, DLT_RAW);
	g_assert_cmpuint(recs->len, ==, 2);
	pt_assert_rec(recs->pdata[0], p);
	pt_assert_rec(recs->pdata[1], p);
	g_ptr_array_unref(recs);
	g_byte_array_unref(p);
	g_byte_array_unref(f);
	g_unlink(path);
	g_free(path);
}

/* ------------------------------------------------------------------ */
/* Between ip and a transport                                         */
/* ------------------------------------------------------------------ */

/* The header snoop must synthesise for an IP_UNITDATA_REQ. */
static GByteArray *
synthetic(const char *src, const char *dst, uint8_t proto, uint8_t ttl, uint8_t tos, gboolean df,
	  const uint8_t *payload, size_t len)
{
	uint8_t hdr[20] = { 0x45, tos };
	ether_put16(hdr + 2, (uint16_t)(20 + len));
	ether_put16(hdr + 6, df ? 0x4000 : 0);
	hdr[8] = ttl;
	hdr[9] = proto;
	uint32_t s = src != NULL ? pt_addr(src) : 0, d = pt_addr(dst);
	memcpy(hdr + 12, &s, 4);
	memcpy(hdr + 16, &d, 4);
	uint16_t ck = us_cksum(hdr, 20);
	memcpy(hdr + 10, &ck, 2);
	GByteArray *b = g_byte_array_new();
	g_byte_array_append(b, hdr, 20);
	g_byte_array_append(b, payload, (guint)len);
	return b;
}

static void
test_ip_forms(void)
{
	UsHarness *h = us_harness_new("snoop");
	char *path = tmp_path("ip.pcap");
	set(h, SNOOP_PARAM_FILE, path);
	GByteArray *d1 = pt_udp("10.0.0.2", "10.0.0.1", 53, 1234, 200);
	GByteArray *echo = ping_req(5);
	const uint8_t *icmp = echo->data + 20;
	size_t icmp_len = echo->len - 20;
	GByteArray *w2 = synthetic("10.0.0.1", "10.0.0.2", 1, 64, 0x10, TRUE, icmp, icmp_len);
	GByteArray *w3 = synthetic(NULL, "10.0.0.3", 17, 5, 0, FALSE, d1->data + 20, d1->len - 20);
	pass_up(h, pt_ip_ind(d1, 3));
	pass_down(h, pt_ip_req("10.0.0.1", "10.0.0.2", 1, 0, 0x10, IP_F_DF | IP_F_CKSUM, icmp,
			       icmp_len, 2));
	pass_down(h, pt_ip_req(NULL, "10.0.0.3", 17, 5, 0, 0, d1->data + 20, d1->len - 20, 1));
	pass_down(h, pt_ip_req(NULL, "10.0.0.2", 0, 0, 0, IP_F_HDRINCL, echo->data, echo->len, 2));
	pass_up(h, pt_data_ba(d1, 1)); /* M_DATA is no packet here */
	struct ip_bind_ack ba = { .prim = IP_BIND_ACK, .proto = 17 };
	mblk_t *ack = pt_proto(&ba, sizeof ba, NULL, 0, NULL);
	DB_TYPE(ack) = M_PCPROTO;
	pass_up(h, ack);
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_PACKETS), ==, 4);
	us_harness_free(h);
	GPtrArray *recs = read_back(path, DLT_RAW);
	g_assert_cmpuint(recs->len, ==, 4);
	pt_assert_rec(recs->pdata[0], d1);
	pt_assert_rec(recs->pdata[1], w2);
	pt_assert_rec(recs->pdata[2], w3);
	pt_assert_rec(recs->pdata[3], echo);
	g_ptr_array_unref(recs);
	g_byte_array_unref(d1);
	g_byte_array_unref(echo);
	g_byte_array_unref(w2);
	g_byte_array_unref(w3);
	g_unlink(path);
	g_free(path);
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

static void
test_direction(void)
{
	UsHarness *h = us_harness_new("snoop");
	char *path = tmp_path("dir.pcap");
	set(h, SNOOP_PARAM_FILE, path);
	set(h, SNOOP_PARAM_DIRECTION, "up");
	GByteArray *up = ping_req(1), *down = ping_req(2);
	GByteArray *fu = pt_frame(PT_MAC_A, PT_MAC_B, ETHER_T_IPV4, up, -1);
	GByteArray *fd = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, down, -1);
	pass_up(h, pt_data_ba(fu, 1));
	pass_down(h, pt_data_ba(fd, 1));
	set(h, SNOOP_PARAM_DIRECTION, "down");
	pass_up(h, pt_data_ba(fu, 1));
	pass_down(h, pt_data_ba(fd, 1));
	GError *error = NULL;
	g_assert_false(us_param_set(us_harness_rq(h), SNOOP_PARAM_DIRECTION, "in", &error));
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_clear_error(&error);
	char *v = us_param_get(us_harness_rq(h), SNOOP_PARAM_DIRECTION, NULL);
	g_assert_cmpstr(v, ==, "down");
	g_free(v);
	set(h, SNOOP_PARAM_DIRECTION, "both");
	pass_up(h, pt_data_ba(fu, 1));
	pass_down(h, pt_data_ba(fd, 1));
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_MSGS), ==, 6);
	us_harness_free(h);
	GPtrArray *recs = read_back(path, DLT_EN10MB);
	g_assert_cmpuint(recs->len, ==, 4);
	pt_assert_rec(recs->pdata[0], fu);
	pt_assert_rec(recs->pdata[1], fd);
	pt_assert_rec(recs->pdata[2], fu);
	pt_assert_rec(recs->pdata[3], fd);
	g_ptr_array_unref(recs);
	g_byte_array_unref(up);
	g_byte_array_unref(down);
	g_byte_array_unref(fu);
	g_byte_array_unref(fd);
	g_unlink(path);
	g_free(path);
}

static void
test_filter(void)
{
	UsHarness *h = us_harness_new("snoop");
	char *path = tmp_path("filter.pcap");
	set(h, SNOOP_PARAM_FILE, path);
	set(h, SNOOP_PARAM_FILTER, "icmp");
	GByteArray *icmp = ping_req(1), *udp = pt_udp("10.0.0.1", "10.0.0.2", 1, 53, 10);
	GByteArray *arp = pt_arp_request("10.0.0.1", "10.0.0.2");
	GByteArray *fi = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, icmp, -1);
	GByteArray *fu = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, udp, -1);
	GByteArray *fa = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_ARP, arp, -1);
	pass_up(h, pt_data_ba(fi, 1));
	pass_up(h, pt_data_ba(fu, 1));
	pass_down(h, pt_data_ba(fa, 1));
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_FILTERED), ==, 2);
	/* changed at run time: recompiled */
	set(h, SNOOP_PARAM_FILTER, "udp dst port 53 or arp");
	pass_up(h, pt_data_ba(fi, 1));
	pass_up(h, pt_data_ba(fu, 1));
	pass_down(h, pt_data_ba(fa, 1));
	/* refused, logged, and the old filter stays */
	GError *error = NULL;
	g_test_expect_message("us-snoop", G_LOG_LEVEL_WARNING, "*udp port*");
	g_assert_false(us_param_set(us_harness_rq(h), SNOOP_PARAM_FILTER, "udp port", &error));
	g_test_assert_expected_messages();
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_clear_error(&error);
	char *v = us_param_get(us_harness_rq(h), SNOOP_PARAM_FILTER, NULL);
	g_assert_cmpstr(v, ==, "udp dst port 53 or arp");
	g_free(v);
	pass_up(h, pt_data_ba(fi, 1));
	set(h, SNOOP_PARAM_FILTER, "");
	pass_up(h, pt_data_ba(fi, 1));
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_FILTERED), ==, 4);
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_PACKETS), ==, 4);
	us_harness_free(h);
	GPtrArray *recs = read_back(path, DLT_EN10MB);
	g_assert_cmpuint(recs->len, ==, 4);
	pt_assert_rec(recs->pdata[0], fi);
	pt_assert_rec(recs->pdata[1], fu);
	pt_assert_rec(recs->pdata[2], fa);
	pt_assert_rec(recs->pdata[3], fi);
	g_ptr_array_unref(recs);
	GByteArray *all[] = { icmp, udp, arp, fi, fu, fa };
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		g_byte_array_unref(all[i]);
	g_unlink(path);
	g_free(path);
}

/* A filter that compiled for the expected link type but not for the one
 * the first message chose: logged, and nothing goes into that file. */
static void
test_filter_refit(void)
{
	UsHarness *h = us_harness_new("snoop");
	char *path = tmp_path("refit.pcap");
	set(h, SNOOP_PARAM_FILE, path);
	set(h, SNOOP_PARAM_FILTER, "ether src 02:00:00:00:00:0a");
	GByteArray *p = ping_req(1);
	g_test_expect_message("us-snoop", G_LOG_LEVEL_WARNING, "*ether src*");
	pass_up(h, pt_dl_ind(ETHER_T_IPV4, p, 1));
	g_test_assert_expected_messages();
	pass_up(h, pt_dl_ind(ETHER_T_IPV4, p, 1));
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_FILTERED), ==, 2);
	/* a filter that fits the file now is accepted */
	set(h, SNOOP_PARAM_FILTER, "icmp");
	pass_up(h, pt_dl_ind(ETHER_T_IPV4, p, 1));
	us_harness_free(h);
	GPtrArray *recs = read_back(path, DLT_RAW);
	g_assert_cmpuint(recs->len, ==, 1);
	pt_assert_rec(recs->pdata[0], p);
	g_ptr_array_unref(recs);
	g_byte_array_unref(p);
	g_unlink(path);
	g_free(path);
}

static void
check_file(const char *base, guint i, guint npackets)
{
	char *name = i == 0 ? g_strdup(base) : g_strdup_printf("%s.%u", base, i);
	GPtrArray *recs = read_back(name, DLT_EN10MB);
	g_assert_cmpuint(recs->len, ==, npackets);
	g_ptr_array_unref(recs);
	g_unlink(name);
	g_free(name);
}

static gboolean
exists(const char *base, guint i)
{
	char *name = i == 0 ? g_strdup(base) : g_strdup_printf("%s.%u", base, i);
	gboolean e = g_file_test(name, G_FILE_TEST_EXISTS);
	g_free(name);
	return e;
}

static void
test_rotate(void)
{
	/* 100-byte frames: 116 bytes a record; two fit in 24 + 232 = 256 */
	uint8_t payload[86] = { 0 };
	GByteArray *pl = g_byte_array_new();
	g_byte_array_append(pl, payload, sizeof payload);
	GByteArray *f = pt_frame(PT_MAC_B, PT_MAC_A, 0x88b5, pl, -1);
	g_assert_cmpuint(f->len, ==, 100);
	char *path = tmp_path("rot.pcap");
	UsHarness *h = us_harness_new("snoop");
	set(h, SNOOP_PARAM_ROTATE_BYTES, "256");
	set(h, SNOOP_PARAM_FILE, path);
	for (int i = 0; i < 7; i++)
		pass_up(h, pt_data_ba(f, 1));
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_ROTATIONS), ==, 3);
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_BYTES), ==, 4 * 24 + 7 * 116);
	us_harness_free(h);
	g_assert_cmpuint(pt_file_size(path), ==, 256);
	check_file(path, 0, 2);
	check_file(path, 1, 2);
	check_file(path, 2, 2);
	check_file(path, 3, 1);
	g_assert_false(exists(path, 4));

	/* only the newest two are kept */
	h = us_harness_new("snoop");
	set(h, SNOOP_PARAM_ROTATE_BYTES, "256");
	set(h, SNOOP_PARAM_ROTATE_KEEP, "2");
	set(h, SNOOP_PARAM_FILE, path);
	for (int i = 0; i < 7; i++)
		pass_up(h, pt_data_ba(f, 1));
	us_harness_free(h);
	g_assert_false(exists(path, 0));
	g_assert_false(exists(path, 1));
	check_file(path, 2, 2);
	check_file(path, 3, 1);

	/* a packet larger than the limit still goes, one per file */
	h = us_harness_new("snoop");
	set(h, SNOOP_PARAM_ROTATE_BYTES, "64");
	set(h, SNOOP_PARAM_FILE, path);
	for (int i = 0; i < 3; i++)
		pass_up(h, pt_data_ba(f, 1));
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_ROTATIONS), ==, 2);
	us_harness_free(h);
	for (guint i = 0; i < 3; i++)
		check_file(path, i, 1);
	g_byte_array_unref(pl);
	g_byte_array_unref(f);
	g_free(path);
}

static void
test_write_errors(void)
{
	if (!g_file_test("/dev/full", G_FILE_TEST_EXISTS)) {
		g_test_skip("no /dev/full");
		return;
	}
	UsHarness *h = us_harness_new("snoop");
	GByteArray *p = ping_req(1);
	GByteArray *f = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, p, -1);
	set(h, SNOOP_PARAM_FLUSH, "true");
	set(h, SNOOP_PARAM_FILE, "/dev/full");
	g_test_expect_message("us-snoop", G_LOG_LEVEL_WARNING, "*/dev/full*");
	for (int i = 0; i < 3; i++)
		pass_up(h, pt_data_ba(f, 1)); /* still passes */
	g_test_assert_expected_messages();
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_WRITE_ERRORS), ==, 3);
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_PACKETS), ==, 0);
	/* a file that cannot be opened is refused; the capture goes on */
	GError *error = NULL;
	char *bad = tmp_path("no/such/dir.pcap");
	g_assert_false(us_param_set(us_harness_rq(h), SNOOP_PARAM_FILE, bad, &error));
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_assert_nonnull(strstr(error->message, g_strerror(ENOENT)));
	g_clear_error(&error);
	char *v = us_param_get(us_harness_rq(h), SNOOP_PARAM_FILE, NULL);
	g_assert_cmpstr(v, ==, "/dev/full");
	g_free(v);
	pass_up(h, pt_data_ba(f, 1));
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_WRITE_ERRORS), ==, 4);
	/* switching to a good file works */
	char *good = tmp_path("good.pcap");
	set(h, SNOOP_PARAM_FILE, good);
	pass_up(h, pt_data_ba(f, 1));
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_PACKETS), ==, 1);
	us_harness_free(h);
	GPtrArray *recs = read_back(good, DLT_EN10MB);
	g_assert_cmpuint(recs->len, ==, 1);
	g_ptr_array_unref(recs);
	g_unlink(good);
	g_free(good);
	g_free(bad);
	g_byte_array_unref(p);
	g_byte_array_unref(f);
}

static void
test_timestamps_snaplen(void)
{
	UsHarness *h = us_harness_new("snoop");
	char *path = tmp_path("ts.pcap");
	set(h, SNOOP_PARAM_NSEC, "true");
	set(h, SNOOP_PARAM_SNAPLEN, "40");
	set(h, SNOOP_PARAM_FILE, path);
	GByteArray *p = ping_req(1);
	GByteArray *f = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, p, -1);
	us_harness_advance(h, G_GINT64_CONSTANT(2000001234));
	gint64 t = us_harness_now(h);
	pass_up(h, pt_data_ba(f, 2));
	us_harness_free(h);
	GPtrArray *recs = read_back(path, DLT_EN10MB);
	g_assert_cmpuint(recs->len, ==, 1);
	PtRec *r = recs->pdata[0];
	g_assert_cmpint(r->ts_ns, ==, t);
	g_assert_cmpint(t % 1000, ==, 234);
	g_assert_cmpuint(r->caplen, ==, 40);
	g_assert_cmpuint(r->len, ==, f->len);
	g_assert_cmpmem(g_bytes_get_data(r->data, NULL), 40, f->data, 40);
	g_ptr_array_unref(recs);
	g_byte_array_unref(p);
	g_byte_array_unref(f);
	g_unlink(path);
	g_free(path);
}

/* Changing the file closes the old one (a valid capture even when empty)
 * and decides the new one's link type afresh. */
static void
test_file_change(void)
{
	UsHarness *h = us_harness_new("snoop");
	char *a = tmp_path("a.pcap"), *b = tmp_path("b.pcap"), *c = tmp_path("c.pcap");
	GByteArray *p = ping_req(1);
	GByteArray *f = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, p, -1);
	set(h, SNOOP_PARAM_FILE, a);
	set(h, SNOOP_PARAM_FILE, b); /* a saw nothing */
	pass_up(h, pt_data_ba(f, 1));
	set(h, SNOOP_PARAM_FILE, c);
	pass_up(h, pt_dl_ind(ETHER_T_IPV4, p, 1));
	set(h, SNOOP_PARAM_FILE, c); /* the same name: restarted */
	pass_up(h, pt_dl_ind(ETHER_T_IPV4, p, 1));
	pass_up(h, pt_dl_ind(ETHER_T_IPV4, p, 1));
	set(h, SNOOP_PARAM_FILE, "");
	pass_up(h, pt_data_ba(f, 1)); /* no file: nothing written */
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_PACKETS), ==, 4);
	us_harness_free(h);
	GPtrArray *recs = read_back(a, DLT_EN10MB);
	g_assert_cmpuint(recs->len, ==, 0);
	g_ptr_array_unref(recs);
	recs = read_back(b, DLT_EN10MB);
	g_assert_cmpuint(recs->len, ==, 1);
	pt_assert_rec(recs->pdata[0], f);
	g_ptr_array_unref(recs);
	recs = read_back(c, DLT_RAW);
	g_assert_cmpuint(recs->len, ==, 2);
	pt_assert_rec(recs->pdata[0], p);
	g_ptr_array_unref(recs);
	g_unlink(a);
	g_unlink(b);
	g_unlink(c);
	g_free(a);
	g_free(b);
	g_free(c);
	g_byte_array_unref(p);
	g_byte_array_unref(f);
}

/* No service procedures: a full lower end stops the writer above at once
 * (canputnext looks through snoop) and nothing waits in snoop. */
static void
test_flow_transparent(void)
{
	UsHarness *h = us_harness_new("snoop");
	queue_t *wq = us_harness_wq(h), *rq = us_harness_rq(h);
	g_assert_null(wq->q_qinfo->qi_srvp);
	g_assert_null(rq->q_qinfo->qi_srvp);
	us_harness_set_watermarks(h, TRUE, 1000, 500);
	us_harness_set_blocked(h, TRUE, TRUE);
	char *path = tmp_path("flow.pcap");
	set(h, SNOOP_PARAM_FILE, path);
	GByteArray *p = ping_req(1);
	GByteArray *f = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, p, -1);
	for (int i = 0; i < 20; i++)
		us_harness_push_down(h, pt_data_ba(f, 1));
	g_assert_cmpuint(wq->q_count, ==, 0);
	g_assert_false(canputnext(wq));
	g_assert_cmpuint(us_harness_count_down(h), ==, 0);
	us_harness_set_blocked(h, TRUE, FALSE);
	us_harness_run(h);
	g_assert_cmpuint(us_harness_count_down(h), ==, 20);
	g_assert_true(canputnext(wq));
	mblk_t *mp;
	while ((mp = us_harness_pull_down(h)) != NULL)
		freemsg(mp);
	g_assert_cmpuint(HSTAT(h, SNOOP_STAT_PACKETS), ==, 20);
	us_harness_free(h);
	g_unlink(path);
	g_free(path);
	g_byte_array_unref(p);
	g_byte_array_unref(f);
}

/* ------------------------------------------------------------------ */
/* Two stacks built from a config, in virtual time                    */
/* ------------------------------------------------------------------ */

/* The read queue of module `name` on an interface stream of a run. */
static queue_t *
iface_module(UsCfgRun *run, const char *stack, const char *iface, const char *name)
{
	queue_t *q = us_cfg_run_iface_driver(run, stack, iface);
	g_assert_nonnull(q);
	for (; q != NULL; q = q->q_next) {
		const UsModuleDesc *d = us_queue_desc(q);
		if (d != NULL && strcmp(d->name, name) == 0)
			return q;
	}
	g_assert_not_reached();
	return NULL;
}

static void
test_stack_ping(void)
{
	gint64 live0 = us_msg_live_count();
	char *fa = tmp_path("stack-a.pcap"), *fb = tmp_path("stack-b.pcap");
	char *text = g_strdup_printf(
		"world { clock virtual; seed 7 }\n"
		"wire lan { delay 1ms }\n"
		"stack a { interface eth0 { driver wire lan; push ether mac=02:00:00:00:00:0a;"
		" push arp; push snoop file=\"%s\" filter=\"icmp\"; address 10.0.0.1/24 }\n"
		"  app ping 10.0.0.2 count=3 interval=10ms }\n"
		"stack b { interface eth0 { driver wire lan; push snoop file=\"%s\" "
		"filter=\"icmp\";"
		" push ether mac=02:00:00:00:00:0b; push arp; address 10.0.0.2/24 } }\n",
		fa, fb);
	GError *error = NULL;
	UsCfg *cfg = us_cfg_parse_text("snoop.conf", text, &error);
	g_assert_no_error(error);
	g_assert_true(us_cfg_check(cfg, &error));
	UsCfgRun *run = us_cfg_build(cfg, &error);
	g_assert_no_error(error);
	g_assert_true(us_cfg_run(run, 0));
	char *s = us_cfg_run_summary(run);
	g_assert_nonnull(strstr(s, "ping 10.0.0.2: 3 sent, 3 received, 0% loss"));
	g_free(s);
	queue_t *qa = iface_module(run, "a", "eth0", "snoop");
	queue_t *qb = iface_module(run, "b", "eth0", "snoop");
	g_assert_cmpuint(qstat(qa, SNOOP_STAT_PACKETS), ==, 6);
	g_assert_cmpuint(qstat(qa, SNOOP_STAT_FILTERED), ==, 0); /* arp is below */
	g_assert_cmpuint(qstat(qb, SNOOP_STAT_PACKETS), ==, 6);
	g_assert_cmpuint(qstat(qb, SNOOP_STAT_FILTERED), >=, 2); /* ARP request and reply */
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_assert_cmpint(us_msg_live_count(), ==, live0);

	/* a (above arp): IPv4 packets; b (below ether): frames.  The same
	 * packets, in the same order: request, reply, request ... */
	GPtrArray *ra = read_back(fa, DLT_RAW), *rb = read_back(fb, DLT_EN10MB);
	g_assert_cmpuint(ra->len, ==, 6);
	g_assert_cmpuint(rb->len, ==, 6);
	guint seq = 0;
	for (guint i = 0; i < 6; i++) {
		const PtRec *x = ra->pdata[i], *y = rb->pdata[i];
		gsize nx, ny;
		const uint8_t *px = g_bytes_get_data(x->data, &nx);
		const uint8_t *py = g_bytes_get_data(y->data, &ny);
		g_assert_cmpuint(ny, ==, nx + ETHER_HLEN);
		g_assert_cmpmem(px, nx, py + ETHER_HLEN, ny - ETHER_HLEN);
		g_assert_cmpuint(ether_get16(py + ETHER_OFF_TYPE), ==, ETHER_T_IPV4);
		g_assert_cmpuint(px[9], ==, 1);
		g_assert_cmpuint(px[20], ==, i % 2 == 0 ? 8 : 0); /* request, reply */
		if (i % 2 == 1) /* the reply carries its request's sequence number */
			g_assert_cmpuint(ether_get16(px + 26), ==, seq);
		seq = ether_get16(px + 26);
		/* requests go a -> b, replies b -> a, 1 ms on the wire; a records
		 * the first request before arp holds it for resolution */
		if (i == 0)
			g_assert_cmpint(y->ts_ns - x->ts_ns, >, MS);
		else if (i % 2 == 0)
			g_assert_cmpint(y->ts_ns - x->ts_ns, ==, MS);
		else
			g_assert_cmpint(x->ts_ns - y->ts_ns, ==, MS);
	}
	g_ptr_array_unref(ra);
	g_ptr_array_unref(rb);
	g_unlink(fa);
	g_unlink(fb);
	g_free(fa);
	g_free(fb);
	g_free(text);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("test-snoop-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);
	g_test_add_func("/snoop/link/frames", test_link_frames);
	g_test_add_func("/snoop/dlpi/forms", test_dlpi_forms);
	g_test_add_func("/snoop/dlpi/hook-param", test_dlpi_hook_param);
	g_test_add_func("/snoop/ip/forms", test_ip_forms);
	g_test_add_func("/snoop/params/direction", test_direction);
	g_test_add_func("/snoop/params/filter", test_filter);
	g_test_add_func("/snoop/params/filter-refit", test_filter_refit);
	g_test_add_func("/snoop/params/rotate", test_rotate);
	g_test_add_func("/snoop/params/write-errors", test_write_errors);
	g_test_add_func("/snoop/params/timestamps-snaplen", test_timestamps_snaplen);
	g_test_add_func("/snoop/params/file-change", test_file_change);
	g_test_add_func("/snoop/flow/transparent", test_flow_transparent);
	g_test_add_func("/snoop/stack/ping", test_stack_ping);
	int rc = g_test_run();
	g_rmdir(tmpdir);
	g_free(tmpdir);
	return rc;
}
