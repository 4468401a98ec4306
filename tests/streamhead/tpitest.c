/* SPDX-License-Identifier: MIT */
/*
 * tpitest -- a fake TPI transport provider for the socket library's tests.
 *
 * Theory
 * ------
 * Every stream is one transport endpoint (TtEp, q_ptr of both queues).
 * Endpoints of one stack find each other by port in a per-stack table, one
 * per driver, so the drivers behave as an in-process loopback:
 *
 *   tpitest-dg (T_CLTS):
 *     T_BIND_REQ      binds (port 0: the next free port from TPITEST_PORT0)
 *     T_UNITDATA_REQ  -> T_UNITDATA_IND(SRC = sender) up the endpoint bound
 *                     to DEST's port, or T_UDERROR_IND(DEST, ECONNREFUSED)
 *                     up the sender when nobody is bound there
 *     T_CONN_REQ      remembers the peer: T_OK_ACK, T_CONN_CON(RES = DEST)
 *     T_DISCON_REQ    forgets it: T_OK_ACK
 *   tpitest-st (T_COTS_ORD):
 *     T_BIND_REQ      CONIND_number > 0 makes a listener
 *     T_CONN_REQ      T_OK_ACK; then (after connect_delay_ms when set) an
 *                     "eager" endpoint is made for the listener of DEST's
 *                     port: T_CONN_IND(SRC, SEQ) up the listener and
 *                     T_CONN_CON up the caller, as TCP completes the
 *                     handshake before accept; no listener or a full queue:
 *                     T_DISCON_IND(ECONNREFUSED)
 *     T_CONN_RES      on the listener: the acceptor (ACCEPTOR_id from its
 *                     T_CAPABILITY_ACK) takes over the eager and receives
 *                     what the eager held; T_OK_ACK (TBADSEQ, TBADF ...)
 *     M_DATA          to the peer as M_DATA (T_DATA_IND with data_as_ind)
 *     T_EXDATA_REQ    to the peer as T_EXDATA_IND
 *     T_ORDREL_REQ    T_ORDREL_IND to the peer
 *     T_DISCON_REQ    T_DISCON_IND(ECONNRESET) to the peer; with a SEQ on a
 *                     listener, refuses that indication
 *     close           T_ORDREL_IND to the peer (T_DISCON_IND with SO_LINGER
 *                     {1, 0}); a listener resets its eagers
 *   both: T_INFO_REQ, T_ADDR_REQ, T_CAPABILITY_REQ, T_UNBIND_REQ, and
 *     T_SVR4_OPTMGMT_REQ (T_NEGOTIATE stores, T_CURRENT answers the stored
 *     value or a default; unknown options TBADOPT, bad values TSYSERR
 *     EINVAL; US_SO_PROTOTYPE is recorded in the configuration).
 * Failure injection answers the next request of one type with T_ERROR_ACK.
 * Data and indications go up without flow control (the head's queue takes
 * them).
 *
 * Deviations: a test double, not a transport: no flow control, no
 * retransmission, listeners and acceptors share the port table loosely.
 */
#define G_LOG_DOMAIN "us-tpitest"

#include "tpitest.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <ustreams/socket.h>

typedef struct _TtStack TtStack;
typedef struct _TtEp TtEp;

/* Per-endpoint state (q_ptr of both queues; eagers have no stream). */
struct _TtEp {
	queue_t *rq;                  /* the driver's read queue; NULL for an eager */
	TtStack *ts;                  /* the stack's tables */
	t_scalar_t serv;              /* T_CLTS or T_COTS_ORD */
	int state;                    /* TS_* */
	struct sockaddr_in addr;      /* local address once bound */
	struct sockaddr_in peer_addr; /* remote address once connected */
	gboolean bound;               /* holds addr's port in the table */
	guint conind_max;             /* listen queue length; 0: not a listener */
	GList *eagers;                /* listener: TtEp eagers awaiting T_CONN_RES */
	TtEp *listener;               /* eager: its listener */
	t_scalar_t seq;               /* eager: its SEQ_number */
	GQueue held;                  /* eager: messages for the acceptor */
	TtEp *peer;                   /* connection: the other end */
	t_uscalar_t id;               /* ACCEPTOR_id */
	GHashTable *opts;             /* (level << 16 | name) -> GBytes */
	gboolean linger0;             /* SO_LINGER {1, 0}: reset on close */
	timeout_id_t conn_tid;        /* delayed connection handling */
};

struct _TtStack {
	TpitestConfig cfg;
	GHashTable *ports[2]; /* [0] dg, [1] st: port -> TtEp* */
	GHashTable *ids;      /* ACCEPTOR_id -> TtEp* */
	guint next_port;
	t_uscalar_t next_id;
	t_scalar_t next_seq;
};

static guint tt_next_minor = 1;

/* ------------------------------------------------------------------ */
/* Per-stack tables                                                   */
/* ------------------------------------------------------------------ */

