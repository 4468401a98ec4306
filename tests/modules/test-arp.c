/* SPDX-License-Identifier: MIT */
/*
 * test-arp.c -- the arp module.
 *
 *  1. Harness tests: arp between a fake user and a fake ether (the test
 *     answers arp's DLPI requests as ether would and reads what arp sends
 *     down): binding and acknowledgement sorting, every cache state change in
 *     virtual time, retries then ARP_UNREACH_IND, queue bounds, replies for
 *     our addresses, announcements, static entries, listing, the fast path,
 *     malformed packets dropped and counted.
 *  2. Integration: two stacks wire / ether / arp in one virtual-time world
 *     resolve each other, also over a lossy wire (fixed seed).
 *  3. Replay: pcap / ether / arp answering the requests of real captures
 *     (../shared/pcaps/arp), the output read back with libpcap.
 *
 * The harness fails a test that leaks message blocks; the world tests
 * compare us_msg_live_count() before and after us_world_free().
 */
#include "../common/ustest.h"
#include "arp-wire.h"
#include "arp.h"
#include "ether.h"

#include <ustreams/debug.h>
#include <ustreams/dlpi.h>
#include <ustreams/harness.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <string.h>
#include <unistd.h>

extern const UsModuleDesc us_arp_desc;

#define MS US_NSEC_PER_MSEC

static const uint8_t MAC_US[ETHER_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t MAC_PEER[ETHER_ALEN] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t MAC_PEER2[ETHER_ALEN] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x66 };
static const uint8_t MAC_BCAST[ETHER_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MAC_ZERO[ETHER_ALEN] = { 0 };

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t x[4] = { a, b, c, d };
	uint32_t v;
	memcpy(&v, x, 4);
	return v;
}

#define IP_US ip4(10, 0, 0, 1)
#define IP_PEER ip4(10, 0, 0, 2)
#define IP_PEER2 ip4(10, 0, 0, 3)
#define IP_OTHER ip4(10, 0, 0, 9)

/* ------------------------------------------------------------------ */
/* Message helpers                                                    */
/* ------------------------------------------------------------------ */

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

/* A payload of len bytes, all equal to tag. */
static mblk_t *
payload(uint8_t tag, size_t len)
{
	mblk_t *mp = allocb(len, BPRI_MED);
	g_assert_nonnull(mp);
	memset(mp->b_wptr, tag, len);
	mp->b_wptr += len;
	return mp;
}

/* A DL_UNITDATA_REQ to IPv4 next hop nh, SAP 0x0800, payload tag x 20. */
static mblk_t *
nh_unitdata(uint32_t nh, uint8_t tag)
{
	uint8_t dest[ARP_NH_LEN];
	arp_nh_make(dest, nh, ETHER_T_IPV4);
	dl_unitdata_req_t req = { .dl_primitive = DL_UNITDATA_REQ,
				  .dl_dest_addr_length = ARP_NH_LEN,
				  .dl_dest_addr_offset = sizeof req };
	mblk_t *mp = proto_msg(M_PROTO, &req, sizeof req, dest, sizeof dest);
	mp->b_cont = payload(tag, 20);
	return mp;
}

/* An ARP packet (28 bytes, plus pad zero bytes). */
static mblk_t *
arp_pkt_msg(uint16_t op, const uint8_t *sha, uint32_t spa, const uint8_t *tha, uint32_t tpa,
	    size_t pad)
{
	ArpPkt p = { .op = op, .spa = spa, .tpa = tpa };
	memcpy(p.sha, sha, ETHER_ALEN);
	memcpy(p.tha, tha, ETHER_ALEN);
	mblk_t *mp = allocb(ARP_PKT_LEN + pad, BPRI_MED);
	arp_pkt_write(mp->b_wptr, &p);
	memset(mp->b_wptr + ARP_PKT_LEN, 0, pad);
	mp->b_wptr += ARP_PKT_LEN + pad;
	return mp;
}

/* A DL_UNITDATA_IND from src to dst carrying data (consumed) with sap. */
static mblk_t *
unitdata_ind(const uint8_t *dst, const uint8_t *src, uint16_t sap, mblk_t *data)
{
	uint8_t a[2 * ETHER_DLSAP_LEN];
	ether_dlsap_make(a, dst, sap);
	ether_dlsap_make(a + ETHER_DLSAP_LEN, src, sap);
	dl_unitdata_ind_t u = { .dl_primitive = DL_UNITDATA_IND,
				.dl_dest_addr_length = ETHER_DLSAP_LEN,
				.dl_dest_addr_offset = sizeof u,
				.dl_src_addr_length = ETHER_DLSAP_LEN,
				.dl_src_addr_offset = sizeof u + ETHER_DLSAP_LEN,
				.dl_group_address = ether_addr_is_group(dst) };
	mblk_t *mp = proto_msg(M_PROTO, &u, sizeof u, a, sizeof a);
	mp->b_cont = data;
	return mp;
}

static void
prim_read(const mblk_t *mp, void *out, size_t size)
{
	g_assert_cmpuint(MBLKL(mp), >=, size);
	memcpy(out, mp->b_rptr, size);
}

static t_uscalar_t
prim_of(const mblk_t *mp)
{
	t_uscalar_t p;
	prim_read(mp, &p, sizeof p);
	return p;
}

/* ------------------------------------------------------------------ */
/* The harness: the test plays ether                                  */
/* ------------------------------------------------------------------ */

static UsHarness *
fake_new_raw(void)
{
	UsHarness *h = us_harness_new("arp");
	us_harness_run(h); /* lets what arp sent at open reach the fake ether */
	return h;
}

static mblk_t *
pull_down_prim(UsHarness *h, t_uscalar_t prim)
{
	mblk_t *mp = us_harness_pull_down(h);
	g_assert_nonnull(mp);
	g_assert_true(DB_TYPE(mp) == M_PROTO || DB_TYPE(mp) == M_PCPROTO);
	g_assert_cmphex(prim_of(mp), ==, prim);
	return mp;
}

static void
ack_phys_addr(UsHarness *h, const uint8_t *mac)
{
	dl_phys_addr_ack_t a = { .dl_primitive = DL_PHYS_ADDR_ACK,
				 .dl_addr_length = ETHER_ALEN,
				 .dl_addr_offset = sizeof a };
	us_harness_push_up(h, proto_msg(M_PCPROTO, &a, sizeof a, mac, ETHER_ALEN));
}

static void
ack_bind(UsHarness *h, uint16_t sap)
{
	uint8_t dlsap[ETHER_DLSAP_LEN];
	ether_dlsap_make(dlsap, MAC_US, sap);
	dl_bind_ack_t a = { .dl_primitive = DL_BIND_ACK,
			    .dl_sap = sap,
			    .dl_addr_length = ETHER_DLSAP_LEN,
			    .dl_addr_offset = sizeof a };
	us_harness_push_up(h, proto_msg(M_PCPROTO, &a, sizeof a, dlsap, sizeof dlsap));
}

static void
ack_ok(UsHarness *h, t_uscalar_t prim)
{
	dl_ok_ack_t a = { .dl_primitive = DL_OK_ACK, .dl_correct_primitive = prim };
	us_harness_push_up(h, proto_msg(M_PCPROTO, &a, sizeof a, NULL, 0));
}

static void
ack_notify(UsHarness *h)
{
	dl_notify_ack_t a = { .dl_primitive = DL_NOTIFY_ACK,
			      .dl_notifications = DL_NOTE_PHYS_ADDR };
	us_harness_push_up(h, proto_msg(M_PROTO, &a, sizeof a, NULL, 0));
}

static void
notify_phys(UsHarness *h, const uint8_t *mac)
{
	dl_notify_ind_t n = { .dl_primitive = DL_NOTIFY_IND,
			      .dl_notification = DL_NOTE_PHYS_ADDR,
			      .dl_addr_length = ETHER_ALEN,
			      .dl_addr_offset = sizeof n };
	n.dl_data = DL_CURR_PHYS_ADDR;
	us_harness_push_up(h, proto_msg(M_PROTO, &n, sizeof n, mac, ETHER_ALEN));
}

/* Checks arp's three requests at open (not yet answered). */
static void
expect_open_requests(UsHarness *h)
{
	mblk_t *mp = pull_down_prim(h, DL_PHYS_ADDR_REQ);
	dl_phys_addr_req_t pa;
	prim_read(mp, &pa, sizeof pa);
	g_assert_cmpuint(pa.dl_addr_type, ==, DL_CURR_PHYS_ADDR);
	freemsg(mp);
	mp = pull_down_prim(h, DL_BIND_REQ);
	dl_bind_req_t br;
	prim_read(mp, &br, sizeof br);
	g_assert_cmphex(br.dl_sap, ==, ETHER_T_ARP);
	g_assert_cmpuint(br.dl_service_mode, ==, DL_CLDLS);
	freemsg(mp);
	mp = pull_down_prim(h, DL_NOTIFY_REQ);
	dl_notify_req_t nr;
	prim_read(mp, &nr, sizeof nr);
	g_assert_cmphex(nr.dl_notifications & DL_NOTE_PHYS_ADDR, ==, DL_NOTE_PHYS_ADDR);
	freemsg(mp);
	g_assert_cmpuint(us_harness_count_down(h), ==, 0);
}

/* What ether does at arp's open: answers all three (and indicates the
 * current address, as ether does after DL_NOTIFY_REQ). */
static void
answer_open(UsHarness *h)
{
	ack_phys_addr(h, MAC_US);
	ack_bind(h, ETHER_T_ARP);
	ack_notify(h);
	notify_phys(h, MAC_US);
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
}

static void
set_param(UsHarness *h, const char *name, const char *value)
{
	GError *error = NULL;
	g_assert_true(us_param_set(us_harness_rq(h), name, value, &error));
	g_assert_no_error(error);
}

static guint64
arp_stat(UsHarness *h, const char *name)
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

