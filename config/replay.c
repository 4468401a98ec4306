/* SPDX-License-Identifier: MIT */
/*
 * replay.c -- offline replay (ARCHITECTURE.md §9): a capture fed into a
 * built configuration through a pcap interface in virtual time, everything
 * the stack sends written to an output capture, and a comparison of two
 * captures under a documented normalisation.
 *
 * Theory
 * ------
 * The pcap driver delivers each frame at its timestamp on the world clock
 * (relative to the first) and stamps output frames with world time, so the
 * same capture, config and seed give the same output bytes.  The replay runs
 * until the driver reports end of file, then settle_ns more (answers to the
 * last frames, timers), then closes the output.
 *
 * Normalisation for comparisons (what legitimately differs between runs of
 * different stacks or versions and says nothing about behaviour):
 *   - IPv4: identification and header checksum set to 0;
 *   - TCP, UDP, ICMP: checksum set to 0 (a wrong checksum is caught by the
 *     receiving side's tests, not here);
 *   - TCP: sequence and acknowledgement numbers made relative to the first
 *     seen in each direction (per 4-tuple), so initial sequence numbers may
 *     differ;
 *   - timestamps: equal within a tolerance.
 * Frames are compared in order; the report names the first differing field
 * of each differing frame, and counts.
 */
#define G_LOG_DOMAIN "us-config"

#include "cfg-build.h"

#include <pcap/pcap.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Replay                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
	queue_t *q;
	guint64 total;
	void (*progress)(guint64 done, guint64 total, gpointer data);
	gpointer data;
	gint64 last_report;
} ReplayWatch;

/* The number of frames in a capture and the first one's time (ns). */
static guint64
count_frames(const char *path, gint64 *first_ns, GError **error)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	if (p == NULL) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_IO, "%s: %s", path, err);
		return G_MAXUINT64;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	guint64 n = 0;
	gboolean nsec = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
	*first_ns = 0;
	while (pcap_next_ex(p, &h, &d) == 1)
		if (n++ == 0)
			*first_ns = (gint64)h->ts.tv_sec * 1000000000 +
				    (gint64)h->ts.tv_usec * (nsec ? 1 : 1000);
	pcap_close(p);
	return n;
}

static gboolean
replay_eof(gpointer data)
{
	ReplayWatch *w = data;
	guint64 eof = 0, frames = 0;
	us_stat_get(w->q, "eof", &eof);
	if (w->progress != NULL) {
		gint64 now = g_get_monotonic_time();
		if (eof || now - w->last_report > 100000) {
			us_stat_get(w->q, "frames_in", &frames);
			w->progress(frames, w->total, w->data);
			w->last_report = now;
		}
	}
	return eof != 0;
}

static gboolean
replay_param(queue_t *q, const char *name, const char *value, GError **error)
{
	GError *e = NULL;
	if (us_param_set(q, name, value, &e))
		return TRUE;
	g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_BUILD, "pcap %s=%s: %s", name, value,
		    e->message);
	g_error_free(e);
	return FALSE;
}

gboolean
us_cfg_replay(UsCfgRun *run, const char *stack, const char *iface, const char *in, const char *out,
	      gint64 settle_ns, void (*progress)(guint64 done, guint64 total, gpointer data),
	      gpointer data, GError **error)
{
	queue_t *q = us_cfg_run_iface_driver(run, stack, iface);
	const UsModuleDesc *d = q != NULL ? us_queue_desc(q) : NULL;
	if (d == NULL || strcmp(d->name, "pcap") != 0) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_BUILD,
			    "%s/%s: no such interface with the pcap driver", stack, iface);
		return FALSE;
	}
	if (us_world_clock_kind(run->world) != US_CLOCK_VIRTUAL) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_BUILD,
			    "replay runs in virtual time (world { clock virtual })");
		return FALSE;
	}
	ReplayWatch w = { .q = q, .progress = progress, .data = data };
	gint64 first = 0;
	if ((w.total = count_frames(in, &first, error)) == G_MAXUINT64)
		return FALSE;
	/* Output times on the input's time line: frame k of the input and
	 * what the stack answered at that moment carry the same time. */
	char base[32];
	g_snprintf(base, sizeof base, "%" G_GINT64_FORMAT, first - us_world_now(run->world));
	if (!replay_param(q, "out_base", base, error) || !replay_param(q, "out", out, error) ||
	    !replay_param(q, "in", in, error))
		return FALSE;
	run->started = us_world_now(run->world);
	(void)us_world_run_until(run->world, replay_eof, &w, G_GINT64_CONSTANT(1) << 62);
	us_world_advance(run->world, settle_ns);
	return replay_param(q, "out", "", error);
}

