/* SPDX-License-Identifier: MIT */
/*
 * test-tcp.c -- tcp over the real ip, through the socket library: two
 * stacks A (10.0.0.1) and B (10.0.0.2) in one virtual-time world, joined by
 * a wire whose impairments (loss, reordering, duplication, corruption,
 * delay) come from the world's seeded generator.  Transfers in both
 * directions must arrive byte-identical (SHA-256 of what was sent and what
 * was read) and a run must be deterministic (same seed, same counters, same
 * end time).  Also: simultaneous open, resets, half-close, a listener's
 * overflow with SYN cookies, keepalive, zero window and persist, TIME-WAIT,
 * urgent data, options and TCP_INFO.  No message outlives a test.
 */
#include "iptest.h"
#include "tcp.h"

#include <ustreams/socket.h>

#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#define TT_PORT 8080

/* Impairments of the wire (each end's sending side). */
typedef struct {
	double loss, dup, reorder, corrupt;
	guint64 delay_ns, jitter_ns;
} Impair;

typedef struct {
	UsWorld *w;
	UsStack *s[2];
	int ip[2];     /* ip control streams */
	int tcp[2];    /* the tcp endpoints the links went through */
	int wire[2];   /* wire ends (kept to read statistics) */
	uint32_t a[2]; /* addresses */
	gint64 live0;
	guint fds0;
} Net;

static void
net_param(int fd, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *v = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	it_param(us_stream_driver_rq(us_fd_stream(fd)), name, v);
}

/* A wire interface with impairments under ip, as it_iface does. */
static void
net_iface(Net *n, int i, const Impair *imp)
{
	static const char *const macs[2] = { "02:00:00:00:00:0a", "02:00:00:00:00:0b" };
	static const char *const addrs[2] = { "10.0.0.1", "10.0.0.2" };
	int fd = it_open(n->s[i], "wire");
	if (imp != NULL) {
		net_param(fd, "loss", "%g", imp->loss);
		net_param(fd, "dup", "%g", imp->dup);
		net_param(fd, "reorder", "%g", imp->reorder);
		net_param(fd, "corrupt", "%g", imp->corrupt);
		net_param(fd, "delay", "%" G_GUINT64_FORMAT, imp->delay_ns);
		net_param(fd, "jitter", "%" G_GUINT64_FORMAT, imp->jitter_ns);
		net_param(fd, "reorder_delay", "%" G_GUINT64_FORMAT, 3 * IT_MS);
		net_param(fd, "qlimit", "%u", 4u << 20);
	}
	g_assert_cmpint(it_istr(fd, WIRE_JOIN, "lan", 4), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "ether"), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "arp"), ==, 0);
	it_param(it_module_wq(fd, "ether"), "mac", macs[i]);
	struct arp_static_req sr = { .addr = it_ip(addrs[1 - i]) };
	g_assert_true(ether_addr_parse(macs[1 - i], sr.mac));
	g_assert_cmpint(it_istr(fd, ARP_ADD_STATIC, &sr, sizeof sr), ==, 0);
	int muxid = us_ioctl(n->ip[i], I_PLINK, fd);
	g_assert_cmpint(muxid, >, 0);
	n->wire[i] = fd;
	struct ip_if_req ir = { .muxid = muxid };
	g_strlcpy(ir.name, "eth0", sizeof ir.name);
	g_assert_cmpint(it_istr(n->ip[i], IP_IF_SET, &ir, sizeof ir), ==, 0);
	it_addr(n->ip[i], "eth0", addrs[i], 24);
	n->a[i] = it_ip(addrs[i]);
}

static void
net_init_seed(Net *n, const Impair *imp, guint64 seed)
{
	n->live0 = us_msg_live_count();
	n->fds0 = us_fd_count();
	n->w = us_world_new(US_CLOCK_VIRTUAL, seed);
	for (int i = 0; i < 2; i++) {
		n->s[i] = us_stack_new(n->w, i ? "b" : "a");
		n->ip[i] = it_open(n->s[i], "ip");
		net_iface(n, i, imp);
		n->tcp[i] = it_open(n->s[i], "tcp");
		int lower = it_open(n->s[i], "ip");
		g_assert_cmpint(us_ioctl(n->tcp[i], I_PLINK, lower), >, 0);
		g_assert_cmpint(us_close(lower), ==, 0);
	}
	us_world_advance(n->w, 100 * IT_MS);
}

static void
net_init(Net *n, const Impair *imp)
{
	net_init_seed(n, imp, 3);
}

static void
net_fini(Net *n)
{
	for (int i = 0; i < 2; i++) {
		g_assert_cmpint(us_close(n->tcp[i]), ==, 0);
		g_assert_cmpint(us_close(n->ip[i]), ==, 0);
		g_assert_cmpint(us_close(n->wire[i]), ==, 0);
	}
	g_assert_cmpuint(us_fd_count(), ==, n->fds0);
	us_world_free(n->w);
	g_assert_cmpint(us_msg_live_count(), ==, n->live0);
}