static void
tt_stack_free(gpointer p)
{
	TtStack *ts = p;
	g_hash_table_destroy(ts->ports[0]);
	g_hash_table_destroy(ts->ports[1]);
	g_hash_table_destroy(ts->ids);
	g_free(ts);
}

static TtStack *
tt_stack(UsStack *stack)
{
	TtStack *ts = us_stack_get_data(stack, "tpitest");
	if (ts == NULL) {
		ts = g_new0(TtStack, 1);
		ts->cfg.fail_prim = -1;
		ts->cfg.last_prototype = -1;
		ts->ports[0] = g_hash_table_new(g_direct_hash, g_direct_equal);
		ts->ports[1] = g_hash_table_new(g_direct_hash, g_direct_equal);
		ts->ids = g_hash_table_new(g_direct_hash, g_direct_equal);
		ts->next_port = TPITEST_PORT0;
		ts->next_id = 1;
		ts->next_seq = 1;
		us_stack_set_data(stack, "tpitest", ts, tt_stack_free);
	}
	return ts;
}

typedef struct {
	UsStack *stack;
	TtStack *ts;
} TtStackCall;

static void
tt_stack_on_world(gpointer data)
{
	TtStackCall *c = data;
	c->ts = tt_stack(c->stack);
}

TpitestConfig *
tpitest_config(UsStack *stack)
{
	TtStackCall c = { stack, NULL };
	us_world_call(us_stack_world(stack), tt_stack_on_world, &c);
	return &c.ts->cfg;
}

static GHashTable *
tt_ports(TtEp *ep)
{
	return ep->ts->ports[ep->serv == T_CLTS ? 0 : 1];
}

static TtEp *
tt_port_owner(TtEp *ep, in_port_t port)
{
	return g_hash_table_lookup(tt_ports(ep), GUINT_TO_POINTER(ntohs(port)));
}

/* ------------------------------------------------------------------ */
/* Building primitives                                                */
/* ------------------------------------------------------------------ */

static mblk_t *
tt_msg(size_t size, size_t room, unsigned char type, t_scalar_t prim)
{
	mblk_t *mp = allocb(size + room + 16, BPRI_HI);
	g_assert_nonnull(mp);
	DB_TYPE(mp) = type;
	memset(mp->b_rptr, 0, size);
	memcpy(mp->b_rptr, &prim, sizeof prim);
	mp->b_wptr = mp->b_rptr + size;
	return mp;
}

static void
tt_append(mblk_t *mp, const void *buf, size_t len, t_scalar_t *lenp, t_scalar_t *offp)
{
	size_t off = T_ALIGN(MBLKL(mp));
	memset(mp->b_wptr, 0, off - MBLKL(mp));
	memcpy(mp->b_rptr + off, buf, len);
	mp->b_wptr = mp->b_rptr + off + len;
	*lenp = (t_scalar_t)len;
	*offp = (t_scalar_t)off;
}

/* Sends mp up ep's stream, or keeps it for the acceptor of an eager. */
static void
tt_up(TtEp *ep, mblk_t *mp)
{
	if (ep->rq != NULL)
		putnext(ep->rq, mp);
	else
		g_queue_push_tail(&ep->held, mp);
}

static void
tt_ok_ack(TtEp *ep, t_scalar_t prim)
{
	mblk_t *mp = tt_msg(sizeof(struct T_ok_ack), 0, M_PCPROTO, T_OK_ACK);
	((struct T_ok_ack *)mp->b_rptr)->CORRECT_prim = prim;
	tt_up(ep, mp);
}

static void
tt_error_ack(TtEp *ep, t_scalar_t prim, t_scalar_t tli, t_scalar_t unix_error)
{
	mblk_t *mp = tt_msg(sizeof(struct T_error_ack), 0, M_PCPROTO, T_ERROR_ACK);
	struct T_error_ack *ea = (struct T_error_ack *)mp->b_rptr;
	ea->ERROR_prim = prim;
	ea->TLI_error = tli;
	ea->UNIX_error = unix_error;
	tt_up(ep, mp);
}

static void
tt_discon_ind(TtEp *ep, t_scalar_t reason, t_scalar_t seq)
{
	mblk_t *mp = tt_msg(sizeof(struct T_discon_ind), 0, M_PROTO, T_DISCON_IND);
	struct T_discon_ind *di = (struct T_discon_ind *)mp->b_rptr;
	di->DISCON_reason = reason;
	di->SEQ_number = seq;
	ep->ts->cfg.discon_sent++;
	tt_up(ep, mp);
}

static void
tt_simple_ind(TtEp *ep, t_scalar_t prim)
{
	tt_up(ep, tt_msg(sizeof(t_scalar_t), 0, M_PROTO, prim));
}

