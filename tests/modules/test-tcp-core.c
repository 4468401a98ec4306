/* SPDX-License-Identifier: MIT */
/*
 * test-tcp-core.c -- the sans-I/O TCP core (modules/tcp/tcp-core.h) with
 * per-state fixtures (tcpcore-test.h): every state of RFC 9293 §3.3.2 and
 * the events §3.10 names for it, plus the modern RFCs (5961, 7323, 2018,
 * 6675, 6298, 5681, 6582, 9438, 1122, 6093, 1191, 6528, 4987).  Names read
 * /tcp/STATE/EVENT.  No clock, no queue: the test moves time and plays the
 * peer.
 */
#include "tcpcore-test.h"

/* ------------------------------------------------------------------ */
/* A pair of cores wired together                                     */
/* ------------------------------------------------------------------ */

/* Moves what a sent to b (dropping with probability loss). */
static void
tf_carry(Tf *a, Tf *b, GRand *r, double loss)
{
	while (a->out->len > 0) {
		TfOut *o = tf_pop(a);
		if (g_rand_double(r) >= loss && !tcp_conn_is_closed(&b->c)) {
			TcpSeg s = o->s;
			s.seg_data = o->s.seg_len ? us_msg_from(o->data, o->s.seg_len, 0) : NULL;
			tcp_conn_input(&b->c, &s, b->now);
		}
		tf_out_free(o);
	}
}

static void
tf_pair_run(Tf *a, Tf *b, GRand *r, double loss, gint64 until)
{
	while (a->now < until) {
		tf_carry(a, b, r, loss);
		tf_carry(b, a, r, loss);
		if (a->out->len || b->out->len)
			continue;
		gint64 da = tcp_conn_deadline(&a->c), db = tcp_conn_deadline(&b->c);
		gint64 d = da && (da < db || !db) ? da : db;
		if (d == 0 || d > until)
			break;
		a->now = b->now = MAX(d, a->now);
		if (da == d)
			tcp_conn_timer(&a->c, a->now);
		if (db == d)
			tcp_conn_timer(&b->c, b->now);
	}
}

static void
pair_transfer(gboolean opts, double loss, size_t total)
{
	Tf a, b;
	tf_init_opts(&a, opts, opts, opts);
	tf_init_opts(&b, opts, opts, opts);
	a.space = b.space = 1 << 20;
	a.c.tcb_rcvbuf = b.c.tcb_rcvbuf = 1 << 20;
	a.c.tcb_sndbuf = b.c.tcb_sndbuf = 1 << 20;
	tcp_conn_set_addrs(&b.c, TF_RADDR, TF_RPORT, TF_LADDR, TF_LPORT);
	GRand *r = g_rand_new_with_seed(42);
	tcp_conn_connect(&a.c, a.now);
	TfOut *syn = tf_pop(&a);
	tcp_conn_accept_syn(&b.c, &syn->s, b.now);
	tf_out_free(syn);
	tf_pair_run(&a, &b, r, 0, a.now + TCP_SEC);
	g_assert_cmpint(a.c.tcb_state, ==, TCPS_ESTABLISHED);
	g_assert_cmpint(b.c.tcb_state, ==, TCPS_ESTABLISHED);
	guint8 *src = g_malloc(total);
	for (size_t i = 0; i < total; i++)
		src[i] = (guint8)(g_rand_int(r));
	size_t sent = 0;
	while (sent < total) {
		size_t n = MIN(total - sent, tcp_conn_snd_space(&a.c));
		if (n > 0) {
			tcp_conn_send(&a.c, us_msg_from(src + sent, n, 0), FALSE, a.now);
			sent += n;
		}
		tf_pair_run(&a, &b, r, loss, a.now + 100 * TF_MS);
	}
	tcp_conn_shutdown(&a.c, a.now);
	tf_pair_run(&a, &b, r, loss, a.now + 600 * TCP_SEC);
	if (b.rcvd->len != total)
		g_printerr("a %s una %u nxt %u max %u end %u wnd %u cwnd %u ca %d nsacked %u rexmt "
			   "%" G_GINT64_FORMAT " persist %" G_GINT64_FORMAT " now %" G_GINT64_FORMAT
			   " shift %u | b %s rcv_nxt %u adv %u ooo %p\n",
			   tcp_state_name(a.c.tcb_state), a.c.tcb_snd_una, a.c.tcb_snd_nxt,
			   a.c.tcb_snd_max, tcp_sndq_end(&a.c), a.c.tcb_snd_wnd, a.c.tcb_cc.cwnd,
			   a.c.tcb_ca_state, a.c.tcb_nsacked, a.c.tcb_t_rexmt, a.c.tcb_t_persist,
			   a.now, a.c.tcb_rxtshift, tcp_state_name(b.c.tcb_state), b.c.tcb_rcv_nxt,
			   b.c.tcb_rcv_adv, (void *)b.c.tcb_ooo);
	g_assert_cmpuint(b.rcvd->len, ==, total);
	g_assert_true(memcmp(b.rcvd->data, src, total) == 0);
	g_assert_true(tf_has_event(&b, TCP_EV_FIN));
	g_test_message("%zu bytes, loss %.2f: %.3f s, %u retransmissions, %" G_GUINT64_FORMAT
		       " timeouts, %" G_GUINT64_FORMAT " fast retransmits",
		       total, loss, (a.now - TF_T0) / 1e9, a.c.tcb_total_retrans,
		       a.ctx.tx_mib.tm_timeouts, a.ctx.tx_mib.tm_fast_retrans);
	g_free(src);
	g_rand_free(r);
	tf_fini(&a);
	tf_fini(&b);
}

static void
test_pair_plain(void)
{
	pair_transfer(FALSE, 0, 300000);
}

static void
test_pair_opts(void)
{
	pair_transfer(TRUE, 0, 300000);
}

static void
test_pair_loss_newreno(void)
{
	pair_transfer(FALSE, 0.05, 300000);
}

static void
test_pair_loss_sack(void)
{
	pair_transfer(TRUE, 0.05, 300000);
}

static void
test_pair_loss_heavy(void)
{
	pair_transfer(TRUE, 0.2, 100000);
}

/* ------------------------------------------------------------------ */
/* The wire format (RFC 9293 §3.1, §3.2; RFC 7323; RFC 2018)          */
/* ------------------------------------------------------------------ */

static void
test_wire_roundtrip_syn(void)
{
	TcpSeg s, p;
	memset(&s, 0, sizeof s);
	s.seg_sport = 1234;
	s.seg_dport = 80;
	s.seg_seq = 0xfffffff0;
	s.seg_flags = TCP_F_SYN;
	s.seg_wnd = 29200;
	s.seg_opt = (TcpOpts){ .to_has_mss = 1,
			       .to_mss = 1460,
			       .to_has_wscale = 1,
			       .to_wscale = 7,
			       .to_sack_ok = 1,
			       .to_has_ts = 1,
			       .to_tsval = 77,
			       .to_tsecr = 0 };
	uint8_t h[TCP_HDR_MAX];
	size_t n = tcp_hdr_build(h, &s);
	g_assert_cmpuint(n, ==, 40); /* MSS 4, SACK_OK+TS 12, NOP+WS 4 */
	g_assert_cmpuint(tcp_hdr_parse(h, n, &p), ==, 40);
	g_assert_cmpuint(p.seg_seq, ==, s.seg_seq);
	g_assert_cmpuint(p.seg_sport, ==, 1234);
	g_assert_cmpuint(p.seg_wnd, ==, 29200);
	g_assert_true(p.seg_opt.to_has_mss && p.seg_opt.to_mss == 1460);
	g_assert_true(p.seg_opt.to_has_wscale && p.seg_opt.to_wscale == 7);
	g_assert_true(p.seg_opt.to_sack_ok && p.seg_opt.to_has_ts && p.seg_opt.to_tsval == 77);
}

static void
test_wire_roundtrip_sack(void)
{
	TcpSeg s, p;
	memset(&s, 0, sizeof s);
	s.seg_flags = TCP_F_ACK;
	s.seg_opt.to_has_ts = 1;
	s.seg_opt.to_nsack = 4; /* only 3 fit beside the timestamps */
	for (guint i = 0; i < 4; i++)
		s.seg_opt.to_sack[i] = (TcpSackBlock){ 100 * i + 10, 100 * i + 20 };
	uint8_t h[TCP_HDR_MAX];
	size_t n = tcp_hdr_build(h, &s);
	g_assert_cmpuint(n, ==, 20 + 12 + 4 + 24);
	g_assert_cmpuint(tcp_hdr_parse(h, n, &p), ==, n);
	g_assert_cmpuint(p.seg_opt.to_nsack, ==, 3);
	g_assert_cmpuint(p.seg_opt.to_sack[2].sb_right, ==, 220);
}

static void
test_wire_bad_option_length(void)
{
	uint8_t o[] = { TCPOPT_MSS, 1, 0, 0 }; /* length below 2 */
	TcpOpts opt;
	g_assert_false(tcp_opts_parse(o, sizeof o, TRUE, &opt));
	uint8_t o2[] = { TCPOPT_NOP, 8, 10, 0 }; /* runs past the end */
	g_assert_false(tcp_opts_parse(o2, sizeof o2, FALSE, &opt));
}

static void
test_wire_unknown_option_skipped(void)
{
	uint8_t o[] = { 99, 4, 1, 2, TCPOPT_MSS, 4, 0x05, 0xb4, TCPOPT_EOL, 0, 0, 0 };
	TcpOpts opt;
	g_assert_true(tcp_opts_parse(o, sizeof o, TRUE, &opt));
	g_assert_true(opt.to_has_mss);
	g_assert_cmpuint(opt.to_mss, ==, 1460);
}

static void
test_wire_wscale_clamped(void)
{
	uint8_t o[] = { TCPOPT_WSCALE, 3, 20, TCPOPT_NOP };
	TcpOpts opt;
	g_assert_true(tcp_opts_parse(o, sizeof o, TRUE, &opt));
	g_assert_cmpuint(opt.to_wscale, ==, 14); /* RFC 7323 §2.3 */
}

static void
test_wire_syn_options_ignored_later(void)
{
	uint8_t o[] = { TCPOPT_MSS, 4, 0x05, 0xb4, TCPOPT_SACK_OK, 2, TCPOPT_NOP, TCPOPT_NOP };
	TcpOpts opt;
	g_assert_true(tcp_opts_parse(o, sizeof o, FALSE, &opt));
	g_assert_false(opt.to_has_mss || opt.to_sack_ok); /* only in a SYN */
}

static void
test_wire_bad_data_offset(void)
{
	uint8_t h[20] = { 0 };
	TcpSeg s;
	h[12] = 4 << 4; /* 16 bytes: below the minimum */
	g_assert_cmpuint(tcp_hdr_parse(h, sizeof h, &s), ==, 0);
	h[12] = 6 << 4; /* 24 bytes: more than there is */
	g_assert_cmpuint(tcp_hdr_parse(h, sizeof h, &s), ==, 0);
}

static void
test_wire_seq_wraparound(void)
{
	g_assert_true(tcp_seq_lt(0xfffffff0u, 0x10));
	g_assert_true(tcp_seq_gt(0x10, 0xfffffff0u));
	g_assert_true(tcp_seq_le(5, 5));
	g_assert_cmpuint(tcp_seq_max(0xfffffff0u, 0x10), ==, 0x10);
}

/* ------------------------------------------------------------------ */
/* CLOSED and LISTEN (RFC 9293 §3.10.7.1, §3.10.7.2)                   */
/* ------------------------------------------------------------------ */

static TcpSeg
tf_mkseg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	TcpSeg s;
	memset(&s, 0, sizeof s);
	s.seg_sport = TF_RPORT;
	s.seg_dport = TF_LPORT;
	s.seg_flags = flags;
	s.seg_seq = seq;
	s.seg_ack = ack;
	s.seg_len = len;
	return s;
}

static void
test_closed_rst_for_ack(void)
{
	TcpSeg in = tf_mkseg(TCP_F_ACK, 500, 777, 10), r;
	g_assert_true(tcp_rst_reply(&in, &r));
	g_assert_cmphex(r.seg_flags, ==, TCP_F_RST); /* <SEQ=SEG.ACK><CTL=RST> */
	g_assert_cmpuint(r.seg_seq, ==, 777);
	g_assert_cmpuint(r.seg_sport, ==, TF_LPORT);
}

static void
test_closed_rst_for_syn(void)
{
	TcpSeg in = tf_mkseg(TCP_F_SYN, 500, 0, 0), r;
	g_assert_true(tcp_rst_reply(&in, &r));
	g_assert_cmphex(r.seg_flags, ==, TCP_F_RST | TCP_F_ACK);
	g_assert_cmpuint(r.seg_seq, ==, 0);
	g_assert_cmpuint(r.seg_ack, ==, 501); /* SEG.SEQ + SEG.LEN, the SYN counted */
}

static void
test_closed_rst_for_data_fin(void)
{
	TcpSeg in = tf_mkseg(TCP_F_FIN | TCP_F_PSH, 500, 0, 10), r;
	g_assert_true(tcp_rst_reply(&in, &r));
	g_assert_cmpuint(r.seg_ack, ==, 511);
}

static void
test_closed_rst_not_answered(void)
{
	TcpSeg in = tf_mkseg(TCP_F_RST | TCP_F_ACK, 500, 9, 0), r;
	g_assert_false(tcp_rst_reply(&in, &r));
}

static void
test_closed_input_dropped(void)
{
	Tf f;
	tf_init(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_ACK, 1, 2, 100, "x", 1), ==, TCP_DROP_STATE);
	tf_expect_none(&f);
	tf_fini(&f);
}

static void
test_listen_verdicts(void)
{
	TcpSeg s = tf_mkseg(TCP_F_RST, 1, 0, 0);
	g_assert_cmpint(tcp_listen_input(&s), ==, TCP_LISTEN_DROP); /* first: RST ignored */
	s = tf_mkseg(TCP_F_ACK, 1, 2, 0);
	g_assert_cmpint(tcp_listen_input(&s), ==, TCP_LISTEN_ACK); /* second: ACK */
	s = tf_mkseg(TCP_F_SYN | TCP_F_ACK, 1, 2, 0);
	g_assert_cmpint(tcp_listen_input(&s), ==, TCP_LISTEN_ACK); /* ACK checked first */
	s = tf_mkseg(TCP_F_SYN, 1, 0, 0);
	g_assert_cmpint(tcp_listen_input(&s), ==, TCP_LISTEN_SYN); /* third: SYN */
	s = tf_mkseg(TCP_F_FIN, 1, 0, 0);
	g_assert_cmpint(tcp_listen_input(&s), ==, TCP_LISTEN_DROP); /* fourth: other */
}

