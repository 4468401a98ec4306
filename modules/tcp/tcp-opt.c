/* SPDX-License-Identifier: MIT */
/*
 * tcp-opt -- socket options (T_SVR4_OPTMGMT_REQ) and the parameters of
 * tcp.
 *
 * Theory
 * ------
 * Options are struct opthdr {level, name, len} + value padded to
 * OPTLEN(len) (tcp.h lists them).  T_NEGOTIATE tries the whole request on
 * a scratch copy of the endpoint first, so a bad option changes nothing,
 * then sets and answers the resulting values; T_CURRENT and T_DEFAULT
 * answer the values asked (every option for an empty request); T_CHECK
 * answers T_SUCCESS or T_FAILURE.  Unknown option: TBADOPT; bad value:
 * TSYSERR EINVAL (ENOENT for an unknown TCP_CONGESTION, ENOPROTOOPT for
 * setting a read-only option).  New values reach the connection at once
 * (TCP_NODELAY on and TCP_CORK off push what waits).
 *
 * Parameters: "rcvbuf" and "sndbuf" are the endpoint's (SO_RCVBUF,
 * SO_SNDBUF); the others are the stack's, mirrored in every endpoint so the
 * registry can read them: setting one through any tcp stream sets it for
 * the stack (connections read it from the shared TcpCtx).
 */
#define G_LOG_DOMAIN "us-tcp"

#include "tcp-impl.h"

#include "../inet/tpi-util.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SO_REUSEPORT
#define SO_REUSEPORT 15
#endif

#define TCP_OPT_UNKNOWN (-1)
#define TCP_OPT_VAL_MAX (sizeof(struct us_tcp_info))

typedef struct {
	t_uscalar_t on_level, on_name;
} TcpOptName;

static const TcpOptName tcp_opts[] = {
	{ SOL_SOCKET, SO_RCVBUF },
	{ SOL_SOCKET, SO_SNDBUF },
	{ SOL_SOCKET, SO_REUSEADDR },
	{ SOL_SOCKET, SO_REUSEPORT },
	{ SOL_SOCKET, SO_KEEPALIVE },
	{ SOL_SOCKET, SO_LINGER },
	{ SOL_SOCKET, SO_OOBINLINE },
	{ SOL_SOCKET, SO_TYPE },
	{ IPPROTO_IP, IP_TTL },
	{ IPPROTO_IP, IP_TOS },
	{ IPPROTO_TCP, TCP_NODELAY },
	{ IPPROTO_TCP, TCP_MAXSEG },
	{ IPPROTO_TCP, TCP_CORK },
	{ IPPROTO_TCP, TCP_KEEPIDLE },
	{ IPPROTO_TCP, TCP_KEEPINTVL },
	{ IPPROTO_TCP, TCP_KEEPCNT },
	{ IPPROTO_TCP, TCP_SYNCNT },
	{ IPPROTO_TCP, TCP_LINGER2 },
	{ IPPROTO_TCP, TCP_CONGESTION },
	{ IPPROTO_TCP, TCP_INFO },
	{ 0, 0 },
};

static gboolean
tcp_opt_known(t_uscalar_t level, t_uscalar_t name)
{
	for (const TcpOptName *o = tcp_opts; o->on_level != 0 || o->on_name != 0; o++)
		if (o->on_level == level && o->on_name == name)
			return TRUE;
	return FALSE;
}

/* ------------------------------------------------------------------ */
/* Defaults                                                           */
/* ------------------------------------------------------------------ */

void
tcp_ep_defaults(TcpEp *ep, TcpStack *ts)
{
	ep->te_ts = ts;
	ep->te_rcvbuf = TCP_RCVBUF_DEFAULT;
	ep->te_sndbuf = TCP_SNDBUF_DEFAULT;
	ep->te_state = TS_UNBND;
	ep->te_ttl = -1;
	ep->te_keepidle = 7200;
	ep->te_keepintvl = 75;
	ep->te_keepcnt = 9;
	ep->te_sp = ts->ts_sp;
	ep->te_sp.sp_cc = g_strdup(ts->ts_sp.sp_cc);
}

