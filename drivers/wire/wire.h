/* SPDX-License-Identifier: MIT */
/*
 * wire.h -- the public contract of the wire driver: an in-process Ethernet
 * link between two streams of stacks in the same world, with seeded
 * impairments.
 *
 * Joining: two open wire streams of one world whose "name" parameter (or
 * WIRE_JOIN ioctl) carries the same wire name are the two ends of one link.
 * The first end to take a name waits; the second joins it; a third end
 * naming a joined wire gets EBUSY.  Names are per world: ends in different
 * worlds never meet.
 *
 * Parameters (us_param_set on the driver's read queue; each end's settings
 * impair the frames that end sends):
 *   name          string  wire name; setting it joins (EBUSY once joined)
 *   loss          double  probability in [0, 1] that a frame is lost
 *   delay         uint    one-way propagation delay, ns
 *   jitter        uint    extra delay drawn uniformly from [0, jitter] ns;
 *                         order is kept (a frame never overtakes another)
 *   rate          uint    bits per second, 0 = unlimited (no serialisation)
 *   qlimit        uint    bytes that may wait to be serialised and, likewise,
 *                         on the write queue; frames beyond are dropped
 *   dup           double  probability that a frame is duplicated
 *   reorder       double  probability that a frame is held back by
 *                         reorder_delay and so overtaken by later ones
 *   reorder_delay uint    extra delay of a reordered frame, ns
 *   corrupt       double  probability that one random bit of a delivered
 *                         copy is flipped
 *   mtu           uint    frames longer than mtu + 14 (the Ethernet header)
 *                         are dropped (not HW_LSO ones); 0 = no limit
 *   offload       bool    offer checksum and segmentation offload to ether
 *                         (DLIOCLINKCAPAB): frames cross with their offload
 *                         marks, as over a veth pair (default false)
 *
 * Statistics (us_stat_get): frames_out, bytes_out (accepted onto the wire by
 * this end), frames_in, bytes_in (delivered up this end), lost, duplicated,
 * reordered, corrupted, drop_mtu, drop_queue, drop_nopeer, drop_closed,
 * errors (allocation failures), joined (1 while the link is up).
 */
#ifndef USTREAMS_WIRE_H
#define USTREAMS_WIRE_H

/* Longest wire name, including the terminating NUL. */
#define WIRE_NAMESZ 64

/* I_STR command: ic_dp holds a NUL-terminated wire name (at most WIRE_NAMESZ
 * bytes with the NUL).  Joins this end to the other end of that name in the
 * same world, or makes it wait for one.  EINVAL: no, empty or too long a
 * name; EBUSY: this end is already joined, or the wire already has two
 * ends. */
#define WIRE_JOIN (('w' << 8) | 1)

#endif
