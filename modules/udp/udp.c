/* SPDX-License-Identifier: MIT */
/*
 * udp -- the User Datagram Protocol (RFC 768) as a TPI connectionless
 * transport over ip.  The TPI service, the ip lower, options, the receive
 * buffer and flow control are the shared core's (modules/inet/dgram.c); this
 * file is what is udp's own: ports, the header, checks and demultiplexing.
 *
 * Theory
 * ------
 * Ports.  Per stack, a table maps each port to the endpoints holding it, in
 * the order they bound.  A bind conflicts with an endpoint on the same port
 * whose address overlaps (equal, or either INADDR_ANY) unless both set
 * SO_REUSEADDR or both set SO_REUSEPORT (Linux udp_lib_lport_inuse).  Port 0
 * takes an ephemeral port: a pseudo-random start in 32768-60999 from the
 * world's seeded generator (deterministic in virtual time), then the first
 * port nobody holds.  Sending from an unbound endpoint binds it so first
 * (Linux autobind).
 *
 * Output: the 8-byte header goes in the headroom of the first data block
 * when that block is not shared and has room (the stream head leaves
 * DGRAM_WROFF bytes, asked with SO_WROFF), else in a new block with that
 * headroom in front of the data: the data is never copied.  The checksum is
 * left to ip: IP_F_CKSUM | IP_F_CKSUM_UDP with cksum_off 6 (SO_NO_CHECK:
 * neither, the field stays 0).
 *
 * Input (IP_UNITDATA_IND; b_cont starts at the IP header, hdr_len bytes):
 *   1. at least hdr_len + 8 bytes, else dropped (short, udpInErrors);
 *   2. the length field: below 8 or beyond the datagram is dropped (bad
 *      length, udpInErrors); bytes after it are trimmed (RFC 768);
 *   3. a non-zero checksum must verify over the pseudo header and the
 *      datagram (udpInCsumErrors and udpInErrors); zero means none;
 *   4. broadcast or multicast (ip's flags or the address): a copy to every
 *      endpoint on the port whose address is INADDR_ANY or the destination
 *      and, when connected, whose peer is the source (dupmsg, the data is
 *      shared); none: udpIgnoredMulti, no ICMP;
 *   5. unicast: the most specific endpoint: connected to the source with the
 *      destination as local address, then bound to the destination, then to
 *      INADDR_ANY; an endpoint connected elsewhere never matches.  Among equal
 *      matches the newest binding wins (Linux), except that a SO_REUSEPORT
 *      group on the winner's address is picked from by a seeded hash of the
 *      addresses and ports (one flow, one endpoint);
 *   6. no endpoint: udpNoPorts and IP_REJECT_REQ {3, 3} down with the
 *      datagram from its IP header (ip rate-limits port unreachables);
 *   7. delivered as T_UNITDATA_IND, b_rptr moved past both headers.
 *
 * ICMP errors (IP_ICMP_IND, quoting our IP header and at least 8 bytes of
 * our header): the endpoint holding the quoted source port, connected to the
 * quoted destination address and port, gets T_UDERROR_IND (DEST the quoted
 * destination, ERROR_type ip's errno) for the errors Linux reports to a
 * connected socket without IP_RECVERR (dgram_icmp_hard); everything else is
 * counted (udpIcmpIgnored) and dropped.  IP_UDERROR_IND returns the payload,
 * which starts with our header: its source port finds the endpoint (the one
 * connected to the destination first, then the one that last sent there,
 * then the newest on the port).
 *
 * Reading list: RFC 768; RFC 1122 §4.1.3 (checksum, broadcast, ICMP);
 * RFC 4113 (MIB); Linux net/ipv4/udp.c (lookup scoring, reuse rules).
 *
 * Deviations
 *  - Autobind and ephemeral binds take a port nobody holds, whatever the
 *    reuse options (Linux may share one).
 *  - IP_UDERROR_IND has no field naming the sender; when several endpoints
 *    share a port the choice above may pick the wrong one.
 *  - No multicast membership: a datagram to a group is delivered to the
 *    endpoints on the port whatever groups they would have joined.
 *  - SO_NO_CHECK applies to sending only; a zero checksum is always accepted.
 */
#define G_LOG_DOMAIN "us-udp"

#include "udp.h"
#include "dgram-impl.h"
#include "inet-cksum.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <ustreams/probes.h>

