/* SPDX-License-Identifier: MIT */
/*
 * tcpcore-test.h -- the fixture of the sans-I/O TCP tests: one TcpConn with
 * callbacks that record what it sends, delivers and reports, a clock the
 * test moves, and helpers that inject segments from a pretend peer and
 * check the replies.  Every helper asserts, so a test reads as the
 * behaviour it checks.  The peer's ISN is TF_IRS; ours is whatever the
 * connection chose (fx->c.tcb_iss).
 */
#ifndef US_TCPCORE_TEST_H
#define US_TCPCORE_TEST_H

#include <errno.h>
#include <string.h>

#include <ustreams/ustreams.h>

#include "tcp-core.h"

#define TF_IRS 1000000u      /* the peer's initial sequence number */
#define TF_LADDR 0x0100000au /* 10.0.0.1, network order */
#define TF_RADDR 0x0200000au /* 10.0.0.2 */
#define TF_LPORT 40000
#define TF_RPORT 80
#define TF_MS TCP_MSEC
#define TF_T0 (1000 * TCP_SEC) /* the clock at the start */

/* A segment the connection sent, with its payload copied. */
typedef struct {
	TcpSeg s;
	guint8 *data;
} TfOut;

typedef struct {
	TcpCtx ctx;
	TcpConn c;
	GPtrArray *out;   /* TfOut *, oldest first */
	GByteArray *rcvd; /* delivered bytes */
	GByteArray *urg;  /* the urgent bytes, in order */
	GArray *events;   /* TcpEvent, in order */
	int last_err;     /* of the last TCP_EV_RESET */
	uint32_t space;   /* what co_rcv_space answers */
	gint64 now;
	gint64 live0;
	uint32_t peer_nxt;   /* the peer's next sequence number (tf_data, tf_ack) */
	uint32_t peer_tsval; /* the peer's clock, when timestamps are on */
	uint32_t last_tsval; /* our last TSval seen */
} Tf;

static void
tf_out_free(gpointer p)
{
	TfOut *o = p;
	g_free(o->data);
	g_free(o);
}

static void
tf_output(TcpConn *c, TcpSeg *seg)
{
	Tf *f = c->tcb_owner;
	TfOut *o = g_new0(TfOut, 1);
	if (seg->seg_opt.to_has_ts)
		f->last_tsval = seg->seg_opt.to_tsval;
	o->s = *seg;
	o->s.seg_data = NULL;
	if (seg->seg_data != NULL) {
		size_t n = msgdsize(seg->seg_data);
		g_assert_cmpuint(n, ==, seg->seg_len);
		o->data = g_malloc(n + 1);
		us_msgcopyout(seg->seg_data, 0, o->data, n);
		freemsg(seg->seg_data);
		seg->seg_data = NULL;
	}
	g_ptr_array_add(f->out, o);
}

static void
tf_deliver(TcpConn *c, mblk_t *data, gboolean urgent)
{
	Tf *f = c->tcb_owner;
	size_t n = msgdsize(data);
	guint8 *buf = g_malloc(n + 1);
	us_msgcopyout(data, 0, buf, n);
	freemsg(data);
	if (urgent && n > 0) {
		g_byte_array_append(f->urg, buf + n - 1, 1);
		n--;
	}
	g_byte_array_append(f->rcvd, buf, (guint)n);
	g_free(buf);
}

static void
tf_event(TcpConn *c, TcpEvent ev, int err)
{
	Tf *f = c->tcb_owner;
	g_array_append_val(f->events, ev);
	if (ev == TCP_EV_RESET)
		f->last_err = err;
}

static uint32_t
tf_space(TcpConn *c)
{
	Tf *f = c->tcb_owner;
	return f->space;
}

static const TcpConnOps tf_ops = {
	.co_output = tf_output,
	.co_deliver = tf_deliver,
	.co_event = tf_event,
	.co_rcv_space = tf_space,
};

/* A CLOSED connection 10.0.0.1:40000 -> 10.0.0.2:80, MTU 1500, no
 * options unless the test turns them on (params). */
