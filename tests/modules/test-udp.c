/* SPDX-License-Identifier: MIT */
/*
 * test-udp.c -- the udp transport through real stream heads: every TPI
 * primitive and its errors, binding rules, sending (header, checksum left to
 * ip, flags), receiving (length and checksum checks, the most specific
 * demultiplexing, SO_REUSEPORT spreading, broadcast copies, port
 * unreachable), ICMP and local errors, the receive buffer, options, flow
 * control across the multiplexor, and the link.  ip is played by the fakeip
 * test driver (fakeip.h); the world runs in virtual time, and every test
 * checks that no message outlived it.
 */
#include "dgramtest.h"
#include "udp.h"

#include "inet-cksum.h"

#include <netinet/in.h>

#ifndef SO_NO_CHECK
#define SO_NO_CHECK 11
#endif

static const char payload[] = "hello, datagram";
#define PLEN (sizeof payload - 1)

/* A datagram from src:sport to dst:dport goes up through fakeip. */
static void
inject_udp(DtFx *fx, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, const void *data,
	   size_t len, FakeIpCksum ck, uint32_t flags)
{
	mblk_t *dg = fakeip_udp_datagram(src, dst, sport, dport, data, len, ck);
	fakeip_inject(fx->ip, fakeip_unitdata_ind(dg, flags));
}

static guint64
stack_stat(DtFx *fx, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_udp_stack_stat(fx->stack, name, &v));
	return v;
}

typedef struct {
	queue_t *q;
	mblk_t *mp;
} PutArgs;

static void
put_on_world(gpointer data)
{
	PutArgs *p = data;
	put(p->q, p->mp);
}

/* Puts mp (consumed) on the transport's write queue of fd, on the world. */
static void
put_down(DtFx *fx, int fd, mblk_t *mp)
{
	PutArgs pa = { WR(us_stream_driver_rq(us_fd_stream(fd))), mp };
	us_world_call(fx->world, put_on_world, &pa);
}

/* An endpoint bound to addr:port, with SO_REUSEADDR/SO_REUSEPORT first. */
static int
open_bound(DtFx *fx, uint32_t addr, uint16_t port, gboolean reuseaddr, gboolean reuseport)
{
	int fd = dt_open(fx);
	if (reuseaddr)
		dt_setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (reuseport)
		dt_setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	dt_bind(fd, addr, port);
	return fd;
}

/* ------------------------------------------------------------------ */
/* Information                                                        */
/* ------------------------------------------------------------------ */

static void
test_info(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	struct T_info_ack ia = dt_info(fx.ctl);
	g_assert_cmpint(ia.TSDU_size, ==, 65507);
	g_assert_cmpint(ia.ETSDU_size, ==, T_INVALID);
	g_assert_cmpint(ia.CDATA_size, ==, T_INVALID);
	g_assert_cmpint(ia.DDATA_size, ==, T_INVALID);
	g_assert_cmpint(ia.ADDR_size, ==, (t_scalar_t)sizeof(struct sockaddr_in));
	g_assert_cmpint(ia.OPT_size, >, 0);
	g_assert_cmpint(ia.TIDU_size, ==, 65507);
	g_assert_cmpint(ia.SERV_type, ==, T_CLTS);
	g_assert_cmpint(ia.CURRENT_state, ==, TS_UNBND);
	g_assert_cmpint(ia.PROVIDER_flag & SENDZERO, ==, SENDZERO);
	dt_bind(fx.ctl, INADDR_ANY, 0);
	g_assert_cmpint(dt_info(fx.ctl).CURRENT_state, ==, TS_IDLE);

	/* T_CAPABILITY_REQ: the info and a per-endpoint acceptor id. */
	int fd2 = dt_open(&fx);
	guint ids[2];
	int fds[2] = { fx.ctl, fd2 };
	for (int i = 0; i < 2; i++) {
		struct T_capability_req cr = { .PRIM_type = T_CAPABILITY_REQ,
					       .CAP_bits1 = TC1_INFO | TC1_ACCEPTOR_ID };
		g_assert_cmpint(dt_putmsg(fds[i], TRUE, &cr, sizeof cr, NULL, -1), ==, 0);
		g_autoptr(DtMsg) m = dt_getmsg(fds[i]);
		struct T_capability_ack ca;
		g_assert_cmpint(dt_prim(m), ==, T_CAPABILITY_ACK);
		memcpy(&ca, m->ctl, sizeof ca);
		g_assert_cmpuint(ca.CAP_bits1, ==, TC1_INFO | TC1_ACCEPTOR_ID);
		g_assert_cmpint(ca.INFO_ack.PRIM_type, ==, T_INFO_ACK);
		g_assert_cmpint(ca.INFO_ack.TSDU_size, ==, 65507);
		ids[i] = ca.ACCEPTOR_id;
	}
	g_assert_cmpuint(ids[0], !=, ids[1]);
	dt_close(fd2);
	dt_fini(&fx);
}

/* A primitive udp does not offer, wrong states, malformed requests. */
static void
test_tpi_errors(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	struct T_data_req dr = { .PRIM_type = T_DATA_REQ };
	g_assert_cmpint(dt_putmsg(fd, FALSE, &dr, sizeof dr, "x", 1), ==, 0);
	dt_expect_error_ack(fd, T_DATA_REQ, TNOTSUPPORT, 0);
	struct T_unbind_req ub = { .PRIM_type = T_UNBIND_REQ };
	g_assert_cmpint(dt_putmsg(fd, FALSE, &ub, sizeof ub, NULL, -1), ==, 0);
	dt_expect_error_ack(fd, T_UNBIND_REQ, TOUTSTATE, 0);
	struct T_discon_req dc = { .PRIM_type = T_DISCON_REQ, .SEQ_number = -1 };
	g_assert_cmpint(dt_putmsg(fd, FALSE, &dc, sizeof dc, NULL, -1), ==, 0);
	dt_expect_error_ack(fd, T_DISCON_REQ, TOUTSTATE, 0);
	/* A bind request cut short, then one with the address outside it. */
	t_scalar_t shortbind[2] = { T_BIND_REQ, 16 };
	g_assert_cmpint(dt_putmsg(fd, FALSE, shortbind, sizeof shortbind, NULL, -1), ==, 0);
	dt_expect_error_ack(fd, T_BIND_REQ, TPROTO, 0);
	struct T_bind_req br = { .PRIM_type = T_BIND_REQ, .ADDR_length = 16, .ADDR_offset = 400 };
	g_assert_cmpint(dt_putmsg(fd, FALSE, &br, sizeof br, NULL, -1), ==, 0);
	dt_expect_error_ack(fd, T_BIND_REQ, TBADADDR, 0);
	br.ADDR_offset = -4;
	g_assert_cmpint(dt_putmsg(fd, FALSE, &br, sizeof br, NULL, -1), ==, 0);
	dt_expect_error_ack(fd, T_BIND_REQ, TBADADDR, 0);
	/* Too short to hold a PRIM_type: dropped and counted. */
	guint64 d0 = dt_drops(&fx, DGRAM_DROP_TPI);
	g_assert_cmpint(dt_putmsg(fd, FALSE, "ab", 2, NULL, -1), ==, 0);
	dt_expect_nothing(&fx, fd);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_TPI), ==, d0 + 1);
	/* Connect data is not supported on a datagram service. */
	unsigned char buf[sizeof(struct T_conn_req) + 16];
	struct T_conn_req cr = { .PRIM_type = T_CONN_REQ,
				 .DEST_length = 16,
				 .DEST_offset = sizeof cr };
	memcpy(buf, &cr, sizeof cr);
	dt_sin(buf + sizeof cr, DT_PEER, 53);
	g_assert_cmpint(dt_putmsg(fd, FALSE, buf, sizeof buf, "data", 4), ==, 0);
	dt_expect_error_ack(fd, T_CONN_REQ, TBADDATA, 0);
	/* Other ioctls than the link ones are refused. */
	struct strioctl sio = { .ic_cmd = 0x4242, .ic_len = 0 };
	errno = 0;
	g_assert_cmpint(us_ioctl(fd, I_STR, &sio), ==, -1);
	g_assert_cmpint(errno, ==, EINVAL);
	dt_close(fd);
	dt_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Binding                                                            */
/* ------------------------------------------------------------------ */

static void
test_bind_ephemeral(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int a = dt_open(&fx), b = dt_open(&fx);
	uint32_t addr;
	uint16_t pa, pb;
	dt_bind_req(a, T_BIND_REQ, FALSE, 0, 0); /* no address at all */
	dt_expect_bind_ack(a, &addr, &pa);
	g_assert_cmphex(addr, ==, INADDR_ANY);
	pb = dt_bind(b, INADDR_ANY, 0);
	g_assert_cmpuint(pa, >=, DGRAM_PORT_LOW);
	g_assert_cmpuint(pa, <=, DGRAM_PORT_HIGH);
	g_assert_cmpuint(pb, >=, DGRAM_PORT_LOW);
	g_assert_cmpuint(pb, <=, DGRAM_PORT_HIGH);
	g_assert_cmpuint(pa, !=, pb);
	DtAddrs ad = dt_addr(a);
	g_assert_cmpuint(ad.lport, ==, pa);
	g_assert_false(ad.connected);
	/* A second bind is out of state; unbind then bind again works. */
	dt_bind_req(a, T_BIND_REQ, TRUE, INADDR_ANY, 5000);
	dt_expect_error_ack(a, T_BIND_REQ, TOUTSTATE, 0);
	struct T_unbind_req ub = { .PRIM_type = T_UNBIND_REQ };
	g_assert_cmpint(dt_putmsg(a, FALSE, &ub, sizeof ub, NULL, -1), ==, 0);
	dt_expect_ok_ack(a, T_UNBIND_REQ);
	g_assert_cmpint(dt_info(a).CURRENT_state, ==, TS_UNBND);
	g_assert_cmpuint(dt_addr(a).lport, ==, 0);
	dt_bind(a, INADDR_ANY, 5000);
	dt_close(a);
	dt_close(b);
	dt_fini(&fx);
}

