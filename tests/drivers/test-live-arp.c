/* SPDX-License-Identifier: MIT */
/*
 * test-live-arp.c -- the Linux kernel resolves an address the stack owns,
 * over a TAP interface, inside a network namespace this test creates.
 *
 *   kernel 10.77.2.1 (usarp0) <== TAP ==> tap / ether / arp  owning 10.77.2.2
 *
 * The kernel is made to send to 10.77.2.2 (one UDP datagram from a socket
 * in the namespace), so it broadcasts "who has 10.77.2.2"; arp answers, and
 * the kernel's neighbour table (/proc/net/arp) must then hold the stack's MAC
 * as a complete entry.  Skips visibly where namespaces cannot be created.
 */
#include "../common/ustest.h"
#include "live-net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ustreams/debug.h>
#include <ustreams/world.h>

#include "arp.h"

#define OUR_MAC "02:00:5e:77:02:02"

static void
add_local(UsWorld *w, UsStream *st, const char *addr)
{
	struct arp_addr_req req = { 0 };
	g_assert_cmpint(inet_pton(AF_INET, addr, &req.addr), ==, 1);
	mblk_t *mp = mkiocb(ARP_ADD_LOCAL);
	((struct iocblk *)mp->b_rptr)->ioc_count = sizeof req;
	mp->b_cont = us_msg_from(&req, sizeof req, 0);
	put(us_stream_head_wq(st), mp);
	us_world_run_pending(w);
	mblk_t *reply;
	gboolean acked = FALSE;
	while ((reply = us_plain_head_get(st)) != NULL) {
		acked |= DB_TYPE(reply) == M_IOCACK;
		freemsg(reply);
	}
	g_assert_true(acked);
}

/* TRUE when /proc/net/arp has addr as a complete entry with mac. */
static gboolean
kernel_has_neighbour(const char *addr, const char *mac)
{
	char *text = NULL;
	if (!g_file_get_contents("/proc/net/arp", &text, NULL, NULL))
		return FALSE;
	gboolean found = FALSE;
	char **lines = g_strsplit(text, "\n", -1);
	for (guint i = 1; lines[i] != NULL && !found; i++) {
		char ip[64], hw[32], flags[16];
		if (sscanf(lines[i], "%63s %*s %15s %31s", ip, flags, hw) == 3)
			found = strcmp(ip, addr) == 0 && strcmp(flags, "0x2") == 0 &&
				g_ascii_strcasecmp(hw, mac) == 0;
	}
	g_strfreev(lines);
	g_free(text);
	return found;
}

static void
kernel_sends_to(const char *addr)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	g_assert_cmpint(s, >=, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	inet_pton(AF_INET, addr, &sin.sin_addr);
	g_assert_cmpint(sendto(s, "x", 1, 0, (struct sockaddr *)&sin, sizeof sin), ==, 1);
	close(s);
}

static void
body_kernel_resolves(gpointer data)
{
	(void)data;
	gint64 live0 = us_msg_live_count();
	UsWorld *w = us_world_new(US_CLOCK_REAL, 1);
	UsStack *stack = us_stack_new(w, "live-arp");
	UsStream *st = ustest_open(stack, "tap");
	ustest_param(st, "ifname", "usarp0");
	ustest_param(st, "up", "true");
	g_assert_cmpint(us_stream_push(st, "ether", NULL), ==, 0);
	g_assert_true(us_param_set(us_stream_head_wq(st)->q_next, "mac", OUR_MAC, NULL));
	g_assert_cmpint(us_stream_push(st, "arp", NULL), ==, 0);
	us_world_run_pending(w);
	add_local(w, st, "10.77.2.2");
	live_ip("addr", "add", "10.77.2.1/24", "dev", "usarp0", NULL);
	g_assert_true(us_world_start_thread(w, NULL));
	kernel_sends_to("10.77.2.2");
	gboolean resolved = FALSE;
	for (int i = 0; i < 100 && !resolved; i++) { /* at most 5 s */
		g_usleep(50000);
		resolved = kernel_has_neighbour("10.77.2.2", OUR_MAC);
	}
	us_world_stop_thread(w);
	g_assert_true(resolved);
	guint64 replies = 0;
	g_assert_true(us_stat_get(us_stream_head_wq(st)->q_next, "replies_out", &replies));
	g_assert_cmpuint(replies, >=, 1);
	us_world_free(w);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

static void
test_kernel_resolves_our_address(void)
{
	live_run_in_netns(body_kernel_resolves, NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/arp/live/kernel-resolves-our-address", test_kernel_resolves_our_address);
	return g_test_run();
}
