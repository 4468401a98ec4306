/* SPDX-License-Identifier: MIT */
/*
 * apps.c -- the small built-in applications a config can start on a stack
 * ("app NAME args"), for demos and tests: ping, udp-echo, udp-send (and the
 * TCP ones once a tcp transport is registered).
 *
 * Theory
 * ------
 * Several apps share one world, so none may block: each is a state machine
 * over non-blocking sockets (SOCK_NONBLOCK, MSG_DONTWAIT), stepped by a world
 * timer every APP_TICK of world time (virtual or real).  A step sends what
 * is due and takes everything that arrived.  Servers (udp-echo, tcp-sink,
 * http-server) are passive: they count as done from the start; the run ends
 * when every active app is done.  Each app ends with a verdict (did what it
 * was asked: replies came, echoes matched) and one report line.
 *
 *   ping DEST [count=4] [interval=1s] [size=56] [ttl=] [timeout=1s]
 *        raw ICMP socket; ok when at least one reply came (as ping(8)).
 *   udp-echo [port=7]
 *        echoes every datagram to its sender.
 *   udp-send DEST:PORT [count=10] [size=64] [interval=10ms] [expect=echo]
 *            [retries=5] [timeout=200ms]
 *        sends count numbered datagrams with a pattern; with expect=echo
 *        each must come back intact, resent after timeout up to retries
 *        times; ok when all did (expect=none: when all were sent).
 *   tcp-sink [port=5001]
 *        accepts connections and reads each to EOF, hashing it (SHA-256).
 *   tcp-source DEST:PORT [bytes=1M]
 *        connects, sends a deterministic pseudo-random stream, shuts its
 *        side down and waits for the peer to close; ok when everything went
 *        and (when a tcp-sink on that port runs in the same world) the
 *        sink read a stream with the same hash.
 *   http-server [port=80] [root=.]
 *        HTTP/1.0 GET of files under root (no "..", "/" is index.html);
 *        other requests get 400/404; one request per connection.
 */
#define G_LOG_DOMAIN "us-config"

#include "cfg-build.h"

#include <ustreams/socket.h>

#include "../modules/ip/inet-cksum.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define APP_TICK (G_GINT64_CONSTANT(1000000)) /* 1 ms */

typedef struct _UsCfgApp UsCfgAppRun;
typedef struct AppOps AppOps;

struct _UsCfgApp {
	const UsCfgApp *cfg;
	UsCfgRun *run;
	UsCfgRunStack *rs;
	const AppOps *ops;
	int fd;
	gboolean passive, done, ok;
	guint64 timer;
	gpointer st; /* the app's own state */
	char *report;
};

struct AppOps {
	const char *name;
	gboolean passive;
	gboolean (*start)(UsCfgAppRun *a, GError **error);
	void (*step)(UsCfgAppRun *a, gint64 now);
	void (*finish)(UsCfgAppRun *a); /* writes a->report; frees a->st */
};

/* ------------------------------------------------------------------ */
/* Arguments                                                          */
/* ------------------------------------------------------------------ */

static const char *
arg(const UsCfgAppRun *a, const char *name)
{
	for (guint i = 0; i < a->cfg->args->len; i++) {
		const UsCfgKv *kv = a->cfg->args->pdata[i];
		if (kv->name != NULL && strcmp(kv->name, name) == 0)
			return kv->value;
	}
	return NULL;
}

static const char *
positional(const UsCfgAppRun *a, guint n)
{
	for (guint i = 0; i < a->cfg->args->len; i++) {
		const UsCfgKv *kv = a->cfg->args->pdata[i];
		if (kv->name == NULL && n-- == 0)
			return kv->value;
	}
	return NULL;
}

static gboolean G_GNUC_PRINTF(3, 4)
	app_fail(const UsCfgAppRun *a, GError **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	char *where = us_cfg_loc_string(a->cfg->loc);
	g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_BUILD, "%s: app %s: %s", where, a->cfg->name,
		    msg);
	g_free(where);
	g_free(msg);
	return FALSE;
}

static guint64
arg_uint(const UsCfgAppRun *a, const char *name, guint64 dflt)
{
	const char *v = arg(a, name);
	guint64 n;
	return v != NULL && us_cfg_parse_size(v, &n) ? n : dflt;
}

