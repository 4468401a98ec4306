/* SPDX-License-Identifier: MIT */
/*
 * test-tap.c -- the tap driver against the Linux kernel, inside network
 * namespaces the tests create (live-net.h): attaching by ioctl and by
 * parameters, MTU and up, ARP and ICMP echo exchanged with the kernel (plain
 * and with virtio-net headers and offloads), flow control without loss,
 * multi-queue, clear errors; plus the parts that need no kernel (frames
 * written while detached, bad ioctls).
 */
#include "tap.h"

#include "live-net.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ustreams/debug.h>
#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

extern const UsModuleDesc us_tap_desc;

#define SEC US_NSEC_PER_SEC

static const guint8 our_mac[6] = { 0x02, 0x00, 0x5e, 0x77, 0x00, 0x02 };
static const guint8 our_ip[4] = { 10, 77, 0, 2 };
static const guint8 kernel_ip[4] = { 10, 77, 0, 1 };

#define LIVE_DRIVER "tap"
#include "live-env.h"

static int
attach(Env *e, UsStream *st, const char *name, guint32 flags, char *got_name)
{
	struct tap_attach ta = { .ta_flags = flags };
	g_strlcpy(ta.ta_name, name, sizeof ta.ta_name);
	struct tap_attach back;
	int err = do_ioctl(e, st, TAP_ATTACH, &ta, sizeof ta, &back, sizeof back);
	if (err == 0 && got_name != NULL)
		g_strlcpy(got_name, back.ta_name, TAP_NAMESZ);
	return err;
}

static struct tap_status
status_of(Env *e, UsStream *st)
{
	struct tap_status ts;
	g_assert_cmpint(do_ioctl(e, st, TAP_STATUS, NULL, 0, &ts, sizeof ts), ==, 0);
	return ts;
}

static void
send_bytes(UsStream *st, const guint8 *f, size_t len)
{
	mblk_t *mp = us_msg_from(f, len, 0);
	g_assert_nonnull(mp);
	put(us_stream_head_wq(st), mp);
}

/* The kernel's MTU of an interface, read directly. */
static int
kernel_mtu(const char *name)
{
	struct ifreq ifr = { 0 };
	g_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	g_assert_cmpint(s, >=, 0);
	g_assert_cmpint(ioctl(s, SIOCGIFMTU, &ifr), ==, 0);
	close(s);
	return ifr.ifr_mtu;
}

#include "live-exchange.h"

/* ------------------------------------------------------------------ */
/* Live tests (in a child, in a new network namespace)               */
/* ------------------------------------------------------------------ */

/* The kernel resolves nothing by itself here: the stack asks, the kernel
 * answers, then a ping both ways of the MAC the kernel reported. */
static void
body_arp_ping(gpointer data)
{
	guint32 flags = GPOINTER_TO_UINT(data);
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	char name[TAP_NAMESZ];
	g_assert_cmpint(attach(&e, st, "ustap0", flags | TAP_F_UP, name), ==, 0);
	g_assert_cmpstr(name, ==, "ustap0");
	struct tap_status ts = status_of(&e, st);
	g_assert_cmpstr(ts.ts_name, ==, "ustap0");
	g_assert_cmpint(ts.ts_ifindex, >, 0);
	g_assert_cmpuint(ts.ts_flags, ==, flags | TAP_F_UP);
	live_ip("addr", "add", "10.77.0.1/24", "dev", "ustap0", NULL);
	Exchange x;
	exchange_init(&x, &e, st);
	resolve_kernel(&x, ts.ts_kernel_mac);
	ping_kernel(&x, 3, 56);
	ping_kernel(&x, 1, 1400); /* a full-size frame */
	exchange_fini(&x);
	g_assert_cmpuint(stat_of(st, "frames_out"), >=, 5);
	g_assert_cmpuint(stat_of(st, "frames_in"), >=, 5);
	g_assert_cmpuint(stat_of(st, "bytes_in"), >=, 1400);
	g_assert_cmpuint(stat_of(st, "wakeups"), >=, 1);
	g_assert_cmpuint(stat_of(st, "errors"), ==, 0);
	g_assert_cmpuint(stat_of(st, "drop_send"), ==, 0);
	us_stream_close(st);
	env_fini(&e);
}

