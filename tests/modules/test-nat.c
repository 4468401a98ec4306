/* SPDX-License-Identifier: MIT */
/*
 * test-nat.c -- the nat module.
 *
 *  1. Harness tests: nat between a fake ip above and a fake arp below, on a
 *     virtual clock.  Packets go down as DL_UNITDATA_REQ (next-hop form) or
 *     fast-path M_DATA (Ethernet header, also 802.1Q tagged) and come up as
 *     DL_UNITDATA_IND or fast-path M_DATA; every rewrite is checked both ways
 *     for TCP, UDP and ICMP echo against the packet built from scratch with
 *     the translated fields (so every checksum is exactly what a full
 *     recomputation gives) and by summing the checksums again.  Then: the
 *     endpoint-independent mapping, port exhaustion, timeouts per protocol
 *     and TCP state in virtual time, a full table, port forwarding and its
 *     ioctls, ICMP errors both ways (quoted headers and checksums),
 *     fragments, ARP_UNREACH_IND, the address learned or set, the inside
 *     prefixes, shared data blocks never written, and malformed packets
 *     (passed or dropped with their reason).
 *  2. Integration: host 10.0.0.2 -- router 10.0.0.1 / 192.0.2.1 (nat on the
 *     outside) -- server 192.0.2.100 without a route back, in one virtual
 *     world built through the config API: ping, udp-send (also fragmented)
 *     and tcp-source reach the server, which sees 192.0.2.1 as the source
 *     (a UDP socket's recvfrom and a TCP accept on the server); port forwards
 *     let the server reach the host's tcp-sink and http-server; without nat
 *     nothing comes back; the flows expire afterwards.
 */
#include "arp.h"
#include "config.h"
#include "nat.h"

#include "../../modules/ip/inet-cksum.h"

#include <ustreams/debug.h>
#include <ustreams/dlpi.h>
#include <ustreams/harness.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/socket.h>
#include <ustreams/stream.h>
#include <ustreams/ustreams.h>
#include <ustreams/world.h>

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define SEC US_NSEC_PER_SEC
#define MS US_NSEC_PER_MSEC

#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t x[4] = { a, b, c, d };
	uint32_t v;
	memcpy(&v, x, 4);
	return v;
}

#define IN_HOST ip4(10, 0, 0, 2)
#define IN_HOST2 ip4(10, 0, 0, 3)
#define IN_SERVER ip4(10, 0, 0, 5)
#define EXT ip4(192, 0, 2, 1)
#define EXT2 ip4(192, 0, 2, 9)
#define PEER ip4(192, 0, 2, 100)
#define PEER2 ip4(198, 51, 100, 7)

/* ------------------------------------------------------------------ */
/* Packets                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
	uint8_t b[4096];
	size_t len;
} Pkt;

/* What to build: sport is the ICMP identifier, flags the ICMP type. */
typedef struct {
	uint8_t proto;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t flags;
	size_t dlen;
	gboolean nocksum; /* UDP without checksum */
	uint16_t id;
	uint8_t hl; /* IP header length (20 default; more: NOP options) */
} Spec;

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t
get32n(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void
ip_hdr(uint8_t *h, size_t hl, size_t total, uint8_t proto, uint32_t src, uint32_t dst, uint16_t id,
       uint16_t frag)
{
	memset(h, 0, hl);
	h[0] = (uint8_t)(0x40 | (hl / 4));
	put16(h + 2, (uint16_t)total);
	put16(h + 4, id);
	put16(h + 6, frag);
	h[8] = 63;
	h[9] = proto;
	memcpy(h + 12, &src, 4);
	memcpy(h + 16, &dst, 4);
	for (size_t i = 20; i < hl; i++)
		h[i] = 1; /* NOP options */
	uint16_t ck = us_cksum(h, hl);
	memcpy(h + 10, &ck, 2);
}

static Pkt
mk(const Spec *s)
{
	Pkt p = { .len = 0 };
	size_t hl = s->hl ? s->hl : 20;
	uint8_t *l4 = p.b + hl;
	size_t thl = s->proto == P_TCP ? 20 : 8, l4len = thl + s->dlen;
	memset(l4, 0, thl);
	for (size_t i = 0; i < s->dlen; i++)
		l4[thl + i] = (uint8_t)(i * 7 + 3);
	if (s->proto == P_ICMP) {
		l4[0] = s->flags;
		put16(l4 + 4, s->sport);
		put16(l4 + 6, 1); /* sequence */
		uint16_t ck = us_cksum(l4, l4len);
		memcpy(l4 + 2, &ck, 2);
	} else {
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		if (s->proto == P_TCP) {
			put16(l4 + 4, 0x1234);
			put16(l4 + 6, 0x5678);
			l4[12] = 5 << 4;
			l4[13] = s->flags;
			put16(l4 + 14, 65535);
		} else {
			put16(l4 + 4, (uint16_t)l4len);
		}
		size_t ckoff = s->proto == P_TCP ? 16 : 6;
		if (!s->nocksum) {
			uint64_t sum = us_cksum_pseudo(s->src, s->dst, s->proto, (uint16_t)l4len);
			uint16_t ck = us_cksum_finish(us_cksum_add(sum, l4, l4len));
			if (s->proto == P_UDP && ck == 0)
				ck = 0xffff;
			memcpy(l4 + ckoff, &ck, 2);
		}
	}
	ip_hdr(p.b, hl, hl + l4len, s->proto, s->src, s->dst, s->id ? s->id : 0x4242, 0);
	p.len = hl + l4len;
	return p;
}

/* Packets as lvalues (so &TCP(...) can be passed). */
#define PKT(...) (((Pkt[1]){ mk(&(Spec){ __VA_ARGS__ }) })[0])
#define TCP(s, d, sp, dp, fl)                                                                    \
	PKT(.proto = P_TCP, .src = (s), .dst = (d), .sport = (sp), .dport = (dp), .flags = (fl), \
	    .dlen = 10)
#define UDP(s, d, sp, dp) \
	PKT(.proto = P_UDP, .src = (s), .dst = (d), .sport = (sp), .dport = (dp), .dlen = 33)
#define ECHO(s, d, type, ident) \
	PKT(.proto = P_ICMP, .src = (s), .dst = (d), .sport = (ident), .flags = (type), .dlen = 24)

/* An ICMP error from src to dst quoting the first qlen bytes of q. */
static Pkt
mk_icmp_error(uint32_t src, uint32_t dst, uint8_t type, uint8_t code, const Pkt *q, size_t qlen)
{
	Pkt p = { .len = 28 + qlen };
	uint8_t *ic = p.b + 20;
	memset(ic, 0, 8);
	ic[0] = type;
	ic[1] = code;
	memcpy(ic + 8, q->b, qlen);
	uint16_t ck = us_cksum(ic, 8 + qlen);
	memcpy(ic + 2, &ck, 2);
	ip_hdr(p.b, 20, p.len, P_ICMP, src, dst, 0x77, 0);
	return p;
}

#define ICMP_ERROR(...) (((Pkt[1]){ mk_icmp_error(__VA_ARGS__) })[0])

/* Splits a whole datagram at L4 offset cut (a multiple of 8) into a first
 * fragment (MF) and the rest. */
static void
frag_split(const Pkt *w, size_t cut, Pkt *f1, Pkt *f2)
{
	size_t hl = (size_t)(w->b[0] & 15) * 4, l4 = w->len - hl;
	g_assert_cmpuint(cut % 8, ==, 0);
	g_assert_cmpuint(cut, <, l4);
	uint32_t src = get32n(w->b + 12), dst = get32n(w->b + 16);
	ip_hdr(f1->b, hl, hl + cut, w->b[9], src, dst, get16(w->b + 4), 0x2000);
	memcpy(f1->b + hl, w->b + hl, cut);
	f1->len = hl + cut;
	ip_hdr(f2->b, hl, hl + l4 - cut, w->b[9], src, dst, get16(w->b + 4), (uint16_t)(cut / 8));
	memcpy(f2->b + hl, w->b + hl + cut, l4 - cut);
	f2->len = hl + l4 - cut;
}

/* Every checksum of a whole datagram sums right (TCP/UDP with the
 * pseudo-header; a UDP checksum of 0 is none). */
static void
assert_cksums(const Pkt *p)
{
	size_t hl = (size_t)(p->b[0] & 15) * 4, l4len = p->len - hl;
	const uint8_t *l4 = p->b + hl;
	g_assert_cmpuint(us_cksum(p->b, hl), ==, 0);
	if (get16(p->b + 6) & 0x3fff)
		return; /* a fragment: its transport checksum is the datagram's */
	uint8_t proto = p->b[9];
	if (proto == P_ICMP) {
		g_assert_cmpuint(us_cksum(l4, l4len), ==, 0);
	} else if (proto == P_TCP || (proto == P_UDP && get16(l4 + 6) != 0)) {
		uint64_t sum = us_cksum_pseudo(get32n(p->b + 12), get32n(p->b + 16), proto,
					       (uint16_t)l4len);
		g_assert_cmpuint(us_cksum_finish(us_cksum_add(sum, l4, l4len)), ==, 0);
	}
}

static void
assert_pkt_eq(const Pkt *got, const Pkt *want)
{
	g_assert_cmpmem(got->b, got->len, want->b, want->len);
	assert_cksums(got);
}

/* ------------------------------------------------------------------ */
/* Messages                                                           */
/* ------------------------------------------------------------------ */

typedef enum {
	FORM_DLPI, /* DL_UNITDATA_REQ / DL_UNITDATA_IND */
	FORM_FAST, /* fast-path M_DATA (Ethernet header going down) */
	FORM_VLAN, /* fast path with an 802.1Q tag going down */
	FORM_SPLIT /* fast path, the packet in three blocks, the last shared */
} Form;

static const uint8_t ETH_HDR[14] = { 2, 0, 0, 0, 0, 0x64, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
static const uint8_t VLAN_HDR[18] = { 2, 0, 0, 0,    0,    0x64, 2,    0,    0,
				      0, 0, 1, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00 };

static mblk_t *
data_block(const void *p, size_t len)
{
	mblk_t *mp = us_msg_from(p, len, 32); /* headroom, as ip leaves */
	g_assert_nonnull(mp);
	return mp;
}

static mblk_t *
msg_down(const Pkt *p, Form f)
{
	if (f == FORM_DLPI) {
		dl_unitdata_req_t req = { .dl_primitive = DL_UNITDATA_REQ,
					  .dl_dest_addr_length = ARP_NH_LEN,
					  .dl_dest_addr_offset = sizeof req };
		uint8_t buf[sizeof req + ARP_NH_LEN];
		memcpy(buf, &req, sizeof req);
		arp_nh_make(buf + sizeof req, PEER, 0x0800);
		mblk_t *mp = us_msg_from(buf, sizeof buf, 0);
		DB_TYPE(mp) = M_PROTO;
		mp->b_cont = data_block(p->b, p->len);
		return mp;
	}
	uint8_t buf[18 + sizeof p->b];
	size_t l2 = f == FORM_VLAN ? 18 : 14;
	memcpy(buf, f == FORM_VLAN ? VLAN_HDR : ETH_HDR, l2);
	memcpy(buf + l2, p->b, p->len);
	if (f != FORM_SPLIT || p->len < 30)
		return data_block(buf, l2 + p->len);
	/* link header + 10 bytes, the next 20, then the rest shared */
	mblk_t *a = data_block(buf, l2 + 10);
	a->b_cont = data_block(buf + l2 + 10, 20);
	mblk_t *c = data_block(buf + l2 + 30, l2 + p->len - l2 - 30);
	a->b_cont->b_cont = dupb(c);
	freeb(c);
	return a;
}

static mblk_t *
msg_up(const Pkt *p, Form f)
{
	if (f != FORM_DLPI) {
		if (f != FORM_SPLIT || p->len < 24)
			return data_block(p->b, p->len);
		mblk_t *a = data_block(p->b, 24);
		mblk_t *c = data_block(p->b + 24, p->len - 24);
		a->b_cont = dupb(c);
		freeb(c);
		return a;
	}
	dl_unitdata_ind_t ind = { .dl_primitive = DL_UNITDATA_IND,
				  .dl_dest_addr_length = 8,
				  .dl_dest_addr_offset = sizeof ind,
				  .dl_src_addr_length = 8,
				  .dl_src_addr_offset = sizeof ind + 8 };
	uint8_t buf[sizeof ind + 16];
	uint16_t sap = 0x0800;
	memcpy(buf, &ind, sizeof ind);
	memcpy(buf + sizeof ind, ETH_HDR + 6, 6);
	memcpy(buf + sizeof ind + 6, &sap, 2);
	memcpy(buf + sizeof ind + 8, ETH_HDR, 6);
	memcpy(buf + sizeof ind + 14, &sap, 2);
	mblk_t *mp = us_msg_from(buf, sizeof buf, 0);
	DB_TYPE(mp) = M_PROTO;
	mp->b_cont = data_block(p->b, p->len);
	return mp;
}

/* The packet of a message that left nat (consumed), checking that its
 * form (primitive, link header) is the one it entered with. */
static void
msg_take(mblk_t *mp, Form f, gboolean down, Pkt *out)
{
	g_assert_nonnull(mp);
	size_t skip = 0;
	const mblk_t *d = mp;
	uint8_t l2[18];
	if (f == FORM_DLPI) {
		g_assert_cmpint(DB_TYPE(mp), ==, M_PROTO);
		uint32_t prim;
		memcpy(&prim, mp->b_rptr, 4);
		g_assert_cmpuint(prim, ==, down ? DL_UNITDATA_REQ : DL_UNITDATA_IND);
		d = mp->b_cont;
	} else {
		g_assert_cmpint(DB_TYPE(mp), ==, M_DATA);
		if (down) {
			skip = f == FORM_VLAN ? 18 : 14;
			us_msgcopyout(mp, 0, l2, skip);
			g_assert_cmpmem(l2, skip, f == FORM_VLAN ? VLAN_HDR : ETH_HDR, skip);
		}
	}
	out->len = msgdsize(d) - skip;
	g_assert_cmpuint(out->len, <=, sizeof out->b);
	us_msgcopyout(d, skip, out->b, out->len);
	freemsg(mp);
}

/* Sends p down (up) in form f; TRUE and the result in *out when something
 * left at the other end, FALSE when nat dropped it. */
static gboolean
go_out(UsHarness *h, const Pkt *p, Form f, Pkt *out)
{
	us_harness_push_down(h, msg_down(p, f));
	g_assert_cmpuint(us_harness_count_up(h), ==, 0);
	mblk_t *mp = us_harness_pull_down(h);
	if (mp == NULL)
		return FALSE;
	msg_take(mp, f, TRUE, out);
	g_assert_null(us_harness_pull_down(h));
	return TRUE;
}

static gboolean
go_in(UsHarness *h, const Pkt *p, Form f, Pkt *out)
{
	us_harness_push_up(h, msg_up(p, f));
	g_assert_cmpuint(us_harness_count_down(h), ==, 0);
	mblk_t *mp = us_harness_pull_up(h);
	if (mp == NULL)
		return FALSE;
	msg_take(mp, f, FALSE, out);
	g_assert_null(us_harness_pull_up(h));
	return TRUE;
}

/* p must go out (in) as want. */
static void
expect_out(UsHarness *h, const Pkt *p, Form f, const Pkt *want)
{
	Pkt got;
	g_assert_true(go_out(h, p, f, &got));
	assert_pkt_eq(&got, want);
}

static void
expect_in(UsHarness *h, const Pkt *p, Form f, const Pkt *want)
{
	Pkt got;
	g_assert_true(go_in(h, p, f, &got));
	assert_pkt_eq(&got, want);
}

/* p must be dropped going out with reason. */
static void
expect_out_drop(UsHarness *h, const Pkt *p, guint reason)
{
	guint64 before = us_drop_count(us_harness_wq(h), reason);
	Pkt got;
	g_assert_false(go_out(h, p, FORM_DLPI, &got));
	g_assert_cmpuint(us_drop_count(us_harness_wq(h), reason), ==, before + 1);
}

/* ------------------------------------------------------------------ */
/* The harness                                                        */
/* ------------------------------------------------------------------ */

static int
ioc(UsHarness *h, int cmd, const void *data, size_t len, int *rval, void *out, size_t outlen)
{
	mblk_t *mp = us_harness_ioctl(h, cmd, data, len);
	g_assert_nonnull(mp);
	const struct iocblk *io = (const struct iocblk *)mp->b_rptr;
	int err = DB_TYPE(mp) == M_IOCACK ? 0 : io->ioc_error;
	if (rval != NULL)
		*rval = io->ioc_rval;
	if (out != NULL && mp->b_cont != NULL)
		us_msgcopyout(mp->b_cont, 0, out, MIN(outlen, msgdsize(mp->b_cont)));
	freemsg(mp);
	return err;
}

/* ARP_ADD_LOCAL / ARP_DEL_LOCAL as ip sends them: they pass down. */
static void
arp_local(UsHarness *h, int cmd, uint32_t addr)
{
	struct arp_addr_req ar = { .addr = addr };
	g_assert_null(us_harness_ioctl(h, cmd, &ar, sizeof ar));
	mblk_t *mp = us_harness_pull_down(h);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_IOCTL);
	g_assert_cmpint(((struct iocblk *)mp->b_rptr)->ioc_cmd, ==, cmd);
	freemsg(mp);
}

static void
param(UsHarness *h, const char *name, const char *value)
{
	GError *error = NULL;
	g_assert_true(us_param_set(us_harness_rq(h), name, value, &error));
	g_assert_no_error(error);
}

static void
param_refused(UsHarness *h, const char *name, const char *value)
{
	GError *error = NULL;
	g_assert_false(us_param_set(us_harness_rq(h), name, value, &error));
	g_assert_nonnull(error);
	g_error_free(error);
}

static guint64
nstat(UsHarness *h, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(us_harness_rq(h), name, &v));
	return v;
}

