/* SPDX-License-Identifier: MIT */
/*
 * dgram -- the core of the connectionless TPI transports over ip: everything
 * udp (modules/udp) and the raw-IP driver icmp (modules/icmp) have in
 * common.  Each protocol file supplies a DgramProto (dgram-impl.h) for what
 * is its own: the header it puts on a datagram, how it checks and
 * demultiplexes what arrives, how ports are held.
 *
 *     socket  socket  socket       stream heads, TPI (T_CLTS)
 *       |       |       |
 *     [ udp or icmp upper streams ]   this driver, one clone open per socket
 *                 |
 *               [ ip ]               one lower (an ip upper stream), I_PLINKed
 *
 * Theory
 * ------
 * Per stack there is one state (us_stack_get_data under the protocol's name):
 * the endpoints (upper streams, clone minors), the one ip lower, where the
 * IP_BIND handshake stands, and the IP_ROUTE_REQs in flight.  Each upper
 * stream is a TPI endpoint (DgramEp in q_ptr).
 *
 * The lower.  The first I_LINK/I_PLINK under the transport (through
 * us_mux_handle_link_ioctl) sends IP_BIND_REQ down: {17} for udp, {flags
 * IP_BINDF_RAW} for icmp.  Until IP_BIND_ACK arrives, and while no lower is
 * linked, datagrams are refused with T_UDERROR_IND ENETDOWN.  A second link
 * is refused with EBUSY.  Unlinking sends IP_UNBIND_REQ (so the ip stream can
 * be linked again), fails the IP_ROUTE_REQs in flight and makes datagrams
 * fail with ENETDOWN again.
 *
 * Messages consumed from the user (upper write side):
 *   T_INFO_REQ, T_CAPABILITY_REQ, T_ADDR_REQ      answered at once
 *   T_BIND_REQ, O_T_BIND_REQ                      T_BIND_ACK | T_ERROR_ACK
 *   T_UNBIND_REQ                                  M_FLUSH(FLUSHRW) up, T_OK_ACK
 *   T_SVR4_OPTMGMT_REQ                            T_OPTMGMT_ACK | T_ERROR_ACK
 *   T_CONN_REQ                                    T_OK_ACK + T_CONN_CON | T_ERROR_ACK
 *   T_DISCON_REQ                                  T_OK_ACK | T_ERROR_ACK
 *   T_UNITDATA_REQ, M_DATA (connected)            IP_UNITDATA_REQ down | T_UDERROR_IND
 *   M_IOCTL I_LINK/I_PLINK/I_UNLINK/I_PUNLINK     the link ioctls; others EINVAL
 *   M_FLUSH                                       canonical driver handling
 *   anything else                                 T_ERROR_ACK TNOTSUPPORT
 * Messages consumed from ip (lower read side): IP_BIND_ACK, IP_OK_ACK,
 * IP_ERROR_ACK, IP_ROUTE_ACK, IP_UNITDATA_IND (to the protocol),
 * IP_UDERROR_IND, IP_ICMP_IND (to the protocol), M_FLUSH.
 *
 * States (CURRENT_state): TS_UNBND -> T_BIND_REQ -> TS_IDLE; a bind to a
 * specific address asks ip (IP_ROUTE_REQ: is it ours?) and waits in
 * TS_WACK_BREQ.  T_CONN_REQ (from TS_UNBND with an implicit bind, TS_IDLE
 * or TS_DATA_XFER) asks ip for the route to the peer in TS_WACK_CREQ, keeps
 * the route's source as the local address when bound to INADDR_ANY (as
 * Linux does) and goes to TS_DATA_XFER.  T_DISCON_REQ returns to TS_IDLE
 * and to the address given at bind; the port stays held.  While an endpoint
 * waits for ip, its later M_PROTO/M_DATA messages wait on its write queue
 * (the service procedure does not take them); high-priority requests are
 * answered at once.  IP_ROUTE_ACKs answer IP_ROUTE_REQs in order: the
 * endpoints waiting are a FIFO (ds_routes).
 *
 * Addresses in primitives are struct sockaddr_in of 16 bytes (another length,
 * offsets outside the block, or a family other than AF_INET: TBADADDR; for
 * T_UNITDATA_REQ, T_UDERROR_IND EINVAL or EAFNOSUPPORT).  A fixed part
 * shorter than the primitive's structure is answered TPROTO; a message too
 * short to hold PRIM_type is dropped and counted.
 *
 * Sending.  T_UNITDATA_REQ checks the destination (empty on a connected
 * endpoint: the peer; udp port 0: EINVAL), per-datagram options (T_opthdr
 * format: IPPROTO_IP IP_TTL and IP_TOS), the size (TSDU_size: EMSGSIZE),
 * binds an unbound udp endpoint to an ephemeral port (Linux autobind), and
 * needs ip bound (ENETDOWN).  The protocol builds the payload of
 * IP_UNITDATA_REQ; the T_UNITDATA_REQ block becomes the IP_UNITDATA_REQ
 * when it is not shared and large enough.  The source is the bound unicast
 * address, else 0 (ip chooses); ttl/tos come from IP_TTL/IP_TOS; flags
 * IP_F_BROADCAST (SO_BROADCAST) and IP_F_DONTROUTE (SO_DONTROUTE).
 * Failures ip reports later (IP_UDERROR_IND) go up as T_UDERROR_IND to the
 * endpoint the protocol recognises as the sender.
 *
 * Receiving.  The protocol demultiplexes IP_UNITDATA_IND and hands each
 * endpoint its copy through dgram_deliver(): T_UNITDATA_IND with SRC = the
 * sender's sockaddr_in, the data in b_cont, shared (dupmsg) between
 * endpoints and never copied.
 *
 * Receive buffer: the stream head's read queue is the buffer.  At open and
 * whenever SO_RCVBUF changes, M_SETOPTS sets its high water mark (SO_HIWAT)
 * to SO_RCVBUF; a datagram arriving while canputnext() on the endpoint's
 * read queue says no (the bytes queued at the head reached SO_RCVBUF) is
 * dropped and counted (rcvbuf errors and in errors, as Linux).  ip is never
 * held back: nothing waits on the lower read side.
 *
 * Flow control down: an upper write queue whose datagram finds the lower
 * full (us_mux_lower_canput) waits on the lower (us_mux_lower_wait), the
 * message goes back on its queue, and the lower's write service procedure
 * enables it once the stream below drained.  The write queue's high water
 * mark is SO_SNDBUF, so a writer above blocks (or gets EAGAIN) once that
 * much waits.  M_SETOPTS at open also asks the head for DGRAM_WROFF bytes of
 * headroom (SO_WROFF), where udp puts its header and ip and ether theirs.
 *
 * Options: T_SVR4_OPTMGMT_REQ with struct opthdr options (dgram.h): the
 * whole request is tried on a scratch copy of the endpoint first, so a bad
 * option changes nothing.  T_NEGOTIATE sets and returns the resulting
 * values; T_CURRENT and T_DEFAULT return the values asked (every option when
 * the buffer is empty); T_CHECK answers T_SUCCESS or T_FAILURE.  Unknown
 * option: TBADOPT; bad value: TSYSERR EINVAL (ENOPROTOOPT for setting
 * SO_TYPE).
 *
 * Statistics: a DgramMib block per endpoint and per stack (the descriptor's
 * table reads the endpoint's; dgram_stack_stat the stack's).  Every drop goes
 * through us_drop() (us_mux_drop() on lower queues) with a DGRAM_DROP_*
 * reason.
 *
 * Reading list: the TPI specification (UNIX International, rev. 1.5) §4
 * (connectionless service) and its state tables; illumos udp.c and
 * rawip.c (tpi paths); Linux net/ipv4/udp.c, raw.c, datagram.c, icmp.c
 * (icmp_err_convert) for socket behaviour; RFC 768; RFC 1122 §4.1.
 *
 * Deviations
 *  - SO_RCVBUF and SO_SNDBUF are used and reported as set (Linux doubles
 *    them), clamped to [2304 or 4608, 16 MiB].  Buffers count the bytes the
 *    stream head counts (q_count), not Linux's truesize.
 *  - IP_TTL reads 64 while unset; ip's "ttl" parameter is what is used.
 *  - T_DISCON_REQ keeps the port even when it was chosen implicitly (Linux
 *    releases an autobound port on disconnect).
 *  - A bind to a specific address without a lower linked fails TNOADDR (ip
 *    cannot be asked whether the address is ours).
 *  - PROVIDER_flag is SENDZERO only: the XTI T_OPTMGMT_REQ (T_opthdr
 *    format) is not supported (TNOTSUPPORT), so XPG4_1 is not claimed;
 *    T_ADDR_REQ is supported anyway.
 *  - No port is privileged (there are no credentials).
 */
#define G_LOG_DOMAIN "us-dgram"

#include "dgram-impl.h"
#include "tpi-util.h"

#include <ustreams/world.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SO_REUSEPORT
#define SO_REUSEPORT 15
#endif

G_STATIC_ASSERT(sizeof(struct sockaddr_in) == DGRAM_ADDR_SIZE);
G_STATIC_ASSERT(offsetof(DgramEp, de_mib) == 0);
G_STATIC_ASSERT(offsetof(DgramStack, ds_mib) == 0);

/* What processing a message from the user came to. */
enum {
	DGRAM_DONE,  /* consumed */
	DGRAM_RETRY, /* not consumed: the lower is full, try again when enabled */
};

#define DGRAM_TTL_SHOWN 64 /* IP_TTL while unset (Deviations) */

/* ------------------------------------------------------------------ */
/* Per-stack state                                                    */
/* ------------------------------------------------------------------ */

