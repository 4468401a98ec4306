/* SPDX-License-Identifier: MIT */
/*
 * test-ip-replay.c -- real captures from ../shared/pcaps replayed through
 * pcap / ether / arp / ip in virtual time:
 *  - echo requests from real hosts are answered; each answer's ICMP message
 *    is byte-identical to the reply the real host sent (IP IDs and TTLs
 *    differ and are not compared: the normalisation of ARCHITECTURE.md §9);
 *  - fragmented captures reassemble (a raw binding sees the datagrams), or
 *    are dropped for the documented reasons (overlap, teardrop, timeout);
 *  - malformed captures are dropped and counted without a crash or a leak.
 * The stack takes the identity (MAC, address) of the capture's target;
 * senders become static ARP entries, as the captures hold no ARP for them.
 */
#include "iptest.h"

#include "../../drivers/pcap/pcap-drv.h"

#include <glib/gstdio.h>
#include <pcap/pcap.h>

typedef struct {
	UsWorld *w;
	UsStack *s;
	int ipfd, raw;
	queue_t *pcapq;
	char *dir, *out;
	gint64 live0;
} Rp;

static const char *
capture_path(const char *rel)
{
	const char *env = g_getenv("US_PCAP_DIR");
	g_assert_nonnull(env);
	char *p = g_build_filename(env, rel, NULL);
	const char *s = g_intern_string(p);
	g_free(p);
	return s;
}

/* Every frame of a capture. */
static GPtrArray *
read_frames(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	g_assert_nonnull(p);
	GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	struct pcap_pkthdr *h;
	const u_char *d;
	while (pcap_next_ex(p, &h, &d) == 1)
		g_ptr_array_add(a, g_bytes_new(d, h->caplen));
	pcap_close(p);
	return a;
}

/* The IPv4 header of an (untagged or 802.1Q) Ethernet frame, or NULL. */
static const uint8_t *
frame_ip(GBytes *b, size_t *len)
{
	gsize n;
	const uint8_t *f = g_bytes_get_data(b, &n);
	size_t off = 14;
	if (n >= 18 && f[12] == 0x81 && f[13] == 0x00)
		off = 18;
	if (n < off + 20 || f[off - 2] != 0x08 || f[off - 1] != 0x00 || (f[off] >> 4) != 4)
		return NULL;
	*len = n - off;
	return f + off;
}

static void
mac_text(const uint8_t *m, char *out)
{
	g_snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Recomputes the IPv4 header checksum at ip. */
static void
refix_at(uint8_t *ip)
{
	memset(ip + 10, 0, 2);
	uint16_t s = us_cksum(ip, (size_t)(ip[0] & 15) * 4);
	memcpy(ip + 10, &s, 2);
}

/* The destination MAC of the first IPv4 frame to addr in frames. */
static void
target_mac(GPtrArray *frames, uint32_t addr, char *out)
{
	for (guint i = 0; i < frames->len; i++) {
		size_t n;
		const uint8_t *ip = frame_ip(frames->pdata[i], &n);
		if (ip != NULL && memcmp(ip + 16, &addr, 4) == 0) {
			mac_text(g_bytes_get_data(frames->pdata[i], NULL), out);
			return;
		}
	}
	g_assert_not_reached();
}

/* Builds a host with the MAC (NULL: the one the capture sends to) and
 * address given on a pcap interface, the senders of every IPv4 frame to
 * addr as static neighbours, a default route on the link (the captures'
 * peers are not all on one subnet), and a raw binding. */
static void
rp_init(Rp *r, const char *capture, const char *mac, const char *addr)
{
	r->live0 = us_msg_live_count();
	r->w = us_world_new(US_CLOCK_VIRTUAL, 3);
	r->s = us_stack_new(r->w, "replay");
	r->ipfd = it_open(r->s, "ip");
	int fd = it_open(r->s, "pcap");
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "ether"), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_PUSH, "arp"), ==, 0);
	uint32_t me = it_ip(addr);
	GPtrArray *frames = read_frames(capture);
	char derived[18];
	if (mac == NULL) {
		target_mac(frames, me, derived);
		mac = derived;
	}
	it_param(it_module_wq(fd, "ether"), "mac", mac);
	it_param(it_module_wq(fd, "arp"), ARP_PARAM_ANNOUNCE, "0");
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (guint i = 0; i < frames->len; i++) {
		size_t n;
		const uint8_t *ip = frame_ip(frames->pdata[i], &n);
		uint32_t src, dst;
		if (ip == NULL)
			continue;
		memcpy(&src, ip + 12, 4);
		memcpy(&dst, ip + 16, 4);
		if (dst != me || src == 0 || g_hash_table_contains(seen, GUINT_TO_POINTER(src)))
			continue;
		g_hash_table_add(seen, GUINT_TO_POINTER(src));
		struct arp_static_req sr = { .addr = src };
		memcpy(sr.mac, g_bytes_get_data(frames->pdata[i], NULL) + 6, 6);
		g_assert_cmpint(it_istr(fd, ARP_ADD_STATIC, &sr, sizeof sr), ==, 0);
	}
	g_hash_table_destroy(seen);
	g_ptr_array_free(frames, TRUE);
	r->pcapq = us_stream_driver_rq(us_fd_stream(fd));
	int muxid = us_ioctl(r->ipfd, I_PLINK, fd);
	g_assert_cmpint(muxid, >, 0);
	us_close(fd);
	struct ip_if_req ir = { .muxid = muxid };
	g_strlcpy(ir.name, "eth0", sizeof ir.name);
	g_assert_cmpint(it_istr(r->ipfd, IP_IF_SET, &ir, sizeof ir), ==, 0);
	it_addr(r->ipfd, "eth0", addr, 24);
	g_assert_cmpint(it_route(r->ipfd, "0.0.0.0", 0, NULL, "eth0", 0), ==, 0);
	r->raw = it_transport(r->s, 0, IP_BINDF_RAW);
	r->dir = g_dir_make_tmp("test-ip-replay-XXXXXX", NULL);
	r->out = g_build_filename(r->dir, "out.pcap", NULL);
	it_param(r->pcapq, "out", r->out);
}