/* ------------------------------------------------------------------ */
/* Comparison                                                         */
/* ------------------------------------------------------------------ */

typedef struct {
	GHashTable *base; /* "src:port>dst:port" -> first seq (GUINT) */
} SeqMap;

static uint32_t
rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Sequence number relative to the first seen for key (seq or ack side). */
static uint32_t
seq_rel(SeqMap *m, const uint8_t *ip, const uint8_t *tcp, gboolean ack, uint32_t v)
{
	char key[64];
	/* the ack of one direction counts in the other direction's sequence space */
	const uint8_t *s = ack ? ip + 16 : ip + 12, *d = ack ? ip + 12 : ip + 16;
	uint16_t sp = ack ? (uint16_t)((tcp[2] << 8) | tcp[3]) : (uint16_t)((tcp[0] << 8) | tcp[1]);
	uint16_t dp = ack ? (uint16_t)((tcp[0] << 8) | tcp[1]) : (uint16_t)((tcp[2] << 8) | tcp[3]);
	g_snprintf(key, sizeof key, "%u.%u.%u.%u:%u>%u.%u.%u.%u:%u", s[0], s[1], s[2], s[3], sp,
		   d[0], d[1], d[2], d[3], dp);
	gpointer base;
	if (!g_hash_table_lookup_extended(m->base, key, NULL, &base)) {
		base = GUINT_TO_POINTER(v);
		g_hash_table_insert(m->base, g_strdup(key), base);
	}
	return v - GPOINTER_TO_UINT(base);
}

static void
normalise_l4(SeqMap *m, uint8_t *ip, size_t len, size_t hl)
{
	uint8_t *l4 = ip + hl;
	size_t l4len = len - hl;
	if ((((ip[6] & 0x1f) << 8) | ip[7]) != 0)
		return; /* not the first fragment: no transport header */
	if (ip[9] == 6 && l4len >= 20) {
		wr32(l4 + 4, seq_rel(m, ip, l4, FALSE, rd32(l4 + 4)));
		if (l4[13] & 0x10)
			wr32(l4 + 8, seq_rel(m, ip, l4, TRUE, rd32(l4 + 8)));
		l4[16] = l4[17] = 0;
	} else if (ip[9] == 17 && l4len >= 8) {
		l4[6] = l4[7] = 0;
	} else if (ip[9] == 1 && l4len >= 4) {
		l4[2] = l4[3] = 0;
	}
}

/* Normalises a frame in place (Ethernet, optionally 802.1Q, then IPv4). */
static void
normalise(SeqMap *m, uint8_t *f, size_t n)
{
	size_t off = 14;
	if (n >= 18 && f[12] == 0x81 && f[13] == 0x00)
		off = 18;
	if (n < off + 20 || f[off - 2] != 0x08 || f[off - 1] != 0x00 || (f[off] >> 4) != 4)
		return;
	uint8_t *ip = f + off;
	size_t hl = (size_t)(ip[0] & 15) * 4;
	if (hl < 20 || off + hl > n)
		return;
	ip[4] = ip[5] = 0;   /* identification */
	ip[10] = ip[11] = 0; /* header checksum */
	normalise_l4(m, ip, n - off, hl);
}

/* The name of the field at byte offset i of an (untagged) IPv4 frame. */
static const char *
field_name(const uint8_t *f, size_t n, size_t i)
{
	static const char *const ipf[20] = {
		"IP version/IHL", "IP TOS",         "IP total length", "IP total length",
		"IP id",          "IP id",          "IP flags/offset", "IP flags/offset",
		"IP TTL",         "IP protocol",    "IP checksum",     "IP checksum",
		"IP source",      "IP source",      "IP source",       "IP source",
		"IP destination", "IP destination", "IP destination",  "IP destination"
	};
	if (i < 6)
		return "Ethernet destination";
	if (i < 12)
		return "Ethernet source";
	if (i < 14)
		return "Ethertype";
	if (n < 34 || f[12] != 0x08 || f[13] != 0x00)
		return "payload";
	size_t hl = (size_t)(f[14] & 15) * 4;
	if (i < 34)
		return ipf[i - 14];
	if (i < 14 + hl)
		return "IP options";
	size_t l = i - 14 - hl;
	switch (f[23]) {
	case 6:
		return l < 4    ? "TCP ports"
		       : l < 8  ? "TCP sequence"
		       : l < 12 ? "TCP ack"
		       : l < 14 ? "TCP offset/flags"
		       : l < 16 ? "TCP window"
		       : l < 20 ? "TCP checksum/urgent"
				: "TCP options or data";
	case 17: return l < 4 ? "UDP ports" : l < 8 ? "UDP length/checksum" : "UDP data";
	case 1: return l < 4 ? "ICMP type/code/checksum" : l < 8 ? "ICMP id/sequence" : "ICMP data";
	default: return "IP payload";
	}
}