static void
dgram_stack_free(gpointer p)
{
	DgramStack *ds = p;
	if (ds->ds_proto->dp_stack_free != NULL)
		ds->ds_proto->dp_stack_free(ds);
	/* Neither table touches queues: linked lowers may be gone already. */
	us_mux_lowers_free(ds->ds_lowers);
	us_mux_uppers_free(ds->ds_uppers);
	g_hash_table_destroy(ds->ds_cookies);
	g_queue_clear(&ds->ds_routes);
	g_queue_clear(&ds->ds_eps);
	g_free(ds);
}

DgramStack *
dgram_stack_find(UsStack *stack, const char *name)
{
	return us_stack_get_data(stack, name);
}

/* The state of the transport q belongs to (upper or lower queue): found by
 * the name in its module_info, which is the protocol's name. */
static DgramStack *
dgram_stack_of(queue_t *q)
{
	return dgram_stack_find(us_queue_stack(q), q->q_qinfo->qi_minfo->mi_idname);
}

static DgramStack *
dgram_stack_get(const DgramProto *dp, queue_t *q)
{
	UsStack *s = us_queue_stack(q);
	DgramStack *ds = dgram_stack_find(s, dp->dp_name);
	if (ds != NULL)
		return ds;
	ds = g_new0(DgramStack, 1);
	ds->ds_proto = dp;
	ds->ds_stack = s;
	ds->ds_uppers = us_mux_uppers_new(1, US_MAXMIN);
	ds->ds_cookies = g_hash_table_new(g_direct_hash, g_direct_equal);
	ds->ds_lowers = us_mux_lowers_new(NULL);
	ds->ds_seed = g_rand_int(us_world_rand(us_stack_world(s)));
	g_queue_init(&ds->ds_routes);
	g_queue_init(&ds->ds_eps);
	if (dp->dp_stack_init != NULL)
		dp->dp_stack_init(ds);
	us_stack_set_data(s, dp->dp_name, ds, dgram_stack_free);
	return ds;
}

