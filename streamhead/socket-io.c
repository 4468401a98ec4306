/* SPDX-License-Identifier: MIT */
/*
 * socket-io.c -- send and receive: us_send/us_sendto/us_sendmsg,
 * us_recv/us_recvfrom/us_recvmsg, and us_read/us_write on sockets.
 *
 * Theory
 * ------
 * Sending.
 *   datagram sockets: one T_UNITDATA_REQ (M_PROTO, DEST = the address given
 *     or the connected peer) followed by one M_DATA block (possibly empty,
 *     allocated with the head's write offset) per call.  Larger than a
 *     positive TSDU_size (or TSDU_size T_INVALID): EMSGSIZE.  An unbound
 *     socket is bound to port 0 first.  Flow control: canputnext().
 *   connections: M_DATA messages of at most the head's write segment (the
 *     module below's q_maxpsz, SO_MAXBLK, US_STRMSGSZ) and TIDU_size, as
 *     write(2) on a stream; a blocking send sends everything, a
 *     non-blocking one what flow control lets through (EAGAIN if nothing);
 *     SO_SNDTIMEO ends the wait the same way.  MSG_OOB: one T_EXDATA_REQ
 *     with all the data (EOPNOTSUPP if ETSDU_size is T_INVALID or 0).
 *   Errors, in Linux's order: the stream's write error, the pending socket
 *   error (taken), shutdown(SHUT_WR) EPIPE, then (connections) not
 *   connected: ENOTCONN if never connected, EPIPE after; a connect in
 *   progress is waited for.
 * Receiving.
 *   datagram sockets: the pending error first (Linux), then the first
 *     message on the head's queue: a T_UNITDATA_IND (its SRC is the source)
 *     or plain M_DATA.  The datagram is consumed unless MSG_PEEK; what does
 *     not fit is discarded with MSG_TRUNC in msg_flags (and the whole length
 *     returned when MSG_TRUNC was asked for).
 *   connections: bytes from as many M_DATA messages as wanted (what is left
 *     of a message stays at the front); returns when some data was read,
 *     unless MSG_WAITALL; after the data, the pending error once (a
 *     T_DISCON_IND), then 0 (EOF) for T_ORDREL_IND, a disconnect, SHUT_RD
 *     or M_HANGUP.  MSG_PEEK copies without consuming; MSG_TRUNC discards
 *     without copying (Linux).  MSG_OOB takes the out-of-band byte (EINVAL
 *     if there is none).
 *   Waiting: MSG_DONTWAIT/O_NONBLOCK give EAGAIN, SO_RCVTIMEO ends the wait
 *   with EAGAIN (or the bytes read so far).
 */
#define G_LOG_DOMAIN "us-socket"

#include "socket-internal.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* An op result asking the caller to bind the socket and try again. */
#define SOCK_AUTOBIND (-100001)

/* ------------------------------------------------------------------ */
/* Copying into the caller's buffers                                  */
/* ------------------------------------------------------------------ */

typedef struct {
	const struct iovec *iov;
	int iovcnt;
	int idx;          /* current iovec */
	size_t off;       /* offset in it */
	size_t done;      /* bytes taken */
	size_t want;      /* bytes the buffers hold */
	gboolean discard; /* count without copying (MSG_TRUNC on a connection) */
} SockCursor;

static void
cursor_init(SockCursor *c, const struct iovec *iov, int iovcnt, gboolean discard)
{
	memset(c, 0, sizeof *c);
	c->iov = iov;
	c->iovcnt = iovcnt;
	c->discard = discard;
	for (int i = 0; i < iovcnt; i++)
		c->want += iov[i].iov_len;
}

static void
cursor_rewind(SockCursor *c)
{
	c->idx = 0;
	c->off = 0;
	c->done = 0;
}

/* Copies up to n bytes from p; returns the bytes taken. */
static size_t
cursor_put(SockCursor *c, const unsigned char *p, size_t n)
{
	size_t k = MIN(n, c->want - c->done);
	if (c->discard) {
		c->done += k;
		return k;
	}
	size_t taken = 0;
	while (taken < k) {
		size_t room = c->iov[c->idx].iov_len - c->off;
		size_t m = MIN(room, k - taken);
		memcpy((char *)c->iov[c->idx].iov_base + c->off, p + taken, m);
		c->off += m;
		taken += m;
		if (c->off == c->iov[c->idx].iov_len) {
			c->idx++;
			c->off = 0;
		}
	}
	c->done += taken;
	return taken;
}

