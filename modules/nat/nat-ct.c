/* SPDX-License-Identifier: MIT */
/*
 * nat-ct.c -- connection tracking for nat, sans I/O: the flow tables, the
 * endpoint-independent mappings and their port pool, TCP/UDP/ICMP states and
 * timeouts, the expiry heap, forwarding rules and the fragment memory.
 * Nothing here touches a message or a queue; time is an argument (ns on the
 * world clock), so the tracker is deterministic in virtual time.
 *
 * Theory
 * ------
 * A flow is one conversation between an inside endpoint (in_addr, in_port)
 * and an outside peer (peer_addr, peer_port) of one protocol, seen through
 * one external port on the outside address.  It is found by two keys:
 * going out by (proto, in_addr, in_port, peer_addr, peer_port), coming in by
 * (proto, peer_addr, peer_port, ext_port).  The external port comes from a
 * mapping of the inside endpoint (RFC 4787 REQ-1, endpoint-independent
 * mapping: every flow of one inside endpoint leaves through the same
 * external port, whatever the peer; RFC 5382 REQ-1 for TCP); a mapping lives
 * while a flow uses it.  Filtering is address-and-port-dependent (RFC 4787
 * §5; the strictest of its three behaviours, where REQ-8 recommends one of
 * the other two): only packets matching a flow's in-key come in, so an
 * outside host can reach an inside one only through a flow the inside one
 * opened, or through a forwarding rule.
 *
 * Port pool: a bitmap per protocol (TCP, UDP, ICMP identifiers) of ports
 * held by mappings or rules; a new mapping takes the next free port in
 * [port_min, port_max] after the last one given (next fit, so a port just
 * released is not reused at once).  None free: the new flow is refused
 * (ports_exhausted), existing ones are untouched.
 *
 * Forwarding rules (proto, ext_port) -> (in_addr, in_port) hold their port
 * in the pool; the first packet from a peer to the port (a SYN for TCP)
 * creates a flow flagged FORWARD whose originator is the peer.  Deleting a
 * rule ends its flows.
 *
 * States and timeouts (conntrack's defaults, the parameters in nat.h):
 *   TCP, from the flags of every segment, orig = the originator's side:
 *     RST either way                       -> CLOSE (10 s)
 *     SYN (no ACK) from orig in NONE, CLOSE or TIME_WAIT
 *                                          -> SYN_SENT (120 s) (reuse)
 *     SYN+ACK from the responder in SYN_SENT -> ESTABLISHED (5 days)
 *     FIN: noted per side; both seen       -> TIME_WAIT (120 s)
 *          one seen, in SYN_SENT/ESTABLISHED -> FIN_WAIT (120 s)
 *   UDP: UDP (30 s) until a reply, then UDP_STREAM (180 s).
 *   ICMP echo: ICMP (30 s).
 * Every packet of a flow, either way, restarts its timeout (RFC 4787 REQ-6
 * outbound refresh; inbound refresh too).
 *
 * Expiry: one binary min-heap keyed by nf_heap_key, kept <= nf_expire.  A
 * refresh that pushes the expiry later leaves the heap alone (the common
 * case costs nothing); one that brings it closer (a RST) sifts the flow up.
 * When the heap's first key is due, a flow that really expired goes; one
 * refreshed meanwhile gets its true key and sinks.  So the caller needs one
 * timer, at nat_ct_next_deadline().
 *
 * Fragments: a datagram's first fragment carries the ports; what it was
 * given (the address written) is remembered by (src, dst, id, proto,
 * direction) for frag_timeout_ms so that later fragments get the same; at
 * most max_frags entries, the oldest pushed out.
 */
#define G_LOG_DOMAIN "us-nat"

#include "nat-impl.h"

#include <errno.h>

#define NAT_TH_FIN 0x01
#define NAT_TH_SYN 0x02
#define NAT_TH_RST 0x04
#define NAT_TH_ACK 0x10

