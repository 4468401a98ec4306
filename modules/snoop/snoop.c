/* SPDX-License-Identifier: MIT */
/*
 * snoop -- writes the packets passing through a point of a stream to a pcap
 * capture file, like snoop(1M) or tcpdump -w, without touching the traffic.
 *
 * Theory
 * ------
 * Every message that enters either put procedure is passed on at once with
 * putnext (M_FLUSH with the canonical module handling), after, for a watched
 * direction ("direction": both, up, down) with a "file" set, the packet it
 * carries (if any) was appended to the capture.  snoop has no service
 * procedures, so it is transparent to flow control, like ether and arp;
 * nothing it does can drop, delay or reorder a message: a failed write is
 * counted (write_errors, the first of each file logged) and the message
 * goes on.
 *
 * Where the packet is depends on where snoop is pushed (the hooks of
 * modules/pkthook/pkthook.h, found from the modules below it when a file
 * starts, or forced with the "hook" parameter):
 *   link   below ether: raw frames as M_DATA both ways.       DLT_EN10MB
 *   dlpi   above ether: IPv4 from DL_UNITDATA_IND/REQ payloads and from
 *          fast-path M_DATA (going down, the Ethernet header ip
 *          prepended is stripped, so the file keeps one link type).   DLT_RAW
 *   ip     between ip and a transport: IP_UNITDATA_IND's datagram, and
 *          IP_UNITDATA_REQ's payload behind a synthetic IPv4 header built
 *          from the request (as is with IP_F_HDRINCL).                DLT_RAW
 * A file's link type is decided by the first packet-carrying message written
 * to it and kept for the file and its rotations: with "hook" auto, a
 * DL_UNITDATA or IP_UNITDATA primitive seen where the stream below looks
 * like a bare driver (which never sends them) means dlpi or ip.  Messages
 * that carry no packet at the hook (ioctls and their acks, other
 * primitives, M_DATA on a socket stream) pass untouched and unrecorded;
 * packets the file's link type cannot hold (ARP above ether, whose SAP is
 * not 0x0800) are counted as skipped.  "hook", "snaplen" and "nsec" are
 * read when a file starts; a change applies from the next file on.
 *
 * The file.  Setting "file" opens it at once (fopen "wb", so a bad path is
 * refused with the errno, the previous capture going on), closing the
 * previous capture; the same name again restarts it (truncated; if that
 * open fails, capturing stops); "" stops capturing.  The pcap header
 * follows when the link type is known (at the first packet, or at close).
 * Packets longer than "snaplen" are truncated (caplen < len).  Timestamps
 * are the world's clock (us_world_now: virtual time gives byte-identical
 * captures), microseconds unless "nsec".  Output is stdio-buffered unless
 * "flush" (one fflush per packet, as tcpdump -U), and flushed at rotation,
 * file change and close.
 *
 * Filter.  "filter" is a BPF expression compiled with pcap_compile against
 * the file's link type (until the file has one, against the hook's); a
 * packet it rejects counts as filtered.  Changing it recompiles; an
 * expression that does not compile is refused (the parameter keeps its old
 * value) and libpcap's message is logged.  If the link type finally chosen
 * for a file does not accept an expression that compiled for the expected
 * one, nothing is written to that file (logged; packets count as filtered).
 *
 * Rotation.  With "rotate_bytes" N > 0, a packet that would take the current
 * file beyond N bytes (header included) closes it and starts FILE.1, then
 * FILE.2, ...; a file always takes at least one packet.  With "rotate_keep"
 * K > 0 only the K newest files remain: starting file i removes file i - K
 * (FILE itself being file 0).  A file that cannot be opened counts a write
 * error per packet until one can.
 *
 * Statistics (snoop.h): msgs, packets, bytes (written to files, pcap headers
 * included, so their sum is the files' sizes), filtered, skipped, rotations,
 * write_errors.
 *
 * Deviations
 *  - snoop(1M) writes its own format (RFC 1761); this writes pcap.
 *  - Above ether, ARP and other non-IPv4 SAPs are not recorded (the file is
 *    DLT_RAW); push snoop below ether to see every frame.
 *  - Raw-mode (DLIOCRAW) M_DATA above ether is not recognised: going up it
 *    is taken as an IP packet (and skipped when it is not one).
 *  - The synthetic header of an IP_UNITDATA_REQ has id 0, and src 0.0.0.0
 *    when ip is to choose it; the transport checksum is left as the
 *    transport wrote it.  ip's real header is seen one hook lower.
 *  - Timestamps count from the world's start (1970-01-01 in the file).
 */