/* The address to show as a source: 127.0.0.1 for a wildcard bind. */
static struct sockaddr_in
tt_src(const TtEp *ep)
{
	struct sockaddr_in a = ep->addr;
	if (a.sin_addr.s_addr == htonl(INADDR_ANY))
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* Reads a sockaddr_in part of a primitive: 0, or a TLI error. */
static int
tt_addr(const mblk_t *mp, t_scalar_t len, t_scalar_t off, struct sockaddr_in *out)
{
	if (len != (t_scalar_t)sizeof *out || off < 0 || (size_t)off + sizeof *out > MBLKL(mp))
		return TBADADDR;
	memcpy(out, mp->b_rptr + off, sizeof *out);
	return out->sin_family == AF_INET ? 0 : TBADADDR;
}

/* ------------------------------------------------------------------ */
/* Endpoints: open, close, binding                                    */
/* ------------------------------------------------------------------ */

static TtEp *
tt_ep_new(TtStack *ts, t_scalar_t serv)
{
	TtEp *ep = g_new0(TtEp, 1);
	ep->ts = ts;
	ep->serv = serv;
	ep->state = TS_UNBND;
	ep->opts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					 (GDestroyNotify)g_bytes_unref);
	g_queue_init(&ep->held);
	return ep;
}

static void
tt_ep_free(TtEp *ep)
{
	g_queue_clear_full(&ep->held, (GDestroyNotify)freemsg);
	g_hash_table_destroy(ep->opts);
	g_list_free(ep->eagers);
	g_free(ep);
}

static void
tt_unbind(TtEp *ep)
{
	if (ep->bound && tt_port_owner(ep, ep->addr.sin_port) == ep)
		g_hash_table_remove(tt_ports(ep), GUINT_TO_POINTER(ntohs(ep->addr.sin_port)));
	ep->bound = FALSE;
}

