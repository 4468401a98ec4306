/* SPDX-License-Identifier: MIT */
/*
 * nat-impl.h -- what the files of the nat module share: the connection
 * tracker (nat-ct.c, sans I/O: tables, port pool, timeouts, TCP states,
 * forwarding rules, fragment memory), the packet view and the rewriting
 * (nat-xlate.c), and the per-stream state (nat.c).  Theory in nat.c.
 */
#ifndef USTREAMS_NAT_IMPL_H
#define USTREAMS_NAT_IMPL_H

#include "nat.h"

#include <ustreams/stream.h>

#include <glib.h>
#include <stdint.h>
#include <string.h>

#define NAT_PROTO_ICMP 1
#define NAT_PROTO_TCP 6
#define NAT_PROTO_UDP 17
#define NAT_NPROTO 3 /* port spaces: TCP, UDP, ICMP identifiers */

/* ------------------------------------------------------------------ */
/* Connection tracking (nat-ct.c)                                     */
/* ------------------------------------------------------------------ */

/* Every address and port below is in network order, as read from packets
 * (ICMP echo: the identifier is the "port", the peer's port is 0). */

/* A flow seen from the inside: the key of packets going out. */
typedef struct {
	uint32_t in_addr, peer_addr;
	uint16_t in_port, peer_port;
	uint8_t proto;
} NatOutKey;

/* The same flow seen from the outside: the key of packets coming in (the
 * outside address is implicit: there is one). */
typedef struct {
	uint32_t peer_addr;
	uint16_t peer_port, ext_port;
	uint8_t proto;
} NatInKey;

/* An endpoint-independent mapping (RFC 4787 REQ-1): one inside endpoint,
 * one external port, whatever the peers. */
typedef struct {
	uint32_t in_addr;
	uint16_t in_port;
	uint8_t proto;
} NatMapKey;

typedef struct {
	NatMapKey nm_key;     /* the inside endpoint */
	uint16_t nm_ext_port; /* its external port, network order */
	guint nm_refs;        /* flows using it */
} NatMap;

#define NAT_F_FORWARD 0x01   /* NAT_EF_FORWARD: let in by a rule */
#define NAT_F_REPLIED 0x02   /* NAT_EF_REPLIED */
#define NAT_F_FIN_ORIG 0x04  /* TCP: the originator sent a FIN */
#define NAT_F_FIN_REPLY 0x08 /* TCP: the responder sent a FIN */

typedef struct {
	NatOutKey nf_out;   /* hash key of ct_by_out */
	NatInKey nf_in;     /* hash key of ct_by_in */
	NatMap *nf_map;     /* the mapping (NULL for forwarded flows) */
	uint8_t nf_state;   /* NAT_ST_* */
	uint8_t nf_flags;   /* NAT_F_* */
	gint64 nf_expire;   /* ns on the world clock */
	gint64 nf_heap_key; /* <= nf_expire: the heap's idea of it (lazy) */
	guint nf_heap_idx;  /* position in ct_heap */
	guint64 nf_pkts_out, nf_pkts_in;
} NatFlow;

/* A forwarding rule (ports network order, as in NatFlow). */
typedef struct {
	uint8_t nr_proto;
	uint16_t nr_ext_port;
	uint32_t nr_in_addr;
	uint16_t nr_in_port;
} NatRule;

/* What a later fragment of a translated datagram must get: fragments are
 * known by (src, dst, id, proto) as they arrive, and by direction. */
typedef struct {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	uint8_t out; /* TRUE: going out (src rewritten), else dst */
} NatFragKey;

typedef struct {
	NatFragKey fr_key;
	uint32_t fr_addr; /* the address to write */
	gint64 fr_expire; /* ns */
	GList fr_link;    /* in ct_frag_fifo, oldest first */
} NatFrag;

typedef struct {
	/* tunables (parameters; offsets into the stream state) */
	guint64 ct_port_min, ct_port_max; /* external ports and identifiers */
	guint64 ct_max_entries;           /* flows at most */
	guint64 ct_to_syn_sent, ct_to_established, ct_to_fin_wait, ct_to_time_wait, ct_to_close,
		ct_to_udp, ct_to_udp_stream, ct_to_icmp; /* seconds */
	guint64 ct_frag_timeout_ms;                      /* how long a fragment entry lives */
	guint64 ct_max_frags;                            /* fragment entries at most */
	/* counters (statistics) */
	guint64 ct_entries, ct_mappings, ct_frags;
	guint64 ct_new_flows, ct_expired, ct_table_full, ct_ports_exhausted;
	/* tables */
	GHashTable *ct_by_out;                  /* NatOutKey* -> NatFlow* (owns the flows) */
	GHashTable *ct_by_in;                   /* NatInKey* -> NatFlow* */
	GHashTable *ct_maps;                    /* NatMapKey* -> NatMap* (owns the maps) */
	GPtrArray *ct_heap;                     /* NatFlow*, a binary min-heap on nf_heap_key */
	GArray *ct_rules;                       /* NatRule, ordered by protocol and port */
	GHashTable *ct_frag;                    /* NatFragKey* -> NatFrag* (owns them) */
	GQueue ct_frag_fifo;                    /* the same, oldest first */
	uint8_t ct_used[NAT_NPROTO][65536 / 8]; /* ports held (mappings, rules) */
	uint16_t ct_cursor[NAT_NPROTO];         /* next port to try, host order */
} NatCt;

/* Failure of a create call: a NAT_DROP_* reason. */
void nat_ct_init(NatCt *ct);
void nat_ct_destroy(NatCt *ct);
guint nat_proto_index(uint8_t proto);