static inline void
tf_init_opts(Tf *f, gboolean sack, gboolean ts, gboolean ws)
{
	memset(f, 0, sizeof *f);
	f->live0 = us_msg_live_count();
	GRand *r = g_rand_new_with_seed(7);
	tcp_ctx_init(&f->ctx, r);
	g_rand_free(r);
	f->ctx.tx_params.tp_sack = sack;
	f->ctx.tx_params.tp_ts = ts;
	f->ctx.tx_params.tp_wscale = ws;
	f->out = g_ptr_array_new_with_free_func(tf_out_free);
	f->rcvd = g_byte_array_new();
	f->urg = g_byte_array_new();
	f->events = g_array_new(FALSE, FALSE, sizeof(TcpEvent));
	f->space = 65535;
	f->now = TF_T0;
	f->peer_nxt = TF_IRS + 1;
	f->peer_tsval = 5000;
	tcp_conn_init(&f->c, &f->ctx, &tf_ops, f);
	f->c.tcb_rcvbuf = 65535;
	tcp_conn_set_addrs(&f->c, TF_LADDR, TF_LPORT, TF_RADDR, TF_RPORT);
	tcp_conn_set_mtu(&f->c, 1500);
}

static inline void
tf_init(Tf *f)
{
	tf_init_opts(f, FALSE, FALSE, FALSE);
}

static inline void
tf_fini(Tf *f)
{
	tcp_conn_fini(&f->c);
	g_ptr_array_free(f->out, TRUE);
	g_byte_array_free(f->rcvd, TRUE);
	g_byte_array_free(f->urg, TRUE);
	g_array_free(f->events, TRUE);
	g_assert_cmpint(us_msg_live_count(), ==, f->live0);
}

/* ------------------------------------------------------------------ */
/* Injecting segments                                                 */
/* ------------------------------------------------------------------ */

/* A segment from the peer: flags, SEQ, ACK, window (as on the wire),
 * payload (may be NULL), options (may be NULL). */
static inline int
tf_in_opts(Tf *f, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, const void *data,
	   size_t len, const TcpOpts *opts)
{
	TcpSeg s;
	memset(&s, 0, sizeof s);
	s.seg_sport = TF_RPORT;
	s.seg_dport = TF_LPORT;
	s.seg_seq = seq;
	s.seg_ack = ack;
	s.seg_flags = flags;
	s.seg_wnd = wnd;
	s.seg_len = (uint32_t)len;
	if (opts != NULL)
		s.seg_opt = *opts;
	if (f->c.tcb_ts_ok && !s.seg_opt.to_has_ts && !(flags & TCP_F_RST)) {
		s.seg_opt.to_has_ts = 1; /* timestamps agreed: every segment has them */
		s.seg_opt.to_tsval = ++f->peer_tsval;
		s.seg_opt.to_tsecr = f->last_tsval;
	}
	if (len > 0)
		s.seg_data = us_msg_from(data, len, 0);
	return tcp_conn_input(&f->c, &s, f->now);
}

static inline int
tf_in(Tf *f, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, const void *data, size_t len)
{
	return tf_in_opts(f, flags, seq, ack, wnd, data, len, NULL);
}

/* Data from the peer at its next sequence number (ACKing ack). */
static inline int
tf_data(Tf *f, uint32_t ack, const void *data, size_t len)
{
	int r = tf_in(f, TCP_F_ACK, f->peer_nxt, ack, 65535, data, len);
	f->peer_nxt += (uint32_t)len;
	return r;
}

/* A pure ACK from the peer. */
static inline int
tf_ack(Tf *f, uint32_t ack)
{
	return tf_in(f, TCP_F_ACK, f->peer_nxt, ack, 65535, NULL, 0);
}

/* A pure ACK carrying SACK blocks [l0, r0) and optionally [l1, r1). */
static inline int
tf_sack(Tf *f, uint32_t ack, uint32_t l0, uint32_t r0, uint32_t l1, uint32_t r1)
{
	TcpOpts o;
	memset(&o, 0, sizeof o);
	o.to_nsack = l1 != r1 ? 2 : 1;
	o.to_sack[0] = (TcpSackBlock){ l0, r0 };
	o.to_sack[1] = (TcpSackBlock){ l1, r1 };
	return tf_in_opts(f, TCP_F_ACK, f->peer_nxt, ack, 65535, NULL, 0, &o);
}

/* ------------------------------------------------------------------ */
/* What came out                                                      */
/* ------------------------------------------------------------------ */

static inline guint
tf_nout(const Tf *f)
{
	return f->out->len;
}

/* Takes the oldest segment sent (it must exist); free with tf_out_free. */
static inline TfOut *
tf_pop(Tf *f)
{
	g_assert_cmpuint(f->out->len, >, 0);
	return g_ptr_array_steal_index(f->out, 0);
}