/* ------------------------------------------------------------------ */
/* Keys                                                               */
/* ------------------------------------------------------------------ */

static inline guint
nat_mix(guint h, guint32 v)
{
	h ^= v;
	h *= 0x9e3779b1u;
	return h ^ (h >> 15);
}

static guint
nat_out_hash(gconstpointer p)
{
	const NatOutKey *k = p;
	guint h = nat_mix(k->proto, k->in_addr);
	h = nat_mix(h, k->peer_addr);
	return nat_mix(h, ((guint32)k->in_port << 16) | k->peer_port);
}

static gboolean
nat_out_eq(gconstpointer a, gconstpointer b)
{
	const NatOutKey *x = a, *y = b;
	return x->in_addr == y->in_addr && x->peer_addr == y->peer_addr &&
	       x->in_port == y->in_port && x->peer_port == y->peer_port && x->proto == y->proto;
}

static guint
nat_in_hash(gconstpointer p)
{
	const NatInKey *k = p;
	guint h = nat_mix(k->proto, k->peer_addr);
	return nat_mix(h, ((guint32)k->peer_port << 16) | k->ext_port);
}

static gboolean
nat_in_eq(gconstpointer a, gconstpointer b)
{
	const NatInKey *x = a, *y = b;
	return x->peer_addr == y->peer_addr && x->peer_port == y->peer_port &&
	       x->ext_port == y->ext_port && x->proto == y->proto;
}

static guint
nat_map_hash(gconstpointer p)
{
	const NatMapKey *k = p;
	return nat_mix(nat_mix(k->proto, k->in_addr), k->in_port);
}

static gboolean
nat_map_eq(gconstpointer a, gconstpointer b)
{
	const NatMapKey *x = a, *y = b;
	return x->in_addr == y->in_addr && x->in_port == y->in_port && x->proto == y->proto;
}

static guint
nat_frag_hash(gconstpointer p)
{
	const NatFragKey *k = p;
	guint h = nat_mix(k->proto | ((guint)k->out << 8), k->src);
	return nat_mix(nat_mix(h, k->dst), k->id);
}

static gboolean
nat_frag_eq(gconstpointer a, gconstpointer b)
{
	const NatFragKey *x = a, *y = b;
	return x->src == y->src && x->dst == y->dst && x->id == y->id && x->proto == y->proto &&
	       x->out == y->out;
}

guint
nat_proto_index(uint8_t proto)
{
	return proto == NAT_PROTO_TCP ? 0 : proto == NAT_PROTO_UDP ? 1 : 2;
}

/* ------------------------------------------------------------------ */
/* Port pool                                                          */
/* ------------------------------------------------------------------ */

static gboolean
nat_port_used(const NatCt *ct, guint pi, guint port)
{
	return (ct->ct_used[pi][port >> 3] >> (port & 7)) & 1;
}

static void
nat_port_mark(NatCt *ct, guint pi, guint port, gboolean used)
{
	if (used)
		ct->ct_used[pi][port >> 3] |= (uint8_t)(1u << (port & 7));
	else
		ct->ct_used[pi][port >> 3] &= (uint8_t) ~(1u << (port & 7));
}

/* The next free port of [port_min, port_max] (host order), or 0. */
static guint
nat_port_alloc(NatCt *ct, guint pi)
{
	guint lo = (guint)ct->ct_port_min, hi = (guint)ct->ct_port_max;
	if (lo == 0 || lo > hi || hi > 65535)
		return 0;
	guint c = ct->ct_cursor[pi];
	if (c < lo || c > hi)
		c = lo;
	for (guint i = 0; i <= hi - lo; i++) {
		guint port = c;
		c = c == hi ? lo : c + 1;
		if (!nat_port_used(ct, pi, port)) {
			nat_port_mark(ct, pi, port, TRUE);
			ct->ct_cursor[pi] = (uint16_t)c;
			return port;
		}
	}
	return 0;
}

