/* SPDX-License-Identifier: MIT */
/*
 * bench-tcp -- TCP through the whole stack, with the references measured in
 * the same run:
 *
 *  (a) bulk throughput and CPU seconds per GB between two stacks of one
 *      process joined by a wire (MTU 1500, no delay, static ARP; a
 *      virtual-time world driven by this thread, so only CPU counts): A
 *      sends, B reads, through the socket library; then the same with the
 *      wire's "offload" (TSO segments cross whole, as over veth);
 *  (b) the stack on a TAP device against the Linux kernel, both
 *      directions (the kernel's socket in a thread of this process; the
 *      stack's world on a thread of its own, real clock), in a network
 *      namespace this program creates;
 *  (c) the reference: the kernel against itself over a veth pair between
 *      two namespaces;
 *  (d) connection setup rate: connect + accept + close between the two
 *      stacks of (a);
 *  (e) memory for 10k open connections (both ends on the stacks of (a)):
 *      the growth of the resident set per connection.
 * Ratios are printed against the references of the same run.  (b) and (c)
 * are skipped, with a line saying why, where namespaces cannot be created.
 * Nothing is sent outside namespaces.
 *
 * Usage: bench-tcp [--quick] [--bulk | --tap] [--no-offload]
 *   --bulk: only (a), for profiling; --tap: only (b) and (c);
 *   --no-offload: the TAP without checksum and segmentation offload.
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
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SA(p) ((struct sockaddr *)(p))
#define CHUNK (256 * 1024)

static guint64 bulk_bytes = 2ULL << 30; /* (a) */
static guint64 tap_bytes = 1ULL << 30;  /* (b), (c) */
static guint nsetup = 5000;             /* (d) */
static guint nconns = 10000;            /* (e) */
static gboolean tap_no_offload;         /* --no-offload: plain TAP frames */

static gint64
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU seconds of the process (every thread, user and system). */
static double
cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* A measured transfer. */
typedef struct {
	double gbps;   /* payload, Gbit/s */
	double cpu_gb; /* CPU seconds per GB */
	gboolean ok;
} Rate;

static void
rate_set(Rate *r, guint64 bytes, gint64 ns, double cpu)
{
	r->gbps = bytes * 8.0 / ns;
	r->cpu_gb = cpu / (bytes / 1e9);
	r->ok = TRUE;
}

/* ------------------------------------------------------------------ */
/* (a) two stacks on a wire                                           */
/* ------------------------------------------------------------------ */