static int
tt_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp, t_scalar_t serv)
{
	(void)oflag, (void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO;
	TtStack *ts = tt_stack(us_queue_stack(rq));
	TtEp *ep = tt_ep_new(ts, serv);
	ep->rq = rq;
	ep->id = ts->next_id++;
	g_hash_table_insert(ts->ids, GUINT_TO_POINTER(ep->id), ep);
	rq->q_ptr = WR(rq)->q_ptr = ep;
	*devp = makedevice(getmajor(*devp), g_atomic_int_add(&tt_next_minor, 1));
	qprocson(rq);
	return 0;
}

static int
tt_open_dg(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	return tt_open(rq, devp, oflag, sflag, crp, T_CLTS);
}

static int
tt_open_st(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	return tt_open(rq, devp, oflag, sflag, crp, T_COTS_ORD);
}

/* The peer of a connection goes away: tell it how. */
static void
tt_peer_gone(TtEp *ep)
{
	TtEp *peer = ep->peer;
	if (peer == NULL)
		return;
	peer->peer = NULL;
	ep->peer = NULL;
	if (ep->linger0) {
		tt_discon_ind(peer, ECONNRESET, -1);
		peer->state = TS_IDLE;
	} else if (ep->state == TS_DATA_XFER || ep->state == TS_WREQ_ORDREL) {
		tt_simple_ind(peer, T_ORDREL_IND);
		peer->state = peer->state == TS_WIND_ORDREL ? TS_IDLE : TS_WREQ_ORDREL;
	}
}

/* A listener goes: its eagers' clients are reset. */
static void
tt_drop_eagers(TtEp *ep)
{
	for (GList *l = ep->eagers; l != NULL; l = l->next) {
		TtEp *eager = l->data;
		if (eager->peer != NULL) {
			eager->peer->peer = NULL;
			tt_discon_ind(eager->peer, ECONNRESET, -1);
			eager->peer->state = TS_IDLE;
		}
		tt_ep_free(eager);
	}
	g_list_free(ep->eagers);
	ep->eagers = NULL;
}

static int
tt_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag, (void)crp;
	TtEp *ep = rq->q_ptr;
	qprocsoff(rq);
	if (ep->conn_tid != 0)
		quntimeout(rq, ep->conn_tid);
	tt_drop_eagers(ep);
	tt_peer_gone(ep);
	tt_unbind(ep);
	g_hash_table_remove(ep->ts->ids, GUINT_TO_POINTER(ep->id));
	tt_ep_free(ep);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* Picks the address to bind: 0, or a TLI error. */
static int
tt_bind_addr(TtEp *ep, const mblk_t *mp, const struct T_bind_req *br, struct sockaddr_in *a)
{
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	if (br->ADDR_length != 0) {
		int e = tt_addr(mp, br->ADDR_length, br->ADDR_offset, a);
		if (e)
			return e;
	}
	if (a->sin_addr.s_addr != htonl(INADDR_ANY) && a->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		return TNOADDR;
	if (a->sin_port != 0)
		return tt_port_owner(ep, a->sin_port) != NULL ? TADDRBUSY : 0;
	while (g_hash_table_contains(tt_ports(ep), GUINT_TO_POINTER(ep->ts->next_port)))
		ep->ts->next_port++;
	a->sin_port = htons((in_port_t)ep->ts->next_port++);
	return 0;
}

static void
tt_bind(TtEp *ep, mblk_t *mp)
{
	struct T_bind_req br;
	memcpy(&br, mp->b_rptr, sizeof br);
	struct sockaddr_in a;
	int e = ep->state != TS_UNBND ? TOUTSTATE : tt_bind_addr(ep, mp, &br, &a);
	if (e) {
		tt_error_ack(ep, br.PRIM_type, e, 0);
		return;
	}
	ep->addr = a;
	ep->bound = TRUE;
	ep->state = TS_IDLE;
	ep->conind_max = ep->serv == T_CLTS ? 0 : MIN(br.CONIND_number, 16);
	g_hash_table_insert(tt_ports(ep), GUINT_TO_POINTER(ntohs(a.sin_port)), ep);
	mblk_t *ack = tt_msg(sizeof(struct T_bind_ack), sizeof a, M_PCPROTO, T_BIND_ACK);
	struct T_bind_ack *ba = (struct T_bind_ack *)ack->b_rptr;
	ba->CONIND_number = ep->conind_max;
	tt_append(ack, &a, sizeof a, &ba->ADDR_length, &ba->ADDR_offset);
	tt_up(ep, ack);
}

static void
tt_unbind_req(TtEp *ep)
{
	if (ep->state != TS_IDLE) {
		tt_error_ack(ep, T_UNBIND_REQ, TOUTSTATE, 0);
		return;
	}
	tt_drop_eagers(ep);
	tt_unbind(ep);
	ep->conind_max = 0;
	ep->state = TS_UNBND;
	tt_ok_ack(ep, T_UNBIND_REQ);
}

/* ------------------------------------------------------------------ */
/* Information                                                        */
/* ------------------------------------------------------------------ */

static struct T_info_ack
tt_info(const TtEp *ep)
{
	struct T_info_ack ia = {
		.PRIM_type = T_INFO_ACK,
		.CDATA_size = T_INVALID,
		.DDATA_size = T_INVALID,
		.ADDR_size = sizeof(struct sockaddr_in),
		.OPT_size = 256,
		.SERV_type = ep->serv,
		.CURRENT_state = ep->state,
		.PROVIDER_flag = XPG4_1 | SENDZERO,
	};
	if (ep->serv == T_CLTS) {
		ia.TSDU_size = TPITEST_TSDU;
		ia.ETSDU_size = T_INVALID;
		ia.TIDU_size = TPITEST_TSDU;
	} else {
		ia.TSDU_size = 0;
		ia.ETSDU_size = T_INFINITE;
		ia.TIDU_size = TPITEST_TIDU;
	}
	return ia;
}

static void
tt_info_req(TtEp *ep)
{
	mblk_t *mp = tt_msg(sizeof(struct T_info_ack), 0, M_PCPROTO, T_INFO_ACK);
	struct T_info_ack ia = tt_info(ep);
	memcpy(mp->b_rptr, &ia, sizeof ia);
	tt_up(ep, mp);
}

static void
tt_capability_req(TtEp *ep, const mblk_t *req)
{
	struct T_capability_req cr = { 0 };
	memcpy(&cr, req->b_rptr, MIN(sizeof cr, MBLKL(req)));
	mblk_t *mp = tt_msg(sizeof(struct T_capability_ack), 0, M_PCPROTO, T_CAPABILITY_ACK);
	struct T_capability_ack *ca = (struct T_capability_ack *)mp->b_rptr;
	ca->CAP_bits1 = cr.CAP_bits1 & (TC1_INFO | TC1_ACCEPTOR_ID);
	ca->INFO_ack = tt_info(ep);
	ca->ACCEPTOR_id = ep->id;
	tt_up(ep, mp);
}

static void
tt_addr_req(TtEp *ep)
{
	mblk_t *mp = tt_msg(sizeof(struct T_addr_ack), 2 * sizeof(struct sockaddr_in) + 8,
			    M_PCPROTO, T_ADDR_ACK);
	struct T_addr_ack *aa = (struct T_addr_ack *)mp->b_rptr;
	if (ep->state != TS_UNBND)
		tt_append(mp, &ep->addr, sizeof ep->addr, &aa->LOCADDR_length, &aa->LOCADDR_offset);
	gboolean connected = ep->state == TS_DATA_XFER || ep->state == TS_WIND_ORDREL ||
			     ep->state == TS_WREQ_ORDREL;
	if (connected)
		tt_append(mp, &ep->peer_addr, sizeof ep->peer_addr, &aa->REMADDR_length,
			  &aa->REMADDR_offset);
	tt_up(ep, mp);
}

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */

/* Expected value length of an option the driver knows, or 0. */
static size_t
tt_opt_len(const TtEp *ep, t_uscalar_t level, t_uscalar_t name)
{
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
		case SO_REUSEPORT:
		case SO_BROADCAST:
		case SO_KEEPALIVE:
		case SO_RCVBUF:
		case SO_SNDBUF:
		case US_SO_PROTOTYPE: return sizeof(int);
		case SO_LINGER: return sizeof(struct linger);
		default: return 0;
		}
	}
	if (level == IPPROTO_IP && (name == IP_TTL || name == IP_TOS))
		return sizeof(int);
	if (level == IPPROTO_TCP && name == 1 /* TCP_NODELAY */ && ep->serv != T_CLTS)
		return sizeof(int);
	return 0;
}

