/* SPDX-License-Identifier: MIT */
/*
 * bench-ip -- datagrams per second forwarded by an ip router stack, with two
 * references measured in the same run:
 *
 *   peer A --wire "ar"--> R: wire / ether / arp / ip (forwarding) / arp /
 *   ether / wire --wire "rb"--> peer B
 *
 * A writes IPv4 frames addressed (MAC) to R and (IP) to B; R checks them,
 * looks the route up, decrements the TTL, and sends them on through its
 * fast-path header; B counts what arrives.  The references: the same frames
 * over one wire from A to B (no router: the cost of the two wire hops and
 * the peers), and a bare memcpy of each frame.  Virtual time, so only CPU is
 * measured.  Sizes: 64-byte and 1500-byte IP datagrams.
 *
 * Usage: bench-ip [--quick]
 */
#include <ustreams/ustreams.h>

#include "../drivers/wire/wire.h"
#include "../modules/arp/arp.h"
#include "../modules/ether/ether.h"
#include "../modules/ip/inet-cksum.h"
#include "../modules/ip/ip.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static guint npackets = 300000;
static guint64 arrived;

static gint64
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
count_rput(queue_t *q, mblk_t *mp)
{
	(void)q;
	arrived++;
	freemsg(mp);
	return 0;
}

static int
pass_wput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return 0;
}

static struct module_info count_minfo = {
	.mi_idname = "count", .mi_maxpsz = INFPSZ, .mi_hiwat = 1 << 20, .mi_lowat = 1 << 10
};
static struct qinit count_rinit = { .qi_putp = count_rput, .qi_minfo = &count_minfo };
static struct qinit count_winit = { .qi_putp = pass_wput, .qi_minfo = &count_minfo };
static const UsHeadOps count_head = { .rinit = &count_rinit, .winit = &count_winit };

static uint32_t
ip4(const char *s)
{
	uint32_t a;
	if (inet_pton(AF_INET, s, &a) != 1)
		g_error("bad address %s", s);
	return a;
}

static UsStream *
peer(UsStack *s, const char *wire)
{
	UsStream *st = us_stream_open(s, "wire", 0, &count_head, NULL, NULL);
	if (st == NULL || !us_param_set(us_stream_driver_rq(st), "name", wire, NULL))
		g_error("cannot open a wire end");
	return st;
}

static void
istr(int fd, int cmd, void *data, int len)
{
	struct strioctl sc = { .ic_cmd = cmd, .ic_len = len, .ic_dp = data };
	if (us_ioctl(fd, I_STR, &sc) < 0)
		g_error("ioctl 0x%x: %s", cmd, g_strerror(errno));
}

/* An interface of the router: wire / ether / arp with a static neighbour,
 * linked under ipfd, named, addressed. */
static void
router_if(UsStack *s, int ipfd, const char *wire, const char *mac, const char *name,
	  const char *addr, const char *nb, const char *nbmac)
{
	int fd = us_open(s, "wire", O_RDWR);
	istr(fd, WIRE_JOIN, (void *)wire, (int)strlen(wire) + 1);
	if (us_ioctl(fd, I_PUSH, "ether") != 0 || us_ioctl(fd, I_PUSH, "arp") != 0)
		g_error("push");
	queue_t *eq = us_stream_head_wq(us_fd_stream(fd))->q_next->q_next;
	if (!us_param_set(eq, "mac", mac, NULL))
		g_error("mac");
	struct arp_static_req sr = { .addr = ip4(nb) };
	ether_addr_parse(nbmac, sr.mac);
	istr(fd, ARP_ADD_STATIC, &sr, sizeof sr);
	int muxid = us_ioctl(ipfd, I_PLINK, fd);
	us_close(fd);
	struct ip_if_req ir = { .muxid = muxid };
	g_strlcpy(ir.name, name, sizeof ir.name);
	istr(ipfd, IP_IF_SET, &ir, sizeof ir);
	struct ip_addr_req ar = { .addr = ip4(addr), .plen = 24 };
	g_strlcpy(ar.ifname, name, sizeof ar.ifname);
	istr(ipfd, IP_ADDR_ADD, &ar, sizeof ar);
}

