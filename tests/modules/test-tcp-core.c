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
/* SYN-SENT (RFC 9293 §3.10.7.3)                                      */
/* ------------------------------------------------------------------ */

static void
test_syn_sent_syn_ack(void)
{
	Tf f;
	tf_init(&f);
	tf_established(&f);
	g_assert_true(tf_has_event(&f, TCP_EV_ESTABLISHED));
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
	tf_expect_none(&f);
	g_assert_cmpint(f.c.tcb_state, ==, TCPS_SYN_SENT);
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
	tf_fini(&f);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/tcp/pair/plain", test_pair_plain);
	g_test_add_func("/tcp/pair/options", test_pair_opts);
	g_test_add_func("/tcp/pair/loss-newreno", test_pair_loss_newreno);
	g_test_add_func("/tcp/pair/loss-sack", test_pair_loss_sack);
	g_test_add_func("/tcp/pair/loss-heavy", test_pair_loss_heavy);
	g_test_add_func("/tcp/syn-sent/syn-ack", test_syn_sent_syn_ack);
	g_test_add_func("/tcp/syn-sent/rst-bad-ack", test_syn_sent_rst_bad_ack);
	g_test_add_func("/tcp/syn-sent/rst-good-ack", test_syn_sent_rst_good_ack);
	return g_test_run();
}
