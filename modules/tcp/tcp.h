/* SPDX-License-Identifier: MIT */
/*
 * tcp.h -- the public contract of the tcp transport driver (RFC 9293): its
 * TPI service, its options (TCP_INFO's structure among them), the names of
 * its parameters and statistics, its drop reasons, and the interface a
 * congestion-control algorithm implements to be chosen with TCP_CONGESTION.
 * The theory is in tcp.c (the driver) and tcp-core.c (the protocol).
 *
 * Plumbing (once per stack; a second link is refused with EBUSY):
 *
 *     fd_t = us_open(stack, "tcp", O_RDWR);     an endpoint (clone open)
 *     fd_ip = us_open(stack, "ip", O_RDWR);
 *     us_ioctl(fd_t, I_PLINK, fd_ip);            tcp sends IP_BIND_REQ {6}
 *
 * Every open of "tcp" is an endpoint speaking TPI T_COTS_ORD; the socket
 * library (docs/sockets.md) drives it for SOCK_STREAM sockets:
 *
 *   T_INFO_ACK       SERV_type T_COTS_ORD, TSDU_size 0 (a byte stream),
 *                    ETSDU_size 1 (urgent data), CDATA/DDATA_size T_INVALID,
 *                    ADDR_size 16 (struct sockaddr_in), OPT_size 1024,
 *                    TIDU_size 65536, PROVIDER_flag 0
 *   T_BIND_REQ       ADDR: sockaddr_in or empty; port 0: an ephemeral port
 *                    (32768-60999); CONIND_number > 0 makes a listener with
 *                    that backlog (at most 4096)
 *   T_CONN_REQ       active open: T_OK_ACK, then T_CONN_CON (RES = the peer)
 *                    or T_DISCON_IND (DISCON_reason an errno: ECONNREFUSED,
 *                    ETIMEDOUT, EHOSTUNREACH, ENETUNREACH ...)
 *   T_CONN_IND       on a listener, for each connection that completed the
 *                    handshake (SRC the peer, SEQ_number its identifier);
 *                    T_CONN_RES {ACCEPTOR_id, SEQ_number} moves it onto the
 *                    acceptor stream (ACCEPTOR_id from its T_CAPABILITY_ACK)
 *                    -> T_OK_ACK; T_DISCON_REQ {SEQ_number} refuses it (RST);
 *                    a reset before the accept withdraws it (T_DISCON_IND
 *                    with the SEQ_number)
 *   M_DATA           data both ways; T_EXDATA_REQ/IND: urgent data (the last
 *                    byte of the message is the urgent byte)
 *   T_ORDREL_REQ     FIN after the data queued; T_ORDREL_IND: the peer's FIN
 *   T_DISCON_REQ     abortive release (RST)
 *   T_DISCON_IND     the connection was reset or timed out (DISCON_reason
 *                    ECONNRESET, ETIMEDOUT, EPIPE ...)
 *   T_ADDR_REQ, T_UNBIND_REQ, T_CAPABILITY_REQ, T_SVR4_OPTMGMT_REQ
 *
 * Options (T_SVR4_OPTMGMT_REQ, struct opthdr + value; ints unless said):
 *   SOL_SOCKET   SO_RCVBUF, SO_SNDBUF (bytes; default 212992), SO_KEEPALIVE,
 *                SO_LINGER (struct linger: {1, 0} closes with RST; {1, n}
 *                resets what is not delivered after n seconds), SO_REUSEADDR,
 *                SO_REUSEPORT (accepted), SO_OOBINLINE (accepted), SO_TYPE
 *                (read only: SOCK_STREAM)
 *   IPPROTO_IP   IP_TTL (1..255, -1 default), IP_TOS (0..255)
 *   IPPROTO_TCP  TCP_NODELAY, TCP_CORK, TCP_MAXSEG (88..65495; 0 = the
 *                route's), TCP_KEEPIDLE, TCP_KEEPINTVL (seconds, 1..32767),
 *                TCP_KEEPCNT (1..127), TCP_SYNCNT (1..127), TCP_LINGER2
 *                (seconds an orphaned connection waits in FIN-WAIT-2),
 *                TCP_CONGESTION (a NUL-terminated name, at most
 *                TCP_CA_NAME_MAX bytes: "cubic" (default), "newreno", or a
 *                plug-in's), TCP_INFO (read only: struct us_tcp_info)
 */
#ifndef USTREAMS_TCP_H
#define USTREAMS_TCP_H

#include <stdint.h>