/* Copies the M_DATA bytes of mp without consuming them. */
static void
cursor_copy_msg(SockCursor *c, const mblk_t *mp)
{
	for (const mblk_t *b = mp; b != NULL && c->done < c->want; b = b->b_cont)
		if (DB_TYPE(b) == M_DATA)
			cursor_put(c, b->b_rptr, MBLKL(b));
}

/* Takes bytes from mp's M_DATA blocks (b_rptr moves); TRUE if all went. */
static gboolean
cursor_take_msg(SockCursor *c, mblk_t *mp)
{
	for (mblk_t *b = mp; b != NULL; b = b->b_cont) {
		if (DB_TYPE(b) != M_DATA)
			continue;
		b->b_rptr += cursor_put(c, b->b_rptr, MBLKL(b));
		if (MBLKL(b) > 0)
			return FALSE;
	}
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Receiving                                                          */
/* ------------------------------------------------------------------ */

typedef struct {
	SockCursor cur;
	int flags;     /* MSG_* of the call */
	SockWait wait; /* SO_RCVTIMEO, MSG_DONTWAIT */
	SockAddr from; /* the datagram's source */
	size_t whole;  /* the datagram's length */
	int msg_flags; /* MSG_TRUNC, MSG_OOB for msg_flags */
} RecvArgs;

/* Waits for more, or returns what was read when it cannot. */
static int
recv_block(UsSock *so, RecvArgs *a)
{
	int r = us__sock_wait(so, &a->wait);
	if (r == -EAGAIN && a->cur.done > 0)
		return (int)a->cur.done;
	return r;
}

/* Copies from the queued messages without consuming them (MSG_PEEK). */
static void
stream_peek(UsSock *so, RecvArgs *a)
{
	cursor_rewind(&a->cur);
	for (mblk_t *mp = us__sock_rq(so)->q_first; mp != NULL && a->cur.done < a->cur.want;
	     mp = mp->b_next)
		cursor_copy_msg(&a->cur, mp);
}

/* Takes bytes off the queue; what is left of a message stays in front. */
static void
stream_take(UsSock *so, RecvArgs *a)
{
	queue_t *rq = us__sock_rq(so);
	while (rq->q_first != NULL && a->cur.done < a->cur.want) {
		mblk_t *mp = getq(rq);
		if (!cursor_take_msg(&a->cur, mp)) {
			putbq(rq, mp);
			break;
		}
		freemsg(mp);
	}
	/* Zero-length messages at the front carry nothing: drop them. */
	while (rq->q_first != NULL && msgdsize(rq->q_first) == 0)
		freemsg(getq(rq));
}

static int
stream_not_connected(UsSock *so)
{
	if (so->so_conind > 0)
		return -ENOTCONN;
	if (us__sock_connected(so) || so->so_tstate == TS_WCON_CREQ || so->so_was_connected)
		return 0;
	return -ENOTCONN;
}

static int
op_recv_stream(UsHead *h, gpointer data)
{
	UsSock *so = h->sh_hook_data;
	RecvArgs *a = data;
	int e = us__sock_stream_error(so, FALSE);
	if (e)
		return a->cur.done > 0 ? (int)a->cur.done : -e;
	int r = stream_not_connected(so);
	if (r != 0 || so->so_shut_rd)
		return r != 0 ? r : (int)a->cur.done;
	if (a->flags & MSG_PEEK) {
		stream_peek(so, a);
	} else if (us__sock_rq(so)->q_first != NULL) {
		stream_take(so, a);
		us__head_changed(h); /* only on a change: waiters watch sh_gen */
	}
	if (a->cur.done >= a->cur.want || (a->cur.done > 0 && !(a->flags & MSG_WAITALL)))
		return (int)a->cur.done;
	if (so->so_error)
		return a->cur.done > 0 ? (int)a->cur.done : -us__sock_take_error(so);
	if (so->so_rcv_eof || h->sh_hangup)
		return (int)a->cur.done;
	return recv_block(so, a);
}

/* The out-of-band byte (TCP urgent data as Linux gives it: never waits). */
static int
op_recv_oob(UsHead *h, gpointer data)
{
	UsSock *so = h->sh_hook_data;
	RecvArgs *a = data;
	if (so->so_oob < 0)
		return -EINVAL;
	unsigned char byte = (unsigned char)so->so_oob;
	a->msg_flags |= MSG_OOB;
	size_t n = cursor_put(&a->cur, &byte, 1);
	if (!(a->flags & MSG_PEEK) && n > 0) {
		so->so_oob = -1;
		us__head_changed(h);
	}
	return (int)n;
}

/* The first datagram on the queue with its source, or NULL. */
static mblk_t *
dgram_front(UsSock *so, SockAddr *from, mblk_t **datap)
{
	mblk_t *mp = us__sock_rq(so)->q_first;
	from->len = 0;
	if (mp == NULL)
		return NULL;
	*datap = mp;
	if (DB_TYPE(mp) != M_DATA) {
		struct T_unitdata_ind ui;
		if (MBLKL(mp) >= sizeof ui) {
			memcpy(&ui, mp->b_rptr, sizeof ui);
			us__tpi_addr(mp, ui.SRC_length, ui.SRC_offset, from);
		}
		*datap = mp->b_cont;
	}
	return mp;
}

static int
op_recv_dgram(UsHead *h, gpointer data)
{
	UsSock *so = h->sh_hook_data;
	RecvArgs *a = data;
	int e = us__sock_stream_error(so, FALSE);
	if (e == 0)
		e = us__sock_take_error(so);
	if (e)
		return -e;
	if (so->so_shut_rd)
		return 0;
	mblk_t *dp = NULL;
	mblk_t *mp = dgram_front(so, &a->from, &dp);
	if (mp == NULL)
		return h->sh_hangup ? 0 : recv_block(so, a);
	cursor_rewind(&a->cur);
	cursor_copy_msg(&a->cur, dp);
	a->whole = msgdsize(dp);
	if (a->whole > a->cur.done)
		a->msg_flags |= MSG_TRUNC;
	if (!(a->flags & MSG_PEEK)) {
		if (a->whole > a->cur.done)
			so->so_stats.truncated++;
		freemsg(getq(us__sock_rq(so)));
		us__head_changed(h);
	}
	return (int)((a->flags & MSG_TRUNC) ? a->whole : a->cur.done);
}

static ssize_t
sock_recv(UsSock *so, struct msghdr *msg, int flags)
{
	if (flags & MSG_ERRQUEUE)
		return us__errno_ret(-EAGAIN); /* no error queue */
	gboolean dgram = us__sock_is_dgram(so);
	if ((flags & MSG_OOB) && dgram)
		return us__errno_ret(-EOPNOTSUPP);
	RecvArgs a;
	memset(&a, 0, sizeof a);
	a.flags = flags;
	cursor_init(&a.cur, msg->msg_iov, (int)msg->msg_iovlen,
		    !dgram && (flags & MSG_TRUNC) && !(flags & MSG_PEEK));
	us__sock_wait_init(&a.wait, SOCK_WAIT_RCV, (flags & MSG_DONTWAIT) != 0);
	int (*op)(UsHead *, gpointer) = (flags & MSG_OOB) ? op_recv_oob
					: dgram           ? op_recv_dgram
							  : op_recv_stream;
	int r = us__head_run(so->so_head, op, &a);
	us__sock_wait_end(so, &a.wait);
	if (r == -EDEADLK && a.cur.done > 0 && !dgram)
		r = (int)a.cur.done;
	if (r < 0)
		return us__errno_ret(r);
	if (msg->msg_name != NULL && msg->msg_namelen > 0 && a.from.len > 0)
		memcpy(msg->msg_name, &a.from.sa, MIN(msg->msg_namelen, a.from.len));
	msg->msg_namelen = a.from.len;
	msg->msg_controllen = 0;
	msg->msg_flags = a.msg_flags;
	return r;
}

/* Checks an iovec array as the system calls do: 0 or -errno. */
static int
iov_check(const struct iovec *iov, size_t iovcnt, size_t *total)
{
	if (iovcnt > IOV_MAX)
		return -EMSGSIZE;
	if (iovcnt > 0 && iov == NULL)
		return -EFAULT;
	*total = 0;
	for (size_t i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0 && iov[i].iov_base == NULL)
			return -EFAULT;
		if (iov[i].iov_len > (size_t)INT_MAX - *total)
			return -EINVAL;
		*total += iov[i].iov_len;
	}
	return 0;
}

