/* SPDX-License-Identifier: MIT */
/*
 * inet-host.h -- how a program plumbs an IPv4 host out of STREAMS pieces,
 * shared by the examples (ping, udp-echo-server, udp-client).  Every step
 * is an ordinary descriptor operation -- us_open, I_PUSH, I_PLINK, I_STR --
 * the same ones the config language performs:
 *
 *   host_new()        a stack with an ip instance, and the transports udp,
 *                     icmp (raw sockets) and tcp (when built) each linked
 *                     over an ip upper;
 *   host_iface()      an interface stream (wire or tap) with ether and arp
 *                     pushed, I_PLINKed under ip, named and addressed;
 *   host_route()      a static route by I_STR IP_ROUTE_ADD;
 *   host_pair()       the simulated default of the UDP examples: hosts A
 *                     (10.0.0.1) and B (10.0.0.2) on one lossy wire;
 *   host_tap()        one host on a TAP device, with an optional gateway;
 *   host_udp_echo()   an echo service's step: every datagram waiting on a
 *                     UDP socket sent back to where it came from.
 *
 * Errors end the program with a message: these are examples.
 */
#ifndef US_EXAMPLES_INET_HOST_H
#define US_EXAMPLES_INET_HOST_H

#include <ustreams/socket.h>
#include <ustreams/ustreams.h>

#include "../drivers/wire/wire.h"
#include "../modules/ip/ip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	UsStack *stack;
	int ipfd; /* an ip upper kept open for management ioctls */
} InetHost;

static inline void
host_die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, g_strerror(errno));
	exit(1);
}

static inline void
host_istr(int fd, int cmd, void *data, int len, const char *what)
{
	struct strioctl sc = { .ic_cmd = cmd, .ic_len = len, .ic_dp = data };
	if (us_ioctl(fd, I_STR, &sc) < 0)
		host_die(what);
}

/* Links transport driver `name` over a fresh ip upper stream. */
static inline void
host_transport(InetHost *h, const char *name)
{
	int t = us_open(h->stack, name, O_RDWR);
	int ip = us_open(h->stack, "ip", O_RDWR);
	if (t < 0 || ip < 0 || us_ioctl(t, I_PLINK, ip) < 0)
		host_die(name);
	us_close(ip);
	us_close(t); /* the link persists (I_PLINK) */
}

static inline void
host_new(InetHost *h, UsWorld *w, const char *name)
{
	h->stack = us_stack_new(w, name);
	h->ipfd = us_open(h->stack, "ip", O_RDWR);
	if (h->ipfd < 0)
		host_die("ip");
	host_transport(h, "udp");
	host_transport(h, "icmp");
	if (us_registry_find("tcp") != NULL)
		host_transport(h, "tcp");
}

/* "A.B.C.D/N" into an address (network order) and a prefix length. */
static inline void
host_cidr(const char *cidr, uint32_t *addr, uint32_t *plen)
{
	char buf[64];
	g_strlcpy(buf, cidr, sizeof buf);
	char *slash = strchr(buf, '/');
	*plen = slash != NULL ? (uint32_t)atoi(slash + 1) : 32;
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, addr) != 1) {
		fprintf(stderr, "bad address %s\n", cidr);
		exit(1);
	}
}

/* An interface: driver "wire" (joined to wire `where`) or "tap" (the TAP
 * device named `where`) with the driver parameters params (name, value
 * pairs, NULL-terminated; may be NULL), ether with mac, arp; linked under ip
 * as ifname with address cidr. */