#include <glib.h>
#include <ustreams/world.h>

/* Limits and defaults. */
#define TCP_ADDR_SIZE 16
#define TCP_OPT_SIZE 1024
#define TCP_TIDU_SIZE 65536
#define TCP_RCVBUF_DEFAULT 212992
#define TCP_SNDBUF_DEFAULT 212992
#define TCP_RCVBUF_MIN 2304
#define TCP_SNDBUF_MIN 4608
#define TCP_BUF_MAX (16 * 1024 * 1024)
#define TCP_BACKLOG_MAX 4096
#define TCP_PORT_LOW 32768
#define TCP_PORT_HIGH 60999
#ifndef TCP_CA_NAME_MAX
#define TCP_CA_NAME_MAX 16
#endif

/* The states of RFC 9293 §3.3.2, as TCP_INFO reports them. */
typedef enum {
	TCPS_CLOSED = 0,
	TCPS_LISTEN,
	TCPS_SYN_SENT,
	TCPS_SYN_RECEIVED,
	TCPS_ESTABLISHED,
	TCPS_FIN_WAIT_1,
	TCPS_FIN_WAIT_2,
	TCPS_CLOSE_WAIT,
	TCPS_CLOSING,
	TCPS_LAST_ACK,
	TCPS_TIME_WAIT,
	TCPS_N
} TcpState;

/* Congestion states (tcpi_ca_state). */
enum {
	TCP_CA_OPEN = 0,     /* no loss being repaired */
	TCP_CA_RECOVERY = 1, /* fast recovery (RFC 6675 or RFC 6582) */
	TCP_CA_LOSS = 2,     /* after a retransmission timeout */
};

/* tcpi_options bits. */
#define US_TCPI_OPT_TIMESTAMPS 0x01
#define US_TCPI_OPT_SACK 0x02
#define US_TCPI_OPT_WSCALE 0x04

/* getsockopt(IPPROTO_TCP, TCP_INFO): a snapshot of one connection.  Times
 * in microseconds, windows in bytes. */
struct us_tcp_info {
	uint8_t tcpi_state;      /* TcpState */
	uint8_t tcpi_ca_state;   /* TCP_CA_* */
	uint8_t tcpi_options;    /* US_TCPI_OPT_* negotiated */
	uint8_t tcpi_snd_wscale; /* the peer's window shift */
	uint8_t tcpi_rcv_wscale; /* ours */
	uint8_t tcpi_backoff;    /* RTO doublings in force */
	uint8_t tcpi_pad[2];
	uint32_t tcpi_rto;           /* retransmission timeout */
	uint32_t tcpi_rtt;           /* smoothed round-trip time */
	uint32_t tcpi_rttvar;        /* its variation */
	uint32_t tcpi_min_rtt;       /* smallest sample seen */
	uint32_t tcpi_snd_mss;       /* effective send MSS */
	uint32_t tcpi_rcv_mss;       /* MSS we advertised */
	uint32_t tcpi_snd_cwnd;      /* congestion window */
	uint32_t tcpi_snd_ssthresh;  /* slow-start threshold (UINT32_MAX: none yet) */
	uint32_t tcpi_snd_wnd;       /* the peer's receive window */
	uint32_t tcpi_rcv_wnd;       /* our advertised receive window */
	uint32_t tcpi_unacked;       /* bytes in flight */
	uint32_t tcpi_retransmits;   /* consecutive timeouts of the current segment */
	uint32_t tcpi_total_retrans; /* segments retransmitted */
	uint32_t tcpi_pad2;
	uint64_t tcpi_bytes_sent;     /* payload bytes sent, retransmissions included */
	uint64_t tcpi_bytes_retrans;  /* of which retransmitted */
	uint64_t tcpi_bytes_acked;    /* acknowledged by the peer */
	uint64_t tcpi_bytes_received; /* in-order payload bytes received */
	uint64_t tcpi_segs_out;
	uint64_t tcpi_segs_in;
	char tcpi_cc[TCP_CA_NAME_MAX]; /* congestion control in use */
};

/* ------------------------------------------------------------------ */
/* Congestion control                                                  */
/* ------------------------------------------------------------------ */

/* What an algorithm sees and changes (bytes and nanoseconds).  The core
 * owns the structure; the algorithm writes cwnd and ssthresh and keeps its
 * own state in priv (zeroed before init). */
