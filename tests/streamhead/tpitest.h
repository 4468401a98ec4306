/* SPDX-License-Identifier: MIT */
/*
 * tpitest.h -- a fake TPI transport for the socket library's tests.
 *
 * Two clone drivers, registered by tpitest_register():
 *   "tpitest-dg"  T_CLTS: datagrams between its own streams of one stack;
 *   "tpitest-st"  T_COTS_ORD: connections between its own streams.
 * Addresses are struct sockaddr_in; only 0.0.0.0 and 127.0.0.1 can be bound
 * (anything else: TNOADDR); ports are per driver and per stack.  What each
 * driver does is described at the top of tpitest.c.
 *
 * Tests steer and observe it through TpitestConfig, one per stack (the
 * world of these tests has no thread: the test's thread is the world's).
 */
#ifndef US_TPITEST_H
#define US_TPITEST_H

#include <ustreams/ustreams.h>

#define TPITEST_DG "tpitest-dg"
#define TPITEST_ST "tpitest-st"

#define TPITEST_TSDU 2048   /* TSDU_size of tpitest-dg */
#define TPITEST_TIDU 1000   /* TIDU_size of tpitest-st */
#define TPITEST_PORT0 40000 /* first port handed out for port 0 */

typedef struct {
	/* Failure injection: the next request with PRIM_type fail_prim is
	 * answered with T_ERROR_ACK(fail_tli, fail_unix).  -1: none. */
	int fail_prim;
	int fail_tli;
	int fail_unix;
	/* tpitest-st: connection requests are answered after this delay
	 * (world time); 0: at once. */
	int connect_delay_ms;
	/* tpitest-st: data goes up as T_DATA_IND instead of M_DATA. */
	gboolean data_as_ind;
	/* Observations. */
	guint64 prims[64];   /* primitives received, by PRIM_type */
	guint64 data_msgs;   /* M_DATA messages received by tpitest-st */
	size_t data_max;     /* the largest of them */
	int last_prototype;  /* last US_SO_PROTOTYPE value set, -1: none */
	guint64 uderrors;    /* T_UDERROR_IND sent */
	guint64 discon_sent; /* T_DISCON_IND sent */
} TpitestConfig;

/* Registers both drivers (once per process). */
void tpitest_register(void);
/* The stack's configuration, created on first use. */
TpitestConfig *tpitest_config(UsStack *stack);

#endif
