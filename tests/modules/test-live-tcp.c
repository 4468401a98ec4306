/* SPDX-License-Identifier: MIT */
/*
 * test-live-tcp.c -- tcp of the stack against the Linux kernel's over TAP,
 * inside a network namespace each test creates:
 *
 *   kernel 10.77.8.1 (ustcpN) <== TAP ==> tap / ether / arp / ip / tcp  10.77.8.2
 *
 *  - curl fetches a generated file from examples/http-server running on
 *    the stack (--tap), and the SHA-256 of what it got is compared;
 *  - the stack's client (this process's sockets) fetches a file from
 *    `python3 -m http.server` with HTTP/1.0 and compares the hash;
 *  - nc (netcat-openbsd) sends a file to a listening stack socket, and a
 *    stack socket sends one to `nc -l`, hashes compared;
 *  - the same two transfers with the kernel losing 5% of the packets it
 *    sends and receives on the TAP (nftables `numgen random`: this kernel
 *    has no netem);
 *  - the kernel's connect to a closed port gets the stack's RST.
 * Every test skips visibly where namespaces cannot be created or a tool is
 * missing.  The stack's world runs on its own thread with the real clock.
 */
#include "../drivers/live-net.h"
#include "iptest.h"
#include "tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <ustreams/socket.h>

#define KERNEL_IP "10.77.8.1"
#define STACK_IP "10.77.8.2"
#define OUR_MAC "02:00:5e:77:08:02"
#define TAP_NAME "ustcp0"
#define SA(p) ((struct sockaddr *)(p))
#define FILE_SIZE (3 << 20)

typedef struct {
	UsWorld *w;
	UsStack *s;
	int ipfd;
	gint64 live0;
	gboolean offload; /* the TAP with offloads: checked used at the end */
} Live;

static void
live_transport(UsStack *s, const char *name)
{
	int t = it_open(s, name), lower = it_open(s, "ip");
	g_assert_cmpint(us_ioctl(t, I_PLINK, lower), >, 0);
	us_close(lower);
	us_close(t);
}

/* The stack on TAP_NAME (the tap driver creates it), the kernel's side
 * addressed; the world runs on its own thread. */
static void check_offload_used(Live *l);

static void
live_stack_opt(Live *l, gboolean offload)
{
	l->offload = offload;
	l->live0 = us_msg_live_count();
	l->w = us_world_new(US_CLOCK_REAL, 1);
	l->s = us_stack_new(l->w, "live-tcp");
	l->ipfd = it_open(l->s, "ip");
	int fd = it_open(l->s, "tap");
	if (offload) { /* checksum and segmentation offload both ways */
		it_drv_param(fd, "vnet_hdr", "true");
		it_drv_param(fd, "offload", "true");
	}
	it_drv_param(fd, "ifname", TAP_NAME);
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
	live_transport(l->s, "tcp");
	live_ip("link", "set", "lo", "up", NULL); /* the kernel reaches its own address */
	live_ip("addr", "add", KERNEL_IP "/24", "dev", TAP_NAME, NULL);
	g_assert_true(us_world_start_thread(l->w, NULL));
}

static void
live_stack(Live *l)
{
	live_stack_opt(l, FALSE);
}

static void
live_fini(Live *l)
{
	g_usleep(300 * 1000); /* the last FINs and ACKs */
	us_world_stop_thread(l->w);
	if (l->offload)
		check_offload_used(l);
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

/* A file of size pseudo-random bytes in a new directory; its SHA-256. */
static char *
make_file(char **dir, size_t size, char **hash)
{
	GError *error = NULL;
	*dir = g_dir_make_tmp("ustcp-XXXXXX", &error);
	g_assert_no_error(error);
	guint8 *d = g_malloc(size);
	GRand *r = g_rand_new_with_seed(77);
	for (size_t i = 0; i < size; i++)
		d[i] = (guint8)g_rand_int(r);
	g_rand_free(r);
	char *path = g_build_filename(*dir, "file.bin", NULL);
	g_assert_true(g_file_set_contents(path, (const char *)d, (gssize)size, &error));
	*hash = g_compute_checksum_for_data(G_CHECKSUM_SHA256, d, size);
	g_free(d);
	return path;
}

static char *
file_hash(const char *path)
{
	gchar *data = NULL;
	gsize len = 0;
	if (!g_file_get_contents(path, &data, &len, NULL))
		return g_strdup("(missing)");
	char *h = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guint8 *)data, len);
	g_free(data);
	return h;
}

static void
remove_dir(char *dir)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(dir);
}

