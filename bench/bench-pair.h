/* SPDX-License-Identifier: MIT */
/*
 * bench-pair.h -- what the transport benchmarks share: two stacks A
 * (10.0.0.1) and B (10.0.0.2) on one wire in a virtual-time world, plumbed
 * with the same descriptor operations a program uses (wire / ether / arp
 * I_PLINKed under ip, static neighbours so no ARP is timed, one transport
 * linked over ip), and small helpers.  Errors end the benchmark.
 */
#ifndef US_BENCH_PAIR_H
#define US_BENCH_PAIR_H

#include <ustreams/ustreams.h>

#include "../drivers/wire/wire.h"
#include "../modules/arp/arp.h"
#include "../modules/ether/ether.h"
#include "../modules/ip/ip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>

static inline struct sockaddr_in
sin_of(const char *addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, addr, &s.sin_addr) != 1)
		g_error("bad address %s", addr);
	return s;
}

static inline void
istr(int fd, int cmd, void *data, int len)
{
	struct strioctl sc = { .ic_cmd = cmd, .ic_len = len, .ic_dp = data };
	if (us_ioctl(fd, I_STR, &sc) < 0)
		g_error("ioctl 0x%x: %s", cmd, g_strerror(errno));
}

/* Links transport driver name over a fresh ip upper of stack s. */
static inline void
link_transport(UsStack *s, const char *name)
{
	int t = us_open(s, name, O_RDWR), lower = us_open(s, "ip", O_RDWR);
	if (t < 0 || lower < 0 || us_ioctl(t, I_PLINK, lower) < 0)
		g_error("linking %s", name);
	us_close(lower);
	us_close(t);
}

typedef struct {
	UsWorld *w;
	UsStack *s[2];
	int ip[2];
} Pair;

/* Wires with "offload" (partial checksums and HW_LSO frames cross, as
 * over a veth pair). */
static gboolean pair_offload;

static inline void
pair_host(Pair *p, int i, const char *transport)
{
	static const char *const macs[2] = { "02:0a:00:00:00:01", "02:0b:00:00:00:01" };
	static const char *const addrs[2] = { "10.0.0.1", "10.0.0.2" };
	p->s[i] = us_stack_new(p->w, i ? "b" : "a");
	p->ip[i] = us_open(p->s[i], "ip", O_RDWR);
	int fd = us_open(p->s[i], "wire", O_RDWR);
	if (pair_offload &&
	    !us_param_set(us_stream_driver_rq(us_fd_stream(fd)), "offload", "true", NULL))
		g_error("offload");
	istr(fd, WIRE_JOIN, "ab", 3);
	if (us_ioctl(fd, I_PUSH, "ether") != 0 || us_ioctl(fd, I_PUSH, "arp") != 0)
		g_error("push");
	queue_t *eq = us_stream_head_wq(us_fd_stream(fd))->q_next->q_next;
	if (!us_param_set(eq, "mac", macs[i], NULL))
		g_error("mac");
	struct arp_static_req sr = { .addr = sin_of(addrs[1 - i], 0).sin_addr.s_addr };
	ether_addr_parse(macs[1 - i], sr.mac);
	istr(fd, ARP_ADD_STATIC, &sr, sizeof sr);
	int muxid = us_ioctl(p->ip[i], I_PLINK, fd);
	us_close(fd);
	struct ip_if_req ir = { .muxid = muxid };
	g_strlcpy(ir.name, "eth0", sizeof ir.name);
	istr(p->ip[i], IP_IF_SET, &ir, sizeof ir);
	struct ip_addr_req ar = { .addr = sin_of(addrs[i], 0).sin_addr.s_addr, .plen = 24 };
	g_strlcpy(ar.ifname, "eth0", sizeof ar.ifname);
	istr(p->ip[i], IP_ADDR_ADD, &ar, sizeof ar);
	link_transport(p->s[i], transport);
}

/* A and B with transport linked on each; announcements have gone by. */
static inline void
pair_new(Pair *p, const char *transport)
{
	p->w = us_world_new(US_CLOCK_VIRTUAL, 1);
	pair_host(p, 0, transport);
	pair_host(p, 1, transport);
	us_world_advance(p->w, US_NSEC_PER_SEC);
}

static inline void
pair_free(Pair *p)
{
	us_close(p->ip[0]);
	us_close(p->ip[1]);
	us_world_free(p->w);
}

#endif /* US_BENCH_PAIR_H */
