/* SPDX-License-Identifier: MIT */
/*
 * socket.h -- BSD/POSIX sockets over the stream head, speaking TPI to the
 * transport driver below (as Solaris sockfs and sockmod do).
 *
 * us_socket(stack, domain, type, protocol) looks the triple up in the
 * transport table, opens that driver (a clone open: a new stream whose
 * descriptor is returned) and asks it for its T_INFO_ACK.  Every other call
 * is the system call of the same name with the us_ prefix: it returns what
 * the system call returns and sets errno as POSIX and Linux specify (the
 * exceptions are listed under "Deviations" in docs/sockets.md).  us_read,
 * us_write, us_readv, us_writev, us_poll, us_fcntl and us_close of head.h
 * work on socket descriptors with socket semantics (read is recv with no
 * flags, write is send with no flags).
 *
 * The TPI contract a transport implements to sit under this library
 * (docs/sockets.md has the full table):
 *   - addresses in primitives are the domain's sockaddr (struct
 *     sockaddr_in, 16 bytes, for AF_INET), as illumos sockfs passes them;
 *   - open, then [SOCK_RAW: T_SVR4_OPTMGMT_REQ T_NEGOTIATE SOL_SOCKET
 *     US_SO_PROTOTYPE = the int protocol] and T_INFO_REQ -> T_INFO_ACK;
 *   - bind: T_BIND_REQ (CONIND_number 0) -> T_BIND_ACK | T_ERROR_ACK;
 *     listen: [T_UNBIND_REQ -> T_OK_ACK] T_BIND_REQ (CONIND_number =
 *     backlog) -> T_BIND_ACK;
 *   - connect: [implicit T_BIND_REQ of port 0] T_CONN_REQ -> T_OK_ACK, then
 *     T_CONN_CON (connected) or T_DISCON_IND (DISCON_reason is an errno);
 *     a datagram socket is disconnected (AF_UNSPEC) with T_DISCON_REQ ->
 *     T_OK_ACK;
 *   - accept: T_CONN_IND (SRC, SEQ_number) on the listener; a new stream of
 *     the same driver answers T_CAPABILITY_REQ(TC1_ACCEPTOR_ID); T_CONN_RES
 *     {ACCEPTOR_id, SEQ_number} on the listener -> T_OK_ACK;
 *   - data: T_UNITDATA_REQ/IND (datagrams, always with an M_DATA block,
 *     possibly empty); M_DATA both ways on connections (T_DATA_IND and
 *     T_OPTDATA_IND are accepted too); MSG_OOB is T_EXDATA_REQ/IND;
 *     T_UDERROR_IND's ERROR_type is an errno; T_ORDREL_REQ/IND for
 *     shutdown(SHUT_WR) and EOF;
 *   - names: T_ADDR_REQ -> T_ADDR_ACK; options: T_SVR4_OPTMGMT_REQ with
 *     struct opthdr (T_NEGOTIATE to set, T_CURRENT to get) -> T_OPTMGMT_ACK,
 *     an unknown option is TBADOPT, a bad value TSYSERR with EINVAL.
 *
 * Calls block the way the stream head's calls do (head.h): O_NONBLOCK
 * (SOCK_NONBLOCK, us_fcntl) and MSG_DONTWAIT make them fail with EAGAIN
 * (connect: EINPROGRESS) instead; SO_RCVTIMEO/SO_SNDTIMEO bound the wait on
 * the world's clock; in a virtual-time world driven by the caller a wait
 * nothing could ever end fails with EDEADLK.  Waits for a transport's
 * acknowledgement (T_OK_ACK, T_BIND_ACK ...) ignore O_NONBLOCK.
 *
 * Thread safety: calls may come from any thread (they run on the stack's
 * world); the transport table has its own lock.
 */
#ifndef USTREAMS_SOCKET_H
#define USTREAMS_SOCKET_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <ustreams/head.h>

G_BEGIN_DECLS

/* SOL_SOCKET option sent by us_socket() to a SOCK_RAW transport right after
 * the open: the int protocol (Solaris' SO_PROTOTYPE).  Transports may also
 * answer it with T_CURRENT. */
#define US_SO_PROTOTYPE 0x1009

/* Protocol of a transport-table entry that matches every non-zero protocol
 * (Linux's "wildcard" entries, e.g. the raw IP transport). */
