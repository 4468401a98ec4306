/* SPDX-License-Identifier: MIT */
/*
 * test-afpacket.c -- the afpacket driver against the Linux kernel, inside
 * network namespaces the tests create (live-net.h): a veth pair va/vb, the
 * driver on va and the kernel's IPv4 on vb (10.77.1.1/24); ARP and ICMP
 * echo exchanged with the kernel, the stack never seeing its own frames,
 * promiscuous mode, batching, flow control without loss, clear errors.
 */
#include "afpacket.h"

#include "live-net.h"

#include <errno.h>
#include <stdlib.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <ustreams/debug.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

extern const UsModuleDesc us_afpacket_desc;

#define SEC US_NSEC_PER_SEC

static const guint8 our_mac[6] = { 0x02, 0x00, 0x5e, 0x77, 0x00, 0x02 };
static const guint8 our_ip[4] = { 10, 77, 1, 2 };
static const guint8 kernel_ip[4] = { 10, 77, 1, 1 };

#define LIVE_DRIVER "afpacket"
#include "live-env.h"

static int
attach(Env *e, UsStream *st, const char *name, guint32 flags)
{
	struct afp_attach aa = { .aa_flags = flags };
	g_strlcpy(aa.aa_name, name, sizeof aa.aa_name);
	return do_ioctl(e, st, AFP_ATTACH, &aa, sizeof aa, NULL, 0);
}

static struct afp_status
status_of(Env *e, UsStream *st)
{
	struct afp_status as;
	g_assert_cmpint(do_ioctl(e, st, AFP_STATUS, NULL, 0, &as, sizeof as), ==, 0);
	return as;
}

static void
send_bytes(UsStream *st, const guint8 *f, size_t len)
{
	mblk_t *mp = us_msg_from(f, len, 0);
	g_assert_nonnull(mp);
	put(us_stream_head_wq(st), mp);
}

/* The promiscuity count of an interface, from `ip -d link` (SIOCGIFFLAGS
 * shows only the administrator's IFF_PROMISC, not packet memberships). */
static int
if_promiscuity(const char *name)
{
	char *cmd = g_strdup_printf("ip -d link show %s", name);
	char *out = NULL;
	int status = 0;
	g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL));
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	const char *p = strstr(out, "promiscuity ");
	g_assert_nonnull(p);
	int n = atoi(p + strlen("promiscuity "));
	g_free(out);
	g_free(cmd);
	return n;
}

