/* SPDX-License-Identifier: MIT */
/*
 * udp-echo-server -- a UDP echo server (RFC 862) on a ustreams stack: one
 * unconnected socket bound to INADDR_ANY that sends every datagram back to
 * where it came from.
 *
 *   udp-echo-server [-p PORT] [-c N] [--clients K] [-W S] [-r N] [--loss P]
 *       A simulated world in virtual time: the server runs on host B
 *       (10.0.0.2); host A (10.0.0.1) on the same wire runs K client
 *       sockets that send N datagrams between them (all at once, then
 *       again for those whose echo did not come within S seconds) and
 *       check that each echo is byte-identical.  The first burst meets
 *       ARP: while B's address is being resolved, A's arp holds 3 packets
 *       for it (as Linux's unres_qlen) and pushes out the oldest, so with
 *       more than 3 datagrams the second round is needed even without loss.  No privileges needed;
 * the output is the same on every run for the same options. udp-echo-server --tap IFNAME --addr
 * A.B.C.D/N [--gw G] [--mac M] [-p PORT]
 *                   [-c N] [-W S]
 *       The stack on a TAP device with the real clock (needs CAP_NET_ADMIN;
 *       the live test runs it inside a network namespace it creates and
 *       sends it datagrams from the Linux kernel): serves until N datagrams
 *       were echoed (0: no limit) or nothing came for S seconds (0: never).
 *
 * What it shows: us_bind() to INADDR_ANY with SO_REUSEADDR, us_recvfrom()
 * telling each client apart by its address, us_sendto() back to it,
 * us_poll() waiting on several sockets (in virtual time it moves the
 * clock), and unbound client sockets bound implicitly by their first
 * us_sendto() (us_getsockname shows the ephemeral port).  Exits 0 only when
 * what it shows happened: every datagram echoed back intact (simulated), at
 * least one datagram, or N, echoed (TAP).
 */
#include "inet-host.h"

#include <math.h>
#include <poll.h>

#define MAX_CLIENTS 16

typedef struct {
	gint port, count, clients, retries;
	double idle, loss;
	char *tap, *addr, *gw, *mac;
} Opts;

/* What the server did. */
typedef struct {
	int fd;
	guint echoed;
	guint64 bytes;
	GHashTable *peers; /* "address:port" of every client seen */
} Server;

static UsWorld *world;

static double
now_ms(void)
{
	return (double)us_world_now(world) / 1e6;
}