gboolean
nat_ct_port_mapped(NatCt *ct, uint8_t proto, uint16_t ext_port)
{
	return nat_port_used(ct, nat_proto_index(proto), g_ntohs(ext_port)) &&
	       nat_ct_rule_find(ct, proto, ext_port) == NULL;
}

/* ------------------------------------------------------------------ */
/* Expiry heap                                                        */
/* ------------------------------------------------------------------ */

static inline NatFlow *
nat_heap_at(NatCt *ct, guint i)
{
	return g_ptr_array_index(ct->ct_heap, i);
}

static void
nat_heap_set(NatCt *ct, guint i, NatFlow *f)
{
	ct->ct_heap->pdata[i] = f;
	f->nf_heap_idx = i;
}

static void
nat_heap_up(NatCt *ct, guint i)
{
	NatFlow *f = nat_heap_at(ct, i);
	while (i > 0) {
		guint parent = (i - 1) / 2;
		NatFlow *p = nat_heap_at(ct, parent);
		if (p->nf_heap_key <= f->nf_heap_key)
			break;
		nat_heap_set(ct, i, p);
		i = parent;
	}
	nat_heap_set(ct, i, f);
}

static void
nat_heap_down(NatCt *ct, guint i)
{
	guint n = ct->ct_heap->len;
	NatFlow *f = nat_heap_at(ct, i);
	for (;;) {
		guint c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n &&
		    nat_heap_at(ct, c + 1)->nf_heap_key < nat_heap_at(ct, c)->nf_heap_key)
			c++;
		if (f->nf_heap_key <= nat_heap_at(ct, c)->nf_heap_key)
			break;
		nat_heap_set(ct, i, nat_heap_at(ct, c));
		i = c;
	}
	nat_heap_set(ct, i, f);
}

static void
nat_heap_remove(NatCt *ct, NatFlow *f)
{
	guint i = f->nf_heap_idx;
	NatFlow *last = g_ptr_array_steal_index(ct->ct_heap, ct->ct_heap->len - 1);
	if (last == f)
		return;
	nat_heap_set(ct, i, last);
	nat_heap_up(ct, i);
	nat_heap_down(ct, last->nf_heap_idx);
}

/* ------------------------------------------------------------------ */
/* Tables                                                             */
/* ------------------------------------------------------------------ */

void
nat_ct_init(NatCt *ct)
{
	ct->ct_port_min = 61000;
	ct->ct_port_max = 65535;
	ct->ct_max_entries = 16384;
	ct->ct_to_syn_sent = 120;
	ct->ct_to_established = 432000;
	ct->ct_to_fin_wait = 120;
	ct->ct_to_time_wait = 120;
	ct->ct_to_close = 10;
	ct->ct_to_udp = 30;
	ct->ct_to_udp_stream = 180;
	ct->ct_to_icmp = 30;
	ct->ct_frag_timeout_ms = 5000;
	ct->ct_max_frags = 1024;
	ct->ct_by_out = g_hash_table_new(nat_out_hash, nat_out_eq);
	ct->ct_by_in = g_hash_table_new(nat_in_hash, nat_in_eq);
	ct->ct_maps = g_hash_table_new(nat_map_hash, nat_map_eq);
	ct->ct_heap = g_ptr_array_new();
	ct->ct_rules = g_array_new(FALSE, TRUE, sizeof(NatRule));
	ct->ct_frag = g_hash_table_new(nat_frag_hash, nat_frag_eq);
	g_queue_init(&ct->ct_frag_fifo);
}

void
nat_ct_destroy(NatCt *ct)
{
	nat_ct_flush(ct);
	nat_ct_frag_flush(ct);
	g_hash_table_destroy(ct->ct_by_out);
	g_hash_table_destroy(ct->ct_by_in);
	g_hash_table_destroy(ct->ct_maps);
	g_ptr_array_free(ct->ct_heap, TRUE);
	g_array_free(ct->ct_rules, TRUE);
	g_hash_table_destroy(ct->ct_frag);
}

