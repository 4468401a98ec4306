/* SPDX-License-Identifier: MIT */
/*
 * icmp -- the raw-IP transport driver (Solaris' /dev/icmp): SOCK_RAW sockets
 * over ip, one protocol number per endpoint (IPPROTO_ICMP unless
 * US_SO_PROTOTYPE says otherwise), e.g. ping's ICMP socket.  The TPI
 * service, the ip lower, options, the receive buffer and flow control are
 * the shared core's (modules/inet/dgram.c); this file is what raw sockets
 * do differently.
 *
 * Theory
 * ------
 * ip binding: IP_BIND_REQ with IP_BINDF_RAW.  ip then sends up a copy of
 * every datagram it delivers locally, of any protocol, after acting on it
 * itself (so echo requests it answered and the replies to our own requests
 * both arrive here).
 *
 * Receive (IP_UNITDATA_IND, b_cont from the IP header): every endpoint whose
 * protocol is the datagram's, whose bound address (if any) is the
 * destination and whose peer (if connected) is the source gets a copy
 * (dupmsg: shared, never copied), in the order the endpoints were opened,
 * as Linux raw_v4_input does; the data includes the IP header.  A bound
 * endpoint is not required: raw sockets receive from their creation.  On an
 * IPPROTO_ICMP endpoint ICMP_FILTER drops the types whose bit is set, and a
 * datagram too short to hold an ICMP type (as Linux's icmp_filter).  A
 * datagram nobody wants is counted (rawNoEndpoint) and dropped: with the raw
 * binding this is the normal fate of most traffic.
 *
 * Send: the data is the payload (an ICMP message the application built,
 * checksum included: nothing is computed here) sent with the endpoint's
 * protocol; with IP_HDRINCL (or protocol IPPROTO_RAW) the data starts with
 * an IP header and goes with IP_F_HDRINCL.  The port of DEST is ignored.
 *
 * ICMP errors about our datagrams (IP_ICMP_IND): endpoints of the quoted
 * protocol connected to the quoted destination get T_UDERROR_IND for "hard"
 * errors (as Linux raw_err without IP_RECVERR).  IP_UDERROR_IND goes to the
 * endpoint of that protocol connected to the destination, else the one that
 * last sent there, else the first of that protocol.
 *
 * Reading list: RFC 792 (ICMP); Linux net/ipv4/raw.c (raw_v4_input,
 * icmp_filter, raw_err); illumos rawip.c.
 *
 * Deviations
 *  - The port in T_BIND_ACK and T_ADDR_ACK is 0 (Linux reports the protocol
 *    number as the port of a raw socket).
 *  - No checksum is offered for IPPROTO_ICMP (Linux's IPV6_CHECKSUM-like
 *    options do not exist for IPv4 raw sockets either); the application
 *    computes it.
 *  - IP_UDERROR_IND has no field naming the sender: the choice above may
 *    pick the wrong endpoint when several share a protocol.
 */
#define G_LOG_DOMAIN "us-icmp"

#include "icmp.h"
#include "dgram-impl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SOL_RAW
#define SOL_RAW 255
#endif

#define RAW_IP_HDR_MIN 20

/* ------------------------------------------------------------------ */
/* Binding and output                                                 */
/* ------------------------------------------------------------------ */

/* Raw endpoints hold no port: the address is only a receive filter. */
static int
raw_bind(DgramEp *ep, uint32_t laddr, uint16_t *portp, gboolean may_move)
{
	(void)ep;
	(void)laddr;
	(void)may_move;
	*portp = 0;
	return 0;
}

static void
raw_unbind(DgramEp *ep)
{
	(void)ep;
}

static gboolean
raw_hdrincl(const DgramEp *ep)
{
	return ep->de_hdrincl || ep->de_proto == IPPROTO_RAW;
}

static size_t
raw_max_payload(const DgramEp *ep)
{
	return raw_hdrincl(ep) ? ICMP_RAW_HDRINCL_MAX : ICMP_RAW_TSDU_SIZE;
}

