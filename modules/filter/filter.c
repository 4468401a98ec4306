/* SPDX-License-Identifier: MIT */
/*
 * filter -- a packet filter: an ordered list of rules, each a BPF expression
 * compiled with libpcap (pcap_compile) and run with bpf_filter, and an
 * action; in the spirit of netfilter, the place it is pushed decides which
 * hook it is.
 *
 * Theory
 * ------
 * Hooks (modules/pkthook/pkthook.h; "in" is the read side, up the stream,
 * "out" the write side), found at open from the modules below, or set with
 * the "hook" parameter:
 *   link   below ether: link input/output; whole Ethernet frames as M_DATA;
 *          expressions for DLT_EN10MB (ether host, arp, vlan, ip ...).
 *   dlpi   above ether (between ether and arp, or arp and ip): interface
 *          input/output (netfilter's PREROUTING/POSTROUTING place);
 *          IPv4 packets taken from DL_UNITDATA_IND/REQ payloads and from
 *          fast-path M_DATA (going down the leading Ethernet header is
 *          skipped); expressions for DLT_RAW.  ARP and other SAPs are not
 *          seen (counted as foreign and passed), as iptables does not see
 *          ARP.
 *   ip     between ip and a transport: local in/out (INPUT/OUTPUT);
 *          IP_UNITDATA_IND's datagram; IP_UNITDATA_REQ carries only the
 *          payload, so the rules see it behind a synthetic IPv4 header
 *          built from the request (dst, src or 0.0.0.0, proto, tos, ttl,
 *          DF; as is with IP_F_HDRINCL).  DLT_RAW.
 * Messages that are no packets at the hook (other primitives, ioctls and
 * their acks, M_FLUSH, ...) pass untouched ("others").
 *
 * Evaluation (each packet, in its direction): the rules whose direction
 * includes it are tried in order; a rule matches when its program accepts
 * the packet; the match counts in the rule (packets, bytes); accept passes
 * the packet and drop drops it (us_drop "dropped by a rule"), both ending
 * the walk; count goes on; log writes a one-line tcpdump-like decode with
 * g_message and goes on.  When no rule decided, "policy" does (accept, or
 * drop with us_drop "dropped by the default policy").  Kept packets go on
 * with putnext, unchanged.
 *
 * Rules change at run time through the "rules" parameter (the whole list,
 * replaced at once: counters restart) and through I_STR (filter.h:
 * FILTER_ADD, FILTER_DEL, FILTER_FLUSH, FILTER_LIST); after either, the
 * parameter reads back the current list in canonical text.  An expression
 * libpcap refuses is refused (EINVAL, or the parameter's error) with
 * libpcap's message logged (g_warning), and the list stays as it was.
 * Changing "hook" recompiles every rule for the new link type (refused if
 * one does not compile).
 *
 * Flow control: no service procedures, so the filter is transparent to it
 * (like ether and arp); nothing is ever queued here.  Writes to the rule
 * list happen on the stack's thread (put procedure, parameter hooks), so
 * the walk needs no lock.
 *
 * Deviations (from netfilter)
 *  - No connection tracking, no NAT, no jumps or user chains: a flat list
 *    per instance; one policy for both directions.
 *  - No REJECT: dropped packets vanish silently (ICMP errors are not sent).
 *  - At the dlpi and ip hooks only IPv4 is filtered; other protocols pass.
 *  - The synthetic header of an IP_UNITDATA_REQ has id 0 and no options;
 *    "src" is 0.0.0.0 when ip has yet to choose it, so rules on the source
 *    address of locally sent datagrams belong one hook lower.
 */
#define G_LOG_DOMAIN "us-filter"

#include "filter.h"

#include "ether-wire.h"
#include "pkthook.h"

#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <errno.h>
#include <glib.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

/* One rule. */
typedef struct {
	guint32 fr_action;          /* FILTER_ACCEPT ... FILTER_LOG */
	guint32 fr_dir;             /* FILTER_DIR_* bits */
	char *fr_expr;              /* the expression as given ("" : all) */
	struct bpf_program fr_prog; /* compiled for the instance's DLT */
	guint64 fr_packets;         /* packets matched */
	guint64 fr_bytes;           /* their bytes */
} FilterRule;

