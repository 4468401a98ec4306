/* SPDX-License-Identifier: MIT */
/*
 * bench-udp -- UDP through the whole stack, with references measured in the
 * same run:
 *
 *  (a) datagrams per second between two stacks of one process joined by a
 *      wire (A 10.0.0.1 -> B 10.0.0.2, static ARP, virtual time so only CPU
 *      counts), 64-byte and 1472-byte payloads:
 *        - sockets: us_sendto() on A, us_recvfrom() on B, in batches of 64
 *          after which the world is drained;
 *        - TPI: the same through us_putmsg(T_UNITDATA_REQ) and
 *          us_getmsg(T_UNITDATA_IND) on udp streams (no socket library);
 *        - kernel: the same number over two kernel UDP sockets on 127.0.0.1
 *          in this process (loopback only).
 *  (b) UDP echo round trips (64 bytes): the stack's connected socket on a
 *      TAP device against a kernel echo socket, inside a network namespace
 *      this program creates; compared with the kernel answering itself over
 *      a veth pair between two namespaces.  p50 and p99.  Skipped, with a
 *      line saying why, where namespaces cannot be created.
 *
 * Nothing is sent outside namespaces or loopback.  Every loop is bounded.
 *
 * Usage: bench-udp [--quick]
 */
#include <ustreams/socket.h>
#include <ustreams/ustreams.h>

#include "../drivers/wire/wire.h"
#include "../modules/arp/arp.h"
#include "../modules/ether/ether.h"
#include "../modules/ip/ip.h"
#include "bench-pair.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define SA(p) ((struct sockaddr *)(p))

static guint ndgrams = 400000; /* per measurement in (a) */
static guint nrtt = 5000;      /* round trips in (b) */

static gint64
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* (a) two stacks on a wire                                           */
/* ------------------------------------------------------------------ */

/* The operations one measurement needs. */
typedef struct {
	void (*send)(gpointer ctx, const guint8 *d, size_t len);
	gboolean (*recv)(gpointer ctx, guint8 *buf, size_t len); /* FALSE: none waits */
	UsWorld *world; /* run after each batch; NULL for the kernel */
	gpointer ctx;
} Path;

/* n datagrams of len bytes in batches; ns per datagram.  Every datagram
 * must arrive. */
static double
pump(const Path *p, guint n, size_t len)
{
	static guint8 d[2048], r[2048];
	memset(d, 0x5a, len);
	guint got = 0;
	gint64 t0 = now_ns();
	for (guint i = 0; i < n; i += BATCH) {
		for (guint k = 0; k < BATCH; k++)
			p->send(p->ctx, d, len);
		if (p->world != NULL)
			us_world_run_pending(p->world);
		while (p->recv(p->ctx, r, sizeof r))
			got++;
	}
	double ns = (double)(now_ns() - t0) / n;
	if (got != (n + BATCH - 1) / BATCH * BATCH)
		g_warning("%u of %u datagrams arrived", got, n);
	return ns;
}

/* Sockets of the stack. */
typedef struct {
	int a, b;
	struct sockaddr_in to;
} SockCtx;

static void
sock_send(gpointer ctx, const guint8 *d, size_t len)
{
	SockCtx *c = ctx;
	if (us_sendto(c->a, d, len, 0, SA(&c->to), sizeof c->to) != (ssize_t)len)
		g_error("us_sendto: %s", g_strerror(errno));
}

static gboolean
sock_recv(gpointer ctx, guint8 *buf, size_t len)
{
	SockCtx *c = ctx;
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	return us_recvfrom(c->b, buf, len, MSG_DONTWAIT, SA(&from), &fl) >= 0;
}

