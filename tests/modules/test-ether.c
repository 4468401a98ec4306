/* SPDX-License-Identifier: MIT */
/*
 * test-ether.c -- the ether module between a fake user and a fake driver
 * (UsHarness): every DLPI primitive with its acknowledgements and errors, the
 * state machine, receive filtering, 802.1Q, the fast path both ways, raw mode,
 * notifications, parameters and statistics, malformed input, allocation
 * failures, and a replay of the real ARP captures in ../shared/pcaps/arp.
 *
 * The harness fails a test that leaks message blocks.
 */
#include "ether.h"
#include "ether-wire.h"

#include <ustreams/debug.h>
#include <ustreams/dlpi.h>
#include <ustreams/harness.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <errno.h>
#include <string.h>

/* The replay test needs libpcap; without its header it skips. */
#if defined(__has_include)
#if __has_include(<pcap/pcap.h>)
#define TEST_HAVE_PCAP 1
#include <pcap/pcap.h>
#endif
#endif

/* The descriptor, with its full type (ether.h only forward-declares it). */
extern const UsModuleDesc us_ether_desc;

static const uint8_t MAC_US[ETHER_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t MAC_PEER[ETHER_ALEN] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t MAC_OTHER[ETHER_ALEN] = { 0x02, 0x99, 0x88, 0x77, 0x66, 0x55 };
static const uint8_t MAC_BCAST[ETHER_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MAC_MCAST[ETHER_ALEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
static const uint8_t MAC_MCAST2[ETHER_ALEN] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* A message of type holding the primitive bytes, then extra. */
static mblk_t *
proto_msg(unsigned char type, const void *prim, size_t len, const void *extra, size_t elen)
{
	mblk_t *mp = allocb(len + elen, BPRI_MED);
	g_assert_nonnull(mp);
	DB_TYPE(mp) = type;
	memcpy(mp->b_wptr, prim, len);
	mp->b_wptr += len;
	if (elen > 0)
		memcpy(mp->b_wptr, extra, elen);
	mp->b_wptr += elen;
	return mp;
}

/* len payload bytes (the pattern) with headroom bytes free before them. */
static mblk_t *
payload_msg(size_t len, size_t headroom)
{
	mblk_t *mp = allocb(headroom + len, BPRI_MED);
	g_assert_nonnull(mp);
	memset(mp->b_rptr, 0xa5, headroom); /* defined bytes, so a write shows */
	mp->b_rptr += headroom;
	mp->b_wptr = mp->b_rptr;
	for (size_t i = 0; i < len; i++)
		*mp->b_wptr++ = pattern(i);
	return mp;
}

/* A frame: header (tagged when vid >= 0) and paylen pattern bytes. */
static mblk_t *
mkframe(const uint8_t *dst, const uint8_t *src, int vid, uint16_t type, size_t paylen)
{
	size_t hl = vid >= 0 ? ETHER_VLAN_HLEN : ETHER_HLEN;
	mblk_t *mp = payload_msg(paylen, hl);
	mp->b_rptr -= hl;
	memcpy(mp->b_rptr, dst, ETHER_ALEN);
	memcpy(mp->b_rptr + 6, src, ETHER_ALEN);
	if (vid >= 0) {
		ether_put16(mp->b_rptr + 12, ETHER_T_VLAN);
		ether_put16(mp->b_rptr + 14, (uint16_t)(0xa000 | vid)); /* PCP 5 */
		ether_put16(mp->b_rptr + 16, type);
	} else {
		ether_put16(mp->b_rptr + 12, type);
	}
	return mp;
}

static void
push_frame(UsHarness *h, const uint8_t *dst, const uint8_t *src, int vid, uint16_t type,
	   size_t paylen)
{
	us_harness_push_up(h, mkframe(dst, src, vid, type, paylen));
}

/* Checks that mp's bytes from offset off are the payload pattern, len long. */
static void
check_payload(const mblk_t *mp, size_t len)
{
	g_assert_cmpuint(msgdsize(mp), ==, len);
	size_t i = 0;
	for (const mblk_t *bp = mp; bp != NULL; bp = bp->b_cont)
		for (const unsigned char *p = bp->b_rptr; p < bp->b_wptr; p++, i++)
			g_assert_cmpuint(*p, ==, pattern(i));
}

/* Checks a frame that went down: header fields and payload. */
static void
check_frame(mblk_t *mp, const uint8_t *dst, const uint8_t *src, int vid, uint16_t type,
	    size_t paylen)
{
	g_assert_cmpint(DB_TYPE(mp), ==, M_DATA);
	mblk_t *flat = us_msgpullup_all(mp);
	const uint8_t *p = flat->b_rptr;
	size_t hl = vid >= 0 ? ETHER_VLAN_HLEN : ETHER_HLEN;
	g_assert_cmpuint(MBLKL(flat), ==, hl + paylen);
	g_assert_cmpmem(p, ETHER_ALEN, dst, ETHER_ALEN);
	g_assert_cmpmem(p + 6, ETHER_ALEN, src, ETHER_ALEN);
	if (vid >= 0) {
		g_assert_cmphex(ether_get16(p + 12), ==, ETHER_T_VLAN);
		g_assert_cmpuint(ETHER_TCI_VID(ether_get16(p + 14)), ==, (guint)vid);
		g_assert_cmphex(ether_get16(p + 16), ==, type);
	} else {
		g_assert_cmphex(ether_get16(p + 12), ==, type);
	}
	for (size_t i = 0; i < paylen; i++)
		g_assert_cmpuint(p[hl + i], ==, pattern(i));
	freemsg(flat);
}

/* The next message that came up, which must be of type. */
static mblk_t *
pull_up_type(UsHarness *h, unsigned char type)
{
	mblk_t *mp = us_harness_pull_up(h);
	g_assert_nonnull(mp);
	g_assert_cmphex(DB_TYPE(mp), ==, type);
	return mp;
}

/* Reads the fixed part of a primitive that came up (any alignment). */
static void
prim_read(const mblk_t *mp, void *out, size_t size)
{
	g_assert_cmpuint(MBLKL(mp), >=, size);
	memcpy(out, mp->b_rptr, size);
}

static void
expect_ok_ack(UsHarness *h, t_uscalar_t prim)
{
	mblk_t *mp = pull_up_type(h, M_PCPROTO);
	dl_ok_ack_t ack;
	prim_read(mp, &ack, sizeof ack);
	g_assert_cmphex(ack.dl_primitive, ==, DL_OK_ACK);
	g_assert_cmphex(ack.dl_correct_primitive, ==, prim);
	freemsg(mp);
}

static void
expect_error_ack(UsHarness *h, t_uscalar_t prim, t_uscalar_t dl_errno)
{
	mblk_t *mp = pull_up_type(h, M_PCPROTO);
	dl_error_ack_t ack;
	prim_read(mp, &ack, sizeof ack);
	g_assert_cmphex(ack.dl_primitive, ==, DL_ERROR_ACK);
	g_assert_cmphex(ack.dl_error_primitive, ==, prim);
	g_assert_cmphex(ack.dl_errno, ==, dl_errno);
	g_assert_cmpuint(ack.dl_unix_errno, ==, 0);
	freemsg(mp);
}

static void
expect_nothing(UsHarness *h)
{
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(us_harness_count_down(h), ==, 0);
}

/* Sends a primitive made of 32-bit words. */
static void
send_words(UsHarness *h, unsigned char type, const t_uscalar_t *w, size_t n)
{
	us_harness_push_down(h, proto_msg(type, w, n * sizeof w[0], NULL, 0));
}

static void
send_bind(UsHarness *h, t_uscalar_t sap, t_uscalar_t mode, t_uscalar_t xidtest)
{
	dl_bind_req_t req = { .dl_primitive = DL_BIND_REQ,
			      .dl_sap = sap,
			      .dl_service_mode = (uint16_t)mode,
			      .dl_xidtest_flg = xidtest };
	us_harness_push_down(h, proto_msg(M_PROTO, &req, sizeof req, NULL, 0));
}

/* Binds sap and checks DL_BIND_ACK. */
static void
do_bind(UsHarness *h, uint16_t sap)
{
	send_bind(h, sap, DL_CLDLS, 0);
	mblk_t *mp = pull_up_type(h, M_PCPROTO);
	dl_bind_ack_t ack;
	prim_read(mp, &ack, sizeof ack);
	g_assert_cmphex(ack.dl_primitive, ==, DL_BIND_ACK);
	g_assert_cmphex(ack.dl_sap, ==, sap);
	g_assert_cmpuint(ack.dl_addr_length, ==, ETHER_DLSAP_LEN);
	g_assert_cmpuint(ack.dl_addr_offset + ETHER_DLSAP_LEN, <=, MBLKL(mp));
	const uint8_t *a = mp->b_rptr + ack.dl_addr_offset;
	g_assert_cmpmem(a, ETHER_ALEN, MAC_US, ETHER_ALEN);
	g_assert_cmphex(ether_dlsap_sap(a), ==, sap);
	freemsg(mp);
}

/* A primitive of the {primitive, length, offset} shape with a MAC after it
 * (DL_ENABMULTI_REQ, DL_DISABMULTI_REQ, DL_SET_PHYS_ADDR_REQ). */
static void
send_addr_prim(UsHarness *h, t_uscalar_t prim, const uint8_t *mac, t_uscalar_t len, t_uscalar_t off)
{
	t_uscalar_t w[3] = { prim, len, off };
	us_harness_push_down(h, proto_msg(M_PROTO, w, sizeof w, mac, ETHER_ALEN));
}

static void
addr_prim_ok(UsHarness *h, t_uscalar_t prim, const uint8_t *mac)
{
	send_addr_prim(h, prim, mac, ETHER_ALEN, 3 * sizeof(t_uscalar_t));
	expect_ok_ack(h, prim);
}

static void
promisc(UsHarness *h, t_uscalar_t prim, t_uscalar_t level)
{
	t_uscalar_t w[2] = { prim, level };
	send_words(h, M_PROTO, w, 2);
}

static mblk_t *
unitdata_req_msg(const uint8_t *dst, uint16_t sap, size_t paylen, size_t headroom)
{
	uint8_t dlsap[ETHER_DLSAP_LEN];
	ether_dlsap_make(dlsap, dst, sap);
	dl_unitdata_req_t req = { .dl_primitive = DL_UNITDATA_REQ,
				  .dl_dest_addr_length = ETHER_DLSAP_LEN,
				  .dl_dest_addr_offset = sizeof req };
	mblk_t *mp = proto_msg(M_PROTO, &req, sizeof req, dlsap, sizeof dlsap);
	mp->b_cont = payload_msg(paylen, headroom);
	return mp;
}

static guint64
stat(UsHarness *h, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(us_harness_rq(h), name, &v));
	return v;
}

static guint64
drops(UsHarness *h, guint reason)
{
	return us_drop_count(us_harness_rq(h), reason);
}

static void
set_param(UsHarness *h, const char *name, const char *value)
{
	GError *error = NULL;
	g_assert_true(us_param_set(us_harness_rq(h), name, value, &error));
	g_assert_no_error(error);
	us_harness_run(h);
}

static void
check_param(UsHarness *h, const char *name, const char *want)
{
	char *v = us_param_get(us_harness_rq(h), name, NULL);
	g_assert_cmpstr(v, ==, want);
	g_free(v);
}

/* Checks a DL_UNITDATA_IND and the payload in its b_cont; frees it. */
static void
check_unitdata_ind(mblk_t *mp, const uint8_t *dst, const uint8_t *src, uint16_t sap, gboolean group,
		   size_t paylen)
{
	g_assert_cmphex(DB_TYPE(mp), ==, M_PROTO);
	dl_unitdata_ind_t ind;
	prim_read(mp, &ind, sizeof ind);
	g_assert_cmphex(ind.dl_primitive, ==, DL_UNITDATA_IND);
	g_assert_cmpuint(ind.dl_dest_addr_length, ==, ETHER_DLSAP_LEN);
	g_assert_cmpuint(ind.dl_src_addr_length, ==, ETHER_DLSAP_LEN);
	g_assert_cmpuint(ind.dl_dest_addr_offset + ETHER_DLSAP_LEN, <=, MBLKL(mp));
	g_assert_cmpuint(ind.dl_src_addr_offset + ETHER_DLSAP_LEN, <=, MBLKL(mp));
	const uint8_t *d = mp->b_rptr + ind.dl_dest_addr_offset;
	const uint8_t *s = mp->b_rptr + ind.dl_src_addr_offset;
	g_assert_cmpmem(d, ETHER_ALEN, dst, ETHER_ALEN);
	g_assert_cmpmem(s, ETHER_ALEN, src, ETHER_ALEN);
	g_assert_cmphex(ether_dlsap_sap(d), ==, sap);
	g_assert_cmphex(ether_dlsap_sap(s), ==, sap);
	g_assert_cmpuint(ind.dl_group_address != 0, ==, group);
	g_assert_nonnull(mp->b_cont);
	g_assert_cmphex(DB_TYPE(mp->b_cont), ==, M_DATA);
	check_payload(mp->b_cont, paylen);
	freemsg(mp);
}

static void
expect_unitdata_ind(UsHarness *h, const uint8_t *dst, const uint8_t *src, uint16_t sap,
		    gboolean group, size_t paylen)
{
	check_unitdata_ind(pull_up_type(h, M_PROTO), dst, src, sap, group, paylen);
}

/* A harness with ether bound to sap. */
static UsHarness *
bound_new(uint16_t sap)
{
	UsHarness *h = us_harness_new("ether");
	do_bind(h, sap);
	return h;
}

/* Sends DL_IOC_HDR_INFO for dst/sap and returns the reply. */
static mblk_t *
hdr_info(UsHarness *h, const uint8_t *dst, uint16_t sap)
{
	struct {
		dl_unitdata_req_t req;
		uint8_t addr[ETHER_DLSAP_LEN];
	} r = { .req = { .dl_primitive = DL_UNITDATA_REQ,
			 .dl_dest_addr_length = ETHER_DLSAP_LEN,
			 .dl_dest_addr_offset = sizeof r.req } };
	ether_dlsap_make(r.addr, dst, sap);
	return us_harness_ioctl(h, DL_IOC_HDR_INFO, &r, sizeof r.req + ETHER_DLSAP_LEN);
}

/* Obtains a fast-path header and returns it (a copy, caller frees). */
static mblk_t *
fastpath_on(UsHarness *h, const uint8_t *dst, uint16_t sap)
{
	mblk_t *mp = hdr_info(h, dst, sap);
	g_assert_nonnull(mp);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCACK);
	mblk_t *hdr = copyb(mp->b_cont->b_cont);
	freemsg(mp);
	return hdr;
}

static void
expect_iocnak(mblk_t *mp, int err)
{
	g_assert_nonnull(mp);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCNAK);
	g_assert_cmpint(((struct iocblk *)mp->b_rptr)->ioc_error, ==, err);
	freemsg(mp);
}