gboolean
dgram_stack_stat(UsStack *stack, const char *name, const UsStatDesc *table, const char *stat,
		 guint64 *value)
{
	DgramStack *ds = dgram_stack_find(stack, name);
	for (const UsStatDesc *t = table; t->name != NULL; t++) {
		if (strcmp(t->name, stat) != 0)
			continue;
		/* The table's offsets point into de_mib, which sits where
		 * ds_mib does (both first). */
		g_assert(t->offset + sizeof(guint64) <= sizeof(DgramMib));
		*value = 0;
		if (ds != NULL)
			memcpy(value, (const guint8 *)ds + t->offset, sizeof(guint64));
		return TRUE;
	}
	return FALSE;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

gboolean
dgram_addr_is_multi(uint32_t addr)
{
	return addr == INADDR_BROADCAST || IN_MULTICAST(ntohl(addr));
}

/* A 32-bit finaliser (lowbias32): spreads every input bit. */
static guint32
dgram_mix(guint32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

guint32
dgram_flow_hash(const DgramStack *ds, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	guint32 h = dgram_mix(ds->ds_seed ^ src);
	h = dgram_mix(h ^ dst);
	return dgram_mix(h ^ (((guint32)sport << 16) | dport));
}

guint32
dgram_rand_below(DgramStack *ds, guint32 n)
{
	g_assert(n > 0 && n <= G_MAXINT32);
	return (guint32)g_rand_int_range(us_world_rand(us_stack_world(ds->ds_stack)), 0, (gint32)n);
}

mblk_t *
dgram_strip_empty(mblk_t *data)
{
	while (data != NULL && MBLKL(data) == 0 && data->b_cont != NULL) {
		mblk_t *next = data->b_cont;
		freeb(data);
		data = next;
	}
	return data;
}

void
dgram_drop(DgramStack *ds, queue_t *q, mblk_t *mp, guint reason)
{
	us_mux_drop(q, mp, reason, us_mux_uppers_any_rq(ds->ds_uppers));
}

static void
dgram_error_ack(queue_t *wq, mblk_t *mp, t_scalar_t prim, t_scalar_t tli, int err)
{
	struct T_error_ack ea = {
		.PRIM_type = T_ERROR_ACK,
		.ERROR_prim = prim,
		.TLI_error = tli,
		.UNIX_error = tli == TSYSERR ? err : 0,
	};
	us_tpi_reply_copy(wq, mp, &ea, sizeof ea, DGRAM_DROP_NOMEM);
}

static void
dgram_ok_ack(queue_t *wq, mblk_t *mp, t_scalar_t prim)
{
	struct T_ok_ack oa = { .PRIM_type = T_OK_ACK, .CORRECT_prim = prim };
	us_tpi_reply_copy(wq, mp, &oa, sizeof oa, DGRAM_DROP_NOMEM);
}

/* Sends M_SETOPTS up: headroom (SO_WROFF) and the receive buffer as the
 * head's high water mark.  Best effort: without it the defaults stay. */
static void
dgram_setopts(DgramEp *ep, unsigned int flags)
{
	mblk_t *mp = allocb(sizeof(struct stroptions), BPRI_MED);
	if (mp == NULL) {
		us_drop(ep->de_rq, NULL, DGRAM_DROP_NOMEM);
		return;
	}
	struct stroptions so;
	memset(&so, 0, sizeof so);
	so.so_flags = flags;
	so.so_wroff = DGRAM_WROFF;
	so.so_hiwat = (size_t)ep->de_rcvbuf;
	so.so_lowat = (size_t)ep->de_rcvbuf / 4;
	DB_TYPE(mp) = M_SETOPTS;
	memcpy(mp->b_wptr, &so, sizeof so);
	mp->b_wptr += sizeof so;
	putnext(ep->de_rq, mp);
}

static void
dgram_apply_sndbuf(DgramEp *ep)
{
	queue_t *wq = WR(ep->de_rq);
	strqset(wq, QHIWAT, 0, (intptr_t)ep->de_sndbuf);
	strqset(wq, QLOWAT, 0, (intptr_t)(ep->de_sndbuf / 4));
}

static void
dgram_ep_defaults(DgramEp *ep, const DgramProto *dp)
{
	memset(ep, 0, sizeof *ep);
	ep->de_rcvbuf = DGRAM_RCVBUF_DEFAULT;
	ep->de_sndbuf = DGRAM_SNDBUF_DEFAULT;
	ep->de_state = TS_UNBND;
	ep->de_ttl = -1;
	ep->de_proto = dp->dp_default_proto;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

int
dgram_open(const DgramProto *dp, queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)oflag;
	(void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO; /* every open is a new endpoint */
	DgramStack *ds = dgram_stack_get(dp, rq);
	DgramEp *ep = g_new(DgramEp, 1);
	dgram_ep_defaults(ep, dp);
	ep->de_ds = ds;
	ep->de_rq = rq;
	int err = us_mux_uppers_alloc(ds->ds_uppers, rq, ep, &ep->de_minor);
	if (err != 0) {
		g_free(ep);
		return err;
	}
	rq->q_ptr = WR(rq)->q_ptr = ep;
	*devp = makedevice(getmajor(*devp), ep->de_minor);
	do /* 0 means "no cookie"; a wrapped counter skips ones in use */
		ep->de_cookie = ++ds->ds_next_cookie;
	while (ep->de_cookie == 0 ||
	       g_hash_table_contains(ds->ds_cookies, GUINT_TO_POINTER(ep->de_cookie)));
	g_hash_table_insert(ds->ds_cookies, GUINT_TO_POINTER(ep->de_cookie), ep);
	g_queue_push_tail(&ds->ds_eps, ep);
	ep->de_node = g_queue_peek_tail_link(&ds->ds_eps);
	dgram_apply_sndbuf(ep);
	dgram_setopts(ep, SO_WROFF | SO_HIWAT | SO_LOWAT);
	return 0;
}

static void dgram_release(DgramEp *ep);

/* Close: the endpoint's port goes, an answer ip still owes it is ignored,
 * and data waiting on its write queue is dropped. */
int
dgram_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	DgramEp *ep = rq->q_ptr;
	DgramStack *ds = ep->de_ds;
	mblk_t *mp;
	dgram_release(ep);
	for (GList *l = ds->ds_routes.head; l != NULL; l = l->next)
		if (l->data == ep)
			l->data = NULL;
	us_mux_lowers_forget(ds->ds_lowers, WR(rq));
	while ((mp = getq(WR(rq))) != NULL)
		us_drop(WR(rq), mp, DGRAM_DROP_CLOSED);
	us_mux_uppers_remove(ds->ds_uppers, ep->de_minor);
	g_hash_table_remove(ds->ds_cookies, GUINT_TO_POINTER(ep->de_cookie));
	g_queue_delete_link(&ds->ds_eps, ep->de_node);
	g_free(ep);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Binding                                                            */
/* ------------------------------------------------------------------ */

/* Holds addr and a port (*portp, 0: ephemeral) for ep.  src: addr when it
 * may be used as a source address (a unicast address of ours), else 0.
 * Returns 0 or a TLI error. */
static int
dgram_hold(DgramEp *ep, uint32_t addr, uint32_t src, uint16_t *portp, gboolean may_move)
{
	DgramStack *ds = ep->de_ds;
	int terr = ds->ds_proto->dp_bind(ep, addr, portp, may_move);
	if (terr != 0)
		return terr;
	ep->de_bound = TRUE;
	ep->de_laddr = ep->de_baddr = addr;
	ep->de_lsrc = ep->de_bsrc = src;
	ep->de_lport = *portp;
	ep->de_bind_seq = ++ds->ds_bind_seq;
	return 0;
}

/* Forgets the peer: back to the address given at bind. */
static void
dgram_unconnect(DgramEp *ep)
{
	ep->de_connected = FALSE;
	ep->de_raddr = INADDR_ANY;
	ep->de_rport = 0;
	ep->de_laddr = ep->de_baddr;
	ep->de_lsrc = ep->de_bsrc;
	ep->de_state = ep->de_bound ? TS_IDLE : TS_UNBND;
}

/* Releases the address and port and forgets the peer. */
static void
dgram_release(DgramEp *ep)
{
	if (ep->de_bound)
		ep->de_ds->ds_proto->dp_unbind(ep);
	ep->de_bound = FALSE;
	ep->de_baddr = ep->de_bsrc = INADDR_ANY;
	ep->de_lport = 0;
	dgram_unconnect(ep);
}

/* Binds an unbound udp endpoint to an ephemeral port (Linux autobind);
 * raw endpoints need no binding.  Returns 0 or a TLI error. */
static int
dgram_autobind(DgramEp *ep)
{
	if (ep->de_bound || ep->de_ds->ds_proto->dp_raw)
		return 0;
	uint16_t port = 0;
	int terr = dgram_hold(ep, INADDR_ANY, INADDR_ANY, &port, FALSE);
	if (terr == 0 && ep->de_state == TS_UNBND)
		ep->de_state = TS_IDLE;
	return terr;
}

/* T_BIND_ACK for the address ep holds (mp consumed, may be NULL). */
static void
dgram_bind_ack(queue_t *wq, mblk_t *mp, DgramEp *ep)
{
	struct T_bind_ack ba = { .PRIM_type = T_BIND_ACK,
				 .ADDR_length = DGRAM_ADDR_SIZE,
				 .ADDR_offset = sizeof ba };
	mp = us_tpi_reply_alloc(wq, mp, sizeof ba + DGRAM_ADDR_SIZE, M_PCPROTO, DGRAM_DROP_NOMEM);
	if (mp == NULL)
		return;
	memcpy(mp->b_rptr, &ba, sizeof ba);
	us_tpi_sin_put(mp->b_rptr + sizeof ba, ep->de_laddr, ep->de_lport);
	qreply(wq, mp);
}

static void
dgram_bind_finish(queue_t *wq, mblk_t *mp, t_scalar_t prim, uint32_t addr, uint32_t src,
		  uint16_t port)
{
	DgramEp *ep = wq->q_ptr;
	int terr = dgram_hold(ep, addr, src, &port, prim == O_T_BIND_REQ);
	if (terr != 0) {
		dgram_error_ack(wq, mp, prim, terr, 0);
		return;
	}
	ep->de_state = TS_IDLE;
	dgram_bind_ack(wq, mp, ep);
}

static gboolean dgram_route_ask(DgramEp *ep);
static void dgram_route_done(DgramEp *ep, const struct ip_route_ack *ra, int err);

/* Starts waiting for ip about addr:port on behalf of prim. */
static void
dgram_pend_start(DgramEp *ep, int kind, t_scalar_t prim, uint32_t addr, uint16_t port,
		 t_scalar_t wait_state)
{
	ep->de_pend = kind;
	ep->de_pend_prim = prim;
	ep->de_pend_addr = addr;
	ep->de_pend_port = port;
	ep->de_pend_state = ep->de_state;
	ep->de_state = wait_state;
	if (!dgram_route_ask(ep))
		dgram_route_done(ep, NULL, ENETDOWN);
}

/* T_BIND_REQ / O_T_BIND_REQ: INADDR_ANY, limited broadcast and multicast
 * (a group may be bound) are taken at once; another address only if ip
 * says it is ours (or a broadcast address of ours). */
static void
dgram_t_bind(queue_t *wq, mblk_t *mp, t_scalar_t prim)
{
	DgramEp *ep = wq->q_ptr;
	struct T_bind_req br;
	gboolean present;
	uint32_t addr;
	uint16_t port;
	if (MBLKL(mp) < sizeof br) {
		dgram_error_ack(wq, mp, prim, TPROTO, 0);
		return;
	}
	memcpy(&br, mp->b_rptr, sizeof br);
	if (ep->de_state != TS_UNBND) {
		dgram_error_ack(wq, mp, prim, TOUTSTATE, 0);
		return;
	}
	if (us_tpi_sin_get(mp, br.ADDR_length, br.ADDR_offset, &present, &addr, &port) != 0) {
		dgram_error_ack(wq, mp, prim, TBADADDR, 0);
		return;
	}
	if (ep->de_ds->ds_proto->dp_raw)
		port = 0; /* raw: the address is a filter, there is no port */
	if (addr == INADDR_ANY || dgram_addr_is_multi(addr)) {
		dgram_bind_finish(wq, mp, prim, addr, INADDR_ANY, port);
		return;
	}
	freemsg(mp);
	dgram_pend_start(ep, DGRAM_PEND_BIND, prim, addr, port, TS_WACK_BREQ);
}

/* ip answered about the address of a pending bind. */
static void
dgram_bind_done(DgramEp *ep, const struct ip_route_ack *ra)
{
	queue_t *wq = WR(ep->de_rq);
	const uint32_t ok = IP_RF_LOCAL | IP_RF_BROADCAST | IP_RF_MULTICAST;
	ep->de_state = ep->de_pend_state;
	if (ra == NULL || (ra->flags & ok) == 0) {
		dgram_error_ack(wq, NULL, ep->de_pend_prim, TNOADDR, 0);
		return;
	}
	uint32_t src = (ra->flags & IP_RF_LOCAL) ? ep->de_pend_addr : INADDR_ANY;
	dgram_bind_finish(wq, NULL, ep->de_pend_prim, ep->de_pend_addr, src, ep->de_pend_port);
}

static void
dgram_t_unbind(queue_t *wq, mblk_t *mp)
{
	DgramEp *ep = wq->q_ptr;
	if (ep->de_state != TS_IDLE && ep->de_state != TS_DATA_XFER) {
		dgram_error_ack(wq, mp, T_UNBIND_REQ, TOUTSTATE, 0);
		return;
	}
	dgram_release(ep);
	ep->de_state = TS_UNBND;
	/* TPI: the provider flushes the stream before acknowledging. */
	putnextctl1(RD(wq), M_FLUSH, FLUSHRW);
	dgram_ok_ack(wq, mp, T_UNBIND_REQ);
}

/* ------------------------------------------------------------------ */
/* Connecting                                                         */
/* ------------------------------------------------------------------ */

static void
dgram_t_conn(queue_t *wq, mblk_t *mp)
{
	DgramEp *ep = wq->q_ptr;
	const DgramProto *dp = ep->de_ds->ds_proto;
	struct T_conn_req cr;
	gboolean present;
	uint32_t addr;
	uint16_t port;
	if (MBLKL(mp) < sizeof cr) {
		dgram_error_ack(wq, mp, T_CONN_REQ, TPROTO, 0);
		return;
	}
	memcpy(&cr, mp->b_rptr, sizeof cr);
	if (ep->de_state != TS_UNBND && ep->de_state != TS_IDLE && ep->de_state != TS_DATA_XFER) {
		dgram_error_ack(wq, mp, T_CONN_REQ, TOUTSTATE, 0);
		return;
	}
	if (us_tpi_sin_get(mp, cr.DEST_length, cr.DEST_offset, &present, &addr, &port) != 0 ||
	    !present || (!dp->dp_raw && port == 0)) {
		dgram_error_ack(wq, mp, T_CONN_REQ, TBADADDR, 0);
		return;
	}
	if (mp->b_cont != NULL && msgdsize(mp->b_cont) > 0) {
		dgram_error_ack(wq, mp, T_CONN_REQ, TBADDATA, 0); /* CDATA_size is T_INVALID */
		return;
	}
	int terr = dgram_autobind(ep);
	if (terr != 0) {
		dgram_error_ack(wq, mp, T_CONN_REQ, terr, 0);
		return;
	}
	freemsg(mp);
	dgram_pend_start(ep, DGRAM_PEND_CONN, T_CONN_REQ, addr, dp->dp_raw ? 0 : port,
			 TS_WACK_CREQ);
}

static void
dgram_conn_con(queue_t *wq, DgramEp *ep)
{
	struct T_conn_con cc = { .PRIM_type = T_CONN_CON,
				 .RES_length = DGRAM_ADDR_SIZE,
				 .RES_offset = sizeof cc };
	mblk_t *mp = allocb(sizeof cc + DGRAM_ADDR_SIZE, BPRI_MED);
	if (mp == NULL) {
		us_drop(wq, NULL, DGRAM_DROP_NOMEM);
		return;
	}
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, &cc, sizeof cc);
	us_tpi_sin_put(mp->b_wptr + sizeof cc, ep->de_raddr, ep->de_rport);
	mp->b_wptr += sizeof cc + DGRAM_ADDR_SIZE;
	qreply(wq, mp);
}

/* ip answered with the route to the peer of a pending connect. */
static void
dgram_conn_done(DgramEp *ep, const struct ip_route_ack *ra, int err)
{
	queue_t *wq = WR(ep->de_rq);
	ep->de_state = ep->de_pend_state;
	if (ra == NULL) {
		dgram_error_ack(wq, NULL, T_CONN_REQ, TSYSERR, err);
		return;
	}
	if ((ra->flags & IP_RF_BROADCAST) && !ep->de_broadcast) {
		dgram_error_ack(wq, NULL, T_CONN_REQ, TACCES, 0); /* Linux: EACCES */
		return;
	}
	if (ep->de_laddr == INADDR_ANY) /* Linux keeps the route's source */
		ep->de_laddr = ep->de_lsrc = ra->src;
	ep->de_connected = TRUE;
	ep->de_raddr = ep->de_pend_addr;
	ep->de_rport = ep->de_pend_port;
	ep->de_state = TS_DATA_XFER;
	dgram_ok_ack(wq, NULL, T_CONN_REQ);
	dgram_conn_con(wq, ep);
}

static void
dgram_t_discon(queue_t *wq, mblk_t *mp)
{
	DgramEp *ep = wq->q_ptr;
	if (MBLKL(mp) < sizeof(struct T_discon_req)) {
		dgram_error_ack(wq, mp, T_DISCON_REQ, TPROTO, 0);
		return;
	}
	if (ep->de_state != TS_DATA_XFER) {
		dgram_error_ack(wq, mp, T_DISCON_REQ, TOUTSTATE, 0);
		return;
	}
	dgram_unconnect(ep);
	dgram_ok_ack(wq, mp, T_DISCON_REQ);
}

/* ------------------------------------------------------------------ */
/* Routes: asking ip                                                  */
/* ------------------------------------------------------------------ */

/* Sends IP_ROUTE_REQ for ep's pending address; FALSE if it cannot. */
static gboolean
dgram_route_ask(DgramEp *ep)
{
	DgramStack *ds = ep->de_ds;
	if (ds->ds_lower == NULL)
		return FALSE;
	mblk_t *mp = allocb(sizeof(struct ip_route_req), BPRI_MED);
	if (mp == NULL)
		return FALSE;
	struct ip_route_req rr = { .prim = IP_ROUTE_REQ, .dst = ep->de_pend_addr };
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, &rr, sizeof rr);
	mp->b_wptr += sizeof rr;
	/* Queued before sending: ip may answer before putnext returns. */
	g_queue_push_tail(&ds->ds_routes, ep);
	putnext(ds->ds_lower->ml_qbot, mp);
	return TRUE;
}

/* Finishes ep's pending operation (ra NULL: failed with err) and lets the
 * messages that waited behind it go. */
static void
dgram_route_done(DgramEp *ep, const struct ip_route_ack *ra, int err)
{
	int kind = ep->de_pend;
	ep->de_pend = DGRAM_PEND_NONE;
	if (kind == DGRAM_PEND_BIND)
		dgram_bind_done(ep, ra);
	else
		dgram_conn_done(ep, ra, err);
	queue_t *wq = WR(ep->de_rq);
	if (wq->q_first != NULL)
		qenable(wq);
}

/* IP_ROUTE_ACK (ra) or IP_ERROR_ACK for IP_ROUTE_REQ (ra NULL, err). */
static void
dgram_route_answer(DgramStack *ds, queue_t *q, mblk_t *mp, const struct ip_route_ack *ra, int err)
{
	if (g_queue_is_empty(&ds->ds_routes)) {
		dgram_drop(ds, q, mp, DGRAM_DROP_LATE);
		return;
	}
	DgramEp *ep = g_queue_pop_head(&ds->ds_routes);
	freemsg(mp);
	if (ep == NULL)
		return; /* it closed meanwhile */
	if (ra != NULL && ra->dst != ep->de_pend_addr) {
		g_warning("%s: IP_ROUTE_ACK out of order", ds->ds_proto->dp_name);
		ra = NULL;
		err = EPROTO;
	}
	dgram_route_done(ep, ra, err);
}

/* The lower went: answers every pending request with err. */
static void
dgram_routes_fail(DgramStack *ds, int err)
{
	while (!g_queue_is_empty(&ds->ds_routes)) {
		DgramEp *ep = g_queue_pop_head(&ds->ds_routes);
		if (ep != NULL)
			dgram_route_done(ep, NULL, err);
	}
}

/* ------------------------------------------------------------------ */
/* Information                                                        */
/* ------------------------------------------------------------------ */

static void
dgram_info_fill(const DgramEp *ep, struct T_info_ack *ia)
{
	const DgramProto *dp = ep->de_ds->ds_proto;
	memset(ia, 0, sizeof *ia);
	ia->PRIM_type = T_INFO_ACK;
	ia->TSDU_size = dp->dp_tsdu;
	ia->ETSDU_size = T_INVALID;
	ia->CDATA_size = T_INVALID;
	ia->DDATA_size = T_INVALID;
	ia->ADDR_size = DGRAM_ADDR_SIZE;
	ia->OPT_size = DGRAM_OPT_SIZE;
	ia->TIDU_size = dp->dp_tsdu;
	ia->SERV_type = T_CLTS;
	ia->CURRENT_state = ep->de_state;
	ia->PROVIDER_flag = SENDZERO;
}

static void
dgram_t_info(queue_t *wq, mblk_t *mp)
{
	struct T_info_ack ia;
	dgram_info_fill(wq->q_ptr, &ia);
	us_tpi_reply_copy(wq, mp, &ia, sizeof ia, DGRAM_DROP_NOMEM);
}

static void
dgram_t_capability(queue_t *wq, mblk_t *mp)
{
	DgramEp *ep = wq->q_ptr;
	struct T_capability_req cr;
	struct T_capability_ack ca;
	if (MBLKL(mp) < sizeof cr) {
		dgram_error_ack(wq, mp, T_CAPABILITY_REQ, TPROTO, 0);
		return;
	}
	memcpy(&cr, mp->b_rptr, sizeof cr);
	memset(&ca, 0, sizeof ca);
	ca.PRIM_type = T_CAPABILITY_ACK;
	ca.CAP_bits1 = cr.CAP_bits1 & (TC1_INFO | TC1_ACCEPTOR_ID);
	if (ca.CAP_bits1 & TC1_INFO)
		dgram_info_fill(ep, &ca.INFO_ack);
	if (ca.CAP_bits1 & TC1_ACCEPTOR_ID)
		ca.ACCEPTOR_id = ep->de_minor;
	us_tpi_reply_copy(wq, mp, &ca, sizeof ca, DGRAM_DROP_NOMEM);
}

/* T_ADDR_ACK: the local address (zeros while unbound) and the peer (empty
 * unless connected). */
static void
dgram_t_addr(queue_t *wq, mblk_t *mp)
{
	DgramEp *ep = wq->q_ptr;
	size_t rlen = ep->de_connected ? DGRAM_ADDR_SIZE : 0;
	struct T_addr_ack aa = { .PRIM_type = T_ADDR_ACK,
				 .LOCADDR_length = DGRAM_ADDR_SIZE,
				 .LOCADDR_offset = sizeof aa,
				 .REMADDR_length = (t_scalar_t)rlen,
				 .REMADDR_offset =
					 rlen ? (t_scalar_t)(sizeof aa + DGRAM_ADDR_SIZE) : 0 };
	mp = us_tpi_reply_alloc(wq, mp, sizeof aa + DGRAM_ADDR_SIZE + rlen, M_PCPROTO,
				DGRAM_DROP_NOMEM);
	if (mp == NULL)
		return;
	memcpy(mp->b_rptr, &aa, sizeof aa);
	us_tpi_sin_put(mp->b_rptr + sizeof aa, ep->de_laddr, ep->de_lport);
	if (rlen != 0)
		us_tpi_sin_put(mp->b_rptr + sizeof aa + DGRAM_ADDR_SIZE, ep->de_raddr,
			       ep->de_rport);
	qreply(wq, mp);
}

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */

/* The options of the core, in the order T_CURRENT lists them. */
static const DgramOptName dgram_core_opts[] = {
	{ SOL_SOCKET, SO_RCVBUF },
	{ SOL_SOCKET, SO_SNDBUF },
	{ SOL_SOCKET, SO_REUSEADDR },
	{ SOL_SOCKET, SO_REUSEPORT },
	{ SOL_SOCKET, SO_BROADCAST },
	{ SOL_SOCKET, SO_DONTROUTE },
	{ SOL_SOCKET, SO_KEEPALIVE },
	{ SOL_SOCKET, SO_LINGER },
	{ SOL_SOCKET, SO_TYPE },
	{ SOL_SOCKET, US_SO_PROTOTYPE },
	{ IPPROTO_IP, IP_TTL },
	{ IPPROTO_IP, IP_TOS },
	{ 0, 0 },
};

static gboolean
dgram_opt_in(const DgramOptName *t, t_uscalar_t level, t_uscalar_t name)
{
	for (; t != NULL && (t->do_level != 0 || t->do_name != 0); t++)
		if (t->do_level == level && t->do_name == name)
			return TRUE;
	return FALSE;
}

static gboolean
dgram_opt_known(const DgramEp *ep, t_uscalar_t level, t_uscalar_t name)
{
	return dgram_opt_in(dgram_core_opts, level, name) ||
	       dgram_opt_in(ep->de_ds->ds_proto->dp_opts, level, name);
}

static int
dgram_buf_value(int v, guint64 min, guint64 *out)
{
	if (v < 0)
		return EINVAL;
	*out = CLAMP((guint64)v, min, (guint64)DGRAM_BUF_MAX);
	return 0;
}

/* The core's int options: 0, an errno, or DGRAM_OPT_UNKNOWN. */
static int
dgram_opt_set_core(DgramEp *ep, t_uscalar_t level, t_uscalar_t name, int v)
{
	const DgramProto *dp = ep->de_ds->ds_proto;
	if (level == IPPROTO_IP && name == IP_TTL) {
		if (v != -1 && (v < 1 || v > 255))
			return EINVAL;
		ep->de_ttl = v;
		return 0;
	}
	if (level == IPPROTO_IP && name == IP_TOS) {
		if (v < 0 || v > 255)
			return EINVAL;
		ep->de_tos = v;
		return 0;
	}
	if (level != SOL_SOCKET)
		return DGRAM_OPT_UNKNOWN;
	switch (name) {
	case SO_RCVBUF: return dgram_buf_value(v, DGRAM_RCVBUF_MIN, &ep->de_rcvbuf);
	case SO_SNDBUF: return dgram_buf_value(v, DGRAM_SNDBUF_MIN, &ep->de_sndbuf);
	case SO_REUSEADDR: ep->de_reuseaddr = v != 0; return 0;
	case SO_REUSEPORT: ep->de_reuseport = v != 0; return 0;
	case SO_BROADCAST: ep->de_broadcast = v != 0; return 0;
	case SO_DONTROUTE: ep->de_dontroute = v != 0; return 0;
	case SO_KEEPALIVE: ep->de_keepalive = v != 0; return 0;
	case SO_TYPE: return ENOPROTOOPT; /* read only */
	case US_SO_PROTOTYPE:
		if (!dp->dp_proto_ok(v))
			return EINVAL;
		ep->de_proto = v == 0 ? dp->dp_default_proto : v;
		return 0;
	default: return DGRAM_OPT_UNKNOWN;
	}
}

/* Sets one option from its value bytes: 0, an errno or DGRAM_OPT_UNKNOWN.
 * Stores into ep only (see dgram_apply_opts). */
static int
dgram_opt_set(DgramEp *ep, t_uscalar_t level, t_uscalar_t name, const unsigned char *val,
	      size_t len)
{
	const DgramProto *dp = ep->de_ds->ds_proto;
	if (!dgram_opt_known(ep, level, name))
		return DGRAM_OPT_UNKNOWN;
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l;
		if (len < sizeof l)
			return EINVAL;
		memcpy(&l, val, sizeof l);
		if (l.l_linger < 0)
			return EINVAL;
		ep->de_linger_onoff = l.l_onoff != 0;
		ep->de_linger_secs = l.l_linger;
		return 0;
	}
	int v;
	if (len < sizeof v)
		return EINVAL;
	memcpy(&v, val, sizeof v);
	int r = dgram_opt_set_core(ep, level, name, v);
	if (r == DGRAM_OPT_UNKNOWN && dp->dp_opt_set != NULL)
		r = dp->dp_opt_set(ep, level, name, v);
	return r;
}