static double
bench_sockets(size_t len)
{
	Pair p;
	pair_new(&p, "udp");
	SockCtx c = { .to = sin_of("10.0.0.2", 6000) };
	c.a = us_socket(p.s[0], AF_INET, SOCK_DGRAM, 0);
	c.b = us_socket(p.s[1], AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = sin_of("0.0.0.0", 6000);
	if (c.a < 0 || c.b < 0 || us_bind(c.b, SA(&any), sizeof any) < 0)
		g_error("sockets: %s", g_strerror(errno));
	Path path = { sock_send, sock_recv, p.w, &c };
	pump(&path, ndgrams / 10, len); /* warm up */
	double ns = pump(&path, ndgrams, len);
	us_close(c.a);
	us_close(c.b);
	pair_free(&p);
	return ns;
}

/* TPI on udp streams, no socket library. */
typedef struct {
	int a, b;
	struct {
		struct T_unitdata_req req;
		struct sockaddr_in dest;
	} ud;
} TpiCtx;

static int
tpi_open_bound(UsStack *s, uint16_t port)
{
	int fd = us_open(s, "udp", O_RDWR);
	struct {
		struct T_bind_req req;
		struct sockaddr_in addr;
	} br = { .req = { .PRIM_type = T_BIND_REQ,
			  .ADDR_length = sizeof(struct sockaddr_in),
			  .ADDR_offset = sizeof(struct T_bind_req) },
		 .addr = sin_of("0.0.0.0", port) };
	struct strbuf ctl = { .len = sizeof br, .buf = (char *)&br };
	if (fd < 0 || us_putmsg(fd, &ctl, NULL, 0) < 0)
		g_error("T_BIND_REQ: %s", g_strerror(errno));
	union T_primitives ack;
	struct strbuf rc = { .maxlen = sizeof ack, .buf = (char *)&ack };
	int fl = 0;
	if (us_getmsg(fd, &rc, NULL, &fl) < 0 || ack.type != T_BIND_ACK)
		g_error("no T_BIND_ACK");
	us_fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void
tpi_send(gpointer ctx, const guint8 *d, size_t len)
{
	TpiCtx *c = ctx;
	struct strbuf ctl = { .len = sizeof c->ud, .buf = (char *)&c->ud };
	struct strbuf dat = { .len = (int)len, .buf = (char *)d };
	if (us_putmsg(c->a, &ctl, &dat, 0) < 0)
		g_error("us_putmsg: %s", g_strerror(errno));
}

static gboolean
tpi_recv(gpointer ctx, guint8 *buf, size_t len)
{
	TpiCtx *c = ctx;
	char cbuf[64];
	struct strbuf ctl = { .maxlen = sizeof cbuf, .buf = cbuf };
	struct strbuf dat = { .maxlen = (int)len, .buf = (char *)buf };
	int fl = 0;
	return us_getmsg(c->b, &ctl, &dat, &fl) >= 0;
}

static double
bench_tpi(size_t len)
{
	Pair p;
	pair_new(&p, "udp");
	TpiCtx c;
	c.a = tpi_open_bound(p.s[0], 5000);
	c.b = tpi_open_bound(p.s[1], 6000);
	c.ud.req = (struct T_unitdata_req){ .PRIM_type = T_UNITDATA_REQ,
					    .DEST_length = sizeof(struct sockaddr_in),
					    .DEST_offset = sizeof(struct T_unitdata_req) };
	c.ud.dest = sin_of("10.0.0.2", 6000);
	Path path = { tpi_send, tpi_recv, p.w, &c };
	pump(&path, ndgrams / 10, len);
	double ns = pump(&path, ndgrams, len);
	us_close(c.a);
	us_close(c.b);
	pair_free(&p);
	return ns;
}

/* Two kernel sockets on loopback. */
typedef struct {
	int a, b;
	struct sockaddr_in to;
} KernCtx;

static void
kern_send(gpointer ctx, const guint8 *d, size_t len)
{
	KernCtx *c = ctx;
	if (sendto(c->a, d, len, 0, SA(&c->to), sizeof c->to) != (ssize_t)len)
		g_error("sendto: %s", g_strerror(errno));
}

static gboolean
kern_recv(gpointer ctx, guint8 *buf, size_t len)
{
	KernCtx *c = ctx;
	return recv(c->b, buf, len, MSG_DONTWAIT) >= 0;
}

static double
bench_kernel(size_t len)
{
	KernCtx c = { .a = socket(AF_INET, SOCK_DGRAM, 0), .b = socket(AF_INET, SOCK_DGRAM, 0) };
	struct sockaddr_in lo = sin_of("127.0.0.1", 0);
	socklen_t l = sizeof lo;
	int big = 4 << 20;
	setsockopt(c.b, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (bind(c.b, SA(&lo), sizeof lo) < 0 || getsockname(c.b, SA(&lo), &l) < 0)
		g_error("loopback socket: %s", g_strerror(errno));
	c.to = lo;
	Path path = { kern_send, kern_recv, NULL, &c };
	pump(&path, ndgrams / 10, len);
	double ns = pump(&path, ndgrams, len);
	close(c.a);
	close(c.b);
	return ns;
}

static void
part_a(void)
{
	static const size_t sizes[] = { 64, 1472 };
	for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
		double s = bench_sockets(sizes[i]);
		double t = bench_tpi(sizes[i]);
		double k = bench_kernel(sizes[i]);
		printf("udp A->B %4zu B: sockets %7.1f ns/datagram %5.2f M/s | TPI putmsg/getmsg "
		       "%7.1f ns (sockets/TPI %.2f) | kernel loopback sockets %7.1f ns "
		       "(ours/kernel %.2f)\n",
		       sizes[i], s, 1000.0 / s, t, s / t, k, s / k);
	}
}

/* ------------------------------------------------------------------ */
/* (b) round trips over TAP and veth, in namespaces                   */
/* ------------------------------------------------------------------ */

static void
run_ip(const char *args)
{
	char *cmd = g_strdup_printf("ip %s", args);
	int status = 0;
	if (!g_spawn_command_line_sync(cmd, NULL, NULL, &status, NULL) ||
	    !g_spawn_check_wait_status(status, NULL))
		g_error("%s failed", cmd);
	g_free(cmd);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef struct {
	double p50, p99;
	guint lost;
} Rtt;

static void
rtt_summary(double *us, guint n, guint lost, Rtt *r)
{
	qsort(us, n, sizeof *us, cmp_double);
	r->p50 = n > 0 ? us[n / 2] : 0;
	r->p99 = n > 0 ? us[(guint)(n * 0.99)] : 0;
	r->lost = lost;
}

/* A kernel echo socket served by a thread until stop. */
typedef struct {
	int fd;
	gint stop;
	GThread *thread;
} KernelEcho;

static gpointer
kernel_echo_main(gpointer data)
{
	KernelEcho *e = data;
	guint8 buf[2048];
	while (!g_atomic_int_get(&e->stop)) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(e->fd, buf, sizeof buf, 0, SA(&from), &fl);
		if (n >= 0)
			sendto(e->fd, buf, (size_t)n, 0, SA(&from), fl);
	}
	return NULL;
}

static int
kernel_echo_socket(const char *addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = sin_of(addr, 7);
	struct timeval tv = { .tv_usec = 100000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (bind(fd, SA(&a), sizeof a) < 0)
		g_error("bind %s:7: %s", addr, g_strerror(errno));
	return fd;
}

/* The stack on TAP usbench0 (10.77.8.2) pings a kernel echo socket
 * (10.77.8.1) through a connected socket; its world runs on its own thread
 * (threaded) or is driven by the blocking calls themselves. */
static void
rtt_stack_tap(Rtt *r, gboolean threaded)
{
	UsWorld *w = us_world_new(US_CLOCK_REAL, 1);
	UsStack *s = us_stack_new(w, "bench");
	int ipfd = us_open(s, "ip", O_RDWR), fd = us_open(s, "tap", O_RDWR);
	queue_t *dq = us_stream_driver_rq(us_fd_stream(fd));
	if (!us_param_set(dq, "ifname", "usbench0", NULL) || !us_param_set(dq, "up", "true", NULL))
		g_error("tap");
	us_ioctl(fd, I_PUSH, "ether");
	us_ioctl(fd, I_PUSH, "arp");
	queue_t *eq = us_stream_head_wq(us_fd_stream(fd))->q_next->q_next;
	us_param_set(eq, "mac", "02:00:5e:77:08:02", NULL);
	int muxid = us_ioctl(ipfd, I_PLINK, fd);
	us_close(fd);
	struct ip_if_req ir = { .muxid = muxid };
	g_strlcpy(ir.name, "tap0", sizeof ir.name);
	istr(ipfd, IP_IF_SET, &ir, sizeof ir);
	struct ip_addr_req ar = { .addr = sin_of("10.77.8.2", 0).sin_addr.s_addr, .plen = 24 };
	g_strlcpy(ar.ifname, "tap0", sizeof ar.ifname);
	istr(ipfd, IP_ADDR_ADD, &ar, sizeof ar);
	link_transport(s, "udp");
	run_ip("addr add 10.77.8.1/24 dev usbench0");
	KernelEcho e = { .fd = kernel_echo_socket("10.77.8.1") };
	e.thread = g_thread_new("echo", kernel_echo_main, &e);
	if (threaded)
		us_world_start_thread(w, NULL);
	int c = us_socket(s, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = sin_of("10.77.8.1", 7);
	struct timeval tv = { .tv_sec = 1 };
	if (us_connect(c, SA(&to), sizeof to) < 0 ||
	    us_setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
		g_error("stack socket: %s", g_strerror(errno));
	double *us = g_new(double, nrtt);
	guint8 d[64] = { 1 }, rb[128];
	guint n = 0, lost = 0;
	for (guint i = 0; i < nrtt + 100; i++) {
		gint64 t0 = now_ns();
		us_send(c, d, sizeof d, 0);
		ssize_t k = us_recv(c, rb, sizeof rb, 0);
		double dt = (double)(now_ns() - t0) / 1000;
		if (i < 100)
			continue; /* warm up: ARP, caches */
		if (k == sizeof d)
			us[n++] = dt;
		else
			lost++;
	}
	rtt_summary(us, n, lost, r);
	g_free(us);
	us_close(c);
	if (threaded)
		us_world_stop_thread(w);
	g_atomic_int_set(&e.stop, 1);
	g_thread_join(e.thread);
	close(e.fd);
	us_close(ipfd);
	us_world_free(w);
}

/* The echo's side of the veth pair: a process in a namespace of its own.
 * Tells the parent (ready) once it exists, waits for go (the veth end has
 * been moved in), configures it and echoes until killed. */
static G_GNUC_NORETURN void
veth_echo_child(int ready, int go)
{
	alarm(60);
	char c = 0;
	if (unshare(CLONE_NEWNET) != 0)
		_exit(1);
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		_exit(1);
	run_ip("link set lo up");
	run_ip("addr add 10.77.9.2/24 dev vethb");
	run_ip("link set vethb up");
	KernelEcho e = { .fd = kernel_echo_socket("10.77.9.2") };
	if (write(ready, &c, 1) != 1)
		_exit(1);
	kernel_echo_main(&e);
	_exit(0);
}

/* The kernel pings itself: a socket on veth end a (10.77.9.1) against the
 * echo process behind end b (10.77.9.2). */
static void
rtt_kernel_veth(Rtt *r)
{
	int p1[2], p2[2];
	if (pipe(p1) != 0 || pipe(p2) != 0)
		g_error("pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		veth_echo_child(p1[1], p2[0]);
	char c;
	if (read(p1[0], &c, 1) != 1)
		g_error("veth echo process");
	run_ip("link add vetha type veth peer name vethb");
	char *mv = g_strdup_printf("link set vethb netns %d", (int)pid);
	run_ip(mv);
	g_free(mv);
	run_ip("addr add 10.77.9.1/24 dev vetha");
	run_ip("link set vetha up");
	if (write(p2[1], &c, 1) != 1 || read(p1[0], &c, 1) != 1)
		g_error("veth echo process");
	int k = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = sin_of("10.77.9.2", 7);
	struct timeval tv = { .tv_sec = 1 };
	setsockopt(k, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(k, SA(&to), sizeof to) < 0)
		g_error("connect: %s", g_strerror(errno));
	double *us = g_new(double, nrtt);
	guint8 d[64] = { 1 }, rb[128];
	guint n = 0, lost = 0;
	for (guint i = 0; i < nrtt + 100; i++) {
		gint64 t0 = now_ns();
		if (send(k, d, sizeof d, 0) < 0)
			g_usleep(10000); /* the link comes up */
		ssize_t got = recv(k, rb, sizeof rb, 0);
		double dt = (double)(now_ns() - t0) / 1000;
		if (i < 100)
			continue;
		if (got == sizeof d)
			us[n++] = dt;
		else
			lost++;
	}
	rtt_summary(us, n, lost, r);
	g_free(us);
	close(k);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void
part_b(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(120);
		if (unshare(CLONE_NEWNET) != 0) {
			printf("udp echo RTT over TAP: skipped (cannot create a network namespace: "
			       "%s)\n",
			       g_strerror(errno));
			fflush(stdout);
			_exit(0);
		}
		run_ip("link set lo up");
		Rtt v, t, d;
		rtt_kernel_veth(&v); /* first: no thread exists yet when it forks */
		rtt_stack_tap(&t, TRUE);
		rtt_stack_tap(&d, FALSE);
		printf("udp echo RTT 64 B, %u round trips: stack over TAP to a kernel echo p50 "
		       "%.1f "
		       "us p99 %.1f us (%u lost) | kernel over veth to a kernel echo p50 %.1f us "
		       "p99 %.1f us (%u lost) | ratio p50 %.1f p99 %.1f\n",
		       nrtt, t.p50, t.p99, t.lost, v.p50, v.p99, v.lost, t.p50 / v.p50,
		       t.p99 / v.p99);
		printf("udp echo RTT 64 B, stack world driven by the blocking calls (no world "
		       "thread): p50 %.1f us p99 %.1f us (%u lost) | ratio to veth p50 %.1f p99 "
		       "%.1f\n",
		       d.p50, d.p99, d.lost, d.p50 / v.p50, d.p99 / v.p99);
		fflush(stdout);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("udp echo RTT: the namespace child failed (status 0x%x)\n", status);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
		ndgrams = 40000;
		nrtt = 500;
	}
	us_init();
	part_a();
	part_b();
	return 0;
}
