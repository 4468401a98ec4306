/* SPDX-License-Identifier: MIT */
/*
 * test-offload.c -- checksum and segmentation offload through whole stacks
 * built from configurations, in virtual time: wires with "offload" carry
 * partial checksums and HW_LSO frames as a veth pair does (stream.h).
 *
 *  - direct: a transfer each way over an offload wire arrives intact (the
 *    SHA-256 of tcp-source and tcp-sink agree) in frames far larger than the
 *    MTU, so tcp sent HW_LSO segments and the receiver took them whole;
 *  - router: the offload wire on one side of a router and a plain one on the
 *    other: the router cuts HW_LSO packets into MSS-sized segments and
 *    completes partial checksums (its own and the sender's), which the far
 *    stack verifies for real -- a wrong pseudo-header seed would stop the
 *    transfer;
 *  - loss: 2% loss on the offload wire (a lost frame is up to 44 segments):
 *    SACK recovery with HW_LSO segments still delivers every byte;
 *  - udp: datagrams larger than the MTU over an offload wire: ip leaves
 *    their checksums partial, then must complete them before fragmenting;
 *    the far end verifies them after reassembly;
 *  - corrupt: corruption on an offload wire is seen (the wire completes the
 *    checksum before flipping a bit, as a NIC would) and the data still
 *    arrives intact.
 */
#include "config.h"

#include <ustreams/ustreams.h>

#include <string.h>

static const char *pair = "world { clock virtual; seed 11 }\n"
			  "wire lan { delay 1ms; offload true; %s }\n"
			  "stack a { interface eth0 { driver wire lan;"
			  " push ether mac=02:00:00:00:00:0a; push arp; address 10.0.0.1/24 }\n"
			  " app tcp-source 10.0.0.2:5001 bytes=%s\n"
			  " app tcp-sink port=5002 }\n"
			  "stack b { interface eth0 { driver wire lan;"
			  " push ether mac=02:00:00:00:00:0b; push arp; address 10.0.0.2/24 }\n"
			  " app tcp-sink port=5001\n"
			  " app tcp-source 10.0.0.1:5002 bytes=%s }\n";

static const char *routed =
	"world { clock virtual; seed 12 }\n"
	"wire left { delay 1ms; offload true }\n"
	"wire right { delay 1ms }\n"
	"stack a { interface eth0 { driver wire left; push ether mac=02:00:00:00:01:01;"
	" push arp; address 10.1.0.1/24 }\n"
	" route default via 10.1.0.254\n"
	" app tcp-source 10.2.0.1:5001 bytes=2M\n"
	" app tcp-sink port=5002 }\n"
	"stack r { interface eth0 { driver wire left; push ether mac=02:00:00:00:fe:01;"
	" push arp; address 10.1.0.254/24 }\n"
	" interface eth1 { driver wire right; push ether mac=02:00:00:00:fe:02; push arp;"
	" address 10.2.0.254/24 }\n"
	" forwarding on }\n"
	"stack b { interface eth0 { driver wire right; push ether mac=02:00:00:00:02:01;"
	" push arp; address 10.2.0.1/24 }\n"
	" route default via 10.2.0.254\n"
	" app tcp-sink port=5001\n"
	" app tcp-source 10.1.0.1:5002 bytes=1M }\n";

static const char *udp_big =
	"world { clock virtual; seed 13 }\n"
	"wire lan { delay 1ms; offload true }\n"
	"stack a { interface eth0 { driver wire lan; push ether mac=02:00:00:00:00:0a; push arp;"
	" address 10.0.0.1/24 }\n"
	" app udp-send 10.0.0.2:7 count=5 size=4000 }\n"
	"stack b { interface eth0 { driver wire lan; push ether mac=02:00:00:00:00:0b; push arp;"
	" address 10.0.0.2/24 }\n"
	" app udp-echo port=7 }\n";

static guint64
stat_of(UsCfgRun *run, const char *stack, const char *iface, const char *name)
{
	guint64 v = 0;
	queue_t *q = us_cfg_run_iface_driver(run, stack, iface);
	g_assert_nonnull(q);
	g_assert_true(us_stat_get(q, name, &v));
	return v;
}

/* Builds and runs text; checks the verdict and that the summary says every
 * transfer matched; calls check with the run before it is freed. */
