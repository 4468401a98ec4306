/* SPDX-License-Identifier: MIT */
/*
 * fakeip.c -- the fakeip test driver (contract in fakeip.h): plays ip under a
 * transport.  Write side: answers, records or bounces the ip.h primitives,
 * or holds them all while plugged (a service procedure drains them once
 * unplugged, which back-enables the transport's lower).  Read side: a
 * service procedure sends up the datagrams looped back, after the call that
 * sent them has returned, as a real ip's loopback would.
 */
#include "fakeip.h"

#include "inet-cksum.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static gboolean
fakeip_in(const uint32_t *set, guint n, uint32_t addr)
{
	for (guint i = 0; i < n; i++)
		if (set[i] == addr)
			return TRUE;
	return FALSE;
}

static gboolean
fakeip_is_local(const FakeIp *fi, uint32_t addr)
{
	return fakeip_in(fi->fi_local, fi->fi_nlocal, addr);
}

static gboolean
fakeip_is_bcast(const FakeIp *fi, uint32_t addr)
{
	return addr == INADDR_BROADCAST || fakeip_in(fi->fi_bcast, fi->fi_nbcast, addr);
}

/* A primitive block of len bytes copied from prim. */
static mblk_t *
fakeip_prim(unsigned char type, const void *prim, size_t len)
{
	mblk_t *mp = allocb(len, BPRI_MED);
	g_assert_nonnull(mp);
	DB_TYPE(mp) = type;
	memcpy(mp->b_wptr, prim, len);
	mp->b_wptr += len;
	return mp;
}

static void
fakeip_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Writes 2 bytes at offset off of the chain mp. */
static void
fakeip_chain_write16(mblk_t *mp, size_t off, uint16_t stored)
{
	const uint8_t *b = (const uint8_t *)&stored;
	for (size_t i = 0; i < 2; i++) {
		size_t o = off + i;
		mblk_t *bp = mp;
		while (bp != NULL && o >= MBLKL(bp)) {
			o -= MBLKL(bp);
			bp = bp->b_cont;
		}
		g_assert_nonnull(bp);
		bp->b_rptr[o] = b[i];
	}
}

/* ------------------------------------------------------------------ */
/* Write side                                                         */
/* ------------------------------------------------------------------ */

static void
fakeip_reply(queue_t *wq, const void *prim, size_t len)
{
	qreply(wq, fakeip_prim(M_PCPROTO, prim, len));
}

static void
fakeip_error_ack(queue_t *wq, uint32_t prim, int error)
{
	struct ip_error_ack ea = { .prim = IP_ERROR_ACK,
				   .error_prim = prim,
				   .error = (uint32_t)error };
	fakeip_reply(wq, &ea, sizeof ea);
}

static void
fakeip_answer_bind(queue_t *wq, FakeIp *fi)
{
	if (fi->fi_bind_error != 0) {
		fakeip_error_ack(wq, IP_BIND_REQ, fi->fi_bind_error);
		return;
	}
	struct ip_bind_ack ba = { .prim = IP_BIND_ACK, .proto = fi->fi_bind_proto };
	fakeip_reply(wq, &ba, sizeof ba);
}

static void
fakeip_bind(queue_t *wq, FakeIp *fi, mblk_t *mp)
{
	struct ip_bind_req br;
	g_assert_cmpuint(MBLKL(mp), >=, sizeof br);
	memcpy(&br, mp->b_rptr, sizeof br);
	fi->fi_nbind++;
	fi->fi_bind_proto = br.proto;
	fi->fi_bind_flags = br.flags;
	if (fi->fi_hold_binds) {
		g_assert_null(fi->fi_held_bind);
		fi->fi_held_bind = mp;
		return;
	}
	freemsg(mp);
	fakeip_answer_bind(wq, fi);
}