/* The data goes as it is (consumed; an empty block stands for no data). */
static mblk_t *
raw_output(DgramEp *ep, const DgramDest *d, mblk_t *data, struct ip_unitdata_req *req, int *errp)
{
	(void)d;
	if (raw_hdrincl(ep) && (data == NULL || msgdsize(data) < RAW_IP_HDR_MIN)) {
		freemsg(data);
		*errp = EINVAL; /* no room for the IP header it claims to carry */
		return NULL;
	}
	if (data == NULL) {
		data = allocb(DGRAM_WROFF, BPRI_MED);
		if (data == NULL) {
			*errp = ENOBUFS;
			return NULL;
		}
		data->b_rptr = data->b_wptr = DB_LIM(data);
	}
	req->proto = (uint8_t)ep->de_proto;
	if (raw_hdrincl(ep))
		req->flags |= IP_F_HDRINCL;
	return data;
}

/* ------------------------------------------------------------------ */
/* Input                                                              */
/* ------------------------------------------------------------------ */

static gboolean
raw_match(const DgramEp *ep, uint8_t proto, uint32_t src, uint32_t dst)
{
	return ep->de_proto == proto && (ep->de_laddr == INADDR_ANY || ep->de_laddr == dst) &&
	       (!ep->de_connected || ep->de_raddr == src);
}

/* Linux icmp_filter: TRUE when ep does not want this ICMP message (type < 0:
 * too short to have one). */
static gboolean
raw_filtered(const DgramEp *ep, int type)
{
	if (ep->de_proto != IPPROTO_ICMP)
		return FALSE;
	if (type < 0)
		return TRUE;
	return type < 32 && (ep->de_icmp_filter & (1u << type)) != 0;
}

/* IP_UNITDATA_IND (consumes mp): a copy to every matching endpoint. */
static void
raw_input(DgramStack *ds, queue_t *lrq, mblk_t *mp, const struct ip_unitdata_ind *ind)
{
	mblk_t *dg = mp->b_cont;
	size_t hl = ind->hdr_len, total = msgdsize(dg);
	uint8_t t;
	if (hl < RAW_IP_HDR_MIN || total < hl) {
		DGRAM_COUNT(ds, NULL, dm_in_errors);
		dgram_drop(ds, lrq, mp, DGRAM_DROP_SHORT);
		return;
	}
	int type = us_msgcopyout(dg, hl, &t, 1) == 1 ? t : -1;
	guint n = 0, filtered = 0;
	for (GList *l = ds->ds_eps.head; l != NULL; l = l->next) {
		DgramEp *ep = l->data;
		if (!raw_match(ep, ind->proto, ind->src, ind->dst))
			continue;
		if (raw_filtered(ep, type)) {
			DGRAM_COUNT(ds, ep, dm_filtered);
			filtered++;
			continue;
		}
		n++;
	}
	if (n == 0) {
		/* ip gives the raw binding a copy of every local datagram: a
		 * copy nobody wants is counted, not dropped (the original went
		 * to its transport). */
		if (filtered == 0)
			DGRAM_COUNT(ds, NULL, dm_no_ports);
		if (filtered != 0)
			dgram_drop(ds, lrq, mp, DGRAM_DROP_FILTERED);
		else
			freemsg(mp);
		return;
	}
	dg = unlinkb(mp);
	freeb(mp);
	for (GList *l = ds->ds_eps.head; l != NULL && n > 0; l = l->next) {
		DgramEp *ep = l->data;
		if (!raw_match(ep, ind->proto, ind->src, ind->dst) || raw_filtered(ep, type))
			continue;
		mblk_t *copy = --n == 0 ? dg : dupmsg(dg);
		if (copy == NULL) {
			DGRAM_COUNT(ds, ep, dm_in_errors);
			us_drop(ep->de_rq, NULL, DGRAM_DROP_NOMEM);
			continue;
		}
		dgram_deliver(ep, ind->src, 0, copy);
	}
}

/* IP_ICMP_IND (consumes mp): to the endpoints connected to the quoted
 * destination with the quoted protocol. */
