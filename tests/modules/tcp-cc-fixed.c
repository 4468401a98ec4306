/* SPDX-License-Identifier: MIT */
/*
 * tcp-cc-fixed -- a congestion-control plug-in for the tests: a window of
 * a fixed ten segments that no ACK grows and no loss shrinks below.  Built
 * as tcp-cc-fixed.so; tcp loads it the first time TCP_CONGESTION names
 * "fixed" (tcp.h).
 */
#include "tcp.h"

#include <gmodule.h>

static void
fixed_init(TcpCcState *s)
{
	s->cwnd = 10 * s->mss;
}

static void
fixed_ack(TcpCcState *s, uint32_t acked, gint64 rtt)
{
	(void)acked;
	(void)rtt;
	s->cwnd = 10 * s->mss;
}

static uint32_t
fixed_ssthresh(TcpCcState *s)
{
	return 10 * s->mss;
}

static const TcpCcOps fixed_ops = {
	.abi = TCP_CC_ABI,
	.name = "fixed",
	.init = fixed_init,
	.ack = fixed_ack,
	.ssthresh = fixed_ssthresh,
	.timeout = fixed_ssthresh,
};

G_MODULE_EXPORT const TcpCcOps *const us_tcp_cc_plugin = &fixed_ops;
