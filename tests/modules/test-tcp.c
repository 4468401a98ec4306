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

static void
tt_setint(int fd, int level, int name, int v)
{
	g_assert_cmpint(us_setsockopt(fd, level, name, &v, sizeof v), ==, 0);
}

static int
tt_getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof v;
	g_assert_cmpint(us_getsockopt(fd, level, name, &v, &len), ==, 0);
	return v;
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

static void
test_simultaneous_open(void)
{
	Impair imp = { .delay_ns = 10 * IT_MS };
	Net n;
	net_init(&n, &imp);
	int fd[2];
	for (int i = 0; i < 2; i++) {
		fd[i] = tt_socket(&n, i);
		tt_nonblock(fd[i]);
		struct sockaddr_in me = tt_sin(INADDR_ANY, (uint16_t)(5000 + i));
		g_assert_cmpint(us_bind(fd[i], (struct sockaddr *)&me, sizeof me), ==, 0);
	}
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in peer = tt_sin(n.a[1 - i], (uint16_t)(5000 + 1 - i));
		g_assert_cmpint(us_connect(fd[i], (struct sockaddr *)&peer, sizeof peer), ==, -1);
		g_assert_cmpint(errno, ==, EINPROGRESS);
	}
	us_world_advance(n.w, 500 * IT_MS);
	for (int i = 0; i < 2; i++) {
		int err = -1;
		socklen_t len = sizeof err;
		g_assert_cmpint(us_getsockopt(fd[i], SOL_SOCKET, SO_ERROR, &err, &len), ==, 0);
		g_assert_cmpint(err, ==, 0);
		struct us_tcp_info ti = tt_info(fd[i]);
		g_assert_cmpuint(ti.tcpi_state, ==, TCPS_ESTABLISHED);
	}
	/* Neither side was passive: both made an active open. */
	g_assert_cmpuint(net_stat(&n, 0, TCP_STAT_PASSIVE_OPENS), ==, 0);
	g_assert_cmpuint(net_stat(&n, 1, TCP_STAT_ACTIVE_OPENS), ==, 1);
	g_assert_cmpint(us_send(fd[0], "cross", 5, 0), ==, 5);
	us_world_advance(n.w, 100 * IT_MS);
	char buf[8];
	g_assert_cmpint(us_recv(fd[1], buf, sizeof buf, 0), ==, 5);
	for (int i = 0; i < 2; i++)
		g_assert_cmpint(us_close(fd[i]), ==, 0);
	us_world_advance(n.w, 1000 * IT_MS);
	net_fini(&n);
}

static void
test_abortive_close(void)
{
	Net n;
	net_init(&n, NULL);
	int c, s;
	tt_pair(&n, &c, &s);
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	g_assert_cmpint(us_setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l), ==, 0);
	g_assert_cmpint(us_send(c, "bye", 3, 0), ==, 3);
	us_world_advance(n.w, 10 * IT_MS);
	g_assert_cmpint(us_close(c), ==, 0); /* RST */
	char buf[8];
	g_assert_cmpint(us_recv(s, buf, sizeof buf, 0), ==, 3); /* the data first */
	g_assert_cmpint(us_recv(s, buf, sizeof buf, 0), ==, -1);
	g_assert_cmpint(errno, ==, ECONNRESET);
	g_assert_cmpint(us_send(s, "x", 1, 0), ==, -1);
	g_assert_cmpint(errno, ==, EPIPE);
	g_assert_cmpint(us_close(s), ==, 0);
	g_assert_cmpuint(net_stat(&n, 0, TCP_STAT_OUT_RSTS), ==, 1);
	g_assert_cmpuint(net_stat(&n, 1, TCP_STAT_ESTAB_RESETS), ==, 1);
	net_fini(&n);
}