static void
test_live_arp_ping(void)
{
	live_run_in_netns(body_arp_ping, GUINT_TO_POINTER(0));
}

static void
test_live_vnet_hdr(void)
{
	live_run_in_netns(body_arp_ping, GUINT_TO_POINTER(TAP_F_VNET_HDR));
}

static void
test_live_vnet_offload(void)
{
	live_run_in_netns(body_arp_ping, GUINT_TO_POINTER(TAP_F_VNET_HDR | TAP_F_OFFLOAD));
}

static void
test_live_multiqueue(void)
{
	live_run_in_netns(body_arp_ping, GUINT_TO_POINTER(TAP_F_MULTIQUEUE));
}

/* TCP from the kernel's socket to the stack (port 7777), for offloads. */
typedef struct {
	Exchange *x;
	guint8 frame[70000]; /* the last TCP frame of interest */
	size_t len;
	guint8 want_flags;  /* TCP flags awaited (all must be set) */
	size_t min_payload; /* TCP payload awaited, at least */
	guint16 cksumflags; /* the frame's offload marks (stream.h) */
	guint16 cksumstart, cksumstuff, lsomss;
} TcpWait;

/* Completes the partial checksum of the frame in w as a NIC would, after
 * checking that the marks point at the TCP checksum field. */
static void
tcp_complete(TcpWait *w)
{
	guint8 *ip = w->frame + ETH_LEN;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4, tot = live_get16(ip + 2);
	g_assert_true(w->cksumflags & HCK_PARTIALCKSUM);
	g_assert_cmpuint(w->cksumstart, ==, ihl);
	g_assert_cmpuint(w->cksumstuff, ==, ihl + 16);
	live_put16(ip + w->cksumstuff, live_cksum(ip + w->cksumstart, tot - w->cksumstart));
}

static gboolean
tcp_valid(const guint8 *f, size_t len)
{
	const guint8 *ip = f + ETH_LEN;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	size_t tot = live_get16(ip + 2);
	g_assert_cmpuint(tot, ==, len - ETH_LEN); /* one IP packet, whole segment */
	size_t tcplen = tot - ihl;
	guint8 *ph = g_malloc(12 + tcplen);
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	live_put16(ph + 10, (guint16)tcplen);
	memcpy(ph + 12, ip + ihl, tcplen);
	gboolean ok = live_cksum(ph, 12 + tcplen) == 0;
	g_free(ph);
	return ok;
}

static gboolean
tcp_done(gpointer data)
{
	TcpWait *w = data;
	mblk_t *mp;
	while ((mp = us_plain_head_get(w->x->st)) != NULL) {
		size_t len = msgdsize(mp);
		guint8 *f = w->frame;
		g_assert_cmpuint(len, <=, sizeof w->frame);
		us_msgcopyout(mp, 0, f, len);
		w->cksumflags = DB_CKSUMFLAGS(mp);
		w->cksumstart = DB_CKSUMSTART(mp);
		w->cksumstuff = DB_CKSUMSTUFF(mp);
		w->lsomss = DB_LSOMSS(mp);
		freemsg(mp);
		const guint8 *ip = f + ETH_LEN;
		if (len < ETH_LEN + 40 || live_get16(f + 12) != 0x0800 || ip[9] != 6 ||
		    memcmp(ip + 12, kernel_ip, 4) != 0) {
			answer_arp(w->x, f, len);
			continue;
		}
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
		const guint8 *tcp = ip + ihl;
		size_t payload = live_get16(ip + 2) - ihl - (size_t)(tcp[12] >> 4) * 4;
		if (live_get16(tcp + 2) == 7777 && (tcp[13] & w->want_flags) == w->want_flags &&
		    payload >= w->min_payload) {
			w->len = len;
			return TRUE;
		}
	}
	return FALSE;
}

