/* SPDX-License-Identifier: MIT */
/*
 * test-live-udp.c -- UDP sockets of the stack against the Linux kernel over
 * TAP, inside a network namespace each test creates:
 *
 *   kernel 10.77.5.1 (usudp0) <== TAP ==> tap / ether / arp / ip / udp  10.77.5.2
 *
 *  - the stack runs a UDP echo socket (served by a thread through us_poll,
 *    us_recvfrom, us_sendto) and a plain kernel UDP socket of this process
 *    sends it datagrams of 1 to 8000 bytes (fragmented both ways beyond
 *    1472) and checks each echo byte for byte; a connected kernel socket
 *    sending to a port nobody serves gets ECONNREFUSED from the stack's
 *    port unreachable;
 *  - the same from socat and from nc (netcat-openbsd), when installed;
 *  - the stack's connected client sends to a kernel echo socket (a thread
 *    of this process), then to `socat UDP-RECVFROM:port,fork PIPE`, and
 *    checks the echoes;
 *  - examples/udp-echo-server and examples/udp-client, run with --tap on a
 *    TAP device the test made, against the kernel.
 * Skips visibly where namespaces cannot be created or a tool is missing
 * (only the tests that need it).
 */
#include "../drivers/live-net.h"
#include "iptest.h"
#include "udp.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <ustreams/socket.h>

#define KERNEL_IP "10.77.5.1"
#define STACK_IP "10.77.5.2"
#define OUR_MAC "02:00:5e:77:05:02"
#define ECHO_PORT 7007
#define SA(p) ((struct sockaddr *)(p))

/* Datagram sizes exchanged: beyond 1472 bytes ip fragments them. */
static const size_t live_sizes[] = { 1, 64, 512, 1472, 1473, 3000, 8000 };

typedef struct {
	UsWorld *w;
	UsStack *s;
	int ipfd;
	gint64 live0;
} Live;

static void
live_transport(UsStack *s, const char *name)
{
	int t = it_open(s, name), lower = it_open(s, "ip");
	g_assert_cmpint(us_ioctl(t, I_PLINK, lower), >, 0);
	us_close(lower);
	us_close(t);
}

/* The stack on TAP usudp0 (which the tap driver creates), the kernel's
 * side addressed; the world runs on its own thread. */
static void
live_stack(Live *l)
{
	l->live0 = us_msg_live_count();
	l->w = us_world_new(US_CLOCK_REAL, 1);
	l->s = us_stack_new(l->w, "live-udp");
	l->ipfd = it_open(l->s, "ip");
	int fd = it_open(l->s, "tap");
	it_drv_param(fd, "ifname", "usudp0");
	it_drv_param(fd, "up", "true");
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "ether"), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "arp"), ==, 0);
	it_param(it_module_wq(fd, "ether"), "mac", OUR_MAC);
	int muxid = us_ioctl(l->ipfd, I_PLINK, fd);
	g_assert_cmpint(muxid, >, 0);
	us_close(fd);
	struct ip_if_req ir = { .muxid = muxid };
	g_strlcpy(ir.name, "tap0", sizeof ir.name);
	g_assert_cmpint(it_istr(l->ipfd, IP_IF_SET, &ir, sizeof ir), ==, 0);
	it_addr(l->ipfd, "tap0", STACK_IP, 24);
	live_transport(l->s, "udp");
	live_transport(l->s, "icmp");
	live_ip("addr", "add", KERNEL_IP "/24", "dev", "usudp0", NULL);
	g_assert_true(us_world_start_thread(l->w, NULL));
}

static void
live_fini(Live *l)
{
	us_world_stop_thread(l->w);
	us_close(l->ipfd);
	us_world_free(l->w);
	g_assert_cmpint(us_msg_live_count(), ==, l->live0);
}

static struct sockaddr_in
sin_of(const char *addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };
	s.sin_addr.s_addr = it_ip(addr);
	return s;
}

/* Payload i of len bytes. */
static void
fill(guint8 *p, size_t len, guint i)
{
	for (size_t k = 0; k < len; k++)
		p[k] = (guint8)(k * 13 + i * 7 + (k >> 8));
}

/* ------------------------------------------------------------------ */
/* An echo socket of the stack, served by a thread                    */
/* ------------------------------------------------------------------ */