void
tcp_stack_params_init(TcpStack *ts)
{
	TcpStackParams *sp = &ts->ts_sp;
	const TcpParams *p = &ts->ts_ctx.tx_params;
	sp->sp_rto_min_ms = (guint64)(p->tp_rto_min / TCP_MSEC);
	sp->sp_rto_max_ms = (guint64)(p->tp_rto_max / TCP_MSEC);
	sp->sp_rto_init_ms = (guint64)(p->tp_rto_init / TCP_MSEC);
	sp->sp_delack_ms = (guint64)(p->tp_delack / TCP_MSEC);
	sp->sp_time_wait_ms = (guint64)(p->tp_time_wait / TCP_MSEC);
	sp->sp_fin_wait_2_ms = (guint64)(p->tp_fin_wait_2 / TCP_MSEC);
	sp->sp_retries = p->tp_retries;
	sp->sp_syn_retries = p->tp_syn_retries;
	sp->sp_synack_retries = p->tp_synack_retries;
	sp->sp_challenge = p->tp_challenge_limit;
	sp->sp_syncookies = TRUE;
	sp->sp_sack = p->tp_sack;
	sp->sp_ts = p->tp_ts;
	sp->sp_wscale = p->tp_wscale;
	sp->sp_autotune = FALSE;
	sp->sp_cc = g_strdup(tcp_cc_default()->name);
}

void
tcp_stack_params_free(TcpStackParams *sp)
{
	g_free(sp->sp_cc);
	sp->sp_cc = NULL;
}

/* The stack's parameters from sp, into the core's context. */
static void
tcp_stack_params_apply(TcpStack *ts, const TcpStackParams *sp)
{
	TcpParams *p = &ts->ts_ctx.tx_params;
	char *cc = g_strdup(sp->sp_cc);
	tcp_stack_params_free(&ts->ts_sp);
	ts->ts_sp = *sp;
	ts->ts_sp.sp_cc = cc;
	p->tp_rto_min = (gint64)sp->sp_rto_min_ms * TCP_MSEC;
	p->tp_rto_max = (gint64)sp->sp_rto_max_ms * TCP_MSEC;
	p->tp_rto_init = (gint64)sp->sp_rto_init_ms * TCP_MSEC;
	p->tp_delack = (gint64)sp->sp_delack_ms * TCP_MSEC;
	p->tp_time_wait = (gint64)sp->sp_time_wait_ms * TCP_MSEC;
	p->tp_fin_wait_2 = (gint64)sp->sp_fin_wait_2_ms * TCP_MSEC;
	p->tp_retries = (guint)sp->sp_retries;
	p->tp_syn_retries = (guint)sp->sp_syn_retries;
	p->tp_synack_retries = (guint)sp->sp_synack_retries;
	p->tp_challenge_limit = (guint)sp->sp_challenge;
	p->tp_sack = sp->sp_sack;
	p->tp_ts = sp->sp_ts;
	p->tp_wscale = sp->sp_wscale;
}

/* ------------------------------------------------------------------ */
/* Setting                                                            */
/* ------------------------------------------------------------------ */

static int
tcp_buf_value(int v, guint64 min, guint64 *out)
{
	if (v < 0)
		return EINVAL;
	*out = CLAMP((guint64)v, min, (guint64)TCP_BUF_MAX);
	return 0;
}

static int
tcp_range(int v, int lo, int hi, int *out)
{
	if (v < lo || v > hi)
		return EINVAL;
	*out = v;
	return 0;
}

static int
tcp_opt_set_tcp(TcpEp *ep, t_uscalar_t name, int v)
{
	switch (name) {
	case TCP_NODELAY: ep->te_nodelay = v != 0; return 0;
	case TCP_CORK: ep->te_cork = v != 0; return 0;
	case TCP_MAXSEG:
		return v == 0 ? (ep->te_maxseg = 0) : tcp_range(v, 88, 65495, &ep->te_maxseg);
	case TCP_KEEPIDLE: return tcp_range(v, 1, 32767, &ep->te_keepidle);
	case TCP_KEEPINTVL: return tcp_range(v, 1, 32767, &ep->te_keepintvl);
	case TCP_KEEPCNT: return tcp_range(v, 1, 127, &ep->te_keepcnt);
	case TCP_SYNCNT: return tcp_range(v, 1, 127, &ep->te_syncnt);
	case TCP_LINGER2: ep->te_linger2 = v > 0 ? MIN(v, 3600) : 0; return 0;
	case TCP_INFO: return ENOPROTOOPT; /* read only */
	default: return TCP_OPT_UNKNOWN;
	}
}