static gint64
arg_duration(const UsCfgAppRun *a, const char *name, gint64 dflt)
{
	const char *v = arg(a, name);
	gint64 ns;
	return v != NULL && us_cfg_parse_duration(v, &ns) ? ns : dflt;
}

/* "A.B.C.D[:PORT]" into a sockaddr_in. */
static gboolean
parse_dest(const char *s, struct sockaddr_in *sin, gboolean need_port)
{
	char buf[64];
	if (s == NULL)
		return FALSE;
	g_strlcpy(buf, s, sizeof buf);
	char *colon = strchr(buf, ':');
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	if (colon != NULL) {
		*colon = '\0';
		gint64 port = g_ascii_strtoll(colon + 1, NULL, 10);
		if (port <= 0 || port > 65535)
			return FALSE;
		sin->sin_port = htons((uint16_t)port);
	} else if (need_port) {
		return FALSE;
	}
	return inet_pton(AF_INET, buf, &sin->sin_addr) == 1;
}

static int
app_socket(UsCfgAppRun *a, int type, int proto, GError **error)
{
	a->fd = us_socket(a->rs->stack, AF_INET, type | SOCK_NONBLOCK, proto);
	if (a->fd < 0)
		app_fail(a, error, "socket: %s", g_strerror(errno));
	return a->fd;
}

/* ------------------------------------------------------------------ */
/* ping                                                               */
/* ------------------------------------------------------------------ */

typedef struct {
	struct sockaddr_in dst;
	guint64 count, size;
	gint64 interval, timeout, next, last_sent;
	guint sent, received;
	double rtt_min, rtt_max, rtt_sum;
	gint64 sent_at[65536 / 64];
} Ping;

static gboolean
ping_start(UsCfgAppRun *a, GError **error)
{
	Ping *p = g_new0(Ping, 1);
	a->st = p;
	if (!parse_dest(positional(a, 0), &p->dst, FALSE))
		return app_fail(a, error, "needs a destination address");
	p->count = arg_uint(a, "count", 4);
	p->size = arg_uint(a, "size", 56);
	p->interval = arg_duration(a, "interval", 1000 * APP_TICK);
	p->timeout = arg_duration(a, "timeout", 1000 * APP_TICK);
	if (p->count == 0 || p->count >= G_N_ELEMENTS(p->sent_at) || p->size > 65507)
		return app_fail(a, error, "count must be 1..%zu and size at most 65507",
				G_N_ELEMENTS(p->sent_at) - 1);
	if (app_socket(a, SOCK_RAW, IPPROTO_ICMP, error) < 0)
		return FALSE;
	int ttl = (int)arg_uint(a, "ttl", 0);
	if (ttl > 0 && us_setsockopt(a->fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) < 0)
		return app_fail(a, error, "IP_TTL: %s", g_strerror(errno));
	return TRUE;
}

static void
ping_send(UsCfgAppRun *a, Ping *p, gint64 now)
{
	static uint8_t pkt[65535];
	guint seq = p->sent + 1;
	memset(pkt, 0, 8 + p->size);
	pkt[0] = 8;
	pkt[4] = 0x55;
	pkt[5] = 0x53;
	pkt[6] = (uint8_t)(seq >> 8);
	pkt[7] = (uint8_t)seq;
	for (guint64 i = 0; i < p->size; i++)
		pkt[8 + i] = (uint8_t)(i + 8);
	uint16_t sum = us_cksum(pkt, 8 + p->size);
	memcpy(pkt + 2, &sum, 2);
	if (us_sendto(a->fd, pkt, 8 + p->size, 0, (struct sockaddr *)&p->dst, sizeof p->dst) < 0)
		g_message("ping: sendto: %s", g_strerror(errno));
	p->sent_at[seq] = now;
	p->sent++;
	p->last_sent = now;
	p->next = now + p->interval;
}