#define G_LOG_DOMAIN "us-snoop"

#include "snoop.h"

#include "pkthook.h"

#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#define SNOOP_FILE_HDR 24 /* pcap file header */
#define SNOOP_REC_HDR 16  /* pcap record header */

/* Per-instance state (q_ptr of both queues). */
typedef struct {
	/* parameters */
	char *file;           /* capture path; NULL or "": none */
	char *direction;      /* "both", "up" or "down" */
	char *filter;         /* BPF expression; NULL or "": everything */
	char *hook;           /* "auto", "link", "dlpi" or "ip" */
	guint64 rotate_bytes; /* 0: one file */
	guint64 rotate_keep;  /* 0: keep every file */
	guint64 snaplen;      /* bytes kept per packet */
	gboolean flush;       /* fflush after each packet */
	gboolean nsec;        /* nanosecond timestamps */
	/* statistics */
	guint64 msgs;         /* messages seen */
	guint64 packets;      /* packets written */
	guint64 bytes;        /* bytes written, headers included */
	guint64 filtered;     /* refused by the filter */
	guint64 skipped;      /* not representable in the file's DLT */
	guint64 rotations;    /* files started by rotation */
	guint64 write_errors; /* failed writes and opens */
	/* state */
	gboolean sn_up, sn_down;    /* directions watched (from direction) */
	PktHook sn_hook_param;      /* parsed hook */
	PktHook sn_probed;          /* what the stream below says (open, file start) */
	PktHook sn_hook;            /* the current file's hook; AUTO before its first packet */
	char *sn_path;              /* the capture in use (FILE); NULL: none */
	FILE *sn_fp;                /* the file before its header is written */
	pcap_t *sn_dead;            /* link type and precision of the current file */
	pcap_dumper_t *sn_dumper;   /* the current file once started */
	guint sn_index;             /* rotation index of the current file (0: FILE) */
	guint64 sn_snaplen;         /* snaplen of the current file */
	guint64 sn_file_bytes;      /* bytes in the current file */
	guint64 sn_file_packets;    /* packets in the current file */
	gboolean sn_file_failed;    /* the current file had a write error (logged) */
	struct bpf_program sn_prog; /* the compiled filter, when sn_prog_dlt >= 0 */
	int sn_prog_dlt;            /* DLT sn_prog is for; -1: none compiled */
	gboolean sn_prog_bad;       /* the filter does not fit the file: write nothing */
	PktScratch sn_scratch;      /* packets not contiguous in their message */
} SnoopState;

