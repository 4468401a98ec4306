/* SPDX-License-Identifier: MIT */
/*
 * tap -- a driver at the bottom of an interface stream that exchanges raw
 * Ethernet frames with the Linux kernel through a TAP interface
 * (/dev/net/tun).
 *
 * Theory
 * ------
 * Each open is a clone open; the stream attaches to an interface with
 * TAP_ATTACH or the "ifname" parameter (tap.h).  Attaching opens
 * /dev/net/tun non-blocking, TUNSETIFF with IFF_TAP | IFF_NO_PI (plus
 * IFF_VNET_HDR, IFF_MULTI_QUEUE on request), optionally TUNSETVNETHDRSZ and
 * TUNSETOFFLOAD, then applies "mtu" and "up" through an AF_INET control
 * socket (SIOCSIFMTU, SIOCSIFFLAGS).
 *
 * I/O runs on the world's thread: the fd is watched with us_fd_watch_add()
 * on the world's GMainContext, which the world's thread or
 * us_world_run_until() iterates; the callback runs on the world like a put
 * procedure.
 *
 * Read side.  On G_IO_IN the callback reads up to "batch" frames, each
 * straight into a fresh message (allocb of MTU + 18 bytes, or 64 KiB + 18
 * with offloads, readv'd behind the vnet header when there is one; with
 * offloads a frame of at most 2 KiB is copied into a block of its size and
 * the big buffer kept for the next read), and putnexts each.  Before each read it checks
 * canputnext(): when the stream above is full it stops watching G_IO_IN (flow_stops) and reading
 * resumes when the read service procedure runs, back-enabled once the reader drained.  Frames are
 * never dropped for flow control: an unread frame waits in the kernel's queue (which drops by its
 * own rules when that fills).  An allocation failure pauses reading too and a qbufcall resumes it.
 *
 * Write side.  M_DATA is written at once with writev (the vnet header, then
 * every block of the message: no copy).  Should the write meet EAGAIN the
 * frame waits on the write queue (noenable'd, so putq does not schedule the
 * service procedure) and G_IO_OUT is watched; writability enables the write
 * service procedure, which sends what waits in order.  Later frames queue
 * behind waiting ones, so order is kept; the write queue's water marks stop
 * the modules above.  Other write errors drop the frame (drop_send, logged
 * once per errno).
 *
 * Messages consumed on the write side: M_DATA, M_IOCTL (TAP_ATTACH,
 * TAP_STATUS; others NAKed), M_FLUSH (canonical driver handling); others are
 * dropped as unhandled.  Produced on the read side: M_DATA, and M_HANGUP once
 * when the interface disappears under an attached stream (EBADFD).
 *
 * Offloads ("offload" with "vnet_hdr").  TUNSETOFFLOAD offers the kernel
 * checksum and TCPv4 segmentation offload, so it hands over unsplit TCP
 * segments of up to 64 KiB with their checksum left partial: the driver
 * marks them HCK_PARTIALCKSUM and HW_LSO (stream.h) instead of completing or
 * cutting them, and transports take such checksums as verified (the kernel
 * is trusted as Linux trusts its own CHECKSUM_PARTIAL).  The other way,
 * DLIOCLINKCAPAB tells ether (hence ip) that the kernel completes partial
 * checksums and segments HW_LSO frames of up to 64 KiB; the driver writes
 * them with a vnet header saying so (NEEDS_CSUM, GSO_TCPV4 with the MSS).
 * A partial checksum in a frame that is not IPv4 is completed here.
 *
 * Deviations: only the 10-byte legacy virtio header in host byte order; the MAC of the kernel's
 * side is not settable here (it is the peer's address; the stack owns its own).
 */
#define G_LOG_DOMAIN "us-tap"

#include "tap.h"
#include "../../modules/ip/inet-cksum.h"

#include <ustreams/dlpi.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define TAP_DEV "/dev/net/tun"
#define TAP_LINK_ROOM 18 /* Ethernet header + one 802.1Q tag */
#define TAP_GSO_MAX 65535
#define TAP_VNET_LEN ((int)sizeof(struct virtio_net_hdr))
#define TAP_IOV_MAX 64
#define TAP_COPY_BELOW 2048 /* with offloads, frames up to this long are copied */

typedef struct TapState TapState;