/* Our SYN-ACK to the kernel's SYN in w->frame (MSS 1460, window 65535). */
static void
send_synack(TcpWait *w)
{
	const guint8 *syn = w->frame + ETH_LEN + 20;
	guint8 f[ETH_LEN + 20 + 24];
	live_eth(f, w->x->kmac, our_mac, 0x0800);
	guint8 *ip = f + ETH_LEN, *tcp = ip + 20;
	memset(ip, 0, 44);
	ip[0] = 0x45;
	live_put16(ip + 2, 44);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, our_ip, 4);
	memcpy(ip + 16, kernel_ip, 4);
	live_put16(ip + 10, live_cksum(ip, 20));
	live_put16(tcp, 7777);
	memcpy(tcp + 2, syn, 2); /* to the kernel's port */
	guint32 ack =
		((guint32)syn[4] << 24 | (guint32)syn[5] << 16 | (guint32)syn[6] << 8 | syn[7]) + 1;
	live_put16(tcp + 4, 0); /* our ISN: 1000 */
	live_put16(tcp + 6, 1000);
	live_put16(tcp + 8, (guint16)(ack >> 16));
	live_put16(tcp + 10, (guint16)ack);
	tcp[12] = 6 << 4;
	tcp[13] = 0x12; /* SYN|ACK */
	live_put16(tcp + 14, 65535);
	tcp[20] = 2; /* MSS 1460 */
	tcp[21] = 4;
	live_put16(tcp + 22, 1460);
	guint8 ph[12 + 24];
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	live_put16(ph + 10, 24);
	memcpy(ph + 12, tcp, 24);
	live_put16(tcp + 16, live_cksum(ph, sizeof ph));
	send_bytes(w->x->st, f, sizeof f);
}

/* With offloads the kernel sends partial checksums and TSO segments, which
 * the driver passes up marked (HCK_PARTIALCKSUM, HW_LSO with the MSS): a
 * 10000-byte write comes up as one large TCP frame whose checksum, completed
 * from the marks, is valid. */
static void
body_offload_tcp(gpointer data)
{
	(void)data;
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	g_assert_cmpint(attach(&e, st, "usgso0", TAP_F_UP | TAP_F_VNET_HDR | TAP_F_OFFLOAD, NULL),
			==, 0);
	struct tap_status ts = status_of(&e, st);
	live_ip("addr", "add", "10.77.0.1/24", "dev", "usgso0", NULL);
	Exchange x;
	exchange_init(&x, &e, st);
	resolve_kernel(&x, ts.ts_kernel_mac);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	g_assert_cmpint(fd, >=, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7777) };
	memcpy(&sin.sin_addr, our_ip, 4);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof sin), ==, -1);
	g_assert_cmpint(errno, ==, EINPROGRESS);
	TcpWait *w = g_new0(TcpWait, 1);
	w->x = &x;
	w->want_flags = 0x02; /* SYN */
	g_assert_true(us_world_run_until(e.world, tcp_done, w, 5 * SEC));
	tcp_complete(w);
	g_assert_true(tcp_valid(w->frame, w->len));
	g_assert_cmpuint(stat_of(st, "csum_partial_in"), >=, 1);
	send_synack(w);
	for (int i = 0; i < 500; i++) { /* the handshake completes in the kernel */
		us_world_run_until(e.world, NULL, NULL, SEC / 100);
		if (send(fd, "", 0, MSG_NOSIGNAL) == 0)
			break;
	}
	static guint8 payload[10000];
	memset(payload, 'u', sizeof payload);
	g_assert_cmpint(send(fd, payload, sizeof payload, MSG_NOSIGNAL), ==, sizeof payload);
	w->want_flags = 0x10;  /* ACK */
	w->min_payload = 1461; /* more than one MSS: unsplit */
	g_assert_true(us_world_run_until(e.world, tcp_done, w, 5 * SEC));
	g_assert_cmpuint(w->len, >, 1514);
	g_assert_true(w->cksumflags & HW_LSO);
	g_assert_cmpuint(w->lsomss, >=, 536);
	g_assert_cmpuint(w->lsomss, <=, 1460);
	tcp_complete(w);
	g_assert_true(tcp_valid(w->frame, w->len));
	g_assert_cmpuint(stat_of(st, "gso_in"), >=, 1);
	g_assert_cmpuint(stat_of(st, "gso_tcpv4"), >=, 1);
	/* (last_gso_size may already describe a later frame of the batch.) */
	g_test_message("GSO frame of %zu bytes, hdr_len %" G_GUINT64_FORMAT, w->len,
		       stat_of(st, "last_hdr_len"));
	close(fd);
	g_free(w);
	exchange_fini(&x);
	us_stream_close(st);
	env_fini(&e);
}