static void
fakeip_route(queue_t *wq, FakeIp *fi, mblk_t *mp)
{
	struct ip_route_req rr;
	g_assert_cmpuint(MBLKL(mp), >=, sizeof rr);
	memcpy(&rr, mp->b_rptr, sizeof rr);
	freemsg(mp);
	fi->fi_nroute++;
	if (fakeip_in(fi->fi_unreach, fi->fi_nunreach, rr.dst)) {
		fakeip_error_ack(wq, IP_ROUTE_REQ, ENETUNREACH);
		return;
	}
	struct ip_route_ack ra = { .prim = IP_ROUTE_ACK,
				   .dst = rr.dst,
				   .src = fi->fi_route_src,
				   .nexthop = rr.dst,
				   .ifindex = 1,
				   .mtu = 1500 };
	if (fakeip_is_local(fi, rr.dst)) {
		ra.flags |= IP_RF_LOCAL;
		ra.src = rr.dst;
		ra.ifindex = 0;
	}
	if (fakeip_is_bcast(fi, rr.dst))
		ra.flags |= IP_RF_BROADCAST;
	if (IN_MULTICAST(ntohl(rr.dst)))
		ra.flags |= IP_RF_MULTICAST;
	fakeip_reply(wq, &ra, sizeof ra);
}

static void
fakeip_uderror(queue_t *wq, const struct ip_unitdata_req *req, int error, mblk_t *payload)
{
	mblk_t *mp = fakeip_uderror_ind(req->dst, req->proto, (uint32_t)error, payload);
	qreply(wq, mp);
}

/* Fills in the transport checksum as ip does. */
static void
fakeip_cksum(const struct ip_unitdata_req *req, uint32_t src, mblk_t *payload)
{
	size_t len = msgdsize(payload);
	g_assert_cmpuint(req->cksum_off + 2, <=, len);
	fakeip_chain_write16(payload, req->cksum_off, 0);
	uint64_t sum = us_cksum_pseudo(src, req->dst, req->proto, (uint16_t)len);
	uint16_t c = us_cksum_finish(us_cksum_mblk(sum, payload, 0, len));
	if (c == 0 && (req->flags & IP_F_CKSUM_UDP))
		c = 0xffff;
	fakeip_chain_write16(payload, req->cksum_off, c);
}

/* A datagram for ourselves goes back up (from the read service procedure). */
static void
fakeip_loop(FakeIp *fi, const struct ip_unitdata_req *req, uint32_t src, const mblk_t *payload,
	    uint32_t flags)
{
	size_t len = msgdsize(payload);
	guint8 *buf = g_malloc(len + 1);
	us_msgcopyout(payload, 0, buf, len);
	mblk_t *dg = fakeip_datagram(src, req->dst, req->proto, buf, len);
	g_free(buf);
	if (req->ttl != 0 || req->tos != 0) {
		uint8_t *h = dg->b_rptr;
		if (req->ttl != 0)
			h[8] = req->ttl;
		h[1] = req->tos;
		h[10] = h[11] = 0;
		uint16_t c = us_cksum(h, 20);
		memcpy(h + 10, &c, 2);
	}
	putq(fi->fi_rq, fakeip_unitdata_ind(dg, flags | IP_IF_LOOPBACK));
}

static void
fakeip_unitdata(queue_t *wq, FakeIp *fi, mblk_t *mp)
{
	struct ip_unitdata_req req;
	g_assert_cmpuint(MBLKL(mp), >=, sizeof req);
	g_assert_nonnull(mp->b_cont);
	memcpy(&req, mp->b_rptr, sizeof req);
	gboolean bcast = fakeip_is_bcast(fi, req.dst);
	if (fakeip_in(fi->fi_unreach, fi->fi_nunreach, req.dst)) {
		fakeip_uderror(wq, &req, ENETUNREACH, unlinkb(mp));
		freemsg(mp);
		return;
	}
	if (bcast && !(req.flags & IP_F_BROADCAST)) {
		fakeip_uderror(wq, &req, EACCES, unlinkb(mp));
		freemsg(mp);
		return;
	}
	uint32_t src = req.src;
	if (src == INADDR_ANY)
		src = fakeip_is_local(fi, req.dst) ? req.dst : fi->fi_route_src;
	if (req.flags & IP_F_CKSUM)
		fakeip_cksum(&req, src, mp->b_cont);
	if (fi->fi_loopback && (fakeip_is_local(fi, req.dst) || bcast))
		fakeip_loop(fi, &req, src, mp->b_cont, bcast ? IP_IF_BROADCAST : 0);
	g_queue_push_tail(&fi->fi_sent, mp);
}

