/* SPDX-License-Identifier: MIT */
/*
 * test-dgram-ip.c -- udp and icmp over the real ip: two stacks A (10.0.0.1)
 * and B (10.0.0.2) on a wire, each with wire / ether / arp under ip and the
 * two transports linked over ip upper streams, exactly as a program plumbs
 * them.  Checks the contract of ip.h end to end: checksums filled in by ip
 * verify at the other udp, port unreachable comes back as T_UDERROR_IND on a
 * connected endpoint, a raw ICMP socket sees the echo reply of B's ip, and
 * ip's loopback.  Virtual time; no message outlives a test.
 */
#include "dgramtest.h"
#include "icmp.h"
#include "iptest.h"
#include "udp.h"

typedef struct {
	UsWorld *w;
	UsStack *s[2];
	int ip[2];     /* ip control streams */
	int udp[2];    /* udp endpoints the links went through */
	int icmp[2];   /* icmp endpoints the links went through */
	uint32_t a[2]; /* addresses */
	gint64 live0;
	guint fds0;
} Net;

static void
net_link(UsStack *s, int t)
{
	int lower = it_open(s, "ip");
	g_assert_cmpint(us_ioctl(t, I_PLINK, lower), >, 0);
	g_assert_cmpint(us_close(lower), ==, 0);
}

static void
net_init(Net *n)
{
	static const char *const macs[2] = { "02:00:00:00:00:0a", "02:00:00:00:00:0b" };
	static const char *const addrs[2] = { "10.0.0.1", "10.0.0.2" };
	n->live0 = us_msg_live_count();
	n->fds0 = us_fd_count();
	n->w = us_world_new(US_CLOCK_VIRTUAL, 3);
	for (int i = 0; i < 2; i++) {
		const char *const statics[] = { addrs[1 - i], macs[1 - i], NULL };
		n->s[i] = us_stack_new(n->w, i ? "b" : "a");
		n->a[i] = it_ip(addrs[i]);
		n->ip[i] = it_open(n->s[i], "ip");
		it_iface(n->s[i], n->ip[i], "lan", macs[i], "eth0", addrs[i], 24, statics);
		n->udp[i] = it_open(n->s[i], "udp");
		net_link(n->s[i], n->udp[i]);
		n->icmp[i] = it_open(n->s[i], "icmp");
		net_link(n->s[i], n->icmp[i]);
	}
	us_world_advance(n->w, 5000 * IT_MS); /* arp announcements go by */
}

static void
net_fini(Net *n)
{
	for (int i = 0; i < 2; i++) {
		dt_close(n->udp[i]);
		dt_close(n->icmp[i]);
		dt_close(n->ip[i]);
	}
	g_assert_cmpuint(us_fd_count(), ==, n->fds0);
	us_world_free(n->w);
	g_assert_cmpint(us_msg_live_count(), ==, n->live0);
}

static int
net_open(Net *n, int i, const char *drv)
{
	return it_open(n->s[i], drv);
}

static void
test_udp_exchange(void)
{
	Net n;
	net_init(&n);
	int a = net_open(&n, 0, "udp"), b = net_open(&n, 1, "udp");
	dt_bind(a, INADDR_ANY, 5000);
	dt_bind(b, n.a[1], 6000);
	dt_sendto(a, n.a[1], 6000, "over the wire", 13);
	dt_expect_datagram(b, n.a[0], 5000, "over the wire", 13);
	dt_connect(b, n.a[0], 5000);
	g_assert_cmpint(us_write(b, "back", 4), ==, 4);
	dt_expect_datagram(a, n.a[1], 6000, "back", 4);
	guint64 v = 1;
	g_assert_true(us_udp_stack_stat(n.s[1], UDP_STAT_IN_CSUM_ERRORS, &v));
	g_assert_cmpuint(v, ==, 0);
	g_assert_true(us_udp_stack_stat(n.s[0], UDP_STAT_IN_DATAGRAMS, &v));
	g_assert_cmpuint(v, ==, 1);
	/* A large datagram is fragmented by ip and reassembled at B. */
	g_autofree guint8 *big = g_malloc(4000);
	for (int i = 0; i < 4000; i++)
		big[i] = (guint8)(i * 7);
	dt_sendto(a, n.a[1], 6000, big, 4000);
	dt_expect_datagram(b, n.a[0], 5000, big, 4000);
	dt_close(a);
	dt_close(b);
	net_fini(&n);
}

static void
test_udp_port_unreachable(void)
{
	Net n;
	net_init(&n);
	int a = net_open(&n, 0, "udp");
	dt_connect(a, n.a[1], 7);
	g_assert_cmpint(us_write(a, "anyone?", 7), ==, 7);
	uint32_t addr;
	uint16_t port;
	g_assert_cmpint(dt_expect_uderror(a, &addr, &port), ==, ECONNREFUSED);
	g_assert_cmphex(addr, ==, n.a[1]);
	g_assert_cmpuint(port, ==, 7);
	guint64 v = 0;
	g_assert_true(us_udp_stack_stat(n.s[1], UDP_STAT_NO_PORTS, &v));
	g_assert_cmpuint(v, ==, 1);
	dt_close(a);
	net_fini(&n);
}

static void
test_icmp_ping(void)
{
	Net n;
	net_init(&n);
	int r = net_open(&n, 0, "icmp");
	uint8_t echo[32] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g' };
	uint16_t c = us_cksum(echo, 12);
	memcpy(echo + 2, &c, 2);
	dt_sendto(r, n.a[1], 0, echo, 12);
	/* The reply, with its IP header (and nothing else: A's own request is
	 * not delivered locally). */
	uint32_t src;
	uint16_t port;
	g_autoptr(DtMsg) m = dt_recv(r, &src, &port);
	g_assert_cmphex(src, ==, n.a[1]);
	g_assert_cmpint(m->dlen, ==, 20 + 12);
	g_assert_cmpuint(m->data[9], ==, IPPROTO_ICMP);
	g_assert_cmpuint(m->data[20], ==, 0); /* echo reply */
	g_assert_cmpmem(m->data + 24, 8, echo + 4, 8);
	dt_close(r);
	net_fini(&n);
}

static void
test_loopback(void)
{
	Net n;
	net_init(&n);
	int a = net_open(&n, 0, "udp"), b = net_open(&n, 0, "udp");
	dt_bind(b, INADDR_ANY, 4444);
	dt_sendto(a, n.a[0], 4444, "to myself", 9);
	uint32_t src;
	uint16_t port;
	g_autoptr(DtMsg) m = dt_recv(b, &src, &port);
	g_assert_cmphex(src, ==, n.a[0]);
	g_assert_cmpmem(m->data, m->dlen, "to myself", 9);
	g_assert_cmpuint(port, ==, dt_addr(a).lport);
	dt_close(a);
	dt_close(b);
	net_fini(&n);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dgram-ip/udp/exchange", test_udp_exchange);
	g_test_add_func("/dgram-ip/udp/port-unreachable", test_udp_port_unreachable);
	g_test_add_func("/dgram-ip/icmp/ping", test_icmp_ping);
	g_test_add_func("/dgram-ip/udp/loopback", test_loopback);
	return g_test_run();
}
