/* SPDX-License-Identifier: MIT */
/*
 * test-live-ip.c -- ip against the Linux kernel over TAP, inside a network
 * namespace this test creates:
 *
 *   kernel 10.77.3.1 (usip0) <== TAP ==> tap / ether / arp / ip  10.77.3.2
 *
 *  - the kernel pings the stack (a raw ICMP socket in the namespace): echo
 *    replies come back, also for a 3000-byte ping the kernel fragments and
 *    the stack reassembles and answers in fragments;
 *  - the stack pings the kernel (a raw binding on ip): replies arrive;
 *  - examples/ping, run with --tap on a TAP device the test made, pings the
 *    kernel through a raw socket and reports every reply.
 * Skips visibly where namespaces cannot be created.
 */
#include "../drivers/live-net.h"
#include "iptest.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#define OUR_MAC "02:00:5e:77:03:02"

typedef struct {
	UsWorld *w;
	UsStack *s;
	int ipfd;
	gint64 live0;
} Live;

static void
live_stack(Live *l)
{
	l->live0 = us_msg_live_count();
	l->w = us_world_new(US_CLOCK_REAL, 1);
	l->s = us_stack_new(l->w, "live-ip");
	l->ipfd = it_open(l->s, "ip");
	int fd = it_open(l->s, "tap");
	it_drv_param(fd, "ifname", "usip0");
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
	it_addr(l->ipfd, "tap0", "10.77.3.2", 24);
	live_ip("addr", "add", "10.77.3.1/24", "dev", "usip0", NULL);
}

static void
live_fini(Live *l)
{
	us_close(l->ipfd);
	us_world_free(l->w);
	g_assert_cmpint(us_msg_live_count(), ==, l->live0);
}

/* The kernel sends an echo request of len data bytes with seq to addr from
 * a raw socket and waits (bounded) for the reply: TRUE when it came. */
static gboolean
kernel_ping(int s, const char *addr, uint16_t seq, size_t len)
{
	static uint8_t e[4096], r[8192];
	size_t el = it_echo(e, 8, 0x4242, seq, len);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = it_ip(addr);
	g_assert_cmpint(sendto(s, e, el, 0, (struct sockaddr *)&sin, sizeof sin), ==, (ssize_t)el);
	gint64 end = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = recv(s, r, sizeof r, 0);
		if (n < 28)
			continue;
		size_t hl = (size_t)(r[0] & 15) * 4;
		if ((size_t)n == hl + el && r[hl] == 0 && memcmp(r + hl + 4, e + 4, el - 4) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
body_kernel_pings(gpointer data)
{
	(void)data;
	Live l;
	live_stack(&l);
	g_assert_true(us_world_start_thread(l.w, NULL));
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (s < 0)
		live_skip("no raw ICMP socket in the namespace");
	for (uint16_t seq = 1; seq <= 3; seq++)
		g_assert_true(kernel_ping(s, "10.77.3.2", seq, 56));
	g_assert_true(kernel_ping(s, "10.77.3.2", 4, 3000)); /* fragmented both ways */
	close(s);
	us_world_stop_thread(l.w);
	g_assert_cmpuint(it_stat(l.ipfd, "icmpOutEchoReps"), ==, 4);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_REASM_OKS), ==, 1);
	g_assert_cmpuint(it_stat(l.ipfd, IP_STAT_FRAG_CREATES), >=, 3);
	live_fini(&l);
}

static void
body_stack_pings(gpointer data)
{
	(void)data;
	Live l;
	live_stack(&l);
	int raw = it_transport(l.s, 0, IP_BINDF_RAW);
	g_assert_cmpint(us_fcntl(raw, F_SETFL, 0), ==, 0); /* blocking, with a timeout below */
	g_assert_true(us_world_start_thread(l.w, NULL));
	guint replies = 0;
	for (uint16_t seq = 1; seq <= 3 && replies < seq; seq++) {
		uint8_t e[128];
		size_t el = it_echo(e, 8, 0x77, seq, 56);
		it_send(raw, it_ip("10.77.3.1"), 1, 0, 0, e, el);
		gint64 end = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
		while (g_get_monotonic_time() < end) {
			struct pollfd p = { .fd = raw, .events = POLLIN };
			if (us_poll(&p, 1, 100) <= 0)
				continue;
			uint8_t c[64], d[2048];
			size_t dl = sizeof d;
			uint32_t prim = it_recv(raw, c, d, &dl);
			if (prim == IP_UNITDATA_IND && dl == 20 + el && d[20] == 0 &&
			    memcmp(d + 24, e + 4, el - 4) == 0) {
				replies++;
				break;
			}
		}
	}
	us_world_stop_thread(l.w);
	g_assert_cmpuint(replies, ==, 3);
	us_close(raw);
	live_fini(&l);
}

static void
body_example_pings(gpointer data)
{
	const char *ping = data;
	live_ip("tuntap", "add", "dev", "usping0", "mode", "tap", NULL);
	live_ip("addr", "add", "10.77.4.1/24", "dev", "usping0", NULL);
	live_ip("link", "set", "usping0", "up", NULL);
	const char *argv[] = { ping, "--tap", "usping0", "--addr", "10.77.4.2/24", "-c", "3",
			       "-i", "0.2",   "-W",      "2",      "10.77.4.1",    NULL };
	char *out = NULL, *err = NULL;
	int status = 0;
	GError *error = NULL;
	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
				   &err, &status, &error));
	g_assert_no_error(error);
	g_test_message("%s%s", out, err);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	g_assert_nonnull(strstr(out, "3 packets transmitted, 3 received"));
	g_assert_nonnull(strstr(out, "bytes from 10.77.4.1: icmp_seq=3 ttl=64"));
	g_free(out);
	g_free(err);
}

static void
test_example_pings_kernel(void)
{
	const char *ping = g_getenv("US_EXAMPLE_PING");
	if (ping == NULL || !g_file_test(ping, G_FILE_TEST_IS_EXECUTABLE)) {
		g_test_skip("US_EXAMPLE_PING does not name the built examples/ping");
		return;
	}
	live_run_in_netns(body_example_pings, (gpointer)ping);
}

static void
test_kernel_pings_stack(void)
{
	live_run_in_netns(body_kernel_pings, NULL);
}

static void
test_stack_pings_kernel(void)
{
	live_run_in_netns(body_stack_pings, NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ip/live/kernel-pings-stack", test_kernel_pings_stack);
	g_test_add_func("/ip/live/stack-pings-kernel", test_stack_pings_kernel);
	g_test_add_func("/ip/live/example-ping", test_example_pings_kernel);
	return g_test_run();
}