/* Ephemeral ports come from the world's seeded generator: the same seed
 * gives the same ports. */
static void
test_bind_ephemeral_deterministic(void)
{
	uint16_t first[2];
	for (int run = 0; run < 2; run++) {
		DtFx fx;
		dt_init(&fx, "udp", TRUE);
		first[run] = dt_bind(fx.ctl, INADDR_ANY, 0);
		dt_fini(&fx);
	}
	g_assert_cmpuint(first[0], ==, first[1]);
}

static void
test_bind_address(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, DT_LOCAL, 5001); /* ours: ip says IP_RF_LOCAL */
	dt_close(fd);
	fd = dt_open(&fx);
	dt_bind_req(fd, T_BIND_REQ, TRUE, DT_OTHER, 5001); /* not ours */
	dt_expect_error_ack(fd, T_BIND_REQ, TNOADDR, 0);
	g_assert_cmpint(dt_info(fd).CURRENT_state, ==, TS_UNBND);
	dt_bind(fd, DT_BCAST, 5001); /* our broadcast address */
	dt_close(fd);
	fd = dt_open(&fx);
	dt_bind(fd, fakeip_addr(239, 1, 2, 3), 5001); /* a group */
	dt_close(fd);
	fd = dt_open(&fx);
	dt_bind(fd, INADDR_BROADCAST, 5001);
	dt_close(fd);
	/* Malformed addresses. */
	fd = dt_open(&fx);
	unsigned char buf[sizeof(struct T_bind_req) + 16];
	struct T_bind_req br = { .PRIM_type = T_BIND_REQ,
				 .ADDR_length = 8,
				 .ADDR_offset = sizeof br };
	memcpy(buf, &br, sizeof br);
	dt_sin(buf + sizeof br, DT_LOCAL, 7);
	g_assert_cmpint(dt_putmsg(fd, FALSE, buf, sizeof buf, NULL, -1), ==, 0);
	dt_expect_error_ack(fd, T_BIND_REQ, TBADADDR, 0);
	br.ADDR_length = 16;
	memcpy(buf, &br, sizeof br);
	buf[sizeof br] = AF_INET6; /* sin_family, little or big: not AF_INET either way */
	buf[sizeof br + 1] = 0;
	g_assert_cmpint(dt_putmsg(fd, FALSE, buf, sizeof buf, NULL, -1), ==, 0);
	dt_expect_error_ack(fd, T_BIND_REQ, TBADADDR, 0);
	dt_close(fd);
	dt_fini(&fx);
}

/* A specific address without ip linked cannot be checked. */
static void
test_bind_address_no_lower(void)
{
	DtFx fx;
	dt_init(&fx, "udp", FALSE);
	dt_bind_req(fx.ctl, T_BIND_REQ, TRUE, DT_LOCAL, 5001);
	dt_expect_error_ack(fx.ctl, T_BIND_REQ, TNOADDR, 0);
	dt_bind(fx.ctl, INADDR_ANY, 5001);
	dt_fini(&fx);
}

static void
test_bind_conflicts(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int a = open_bound(&fx, INADDR_ANY, 6000, FALSE, FALSE);
	int b = dt_open(&fx);
	dt_bind_req(b, T_BIND_REQ, TRUE, INADDR_ANY, 6000);
	dt_expect_error_ack(b, T_BIND_REQ, TADDRBUSY, 0);
	dt_bind_req(b, T_BIND_REQ, TRUE, DT_LOCAL, 6000); /* overlaps INADDR_ANY */
	dt_expect_error_ack(b, T_BIND_REQ, TADDRBUSY, 0);
	/* O_T_BIND_REQ takes another port instead. */
	uint32_t addr;
	uint16_t port;
	dt_bind_req(b, O_T_BIND_REQ, TRUE, INADDR_ANY, 6000);
	dt_expect_bind_ack(b, &addr, &port);
	g_assert_cmpuint(port, !=, 6000);
	g_assert_cmpuint(port, >=, DGRAM_PORT_LOW);
	dt_close(b);
	dt_close(a);

	/* Distinct specific addresses do not overlap. */
	a = open_bound(&fx, DT_LOCAL, 6001, FALSE, FALSE);
	b = open_bound(&fx, DT_LOCAL2, 6001, FALSE, FALSE);
	int c = dt_open(&fx);
	dt_bind_req(c, T_BIND_REQ, TRUE, INADDR_ANY, 6001);
	dt_expect_error_ack(c, T_BIND_REQ, TADDRBUSY, 0);
	dt_close(a);
	dt_close(b);
	dt_close(c);

	/* SO_REUSEADDR on both sides shares; on one side only does not. */
	a = open_bound(&fx, INADDR_ANY, 6002, TRUE, FALSE);
	b = open_bound(&fx, INADDR_ANY, 6002, TRUE, FALSE);
	c = dt_open(&fx);
	dt_bind_req(c, T_BIND_REQ, TRUE, INADDR_ANY, 6002);
	dt_expect_error_ack(c, T_BIND_REQ, TADDRBUSY, 0);
	dt_close(a);
	dt_close(b);
	dt_close(c);

	/* SO_REUSEPORT likewise; mixing the two options does not share. */
	a = open_bound(&fx, INADDR_ANY, 6003, FALSE, TRUE);
	b = open_bound(&fx, INADDR_ANY, 6003, FALSE, TRUE);
	c = dt_open(&fx);
	dt_setopt(c, SOL_SOCKET, SO_REUSEADDR, 1);
	dt_bind_req(c, T_BIND_REQ, TRUE, INADDR_ANY, 6003);
	dt_expect_error_ack(c, T_BIND_REQ, TADDRBUSY, 0);
	dt_close(c);
	/* Closing frees the port. */
	dt_close(a);
	dt_close(b);
	a = open_bound(&fx, INADDR_ANY, 6003, FALSE, FALSE);
	dt_close(a);
	dt_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Sending                                                            */
/* ------------------------------------------------------------------ */

/* Checks the udp datagram of a recorded IP_UNITDATA_REQ. */
static void
check_udp_payload(const mblk_t *mp, const struct ip_unitdata_req *req, uint32_t src, uint16_t sport,
		  uint16_t dport, const void *data, size_t len)
{
	size_t n;
	g_autofree guint8 *u = dt_payload(mp, &n);
	g_assert_cmpuint(n, ==, 8 + len);
	g_assert_cmpuint((u[0] << 8) | u[1], ==, sport);
	g_assert_cmpuint((u[2] << 8) | u[3], ==, dport);
	g_assert_cmpuint((u[4] << 8) | u[5], ==, 8 + len);
	g_assert_cmpmem(u + 8, n - 8, data, len);
	/* fakeip filled the checksum in as ip does: it verifies. */
	uint64_t sum = us_cksum_pseudo(src, req->dst, IPPROTO_UDP, (uint16_t)n);
	g_assert_cmpuint(us_cksum_finish(us_cksum_add(sum, u, n)), ==, 0);
}

static void
test_send_basic(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	uint16_t port = dt_bind(fd, INADDR_ANY, 7001);
	dt_sendto(fd, DT_PEER, 53, payload, PLEN);
	struct ip_unitdata_req req;
	mblk_t *mp = dt_take_sent(&fx, &req);
	g_assert_cmphex(req.dst, ==, DT_PEER);
	g_assert_cmphex(req.src, ==, INADDR_ANY); /* bound to INADDR_ANY: ip chooses */
	g_assert_cmpuint(req.proto, ==, IPPROTO_UDP);
	g_assert_cmpuint(req.ttl, ==, 0);
	g_assert_cmpuint(req.flags, ==, IP_F_CKSUM | IP_F_CKSUM_UDP);
	g_assert_cmpuint(req.cksum_off, ==, 6);
	/* The header went in the headroom of the data block: one block. */
	g_assert_null(mp->b_cont->b_cont);
	g_assert_cmpuint(MBLKHEAD(mp->b_cont), >=, 20 + 14);
	check_udp_payload(mp, &req, DT_LOCAL, port, 53, payload, PLEN);
	freemsg(mp);
	g_assert_cmpuint(dt_stat(fd, UDP_STAT_OUT_DATAGRAMS), ==, 1);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_OUT_DATAGRAMS), ==, 1);

	/* Bound to one of our addresses: that is the source. */
	int fd2 = dt_open(&fx);
	dt_bind(fd2, DT_LOCAL2, 7002);
	dt_sendto(fd2, DT_PEER, 53, "", 0); /* an empty datagram */
	mp = dt_take_sent(&fx, &req);
	g_assert_cmphex(req.src, ==, DT_LOCAL2);
	check_udp_payload(mp, &req, DT_LOCAL2, 7002, 53, "", 0);
	freemsg(mp);
	dt_close(fd2);
	dt_close(fd);
	dt_fini(&fx);
}

