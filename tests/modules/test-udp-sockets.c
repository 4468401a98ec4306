/* SPDX-License-Identifier: MIT */
/*
 * test-udp-sockets.c -- POSIX datagram sockets over the real stack: the
 * socket library (streamhead/socket*.c) speaking TPI to udp, over ip, arp,
 * ether and a wire, on two stacks in one virtual-time world:
 *
 *   A 10.0.0.1 (02:..:0a) ==== wire "lan" (seeded loss, 100 us) ==== B 10.0.0.2 (02:..:0b)
 *
 * Each host is plumbed as a program does it (interface stream I_PLINKed under
 * ip, udp and icmp linked over ip uppers); the ARP entries are static so
 * that only datagrams cross the wire and loss is counted exactly.  The tests
 * call only the us_ socket API and check what POSIX and Linux specify:
 * errors (EADDRINUSE, EADDRNOTAVAIL, EDESTADDRREQ, EMSGSIZE, ENOTCONN,
 * EAFNOSUPPORT, EBADF, EINVAL, ECONNREFUSED, EACCES, EAGAIN), ephemeral
 * ports, MSG_PEEK/MSG_TRUNC/MSG_DONTWAIT, SO_RCVTIMEO on the virtual clock,
 * SO_BROADCAST, IP_TTL/IP_TOS as seen in the received IP header (a raw
 * socket on B), connected sockets, SO_RCVBUF drops, and a lossy exchange
 * that is byte-exact, roughly as lossy as configured and identical on two
 * runs with the same seed.  No message or descriptor outlives a test.
 */
#include "iptest.h"
#include "udp.h"

#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ustreams/socket.h>

#define SA(p) ((struct sockaddr *)(p))
#define BCAST_NET "10.0.0.255"

typedef struct {
	UsWorld *w;
	UsStack *s[2];
	int ip[2];        /* ip control streams */
	queue_t *wire[2]; /* each host's wire end (driver read queue) */
	uint32_t a[2];    /* the hosts' addresses */
	gint64 live0;
	guint fds0;
} Net;

static const char *const net_macs[2] = { "02:00:00:00:00:0a", "02:00:00:00:00:0b" };
static const char *const net_addrs[2] = { "10.0.0.1", "10.0.0.2" };

/* Host i's interface: a wire end with the given loss, ether, arp with the
 * other host as a static neighbour, linked under ip as eth0. */
static void
net_iface(Net *n, int i, double loss)
{
	int fd = it_wire(n->s[i], "lan");
	char lossv[32];
	g_snprintf(lossv, sizeof lossv, "%g", loss);
	it_drv_param(fd, "loss", lossv);
	it_drv_param(fd, "delay", "100000");
	n->wire[i] = us_stream_driver_rq(us_fd_stream(fd));
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "ether"), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "arp"), ==, 0);
	it_param(it_module_wq(fd, "ether"), "mac", net_macs[i]);
	struct arp_static_req sr = { .addr = it_ip(net_addrs[1 - i]) };
	g_assert_true(ether_addr_parse(net_macs[1 - i], sr.mac));
	g_assert_cmpint(it_istr(fd, ARP_ADD_STATIC, &sr, sizeof sr), ==, 0);
	int muxid = us_ioctl(n->ip[i], I_PLINK, fd);
	g_assert_cmpint(muxid, >, 0);
	g_assert_cmpint(us_close(fd), ==, 0);
	struct ip_if_req ir = { .muxid = muxid };
	g_strlcpy(ir.name, "eth0", sizeof ir.name);
	g_assert_cmpint(it_istr(n->ip[i], IP_IF_SET, &ir, sizeof ir), ==, 0);
	it_addr(n->ip[i], "eth0", net_addrs[i], 24);
}

/* Links transport driver `name` over an ip upper of stack s. */
static void
net_transport(UsStack *s, const char *name)
{
	int t = it_open(s, name), lower = it_open(s, "ip");
	g_assert_cmpint(us_ioctl(t, I_PLINK, lower), >, 0);
	g_assert_cmpint(us_close(lower), ==, 0);
	g_assert_cmpint(us_close(t), ==, 0);
}

static void
net_init_seeded(Net *n, guint64 seed, double loss)
{
	n->live0 = us_msg_live_count();
	n->fds0 = us_fd_count();
	n->w = us_world_new(US_CLOCK_VIRTUAL, seed);
	for (int i = 0; i < 2; i++) {
		n->s[i] = us_stack_new(n->w, i ? "b" : "a");
		n->a[i] = it_ip(net_addrs[i]);
		n->ip[i] = it_open(n->s[i], "ip");
		net_iface(n, i, loss);
		net_transport(n->s[i], "udp");
		net_transport(n->s[i], "icmp");
	}
	us_world_advance(n->w, 5000 * IT_MS); /* arp announcements go by */
}

static void
net_init(Net *n)
{
	net_init_seeded(n, 1, 0.0);
}

static void
net_fini(Net *n)
{
	for (int i = 0; i < 2; i++)
		g_assert_cmpint(us_close(n->ip[i]), ==, 0);
	g_assert_cmpuint(us_fd_count(), ==, n->fds0);
	us_world_free(n->w);
	g_assert_cmpint(us_msg_live_count(), ==, n->live0);
}

static guint64
net_wire_stat(Net *n, int i, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(n->wire[i], name, &v));
	return v;
}

static guint64
net_udp_stat(Net *n, int i, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_udp_stack_stat(n->s[i], name, &v));
	return v;
}

/* Lets the world run for ms of virtual time. */
static void
net_run(Net *n, gint64 ms)
{
	us_world_advance(n->w, ms * IT_MS);
}

/* ------------------------------------------------------------------ */
/* Socket helpers                                                     */
/* ------------------------------------------------------------------ */

static struct sockaddr_in
sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };
	s.sin_addr.s_addr = addr;
	return s;
}

static void
set_int(int fd, int level, int name, int v)
{
	g_assert_cmpint(us_setsockopt(fd, level, name, &v, sizeof v), ==, 0);
}

