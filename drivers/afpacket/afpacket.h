/* SPDX-License-Identifier: MIT */
/*
 * afpacket.h -- the public contract of the afpacket driver: an existing
 * Linux network interface at the bottom of a stream through an AF_PACKET
 * SOCK_RAW socket, carrying raw Ethernet frames as M_DATA both ways.
 *
 * Attaching: the AFP_ATTACH ioctl, or setting the "ifname" parameter, opens
 * a packet socket bound to that interface (all protocols).  A stream
 * attaches once (EBUSY after).  The interface is not created, configured or
 * brought up: it belongs to the system.
 *
 * What comes up: every frame the interface receives (with "promisc", also
 * frames for other hosts on a real NIC; on veth and similar links the kernel
 * already hands every frame to packet sockets).  Frames the host itself
 * sends on the interface -- including the ones this stream writes -- are
 * not delivered (PACKET_IGNORE_OUTGOING where the kernel has it, and frames
 * whose sll_pkttype is PACKET_OUTGOING are filtered in any case), so a stack
 * does not see its own frames.  Frames longer than the receive buffer (MTU +
 * 18) are dropped (drop_truncated).
 *
 * Parameters (us_param_set on the driver's read queue):
 *   ifname   string  interface to attach to; setting it attaches
 *   promisc  bool    promiscuous membership (PACKET_ADD_MEMBERSHIP,
 *                    PACKET_MR_PROMISC); may change while attached
 *   batch    uint    most frames per recvmmsg/sendmmsg call and per
 *                    wakeup (default 32, at most 256)
 *
 * Statistics (us_stat_get): frames_in, bytes_in, frames_out, bytes_out,
 * wakeups, errors (socket errors, allocation failures), outgoing_ignored,
 * drop_detached, drop_send, drop_truncated, drop_nobufs (the device queue
 * was full: ENOBUFS), flow_stops, write_waits, attached, ifindex, mtu.
 *
 * Failing to attach (the ioctl NAKs with the errno, the parameter returns a
 * GError, and the reason is logged with g_info): ENODEV no such interface;
 * EPERM no CAP_NET_RAW; EINVAL a name too long or empty.
 */
#ifndef USTREAMS_AFPACKET_H
#define USTREAMS_AFPACKET_H

#include <stdint.h>

/* Interface name size, with the NUL (IFNAMSIZ). */
#define AFP_NAMESZ 16

/* AFP_ATTACH flags */
#define AFP_F_PROMISC 0x1 /* promiscuous membership */

struct afp_attach {
	char aa_name[AFP_NAMESZ]; /* interface name */
	uint32_t aa_flags;        /* AFP_F_* */
};

/* I_STR command: ic_dp holds a struct afp_attach.  Binds this stream to
 * the interface.  Errors as listed above. */
#define AFP_ATTACH (('P' << 8) | 1)

struct afp_status {
	char as_name[AFP_NAMESZ]; /* attached interface, "" if none */
	int32_t as_ifindex;       /* its index, 0 if none */
	uint32_t as_mtu;          /* its MTU when attached */
	uint8_t as_mac[6];        /* its MAC address */
	uint16_t as_pad;
	uint32_t as_flags; /* AFP_F_* in effect */
	uint64_t as_frames_in;
	uint64_t as_frames_out;
};

/* I_STR command: returns a struct afp_status in ic_dp. */
#define AFP_STATUS (('P' << 8) | 2)

#endif