/* ------------------------------------------------------------------ */
/* DL_INFO_REQ                                                        */
/* ------------------------------------------------------------------ */

static void
check_info_ack(UsHarness *h, t_uscalar_t state, t_uscalar_t mtu, int sap)
{
	t_uscalar_t w = DL_INFO_REQ;
	send_words(h, M_PCPROTO, &w, 1);
	mblk_t *mp = pull_up_type(h, M_PCPROTO);
	dl_info_ack_t ack;
	prim_read(mp, &ack, sizeof ack);
	g_assert_cmphex(ack.dl_primitive, ==, DL_INFO_ACK);
	g_assert_cmpuint(ack.dl_max_sdu, ==, mtu);
	g_assert_cmpuint(ack.dl_min_sdu, ==, 0);
	g_assert_cmpuint(ack.dl_addr_length, ==, 8);
	g_assert_cmphex(ack.dl_mac_type, ==, DL_ETHER);
	g_assert_cmpuint(ack.dl_reserved, ==, 0);
	g_assert_cmphex(ack.dl_current_state, ==, state);
	g_assert_cmpint(ack.dl_sap_length, ==, -2);
	g_assert_cmphex(ack.dl_service_mode, ==, DL_CLDLS);
	g_assert_cmpuint(ack.dl_qos_length, ==, 0);
	g_assert_cmpuint(ack.dl_qos_range_length, ==, 0);
	g_assert_cmphex(ack.dl_provider_style, ==, DL_STYLE1);
	g_assert_cmphex(ack.dl_version, ==, DL_VERSION_2);
	g_assert_cmpuint(ack.dl_growth, ==, 0);
	g_assert_cmpuint(ack.dl_brdcst_addr_length, ==, 6);
	g_assert_cmpuint(ack.dl_brdcst_addr_offset + 6, <=, MBLKL(mp));
	g_assert_cmpmem(mp->b_rptr + ack.dl_brdcst_addr_offset, 6, MAC_BCAST, 6);
	if (sap < 0) {
		g_assert_cmpuint(ack.dl_addr_offset, ==, 0);
	} else {
		g_assert_cmpuint(ack.dl_addr_offset + 8, <=, MBLKL(mp));
		const uint8_t *a = mp->b_rptr + ack.dl_addr_offset;
		g_assert_cmpmem(a, 6, MAC_US, 6);
		g_assert_cmphex(ether_dlsap_sap(a), ==, (uint16_t)sap);
	}
	freemsg(mp);
}

static void
test_info_unbound(void)
{
	UsHarness *h = us_harness_new("ether");
	check_info_ack(h, DL_UNBOUND, 1500, -1);
	expect_nothing(h);
	us_harness_free(h);
}

static void
test_info_bound(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	do_bind(h, ETHER_T_ARP);
	check_info_ack(h, DL_IDLE, 1500, ETHER_T_IPV4); /* the first SAP */
	set_param(h, "mtu", "9000");
	check_info_ack(h, DL_IDLE, 9000, ETHER_T_IPV4);
	us_harness_free(h);
}

/* M_PROTO as well as M_PCPROTO is accepted for DL_INFO_REQ. */
static void
test_info_as_proto(void)
{
	UsHarness *h = us_harness_new("ether");
	t_uscalar_t w = DL_INFO_REQ;
	send_words(h, M_PROTO, &w, 1);
	mblk_t *mp = pull_up_type(h, M_PCPROTO);
	g_assert_cmpuint(MBLKL(mp), >=, sizeof(dl_info_ack_t));
	freemsg(mp);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* DL_ATTACH_REQ, DL_DETACH_REQ (style 1)                             */
/* ------------------------------------------------------------------ */

static void
test_attach_style1(void)
{
	UsHarness *h = us_harness_new("ether");
	t_uscalar_t w[2] = { DL_ATTACH_REQ, 0 };
	send_words(h, M_PROTO, w, 2);
	expect_error_ack(h, DL_ATTACH_REQ, DL_OUTSTATE);
	send_words(h, M_PROTO, w, 1); /* no dl_ppa */
	expect_error_ack(h, DL_ATTACH_REQ, DL_BADPRIM);
	w[0] = DL_DETACH_REQ;
	send_words(h, M_PROTO, w, 1);
	expect_error_ack(h, DL_DETACH_REQ, DL_BADPRIM);
	do_bind(h, ETHER_T_IPV4);
	send_words(h, M_PROTO, w, 1);
	expect_error_ack(h, DL_DETACH_REQ, DL_OUTSTATE);
	send_words(h, M_PROTO, (t_uscalar_t[]){ DL_ATTACH_REQ, 0 }, 2);
	expect_error_ack(h, DL_ATTACH_REQ, DL_OUTSTATE);
	g_assert_cmpuint(stat(h, "dl_errors"), ==, 5);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* DL_BIND_REQ, DL_UNBIND_REQ, DL_SUBS_BIND_REQ, DL_SUBS_UNBIND_REQ   */
/* ------------------------------------------------------------------ */

static void
test_bind_ok(void)
{
	UsHarness *h = us_harness_new("ether");
	do_bind(h, ETHER_T_IPV4);
	check_info_ack(h, DL_IDLE, 1500, ETHER_T_IPV4);
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 46);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 46);
	us_harness_free(h);
}

static void
test_bind_badsap(void)
{
	UsHarness *h = us_harness_new("ether");
	const t_uscalar_t bad[] = { 0, 0x05dc /* 1500 */, 0x10000, 0xffffffffu };
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		send_bind(h, bad[i], DL_CLDLS, 0);
		expect_error_ack(h, DL_BIND_REQ, DL_BADSAP);
	}
	do_bind(h, 0x05dd); /* 1501: the first value above the 802.3 lengths */
	do_bind(h, 0xffff);
	us_harness_free(h);
}

static void
test_bind_bad_mode(void)
{
	UsHarness *h = us_harness_new("ether");
	send_bind(h, ETHER_T_IPV4, DL_CODLS, 0);
	expect_error_ack(h, DL_BIND_REQ, DL_UNSUPPORTED);
	send_bind(h, ETHER_T_IPV4, DL_CLDLS, DL_AUTO_XID);
	expect_error_ack(h, DL_BIND_REQ, DL_NOAUTO);
	dl_bind_req_t req = { .dl_primitive = DL_BIND_REQ, .dl_sap = ETHER_T_IPV4 };
	us_harness_push_down(h, proto_msg(M_PROTO, &req, sizeof req - 1, NULL, 0));
	expect_error_ack(h, DL_BIND_REQ, DL_BADPRIM);
	check_info_ack(h, DL_UNBOUND, 1500, -1);
	us_harness_free(h);
}

static void
check_saps(UsHarness *h, const uint16_t *want, size_t n)
{
	mblk_t *mp = us_harness_ioctl(h, ETHER_IOC_GETSAPS, NULL, 0);
	g_assert_nonnull(mp);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCACK);
	g_assert_cmpuint(((struct iocblk *)mp->b_rptr)->ioc_count, ==, n * 2);
	if (n == 0) {
		g_assert_null(mp->b_cont);
	} else {
		g_assert_cmpmem(mp->b_cont->b_rptr, MBLKL(mp->b_cont), want, n * 2);
	}
	freemsg(mp);
}

/* The deviation: a second DL_BIND_REQ adds a SAP; both are delivered. */
static void
test_bind_second_adds(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	do_bind(h, ETHER_T_ARP);
	do_bind(h, ETHER_T_ARP); /* a duplicate changes nothing */
	check_saps(h, (const uint16_t[]){ ETHER_T_IPV4, ETHER_T_ARP }, 2);
	push_frame(h, MAC_BCAST, MAC_PEER, -1, ETHER_T_ARP, 28);
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 20);
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV6, 40);
	expect_unitdata_ind(h, MAC_BCAST, MAC_PEER, ETHER_T_ARP, TRUE, 28);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 20);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_UNBOUND_SAP), ==, 1);
	g_assert_cmpuint(stat(h, "noproto"), ==, 1);
	us_harness_free(h);
}

static void
test_bind_toomany(void)
{
	UsHarness *h = us_harness_new("ether");
	for (uint16_t i = 0; i < ETHER_SAP_MAX; i++)
		do_bind(h, (uint16_t)(0x9000 + i));
	send_bind(h, 0x9100, DL_CLDLS, 0);
	expect_error_ack(h, DL_BIND_REQ, DL_TOOMANY);
	do_bind(h, 0x9000); /* bound already: still fine */
	us_harness_free(h);
}

static void
test_unbind(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	do_bind(h, ETHER_T_ARP);
	t_uscalar_t w = DL_UNBIND_REQ;
	send_words(h, M_PROTO, &w, 1);
	mblk_t *fl = pull_up_type(h, M_FLUSH);
	g_assert_cmphex(fl->b_rptr[0], ==, FLUSHRW);
	freemsg(fl);
	expect_ok_ack(h, DL_UNBIND_REQ);
	check_info_ack(h, DL_UNBOUND, 1500, -1);
	check_saps(h, NULL, 0);
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 20);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_NOT_BOUND), ==, 1);
	g_assert_cmpuint(stat(h, "noproto"), ==, 1);
	send_words(h, M_PROTO, &w, 1);
	expect_error_ack(h, DL_UNBIND_REQ, DL_OUTSTATE);
	do_bind(h, ETHER_T_ARP); /* a new first SAP */
	check_info_ack(h, DL_IDLE, 1500, ETHER_T_ARP);
	us_harness_free(h);
}

static void
send_subs(UsHarness *h, t_uscalar_t prim, uint16_t sap, t_uscalar_t len, t_uscalar_t off,
	  t_uscalar_t cls)
{
	if (prim == DL_SUBS_BIND_REQ) {
		dl_subs_bind_req_t req = { .dl_primitive = prim,
					   .dl_subs_sap_offset = off,
					   .dl_subs_sap_length = len,
					   .dl_subs_bind_class = cls };
		us_harness_push_down(h, proto_msg(M_PROTO, &req, sizeof req, &sap, sizeof sap));
	} else {
		dl_subs_unbind_req_t req = { .dl_primitive = prim,
					     .dl_subs_sap_offset = off,
					     .dl_subs_sap_length = len };
		us_harness_push_down(h, proto_msg(M_PROTO, &req, sizeof req, &sap, sizeof sap));
	}
}