typedef struct {
	uint32_t cwnd;     /* congestion window */
	uint32_t ssthresh; /* slow-start threshold */
	uint32_t mss;      /* sender MSS */
	uint32_t flight;   /* bytes in flight when the call is made */
	gint64 now;        /* the world's time */
	gint64 srtt;       /* smoothed RTT, 0 while unknown */
	gint64 min_rtt;    /* smallest RTT sample, 0 while unknown */
	uint64_t priv[16]; /* the algorithm's */
} TcpCcState;

#define TCP_CC_ABI 1

/* A congestion-control algorithm (RFC 5681 framing): slow start and
 * congestion avoidance in ack, the reaction to loss in ssthresh (the core
 * sets cwnd from it as RFC 6675/6582 say), the timeout and the end of a
 * recovery.  Every member but abi and name may be NULL (RFC 5681 defaults). */
typedef struct {
	guint32 abi;      /* TCP_CC_ABI */
	const char *name; /* at most TCP_CA_NAME_MAX - 1 characters */
	void (*init)(TcpCcState *s);
	/* New data was cumulatively acknowledged outside loss recovery:
	 * acked bytes, rtt the sample it gave (0: none). */
	void (*ack)(TcpCcState *s, uint32_t acked, gint64 rtt);
	/* Loss detected by duplicate ACKs or SACK: returns the new ssthresh. */
	uint32_t (*ssthresh)(TcpCcState *s);
	/* Loss recovery ended (cwnd was set to ssthresh). */
	void (*recovered)(TcpCcState *s);
	/* Retransmission timeout (the core then sets cwnd to one segment and
	 * ssthresh to what this returns). */
	uint32_t (*timeout)(TcpCcState *s);
} TcpCcOps;

/* Registers an algorithm (kept by reference).  FALSE if the name is taken
 * or the descriptor is malformed.  Plug-ins: a shared object named
 * "tcp-cc-NAME.so" on the module search path (US_MODULE_PATH) exporting
 * `const TcpCcOps *const us_tcp_cc_plugin` is loaded the first time
 * TCP_CONGESTION names NAME. */
gboolean us_tcp_cc_register(const TcpCcOps *ops);
/* The algorithm called name (loading a plug-in if needed), or NULL. */
const TcpCcOps *us_tcp_cc_find(const char *name);

/* ------------------------------------------------------------------ */
/* Parameters, statistics, drops                                       */
/* ------------------------------------------------------------------ */

/* Per-stack parameters (us_param_set on any tcp stream). */
#define TCP_PARAM_RTO_MIN_MS "rto_min_ms"              /* 200 */
#define TCP_PARAM_RTO_MAX_MS "rto_max_ms"              /* 60000 */
#define TCP_PARAM_RTO_INIT_MS "rto_init_ms"            /* 1000 (RFC 6298) */
#define TCP_PARAM_DELACK_MS "delack_ms"                /* 40 */
#define TCP_PARAM_TIME_WAIT_MS "time_wait_ms"          /* 60000 (2 MSL) */
#define TCP_PARAM_FIN_WAIT_2_MS "fin_wait_2_ms"        /* 60000 (orphans) */
#define TCP_PARAM_RETRIES "retries"                    /* 15 */
#define TCP_PARAM_SYN_RETRIES "syn_retries"            /* 6 */
#define TCP_PARAM_SYNACK_RETRIES "synack_retries"      /* 5 */
#define TCP_PARAM_SYNCOOKIES "syncookies"              /* 1: on SYN queue overflow */
#define TCP_PARAM_SACK "sack"                          /* true */
#define TCP_PARAM_TIMESTAMPS "timestamps"              /* true */
#define TCP_PARAM_WSCALE "window_scaling"              /* true */
#define TCP_PARAM_CC "congestion_control"              /* "cubic" */
#define TCP_PARAM_CHALLENGE_ACKS "challenge_ack_limit" /* 1000 per second */
#define TCP_PARAM_AUTOTUNE "rcvbuf_autotune"           /* false: SO_RCVBUF/SO_SNDBUF auto-tuning */

/* Statistics: MIB-II tcp group (RFC 1213, RFC 4022) and extras.  Each
 * endpoint counts what happened on it (us_stat_get on its stream); the whole
 * stack with us_tcp_stack_stat(). */
