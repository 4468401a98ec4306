/* SPDX-License-Identifier: MIT */
/* loop.h -- the public contract of the loop-around driver. */
#ifndef USTREAMS_LOOP_H
#define USTREAMS_LOOP_H

/* I_STR command: ic_dp holds an int, the minor of the stream to join.  Both
 * streams must be open loop minors of the same stack and not yet joined;
 * EINVAL / EBUSY / ENXIO otherwise. */
#define LOOP_SET (('l' << 8) | 1)

#endif