static void
test_subs_bind(void)
{
	UsHarness *h = us_harness_new("ether");
	const t_uscalar_t boff = sizeof(dl_subs_bind_req_t), uoff = sizeof(dl_subs_unbind_req_t);
	send_subs(h, DL_SUBS_BIND_REQ, ETHER_T_ARP, 2, boff, DL_PEER_BIND);
	expect_error_ack(h, DL_SUBS_BIND_REQ, DL_OUTSTATE);
	do_bind(h, ETHER_T_IPV4);
	send_subs(h, DL_SUBS_BIND_REQ, ETHER_T_ARP, 2, boff, DL_PEER_BIND);
	mblk_t *mp = pull_up_type(h, M_PCPROTO);
	dl_subs_bind_ack_t ack;
	prim_read(mp, &ack, sizeof ack);
	g_assert_cmphex(ack.dl_primitive, ==, DL_SUBS_BIND_ACK);
	g_assert_cmpuint(ack.dl_subs_sap_length, ==, 2);
	g_assert_cmpuint(ack.dl_subs_sap_offset + 2, <=, MBLKL(mp));
	uint16_t got;
	memcpy(&got, mp->b_rptr + ack.dl_subs_sap_offset, 2);
	g_assert_cmphex(got, ==, ETHER_T_ARP);
	freemsg(mp);
	push_frame(h, MAC_BCAST, MAC_PEER, -1, ETHER_T_ARP, 28);
	expect_unitdata_ind(h, MAC_BCAST, MAC_PEER, ETHER_T_ARP, TRUE, 28);
	/* Errors. */
	send_subs(h, DL_SUBS_BIND_REQ, ETHER_T_IPV6, 2, boff, DL_HIERARCHICAL_BIND);
	expect_error_ack(h, DL_SUBS_BIND_REQ, DL_UNSUPPORTED);
	send_subs(h, DL_SUBS_BIND_REQ, ETHER_T_IPV6, 1, boff, DL_PEER_BIND);
	expect_error_ack(h, DL_SUBS_BIND_REQ, DL_BADADDR);
	send_subs(h, DL_SUBS_BIND_REQ, 0x0100, 2, boff, DL_PEER_BIND);
	expect_error_ack(h, DL_SUBS_BIND_REQ, DL_BADADDR);
	send_subs(h, DL_SUBS_BIND_REQ, ETHER_T_IPV6, 2, boff + 1, DL_PEER_BIND);
	expect_error_ack(h, DL_SUBS_BIND_REQ, DL_BADPRIM);
	send_subs(h, DL_SUBS_BIND_REQ, ETHER_T_IPV6, 0xfffffff0u, 8, DL_PEER_BIND);
	expect_error_ack(h, DL_SUBS_BIND_REQ, DL_BADPRIM);
	/* Unbinding. */
	send_subs(h, DL_SUBS_UNBIND_REQ, ETHER_T_IPV4, 2, uoff, 0);
	expect_error_ack(h, DL_SUBS_UNBIND_REQ, DL_BADADDR); /* the DL_BIND_REQ SAP */
	send_subs(h, DL_SUBS_UNBIND_REQ, ETHER_T_IPV6, 2, uoff, 0);
	expect_error_ack(h, DL_SUBS_UNBIND_REQ, DL_BADADDR); /* not bound */
	send_subs(h, DL_SUBS_UNBIND_REQ, ETHER_T_ARP, 2, 0xffffffffu, 0);
	expect_error_ack(h, DL_SUBS_UNBIND_REQ, DL_BADPRIM);
	send_subs(h, DL_SUBS_UNBIND_REQ, ETHER_T_ARP, 2, uoff, 0);
	expect_ok_ack(h, DL_SUBS_UNBIND_REQ);
	check_saps(h, (const uint16_t[]){ ETHER_T_IPV4 }, 1);
	push_frame(h, MAC_BCAST, MAC_PEER, -1, ETHER_T_ARP, 28);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	us_harness_free(h);
}

static void
test_subs_unbind_unbound(void)
{
	UsHarness *h = us_harness_new("ether");
	send_subs(h, DL_SUBS_UNBIND_REQ, ETHER_T_ARP, 2, sizeof(dl_subs_unbind_req_t), 0);
	expect_error_ack(h, DL_SUBS_UNBIND_REQ, DL_OUTSTATE);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* DL_UNITDATA_REQ                                                    */
/* ------------------------------------------------------------------ */

static void
test_unitdata_req(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	/* With headroom: the header goes into the payload's own block. */
	mblk_t *req = unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 100, 32);
	mblk_t *payload = req->b_cont;
	us_harness_push_down(h, req);
	mblk_t *f = us_harness_pull_down(h);
	g_assert_true(f == payload);
	g_assert_null(f->b_cont);
	check_frame(f, MAC_PEER, MAC_US, -1, ETHER_T_IPV4, 100);
	freemsg(f);
	/* Without headroom: a new header block in front. */
	us_harness_push_down(h, unitdata_req_msg(MAC_PEER, ETHER_T_ARP, 28, 0));
	f = us_harness_pull_down(h);
	g_assert_nonnull(f->b_cont);
	g_assert_cmpuint(MBLKL(f), ==, ETHER_HLEN);
	check_frame(f, MAC_PEER, MAC_US, -1, ETHER_T_ARP, 28);
	freemsg(f);
	/* Broadcast, and an empty payload block, and the MTU exactly. */
	us_harness_push_down(h, unitdata_req_msg(MAC_BCAST, ETHER_T_ARP, 0, 0));
	us_harness_push_down(h, unitdata_req_msg(MAC_MCAST, ETHER_T_IPV4, 1500, 16));
	f = us_harness_pull_down(h);
	check_frame(f, MAC_BCAST, MAC_US, -1, ETHER_T_ARP, 0);
	freemsg(f);
	f = us_harness_pull_down(h);
	check_frame(f, MAC_MCAST, MAC_US, -1, ETHER_T_IPV4, 1500);
	freemsg(f);
	g_assert_cmpuint(stat(h, "opackets"), ==, 4);
	g_assert_cmpuint(stat(h, "obytes"), ==, 4 * 14 + 100 + 28 + 0 + 1500);
	g_assert_cmpuint(stat(h, "omcasts"), ==, 2);
	g_assert_cmpuint(stat(h, "unitdata_req"), ==, 4);
	expect_nothing(h);
	us_harness_free(h);
}

/* A shared payload is never written: the header gets its own block. */
static void
test_unitdata_req_shared_payload(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	mblk_t *req = unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 64, 32);
	mblk_t *keep = dupmsg(req->b_cont);
	unsigned char before[32];
	memset(before, 0xa5, sizeof before);
	us_harness_push_down(h, req);
	mblk_t *f = us_harness_pull_down(h);
	g_assert_cmpuint(MBLKL(f), ==, ETHER_HLEN);
	check_frame(f, MAC_PEER, MAC_US, -1, ETHER_T_IPV4, 64);
	g_assert_cmpmem(DB_BASE(keep), sizeof before, before, sizeof before);
	check_payload(keep, 64);
	freemsg(f);
	freemsg(keep);
	us_harness_free(h);
}

/* Payload in several blocks. */
static void
test_unitdata_req_chain(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	mblk_t *req = unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 10, 0);
	mblk_t *b2 = payload_msg(20, 0);
	for (size_t i = 0; i < 20; i++)
		b2->b_rptr[i] = pattern(10 + i);
	linkb(req, b2);
	us_harness_push_down(h, req);
	mblk_t *f = us_harness_pull_down(h);
	check_frame(f, MAC_PEER, MAC_US, -1, ETHER_T_IPV4, 30);
	freemsg(f);
	us_harness_free(h);
}

static void
expect_uderror(UsHarness *h, const uint8_t *dst, uint16_t sap, t_uscalar_t err)
{
	mblk_t *mp = pull_up_type(h, M_PROTO);
	dl_uderror_ind_t ind;
	prim_read(mp, &ind, sizeof ind);
	g_assert_cmphex(ind.dl_primitive, ==, DL_UDERROR_IND);
	g_assert_cmphex(ind.dl_errno, ==, err);
	g_assert_cmpuint(ind.dl_unix_errno, ==, 0);
	g_assert_cmpuint(ind.dl_dest_addr_length, ==, 8);
	g_assert_cmpuint(ind.dl_dest_addr_offset + 8, <=, MBLKL(mp));
	g_assert_cmpmem(mp->b_rptr + ind.dl_dest_addr_offset, 6, dst, 6);
	g_assert_cmphex(ether_dlsap_sap(mp->b_rptr + ind.dl_dest_addr_offset), ==, sap);
	g_assert_null(mp->b_cont);
	freemsg(mp);
}

static void
test_unitdata_req_errors(void)
{
	UsHarness *h = us_harness_new("ether");
	us_harness_push_down(h, unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 10, 0));
	expect_error_ack(h, DL_UNITDATA_REQ, DL_OUTSTATE);
	do_bind(h, ETHER_T_IPV4);
	/* Too short. */
	mblk_t *mp = unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 10, 0);
	mp->b_wptr = mp->b_rptr + 8;
	us_harness_push_down(h, mp);
	expect_error_ack(h, DL_UNITDATA_REQ, DL_BADPRIM);
	/* No payload. */
	mp = unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 10, 0);
	freemsg(unlinkb(mp));
	us_harness_push_down(h, mp);
	expect_error_ack(h, DL_UNITDATA_REQ, DL_BADPRIM);
	/* Address outside the block, and overflowing offset + length. */
	const t_uscalar_t bad_off[][2] = {
		{ 8, 21 }, { 8, 0x7fffffff }, { 0xfffffffcu, 8 }, { 20, 0xfffffff0u }
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad_off); i++) {
		mp = unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 10, 0);
		dl_unitdata_req_t req;
		memcpy(&req, mp->b_rptr, sizeof req);
		req.dl_dest_addr_length = bad_off[i][0];
		req.dl_dest_addr_offset = bad_off[i][1];
		memcpy(mp->b_rptr, &req, sizeof req);
		us_harness_push_down(h, mp);
		expect_error_ack(h, DL_UNITDATA_REQ, DL_BADPRIM);
	}
	/* Wrong address length, and a SAP that is an 802.3 length. */
	mp = unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 10, 0);
	((dl_unitdata_req_t *)mp->b_rptr)->dl_dest_addr_length = 6;
	us_harness_push_down(h, mp);
	expect_error_ack(h, DL_UNITDATA_REQ, DL_BADADDR);
	us_harness_push_down(h, unitdata_req_msg(MAC_PEER, 100, 10, 0));
	expect_error_ack(h, DL_UNITDATA_REQ, DL_BADADDR);
	/* Too much data, and a non-M_DATA block: DL_UDERROR_IND. */
	us_harness_push_down(h, unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 1501, 0));
	expect_uderror(h, MAC_PEER, ETHER_T_IPV4, DL_BADDATA);
	mp = unitdata_req_msg(MAC_PEER, ETHER_T_ARP, 10, 0);
	linkb(mp, proto_msg(M_PROTO, "x", 1, NULL, 0));
	us_harness_push_down(h, mp);
	expect_uderror(h, MAC_PEER, ETHER_T_ARP, DL_BADDATA);
	expect_nothing(h);
	g_assert_cmpuint(stat(h, "opackets"), ==, 0);
	g_assert_cmpuint(stat(h, "dl_errors"), ==, 11);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* DL_UNITDATA_IND and receive filtering                              */
/* ------------------------------------------------------------------ */

static void
test_rx_unicast(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 60);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 60);
	push_frame(h, MAC_OTHER, MAC_PEER, -1, ETHER_T_IPV4, 60);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_NOT_FOR_US), ==, 1);
	g_assert_cmpuint(stat(h, "ipackets"), ==, 2);
	g_assert_cmpuint(stat(h, "ibytes"), ==, 2 * 74);
	g_assert_cmpuint(stat(h, "unitdata_ind"), ==, 1);
	g_assert_cmpuint(stat(h, "imcasts"), ==, 0);
	g_assert_cmpuint(stat(h, "noproto"), ==, 0);
	us_harness_free(h);
}

