/* SPDX-License-Identifier: MIT */
/*
 * test-icmp.c -- the raw-IP transport "icmp" through real stream heads: its
 * TPI service, raw sends (the payload as the application built it, with and
 * without IP_HDRINCL), receives (a copy to every endpoint of the protocol,
 * IP header included, address filters, ICMP_FILTER), errors, the receive
 * buffer and the link.  ip is played by the fakeip test driver (fakeip.h);
 * the world runs in virtual time, and every test checks that no message
 * outlived it.
 */
#include "dgramtest.h"
#include "icmp.h"

#include "inet-cksum.h"

#include <netinet/in.h>

#ifndef SOL_RAW
#define SOL_RAW 255
#endif

/* An ICMP echo message (type 8 request, 0 reply) with its checksum. */
static size_t
echo_make(uint8_t *out, uint8_t type, uint16_t id, uint16_t seq, const char *data)
{
	size_t n = 8 + strlen(data);
	memset(out, 0, 8);
	out[0] = type;
	out[4] = (uint8_t)(id >> 8);
	out[5] = (uint8_t)id;
	out[6] = (uint8_t)(seq >> 8);
	out[7] = (uint8_t)seq;
	memcpy(out + 8, data, strlen(data));
	uint16_t c = us_cksum(out, n);
	memcpy(out + 2, &c, 2);
	return n;
}

/* A datagram of protocol proto from src to dst comes up from ip. */
static void
inject_ip(DtFx *fx, uint32_t src, uint32_t dst, uint8_t proto, const void *data, size_t len)
{
	fakeip_inject(fx->ip, fakeip_unitdata_ind(fakeip_datagram(src, dst, proto, data, len), 0));
}

/* Reads T_UNITDATA_IND: the sender (port 0) and the data, which starts with
 * the IP header. */
static void
expect_raw(int fd, uint32_t src, uint32_t dst, uint8_t proto, const void *data, size_t len)
{
	uint32_t a;
	uint16_t p;
	g_autoptr(DtMsg) m = dt_recv(fd, &a, &p);
	g_assert_cmphex(a, ==, src);
	g_assert_cmpuint(p, ==, 0);
	g_assert_cmpint(m->dlen, ==, (int)(20 + len));
	g_assert_cmphex(m->data[0], ==, 0x45);
	g_assert_cmpuint(m->data[9], ==, proto);
	g_assert_cmpmem(m->data + 12, 4, &src, 4);
	g_assert_cmpmem(m->data + 16, 4, &dst, 4);
	g_assert_cmpmem(m->data + 20, len, data, len);
}

static guint64
stack_stat(DtFx *fx, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_icmp_stack_stat(fx->stack, name, &v));
	return v;
}

static int
open_proto(DtFx *fx, int proto)
{
	int fd = dt_open(fx);
	g_assert_cmpint(dt_setopt(fd, SOL_SOCKET, US_SO_PROTOTYPE, proto), ==, proto);
	return fd;
}

/* ------------------------------------------------------------------ */
/* Service                                                            */
/* ------------------------------------------------------------------ */

