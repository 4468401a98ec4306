/* SPDX-License-Identifier: MIT */
/*
 * dgramtest.h -- what the udp and icmp transport tests share: a fixture (a
 * virtual-time world, one stack, a fakeip stream I_PLINKed under the
 * transport) and TPI helpers over stream-head descriptors (us_putmsg,
 * us_getmsg), each asserting what it expects so a test reads as the
 * behaviour it checks.
 *
 * Addresses of the fixture: the stack owns 10.0.0.1 and 10.0.0.5, 10.0.0.255
 * is its broadcast address, routes to elsewhere use 10.0.0.1 as source,
 * 192.0.2.9 is unreachable.
 */
#ifndef US_DGRAMTEST_H
#define US_DGRAMTEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include <ustreams/ustreams.h>

#include "dgram.h"
#include "fakeip.h"

#define DT_LOCAL fakeip_addr(10, 0, 0, 1)
#define DT_LOCAL2 fakeip_addr(10, 0, 0, 5)
#define DT_BCAST fakeip_addr(10, 0, 0, 255)
#define DT_PEER fakeip_addr(10, 0, 0, 2)
#define DT_PEER2 fakeip_addr(10, 0, 0, 3)
#define DT_FAR fakeip_addr(192, 0, 2, 9)
#define DT_OTHER fakeip_addr(10, 9, 9, 9)

#define DT_DATA_MAX 70000

typedef struct {
	UsWorld *world;
	UsStack *stack;
	const char *drv; /* "udp" or "icmp" */
	int ip;          /* the fakeip stream (linked when ctl >= 0 and linked) */
	int ctl;         /* the endpoint the link went through */
	int muxid;
	guint fds0;
	gint64 live0;
} DtFx;

/* Opens the world and, with link, the transport linked over fakeip. */
static inline void
dt_init(DtFx *fx, const char *drv, gboolean link)
{
	fakeip_register();
	fx->drv = drv;
	fx->fds0 = us_fd_count();
	fx->live0 = us_msg_live_count();
	fx->world = us_world_new(US_CLOCK_VIRTUAL, 1);
	fx->stack = us_stack_new(fx->world, "dt");
	fx->ip = us_open(fx->stack, "fakeip", O_RDWR);
	g_assert_cmpint(fx->ip, >=, 0);
	fakeip_add_local(fx->ip, DT_LOCAL);
	fakeip_add_local(fx->ip, DT_LOCAL2);
	fakeip_add_bcast(fx->ip, DT_BCAST);
	fakeip_add_unreach(fx->ip, DT_FAR);
	fakeip_set_route_src(fx->ip, DT_LOCAL);
	fx->ctl = us_open(fx->stack, drv, O_RDWR);
	g_assert_cmpint(fx->ctl, >=, 0);
	fx->muxid = -1;
	if (link) {
		fx->muxid = us_ioctl(fx->ctl, I_PLINK, fx->ip);
		g_assert_cmpint(fx->muxid, >, 0);
	}
}

/* Every descriptor the test opened must be closed already. */
static inline void
dt_fini(DtFx *fx)
{
	g_assert_cmpint(us_close(fx->ctl), ==, 0);
	g_assert_cmpint(us_close(fx->ip), ==, 0);
	g_assert_cmpuint(us_fd_count(), ==, fx->fds0);
	us_world_free(fx->world);
	g_assert_cmpint(us_msg_live_count(), ==, fx->live0);
}

static inline int
dt_open(DtFx *fx)
{
	int fd = us_open(fx->stack, fx->drv, O_RDWR);
	g_assert_cmpint(fd, >=, 0);
	return fd;
}