static void
test_rx_broadcast(void)
{
	UsHarness *h = bound_new(ETHER_T_ARP);
	push_frame(h, MAC_BCAST, MAC_PEER, -1, ETHER_T_ARP, 28);
	expect_unitdata_ind(h, MAC_BCAST, MAC_PEER, ETHER_T_ARP, TRUE, 28);
	g_assert_cmpuint(stat(h, "imcasts"), ==, 1);
	set_param(h, "broadcast", "false");
	g_assert_cmphex(stat(h, "flags") & ETHER_IFF_BROADCAST, ==, 0);
	push_frame(h, MAC_BCAST, MAC_PEER, -1, ETHER_T_ARP, 28);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_NOT_FOR_US), ==, 1);
	us_harness_free(h);
}

static void
test_rx_multicast(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	push_frame(h, MAC_MCAST, MAC_PEER, -1, ETHER_T_IPV4, 30);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	addr_prim_ok(h, DL_ENABMULTI_REQ, MAC_MCAST);
	push_frame(h, MAC_MCAST, MAC_PEER, -1, ETHER_T_IPV4, 30);
	push_frame(h, MAC_MCAST2, MAC_PEER, -1, ETHER_T_IPV4, 30);
	expect_unitdata_ind(h, MAC_MCAST, MAC_PEER, ETHER_T_IPV4, TRUE, 30);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(stat(h, "imcasts"), ==, 1);
	set_param(h, "multicast", "off");
	push_frame(h, MAC_MCAST, MAC_PEER, -1, ETHER_T_IPV4, 30);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	set_param(h, "multicast", "on");
	addr_prim_ok(h, DL_DISABMULTI_REQ, MAC_MCAST);
	push_frame(h, MAC_MCAST, MAC_PEER, -1, ETHER_T_IPV4, 30);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_NOT_FOR_US), ==, 4);
	us_harness_free(h);
}

static void
check_mcast_list(UsHarness *h, const uint8_t (*want)[ETHER_ALEN], size_t n)
{
	mblk_t *mp = us_harness_ioctl(h, ETHER_IOC_GETMCAST, NULL, 0);
	g_assert_nonnull(mp);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCACK);
	g_assert_cmpuint(((struct iocblk *)mp->b_rptr)->ioc_count, ==, n * ETHER_ALEN);
	if (n > 0)
		g_assert_cmpmem(mp->b_cont->b_rptr, MBLKL(mp->b_cont), want, n * ETHER_ALEN);
	else
		g_assert_null(mp->b_cont);
	freemsg(mp);
}

static void
test_multicast_errors(void)
{
	UsHarness *h = us_harness_new("ether"); /* valid in DL_UNBOUND too */
	const t_uscalar_t off = 3 * sizeof(t_uscalar_t);
	send_addr_prim(h, DL_ENABMULTI_REQ, MAC_PEER, ETHER_ALEN, off);
	expect_error_ack(h, DL_ENABMULTI_REQ, DL_BADADDR);
	send_addr_prim(h, DL_ENABMULTI_REQ, MAC_MCAST, 5, off);
	expect_error_ack(h, DL_ENABMULTI_REQ, DL_BADPRIM);
	send_addr_prim(h, DL_ENABMULTI_REQ, MAC_MCAST, ETHER_ALEN, off + 1);
	expect_error_ack(h, DL_ENABMULTI_REQ, DL_BADPRIM);
	send_addr_prim(h, DL_ENABMULTI_REQ, MAC_MCAST, ETHER_ALEN, 0xfffffffeu);
	expect_error_ack(h, DL_ENABMULTI_REQ, DL_BADPRIM);
	send_words(h, M_PROTO, (t_uscalar_t[]){ DL_ENABMULTI_REQ, 6 }, 2);
	expect_error_ack(h, DL_ENABMULTI_REQ, DL_BADPRIM);
	send_addr_prim(h, DL_DISABMULTI_REQ, MAC_MCAST, ETHER_ALEN, off);
	expect_error_ack(h, DL_DISABMULTI_REQ, DL_NOTENAB);
	send_addr_prim(h, DL_DISABMULTI_REQ, MAC_PEER, ETHER_ALEN, off);
	expect_error_ack(h, DL_DISABMULTI_REQ, DL_BADADDR);
	send_addr_prim(h, DL_DISABMULTI_REQ, MAC_MCAST, 7, off);
	expect_error_ack(h, DL_DISABMULTI_REQ, DL_BADPRIM);
	/* Fill the table; a duplicate is fine, one more is DL_TOOMANY. */
	uint8_t list[ETHER_MCAST_MAX][ETHER_ALEN];
	for (guint i = 0; i < ETHER_MCAST_MAX; i++) {
		memcpy(list[i], MAC_MCAST, ETHER_ALEN);
		list[i][5] = (uint8_t)i;
		addr_prim_ok(h, DL_ENABMULTI_REQ, list[i]);
	}
	addr_prim_ok(h, DL_ENABMULTI_REQ, list[3]);
	send_addr_prim(h, DL_ENABMULTI_REQ, MAC_MCAST2, ETHER_ALEN, off);
	expect_error_ack(h, DL_ENABMULTI_REQ, DL_TOOMANY);
	check_mcast_list(h, (const uint8_t(*)[ETHER_ALEN])list, ETHER_MCAST_MAX);
	addr_prim_ok(h, DL_DISABMULTI_REQ, list[0]);
	addr_prim_ok(h, DL_ENABMULTI_REQ, MAC_MCAST2);
	memmove(list[0], list[1], (ETHER_MCAST_MAX - 1) * ETHER_ALEN);
	memcpy(list[ETHER_MCAST_MAX - 1], MAC_MCAST2, ETHER_ALEN);
	check_mcast_list(h, (const uint8_t(*)[ETHER_ALEN])list, ETHER_MCAST_MAX);
	us_harness_free(h);
}

static void
test_promisc_phys(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	promisc(h, DL_PROMISCON_REQ, DL_PROMISC_PHYS);
	expect_ok_ack(h, DL_PROMISCON_REQ);
	g_assert_cmphex(stat(h, "flags") & ETHER_IFF_PROMISC, ==, ETHER_IFF_PROMISC);
	push_frame(h, MAC_OTHER, MAC_PEER, -1, ETHER_T_IPV4, 30);
	push_frame(h, MAC_MCAST2, MAC_PEER, -1, ETHER_T_IPV4, 31);
	push_frame(h, MAC_OTHER, MAC_PEER, -1, ETHER_T_ARP, 28); /* SAP still filters */
	expect_unitdata_ind(h, MAC_OTHER, MAC_PEER, ETHER_T_IPV4, FALSE, 30);
	expect_unitdata_ind(h, MAC_MCAST2, MAC_PEER, ETHER_T_IPV4, TRUE, 31);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_UNBOUND_SAP), ==, 1);
	promisc(h, DL_PROMISCOFF_REQ, DL_PROMISC_PHYS);
	expect_ok_ack(h, DL_PROMISCOFF_REQ);
	g_assert_cmphex(stat(h, "flags") & ETHER_IFF_PROMISC, ==, 0);
	push_frame(h, MAC_OTHER, MAC_PEER, -1, ETHER_T_IPV4, 30);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_NOT_FOR_US), ==, 1);
	us_harness_free(h);
}

static void
test_promisc_sap(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	promisc(h, DL_PROMISCON_REQ, DL_PROMISC_SAP);
	expect_ok_ack(h, DL_PROMISCON_REQ);
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV6, 40);
	push_frame(h, MAC_OTHER, MAC_PEER, -1, ETHER_T_IPV6, 40); /* address still filters */
	push_frame(h, MAC_US, MAC_PEER, -1, 0x0030, 48);          /* an 802.3 length */
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV6, FALSE, 40);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, 0x0030, FALSE, 48);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmphex(stat(h, "flags") & (ETHER_IFF_PROMISC | ETHER_IFF_ALLMULTI), ==, 0);
	promisc(h, DL_PROMISCOFF_REQ, DL_PROMISC_SAP);
	expect_ok_ack(h, DL_PROMISCOFF_REQ);
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV6, 40);
	push_frame(h, MAC_US, MAC_PEER, -1, 0x0030, 48);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_UNBOUND_SAP), ==, 1);
	g_assert_cmpuint(drops(h, ETHER_DROP_LLC), ==, 1);
	g_assert_cmpuint(stat(h, "noproto"), ==, 2);
	us_harness_free(h);
}

static void
test_promisc_multi(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	promisc(h, DL_PROMISCON_REQ, DL_PROMISC_MULTI);
	expect_ok_ack(h, DL_PROMISCON_REQ);
	g_assert_cmphex(stat(h, "flags") & ETHER_IFF_ALLMULTI, ==, ETHER_IFF_ALLMULTI);
	push_frame(h, MAC_MCAST, MAC_PEER, -1, ETHER_T_IPV4, 30);
	push_frame(h, MAC_OTHER, MAC_PEER, -1, ETHER_T_IPV4, 30);
	expect_unitdata_ind(h, MAC_MCAST, MAC_PEER, ETHER_T_IPV4, TRUE, 30);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_NOT_FOR_US), ==, 1);
	us_harness_free(h);
}

static void
test_promisc_errors(void)
{
	UsHarness *h = us_harness_new("ether"); /* valid in DL_UNBOUND */
	promisc(h, DL_PROMISCOFF_REQ, DL_PROMISC_PHYS);
	expect_error_ack(h, DL_PROMISCOFF_REQ, DL_NOTENAB);
	promisc(h, DL_PROMISCOFF_REQ, DL_PROMISC_MULTI);
	expect_error_ack(h, DL_PROMISCOFF_REQ, DL_NOTENAB);
	const t_uscalar_t bad[] = { 0, DL_PROMISC_RX_ONLY, DL_PROMISC_INCOMING, 77 };
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		promisc(h, DL_PROMISCON_REQ, bad[i]);
		expect_error_ack(h, DL_PROMISCON_REQ, DL_NOTSUPPORTED);
		promisc(h, DL_PROMISCOFF_REQ, bad[i]);
		expect_error_ack(h, DL_PROMISCOFF_REQ, DL_NOTSUPPORTED);
	}
	send_words(h, M_PROTO, (t_uscalar_t[]){ DL_PROMISCON_REQ }, 1);
	expect_error_ack(h, DL_PROMISCON_REQ, DL_BADPRIM);
	promisc(h, DL_PROMISCON_REQ, DL_PROMISC_SAP);
	expect_ok_ack(h, DL_PROMISCON_REQ);
	promisc(h, DL_PROMISCON_REQ, DL_PROMISC_SAP); /* twice is fine */
	expect_ok_ack(h, DL_PROMISCON_REQ);
	promisc(h, DL_PROMISCOFF_REQ, DL_PROMISC_SAP);
	expect_ok_ack(h, DL_PROMISCOFF_REQ);
	promisc(h, DL_PROMISCOFF_REQ, DL_PROMISC_SAP);
	expect_error_ack(h, DL_PROMISCOFF_REQ, DL_NOTENAB);
	us_harness_free(h);
}

/* The "promisc" parameter acts like DL_PROMISC_PHYS. */
static void
test_promisc_param(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	set_param(h, "promisc", "yes");
	g_assert_cmphex(stat(h, "flags") & ETHER_IFF_PROMISC, ==, ETHER_IFF_PROMISC);
	push_frame(h, MAC_OTHER, MAC_PEER, -1, ETHER_T_IPV4, 30);
	expect_unitdata_ind(h, MAC_OTHER, MAC_PEER, ETHER_T_IPV4, FALSE, 30);
	set_param(h, "promisc", "no");
	push_frame(h, MAC_OTHER, MAC_PEER, -1, ETHER_T_IPV4, 30);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	us_harness_free(h);
}

/* A frame whose data block is shared is delivered without being written. */
static void
test_rx_shared_frame(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	mblk_t *f = mkframe(MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 50);
	mblk_t *keep = dupmsg(f);
	us_harness_push_up(h, f);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 50);
	g_assert_cmpuint(MBLKL(keep), ==, 64);
	g_assert_cmpmem(keep->b_rptr, 6, MAC_US, 6);
	freemsg(keep);
	us_harness_free(h);
}

/* A header split over blocks is pulled up; the payload follows it. */
static void
test_rx_split_header(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	mblk_t *f = mkframe(MAC_US, MAC_PEER, 7, ETHER_T_IPV4, 40);
	mblk_t *flat = us_msgpullup_all(f);
	freemsg(f);
	/* 5 + 10 + the rest */
	mblk_t *a = us_msg_from(flat->b_rptr, 5, 0);
	mblk_t *b = us_msg_from(flat->b_rptr + 5, 10, 0);
	mblk_t *c = us_msg_from(flat->b_rptr + 15, MBLKL(flat) - 15, 0);
	freemsg(flat);
	linkb(a, b);
	linkb(a, c);
	us_harness_push_up(h, a);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 40);
	g_assert_cmpuint(stat(h, "vlan_last_id"), ==, 7);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* 802.1Q                                                             */