static struct module_info snoop_minfo = {
	.mi_idnum = 1040,
	.mi_idname = "snoop",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static gboolean
snoop_has_file(const SnoopState *ss)
{
	return ss->file != NULL && ss->file[0] != '\0';
}

/* The name of rotation file i: FILE, FILE.1, FILE.2 ... */
static char *
snoop_file_name(const SnoopState *ss, guint i)
{
	return i == 0 ? g_strdup(ss->sn_path) : g_strdup_printf("%s.%u", ss->sn_path, i);
}

/* The hook a file starts with, given the first packet's form. */
static PktHook
snoop_hook_for(const SnoopState *ss, PktForm form)
{
	if (ss->sn_hook_param != PKTHOOK_AUTO)
		return ss->sn_hook_param;
	return us__pkthook_refine(ss->sn_probed, form);
}

/* The link type the next file is expected to have (before any packet). */
static int
snoop_expected_dlt(const SnoopState *ss)
{
	if (ss->sn_hook != PKTHOOK_AUTO)
		return us__pkthook_dlt(ss->sn_hook);
	int dlt = us__pkthook_dlt(snoop_hook_for(ss, PKTFORM_NONE));
	return dlt >= 0 ? dlt : DLT_RAW;
}

static void
snoop_free_prog(SnoopState *ss)
{
	if (ss->sn_prog_dlt >= 0)
		pcap_freecode(&ss->sn_prog);
	ss->sn_prog_dlt = -1;
}

/* Compiles "filter" for dlt into the state (nothing when empty). */
static gboolean
snoop_compile(SnoopState *ss, int dlt, GError **error)
{
	struct bpf_program prog;
	if (ss->filter == NULL || ss->filter[0] == '\0') {
		snoop_free_prog(ss);
		return TRUE;
	}
	if (!us__pkthook_compile(dlt, ss->filter, &prog, error)) {
		g_warning("snoop: filter '%s' (%s): %s", ss->filter, pcap_datalink_val_to_name(dlt),
			  (*error)->message);
		return FALSE;
	}
	snoop_free_prog(ss);
	ss->sn_prog = prog;
	ss->sn_prog_dlt = dlt;
	return TRUE;
}

static void
snoop_write_error(SnoopState *ss, const char *what)
{
	ss->write_errors++;
	if (!ss->sn_file_failed)
		g_warning("snoop: %s %s: %s", what, ss->sn_path, g_strerror(errno));
	ss->sn_file_failed = TRUE;
}

/* ------------------------------------------------------------------ */
/* Files                                                              */
/* ------------------------------------------------------------------ */

/* Starts writing fp as a capture of the current link type (fp consumed). */
static gboolean
snoop_dump_start(SnoopState *ss, FILE *fp)
{
	/* libpcap closes fp when the header cannot be written. */
	ss->sn_dumper = pcap_dump_fopen(ss->sn_dead, fp);
	if (ss->sn_dumper == NULL) {
		snoop_write_error(ss, "cannot write");
		return FALSE;
	}
	ss->sn_file_bytes = SNOOP_FILE_HDR;
	ss->sn_file_packets = 0;
	ss->bytes += SNOOP_FILE_HDR;
	return TRUE;
}

/* Flushes and closes the current dumper, if any. */
static void
snoop_dump_finish(SnoopState *ss)
{
	if (ss->sn_dumper == NULL)
		return;
	if (pcap_dump_flush(ss->sn_dumper) != 0)
		snoop_write_error(ss, "cannot write");
	pcap_dump_close(ss->sn_dumper);
	ss->sn_dumper = NULL;
}

/* The first packet of a file: its link type is now fixed to hook's.  When
 * the file cannot be started, snoop_write retries opening it. */
static void
snoop_start(SnoopState *ss, PktHook hook)
{
	int dlt = us__pkthook_dlt(hook);
	ss->sn_hook = hook;
	ss->sn_snaplen = ss->snaplen;
	ss->sn_dead = pcap_open_dead_with_tstamp_precision(dlt, (int)ss->sn_snaplen,
							   ss->nsec ? PCAP_TSTAMP_PRECISION_NANO
								    : PCAP_TSTAMP_PRECISION_MICRO);
	ss->sn_prog_bad = FALSE;
	if (ss->sn_prog_dlt >= 0 && ss->sn_prog_dlt != dlt) {
		GError *error = NULL;
		if (!snoop_compile(ss, dlt, &error)) {
			ss->sn_prog_bad = TRUE;
			g_error_free(error);
		}
	}
	FILE *fp = g_steal_pointer(&ss->sn_fp);
	if (fp != NULL)
		snoop_dump_start(ss, fp);
}

/* Closes the current file, giving a file that saw no packet its header
 * (with the expected link type) so that it is a valid empty capture. */
static void
snoop_close_file(SnoopState *ss)
{
	if (ss->sn_fp != NULL) {
		int dlt = snoop_expected_dlt(ss);
		pcap_t *dead = pcap_open_dead(dlt, (int)ss->snaplen);
		pcap_dumper_t *d = pcap_dump_fopen(dead, g_steal_pointer(&ss->sn_fp));
		if (d != NULL && pcap_dump_flush(d) == 0)
			ss->bytes += SNOOP_FILE_HDR;
		if (d != NULL)
			pcap_dump_close(d);
		pcap_close(dead);
	}
	snoop_dump_finish(ss);
	g_clear_pointer(&ss->sn_dead, pcap_close);
	g_clear_pointer(&ss->sn_path, g_free);
	ss->sn_hook = PKTHOOK_AUTO;
	ss->sn_index = 0;
	ss->sn_file_failed = FALSE;
	ss->sn_prog_bad = FALSE;
}

/* Opens rotation file sn_index (after removing the one that falls out of
 * rotate_keep). */
static gboolean
snoop_open_current(SnoopState *ss)
{
	if (ss->rotate_keep > 0 && ss->sn_index >= ss->rotate_keep) {
		char *old = snoop_file_name(ss, ss->sn_index - (guint)ss->rotate_keep);
		g_unlink(old);
		g_free(old);
	}
	if (ss->sn_path == NULL)
		return FALSE;
	char *name = snoop_file_name(ss, ss->sn_index);
	FILE *fp = fopen(name, "wb");
	g_free(name);
	if (fp == NULL) {
		snoop_write_error(ss, "cannot open the next file after");
		return FALSE;
	}
	return snoop_dump_start(ss, fp);
}

/* Appends one packet to the current file. */
static void
snoop_write(SnoopState *ss, queue_t *q, const PktView *v)
{
	size_t caplen = MIN(v->len, (size_t)ss->sn_snaplen);
	guint64 rec = SNOOP_REC_HDR + caplen;
	if (ss->sn_dumper != NULL && ss->rotate_bytes > 0 && ss->sn_file_packets > 0 &&
	    ss->sn_file_bytes + rec > ss->rotate_bytes) {
		snoop_dump_finish(ss);
		ss->sn_index++;
		ss->sn_file_failed = FALSE;
		ss->rotations++;
	}
	if (ss->sn_dumper == NULL && !snoop_open_current(ss))
		return; /* counted */
	gint64 now = us_world_now(us_queue_world(q));
	gint64 frac = now % US_NSEC_PER_SEC;
	struct pcap_pkthdr h = {
		.ts.tv_sec = (time_t)(now / US_NSEC_PER_SEC),
		.ts.tv_usec = (suseconds_t)(ss->nsec ? frac : frac / 1000),
		.caplen = (bpf_u_int32)caplen,
		.len = (bpf_u_int32)v->len,
	};
	pcap_dump((u_char *)ss->sn_dumper, &h, v->data);
	FILE *f = pcap_dump_file(ss->sn_dumper);
	if ((ss->flush && pcap_dump_flush(ss->sn_dumper) != 0) || ferror(f)) {
		clearerr(f);
		snoop_write_error(ss, "cannot write");
		return;
	}
	ss->packets++;
	ss->bytes += rec;
	ss->sn_file_bytes += rec;
	ss->sn_file_packets++;
}

/* Records the packet mp carries, if any (mp is not consumed). */
static void
snoop_capture(SnoopState *ss, queue_t *q, const mblk_t *mp, gboolean up)
{
	PktHook hook = ss->sn_hook;
	if (hook == PKTHOOK_AUTO) {
		PktForm form = us__pkthook_form(mp, up);
		if (form == PKTFORM_NONE)
			return;
		/* modules may have been spliced in below since the open */
		ss->sn_probed = us__pkthook_probe(q);
		hook = snoop_hook_for(ss, form);
	}
	PktView v;
	switch (us__pkthook_view(hook, up, mp, &ss->sn_scratch, &v)) {
	case PKT_NOT_PACKET: return;
	case PKT_FOREIGN: ss->skipped++; return;
	case PKT_OK: break;
	}
	if (ss->sn_hook == PKTHOOK_AUTO)
		snoop_start(ss, hook);
	if (ss->sn_prog_bad || (ss->sn_prog_dlt >= 0 && !us__pkthook_match(&ss->sn_prog, &v))) {
		ss->filtered++;
		return;
	}
	snoop_write(ss, q, &v);
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static int
snoop_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp;
	(void)oflag;
	(void)crp;
	if (sflag != MODOPEN)
		return ENXIO;
	SnoopState *ss = g_new0(SnoopState, 1);
	ss->direction = g_strdup("both");
	ss->hook = g_strdup("auto");
	ss->snaplen = SNOOP_SNAPLEN_DEFAULT;
	ss->sn_up = ss->sn_down = TRUE;
	ss->sn_probed = us__pkthook_probe(rq);
	ss->sn_prog_dlt = -1;
	rq->q_ptr = WR(rq)->q_ptr = ss;
	qprocson(rq);
	return 0;
}

static int
snoop_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	SnoopState *ss = rq->q_ptr;
	qprocsoff(rq);
	snoop_close_file(ss);
	snoop_free_prog(ss);
	us__pkthook_scratch_clear(&ss->sn_scratch);
	g_free(ss->file);
	g_free(ss->direction);
	g_free(ss->filter);
	g_free(ss->hook);
	g_free(ss);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Both sides                                                         */
/* ------------------------------------------------------------------ */

/* Put (both sides): record, then pass on; never holds a message. */
static int
snoop_put(queue_t *q, mblk_t *mp)
{
	SnoopState *ss = q->q_ptr;
	gboolean up = (q->q_flag & QREADR) != 0;
	ss->msgs++;
	if ((up ? ss->sn_up : ss->sn_down) && ss->sn_path != NULL)
		snoop_capture(ss, q, mp, up);
	if (DB_TYPE(mp) == M_FLUSH)
		us_default_flush(q, mp);
	else
		putnext(q, mp);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

/* "file": opens the new file (refused with its errno, the old capture
 * going on), then closes the old one.  The same name again restarts it. */
static gboolean
snoop_set_file(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	SnoopState *ss = rq->q_ptr;
	if (!snoop_has_file(ss)) {
		snoop_close_file(ss);
		return TRUE;
	}
	if (g_strcmp0(ss->sn_path, ss->file) == 0)
		snoop_close_file(ss);
	FILE *fp = fopen(ss->file, "wb");
	if (fp == NULL) {
		int e = errno;
		g_set_error(error, US_ERROR, US_ERROR_ERRNO, "snoop: cannot open %s: %s (%d)",
			    ss->file, g_strerror(e), e);
		return FALSE;
	}
	snoop_close_file(ss);
	ss->sn_fp = fp;
	ss->sn_path = g_strdup(ss->file);
	return TRUE;
}

static gboolean
snoop_set_direction(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	SnoopState *ss = rq->q_ptr;
	const char *d = ss->direction != NULL ? ss->direction : "";
	gboolean both = strcmp(d, "both") == 0;
	if (!both && strcmp(d, "up") != 0 && strcmp(d, "down") != 0) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "direction: '%s' is not both, up or down", d);
		return FALSE;
	}
	ss->sn_up = both || strcmp(d, "up") == 0;
	ss->sn_down = both || strcmp(d, "down") == 0;
	return TRUE;
}