static int
tcp_opt_set_int(TcpEp *ep, t_uscalar_t level, t_uscalar_t name, int v)
{
	if (level == IPPROTO_TCP)
		return tcp_opt_set_tcp(ep, name, v);
	if (level == IPPROTO_IP && name == IP_TTL) {
		if (v != -1 && (v < 1 || v > 255))
			return EINVAL;
		ep->te_ttl = v;
		return 0;
	}
	if (level == IPPROTO_IP && name == IP_TOS)
		return tcp_range(v, 0, 255, &ep->te_tos);
	switch (name) {
	case SO_RCVBUF:
		ep->te_rcvbuf_set = TRUE; /* the user's size: no auto-tuning */
		return tcp_buf_value(v, TCP_RCVBUF_MIN, &ep->te_rcvbuf);
	case SO_SNDBUF:
		ep->te_sndbuf_set = TRUE;
		return tcp_buf_value(v, TCP_SNDBUF_MIN, &ep->te_sndbuf);
	case SO_REUSEADDR: ep->te_reuseaddr = v != 0; return 0;
	case SO_REUSEPORT: ep->te_reuseport = v != 0; return 0;
	case SO_KEEPALIVE: ep->te_keepalive = v != 0; return 0;
	case SO_OOBINLINE: ep->te_oobinline = v != 0; return 0;
	case SO_TYPE: return ENOPROTOOPT;
	default: return TCP_OPT_UNKNOWN;
	}
}

/* One option from its value bytes: 0, an errno or TCP_OPT_UNKNOWN. */
static int
tcp_opt_set(TcpEp *ep, t_uscalar_t level, t_uscalar_t name, const unsigned char *val, size_t len)
{
	if (!tcp_opt_known(level, name))
		return TCP_OPT_UNKNOWN;
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l;
		if (len < sizeof l)
			return EINVAL;
		memcpy(&l, val, sizeof l);
		if (l.l_linger < 0)
			return EINVAL;
		ep->te_linger_onoff = l.l_onoff != 0;
		ep->te_linger_secs = l.l_linger;
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		char cc[TCP_CA_NAME_MAX];
		size_t n = strnlen((const char *)val, MIN(len, sizeof cc - 1));
		memcpy(cc, val, n);
		cc[n] = '\0';
		if (us_tcp_cc_find(cc) == NULL)
			return ENOENT; /* Linux's answer */
		memcpy(ep->te_cc, cc, sizeof cc);
		return 0;
	}
	int v;
	if (len < sizeof v)
		return EINVAL;
	memcpy(&v, val, sizeof v);
	return tcp_opt_set_int(ep, level, name, v);
}

/* ------------------------------------------------------------------ */
/* Reading                                                            */
/* ------------------------------------------------------------------ */

static int
tcp_opt_get_tcp(const TcpEp *ep, t_uscalar_t name, int *v)
{
	const TcpConn *c = ep->te_pcb != NULL ? &ep->te_pcb->pc_tcb : NULL;
	switch (name) {
	case TCP_NODELAY: *v = ep->te_nodelay; return 0;
	case TCP_CORK: *v = ep->te_cork; return 0;
	case TCP_MAXSEG:
		*v = c != NULL && c->tcb_state >= TCPS_ESTABLISHED ? (int)c->tcb_mss
		     : ep->te_maxseg != 0                          ? ep->te_maxseg
								   : TCP_DEFAULT_MSS;
		return 0;
	case TCP_KEEPIDLE: *v = ep->te_keepidle; return 0;
	case TCP_KEEPINTVL: *v = ep->te_keepintvl; return 0;
	case TCP_KEEPCNT: *v = ep->te_keepcnt; return 0;
	case TCP_SYNCNT:
		*v = ep->te_syncnt ? ep->te_syncnt
				   : (int)ep->te_ts->ts_ctx.tx_params.tp_syn_retries;
		return 0;
	case TCP_LINGER2:
		*v = ep->te_linger2 ? ep->te_linger2
				    : (int)(ep->te_ts->ts_ctx.tx_params.tp_fin_wait_2 / TCP_SEC);
		return 0;
	default: return TCP_OPT_UNKNOWN;
	}
}