static gboolean
rp_eof(gpointer data)
{
	guint64 eof = 0;
	g_assert_true(us_stat_get(data, "eof", &eof));
	return eof != 0;
}

/* Replays capture (at speed 0 when it has non-monotonic times), then lets
 * extra_ns of world time pass; the output file is complete afterwards. */
static void
rp_run(Rp *r, const char *capture, gint64 extra_ns)
{
	it_param(r->pcapq, "in", capture);
	g_assert_true(
		us_world_run_until(r->w, rp_eof, r->pcapq, 3600 * G_GINT64_CONSTANT(1000000000)));
	us_world_advance(r->w, 10 * IT_MS + extra_ns);
	it_param(r->pcapq, "out", "");
}

static void
rp_fini(Rp *r)
{
	us_close(r->raw);
	us_close(r->ipfd);
	us_world_free(r->w);
	g_assert_cmpint(us_msg_live_count(), ==, r->live0);
}

/* Removes the output capture (after rp_fini, once it has been read). */
static void
rp_rm(Rp *r)
{
	g_unlink(r->out);
	g_rmdir(r->dir);
	g_free(r->out);
	g_free(r->dir);
}

/* The datagrams the raw binding received, as GBytes (from the IP header). */
static GPtrArray *
rp_raw(Rp *r)
{
	GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	uint8_t c[64];
	static uint8_t d[65536];
	for (;;) {
		size_t n = sizeof d;
		uint32_t prim = it_recv(r->raw, c, d, &n);
		if (prim == 0)
			break;
		g_assert_cmphex(prim, ==, IP_UNITDATA_IND);
		if (d[9] != 1) /* ICMP we sent ourselves is not in the capture */
			g_ptr_array_add(a, g_bytes_new(d, n));
	}
	return a;
}

/* The ICMP messages (after the IP header) of echo replies from addr in a
 * capture, keyed by id << 16 | seq. */
static GHashTable *
echo_replies(const char *path, uint32_t from)
{
	GHashTable *t = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					      (GDestroyNotify)g_bytes_unref);
	GPtrArray *frames = read_frames(path);
	for (guint i = 0; i < frames->len; i++) {
		size_t n;
		const uint8_t *ip = frame_ip(frames->pdata[i], &n);
		if (ip == NULL || ip[9] != 1 || memcmp(ip + 12, &from, 4) != 0)
			continue;
		size_t hl = (size_t)(ip[0] & 15) * 4;
		size_t tot = ((size_t)ip[2] << 8) | ip[3];
		if (tot > n || tot < hl + 8 || ip[hl] != 0 || (ip[6] & 0x3f) || ip[7])
			continue; /* not a whole echo reply */
		guint key = ((guint)ip[hl + 4] << 24) | ((guint)ip[hl + 5] << 16) |
			    ((guint)ip[hl + 6] << 8) | ip[hl + 7];
		g_hash_table_insert(t, GUINT_TO_POINTER(key), g_bytes_new(ip + hl, tot - hl));
	}
	g_ptr_array_free(frames, TRUE);
	return t;
}