/* A nat whose outside address EXT was learned from ARP_ADD_LOCAL. */
static UsHarness *
nat_new(void)
{
	UsHarness *h = us_harness_new("nat");
	arp_local(h, ARP_ADD_LOCAL, EXT);
	return h;
}

static guint
nat_list(UsHarness *h, struct nat_entry_info *e, guint max)
{
	int n = 0;
	size_t len = max * sizeof *e;
	void *buf = g_malloc0(MAX(len, 1));
	g_assert_cmpint(ioc(h, NAT_LIST, buf, len, &n, e, len), ==, 0);
	g_free(buf);
	return (guint)n;
}

static guint
entries(UsHarness *h)
{
	return (guint)nstat(h, NAT_STAT_ENTRIES);
}

/* The first entry of the table. */
static struct nat_entry_info
first_entry(UsHarness *h)
{
	struct nat_entry_info e[1] = { { 0 } };
	g_assert_cmpuint(nat_list(h, e, 1), >=, 1);
	return e[0];
}

/* ------------------------------------------------------------------ */
/* Rewrites                                                           */
/* ------------------------------------------------------------------ */

static const Form all_forms[] = { FORM_DLPI, FORM_FAST, FORM_VLAN, FORM_SPLIT };

/* TCP both ways in every message form, one connection. */
static void
test_tcp_rewrite(void)
{
	UsHarness *h = nat_new();
	Pkt want = TCP(EXT, PEER, 61000, 80, TH_SYN);
	expect_out(h, &TCP(IN_HOST, PEER, 40000, 80, TH_SYN), FORM_DLPI, &want);
	want = TCP(PEER, IN_HOST, 80, 40000, TH_SYN | TH_ACK);
	expect_in(h, &TCP(PEER, EXT, 80, 61000, TH_SYN | TH_ACK), FORM_DLPI, &want);
	for (guint i = 0; i < G_N_ELEMENTS(all_forms); i++) {
		want = TCP(EXT, PEER, 61000, 80, TH_ACK | TH_PSH);
		expect_out(h, &TCP(IN_HOST, PEER, 40000, 80, TH_ACK | TH_PSH), all_forms[i], &want);
		want = TCP(PEER, IN_HOST, 80, 40000, TH_ACK);
		expect_in(h, &TCP(PEER, EXT, 80, 61000, TH_ACK), all_forms[i], &want);
	}
	/* IP options: the transport header is found after them */
	Spec s = { .proto = P_TCP,
		   .src = IN_HOST,
		   .dst = PEER,
		   .sport = 40000,
		   .dport = 80,
		   .flags = TH_ACK,
		   .dlen = 5,
		   .hl = 28 };
	Pkt in = mk(&s);
	s.src = EXT;
	s.sport = 61000;
	want = mk(&s);
	expect_out(h, &in, FORM_FAST, &want);
	g_assert_cmpuint(nstat(h, NAT_STAT_TRANSLATED_OUT), ==, 6);
	g_assert_cmpuint(nstat(h, NAT_STAT_TRANSLATED_IN), ==, 5);
	g_assert_cmpuint(nstat(h, NAT_STAT_NEW_FLOWS), ==, 1);
	struct nat_entry_info e = first_entry(h);
	g_assert_cmpuint(e.proto, ==, P_TCP);
	g_assert_cmpuint(e.state, ==, NAT_ST_ESTABLISHED);
	g_assert_cmpuint(e.in_addr, ==, IN_HOST);
	g_assert_cmpuint(e.in_port, ==, 40000);
	g_assert_cmpuint(e.peer_addr, ==, PEER);
	g_assert_cmpuint(e.peer_port, ==, 80);
	g_assert_cmpuint(e.ext_addr, ==, EXT);
	g_assert_cmpuint(e.ext_port, ==, 61000);
	g_assert_cmpuint(e.flags, ==, NAT_EF_REPLIED);
	g_assert_cmpuint(e.packets_out, ==, 6);
	g_assert_cmpuint(e.packets_in, ==, 5);
	us_harness_free(h);
}