ssize_t
us_recvmsg(int fd, struct msghdr *msg, int flags)
{
	int err;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	size_t total;
	if (msg == NULL)
		return us__errno_ret(-EFAULT);
	int r = iov_check(msg->msg_iov, msg->msg_iovlen, &total);
	if (r != 0)
		return us__errno_ret(r);
	return sock_recv(so, msg, flags);
}

ssize_t
us_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *src, socklen_t *srclen)
{
	if (src != NULL && srclen == NULL)
		return us__errno_ret(-EFAULT);
	if (srclen != NULL && (int)*srclen < 0)
		return us__errno_ret(-EINVAL);
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (src != NULL) {
		msg.msg_name = src;
		msg.msg_namelen = *srclen;
	}
	ssize_t r = us_recvmsg(fd, &msg, flags);
	if (r >= 0 && src != NULL)
		*srclen = msg.msg_namelen;
	return r;
}

ssize_t
us_recv(int fd, void *buf, size_t len, int flags)
{
	return us_recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t
us__sock_readv(UsHead *h, const struct iovec *iov, int iovcnt)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	size_t total;
	int r = iov_check(iov, (size_t)iovcnt, &total);
	if (r != 0)
		return us__errno_ret(r == -EMSGSIZE ? -EINVAL : r);
	return sock_recv(h->sh_hook_data, &msg, 0);
}