/* Pops the next segment and checks its flags, SEQ and (with ACK) ACK. */
static inline void
tf_expect(Tf *f, uint8_t flags, uint32_t seq, uint32_t ack)
{
	TfOut *o = tf_pop(f);
	g_assert_cmphex(o->s.seg_flags & ~TCP_F_PSH, ==, flags & ~TCP_F_PSH);
	g_assert_cmpuint(o->s.seg_seq, ==, seq);
	if (flags & TCP_F_ACK)
		g_assert_cmpuint(o->s.seg_ack, ==, ack);
	tf_out_free(o);
}

/* The i-th segment waiting (not removed). */
static inline const TfOut *
tf_peek(const Tf *f, guint i)
{
	g_assert_cmpuint(f->out->len, >, i);
	return g_ptr_array_index(f->out, i);
}

/* Pops the next segment: data of len bytes at seq. */
static inline void
tf_expect_data(Tf *f, uint32_t seq, uint32_t len)
{
	TfOut *o = tf_pop(f);
	g_assert_cmpuint(o->s.seg_seq, ==, seq);
	g_assert_cmpuint(o->s.seg_len, ==, len);
	tf_out_free(o);
}

static inline void
tf_expect_none(Tf *f)
{
	if (f->out->len > 0) {
		TfOut *o = g_ptr_array_index(f->out, 0);
		g_error("unexpected segment flags %#x seq %u ack %u len %u", o->s.seg_flags,
			o->s.seg_seq, o->s.seg_ack, o->s.seg_len);
	}
}

static inline void
tf_drain(Tf *f)
{
	g_ptr_array_set_size(f->out, 0);
}

static inline gboolean
tf_has_event(const Tf *f, TcpEvent ev)
{
	for (guint i = 0; i < f->events->len; i++)
		if (g_array_index(f->events, TcpEvent, i) == ev)
			return TRUE;
	return FALSE;
}

/* Moves the clock to t and runs what is due, like an owner. */
static inline void
tf_advance_to(Tf *f, gint64 t)
{
	for (;;) {
		gint64 d = tcp_conn_deadline(&f->c);
		if (d == 0 || d > t || tcp_conn_is_closed(&f->c))
			break;
		f->now = MAX(f->now, d);
		tcp_conn_timer(&f->c, f->now);
	}
	f->now = t;
}

static inline void
tf_advance(Tf *f, gint64 ns)
{
	tf_advance_to(f, f->now + ns);
}

/* Queues len bytes of a pattern for sending. */
static inline void
tf_send(Tf *f, size_t len)
{
	guint8 *b = g_malloc(len);
	for (size_t i = 0; i < len; i++)
		b[i] = (guint8)(i * 7 + 3);
	tcp_conn_send(&f->c, us_msg_from(b, len, 0), FALSE, f->now);
	g_free(b);
}

/* ------------------------------------------------------------------ */
/* Per-state fixtures                                                 */
/* ------------------------------------------------------------------ */

static inline uint32_t
tf_iss(const Tf *f)
{
	return f->c.tcb_iss;
}

/* SYN-SENT: connect() and take the SYN. */
static inline void
tf_syn_sent(Tf *f)
{
	tcp_conn_connect(&f->c, f->now);
	tf_expect(f, TCP_F_SYN, tf_iss(f), 0);
	g_assert_cmpint(f->c.tcb_state, ==, TCPS_SYN_SENT);
}

/* SYN-RECEIVED (passive): a SYN arrived, the SYN,ACK went out. */
static inline void
tf_syn_received(Tf *f)
{
	TcpSeg syn;
	memset(&syn, 0, sizeof syn);
	syn.seg_sport = TF_RPORT;
	syn.seg_dport = TF_LPORT;
	syn.seg_seq = TF_IRS;
	syn.seg_flags = TCP_F_SYN;
	syn.seg_wnd = 65535;
	tcp_conn_accept_syn(&f->c, &syn, f->now);
	tf_expect(f, TCP_F_SYN | TCP_F_ACK, tf_iss(f), TF_IRS + 1);
	g_assert_cmpint(f->c.tcb_state, ==, TCPS_SYN_RECEIVED);
}

/* ESTABLISHED (active): SYN, SYN,ACK, ACK. */
static inline void
tf_established(Tf *f)
{
	tf_syn_sent(f);
	f->now += 10 * TF_MS;
	tf_in(f, TCP_F_SYN | TCP_F_ACK, TF_IRS, tf_iss(f) + 1, 65535, NULL, 0);
	tf_expect(f, TCP_F_ACK, tf_iss(f) + 1, TF_IRS + 1);
	g_assert_cmpint(f->c.tcb_state, ==, TCPS_ESTABLISHED);
}