static int
get_int(int fd, int level, int name)
{
	int v = -12345;
	socklen_t l = sizeof v;
	g_assert_cmpint(us_getsockopt(fd, level, name, &v, &l), ==, 0);
	g_assert_cmpuint(l, ==, sizeof v);
	return v;
}

static void
set_rcvtimeo(int fd, gint64 ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
			      .tv_usec = (suseconds_t)(ms % 1000) * 1000 };
	g_assert_cmpint(us_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
}

/* A UDP socket on host i; receives wait 1 s of virtual time at most. */
static int
usock(Net *n, int i)
{
	int fd = us_socket(n->s[i], AF_INET, SOCK_DGRAM, 0);
	g_assert_cmpint(fd, >=, 0);
	set_rcvtimeo(fd, 1000);
	return fd;
}

static void
sclose(int fd)
{
	g_assert_cmpint(us_close(fd), ==, 0);
}

/* bind(): 0 or the errno. */
static int
try_bind(int fd, uint32_t addr, uint16_t port)
{
	struct sockaddr_in s = sin_of(addr, port);
	return us_bind(fd, SA(&s), sizeof s) == 0 ? 0 : errno;
}

static void
sbind(int fd, uint32_t addr, uint16_t port)
{
	g_assert_cmpint(try_bind(fd, addr, port), ==, 0);
}

static int
try_connect(int fd, uint32_t addr, uint16_t port)
{
	struct sockaddr_in s = sin_of(addr, port);
	return us_connect(fd, SA(&s), sizeof s) == 0 ? 0 : errno;
}

static void
sconnect(int fd, uint32_t addr, uint16_t port)
{
	g_assert_cmpint(try_connect(fd, addr, port), ==, 0);
}

static ssize_t
sendto_addr(int fd, const void *buf, size_t len, uint32_t addr, uint16_t port)
{
	struct sockaddr_in s = sin_of(addr, port);
	return us_sendto(fd, buf, len, 0, SA(&s), sizeof s);
}

static void
ssendto(int fd, const void *buf, size_t len, uint32_t addr, uint16_t port)
{
	g_assert_cmpint(sendto_addr(fd, buf, len, addr, port), ==, (ssize_t)len);
}

/* recvfrom() with flags; the source goes to addr and port (may be NULL). */
static ssize_t
srecv(int fd, void *buf, size_t len, int flags, uint32_t *addr, uint16_t *port)
{
	struct sockaddr_in from;
	memset(&from, 0xa5, sizeof from);
	socklen_t fl = sizeof from;
	ssize_t r = us_recvfrom(fd, buf, len, flags, SA(&from), &fl);
	if (r >= 0) {
		g_assert_cmpuint(fl, ==, sizeof from);
		g_assert_cmpint(from.sin_family, ==, AF_INET);
		if (addr != NULL)
			*addr = from.sin_addr.s_addr;
		if (port != NULL)
			*port = ntohs(from.sin_port);
	}
	return r;
}

/* Receives exactly the datagram (data, len) from addr:port. */
static void
expect_datagram(int fd, uint32_t addr, uint16_t port, const void *data, size_t len)
{
	static guint8 buf[70000];
	uint32_t fa = 0;
	uint16_t fp = 0;
	ssize_t r = srecv(fd, buf, sizeof buf, 0, &fa, &fp);
	if (r < 0)
		g_error("recvfrom: %s", g_strerror(errno));
	g_assert_cmpmem(buf, (size_t)r, data, len);
	g_assert_cmphex(fa, ==, addr);
	g_assert_cmpuint(fp, ==, port);
}