static void
fakeip_proto(queue_t *wq, mblk_t *mp)
{
	FakeIp *fi = wq->q_ptr;
	uint32_t prim = 0;
	if (MBLKL(mp) >= sizeof prim)
		memcpy(&prim, mp->b_rptr, sizeof prim);
	switch (prim) {
	case IP_BIND_REQ: fakeip_bind(wq, fi, mp); break;
	case IP_UNBIND_REQ: {
		struct ip_ok_ack oa = { .prim = IP_OK_ACK, .correct_prim = IP_UNBIND_REQ };
		fi->fi_nunbind++;
		freemsg(mp);
		fakeip_reply(wq, &oa, sizeof oa);
		break;
	}
	case IP_ROUTE_REQ: fakeip_route(wq, fi, mp); break;
	case IP_UNITDATA_REQ: fakeip_unitdata(wq, fi, mp); break;
	case IP_REJECT_REQ: g_queue_push_tail(&fi->fi_rejects, mp); break;
	default:
		fi->fi_nunknown++;
		freemsg(mp);
		break;
	}
}

static void
fakeip_handle(queue_t *wq, mblk_t *mp)
{
	if (DB_TYPE(mp) == M_PROTO || DB_TYPE(mp) == M_PCPROTO)
		fakeip_proto(wq, mp);
	else
		us_default_put(wq, mp); /* M_FLUSH canonically, M_IOCTL NAKed */
}

static int
fakeip_wput(queue_t *wq, mblk_t *mp)
{
	FakeIp *fi = wq->q_ptr;
	if (DB_TYPE(mp) != M_FLUSH && (fi->fi_plugged || wq->q_first != NULL))
		putq(wq, mp);
	else
		fakeip_handle(wq, mp);
	return 0;
}

static int
fakeip_wsrv(queue_t *wq)
{
	FakeIp *fi = wq->q_ptr;
	mblk_t *mp;
	while (!fi->fi_plugged && (mp = getq(wq)) != NULL)
		fakeip_handle(wq, mp);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Read side                                                          */
/* ------------------------------------------------------------------ */

static int
fakeip_rsrv(queue_t *rq)
{
	mblk_t *mp;
	while ((mp = getq(rq)) != NULL)
		putnext(rq, mp);
	return 0;
}

static int
fakeip_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp, (void)oflag, (void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO;
	FakeIp *fi = g_new0(FakeIp, 1);
	fi->fi_rq = rq;
	g_queue_init(&fi->fi_sent);
	g_queue_init(&fi->fi_rejects);
	rq->q_ptr = WR(rq)->q_ptr = fi;
	return 0;
}

static int
fakeip_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag, (void)crp;
	FakeIp *fi = rq->q_ptr;
	g_queue_clear_full(&fi->fi_sent, (GDestroyNotify)freemsg);
	g_queue_clear_full(&fi->fi_rejects, (GDestroyNotify)freemsg);
	freemsg(fi->fi_held_bind);
	g_free(fi);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

static struct module_info fakeip_minfo = {
	.mi_idnum = 9400,
	.mi_idname = "fakeip",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = FAKEIP_HIWAT,
	.mi_lowat = FAKEIP_LOWAT,
};
static struct qinit fakeip_rinit = {
	.qi_putp = us_putnext_put,
	.qi_srvp = fakeip_rsrv,
	.qi_qopen = fakeip_open,
	.qi_qclose = fakeip_close,
	.qi_minfo = &fakeip_minfo,
};
static struct qinit fakeip_winit = {
	.qi_putp = fakeip_wput,
	.qi_srvp = fakeip_wsrv,
	.qi_minfo = &fakeip_minfo,
};
static struct streamtab fakeip_info = { .st_rdinit = &fakeip_rinit, .st_wrinit = &fakeip_winit };
static const UsModuleDesc fakeip_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "fakeip",
	.summary = "test driver playing ip below a transport",
	.kind = US_KIND_DRIVER,
	.streamtab = &fakeip_info,
};

void
fakeip_register(void)
{
	if (us_registry_find("fakeip") == NULL)
		g_assert_true(us_registry_add(&fakeip_desc, NULL));
}

FakeIp *
fakeip_of(int fd)
{
	UsStream *st = us_fd_stream(fd);
	g_assert_nonnull(st);
	FakeIp *fi = us_stream_driver_rq(st)->q_ptr;
	g_assert_nonnull(fi);
	return fi;
}

/* ------------------------------------------------------------------ */
/* Test controls (run on the world)                                   */
/* ------------------------------------------------------------------ */

typedef struct {
	int fd;
	int what;
	uint32_t value;
	mblk_t *mp;
	gboolean result;
} FakeIpCall;

