/* SPDX-License-Identifier: MIT */
/*
 * test-filter.c -- the filter module under the harness (rules as text and
 * their canonical form, first accept/drop wins, count and log go on, the
 * default policy, directions, every hook: raw frames below ether,
 * DL_UNITDATA_IND/REQ and fast-path M_DATA above it, IP_UNITDATA_IND/REQ
 * between ip and a transport; drops counted per reason and per rule; the
 * I_STR ioctls FILTER_ADD/DEL/FLUSH/LIST and their errors; bad expressions;
 * changing the hook; flow-control transparency), and in two stacks built
 * from a config in virtual time: "drop in icmp" above arp makes a ping
 * fail with the drops counted, and a FILTER_DEL sent to the linked
 * interface stream in the middle of a run lets the later pings through.
 *
 * The harness fails a test that leaks message blocks.
 */
#include "filter.h"

#include "config.h"
#include "pkttest.h"

#include <ustreams/debug.h>
#include <ustreams/harness.h>
#include <ustreams/registry.h>
#include <ustreams/ustreams.h>

#include <errno.h>
#include <string.h>

#define MS (G_GINT64_CONSTANT(1000000))

static void
set(UsHarness *h, const char *name, const char *value)
{
	GError *error = NULL;
	g_assert_true(us_param_set(us_harness_rq(h), name, value, &error));
	g_assert_no_error(error);
}

static void
check_param(queue_t *q, const char *name, const char *want)
{
	char *v = us_param_get(q, name, NULL);
	g_assert_cmpstr(v, ==, want);
	g_free(v);
}

static guint64
qstat(queue_t *q, const char *name)
{
	guint64 v = G_MAXUINT64;
	g_assert_true(us_stat_get(q, name, &v));
	return v;
}

#define HSTAT(h, name) qstat(us_harness_rq(h), name)

/* Pushes mp (up or down): it must come out at the other end, the very same
 * message, unchanged. */
static void
through(UsHarness *h, gboolean up, mblk_t *mp)
{
	GBytes *before = pt_msg_image(mp);
	mblk_t *orig = mp;
	if (up)
		us_harness_push_up(h, mp);
	else
		us_harness_push_down(h, mp);
	mblk_t *out = up ? us_harness_pull_up(h) : us_harness_pull_down(h);
	g_assert_true(out == orig);
	GBytes *after = pt_msg_image(out);
	g_assert_true(g_bytes_equal(before, after));
	g_bytes_unref(before);
	g_bytes_unref(after);
	freemsg(out);
	g_assert_cmpuint(us_harness_count_up(h) + us_harness_count_down(h), ==, 0);
}

/* Pushes mp: nothing may come out anywhere. */
static void
dropped(UsHarness *h, gboolean up, mblk_t *mp)
{
	if (up)
		us_harness_push_up(h, mp);
	else
		us_harness_push_down(h, mp);
	g_assert_cmpuint(us_harness_count_up(h) + us_harness_count_down(h), ==, 0);
}

#define UP TRUE
#define DOWN FALSE

static mblk_t *
frame_msg(const GByteArray *ip, guint nblocks)
{
	GByteArray *f = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, ip, -1);
	mblk_t *mp = pt_data_ba(f, nblocks);
	g_byte_array_unref(f);
	return mp;
}

/* The reply to an ioctl: its type, error and rval; frees it. */
static int
ioctl_rval(UsHarness *h, int cmd, const void *data, size_t len, int *err)
{
	mblk_t *r = us_harness_ioctl(h, cmd, data, len);
	g_assert_nonnull(r);
	const struct iocblk *ioc = (const struct iocblk *)r->b_rptr;
	*err = DB_TYPE(r) == M_IOCNAK ? ioc->ioc_error : 0;
	if (DB_TYPE(r) == M_IOCNAK)
		g_assert_cmpint(ioc->ioc_error, !=, 0);
	else
		g_assert_cmpint(DB_TYPE(r), ==, M_IOCACK);
	int rval = ioc->ioc_rval;
	freemsg(r);
	return rval;
}

static int
add_rule(UsHarness *h, int32_t index, uint32_t action, uint32_t dir, const char *expr)
{
	struct filter_rule_req req = { .index = index, .action = action, .dir = dir };
	g_strlcpy(req.expr, expr, sizeof req.expr);
	int err;
	int rval = ioctl_rval(h, FILTER_ADD, &req, sizeof req, &err);
	return err != 0 ? -err : rval;
}

