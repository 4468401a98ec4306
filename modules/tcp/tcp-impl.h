/* SPDX-License-Identifier: MIT */
/*
 * tcp-impl.h -- what the files of the tcp driver share (tcp.c, tcp-tpi.c,
 * tcp-demux.c, tcp-opt.c): the per-stack state, the per-endpoint state, the
 * per-connection wrapper around the sans-I/O core, and the functions they
 * call across files.  Private to the library.  The theory is in tcp.c.
 *
 * Byte order: addresses in network order (as in sockaddr_in and ip.h),
 * ports in host order.
 */
#ifndef USTREAMS_TCP_IMPL_H
#define USTREAMS_TCP_IMPL_H

#include "ip.h"
#include "mux.h"
#include "tcp-core.h"
#include "tcp.h"

#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/tihdr.h>
#include <ustreams/world.h>

#include <glib.h>
#include <netinet/in.h>

typedef struct TcpStack TcpStack;
typedef struct TcpEp TcpEp;
typedef struct TcpPcb TcpPcb;

#define TCP_WROFF 80 /* headroom in front of a header: ip 20 + options + ether 14 + slack */
#define TCP_LISTEN_KEY_LEN 2
#define TCP_AUTOTUNE_MAX (4 * 1024 * 1024) /* how far auto-tuning grows SO_RCVBUF */

/* Where ip stands for this transport (ts_ipstate). */
enum {
	TCP_IP_NONE,    /* no lower linked */
	TCP_IP_BINDING, /* IP_BIND_REQ sent */
	TCP_IP_BOUND,   /* IP_BIND_ACK: segments may go */
	TCP_IP_FAILED,  /* ip refused the binding */
};

/* What an IP_ROUTE_REQ in flight is for (TcpRouteWait.rw_kind). */
enum {
	TCP_RW_BIND,    /* T_BIND_REQ of a specific address: is it ours? */
	TCP_RW_CONNECT, /* T_CONN_REQ: source address and MTU */
	TCP_RW_SYN,     /* a SYN for a listener: the MTU toward the peer */
};

/* An IP_ROUTE_REQ in flight (ts_routes, FIFO: ip answers in order). */
typedef struct {
	int rw_kind;
	uint32_t rw_dst;
	TcpEp *rw_ep;   /* TCP_RW_BIND, TCP_RW_CONNECT (NULL once it closed) */
	TcpPcb *rw_pcb; /* TCP_RW_SYN (NULL once it went) */
} TcpRouteWait;

/* Per-stack parameters as the registry sees them (a copy in every
 * endpoint, kept equal: setting one through any stream sets them all). */
typedef struct {
	guint64 sp_rto_min_ms, sp_rto_max_ms, sp_rto_init_ms, sp_delack_ms;
	guint64 sp_time_wait_ms, sp_fin_wait_2_ms;
	guint64 sp_retries, sp_syn_retries, sp_synack_retries;
	guint64 sp_challenge;
	gboolean sp_syncookies, sp_sack, sp_ts, sp_wscale, sp_autotune;
	char *sp_cc; /* default congestion control (a copy per endpoint) */
} TcpStackParams;

/* Per-stack state, us_stack_get_data(stack, "tcp"). */
struct TcpStack {
	TcpCtx ts_ctx;        /* shared with the core: parameters, counters, secrets */
	TcpStackParams ts_sp; /* the parameters as set */
	UsStack *ts_stack;
	UsWorld *ts_world;
	UsMuxUppers *ts_uppers; /* clone minors -> TcpEp */
	UsMuxLowers *ts_lowers;
	UsMuxLower *ts_lower;        /* the ip lower, or NULL */
	int ts_ipstate;              /* TCP_IP_* */
	gboolean ts_dying;           /* the stack is being freed: send nothing */
	UsMuxTuples *ts_conns;       /* {laddr, lport, raddr, rport} -> TcpPcb */
	UsMuxTuples *ts_listen;      /* {laddr, lport} -> listening TcpEp */
	queue_t ts_anchor;           /* the queue tuples are bound to (never used as a queue) */
	GHashTable *ts_ports;        /* port -> GQueue of TcpEp holding it, in bind order */
	GHashTable *ts_orphan_ports; /* port -> count of orphaned connections on it */
	GQueue ts_routes;            /* TcpRouteWait *, oldest first */
	GHashTable *ts_cookies;      /* ip cookie -> TcpPcb (IP_UDERROR_IND) */
	guint32 ts_next_cookie;
	GQueue ts_orphans;        /* TcpPcb * the user closed, still running */
	t_scalar_t ts_next_seqno; /* SEQ_number of T_CONN_IND */
	uint32_t ts_mtu_hint;     /* the last route MTU ip gave (cookie SYN,ACKs) */
	TcpPcb *ts_last;          /* the connection the last segment was for (a cache) */
	guint64 ts_last_overflow; /* when a SYN queue last overflowed (ns) */
};

