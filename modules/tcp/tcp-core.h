/* SPDX-License-Identifier: MIT */
/*
 * tcp-core.h -- the sans-I/O TCP core: one connection (TcpConn) driven by
 * function calls that take a parsed segment, a user request or the current
 * time, and that produce segments through a callback and report events
 * through another.  Timers are deadlines the owner arms (tcp_conn_deadline)
 * and reports (tcp_conn_timer).  Nothing here touches a queue, a clock or a
 * global: the STREAMS driver (tcp.c) and the unit tests are two owners of
 * the same code.  The theory is in tcp-core.c.
 *
 * Ownership: functions taking an mblk_t consume it (the caller loses its
 * reference in all cases).  A segment handed to co_output owns seg_data.
 * Callbacks must not free the connection: the owner checks
 * tcp_conn_is_closed() when the call returns.
 */
#ifndef USTREAMS_TCP_CORE_H
#define USTREAMS_TCP_CORE_H

#include "tcp-wire.h"
#include "tcp.h"

#include <glib.h>
#include <ustreams/stream.h>

#define TCP_MSEC (G_GINT64_CONSTANT(1000000))
#define TCP_SEC (G_GINT64_CONSTANT(1000000000))

#define TCP_DEFAULT_MSS 536 /* RFC 9293 §3.7.1 (MUST-15): without the option */
#define TCP_DUPTHRESH 3     /* RFC 5681 §3.2, RFC 6675 §2 */
#define TCP_SCOREBOARD_MAX 64

/* Counters (MIB-II tcp group and the extras of tcp.h), kept per stack and
 * per endpoint. */
typedef struct {
	guint64 tm_active_opens;
	guint64 tm_passive_opens;
	guint64 tm_attempt_fails;
	guint64 tm_estab_resets;
	guint64 tm_curr_estab;
	guint64 tm_in_segs;
	guint64 tm_out_segs;
	guint64 tm_retrans_segs;
	guint64 tm_in_errs;
	guint64 tm_out_rsts;
	guint64 tm_in_csum_errors;
	guint64 tm_timeouts;
	guint64 tm_fast_retrans;
	guint64 tm_sack_recoveries;
	guint64 tm_reno_recoveries;
	guint64 tm_challenge_acks;
	guint64 tm_paws_drops;
	guint64 tm_syncookies_sent;
	guint64 tm_syncookies_recv;
	guint64 tm_syncookies_failed;
	guint64 tm_listen_overflows;
	guint64 tm_keepalive_probes;
	guint64 tm_persist_probes;
	guint64 tm_delayed_acks;
	guint64 tm_ofo_queued;
	guint64 tm_tw_recycled;
	guint64 tm_pmtu_updates;
} TcpMib;

/* Per-stack parameters the core reads (times in ns). */
typedef struct {
	gint64 tp_rto_min, tp_rto_max, tp_rto_init;
	gint64 tp_delack;
	gint64 tp_time_wait; /* 2 MSL */
	gint64 tp_fin_wait_2;
	guint tp_retries, tp_syn_retries, tp_synack_retries;
	gboolean tp_sack, tp_ts, tp_wscale;
	guint tp_challenge_limit; /* challenge ACKs per second (RFC 5961 §7) */
} TcpParams;

/* What connections of one stack share. */
typedef struct {
	TcpParams tx_params;
	TcpMib tx_mib;              /* stack-wide counters */
	guint64 tx_isn_key[2];      /* RFC 6528 secret */
	guint64 tx_cookie_key[2];   /* SYN cookie secret */
	gint64 tx_challenge_second; /* RFC 5961 §7: the second being counted */
	guint tx_challenge_count;   /* challenge ACKs sent in it */
	guint32 tx_ts_offset_seed;  /* per-connection timestamp offsets */
} TcpCtx;

typedef struct TcpConn TcpConn;

/* Events reported to the owner. */
typedef enum {
	TCP_EV_ESTABLISHED, /* the handshake completed */
	TCP_EV_FIN,         /* the peer's FIN, in order: end of its data */
	TCP_EV_RESET,       /* the connection failed (err: an errno); now CLOSED */
	TCP_EV_CLOSED,      /* it ended normally (LAST-ACK acked, TIME-WAIT over) */
	TCP_EV_SND_SPACE,   /* acknowledged data left the send buffer */
	TCP_EV_TIME_WAIT,   /* it entered TIME-WAIT */
} TcpEvent;