#ifndef SO_NO_CHECK
#define SO_NO_CHECK 11
#endif

#define UDP_CKSUM_OFF 6 /* of the checksum field in the header */
#define UDP_IP_HDR_MIN 20

/* Per-stack udp state (ds_pdata). */
typedef struct {
	GHashTable *us_ports; /* GUINT_TO_POINTER(port) -> GQueue of DgramEp *, bind order */
} UdpStack;

/* ------------------------------------------------------------------ */
/* Header helpers                                                     */
/* ------------------------------------------------------------------ */

static uint16_t
udp_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void
udp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ------------------------------------------------------------------ */
/* Ports                                                              */
/* ------------------------------------------------------------------ */

static void
udp_stack_init(DgramStack *ds)
{
	UdpStack *us = g_new0(UdpStack, 1);
	us->us_ports = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					     (GDestroyNotify)g_queue_free);
	ds->ds_pdata = us;
}

static void
udp_stack_free(DgramStack *ds)
{
	UdpStack *us = ds->ds_pdata;
	g_hash_table_destroy(us->us_ports);
	g_free(us);
}

/* The endpoints holding port, or NULL. */
static GQueue *
udp_group(DgramStack *ds, uint16_t port)
{
	UdpStack *us = ds->ds_pdata;
	return g_hash_table_lookup(us->us_ports, GUINT_TO_POINTER(port));
}

/* TRUE if ep may not hold laddr:port (Linux's rules, see the theory). */
static gboolean
udp_conflict(const DgramEp *ep, uint32_t laddr, uint16_t port)
{
	GQueue *g = udp_group(ep->de_ds, port);
	for (GList *l = g != NULL ? g->head : NULL; l != NULL; l = l->next) {
		const DgramEp *e = l->data;
		if (e == ep)
			continue;
		if (e->de_laddr != laddr && e->de_laddr != INADDR_ANY && laddr != INADDR_ANY)
			continue;
		if ((ep->de_reuseaddr && e->de_reuseaddr) || (ep->de_reuseport && e->de_reuseport))
			continue;
		return TRUE;
	}
	return FALSE;
}

/* A port nobody holds, from a pseudo-random start; FALSE if all are held. */
static gboolean
udp_ephemeral(DgramStack *ds, uint16_t *portp)
{
	const guint32 n = DGRAM_PORT_HIGH - DGRAM_PORT_LOW + 1;
	guint32 start = dgram_rand_below(ds, n);
	for (guint32 i = 0; i < n; i++) {
		uint16_t p = (uint16_t)(DGRAM_PORT_LOW + (start + i) % n);
		if (udp_group(ds, p) == NULL) {
			*portp = p;
			return TRUE;
		}
	}
	return FALSE;
}

static int
udp_bind(DgramEp *ep, uint32_t laddr, uint16_t *portp, gboolean may_move)
{
	DgramStack *ds = ep->de_ds;
	UdpStack *us = ds->ds_pdata;
	if (*portp != 0 && udp_conflict(ep, laddr, *portp)) {
		if (!may_move)
			return TADDRBUSY;
		*portp = 0;
	}
	if (*portp == 0 && !udp_ephemeral(ds, portp))
		return TNOADDR;
	GQueue *g = udp_group(ds, *portp);
	if (g == NULL) {
		g = g_queue_new();
		g_hash_table_insert(us->us_ports, GUINT_TO_POINTER(*portp), g);
	}
	g_queue_push_tail(g, ep);
	return 0;
}

static void
udp_unbind(DgramEp *ep)
{
	UdpStack *us = ep->de_ds->ds_pdata;
	GQueue *g = udp_group(ep->de_ds, ep->de_lport);
	if (g == NULL)
		return;
	g_queue_remove(g, ep);
	if (g_queue_is_empty(g))
		g_hash_table_remove(us->us_ports, GUINT_TO_POINTER(ep->de_lport));
}

/* ------------------------------------------------------------------ */
/* Output                                                             */
/* ------------------------------------------------------------------ */

static size_t
udp_max_payload(const DgramEp *ep)
{
	(void)ep;
	return UDP_TSDU_SIZE;
}

