/* SPDX-License-Identifier: MIT */
/*
 * test-ip.c -- the ip multiplexor through the stream head, in virtual time:
 *  1. management ioctls (interfaces, addresses, routes) and their errors;
 *  2. input checks: each malformed datagram is dropped under its reason;
 *  3. ICMP: echo, protocol unreachable, parameter problem, rate limiting;
 *  4. fragments: reassembly of out-of-order fragments, overlaps, timeout;
 *  5. output: errors to the transport, fragmentation, loopback, IDs;
 *  6. a topology A -- R -- B on two wires: ping through the router, TTL
 *     exceeded, fragmentation needed on a small-MTU link, ARP failure.
 * A "peer" writes and reads raw frames on the other end of a wire; a fake
 * transport speaks ip.h's primitives on an ip upper stream.
 */
#include "iptest.h"

#define MAC_H "02:00:00:00:00:01"
#define MAC_P "02:00:00:00:00:02"

typedef struct {
	UsWorld *w;
	UsStack *h, *p;
	int ipfd, peer;
	uint32_t a_h, a_p;
	gint64 live0;
	guint fds0;
} Lan;

static void
lan_init(Lan *l)
{
	l->live0 = us_msg_live_count();
	l->fds0 = us_fd_count();
	l->w = us_world_new(US_CLOCK_VIRTUAL, 7);
	l->h = us_stack_new(l->w, "h");
	l->p = us_stack_new(l->w, "p");
	l->a_h = it_ip("10.0.0.1");
	l->a_p = it_ip("10.0.0.2");
	l->ipfd = it_open(l->h, "ip");
	static const char *const statics[] = { "10.0.0.2", MAC_P, NULL };
	it_iface(l->h, l->ipfd, "lan", MAC_H, "eth0", "10.0.0.1", 24, statics);
	l->peer = it_peer(l->p, "lan");
	us_world_advance(l->w, 10 * G_GINT64_CONSTANT(1000000000)); /* arp announcements */
	uint8_t buf[2048];
	while (it_peer_read(l->peer, buf, sizeof buf) > 0)
		;
}

static void
lan_fini(Lan *l)
{
	us_close(l->peer);
	us_close(l->ipfd);
	us_world_free(l->w);
	g_assert_cmpuint(us_fd_count(), ==, l->fds0);
	g_assert_cmpint(us_msg_live_count(), ==, l->live0);
}

static void
settle(UsWorld *w)
{
	us_world_advance(w, IT_MS);
}

/* The peer sends an IPv4 datagram to the host. */
static void
peer_send(Lan *l, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl, uint16_t id, uint16_t off,
	  const void *opts, size_t olen, const void *payload, size_t plen)
{
	uint8_t f[2048];
	size_t n =
		it_frame(f, MAC_H, MAC_P, src, dst, proto, ttl, id, off, opts, olen, payload, plen);
	g_assert_cmpint(us_write(l->peer, f, n), ==, (ssize_t)n);
	settle(l->w);
}

/* ------------------------------------------------------------------ */
/* 1. ioctls                                                          */
/* ------------------------------------------------------------------ */

static void
test_ioctl_plumb(void)
{
	Lan l;
	lan_init(&l);
	struct ip_if_info ii[4];
	int len = sizeof ii;
	g_assert_cmpint(it_istr_len(l.ipfd, IP_IF_LIST, ii, &len), ==, 1);
	g_assert_cmpint(len, ==, sizeof ii[0]);
	g_assert_cmpstr(ii[0].name, ==, "eth0");
	g_assert_cmpuint(ii[0].mtu, ==, 1500);
	g_assert_cmphex(ii[0].flags, ==, IP_IFF_UP | IP_IFF_RUNNING);
	g_assert_cmpuint(ii[0].naddrs, ==, 1);
	uint8_t mac[6];
	g_assert_true(ether_addr_parse(MAC_H, mac));
	g_assert_cmpmem(ii[0].mac, 6, mac, 6);

	struct ip_addr_req ar[4];
	len = sizeof ar;
	g_assert_cmpint(it_istr_len(l.ipfd, IP_ADDR_LIST, ar, &len), ==, 1);
	g_assert_cmphex(ar[0].addr, ==, l.a_h);
	g_assert_cmpuint(ar[0].plen, ==, 24);
	g_assert_cmphex(ar[0].broadcast, ==, it_ip("10.0.0.255"));

	/* errors */
	struct ip_addr_req bad = { .addr = it_ip("10.0.0.1"), .plen = 24 };
	g_strlcpy(bad.ifname, "eth0", sizeof bad.ifname);
	g_assert_cmpint(it_istr(l.ipfd, IP_ADDR_ADD, &bad, sizeof bad), ==, -EEXIST);
	bad.addr = it_ip("127.0.0.5");
	g_assert_cmpint(it_istr(l.ipfd, IP_ADDR_ADD, &bad, sizeof bad), ==, -EINVAL);
	bad.addr = it_ip("224.0.0.5");
	g_assert_cmpint(it_istr(l.ipfd, IP_ADDR_ADD, &bad, sizeof bad), ==, -EINVAL);
	bad.addr = it_ip("10.0.0.9");
	bad.plen = 33;
	g_assert_cmpint(it_istr(l.ipfd, IP_ADDR_ADD, &bad, sizeof bad), ==, -EINVAL);
	bad.plen = 24;
	g_strlcpy(bad.ifname, "nope", sizeof bad.ifname);
	g_assert_cmpint(it_istr(l.ipfd, IP_ADDR_ADD, &bad, sizeof bad), ==, -ENXIO);
	g_assert_cmpint(it_istr(l.ipfd, IP_ADDR_DEL, &bad, sizeof bad), ==, -ENXIO);
	g_strlcpy(bad.ifname, "eth0", sizeof bad.ifname);
	g_assert_cmpint(it_istr(l.ipfd, IP_ADDR_DEL, &bad, sizeof bad), ==, -ENOENT);
	g_assert_cmpint(it_istr(l.ipfd, IP_ADDR_ADD, &bad, 4), ==, -EINVAL); /* short */
	struct ip_if_req ir = { .muxid = 999 };
	g_strlcpy(ir.name, "x", sizeof ir.name);
	g_assert_cmpint(it_istr(l.ipfd, IP_IF_SET, &ir, sizeof ir), ==, -ENOENT);
	g_assert_cmpint(it_istr(l.ipfd, 0x7777, NULL, 0), ==, -EINVAL);

	/* a second address, then removed */
	it_addr(l.ipfd, "eth0", "192.168.5.1", 16);
	len = sizeof ar;
	g_assert_cmpint(it_istr_len(l.ipfd, IP_ADDR_LIST, ar, &len), ==, 2);
	struct ip_addr_req del = { .addr = it_ip("192.168.5.1") };
	g_strlcpy(del.ifname, "eth0", sizeof del.ifname);
	g_assert_cmpint(it_istr(l.ipfd, IP_ADDR_DEL, &del, sizeof del), ==, 0);
	g_assert_cmpint(it_istr(l.ipfd, IP_ADDR_LIST, ar, sizeof ar), ==, 1);
	g_assert_cmpuint(it_stat(l.ipfd, "routes"), ==, 1);
	lan_fini(&l);
}