/* Sends an arp ioctl and returns the error (0: ACK); frees the reply. */
static int
ioc(UsHarness *h, int cmd, const void *data, size_t len, int *rval)
{
	mblk_t *mp = us_harness_ioctl(h, cmd, data, len);
	g_assert_nonnull(mp);
	g_assert_true(DB_TYPE(mp) == M_IOCACK || DB_TYPE(mp) == M_IOCNAK);
	const struct iocblk *io = (const struct iocblk *)mp->b_rptr;
	int err = DB_TYPE(mp) == M_IOCACK ? 0 : io->ioc_error;
	if (rval != NULL)
		*rval = io->ioc_rval;
	freemsg(mp);
	return err;
}

static int
ioc_addr(UsHarness *h, int cmd, uint32_t addr)
{
	struct arp_addr_req r = { .addr = addr };
	return ioc(h, cmd, &r, sizeof r, NULL);
}

static int
ioc_static(UsHarness *h, uint32_t addr, const uint8_t *mac)
{
	struct arp_static_req r = { .addr = addr };
	memcpy(r.mac, mac, ETHER_ALEN);
	return ioc(h, ARP_ADD_STATIC, &r, sizeof r, NULL);
}

/* ARP_LIST with room for cap entries; returns them (g_free) and the total. */
static struct arp_entry_info *
list(UsHarness *h, size_t cap, guint *n, int *total)
{
	size_t len = cap * sizeof(struct arp_entry_info);
	void *buf = g_malloc0(MAX(len, 1));
	mblk_t *mp = us_harness_ioctl(h, ARP_LIST, buf, len);
	g_free(buf);
	g_assert_nonnull(mp);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCACK);
	const struct iocblk *io = (const struct iocblk *)mp->b_rptr;
	*total = io->ioc_rval;
	*n = (guint)(io->ioc_count / sizeof(struct arp_entry_info));
	g_assert_cmpuint(io->ioc_count % sizeof(struct arp_entry_info), ==, 0);
	struct arp_entry_info *out = g_new0(struct arp_entry_info, *n + 1);
	if (*n > 0)
		g_assert_cmpuint(us_msgcopyout(mp->b_cont, 0, out, io->ioc_count), ==,
				 io->ioc_count);
	freemsg(mp);
	return out;
}

/* The state of addr's entry, 0 when there is none. */
static guint
entry_state(UsHarness *h, uint32_t addr, uint8_t *mac)
{
	guint n;
	int total;
	struct arp_entry_info *e = list(h, 64, &n, &total);
	guint st = 0;
	for (guint i = 0; i < n; i++)
		if (e[i].addr == addr) {
			st = e[i].state;
			if (mac != NULL)
				memcpy(mac, e[i].mac, ETHER_ALEN);
		}
	g_free(e);
	return st;
}

/* A harness past open, owning IP_US (without announcements). */
static UsHarness *
fake_new(void)
{
	UsHarness *h = fake_new_raw();
	expect_open_requests(h);
	answer_open(h);
	set_param(h, ARP_PARAM_ANNOUNCE, "0");
	g_assert_cmpint(ioc_addr(h, ARP_ADD_LOCAL, IP_US), ==, 0);
	g_assert_cmpuint(us_harness_count_down(h), ==, 0);
	return h;
}

/* The next message down must be an ARP packet in a DL_UNITDATA_REQ to dst;
 * returns its fields. */
static ArpPkt
expect_arp_down(UsHarness *h, const uint8_t *dst)
{
	mblk_t *mp = pull_down_prim(h, DL_UNITDATA_REQ);
	dl_unitdata_req_t req;
	prim_read(mp, &req, sizeof req);
	g_assert_cmpuint(req.dl_dest_addr_length, ==, ETHER_DLSAP_LEN);
	g_assert_cmpuint(req.dl_dest_addr_offset + ETHER_DLSAP_LEN, <=, MBLKL(mp));
	const uint8_t *d = mp->b_rptr + req.dl_dest_addr_offset;
	g_assert_cmpmem(d, ETHER_ALEN, dst, ETHER_ALEN);
	g_assert_cmphex(ether_dlsap_sap(d), ==, ETHER_T_ARP);
	g_assert_nonnull(mp->b_cont);
	g_assert_cmpuint(msgdsize(mp->b_cont), ==, ARP_PKT_LEN);
	uint8_t buf[ARP_PKT_LEN];
	us_msgcopyout(mp->b_cont, 0, buf, ARP_PKT_LEN);
	ArpPkt p = { 0 };
	g_assert_true(arp_pkt_parse(buf, &p));
	freemsg(mp);
	return p;
}

/* A broadcast request from us for addr. */
static void
expect_request(UsHarness *h, uint32_t addr, const uint8_t *dst)
{
	ArpPkt p = expect_arp_down(h, dst != NULL ? dst : MAC_BCAST);
	g_assert_cmpuint(p.op, ==, ARP_OP_REQUEST);
	g_assert_cmpmem(p.sha, ETHER_ALEN, MAC_US, ETHER_ALEN);
	g_assert_cmphex(p.spa, ==, IP_US);
	g_assert_cmpmem(p.tha, ETHER_ALEN, MAC_ZERO, ETHER_ALEN);
	g_assert_cmphex(p.tpa, ==, addr);
}

/* The next message down must be the user's packet with tag, sent to mac. */
static void
expect_packet_down(UsHarness *h, const uint8_t *mac, uint8_t tag)
{
	mblk_t *mp = pull_down_prim(h, DL_UNITDATA_REQ);
	dl_unitdata_req_t req;
	prim_read(mp, &req, sizeof req);
	g_assert_cmpuint(req.dl_dest_addr_length, ==, ETHER_DLSAP_LEN);
	const uint8_t *d = mp->b_rptr + req.dl_dest_addr_offset;
	g_assert_cmpmem(d, ETHER_ALEN, mac, ETHER_ALEN);
	g_assert_cmphex(ether_dlsap_sap(d), ==, ETHER_T_IPV4);
	g_assert_nonnull(mp->b_cont);
	g_assert_cmpuint(msgdsize(mp->b_cont), ==, 20);
	g_assert_cmpuint(mp->b_cont->b_rptr[0], ==, tag);
	freemsg(mp);
}

/* The next message up must be an 8-byte arp indication. */
static mblk_t *
expect_ind_up(UsHarness *h, uint32_t prim, uint32_t addr)
{
	mblk_t *mp = us_harness_pull_up(h);
	g_assert_nonnull(mp);
	g_assert_cmphex(DB_TYPE(mp), ==, M_PROTO);
	struct arp_unreach_ind ind;
	prim_read(mp, &ind, sizeof ind);
	g_assert_cmphex(ind.prim, ==, prim);
	g_assert_cmphex(ind.addr, ==, addr);
	return mp;
}

static void
expect_unreach(UsHarness *h, uint32_t addr, uint8_t tag)
{
	mblk_t *mp = expect_ind_up(h, ARP_UNREACH_IND, addr);
	g_assert_nonnull(mp->b_cont);
	g_assert_cmpuint(msgdsize(mp->b_cont), ==, 20);
	g_assert_cmpuint(mp->b_cont->b_rptr[0], ==, tag);
	freemsg(mp);
}

/* The peer at mac/ip answers arp (a reply to us). */
static void
peer_reply(UsHarness *h, const uint8_t *mac, uint32_t ip)
{
	us_harness_push_up(h, unitdata_ind(MAC_US, mac, ETHER_T_ARP,
					   arp_pkt_msg(ARP_OP_REPLY, mac, ip, MAC_US, IP_US, 18)));
}

static void
expect_error_ack(UsHarness *h, t_uscalar_t prim, t_uscalar_t err)
{
	mblk_t *mp = us_harness_pull_up(h);
	g_assert_nonnull(mp);
	dl_error_ack_t ea;
	prim_read(mp, &ea, sizeof ea);
	g_assert_cmphex(ea.dl_primitive, ==, DL_ERROR_ACK);
	g_assert_cmphex(ea.dl_error_primitive, ==, prim);
	g_assert_cmphex(ea.dl_errno, ==, err);
	freemsg(mp);
}

static void
expect_quiet(UsHarness *h)
{
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	g_assert_cmpuint(us_harness_count_down(h), ==, 0);
}

/* Resolves IP_PEER with one packet (tag 1). */
static void
resolve_peer(UsHarness *h)
{
	us_harness_push_down(h, nh_unitdata(IP_PEER, 1));
	expect_request(h, IP_PEER, NULL);
	peer_reply(h, MAC_PEER, IP_PEER);
	expect_packet_down(h, MAC_PEER, 1);
	expect_quiet(h);
}

/* ------------------------------------------------------------------ */
/* 1. Harness tests                                                   */
/* ------------------------------------------------------------------ */

static void
test_open_binds(void)
{
	UsHarness *h = fake_new_raw();
	expect_open_requests(h);
	answer_open(h);
	expect_quiet(h);
	us_harness_free(h);
}