NatFlow *
nat_ct_find_out(NatCt *ct, const NatOutKey *k)
{
	return g_hash_table_lookup(ct->ct_by_out, k);
}

NatFlow *
nat_ct_find_in(NatCt *ct, const NatInKey *k)
{
	return g_hash_table_lookup(ct->ct_by_in, k);
}

static void
nat_map_free(NatCt *ct, NatMap *m)
{
	nat_port_mark(ct, nat_proto_index(m->nm_key.proto), g_ntohs(m->nm_ext_port), FALSE);
	g_hash_table_remove(ct->ct_maps, &m->nm_key);
	ct->ct_mappings--;
	g_free(m);
}

static void
nat_ct_remove(NatCt *ct, NatFlow *f)
{
	nat_heap_remove(ct, f);
	g_hash_table_remove(ct->ct_by_out, &f->nf_out);
	g_hash_table_remove(ct->ct_by_in, &f->nf_in);
	if (f->nf_map != NULL && --f->nf_map->nm_refs == 0)
		nat_map_free(ct, f->nf_map);
	ct->ct_entries--;
	g_free(f);
}

/* A new flow in state NONE, expiring like a SYN_SENT one unless
 * nat_ct_track() moves it on (so a packet dropped after the flow was made
 * leaves nothing behind for ever). */
static NatFlow *
nat_ct_insert(NatCt *ct, const NatOutKey *ok, const NatInKey *ik, NatMap *m, uint8_t flags,
	      gint64 now)
{
	NatFlow *f = g_new0(NatFlow, 1);
	f->nf_out = *ok;
	f->nf_in = *ik;
	f->nf_map = m;
	f->nf_flags = flags;
	f->nf_expire = f->nf_heap_key = now + nat_ct_timeout(ct, NAT_ST_NONE);
	g_hash_table_insert(ct->ct_by_out, &f->nf_out, f);
	g_hash_table_insert(ct->ct_by_in, &f->nf_in, f);
	g_ptr_array_add(ct->ct_heap, f);
	nat_heap_up(ct, ct->ct_heap->len - 1);
	if (m != NULL)
		m->nm_refs++;
	ct->ct_entries++;
	ct->ct_new_flows++;
	return f;
}

static gboolean
nat_ct_room(NatCt *ct, guint *reason)
{
	if (ct->ct_entries < ct->ct_max_entries)
		return TRUE;
	ct->ct_table_full++;
	*reason = NAT_DROP_TABLE_FULL;
	return FALSE;
}

NatFlow *
nat_ct_new_out(NatCt *ct, const NatOutKey *k, gint64 now, guint *reason)
{
	if (!nat_ct_room(ct, reason))
		return NULL;
	NatMapKey mk = { .in_addr = k->in_addr, .in_port = k->in_port, .proto = k->proto };
	NatMap *m = g_hash_table_lookup(ct->ct_maps, &mk);
	if (m == NULL) {
		guint port = nat_port_alloc(ct, nat_proto_index(k->proto));
		if (port == 0) {
			ct->ct_ports_exhausted++;
			*reason = NAT_DROP_PORTS;
			return NULL;
		}
		m = g_new0(NatMap, 1);
		m->nm_key = mk;
		m->nm_ext_port = g_htons((uint16_t)port);
		g_hash_table_insert(ct->ct_maps, &m->nm_key, m);
		ct->ct_mappings++;
	}
	NatInKey ik = { .peer_addr = k->peer_addr,
			.peer_port = k->peer_port,
			.ext_port = m->nm_ext_port,
			.proto = k->proto };
	if (g_hash_table_contains(ct->ct_by_in, &ik)) {
		/* Only a forwarded flow can hold this in-key (mapped ports are
		 * exclusive): refuse rather than steal it. */
		if (m->nm_refs == 0)
			nat_map_free(ct, m);
		*reason = NAT_DROP_PORTS;
		return NULL;
	}
	return nat_ct_insert(ct, k, &ik, m, 0, now);
}

