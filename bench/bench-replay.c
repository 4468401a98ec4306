/* SPDX-License-Identifier: MIT */
/*
 * bench-replay -- offline replay throughput (issue 8's benchmark): a large
 * synthetic capture of ARP requests, ICMP echo requests and UDP datagrams
 * for one host, replayed through a config-built stack (pcap / ether / arp /
 * ip / udp, icmp) in virtual time with `us_cfg_replay`, everything the
 * stack answers written to an output capture -- against reading the same
 * capture with libpcap alone, measured in the same run.
 *
 * All frames carry one timestamp, so virtual time never waits: the figure
 * is CPU only.  Prints packets/s and the ratio to libpcap.
 *
 * Usage: bench-replay [--quick]
 */
#include "../config/config.h"
#include "../modules/ip/inet-cksum.h"

#include <ustreams/ustreams.h>

#include <arpa/inet.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static guint nframes = 600000;

static const char *config_text =
	"world { clock virtual; seed 1 }\n"
	"stack host {\n"
	"  interface eth0 {\n"
	"    driver pcap\n"
	"    push ether mac=02:00:00:00:00:01\n"
	"    push arp announce=0\n"
	"    address 10.0.0.1/24\n"
	"  }\n"
	"  neighbor 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0\n"
	"  set ip icmp_rate=1000000 icmp_burst=1000000\n"
	"}\n";

static gint64
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t
eth(uint8_t *f, uint16_t type)
{
	static const uint8_t us[6] = { 2, 0, 0, 0, 0, 1 }, peer[6] = { 2, 0, 0, 0, 0, 2 };
	memcpy(f, us, 6);
	memcpy(f + 6, peer, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return 14;
}

static size_t
arp_request(uint8_t *f)
{
	static const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	size_t o = eth(f, 0x0806);
	memset(f, 0xff, 6); /* broadcast */
	memcpy(f + o, hdr, 8);
	uint8_t *a = f + o + 8;
	memcpy(a, f + 6, 6);
	uint32_t spa = inet_addr("10.0.0.2"), tpa = inet_addr("10.0.0.1");
	memcpy(a + 6, &spa, 4);
	memset(a + 10, 0, 6);
	memcpy(a + 16, &tpa, 4);
	return 60; /* padded */
}

static size_t
ipv4(uint8_t *f, uint8_t proto, const uint8_t *payload, size_t plen, uint16_t id)
{
	size_t o = eth(f, 0x0800);
	uint8_t *h = f + o;
	memset(h, 0, 20);
	h[0] = 0x45;
	h[2] = (uint8_t)((20 + plen) >> 8);
	h[3] = (uint8_t)(20 + plen);
	h[4] = (uint8_t)(id >> 8);
	h[5] = (uint8_t)id;
	h[8] = 64;
	h[9] = proto;
	uint32_t s = inet_addr("10.0.0.2"), d = inet_addr("10.0.0.1");
	memcpy(h + 12, &s, 4);
	memcpy(h + 16, &d, 4);
	uint16_t sum = us_cksum(h, 20);
	memcpy(h + 10, &sum, 2);
	memcpy(h + 20, payload, plen);
	return o + 20 + plen;
}

static size_t
frame(uint8_t *f, guint i)
{
	uint8_t p[64] = { 0 };
	switch (i % 3) {
	case 0: return arp_request(f);
	case 1: {
		p[0] = 8;
		p[6] = (uint8_t)(i >> 8);
		p[7] = (uint8_t)i;
		uint16_t sum = us_cksum(p, 64);
		memcpy(p + 2, &sum, 2);
		return ipv4(f, 1, p, 64, (uint16_t)i);
	}
	default:
		p[0] = 0x30; /* source port 12345, destination port 9 (closed) */
		p[1] = 0x39;
		p[3] = 9;
		p[5] = 32;
		return ipv4(f, 17, p, 32, (uint16_t)i);
	}
}

static char *
write_capture(void)
{
	char *path = g_build_filename(g_get_tmp_dir(), "bench-replay-XXXXXX.pcap", NULL);
	int fd = g_mkstemp(path);
	close(fd);
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	uint8_t f[128];
	for (guint i = 0; i < nframes; i++) {
		size_t n = frame(f, i);
		struct pcap_pkthdr h = { .ts = { 1000, 0 }, .caplen = (bpf_u_int32)n,
					 .len = (bpf_u_int32)n };
		pcap_dump((u_char *)d, &h, f);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	return path;
}

static double
bench_libpcap(const char *path)
{
	gint64 t0 = now_ns();
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	guint n = 0;
	volatile u_char sink = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		sink ^= d[h->caplen - 1];
		n++;
	}
	pcap_close(p);
	(void)sink;
	return (double)(now_ns() - t0) / n;
}

static double
bench_stack(const char *in, guint64 *answers)
{
	GError *error = NULL;
	UsCfg *cfg = us_cfg_parse_text("bench-replay.conf", config_text, &error);
	if (cfg == NULL || !us_cfg_check(cfg, &error))
		g_error("config: %s", error->message);
	UsCfgRun *run = us_cfg_build(cfg, &error);
	if (run == NULL)
		g_error("build: %s", error->message);
	char *out = g_strconcat(in, ".out", NULL);
	gint64 t0 = now_ns();
	if (!us_cfg_replay(run, "host", "eth0", in, out, 0, NULL, NULL, &error))
		g_error("replay: %s", error->message);
	double ns = (double)(now_ns() - t0) / nframes;
	us_stat_get(us_cfg_run_iface_driver(run, "host", "eth0"), "frames_out", answers);
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_unlink(out);
	g_free(out);
	return ns;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--quick") == 0)
		nframes = 60000;
	us_init();
	char *path = write_capture();
	double lib = bench_libpcap(path);
	guint64 answers = 0;
	double stack = bench_stack(path, &answers);
	printf("replay %u frames (ARP, ICMP echo, UDP to a closed port): %.1f ns/frame, %.2f M "
	       "frames/s, %" G_GUINT64_FORMAT " answers written | libpcap reading alone %.1f ns "
	       "(%.1f M/s) | ratio %.1f\n",
	       nframes, stack, 1000.0 / stack, answers, lib, 1000.0 / lib, stack / lib);
	g_unlink(path);
	g_free(path);
	return 0;
}