static void
test_linger_timeout(void)
{
	Net n;
	net_init(&n, NULL);
	int l = tt_listen(&n, 1, TT_PORT, 4);
	tt_setint(l, SOL_SOCKET, SO_RCVBUF, 4608);
	int c = tt_connect(&n, 0, TT_PORT), s = tt_accept(l);
	struct linger lg = { .l_onoff = 1, .l_linger = 2 };
	g_assert_cmpint(us_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), ==, 0);
	g_autofree guint8 *d = g_malloc0(100000);
	tt_nonblock(c);
	g_assert_cmpint(us_send(c, d, 100000, 0), >, 0); /* more than B will take */
	gint64 t0 = us_world_now(n.w);
	g_assert_cmpint(us_close(c), ==, 0); /* returns at once (Deviations) */
	us_world_advance(n.w, 1900 * IT_MS);
	g_assert_cmpuint(net_stat(&n, 0, TCP_STAT_OUT_RSTS), ==, 0);
	us_world_advance(n.w, 200 * IT_MS); /* 2 s: what is not delivered is reset */
	g_assert_cmpuint(net_stat(&n, 0, TCP_STAT_OUT_RSTS), ==, 1);
	g_assert_cmpint(us_world_now(n.w) - t0, >=, 2 * G_GINT64_CONSTANT(1000000000));
	char buf[8192];
	ssize_t k;
	while ((k = us_recv(s, buf, sizeof buf, 0)) > 0)
		;
	g_assert_cmpint(k, ==, -1);
	g_assert_cmpint(errno, ==, ECONNRESET);
	g_assert_cmpint(us_close(s), ==, 0);
	g_assert_cmpint(us_close(l), ==, 0);
	net_fini(&n);
}

static void
test_half_close(void)
{
	Net n;
	net_init(&n, NULL);
	int c, s;
	tt_pair(&n, &c, &s);
	g_assert_cmpint(us_send(c, "request", 7, 0), ==, 7);
	g_assert_cmpint(us_shutdown(c, SHUT_WR), ==, 0);
	char buf[64];
	g_assert_cmpint(us_recv(s, buf, sizeof buf, MSG_WAITALL), ==, 7);
	g_assert_cmpint(us_recv(s, buf, sizeof buf, 0), ==, 0); /* the FIN */
	g_assert_cmpuint(tt_info(s).tcpi_state, ==, TCPS_CLOSE_WAIT);
	g_assert_cmpuint(tt_info(c).tcpi_state, ==, TCPS_FIN_WAIT_2);
	for (int i = 0; i < 10; i++) /* the other half still works */
		g_assert_cmpint(us_send(s, "response", 8, 0), ==, 8);
	g_assert_cmpint(us_close(s), ==, 0);
	g_assert_cmpint(us_recv(c, buf, sizeof buf, MSG_WAITALL), ==, 64);
	g_assert_cmpint(us_recv(c, buf, sizeof buf, MSG_WAITALL), ==, 16);
	g_assert_cmpint(us_recv(c, buf, sizeof buf, 0), ==, 0);
	g_assert_cmpuint(tt_info(c).tcpi_state, ==, TCPS_TIME_WAIT);
	g_assert_cmpint(us_close(c), ==, 0);
	net_fini(&n);
}

static void
test_listen_overflow_cookies(void)
{
	Impair imp = { .delay_ns = 10 * IT_MS };
	Net n;
	net_init(&n, &imp);
	int l = tt_listen(&n, 1, TT_PORT, 2);
	int c[6];
	for (int i = 0; i < 6; i++) {
		c[i] = tt_socket(&n, 0);
		tt_nonblock(c[i]);
		struct sockaddr_in sin = tt_sin(n.a[1], TT_PORT);
		g_assert_cmpint(us_connect(c[i], (struct sockaddr *)&sin, sizeof sin), ==, -1);
		g_assert_cmpint(errno, ==, EINPROGRESS);
	}
	us_world_advance(n.w, 200 * IT_MS);
	g_assert_cmpuint(net_stat(&n, 1, TCP_STAT_SYNCOOKIES_SENT), ==, 4);
	g_assert_cmpuint(net_stat(&n, 1, TCP_STAT_LISTEN_OVERFLOWS), >=, 4);
	for (int i = 0; i < 6; i++) /* every client believes it is connected */
		g_assert_cmpuint(tt_info(c[i]).tcpi_state, ==, TCPS_ESTABLISHED);
	for (int i = 0; i < 6; i++)
		g_assert_cmpint(us_send(c[i], &i, sizeof i, 0), ==, sizeof i);
	gboolean seen[6] = { FALSE };
	for (int k = 0; k < 6; k++) {
		int s = tt_accept(l);
		int v = -1;
		g_assert_cmpint(us_recv(s, &v, sizeof v, MSG_WAITALL), ==, sizeof v);
		g_assert_true(v >= 0 && v < 6 && !seen[v]);
		seen[v] = TRUE;
		g_assert_cmpint(us_close(s), ==, 0);
	}
	g_assert_cmpuint(net_stat(&n, 1, TCP_STAT_SYNCOOKIES_RECV), >=, 4);
	g_assert_cmpuint(net_stat(&n, 1, TCP_STAT_SYNCOOKIES_FAILED), ==, 0);
	for (int i = 0; i < 6; i++)
		g_assert_cmpint(us_close(c[i]), ==, 0);
	g_assert_cmpint(us_close(l), ==, 0);
	net_fini(&n);
}