/* arp's acks are consumed, the user's pass up, in order, even interleaved. */
static void
test_bind_acks_sorted(void)
{
	UsHarness *h = fake_new_raw();
	expect_open_requests(h);
	/* the user asks for the address before ether answered arp */
	dl_phys_addr_req_t pa = { .dl_primitive = DL_PHYS_ADDR_REQ,
				  .dl_addr_type = DL_FACT_PHYS_ADDR };
	us_harness_push_down(h, proto_msg(M_PROTO, &pa, sizeof pa, NULL, 0));
	freemsg(pull_down_prim(h, DL_PHYS_ADDR_REQ));
	answer_open(h);           /* first DL_PHYS_ADDR_ACK is arp's */
	ack_phys_addr(h, MAC_US); /* second is the user's */
	mblk_t *mp = us_harness_pull_up(h);
	g_assert_nonnull(mp);
	g_assert_cmphex(prim_of(mp), ==, DL_PHYS_ADDR_ACK);
	freemsg(mp);
	expect_quiet(h);

	/* the user binds IPv4: passes down, its ack up */
	dl_bind_req_t br = { .dl_primitive = DL_BIND_REQ,
			     .dl_sap = ETHER_T_IPV4,
			     .dl_service_mode = DL_CLDLS };
	us_harness_push_down(h, proto_msg(M_PROTO, &br, sizeof br, NULL, 0));
	freemsg(pull_down_prim(h, DL_BIND_REQ));
	ack_bind(h, ETHER_T_IPV4);
	mp = us_harness_pull_up(h);
	g_assert_cmphex(prim_of(mp), ==, DL_BIND_ACK);
	freemsg(mp);

	/* DL_INFO_ACK shows the user's SAP, not arp's */
	uint8_t extra[ETHER_DLSAP_LEN + ETHER_ALEN];
	ether_dlsap_make(extra, MAC_US, ETHER_T_ARP);
	memset(extra + ETHER_DLSAP_LEN, 0xff, ETHER_ALEN);
	dl_info_ack_t ia = { .dl_primitive = DL_INFO_ACK,
			     .dl_addr_length = ETHER_DLSAP_LEN,
			     .dl_current_state = DL_IDLE,
			     .dl_addr_offset = sizeof ia,
			     .dl_brdcst_addr_length = ETHER_ALEN,
			     .dl_brdcst_addr_offset = sizeof ia + ETHER_DLSAP_LEN };
	us_harness_push_up(h, proto_msg(M_PCPROTO, &ia, sizeof ia, extra, sizeof extra));
	mp = us_harness_pull_up(h);
	prim_read(mp, &ia, sizeof ia);
	g_assert_cmpuint(ia.dl_current_state, ==, DL_IDLE);
	g_assert_cmphex(ether_dlsap_sap(mp->b_rptr + ia.dl_addr_offset), ==, ETHER_T_IPV4);
	freemsg(mp);

	/* the user unbinds: arp binds again right behind, its ack consumed */
	t_uscalar_t ub = DL_UNBIND_REQ;
	us_harness_push_down(h, proto_msg(M_PROTO, &ub, sizeof ub, NULL, 0));
	freemsg(pull_down_prim(h, DL_UNBIND_REQ));
	mp = pull_down_prim(h, DL_BIND_REQ);
	prim_read(mp, &br, sizeof br);
	g_assert_cmphex(br.dl_sap, ==, ETHER_T_ARP);
	freemsg(mp);
	ack_ok(h, DL_UNBIND_REQ);
	ack_bind(h, ETHER_T_ARP);
	mp = us_harness_pull_up(h);
	dl_ok_ack_t ok;
	prim_read(mp, &ok, sizeof ok);
	g_assert_cmphex(ok.dl_primitive, ==, DL_OK_ACK);
	g_assert_cmphex(ok.dl_correct_primitive, ==, DL_UNBIND_REQ);
	freemsg(mp);
	expect_quiet(h);

	/* now unbound for the user: DL_INFO_ACK says so; DL_UNBIND_REQ refused */
	ia.dl_current_state = DL_IDLE;
	ia.dl_addr_offset = sizeof ia;
	us_harness_push_up(h, proto_msg(M_PCPROTO, &ia, sizeof ia, extra, sizeof extra));
	mp = us_harness_pull_up(h);
	prim_read(mp, &ia, sizeof ia);
	g_assert_cmpuint(ia.dl_current_state, ==, DL_UNBOUND);
	g_assert_cmpuint(ia.dl_addr_offset, ==, 0);
	freemsg(mp);
	us_harness_push_down(h, proto_msg(M_PROTO, &ub, sizeof ub, NULL, 0));
	expect_error_ack(h, DL_UNBIND_REQ, DL_OUTSTATE);
	dl_subs_bind_req_t sb = { .dl_primitive = DL_SUBS_BIND_REQ,
				  .dl_subs_sap_offset = sizeof sb,
				  .dl_subs_sap_length = 2,
				  .dl_subs_bind_class = DL_PEER_BIND };
	uint16_t sap = ETHER_T_IPV6;
	us_harness_push_down(h, proto_msg(M_PROTO, &sb, sizeof sb, &sap, sizeof sap));
	expect_error_ack(h, DL_SUBS_BIND_REQ, DL_OUTSTATE);
	expect_quiet(h);
	us_harness_free(h);
}

/* ether refusing one of arp's requests: consumed, never shown to the user,
 * and the user's next ack still passes. */
static void
test_own_request_refused(void)
{
	UsHarness *h = fake_new_raw();
	expect_open_requests(h);
	ack_phys_addr(h, MAC_US);
	dl_error_ack_t ea = { .dl_primitive = DL_ERROR_ACK,
			      .dl_error_primitive = DL_BIND_REQ,
			      .dl_errno = DL_TOOMANY };
	us_harness_push_up(h, proto_msg(M_PCPROTO, &ea, sizeof ea, NULL, 0));
	ack_notify(h);
	expect_quiet(h);
	dl_bind_req_t br = { .dl_primitive = DL_BIND_REQ,
			     .dl_sap = ETHER_T_IPV4,
			     .dl_service_mode = DL_CLDLS };
	us_harness_push_down(h, proto_msg(M_PROTO, &br, sizeof br, NULL, 0));
	freemsg(pull_down_prim(h, DL_BIND_REQ));
	us_harness_push_up(h, proto_msg(M_PCPROTO, &ea, sizeof ea, NULL, 0));
	expect_error_ack(h, DL_BIND_REQ, DL_TOOMANY);
	expect_quiet(h);
	us_harness_free(h);
}

/* The address follows DL_NOTE_PHYS_ADDR; the user's DL_NOTIFY_REQ gets the
 * bit added and sees the indication only when it asked. */
static void
test_notify_phys_addr(void)
{
	UsHarness *h = fake_new();
	dl_notify_req_t nr = { .dl_primitive = DL_NOTIFY_REQ, .dl_notifications = DL_NOTE_LINK_UP };
	us_harness_push_down(h, proto_msg(M_PROTO, &nr, sizeof nr, NULL, 0));
	mblk_t *mp = pull_down_prim(h, DL_NOTIFY_REQ);
	prim_read(mp, &nr, sizeof nr);
	g_assert_cmphex(nr.dl_notifications, ==, DL_NOTE_LINK_UP | DL_NOTE_PHYS_ADDR);
	freemsg(mp);
	ack_notify(h);
	mp = us_harness_pull_up(h); /* the user's ack */
	g_assert_cmphex(prim_of(mp), ==, DL_NOTIFY_ACK);
	freemsg(mp);
	notify_phys(h, MAC_PEER2); /* not asked for: consumed */
	expect_quiet(h);
	us_harness_push_down(h, nh_unitdata(IP_PEER, 1));
	ArpPkt p = expect_arp_down(h, MAC_BCAST);
	g_assert_cmpmem(p.sha, ETHER_ALEN, MAC_PEER2, ETHER_ALEN);
	us_harness_free(h);
}

static void
test_resolve_reachable(void)
{
	UsHarness *h = fake_new();
	us_harness_push_down(h, nh_unitdata(IP_PEER, 1));
	expect_request(h, IP_PEER, NULL);
	expect_quiet(h);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_INCOMPLETE);
	us_harness_push_down(h, nh_unitdata(IP_PEER, 2));
	expect_quiet(h); /* waits, no second request before retrans_ms */
	peer_reply(h, MAC_PEER, IP_PEER);
	expect_packet_down(h, MAC_PEER, 1);
	expect_packet_down(h, MAC_PEER, 2);
	expect_quiet(h);
	uint8_t mac[ETHER_ALEN];
	g_assert_cmpuint(entry_state(h, IP_PEER, mac), ==, ARP_STATE_REACHABLE);
	g_assert_cmpmem(mac, ETHER_ALEN, MAC_PEER, ETHER_ALEN);
	us_harness_push_down(h, nh_unitdata(IP_PEER, 3)); /* straight through */
	expect_packet_down(h, MAC_PEER, 3);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_RESOLVED), ==, 1);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_REQUESTS_OUT), ==, 1);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_REPLIES_IN), ==, 1);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_QUEUED), ==, 2);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_ENTRIES), ==, 1);
	us_harness_free(h);
}

/* REACHABLE -> STALE after reachable_ms; a use sends one unicast request;
 * the answer makes it REACHABLE again. */
static void
test_stale_reconfirm(void)
{
	UsHarness *h = fake_new();
	resolve_peer(h);
	us_harness_advance(h, 29999 * MS);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_REACHABLE);
	us_harness_advance(h, 1 * MS);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_STALE);
	expect_quiet(h);
	us_harness_push_down(h, nh_unitdata(IP_PEER, 7));
	expect_request(h, IP_PEER, MAC_PEER); /* unicast poll */
	expect_packet_down(h, MAC_PEER, 7);   /* still used */
	us_harness_push_down(h, nh_unitdata(IP_PEER, 8));
	expect_packet_down(h, MAC_PEER, 8); /* no second poll */
	expect_quiet(h);
	peer_reply(h, MAC_PEER, IP_PEER);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_REACHABLE);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_RESOLVED), ==,
			 1); /* a confirmation, not a resolution */
	expect_quiet(h);
	us_harness_free(h);
}

/* An unanswered unicast poll removes the STALE entry after retries *
 * retrans_ms; the next packet starts a new resolution. */
static void
test_stale_unanswered(void)
{
	UsHarness *h = fake_new();
	resolve_peer(h);
	us_harness_advance(h, 30000 * MS);
	us_harness_push_down(h, nh_unitdata(IP_PEER, 7));
	expect_request(h, IP_PEER, MAC_PEER);
	expect_packet_down(h, MAC_PEER, 7);
	us_harness_advance(h, 2999 * MS);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_STALE);
	us_harness_advance(h, 1 * MS);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, 0);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_ENTRIES), ==, 0);
	us_harness_push_down(h, nh_unitdata(IP_PEER, 9));
	expect_request(h, IP_PEER, NULL);
	expect_quiet(h);
	us_harness_free(h);
}