/* Reads one option into val (up to 8 bytes, *lenp set): 0, an errno or
 * DGRAM_OPT_UNKNOWN. */
static int
dgram_opt_get(const DgramEp *ep, t_uscalar_t level, t_uscalar_t name, unsigned char *val,
	      size_t *lenp)
{
	const DgramProto *dp = ep->de_ds->ds_proto;
	int v = 0, r = 0;
	if (!dgram_opt_known(ep, level, name))
		return DGRAM_OPT_UNKNOWN;
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l = { .l_onoff = ep->de_linger_onoff,
				    .l_linger = ep->de_linger_secs };
		memcpy(val, &l, sizeof l);
		*lenp = sizeof l;
		return 0;
	}
	if (level == IPPROTO_IP && name == IP_TTL)
		v = ep->de_ttl < 0 ? DGRAM_TTL_SHOWN : ep->de_ttl;
	else if (level == IPPROTO_IP && name == IP_TOS)
		v = ep->de_tos;
	else if (level == SOL_SOCKET && name == SO_RCVBUF)
		v = (int)ep->de_rcvbuf;
	else if (level == SOL_SOCKET && name == SO_SNDBUF)
		v = (int)ep->de_sndbuf;
	else if (level == SOL_SOCKET && name == SO_REUSEADDR)
		v = ep->de_reuseaddr;
	else if (level == SOL_SOCKET && name == SO_REUSEPORT)
		v = ep->de_reuseport;
	else if (level == SOL_SOCKET && name == SO_BROADCAST)
		v = ep->de_broadcast;
	else if (level == SOL_SOCKET && name == SO_DONTROUTE)
		v = ep->de_dontroute;
	else if (level == SOL_SOCKET && name == SO_KEEPALIVE)
		v = ep->de_keepalive;
	else if (level == SOL_SOCKET && name == SO_TYPE)
		v = dp->dp_socktype;
	else if (level == SOL_SOCKET && name == US_SO_PROTOTYPE)
		v = ep->de_proto;
	else
		r = dp->dp_opt_get != NULL ? dp->dp_opt_get(ep, level, name, &v)
					   : DGRAM_OPT_UNKNOWN;
	if (r != 0)
		return r;
	memcpy(val, &v, sizeof v);
	*lenp = sizeof v;
	return 0;
}