/* ESTABLISHED with timestamps, SACK and window scaling agreed (the peer
 * shifts by 7, MSS 1460, so ours is 1448 with timestamps). */
static inline void
tf_established_opts(Tf *f)
{
	tcp_conn_connect(&f->c, f->now);
	TfOut *syn = tf_pop(f);
	g_assert_true(syn->s.seg_opt.to_has_ts && syn->s.seg_opt.to_sack_ok);
	g_assert_true(syn->s.seg_opt.to_has_wscale);
	TcpOpts o;
	memset(&o, 0, sizeof o);
	o.to_has_mss = 1;
	o.to_mss = 1460;
	o.to_has_wscale = 1;
	o.to_wscale = 7;
	o.to_sack_ok = 1;
	o.to_has_ts = 1;
	o.to_tsval = f->peer_tsval;
	o.to_tsecr = syn->s.seg_opt.to_tsval;
	tf_out_free(syn);
	f->now += 10 * TF_MS;
	tf_in_opts(f, TCP_F_SYN | TCP_F_ACK, TF_IRS, tf_iss(f) + 1, 65535, NULL, 0, &o);
	tf_expect(f, TCP_F_ACK, tf_iss(f) + 1, TF_IRS + 1);
	g_assert_cmpint(f->c.tcb_state, ==, TCPS_ESTABLISHED);
	g_assert_true(f->c.tcb_ts_ok && f->c.tcb_sack_ok && f->c.tcb_ws_ok);
}

/* FIN-WAIT-1: ESTABLISHED, then shutdown; the FIN went out. */
static inline void
tf_fin_wait_1(Tf *f)
{
	tf_established(f);
	tcp_conn_shutdown(&f->c, f->now);
	tf_expect(f, TCP_F_FIN | TCP_F_ACK, tf_iss(f) + 1, TF_IRS + 1);
	g_assert_cmpint(f->c.tcb_state, ==, TCPS_FIN_WAIT_1);
}

/* FIN-WAIT-2: our FIN acknowledged. */
static inline void
tf_fin_wait_2(Tf *f)
{
	tf_fin_wait_1(f);
	tf_in(f, TCP_F_ACK, TF_IRS + 1, tf_iss(f) + 2, 65535, NULL, 0);
	tf_expect_none(f);
	g_assert_cmpint(f->c.tcb_state, ==, TCPS_FIN_WAIT_2);
}

/* CLOSE-WAIT: the peer's FIN arrived. */
static inline void
tf_close_wait(Tf *f)
{
	tf_established(f);
	tf_in(f, TCP_F_FIN | TCP_F_ACK, TF_IRS + 1, tf_iss(f) + 1, 65535, NULL, 0);
	tf_expect(f, TCP_F_ACK, tf_iss(f) + 1, TF_IRS + 2);
	g_assert_cmpint(f->c.tcb_state, ==, TCPS_CLOSE_WAIT);
}

/* LAST-ACK: CLOSE-WAIT, then our FIN. */
static inline void
tf_last_ack(Tf *f)
{
	tf_close_wait(f);
	tcp_conn_shutdown(&f->c, f->now);
	tf_expect(f, TCP_F_FIN | TCP_F_ACK, tf_iss(f) + 1, TF_IRS + 2);
	g_assert_cmpint(f->c.tcb_state, ==, TCPS_LAST_ACK);
}

/* CLOSING: both FINs crossed, ours not yet acknowledged. */
static inline void
tf_closing(Tf *f)
{
	tf_fin_wait_1(f);
	tf_in(f, TCP_F_FIN | TCP_F_ACK, TF_IRS + 1, tf_iss(f) + 1, 65535, NULL, 0);
	tf_expect(f, TCP_F_ACK, tf_iss(f) + 2, TF_IRS + 2);
	g_assert_cmpint(f->c.tcb_state, ==, TCPS_CLOSING);
}

/* TIME-WAIT: FIN-WAIT-2, then the peer's FIN. */
static inline void
tf_time_wait(Tf *f)
{
	tf_fin_wait_2(f);
	tf_in(f, TCP_F_FIN | TCP_F_ACK, TF_IRS + 1, tf_iss(f) + 2, 65535, NULL, 0);
	tf_expect(f, TCP_F_ACK, tf_iss(f) + 2, TF_IRS + 2);
	g_assert_cmpint(f->c.tcb_state, ==, TCPS_TIME_WAIT);
}

#endif /* US_TCPCORE_TEST_H */