/* Three requests retrans_ms apart, then ARP_UNREACH_IND with the first
 * packet, the others dropped; FAILED answers at once; removed after
 * failed_ms. */
static void
test_retries_unreach(void)
{
	UsHarness *h = fake_new();
	us_harness_push_down(h, nh_unitdata(IP_PEER, 1));
	us_harness_push_down(h, nh_unitdata(IP_PEER, 2));
	us_harness_push_down(h, nh_unitdata(IP_PEER, 3));
	expect_request(h, IP_PEER, NULL);
	expect_quiet(h);
	us_harness_advance(h, 999 * MS);
	expect_quiet(h);
	us_harness_advance(h, 1 * MS);
	expect_request(h, IP_PEER, NULL);
	us_harness_advance(h, 1000 * MS);
	expect_request(h, IP_PEER, NULL);
	expect_quiet(h);
	us_harness_advance(h, 999 * MS);
	expect_quiet(h);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_INCOMPLETE);
	us_harness_advance(h, 1 * MS);
	expect_unreach(h, IP_PEER, 1);
	expect_quiet(h);
	g_assert_cmpuint(drops(h, ARP_DROP_UNRESOLVED), ==, 2);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_FAILED), ==, 1);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_REQUESTS_OUT), ==, 3);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_FAILED);
	us_harness_push_down(h, nh_unitdata(IP_PEER, 4));
	expect_unreach(h, IP_PEER, 4); /* at once, no request */
	expect_quiet(h);
	us_harness_advance(h, 19999 * MS);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_FAILED);
	us_harness_advance(h, 1 * MS);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, 0);
	us_harness_free(h);
}

/* A FAILED entry comes back to life when the neighbour speaks. */
static void
test_failed_revived(void)
{
	UsHarness *h = fake_new();
	set_param(h, ARP_PARAM_RETRIES, "1");
	us_harness_push_down(h, nh_unitdata(IP_PEER, 1));
	expect_request(h, IP_PEER, NULL);
	us_harness_advance(h, 1000 * MS);
	expect_unreach(h, IP_PEER, 1);
	peer_reply(h, MAC_PEER, IP_PEER);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_REACHABLE);
	us_harness_push_down(h, nh_unitdata(IP_PEER, 2));
	expect_packet_down(h, MAC_PEER, 2);
	expect_quiet(h);
	us_harness_free(h);
}

/* queue_max per entry drops the oldest; queue_total bounds them all. */
static void
test_queue_bounds(void)
{
	UsHarness *h = fake_new();
	for (uint8_t t = 1; t <= 5; t++)
		us_harness_push_down(h, nh_unitdata(IP_PEER, t));
	expect_request(h, IP_PEER, NULL);
	expect_quiet(h);
	g_assert_cmpuint(drops(h, ARP_DROP_QUEUE_FULL), ==, 2);
	guint n;
	int total;
	struct arp_entry_info *e = list(h, 4, &n, &total);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(e[0].queued, ==, 3);
	g_free(e);
	peer_reply(h, MAC_PEER, IP_PEER);
	expect_packet_down(h, MAC_PEER, 3);
	expect_packet_down(h, MAC_PEER, 4);
	expect_packet_down(h, MAC_PEER, 5);
	expect_quiet(h);

	set_param(h, ARP_PARAM_QUEUE_TOTAL, "4");
	for (uint8_t t = 10; t < 13; t++)
		us_harness_push_down(h, nh_unitdata(IP_PEER2, t)); /* 3 waiting */
	expect_request(h, IP_PEER2, NULL);
	us_harness_push_down(h, nh_unitdata(IP_OTHER, 20)); /* 4 waiting */
	expect_request(h, IP_OTHER, NULL);
	us_harness_push_down(h, nh_unitdata(IP_OTHER, 21)); /* pushes out 20 */
	g_assert_cmpuint(drops(h, ARP_DROP_QUEUE_TOTAL), ==, 1);
	us_harness_push_down(h, nh_unitdata(ip4(10, 0, 0, 77), 30)); /* refused */
	expect_request(h, ip4(10, 0, 0, 77), NULL);
	g_assert_cmpuint(drops(h, ARP_DROP_QUEUE_TOTAL), ==, 2);
	peer_reply(h, MAC_PEER2, IP_OTHER);
	expect_packet_down(h, MAC_PEER2, 21);
	expect_quiet(h);
	us_harness_free(h);
}

/* A request for our address gets a unicast reply and creates the sender's
 * entry; requests for other hosts are ignored and counted. */
static void
test_reply_for_us(void)
{
	UsHarness *h = fake_new();
	us_harness_push_up(h, unitdata_ind(MAC_BCAST, MAC_PEER, ETHER_T_ARP,
					   arp_pkt_msg(ARP_OP_REQUEST, MAC_PEER, IP_PEER, MAC_ZERO,
						       IP_US, 18)));
	ArpPkt p = expect_arp_down(h, MAC_PEER);
	g_assert_cmpuint(p.op, ==, ARP_OP_REPLY);
	g_assert_cmpmem(p.sha, ETHER_ALEN, MAC_US, ETHER_ALEN);
	g_assert_cmphex(p.spa, ==, IP_US);
	g_assert_cmpmem(p.tha, ETHER_ALEN, MAC_PEER, ETHER_ALEN);
	g_assert_cmphex(p.tpa, ==, IP_PEER);
	expect_quiet(h);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_REACHABLE);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_REQUESTS_IN), ==, 1);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_REPLIES_OUT), ==, 1);

	us_harness_push_up(h, unitdata_ind(MAC_BCAST, MAC_PEER2, ETHER_T_ARP,
					   arp_pkt_msg(ARP_OP_REQUEST, MAC_PEER2, IP_PEER2,
						       MAC_ZERO, IP_OTHER, 0)));
	expect_quiet(h);
	g_assert_cmpuint(drops(h, ARP_DROP_NOT_FOR_US), ==, 1);
	g_assert_cmpuint(entry_state(h, IP_PEER2, NULL), ==, 0);

	/* a probe (sender IP 0) for our address: answered, nothing cached */
	us_harness_push_up(
		h, unitdata_ind(MAC_BCAST, MAC_PEER2, ETHER_T_ARP,
				arp_pkt_msg(ARP_OP_REQUEST, MAC_PEER2, 0, MAC_ZERO, IP_US, 0)));
	p = expect_arp_down(h, MAC_PEER2);
	g_assert_cmpuint(p.op, ==, ARP_OP_REPLY);
	g_assert_cmphex(p.tpa, ==, 0);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_ENTRIES), ==, 1);

	/* after ARP_DEL_LOCAL the address is not ours any more */
	g_assert_cmpint(ioc_addr(h, ARP_DEL_LOCAL, IP_US), ==, 0);
	g_assert_cmpint(ioc_addr(h, ARP_DEL_LOCAL, IP_US), ==, ENOENT);
	us_harness_push_up(h, unitdata_ind(MAC_BCAST, MAC_PEER2, ETHER_T_ARP,
					   arp_pkt_msg(ARP_OP_REQUEST, MAC_PEER2, IP_PEER2,
						       MAC_ZERO, IP_US, 0)));
	expect_quiet(h);
	g_assert_cmpuint(drops(h, ARP_DROP_NOT_FOR_US), ==, 2);
	us_harness_free(h);
}

/* ARP_ADD_LOCAL sends "announce" gratuitous requests announce_ms apart. */
static void
test_announce(void)
{
	UsHarness *h = fake_new_raw();
	expect_open_requests(h);
	answer_open(h);
	g_assert_cmpint(ioc_addr(h, ARP_ADD_LOCAL, IP_US), ==, 0);
	for (int i = 0; i < 2; i++) {
		ArpPkt p = expect_arp_down(h, MAC_BCAST);
		g_assert_cmpuint(p.op, ==, ARP_OP_REQUEST);
		g_assert_cmpmem(p.sha, ETHER_ALEN, MAC_US, ETHER_ALEN);
		g_assert_cmphex(p.spa, ==, IP_US);
		g_assert_cmphex(p.tpa, ==, IP_US);
		g_assert_cmpmem(p.tha, ETHER_ALEN, MAC_ZERO, ETHER_ALEN);
		expect_quiet(h);
		if (i == 0) {
			us_harness_advance(h, 1999 * MS);
			expect_quiet(h);
			us_harness_advance(h, 1 * MS);
		}
	}
	us_harness_advance(h, 10000 * MS);
	expect_quiet(h);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_ANNOUNCEMENTS), ==, 2);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_REQUESTS_OUT), ==, 0);
	g_assert_cmpint(ioc_addr(h, ARP_ADD_LOCAL, IP_US), ==, EEXIST);
	g_assert_cmpint(ioc_addr(h, ARP_ADD_LOCAL, 0), ==, EINVAL);
	g_assert_cmpint(ioc_addr(h, ARP_ADD_LOCAL, ip4(224, 0, 0, 1)), ==, EINVAL);
	/* deleting an address mid-announcement stops them */
	set_param(h, ARP_PARAM_ANNOUNCE, "3");
	g_assert_cmpint(ioc_addr(h, ARP_ADD_LOCAL, IP_PEER2), ==, 0);
	expect_arp_down(h, MAC_BCAST);
	g_assert_cmpint(ioc_addr(h, ARP_DEL_LOCAL, IP_PEER2), ==, 0);
	us_harness_advance(h, 10000 * MS);
	expect_quiet(h);
	us_harness_free(h);
}