/* Nothing arrives (now or within the socket's timeout): EAGAIN. */
static void
expect_nothing(int fd)
{
	guint8 buf[64];
	g_assert_cmpint(us_recv(fd, buf, sizeof buf, 0), ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
}

static uint16_t
local_port(int fd, uint32_t *addr)
{
	struct sockaddr_in s;
	socklen_t l = sizeof s;
	g_assert_cmpint(us_getsockname(fd, SA(&s), &l), ==, 0);
	g_assert_cmpuint(l, ==, sizeof s);
	g_assert_cmpint(s.sin_family, ==, AF_INET);
	if (addr != NULL)
		*addr = s.sin_addr.s_addr;
	return ntohs(s.sin_port);
}

static UsSocketStats
sock_stats(int fd)
{
	UsSocketStats st;
	g_assert_cmpint(us_socket_stats(fd, &st), ==, 0);
	return st;
}

/* ------------------------------------------------------------------ */
/* A lossy exchange                                                   */
/* ------------------------------------------------------------------ */

#define LOSSY_N 400

/* Datagram i: its number then a pattern, 16 to 495 bytes. */
static size_t
lossy_payload(guint8 *p, guint32 i)
{
	size_t len = 16 + (i * 37u) % 480;
	memcpy(p, &i, sizeof i);
	for (size_t k = sizeof i; k < len; k++)
		p[k] = (guint8)(k * 31 + i);
	return len;
}

typedef struct {
	guint arrived;            /* datagrams B received */
	guint echoed;             /* echoes A received */
	guint64 lost_ab, lost_ba; /* frames each wire end lost meanwhile */
	guint8 seen[LOSSY_N / 8]; /* which datagrams B received */
} LossyRun;

/* B's side: receives until the timeout, checks each datagram against what
 * A sent (intact, in order), echoes it. */
static void
lossy_serve(Net *n, int b, LossyRun *r)
{
	static guint8 buf[2048], want[2048];
	gint64 last = -1;
	for (;;) {
		uint32_t fa;
		uint16_t fp;
		ssize_t k = srecv(b, buf, sizeof buf, 0, &fa, &fp);
		if (k < 0) {
			g_assert_cmpint(errno, ==, EAGAIN);
			return;
		}
		guint32 seq;
		g_assert_cmpint(k, >=, (ssize_t)sizeof seq);
		memcpy(&seq, buf, sizeof seq);
		g_assert_cmpuint(seq, <, LOSSY_N);
		g_assert_cmpint((gint64)seq, >, last); /* no duplicate, no reordering */
		last = seq;
		size_t wl = lossy_payload(want, seq);
		g_assert_cmpmem(buf, (size_t)k, want, wl);
		g_assert_cmphex(fa, ==, n->a[0]);
		r->seen[seq / 8] |= (guint8)(1u << (seq % 8));
		r->arrived++;
		ssendto(b, buf, (size_t)k, fa, fp);
	}
}

static void
lossy_run(guint64 seed, double loss, LossyRun *r)
{
	Net n;
	memset(r, 0, sizeof *r);
	net_init_seeded(&n, seed, loss);
	int a = usock(&n, 0), b = usock(&n, 1);
	sbind(b, INADDR_ANY, 6000);
	guint64 lost0[2] = { net_wire_stat(&n, 0, "lost"), net_wire_stat(&n, 1, "lost") };
	static guint8 buf[2048], want[2048];
	for (guint32 i = 0; i < LOSSY_N; i++)
		ssendto(a, buf, lossy_payload(buf, i), n.a[1], 6000);
	lossy_serve(&n, b, r);
	for (;;) {
		ssize_t k = srecv(a, buf, sizeof buf, 0, NULL, NULL);
		if (k < 0) {
			g_assert_cmpint(errno, ==, EAGAIN);
			break;
		}
		guint32 seq;
		memcpy(&seq, buf, sizeof seq);
		g_assert_cmpuint(seq, <, LOSSY_N);
		g_assert_true(r->seen[seq / 8] & (1u << (seq % 8)));
		g_assert_cmpmem(buf, (size_t)k, want, lossy_payload(want, seq));
		r->echoed++;
	}
	r->lost_ab = net_wire_stat(&n, 0, "lost") - lost0[0];
	r->lost_ba = net_wire_stat(&n, 1, "lost") - lost0[1];
	g_assert_cmpuint(net_udp_stat(&n, 1, UDP_STAT_IN_DATAGRAMS), ==, r->arrived);
	sclose(a);
	sclose(b);
	net_fini(&n);
}

/* |x - expected| within 5 standard deviations of a binomial(n, p). */
static void
assert_binomial(guint x, guint trials, double p)
{
	double mean = trials * p, sd = sqrt(trials * p * (1 - p));
	g_test_message("%u of %u (expected %.1f +- %.1f)", x, trials, mean, sd);
	g_assert_cmpfloat(fabs(x - mean), <=, 5 * sd);
}

static void
test_lossy_exchange(void)
{
	LossyRun r;
	lossy_run(42, 0.25, &r);
	/* Every datagram is one frame: what B missed is what A's end lost. */
	g_assert_cmpuint(r.arrived + r.lost_ab, ==, LOSSY_N);
	g_assert_cmpuint(r.echoed + r.lost_ba, ==, r.arrived);
	assert_binomial(r.arrived, LOSSY_N, 0.75);
	assert_binomial(r.echoed, r.arrived, 0.75);
}

static void
test_lossy_deterministic(void)
{
	LossyRun r1, r2, r3;
	lossy_run(7, 0.2, &r1);
	lossy_run(7, 0.2, &r2);
	lossy_run(8, 0.2, &r3);
	g_assert_cmpuint(r1.arrived, ==, r2.arrived);
	g_assert_cmpuint(r1.echoed, ==, r2.echoed);
	g_assert_cmpmem(r1.seen, sizeof r1.seen, r2.seen, sizeof r2.seen);
	/* Another seed loses other datagrams. */
	g_assert_true(memcmp(r1.seen, r3.seen, sizeof r1.seen) != 0);
	/* No loss at all when none is configured. */
	lossy_run(7, 0.0, &r3);
	g_assert_cmpuint(r3.arrived, ==, LOSSY_N);
	g_assert_cmpuint(r3.echoed, ==, LOSSY_N);
}

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

static void
test_port_unreachable(void)
{
	Net n;
	net_init(&n);
	int a = usock(&n, 0);
	sconnect(a, n.a[1], 7);
	g_assert_cmpint(us_send(a, "anyone?", 7, 0), ==, 7);
	net_run(&n, 10);
	/* SO_ERROR reads and clears the pending error. */
	g_assert_cmpint(get_int(a, SOL_SOCKET, SO_ERROR), ==, ECONNREFUSED);
	g_assert_cmpint(get_int(a, SOL_SOCKET, SO_ERROR), ==, 0);
	/* Otherwise the next receive reports it, once. */
	g_assert_cmpint(us_send(a, "again", 5, 0), ==, 5);
	net_run(&n, 10);
	char buf[16];
	g_assert_cmpint(us_recv(a, buf, sizeof buf, MSG_DONTWAIT), ==, -1);
	g_assert_cmpint(errno, ==, ECONNREFUSED);
	g_assert_cmpint(us_recv(a, buf, sizeof buf, MSG_DONTWAIT), ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
	/* ... or the next send. */
	g_assert_cmpint(us_send(a, "third", 5, 0), ==, 5);
	net_run(&n, 10);
	g_assert_cmpint(us_send(a, "fourth", 6, 0), ==, -1);
	g_assert_cmpint(errno, ==, ECONNREFUSED);
	g_assert_cmpuint(net_udp_stat(&n, 1, UDP_STAT_NO_PORTS), ==, 3);
	/* An unconnected socket is not told (Linux without IP_RECVERR). */
	int u = usock(&n, 0);
	ssendto(u, "hello", 5, n.a[1], 7);
	net_run(&n, 10);
	g_assert_cmpint(get_int(u, SOL_SOCKET, SO_ERROR), ==, 0);
	g_assert_cmpuint(net_udp_stat(&n, 0, UDP_STAT_ICMP_IGNORED), ==, 1);
	sclose(u);
	sclose(a);
	net_fini(&n);
}

static void
test_eaddrinuse(void)
{
	Net n;
	net_init(&n);
	int s1 = usock(&n, 1), s2 = usock(&n, 1), s3 = usock(&n, 1);
	sbind(s1, INADDR_ANY, 5000);
	g_assert_cmpint(try_bind(s2, INADDR_ANY, 5000), ==, EADDRINUSE);
	g_assert_cmpint(try_bind(s2, n.a[1], 5000), ==, EADDRINUSE); /* overlaps any */
	sbind(s2, INADDR_ANY, 5001);                                 /* still unbound */
	/* One side with SO_REUSEADDR is not enough; both is. */
	set_int(s3, SOL_SOCKET, SO_REUSEADDR, 1);
	g_assert_cmpint(get_int(s3, SOL_SOCKET, SO_REUSEADDR), ==, 1);
	g_assert_cmpint(try_bind(s3, INADDR_ANY, 5000), ==, EADDRINUSE);
	sclose(s1);
	s1 = usock(&n, 1);
	set_int(s1, SOL_SOCKET, SO_REUSEADDR, 1);
	sbind(s1, INADDR_ANY, 5000);
	sbind(s3, INADDR_ANY, 5000);
	/* The newest binding gets unicast (Linux). */
	int a = usock(&n, 0);
	ssendto(a, "who", 3, n.a[1], 5000);
	expect_datagram(s3, n.a[0], local_port(a, NULL), "who", 3);
	g_assert_cmpint(us_recv(s1, NULL, 0, MSG_DONTWAIT), ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
	sclose(a);
	sclose(s1);
	sclose(s2);
	sclose(s3);
	net_fini(&n);
}

/* SO_REUSEPORT: a group shares the port; each flow stays on one member. */
static void
test_reuseport(void)
{
	Net n;
	net_init(&n);
	int g[2] = { usock(&n, 1), usock(&n, 1) };
	for (int i = 0; i < 2; i++) {
		set_int(g[i], SOL_SOCKET, SO_REUSEPORT, 1);
		g_assert_cmpint(get_int(g[i], SOL_SOCKET, SO_REUSEPORT), ==, 1);
	}
	sbind(g[0], INADDR_ANY, 7000);
	int plain = usock(&n, 1);
	g_assert_cmpint(try_bind(plain, INADDR_ANY, 7000), ==, EADDRINUSE);
	sbind(g[1], INADDR_ANY, 7000);
	enum { FLOWS = 16, PER_FLOW = 3 };
	int src[FLOWS];
	for (int f = 0; f < FLOWS; f++) {
		src[f] = usock(&n, 0);
		for (int k = 0; k < PER_FLOW; k++)
			ssendto(src[f], &f, sizeof f, n.a[1], 7000);
	}
	net_run(&n, 10);
	guint per_member[2] = { 0, 0 }, flow_member[FLOWS];
	memset(flow_member, 0xff, sizeof flow_member);
	for (int i = 0; i < 2; i++) {
		int f;
		while (us_recv(g[i], &f, sizeof f, MSG_DONTWAIT) == sizeof f) {
			g_assert_true(flow_member[f] == 0xffffffffu || flow_member[f] == (guint)i);
			flow_member[f] = (guint)i;
			per_member[i]++;
		}
		g_assert_cmpint(errno, ==, EAGAIN);
	}
	g_assert_cmpuint(per_member[0] + per_member[1], ==, FLOWS * PER_FLOW);
	g_assert_cmpuint(per_member[0], >, 0);
	g_assert_cmpuint(per_member[1], >, 0);
	for (int f = 0; f < FLOWS; f++)
		sclose(src[f]);
	sclose(plain);
	sclose(g[0]);
	sclose(g[1]);
	net_fini(&n);
}

static void
test_eaddrnotavail(void)
{
	Net n;
	net_init(&n);
	int s = usock(&n, 0);
	g_assert_cmpint(try_bind(s, n.a[1], 5000), ==, EADDRNOTAVAIL); /* B's, not ours */
	g_assert_cmpint(try_bind(s, it_ip("192.0.2.1"), 0), ==, EADDRNOTAVAIL);
	sbind(s, n.a[0], 5000); /* ours */
	uint32_t la;
	g_assert_cmpuint(local_port(s, &la), ==, 5000);
	g_assert_cmphex(la, ==, n.a[0]);
	sclose(s);
	net_fini(&n);
}

static void
test_edestaddrreq(void)
{
	Net n;
	net_init(&n);
	int s = usock(&n, 0);
	g_assert_cmpint(us_send(s, "x", 1, 0), ==, -1);
	g_assert_cmpint(errno, ==, EDESTADDRREQ);
	g_assert_cmpint(us_write(s, "x", 1), ==, -1);
	g_assert_cmpint(errno, ==, EDESTADDRREQ);
	g_assert_cmpint(us_sendto(s, "x", 1, 0, NULL, 0), ==, -1);
	g_assert_cmpint(errno, ==, EDESTADDRREQ);
	sclose(s);
	net_fini(&n);
}

/* 65507 bytes is the largest UDP payload: it goes, fragmented by ip and
 * reassembled at B; one more is EMSGSIZE. */
static void
test_emsgsize(void)
{
	Net n;
	net_init(&n);
	int a = usock(&n, 0), b = usock(&n, 1);
	sbind(b, INADDR_ANY, 6000);
	g_autofree guint8 *big = g_malloc(UDP_TSDU_SIZE + 1);
	for (size_t i = 0; i < UDP_TSDU_SIZE + 1; i++)
		big[i] = (guint8)(i * 13 + (i >> 8));
	g_assert_cmpint(sendto_addr(a, big, UDP_TSDU_SIZE + 1, n.a[1], 6000), ==, -1);
	g_assert_cmpint(errno, ==, EMSGSIZE);
	ssendto(a, big, UDP_TSDU_SIZE, n.a[1], 6000);
	expect_datagram(b, n.a[0], local_port(a, NULL), big, UDP_TSDU_SIZE);
	g_assert_cmpuint(it_stat(n.ip[1], IP_STAT_REASM_OKS), ==, 1);
	sclose(a);
	sclose(b);
	net_fini(&n);
}

static void
test_enotconn(void)
{
	Net n;
	net_init(&n);
	int s = usock(&n, 0);
	struct sockaddr_in p;
	socklen_t l = sizeof p;
	g_assert_cmpint(us_getpeername(s, SA(&p), &l), ==, -1);
	g_assert_cmpint(errno, ==, ENOTCONN);
	sconnect(s, n.a[1], 9);
	l = sizeof p;
	g_assert_cmpint(us_getpeername(s, SA(&p), &l), ==, 0);
	g_assert_cmphex(p.sin_addr.s_addr, ==, n.a[1]);
	g_assert_cmpuint(ntohs(p.sin_port), ==, 9);
	/* AF_UNSPEC dissolves the association. */
	struct sockaddr un = { .sa_family = AF_UNSPEC };
	g_assert_cmpint(us_connect(s, &un, sizeof un), ==, 0);
	l = sizeof p;
	g_assert_cmpint(us_getpeername(s, SA(&p), &l), ==, -1);
	g_assert_cmpint(errno, ==, ENOTCONN);
	sclose(s);
	net_fini(&n);
}

static void
test_eafnosupport(void)
{
	Net n;
	net_init(&n);
	g_assert_cmpint(us_socket(n.s[0], AF_INET6, SOCK_DGRAM, 0), ==, -1);
	g_assert_cmpint(errno, ==, EAFNOSUPPORT);
	g_assert_cmpint(us_socket(n.s[0], 4242, SOCK_DGRAM, 0), ==, -1);
	g_assert_cmpint(errno, ==, EAFNOSUPPORT);
	int s = usock(&n, 0);
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(5000) };
	g_assert_cmpint(us_bind(s, SA(&s6), sizeof s6), ==, -1);
	g_assert_cmpint(errno, ==, EAFNOSUPPORT);
	g_assert_cmpint(us_sendto(s, "x", 1, 0, SA(&s6), sizeof s6), ==, -1);
	g_assert_cmpint(errno, ==, EAFNOSUPPORT);
	g_assert_cmpint(us_connect(s, SA(&s6), sizeof s6), ==, -1);
	g_assert_cmpint(errno, ==, EAFNOSUPPORT);
	sclose(s);
	net_fini(&n);
}

static void
test_ebadf(void)
{
	Net n;
	net_init(&n);
	struct sockaddr_in a = sin_of(INADDR_ANY, 0);
	g_assert_cmpint(us_bind(-1, SA(&a), sizeof a), ==, -1);
	g_assert_cmpint(errno, ==, EBADF);
	int s = usock(&n, 0);
	sclose(s);
	g_assert_cmpint(us_sendto(s, "x", 1, 0, SA(&a), sizeof a), ==, -1);
	g_assert_cmpint(errno, ==, EBADF);
	g_assert_cmpint(us_recv(s, &a, sizeof a, 0), ==, -1);
	g_assert_cmpint(errno, ==, EBADF);
	socklen_t l = sizeof a;
	g_assert_cmpint(us_getsockname(s, SA(&a), &l), ==, -1);
	g_assert_cmpint(errno, ==, EBADF);
	g_assert_cmpint(us_close(s), ==, -1);
	g_assert_cmpint(errno, ==, EBADF);
	/* A stream that is not a socket. */
	l = sizeof a;
	g_assert_cmpint(us_getsockname(n.ip[0], SA(&a), &l), ==, -1);
	g_assert_cmpint(errno, ==, ENOTSOCK);
	net_fini(&n);
}

static void
test_einval(void)
{
	Net n;
	net_init(&n);
	int s = usock(&n, 0);
	struct sockaddr_in a = sin_of(INADDR_ANY, 5000);
	g_assert_cmpint(us_bind(s, SA(&a), sizeof a - 8), ==, -1); /* short address */
	g_assert_cmpint(errno, ==, EINVAL);
	sbind(s, INADDR_ANY, 5000);
	g_assert_cmpint(try_bind(s, INADDR_ANY, 5002), ==, EINVAL); /* bound already */
	g_assert_cmpint(try_bind(s, INADDR_ANY, 0), ==, EINVAL);
	g_assert_cmpuint(local_port(s, NULL), ==, 5000);
	/* A connect binds implicitly; bind afterwards is EINVAL too. */
	int c = usock(&n, 0);
	sconnect(c, n.a[1], 9);
	g_assert_cmpint(try_bind(c, INADDR_ANY, 5003), ==, EINVAL);
	/* Sending to port 0 (Linux). */
	g_assert_cmpint(sendto_addr(s, "x", 1, n.a[1], 0), ==, -1);
	g_assert_cmpint(errno, ==, EINVAL);
	sclose(c);
	sclose(s);
	net_fini(&n);
}

/* ------------------------------------------------------------------ */
/* Names and ports                                                    */
/* ------------------------------------------------------------------ */

static void
test_ephemeral(void)
{
	Net n;
	net_init(&n);
	int s1 = usock(&n, 0), s2 = usock(&n, 0), s3 = usock(&n, 0), s4 = usock(&n, 0);
	uint32_t la;
	/* Unbound: zeros. */
	g_assert_cmpuint(local_port(s1, &la), ==, 0);
	g_assert_cmphex(la, ==, INADDR_ANY);
	sbind(s1, INADDR_ANY, 0);
	sbind(s2, INADDR_ANY, 0);
	uint16_t p1 = local_port(s1, &la), p2 = local_port(s2, NULL);
	g_assert_cmphex(la, ==, INADDR_ANY);
	g_assert_cmpuint(p1, >=, DGRAM_PORT_LOW);
	g_assert_cmpuint(p1, <=, DGRAM_PORT_HIGH);
	g_assert_cmpuint(p2, >=, DGRAM_PORT_LOW);
	g_assert_cmpuint(p2, <=, DGRAM_PORT_HIGH);
	g_assert_cmpuint(p1, !=, p2);
	/* A send binds an unbound socket (autobind) ... */
	ssendto(s3, "x", 1, n.a[1], 9);
	uint16_t p3 = local_port(s3, &la);
	g_assert_cmpuint(p3, >=, DGRAM_PORT_LOW);
	g_assert_cmphex(la, ==, INADDR_ANY);
	/* ... and a connect too, with the route's source as the address. */
	sconnect(s4, n.a[1], 9);
	uint16_t p4 = local_port(s4, &la);
	g_assert_cmpuint(p4, >=, DGRAM_PORT_LOW);
	g_assert_cmphex(la, ==, n.a[0]);
	/* The peer sees the ephemeral port as the source. */
	int b = usock(&n, 1);
	sbind(b, INADDR_ANY, 6000);
	ssendto(s1, "p1", 2, n.a[1], 6000);
	expect_datagram(b, n.a[0], p1, "p1", 2);
	sclose(b);
	sclose(s1);
	sclose(s2);
	sclose(s3);
	sclose(s4);
	net_fini(&n);
}

/* ------------------------------------------------------------------ */
/* Receive flags and timeouts                                         */
/* ------------------------------------------------------------------ */

static void
test_msg_peek(void)
{
	Net n;
	net_init(&n);
	int a = usock(&n, 0), b = usock(&n, 1);
	sbind(a, INADDR_ANY, 5000);
	sbind(b, INADDR_ANY, 6000);
	ssendto(a, "first", 5, n.a[1], 6000);
	ssendto(a, "second", 6, n.a[1], 6000);
	char buf[32];
	uint32_t fa;
	uint16_t fp;
	for (int i = 0; i < 2; i++) {
		memset(buf, 0, sizeof buf);
		g_assert_cmpint(srecv(b, buf, sizeof buf, MSG_PEEK, &fa, &fp), ==, 5);
		g_assert_cmpstr(buf, ==, "first");
		g_assert_cmphex(fa, ==, n.a[0]);
		g_assert_cmpuint(fp, ==, 5000);
	}
	expect_datagram(b, n.a[0], 5000, "first", 5);
	expect_datagram(b, n.a[0], 5000, "second", 6);
	sclose(a);
	sclose(b);
	net_fini(&n);
}

static void
test_msg_trunc(void)
{
	Net n;
	net_init(&n);
	int a = usock(&n, 0), b = usock(&n, 1);
	sbind(b, INADDR_ANY, 6000);
	ssendto(a, "0123456789", 10, n.a[1], 6000);
	ssendto(a, "abcdefghij", 10, n.a[1], 6000);
	ssendto(a, "next", 4, n.a[1], 6000);
	char buf[16];
	struct iovec iov = { buf, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	/* Cut to the buffer; the rest of the datagram is gone. */
	g_assert_cmpint(us_recvmsg(b, &m, 0), ==, 4);
	g_assert_true(m.msg_flags & MSG_TRUNC);
	g_assert_cmpmem(buf, 4, "0123", 4);
	/* With MSG_TRUNC the real length is returned. */
	m.msg_flags = 0;
	g_assert_cmpint(us_recvmsg(b, &m, MSG_TRUNC), ==, 10);
	g_assert_true(m.msg_flags & MSG_TRUNC);
	g_assert_cmpmem(buf, 4, "abcd", 4);
	m.msg_flags = 0;
	g_assert_cmpint(us_recvmsg(b, &m, 0), ==, 4);
	g_assert_false(m.msg_flags & MSG_TRUNC);
	g_assert_cmpmem(buf, 4, "next", 4);
	g_assert_cmpuint(sock_stats(b).truncated, ==, 2);
	sclose(a);
	sclose(b);
	net_fini(&n);
}

static void
test_msg_dontwait(void)
{
	Net n;
	net_init(&n);
	int b = usock(&n, 1);
	sbind(b, INADDR_ANY, 6000);
	gint64 t0 = us_world_now(n.w);
	char buf[8];
	g_assert_cmpint(us_recv(b, buf, sizeof buf, MSG_DONTWAIT), ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
	g_assert_cmpint(us_world_now(n.w), ==, t0); /* no time passed */
	/* O_NONBLOCK does the same. */
	g_assert_cmpint(us_fcntl(b, F_SETFL, O_NONBLOCK), ==, 0);
	g_assert_cmpint(us_recv(b, buf, sizeof buf, 0), ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
	/* Once a datagram is there it is taken at once. */
	int a = usock(&n, 0);
	ssendto(a, "now", 3, n.a[1], 6000);
	net_run(&n, 1);
	g_assert_cmpint(us_recv(b, buf, sizeof buf, MSG_DONTWAIT), ==, 3);
	sclose(a);
	sclose(b);
	net_fini(&n);
}

static void
test_so_rcvtimeo(void)
{
	Net n;
	net_init(&n);
	int b = usock(&n, 1);
	sbind(b, INADDR_ANY, 6000);
	set_rcvtimeo(b, 250);
	struct timeval tv;
	socklen_t l = sizeof tv;
	g_assert_cmpint(us_getsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, &l), ==, 0);
	g_assert_cmpint(tv.tv_sec, ==, 0);
	g_assert_cmpint(tv.tv_usec, ==, 250000);
	gint64 t0 = us_world_now(n.w);
	char buf[8];
	g_assert_cmpint(us_recv(b, buf, sizeof buf, 0), ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
	/* The virtual clock moved by the timeout, no more. */
	g_assert_cmpint(us_world_now(n.w) - t0, ==, 250 * IT_MS);
	/* A datagram arriving before the timeout ends the wait then. */
	int a = usock(&n, 0);
	ssendto(a, "in time", 7, n.a[1], 6000);
	t0 = us_world_now(n.w);
	expect_datagram(b, n.a[0], local_port(a, NULL), "in time", 7);
	g_assert_cmpint(us_world_now(n.w) - t0, <, 250 * IT_MS);
	g_assert_cmpint(us_world_now(n.w) - t0, >=, IT_MS / 10); /* the wire's delay */
	sclose(a);
	sclose(b);
	net_fini(&n);
}

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */

static void
test_so_broadcast(void)
{
	Net n;
	net_init(&n);
	int a = usock(&n, 0), b = usock(&n, 1);
	sbind(b, INADDR_ANY, 6000);
	uint32_t bnet = it_ip(BCAST_NET);
	g_assert_cmpint(get_int(a, SOL_SOCKET, SO_BROADCAST), ==, 0);
	/* Connecting to a broadcast address needs SO_BROADCAST (Linux). */
	g_assert_cmpint(try_connect(a, bnet, 6000), ==, EACCES);
	g_assert_cmpint(try_connect(a, INADDR_BROADCAST, 6000), ==, EACCES);
	/* sendto: ip refuses it (EACCES); the error reaches an unconnected
	 * socket only as a counted discard (docs/sockets.md, Deviations). */
	ssendto(a, "no", 2, bnet, 6000);
	net_run(&n, 10);
	expect_nothing(b);
	g_assert_cmpuint(sock_stats(a).uderror_dropped, ==, 1);
	/* With SO_BROADCAST, to the subnet and to the limited broadcast. */
	set_int(a, SOL_SOCKET, SO_BROADCAST, 1);
	g_assert_cmpint(get_int(a, SOL_SOCKET, SO_BROADCAST), ==, 1);
	uint16_t pa = local_port(a, NULL);
	ssendto(a, "subnet", 6, bnet, 6000);
	expect_datagram(b, n.a[0], pa, "subnet", 6);
	ssendto(a, "all", 3, INADDR_BROADCAST, 6000);
	expect_datagram(b, n.a[0], pa, "all", 3);
	sconnect(a, bnet, 6000);
	g_assert_cmpint(us_send(a, "conn", 4, 0), ==, 4);
	expect_datagram(b, n.a[0], pa, "conn", 4);
	sclose(a);
	sclose(b);
	net_fini(&n);
}

/* The next datagram on raw socket r: the IP header's TTL and TOS, and the
 * UDP payload must be (data, len). */
static void
expect_raw_udp(int r, uint8_t ttl, uint8_t tos, const void *data, size_t len)
{
	guint8 buf[2048];
	ssize_t k = us_recv(r, buf, sizeof buf, 0);
	g_assert_cmpint(k, ==, (ssize_t)(20 + 8 + len));
	g_assert_cmpuint(buf[0], ==, 0x45);
	g_assert_cmpuint(buf[1], ==, tos);
	g_assert_cmpuint(buf[8], ==, ttl);
	g_assert_cmpuint(buf[9], ==, IPPROTO_UDP);
	g_assert_cmpmem(buf + 28, len, data, len);
}

static void
test_ip_ttl(void)
{
	Net n;
	net_init(&n);
	int a = usock(&n, 0), b = usock(&n, 1);
	int raw = us_socket(n.s[1], AF_INET, SOCK_RAW, IPPROTO_UDP);
	g_assert_cmpint(raw, >=, 0);
	set_rcvtimeo(raw, 1000);
	sbind(b, INADDR_ANY, 6000);
	g_assert_cmpint(get_int(a, IPPROTO_IP, IP_TTL), ==, 64);
	ssendto(a, "default", 7, n.a[1], 6000);
	expect_raw_udp(raw, 64, 0, "default", 7);
	set_int(a, IPPROTO_IP, IP_TTL, 7);
	set_int(a, IPPROTO_IP, IP_TOS, 0x10);
	g_assert_cmpint(get_int(a, IPPROTO_IP, IP_TTL), ==, 7);
	g_assert_cmpint(get_int(a, IPPROTO_IP, IP_TOS), ==, 0x10);
	ssendto(a, "ttl 7", 5, n.a[1], 6000);
	expect_raw_udp(raw, 7, 0x10, "ttl 7", 5);
	/* Bad values are refused, the option keeps its value. */
	int bad = 256;
	g_assert_cmpint(us_setsockopt(a, IPPROTO_IP, IP_TTL, &bad, sizeof bad), ==, -1);
	g_assert_cmpint(errno, ==, EINVAL);
	g_assert_cmpint(get_int(a, IPPROTO_IP, IP_TTL), ==, 7);
	/* -1 goes back to the default. */
	set_int(a, IPPROTO_IP, IP_TTL, -1);
	ssendto(a, "back", 4, n.a[1], 6000);
	expect_raw_udp(raw, 64, 0x10, "back", 4);
	/* The udp socket got the three datagrams as well. */
	for (int i = 0; i < 3; i++)
		g_assert_cmpint(us_recv(b, NULL, 0, MSG_DONTWAIT | MSG_TRUNC), >, 0);
	sclose(raw);
	sclose(a);
	sclose(b);
	net_fini(&n);
}

/* ------------------------------------------------------------------ */
/* Connected sockets                                                  */
/* ------------------------------------------------------------------ */

static void
test_connected_peer_only(void)
{
	Net n;
	net_init(&n);
	int a1 = usock(&n, 0), a2 = usock(&n, 0), b = usock(&n, 1);
	sbind(a1, INADDR_ANY, 5001);
	sbind(a2, INADDR_ANY, 5002);
	sbind(b, INADDR_ANY, 6000);
	sconnect(b, n.a[0], 5001);
	ssendto(a2, "stranger", 8, n.a[1], 6000);
	ssendto(a1, "peer", 4, n.a[1], 6000);
	expect_datagram(b, n.a[0], 5001, "peer", 4);
	expect_nothing(b);
	/* No other endpoint wanted it: port unreachable (as Linux). */
	g_assert_cmpuint(net_udp_stat(&n, 1, UDP_STAT_NO_PORTS), ==, 1);
	/* Disconnected, it hears everyone again. */
	struct sockaddr un = { .sa_family = AF_UNSPEC };
	g_assert_cmpint(us_connect(b, &un, sizeof un), ==, 0);
	g_assert_cmpuint(local_port(b, NULL), ==, 6000);
	ssendto(a2, "stranger", 8, n.a[1], 6000);
	expect_datagram(b, n.a[0], 5002, "stranger", 8);
	sclose(a1);
	sclose(a2);
	sclose(b);
	net_fini(&n);
}

static void
test_read_write(void)
{
	Net n;
	net_init(&n);
	int a = usock(&n, 0), b = usock(&n, 1);
	sbind(b, INADDR_ANY, 6000);
	sconnect(a, n.a[1], 6000);
	uint16_t pa = local_port(a, NULL);
	sconnect(b, n.a[0], pa);
	g_assert_cmpint(us_write(a, "written", 7), ==, 7);
	char buf[16];
	g_assert_cmpint(us_read(b, buf, sizeof buf), ==, 7);
	g_assert_cmpmem(buf, 7, "written", 7);
	g_assert_cmpint(us_write(b, "reply one", 9), ==, 9);
	g_assert_cmpint(us_write(b, "two", 3), ==, 3);
	g_assert_cmpint(us_write(b, "", 0), ==, 0); /* an empty datagram */
	/* Boundaries are kept: a short read takes one datagram. */
	g_assert_cmpint(us_read(a, buf, 5), ==, 5);
	g_assert_cmpmem(buf, 5, "reply", 5);
	g_assert_cmpint(us_read(a, buf, sizeof buf), ==, 3);
	g_assert_cmpmem(buf, 3, "two", 3);
	g_assert_cmpint(us_read(a, buf, sizeof buf), ==, 0);
	/* send/recv are the same thing. */
	g_assert_cmpint(us_send(a, "sent", 4, 0), ==, 4);
	g_assert_cmpint(us_recv(b, buf, sizeof buf, 0), ==, 4);
	struct iovec iov[2] = { { "ve", 2 }, { "ctor", 4 } };
	g_assert_cmpint(us_writev(a, iov, 2), ==, 6);
	g_assert_cmpint(us_read(b, buf, sizeof buf), ==, 6);
	g_assert_cmpmem(buf, 6, "vector", 6);
	sclose(a);
	sclose(b);
	net_fini(&n);
}

/* A small receive buffer: what does not fit is dropped and counted. */
static void
test_so_rcvbuf_drops(void)
{
	Net n;
	net_init(&n);
	int a = usock(&n, 0), b = usock(&n, 1);
	sbind(b, INADDR_ANY, 6000);
	set_int(b, SOL_SOCKET, SO_RCVBUF, 1000);
	g_assert_cmpint(get_int(b, SOL_SOCKET, SO_RCVBUF), ==, DGRAM_RCVBUF_MIN); /* raised */
	enum { N = 20, LEN = 500 };
	guint8 d[LEN];
	for (int i = 0; i < N; i++) {
		memset(d, i, sizeof d);
		ssendto(a, d, sizeof d, n.a[1], 6000);
	}
	net_run(&n, 10);
	guint got = 0;
	guint8 buf[LEN + 1];
	int last = -1;
	while (us_recv(b, buf, sizeof buf, MSG_DONTWAIT) == LEN) {
		g_assert_cmpint(buf[0], >, last);
		last = buf[0];
		got++;
	}
	g_assert_cmpint(errno, ==, EAGAIN);
	guint64 drops = net_udp_stat(&n, 1, UDP_STAT_RCVBUF_ERRORS);
	g_test_message("%u received, %" G_GUINT64_FORMAT " dropped", got, drops);
	g_assert_cmpuint(got, >=, 1);
	g_assert_cmpuint(got, <=, DGRAM_RCVBUF_MIN / LEN + 1);
	g_assert_cmpuint(got + drops, ==, N);
	g_assert_cmpuint(net_udp_stat(&n, 1, UDP_STAT_IN_ERRORS), ==, drops);
	g_assert_cmpuint(us_stack_drop_count(n.s[1], "udp", DGRAM_DROP_RCVBUF), ==, drops);
	/* With room again, datagrams are taken. */
	ssendto(a, d, sizeof d, n.a[1], 6000);
	g_assert_cmpint(us_recv(b, buf, sizeof buf, 0), ==, LEN);
	sclose(a);
	sclose(b);
	net_fini(&n);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/udp/sockets/lossy-exchange", test_lossy_exchange);
	g_test_add_func("/udp/sockets/lossy-deterministic", test_lossy_deterministic);
	g_test_add_func("/udp/sockets/port-unreachable", test_port_unreachable);
	g_test_add_func("/udp/sockets/eaddrinuse", test_eaddrinuse);
	g_test_add_func("/udp/sockets/reuseport", test_reuseport);
	g_test_add_func("/udp/sockets/eaddrnotavail", test_eaddrnotavail);
	g_test_add_func("/udp/sockets/edestaddrreq", test_edestaddrreq);
	g_test_add_func("/udp/sockets/emsgsize", test_emsgsize);
	g_test_add_func("/udp/sockets/enotconn", test_enotconn);
	g_test_add_func("/udp/sockets/eafnosupport", test_eafnosupport);
	g_test_add_func("/udp/sockets/ebadf", test_ebadf);
	g_test_add_func("/udp/sockets/einval", test_einval);
	g_test_add_func("/udp/sockets/ephemeral", test_ephemeral);
	g_test_add_func("/udp/sockets/msg-peek", test_msg_peek);
	g_test_add_func("/udp/sockets/msg-trunc", test_msg_trunc);
	g_test_add_func("/udp/sockets/msg-dontwait", test_msg_dontwait);
	g_test_add_func("/udp/sockets/so-rcvtimeo", test_so_rcvtimeo);
	g_test_add_func("/udp/sockets/so-broadcast", test_so_broadcast);
	g_test_add_func("/udp/sockets/ip-ttl", test_ip_ttl);
	g_test_add_func("/udp/sockets/connected-peer-only", test_connected_peer_only);
	g_test_add_func("/udp/sockets/read-write", test_read_write);
	g_test_add_func("/udp/sockets/so-rcvbuf-drops", test_so_rcvbuf_drops);
	return g_test_run();
}