/* Echo requests in a capture answered; replies equal the recorded ones. */
static void
replay_echo(const char *rel, const char *mac, const char *addr, guint expect)
{
	const char *cap = capture_path(rel);
	Rp r;
	rp_init(&r, cap, mac, addr);
	rp_run(&r, cap, 0);
	guint64 reps = it_stat(r.ipfd, "icmpOutEchoReps");
	rp_fini(&r);
	g_assert_cmpuint(reps, ==, expect);
	GHashTable *want = echo_replies(cap, it_ip(addr));
	GHashTable *got = echo_replies(r.out, it_ip(addr));
	g_assert_cmpuint(g_hash_table_size(got), ==, expect);
	GHashTableIter it;
	gpointer k, v;
	guint compared = 0;
	g_hash_table_iter_init(&it, want);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		GBytes *mine = g_hash_table_lookup(got, k);
		g_assert_nonnull(mine);
		g_assert_true(g_bytes_equal(mine, v));
		compared++;
	}
	g_assert_cmpuint(compared, >, 0);
	g_hash_table_destroy(want);
	g_hash_table_destroy(got);
	rp_rm(&r);
}

static void
test_ping_lan(void)
{
	replay_echo("icmp/suricata_icmpv4-ping-lan.pcap", "dc:4a:3e:7d:d5:59", "192.168.1.13", 75);
}

static void
test_sanders_echo(void)
{
	replay_echo("icmp/sanders_icmp_echo.pcapng", "00:12:80:4b:c0:7f", "192.168.100.1", 4);
}

/* Two fragments of an echo request: the 1428-byte reply. */
static void
test_frag_ping(void)
{
	replay_echo("ipv4-frag/suricata_ipv4frags-ping.pcap", "08:00:27:e2:9f:a6", "2.1.1.1", 1);
}

/* The request fragments carry IP checksum 0 (captured before offload):
 * dropped as such; once fixed, the 3528-byte reply leaves in 3 fragments
 * of at most 1500 bytes. */
static void
test_frag_source(void)
{
	const char *cap = capture_path("ipv4-frag/sanders_ip_frag_source.pcapng");
	const char *mac = "00:21:29:66:71:95", *addr = "192.168.0.128";
	Rp r;
	rp_init(&r, cap, mac, addr);
	rp_run(&r, cap, 0);
	g_assert_cmpuint(it_drops(r.ipfd, IP_DROP_CKSUM), ==, 3);
	rp_fini(&r);
	rp_rm(&r);

	/* fix the checksums (tcprewrite --fixcsum) into a copy */
	char *dir = g_dir_make_tmp("test-ip-fix-XXXXXX", NULL);
	char *fixed = g_build_filename(dir, "fixed.pcap", NULL);
	GPtrArray *frames = read_frames(cap);
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *dump = pcap_dump_open(dead, fixed);
	g_assert_nonnull(dump);
	for (guint i = 0; i < frames->len; i++) {
		gsize n;
		const void *src = g_bytes_get_data(frames->pdata[i], &n);
		uint8_t *f = g_memdup2(src, n);
		size_t il;
		if (frame_ip(frames->pdata[i], &il) != NULL)
			refix_at(f + 14);
		struct pcap_pkthdr h = { .ts = { .tv_sec = 1, .tv_usec = (suseconds_t)i },
					 .caplen = (bpf_u_int32)n,
					 .len = (bpf_u_int32)n };
		pcap_dump((u_char *)dump, &h, f);
		g_free(f);
	}
	pcap_dump_close(dump);
	pcap_close(dead);
	g_ptr_array_free(frames, TRUE);

	rp_init(&r, fixed, mac, addr);
	rp_run(&r, fixed, 0);
	g_assert_cmpuint(it_stat(r.ipfd, IP_STAT_REASM_OKS), ==, 1);
	g_assert_cmpuint(it_stat(r.ipfd, "icmpOutEchoReps"), ==, 1);
	g_assert_cmpuint(it_stat(r.ipfd, IP_STAT_FRAG_CREATES), ==, 3);
	rp_fini(&r);
	GPtrArray *out = read_frames(r.out);
	g_assert_cmpuint(out->len, ==, 3);
	size_t total = 0;
	for (guint i = 0; i < out->len; i++) {
		size_t n = 0;
		const uint8_t *ip = frame_ip(out->pdata[i], &n);
		g_assert_nonnull(ip);
		g_assert_cmpuint(n, <=, 1500);
		total += n - 20;
	}
	g_assert_cmpuint(total, ==, 3528 - 20);
	g_ptr_array_free(out, TRUE);
	rp_rm(&r);
	g_unlink(fixed);
	g_rmdir(dir);
	g_free(fixed);
	g_free(dir);
}