static int
tcp_opt_get_int(const TcpEp *ep, t_uscalar_t level, t_uscalar_t name, int *v)
{
	if (level == IPPROTO_TCP)
		return tcp_opt_get_tcp(ep, name, v);
	if (level == IPPROTO_IP) {
		*v = name == IP_TTL ? (ep->te_ttl < 0 ? 64 : ep->te_ttl) : ep->te_tos;
		return 0;
	}
	switch (name) {
	case SO_RCVBUF: *v = (int)ep->te_rcvbuf; return 0;
	case SO_SNDBUF: *v = (int)ep->te_sndbuf; return 0;
	case SO_REUSEADDR: *v = ep->te_reuseaddr; return 0;
	case SO_REUSEPORT: *v = ep->te_reuseport; return 0;
	case SO_KEEPALIVE: *v = ep->te_keepalive; return 0;
	case SO_OOBINLINE: *v = ep->te_oobinline; return 0;
	case SO_TYPE: *v = SOCK_STREAM; return 0;
	default: return TCP_OPT_UNKNOWN;
	}
}

/* One option's value into val (TCP_OPT_VAL_MAX bytes), *lenp its length. */
static int
tcp_opt_get(const TcpEp *ep, t_uscalar_t level, t_uscalar_t name, unsigned char *val, size_t *lenp)
{
	if (!tcp_opt_known(level, name))
		return TCP_OPT_UNKNOWN;
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l = { .l_onoff = ep->te_linger_onoff,
				    .l_linger = ep->te_linger_secs };
		memcpy(val, &l, sizeof l);
		*lenp = sizeof l;
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		memset(val, 0, TCP_CA_NAME_MAX);
		const char *cc = ep->te_cc[0] ? ep->te_cc : ep->te_sp.sp_cc;
		if (ep->te_pcb != NULL)
			cc = ep->te_pcb->pc_tcb.tcb_ccops->name;
		g_strlcpy((char *)val, cc, TCP_CA_NAME_MAX);
		*lenp = TCP_CA_NAME_MAX;
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_INFO) {
		struct us_tcp_info ti;
		memset(&ti, 0, sizeof ti);
		if (ep->te_pcb != NULL)
			tcp_conn_info(&ep->te_pcb->pc_tcb, &ti);
		else if (ep->te_backlog > 0)
			ti.tcpi_state = TCPS_LISTEN;
		memcpy(val, &ti, sizeof ti);
		*lenp = sizeof ti;
		return 0;
	}
	int v = 0, r = tcp_opt_get_int(ep, level, name, &v);
	if (r != 0)
		return r;
	memcpy(val, &v, sizeof v);
	*lenp = sizeof v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* T_SVR4_OPTMGMT_REQ                                                 */
/* ------------------------------------------------------------------ */

static int
tcp_opt_emit(const TcpEp *ep, t_uscalar_t level, t_uscalar_t name, GByteArray *out)
{
	unsigned char val[TCP_OPT_VAL_MAX];
	static const unsigned char pad[sizeof(t_uscalar_t)];
	size_t vlen = 0;
	int r = tcp_opt_get(ep, level, name, val, &vlen);
	if (r != 0)
		return r;
	struct opthdr oh = { .level = level, .name = name, .len = (t_uscalar_t)vlen };
	g_byte_array_append(out, (const guint8 *)&oh, sizeof oh);
	g_byte_array_append(out, val, (guint)vlen);
	g_byte_array_append(out, pad, (guint)(OPTLEN(vlen) - vlen));
	return 0;
}