static void
test_ioctl_routes(void)
{
	Lan l;
	lan_init(&l);
	g_assert_cmpint(it_route(l.ipfd, "0.0.0.0", 0, "10.0.0.254", NULL, 0), ==, 0);
	g_assert_cmpint(it_route(l.ipfd, "0.0.0.0", 0, "10.0.0.254", NULL, 0), ==, -EEXIST);
	g_assert_cmpint(it_route(l.ipfd, "172.16.0.0", 12, "10.0.0.253", "eth0", 5), ==, 0);
	g_assert_cmpint(it_route(l.ipfd, "172.16.0.0", 12, "192.168.9.9", NULL, 0), ==,
			-ENETUNREACH);
	g_assert_cmpint(it_route(l.ipfd, "172.16.0.1", 12, NULL, "eth0", 0), ==, -EINVAL);
	g_assert_cmpint(it_route(l.ipfd, "172.16.0.0", 12, NULL, "nope", 0), ==, -ENXIO);
	struct ip_route_entry small = { .dst = it_ip("172.30.0.0"), .plen = 16, .mtu = 60 };
	g_strlcpy(small.ifname, "eth0", sizeof small.ifname);
	g_assert_cmpint(it_istr(l.ipfd, IP_ROUTE_ADD, &small, sizeof small), ==, -EINVAL);

	struct ip_route_entry e[8];
	int len = sizeof e;
	g_assert_cmpint(it_istr_len(l.ipfd, IP_ROUTE_LIST, e, &len), ==, 3);
	g_assert_cmphex(e[0].dst, ==, 0); /* ascending by prefix */
	g_assert_cmphex(e[0].gateway, ==, it_ip("10.0.0.254"));
	g_assert_cmphex(e[1].dst, ==, it_ip("10.0.0.0"));
	g_assert_cmpuint(e[1].type, ==, IP_RTT_CONNECTED);
	g_assert_cmphex(e[2].dst, ==, it_ip("172.16.0.0"));
	g_assert_cmpuint(e[2].metric, ==, 5);

	struct ip_route_entry q = { .dst = it_ip("172.20.1.1") };
	g_assert_cmpint(it_istr(l.ipfd, IP_ROUTE_GET, &q, sizeof q), ==, 0);
	g_assert_cmphex(q.gateway, ==, it_ip("10.0.0.253"));
	g_assert_cmphex(q.src, ==, l.a_h);
	g_assert_cmpstr(q.ifname, ==, "eth0");
	g_assert_cmpuint(q.mtu, ==, 1500);
	q = (struct ip_route_entry){ .dst = it_ip("8.8.8.8") };
	g_assert_cmpint(it_istr(l.ipfd, IP_ROUTE_GET, &q, sizeof q), ==, 0);
	g_assert_cmphex(q.gateway, ==, it_ip("10.0.0.254"));
	q = (struct ip_route_entry){ .dst = it_ip("10.0.0.77") };
	g_assert_cmpint(it_istr(l.ipfd, IP_ROUTE_GET, &q, sizeof q), ==, 0);
	g_assert_cmphex(q.gateway, ==, 0);

	struct ip_route_entry d = { .dst = 0, .plen = 0 };
	g_assert_cmpint(it_istr(l.ipfd, IP_ROUTE_DEL, &d, sizeof d), ==, 0);
	g_assert_cmpint(it_istr(l.ipfd, IP_ROUTE_DEL, &d, sizeof d), ==, -ENOENT);
	q = (struct ip_route_entry){ .dst = it_ip("8.8.8.8") };
	g_assert_cmpint(it_istr(l.ipfd, IP_ROUTE_GET, &q, sizeof q), ==, -ENETUNREACH);
	lan_fini(&l);
}

/* ------------------------------------------------------------------ */
/* 2. Input checks                                                    */
/* ------------------------------------------------------------------ */

/* Sends raw IP bytes (already a header) from the peer. */
static void
peer_raw(Lan *l, const uint8_t *ip, size_t len)
{
	uint8_t f[2048];
	g_assert_true(ether_addr_parse(MAC_H, f));
	g_assert_true(ether_addr_parse(MAC_P, f + 6));
	f[12] = 0x08;
	f[13] = 0x00;
	memcpy(f + 14, ip, len);
	size_t n = 14 + len;
	g_assert_cmpint(us_write(l->peer, f, n), ==, (ssize_t)n);
	settle(l->w);
}

/* A valid 20-byte header + 8 bytes of UDP-ish payload in ip. */
static size_t
good_ip(Lan *l, uint8_t *ip)
{
	uint8_t f[128], pl[8] = { 1, 2, 3, 4, 0, 8, 0, 0 };
	size_t n = it_frame(f, MAC_H, MAC_P, l->a_p, l->a_h, 99, 64, 1, 0, NULL, 0, pl, sizeof pl);
	memcpy(ip, f + 14, n - 14);
	return n - 14;
}

static void
refix(uint8_t *ip)
{
	memset(ip + 10, 0, 2);
	uint16_t s = us_cksum(ip, (size_t)(ip[0] & 15) * 4);
	memcpy(ip + 10, &s, 2);
}