/* FILTER_LIST with room for `room` entries; returns the rule count. */
static int
list_rules(UsHarness *h, guint room, struct filter_rule_info *out, guint *got)
{
	size_t len = room * sizeof(struct filter_rule_info);
	void *buf = g_malloc0(MAX(len, 1));
	mblk_t *r = us_harness_ioctl(h, FILTER_LIST, buf, len);
	g_free(buf);
	g_assert_nonnull(r);
	g_assert_cmpint(DB_TYPE(r), ==, M_IOCACK);
	const struct iocblk *ioc = (const struct iocblk *)r->b_rptr;
	g_assert_cmpuint(ioc->ioc_count % sizeof(struct filter_rule_info), ==, 0);
	*got = (guint)(ioc->ioc_count / sizeof(struct filter_rule_info));
	g_assert_cmpuint(*got, <=, room);
	if (*got > 0)
		g_assert_cmpuint(us_msgcopyout(r->b_cont, 0, out, ioc->ioc_count), ==,
				 ioc->ioc_count);
	int rval = ioc->ioc_rval;
	freemsg(r);
	return rval;
}

/* ------------------------------------------------------------------ */
/* Rules as text                                                      */
/* ------------------------------------------------------------------ */

static void
test_rules_text(void)
{
	UsHarness *h = us_harness_new("filter");
	queue_t *q = us_harness_rq(h);
	check_param(q, FILTER_PARAM_RULES, "");
	check_param(q, FILTER_PARAM_POLICY, "accept");
	check_param(q, FILTER_PARAM_HOOK, "auto");
	set(h, FILTER_PARAM_RULES,
	    "drop in udp port 53; accept out icmp\n  count   both tcp ;; log tcp[13] & 2 != "
	    "0;drop");
	check_param(q, FILTER_PARAM_RULES,
		    "drop in udp port 53; accept out icmp; count both tcp; "
		    "log both tcp[13] & 2 != 0; drop both");
	/* a bad action: refused, the list unchanged */
	GError *error = NULL;
	g_assert_false(us_param_set(q, FILTER_PARAM_RULES, "reject in icmp", &error));
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_clear_error(&error);
	/* a bad expression: refused with libpcap's message, logged */
	g_test_expect_message("us-filter", G_LOG_LEVEL_WARNING, "*udp port*");
	g_assert_false(
		us_param_set(q, FILTER_PARAM_RULES, "accept icmp; drop in udp port", &error));
	g_test_assert_expected_messages();
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_assert_nonnull(strstr(error->message, "syntax error"));
	g_clear_error(&error);
	check_param(q, FILTER_PARAM_RULES,
		    "drop in udp port 53; accept out icmp; count both tcp; "
		    "log both tcp[13] & 2 != 0; drop both");
	guint n;
	struct filter_rule_info info[8];
	g_assert_cmpint(list_rules(h, 8, info, &n), ==, 5);
	g_assert_cmpuint(n, ==, 5);
	g_assert_cmpstr(info[0].text, ==, "drop in udp port 53");
	g_assert_cmpuint(info[0].action, ==, FILTER_DROP);
	g_assert_cmpuint(info[0].dir, ==, FILTER_DIR_IN);
	g_assert_cmpuint(info[2].action, ==, FILTER_COUNT);
	g_assert_cmpuint(info[2].dir, ==, FILTER_DIR_BOTH);
	g_assert_cmpuint(info[4].index, ==, 4);
	/* too many rules */
	GString *many = g_string_new(NULL);
	for (int i = 0; i <= FILTER_RULES_MAX; i++)
		g_string_append(many, "count udp;");
	g_assert_false(us_param_set(q, FILTER_PARAM_RULES, many->str, &error));
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_clear_error(&error);
	g_string_free(many, TRUE);
	set(h, FILTER_PARAM_RULES, "");
	check_param(q, FILTER_PARAM_RULES, "");
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Below ether                                                        */
/* ------------------------------------------------------------------ */

static void
test_link(void)
{
	UsHarness *h = us_harness_new("filter");
	queue_t *q = us_harness_rq(h);
	set(h, FILTER_PARAM_RULES, "drop in udp port 53; accept out icmp; count both tcp");
	GByteArray *dns = pt_udp("10.0.0.9", "10.0.0.1", 53, 1234, 40);
	GByteArray *ping = pt_icmp_echo("10.0.0.1", "10.0.0.2", TRUE, 7, 1, 56);
	GByteArray *tcp = pt_tcp("10.0.0.1", "10.0.0.2", 40000, 80, 0x02);
	GByteArray *arp = pt_arp_request("10.0.0.1", "10.0.0.2");
	GByteArray *farp = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_ARP, arp, -1);
	dropped(h, UP, frame_msg(dns, 2));
	through(h, DOWN, frame_msg(dns, 1)); /* "in" only */
	through(h, DOWN, frame_msg(ping, 1));
	through(h, UP, frame_msg(ping, 3)); /* "out" only: the policy */
	through(h, UP, frame_msg(tcp, 1));
	through(h, DOWN, frame_msg(tcp, 1));
	through(h, UP, pt_data_ba(farp, 1));
	dl_info_req_t info = { .dl_primitive = DL_INFO_REQ };
	through(h, DOWN, pt_proto(&info, sizeof info, NULL, 0, NULL));
	g_assert_cmpuint(us_drop_count(q, FILTER_DROP_RULE), ==, 1);
	g_assert_cmpuint(us_drop_count(q, FILTER_DROP_POLICY), ==, 0);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_PACKETS_IN), ==, 4);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_PACKETS_OUT), ==, 3);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_DROPPED), ==, 1);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_ACCEPTED), ==, 1);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_COUNTED), ==, 2);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_POLICY_ACCEPTED), ==, 5);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_OTHERS), ==, 1);
	struct filter_rule_info ri[3];
	guint n;
	g_assert_cmpint(list_rules(h, 3, ri, &n), ==, 3);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpuint(ri[0].packets, ==, 1);
	g_assert_cmpuint(ri[0].bytes, ==, ETHER_HLEN + dns->len);
	g_assert_cmpuint(ri[1].packets, ==, 1);
	g_assert_cmpuint(ri[2].packets, ==, 2);
	g_assert_cmpuint(ri[2].bytes, ==, 2 * (ETHER_HLEN + tcp->len));
	/* room for one entry: one entry, and the count of all */
	g_assert_cmpint(list_rules(h, 1, ri, &n), ==, 3);
	g_assert_cmpuint(n, ==, 1);
	us_harness_free(h);
	GByteArray *all[] = { dns, ping, tcp, arp, farp };
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		g_byte_array_unref(all[i]);
}