static void
test_info(void)
{
	DtFx fx;
	dt_init(&fx, "icmp", TRUE);
	FakeIp *fi = fakeip_of(fx.ip);
	g_assert_cmpuint(fi->fi_nbind, ==, 1);
	g_assert_cmpuint(fi->fi_bind_flags, ==, IP_BINDF_RAW);
	struct T_info_ack ia = dt_info(fx.ctl);
	g_assert_cmpint(ia.TSDU_size, ==, 65515);
	g_assert_cmpint(ia.TIDU_size, ==, 65515);
	g_assert_cmpint(ia.SERV_type, ==, T_CLTS);
	g_assert_cmpint(ia.ADDR_size, ==, 16);
	g_assert_cmpint(ia.CURRENT_state, ==, TS_UNBND);
	g_assert_cmpint(dt_getopt(fx.ctl, SOL_SOCKET, SO_TYPE), ==, SOCK_RAW);
	g_assert_cmpint(dt_getopt(fx.ctl, SOL_SOCKET, US_SO_PROTOTYPE), ==, IPPROTO_ICMP);
	dt_setopt_fails(fx.ctl, SOL_SOCKET, US_SO_PROTOTYPE, 0, TSYSERR, EINVAL);
	dt_setopt_fails(fx.ctl, SOL_SOCKET, US_SO_PROTOTYPE, 256, TSYSERR, EINVAL);
	g_assert_cmpint(dt_getopt(fx.ctl, IPPROTO_IP, IP_HDRINCL), ==, 0);
	g_assert_cmpint(dt_getopt(fx.ctl, SOL_RAW, ICMP_FILTER), ==, 0);
	/* A second link is refused. */
	int ip2 = us_open(fx.stack, "fakeip", O_RDWR);
	errno = 0;
	g_assert_cmpint(us_ioctl(fx.ctl, I_PLINK, ip2), ==, -1);
	g_assert_cmpint(errno, ==, EBUSY);
	dt_close(ip2);
	dt_fini(&fx);
}

