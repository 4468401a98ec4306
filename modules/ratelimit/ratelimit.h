/* SPDX-License-Identifier: MIT */
/*
 * ratelimit.h -- the public contract of the ratelimit module: a token bucket
 * per stream or per flow, shaping with back-pressure (flow control through
 * QFULL) or policing (drops).  The theory is in ratelimit.c; docs/modules.md
 * has a walkthrough with examples.
 *
 * Parameters (us_param_set, "push ratelim k=v ..." in a config):
 *   rate       bits/s; 0 (default) no limit (everything passes)
 *   burst      bucket size, bytes (default 16384): what may pass at once
 *              after a quiet period
 *   per        "stream" (default): one bucket per direction; "flow": one
 *              bucket per IPv4 5-tuple per direction, each with rate and
 *              burst (messages without an IPv4 packet share one bucket)
 *   max_flows  flows kept per direction (default 1024); the least recently
 *              used is forgotten to make room (its next message starts a
 *              fresh, full bucket)
 *   direction  "both" (default), "down" (write side) or "up" (read side)
 *   mode       "shape" (default): excess waits on this queue and leaves as
 *              tokens allow, the queue's water marks stopping the writer
 *              above (canputnext() fails); "police": excess is dropped
 *   limit      shape mode: bytes that may wait before messages are dropped
 *              anyway, for writers that ignore flow control (default
 *              262144; 0 no limit)
 *   hiwat      high water mark of both queues, bytes (default 32768)
 *   lowat      low water mark of both queues, bytes (default 8192)
 *
 * Statistics, per direction ("down_" write side, "up_" read side): passed
 * (data messages sent on), bytes (their M_DATA bytes), shaped (messages that
 * waited for tokens), dropped (policed), overflow (shape mode, over limit),
 * queued (data messages waiting now), tokens (bytes in the bucket of the
 * stream, or of the flow last served, as of the last message), flows (flows
 * known now), evicted (flows forgotten to make room), other (data messages
 * without an IPv4 5-tuple, per=flow).
 */
#ifndef USTREAMS_RATELIMIT_H
#define USTREAMS_RATELIMIT_H

/* The registry (I_PUSH) name.  Module names are at most FMNAMESZ (8, the
 * SVR4 value) bytes, which "ratelimit" exceeds; the stream head refuses
 * longer names in I_PUSH, so the module is pushed as "ratelim". */
#define RATELIMIT_NAME "ratelim"

/* Values of the "per" parameter. */
#define RATELIMIT_PER_STREAM "stream"
#define RATELIMIT_PER_FLOW "flow"

/* Values of the "mode" parameter. */
#define RATELIMIT_MODE_SHAPE "shape"
#define RATELIMIT_MODE_POLICE "police"

/* Values of the "direction" parameter. */
#define RATELIMIT_DIRECTION_BOTH "both"
#define RATELIMIT_DIRECTION_DOWN "down"
#define RATELIMIT_DIRECTION_UP "up"

/* Drop reasons (us_drop_count, us_stack_drop_count(stack, RATELIMIT_NAME, R)). */
#define RATELIMIT_DROP_POLICE 0   /* police mode: over the rate */
#define RATELIMIT_DROP_OVERFLOW 1 /* shape mode: more than limit bytes waiting */
#define RATELIMIT_DROP_FLUSH 2    /* discarded by M_FLUSH */
#define RATELIMIT_DROP_CLOSED 3   /* waiting when the module was closed */

#endif /* USTREAMS_RATELIMIT_H */