typedef struct {
	/* A segment to send: header fields, options and seg_data (consumed).
	 * Ports are filled in. */
	void (*co_output)(TcpConn *c, TcpSeg *seg);
	/* In-order data for the reader (consumed).  urgent: the last byte is
	 * the urgent byte (RFC 6093). */
	void (*co_deliver)(TcpConn *c, mblk_t *data, gboolean urgent);
	void (*co_event)(TcpConn *c, TcpEvent ev, int err);
	/* Bytes the reader can still take (the receive window before scaling). */
	uint32_t (*co_rcv_space)(TcpConn *c);
} TcpConnOps;

/* An out-of-order segment held for reassembly. */
typedef struct TcpOoo {
	struct TcpOoo *oo_next;
	uint32_t oo_seq; /* first byte */
	uint32_t oo_len; /* bytes */
	gboolean oo_fin; /* a FIN follows the last byte */
	mblk_t *oo_data;
} TcpOoo;

/* One connection (the transmission control block, RFC 9293 §3.3.1). */
struct TcpConn {
	TcpState tcb_state;
	TcpCtx *tcb_ctx;               /* shared per-stack state */
	const TcpConnOps *tcb_ops;     /* owner callbacks */
	gpointer tcb_owner;            /* for the owner */
	TcpMib *tcb_epmib;             /* the endpoint's counters, or NULL */
	uint32_t tcb_laddr, tcb_raddr; /* network order (ISN and cookies) */
	uint16_t tcb_lport, tcb_rport;
	gboolean tcb_passive; /* opened from a listener */
	gboolean tcb_orphan;  /* the user closed: no reader any more */
	int tcb_soft_error;   /* last ICMP soft error (reported on timeout) */
	int tcb_drop;         /* why the last segment was dropped (TCP_DROP_*, or TCP_DROP_N) */

	/* Send sequence variables (RFC 9293 §3.3.1). */
	uint32_t tcb_iss, tcb_snd_una, tcb_snd_nxt, tcb_snd_max;
	uint32_t tcb_snd_wnd, tcb_snd_wl1, tcb_snd_wl2, tcb_max_sndwnd;
	uint32_t tcb_snd_up; /* send urgent pointer (valid with tcb_snd_urg) */
	gboolean tcb_snd_urg;
	/* Receive sequence variables. */
	uint32_t tcb_irs, tcb_rcv_nxt, tcb_rcv_wnd, tcb_rcv_adv; /* rcv_adv: right edge sent */
	uint32_t tcb_rcv_up;
	gboolean tcb_rcv_urg; /* an urgent byte is pending in the stream */
	gboolean tcb_fin_rcvd;

	/* Options negotiated (RFC 7323, RFC 2018). */
	gboolean tcb_ws_ok, tcb_ts_ok, tcb_sack_ok;
	uint8_t tcb_snd_wscale, tcb_rcv_wscale;
	uint32_t tcb_ts_recent;     /* TS.Recent */
	gint64 tcb_ts_recent_age;   /* when it was set */
	uint32_t tcb_ts_offset;     /* our TSval = ms clock + this (RFC 7323 §5.4) */
	uint32_t tcb_last_ack_sent; /* Last.ACK.sent (RFC 7323 §4.3) */

	/* Sizes. */
	uint32_t tcb_mtu;        /* path MTU */
	uint32_t tcb_peer_mss;   /* the peer's MSS option (536 without) */
	uint32_t tcb_user_mss;   /* TCP_MAXSEG, 0 none */
	uint32_t tcb_mss;        /* Eff.snd.MSS: payload of a full segment */
	uint32_t tcb_lso_max;    /* the route takes HW_LSO packets this large, 0: no */
	uint32_t tcb_rcv_mss;    /* the MSS we advertised */
	uint32_t tcb_sndbuf;     /* SO_SNDBUF */
	uint32_t tcb_rcvbuf;     /* SO_RCVBUF (window scale choice) */
	uint32_t tcb_rcvbuf_max; /* what auto-tuning may grow it to (window scale) */

	/* Send buffer: the data from tcb_sndq_seq on, blocks linked by b_next. */
	mblk_t *tcb_sndq_head, *tcb_sndq_tail;
	uint32_t tcb_sndq_seq;     /* sequence number of the first byte */
	uint32_t tcb_sndq_bytes;   /* bytes held (unacknowledged and unsent) */
	mblk_t *tcb_sndq_cur;      /* a block to start searches from, */
	uint32_t tcb_sndq_cur_seq; /* and its first byte's sequence number */
	gboolean tcb_fin_queued;   /* the user is done sending: FIN after the data */

	/* Reassembly and SACK blocks to send (RFC 2018 §4). */
	TcpOoo *tcb_ooo;
	uint32_t tcb_ooo_bytes; /* bytes held out of order */
	guint tcb_nsack_out;
	TcpSackBlock tcb_sack_out[TCP_SACK_MAX];