NatFlow *nat_ct_find_out(NatCt *ct, const NatOutKey *k);
NatFlow *nat_ct_find_in(NatCt *ct, const NatInKey *k);
/* A new flow for an inside endpoint (mapping reused or made), or NULL with
 * *reason (NAT_DROP_TABLE_FULL, NAT_DROP_PORTS). */
NatFlow *nat_ct_new_out(NatCt *ct, const NatOutKey *k, gint64 now, guint *reason);
/* A new flow let in by rule r from peer:peer_port, or NULL with *reason. */
NatFlow *nat_ct_new_forward(NatCt *ct, const NatRule *r, uint32_t peer, uint16_t peer_port,
			    gint64 now, guint *reason);
/* Moves f along its protocol's state machine for a packet going out (out)
 * or in, with TCP flags tcp_flags, and sets its expiry from now. */
void nat_ct_track(NatCt *ct, NatFlow *f, gboolean out, uint8_t tcp_flags, gint64 now);
/* The earliest time something may expire, or -1 when the table is empty. */
gint64 nat_ct_next_deadline(NatCt *ct);
/* Removes the flows whose time has come; returns how many. */
guint nat_ct_expire(NatCt *ct, gint64 now);
/* Removes every flow; returns how many. */
guint nat_ct_flush(NatCt *ct);
/* Removes every fragment entry. */
void nat_ct_frag_flush(NatCt *ct);
/* Timeouts (ns) */
gint64 nat_ct_timeout(const NatCt *ct, uint8_t state);

/* Forwarding rules (ioctls, the "forwards" parameter). */
const NatRule *nat_ct_rule_find(NatCt *ct, uint8_t proto, uint16_t ext_port);
/* 0, or EEXIST, EADDRINUSE, ENOSPC, EINVAL. */
int nat_ct_rule_add(NatCt *ct, const NatRule *r);
/* 0 or ENOENT; *ended = the flows that went with it. */
int nat_ct_rule_del(NatCt *ct, uint8_t proto, uint16_t ext_port, guint *ended);
/* Whether ext_port of proto is held by a dynamic mapping. */
gboolean nat_ct_port_mapped(NatCt *ct, uint8_t proto, uint16_t ext_port);

/* Fragments: remember what later fragments of a datagram get; find it. */
void nat_ct_frag_note(NatCt *ct, const NatFragKey *k, uint32_t addr, gint64 now);
gboolean nat_ct_frag_find(NatCt *ct, const NatFragKey *k, gint64 now, uint32_t *addr);

/* ------------------------------------------------------------------ */
/* The per-stream state (nat.c) and the rewriting (nat-xlate.c)        */
/* ------------------------------------------------------------------ */

typedef struct {
	uint32_t net, mask; /* network order */
} NatNet;

typedef struct {
	queue_t *ns_rq;            /* our read queue */
	NatCt ns_ct;               /* the tracker, its tunables and counters */
	char *ns_address;          /* parameter: the outside address, "" learned */
	char *ns_inside;           /* parameter: inside prefixes, "" any */
	char *ns_forwards;         /* parameter: the rules, canonical text */
	uint32_t ns_addr_set;      /* from "address" (network order), 0 none */
	uint32_t ns_addr_learned;  /* from ARP_ADD_LOCAL, 0 none */
	GArray *ns_inside_nets;    /* NatNet; empty: every source but ours */
	timeout_id_t ns_timer;     /* the one expiry timer, 0 when idle */
	gint64 ns_timer_at;        /* when it fires (ns) */
	guint64 ns_translated_out; /* statistics */
	guint64 ns_translated_in;
	guint64 ns_icmp_errors;
	guint64 ns_untranslatable;
} NatState;

/* The outside address in use, 0 if none is known. */
static inline uint32_t
nat_ext_addr(const NatState *ns)
{
	return ns->ns_addr_set != 0 ? ns->ns_addr_set : ns->ns_addr_learned;
}

/* One IPv4 packet inside a message: DLPI (dpp = &mp->b_cont) or fast path
 * (dpp = &mp, l2 bytes of link header first). */
typedef struct {
	mblk_t *mp;        /* the whole message */
	mblk_t **dpp;      /* the link to the first data block */
	size_t l2;         /* link-header bytes before the IP header */
	size_t len;        /* IP total length */
	size_t hl;         /* IP header length */
	uint8_t proto;     /* IP protocol */
	uint16_t frag;     /* flags and fragment offset, host order */
	uint16_t id;       /* identification, network order */
	uint32_t src, dst; /* network order */
	uint8_t *ip;       /* the IP header once nat_pkt_writable() made it so */
} NatPkt;

#define NAT_PASS NAT_DROP_N /* a verdict: send the packet on */

/* TRUE when the packet of mp (in b_cont when dlpi, else mp itself after l2
 * bytes of link header) has a sane IPv4 header and total length; fills p
 * (mp is not consumed: p->mp is it). */
gboolean nat_pkt_parse(NatPkt *p, mblk_t *mp, gboolean dlpi, size_t l2);
/* Verdicts: NAT_PASS (the message, maybe replaced, is in p->mp) or a
 * NAT_DROP_* reason (the caller drops p->mp). */
guint nat_xlate_out(NatState *ns, NatPkt *p, gint64 now);
guint nat_xlate_in(NatState *ns, NatPkt *p, gint64 now);
/* The packet of an ARP_UNREACH_IND (went out translated): put its inside
 * source back so that ip tells the inside host.  Best effort. */
void nat_xlate_unsent(NatState *ns, NatPkt *p);
/* Whether src is an inside source (not ours, in "inside" if given). */
gboolean nat_is_inside(const NatState *ns, uint32_t src);

#endif /* USTREAMS_NAT_IMPL_H */