/* Appends one option with its current value to out: 0 or an errno. */
static int
dgram_opt_emit(const DgramEp *ep, t_uscalar_t level, t_uscalar_t name, GByteArray *out)
{
	unsigned char val[8];
	static const unsigned char pad[sizeof(t_uscalar_t)];
	size_t vlen = 0;
	int r = dgram_opt_get(ep, level, name, val, &vlen);
	if (r != 0)
		return r;
	struct opthdr oh = { .level = level, .name = name, .len = (t_uscalar_t)vlen };
	g_byte_array_append(out, (const guint8 *)&oh, sizeof oh);
	g_byte_array_append(out, val, (guint)vlen);
	g_byte_array_append(out, pad, (guint)(OPTLEN(vlen) - vlen));
	return 0;
}

/* Every option ep has a value for, in table order. */
static void
dgram_opt_emit_all(const DgramEp *ep, GByteArray *out)
{
	const DgramOptName *tables[] = { dgram_core_opts, ep->de_ds->ds_proto->dp_opts };
	for (guint i = 0; i < G_N_ELEMENTS(tables); i++)
		for (const DgramOptName *t = tables[i];
		     t != NULL && (t->do_level != 0 || t->do_name != 0); t++)
			(void)dgram_opt_emit(ep, t->do_level, t->do_name, out);
}

/* Walks the struct opthdr options of [p, p + len): set (T_NEGOTIATE,
 * T_CHECK) stores each value in ep; out (may be NULL) receives each option
 * with ep's value afterwards.  Returns 0 or a TLI error (TSYSERR: *errp).
 * Reading options need not carry value bytes (sockfs sends the length it
 * has room for). */
static int
dgram_opt_set_cb(gpointer ep, t_uscalar_t level, t_uscalar_t name, const unsigned char *val,
		 size_t len)
{
	return dgram_opt_set(ep, level, name, val, len);
}

static int
dgram_opt_emit_cb(gpointer ep, t_uscalar_t level, t_uscalar_t name, GByteArray *out)
{
	return dgram_opt_emit(ep, level, name, out);
}

static const UsTpiOptOps dgram_opt_ops = {
	.set = dgram_opt_set_cb,
	.emit = dgram_opt_emit_cb,
	.unknown = DGRAM_OPT_UNKNOWN,
};

static int
dgram_opt_walk(DgramEp *ep, const unsigned char *p, size_t len, gboolean set, GByteArray *out,
	       int *errp)
{
	return us_tpi_opt_walk(ep, &dgram_opt_ops, p, len, set, out, errp);
}

/* Side effects of new option values: the buffers. */
static void
dgram_apply_opts(DgramEp *ep, guint64 old_rcvbuf, guint64 old_sndbuf)
{
	if (ep->de_rcvbuf != old_rcvbuf)
		dgram_setopts(ep, SO_HIWAT | SO_LOWAT);
	if (ep->de_sndbuf != old_sndbuf)
		dgram_apply_sndbuf(ep);
}

/* Runs one T_SVR4_OPTMGMT_REQ into out; returns 0 or a TLI error, and the
 * MGMT_flags of the answer in *flagsp. */
static int
dgram_optmgmt_run(DgramEp *ep, t_scalar_t flags, const unsigned char *p, size_t len,
		  GByteArray *out, t_scalar_t *flagsp, int *errp)
{
	DgramEp scratch = *ep;
	*flagsp = flags;
	switch (flags) {
	case T_NEGOTIATE: {
		int tli = dgram_opt_walk(&scratch, p, len, TRUE, NULL, errp);
		if (tli != 0)
			return tli;
		guint64 rcv = ep->de_rcvbuf, snd = ep->de_sndbuf;
		tli = dgram_opt_walk(ep, p, len, TRUE, out, errp);
		dgram_apply_opts(ep, rcv, snd);
		return tli;
	}
	case T_CHECK:
		*flagsp = dgram_opt_walk(&scratch, p, len, TRUE, NULL, errp) == 0 ? T_SUCCESS
										  : T_FAILURE;
		g_byte_array_append(out, p, (guint)len);
		return 0;
	case T_DEFAULT:
		dgram_ep_defaults(&scratch, ep->de_ds->ds_proto);
		scratch.de_ds = ep->de_ds;
		break;
	case T_CURRENT: break;
	default: return TBADFLAG;
	}
	if (len == 0) {
		dgram_opt_emit_all(&scratch, out);
		return 0;
	}
	return dgram_opt_walk(&scratch, p, len, FALSE, out, errp);
}