static void
test_input_drops(void)
{
	Lan l;
	lan_init(&l);
	uint8_t ip[64];
	size_t n;

	n = good_ip(&l, ip);
	peer_raw(&l, ip, 12); /* shorter than a header */
	n = good_ip(&l, ip);
	ip[0] = 0x65;
	peer_raw(&l, ip, n);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_VERSION), ==, 1);

	n = good_ip(&l, ip);
	ip[0] = 0x44;
	refix(ip);
	peer_raw(&l, ip, n);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_HDR_LEN), ==, 1);
	n = good_ip(&l, ip);
	ip[0] = 0x4f; /* 60 bytes of header in a 28-byte datagram */
	peer_raw(&l, ip, n);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_HDR_LEN), ==, 2);

	n = good_ip(&l, ip);
	ip[10] ^= 0x55;
	peer_raw(&l, ip, n);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_CKSUM), ==, 1);

	n = good_ip(&l, ip);
	ip[2] = 0x02; /* total length 512+28 beyond the frame */
	refix(ip);
	peer_raw(&l, ip, n);
	n = good_ip(&l, ip);
	ip[2] = 0;
	ip[3] = 12; /* total length below the header */
	refix(ip);
	peer_raw(&l, ip, n);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_SHORT), ==, 3);

	const char *martians[] = { "255.255.255.255", "10.0.0.255", "224.1.2.3",
				   "0.1.2.3",         "127.0.0.1",  "10.0.0.1" };
	for (guint i = 0; i < G_N_ELEMENTS(martians); i++) {
		n = good_ip(&l, ip);
		uint32_t s = it_ip(martians[i]);
		memcpy(ip + 12, &s, 4);
		refix(ip);
		peer_raw(&l, ip, n);
	}
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_MARTIAN_SRC), ==, G_N_ELEMENTS(martians));

	const char *mdst[] = { "127.0.0.1", "0.0.0.9" };
	for (guint i = 0; i < G_N_ELEMENTS(mdst); i++) {
		n = good_ip(&l, ip);
		uint32_t d = it_ip(mdst[i]);
		memcpy(ip + 16, &d, 4);
		refix(ip);
		peer_raw(&l, ip, n);
	}
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_MARTIAN_DST), ==, 2);

	n = good_ip(&l, ip);
	uint32_t other = it_ip("10.0.0.77");
	memcpy(ip + 16, &other, 4);
	refix(ip);
	peer_raw(&l, ip, n);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_NOT_FOR_US), ==, 1);
	n = good_ip(&l, ip);
	uint32_t mc = it_ip("239.1.1.1"); /* a group nobody joined */
	memcpy(ip + 16, &mc, 4);
	refix(ip);
	peer_raw(&l, ip, n);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_NOT_FOR_US), ==, 2);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_IN_HDR_ERRORS), ==, 7);

	/* proto 99, nobody bound: protocol unreachable comes back */
	n = good_ip(&l, ip);
	peer_raw(&l, ip, n);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_UNKNOWN_PROTO), ==, 1);
	uint8_t f[2048];
	size_t fl = it_peer_ipv4(l.peer, f, sizeof f);
	g_assert_cmpuint(fl, >=, 14 + 20 + 8 + 28);
	g_assert_cmpuint(f[14 + 9], ==, 1);
	g_assert_cmpuint(f[34], ==, 3);
	g_assert_cmpuint(f[35], ==, 2);
	g_assert_cmpint(memcmp(f + 42, ip, 28), ==, 0); /* the quote */
	g_assert_cmpuint(us_cksum(f + 34, fl - 34), ==, 0);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_IN_UNKNOWN_PROTOS), ==, 1);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_IN_RECEIVES), ==, 18);
	lan_fini(&l);
}

static void
test_input_options(void)
{
	Lan l;
	lan_init(&l);
	int t = it_transport(l.h, 99, 0);
	uint8_t pl[8] = { 0 };
	const uint8_t nop_eol[4] = { 1, 1, 0, 0 };
	peer_send(&l, l.a_p, l.a_h, 99, 64, 1, 0, nop_eol, 4, pl, sizeof pl);
	uint8_t ctl[64], data[256];
	size_t dl = sizeof data;
	g_assert_cmphex(it_recv(t, ctl, data, &dl), ==, IP_UNITDATA_IND);
	struct ip_unitdata_ind ui;
	memcpy(&ui, ctl, sizeof ui);
	g_assert_cmpuint(ui.hdr_len, ==, 24);
	g_assert_cmpuint(dl, ==, 32);
	g_assert_cmphex(ui.src, ==, l.a_p);
	g_assert_cmpuint(ui.ttl, ==, 64);

	const uint8_t bad[4] = { 7, 9, 0, 0 }; /* record route, length past the header */
	peer_send(&l, l.a_p, l.a_h, 99, 64, 2, 0, bad, 4, pl, sizeof pl);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_OPTIONS), ==, 1);
	uint8_t f[2048];
	size_t fl = it_peer_ipv4(l.peer, f, sizeof f);
	g_assert_cmpuint(fl, >, 0);
	g_assert_cmpuint(f[34], ==, 12); /* parameter problem */
	g_assert_cmpuint(f[38], ==, 21); /* pointing at the length octet */

	const uint8_t lsrr[8] = { 131, 7, 4, 1, 2, 3, 4, 0 };
	peer_send(&l, l.a_p, l.a_h, 99, 64, 3, 0, lsrr, 8, pl, sizeof pl);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_OPTIONS), ==, 2);
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), ==, 0); /* refused silently */
	dl = sizeof data;
	g_assert_cmphex(it_recv(t, ctl, data, &dl), ==, 0);
	us_close(t);
	lan_fini(&l);
}

/* Bad primitives, an interface taken down, a transport that does not read:
 * each is a counted drop. */
static void
test_drops_local(void)
{
	Lan l;
	lan_init(&l);
	int t = it_transport(l.h, 99, 0);
	uint32_t junk[2] = { 0x9999, 0 };
	struct strbuf ctl = { .len = sizeof junk, .buf = (char *)junk };
	g_assert_cmpint(us_putmsg(t, &ctl, NULL, 0), ==, 0); /* unknown primitive */
	ctl.len = 2;
	g_assert_cmpint(us_putmsg(t, &ctl, NULL, 0), ==, 0); /* too short to name one */
	struct ip_unitdata_req ur = { .prim = IP_UNITDATA_REQ, .dst = l.a_p, .proto = 99 };
	ctl = (struct strbuf){ .len = sizeof ur, .buf = (char *)&ur };
	g_assert_cmpint(us_putmsg(t, &ctl, NULL, 0), ==, 0); /* no data block */
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_BADPRIM), ==, 3);

	struct ip_if_info ii[1];
	g_assert_cmpint(it_istr(l.ipfd, IP_IF_LIST, ii, sizeof ii), ==, 1);
	struct ip_if_req ir = { .muxid = ii[0].muxid, .flags = IP_IFF_DOWN };
	g_assert_cmpint(it_istr(l.ipfd, IP_IF_SET, &ir, sizeof ir), ==, 0);
	it_send(t, l.a_p, 99, 0, 0, "x", 1);
	settle(l.w);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_NO_IFACE), ==, 1);
	ir.flags = IP_IFF_UP;
	g_assert_cmpint(it_istr(l.ipfd, IP_IF_SET, &ir, sizeof ir), ==, 0);
	it_send(t, l.a_p, 99, 0, 0, "x", 1);
	settle(l.w);
	uint8_t f[2048];
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), >, 0);

	/* the transport never reads: once its head is full, ip drops */
	uint8_t pl[1000] = { 0 };
	for (int i = 0; i < 400; i++)
		peer_send(&l, l.a_p, l.a_h, 99, 64, (uint16_t)i, 0, NULL, 0, pl, sizeof pl);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_TRANSPORT), >, 0);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_IN_DISCARDS), ==,
			 it_drops(l.ipfd, IP_DROP_TRANSPORT));
	us_close(t);
	lan_fini(&l);
}