/* ------------------------------------------------------------------ */
/* ISNs (RFC 6528) and SYN cookies (RFC 4987)                         */
/* ------------------------------------------------------------------ */

static void
test_isn_per_tuple(void)
{
	Tf f;
	tf_init(&f);
	uint32_t a = tcp_isn(&f.ctx, TF_LADDR, 1, TF_RADDR, 80, f.now);
	uint32_t b = tcp_isn(&f.ctx, TF_LADDR, 2, TF_RADDR, 80, f.now);
	g_assert_cmpuint(a, !=, b);
	g_assert_cmpuint(tcp_isn(&f.ctx, TF_LADDR, 1, TF_RADDR, 80, f.now), ==, a);
	tf_fini(&f);
}

static void
test_isn_clock(void)
{
	Tf f;
	tf_init(&f);
	uint32_t a = tcp_isn(&f.ctx, TF_LADDR, 1, TF_RADDR, 80, f.now);
	uint32_t b = tcp_isn(&f.ctx, TF_LADDR, 1, TF_RADDR, 80, f.now + 4000000);
	g_assert_cmpuint(b - a, ==, 1000); /* M: one tick every 4 us */
	tf_fini(&f);
}

static void
test_isn_secret(void)
{
	Tf f, g;
	tf_init(&f);
	tf_init(&g);
	g.ctx.tx_isn_key[0] ^= 1;
	g_assert_cmpuint(tcp_isn(&f.ctx, TF_LADDR, 1, TF_RADDR, 80, f.now), !=,
			 tcp_isn(&g.ctx, TF_LADDR, 1, TF_RADDR, 80, f.now));
	tf_fini(&f);
	tf_fini(&g);
}

static void
test_cookie_roundtrip(void)
{
	Tf f;
	tf_init(&f);
	TcpSeg syn = tf_mkseg(TCP_F_SYN, 4242, 0, 0), back;
	syn.seg_opt.to_has_mss = 1;
	syn.seg_opt.to_mss = 1400;
	uint32_t bits;
	uint32_t iss =
		tcp_cookie_make(&f.ctx, TF_LADDR, 80, TF_RADDR, 999, &syn, 1400, f.now, &bits);
	TcpSeg ack = tf_mkseg(TCP_F_ACK, 4243, iss + 1, 0);
	g_assert_true(tcp_cookie_check(&f.ctx, TF_LADDR, 80, TF_RADDR, 999, &ack, f.now + TCP_SEC,
				       &back));
	g_assert_cmpuint(back.seg_seq, ==, 4242);
	g_assert_cmpuint(back.seg_opt.to_mss, ==, 1400);
	g_assert_false(back.seg_opt.to_has_ts); /* no timestamps: no options carried */
	tf_fini(&f);
}

static void
test_cookie_bad_seq(void)
{
	Tf f;
	tf_init(&f);
	TcpSeg syn = tf_mkseg(TCP_F_SYN, 4242, 0, 0), back;
	uint32_t bits;
	uint32_t iss =
		tcp_cookie_make(&f.ctx, TF_LADDR, 80, TF_RADDR, 999, &syn, 536, f.now, &bits);
	TcpSeg ack = tf_mkseg(TCP_F_ACK, 5000, iss + 1, 0); /* another peer ISN */
	g_assert_false(tcp_cookie_check(&f.ctx, TF_LADDR, 80, TF_RADDR, 999, &ack, f.now, &back));
	ack = tf_mkseg(TCP_F_ACK, 4243, iss + 2, 0); /* another cookie */
	g_assert_false(tcp_cookie_check(&f.ctx, TF_LADDR, 80, TF_RADDR, 999, &ack, f.now, &back));
	g_assert_false(tcp_cookie_check(&f.ctx, TF_LADDR, 81, TF_RADDR, 999, &ack, f.now, &back));
	tf_fini(&f);
}

static void
test_cookie_expired(void)
{
	Tf f;
	tf_init(&f);
	TcpSeg syn = tf_mkseg(TCP_F_SYN, 1, 0, 0), back;
	uint32_t bits;
	uint32_t iss = tcp_cookie_make(&f.ctx, TF_LADDR, 80, TF_RADDR, 9, &syn, 536, f.now, &bits);
	TcpSeg ack = tf_mkseg(TCP_F_ACK, 2, iss + 1, 0);
	g_assert_false(tcp_cookie_check(&f.ctx, TF_LADDR, 80, TF_RADDR, 9, &ack,
					f.now + 200 * TCP_SEC, &back));
	tf_fini(&f);
}

static void
test_cookie_options_in_timestamp(void)
{
	Tf f;
	tf_init(&f);
	TcpSeg syn = tf_mkseg(TCP_F_SYN, 1, 0, 0), back;
	syn.seg_opt = (TcpOpts){ .to_has_ts = 1,
				 .to_tsval = 9,
				 .to_has_wscale = 1,
				 .to_wscale = 7,
				 .to_sack_ok = 1,
				 .to_has_mss = 1,
				 .to_mss = 8960 };
	uint32_t bits;
	uint32_t iss = tcp_cookie_make(&f.ctx, TF_LADDR, 80, TF_RADDR, 9, &syn, 8960, f.now, &bits);
	uint32_t tsval = tcp_cookie_tsval(123456789, bits);
	g_assert_cmpuint(tsval, <=, 123456789); /* never ahead of the clock */
	TcpSeg ack = tf_mkseg(TCP_F_ACK, 2, iss + 1, 0);
	ack.seg_opt = (TcpOpts){ .to_has_ts = 1, .to_tsval = 10, .to_tsecr = tsval };
	g_assert_true(tcp_cookie_check(&f.ctx, TF_LADDR, 80, TF_RADDR, 9, &ack, f.now, &back));
	g_assert_true(back.seg_opt.to_has_wscale && back.seg_opt.to_wscale == 7);
	g_assert_true(back.seg_opt.to_sack_ok && back.seg_opt.to_has_ts);
	g_assert_cmpuint(back.seg_opt.to_mss, ==, 8960);
	tf_fini(&f);
}

static void
test_cookie_connection(void)
{
	Tf f;
	tf_init(&f);
	TcpSeg syn = tf_mkseg(TCP_F_SYN, TF_IRS, 0, 0), back;
	syn.seg_wnd = 65535;
	uint32_t bits;
	uint32_t iss = tcp_cookie_make(&f.ctx, TF_LADDR, TF_LPORT, TF_RADDR, TF_RPORT, &syn, 1460,
				       f.now, &bits);
	TcpSeg ack = tf_mkseg(TCP_F_ACK, TF_IRS + 1, iss + 1, 3);
	ack.seg_wnd = 1000;
	ack.seg_data = us_msg_from("abc", 3, 0);
	g_assert_true(tcp_cookie_check(&f.ctx, TF_LADDR, TF_LPORT, TF_RADDR, TF_RPORT, &ack, f.now,
				       &back));
	tcp_conn_from_cookie(&f.c, &back, &ack, f.now);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_ESTABLISHED);
	g_assert_cmpuint(f.c.tcb_snd_wnd, ==, 1000);
	g_assert_cmpmem(f.rcvd->data, f.rcvd->len, "abc", 3); /* the ACK's data too */
	tf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* SYN-SENT (RFC 9293 §3.10.7.3)                                      */
/* ------------------------------------------------------------------ */

static void
test_syn_sent_syn_options(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	tcp_conn_connect(&f.c, f.now);
	const TfOut *o = tf_peek(&f, 0);
	g_assert_cmphex(o->s.seg_flags, ==, TCP_F_SYN);
	g_assert_cmpuint(o->s.seg_opt.to_mss, ==, 1460);
	g_assert_true(o->s.seg_opt.to_has_wscale && o->s.seg_opt.to_sack_ok);
	g_assert_true(o->s.seg_opt.to_has_ts && o->s.seg_opt.to_tsecr == 0);
	g_assert_cmpuint(o->s.seg_opt.to_wscale, ==, 0); /* a 64 KiB buffer needs no shift */
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_syn_sent_syn_ack(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	g_assert_true(tf_has_event(&f, TCP_EV_ESTABLISHED));
	g_assert_cmpuint(f.c.tcb_peer_mss, ==, TCP_DEFAULT_MSS); /* no MSS option: 536 */
	g_assert_cmpuint(f.c.tcb_mss, ==, 536);
	g_assert_false(f.c.tcb_ws_ok || f.c.tcb_ts_ok || f.c.tcb_sack_ok);
	tf_fini(&f);
}

static void
test_syn_sent_syn_ack_options(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	tf_established_opts(&f);
	g_assert_cmpuint(f.c.tcb_mss, ==, 1448);
	g_assert_cmpuint(f.c.tcb_snd_wscale, ==, 7);
	g_assert_cmpuint(f.c.tcb_snd_wnd, ==, 65535);   /* a SYN's window is not scaled */
	g_assert_cmpuint(f.c.tcb_srtt, ==, 10 * TF_MS); /* RTT from the timestamps */
	tf_fini(&f);
}

static void
test_syn_sent_peer_without_wscale(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, FALSE, TRUE);
	tcp_conn_connect(&f.c, f.now);
	tf_drain(&f);
	TcpOpts o = { .to_has_mss = 1, .to_mss = 1460 };
	tf_in_opts(&f, TCP_F_SYN | TCP_F_ACK, TF_IRS, tf_iss(&f) + 1, 1000, NULL, 0, &o);
	g_assert_false(f.c.tcb_ws_ok);
	g_assert_cmpuint(f.c.tcb_rcv_wscale, ==, 0); /* RFC 7323 §2.2: both or neither */
	g_assert_false(f.c.tcb_sack_ok);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_syn_sent_ack_bad(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_ACK, 5, tf_iss(&f) + 9, 100, NULL, 0), ==,
			TCP_DROP_BAD_ACK);
	tf_expect(&f, TCP_F_RST, tf_iss(&f) + 9, 0); /* <SEQ=SEG.ACK><CTL=RST> */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_SYN_SENT);
	tf_fini(&f);
}

static void
test_syn_sent_ack_of_iss(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	tf_in(&f, TCP_F_SYN | TCP_F_ACK, TF_IRS, tf_iss(&f), 100, NULL, 0); /* SEG.ACK =< ISS */
	tf_expect(&f, TCP_F_RST, tf_iss(&f), 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_SYN_SENT);
	tf_fini(&f);
}

static void
test_syn_sent_rst_bad_ack(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	int r = tf_in(&f, TCP_F_RST | TCP_F_ACK, 0, tf_iss(&f) + 7, 0, NULL, 0);
	g_assert_cmpint(r, ==, TCP_DROP_BAD_ACK);
	tf_expect_none(&f); /* never a RST for a RST */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_SYN_SENT);
	tf_fini(&f);
}

static void
test_syn_sent_rst_no_ack(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_RST, 0, 0, 0, NULL, 0), ==, TCP_DROP_RST_INVALID);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_SYN_SENT); /* RFC 5961 §3.2 */
	tf_fini(&f);
}

static void
test_syn_sent_rst_good_ack(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	tf_in(&f, TCP_F_RST | TCP_F_ACK, 0, tf_iss(&f) + 1, 0, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_cmpint(f.last_err, ==, ECONNREFUSED);
	g_assert_cmpuint(f.ctx.tx_mib.tm_attempt_fails, ==, 1);
	tf_fini(&f);
}

static void
test_syn_sent_simultaneous_syn(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	tf_in(&f, TCP_F_SYN, TF_IRS, 0, 8000, NULL, 0);
	tf_expect(&f, TCP_F_SYN | TCP_F_ACK, tf_iss(&f), TF_IRS + 1); /* SYN,ACK with our ISS */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_SYN_RECEIVED);
	/* The peer's SYN,ACK: its SYN is old now, its ACK completes ours. */
	tf_in(&f, TCP_F_SYN | TCP_F_ACK, TF_IRS, tf_iss(&f) + 1, 8000, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_ESTABLISHED);
	g_assert_cmpuint(f.c.tcb_snd_wnd, ==, 8000);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 1);
	tf_fini(&f);
}

static void
test_syn_sent_neither(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_FIN, TF_IRS, 0, 100, NULL, 0), ==, TCP_DROP_STATE);
	tf_expect_none(&f);
	tf_fini(&f);
}

static void
test_syn_sent_retransmit(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	tf_advance(&f, 999 * TF_MS);
	tf_expect_none(&f);
	tf_advance(&f, TF_MS); /* RFC 6298 (2.1): 1 s */
	tf_expect(&f, TCP_F_SYN, tf_iss(&f), 0);
	tf_advance(&f, 2 * TCP_SEC); /* (5.5): doubled */
	tf_expect(&f, TCP_F_SYN, tf_iss(&f), 0);
	g_assert_cmpuint(f.c.tcb_rxtshift, ==, 2);
	tf_fini(&f);
}

static void
test_syn_sent_timeout(void)
{
	Tf f;
	tf_init(&f);
	f.c.tcb_syn_retries = 2;
	tf_syn_sent(&f);
	tf_advance(&f, 100 * TCP_SEC);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_cmpint(f.last_err, ==, ETIMEDOUT);
	g_assert_cmpuint(tf_nout(&f), ==, 2); /* the two retries */
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_syn_sent_timeout_soft_error(void)
{
	Tf f;
	tf_init(&f);
	f.c.tcb_syn_retries = 1;
	tf_syn_sent(&f);
	tcp_conn_icmp_error(&f.c, EHOSTUNREACH, FALSE, f.now); /* soft: remembered */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_SYN_SENT);
	tf_advance(&f, 100 * TCP_SEC);
	g_assert_cmpint(f.last_err, ==, EHOSTUNREACH); /* RFC 1122 §4.2.3.9 */
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_syn_sent_icmp_hard(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	tcp_conn_icmp_error(&f.c, ECONNREFUSED, TRUE, f.now);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_cmpint(f.last_err, ==, ECONNREFUSED);
	tf_fini(&f);
}

static void
test_syn_sent_syn_ack_with_data(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	tf_in(&f, TCP_F_SYN | TCP_F_ACK, TF_IRS, tf_iss(&f) + 1, 1000, "hi", 2);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_ESTABLISHED);
	g_assert_cmpmem(f.rcvd->data, f.rcvd->len, "hi", 2);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 3);
	tf_fini(&f);
}

static void
test_syn_sent_syn_ack_with_fin(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	tf_in(&f, TCP_F_SYN | TCP_F_ACK | TCP_F_FIN, TF_IRS, tf_iss(&f) + 1, 1000, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSE_WAIT);
	g_assert_true(tf_has_event(&f, TCP_EV_FIN));
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 2);
	tf_fini(&f);
}