enum {
	FC_LOCAL,
	FC_BCAST,
	FC_UNREACH,
	FC_ROUTE_SRC,
	FC_LOOPBACK,
	FC_BIND_ERROR,
	FC_HOLD,
	FC_RELEASE,
	FC_PLUG,
	FC_TAKE_SENT,
	FC_TAKE_REJECT,
	FC_INJECT,
};

static void
fakeip_add_addr(uint32_t *set, guint *n, uint32_t addr)
{
	g_assert_cmpuint(*n, <, FAKEIP_MAX_ADDRS);
	set[(*n)++] = addr;
}

static void
fakeip_call_on_world(gpointer data)
{
	FakeIpCall *c = data;
	FakeIp *fi = fakeip_of(c->fd);
	queue_t *wq = WR(fi->fi_rq);
	switch (c->what) {
	case FC_LOCAL: fakeip_add_addr(fi->fi_local, &fi->fi_nlocal, c->value); break;
	case FC_BCAST: fakeip_add_addr(fi->fi_bcast, &fi->fi_nbcast, c->value); break;
	case FC_UNREACH: fakeip_add_addr(fi->fi_unreach, &fi->fi_nunreach, c->value); break;
	case FC_ROUTE_SRC: fi->fi_route_src = c->value; break;
	case FC_LOOPBACK: fi->fi_loopback = c->value != 0; break;
	case FC_BIND_ERROR: fi->fi_bind_error = (int)c->value; break;
	case FC_HOLD: fi->fi_hold_binds = c->value != 0; break;
	case FC_RELEASE:
		c->result = fi->fi_held_bind != NULL;
		if (c->result) {
			freemsg(g_steal_pointer(&fi->fi_held_bind));
			fakeip_answer_bind(wq, fi);
		}
		break;
	case FC_PLUG:
		fi->fi_plugged = c->value != 0;
		if (!fi->fi_plugged)
			qenable(wq);
		break;
	case FC_TAKE_SENT: c->mp = g_queue_pop_head(&fi->fi_sent); break;
	case FC_TAKE_REJECT: c->mp = g_queue_pop_head(&fi->fi_rejects); break;
	case FC_INJECT: putnext(fi->fi_rq, g_steal_pointer(&c->mp)); break;
	default: g_assert_not_reached();
	}
}

static FakeIpCall
fakeip_call(int fd, int what, uint32_t value, mblk_t *mp)
{
	FakeIpCall c = { .fd = fd, .what = what, .value = value, .mp = mp };
	us_world_call(us_stack_world(us_fd_stack(fd)), fakeip_call_on_world, &c);
	return c;
}

void
fakeip_add_local(int fd, uint32_t addr)
{
	fakeip_call(fd, FC_LOCAL, addr, NULL);
}

void
fakeip_add_bcast(int fd, uint32_t addr)
{
	fakeip_call(fd, FC_BCAST, addr, NULL);
}

void
fakeip_add_unreach(int fd, uint32_t addr)
{
	fakeip_call(fd, FC_UNREACH, addr, NULL);
}

void
fakeip_set_route_src(int fd, uint32_t addr)
{
	fakeip_call(fd, FC_ROUTE_SRC, addr, NULL);
}

void
fakeip_set_loopback(int fd, gboolean on)
{
	fakeip_call(fd, FC_LOOPBACK, on, NULL);
}

void
fakeip_set_bind_error(int fd, int error)
{
	fakeip_call(fd, FC_BIND_ERROR, (uint32_t)error, NULL);
}

void
fakeip_hold_binds(int fd, gboolean on)
{
	fakeip_call(fd, FC_HOLD, on, NULL);
}

gboolean
fakeip_release_bind(int fd)
{
	return fakeip_call(fd, FC_RELEASE, 0, NULL).result;
}

void
fakeip_plug(int fd, gboolean on)
{
	fakeip_call(fd, FC_PLUG, on, NULL);
}

mblk_t *
fakeip_take_sent(int fd)
{
	return fakeip_call(fd, FC_TAKE_SENT, 0, NULL).mp;
}

mblk_t *
fakeip_take_reject(int fd)
{
	return fakeip_call(fd, FC_TAKE_REJECT, 0, NULL).mp;
}

guint
fakeip_sent_count(int fd)
{
	return fakeip_of(fd)->fi_sent.length;
}

void
fakeip_inject(int fd, mblk_t *mp)
{
	fakeip_call(fd, FC_INJECT, 0, mp);
}

