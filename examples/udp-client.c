/* SPDX-License-Identifier: MIT */
/*
 * udp-client -- a UDP echo client (RFC 862) on a ustreams stack: sends
 * numbered datagrams to an echo server and waits for each to come back
 * byte for byte, sending again after a timeout.
 *
 *   udp-client [-c N] [-s BYTES] [-i S] [-W S] [-r N] [-p PORT] [--loss P] [DEST]
 *       A simulated world in virtual time: host A (10.0.0.1) is the client;
 *       host B (10.0.0.2, the default DEST) on the same wire runs an echo
 *       socket that this program serves between its own calls.  No
 *       privileges needed; the output is the same on every run for the
 *       same options.
 *   udp-client --tap IFNAME --addr A.B.C.D/N [--gw G] [--mac M] ... DEST
 *       The stack on a TAP device with the real clock (needs CAP_NET_ADMIN;
 *       the live test runs it inside a network namespace it creates,
 *       against an echo server of the Linux kernel).
 *
 * What it shows: us_socket(AF_INET, SOCK_DGRAM) opening the udp transport,
 * us_connect() choosing the source address and an ephemeral port
 * (us_getsockname), us_send()/us_recv() on the connected socket, us_poll()
 * waiting on the client and the server socket at once (in virtual time it
 * moves the clock), ICMP port unreachable surfacing as ECONNREFUSED, and
 * retries when the wire loses datagrams (--loss).  Exits 0 only when every
 * datagram came back intact.
 */
#include "inet-host.h"

#include <math.h>
#include <poll.h>

typedef struct {
	gint count, size, retries, port;
	double interval, timeout, loss;
	char *tap, *addr, *gw, *mac;
	const char *dest;
} Opts;

typedef struct {
	const Opts *o;
	int fd;     /* the client socket, connected to the server */
	int server; /* simulated mode: B's echo socket; -1 on a TAP */
	guint sent, echoed, retried, errors, late;
	double min, max, sum;
} Client;

static UsWorld *world;

static double
now_ms(void)
{
	return (double)us_world_now(world) / 1e6;
}

/* Lets ms pass, serving B's echo socket meanwhile when there is one. */
static void
idle_ms(Client *c, double ms)
{
	double end = now_ms() + ms;
	if (c->server < 0) {
		if (us_world_clock_kind(world) == US_CLOCK_VIRTUAL)
			us_world_advance(world, (gint64)(ms * 1e6));
		else
			g_usleep((gulong)(ms * 1000));
		return;
	}
	for (double left = ms; left > 0; left = end - now_ms()) {
		struct pollfd p = { .fd = c->server, .events = POLLIN };
		if (us_poll(&p, 1, (int)ceil(left)) <= 0)
			break;
		host_udp_echo(c->server, NULL, NULL);
	}
}

/* Datagram seq, attempt: both numbers, the send time when it fits, then a
 * pattern; size bytes. */
static void
build(uint8_t *p, size_t size, uint32_t seq, uint32_t attempt)
{
	uint32_t be[2] = { htonl(seq), htonl(attempt) };
	memcpy(p, be, sizeof be);
	for (size_t i = 8; i < size; i++)
		p[i] = (uint8_t)(i * 7 + seq);
	double t = now_ms();
	if (size >= 8 + sizeof t)
		memcpy(p + 8, &t, sizeof t);
}

/* Waits (the timeout at most) for the echo of the datagram just sent, (d,
 * len), serving B meanwhile.  0: it came (*rtt set); ETIMEDOUT; or the
 * errno of the receive (ECONNREFUSED: port unreachable came back). */
static int
await_echo(Client *c, const uint8_t *d, size_t len, double *rtt)
{
	static uint8_t buf[65536];
	double deadline = now_ms() + c->o->timeout * 1000;
	for (double left = deadline - now_ms(); left > 0; left = deadline - now_ms()) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
				       { .fd = c->server, .events = POLLIN } };
		int r = us_poll(p, c->server >= 0 ? 2 : 1, (int)ceil(left));
		if (r < 0)
			host_die("poll");
		if (r == 0)
			break; /* the timeout, or (virtual time) nothing can happen */
		if (c->server >= 0 && (p[1].revents & POLLIN))
			host_udp_echo(c->server, NULL, NULL);
		if (!(p[0].revents & (POLLIN | POLLERR)))
			continue;
		ssize_t n = us_recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			return errno;
		if (n == (ssize_t)len && memcmp(buf, d, len) == 0) {
			double sent = now_ms();
			if (len >= 8 + sizeof sent)
				memcpy(&sent, d + 8, sizeof sent);
			*rtt = now_ms() - sent;
			return 0;
		}
		if (n >= 0)
			c->late++; /* the echo of an earlier attempt, or a stranger */
	}
	return ETIMEDOUT;
}

/* Sends datagram seq until its echo comes or the retries are spent. */
static void
exchange(Client *c, uint32_t seq)
{
	static uint8_t d[65536];
	for (int attempt = 0; attempt <= c->o->retries; attempt++) {
		size_t len = (size_t)c->o->size;
		build(d, len, seq, (uint32_t)attempt);
		if (attempt > 0)
			c->retried++;
		if (us_send(c->fd, d, len, 0) < 0) {
			printf("seq=%u: send: %s\n", seq, g_strerror(errno));
			c->errors++;
			continue;
		}
		c->sent++;
		double rtt = 0;
		int e = await_echo(c, d, len, &rtt);
		if (e == 0) {
			printf("%zu bytes from %s:%d: seq=%u time=%.3f ms\n", len, c->o->dest,
			       c->o->port, seq, rtt);
			c->echoed++;
			c->min = c->echoed == 1 || rtt < c->min ? rtt : c->min;
			c->max = rtt > c->max ? rtt : c->max;
			c->sum += rtt;
			return;
		}
		if (e != ETIMEDOUT)
			c->errors++;
		printf("seq=%u: %s%s\n", seq, e == ETIMEDOUT ? "no echo in time" : g_strerror(e),
		       attempt < c->o->retries ? ", sending again" : ", giving up");
	}
}

