/* SPDX-License-Identifier: MIT */
/*
 * ttlcount -- counts the IPv4 TTLs of the frames passing through an
 * Ethernet interface stream, and can refuse incoming packets whose TTL is
 * below a minimum: the Generalized TTL Security Mechanism (GTSM, RFC 5082),
 * with which a router accepts, say, BGP only from a neighbour one hop away
 * (min_ttl=255), since a distant attacker cannot make a packet arrive with
 * a TTL higher than 255 minus the hops it crossed.
 *
 * An out-of-tree ustreams plug-in: it is built against the installed library
 * (pkg-config ustreams), loaded by name from US_MODULE_PATH, and described
 * step by step in docs/writing-a-module.md.
 *
 * Theory
 * ------
 * Where: directly on an Ethernet driver, below ether ("push ttlcount"
 * before "push ether" in a config, or `ustreams push S I ttlcount
 * at=bottom`): both directions then carry whole frames as M_DATA (Ethernet
 * II header, an optional 802.1Q tag, the payload).
 * Messages: M_DATA frames of IPv4 are counted (and, going up, may be
 * dropped); every other message and frame passes untouched; M_FLUSH gets the
 * canonical module handling.  Nothing is ever queued (no service
 * procedures), so flow control is the neighbours' business.
 * Parameters: min_ttl (0, the default: accept everything).
 * Statistics: IPv4 packets in and out; incoming TTLs in four bands; packets
 * dropped for a low TTL (also counted by us_drop, reason "ttl below
 * min_ttl").
 *
 * Deviations: none; IPv6 hop limits are not looked at.
 */
#define G_LOG_DOMAIN "ttlcount"

#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <errno.h>
#include <glib.h>
#include <stdint.h>

#define TTLCOUNT_ETHER_HDR 14
#define TTLCOUNT_VLAN_TAG 4
#define TTLCOUNT_ETHERTYPE_IPV4 0x0800
#define TTLCOUNT_ETHERTYPE_VLAN 0x8100
#define TTLCOUNT_IP_TTL 8 /* offset of the TTL in the IPv4 header */

enum { TTLCOUNT_DROP_LOW_TTL = 0 };
static const char *const ttlcount_drop_reasons[] = { "ttl below min_ttl", NULL };

/* Per-instance state (q_ptr of both queues). */
typedef struct {
	guint64 min_ttl;    /* parameter: incoming IPv4 with a lower TTL is dropped; 0 off */
	guint64 ipv4_in;    /* IPv4 packets that came up (dropped ones included) */
	guint64 ipv4_out;   /* IPv4 packets that went down */
	guint64 ttl_le_32;  /* incoming TTL 0..32 (Windows 9x, some embedded) */
	guint64 ttl_le_64;  /* 33..64 (Linux, the BSDs, macOS) */
	guint64 ttl_le_128; /* 65..128 (Windows) */
	guint64 ttl_le_255; /* 129..255 (network gear; one hop away under GTSM) */
	guint64 low_ttl;    /* dropped: TTL below min_ttl */
} TtlCount;

/* The TTL of an IPv4 frame, or -1 if mp is not one (or too short).  The
 * frame may span several blocks: the few bytes needed are copied out. */
static int
ttlcount_frame_ttl(const mblk_t *mp)
{
	uint8_t h[TTLCOUNT_ETHER_HDR + TTLCOUNT_VLAN_TAG + TTLCOUNT_IP_TTL + 1];
	size_t n = us_msgcopyout(mp, 0, h, sizeof h);
	if (n < TTLCOUNT_ETHER_HDR + TTLCOUNT_IP_TTL + 1)
		return -1;
	size_t ip = TTLCOUNT_ETHER_HDR;
	unsigned type = (unsigned)h[12] << 8 | h[13];
	if (type == TTLCOUNT_ETHERTYPE_VLAN) {
		if (n < sizeof h)
			return -1;
		type = (unsigned)h[16] << 8 | h[17];
		ip += TTLCOUNT_VLAN_TAG;
	}
	if (type != TTLCOUNT_ETHERTYPE_IPV4 || (h[ip] >> 4) != 4)
		return -1;
	return h[ip + TTLCOUNT_IP_TTL];
}