NatFlow *
nat_ct_new_forward(NatCt *ct, const NatRule *r, uint32_t peer, uint16_t peer_port, gint64 now,
		   guint *reason)
{
	if (!nat_ct_room(ct, reason))
		return NULL;
	NatOutKey ok = { .in_addr = r->nr_in_addr,
			 .peer_addr = peer,
			 .in_port = r->nr_in_port,
			 .peer_port = peer_port,
			 .proto = r->nr_proto };
	NatInKey ik = { .peer_addr = peer,
			.peer_port = peer_port,
			.ext_port = r->nr_ext_port,
			.proto = r->nr_proto };
	if (g_hash_table_contains(ct->ct_by_out, &ok) || g_hash_table_contains(ct->ct_by_in, &ik)) {
		/* The inside server already talks to that peer port through
		 * a mapping of its own: the two cannot share its out-key. */
		*reason = NAT_DROP_PORTS;
		return NULL;
	}
	return nat_ct_insert(ct, &ok, &ik, NULL, NAT_F_FORWARD, now);
}

guint
nat_ct_flush(NatCt *ct)
{
	guint n = ct->ct_heap->len;
	while (ct->ct_heap->len > 0)
		nat_ct_remove(ct, nat_heap_at(ct, ct->ct_heap->len - 1));
	return n;
}

/* ------------------------------------------------------------------ */
/* States and timeouts                                                */
/* ------------------------------------------------------------------ */

gint64
nat_ct_timeout(const NatCt *ct, uint8_t state)
{
	guint64 s;
	switch (state) {
	case NAT_ST_ESTABLISHED: s = ct->ct_to_established; break;
	case NAT_ST_FIN_WAIT: s = ct->ct_to_fin_wait; break;
	case NAT_ST_TIME_WAIT: s = ct->ct_to_time_wait; break;
	case NAT_ST_CLOSE: s = ct->ct_to_close; break;
	case NAT_ST_UDP: s = ct->ct_to_udp; break;
	case NAT_ST_UDP_STREAM: s = ct->ct_to_udp_stream; break;
	case NAT_ST_ICMP: s = ct->ct_to_icmp; break;
	default: s = ct->ct_to_syn_sent; break; /* NONE, SYN_SENT */
	}
	return (gint64)s * G_GINT64_CONSTANT(1000000000);
}

/* The TCP state after a segment with flags fl from the originator (orig)
 * or the responder; see the table in the theory comment. */
static uint8_t
nat_tcp_next(NatFlow *f, gboolean orig, uint8_t fl)
{
	uint8_t st = f->nf_state;
	if (fl & NAT_TH_RST)
		return NAT_ST_CLOSE;
	if ((fl & (NAT_TH_SYN | NAT_TH_ACK)) == NAT_TH_SYN) {
		if (orig && (st == NAT_ST_NONE || st == NAT_ST_CLOSE || st == NAT_ST_TIME_WAIT)) {
			f->nf_flags &= (uint8_t) ~(NAT_F_FIN_ORIG | NAT_F_FIN_REPLY);
			return NAT_ST_SYN_SENT;
		}
		return st;
	}
	if ((fl & (NAT_TH_SYN | NAT_TH_ACK)) == (NAT_TH_SYN | NAT_TH_ACK))
		return !orig && st == NAT_ST_SYN_SENT ? NAT_ST_ESTABLISHED : st;
	if ((fl & NAT_TH_FIN) && st != NAT_ST_CLOSE && st != NAT_ST_NONE) {
		f->nf_flags |= orig ? NAT_F_FIN_ORIG : NAT_F_FIN_REPLY;
		if ((f->nf_flags & (NAT_F_FIN_ORIG | NAT_F_FIN_REPLY)) ==
		    (NAT_F_FIN_ORIG | NAT_F_FIN_REPLY))
			return NAT_ST_TIME_WAIT;
		if (st == NAT_ST_SYN_SENT || st == NAT_ST_ESTABLISHED)
			return NAT_ST_FIN_WAIT;
	}
	return st;
}

