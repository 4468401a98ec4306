/* SPDX-License-Identifier: MIT */
/*
 * dgram-impl.h -- the interface between the connectionless transport core
 * (dgram.c) and the protocol files built on it (udp.c, icmp.c).  Private to
 * the library: not installed.  The theory is in dgram.c.
 *
 * A protocol supplies a DgramProto (what to bind at ip, how to build and
 * parse its datagrams, how to find endpoints) and its own streamtab whose
 * queue procedures are the dgram_* ones below, with a module_info whose
 * mi_idname is the protocol's name: the core finds its per-stack state
 * through that name.
 *
 * Byte order: addresses are kept in network order (as in sockaddr_in and
 * ip.h), ports in host order.
 */
#ifndef USTREAMS_DGRAM_IMPL_H
#define USTREAMS_DGRAM_IMPL_H

#include "dgram.h"
#include "ip.h"
#include "mux.h"

#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/tihdr.h>

#include <glib.h>
#include <netinet/in.h>

typedef struct DgramStack DgramStack;
typedef struct DgramEp DgramEp;
typedef struct DgramProto DgramProto;

/* Where ip stands for this transport (ds_ipstate). */
enum {
	DGRAM_IP_NONE,    /* no lower linked */
	DGRAM_IP_BINDING, /* IP_BIND_REQ sent, no answer yet */
	DGRAM_IP_BOUND,   /* IP_BIND_ACK received: datagrams may go */
	DGRAM_IP_FAILED,  /* IP_ERROR_ACK: ip refused the binding */
};

/* An operation of an endpoint waiting for IP_ROUTE_ACK (de_pend). */
enum {
	DGRAM_PEND_NONE,
	DGRAM_PEND_BIND, /* T_BIND_REQ to a specific address: is it ours? */
	DGRAM_PEND_CONN, /* T_CONN_REQ: which source address? */
};

/* Per-stack state, us_stack_get_data(stack, proto name). */
struct DgramStack {
	DgramMib ds_mib;            /* stack-wide counters: first, as in DgramEp */
	const DgramProto *ds_proto; /* the protocol this state belongs to */
	UsStack *ds_stack;          /* owner */
	UsMuxUppers *ds_uppers;     /* clone minors -> DgramEp */
	UsMuxLowers *ds_lowers;     /* linked lowers (at most one is used) */
	UsMuxLower *ds_lower;       /* the ip lower, or NULL */
	int ds_ipstate;             /* DGRAM_IP_* */
	int ds_iperror;             /* errno of a refused IP_BIND_REQ */
	GQueue ds_routes;           /* DgramEp * awaiting IP_ROUTE_ACK in order; NULL: closed */
	GHashTable *ds_cookies;     /* de_cookie -> DgramEp (IP_UDERROR_IND) */
	guint32 ds_next_cookie;     /* the last cookie handed out */
	GQueue ds_eps;              /* every endpoint, in open order */
	guint32 ds_seed;            /* hash seed (SO_REUSEPORT spreading), from the world */
	guint64 ds_bind_seq;        /* bind counter: de_bind_seq of the newest binding */
	gpointer ds_pdata;          /* the protocol's per-stack state */
};

/* Per-endpoint state (q_ptr of both upper queues).  The parameters and
 * statistics tables of the descriptors read fields of this structure. */
struct DgramEp {
	DgramMib de_mib;       /* this endpoint's counters: first, as in DgramStack */
	guint64 de_rcvbuf;     /* SO_RCVBUF: the stream head's hiwat (parameter "rcvbuf") */
	guint64 de_sndbuf;     /* SO_SNDBUF: our write queue's hiwat (parameter "sndbuf") */
	DgramStack *de_ds;     /* the stack's state */
	queue_t *de_rq;        /* our upper read queue */
	guint de_minor;        /* clone minor; also the ACCEPTOR_id */
	guint32 de_cookie;     /* ours in IP_UNITDATA_REQ, never reused in a stack */
	GList *de_node;        /* our link in ds_eps */
	t_scalar_t de_state;   /* TPI state: TS_UNBND, TS_WACK_BREQ, TS_IDLE, TS_WACK_CREQ,
				* TS_DATA_XFER */
	gboolean de_bound;     /* a local address (and udp port) is held */
	gboolean de_connected; /* a peer is set (de_raddr/de_rport) */
	uint32_t de_laddr;     /* local address now (connect may fill in the source) */
	uint32_t de_baddr;     /* local address given at bind (disconnect restores it) */
	uint32_t de_lsrc;      /* source address for IP_UNITDATA_REQ: de_laddr when it is a
				* unicast address of ours, else 0 (ip chooses) */
	uint32_t de_bsrc;      /* the same for de_baddr */
	uint16_t de_lport;     /* local port (udp), 0 for raw */
	uint32_t de_raddr;     /* peer address while connected */
	uint16_t de_rport;     /* peer port while connected (udp) */
	guint64 de_bind_seq;   /* when it bound (newer bindings win SO_REUSEADDR ties) */
	uint32_t de_last_dst;  /* destination of the last datagram sent */
	/* options */
	gboolean de_reuseaddr, de_reuseport, de_broadcast, de_dontroute, de_keepalive;
	int de_linger_onoff, de_linger_secs; /* SO_LINGER, kept for getsockopt only */
	int de_ttl;                          /* IP_TTL, -1: ip's default */
	int de_tos;                          /* IP_TOS */
	int de_proto;                        /* US_SO_PROTOTYPE: udp 17; raw: the IP protocol */
	gboolean de_nocheck;                 /* udp: SO_NO_CHECK, send without a checksum */
	gboolean de_hdrincl;                 /* raw: IP_HDRINCL */
	uint32_t de_icmp_filter;             /* raw ICMP: ICMP_FILTER, bit n drops type n */
	/* operation waiting for ip (DGRAM_PEND_*) */
	int de_pend;
	t_scalar_t de_pend_prim;  /* the primitive it answers */
	t_scalar_t de_pend_state; /* the state to return to on failure */
	uint32_t de_pend_addr;    /* the address asked about */
	uint16_t de_pend_port;    /* the port that goes with it */
};