/* Waits until a kernel connect to addr:port succeeds (a server started). */
static void
wait_listening(const char *addr, uint16_t port)
{
	for (int i = 0; i < 100; i++) {
		int k = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in to = sin_of(addr, port);
		int r = connect(k, SA(&to), sizeof to);
		close(k);
		if (r == 0)
			return;
		g_usleep(50 * 1000);
	}
	g_assert_not_reached();
}

/* 5% loss of what the kernel sends and receives on the TAP. */
static void
kernel_loss(void)
{
	const char *script =
		"nft add table inet loss && "
		"nft add chain inet loss in '{ type filter hook input priority 0; }' && "
		"nft add chain inet loss out '{ type filter hook output priority 0; }' && "
		"nft add rule inet loss in iifname " TAP_NAME
		" numgen random mod 100 '<' 5 drop && "
		"nft add rule inet loss out oifname " TAP_NAME " numgen random mod 100 '<' 5 drop";
	if (system(script) != 0)
		live_skip("nftables could not install the loss rules");
}

/* ------------------------------------------------------------------ */
/* curl -> examples/http-server                                       */
/* ------------------------------------------------------------------ */

static void
body_curl_example(gpointer data)
{
	const char *server = data;
	char *dir, *hash;
	char *path = make_file(&dir, FILE_SIZE, &hash);
	live_ip("tuntap", "add", "dev", TAP_NAME, "mode", "tap", NULL);
	live_ip("addr", "add", KERNEL_IP "/24", "dev", TAP_NAME, NULL);
	live_ip("link", "set", TAP_NAME, "up", NULL);
	const char *argv[] = {
		server, "--tap", TAP_NAME, "--addr", STACK_IP "/24", "--root", dir,
		"-p",   "8080",  "-c",     "1",      "-W",           "20",     NULL
	};
	GPid pid;
	int out_fd;
	GError *error = NULL;
	g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
					       NULL, NULL, &pid, NULL, &out_fd, NULL, &error));
	g_assert_no_error(error);
	g_autofree char *out = g_build_filename(dir, "got.bin", NULL);
	g_autofree char *cmd = g_strdup_printf(
		"curl -s -S --retry 20 --retry-connrefused --retry-delay 1 --max-time 40 -o '%s' "
		"http://" STACK_IP ":8080/file.bin",
		out);
	int rc = system(cmd);
	int status = 0;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
	char buf[4096];
	ssize_t n = read(out_fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(out_fd);
	g_test_message("%s", buf);
	g_assert_cmpint(rc, ==, 0);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	g_autofree char *got = file_hash(out);
	g_assert_cmpstr(got, ==, hash);
	g_free(path);
	g_free(hash);
	remove_dir(dir);
}

/* ------------------------------------------------------------------ */
/* the stack's client -> python3 -m http.server                       */
/* ------------------------------------------------------------------ */

/* GET /file.bin from addr:port over the stack; the body's SHA-256. */
static char *
stack_http_get(Live *l, const char *addr, uint16_t port, size_t *body_len)
{
	int fd = us_socket(l->s, AF_INET, SOCK_STREAM, 0);
	g_assert_cmpint(fd, >=, 0);
	struct sockaddr_in to = sin_of(addr, port);
	g_assert_cmpint(us_connect(fd, SA(&to), sizeof to), ==, 0);
	const char *req = "GET /file.bin HTTP/1.0\r\nHost: " KERNEL_IP "\r\n\r\n";
	g_assert_cmpint(us_send(fd, req, strlen(req), 0), ==, (ssize_t)strlen(req));
	GByteArray *got = g_byte_array_new();
	guint8 buf[65536];
	ssize_t n;
	while ((n = us_recv(fd, buf, sizeof buf, 0)) > 0)
		g_byte_array_append(got, buf, (guint)n);
	g_assert_cmpint(n, ==, 0);
	g_assert_cmpint(us_close(fd), ==, 0);
	const char *p = (const char *)got->data;
	const char *end = g_strstr_len(p, got->len, "\r\n\r\n");
	g_assert_nonnull(end);
	g_assert_true(g_str_has_prefix(p, "HTTP/1.0 200"));
	*body_len = got->len - (gsize)(end + 4 - p);
	char *h =
		g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guint8 *)end + 4, *body_len);
	g_byte_array_free(got, TRUE);
	return h;
}

static void
body_python_server(gpointer data)
{
	(void)data;
	char *dir, *hash;
	char *path = make_file(&dir, FILE_SIZE, &hash);
	Live l;
	live_stack(&l);
	const char *argv[] = { "python3", "-m",          "http.server", "8000", "--bind",
			       KERNEL_IP, "--directory", dir,           NULL };
	GPid pid;
	GError *error = NULL;
	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
				    G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
					    G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
				    NULL, NULL, &pid, &error));
	g_assert_no_error(error);
	wait_listening(KERNEL_IP, 8000);
	size_t len = 0;
	g_autofree char *got = stack_http_get(&l, KERNEL_IP, 8000, &len);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	g_spawn_close_pid(pid);
	g_assert_cmpuint(len, ==, FILE_SIZE);
	g_assert_cmpstr(got, ==, hash);
	live_fini(&l);
	g_free(path);
	g_free(hash);
	remove_dir(dir);
}