static void
raw_icmp(DgramStack *ds, queue_t *lrq, mblk_t *mp, const struct ip_icmp_ind *ii)
{
	DgramQuote q;
	guint told = 0;
	if (!dgram_quote_parse(mp->b_cont, &q)) {
		DGRAM_COUNT(ds, NULL, dm_icmp_ignored);
		dgram_drop(ds, lrq, mp, DGRAM_DROP_BADPRIM);
		return;
	}
	gboolean hard = dgram_icmp_hard(ii->type, ii->code);
	for (GList *l = ds->ds_eps.head; l != NULL && hard; l = l->next) {
		DgramEp *ep = l->data;
		if (ep->de_proto != q.dq_proto || !ep->de_connected || ep->de_raddr != q.dq_dst ||
		    (ep->de_laddr != INADDR_ANY && ep->de_laddr != q.dq_src))
			continue;
		DGRAM_COUNT(ds, ep, dm_icmp_errors);
		dgram_uderror(ep, q.dq_dst, 0, (int)ii->error);
		told++;
	}
	if (told > 0) {
		freemsg(mp);
		return;
	}
	DGRAM_COUNT(ds, NULL, dm_icmp_ignored);
	dgram_drop(ds, lrq, mp, DGRAM_DROP_ICMP);
}

static DgramEp *
raw_uderror_ep(DgramStack *ds, const struct ip_uderror_ind *u, const mblk_t *payload,
	       uint16_t *dportp)
{
	(void)payload;
	DgramEp *conn = NULL, *last = NULL, *first = NULL;
	for (GList *l = ds->ds_eps.head; l != NULL; l = l->next) {
		DgramEp *ep = l->data;
		if (ep->de_proto != (int)u->proto)
			continue;
		if (first == NULL)
			first = ep;
		if (conn == NULL && ep->de_connected && ep->de_raddr == u->dst)
			conn = ep;
		if (ep->de_last_dst == u->dst)
			last = ep;
	}
	*dportp = 0;
	return conn != NULL ? conn : last != NULL ? last : first;
}

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */

static const DgramOptName raw_opts[] = {
	{ IPPROTO_IP, IP_HDRINCL },
	{ SOL_RAW, ICMP_FILTER },
	{ 0, 0 },
};

static int
raw_opt_set(DgramEp *ep, t_uscalar_t level, t_uscalar_t name, int value)
{
	if (level == IPPROTO_IP && name == IP_HDRINCL) {
		ep->de_hdrincl = value != 0;
		return 0;
	}
	if (level == SOL_RAW && name == ICMP_FILTER) {
		if (ep->de_proto != IPPROTO_ICMP)
			return EOPNOTSUPP;
		ep->de_icmp_filter = (uint32_t)value;
		return 0;
	}
	return DGRAM_OPT_UNKNOWN;
}

static int
raw_opt_get(const DgramEp *ep, t_uscalar_t level, t_uscalar_t name, int *valuep)
{
	if (level == IPPROTO_IP && name == IP_HDRINCL) {
		*valuep = raw_hdrincl(ep);
		return 0;
	}
	if (level == SOL_RAW && name == ICMP_FILTER) {
		if (ep->de_proto != IPPROTO_ICMP)
			return EOPNOTSUPP;
		*valuep = (int)ep->de_icmp_filter;
		return 0;
	}
	return DGRAM_OPT_UNKNOWN;
}

static gboolean
raw_proto_ok(int proto)
{
	return proto >= 1 && proto <= 255;
}

static const DgramProto raw_proto = {
	.dp_name = "icmp",
	.dp_raw = TRUE,
	.dp_tsdu = ICMP_RAW_TSDU_SIZE,
	.dp_socktype = SOCK_RAW,
	.dp_default_proto = IPPROTO_ICMP,
	.dp_bind_proto = 0,
	.dp_bind_flags = IP_BINDF_RAW,
	.dp_opts = raw_opts,
	.dp_bind = raw_bind,
	.dp_unbind = raw_unbind,
	.dp_max_payload = raw_max_payload,
	.dp_output = raw_output,
	.dp_input = raw_input,
	.dp_icmp = raw_icmp,
	.dp_uderror_ep = raw_uderror_ep,
	.dp_opt_set = raw_opt_set,
	.dp_opt_get = raw_opt_get,
	.dp_proto_ok = raw_proto_ok,
};

/* ------------------------------------------------------------------ */
/* Open                                                               */
/* ------------------------------------------------------------------ */

static int
icmp_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	return dgram_open(&raw_proto, rq, devp, oflag, sflag, crp);
}