/* ------------------------------------------------------------------ */
/* Sending                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
	const struct iovec *iov;
	int iovcnt;
	int idx;       /* iovec being read */
	size_t off;    /* offset in it */
	size_t total;  /* bytes to send */
	size_t done;   /* bytes sent */
	int flags;     /* MSG_* of the call */
	SockAddr dest; /* datagrams: the address given (len 0: none) */
	SockWait wait; /* SO_SNDTIMEO, MSG_DONTWAIT */
} SendArgs;

static void
send_gather(SendArgs *a, unsigned char *dst, size_t n)
{
	while (n > 0) {
		size_t room = a->iov[a->idx].iov_len - a->off;
		size_t k = MIN(room, n);
		memcpy(dst, (const char *)a->iov[a->idx].iov_base + a->off, k);
		dst += k;
		n -= k;
		a->off += k;
		if (a->off == a->iov[a->idx].iov_len) {
			a->idx++;
			a->off = 0;
		}
	}
}

/* An M_DATA block of the next n bytes, with the head's write offset. */
static mblk_t *
send_data(UsSock *so, SendArgs *a, size_t n)
{
	guint wroff = so->so_head->sh_wroff;
	mblk_t *mp = allocb(wroff + n, BPRI_MED);
	if (mp == NULL)
		return NULL;
	mp->b_rptr += wroff;
	mp->b_wptr = mp->b_rptr;
	send_gather(a, mp->b_wptr, n);
	mp->b_wptr += n;
	return mp;
}

/* A primitive (built by the caller) with all the data behind it. */
static int
send_proto(UsSock *so, SendArgs *a, mblk_t *proto)
{
	mblk_t *dp = proto != NULL ? send_data(so, a, a->total) : NULL;
	if (dp == NULL) {
		freemsg(proto);
		return -ENOSR;
	}
	proto->b_cont = dp;
	putnext(us__sock_wq(so), proto);
	a->done = a->total;
	return (int)a->total;
}

/* Errors that stop a send before anything goes. */
static int
send_errors(UsSock *so)
{
	int e = us__sock_stream_error(so, TRUE);
	if (e == 0)
		e = us__sock_take_error(so);
	if (e == 0 && so->so_shut_wr)
		e = EPIPE;
	return -e;
}

static int
op_send_dgram(UsHead *h, gpointer data)
{
	UsSock *so = h->sh_hook_data;
	SendArgs *a = data;
	int r = send_errors(so);
	if (r != 0)
		return r;
	if (so->so_tstate == TS_UNBND)
		return SOCK_AUTOBIND;
	const SockAddr *dest = a->dest.len > 0 ? &a->dest : NULL;
	if (dest == NULL && so->so_tstate == TS_DATA_XFER)
		dest = &so->so_faddr;
	if (dest == NULL)
		return -EDESTADDRREQ;
	if ((so->so_tsdu > 0 && a->total > (size_t)so->so_tsdu) || so->so_tsdu == T_INVALID)
		return -EMSGSIZE;
	if (!canputnext(us__sock_wq(so)))
		return us__sock_wait(so, &a->wait);
	mblk_t *mp =
		us__tpi_alloc(sizeof(struct T_unitdata_req), dest->len, M_PROTO, T_UNITDATA_REQ);
	if (mp != NULL) {
		struct T_unitdata_req *ud = (struct T_unitdata_req *)mp->b_rptr;
		us__tpi_append(mp, &dest->sa, dest->len, &ud->DEST_length, &ud->DEST_offset);
	}
	return send_proto(so, a, mp);
}