/* ------------------------------------------------------------------ */

static void
test_vlan_rx(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	push_frame(h, MAC_US, MAC_PEER, 42, ETHER_T_IPV4, 46);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 46); /* tag stripped */
	push_frame(h, MAC_US, MAC_PEER, 0, ETHER_T_IPV4, 46);              /* priority tag */
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 46);
	g_assert_cmpuint(stat(h, "vlan_ipackets"), ==, 2);
	g_assert_cmpuint(stat(h, "vlan_last_id"), ==, 0);
	g_assert_cmpuint(stat(h, "ibytes"), ==, 2 * (18 + 46));
	us_harness_free(h);
}

static void
test_vlan_filter(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	set_param(h, "vlan", "7");
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 20);
	push_frame(h, MAC_US, MAC_PEER, 8, ETHER_T_IPV4, 20);
	push_frame(h, MAC_US, MAC_PEER, 7, ETHER_T_IPV4, 20);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 20);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_OTHER_VLAN), ==, 2);
	g_assert_cmpuint(stat(h, "vlan_last_id"), ==, 7);
	g_assert_cmpuint(stat(h, "vlan_ipackets"), ==, 2);
	us_harness_free(h);
}

static void
test_vlan_tx(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	set_param(h, "vlan", "100");
	us_harness_push_down(h, unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 50, 64));
	us_harness_push_down(h, unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 1500, 0));
	mblk_t *f = us_harness_pull_down(h);
	check_frame(f, MAC_PEER, MAC_US, 100, ETHER_T_IPV4, 50);
	freemsg(f);
	f = us_harness_pull_down(h);
	check_frame(f, MAC_PEER, MAC_US, 100, ETHER_T_IPV4, 1500); /* the tag is not SDU */
	freemsg(f);
	g_assert_cmpuint(stat(h, "obytes"), ==, 18 + 50 + 18 + 1500);
	GError *error = NULL;
	g_assert_false(us_param_set(us_harness_rq(h), "vlan", "4095", &error));
	g_assert_error(error, US_ERROR, US_ERROR_INVALID);
	g_clear_error(&error);
	check_param(h, "vlan", "100");
	us_harness_free(h);
}

/* A tagged frame whose tag is cut off is a runt. */
static void
test_vlan_runt(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	mblk_t *f = mkframe(MAC_US, MAC_PEER, 5, ETHER_T_IPV4, 0);
	f->b_wptr = f->b_rptr + 16;
	us_harness_push_up(h, f);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_RUNT), ==, 1);
	g_assert_cmpuint(stat(h, "ierrors"), ==, 1);
	g_assert_cmpuint(stat(h, "ipackets"), ==, 0);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* The fast path                                                      */
/* ------------------------------------------------------------------ */

static void
test_fastpath_hdr_info(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	mblk_t *mp = hdr_info(h, MAC_PEER, ETHER_T_IPV4);
	g_assert_nonnull(mp);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCACK);
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	g_assert_cmpint(ioc->ioc_error, ==, 0);
	mblk_t *req = mp->b_cont, *hdr = req->b_cont;
	g_assert_nonnull(hdr);
	g_assert_null(hdr->b_cont);
	g_assert_cmphex(DB_TYPE(hdr), ==, M_DATA);
	dl_unitdata_req_t r;
	prim_read(req, &r, sizeof r);
	g_assert_cmphex(r.dl_primitive, ==, DL_UNITDATA_REQ);
	g_assert_cmpuint(ioc->ioc_count, ==, MBLKL(req) + MBLKL(hdr));
	g_assert_cmpuint(MBLKL(hdr), ==, ETHER_HLEN);
	g_assert_cmpmem(hdr->b_rptr, 6, MAC_PEER, 6);
	g_assert_cmpmem(hdr->b_rptr + 6, 6, MAC_US, 6);
	g_assert_cmphex(ether_get16(hdr->b_rptr + 12), ==, ETHER_T_IPV4);
	freemsg(mp);
	/* With "vlan" the header carries the tag. */
	set_param(h, "vlan", "9");
	mp = hdr_info(h, MAC_BCAST, ETHER_T_ARP);
	hdr = mp->b_cont->b_cont;
	g_assert_cmpuint(MBLKL(hdr), ==, ETHER_VLAN_HLEN);
	g_assert_cmphex(ether_get16(hdr->b_rptr + 12), ==, ETHER_T_VLAN);
	g_assert_cmphex(ether_get16(hdr->b_rptr + 14), ==, 9);
	g_assert_cmphex(ether_get16(hdr->b_rptr + 16), ==, ETHER_T_ARP);
	freemsg(mp);
	us_harness_free(h);
}

static void
test_fastpath_tx(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	/* Before DL_IOC_HDR_INFO, M_DATA is refused. */
	us_harness_push_down(h, mkframe(MAC_PEER, MAC_US, -1, ETHER_T_IPV4, 20));
	g_assert_cmpuint(us_harness_count_down(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_NOT_FASTPATH), ==, 1);
	mblk_t *hdr = fastpath_on(h, MAC_PEER, ETHER_T_IPV4);
	/* The user prepends the header and sends plain M_DATA. */
	mblk_t *mp = copyb(hdr);
	linkb(mp, payload_msg(200, 0));
	mblk_t *sent = mp;
	us_harness_push_down(h, mp);
	mblk_t *f = us_harness_pull_down(h);
	g_assert_true(f == sent); /* unchanged */
	check_frame(f, MAC_PEER, MAC_US, -1, ETHER_T_IPV4, 200);
	freemsg(f);
	/* Runt and oversize frames are refused. */
	us_harness_push_down_data(h, hdr->b_rptr, 10);
	mp = copyb(hdr);
	linkb(mp, payload_msg(1501, 0));
	us_harness_push_down(h, mp);
	g_assert_cmpuint(us_harness_count_down(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_RUNT), ==, 1);
	g_assert_cmpuint(drops(h, ETHER_DROP_OVERSIZE), ==, 1);
	g_assert_cmpuint(stat(h, "oerrors"), ==, 2);
	g_assert_cmpuint(stat(h, "fastpath_out"), ==, 1);
	g_assert_cmpuint(stat(h, "opackets"), ==, 1);
	g_assert_cmpuint(stat(h, "obytes"), ==, 214);
	/* DL_UNITDATA_REQ still works alongside. */
	us_harness_push_down(h, unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 5, 0));
	f = us_harness_pull_down(h);
	check_frame(f, MAC_PEER, MAC_US, -1, ETHER_T_IPV4, 5);
	freemsg(f);
	freemsg(hdr);
	us_harness_free(h);
}

static void
test_fastpath_rx(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	do_bind(h, ETHER_T_ARP);
	freemsg(fastpath_on(h, MAC_PEER, ETHER_T_IPV4));
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 100);
	mblk_t *mp = pull_up_type(h, M_DATA);
	check_payload(mp, 100); /* b_rptr just past the MAC header */
	g_assert_cmpmem(mp->b_rptr - ETHER_HLEN, 6, MAC_US, 6);
	freemsg(mp);
	push_frame(h, MAC_US, MAC_PEER, 3, ETHER_T_IPV4, 100); /* the tag goes too */
	mp = pull_up_type(h, M_DATA);
	check_payload(mp, 100);
	freemsg(mp);
	push_frame(h, MAC_BCAST, MAC_PEER, -1, ETHER_T_IPV4, 10); /* broadcast is for us */
	mp = pull_up_type(h, M_DATA);
	check_payload(mp, 10);
	freemsg(mp);
	/* The other SAP keeps DL_UNITDATA_IND. */
	push_frame(h, MAC_BCAST, MAC_PEER, -1, ETHER_T_ARP, 28);
	expect_unitdata_ind(h, MAC_BCAST, MAC_PEER, ETHER_T_ARP, TRUE, 28);
	/* Frames accepted only promiscuously keep DL_UNITDATA_IND too. */
	promisc(h, DL_PROMISCON_REQ, DL_PROMISC_PHYS);
	expect_ok_ack(h, DL_PROMISCON_REQ);
	push_frame(h, MAC_OTHER, MAC_PEER, -1, ETHER_T_IPV4, 30);
	expect_unitdata_ind(h, MAC_OTHER, MAC_PEER, ETHER_T_IPV4, FALSE, 30);
	g_assert_cmpuint(stat(h, "fastpath_in"), ==, 3);
	g_assert_cmpuint(stat(h, "unitdata_ind"), ==, 2);
	us_harness_free(h);
}

static void
test_fastpath_errors(void)
{
	UsHarness *h = us_harness_new("ether");
	expect_iocnak(hdr_info(h, MAC_PEER, ETHER_T_IPV4), ENOTSUP); /* not bound */
	do_bind(h, ETHER_T_IPV4);
	expect_iocnak(us_harness_ioctl(h, DL_IOC_HDR_INFO, NULL, 0), EINVAL);
	t_uscalar_t w[4] = { DL_INFO_REQ, 8, 16, 0 };
	expect_iocnak(us_harness_ioctl(h, DL_IOC_HDR_INFO, w, sizeof w), EINVAL);
	expect_iocnak(us_harness_ioctl(h, DL_IOC_HDR_INFO, w, 6), EINVAL);
	struct {
		dl_unitdata_req_t req;
		uint8_t addr[ETHER_DLSAP_LEN];
	} r = { .req = { .dl_primitive = DL_UNITDATA_REQ,
			 .dl_dest_addr_length = 8,
			 .dl_dest_addr_offset = 200 } };
	ether_dlsap_make(r.addr, MAC_PEER, ETHER_T_IPV4);
	expect_iocnak(us_harness_ioctl(h, DL_IOC_HDR_INFO, &r, sizeof r), EINVAL);
	r.req.dl_dest_addr_offset = sizeof r.req;
	r.req.dl_dest_addr_length = 6;
	expect_iocnak(us_harness_ioctl(h, DL_IOC_HDR_INFO, &r, sizeof r), EINVAL);
	r.req.dl_dest_addr_length = 8;
	ether_dlsap_make(r.addr, MAC_PEER, 64);
	expect_iocnak(us_harness_ioctl(h, DL_IOC_HDR_INFO, &r, sizeof r), EINVAL);
	/* TRANSPARENT form */
	mblk_t *mp = mkiocb(DL_IOC_HDR_INFO);
	((struct iocblk *)mp->b_rptr)->ioc_count = TRANSPARENT;
	unsigned int id = ((struct iocblk *)mp->b_rptr)->ioc_id;
	us_harness_push_down(h, mp);
	mp = us_harness_pull_up(h);
	g_assert_cmpuint(((struct iocblk *)mp->b_rptr)->ioc_id, ==, id);
	expect_iocnak(mp, EINVAL);
	/* Nothing entered fast-path mode. */
	us_harness_push_down(h, mkframe(MAC_PEER, MAC_US, -1, ETHER_T_IPV4, 20));
	g_assert_cmpuint(drops(h, ETHER_DROP_NOT_FASTPATH), ==, 1);
	expect_nothing(h);
	us_harness_free(h);
}

/* The header block of DL_IOC_HDR_INFO cannot be allocated: ENOMEM. */
static void
test_fastpath_nomem(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	struct {
		dl_unitdata_req_t req;
		uint8_t addr[ETHER_DLSAP_LEN];
	} r = { .req = { .dl_primitive = DL_UNITDATA_REQ,
			 .dl_dest_addr_length = 8,
			 .dl_dest_addr_offset = sizeof r.req } };
	ether_dlsap_make(r.addr, MAC_PEER, ETHER_T_IPV4);
	mblk_t *mp = mkiocb(DL_IOC_HDR_INFO);
	mp->b_cont = us_msg_from(&r, sizeof r, 0);
	((struct iocblk *)mp->b_rptr)->ioc_count = sizeof r;
	us_msg_fail_allocs(0, 1);
	us_harness_push_down(h, mp);
	us_msg_fail_allocs(0, 0);
	expect_iocnak(us_harness_pull_up(h), ENOMEM);
	us_harness_push_down(h, mkframe(MAC_PEER, MAC_US, -1, ETHER_T_IPV4, 20));
	g_assert_cmpuint(drops(h, ETHER_DROP_NOT_FASTPATH), ==, 1);
	us_harness_free(h);
}

