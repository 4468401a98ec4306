/* SPDX-License-Identifier: MIT */
/*
 * test-live-splice.c -- live splicing against the Linux kernel: inside a
 * network namespace this test creates,
 *
 *   kernel 10.77.5.1 (ussp0) <== TAP ==> tap / ether / arp / ip  10.77.5.2
 *
 * the kernel sends bursts of ICMP echo requests from a raw socket while the
 * test thread (not the world's: the splices cross threads through
 * us_world_call) inserts and removes "pass" on the interface stream linked
 * under ip -- just above the tap driver and just below ip, in its direct
 * and its queueing mode -- between the requests of a burst.  Every request
 * must be answered, in order.  Skips visibly where namespaces cannot be
 * created.
 */
#include "../drivers/live-net.h"
#include "iptest.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#define LS_MAC "02:00:5e:77:05:02"
#define LS_ID 0x5150
#define LS_BURSTS 12
#define LS_BURST 16 /* requests per burst */

typedef struct {
	UsWorld *w;
	UsStack *s;
	int ipfd;
	UsStream *ifst;
	queue_t *pass[2]; /* [0] above the driver, [1] below ip; NULL when out */
	guint splices;
	gint64 live0;
} Live;

static void
live_stack(Live *l)
{
	l->live0 = us_msg_live_count();
	l->w = us_world_new(US_CLOCK_REAL, 1);
	l->s = us_stack_new(l->w, "live-splice");
	l->ipfd = it_open(l->s, "ip");
	int fd = it_open(l->s, "tap");
	it_drv_param(fd, "ifname", "ussp0");
	it_drv_param(fd, "up", "true");
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "ether"), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "arp"), ==, 0);
	it_param(it_module_wq(fd, "ether"), "mac", LS_MAC);
	l->ifst = us_fd_stream(fd);
	int muxid = us_ioctl(l->ipfd, I_PLINK, fd);
	g_assert_cmpint(muxid, >, 0);
	us_close(fd);
	struct ip_if_req ir = { .muxid = muxid };
	g_strlcpy(ir.name, "tap0", sizeof ir.name);
	g_assert_cmpint(it_istr(l->ipfd, IP_IF_SET, &ir, sizeof ir), ==, 0);
	it_addr(l->ipfd, "tap0", "10.77.5.2", 24);
	live_ip("addr", "add", "10.77.5.1/24", "dev", "ussp0", NULL);
}

typedef struct {
	Live *l;
	guint i;
} SpliceArgs;

/* On the world thread: insert and parameters in one go, so no message
 * passes the new instance before it has its mode (plumb.h). */
static void
insert_on_world(gpointer data)
{
	SpliceArgs *a = data;
	Live *l = a->l;
	GError *error = NULL;
	UsStreamWhere where = a->i == 0 ? US_STREAM_BOTTOM : US_STREAM_BELOW;
	g_assert_cmpint(us_stream_insert(l->ifst, "pass", where, a->i == 0 ? NULL : "ip",
					 &l->pass[a->i], &error),
			==, 0);
	g_assert_no_error(error);
	g_assert_true(us_param_set(l->pass[a->i], "mode", l->splices % 4 < 2 ? "1" : "0", &error));
	g_assert_no_error(error);
}

/* Puts pass in at place i, or takes it out, from the test thread. */
static void
live_splice(Live *l, guint i)
{
	if (l->pass[i] == NULL) {
		SpliceArgs a = { l, i };
		us_world_call(l->w, insert_on_world, &a);
	} else {
		GError *error = NULL;
		g_assert_cmpint(us_stream_remove_queue(l->pass[i], &error), ==, 0);
		g_assert_no_error(error);
		l->pass[i] = NULL;
	}
	l->splices++;
}

/* Waits (bounded) for the replies to seq first .. first+n-1, which must
 * come in order. */
static void
live_replies(int s, uint16_t first, guint n)
{
	static uint8_t r[2048];
	guint got = 0;
	gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (got < n && g_get_monotonic_time() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t k = recv(s, r, sizeof r, 0);
		if (k < 28)
			continue;
		size_t hl = (size_t)(r[0] & 15) * 4;
		const uint8_t *icmp = r + hl;
		if (icmp[0] != 0 || ((icmp[4] << 8) | icmp[5]) != LS_ID)
			continue; /* not an echo reply of ours */
		uint16_t seq = (uint16_t)((icmp[6] << 8) | icmp[7]);
		g_assert_cmpuint(seq, ==, (uint16_t)(first + got));
		got++;
	}
	g_assert_cmpuint(got, ==, n);
}

static void
body_pings_while_splicing(gpointer data)
{
	(void)data;
	Live l = { 0 };
	live_stack(&l);
	g_assert_true(us_world_start_thread(l.w, NULL));
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (s < 0)
		live_skip("no raw ICMP socket in the namespace");
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = it_ip("10.77.5.2");
	/* One ping first, so that both sides have resolved each other: a burst
	 * into an unresolved neighbour overflows arp's waiting queue (by
	 * design, and counted), which is not what this test is about. */
	uint8_t e[128];
	size_t el = it_echo(e, 8, LS_ID, 0, 56);
	g_assert_cmpint(sendto(s, e, el, 0, (struct sockaddr *)&sin, sizeof sin), ==, (ssize_t)el);
	live_replies(s, 0, 1);
	uint16_t seq = 1;
	for (guint b = 0; b < LS_BURSTS; b++) {
		uint16_t first = seq;
		for (guint k = 0; k < LS_BURST; k++, seq++) {
			el = it_echo(e, 8, LS_ID, seq, 56);
			g_assert_cmpint(sendto(s, e, el, 0, (struct sockaddr *)&sin, sizeof sin),
					==, (ssize_t)el);
			if (k % 4 == 0)
				live_splice(&l, (b + k / 4) % 2);
		}
		live_replies(s, first, LS_BURST);
	}
	close(s);
	for (guint i = 0; i < 2; i++)
		if (l.pass[i] != NULL)
			live_splice(&l, i);
	us_world_stop_thread(l.w);
	g_test_message("%u splices", l.splices);
	g_assert_cmpuint(l.splices, >=, LS_BURSTS * LS_BURST / 4);
	g_assert_cmpuint(us_stream_depth(l.ifst), ==, 2);
	g_assert_cmpuint(it_stat(l.ipfd, "icmpOutEchoReps"), ==, LS_BURSTS * LS_BURST + 1);
	us_close(l.ipfd);
	us_world_free(l.w);
	g_assert_cmpint(us_msg_live_count(), ==, l.live0);
}

static void
test_pings_while_splicing(void)
{
	live_run_in_netns(body_pings_while_splicing, NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/splice/live/kernel-pings", test_pings_while_splicing);
	return g_test_run();
}