static void
tcp_opt_emit_all(const TcpEp *ep, GByteArray *out)
{
	for (const TcpOptName *o = tcp_opts; o->on_level != 0 || o->on_name != 0; o++)
		(void)tcp_opt_emit(ep, o->on_level, o->on_name, out);
}

/* Walks the options in [p, p + len): set stores values in ep; out (may be
 * NULL) gets each option's value afterwards.  0 or a TLI error. */
static int
tcp_opt_set_cb(gpointer ep, t_uscalar_t level, t_uscalar_t name, const unsigned char *val,
	       size_t len)
{
	return tcp_opt_set(ep, level, name, val, len);
}

static int
tcp_opt_emit_cb(gpointer ep, t_uscalar_t level, t_uscalar_t name, GByteArray *out)
{
	return tcp_opt_emit(ep, level, name, out);
}

static const UsTpiOptOps tcp_opt_ops = {
	.set = tcp_opt_set_cb,
	.emit = tcp_opt_emit_cb,
	.unknown = TCP_OPT_UNKNOWN,
};

static int
tcp_opt_walk(TcpEp *ep, const unsigned char *p, size_t len, gboolean set, GByteArray *out,
	     int *errp)
{
	return us_tpi_opt_walk(ep, &tcp_opt_ops, p, len, set, out, errp);
}

/* New values reach the buffers and the connection. */
static void
tcp_opts_apply(TcpEp *ep, const TcpEp *old)
{
	if (ep->te_rcvbuf != old->te_rcvbuf)
		tcp_ep_setopts(ep);
	if (ep->te_sndbuf != old->te_sndbuf)
		tcp_ep_apply_sndbuf(ep);
	TcpPcb *pcb = ep->te_pcb;
	if (pcb == NULL)
		return;
	pcb->pc_depth++;
	tcp_pcb_apply_opts(pcb, ep);
	if ((ep->te_nodelay && !old->te_nodelay) || (!ep->te_cork && old->te_cork) ||
	    ep->te_rcvbuf > old->te_rcvbuf)
		tcp_conn_push(&pcb->pc_tcb, tcp_now(ep->te_ts));
	pcb->pc_depth--;
	tcp_pcb_after(pcb);
}

static int
tcp_optmgmt_run(TcpEp *ep, t_scalar_t flags, const unsigned char *p, size_t len, GByteArray *out,
		t_scalar_t *flagsp, int *errp)
{
	TcpEp scratch = *ep;
	*flagsp = flags;
	switch (flags) {
	case T_NEGOTIATE: {
		int tli = tcp_opt_walk(&scratch, p, len, TRUE, NULL, errp);
		if (tli != 0)
			return tli;
		TcpEp old = *ep;
		tli = tcp_opt_walk(ep, p, len, TRUE, out, errp);
		tcp_opts_apply(ep, &old);
		return tli;
	}
	case T_CHECK:
		*flagsp = tcp_opt_walk(&scratch, p, len, TRUE, NULL, errp) == 0 ? T_SUCCESS
										: T_FAILURE;
		g_byte_array_append(out, p, (guint)len);
		return 0;
	case T_DEFAULT: {
		TcpEp def;
		memset(&def, 0, sizeof def);
		tcp_ep_defaults(&def, ep->te_ts);
		int tli = len == 0 ? (tcp_opt_emit_all(&def, out), 0)
				   : tcp_opt_walk(&def, p, len, FALSE, out, errp);
		tcp_stack_params_free(&def.te_sp);
		return tli;
	}
	case T_CURRENT: break;
	default: return TBADFLAG;
	}
	if (len == 0) {
		tcp_opt_emit_all(ep, out);
		return 0;
	}
	return tcp_opt_walk(ep, p, len, FALSE, out, errp);
}