static void
test_syn_sent_close(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	tcp_conn_close(&f.c, 0, f.now);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED); /* RFC 9293 §3.10.4 */
	tf_expect_none(&f);
	tf_fini(&f);
}

static void
test_syn_sent_abort(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	tcp_conn_abort(&f.c, f.now);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	tf_expect_none(&f); /* §3.10.5: no RST from SYN-SENT */
	tf_fini(&f);
}

static void
test_syn_sent_lost_syn_one_segment(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	tf_advance(&f, TCP_SEC);
	tf_drain(&f);
	tf_in(&f, TCP_F_SYN | TCP_F_ACK, TF_IRS, tf_iss(&f) + 1, 65535, NULL, 0);
	tf_drain(&f);
	g_assert_cmpuint(f.c.tcb_cc.cwnd, ==, f.c.tcb_mss); /* RFC 5681 §3.1 */
	g_assert_cmpint(f.c.tcb_srtt, ==, 0);               /* Karn: no sample from a retried SYN */
	tf_fini(&f);
}

static void
test_syn_sent_send_queued(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_sent(&f);
	tf_send(&f, 100); /* queued until ESTABLISHED */
	tf_expect_none(&f);
	tf_in(&f, TCP_F_SYN | TCP_F_ACK, TF_IRS, tf_iss(&f) + 1, 65535, NULL, 0);
	tf_expect_data(&f, tf_iss(&f) + 1, 100);
	tf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* SYN-RECEIVED                                                       */
/* ------------------------------------------------------------------ */

static void
test_syn_received_ack(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_received(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 300, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_ESTABLISHED);
	g_assert_true(tf_has_event(&f, TCP_EV_ESTABLISHED));
	g_assert_cmpuint(f.c.tcb_snd_wnd, ==, 300);
	g_assert_cmpuint(f.ctx.tx_mib.tm_passive_opens, ==, 1);
	tf_expect_none(&f);
	tf_fini(&f);
}

static void
test_syn_received_ack_bad(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_received(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 5, 300, NULL, 0), ==,
			TCP_DROP_BAD_ACK);
	tf_expect(&f, TCP_F_RST, tf_iss(&f) + 5, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_SYN_RECEIVED);
	tf_fini(&f);
}

static void
test_syn_received_rst(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_received(&f);
	tf_in(&f, TCP_F_RST, TF_IRS + 1, 0, 0, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED); /* back to LISTEN: gone */
	g_assert_cmpuint(f.ctx.tx_mib.tm_attempt_fails, ==, 1);
	tf_fini(&f);
}

static void
test_syn_received_rst_in_window(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_received(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_RST, TF_IRS + 100, 0, 0, NULL, 0), ==,
			TCP_DROP_RST_INVALID);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 1); /* challenge ACK */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_SYN_RECEIVED);
	tf_fini(&f);
}

static void
test_syn_received_dup_syn(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_received(&f);
	tf_in(&f, TCP_F_SYN, TF_IRS, 0, 65535, NULL, 0);
	tf_expect(&f, TCP_F_SYN | TCP_F_ACK, tf_iss(&f), TF_IRS + 1);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_SYN_RECEIVED);
	tf_fini(&f);
}

static void
test_syn_received_new_syn(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_received(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_SYN, TF_IRS + 10, 0, 65535, NULL, 0), ==,
			TCP_DROP_SYN_INVALID);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED); /* passive: back to LISTEN */
	tf_fini(&f);
}

static void
test_syn_received_retransmit(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_received(&f);
	tf_advance(&f, TCP_SEC);
	tf_expect(&f, TCP_F_SYN | TCP_F_ACK, tf_iss(&f), TF_IRS + 1);
	tf_fini(&f);
}

static void
test_syn_received_timeout(void)
{
	Tf f;
	tf_init(&f);
	f.ctx.tx_params.tp_synack_retries = 2;
	tf_syn_received(&f);
	tf_advance(&f, 100 * TCP_SEC);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_cmpint(f.last_err, ==, ETIMEDOUT);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_syn_received_ack_with_data(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_received(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 300, "data", 4);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_ESTABLISHED);
	g_assert_cmpmem(f.rcvd->data, f.rcvd->len, "data", 4);
	tf_fini(&f);
}

static void
test_syn_received_ack_with_fin(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_received(&f);
	tf_in(&f, TCP_F_ACK | TCP_F_FIN, TF_IRS + 1, tf_iss(&f) + 1, 300, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSE_WAIT);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 2);
	tf_fini(&f);
}

static void
test_syn_received_no_ack(void)
{
	Tf f;
	tf_init(&f);
	tf_syn_received(&f);
	g_assert_cmpint(tf_in(&f, 0, TF_IRS + 1, 0, 300, "x", 1), ==, TCP_DROP_NO_ACK);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_SYN_RECEIVED);
	tf_fini(&f);
}

static void
test_syn_received_options_from_syn(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	TcpSeg syn = tf_mkseg(TCP_F_SYN, TF_IRS, 0, 0);
	syn.seg_wnd = 1000;
	syn.seg_opt = (TcpOpts){
		.to_has_mss = 1, .to_mss = 1200, .to_has_ts = 1, .to_tsval = 77, .to_sack_ok = 1
	};
	tcp_conn_accept_syn(&f.c, &syn, f.now);
	const TfOut *o = tf_peek(&f, 0);
	g_assert_false(o->s.seg_opt.to_has_wscale); /* the peer offered none */
	g_assert_true(o->s.seg_opt.to_sack_ok && o->s.seg_opt.to_has_ts);
	g_assert_cmpuint(o->s.seg_opt.to_tsecr, ==, 77);
	g_assert_cmpuint(f.c.tcb_mss, ==, 1188); /* 1200 - 12 of timestamps */
	tf_drain(&f);
	tf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* ESTABLISHED: receiving (RFC 9293 §3.10.7.4, RFC 1122, RFC 5681)    */
/* ------------------------------------------------------------------ */

static guint8 tf_pattern[4096];

static const guint8 *
tf_bytes(size_t off)
{
	if (tf_pattern[1] == 0)
		for (size_t i = 0; i < sizeof tf_pattern; i++)
			tf_pattern[i] = (guint8)(i * 13 + 1);
	return tf_pattern + off;
}

static void
test_established_data_delayed_ack(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_data(&f, tf_iss(&f) + 1, "hello", 5);
	g_assert_cmpmem(f.rcvd->data, f.rcvd->len, "hello", 5);
	tf_expect_none(&f); /* RFC 1122 §4.2.3.2: the ACK may wait */
	tf_advance(&f, 39 * TF_MS);
	tf_expect_none(&f);
	tf_advance(&f, TF_MS);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 6);
	g_assert_cmpuint(f.ctx.tx_mib.tm_delayed_acks, ==, 1);
	tf_fini(&f);
}

static void
test_established_ack_every_second_segment(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_data(&f, tf_iss(&f) + 1, tf_bytes(0), 1460);
	tf_expect_none(&f);
	tf_data(&f, tf_iss(&f) + 1, tf_bytes(1460), 1460);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 1 + 2920); /* at least every second */
	tf_fini(&f);
}

static void
test_established_out_of_order(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 101, tf_iss(&f) + 1, 65535, tf_bytes(100), 100);
	g_assert_cmpuint(f.rcvd->len, ==, 0);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 1); /* RFC 5681 §4.2: at once */
	g_assert_cmpuint(f.ctx.tx_mib.tm_ofo_queued, ==, 1);
	tf_fini(&f);
}

static void
test_established_gap_fill(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 101, tf_iss(&f) + 1, 65535, tf_bytes(100), 100);
	tf_drain(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 65535, tf_bytes(0), 100);
	g_assert_cmpuint(f.rcvd->len, ==, 200);
	g_assert_cmpmem(f.rcvd->data, 200, tf_bytes(0), 200);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 201); /* filled a gap: at once */
	g_assert_null(f.c.tcb_ooo);
	tf_fini(&f);
}

static void
test_established_reassembly_overlaps(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	uint32_t s = TF_IRS + 1;
	tf_in(&f, TCP_F_ACK, s + 300, tf_iss(&f) + 1, 65535, tf_bytes(300), 100);
	tf_in(&f, TCP_F_ACK, s + 250, tf_iss(&f) + 1, 65535, tf_bytes(250), 200); /* covers */
	tf_in(&f, TCP_F_ACK, s + 100, tf_iss(&f) + 1, 65535, tf_bytes(100), 200); /* overlaps */
	tf_in(&f, TCP_F_ACK, s + 120, tf_iss(&f) + 1, 65535, tf_bytes(120), 20);  /* inside */
	tf_drain(&f);
	tf_in(&f, TCP_F_ACK, s, tf_iss(&f) + 1, 65535, tf_bytes(0), 150);
	g_assert_cmpuint(f.rcvd->len, ==, 450);
	g_assert_cmpmem(f.rcvd->data, 450, tf_bytes(0), 450);
	g_assert_cmpuint(f.c.tcb_ooo_bytes, ==, 0);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_duplicate_data(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_data(&f, tf_iss(&f) + 1, "abc", 3);
	tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 65535, "abc", 3);
	g_assert_cmpuint(f.rcvd->len, ==, 3);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 4); /* a duplicate: ACK at once */
	tf_fini(&f);
}

static void
test_established_partial_overlap(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_data(&f, tf_iss(&f) + 1, "abcdef", 6);
	tf_in(&f, TCP_F_ACK, TF_IRS + 4, tf_iss(&f) + 1, 65535, "defghi", 6);
	g_assert_cmpmem(f.rcvd->data, f.rcvd->len, "abcdefghi", 9);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_beyond_window(void)
{
	Tf f;
	tf_init(&f);
	f.space = 100;
	f.c.tcb_rcvbuf = 100;
	tf_established(&f);
	tf_data(&f, tf_iss(&f) + 1, tf_bytes(0), 200);
	g_assert_cmpuint(f.rcvd->len, ==, 100); /* trimmed to RCV.WND */
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_zero_window(void)
{
	Tf f;
	tf_init(&f);
	f.space = 0;
	tf_established(&f);
	tf_send(&f, 10);
	tf_drain(&f);
	/* A zero window accepts no text, but the ACK in it counts. */
	g_assert_cmpint(tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 11, 65535, "x", 1), ==,
			TCP_DROP_N);
	g_assert_cmpuint(f.rcvd->len, ==, 0);
	g_assert_cmpuint(f.c.tcb_snd_una, ==, tf_iss(&f) + 11);
	const TfOut *o = tf_peek(&f, 0);
	g_assert_cmpuint(o->s.seg_wnd, ==, 0);
	g_assert_cmpuint(o->s.seg_ack, ==, TF_IRS + 1);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_window_no_shrink(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f); /* advertised 65535 */
	f.space = 10;
	tf_data(&f, tf_iss(&f) + 1, "abcd", 4);
	tf_advance(&f, 50 * TF_MS);
	const TfOut *o = tf_peek(&f, 0);
	g_assert_cmpuint(o->s.seg_wnd, ==, 65535 - 4); /* the right edge stays */
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_receiver_sws(void)
{
	Tf f;
	tf_init(&f);
	f.space = 4000;
	tf_established(&f);
	f.space = 1000; /* the 3000 bytes below wait for the reader */
	tf_data(&f, tf_iss(&f) + 1, tf_bytes(0), 3000);
	g_assert_cmpuint(tf_peek(&f, 0)->s.seg_wnd, ==, 1000);
	tf_drain(&f);
	f.space = 1500; /* 500 more: below min(RCV.BUFF/2, MSS) */
	tcp_conn_rcv_opened(&f.c, f.now);
	tf_expect_none(&f);
	f.space = 4000;
	tcp_conn_rcv_opened(&f.c, f.now); /* 3000 more: an update */
	g_assert_cmpuint(tf_peek(&f, 0)->s.seg_wnd, ==, 4000);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_window_update(void)
{
	Tf f;
	tf_init(&f);
	f.space = 0;
	tf_established(&f);
	f.space = 65535;
	tcp_conn_rcv_opened(&f.c, f.now); /* the reader made room: tell the peer */
	const TfOut *o = tf_peek(&f, 0);
	g_assert_cmphex(o->s.seg_flags, ==, TCP_F_ACK);
	g_assert_cmpuint(o->s.seg_wnd, ==, 65535);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_fin(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_in(&f, TCP_F_ACK | TCP_F_FIN, TF_IRS + 1, tf_iss(&f) + 1, 65535, "end", 3);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSE_WAIT);
	g_assert_true(tf_has_event(&f, TCP_EV_FIN));
	g_assert_cmpmem(f.rcvd->data, f.rcvd->len, "end", 3);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 5);
	tf_fini(&f);
}

static void
test_established_fin_out_of_order(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_in(&f, TCP_F_ACK | TCP_F_FIN, TF_IRS + 4, tf_iss(&f) + 1, 65535, "def", 3);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_ESTABLISHED); /* not yet: a gap before it */
	tf_drain(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 65535, "abc", 3);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSE_WAIT);
	g_assert_cmpmem(f.rcvd->data, f.rcvd->len, "abcdef", 6);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 8);
	tf_fini(&f);
}

static void
test_established_rst_exact(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_in(&f, TCP_F_RST, TF_IRS + 1, 0, 0, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_cmpint(f.last_err, ==, ECONNRESET);
	g_assert_cmpuint(f.ctx.tx_mib.tm_estab_resets, ==, 1);
	g_assert_cmpuint(f.ctx.tx_mib.tm_curr_estab, ==, 0);
	tf_expect_none(&f);
	tf_fini(&f);
}

static void
test_established_rst_in_window(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_RST, TF_IRS + 1000, 0, 0, NULL, 0), ==,
			TCP_DROP_RST_INVALID);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_ESTABLISHED);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 1); /* RFC 5961 §3.2 challenge */
	g_assert_cmpuint(f.ctx.tx_mib.tm_challenge_acks, ==, 1);
	tf_fini(&f);
}

static void
test_established_rst_out_of_window(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_RST, TF_IRS + 100000, 0, 0, NULL, 0), ==,
			TCP_DROP_RST_INVALID);
	tf_expect_none(&f); /* silently */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_ESTABLISHED);
	tf_fini(&f);
}