/* The header in front of data (consumed, may be NULL). */
static mblk_t *
udp_output(DgramEp *ep, const DgramDest *d, mblk_t *data, struct ip_unitdata_req *req, int *errp)
{
	size_t len = data != NULL ? msgdsize(data) : 0;
	mblk_t *hp;
	if (data != NULL && DB_TYPE(data) == M_DATA && DB_REF(data) == 1 &&
	    MBLKHEAD(data) >= UDP_HDR_LEN) {
		data->b_rptr -= UDP_HDR_LEN; /* in the headroom the stream head left */
		hp = data;
	} else {
		hp = allocb(DGRAM_WROFF, BPRI_MED);
		if (hp == NULL) {
			freemsg(data);
			*errp = ENOBUFS;
			return NULL;
		}
		hp->b_wptr = DB_LIM(hp);
		hp->b_rptr = hp->b_wptr - UDP_HDR_LEN;
		hp->b_cont = data;
	}
	uint8_t *h = hp->b_rptr;
	udp_put16(h, ep->de_lport);
	udp_put16(h + 2, d->dd_port);
	udp_put16(h + 4, (uint16_t)(len + UDP_HDR_LEN));
	udp_put16(h + UDP_CKSUM_OFF, 0);
	req->proto = IPPROTO_UDP;
	if (!ep->de_nocheck) {
		req->flags |= IP_F_CKSUM | IP_F_CKSUM_UDP;
		req->cksum_off = UDP_CKSUM_OFF;
	}
	US_PROBE8(udp, send, ep, h, ep->de_lsrc, ep->de_lport, d->dd_addr, d->dd_port,
		  udp_get16(h + 4), len);
	return hp;
}

/* ------------------------------------------------------------------ */
/* Input                                                              */
/* ------------------------------------------------------------------ */

/* How well ep matches a datagram dst <- src:sport on its port: -1 not at
 * all, else higher is more specific. */
static int
udp_score(const DgramEp *ep, uint32_t dst, uint32_t src, uint16_t sport)
{
	if (ep->de_laddr != INADDR_ANY && ep->de_laddr != dst)
		return -1;
	if (ep->de_connected && (ep->de_raddr != src || ep->de_rport != sport))
		return -1;
	return (ep->de_laddr != INADDR_ANY ? 2 : 0) + (ep->de_connected ? 4 : 0);
}

/* The endpoint of g a unicast datagram goes to, or NULL. */
static DgramEp *
udp_lookup(DgramStack *ds, GQueue *g, uint32_t dst, uint16_t dport, uint32_t src, uint16_t sport)
{
	DgramEp *best = NULL;
	int top = -1;
	for (GList *l = g->head; l != NULL; l = l->next) {
		int s = udp_score(l->data, dst, src, sport);
		if (s >= 0 && s >= top) { /* ">=": the newest of equals */
			best = l->data;
			top = s;
		}
	}
	if (best == NULL || !best->de_reuseport)
		return best;
	guint n = 0;
	for (GList *l = g->head; l != NULL; l = l->next) {
		const DgramEp *e = l->data;
		n += e->de_reuseport && e->de_laddr == best->de_laddr &&
		     udp_score(e, dst, src, sport) == top;
	}
	guint k = dgram_flow_hash(ds, src, sport, dst, dport) % n;
	for (GList *l = g->head; l != NULL; l = l->next) {
		DgramEp *e = l->data;
		if (e->de_reuseport && e->de_laddr == best->de_laddr &&
		    udp_score(e, dst, src, sport) == top && k-- == 0)
			return e;
	}
	return best;
}

static gboolean
udp_cksum_ok(const struct ip_unitdata_ind *ind, const mblk_t *dg, size_t hl, uint16_t ulen)
{
	if (DB_CKSUMFLAGS(dg) & (HCK_FULLCKSUM_OK | HCK_PARTIALCKSUM))
		return TRUE; /* verified below, or left partial by a trusted sender */
	uint64_t sum = us_cksum_pseudo(ind->src, ind->dst, IPPROTO_UDP, ulen);
	sum = us_cksum_mblk(sum, dg, hl, ulen);
	return us_cksum_finish(sum) == 0;
}

/* The payload of dg (consumed): b_rptr moved past the IP and udp headers. */
static mblk_t *
udp_payload(mblk_t *dg, size_t hl)
{
	(void)adjmsg(dg, (ssize_t)(hl + UDP_HDR_LEN));
	return dgram_strip_empty(dg);
}