static int
tt_opt_default(t_uscalar_t level, t_uscalar_t name)
{
	if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF))
		return 65536;
	if (level == IPPROTO_IP && name == IP_TTL)
		return 64;
	return 0;
}

static guint
tt_opt_key(t_uscalar_t level, t_uscalar_t name)
{
	return (level & 0xffff) << 16 | (name & 0xffff);
}

/* Applies one option of a T_NEGOTIATE: 0 or a TLI error (*unix_error). */
static int
tt_opt_set(TtEp *ep, const struct opthdr *oh, const unsigned char *val, int *unix_error)
{
	size_t want = tt_opt_len(ep, oh->level, oh->name);
	if (want == 0)
		return TBADOPT;
	int v = 0;
	memcpy(&v, val, MIN(oh->len, sizeof v));
	if (oh->len != want ||
	    (oh->level == IPPROTO_IP && oh->name == IP_TTL && (v < 1 || v > 255))) {
		*unix_error = EINVAL;
		return TSYSERR;
	}
	if (oh->level == SOL_SOCKET && oh->name == US_SO_PROTOTYPE)
		ep->ts->cfg.last_prototype = v;
	if (oh->level == SOL_SOCKET && oh->name == SO_LINGER) {
		struct linger lg;
		memcpy(&lg, val, sizeof lg);
		ep->linger0 = lg.l_onoff && lg.l_linger == 0;
	}
	g_hash_table_insert(ep->opts, GUINT_TO_POINTER(tt_opt_key(oh->level, oh->name)),
			    g_bytes_new(val, oh->len));
	return 0;
}

/* Appends the current value of one option to the answer buffer. */
static int
tt_opt_get(TtEp *ep, const struct opthdr *oh, GByteArray *out)
{
	size_t want = tt_opt_len(ep, oh->level, oh->name);
	if (want == 0)
		return TBADOPT;
	unsigned char val[sizeof(struct linger) + sizeof(int)] = { 0 };
	GBytes *b =
		g_hash_table_lookup(ep->opts, GUINT_TO_POINTER(tt_opt_key(oh->level, oh->name)));
	if (b != NULL) {
		memcpy(val, g_bytes_get_data(b, NULL), want);
	} else {
		int d = tt_opt_default(oh->level, oh->name);
		memcpy(val, &d, sizeof d);
	}
	struct opthdr ans = { oh->level, oh->name, (t_uscalar_t)want };
	g_byte_array_append(out, (const guint8 *)&ans, sizeof ans);
	unsigned char pad[OPTLEN(sizeof val)] = { 0 };
	memcpy(pad, val, want);
	g_byte_array_append(out, pad, OPTLEN(want));
	return 0;
}

/* Walks the request's options; answers T_OPTMGMT_ACK or T_ERROR_ACK. */
static void
tt_optmgmt(TtEp *ep, const mblk_t *mp)
{
	struct T_optmgmt_req req;
	memcpy(&req, mp->b_rptr, sizeof req);
	if (req.OPT_offset < 0 || req.OPT_length < 0 ||
	    (size_t)req.OPT_offset + (size_t)req.OPT_length > MBLKL(mp)) {
		tt_error_ack(ep, req.PRIM_type, TBADOPT, 0);
		return;
	}
	const unsigned char *p = mp->b_rptr + req.OPT_offset;
	size_t left = (size_t)req.OPT_length;
	GByteArray *out = g_byte_array_new();
	int e = 0, unix_error = 0;
	while (e == 0 && left >= sizeof(struct opthdr)) {
		struct opthdr oh;
		memcpy(&oh, p, sizeof oh);
		size_t step = sizeof oh + OPTLEN(oh.len);
		if (step > left) {
			e = TBADOPT;
			break;
		}
		if (req.MGMT_flags == T_NEGOTIATE) {
			e = tt_opt_set(ep, &oh, p + sizeof oh, &unix_error);
			g_byte_array_append(out, p, (guint)step);
		} else {
			e = tt_opt_get(ep, &oh, out);
		}
		p += step;
		left -= step;
	}
	if (e != 0) {
		tt_error_ack(ep, req.PRIM_type, e, unix_error);
	} else {
		mblk_t *ack =
			tt_msg(sizeof(struct T_optmgmt_ack), out->len, M_PCPROTO, T_OPTMGMT_ACK);
		struct T_optmgmt_ack *oa = (struct T_optmgmt_ack *)ack->b_rptr;
		oa->MGMT_flags = req.MGMT_flags;
		tt_append(ack, out->data, out->len, &oa->OPT_length, &oa->OPT_offset);
		tt_up(ep, ack);
	}
	g_byte_array_unref(out);
}

