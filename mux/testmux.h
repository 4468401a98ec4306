/* SPDX-License-Identifier: MIT */
/*
 * testmux.h -- the public contract of the testmux multiplexing driver (a test
 * and example multiplexor: see testmux.c for the theory).
 *
 * Wire format on lower streams: every M_DATA message starts with one key
 * byte, followed by the payload.  Upper streams carry the payload only.
 */
#ifndef USTREAMS_TESTMUX_H
#define USTREAMS_TESTMUX_H

#include <ustreams/registry.h>

/* Keys are 0 .. TESTMUX_KEY_MAX (one byte on the wire). */
#define TESTMUX_KEY_MAX 255

/* Upper streams per stack (clone minors 1 .. TESTMUX_MAX_UPPERS); the open
 * after that fails with ENXIO. */
#define TESTMUX_MAX_UPPERS 4096

/* I_STR command on an upper stream: ic_dp holds an int, the key this upper
 * receives and sends with.  EINVAL: key out of range or the upper is bound
 * already; EADDRINUSE: another upper holds the key.  Closing the upper
 * frees its key. */
#define TESTMUX_BIND (('t' << 8) | 1)

/* I_STR command on any upper stream: ic_dp holds a struct testmux_setlower.
 * From then on data sent with that key goes down the lower linked with that
 * muxid (replacing an earlier assignment of the key).  EINVAL: key out of
 * range or no lower with that muxid.  Keys without an assignment, and keys
 * whose lower is unlinked, use the default lower: the oldest link. */
#define TESTMUX_SETLOWER (('t' << 8) | 2)

struct testmux_setlower {
	int muxid; /* as returned by I_LINK / I_PLINK */
	int key;   /* 0 .. TESTMUX_KEY_MAX */
};

/* Drop reasons (indices of the descriptor's drop_reasons). */
enum {
	TESTMUX_DROP_UNBOUND = 0,     /* data written on an upper without a key */
	TESTMUX_DROP_NO_LOWER = 1,    /* no lower stream linked for the key */
	TESTMUX_DROP_UNKNOWN_KEY = 2, /* data from below for a key nobody holds */
	TESTMUX_DROP_NO_KEY = 3,      /* data from below too short to hold a key */
	TESTMUX_DROP_NOMEM = 4,       /* no buffer for the key byte */
	TESTMUX_DROP_UNLINKED = 5,    /* queued on, or arriving at, an unlinked lower */
	TESTMUX_DROP_CLOSED = 6,      /* queued on an upper when it closed */
};

extern const UsModuleDesc us_testmux_desc;

#endif /* USTREAMS_TESTMUX_H */