static void
run_text(const char *text, void (*check)(UsCfgRun *run))
{
	gint64 live0 = us_msg_live_count();
	GError *error = NULL;
	UsCfg *cfg = us_cfg_parse_text("offload.conf", text, &error);
	g_assert_no_error(error);
	gboolean checked = us_cfg_check(cfg, &error);
	g_assert_no_error(error);
	g_assert_true(checked);
	UsCfgRun *run = us_cfg_build(cfg, &error);
	g_assert_no_error(error);
	gboolean ok = us_cfg_run(run, 0);
	char *s = us_cfg_run_summary(run);
	g_test_message("%s", s);
	g_assert_true(ok);
	g_assert_null(strstr(s, "FAILED"));
	g_assert_true(strstr(s, "matches the sink's  [ok]") != NULL ||
		      strstr(s, "5 echoed intact (0 resent, 0 bad)") != NULL);
	check(run);
	g_free(s);
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
}

/* Average frame sizes on a's end of the wire: far above the MTU. */
static void
check_direct(UsCfgRun *run)
{
	guint64 frames = stat_of(run, "a", "eth0", "frames_out");
	guint64 bytes = stat_of(run, "a", "eth0", "bytes_out");
	g_test_message("a sent %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " bytes", frames,
		       bytes);
	g_assert_cmpuint(bytes / frames, >, 3000);
	g_assert_cmpuint(stat_of(run, "a", "eth0", "drop_mtu"), ==, 0);
}

/* The pair over an offload wire with impairments imp, a and b sending
 * bytes_a and bytes_b. */
static void
run_pair(const char *imp, const char *bytes_a, const char *bytes_b, void (*check)(UsCfgRun *run))
{
	char *text = g_strdup_printf(pair, imp, bytes_a, bytes_b);
	run_text(text, check);
	g_free(text);
}

static void
test_direct(void)
{
	run_pair("", "4M", "4M", check_direct);
}

/* The plain link carries nothing above its MTU: the router cut it all. */
static void
check_routed(UsCfgRun *run)
{
	guint64 frames = stat_of(run, "r", "eth1", "frames_out");
	guint64 bytes = stat_of(run, "r", "eth1", "bytes_out");
	g_assert_cmpuint(stat_of(run, "r", "eth1", "drop_mtu"), ==, 0);
	g_assert_cmpuint(bytes / frames, <=, 1514);
	g_assert_cmpuint(frames, >=, (2u << 20) / 1460);
	guint64 left =
		stat_of(run, "a", "eth0", "bytes_out") / stat_of(run, "a", "eth0", "frames_out");
	g_assert_cmpuint(left, >, 3000);
}

static void
test_routed(void)
{
	run_text(routed, check_routed);
}

static void
check_lossy(UsCfgRun *run)
{
	g_assert_cmpuint(stat_of(run, "a", "eth0", "lost") + stat_of(run, "b", "eth0", "lost"), >,
			 0);
	check_direct(run);
}

static void
test_loss(void)
{
	run_pair("loss 2%", "2M", "1M", check_lossy);
}

static void
check_corrupt(UsCfgRun *run)
{
	g_assert_cmpuint(stat_of(run, "a", "eth0", "corrupted") +
				 stat_of(run, "b", "eth0", "corrupted"),
			 >, 0);
}

static void
test_corrupt(void)
{
	run_pair("corrupt 2%", "2M", "1M", check_corrupt);
}

/* Every datagram went as fragments (at most MTU-sized frames). */
static void
check_udp(UsCfgRun *run)
{
	guint64 frames = stat_of(run, "a", "eth0", "frames_out");
	g_assert_cmpuint(frames, >=, 5 * 3);
	g_assert_cmpuint(stat_of(run, "a", "eth0", "bytes_out") / frames, <=, 1514);
}

static void
test_udp(void)
{
	run_text(udp_big, check_udp);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	us_init();
	g_test_add_func("/offload/direct", test_direct);
	g_test_add_func("/offload/router-segments-and-completes", test_routed);
	g_test_add_func("/offload/loss", test_loss);
	g_test_add_func("/offload/udp-partial-then-fragmented", test_udp);
	g_test_add_func("/offload/corrupt", test_corrupt);
	return g_test_run();
}