static pcap_t *
open_capture(const char *path, GError **error)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	if (p == NULL)
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_IO, "%s: %s", path, err);
	return p;
}

static gint64
ts_ns(const struct pcap_pkthdr *h, gboolean nsec)
{
	return (gint64)h->ts.tv_sec * 1000000000 + (gint64)h->ts.tv_usec * (nsec ? 1 : 1000);
}

/* Compares one pair of frames; appends to diff and returns FALSE if they
 * differ. */
static gboolean
compare_frame(guint idx, SeqMap *mg, SeqMap *me, const uint8_t *g, const struct pcap_pkthdr *hg,
	      gboolean gns, const uint8_t *e, const struct pcap_pkthdr *he, gboolean ens,
	      gint64 tol, GString *diff)
{
	uint8_t *a = g_memdup2(g, hg->caplen), *b = g_memdup2(e, he->caplen);
	normalise(mg, a, hg->caplen);
	normalise(me, b, he->caplen);
	gboolean same = TRUE;
	gint64 dt = ts_ns(hg, gns) - ts_ns(he, ens);
	if (hg->caplen != he->caplen) {
		g_string_append_printf(diff, "frame %u: length %u, expected %u\n", idx, hg->caplen,
				       he->caplen);
		same = FALSE;
	} else {
		for (size_t i = 0; i < hg->caplen; i++)
			if (a[i] != b[i]) {
				g_string_append_printf(diff,
						       "frame %u: %s differs (byte %zu: 0x%02x, "
						       "expected 0x%02x)\n",
						       idx, field_name(b, he->caplen, i), i, a[i],
						       b[i]);
				same = FALSE;
				break;
			}
	}
	if (dt > tol || dt < -tol) {
		g_string_append_printf(diff, "frame %u: time off by %.6f s\n", idx,
				       (double)dt / 1e9);
		same = FALSE;
	}
	g_free(a);
	g_free(b);
	return same;
}

gboolean
us_cfg_pcap_compare(const char *got, const char *expect, gint64 tolerance_ns, char **diff,
		    GError **error)
{
	pcap_t *pg = open_capture(got, error);
	pcap_t *pe = pg != NULL ? open_capture(expect, error) : NULL;
	if (pe == NULL) {
		if (pg != NULL)
			pcap_close(pg);
		return FALSE;
	}
	gboolean gns = pcap_get_tstamp_precision(pg) == PCAP_TSTAMP_PRECISION_NANO;
	gboolean ens = pcap_get_tstamp_precision(pe) == PCAP_TSTAMP_PRECISION_NANO;
	SeqMap mg = { g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };
	SeqMap me = { g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };
	GString *d = g_string_new(NULL);
	guint idx = 0, bad = 0;
	for (;;) {
		struct pcap_pkthdr *hg, *he;
		const u_char *g, *e;
		int rg = pcap_next_ex(pg, &hg, &g), re = pcap_next_ex(pe, &he, &e);
		if (rg != 1 || re != 1) {
			if (rg == 1 || re == 1)
				g_string_append_printf(d, "frame %u: %s has more frames\n", idx + 1,
						       rg == 1 ? "the output"
							       : "the expected capture");
			bad += rg == 1 || re == 1;
			break;
		}
		idx++;
		if (!compare_frame(idx, &mg, &me, g, hg, gns, e, he, ens, tolerance_ns, d))
			bad++;
	}
	pcap_close(pg);
	pcap_close(pe);
	g_hash_table_destroy(mg.base);
	g_hash_table_destroy(me.base);
	if (bad > 0)
		g_string_append_printf(d, "%u of %u frames differ\n", bad, idx);
	*diff = g_string_free(d, bad == 0);
	return bad == 0;
}