/* Data without headroom (or shared) gets a header block of its own. */
static void
test_send_header_block(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 7003);
	/* Through a plain stream put from the world: no SO_WROFF headroom. */
	unsigned char buf[sizeof(struct T_unitdata_req) + 16];
	struct T_unitdata_req ur = { .PRIM_type = T_UNITDATA_REQ,
				     .DEST_length = 16,
				     .DEST_offset = sizeof ur };
	memcpy(buf, &ur, sizeof ur);
	dt_sin(buf + sizeof ur, DT_PEER, 99);
	/* Built by hand with no headroom and put on udp's write queue. */
	mblk_t *mp = us_msg_from(buf, sizeof buf, 0);
	DB_TYPE(mp) = M_PROTO;
	mp->b_cont = us_msg_from(payload, PLEN, 0);
	put_down(&fx, fd, mp);
	struct ip_unitdata_req req;
	mblk_t *sent = dt_take_sent(&fx, &req);
	g_assert_nonnull(sent->b_cont->b_cont); /* header block, then the data */
	g_assert_cmpuint(MBLKL(sent->b_cont), ==, 8);
	g_assert_cmpuint(MBLKHEAD(sent->b_cont), >=, 20 + 14);
	check_udp_payload(sent, &req, DT_LOCAL, 7003, 99, payload, PLEN);
	freemsg(sent);
	dt_close(fd);
	dt_fini(&fx);
}

static void
test_send_autobind(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_sendto(fd, DT_PEER, 53, payload, PLEN);
	struct ip_unitdata_req req;
	mblk_t *mp = dt_take_sent(&fx, &req);
	DtAddrs a = dt_addr(fd);
	g_assert_cmpuint(a.lport, >=, DGRAM_PORT_LOW);
	g_assert_cmpint(dt_info(fd).CURRENT_state, ==, TS_IDLE);
	check_udp_payload(mp, &req, DT_LOCAL, a.lport, 53, payload, PLEN);
	freemsg(mp);
	dt_close(fd);
	dt_fini(&fx);
}

static void
test_send_errors(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 7004);
	uint32_t a;
	uint16_t p;
	/* Larger than TSDU_size. */
	g_autofree guint8 *big = g_malloc0(65508);
	dt_sendto(fd, DT_PEER, 53, big, 65508);
	g_assert_cmpint(dt_expect_uderror(fd, &a, &p), ==, EMSGSIZE);
	g_assert_cmphex(a, ==, DT_PEER);
	g_assert_cmpuint(p, ==, 53);
	/* The largest one goes. */
	dt_sendto(fd, DT_PEER, 53, big, 65507);
	struct ip_unitdata_req req;
	freemsg(dt_take_sent(&fx, &req));
	/* No destination on an unconnected endpoint; port 0. */
	dt_sendto_opt(fd, FALSE, 0, 0, NULL, 0, payload, PLEN);
	g_assert_cmpint(dt_expect_uderror(fd, &a, &p), ==, EDESTADDRREQ);
	dt_sendto(fd, DT_PEER, 0, payload, PLEN);
	g_assert_cmpint(dt_expect_uderror(fd, &a, &p), ==, EINVAL);
	/* M_DATA (send) on an unconnected endpoint. */
	g_assert_cmpint(us_write(fd, payload, PLEN), ==, (ssize_t)PLEN);
	g_assert_cmpint(dt_expect_uderror(fd, &a, &p), ==, EDESTADDRREQ);
	/* A bad address family or length. */
	unsigned char buf[sizeof(struct T_unitdata_req) + 16];
	struct T_unitdata_req ur = { .PRIM_type = T_UNITDATA_REQ,
				     .DEST_length = 12,
				     .DEST_offset = sizeof ur };
	memcpy(buf, &ur, sizeof ur);
	dt_sin(buf + sizeof ur, DT_PEER, 53);
	g_assert_cmpint(dt_putmsg(fd, FALSE, buf, sizeof buf, payload, PLEN), ==, 0);
	g_assert_cmpint(dt_expect_uderror(fd, &a, &p), ==, EINVAL);
	ur.DEST_length = 16;
	memcpy(buf, &ur, sizeof ur);
	buf[sizeof ur] = AF_INET6;
	buf[sizeof ur + 1] = 0;
	g_assert_cmpint(dt_putmsg(fd, FALSE, buf, sizeof buf, payload, PLEN), ==, 0);
	g_assert_cmpint(dt_expect_uderror(fd, &a, &p), ==, EAFNOSUPPORT);
	/* Per-datagram options: unknown ones are refused. */
	struct {
		struct T_opthdr oh;
		int v;
	} opt = { { sizeof opt, IPPROTO_IP, IP_TTL, 0 }, 300 };
	dt_sendto_opt(fd, TRUE, DT_PEER, 53, &opt, sizeof opt, payload, PLEN);
	g_assert_cmpint(dt_expect_uderror(fd, &a, &p), ==, EINVAL);
	opt.v = 7;
	dt_sendto_opt(fd, TRUE, DT_PEER, 53, &opt, sizeof opt, payload, PLEN);
	freemsg(dt_take_sent(&fx, &req));
	g_assert_cmpuint(req.ttl, ==, 7);
	g_assert_cmpuint(dt_stat(fd, UDP_STAT_OUT_ERRORS), ==, 7);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_SEND), ==, 7);
	dt_expect_nothing(&fx, fd);
	dt_close(fd);
	dt_fini(&fx);
}

/* Before ip answered IP_BIND_REQ, and without ip: ENETDOWN. */
static void
test_send_enetdown(void)
{
	DtFx fx;
	uint32_t a;
	uint16_t p;
	dt_init(&fx, "udp", FALSE);
	dt_sendto(fx.ctl, DT_PEER, 53, payload, PLEN);
	g_assert_cmpint(dt_expect_uderror(fx.ctl, &a, &p), ==, ENETDOWN);
	fakeip_hold_binds(fx.ip, TRUE);
	fx.muxid = us_ioctl(fx.ctl, I_PLINK, fx.ip);
	g_assert_cmpint(fx.muxid, >, 0);
	g_assert_cmpuint(fakeip_of(fx.ip)->fi_nbind, ==, 1);
	g_assert_cmpuint(fakeip_of(fx.ip)->fi_bind_proto, ==, IPPROTO_UDP);
	g_assert_cmpuint(fakeip_of(fx.ip)->fi_bind_flags, ==, 0);
	dt_sendto(fx.ctl, DT_PEER, 53, payload, PLEN);
	g_assert_cmpint(dt_expect_uderror(fx.ctl, &a, &p), ==, ENETDOWN);
	g_assert_true(fakeip_release_bind(fx.ip));
	dt_sendto(fx.ctl, DT_PEER, 53, payload, PLEN);
	struct ip_unitdata_req req;
	freemsg(dt_take_sent(&fx, &req));
	dt_fini(&fx);
}

/* ip refuses the binding: datagrams keep failing. */
static void
test_ip_bind_refused(void)
{
	DtFx fx;
	uint32_t a;
	uint16_t p;
	dt_init(&fx, "udp", FALSE);
	fakeip_set_bind_error(fx.ip, EADDRINUSE);
	g_test_expect_message("us-dgram", G_LOG_LEVEL_WARNING, "udp: ip refused IP_BIND_REQ*");
	fx.muxid = us_ioctl(fx.ctl, I_PLINK, fx.ip);
	g_assert_cmpint(fx.muxid, >, 0);
	g_test_assert_expected_messages();
	dt_sendto(fx.ctl, DT_PEER, 53, payload, PLEN);
	g_assert_cmpint(dt_expect_uderror(fx.ctl, &a, &p), ==, ENETDOWN);
	dt_fini(&fx);
}

static void
test_send_broadcast(void)
{
	DtFx fx;
	uint32_t a;
	uint16_t p;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 7005);
	dt_sendto(fd, DT_BCAST, 67, payload, PLEN);
	g_assert_cmpint(dt_expect_uderror(fd, &a, &p), ==, EACCES); /* ip said so */
	g_assert_cmphex(a, ==, DT_BCAST);
	g_assert_cmpuint(p, ==, 67);
	g_assert_cmpuint(dt_stat(fd, UDP_STAT_OUT_ERRORS), ==, 1);
	g_assert_cmpint(dt_setopt(fd, SOL_SOCKET, SO_BROADCAST, 1), ==, 1);
	dt_sendto(fd, DT_BCAST, 67, payload, PLEN);
	struct ip_unitdata_req req;
	freemsg(dt_take_sent(&fx, &req));
	g_assert_cmpuint(req.flags & IP_F_BROADCAST, ==, IP_F_BROADCAST);
	dt_close(fd);
	dt_fini(&fx);
}