static void
ttlcount_count_in(TtlCount *tc, int ttl)
{
	tc->ipv4_in++;
	if (ttl <= 32)
		tc->ttl_le_32++;
	else if (ttl <= 64)
		tc->ttl_le_64++;
	else if (ttl <= 128)
		tc->ttl_le_128++;
	else
		tc->ttl_le_255++;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static int
ttlcount_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp, (void)oflag, (void)crp;
	if (sflag != MODOPEN)
		return ENXIO; /* a module, not a driver */
	rq->q_ptr = WR(rq)->q_ptr = g_new0(TtlCount, 1);
	qprocson(rq);
	return 0;
}

static int
ttlcount_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag, (void)crp;
	qprocsoff(rq);
	g_free(rq->q_ptr);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Write side: frames going out                                       */
/* ------------------------------------------------------------------ */

/* Put (write): counts outgoing IPv4 frames; passes everything on. */
static int
ttlcount_wput(queue_t *q, mblk_t *mp)
{
	TtlCount *tc = q->q_ptr;
	switch (DB_TYPE(mp)) {
	case M_DATA:
		if (ttlcount_frame_ttl(mp) >= 0)
			tc->ipv4_out++;
		putnext(q, mp);
		break;
	case M_FLUSH: us_default_flush(q, mp); break;
	default: putnext(q, mp); break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Read side: frames coming in                                        */
/* ------------------------------------------------------------------ */

/* Put (read): counts incoming IPv4 frames by TTL band and drops those
 * below min_ttl (consumes mp either way). */
static int
ttlcount_rput(queue_t *q, mblk_t *mp)
{
	TtlCount *tc = q->q_ptr;
	int ttl;
	switch (DB_TYPE(mp)) {
	case M_DATA:
		ttl = ttlcount_frame_ttl(mp);
		if (ttl >= 0) {
			ttlcount_count_in(tc, ttl);
			if ((guint64)ttl < tc->min_ttl) {
				tc->low_ttl++;
				us_drop(q, mp, TTLCOUNT_DROP_LOW_TTL);
				break;
			}
		}
		putnext(q, mp);
		break;
	case M_FLUSH: us_default_flush(q, mp); break;
	default: putnext(q, mp); break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info ttlcount_minfo = {
	.mi_idnum = 0x7c01,
	.mi_idname = "ttlcount",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit ttlcount_rinit = { .qi_putp = ttlcount_rput,
				       .qi_qopen = ttlcount_open,
				       .qi_qclose = ttlcount_close,
				       .qi_minfo = &ttlcount_minfo };
static struct qinit ttlcount_winit = { .qi_putp = ttlcount_wput, .qi_minfo = &ttlcount_minfo };
static struct streamtab ttlcount_info = { .st_rdinit = &ttlcount_rinit,
					  .st_wrinit = &ttlcount_winit };

static const UsParamDesc ttlcount_params[] = {
	US_PARAM_FIELD("min_ttl", "drop incoming IPv4 with a lower TTL (RFC 5082); 0 off",
		       US_PARAM_UINT, TtlCount, min_ttl, 0, 255),
	{ 0 },
};
static const UsStatDesc ttlcount_stats[] = {
	US_STAT("ipv4_in", "IPv4 packets received", TtlCount, ipv4_in),
	US_STAT("ipv4_out", "IPv4 packets sent", TtlCount, ipv4_out),
	US_STAT("ttl_le_32", "received with TTL 0..32", TtlCount, ttl_le_32),
	US_STAT("ttl_le_64", "received with TTL 33..64", TtlCount, ttl_le_64),
	US_STAT("ttl_le_128", "received with TTL 65..128", TtlCount, ttl_le_128),
	US_STAT("ttl_le_255", "received with TTL 129..255", TtlCount, ttl_le_255),
	US_STAT("low_ttl", "dropped: TTL below min_ttl", TtlCount, low_ttl),
	{ 0 },
};
static const char *const ttlcount_accepts[] = { "M_DATA (Ethernet frames, both ways)", "M_FLUSH",
						"anything else: passed on", NULL };

static const UsModuleDesc ttlcount_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "ttlcount",
	.summary = "counts IPv4 TTLs on an Ethernet stream; optional minimum TTL (GTSM)",
	.kind = US_KIND_MODULE,
	.streamtab = &ttlcount_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = ttlcount_params,
	.stats = ttlcount_stats,
	.drop_reasons = ttlcount_drop_reasons,
	.accepts = ttlcount_accepts,
};

/* What the loader looks for in ttlcount.so. */
const UsModuleDesc *const us_plugin_descs[] = { &ttlcount_desc, NULL };
