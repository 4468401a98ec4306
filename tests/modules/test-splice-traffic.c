/* SPDX-License-Identifier: MIT */
/*
 * test-splice-traffic.c -- modules pushed and popped on live streams while a
 * transfer runs, in one virtual-time world: two stacks A (10.0.0.1) and B
 * (10.0.0.2) on a clean wire,
 *
 *     socket --- tcp|udp --- ip --- arp --- ether --- wire ... B
 *        ^                      ^                  ^
 *        I_PUSH/I_POP           |                  us_stream_insert at the bottom
 *        (A's and B's sockets)  us_stream_insert below ip
 *                               (on A's interface stream, linked under ip)
 *
 * A "pass" module goes in and out at each of those places over and over,
 * every few steps of the transfer, alternately in its direct mode and in its
 * queueing mode -- so it is often removed while it still holds messages
 * (counted: the test fails if that never happened).
 *
 * The wire neither loses nor reorders, so anything the splicing lost or
 * reordered would show: TCP must deliver a byte-identical stream (SHA-256)
 * without a single retransmission; UDP must deliver every numbered datagram,
 * intact and in order.  No drop may be counted anywhere on either stack.
 */
#include "iptest.h"
#include "pass.h"
#include "tcp.h"
#include "udp.h"

#include <ustreams/socket.h>

#include <sys/socket.h>

#define ST_PORT 5001
#define ST_CHUNK 4096          /* TCP bytes offered per loop step */
#define ST_STEP (200 * 1000)   /* at most 200 us of virtual time per loop step */
#define ST_WIRE_DELAY "500000" /* ns */

typedef struct {
	UsWorld *w;
	UsStack *s[2];
	int ip[2];
	UsStream *ifst[2];     /* interface streams (linked under ip) */
	GHashTable *drops0[2]; /* drops counted while building (before the join) */
	gint64 live0;
	guint fds0;
} Net;

static const char *const net_macs[2] = { "02:00:00:00:00:0a", "02:00:00:00:00:0b" };
static const char *const net_addrs[2] = { "10.0.0.1", "10.0.0.2" };

static void
net_transport(UsStack *s, const char *name)
{
	int t = it_open(s, name), lower = it_open(s, "ip");
	g_assert_cmpint(us_ioctl(t, I_PLINK, lower), >, 0);
	g_assert_cmpint(us_close(lower), ==, 0);
	g_assert_cmpint(us_close(t), ==, 0);
}

static void
find_wire_stream(UsStream *st, gpointer data)
{
	const UsModuleDesc *d = us_queue_desc(us_stream_driver_rq(st));
	if (d != NULL && strcmp(d->name, "wire") == 0)
		*(UsStream **)data = st;
}

static void
net_init(Net *n)
{
	n->live0 = us_msg_live_count();
	n->fds0 = us_fd_count();
	n->w = us_world_new(US_CLOCK_VIRTUAL, 5);
	for (int i = 0; i < 2; i++) {
		n->s[i] = us_stack_new(n->w, i ? "b" : "a");
		n->ip[i] = it_open(n->s[i], "ip");
		const char *statics[] = { net_addrs[1 - i], net_macs[1 - i], NULL };
		it_iface(n->s[i], n->ip[i], "lan", net_macs[i], "eth0", net_addrs[i], 24, statics);
		net_transport(n->s[i], "udp");
		net_transport(n->s[i], "tcp");
		us_stack_foreach_stream(n->s[i], find_wire_stream, &n->ifst[i]);
		g_assert_nonnull(n->ifst[i]);
		it_param(us_stream_driver_rq(n->ifst[i]), "delay", ST_WIRE_DELAY);
	}
	us_world_advance(n->w, 100 * IT_MS);
	for (int i = 0; i < 2; i++)
		n->drops0[i] = us_stack_drops(n->s[i]);
}

/* No drop was counted since net_init (A's announcements before B's end of
 * the wire existed were lost, and counted, before anything started). */
static void
net_assert_no_new_drops(Net *n, int i)
{
	GHashTable *drops = us_stack_drops(n->s[i]);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, drops);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		guint64 *before = g_hash_table_lookup(n->drops0[i], k);
		guint64 now = *(guint64 *)v, then = before != NULL ? *before : 0;
		if (now != then)
			g_test_message("stack %d: drop %s x %" G_GUINT64_FORMAT, i, (const char *)k,
				       now - then);
		g_assert_cmpuint(now, ==, then);
	}
	g_hash_table_unref(drops);
	g_hash_table_unref(n->drops0[i]);
}