/* ------------------------------------------------------------------ */
/* 3. ICMP                                                            */
/* ------------------------------------------------------------------ */

static void
test_icmp_echo(void)
{
	Lan l;
	lan_init(&l);
	uint8_t e[1024];
	size_t el = it_echo(e, 8, 0x1234, 1, 100);
	peer_send(&l, l.a_p, l.a_h, 1, 64, 77, 0, NULL, 0, e, el);
	uint8_t f[2048];
	size_t fl = it_peer_ipv4(l.peer, f, sizeof f);
	g_assert_cmpuint(fl, ==, 14 + 20 + el);
	uint8_t mac[6];
	g_assert_true(ether_addr_parse(MAC_P, mac));
	g_assert_cmpmem(f, 6, mac, 6);
	g_assert_cmpuint(us_cksum(f + 14, 20), ==, 0);
	g_assert_cmpint(memcmp(f + 14 + 12, &l.a_h, 4), ==, 0);
	g_assert_cmpint(memcmp(f + 14 + 16, &l.a_p, 4), ==, 0);
	g_assert_cmpuint(f[14 + 8], ==, 64);
	g_assert_cmpuint(f[34], ==, 0); /* echo reply */
	g_assert_cmpint(memcmp(f + 38, e + 4, el - 4), ==, 0);
	g_assert_cmpuint(us_cksum(f + 34, el), ==, 0);
	g_assert_cmpuint(it_stat(l.ipfd, "icmpInEchos"), ==, 1);
	g_assert_cmpuint(it_stat(l.ipfd, "icmpOutEchoReps"), ==, 1);

	/* broadcast echo: ignored; bad ICMP checksum: dropped */
	peer_send(&l, l.a_p, it_ip("10.0.0.255"), 1, 64, 78, 0, NULL, 0, e, el);
	e[9] ^= 1;
	peer_send(&l, l.a_p, l.a_h, 1, 64, 79, 0, NULL, 0, e, el);
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), ==, 0);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_ICMP_BAD), ==, 1);

	/* echo_reply off */
	it_param(it_ipq(l.ipfd), IP_PARAM_ECHO_REPLY, "false");
	el = it_echo(e, 8, 0x1234, 2, 10);
	peer_send(&l, l.a_p, l.a_h, 1, 64, 80, 0, NULL, 0, e, el);
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), ==, 0);
	lan_fini(&l);
}

/* A raw binding sees every ICMP message, the requests ip answered too. */
static void
test_icmp_raw(void)
{
	Lan l;
	lan_init(&l);
	int raw = it_transport(l.h, 0, IP_BINDF_RAW);
	int dup = it_open(l.h, "ip");
	struct ip_bind_req br = { .prim = IP_BIND_REQ, .flags = IP_BINDF_RAW };
	struct strbuf ctl = { .len = sizeof br, .buf = (char *)&br };
	g_assert_cmpint(us_putmsg(dup, &ctl, NULL, 0), ==, 0);
	uint32_t ack[8];
	struct strbuf rc = { .maxlen = sizeof ack, .buf = (char *)ack };
	int fl = 0;
	g_assert_cmpint(us_getmsg(dup, &rc, NULL, &fl), ==, 0);
	g_assert_cmphex(ack[0], ==, IP_ERROR_ACK);
	g_assert_cmpuint(ack[2], ==, EADDRINUSE);
	us_close(dup);

	uint8_t e[256];
	size_t el = it_echo(e, 8, 7, 1, 16);
	peer_send(&l, l.a_p, l.a_h, 1, 64, 1, 0, NULL, 0, e, el);
	uint8_t c[64], d[512];
	size_t dl = sizeof d;
	g_assert_cmphex(it_recv(raw, c, d, &dl), ==, IP_UNITDATA_IND);
	g_assert_cmpuint(dl, ==, 20 + el);
	g_assert_cmpint(memcmp(d + 20, e, el), ==, 0);
	/* and it can ping the peer: the peer's reply reaches the raw binding */
	uint8_t f[2048];
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), >, 0); /* ip's echo reply */
	el = it_echo(e, 8, 9, 1, 16);
	it_send(raw, l.a_p, 1, 0, 0, e, el);
	settle(l.w);
	size_t n = it_peer_ipv4(l.peer, f, sizeof f);
	g_assert_cmpuint(n, ==, 14 + 20 + el);
	g_assert_cmpint(memcmp(f + 34, e, el), ==, 0);
	it_echo(e, 0, 9, 1, 16);
	peer_send(&l, l.a_p, l.a_h, 1, 64, 2, 0, NULL, 0, e, el);
	dl = sizeof d;
	g_assert_cmphex(it_recv(raw, c, d, &dl), ==, IP_UNITDATA_IND);
	g_assert_cmpuint(d[20], ==, 0);
	us_close(raw);
	lan_fini(&l);
}

static void
test_icmp_ratelimit(void)
{
	Lan l;
	lan_init(&l);
	it_param(it_ipq(l.ipfd), IP_PARAM_ICMP_BURST, "5");
	it_param(it_ipq(l.ipfd), IP_PARAM_ICMP_RATE, "10");
	uint8_t pl[8] = { 0 };
	for (int i = 0; i < 20; i++) {
		uint8_t f[128];
		size_t n = it_frame(f, MAC_H, MAC_P, l.a_p, l.a_h, 99, 64, (uint16_t)i, 0, NULL, 0,
				    pl, sizeof pl);
		g_assert_cmpint(us_write(l.peer, f, n), ==, (ssize_t)n);
	}
	settle(l.w);
	uint8_t f[2048];
	guint got = 0;
	while (it_peer_ipv4(l.peer, f, sizeof f) > 0)
		got++;
	g_assert_cmpuint(got, ==, 5);
	g_assert_cmpuint(it_stat(l.ipfd, "icmpRateLimited"), ==, 15);
	us_world_advance(l.w, 1000 * IT_MS); /* 10 more tokens, capped at 5 */
	for (int i = 0; i < 20; i++)
		peer_send(&l, l.a_p, l.a_h, 99, 64, (uint16_t)(100 + i), 0, NULL, 0, pl, sizeof pl);
	got = 0;
	while (it_peer_ipv4(l.peer, f, sizeof f) > 0)
		got++;
	g_assert_cmpuint(got, >=, 5);
	g_assert_cmpuint(got, <=, 6);
	lan_fini(&l);
}

