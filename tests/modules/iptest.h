/* SPDX-License-Identifier: MIT */
/*
 * iptest.h -- what the IP-layer tests share: building hosts through the
 * stream head exactly as a program (or the config language) does -- wire /
 * ether / arp interface streams I_PLINKed under ip, addresses and routes by
 * I_STR -- a "peer" that writes and reads raw Ethernet frames on the other
 * end of a wire, a fake transport speaking ip.h's primitives, and frame
 * builders.  Every helper asserts success, so tests read as behaviour.
 */
#ifndef US_IPTEST_H
#define US_IPTEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <ustreams/ustreams.h>

#include "../../drivers/wire/wire.h"
#include "../../modules/arp/arp.h"
#include "../../modules/ether/ether.h"
#include "../../modules/ip/inet-cksum.h"
#include "../../modules/ip/ip.h"

#define IT_MS (G_GINT64_CONSTANT(1000000))
#define IP_BROADCAST 0xffffffffu

static inline uint32_t
it_ip(const char *s)
{
	struct in_addr a;
	g_assert_cmpint(inet_pton(AF_INET, s, &a), ==, 1);
	return a.s_addr;
}

static inline int
it_open(UsStack *s, const char *drv)
{
	int fd = us_open(s, drv, O_RDWR);
	g_assert_cmpint(fd, >=, 0);
	return fd;
}

/* I_STR: returns ioc_rval (>= 0) or -errno; *len in: data length, out: the
 * reply's length (len may be NULL for no data). */
static inline int
it_istr_len(int fd, int cmd, void *data, int *len)
{
	struct strioctl sc = {
		.ic_cmd = cmd, .ic_timout = 0, .ic_len = len != NULL ? *len : 0, .ic_dp = data
	};
	int r = us_ioctl(fd, I_STR, &sc);
	if (len != NULL)
		*len = sc.ic_len;
	return r < 0 ? -errno : r;
}

static inline int
it_istr(int fd, int cmd, void *data, int len)
{
	return it_istr_len(fd, cmd, data, &len);
}

/* The queue of module `name` on fd's stream (its write queue). */
static inline queue_t *
it_module_wq(int fd, const char *name)
{
	UsStream *st = us_fd_stream(fd);
	for (queue_t *q = us_stream_head_wq(st)->q_next; q != NULL; q = q->q_next) {
		const UsModuleDesc *d = us_queue_desc(q);
		if (d != NULL && strcmp(d->name, name) == 0)
			return q;
	}
	g_assert_not_reached();
	return NULL;
}

static inline void
it_param(queue_t *q, const char *name, const char *value)
{
	GError *error = NULL;
	g_assert_true(us_param_set(q, name, value, &error));
	g_assert_no_error(error);
}

static inline void
it_drv_param(int fd, const char *name, const char *value)
{
	it_param(us_stream_driver_rq(us_fd_stream(fd)), name, value);
}

/* The ip instance's driver read queue, through any ip descriptor. */
static inline queue_t *
it_ipq(int ipfd)
{
	return us_stream_driver_rq(us_fd_stream(ipfd));
}

static inline guint64
it_stat(int ipfd, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(it_ipq(ipfd), name, &v));
	return v;
}

static inline guint64
it_drops(int ipfd, guint reason)
{
	return us_drop_count(it_ipq(ipfd), reason);
}

/* Opens a wire end joined to wire `wire` on stack s: a descriptor. */
static inline int
it_wire(UsStack *s, const char *wire)
{
	int fd = it_open(s, "wire");
	g_assert_cmpint(it_istr(fd, WIRE_JOIN, (void *)wire, (int)strlen(wire) + 1), ==, 0);
	return fd;
}

static inline void
it_addr(int ipfd, const char *ifname, const char *addr, int plen)
{
	struct ip_addr_req r = { .addr = it_ip(addr), .plen = (uint32_t)plen };
	g_strlcpy(r.ifname, ifname, sizeof r.ifname);
	g_assert_cmpint(it_istr(ipfd, IP_ADDR_ADD, &r, sizeof r), ==, 0);
}