#define TCP_STAT_ACTIVE_OPENS "tcpActiveOpens"
#define TCP_STAT_PASSIVE_OPENS "tcpPassiveOpens"
#define TCP_STAT_ATTEMPT_FAILS "tcpAttemptFails"
#define TCP_STAT_ESTAB_RESETS "tcpEstabResets"
#define TCP_STAT_CURR_ESTAB "tcpCurrEstab"
#define TCP_STAT_IN_SEGS "tcpInSegs"
#define TCP_STAT_OUT_SEGS "tcpOutSegs"
#define TCP_STAT_RETRANS_SEGS "tcpRetransSegs"
#define TCP_STAT_IN_ERRS "tcpInErrs"
#define TCP_STAT_OUT_RSTS "tcpOutRsts"
#define TCP_STAT_IN_CSUM_ERRORS "tcpInCsumErrors"
#define TCP_STAT_TIMEOUTS "tcpTimeouts"
#define TCP_STAT_FAST_RETRANS "tcpFastRetrans"
#define TCP_STAT_SACK_RECOVERIES "tcpSackRecoveries"
#define TCP_STAT_RENO_RECOVERIES "tcpRenoRecoveries"
#define TCP_STAT_CHALLENGE_ACKS "tcpChallengeAcks"
#define TCP_STAT_PAWS_DROPS "tcpPawsDrops"
#define TCP_STAT_SYNCOOKIES_SENT "tcpSyncookiesSent"
#define TCP_STAT_SYNCOOKIES_RECV "tcpSyncookiesRecv"
#define TCP_STAT_SYNCOOKIES_FAILED "tcpSyncookiesFailed"
#define TCP_STAT_LISTEN_OVERFLOWS "tcpListenOverflows"
#define TCP_STAT_KEEPALIVE_PROBES "tcpKeepaliveProbes"
#define TCP_STAT_PERSIST_PROBES "tcpPersistProbes"
#define TCP_STAT_DELAYED_ACKS "tcpDelayedAcks"
#define TCP_STAT_OFO_QUEUED "tcpOfoQueue"
#define TCP_STAT_TW_RECYCLED "tcpTimeWaitRecycled"
#define TCP_STAT_PMTU_UPDATES "tcpPmtuUpdates"

/* Drop reasons: indices into us_tcp_desc.drop_reasons
 * (us_stack_drop_count(stack, "tcp", r)). */
enum {
	TCP_DROP_BADPRIM,       /* malformed or unknown primitive from ip */
	TCP_DROP_SHORT,         /* segment shorter than its header */
	TCP_DROP_BADHDR,        /* data offset out of range, bad options */
	TCP_DROP_CKSUM,         /* bad checksum */
	TCP_DROP_NO_CONN,       /* no connection or listener (RST sent) */
	TCP_DROP_BCAST,         /* to or from a broadcast or multicast address */
	TCP_DROP_OUT_OF_WINDOW, /* sequence number not acceptable (ACK sent) */
	TCP_DROP_PAWS,          /* timestamp older than TS.Recent (RFC 7323) */
	TCP_DROP_BAD_ACK,       /* ACK of something not sent */
	TCP_DROP_RST_INVALID,   /* RST outside the window or not exact (RFC 5961) */
	TCP_DROP_SYN_INVALID,   /* SYN in a synchronized state (RFC 5961) */
	TCP_DROP_NO_ACK,        /* no ACK bit in a synchronized state */
	TCP_DROP_LISTEN_FULL,   /* SYN or final ACK dropped: queues full */
	TCP_DROP_COOKIE,        /* ACK with an invalid SYN cookie */
	TCP_DROP_STATE,         /* not acceptable in the connection's state */
	TCP_DROP_RCVBUF,        /* data beyond the receive buffer */
	TCP_DROP_NOMEM,         /* allocation failed */
	TCP_DROP_UNLINKED,      /* arrived at or queued on an unlinked lower */
	TCP_DROP_CLOSED,        /* queued on an endpoint when it closed */
	TCP_DROP_TPI,           /* TPI message too short or unexpected */
	TCP_DROP_LATE,          /* ip acknowledgement nobody waits for */
	TCP_DROP_ICMP,          /* ICMP error for no connection or ignored */
	TCP_DROP_AFTER_CLOSE,   /* data for a closed endpoint (RST sent) */
	TCP_DROP_DUP,           /* duplicate data (already received) */
	TCP_DROP_N
};

/* Reads a stack-wide statistic (0 while tcp was never opened on the stack).
 * FALSE for an unknown name.  Call on the stack's world thread. */
gboolean us_tcp_stack_stat(UsStack *stack, const char *name, guint64 *value);

struct _UsModuleDesc;
extern const struct _UsModuleDesc us_tcp_desc;

#endif /* USTREAMS_TCP_H */