/* DL_UNBIND_REQ leaves fast-path mode. */
static void
test_fastpath_unbind(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	mblk_t *hdr = fastpath_on(h, MAC_PEER, ETHER_T_IPV4);
	send_words(h, M_PROTO, (t_uscalar_t[]){ DL_UNBIND_REQ }, 1);
	freemsg(pull_up_type(h, M_FLUSH));
	expect_ok_ack(h, DL_UNBIND_REQ);
	do_bind(h, ETHER_T_IPV4);
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 20);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 20);
	mblk_t *mp = copyb(hdr);
	linkb(mp, payload_msg(20, 0));
	us_harness_push_down(h, mp);
	g_assert_cmpuint(us_harness_count_down(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_NOT_FASTPATH), ==, 1);
	freemsg(hdr);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Raw mode                                                           */
/* ------------------------------------------------------------------ */

static void
test_raw(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	mblk_t *mp = us_harness_ioctl(h, DLIOCRAW, NULL, 0);
	g_assert_nonnull(mp);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCACK);
	freemsg(mp);
	push_frame(h, MAC_US, MAC_PEER, 12, ETHER_T_IPV4, 30);
	mp = pull_up_type(h, M_DATA);
	g_assert_cmpuint(MBLKL(mp), ==, 18 + 30); /* as received, tag included */
	g_assert_cmpmem(mp->b_rptr, 6, MAC_US, 6);
	g_assert_cmphex(ether_get16(mp->b_rptr + 12), ==, ETHER_T_VLAN);
	freemsg(mp);
	us_harness_push_down(h, mkframe(MAC_PEER, MAC_US, -1, ETHER_T_IPV6, 40));
	mblk_t *f = us_harness_pull_down(h);
	check_frame(f, MAC_PEER, MAC_US, -1, ETHER_T_IPV6, 40);
	freemsg(f);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* DL_PHYS_ADDR_REQ, DL_SET_PHYS_ADDR_REQ, the "mac" parameter        */
/* ------------------------------------------------------------------ */

static void
expect_phys(UsHarness *h, t_uscalar_t type, const uint8_t *want)
{
	send_words(h, M_PROTO, (t_uscalar_t[]){ DL_PHYS_ADDR_REQ, type }, 2);
	mblk_t *mp = pull_up_type(h, M_PCPROTO);
	dl_phys_addr_ack_t ack;
	prim_read(mp, &ack, sizeof ack);
	g_assert_cmphex(ack.dl_primitive, ==, DL_PHYS_ADDR_ACK);
	g_assert_cmpuint(ack.dl_addr_length, ==, 6);
	g_assert_cmpuint(ack.dl_addr_offset + 6, <=, MBLKL(mp));
	g_assert_cmpmem(mp->b_rptr + ack.dl_addr_offset, 6, want, 6);
	freemsg(mp);
}

static void
test_phys_addr(void)
{
	UsHarness *h = us_harness_new("ether");
	expect_phys(h, DL_FACT_PHYS_ADDR, MAC_US);
	expect_phys(h, DL_CURR_PHYS_ADDR, MAC_US);
	send_words(h, M_PROTO, (t_uscalar_t[]){ DL_PHYS_ADDR_REQ, DL_IPV6_TOKEN }, 2);
	expect_error_ack(h, DL_PHYS_ADDR_REQ, DL_UNSUPPORTED);
	send_words(h, M_PROTO, (t_uscalar_t[]){ DL_PHYS_ADDR_REQ }, 1);
	expect_error_ack(h, DL_PHYS_ADDR_REQ, DL_BADPRIM);
	us_harness_free(h);
}

static void
test_set_phys_addr(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	addr_prim_ok(h, DL_SET_PHYS_ADDR_REQ, MAC_OTHER);
	expect_phys(h, DL_CURR_PHYS_ADDR, MAC_OTHER);
	expect_phys(h, DL_FACT_PHYS_ADDR, MAC_US);
	check_param(h, "mac", "02:99:88:77:66:55");
	push_frame(h, MAC_OTHER, MAC_PEER, -1, ETHER_T_IPV4, 20);
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 20);
	expect_unitdata_ind(h, MAC_OTHER, MAC_PEER, ETHER_T_IPV4, FALSE, 20);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	us_harness_push_down(h, unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 8, 0));
	mblk_t *f = us_harness_pull_down(h);
	check_frame(f, MAC_PEER, MAC_OTHER, -1, ETHER_T_IPV4, 8);
	freemsg(f);
	/* Errors. */
	const t_uscalar_t off = 3 * sizeof(t_uscalar_t);
	const uint8_t zero[6] = { 0 };
	send_addr_prim(h, DL_SET_PHYS_ADDR_REQ, MAC_MCAST, 6, off);
	expect_error_ack(h, DL_SET_PHYS_ADDR_REQ, DL_BADADDR);
	send_addr_prim(h, DL_SET_PHYS_ADDR_REQ, zero, 6, off);
	expect_error_ack(h, DL_SET_PHYS_ADDR_REQ, DL_BADADDR);
	send_addr_prim(h, DL_SET_PHYS_ADDR_REQ, MAC_PEER, 5, off);
	expect_error_ack(h, DL_SET_PHYS_ADDR_REQ, DL_BADPRIM);
	send_addr_prim(h, DL_SET_PHYS_ADDR_REQ, MAC_PEER, 6, off + 4);
	expect_error_ack(h, DL_SET_PHYS_ADDR_REQ, DL_BADPRIM);
	send_words(h, M_PROTO, (t_uscalar_t[]){ DL_SET_PHYS_ADDR_REQ, 6 }, 2);
	expect_error_ack(h, DL_SET_PHYS_ADDR_REQ, DL_BADPRIM);
	expect_phys(h, DL_CURR_PHYS_ADDR, MAC_OTHER);
	us_harness_free(h);
}

static void
test_param_mac(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	check_param(h, "mac", ETHER_DEFAULT_MAC);
	set_param(h, "mac", "02-AA-bb-0C-d-EE");
	check_param(h, "mac", "02:aa:bb:0c:0d:ee");
	const uint8_t want[6] = { 0x02, 0xaa, 0xbb, 0x0c, 0x0d, 0xee };
	expect_phys(h, DL_FACT_PHYS_ADDR, want);
	expect_phys(h, DL_CURR_PHYS_ADDR, want);
	const char *bad[] = { "",
			      "zz:00:00:00:00:01",
			      "02:00:00:00:00",
			      "02:00:00:00:00:01:02",
			      "02:00:00:00:00:001",
			      "01:00:5e:00:00:01",
			      "00:00:00:00:00:00",
			      "02:00:00:00:00:01 ",
			      "020:0:0:0:0:1" };
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		GError *error = NULL;
		g_assert_false(us_param_set(us_harness_rq(h), "mac", bad[i], &error));
		g_assert_error(error, US_ERROR, US_ERROR_INVALID);
		g_clear_error(&error);
		check_param(h, "mac", "02:aa:bb:0c:0d:ee");
	}
	expect_phys(h, DL_CURR_PHYS_ADDR, want);
	push_frame(h, want, MAC_PEER, -1, ETHER_T_IPV4, 20);
	expect_unitdata_ind(h, want, MAC_PEER, ETHER_T_IPV4, FALSE, 20);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Parameters: up, mtu, mru                                           */
/* ------------------------------------------------------------------ */

static void
test_param_up(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	g_assert_cmphex(stat(h, "flags"), ==,
			ETHER_IFF_UP | ETHER_IFF_BROADCAST | ETHER_IFF_MULTICAST);
	mblk_t *hdr = fastpath_on(h, MAC_PEER, ETHER_T_IPV4);
	set_param(h, "up", "false");
	check_param(h, "up", "false");
	g_assert_cmphex(stat(h, "flags") & ETHER_IFF_UP, ==, 0);
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 20);
	us_harness_push_down(h, unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 8, 0));
	mblk_t *mp = copyb(hdr);
	linkb(mp, payload_msg(20, 0));
	us_harness_push_down(h, mp);
	expect_nothing(h);
	g_assert_cmpuint(drops(h, ETHER_DROP_DOWN), ==, 3);
	g_assert_cmpuint(stat(h, "ipackets"), ==, 0);
	set_param(h, "up", "true");
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 20);
	g_assert_cmpuint(us_harness_count_up(h), ==, 1);
	freemsg(hdr);
	us_harness_free(h);
}

static void
test_param_mtu(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 1501);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_OVERSIZE), ==, 1);
	g_assert_cmpuint(stat(h, "ierrors"), ==, 1);
	push_frame(h, MAC_US, MAC_PEER, 1, ETHER_T_IPV4, 1500); /* the tag is not SDU */
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 1500);
	set_param(h, "mru", "4000");
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 4000);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 4000);
	us_harness_push_down(h, unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 1501, 0));
	expect_uderror(h, MAC_PEER, ETHER_T_IPV4, DL_BADDATA); /* mtu still 1500 */
	set_param(h, "mtu", "9000");
	set_param(h, "mru", "0");
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 9000);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 9000);
	us_harness_push_down(h, unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 9000, 0));
	mblk_t *f = us_harness_pull_down(h);
	check_frame(f, MAC_PEER, MAC_US, -1, ETHER_T_IPV4, 9000);
	freemsg(f);
	GError *error = NULL;
	g_assert_false(us_param_set(us_harness_rq(h), "mtu", "67", &error));
	g_clear_error(&error);
	g_assert_false(us_param_set(us_harness_rq(h), "mtu", "65536", &error));
	g_clear_error(&error);
	check_param(h, "mtu", "9000");
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* DL_NOTIFY_REQ                                                      */
/* ------------------------------------------------------------------ */

static void
expect_notify(UsHarness *h, uint32_t note, uint32_t data, const uint8_t *addr)
{
	mblk_t *mp = pull_up_type(h, M_PROTO);
	dl_notify_ind_t ind;
	prim_read(mp, &ind, sizeof ind);
	g_assert_cmphex(ind.dl_primitive, ==, DL_NOTIFY_IND);
	g_assert_cmphex(ind.dl_notification, ==, note);
	g_assert_cmpuint(ind.dl_data, ==, data);
	if (addr != NULL) {
		g_assert_cmpuint(ind.dl_addr_length, ==, 6);
		g_assert_cmpuint(ind.dl_addr_offset + 6, <=, MBLKL(mp));
		g_assert_cmpmem(mp->b_rptr + ind.dl_addr_offset, 6, addr, 6);
	} else {
		g_assert_cmpuint(ind.dl_addr_length, ==, 0);
	}
	freemsg(mp);
}