/* Passive fragment captures: what a raw binding on the target sees. */
typedef struct {
	const char *rel, *mac, *addr;
	guint datagrams;     /* reassembled and delivered */
	guint64 frag_drops;  /* IP_DROP_FRAG */
	guint64 timeouts;    /* IP_DROP_REASS_TIMEOUT */
	const char *content; /* a string one delivered datagram holds, or NULL */
} FragCase;

static gboolean
bytes_contain(GBytes *b, const char *s)
{
	gsize n;
	const char *d = g_bytes_get_data(b, &n);
	size_t sl = strlen(s);
	for (gsize i = 0; i + sl <= n; i++)
		if (memcmp(d + i, s, sl) == 0)
			return TRUE;
	return FALSE;
}

static void
frag_case(gconstpointer data)
{
	const FragCase *fc = data;
	const char *cap = capture_path(fc->rel);
	Rp r;
	rp_init(&r, cap, fc->mac, fc->addr);
	rp_run(&r, cap, 31 * G_GINT64_CONSTANT(1000000000));
	GPtrArray *got = rp_raw(&r);
	guint64 fd = it_drops(r.ipfd, IP_DROP_FRAG), to = it_drops(r.ipfd, IP_DROP_REASS_TIMEOUT);
	rp_fini(&r);
	rp_rm(&r);
	g_test_message("%u datagrams, %" G_GUINT64_FORMAT " fragment drops, %" G_GUINT64_FORMAT
		       " timeouts",
		       got->len, fd, to);
	g_assert_cmpuint(got->len, ==, fc->datagrams);
	g_assert_cmpuint(fd, ==, fc->frag_drops);
	g_assert_cmpuint(to, ==, fc->timeouts);
	if (fc->content != NULL) {
		gboolean found = FALSE;
		for (guint i = 0; i < got->len; i++)
			found |= bytes_contain(got->pdata[i], fc->content);
		g_assert_true(found);
	}
	g_ptr_array_free(got, TRUE);
}

/* The zeek captures' first fragment carries 18 bytes with MF set (not a
 * multiple of 8: RFC 791 forbids it) and is refused; in fragmented-2 the
 * last fragment then waits alone and times out; in fragmented-1 the third
 * fragment reaches past the end the last one fixed, and the datagram is
 * dropped. */
static const FragCase frag_cases[] = {
	{ "ipv4-frag/pcpp_frag_http_req.pcap", NULL, "216.137.33.81", 1, 0, 0,
	  "GET /convert_data.js" },
	{ "ipv4-frag/zeek_fragmented-2_dup.pcap", NULL, "164.1.123.61", 0, 2, 1, NULL },
	{ "ipv4-frag/zeek_fragmented-1_overlap.pcap", NULL, "164.1.123.61", 0, 2, 0, NULL },
	/* teardrop: the first fragment's 36 bytes with MF are refused; the
	 * second, inside it, waits alone and times out */
	{ "ipv4-frag/peafowl_teardrop.pcap", NULL, "129.111.30.27", 0, 1, 1, NULL },
	{ "ipv4-frag/zeek_fragmented-3_incomplete.pcap", NULL, "131.243.1.10", 0, 0, 1, NULL },
	/* fragroute evasion: the overlapping fragment drops the datagram; the
	 * unfragmented SYN/FIN segment is delivered */
	{ "ipv4-frag/zeek_fragmented-4_tiny-overlap.pcap", NULL, "10.0.0.1", 1, 1, 0, NULL },
	{ "ipv4-frag/peafowl_http_ip_fragmented_ooo.pcap", NULL, "10.0.2.102", 5, 0, 0, "HTTP" },
};

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ip/replay/echo/ping-lan", test_ping_lan);
	g_test_add_func("/ip/replay/echo/sanders", test_sanders_echo);
	g_test_add_func("/ip/replay/frag/ping", test_frag_ping);
	g_test_add_func("/ip/replay/frag/source-fixcsum", test_frag_source);
	for (guint i = 0; i < G_N_ELEMENTS(frag_cases); i++) {
		char *path =
			g_strdup_printf("/ip/replay/frag/%s", strrchr(frag_cases[i].rel, '/') + 1);
		g_test_add_data_func(path, &frag_cases[i], frag_case);
		g_free(path);
	}
	return g_test_run();
}