/* ------------------------------------------------------------------ */
/* nc both ways                                                       */
/* ------------------------------------------------------------------ */

/* nc sends the file to a listening stack socket; the hash of what the
 * stack read. */
static void
nc_to_stack(Live *l, const char *path, const char *hash)
{
	int lfd = us_socket(l->s, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in me = sin_of("0.0.0.0", 9000);
	g_assert_cmpint(us_bind(lfd, SA(&me), sizeof me), ==, 0);
	g_assert_cmpint(us_listen(lfd, 4), ==, 0);
	g_autofree char *cmd = g_strdup_printf("nc -N -w 30 " STACK_IP " 9000 < '%s'", path);
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	GPid pid;
	GError *error = NULL;
	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
				    NULL, &pid, &error));
	g_assert_no_error(error);
	int fd = us_accept(lfd, NULL, NULL);
	g_assert_cmpint(fd, >=, 0);
	GChecksum *h = g_checksum_new(G_CHECKSUM_SHA256);
	guint8 buf[65536];
	ssize_t n;
	size_t total = 0;
	while ((n = us_recv(fd, buf, sizeof buf, 0)) > 0) {
		g_checksum_update(h, buf, n);
		total += (size_t)n;
	}
	g_assert_cmpint(n, ==, 0);
	g_assert_cmpint(us_close(fd), ==, 0); /* nc reads until our FIN */
	int status = 0;
	waitpid(pid, &status, 0);
	g_spawn_close_pid(pid);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	g_assert_cmpuint(total, ==, FILE_SIZE);
	g_assert_cmpstr(g_checksum_get_string(h), ==, hash);
	g_checksum_free(h);
	g_assert_cmpint(us_close(lfd), ==, 0);
}

/* A stack socket sends the file to `nc -l`; the hash of what nc wrote. */
static void
stack_to_nc(Live *l, const char *dir, const char *hash)
{
	g_autofree char *out = g_build_filename(dir, "from-stack.bin", NULL);
	g_autofree char *cmd = g_strdup_printf("nc -d -l " KERNEL_IP " 9001 > '%s'", out);
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	GPid pid;
	GError *error = NULL;
	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
				    NULL, &pid, &error));
	g_assert_no_error(error);
	int fd = -1;
	struct sockaddr_in to = sin_of(KERNEL_IP, 9001);
	for (int i = 0; i < 100 && fd < 0; i++) { /* until nc listens */
		fd = us_socket(l->s, AF_INET, SOCK_STREAM, 0);
		if (us_connect(fd, SA(&to), sizeof to) != 0) {
			g_assert_cmpint(errno, ==, ECONNREFUSED);
			us_close(fd);
			fd = -1;
			g_usleep(50 * 1000);
		}
	}
	g_assert_cmpint(fd, >=, 0);
	gchar *data;
	gsize len;
	g_autofree char *in = g_build_filename(dir, "file.bin", NULL);
	g_assert_true(g_file_get_contents(in, &data, &len, NULL));
	g_assert_cmpint(us_send(fd, data, len, 0), ==, (ssize_t)len);
	g_free(data);
	struct us_tcp_info ti;
	socklen_t tl = sizeof ti;
	us_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl);
	g_test_message("stack -> kernel: rtt %u us, rto %u us, cwnd %u, ssthresh %u, snd_wnd %u, "
		       "retransmitted %u of %" G_GUINT64_FORMAT " segments, mss %u, wscale %u/%u",
		       ti.tcpi_rtt, ti.tcpi_rto, ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh,
		       ti.tcpi_snd_wnd, ti.tcpi_total_retrans, ti.tcpi_segs_out, ti.tcpi_snd_mss,
		       ti.tcpi_snd_wscale, ti.tcpi_rcv_wscale);
	g_assert_cmpint(us_close(fd), ==, 0); /* FIN after the data: nc ends */
	int status = 0;
	waitpid(pid, &status, 0);
	g_spawn_close_pid(pid);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	g_autofree char *got = file_hash(out);
	g_assert_cmpstr(got, ==, hash);
}

#define NC_LOSSY 1
#define NC_OFFLOAD 2

static void
offload_stats(UsStream *st, gpointer data)
{
	guint64 **acc = data, v;
	queue_t *dq = us_stream_driver_rq(st);
	if (dq != NULL && us_stat_get(dq, "gso_in", &v))
		*acc[0] += v;
	if (dq != NULL && us_stat_get(dq, "gso_out", &v))
		*acc[1] += v;
}

