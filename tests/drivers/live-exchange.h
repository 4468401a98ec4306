/* SPDX-License-Identifier: MIT */
/*
 * live-exchange.h -- the ARP and ICMP exchange with the Linux kernel shared
 * by the tap and afpacket live tests: send frames down a stream, wait (with a
 * bound) for the kernel's replies to come up, check them.  Include after
 * defining Env (world, stack) and send_bytes(), as those tests do.
 */
#ifndef USTREAMS_TEST_LIVE_EXCHANGE_H
#define USTREAMS_TEST_LIVE_EXCHANGE_H

/* ------------------------------------------------------------------ */
/* The exchange with the kernel                                       */
/* ------------------------------------------------------------------ */

/* What the wait loop looks for in the frames coming up. */
typedef struct {
	Env *e;
	UsStream *st;
	gboolean want_arp;     /* waiting for the ARP reply */
	guint8 kmac[6];        /* the kernel's MAC from its reply */
	guint16 echo_id;       /* ICMP echo id we sent */
	guint16 next_seq;      /* sequence number of the next request */
	guint want_echoes;     /* echo replies still expected */
	GHashTable *seen_seqs; /* sequence numbers replied */
	guint own_frames;      /* frames carrying our own MAC as source */
	guint others;          /* frames of no interest (IPv6 ND ...) */
	gboolean no_read;      /* leave frames at the head (flow control) */
} Exchange;

/* Answers the kernel's ARP requests for our address (it may want to
 * confirm us before replying to a ping). */
static void
answer_arp(Exchange *x, const guint8 *f, size_t len)
{
	guint8 sha[6], reply[ARP_FRAME_LEN];
	if (!live_is_arp(f, len, 1, kernel_ip, our_ip, sha))
		return;
	live_arp(reply, 2, sha, our_mac, our_ip, sha, kernel_ip);
	send_bytes(x->st, reply, sizeof reply);
}

static void
classify(Exchange *x, mblk_t *mp)
{
	guint8 buf[9100];
	size_t len = us_msgcopyout(mp, 0, buf, sizeof buf);
	guint8 sha[6];
	guint16 seq;
	if (len >= 12 && memcmp(buf + 6, our_mac, 6) == 0)
		x->own_frames++;
	else if (x->want_arp && live_is_arp(buf, len, 2, kernel_ip, our_ip, sha)) {
		g_assert_cmpmem(buf + 6, 6, sha, 6); /* from the kernel's MAC */
		g_assert_cmpmem(buf, 6, our_mac, 6);
		memcpy(x->kmac, sha, 6);
		x->want_arp = FALSE;
	} else if (live_is_echo_reply(buf, len, kernel_ip, x->echo_id, &seq)) {
		g_assert_cmpmem(buf + 6, 6, x->kmac, 6);
		if (g_hash_table_add(x->seen_seqs, GUINT_TO_POINTER(seq)) && x->want_echoes > 0)
			x->want_echoes--;
	} else {
		answer_arp(x, buf, len);
		x->others++;
		if (g_getenv("LIVE_DEBUG")) {
			char *hex = g_strndup("", 0);
			for (size_t i = 0; i < MIN(len, (size_t)48); i++) {
				char *t = g_strdup_printf("%s%02x", hex, buf[i]);
				g_free(hex);
				hex = t;
			}
			g_printerr("other frame len %zu: %s\n", len, hex);
			g_free(hex);
		}
	}
}

static gboolean
exchange_done(gpointer data)
{
	Exchange *x = data;
	if (!x->no_read) {
		mblk_t *mp;
		while ((mp = us_plain_head_get(x->st)) != NULL) {
			classify(x, mp);
			freemsg(mp);
		}
	}
	return !x->want_arp && x->want_echoes == 0;
}

static void
exchange_init(Exchange *x, Env *e, UsStream *st)
{
	memset(x, 0, sizeof *x);
	x->e = e;
	x->st = st;
	x->echo_id = 0x7701;
	x->seen_seqs = g_hash_table_new(g_direct_hash, g_direct_equal);
}

