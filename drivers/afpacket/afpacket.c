/* SPDX-License-Identifier: MIT */
/*
 * afpacket -- a driver that exchanges raw Ethernet frames with an existing
 * Linux network interface through an AF_PACKET SOCK_RAW socket.
 *
 * Theory
 * ------
 * Each open is a clone open; the stream attaches with AFP_ATTACH or the
 * "ifname" parameter (afpacket.h).  Attaching looks the interface up
 * (if_nametoindex: ENODEV), opens a non-blocking packet socket with
 * protocol 0 (so nothing is queued before the bind), binds it to the
 * interface for ETH_P_ALL, asks for PACKET_IGNORE_OUTGOING, and adds the
 * promiscuous membership when "promisc" is set.
 *
 * I/O runs on the world's thread: the socket is watched with
 * us_fd_watch_add() on the world's GMainContext; the callback runs on the
 * world like a put procedure.
 *
 * Read side.  Batched with recvmmsg(): up to "batch" frames per call and one
 * call per wakeup, each frame received straight into a message buffer
 * (allocb of MTU + 18; buffers left unused by one call are kept for the
 * next).  Frames whose sll_pkttype is PACKET_OUTGOING (the host's own
 * transmissions, should the kernel lack PACKET_IGNORE_OUTGOING) are not
 * delivered; frames cut short (MSG_TRUNC) are dropped.  Before the call, a
 * full stream above (canputnext) pauses the G_IO_IN watch; frames of a batch
 * that find the stream above full wait on our read queue (never dropped) and
 * the read service procedure, back-enabled when the reader drains, sends
 * them up and resumes the watch.
 *
 * Write side.  M_DATA is sent at once (sendmsg of the message's blocks, no
 * copy) when nothing waits.  EAGAIN puts the frame on the write queue
 * (noenable'd) and watches G_IO_OUT; writability enables the write service
 * procedure, which sends what waits with sendmmsg(), "batch" frames per
 * call, in order.  ENOBUFS (the device's queue is full) drops the frame
 * (drop_nobufs): waiting for writability would not help.  Other errors drop
 * it too (drop_send, each errno logged once in a row).
 *
 * Messages consumed on the write side: M_DATA, M_IOCTL (AFP_ATTACH,
 * AFP_STATUS; others NAKed), M_FLUSH (canonical driver handling); others are
 * dropped as unhandled.  Produced on the read side: M_DATA only.
 *
 * Ring or batch: this driver uses recvmmsg/sendmmsg, not a TPACKET_V3 ring:
 * one system call per batch, frames land directly in message buffers that
 * go up the stream unchanged (a ring would need a copy out of the ring, or
 * esballoc'd buffers pinning ring blocks until every frame of a block is
 * freed).
 *
 * Deviations: an interface that goes away is not reported upstream (the
 * socket just stops receiving; sends fail with ENXIO and are counted).  The
 * receive buffer size is fixed at attach from the MTU then.
 */
#define G_LOG_DOMAIN "us-afpacket"

#include "afpacket.h"

#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define AFP_LINK_ROOM 18 /* Ethernet header + one 802.1Q tag */
#define AFP_BATCH_MAX 256
#define AFP_IOV_PER_MSG 8

typedef struct AfpState AfpState;