/* Per-open state (q_ptr of both queues). */
struct TapState {
	char *ifname;             /* parameter: interface name */
	gboolean vnet_hdr;        /* parameter: IFF_VNET_HDR */
	gboolean offload;         /* parameter: TUNSETOFFLOAD csum + TSO */
	gboolean multiqueue;      /* parameter: IFF_MULTI_QUEUE */
	guint64 mtu;              /* parameter: interface MTU, 0 = kernel's */
	char *mac;                /* parameter: the interface's (kernel side) MAC, "" keeps it */
	gboolean up;              /* parameter: interface up */
	guint64 batch;            /* parameter: frames per wakeup */
	guint64 frames_in;        /* frames delivered up */
	guint64 bytes_in;         /* their bytes (no vnet header) */
	guint64 frames_out;       /* frames written to the kernel */
	guint64 bytes_out;        /* their bytes (no vnet header) */
	guint64 wakeups;          /* read callbacks */
	guint64 errors;           /* read/write/allocation failures */
	guint64 drop_detached;    /* frames written before attaching */
	guint64 drop_send;        /* frames the kernel refused */
	guint64 drop_vnet_hdr;    /* frames with an unusable vnet header */
	guint64 flow_stops;       /* reading paused for flow control */
	guint64 write_waits;      /* writes that met EAGAIN */
	guint64 csum_completed;   /* NEEDS_CSUM frames completed here */
	guint64 csum_partial_in;  /* ... passed up as HCK_PARTIALCKSUM */
	guint64 csum_partial_out; /* frames written with NEEDS_CSUM */
	guint64 gso_out;          /* HW_LSO frames written for the kernel to cut */
	guint64 gso_in;           /* GSO frames delivered unsplit */
	guint64 gso_tcpv4;        /* ... of type TCPV4 */
	guint64 gso_tcpv6;        /* ... TCPV6 */
	guint64 gso_udp;          /* ... UDP */
	guint64 gso_ecn;          /* ... with the ECN bit */
	guint64 last_gso_type;    /* fields of the last vnet header with */
	guint64 last_gso_size;    /*   GSO or NEEDS_CSUM */
	guint64 last_hdr_len;
	guint64 last_csum_start;
	guint64 last_csum_offset;
	guint64 attached;     /* 1 while attached */
	guint64 ifindex;      /* interface index */
	guint64 hangup;       /* 1 once the interface went away */
	queue_t *rq;          /* our read queue */
	UsWorld *world;       /* our stack's world */
	int fd;               /* /dev/net/tun, -1 when detached */
	UsFdWatch *watch;     /* fd watch, NULL when detached */
	GIOCondition events;  /* what src watches now */
	GIOCondition revents; /* what the current dispatch saw */
	size_t rx_size;       /* bytes allocated per frame read */
	mblk_t *spare;        /* a read buffer kept when a short frame was copied out */
	bufcall_id_t bufcall; /* waiting for memory, 0 if not */
	int last_errno;       /* last logged I/O errno, to log once */
	guint8 kernel_mac[6]; /* the kernel side's MAC */
};

enum {
	TAP_DROP_DETACHED,
	TAP_DROP_SEND,
	TAP_DROP_VNET_HDR,
};
static const char *const tap_drop_reasons[] = {
	"not attached to an interface",
	"write to the interface failed",
	"unusable virtio-net header",
	NULL,
};

/* ------------------------------------------------------------------ */
/* Interface control                                                  */
/* ------------------------------------------------------------------ */

/* Runs one SIOC* ioctl on ifr through a throw-away AF_INET socket.
 * Returns 0 or an errno. */
static int
tap_ifioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errno;
	int err = ioctl(s, req, ifr) < 0 ? errno : 0;
	close(s);
	return err;
}

static void
tap_ifreq(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof *ifr);
	g_strlcpy(ifr->ifr_name, name, sizeof ifr->ifr_name);
}

/* Sets the interface MTU; 0 reads the kernel's into ts->mtu instead. */
static int
tap_apply_mtu(TapState *ts)
{
	struct ifreq ifr;
	tap_ifreq(&ifr, ts->ifname);
	if (ts->mtu == 0) {
		int err = tap_ifioctl(SIOCGIFMTU, &ifr);
		if (err == 0)
			ts->mtu = (guint64)ifr.ifr_mtu;
		return err;
	}
	ifr.ifr_mtu = (int)ts->mtu;
	int err = tap_ifioctl(SIOCSIFMTU, &ifr);
	if (err != 0)
		g_info("tap %s: cannot set MTU %" G_GUINT64_FORMAT ": %s%s", ts->ifname, ts->mtu,
		       g_strerror(err), err == EPERM ? " (needs CAP_NET_ADMIN)" : "");
	return err;
}