/* A broadcast or multicast datagram: a copy for every matching endpoint. */
static void
udp_input_multi(DgramStack *ds, queue_t *lrq, mblk_t *mp, const struct ip_unitdata_ind *ind,
		size_t hl, uint16_t sport, uint16_t dport)
{
	GQueue *g = udp_group(ds, dport);
	guint n = 0;
	for (GList *l = g != NULL ? g->head : NULL; l != NULL; l = l->next)
		n += udp_score(l->data, ind->dst, ind->src, sport) >= 0;
	if (n == 0) {
		DGRAM_COUNT(ds, NULL, dm_ignored_multi);
		dgram_drop(ds, lrq, mp, DGRAM_DROP_NO_MULTI);
		return;
	}
	mblk_t *data = udp_payload(unlinkb(mp), hl);
	freeb(mp);
	for (GList *l = g->head; l != NULL && n > 0; l = l->next) {
		DgramEp *ep = l->data;
		if (udp_score(ep, ind->dst, ind->src, sport) < 0)
			continue;
		mblk_t *copy = --n == 0 ? data : dupmsg(data);
		if (copy == NULL) {
			DGRAM_COUNT(ds, ep, dm_in_errors);
			us_drop(ep->de_rq, NULL, DGRAM_DROP_NOMEM);
			continue;
		}
		dgram_deliver(ep, ind->src, sport, copy);
	}
}

/* IP_UNITDATA_IND (consumes mp): the checks and demultiplexing of the
 * theory. */
static void
udp_input(DgramStack *ds, queue_t *lrq, mblk_t *mp, const struct ip_unitdata_ind *ind)
{
	mblk_t *dg = mp->b_cont;
	size_t hl = ind->hdr_len, total = msgdsize(dg);
	uint8_t uh[UDP_HDR_LEN];
	if (hl < UDP_IP_HDR_MIN || total < hl + UDP_HDR_LEN) {
		DGRAM_COUNT(ds, NULL, dm_in_errors);
		dgram_drop(ds, lrq, mp, DGRAM_DROP_SHORT);
		return;
	}
	us_msgcopyout(dg, hl, uh, sizeof uh);
	uint16_t sport = udp_get16(uh), dport = udp_get16(uh + 2), ulen = udp_get16(uh + 4);
	size_t avail = total - hl;
	if (ulen < UDP_HDR_LEN || ulen > avail) {
		DGRAM_COUNT(ds, NULL, dm_in_errors);
		dgram_drop(ds, lrq, mp, DGRAM_DROP_BADLEN);
		return;
	}
	if (ulen < avail)
		(void)adjmsg(dg, -(ssize_t)(avail - ulen)); /* link-layer padding and the like */
	if (udp_get16(uh + UDP_CKSUM_OFF) != 0 && !udp_cksum_ok(ind, dg, hl, ulen)) {
		DGRAM_COUNT(ds, NULL, dm_in_csum_errors);
		DGRAM_COUNT(ds, NULL, dm_in_errors);
		dgram_drop(ds, lrq, mp, DGRAM_DROP_CKSUM);
		return;
	}
	if ((ind->flags & (IP_IF_BROADCAST | IP_IF_MULTICAST)) || dgram_addr_is_multi(ind->dst)) {
		US_PROBE8(udp, receive, NULL, uh, ind->src, sport, ind->dst, dport, ulen,
			  ulen - UDP_HDR_LEN);
		udp_input_multi(ds, lrq, mp, ind, hl, sport, dport);
		return;
	}
	GQueue *g = udp_group(ds, dport);
	DgramEp *ep = g != NULL ? udp_lookup(ds, g, ind->dst, dport, ind->src, sport) : NULL;
	US_PROBE8(udp, receive, ep, uh, ind->src, sport, ind->dst, dport, ulen, ulen - UDP_HDR_LEN);
	if (ep == NULL) {
		DGRAM_COUNT(ds, NULL, dm_no_ports);
		dgram_drop(ds, lrq, NULL, DGRAM_DROP_NO_PORT);
		dgram_reject(ds, lrq, mp, unlinkb(mp), 3, 3); /* port unreachable */
		return;
	}
	dg = udp_payload(unlinkb(mp), hl);
	freeb(mp);
	dgram_deliver(ep, ind->src, sport, dg);
}