/* ------------------------------------------------------------------ */
/* Builders                                                           */
/* ------------------------------------------------------------------ */

mblk_t *
fakeip_datagram(uint32_t src, uint32_t dst, uint8_t proto, const void *payload, size_t len)
{
	static uint16_t id;
	mblk_t *mp = allocb(20 + len, BPRI_MED);
	g_assert_nonnull(mp);
	uint8_t *h = mp->b_wptr;
	memset(h, 0, 20);
	h[0] = 0x45;
	fakeip_put16(h + 2, (uint16_t)(20 + len));
	fakeip_put16(h + 4, ++id);
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, &src, 4);
	memcpy(h + 16, &dst, 4);
	uint16_t c = us_cksum(h, 20);
	memcpy(h + 10, &c, 2);
	if (len > 0)
		memcpy(h + 20, payload, len);
	mp->b_wptr += 20 + len;
	return mp;
}

uint16_t
fakeip_udp_cksum(uint32_t src, uint32_t dst, const uint8_t *udp, size_t ulen)
{
	uint64_t sum = us_cksum_pseudo(src, dst, IPPROTO_UDP, (uint16_t)ulen);
	uint16_t c = us_cksum_finish(us_cksum_add(sum, udp, ulen));
	return c == 0 ? 0xffff : c;
}

mblk_t *
fakeip_udp_datagram(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const void *data,
		    size_t len, FakeIpCksum cksum)
{
	size_t ulen = 8 + len;
	uint8_t *u = g_malloc0(ulen);
	fakeip_put16(u, sport);
	fakeip_put16(u + 2, dport);
	fakeip_put16(u + 4, (uint16_t)ulen);
	if (len > 0)
		memcpy(u + 8, data, len);
	uint16_t c = fakeip_udp_cksum(src, dst, u, ulen);
	if (cksum == FAKEIP_CKSUM_ZERO)
		c = 0;
	else if (cksum == FAKEIP_CKSUM_BAD)
		c = (uint16_t)(c == 0x1234 ? 0x4321 : 0x1234);
	memcpy(u + 6, &c, 2);
	mblk_t *mp = fakeip_datagram(src, dst, IPPROTO_UDP, u, ulen);
	g_free(u);
	return mp;
}

mblk_t *
fakeip_unitdata_ind(mblk_t *dgram, uint32_t flags)
{
	uint8_t h[20];
	g_assert_cmpuint(us_msgcopyout(dgram, 0, h, sizeof h), ==, sizeof h);
	struct ip_unitdata_ind ui = { .prim = IP_UNITDATA_IND,
				      .proto = h[9],
				      .ttl = h[8],
				      .tos = h[1],
				      .hdr_len = (uint8_t)((h[0] & 0x0f) * 4),
				      .ifindex = 1,
				      .flags = flags };
	memcpy(&ui.src, h + 12, 4);
	memcpy(&ui.dst, h + 16, 4);
	mblk_t *mp = fakeip_prim(M_PROTO, &ui, sizeof ui);
	mp->b_cont = dgram;
	return mp;
}

mblk_t *
fakeip_icmp_ind(uint32_t reporter, uint8_t type, uint8_t code, uint32_t error, mblk_t *quote)
{
	struct ip_icmp_ind ii = { .prim = IP_ICMP_IND,
				  .reporter = reporter,
				  .type = type,
				  .code = code,
				  .error = error };
	mblk_t *mp = fakeip_prim(M_PROTO, &ii, sizeof ii);
	mp->b_cont = quote;
	return mp;
}

mblk_t *
fakeip_uderror_ind(uint32_t dst, uint32_t proto, uint32_t error, mblk_t *payload)
{
	struct ip_uderror_ind ue = {
		.prim = IP_UDERROR_IND, .dst = dst, .proto = proto, .error = error
	};
	mblk_t *mp = fakeip_prim(M_PROTO, &ue, sizeof ue);
	mp->b_cont = payload;
	return mp;
}

void
fakeip_split(mblk_t *mp, size_t off)
{
	g_assert_cmpuint(off, <, MBLKL(mp));
	mblk_t *tail = us_msg_from(mp->b_rptr + off, MBLKL(mp) - off, 0);
	g_assert_nonnull(tail);
	mp->b_wptr = mp->b_rptr + off;
	tail->b_cont = mp->b_cont;
	mp->b_cont = tail;
}
