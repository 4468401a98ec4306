/* SPDX-License-Identifier: MIT */
/*
 * ping -- ICMP echo over a raw socket (SOCK_RAW, IPPROTO_ICMP), the way
 * ping(8) does it, on a ustreams stack.
 *
 *   ping [-c N] [-i S] [-s BYTES] [-t TTL] [-W S] [--router] [--loss P] [DEST]
 *       A simulated world in virtual time: host A pings DEST, by default
 *       host B on the same wire (10.0.0.2), or with --router host B behind
 *       a router (10.0.2.1; A is 10.0.1.1).  No privileges needed; the
 *       output is the same on every run for the same options.
 *   ping --tap IFNAME --addr A.B.C.D/N [--gw G] [--mac M] [-c N] ... DEST
 *       The stack on a TAP device with the real clock (needs CAP_NET_ADMIN;
 *       tests run it inside a network namespace they create).
 *
 * What it shows: us_socket() opening the raw transport ("icmp" in the
 * transport table), us_setsockopt() (IP_TTL, SO_RCVTIMEO), us_sendto() of an
 * echo request the program builds, us_recvfrom() of datagrams that begin
 * with the IP header (as on Linux), and ICMP errors (time exceeded,
 * unreachable) reported like ping(8) does.
 */
#include "inet-host.h"

#include "../modules/ip/inet-cksum.h"

#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ustreams/socket.h>

typedef struct {
	gint count, size, ttl;
	double interval, timeout, loss;
	gboolean router;
	char *tap, *addr, *gw, *mac;
	const char *dest;
} Opts;

static UsWorld *world;

static double
now_ms(void)
{
	return (double)us_world_now(world) / 1e6;
}

/* Lets time pass: the world runs (in virtual time it jumps). */
static void
pause_ms(double ms)
{
	if (us_world_clock_kind(world) == US_CLOCK_VIRTUAL)
		us_world_advance(world, (gint64)(ms * 1e6));
	else
		g_usleep((gulong)(ms * 1000));
}

static size_t
build_echo(uint8_t *p, uint16_t id, uint16_t seq, int size)
{
	memset(p, 0, 8);
	p[0] = 8; /* echo request */
	p[4] = (uint8_t)(id >> 8);
	p[5] = (uint8_t)id;
	p[6] = (uint8_t)(seq >> 8);
	p[7] = (uint8_t)seq;
	double t = now_ms();
	for (int i = 0; i < size; i++)
		p[8 + i] = (uint8_t)(i + 8);
	if (size >= (int)sizeof t)
		memcpy(p + 8, &t, sizeof t); /* send time, as ping(8) does */
	uint16_t sum = us_cksum(p, 8 + (size_t)size);
	memcpy(p + 2, &sum, 2);
	return 8 + (size_t)size;
}

static const char *
icmp_error_text(uint8_t type, uint8_t code)
{
	if (type == 11)
		return "Time to live exceeded";
	static const char *const unreach[] = { "Destination Net Unreachable",
					       "Destination Host Unreachable",
					       "Destination Protocol Unreachable",
					       "Destination Port Unreachable",
					       "Frag needed and DF set" };
	if (type == 3 && code < G_N_ELEMENTS(unreach))
		return unreach[code];
	return "Error";
}

typedef struct {
	guint sent, received, errors;
	double min, max, sum, sum2;
} Stats;

/* Waits for the reply to seq (or an error about it) until the timeout;
 * prints it.  Returns TRUE when a reply came. */