gboolean
us_icmp_stack_stat(UsStack *stack, const char *name, guint64 *value)
{
	return dgram_stack_stat(stack, raw_proto.dp_name, us_icmp_desc.stats, name, value);
}

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

/* Every queue of the driver (upper and lower) carries this name: the core
 * finds the stack's state by it. */
static struct module_info icmp_minfo = {
	.mi_idnum = 2101,
	.mi_idname = "icmp",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ, /* a write is one datagram: never split */
	.mi_hiwat = DGRAM_SNDBUF_DEFAULT,
	.mi_lowat = DGRAM_SNDBUF_DEFAULT / 4,
};
static struct qinit icmp_urinit = {
	.qi_putp = us_putnext_put,
	.qi_qopen = icmp_open,
	.qi_qclose = dgram_close,
	.qi_minfo = &icmp_minfo,
};
static struct qinit icmp_uwinit = {
	.qi_putp = dgram_uwput,
	.qi_srvp = dgram_uwsrv,
	.qi_minfo = &icmp_minfo,
};
static struct qinit icmp_lrinit = {
	.qi_putp = dgram_lrput,
	.qi_minfo = &icmp_minfo,
};
static struct qinit icmp_lwinit = {
	.qi_putp = us_mux_lower_wput,
	.qi_srvp = us_mux_lower_wsrv,
	.qi_minfo = &icmp_minfo,
};
static struct streamtab icmp_info = {
	.st_rdinit = &icmp_urinit,
	.st_wrinit = &icmp_uwinit,
	.st_muxrinit = &icmp_lrinit,
	.st_muxwinit = &icmp_lwinit,
};

#define RAW_STAT(nm, desc, fld) US_STAT(nm, desc, DgramEp, de_mib.fld)
static const UsStatDesc icmp_stats[] = {
	RAW_STAT(ICMP_STAT_IN_DATAGRAMS, "copies delivered", dm_in_datagrams),
	RAW_STAT(ICMP_STAT_NO_ENDPOINT, "datagrams no endpoint wanted", dm_no_ports),
	RAW_STAT(ICMP_STAT_IN_ERRORS, "datagrams not delivered (errors)", dm_in_errors),
	RAW_STAT(ICMP_STAT_OUT_DATAGRAMS, "datagrams sent", dm_out_datagrams),
	RAW_STAT(ICMP_STAT_RCVBUF_ERRORS, "dropped: receive buffer full", dm_rcvbuf_errors),
	RAW_STAT(ICMP_STAT_OUT_ERRORS, "sends that failed (T_UDERROR_IND)", dm_out_errors),
	RAW_STAT(ICMP_STAT_ICMP_ERRORS, "ICMP errors reported to endpoints", dm_icmp_errors),
	RAW_STAT(ICMP_STAT_ICMP_IGNORED, "ICMP errors not reported", dm_icmp_ignored),
	RAW_STAT(ICMP_STAT_FILTERED, "copies not made: ICMP_FILTER", dm_filtered),
	{ 0 },
};

static const char *const icmp_accepts[] = {
	"M_PROTO/M_PCPROTO (TPI T_CLTS: T_INFO, T_CAPABILITY, T_ADDR, T_BIND, O_T_BIND, "
	"T_UNBIND, T_SVR4_OPTMGMT, T_CONN, T_DISCON, T_UNITDATA)",
	"M_DATA (connected endpoints)",
	"M_IOCTL (I_LINK, I_PLINK, I_UNLINK, I_PUNLINK)",
	"M_FLUSH",
	"from ip: IP_BIND_ACK, IP_OK_ACK, IP_ERROR_ACK, IP_ROUTE_ACK, IP_UNITDATA_IND, "
	"IP_UDERROR_IND, IP_ICMP_IND",
	NULL,
};

const UsModuleDesc us_icmp_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "icmp",
	.summary = "raw IP sockets (SOCK_RAW, e.g. ICMP for ping): TPI connectionless over ip",
	.kind = US_KIND_MUX,
	.streamtab = &icmp_info,
	.mt_flags = US_MT_PERSTACK,
	.params = dgram_params,
	.stats = icmp_stats,
	.drop_reasons = dgram_drop_reasons,
	.accepts = icmp_accepts,
};