static void
test_listen_overflow_no_cookies(void)
{
	Impair imp = { .delay_ns = 10 * IT_MS };
	Net n;
	net_init(&n, &imp);
	int l = tt_listen(&n, 1, TT_PORT, 1);
	it_param(us_stream_driver_rq(us_fd_stream(l)), TCP_PARAM_SYNCOOKIES, "false");
	int c[3];
	for (int i = 0; i < 3; i++) {
		c[i] = tt_socket(&n, 0);
		tt_nonblock(c[i]);
		struct sockaddr_in sin = tt_sin(n.a[1], TT_PORT);
		g_assert_cmpint(us_connect(c[i], (struct sockaddr *)&sin, sizeof sin), ==, -1);
	}
	us_world_advance(n.w, 100 * IT_MS);
	g_assert_cmpuint(net_stat(&n, 1, TCP_STAT_SYNCOOKIES_SENT), ==, 0);
	g_assert_cmpuint(us_drop_count(us_stream_driver_rq(us_fd_stream(l)), TCP_DROP_LISTEN_FULL),
			 >=, 2);
	/* The SYNs dropped are sent again; accepting makes room for them. */
	for (int k = 0; k < 3; k++)
		g_assert_cmpint(us_close(tt_accept(l)), ==, 0);
	for (int i = 0; i < 3; i++)
		g_assert_cmpint(us_close(c[i]), ==, 0);
	g_assert_cmpint(us_close(l), ==, 0);
	net_fini(&n);
}

static void
test_keepalive(void)
{
	Net n;
	net_init(&n, NULL);
	int c, s;
	tt_pair(&n, &c, &s);
	tt_setint(c, SOL_SOCKET, SO_KEEPALIVE, 1);
	tt_setint(c, IPPROTO_TCP, TCP_KEEPIDLE, 10);
	tt_setint(c, IPPROTO_TCP, TCP_KEEPINTVL, 2);
	tt_setint(c, IPPROTO_TCP, TCP_KEEPCNT, 3);
	g_assert_cmpint(tt_getint(c, IPPROTO_TCP, TCP_KEEPIDLE), ==, 10);
	us_world_advance(n.w, 35 * G_GINT64_CONSTANT(1000000000));
	guint64 probes = net_stat(&n, 0, TCP_STAT_KEEPALIVE_PROBES);
	g_assert_cmpuint(probes, >=, 3); /* one per idle period, each answered */
	g_assert_cmpuint(tt_info(c).tcpi_state, ==, TCPS_ESTABLISHED);
	/* The peer goes silent: three probes unanswered, then ETIMEDOUT. */
	net_param(n.wire[1], "loss", "1");
	us_world_advance(n.w, 20 * G_GINT64_CONSTANT(1000000000));
	char buf[4];
	g_assert_cmpint(us_recv(c, buf, sizeof buf, MSG_DONTWAIT), ==, -1);
	g_assert_cmpint(errno, ==, ETIMEDOUT);
	g_assert_cmpuint(net_stat(&n, 0, TCP_STAT_KEEPALIVE_PROBES), >=, probes + 3);
	g_assert_cmpint(us_close(c), ==, 0);
	g_assert_cmpint(us_close(s), ==, 0);
	net_fini(&n);
}