/* Binding sets an address filter; the port is ignored. */
static void
test_bind(void)
{
	DtFx fx;
	dt_init(&fx, "icmp", TRUE);
	uint32_t a;
	uint16_t p;
	dt_bind_req(fx.ctl, T_BIND_REQ, TRUE, DT_LOCAL, 1234);
	dt_expect_bind_ack(fx.ctl, &a, &p);
	g_assert_cmphex(a, ==, DT_LOCAL);
	g_assert_cmpuint(p, ==, 0);
	/* Several endpoints on one address: no conflict. */
	int fd = dt_open(&fx);
	dt_bind(fd, DT_LOCAL, 0);
	dt_close(fd);
	fd = dt_open(&fx);
	dt_bind_req(fd, T_BIND_REQ, TRUE, DT_OTHER, 0);
	dt_expect_error_ack(fd, T_BIND_REQ, TNOADDR, 0);
	dt_bind(fd, INADDR_ANY, 0);
	struct T_unbind_req ub = { .PRIM_type = T_UNBIND_REQ };
	g_assert_cmpint(dt_putmsg(fd, FALSE, &ub, sizeof ub, NULL, -1), ==, 0);
	dt_expect_ok_ack(fd, T_UNBIND_REQ);
	dt_close(fd);
	dt_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Sending                                                            */
/* ------------------------------------------------------------------ */

static void
test_send_echo(void)
{
	DtFx fx;
	dt_init(&fx, "icmp", TRUE);
	uint8_t echo[64];
	size_t n = echo_make(echo, 8, 0x1234, 1, "ping data");
	dt_sendto(fx.ctl, DT_PEER, 0, echo, n);
	struct ip_unitdata_req req;
	mblk_t *mp = dt_take_sent(&fx, &req);
	g_assert_cmphex(req.dst, ==, DT_PEER);
	g_assert_cmphex(req.src, ==, INADDR_ANY);
	g_assert_cmpuint(req.proto, ==, IPPROTO_ICMP);
	g_assert_cmpuint(req.flags, ==, 0); /* no checksum, no header */
	size_t len;
	g_autofree guint8 *got = dt_payload(mp, &len);
	g_assert_cmpmem(got, len, echo, n);
	freemsg(mp);
	/* Raw endpoints need no binding to send. */
	g_assert_cmpint(dt_info(fx.ctl).CURRENT_state, ==, TS_UNBND);
	g_assert_cmpuint(dt_stat(fx.ctl, ICMP_STAT_OUT_DATAGRAMS), ==, 1);
	/* Bound to our address: that is the source; another protocol. */
	int fd = open_proto(&fx, 89);
	dt_bind(fd, DT_LOCAL2, 0);
	dt_sendto(fd, DT_PEER, 7, "ospf", 4);
	mp = dt_take_sent(&fx, &req);
	g_assert_cmphex(req.src, ==, DT_LOCAL2);
	g_assert_cmpuint(req.proto, ==, 89);
	freemsg(mp);
	/* An empty datagram still carries an (empty) data block. */
	dt_sendto(fd, DT_PEER, 0, "", 0);
	mp = dt_take_sent(&fx, &req);
	g_assert_cmpuint(msgdsize(mp->b_cont), ==, 0);
	freemsg(mp);
	dt_close(fd);
	dt_fini(&fx);
}

static void
test_send_hdrincl(void)
{
	DtFx fx;
	uint32_t a;
	uint16_t p;
	dt_init(&fx, "icmp", TRUE);
	g_assert_cmpint(dt_setopt(fx.ctl, IPPROTO_IP, IP_HDRINCL, 1), ==, 1);
	mblk_t *dg = fakeip_datagram(DT_LOCAL, DT_PEER, IPPROTO_ICMP, "abcd", 4);
	guint8 buf[24];
	us_msgcopyout(dg, 0, buf, sizeof buf);
	freemsg(dg);
	dt_sendto(fx.ctl, DT_PEER, 0, buf, sizeof buf);
	struct ip_unitdata_req req;
	mblk_t *mp = dt_take_sent(&fx, &req);
	g_assert_cmpuint(req.flags & IP_F_HDRINCL, ==, IP_F_HDRINCL);
	g_assert_cmpuint(msgdsize(mp->b_cont), ==, sizeof buf);
	freemsg(mp);
	/* Shorter than an IP header. */
	dt_sendto(fx.ctl, DT_PEER, 0, buf, 10);
	g_assert_cmpint(dt_expect_uderror(fx.ctl, &a, &p), ==, EINVAL);
	/* IPPROTO_RAW implies it. */
	int fd = open_proto(&fx, IPPROTO_RAW);
	g_assert_cmpint(dt_getopt(fd, IPPROTO_IP, IP_HDRINCL), ==, 1);
	dt_sendto(fd, DT_PEER, 0, buf, sizeof buf);
	mp = dt_take_sent(&fx, &req);
	g_assert_cmpuint(req.flags & IP_F_HDRINCL, ==, IP_F_HDRINCL);
	freemsg(mp);
	dt_close(fd);
	dt_fini(&fx);
}

static void
test_send_errors(void)
{
	DtFx fx;
	uint32_t a;
	uint16_t p;
	dt_init(&fx, "icmp", FALSE);
	dt_sendto(fx.ctl, DT_PEER, 0, "x", 1);
	g_assert_cmpint(dt_expect_uderror(fx.ctl, &a, &p), ==, ENETDOWN);
	fx.muxid = us_ioctl(fx.ctl, I_PLINK, fx.ip);
	g_assert_cmpint(fx.muxid, >, 0);
	g_autofree guint8 *big = g_malloc0(65516);
	dt_sendto(fx.ctl, DT_PEER, 0, big, 65516);
	g_assert_cmpint(dt_expect_uderror(fx.ctl, &a, &p), ==, EMSGSIZE);
	dt_sendto(fx.ctl, DT_PEER, 0, big, 65515);
	struct ip_unitdata_req req;
	freemsg(dt_take_sent(&fx, &req));
	dt_setopt(fx.ctl, IPPROTO_IP, IP_HDRINCL, 1); /* the header counts: up to 65535 */
	big[0] = 0x45;
	dt_sendto(fx.ctl, DT_PEER, 0, big, 65516);
	freemsg(dt_take_sent(&fx, &req));
	dt_setopt(fx.ctl, IPPROTO_IP, IP_HDRINCL, 0);
	/* ip has no route: the sender hears of it. */
	int other = dt_open(&fx);
	dt_sendto(fx.ctl, DT_FAR, 0, "x", 1);
	g_assert_cmpint(dt_expect_uderror(fx.ctl, &a, &p), ==, ENETUNREACH);
	g_assert_cmphex(a, ==, DT_FAR);
	dt_expect_nothing(&fx, other);
	/* A datagram to the broadcast address needs SO_BROADCAST. */
	dt_sendto(other, DT_BCAST, 0, "x", 1);
	g_assert_cmpint(dt_expect_uderror(other, &a, &p), ==, EACCES);
	dt_expect_nothing(&fx, fx.ctl);
	g_assert_cmpuint(stack_stat(&fx, ICMP_STAT_OUT_ERRORS), ==, 4);
	dt_close(other);
	dt_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Receiving                                                          */
/* ------------------------------------------------------------------ */

static void
test_recv_protocols(void)
{
	DtFx fx;
	dt_init(&fx, "icmp", TRUE);
	int b = dt_open(&fx);
	int u = open_proto(&fx, IPPROTO_UDP);
	uint8_t echo[64];
	size_t n = echo_make(echo, 0, 7, 1, "reply");
	inject_ip(&fx, DT_PEER, DT_LOCAL, IPPROTO_ICMP, echo, n);
	expect_raw(fx.ctl, DT_PEER, DT_LOCAL, IPPROTO_ICMP, echo, n);
	expect_raw(b, DT_PEER, DT_LOCAL, IPPROTO_ICMP, echo, n);
	dt_expect_nothing(&fx, u);
	inject_ip(&fx, DT_PEER, DT_LOCAL, IPPROTO_UDP, "udpdata!", 8);
	expect_raw(u, DT_PEER, DT_LOCAL, IPPROTO_UDP, "udpdata!", 8);
	dt_expect_nothing(&fx, fx.ctl);
	dt_expect_nothing(&fx, b);
	/* Nobody's protocol: counted, but not a drop (ip's copy). */
	inject_ip(&fx, DT_PEER, DT_LOCAL, IPPROTO_TCP, "tcp", 3);
	g_assert_cmpuint(stack_stat(&fx, ICMP_STAT_NO_ENDPOINT), ==, 1);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_NO_PORT), ==, 0);
	g_assert_cmpuint(stack_stat(&fx, ICMP_STAT_IN_DATAGRAMS), ==, 3);
	g_assert_cmpuint(dt_stat(b, ICMP_STAT_IN_DATAGRAMS), ==, 1);
	/* Multi-block datagrams come up as they are. */
	mblk_t *dg = fakeip_datagram(DT_PEER, DT_LOCAL, IPPROTO_ICMP, echo, n);
	fakeip_split(dg, 9);
	fakeip_inject(fx.ip, fakeip_unitdata_ind(dg, 0));
	expect_raw(fx.ctl, DT_PEER, DT_LOCAL, IPPROTO_ICMP, echo, n);
	expect_raw(b, DT_PEER, DT_LOCAL, IPPROTO_ICMP, echo, n);
	/* Too short for its header length. */
	dg = fakeip_datagram(DT_PEER, DT_LOCAL, IPPROTO_ICMP, "", 0);
	mblk_t *ind = fakeip_unitdata_ind(dg, 0);
	((struct ip_unitdata_ind *)ind->b_rptr)->hdr_len = 24;
	fakeip_inject(fx.ip, ind);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_SHORT), ==, 1);
	dt_close(b);
	dt_close(u);
	dt_fini(&fx);
}