typedef struct {
	int fd;
	gint stop;
	gint echoed;
	GThread *thread;
} StackEcho;

static gpointer
stack_echo_main(gpointer data)
{
	StackEcho *e = data;
	g_autofree guint8 *buf = g_malloc(65536);
	while (!g_atomic_int_get(&e->stop)) {
		struct pollfd p = { .fd = e->fd, .events = POLLIN };
		if (us_poll(&p, 1, 50) <= 0)
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n;
		while ((n = us_recvfrom(e->fd, buf, 65536, MSG_DONTWAIT, SA(&from), &fl)) >= 0) {
			g_assert_cmpint(us_sendto(e->fd, buf, (size_t)n, 0, SA(&from), fl), ==, n);
			g_atomic_int_inc(&e->echoed);
			fl = sizeof from;
		}
		g_assert_cmpint(errno, ==, EAGAIN);
	}
	return NULL;
}

static void
stack_echo_start(StackEcho *e, Live *l, uint16_t port)
{
	memset(e, 0, sizeof *e);
	e->fd = us_socket(l->s, AF_INET, SOCK_DGRAM, 0);
	g_assert_cmpint(e->fd, >=, 0);
	struct sockaddr_in a = sin_of("0.0.0.0", port);
	g_assert_cmpint(us_bind(e->fd, SA(&a), sizeof a), ==, 0);
	e->thread = g_thread_new("stack-echo", stack_echo_main, e);
}

static guint
stack_echo_stop(StackEcho *e)
{
	g_atomic_int_set(&e->stop, 1);
	g_thread_join(e->thread);
	g_assert_cmpint(us_close(e->fd), ==, 0);
	return (guint)g_atomic_int_get(&e->echoed);
}

/* ------------------------------------------------------------------ */
/* Kernel sockets                                                     */
/* ------------------------------------------------------------------ */

/* Sends (d, len) from kernel socket k to `to` until the identical datagram
 * comes back (at most tries times, waiting wait_ms each): TRUE if it did. */
static gboolean
kernel_exchange(int k, const struct sockaddr_in *to, const guint8 *d, size_t len, int tries,
		int wait_ms)
{
	g_autofree guint8 *r = g_malloc(65536);
	for (int t = 0; t < tries; t++) {
		if (sendto(k, d, len, 0, (const struct sockaddr *)to, sizeof *to) != (ssize_t)len)
			g_test_message("sendto: %s", g_strerror(errno)); /* e.g. no ARP yet */
		gint64 end = g_get_monotonic_time() + wait_ms * 1000;
		while (g_get_monotonic_time() < end) {
			struct pollfd p = { .fd = k, .events = POLLIN };
			if (poll(&p, 1, 20) <= 0)
				continue;
			ssize_t n = recv(k, r, 65536, MSG_DONTWAIT);
			if (n == (ssize_t)len && memcmp(r, d, len) == 0)
				return TRUE;
		}
	}
	return FALSE;
}

/* A plain kernel UDP socket sends every size to the stack's echo socket. */
static void
kernel_client_run(uint16_t port, const char *dst)
{
	int k = socket(AF_INET, SOCK_DGRAM, 0);
	g_assert_cmpint(k, >=, 0);
	struct sockaddr_in to = sin_of(dst, port);
	g_autofree guint8 *d = g_malloc(8000);
	for (guint i = 0; i < G_N_ELEMENTS(live_sizes); i++) {
		fill(d, live_sizes[i], i);
		/* The first may wait for the kernel's ARP; later ones must not be lost. */
		if (!kernel_exchange(k, &to, d, live_sizes[i], i == 0 ? 3 : 1, 2000))
			g_error("no echo of the %zu-byte datagram", live_sizes[i]);
	}
	close(k);
}