/* A datagram to send, as the core parsed it from the user. */
typedef struct {
	uint32_t dd_addr; /* destination, network order */
	uint16_t dd_port; /* destination port (udp) */
	int dd_ttl;       /* -1: the endpoint's */
	int dd_tos;       /* -1: the endpoint's */
} DgramDest;

/* An option the protocol adds (for listing every option). */
typedef struct {
	t_uscalar_t do_level;
	t_uscalar_t do_name;
} DgramOptName;

/* Answer of DgramProto option hooks for an option they do not know. */
#define DGRAM_OPT_UNKNOWN (-1)

struct DgramProto {
	const char *dp_name;         /* registry name, per-stack data key, mi_idname */
	gboolean dp_raw;             /* raw IP semantics (no ports) */
	t_scalar_t dp_tsdu;          /* TSDU_size */
	int dp_socktype;             /* SO_TYPE */
	int dp_default_proto;        /* US_SO_PROTOTYPE of a new endpoint */
	uint32_t dp_bind_proto;      /* IP_BIND_REQ proto */
	uint32_t dp_bind_flags;      /* IP_BIND_REQ flags */
	const DgramOptName *dp_opts; /* protocol options, ended by level 0 name 0 */
	/* Per-stack protocol state: created with the stack's state, freed with it. */
	void (*dp_stack_init)(DgramStack *ds);
	void (*dp_stack_free)(DgramStack *ds);
	/* Holds a local port for ep (udp).  *portp: the port asked, 0 for an
	 * ephemeral one; on success the port held.  may_move: a busy port is
	 * replaced by an ephemeral one (O_T_BIND_REQ).  Returns 0 or a TLI
	 * error (TADDRBUSY, TNOADDR).  ep->de_laddr is not set yet. */
	int (*dp_bind)(DgramEp *ep, uint32_t laddr, uint16_t *portp, gboolean may_move);
	/* Releases what dp_bind held. */
	void (*dp_unbind)(DgramEp *ep);
	/* Largest payload ep may send in one datagram. */
	size_t (*dp_max_payload)(const DgramEp *ep);
	/* Turns the user's data (consumed, may be NULL) into the b_cont of
	 * IP_UNITDATA_REQ and fills in req's proto, flags and cksum_off.
	 * Returns NULL with an errno in *errp when it cannot (data freed). */
	mblk_t *(*dp_output)(DgramEp *ep, const DgramDest *d, mblk_t *data,
			     struct ip_unitdata_req *req, int *errp);
	/* IP_UNITDATA_IND (consumes mp; ind is its parsed header; mp->b_cont is
	 * not NULL).  lrq: the lower read queue, for drops. */
	void (*dp_input)(DgramStack *ds, queue_t *lrq, mblk_t *mp,
			 const struct ip_unitdata_ind *ind);
	/* IP_ICMP_IND (consumes mp; mp->b_cont may be NULL). */
	void (*dp_icmp)(DgramStack *ds, queue_t *lrq, mblk_t *mp, const struct ip_icmp_ind *ind);
	/* The endpoint that sent the datagram an IP_UDERROR_IND returns
	 * (payload may be NULL), and the destination port for T_UDERROR_IND. */
	DgramEp *(*dp_uderror_ep)(DgramStack *ds, const struct ip_uderror_ind *u,
				  const mblk_t *payload, uint16_t *dportp);
	/* Protocol options: 0, an errno, or DGRAM_OPT_UNKNOWN.  set must only
	 * store into ep (it also runs on a scratch copy for validation). */
	int (*dp_opt_set)(DgramEp *ep, t_uscalar_t level, t_uscalar_t name, int value);
	int (*dp_opt_get)(const DgramEp *ep, t_uscalar_t level, t_uscalar_t name, int *valuep);
	/* TRUE if US_SO_PROTOTYPE may be set to proto. */
	gboolean (*dp_proto_ok)(int proto);
};