/* Sets the kernel side's MAC from "mac" ("" or NULL: leave it). */
static int
tap_apply_mac(TapState *ts)
{
	if (ts->mac == NULL || ts->mac[0] == '\0')
		return 0;
	unsigned int b[6];
	char tail;
	if (sscanf(ts->mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6 ||
	    (b[0] & 1))
		return EINVAL; /* not a MAC, or a group address */
	struct ifreq ifr;
	tap_ifreq(&ifr, ts->ifname);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	for (int i = 0; i < 6; i++)
		ifr.ifr_hwaddr.sa_data[i] = (char)b[i];
	int err = tap_ifioctl(SIOCSIFHWADDR, &ifr);
	if (err != 0)
		g_info("tap %s: cannot set MAC %s: %s%s", ts->ifname, ts->mac, g_strerror(err),
		       err == EPERM ? " (needs CAP_NET_ADMIN)" : "");
	return err;
}

/* Brings the interface up or down as "up" says. */
static int
tap_apply_up(TapState *ts)
{
	struct ifreq ifr;
	tap_ifreq(&ifr, ts->ifname);
	int err = tap_ifioctl(SIOCGIFFLAGS, &ifr);
	if (err != 0)
		return err;
	gboolean is_up = (ifr.ifr_flags & IFF_UP) != 0;
	if (is_up == ts->up)
		return 0;
	ifr.ifr_flags = (short)(ts->up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP);
	err = tap_ifioctl(SIOCSIFFLAGS, &ifr);
	if (err != 0)
		g_info("tap %s: cannot bring it %s: %s%s", ts->ifname, ts->up ? "up" : "down",
		       g_strerror(err), err == EPERM ? " (needs CAP_NET_ADMIN)" : "");
	return err;
}

/* Reads the index and the kernel side's MAC. */
static void
tap_read_identity(TapState *ts)
{
	struct ifreq ifr;
	tap_ifreq(&ifr, ts->ifname);
	if (tap_ifioctl(SIOCGIFINDEX, &ifr) == 0)
		ts->ifindex = (guint64)ifr.ifr_ifindex;
	tap_ifreq(&ifr, ts->ifname);
	if (tap_ifioctl(SIOCGIFHWADDR, &ifr) == 0)
		memcpy(ts->kernel_mac, ifr.ifr_hwaddr.sa_data, sizeof ts->kernel_mac);
}

/* Why opening the device failed, for the log. */
static const char *
tap_open_hint(int err)
{
	switch (err) {
	case ENOENT: return "no " TAP_DEV " (modprobe tun; mknod " TAP_DEV " c 10 200)";
	case ENXIO:
	case ENODEV: return "the kernel has no TUN/TAP support (modprobe tun)";
	case EPERM:
	case EACCES: return "no permission on " TAP_DEV;
	default: return "cannot open " TAP_DEV;
	}
}

/* Why TUNSETIFF failed, for the log. */
static const char *
tap_setiff_hint(int err)
{
	switch (err) {
	case EPERM: return "creating or attaching needs CAP_NET_ADMIN (or the device's owner)";
	case EBUSY: return "the name is in use (another process, or not a TAP)";
	case EINVAL: return "flags do not match the existing interface";
	default: return "TUNSETIFF failed";
	}
}

/* Opens /dev/net/tun and attaches it to `name`.  On success returns the fd
 * and the kernel's name in `name`; else -1 with errno set. */
static int
tap_open_fd(TapState *ts, char name[TAP_NAMESZ])
{
	int fd = open(TAP_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int err = errno == ENODEV ? ENXIO : errno;
		g_info("tap %s: %s: %s", name, tap_open_hint(err), g_strerror(err));
		errno = err;
		return -1;
	}
	struct ifreq ifr;
	tap_ifreq(&ifr, name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ts->vnet_hdr)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (ts->multiqueue)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	int err = ioctl(fd, TUNSETIFF, &ifr) < 0 ? errno : 0;
	if (err != 0) {
		g_info("tap %s: %s: %s", name, tap_setiff_hint(err), g_strerror(err));
	} else if (ts->vnet_hdr) {
		int sz = TAP_VNET_LEN;
		unsigned int off = ts->offload ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN : 0;
		if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0 || ioctl(fd, TUNSETOFFLOAD, off) < 0) {
			err = errno;
			g_info("tap %s: cannot set up the virtio-net header: %s", name,
			       g_strerror(err));
		}
	}
	if (err != 0) {
		close(fd);
		errno = err;
		return -1;
	}
	g_strlcpy(name, ifr.ifr_name, TAP_NAMESZ);
	return fd;
}

/* ------------------------------------------------------------------ */
/* The fd watch                                                       */
/* ------------------------------------------------------------------ */

static void tap_io(gpointer data);

/* The fd is ready: note what for and run the I/O (on the world). */
static void
tap_on_fd(gpointer data, GIOCondition revents)
{
	TapState *ts = data;
	ts->revents = revents;
	tap_io(ts);
}

/* Watches exactly `events` on the fd. */
static void
tap_watch(TapState *ts, GIOCondition events)
{
	if (ts->watch == NULL || ts->events == events)
		return;
	ts->events = events;
	us_fd_watch_set(ts->watch, events);
}

static void
tap_watch_start(TapState *ts)
{
	ts->events = G_IO_IN;
	ts->watch = us_fd_watch_add(ts->world, ts->fd, ts->events, tap_on_fd, ts);
}

static void
tap_watch_stop(TapState *ts)
{
	us_fd_watch_remove(ts->watch);
	ts->watch = NULL;
	ts->events = 0;
}

/* Closes the fd (the interface goes when its last fd does). */
static void
tap_detach(TapState *ts)
{
	tap_watch_stop(ts);
	if (ts->fd >= 0)
		close(ts->fd);
	ts->fd = -1;
	ts->attached = 0;
	freemsg(ts->spare);
	ts->spare = NULL;
}

/* Attaches to ts->ifname with the current parameters.  Returns 0 or an
 * errno (logged); nothing stays open on failure. */
static int
tap_attach(TapState *ts)
{
	if (ts->fd >= 0)
		return EBUSY;
	if (ts->ifname == NULL || strlen(ts->ifname) >= TAP_NAMESZ)
		return EINVAL;
	if (ts->offload && !ts->vnet_hdr)
		return EINVAL;
	char name[TAP_NAMESZ];
	g_strlcpy(name, ts->ifname, sizeof name);
	int fd = tap_open_fd(ts, name);
	if (fd < 0)
		return errno;
	ts->fd = fd;
	g_free(ts->ifname);
	ts->ifname = g_strdup(name);
	int err = tap_apply_mtu(ts);
	if (err == 0)
		err = tap_apply_mac(ts);
	if (err == 0)
		err = tap_apply_up(ts);
	if (err != 0) {
		tap_detach(ts);
		return err;
	}
	tap_read_identity(ts);
	size_t room = ts->offload ? TAP_GSO_MAX : (size_t)ts->mtu;
	ts->rx_size = room + TAP_LINK_ROOM;
	ts->attached = 1;
	ts->hangup = 0;
	tap_watch_start(ts);
	g_info("tap %s: attached (ifindex %" G_GUINT64_FORMAT ", mtu %" G_GUINT64_FORMAT "%s%s%s)",
	       ts->ifname, ts->ifindex, ts->mtu, ts->vnet_hdr ? ", vnet_hdr" : "",
	       ts->offload ? ", offload" : "", ts->multiqueue ? ", multiqueue" : "");
	return 0;
}