static void
ping_take(UsCfgAppRun *a, Ping *p, gint64 now)
{
	uint8_t buf[65536];
	ssize_t n;
	while ((n = us_recv(a->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
		size_t hl = (size_t)(buf[0] & 15) * 4;
		if ((size_t)n < hl + 8 || buf[hl] != 0 || buf[hl + 4] != 0x55 ||
		    buf[hl + 5] != 0x53)
			continue;
		guint seq = ((guint)buf[hl + 6] << 8) | buf[hl + 7];
		if (seq == 0 || seq > p->sent || p->sent_at[seq] < 0)
			continue;
		double rtt = (double)(now - p->sent_at[seq]) / 1e6;
		p->sent_at[seq] = -1; /* a duplicate is not a second reply */
		p->rtt_min = p->received == 0 || rtt < p->rtt_min ? rtt : p->rtt_min;
		p->rtt_max = rtt > p->rtt_max ? rtt : p->rtt_max;
		p->rtt_sum += rtt;
		p->received++;
	}
}

static void
ping_step(UsCfgAppRun *a, gint64 now)
{
	Ping *p = a->st;
	ping_take(a, p, now);
	if (p->sent < p->count && now >= p->next)
		ping_send(a, p, now);
	if (p->sent == p->count && (p->received == p->count || now >= p->last_sent + p->timeout)) {
		a->done = TRUE;
		a->ok = p->received > 0;
	}
}

static void
ping_finish(UsCfgAppRun *a)
{
	Ping *p = a->st;
	char dst[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &p->dst.sin_addr, dst, sizeof dst);
	if (p->received > 0)
		a->report = g_strdup_printf("ping %s: %u sent, %u received, %.0f%% loss, rtt "
					    "min/avg/max %.3f/%.3f/%.3f "
					    "ms",
					    dst, p->sent, p->received,
					    100.0 * (p->sent - p->received) / p->sent, p->rtt_min,
					    p->rtt_sum / p->received, p->rtt_max);
	else
		a->report = g_strdup_printf("ping %s: %u sent, no reply", dst, p->sent);
	g_free(p);
	a->st = NULL;
}

/* ------------------------------------------------------------------ */
/* udp-echo                                                           */
/* ------------------------------------------------------------------ */

typedef struct {
	guint port;
	guint64 datagrams, bytes;
} UdpEcho;

static gboolean
udp_echo_start(UsCfgAppRun *a, GError **error)
{
	UdpEcho *e = g_new0(UdpEcho, 1);
	a->st = e;
	e->port = (guint)arg_uint(a, "port", 7);
	if (e->port == 0 || e->port > 65535)
		return app_fail(a, error, "port must be 1..65535");
	if (app_socket(a, SOCK_DGRAM, 0, error) < 0)
		return FALSE;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)e->port) };
	if (us_bind(a->fd, (struct sockaddr *)&sin, sizeof sin) < 0)
		return app_fail(a, error, "bind port %u: %s", e->port, g_strerror(errno));
	return TRUE;
}