static gboolean
snoop_set_filter(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	SnoopState *ss = rq->q_ptr;
	if (!snoop_compile(ss, snoop_expected_dlt(ss), error))
		return FALSE;
	ss->sn_prog_bad = FALSE;
	return TRUE;
}

/* "hook": checked now, used from the next file on. */
static gboolean
snoop_set_hook(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	SnoopState *ss = rq->q_ptr;
	PktHook h;
	if (!us__pkthook_parse(ss->hook, &h) || h == PKTHOOK_NONE) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "hook: '%s' is not auto, link, dlpi or ip", ss->hook);
		return FALSE;
	}
	ss->sn_hook_param = h;
	return TRUE;
}

static struct qinit snoop_rinit = {
	.qi_putp = snoop_put,
	.qi_qopen = snoop_open,
	.qi_qclose = snoop_close,
	.qi_minfo = &snoop_minfo,
};
static struct qinit snoop_winit = { .qi_putp = snoop_put, .qi_minfo = &snoop_minfo };
static struct streamtab snoop_info = { .st_rdinit = &snoop_rinit, .st_wrinit = &snoop_winit };

#define SNOOP_STRING(nm, desc, fld, hook)                                     \
	{                                                                     \
		.name = (nm), .description = (desc), .type = US_PARAM_STRING, \
		.offset = G_STRUCT_OFFSET(SnoopState, fld), .on_set = (hook)  \
	}