/* The bound address and the peer filter what arrives. */
static void
test_recv_address_filters(void)
{
	DtFx fx;
	dt_init(&fx, "icmp", TRUE);
	int bound = dt_open(&fx);
	dt_bind(bound, DT_LOCAL, 0);
	int conn = dt_open(&fx);
	dt_connect(conn, DT_PEER, 0);
	g_assert_cmphex(dt_addr(conn).laddr, ==, DT_LOCAL);
	uint8_t echo[64];
	size_t n = echo_make(echo, 0, 7, 1, "x");
	inject_ip(&fx, DT_PEER2, DT_LOCAL2, IPPROTO_ICMP, echo, n);
	expect_raw(fx.ctl, DT_PEER2, DT_LOCAL2, IPPROTO_ICMP, echo, n);
	dt_expect_nothing(&fx, bound);
	dt_expect_nothing(&fx, conn);
	inject_ip(&fx, DT_PEER, DT_LOCAL, IPPROTO_ICMP, echo, n);
	expect_raw(fx.ctl, DT_PEER, DT_LOCAL, IPPROTO_ICMP, echo, n);
	expect_raw(bound, DT_PEER, DT_LOCAL, IPPROTO_ICMP, echo, n);
	expect_raw(conn, DT_PEER, DT_LOCAL, IPPROTO_ICMP, echo, n);
	/* The connected endpoint sends to its peer with no DEST. */
	dt_sendto_opt(conn, FALSE, 0, 0, NULL, 0, echo, n);
	struct ip_unitdata_req req;
	freemsg(dt_take_sent(&fx, &req));
	g_assert_cmphex(req.dst, ==, DT_PEER);
	g_assert_cmphex(req.src, ==, DT_LOCAL);
	dt_disconnect(conn);
	g_assert_cmpint(dt_info(conn).CURRENT_state, ==, TS_UNBND);
	dt_close(bound);
	dt_close(conn);
	dt_fini(&fx);
}

