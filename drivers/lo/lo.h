/* SPDX-License-Identifier: MIT */
/*
 * lo.h -- the public contract of the lo driver: a loopback interface.  Every
 * Ethernet frame (M_DATA) written down a lo stream comes back up the same
 * stream, in order, after the write has returned.  It is the interface for
 * 127.0.0.0/8 (and ::1) under the ether module.  (The STREAMS loop-around
 * test driver that joins two streams is "loop", drivers/loop.)
 *
 * Parameters (us_param_set on the driver's read queue):
 *   mtu   uint  largest payload; frames longer than mtu + 14 (the Ethernet
 *               header) are dropped (default LO_DEFAULT_MTU)
 *
 * Statistics (us_stat_get): frames_out, bytes_out (accepted down),
 * frames_in, bytes_in (delivered back up), drop_mtu (frames too long),
 * flow_stops (times delivery waited for the reader above).
 *
 * ioctls: none (M_IOCTL is NAKed with EINVAL).
 */
#ifndef USTREAMS_LO_H
#define USTREAMS_LO_H

/* Default MTU, as Linux's lo. */
#define LO_DEFAULT_MTU 65536

/* Bytes of Ethernet header allowed beyond the MTU. */
#define LO_LINK_HDR 14

#endif