/* Logs an I/O error the first time this errno is seen in a row. */
static void
tap_log_errno(TapState *ts, const char *what, int err)
{
	ts->errors++;
	if (err == ts->last_errno)
		return;
	ts->last_errno = err;
	g_warning("tap %s: %s: %s", ts->ifname, what, g_strerror(err));
}

/* The interface vanished (EBADFD, G_IO_ERR): stop and tell the stream. */
static void
tap_hangup(TapState *ts)
{
	if (ts->hangup)
		return;
	ts->hangup = 1;
	tap_watch_stop(ts);
	g_warning("tap %s: the interface went away", ts->ifname);
	putnextctl(ts->rq, M_HANGUP);
}

/* ------------------------------------------------------------------ */
/* Read side                                                          */
/* ------------------------------------------------------------------ */

static guint16
tap_get16(const guint8 *p)
{
	guint16 v;
	memcpy(&v, p, sizeof v);
	return v; /* legacy virtio headers are in the host's order */
}

/* Completes a partial checksum: the field at start + off holds the
 * pseudo-header sum; the Internet checksum of [start, len) goes there. */
static void
tap_complete_csum(guint8 *frame, size_t len, size_t start, size_t off)
{
	uint16_t c = us_cksum_finish(us_cksum_add(0, frame + start, len - start));
	memcpy(frame + start + off, &c, 2);
}

/* Notes a GSO frame's type in the statistics. */
static void
tap_count_gso(TapState *ts, guint8 type)
{
	ts->gso_in++;
	switch (type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4: ts->gso_tcpv4++; break;
	case VIRTIO_NET_HDR_GSO_TCPV6: ts->gso_tcpv6++; break;
	case VIRTIO_NET_HDR_GSO_UDP: ts->gso_udp++; break;
	default: break;
	}
	if (type & VIRTIO_NET_HDR_GSO_ECN)
		ts->gso_ecn++;
}

/* Reads byte off of the message mp (0 past its end). */
static guint8
tap_msg_byte(const mblk_t *mp, size_t off)
{
	for (; mp != NULL; mp = mp->b_cont) {
		if (off < MBLKL(mp))
			return mp->b_rptr[off];
		off -= MBLKL(mp);
	}
	return 0;
}

/* The length of the Ethernet header (with one 802.1Q tag) in front of an
 * IPv4 packet in the frame mp (its blocks however split), or 0 when it is
 * not one. */
static size_t
tap_ipv4_link_len(const mblk_t *mp)
{
	size_t lh = 14;
	if (tap_msg_byte(mp, 12) == 0x81 && tap_msg_byte(mp, 13) == 0x00)
		lh = 18;
	if (msgdsize(mp) < lh + 20 || tap_msg_byte(mp, lh - 2) != 0x08 ||
	    tap_msg_byte(mp, lh - 1) != 0x00)
		return 0;
	return lh;
}

/* Applies the vnet header hdr to the frame in mp: a partial checksum
 * becomes HCK_PARTIALCKSUM and a TCPv4 GSO frame HW_LSO (offsets from the
 * IP header; stream.h), so neither is completed nor split here.  A partial
 * checksum in anything but IPv4 is completed in place.  Returns FALSE when
 * the header is unusable (the caller drops the frame). */