static void
nat_ct_set_expire(NatCt *ct, NatFlow *f, gint64 t)
{
	f->nf_expire = t;
	if (t < f->nf_heap_key) {
		f->nf_heap_key = t;
		nat_heap_up(ct, f->nf_heap_idx);
	}
}

void
nat_ct_track(NatCt *ct, NatFlow *f, gboolean out, uint8_t tcp_flags, gint64 now)
{
	gboolean orig = out != ((f->nf_flags & NAT_F_FORWARD) != 0);
	if (!orig)
		f->nf_flags |= NAT_F_REPLIED;
	if (out)
		f->nf_pkts_out++;
	else
		f->nf_pkts_in++;
	switch (f->nf_out.proto) {
	case NAT_PROTO_TCP: f->nf_state = nat_tcp_next(f, orig, tcp_flags); break;
	case NAT_PROTO_UDP:
		f->nf_state = (f->nf_flags & NAT_F_REPLIED) ? NAT_ST_UDP_STREAM : NAT_ST_UDP;
		break;
	default: f->nf_state = NAT_ST_ICMP; break;
	}
	nat_ct_set_expire(ct, f, now + nat_ct_timeout(ct, f->nf_state));
}

gint64
nat_ct_next_deadline(NatCt *ct)
{
	return ct->ct_heap->len > 0 ? nat_heap_at(ct, 0)->nf_heap_key : -1;
}

static void nat_frag_purge(NatCt *ct, gint64 now);

guint
nat_ct_expire(NatCt *ct, gint64 now)
{
	guint n = 0;
	while (ct->ct_heap->len > 0) {
		NatFlow *f = nat_heap_at(ct, 0);
		if (f->nf_heap_key > now)
			break;
		if (f->nf_expire <= now) {
			nat_ct_remove(ct, f);
			ct->ct_expired++;
			n++;
		} else {
			f->nf_heap_key = f->nf_expire;
			nat_heap_down(ct, 0);
		}
	}
	nat_frag_purge(ct, now);
	return n;
}

/* ------------------------------------------------------------------ */
/* Forwarding rules                                                   */
/* ------------------------------------------------------------------ */

static gint
nat_rule_cmp(const NatRule *a, uint8_t proto, uint16_t port)
{
	if (a->nr_proto != proto)
		return a->nr_proto < proto ? -1 : 1;
	uint16_t x = g_ntohs(a->nr_ext_port), y = g_ntohs(port);
	return x < y ? -1 : x > y;
}

/* The index of the rule (proto, port), or where it would go (*found FALSE). */
static guint
nat_rule_index(NatCt *ct, uint8_t proto, uint16_t port, gboolean *found)
{
	guint i;
	*found = FALSE;
	for (i = 0; i < ct->ct_rules->len; i++) {
		gint c = nat_rule_cmp(&g_array_index(ct->ct_rules, NatRule, i), proto, port);
		if (c >= 0) {
			*found = c == 0;
			break;
		}
	}
	return i;
}

const NatRule *
nat_ct_rule_find(NatCt *ct, uint8_t proto, uint16_t ext_port)
{
	gboolean found;
	guint i = nat_rule_index(ct, proto, ext_port, &found);
	return found ? &g_array_index(ct->ct_rules, NatRule, i) : NULL;
}

int
nat_ct_rule_add(NatCt *ct, const NatRule *r)
{
	if ((r->nr_proto != NAT_PROTO_TCP && r->nr_proto != NAT_PROTO_UDP) || r->nr_ext_port == 0 ||
	    r->nr_in_port == 0 || r->nr_in_addr == 0 ||
	    (g_ntohl(r->nr_in_addr) >> 28) >= 14 /* multicast, class E, broadcast */)
		return EINVAL;
	gboolean found;
	guint i = nat_rule_index(ct, r->nr_proto, r->nr_ext_port, &found);
	if (found)
		return EEXIST;
	if (ct->ct_rules->len >= NAT_FORWARD_MAX)
		return ENOSPC;
	guint pi = nat_proto_index(r->nr_proto);
	if (nat_port_used(ct, pi, g_ntohs(r->nr_ext_port)))
		return EADDRINUSE; /* a mapping holds it */
	nat_port_mark(ct, pi, g_ntohs(r->nr_ext_port), TRUE);
	g_array_insert_val(ct->ct_rules, i, *r);
	return 0;
}