static void
test_established_challenge_ack_limit(void)
{
	Tf f;
	tf_init(&f);
	f.ctx.tx_params.tp_challenge_limit = 2;
	tf_established(&f);
	for (int i = 0; i < 5; i++)
		tf_in(&f, TCP_F_RST, TF_IRS + 100 + i, 0, 0, NULL, 0);
	g_assert_cmpuint(tf_nout(&f), ==, 2); /* RFC 5961 §7: per second */
	tf_drain(&f);
	f.now += TCP_SEC;
	tf_in(&f, TCP_F_RST, TF_IRS + 100, 0, 0, NULL, 0);
	g_assert_cmpuint(tf_nout(&f), ==, 1);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_syn(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_SYN, TF_IRS + 50, 0, 100, NULL, 0), ==,
			TCP_DROP_SYN_INVALID);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 1); /* RFC 5961 §4.2 */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_ESTABLISHED);
	tf_fini(&f);
}

static void
test_established_syn_ack_retransmitted(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	/* The peer did not get our ACK and sends its SYN,ACK again. */
	tf_in(&f, TCP_F_SYN | TCP_F_ACK, TF_IRS, tf_iss(&f) + 1, 65535, NULL, 0);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 1);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_ESTABLISHED);
	tf_fini(&f);
}

static void
test_established_no_ack_flag(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_PSH, TF_IRS + 1, 0, 100, "z", 1), ==, TCP_DROP_NO_ACK);
	g_assert_cmpuint(f.rcvd->len, ==, 0);
	tf_fini(&f);
}

static void
test_established_ack_unsent(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 100, 100, "z", 1), ==,
			TCP_DROP_BAD_ACK);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 1);
	g_assert_cmpuint(f.rcvd->len, ==, 0);
	tf_fini(&f);
}

static void
test_established_ack_too_old(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) - 100000, 100, NULL, 0), ==,
			TCP_DROP_BAD_ACK);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 1); /* RFC 5961 §5.2 */
	tf_fini(&f);
}

static void
test_established_paws(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	tf_established_opts(&f);
	TcpOpts o = { .to_has_ts = 1, .to_tsval = f.peer_tsval - 100, .to_tsecr = f.last_tsval };
	g_assert_cmpint(tf_in_opts(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 100, "old", 3, &o),
			==, TCP_DROP_PAWS);
	g_assert_cmpuint(f.rcvd->len, ==, 0);
	g_assert_cmpuint(f.ctx.tx_mib.tm_paws_drops, ==, 1);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 1); /* RFC 7323 §5.3 R1 */
	tf_fini(&f);
}