/* Per-endpoint state (q_ptr of both upper queues).  The descriptor's
 * parameter and statistic tables read fields of it. */
struct TcpEp {
	TcpMib te_mib;        /* what happened on this endpoint: first */
	guint64 te_rcvbuf;    /* SO_RCVBUF (parameter "rcvbuf") */
	guint64 te_sndbuf;    /* SO_SNDBUF (parameter "sndbuf") */
	TcpStackParams te_sp; /* the stack's parameters (a mirror) */
	TcpStack *te_ts;
	queue_t *te_rq;      /* our upper read queue */
	guint te_minor;      /* clone minor, also ACCEPTOR_id */
	GList *te_node;      /* unused */
	t_scalar_t te_state; /* TPI state */
	gboolean te_bound;   /* holds te_lport in ts_ports */
	uint32_t te_laddr;   /* local address (the connection's once connected) */
	uint32_t te_baddr;   /* the address given at bind */
	uint16_t te_lport;
	TcpPcb *te_pcb; /* the connection, or NULL */
	/* A listener (te_backlog > 0). */
	guint te_backlog;
	GQueue te_synq;    /* TcpPcb not yet established */
	GQueue te_acceptq; /* TcpPcb announced with T_CONN_IND */
	/* Waiting for ip (TCP_RW_BIND / TCP_RW_CONNECT). */
	gboolean te_pend;
	t_scalar_t te_pend_prim;
	t_scalar_t te_pend_state;
	uint32_t te_pend_addr;
	uint16_t te_pend_port;
	/* Options. */
	gboolean te_reuseaddr, te_reuseport, te_keepalive, te_nodelay, te_cork, te_oobinline;
	int te_linger_onoff, te_linger_secs;
	int te_ttl, te_tos;
	int te_maxseg;                             /* TCP_MAXSEG, 0 none */
	int te_keepidle, te_keepintvl, te_keepcnt; /* seconds, count */
	int te_syncnt, te_linger2;                 /* 0: the stack's */
	char te_cc[TCP_CA_NAME_MAX];               /* "" : the stack's default */
	gboolean te_mark_next;                     /* the next data up carries the urgent mark */
	gboolean te_rcvbuf_set;                    /* SO_RCVBUF was set: no auto-tuning */
	gboolean te_sndbuf_set;                    /* SO_SNDBUF was set: no auto-tuning */
};

/* A connection: the core's TCB and what the driver needs around it. */
struct TcpPcb {
	TcpConn pc_tcb; /* first: a TcpConn * is a TcpPcb * */
	TcpStack *pc_ts;
	TcpEp *pc_ep;           /* the endpoint reading it, or NULL */
	TcpEp *pc_listener;     /* the listener holding it (not yet accepted) */
	gboolean pc_in_acceptq; /* in pc_listener's accept queue (else SYN queue) */
	t_scalar_t pc_seqno;    /* SEQ_number of its T_CONN_IND */
	UsMuxTuple pc_key;      /* its 4-tuple */
	gboolean pc_hashed;     /* in ts_conns */
	gboolean pc_orphan;     /* in ts_orphans */
	guint32 pc_cookie;      /* ours in IP_UNITDATA_REQ */
	guint64 pc_timer;       /* the world timer, 0 none */
	gint64 pc_timer_at;     /* its deadline */
	int pc_ttl, pc_tos;     /* IP_TTL (0: ip's), IP_TOS */
	gboolean pc_route_wait; /* a passive open waiting for the route */
	TcpSeg pc_syn;          /* the SYN that waits (no data) */
	/* Received before the accept: messages (b_next) for the acceptor. */
	mblk_t *pc_rcvq_head, *pc_rcvq_tail;
	uint32_t pc_rcvq_bytes;
	gboolean pc_fin_up;  /* T_ORDREL_IND owed to the acceptor */
	gint64 pc_at_start;  /* auto-tuning: when the current measurement began */
	guint64 pc_at_bytes; /* bytes delivered since */
	int pc_depth;        /* core calls in progress (no freeing inside) */
	gboolean pc_doomed;  /* free once the calls in progress return */
};

static inline TcpPcb *
tcp_pcb_of(TcpConn *c)
{
	return (TcpPcb *)c;
}

static inline gint64
tcp_now(const TcpStack *ts)
{
	return us_world_now(ts->ts_world);
}

/* ------------------------------------------------------------------ */
/* tcp.c                                                              */
/* ------------------------------------------------------------------ */

TcpStack *tcp_stack_find(UsStack *stack);
/* Counts and frees mp (consumed) against tcp, also on a lower queue. */
void tcp_drop(TcpStack *ts, queue_t *q, mblk_t *mp, guint reason);
/* A new connection attached to nothing, CLOSED, with the options of ep
 * (may be NULL). */
TcpPcb *tcp_pcb_new(TcpStack *ts, const TcpEp *ep);
/* To call after every core call on pcb: re-arms its timer and, when it is
 * CLOSED, takes it apart. */