static void
test_send_options(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 7006);
	dt_setopt(fd, IPPROTO_IP, IP_TTL, 9);
	dt_setopt(fd, IPPROTO_IP, IP_TOS, 0x10);
	dt_setopt(fd, SOL_SOCKET, SO_DONTROUTE, 1);
	dt_sendto(fd, DT_PEER, 53, payload, PLEN);
	struct ip_unitdata_req req;
	freemsg(dt_take_sent(&fx, &req));
	g_assert_cmpuint(req.ttl, ==, 9);
	g_assert_cmpuint(req.tos, ==, 0x10);
	g_assert_cmpuint(req.flags & IP_F_DONTROUTE, ==, IP_F_DONTROUTE);
	dt_setopt(fd, IPPROTO_IP, IP_TTL, -1);
	g_assert_cmpint(dt_getopt(fd, IPPROTO_IP, IP_TTL), ==, 64);
	dt_setopt(fd, SOL_SOCKET, SO_NO_CHECK, 1);
	dt_sendto(fd, DT_PEER, 53, payload, PLEN);
	mblk_t *mp = dt_take_sent(&fx, &req);
	g_assert_cmpuint(req.ttl, ==, 0);
	g_assert_cmpuint(req.flags & IP_F_CKSUM, ==, 0);
	size_t n;
	g_autofree guint8 *u = dt_payload(mp, &n);
	g_assert_cmpuint(u[6] | u[7], ==, 0);
	freemsg(mp);
	dt_close(fd);
	dt_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Receiving                                                          */
/* ------------------------------------------------------------------ */

static void
test_recv_basic(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 8001);
	inject_udp(&fx, DT_PEER, 4000, DT_LOCAL, 8001, payload, PLEN, FAKEIP_CKSUM_GOOD, 0);
	dt_expect_datagram(fd, DT_PEER, 4000, payload, PLEN);
	/* A zero checksum means none. */
	inject_udp(&fx, DT_PEER, 4000, DT_LOCAL, 8001, payload, PLEN, FAKEIP_CKSUM_ZERO, 0);
	dt_expect_datagram(fd, DT_PEER, 4000, payload, PLEN);
	/* An empty datagram, and one split over several blocks at odd
	 * places (the checksum runs over the chain). */
	inject_udp(&fx, DT_PEER, 4000, DT_LOCAL, 8001, "", 0, FAKEIP_CKSUM_GOOD, 0);
	dt_expect_datagram(fd, DT_PEER, 4000, "", 0);
	mblk_t *dg = fakeip_udp_datagram(DT_PEER, DT_LOCAL, 4000, 8001, payload, PLEN,
					 FAKEIP_CKSUM_GOOD);
	fakeip_split(dg, 25);
	fakeip_split(dg, 3);
	fakeip_inject(fx.ip, fakeip_unitdata_ind(dg, 0));
	dt_expect_datagram(fd, DT_PEER, 4000, payload, PLEN);
	g_assert_cmpuint(dt_stat(fd, UDP_STAT_IN_DATAGRAMS), ==, 4);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_IN_DATAGRAMS), ==, 4);
	dt_close(fd);
	dt_fini(&fx);
}

static void
test_recv_bad_checksum(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 8002);
	inject_udp(&fx, DT_PEER, 4000, DT_LOCAL, 8002, payload, PLEN, FAKEIP_CKSUM_BAD, 0);
	dt_expect_nothing(&fx, fd);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_IN_CSUM_ERRORS), ==, 1);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_IN_ERRORS), ==, 1);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_IN_DATAGRAMS), ==, 0);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_CKSUM), ==, 1);
	/* A datagram whose checksum would be 0 carries 0xffff and verifies. */
	for (uint16_t sp = 1; sp != 0; sp++) {
		uint8_t u[8 + 2] = {
			(uint8_t)(sp >> 8), (uint8_t)sp, 0x1f, 0x42, 0, 10, 0, 0, 'h', 'i'
		};
		uint64_t sum = us_cksum_pseudo(DT_PEER, DT_LOCAL, IPPROTO_UDP, 10);
		if (us_cksum_finish(us_cksum_add(sum, u, sizeof u)) != 0)
			continue;
		u[6] = u[7] = 0xff;
		fakeip_inject(fx.ip, fakeip_unitdata_ind(fakeip_datagram(DT_PEER, DT_LOCAL,
									 IPPROTO_UDP, u, sizeof u),
							 0));
		dt_expect_datagram(fd, DT_PEER, sp, "hi", 2);
		break;
	}
	dt_close(fd);
	dt_fini(&fx);
}

static void
test_recv_lengths(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 8003);
	/* Shorter than a udp header. */
	fakeip_inject(fx.ip, fakeip_unitdata_ind(
				     fakeip_datagram(DT_PEER, DT_LOCAL, IPPROTO_UDP, "abc", 3), 0));
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_SHORT), ==, 1);
	/* Length field below 8, and beyond the datagram. */
	uint8_t u[8 + 6] = { 0x0f, 0xa0, 0x1f, 0x43, 0, 7, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f' };
	fakeip_inject(fx.ip,
		      fakeip_unitdata_ind(
			      fakeip_datagram(DT_PEER, DT_LOCAL, IPPROTO_UDP, u, sizeof u), 0));
	u[5] = 15;
	fakeip_inject(fx.ip,
		      fakeip_unitdata_ind(
			      fakeip_datagram(DT_PEER, DT_LOCAL, IPPROTO_UDP, u, sizeof u), 0));
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_BADLEN), ==, 2);
	dt_expect_nothing(&fx, fd);
	/* Bytes after the length field are trimmed (checksum over 11 bytes). */
	u[5] = 11;
	uint16_t c = fakeip_udp_cksum(DT_PEER, DT_LOCAL, u, 11);
	memcpy(u + 6, &c, 2);
	fakeip_inject(fx.ip,
		      fakeip_unitdata_ind(
			      fakeip_datagram(DT_PEER, DT_LOCAL, IPPROTO_UDP, u, sizeof u), 0));
	dt_expect_datagram(fd, DT_PEER, 4000, "abc", 3);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_IN_ERRORS), ==, 3);
	/* A primitive too short to read is dropped and counted. */
	uint32_t prim = IP_UNITDATA_IND;
	mblk_t *mp = us_msg_from(&prim, sizeof prim, 0);
	DB_TYPE(mp) = M_PROTO;
	fakeip_inject(fx.ip, mp);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_BADPRIM), ==, 1);
	dt_close(fd);
	dt_fini(&fx);
}

static void
test_recv_no_port(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	inject_udp(&fx, DT_PEER, 4000, DT_LOCAL, 8004, payload, PLEN, FAKEIP_CKSUM_GOOD, 0);
	us_world_run_pending(fx.world);
	mblk_t *rj = fakeip_take_reject(fx.ip);
	g_assert_nonnull(rj);
	struct ip_reject_req rr;
	memcpy(&rr, rj->b_rptr, sizeof rr);
	g_assert_cmpuint(rr.prim, ==, IP_REJECT_REQ);
	g_assert_cmpuint(rr.type, ==, 3);
	g_assert_cmpuint(rr.code, ==, 3);
	/* The datagram from its IP header on. */
	uint8_t h[28];
	g_assert_cmpuint(us_msgcopyout(rj->b_cont, 0, h, sizeof h), ==, sizeof h);
	g_assert_cmpuint(h[0], ==, 0x45);
	g_assert_cmpuint((h[22] << 8) | h[23], ==, 8004);
	g_assert_cmpuint(msgdsize(rj->b_cont), ==, 28 + PLEN);
	freemsg(rj);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_NO_PORTS), ==, 1);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_NO_PORT), ==, 1);
	/* Broadcast for nobody: counted, no ICMP. */
	inject_udp(&fx, DT_PEER, 4000, DT_BCAST, 8004, payload, PLEN, FAKEIP_CKSUM_GOOD,
		   IP_IF_BROADCAST);
	us_world_run_pending(fx.world);
	g_assert_null(fakeip_take_reject(fx.ip));
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_IGNORED_MULTI), ==, 1);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_NO_PORTS), ==, 1);
	dt_fini(&fx);
}

/* Connected (4-tuple), then bound address, then INADDR_ANY. */
static void
test_recv_most_specific(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int any = open_bound(&fx, INADDR_ANY, 7000, TRUE, FALSE);
	int spec = open_bound(&fx, DT_LOCAL, 7000, TRUE, FALSE);
	int conn = open_bound(&fx, INADDR_ANY, 7000, TRUE, FALSE);
	dt_connect(conn, DT_PEER, 9000);
	DtAddrs ca = dt_addr(conn);
	g_assert_cmphex(ca.laddr, ==, DT_LOCAL); /* the route's source */
	g_assert_cmpuint(ca.lport, ==, 7000);
	g_assert_true(ca.connected);
	g_assert_cmphex(ca.raddr, ==, DT_PEER);
	g_assert_cmpuint(ca.rport, ==, 9000);
	inject_udp(&fx, DT_PEER, 9000, DT_LOCAL, 7000, "c", 1, FAKEIP_CKSUM_GOOD, 0);
	inject_udp(&fx, DT_PEER2, 9000, DT_LOCAL, 7000, "s", 1, FAKEIP_CKSUM_GOOD, 0);
	inject_udp(&fx, DT_PEER, 9001, DT_LOCAL, 7000, "s", 1, FAKEIP_CKSUM_GOOD, 0);
	inject_udp(&fx, DT_PEER, 9000, DT_LOCAL2, 7000, "a", 1, FAKEIP_CKSUM_GOOD, 0);
	dt_expect_datagram(conn, DT_PEER, 9000, "c", 1);
	dt_expect_datagram(spec, DT_PEER2, 9000, "s", 1);
	dt_expect_datagram(spec, DT_PEER, 9001, "s", 1);
	dt_expect_datagram(any, DT_PEER, 9000, "a", 1);
	dt_expect_nothing(&fx, any);
	dt_expect_nothing(&fx, spec);
	dt_expect_nothing(&fx, conn);
	/* Without the others, the connected endpoint still hears only its
	 * peer. */
	dt_close(any);
	dt_close(spec);
	inject_udp(&fx, DT_PEER2, 9000, DT_LOCAL, 7000, "x", 1, FAKEIP_CKSUM_GOOD, 0);
	dt_expect_nothing(&fx, conn);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_NO_PORTS), ==, 1);
	us_world_run_pending(fx.world);
	freemsg(fakeip_take_reject(fx.ip));
	dt_close(conn);
	dt_fini(&fx);
}