static void
test_established_paws_old_recent(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	tf_established_opts(&f);
	f.now += 25LL * 24 * 3600 * TCP_SEC; /* TS.Recent is now invalid (§5.5) */
	TcpOpts o = { .to_has_ts = 1, .to_tsval = f.peer_tsval - 100, .to_tsecr = f.last_tsval };
	g_assert_cmpint(tf_in_opts(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 100, "ok", 2, &o), ==,
			TCP_DROP_N);
	g_assert_cmpuint(f.rcvd->len, ==, 2);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_missing_timestamp(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	tf_established_opts(&f);
	TcpOpts o = { .to_nsack = 0 }; /* no TSopt */
	o.to_has_ts = 0;
	f.c.tcb_ts_ok = FALSE; /* keep the harness from adding one */
	TcpSeg s = tf_mkseg(TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 1);
	s.seg_data = us_msg_from("x", 1, 0);
	f.c.tcb_ts_ok = TRUE;
	g_assert_cmpint(tcp_conn_input(&f.c, &s, f.now), ==, TCP_DROP_PAWS); /* §3.2 */
	g_assert_cmpuint(f.rcvd->len, ==, 0);
	(void)o;
	tf_fini(&f);
}

static void
test_established_ts_echo(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	tf_established_opts(&f);
	TcpOpts o = { .to_has_ts = 1, .to_tsval = 99999, .to_tsecr = f.last_tsval };
	tf_in_opts(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 100, "abc", 3, &o);
	tf_advance(&f, 50 * TF_MS);
	g_assert_cmpuint(tf_peek(&f, 0)->s.seg_opt.to_tsecr, ==, 99999); /* §4.3 */
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_urgent(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	TcpSeg s = tf_mkseg(TCP_F_ACK | TCP_F_URG, TF_IRS + 1, tf_iss(&f) + 1, 3);
	s.seg_wnd = 100;
	s.seg_up = 2; /* RFC 6093: one past the urgent byte, "b" */
	s.seg_data = us_msg_from("abc", 3, 0);
	tcp_conn_input(&f.c, &s, f.now);
	g_assert_cmpmem(f.rcvd->data, f.rcvd->len, "ac", 2);
	g_assert_cmpmem(f.urg->data, f.urg->len, "b", 1);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_urgent_later(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	TcpSeg s = tf_mkseg(TCP_F_ACK | TCP_F_URG, TF_IRS + 1, tf_iss(&f) + 1, 2);
	s.seg_wnd = 100;
	s.seg_up = 4; /* the urgent byte is in the next segment */
	s.seg_data = us_msg_from("ab", 2, 0);
	tcp_conn_input(&f.c, &s, f.now);
	g_assert_cmpuint(f.urg->len, ==, 0);
	tf_in(&f, TCP_F_ACK, TF_IRS + 3, tf_iss(&f) + 1, 100, "cde", 3);
	g_assert_cmpmem(f.rcvd->data, f.rcvd->len, "abce", 4);
	g_assert_cmpmem(f.urg->data, f.urg->len, "d", 1);
	tf_drain(&f);
	tf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* ESTABLISHED: sending (RFC 5681, RFC 1122 §4.2.3.4, RFC 6298)        */
/* ------------------------------------------------------------------ */

/* The fixture's peer sent no MSS: 536 bytes a segment; IW 2144 (4). */
#define TF_MSS 536u

static void
test_established_send_initial_window(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_send(&f, 10000);
	g_assert_cmpuint(f.c.tcb_cc.cwnd, ==, 4 * TF_MSS); /* RFC 5681 §3.1 */
	for (guint i = 0; i < 4; i++)
		tf_expect_data(&f, tf_iss(&f) + 1 + i * TF_MSS, TF_MSS);
	tf_expect_none(&f);
	tf_fini(&f);
}

/* Segmentation offload: the initial window leaves as one HW_LSO segment
 * of four MSS-sized ones, counted as four. */
static void
test_tso_one_packet(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	f.c.tcb_lso_max = 65535;
	guint64 segs0 = f.c.tcb_segs_out;
	tf_send(&f, 10000);
	TfOut *o = tf_pop(&f);
	g_assert_cmpuint(o->s.seg_seq, ==, tf_iss(&f) + 1);
	g_assert_cmpuint(o->s.seg_len, ==, 4 * TF_MSS);
	g_assert_cmpuint(o->s.seg_lso_mss, ==, TF_MSS);
	tf_out_free(o);
	tf_expect_none(&f);
	g_assert_cmpuint(f.c.tcb_segs_out - segs0, ==, 4);
	tf_fini(&f);
}

/* The short last piece of a HW_LSO segment follows full ones: Nagle holds
 * it back, TCP_NODELAY lets it go in the same packet. */
static void
test_tso_tail_nagle(void)
{
	for (int nodelay = 0; nodelay <= 1; nodelay++) {
		Tf f;
		tf_init(&f);
		tf_established(&f);
		f.c.tcb_lso_max = 65535;
		f.c.tcb_cc.cwnd = 100 * TF_MSS;
		f.c.tcb_nodelay = nodelay;
		tf_send(&f, 3 * TF_MSS + 100);
		TfOut *o = tf_pop(&f);
		g_assert_cmpuint(o->s.seg_len, ==, 3 * TF_MSS + (nodelay ? 100 : 0));
		g_assert_cmpuint(o->s.seg_lso_mss, ==, TF_MSS);
		tf_out_free(o);
		tf_expect_none(&f);
		tf_drain(&f);
		tf_fini(&f);
	}
}

/* Without the route's LSO: single segments, as before. */
static void
test_tso_off(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_send(&f, 2 * TF_MSS);
	tf_expect_data(&f, tf_iss(&f) + 1, TF_MSS);
	tf_expect_data(&f, tf_iss(&f) + 1 + TF_MSS, TF_MSS);
	tf_expect_none(&f);
	tf_fini(&f);
}

static void
test_established_ack_frees_and_grows(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_send(&f, 10000);
	tf_drain(&f);
	g_array_set_size(f.events, 0);
	tf_ack(&f, tf_iss(&f) + 1 + 2 * TF_MSS);
	g_assert_true(tf_has_event(&f, TCP_EV_SND_SPACE));
	g_assert_cmpuint(f.c.tcb_sndq_bytes, ==, 10000 - 2 * TF_MSS);
	g_assert_cmpuint(f.c.tcb_cc.cwnd, ==, 6 * TF_MSS); /* slow start: + min(N, 2 SMSS) */
	g_assert_cmpuint(tf_nout(&f), ==, 4);              /* 6 allowed, 2 in flight */
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_all_acked_stops_rto(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_send(&f, 100);
	tf_drain(&f);
	g_assert_cmpint(f.c.tcb_t_rexmt, !=, 0); /* RFC 6298 (5.1) */
	tf_ack(&f, tf_iss(&f) + 101);
	g_assert_cmpint(f.c.tcb_t_rexmt, ==, 0); /* (5.2) */
	tf_fini(&f);
}

static void
test_established_nagle(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_send(&f, 100);
	tf_expect_data(&f, tf_iss(&f) + 1, 100); /* nothing in flight: goes */
	tf_send(&f, 100);
	tf_expect_none(&f); /* RFC 1122 §4.2.3.4: held while data is unacknowledged */
	tf_ack(&f, tf_iss(&f) + 101);
	tf_expect_data(&f, tf_iss(&f) + 101, 100);
	tf_fini(&f);
}

static void
test_established_nodelay(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	f.c.tcb_nodelay = TRUE;
	tf_send(&f, 100);
	tf_send(&f, 100);
	tf_expect_data(&f, tf_iss(&f) + 1, 100);
	tf_expect_data(&f, tf_iss(&f) + 101, 100);
	tf_fini(&f);
}

static void
test_established_cork(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	f.c.tcb_cork = TRUE;
	tf_send(&f, 100);
	tf_expect_none(&f); /* only full segments */
	tf_send(&f, 500);
	tf_expect_data(&f, tf_iss(&f) + 1, TF_MSS);
	tf_expect_none(&f);
	f.c.tcb_cork = FALSE;
	tcp_conn_push(&f.c, f.now);
	tf_expect_data(&f, tf_iss(&f) + 1 + TF_MSS, 600 - TF_MSS);
	tf_fini(&f);
}

static void
test_established_fin_rides_on_data(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	f.c.tcb_cork = TRUE;
	tf_send(&f, 100);
	tcp_conn_shutdown(&f.c, f.now);
	const TfOut *o = tf_peek(&f, 0);
	g_assert_cmphex(o->s.seg_flags & TCP_F_FIN, ==, TCP_F_FIN);
	g_assert_cmpuint(o->s.seg_len, ==, 100);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_FIN_WAIT_1);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_send_window(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 2 * TF_MSS, NULL, 0);
	g_assert_cmpuint(f.c.tcb_snd_wnd, ==, 2 * TF_MSS);
	tf_send(&f, 5000);
	g_assert_cmpuint(tf_nout(&f), ==, 2); /* SND.WND, not cwnd, is the limit */
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_window_update_rules(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_data(&f, tf_iss(&f) + 1, "abcd", 4); /* SND.WL1 = IRS + 1 */
	/* An older segment (SEG.SEQ < SND.WL1) must not change the window. */
	tf_in(&f, TCP_F_ACK, TF_IRS, tf_iss(&f) + 1, 10, NULL, 0);
	g_assert_cmpuint(f.c.tcb_snd_wnd, ==, 65535);
	tf_in(&f, TCP_F_ACK, TF_IRS + 5, tf_iss(&f) + 1, 10, NULL, 0);
	g_assert_cmpuint(f.c.tcb_snd_wnd, ==, 10);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_rto_retransmit(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_send(&f, 100);
	tf_drain(&f);
	tf_advance(&f, 199 * TF_MS);
	tf_expect_none(&f);
	tf_advance(&f, TF_MS); /* RTO: 10 ms RTT -> clamped to rto_min 200 ms */
	tf_expect_data(&f, tf_iss(&f) + 1, 100);
	tf_advance(&f, 399 * TF_MS);
	tf_expect_none(&f);
	tf_advance(&f, TF_MS); /* (5.5): doubled */
	tf_expect_data(&f, tf_iss(&f) + 1, 100);
	g_assert_cmpuint(f.ctx.tx_mib.tm_timeouts, ==, 2);
	g_assert_cmpuint(f.ctx.tx_mib.tm_retrans_segs, ==, 2);
	tf_fini(&f);
}

static void
test_established_rto_congestion(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	g_assert_true(tcp_conn_set_cc(&f.c, &tcp_cc_newreno));
	tf_send(&f, 4 * TF_MSS);
	tf_drain(&f);
	tf_advance(&f, 200 * TF_MS);
	g_assert_cmpuint(f.c.tcb_cc.cwnd, ==, TF_MSS); /* RFC 5681 §3.1: LW */
	g_assert_cmpuint(f.c.tcb_cc.ssthresh, ==, 2 * TF_MSS);
	g_assert_cmpint(f.c.tcb_ca_state, ==, TCP_CA_LOSS);
	g_assert_cmpuint(tf_nout(&f), ==, 1); /* only the first segment */
	tf_drain(&f);
	tf_ack(&f, tf_iss(&f) + 1 + TF_MSS); /* slow start again, go-back-N */
	g_assert_cmpuint(tf_nout(&f), ==, 2);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_rto_give_up(void)
{
	Tf f;
	tf_init(&f);
	f.ctx.tx_params.tp_retries = 3;
	tf_established(&f);
	tf_send(&f, 10);
	tf_advance(&f, 60 * TCP_SEC);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_cmpint(f.last_err, ==, ETIMEDOUT); /* RFC 1122 §4.2.3.5 */
	g_assert_cmpuint(tf_nout(&f), ==, 4);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_rtt_sample(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f); /* SRTT 10 ms, RTTVAR 5 ms */
	tf_send(&f, 100);
	tf_drain(&f);
	tf_advance(&f, 50 * TF_MS);
	tf_ack(&f, tf_iss(&f) + 101);
	g_assert_cmpint(f.c.tcb_srtt, ==, 15 * TF_MS);     /* 7/8 10 + 1/8 50 */
	g_assert_cmpint(f.c.tcb_rttvar, ==, 13750 * 1000); /* 3/4 5 + 1/4 40 */
	g_assert_cmpint(f.c.tcb_rto, ==, 200 * TF_MS);     /* 70 ms, clamped */
	tf_fini(&f);
}

static void
test_established_karn(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_send(&f, 100);
	tf_advance(&f, 200 * TF_MS); /* retransmitted */
	tf_drain(&f);
	tf_advance(&f, 100 * TF_MS);
	tf_ack(&f, tf_iss(&f) + 101);
	g_assert_cmpint(f.c.tcb_srtt, ==, 10 * TF_MS); /* RFC 6298 §3: no sample */
	g_assert_cmpuint(f.c.tcb_rxtshift, ==, 0);
	tf_fini(&f);
}

static void
test_established_ts_rtt_after_retransmit(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	tf_established_opts(&f);
	tf_send(&f, 100);
	TfOut *o = tf_pop(&f);
	uint32_t tsval = o->s.seg_opt.to_tsval;
	tf_out_free(o);
	tf_advance(&f, 200 * TF_MS);
	tf_drain(&f);
	TcpOpts e = { .to_has_ts = 1, .to_tsval = ++f.peer_tsval, .to_tsecr = tsval };
	tf_in_opts(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 101, 65535, NULL, 0, &e);
	/* RFC 7323 §4.1: the echo times the first transmission: 200 ms. */
	g_assert_cmpint(f.c.tcb_srtt, ==, (7 * 10 + 200) * TF_MS / 8);
	tf_fini(&f);
}

static void
tf_newreno_flight(Tf *f, guint segs)
{
	tf_init(f);
	tf_established(f);
	g_assert_true(tcp_conn_set_cc(&f->c, &tcp_cc_newreno));
	f->c.tcb_cc.cwnd = segs * TF_MSS;
	tf_send(f, segs * TF_MSS);
	g_assert_cmpuint(tf_nout(f), ==, segs);
	tf_drain(f);
}

static void
test_established_dupacks_fast_retransmit(void)
{
	Tf f;
	tf_newreno_flight(&f, 10);
	tf_ack(&f, tf_iss(&f) + 1);
	tf_ack(&f, tf_iss(&f) + 1);
	tf_expect_none(&f);
	tf_ack(&f, tf_iss(&f) + 1); /* the third: RFC 5681 §3.2 */
	tf_expect_data(&f, tf_iss(&f) + 1, TF_MSS);
	g_assert_cmpuint(f.c.tcb_cc.ssthresh, ==, 5 * TF_MSS);
	g_assert_cmpuint(f.c.tcb_cc.cwnd, ==, 8 * TF_MSS); /* ssthresh + 3 SMSS */
	g_assert_cmpint(f.c.tcb_ca_state, ==, TCP_CA_RECOVERY);
	g_assert_cmpuint(f.ctx.tx_mib.tm_reno_recoveries, ==, 1);
	tf_ack(&f, tf_iss(&f) + 1);
	g_assert_cmpuint(f.c.tcb_cc.cwnd, ==, 9 * TF_MSS); /* inflated per dup */
	tf_fini(&f);
}

static void
test_established_newreno_partial_ack(void)
{
	Tf f;
	tf_newreno_flight(&f, 10);
	for (int i = 0; i < 3; i++)
		tf_ack(&f, tf_iss(&f) + 1);
	tf_drain(&f);
	tf_ack(&f, tf_iss(&f) + 1 + 3 * TF_MSS);                 /* a partial ACK */
	tf_expect_data(&f, tf_iss(&f) + 1 + 3 * TF_MSS, TF_MSS); /* the next hole at once */
	g_assert_cmpint(f.c.tcb_ca_state, ==, TCP_CA_RECOVERY);
	g_assert_cmpuint(f.c.tcb_cc.cwnd, ==, 6 * TF_MSS); /* 8 - 3 + 1 */
	tf_fini(&f);
}

static void
test_established_newreno_full_ack(void)
{
	Tf f;
	tf_newreno_flight(&f, 10);
	for (int i = 0; i < 3; i++)
		tf_ack(&f, tf_iss(&f) + 1);
	tf_drain(&f);
	tf_ack(&f, tf_iss(&f) + 1 + 10 * TF_MSS);
	g_assert_cmpint(f.c.tcb_ca_state, ==, TCP_CA_OPEN);
	g_assert_cmpuint(f.c.tcb_cc.cwnd, ==, 2 * TF_MSS); /* min(ssthresh, FlightSize + SMSS) */
	tf_fini(&f);
}

static void
test_established_newreno_recover_guard(void)
{
	Tf f;
	tf_newreno_flight(&f, 10);
	for (int i = 0; i < 3; i++)
		tf_ack(&f, tf_iss(&f) + 1);
	tf_ack(&f, tf_iss(&f) + 1 + 10 * TF_MSS);
	tf_drain(&f);
	f.c.tcb_recover = tf_iss(&f) + 1 + 20 * TF_MSS; /* as if data past it were in flight */
	f.c.tcb_cc.cwnd = 10 * TF_MSS;
	tf_send(&f, 4 * TF_MSS);
	tf_drain(&f);
	for (int i = 0; i < 3; i++) /* RFC 6582 §3.2 step 2: does not cover recover */
		tf_ack(&f, tf_iss(&f) + 1 + 10 * TF_MSS);
	g_assert_cmpint(f.c.tcb_ca_state, ==, TCP_CA_OPEN);
	tf_fini(&f);
}

static void
test_established_limited_transmit(void)
{
	Tf f;
	tf_newreno_flight(&f, 4);
	tf_send(&f, 4 * TF_MSS); /* waiting behind cwnd */
	tf_expect_none(&f);
	tf_ack(&f, tf_iss(&f) + 1);
	tf_expect_data(&f, tf_iss(&f) + 1 + 4 * TF_MSS, TF_MSS); /* RFC 3042 */
	tf_ack(&f, tf_iss(&f) + 1);
	tf_expect_data(&f, tf_iss(&f) + 1 + 5 * TF_MSS, TF_MSS);
	tf_fini(&f);
}

static void
test_established_dupack_needs_same_window(void)
{
	Tf f;
	tf_newreno_flight(&f, 10);
	for (int i = 0; i < 3; i++)
		tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, (uint16_t)(60000 + i), NULL, 0);
	g_assert_cmpint(f.c.tcb_ca_state, ==, TCP_CA_OPEN); /* window updates (RFC 5681 §2) */
	tf_fini(&f);
}

#define TF_SMSS 1448u /* with timestamps */

static void
tf_sack_flight(Tf *f, guint segs)
{
	tf_init_opts(f, TRUE, TRUE, TRUE);
	tf_established_opts(f);
	f->c.tcb_cc.cwnd = 2 * segs * TF_SMSS;
	tf_send(f, segs * TF_SMSS);
	g_assert_cmpuint(tf_nout(f), ==, segs);
	tf_drain(f);
}

static void
test_established_sack_recovery(void)
{
	Tf f;
	tf_sack_flight(&f, 10);
	uint32_t base = tf_iss(&f) + 1;
	/* The first is lost; the next three arrive: more than 2 SMSS SACKed
	 * above it, so it is lost at once (RFC 6675 §4 IsLost). */
	tf_sack(&f, base, base + TF_SMSS, base + 4 * TF_SMSS, 0, 0);
	g_assert_cmpint(f.c.tcb_ca_state, ==, TCP_CA_RECOVERY);
	g_assert_cmpuint(f.ctx.tx_mib.tm_sack_recoveries, ==, 1);
	tf_expect_data(&f, base, TF_SMSS); /* (4.3): the first segment at once */
	g_assert_cmpuint(f.c.tcb_cc.ssthresh, ==, (uint32_t)(10 * TF_SMSS * 0.7));
	tf_drain(&f);
	tf_ack(&f, base + 10 * TF_SMSS); /* all of it */
	g_assert_cmpint(f.c.tcb_ca_state, ==, TCP_CA_OPEN);
	g_assert_cmpuint(f.c.tcb_cc.cwnd, ==, f.c.tcb_cc.ssthresh);
	tf_fini(&f);
}

static void
test_established_sack_holes(void)
{
	Tf f;
	tf_sack_flight(&f, 10);
	uint32_t b = tf_iss(&f) + 1;
	/* Segments 0 and 4 lost. */
	tf_sack(&f, b, b + 5 * TF_SMSS, b + 10 * TF_SMSS, b + TF_SMSS, b + 4 * TF_SMSS);
	g_assert_cmpint(f.c.tcb_ca_state, ==, TCP_CA_RECOVERY);
	/* NextSeg rule 1: both holes are lost; cwnd - pipe allows both. */
	g_assert_cmpuint(tf_peek(&f, 0)->s.seg_seq, ==, b);
	g_assert_cmpuint(tf_nout(&f), >=, 2);
	g_assert_cmpuint(tf_peek(&f, 1)->s.seg_seq, ==, b + 4 * TF_SMSS);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_sack_blocks_sent(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	tf_established_opts(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 101, tf_iss(&f) + 1, 65535, tf_bytes(0), 50);
	tf_in(&f, TCP_F_ACK, TF_IRS + 201, tf_iss(&f) + 1, 65535, tf_bytes(0), 50);
	g_assert_cmpuint(tf_nout(&f), ==, 2);
	const TfOut *o = tf_peek(&f, 1);
	g_assert_cmpuint(o->s.seg_opt.to_nsack, ==, 2); /* RFC 2018 §4: newest first */
	g_assert_cmpuint(o->s.seg_opt.to_sack[0].sb_left, ==, TF_IRS + 201);
	g_assert_cmpuint(o->s.seg_opt.to_sack[1].sb_left, ==, TF_IRS + 101);
	tf_drain(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 65535, tf_bytes(0), 100);
	o = tf_peek(&f, 0);
	g_assert_cmpuint(o->s.seg_opt.to_nsack, ==, 1); /* the first block was filled */
	g_assert_cmpuint(o->s.seg_opt.to_sack[0].sb_left, ==, TF_IRS + 201);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_persist(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_send(&f, 100);
	tf_drain(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 101, 0, NULL, 0); /* a zero window */
	tf_send(&f, 100);
	tf_expect_none(&f);
	g_assert_cmpint(f.c.tcb_t_persist, !=, 0); /* RFC 1122 §4.2.2.17 */
	tf_advance(&f, 200 * TF_MS);
	tf_expect_data(&f, tf_iss(&f) + 101, 1); /* a one-octet probe */
	tf_advance(&f, 400 * TF_MS);
	tf_expect_data(&f, tf_iss(&f) + 101, 1); /* backed off, the same octet */
	for (int i = 0; i < 30; i++) {           /* answered with a zero window: never give up */
		tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 101, 0, NULL, 0);
		tf_advance(&f, 60 * TCP_SEC);
	}
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_ESTABLISHED);
	g_assert_cmpuint(f.ctx.tx_mib.tm_persist_probes, >=, 30);
	tf_drain(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 101, 1000, NULL, 0); /* opens */
	tf_expect_data(&f, tf_iss(&f) + 101, 100); /* the refused probe octet with the rest */
	tf_fini(&f);
}

static void
test_established_keepalive(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	f.c.tcb_keepalive = TRUE;
	f.c.tcb_keepidle = 10 * TCP_SEC;
	f.c.tcb_keepintvl = TCP_SEC;
	f.c.tcb_keepcnt = 3;
	tcp_keep_arm(&f.c, f.now);
	tf_advance(&f, 10 * TCP_SEC);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f), TF_IRS + 1); /* SEG.SEQ = SND.NXT - 1 */
	tf_ack(&f, tf_iss(&f) + 1);                       /* answered: idle again */
	tf_advance(&f, 9 * TCP_SEC);
	tf_expect_none(&f);
	tf_advance(&f, TCP_SEC);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f), TF_IRS + 1);
	tf_advance(&f, 10 * TCP_SEC); /* unanswered: two more, then give up */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_cmpint(f.last_err, ==, ETIMEDOUT);
	g_assert_cmpuint(f.ctx.tx_mib.tm_keepalive_probes, ==, 4);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_pmtu(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	tf_established_opts(&f);
	f.c.tcb_cc.cwnd = 10 * TF_SMSS;
	tf_send(&f, 2 * TF_SMSS);
	tf_drain(&f);
	tcp_conn_pmtu(&f.c, 1280, tf_iss(&f) + 1, f.now); /* RFC 1191 */
	g_assert_cmpuint(f.c.tcb_mss, ==, 1280 - 40 - 12);
	g_assert_cmpuint(tf_nout(&f), ==, 3); /* resent in smaller pieces */
	tf_expect_data(&f, tf_iss(&f) + 1, 1228);
	tf_drain(&f);
	tcp_conn_pmtu(&f.c, 1400, tf_iss(&f) + 1, f.now); /* never raised by ICMP */
	g_assert_cmpuint(f.c.tcb_mtu, ==, 1280);
	tcp_conn_pmtu(&f.c, 576, tf_iss(&f) - 1000, f.now); /* not about data in flight */
	g_assert_cmpuint(f.c.tcb_mtu, ==, 1280);
	tf_fini(&f);
}

static void
test_established_shutdown(void)
{
	Tf f;
	tf_init(&f);
	tf_fin_wait_1(&f);
	g_assert_cmpuint(f.c.tcb_snd_max, ==, tf_iss(&f) + 2);
	tf_fini(&f);
}

static void
test_established_abort(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_send(&f, 100);
	tf_drain(&f);
	tcp_conn_abort(&f.c, f.now);
	tf_expect(&f, TCP_F_RST, tf_iss(&f) + 101, 0); /* <SEQ=SND.NXT><CTL=RST> */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_cmpuint(f.ctx.tx_mib.tm_estab_resets, ==, 1);
	tf_fini(&f);
}

static void
test_established_linger_timeout(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tf_send(&f, 100);
	tf_drain(&f);
	tcp_conn_close(&f.c, 5 * TCP_SEC, f.now); /* the peer never acknowledges */
	tf_advance(&f, 5 * TCP_SEC);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_cmphex(((TfOut *)g_ptr_array_index(f.out, f.out->len - 1))->s.seg_flags, ==,
			TCP_F_RST);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_established_send_after_shutdown(void)
{
	Tf f;
	tf_init(&f);
	tf_fin_wait_1(&f);
	tf_send(&f, 10); /* "connection closing": dropped */
	tf_expect_none(&f);
	g_assert_cmpuint(f.c.tcb_sndq_bytes, ==, 0);
	tf_fini(&f);
}

static void
test_established_info(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	tf_established_opts(&f);
	struct us_tcp_info ti;
	tcp_conn_info(&f.c, &ti);
	g_assert_cmpuint(ti.tcpi_state, ==, TCPS_ESTABLISHED);
	g_assert_cmpuint(ti.tcpi_snd_mss, ==, TF_SMSS);
	g_assert_cmpuint(ti.tcpi_rtt, ==, 10000);
	g_assert_cmpuint(ti.tcpi_snd_wscale, ==, 7);
	g_assert_cmpstr(ti.tcpi_cc, ==, "cubic");
	tf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT   */
/* ------------------------------------------------------------------ */

static void
test_fin_wait_1_ack_of_fin(void)
{
	Tf f;
	tf_init(&f);
	tf_fin_wait_2(&f);
	tf_fini(&f);
}

static void
test_fin_wait_1_fin(void)
{
	Tf f;
	tf_init(&f);
	tf_closing(&f); /* their FIN before the ACK of ours: CLOSING */
	tf_fini(&f);
}

static void
test_fin_wait_1_fin_ack(void)
{
	Tf f;
	tf_init(&f);
	tf_fin_wait_1(&f);
	tf_in(&f, TCP_F_FIN | TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 2, 65535, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_TIME_WAIT); /* acked in this segment */
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 2, TF_IRS + 2);
	tf_fini(&f);
}

static void
test_fin_wait_1_data(void)
{
	Tf f;
	tf_init(&f);
	tf_fin_wait_1(&f);
	tf_data(&f, tf_iss(&f) + 1, "still", 5);
	g_assert_cmpmem(f.rcvd->data, f.rcvd->len, "still", 5);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_FIN_WAIT_1);
	tf_fini(&f);
}

static void
test_fin_wait_1_retransmit_fin(void)
{
	Tf f;
	tf_init(&f);
	tf_fin_wait_1(&f);
	tf_advance(&f, 200 * TF_MS);
	tf_expect(&f, TCP_F_FIN | TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 1);
	tf_fini(&f);
}

static void
test_fin_wait_1_rst(void)
{
	Tf f;
	tf_init(&f);
	tf_fin_wait_1(&f);
	tf_in(&f, TCP_F_RST, TF_IRS + 1, 0, 0, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_cmpint(f.last_err, ==, ECONNRESET);
	tf_fini(&f);
}

static void
test_fin_wait_1_orphan_data(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tcp_conn_close(&f.c, 0, f.now);
	tf_drain(&f);
	g_assert_cmpint(tf_data(&f, tf_iss(&f) + 1, "late", 4), ==, TCP_DROP_AFTER_CLOSE);
	tf_expect(&f, TCP_F_RST, tf_iss(&f) + 2, 0); /* RFC 1122 §4.2.2.13 */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	tf_fini(&f);
}

static void
test_fin_wait_2_fin(void)
{
	Tf f;
	tf_init(&f);
	tf_time_wait(&f);
	g_assert_true(tf_has_event(&f, TCP_EV_TIME_WAIT));
	tf_fini(&f);
}

static void
test_fin_wait_2_data(void)
{
	Tf f;
	tf_init(&f);
	tf_fin_wait_2(&f);
	tf_data(&f, tf_iss(&f) + 2, "half", 4);
	g_assert_cmpmem(f.rcvd->data, f.rcvd->len, "half", 4);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_fin_wait_2_orphan_timeout(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	tcp_conn_close(&f.c, 0, f.now);
	tf_drain(&f);
	tf_ack(&f, tf_iss(&f) + 2);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_FIN_WAIT_2);
	tf_advance(&f, 59 * TCP_SEC);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_FIN_WAIT_2);
	tf_advance(&f, TCP_SEC); /* fin_wait_2 for an orphan */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	tf_fini(&f);
}

static void
test_fin_wait_2_rst(void)
{
	Tf f;
	tf_init(&f);
	tf_fin_wait_2(&f);
	tf_in(&f, TCP_F_RST, TF_IRS + 1, 0, 0, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	tf_fini(&f);
}

static void
test_close_wait_send(void)
{
	Tf f;
	tf_init(&f);
	tf_close_wait(&f);
	tf_send(&f, 10);
	tf_expect_data(&f, tf_iss(&f) + 1, 10); /* our half is open */
	tf_fini(&f);
}

static void
test_close_wait_shutdown(void)
{
	Tf f;
	tf_init(&f);
	tf_last_ack(&f);
	tf_fini(&f);
}

static void
test_close_wait_data_ignored(void)
{
	Tf f;
	tf_init(&f);
	tf_close_wait(&f);
	g_assert_cmpint(tf_in(&f, TCP_F_ACK, TF_IRS + 2, tf_iss(&f) + 1, 100, "x", 1), ==,
			TCP_DROP_STATE); /* after the FIN: the text is ignored */
	g_assert_cmpuint(f.rcvd->len, ==, 0);
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_close_wait_rst(void)
{
	Tf f;
	tf_init(&f);
	tf_close_wait(&f);
	tf_in(&f, TCP_F_RST, TF_IRS + 2, 0, 0, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_cmpint(f.last_err, ==, ECONNRESET);
	tf_fini(&f);
}

static void
test_close_wait_fin_again(void)
{
	Tf f;
	tf_init(&f);
	tf_close_wait(&f);
	tf_in(&f, TCP_F_FIN | TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 1, 100, NULL, 0);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 2); /* an old FIN: ACK */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSE_WAIT);
	tf_fini(&f);
}

static void
test_closing_ack(void)
{
	Tf f;
	tf_init(&f);
	tf_closing(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 2, tf_iss(&f) + 2, 100, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_TIME_WAIT);
	tf_fini(&f);
}

static void
test_closing_rst(void)
{
	Tf f;
	tf_init(&f);
	tf_closing(&f);
	tf_in(&f, TCP_F_RST, TF_IRS + 2, 0, 0, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_true(tf_has_event(&f, TCP_EV_CLOSED));
	tf_fini(&f);
}

static void
test_closing_retransmit_fin(void)
{
	Tf f;
	tf_init(&f);
	tf_closing(&f);
	tf_advance(&f, 200 * TF_MS);
	tf_expect(&f, TCP_F_FIN | TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 2);
	tf_fini(&f);
}

static void
test_last_ack_ack(void)
{
	Tf f;
	tf_init(&f);
	tf_last_ack(&f);
	tf_in(&f, TCP_F_ACK, TF_IRS + 2, tf_iss(&f) + 2, 100, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_true(tf_has_event(&f, TCP_EV_CLOSED));
	tf_expect_none(&f);
	tf_fini(&f);
}

static void
test_last_ack_retransmit_fin(void)
{
	Tf f;
	tf_init(&f);
	tf_last_ack(&f);
	tf_advance(&f, 200 * TF_MS);
	tf_expect(&f, TCP_F_FIN | TCP_F_ACK, tf_iss(&f) + 1, TF_IRS + 2);
	tf_fini(&f);
}

static void
test_last_ack_rst(void)
{
	Tf f;
	tf_init(&f);
	tf_last_ack(&f);
	tf_in(&f, TCP_F_RST, TF_IRS + 2, 0, 0, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	tf_fini(&f);
}

static void
test_time_wait_fin_again(void)
{
	Tf f;
	tf_init(&f);
	tf_time_wait(&f);
	tf_advance(&f, 30 * TCP_SEC);
	tf_in(&f, TCP_F_FIN | TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 2, 100, NULL, 0);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 2, TF_IRS + 2);
	tf_advance(&f, 59 * TCP_SEC); /* the 2 MSL restarted */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_TIME_WAIT);
	tf_advance(&f, TCP_SEC);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	tf_fini(&f);
}

static void
test_time_wait_expiry(void)
{
	Tf f;
	tf_init(&f);
	tf_time_wait(&f);
	tf_advance(&f, 60 * TCP_SEC - 1);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_TIME_WAIT);
	tf_advance(&f, 1);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	g_assert_true(tf_has_event(&f, TCP_EV_CLOSED));
	tf_fini(&f);
}

static void
test_time_wait_rst(void)
{
	Tf f;
	tf_init(&f);
	tf_time_wait(&f);
	tf_in(&f, TCP_F_RST, TF_IRS + 2, 0, 0, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_CLOSED);
	tf_fini(&f);
}

static void
test_time_wait_syn_reuse(void)
{
	Tf f;
	tf_init(&f);
	tf_time_wait(&f);
	TcpSeg syn = tf_mkseg(TCP_F_SYN, TF_IRS + 100, 0, 0);
	g_assert_true(tcp_timewait_accepts_syn(&f.c, &syn)); /* above RCV.NXT */
	syn.seg_seq = TF_IRS;
	g_assert_false(tcp_timewait_accepts_syn(&f.c, &syn));
	syn.seg_flags |= TCP_F_ACK;
	syn.seg_seq = TF_IRS + 100;
	g_assert_false(tcp_timewait_accepts_syn(&f.c, &syn)); /* not a bare SYN */
	tf_fini(&f);
}

static void
test_time_wait_syn_reuse_timestamps(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	tf_established_opts(&f);
	tcp_conn_shutdown(&f.c, f.now);
	tf_ack(&f, tf_iss(&f) + 2);
	tf_in(&f, TCP_F_FIN | TCP_F_ACK, TF_IRS + 1, tf_iss(&f) + 2, 100, NULL, 0);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_TIME_WAIT);
	tf_drain(&f);
	TcpSeg syn = tf_mkseg(TCP_F_SYN, TF_IRS - 1000, 0, 0); /* an older sequence number, */
	syn.seg_opt.to_has_ts = 1;
	syn.seg_opt.to_tsval = f.peer_tsval + 10; /* but a newer timestamp: RFC 6191 */
	g_assert_true(tcp_timewait_accepts_syn(&f.c, &syn));
	syn.seg_opt.to_tsval = f.peer_tsval - 10;
	g_assert_false(tcp_timewait_accepts_syn(&f.c, &syn));
	tf_fini(&f);
}

static void
test_time_wait_syn_challenge(void)
{
	Tf f;
	tf_init(&f);
	tf_time_wait(&f);
	tf_in(&f, TCP_F_SYN, TF_IRS + 2, 0, 100, NULL, 0);
	tf_expect(&f, TCP_F_ACK, tf_iss(&f) + 2, TF_IRS + 2); /* RFC 5961 §4 */
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_TIME_WAIT);
	tf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* SACK scoreboard and RFC 6675 routines                              */
/* ------------------------------------------------------------------ */

/* ESTABLISHED with SACK and 10 segments of TF_SMSS in flight. */
static uint32_t
tf_board(Tf *f)
{
	tf_sack_flight(f, 10);
	f->c.tcb_ca_state = TCP_CA_RECOVERY; /* keep the ACKs from acting */
	return tf_iss(f) + 1;
}

static void
test_sack_merge(void)
{
	Tf f;
	uint32_t b = tf_board(&f);
	TcpOpts o = { .to_nsack = 3 };
	o.to_sack[0] = (TcpSackBlock){ b + 100, b + 200 };
	o.to_sack[1] = (TcpSackBlock){ b + 300, b + 400 };
	o.to_sack[2] = (TcpSackBlock){ b + 150, b + 300 }; /* joins the two */
	g_assert_cmpuint(tcp_sack_update(&f.c, &o), ==, 300);
	g_assert_cmpuint(f.c.tcb_nsacked, ==, 1);
	g_assert_cmpuint(f.c.tcb_sacked[0].sb_left, ==, b + 100);
	g_assert_cmpuint(f.c.tcb_sacked[0].sb_right, ==, b + 400);
	g_assert_cmpuint(tcp_sack_update(&f.c, &o), ==, 0); /* nothing new */
	tf_fini(&f);
}

static void
test_sack_invalid_blocks(void)
{
	Tf f;
	uint32_t b = tf_board(&f);
	TcpOpts o = { .to_nsack = 3 };
	o.to_sack[0] = (TcpSackBlock){ b - 100, b };                /* below SND.UNA */
	o.to_sack[1] = (TcpSackBlock){ b + 100, b + 20 * TF_SMSS }; /* beyond SND.MAX */
	o.to_sack[2] = (TcpSackBlock){ b + 500, b + 400 };          /* backwards */
	g_assert_cmpuint(tcp_sack_update(&f.c, &o), ==, 0);
	g_assert_cmpuint(f.c.tcb_nsacked, ==, 0);
	tf_fini(&f);
}

static void
test_sack_trim_below_una(void)
{
	Tf f;
	uint32_t b = tf_board(&f);
	TcpOpts o = { .to_nsack = 1 };
	o.to_sack[0] = (TcpSackBlock){ b + TF_SMSS, b + 3 * TF_SMSS };
	tcp_sack_update(&f.c, &o);
	f.c.tcb_snd_una = b + 2 * TF_SMSS;
	tcp_sack_update(&f.c, NULL);
	g_assert_cmpuint(f.c.tcb_sacked[0].sb_left, ==, b + 2 * TF_SMSS);
	f.c.tcb_snd_una = b + 3 * TF_SMSS;
	tcp_sack_update(&f.c, NULL);
	g_assert_cmpuint(f.c.tcb_nsacked, ==, 0);
	tf_fini(&f);
}

static void
test_sack_lost_by_bytes(void)
{
	Tf f;
	uint32_t b = tf_board(&f);
	TcpOpts o = { .to_nsack = 1 };
	o.to_sack[0] = (TcpSackBlock){ b + TF_SMSS, b + 3 * TF_SMSS }; /* 2 SMSS: not more */
	tcp_sack_update(&f.c, &o);
	g_assert_cmpuint(tcp_sack_lost_edge(&f.c), ==, b);
	o.to_sack[0] = (TcpSackBlock){ b + TF_SMSS, b + 3 * TF_SMSS + 1 };
	tcp_sack_update(&f.c, &o);
	g_assert_cmpuint(tcp_sack_lost_edge(&f.c), ==, b + TF_SMSS); /* the hole is lost */
	tf_fini(&f);
}

static void
test_sack_lost_by_count(void)
{
	Tf f;
	uint32_t b = tf_board(&f);
	TcpOpts o = { .to_nsack = 3 };
	for (guint i = 0; i < 3; i++) /* three small, discontiguous blocks */
		o.to_sack[i] = (TcpSackBlock){ b + (2 * i + 1) * 100, b + (2 * i + 2) * 100 };
	tcp_sack_update(&f.c, &o);
	g_assert_cmpuint(tcp_sack_lost_edge(&f.c), ==, b + 100); /* DupThresh blocks above */
	tf_fini(&f);
}

static void
test_sack_pipe(void)
{
	Tf f;
	uint32_t b = tf_board(&f);
	TcpOpts o = { .to_nsack = 1 };
	o.to_sack[0] = (TcpSackBlock){ b + TF_SMSS, b + 4 * TF_SMSS };
	tcp_sack_update(&f.c, &o);
	/* The first segment is lost (not counted), 4..9 are in flight. */
	f.c.tcb_high_rxt = b;
	g_assert_cmpuint(tcp_sack_pipe(&f.c), ==, 6 * TF_SMSS);
	f.c.tcb_high_rxt = b + TF_SMSS; /* once retransmitted it counts again */
	g_assert_cmpuint(tcp_sack_pipe(&f.c), ==, 7 * TF_SMSS);
	tf_fini(&f);
}

static void
test_sack_next_seg_rules(void)
{
	Tf f;
	uint32_t b = tf_board(&f), seq, len;
	gboolean rescue;
	TcpOpts o = { .to_nsack = 1 };
	o.to_sack[0] = (TcpSackBlock){ b + 2 * TF_SMSS, b + 6 * TF_SMSS };
	tcp_sack_update(&f.c, &o);
	f.c.tcb_high_rxt = b;
	f.c.tcb_nsack_out = 0;
	g_assert_true(tcp_sack_next_seg(&f.c, &seq, &len, &rescue)); /* (1) a lost hole */
	g_assert_cmpuint(seq, ==, b);
	g_assert_false(rescue);
	f.c.tcb_high_rxt = b + 2 * TF_SMSS; /* the hole is retransmitted */
	tf_send(&f, 100);                   /* (2) new data */
	tf_drain(&f);
	f.c.tcb_snd_nxt = f.c.tcb_snd_max - 100;
	g_assert_true(tcp_sack_next_seg(&f.c, &seq, &len, &rescue));
	g_assert_cmpuint(seq, ==, f.c.tcb_snd_nxt);
	f.c.tcb_snd_nxt = f.c.tcb_snd_max;
	f.c.tcb_fin_queued = FALSE;
	g_assert_true(tcp_sack_next_seg(&f.c, &seq, &len, &rescue)); /* (4) the rescue */
	g_assert_true(rescue);
	g_assert_cmpuint(seq + len, ==, f.c.tcb_snd_max);
	f.c.tcb_rescue_valid = TRUE;
	f.c.tcb_rescue_rxt = f.c.tcb_snd_max;
	g_assert_false(tcp_sack_next_seg(&f.c, &seq, &len, &rescue)); /* once */
	tf_fini(&f);
}

static void
test_sack_next_seg_rule3(void)
{
	Tf f;
	uint32_t b = tf_board(&f), seq, len;
	gboolean rescue;
	TcpOpts o = { .to_nsack = 1 };
	o.to_sack[0] = (TcpSackBlock){ b + TF_SMSS, b + 2 * TF_SMSS }; /* not enough: not lost */
	tcp_sack_update(&f.c, &o);
	f.c.tcb_high_rxt = b;
	g_assert_true(tcp_sack_next_seg(&f.c, &seq, &len, &rescue));
	g_assert_cmpuint(seq, ==, b); /* (3): unSACKed below the highest SACKed octet */
	g_assert_false(rescue);
	tf_fini(&f);
}

static void
test_sack_clear_on_second_timeout(void)
{
	Tf f;
	uint32_t b = tf_board(&f);
	f.c.tcb_ca_state = TCP_CA_OPEN;
	TcpOpts o = { .to_nsack = 1 };
	o.to_sack[0] = (TcpSackBlock){ b + TF_SMSS, b + 2 * TF_SMSS };
	tcp_sack_update(&f.c, &o);
	tf_advance(&f, 200 * TF_MS);
	g_assert_cmpuint(f.c.tcb_nsacked, ==, 1); /* RFC 6675 §5.1: kept after one */
	tf_advance(&f, 400 * TF_MS);
	g_assert_cmpuint(f.c.tcb_nsacked, ==, 0); /* RFC 2018 §8: reneging guarded */
	tf_drain(&f);
	tf_fini(&f);
}

static void
test_sack_rto_skips_sacked(void)
{
	Tf f;
	uint32_t b = tf_board(&f);
	f.c.tcb_ca_state = TCP_CA_OPEN;
	TcpOpts o = { .to_nsack = 1 };
	o.to_sack[0] = (TcpSackBlock){ b + TF_SMSS, b + 9 * TF_SMSS };
	tcp_sack_update(&f.c, &o);
	tf_advance(&f, 200 * TF_MS);
	tf_expect_data(&f, b, TF_SMSS);
	tf_ack(&f, b + TF_SMSS);
	/* go-back-N jumps over what was SACKed: the last segment is next. */
	g_assert_cmpuint(tf_peek(&f, 0)->s.seg_seq, ==, b + 9 * TF_SMSS);
	tf_drain(&f);
	tf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* Congestion control (RFC 5681, RFC 6582, RFC 9438)                  */
/* ------------------------------------------------------------------ */

static TcpCcState
tf_cc(uint32_t cwnd, uint32_t ssthresh, uint32_t flight)
{
	TcpCcState s;
	memset(&s, 0, sizeof s);
	s.cwnd = cwnd;
	s.ssthresh = ssthresh;
	s.mss = 1000;
	s.flight = flight;
	s.now = TCP_SEC;
	s.srtt = 100 * TF_MS;
	return s;
}

static void
test_cc_newreno_slow_start(void)
{
	TcpCcState s = tf_cc(4000, UINT32_MAX, 4000);
	tcp_cc_newreno.ack(&s, 5000, 0);
	g_assert_cmpuint(s.cwnd, ==, 6000); /* min(N, L * SMSS), L = 2 (RFC 3465) */
	tcp_cc_newreno.ack(&s, 500, 0);
	g_assert_cmpuint(s.cwnd, ==, 6500);
}

static void
test_cc_newreno_avoidance(void)
{
	TcpCcState s = tf_cc(10000, 5000, 10000);
	for (int i = 0; i < 9; i++)
		tcp_cc_newreno.ack(&s, 1000, 0);
	g_assert_cmpuint(s.cwnd, ==, 10000);
	tcp_cc_newreno.ack(&s, 1000, 0); /* a window's worth: + 1 SMSS */
	g_assert_cmpuint(s.cwnd, ==, 11000);
}

static void
test_cc_newreno_ssthresh(void)
{
	TcpCcState s = tf_cc(20000, UINT32_MAX, 12000);
	g_assert_cmpuint(tcp_cc_newreno.ssthresh(&s), ==, 6000); /* FlightSize / 2 */
	s.flight = 1000;
	g_assert_cmpuint(tcp_cc_newreno.ssthresh(&s), ==, 2000); /* at least 2 SMSS */
}

static void
test_cc_cubic_ssthresh(void)
{
	TcpCcState s = tf_cc(20000, UINT32_MAX, 20000);
	tcp_cc_cubic.init(&s);
	g_assert_cmpuint(tcp_cc_cubic.ssthresh(&s), ==, 14000); /* beta 0.7 */
}

static void
test_cc_cubic_growth(void)
{
	TcpCcState s = tf_cc(100000, UINT32_MAX, 100000);
	tcp_cc_cubic.init(&s);
	s.ssthresh = tcp_cc_cubic.ssthresh(&s); /* W_max = 100 segments */
	s.cwnd = s.ssthresh;
	uint32_t prev = s.cwnd;
	/* K = cbrt(30 / 0.4) = 4.2 s: concave up to W_max, then convex. */
	gint64 t0 = s.now;
	while (s.now - t0 < 4 * TCP_SEC) {
		s.now += 100 * TF_MS;
		for (uint32_t a = 0; a < s.cwnd; a += 1000)
			tcp_cc_cubic.ack(&s, 1000, 100 * TF_MS);
		g_assert_cmpuint(s.cwnd, >=, prev);
		prev = s.cwnd;
	}
	g_assert_cmpuint(s.cwnd, <=, 100000); /* the plateau near W_max */
	g_assert_cmpuint(s.cwnd, >, 90000);
	while (s.now - t0 < 8 * TCP_SEC) {
		s.now += 100 * TF_MS;
		for (uint32_t a = 0; a < s.cwnd; a += 1000)
			tcp_cc_cubic.ack(&s, 1000, 100 * TF_MS);
	}
	g_assert_cmpuint(s.cwnd, >, 110000); /* probing beyond W_max */
}

static void
test_cc_cubic_fast_convergence(void)
{
	TcpCcState s = tf_cc(100000, UINT32_MAX, 100000);
	tcp_cc_cubic.init(&s);
	(void)tcp_cc_cubic.ssthresh(&s); /* W_last_max = 100 */
	s.cwnd = 80000;
	s.flight = 80000;
	(void)tcp_cc_cubic.ssthresh(&s); /* below the last maximum */
	double wmax;
	memcpy(&wmax, s.priv, sizeof wmax);
	g_assert_cmpfloat_with_epsilon(wmax, 80 * 1.7 / 2, 1e-9); /* RFC 9438 §4.7 */
}

static void
test_cc_cubic_slow_start(void)
{
	TcpCcState s = tf_cc(4000, UINT32_MAX, 4000);
	tcp_cc_cubic.init(&s);
	tcp_cc_cubic.ack(&s, 2000, 0);
	g_assert_cmpuint(s.cwnd, ==, 6000);
}

static void
test_cc_registry(void)
{
	g_assert_true(us_tcp_cc_find("cubic") == &tcp_cc_cubic);
	g_assert_true(us_tcp_cc_find("newreno") == &tcp_cc_newreno);
	g_assert_null(us_tcp_cc_find("nonesuch"));
	g_assert_false(us_tcp_cc_register(&tcp_cc_cubic)); /* the name is taken */
	static const TcpCcOps bad = { .abi = 99, .name = "bad" };
	g_assert_false(us_tcp_cc_register(&bad));
	static const TcpCcOps mine = { .abi = TCP_CC_ABI, .name = "test-cc" };
	g_assert_true(us_tcp_cc_register(&mine));
	g_assert_true(us_tcp_cc_find("test-cc") == &mine);
}

static void
test_cc_set_per_connection(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	g_assert_true(tcp_conn_set_cc(&f.c, &tcp_cc_newreno));
	g_assert_cmpstr(f.c.tcb_ccops->name, ==, "newreno");
	g_assert_false(tcp_conn_set_cc(&f.c, NULL));
	tf_fini(&f);
}

static void
test_cc_timeout_once_per_episode(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	f.c.tcb_cc.cwnd = 10 * TF_MSS;
	tf_send(&f, 10 * TF_MSS);
	tf_drain(&f);
	tf_advance(&f, 200 * TF_MS);
	uint32_t th = f.c.tcb_cc.ssthresh;
	tf_advance(&f, 400 * TF_MS); /* a second timeout: flight is smaller now */
	g_assert_cmpuint(f.c.tcb_cc.ssthresh, ==, th);
	tf_drain(&f);
	tf_fini(&f);
}

/* ------------------------------------------------------------------ */
/* RTO arithmetic and windows                                         */
/* ------------------------------------------------------------------ */

static void
test_rtt_first_sample(void)
{
	Tf f;
	tf_init(&f);
	tcp_rtt_sample(&f.c, 100 * TF_MS, f.now);
	g_assert_cmpint(f.c.tcb_srtt, ==, 100 * TF_MS); /* RFC 6298 (2.2) */
	g_assert_cmpint(f.c.tcb_rttvar, ==, 50 * TF_MS);
	g_assert_cmpint(f.c.tcb_rto, ==, 300 * TF_MS);
	tf_fini(&f);
}

static void
test_rtt_later_sample(void)
{
	Tf f;
	tf_init(&f);
	tcp_rtt_sample(&f.c, 100 * TF_MS, f.now);
	tcp_rtt_sample(&f.c, 200 * TF_MS, f.now);
	g_assert_cmpint(f.c.tcb_rttvar, ==, 62500 * 1000); /* (2.3) */
	g_assert_cmpint(f.c.tcb_srtt, ==, 112500 * 1000);
	g_assert_cmpint(f.c.tcb_rto, ==, (112500 + 250000) * 1000);
	tf_fini(&f);
}

static void
test_rtt_rto_bounds(void)
{
	Tf f;
	tf_init(&f);
	tcp_rtt_sample(&f.c, TF_MS, f.now);
	g_assert_cmpint(f.c.tcb_rto, ==, 200 * TF_MS); /* rto_min */
	tcp_rtt_sample(&f.c, 100 * TCP_SEC, f.now);
	g_assert_cmpint(f.c.tcb_rto, ==, 60 * TCP_SEC); /* rto_max */
	tf_fini(&f);
}

static void
test_rtt_min_rtt(void)
{
	Tf f;
	tf_init(&f);
	tcp_rtt_sample(&f.c, 30 * TF_MS, f.now);
	tcp_rtt_sample(&f.c, 20 * TF_MS, f.now);
	tcp_rtt_sample(&f.c, 40 * TF_MS, f.now);
	g_assert_cmpint(f.c.tcb_min_rtt, ==, 20 * TF_MS);
	tf_fini(&f);
}

static void
test_window_scale_choice(void)
{
	Tf f;
	tf_init_opts(&f, TRUE, TRUE, TRUE);
	f.c.tcb_rcvbuf = 1 << 20;
	f.space = 1 << 20;
	tcp_conn_connect(&f.c, f.now);
	g_assert_cmpuint(tf_peek(&f, 0)->s.seg_opt.to_wscale, ==, 5); /* 1 MiB >> 5 fits */
	g_assert_cmpuint(tf_peek(&f, 0)->s.seg_wnd, ==, 65535);       /* SYN: not scaled */
	tf_drain(&f);
	TcpOpts o = { .to_has_wscale = 1, .to_wscale = 2, .to_has_mss = 1, .to_mss = 1460 };
	tf_in_opts(&f, TCP_F_SYN | TCP_F_ACK, TF_IRS, tf_iss(&f) + 1, 1000, NULL, 0, &o);
	g_assert_cmpuint(tf_peek(&f, 0)->s.seg_wnd, ==, (1 << 20) >> 5); /* scaled from now */
	g_assert_cmpuint(f.c.tcb_snd_wnd, ==, 1000); /* theirs unscaled in the SYN,ACK */
	tf_drain(&f);
	tf_ack(&f, tf_iss(&f) + 1);
	g_assert_cmpuint(f.c.tcb_snd_wnd, ==, 65535 << 2);
	tf_fini(&f);
}

static void
test_window_large_buffer(void)
{
	Tf f;
	tf_init_opts(&f, FALSE, FALSE, FALSE);
	f.space = 1 << 20;
	tf_established(&f);
	tf_data(&f, tf_iss(&f) + 1, "x", 1);
	tf_advance(&f, 50 * TF_MS);
	/* Without scaling the window is capped at 65535; one byte later the
	 * edge does not move by one (receiver SWS, RFC 1122 §4.2.3.3). */
	g_assert_cmpuint(tf_peek(&f, 0)->s.seg_wnd, ==, 65534);
	tf_drain(&f);
	tf_fini(&f);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	struct {
		const char *path;
		GTestFunc fn;
	} t[] = {
		{ "/tcp/pair/plain", test_pair_plain },
		{ "/tcp/pair/options", test_pair_opts },
		{ "/tcp/pair/loss-newreno", test_pair_loss_newreno },
		{ "/tcp/pair/loss-sack", test_pair_loss_sack },
		{ "/tcp/pair/loss-heavy", test_pair_loss_heavy },
		{ "/tcp/wire/roundtrip-syn", test_wire_roundtrip_syn },
		{ "/tcp/wire/roundtrip-sack", test_wire_roundtrip_sack },
		{ "/tcp/wire/bad-option-length", test_wire_bad_option_length },
		{ "/tcp/wire/unknown-option-skipped", test_wire_unknown_option_skipped },
		{ "/tcp/wire/wscale-clamped", test_wire_wscale_clamped },
		{ "/tcp/wire/syn-options-ignored-later", test_wire_syn_options_ignored_later },
		{ "/tcp/wire/bad-data-offset", test_wire_bad_data_offset },
		{ "/tcp/wire/seq-wraparound", test_wire_seq_wraparound },
		{ "/tcp/closed/rst-for-ack", test_closed_rst_for_ack },
		{ "/tcp/closed/rst-for-syn", test_closed_rst_for_syn },
		{ "/tcp/closed/rst-for-data-fin", test_closed_rst_for_data_fin },
		{ "/tcp/closed/rst-not-answered", test_closed_rst_not_answered },
		{ "/tcp/closed/input-dropped", test_closed_input_dropped },
		{ "/tcp/listen/verdicts", test_listen_verdicts },
		{ "/tcp/isn/per-tuple", test_isn_per_tuple },
		{ "/tcp/isn/clock", test_isn_clock },
		{ "/tcp/isn/secret", test_isn_secret },
		{ "/tcp/cookie/roundtrip", test_cookie_roundtrip },
		{ "/tcp/cookie/bad-seq", test_cookie_bad_seq },
		{ "/tcp/cookie/expired", test_cookie_expired },
		{ "/tcp/cookie/options-in-timestamp", test_cookie_options_in_timestamp },
		{ "/tcp/cookie/connection", test_cookie_connection },
		{ "/tcp/syn-sent/syn-options", test_syn_sent_syn_options },
		{ "/tcp/syn-sent/syn-ack", test_syn_sent_syn_ack },
		{ "/tcp/syn-sent/syn-ack-options", test_syn_sent_syn_ack_options },
		{ "/tcp/syn-sent/peer-without-wscale", test_syn_sent_peer_without_wscale },
		{ "/tcp/syn-sent/ack-bad", test_syn_sent_ack_bad },
		{ "/tcp/syn-sent/ack-of-iss", test_syn_sent_ack_of_iss },
		{ "/tcp/syn-sent/rst-bad-ack", test_syn_sent_rst_bad_ack },
		{ "/tcp/syn-sent/rst-no-ack", test_syn_sent_rst_no_ack },
		{ "/tcp/syn-sent/rst-good-ack", test_syn_sent_rst_good_ack },
		{ "/tcp/syn-sent/simultaneous-syn", test_syn_sent_simultaneous_syn },
		{ "/tcp/syn-sent/neither-syn-nor-rst", test_syn_sent_neither },
		{ "/tcp/syn-sent/retransmit", test_syn_sent_retransmit },
		{ "/tcp/syn-sent/timeout", test_syn_sent_timeout },
		{ "/tcp/syn-sent/timeout-soft-error", test_syn_sent_timeout_soft_error },
		{ "/tcp/syn-sent/icmp-hard", test_syn_sent_icmp_hard },
		{ "/tcp/syn-sent/syn-ack-with-data", test_syn_sent_syn_ack_with_data },
		{ "/tcp/syn-sent/syn-ack-with-fin", test_syn_sent_syn_ack_with_fin },
		{ "/tcp/syn-sent/close", test_syn_sent_close },
		{ "/tcp/syn-sent/abort", test_syn_sent_abort },
		{ "/tcp/syn-sent/lost-syn-one-segment", test_syn_sent_lost_syn_one_segment },
		{ "/tcp/syn-sent/send-queued", test_syn_sent_send_queued },
		{ "/tcp/syn-received/ack", test_syn_received_ack },
		{ "/tcp/syn-received/ack-bad", test_syn_received_ack_bad },
		{ "/tcp/syn-received/rst", test_syn_received_rst },
		{ "/tcp/syn-received/rst-in-window", test_syn_received_rst_in_window },
		{ "/tcp/syn-received/dup-syn", test_syn_received_dup_syn },
		{ "/tcp/syn-received/new-syn", test_syn_received_new_syn },
		{ "/tcp/syn-received/retransmit", test_syn_received_retransmit },
		{ "/tcp/syn-received/timeout", test_syn_received_timeout },
		{ "/tcp/syn-received/ack-with-data", test_syn_received_ack_with_data },
		{ "/tcp/syn-received/ack-with-fin", test_syn_received_ack_with_fin },
		{ "/tcp/syn-received/no-ack", test_syn_received_no_ack },
		{ "/tcp/syn-received/options-from-syn", test_syn_received_options_from_syn },
		{ "/tcp/established/data-delayed-ack", test_established_data_delayed_ack },
		{ "/tcp/established/ack-every-second-segment",
		  test_established_ack_every_second_segment },
		{ "/tcp/established/out-of-order", test_established_out_of_order },
		{ "/tcp/established/gap-fill", test_established_gap_fill },
		{ "/tcp/established/reassembly-overlaps", test_established_reassembly_overlaps },
		{ "/tcp/established/duplicate-data", test_established_duplicate_data },
		{ "/tcp/established/partial-overlap", test_established_partial_overlap },
		{ "/tcp/established/beyond-window", test_established_beyond_window },
		{ "/tcp/established/zero-window", test_established_zero_window },
		{ "/tcp/established/window-no-shrink", test_established_window_no_shrink },
		{ "/tcp/established/receiver-sws", test_established_receiver_sws },
		{ "/tcp/established/window-update", test_established_window_update },
		{ "/tcp/established/fin", test_established_fin },
		{ "/tcp/established/fin-out-of-order", test_established_fin_out_of_order },
		{ "/tcp/established/rst-exact", test_established_rst_exact },
		{ "/tcp/established/rst-in-window", test_established_rst_in_window },
		{ "/tcp/established/rst-out-of-window", test_established_rst_out_of_window },
		{ "/tcp/established/challenge-ack-limit", test_established_challenge_ack_limit },
		{ "/tcp/established/syn", test_established_syn },
		{ "/tcp/established/syn-ack-retransmitted",
		  test_established_syn_ack_retransmitted },
		{ "/tcp/established/no-ack-flag", test_established_no_ack_flag },
		{ "/tcp/established/ack-unsent", test_established_ack_unsent },
		{ "/tcp/established/ack-too-old", test_established_ack_too_old },
		{ "/tcp/established/paws", test_established_paws },
		{ "/tcp/established/paws-old-recent", test_established_paws_old_recent },
		{ "/tcp/established/missing-timestamp", test_established_missing_timestamp },
		{ "/tcp/established/ts-echo", test_established_ts_echo },
		{ "/tcp/established/urgent", test_established_urgent },
		{ "/tcp/established/urgent-later", test_established_urgent_later },
		{ "/tcp/established/send-initial-window", test_established_send_initial_window },
		{ "/tcp/tso/initial-window-one-packet", test_tso_one_packet },
		{ "/tcp/tso/tail-nagle", test_tso_tail_nagle },
		{ "/tcp/tso/off-without-lso", test_tso_off },
		{ "/tcp/established/ack-frees-and-grows", test_established_ack_frees_and_grows },
		{ "/tcp/established/all-acked-stops-rto", test_established_all_acked_stops_rto },
		{ "/tcp/established/nagle", test_established_nagle },
		{ "/tcp/established/nodelay", test_established_nodelay },
		{ "/tcp/established/cork", test_established_cork },
		{ "/tcp/established/fin-rides-on-data", test_established_fin_rides_on_data },
		{ "/tcp/established/send-window", test_established_send_window },
		{ "/tcp/established/window-update-rules", test_established_window_update_rules },
		{ "/tcp/established/rto-retransmit", test_established_rto_retransmit },
		{ "/tcp/established/rto-congestion", test_established_rto_congestion },
		{ "/tcp/established/rto-give-up", test_established_rto_give_up },
		{ "/tcp/established/rtt-sample", test_established_rtt_sample },
		{ "/tcp/established/karn", test_established_karn },
		{ "/tcp/established/ts-rtt-after-retransmit",
		  test_established_ts_rtt_after_retransmit },
		{ "/tcp/established/dupacks-fast-retransmit",
		  test_established_dupacks_fast_retransmit },
		{ "/tcp/established/newreno-partial-ack", test_established_newreno_partial_ack },
		{ "/tcp/established/newreno-full-ack", test_established_newreno_full_ack },
		{ "/tcp/established/newreno-recover-guard",
		  test_established_newreno_recover_guard },
		{ "/tcp/established/limited-transmit", test_established_limited_transmit },
		{ "/tcp/established/dupack-needs-same-window",
		  test_established_dupack_needs_same_window },
		{ "/tcp/established/sack-recovery", test_established_sack_recovery },
		{ "/tcp/established/sack-holes", test_established_sack_holes },
		{ "/tcp/established/sack-blocks-sent", test_established_sack_blocks_sent },
		{ "/tcp/established/persist", test_established_persist },
		{ "/tcp/established/keepalive", test_established_keepalive },
		{ "/tcp/established/pmtu", test_established_pmtu },
		{ "/tcp/established/shutdown", test_established_shutdown },
		{ "/tcp/established/abort", test_established_abort },
		{ "/tcp/established/linger-timeout", test_established_linger_timeout },
		{ "/tcp/established/send-after-shutdown", test_established_send_after_shutdown },
		{ "/tcp/established/info", test_established_info },
		{ "/tcp/fin-wait-1/ack-of-fin", test_fin_wait_1_ack_of_fin },
		{ "/tcp/fin-wait-1/fin", test_fin_wait_1_fin },
		{ "/tcp/fin-wait-1/fin-ack", test_fin_wait_1_fin_ack },
		{ "/tcp/fin-wait-1/data", test_fin_wait_1_data },
		{ "/tcp/fin-wait-1/retransmit-fin", test_fin_wait_1_retransmit_fin },
		{ "/tcp/fin-wait-1/rst", test_fin_wait_1_rst },
		{ "/tcp/fin-wait-1/orphan-data", test_fin_wait_1_orphan_data },
		{ "/tcp/fin-wait-2/fin", test_fin_wait_2_fin },
		{ "/tcp/fin-wait-2/data", test_fin_wait_2_data },
		{ "/tcp/fin-wait-2/orphan-timeout", test_fin_wait_2_orphan_timeout },
		{ "/tcp/fin-wait-2/rst", test_fin_wait_2_rst },
		{ "/tcp/close-wait/send", test_close_wait_send },
		{ "/tcp/close-wait/shutdown", test_close_wait_shutdown },
		{ "/tcp/close-wait/data-ignored", test_close_wait_data_ignored },
		{ "/tcp/close-wait/rst", test_close_wait_rst },
		{ "/tcp/close-wait/fin-again", test_close_wait_fin_again },
		{ "/tcp/closing/ack", test_closing_ack },
		{ "/tcp/closing/rst", test_closing_rst },
		{ "/tcp/closing/retransmit-fin", test_closing_retransmit_fin },
		{ "/tcp/last-ack/ack", test_last_ack_ack },
		{ "/tcp/last-ack/retransmit-fin", test_last_ack_retransmit_fin },
		{ "/tcp/last-ack/rst", test_last_ack_rst },
		{ "/tcp/time-wait/fin-again", test_time_wait_fin_again },
		{ "/tcp/time-wait/expiry", test_time_wait_expiry },
		{ "/tcp/time-wait/rst", test_time_wait_rst },
		{ "/tcp/time-wait/syn-reuse", test_time_wait_syn_reuse },
		{ "/tcp/time-wait/syn-reuse-timestamps", test_time_wait_syn_reuse_timestamps },
		{ "/tcp/time-wait/syn-challenge", test_time_wait_syn_challenge },
		{ "/tcp/sack/merge", test_sack_merge },
		{ "/tcp/sack/invalid-blocks", test_sack_invalid_blocks },
		{ "/tcp/sack/trim-below-una", test_sack_trim_below_una },
		{ "/tcp/sack/lost-by-bytes", test_sack_lost_by_bytes },
		{ "/tcp/sack/lost-by-count", test_sack_lost_by_count },
		{ "/tcp/sack/pipe", test_sack_pipe },
		{ "/tcp/sack/next-seg-rules", test_sack_next_seg_rules },
		{ "/tcp/sack/next-seg-rule-3", test_sack_next_seg_rule3 },
		{ "/tcp/sack/clear-on-second-timeout", test_sack_clear_on_second_timeout },
		{ "/tcp/sack/rto-skips-sacked", test_sack_rto_skips_sacked },
		{ "/tcp/cc/newreno-slow-start", test_cc_newreno_slow_start },
		{ "/tcp/cc/newreno-avoidance", test_cc_newreno_avoidance },
		{ "/tcp/cc/newreno-ssthresh", test_cc_newreno_ssthresh },
		{ "/tcp/cc/cubic-ssthresh", test_cc_cubic_ssthresh },
		{ "/tcp/cc/cubic-growth", test_cc_cubic_growth },
		{ "/tcp/cc/cubic-fast-convergence", test_cc_cubic_fast_convergence },
		{ "/tcp/cc/cubic-slow-start", test_cc_cubic_slow_start },
		{ "/tcp/cc/registry", test_cc_registry },
		{ "/tcp/cc/set-per-connection", test_cc_set_per_connection },
		{ "/tcp/cc/timeout-once-per-episode", test_cc_timeout_once_per_episode },
		{ "/tcp/rtt/first-sample", test_rtt_first_sample },
		{ "/tcp/rtt/later-sample", test_rtt_later_sample },
		{ "/tcp/rtt/rto-bounds", test_rtt_rto_bounds },
		{ "/tcp/rtt/min-rtt", test_rtt_min_rtt },
		{ "/tcp/window/scale-choice", test_window_scale_choice },
		{ "/tcp/window/large-buffer", test_window_large_buffer },
	};
	for (guint i = 0; i < G_N_ELEMENTS(t); i++)
		g_test_add_func(t[i].path, t[i].fn);
	return g_test_run();
}