/* Bumps a counter of the stack and of the endpoint (ep may be NULL). */
#define DGRAM_COUNT(ds, ep, field)                         \
	G_STMT_START                                       \
	{                                                  \
		(ds)->ds_mib.field++;                      \
		if ((ep) != NULL)                          \
			((DgramEp *)(ep))->de_mib.field++; \
	}                                                  \
	G_STMT_END

/* The fields of an IPv4 header quoted in an ICMP error, and the first
 * bytes of the transport header after it. */
typedef struct {
	uint32_t dq_src; /* network order: our address */
	uint32_t dq_dst; /* network order: where our datagram went */
	uint8_t dq_proto;
	size_t dq_hlen;   /* IP header bytes */
	size_t dq_tlen;   /* transport bytes quoted (at most 8 kept in dq_th) */
	uint8_t dq_th[8]; /* the first bytes of the transport header */
} DgramQuote;

/* ------------------------------------------------------------------ */
/* Queue procedures (every protocol's streamtab uses these)            */
/* ------------------------------------------------------------------ */

int dgram_open(const DgramProto *dp, queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp);
int dgram_close(queue_t *rq, int flag, cred_t *crp);
int dgram_uwput(queue_t *wq, mblk_t *mp);
int dgram_uwsrv(queue_t *wq);
int dgram_lrput(queue_t *rq, mblk_t *mp);

/* ------------------------------------------------------------------ */
/* Services for the protocol files                                     */
/* ------------------------------------------------------------------ */

/* Passes data (consumed; the payload, b_rptr at its first byte) up to ep as
 * T_UNITDATA_IND from src:sport, or drops it when ep's receive buffer is
 * full.  Counts dm_in_datagrams or the reason. */
void dgram_deliver(DgramEp *ep, uint32_t src, uint16_t sport, mblk_t *data);
/* Sends T_UDERROR_IND (DEST addr:port, ERROR_type error) up to ep. */
void dgram_uderror(DgramEp *ep, uint32_t addr, uint16_t port, int error);
/* Counts and frees mp (consumed) against the transport, also when q is a
 * lower queue. */
void dgram_drop(DgramStack *ds, queue_t *q, mblk_t *mp, guint reason);
/* Sends IP_REJECT_REQ type/code down with dgram (consumed; b_rptr at its IP
 * header).  ctl (consumed, may be NULL) is a block that may be reused. */
void dgram_reject(DgramStack *ds, queue_t *lrq, mblk_t *ctl, mblk_t *dgram, uint8_t type,
		  uint8_t code);
/* Parses the quoted datagram of an IP_ICMP_IND; FALSE if malformed. */
gboolean dgram_quote_parse(const mblk_t *quote, DgramQuote *dq);
/* TRUE for ICMP errors Linux reports to a connected socket without
 * IP_RECVERR ("hard" errors, net/ipv4/icmp.c icmp_err_convert). */
gboolean dgram_icmp_hard(uint8_t type, uint8_t code);
/* TRUE for 255.255.255.255 and 224.0.0.0/4 (addr in network order). */
gboolean dgram_addr_is_multi(uint32_t addr);
/* A hash of a datagram's addresses and ports, seeded per stack. */
guint32 dgram_flow_hash(const DgramStack *ds, uint32_t src, uint16_t sport, uint32_t dst,
			uint16_t dport);
/* A pseudo-random starting point in [0, n) from the world's generator. */
guint32 dgram_rand_below(DgramStack *ds, guint32 n);
/* Removes empty leading blocks of data (keeps one block); returns the new head. */
mblk_t *dgram_strip_empty(mblk_t *data);
/* The stack's state of the protocol named name, or NULL. */
DgramStack *dgram_stack_find(UsStack *stack, const char *name);
/* A statistic of a stack-wide counter block (table: the descriptor's). */
gboolean dgram_stack_stat(UsStack *stack, const char *name, const UsStatDesc *table,
			  const char *stat, guint64 *value);

/* Drop reason names (indexed by DGRAM_DROP_*), for the descriptors. */
extern const char *const dgram_drop_reasons[];
/* Parameters (rcvbuf, sndbuf) of an endpoint, for the descriptors. */
extern const UsParamDesc dgram_params[];

#endif /* USTREAMS_DGRAM_IMPL_H */
