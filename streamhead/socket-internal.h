/* SPDX-License-Identifier: MIT */
/*
 * socket-internal.h -- what the files of the socket library share
 * (socket.c: creation and the TPI state machine at the head; socket-tpi.c:
 * primitives, requests and waiting; socket-conn.c: bind, listen, connect,
 * accept, shutdown, names; socket-io.c: send and receive; socket-opt.c:
 * options; socket-table.c: the transport table).
 *
 * Fields of UsSock marked "fixed" are set before us_socket()/us_accept()
 * return the descriptor and never change, so any thread may read them; all
 * others are read and written on the stack's world thread only (in ops run
 * by us__head_run and in the read-side hook).
 */
#ifndef US_SOCKET_INTERNAL_H
#define US_SOCKET_INTERNAL_H

#include <ustreams/socket.h>
#include <ustreams/tihdr.h>

#include "head-internal.h"

/* SO_RCVTIMEO/SO_SNDTIMEO values: wait forever, or not at all. */
#define SOCK_TIMEO_FOREVER 0
#define SOCK_TIMEO_NOWAIT (-1)

/* Largest value buffer sent with a T_CURRENT option request. */
#define SOCK_OPT_MAX 1024

/* An address as TPI carries it (the domain's sockaddr). */
typedef struct {
	struct sockaddr_storage sa;
	socklen_t len; /* 0: none */
} SockAddr;

typedef struct _UsSock {
	UsHead *so_head;         /* fixed: the descriptor's head, which owns this */
	int so_domain;           /* fixed: as given to us_socket */
	int so_type;             /* fixed: SOCK_DGRAM, SOCK_STREAM ... (no flags) */
	int so_protocol;         /* fixed: as given, or the table's for 0 */
	char *so_driver;         /* fixed: the transport, for accept's new streams */
	t_scalar_t so_serv;      /* fixed: SERV_type, T_CLTS/T_COTS/T_COTS_ORD */
	t_scalar_t so_tsdu;      /* fixed: TSDU_size (datagram limit) */
	t_scalar_t so_etsdu;     /* fixed: ETSDU_size (T_INVALID: no MSG_OOB) */
	t_scalar_t so_tidu;      /* fixed: TIDU_size (largest data per message) */
	t_scalar_t so_addr_size; /* fixed: ADDR_size */
	t_scalar_t so_opt_size;  /* fixed: OPT_size */

	int so_tstate;             /* TS_* as followed from acks and indications */
	guint so_conind;           /* listen queue granted by T_BIND_ACK; > 0 listening */
	SockAddr so_laddr;         /* bound address (T_BIND_ACK) */
	SockAddr so_faddr;         /* peer (connect, T_CONN_CON, T_CONN_IND) */
	gboolean so_connecting;    /* a connect started; its outcome not yet
				    * returned by connect() */
	gboolean so_was_connected; /* a connection existed (EPIPE, not ENOTCONN) */
	int so_error;              /* pending error, SO_ERROR */
	gboolean so_rcv_eof;       /* no more data will come (ordrel, discon) */
	gboolean so_shut_rd;       /* shutdown(SHUT_RD): data is discarded */
	gboolean so_shut_wr;       /* shutdown(SHUT_WR): sends fail EPIPE */
	int so_oob;                /* the out-of-band byte waiting, -1: none */
	gint64 so_rcvtimeo;        /* ns or SOCK_TIMEO_*; SO_RCVTIMEO */
	gint64 so_sndtimeo;        /* ns or SOCK_TIMEO_*; SO_SNDTIMEO */

	/* The one request in flight (requests are serialised per socket). */
	gboolean so_req_busy;   /* a request was sent and awaits its ack */
	t_scalar_t so_req_prim; /* its PRIM_type */
	mblk_t *so_ack;         /* its acknowledgement once it came */

	UsSocketStats so_stats;
} UsSock;

/* Which timeout bounds a wait. */
typedef enum {
	SOCK_WAIT_RCV,  /* SO_RCVTIMEO; O_NONBLOCK applies */
	SOCK_WAIT_SND,  /* SO_SNDTIMEO; O_NONBLOCK applies */
	SOCK_WAIT_SURE, /* forever, whatever O_NONBLOCK says (a transport's
			 * immediate answer, e.g. a datagram T_CONN_CON) */
} SockWaitKind;

/* A bounded wait for one call: MSG_DONTWAIT/O_NONBLOCK and the timeout. */
typedef struct {
	SockWaitKind kind;
	gboolean dontwait; /* MSG_DONTWAIT */
	gboolean started;  /* the fields below are set (first wait) */
	gboolean nonblock; /* fail at once instead of waiting */
	gint64 timeo;      /* ns, or SOCK_TIMEO_* */
	gint64 deadline;   /* world time */
	guint64 timer;     /* world timer waking the head at the deadline */
} SockWait;