	/* Retransmission (RFC 6298). */
	gint64 tcb_srtt, tcb_rttvar, tcb_rto, tcb_min_rtt;
	gboolean tcb_rtt_timing; /* a segment is being timed (Karn) */
	uint32_t tcb_rtt_seq;
	gint64 tcb_rtt_start;
	guint tcb_rxtshift; /* consecutive timeouts */
	gboolean tcb_syn_rexmitted;

	/* Congestion control (RFC 5681, 6582, 6675). */
	const TcpCcOps *tcb_ccops;
	TcpCcState tcb_cc;
	int tcb_ca_state;     /* TCP_CA_* */
	uint32_t tcb_recover; /* RecoveryPoint / "recover" of RFC 6582 */
	guint tcb_dupacks;
	uint32_t tcb_high_rxt; /* HighRxt (RFC 6675) */
	uint32_t tcb_rescue_rxt;
	gboolean tcb_rescue_valid;
	guint tcb_nsacked; /* the SACK scoreboard: sorted, disjoint */
	TcpSackBlock tcb_sacked[TCP_SCOREBOARD_MAX];
	uint32_t tcb_acked_acc;     /* bytes acknowledged toward the next cwnd step */
	gboolean tcb_partial_acked; /* RFC 6582: a partial ACK restarted the RTO */

	/* Acknowledgements. */
	guint tcb_unacked_segs; /* full segments received and not yet acked */
	gboolean tcb_ack_now;   /* send an ACK on the next output */

	/* Timers: deadlines in ns, 0 = not armed. */
	gint64 tcb_t_rexmt, tcb_t_persist, tcb_t_delack, tcb_t_keep, tcb_t_2msl, tcb_t_linger;
	guint tcb_persist_shift;
	guint tcb_keep_probes;
	gint64 tcb_last_rcv; /* when the last segment arrived (keepalive) */

	/* User options. */
	gboolean tcb_nodelay, tcb_cork, tcb_keepalive;
	gboolean tcb_push; /* tcp_conn_push in progress: the tail goes now */
	gint64 tcb_keepidle, tcb_keepintvl;
	guint tcb_keepcnt;
	guint tcb_syn_retries; /* 0: the stack's */
	gint64 tcb_linger2;    /* FIN-WAIT-2 wait of an orphan, 0: the stack's */

	/* TCP_INFO counters. */
	guint64 tcb_bytes_sent, tcb_bytes_retrans, tcb_bytes_acked, tcb_bytes_received;
	guint64 tcb_segs_out, tcb_segs_in;
	guint32 tcb_total_retrans;
};

/* Counts an event in the stack's counters and the endpoint's. */
#define TCP_MIB_INC(c, field)                    \
	G_STMT_START                             \
	{                                        \
		(c)->tcb_ctx->tx_mib.field++;    \
		if ((c)->tcb_epmib != NULL)      \
			(c)->tcb_epmib->field++; \
	}                                        \
	G_STMT_END

/* ------------------------------------------------------------------ */
/* Life cycle                                                         */
/* ------------------------------------------------------------------ */

void tcp_ctx_init(TcpCtx *ctx, GRand *rand);
/* A CLOSED connection with the stack's defaults. */
void tcp_conn_init(TcpConn *c, TcpCtx *ctx, const TcpConnOps *ops, gpointer owner);
/* Frees what the connection holds (buffers, queues), not c itself. */
void tcp_conn_fini(TcpConn *c);
void tcp_conn_set_addrs(TcpConn *c, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);
/* The path MTU (from the route): bounds the MSS. */
void tcp_conn_set_mtu(TcpConn *c, uint32_t mtu);
/* Room left for the IP and TCP headers in a HW_LSO packet. */
#define TCP_LSO_HDR_ROOM (20 + 60)
gboolean tcp_conn_set_cc(TcpConn *c, const TcpCcOps *ops);
static inline gboolean
tcp_conn_is_closed(const TcpConn *c)
{
	return c->tcb_state == TCPS_CLOSED;
}
const char *tcp_state_name(TcpState s);

/* ------------------------------------------------------------------ */
/* User calls (RFC 9293 §3.10.1-§3.10.6)                              */
/* ------------------------------------------------------------------ */

/* Active OPEN: SYN-SENT, the SYN goes out. */
void tcp_conn_connect(TcpConn *c, gint64 now);
/* Passive OPEN from a listener: the SYN syn (its seg_data is not used)
 * creates SYN-RECEIVED and the SYN,ACK goes out. */
