/* SPDX-License-Identifier: MIT */
/*
 * harness.h -- UsHarness: test one module between a fake upper and a fake
 * lower queue pair on a virtual clock (in the spirit of GstHarness).
 *
 *     fake head  (upper)   collects what the module sends up
 *        |
 *     module under test     pushed with MODOPEN like I_PUSH
 *        |
 *     fake driver (lower)  collects what the module sends down
 *
 * Messages pushed in with us_harness_push_down() enter the module's write put
 * procedure as if sent by the module above; us_harness_push_up() enters its
 * read put procedure as if sent by the module below.  What comes out is kept
 * in order and handed out by the pull functions (the caller owns it).
 *
 * The fake ends have service procedures and water marks, so flow control
 * works: us_harness_set_blocked() makes an end stop draining, so that it fills
 * up to QFULL and canputnext() in the module answers 0; unblocking drains it
 * and back-enables the module as a real stream would.
 *
 * us_harness_free() fails the test (g_error) if messages allocated during the
 * harness's life are still alive, unless us_harness_allow_leaks() was called.
 */
#ifndef USTREAMS_HARNESS_H
#define USTREAMS_HARNESS_H

#include <glib.h>
#include <ustreams/plumb.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

G_BEGIN_DECLS

typedef struct _UsHarness UsHarness;

/* Creates a virtual-time world (seed 1) with one stack and pushes module.
 * Aborts the test if the module is unknown or its open fails. */
UsHarness *us_harness_new(const char *module);
/* Same, returning NULL and an errno (open failure) instead of aborting. */
UsHarness *us_harness_try_new(const char *module, guint64 seed, int *errp);
void us_harness_free(UsHarness *h);
void us_harness_allow_leaks(UsHarness *h);

/* Consumes mp. Runs pending work afterwards. */
void us_harness_push_down(UsHarness *h, mblk_t *mp);
void us_harness_push_up(UsHarness *h, mblk_t *mp);
/* Convenience: an M_DATA message holding a copy of buf. */
void us_harness_push_down_data(UsHarness *h, const void *buf, size_t len);
void us_harness_push_up_data(UsHarness *h, const void *buf, size_t len);

/* Next message that left the bottom / top of the module, or NULL. */
mblk_t *us_harness_pull_down(UsHarness *h);
mblk_t *us_harness_pull_up(UsHarness *h);
guint us_harness_count_down(UsHarness *h);
guint us_harness_count_up(UsHarness *h);

/* Flow control at the fake ends. */
void us_harness_set_blocked(UsHarness *h, gboolean lower, gboolean blocked);
void us_harness_set_watermarks(UsHarness *h, gboolean lower, size_t hiwat, size_t lowat);

/* Sends an M_IOCTL (I_STR style, data copied into b_cont) down to the
 * module and returns the reply (M_IOCACK or M_IOCNAK) or NULL if none came. */
mblk_t *us_harness_ioctl(UsHarness *h, int cmd, const void *data, size_t len);

void us_harness_run(UsHarness *h);
void us_harness_advance(UsHarness *h, gint64 ns);
gint64 us_harness_now(UsHarness *h);

UsWorld *us_harness_world(UsHarness *h);
UsStack *us_harness_stack(UsHarness *h);
UsStream *us_harness_stream(UsHarness *h);
/* The module's read and write queues. */
queue_t *us_harness_rq(UsHarness *h);
queue_t *us_harness_wq(UsHarness *h);

G_END_DECLS

#endif /* USTREAMS_HARNESS_H */