/* Per-instance state (q_ptr of both queues). */
typedef struct {
	/* parameters */
	char *rules;  /* the list as canonical text */
	char *policy; /* "accept" or "drop" */
	char *hook;   /* "auto", "link", "dlpi" or "ip" */
	/* statistics */
	guint64 packets_in;      /* packets examined going up */
	guint64 packets_out;     /* packets examined going down */
	guint64 accepted;        /* passed by an accept rule */
	guint64 dropped;         /* dropped by a drop rule */
	guint64 policy_accepted; /* passed by the policy */
	guint64 policy_dropped;  /* dropped by the policy */
	guint64 counted;         /* count-rule matches */
	guint64 logged;          /* log-rule matches */
	guint64 foreign;         /* packets the hook cannot hold, passed */
	guint64 others;          /* messages that are no packets, passed */
	/* state */
	GPtrArray *fs_rules;     /* FilterRule *, in order */
	PktHook fs_probed;       /* the hook the stream below implies */
	PktHook fs_hook;         /* in use: fs_probed or the parameter */
	gboolean fs_policy_drop; /* parsed "policy" */
	PktScratch fs_scratch;   /* packets not contiguous in their message */
} FilterState;

static const char *const filter_action_names[] = {
	[FILTER_ACCEPT] = "accept",
	[FILTER_DROP] = "drop",
	[FILTER_COUNT] = "count",
	[FILTER_LOG] = "log",
};
static const char *const filter_dir_names[] = {
	[FILTER_DIR_IN] = "in",
	[FILTER_DIR_OUT] = "out",
	[FILTER_DIR_BOTH] = "both",
};

static struct module_info filter_minfo = {
	.mi_idnum = 1041,
	.mi_idname = "filter",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};

/* ------------------------------------------------------------------ */
/* Rules                                                              */
/* ------------------------------------------------------------------ */

/* The link type rules are compiled for (a hook without one: DLT_RAW, so
 * rules are still checked). */
static int
filter_dlt(PktHook hook)
{
	int dlt = us__pkthook_dlt(hook);
	return dlt >= 0 ? dlt : DLT_RAW;
}

static void
filter_rule_free(gpointer p)
{
	FilterRule *r = p;
	pcap_freecode(&r->fr_prog);
	g_free(r->fr_expr);
	g_free(r);
}

/* A rule, compiled for dlt, or NULL with error set and libpcap's message
 * logged. */
static FilterRule *
filter_rule_new(guint32 action, guint32 dir, const char *expr, int dlt, GError **error)
{
	FilterRule *r = g_new0(FilterRule, 1);
	if (!us__pkthook_compile(dlt, expr, &r->fr_prog, error)) {
		g_warning("filter: '%s' (%s): %s", expr, pcap_datalink_val_to_name(dlt),
			  (*error)->message);
		g_free(r);
		return NULL;
	}
	r->fr_action = action;
	r->fr_dir = dir;
	r->fr_expr = g_strdup(expr);
	return r;
}

static char *
filter_rule_text(const FilterRule *r)
{
	return g_strdup_printf("%s %s%s%s", filter_action_names[r->fr_action],
			       filter_dir_names[r->fr_dir], r->fr_expr[0] ? " " : "", r->fr_expr);
}

/* Rewrites the "rules" parameter from the list. */
static void
filter_sync_text(FilterState *fs)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < fs->fs_rules->len; i++) {
		char *t = filter_rule_text(fs->fs_rules->pdata[i]);
		g_string_append_printf(s, "%s%s", i > 0 ? "; " : "", t);
		g_free(t);
	}
	g_free(fs->rules);
	fs->rules = g_string_free(s, FALSE);
}

static gboolean
filter_lookup(const char *const *names, guint n, const char *word, guint32 *out)
{
	for (guint i = 0; i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], word) == 0) {
			*out = i;
			return TRUE;
		}
	}
	return FALSE;
}