/* SO_REUSEADDR without SO_REUSEPORT: the newest binding receives. */
static void
test_recv_reuseaddr_newest(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int a = open_bound(&fx, INADDR_ANY, 7100, TRUE, FALSE);
	int b = open_bound(&fx, INADDR_ANY, 7100, TRUE, FALSE);
	inject_udp(&fx, DT_PEER, 1, DT_LOCAL, 7100, "n", 1, FAKEIP_CKSUM_GOOD, 0);
	dt_expect_datagram(b, DT_PEER, 1, "n", 1);
	dt_expect_nothing(&fx, a);
	dt_close(b);
	inject_udp(&fx, DT_PEER, 1, DT_LOCAL, 7100, "o", 1, FAKEIP_CKSUM_GOOD, 0);
	dt_expect_datagram(a, DT_PEER, 1, "o", 1);
	dt_close(a);
	dt_fini(&fx);
}

/* SO_REUSEPORT: flows spread over the group, each flow sticks. */
static void
test_recv_reuseport(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	enum { N = 4, FLOWS = 64 };
	int fd[N];
	guint hits[N] = { 0 };
	for (int i = 0; i < N; i++)
		fd[i] = open_bound(&fx, INADDR_ANY, 7200, FALSE, TRUE);
	for (int round = 0; round < 2; round++) {
		for (int f = 0; f < FLOWS; f++) {
			char tag = (char)('A' + f % 26);
			inject_udp(&fx, fakeip_addr(10, 1, 0, (uint8_t)f), (uint16_t)(1000 + f),
				   DT_LOCAL, 7200, &tag, 1, FAKEIP_CKSUM_GOOD, 0);
		}
	}
	us_world_run_pending(fx.world);
	/* Each flow went to one endpoint both times. */
	GHashTable *owner = g_hash_table_new(g_direct_hash, g_direct_equal);
	guint total = 0;
	for (int i = 0; i < N; i++) {
		struct pollfd pfd = { .fd = fd[i], .events = POLLIN };
		while (us_poll(&pfd, 1, 0) == 1) {
			uint32_t src;
			uint16_t sport;
			g_autoptr(DtMsg) m = dt_recv(fd[i], &src, &sport);
			gpointer key = GUINT_TO_POINTER(sport);
			gpointer prev = g_hash_table_lookup(owner, key);
			if (prev != NULL)
				g_assert_cmpint(GPOINTER_TO_INT(prev), ==, i + 1);
			g_hash_table_insert(owner, key, GINT_TO_POINTER(i + 1));
			hits[i]++;
			total++;
		}
	}
	g_assert_cmpuint(total, ==, 2 * FLOWS);
	for (int i = 0; i < N; i++)
		g_assert_cmpuint(hits[i], >, 0); /* 64 flows over 4: every one got some */
	g_hash_table_destroy(owner);
	for (int i = 0; i < N; i++)
		dt_close(fd[i]);
	dt_fini(&fx);
}

static void
test_recv_broadcast(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int a = open_bound(&fx, INADDR_ANY, 9999, TRUE, FALSE);
	int b = open_bound(&fx, INADDR_ANY, 9999, TRUE, FALSE);
	int c = open_bound(&fx, DT_BCAST, 9999, TRUE, FALSE);
	int d = open_bound(&fx, DT_LOCAL2, 9999, TRUE, FALSE); /* another address */
	int e = open_bound(&fx, INADDR_ANY, 9999, TRUE, FALSE);
	dt_connect(e, DT_PEER2, 9999); /* connected elsewhere */
	inject_udp(&fx, DT_PEER, 5353, DT_BCAST, 9999, payload, PLEN, FAKEIP_CKSUM_GOOD,
		   IP_IF_BROADCAST);
	dt_expect_datagram(a, DT_PEER, 5353, payload, PLEN);
	dt_expect_datagram(b, DT_PEER, 5353, payload, PLEN);
	dt_expect_datagram(c, DT_PEER, 5353, payload, PLEN);
	dt_expect_nothing(&fx, d);
	dt_expect_nothing(&fx, e);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_IN_DATAGRAMS), ==, 3);
	/* 255.255.255.255 and a group are multi-destination too. */
	inject_udp(&fx, DT_PEER, 5353, INADDR_BROADCAST, 9999, "x", 1, FAKEIP_CKSUM_GOOD, 0);
	dt_expect_datagram(a, DT_PEER, 5353, "x", 1);
	dt_expect_datagram(b, DT_PEER, 5353, "x", 1);
	dt_expect_nothing(&fx, c);
	dt_close(a);
	dt_close(b);
	dt_close(c);
	dt_close(d);
	dt_close(e);
	dt_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Connected endpoints                                                */
/* ------------------------------------------------------------------ */

static void
test_connect(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_connect(fd, DT_PEER, 53); /* implicit bind */
	g_assert_cmpint(dt_info(fd).CURRENT_state, ==, TS_DATA_XFER);
	DtAddrs ad = dt_addr(fd);
	g_assert_cmphex(ad.laddr, ==, DT_LOCAL);
	g_assert_cmpuint(ad.lport, >=, DGRAM_PORT_LOW);
	g_assert_true(ad.connected);
	/* No DEST: to the peer, from the route's source. */
	dt_sendto_opt(fd, FALSE, 0, 0, NULL, 0, payload, PLEN);
	struct ip_unitdata_req req;
	mblk_t *mp = dt_take_sent(&fx, &req);
	g_assert_cmphex(req.dst, ==, DT_PEER);
	g_assert_cmphex(req.src, ==, DT_LOCAL);
	check_udp_payload(mp, &req, DT_LOCAL, ad.lport, 53, payload, PLEN);
	freemsg(mp);
	/* write(2): M_DATA to the peer. */
	g_assert_cmpint(us_write(fd, "w", 1), ==, 1);
	mp = dt_take_sent(&fx, &req);
	check_udp_payload(mp, &req, DT_LOCAL, ad.lport, 53, "w", 1);
	freemsg(mp);
	/* Another DEST still goes there (Linux sendto on a connected socket). */
	dt_sendto(fd, DT_PEER2, 54, "o", 1);
	mp = dt_take_sent(&fx, &req);
	g_assert_cmphex(req.dst, ==, DT_PEER2);
	freemsg(mp);
	/* From the peer only. */
	inject_udp(&fx, DT_PEER, 53, DT_LOCAL, ad.lport, "r", 1, FAKEIP_CKSUM_GOOD, 0);
	dt_expect_datagram(fd, DT_PEER, 53, "r", 1);
	inject_udp(&fx, DT_PEER2, 53, DT_LOCAL, ad.lport, "z", 1, FAKEIP_CKSUM_GOOD, 0);
	dt_expect_nothing(&fx, fd);
	us_world_run_pending(fx.world);
	freemsg(fakeip_take_reject(fx.ip));
	/* Reconnect elsewhere, then disconnect: the port stays. */
	dt_connect(fd, DT_PEER2, 99);
	g_assert_cmphex(dt_addr(fd).raddr, ==, DT_PEER2);
	dt_disconnect(fd);
	DtAddrs after = dt_addr(fd);
	g_assert_false(after.connected);
	g_assert_cmphex(after.laddr, ==, INADDR_ANY);
	g_assert_cmpuint(after.lport, ==, ad.lport);
	g_assert_cmpint(dt_info(fd).CURRENT_state, ==, TS_IDLE);
	inject_udp(&fx, DT_PEER2, 53, DT_LOCAL, ad.lport, "z", 1, FAKEIP_CKSUM_GOOD, 0);
	dt_expect_datagram(fd, DT_PEER2, 53, "z", 1);
	dt_close(fd);
	dt_fini(&fx);
}