static void
test_udp_rewrite(void)
{
	UsHarness *h = nat_new();
	for (guint i = 0; i < G_N_ELEMENTS(all_forms); i++) {
		Pkt want = UDP(EXT, PEER, 61000, 53);
		expect_out(h, &UDP(IN_HOST, PEER, 5353, 53), all_forms[i], &want);
		want = UDP(PEER, IN_HOST, 53, 5353);
		expect_in(h, &UDP(PEER, EXT, 53, 61000), all_forms[i], &want);
	}
	/* no checksum: stays none */
	Spec s = { .proto = P_UDP,
		   .src = IN_HOST,
		   .dst = PEER,
		   .sport = 5353,
		   .dport = 53,
		   .dlen = 7,
		   .nocksum = TRUE };
	Pkt in = mk(&s);
	s.src = EXT;
	s.sport = 61000;
	Pkt want = mk(&s), got;
	g_assert_true(go_out(h, &in, FORM_DLPI, &got));
	assert_pkt_eq(&got, &want);
	g_assert_cmpuint(get16(got.b + 26), ==, 0);
	/* every payload length, so the updated checksum meets every value */
	for (size_t len = 0; len < 300; len++) {
		Spec u = { .proto = P_UDP,
			   .src = IN_HOST,
			   .dst = PEER,
			   .sport = 5353,
			   .dport = 53,
			   .dlen = len };
		Pkt a = mk(&u);
		g_assert_true(go_out(h, &a, FORM_FAST, &got));
		assert_cksums(&got);
		g_assert_cmpuint(get16(got.b + 20), ==, 61000);
	}
	struct nat_entry_info e = first_entry(h);
	g_assert_cmpuint(e.state, ==, NAT_ST_UDP_STREAM);
	us_harness_free(h);
}

static void
test_icmp_echo(void)
{
	UsHarness *h = nat_new();
	for (guint i = 0; i < G_N_ELEMENTS(all_forms); i++) {
		Pkt want = ECHO(EXT, PEER, 8, 61000);
		expect_out(h, &ECHO(IN_HOST, PEER, 8, 0x5553), all_forms[i], &want);
		want = ECHO(PEER, IN_HOST, 0, 0x5553);
		expect_in(h, &ECHO(PEER, EXT, 0, 61000), all_forms[i], &want);
	}
	/* another host with the same identifier gets another one */
	Pkt want = ECHO(EXT, PEER, 8, 61001);
	expect_out(h, &ECHO(IN_HOST2, PEER, 8, 0x5553), FORM_DLPI, &want);
	want = ECHO(PEER, IN_HOST2, 0, 0x5553);
	expect_in(h, &ECHO(PEER, EXT, 0, 61001), FORM_DLPI, &want);
	/* echo requests to the router and echo replies from it are its own */
	Pkt p = ECHO(PEER, EXT, 8, 99), got;
	g_assert_true(go_in(h, &p, FORM_DLPI, &got));
	assert_pkt_eq(&got, &p);
	p = ECHO(EXT, PEER, 0, 99);
	g_assert_true(go_out(h, &p, FORM_DLPI, &got));
	assert_pkt_eq(&got, &p);
	/* a reply with an unknown identifier is the router's too */
	p = ECHO(PEER, EXT, 0, 61005);
	g_assert_true(go_in(h, &p, FORM_DLPI, &got));
	assert_pkt_eq(&got, &p);
	/* inside echo replies and other ICMP types are not translated */
	expect_out_drop(h, &ECHO(IN_HOST, PEER, 0, 7), NAT_DROP_PROTO);
	expect_out_drop(h, &ECHO(IN_HOST, PEER, 13, 7), NAT_DROP_PROTO);
	g_assert_cmpuint(nstat(h, NAT_STAT_UNTRANSLATABLE), ==, 2);
	g_assert_cmpuint(first_entry(h).state, ==, NAT_ST_ICMP);
	us_harness_free(h);
}

/* RFC 4787 REQ-1: one inside endpoint keeps its external port whatever
 * the peer; filtering is by peer address and port. */
static void
test_mapping(void)
{
	UsHarness *h = nat_new();
	Pkt want = UDP(EXT, PEER, 61000, 53);
	expect_out(h, &UDP(IN_HOST, PEER, 5000, 53), FORM_DLPI, &want);
	want = UDP(EXT, PEER2, 61000, 123);
	expect_out(h, &UDP(IN_HOST, PEER2, 5000, 123), FORM_DLPI, &want);
	want = UDP(EXT, PEER, 61001, 53);
	expect_out(h, &UDP(IN_HOST, PEER, 5001, 53), FORM_DLPI, &want);
	want = UDP(EXT, PEER, 61002, 53);
	expect_out(h, &UDP(IN_HOST2, PEER, 5000, 53), FORM_DLPI, &want);
	/* TCP has its own port space */
	want = TCP(EXT, PEER, 61000, 80, TH_SYN);
	expect_out(h, &TCP(IN_HOST, PEER, 5000, 80, TH_SYN), FORM_DLPI, &want);
	g_assert_cmpuint(entries(h), ==, 5);
	g_assert_cmpuint(nstat(h, NAT_STAT_MAPPINGS), ==, 4);
	/* a peer that was not contacted, or from another port, is filtered */
	Pkt p = UDP(PEER2, EXT, 53, 61000), got;
	g_assert_true(go_in(h, &p, FORM_DLPI, &got));
	assert_pkt_eq(&got, &p); /* untranslated: for the router */
	p = UDP(PEER, EXT, 54, 61000);
	g_assert_true(go_in(h, &p, FORM_DLPI, &got));
	assert_pkt_eq(&got, &p);
	/* the table, ordered by protocol, external port, peer */
	struct nat_entry_info e[8];
	g_assert_cmpuint(nat_list(h, e, 8), ==, 5);
	g_assert_cmpuint(e[0].proto, ==, P_TCP);
	g_assert_cmpuint(e[1].proto, ==, P_UDP);
	g_assert_cmpuint(e[1].ext_port, ==, 61000);
	g_assert_cmpuint(e[1].peer_addr, ==, PEER);
	g_assert_cmpuint(e[2].ext_port, ==, 61000);
	g_assert_cmpuint(e[2].peer_addr, ==, PEER2);
	g_assert_cmpuint(e[3].ext_port, ==, 61001);
	g_assert_cmpuint(e[4].ext_port, ==, 61002);
	g_assert_cmpuint(e[4].in_addr, ==, IN_HOST2);
	/* a short buffer gets what fits, the count says how many there are */
	g_assert_cmpuint(nat_list(h, e, 2), ==, 5);
	int n = 0;
	g_assert_cmpint(ioc(h, NAT_FLUSH, NULL, 0, &n, NULL, 0), ==, 0);
	g_assert_cmpint(n, ==, 5);
	g_assert_cmpuint(entries(h), ==, 0);
	g_assert_cmpuint(nstat(h, NAT_STAT_MAPPINGS), ==, 0);
	us_harness_free(h);
}