/* Parses one rule's text ("drop in udp port 53") and compiles it. */
static FilterRule *
filter_rule_parse(const char *text, int dlt, GError **error)
{
	const char *p = text;
	size_t n = strcspn(p, " \t");
	char *word = g_strndup(p, n);
	guint32 action, dir = FILTER_DIR_BOTH;
	gboolean ok = filter_lookup(filter_action_names, G_N_ELEMENTS(filter_action_names), word,
				    &action);
	g_free(word);
	if (!ok) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "'%s': a rule starts with accept, drop, count or log", text);
		return NULL;
	}
	p += n;
	p += strspn(p, " \t");
	n = strcspn(p, " \t");
	word = g_strndup(p, n);
	if (filter_lookup(filter_dir_names, G_N_ELEMENTS(filter_dir_names), word, &dir)) {
		p += n;
		p += strspn(p, " \t");
	}
	g_free(word);
	if (strlen(p) >= FILTER_EXPR_MAX) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID, "'%s': expression too long", text);
		return NULL;
	}
	return filter_rule_new(action, dir, p, dlt, error);
}

/* Parses a whole list ("rule; rule\nrule"); NULL with error on the first
 * bad rule. */
static GPtrArray *
filter_rules_parse(const char *text, int dlt, GError **error)
{
	GPtrArray *rules = g_ptr_array_new_with_free_func(filter_rule_free);
	char **parts = g_strsplit_set(text != NULL ? text : "", ";\n", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		char *t = g_strstrip(parts[i]);
		if (*t == '\0')
			continue;
		FilterRule *r =
			rules->len < FILTER_RULES_MAX ? filter_rule_parse(t, dlt, error) : NULL;
		if (r == NULL) {
			if (rules->len >= FILTER_RULES_MAX)
				g_set_error(error, US_ERROR, US_ERROR_INVALID, "more than %d rules",
					    FILTER_RULES_MAX);
			g_ptr_array_unref(rules);
			rules = NULL;
			break;
		}
		g_ptr_array_add(rules, r);
	}
	g_strfreev(parts);
	return rules;
}

