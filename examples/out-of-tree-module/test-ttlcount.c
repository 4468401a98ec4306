/* SPDX-License-Identifier: MIT */
/*
 * test-ttlcount.c -- the ttlcount plug-in under UsHarness: the module sits
 * between a fake head and a fake driver on a virtual clock; frames pushed
 * up enter its read side as if the driver sent them, frames pushed down its
 * write side.  The plug-in is found by name on US_MODULE_PATH (meson test
 * sets it to the build directory), exactly as a running stack would load it.
 */
#include <ustreams/harness.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <glib.h>
#include <string.h>

/* An Ethernet frame carrying an IPv4 header with this TTL (vlan: with an
 * 802.1Q tag), split over two blocks when split is set. */
static mblk_t *
frame(guint8 ttl, gboolean vlan, gboolean split)
{
	guint8 f[64] = { 0 };
	size_t o = 12;
	if (vlan) {
		memcpy(f + o, "\x81\x00\x00\x07", 4); /* 802.1Q, VLAN 7 */
		o += 4;
	}
	memcpy(f + o, "\x08\x00", 2); /* IPv4 */
	o += 2;
	f[o] = 0x45; /* version 4, 20-byte header */
	f[o + 8] = ttl;
	mblk_t *mp = us_msg_from(f, sizeof f, 0);
	if (split) {
		mblk_t *tail = dupb(mp);
		mp->b_wptr = mp->b_rptr + o + 4; /* the TTL is in the second block */
		tail->b_rptr += o + 4;
		mp->b_cont = tail;
	}
	return mp;
}

static guint64
stat(UsHarness *h, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(us_harness_rq(h), name, &v));
	return v;
}

static void
drain(UsHarness *h, guint up, guint down)
{
	g_assert_cmpuint(us_harness_count_up(h), ==, up);
	g_assert_cmpuint(us_harness_count_down(h), ==, down);
	mblk_t *mp;
	while ((mp = us_harness_pull_up(h)) != NULL)
		freemsg(mp);
	while ((mp = us_harness_pull_down(h)) != NULL)
		freemsg(mp);
}

/* Incoming TTLs land in their bands; everything passes by default. */
static void
test_counts_bands(void)
{
	UsHarness *h = us_harness_new("ttlcount");
	static const guint8 ttls[] = { 1, 32, 33, 64, 64, 65, 128, 129, 255 };
	for (guint i = 0; i < G_N_ELEMENTS(ttls); i++)
		us_harness_push_up(h, frame(ttls[i], i % 2, i % 3 == 0));
	drain(h, G_N_ELEMENTS(ttls), 0);
	g_assert_cmpuint(stat(h, "ipv4_in"), ==, 9);
	g_assert_cmpuint(stat(h, "ttl_le_32"), ==, 2);
	g_assert_cmpuint(stat(h, "ttl_le_64"), ==, 3);
	g_assert_cmpuint(stat(h, "ttl_le_128"), ==, 2);
	g_assert_cmpuint(stat(h, "ttl_le_255"), ==, 2);
	us_harness_push_down(h, frame(64, FALSE, FALSE));
	drain(h, 0, 1);
	g_assert_cmpuint(stat(h, "ipv4_out"), ==, 1);
	us_harness_free(h);
}

/* min_ttl (GTSM): lower TTLs are dropped and counted, going up only. */
static void
test_min_ttl(void)
{
	UsHarness *h = us_harness_new("ttlcount");
	GError *error = NULL;
	g_assert_true(us_param_set(us_harness_rq(h), "min_ttl", "255", &error));
	g_assert_no_error(error);
	us_harness_push_up(h, frame(255, FALSE, FALSE));
	us_harness_push_up(h, frame(254, FALSE, TRUE));
	us_harness_push_up(h, frame(64, TRUE, FALSE));
	us_harness_push_down(h, frame(1, FALSE, FALSE)); /* outgoing: not filtered */
	drain(h, 1, 1);
	g_assert_cmpuint(stat(h, "low_ttl"), ==, 2);
	g_assert_cmpuint(us_drop_count(us_harness_rq(h), 0), ==, 2);
	g_assert_false(us_param_set(us_harness_rq(h), "min_ttl", "256", &error));
	g_clear_error(&error);
	us_harness_free(h);
}

/* What is not an IPv4 frame passes untouched and uncounted. */
static void
test_other_traffic_passes(void)
{
	UsHarness *h = us_harness_new("ttlcount");
	g_assert_true(us_param_set(us_harness_rq(h), "min_ttl", "200", NULL));
	mblk_t *arp = frame(1, FALSE, FALSE);
	arp->b_rptr[13] = 0x06; /* ethertype 0x0806 */
	us_harness_push_up(h, arp);
	us_harness_push_up_data(h, "short", 5);
	mblk_t *proto = us_msg_from("ctl", 3, 0);
	DB_TYPE(proto) = M_PROTO;
	us_harness_push_up(h, proto);
	drain(h, 3, 0);
	g_assert_cmpuint(stat(h, "ipv4_in"), ==, 0);
	g_assert_cmpuint(stat(h, "low_ttl"), ==, 0);
	us_harness_free(h);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ttlcount/counts-bands", test_counts_bands);
	g_test_add_func("/ttlcount/min-ttl", test_min_ttl);
	g_test_add_func("/ttlcount/other-traffic-passes", test_other_traffic_passes);
	return g_test_run();
}