static void
test_notify(void)
{
	UsHarness *h = us_harness_new("ether");
	dl_notify_req_t req = { .dl_primitive = DL_NOTIFY_REQ, .dl_notifications = 0xffffffffu };
	us_harness_push_down(h, proto_msg(M_PROTO, &req, sizeof req, NULL, 0));
	mblk_t *mp = pull_up_type(h, M_PROTO);
	dl_notify_ack_t ack;
	prim_read(mp, &ack, sizeof ack);
	g_assert_cmphex(ack.dl_primitive, ==, DL_NOTIFY_ACK);
	g_assert_cmphex(ack.dl_notifications, ==, ETHER_NOTES);
	freemsg(mp);
	expect_notify(h, DL_NOTE_LINK_UP, 0, NULL);
	expect_notify(h, DL_NOTE_SDU_SIZE, 1500, NULL);
	expect_notify(h, DL_NOTE_PHYS_ADDR, DL_CURR_PHYS_ADDR, MAC_US);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	/* Changes. */
	set_param(h, "mtu", "1400");
	expect_notify(h, DL_NOTE_SDU_SIZE, 1400, NULL);
	set_param(h, "mtu", "1400"); /* unchanged: nothing */
	set_param(h, "up", "false");
	expect_notify(h, DL_NOTE_LINK_DOWN, 0, NULL);
	set_param(h, "promisc", "true"); /* link unchanged: nothing */
	set_param(h, "up", "true");
	expect_notify(h, DL_NOTE_LINK_UP, 0, NULL);
	addr_prim_ok(h, DL_SET_PHYS_ADDR_REQ, MAC_OTHER);
	expect_notify(h, DL_NOTE_PHYS_ADDR, DL_CURR_PHYS_ADDR, MAC_OTHER);
	expect_notify(h, DL_NOTE_FASTPATH_FLUSH, 0, NULL);
	set_param(h, "vlan", "3");
	expect_notify(h, DL_NOTE_FASTPATH_FLUSH, 0, NULL);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	/* Only what was asked for. */
	req.dl_notifications = DL_NOTE_LINK_DOWN;
	us_harness_push_down(h, proto_msg(M_PROTO, &req, sizeof req, NULL, 0));
	freemsg(pull_up_type(h, M_PROTO));
	set_param(h, "mtu", "1300");
	set_param(h, "up", "false");
	expect_notify(h, DL_NOTE_LINK_DOWN, 0, NULL);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	send_words(h, M_PROTO, (t_uscalar_t[]){ DL_NOTIFY_REQ, 1 }, 2);
	expect_error_ack(h, DL_NOTIFY_REQ, DL_BADPRIM);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Malformed input, pass-through, flush                               */
/* ------------------------------------------------------------------ */

static void
test_malformed_primitives(void)
{
	UsHarness *h = us_harness_new("ether");
	/* Too short to hold dl_primitive: dropped and counted. */
	us_harness_push_down(h, proto_msg(M_PROTO, "\x01\x00", 2, NULL, 0));
	us_harness_push_down(h, proto_msg(M_PCPROTO, "", 0, NULL, 0));
	expect_nothing(h);
	g_assert_cmpuint(drops(h, ETHER_DROP_BADPRIM), ==, 2);
	/* Unknown primitives and provider-to-user ones. */
	const t_uscalar_t unknown[] = { 0x7777, DL_INFO_ACK, DL_BIND_ACK, DL_UNITDATA_IND,
					DL_PRIM_INVAL };
	for (guint i = 0; i < G_N_ELEMENTS(unknown); i++) {
		send_words(h, M_PROTO, &unknown[i], 1);
		expect_error_ack(h, unknown[i], DL_BADPRIM);
	}
	/* Known but not offered. */
	const t_uscalar_t unsupported[] = { DL_CONNECT_REQ, DL_TEST_REQ,    DL_XID_REQ,
					    DL_UDQOS_REQ,   DL_CONTROL_REQ, DL_GET_STATISTICS_REQ,
					    DL_PASSIVE_REQ };
	for (guint i = 0; i < G_N_ELEMENTS(unsupported); i++) {
		send_words(h, M_PROTO, &unsupported[i], 1);
		expect_error_ack(h, unsupported[i], DL_NOTSUPPORTED);
	}
	/* A primitive at an odd address is read correctly. */
	mblk_t *mp = allocb(64, BPRI_MED);
	DB_TYPE(mp) = M_PROTO;
	mp->b_rptr += 1;
	dl_bind_req_t req = { .dl_primitive = DL_BIND_REQ,
			      .dl_sap = ETHER_T_ARP,
			      .dl_service_mode = DL_CLDLS };
	memcpy(mp->b_rptr, &req, sizeof req);
	mp->b_wptr = mp->b_rptr + sizeof req;
	us_harness_push_down(h, mp);
	mp = pull_up_type(h, M_PCPROTO);
	dl_bind_ack_t ack;
	prim_read(mp, &ack, sizeof ack);
	g_assert_cmphex(ack.dl_primitive, ==, DL_BIND_ACK);
	freemsg(mp);
	us_harness_free(h);
}

static void
test_malformed_frames(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	const uint8_t bytes[13] = { 2, 0, 0, 0, 0, 1 };
	us_harness_push_up_data(h, bytes, 13);
	us_harness_push_up_data(h, bytes, 0);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_RUNT), ==, 2);
	g_assert_cmpuint(stat(h, "ierrors"), ==, 2);
	/* Exactly a header, no payload. */
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 0);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 0);
	/* A short ioctl block is dropped. */
	mblk_t *mp = allocb(4, BPRI_MED);
	DB_TYPE(mp) = M_IOCTL;
	mp->b_wptr += 4;
	us_harness_push_down(h, mp);
	expect_nothing(h);
	g_assert_cmpuint(drops(h, ETHER_DROP_BADIOCTL), ==, 1);
	us_harness_free(h);
}

/* M_FLUSH is handled canonically; other messages pass; unknown ioctls go
 * to the driver; ether's own ioctls refuse TRANSPARENT. */
static void
test_passthrough(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	mblk_t *mp = allocb(1, BPRI_HI);
	DB_TYPE(mp) = M_FLUSH;
	*mp->b_wptr++ = FLUSHW;
	us_harness_push_down(h, mp);
	mp = us_harness_pull_down(h);
	g_assert_cmphex(DB_TYPE(mp), ==, M_FLUSH);
	freemsg(mp);
	mp = allocb(1, BPRI_HI);
	DB_TYPE(mp) = M_FLUSH;
	*mp->b_wptr++ = FLUSHR;
	us_harness_push_up(h, mp);
	freemsg(pull_up_type(h, M_FLUSH));
	us_harness_push_up(h, proto_msg(M_PROTO, "\x08\0\0\0", 4, NULL, 0));
	freemsg(pull_up_type(h, M_PROTO)); /* M_PROTO from below passes up */
	mp = allocb(1, BPRI_HI);
	DB_TYPE(mp) = M_ERROR;
	*mp->b_wptr++ = EIO;
	us_harness_push_up(h, mp);
	freemsg(pull_up_type(h, M_ERROR));
	int arg = 3;
	g_assert_null(us_harness_ioctl(h, 0x5401, &arg, sizeof arg));
	mp = us_harness_pull_down(h);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCTL);
	freemsg(mp);
	mp = mkiocb(ETHER_IOC_GETSAPS);
	((struct iocblk *)mp->b_rptr)->ioc_count = TRANSPARENT;
	us_harness_push_down(h, mp);
	expect_iocnak(us_harness_pull_up(h), EINVAL);
	expect_nothing(h);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Allocation failures                                                */
/* ------------------------------------------------------------------ */

static void
test_nomem(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	/* DL_UNITDATA_IND cannot be allocated. */
	mblk_t *f = mkframe(MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 20);
	us_msg_fail_allocs(0, 1);
	us_harness_push_up(h, f);
	us_msg_fail_allocs(0, 0);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_NOMEM), ==, 1);
	/* The header block of a DL_UNITDATA_REQ cannot be allocated. */
	mblk_t *req = unitdata_req_msg(MAC_PEER, ETHER_T_IPV4, 20, 0);
	us_msg_fail_allocs(0, 1);
	us_harness_push_down(h, req);
	us_msg_fail_allocs(0, 0);
	expect_nothing(h);
	g_assert_cmpuint(drops(h, ETHER_DROP_NOMEM), ==, 2);
	g_assert_cmpuint(stat(h, "oerrors"), ==, 1);
	/* A split header cannot be pulled up. */
	f = mkframe(MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 20);
	mblk_t *tail = dupb(f);
	f->b_wptr = f->b_rptr + 6;
	tail->b_rptr += 6;
	f->b_cont = tail;
	us_msg_fail_allocs(0, 1);
	us_harness_push_up(h, f);
	us_msg_fail_allocs(0, 0);
	g_assert_cmpuint(drops(h, ETHER_DROP_NOMEM), ==, 3);
	g_assert_cmpuint(stat(h, "ierrors"), ==, 0);
	/* Everything works again. */
	push_frame(h, MAC_US, MAC_PEER, -1, ETHER_T_IPV4, 20);
	expect_unitdata_ind(h, MAC_US, MAC_PEER, ETHER_T_IPV4, FALSE, 20);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Descriptor, parameters and statistics tables                       */
/* ------------------------------------------------------------------ */

static void
test_descriptor(void)
{
	/* The built-in descriptor, or this test's copy when ether is not built
	 * into the library: either way the same tables. */
	const UsModuleDesc *d = us_registry_find("ether");
	g_assert_nonnull(d);
	g_assert_cmpstr(d->name, ==, us_ether_desc.name);
	g_assert_cmpint(d->kind, ==, US_KIND_MODULE);
	g_assert_cmpuint(d->abi_version, ==, US_ABI_VERSION);
	guint n = 0;
	while (d->drop_reasons[n] != NULL)
		n++;
	g_assert_cmpuint(n, ==, ETHER_DROP_N);
	const char *stats[] = { "ipackets",     "ibytes",        "ierrors",      "imcasts",
				"opackets",     "obytes",        "oerrors",      "omcasts",
				"noproto",      "vlan_ipackets", "vlan_last_id", "flags",
				"unitdata_ind", "unitdata_req",  "fastpath_in",  "fastpath_out",
				"dl_errors" };
	UsHarness *h = us_harness_new("ether");
	for (guint i = 0; i < G_N_ELEMENTS(stats); i++) {
		guint64 v;
		g_assert_true(us_stat_get(us_harness_rq(h), stats[i], &v));
	}
	check_param(h, "mtu", "1500");
	check_param(h, "mru", "0");
	check_param(h, "vlan", "0");
	check_param(h, "up", "true");
	check_param(h, "broadcast", "true");
	check_param(h, "multicast", "true");
	check_param(h, "promisc", "false");
	/* A driver-style open is refused. */
	GError *error = NULL;
	UsStack *s = us_harness_stack(h);
	g_assert_null(us_stream_open(s, "ether", 0, &us_plain_head, NULL, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Replay of real ARP captures                                        */
/* ------------------------------------------------------------------ */

#ifdef TEST_HAVE_PCAP
static char *
find_pcap_dir(void)
{
	/* $US_PCAP_DIR; ../shared/pcaps beside the source tree, seen from the
	 * test source directory (meson sets G_TEST_SRCDIR) or from this file's
	 * compile-time path; the build's US_PCAP_DIR if it defines one. */
	const char *env = g_getenv("US_PCAP_DIR");
	char *srcdir = g_path_get_dirname(__FILE__);
	char *cands[4] = {
		env != NULL ? g_strdup(env) : NULL,
		g_test_build_filename(G_TEST_DIST, "..", "..", "shared", "pcaps", NULL),
		g_build_filename(srcdir, "..", "..", "..", "shared", "pcaps", NULL),
#ifdef US_PCAP_DIR
		g_strdup(US_PCAP_DIR),
#else
		NULL,
#endif
	};
	g_free(srcdir);
	char *found = NULL;
	for (guint i = 0; i < G_N_ELEMENTS(cands); i++) {
		if (found == NULL && cands[i] != NULL) {
			char *arp = g_build_filename(cands[i], "arp", NULL);
			if (g_file_test(arp, G_FILE_TEST_IS_DIR))
				found = g_strdup(cands[i]);
			g_free(arp);
		}
		g_free(cands[i]);
	}
	return found;
}

/* Reads every frame of a capture (each a GBytes). */
static GPtrArray *
read_capture(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (p == NULL)
		g_error("%s: %s", path, errbuf);
	g_assert_cmpint(pcap_datalink(p), ==, DLT_EN10MB);
	GPtrArray *frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc;
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		g_assert_cmpuint(hdr->caplen, ==, hdr->len);
		g_ptr_array_add(frames, g_bytes_new(data, hdr->caplen));
	}
	g_assert_cmpint(rc, ==, PCAP_ERROR_BREAK);
	pcap_close(p);
	return frames;
}

/* Feeds frames up through ether bound to ARP; with mac NULL in DL_PROMISC_PHYS
 * mode, else as a host with that address.  Each DL_UNITDATA_IND must carry
 * the addresses of the frame it came from; returns how many came up. */
static guint
replay(GPtrArray *frames, const uint8_t *mac)
{
	UsHarness *h = bound_new(ETHER_T_ARP);
	if (mac == NULL) {
		promisc(h, DL_PROMISCON_REQ, DL_PROMISC_PHYS);
		expect_ok_ack(h, DL_PROMISCON_REQ);
	} else {
		char text[ETHER_ADDRSTRLEN];
		ether_addr_format(mac, text);
		set_param(h, "mac", text);
	}
	guint want = 0, arp = 0;
	for (guint i = 0; i < frames->len; i++) {
		gsize len;
		const uint8_t *f = g_bytes_get_data(frames->pdata[i], &len);
		g_assert_cmpuint(len, >=, ETHER_HLEN);
		gboolean tagged = ether_hdr_is_tagged(f);
		size_t hl = tagged ? ETHER_VLAN_HLEN : ETHER_HLEN;
		uint16_t type = tagged ? ether_hdr_inner_type(f) : ether_hdr_type(f);
		gboolean for_us =
			mac == NULL || ether_addr_is_broadcast(f) || ether_addr_eq(f, mac);
		us_harness_push_up_data(h, f, len);
		if (type != ETHER_T_ARP)
			continue;
		arp++;
		if (!for_us) {
			g_assert_cmpuint(us_harness_count_up(h), ==, 0);
			continue;
		}
		mblk_t *mp = pull_up_type(h, M_PROTO);
		mblk_t *payload = mp->b_cont;
		g_assert_cmpmem(payload->b_rptr, MBLKL(payload), f + hl, len - hl);
		mp->b_cont = NULL;
		freemsg(payload);
		mp->b_cont = payload_msg(0, 0);
		check_unitdata_ind(mp, f, f + 6, ETHER_T_ARP, ether_addr_is_group(f), 0);
		want++;
	}
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(stat(h, "ipackets"), ==, frames->len);
	g_assert_cmpuint(stat(h, "unitdata_ind"), ==, want);
	g_assert_cmpuint(arp, >, 0);
	us_harness_free(h);
	return want;
}

static void
test_replay_arp(void)
{
	char *root = find_pcap_dir();
	if (root == NULL) {
		g_test_skip("no pcaps directory (set US_PCAP_DIR)");
		return;
	}
	char *dir = g_build_filename(root, "arp", NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	guint files = 0;
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_suffix(name, ".pcap") && !g_str_has_suffix(name, ".pcapng"))
			continue;
		char *path = g_build_filename(dir, name, NULL);
		GPtrArray *frames = read_capture(path);
		g_assert_cmpuint(frames->len, >, 0);
		guint all = replay(frames, NULL);
		/* As the host that sent the first frame: its replies and broadcasts. */
		const uint8_t *first = g_bytes_get_data(frames->pdata[0], NULL);
		guint host = replay(frames, first + 6);
		g_assert_cmpuint(host, <=, all);
		g_test_message("%s: %u frames, %u ARP up promiscuously, %u as %02x:..:%02x", name,
			       frames->len, all, host, first[6], first[11]);
		g_ptr_array_unref(frames);
		g_free(path);
		files++;
	}
	g_dir_close(d);
	g_assert_cmpuint(files, >=, 5);
	g_free(dir);
	g_free(root);
}
#else
static void
test_replay_arp(void)
{
	g_test_skip("built without libpcap");
}
#endif

/* ------------------------------------------------------------------ */
/* Capabilities and offloaded frames                                  */
/* ------------------------------------------------------------------ */

/* Sends DL_CAPABILITY_REQ and answers the DLIOCLINKCAPAB ether asks the
 * driver with lc (NULL: a NAK, as from a driver without offloads); returns
 * the DL_CAPABILITY_ACK. */
static mblk_t *
capability_exchange(UsHarness *h, const struct dl_link_capab *lc)
{
	dl_capability_req_t req = { .dl_primitive = DL_CAPABILITY_REQ };
	us_harness_push_down(h, proto_msg(M_PROTO, &req, sizeof req, NULL, 0));
	mblk_t *ioc = us_harness_pull_down(h);
	g_assert_nonnull(ioc);
	g_assert_cmphex(DB_TYPE(ioc), ==, M_IOCTL);
	g_assert_cmphex(((struct iocblk *)ioc->b_rptr)->ioc_cmd, ==, DLIOCLINKCAPAB);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0); /* the answer waits for the driver */
	if (lc != NULL) {
		DB_TYPE(ioc) = M_IOCACK;
		ioc->b_cont = us_msg_from(lc, sizeof *lc, 0);
		((struct iocblk *)ioc->b_rptr)->ioc_count = sizeof *lc;
	} else {
		DB_TYPE(ioc) = M_IOCNAK;
		((struct iocblk *)ioc->b_rptr)->ioc_error = EINVAL;
	}
	us_harness_push_up(h, ioc);
	mblk_t *ack = us_harness_pull_up(h);
	g_assert_nonnull(ack);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0); /* the ioctl answer was consumed */
	dl_capability_ack_t ca;
	g_assert_cmpuint(MBLKL(ack), >=, sizeof ca);
	memcpy(&ca, ack->b_rptr, sizeof ca);
	g_assert_cmphex(ca.dl_primitive, ==, DL_CAPABILITY_ACK);
	g_assert_cmpuint(ca.dl_sub_offset + ca.dl_sub_length, ==, MBLKL(ack));
	return ack;
}