/* ------------------------------------------------------------------ */
/* 4. Fragments                                                       */
/* ------------------------------------------------------------------ */

/* The peer sends the echo request e (el bytes) in fragments of 64 bytes of
 * data, in the order given by order[] (indices), nfr of them. */
static guint
peer_fragments(Lan *l, const uint8_t *e, size_t el, uint16_t id, const guint *order, guint nfr)
{
	guint total = (guint)((el + 63) / 64);
	for (guint k = 0; k < nfr; k++) {
		guint i = order[k];
		size_t off = (size_t)i * 64;
		size_t len = el - off < 64 ? el - off : 64;
		uint16_t bits = (uint16_t)((off / 8) | (i + 1 < total ? 0x2000 : 0));
		peer_send(l, l->a_p, l->a_h, 1, 64, id, bits, NULL, 0, e + off, len);
	}
	return total;
}

static void
test_frag_reverse(void)
{
	Lan l;
	lan_init(&l);
	uint8_t e[1024];
	size_t el = it_echo(e, 8, 5, 5, 300); /* 308 bytes: 5 fragments */
	guint order[] = { 4, 3, 2, 1, 0, 2 };
	peer_fragments(&l, e, el, 4242, order, 5);
	uint8_t f[2048];
	size_t n = it_peer_ipv4(l.peer, f, sizeof f);
	g_assert_cmpuint(n, ==, 14 + 20 + el);
	g_assert_cmpuint(f[34], ==, 0);
	g_assert_cmpint(memcmp(f + 38, e + 4, el - 4), ==, 0);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_REASM_OKS), ==, 1);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_REASM_REQDS), ==, 5);
	/* a late duplicate starts nothing that completes */
	peer_fragments(&l, e, el, 4242, order + 5, 1);
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), ==, 0);
	lan_fini(&l);
}

static void
test_frag_overlap_timeout(void)
{
	Lan l;
	lan_init(&l);
	uint8_t e[1024];
	size_t el = it_echo(e, 8, 5, 6, 200);
	guint order[] = { 0, 1 };
	peer_fragments(&l, e, el, 900, order, 2);
	uint8_t bad[64];
	memset(bad, 0xee, sizeof bad);
	/* 32 bytes at offset 96: overlaps fragment 1 with other bytes */
	peer_send(&l, l.a_p, l.a_h, 1, 64, 900, (uint16_t)(96 / 8) | 0x2000, NULL, 0, bad, 32);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_FRAG), ==, 1);
	guint rest[] = { 2, 3 };
	peer_fragments(&l, e, el, 900, rest, 2);
	uint8_t f[2048];
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), ==, 0); /* never completes */
	g_assert_cmpuint(it_stat(l.ipfd, "reassDatagrams"), ==, 1);
	/* the datagram held (fragments 2, 3) has no first fragment: no ICMP */
	us_world_advance(l.w, 31000 * IT_MS);
	g_assert_cmpuint(it_stat(l.ipfd, "reassDatagrams"), ==, 0);
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), ==, 0);
	g_assert_cmpuint(it_drops(l.ipfd, IP_DROP_REASS_TIMEOUT), ==, 1);
	/* with the first fragment: time exceeded (reassembly) quoting it */
	peer_fragments(&l, e, el, 901, order, 1);
	us_world_advance(l.w, 29000 * IT_MS);
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), ==, 0);
	us_world_advance(l.w, 1001 * IT_MS);
	size_t n = it_peer_ipv4(l.peer, f, sizeof f);
	g_assert_cmpuint(n, >, 0);
	g_assert_cmpuint(f[34], ==, 11);
	g_assert_cmpuint(f[35], ==, 1);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_REASM_FAILS), ==, 3);
	lan_fini(&l);
}

/* ------------------------------------------------------------------ */
/* 5. Output                                                          */
/* ------------------------------------------------------------------ */

static void
expect_uderror(int t, uint32_t dst, int error)
{
	uint8_t c[64], d[4096];
	size_t dl = sizeof d;
	g_assert_cmphex(it_recv(t, c, d, &dl), ==, IP_UDERROR_IND);
	struct ip_uderror_ind ue;
	memcpy(&ue, c, sizeof ue);
	g_assert_cmphex(ue.dst, ==, dst);
	g_assert_cmpuint(ue.error, ==, (uint32_t)error);
	g_assert_cmpuint(ue.cookie, ==, 0);
}

static void
test_output_errors(void)
{
	Lan l;
	lan_init(&l);
	int t = it_transport(l.h, 17, 0);
	uint8_t pl[3000] = { 0 };
	it_send(t, it_ip("8.8.8.8"), 17, 0, 0, pl, 8);
	expect_uderror(t, it_ip("8.8.8.8"), ENETUNREACH);
	it_send(t, it_ip("10.0.0.255"), 17, 0, 0, pl, 8);
	expect_uderror(t, it_ip("10.0.0.255"), EACCES);
	it_send(t, IP_BROADCAST, 17, 0, 0, pl, 8);
	expect_uderror(t, IP_BROADCAST, EACCES);
	it_send(t, l.a_p, 17, 0, IP_F_DF, pl, 1481);
	expect_uderror(t, l.a_p, EMSGSIZE);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_OUT_NO_ROUTES), ==, 1);
	/* the sender's cookie comes back with the failure */
	struct ip_unitdata_req cr = {
		.prim = IP_UNITDATA_REQ, .dst = it_ip("8.8.4.4"), .proto = 17, .cookie = 4242
	};
	struct strbuf cc = { .len = sizeof cr, .buf = (char *)&cr };
	struct strbuf cd = { .len = 8, .buf = (char *)pl };
	g_assert_cmpint(us_putmsg(t, &cc, &cd, 0), ==, 0);
	uint8_t c[64], d[64];
	size_t dl = sizeof d;
	g_assert_cmphex(it_recv(t, c, d, &dl), ==, IP_UDERROR_IND);
	g_assert_cmpuint(((struct ip_uderror_ind *)c)->cookie, ==, 4242);
	g_assert_cmpuint(dl, ==, 8);
	uint8_t f[2048];
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), ==, 0);
	/* broadcast with the flag goes to the link broadcast */
	it_send(t, it_ip("10.0.0.255"), 17, 0, IP_F_BROADCAST, pl, 8);
	settle(l.w);
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), ==, 14 + 28);
	g_assert_cmphex(f[0] & f[1] & f[2] & f[3] & f[4] & f[5], ==, 0xff);
	/* the transport checksum is filled in */
	uint8_t u[16] = {
		0x12, 0x34, 0x00, 0x35, 0, 16, 0, 0, 'h', 'e', 'l', 'l', 'o', '!', '!', 1
	};
	it_send(t, l.a_p, 17, 9, IP_F_CKSUM | IP_F_CKSUM_UDP, u, 16);
	struct ip_unitdata_req ur = { .prim = IP_UNITDATA_REQ,
				      .dst = l.a_p,
				      .proto = 17,
				      .flags = IP_F_CKSUM | IP_F_CKSUM_UDP,
				      .cksum_off = 6 };
	struct strbuf ctl = { .len = sizeof ur, .buf = (char *)&ur };
	struct strbuf dat = { .len = 16, .buf = (char *)u };
	g_assert_cmpint(us_putmsg(t, &ctl, &dat, 0), ==, 0);
	settle(l.w);
	size_t n = it_peer_ipv4(l.peer, f, sizeof f);
	g_assert_cmpuint(n, ==, 14 + 20 + 16);
	g_assert_cmpuint(f[22], ==, 9); /* TTL asked for */
	n = it_peer_ipv4(l.peer, f, sizeof f);
	g_assert_cmpuint(n, ==, 14 + 20 + 16);
	uint64_t sum = us_cksum_pseudo(l.a_h, l.a_p, 17, 16);
	sum = us_cksum_add(sum, f + 34, 16);
	g_assert_cmpuint(us_cksum_finish(sum), ==, 0);
	us_close(t);
	lan_fini(&l);
}