static void
net_fini(Net *n)
{
	for (int i = 0; i < 2; i++) {
		net_assert_no_new_drops(n, i);
		g_assert_cmpint(us_close(n->ip[i]), ==, 0);
	}
	g_assert_cmpuint(us_fd_count(), ==, n->fds0);
	us_world_free(n->w);
	g_assert_cmpint(us_msg_live_count(), ==, n->live0);
}

/* ------------------------------------------------------------------ */
/* The splicer                                                        */
/* ------------------------------------------------------------------ */

/* Where pass goes in and out, in turn. */
typedef enum {
	SP_IF_BOTTOM, /* A's interface stream, just above the wire (below ether) */
	SP_IF_TOP,    /* A's interface stream, between arp and ip */
	SP_SOCK_A,    /* A's socket (I_PUSH/I_POP) */
	SP_SOCK_B,    /* B's socket */
	SP_N
} SpWhere;

typedef struct {
	Net *n;
	int sock[2];       /* A's and B's sockets */
	queue_t *rq[SP_N]; /* the pass instance at each place, or NULL */
	guint step;
	guint pushes, pops;
	guint held_at_pop;    /* pops of an instance that still held messages */
	guint64 passed[SP_N]; /* messages the instances at each place passed */
} Splicer;

static void
sp_mode(queue_t *rq, guint i)
{
	it_param(rq, "mode", (i / SP_N) % 2 ? "1" : "0"); /* queue, direct */
}

static void
sp_push(Splicer *sp, SpWhere where)
{
	GError *error = NULL;
	queue_t *rq = NULL;
	switch (where) {
	case SP_IF_BOTTOM:
	case SP_IF_TOP:
		g_assert_cmpint(
			us_stream_insert(sp->n->ifst[0], "pass",
					 where == SP_IF_BOTTOM ? US_STREAM_BOTTOM : US_STREAM_BELOW,
					 where == SP_IF_BOTTOM ? NULL : "ip", &rq, &error),
			==, 0);
		g_assert_no_error(error);
		break;
	default: {
		int fd = sp->sock[where - SP_SOCK_A];
		g_assert_cmpint(us_ioctl(fd, I_PUSH, "pass"), ==, 0);
		rq = RD(it_module_wq(fd, "pass"));
		break;
	}
	}
	sp_mode(rq, sp->pushes);
	sp->rq[where] = rq;
	sp->pushes++;
}

static guint64
sp_stat(queue_t *rq, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_stat_get(rq, name, &v));
	return v;
}

static void
sp_pop(Splicer *sp, SpWhere where)
{
	queue_t *rq = sp->rq[where];
	if (rq->q_first != NULL || WR(rq)->q_first != NULL || rq->q_defer_first != NULL ||
	    WR(rq)->q_defer_first != NULL)
		sp->held_at_pop++;
	sp->passed[where] += sp_stat(rq, "msgs_down") + sp_stat(rq, "msgs_up");
	GError *error = NULL;
	switch (where) {
	case SP_IF_BOTTOM: g_assert_cmpint(us_stream_remove_queue(rq, &error), ==, 0); break;
	case SP_IF_TOP:
		g_assert_cmpint(us_stream_remove(sp->n->ifst[0], "pass", &error), ==, 0);
		break;
	default: g_assert_cmpint(us_ioctl(sp->sock[where - SP_SOCK_A], I_POP, 0), ==, 0); break;
	}
	g_assert_no_error(error);
	sp->rq[where] = NULL;
	sp->pops++;
}

/* One splice: the places are filled in turn, then emptied in turn, with
 * the interface's top instance removed by name and the bottom one by its
 * queue. */
static void
sp_step(Splicer *sp)
{
	SpWhere where = (SpWhere)(sp->step % SP_N);
	if (sp->rq[where] == NULL)
		sp_push(sp, where);
	else
		sp_pop(sp, where);
	sp->step++;
}

static void
sp_finish(Splicer *sp)
{
	for (int i = 0; i < SP_N; i++)
		if (sp->rq[i] != NULL)
			sp_pop(sp, (SpWhere)i);
	g_test_message("%u pushes, %u pops, %u of them while the module held messages; "
		       "messages through the instances below ether %" G_GUINT64_FORMAT
		       ", below ip %" G_GUINT64_FORMAT ", on A's socket %" G_GUINT64_FORMAT
		       ", on B's %" G_GUINT64_FORMAT,
		       sp->pushes, sp->pops, sp->held_at_pop, sp->passed[SP_IF_BOTTOM],
		       sp->passed[SP_IF_TOP], sp->passed[SP_SOCK_A], sp->passed[SP_SOCK_B]);
	g_assert_cmpuint(sp->pops, ==, sp->pushes);
	g_assert_cmpuint(sp->held_at_pop, >, 0);
	for (int i = 0; i < SP_N; i++)
		g_assert_cmpuint(sp->passed[i], >, 0);            /* every place saw traffic */
	g_assert_cmpuint(us_stream_depth(sp->n->ifst[0]), ==, 2); /* arp, ether */
}