int
nat_ct_rule_del(NatCt *ct, uint8_t proto, uint16_t ext_port, guint *ended)
{
	gboolean found;
	guint i = nat_rule_index(ct, proto, ext_port, &found);
	*ended = 0;
	if (!found)
		return ENOENT;
	g_array_remove_index(ct->ct_rules, i);
	nat_port_mark(ct, nat_proto_index(proto), g_ntohs(ext_port), FALSE);
	GPtrArray *victims = g_ptr_array_new();
	for (guint j = 0; j < ct->ct_heap->len; j++) {
		NatFlow *f = nat_heap_at(ct, j);
		if ((f->nf_flags & NAT_F_FORWARD) && f->nf_in.proto == proto &&
		    f->nf_in.ext_port == ext_port)
			g_ptr_array_add(victims, f);
	}
	for (guint j = 0; j < victims->len; j++)
		nat_ct_remove(ct, victims->pdata[j]);
	*ended = victims->len;
	g_ptr_array_free(victims, TRUE);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Fragments                                                          */
/* ------------------------------------------------------------------ */

static void
nat_frag_free(NatCt *ct, NatFrag *fr)
{
	g_queue_unlink(&ct->ct_frag_fifo, &fr->fr_link);
	g_hash_table_remove(ct->ct_frag, &fr->fr_key);
	ct->ct_frags--;
	g_free(fr);
}

/* Entries expire in the order they were made or refreshed (one timeout
 * for all), so the oldest are at the head. */
static void
nat_frag_purge(NatCt *ct, gint64 now)
{
	GList *l;
	while ((l = ct->ct_frag_fifo.head) != NULL && ((NatFrag *)l->data)->fr_expire <= now)
		nat_frag_free(ct, l->data);
}

void
nat_ct_frag_flush(NatCt *ct)
{
	while (ct->ct_frag_fifo.head != NULL)
		nat_frag_free(ct, ct->ct_frag_fifo.head->data);
}

void
nat_ct_frag_note(NatCt *ct, const NatFragKey *k, uint32_t addr, gint64 now)
{
	nat_frag_purge(ct, now);
	NatFrag *fr = g_hash_table_lookup(ct->ct_frag, k);
	if (fr != NULL) {
		g_queue_unlink(&ct->ct_frag_fifo, &fr->fr_link);
	} else {
		if (ct->ct_max_frags == 0)
			return;
		while (ct->ct_frags >= ct->ct_max_frags)
			nat_frag_free(ct, ct->ct_frag_fifo.head->data);
		fr = g_new0(NatFrag, 1);
		fr->fr_key = *k;
		fr->fr_link.data = fr;
		g_hash_table_insert(ct->ct_frag, &fr->fr_key, fr);
		ct->ct_frags++;
	}
	fr->fr_addr = addr;
	fr->fr_expire = now + (gint64)ct->ct_frag_timeout_ms * G_GINT64_CONSTANT(1000000);
	g_queue_push_tail_link(&ct->ct_frag_fifo, &fr->fr_link);
}

gboolean
nat_ct_frag_find(NatCt *ct, const NatFragKey *k, gint64 now, uint32_t *addr)
{
	NatFrag *fr = g_hash_table_lookup(ct->ct_frag, k);
	if (fr == NULL)
		return FALSE;
	if (fr->fr_expire <= now) {
		nat_frag_free(ct, fr);
		return FALSE;
	}
	*addr = fr->fr_addr;
	return TRUE;
}