/* Gratuitous ARP updates existing entries only; a changed MAC is told. */
static void
test_gratuitous(void)
{
	UsHarness *h = fake_new();
	us_harness_push_up(h, unitdata_ind(MAC_BCAST, MAC_PEER2, ETHER_T_ARP,
					   arp_pkt_msg(ARP_OP_REQUEST, MAC_PEER2, IP_PEER2,
						       MAC_ZERO, IP_PEER2, 0)));
	expect_quiet(h);
	g_assert_cmpuint(drops(h, ARP_DROP_GRATUITOUS), ==, 1);
	g_assert_cmpuint(entry_state(h, IP_PEER2, NULL), ==, 0);

	resolve_peer(h);
	us_harness_push_up(h, unitdata_ind(MAC_BCAST, MAC_PEER2, ETHER_T_ARP,
					   arp_pkt_msg(ARP_OP_REQUEST, MAC_PEER2, IP_PEER, MAC_ZERO,
						       IP_PEER, 0)));
	freemsg(expect_ind_up(h, ARP_CHANGED_IND, IP_PEER));
	expect_quiet(h);
	uint8_t mac[ETHER_ALEN];
	g_assert_cmpuint(entry_state(h, IP_PEER, mac), ==, ARP_STATE_REACHABLE);
	g_assert_cmpmem(mac, ETHER_ALEN, MAC_PEER2, ETHER_ALEN);
	/* the same MAC again: no indication */
	peer_reply(h, MAC_PEER2, IP_PEER);
	expect_quiet(h);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_CHANGED_IND), ==, 1);
	us_harness_free(h);
}

/* Static entries: PERMANENT, used at once, never aged or changed. */
static void
test_static(void)
{
	UsHarness *h = fake_new();
	/* replaces an INCOMPLETE entry and releases its packet */
	us_harness_push_down(h, nh_unitdata(IP_PEER, 1));
	expect_request(h, IP_PEER, NULL);
	g_assert_cmpint(ioc_static(h, IP_PEER, MAC_PEER), ==, 0);
	expect_packet_down(h, MAC_PEER, 1);
	expect_quiet(h);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_PERMANENT);
	us_harness_advance(h, 3600 * 1000 * MS);
	expect_quiet(h);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_PERMANENT);
	peer_reply(h, MAC_PEER2, IP_PEER); /* does not change it */
	uint8_t mac[ETHER_ALEN];
	g_assert_cmpuint(entry_state(h, IP_PEER, mac), ==, ARP_STATE_PERMANENT);
	g_assert_cmpmem(mac, ETHER_ALEN, MAC_PEER, ETHER_ALEN);
	us_harness_push_down(h, nh_unitdata(IP_PEER, 2));
	expect_packet_down(h, MAC_PEER, 2);
	/* a dynamic entry replaced by a static one with another MAC */
	us_harness_push_down(h, nh_unitdata(IP_PEER2, 3));
	expect_request(h, IP_PEER2, NULL);
	peer_reply(h, MAC_PEER2, IP_PEER2);
	expect_packet_down(h, MAC_PEER2, 3);
	g_assert_cmpint(ioc_static(h, IP_PEER2, MAC_PEER), ==, 0);
	freemsg(expect_ind_up(h, ARP_CHANGED_IND, IP_PEER2));
	g_assert_cmpuint(entry_state(h, IP_PEER2, NULL), ==, ARP_STATE_PERMANENT);
	g_assert_cmpint(ioc_static(h, IP_PEER2, MAC_BCAST), ==, EINVAL);
	g_assert_cmpint(ioc_static(h, 0, MAC_PEER), ==, EINVAL);
	int rval;
	us_harness_push_down(h, nh_unitdata(IP_OTHER, 3));
	expect_request(h, IP_OTHER, NULL);
	g_assert_cmpint(ioc(h, ARP_FLUSH, NULL, 0, &rval), ==, 0);
	g_assert_cmpint(rval, ==, 1);
	g_assert_cmpuint(drops(h, ARP_DROP_FLUSHED), ==, 1);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, ARP_STATE_PERMANENT);
	g_assert_cmpint(ioc_addr(h, ARP_DEL_ENTRY, IP_PEER), ==, 0);
	g_assert_cmpint(ioc_addr(h, ARP_DEL_ENTRY, IP_PEER), ==, ENOENT);
	g_assert_cmpint(ioc_addr(h, ARP_DEL_ENTRY, IP_PEER2), ==, 0);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_ENTRIES), ==, 0);
	expect_quiet(h);
	us_harness_free(h);
}

/* ARP_LIST: ascending, as many as fit, the total in ioc_rval. */
static void
test_list(void)
{
	UsHarness *h = fake_new();
	g_assert_cmpint(ioc_static(h, ip4(10, 0, 0, 30), MAC_PEER2), ==, 0);
	resolve_peer(h);
	us_harness_push_down(h, nh_unitdata(ip4(10, 0, 0, 20), 5));
	expect_request(h, ip4(10, 0, 0, 20), NULL);
	us_harness_advance(h, 250 * MS);
	guint n;
	int total;
	struct arp_entry_info *e = list(h, 2, &n, &total);
	g_assert_cmpint(total, ==, 3);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmphex(e[0].addr, ==, IP_PEER);
	g_assert_cmpuint(e[0].state, ==, ARP_STATE_REACHABLE);
	g_assert_cmpmem(e[0].mac, ETHER_ALEN, MAC_PEER, ETHER_ALEN);
	g_assert_cmpuint(e[0].age_ms, ==, 250);
	g_assert_cmpuint(e[0].queued, ==, 0);
	g_assert_cmphex(e[1].addr, ==, ip4(10, 0, 0, 20));
	g_assert_cmpuint(e[1].state, ==, ARP_STATE_INCOMPLETE);
	g_assert_cmpuint(e[1].queued, ==, 1);
	g_assert_cmpmem(e[1].mac, ETHER_ALEN, MAC_ZERO, ETHER_ALEN);
	g_free(e);
	e = list(h, 8, &n, &total);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpuint(e[2].state, ==, ARP_STATE_PERMANENT);
	g_free(e);
	e = list(h, 0, &n, &total);
	g_assert_cmpuint(n, ==, 0);
	g_assert_cmpint(total, ==, 3);
	g_free(e);
	us_harness_free(h);
}

/* max_entries: the oldest STALE/FAILED entry is evicted, else refused. */
static void
test_cache_full(void)
{
	UsHarness *h = fake_new();
	set_param(h, ARP_PARAM_MAX_ENTRIES, "2");
	set_param(h, ARP_PARAM_RETRIES, "1");
	us_harness_push_down(h, nh_unitdata(IP_PEER, 1));
	expect_request(h, IP_PEER, NULL);
	us_harness_push_down(h, nh_unitdata(IP_PEER2, 2));
	expect_request(h, IP_PEER2, NULL);
	us_harness_push_down(h, nh_unitdata(IP_OTHER, 3));
	expect_quiet(h);
	g_assert_cmpuint(drops(h, ARP_DROP_CACHE_FULL), ==, 1);
	peer_reply(h, MAC_PEER2, IP_PEER2);
	expect_packet_down(h, MAC_PEER2, 2);
	us_harness_advance(h, 1000 * MS); /* IP_PEER fails */
	expect_unreach(h, IP_PEER, 1);
	us_harness_push_down(h, nh_unitdata(IP_OTHER, 4)); /* evicts IP_PEER */
	expect_request(h, IP_OTHER, NULL);
	g_assert_cmpuint(entry_state(h, IP_PEER, NULL), ==, 0);
	g_assert_cmpuint(entry_state(h, IP_PEER2, NULL), ==, ARP_STATE_REACHABLE);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_ENTRIES), ==, 2);
	us_harness_free(h);
}

/* Malformed and suspicious packets are dropped with their reason, never
 * passed up, never answered. */