/* Per-open state (q_ptr of both queues). */
struct AfpState {
	char *ifname;              /* parameter: interface name */
	gboolean promisc;          /* parameter: promiscuous membership */
	guint64 batch;             /* parameter: frames per call */
	guint64 frames_in;         /* frames delivered up */
	guint64 bytes_in;          /* their bytes */
	guint64 frames_out;        /* frames sent */
	guint64 bytes_out;         /* their bytes */
	guint64 wakeups;           /* read callbacks */
	guint64 errors;            /* socket errors, allocation failures */
	guint64 outgoing_ignored;  /* own transmissions not delivered */
	guint64 drop_detached;     /* frames written before attaching */
	guint64 drop_send;         /* frames the socket refused */
	guint64 drop_truncated;    /* frames longer than the buffers */
	guint64 drop_nobufs;       /* frames refused with ENOBUFS */
	guint64 flow_stops;        /* reading paused for flow control */
	guint64 write_waits;       /* sends that met EAGAIN */
	guint64 attached;          /* 1 while attached */
	guint64 ifindex;           /* interface index */
	guint64 mtu;               /* interface MTU at attach */
	queue_t *rq;               /* our read queue */
	UsWorld *world;            /* our stack's world */
	int fd;                    /* packet socket, -1 when detached */
	UsFdWatch *watch;          /* fd watch, NULL when detached */
	GIOCondition events;       /* what src watches now */
	GIOCondition revents;      /* what the current dispatch saw */
	gboolean promisc_on;       /* the membership is in place */
	size_t rx_size;            /* bytes allocated per frame */
	mblk_t **rx_bufs;          /* AFP_BATCH_MAX receive buffers, NULL = none yet */
	struct mmsghdr *msgs;      /* AFP_BATCH_MAX headers, shared by rx and tx */
	struct iovec *iovs;        /* AFP_BATCH_MAX * AFP_IOV_PER_MSG */
	struct sockaddr_ll *addrs; /* AFP_BATCH_MAX source addresses */
	bufcall_id_t bufcall;      /* waiting for memory, 0 if not */
	int last_errno;            /* last logged errno, to log once */
	guint8 mac[6];             /* the interface's MAC */
};

enum {
	AFP_DROP_DETACHED,
	AFP_DROP_SEND,
	AFP_DROP_TRUNCATED,
	AFP_DROP_NOBUFS,
};
static const char *const afp_drop_reasons[] = {
	"not attached to an interface", "send failed", "longer than the receive buffer",
	"device queue full (ENOBUFS)",  NULL,
};

/* ------------------------------------------------------------------ */
/* The socket watch                                                   */
/* ------------------------------------------------------------------ */

static void afp_io(gpointer data);

/* The fd is ready: note what for and run the I/O (on the world). */
static void
afp_on_fd(gpointer data, GIOCondition revents)
{
	AfpState *as = data;
	as->revents = revents;
	afp_io(as);
}

/* Watches exactly `events` on the fd. */
static void
afp_watch(AfpState *as, GIOCondition events)
{
	if (as->watch == NULL || as->events == events)
		return;
	as->events = events;
	us_fd_watch_set(as->watch, events);
}

static void
afp_watch_start(AfpState *as)
{
	as->events = G_IO_IN;
	as->watch = us_fd_watch_add(as->world, as->fd, as->events, afp_on_fd, as);
}

static void
afp_watch_stop(AfpState *as)
{
	us_fd_watch_remove(as->watch);
	as->watch = NULL;
	as->events = 0;
}

/* Logs an error the first time this errno is seen in a row. */
static void
afp_log_errno(AfpState *as, const char *what, int err)
{
	as->errors++;
	if (err == as->last_errno)
		return;
	as->last_errno = err;
	g_warning("afpacket %s: %s: %s", as->ifname, what, g_strerror(err));
}

/* ------------------------------------------------------------------ */
/* Attaching                                                          */
/* ------------------------------------------------------------------ */

/* Adds or drops the promiscuous membership to match "promisc". */
static int
afp_apply_promisc(AfpState *as)
{
	if (as->fd < 0 || as->promisc_on == as->promisc)
		return 0;
	struct packet_mreq mr = { .mr_ifindex = (int)as->ifindex, .mr_type = PACKET_MR_PROMISC };
	int opt = as->promisc ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP;
	if (setsockopt(as->fd, SOL_PACKET, opt, &mr, sizeof mr) < 0) {
		int err = errno;
		g_info("afpacket %s: cannot %s promiscuous mode: %s", as->ifname,
		       as->promisc ? "enter" : "leave", g_strerror(err));
		return err;
	}
	as->promisc_on = as->promisc;
	return 0;
}