static void
test_zero_window_persist(void)
{
	Net n;
	net_init(&n, NULL);
	int l = tt_listen(&n, 1, TT_PORT, 4);
	tt_setint(l, SOL_SOCKET, SO_RCVBUF, 8192);
	int c = tt_connect(&n, 0, TT_PORT);
	int s = tt_accept(l);
	g_assert_cmpint(tt_getint(s, SOL_SOCKET, SO_RCVBUF), ==, 8192);
	tt_nonblock(c);
	Flow f;
	flow_init(&f, c, s, 1 << 20, 7);
	(void)flow_send(&f); /* fills both buffers; s does not read */
	g_assert_cmpuint(f.sent, <, f.total);
	us_world_advance(n.w, 60 * G_GINT64_CONSTANT(1000000000));
	g_assert_cmpuint(net_stat(&n, 0, TCP_STAT_PERSIST_PROBES), >=, 3);
	g_assert_cmpuint(tt_info(c).tcpi_snd_wnd, ==, 0);
	g_assert_cmpuint(tt_info(c).tcpi_state, ==, TCPS_ESTABLISHED); /* no timeout */
	tt_nonblock(s);
	g_assert_true(flows_run(&n, &f, 1, 600 * G_GINT64_CONSTANT(1000000000)));
	flow_fini(&f);
	g_assert_cmpint(us_close(c), ==, 0);
	g_assert_cmpint(us_close(s), ==, 0);
	g_assert_cmpint(us_close(l), ==, 0);
	net_fini(&n);
}

static void
test_time_wait(void)
{
	Net n;
	net_init(&n, NULL);
	int c, s;
	tt_pair(&n, &c, &s);
	struct sockaddr_in me;
	socklen_t len = sizeof me;
	g_assert_cmpint(us_getsockname(c, (struct sockaddr *)&me, &len), ==, 0);
	g_assert_cmpint(us_close(c), ==, 0); /* active close: A keeps TIME-WAIT */
	char buf[4];
	g_assert_cmpint(us_recv(s, buf, sizeof buf, 0), ==, 0);
	g_assert_cmpint(us_close(s), ==, 0);
	us_world_advance(n.w, 1000 * IT_MS);
	int b = tt_socket(&n, 0);
	me.sin_addr.s_addr = INADDR_ANY;
	g_assert_cmpint(us_bind(b, (struct sockaddr *)&me, sizeof me), ==, -1);
	g_assert_cmpint(errno, ==, EADDRINUSE); /* held by TIME-WAIT */
	tt_setint(b, SOL_SOCKET, SO_REUSEADDR, 1);
	g_assert_cmpint(us_bind(b, (struct sockaddr *)&me, sizeof me), ==, 0);
	g_assert_cmpint(us_close(b), ==, 0);
	us_world_advance(n.w, 60 * G_GINT64_CONSTANT(1000000000)); /* 2 MSL */
	b = tt_socket(&n, 0);
	g_assert_cmpint(us_bind(b, (struct sockaddr *)&me, sizeof me), ==, 0);
	g_assert_cmpint(us_close(b), ==, 0);
	net_fini(&n);
}

static void
test_time_wait_reuse(void)
{
	Net n;
	net_init(&n, NULL);
	int l = tt_listen(&n, 1, TT_PORT, 4);
	int c = tt_socket(&n, 0);
	tt_setint(c, SOL_SOCKET, SO_REUSEADDR, 1);
	struct sockaddr_in me = tt_sin(INADDR_ANY, 4321), peer = tt_sin(n.a[1], TT_PORT);
	g_assert_cmpint(us_bind(c, (struct sockaddr *)&me, sizeof me), ==, 0);
	g_assert_cmpint(us_connect(c, (struct sockaddr *)&peer, sizeof peer), ==, 0);
	int s = tt_accept(l);
	g_assert_cmpint(us_close(s), ==, 0); /* B closes first: B in TIME-WAIT */
	char buf[4];
	g_assert_cmpint(us_recv(c, buf, sizeof buf, 0), ==, 0);
	g_assert_cmpint(us_close(c), ==, 0);
	us_world_advance(n.w, 1000 * IT_MS);
	/* Same 4-tuple again at once: the SYN's timestamp is newer, so B's
	 * TIME-WAIT gives way (RFC 6191). */
	c = tt_socket(&n, 0);
	tt_setint(c, SOL_SOCKET, SO_REUSEADDR, 1);
	g_assert_cmpint(us_bind(c, (struct sockaddr *)&me, sizeof me), ==, 0);
	g_assert_cmpint(us_connect(c, (struct sockaddr *)&peer, sizeof peer), ==, 0);
	s = tt_accept(l);
	g_assert_cmpuint(net_stat(&n, 1, TCP_STAT_TW_RECYCLED), ==, 1);
	g_assert_cmpint(us_close(s), ==, 0);
	g_assert_cmpint(us_close(c), ==, 0);
	g_assert_cmpint(us_close(l), ==, 0);
	net_fini(&n);
}