static void
test_malformed(void)
{
	UsHarness *h = fake_new();
	static const struct {
		size_t off;
		uint8_t val;
	} bad[] = {
		{ ARP_OFF_HTYPE + 1, 6 }, { ARP_OFF_PTYPE, 0x86 }, { ARP_OFF_HLEN, 5 },
		{ ARP_OFF_PLEN, 16 },     { ARP_OFF_OP + 1, 3 },   { ARP_OFF_OP + 1, 0 },
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		mblk_t *d = arp_pkt_msg(ARP_OP_REQUEST, MAC_PEER, IP_PEER, MAC_ZERO, IP_US, 0);
		d->b_rptr[bad[i].off] = bad[i].val;
		us_harness_push_up(h, unitdata_ind(MAC_BCAST, MAC_PEER, ETHER_T_ARP, d));
	}
	mblk_t *d = arp_pkt_msg(ARP_OP_REQUEST, MAC_PEER, IP_PEER, MAC_ZERO, IP_US, 0);
	d->b_wptr -= 1; /* 27 bytes */
	us_harness_push_up(h, unitdata_ind(MAC_BCAST, MAC_PEER, ETHER_T_ARP, d));
	us_harness_push_up(h, unitdata_ind(MAC_BCAST, MAC_PEER, ETHER_T_ARP, NULL));
	us_harness_push_up(h, unitdata_ind(MAC_BCAST, MAC_PEER, ETHER_T_ARP, payload(0, 0)));
	expect_quiet(h);
	g_assert_cmpuint(drops(h, ARP_DROP_MALFORMED), ==, G_N_ELEMENTS(bad) + 3);

	/* bad senders: group MAC, IP 0 in a reply, broadcast IP */
	us_harness_push_up(h, unitdata_ind(MAC_BCAST, MAC_PEER, ETHER_T_ARP,
					   arp_pkt_msg(ARP_OP_REQUEST, MAC_BCAST, IP_PEER, MAC_ZERO,
						       IP_US, 0)));
	us_harness_push_up(h,
			   unitdata_ind(MAC_US, MAC_PEER, ETHER_T_ARP,
					arp_pkt_msg(ARP_OP_REPLY, MAC_PEER, 0, MAC_US, IP_US, 0)));
	us_harness_push_up(h,
			   unitdata_ind(MAC_BCAST, MAC_PEER, ETHER_T_ARP,
					arp_pkt_msg(ARP_OP_REQUEST, MAC_PEER,
						    ip4(255, 255, 255, 255), MAC_ZERO, IP_US, 0)));
	expect_quiet(h);
	g_assert_cmpuint(drops(h, ARP_DROP_BAD_SENDER), ==, 3);
	/* our own packet back; another host claiming our address */
	us_harness_push_up(
		h, unitdata_ind(MAC_BCAST, MAC_US, ETHER_T_ARP,
				arp_pkt_msg(ARP_OP_REQUEST, MAC_US, IP_US, MAC_ZERO, IP_US, 0)));
	us_harness_push_up(
		h, unitdata_ind(MAC_BCAST, MAC_PEER, ETHER_T_ARP,
				arp_pkt_msg(ARP_OP_REQUEST, MAC_PEER, IP_US, MAC_ZERO, IP_US, 0)));
	expect_quiet(h);
	g_assert_cmpuint(drops(h, ARP_DROP_OWN), ==, 1);
	g_assert_cmpuint(drops(h, ARP_DROP_CONFLICT), ==, 1);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_REQUESTS_IN), ==, 0);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_ENTRIES), ==, 0);

	/* a valid packet split over three blocks is read correctly */
	mblk_t *a = arp_pkt_msg(ARP_OP_REQUEST, MAC_PEER, IP_PEER, MAC_ZERO, IP_US, 0);
	mblk_t *b = payload(0, 10), *c = payload(0, 8);
	memcpy(b->b_rptr, a->b_rptr + 10, 10);
	memcpy(c->b_rptr, a->b_rptr + 20, 8);
	a->b_wptr = a->b_rptr + 10;
	a->b_cont = b;
	b->b_cont = c;
	us_harness_push_up(h, unitdata_ind(MAC_BCAST, MAC_PEER, ETHER_T_ARP, a));
	ArpPkt p = expect_arp_down(h, MAC_PEER);
	g_assert_cmpuint(p.op, ==, ARP_OP_REPLY);

	/* a short DLPI message, and a DL_UNITDATA_IND whose addresses point
	 * outside its block: not ARP for arp, passed up */
	dl_unitdata_ind_t u = { .dl_primitive = DL_UNITDATA_IND,
				.dl_src_addr_length = ETHER_DLSAP_LEN,
				.dl_src_addr_offset = 4000 };
	us_harness_push_up(h, proto_msg(M_PROTO, &u, sizeof u, NULL, 0));
	us_harness_push_up(h, proto_msg(M_PROTO, "ab", 2, NULL, 0));
	g_assert_cmpuint(us_harness_count_up(h), ==, 2);
	freemsg(us_harness_pull_up(h));
	freemsg(us_harness_pull_up(h));
	expect_quiet(h);
	us_harness_free(h);
}

/* Everything that is not ARP passes both ways unchanged. */
static void
test_passthrough(void)
{
	UsHarness *h = fake_new();
	us_harness_push_up(h, unitdata_ind(MAC_US, MAC_PEER, ETHER_T_IPV4, payload(9, 20)));
	mblk_t *mp = us_harness_pull_up(h);
	g_assert_cmphex(prim_of(mp), ==, DL_UNITDATA_IND);
	g_assert_cmpuint(msgdsize(mp->b_cont), ==, 20);
	freemsg(mp);
	us_harness_push_up_data(h, "fastpath", 8);
	mp = us_harness_pull_up(h);
	g_assert_cmphex(DB_TYPE(mp), ==, M_DATA);
	freemsg(mp);
	/* an ordinary 8-byte DLSAP request goes down untouched */
	uint8_t dlsap[ETHER_DLSAP_LEN];
	ether_dlsap_make(dlsap, MAC_PEER, ETHER_T_IPV4);
	dl_unitdata_req_t req = { .dl_primitive = DL_UNITDATA_REQ,
				  .dl_dest_addr_length = ETHER_DLSAP_LEN,
				  .dl_dest_addr_offset = sizeof req };
	mblk_t *r = proto_msg(M_PROTO, &req, sizeof req, dlsap, sizeof dlsap);
	r->b_cont = payload(4, 20);
	us_harness_push_down(h, r);
	expect_packet_down(h, MAC_PEER, 4);
	us_harness_push_down_data(h, "frame", 5);
	mp = us_harness_pull_down(h);
	g_assert_cmphex(DB_TYPE(mp), ==, M_DATA);
	freemsg(mp);
	/* unknown ioctls go down */
	mblk_t *io = mkiocb(('Z' << 8) | 1);
	us_harness_push_down(h, io);
	mp = us_harness_pull_down(h);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCTL);
	freemsg(mp);
	/* broadcast and multicast next hops need no resolution */
	us_harness_push_down(h, nh_unitdata(ip4(255, 255, 255, 255), 5));
	expect_packet_down(h, MAC_BCAST, 5);
	us_harness_push_down(h, nh_unitdata(ip4(224, 129, 2, 3), 6));
	static const uint8_t mcast[ETHER_ALEN] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
	expect_packet_down(h, mcast, 6);
	us_harness_push_down(h, nh_unitdata(0, 7));
	g_assert_cmpuint(drops(h, ARP_DROP_BAD_NEXTHOP), ==, 1);
	/* M_FLUSH is handled canonically: passes on */
	mblk_t *f = allocb(1, BPRI_HI);
	DB_TYPE(f) = M_FLUSH;
	*f->b_wptr++ = FLUSHW;
	us_harness_push_down(h, f);
	mp = us_harness_pull_down(h);
	g_assert_cmphex(DB_TYPE(mp), ==, M_FLUSH);
	freemsg(mp);
	expect_quiet(h);
	us_harness_free(h);
}

/* DL_IOC_HDR_INFO with a next hop: EAGAIN while unresolved (and a request
 * goes out), rewritten for ether once resolved, EHOSTUNREACH when failed. */
static void
hdr_info(UsHarness *h, uint32_t nh)
{
	struct {
		dl_unitdata_req_t req;
		uint8_t dest[ARP_NH_LEN];
	} r = { .req = { .dl_primitive = DL_UNITDATA_REQ,
			 .dl_dest_addr_length = ARP_NH_LEN,
			 .dl_dest_addr_offset = sizeof r.req } };
	arp_nh_make(r.dest, nh, ETHER_T_IPV4);
	mblk_t *io = mkiocb(DL_IOC_HDR_INFO);
	io->b_cont = us_msg_from(&r, sizeof r.req + ARP_NH_LEN, 0);
	((struct iocblk *)io->b_rptr)->ioc_count = sizeof r.req + ARP_NH_LEN;
	us_harness_push_down(h, io);
}

static void
expect_nak_up(UsHarness *h, int err)
{
	mblk_t *mp = us_harness_pull_up(h);
	g_assert_nonnull(mp);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCNAK);
	g_assert_cmpint(((struct iocblk *)mp->b_rptr)->ioc_error, ==, err);
	freemsg(mp);
}

static void
test_hdr_info(void)
{
	UsHarness *h = fake_new();
	set_param(h, ARP_PARAM_RETRIES, "1");
	hdr_info(h, IP_PEER);
	expect_nak_up(h, EAGAIN);
	expect_request(h, IP_PEER, NULL);
	hdr_info(h, IP_PEER);
	expect_nak_up(h, EAGAIN);
	expect_quiet(h); /* no second request */
	peer_reply(h, MAC_PEER, IP_PEER);
	hdr_info(h, IP_PEER);
	mblk_t *mp = us_harness_pull_down(h);
	g_assert_nonnull(mp);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCTL);
	const struct iocblk *io = (const struct iocblk *)mp->b_rptr;
	g_assert_cmpuint(io->ioc_cmd, ==, DL_IOC_HDR_INFO);
	g_assert_cmpuint(io->ioc_count, ==, msgdsize(mp->b_cont));
	dl_unitdata_req_t req;
	prim_read(mp->b_cont, &req, sizeof req);
	g_assert_cmpuint(req.dl_dest_addr_length, ==, ETHER_DLSAP_LEN);
	const uint8_t *d = mp->b_cont->b_rptr + req.dl_dest_addr_offset;
	g_assert_cmpmem(d, ETHER_ALEN, MAC_PEER, ETHER_ALEN);
	g_assert_cmphex(ether_dlsap_sap(d), ==, ETHER_T_IPV4);
	freemsg(mp);
	hdr_info(h, IP_PEER2);
	expect_nak_up(h, EAGAIN);
	expect_request(h, IP_PEER2, NULL);
	us_harness_advance(h, 1000 * MS);
	hdr_info(h, IP_PEER2);
	expect_nak_up(h, EHOSTUNREACH);
	hdr_info(h, 0);
	expect_nak_up(h, EINVAL);
	expect_quiet(h);
	g_assert_cmpuint(arp_stat(h, ARP_STAT_UNREACH_IND), ==, 0); /* nothing waited */
	us_harness_free(h);
}

/* ioctl argument checks. */
static void
test_ioctl_errors(void)
{
	UsHarness *h = fake_new();
	g_assert_cmpint(ioc(h, ARP_ADD_LOCAL, NULL, 0, NULL), ==, EINVAL);
	g_assert_cmpint(ioc(h, ARP_ADD_STATIC, "xx", 2, NULL), ==, EINVAL);
	g_assert_cmpint(ioc(h, ARP_DEL_ENTRY, NULL, 0, NULL), ==, EINVAL);
	for (uint8_t i = 2; i < 2 + ARP_LOCAL_MAX - 1; i++)
		g_assert_cmpint(ioc_addr(h, ARP_ADD_LOCAL, ip4(10, 1, 0, i)), ==, 0);
	g_assert_cmpint(ioc_addr(h, ARP_ADD_LOCAL, ip4(10, 2, 0, 1)), ==, ENOSPC);
	GError *error = NULL;
	g_assert_false(us_param_set(us_harness_rq(h), ARP_PARAM_QUEUE_MAX, "0", &error));
	g_clear_error(&error);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* 2. Two stacks on a wire                                            */
/* ------------------------------------------------------------------ */

typedef struct {
	UsStack *stack;
	UsStream *st;
	uint32_t ip;
	const char *mac;
} Host;

typedef struct {
	UsWorld *world;
	gint64 live0;
	Host a, b;
} Net;

/* The queue of module `name` on st's stream (its write queue). */
static queue_t *
module_wq(UsStream *st, const char *name)
{
	for (queue_t *q = us_stream_head_wq(st)->q_next; q != NULL; q = q->q_next) {
		const UsModuleDesc *d = us_queue_desc(q);
		if (d != NULL && strcmp(d->name, name) == 0)
			return q;
	}
	g_assert_not_reached();
	return NULL;
}

static void
mod_param(UsStream *st, const char *mod, const char *name, const char *value)
{
	GError *error = NULL;
	g_assert_true(us_param_set(module_wq(st, mod), name, value, &error));
	g_assert_no_error(error);
}

static guint64
mod_stat(UsStream *st, const char *mod, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(module_wq(st, mod), name, &v));
	return v;
}