/* Reads the MTU and MAC through the socket. */
static void
afp_read_identity(AfpState *as)
{
	struct ifreq ifr = { 0 };
	g_strlcpy(ifr.ifr_name, as->ifname, sizeof ifr.ifr_name);
	as->mtu = ioctl(as->fd, SIOCGIFMTU, &ifr) == 0 ? (guint64)ifr.ifr_mtu : 1500;
	g_strlcpy(ifr.ifr_name, as->ifname, sizeof ifr.ifr_name);
	if (ioctl(as->fd, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(as->mac, ifr.ifr_hwaddr.sa_data, sizeof as->mac);
}

/* Opens the socket bound to ifindex.  Returns the fd, or -1 with errno. */
static int
afp_open_socket(const char *name, unsigned int ifindex)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;
		g_info("afpacket %s: cannot open a packet socket: %s%s", name, g_strerror(err),
		       err == EPERM ? " (needs CAP_NET_RAW)" : "");
		errno = err;
		return -1;
	}
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)ifindex };
	if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
		int err = errno;
		g_info("afpacket %s: cannot bind to the interface: %s", name, g_strerror(err));
		close(fd);
		errno = err;
		return -1;
	}
	int one = 1;
	/* Older kernels lack it; sll_pkttype filtering covers them. */
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
	return fd;
}

static void
afp_alloc_batch_arrays(AfpState *as)
{
	as->rx_bufs = g_new0(mblk_t *, AFP_BATCH_MAX);
	as->msgs = g_new0(struct mmsghdr, AFP_BATCH_MAX);
	as->iovs = g_new0(struct iovec, AFP_BATCH_MAX * AFP_IOV_PER_MSG);
	as->addrs = g_new0(struct sockaddr_ll, AFP_BATCH_MAX);
}

static void
afp_detach(AfpState *as)
{
	afp_watch_stop(as);
	if (as->fd >= 0)
		close(as->fd); /* drops the promiscuous membership too */
	as->fd = -1;
	as->promisc_on = FALSE;
	as->attached = 0;
	if (as->rx_bufs != NULL)
		for (guint i = 0; i < AFP_BATCH_MAX; i++)
			g_clear_pointer(&as->rx_bufs[i], freemsg);
	g_clear_pointer(&as->rx_bufs, g_free);
	g_clear_pointer(&as->msgs, g_free);
	g_clear_pointer(&as->iovs, g_free);
	g_clear_pointer(&as->addrs, g_free);
}