static gboolean
await_reply(int fd, uint16_t id, uint16_t seq, const Opts *o, Stats *st)
{
	double deadline = now_ms() + o->timeout * 1000;
	uint8_t buf[65536];
	while (now_ms() < deadline) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = us_recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EDEADLK)
				return FALSE; /* SO_RCVTIMEO, or nothing can ever come */
			host_die("recvfrom");
		}
		size_t hl = (size_t)(buf[0] & 15) * 4;
		if ((size_t)n < hl + 8)
			continue;
		const uint8_t *ic = buf + hl;
		char src[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &from.sin_addr, src, sizeof src);
		if (ic[0] == 0 && ((ic[4] << 8) | ic[5]) == id && ((ic[6] << 8) | ic[7]) == seq) {
			double sent = 0, rtt = 0;
			if ((size_t)n >= hl + 8 + sizeof sent) {
				memcpy(&sent, ic + 8, sizeof sent);
				rtt = now_ms() - sent;
			}
			printf("%zu bytes from %s: icmp_seq=%u ttl=%u time=%.3f ms\n",
			       (size_t)n - hl, src, seq, buf[8], rtt);
			st->received++;
			st->min = st->received == 1 || rtt < st->min ? rtt : st->min;
			st->max = rtt > st->max ? rtt : st->max;
			st->sum += rtt;
			st->sum2 += rtt * rtt;
			return TRUE;
		}
		if ((ic[0] == 3 || ic[0] == 11) && (size_t)n >= hl + 8 + 28) {
			const uint8_t *q = ic + 8; /* the quoted datagram */
			const uint8_t *qi = q + (size_t)(q[0] & 15) * 4;
			if (((qi[4] << 8) | qi[5]) == id && ((qi[6] << 8) | qi[7]) == seq) {
				printf("From %s icmp_seq=%u %s\n", src, seq,
				       icmp_error_text(ic[0], ic[1]));
				st->errors++;
				return FALSE;
			}
		}
	}
	return FALSE;
}

static void
print_summary(const char *dest, const Stats *st, double elapsed)
{
	printf("\n--- %s ping statistics ---\n", dest);
	printf("%u packets transmitted, %u received, ", st->sent, st->received);
	if (st->errors > 0)
		printf("+%u errors, ", st->errors);
	printf("%.0f%% packet loss, time %.0fms\n",
	       st->sent ? 100.0 * (st->sent - st->received) / st->sent : 0.0, elapsed);
	if (st->received > 0) {
		double avg = st->sum / st->received;
		double mdev = sqrt(fmax(0.0, st->sum2 / st->received - avg * avg));
		printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", st->min, avg, st->max,
		       mdev);
	}
}