static void
test_capability_none(void)
{
	UsHarness *h = us_harness_new("ether");
	mblk_t *ack = capability_exchange(h, NULL);
	dl_capability_ack_t ca;
	memcpy(&ca, ack->b_rptr, sizeof ca);
	g_assert_cmpuint(ca.dl_sub_length, ==, 0);
	freemsg(ack);
	/* A short request is refused without asking the driver. */
	t_uscalar_t w = DL_CAPABILITY_REQ;
	send_words(h, M_PROTO, &w, 1);
	expect_error_ack(h, DL_CAPABILITY_REQ, DL_BADPRIM);
	g_assert_cmpuint(us_harness_count_down(h), ==, 0);
	us_harness_free(h);
}

static void
test_capability_offload(void)
{
	UsHarness *h = us_harness_new("ether");
	struct dl_link_capab lc = { .dlc_hcksum_txflags = HCKSUM_INET_PARTIAL,
				    .dlc_lso_flags = LSO_TX_BASIC_TCP_IPV4,
				    .dlc_lso_max = 65535 };
	mblk_t *ack = capability_exchange(h, &lc);
	dl_capability_ack_t ca;
	memcpy(&ca, ack->b_rptr, sizeof ca);
	const uint8_t *p = ack->b_rptr + ca.dl_sub_offset;
	dl_capability_sub_t sub;
	dl_capab_hcksum_t hc;
	dl_capab_lso_t lso;
	g_assert_cmpuint(ca.dl_sub_length, ==, 2 * sizeof sub + sizeof hc + sizeof lso);
	memcpy(&sub, p, sizeof sub);
	g_assert_cmpuint(sub.dl_cap, ==, DL_CAPAB_HCKSUM);
	g_assert_cmpuint(sub.dl_length, ==, sizeof hc);
	memcpy(&hc, p + sizeof sub, sizeof hc);
	g_assert_cmphex(hc.hcksum_txflags, ==, HCKSUM_INET_PARTIAL);
	p += sizeof sub + sizeof hc;
	memcpy(&sub, p, sizeof sub);
	g_assert_cmpuint(sub.dl_cap, ==, DL_CAPAB_LSO);
	memcpy(&lso, p + sizeof sub, sizeof lso);
	g_assert_cmphex(lso.lso_flags, ==, LSO_TX_BASIC_TCP_IPV4);
	g_assert_cmpuint(lso.lso_max, ==, 65535);
	freemsg(ack);
	us_harness_free(h);
}

/* HW_LSO frames may exceed the MTU both ways (the driver cuts them, or the
 * peer coalesced them); unmarked ones may not. */
static void
test_lso_frames(void)
{
	UsHarness *h = bound_new(ETHER_T_IPV4);
	mblk_t *hdr = fastpath_on(h, MAC_PEER, ETHER_T_IPV4);
	for (int lso = 0; lso <= 1; lso++) {
		mblk_t *mp = allocb(MBLKL(hdr) + 9000, BPRI_MED);
		memcpy(mp->b_wptr, hdr->b_rptr, MBLKL(hdr));
		mp->b_wptr += MBLKL(hdr);
		memset(mp->b_wptr, 0x45, 9000);
		mp->b_wptr += 9000;
		if (lso) {
			DB_CKSUMFLAGS(mp) = HW_LSO | HCK_PARTIALCKSUM;
			DB_LSOMSS(mp) = 1448;
		}
		us_harness_push_down(h, mp);
		mblk_t *out = us_harness_pull_down(h);
		g_assert_true((out != NULL) == (lso == 1));
		if (out != NULL) {
			g_assert_cmpuint(DB_CKSUMFLAGS(out), ==, HW_LSO | HCK_PARTIALCKSUM);
			g_assert_cmpuint(DB_LSOMSS(out), ==, 1448);
		}
		freemsg(out);
		mblk_t *in = mkframe(MAC_US, MAC_PEER, 0, ETHER_T_IPV4, 9000);
		if (lso)
			DB_CKSUMFLAGS(in) = HW_LSO | HCK_PARTIALCKSUM;
		us_harness_push_up(h, in);
		mblk_t *up = us_harness_pull_up(h);
		g_assert_true((up != NULL) == (lso == 1));
		if (up != NULL)
			g_assert_cmpuint(msgdsize(up), ==, 9000);
		freemsg(up);
	}
	g_assert_cmpuint(drops(h, ETHER_DROP_OVERSIZE), ==, 2);
	freemsg(hdr);
	us_harness_free(h);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	GError *error = NULL;
	if (us_registry_find("ether") == NULL)
		g_assert_true(us_registry_add(&us_ether_desc, &error));
	g_assert_no_error(error);
	g_test_add_func("/ether/info/unbound", test_info_unbound);
	g_test_add_func("/ether/info/bound", test_info_bound);
	g_test_add_func("/ether/info/as-proto", test_info_as_proto);
	g_test_add_func("/ether/attach/style1", test_attach_style1);
	g_test_add_func("/ether/bind/ok", test_bind_ok);
	g_test_add_func("/ether/bind/badsap", test_bind_badsap);
	g_test_add_func("/ether/bind/bad-mode", test_bind_bad_mode);
	g_test_add_func("/ether/bind/second-adds-sap", test_bind_second_adds);
	g_test_add_func("/ether/bind/toomany", test_bind_toomany);
	g_test_add_func("/ether/bind/unbind", test_unbind);
	g_test_add_func("/ether/subs-bind/peer", test_subs_bind);
	g_test_add_func("/ether/subs-bind/unbound", test_subs_unbind_unbound);
	g_test_add_func("/ether/unitdata-req/ok", test_unitdata_req);
	g_test_add_func("/ether/unitdata-req/shared-payload", test_unitdata_req_shared_payload);
	g_test_add_func("/ether/unitdata-req/chain", test_unitdata_req_chain);
	g_test_add_func("/ether/unitdata-req/errors", test_unitdata_req_errors);
	g_test_add_func("/ether/rx/unicast", test_rx_unicast);
	g_test_add_func("/ether/rx/broadcast", test_rx_broadcast);
	g_test_add_func("/ether/rx/multicast", test_rx_multicast);
	g_test_add_func("/ether/rx/shared-frame", test_rx_shared_frame);
	g_test_add_func("/ether/rx/split-header", test_rx_split_header);
	g_test_add_func("/ether/multicast/errors", test_multicast_errors);
	g_test_add_func("/ether/promisc/phys", test_promisc_phys);
	g_test_add_func("/ether/promisc/sap", test_promisc_sap);
	g_test_add_func("/ether/promisc/multi", test_promisc_multi);
	g_test_add_func("/ether/promisc/errors", test_promisc_errors);
	g_test_add_func("/ether/promisc/param", test_promisc_param);
	g_test_add_func("/ether/vlan/rx", test_vlan_rx);
	g_test_add_func("/ether/vlan/filter", test_vlan_filter);
	g_test_add_func("/ether/vlan/tx", test_vlan_tx);
	g_test_add_func("/ether/vlan/runt", test_vlan_runt);
	g_test_add_func("/ether/fastpath/hdr-info", test_fastpath_hdr_info);
	g_test_add_func("/ether/fastpath/tx", test_fastpath_tx);
	g_test_add_func("/ether/fastpath/rx", test_fastpath_rx);
	g_test_add_func("/ether/fastpath/errors", test_fastpath_errors);
	g_test_add_func("/ether/fastpath/nomem", test_fastpath_nomem);
	g_test_add_func("/ether/fastpath/unbind", test_fastpath_unbind);
	g_test_add_func("/ether/raw", test_raw);
	g_test_add_func("/ether/phys-addr", test_phys_addr);
	g_test_add_func("/ether/set-phys-addr", test_set_phys_addr);
	g_test_add_func("/ether/param/mac", test_param_mac);
	g_test_add_func("/ether/param/up", test_param_up);
	g_test_add_func("/ether/param/mtu", test_param_mtu);
	g_test_add_func("/ether/notify", test_notify);
	g_test_add_func("/ether/malformed/primitives", test_malformed_primitives);
	g_test_add_func("/ether/malformed/frames", test_malformed_frames);
	g_test_add_func("/ether/passthrough", test_passthrough);
	g_test_add_func("/ether/capability/none", test_capability_none);
	g_test_add_func("/ether/capability/offload", test_capability_offload);
	g_test_add_func("/ether/lso-frames", test_lso_frames);
	g_test_add_func("/ether/nomem", test_nomem);
	g_test_add_func("/ether/descriptor", test_descriptor);
	g_test_add_func("/ether/replay/arp", test_replay_arp);
	return g_test_run();
}
