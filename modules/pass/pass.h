/* SPDX-License-Identifier: MIT */
/* pass.h -- the public contract of the pass module (parameters and modes). */
#ifndef USTREAMS_PASS_H
#define USTREAMS_PASS_H

/* Values of the "mode" parameter. */
#define PASS_MODE_DIRECT 0 /* putnext when nothing waits and there is room */
#define PASS_MODE_QUEUE 1  /* always putq; the service procedure forwards */
#define PASS_MODE_PUT 2    /* always putnext at once (no flow control here) */

#endif
