/* SPDX-License-Identifier: MIT */
/*
 * tap.h -- the public contract of the tap driver: a Linux TAP interface
 * (/dev/net/tun) at the bottom of a stream, carrying raw Ethernet frames as
 * M_DATA both ways.
 *
 * Attaching: the TAP_ATTACH ioctl, or setting the "ifname" parameter, opens
 * /dev/net/tun and attaches this stream to the TAP interface of that name,
 * creating it when it does not exist.  The interface is not persistent: it
 * goes away when the last stream attached to it closes.  A stream attaches
 * once (EBUSY after).  With "multiqueue" several streams may attach to one
 * interface name, each getting one queue of it (the kernel spreads flows
 * over the queues by hash); all of them must ask for multiqueue.
 *
 * MAC addresses: the kernel's side of the TAP has its own MAC (the peer's,
 * from the stack's point of view; TAP_STATUS reports it).  The stack's MAC is
 * the stack's business (the ether module above): the driver sends whatever
 * source address the frames carry and delivers every frame the kernel sends.
 *
 * Parameters (us_param_set on the driver's read queue):
 *   ifname      string  interface to attach to; setting it attaches
 *   vnet_hdr    bool    IFF_VNET_HDR framing (see below); before attaching
 *   offload     bool    with vnet_hdr: TUNSETOFFLOAD csum+TSO4/6 so the
 *                       kernel may send partial checksums and unsplit GSO
 *                       frames up to 64 KiB; before attaching
 *   multiqueue  bool    IFF_MULTI_QUEUE; before attaching
 *   mtu         uint    interface MTU (SIOCSIFMTU, needs CAP_NET_ADMIN);
 *                       0 keeps the kernel's (the value then reads back as
 *                       the kernel's once attached)
 *   mac         string  MAC of the interface, i.e. the kernel's side
 *                       (SIOCSIFHWADDR); "" keeps the kernel's; the
 *                       stack's own MAC is the "mac" of the ether module
 *   up          bool    interface administratively up (SIOCSIFFLAGS)
 *   batch       uint    most frames read per wakeup (default 32)
 *
 * vnet_hdr: every frame read starts with a struct virtio_net_hdr (10 bytes,
 * host byte order, as tun uses for legacy headers on little-endian hosts).
 * The driver strips it: frames marked NEEDS_CSUM get their checksum
 * completed in software (the stack above sees only whole checksums), GSO
 * frames go up unsplit (one large TCP or UDP frame whose IP length covers the
 * whole segment), and the header's fields are recorded in the statistics.
 * On output a zero header (no GSO, no checksum offload) is prepended: the
 * stack sends complete frames and never GSO frames.  Not supported: the
 * mergeable-buffer header (12 bytes), big-endian virtio headers, GSO output.
 *
 * Statistics (us_stat_get): frames_in, bytes_in (delivered up; bytes without
 * the vnet header), frames_out, bytes_out (written to the kernel), wakeups
 * (I/O callbacks that read), errors (read, write, allocation failures),
 * drop_detached, drop_send, drop_vnet_hdr (dropped frames by reason),
 * flow_stops (times reading paused because the stream above was full),
 * write_waits (times a write met EAGAIN and waited), csum_completed,
 * gso_in, gso_tcpv4, gso_tcpv6, gso_udp, gso_ecn, last_gso_type,
 * last_gso_size, last_hdr_len, last_csum_start, last_csum_offset, attached,
 * ifindex, hangup (1 once the interface went away under us).
 *
 * Failing to attach (the ioctl NAKs with the errno, the parameter returns a
 * GError, and the reason is logged with g_info): ENOENT no /dev/net/tun;
 * ENXIO/ENODEV no tun support in the kernel; EPERM/EACCES no permission
 * (creating an interface or setting its MTU or flags needs CAP_NET_ADMIN);
 * EBUSY the name is in use by another kind of interface or, without
 * multiqueue, by another process; EINVAL flags that do not match an existing
 * interface, or a name too long.
 */
#ifndef USTREAMS_TAP_H
#define USTREAMS_TAP_H

#include <stdint.h>

/* Interface name size, with the NUL (IFNAMSIZ). */
#define TAP_NAMESZ 16

/* TAP_ATTACH flags (and TAP_STATUS ts_flags). */
#define TAP_F_VNET_HDR 0x1   /* IFF_VNET_HDR framing */
#define TAP_F_MULTIQUEUE 0x2 /* IFF_MULTI_QUEUE: one queue per stream */
#define TAP_F_UP 0x4         /* bring the interface up */
#define TAP_F_OFFLOAD 0x8    /* with VNET_HDR: accept csum/GSO offloads */

struct tap_attach {
	char ta_name[TAP_NAMESZ]; /* interface name; "" lets the kernel pick tapN */
	uint32_t ta_flags;        /* TAP_F_* */
};

/* I_STR command: ic_dp holds a struct tap_attach.  Attaches this stream to
 * the interface (created when missing).  The ACK returns the struct with the
 * name the kernel used.  Errors as listed above. */
#define TAP_ATTACH (('T' << 8) | 1)

struct tap_status {
	char ts_name[TAP_NAMESZ]; /* attached interface, "" if none */
	int32_t ts_ifindex;       /* its index, 0 if none */
	uint32_t ts_mtu;          /* its MTU */
	uint8_t ts_kernel_mac[6]; /* the kernel side's MAC address */
	uint16_t ts_pad;
	uint32_t ts_flags; /* TAP_F_* in effect (UP: administratively up) */
	uint64_t ts_frames_in;
	uint64_t ts_frames_out;
};

/* I_STR command: returns a struct tap_status in ic_dp. */
#define TAP_STATUS (('T' << 8) | 2)

#endif