/* Attaches to as->ifname.  Returns 0 or an errno (logged). */
static int
afp_attach(AfpState *as)
{
	if (as->fd >= 0)
		return EBUSY;
	if (as->ifname == NULL || as->ifname[0] == '\0' || strlen(as->ifname) >= AFP_NAMESZ)
		return EINVAL;
	unsigned int ifindex = if_nametoindex(as->ifname);
	if (ifindex == 0) {
		g_info("afpacket %s: no such interface", as->ifname);
		return ENODEV;
	}
	int fd = afp_open_socket(as->ifname, ifindex);
	if (fd < 0)
		return errno;
	as->fd = fd;
	as->ifindex = ifindex;
	int err = afp_apply_promisc(as);
	if (err != 0) {
		afp_detach(as);
		return err;
	}
	afp_read_identity(as);
	as->rx_size = (size_t)as->mtu + AFP_LINK_ROOM;
	afp_alloc_batch_arrays(as);
	as->attached = 1;
	afp_watch_start(as);
	g_info("afpacket %s: attached (ifindex %u, mtu %" G_GUINT64_FORMAT "%s)", as->ifname,
	       ifindex, as->mtu, as->promisc ? ", promiscuous" : "");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Read side                                                          */
/* ------------------------------------------------------------------ */

/* Makes sure n receive buffers exist.  Returns how many do (fewer when
 * memory is short). */
static guint
afp_fill_buffers(AfpState *as, guint n)
{
	for (guint i = 0; i < n; i++) {
		if (as->rx_bufs[i] != NULL)
			continue;
		as->rx_bufs[i] = allocb(as->rx_size, BPRI_MED);
		if (as->rx_bufs[i] == NULL)
			return i;
	}
	return n;
}

static void
afp_bufcall_fire(void *arg)
{
	AfpState *as = arg;
	as->bufcall = 0;
	qenable(as->rq);
}

/* Sends a received frame up, or queues it when the reader is full
 * (consumes mp). */
static void
afp_deliver(AfpState *as, mblk_t *mp)
{
	queue_t *rq = as->rq;
	as->frames_in++;
	as->bytes_in += MBLKL(mp);
	if (rq->q_first == NULL && canputnext(rq)) {
		putnext(rq, mp);
		return;
	}
	as->frames_in--; /* counted again when it goes up from the queue */
	as->bytes_in -= MBLKL(mp);
	putq(rq, mp);
	if (as->events & G_IO_IN) {
		as->flow_stops++;
		afp_watch(as, as->events & ~G_IO_IN);
	}
}

/* Takes received frame i out of the buffers and delivers or drops it. */
static void
afp_take(AfpState *as, guint i)
{
	mblk_t *mp = g_steal_pointer(&as->rx_bufs[i]);
	struct mmsghdr *m = &as->msgs[i];
	if (as->addrs[i].sll_pkttype == PACKET_OUTGOING) {
		as->outgoing_ignored++;
		freemsg(mp); /* not a drop: the host's own frame was never ours */
		return;
	}
	if (m->msg_hdr.msg_flags & MSG_TRUNC) {
		as->drop_truncated++;
		us_drop(as->rq, mp, AFP_DROP_TRUNCATED);
		return;
	}
	mp->b_wptr += m->msg_len;
	afp_deliver(as, mp);
}

/* One recvmmsg() of up to "batch" frames, when the reader has room. */
static void
afp_read_batch(AfpState *as)
{
	queue_t *rq = as->rq;
	as->wakeups++;
	if (rq->q_first != NULL || !canputnext(rq)) {
		as->flow_stops++;
		afp_watch(as, as->events & ~G_IO_IN);
		return;
	}
	guint n = afp_fill_buffers(as, (guint)as->batch);
	if (n == 0) {
		as->errors++;
		if (as->bufcall == 0)
			as->bufcall = qbufcall(rq, as->rx_size, BPRI_MED, afp_bufcall_fire, as);
		if (as->bufcall != 0)
			afp_watch(as, as->events & ~G_IO_IN);
		return;
	}
	for (guint i = 0; i < n; i++) {
		as->iovs[i] = (struct iovec){ as->rx_bufs[i]->b_wptr, as->rx_size };
		as->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &as->addrs[i],
						       .msg_namelen = sizeof as->addrs[i],
						       .msg_iov = &as->iovs[i],
						       .msg_iovlen = 1 };
	}
	int r;
	do
		r = recvmmsg(as->fd, as->msgs, n, MSG_DONTWAIT, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			afp_log_errno(as, "receive", errno);
		return;
	}
	as->last_errno = 0;
	for (guint i = 0; i < (guint)r; i++)
		afp_take(as, i);
}

/* Clears a pending socket error (G_IO_ERR), e.g. ENETDOWN. */
static void
afp_socket_error(AfpState *as)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(as->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
		afp_log_errno(as, "socket error", err);
}

/* I/O callback on the world's thread. */
static void
afp_io(gpointer data)
{
	AfpState *as = data;
	GIOCondition rev = as->revents;
	if (rev & G_IO_ERR)
		afp_socket_error(as);
	if (rev & G_IO_OUT) {
		afp_watch(as, as->events & ~G_IO_OUT);
		qenable(WR(as->rq));
	}
	if ((rev & G_IO_IN) && (as->events & G_IO_IN))
		afp_read_batch(as);
}

/* Read put: nothing comes from below a driver; pass on whatever does. */
static int
afp_rput(queue_t *rq, mblk_t *mp)
{
	putnext(rq, mp);
	return 0;
}

/* Read service: sends up frames that waited for the reader, then resumes
 * watching the socket. */
static int
afp_rsrv(queue_t *rq)
{
	AfpState *as = rq->q_ptr;
	mblk_t *mp;
	while ((mp = getq(rq)) != NULL) {
		if (!canputnext(rq)) {
			putbq(rq, mp);
			return 0;
		}
		as->frames_in++;
		as->bytes_in += MBLKL(mp);
		putnext(rq, mp);
	}
	if (as->watch != NULL && as->bufcall == 0)
		afp_watch(as, as->events | G_IO_IN);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static int
afp_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)oflag;
	(void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO;
	static gint next_minor = 1;
	AfpState *as = g_new0(AfpState, 1);
	as->batch = 32;
	as->fd = -1;
	as->rq = rq;
	as->world = us_queue_world(rq);
	rq->q_ptr = WR(rq)->q_ptr = as;
	noenable(WR(rq)); /* the write service runs only when the socket is writable */
	*devp = makedevice(getmajor(*devp), g_atomic_int_add(&next_minor, 1) & US_MAXMIN);
	return 0;
}

