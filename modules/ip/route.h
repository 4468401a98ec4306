/* SPDX-License-Identifier: MIT */
/*
 * route.h -- the IPv4 routing table of the ip driver: routes keyed by prefix,
 * longest-prefix-match lookup, exact lookup for the route ioctls, a walk in
 * prefix order for listings, and a generation counter for callers that cache
 * lookups.  The data structure and its update algorithm are described in
 * route.c.
 *
 * Sans-I/O: the table knows nothing about streams, interfaces or messages;
 * it stores IpRoute values and hands out pointers to its copies.  Every
 * address and prefix here is in HOST byte order (ip converts at the wire).
 *
 * A prefix is dst/plen; several routes may share a prefix (different
 * gateways or interfaces) and the one with the lowest metric wins, the oldest
 * among equal metrics.  A route is identified by (dst, plen, gateway,
 * ifindex): adding a second route with the same four is EEXIST.
 *
 * Pointers returned by ip_rt_lookup() and ip_rt_find(), and those passed to
 * an ip_rt_foreach() callback, point into the table: they stay valid until
 * the next successful add or del (or free) and must not be written through.
 *
 * Errors are errno values returned directly (0 on success), as the ioctls
 * built on them report them.  The table is not thread-safe; ip serialises
 * access as it does for its other per-instance state.
 */
#ifndef USTREAMS_IP_ROUTE_H
#define USTREAMS_IP_ROUTE_H

#include <glib.h>
#include <stdint.h>

typedef enum {
	IP_RT_CONNECTED = 1, /* the subnet of an interface address (on-link) */
	IP_RT_STATIC = 2,    /* added by an administrator or a routing daemon */
	IP_RT_LOCAL = 3,     /* an address of this host: deliver up */
	IP_RT_BROADCAST = 4, /* a broadcast address of an attached subnet */
} IpRouteType;

typedef struct {
	uint32_t dst;     /* prefix, HOST byte order, host bits must be zero */
	uint8_t plen;     /* 0..32 */
	uint8_t type;     /* IpRouteType */
	uint16_t flags;   /* free for the caller (stored, returned) */
	uint32_t gateway; /* host order; 0 = directly connected (on-link) */
	uint32_t ifindex; /* outgoing interface, >= 1 */
	uint32_t metric;  /* lower wins among routes with the same prefix */
	uint32_t mtu;     /* 0 = the interface's */
	uint32_t src;     /* preferred source address, host order; 0 = none */
} IpRoute;

typedef struct _IpRouteTable IpRouteTable;

/* A new empty table holding at most max_routes routes (0 = unbounded).  An
 * empty or small table costs well under a kilobyte. */
IpRouteTable *ip_rt_new(guint max_routes);
void ip_rt_free(IpRouteTable *t);

/* 0 on success; EINVAL (plen > 32, host bits set, ifindex 0, bad type);
 * EEXIST (a route with the same dst, plen, gateway and ifindex exists);
 * ENOSPC (max_routes reached).  The table copies *r. */
int ip_rt_add(IpRouteTable *t, const IpRoute *r);

/* Removes the route with this dst/plen whose gateway and ifindex match
 * (gateway 0 / ifindex 0 in the call = any: removes the best-metric match).
 * 0 or ENOENT; EINVAL (plen > 32, host bits set). */
int ip_rt_del(IpRouteTable *t, uint32_t dst, uint8_t plen, uint32_t gateway, uint32_t ifindex);

/* Longest prefix containing addr; among routes of that prefix, the lowest
 * metric (ties: the oldest added).  NULL when nothing matches (no default
 * route).  The pointer stays valid until the next add/del/free. */
const IpRoute *ip_rt_lookup(const IpRouteTable *t, uint32_t addr);

/* Exact route lookup (for ioctls): the best-metric route with exactly
 * dst/plen; NULL if none (also for an invalid dst/plen). */
const IpRoute *ip_rt_find(const IpRouteTable *t, uint32_t dst, uint8_t plen);

/* Removes every route through ifindex; returns how many. */
guint ip_rt_del_ifindex(IpRouteTable *t, uint32_t ifindex);

/* Number of routes (not prefixes). */
guint ip_rt_count(const IpRouteTable *t);

/* Calls fn for every route in ascending (dst, plen, metric) order, routes of
 * equal metric oldest first; the table must not change during the walk. */
void ip_rt_foreach(const IpRouteTable *t, void (*fn)(const IpRoute *r, gpointer data),
		   gpointer data);

/* Increases on every successful add/del (once per route ip_rt_del_ifindex
 * removes): callers cache lookups and compare generations. */
guint64 ip_rt_generation(const IpRouteTable *t);

/* Approximate heap bytes the table holds (its structures and route copies;
 * allocator overhead not counted).  For benchmarks and statistics. */
gsize ip_rt_memory(const IpRouteTable *t);

#endif /* USTREAMS_IP_ROUTE_H */