static inline void
host_iface(InetHost *h, const char *driver, const char *where, const char *const *params,
	   const char *mac, const char *ifname, const char *cidr)
{
	int fd = us_open(h->stack, driver, O_RDWR);
	if (fd < 0)
		host_die(driver);
	queue_t *dq = us_stream_driver_rq(us_fd_stream(fd));
	GError *error = NULL;
	for (guint i = 0; params != NULL && params[i] != NULL; i += 2)
		if (!us_param_set(dq, params[i], params[i + 1], &error)) {
			fprintf(stderr, "%s %s: %s\n", driver, params[i], error->message);
			exit(1);
		}
	if (strcmp(driver, "wire") == 0)
		host_istr(fd, WIRE_JOIN, (void *)where, (int)strlen(where) + 1, "wire join");
	else if (!us_param_set(dq, "ifname", where, &error) ||
		 !us_param_set(dq, "up", "true", &error)) {
		fprintf(stderr, "%s %s: %s\n", driver, where, error->message);
		exit(1);
	}
	if (us_ioctl(fd, I_PUSH, "ether") < 0 || us_ioctl(fd, I_PUSH, "arp") < 0)
		host_die("I_PUSH");
	queue_t *ether = us_stream_head_wq(us_fd_stream(fd))->q_next->q_next;
	if (!us_param_set(ether, "mac", mac, &error)) {
		fprintf(stderr, "mac %s: %s\n", mac, error->message);
		exit(1);
	}
	int muxid = us_ioctl(h->ipfd, I_PLINK, fd);
	if (muxid < 0)
		host_die("I_PLINK");
	us_close(fd);
	struct ip_if_req ir = { .muxid = muxid };
	g_strlcpy(ir.name, ifname, sizeof ir.name);
	host_istr(h->ipfd, IP_IF_SET, &ir, sizeof ir, "IP_IF_SET");
	struct ip_addr_req ar;
	memset(&ar, 0, sizeof ar);
	g_strlcpy(ar.ifname, ifname, sizeof ar.ifname);
	host_cidr(cidr, &ar.addr, &ar.plen);
	host_istr(h->ipfd, IP_ADDR_ADD, &ar, sizeof ar, "IP_ADDR_ADD");
}

/* A static route to cidr through gateway gw. */
static inline void
host_route(InetHost *h, const char *cidr, const char *gw)
{
	struct ip_route_entry e;
	memset(&e, 0, sizeof e);
	host_cidr(cidr, &e.dst, &e.plen);
	if (inet_pton(AF_INET, gw, &e.gateway) != 1) {
		fprintf(stderr, "bad gateway %s\n", gw);
		exit(1);
	}
	host_istr(h->ipfd, IP_ROUTE_ADD, &e, sizeof e, "IP_ROUTE_ADD");
}

static inline void
host_forwarding(InetHost *h)
{
	GError *error = NULL;
	if (!us_param_set(us_stream_driver_rq(us_fd_stream(h->ipfd)), "forwarding", "true",
			  &error)) {
		fprintf(stderr, "forwarding: %s\n", error->message);
		exit(1);
	}
}

/* Hosts A (10.0.0.1/24) and B (10.0.0.2/24) of world w on the wire "ab"
 * with 250 us of delay and the given loss probability in each direction. */
static inline void
host_pair(UsWorld *w, double loss, InetHost *a, InetHost *b)
{
	char lossv[32];
	g_snprintf(lossv, sizeof lossv, "%g", loss);
	const char *const params[] = { "delay", "250000", "loss", lossv, NULL };
	host_new(a, w, "A");
	host_new(b, w, "B");
	host_iface(a, "wire", "ab", params, "02:00:00:00:00:0a", "eth0", "10.0.0.1/24");
	host_iface(b, "wire", "ab", params, "02:00:00:00:00:0b", "eth0", "10.0.0.2/24");
}

/* Host h on the TAP device tap (which may exist already) with address cidr,
 * MAC mac (NULL: 02:00:5e:00:00:01) and a default route through gw (may be
 * NULL). */
static inline void
host_tap(InetHost *h, UsWorld *w, const char *tap, const char *cidr, const char *gw,
	 const char *mac)
{
	host_new(h, w, "host");
	host_iface(h, "tap", tap, NULL, mac != NULL ? mac : "02:00:5e:00:00:01", "tap0", cidr);
	if (gw != NULL)
		host_route(h, "0.0.0.0/0", gw);
}

/* Sends every datagram waiting on the UDP socket fd back to its source,
 * without waiting; prints a line for each when label is not NULL.  Returns
 * the number echoed; *bytes (may be NULL) grows by their length. */
static inline int
host_udp_echo(int fd, const char *label, guint64 *bytes)
{
	static char buf[65536];
	int n = 0;
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t len = us_recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT,
					  (struct sockaddr *)&from, &fl);
		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return n;
			host_die("echo: recvfrom");
		}
		if (us_sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&from, fl) < 0)
			fprintf(stderr, "echo: sendto: %s\n", g_strerror(errno));
		if (label != NULL) {
			char src[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &from.sin_addr, src, sizeof src);
			printf("%s: echoed %zd bytes to %s:%u\n", label, len, src,
			       ntohs(from.sin_port));
		}
		if (bytes != NULL)
			*bytes += (guint64)len;
		n++;
	}
}

#endif /* US_EXAMPLES_INET_HOST_H */