/* An interface's MAC, read directly. */
static void
if_mac(const char *name, guint8 mac[6])
{
	struct ifreq ifr = { 0 };
	g_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	g_assert_cmpint(s, >=, 0);
	g_assert_cmpint(ioctl(s, SIOCGIFHWADDR, &ifr), ==, 0);
	close(s);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

#include "live-exchange.h"

/* ------------------------------------------------------------------ */
/* Live tests (in a child, in a new network namespace)               */
/* ------------------------------------------------------------------ */

/* va (ours, no address) <-> vb (the kernel's, 10.77.1.1/24). */
static void
make_veth(void)
{
	live_ip("link", "add", "va", "type", "veth", "peer", "name", "vb", NULL);
	live_ip("addr", "add", "10.77.1.1/24", "dev", "vb", NULL);
	live_ip("link", "set", "va", "up", NULL);
	live_ip("link", "set", "vb", "up", NULL);
}

/* The stack asks for 10.77.1.1, the kernel answers from vb's MAC; then
 * pings, one of them full-size. */
static void
body_arp_ping(gpointer data)
{
	guint32 flags = GPOINTER_TO_UINT(data);
	make_veth();
	guint8 vb_mac[6], va_mac[6];
	if_mac("vb", vb_mac);
	if_mac("va", va_mac);
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	g_assert_cmpint(attach(&e, st, "va", flags), ==, 0);
	struct afp_status as = status_of(&e, st);
	g_assert_cmpstr(as.as_name, ==, "va");
	g_assert_cmpint(as.as_ifindex, ==, (int)if_nametoindex("va"));
	g_assert_cmpuint(as.as_mtu, ==, 1500);
	g_assert_cmpmem(as.as_mac, 6, va_mac, 6);
	g_assert_cmpuint(as.as_flags, ==, flags);
	g_assert_cmpint(if_promiscuity("va"), ==, (flags & AFP_F_PROMISC) ? 1 : 0);
	Exchange x;
	exchange_init(&x, &e, st);
	resolve_kernel(&x, vb_mac);
	ping_kernel(&x, 3, 56);
	ping_kernel(&x, 1, 1400);
	exchange_fini(&x); /* none of our own frames came back up */
	g_assert_cmpuint(stat_of(st, "frames_out"), >=, 5);
	g_assert_cmpuint(stat_of(st, "frames_in"), >=, 5);
	g_assert_cmpuint(stat_of(st, "errors"), ==, 0);
	g_assert_cmpuint(stat_of(st, "drop_truncated"), ==, 0);
	us_stream_close(st);
	g_assert_cmpint(if_promiscuity("va"), ==, 0); /* membership gone with the socket */
	env_fini(&e);
}

static void
test_live_arp_ping(void)
{
	live_run_in_netns(body_arp_ping, GUINT_TO_POINTER(AFP_F_PROMISC));
}

static void
test_live_no_promisc(void)
{
	live_run_in_netns(body_arp_ping, GUINT_TO_POINTER(0));
}

/* Parameters: attach by name, promisc on and off while attached, batch;
 * a second attach is refused. */
static void
body_params(gpointer data)
{
	(void)data;
	make_veth();
	guint8 vb_mac[6];
	if_mac("vb", vb_mac);
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	queue_t *rq = us_stream_driver_rq(st);
	GError *error = NULL;
	g_assert_true(us_param_set(rq, "batch", "4", &error));
	g_assert_true(us_param_set(rq, "ifname", "va", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stat_of(st, "attached"), ==, 1);
	g_assert_cmpint(if_promiscuity("va"), ==, 0);
	g_assert_true(us_param_set(rq, "promisc", "1", &error));
	g_assert_cmpint(if_promiscuity("va"), ==, 1);
	g_assert_true(us_param_set(rq, "promisc", "0", &error));
	g_assert_cmpint(if_promiscuity("va"), ==, 0);
	g_assert_no_error(error);
	g_assert_false(us_param_set(rq, "ifname", "vb", &error));
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_clear_error(&error);
	g_assert_cmpint(attach(&e, st, "vb", 0), ==, EBUSY);
	Exchange x;
	exchange_init(&x, &e, st);
	resolve_kernel(&x, vb_mac);
	ping_kernel(&x, 10, 56); /* more frames than one batch */
	exchange_fini(&x);
	us_stream_close(st);
	env_fini(&e);
}

static void
test_live_params(void)
{
	live_run_in_netns(body_params, NULL);
}

/* A reader that holds the frames: reading pauses and every reply still
 * arrives once the reader drains; none is lost. */
static void
body_flow_control(gpointer data)
{
	(void)data;
	make_veth();
	guint8 vb_mac[6];
	if_mac("vb", vb_mac);
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	g_assert_cmpint(attach(&e, st, "va", 0), ==, 0);
	Exchange x;
	exchange_init(&x, &e, st);
	resolve_kernel(&x, vb_mac);
	exchange_flow_control(&x);
	exchange_fini(&x);
	us_stream_close(st);
	env_fini(&e);
}

static void
test_live_flow_control(void)
{
	live_run_in_netns(body_flow_control, NULL);
}

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

/* No such interface: ENODEV from the ioctl and the parameter.  (Looking a
 * name up sends nothing, so this needs no namespace.) */
static void
test_enodev(void)
{
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	g_assert_cmpint(attach(&e, st, "usnosuch0", 0), ==, ENODEV);
	GError *error = NULL;
	g_assert_false(us_param_set(us_stream_driver_rq(st), "ifname", "usnosuch1", &error));
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_assert_nonnull(strstr(error->message, g_strerror(ENODEV)));
	g_clear_error(&error);
	g_assert_cmpint(attach(&e, st, "", 0), ==, EINVAL);
	g_assert_cmpint(do_ioctl(&e, st, AFP_ATTACH, NULL, 0, NULL, 0), ==, EINVAL);
	g_assert_cmpuint(stat_of(st, "attached"), ==, 0);
	struct afp_status as = status_of(&e, st);
	g_assert_cmpstr(as.as_name, ==, "");
	us_stream_close(st);
	env_fini(&e);
}

/* Without CAP_NET_RAW (dropped in the child) the packet socket is refused:
 * EPERM from the ioctl. */
static void
body_eperm(gpointer data)
{
	(void)data;
	make_veth();
	live_drop_net_caps();
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	g_assert_cmpint(attach(&e, st, "va", 0), ==, EPERM);
	g_assert_cmpuint(stat_of(st, "attached"), ==, 0);
	us_stream_close(st);
	env_fini(&e);
}

static void
test_eperm(void)
{
	live_run_in_netns(body_eperm, NULL);
}

/* Frames written before attaching are dropped and counted. */
static void
test_detached_drop(void)
{
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	guint8 f[60] = { 0 };
	send_bytes(st, f, sizeof f);
	us_world_run_pending(e.world);
	g_assert_cmpuint(stat_of(st, "drop_detached"), ==, 1);
	g_assert_cmpuint(us_drop_count(us_stream_driver_rq(st), 0), ==, 1);
	us_stream_close(st);
	env_fini(&e);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_true(us_registry_add(&us_afpacket_desc, NULL));
	g_test_add_func("/afpacket/detached/drop", test_detached_drop);
	g_test_add_func("/afpacket/errors/enodev", test_enodev);
	g_test_add_func("/afpacket/errors/eperm", test_eperm);
	g_test_add_func("/afpacket/live/arp-ping", test_live_arp_ping);
	g_test_add_func("/afpacket/live/no-promisc", test_live_no_promisc);
	g_test_add_func("/afpacket/live/params", test_live_params);
	g_test_add_func("/afpacket/live/flow-control", test_live_flow_control);
	return g_test_run();
}