static void
udp_echo_step(UsCfgAppRun *a, gint64 now)
{
	(void)now;
	UdpEcho *e = a->st;
	uint8_t buf[65536];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	ssize_t n;
	while ((n = us_recvfrom(a->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from,
				&fl)) >= 0) {
		if (us_sendto(a->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n) {
			e->datagrams++;
			e->bytes += (guint64)n;
		}
		fl = sizeof from;
	}
}

static void
udp_echo_finish(UsCfgAppRun *a)
{
	UdpEcho *e = a->st;
	a->report = g_strdup_printf("udp-echo port %u: echoed %" G_GUINT64_FORMAT
				    " datagrams (%" G_GUINT64_FORMAT " bytes)",
				    e->port, e->datagrams, e->bytes);
	g_free(e);
	a->st = NULL;
}

/* ------------------------------------------------------------------ */
/* udp-send                                                           */
/* ------------------------------------------------------------------ */

typedef struct {
	struct sockaddr_in dst;
	guint64 count, size, retries;
	gint64 interval, timeout, next;
	gboolean echo;
	guint sent; /* first transmissions */
	guint answered, resent, corrupt;
	gint64 *last; /* per datagram: last send time, -1 once answered */
	guint *tries;
} UdpSend;

static gboolean
udp_send_start(UsCfgAppRun *a, GError **error)
{
	UdpSend *u = g_new0(UdpSend, 1);
	a->st = u;
	if (!parse_dest(positional(a, 0), &u->dst, TRUE))
		return app_fail(a, error, "needs DEST:PORT");
	u->count = arg_uint(a, "count", 10);
	u->size = arg_uint(a, "size", 64);
	u->retries = arg_uint(a, "retries", 5);
	u->interval = arg_duration(a, "interval", 10 * APP_TICK);
	u->timeout = arg_duration(a, "timeout", 200 * APP_TICK);
	const char *ex = arg(a, "expect");
	u->echo = ex == NULL || strcmp(ex, "echo") == 0;
	if (u->count == 0 || u->count > 1000000 || u->size < 4 || u->size > 65507)
		return app_fail(a, error, "count must be 1..1000000 and size 4..65507");
	u->last = g_new0(gint64, u->count);
	u->tries = g_new0(guint, u->count);
	return app_socket(a, SOCK_DGRAM, 0, error) >= 0;
}

static void
udp_send_fill(uint8_t *buf, guint seq, guint64 size)
{
	memcpy(buf, &seq, 4);
	for (guint64 i = 4; i < size; i++)
		buf[i] = (uint8_t)(seq * 31 + i);
}

static void
udp_send_one(UsCfgAppRun *a, UdpSend *u, guint seq, gint64 now)
{
	static uint8_t buf[65536];
	udp_send_fill(buf, seq, u->size);
	(void)us_sendto(a->fd, buf, u->size, 0, (struct sockaddr *)&u->dst, sizeof u->dst);
	u->last[seq] = now;
	u->tries[seq]++;
}

static void
udp_send_take(UsCfgAppRun *a, UdpSend *u)
{
	static uint8_t buf[65536], want[65536];
	ssize_t n;
	while ((n = us_recv(a->fd, buf, sizeof buf, MSG_DONTWAIT)) >= 0) {
		guint seq;
		if ((size_t)n != u->size || (memcpy(&seq, buf, 4), seq >= u->count)) {
			u->corrupt++;
			continue;
		}
		udp_send_fill(want, seq, u->size);
		if (memcmp(buf, want, u->size) != 0) {
			u->corrupt++;
			continue;
		}
		if (u->last[seq] >= 0) {
			u->last[seq] = -1;
			u->answered++;
		}
	}
}

static void
udp_send_step(UsCfgAppRun *a, gint64 now)
{
	UdpSend *u = a->st;
	if (u->echo)
		udp_send_take(a, u);
	if (u->sent < u->count && now >= u->next) {
		udp_send_one(a, u, u->sent++, now);
		u->next = now + u->interval;
	}
	gboolean waiting = FALSE;
	for (guint i = 0; u->echo && i < u->sent; i++) {
		if (u->last[i] < 0)
			continue;
		if (now >= u->last[i] + u->timeout && u->tries[i] <= u->retries) {
			udp_send_one(a, u, i, now);
			u->resent++;
		}
		if (u->tries[i] <= u->retries || now < u->last[i] + u->timeout)
			waiting = TRUE;
	}
	if (u->sent == u->count && !waiting) {
		a->done = TRUE;
		a->ok = !u->echo || u->answered == u->count;
	}
}

static void
udp_send_finish(UsCfgAppRun *a)
{
	UdpSend *u = a->st;
	char dst[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &u->dst.sin_addr, dst, sizeof dst);
	if (u->echo)
		a->report = g_strdup_printf("udp-send %s:%u: %u datagrams of %" G_GUINT64_FORMAT
					    " bytes, %u echoed intact (%u resent, %u bad)",
					    dst, ntohs(u->dst.sin_port), u->sent, u->size,
					    u->answered, u->resent, u->corrupt);
	else
		a->report = g_strdup_printf("udp-send %s:%u: %u datagrams of %" G_GUINT64_FORMAT
					    " bytes sent",
					    dst, ntohs(u->dst.sin_port), u->sent, u->size);
	g_free(u->last);
	g_free(u->tries);
	g_free(u);
	a->st = NULL;
}

/* ------------------------------------------------------------------ */
/* tcp-source and tcp-sink                                            */
/* ------------------------------------------------------------------ */

/* The bytes a tcp-source sends: a deterministic pseudo-random stream
 * (xorshift) so the sink's hash can be checked against the source's. */
static void
tcp_fill(guint64 *state, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		guint64 x = *state;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		*state = x;
		buf[i] = (uint8_t)x;
	}
}

typedef struct {
	struct sockaddr_in dst;
	guint64 bytes, sent, fill;
	gboolean connected, shut, closed;
	int error;
	GChecksum *sum;
	char *hash;
	uint8_t pending[16384];
	size_t plen, poff; /* bytes made but not yet taken by send */
	gint64 started, finished;
} TcpSource;