static void
body_kernel_client(gpointer data)
{
	(void)data;
	Live l;
	live_stack(&l);
	StackEcho e;
	stack_echo_start(&e, &l, ECHO_PORT);
	kernel_client_run(ECHO_PORT, STACK_IP);
	/* Connected kernel socket, nobody on the port: the stack's port
	 * unreachable makes the kernel's next receive ECONNREFUSED. */
	int k = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in closed = sin_of(STACK_IP, 7999);
	g_assert_cmpint(connect(k, (struct sockaddr *)&closed, sizeof closed), ==, 0);
	struct timeval tv = { .tv_sec = 2 };
	g_assert_cmpint(setsockopt(k, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
	g_assert_cmpint(send(k, "anyone?", 7, 0), ==, 7);
	char b[16];
	g_assert_cmpint(recv(k, b, sizeof b, 0), ==, -1);
	g_assert_cmpint(errno, ==, ECONNREFUSED);
	close(k);
	guint echoed = stack_echo_stop(&e);
	g_assert_cmpuint(echoed, >=, G_N_ELEMENTS(live_sizes));
	guint64 v = 0;
	g_assert_true(us_udp_stack_stat(l.s, UDP_STAT_NO_PORTS, &v));
	g_assert_cmpuint(v, ==, 1);
	g_assert_true(us_udp_stack_stat(l.s, UDP_STAT_IN_CSUM_ERRORS, &v));
	g_assert_cmpuint(v, ==, 0);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_REASM_OKS), >=, 3);
	live_fini(&l);
}

/* Runs `sh -c cmd` (bounded by the tools' own timeouts) and returns its
 * standard output. */
static char *
run_shell(const char *cmd)
{
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	char *out = NULL, *err = NULL;
	int status = 0;
	GError *error = NULL;
	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
				   &err, &status, &error));
	g_assert_no_error(error);
	if (err != NULL && *err != '\0')
		g_test_message("%s: %s", cmd, err);
	g_free(err);
	return out;
}

/* A tool on the kernel's side sends three lines, one datagram each, and
 * prints what comes back. */
static void
body_tool_client(gpointer data)
{
	const char *tool = data;
	Live l;
	live_stack(&l);
	StackEcho e;
	stack_echo_start(&e, &l, ECHO_PORT);
	/* Warm the kernel's neighbour entry so no datagram waits on ARP. */
	kernel_client_run(ECHO_PORT, STACK_IP);
	for (int i = 1; i <= 3; i++) {
		char *msg = g_strdup_printf("datagram %d from %s", i, tool);
		char *cmd = strcmp(tool, "socat") == 0
				    ? g_strdup_printf("printf '%s' | socat -t 1 - UDP:%s:%d", msg,
						      STACK_IP, ECHO_PORT)
				    : g_strdup_printf("printf '%s' | nc -u -w 1 %s %d", msg,
						      STACK_IP, ECHO_PORT);
		char *out = run_shell(cmd);
		g_assert_cmpstr(out, ==, msg);
		g_free(out);
		g_free(cmd);
		g_free(msg);
	}
	g_assert_cmpuint(stack_echo_stop(&e), >=, G_N_ELEMENTS(live_sizes) + 3);
	live_fini(&l);
}

/* ------------------------------------------------------------------ */
/* An echo socket of the kernel, served by a thread                   */
/* ------------------------------------------------------------------ */

typedef struct {
	int fd;
	gint stop;
	gint echoed;
	GThread *thread;
} KernelEcho;