static guint64
net_stat(Net *n, int i, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_tcp_stack_stat(n->s[i], name, &v));
	return v;
}

/* ------------------------------------------------------------------ */
/* Sockets                                                            */
/* ------------------------------------------------------------------ */

static struct sockaddr_in
tt_sin(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	sin.sin_addr.s_addr = addr;
	return sin;
}

static int
tt_socket(Net *n, int i)
{
	int fd = us_socket(n->s[i], AF_INET, SOCK_STREAM, 0);
	g_assert_cmpint(fd, >=, 0);
	return fd;
}

static int
tt_listen(Net *n, int i, uint16_t port, int backlog)
{
	int fd = tt_socket(n, i);
	struct sockaddr_in sin = tt_sin(INADDR_ANY, port);
	g_assert_cmpint(us_bind(fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
	g_assert_cmpint(us_listen(fd, backlog), ==, 0);
	return fd;
}

static int
tt_connect(Net *n, int i, uint16_t port)
{
	int fd = tt_socket(n, i);
	struct sockaddr_in sin = tt_sin(n->a[1 - i], port);
	g_assert_cmpint(us_connect(fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
	return fd;
}

static int
tt_accept(int lfd)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	int fd = us_accept(lfd, (struct sockaddr *)&peer, &len);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpuint(len, ==, sizeof peer);
	return fd;
}

/* A connected pair: c on A, s on B (accepted); the listener is closed. */
static void
tt_pair(Net *n, int *c, int *s)
{
	int l = tt_listen(n, 1, TT_PORT, 8);
	*c = tt_connect(n, 0, TT_PORT);
	*s = tt_accept(l);
	g_assert_cmpint(us_close(l), ==, 0);
}

static void
tt_nonblock(int fd)
{
	g_assert_cmpint(us_fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0);
}

static struct us_tcp_info
tt_info(int fd)
{
	struct us_tcp_info ti;
	socklen_t len = sizeof ti;
	memset(&ti, 0, sizeof ti);
	g_assert_cmpint(us_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), ==, 0);
	g_assert_cmpuint(len, ==, sizeof ti);
	return ti;
}

/* ------------------------------------------------------------------ */
/* Transfers                                                          */
/* ------------------------------------------------------------------ */

/* One direction of a transfer: a pseudo-random stream, hashed as it is
 * sent and as it is read. */
typedef struct {
	int from, to;
	size_t total, sent, rcvd;
	GRand *gen;       /* the sender's stream */
	GChecksum *h_out; /* of what was sent */
	GChecksum *h_in;  /* of what was read */
	gboolean shut, eof;
	guint8 pend[16384];
	size_t pend_len, pend_off;
} Flow;

static void
flow_init(Flow *f, int from, int to, size_t total, guint32 seed)
{
	memset(f, 0, sizeof *f);
	f->from = from;
	f->to = to;
	f->total = total;
	f->gen = g_rand_new_with_seed(seed);
	f->h_out = g_checksum_new(G_CHECKSUM_SHA256);
	f->h_in = g_checksum_new(G_CHECKSUM_SHA256);
}

static void
flow_fini(Flow *f)
{
	g_assert_cmpuint(f->rcvd, ==, f->total);
	g_assert_true(f->eof);
	g_assert_cmpstr(g_checksum_get_string(f->h_out), ==, g_checksum_get_string(f->h_in));
	g_rand_free(f->gen);
	g_checksum_free(f->h_out);
	g_checksum_free(f->h_in);
}

/* Sends what the socket takes; TRUE if anything moved. */
static gboolean
flow_send(Flow *f)
{
	gboolean moved = FALSE;
	while (f->sent < f->total) {
		if (f->pend_off == f->pend_len) {
			f->pend_len = MIN(sizeof f->pend, f->total - f->sent);
			for (size_t i = 0; i < f->pend_len; i += 4) {
				guint32 r = g_rand_int(f->gen);
				memcpy(f->pend + i, &r, MIN(4, f->pend_len - i));
			}
			f->pend_off = 0;
		}
		ssize_t k = us_send(f->from, f->pend + f->pend_off, f->pend_len - f->pend_off,
				    MSG_DONTWAIT);
		if (k < 0) {
			g_assert_cmpint(errno, ==, EAGAIN);
			break;
		}
		g_checksum_update(f->h_out, f->pend + f->pend_off, k);
		f->pend_off += (size_t)k;
		f->sent += (size_t)k;
		moved = TRUE;
	}
	if (f->sent == f->total && !f->shut) {
		g_assert_cmpint(us_shutdown(f->from, SHUT_WR), ==, 0);
		f->shut = TRUE;
		moved = TRUE;
	}
	return moved;
}

static gboolean
flow_recv(Flow *f)
{
	guint8 buf[32768];
	gboolean moved = FALSE;
	while (!f->eof) {
		ssize_t k = us_recv(f->to, buf, sizeof buf, MSG_DONTWAIT);
		if (k < 0) {
			g_assert_cmpint(errno, ==, EAGAIN);
			break;
		}
		if (k == 0)
			f->eof = TRUE;
		g_checksum_update(f->h_in, buf, k);
		f->rcvd += (size_t)k;
		moved = TRUE;
	}
	return moved;
}

/* Runs the flows until both ends saw EOF; FALSE if stuck by limit. */
static gboolean
flows_run(Net *n, Flow *flows, guint nflows, gint64 limit)
{
	gint64 end = us_world_now(n->w) + limit;
	for (;;) {
		gboolean moved = FALSE, done = TRUE;
		for (guint i = 0; i < nflows; i++) {
			moved |= flow_send(&flows[i]);
			moved |= flow_recv(&flows[i]);
			done &= flows[i].eof;
		}
		if (done)
			return TRUE;
		if (moved)
			continue;
		if (us_world_now(n->w) >= end)
			return FALSE;
		gint64 d = us_world_next_deadline(n->w);
		if (d < 0)
			return FALSE; /* nothing could ever happen */
		us_world_advance(n->w, CLAMP(d, 0, 5 * IT_MS));
	}
}

typedef struct {
	gint64 end;
	guint64 retrans[2], timeouts[2], in_segs[2];
} TransferResult;

/* A bidirectional transfer of na bytes A->B and nb bytes B->A. */
static void
transfer(const Impair *imp, guint64 seed, size_t na, size_t nb, TransferResult *res)
{
	Net n;
	net_init_seed(&n, imp, seed);
	int c, s;
	tt_pair(&n, &c, &s);
	tt_nonblock(c);
	tt_nonblock(s);
	Flow f[2];
	flow_init(&f[0], c, s, na, (guint32)seed * 2 + 1);
	flow_init(&f[1], s, c, nb, (guint32)seed * 2 + 2);
	g_assert_true(flows_run(&n, f, 2, 3600 * G_GINT64_CONSTANT(1000000000)));
	flow_fini(&f[0]);
	flow_fini(&f[1]);
	if (res != NULL) {
		res->end = us_world_now(n.w);
		for (int i = 0; i < 2; i++) {
			res->retrans[i] = net_stat(&n, i, TCP_STAT_RETRANS_SEGS);
			res->timeouts[i] = net_stat(&n, i, TCP_STAT_TIMEOUTS);
			res->in_segs[i] = net_stat(&n, i, TCP_STAT_IN_SEGS);
		}
	}
	g_test_message("%.3f s virtual, retransmitted %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
		       ", timeouts %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
		       us_world_now(n.w) / 1e9, net_stat(&n, 0, TCP_STAT_RETRANS_SEGS),
		       net_stat(&n, 1, TCP_STAT_RETRANS_SEGS), net_stat(&n, 0, TCP_STAT_TIMEOUTS),
		       net_stat(&n, 1, TCP_STAT_TIMEOUTS));
	g_assert_cmpint(us_close(c), ==, 0);
	g_assert_cmpint(us_close(s), ==, 0);
	net_fini(&n);
}

static void
test_transfer_clean(void)
{
	transfer(NULL, 3, 1 << 20, 1 << 20, NULL);
}

static void
test_transfer_loss_1(void)
{
	Impair imp = { .loss = 0.01, .delay_ns = 5 * IT_MS };
	transfer(&imp, 11, 1 << 20, 1 << 20, NULL);
}

static void
test_transfer_loss_5(void)
{
	Impair imp = { .loss = 0.05, .delay_ns = 5 * IT_MS };
	transfer(&imp, 12, 1 << 20, 512 << 10, NULL);
}

static void
test_transfer_loss_10(void)
{
	Impair imp = { .loss = 0.10, .delay_ns = 5 * IT_MS };
	transfer(&imp, 13, 512 << 10, 512 << 10, NULL);
}

static void
test_transfer_reorder_dup(void)
{
	Impair imp = { .reorder = 0.05, .dup = 0.02, .delay_ns = 2 * IT_MS, .jitter_ns = IT_MS };
	transfer(&imp, 14, 1 << 20, 1 << 20, NULL);
}

static void
test_transfer_corrupt(void)
{
	Impair imp = { .corrupt = 0.03, .delay_ns = 2 * IT_MS };
	transfer(&imp, 15, 512 << 10, 512 << 10, NULL);
}

static void
test_transfer_everything(void)
{
	Impair imp = { .loss = 0.03,
		       .dup = 0.02,
		       .reorder = 0.03,
		       .corrupt = 0.01,
		       .delay_ns = 10 * IT_MS,
		       .jitter_ns = 2 * IT_MS };
	transfer(&imp, 16, 512 << 10, 512 << 10, NULL);
}

static void
test_transfer_deterministic(void)
{
	Impair imp = { .loss = 0.05, .reorder = 0.02, .delay_ns = 5 * IT_MS };
	TransferResult r1, r2;
	transfer(&imp, 21, 256 << 10, 256 << 10, &r1);
	transfer(&imp, 21, 256 << 10, 256 << 10, &r2);
	g_assert_cmpint(r1.end, ==, r2.end);
	for (int i = 0; i < 2; i++) {
		g_assert_cmpuint(r1.retrans[i], ==, r2.retrans[i]);
		g_assert_cmpuint(r1.timeouts[i], ==, r2.timeouts[i]);
		g_assert_cmpuint(r1.in_segs[i], ==, r2.in_segs[i]);
	}
	g_assert_cmpuint(r1.retrans[0] + r1.retrans[1], >, 0);
}

/* ------------------------------------------------------------------ */
/* Connection life                                                    */
/* ------------------------------------------------------------------ */

static void
test_connect_accept_close(void)
{
	Net n;
	net_init(&n, NULL);
	int c, s;
	tt_pair(&n, &c, &s);
	g_assert_cmpint(us_send(c, "hello", 5, 0), ==, 5);
	char buf[16];
	g_assert_cmpint(us_recv(s, buf, sizeof buf, 0), ==, 5);
	g_assert_cmpmem(buf, 5, "hello", 5);
	g_assert_cmpint(us_send(s, "world!", 6, 0), ==, 6);
	g_assert_cmpint(us_recv(c, buf, sizeof buf, 0), ==, 6);
	g_assert_cmpmem(buf, 6, "world!", 6);
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	g_assert_cmpint(us_getpeername(s, (struct sockaddr *)&a, &len), ==, 0);
	g_assert_cmphex(a.sin_addr.s_addr, ==, n.a[0]);
	len = sizeof a;
	g_assert_cmpint(us_getsockname(c, (struct sockaddr *)&a, &len), ==, 0);
	g_assert_cmphex(a.sin_addr.s_addr, ==, n.a[0]);
	struct us_tcp_info ti = tt_info(c);
	g_assert_cmpuint(ti.tcpi_state, ==, TCPS_ESTABLISHED);
	g_assert_cmpuint(ti.tcpi_options, ==,
			 US_TCPI_OPT_TIMESTAMPS | US_TCPI_OPT_SACK | US_TCPI_OPT_WSCALE);
	g_assert_cmpuint(ti.tcpi_snd_mss, ==, 1448);
	g_assert_cmpstr(ti.tcpi_cc, ==, "cubic");
	g_assert_cmpint(us_close(c), ==, 0);
	g_assert_cmpint(us_recv(s, buf, sizeof buf, 0), ==, 0); /* EOF */
	g_assert_cmpint(us_close(s), ==, 0);
	us_world_advance(n.w, 1000 * IT_MS);
	g_assert_cmpuint(net_stat(&n, 0, TCP_STAT_ACTIVE_OPENS), ==, 1);
	g_assert_cmpuint(net_stat(&n, 1, TCP_STAT_PASSIVE_OPENS), ==, 1);
	net_fini(&n);
}

static void
test_refused(void)
{
	Net n;
	net_init(&n, NULL);
	int fd = tt_socket(&n, 0);
	struct sockaddr_in sin = tt_sin(n.a[1], 9);
	g_assert_cmpint(us_connect(fd, (struct sockaddr *)&sin, sizeof sin), ==, -1);
	g_assert_cmpint(errno, ==, ECONNREFUSED);
	g_assert_cmpint(us_close(fd), ==, 0);
	g_assert_cmpuint(net_stat(&n, 1, TCP_STAT_OUT_RSTS), ==, 1);
	net_fini(&n);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/tcp-ip/connect-accept-close", test_connect_accept_close);
	g_test_add_func("/tcp-ip/refused", test_refused);
	g_test_add_func("/tcp-ip/transfer/clean", test_transfer_clean);
	g_test_add_func("/tcp-ip/transfer/loss-1", test_transfer_loss_1);
	g_test_add_func("/tcp-ip/transfer/loss-5", test_transfer_loss_5);
	g_test_add_func("/tcp-ip/transfer/loss-10", test_transfer_loss_10);
	g_test_add_func("/tcp-ip/transfer/reorder-dup", test_transfer_reorder_dup);
	g_test_add_func("/tcp-ip/transfer/corrupt", test_transfer_corrupt);
	g_test_add_func("/tcp-ip/transfer/everything", test_transfer_everything);
	g_test_add_func("/tcp-ip/transfer/deterministic", test_transfer_deterministic);
	return g_test_run();
}