static const UsParamDesc snoop_params[] = {
	SNOOP_STRING(SNOOP_PARAM_FILE, "pcap file written (\"\": none)", file, snoop_set_file),
	SNOOP_STRING(SNOOP_PARAM_DIRECTION, "both, up or down", direction, snoop_set_direction),
	SNOOP_STRING(SNOOP_PARAM_FILTER, "BPF expression (pcap-filter(7)); \"\": all", filter,
		     snoop_set_filter),
	SNOOP_STRING(SNOOP_PARAM_HOOK, "auto, link (DLT_EN10MB), dlpi or ip (DLT_RAW)", hook,
		     snoop_set_hook),
	US_PARAM_FIELD(SNOOP_PARAM_ROTATE_BYTES, "start FILE.N beyond this size (0: never)",
		       US_PARAM_UINT, SnoopState, rotate_bytes, 0, 0),
	US_PARAM_FIELD(SNOOP_PARAM_ROTATE_KEEP, "files kept when rotating (0: all)", US_PARAM_UINT,
		       SnoopState, rotate_keep, 0, G_MAXUINT32),
	US_PARAM_FIELD(SNOOP_PARAM_SNAPLEN, "bytes kept per packet (from the next file on)",
		       US_PARAM_UINT, SnoopState, snaplen, 1, SNOOP_SNAPLEN_MAX),
	US_PARAM_FIELD(SNOOP_PARAM_FLUSH, "flush the file after every packet", US_PARAM_BOOL,
		       SnoopState, flush, 0, 0),
	US_PARAM_FIELD(SNOOP_PARAM_NSEC, "nanosecond timestamps (from the next file on)",
		       US_PARAM_BOOL, SnoopState, nsec, 0, 0),
	{ 0 },
};
static const UsStatDesc snoop_stats[] = {
	US_STAT(SNOOP_STAT_MSGS, "messages seen (both sides)", SnoopState, msgs),
	US_STAT(SNOOP_STAT_PACKETS, "packets written", SnoopState, packets),
	US_STAT(SNOOP_STAT_BYTES, "bytes written to files (headers included)", SnoopState, bytes),
	US_STAT(SNOOP_STAT_FILTERED, "packets refused by the filter", SnoopState, filtered),
	US_STAT(SNOOP_STAT_SKIPPED, "packets the file's link type cannot hold", SnoopState,
		skipped),
	US_STAT(SNOOP_STAT_ROTATIONS, "files started by rotation", SnoopState, rotations),
	US_STAT(SNOOP_STAT_WRITE_ERRORS, "failed writes and opens", SnoopState, write_errors),
	{ 0 },
};
static const char *const snoop_accepts[] = {
	"M_DATA (frames below ether; fast path above it)",
	"M_PROTO DL_UNITDATA_IND/REQ, IP_UNITDATA_IND/REQ (recorded)",
	"all others (passed through)",
	NULL,
};

const UsModuleDesc us_snoop_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "snoop",
	.summary = "writes the packets passing through to a pcap file (BPF filter, rotation)",
	.kind = US_KIND_MODULE,
	.streamtab = &snoop_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = snoop_params,
	.stats = snoop_stats,
	.accepts = snoop_accepts,
};