static void
test_urgent(void)
{
	Net n;
	net_init(&n, NULL);
	int c, s;
	tt_pair(&n, &c, &s);
	g_assert_cmpint(us_send(c, "12", 2, 0), ==, 2);
	g_assert_cmpint(us_send(c, "ab", 2, MSG_OOB), ==, 2);
	g_assert_cmpint(us_send(c, "xy", 2, 0), ==, 2);
	us_world_advance(n.w, 100 * IT_MS);
	char oob = 0;
	g_assert_cmpint(us_recv(s, &oob, 1, MSG_OOB), ==, 1);
	g_assert_cmpint(oob, ==, 'b');
	char buf[16];
	size_t got = 0;
	while (got < 3) { /* the bytes before the mark */
		ssize_t k = us_recv(s, buf + got, 3 - got, 0);
		g_assert_cmpint(k, >, 0);
		got += (size_t)k;
	}
	g_assert_cmpint(us_ioctl(s, I_ATMARK, ANYMARK), ==, 1); /* at the urgent mark */
	while (got < 5) {
		ssize_t k = us_recv(s, buf + got, sizeof buf - got, 0);
		g_assert_cmpint(k, >, 0);
		got += (size_t)k;
	}
	g_assert_cmpmem(buf, got, "12axy", 5);
	g_assert_cmpint(us_ioctl(s, I_ATMARK, ANYMARK), ==, 0);
	g_assert_cmpint(us_close(c), ==, 0);
	g_assert_cmpint(us_close(s), ==, 0);
	net_fini(&n);
}

static void
test_options(void)
{
	Impair imp = { .delay_ns = 5 * IT_MS };
	Net n;
	net_init(&n, &imp);
	int c, s;
	tt_pair(&n, &c, &s);
	tt_setint(c, IPPROTO_TCP, TCP_NODELAY, 1);
	g_assert_cmpint(tt_getint(c, IPPROTO_TCP, TCP_NODELAY), ==, 1);
	g_assert_cmpint(tt_getint(c, IPPROTO_TCP, TCP_MAXSEG), ==, 1448);
	g_assert_cmpint(tt_getint(c, SOL_SOCKET, SO_TYPE), ==, SOCK_STREAM);
	char cc[TCP_CA_NAME_MAX] = "newreno";
	g_assert_cmpint(us_setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, strlen(cc)), ==, 0);
	memset(cc, 0, sizeof cc);
	socklen_t len = sizeof cc;
	g_assert_cmpint(us_getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, &len), ==, 0);
	g_assert_cmpstr(cc, ==, "newreno");
	g_assert_cmpstr(tt_info(c).tcpi_cc, ==, "newreno");
	g_assert_cmpint(us_setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "bogus", 5), ==, -1);
	g_assert_cmpint(errno, ==, ENOENT);
	int v = 1;
	g_assert_cmpint(us_setsockopt(c, IPPROTO_TCP, TCP_KEEPCNT, &(int){ 0 }, sizeof v), ==, -1);
	g_assert_cmpint(errno, ==, EINVAL);
	g_assert_cmpint(us_setsockopt(c, IPPROTO_TCP, TCP_INFO, &v, sizeof v), ==, -1);
	g_assert_cmpint(us_setsockopt(c, IPPROTO_TCP, 999, &v, sizeof v), ==, -1);
	g_assert_cmpint(errno, ==, ENOPROTOOPT);
	tt_setint(c, SOL_SOCKET, SO_SNDBUF, 100000);
	g_assert_cmpint(tt_getint(c, SOL_SOCKET, SO_SNDBUF), ==, 100000);
	g_assert_cmpint(us_send(s, "ping", 4, 0), ==, 4);
	char buf[4];
	g_assert_cmpint(us_recv(c, buf, sizeof buf, 0), ==, 4);
	us_world_advance(n.w, 100 * IT_MS);
	struct us_tcp_info ti = tt_info(s);
	g_assert_cmpuint(ti.tcpi_rtt, >=, 9000);  /* 2 x 5 ms on the wire */
	g_assert_cmpuint(ti.tcpi_rtt, <=, 50000); /* (+ a delayed ACK) */
	g_assert_cmpuint(ti.tcpi_rto, >=, 200000);
	g_assert_cmpuint(ti.tcpi_snd_cwnd, >, 0);
	g_assert_cmpint(us_close(c), ==, 0);
	g_assert_cmpint(us_close(s), ==, 0);
	net_fini(&n);
}