void tcp_conn_accept_syn(TcpConn *c, const TcpSeg *syn, gint64 now);
/* SEND: data (consumed) goes to the send buffer, urgent: its last byte is
 * urgent.  Data after a FIN was queued is dropped. */
void tcp_conn_send(TcpConn *c, mblk_t *data, gboolean urgent, gint64 now);
/* Room left in the send buffer. */
uint32_t tcp_conn_snd_space(const TcpConn *c);
/* CLOSE of the sending side (shutdown SHUT_WR): FIN after the data. */
void tcp_conn_shutdown(TcpConn *c, gint64 now);
/* The user closed the endpoint: FIN after the data, and the connection
 * goes on alone (orphan); linger_ns > 0 bounds how long it may take before
 * it is reset. */
void tcp_conn_close(TcpConn *c, gint64 linger_ns, gint64 now);
/* ABORT (RFC 9293 §3.10.5): RST unless there is no synchronized peer. */
void tcp_conn_abort(TcpConn *c, gint64 now);
/* The reader consumed data: a window update may go out (RFC 1122
 * §4.2.3.3). */
void tcp_conn_rcv_opened(TcpConn *c, gint64 now);
/* Flush a corked or Nagle-held segment now (TCP_CORK off, TCP_NODELAY on). */
void tcp_conn_push(TcpConn *c, gint64 now);

/* ------------------------------------------------------------------ */
/* Segments and time                                                  */
/* ------------------------------------------------------------------ */

/* SEGMENT ARRIVES for this connection (consumes seg->seg_data).  Returns
 * TCP_DROP_N when the segment was taken, else why it was dropped
 * (TCP_DROP_*, for the owner to count). */
int tcp_conn_input(TcpConn *c, TcpSeg *seg, gint64 now);
/* The earliest armed deadline, or 0. */
gint64 tcp_conn_deadline(const TcpConn *c);
/* Runs what is due at now. */
void tcp_conn_timer(TcpConn *c, gint64 now);
/* ICMP fragmentation needed (RFC 1191): the path MTU is mtu.  seq: the
 * sequence number of the quoted segment. */
void tcp_conn_pmtu(TcpConn *c, uint32_t mtu, uint32_t seq, gint64 now);
/* An ICMP error (RFC 1122 §4.2.3.9, RFC 5461): hard errors abort a
 * connection being opened; soft ones are remembered. */
void tcp_conn_icmp_error(TcpConn *c, int err, gboolean hard, gint64 now);
void tcp_conn_info(const TcpConn *c, struct us_tcp_info *ti);

/* ------------------------------------------------------------------ */
/* Without a connection                                                */
/* ------------------------------------------------------------------ */

/* What a listener does with a segment (RFC 9293 §3.10.7.2). */
typedef enum {
	TCP_LISTEN_DROP, /* ignore it */
	TCP_LISTEN_RST,  /* answer with tcp_rst_reply() */
	TCP_LISTEN_SYN,  /* a connection request */
	TCP_LISTEN_ACK,  /* an ACK: maybe the end of a SYN-cookie handshake */
} TcpListenVerdict;
TcpListenVerdict tcp_listen_input(const TcpSeg *seg);
/* The reset answering seg when no connection exists (RFC 9293 §3.10.7.1);
 * FALSE when seg is a reset itself (never answered).  Ports swapped. */
gboolean tcp_rst_reply(const TcpSeg *seg, TcpSeg *rst);
/* Initial sequence number (RFC 6528): M + F(addresses, ports, secret). */
uint32_t tcp_isn(const TcpCtx *ctx, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
		 gint64 now);
/* TRUE if a SYN arriving for a connection in TIME-WAIT may open a new
 * incarnation (RFC 9293 §3.6.1 / RFC 6191). */
gboolean tcp_timewait_accepts_syn(const TcpConn *c, const TcpSeg *syn);
/* A keyed 64-bit hash (SipHash-2-4) of len bytes. */
guint64 tcp_siphash(const guint64 key[2], const void *data, size_t len);

/* SYN cookies (RFC 4987 §3.6), tcp-syncookie.c. */
/* The ISS of a SYN-ACK answering syn without keeping state: *tsvalp is
 * our TSval (it carries the window scale and SACK choices) when syn had
 * timestamps.  mss: the MSS we would accept (peer's, clamped). */
uint32_t tcp_cookie_make(const TcpCtx *ctx, uint32_t laddr, uint16_t lport, uint32_t raddr,
			 uint16_t rport, const TcpSeg *syn, uint32_t mss, gint64 now,
			 uint32_t *optbits);
/* Checks the ACK ack completing a cookie handshake: on success fills in a
 * SYN (seq, options) equivalent to the one that was answered. */