/* ------------------------------------------------------------------ */
/* Datagrams                                                          */
/* ------------------------------------------------------------------ */

static void
tt_uderror(TtEp *ep, const struct sockaddr_in *dest, t_scalar_t err)
{
	mblk_t *mp = tt_msg(sizeof(struct T_uderror_ind), sizeof *dest, M_PROTO, T_UDERROR_IND);
	struct T_uderror_ind *ue = (struct T_uderror_ind *)mp->b_rptr;
	ue->ERROR_type = err;
	tt_append(mp, dest, sizeof *dest, &ue->DEST_length, &ue->DEST_offset);
	ep->ts->cfg.uderrors++;
	tt_up(ep, mp);
}

/* T_UNITDATA_REQ (consumed). */
static void
tt_unitdata(TtEp *ep, mblk_t *mp)
{
	struct T_unitdata_req ud;
	memcpy(&ud, mp->b_rptr, sizeof ud);
	struct sockaddr_in dest;
	if (ep->state == TS_UNBND || tt_addr(mp, ud.DEST_length, ud.DEST_offset, &dest) != 0) {
		freemsg(mp);
		return;
	}
	TtEp *to = tt_port_owner(ep, dest.sin_port);
	if (to == NULL) {
		tt_uderror(ep, &dest, ECONNREFUSED);
		freemsg(mp);
		return;
	}
	struct sockaddr_in src = tt_src(ep);
	mblk_t *ind = tt_msg(sizeof(struct T_unitdata_ind), sizeof src, M_PROTO, T_UNITDATA_IND);
	struct T_unitdata_ind *ui = (struct T_unitdata_ind *)ind->b_rptr;
	tt_append(ind, &src, sizeof src, &ui->SRC_length, &ui->SRC_offset);
	ind->b_cont = unlinkb(mp);
	freeb(mp);
	tt_up(to, ind);
}

/* ------------------------------------------------------------------ */
/* Connections                                                        */
/* ------------------------------------------------------------------ */

static void
tt_conn_con(TtEp *ep)
{
	mblk_t *mp = tt_msg(sizeof(struct T_conn_con), sizeof ep->peer_addr, M_PROTO, T_CONN_CON);
	struct T_conn_con *cc = (struct T_conn_con *)mp->b_rptr;
	tt_append(mp, &ep->peer_addr, sizeof ep->peer_addr, &cc->RES_length, &cc->RES_offset);
	ep->state = TS_DATA_XFER;
	tt_up(ep, mp);
}

/* Makes the eager for a connection to listener l; sends T_CONN_IND. */
static void
tt_make_eager(TtEp *l, TtEp *client)
{
	TtEp *eager = tt_ep_new(l->ts, l->serv);
	eager->state = TS_DATA_XFER;
	eager->listener = l;
	eager->seq = l->ts->next_seq++;
	eager->addr = tt_src(l);
	eager->peer_addr = tt_src(client);
	eager->peer = client;
	client->peer = eager;
	l->eagers = g_list_append(l->eagers, eager);
	struct sockaddr_in src = tt_src(client);
	mblk_t *mp = tt_msg(sizeof(struct T_conn_ind), sizeof src, M_PROTO, T_CONN_IND);
	struct T_conn_ind *ci = (struct T_conn_ind *)mp->b_rptr;
	ci->SEQ_number = eager->seq;
	tt_append(mp, &src, sizeof src, &ci->SRC_length, &ci->SRC_offset);
	tt_up(l, mp);
}

/* Handles the connection request of ep (at once or from the timer). */
static void
tt_connect_run(void *arg)
{
	TtEp *ep = arg;
	ep->conn_tid = 0;
	if (ep->state != TS_WCON_CREQ)
		return;
	TtEp *l = tt_port_owner(ep, ep->peer_addr.sin_port);
	if (l == NULL || l->conind_max == 0 || g_list_length(l->eagers) >= l->conind_max) {
		ep->state = TS_IDLE;
		tt_discon_ind(ep, ECONNREFUSED, -1);
		return;
	}
	tt_make_eager(l, ep);
	tt_conn_con(ep);
}

static void
tt_conn_req(TtEp *ep, const mblk_t *mp)
{
	struct T_conn_req cr;
	memcpy(&cr, mp->b_rptr, sizeof cr);
	struct sockaddr_in dest;
	int e = ep->state != TS_IDLE ? TOUTSTATE
				     : tt_addr(mp, cr.DEST_length, cr.DEST_offset, &dest);
	if (e) {
		tt_error_ack(ep, T_CONN_REQ, e, 0);
		return;
	}
	ep->peer_addr = dest;
	ep->state = TS_WCON_CREQ;
	tt_ok_ack(ep, T_CONN_REQ);
	if (ep->serv == T_CLTS) {
		tt_conn_con(ep);
		return;
	}
	int delay = ep->ts->cfg.connect_delay_ms;
	if (delay > 0)
		ep->conn_tid = qtimeout(ep->rq, tt_connect_run, ep, drv_usectohz(delay * 1000));
	else
		tt_connect_run(ep);
}