/* A frame from A to B (IP), addressed to dmac. */
static size_t
make_frame(uint8_t *f, const char *dmac, size_t iplen)
{
	memset(f, 0, 14 + iplen);
	ether_addr_parse(dmac, f);
	ether_addr_parse("02:0a:00:00:00:01", f + 6);
	f[12] = 0x08;
	uint8_t *h = f + 14;
	h[0] = 0x45;
	h[2] = (uint8_t)(iplen >> 8);
	h[3] = (uint8_t)iplen;
	h[8] = 64;
	h[9] = 99;
	uint32_t s = ip4("10.0.1.1"), d = ip4("10.0.2.1");
	memcpy(h + 12, &s, 4);
	memcpy(h + 16, &d, 4);
	uint16_t sum = us_cksum(h, 20);
	memcpy(h + 10, &sum, 2);
	return 14 + iplen;
}

/* Sends npackets copies of frame down a, draining the world every 64;
 * returns ns per packet and checks that they all reached the counter. */
static double
pump(UsWorld *w, UsStream *a, const uint8_t *frame, size_t len)
{
	arrived = 0;
	gint64 t0 = now_ns();
	for (guint i = 0; i < npackets; i++) {
		mblk_t *mp = allocb(len, BPRI_MED);
		memcpy(mp->b_wptr, frame, len);
		mp->b_wptr += len;
		put(us_stream_head_wq(a), mp);
		if ((i & 63) == 63)
			us_world_run_pending(w);
	}
	us_world_run_pending(w);
	double ns = (double)(now_ns() - t0) / npackets;
	if (arrived != npackets)
		g_warning("only %" G_GUINT64_FORMAT " of %u packets arrived", arrived, npackets);
	return ns;
}

static double
bench_router(size_t iplen, guint64 *forwarded)
{
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *r = us_stack_new(w, "r"), *pa = us_stack_new(w, "pa"), *pb = us_stack_new(w, "pb");
	int ipfd = us_open(r, "ip", O_RDWR);
	router_if(r, ipfd, "ar", "02:0e:00:00:00:01", "eth0", "10.0.1.254", "10.0.1.1",
		  "02:0a:00:00:00:01");
	router_if(r, ipfd, "rb", "02:0e:00:00:00:02", "eth1", "10.0.2.254", "10.0.2.1",
		  "02:0b:00:00:00:01");
	queue_t *ipq = us_stream_driver_rq(us_fd_stream(ipfd));
	us_param_set(ipq, "forwarding", "true", NULL);
	UsStream *a = peer(pa, "ar");
	peer(pb, "rb");
	static uint8_t f[1600];
	size_t len = make_frame(f, "02:0e:00:00:00:01", iplen);
	pump(w, a, f, len); /* warm up: ARP-free, but the fast-path header is fetched */
	double ns = pump(w, a, f, len);
	us_stat_get(ipq, "ipForwDatagrams", forwarded);
	us_close(ipfd);
	us_world_free(w);
	return ns;
}

static double
bench_wire_only(size_t iplen)
{
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *pa = us_stack_new(w, "pa"), *pb = us_stack_new(w, "pb");
	UsStream *a = peer(pa, "ab");
	peer(pb, "ab");
	static uint8_t f[1600];
	size_t len = make_frame(f, "02:0b:00:00:00:01", iplen);
	pump(w, a, f, len);
	double ns = pump(w, a, f, len);
	us_world_free(w);
	return ns;
}

static double
bench_memcpy(size_t len)
{
	static uint8_t src[1600], dst[1600];
	volatile uint8_t sink = 0;
	gint64 t0 = now_ns();
	for (guint i = 0; i < npackets * 4; i++) {
		src[i % len] = (uint8_t)i;
		memcpy(dst, src, len);
		sink ^= dst[i % len];
	}
	(void)sink;
	return (double)(now_ns() - t0) / (npackets * 4);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--quick") == 0)
		npackets = 30000;
	us_init();
	static const size_t sizes[] = { 64, 1500 };
	for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
		guint64 fwd = 0;
		double r = bench_router(sizes[i], &fwd);
		double wire = bench_wire_only(sizes[i]);
		double mc = bench_memcpy(sizes[i] + 14);
		printf("ip forward %4zu B: %7.1f ns/packet %6.2f M packets/s | one wire, no router "
		       "%6.1f ns (ratio %.1f) | memcpy %5.1f ns (ratio %.0f) | forwarded "
		       "%" G_GUINT64_FORMAT "\n",
		       sizes[i], r, 1000.0 / r, wire, r / wire, mc, r / mc, fwd);
	}
	return 0;
}