#define US_SOCKET_PROTO_ANY (-1)

/* Opens a socket on stack.  type may include SOCK_NONBLOCK (and
 * SOCK_CLOEXEC, which changes nothing: descriptors are close-on-exec).
 * Returns the descriptor, or -1 with errno: EINVAL (no stack, bad type or
 * flags), EAFNOSUPPORT (no transport for the domain), ESOCKTNOSUPPORT (none
 * for the type), EPROTONOSUPPORT (none for the protocol, or the driver is
 * not registered, or it offers the wrong service type), an errno from the
 * driver's open or from its answers.  Close it with us_close(). */
int us_socket(UsStack *stack, int domain, int type, int protocol);

/* The calls of sys/socket.h.  Pointers are the caller's and are only read
 * or written during the call.  Common errors: EBADF (not a descriptor),
 * ENOTSOCK (a stream-head descriptor that is not a socket), EFAULT (NULL
 * where a buffer is needed), EINVAL (bad length or argument). */
int us_bind(int fd, const struct sockaddr *addr, socklen_t addrlen);
int us_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);
int us_listen(int fd, int backlog);
/* The new descriptor is blocking (us_accept4 with SOCK_NONBLOCK: not). */
int us_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
int us_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
ssize_t us_send(int fd, const void *buf, size_t len, int flags);
ssize_t us_recv(int fd, void *buf, size_t len, int flags);
ssize_t us_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *dest,
		  socklen_t destlen);
ssize_t us_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *src,
		    socklen_t *srclen);
/* msg_control is ignored on send; no control messages are received
 * (msg_controllen is set to 0). */
ssize_t us_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t us_recvmsg(int fd, struct msghdr *msg, int flags);
int us_shutdown(int fd, int how);
int us_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen);
int us_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen);
int us_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen);
int us_getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen);

/* ------------------------------------------------------------------ */
/* Transport table                                                    */
/* ------------------------------------------------------------------ */

/* Maps (domain, type, protocol) to the driver us_socket() opens.  protocol
 * is an exact protocol number, 0 (the default transport of the type, used
 * when us_socket gets protocol 0) or US_SOCKET_PROTO_ANY (every non-zero
 * protocol without an exact entry).  An entry for the same triple is
 * replaced.  The table starts with the defaults:
 *   AF_INET SOCK_DGRAM  IPPROTO_UDP and 0  -> "udp"
 *   AF_INET SOCK_STREAM IPPROTO_TCP and 0  -> "tcp"
 *   AF_INET SOCK_RAW    US_SOCKET_PROTO_ANY -> "icmp" (Solaris' raw IP)
 * Returns 0, or -1 with EINVAL (driver NULL or empty, type out of range).
 * The driver need not be registered yet (us_socket checks). */
int us_socket_transport_add(int domain, int type, int protocol, const char *driver);
/* Removes the entry for exactly that triple; -1/ENOENT if there is none. */
int us_socket_transport_remove(int domain, int type, int protocol);
/* The driver us_socket() would open for the triple (type without flags),
 * newly allocated (g_free it), or NULL with errno EAFNOSUPPORT,
 * ESOCKTNOSUPPORT or EPROTONOSUPPORT as us_socket() would fail. */
char *us_socket_transport_lookup(int domain, int type, int protocol);
/* Puts the defaults back and removes every other entry. */
void us_socket_transport_reset(void);

/* ------------------------------------------------------------------ */
/* Statistics                                                         */
/* ------------------------------------------------------------------ */

/* What the library discarded or noted for one socket. */
typedef struct {
	guint64 uderror_dropped;  /* T_UDERROR_IND on an unconnected socket */
	guint64 uderror_pending;  /* T_UDERROR_IND made the pending error */
	guint64 data_dropped;     /* data arriving after shutdown(SHUT_RD) */
	guint64 unexpected;       /* primitives the library does not expect */
	guint64 late_acks;        /* acknowledgements nobody waited for */
	guint64 conind_withdrawn; /* T_CONN_IND cancelled by T_DISCON_IND */
	guint64 truncated;        /* datagrams cut to fit the receive buffer */
} UsSocketStats;

/* Copies the socket's counters; 0, or -1 with EBADF/ENOTSOCK/EFAULT. */
int us_socket_stats(int fd, UsSocketStats *stats);

G_END_DECLS

#endif /* USTREAMS_SOCKET_H */