/* Recompiles every rule for dlt, replacing the list only if all compile. */
static gboolean
filter_recompile(FilterState *fs, int dlt, GError **error)
{
	GPtrArray *fresh = g_ptr_array_new_with_free_func(filter_rule_free);
	for (guint i = 0; i < fs->fs_rules->len; i++) {
		const FilterRule *old = fs->fs_rules->pdata[i];
		FilterRule *r =
			filter_rule_new(old->fr_action, old->fr_dir, old->fr_expr, dlt, error);
		if (r == NULL) {
			g_ptr_array_unref(fresh);
			return FALSE;
		}
		r->fr_packets = old->fr_packets;
		r->fr_bytes = old->fr_bytes;
		g_ptr_array_add(fresh, r);
	}
	g_ptr_array_unref(fs->fs_rules);
	fs->fs_rules = fresh;
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Decoding for log rules                                             */
/* ------------------------------------------------------------------ */

static void
filter_decode_tcp_flags(GString *s, guint8 f)
{
	static const char names[] = "FSRPAUEW";
	g_string_append(s, "Flags [");
	for (guint i = 0; i < 8; i++)
		if (f & (1u << i))
			g_string_append_c(s, i == 4 ? '.' : names[i]);
	g_string_append(s, "]");
}

/* tcpdump-like: "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1". */
static void
filter_decode_ipv4(GString *s, const guint8 *p, size_t len)
{
	size_t hl = len >= 1 ? (size_t)(p[0] & 0x0f) * 4 : 0;
	if (len < 20 || hl < 20 || hl > len) {
		g_string_append_printf(s, "IP truncated, %zu bytes", len);
		return;
	}
	char src[16], dst[16];
	g_snprintf(src, sizeof src, "%u.%u.%u.%u", p[12], p[13], p[14], p[15]);
	g_snprintf(dst, sizeof dst, "%u.%u.%u.%u", p[16], p[17], p[18], p[19]);
	guint total = ether_get16(p + 2), proto = p[9];
	const guint8 *t = p + hl;
	size_t tl = len - hl;
	if ((ether_get16(p + 6) & 0x1fff) != 0) {
		g_string_append_printf(s, "IP %s > %s: proto %u fragment, length %u", src, dst,
				       proto, total);
	} else if (proto == 1 && tl >= 8) {
		guint type = t[0];
		const char *what = type == 8 ? "echo request" : type == 0 ? "echo reply" : NULL;
		g_string_append_printf(s, "IP %s > %s: ICMP ", src, dst);
		if (what != NULL)
			g_string_append_printf(s, "%s, id %u, seq %u", what, ether_get16(t + 4),
					       ether_get16(t + 6));
		else
			g_string_append_printf(s, "type %u code %u", type, t[1]);
		g_string_append_printf(s, ", length %u", total);
	} else if ((proto == 6 && tl >= 14) || (proto == 17 && tl >= 8)) {
		g_string_append_printf(s, "IP %s.%u > %s.%u: %s", src, ether_get16(t), dst,
				       ether_get16(t + 2), proto == 6 ? "" : "UDP");
		if (proto == 6)
			filter_decode_tcp_flags(s, t[13]);
		g_string_append_printf(s, ", length %u", total);
	} else {
		g_string_append_printf(s, "IP %s > %s: proto %u, length %u", src, dst, proto,
				       total);
	}
}

static void
filter_decode_arp(GString *s, const guint8 *p, size_t len)
{
	if (len < 28 || ether_get16(p + 2) != ETHER_T_IPV4) {
		g_string_append_printf(s, "ARP, %zu bytes", len);
		return;
	}
	guint op = ether_get16(p + 6);
	if (op == 1)
		g_string_append_printf(s, "ARP, Request who-has %u.%u.%u.%u tell %u.%u.%u.%u",
				       p[24], p[25], p[26], p[27], p[14], p[15], p[16], p[17]);
	else
		g_string_append_printf(s,
				       "ARP, Reply %u.%u.%u.%u is-at "
				       "%02x:%02x:%02x:%02x:%02x:%02x",
				       p[14], p[15], p[16], p[17], p[8], p[9], p[10], p[11], p[12],
				       p[13]);
}

/* One line describing the packet (the caller frees it). */
static char *
filter_decode(int dlt, const PktView *v)
{
	GString *s = g_string_new(NULL);
	const guint8 *p = v->data;
	size_t len = v->len;
	if (dlt != DLT_EN10MB) {
		filter_decode_ipv4(s, p, len);
		return g_string_free(s, FALSE);
	}
	if (len < ETHER_HLEN) {
		g_string_append_printf(s, "runt frame, %zu bytes", len);
		return g_string_free(s, FALSE);
	}
	g_string_append_printf(s, "%02x:%02x:%02x:%02x:%02x:%02x > %02x:%02x:%02x:%02x:%02x:%02x, ",
			       p[6], p[7], p[8], p[9], p[10], p[11], p[0], p[1], p[2], p[3], p[4],
			       p[5]);
	guint type = ether_get16(p + ETHER_OFF_TYPE);
	size_t off = ETHER_HLEN;
	if (type == ETHER_T_VLAN && len >= ETHER_VLAN_HLEN) {
		g_string_append_printf(s, "vlan %u, ",
				       ETHER_TCI_VID(ether_get16(p + ETHER_OFF_TCI)));
		type = ether_get16(p + ETHER_OFF_VLAN_TYPE);
		off = ETHER_VLAN_HLEN;
	}
	if (type == ETHER_T_IPV4)
		filter_decode_ipv4(s, p + off, len - off);
	else if (type == ETHER_T_ARP)
		filter_decode_arp(s, p + off, len - off);
	else
		g_string_append_printf(s, "ethertype 0x%04x, length %zu", type, len);
	return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                         */
/* ------------------------------------------------------------------ */

static void
filter_log(FilterState *fs, guint i, gboolean up, const PktView *v)
{
	char *text = filter_rule_text(fs->fs_rules->pdata[i]);
	char *line = filter_decode(filter_dlt(fs->fs_hook), v);
	g_message("rule %u (%s) %s: %s", i, text, up ? "in" : "out", line);
	g_free(line);
	g_free(text);
}

/* The verdict on one packet: TRUE to keep it, else FALSE and the reason. */
static gboolean
filter_verdict(FilterState *fs, gboolean up, const PktView *v, guint *reason)
{
	guint32 bit = up ? FILTER_DIR_IN : FILTER_DIR_OUT;
	if (up)
		fs->packets_in++;
	else
		fs->packets_out++;
	for (guint i = 0; i < fs->fs_rules->len; i++) {
		FilterRule *r = fs->fs_rules->pdata[i];
		if (!(r->fr_dir & bit) || !us__pkthook_match(&r->fr_prog, v))
			continue;
		r->fr_packets++;
		r->fr_bytes += v->len;
		switch (r->fr_action) {
		case FILTER_ACCEPT: fs->accepted++; return TRUE;
		case FILTER_DROP:
			fs->dropped++;
			*reason = FILTER_DROP_RULE;
			return FALSE;
		case FILTER_COUNT: fs->counted++; break;
		case FILTER_LOG:
			fs->logged++;
			filter_log(fs, i, up, v);
			break;
		}
	}
	if (fs->fs_policy_drop) {
		fs->policy_dropped++;
		*reason = FILTER_DROP_POLICY;
		return FALSE;
	}
	fs->policy_accepted++;
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static int
filter_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp;
	(void)oflag;
	(void)crp;
	if (sflag != MODOPEN)
		return ENXIO;
	FilterState *fs = g_new0(FilterState, 1);
	fs->rules = g_strdup("");
	fs->policy = g_strdup("accept");
	fs->hook = g_strdup("auto");
	fs->fs_rules = g_ptr_array_new_with_free_func(filter_rule_free);
	fs->fs_probed = fs->fs_hook = us__pkthook_probe(rq);
	rq->q_ptr = WR(rq)->q_ptr = fs;
	qprocson(rq);
	return 0;
}

static int
filter_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	FilterState *fs = rq->q_ptr;
	qprocsoff(rq);
	g_ptr_array_unref(fs->fs_rules);
	us__pkthook_scratch_clear(&fs->fs_scratch);
	g_free(fs->rules);
	g_free(fs->policy);
	g_free(fs->hook);
	g_free(fs);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* ioctls                                                             */
/* ------------------------------------------------------------------ */

static gboolean
filter_ioc_arg(const mblk_t *mp, void *out, size_t len)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	return ioc->ioc_count >= len && mp->b_cont != NULL &&
	       us_msgcopyout(mp->b_cont, 0, out, len) == len;
}

/* FILTER_ADD: the errno, or 0 with *where set. */
static int
filter_ioc_add(FilterState *fs, const mblk_t *mp, int *where)
{
	struct filter_rule_req req;
	if (!filter_ioc_arg(mp, &req, sizeof req))
		return EINVAL;
	if (req.action < FILTER_ACCEPT || req.action > FILTER_LOG || req.dir < FILTER_DIR_IN ||
	    req.dir > FILTER_DIR_BOTH || memchr(req.expr, '\0', sizeof req.expr) == NULL ||
	    strpbrk(req.expr, ";\n") != NULL)
		return EINVAL;
	if (fs->fs_rules->len >= FILTER_RULES_MAX)
		return ENOSPC;
	GError *error = NULL;
	FilterRule *r =
		filter_rule_new(req.action, req.dir, req.expr, filter_dlt(fs->fs_hook), &error);
	if (r == NULL) {
		g_error_free(error);
		return EINVAL;
	}
	guint at = req.index < 0 || (guint)req.index > fs->fs_rules->len ? fs->fs_rules->len
									 : (guint)req.index;
	g_ptr_array_insert(fs->fs_rules, (gint)at, r);
	*where = (int)at;
	return 0;
}

/* FILTER_LIST: the rules, as many as fit in the caller's buffer. */
static void
filter_ioc_list(queue_t *wq, mblk_t *mp)
{
	FilterState *fs = wq->q_ptr;
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	size_t n = MIN(ioc->ioc_count / sizeof(struct filter_rule_info), fs->fs_rules->len);
	size_t len = n * sizeof(struct filter_rule_info);
	struct filter_rule_info *info = g_new0(struct filter_rule_info, MAX(n, 1));
	for (size_t i = 0; i < n; i++) {
		const FilterRule *r = fs->fs_rules->pdata[i];
		char *t = filter_rule_text(r);
		info[i] = (struct filter_rule_info){ .index = (uint32_t)i,
						     .action = r->fr_action,
						     .dir = r->fr_dir,
						     .packets = r->fr_packets,
						     .bytes = r->fr_bytes };
		g_strlcpy(info[i].text, t, sizeof info[i].text);
		g_free(t);
	}
	mblk_t *dp = len > 0 ? us_msg_from(info, len, 0) : NULL;
	g_free(info);
	if (len > 0 && dp == NULL) {
		miocnak(wq, mp, 0, ENOMEM);
		return;
	}
	freemsg(mp->b_cont);
	mp->b_cont = dp;
	miocack(wq, mp, (int)len, (int)fs->fs_rules->len);
}

/* Handles filter's own ioctls (consumed); FALSE for any other. */
static gboolean
filter_ioctl(queue_t *wq, mblk_t *mp)
{
	FilterState *fs = wq->q_ptr;
	if (MBLKL(mp) < sizeof(struct iocblk))
		return FALSE;
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	int cmd = ioc->ioc_cmd, err = 0, rval = 0;
	struct filter_del_req del;
	if (cmd != FILTER_ADD && cmd != FILTER_DEL && cmd != FILTER_FLUSH && cmd != FILTER_LIST)
		return FALSE;
	if (ioc->ioc_count == TRANSPARENT) {
		miocnak(wq, mp, 0, EINVAL);
		return TRUE;
	}
	switch (cmd) {
	case FILTER_ADD: err = filter_ioc_add(fs, mp, &rval); break;
	case FILTER_DEL:
		if (!filter_ioc_arg(mp, &del, sizeof del))
			err = EINVAL;
		else if (del.index < 0 || (guint)del.index >= fs->fs_rules->len)
			err = ENOENT;
		else
			g_ptr_array_remove_index(fs->fs_rules, (guint)del.index);
		break;
	case FILTER_FLUSH:
		rval = (int)fs->fs_rules->len;
		g_ptr_array_set_size(fs->fs_rules, 0);
		break;
	case FILTER_LIST: filter_ioc_list(wq, mp); return TRUE;
	}
	if (err != 0) {
		miocnak(wq, mp, 0, err);
		return TRUE;
	}
	filter_sync_text(fs);
	miocack(wq, mp, 0, rval);
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Both sides                                                         */
/* ------------------------------------------------------------------ */

/* Put (both sides): filter packets; pass everything else untouched. */
static int
filter_put(queue_t *q, mblk_t *mp)
{
	FilterState *fs = q->q_ptr;
	gboolean up = (q->q_flag & QREADR) != 0;
	PktView v;
	guint reason;
	switch (DB_TYPE(mp)) {
	case M_FLUSH: us_default_flush(q, mp); return 0;
	case M_IOCTL:
		if (!up && filter_ioctl(q, mp))
			return 0;
		break;
	default: break;
	}
	switch (us__pkthook_view(fs->fs_hook, up, mp, &fs->fs_scratch, &v)) {
	case PKT_NOT_PACKET: fs->others++; break;
	case PKT_FOREIGN: fs->foreign++; break;
	case PKT_OK:
		if (!filter_verdict(fs, up, &v, &reason)) {
			us_drop(q, mp, reason);
			return 0;
		}
		break;
	}
	putnext(q, mp);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

/* "rules": the whole list at once (counters restart); canonical text. */
static gboolean
filter_set_rules(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	FilterState *fs = rq->q_ptr;
	GPtrArray *rules = filter_rules_parse(fs->rules, filter_dlt(fs->fs_hook), error);
	if (rules == NULL)
		return FALSE;
	g_ptr_array_unref(fs->fs_rules);
	fs->fs_rules = rules;
	filter_sync_text(fs);
	return TRUE;
}

static gboolean
filter_set_policy(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	FilterState *fs = rq->q_ptr;
	const char *v = fs->policy != NULL ? fs->policy : "";
	if (strcmp(v, "accept") != 0 && strcmp(v, "drop") != 0) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID, "policy: '%s' is not accept or drop",
			    v);
		return FALSE;
	}
	fs->fs_policy_drop = strcmp(v, "drop") == 0;
	return TRUE;
}

/* "hook": takes effect at once; every rule is recompiled for it. */
static gboolean
filter_set_hook(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	FilterState *fs = rq->q_ptr;
	PktHook h;
	if (!us__pkthook_parse(fs->hook, &h) || h == PKTHOOK_NONE) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "hook: '%s' is not auto, link, dlpi or ip", fs->hook);
		return FALSE;
	}
	if (h == PKTHOOK_AUTO)
		h = fs->fs_probed;
	if (filter_dlt(h) != filter_dlt(fs->fs_hook) && !filter_recompile(fs, filter_dlt(h), error))
		return FALSE;
	fs->fs_hook = h;
	return TRUE;
}