/* An interface: wire end on `wire`, ether with mac, arp, static neighbours
 * (pairs of address and MAC strings, NULL-terminated), I_PLINKed under ipfd,
 * named ifname, with addr/plen.  Returns the muxid. */
static inline int
it_iface(UsStack *s, int ipfd, const char *wire, const char *mac, const char *ifname,
	 const char *addr, int plen, const char *const *statics)
{
	int fd = it_wire(s, wire);
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "ether"), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "arp"), ==, 0);
	it_param(it_module_wq(fd, "ether"), "mac", mac);
	for (guint i = 0; statics != NULL && statics[i] != NULL; i += 2) {
		struct arp_static_req sr = { .addr = it_ip(statics[i]) };
		g_assert_true(ether_addr_parse(statics[i + 1], sr.mac));
		g_assert_cmpint(it_istr(fd, ARP_ADD_STATIC, &sr, sizeof sr), ==, 0);
	}
	int muxid = us_ioctl(ipfd, I_PLINK, fd);
	g_assert_cmpint(muxid, >, 0);
	g_assert_cmpint(us_close(fd), ==, 0);
	struct ip_if_req ir = { .muxid = muxid };
	g_strlcpy(ir.name, ifname, sizeof ir.name);
	g_assert_cmpint(it_istr(ipfd, IP_IF_SET, &ir, sizeof ir), ==, 0);
	if (addr != NULL)
		it_addr(ipfd, ifname, addr, plen);
	return muxid;
}

static inline int
it_route(int ipfd, const char *dst, int plen, const char *gw, const char *ifname, uint32_t metric)
{
	struct ip_route_entry e = { .dst = it_ip(dst),
				    .plen = (uint32_t)plen,
				    .gateway = gw != NULL ? it_ip(gw) : 0,
				    .metric = metric };
	if (ifname != NULL)
		g_strlcpy(e.ifname, ifname, sizeof e.ifname);
	return it_istr(ipfd, IP_ROUTE_ADD, &e, sizeof e);
}

/* ------------------------------------------------------------------ */
/* A fake transport on an ip upper                                    */
/* ------------------------------------------------------------------ */

/* Binds a new ip upper to proto (flags IP_BINDF_*): a descriptor. */
static inline int
it_transport(UsStack *s, uint32_t proto, uint32_t flags)
{
	int fd = it_open(s, "ip");
	struct ip_bind_req br = { .prim = IP_BIND_REQ, .proto = proto, .flags = flags };
	struct strbuf ctl = { .len = sizeof br, .buf = (char *)&br };
	g_assert_cmpint(us_putmsg(fd, &ctl, NULL, 0), ==, 0);
	uint32_t buf[8];
	struct strbuf rc = { .maxlen = sizeof buf, .buf = (char *)buf };
	int fl = 0;
	g_assert_cmpint(us_getmsg(fd, &rc, NULL, &fl), ==, 0);
	g_assert_cmphex(buf[0], ==, IP_BIND_ACK);
	g_assert_cmpint(us_fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0);
	return fd;
}

/* IP_UNITDATA_REQ of payload to dst. */
static inline void
it_send(int fd, uint32_t dst, uint8_t proto, uint8_t ttl, uint32_t flags, const void *payload,
	size_t len)
{
	struct ip_unitdata_req ur = {
		.prim = IP_UNITDATA_REQ, .dst = dst, .proto = proto, .ttl = ttl, .flags = flags
	};
	struct strbuf ctl = { .len = sizeof ur, .buf = (char *)&ur };
	struct strbuf dat = { .len = (int)len, .buf = (char *)payload };
	g_assert_cmpint(us_putmsg(fd, &ctl, &dat, 0), ==, 0);
}

/* The next message on a transport: its primitive (0 if none waits), the
 * control part in ctl (at least 64 bytes), the data in data/dlen. */