static gpointer
kernel_echo_main(gpointer data)
{
	KernelEcho *e = data;
	g_autofree guint8 *buf = g_malloc(65536);
	while (!g_atomic_int_get(&e->stop)) {
		struct pollfd p = { .fd = e->fd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(e->fd, buf, 65536, MSG_DONTWAIT, SA(&from), &fl);
		if (n >= 0 && sendto(e->fd, buf, (size_t)n, 0, SA(&from), fl) == n)
			g_atomic_int_inc(&e->echoed);
	}
	return NULL;
}

static void
kernel_echo_start(KernelEcho *e, const char *addr, uint16_t port)
{
	memset(e, 0, sizeof *e);
	e->fd = socket(AF_INET, SOCK_DGRAM, 0);
	g_assert_cmpint(e->fd, >=, 0);
	struct sockaddr_in a = sin_of(addr, port);
	g_assert_cmpint(bind(e->fd, SA(&a), sizeof a), ==, 0);
	e->thread = g_thread_new("kernel-echo", kernel_echo_main, e);
}

static guint
kernel_echo_stop(KernelEcho *e)
{
	g_atomic_int_set(&e->stop, 1);
	g_thread_join(e->thread);
	close(e->fd);
	return (guint)g_atomic_int_get(&e->echoed);
}

/* The stack's connected client: every size to port, each echo checked.
 * Returns the number of echoes that came back intact. */
static guint
stack_client_run(Live *l, uint16_t port)
{
	int fd = us_socket(l->s, AF_INET, SOCK_DGRAM, 0);
	g_assert_cmpint(fd, >=, 0);
	struct sockaddr_in to = sin_of(KERNEL_IP, port);
	g_assert_cmpint(us_connect(fd, SA(&to), sizeof to), ==, 0);
	struct timeval tv = { .tv_sec = 2 };
	g_assert_cmpint(us_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
	g_autofree guint8 *d = g_malloc(8000), *r = g_malloc(65536);
	guint ok = 0;
	for (guint i = 0; i < G_N_ELEMENTS(live_sizes); i++) {
		size_t len = live_sizes[i];
		fill(d, len, i);
		/* The first may be held while arp resolves the kernel. */
		for (int t = 0; t < (i == 0 ? 3 : 1); t++) {
			g_assert_cmpint(us_send(fd, d, len, 0), ==, (ssize_t)len);
			ssize_t n = us_recv(fd, r, 65536, 0);
			if (n < 0)
				g_test_message("recv of %zu bytes: %s", len, g_strerror(errno));
			if (n == (ssize_t)len && memcmp(r, d, len) == 0) {
				ok++;
				break;
			}
		}
	}
	g_assert_cmpint(us_close(fd), ==, 0);
	return ok;
}

static void
body_stack_client(gpointer data)
{
	(void)data;
	Live l;
	live_stack(&l);
	KernelEcho e;
	kernel_echo_start(&e, KERNEL_IP, ECHO_PORT);
	g_assert_cmpuint(stack_client_run(&l, ECHO_PORT), ==, G_N_ELEMENTS(live_sizes));
	g_assert_cmpuint(kernel_echo_stop(&e), >=, G_N_ELEMENTS(live_sizes));
	/* Now nobody serves the port: the kernel's port unreachable comes
	 * back as ECONNREFUSED on the connected socket. */
	int fd = us_socket(l.s, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = sin_of(KERNEL_IP, ECHO_PORT);
	g_assert_cmpint(us_connect(fd, SA(&to), sizeof to), ==, 0);
	struct timeval tv = { .tv_sec = 2 };
	g_assert_cmpint(us_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
	g_assert_cmpint(us_send(fd, "anyone?", 7, 0), ==, 7);
	char b[16];
	g_assert_cmpint(us_recv(fd, b, sizeof b, 0), ==, -1);
	g_assert_cmpint(errno, ==, ECONNREFUSED);
	g_assert_cmpint(us_close(fd), ==, 0);
	live_fini(&l);
}

/* socat and the children it forks per datagram form a process group of
 * their own, ended at once. */
static void
own_process_group(gpointer data)
{
	(void)data;
	setpgid(0, 0);
}

static void
body_stack_client_socat(gpointer data)
{
	(void)data;
	Live l;
	live_stack(&l);
	char *port = g_strdup_printf("UDP-RECVFROM:%d,bind=%s,fork", ECHO_PORT, KERNEL_IP);
	const char *argv[] = { "socat", "-T", "3", port, "PIPE", NULL };
	GPid pid;
	GError *error = NULL;
	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
				    G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
				    own_process_group, NULL, &pid, &error));
	g_assert_no_error(error);
	g_usleep(300 * 1000); /* socat binds its socket */
	guint ok = stack_client_run(&l, ECHO_PORT);
	kill(-pid, SIGTERM);
	waitpid(pid, NULL, 0);
	g_spawn_close_pid(pid);
	g_free(port);
	g_assert_cmpuint(ok, ==, G_N_ELEMENTS(live_sizes));
	live_fini(&l);
}

/* ------------------------------------------------------------------ */
/* The examples                                                       */
/* ------------------------------------------------------------------ */

/* A TAP device for an example, the kernel's side addressed. */
static void
example_tap(const char *name, const char *kernel_cidr)
{
	live_ip("tuntap", "add", "dev", name, "mode", "tap", NULL);
	live_ip("addr", "add", kernel_cidr, "dev", name, NULL);
	live_ip("link", "set", name, "up", NULL);
}

static void
body_example_server(gpointer data)
{
	const char *server = data;
	example_tap("usecho0", "10.77.6.1/24");
	const char *argv[] = { server, "--tap", "usecho0", "--addr", "10.77.6.2/24",
			       "-p",   "7007",  "-W",      "2",      NULL };
	GPid pid;
	int out_fd;
	GError *error = NULL;
	g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
					       NULL, NULL, &pid, NULL, &out_fd, NULL, &error));
	g_assert_no_error(error);
	/* The server needs a moment to attach: the first datagram is sent
	 * again until an echo comes (10 s at most). */
	int k = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = sin_of("10.77.6.2", 7007);
	guint8 d[100];
	for (guint i = 0; i < 3; i++) {
		fill(d, sizeof d, i);
		g_assert_true(kernel_exchange(k, &to, d, sizeof d, i == 0 ? 20 : 1, 500));
	}
	close(k);
	/* It stops after 2 s without datagrams. */
	int status = 0;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
	GString *out = g_string_new(NULL);
	char buf[1024];
	ssize_t n;
	while ((n = read(out_fd, buf, sizeof buf)) > 0)
		g_string_append_len(out, buf, n);
	close(out_fd);
	g_test_message("%s", out->str);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	g_assert_nonnull(strstr(out->str, "echoed 100 bytes to 10.77.6.1:"));
	g_assert_nonnull(strstr(out->str, "to 1 clients"));
	g_string_free(out, TRUE);
}