static void
test_policy(void)
{
	UsHarness *h = us_harness_new("filter");
	queue_t *q = us_harness_rq(h);
	set(h, FILTER_PARAM_POLICY, "drop");
	set(h, FILTER_PARAM_RULES, "accept icmp");
	GByteArray *ping = pt_icmp_echo("10.0.0.1", "10.0.0.2", TRUE, 7, 1, 56);
	GByteArray *udp = pt_udp("10.0.0.1", "10.0.0.2", 1, 2, 3);
	through(h, UP, frame_msg(ping, 1));
	through(h, DOWN, frame_msg(ping, 1));
	dropped(h, UP, frame_msg(udp, 1));
	dropped(h, DOWN, frame_msg(udp, 1));
	g_assert_cmpuint(us_drop_count(q, FILTER_DROP_POLICY), ==, 2);
	g_assert_cmpuint(us_drop_count(q, FILTER_DROP_RULE), ==, 0);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_POLICY_DROPPED), ==, 2);
	GError *error = NULL;
	g_assert_false(us_param_set(q, FILTER_PARAM_POLICY, "reject", &error));
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_clear_error(&error);
	check_param(q, FILTER_PARAM_POLICY, "drop");
	set(h, FILTER_PARAM_POLICY, "accept");
	through(h, UP, frame_msg(udp, 1));
	us_harness_free(h);
	g_byte_array_unref(ping);
	g_byte_array_unref(udp);
}

/* ------------------------------------------------------------------ */
/* ioctls                                                             */
/* ------------------------------------------------------------------ */

static int
nak_of(UsHarness *h, int cmd, const void *data, size_t len)
{
	int err;
	ioctl_rval(h, cmd, data, len, &err);
	return err;
}