static void
test_cc_plugin(void)
{
	if (g_getenv("US_MODULE_PATH") == NULL) {
		g_test_skip("US_MODULE_PATH is not set (run through meson test)");
		return;
	}
	Net n;
	net_init(&n, NULL);
	int c, s;
	tt_pair(&n, &c, &s);
	/* Not registered: loaded from tcp-cc-fixed.so on the module path. */
	g_assert_cmpint(us_setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "fixed", 6), ==, 0);
	g_assert_cmpstr(tt_info(c).tcpi_cc, ==, "fixed");
	g_assert_cmpuint(tt_info(c).tcpi_snd_cwnd, ==, 10 * 1448);
	tt_nonblock(c);
	tt_nonblock(s);
	Flow f;
	flow_init(&f, c, s, 300000, 9);
	g_assert_true(flows_run(&n, &f, 1, 600 * G_GINT64_CONSTANT(1000000000)));
	flow_fini(&f);
	g_assert_cmpuint(tt_info(c).tcpi_snd_cwnd, ==, 10 * 1448); /* never grew */
	g_assert_cmpint(us_close(c), ==, 0);
	g_assert_cmpint(us_close(s), ==, 0);
	net_fini(&n);
}

/* One 8 MiB transfer over a 20 ms round trip; the virtual time it took and
 * the receiver's SO_RCVBUF at the end. */
static gint64
autotune_run(gboolean on, int *rcvbuf)
{
	Impair imp = { .delay_ns = 10 * IT_MS };
	Net n;
	net_init(&n, &imp);
	if (on) {
		it_param(us_stream_driver_rq(us_fd_stream(n.tcp[0])), TCP_PARAM_AUTOTUNE, "true");
		it_param(us_stream_driver_rq(us_fd_stream(n.tcp[1])), TCP_PARAM_AUTOTUNE, "true");
	}
	int c, s;
	tt_pair(&n, &c, &s);
	tt_nonblock(c);
	tt_nonblock(s);
	Flow f;
	flow_init(&f, c, s, 8 << 20, 5);
	gint64 t0 = us_world_now(n.w);
	g_assert_true(flows_run(&n, &f, 1, 3600 * G_GINT64_CONSTANT(1000000000)));
	gint64 took = us_world_now(n.w) - t0;
	flow_fini(&f);
	*rcvbuf = tt_getint(s, SOL_SOCKET, SO_RCVBUF);
	g_assert_cmpint(us_close(c), ==, 0);
	g_assert_cmpint(us_close(s), ==, 0);
	net_fini(&n);
	return took;
}

static void
test_rcvbuf_autotune(void)
{
	int fixed, tuned;
	gint64 t_fixed = autotune_run(FALSE, &fixed);
	gint64 t_tuned = autotune_run(TRUE, &tuned);
	g_test_message("8 MiB over 20 ms: %.2f s with 208 KiB, %.2f s auto-tuned to %d bytes",
		       t_fixed / 1e9, t_tuned / 1e9, tuned);
	g_assert_cmpint(fixed, ==, TCP_RCVBUF_DEFAULT);
	g_assert_cmpint(tuned, >, 4 * TCP_RCVBUF_DEFAULT);
	g_assert_cmpint(t_tuned, <, t_fixed / 2);
}

