/* SPDX-License-Identifier: MIT */
/*
 * bench-link -- frames per second through the link layer, each figure next to
 * a bare memcpy of the same frames measured in the same run:
 *
 *   pcap -> ether [-> arp] -> discard   a synthetic capture of N frames read
 *                                       by the pcap driver (speed 0), passed
 *                                       up through ether bound to 0x0800;
 *   wire                                N frames written down one end of a
 *                                       wire and taken off the other.
 *
 * The reference copies each frame once from the capture's bytes into a
 * buffer (what a driver reading "straight into message buffers" must do at
 * least).  Virtual-time worlds, so only CPU time is measured.
 *
 * Usage: bench-link [--quick]
 */
#include <ustreams/ustreams.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FRAME_LEN 128

static guint nframes = 200000;

static gint64
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* An IPv4/UDP-looking Ethernet frame to 02:00:00:00:00:01. */
static void
make_frame(unsigned char *f, guint i)
{
	static const unsigned char dst[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const unsigned char src[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	memset(f, 0, FRAME_LEN);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memcpy(f + 14 + 20, &i, sizeof i);
}

static char *
write_capture(void)
{
	char *path = g_build_filename(g_get_tmp_dir(), "bench-link-XXXXXX.pcap", NULL);
	int fd = g_mkstemp(path);
	close(fd);
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	unsigned char f[FRAME_LEN];
	for (guint i = 0; i < nframes; i++) {
		struct pcap_pkthdr h = { .ts = { .tv_sec = i / 1000, .tv_usec = i % 1000 },
					 .caplen = FRAME_LEN,
					 .len = FRAME_LEN };
		make_frame(f, i);
		pcap_dump((u_char *)d, &h, f);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	return path;
}

/* The reference: one memcpy per frame out of a buffer holding them all. */
static double
bench_memcpy(void)
{
	unsigned char *all = g_malloc((size_t)nframes * FRAME_LEN), dst[FRAME_LEN];
	for (guint i = 0; i < nframes; i++)
		make_frame(all + (size_t)i * FRAME_LEN, i);
	volatile unsigned char sink = 0;
	gint64 t0 = now_ns();
	for (guint i = 0; i < nframes; i++) {
		memcpy(dst, all + (size_t)i * FRAME_LEN, FRAME_LEN);
		sink ^= dst[40];
	}
	double ns = (double)(now_ns() - t0) / nframes;
	g_free(all);
	return ns;
}

/* A head that frees what comes up, counting it. */
static guint64 discarded;

static int
discard_rput(queue_t *q, mblk_t *mp)
{
	(void)q;
	discarded++;
	freemsg(mp);
	return 0;
}

static int
discard_wput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return 0;
}

static struct module_info discard_minfo = {
	.mi_idname = "discard", .mi_maxpsz = INFPSZ, .mi_hiwat = 1 << 20, .mi_lowat = 1 << 10
};
static struct qinit discard_rinit = { .qi_putp = discard_rput, .qi_minfo = &discard_minfo };
static struct qinit discard_winit = { .qi_putp = discard_wput, .qi_minfo = &discard_minfo };
static const UsHeadOps discard_head = { .rinit = &discard_rinit, .winit = &discard_winit };

static void
bind_ipv4(UsStream *st)
{
	dl_bind_req_t br = { .dl_primitive = DL_BIND_REQ,
			     .dl_sap = 0x0800,
			     .dl_service_mode = DL_CLDLS };
	mblk_t *mp = us_msg_from(&br, sizeof br, 0);
	DB_TYPE(mp) = M_PROTO;
	put(us_stream_head_wq(st), mp);
}

static double
bench_pcap(const char *path, const char *const *mods)
{
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *s = us_stack_new(w, "bench");
	UsStream *st = us_stream_open(s, "pcap", 0, &discard_head, NULL, NULL);
	for (guint i = 0; mods[i]; i++)
		if (us_stream_push(st, mods[i], NULL) != 0)
			g_error("cannot push %s", mods[i]);
	bind_ipv4(st);
	us_world_run_pending(w);
	us_param_set(us_stream_driver_rq(st), "speed", "0", NULL);
	discarded = 0;
	guint64 before = discarded;
	gint64 t0 = now_ns();
	GError *error = NULL;
	if (!us_param_set(us_stream_driver_rq(st), "in", path, &error))
		g_error("pcap in: %s", error->message);
	while (discarded - before < nframes && us_world_run_until(w, NULL, NULL, US_NSEC_PER_SEC))
		;
	us_world_run_pending(w);
	double ns = (double)(now_ns() - t0) / nframes;
	if (discarded - before < nframes)
		g_warning("only %" G_GUINT64_FORMAT " of %u frames came up", discarded - before,
			  nframes);
	us_world_free(w);
	return ns;
}

static double
bench_wire(void)
{
	UsWorld *w = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *a = us_stack_new(w, "a"), *b = us_stack_new(w, "b");
	UsStream *sa = us_stream_open(a, "wire", 0, &discard_head, NULL, NULL);
	UsStream *sb = us_stream_open(b, "wire", 0, &discard_head, NULL, NULL);
	us_param_set(us_stream_driver_rq(sa), "name", "bench", NULL);
	us_param_set(us_stream_driver_rq(sb), "name", "bench", NULL);
	unsigned char f[FRAME_LEN];
	discarded = 0;
	gint64 t0 = now_ns();
	for (guint i = 0; i < nframes; i++) {
		make_frame(f, i);
		mblk_t *mp = allocb(FRAME_LEN, BPRI_MED);
		memcpy(mp->b_wptr, f, FRAME_LEN);
		mp->b_wptr += FRAME_LEN;
		put(us_stream_head_wq(sa), mp);
		if ((i & 63) == 63)
			us_world_run_pending(w);
	}
	us_world_run_pending(w);
	double ns = (double)(now_ns() - t0) / nframes;
	if (discarded < nframes)
		g_warning("wire: only %" G_GUINT64_FORMAT " of %u frames arrived", discarded,
			  nframes);
	us_world_free(w);
	return ns;
}

static void
report(const char *label, double ns, double ref)
{
	printf("%-34s %8.1f ns/frame  %6.2f M frames/s   memcpy %5.1f ns/frame   ratio %.1f\n",
	       label, ns, 1000.0 / ns, ref, ns / ref);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--quick") == 0)
		nframes = 20000;
	us_init();
	char *path = write_capture();
	printf("ustreams link-layer benchmarks (%u frames of %d bytes, virtual time)\n\n", nframes,
	       FRAME_LEN);
	double ref = bench_memcpy();
	static const char *const ether_only[] = { "ether", NULL };
	report("pcap -> ether -> discard", bench_pcap(path, ether_only), ref);
	if (us_registry_find("arp") != NULL) {
		static const char *const ether_arp[] = { "ether", "arp", NULL };
		report("pcap -> ether -> arp -> discard", bench_pcap(path, ether_arp), ref);
	}
	report("wire (one end to the other)", bench_wire(), ref);
	unlink(path);
	g_free(path);
	return 0;
}