static void
test_recv_icmp_filter(void)
{
	DtFx fx;
	dt_init(&fx, "icmp", TRUE);
	int plain = dt_open(&fx);
	g_assert_cmpint(dt_setopt(fx.ctl, SOL_RAW, ICMP_FILTER, 1 << 8), ==, 1 << 8);
	uint8_t req[64], rep[64];
	size_t nq = echo_make(req, 8, 1, 1, "q"), np = echo_make(rep, 0, 1, 1, "p");
	inject_ip(&fx, DT_PEER, DT_LOCAL, IPPROTO_ICMP, req, nq);
	inject_ip(&fx, DT_PEER, DT_LOCAL, IPPROTO_ICMP, rep, np);
	expect_raw(fx.ctl, DT_PEER, DT_LOCAL, IPPROTO_ICMP, rep, np);
	dt_expect_nothing(&fx, fx.ctl);
	expect_raw(plain, DT_PEER, DT_LOCAL, IPPROTO_ICMP, req, nq);
	expect_raw(plain, DT_PEER, DT_LOCAL, IPPROTO_ICMP, rep, np);
	g_assert_cmpuint(dt_stat(fx.ctl, ICMP_STAT_FILTERED), ==, 1);
	/* Only the filtering endpoint: the copy is not made at all. */
	dt_close(plain);
	inject_ip(&fx, DT_PEER, DT_LOCAL, IPPROTO_ICMP, req, nq);
	dt_expect_nothing(&fx, fx.ctl);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_FILTERED), ==, 1);
	/* An ICMP datagram without a type is filtered (Linux icmp_filter). */
	inject_ip(&fx, DT_PEER, DT_LOCAL, IPPROTO_ICMP, "", 0);
	dt_expect_nothing(&fx, fx.ctl);
	g_assert_cmpuint(stack_stat(&fx, ICMP_STAT_FILTERED), ==, 3);
	/* Not an ICMP endpoint: EOPNOTSUPP. */
	int u = open_proto(&fx, IPPROTO_UDP);
	dt_setopt_fails(u, SOL_RAW, ICMP_FILTER, 1, TSYSERR, EOPNOTSUPP);
	dt_close(u);
	dt_fini(&fx);
}

static void
test_rcvbuf(void)
{
	DtFx fx;
	dt_init(&fx, "icmp", TRUE);
	dt_setopt(fx.ctl, SOL_SOCKET, SO_RCVBUF, 3000);
	static guint8 chunk[1000];
	for (int i = 0; i < 6; i++)
		inject_ip(&fx, DT_PEER, DT_LOCAL, IPPROTO_ICMP, chunk, sizeof chunk);
	guint64 in = dt_stat(fx.ctl, ICMP_STAT_IN_DATAGRAMS);
	guint64 drops = dt_stat(fx.ctl, ICMP_STAT_RCVBUF_ERRORS);
	g_assert_cmpuint(in + drops, ==, 6);
	g_assert_cmpuint(drops, >, 0);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_RCVBUF), ==, drops);
	for (guint64 i = 0; i < in; i++)
		expect_raw(fx.ctl, DT_PEER, DT_LOCAL, IPPROTO_ICMP, chunk, sizeof chunk);
	dt_expect_nothing(&fx, fx.ctl);
	dt_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