static TtEp *
tt_find_eager(TtEp *l, t_scalar_t seq)
{
	for (GList *e = l->eagers; e != NULL; e = e->next)
		if (((TtEp *)e->data)->seq == seq)
			return e->data;
	return NULL;
}

/* The acceptor takes over the eager's connection and what it held. */
static void
tt_adopt(TtEp *acc, TtEp *eager)
{
	acc->state = eager->state;
	acc->addr = eager->addr;
	acc->peer_addr = eager->peer_addr;
	acc->peer = eager->peer;
	if (acc->peer != NULL)
		acc->peer->peer = acc;
	mblk_t *mp;
	while ((mp = g_queue_pop_head(&eager->held)) != NULL)
		putnext(acc->rq, mp);
}

static void
tt_conn_res(TtEp *l, const mblk_t *mp)
{
	struct T_conn_res cr;
	memcpy(&cr, mp->b_rptr, sizeof cr);
	TtEp *eager = tt_find_eager(l, cr.SEQ_number);
	TtEp *acc = g_hash_table_lookup(l->ts->ids, GUINT_TO_POINTER(cr.ACCEPTOR_id));
	int e = eager == NULL                                     ? TBADSEQ
		: acc == NULL || acc->rq == NULL                  ? TBADF
		: acc->state != TS_UNBND && acc->state != TS_IDLE ? TOUTSTATE
								  : 0;
	if (e) {
		tt_error_ack(l, T_CONN_RES, e, 0);
		return;
	}
	l->eagers = g_list_remove(l->eagers, eager);
	tt_ok_ack(l, T_CONN_RES);
	tt_adopt(acc, eager);
	tt_ep_free(eager);
}

static void
tt_discon_req(TtEp *ep, const mblk_t *mp)
{
	struct T_discon_req dr;
	memcpy(&dr, mp->b_rptr, sizeof dr);
	if (ep->conind_max > 0 && dr.SEQ_number != -1) {
		TtEp *eager = tt_find_eager(ep, dr.SEQ_number);
		if (eager == NULL) {
			tt_error_ack(ep, T_DISCON_REQ, TBADSEQ, 0);
			return;
		}
		ep->eagers = g_list_remove(ep->eagers, eager);
		if (eager->peer != NULL) {
			eager->peer->peer = NULL;
			eager->peer->state = TS_IDLE;
			tt_discon_ind(eager->peer, ECONNREFUSED, -1);
		}
		tt_ep_free(eager);
		tt_ok_ack(ep, T_DISCON_REQ);
		return;
	}
	if (ep->state == TS_IDLE || ep->state == TS_UNBND) {
		tt_error_ack(ep, T_DISCON_REQ, TOUTSTATE, 0);
		return;
	}
	if (ep->conn_tid != 0) {
		quntimeout(ep->rq, ep->conn_tid);
		ep->conn_tid = 0;
	}
	ep->linger0 = TRUE; /* an abortive release */
	tt_peer_gone(ep);
	ep->linger0 = FALSE;
	ep->state = TS_IDLE;
	tt_ok_ack(ep, T_DISCON_REQ);
}

static void
tt_ordrel_req(TtEp *ep)
{
	if (ep->state == TS_DATA_XFER)
		ep->state = TS_WIND_ORDREL;
	else if (ep->state == TS_WREQ_ORDREL)
		ep->state = TS_IDLE;
	else
		return;
	TtEp *peer = ep->peer;
	if (peer == NULL)
		return;
	tt_simple_ind(peer, T_ORDREL_IND);
	peer->state = peer->state == TS_WIND_ORDREL ? TS_IDLE : TS_WREQ_ORDREL;
	if (ep->state == TS_IDLE) {
		peer->peer = NULL;
		ep->peer = NULL;
	}
}

/* Connection data to the peer (mp consumed: M_DATA or a data primitive
 * whose M_DATA follows). */
static void
tt_forward(TtEp *ep, mblk_t *mp, t_scalar_t prim_up)
{
	mblk_t *data = DB_TYPE(mp) == M_DATA ? mp : unlinkb(mp);
	if (data != mp)
		freeb(mp);
	TtEp *peer = ep->peer;
	if (peer == NULL || ep->state == TS_WIND_ORDREL || ep->state == TS_IDLE) {
		freemsg(data);
		return;
	}
	if (prim_up == T_DATA_IND && !ep->ts->cfg.data_as_ind) {
		tt_up(peer, data);
		return;
	}
	mblk_t *ind = tt_msg(sizeof(struct T_data_ind), 0, M_PROTO, prim_up);
	ind->b_cont = data;
	tt_up(peer, ind);
}