/* Sends an I_STR-style ioctl down st and returns the reply's error. */
static int
head_ioctl(UsWorld *w, UsStream *st, int cmd, const void *data, size_t len)
{
	mblk_t *mp = mkiocb((unsigned int)cmd);
	struct iocblk *io = (struct iocblk *)mp->b_rptr;
	io->ioc_count = len;
	if (len > 0)
		mp->b_cont = us_msg_from(data, len, 0);
	put(us_stream_head_wq(st), mp);
	us_world_run_pending(w);
	mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	g_assert_true(DB_TYPE(mp) == M_IOCACK || DB_TYPE(mp) == M_IOCNAK);
	int err = DB_TYPE(mp) == M_IOCACK ? 0 : ((struct iocblk *)mp->b_rptr)->ioc_error;
	freemsg(mp);
	return err;
}

/* Opens drv / ether / arp on host, owning ip with mac, bound to IPv4. */
static void
host_plumb(Net *n, Host *hst, const char *drv)
{
	hst->st = ustest_open(hst->stack, drv);
	GError *error = NULL;
	g_assert_cmpint(us_stream_push(hst->st, "ether", &error), ==, 0);
	g_assert_no_error(error);
	g_assert_cmpint(us_stream_push(hst->st, "arp", &error), ==, 0);
	g_assert_no_error(error);
	us_world_run_pending(n->world);
	g_assert_null(us_plain_head_get(hst->st));    /* arp's acks stay in arp */
	mod_param(hst->st, "ether", "mac", hst->mac); /* arp follows */
	us_world_run_pending(n->world);
	g_assert_null(us_plain_head_get(hst->st));
}

static void
host_bind_ipv4(Net *n, Host *hst)
{
	dl_bind_req_t br = { .dl_primitive = DL_BIND_REQ,
			     .dl_sap = ETHER_T_IPV4,
			     .dl_service_mode = DL_CLDLS };
	put(us_stream_head_wq(hst->st), proto_msg(M_PROTO, &br, sizeof br, NULL, 0));
	us_world_run_pending(n->world);
	mblk_t *mp = us_plain_head_get(hst->st);
	g_assert_nonnull(mp);
	g_assert_cmphex(prim_of(mp), ==, DL_BIND_ACK);
	freemsg(mp);
	struct arp_addr_req r = { .addr = hst->ip };
	g_assert_cmpint(head_ioctl(n->world, hst->st, ARP_ADD_LOCAL, &r, sizeof r), ==, 0);
}

static void
net_init(Net *n, guint64 seed, double loss)
{
	n->live0 = us_msg_live_count();
	n->world = us_world_new(US_CLOCK_VIRTUAL, seed);
	n->a = (Host){ us_stack_new(n->world, "a"), NULL, ip4(192, 168, 1, 1),
		       "02:aa:00:00:00:01" };
	n->b = (Host){ us_stack_new(n->world, "b"), NULL, ip4(192, 168, 1, 2),
		       "02:bb:00:00:00:02" };
	host_plumb(n, &n->a, "wire");
	host_plumb(n, &n->b, "wire");
	char l[32];
	g_snprintf(l, sizeof l, "%g", loss);
	ustest_param(n->a.st, "loss", l);
	ustest_param(n->b.st, "loss", l);
	ustest_param(n->a.st, "name", "arp-link");
	ustest_param(n->b.st, "name", "arp-link");
	host_bind_ipv4(n, &n->a);
	host_bind_ipv4(n, &n->b);
	us_world_advance(n->world, 10 * US_NSEC_PER_SEC); /* announcements done */
}

static void
net_fini(Net *n)
{
	us_world_free(n->world);
	g_assert_cmpint(us_msg_live_count(), ==, n->live0);
}

/* from sends a packet with tag to to's address. */
static void
host_send(Host *from, const Host *to, uint8_t tag)
{
	put(us_stream_head_wq(from->st), nh_unitdata(to->ip, tag));
}

/* Takes what arrived at hst's head: the number of IPv4 packets with tag
 * from mac (other messages are checked and freed). */
static guint
host_collect(Host *hst, const char *from_mac, uint8_t tag)
{
	uint8_t mac[ETHER_ALEN];
	g_assert_true(ether_addr_parse(from_mac, mac));
	guint got = 0;
	mblk_t *mp;
	while ((mp = us_plain_head_get(hst->st)) != NULL) {
		g_assert_cmphex(DB_TYPE(mp), ==, M_PROTO);
		g_assert_cmphex(prim_of(mp), !=, ARP_UNREACH_IND); /* resolution never fails */
		dl_unitdata_ind_t u;
		prim_read(mp, &u, sizeof u);
		g_assert_cmphex(u.dl_primitive, ==, DL_UNITDATA_IND);
		const uint8_t *s = mp->b_rptr + u.dl_src_addr_offset;
		g_assert_cmpmem(s, ETHER_ALEN, mac, ETHER_ALEN);
		g_assert_cmphex(ether_dlsap_sap(s), ==, ETHER_T_IPV4);
		g_assert_cmpuint(msgdsize(mp->b_cont), ==, 20);
		uint8_t first = 0;
		us_msgcopyout(mp->b_cont, 0, &first, 1); /* the first block may be empty */
		if (first == tag)
			got++;
		freemsg(mp);
	}
	return got;
}

static void
test_wire_resolve(void)
{
	Net n;
	net_init(&n, 1, 0);
	host_send(&n.a, &n.b, 0x41);
	us_world_advance(n.world, 100 * MS);
	g_assert_cmpuint(host_collect(&n.b, n.a.mac, 0x41), ==, 1);
	host_send(&n.b, &n.a, 0x42); /* b learnt a from its request */
	us_world_advance(n.world, 100 * MS);
	g_assert_cmpuint(host_collect(&n.a, n.b.mac, 0x42), ==, 1);
	g_assert_cmpuint(mod_stat(n.a.st, "arp", ARP_STAT_REQUESTS_OUT), ==, 1);
	g_assert_cmpuint(mod_stat(n.b.st, "arp", ARP_STAT_REQUESTS_OUT), ==, 0);
	g_assert_cmpuint(mod_stat(n.b.st, "arp", ARP_STAT_REPLIES_OUT), ==, 1);
	g_assert_cmpuint(mod_stat(n.a.st, "arp", ARP_STAT_RESOLVED), ==, 1);
	g_assert_cmpuint(mod_stat(n.a.st, "arp", ARP_STAT_ANNOUNCEMENTS), ==, 2);
	/* the other side's announcements found no entry */
	g_assert_cmpuint(us_drop_count(module_wq(n.a.st, "arp"), ARP_DROP_GRATUITOUS), ==, 2);
	net_fini(&n);
}

/* DL_IOC_HDR_INFO for a next hop through the real ether: EAGAIN first, then
 * ether's prebuilt header for the resolved MAC; fast-path M_DATA then
 * reaches the other side. */
static mblk_t *
head_hdr_info(UsWorld *w, UsStream *st, uint32_t nh)
{
	struct {
		dl_unitdata_req_t req;
		uint8_t dest[ARP_NH_LEN];
	} r = { .req = { .dl_primitive = DL_UNITDATA_REQ,
			 .dl_dest_addr_length = ARP_NH_LEN,
			 .dl_dest_addr_offset = sizeof r.req } };
	arp_nh_make(r.dest, nh, ETHER_T_IPV4);
	mblk_t *mp = mkiocb(DL_IOC_HDR_INFO);
	((struct iocblk *)mp->b_rptr)->ioc_count = sizeof r.req + ARP_NH_LEN;
	mp->b_cont = us_msg_from(&r, sizeof r.req + ARP_NH_LEN, 0);
	put(us_stream_head_wq(st), mp);
	us_world_run_pending(w);
	mp = us_plain_head_get(st);
	g_assert_nonnull(mp);
	return mp;
}

static void
test_wire_fastpath(void)
{
	Net n;
	net_init(&n, 1, 0);
	mblk_t *mp = head_hdr_info(n.world, n.a.st, n.b.ip);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCNAK);
	g_assert_cmpint(((struct iocblk *)mp->b_rptr)->ioc_error, ==, EAGAIN);
	freemsg(mp);
	us_world_advance(n.world, 100 * MS);
	mp = head_hdr_info(n.world, n.a.st, n.b.ip);
	g_assert_cmphex(DB_TYPE(mp), ==, M_IOCACK);
	g_assert_nonnull(mp->b_cont);
	mblk_t *hdr = mp->b_cont->b_cont;
	g_assert_nonnull(hdr);
	g_assert_cmpuint(MBLKL(hdr), ==, ETHER_HLEN);
	uint8_t amac[ETHER_ALEN], bmac[ETHER_ALEN];
	g_assert_true(ether_addr_parse(n.a.mac, amac));
	g_assert_true(ether_addr_parse(n.b.mac, bmac));
	g_assert_cmpmem(hdr->b_rptr, ETHER_ALEN, bmac, ETHER_ALEN);
	g_assert_cmpmem(hdr->b_rptr + 6, ETHER_ALEN, amac, ETHER_ALEN);
	g_assert_cmphex(ether_get16(hdr->b_rptr + 12), ==, ETHER_T_IPV4);
	mblk_t *frame = copyb(hdr);
	freemsg(mp);
	frame->b_cont = payload(0x43, 20);
	put(us_stream_head_wq(n.a.st), frame);
	us_world_advance(n.world, 10 * MS);
	g_assert_cmpuint(host_collect(&n.b, n.a.mac, 0x43), ==, 1);
	net_fini(&n);
}