static int
ping(UsStack *stack, const Opts *o)
{
	int fd = us_socket(stack, AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0)
		host_die("socket");
	if (o->ttl > 0 && us_setsockopt(fd, IPPROTO_IP, IP_TTL, &o->ttl, sizeof o->ttl) < 0)
		host_die("setsockopt IP_TTL");
	struct timeval tv = { .tv_sec = (time_t)o->timeout,
			      .tv_usec = (suseconds_t)((o->timeout - floor(o->timeout)) * 1e6) };
	if (us_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
		host_die("setsockopt SO_RCVTIMEO");
	struct sockaddr_in to = { .sin_family = AF_INET };
	if (inet_pton(AF_INET, o->dest, &to.sin_addr) != 1) {
		fprintf(stderr, "ping: %s: not an IPv4 address\n", o->dest);
		return 2;
	}
	printf("PING %s (%s) %d(%d) bytes of data.\n", o->dest, o->dest, o->size, o->size + 28);
	uint16_t id = 0x5553; /* "US"; fixed so runs are identical */
	Stats st = { 0 };
	double start = now_ms();
	static uint8_t pkt[65536];
	for (int seq = 1; o->count <= 0 || seq <= o->count; seq++) {
		double t0 = now_ms();
		size_t len = build_echo(pkt, id, (uint16_t)seq, o->size);
		if (us_sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
			printf("ping: sendto: %s\n", g_strerror(errno));
		} else {
			st.sent++;
			await_reply(fd, id, (uint16_t)seq, o, &st);
		}
		double left = o->interval * 1000 - (now_ms() - t0);
		if (left > 0 && (o->count <= 0 || seq < o->count))
			pause_ms(left);
	}
	print_summary(o->dest, &st, now_ms() - start);
	us_close(fd);
	return st.received > 0 ? 0 : 1;
}

/* Two hosts on a wire, or A -- router -- B; returns A. */
static InetHost
simulated(const Opts *o)
{
	static InetHost a, b, r;
	char loss[32], *wire_params[] = { "delay", "250000", "loss", loss, NULL };
	g_snprintf(loss, sizeof loss, "%g", o->loss);
	host_new(&a, world, "A");
	host_new(&b, world, "B");
	if (!o->router) {
		host_iface(&a, "wire", "ab", (const char *const *)wire_params, "02:00:00:00:00:0a",
			   "eth0", "10.0.0.1/24");
		host_iface(&b, "wire", "ab", (const char *const *)wire_params, "02:00:00:00:00:0b",
			   "eth0", "10.0.0.2/24");
		return a;
	}
	host_new(&r, world, "R");
	host_iface(&a, "wire", "ar", (const char *const *)wire_params, "02:00:00:00:00:0a", "eth0",
		   "10.0.1.1/24");
	host_iface(&r, "wire", "ar", (const char *const *)wire_params, "02:00:00:00:01:01", "eth0",
		   "10.0.1.254/24");
	host_iface(&r, "wire", "rb", (const char *const *)wire_params, "02:00:00:00:01:02", "eth1",
		   "10.0.2.254/24");
	host_iface(&b, "wire", "rb", (const char *const *)wire_params, "02:00:00:00:00:0b", "eth0",
		   "10.0.2.1/24");
	host_route(&a, "0.0.0.0/0", "10.0.1.254");
	host_route(&b, "0.0.0.0/0", "10.0.2.254");
	host_forwarding(&r);
	return a;
}

int
main(int argc, char **argv)
{
	Opts o = { .count = 4, .size = 56, .interval = 1.0, .timeout = 1.0 };
	GOptionEntry entries[] = {
		{ "count", 'c', 0, G_OPTION_ARG_INT, &o.count, "stop after N replies", "N" },
		{ "interval", 'i', 0, G_OPTION_ARG_DOUBLE, &o.interval, "seconds between", "S" },
		{ "size", 's', 0, G_OPTION_ARG_INT, &o.size, "data bytes (56)", "BYTES" },
		{ "ttl", 't', 0, G_OPTION_ARG_INT, &o.ttl, "IP time to live", "TTL" },
		{ "timeout", 'W', 0, G_OPTION_ARG_DOUBLE, &o.timeout, "wait for a reply", "S" },
		{ "router", 0, 0, G_OPTION_ARG_NONE, &o.router, "simulate A -- router -- B", NULL },
		{ "loss", 0, 0, G_OPTION_ARG_DOUBLE, &o.loss, "simulated loss (0..1)", "P" },
		{ "tap", 0, 0, G_OPTION_ARG_STRING, &o.tap, "run on this TAP device", "IFNAME" },
		{ "addr", 0, 0, G_OPTION_ARG_STRING, &o.addr, "our address on the TAP", "A/N" },
		{ "gw", 0, 0, G_OPTION_ARG_STRING, &o.gw, "default gateway on the TAP", "G" },
		{ "mac", 0, 0, G_OPTION_ARG_STRING, &o.mac, "our MAC on the TAP", "MAC" },
		{ NULL },
	};
	GOptionContext *ctx = g_option_context_new("[DEST] - ICMP echo from a ustreams stack");
	g_option_context_add_main_entries(ctx, entries, NULL);
	GError *error = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "ping: %s\n", error->message);
		return 2;
	}
	g_option_context_free(ctx);
	if (o.size < 0 || o.size > 65507 || o.interval < 0 || o.timeout <= 0 ||
	    (o.tap != NULL && (o.addr == NULL || argc < 2))) {
		fprintf(stderr, "ping: bad arguments (see --help)\n");
		return 2;
	}
	o.dest = argc > 1 ? argv[1] : o.router ? "10.0.2.1" : "10.0.0.2";
	InetHost a;
	if (o.tap != NULL) {
		world = us_world_new(US_CLOCK_REAL, 1);
		host_new(&a, world, "host");
		static const char *const up[] = { NULL };
		host_iface(&a, "tap", o.tap, up, o.mac ? o.mac : "02:00:5e:00:00:01", "tap0",
			   o.addr);
		if (o.gw != NULL)
			host_route(&a, "0.0.0.0/0", o.gw);
	} else {
		world = us_world_new(US_CLOCK_VIRTUAL, 1);
		a = simulated(&o);
		pause_ms(10); /* links up, addresses announced */
	}
	int rc = ping(a.stack, &o);
	us_world_free(world);
	g_free(o.tap);
	g_free(o.addr);
	g_free(o.gw);
	g_free(o.mac);
	return rc;
}