/* A 3000-byte payload leaves in three fragments that share its data and
 * reassemble to it. */
static void
test_output_fragment(void)
{
	Lan l;
	lan_init(&l);
	int t = it_transport(l.h, 99, 0);
	static uint8_t pl[3000];
	for (guint i = 0; i < sizeof pl; i++)
		pl[i] = (uint8_t)(i * 13);
	it_send(t, l.a_p, 99, 0, 0, pl, sizeof pl);
	settle(l.w);
	uint8_t got[3000];
	size_t have = 0;
	uint8_t f[2048];
	uint16_t id0 = 0;
	for (int k = 0; k < 3; k++) {
		size_t n = it_peer_ipv4(l.peer, f, sizeof f);
		g_assert_cmpuint(n, >, 34);
		g_assert_cmpuint(n - 14, <=, 1500);
		g_assert_cmpuint(us_cksum(f + 14, 20), ==, 0);
		uint16_t off = (uint16_t)((f[20] << 8) | f[21]);
		uint16_t id = (uint16_t)((f[18] << 8) | f[19]);
		if (k == 0)
			id0 = id;
		g_assert_cmpuint(id, ==, id0);
		g_assert_cmpuint((size_t)(off & 0x1fff) * 8, ==, have);
		g_assert_cmpuint(!!(off & 0x2000), ==, k < 2);
		memcpy(got + have, f + 34, n - 34);
		have += n - 34;
	}
	g_assert_cmpuint(have, ==, sizeof pl);
	g_assert_cmpmem(got, have, pl, sizeof pl);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_FRAG_OKS), ==, 1);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_FRAG_CREATES), ==, 3);
	us_close(t);
	lan_fini(&l);
}

/* Datagrams to our own address come back up through the loopback. */
static void
test_output_loopback(void)
{
	Lan l;
	lan_init(&l);
	int t = it_transport(l.h, 99, 0);
	it_send(t, l.a_h, 99, 0, 0, "ping", 4);
	it_send(t, it_ip("127.0.0.1"), 99, 0, 0, "pong", 4);
	settle(l.w);
	uint8_t c[64], d[256];
	size_t dl = sizeof d;
	g_assert_cmphex(it_recv(t, c, d, &dl), ==, IP_UNITDATA_IND);
	struct ip_unitdata_ind ui;
	memcpy(&ui, c, sizeof ui);
	g_assert_cmphex(ui.src, ==, l.a_h);
	g_assert_cmphex(ui.flags, ==, IP_IF_LOOPBACK);
	g_assert_cmpmem(d + 20, 4, "ping", 4);
	dl = sizeof d;
	g_assert_cmphex(it_recv(t, c, d, &dl), ==, IP_UNITDATA_IND);
	g_assert_cmpmem(d + 20, 4, "pong", 4);
	uint8_t f[2048];
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), ==, 0);
	us_close(t);
	lan_fini(&l);
}

/* IDs: consecutive to one destination, unrelated across destinations. */
static void
test_output_ids(void)
{
	Lan l;
	lan_init(&l);
	static const char *const st[] = { "10.0.0.3", "02:00:00:00:00:03", NULL };
	(void)st;
	int t = it_transport(l.h, 99, 0);
	uint16_t ids[4];
	for (int i = 0; i < 4; i++) {
		it_send(t, l.a_p, 99, 0, 0, "x", 1);
		settle(l.w);
		uint8_t f[2048];
		g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), >, 0);
		ids[i] = (uint16_t)((f[18] << 8) | f[19]);
	}
	for (int i = 1; i < 4; i++)
		g_assert_cmpuint((uint16_t)(ids[i] - ids[i - 1]), ==, 1);
	/* a broadcast datagram (another destination) does not take the next ID */
	it_send(t, IP_BROADCAST, 99, 0, IP_F_BROADCAST, "x", 1);
	settle(l.w);
	uint8_t f[2048];
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), >, 0);
	uint16_t bid = (uint16_t)((f[18] << 8) | f[19]);
	g_assert_cmpuint(bid, !=, (uint16_t)(ids[3] + 1));
	it_send(t, l.a_p, 99, 0, 0, "x", 1);
	settle(l.w);
	g_assert_cmpuint(it_peer_ipv4(l.peer, f, sizeof f), >, 0);
	g_assert_cmpuint((uint16_t)((f[18] << 8) | f[19]), ==, (uint16_t)(ids[3] + 1));
	us_close(t);
	lan_fini(&l);
}

/* ------------------------------------------------------------------ */
/* 6. A -- R -- B                                                     */
/* ------------------------------------------------------------------ */

typedef struct {
	UsWorld *w;
	UsStack *a, *r, *b;
	int ipa, ipr, ipb;
	int raw; /* raw binding on A */
	gint64 live0;
} Topo;