/* Runs what is pending, then lets the world run to its next event (at most
 * ST_STEP of virtual time): every step moves the clock unless the world has
 * nothing scheduled at all. */
static void
net_step(Net *n)
{
	us_world_run_pending(n->w);
	gint64 d = us_world_next_deadline(n->w);
	us_world_advance(n->w, d < 0 ? ST_STEP : CLAMP(d, 0, ST_STEP));
}

/* ------------------------------------------------------------------ */
/* TCP                                                                */
/* ------------------------------------------------------------------ */

static struct sockaddr_in
st_sin(const char *addr, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	sin.sin_addr.s_addr = addr != NULL ? it_ip(addr) : INADDR_ANY;
	return sin;
}

static int
st_socket(Net *n, int i, int type)
{
	int fd = us_socket(n->s[i], AF_INET, type, 0);
	g_assert_cmpint(fd, >=, 0);
	return fd;
}

/* A connected pair: c on A, s on B, both non-blocking. */
static void
tcp_pair(Net *n, int *c, int *s)
{
	int l = st_socket(n, 1, SOCK_STREAM);
	struct sockaddr_in sin = st_sin(NULL, ST_PORT);
	g_assert_cmpint(us_bind(l, (struct sockaddr *)&sin, sizeof sin), ==, 0);
	g_assert_cmpint(us_listen(l, 4), ==, 0);
	*c = st_socket(n, 0, SOCK_STREAM);
	sin = st_sin(net_addrs[1], ST_PORT);
	g_assert_cmpint(us_connect(*c, (struct sockaddr *)&sin, sizeof sin), ==, 0);
	*s = us_accept(l, NULL, NULL);
	g_assert_cmpint(*s, >=, 0);
	g_assert_cmpint(us_close(l), ==, 0);
	g_assert_cmpint(us_fcntl(*c, F_SETFL, O_NONBLOCK), ==, 0);
	g_assert_cmpint(us_fcntl(*s, F_SETFL, O_NONBLOCK), ==, 0);
}

typedef struct {
	size_t total, sent, rcvd;
	GRand *gen;
	GChecksum *h_out, *h_in;
	guint8 pend[8192];
	size_t pend_len, pend_off;
	gboolean shut, eof;
} Flow;

/* Offers the socket at most ST_CHUNK bytes. */
static void
flow_send(Flow *f, int fd)
{
	size_t budget = ST_CHUNK;
	while (f->sent < f->total && budget > 0) {
		if (f->pend_off == f->pend_len) {
			f->pend_len = MIN(sizeof f->pend, f->total - f->sent);
			for (size_t i = 0; i < f->pend_len; i++)
				f->pend[i] = (guint8)g_rand_int(f->gen);
			f->pend_off = 0;
		}
		ssize_t k = us_send(fd, f->pend + f->pend_off,
				    MIN(budget, f->pend_len - f->pend_off), MSG_DONTWAIT);
		if (k < 0) {
			g_assert_cmpint(errno, ==, EAGAIN);
			return;
		}
		budget -= (size_t)k;
		g_checksum_update(f->h_out, f->pend + f->pend_off, k);
		f->pend_off += (size_t)k;
		f->sent += (size_t)k;
	}
	if (f->sent == f->total && !f->shut) {
		g_assert_cmpint(us_shutdown(fd, SHUT_WR), ==, 0);
		f->shut = TRUE;
	}
}

static void
flow_recv(Flow *f, int fd)
{
	guint8 buf[16384];
	for (;;) {
		ssize_t k = us_recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (k < 0) {
			g_assert_cmpint(errno, ==, EAGAIN);
			return;
		}
		if (k == 0) {
			f->eof = TRUE;
			return;
		}
		g_checksum_update(f->h_in, buf, k);
		f->rcvd += (size_t)k;
	}
}

static guint64
tcp_stat(Net *n, int i, const char *name)
{
	guint64 v = 0;
	g_assert_true(us_tcp_stack_stat(n->s[i], name, &v));
	return v;
}