static void
test_ioctls(void)
{
	UsHarness *h = us_harness_new("filter");
	queue_t *q = us_harness_rq(h);
	g_assert_cmpint(add_rule(h, -1, FILTER_DROP, FILTER_DIR_IN, "udp"), ==, 0);
	g_assert_cmpint(add_rule(h, 0, FILTER_ACCEPT, FILTER_DIR_BOTH, "udp port 7"), ==, 0);
	g_assert_cmpint(add_rule(h, 99, FILTER_COUNT, FILTER_DIR_OUT, "tcp"), ==, 2);
	g_assert_cmpint(add_rule(h, 1, FILTER_LOG, FILTER_DIR_BOTH, ""), ==, 1);
	check_param(q, FILTER_PARAM_RULES,
		    "accept both udp port 7; log both; drop in udp; count out tcp");
	struct filter_del_req del = { .index = 1 };
	int err;
	g_assert_cmpint(ioctl_rval(h, FILTER_DEL, &del, sizeof del, &err), ==, 0);
	g_assert_cmpint(err, ==, 0);
	check_param(q, FILTER_PARAM_RULES, "accept both udp port 7; drop in udp; count out tcp");
	/* the rules act as listed */
	GByteArray *echo = pt_udp("10.0.0.1", "10.0.0.2", 1000, 7, 8);
	GByteArray *other = pt_udp("10.0.0.1", "10.0.0.2", 1000, 9, 8);
	through(h, UP, frame_msg(echo, 1));
	dropped(h, UP, frame_msg(other, 1));
	through(h, DOWN, frame_msg(other, 1));
	/* errors */
	del.index = 3;
	g_assert_cmpint(nak_of(h, FILTER_DEL, &del, sizeof del), ==, ENOENT);
	del.index = -1;
	g_assert_cmpint(nak_of(h, FILTER_DEL, &del, sizeof del), ==, ENOENT);
	g_assert_cmpint(nak_of(h, FILTER_DEL, &del, 2), ==, EINVAL); /* short */
	g_test_expect_message("us-filter", G_LOG_LEVEL_WARNING, "*portt*");
	g_assert_cmpint(add_rule(h, -1, FILTER_DROP, FILTER_DIR_IN, "udp portt 9"), ==, -EINVAL);
	g_test_assert_expected_messages();
	g_assert_cmpint(add_rule(h, -1, 9, FILTER_DIR_IN, "udp"), ==, -EINVAL);
	g_assert_cmpint(add_rule(h, -1, FILTER_DROP, 0, "udp"), ==, -EINVAL);
	g_assert_cmpint(add_rule(h, -1, FILTER_DROP, 4, "udp"), ==, -EINVAL);
	g_assert_cmpint(add_rule(h, -1, FILTER_DROP, FILTER_DIR_IN, "udp; tcp"), ==, -EINVAL);
	struct filter_rule_req req = { .index = -1, .action = FILTER_DROP, .dir = FILTER_DIR_IN };
	memset(req.expr, 'a', sizeof req.expr); /* not terminated */
	g_assert_cmpint(nak_of(h, FILTER_ADD, &req, sizeof req), ==, EINVAL);
	g_assert_cmpint(nak_of(h, FILTER_ADD, &req, 8), ==, EINVAL);
	/* TRANSPARENT */
	mblk_t *mp = mkiocb(FILTER_FLUSH);
	((struct iocblk *)mp->b_rptr)->ioc_count = TRANSPARENT;
	us_harness_push_down(h, mp);
	mblk_t *r = us_harness_pull_up(h);
	g_assert_nonnull(r);
	g_assert_cmpint(DB_TYPE(r), ==, M_IOCNAK);
	g_assert_cmpint(((struct iocblk *)r->b_rptr)->ioc_error, ==, EINVAL);
	freemsg(r);
	check_param(q, FILTER_PARAM_RULES, "accept both udp port 7; drop in udp; count out tcp");
	/* someone else's ioctl goes down the stream */
	mp = mkiocb(('Z' << 8) | 1);
	mblk_t *orig = mp;
	us_harness_push_down(h, mp);
	r = us_harness_pull_down(h);
	g_assert_true(r == orig);
	freemsg(r);
	/* flush */
	g_assert_cmpint(ioctl_rval(h, FILTER_FLUSH, NULL, 0, &err), ==, 3);
	g_assert_cmpint(err, ==, 0);
	check_param(q, FILTER_PARAM_RULES, "");
	through(h, UP, frame_msg(other, 1));
	guint n;
	struct filter_rule_info ri[1];
	g_assert_cmpint(list_rules(h, 1, ri, &n), ==, 0);
	g_assert_cmpuint(n, ==, 0);
	/* full */
	GString *many = g_string_new(NULL);
	for (int i = 0; i < FILTER_RULES_MAX; i++)
		g_string_append(many, "count udp;");
	set(h, FILTER_PARAM_RULES, many->str);
	g_string_free(many, TRUE);
	g_assert_cmpint(add_rule(h, -1, FILTER_DROP, FILTER_DIR_IN, "udp"), ==, -ENOSPC);
	us_harness_free(h);
	g_byte_array_unref(echo);
	g_byte_array_unref(other);
}

/* ------------------------------------------------------------------ */
/* Above ether, and between ip and a transport                        */
/* ------------------------------------------------------------------ */