static void
topo_init(Topo *t, const char *rb_mtu)
{
	t->live0 = us_msg_live_count();
	t->w = us_world_new(US_CLOCK_VIRTUAL, 11);
	t->a = us_stack_new(t->w, "a");
	t->r = us_stack_new(t->w, "r");
	t->b = us_stack_new(t->w, "b");
	t->ipa = it_open(t->a, "ip");
	t->ipr = it_open(t->r, "ip");
	t->ipb = it_open(t->b, "ip");
	it_iface(t->a, t->ipa, "ar", "02:0a:00:00:00:01", "eth0", "10.0.1.1", 24, NULL);
	it_iface(t->r, t->ipr, "ar", "02:0e:00:00:00:01", "eth0", "10.0.1.254", 24, NULL);
	it_iface(t->r, t->ipr, "rb", "02:0e:00:00:00:02", "eth1", "10.0.2.254", 24, NULL);
	it_iface(t->b, t->ipb, "rb", "02:0b:00:00:00:01", "eth0", "10.0.2.1", 24, NULL);
	if (rb_mtu != NULL) {
		struct ip_if_info ii[2];
		int len = sizeof ii;
		g_assert_cmpint(it_istr_len(t->ipr, IP_IF_LIST, ii, &len), ==, 2);
		struct ip_if_req ir = { .muxid = ii[1].muxid, .mtu = (uint32_t)atoi(rb_mtu) };
		g_assert_cmpint(it_istr(t->ipr, IP_IF_SET, &ir, sizeof ir), ==, 0);
		len = sizeof ii;
		g_assert_cmpint(it_istr_len(t->ipb, IP_IF_LIST, ii, &len), ==, 1);
		ir.muxid = ii[0].muxid;
		g_assert_cmpint(it_istr(t->ipb, IP_IF_SET, &ir, sizeof ir), ==, 0);
	}
	g_assert_cmpint(it_route(t->ipa, "0.0.0.0", 0, "10.0.1.254", NULL, 0), ==, 0);
	g_assert_cmpint(it_route(t->ipb, "0.0.0.0", 0, "10.0.2.254", NULL, 0), ==, 0);
	it_param(it_ipq(t->ipr), IP_PARAM_FORWARDING, "true");
	t->raw = it_transport(t->a, 0, IP_BINDF_RAW);
	us_world_advance(t->w, 5000 * IT_MS);
}

static void
topo_fini(Topo *t)
{
	us_close(t->raw);
	us_close(t->ipa);
	us_close(t->ipr);
	us_close(t->ipb);
	us_world_free(t->w);
	g_assert_cmpint(us_msg_live_count(), ==, t->live0);
}

/* The next ICMP message on A's raw binding: its type, or -1. */
static int
topo_icmp(Topo *t, uint8_t *d, size_t *dl)
{
	uint8_t c[64];
	for (;;) {
		size_t n = *dl;
		uint32_t prim = it_recv(t->raw, c, d, &n);
		if (prim == 0)
			return -1;
		g_assert_cmphex(prim, ==, IP_UNITDATA_IND);
		*dl = n;
		if (d[9] == 1)
			return d[20];
	}
}

static void
test_topo_ping(void)
{
	Topo t;
	topo_init(&t, NULL);
	uint8_t e[2048], d[4096];
	for (uint16_t seq = 1; seq <= 3; seq++) {
		size_t el = it_echo(e, 8, 77, seq, 56);
		it_send(t.raw, it_ip("10.0.2.1"), 1, 0, 0, e, el);
		us_world_advance(t.w, 100 * IT_MS);
		size_t dl = sizeof d;
		int type;
		while ((type = topo_icmp(&t, d, &dl)) == 8)
			dl = sizeof d; /* A's own request is not seen: only received ones */
		g_assert_cmpint(type, ==, 0);
		g_assert_cmpuint(dl, ==, 20 + el);
		g_assert_cmpuint(d[8], ==, 63); /* one hop */
		g_assert_cmpint(memcmp(d + 24, e + 4, el - 4), ==, 0);
	}
	g_assert_cmpuint(it_stat(t.ipr, IP_STAT_FORW_DATAGRAMS), ==, 6);
	/* a 4000-byte ping crosses fragmented both ways */
	size_t el = it_echo(e, 8, 77, 9, 1992);
	it_send(t.raw, it_ip("10.0.2.1"), 1, 0, 0, e, el);
	us_world_advance(t.w, 100 * IT_MS);
	size_t dl = sizeof d;
	g_assert_cmpint(topo_icmp(&t, d, &dl), ==, 0);
	g_assert_cmpuint(dl, ==, 20 + el);
	g_assert_cmpuint(it_stat(t.ipb, IP_STAT_REASM_OKS), ==, 1);
	g_assert_cmpuint(it_stat(t.ipa, IP_STAT_REASM_OKS), ==, 1);
	topo_fini(&t);
}

static void
test_topo_ttl(void)
{
	Topo t;
	topo_init(&t, NULL);
	uint8_t e[256], d[1024];
	size_t el = it_echo(e, 8, 1, 1, 8);
	it_send(t.raw, it_ip("10.0.2.1"), 1, 1, 0, e, el);
	us_world_advance(t.w, 100 * IT_MS);
	size_t dl = sizeof d;
	g_assert_cmpint(topo_icmp(&t, d, &dl), ==, 11);
	g_assert_cmpuint(d[21], ==, 0);
	g_assert_cmpint(memcmp(d + 12, (uint32_t[]){ it_ip("10.0.1.254") }, 4), ==, 0);
	g_assert_cmpuint(it_drops(t.ipr, IP_DROP_TTL), ==, 1);
	/* no route at the router: net unreachable */
	it_send(t.raw, it_ip("192.0.2.1"), 1, 0, 0, e, el);
	us_world_advance(t.w, 100 * IT_MS);
	dl = sizeof d;
	g_assert_cmpint(topo_icmp(&t, d, &dl), ==, 3);
	g_assert_cmpuint(d[21], ==, 0);
	topo_fini(&t);
}

static void
test_topo_frag_needed(void)
{
	Topo t;
	topo_init(&t, "576");
	int udp = it_transport(t.a, 17, 0);
	uint8_t pl[1000] = { 0 }, d[2048];
	it_send(udp, it_ip("10.0.2.1"), 17, 0, IP_F_DF, pl, sizeof pl);
	us_world_advance(t.w, 100 * IT_MS);
	size_t dl = sizeof d;
	g_assert_cmpint(topo_icmp(&t, d, &dl), ==, 3); /* the raw binding sees it too */
	g_assert_cmpuint(d[21], ==, 4);
	g_assert_cmpuint((d[26] << 8) | d[27], ==, 576);
	uint8_t c[64];
	dl = sizeof d;
	g_assert_cmphex(it_recv(udp, c, d, &dl), ==, IP_ICMP_IND);
	struct ip_icmp_ind ii;
	memcpy(&ii, c, sizeof ii);
	g_assert_cmpuint(ii.type, ==, 3);
	g_assert_cmpuint(ii.code, ==, 4);
	g_assert_cmpuint(ii.info, ==, 576);
	g_assert_cmpuint(ii.error, ==, EMSGSIZE);
	g_assert_cmphex(ii.reporter, ==, it_ip("10.0.1.254"));
	g_assert_cmpuint(dl, >=, 28);
	g_assert_cmpuint(d[9], ==, 17); /* the quoted header */
	/* the path MTU is learned: routing says 576 now */
	struct ip_route_entry q = { .dst = it_ip("10.0.2.1") };
	g_assert_cmpint(it_istr(t.ipa, IP_ROUTE_GET, &q, sizeof q), ==, 0);
	g_assert_cmpuint(q.mtu, ==, 576);
	/* without DF it is fragmented by A to the learned MTU and arrives */
	int udpb = it_transport(t.b, 17, 0);
	it_send(udp, it_ip("10.0.2.1"), 17, 0, 0, pl, sizeof pl);
	us_world_advance(t.w, 100 * IT_MS);
	dl = sizeof d;
	g_assert_cmphex(it_recv(udpb, c, d, &dl), ==, IP_UNITDATA_IND);
	g_assert_cmpuint(dl, ==, 20 + sizeof pl);
	g_assert_cmpuint(it_stat(t.ipa, IP_STAT_FRAG_CREATES), ==, 2);
	us_close(udp);
	us_close(udpb);
	topo_fini(&t);
}