static void
body_example_client(gpointer data)
{
	const char *client = data;
	example_tap("usucli0", "10.77.7.1/24");
	KernelEcho e;
	kernel_echo_start(&e, "10.77.7.1", 7007);
	const char *argv[] = { client,      "--tap", "usucli0", "--addr", "10.77.7.2/24",
			       "-p",        "7007",  "-c",      "3",      "-i",
			       "0.1",       "-W",    "1",       "-s",     "2000",
			       "10.77.7.1", NULL };
	char *out = NULL, *err = NULL;
	int status = 0;
	GError *error = NULL;
	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
				   &err, &status, &error));
	g_assert_no_error(error);
	g_test_message("%s%s", out, err);
	kernel_echo_stop(&e);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	g_assert_nonnull(strstr(out, "2000 bytes from 10.77.7.1:7007: seq=3"));
	g_assert_nonnull(strstr(out, "3 datagrams, 3 echoed"));
	g_free(out);
	g_free(err);
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */
/* ------------------------------------------------------------------ */

static void
test_kernel_client(void)
{
	live_run_in_netns(body_kernel_client, NULL);
}

static void
test_tool_client(gconstpointer data)
{
	const char *tool = data;
	char *path = g_find_program_in_path(tool);
	if (path == NULL) {
		char *why = g_strdup_printf("%s is not installed", tool);
		g_test_skip(why);
		g_free(why);
		return;
	}
	g_free(path);
	live_run_in_netns(body_tool_client, (gpointer)tool);
}

static void
test_stack_client(void)
{
	live_run_in_netns(body_stack_client, NULL);
}

static void
test_stack_client_socat(void)
{
	char *path = g_find_program_in_path("socat");
	if (path == NULL) {
		g_test_skip("socat is not installed");
		return;
	}
	g_free(path);
	live_run_in_netns(body_stack_client_socat, NULL);
}

static void
test_example(gconstpointer data)
{
	const char *var = data;
	const char *exe = g_getenv(var);
	if (exe == NULL || !g_file_test(exe, G_FILE_TEST_IS_EXECUTABLE)) {
		char *why = g_strdup_printf("%s does not name the built example", var);
		g_test_skip(why);
		g_free(why);
		return;
	}
	live_run_in_netns(strcmp(var, "US_EXAMPLE_UDP_CLIENT") == 0 ? body_example_client
								    : body_example_server,
			  (gpointer)exe);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/udp/live/kernel-client", test_kernel_client);
	g_test_add_data_func("/udp/live/socat-client", "socat", test_tool_client);
	g_test_add_data_func("/udp/live/nc-client", "nc", test_tool_client);
	g_test_add_func("/udp/live/stack-client", test_stack_client);
	g_test_add_func("/udp/live/stack-client-socat", test_stack_client_socat);
	g_test_add_data_func("/udp/live/example-echo-server", "US_EXAMPLE_UDP_ECHO_SERVER",
			     test_example);
	g_test_add_data_func("/udp/live/example-client", "US_EXAMPLE_UDP_CLIENT", test_example);
	return g_test_run();
}