static void
test_tcp_transfer(void)
{
	Net n;
	net_init(&n);
	int c, s;
	tcp_pair(&n, &c, &s);
	Flow f = { .total = 1 << 20 };
	f.gen = g_rand_new_with_seed(77);
	f.h_out = g_checksum_new(G_CHECKSUM_SHA256);
	f.h_in = g_checksum_new(G_CHECKSUM_SHA256);
	Splicer sp = { .n = &n, .sock = { c, s } };
	gint64 limit = us_world_now(n.w) + 600 * US_NSEC_PER_SEC;
	for (guint i = 0; !f.eof && us_world_now(n.w) < limit; i++) {
		flow_send(&f, c);
		sp_step(&sp); /* between a send and the world running it */
		net_step(&n);
		flow_recv(&f, s);
	}
	g_assert_true(f.eof);
	sp_finish(&sp);
	g_assert_cmpuint(f.rcvd, ==, f.total);
	g_assert_cmpstr(g_checksum_get_string(f.h_in), ==, g_checksum_get_string(f.h_out));
	g_assert_cmpuint(tcp_stat(&n, 0, TCP_STAT_RETRANS_SEGS), ==, 0);
	g_assert_cmpuint(tcp_stat(&n, 1, TCP_STAT_RETRANS_SEGS), ==, 0);
	g_assert_cmpuint(sp.pushes, >=, 100);
	g_rand_free(f.gen);
	g_checksum_free(f.h_out);
	g_checksum_free(f.h_in);
	g_assert_cmpint(us_close(c), ==, 0);
	g_assert_cmpint(us_close(s), ==, 0);
	us_world_advance(n.w, 300 * US_NSEC_PER_SEC); /* TIME-WAIT goes by */
	net_fini(&n);
}

/* ------------------------------------------------------------------ */
/* UDP                                                                */
/* ------------------------------------------------------------------ */

#define UDP_COUNT 3000
#define UDP_BURST 6

/* Datagram k: its number, then a length and pattern that depend on it. */
static size_t
udp_fill(guint8 *buf, guint32 k)
{
	size_t len = 8 + (k * 37) % 1400;
	memcpy(buf, &k, 4);
	for (size_t i = 4; i < len; i++)
		buf[i] = (guint8)(k + i);
	return len;
}

static void
test_udp_datagrams(void)
{
	Net n;
	net_init(&n);
	int a = st_socket(&n, 0, SOCK_DGRAM), b = st_socket(&n, 1, SOCK_DGRAM);
	struct sockaddr_in sin = st_sin(NULL, ST_PORT);
	g_assert_cmpint(us_bind(b, (struct sockaddr *)&sin, sizeof sin), ==, 0);
	g_assert_cmpint(us_fcntl(b, F_SETFL, O_NONBLOCK), ==, 0);
	struct sockaddr_in to = st_sin(net_addrs[1], ST_PORT);
	Splicer sp = { .n = &n, .sock = { a, b } };
	guint32 sent = 0, rcvd = 0;
	guint8 buf[1500], want[1500];
	for (guint i = 0; rcvd < UDP_COUNT; i++) {
		g_assert_cmpuint(i, <, 100 * UDP_COUNT);
		for (guint k = 0; k < UDP_BURST && sent < UDP_COUNT; k++) {
			size_t len = udp_fill(buf, sent);
			ssize_t r = us_sendto(a, buf, len, MSG_DONTWAIT, (struct sockaddr *)&to,
					      sizeof to);
			if (r < 0) {
				g_assert_cmpint(errno, ==, EAGAIN);
				break;
			}
			g_assert_cmpint(r, ==, (ssize_t)len);
			sent++;
		}
		sp_step(&sp);
		net_step(&n);
		ssize_t r;
		while ((r = us_recv(b, buf, sizeof buf, MSG_DONTWAIT)) >= 0) {
			size_t len = udp_fill(want, rcvd);
			g_assert_cmpmem(buf, r, want, len); /* the next one, intact */
			rcvd++;
		}
		g_assert_cmpint(errno, ==, EAGAIN);
	}
	sp_finish(&sp);
	guint64 v = 0;
	g_assert_true(us_udp_stack_stat(n.s[1], UDP_STAT_IN_DATAGRAMS, &v));
	g_assert_cmpuint(v, ==, UDP_COUNT);
	g_assert_cmpuint(sp.pushes, >=, 100);
	g_assert_cmpint(us_close(a), ==, 0);
	g_assert_cmpint(us_close(b), ==, 0);
	net_fini(&n);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/splice/traffic/tcp", test_tcp_transfer);
	g_test_add_func("/splice/traffic/udp", test_udp_datagrams);
	return g_test_run();
}