static void
test_connect_errors(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 7300);
	dt_connect_req(fd, DT_FAR, 53); /* ip: no route */
	dt_expect_error_ack(fd, T_CONN_REQ, TSYSERR, ENETUNREACH);
	g_assert_cmpint(dt_info(fd).CURRENT_state, ==, TS_IDLE);
	dt_connect_req(fd, DT_BCAST, 53); /* broadcast without SO_BROADCAST */
	dt_expect_error_ack(fd, T_CONN_REQ, TACCES, 0);
	dt_connect_req(fd, DT_PEER, 0);
	dt_expect_error_ack(fd, T_CONN_REQ, TBADADDR, 0);
	dt_setopt(fd, SOL_SOCKET, SO_BROADCAST, 1);
	dt_connect(fd, DT_BCAST, 53);
	dt_close(fd);
	/* Without ip. */
	DtFx fx2;
	dt_init(&fx2, "udp", FALSE);
	dt_connect_req(fx2.ctl, DT_PEER, 53);
	dt_expect_error_ack(fx2.ctl, T_CONN_REQ, TSYSERR, ENETDOWN);
	dt_fini(&fx2);
	dt_fini(&fx);
}

/* Requests behind a bind waiting for ip wait too, and keep their order. */
static void
test_requests_wait_for_ip(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	fakeip_plug(fx.ip, TRUE); /* IP_ROUTE_REQ stays below */
	dt_bind_req(fd, T_BIND_REQ, TRUE, DT_LOCAL, 7400);
	dt_sendto(fd, DT_PEER, 53, payload, PLEN);
	us_world_run_pending(fx.world);
	g_assert_cmpint(dt_info(fd).CURRENT_state, ==, TS_WACK_BREQ); /* answered at once */
	dt_expect_nothing(&fx, fd);
	fakeip_plug(fx.ip, FALSE);
	uint32_t a;
	uint16_t p;
	dt_expect_bind_ack(fd, &a, &p);
	g_assert_cmphex(a, ==, DT_LOCAL);
	struct ip_unitdata_req req;
	mblk_t *mp = dt_take_sent(&fx, &req);
	g_assert_cmphex(req.src, ==, DT_LOCAL);
	freemsg(mp);
	/* Closing while ip still has to answer. */
	int fd2 = dt_open(&fx);
	fakeip_plug(fx.ip, TRUE);
	dt_bind_req(fd2, T_BIND_REQ, TRUE, DT_LOCAL, 7401);
	us_world_run_pending(fx.world);
	dt_close(fd2);
	fakeip_plug(fx.ip, FALSE);
	us_world_run_pending(fx.world);
	dt_close(fd);
	dt_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Errors from the network and from ip                                */
/* ------------------------------------------------------------------ */

static mblk_t *
quote_of(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	return fakeip_udp_datagram(src, dst, sport, dport, "q", 1, FAKEIP_CKSUM_GOOD);
}

static void
test_icmp_error(void)
{
	DtFx fx;
	uint32_t a;
	uint16_t p;
	dt_init(&fx, "udp", TRUE);
	int conn = open_bound(&fx, INADDR_ANY, 7500, TRUE, FALSE);
	int other = open_bound(&fx, INADDR_ANY, 7501, FALSE, FALSE);
	dt_connect(conn, DT_PEER, 53);
	/* Port unreachable about conn's datagram. */
	fakeip_inject(fx.ip, fakeip_icmp_ind(DT_PEER, 3, 3, ECONNREFUSED,
					     quote_of(DT_LOCAL, DT_PEER, 7500, 53)));
	g_assert_cmpint(dt_expect_uderror(conn, &a, &p), ==, ECONNREFUSED);
	g_assert_cmphex(a, ==, DT_PEER);
	g_assert_cmpuint(p, ==, 53);
	g_assert_cmpuint(dt_stat(conn, UDP_STAT_ICMP_ERRORS), ==, 1);
	/* About the unconnected endpoint: counted, not reported. */
	fakeip_inject(fx.ip, fakeip_icmp_ind(DT_PEER, 3, 3, ECONNREFUSED,
					     quote_of(DT_LOCAL, DT_PEER, 7501, 53)));
	dt_expect_nothing(&fx, other);
	/* A soft error (host unreachable) on the connected one: not reported. */
	fakeip_inject(fx.ip, fakeip_icmp_ind(DT_PEER, 3, 1, EHOSTUNREACH,
					     quote_of(DT_LOCAL, DT_PEER, 7500, 53)));
	dt_expect_nothing(&fx, conn);
	/* Another peer, nobody's port, a malformed quote. */
	fakeip_inject(fx.ip, fakeip_icmp_ind(DT_PEER, 3, 3, ECONNREFUSED,
					     quote_of(DT_LOCAL, DT_PEER2, 7500, 53)));
	fakeip_inject(fx.ip, fakeip_icmp_ind(DT_PEER, 3, 3, ECONNREFUSED,
					     quote_of(DT_LOCAL, DT_PEER, 7999, 53)));
	fakeip_inject(fx.ip,
		      fakeip_icmp_ind(DT_PEER, 3, 3, ECONNREFUSED, us_msg_from("short", 5, 0)));
	dt_expect_nothing(&fx, conn);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_ICMP_IGNORED), ==, 5);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_ICMP), ==, 4);
	dt_close(conn);
	dt_close(other);
	dt_fini(&fx);
}

/* ip could not send: T_UDERROR_IND to the sender. */
static void
test_ip_uderror(void)
{
	DtFx fx;
	uint32_t a;
	uint16_t p;
	dt_init(&fx, "udp", TRUE);
	int x = open_bound(&fx, INADDR_ANY, 7600, FALSE, FALSE);
	int y = open_bound(&fx, INADDR_ANY, 7601, FALSE, FALSE);
	dt_sendto(y, DT_FAR, 53, payload, PLEN); /* fakeip: no route */
	g_assert_cmpint(dt_expect_uderror(y, &a, &p), ==, ENETUNREACH);
	g_assert_cmphex(a, ==, DT_FAR);
	g_assert_cmpuint(p, ==, 53);
	dt_expect_nothing(&fx, x);
	g_assert_cmpuint(dt_stat(y, UDP_STAT_OUT_ERRORS), ==, 1);
	/* Without the payload there is no telling whose it was. */
	fakeip_inject(fx.ip, fakeip_uderror_ind(DT_FAR, IPPROTO_UDP, EHOSTUNREACH, NULL));
	dt_expect_nothing(&fx, x);
	dt_expect_nothing(&fx, y);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_UDERROR), ==, 1);
	dt_close(x);
	dt_close(y);
	dt_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Receive buffer                                                     */
/* ------------------------------------------------------------------ */

static void
test_rcvbuf(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 7700);
	g_assert_cmpint(dt_getopt(fd, SOL_SOCKET, SO_RCVBUF), ==, DGRAM_RCVBUF_DEFAULT);
	g_assert_cmpint(dt_setopt(fd, SOL_SOCKET, SO_RCVBUF, 1), ==, DGRAM_RCVBUF_MIN);
	g_assert_cmpint(dt_setopt(fd, SOL_SOCKET, SO_RCVBUF, 4000), ==, 4000);
	static guint8 chunk[1000];
	for (int i = 0; i < 10; i++)
		inject_udp(&fx, DT_PEER, 1, DT_LOCAL, 7700, chunk, sizeof chunk, FAKEIP_CKSUM_GOOD,
			   0);
	/* Datagrams are taken while the head holds less than SO_RCVBUF. */
	guint64 in = dt_stat(fd, UDP_STAT_IN_DATAGRAMS);
	guint64 drops = dt_stat(fd, UDP_STAT_RCVBUF_ERRORS);
	g_assert_cmpuint(in + drops, ==, 10);
	g_assert_cmpuint(in, >=, 3);
	g_assert_cmpuint(in, <=, 5);
	g_assert_cmpuint(drops, >, 0);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_RCVBUF), ==, drops);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_IN_ERRORS), ==, drops);
	for (guint64 i = 0; i < in; i++) {
		uint32_t a;
		uint16_t p;
		g_autoptr(DtMsg) m = dt_recv(fd, &a, &p);
		g_assert_cmpint(m->dlen, ==, (int)sizeof chunk);
	}
	dt_expect_nothing(&fx, fd);
	/* Room again. */
	inject_udp(&fx, DT_PEER, 1, DT_LOCAL, 7700, "ok", 2, FAKEIP_CKSUM_GOOD, 0);
	dt_expect_datagram(fd, DT_PEER, 1, "ok", 2);
	dt_close(fd);
	dt_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */

static void
test_options(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	g_assert_cmpint(dt_getopt(fd, SOL_SOCKET, SO_TYPE), ==, SOCK_DGRAM);
	g_assert_cmpint(dt_getopt(fd, SOL_SOCKET, US_SO_PROTOTYPE), ==, IPPROTO_UDP);
	g_assert_cmpint(dt_setopt(fd, SOL_SOCKET, US_SO_PROTOTYPE, 0), ==, IPPROTO_UDP);
	g_assert_cmpint(dt_setopt(fd, SOL_SOCKET, US_SO_PROTOTYPE, IPPROTO_UDP), ==, IPPROTO_UDP);
	dt_setopt_fails(fd, SOL_SOCKET, US_SO_PROTOTYPE, IPPROTO_TCP, TSYSERR, EINVAL);
	dt_setopt_fails(fd, SOL_SOCKET, SO_TYPE, SOCK_RAW, TSYSERR, ENOPROTOOPT);
	g_assert_cmpint(dt_getopt(fd, SOL_SOCKET, SO_SNDBUF), ==, DGRAM_SNDBUF_DEFAULT);
	g_assert_cmpint(dt_setopt(fd, SOL_SOCKET, SO_SNDBUF, 100000), ==, 100000);
	dt_setopt_fails(fd, SOL_SOCKET, SO_RCVBUF, -5, TSYSERR, EINVAL);
	g_assert_cmpint(dt_setopt(fd, SOL_SOCKET, SO_KEEPALIVE, 5), ==, 1);
	g_assert_cmpint(dt_getopt(fd, SOL_SOCKET, SO_KEEPALIVE), ==, 1);
	g_assert_cmpint(dt_getopt(fd, SOL_SOCKET, SO_REUSEADDR), ==, 0);
	g_assert_cmpint(dt_setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1), ==, 1);
	g_assert_cmpint(dt_getopt(fd, IPPROTO_IP, IP_TTL), ==, 64);
	g_assert_cmpint(dt_setopt(fd, IPPROTO_IP, IP_TTL, 255), ==, 255);
	dt_setopt_fails(fd, IPPROTO_IP, IP_TTL, 0, TSYSERR, EINVAL);
	dt_setopt_fails(fd, IPPROTO_IP, IP_TTL, 256, TSYSERR, EINVAL);
	dt_setopt_fails(fd, IPPROTO_IP, IP_TOS, 256, TSYSERR, EINVAL);
	dt_setopt_fails(fd, IPPROTO_IP, IP_HDRINCL, 1, TBADOPT, 0); /* raw only */
	dt_setopt_fails(fd, SOL_SOCKET, 0x7777, 1, TBADOPT, 0);
	dt_setopt_fails(fd, 4242, 1, 1, TBADOPT, 0);
	/* SO_LINGER: a struct linger, accepted and kept. */
	struct linger l = { 1, 30 }, got;
	g_autoptr(DtMsg) m = dt_optmgmt(fd, T_NEGOTIATE, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	g_assert_cmpint(dt_prim(m), ==, T_OPTMGMT_ACK);
	g_autoptr(DtMsg) m2 = dt_optmgmt(fd, T_CURRENT, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	struct T_optmgmt_ack oa;
	memcpy(&oa, m2->ctl, sizeof oa);
	memcpy(&got, m2->ctl + oa.OPT_offset + sizeof(struct opthdr), sizeof got);
	g_assert_cmpint(got.l_onoff, ==, 1);
	g_assert_cmpint(got.l_linger, ==, 30);
	/* A value too short. */
	char one = 1;
	g_autoptr(DtMsg) m3 = dt_optmgmt(fd, T_NEGOTIATE, SOL_SOCKET, SO_BROADCAST, &one, 1);
	struct T_error_ack ea;
	memcpy(&ea, m3->ctl, sizeof ea);
	g_assert_cmpint(ea.PRIM_type, ==, T_ERROR_ACK);
	g_assert_cmpint(ea.UNIX_error, ==, EINVAL);
	/* T_DEFAULT answers the defaults, not the current values. */
	int zero = 0;
	g_autoptr(DtMsg) m4 = dt_optmgmt(fd, T_DEFAULT, IPPROTO_IP, IP_TTL, &zero, sizeof zero);
	g_assert_cmpint(dt_optack_int(m4, IPPROTO_IP, IP_TTL), ==, 64);
	/* T_CHECK: success or failure, nothing changes. */
	int v = 77;
	g_autoptr(DtMsg) m5 = dt_optmgmt(fd, T_CHECK, IPPROTO_IP, IP_TTL, &v, sizeof v);
	memcpy(&oa, m5->ctl, sizeof oa);
	g_assert_cmpint(oa.PRIM_type, ==, T_OPTMGMT_ACK);
	g_assert_cmpint(oa.MGMT_flags, ==, T_SUCCESS);
	v = 999;
	g_autoptr(DtMsg) m6 = dt_optmgmt(fd, T_CHECK, IPPROTO_IP, IP_TTL, &v, sizeof v);
	memcpy(&oa, m6->ctl, sizeof oa);
	g_assert_cmpint(oa.MGMT_flags, ==, T_FAILURE);
	g_assert_cmpint(dt_getopt(fd, IPPROTO_IP, IP_TTL), ==, 255);
	/* Bad flags. */
	g_autoptr(DtMsg) m7 = dt_optmgmt(fd, 0x4000, IPPROTO_IP, IP_TTL, &v, sizeof v);
	memcpy(&ea, m7->ctl, sizeof ea);
	g_assert_cmpint(ea.TLI_error, ==, TBADFLAG);
	dt_close(fd);
	dt_fini(&fx);
}

/* Several options in one request: all or nothing; an empty T_CURRENT lists
 * every option. */
static void
test_options_many(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	struct {
		struct T_optmgmt_req r;
		struct opthdr o1;
		int v1;
		struct opthdr o2;
		int v2;
	} req = { { T_SVR4_OPTMGMT_REQ, 2 * (sizeof(struct opthdr) + sizeof(int)),
		    sizeof(struct T_optmgmt_req), T_NEGOTIATE },
		  { SOL_SOCKET, SO_BROADCAST, sizeof(int) },
		  1,
		  { IPPROTO_IP, IP_TTL, sizeof(int) },
		  0 /* invalid */ };
	g_assert_cmpint(dt_putmsg(fd, FALSE, &req, sizeof req, NULL, -1), ==, 0);
	dt_expect_error_ack(fd, T_SVR4_OPTMGMT_REQ, TSYSERR, EINVAL);
	g_assert_cmpint(dt_getopt(fd, SOL_SOCKET, SO_BROADCAST), ==, 0); /* untouched */
	req.v2 = 12;
	g_assert_cmpint(dt_putmsg(fd, FALSE, &req, sizeof req, NULL, -1), ==, 0);
	g_autoptr(DtMsg) m = dt_getmsg(fd);
	g_assert_cmpint(dt_prim(m), ==, T_OPTMGMT_ACK);
	g_assert_cmpint(dt_getopt(fd, SOL_SOCKET, SO_BROADCAST), ==, 1);
	g_assert_cmpint(dt_getopt(fd, IPPROTO_IP, IP_TTL), ==, 12);
	/* A header running past the buffer. */
	req.o2.len = 400;
	g_assert_cmpint(dt_putmsg(fd, FALSE, &req, sizeof req, NULL, -1), ==, 0);
	dt_expect_error_ack(fd, T_SVR4_OPTMGMT_REQ, TBADOPT, 0);
	/* Every option. */
	struct T_optmgmt_req all = { T_SVR4_OPTMGMT_REQ, 0, 0, T_CURRENT };
	g_assert_cmpint(dt_putmsg(fd, FALSE, &all, sizeof all, NULL, -1), ==, 0);
	g_autoptr(DtMsg) m2 = dt_getmsg(fd);
	struct T_optmgmt_ack oa;
	memcpy(&oa, m2->ctl, sizeof oa);
	g_assert_cmpint(oa.PRIM_type, ==, T_OPTMGMT_ACK);
	guint n = 0;
	gboolean saw_ttl = FALSE;
	for (t_scalar_t off = 0; off < oa.OPT_length; n++) {
		struct opthdr oh;
		memcpy(&oh, m2->ctl + oa.OPT_offset + off, sizeof oh);
		if (oh.level == IPPROTO_IP && oh.name == IP_TTL) {
			int v;
			memcpy(&v, m2->ctl + oa.OPT_offset + off + sizeof oh, sizeof v);
			g_assert_cmpint(v, ==, 12);
			saw_ttl = TRUE;
		}
		off += (t_scalar_t)(sizeof oh + OPTLEN(oh.len));
	}
	g_assert_cmpuint(n, ==, 13); /* 12 shared + SO_NO_CHECK */
	g_assert_true(saw_ttl);
	dt_close(fd);
	dt_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Flow control, flush, the link                                      */
/* ------------------------------------------------------------------ */

static void
test_flow_control(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 7800);
	dt_setopt(fd, SOL_SOCKET, SO_SNDBUF, DGRAM_SNDBUF_MIN);
	g_assert_cmpint(us_fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0);
	fakeip_plug(fx.ip, TRUE);
	static guint8 chunk[500];
	int sent = 0;
	for (; sent < 200; sent++) {
		chunk[0] = (guint8)sent;
		unsigned char buf[sizeof(struct T_unitdata_req) + 16];
		struct T_unitdata_req ur = { .PRIM_type = T_UNITDATA_REQ,
					     .DEST_length = 16,
					     .DEST_offset = sizeof ur };
		memcpy(buf, &ur, sizeof ur);
		dt_sin(buf + sizeof ur, DT_PEER, 53);
		if (dt_putmsg(fd, FALSE, buf, sizeof buf, chunk, sizeof chunk) != 0) {
			g_assert_cmpint(errno, ==, EAGAIN);
			break;
		}
	}
	/* fakeip's queue (2 KB) and ours (SO_SNDBUF) filled up. */
	g_assert_cmpint(sent, >, 4);
	g_assert_cmpint(sent, <, 200);
	g_assert_cmpuint(fakeip_sent_count(fx.ip), ==, 0);
	fakeip_plug(fx.ip, FALSE);
	us_world_run_pending(fx.world);
	g_assert_cmpuint(fakeip_sent_count(fx.ip), ==, (guint)sent);
	for (int i = 0; i < sent; i++) {
		struct ip_unitdata_req req;
		mblk_t *mp = dt_take_sent(&fx, &req);
		size_t n;
		g_autofree guint8 *u = dt_payload(mp, &n);
		g_assert_cmpuint(u[8], ==, (guint8)i); /* in order */
		freemsg(mp);
	}
	/* The writer may go on. */
	g_assert_cmpint(us_fcntl(fd, F_SETFL, 0), ==, 0);
	dt_sendto(fd, DT_PEER, 53, "x", 1);
	struct ip_unitdata_req req;
	freemsg(dt_take_sent(&fx, &req));
	dt_close(fd);
	dt_fini(&fx);
}

/* Data queued under flow control goes with a flush or a close. */
static void
test_flush_and_close(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 7900);
	fakeip_plug(fx.ip, TRUE);
	static guint8 chunk[1500];
	for (int i = 0; i < 6; i++)
		dt_sendto(fd, DT_PEER, 53, chunk, sizeof chunk);
	g_assert_cmpint(us_ioctl(fd, I_FLUSH, FLUSHRW), ==, 0);
	dt_sendto(fd, DT_PEER, 53, chunk, sizeof chunk);
	dt_sendto(fd, DT_PEER, 53, chunk, sizeof chunk);
	dt_sendto(fd, DT_PEER, 53, chunk, sizeof chunk);
	g_assert_cmpint(us_fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0); /* close without draining */
	dt_close(fd);
	g_assert_cmpuint(dt_drops(&fx, DGRAM_DROP_CLOSED), >, 0);
	fakeip_plug(fx.ip, FALSE);
	us_world_run_pending(fx.world);
	mblk_t *mp;
	while ((mp = fakeip_take_sent(fx.ip)) != NULL)
		freemsg(mp);
	dt_fini(&fx);
}