static inline void
dt_close(int fd)
{
	g_assert_cmpint(us_close(fd), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Messages                                                           */
/* ------------------------------------------------------------------ */

typedef struct {
	int flags;
	int clen; /* -1: no control part */
	unsigned char ctl[1024];
	int dlen; /* -1: no data part */
	unsigned char *data;
} DtMsg;

static inline void
dt_msg_free(DtMsg *m)
{
	if (m == NULL)
		return;
	g_free(m->data);
	g_free(m);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DtMsg, dt_msg_free)

/* The next message at fd's head (waits for it). */
static inline DtMsg *
dt_getmsg(int fd)
{
	DtMsg *m = g_new0(DtMsg, 1);
	m->data = g_malloc(DT_DATA_MAX);
	struct strbuf c = { .maxlen = sizeof m->ctl, .buf = (char *)m->ctl };
	struct strbuf d = { .maxlen = DT_DATA_MAX, .buf = (char *)m->data };
	m->flags = 0;
	int r = us_getmsg(fd, &c, &d, &m->flags);
	g_assert_cmpint(r, ==, 0);
	m->clen = c.len;
	m->dlen = d.len;
	return m;
}

static inline t_scalar_t
dt_prim(const DtMsg *m)
{
	t_scalar_t p;
	g_assert_cmpint(m->clen, >=, (int)sizeof p);
	memcpy(&p, m->ctl, sizeof p);
	return p;
}

/* Nothing is waiting at fd's head (after running what is runnable). */
static inline void
dt_expect_nothing(DtFx *fx, int fd)
{
	us_world_run_pending(fx->world);
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND };
	g_assert_cmpint(us_poll(&pfd, 1, 0), ==, 0);
}

/* putmsg of a control part (hipri: M_PCPROTO) and a data part (dlen < 0:
 * none). */
static inline int
dt_putmsg(int fd, gboolean hipri, const void *ctl, size_t clen, const void *data, ssize_t dlen)
{
	struct strbuf c = { .len = (int)clen, .buf = (char *)ctl };
	struct strbuf d = { .len = (int)dlen, .buf = (char *)data };
	return us_putmsg(fd, &c, dlen >= 0 ? &d : NULL, hipri ? RS_HIPRI : 0);
}

static inline void
dt_sin(unsigned char *out, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	sin.sin_addr.s_addr = addr;
	memcpy(out, &sin, sizeof sin);
}

static inline void
dt_sin_read(const DtMsg *m, t_scalar_t off, t_scalar_t len, uint32_t *addr, uint16_t *port)
{
	struct sockaddr_in sin;
	g_assert_cmpint(len, ==, (t_scalar_t)sizeof sin);
	g_assert_cmpint(off + len, <=, m->clen);
	memcpy(&sin, m->ctl + off, sizeof sin);
	g_assert_cmpint(sin.sin_family, ==, AF_INET);
	*addr = sin.sin_addr.s_addr;
	*port = ntohs(sin.sin_port);
}

/* ------------------------------------------------------------------ */
/* Acknowledgements                                                   */
/* ------------------------------------------------------------------ */

static inline void
dt_expect_error_ack(int fd, t_scalar_t prim, t_scalar_t tli, int unix_error)
{
	g_autoptr(DtMsg) m = dt_getmsg(fd);
	struct T_error_ack ea;
	g_assert_cmpint(dt_prim(m), ==, T_ERROR_ACK);
	g_assert_cmpint(m->clen, ==, (int)sizeof ea);
	memcpy(&ea, m->ctl, sizeof ea);
	g_assert_cmpint(ea.ERROR_prim, ==, prim);
	g_assert_cmpint(ea.TLI_error, ==, tli);
	g_assert_cmpint(ea.UNIX_error, ==, unix_error);
}

static inline void
dt_expect_ok_ack(int fd, t_scalar_t prim)
{
	g_autoptr(DtMsg) m = dt_getmsg(fd);
	struct T_ok_ack oa;
	g_assert_cmpint(dt_prim(m), ==, T_OK_ACK);
	memcpy(&oa, m->ctl, sizeof oa);
	g_assert_cmpint(oa.CORRECT_prim, ==, prim);
}

/* ------------------------------------------------------------------ */
/* Binding and addresses                                              */
/* ------------------------------------------------------------------ */

/* T_BIND_REQ (or O_T_BIND_REQ) for addr:port, or with no address. */
static inline void
dt_bind_req(int fd, t_scalar_t prim, gboolean with_addr, uint32_t addr, uint16_t port)
{
	unsigned char buf[sizeof(struct T_bind_req) + 16];
	struct T_bind_req br = { .PRIM_type = prim,
				 .ADDR_length = with_addr ? 16 : 0,
				 .ADDR_offset = with_addr ? (t_scalar_t)sizeof br : 0 };
	memcpy(buf, &br, sizeof br);
	dt_sin(buf + sizeof br, addr, port);
	g_assert_cmpint(dt_putmsg(fd, FALSE, buf, sizeof br + (with_addr ? 16 : 0), NULL, -1), ==,
			0);
}

/* Reads T_BIND_ACK: the address bound. */
static inline void
dt_expect_bind_ack(int fd, uint32_t *addr, uint16_t *port)
{
	g_autoptr(DtMsg) m = dt_getmsg(fd);
	struct T_bind_ack ba;
	g_assert_cmpint(dt_prim(m), ==, T_BIND_ACK);
	memcpy(&ba, m->ctl, sizeof ba);
	g_assert_cmpuint(ba.CONIND_number, ==, 0);
	dt_sin_read(m, ba.ADDR_offset, ba.ADDR_length, addr, port);
}

/* Binds to addr:port and checks the answer; returns the port bound. */
static inline uint16_t
dt_bind(int fd, uint32_t addr, uint16_t port)
{
	uint32_t a;
	uint16_t p;
	dt_bind_req(fd, T_BIND_REQ, TRUE, addr, port);
	dt_expect_bind_ack(fd, &a, &p);
	g_assert_cmphex(a, ==, addr);
	if (port != 0)
		g_assert_cmpuint(p, ==, port);
	return p;
}

typedef struct {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	gboolean connected;
} DtAddrs;

static inline DtAddrs
dt_addr(int fd)
{
	struct T_addr_req ar = { .PRIM_type = T_ADDR_REQ };
	g_assert_cmpint(dt_putmsg(fd, TRUE, &ar, sizeof ar, NULL, -1), ==, 0);
	g_autoptr(DtMsg) m = dt_getmsg(fd);
	struct T_addr_ack aa;
	DtAddrs r = { 0 };
	g_assert_cmpint(dt_prim(m), ==, T_ADDR_ACK);
	memcpy(&aa, m->ctl, sizeof aa);
	dt_sin_read(m, aa.LOCADDR_offset, aa.LOCADDR_length, &r.laddr, &r.lport);
	r.connected = aa.REMADDR_length != 0;
	if (r.connected)
		dt_sin_read(m, aa.REMADDR_offset, aa.REMADDR_length, &r.raddr, &r.rport);
	return r;
}

static inline struct T_info_ack
dt_info(int fd)
{
	struct T_info_req ir = { .PRIM_type = T_INFO_REQ };
	struct T_info_ack ia;
	g_assert_cmpint(dt_putmsg(fd, TRUE, &ir, sizeof ir, NULL, -1), ==, 0);
	g_autoptr(DtMsg) m = dt_getmsg(fd);
	g_assert_cmpint(dt_prim(m), ==, T_INFO_ACK);
	g_assert_cmpint(m->clen, ==, (int)sizeof ia);
	memcpy(&ia, m->ctl, sizeof ia);
	return ia;
}

/* T_CONN_REQ to addr:port, then T_OK_ACK and T_CONN_CON naming the peer. */
static inline void
dt_connect_req(int fd, uint32_t addr, uint16_t port)
{
	unsigned char buf[sizeof(struct T_conn_req) + 16];
	struct T_conn_req cr = { .PRIM_type = T_CONN_REQ,
				 .DEST_length = 16,
				 .DEST_offset = sizeof cr };
	memcpy(buf, &cr, sizeof cr);
	dt_sin(buf + sizeof cr, addr, port);
	g_assert_cmpint(dt_putmsg(fd, FALSE, buf, sizeof buf, NULL, -1), ==, 0);
}

static inline void
dt_connect(int fd, uint32_t addr, uint16_t port)
{
	dt_connect_req(fd, addr, port);
	dt_expect_ok_ack(fd, T_CONN_REQ);
	g_autoptr(DtMsg) m = dt_getmsg(fd);
	struct T_conn_con cc;
	uint32_t a;
	uint16_t p;
	g_assert_cmpint(dt_prim(m), ==, T_CONN_CON);
	memcpy(&cc, m->ctl, sizeof cc);
	dt_sin_read(m, cc.RES_offset, cc.RES_length, &a, &p);
	g_assert_cmphex(a, ==, addr);
	g_assert_cmpuint(p, ==, port);
}

static inline void
dt_disconnect(int fd)
{
	struct T_discon_req dr = { .PRIM_type = T_DISCON_REQ, .SEQ_number = -1 };
	g_assert_cmpint(dt_putmsg(fd, FALSE, &dr, sizeof dr, NULL, -1), ==, 0);
	dt_expect_ok_ack(fd, T_DISCON_REQ);
}

/* ------------------------------------------------------------------ */
/* Datagrams                                                          */
/* ------------------------------------------------------------------ */

/* T_UNITDATA_REQ to addr:port (with_addr FALSE: no DEST). */
static inline void
dt_sendto_opt(int fd, gboolean with_addr, uint32_t addr, uint16_t port, const void *opt,
	      size_t optlen, const void *data, size_t len)
{
	unsigned char buf[sizeof(struct T_unitdata_req) + 16 + 64];
	size_t alen = with_addr ? 16 : 0;
	struct T_unitdata_req ur = { .PRIM_type = T_UNITDATA_REQ,
				     .DEST_length = (t_scalar_t)alen,
				     .DEST_offset = with_addr ? (t_scalar_t)sizeof ur : 0,
				     .OPT_length = (t_scalar_t)optlen,
				     .OPT_offset = optlen ? (t_scalar_t)(sizeof ur + alen) : 0 };
	g_assert_cmpuint(optlen, <=, 64);
	memcpy(buf, &ur, sizeof ur);
	dt_sin(buf + sizeof ur, addr, port);
	if (optlen)
		memcpy(buf + sizeof ur + alen, opt, optlen);
	g_assert_cmpint(dt_putmsg(fd, FALSE, buf, sizeof ur + alen + optlen, data, (ssize_t)len),
			==, 0);
}

static inline void
dt_sendto(int fd, uint32_t addr, uint16_t port, const void *data, size_t len)
{
	dt_sendto_opt(fd, TRUE, addr, port, NULL, 0, data, len);
}

/* Reads T_UNITDATA_IND: the sender in *src:*sport; returns the message. */
static inline DtMsg *
dt_recv(int fd, uint32_t *src, uint16_t *sport)
{
	DtMsg *m = dt_getmsg(fd);
	struct T_unitdata_ind ui;
	g_assert_cmpint(dt_prim(m), ==, T_UNITDATA_IND);
	memcpy(&ui, m->ctl, sizeof ui);
	dt_sin_read(m, ui.SRC_offset, ui.SRC_length, src, sport);
	return m;
}

/* Reads T_UNITDATA_IND and checks sender and data. */
static inline void
dt_expect_datagram(int fd, uint32_t src, uint16_t sport, const void *data, size_t len)
{
	uint32_t a;
	uint16_t p;
	g_autoptr(DtMsg) m = dt_recv(fd, &a, &p);
	g_assert_cmphex(a, ==, src);
	g_assert_cmpuint(p, ==, sport);
	g_assert_cmpmem(m->data, m->dlen, data, len);
}

/* Reads T_UDERROR_IND: returns ERROR_type, the destination in *addr:*port. */
static inline int
dt_expect_uderror(int fd, uint32_t *addr, uint16_t *port)
{
	g_autoptr(DtMsg) m = dt_getmsg(fd);
	struct T_uderror_ind ue;
	g_assert_cmpint(dt_prim(m), ==, T_UDERROR_IND);
	memcpy(&ue, m->ctl, sizeof ue);
	dt_sin_read(m, ue.DEST_offset, ue.DEST_length, addr, port);
	return ue.ERROR_type;
}

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */

/* One T_SVR4_OPTMGMT_REQ with one option; returns the answer. */
static inline DtMsg *
dt_optmgmt(int fd, t_scalar_t flags, t_uscalar_t level, t_uscalar_t name, const void *val,
	   size_t vlen)
{
	unsigned char buf[sizeof(struct T_optmgmt_req) + sizeof(struct opthdr) + 64];
	struct T_optmgmt_req r = { .PRIM_type = T_SVR4_OPTMGMT_REQ,
				   .OPT_length = (t_scalar_t)(sizeof(struct opthdr) + OPTLEN(vlen)),
				   .OPT_offset = sizeof r,
				   .MGMT_flags = flags };
	struct opthdr oh = { .level = level, .name = name, .len = (t_uscalar_t)vlen };
	g_assert_cmpuint(vlen, <=, 64);
	memset(buf, 0, sizeof buf);
	memcpy(buf, &r, sizeof r);
	memcpy(buf + sizeof r, &oh, sizeof oh);
	if (vlen)
		memcpy(buf + sizeof r + sizeof oh, val, vlen);
	g_assert_cmpint(dt_putmsg(fd, FALSE, buf, sizeof r + (size_t)r.OPT_length, NULL, -1), ==,
			0);
	return dt_getmsg(fd);
}

/* The value of the first option of a T_OPTMGMT_ACK (an int). */
static inline int
dt_optack_int(const DtMsg *m, t_uscalar_t level, t_uscalar_t name)
{
	struct T_optmgmt_ack oa;
	struct opthdr oh;
	int v;
	g_assert_cmpint(dt_prim(m), ==, T_OPTMGMT_ACK);
	memcpy(&oa, m->ctl, sizeof oa);
	g_assert_cmpint(oa.OPT_length, >=, (t_scalar_t)(sizeof oh + sizeof v));
	memcpy(&oh, m->ctl + oa.OPT_offset, sizeof oh);
	g_assert_cmpuint(oh.level, ==, level);
	g_assert_cmpuint(oh.name, ==, name);
	g_assert_cmpuint(oh.len, ==, sizeof v);
	memcpy(&v, m->ctl + oa.OPT_offset + sizeof oh, sizeof v);
	return v;
}

/* Sets an int option; returns the value the answer reports. */
static inline int
dt_setopt(int fd, t_uscalar_t level, t_uscalar_t name, int v)
{
	g_autoptr(DtMsg) m = dt_optmgmt(fd, T_NEGOTIATE, level, name, &v, sizeof v);
	return dt_optack_int(m, level, name);
}

static inline int
dt_getopt(int fd, t_uscalar_t level, t_uscalar_t name)
{
	int zero = 0;
	g_autoptr(DtMsg) m = dt_optmgmt(fd, T_CURRENT, level, name, &zero, sizeof zero);
	return dt_optack_int(m, level, name);
}

/* Setting the option fails with T_ERROR_ACK tli (TSYSERR: unix_error). */
static inline void
dt_setopt_fails(int fd, t_uscalar_t level, t_uscalar_t name, int v, t_scalar_t tli, int unix_error)
{
	g_autoptr(DtMsg) m = dt_optmgmt(fd, T_NEGOTIATE, level, name, &v, sizeof v);
	struct T_error_ack ea;
	g_assert_cmpint(dt_prim(m), ==, T_ERROR_ACK);
	memcpy(&ea, m->ctl, sizeof ea);
	g_assert_cmpint(ea.ERROR_prim, ==, T_SVR4_OPTMGMT_REQ);
	g_assert_cmpint(ea.TLI_error, ==, tli);
	g_assert_cmpint(ea.UNIX_error, ==, unix_error);
}

/* ------------------------------------------------------------------ */
/* Statistics and what fakeip saw                                     */
/* ------------------------------------------------------------------ */

/* A statistic of the endpoint fd. */
static inline guint64
dt_stat(int fd, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(us_stream_driver_rq(us_fd_stream(fd)), name, &v));
	return v;
}

static inline guint64
dt_drops(DtFx *fx, guint reason)
{
	return us_stack_drop_count(fx->stack, fx->drv, reason);
}

/* The next IP_UNITDATA_REQ fakeip recorded (caller frees), its header in *req. */
static inline mblk_t *
dt_take_sent(DtFx *fx, struct ip_unitdata_req *req)
{
	us_world_run_pending(fx->world);
	mblk_t *mp = fakeip_take_sent(fx->ip);
	g_assert_nonnull(mp);
	g_assert_cmpint(DB_TYPE(mp), ==, M_PROTO);
	g_assert_cmpuint(MBLKL(mp), ==, sizeof *req);
	memcpy(req, mp->b_rptr, sizeof *req);
	g_assert_cmpuint(req->prim, ==, IP_UNITDATA_REQ);
	g_assert_nonnull(mp->b_cont);
	return mp;
}

/* The payload bytes of a recorded message (g_free). */
static inline guint8 *
dt_payload(const mblk_t *mp, size_t *lenp)
{
	*lenp = msgdsize(mp->b_cont);
	guint8 *buf = g_malloc(*lenp + 1);
	us_msgcopyout(mp->b_cont, 0, buf, *lenp);
	return buf;
}

#endif
