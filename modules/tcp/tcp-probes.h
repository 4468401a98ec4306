/* SPDX-License-Identifier: MIT */
/*
 * tcp-probes.h -- the tcp provider's static probes (docs/probes.md, DTrace's
 * tcp provider adapted): each site in the tcp files is one macro call.
 * Arguments are computed only while a tracer is attached
 * (<ustreams/probes.h>).  Private to the library.
 */
#ifndef USTREAMS_TCP_PROBES_H
#define USTREAMS_TCP_PROBES_H

#include "tcp-core.h"

#include <ustreams/probes.h>

/* tcp:::send and tcp:::receive: conn (TcpConn *, may be NULL), the local
 * and remote address and port, then the segment's flags, sequence and
 * acknowledgement numbers, payload bytes and window field. */
#define TCP_PROBE_SEG(name, conn, laddr, lport, raddr, rport, seg)                         \
	US_PROBE10(tcp, name, (const void *)(conn), (uint32_t)(laddr), (uint16_t)(lport),  \
		   (uint32_t)(raddr), (uint16_t)(rport), (seg)->seg_flags, (seg)->seg_seq, \
		   (seg)->seg_ack, (seg)->seg_len, (seg)->seg_wnd)

/* A segment from src to dst (network order) that we send. */
#define TCP_PROBE_SEND(conn, src, dst, seg) \
	TCP_PROBE_SEG(send, conn, src, (seg)->seg_sport, dst, (seg)->seg_dport, seg)

/* A segment from src to dst that we received. */
#define TCP_PROBE_RECEIVE(conn, src, dst, seg) \
	TCP_PROBE_SEG(receive, conn, dst, (seg)->seg_dport, src, (seg)->seg_sport, seg)

/* tcp:::connect-request, connect-established, accept-established. */
#define TCP_PROBE_CONN(name, c)                                                                 \
	US_PROBE5(tcp, name, (const void *)(c), (c)->tcb_laddr, (c)->tcb_lport, (c)->tcb_raddr, \
		  (c)->tcb_rport)

/* tcp:::state-change of c from old to its current state. */
#define TCP_PROBE_STATE(c, old)                                                          \
	US_PROBE9(tcp, state__change, (const void *)(c), (c)->tcb_laddr, (c)->tcb_lport, \
		  (c)->tcb_raddr, (c)->tcb_rport, (int)(c)->tcb_state, (int)(old),       \
		  tcp_state_name((c)->tcb_state), tcp_state_name(old))

/* c just became ESTABLISHED: accept-established when it came from a
 * listener (passive open), connect-established otherwise. */
#define TCP_PROBE_ESTABLISHED(c)                                 \
	do {                                                     \
		if ((c)->tcb_passive)                            \
			TCP_PROBE_CONN(accept__established, c);  \
		else                                             \
			TCP_PROBE_CONN(connect__established, c); \
	} while (0)

#endif
