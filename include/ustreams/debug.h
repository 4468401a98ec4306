/* SPDX-License-Identifier: MIT */
/*
 * debug.h -- allocator controls and debug counters.
 *
 * Message pooling: allocb() takes mblk+dblk+data as one object from per-thread
 * size-class free lists, so a small message is one allocation and steady state
 * does no malloc.  Setting the environment variable US_NOPOOL=1 (read once, at
 * the first allocation) turns pooling off: every message is malloc'd and
 * free'd, so Valgrind sees each one.  `meson test --setup=valgrind` sets it.
 *
 * Debug builds (meson -Ddebug_checks=true, the default for debug buildtypes)
 * poison freed blocks with 0x6b, check magic numbers in dblks and queues, and
 * keep a count of live messages that tests assert is zero at teardown.  The
 * live count is kept in every build (an atomic add per alloc/free).
 */
#ifndef USTREAMS_DEBUG_H
#define USTREAMS_DEBUG_H

#include <glib.h>

G_BEGIN_DECLS

/* Message blocks currently allocated (mblks, including dups). */
gint64 us_msg_live_count(void);
/* Data blocks currently allocated. */
gint64 us_dblk_live_count(void);
/* Failure injection: after `skip` more successful allocations, the next
 * `count` allocb/esballoc/desballoc/dupb/copyb calls fail (return NULL). */
void us_msg_fail_allocs(guint skip, guint count);
/* TRUE when pooling is on (US_NOPOOL unset). */
gboolean us_msg_pooling(void);
/* Frees the calling thread's cached free blocks. */
void us_msg_pool_trim(void);
/* Allocations that went to malloc (pool misses), for benchmarks and tests. */
guint64 us_msg_malloc_count(void);

G_END_DECLS

#endif /* USTREAMS_DEBUG_H */