static struct qinit filter_rinit = {
	.qi_putp = filter_put,
	.qi_qopen = filter_open,
	.qi_qclose = filter_close,
	.qi_minfo = &filter_minfo,
};
static struct qinit filter_winit = { .qi_putp = filter_put, .qi_minfo = &filter_minfo };
static struct streamtab filter_info = { .st_rdinit = &filter_rinit, .st_wrinit = &filter_winit };

#define FILTER_STRING(nm, desc, fld, hook)                                    \
	{                                                                     \
		.name = (nm), .description = (desc), .type = US_PARAM_STRING, \
		.offset = G_STRUCT_OFFSET(FilterState, fld), .on_set = (hook) \
	}

static const UsParamDesc filter_params[] = {
	FILTER_STRING(FILTER_PARAM_RULES, "rules: \"ACTION [in|out|both] EXPR; ...\"", rules,
		      filter_set_rules),
	FILTER_STRING(FILTER_PARAM_POLICY, "accept or drop when no rule decides", policy,
		      filter_set_policy),
	FILTER_STRING(FILTER_PARAM_HOOK, "auto, link (DLT_EN10MB), dlpi or ip (DLT_RAW)", hook,
		      filter_set_hook),
	{ 0 },
};
static const UsStatDesc filter_stats[] = {
	US_STAT(FILTER_STAT_PACKETS_IN, "packets examined going up", FilterState, packets_in),
	US_STAT(FILTER_STAT_PACKETS_OUT, "packets examined going down", FilterState, packets_out),
	US_STAT(FILTER_STAT_ACCEPTED, "passed by an accept rule", FilterState, accepted),
	US_STAT(FILTER_STAT_DROPPED, "dropped by a drop rule", FilterState, dropped),
	US_STAT(FILTER_STAT_POLICY_ACCEPTED, "passed by the policy", FilterState, policy_accepted),
	US_STAT(FILTER_STAT_POLICY_DROPPED, "dropped by the policy", FilterState, policy_dropped),
	US_STAT(FILTER_STAT_COUNTED, "count-rule matches", FilterState, counted),
	US_STAT(FILTER_STAT_LOGGED, "log-rule matches", FilterState, logged),
	US_STAT(FILTER_STAT_FOREIGN, "packets the hook cannot see (passed)", FilterState, foreign),
	US_STAT(FILTER_STAT_OTHERS, "messages that are no packets (passed)", FilterState, others),
	{ 0 },
};
static const char *const filter_drop_reasons[] = {
	[FILTER_DROP_RULE] = "dropped by a rule",
	[FILTER_DROP_POLICY] = "dropped by the default policy",
	NULL,
};
static const char *const filter_accepts[] = {
	"M_DATA (frames below ether; fast path above it)",
	"M_PROTO DL_UNITDATA_IND/REQ, IP_UNITDATA_IND/REQ (filtered)",
	"M_IOCTL FILTER_ADD, FILTER_DEL, FILTER_FLUSH, FILTER_LIST",
	"all others (passed through)",
	NULL,
};

const UsModuleDesc us_filter_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "filter",
	.summary = "packet filter: ordered BPF rules (accept/drop/count/log) at any hook",
	.kind = US_KIND_MODULE,
	.streamtab = &filter_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = filter_params,
	.stats = filter_stats,
	.drop_reasons = filter_drop_reasons,
	.accepts = filter_accepts,
};