void
tcp_t_optmgmt(queue_t *wq, mblk_t *mp)
{
	TcpEp *ep = wq->q_ptr;
	struct T_optmgmt_req r;
	if (MBLKL(mp) < sizeof r) {
		tcp_error_ack(wq, mp, T_SVR4_OPTMGMT_REQ, TPROTO, 0);
		return;
	}
	memcpy(&r, mp->b_rptr, sizeof r);
	if (r.OPT_length < 0 || r.OPT_offset < 0 ||
	    !MBLKIN(mp, (size_t)r.OPT_offset, (size_t)r.OPT_length)) {
		tcp_error_ack(wq, mp, T_SVR4_OPTMGMT_REQ, TBADOPT, 0);
		return;
	}
	GByteArray *out = g_byte_array_new();
	t_scalar_t flags = 0;
	int err = 0;
	int tli = tcp_optmgmt_run(ep, r.MGMT_flags, mp->b_rptr + r.OPT_offset, (size_t)r.OPT_length,
				  out, &flags, &err);
	if (tli != 0) {
		g_byte_array_free(out, TRUE);
		tcp_error_ack(wq, mp, T_SVR4_OPTMGMT_REQ, tli, err);
		return;
	}
	struct T_optmgmt_ack oa = { .PRIM_type = T_OPTMGMT_ACK,
				    .OPT_length = (t_scalar_t)out->len,
				    .OPT_offset = sizeof oa,
				    .MGMT_flags = flags };
	mblk_t *rp = allocb(sizeof oa + out->len, BPRI_MED);
	if (rp == NULL) {
		us_drop(wq, mp, TCP_DROP_NOMEM);
		g_byte_array_free(out, TRUE);
		return;
	}
	freemsg(mp);
	DB_TYPE(rp) = M_PCPROTO;
	memcpy(rp->b_wptr, &oa, sizeof oa);
	if (out->len > 0)
		memcpy(rp->b_wptr + sizeof oa, out->data, out->len);
	rp->b_wptr += sizeof oa + out->len;
	g_byte_array_free(out, TRUE);
	qreply(wq, rp);
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

static gboolean
tcp_param_rcvbuf(queue_t *rq, const UsParamDesc *param, GError **error)
{
	(void)param;
	(void)error;
	TcpEp *ep = rq->q_ptr;
	tcp_ep_setopts(ep);
	if (ep->te_pcb != NULL)
		ep->te_pcb->pc_tcb.tcb_rcvbuf = (uint32_t)ep->te_rcvbuf;
	return TRUE;
}

static gboolean
tcp_param_sndbuf(queue_t *rq, const UsParamDesc *param, GError **error)
{
	(void)param;
	(void)error;
	tcp_ep_apply_sndbuf(rq->q_ptr);
	return TRUE;
}

static void
tcp_param_mirror(UsMuxUpper *u, gpointer data)
{
	TcpEp *ep = u->mu_state;
	const TcpStackParams *sp = data;
	if (&ep->te_sp == sp)
		return;
	char *cc = g_strdup(sp->sp_cc);
	tcp_stack_params_free(&ep->te_sp);
	ep->te_sp = *sp;
	ep->te_sp.sp_cc = cc;
}

/* A stack parameter changed through ep: the stack and every endpoint. */
static gboolean
tcp_param_stack(queue_t *rq, const UsParamDesc *param, GError **error)
{
	TcpEp *ep = rq->q_ptr;
	TcpStack *ts = ep->te_ts;
	if (strcmp(param->name, TCP_PARAM_CC) == 0 &&
	    (ep->te_sp.sp_cc == NULL || us_tcp_cc_find(ep->te_sp.sp_cc) == NULL)) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID, "no congestion control \"%s\"",
			    ep->te_sp.sp_cc ? ep->te_sp.sp_cc : "");
		return FALSE;
	}
	if (ep->te_sp.sp_rto_min_ms == 0 || ep->te_sp.sp_rto_min_ms > ep->te_sp.sp_rto_max_ms) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "rto_min_ms must be in [1, rto_max_ms]");
		return FALSE;
	}
	tcp_stack_params_apply(ts, &ep->te_sp);
	us_mux_uppers_foreach(ts->ts_uppers, tcp_param_mirror, &ep->te_sp);
	return TRUE;
}