static void
test_unreachable(void)
{
	Net n;
	net_init(&n, NULL);
	int fd = tt_socket(&n, 0);
	struct sockaddr_in sin = tt_sin(it_ip("10.0.0.99"), 80);
	g_assert_cmpint(us_connect(fd, (struct sockaddr *)&sin, sizeof sin), ==, -1);
	g_assert_cmpint(errno, ==, EHOSTUNREACH);
	g_assert_cmpint(us_close(fd), ==, 0);
	net_fini(&n);
}

static void
test_syn_timeout(void)
{
	Net n;
	net_init(&n, NULL);
	net_param(n.wire[0], "loss", "1");
	int fd = tt_socket(&n, 0);
	tt_setint(fd, IPPROTO_TCP, TCP_SYNCNT, 2);
	struct sockaddr_in sin = tt_sin(n.a[1], 80);
	gint64 t0 = us_world_now(n.w);
	g_assert_cmpint(us_connect(fd, (struct sockaddr *)&sin, sizeof sin), ==, -1);
	g_assert_cmpint(errno, ==, ETIMEDOUT);
	/* RFC 6298: 1 s, then doubled: 1 + 2 + 4 s for two retries. */
	g_assert_cmpint(us_world_now(n.w) - t0, ==, 7 * G_GINT64_CONSTANT(1000000000));
	g_assert_cmpint(us_close(fd), ==, 0);
	net_fini(&n);
}

static void
test_loopback(void)
{
	Net n;
	net_init(&n, NULL);
	int l = tt_listen(&n, 0, TT_PORT, 4);
	int c = tt_socket(&n, 0);
	struct sockaddr_in sin = tt_sin(n.a[0], TT_PORT);
	g_assert_cmpint(us_connect(c, (struct sockaddr *)&sin, sizeof sin), ==, 0);
	int s = tt_accept(l);
	g_assert_cmpint(us_send(c, "self", 4, 0), ==, 4);
	char buf[8];
	g_assert_cmpint(us_recv(s, buf, sizeof buf, 0), ==, 4);
	g_assert_cmpint(us_close(c), ==, 0);
	g_assert_cmpint(us_close(s), ==, 0);
	g_assert_cmpint(us_close(l), ==, 0);
	net_fini(&n);
}

static void
test_many_connections(void)
{
	Impair imp = { .loss = 0.02, .delay_ns = 2 * IT_MS };
	Net n;
	net_init(&n, &imp);
	enum { N = 32 };
	int l = tt_listen(&n, 1, TT_PORT, N);
	int c[N], s[N];
	for (int i = 0; i < N; i++) {
		c[i] = tt_connect(&n, 0, TT_PORT);
		s[i] = tt_accept(l);
		tt_nonblock(c[i]);
		tt_nonblock(s[i]);
	}
	Flow f[2 * N];
	for (int i = 0; i < N; i++) {
		flow_init(&f[2 * i], c[i], s[i], 20000 + 977 * i, 100 + i);
		flow_init(&f[2 * i + 1], s[i], c[i], 10000 + 499 * i, 200 + i);
	}
	g_assert_true(flows_run(&n, f, 2 * N, 3600 * G_GINT64_CONSTANT(1000000000)));
	for (int i = 0; i < 2 * N; i++)
		flow_fini(&f[i]);
	for (int i = 0; i < N; i++) {
		g_assert_cmpint(us_close(c[i]), ==, 0);
		g_assert_cmpint(us_close(s[i]), ==, 0);
	}
	g_assert_cmpint(us_close(l), ==, 0);
	g_assert_cmpuint(net_stat(&n, 1, TCP_STAT_PASSIVE_OPENS), ==, N);
	net_fini(&n);
}