void tcp_pcb_after(TcpPcb *pcb);
/* Takes pcb out of every table and frees it (must be CLOSED or about to
 * be dropped without a word). */
void tcp_pcb_destroy(TcpPcb *pcb);
/* The receive buffer auto-tuning may grow ep's to (its own when off). */
uint32_t tcp_ep_rcvbuf_max(const TcpEp *ep);
/* Applies an endpoint's options to its connection. */
void tcp_pcb_apply_opts(TcpPcb *pcb, const TcpEp *ep);
/* Sends a primitive up ep (mp consumed) behind what waits on its read
 * queue. */
void tcp_ep_up(TcpEp *ep, mblk_t *mp);
/* M_SETOPTS: the receive buffer as the head's water marks. */
void tcp_ep_setopts(TcpEp *ep);
void tcp_ep_apply_sndbuf(TcpEp *ep);
/* A reset for a segment no connection takes (RFC 9293 §3.10.7.1). */
void tcp_send_reset_for(TcpStack *ts, uint32_t src, uint32_t dst, const TcpSeg *seg);
/* Sends seg (data consumed) from src to dst outside any connection. */
void tcp_ip_send(TcpStack *ts, uint32_t src, uint32_t dst, TcpSeg *seg);
/* The link ioctls (others EINVAL). */
void tcp_ioctl(queue_t *wq, mblk_t *mp);
/* Sends a route question for w (owned by the queue); FALSE without ip. */
gboolean tcp_route_ask(TcpStack *ts, TcpRouteWait *w);

/* ------------------------------------------------------------------ */
/* tcp-tpi.c                                                          */
/* ------------------------------------------------------------------ */

int tcp_uwput(queue_t *wq, mblk_t *mp);
int tcp_uwsrv(queue_t *wq);
int tcp_ursrv(queue_t *rq);
void tcp_error_ack(queue_t *wq, mblk_t *mp, t_scalar_t prim, t_scalar_t tli, int err);
void tcp_ok_ack(queue_t *wq, mblk_t *mp, t_scalar_t prim);
/* ip answered a route question of ep (ra NULL: failed with err). */
void tcp_tpi_route_done(TcpEp *ep, int kind, const struct ip_route_ack *ra, int err);
/* Connection events the TPI side reports. */
void tcp_tpi_established(TcpPcb *pcb);
void tcp_tpi_conn_ind(TcpPcb *pcb);
void tcp_tpi_discon(TcpPcb *pcb, int err);
void tcp_tpi_ordrel(TcpPcb *pcb);
void tcp_tpi_deliver(TcpPcb *pcb, mblk_t *data, gboolean urgent);
/* The bytes the reader of pcb can still take. */
uint32_t tcp_tpi_rcv_space(TcpPcb *pcb);

/* ------------------------------------------------------------------ */
/* tcp-demux.c                                                        */
/* ------------------------------------------------------------------ */

/* IP_UNITDATA_IND (consumes mp). */
void tcp_input(TcpStack *ts, queue_t *lrq, mblk_t *mp, const struct ip_unitdata_ind *ind);
/* IP_ICMP_IND (consumes mp). */
void tcp_icmp(TcpStack *ts, queue_t *lrq, mblk_t *mp, const struct ip_icmp_ind *ii);
/* Ports: holds laddr:*portp (0: ephemeral) for ep; 0 or a TLI error. */
int tcp_port_hold(TcpEp *ep, uint32_t laddr, uint16_t *portp, gboolean may_move);
void tcp_port_release(TcpEp *ep);
/* Records ep on port without checks (an accepted connection's endpoint). */
void tcp_port_attach(TcpEp *ep, uint16_t port);
void tcp_orphan_port(TcpStack *ts, uint16_t port, int delta);
/* The 4-tuple table. */
int tcp_conn_hash(TcpPcb *pcb);
void tcp_conn_unhash(TcpPcb *pcb);
/* Listeners. */
int tcp_listen_start(TcpEp *ep, guint backlog);
void tcp_listen_stop(TcpEp *ep);
/* A listener's queues: a passive connection failed, closed or was
 * accepted. */
void tcp_listen_forget(TcpPcb *pcb);
/* The route for a waiting passive open arrived (ra NULL: none). */
void tcp_syn_route_done(TcpPcb *pcb, const struct ip_route_ack *ra);

/* ------------------------------------------------------------------ */
/* tcp-opt.c                                                          */
/* ------------------------------------------------------------------ */

void tcp_t_optmgmt(queue_t *wq, mblk_t *mp);
void tcp_ep_defaults(TcpEp *ep, TcpStack *ts);
extern const UsParamDesc tcp_params[];
void tcp_stack_params_init(TcpStack *ts);
void tcp_stack_params_free(TcpStackParams *sp);

#endif /* USTREAMS_TCP_IMPL_H */