/* IP_ICMP_IND (consumes mp): reported to the connected endpoint it is about. */
static void
udp_icmp(DgramStack *ds, queue_t *lrq, mblk_t *mp, const struct ip_icmp_ind *ii)
{
	DgramQuote q;
	if (!dgram_quote_parse(mp->b_cont, &q) || q.dq_proto != IPPROTO_UDP || q.dq_tlen < 4) {
		DGRAM_COUNT(ds, NULL, dm_icmp_ignored);
		dgram_drop(ds, lrq, mp, DGRAM_DROP_BADPRIM);
		return;
	}
	uint16_t sport = udp_get16(q.dq_th), dport = udp_get16(q.dq_th + 2);
	GQueue *g = udp_group(ds, sport);
	DgramEp *conn = NULL, *any = NULL;
	for (GList *l = g != NULL ? g->head : NULL; l != NULL; l = l->next) {
		DgramEp *e = l->data;
		if (e->de_laddr != INADDR_ANY && e->de_laddr != q.dq_src)
			continue;
		any = e;
		if (e->de_connected && e->de_raddr == q.dq_dst && e->de_rport == dport)
			conn = e;
	}
	if (conn != NULL && dgram_icmp_hard(ii->type, ii->code)) {
		freemsg(mp);
		DGRAM_COUNT(ds, conn, dm_icmp_errors);
		dgram_uderror(conn, q.dq_dst, dport, (int)ii->error);
		return;
	}
	DGRAM_COUNT(ds, conn != NULL ? conn : any, dm_icmp_ignored);
	dgram_drop(ds, lrq, mp, DGRAM_DROP_ICMP);
}

/* The sender of the datagram an IP_UDERROR_IND returns (see the theory). */
static DgramEp *
udp_uderror_ep(DgramStack *ds, const struct ip_uderror_ind *u, const mblk_t *payload,
	       uint16_t *dportp)
{
	uint8_t h[4];
	if (payload == NULL || us_msgcopyout(payload, 0, h, sizeof h) != sizeof h)
		return NULL;
	uint16_t sport = udp_get16(h), dport = udp_get16(h + 2);
	GQueue *g = udp_group(ds, sport);
	DgramEp *conn = NULL, *last = NULL, *any = NULL;
	for (GList *l = g != NULL ? g->head : NULL; l != NULL; l = l->next) {
		DgramEp *e = l->data;
		any = e;
		if (e->de_connected && e->de_raddr == u->dst && e->de_rport == dport)
			conn = e;
		if (e->de_last_dst == u->dst)
			last = e;
	}
	*dportp = dport;
	return conn != NULL ? conn : last != NULL ? last : any;
}

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */

static const DgramOptName udp_opts[] = {
	{ SOL_SOCKET, SO_NO_CHECK },
	{ 0, 0 },
};

static int
udp_opt_set(DgramEp *ep, t_uscalar_t level, t_uscalar_t name, int value)
{
	if (level == SOL_SOCKET && name == SO_NO_CHECK) {
		ep->de_nocheck = value != 0;
		return 0;
	}
	return DGRAM_OPT_UNKNOWN;
}

static int
udp_opt_get(const DgramEp *ep, t_uscalar_t level, t_uscalar_t name, int *valuep)
{
	if (level == SOL_SOCKET && name == SO_NO_CHECK) {
		*valuep = ep->de_nocheck;
		return 0;
	}
	return DGRAM_OPT_UNKNOWN;
}

static gboolean
udp_proto_ok(int proto)
{
	return proto == 0 || proto == IPPROTO_UDP;
}

static const DgramProto udp_proto = {
	.dp_name = "udp",
	.dp_raw = FALSE,
	.dp_tsdu = UDP_TSDU_SIZE,
	.dp_socktype = SOCK_DGRAM,
	.dp_default_proto = IPPROTO_UDP,
	.dp_bind_proto = IPPROTO_UDP,
	.dp_bind_flags = 0,
	.dp_opts = udp_opts,
	.dp_stack_init = udp_stack_init,
	.dp_stack_free = udp_stack_free,
	.dp_bind = udp_bind,
	.dp_unbind = udp_unbind,
	.dp_max_payload = udp_max_payload,
	.dp_output = udp_output,
	.dp_input = udp_input,
	.dp_icmp = udp_icmp,
	.dp_uderror_ep = udp_uderror_ep,
	.dp_opt_set = udp_opt_set,
	.dp_opt_get = udp_opt_get,
	.dp_proto_ok = udp_proto_ok,
};

/* ------------------------------------------------------------------ */
/* Open                                                               */
/* ------------------------------------------------------------------ */