gboolean tcp_cookie_check(const TcpCtx *ctx, uint32_t laddr, uint16_t lport, uint32_t raddr,
			  uint16_t rport, const TcpSeg *ack, gint64 now, TcpSeg *syn);
/* Our TSval for a cookie SYN,ACK carrying optbits. */
uint32_t tcp_cookie_tsval(uint32_t tsval, uint32_t optbits);
/* Sends the SYN,ACK of a cookie with ISS iss from a scratch connection c
 * (set up with the listener's addresses; freed by the caller after). */
void tcp_conn_synack_cookie(TcpConn *c, const TcpSeg *syn, uint32_t iss, gint64 now);
/* A connection from a valid cookie ACK (its data consumed): ESTABLISHED
 * at once. */
void tcp_conn_from_cookie(TcpConn *c, const TcpSeg *syn, TcpSeg *ack, gint64 now);

/* ------------------------------------------------------------------ */
/* Internal to the core files                                         */
/* ------------------------------------------------------------------ */

/* tcp-output.c */
void tcp_output(TcpConn *c, gint64 now);
void tcp_send_ack(TcpConn *c, gint64 now);
void tcp_send_rst(TcpConn *c, gint64 now);
void tcp_send_syn(TcpConn *c, gint64 now);
void tcp_send_challenge_ack(TcpConn *c, gint64 now);
void tcp_send_probe(TcpConn *c, gint64 now, gboolean keepalive);
void tcp_send_rst_reply(TcpConn *c, const TcpSeg *seg, gint64 now);
void tcp_send_seg(TcpConn *c, uint32_t seq, uint32_t len, gboolean fin, gint64 now);
void tcp_retransmit_una(TcpConn *c, gint64 now);
uint32_t tcp_rcv_window(TcpConn *c);
uint32_t tcp_tsval(const TcpConn *c, gint64 now);
uint32_t tcp_flight(const TcpConn *c);
uint32_t tcp_cur_mss(const TcpConn *c);
uint32_t tcp_sndq_end(const TcpConn *c);
/* tcp-core.c */
void tcp_take_syn_opts(TcpConn *c, const TcpSeg *syn, gint64 now);
/* tcp-input.c */
void tcp_enter_state(TcpConn *c, TcpState s, gint64 now);
void tcp_drop_conn(TcpConn *c, int err, gint64 now);
void tcp_update_mss(TcpConn *c);
void tcp_sndq_free_acked(TcpConn *c, uint32_t upto);
/* tcp-timer.c */
void tcp_rtt_sample(TcpConn *c, gint64 rtt, gint64 now);
void tcp_rexmt_arm(TcpConn *c, gint64 now);
void tcp_rexmt_restart(TcpConn *c, gint64 now);
void tcp_keep_arm(TcpConn *c, gint64 now);
void tcp_persist_arm(TcpConn *c, gint64 now);
/* tcp-sack.c */
/* Takes the SACK blocks of o (NULL: none) into the scoreboard and drops
 * what is below SND.UNA; returns the bytes newly SACKed. */
uint32_t tcp_sack_update(TcpConn *c, const TcpOpts *o);
void tcp_sack_clear(TcpConn *c);
uint32_t tcp_sack_lost_edge(const TcpConn *c);
uint32_t tcp_sack_pipe(const TcpConn *c);
gboolean tcp_sack_next_seg(TcpConn *c, uint32_t *seqp, uint32_t *lenp, gboolean *rescuep);
gboolean tcp_sack_is_sacked(const TcpConn *c, uint32_t seq);
uint32_t tcp_sack_highest(const TcpConn *c);
/* seq moved past any SACKed data; *limit: where the next SACKed block (or
 * SND.MAX) starts. */
uint32_t tcp_sack_skip(const TcpConn *c, uint32_t seq, uint32_t *limit);
uint32_t tcp_sack_bytes_in(const TcpConn *c, uint32_t from, uint32_t to);
void tcp_sack_out_add(TcpConn *c, uint32_t left, uint32_t right);
void tcp_sack_out_trim(TcpConn *c);
/* tcp-cc.c */
void tcp_cc_init(TcpConn *c);
void tcp_cc_ack(TcpConn *c, uint32_t acked, gint64 rtt, gint64 now);
void tcp_cc_enter_recovery(TcpConn *c, gint64 now);
void tcp_cc_exit_recovery(TcpConn *c, gint64 now);
void tcp_cc_timeout(TcpConn *c, gint64 now);
const TcpCcOps *tcp_cc_default(void);
extern const TcpCcOps tcp_cc_newreno;
extern const TcpCcOps tcp_cc_cubic;

#endif /* USTREAMS_TCP_CORE_H */