static void
test_data_after_close(void)
{
	Net n;
	net_init(&n, NULL);
	int c, s;
	tt_pair(&n, &c, &s);
	g_assert_cmpint(us_close(s), ==, 0); /* B closes; A keeps sending */
	us_world_advance(n.w, 10 * IT_MS);
	g_assert_cmpint(us_send(c, "late", 4, 0), ==, 4);
	us_world_advance(n.w, 10 * IT_MS);
	char buf[4];
	/* B's FIN came, then its RST: the error is reported first (Linux). */
	g_assert_cmpint(us_recv(c, buf, sizeof buf, 0), ==, -1);
	g_assert_cmpint(errno, ==, ECONNRESET);
	g_assert_cmpint(us_recv(c, buf, sizeof buf, 0), ==, 0);
	g_assert_cmpint(us_send(c, "more", 4, 0), ==, -1);
	g_assert_cmpint(errno, ==, EPIPE);
	g_assert_cmpuint(
		us_drop_count(us_stream_driver_rq(us_fd_stream(n.tcp[1])), TCP_DROP_AFTER_CLOSE),
		==, 1);
	g_assert_cmpint(us_close(c), ==, 0);
	net_fini(&n);
}

static void
test_close_flushes_queued(void)
{
	Net n;
	net_init(&n, NULL);
	int c, s;
	tt_pair(&n, &c, &s);
	/* More than the send buffer: part of it still waits on the write queue
	 * when close() comes; it must go all the same. */
	enum { LEN = 1 << 20 };
	g_autofree guint8 *d = g_malloc(LEN);
	for (guint i = 0; i < LEN; i++)
		d[i] = (guint8)(i * 31 + (i >> 11));
	tt_nonblock(c);
	size_t sent = 0;
	while (sent < LEN) {
		ssize_t k = us_send(c, d + sent, LEN - sent, 0);
		if (k < 0) {
			g_assert_cmpint(errno, ==, EAGAIN);
			break;
		}
		sent += (size_t)k;
	}
	g_assert_cmpuint(sent, >, 212992);
	g_assert_cmpint(us_close(c), ==, 0);
	g_autofree guint8 *got = g_malloc(LEN);
	size_t have = 0;
	ssize_t k;
	while ((k = us_recv(s, got + have, LEN - have, 0)) > 0)
		have += (size_t)k;
	g_assert_cmpint(k, ==, 0);
	g_assert_cmpuint(have, ==, sent);
	g_assert_cmpmem(got, have, d, sent);
	g_assert_cmpint(us_close(s), ==, 0);
	net_fini(&n);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/tcp-ip/connect-accept-close", test_connect_accept_close);
	g_test_add_func("/tcp-ip/refused", test_refused);
	g_test_add_func("/tcp-ip/simultaneous-open", test_simultaneous_open);
	g_test_add_func("/tcp-ip/abortive-close", test_abortive_close);
	g_test_add_func("/tcp-ip/half-close", test_half_close);
	g_test_add_func("/tcp-ip/linger-timeout", test_linger_timeout);
	g_test_add_func("/tcp-ip/data-after-close", test_data_after_close);
	g_test_add_func("/tcp-ip/close-flushes-queued", test_close_flushes_queued);
	g_test_add_func("/tcp-ip/listen/overflow-cookies", test_listen_overflow_cookies);
	g_test_add_func("/tcp-ip/listen/overflow-no-cookies", test_listen_overflow_no_cookies);
	g_test_add_func("/tcp-ip/keepalive", test_keepalive);
	g_test_add_func("/tcp-ip/zero-window-persist", test_zero_window_persist);
	g_test_add_func("/tcp-ip/time-wait", test_time_wait);
	g_test_add_func("/tcp-ip/time-wait-reuse", test_time_wait_reuse);
	g_test_add_func("/tcp-ip/urgent", test_urgent);
	g_test_add_func("/tcp-ip/options", test_options);
	g_test_add_func("/tcp-ip/cc-plugin", test_cc_plugin);
	g_test_add_func("/tcp-ip/rcvbuf-autotune", test_rcvbuf_autotune);
	g_test_add_func("/tcp-ip/unreachable", test_unreachable);
	g_test_add_func("/tcp-ip/syn-timeout", test_syn_timeout);
	g_test_add_func("/tcp-ip/loopback", test_loopback);
	g_test_add_func("/tcp-ip/many-connections", test_many_connections);
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