/* A next hop that never answers ARP: host unreachable to the sender. */
static void
test_topo_arp_fail(void)
{
	Topo t;
	topo_init(&t, NULL);
	int udp = it_transport(t.a, 17, 0);
	uint8_t pl[8] = { 0 }, c[64], d[512];
	it_send(udp, it_ip("10.0.1.99"), 17, 0, 0, pl, sizeof pl);
	us_world_advance(t.w, 5000 * IT_MS);
	size_t dl = sizeof d;
	g_assert_cmphex(it_recv(udp, c, d, &dl), ==, IP_ICMP_IND);
	struct ip_icmp_ind ii;
	memcpy(&ii, c, sizeof ii);
	g_assert_cmpuint(ii.type, ==, 3);
	g_assert_cmpuint(ii.code, ==, 1);
	g_assert_cmpuint(ii.error, ==, EHOSTUNREACH);
	g_assert_cmpuint(it_drops(t.ipa, IP_DROP_ARP), ==, 1);
	/* through the router: the router says host unreachable */
	it_send(udp, it_ip("10.0.2.99"), 17, 0, 0, pl, sizeof pl);
	us_world_advance(t.w, 5000 * IT_MS);
	dl = sizeof d;
	g_assert_cmphex(it_recv(udp, c, d, &dl), ==, IP_ICMP_IND);
	memcpy(&ii, c, sizeof ii);
	g_assert_cmpuint(ii.code, ==, 1);
	g_assert_cmphex(ii.reporter, ==, it_ip("10.0.1.254"));
	us_close(udp);
	topo_fini(&t);
}

/* IP_NEIGH_LIST: arp's cache of an interface, through ip. */
static void
test_neigh_list(void)
{
	Topo t;
	topo_init(&t, NULL);
	uint8_t e[64];
	size_t el = it_echo(e, 8, 1, 1, 8);
	it_send(t.raw, it_ip("10.0.2.1"), 1, 0, 0, e, el);
	us_world_advance(t.w, 100 * IT_MS);
	struct {
		struct ip_neigh_req r;
		struct arp_entry_info e[8];
	} q;
	memset(&q, 0, sizeof q);
	g_strlcpy(q.r.ifname, "eth0", sizeof q.r.ifname);
	int len = sizeof q;
	g_assert_cmpint(it_istr_len(t.ipa, IP_NEIGH_LIST, &q, &len), ==, 1);
	struct arp_entry_info *ent = (struct arp_entry_info *)&q;
	g_assert_cmphex(ent[0].addr, ==, it_ip("10.0.1.254"));
	g_assert_cmpuint(ent[0].state, ==, ARP_STATE_REACHABLE);
	uint8_t mac[6];
	g_assert_true(ether_addr_parse("02:0e:00:00:00:01", mac));
	g_assert_cmpmem(ent[0].mac, 6, mac, 6);
	g_strlcpy(q.r.ifname, "eth9", sizeof q.r.ifname);
	len = sizeof q;
	g_assert_cmpint(it_istr_len(t.ipa, IP_NEIGH_LIST, &q, &len), ==, -ENXIO);
	topo_fini(&t);
}

/* Unlinking an interface takes its addresses and routes away. */
static void
test_unlink(void)
{
	Topo t;
	topo_init(&t, NULL);
	struct ip_if_info ii[2];
	int len = sizeof ii;
	g_assert_cmpint(it_istr_len(t.ipr, IP_IF_LIST, ii, &len), ==, 2);
	g_assert_cmpint(us_ioctl(t.ipr, I_PUNLINK, ii[1].muxid), ==, 0);
	g_assert_cmpint(it_istr(t.ipr, IP_IF_LIST, ii, sizeof ii), ==, 1);
	struct ip_route_entry q = { .dst = it_ip("10.0.2.1") };
	g_assert_cmpint(it_istr(t.ipr, IP_ROUTE_GET, &q, sizeof q), ==, -ENETUNREACH);
	g_assert_cmpuint(it_stat(t.ipr, "routes"), ==, 1);
	topo_fini(&t);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ip/ioctl/plumb", test_ioctl_plumb);
	g_test_add_func("/ip/ioctl/routes", test_ioctl_routes);
	g_test_add_func("/ip/input/drops", test_input_drops);
	g_test_add_func("/ip/input/options", test_input_options);
	g_test_add_func("/ip/drops/local", test_drops_local);
	g_test_add_func("/ip/icmp/echo", test_icmp_echo);
	g_test_add_func("/ip/icmp/raw", test_icmp_raw);
	g_test_add_func("/ip/icmp/ratelimit", test_icmp_ratelimit);
	g_test_add_func("/ip/frag/reverse", test_frag_reverse);
	g_test_add_func("/ip/frag/overlap-timeout", test_frag_overlap_timeout);
	g_test_add_func("/ip/output/errors", test_output_errors);
	g_test_add_func("/ip/output/fragment", test_output_fragment);
	g_test_add_func("/ip/output/loopback", test_output_loopback);
	g_test_add_func("/ip/output/ids", test_output_ids);
	g_test_add_func("/ip/topo/ping", test_topo_ping);
	g_test_add_func("/ip/topo/ttl", test_topo_ttl);
	g_test_add_func("/ip/topo/frag-needed", test_topo_frag_needed);
	g_test_add_func("/ip/topo/arp-fail", test_topo_arp_fail);
	g_test_add_func("/ip/unlink", test_unlink);
	g_test_add_func("/ip/ioctl/neigh-list", test_neigh_list);
	return g_test_run();
}