static void
test_dlpi(void)
{
	UsHarness *h = us_harness_new("filter");
	set(h, FILTER_PARAM_HOOK, "dlpi");
	set(h, FILTER_PARAM_RULES, "drop in icmp; drop out udp; accept both tcp");
	GByteArray *ping = pt_icmp_echo("10.0.0.2", "10.0.0.1", TRUE, 7, 1, 56);
	GByteArray *udp = pt_udp("10.0.0.1", "10.0.0.2", 1, 2, 3);
	GByteArray *tcp = pt_tcp("10.0.0.1", "10.0.0.2", 40000, 80, 0x12);
	GByteArray *arp = pt_arp_request("10.0.0.2", "10.0.0.1");
	GByteArray *farp = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_ARP, arp, -1);
	GByteArray *ftag = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_IPV4, udp, 3);
	dropped(h, UP, pt_dl_ind(ETHER_T_IPV4, ping, 2));
	through(h, UP, pt_dl_ind(ETHER_T_ARP, arp, 1)); /* foreign */
	through(h, UP, pt_dl_ind(ETHER_T_IPV4, udp, 1));
	dropped(h, DOWN, pt_dl_req(ETHER_T_IPV4, "10.0.0.2", udp, 1));
	dropped(h, DOWN, pt_dl_req(ETHER_T_IPV4, NULL, udp, 2));
	through(h, DOWN, pt_dl_req(ETHER_T_IPV4, "10.0.0.2", tcp, 1));
	dropped(h, DOWN, frame_msg(udp, 2));   /* fast path: Ethernet header skipped */
	dropped(h, DOWN, pt_data_ba(ftag, 1)); /* and a tag */
	through(h, DOWN, frame_msg(tcp, 1));
	through(h, DOWN, pt_data_ba(farp, 1)); /* foreign */
	dropped(h, UP, pt_data_ba(ping, 3));   /* fast path up: the IP header first */
	through(h, UP, pt_data_ba(tcp, 1));
	dl_ok_ack_t ok = { .dl_primitive = DL_OK_ACK };
	mblk_t *ack = pt_proto(&ok, sizeof ok, NULL, 0, NULL);
	DB_TYPE(ack) = M_PCPROTO;
	through(h, UP, ack);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_DROPPED), ==, 6);
	g_assert_cmpuint(us_drop_count(us_harness_rq(h), FILTER_DROP_RULE), ==, 6);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_ACCEPTED), ==, 3);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_FOREIGN), ==, 2);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_OTHERS), ==, 1);
	us_harness_free(h);
	GByteArray *all[] = { ping, udp, tcp, arp, farp, ftag };
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		g_byte_array_unref(all[i]);
}

static void
test_ip(void)
{
	UsHarness *h = us_harness_new("filter");
	set(h, FILTER_PARAM_HOOK, "ip");
	set(h, FILTER_PARAM_RULES,
	    "drop out dst host 10.0.0.9 and udp; drop in src host 10.0.0.66;"
	    " accept out src host 0.0.0.0 and icmp and ip[8] = 64; drop out icmp");
	GByteArray *u = pt_udp("10.0.0.1", "10.0.0.9", 1000, 53, 20);
	GByteArray *from66 = pt_udp("10.0.0.66", "10.0.0.1", 53, 1000, 20);
	GByteArray *from2 = pt_udp("10.0.0.2", "10.0.0.1", 53, 1000, 20);
	GByteArray *echo = pt_icmp_echo("10.0.0.1", "10.0.0.2", TRUE, 7, 1, 56);
	dropped(h, DOWN,
		pt_ip_req(NULL, "10.0.0.9", 17, 0, 0, IP_F_CKSUM, u->data + 20, u->len - 20, 2));
	through(h, DOWN,
		pt_ip_req(NULL, "10.0.0.8", 17, 0, 0, IP_F_CKSUM, u->data + 20, u->len - 20, 1));
	dropped(h, UP, pt_ip_ind(from66, 2));
	through(h, UP, pt_ip_ind(from2, 1));
	/* the synthetic header: src 0.0.0.0, ttl 64 when the request says 0 */
	through(h, DOWN,
		pt_ip_req(NULL, "10.0.0.2", 1, 0, 0, 0, echo->data + 20, echo->len - 20, 1));
	dropped(h, DOWN,
		pt_ip_req("10.0.0.1", "10.0.0.2", 1, 0, 0, 0, echo->data + 20, echo->len - 20, 1));
	dropped(h, DOWN,
		pt_ip_req(NULL, "10.0.0.2", 1, 9, 0, 0, echo->data + 20, echo->len - 20, 1));
	/* IP_F_HDRINCL: the payload is the datagram */
	dropped(h, DOWN, pt_ip_req(NULL, "10.0.0.9", 0, 0, 0, IP_F_HDRINCL, u->data, u->len, 3));
	through(h, UP, pt_data_ba(from2, 1)); /* no packet here */
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_DROPPED), ==, 5);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_ACCEPTED), ==, 1);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_POLICY_ACCEPTED), ==, 2);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_OTHERS), ==, 1);
	us_harness_free(h);
	GByteArray *all[] = { u, from66, from2, echo };
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		g_byte_array_unref(all[i]);
}