/* A connected pair of sockets: c on A, s on B. */
static void
pair_connect(Pair *p, int l, uint16_t port, int *c, int *s)
{
	*c = us_socket(p->s[0], AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = sin_of("10.0.0.2", port);
	if (*c < 0 || us_connect(*c, SA(&to), sizeof to) < 0)
		g_error("connect: %s", g_strerror(errno));
	*s = us_accept(l, NULL, NULL);
	if (*s < 0)
		g_error("accept: %s", g_strerror(errno));
}

static int
pair_listen(Pair *p, uint16_t port, int backlog)
{
	int l = us_socket(p->s[1], AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in me = sin_of("0.0.0.0", port);
	if (l < 0 || us_bind(l, SA(&me), sizeof me) < 0 || us_listen(l, backlog) < 0)
		g_error("listen: %s", g_strerror(errno));
	return l;
}

static void
set_bufs(int fd, int bytes)
{
	us_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
	us_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

/* Sends n bytes from c to s; the world is driven here. */
static void
pump(Pair *p, int c, int s, guint64 n)
{
	static guint8 buf[CHUNK];
	memset(buf, 0x5a, sizeof buf);
	us_fcntl(c, F_SETFL, O_NONBLOCK);
	us_fcntl(s, F_SETFL, O_NONBLOCK);
	guint64 sent = 0, got = 0;
	while (got < n) {
		gboolean moved = FALSE;
		while (sent < n) {
			ssize_t k = us_send(c, buf, MIN(sizeof buf, n - sent), 0);
			if (k <= 0)
				break;
			sent += (guint64)k;
			moved = TRUE;
		}
		ssize_t k;
		while ((k = us_recv(s, buf, sizeof buf, 0)) > 0) {
			got += (guint64)k;
			moved = TRUE;
		}
		if (us_world_run_pending(p->w) > 0 || moved)
			continue;
		gint64 d = us_world_next_deadline(p->w);
		if (d < 0)
			g_error("the transfer is stuck at %" G_GUINT64_FORMAT " bytes", got);
		us_world_advance(p->w, d);
	}
}

static Rate
bench_pair_bulk(void)
{
	Pair p;
	pair_new(&p, "tcp");
	int l = pair_listen(&p, 5001, 4), c, s;
	pair_connect(&p, l, 5001, &c, &s);
	set_bufs(c, 4 << 20);
	set_bufs(s, 4 << 20);
	pump(&p, c, s, 64 << 20); /* warm up: pools, cwnd */
	double c0 = cpu_s();
	gint64 t0 = now_ns();
	pump(&p, c, s, bulk_bytes);
	Rate r;
	rate_set(&r, bulk_bytes, now_ns() - t0, cpu_s() - c0);
	us_close(c);
	us_close(s);
	us_close(l);
	pair_free(&p);
	return r;
}

/* memcpy of the same bytes: what a copy in and a copy out cost at least. */
static Rate
bench_memcpy(void)
{
	static guint8 a[CHUNK], b[CHUNK];
	memset(a, 1, sizeof a);
	double c0 = cpu_s();
	gint64 t0 = now_ns();
	for (guint64 n = 0; n < bulk_bytes; n += sizeof a) {
		memcpy(b, a, sizeof a);
		memcpy(a, b, sizeof a);
		__asm__ volatile("" ::: "memory");
	}
	Rate r;
	rate_set(&r, bulk_bytes, now_ns() - t0, cpu_s() - c0);
	return r;
}

/* ------------------------------------------------------------------ */
/* (d) connection setup, (e) memory                                   */
/* ------------------------------------------------------------------ */

static double
bench_setup(void)
{
	Pair p;
	pair_new(&p, "tcp");
	int l = pair_listen(&p, 5002, 128);
	gint64 t0 = now_ns();
	for (guint i = 0; i < nsetup; i++) {
		int c, s;
		pair_connect(&p, l, 5002, &c, &s);
		us_close(c);
		us_close(s);
		us_world_run_pending(p.w);
	}
	double rate = nsetup / ((now_ns() - t0) / 1e9);
	us_close(l);
	pair_free(&p);
	return rate;
}

static long
rss_kb(void)
{
	long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kb;
}

static void
bench_memory(void)
{
	/* Each end is a socket: a descriptor (an eventfd) each.  The soft limit
	 * is raised to the hard one, which may cap the count. */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	guint want = nconns;
	if (rl.rlim_cur != RLIM_INFINITY && 2 * (rlim_t)nconns + 64 > rl.rlim_cur)
		nconns = (guint)((rl.rlim_cur - 64) / 2);
	Pair p;
	pair_new(&p, "tcp");
	int l = pair_listen(&p, 5003, 4096);
	int *fd = g_new(int, 2 * nconns);
	long kb0 = rss_kb();
	for (guint i = 0; i < nconns; i++)
		pair_connect(&p, l, 5003, &fd[2 * i], &fd[2 * i + 1]);
	us_world_advance(p.w, US_NSEC_PER_SEC); /* delayed ACKs out */
	long kb1 = rss_kb();
	double per_end = (kb1 - kb0) * 1024.0 / (2 * nconns);
	printf("memory for %u open connections (both ends in this process%s): %.1f MiB, %.0f "
	       "bytes per connection end (stream head, socket, endpoint, TCB, descriptor); "
	       "%.1f MiB for %u\n",
	       nconns, nconns < want ? ", capped by the descriptor limit" : "",
	       (kb1 - kb0) / 1024.0, per_end, per_end * 2 * want / (1 << 20), want);
	nconns = want;
	for (guint i = 0; i < 2 * nconns; i++)
		us_close(fd[i]);
	g_free(fd);
	us_close(l);
	pair_free(&p);
}

/* ------------------------------------------------------------------ */
/* (b) over TAP against the kernel, (c) kernel over veth              */
/* ------------------------------------------------------------------ */

static void
run_ip(const char *args)
{
	char *cmd = g_strdup_printf("ip %s", args);
	if (system(cmd) != 0)
		g_error("%s failed", cmd);
	g_free(cmd);
}

/* A kernel socket's side of a transfer, on a thread. */
typedef struct {
	int fd;        /* a connected socket */
	gboolean send; /* send n bytes, else read to EOF */
	guint64 n, moved;
	GThread *thread;
} KernelSide;

static gpointer
kernel_side_main(gpointer data)
{
	KernelSide *k = data;
	static guint8 buf[CHUNK];
	memset(buf, 0x33, sizeof buf);
	if (k->send) {
		while (k->moved < k->n) {
			ssize_t w = send(k->fd, buf, MIN(sizeof buf, k->n - k->moved), 0);
			if (w <= 0)
				break;
			k->moved += (guint64)w;
		}
		shutdown(k->fd, SHUT_WR);
	}
	ssize_t r;
	while ((r = recv(k->fd, buf, sizeof buf, 0)) > 0)
		k->moved += k->send ? 0 : (guint64)r;
	if (!k->send)
		shutdown(k->fd, SHUT_WR); /* the peer's EOF after ours */
	return NULL;
}

/* The stack on TAP ustcpb0 (10.77.10.2), the kernel at 10.77.10.1. */
typedef struct {
	UsWorld *w;
	UsStack *s;
	int ipfd;
} TapHost;

static void
tap_host_new(TapHost *h)
{
	h->w = us_world_new(US_CLOCK_REAL, 1);
	h->s = us_stack_new(h->w, "tap");
	h->ipfd = us_open(h->s, "ip", O_RDWR);
	int fd = us_open(h->s, "tap", O_RDWR);
	queue_t *dq = us_stream_driver_rq(us_fd_stream(fd));
	gboolean off = !tap_no_offload; /* checksum and segmentation offload */
	if (!us_param_set(dq, "vnet_hdr", off ? "true" : "false", NULL) ||
	    !us_param_set(dq, "offload", off ? "true" : "false", NULL) ||
	    !us_param_set(dq, "ifname", "ustcpb0", NULL) || !us_param_set(dq, "up", "true", NULL))
		g_error("tap");
	if (us_ioctl(fd, I_PUSH, "ether") != 0 || us_ioctl(fd, I_PUSH, "arp") != 0)
		g_error("push");
	queue_t *eq = us_stream_head_wq(us_fd_stream(fd))->q_next->q_next;
	us_param_set(eq, "mac", "02:00:5e:77:0a:02", NULL);
	int muxid = us_ioctl(h->ipfd, I_PLINK, fd);
	us_close(fd);
	struct ip_if_req ir = { .muxid = muxid };
	g_strlcpy(ir.name, "tap0", sizeof ir.name);
	istr(h->ipfd, IP_IF_SET, &ir, sizeof ir);
	struct ip_addr_req ar = { .addr = sin_of("10.77.10.2", 0).sin_addr.s_addr, .plen = 24 };
	g_strlcpy(ar.ifname, "tap0", sizeof ar.ifname);
	istr(h->ipfd, IP_ADDR_ADD, &ar, sizeof ar);
	link_transport(h->s, "tcp");
	run_ip("addr add 10.77.10.1/24 dev ustcpb0");
	if (!us_world_start_thread(h->w, NULL))
		g_error("world thread");
}

static void
tap_host_free(TapHost *h)
{
	g_usleep(200000);
	us_world_stop_thread(h->w);
	us_close(h->ipfd);
	us_world_free(h->w);
}

/* The stack sends (to_kernel) or receives n bytes over the TAP. */
static Rate
tap_transfer(TapHost *h, gboolean to_kernel, guint64 n)
{
	int lk = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(lk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in ka = sin_of("10.77.10.1", 6000);
	if (bind(lk, SA(&ka), sizeof ka) != 0 || listen(lk, 1) != 0)
		g_error("kernel listen: %s", g_strerror(errno));
	int us = us_socket(h->s, AF_INET, SOCK_STREAM, 0);
	set_bufs(us, 4 << 20);
	if (us_connect(us, SA(&ka), sizeof ka) != 0)
		g_error("stack connect: %s", g_strerror(errno));
	KernelSide k = { .fd = accept(lk, NULL, NULL), .send = !to_kernel, .n = n };
	close(lk);
	static guint8 buf[CHUNK];
	memset(buf, 0x77, sizeof buf);
	double c0 = cpu_s();
	gint64 t0 = now_ns();
	k.thread = g_thread_new("kernel", kernel_side_main, &k);
	guint64 moved = 0;
	if (to_kernel) {
		while (moved < n) {
			ssize_t w = us_send(us, buf, MIN(sizeof buf, n - moved), 0);
			if (w <= 0)
				g_error("us_send: %s", g_strerror(errno));
			moved += (guint64)w;
		}
		us_shutdown(us, SHUT_WR);
		while (us_recv(us, buf, sizeof buf, 0) > 0)
			;
	} else {
		ssize_t r;
		while ((r = us_recv(us, buf, sizeof buf, 0)) > 0)
			moved += (guint64)r;
		us_shutdown(us, SHUT_WR);
	}
	g_thread_join(k.thread);
	Rate rt;
	rate_set(&rt, n, now_ns() - t0, cpu_s() - c0);
	rt.ok = to_kernel ? k.moved == n : moved == n;
	us_close(us);
	close(k.fd);
	return rt;
}

/* The receiving end of the veth pair, in a namespace of its own: reads
 * everything from one connection, then exits. */
static G_GNUC_NORETURN void
veth_sink_child(int ready, int go)
{
	alarm(120);
	char c = 0;
	if (unshare(CLONE_NEWNET) != 0)
		_exit(1);
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		_exit(1);
	run_ip("link set lo up");
	run_ip("addr add 10.77.11.2/24 dev vethb");
	run_ip("link set vethb up");
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin_of("10.77.11.2", 6001);
	if (bind(l, SA(&a), sizeof a) != 0 || listen(l, 1) != 0)
		_exit(1);
	if (write(ready, &c, 1) != 1)
		_exit(1);
	int fd = accept(l, NULL, NULL);
	static guint8 buf[CHUNK];
	while (recv(fd, buf, sizeof buf, 0) > 0)
		;
	close(fd);
	_exit(0);
}

static Rate
bench_veth(void)
{
	int p1[2], p2[2];
	Rate r = { 0 };
	if (pipe(p1) != 0 || pipe(p2) != 0)
		g_error("pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		veth_sink_child(p1[1], p2[0]);
	char c;
	if (read(p1[0], &c, 1) != 1)
		return r;
	run_ip("link add vetha type veth peer name vethb");
	char *mv = g_strdup_printf("link set vethb netns %d", (int)pid);
	run_ip(mv);
	g_free(mv);
	run_ip("addr add 10.77.11.1/24 dev vetha");
	run_ip("link set vetha up");
	if (write(p2[1], &c, 1) != 1 || read(p1[0], &c, 1) != 1)
		return r;
	int k = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = sin_of("10.77.11.2", 6001);
	if (connect(k, SA(&to), sizeof to) != 0)
		g_error("veth connect: %s", g_strerror(errno));
	static guint8 buf[CHUNK];
	memset(buf, 0x11, sizeof buf);
	struct rusage ru0, ru1;
	getrusage(RUSAGE_CHILDREN, &ru0);
	double c0 = cpu_s();
	gint64 t0 = now_ns();
	for (guint64 n = 0; n < tap_bytes;) {
		ssize_t w = send(k, buf, MIN(sizeof buf, tap_bytes - n), 0);
		if (w <= 0)
			g_error("veth send: %s", g_strerror(errno));
		n += (guint64)w;
	}
	shutdown(k, SHUT_WR);
	while (recv(k, buf, sizeof buf, 0) > 0)
		;
	waitpid(pid, NULL, 0);
	getrusage(RUSAGE_CHILDREN, &ru1);
	double child = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
		       (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		       ((ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
			(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) /
			       1e6;
	rate_set(&r, tap_bytes, now_ns() - t0, cpu_s() - c0 + child);
	close(k);
	run_ip("link del vetha");
	return r;
}

static void
part_namespaces(const Rate *pair)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(600);
		if (unshare(CLONE_NEWNET) != 0) {
			printf("over TAP and veth: skipped (cannot create a network namespace: "
			       "%s)\n",
			       g_strerror(errno));
			fflush(stdout);
			_exit(0);
		}
		run_ip("link set lo up");
		Rate v = bench_veth(); /* first: no thread exists yet when it forks */
		TapHost h;
		tap_host_new(&h);
		(void)tap_transfer(&h, TRUE, 32 << 20); /* warm up: ARP, pools */
		Rate snd = tap_transfer(&h, TRUE, tap_bytes);
		Rate rcv = tap_transfer(&h, FALSE, tap_bytes);
		tap_host_free(&h);
		printf("kernel -> kernel over veth (reference): %.2f Gbit/s, %.2f CPU s/GB\n",
		       v.gbps, v.cpu_gb);
		printf("stack -> kernel over TAP (stack sending): %.2f Gbit/s, %.2f CPU s/GB "
		       "(both sides) %s| ratio to veth %.2f\n",
		       snd.gbps, snd.cpu_gb, snd.ok ? "" : "[INCOMPLETE] ", snd.gbps / v.gbps);
		printf("kernel -> stack over TAP (stack receiving): %.2f Gbit/s, %.2f CPU s/GB "
		       "(both sides) %s| ratio to veth %.2f\n",
		       rcv.gbps, rcv.cpu_gb, rcv.ok ? "" : "[INCOMPLETE] ", rcv.gbps / v.gbps);
		printf("in-process pair to kernel veth: ratio %.2f\n", pair->gbps / v.gbps);
		fflush(stdout);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("over TAP and veth: the namespace child failed (status 0x%x)\n", status);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
		bulk_bytes = 256 << 20;
		tap_bytes = 128 << 20;
		nsetup = 500;
		nconns = 1000;
	}
	gboolean bulk_only = argc > 1 && strcmp(argv[argc - 1], "--bulk") == 0; /* profiling */
	gboolean tap_only = FALSE;
	for (int i = 1; i < argc; i++) {
		tap_no_offload |= strcmp(argv[i], "--no-offload") == 0;
		tap_only |= strcmp(argv[i], "--tap") == 0;
	}
	us_init();
	if (tap_only) {
		Rate none = { .gbps = 0 };
		part_namespaces(&none);
		return 0;
	}
	if (bulk_only) {
		Rate a = bench_pair_bulk();
		printf("bulk: %.2f Gbit/s, %.2f CPU s/GB\n", a.gbps, a.cpu_gb);
		return 0;
	}
	Rate m = bench_memcpy();
	Rate a = bench_pair_bulk();
	printf("bulk two stacks in one process (MTU 1500, %" G_GUINT64_FORMAT
	       " MiB): %.2f Gbit/s, %.2f CPU s/GB | memcpy twice: %.2f Gbit/s | ratio %.2f\n",
	       bulk_bytes >> 20, a.gbps, a.cpu_gb, m.gbps, a.gbps / m.gbps);
	fflush(stdout);
	pair_offload = TRUE;
	Rate o = bench_pair_bulk();
	pair_offload = FALSE;
	printf("same, the wire with offloads (HW_LSO frames cross whole, as over veth): %.2f "
	       "Gbit/s, %.2f CPU s/GB | ratio to memcpy twice %.2f\n",
	       o.gbps, o.cpu_gb, o.gbps / m.gbps);
	fflush(stdout);
	double setup = bench_setup();
	printf("connection setup (connect + accept + close, both ends): %.0f per second\n", setup);
	fflush(stdout);
	bench_memory();
	fflush(stdout);
	part_namespaces(&a);
	return 0;
}