static int
udp_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	return dgram_open(&udp_proto, rq, devp, oflag, sflag, crp);
}

gboolean
us_udp_stack_stat(UsStack *stack, const char *name, guint64 *value)
{
	return dgram_stack_stat(stack, udp_proto.dp_name, us_udp_desc.stats, name, value);
}

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

/* Every queue of udp (upper and lower) carries this name: the core finds
 * the stack's state by it. */
static struct module_info udp_minfo = {
	.mi_idnum = 2117,
	.mi_idname = "udp",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ, /* a write is one datagram: never split */
	.mi_hiwat = DGRAM_SNDBUF_DEFAULT,
	.mi_lowat = DGRAM_SNDBUF_DEFAULT / 4,
};
static struct qinit udp_urinit = {
	.qi_putp = us_putnext_put,
	.qi_qopen = udp_open,
	.qi_qclose = dgram_close,
	.qi_minfo = &udp_minfo,
};
static struct qinit udp_uwinit = {
	.qi_putp = dgram_uwput,
	.qi_srvp = dgram_uwsrv,
	.qi_minfo = &udp_minfo,
};
static struct qinit udp_lrinit = {
	.qi_putp = dgram_lrput,
	.qi_minfo = &udp_minfo,
};
static struct qinit udp_lwinit = {
	.qi_putp = us_mux_lower_wput,
	.qi_srvp = us_mux_lower_wsrv,
	.qi_minfo = &udp_minfo,
};
static struct streamtab udp_info = {
	.st_rdinit = &udp_urinit,
	.st_wrinit = &udp_uwinit,
	.st_muxrinit = &udp_lrinit,
	.st_muxwinit = &udp_lwinit,
};

#define UDP_STAT(nm, desc, fld) US_STAT(nm, desc, DgramEp, de_mib.fld)
static const UsStatDesc udp_stats[] = {
	UDP_STAT(UDP_STAT_IN_DATAGRAMS, "datagrams delivered", dm_in_datagrams),
	UDP_STAT(UDP_STAT_NO_PORTS, "unicast datagrams for no endpoint", dm_no_ports),
	UDP_STAT(UDP_STAT_IN_ERRORS, "datagrams not delivered (errors)", dm_in_errors),
	UDP_STAT(UDP_STAT_OUT_DATAGRAMS, "datagrams sent", dm_out_datagrams),
	UDP_STAT(UDP_STAT_RCVBUF_ERRORS, "dropped: receive buffer full", dm_rcvbuf_errors),
	UDP_STAT(UDP_STAT_IN_CSUM_ERRORS, "dropped: bad checksum", dm_in_csum_errors),
	UDP_STAT(UDP_STAT_IGNORED_MULTI, "broadcast/multicast for no endpoint", dm_ignored_multi),
	UDP_STAT(UDP_STAT_OUT_ERRORS, "sends that failed (T_UDERROR_IND)", dm_out_errors),
	UDP_STAT(UDP_STAT_ICMP_ERRORS, "ICMP errors reported to endpoints", dm_icmp_errors),
	UDP_STAT(UDP_STAT_ICMP_IGNORED, "ICMP errors not reported", dm_icmp_ignored),
	{ 0 },
};

static const char *const udp_accepts[] = {
	"M_PROTO/M_PCPROTO (TPI T_CLTS: T_INFO, T_CAPABILITY, T_ADDR, T_BIND, O_T_BIND, "
	"T_UNBIND, T_SVR4_OPTMGMT, T_CONN, T_DISCON, T_UNITDATA)",
	"M_DATA (connected endpoints)",
	"M_IOCTL (I_LINK, I_PLINK, I_UNLINK, I_PUNLINK)",
	"M_FLUSH",
	"from ip: IP_BIND_ACK, IP_OK_ACK, IP_ERROR_ACK, IP_ROUTE_ACK, IP_UNITDATA_IND, "
	"IP_UDERROR_IND, IP_ICMP_IND",
	NULL,
};

const UsModuleDesc us_udp_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "udp",
	.summary = "UDP (RFC 768): TPI connectionless transport over ip",
	.kind = US_KIND_MUX,
	.streamtab = &udp_info,
	.mt_flags = US_MT_PERSTACK,
	.params = dgram_params,
	.stats = udp_stats,
	.drop_reasons = dgram_drop_reasons,
	.accepts = udp_accepts,
};