/* ------------------------------------------------------------------ */
/* log and count                                                      */
/* ------------------------------------------------------------------ */

static void
test_log(void)
{
	UsHarness *h = us_harness_new("filter");
	set(h, FILTER_PARAM_HOOK, "dlpi");
	set(h, FILTER_PARAM_RULES, "log both icmp; count in icmp; drop in icmp");
	GByteArray *ping = pt_icmp_echo("10.0.0.2", "10.0.0.1", TRUE, 7, 1, 56);
	g_test_expect_message("us-filter", G_LOG_LEVEL_MESSAGE,
			      "rule 0 (log both icmp) in: IP 10.0.0.2 > 10.0.0.1: ICMP echo "
			      "request, id 7, seq 1, length 84");
	dropped(h, UP, pt_dl_ind(ETHER_T_IPV4, ping, 1)); /* log and count went on */
	g_test_assert_expected_messages();
	g_test_expect_message("us-filter", G_LOG_LEVEL_MESSAGE, "rule 0 (log both icmp) out: *");
	through(h, DOWN, frame_msg(ping, 1));
	g_test_assert_expected_messages();
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_LOGGED), ==, 2);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_COUNTED), ==, 1);
	g_assert_cmpuint(HSTAT(h, FILTER_STAT_DROPPED), ==, 1);
	us_harness_free(h);

	/* below ether: the link header too */
	h = us_harness_new("filter");
	set(h, FILTER_PARAM_RULES, "log");
	GByteArray *arp = pt_arp_request("10.0.0.1", "10.0.0.2");
	GByteArray *farp = pt_frame(PT_MAC_B, PT_MAC_A, ETHER_T_ARP, arp, -1);
	GByteArray *udp = pt_udp("10.0.0.1", "10.0.0.2", 1234, 53, 10);
	GByteArray *tcp = pt_tcp("10.0.0.1", "10.0.0.2", 40000, 80, 0x12);
	g_test_expect_message("us-filter", G_LOG_LEVEL_MESSAGE,
			      "rule 0 (log both) in: 02:00:00:00:00:0a > 02:00:00:00:00:0b, ARP, "
			      "Request who-has 10.0.0.2 tell 10.0.0.1");
	through(h, UP, pt_data_ba(farp, 1));
	g_test_expect_message("us-filter", G_LOG_LEVEL_MESSAGE,
			      "*IP 10.0.0.1.1234 > 10.0.0.2.53: UDP, length 38");
	through(h, DOWN, frame_msg(udp, 1));
	g_test_expect_message("us-filter", G_LOG_LEVEL_MESSAGE,
			      "*IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S.], length 40");
	through(h, DOWN, frame_msg(tcp, 2));
	g_test_assert_expected_messages();
	us_harness_free(h);
	GByteArray *all[] = { ping, arp, farp, udp, tcp };
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		g_byte_array_unref(all[i]);
}

/* ------------------------------------------------------------------ */
/* The hook parameter                                                 */
/* ------------------------------------------------------------------ */