static void
tt_data(TtEp *ep, mblk_t *mp)
{
	TpitestConfig *cfg = &ep->ts->cfg;
	if (ep->serv == T_CLTS) {
		freemsg(mp);
		return;
	}
	cfg->data_msgs++;
	cfg->data_max = MAX(cfg->data_max, msgdsize(mp));
	tt_forward(ep, mp, T_DATA_IND);
}

/* ------------------------------------------------------------------ */
/* Write side                                                         */
/* ------------------------------------------------------------------ */

/* Requests that answer with an ack and consume nothing else. */
static gboolean
tt_control(TtEp *ep, t_scalar_t prim, const mblk_t *mp)
{
	switch (prim) {
	case T_INFO_REQ: tt_info_req(ep); return TRUE;
	case T_CAPABILITY_REQ: tt_capability_req(ep, mp); return TRUE;
	case T_ADDR_REQ: tt_addr_req(ep); return TRUE;
	case T_BIND_REQ:
	case O_T_BIND_REQ: tt_bind(ep, (mblk_t *)mp); return TRUE;
	case T_UNBIND_REQ: tt_unbind_req(ep); return TRUE;
	case T_SVR4_OPTMGMT_REQ: tt_optmgmt(ep, mp); return TRUE;
	case T_CONN_REQ: tt_conn_req(ep, mp); return TRUE;
	case T_CONN_RES: tt_conn_res(ep, mp); return TRUE;
	case T_DISCON_REQ: tt_discon_req(ep, mp); return TRUE;
	case T_ORDREL_REQ: tt_ordrel_req(ep); return TRUE;
	default: return FALSE;
	}
}

static void
tt_proto(TtEp *ep, mblk_t *mp)
{
	TpitestConfig *cfg = &ep->ts->cfg;
	t_scalar_t prim = -1;
	if (MBLKL(mp) >= sizeof prim)
		memcpy(&prim, mp->b_rptr, sizeof prim);
	if (prim >= 0 && prim < (t_scalar_t)G_N_ELEMENTS(cfg->prims))
		cfg->prims[prim]++;
	if (cfg->fail_prim >= 0 && prim == cfg->fail_prim) {
		cfg->fail_prim = -1;
		tt_error_ack(ep, prim, cfg->fail_tli, cfg->fail_unix);
		freemsg(mp);
		return;
	}
	if (tt_control(ep, prim, mp)) {
		freemsg(mp);
		return;
	}
	switch (prim) {
	case T_UNITDATA_REQ: tt_unitdata(ep, mp); break;
	case T_DATA_REQ: tt_forward(ep, mp, T_DATA_IND); break;
	case T_EXDATA_REQ: tt_forward(ep, mp, T_EXDATA_IND); break;
	default: freemsg(mp); break;
	}
}

static int
tt_wput(queue_t *wq, mblk_t *mp)
{
	TtEp *ep = wq->q_ptr;
	switch (DB_TYPE(mp)) {
	case M_PROTO:
	case M_PCPROTO: tt_proto(ep, mp); break;
	case M_DATA: tt_data(ep, mp); break;
	default: us_default_put(wq, mp); break;
	}
	return 0;
}

static struct module_info tt_minfo = {
	.mi_idnum = 9101,
	.mi_idname = "tpitest",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 1024,
};
static struct qinit tt_rinit_dg = { .qi_putp = us_putnext_put,
				    .qi_qopen = tt_open_dg,
				    .qi_qclose = tt_close,
				    .qi_minfo = &tt_minfo };
static struct qinit tt_rinit_st = { .qi_putp = us_putnext_put,
				    .qi_qopen = tt_open_st,
				    .qi_qclose = tt_close,
				    .qi_minfo = &tt_minfo };
static struct qinit tt_winit = { .qi_putp = tt_wput, .qi_minfo = &tt_minfo };
static struct streamtab tt_tab_dg = { .st_rdinit = &tt_rinit_dg, .st_wrinit = &tt_winit };
static struct streamtab tt_tab_st = { .st_rdinit = &tt_rinit_st, .st_wrinit = &tt_winit };

static const UsModuleDesc tt_desc_dg = {
	.abi_version = US_ABI_VERSION,
	.name = TPITEST_DG,
	.summary = "fake T_CLTS transport for socket tests",
	.kind = US_KIND_DRIVER,
	.streamtab = &tt_tab_dg,
};
static const UsModuleDesc tt_desc_st = {
	.abi_version = US_ABI_VERSION,
	.name = TPITEST_ST,
	.summary = "fake T_COTS_ORD transport for socket tests",
	.kind = US_KIND_DRIVER,
	.streamtab = &tt_tab_st,
};

void
tpitest_register(void)
{
	g_assert_true(us_registry_add(&tt_desc_dg, NULL));
	g_assert_true(us_registry_add(&tt_desc_st, NULL));
}
