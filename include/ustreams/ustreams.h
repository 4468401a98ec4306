/* SPDX-License-Identifier: MIT */
/*
 * ustreams.h -- the umbrella header: the DDI (stream.h), user-level STREAMS
 * definitions (stropts.h), TPI (tihdr.h), DLPI (dlpi.h), and the ustreams
 * framework API: worlds and stacks (world.h), the registry and plug-ins
 * (registry.h), stream plumbing (plumb.h) and debug controls (debug.h).
 *
 * Module authors usually include <ustreams/stream.h> and
 * <ustreams/registry.h>; applications include this file.
 */
#ifndef USTREAMS_USTREAMS_H
#define USTREAMS_USTREAMS_H

#include <ustreams/debug.h>
#include <ustreams/dlpi.h>
#include <ustreams/head.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/stropts.h>
#include <ustreams/tihdr.h>
#include <ustreams/world.h>

#define USTREAMS_VERSION_MAJOR 0
#define USTREAMS_VERSION_MINOR 1

#endif /* USTREAMS_USTREAMS_H */