static int
afp_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	AfpState *as = rq->q_ptr;
	if (as->bufcall != 0)
		qunbufcall(rq, as->bufcall);
	afp_detach(as);
	g_free(as->ifname);
	g_free(as);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Write side                                                         */
/* ------------------------------------------------------------------ */

/* Points msg at the blocks of *mpp (flattened first when it has too many).
 * Returns the frame's length, or -1 when flattening found no memory. */
static gssize
afp_frame_iov(mblk_t **mpp, struct msghdr *msg, struct iovec *iov)
{
	guint blocks = 0;
	for (mblk_t *b = *mpp; b != NULL; b = b->b_cont)
		blocks++;
	if (blocks > AFP_IOV_PER_MSG) {
		mblk_t *flat = us_msgpullup_all(*mpp);
		if (flat == NULL)
			return -1;
		freemsg(*mpp);
		*mpp = flat;
	}
	size_t n = 0, len = 0;
	for (mblk_t *b = *mpp; b != NULL; b = b->b_cont) {
		if (DB_TYPE(b) != M_DATA || MBLKL(b) == 0)
			continue;
		iov[n++] = (struct iovec){ b->b_rptr, MBLKL(b) };
		len += MBLKL(b);
	}
	*msg = (struct msghdr){ .msg_iov = iov, .msg_iovlen = n };
	return (gssize)len;
}

/* A frame left: count and free it (consumes mp). */
static void
afp_sent(AfpState *as, mblk_t *mp, size_t len)
{
	as->frames_out++;
	as->bytes_out += len;
	freemsg(mp);
}

/* A frame the socket refused with err (not EAGAIN): dropped (consumes mp). */
static void
afp_send_failed(AfpState *as, queue_t *wq, mblk_t *mp, int err)
{
	if (err == ENOBUFS) {
		as->drop_nobufs++;
		us_drop(wq, mp, AFP_DROP_NOBUFS);
		return;
	}
	afp_log_errno(as, "send", err);
	as->drop_send++;
	us_drop(wq, mp, AFP_DROP_SEND);
}

/* Sends one frame now.  Returns 0 (sent or dropped: consumed) or EAGAIN
 * (*mpp is still the caller's, perhaps flattened). */