static void
test_live_offload_tcp(void)
{
	live_run_in_netns(body_offload_tcp, NULL);
}

/* Attaching by parameters; MTU and up applied to the kernel's interface. */
static void
body_params(gpointer data)
{
	(void)data;
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	queue_t *rq = us_stream_driver_rq(st);
	GError *error = NULL;
	g_assert_true(us_param_set(rq, "mtu", "1400", &error));
	g_assert_true(us_param_set(rq, "up", "1", &error));
	g_assert_true(us_param_set(rq, "ifname", "usparam0", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stat_of(st, "attached"), ==, 1);
	g_assert_cmpuint(stat_of(st, "ifindex"), >, 0);
	g_assert_cmpint(kernel_mtu("usparam0"), ==, 1400);
	g_assert_true(us_param_set(rq, "mtu", "9000", &error));
	g_assert_no_error(error);
	g_assert_cmpint(kernel_mtu("usparam0"), ==, 9000);
	struct tap_status ts = status_of(&e, st);
	g_assert_cmpuint(ts.ts_mtu, ==, 9000);
	g_assert_true(ts.ts_flags & TAP_F_UP);
	/* Framing can no longer change, and a second attach is refused. */
	g_assert_false(us_param_set(rq, "vnet_hdr", "1", &error));
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_clear_error(&error);
	g_assert_false(us_param_set(rq, "ifname", "other0", &error));
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_clear_error(&error);
	char *v = us_param_get(rq, "ifname", NULL);
	g_assert_cmpstr(v, ==, "usparam0");
	g_free(v);
	g_assert_cmpint(attach(&e, st, "other0", 0, NULL), ==, EBUSY);
	/* Jumbo frames now fit the receive buffers: a 8000-byte ping. */
	live_ip("addr", "add", "10.77.0.1/24", "dev", "usparam0", NULL);
	Exchange x;
	exchange_init(&x, &e, st);
	resolve_kernel(&x, ts.ts_kernel_mac);
	ping_kernel(&x, 2, 8000);
	exchange_fini(&x);
	us_stream_close(st);
	/* Not persistent: the interface went with its only stream. */
	g_assert_cmpuint(if_nametoindex("usparam0"), ==, 0);
	env_fini(&e);
}

static void
test_live_params(void)
{
	live_run_in_netns(body_params, NULL);
}

/* Two streams on one name: refused without multiqueue, allowed with. */
static void
body_busy(gpointer data)
{
	(void)data;
	Env e;
	env_init(&e);
	UsStream *a = live_stream(&e), *b = live_stream(&e);
	g_assert_cmpint(attach(&e, a, "usbusy0", 0, NULL), ==, 0);
	g_assert_cmpint(attach(&e, b, "usbusy0", 0, NULL), ==, EBUSY);
	g_assert_cmpuint(stat_of(b, "attached"), ==, 0);
	UsStream *c = live_stream(&e), *d = live_stream(&e);
	g_assert_cmpint(attach(&e, c, "usmq0", TAP_F_MULTIQUEUE, NULL), ==, 0);
	g_assert_cmpint(attach(&e, d, "usmq0", TAP_F_MULTIQUEUE, NULL), ==, 0);
	g_assert_cmpint(attach(&e, b, "usmq0", 0, NULL), ==, EINVAL); /* flags mismatch */
	g_assert_cmpuint(stat_of(c, "ifindex"), ==, stat_of(d, "ifindex"));
	/* An empty name lets the kernel choose. */
	char name[TAP_NAMESZ];
	g_assert_cmpint(attach(&e, b, "", 0, name), ==, 0);
	g_assert_true(g_str_has_prefix(name, "tap"));
	us_stream_close(c);
	g_assert_cmpuint(if_nametoindex("usmq0"), >, 0); /* d still holds a queue */
	us_stream_close(d);
	g_assert_cmpuint(if_nametoindex("usmq0"), ==, 0);
	us_stream_close(a);
	us_stream_close(b);
	env_fini(&e);
}

static void
test_live_busy(void)
{
	live_run_in_netns(body_busy, NULL);
}

/* A reader that holds the frames: reading pauses (flow_stops) and every
 * reply still arrives once the reader drains; none is lost. */
static void
body_flow_control(gpointer data)
{
	(void)data;
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	g_assert_cmpint(attach(&e, st, "usflow0", TAP_F_UP, NULL), ==, 0);
	struct tap_status ts = status_of(&e, st);
	live_ip("addr", "add", "10.77.0.1/24", "dev", "usflow0", NULL);
	Exchange x;
	exchange_init(&x, &e, st);
	resolve_kernel(&x, ts.ts_kernel_mac);
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

/* The I/O callback runs on the world's own thread when it has one. */
static void
send_on_world(gpointer data)
{
	gpointer *args = data;
	send_bytes(args[0], args[1], ARP_FRAME_LEN);
}

static gboolean
has_frame(gpointer data)
{
	return us_stream_head_rq(data)->q_first != NULL;
}

static void
body_world_thread(gpointer data)
{
	(void)data;
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	g_assert_cmpint(attach(&e, st, "usthr0", TAP_F_UP, NULL), ==, 0);
	struct tap_status ts = status_of(&e, st);
	live_ip("addr", "add", "10.77.0.1/24", "dev", "usthr0", NULL);
	g_assert_true(us_world_start_thread(e.world, NULL));
	guint8 f[ARP_FRAME_LEN];
	static const guint8 zero[6];
	live_arp(f, 1, live_bcast, our_mac, our_ip, zero, kernel_ip);
	gpointer args[2] = { st, f };
	us_world_call(e.world, send_on_world, args);
	g_assert_true(us_world_run_until(e.world, has_frame, st, 5 * SEC));
	us_world_stop_thread(e.world);
	gboolean got = FALSE;
	mblk_t *mp;
	while ((mp = us_plain_head_get(st)) != NULL) {
		guint8 buf[128], sha[6];
		size_t len = us_msgcopyout(mp, 0, buf, sizeof buf);
		if (live_is_arp(buf, len, 2, kernel_ip, our_ip, sha))
			got = memcmp(sha, ts.ts_kernel_mac, 6) == 0;
		freemsg(mp);
	}
	g_assert_true(got);
	us_stream_close(st);
	env_fini(&e);
}

/* The "mac" parameter sets the interface's (kernel side) MAC; a group
 * address is refused. */
static void
body_mac(gpointer data)
{
	(void)data;
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	GError *error = NULL;
	g_assert_true(us_param_set(us_stream_driver_rq(st), "mac", "02:00:5e:77:09:09", &error));
	g_assert_no_error(error);
	g_assert_cmpint(attach(&e, st, "usmac0", TAP_F_UP, NULL), ==, 0);
	struct tap_status ts = status_of(&e, st);
	static const guint8 want[6] = { 0x02, 0x00, 0x5e, 0x77, 0x09, 0x09 };
	g_assert_cmpmem(ts.ts_kernel_mac, 6, want, 6);
	/* Changed while attached and up. */
	g_assert_true(us_param_set(us_stream_driver_rq(st), "mac", "02:00:5e:77:09:0a", &error));
	g_assert_no_error(error);
	ts = status_of(&e, st);
	g_assert_cmpint(ts.ts_kernel_mac[5], ==, 0x0a);
	g_assert_false(us_param_set(us_stream_driver_rq(st), "mac", "01:00:5e:00:00:01", &error));
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_clear_error(&error);
	g_assert_false(us_param_set(us_stream_driver_rq(st), "mac", "not-a-mac", &error));
	g_clear_error(&error);
	us_stream_close(st);
	env_fini(&e);
}

static void
test_live_mac(void)
{
	live_run_in_netns(body_mac, NULL);
}

static void
test_live_world_thread(void)
{
	live_run_in_netns(body_world_thread, NULL);
}

/* ------------------------------------------------------------------ */
/* Without the kernel's peer                                         */
/* ------------------------------------------------------------------ */

/* Frames written before attaching are dropped and counted. */
static void
test_detached_drop(void)
{
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	guint8 f[60] = { 0 };
	send_bytes(st, f, sizeof f);
	send_bytes(st, f, sizeof f);
	us_world_run_pending(e.world);
	g_assert_cmpuint(stat_of(st, "drop_detached"), ==, 2);
	g_assert_cmpuint(us_drop_count(us_stream_driver_rq(st), 0), ==, 2);
	g_assert_cmpuint(stat_of(st, "frames_out"), ==, 0);
	struct tap_status ts = status_of(&e, st);
	g_assert_cmpstr(ts.ts_name, ==, "");
	us_stream_close(st);
	env_fini(&e);
}

/* Malformed requests are refused before anything is opened. */
static void
test_bad_ioctls(void)
{
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	g_assert_cmpint(do_ioctl(&e, st, TAP_ATTACH, NULL, 0, NULL, 0), ==, EINVAL);
	guint8 short_arg[4] = { 0 };
	g_assert_cmpint(do_ioctl(&e, st, TAP_ATTACH, short_arg, sizeof short_arg, NULL, 0), ==,
			EINVAL);
	struct tap_attach ta;
	memset(&ta, 'x', sizeof ta); /* no NUL in the name */
	g_assert_cmpint(do_ioctl(&e, st, TAP_ATTACH, &ta, sizeof ta, NULL, 0), ==, EINVAL);
	memset(&ta, 0, sizeof ta);
	ta.ta_flags = TAP_F_OFFLOAD; /* offload without vnet_hdr */
	g_assert_cmpint(do_ioctl(&e, st, TAP_ATTACH, &ta, sizeof ta, NULL, 0), ==, EINVAL);
	g_assert_cmpint(do_ioctl(&e, st, ('T' << 8) | 99, NULL, 0, NULL, 0), ==, EINVAL);
	GError *error = NULL;
	g_assert_false(us_param_set(us_stream_driver_rq(st), "batch", "0", &error));
	g_clear_error(&error);
	g_assert_cmpuint(stat_of(st, "attached"), ==, 0);
	us_stream_close(st);
	env_fini(&e);
}

/* Without CAP_NET_ADMIN (dropped in the child) creating an interface is
 * refused with EPERM, by the ioctl and by the parameter. */
static void
body_eperm(gpointer data)
{
	(void)data;
	live_drop_net_caps();
	Env e;
	env_init(&e);
	UsStream *st = live_stream(&e);
	g_assert_cmpint(attach(&e, st, "usperm0", TAP_F_UP, NULL), ==, EPERM);
	GError *error = NULL;
	g_assert_false(us_param_set(us_stream_driver_rq(st), "ifname", "usperm1", &error));
	g_assert_error(error, US_ERROR, US_ERROR_ERRNO);
	g_assert_nonnull(strstr(error->message, g_strerror(EPERM)));
	g_clear_error(&error);
	g_assert_cmpuint(stat_of(st, "attached"), ==, 0);
	g_assert_cmpuint(if_nametoindex("usperm0"), ==, 0);
	us_stream_close(st);
	env_fini(&e);
}

static void
test_live_eperm(void)
{
	live_run_in_netns(body_eperm, NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_true(us_registry_add(&us_tap_desc, NULL));
	g_test_add_func("/tap/detached/drop", test_detached_drop);
	g_test_add_func("/tap/ioctl/bad", test_bad_ioctls);
	g_test_add_func("/tap/live/arp-ping", test_live_arp_ping);
	g_test_add_func("/tap/live/vnet-hdr", test_live_vnet_hdr);
	g_test_add_func("/tap/live/vnet-offload", test_live_vnet_offload);
	g_test_add_func("/tap/live/multiqueue", test_live_multiqueue);
	g_test_add_func("/tap/live/offload-tcp", test_live_offload_tcp);
	g_test_add_func("/tap/live/params", test_live_params);
	g_test_add_func("/tap/live/mac", test_live_mac);
	g_test_add_func("/tap/live/busy", test_live_busy);
	g_test_add_func("/tap/live/flow-control", test_live_flow_control);
	g_test_add_func("/tap/live/world-thread", test_live_world_thread);
	g_test_add_func("/tap/errors/eperm", test_live_eperm);
	return g_test_run();
}