static void
test_icmp_error(void)
{
	DtFx fx;
	uint32_t a;
	uint16_t p;
	dt_init(&fx, "icmp", TRUE);
	int conn = open_proto(&fx, 253);
	dt_connect(conn, DT_PEER, 0);
	int loose = open_proto(&fx, 253);
	/* Protocol unreachable about conn's datagram: a hard error. */
	mblk_t *quote = fakeip_datagram(DT_LOCAL, DT_PEER, 253, "12345678", 8);
	fakeip_inject(fx.ip, fakeip_icmp_ind(DT_PEER, 3, 2, ENOPROTOOPT, quote));
	g_assert_cmpint(dt_expect_uderror(conn, &a, &p), ==, ENOPROTOOPT);
	g_assert_cmphex(a, ==, DT_PEER);
	dt_expect_nothing(&fx, loose);
	/* Time exceeded is soft: not reported. */
	quote = fakeip_datagram(DT_LOCAL, DT_PEER, 253, "12345678", 8);
	fakeip_inject(fx.ip, fakeip_icmp_ind(DT_PEER2, 11, 0, EHOSTUNREACH, quote));
	dt_expect_nothing(&fx, conn);
	g_assert_cmpuint(stack_stat(&fx, ICMP_STAT_ICMP_ERRORS), ==, 1);
	g_assert_cmpuint(stack_stat(&fx, ICMP_STAT_ICMP_IGNORED), ==, 1);
	dt_close(conn);
	dt_close(loose);
	dt_fini(&fx);
}

/* Through fakeip's loopback: ping yourself, see the request come back
 * with its IP header, as ping does on Linux. */
static void
test_loopback_ping(void)
{
	DtFx fx;
	dt_init(&fx, "icmp", TRUE);
	fakeip_set_loopback(fx.ip, TRUE);
	uint8_t echo[64];
	size_t n = echo_make(echo, 8, 0x4242, 3, "are you there");
	dt_setopt(fx.ctl, IPPROTO_IP, IP_TTL, 33);
	dt_sendto(fx.ctl, DT_LOCAL, 0, echo, n);
	uint32_t a;
	uint16_t p;
	g_autoptr(DtMsg) m = dt_recv(fx.ctl, &a, &p);
	g_assert_cmphex(a, ==, DT_LOCAL);
	g_assert_cmpint(m->dlen, ==, (int)(20 + n));
	g_assert_cmpuint(m->data[8], ==, 33); /* the TTL asked for */
	g_assert_cmpuint(us_cksum(m->data, 20), ==, 0);
	g_assert_cmpmem(m->data + 20, n, echo, n);
	struct ip_unitdata_req req;
	freemsg(dt_take_sent(&fx, &req));
	dt_fini(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/icmp/info", test_info);
	g_test_add_func("/icmp/bind", test_bind);
	g_test_add_func("/icmp/send/echo", test_send_echo);
	g_test_add_func("/icmp/send/hdrincl", test_send_hdrincl);
	g_test_add_func("/icmp/send/errors", test_send_errors);
	g_test_add_func("/icmp/recv/protocols", test_recv_protocols);
	g_test_add_func("/icmp/recv/address-filters", test_recv_address_filters);
	g_test_add_func("/icmp/recv/icmp-filter", test_recv_icmp_filter);
	g_test_add_func("/icmp/rcvbuf", test_rcvbuf);
	g_test_add_func("/icmp/error/icmp", test_icmp_error);
	g_test_add_func("/icmp/loopback-ping", test_loopback_ping);
	return g_test_run();
}