static void
test_hook_change(void)
{
	UsHarness *h = us_harness_new("filter");
	queue_t *q = us_harness_rq(h);
	set(h, FILTER_PARAM_RULES, "drop ether src 02:00:00:00:00:0a");
	GError *error = NULL;
	g_test_expect_message("us-filter", G_LOG_LEVEL_WARNING, "*ether src*");
	g_assert_false(us_param_set(q, FILTER_PARAM_HOOK, "ip", &error));
	g_test_assert_expected_messages();
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_clear_error(&error);
	check_param(q, FILTER_PARAM_HOOK, "auto");
	g_assert_false(us_param_set(q, FILTER_PARAM_HOOK, "none", &error));
	g_clear_error(&error);
	GByteArray *ping = pt_icmp_echo("10.0.0.1", "10.0.0.2", TRUE, 7, 1, 56);
	dropped(h, UP, frame_msg(ping, 1));
	set(h, FILTER_PARAM_RULES, "count icmp; drop icmp");
	dropped(h, UP, frame_msg(ping, 1));
	set(h, FILTER_PARAM_HOOK, "dlpi"); /* recompiled for DLT_RAW, counters kept */
	dropped(h, UP, pt_dl_ind(ETHER_T_IPV4, ping, 1));
	through(h, UP, frame_msg(ping, 1)); /* up at dlpi: not IPv4 -> foreign */
	struct filter_rule_info ri[2];
	guint n;
	g_assert_cmpint(list_rules(h, 2, ri, &n), ==, 2);
	g_assert_cmpuint(ri[0].packets, ==, 2);
	g_assert_cmpuint(ri[0].bytes, ==, ETHER_HLEN + ping->len + ping->len);
	set(h, FILTER_PARAM_HOOK, "auto"); /* back to what the stream says: link */
	dropped(h, UP, frame_msg(ping, 1));
	us_harness_free(h);
	g_byte_array_unref(ping);
}

/* The hook comes from the stream below at open: a rule that only fits
 * DLT_EN10MB is accepted on a bare driver only. */
static void
probe_one(UsStack *stack, const char *driver, const char *under, gboolean link)
{
	GError *error = NULL;
	UsStream *st = us_stream_open(stack, driver, 0, &us_plain_head, NULL, &error);
	g_assert_no_error(error);
	if (under != NULL)
		g_assert_cmpint(us_stream_push(st, under, &error), ==, 0);
	g_assert_cmpint(us_stream_push(st, "filter", &error), ==, 0);
	queue_t *q = RD(us_stream_head_wq(st)->q_next);
	g_assert_cmpstr(us_queue_desc(q)->name, ==, "filter");
	if (!link)
		g_test_expect_message("us-filter", G_LOG_LEVEL_WARNING, "*ether host*");
	gboolean ok =
		us_param_set(q, FILTER_PARAM_RULES, "drop ether host 02:00:00:00:00:01", &error);
	g_assert_cmpint(ok, ==, link);
	g_clear_error(&error);
	g_test_assert_expected_messages();
	g_assert_true(us_param_set(q, FILTER_PARAM_RULES, "drop icmp", &error));
	us_stream_close(st);
}

static void
test_hook_probe(void)
{
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *stack = us_stack_new(w, "probe");
	probe_one(stack, "null", NULL, TRUE);     /* link */
	probe_one(stack, "null", "ether", FALSE); /* dlpi */
	probe_one(stack, "ip", NULL, FALSE);      /* ip */
	probe_one(stack, "udp", NULL, FALSE);     /* a socket stream: no packets */
	us_world_free(w);
}

static void
test_flow_transparent(void)
{
	UsHarness *h = us_harness_new("filter");
	queue_t *wq = us_harness_wq(h), *rq = us_harness_rq(h);
	g_assert_null(wq->q_qinfo->qi_srvp);
	g_assert_null(rq->q_qinfo->qi_srvp);
	us_harness_set_watermarks(h, FALSE, 1000, 500);
	us_harness_set_blocked(h, FALSE, TRUE);
	set(h, FILTER_PARAM_RULES, "count icmp");
	GByteArray *ping = pt_icmp_echo("10.0.0.1", "10.0.0.2", TRUE, 7, 1, 56);
	for (int i = 0; i < 20; i++)
		us_harness_push_up(h, frame_msg(ping, 1));
	g_assert_cmpuint(rq->q_count, ==, 0);
	g_assert_false(canputnext(rq));
	us_harness_set_blocked(h, FALSE, FALSE);
	us_harness_run(h);
	g_assert_cmpuint(us_harness_count_up(h), ==, 20);
	mblk_t *mp;
	while ((mp = us_harness_pull_up(h)) != NULL)
		freemsg(mp);
	us_harness_free(h);
	g_byte_array_unref(ping);
}

/* ------------------------------------------------------------------ */
/* Two stacks built from a config, in virtual time                    */
/* ------------------------------------------------------------------ */

static const char *stack_conf =
	"world { clock virtual; seed 3 }\n"
	"wire lan { delay 1ms }\n"
	"stack a { interface eth0 { driver wire lan; push ether mac=02:00:00:00:00:0a; push arp;"
	" address 10.0.0.1/24 }\n"
	"  app ping 10.0.0.2 %s }\n"
	"stack b { interface eth0 { driver wire lan; push ether mac=02:00:00:00:00:0b; push arp;"
	" push filter rules=\"%s\"; address 10.0.0.2/24 } }\n";