static gboolean
tcp_source_start(UsCfgAppRun *a, GError **error)
{
	TcpSource *t = g_new0(TcpSource, 1);
	a->st = t;
	if (!parse_dest(positional(a, 0), &t->dst, TRUE))
		return app_fail(a, error, "needs DEST:PORT");
	t->bytes = arg_uint(a, "bytes", 1000000);
	t->fill = 0x9e3779b97f4a7c15ull ^ t->bytes;
	t->sum = g_checksum_new(G_CHECKSUM_SHA256);
	if (app_socket(a, SOCK_STREAM, 0, error) < 0)
		return FALSE;
	t->started = us_world_now(a->run->world);
	if (us_connect(a->fd, (struct sockaddr *)&t->dst, sizeof t->dst) < 0 &&
	    errno != EINPROGRESS)
		return app_fail(a, error, "connect: %s", g_strerror(errno));
	return TRUE;
}

static gboolean
tcp_source_connected(UsCfgAppRun *a, TcpSource *t)
{
	struct pollfd p = { .fd = a->fd, .events = POLLOUT };
	if (us_poll(&p, 1, 0) <= 0)
		return FALSE;
	socklen_t el = sizeof t->error;
	us_getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &t->error, &el);
	if (t->error != 0) {
		a->done = TRUE;
		return FALSE;
	}
	t->connected = TRUE;
	return TRUE;
}

static void
tcp_source_send(UsCfgAppRun *a, TcpSource *t)
{
	while (t->sent < t->bytes) {
		if (t->poff == t->plen) {
			guint64 left = t->bytes - t->sent;
			t->plen = left < sizeof t->pending ? (size_t)left : sizeof t->pending;
			t->poff = 0;
			tcp_fill(&t->fill, t->pending, t->plen);
			g_checksum_update(t->sum, t->pending, t->plen);
		}
		ssize_t n = us_send(a->fd, t->pending + t->poff, t->plen - t->poff, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				t->error = errno;
				a->done = TRUE;
			}
			return;
		}
		t->poff += (size_t)n;
		t->sent += (guint64)n;
	}
}

static void tcp_source_verdict(UsCfgAppRun *a, TcpSource *t);

static void
tcp_source_step(UsCfgAppRun *a, gint64 now)
{
	TcpSource *t = a->st;
	if (!t->connected && !tcp_source_connected(a, t))
		return;
	tcp_source_send(a, t);
	if (a->done)
		return;
	if (t->sent == t->bytes && !t->shut) {
		us_shutdown(a->fd, SHUT_WR); /* FIN: the sink sees EOF */
		t->shut = TRUE;
		t->hash = g_strdup(g_checksum_get_string(t->sum));
	}
	uint8_t buf[512];
	ssize_t n;
	while (t->shut && (n = us_recv(a->fd, buf, sizeof buf, MSG_DONTWAIT)) >= 0) {
		if (n == 0) { /* the sink closed after reading everything */
			t->closed = TRUE;
			t->finished = now;
			a->done = TRUE;
			tcp_source_verdict(a, t);
			return;
		}
	}
}

static void
tcp_source_finish(UsCfgAppRun *a)
{
	TcpSource *t = a->st;
	char dst[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &t->dst.sin_addr, dst, sizeof dst);
	tcp_source_verdict(a, t);
	double secs = (double)(t->finished - t->started) / 1e9;
	if (t->error != 0)
		a->report =
			g_strdup_printf("tcp-source %s:%u: %s after %" G_GUINT64_FORMAT " bytes",
					dst, ntohs(t->dst.sin_port), g_strerror(t->error), t->sent);
	else
		a->report = g_strdup_printf(
			"tcp-source %s:%u: %" G_GUINT64_FORMAT " bytes in %.3f s (%.2f Mbit/s), "
			"sha256 %.16s...%s",
			dst, ntohs(t->dst.sin_port), t->sent, secs,
			secs > 0 ? (double)t->sent * 8 / secs / 1e6 : 0.0,
			t->hash != NULL ? t->hash : "-", a->ok ? ", matches the sink's" : "");
	g_checksum_free(t->sum);
	g_free(t->hash);
	g_free(t);
	a->st = NULL;
}

typedef struct {
	int fd;
	GChecksum *sum;
	guint64 bytes;
} SinkConn;

typedef struct {
	guint port;
	GPtrArray *conns; /* SinkConn* open */
	guint64 total;
	guint done_conns;
	GPtrArray *hashes; /* char*: sha256 of each connection read to EOF */
} TcpSink;