static void
test_link(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	/* A second lower: EBUSY. */
	int ip2 = us_open(fx.stack, "fakeip", O_RDWR);
	errno = 0;
	g_assert_cmpint(us_ioctl(fx.ctl, I_PLINK, ip2), ==, -1);
	g_assert_cmpint(errno, ==, EBUSY);
	/* Unlinking: ip is unbound; datagrams fail; linking again works. */
	int fd = dt_open(&fx);
	dt_bind(fd, INADDR_ANY, 8100);
	g_assert_cmpint(us_ioctl(fd, I_PUNLINK, fx.muxid), ==, 0);
	g_assert_cmpuint(fakeip_of(fx.ip)->fi_nunbind, ==, 1);
	uint32_t a;
	uint16_t p;
	dt_sendto(fd, DT_PEER, 53, payload, PLEN);
	g_assert_cmpint(dt_expect_uderror(fd, &a, &p), ==, ENETDOWN);
	fx.muxid = us_ioctl(fd, I_PLINK, ip2);
	g_assert_cmpint(fx.muxid, >, 0);
	dt_sendto(fd, DT_PEER, 53, payload, PLEN);
	us_world_run_pending(fx.world);
	mblk_t *mp = fakeip_take_sent(ip2);
	g_assert_nonnull(mp);
	freemsg(mp);
	g_assert_cmpint(us_ioctl(fd, I_PUNLINK, fx.muxid), ==, 0);
	fx.muxid = us_ioctl(fx.ctl, I_PLINK, fx.ip);
	g_assert_cmpint(fx.muxid, >, 0);
	dt_close(fd);
	dt_close(ip2);
	dt_fini(&fx);
}

/* Two endpoints talk through fakeip's loopback: the checksum ip fills in
 * verifies on the way up. */
static void
test_loopback(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	fakeip_set_loopback(fx.ip, TRUE);
	int a = open_bound(&fx, INADDR_ANY, 8201, FALSE, FALSE);
	int b = open_bound(&fx, DT_LOCAL, 8202, FALSE, FALSE);
	dt_sendto(a, DT_LOCAL, 8202, payload, PLEN);
	dt_expect_datagram(b, DT_LOCAL, 8201, payload, PLEN);
	dt_connect(b, DT_LOCAL, 8201);
	g_assert_cmpint(us_write(b, "pong", 4), ==, 4);
	dt_expect_datagram(a, DT_LOCAL, 8202, "pong", 4);
	g_assert_cmpuint(stack_stat(&fx, UDP_STAT_IN_CSUM_ERRORS), ==, 0);
	struct ip_unitdata_req req;
	freemsg(dt_take_sent(&fx, &req));
	freemsg(dt_take_sent(&fx, &req));
	dt_close(a);
	dt_close(b);
	dt_fini(&fx);
}

/* A world freed with endpoints open, data queued both ways and ip linked:
 * everything goes, nothing leaks. */
static void
test_teardown_open(void)
{
	guint fds0 = us_fd_count();
	gint64 live0 = us_msg_live_count();
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int a = open_bound(&fx, INADDR_ANY, 8300, FALSE, FALSE);
	int b = dt_open(&fx);
	dt_connect(b, DT_PEER, 9);
	inject_udp(&fx, DT_PEER, 9, DT_LOCAL, 8300, "unread", 6, FAKEIP_CKSUM_GOOD, 0);
	fakeip_plug(fx.ip, TRUE);
	static guint8 chunk[1000];
	for (int i = 0; i < 5; i++)
		dt_sendto(a, DT_PEER, 9, chunk, sizeof chunk);
	us_world_free(fx.world);
	g_assert_cmpuint(us_fd_count(), ==, fds0);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

typedef struct {
	queue_t *rq;
	const char *name, *value;
	gboolean ok;
} ParamArgs;

static void
param_on_world(gpointer data)
{
	ParamArgs *a = data;
	GError *error = NULL;
	a->ok = us_param_set(a->rq, a->name, a->value, &error);
	g_clear_error(&error);
}

/* Parameters: the buffers, applied as the options are. */
static void
test_params(void)
{
	DtFx fx;
	dt_init(&fx, "udp", TRUE);
	int fd = dt_open(&fx);
	ParamArgs pa = { us_stream_driver_rq(us_fd_stream(fd)), "rcvbuf", "5000", FALSE };
	us_world_call(fx.world, param_on_world, &pa);
	g_assert_true(pa.ok);
	g_assert_cmpint(dt_getopt(fd, SOL_SOCKET, SO_RCVBUF), ==, 5000);
	pa.value = "10"; /* below the minimum */
	us_world_call(fx.world, param_on_world, &pa);
	g_assert_false(pa.ok);
	char *v = us_param_get(pa.rq, "sndbuf", NULL);
	g_assert_cmpstr(v, ==, "212992");
	g_free(v);
	g_assert_cmpuint(dt_stat(fd, UDP_STAT_IN_DATAGRAMS), ==, 0);
	dt_close(fd);
	dt_fini(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/udp/info", test_info);
	g_test_add_func("/udp/tpi/errors", test_tpi_errors);
	g_test_add_func("/udp/bind/ephemeral", test_bind_ephemeral);
	g_test_add_func("/udp/bind/ephemeral-deterministic", test_bind_ephemeral_deterministic);
	g_test_add_func("/udp/bind/address", test_bind_address);
	g_test_add_func("/udp/bind/address-no-lower", test_bind_address_no_lower);
	g_test_add_func("/udp/bind/conflicts", test_bind_conflicts);
	g_test_add_func("/udp/send/basic", test_send_basic);
	g_test_add_func("/udp/send/header-block", test_send_header_block);
	g_test_add_func("/udp/send/autobind", test_send_autobind);
	g_test_add_func("/udp/send/errors", test_send_errors);
	g_test_add_func("/udp/send/enetdown", test_send_enetdown);
	g_test_add_func("/udp/send/ip-bind-refused", test_ip_bind_refused);
	g_test_add_func("/udp/send/broadcast", test_send_broadcast);
	g_test_add_func("/udp/send/options", test_send_options);
	g_test_add_func("/udp/recv/basic", test_recv_basic);
	g_test_add_func("/udp/recv/bad-checksum", test_recv_bad_checksum);
	g_test_add_func("/udp/recv/lengths", test_recv_lengths);
	g_test_add_func("/udp/recv/no-port", test_recv_no_port);
	g_test_add_func("/udp/recv/most-specific", test_recv_most_specific);
	g_test_add_func("/udp/recv/reuseaddr-newest", test_recv_reuseaddr_newest);
	g_test_add_func("/udp/recv/reuseport", test_recv_reuseport);
	g_test_add_func("/udp/recv/broadcast", test_recv_broadcast);
	g_test_add_func("/udp/connect/basic", test_connect);
	g_test_add_func("/udp/connect/errors", test_connect_errors);
	g_test_add_func("/udp/tpi/requests-wait-for-ip", test_requests_wait_for_ip);
	g_test_add_func("/udp/error/icmp", test_icmp_error);
	g_test_add_func("/udp/error/ip-uderror", test_ip_uderror);
	g_test_add_func("/udp/rcvbuf", test_rcvbuf);
	g_test_add_func("/udp/options/each", test_options);
	g_test_add_func("/udp/options/many", test_options_many);
	g_test_add_func("/udp/flow-control", test_flow_control);
	g_test_add_func("/udp/flush-and-close", test_flush_and_close);
	g_test_add_func("/udp/link", test_link);
	g_test_add_func("/udp/loopback", test_loopback);
	g_test_add_func("/udp/params", test_params);
	g_test_add_func("/udp/teardown-open", test_teardown_open);
	return g_test_run();
}