static UsCfg *
stack_cfg(const char *ping_args, const char *rules)
{
	char *text = g_strdup_printf(stack_conf, ping_args, rules);
	GError *error = NULL;
	UsCfg *cfg = us_cfg_parse_text("filter.conf", text, &error);
	g_assert_no_error(error);
	g_assert_true(us_cfg_check(cfg, &error));
	g_free(text);
	return cfg;
}

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
test_stack_drop(void)
{
	gint64 live0 = us_msg_live_count();
	UsCfg *cfg = stack_cfg("count=3 interval=10ms timeout=100ms", "drop in icmp");
	GError *error = NULL;
	UsCfgRun *run = us_cfg_build(cfg, &error);
	g_assert_no_error(error);
	g_assert_false(us_cfg_run(run, 0));
	char *s = us_cfg_run_summary(run);
	g_assert_nonnull(strstr(s, "ping 10.0.0.2: 3 sent, no reply  [FAILED]"));
	g_free(s);
	queue_t *q = iface_module(run, "b", "eth0", "filter");
	g_assert_cmpuint(us_drop_count(q, FILTER_DROP_RULE), ==, 3);
	g_assert_cmpuint(qstat(q, FILTER_STAT_DROPPED), ==, 3);
	g_assert_cmpuint(qstat(q, FILTER_STAT_PACKETS_OUT), ==, 0);
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

/* What the timer needs to send FILTER_DEL into the linked interface. */
typedef struct {
	queue_t *rq; /* filter's read queue */
	int32_t index;
	gboolean sent;
} DelJob;

/* On the world's thread (a world timer): an I_STR-style M_IOCTL put on
 * filter's write queue, as the stream head above would send it.  The
 * interface stream is linked under ip, so the M_IOCACK goes up to ip,
 * which drops answers it did not ask for. */
static void
send_del(gpointer data)
{
	DelJob *job = data;
	struct filter_del_req del = { .index = job->index };
	mblk_t *mp = mkiocb(FILTER_DEL);
	g_assert_nonnull(mp);
	((struct iocblk *)mp->b_rptr)->ioc_count = sizeof del;
	mp->b_cont = us_msg_from(&del, sizeof del, 0);
	put(WR(job->rq), mp);
	job->sent = TRUE;
}

static void
test_stack_del(void)
{
	gint64 live0 = us_msg_live_count();
	UsCfg *cfg =
		stack_cfg("count=6 interval=100ms timeout=100ms", "count both icmp; drop in icmp");
	GError *error = NULL;
	UsCfgRun *run = us_cfg_build(cfg, &error);
	g_assert_no_error(error);
	queue_t *q = iface_module(run, "b", "eth0", "filter");
	check_param(q, FILTER_PARAM_RULES, "count both icmp; drop in icmp");
	DelJob job = { .rq = q, .index = 1 };
	us_world_timer_add(us_cfg_run_world(run), 250 * MS, send_del, &job);
	g_assert_true(us_cfg_run(run, 0)); /* some replies came: ok */
	g_assert_true(job.sent);
	char *s = us_cfg_run_summary(run);
	g_assert_nonnull(strstr(s, "ping 10.0.0.2: 6 sent, 3 received, 50% loss"));
	g_free(s);
	check_param(q, FILTER_PARAM_RULES, "count both icmp");
	g_assert_cmpuint(us_drop_count(q, FILTER_DROP_RULE), ==, 3);
	/* 6 requests in, 3 replies out */
	g_assert_cmpuint(qstat(q, FILTER_STAT_COUNTED), ==, 9);
	g_assert_cmpuint(qstat(q, FILTER_STAT_PACKETS_IN), ==, 6);
	g_assert_cmpuint(qstat(q, FILTER_STAT_PACKETS_OUT), ==, 3);
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/filter/rules/text", test_rules_text);
	g_test_add_func("/filter/link/rules", test_link);
	g_test_add_func("/filter/link/policy", test_policy);
	g_test_add_func("/filter/ioctl/add-del-flush-list", test_ioctls);
	g_test_add_func("/filter/dlpi/forms", test_dlpi);
	g_test_add_func("/filter/ip/forms", test_ip);
	g_test_add_func("/filter/log", test_log);
	g_test_add_func("/filter/hook/change", test_hook_change);
	g_test_add_func("/filter/hook/probe", test_hook_probe);
	g_test_add_func("/filter/flow/transparent", test_flow_transparent);
	g_test_add_func("/filter/stack/drop", test_stack_drop);
	g_test_add_func("/filter/stack/del-at-run-time", test_stack_del);
	return g_test_run();
}