/* Connection state for sending: 0 to go on, or an op result. */
static int
stream_send_state(UsSock *so, SendArgs *a)
{
	if (so->so_tstate == TS_WCON_CREQ)
		return us__sock_wait(so, &a->wait); /* Linux waits for the connect */
	if (so->so_tstate == TS_DATA_XFER || so->so_tstate == TS_WREQ_ORDREL)
		return 0;
	return so->so_was_connected ? -EPIPE : -ENOTCONN;
}

static int
send_oob(UsSock *so, SendArgs *a)
{
	if (so->so_etsdu == T_INVALID || so->so_etsdu == 0)
		return -EOPNOTSUPP;
	if (!canputnext(us__sock_wq(so)))
		return us__sock_wait(so, &a->wait);
	return send_proto(so, a,
			  us__tpi_alloc(sizeof(struct T_exdata_req), 0, M_PROTO, T_EXDATA_REQ));
}

static int
op_send_stream(UsHead *h, gpointer data)
{
	UsSock *so = h->sh_hook_data;
	SendArgs *a = data;
	int r = send_errors(so);
	if (r == 0)
		r = stream_send_state(so, a);
	if (r != 0)
		return a->done > 0 ? (int)a->done : r;
	if (a->flags & MSG_OOB)
		return send_oob(so, a);
	size_t seg = us__head_write_seg_max(h);
	if (so->so_tidu > 0)
		seg = MIN(seg, (size_t)so->so_tidu);
	queue_t *wq = us__sock_wq(so);
	while (a->done < a->total) {
		if (!canputnext(wq)) {
			r = us__sock_wait(so, &a->wait);
			return r == -EAGAIN && a->done > 0 ? (int)a->done : r;
		}
		size_t n = MIN(seg, a->total - a->done);
		mblk_t *mp = send_data(so, a, n);
		if (mp == NULL)
			return a->done > 0 ? (int)a->done : -ENOSR;
		a->done += n;
		putnext(wq, mp);
	}
	return (int)a->done;
}

static ssize_t
sock_send(UsSock *so, const struct iovec *iov, int iovcnt, const struct sockaddr *name,
	  socklen_t namelen, int flags)
{
	gboolean dgram = us__sock_is_dgram(so);
	SendArgs a;
	memset(&a, 0, sizeof a);
	a.iov = iov;
	a.iovcnt = iovcnt;
	a.flags = flags;
	int r = iov_check(iov, (size_t)iovcnt, &a.total);
	if (r == 0 && (flags & MSG_OOB) && dgram)
		r = -EOPNOTSUPP;
	if (r == 0 && dgram && name != NULL)
		r = us__sock_addr_in(so, name, namelen, &a.dest, FALSE);
	if (r == 0 && a.dest.len > 0 && so->so_domain == AF_INET && so->so_type == SOCK_DGRAM &&
	    ((struct sockaddr_in *)&a.dest.sa)->sin_port == 0)
		r = -EINVAL; /* UDP cannot send to port 0 (Linux) */
	if (r != 0)
		return us__errno_ret(r);
	us__sock_wait_init(&a.wait, SOCK_WAIT_SND, (flags & MSG_DONTWAIT) != 0);
	int (*op)(UsHead *, gpointer) = dgram ? op_send_dgram : op_send_stream;
	while ((r = us__head_run(so->so_head, op, &a)) == SOCK_AUTOBIND) {
		if ((r = us__sock_autobind(so)) != 0)
			break;
	}
	us__sock_wait_end(so, &a.wait);
	if (r == -EDEADLK && a.done > 0)
		r = (int)a.done; /* stuck after some data went: report it */
	return us__errno_ret(r);
}

ssize_t
us_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	int err;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	if (msg == NULL)
		return us__errno_ret(-EFAULT);
	/* A name of length 0 is no name (Linux). */
	const struct sockaddr *name = msg->msg_namelen > 0 ? msg->msg_name : NULL;
	return sock_send(so, msg->msg_iov, (int)MIN(msg->msg_iovlen, (size_t)INT_MAX), name,
			 msg->msg_namelen, flags);
}

ssize_t
us_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *dest,
	  socklen_t destlen)
{
	int err;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	struct iovec iov = { (void *)buf, len };
	return sock_send(so, &iov, 1, dest, destlen, flags);
}

ssize_t
us_send(int fd, const void *buf, size_t len, int flags)
{
	return us_sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t
us__sock_writev(UsHead *h, const struct iovec *iov, int iovcnt)
{
	return sock_send(h->sh_hook_data, iov, iovcnt, NULL, 0, 0);
}