static void
dgram_t_optmgmt(queue_t *wq, mblk_t *mp)
{
	DgramEp *ep = wq->q_ptr;
	struct T_optmgmt_req r;
	if (MBLKL(mp) < sizeof r) {
		dgram_error_ack(wq, mp, T_SVR4_OPTMGMT_REQ, TPROTO, 0);
		return;
	}
	memcpy(&r, mp->b_rptr, sizeof r);
	if (r.OPT_length < 0 || r.OPT_offset < 0 ||
	    !MBLKIN(mp, (size_t)r.OPT_offset, (size_t)r.OPT_length)) {
		dgram_error_ack(wq, mp, T_SVR4_OPTMGMT_REQ, TBADOPT, 0);
		return;
	}
	GByteArray *out = g_byte_array_new();
	t_scalar_t flags = 0;
	int err = 0;
	int tli = dgram_optmgmt_run(ep, r.MGMT_flags, mp->b_rptr + r.OPT_offset,
				    (size_t)r.OPT_length, out, &flags, &err);
	if (tli != 0) {
		g_byte_array_free(out, TRUE);
		dgram_error_ack(wq, mp, T_SVR4_OPTMGMT_REQ, tli, err);
		return;
	}
	struct T_optmgmt_ack oa = { .PRIM_type = T_OPTMGMT_ACK,
				    .OPT_length = (t_scalar_t)out->len,
				    .OPT_offset = sizeof oa,
				    .MGMT_flags = flags };
	mblk_t *rp = allocb(sizeof oa + out->len, BPRI_MED);
	if (rp == NULL) {
		/* The request stays unanswered: the user's call times out. */
		us_drop(wq, mp, DGRAM_DROP_NOMEM);
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
/* Sending                                                            */
/* ------------------------------------------------------------------ */

void
dgram_uderror(DgramEp *ep, uint32_t addr, uint16_t port, int error)
{
	struct T_uderror_ind ui = { .PRIM_type = T_UDERROR_IND,
				    .DEST_length = DGRAM_ADDR_SIZE,
				    .DEST_offset = sizeof ui,
				    .ERROR_type = error };
	mblk_t *mp = allocb(sizeof ui + DGRAM_ADDR_SIZE, BPRI_MED);
	if (mp == NULL) {
		us_drop(ep->de_rq, NULL, DGRAM_DROP_NOMEM);
		return;
	}
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, &ui, sizeof ui);
	us_tpi_sin_put(mp->b_wptr + sizeof ui, addr, port);
	mp->b_wptr += sizeof ui + DGRAM_ADDR_SIZE;
	putnext(ep->de_rq, mp);
}

/* A datagram refused here: counted, dropped, reported up. */
static int
dgram_send_fail(DgramEp *ep, mblk_t *mp, uint32_t addr, uint16_t port, int error)
{
	DGRAM_COUNT(ep->de_ds, ep, dm_out_errors);
	us_drop(WR(ep->de_rq), mp, DGRAM_DROP_SEND);
	dgram_uderror(ep, addr, port, error);
	return DGRAM_DONE;
}

/* The per-datagram options of T_UNITDATA_REQ (struct T_opthdr format):
 * IPPROTO_IP IP_TTL (1..255) and IP_TOS (0..255).  0 or an errno. */
static int
dgram_unitdata_opts(const mblk_t *mp, t_scalar_t len, t_scalar_t off, DgramDest *d)
{
	if (len < 0 || off < 0 || !MBLKIN(mp, (size_t)off, (size_t)len))
		return EINVAL;
	size_t pos = 0, n = (size_t)len;
	const unsigned char *p = mp->b_rptr + off;
	while (pos < n) {
		struct T_opthdr oh;
		int v;
		if (n - pos < sizeof oh)
			return EINVAL;
		memcpy(&oh, p + pos, sizeof oh);
		if (oh.len < sizeof oh + sizeof v || oh.len > n - pos || oh.level != IPPROTO_IP)
			return EINVAL;
		memcpy(&v, p + pos + sizeof oh, sizeof v);
		if (oh.name == IP_TTL && v >= 1 && v <= 255)
			d->dd_ttl = v;
		else if (oh.name == IP_TOS && v >= 0 && v <= 255)
			d->dd_tos = v;
		else
			return EINVAL;
		pos += _TPI_ALIGN_TOPT(oh.len);
	}
	return 0;
}

/* The IP_UNITDATA_REQ block: mp (one block, consumed; may be NULL) itself
 * when we may rewrite it, else a new one.  NULL if none can be had. */
static mblk_t *
dgram_req_block(mblk_t *mp)
{
	if (mp != NULL && DB_REF(mp) == 1 && MBLKSIZE(mp) >= sizeof(struct ip_unitdata_req)) {
		mp->b_rptr = mp->b_wptr = DB_BASE(mp);
	} else {
		freemsg(mp);
		mp = allocb(sizeof(struct ip_unitdata_req), BPRI_MED);
		if (mp == NULL)
			return NULL;
	}
	DB_TYPE(mp) = M_PROTO;
	return mp;
}

/* Sends one datagram to d.  mp is the whole message (a T_UNITDATA_REQ whose
 * b_cont is data, or the M_DATA data itself).  Returns DGRAM_RETRY (mp
 * untouched, wq waits on the lower) or DGRAM_DONE (mp consumed). */
static int
dgram_send(queue_t *wq, mblk_t *mp, mblk_t *data, const DgramDest *d)
{
	DgramEp *ep = wq->q_ptr;
	DgramStack *ds = ep->de_ds;
	const DgramProto *dp = ds->ds_proto;
	if (data != NULL && msgdsize(data) > dp->dp_max_payload(ep))
		return dgram_send_fail(ep, mp, d->dd_addr, d->dd_port, EMSGSIZE);
	if (dgram_autobind(ep) != 0)
		return dgram_send_fail(ep, mp, d->dd_addr, d->dd_port, EAGAIN);
	if (ds->ds_lower == NULL || ds->ds_ipstate != DGRAM_IP_BOUND)
		return dgram_send_fail(ep, mp, d->dd_addr, d->dd_port, ENETDOWN);
	if (!us_mux_lower_canput(ds->ds_lower)) {
		us_mux_lower_wait(ds->ds_lower, wq);
		return DGRAM_RETRY;
	}
	struct ip_unitdata_req req = {
		.prim = IP_UNITDATA_REQ,
		.dst = d->dd_addr,
		.src = ep->de_lsrc,
		.ttl = (uint8_t)(d->dd_ttl >= 0   ? d->dd_ttl
				 : ep->de_ttl > 0 ? ep->de_ttl
						  : 0),
		.tos = (uint8_t)(d->dd_tos >= 0 ? d->dd_tos : ep->de_tos),
		.flags = (ep->de_broadcast ? IP_F_BROADCAST : 0) |
			 (ep->de_dontroute ? IP_F_DONTROUTE : 0),
		.cookie = ep->de_cookie,
	};
	if (data == mp) /* M_DATA: the data is the whole message */
		mp = NULL;
	else
		mp->b_cont = NULL;
	mblk_t *ctl = dgram_req_block(mp);
	if (ctl == NULL)
		return dgram_send_fail(ep, data, d->dd_addr, d->dd_port, ENOBUFS);
	int err = 0;
	mblk_t *payload = dp->dp_output(ep, d, data, &req, &err);
	if (payload == NULL) {
		freeb(ctl);
		return dgram_send_fail(ep, NULL, d->dd_addr, d->dd_port, err);
	}
	memcpy(ctl->b_wptr, &req, sizeof req);
	ctl->b_wptr += sizeof req;
	ctl->b_cont = payload;
	ep->de_last_dst = d->dd_addr;
	DGRAM_COUNT(ds, ep, dm_out_datagrams);
	putnext(ds->ds_lower->ml_qbot, ctl);
	return DGRAM_DONE;
}

static int
dgram_t_unitdata(queue_t *wq, mblk_t *mp)
{
	DgramEp *ep = wq->q_ptr;
	const DgramProto *dp = ep->de_ds->ds_proto;
	struct T_unitdata_req ur;
	DgramDest d = { .dd_ttl = -1, .dd_tos = -1 };
	gboolean present;
	if (MBLKL(mp) < sizeof ur)
		return dgram_send_fail(ep, mp, INADDR_ANY, 0, EINVAL);
	memcpy(&ur, mp->b_rptr, sizeof ur);
	int err = us_tpi_sin_get(mp, ur.DEST_length, ur.DEST_offset, &present, &d.dd_addr,
				 &d.dd_port);
	if (err != 0)
		return dgram_send_fail(ep, mp, INADDR_ANY, 0, err);
	if (dp->dp_raw)
		d.dd_port = 0;
	if (!present) {
		if (!ep->de_connected)
			return dgram_send_fail(ep, mp, INADDR_ANY, 0, EDESTADDRREQ);
		d.dd_addr = ep->de_raddr;
		d.dd_port = ep->de_rport;
	} else if (!dp->dp_raw && d.dd_port == 0) {
		return dgram_send_fail(ep, mp, d.dd_addr, d.dd_port, EINVAL);
	}
	if (ur.OPT_length != 0) {
		err = dgram_unitdata_opts(mp, ur.OPT_length, ur.OPT_offset, &d);
		if (err != 0)
			return dgram_send_fail(ep, mp, d.dd_addr, d.dd_port, err);
	}
	return dgram_send(wq, mp, mp->b_cont, &d);
}

/* M_DATA: a datagram to the peer of a connected endpoint (send(2)). */
static int
dgram_data(queue_t *wq, mblk_t *mp)
{
	DgramEp *ep = wq->q_ptr;
	if (!ep->de_connected)
		return dgram_send_fail(ep, mp, INADDR_ANY, 0, EDESTADDRREQ);
	DgramDest d = {
		.dd_addr = ep->de_raddr, .dd_port = ep->de_rport, .dd_ttl = -1, .dd_tos = -1
	};
	return dgram_send(wq, mp, mp, &d);
}

/* ------------------------------------------------------------------ */
/* Upper write side                                                   */
/* ------------------------------------------------------------------ */

/* One message from the user: a TPI request or data. */
static int
dgram_wproc(queue_t *wq, mblk_t *mp)
{
	t_scalar_t prim;
	if (DB_TYPE(mp) == M_DATA)
		return dgram_data(wq, mp);
	if (MBLKL(mp) < sizeof prim) {
		us_drop(wq, mp, DGRAM_DROP_TPI);
		return DGRAM_DONE;
	}
	memcpy(&prim, mp->b_rptr, sizeof prim);
	switch (prim) {
	case T_INFO_REQ: dgram_t_info(wq, mp); break;
	case T_CAPABILITY_REQ: dgram_t_capability(wq, mp); break;
	case T_ADDR_REQ: dgram_t_addr(wq, mp); break;
	case T_BIND_REQ:
	case O_T_BIND_REQ: dgram_t_bind(wq, mp, prim); break;
	case T_UNBIND_REQ: dgram_t_unbind(wq, mp); break;
	case T_SVR4_OPTMGMT_REQ: dgram_t_optmgmt(wq, mp); break;
	case T_CONN_REQ: dgram_t_conn(wq, mp); break;
	case T_DISCON_REQ: dgram_t_discon(wq, mp); break;
	case T_UNITDATA_REQ: return dgram_t_unitdata(wq, mp);
	default: dgram_error_ack(wq, mp, prim, TNOTSUPPORT, 0); break;
	}
	return DGRAM_DONE;
}

static const UsMuxLinkOps dgram_link_ops;

/* The link ioctls; every other ioctl is refused (EINVAL). */
static void
dgram_ioctl(queue_t *wq, mblk_t *mp)
{
	DgramStack *ds = dgram_stack_of(wq);
	if (us_mux_handle_link_ioctl(wq, mp, ds->ds_lowers, &dgram_link_ops))
		return;
	if (MBLKL(mp) < sizeof(struct iocblk)) {
		us_drop(wq, mp, DGRAM_DROP_TPI); /* too short to answer */
		return;
	}
	miocnak(wq, mp, 0, EINVAL);
}

/* TRUE for the requests answered whatever the endpoint is waiting for (and
 * for a block too short to name one, which is dropped at once). */
static gboolean
dgram_answer_now(const mblk_t *mp)
{
	t_scalar_t prim;
	if (MBLKL(mp) < sizeof prim)
		return TRUE;
	memcpy(&prim, mp->b_rptr, sizeof prim);
	return prim == T_INFO_REQ || prim == T_ADDR_REQ || prim == T_CAPABILITY_REQ;
}

/* Upper write put: T_INFO_REQ, T_ADDR_REQ and T_CAPABILITY_REQ in M_PCPROTO
 * are answered at once; the rest keeps its order behind what waits on the
 * queue, and waits while the endpoint waits for ip (another request sent as
 * M_PCPROTO is taken as the M_PROTO it should have been). */
int
dgram_uwput(queue_t *wq, mblk_t *mp)
{
	DgramEp *ep = wq->q_ptr;
	switch (DB_TYPE(mp)) {
	case M_PCPROTO:
		if (dgram_answer_now(mp) || DB_REF(mp) != 1) {
			if (dgram_wproc(wq, mp) == DGRAM_RETRY)
				dgram_send_fail(ep, mp, INADDR_ANY, 0, ENOBUFS);
			break;
		}
		DB_TYPE(mp) = M_PROTO;
		/* FALLTHROUGH */
	case M_PROTO:
	case M_DATA:
		if (wq->q_first != NULL || ep->de_pend != DGRAM_PEND_NONE ||
		    dgram_wproc(wq, mp) == DGRAM_RETRY)
			putq(wq, mp);
		break;
	case M_IOCTL: dgram_ioctl(wq, mp); break;
	default: us_default_put(wq, mp); break; /* M_FLUSH canonically */
	}
	return 0;
}

/* Upper write service: runs when the lower drained or ip answered; goes on
 * until the lower is full again or the endpoint waits for ip. */
int
dgram_uwsrv(queue_t *wq)
{
	DgramEp *ep = wq->q_ptr;
	mblk_t *mp;
	while (ep->de_pend == DGRAM_PEND_NONE && (mp = getq(wq)) != NULL) {
		if (dgram_wproc(wq, mp) == DGRAM_RETRY) {
			putbq(wq, mp);
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The ip lower: link, unlink, the IP_BIND handshake                  */
/* ------------------------------------------------------------------ */

/* The first lower is ip: bind our protocol there.  A second one: EBUSY. */
static int
dgram_on_link(queue_t *upper_wq, UsMuxLower *lower)
{
	DgramStack *ds = dgram_stack_of(upper_wq);
	const DgramProto *dp = ds->ds_proto;
	if (ds->ds_lower != NULL)
		return EBUSY;
	struct ip_bind_req br = { .prim = IP_BIND_REQ,
				  .proto = dp->dp_bind_proto,
				  .flags = dp->dp_bind_flags };
	/* Recorded first: ip may answer before putnext returns. */
	ds->ds_lower = lower;
	ds->ds_ipstate = DGRAM_IP_BINDING;
	ds->ds_iperror = 0;
	if (!us_mux_lower_send_proto(lower, &br, sizeof br)) {
		ds->ds_lower = NULL;
		ds->ds_ipstate = DGRAM_IP_NONE;
		return ENOSR;
	}
	g_debug("%s: ip linked (muxid %d), IP_BIND_REQ sent", dp->dp_name, lower->ml_muxid);
	return 0;
}

/* The lower goes: ip is unbound (so the stream can be linked again), the
 * questions in flight fail, datagrams fail with ENETDOWN from now on. */
static void
dgram_on_unlink(queue_t *upper_wq, UsMuxLower *lower)
{
	DgramStack *ds = dgram_stack_of(upper_wq);
	if (lower != ds->ds_lower)
		return;
	if (ds->ds_ipstate == DGRAM_IP_BINDING || ds->ds_ipstate == DGRAM_IP_BOUND) {
		struct ip_unbind_req ur = { .prim = IP_UNBIND_REQ };
		if (!us_mux_lower_send_proto(lower, &ur, sizeof ur))
			us_drop(upper_wq, NULL, DGRAM_DROP_NOMEM);
	}
	ds->ds_lower = NULL;
	ds->ds_ipstate = DGRAM_IP_NONE;
	dgram_routes_fail(ds, ENETDOWN);
}

static const UsMuxLinkOps dgram_link_ops = {
	.on_link = dgram_on_link,
	.on_unlink = dgram_on_unlink,
	.unlink_drop_reason = DGRAM_DROP_UNLINKED,
};

/* ------------------------------------------------------------------ */
/* Lower read side: what ip sends up                                  */
/* ------------------------------------------------------------------ */

/* Copies the fixed part of a primitive from ip; FALSE if it is short. */
static gboolean
dgram_prim_read(const mblk_t *mp, void *out, size_t len)
{
	if (MBLKL(mp) < len)
		return FALSE;
	memcpy(out, mp->b_rptr, len);
	return TRUE;
}

static void
dgram_ip_error_ack(DgramStack *ds, queue_t *q, mblk_t *mp)
{
	struct ip_error_ack ea;
	if (!dgram_prim_read(mp, &ea, sizeof ea)) {
		dgram_drop(ds, q, mp, DGRAM_DROP_BADPRIM);
		return;
	}
	switch (ea.error_prim) {
	case IP_ROUTE_REQ: dgram_route_answer(ds, q, mp, NULL, (int)ea.error); break;
	case IP_BIND_REQ:
		if (ds->ds_ipstate != DGRAM_IP_BINDING) {
			dgram_drop(ds, q, mp, DGRAM_DROP_LATE);
			break;
		}
		ds->ds_ipstate = DGRAM_IP_FAILED;
		ds->ds_iperror = (int)ea.error;
		g_warning("%s: ip refused IP_BIND_REQ: %s", ds->ds_proto->dp_name,
			  g_strerror((int)ea.error));
		freemsg(mp);
		break;
	default: dgram_drop(ds, q, mp, DGRAM_DROP_LATE); break;
	}
}

static void
dgram_ip_ack(DgramStack *ds, queue_t *q, mblk_t *mp, uint32_t prim)
{
	if (prim == IP_BIND_ACK && ds->ds_ipstate == DGRAM_IP_BINDING) {
		ds->ds_ipstate = DGRAM_IP_BOUND;
		g_debug("%s: bound at ip", ds->ds_proto->dp_name);
		freemsg(mp);
		return;
	}
	struct ip_ok_ack oa;
	if (prim == IP_OK_ACK && dgram_prim_read(mp, &oa, sizeof oa) &&
	    oa.correct_prim == IP_UNBIND_REQ) {
		freemsg(mp);
		return;
	}
	dgram_drop(ds, q, mp, DGRAM_DROP_LATE);
}

static void
dgram_ip_uderror(DgramStack *ds, queue_t *q, mblk_t *mp)
{
	struct ip_uderror_ind u;
	uint16_t dport = 0;
	if (!dgram_prim_read(mp, &u, sizeof u)) {
		dgram_drop(ds, q, mp, DGRAM_DROP_BADPRIM);
		return;
	}
	/* The cookie names the sender exactly; the protocol's guess (from the
	 * returned payload) is for an ip that does not echo it. */
	DgramEp *ep = ds->ds_proto->dp_uderror_ep(ds, &u, mp->b_cont, &dport);
	DgramEp *sender = g_hash_table_lookup(ds->ds_cookies, GUINT_TO_POINTER(u.cookie));
	if (sender != NULL)
		ep = sender;
	if (ep == NULL) {
		dgram_drop(ds, q, mp, DGRAM_DROP_UDERROR);
		return;
	}
	freemsg(mp);
	DGRAM_COUNT(ds, ep, dm_out_errors);
	dgram_uderror(ep, u.dst, dport, (int)u.error);
}

static void
dgram_ip_prim(DgramStack *ds, queue_t *q, mblk_t *mp)
{
	const DgramProto *dp = ds->ds_proto;
	uint32_t prim;
	union {
		struct ip_unitdata_ind ui;
		struct ip_icmp_ind ii;
		struct ip_route_ack ra;
	} u;
	if (!dgram_prim_read(mp, &prim, sizeof prim)) {
		dgram_drop(ds, q, mp, DGRAM_DROP_BADPRIM);
		return;
	}
	switch (prim) {
	case IP_UNITDATA_IND:
		if (!dgram_prim_read(mp, &u.ui, sizeof u.ui) || mp->b_cont == NULL)
			dgram_drop(ds, q, mp, DGRAM_DROP_BADPRIM);
		else
			dp->dp_input(ds, q, mp, &u.ui);
		break;
	case IP_ICMP_IND:
		if (!dgram_prim_read(mp, &u.ii, sizeof u.ii))
			dgram_drop(ds, q, mp, DGRAM_DROP_BADPRIM);
		else
			dp->dp_icmp(ds, q, mp, &u.ii);
		break;
	case IP_ROUTE_ACK:
		if (!dgram_prim_read(mp, &u.ra, sizeof u.ra))
			dgram_drop(ds, q, mp, DGRAM_DROP_BADPRIM);
		else
			dgram_route_answer(ds, q, mp, &u.ra, 0);
		break;
	case IP_UDERROR_IND: dgram_ip_uderror(ds, q, mp); break;
	case IP_ERROR_ACK: dgram_ip_error_ack(ds, q, mp); break;
	case IP_BIND_ACK:
	case IP_OK_ACK: dgram_ip_ack(ds, q, mp, prim); break;
	default: dgram_drop(ds, q, mp, DGRAM_DROP_BADPRIM); break;
	}
}

/* Lower read put: everything from ip is handled at once (nothing waits
 * here, so ip is never held back). */
int
dgram_lrput(queue_t *q, mblk_t *mp)
{
	DgramStack *ds = dgram_stack_of(q);
	UsMuxLower *lo = us_mux_lower_of(q);
	if (ds == NULL) {
		us_drop(q, mp, US_DROP_UNHANDLED);
		return 0;
	}
	if (lo == NULL || lo != ds->ds_lower) {
		dgram_drop(ds, q, mp, DGRAM_DROP_UNLINKED); /* unlinked, not yet given back */
		return 0;
	}
	switch (DB_TYPE(mp)) {
	case M_PROTO:
	case M_PCPROTO: dgram_ip_prim(ds, q, mp); break;
	case M_FLUSH: us_mux_lower_flush(q, mp); break;
	default: dgram_drop(ds, q, mp, DGRAM_DROP_BADPRIM); break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Services for the protocols                                         */
/* ------------------------------------------------------------------ */

void
dgram_deliver(DgramEp *ep, uint32_t src, uint16_t sport, mblk_t *data)
{
	DgramStack *ds = ep->de_ds;
	if (!canputnext(ep->de_rq)) {
		DGRAM_COUNT(ds, ep, dm_rcvbuf_errors);
		DGRAM_COUNT(ds, ep, dm_in_errors);
		us_drop(ep->de_rq, data, DGRAM_DROP_RCVBUF);
		return;
	}
	struct T_unitdata_ind ui = { .PRIM_type = T_UNITDATA_IND,
				     .SRC_length = DGRAM_ADDR_SIZE,
				     .SRC_offset = sizeof ui };
	mblk_t *mp = allocb(sizeof ui + DGRAM_ADDR_SIZE, BPRI_MED);
	if (mp == NULL) {
		DGRAM_COUNT(ds, ep, dm_in_errors);
		us_drop(ep->de_rq, data, DGRAM_DROP_NOMEM);
		return;
	}
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, &ui, sizeof ui);
	us_tpi_sin_put(mp->b_wptr + sizeof ui, src, sport);
	mp->b_wptr += sizeof ui + DGRAM_ADDR_SIZE;
	mp->b_cont = data;
	DGRAM_COUNT(ds, ep, dm_in_datagrams);
	putnext(ep->de_rq, mp);
}

void
dgram_reject(DgramStack *ds, queue_t *lrq, mblk_t *ctl, mblk_t *dgram, uint8_t type, uint8_t code)
{
	struct ip_reject_req rr = { .prim = IP_REJECT_REQ, .type = type, .code = code };
	if (ctl != NULL && (DB_REF(ctl) != 1 || MBLKSIZE(ctl) < sizeof rr || ctl->b_cont != NULL)) {
		freemsg(ctl);
		ctl = NULL;
	}
	if (ctl == NULL)
		ctl = allocb(sizeof rr, BPRI_MED);
	if (ctl == NULL || ds->ds_lower == NULL) {
		freemsg(ctl);
		dgram_drop(ds, lrq, dgram, DGRAM_DROP_NOMEM);
		return;
	}
	DB_TYPE(ctl) = M_PROTO;
	ctl->b_rptr = ctl->b_wptr = DB_BASE(ctl);
	memcpy(ctl->b_wptr, &rr, sizeof rr);
	ctl->b_wptr += sizeof rr;
	ctl->b_cont = dgram;
	putnext(ds->ds_lower->ml_qbot, ctl);
}

gboolean
dgram_quote_parse(const mblk_t *quote, DgramQuote *dq)
{
	uint8_t h[20];
	size_t total = quote != NULL ? msgdsize(quote) : 0;
	memset(dq, 0, sizeof *dq);
	if (total < sizeof h || us_msgcopyout(quote, 0, h, sizeof h) != sizeof h)
		return FALSE;
	size_t hlen = (size_t)(h[0] & 0x0f) * 4;
	if ((h[0] >> 4) != 4 || hlen < sizeof h || total < hlen)
		return FALSE;
	dq->dq_proto = h[9];
	memcpy(&dq->dq_src, h + 12, 4);
	memcpy(&dq->dq_dst, h + 16, 4);
	dq->dq_hlen = hlen;
	dq->dq_tlen = total - hlen;
	us_msgcopyout(quote, hlen, dq->dq_th, MIN(dq->dq_tlen, sizeof dq->dq_th));
	return TRUE;
}

gboolean
dgram_icmp_hard(uint8_t type, uint8_t code)
{
	switch (type) {
	case 3: /* destination unreachable */
		switch (code) {
		case 2:  /* protocol */
		case 3:  /* port */
		case 4:  /* fragmentation needed: EMSGSIZE, Linux's PMTU discovery default */
		case 6:  /* destination network unknown */
		case 7:  /* destination host unknown */
		case 8:  /* source host isolated */
		case 9:  /* network administratively prohibited */
		case 10: /* host administratively prohibited */
		case 13: /* communication administratively prohibited */
		case 14: /* host precedence violation */
		case 15: /* precedence cutoff */ return TRUE;
		default: return FALSE; /* net/host unreachable (for TOS), source route failed */
		}
	case 12: return TRUE;  /* parameter problem: EPROTO */
	default: return FALSE; /* time exceeded and the rest are soft */
	}
}

/* ------------------------------------------------------------------ */
/* Parameters and drop reasons                                        */
/* ------------------------------------------------------------------ */

static gboolean
dgram_param_rcvbuf(queue_t *rq, const UsParamDesc *param, GError **error)
{
	(void)param;
	(void)error;
	dgram_setopts(rq->q_ptr, SO_HIWAT | SO_LOWAT);
	return TRUE;
}

static gboolean
dgram_param_sndbuf(queue_t *rq, const UsParamDesc *param, GError **error)
{
	(void)param;
	(void)error;
	dgram_apply_sndbuf(rq->q_ptr);
	return TRUE;
}

const UsParamDesc dgram_params[] = {
	{ .name = "rcvbuf",
	  .description = "receive buffer in bytes (SO_RCVBUF)",
	  .type = US_PARAM_UINT,
	  .offset = offsetof(DgramEp, de_rcvbuf),
	  .min = DGRAM_RCVBUF_MIN,
	  .max = DGRAM_BUF_MAX,
	  .on_set = dgram_param_rcvbuf },
	{ .name = "sndbuf",
	  .description = "send buffer in bytes (SO_SNDBUF)",
	  .type = US_PARAM_UINT,
	  .offset = offsetof(DgramEp, de_sndbuf),
	  .min = DGRAM_SNDBUF_MIN,
	  .max = DGRAM_BUF_MAX,
	  .on_set = dgram_param_sndbuf },
	{ 0 },
};

/* Indexed by DGRAM_DROP_* (dgram.h). */
const char *const dgram_drop_reasons[] = {
	"malformed or unknown primitive from ip",
	"datagram shorter than its headers",
	"udp length field below 8 or beyond the datagram",
	"bad checksum",
	"datagram for no endpoint (udp: unicast, port unreachable sent; raw: no endpoint of its "
	"protocol)",
	"broadcast or multicast datagram for no endpoint",
	"receive buffer full",
	"filtered by ICMP_FILTER",
	"no memory",
	"lower stream unlinked",
	"queued on an endpoint when it closed",
	"ICMP error not reported (unconnected endpoint, soft error, or no endpoint)",
	"IP_UDERROR_IND for no endpoint",
	"datagram refused (T_UDERROR_IND sent)",
	"TPI message too short or of an unexpected type",
	"ip acknowledgement nobody waits for",
	NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(dgram_drop_reasons) == DGRAM_DROP_N + 1);