static int
afp_send_one(AfpState *as, queue_t *wq, mblk_t **mpp)
{
	struct msghdr msg;
	struct iovec iov[AFP_IOV_PER_MSG];
	gssize len = afp_frame_iov(mpp, &msg, iov);
	if (len < 0)
		return EAGAIN;
	ssize_t r;
	do
		r = sendmsg(as->fd, &msg, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return EAGAIN;
	if (r < 0)
		afp_send_failed(as, wq, *mpp, errno);
	else
		afp_sent(as, *mpp, (size_t)len);
	*mpp = NULL;
	return 0;
}

/* A frame written down (consumes mp): out at once unless others wait. */
static void
afp_wput_data(queue_t *wq, mblk_t *mp)
{
	AfpState *as = wq->q_ptr;
	if (as->fd < 0) {
		as->drop_detached++;
		us_drop(wq, mp, AFP_DROP_DETACHED);
		return;
	}
	if (wq->q_first == NULL && afp_send_one(as, wq, &mp) == 0)
		return;
	if (wq->q_first == NULL)
		as->write_waits++;
	putq(wq, mp);
	afp_watch(as, as->events | G_IO_OUT);
}

/* Takes up to "batch" waiting frames into the send arrays; returns how
 * many (frames[i] holds them, lens[i] their lengths). */
static guint
afp_gather(AfpState *as, queue_t *wq, mblk_t **frames, size_t *lens)
{
	guint n = 0;
	mblk_t *mp;
	while (n < as->batch && (mp = getq(wq)) != NULL) {
		gssize len =
			afp_frame_iov(&mp, &as->msgs[n].msg_hdr, &as->iovs[n * AFP_IOV_PER_MSG]);
		if (len < 0) {
			putbq(wq, mp);
			break;
		}
		frames[n] = mp;
		lens[n++] = (size_t)len;
	}
	return n;
}

/* Write service: the socket became writable; sends what waits, in order,
 * "batch" frames per sendmmsg(). */
static int
afp_wsrv(queue_t *wq)
{
	AfpState *as = wq->q_ptr;
	mblk_t *frames[AFP_BATCH_MAX];
	size_t lens[AFP_BATCH_MAX];
	for (;;) {
		if (as->fd < 0) {
			flushq(wq, FLUSHDATA);
			return 0;
		}
		guint n = afp_gather(as, wq, frames, lens);
		if (n == 0)
			return 0;
		int r;
		do
			r = sendmmsg(as->fd, as->msgs, n, MSG_DONTWAIT);
		while (r < 0 && errno == EINTR);
		int err = r < 0 ? errno : 0;
		guint sent = r < 0 ? 0 : (guint)r;
		for (guint i = 0; i < sent; i++)
			afp_sent(as, frames[i], lens[i]);
		if (sent < n && sent == 0 && err != EAGAIN && err != EWOULDBLOCK) {
			afp_send_failed(as, wq, frames[0], err);
			sent = 1;
		}
		for (guint i = n; i > sent; i--) /* back in order */
			putbq(wq, frames[i - 1]);
		if (sent == 0) {
			as->write_waits++;
			afp_watch(as, as->events | G_IO_OUT);
			return 0;
		}
	}
}

/* AFP_ATTACH: attaches with the request's name and flags. */
static int
afp_ioctl_attach(queue_t *wq, mblk_t *mp)
{
	AfpState *as = wq->q_ptr;
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	struct afp_attach aa;
	if (ioc->ioc_count == TRANSPARENT || mp->b_cont == NULL ||
	    us_msgcopyout(mp->b_cont, 0, &aa, sizeof aa) != sizeof aa ||
	    memchr(aa.aa_name, '\0', sizeof aa.aa_name) == NULL)
		return EINVAL;
	if (as->fd >= 0)
		return EBUSY;
	g_free(as->ifname);
	as->ifname = g_strdup(aa.aa_name);
	as->promisc = (aa.aa_flags & AFP_F_PROMISC) != 0;
	return afp_attach(as);
}

/* AFP_STATUS: the attachment and the main counters. */
static int
afp_ioctl_status(queue_t *wq, mblk_t *mp)
{
	AfpState *as = wq->q_ptr;
	struct afp_status st = { .as_frames_in = as->frames_in, .as_frames_out = as->frames_out };
	if (as->attached) {
		g_strlcpy(st.as_name, as->ifname, sizeof st.as_name);
		st.as_ifindex = (int32_t)as->ifindex;
		st.as_mtu = (uint32_t)as->mtu;
		memcpy(st.as_mac, as->mac, sizeof st.as_mac);
		st.as_flags = as->promisc_on ? AFP_F_PROMISC : 0;
	}
	mblk_t *dp = us_msg_from(&st, sizeof st, 0);
	if (dp == NULL)
		return ENOMEM;
	freemsg(mp->b_cont);
	mp->b_cont = dp;
	((struct iocblk *)mp->b_rptr)->ioc_count = sizeof st;
	return 0;
}

static void
afp_ioctl(queue_t *wq, mblk_t *mp)
{
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	int err;
	switch (ioc->ioc_cmd) {
	case AFP_ATTACH:
		err = afp_ioctl_attach(wq, mp);
		ioc->ioc_count = 0;
		break;
	case AFP_STATUS: err = afp_ioctl_status(wq, mp); break;
	default: err = EINVAL; break;
	}
	if (err != 0)
		miocnak(wq, mp, 0, err);
	else
		miocack(wq, mp, (int)ioc->ioc_count, 0);
}

/* Write put: frames go out at once; ioctls attach and report. */
static int
afp_wput(queue_t *wq, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA: afp_wput_data(wq, mp); break;
	case M_IOCTL: afp_ioctl(wq, mp); break;
	default: us_default_put(wq, mp); break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

static gboolean
afp_param_errno(GError **error, const char *what, int err)
{
	g_set_error(error, US_ERROR, US_ERROR_ERRNO, "afpacket %s: %s", what, g_strerror(err));
	return FALSE;
}

static gboolean
afp_set_ifname(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	int err = afp_attach(rq->q_ptr);
	return err == 0 ? TRUE : afp_param_errno(error, "ifname", err);
}

static gboolean
afp_set_promisc(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	int err = afp_apply_promisc(rq->q_ptr);
	return err == 0 ? TRUE : afp_param_errno(error, "promisc", err);
}

#define AFP_PARAM(nm, desc, ty, fld, lo, hi, hook)                                  \
	{                                                                           \
		.name = (nm), .description = (desc), .type = (ty),                  \
		.offset = G_STRUCT_OFFSET(AfpState, fld), .min = (lo), .max = (hi), \
		.on_set = (hook)                                                    \
	}

static const UsParamDesc afp_params[] = {
	AFP_PARAM("ifname", "interface; setting it attaches", US_PARAM_STRING, ifname, 0, 0,
		  afp_set_ifname),
	AFP_PARAM("promisc", "promiscuous membership", US_PARAM_BOOL, promisc, 0, 0,
		  afp_set_promisc),
	AFP_PARAM("batch", "most frames per recvmmsg/sendmmsg", US_PARAM_UINT, batch, 1,
		  AFP_BATCH_MAX, NULL),
	{ 0 },
};

static const UsStatDesc afp_stats[] = {
	US_STAT("frames_in", "frames delivered up", AfpState, frames_in),
	US_STAT("bytes_in", "bytes delivered up", AfpState, bytes_in),
	US_STAT("frames_out", "frames sent", AfpState, frames_out),
	US_STAT("bytes_out", "bytes sent", AfpState, bytes_out),
	US_STAT("wakeups", "read callbacks", AfpState, wakeups),
	US_STAT("errors", "socket errors and allocation failures", AfpState, errors),
	US_STAT("outgoing_ignored", "own transmissions not delivered", AfpState, outgoing_ignored),
	US_STAT("drop_detached", "frames written while not attached", AfpState, drop_detached),
	US_STAT("drop_send", "frames the socket refused", AfpState, drop_send),
	US_STAT("drop_truncated", "frames longer than the buffers", AfpState, drop_truncated),
	US_STAT("drop_nobufs", "frames refused with ENOBUFS", AfpState, drop_nobufs),
	US_STAT("flow_stops", "times reading paused for flow control", AfpState, flow_stops),
	US_STAT("write_waits", "sends that met EAGAIN and waited", AfpState, write_waits),
	US_STAT("attached", "1 while attached", AfpState, attached),
	US_STAT("ifindex", "index of the interface", AfpState, ifindex),
	US_STAT("mtu", "MTU of the interface at attach", AfpState, mtu),
	{ 0 },
};

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info afp_minfo = {
	.mi_idnum = 1013,
	.mi_idname = "afpacket",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 256 * 1024,
	.mi_lowat = 64 * 1024,
};
static struct qinit afp_rinit = {
	.qi_putp = afp_rput,
	.qi_srvp = afp_rsrv,
	.qi_qopen = afp_open,
	.qi_qclose = afp_close,
	.qi_minfo = &afp_minfo,
};
static struct qinit afp_winit = {
	.qi_putp = afp_wput,
	.qi_srvp = afp_wsrv,
	.qi_minfo = &afp_minfo,
};
static struct streamtab afp_info = { .st_rdinit = &afp_rinit, .st_wrinit = &afp_winit };

static const char *const afp_accepts[] = { "M_DATA (Ethernet frames)", "M_FLUSH",
					   "M_IOCTL (AFP_ATTACH, AFP_STATUS)", NULL };

const UsModuleDesc us_afpacket_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "afpacket",
	.summary = "existing Linux interface through an AF_PACKET socket (recvmmsg/sendmmsg)",
	.kind = US_KIND_DRIVER,
	.streamtab = &afp_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = afp_params,
	.stats = afp_stats,
	.drop_reasons = afp_drop_reasons,
	.accepts = afp_accepts,
};