/* Over a wire losing 30% of frames, resolution succeeds through retries.
 * The seed is fixed, so the run is the same every time. */
static void
test_wire_lossy(void)
{
	Net n;
	net_init(&n, 3, 0.3); /* a seed where resolution needs retries */
	guint got_b = 0, got_a = 0;
	for (uint8_t i = 0; i < 20 && (got_b == 0 || got_a == 0); i++) {
		if (got_b == 0)
			host_send(&n.a, &n.b, 0x41);
		if (got_a == 0)
			host_send(&n.b, &n.a, 0x42);
		us_world_advance(n.world, 3 * US_NSEC_PER_SEC);
		got_b += host_collect(&n.b, n.a.mac, 0x41);
		got_a += host_collect(&n.a, n.b.mac, 0x42);
	}
	g_assert_cmpuint(got_b, >=, 1);
	g_assert_cmpuint(got_a, >=, 1);
	guint64 req = mod_stat(n.a.st, "arp", ARP_STAT_REQUESTS_OUT) +
		      mod_stat(n.b.st, "arp", ARP_STAT_REQUESTS_OUT);
	g_test_message("requests sent: %" G_GUINT64_FORMAT, req);
	g_assert_cmpuint(req, >=, 3); /* with this seed a's first two requests go unanswered */
	g_assert_cmpuint(ustest_stat(n.a.st, "lost") + ustest_stat(n.b.st, "lost"), >, 0);
	g_assert_cmpuint(mod_stat(n.a.st, "arp", ARP_STAT_FAILED), ==, 0);
	g_assert_cmpuint(mod_stat(n.b.st, "arp", ARP_STAT_FAILED), ==, 0);
	net_fini(&n);
}

/* ------------------------------------------------------------------ */
/* 3. Replay of real captures                                         */
/* ------------------------------------------------------------------ */

static const char *
shared_pcap(const char *rel)
{
	const char *env = g_getenv("US_PCAP_DIR");
	char *dir = env ? g_strdup(env)
			: g_build_filename(g_get_current_dir(), "..", "shared", "pcaps", NULL);
	char *path = g_build_filename(dir, rel, NULL);
	const char *interned = g_intern_string(path);
	g_free(dir);
	g_free(path);
	return interned;
}

/* Frame `index` (1-based) of a capture, or NULL. */
static GBytes *
read_frame(const char *path, guint index, guint *count)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	g_assert_nonnull(p);
	struct pcap_pkthdr *hdr;
	const u_char *data;
	GBytes *out = NULL;
	guint i = 0;
	while (pcap_next_ex(p, &hdr, &data) == 1) {
		i++;
		if (i == index)
			out = g_bytes_new(data, hdr->caplen);
	}
	pcap_close(p);
	if (count != NULL)
		*count = i;
	return out;
}

static gboolean
replay_done(gpointer data)
{
	guint64 eof = 0;
	g_assert_true(us_stat_get(us_stream_driver_rq(data), "eof", &eof));
	return eof != 0;
}

/* Replays capture through pcap / ether / arp owning ip/mac; checks that the
 * output holds exactly one ARP reply, the one frame ref_index of the capture
 * shows (requester = its target). */
static void
replay_one(const char *capture, const char *mac_text, uint32_t ip, guint ref_index)
{
	if (!g_file_test(capture, G_FILE_TEST_EXISTS)) {
		g_test_skip("capture not found");
		return;
	}
	Net n = { .live0 = us_msg_live_count() };
	n.world = us_world_new(US_CLOCK_VIRTUAL, 1);
	n.a = (Host){ us_stack_new(n.world, "replay"), NULL, ip, mac_text };
	host_plumb(&n, &n.a, "pcap");
	mod_param(n.a.st, "arp", ARP_PARAM_ANNOUNCE, "0");
	struct arp_addr_req r = { .addr = ip };
	g_assert_cmpint(head_ioctl(n.world, n.a.st, ARP_ADD_LOCAL, &r, sizeof r), ==, 0);
	char *dir = g_dir_make_tmp("test-arp-XXXXXX", NULL);
	char *out = g_build_filename(dir, "out.pcap", NULL);
	ustest_param(n.a.st, "out", out);
	ustest_param(n.a.st, "in", capture);
	g_assert_true(us_world_run_until(n.world, replay_done, n.a.st, 60 * US_NSEC_PER_SEC));
	us_world_advance(n.world, 10 * MS);
	ustest_param(n.a.st, "out", ""); /* completes the file */
	guint64 replies = mod_stat(n.a.st, "arp", ARP_STAT_REPLIES_OUT);
	us_world_free(n.world);
	g_assert_cmpint(us_msg_live_count(), ==, n.live0);
	g_assert_cmpuint(replies, ==, 1);

	guint nout;
	GBytes *got = read_frame(out, 1, &nout);
	g_assert_cmpuint(nout, ==, 1);
	GBytes *ref = read_frame(capture, ref_index, NULL);
	g_assert_nonnull(ref);
	gsize glen, rlen;
	const uint8_t *g = g_bytes_get_data(got, &glen);
	const uint8_t *f = g_bytes_get_data(ref, &rlen);
	g_assert_cmpuint(glen, >=, ETHER_HLEN + ARP_PKT_LEN);
	g_assert_cmpuint(rlen, >=, ETHER_HLEN + ARP_PKT_LEN);
	/* Ethernet header: to the requester, from us, ARP */
	g_assert_cmpmem(g, 12, f, 12);
	g_assert_cmphex(ether_get16(g + 12), ==, ETHER_T_ARP);
	ArpPkt pg = { 0 }, pf = { 0 };
	g_assert_true(arp_pkt_parse(g + ETHER_HLEN, &pg));
	g_assert_true(arp_pkt_parse(f + ETHER_HLEN, &pf));
	g_assert_cmpuint(pg.op, ==, ARP_OP_REPLY);
	g_assert_cmpuint(pf.op, ==, ARP_OP_REPLY);
	uint8_t mac[ETHER_ALEN];
	g_assert_true(ether_addr_parse(mac_text, mac));
	g_assert_cmpmem(pg.sha, ETHER_ALEN, mac, ETHER_ALEN);
	g_assert_cmpmem(pg.sha, ETHER_ALEN, pf.sha, ETHER_ALEN);
	g_assert_cmphex(pg.spa, ==, ip);
	g_assert_cmphex(pg.spa, ==, pf.spa);
	g_assert_cmpmem(pg.tha, ETHER_ALEN, pf.tha, ETHER_ALEN);
	g_assert_cmphex(pg.tpa, ==, pf.tpa);
	g_bytes_unref(got);
	g_bytes_unref(ref);
	g_unlink(out);
	g_rmdir(dir);
	g_free(out);
	g_free(dir);
}

static void
test_replay_who_has(void)
{
	replay_one(shared_pcap("arp/zeek_arp-who-has.pcap"), "f8:ed:a5:c0:a4:f1", ip4(10, 0, 0, 1),
		   2);
}

static void
test_replay_communityid(void)
{
	replay_one(shared_pcap("arp/zeek_communityid_arp.pcap"), "00:60:08:af:81:03",
		   ip4(192, 150, 187, 14), 3);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	GError *error = NULL;
	if (us_registry_find("arp") == NULL && !us_registry_add(&us_arp_desc, &error))
		g_error("cannot register arp: %s", error->message);
	g_test_add_func("/arp/open/binds", test_open_binds);
	g_test_add_func("/arp/bind/acks-sorted", test_bind_acks_sorted);
	g_test_add_func("/arp/bind/notify-phys-addr", test_notify_phys_addr);
	g_test_add_func("/arp/bind/own-request-refused", test_own_request_refused);
	g_test_add_func("/arp/incomplete/reachable", test_resolve_reachable);
	g_test_add_func("/arp/reachable/stale-reconfirm", test_stale_reconfirm);
	g_test_add_func("/arp/stale/unanswered-removed", test_stale_unanswered);
	g_test_add_func("/arp/incomplete/retries-unreach", test_retries_unreach);
	g_test_add_func("/arp/failed/revived", test_failed_revived);
	g_test_add_func("/arp/queue/bounds", test_queue_bounds);
	g_test_add_func("/arp/input/reply-for-us", test_reply_for_us);
	g_test_add_func("/arp/local/announce", test_announce);
	g_test_add_func("/arp/input/gratuitous", test_gratuitous);
	g_test_add_func("/arp/static/permanent", test_static);
	g_test_add_func("/arp/ioctl/list", test_list);
	g_test_add_func("/arp/ioctl/errors", test_ioctl_errors);
	g_test_add_func("/arp/cache/full", test_cache_full);
	g_test_add_func("/arp/input/malformed", test_malformed);
	g_test_add_func("/arp/passthrough", test_passthrough);
	g_test_add_func("/arp/fastpath/hdr-info", test_hdr_info);
	g_test_add_func("/arp/wire/resolve", test_wire_resolve);
	g_test_add_func("/arp/wire/fastpath", test_wire_fastpath);
	g_test_add_func("/arp/wire/lossy", test_wire_lossy);
	g_test_add_func("/arp/replay/who-has", test_replay_who_has);
	g_test_add_func("/arp/replay/communityid", test_replay_communityid);
	return g_test_run();
}