static int
server_open(UsStack *stack, int port)
{
	int fd = us_socket(stack, AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		host_die("socket");
	int on = 1;
	if (us_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
		host_die("setsockopt SO_REUSEADDR");
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (us_bind(fd, (struct sockaddr *)&any, sizeof any) < 0)
		host_die("bind");
	printf("udp-echo-server: listening on 0.0.0.0:%d\n", port);
	return fd;
}

/* Echoes what waits, noting who sent it. */
static void
server_step(Server *s)
{
	static char buf[65536];
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = us_recvfrom(s->fd, buf, sizeof buf, MSG_DONTWAIT,
					(struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			host_die("recvfrom");
		}
		char src[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &from.sin_addr, src, sizeof src);
		char *peer = g_strdup_printf("%s:%u", src, ntohs(from.sin_port));
		if (us_sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) < 0) {
			printf("server: sendto %s: %s\n", peer, g_strerror(errno));
			g_free(peer);
			continue;
		}
		printf("server: echoed %zd bytes to %s\n", n, peer);
		g_hash_table_add(s->peers, peer);
		s->echoed++;
		s->bytes += (guint64)n;
	}
}

static void
server_summary(const Server *s, int port)
{
	printf("\n--- udp echo server 0.0.0.0:%d ---\n", port);
	printf("%u datagrams echoed (%" G_GUINT64_FORMAT " bytes) to %u clients\n", s->echoed,
	       s->bytes, g_hash_table_size(s->peers));
}

/* ------------------------------------------------------------------ */
/* On a TAP                                                           */
/* ------------------------------------------------------------------ */

static int
serve_tap(Server *s, const Opts *o)
{
	double last = now_ms();
	while (o->count == 0 || s->echoed < (guint)o->count) {
		int wait = -1;
		if (o->idle > 0) {
			double left = last + o->idle * 1000 - now_ms();
			if (left <= 0)
				break;
			wait = (int)ceil(left);
		}
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		int r = us_poll(&p, 1, wait);
		if (r < 0)
			host_die("poll");
		if (r == 0)
			continue;
		guint before = s->echoed;
		server_step(s);
		if (s->echoed > before)
			last = now_ms();
	}
	if (o->idle > 0 && (o->count == 0 || s->echoed < (guint)o->count))
		printf("server: nothing for %g s, stopping\n", o->idle);
	return s->echoed > 0 && (o->count == 0 || s->echoed >= (guint)o->count) ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* Simulated: host A's clients                                        */
/* ------------------------------------------------------------------ */

typedef struct {
	int fd[MAX_CLIENTS];
	guint8 *done; /* per datagram: its echo came back intact */
	guint left;   /* datagrams without their echo */
	guint bad;    /* echoes that were not what was sent */
} Clients;

/* Datagram i (sent by client i % K): a line of text, then a pattern. */
static size_t
datagram(char *p, int i, int clients)
{
	int n = g_snprintf(p, 64, "datagram %d from client %d\n", i + 1, i % clients + 1);
	for (int k = 0; k < 24; k++)
		p[n + k] = (char)('a' + (i + k) % 26);
	return (size_t)n + 24;
}

static void
clients_send_missing(Clients *c, const Opts *o, const struct sockaddr_in *to)
{
	char d[128];
	for (int i = 0; i < o->count; i++) {
		if (c->done[i])
			continue;
		size_t len = datagram(d, i, o->clients);
		int fd = c->fd[i % o->clients];
		if (us_sendto(fd, d, len, 0, (const struct sockaddr *)to, sizeof *to) < 0)
			printf("client %d: sendto: %s\n", i % o->clients + 1, g_strerror(errno));
	}
}

/* Is (buf, n) the echo of a datagram client k sent?  Its index, or -1. */
static int
echo_index(const char *buf, ssize_t n, const Opts *o, int k)
{
	char want[128];
	int i = 0, from = 0;
	if (sscanf(buf, "datagram %d from client %d", &i, &from) != 2 || i < 1 || i > o->count ||
	    from != k + 1)
		return -1;
	size_t wl = datagram(want, i - 1, o->clients);
	return (size_t)n == wl && memcmp(buf, want, wl) == 0 ? i - 1 : -1;
}

/* Client k takes what waits and checks it against what it sent. */
static void
clients_receive(Clients *c, const Opts *o, int k)
{
	char buf[256];
	ssize_t n;
	while ((n = us_recv(c->fd[k], buf, sizeof buf - 1, MSG_DONTWAIT)) >= 0) {
		buf[n] = '\0';
		int i = echo_index(buf, n, o, k);
		if (i < 0)
			c->bad++;
		else if (!c->done[i]) {
			c->done[i] = 1;
			c->left--;
		}
	}
}

/* Polls the server and every client until all echoes came or the round's
 * time is over. */
static void
run_round(Clients *c, Server *s, const Opts *o)
{
	double deadline = now_ms() + o->idle * 1000;
	struct pollfd p[MAX_CLIENTS + 1];
	while (c->left > 0 && deadline > now_ms()) {
		p[0] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
		for (int k = 0; k < o->clients; k++)
			p[k + 1] = (struct pollfd){ .fd = c->fd[k], .events = POLLIN };
		int r = us_poll(p, (nfds_t)o->clients + 1, (int)ceil(deadline - now_ms()));
		if (r < 0)
			host_die("poll");
		if (r == 0)
			return; /* the round's time, or (virtual time) nothing can happen */
		if (p[0].revents & POLLIN)
			server_step(s);
		for (int k = 0; k < o->clients; k++)
			if (p[k + 1].revents & POLLIN)
				clients_receive(c, o, k);
	}
}

static int
simulated(Server *s, InetHost *a, const Opts *o)
{
	Clients c = { .done = g_new0(guint8, o->count), .left = (guint)o->count };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	inet_pton(AF_INET, "10.0.0.2", &to.sin_addr);
	for (int k = 0; k < o->clients; k++)
		if ((c.fd[k] = us_socket(a->stack, AF_INET, SOCK_DGRAM, 0)) < 0)
			host_die("client socket");
	printf("host A (10.0.0.1): %d clients send %d datagrams to 10.0.0.2:%d\n", o->clients,
	       o->count, o->port);
	for (int round = 0; round <= o->retries && c.left > 0; round++) {
		if (round > 0)
			printf("host A: %u echo%s missing after %g s (lost, or pushed out of ARP's "
			       "queue of 3 while B was resolved), sending again\n",
			       c.left, c.left > 1 ? "es" : "", o->idle);
		clients_send_missing(&c, o, &to);
		run_round(&c, s, o);
	}
	for (int k = 0; k < o->clients; k++) {
		struct sockaddr_in me;
		socklen_t ml = sizeof me;
		if (us_getsockname(c.fd[k], (struct sockaddr *)&me, &ml) < 0)
			host_die("getsockname");
		guint got = 0, sent = 0;
		for (int i = k; i < o->count; i += o->clients) {
			sent++;
			got += c.done[i];
		}
		printf("host A: client %d (port %u): %u of %u echoes intact\n", k + 1,
		       ntohs(me.sin_port), got, sent);
		us_close(c.fd[k]);
	}
	if (c.bad > 0)
		printf("host A: %u echoes were not what was sent\n", c.bad);
	g_free(c.done);
	return c.left == 0 && c.bad == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	Opts o = { .port = 7, .count = -1, .clients = 2, .retries = 5, .idle = -1 };
	GOptionEntry entries[] = {
		{ "port", 'p', 0, G_OPTION_ARG_INT, &o.port, "port to serve (7)", "PORT" },
		{ "count", 'c', 0, G_OPTION_ARG_INT, &o.count,
		  "datagrams (simulated: 6; TAP: stop after N, 0 no limit)", "N" },
		{ "clients", 0, 0, G_OPTION_ARG_INT, &o.clients, "simulated clients (2)", "K" },
		{ "timeout", 'W', 0, G_OPTION_ARG_DOUBLE, &o.idle,
		  "simulated: wait for echoes (1); TAP: stop when idle (10, 0 never)", "S" },
		{ "retries", 'r', 0, G_OPTION_ARG_INT, &o.retries, "simulated rounds again (5)",
		  "N" },
		{ "loss", 0, 0, G_OPTION_ARG_DOUBLE, &o.loss, "simulated loss (0..1)", "P" },
		{ "tap", 0, 0, G_OPTION_ARG_STRING, &o.tap, "run on this TAP device", "IFNAME" },
		{ "addr", 0, 0, G_OPTION_ARG_STRING, &o.addr, "our address on the TAP", "A/N" },
		{ "gw", 0, 0, G_OPTION_ARG_STRING, &o.gw, "default gateway on the TAP", "G" },
		{ "mac", 0, 0, G_OPTION_ARG_STRING, &o.mac, "our MAC on the TAP", "MAC" },
		{ NULL },
	};
	GOptionContext *ctx = g_option_context_new("- UDP echo server on a ustreams stack");
	g_option_context_add_main_entries(ctx, entries, NULL);
	GError *error = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "udp-echo-server: %s\n", error->message);
		return 2;
	}
	g_option_context_free(ctx);
	if (o.count < 0)
		o.count = o.tap != NULL ? 0 : 6;
	if (o.idle < 0)
		o.idle = o.tap != NULL ? 10 : 1;
	if (o.port < 1 || o.port > 65535 || o.clients < 1 || o.clients > MAX_CLIENTS ||
	    o.retries < 0 || o.loss < 0 || o.loss > 1 || (o.tap == NULL && o.idle <= 0) ||
	    (o.tap != NULL && o.addr == NULL)) {
		fprintf(stderr, "udp-echo-server: bad arguments (see --help)\n");
		return 2;
	}
	InetHost a, b;
	Server s = { .peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };
	int rc;
	if (o.tap != NULL) {
		world = us_world_new(US_CLOCK_REAL, 1);
		host_tap(&b, world, o.tap, o.addr, o.gw, o.mac);
		s.fd = server_open(b.stack, o.port);
		rc = serve_tap(&s, &o);
	} else {
		world = us_world_new(US_CLOCK_VIRTUAL, 1);
		host_pair(world, o.loss, &a, &b);
		us_world_advance(world, 10 * US_NSEC_PER_MSEC); /* links up */
		s.fd = server_open(b.stack, o.port);
		rc = simulated(&s, &a, &o);
	}
	server_summary(&s, o.port);
	us_close(s.fd);
	us_world_free(world);
	g_hash_table_destroy(s.peers);
	g_free(o.tap);
	g_free(o.addr);
	g_free(o.gw);
	g_free(o.mac);
	return rc;
}