static inline uint32_t
it_recv(int fd, void *ctl, void *data, size_t *dlen)
{
	struct strbuf c = { .maxlen = 64, .buf = ctl };
	struct strbuf d = { .maxlen = (int)*dlen, .buf = data };
	int fl = 0;
	if (us_getmsg(fd, &c, &d, &fl) < 0) {
		g_assert_cmpint(errno, ==, EAGAIN);
		*dlen = 0;
		return 0;
	}
	*dlen = d.len > 0 ? (size_t)d.len : 0;
	uint32_t prim;
	memcpy(&prim, ctl, sizeof prim);
	return prim;
}

/* ------------------------------------------------------------------ */
/* Frames                                                             */
/* ------------------------------------------------------------------ */

/* An Ethernet + IPv4 frame: returns its length.  off is the flags and
 * offset word (host order); hdr_extra options (a multiple of 4 long). */
static inline size_t
it_frame(uint8_t *f, const char *dmac, const char *smac, uint32_t src, uint32_t dst, uint8_t proto,
	 uint8_t ttl, uint16_t id, uint16_t off, const void *opts, size_t olen, const void *payload,
	 size_t plen)
{
	g_assert_true(ether_addr_parse(dmac, f));
	g_assert_true(ether_addr_parse(smac, f + 6));
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *h = f + 14;
	size_t hl = 20 + olen;
	memset(h, 0, 20);
	h[0] = (uint8_t)(0x40 | (hl / 4));
	h[2] = (uint8_t)((hl + plen) >> 8);
	h[3] = (uint8_t)(hl + plen);
	h[4] = (uint8_t)(id >> 8);
	h[5] = (uint8_t)id;
	h[6] = (uint8_t)(off >> 8);
	h[7] = (uint8_t)off;
	h[8] = ttl;
	h[9] = proto;
	memcpy(h + 12, &src, 4);
	memcpy(h + 16, &dst, 4);
	if (olen > 0)
		memcpy(h + 20, opts, olen);
	uint16_t sum = us_cksum(h, hl);
	memcpy(h + 10, &sum, 2);
	memcpy(h + hl, payload, plen);
	return 14 + hl + plen;
}

/* An ICMP echo request or reply with len bytes of pattern data. */
static inline size_t
it_echo(uint8_t *p, uint8_t type, uint16_t id, uint16_t seq, size_t len)
{
	memset(p, 0, 8);
	p[0] = type;
	p[4] = (uint8_t)(id >> 8);
	p[5] = (uint8_t)id;
	p[6] = (uint8_t)(seq >> 8);
	p[7] = (uint8_t)seq;
	for (size_t i = 0; i < len; i++)
		p[8 + i] = (uint8_t)(i * 7 + seq);
	uint16_t sum = us_cksum(p, 8 + len);
	memcpy(p + 2, &sum, 2);
	return 8 + len;
}

/* Reads the next frame on a peer descriptor (RMSGD, non-blocking): its
 * length, or 0 when none is there. */
static inline size_t
it_peer_read(int fd, uint8_t *buf, size_t len)
{
	ssize_t n = us_read(fd, buf, len);
	if (n < 0) {
		g_assert_cmpint(errno, ==, EAGAIN);
		return 0;
	}
	return (size_t)n;
}

/* Reads frames on a peer until an IPv4 one comes (ARP is skipped): the IP
 * header's offset in buf is 14.  Returns the frame length or 0. */
static inline size_t
it_peer_ipv4(int fd, uint8_t *buf, size_t len)
{
	size_t n;
	while ((n = it_peer_read(fd, buf, len)) > 0)
		if (n >= 34 && buf[12] == 0x08 && buf[13] == 0x00)
			return n;
	return 0;
}

/* A peer end on wire `wire`, on its own stack, reading whole frames. */
static inline int
it_peer(UsStack *s, const char *wire)
{
	int fd = it_wire(s, wire);
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGD), ==, 0);
	g_assert_cmpint(us_fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0);
	return fd;
}

#endif /* US_IPTEST_H */