static void
test_port_exhaustion(void)
{
	UsHarness *h = nat_new();
	param(h, NAT_PARAM_PORT_MIN, "62000");
	param(h, NAT_PARAM_PORT_MAX, "62001");
	param_refused(h, NAT_PARAM_PORT_MIN, "62002");
	Pkt want = UDP(EXT, PEER, 62000, 9);
	expect_out(h, &UDP(IN_HOST, PEER, 1000, 9), FORM_DLPI, &want);
	want = UDP(EXT, PEER, 62001, 9);
	expect_out(h, &UDP(IN_HOST, PEER, 1001, 9), FORM_DLPI, &want);
	/* a new inside endpoint finds no port; known ones still go out */
	expect_out_drop(h, &UDP(IN_HOST, PEER, 1002, 9), NAT_DROP_PORTS);
	expect_out_drop(h, &UDP(IN_HOST2, PEER, 1000, 9), NAT_DROP_PORTS);
	g_assert_cmpuint(nstat(h, NAT_STAT_PORTS_EXHAUSTED), ==, 2);
	g_assert_cmpuint(entries(h), ==, 2);
	want = UDP(EXT, PEER2, 62000, 9);
	expect_out(h, &UDP(IN_HOST, PEER2, 1000, 9), FORM_DLPI, &want);
	/* TCP and ICMP identifiers have port spaces of their own */
	want = TCP(EXT, PEER, 62000, 9, TH_SYN);
	expect_out(h, &TCP(IN_HOST, PEER, 1002, 9, TH_SYN), FORM_DLPI, &want);
	want = ECHO(EXT, PEER, 8, 62000);
	expect_out(h, &ECHO(IN_HOST, PEER, 8, 1), FORM_DLPI, &want);
	/* the UDP flows expire: their ports are free again */
	us_harness_advance(h, 31 * SEC);
	g_assert_cmpuint(entries(h), ==, 1); /* the TCP SYN_SENT lives 120 s */
	g_assert_cmpuint(nstat(h, NAT_STAT_MAPPINGS), ==, 1);
	want = UDP(EXT, PEER, 62000, 9);
	expect_out(h, &UDP(IN_HOST, PEER, 1002, 9), FORM_DLPI, &want);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Timeouts                                                           */
/* ------------------------------------------------------------------ */

/* Advances to 1 ms before t (s after now) and checks the table holds n,
 * then to t and checks it holds n - 1. */
static void
expect_expiry(UsHarness *h, gint64 secs, guint n)
{
	us_harness_advance(h, secs * SEC - MS);
	g_assert_cmpuint(entries(h), ==, n);
	us_harness_advance(h, MS);
	g_assert_cmpuint(entries(h), ==, n - 1);
}

static void
test_timeouts_udp_icmp(void)
{
	UsHarness *h = nat_new();
	Pkt got;
	g_assert_true(go_out(h, &UDP(IN_HOST, PEER, 1000, 9), FORM_DLPI, &got));
	expect_expiry(h, 30, 1);
	/* replied: 180 s, every packet either way restarts it */
	g_assert_true(go_out(h, &UDP(IN_HOST, PEER, 1000, 9), FORM_DLPI, &got));
	us_harness_advance(h, 10 * SEC);
	g_assert_true(go_in(h, &UDP(PEER, EXT, 9, get16(got.b + 20)), FORM_DLPI, &got));
	g_assert_cmpuint(first_entry(h).state, ==, NAT_ST_UDP_STREAM);
	g_assert_cmpuint(first_entry(h).expires_ms, ==, 180000);
	us_harness_advance(h, 100 * SEC);
	g_assert_true(go_out(h, &UDP(IN_HOST, PEER, 1000, 9), FORM_DLPI, &got));
	expect_expiry(h, 180, 1);
	/* ICMP echo: 30 s */
	g_assert_true(go_out(h, &ECHO(IN_HOST, PEER, 8, 1), FORM_DLPI, &got));
	expect_expiry(h, 30, 1);
	/* configurable */
	param(h, NAT_PARAM_UDP_S, "5");
	param(h, NAT_PARAM_ICMP_S, "2");
	g_assert_true(go_out(h, &UDP(IN_HOST, PEER, 1000, 9), FORM_DLPI, &got));
	g_assert_true(go_out(h, &ECHO(IN_HOST, PEER, 8, 1), FORM_DLPI, &got));
	expect_expiry(h, 2, 2);
	expect_expiry(h, 3, 1);
	g_assert_cmpuint(nstat(h, NAT_STAT_EXPIRED), ==, 5);
	g_assert_cmpuint(nstat(h, NAT_STAT_NEW_FLOWS), ==, 5);
	us_harness_free(h);
}

/* A segment of one TCP connection (out: from the inside host) and the
 * state it must leave the entry in. */
static void
tcp_seg(UsHarness *h, gboolean out, uint8_t flags, uint8_t state)
{
	Pkt got;
	if (out)
		g_assert_true(go_out(h, &TCP(IN_HOST, PEER, 40000, 80, flags), FORM_FAST, &got));
	else
		g_assert_true(go_in(h, &TCP(PEER, EXT, 80, first_entry(h).ext_port, flags),
				    FORM_FAST, &got));
	assert_cksums(&got);
	g_assert_cmpuint(first_entry(h).state, ==, state);
}

static void
test_timeouts_tcp(void)
{
	UsHarness *h = nat_new();
	tcp_seg(h, TRUE, TH_SYN, NAT_ST_SYN_SENT);
	expect_expiry(h, 120, 1);
	tcp_seg(h, TRUE, TH_SYN, NAT_ST_SYN_SENT);
	tcp_seg(h, FALSE, TH_SYN | TH_ACK, NAT_ST_ESTABLISHED);
	tcp_seg(h, TRUE, TH_ACK, NAT_ST_ESTABLISHED);
	expect_expiry(h, 432000, 1); /* 5 days */
	/* closing: one FIN, then the other, then TIME_WAIT's 120 s */
	tcp_seg(h, TRUE, TH_SYN, NAT_ST_SYN_SENT);
	tcp_seg(h, FALSE, TH_SYN | TH_ACK, NAT_ST_ESTABLISHED);
	tcp_seg(h, TRUE, TH_FIN | TH_ACK, NAT_ST_FIN_WAIT);
	g_assert_cmpuint(first_entry(h).expires_ms, ==, 120000);
	tcp_seg(h, FALSE, TH_ACK, NAT_ST_FIN_WAIT);
	tcp_seg(h, FALSE, TH_FIN | TH_ACK, NAT_ST_TIME_WAIT);
	tcp_seg(h, TRUE, TH_ACK, NAT_ST_TIME_WAIT);
	us_harness_advance(h, 60 * SEC);
	/* the same ports again: a new SYN reopens the entry */
	tcp_seg(h, TRUE, TH_SYN, NAT_ST_SYN_SENT);
	tcp_seg(h, FALSE, TH_SYN | TH_ACK, NAT_ST_ESTABLISHED);
	/* a RST (either way) closes: 10 s, even from 5 days */
	tcp_seg(h, FALSE, TH_RST, NAT_ST_CLOSE);
	expect_expiry(h, 10, 1);
	/* FIN_WAIT alone times out at 120 s; parameters change it */
	param(h, NAT_PARAM_TCP_FIN_WAIT_S, "7");
	tcp_seg(h, TRUE, TH_SYN, NAT_ST_SYN_SENT);
	tcp_seg(h, FALSE, TH_SYN | TH_ACK, NAT_ST_ESTABLISHED);
	tcp_seg(h, FALSE, TH_FIN | TH_ACK, NAT_ST_FIN_WAIT);
	expect_expiry(h, 7, 1);
	/* a segment of no connection that is not a SYN is not let out */
	expect_out_drop(h, &TCP(IN_HOST, PEER, 40000, 80, TH_ACK), NAT_DROP_TCP_NOT_SYN);
	expect_out_drop(h, &TCP(IN_HOST, PEER, 40000, 80, TH_SYN | TH_ACK), NAT_DROP_TCP_NOT_SYN);
	expect_out_drop(h, &TCP(IN_HOST, PEER, 40000, 80, TH_RST), NAT_DROP_TCP_NOT_SYN);
	g_assert_cmpuint(nstat(h, NAT_STAT_EXPIRED), ==, 4);
	us_harness_free(h);
}

/* Many flows with different deadlines expire in order, one timer. */
static void
test_timeouts_many(void)
{
	UsHarness *h = nat_new();
	Pkt got;
	gint64 t0 = us_harness_now(h);
	/* flow i at i * 100 ms, for 30 s */
	for (guint i = 0; i < 200; i++) {
		g_assert_true(
			go_out(h, &UDP(IN_HOST, PEER, (uint16_t)(1000 + i), 9), FORM_DLPI, &got));
		us_harness_advance(h, 100 * MS);
	}
	/* at 20 s every even one is refreshed: until 50 s */
	for (guint i = 0; i < 200; i += 2)
		g_assert_true(
			go_out(h, &UDP(IN_HOST, PEER, (uint16_t)(1000 + i), 9), FORM_DLPI, &got));
	us_harness_advance(h, t0 + 30150 * MS - us_harness_now(h));
	g_assert_cmpuint(entries(h), ==, 199); /* flow 1 went at 30.1 s */
	us_harness_advance(h, t0 + 49950 * MS - us_harness_now(h));
	g_assert_cmpuint(entries(h), ==, 100); /* flow 199 went at 49.9 s */
	us_harness_advance(h, t0 + 50 * SEC - MS - us_harness_now(h));
	g_assert_cmpuint(entries(h), ==, 100);
	us_harness_advance(h, MS);
	g_assert_cmpuint(entries(h), ==, 0);
	g_assert_cmpuint(nstat(h, NAT_STAT_EXPIRED), ==, 200);
	us_harness_free(h);
}

static void
test_table_full(void)
{
	UsHarness *h = nat_new();
	param(h, NAT_PARAM_MAX_ENTRIES, "2");
	Pkt got, want;
	g_assert_true(go_out(h, &UDP(IN_HOST, PEER, 1000, 9), FORM_DLPI, &got));
	g_assert_true(go_out(h, &TCP(IN_HOST, PEER, 1000, 9, TH_SYN), FORM_DLPI, &got));
	expect_out_drop(h, &UDP(IN_HOST, PEER, 1001, 9), NAT_DROP_TABLE_FULL);
	expect_out_drop(h, &ECHO(IN_HOST, PEER, 8, 3), NAT_DROP_TABLE_FULL);
	g_assert_cmpuint(nstat(h, NAT_STAT_TABLE_FULL), ==, 2);
	/* existing flows are never pushed out */
	want = UDP(EXT, PEER, 61000, 9);
	expect_out(h, &UDP(IN_HOST, PEER, 1000, 9), FORM_DLPI, &want);
	want = UDP(PEER, IN_HOST, 9, 1000);
	expect_in(h, &UDP(PEER, EXT, 9, 61000), FORM_DLPI, &want);
	/* a forwarded port cannot open a flow either */
	param(h, NAT_PARAM_FORWARDS, "udp 53 10.0.0.5:53");
	guint64 before = us_drop_count(us_harness_rq(h), NAT_DROP_TABLE_FULL);
	g_assert_false(go_in(h, &UDP(PEER, EXT, 3333, 53), FORM_DLPI, &got));
	g_assert_cmpuint(us_drop_count(us_harness_rq(h), NAT_DROP_TABLE_FULL), ==, before + 1);
	us_harness_advance(h, 31 * SEC); /* the unreplied TCP SYN_SENT stays */
	g_assert_cmpuint(entries(h), ==, 2);
	us_harness_advance(h, 150 * SEC);
	g_assert_cmpuint(entries(h), ==, 0);
	g_assert_true(go_out(h, &UDP(IN_HOST, PEER, 1001, 9), FORM_DLPI, &got));
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Port forwarding                                                    */
/* ------------------------------------------------------------------ */

static void
test_forward(void)
{
	UsHarness *h = nat_new();
	param(h, NAT_PARAM_FORWARDS, "forward tcp 8080 10.0.0.5:80;  udp 5353 10.0.0.5:53;");
	char *s = us_param_get(us_harness_rq(h), NAT_PARAM_FORWARDS, NULL);
	g_assert_cmpstr(s, ==, "tcp 8080 10.0.0.5:80; udp 5353 10.0.0.5:53");
	g_free(s);
	for (guint i = 0; i < G_N_ELEMENTS(all_forms); i++) {
		uint16_t pp = (uint16_t)(30000 + i);
		Pkt want = TCP(PEER, IN_SERVER, pp, 80, TH_SYN);
		expect_in(h, &TCP(PEER, EXT, pp, 8080, TH_SYN), all_forms[i], &want);
		want = TCP(EXT, PEER, 8080, pp, TH_SYN | TH_ACK);
		expect_out(h, &TCP(IN_SERVER, PEER, 80, pp, TH_SYN | TH_ACK), all_forms[i], &want);
		want = TCP(PEER, IN_SERVER, pp, 80, TH_ACK);
		expect_in(h, &TCP(PEER, EXT, pp, 8080, TH_ACK), all_forms[i], &want);
	}
	struct nat_entry_info e = first_entry(h);
	g_assert_cmpuint(e.flags, ==, NAT_EF_FORWARD | NAT_EF_REPLIED);
	g_assert_cmpuint(e.state, ==, NAT_ST_ESTABLISHED);
	g_assert_cmpuint(e.ext_port, ==, 8080);
	g_assert_cmpuint(e.in_addr, ==, IN_SERVER);
	/* UDP: any first datagram */
	Pkt want = UDP(PEER2, IN_SERVER, 4444, 53);
	expect_in(h, &UDP(PEER2, EXT, 4444, 5353), FORM_DLPI, &want);
	want = UDP(EXT, PEER2, 5353, 4444);
	expect_out(h, &UDP(IN_SERVER, PEER2, 53, 4444), FORM_DLPI, &want);
	/* a TCP segment to the port that opens nothing goes to the router */
	Pkt p = TCP(PEER2, EXT, 1, 8080, TH_ACK), got;
	g_assert_true(go_in(h, &p, FORM_DLPI, &got));
	assert_pkt_eq(&got, &p);
	/* the server's own outbound flows get pool ports, not 8080 */
	want = TCP(EXT, PEER2, 61000, 443, TH_SYN);
	expect_out(h, &TCP(IN_SERVER, PEER2, 80, 443, TH_SYN), FORM_DLPI, &want);
	g_assert_cmpuint(entries(h), ==, 6);

	/* the ioctls */
	struct nat_forward fw[4] = { { 0 } };
	int n = 0;
	g_assert_cmpint(ioc(h, NAT_FORWARD_LIST, fw, sizeof fw, &n, fw, sizeof fw), ==, 0);
	g_assert_cmpint(n, ==, 2);
	g_assert_cmpuint(fw[0].proto, ==, P_TCP);
	g_assert_cmpuint(fw[0].ext_port, ==, 8080);
	g_assert_cmpuint(fw[0].in_addr, ==, IN_SERVER);
	g_assert_cmpuint(fw[0].in_port, ==, 80);
	g_assert_cmpuint(fw[1].proto, ==, P_UDP);
	struct nat_forward add = {
		.proto = P_TCP, .ext_port = 2222, .in_addr = IN_HOST2, .in_port = 22
	};
	g_assert_cmpint(ioc(h, NAT_FORWARD_ADD, &add, sizeof add, NULL, NULL, 0), ==, 0);
	g_assert_cmpint(ioc(h, NAT_FORWARD_ADD, &add, sizeof add, NULL, NULL, 0), ==, EEXIST);
	add.ext_port = 61000; /* held by the server's mapping */
	g_assert_cmpint(ioc(h, NAT_FORWARD_ADD, &add, sizeof add, NULL, NULL, 0), ==, EADDRINUSE);
	add.ext_port = 2223;
	add.proto = P_ICMP;
	g_assert_cmpint(ioc(h, NAT_FORWARD_ADD, &add, sizeof add, NULL, NULL, 0), ==, EINVAL);
	add.proto = P_UDP;
	add.in_addr = ip4(224, 0, 0, 1);
	g_assert_cmpint(ioc(h, NAT_FORWARD_ADD, &add, sizeof add, NULL, NULL, 0), ==, EINVAL);
	g_assert_cmpint(ioc(h, NAT_FORWARD_ADD, &add, 3, NULL, NULL, 0), ==, EINVAL);
	g_assert_cmpint(ioc(h, NAT_FORWARD_LIST, fw, sizeof fw, &n, fw, sizeof fw), ==, 0);
	g_assert_cmpint(n, ==, 3);
	g_assert_cmpuint(fw[1].ext_port, ==, 8080); /* tcp 2222, tcp 8080, udp 5353 */
	s = us_param_get(us_harness_rq(h), NAT_PARAM_FORWARDS, NULL);
	g_assert_cmpstr(s, ==, "tcp 2222 10.0.0.3:22; tcp 8080 10.0.0.5:80; udp 5353 10.0.0.5:53");
	g_free(s);
	/* deleting a rule ends the connections it let in */
	struct nat_forward del = { .proto = P_TCP, .ext_port = 8080 };
	g_assert_cmpint(ioc(h, NAT_FORWARD_DEL, &del, sizeof del, &n, NULL, 0), ==, 0);
	g_assert_cmpint(n, ==, 4);
	g_assert_cmpint(ioc(h, NAT_FORWARD_DEL, &del, sizeof del, &n, NULL, 0), ==, ENOENT);
	g_assert_cmpuint(entries(h), ==, 2);
	p = TCP(PEER, EXT, 30000, 8080, TH_SYN);
	g_assert_true(go_in(h, &p, FORM_DLPI, &got));
	assert_pkt_eq(&got, &p); /* now the router's */
	/* setting the parameter replaces the set: the udp rule stays and
	 * keeps its flow, tcp 2222 goes */
	param(h, NAT_PARAM_FORWARDS, "udp 5353 10.0.0.5:53");
	g_assert_cmpuint(entries(h), ==, 2);
	param_refused(h, NAT_PARAM_FORWARDS, "tcp 80");
	param_refused(h, NAT_PARAM_FORWARDS, "sctp 80 10.0.0.5:80");
	param_refused(h, NAT_PARAM_FORWARDS, "tcp 80 10.0.0.5:0");
	param_refused(h, NAT_PARAM_FORWARDS, "tcp 70000 10.0.0.5:80");
	param_refused(h, NAT_PARAM_FORWARDS, "tcp 80 10.0.0:80");
	param_refused(h, NAT_PARAM_FORWARDS, "tcp 80 10.0.0.5:80; tcp 80 10.0.0.6:80");
	param_refused(h, NAT_PARAM_FORWARDS, "tcp 61000 10.0.0.5:80");
	s = us_param_get(us_harness_rq(h), NAT_PARAM_FORWARDS, NULL);
	g_assert_cmpstr(s, ==, "udp 5353 10.0.0.5:53");
	g_free(s);
	param(h, NAT_PARAM_FORWARDS, "");
	g_assert_cmpuint(entries(h), ==, 1);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* ICMP errors                                                        */
/* ------------------------------------------------------------------ */

static void
test_icmp_error_in(void)
{
	UsHarness *h = nat_new();
	Pkt q_in = UDP(IN_HOST, PEER, 5000, 53), q_out, got;
	g_assert_true(go_out(h, &q_in, FORM_DLPI, &q_out));
	/* port unreachable quoting the whole datagram, and only 8 bytes of it */
	size_t qlens[] = { q_out.len, 28 };
	for (guint i = 0; i < G_N_ELEMENTS(qlens); i++) {
		Pkt err = ICMP_ERROR(PEER, EXT, 3, 3, &q_out, qlens[i]);
		Pkt want = ICMP_ERROR(PEER, IN_HOST, 3, 3, &q_in, qlens[i]);
		expect_in(h, &err, i == 0 ? FORM_DLPI : FORM_SPLIT, &want);
	}
	/* time exceeded about a TCP SYN (quote of 8 bytes: no checksum) and
	 * about an echo request (whole: its ICMP checksum checked) */
	Pkt t_in = TCP(IN_HOST, PEER, 6000, 80, TH_SYN), t_out;
	g_assert_true(go_out(h, &t_in, FORM_FAST, &t_out));
	Pkt want = ICMP_ERROR(PEER2, IN_HOST, 11, 0, &t_in, 28);
	expect_in(h, &ICMP_ERROR(PEER2, EXT, 11, 0, &t_out, 28), FORM_FAST, &want);
	want = ICMP_ERROR(PEER2, IN_HOST, 11, 0, &t_in, t_in.len);
	expect_in(h, &ICMP_ERROR(PEER2, EXT, 11, 0, &t_out, t_out.len), FORM_DLPI, &want);
	Pkt e_in = ECHO(IN_HOST, PEER, 8, 0x5553), e_out;
	g_assert_true(go_out(h, &e_in, FORM_DLPI, &e_out));
	want = ICMP_ERROR(PEER2, IN_HOST, 11, 0, &e_in, e_in.len);
	expect_in(h, &ICMP_ERROR(PEER2, EXT, 11, 0, &e_out, e_out.len), FORM_DLPI, &want);
	Pkt quote = { .len = e_in.len };
	memcpy(quote.b, want.b + 28, e_in.len);
	assert_cksums(&quote); /* the quoted echo request sums right */
	g_assert_cmpuint(nstat(h, NAT_STAT_ICMP_ERRORS), ==, 5);
	/* errors about the router's own packets, or unknown flows, pass as
	 * they are; errors never refresh flows */
	Pkt own = UDP(EXT, PEER, 33000, 53);
	Pkt err = ICMP_ERROR(PEER, EXT, 3, 3, &own, own.len);
	g_assert_true(go_in(h, &err, FORM_DLPI, &got));
	assert_pkt_eq(&got, &err);
	Pkt unk = UDP(EXT, PEER, 61999, 53);
	err = ICMP_ERROR(PEER, EXT, 3, 3, &unk, unk.len);
	g_assert_true(go_in(h, &err, FORM_DLPI, &got));
	assert_pkt_eq(&got, &err);
	/* a quote too short to hold ports passes untouched */
	err = ICMP_ERROR(PEER, EXT, 3, 3, &q_out, 24);
	g_assert_true(go_in(h, &err, FORM_DLPI, &got));
	assert_pkt_eq(&got, &err);
	/* an error 20 s later is translated but does not keep the flow */
	us_harness_advance(h, 20 * SEC);
	want = ICMP_ERROR(PEER, IN_HOST, 3, 3, &q_in, 28);
	expect_in(h, &ICMP_ERROR(PEER, EXT, 3, 3, &q_out, 28), FORM_DLPI, &want);
	g_assert_cmpuint(entries(h), ==, 3);
	us_harness_advance(h, 10 * SEC);
	g_assert_cmpuint(entries(h), ==, 1); /* the TCP SYN_SENT: 120 s */
	err = ICMP_ERROR(PEER, EXT, 3, 3, &q_out, 28);
	g_assert_true(go_in(h, &err, FORM_DLPI, &got));
	assert_pkt_eq(&got, &err); /* the flow is gone */
	us_harness_free(h);
}

static void
test_icmp_error_out(void)
{
	UsHarness *h = nat_new();
	param(h, NAT_PARAM_FORWARDS, "udp 5353 10.0.0.5:53");
	Pkt q_out = UDP(PEER, EXT, 4000, 5353), q_in, got;
	g_assert_true(go_in(h, &q_out, FORM_DLPI, &q_in));
	/* the inside server answers port unreachable */
	Pkt want = ICMP_ERROR(EXT, PEER, 3, 3, &q_out, q_out.len);
	expect_out(h, &ICMP_ERROR(IN_SERVER, PEER, 3, 3, &q_in, q_in.len), FORM_FAST, &want);
	/* the router itself (already the outside address) about the same */
	want = ICMP_ERROR(EXT, PEER, 11, 0, &q_out, 28);
	expect_out(h, &ICMP_ERROR(EXT, PEER, 11, 0, &q_in, 28), FORM_DLPI, &want);
	/* ... or from its inside address */
	want = ICMP_ERROR(EXT, PEER, 3, 4, &q_out, 28);
	expect_out(h, &ICMP_ERROR(ip4(10, 0, 0, 1), PEER, 3, 4, &q_in, 28), FORM_DLPI, &want);
	/* an echo reply going in, quoted by an inside error */
	Pkt e_in, e_out = ECHO(PEER, EXT, 0, 61000);
	g_assert_true(go_out(h, &ECHO(IN_HOST, PEER, 8, 77), FORM_DLPI, &got));
	g_assert_true(go_in(h, &e_out, FORM_DLPI, &e_in));
	want = ICMP_ERROR(EXT, PEER, 3, 1, &e_out, e_out.len);
	expect_out(h, &ICMP_ERROR(IN_HOST, PEER, 3, 1, &e_in, e_in.len), FORM_DLPI, &want);
	g_assert_cmpuint(nstat(h, NAT_STAT_ICMP_ERRORS), ==, 4);
	/* an inside error about no known flow would give the inside address
	 * away: dropped; the router's own pass */
	Pkt other = UDP(PEER2, IN_HOST, 1, 2);
	expect_out_drop(h, &ICMP_ERROR(IN_HOST, PEER2, 3, 3, &other, other.len),
			NAT_DROP_ICMP_NO_FLOW);
	expect_out_drop(h, &ICMP_ERROR(IN_HOST, PEER2, 3, 3, &other, 24), NAT_DROP_MALFORMED);
	Pkt err = ICMP_ERROR(EXT, PEER2, 3, 3, &other, other.len);
	g_assert_true(go_out(h, &err, FORM_DLPI, &got));
	assert_pkt_eq(&got, &err);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Fragments                                                          */
/* ------------------------------------------------------------------ */

static void
test_fragments(void)
{
	UsHarness *h = nat_new();
	Spec s = { .proto = P_UDP,
		   .src = IN_HOST,
		   .dst = PEER,
		   .sport = 7000,
		   .dport = 7,
		   .dlen = 200,
		   .id = 0x1111 };
	Pkt whole = mk(&s), f1, f2, got;
	frag_split(&whole, 96, &f1, &f2);
	/* the first fragment carries the ports; the second gets the address */
	s.src = EXT;
	s.sport = 61000;
	Pkt twhole = mk(&s), t1, t2;
	frag_split(&twhole, 96, &t1, &t2);
	expect_out(h, &f1, FORM_DLPI, &t1);
	expect_out(h, &f2, FORM_FAST, &t2);
	g_assert_cmpuint(nstat(h, NAT_STAT_FRAGS), ==, 1);
	/* the reply, fragmented too */
	Spec r = { .proto = P_UDP,
		   .src = PEER,
		   .dst = EXT,
		   .sport = 7,
		   .dport = 61000,
		   .dlen = 200,
		   .id = 0x2222 };
	Pkt rwhole = mk(&r), r1, r2;
	frag_split(&rwhole, 64, &r1, &r2);
	r.dst = IN_HOST;
	r.dport = 7000;
	Pkt wwhole = mk(&r), w1, w2;
	frag_split(&wwhole, 64, &w1, &w2);
	expect_in(h, &r1, FORM_FAST, &w1);
	expect_in(h, &r2, FORM_DLPI, &w2);
	g_assert_cmpuint(nstat(h, NAT_STAT_FRAGS), ==, 2);
	/* a later fragment before its first: inside, dropped; outside, passed
	 * (perhaps the router's) */
	Spec o = s;
	o.src = IN_HOST;
	o.sport = 7000;
	o.id = 0x3333;
	Pkt ow = mk(&o), o1, o2;
	frag_split(&ow, 96, &o1, &o2);
	expect_out_drop(h, &o2, NAT_DROP_FRAG);
	g_assert_true(go_out(h, &o1, FORM_DLPI, &got)); /* then the first ... */
	g_assert_true(go_out(h, &o2, FORM_DLPI, &got)); /* ... and it is known */
	g_assert_cmpuint(get32n(got.b + 12), ==, EXT);
	Spec u = r;
	u.id = 0x4444;
	u.dst = EXT;
	Pkt uw = mk(&u), u1, u2;
	frag_split(&uw, 64, &u1, &u2);
	g_assert_true(go_in(h, &u2, FORM_DLPI, &got));
	assert_pkt_eq(&got, &u2);
	/* the window closes after frag_timeout_ms */
	us_harness_advance(h, 5 * SEC);
	expect_out_drop(h, &f2, NAT_DROP_FRAG);
	g_assert_true(go_in(h, &r2, FORM_DLPI, &got));
	assert_pkt_eq(&got, &r2);
	/* bounded: the oldest goes */
	param(h, NAT_PARAM_MAX_FRAGS, "2");
	for (uint16_t id = 1; id <= 3; id++) {
		Spec x = o;
		x.id = id;
		Pkt xw = mk(&x), x1, x2;
		frag_split(&xw, 96, &x1, &x2);
		g_assert_true(go_out(h, &x1, FORM_DLPI, &got));
	}
	g_assert_cmpuint(nstat(h, NAT_STAT_FRAGS), ==, 2);
	Spec x = o;
	x.id = 1;
	Pkt xw = mk(&x), x1, x2;
	frag_split(&xw, 96, &x1, &x2);
	expect_out_drop(h, &x2, NAT_DROP_FRAG);
	x.id = 3;
	xw = mk(&x);
	frag_split(&xw, 96, &x1, &x2);
	g_assert_true(go_out(h, &x2, FORM_DLPI, &got));
	/* a first fragment too short for its TCP header is not let out */
	Spec t = { .proto = P_TCP,
		   .src = IN_HOST,
		   .dst = PEER,
		   .sport = 1,
		   .dport = 2,
		   .flags = TH_SYN,
		   .dlen = 40 };
	Pkt tw = mk(&t), tf1, tf2;
	frag_split(&tw, 16, &tf1, &tf2);
	expect_out_drop(h, &tf1, NAT_DROP_MALFORMED);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Addresses, inside prefixes, ARP_UNREACH_IND, shared data           */
/* ------------------------------------------------------------------ */

static void
test_address(void)
{
	UsHarness *h = us_harness_new("nat");
	Pkt got, want = { .len = 0 };
	/* nothing known yet: inside packets are not let out with their address */
	expect_out_drop(h, &UDP(IN_HOST, PEER, 1, 2), NAT_DROP_NO_ADDRESS);
	expect_out_drop(h, &ICMP_ERROR(IN_HOST, PEER, 3, 3, &want, 0), NAT_DROP_NO_ADDRESS);
	Pkt p = UDP(PEER, EXT, 1, 2);
	g_assert_true(go_in(h, &p, FORM_DLPI, &got));
	assert_pkt_eq(&got, &p);
	/* learned from the first ARP_ADD_LOCAL, not the second */
	arp_local(h, ARP_ADD_LOCAL, EXT);
	arp_local(h, ARP_ADD_LOCAL, EXT2);
	want = UDP(EXT, PEER, 61000, 2);
	expect_out(h, &UDP(IN_HOST, PEER, 1, 2), FORM_DLPI, &want);
	/* the router's own packets from either address pass */
	p = UDP(EXT, PEER, 1, 2);
	g_assert_true(go_out(h, &p, FORM_DLPI, &got));
	assert_pkt_eq(&got, &p);
	/* forgetting it ends the flows */
	arp_local(h, ARP_DEL_LOCAL, EXT2);
	g_assert_cmpuint(entries(h), ==, 1);
	arp_local(h, ARP_DEL_LOCAL, EXT);
	g_assert_cmpuint(entries(h), ==, 0);
	expect_out_drop(h, &UDP(IN_HOST, PEER, 1, 2), NAT_DROP_NO_ADDRESS);
	arp_local(h, ARP_ADD_LOCAL, EXT2);
	want = UDP(EXT2, PEER, 61001, 2);
	expect_out(h, &UDP(IN_HOST, PEER, 1, 2), FORM_DLPI, &want);
	/* the parameter wins over what was learned */
	param(h, NAT_PARAM_ADDRESS, "192.0.2.1");
	g_assert_cmpuint(entries(h), ==, 0);
	want = UDP(EXT, PEER, 61002, 2);
	expect_out(h, &UDP(IN_HOST, PEER, 1, 2), FORM_DLPI, &want);
	param_refused(h, NAT_PARAM_ADDRESS, "192.0.2");
	param_refused(h, NAT_PARAM_ADDRESS, "0.0.0.0");
	g_assert_cmpuint(entries(h), ==, 1);
	param(h, NAT_PARAM_ADDRESS, "");
	want = UDP(EXT2, PEER, 61003, 2);
	expect_out(h, &UDP(IN_HOST, PEER, 1, 2), FORM_DLPI, &want);
	g_assert_cmpuint(nstat(h, NAT_STAT_UNTRANSLATABLE), ==, 3);
	us_harness_free(h);
}

static void
test_inside(void)
{
	UsHarness *h = nat_new();
	param(h, NAT_PARAM_INSIDE, "10.0.0.0/30, 172.16.0.0/12");
	param_refused(h, NAT_PARAM_INSIDE, "10.0.0.0/33");
	param_refused(h, NAT_PARAM_INSIDE, "10.0.0/8");
	Pkt got, want = UDP(EXT, PEER, 61000, 2);
	expect_out(h, &UDP(IN_HOST, PEER, 1, 2), FORM_DLPI, &want);
	want = UDP(EXT, PEER, 61001, 2);
	expect_out(h, &UDP(ip4(172, 20, 1, 1), PEER, 1, 2), FORM_DLPI, &want);
	/* a source outside the prefixes is not ours to hide */
	Pkt p = UDP(IN_SERVER, PEER, 1, 2);
	g_assert_true(go_out(h, &p, FORM_DLPI, &got));
	assert_pkt_eq(&got, &p);
	param(h, NAT_PARAM_INSIDE, "");
	want = UDP(EXT, PEER, 61002, 2);
	expect_out(h, &UDP(IN_SERVER, PEER, 1, 2), FORM_DLPI, &want);
	us_harness_free(h);
}

static void
test_unreach(void)
{
	UsHarness *h = nat_new();
	Pkt in = UDP(IN_HOST, PEER, 5000, 53), out;
	g_assert_true(go_out(h, &in, FORM_DLPI, &out));
	struct arp_unreach_ind ui = { .prim = ARP_UNREACH_IND, .addr = PEER };
	mblk_t *mp = us_msg_from(&ui, sizeof ui, 0);
	DB_TYPE(mp) = M_PROTO;
	mp->b_cont = data_block(out.b, out.len);
	us_harness_push_up(h, mp);
	mp = us_harness_pull_up(h);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_PROTO);
	Pkt got = { .len = msgdsize(mp->b_cont) };
	us_msgcopyout(mp->b_cont, 0, got.b, got.len);
	freemsg(mp);
	assert_pkt_eq(&got, &in); /* ip quotes the inside source */
	us_harness_free(h);
}

/* Data blocks shared with someone else (TCP's retransmission queue) are
 * never written: the headers are copied out first. */
static void
test_shared_data(void)
{
	UsHarness *h = nat_new();
	Pkt in = TCP(IN_HOST, PEER, 40000, 80, TH_SYN);
	mblk_t *orig = data_block(in.b, in.len);
	mblk_t *dup = dupb(orig);
	dl_unitdata_req_t req = { .dl_primitive = DL_UNITDATA_REQ,
				  .dl_dest_addr_length = ARP_NH_LEN,
				  .dl_dest_addr_offset = sizeof req };
	uint8_t buf[sizeof req + ARP_NH_LEN];
	memcpy(buf, &req, sizeof req);
	arp_nh_make(buf + sizeof req, PEER, 0x0800);
	mblk_t *mp = us_msg_from(buf, sizeof buf, 0);
	DB_TYPE(mp) = M_PROTO;
	mp->b_cont = dup;
	us_harness_push_down(h, mp);
	Pkt got, want = TCP(EXT, PEER, 61000, 80, TH_SYN);
	msg_take(us_harness_pull_down(h), FORM_DLPI, TRUE, &got);
	assert_pkt_eq(&got, &want);
	g_assert_cmpmem(orig->b_rptr, MBLKL(orig), in.b, in.len);
	freemsg(orig);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Malformed input                                                    */
/* ------------------------------------------------------------------ */

static void
push_raw(UsHarness *h, gboolean down, unsigned char type, const void *b, size_t len)
{
	mblk_t *mp = allocb(len + 1, BPRI_MED);
	memcpy(mp->b_wptr, b, len);
	mp->b_wptr += len;
	DB_TYPE(mp) = type;
	if (down)
		us_harness_push_down(h, mp);
	else
		us_harness_push_up(h, mp);
}

static void
test_malformed(void)
{
	UsHarness *h = nat_new();
	Pkt good = UDP(IN_HOST, PEER, 1, 2), bad, got;
	/* coming in, ip judges: everything passes untouched */
	Pkt rep = UDP(PEER, EXT, 2, 61000);
	for (size_t cut = 0; cut < rep.len; cut++) {
		bad = rep;
		bad.len = cut; /* truncated below the total length */
		mblk_t *mp = msg_up(&bad, FORM_FAST);
		us_harness_push_up(h, mp);
		mp = us_harness_pull_up(h);
		g_assert_nonnull(mp);
		g_assert_cmpuint(msgdsize(mp), ==, cut);
		freemsg(mp);
	}
	bad = rep;
	bad.b[0] = 0x65; /* version 6 */
	g_assert_true(go_in(h, &bad, FORM_DLPI, &got));
	g_assert_cmpmem(got.b, got.len, bad.b, bad.len);
	bad = rep;
	bad.b[0] = 0x44; /* IHL 4 */
	g_assert_true(go_in(h, &bad, FORM_FAST, &got));
	g_assert_cmpmem(got.b, got.len, bad.b, bad.len);
	/* a UDP header cut short by the total length: not translatable */
	Spec s = { .proto = P_UDP, .src = PEER, .dst = EXT, .sport = 2, .dport = 61000 };
	bad = mk(&s);
	put16(bad.b + 2, 24);
	bad.len = 24;
	g_assert_true(go_in(h, &bad, FORM_DLPI, &got));
	g_assert_cmpmem(got.b, got.len, bad.b, bad.len);
	/* going out: an inside packet too short for its header is dropped,
	 * a non-IPv4 header too */
	bad = good;
	put16(bad.b + 2, 24);
	bad.len = 24;
	expect_out_drop(h, &bad, NAT_DROP_MALFORMED);
	bad = good;
	put16(bad.b + 2, 2000); /* longer than the frame */
	expect_out_drop(h, &bad, NAT_DROP_MALFORMED);
	bad = good;
	bad.len = 10;
	expect_out_drop(h, &bad, NAT_DROP_MALFORMED);
	/* other protocols from inside are not translated */
	Pkt gre = good;
	gre.b[9] = 47;
	expect_out_drop(h, &gre, NAT_DROP_PROTO);
	/* not IPv4: other ethertypes, odd primitives and scraps pass */
	uint8_t arpframe[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06 };
	push_raw(h, TRUE, M_DATA, arpframe, sizeof arpframe);
	push_raw(h, TRUE, M_DATA, arpframe, 5);
	push_raw(h, TRUE, M_DATA, arpframe, 0);
	uint32_t prim = DL_UNITDATA_REQ;
	push_raw(h, TRUE, M_PROTO, &prim, 4); /* short, no data */
	push_raw(h, FALSE, M_PROTO, &prim, 2);
	prim = DL_UNITDATA_IND;
	push_raw(h, FALSE, M_PROTO, &prim, 4);
	push_raw(h, FALSE, M_DATA, arpframe, 3);
	g_assert_cmpuint(us_harness_count_down(h), ==, 4);
	g_assert_cmpuint(us_harness_count_up(h), ==, 3);
	/* a DL_UNITDATA_REQ with a bad address offset is not looked into */
	dl_unitdata_req_t req = { .dl_primitive = DL_UNITDATA_REQ,
				  .dl_dest_addr_length = ARP_NH_LEN,
				  .dl_dest_addr_offset = 4000 };
	mblk_t *mp = us_msg_from(&req, sizeof req, 0);
	DB_TYPE(mp) = M_PROTO;
	mp->b_cont = data_block(good.b, good.len);
	us_harness_push_down(h, mp);
	g_assert_cmpuint(us_harness_count_down(h), ==, 5);
	/* random bytes, both ways, all forms */
	GRand *r = g_rand_new_with_seed(42);
	for (guint i = 0; i < 3000; i++) {
		Pkt x = i % 2 ? good : rep;
		x.len = (size_t)g_rand_int_range(r, 0, (gint32)x.len + 1);
		for (guint k = 0; k < 3; k++)
			x.b[g_rand_int_range(r, 0, 40)] = (uint8_t)g_rand_int(r);
		Form f = all_forms[i % G_N_ELEMENTS(all_forms)];
		if (i % 3 == 0)
			us_harness_push_down(h, msg_down(&x, f));
		else
			us_harness_push_up(h, msg_up(&x, f));
	}
	g_rand_free(r);
	us_harness_free(h);
}

static void
test_ioctls(void)
{
	UsHarness *h = nat_new();
	/* TRANSPARENT is refused; unknown ioctls pass down */
	mblk_t *mp = mkiocb(NAT_LIST);
	((struct iocblk *)mp->b_rptr)->ioc_count = TRANSPARENT;
	us_harness_push_down(h, mp);
	mp = us_harness_pull_up(h);
	g_assert_cmpint(DB_TYPE(mp), ==, M_IOCNAK);
	g_assert_cmpint(((struct iocblk *)mp->b_rptr)->ioc_error, ==, EINVAL);
	freemsg(mp);
	g_assert_null(us_harness_ioctl(h, ('Z' << 8) | 1, NULL, 0));
	mp = us_harness_pull_down(h);
	g_assert_cmpint(DB_TYPE(mp), ==, M_IOCTL);
	freemsg(mp);
	/* an empty table lists nothing */
	struct nat_entry_info e[1];
	g_assert_cmpuint(nat_list(h, e, 1), ==, 0);
	g_assert_cmpuint(nat_list(h, e, 0), ==, 0);
	us_harness_free(h);
}

/* ------------------------------------------------------------------ */
/* Integration: a router with nat in one virtual world                */
/* ------------------------------------------------------------------ */

/* Static neighbours: the first packets of several apps at once would
 * otherwise overflow arp's queue while it resolves (not nat's business). */
static const char *world_conf =
	"world { clock virtual; seed 3 }\n"
	"wire inside { delay 1ms }\n"
	"wire outside { delay 2ms }\n"
	"stack host {\n"
	"  interface eth0 { driver wire inside; push ether mac=02:00:00:00:0a:02; push arp;"
	" address 10.0.0.2/24 }\n"
	"  route default via 10.0.0.1\n"
	"  neighbor 10.0.0.1 lladdr 02:00:00:00:0a:01 dev eth0\n%s}\n"
	"stack router {\n"
	"  interface eth0 { driver wire inside; push ether mac=02:00:00:00:0a:01; push arp;"
	" address 10.0.0.1/24 }\n"
	"  interface eth1 { driver wire outside; push ether mac=02:00:00:00:c0:01; push arp;"
	" %s address 192.0.2.1/24 }\n"
	"  neighbor 10.0.0.2 lladdr 02:00:00:00:0a:02 dev eth0\n"
	"  neighbor 192.0.2.100 lladdr 02:00:00:00:c0:64 dev eth1\n"
	"  forwarding on\n}\n"
	"stack server {\n"
	"  interface eth0 { driver wire outside; push ether mac=02:00:00:00:c0:64; push arp;"
	" address 192.0.2.100/24 }\n"
	"  neighbor 192.0.2.1 lladdr 02:00:00:00:c0:01 dev eth0\n%s}\n";

static UsCfgRun *
world_build(const char *host_apps, const char *nat, const char *server_apps, UsCfg **cfgp)
{
	char *text = g_strdup_printf(world_conf, host_apps, nat, server_apps);
	GError *error = NULL;
	UsCfg *cfg = us_cfg_parse_text("nat-world.conf", text, &error);
	g_assert_no_error(error);
	g_assert_true(us_cfg_check(cfg, &error));
	g_assert_no_error(error);
	UsCfgRun *run = us_cfg_build(cfg, &error);
	g_assert_no_error(error);
	g_free(text);
	*cfgp = cfg;
	return run;
}

typedef struct {
	queue_t *rq;
} FindNat;

static void
find_nat(UsStream *st, gpointer data)
{
	FindNat *fn = data;
	for (queue_t *q = us_stream_driver_rq(st); q != NULL && SAMESTR(q); q = q->q_next) {
		const UsModuleDesc *d = us_queue_desc(q->q_next);
		if (d != NULL && strcmp(d->name, "nat") == 0)
			fn->rq = q->q_next;
	}
}

static guint64
world_stat(UsCfgRun *run, const char *name)
{
	FindNat fn = { NULL };
	us_stack_foreach_stream(us_cfg_run_stack(run, "router"), find_nat, &fn);
	g_assert_nonnull(fn.rq);
	guint64 v = 0;
	g_assert_true(us_stat_get(fn.rq, name, &v));
	return v;
}

static void
test_world_masquerade(void)
{
	gint64 live0 = us_msg_live_count();
	UsCfg *cfg;
	UsCfgRun *run =
		world_build("  app ping 192.0.2.100 count=3 interval=50ms\n"
			    "  app udp-send 192.0.2.100:7 count=5 size=200\n"
			    "  app udp-send 192.0.2.100:7 count=3 size=3000\n"
			    "  app tcp-source 192.0.2.100:5001 bytes=300k\n",
			    "push nat;", "  app udp-echo port=7\n  app tcp-sink port=5001\n", &cfg);
	gboolean ok = us_cfg_run(run, 0);
	char *s = us_cfg_run_summary(run);
	if (!ok || g_test_verbose())
		g_test_message("%s", s);
	g_assert_true(ok);
	g_assert_nonnull(strstr(s, "ping 192.0.2.100: 3 sent, 3 received, 0% loss"));
	g_assert_nonnull(strstr(s, "5 datagrams of 200 bytes, 5 echoed intact (0 resent"));
	g_assert_nonnull(strstr(s, "3 datagrams of 3000 bytes, 3 echoed intact (0 resent"));
	g_assert_nonnull(strstr(s, "300000 bytes in"));
	g_assert_nonnull(strstr(s, "matches the sink's  [ok]"));
	g_free(s);
	/* the server sees the outside address: a datagram and a connection */
	UsStack *host = us_cfg_run_stack(run, "host"), *server = us_cfg_run_stack(run, "server");
	int us = us_socket(server, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9999) };
	g_assert_cmpint(us_bind(us, (struct sockaddr *)&sin, sizeof sin), ==, 0);
	int uh = us_socket(host, AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "192.0.2.100", &sin.sin_addr);
	g_assert_cmpint(us_sendto(uh, "hi", 2, 0, (struct sockaddr *)&sin, sizeof sin), ==, 2);
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	char buf[16];
	g_assert_cmpint(us_recvfrom(us, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl), ==, 2);
	g_assert_cmpuint(from.sin_addr.s_addr, ==, EXT);
	g_assert_cmpuint(ntohs(from.sin_port), >=, 61000);
	/* the answer goes back through the mapping */
	g_assert_cmpint(us_sendto(us, "ho", 2, 0, (struct sockaddr *)&from, fl), ==, 2);
	g_assert_cmpint(us_recv(uh, buf, sizeof buf, 0), ==, 2);
	g_assert_cmpmem(buf, 2, "ho", 2);
	int ls = us_socket(server, AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = 0;
	sin.sin_port = htons(7000);
	g_assert_cmpint(us_bind(ls, (struct sockaddr *)&sin, sizeof sin), ==, 0);
	g_assert_cmpint(us_listen(ls, 4), ==, 0);
	int th = us_socket(host, AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "192.0.2.100", &sin.sin_addr);
	g_assert_cmpint(us_connect(th, (struct sockaddr *)&sin, sizeof sin), ==, 0);
	fl = sizeof from;
	int ts = us_accept(ls, (struct sockaddr *)&from, &fl);
	g_assert_cmpint(ts, >=, 0);
	g_assert_cmpuint(from.sin_addr.s_addr, ==, EXT);
	g_assert_cmpuint(ntohs(from.sin_port), >=, 61000);
	g_assert_cmpint(us_send(th, "abc", 3, 0), ==, 3);
	g_assert_cmpint(us_recv(ts, buf, sizeof buf, 0), ==, 3);
	us_close(th);
	us_close(ts);
	us_close(ls);
	us_close(uh);
	us_close(us);
	/* what nat counted */
	g_assert_cmpuint(world_stat(run, NAT_STAT_TRANSLATED_OUT), >, 200);
	g_assert_cmpuint(world_stat(run, NAT_STAT_TRANSLATED_IN), >, 100);
	g_assert_cmpuint(world_stat(run, NAT_STAT_NEW_FLOWS), >=, 6);
	g_assert_cmpuint(world_stat(run, NAT_STAT_UNTRANSLATABLE), ==, 0);
	g_assert_cmpuint(world_stat(run, NAT_STAT_ENTRIES), >, 0);
	/* everything expires (TIME_WAIT and CLOSE included) */
	us_world_advance(us_cfg_run_world(run), 200 * SEC);
	g_assert_cmpuint(world_stat(run, NAT_STAT_ENTRIES), ==, 0);
	g_assert_cmpuint(world_stat(run, NAT_STAT_EXPIRED), ==,
			 world_stat(run, NAT_STAT_NEW_FLOWS));
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

/* Without nat the server cannot answer (no route back). */
static void
test_world_without_nat(void)
{
	gint64 live0 = us_msg_live_count();
	UsCfg *cfg;
	UsCfgRun *run = world_build("  app ping 192.0.2.100 count=1 timeout=200ms\n", "", "", &cfg);
	g_assert_false(us_cfg_run(run, 0));
	char *s = us_cfg_run_summary(run);
	g_assert_nonnull(strstr(s, "1 sent, no reply"));
	g_free(s);
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

static char *
http_get(UsStack *stack, const char *addr, guint port, const char *path)
{
	int fd = us_socket(stack, AF_INET, SOCK_STREAM, 0);
	g_assert_cmpint(fd, >=, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, addr, &sin.sin_addr);
	g_assert_cmpint(us_connect(fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
	char *req = g_strdup_printf("GET %s HTTP/1.0\r\n\r\n", path);
	g_assert_cmpint(us_send(fd, req, strlen(req), 0), ==, (ssize_t)strlen(req));
	GString *r = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	while ((n = us_recv(fd, buf, sizeof buf, 0)) > 0)
		g_string_append_len(r, buf, n);
	g_assert_cmpint(n, ==, 0);
	us_close(fd);
	g_free(req);
	return g_string_free(r, FALSE);
}

static void
test_world_forward(void)
{
	gint64 live0 = us_msg_live_count();
	char *dir = g_dir_make_tmp("test-nat-XXXXXX", NULL);
	char *index = g_build_filename(dir, "index.html", NULL);
	g_assert_true(g_file_set_contents(index, "inside\n", -1, NULL));
	char *host_apps = g_strdup_printf("  app tcp-sink port=8080\n"
					  "  app http-server port=8000 root=\"%s\"\n",
					  dir);
	UsCfg *cfg;
	UsCfgRun *run = world_build(
		host_apps, "push nat forwards=\"tcp 8080 10.0.0.2:8080; tcp 80 10.0.0.2:8000\";",
		"  app tcp-source 192.0.2.1:8080 bytes=200k\n", &cfg);
	g_assert_true(us_cfg_run(run, 0));
	/* the outside asks 192.0.2.1:80 and the inside server on 8000 answers */
	char *r = http_get(us_cfg_run_stack(run, "server"), "192.0.2.1", 80, "/");
	g_assert_true(g_str_has_prefix(r, "HTTP/1.0 200 OK\r\n"));
	g_assert_true(g_str_has_suffix(r, "\r\n\r\ninside\n"));
	g_free(r);
	char *s = us_cfg_run_summary(run);
	g_assert_nonnull(strstr(s, "tcp-source 192.0.2.1:8080: 200000 bytes in"));
	g_assert_nonnull(strstr(s, "matches the sink's  [ok]"));
	g_assert_nonnull(strstr(s, "tcp-sink port 8080: 1 connection(s) read to the end, 200000"));
	g_assert_nonnull(strstr(s, "1 file(s) served (7 bytes)"));
	g_free(s);
	/* an unforwarded port reaches the router itself, which refuses */
	int fd = us_socket(us_cfg_run_stack(run, "server"), AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(81) };
	sin.sin_addr.s_addr = EXT;
	g_assert_cmpint(us_connect(fd, (struct sockaddr *)&sin, sizeof sin), ==, -1);
	g_assert_cmpint(errno, ==, ECONNREFUSED);
	us_close(fd);
	g_assert_cmpuint(world_stat(run, NAT_STAT_NEW_FLOWS), ==, 2);
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
	g_unlink(index);
	g_rmdir(dir);
	g_free(index);
	g_free(dir);
	g_free(host_apps);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/nat/tcp/rewrite", test_tcp_rewrite);
	g_test_add_func("/nat/udp/rewrite", test_udp_rewrite);
	g_test_add_func("/nat/icmp/echo", test_icmp_echo);
	g_test_add_func("/nat/mapping/endpoint-independent", test_mapping);
	g_test_add_func("/nat/mapping/port-exhaustion", test_port_exhaustion);
	g_test_add_func("/nat/timeout/udp-icmp", test_timeouts_udp_icmp);
	g_test_add_func("/nat/timeout/tcp-states", test_timeouts_tcp);
	g_test_add_func("/nat/timeout/many", test_timeouts_many);
	g_test_add_func("/nat/table-full", test_table_full);
	g_test_add_func("/nat/forward", test_forward);
	g_test_add_func("/nat/icmp-error/in", test_icmp_error_in);
	g_test_add_func("/nat/icmp-error/out", test_icmp_error_out);
	g_test_add_func("/nat/fragments", test_fragments);
	g_test_add_func("/nat/address", test_address);
	g_test_add_func("/nat/inside", test_inside);
	g_test_add_func("/nat/arp-unreach", test_unreach);
	g_test_add_func("/nat/shared-data", test_shared_data);
	g_test_add_func("/nat/malformed", test_malformed);
	g_test_add_func("/nat/ioctls", test_ioctls);
	g_test_add_func("/nat/world/masquerade", test_world_masquerade);
	g_test_add_func("/nat/world/without-nat", test_world_without_nat);
	g_test_add_func("/nat/world/forward", test_world_forward);
	return g_test_run();
}