/* ARP request for the kernel's address, repeated every 250 ms (a request
 * sent before a fresh link's carrier is up is lost); waits 5 s at most for
 * the reply from the expected MAC. */
static void
resolve_kernel(Exchange *x, const guint8 expect_mac[6])
{
	guint8 f[ARP_FRAME_LEN];
	static const guint8 zero[6];
	live_arp(f, 1, live_bcast, our_mac, our_ip, zero, kernel_ip);
	x->want_arp = TRUE;
	gboolean done = FALSE;
	for (int i = 0; i < 20 && !done; i++) {
		send_bytes(x->st, f, sizeof f);
		done = us_world_run_until(x->e->world, exchange_done, x, SEC / 4);
	}
	g_assert_true(done);
	g_assert_cmpmem(x->kmac, 6, expect_mac, 6);
}

/* n ICMP echo requests of plen payload bytes; waits for every reply. */
static void
ping_kernel(Exchange *x, guint n, size_t plen)
{
	guint8 f[9100];
	g_assert_cmpuint(plen + 42, <=, sizeof f);
	for (guint i = 0; i < n; i++) {
		size_t len = live_icmp_echo(f, x->kmac, our_mac, our_ip, kernel_ip, x->echo_id,
					    ++x->next_seq, plen);
		send_bytes(x->st, f, len);
	}
	x->want_echoes = n;
	gboolean ok = us_world_run_until(x->e->world, exchange_done, x, 5 * SEC);
	if (!ok && g_getenv("LIVE_DEBUG")) {
		const char *names[] = { "frames_in", "wakeups", "flow_stops", "errors",
					"frames_out" };
		for (guint i = 0; i < G_N_ELEMENTS(names); i++)
			g_printerr("%s=%" G_GUINT64_FORMAT "\n", names[i],
				   stat_of(x->st, names[i]));
		g_printerr("head count %zu\n", us_stream_head_rq(x->st)->q_count);
		g_spawn_command_line_sync("ip neigh", NULL, NULL, NULL, NULL);
		g_spawn_command_line_sync("grep -A1 Icmp: /proc/net/snmp", NULL, NULL, NULL, NULL);
		g_spawn_command_line_sync("grep -A1 Ip: /proc/net/snmp", NULL, NULL, NULL, NULL);
	}
	g_assert_true(ok);
	g_assert_cmpuint(g_hash_table_size(x->seen_seqs), ==, x->next_seq);
}

static void
exchange_fini(Exchange *x)
{
	g_assert_cmpuint(x->own_frames, ==, 0);
	g_hash_table_destroy(x->seen_seqs);
}

/* Floods the kernel with 40 echo requests while the head's read queue is
 * small and nobody reads: the driver must stop reading (flow_stops), the
 * head must stay near its high-water mark, and once reading resumes every
 * reply must arrive. */
static void
exchange_flow_control(Exchange *x)
{
	UsStream *st = x->st;
	queue_t *hrq = us_stream_head_rq(st);
	g_assert_cmpint(strqset(hrq, QHIWAT, 0, 3 * 142), ==, 0);
	g_assert_cmpint(strqset(hrq, QLOWAT, 0, 142), ==, 0);
	guint8 f[256];
	const guint n = 40;
	for (guint i = 0; i < n; i++) {
		size_t len = live_icmp_echo(f, x->kmac, our_mac, our_ip, kernel_ip, x->echo_id,
					    ++x->next_seq, 100);
		send_bytes(st, f, len);
	}
	x->no_read = TRUE;
	us_world_run_until(x->e->world, NULL, NULL, SEC / 5);
	g_assert_cmpuint(stat_of(st, "flow_stops"), >, 0);
	/* At most one batch beyond the high-water mark waits in the driver. */
	g_assert_cmpuint(hrq->q_count, <=, 4 * 142);
	x->no_read = FALSE;
	x->want_echoes = n;
	g_assert_true(us_world_run_until(x->e->world, exchange_done, x, 5 * SEC));
	g_assert_cmpuint(g_hash_table_size(x->seen_seqs), ==, n);
}

#endif