static gboolean
tcp_sink_start(UsCfgAppRun *a, GError **error)
{
	TcpSink *k = g_new0(TcpSink, 1);
	a->st = k;
	k->port = (guint)arg_uint(a, "port", 5001);
	k->conns = g_ptr_array_new();
	k->hashes = g_ptr_array_new_with_free_func(g_free);
	if (app_socket(a, SOCK_STREAM, 0, error) < 0)
		return FALSE;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)k->port) };
	if (us_bind(a->fd, (struct sockaddr *)&sin, sizeof sin) < 0 || us_listen(a->fd, 16) < 0)
		return app_fail(a, error, "listen on port %u: %s", k->port, g_strerror(errno));
	return TRUE;
}

/* Reads what a connection has; FALSE once it ended (EOF or error). */
static gboolean
tcp_sink_read(TcpSink *k, SinkConn *c)
{
	uint8_t buf[16384];
	ssize_t n;
	while ((n = us_recv(c->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
		g_checksum_update(c->sum, buf, (gssize)n);
		c->bytes += (guint64)n;
		k->total += (guint64)n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return TRUE;
	if (n == 0) {
		g_ptr_array_add(k->hashes, g_strdup(g_checksum_get_string(c->sum)));
		k->done_conns++;
	}
	return FALSE;
}

static void
tcp_sink_step(UsCfgAppRun *a, gint64 now)
{
	(void)now;
	TcpSink *k = a->st;
	int fd;
	while ((fd = us_accept4(a->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		SinkConn *c = g_new0(SinkConn, 1);
		c->fd = fd;
		c->sum = g_checksum_new(G_CHECKSUM_SHA256);
		g_ptr_array_add(k->conns, c);
	}
	for (guint i = 0; i < k->conns->len;) {
		SinkConn *c = k->conns->pdata[i];
		if (tcp_sink_read(k, c)) {
			i++;
			continue;
		}
		us_close(c->fd);
		g_checksum_free(c->sum);
		g_free(c);
		g_ptr_array_remove_index(k->conns, i);
	}
}

static void
tcp_sink_finish(UsCfgAppRun *a)
{
	TcpSink *k = a->st;
	a->report = g_strdup_printf(
		"tcp-sink port %u: %u connection(s) read to the end, %" G_GUINT64_FORMAT " bytes",
		k->port, k->done_conns, k->total);
	for (guint i = 0; i < k->conns->len; i++) {
		SinkConn *c = k->conns->pdata[i];
		us_close(c->fd);
		g_checksum_free(c->sum);
		g_free(c);
	}
	g_ptr_array_free(k->conns, TRUE);
	g_ptr_array_free(k->hashes, TRUE);
	g_free(k);
	a->st = NULL;
}

/* A source is ok when it sent everything and, if a tcp-sink on its
 * destination port ran in this world, that sink read the same bytes. */
static void
tcp_source_verdict(UsCfgAppRun *a, TcpSource *t)
{
	a->ok = t->error == 0 && t->closed;
	if (!a->ok || t->hash == NULL)
		return;
	gboolean sinks = FALSE, match = FALSE;
	for (guint i = 0; i < a->run->apps->len; i++) {
		UsCfgAppRun *o = a->run->apps->pdata[i];
		TcpSink *k = o->st;
		if (o->ops == NULL || strcmp(o->ops->name, "tcp-sink") != 0 || k == NULL ||
		    k->port != ntohs(t->dst.sin_port))
			continue;
		sinks = TRUE;
		for (guint j = 0; j < k->hashes->len; j++)
			match |= strcmp(k->hashes->pdata[j], t->hash) == 0;
	}
	if (sinks)
		a->ok = match; /* some sink on that port read exactly what was sent */
}

/* ------------------------------------------------------------------ */
/* http-server                                                        */
/* ------------------------------------------------------------------ */

/* One connection: the request is read up to the blank line, then the
 * answer (header + file) is written as the socket takes it, then closed. */
typedef struct {
	int fd;
	GString *req;
	char *resp; /* header and body */
	gsize rlen, roff;
} HttpConn;

typedef struct {
	guint port;
	char *root;
	GPtrArray *conns;
	guint64 served, not_found, bytes;
} HttpServer;

static gboolean
http_start(UsCfgAppRun *a, GError **error)
{
	HttpServer *h = g_new0(HttpServer, 1);
	a->st = h;
	h->port = (guint)arg_uint(a, "port", 80);
	const char *root = arg(a, "root");
	h->root = g_strdup(root != NULL ? root : ".");
	h->conns = g_ptr_array_new();
	if (app_socket(a, SOCK_STREAM, 0, error) < 0)
		return FALSE;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h->port) };
	if (us_bind(a->fd, (struct sockaddr *)&sin, sizeof sin) < 0 || us_listen(a->fd, 16) < 0)
		return app_fail(a, error, "listen on port %u: %s", h->port, g_strerror(errno));
	return TRUE;
}

/* The answer to a request line "GET /path HTTP/1.x" (HTTP/1.0, RFC 1945). */
static char *
http_answer(HttpServer *h, const char *req, gsize *len)
{
	char method[8] = "", path[512] = "";
	char *body = NULL;
	gsize blen = 0;
	const char *status = "400 Bad Request";
	if (sscanf(req, "%7s %511s", method, path) == 2 && strcmp(method, "GET") == 0) {
		status = "404 Not Found";
		if (path[0] == '/' && strstr(path, "..") == NULL) {
			char *file =
				g_build_filename(h->root, path[1] ? path + 1 : "index.html", NULL);
			if (g_file_get_contents(file, &body, &blen, NULL))
				status = "200 OK";
			g_free(file);
		}
	}
	if (body == NULL) {
		h->not_found++;
		body = g_strdup_printf("%s\n", status);
		blen = strlen(body);
	} else {
		h->served++;
		h->bytes += blen;
	}
	GString *r = g_string_new(NULL);
	g_string_append_printf(r,
			       "HTTP/1.0 %s\r\nContent-Length: %" G_GSIZE_FORMAT
			       "\r\nContent-Type: application/octet-stream\r\n\r\n",
			       status, blen);
	g_string_append_len(r, body, (gssize)blen);
	g_free(body);
	*len = r->len;
	return g_string_free(r, FALSE);
}

/* Moves a connection along; FALSE when it is finished. */
static gboolean
http_conn_step(HttpServer *h, HttpConn *c)
{
	char buf[2048];
	ssize_t n;
	while (c->resp == NULL && (n = us_recv(c->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
		g_string_append_len(c->req, buf, n);
		if (strstr(c->req->str, "\r\n\r\n") != NULL || strstr(c->req->str, "\n\n") != NULL)
			c->resp = http_answer(h, c->req->str, &c->rlen);
		else if (c->req->len > 8192)
			return FALSE;
	}
	if (c->resp == NULL)
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	while (c->roff < c->rlen) {
		n = us_send(c->fd, c->resp + c->roff, c->rlen - c->roff, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		c->roff += (gsize)n;
	}
	return FALSE;
}

static void
http_conn_free(HttpConn *c)
{
	us_close(c->fd);
	g_string_free(c->req, TRUE);
	g_free(c->resp);
	g_free(c);
}

static void
http_step(UsCfgAppRun *a, gint64 now)
{
	(void)now;
	HttpServer *h = a->st;
	int fd;
	while ((fd = us_accept4(a->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		HttpConn *c = g_new0(HttpConn, 1);
		c->fd = fd;
		c->req = g_string_new(NULL);
		g_ptr_array_add(h->conns, c);
	}
	for (guint i = 0; i < h->conns->len;) {
		if (http_conn_step(h, h->conns->pdata[i])) {
			i++;
			continue;
		}
		http_conn_free(h->conns->pdata[i]);
		g_ptr_array_remove_index(h->conns, i);
	}
}

static void
http_finish(UsCfgAppRun *a)
{
	HttpServer *h = a->st;
	a->report = g_strdup_printf("http-server port %u (%s): %" G_GUINT64_FORMAT
				    " file(s) served (%" G_GUINT64_FORMAT
				    " bytes), %" G_GUINT64_FORMAT " refused",
				    h->port, h->root, h->served, h->bytes, h->not_found);
	for (guint i = 0; i < h->conns->len; i++)
		http_conn_free(h->conns->pdata[i]);
	g_ptr_array_free(h->conns, TRUE);
	g_free(h->root);
	g_free(h);
	a->st = NULL;
}

/* ------------------------------------------------------------------ */
/* The table and the runner                                           */
/* ------------------------------------------------------------------ */

static const AppOps app_table[] = {
	{ "ping", FALSE, ping_start, ping_step, ping_finish },
	{ "udp-echo", TRUE, udp_echo_start, udp_echo_step, udp_echo_finish },
	{ "udp-send", FALSE, udp_send_start, udp_send_step, udp_send_finish },
	{ "tcp-source", FALSE, tcp_source_start, tcp_source_step, tcp_source_finish },
	{ "tcp-sink", TRUE, tcp_sink_start, tcp_sink_step, tcp_sink_finish },
	{ "http-server", TRUE, http_start, http_step, http_finish },
};

static void
app_tick(gpointer data)
{
	UsCfgAppRun *a = data;
	a->timer = 0;
	if (a->run->stop || a->st == NULL)
		return;
	gint64 now = us_world_now(a->run->world);
	if (!a->done || a->passive)
		a->ops->step(a, now);
	if (!a->done || a->passive)
		a->timer = us_world_timer_add(a->run->world, APP_TICK, app_tick, a);
}

static UsCfgRunStack *
app_stack(UsCfgRun *run, const UsCfgStack *cs)
{
	for (guint i = 0; i < run->stacks->len; i++) {
		UsCfgRunStack *rs = run->stacks->pdata[i];
		if (rs->cfg == cs)
			return rs;
	}
	return NULL;
}

gboolean
us_cfg_apps_create(UsCfgRun *run, GError **error)
{
	for (guint i = 0; i < run->cfg->stacks->len; i++) {
		const UsCfgStack *cs = run->cfg->stacks->pdata[i];
		for (guint j = 0; j < cs->apps->len; j++) {
			UsCfgAppRun *a = g_new0(UsCfgAppRun, 1);
			a->cfg = cs->apps->pdata[j];
			a->run = run;
			a->rs = app_stack(run, cs);
			a->fd = -1;
			g_ptr_array_add(run->apps, a);
			for (guint k = 0; k < G_N_ELEMENTS(app_table); k++)
				if (strcmp(app_table[k].name, a->cfg->name) == 0)
					a->ops = &app_table[k];
			if (a->ops == NULL)
				return app_fail(a, error,
						"unknown app, or its transport is not "
						"available in this build");
			a->passive = a->done = a->ok = a->ops->passive;
			if (!a->ops->start(a, error))
				return FALSE;
			a->timer = us_world_timer_add(run->world, 0, app_tick, a);
		}
	}
	return TRUE;
}

void
us_cfg_apps_free(UsCfgRun *run)
{
	for (guint i = 0; i < run->apps->len; i++) {
		UsCfgAppRun *a = run->apps->pdata[i];
		if (a->timer != 0)
			us_world_timer_cancel(run->world, a->timer);
		if (a->st != NULL && a->ops != NULL)
			a->ops->finish(a);
		else
			g_free(a->st);
		if (a->fd >= 0)
			us_close(a->fd);
		g_free(a->report);
		g_free(a);
	}
	g_ptr_array_free(run->apps, TRUE);
	run->apps = NULL;
}

gboolean
us_cfg_apps_all_done(UsCfgRun *run)
{
	for (guint i = 0; i < run->apps->len; i++) {
		UsCfgAppRun *a = run->apps->pdata[i];
		if (!a->done)
			return FALSE;
	}
	return TRUE;
}

gboolean
us_cfg_apps_ok(UsCfgRun *run)
{
	for (guint i = 0; i < run->apps->len; i++) {
		UsCfgAppRun *a = run->apps->pdata[i];
		if (!a->done || !a->ok)
			return FALSE;
	}
	return TRUE;
}

void
us_cfg_apps_report(UsCfgRun *run, GString *s)
{
	/* Active apps first: their verdicts may look at servers' state. */
	for (int pass = 0; pass < 2; pass++)
		for (guint i = 0; i < run->apps->len; i++) {
			UsCfgAppRun *a = run->apps->pdata[i];
			if (a->report == NULL && a->st != NULL && a->passive == (pass == 1))
				a->ops->finish(a);
		}
	for (guint i = 0; i < run->apps->len; i++) {
		UsCfgAppRun *a = run->apps->pdata[i];
		const char *verdict = a->passive ? ""
				      : !a->done ? "  [NOT DONE]"
				      : a->ok    ? "  [ok]"
						 : "  [FAILED]";
		g_string_append_printf(s, "  %s: %s%s\n", a->rs->cfg->name,
				       a->report != NULL ? a->report : a->cfg->name, verdict);
	}
}