/* With offloads the kernel handed over coalesced segments and took ours
 * (tap statistics). */
static void
check_offload_used(Live *l)
{
	guint64 gso_in = 0, gso_out = 0;
	us_stack_foreach_stream(l->s, offload_stats, (guint64 *[]){ &gso_in, &gso_out });
	g_test_message("tap: %" G_GUINT64_FORMAT " GSO frames in, %" G_GUINT64_FORMAT " out",
		       gso_in, gso_out);
	g_assert_cmpuint(gso_in, >, 0);
	g_assert_cmpuint(gso_out, >, 0);
}

static void
body_nc(gpointer data)
{
	gboolean lossy = (GPOINTER_TO_INT(data) & NC_LOSSY) != 0;
	gboolean offload = (GPOINTER_TO_INT(data) & NC_OFFLOAD) != 0;
	char *dir, *hash;
	char *path = make_file(&dir, FILE_SIZE, &hash);
	Live l;
	live_stack_opt(&l, offload);
	if (lossy)
		kernel_loss();
	gint64 t0 = g_get_monotonic_time();
	nc_to_stack(&l, path, hash);
	gint64 t1 = g_get_monotonic_time();
	stack_to_nc(&l, dir, hash);
	gint64 t2 = g_get_monotonic_time();
	g_test_message("kernel -> stack %.2f s, stack -> kernel %.2f s", (t1 - t0) / 1e6,
		       (t2 - t1) / 1e6);
	live_fini(&l);
	g_free(path);
	g_free(hash);
	remove_dir(dir);
}

/* ------------------------------------------------------------------ */
/* The kernel's connect to a closed port                              */
/* ------------------------------------------------------------------ */

static void
body_refused(gpointer data)
{
	(void)data;
	Live l;
	live_stack(&l);
	int k = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = sin_of(STACK_IP, 9);
	int r = -1, err = 0;
	for (int i = 0; i < 20; i++) { /* the first may wait for ARP */
		r = connect(k, SA(&to), sizeof to);
		err = errno;
		if (r != 0 && err == ECONNREFUSED)
			break;
		g_usleep(100 * 1000);
	}
	close(k);
	g_assert_cmpint(r, ==, -1);
	g_assert_cmpint(err, ==, ECONNREFUSED);
	live_fini(&l);
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */
/* ------------------------------------------------------------------ */

static gboolean
have(const char *tool)
{
	char *path = g_find_program_in_path(tool);
	if (path == NULL) {
		char *why = g_strdup_printf("%s is not installed", tool);
		g_test_skip(why);
		g_free(why);
		return FALSE;
	}
	g_free(path);
	return TRUE;
}

static void
test_curl_example(void)
{
	const char *exe = g_getenv("US_EXAMPLE_HTTP_SERVER");
	if (exe == NULL || !g_file_test(exe, G_FILE_TEST_IS_EXECUTABLE)) {
		g_test_skip("US_EXAMPLE_HTTP_SERVER does not name the built examples/http-server");
		return;
	}
	if (have("curl"))
		live_run_in_netns(body_curl_example, (gpointer)exe);
}

static void
test_python_server(void)
{
	if (have("python3"))
		live_run_in_netns(body_python_server, NULL);
}

static void
test_nc(void)
{
	if (have("nc"))
		live_run_in_netns(body_nc, GINT_TO_POINTER(0));
}

static void
test_nc_offload(void)
{
	if (have("nc"))
		live_run_in_netns(body_nc, GINT_TO_POINTER(NC_OFFLOAD));
}

static void
test_nc_offload_lossy(void)
{
	if (have("nc") && have("nft"))
		live_run_in_netns(body_nc, GINT_TO_POINTER(NC_OFFLOAD | NC_LOSSY));
}

static void
test_nc_lossy(void)
{
	if (have("nc") && have("nft"))
		live_run_in_netns(body_nc, GINT_TO_POINTER(NC_LOSSY));
}

static void
test_refused(void)
{
	live_run_in_netns(body_refused, NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/live-tcp/refused", test_refused);
	g_test_add_func("/live-tcp/curl-from-example", test_curl_example);
	g_test_add_func("/live-tcp/stack-fetches-python", test_python_server);
	g_test_add_func("/live-tcp/nc-both-ways", test_nc);
	g_test_add_func("/live-tcp/nc-both-ways-lossy", test_nc_lossy);
	g_test_add_func("/live-tcp/nc-both-ways-offload", test_nc_offload);
	g_test_add_func("/live-tcp/nc-both-ways-offload-lossy", test_nc_offload_lossy);
	return g_test_run();
}