/* A request and its acknowledgement (us__sock_request). */
typedef struct {
	mblk_t *req;     /* the request, until sent (consumed) */
	t_scalar_t prim; /* its PRIM_type */
	/* Optional, world thread, right before sending with the socket's
	 * request slot held: <0 fails with that -errno, >0 skips the request
	 * (the call returns 0 with no ack), 0 sends. */
	int (*check)(UsSock *so, gpointer arg);
	gpointer arg;
	gboolean sent;
	mblk_t *ack; /* the answer (the caller frees it) */
} SockTxn;

/* socket.c */
/* The socket behind fd: NULL with *err = -EBADF or -ENOTSOCK. */
UsSock *us__sock_get(int fd, int *err);
/* Makes a socket of an open stream descriptor (T_INFO_REQ ...); on failure
 * the descriptor is closed.  Returns fd or -errno. */
int us__sock_setup(int fd, int domain, int type, int protocol, const char *driver);
UsWorld *us__sock_world(UsSock *so);
queue_t *us__sock_wq(UsSock *so);
queue_t *us__sock_rq(UsSock *so);
gboolean us__sock_is_dgram(const UsSock *so);
/* Connected (data may flow) per the TPI state. */
gboolean us__sock_connected(const UsSock *so);
/* Takes and clears the pending error (0 if none). */
int us__sock_take_error(UsSock *so);
/* Runs fn(so, arg) on the world and returns its result (no waiting). */
int us__sock_call(UsSock *so, int (*fn)(UsSock *so, gpointer arg), gpointer arg);

/* socket-tpi.c */
/* An M_PROTO/M_PCPROTO of size bytes, zeroed, PRIM_type set, with room
 * for `room` more bytes of appended parts; NULL: no memory (ENOSR). */
mblk_t *us__tpi_alloc(size_t size, size_t room, unsigned char type, t_scalar_t prim);
/* Appends len bytes at the end of the primitive, aligned; stores their
 * length and offset in *lenp and *offp (fields of the primitive). */
void us__tpi_append(mblk_t *mp, const void *buf, size_t len, t_scalar_t *lenp, t_scalar_t *offp);
/* The [len, off) part of a primitive if it lies inside it, else NULL. */
const unsigned char *us__tpi_part(const mblk_t *mp, t_scalar_t len, t_scalar_t off);
/* Copies an address part into a SockAddr (len 0 if absent or too long). */
void us__tpi_addr(const mblk_t *mp, t_scalar_t len, t_scalar_t off, SockAddr *out);
/* Sends t->req and waits for its ack (t->ack).  0 or -errno. */
int us__sock_request(UsSock *so, SockTxn *t);
/* Builds, sends and waits in one go; frees the ack unless ackp. */
int us__sock_simple(UsSock *so, mblk_t *req, mblk_t **ackp);
/* 0 for a positive ack, -errno for T_ERROR_ACK (mapped with
 * us__tli_errno); consumes nothing. */
int us__tpi_ack_errno(const mblk_t *ack);
int us__tli_errno(t_scalar_t tli, t_scalar_t unix_error);
/* Waiting: HEAD_BLOCK to wait on, or -EAGAIN when the call must not (any
 * more).  us__sock_wait_end cancels the timer (any thread). */
void us__sock_wait_init(SockWait *w, SockWaitKind kind, gboolean dontwait);
int us__sock_wait(UsSock *so, SockWait *w);
void us__sock_wait_end(UsSock *so, SockWait *w);
/* Errors of the stream itself (M_ERROR, M_HANGUP) for reading or writing:
 * 0 or an errno. */
int us__sock_stream_error(UsSock *so, gboolean writing);
/* Checks a user address for the socket's domain into out: 0 or -errno
 * (EFAULT, EINVAL, EAFNOSUPPORT); AF_UNSPEC is allowed when unspec_ok. */
int us__sock_addr_in(const UsSock *so, const struct sockaddr *sa, socklen_t len, SockAddr *out,
		     gboolean unspec_ok);
/* Copies an address out as accept/getsockname do (*lenp gets the full
 * length); addr NULL is allowed when lenp is NULL too. */
int us__sock_addr_out(const SockAddr *a, struct sockaddr *addr, socklen_t *lenp);
/* The unspecified address of the domain (family set, rest zero). */
void us__sock_addr_any(const UsSock *so, SockAddr *out);

/* socket-conn.c */
/* Binds an unbound socket to the unspecified address, port 0 (autobind
 * before connect and sendto).  0 or -errno. */
int us__sock_autobind(UsSock *so);

/* socket-io.c */
ssize_t us__sock_readv(UsHead *h, const struct iovec *iov, int iovcnt);
ssize_t us__sock_writev(UsHead *h, const struct iovec *iov, int iovcnt);

/* socket-table.c */
/* The driver for the triple and the protocol to report; -errno if none. */
int us__sock_table_find(int domain, int type, int protocol, char **driver, int *proto_out);

#endif
