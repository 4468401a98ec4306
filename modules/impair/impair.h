/* SPDX-License-Identifier: MIT */
/*
 * impair.h -- the public contract of the impair module: a seeded network
 * emulator (netem's job) that can be pushed on any stream.  The theory is
 * in impair.c; docs/modules.md has a walkthrough with examples.
 *
 * Parameters (us_param_set, "push impair k=v ..." in a config):
 *   direction      "both" (default), "down" (write side) or "up" (read
 *                  side): which direction the impairments apply to; the
 *                  other passes untouched.  For different impairments per
 *                  direction push two instances, one "down" and one "up".
 *   seed           0 (default): draw from the world's generator
 *                  (us_world_rand); otherwise a private generator seeded
 *                  with this value, so the pattern does not depend on what
 *                  else draws from the world's.
 *   loss           probability that a message is lost (independently)
 *   ge_p, ge_r     Gilbert-Elliott burst loss: probability of moving from
 *                  the good to the bad state (p), and back (r), per message;
 *                  ge_p = 0 turns the model off.  Mean burst length 1/r.
 *   ge_loss_good   loss probability in the good state (default 0)
 *   ge_loss_bad    loss probability in the bad state (default 1)
 *   delay          delay, ns
 *   jitter         spread of the delay, ns (see dist)
 *   dist           "uniform" (default): delay +- jitter, uniform;
 *                  "normal": mean delay, standard deviation jitter;
 *                  "pareto": delay plus a heavy-tailed extra whose mean is
 *                  jitter (Pareto II / Lomax, shape 3).  Below 0: 0.
 *   rate           serialisation rate, bits/s; 0 (default) unlimited
 *   limit          messages that may wait for the serialiser (default
 *                  1000, netem's; 0 no limit); beyond it: rate-dropped
 *   limit_bytes    bytes that may wait for the serialiser (default 0: no
 *                  limit); beyond it: rate-dropped
 *   dup            probability that a message is duplicated
 *   reorder        probability that a message is held back by
 *                  reorder_delay (others overtake it)
 *   reorder_delay  ns (default 1 ms)
 *   corrupt        probability that one random bit of a message's payload
 *                  (its M_DATA bytes) is flipped
 *
 * Statistics, per direction ("down_" for the write side, "up_" for the
 * read side): in (data messages that entered the emulator), passed (sent
 * on, copies included), bytes (of those), lost_random, lost_burst, delayed
 * (held in the delay line for delay, jitter, rate or reordering),
 * duplicated, reordered, corrupted, rate_dropped, queued (held in the delay
 * line now), flushed, bypassed (control messages and data of a direction
 * not impaired, passed as they came); and errors (allocation failures).
 */
#ifndef USTREAMS_IMPAIR_H
#define USTREAMS_IMPAIR_H

/* Values of the "direction" parameter. */
#define IMPAIR_DIRECTION_BOTH "both"
#define IMPAIR_DIRECTION_DOWN "down"
#define IMPAIR_DIRECTION_UP "up"

/* Values of the "dist" parameter. */
#define IMPAIR_DIST_UNIFORM "uniform"
#define IMPAIR_DIST_NORMAL "normal"
#define IMPAIR_DIST_PARETO "pareto"

/* Drop reasons (us_drop_count, us_stack_drop_count(stack, "impair", R)). */
#define IMPAIR_DROP_LOSS 0   /* lost at random ("loss") */
#define IMPAIR_DROP_BURST 1  /* lost by the Gilbert-Elliott model */
#define IMPAIR_DROP_RATE 2   /* serialiser queue over limit / limit_bytes */
#define IMPAIR_DROP_FLUSH 3  /* discarded by M_FLUSH */
#define IMPAIR_DROP_CLOSED 4 /* held when the module was closed (popped) */
#define IMPAIR_DROP_NOMEM 5  /* a copy for corruption could not be made */

#endif /* USTREAMS_IMPAIR_H */