#define TCP_SPARAM_UINT(nm, desc, fld, lo, hi)                                  \
	{                                                                       \
		.name = (nm), .description = (desc), .type = US_PARAM_UINT,     \
		.offset = offsetof(TcpEp, te_sp.fld), .min = (lo), .max = (hi), \
		.on_set = tcp_param_stack                                       \
	}
#define TCP_SPARAM_BOOL(nm, desc, fld)                                          \
	{                                                                       \
		.name = (nm), .description = (desc), .type = US_PARAM_BOOL,     \
		.offset = offsetof(TcpEp, te_sp.fld), .on_set = tcp_param_stack \
	}

const UsParamDesc tcp_params[] = {
	{ .name = "rcvbuf",
	  .description = "receive buffer in bytes (SO_RCVBUF)",
	  .type = US_PARAM_UINT,
	  .offset = offsetof(TcpEp, te_rcvbuf),
	  .min = TCP_RCVBUF_MIN,
	  .max = TCP_BUF_MAX,
	  .on_set = tcp_param_rcvbuf },
	{ .name = "sndbuf",
	  .description = "send buffer in bytes (SO_SNDBUF)",
	  .type = US_PARAM_UINT,
	  .offset = offsetof(TcpEp, te_sndbuf),
	  .min = TCP_SNDBUF_MIN,
	  .max = TCP_BUF_MAX,
	  .on_set = tcp_param_sndbuf },
	TCP_SPARAM_UINT(TCP_PARAM_RTO_MIN_MS, "minimum RTO, ms (stack)", sp_rto_min_ms, 1, 60000),
	TCP_SPARAM_UINT(TCP_PARAM_RTO_MAX_MS, "maximum RTO, ms (stack)", sp_rto_max_ms, 1000,
			600000),
	TCP_SPARAM_UINT(TCP_PARAM_RTO_INIT_MS, "initial RTO, ms (stack)", sp_rto_init_ms, 1, 60000),
	TCP_SPARAM_UINT(TCP_PARAM_DELACK_MS, "delayed-ACK time, ms (stack)", sp_delack_ms, 1, 500),
	TCP_SPARAM_UINT(TCP_PARAM_TIME_WAIT_MS, "TIME-WAIT (2 MSL), ms (stack)", sp_time_wait_ms, 1,
			600000),
	TCP_SPARAM_UINT(TCP_PARAM_FIN_WAIT_2_MS, "FIN-WAIT-2 of orphans, ms (stack)",
			sp_fin_wait_2_ms, 1, 600000),
	TCP_SPARAM_UINT(TCP_PARAM_RETRIES, "retransmissions before giving up (stack)", sp_retries,
			1, 255),
	TCP_SPARAM_UINT(TCP_PARAM_SYN_RETRIES, "SYN retransmissions (stack)", sp_syn_retries, 1,
			127),
	TCP_SPARAM_UINT(TCP_PARAM_SYNACK_RETRIES, "SYN,ACK retransmissions (stack)",
			sp_synack_retries, 1, 127),
	TCP_SPARAM_UINT(TCP_PARAM_CHALLENGE_ACKS, "challenge ACKs per second (stack)", sp_challenge,
			1, 1000000),
	TCP_SPARAM_BOOL(TCP_PARAM_SYNCOOKIES, "SYN cookies when a SYN queue overflows (stack)",
			sp_syncookies),
	TCP_SPARAM_BOOL(TCP_PARAM_SACK, "offer SACK (stack)", sp_sack),
	TCP_SPARAM_BOOL(TCP_PARAM_TIMESTAMPS, "offer timestamps (stack)", sp_ts),
	TCP_SPARAM_BOOL(TCP_PARAM_WSCALE, "offer window scaling (stack)", sp_wscale),
	TCP_SPARAM_BOOL(TCP_PARAM_AUTOTUNE, "receive buffer auto-tuning (stack)", sp_autotune),
	{ .name = TCP_PARAM_CC,
	  .description = "default congestion control (stack)",
	  .type = US_PARAM_STRING,
	  .offset = offsetof(TcpEp, te_sp.sp_cc),
	  .on_set = tcp_param_stack },
	{ 0 },
};