static int
run(UsStack *stack, int server, const Opts *o)
{
	Client c = { .o = o, .server = server };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	if (inet_pton(AF_INET, o->dest, &to.sin_addr) != 1) {
		fprintf(stderr, "udp-client: %s: not an IPv4 address\n", o->dest);
		return 2;
	}
	c.fd = us_socket(stack, AF_INET, SOCK_DGRAM, 0);
	if (c.fd < 0)
		host_die("socket");
	if (us_connect(c.fd, (struct sockaddr *)&to, sizeof to) < 0)
		host_die("connect");
	struct sockaddr_in me;
	socklen_t ml = sizeof me;
	if (us_getsockname(c.fd, (struct sockaddr *)&me, &ml) < 0)
		host_die("getsockname");
	char mine[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &me.sin_addr, mine, sizeof mine);
	printf("UDP ECHO %s:%d from %s:%u, %d datagrams of %d bytes\n", o->dest, o->port, mine,
	       ntohs(me.sin_port), o->count, o->size);
	double start = now_ms();
	for (int seq = 1; seq <= o->count; seq++) {
		exchange(&c, (uint32_t)seq);
		if (seq < o->count)
			idle_ms(&c, o->interval * 1000);
	}
	printf("\n--- %s:%d udp echo statistics ---\n", o->dest, o->port);
	printf("%d datagrams, %u echoed, %u sent (%u retries), %u errors, %u late, time %.0fms\n",
	       o->count, c.echoed, c.sent, c.retried, c.errors, c.late, now_ms() - start);
	if (c.echoed > 0)
		printf("rtt min/avg/max = %.3f/%.3f/%.3f ms\n", c.min, c.sum / c.echoed, c.max);
	us_close(c.fd);
	return c.echoed == (guint)o->count ? 0 : 1;
}

/* B's echo socket in the simulated world. */
static int
echo_socket(InetHost *b, int port)
{
	int fd = us_socket(b->stack, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (fd < 0 || us_bind(fd, (struct sockaddr *)&any, sizeof any) < 0)
		host_die("echo socket");
	return fd;
}

int
main(int argc, char **argv)
{
	Opts o = { .count = 4, .size = 32, .retries = 3, .port = 7, .interval = 0.2, .timeout = 1 };
	GOptionEntry entries[] = {
		{ "count", 'c', 0, G_OPTION_ARG_INT, &o.count, "datagrams to echo (4)", "N" },
		{ "size", 's', 0, G_OPTION_ARG_INT, &o.size, "bytes per datagram (32)", "BYTES" },
		{ "interval", 'i', 0, G_OPTION_ARG_DOUBLE, &o.interval, "seconds between", "S" },
		{ "timeout", 'W', 0, G_OPTION_ARG_DOUBLE, &o.timeout, "wait for an echo", "S" },
		{ "retries", 'r', 0, G_OPTION_ARG_INT, &o.retries, "sends again (3)", "N" },
		{ "port", 'p', 0, G_OPTION_ARG_INT, &o.port, "server port (7)", "PORT" },
		{ "loss", 0, 0, G_OPTION_ARG_DOUBLE, &o.loss, "simulated loss (0..1)", "P" },
		{ "tap", 0, 0, G_OPTION_ARG_STRING, &o.tap, "run on this TAP device", "IFNAME" },
		{ "addr", 0, 0, G_OPTION_ARG_STRING, &o.addr, "our address on the TAP", "A/N" },
		{ "gw", 0, 0, G_OPTION_ARG_STRING, &o.gw, "default gateway on the TAP", "G" },
		{ "mac", 0, 0, G_OPTION_ARG_STRING, &o.mac, "our MAC on the TAP", "MAC" },
		{ NULL },
	};
	GOptionContext *ctx = g_option_context_new("[DEST] - UDP echo client on a ustreams stack");
	g_option_context_add_main_entries(ctx, entries, NULL);
	GError *error = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "udp-client: %s\n", error->message);
		return 2;
	}
	g_option_context_free(ctx);
	if (o.count < 1 || o.size < 8 || o.size > 65507 || o.retries < 0 || o.port < 1 ||
	    o.port > 65535 || o.interval < 0 || o.timeout <= 0 || o.loss < 0 || o.loss > 1 ||
	    (o.tap != NULL && (o.addr == NULL || argc < 2))) {
		fprintf(stderr, "udp-client: bad arguments (see --help)\n");
		return 2;
	}
	o.dest = argc > 1 ? argv[1] : "10.0.0.2";
	InetHost a, b;
	int server = -1;
	if (o.tap != NULL) {
		world = us_world_new(US_CLOCK_REAL, 1);
		host_tap(&a, world, o.tap, o.addr, o.gw, o.mac);
	} else {
		world = us_world_new(US_CLOCK_VIRTUAL, 1);
		host_pair(world, o.loss, &a, &b);
		us_world_advance(world, 10 * US_NSEC_PER_MSEC); /* links up */
		server = echo_socket(&b, o.port);
	}
	int rc = run(a.stack, server, &o);
	if (server >= 0)
		us_close(server);
	us_world_free(world);
	g_free(o.tap);
	g_free(o.addr);
	g_free(o.gw);
	g_free(o.mac);
	return rc;
}