static gboolean
tap_rx_vnet(TapState *ts, const guint8 *hdr, mblk_t *mp)
{
	guint8 flags = hdr[0], gso = hdr[1];
	if (gso == VIRTIO_NET_HDR_GSO_NONE && !(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return TRUE;
	ts->last_gso_type = gso;
	ts->last_hdr_len = tap_get16(hdr + 2);
	ts->last_gso_size = tap_get16(hdr + 4);
	ts->last_csum_start = tap_get16(hdr + 6);
	ts->last_csum_offset = tap_get16(hdr + 8);
	size_t len = MBLKL(mp), start = ts->last_csum_start, off = ts->last_csum_offset;
	size_t lh = tap_ipv4_link_len(mp);
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (start + off + 2 > len)
			return FALSE;
		if (lh == 0 || start < lh) {
			tap_complete_csum(mp->b_rptr, len, start, off);
			ts->csum_completed++;
		} else {
			DB_CKSUMFLAGS(mp) = HCK_PARTIALCKSUM;
			DB_CKSUMSTART(mp) = (uint16_t)(start - lh);
			DB_CKSUMSTUFF(mp) = (uint16_t)(start + off - lh);
			ts->csum_partial_in++;
		}
	}
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		tap_count_gso(ts, gso);
		if ((gso & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_TCPV4 ||
		    !(DB_CKSUMFLAGS(mp) & HCK_PARTIALCKSUM) || ts->last_gso_size == 0)
			return FALSE; /* only TCPv4 was offered (TUNSETOFFLOAD) */
		DB_CKSUMFLAGS(mp) |= HW_LSO;
		DB_LSOMSS(mp) = (uint16_t)ts->last_gso_size;
	}
	return TRUE;
}

static void
tap_bufcall_fire(void *arg)
{
	TapState *ts = arg;
	ts->bufcall = 0;
	qenable(ts->rq);
}

/* With offloads each read needs a 64 KiB buffer, but most frames are
 * short: a short one is copied into a block of its size and the big buffer
 * kept for the next read, so what queues above (and counts against socket
 * buffers by its bytes) does not pin 64 KiB a frame. */
static mblk_t *
tap_right_size(TapState *ts, mblk_t *mp)
{
	size_t len = MBLKL(mp);
	if (ts->rx_size < TAP_COPY_BELOW * 4 || len > TAP_COPY_BELOW)
		return mp;
	mblk_t *small = allocb(len, BPRI_MED);
	if (small == NULL)
		return mp;
	memcpy(small->b_wptr, mp->b_rptr, len);
	small->b_wptr += len;
	mp->b_rptr = mp->b_wptr = DB_BASE(mp);
	ts->spare = mp;
	return small;
}

/* Reads one frame into a new message.  Returns it, or NULL with *err set to
 * 0 (nothing to read, or a frame dropped), EAGAIN, ENOMEM or the errno. */
static mblk_t *
tap_read_frame(TapState *ts, int *err)
{
	mblk_t *mp = g_steal_pointer(&ts->spare);
	if (mp == NULL && (mp = allocb(ts->rx_size, BPRI_MED)) == NULL) {
		*err = ENOMEM;
		return NULL;
	}
	guint8 hdr[sizeof(struct virtio_net_hdr)];
	struct iovec iov[2] = { { hdr, sizeof hdr }, { mp->b_wptr, ts->rx_size } };
	ssize_t n;
	do
		n = readv(ts->fd, ts->vnet_hdr ? iov : iov + 1, ts->vnet_hdr ? 2 : 1);
	while (n < 0 && errno == EINTR);
	*err = n < 0 ? errno : 0;
	size_t skip = ts->vnet_hdr ? sizeof hdr : 0;
	if (n < (ssize_t)skip || (n == 0 && *err == 0)) {
		freemsg(mp);
		return NULL;
	}
	mp->b_wptr += (size_t)n - skip;
	mp = tap_right_size(ts, mp);
	if (ts->vnet_hdr && !tap_rx_vnet(ts, hdr, mp)) {
		ts->drop_vnet_hdr++;
		us_drop(ts->rq, mp, TAP_DROP_VNET_HDR);
		return NULL;
	}
	return mp;
}

/* Reads and sends up at most "batch" frames while the stream above has
 * room; pauses the watch when it has not. */
static void
tap_read_batch(TapState *ts)
{
	queue_t *rq = ts->rq;
	ts->wakeups++;
	for (guint64 i = 0; i < ts->batch && ts->fd >= 0; i++) {
		if (rq->q_first != NULL || !canputnext(rq)) {
			ts->flow_stops++;
			tap_watch(ts, ts->events & ~G_IO_IN);
			return;
		}
		int err;
		mblk_t *mp = tap_read_frame(ts, &err);
		if (mp != NULL) {
			ts->last_errno = 0;
			ts->frames_in++;
			ts->bytes_in += MBLKL(mp);
			putnext(rq, mp);
		} else if (err == EAGAIN || err == EWOULDBLOCK) {
			return;
		} else if (err == ENOMEM) {
			ts->errors++;
			if (ts->bufcall == 0)
				ts->bufcall =
					qbufcall(rq, ts->rx_size, BPRI_MED, tap_bufcall_fire, ts);
			if (ts->bufcall != 0)
				tap_watch(ts, ts->events & ~G_IO_IN);
			return;
		} else if (err == EBADFD) {
			tap_hangup(ts);
			return;
		} else if (err != 0) {
			tap_log_errno(ts, "read", err);
			return;
		}
	}
}

/* I/O callback on the world's thread. */
static void
tap_io(gpointer data)
{
	TapState *ts = data;
	GIOCondition rev = ts->revents;
	if (rev & (G_IO_ERR | G_IO_HUP | G_IO_NVAL)) {
		tap_hangup(ts); /* tun reports errors only once detached */
		return;
	}
	if (rev & G_IO_OUT) {
		tap_watch(ts, ts->events & ~G_IO_OUT);
		qenable(WR(ts->rq));
	}
	if (rev & G_IO_IN)
		tap_read_batch(ts);
}

/* Read put: nothing comes from below a driver; pass on whatever does. */
static int
tap_rput(queue_t *rq, mblk_t *mp)
{
	putnext(rq, mp);
	return 0;
}

/* Read service: back-enabled once the reader drained (or memory came
 * back): resume watching the fd. */
static int
tap_rsrv(queue_t *rq)
{
	TapState *ts = rq->q_ptr;
	mblk_t *mp;
	while ((mp = getq(rq)) != NULL) {
		if (!canputnext(rq)) {
			putbq(rq, mp);
			return 0;
		}
		putnext(rq, mp);
	}
	if (ts->watch != NULL && ts->bufcall == 0)
		tap_watch(ts, ts->events | G_IO_IN);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static int
tap_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)oflag;
	(void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO;
	static gint next_minor = 1;
	TapState *ts = g_new0(TapState, 1);
	ts->batch = 32;
	ts->fd = -1;
	ts->rq = rq;
	ts->world = us_queue_world(rq);
	rq->q_ptr = WR(rq)->q_ptr = ts;
	noenable(WR(rq)); /* the write service runs only when the fd is writable */
	*devp = makedevice(getmajor(*devp), g_atomic_int_add(&next_minor, 1) & US_MAXMIN);
	return 0;
}

static int
tap_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	TapState *ts = rq->q_ptr;
	if (ts->bufcall != 0)
		qunbufcall(rq, ts->bufcall);
	tap_detach(ts);
	g_free(ts->ifname);
	g_free(ts->mac);
	g_free(ts);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Write side                                                         */
/* ------------------------------------------------------------------ */

/* The vnet header for a frame with offload metadata (stream.h): NEEDS_CSUM
 * for HCK_PARTIALCKSUM, TCPv4 GSO for HW_LSO.  FALSE: none needed (or the
 * frame is not IPv4; it goes with a zero header). */
static gboolean
tap_tx_vnet(TapState *ts, const mblk_t *mp, struct virtio_net_hdr *vh)
{
	guint16 fl = DB_CKSUMFLAGS(mp);
	if (!(fl & HCK_PARTIALCKSUM))
		return FALSE; /* HW_LSO comes with it; alone it is not to be cut */
	size_t lh = tap_ipv4_link_len(mp);
	if (lh == 0 || DB_CKSUMSTUFF(mp) <= DB_CKSUMSTART(mp))
		return FALSE;
	memset(vh, 0, sizeof *vh);
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = (guint16)(lh + DB_CKSUMSTART(mp));
	vh->csum_offset = (guint16)(DB_CKSUMSTUFF(mp) - DB_CKSUMSTART(mp));
	ts->csum_partial_out++;
	if (fl & HW_LSO) {
		size_t iphl = (size_t)(tap_msg_byte(mp, lh) & 0x0f) * 4;
		size_t thl = (size_t)(tap_msg_byte(mp, lh + iphl + 12) >> 4) * 4;
		gboolean cwr = (tap_msg_byte(mp, lh + iphl + 13) & 0x80) != 0;
		vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | (cwr ? VIRTIO_NET_HDR_GSO_ECN : 0);
		vh->gso_size = DB_LSOMSS(mp);
		vh->hdr_len = (guint16)(lh + iphl + thl);
		ts->gso_out++;
	}
	return TRUE;
}

/* Writes the frame *mpp.  Returns 0 (sent, or dropped and counted: the
 * frame is consumed) or EAGAIN (*mpp, possibly flattened, is still the
 * caller's). */
static int
tap_send(TapState *ts, queue_t *wq, mblk_t **mpp)
{
	mblk_t *mp = *mpp;
	static const struct virtio_net_hdr zero;
	struct iovec iov[TAP_IOV_MAX];
	int n = 0;
	guint blocks = 0;
	for (mblk_t *b = mp; b != NULL; b = b->b_cont)
		blocks++;
	if (blocks >= TAP_IOV_MAX) { /* rare: more blocks than one writev takes */
		mblk_t *flat = us_msgpullup_all(mp);
		if (flat == NULL)
			return EAGAIN;
		freemsg(mp);
		*mpp = mp = flat;
	}
	struct virtio_net_hdr vh;
	if (ts->vnet_hdr)
		iov[n++] = tap_tx_vnet(ts, mp, &vh) ? (struct iovec){ &vh, sizeof vh }
						    : (struct iovec){ (void *)&zero, sizeof zero };
	size_t len = 0;
	for (mblk_t *b = mp; b != NULL && n < TAP_IOV_MAX; b = b->b_cont) {
		if (DB_TYPE(b) != M_DATA || MBLKL(b) == 0)
			continue;
		iov[n++] = (struct iovec){ b->b_rptr, MBLKL(b) };
		len += MBLKL(b);
	}
	ssize_t r;
	do
		r = writev(ts->fd, iov, n);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return EAGAIN;
	if (r < 0) {
		tap_log_errno(ts, "write", errno);
		ts->drop_send++;
		us_drop(wq, mp, TAP_DROP_SEND);
		return 0;
	}
	ts->frames_out++;
	ts->bytes_out += len;
	freemsg(mp);
	return 0;
}

/* A frame written down (consumes mp): out at once unless others wait. */
static void
tap_wput_data(queue_t *wq, mblk_t *mp)
{
	TapState *ts = wq->q_ptr;
	if (ts->fd < 0 || ts->hangup) {
		ts->drop_detached++;
		us_drop(wq, mp, TAP_DROP_DETACHED);
		return;
	}
	if (wq->q_first != NULL || tap_send(ts, wq, &mp) == EAGAIN) {
		if (wq->q_first == NULL)
			ts->write_waits++;
		putq(wq, mp);
		tap_watch(ts, ts->events | G_IO_OUT);
	}
}

/* Write service: the fd became writable; send what waits, in order. */
static int
tap_wsrv(queue_t *wq)
{
	TapState *ts = wq->q_ptr;
	mblk_t *mp;
	while ((mp = getq(wq)) != NULL) {
		if (ts->fd < 0 || ts->hangup) {
			ts->drop_detached++;
			us_drop(wq, mp, TAP_DROP_DETACHED);
		} else if (tap_send(ts, wq, &mp) == EAGAIN) {
			ts->write_waits++;
			putbq(wq, mp);
			tap_watch(ts, ts->events | G_IO_OUT);
			return 0;
		}
	}
	return 0;
}

/* TAP_ATTACH: attaches with the request's name and flags. */
static int
tap_ioctl_attach(queue_t *wq, mblk_t *mp)
{
	TapState *ts = wq->q_ptr;
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	struct tap_attach ta;
	if (ioc->ioc_count == TRANSPARENT || mp->b_cont == NULL ||
	    us_msgcopyout(mp->b_cont, 0, &ta, sizeof ta) != sizeof ta ||
	    memchr(ta.ta_name, '\0', sizeof ta.ta_name) == NULL)
		return EINVAL;
	if (ts->fd >= 0)
		return EBUSY;
	g_free(ts->ifname);
	ts->ifname = g_strdup(ta.ta_name);
	ts->vnet_hdr = (ta.ta_flags & TAP_F_VNET_HDR) != 0;
	ts->offload = (ta.ta_flags & TAP_F_OFFLOAD) != 0;
	ts->multiqueue = (ta.ta_flags & TAP_F_MULTIQUEUE) != 0;
	ts->up = (ta.ta_flags & TAP_F_UP) != 0;
	int err = tap_attach(ts);
	if (err != 0)
		return err;
	g_strlcpy(ta.ta_name, ts->ifname, sizeof ta.ta_name);
	mblk_t *dp = us_msg_from(&ta, sizeof ta, 0);
	if (dp != NULL) {
		freemsg(mp->b_cont);
		mp->b_cont = dp;
		ioc->ioc_count = sizeof ta;
	}
	return 0;
}

static guint32
tap_flags(const TapState *ts)
{
	return (ts->vnet_hdr ? TAP_F_VNET_HDR : 0) | (ts->multiqueue ? TAP_F_MULTIQUEUE : 0) |
	       (ts->up ? TAP_F_UP : 0) | (ts->offload ? TAP_F_OFFLOAD : 0);
}

/* TAP_STATUS: the attachment, the kernel's MAC and the main counters. */
static int
tap_ioctl_status(queue_t *wq, mblk_t *mp)
{
	TapState *ts = wq->q_ptr;
	struct tap_status st = { .ts_frames_in = ts->frames_in, .ts_frames_out = ts->frames_out };
	if (ts->attached) {
		g_strlcpy(st.ts_name, ts->ifname, sizeof st.ts_name);
		st.ts_ifindex = (int32_t)ts->ifindex;
		st.ts_mtu = (uint32_t)ts->mtu;
		memcpy(st.ts_kernel_mac, ts->kernel_mac, sizeof st.ts_kernel_mac);
		st.ts_flags = tap_flags(ts);
	}
	mblk_t *dp = us_msg_from(&st, sizeof st, 0);
	if (dp == NULL)
		return ENOMEM;
	freemsg(mp->b_cont);
	mp->b_cont = dp;
	((struct iocblk *)mp->b_rptr)->ioc_count = sizeof st;
	return 0;
}

/* DLIOCLINKCAPAB (dlpi.h), from ether above: with offloads the kernel
 * completes partial checksums and segments TCPv4 up to 64 KiB; else NAK. */
static int
tap_ioctl_capab(queue_t *wq, mblk_t *mp)
{
	TapState *ts = wq->q_ptr;
	if (!ts->attached || !ts->vnet_hdr || !ts->offload)
		return EOPNOTSUPP;
	struct dl_link_capab lc = DL_LINK_CAPAB_TSO4(TAP_GSO_MAX);
	mblk_t *dp = us_msg_from(&lc, sizeof lc, 0);
	if (dp == NULL)
		return ENOMEM;
	freemsg(mp->b_cont);
	mp->b_cont = dp;
	((struct iocblk *)mp->b_rptr)->ioc_count = sizeof lc;
	return 0;
}

static void
tap_ioctl(queue_t *wq, mblk_t *mp)
{
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	int err;
	switch (ioc->ioc_cmd) {
	case TAP_ATTACH: err = tap_ioctl_attach(wq, mp); break;
	case TAP_STATUS: err = tap_ioctl_status(wq, mp); break;
	case DLIOCLINKCAPAB: err = tap_ioctl_capab(wq, mp); break;
	default: err = EINVAL; break;
	}
	if (err != 0)
		miocnak(wq, mp, 0, err);
	else
		miocack(wq, mp, (int)ioc->ioc_count, 0);
}

/* Write put: frames go to the kernel at once; ioctls attach and report. */
static int
tap_wput(queue_t *wq, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA: tap_wput_data(wq, mp); break;
	case M_IOCTL: tap_ioctl(wq, mp); break;
	default: us_default_put(wq, mp); break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

static gboolean
tap_param_errno(GError **error, const char *what, int err)
{
	g_set_error(error, US_ERROR, US_ERROR_ERRNO, "tap %s: %s", what, g_strerror(err));
	return FALSE;
}

static gboolean
tap_set_ifname(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	TapState *ts = rq->q_ptr;
	int err = tap_attach(ts);
	return err == 0 ? TRUE : tap_param_errno(error, "ifname", err);
}

/* Framing options can change only before attaching. */
static gboolean
tap_set_before_attach(queue_t *rq, const UsParamDesc *p, GError **error)
{
	TapState *ts = rq->q_ptr;
	return ts->fd < 0 ? TRUE : tap_param_errno(error, p->name, EBUSY);
}

static gboolean
tap_set_mtu(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	TapState *ts = rq->q_ptr;
	if (ts->fd < 0)
		return TRUE;
	int err = tap_apply_mtu(ts);
	if (err != 0)
		return tap_param_errno(error, "mtu", err);
	if (!ts->offload) {
		ts->rx_size = (size_t)ts->mtu + TAP_LINK_ROOM;
		freemsg(g_steal_pointer(&ts->spare)); /* sized for the old MTU */
	}
	return TRUE;
}

static gboolean
tap_set_mac(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	TapState *ts = rq->q_ptr;
	if (ts->fd < 0)
		return TRUE; /* applied when attaching */
	int err = tap_apply_mac(ts);
	if (err != 0)
		return tap_param_errno(error, "mac", err);
	tap_read_identity(ts);
	return TRUE;
}

static gboolean
tap_set_up(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	TapState *ts = rq->q_ptr;
	int err = ts->fd < 0 ? 0 : tap_apply_up(ts);
	return err == 0 ? TRUE : tap_param_errno(error, "up", err);
}

#define TAP_PARAM(nm, desc, ty, fld, lo, hi, hook)                                  \
	{                                                                           \
		.name = (nm), .description = (desc), .type = (ty),                  \
		.offset = G_STRUCT_OFFSET(TapState, fld), .min = (lo), .max = (hi), \
		.on_set = (hook)                                                    \
	}

static const UsParamDesc tap_params[] = {
	TAP_PARAM("ifname", "TAP interface; setting it attaches (created if missing)",
		  US_PARAM_STRING, ifname, 0, 0, tap_set_ifname),
	TAP_PARAM("vnet_hdr", "IFF_VNET_HDR framing (before attaching)", US_PARAM_BOOL, vnet_hdr, 0,
		  0, tap_set_before_attach),
	TAP_PARAM("offload", "accept checksum and GSO offloads (vnet_hdr; before attaching)",
		  US_PARAM_BOOL, offload, 0, 0, tap_set_before_attach),
	TAP_PARAM("multiqueue", "IFF_MULTI_QUEUE, one queue per stream (before attaching)",
		  US_PARAM_BOOL, multiqueue, 0, 0, tap_set_before_attach),
	TAP_PARAM("mtu", "interface MTU (0: the kernel's)", US_PARAM_UINT, mtu, 0, 65535,
		  tap_set_mtu),
	TAP_PARAM("mac", "MAC of the interface (kernel side), xx:xx:xx:xx:xx:xx; \"\" keeps it",
		  US_PARAM_STRING, mac, 0, 0, tap_set_mac),
	TAP_PARAM("up", "interface administratively up", US_PARAM_BOOL, up, 0, 0, tap_set_up),
	TAP_PARAM("batch", "most frames read per wakeup", US_PARAM_UINT, batch, 1, 1024, NULL),
	{ 0 },
};

static const UsStatDesc tap_stats[] = {
	US_STAT("frames_in", "frames delivered up", TapState, frames_in),
	US_STAT("bytes_in", "bytes delivered up", TapState, bytes_in),
	US_STAT("frames_out", "frames written to the kernel", TapState, frames_out),
	US_STAT("bytes_out", "bytes written to the kernel", TapState, bytes_out),
	US_STAT("wakeups", "read callbacks", TapState, wakeups),
	US_STAT("errors", "read, write and allocation failures", TapState, errors),
	US_STAT("drop_detached", "frames written while not attached", TapState, drop_detached),
	US_STAT("drop_send", "frames the kernel refused", TapState, drop_send),
	US_STAT("drop_vnet_hdr", "frames with an unusable vnet header", TapState, drop_vnet_hdr),
	US_STAT("flow_stops", "times reading paused for flow control", TapState, flow_stops),
	US_STAT("write_waits", "writes that met EAGAIN and waited", TapState, write_waits),
	US_STAT("csum_completed", "partial checksums completed", TapState, csum_completed),
	US_STAT("csum_partial_in", "partial checksums passed up (HCK_PARTIALCKSUM)", TapState,
		csum_partial_in),
	US_STAT("csum_partial_out", "frames written with NEEDS_CSUM", TapState, csum_partial_out),
	US_STAT("gso_out", "HW_LSO frames written for the kernel to segment", TapState, gso_out),
	US_STAT("gso_in", "GSO frames delivered unsplit", TapState, gso_in),
	US_STAT("gso_tcpv4", "GSO TCPv4 frames", TapState, gso_tcpv4),
	US_STAT("gso_tcpv6", "GSO TCPv6 frames", TapState, gso_tcpv6),
	US_STAT("gso_udp", "GSO UDP frames", TapState, gso_udp),
	US_STAT("gso_ecn", "GSO frames with ECN", TapState, gso_ecn),
	US_STAT("last_gso_type", "gso_type of the last offloaded frame", TapState, last_gso_type),
	US_STAT("last_gso_size", "gso_size of the last offloaded frame", TapState, last_gso_size),
	US_STAT("last_hdr_len", "hdr_len of the last offloaded frame", TapState, last_hdr_len),
	US_STAT("last_csum_start", "csum_start of the last offloaded frame", TapState,
		last_csum_start),
	US_STAT("last_csum_offset", "csum_offset of the last offloaded frame", TapState,
		last_csum_offset),
	US_STAT("attached", "1 while attached", TapState, attached),
	US_STAT("ifindex", "index of the interface", TapState, ifindex),
	US_STAT("hangup", "1 once the interface went away", TapState, hangup),
	{ 0 },
};

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info tap_minfo = {
	.mi_idnum = 1012,
	.mi_idname = "tap",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 256 * 1024,
	.mi_lowat = 64 * 1024,
};
static struct qinit tap_rinit = {
	.qi_putp = tap_rput,
	.qi_srvp = tap_rsrv,
	.qi_qopen = tap_open,
	.qi_qclose = tap_close,
	.qi_minfo = &tap_minfo,
};
static struct qinit tap_winit = {
	.qi_putp = tap_wput,
	.qi_srvp = tap_wsrv,
	.qi_minfo = &tap_minfo,
};
static struct streamtab tap_info = { .st_rdinit = &tap_rinit, .st_wrinit = &tap_winit };

static const char *const tap_accepts[] = { "M_DATA (Ethernet frames)", "M_FLUSH",
					   "M_IOCTL (TAP_ATTACH, TAP_STATUS)", NULL };

const UsModuleDesc us_tap_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "tap",
	.summary = "Linux TAP interface (/dev/net/tun), raw Ethernet frames",
	.kind = US_KIND_DRIVER,
	.streamtab = &tap_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = tap_params,
	.stats = tap_stats,
	.drop_reasons = tap_drop_reasons,
	.accepts = tap_accepts,
};
