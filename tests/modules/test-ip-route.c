/* SPDX-License-Identifier: MIT */
/*
 * test-ip-route.c -- the ip routing table (modules/ip/route.c).
 *
 *  1. Contract tests: lookups through nested prefixes, the default route, the
 *     extremes /0 and /32, metrics and ties, every error code, removal by
 *     interface, walk order, exact lookup and the generation counter, each
 *     for a small table (the array scan) and a large one (the trie).
 *  2. Randomized comparison against a reference that scans every route: for
 *     several seeds, tables of a few thousand routes with clustered prefixes
 *     of every length (heavy on /24 and /32, shared prefixes with several
 *     routes and equal metrics), adds and deletes interleaved with batches
 *     of lookups at addresses inside prefixes and at random, then the whole
 *     table deleted again.  Return codes, looked-up routes, the walk and
 *     the count must agree at every step.
 *
 * Sizes are chosen so the program takes a few seconds under Valgrind; the
 * 100k-prefix figures are bench/bench-route.c's job.
 */
#include "route.h"

#include <errno.h>
#include <string.h>

static uint32_t
ip4(guint a, guint b, guint c, guint d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
}

static IpRoute
route(uint32_t dst, guint plen, uint32_t gateway, uint32_t ifindex, uint32_t metric)
{
	return (IpRoute){ .dst = dst,
			  .plen = (uint8_t)plen,
			  .type = IP_RT_STATIC,
			  .gateway = gateway,
			  .ifindex = ifindex,
			  .metric = metric };
}

static void
add_ok(IpRouteTable *t, uint32_t dst, guint plen, uint32_t gateway, uint32_t ifindex,
       uint32_t metric)
{
	IpRoute r = route(dst, plen, gateway, ifindex, metric);

	g_assert_cmpint(ip_rt_add(t, &r), ==, 0);
}

/* The ifindex of the route for addr, 0 when none matches. */
static uint32_t
via(const IpRouteTable *t, uint32_t addr)
{
	const IpRoute *r = ip_rt_lookup(t, addr);

	return r ? r->ifindex : 0;
}

/* Fills t with /32s far from 10/8 until it is large enough to use a trie. */
static void
make_large(IpRouteTable *t)
{
	for (guint i = 0; i < 200; i++)
		add_ok(t, ip4(100, 64 + i % 64, i, 7), 32, 0, 99, 0);
}

/* Runs fn on a small table and on one large enough for the trie. */
static void
both_sizes(void (*fn)(IpRouteTable *t))
{
	for (guint large = 0; large < 2; large++) {
		IpRouteTable *t = ip_rt_new(0);

		if (large)
			make_large(t);
		fn(t);
		ip_rt_free(t);
	}
}

/* ------------------------------------------------------------------ */
/* Contract                                                           */
/* ------------------------------------------------------------------ */

static void
test_empty(void)
{
	IpRouteTable *t = ip_rt_new(0);

	g_assert_null(ip_rt_lookup(t, 0));
	g_assert_null(ip_rt_lookup(t, ip4(10, 1, 2, 3)));
	g_assert_null(ip_rt_find(t, 0, 0));
	g_assert_cmpuint(ip_rt_count(t), ==, 0);
	g_assert_cmpuint(ip_rt_generation(t), ==, 0);
	g_assert_cmpint(ip_rt_del(t, 0, 0, 0, 0), ==, ENOENT);
	g_assert_cmpuint(ip_rt_del_ifindex(t, 1), ==, 0);
	/* A stack creates one per instance: it must stay small. */
	g_assert_cmpuint(ip_rt_memory(t), <, 1024);
	ip_rt_free(t);
	ip_rt_free(NULL);
}

static void
nested_body(IpRouteTable *t)
{
	add_ok(t, ip4(10, 0, 0, 0), 8, 0, 1, 0);
	add_ok(t, ip4(10, 1, 0, 0), 16, 0, 2, 0);
	add_ok(t, ip4(10, 1, 2, 0), 24, 0, 3, 0);
	add_ok(t, ip4(10, 1, 2, 128), 25, 0, 4, 0);
	add_ok(t, ip4(10, 1, 2, 200), 32, 0, 5, 0);

	g_assert_cmpuint(via(t, ip4(10, 9, 9, 9)), ==, 1);
	g_assert_cmpuint(via(t, ip4(10, 1, 9, 9)), ==, 2);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 9)), ==, 3);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 129)), ==, 4);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 200)), ==, 5);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 201)), ==, 4);
	g_assert_cmpuint(via(t, ip4(11, 0, 0, 0)), ==, 0);
	g_assert_cmpuint(via(t, ip4(9, 255, 255, 255)), ==, 0);

	/* Removing a middle prefix exposes the next shorter one. */
	g_assert_cmpint(ip_rt_del(t, ip4(10, 1, 2, 0), 24, 0, 0), ==, 0);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 9)), ==, 2);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 129)), ==, 4);
	g_assert_cmpint(ip_rt_del(t, ip4(10, 1, 0, 0), 16, 0, 0), ==, 0);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 9)), ==, 1);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 200)), ==, 5);
	g_assert_cmpint(ip_rt_del(t, ip4(10, 1, 2, 128), 25, 0, 0), ==, 0);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 129)), ==, 1);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 200)), ==, 5);

	/* A shorter prefix added later does not hide a longer one. */
	add_ok(t, ip4(10, 0, 0, 0), 7, 0, 6, 0);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 200)), ==, 5);
	g_assert_cmpuint(via(t, ip4(11, 1, 2, 3)), ==, 6);
	g_assert_cmpuint(via(t, ip4(10, 1, 2, 3)), ==, 1);
}

static void
test_nested(void)
{
	both_sizes(nested_body);
}

static void
default_body(IpRouteTable *t)
{
	const IpRoute *r;

	g_assert_cmpuint(via(t, ip4(8, 8, 8, 8)), ==, 0);
	add_ok(t, 0, 0, ip4(192, 168, 1, 1), 1, 0);
	add_ok(t, ip4(192, 168, 1, 0), 24, 0, 2, 0);
	r = ip_rt_lookup(t, ip4(8, 8, 8, 8));
	g_assert_nonnull(r);
	g_assert_cmpuint(r->gateway, ==, ip4(192, 168, 1, 1));
	g_assert_cmpuint(via(t, ip4(192, 168, 1, 77)), ==, 2);
	g_assert_cmpuint(via(t, 0), ==, 1);
	g_assert_cmpuint(via(t, 0xffffffff), ==, 1);

	g_assert_cmpint(ip_rt_del(t, 0, 0, 0, 0), ==, 0);
	g_assert_cmpuint(via(t, ip4(8, 8, 8, 8)), ==, 0);
	g_assert_cmpuint(via(t, ip4(192, 168, 1, 77)), ==, 2);
}

static void
test_default(void)
{
	both_sizes(default_body);
}

static void
extremes_body(IpRouteTable *t)
{
	add_ok(t, 0xffffffff, 32, 0, 1, 0);
	add_ok(t, 0, 32, 0, 2, 0);
	add_ok(t, ip4(128, 0, 0, 0), 1, 0, 3, 0);
	add_ok(t, ip4(255, 255, 255, 254), 31, 0, 4, 0);
	g_assert_cmpuint(via(t, 0xffffffff), ==, 1);
	g_assert_cmpuint(via(t, 0xfffffffe), ==, 4);
	g_assert_cmpuint(via(t, 0xfffffffd), ==, 3);
	g_assert_cmpuint(via(t, 0), ==, 2);
	g_assert_cmpuint(via(t, 1), ==, 0);
	add_ok(t, 0, 0, 0, 5, 0);
	g_assert_cmpuint(via(t, 1), ==, 5);
	g_assert_cmpuint(via(t, 0), ==, 2);
	g_assert_cmpuint(via(t, ip4(127, 255, 255, 255)), ==, 5);
	g_assert_cmpuint(via(t, ip4(128, 0, 0, 0)), ==, 3);
	g_assert_cmpint(ip_rt_del(t, 0xffffffff, 32, 0, 1), ==, 0);
	g_assert_cmpuint(via(t, 0xffffffff), ==, 4);
	g_assert_cmpint(ip_rt_del(t, 0, 32, 0, 0), ==, 0);
	g_assert_cmpuint(via(t, 0), ==, 5);
}

static void
test_extremes(void)
{
	both_sizes(extremes_body);
}

static void
metric_body(IpRouteTable *t)
{
	uint32_t net = ip4(172, 16, 0, 0);
	uint32_t gw1 = ip4(10, 0, 0, 1), gw2 = ip4(10, 0, 0, 2), gw3 = ip4(10, 0, 0, 3);
	guint base = ip_rt_count(t);
	const IpRoute *r;

	add_ok(t, net, 12, gw1, 1, 20);
	add_ok(t, net, 12, gw2, 1, 10);
	add_ok(t, net, 12, gw3, 2, 10); /* ties with gw2, added later */
	r = ip_rt_lookup(t, ip4(172, 20, 1, 1));
	g_assert_cmpuint(r->gateway, ==, gw2);
	g_assert_true(ip_rt_find(t, net, 12) == r);

	/* Without gateway and interface, del takes the best route. */
	g_assert_cmpint(ip_rt_del(t, net, 12, 0, 0), ==, 0);
	g_assert_cmpuint(ip_rt_lookup(t, ip4(172, 20, 1, 1))->gateway, ==, gw3);
	/* With an interface only, the best route through it. */
	add_ok(t, net, 12, gw2, 2, 5);
	g_assert_cmpuint(ip_rt_lookup(t, ip4(172, 20, 1, 1))->gateway, ==, gw2);
	g_assert_cmpint(ip_rt_del(t, net, 12, 0, 1), ==, 0);
	g_assert_cmpuint(ip_rt_lookup(t, ip4(172, 20, 1, 1))->gateway, ==, gw2);
	g_assert_cmpint(ip_rt_del(t, net, 12, 0, 1), ==, ENOENT);
	/* With a gateway, exactly that one even if it is not the best. */
	g_assert_cmpint(ip_rt_del(t, net, 12, gw3, 0), ==, 0);
	g_assert_cmpuint(ip_rt_lookup(t, ip4(172, 20, 1, 1))->gateway, ==, gw2);
	g_assert_cmpuint(ip_rt_count(t), ==, base + 1);
	g_assert_cmpint(ip_rt_del(t, net, 12, gw2, 2), ==, 0);
	g_assert_null(ip_rt_find(t, net, 12));
	g_assert_cmpuint(via(t, ip4(172, 20, 1, 1)), ==, 0);
}

static void
test_metric(void)
{
	both_sizes(metric_body);
}

/* Equal metrics: the oldest wins, also after the winner is removed and
 * re-added (it becomes the youngest). */
static void
test_ties(void)
{
	IpRouteTable *t = ip_rt_new(0);
	uint32_t net = ip4(192, 0, 2, 0);

	for (guint i = 1; i <= 4; i++)
		add_ok(t, net, 24, ip4(10, 0, 0, i), i, 7);
	g_assert_cmpuint(via(t, net + 5), ==, 1);
	g_assert_cmpint(ip_rt_del(t, net, 24, ip4(10, 0, 0, 1), 1), ==, 0);
	g_assert_cmpuint(via(t, net + 5), ==, 2);
	add_ok(t, net, 24, ip4(10, 0, 0, 1), 1, 7);
	g_assert_cmpuint(via(t, net + 5), ==, 2);
	add_ok(t, net, 24, ip4(10, 0, 0, 9), 9, 6);
	g_assert_cmpuint(via(t, net + 5), ==, 9);
	ip_rt_free(t);
}

static void
test_errors(void)
{
	IpRouteTable *t = ip_rt_new(3);
	IpRoute r = route(ip4(10, 0, 0, 0), 8, 0, 1, 0);

	r.plen = 33;
	g_assert_cmpint(ip_rt_add(t, &r), ==, EINVAL);
	r = route(ip4(10, 0, 0, 1), 8, 0, 1, 0); /* host bits */
	g_assert_cmpint(ip_rt_add(t, &r), ==, EINVAL);
	r = route(ip4(10, 0, 0, 0), 0, 0, 1, 0); /* a /0 with host bits */
	g_assert_cmpint(ip_rt_add(t, &r), ==, EINVAL);
	r = route(ip4(10, 0, 0, 0), 8, 0, 0, 0); /* no interface */
	g_assert_cmpint(ip_rt_add(t, &r), ==, EINVAL);
	r = route(ip4(10, 0, 0, 0), 8, 0, 1, 0);
	r.type = 0;
	g_assert_cmpint(ip_rt_add(t, &r), ==, EINVAL);
	r.type = IP_RT_BROADCAST + 1;
	g_assert_cmpint(ip_rt_add(t, &r), ==, EINVAL);
	g_assert_cmpuint(ip_rt_count(t), ==, 0);
	g_assert_cmpuint(ip_rt_generation(t), ==, 0);

	r.type = IP_RT_CONNECTED;
	g_assert_cmpint(ip_rt_add(t, &r), ==, 0);
	r.metric = 50; /* same dst, plen, gateway, ifindex: a duplicate */
	g_assert_cmpint(ip_rt_add(t, &r), ==, EEXIST);
	r.gateway = ip4(10, 0, 0, 1);
	g_assert_cmpint(ip_rt_add(t, &r), ==, 0);
	r.gateway = 0;
	r.ifindex = 2;
	g_assert_cmpint(ip_rt_add(t, &r), ==, 0);
	r.ifindex = 3;
	g_assert_cmpint(ip_rt_add(t, &r), ==, ENOSPC);
	r = route(ip4(10, 0, 0, 0), 8, 0, 1, 0); /* still EEXIST when full */
	g_assert_cmpint(ip_rt_add(t, &r), ==, EEXIST);
	g_assert_cmpuint(ip_rt_count(t), ==, 3);

	g_assert_cmpint(ip_rt_del(t, ip4(10, 0, 0, 0), 33, 0, 0), ==, EINVAL);
	g_assert_cmpint(ip_rt_del(t, ip4(10, 0, 0, 1), 8, 0, 0), ==, EINVAL);
	g_assert_cmpint(ip_rt_del(t, ip4(11, 0, 0, 0), 8, 0, 0), ==, ENOENT);
	g_assert_cmpint(ip_rt_del(t, ip4(10, 0, 0, 0), 9, 0, 0), ==, ENOENT);
	g_assert_cmpint(ip_rt_del(t, ip4(10, 0, 0, 0), 8, ip4(10, 0, 0, 2), 0), ==, ENOENT);
	g_assert_cmpint(ip_rt_del(t, ip4(10, 0, 0, 0), 8, 0, 7), ==, ENOENT);
	g_assert_null(ip_rt_find(t, ip4(10, 0, 0, 1), 8));
	g_assert_null(ip_rt_find(t, 0, 40));

	/* Room again after a delete. */
	g_assert_cmpint(ip_rt_del(t, ip4(10, 0, 0, 0), 8, 0, 2), ==, 0);
	r = route(ip4(10, 0, 0, 0), 8, 0, 3, 0);
	g_assert_cmpint(ip_rt_add(t, &r), ==, 0);
	ip_rt_free(t);
}

static void
del_ifindex_body(IpRouteTable *t)
{
	guint base = ip_rt_count(t);
	guint64 gen;

	add_ok(t, 0, 0, ip4(10, 0, 0, 1), 1, 0);
	add_ok(t, ip4(10, 0, 0, 0), 24, 0, 1, 0);
	add_ok(t, ip4(10, 0, 1, 0), 24, 0, 2, 0);
	add_ok(t, ip4(10, 0, 0, 0), 16, ip4(10, 0, 1, 1), 2, 5);
	add_ok(t, ip4(10, 0, 0, 0), 16, ip4(10, 0, 0, 1), 1, 1);
	add_ok(t, ip4(10, 0, 0, 0), 16, 0, 1, 3);
	add_ok(t, ip4(10, 0, 0, 5), 32, 0, 1, 0);
	gen = ip_rt_generation(t);

	g_assert_cmpuint(ip_rt_del_ifindex(t, 1), ==, 5);
	g_assert_cmpuint(ip_rt_generation(t), ==, gen + 5);
	g_assert_cmpuint(ip_rt_count(t), ==, base + 2);
	g_assert_cmpuint(via(t, ip4(10, 0, 0, 5)), ==, 2);
	g_assert_cmpuint(via(t, ip4(10, 0, 1, 5)), ==, 2);
	g_assert_cmpuint(via(t, ip4(8, 8, 8, 8)), ==, 0);
	g_assert_cmpuint(ip_rt_del_ifindex(t, 1), ==, 0);
	g_assert_cmpuint(ip_rt_del_ifindex(t, 2), ==, 2);
	g_assert_cmpuint(ip_rt_count(t), ==, base);
	g_assert_cmpuint(via(t, ip4(10, 0, 0, 5)), ==, 0);
}

static void
test_del_ifindex(void)
{
	both_sizes(del_ifindex_body);
}

static void
collect(const IpRoute *r, gpointer data)
{
	g_array_append_val((GArray *)data, *r);
}

static void
test_foreach_order(void)
{
	static const struct {
		uint32_t dst;
		guint plen;
		uint32_t metric;
	} in[] = {
		{ 0x0a010200, 24, 5 }, { 0x0a000000, 8, 1 },  { 0x0a010200, 24, 1 },
		{ 0xc0a80000, 16, 0 }, { 0x00000000, 0, 9 },  { 0x0a010200, 23, 0 },
		{ 0x0a010203, 32, 0 }, { 0x0a010200, 24, 3 }, { 0x80000000, 1, 0 },
	};
	static const guint order[] = { 4, 1, 5, 2, 7, 0, 6, 8, 3 };
	IpRouteTable *t = ip_rt_new(0);
	GArray *got = g_array_new(FALSE, FALSE, sizeof(IpRoute));

	for (guint i = 0; i < G_N_ELEMENTS(in); i++)
		add_ok(t, in[i].dst, in[i].plen, i + 1, 1, in[i].metric);
	ip_rt_foreach(t, collect, got);
	g_assert_cmpuint(got->len, ==, G_N_ELEMENTS(order));
	for (guint i = 0; i < got->len; i++)
		g_assert_cmpuint(g_array_index(got, IpRoute, i).gateway, ==, order[i] + 1);
	g_array_free(got, TRUE);
	ip_rt_free(t);
}

static void
test_generation(void)
{
	IpRouteTable *t = ip_rt_new(0);
	IpRoute r = route(ip4(10, 0, 0, 0), 8, 0, 1, 0);

	g_assert_cmpuint(ip_rt_generation(t), ==, 0);
	g_assert_cmpint(ip_rt_add(t, &r), ==, 0);
	g_assert_cmpuint(ip_rt_generation(t), ==, 1);
	g_assert_cmpint(ip_rt_add(t, &r), ==, EEXIST);
	g_assert_cmpuint(ip_rt_generation(t), ==, 1);
	g_assert_cmpint(ip_rt_del(t, ip4(11, 0, 0, 0), 8, 0, 0), ==, ENOENT);
	g_assert_cmpuint(ip_rt_generation(t), ==, 1);
	/* A metric change is a del and an add: two generations. */
	g_assert_cmpint(ip_rt_del(t, ip4(10, 0, 0, 0), 8, 0, 1), ==, 0);
	r.metric = 4;
	g_assert_cmpint(ip_rt_add(t, &r), ==, 0);
	g_assert_cmpuint(ip_rt_generation(t), ==, 3);
	ip_rt_free(t);
}

static void
test_fields_kept(void)
{
	IpRouteTable *t = ip_rt_new(0);
	IpRoute r = { .dst = ip4(198, 51, 100, 0),
		      .plen = 24,
		      .type = IP_RT_CONNECTED,
		      .flags = 0xbeef,
		      .gateway = 0,
		      .ifindex = 3,
		      .metric = 42,
		      .mtu = 1400,
		      .src = ip4(198, 51, 100, 1) };
	const IpRoute *got;

	g_assert_cmpint(ip_rt_add(t, &r), ==, 0);
	memset(&r, 0, sizeof(r)); /* the table keeps its own copy */
	got = ip_rt_lookup(t, ip4(198, 51, 100, 200));
	g_assert_nonnull(got);
	g_assert_cmpuint(got->flags, ==, 0xbeef);
	g_assert_cmpuint(got->type, ==, IP_RT_CONNECTED);
	g_assert_cmpuint(got->mtu, ==, 1400);
	g_assert_cmpuint(got->metric, ==, 42);
	g_assert_cmpuint(got->src, ==, ip4(198, 51, 100, 1));
	ip_rt_free(t);
}

/* Growing into a trie and shrinking back to the array keep every answer. */
static void
test_small_large(void)
{
	IpRouteTable *t = ip_rt_new(0);
	gsize small;

	add_ok(t, ip4(10, 0, 0, 0), 8, 0, 1, 0);
	small = ip_rt_memory(t);
	for (guint i = 0; i < 300; i++)
		add_ok(t, ip4(10, i >> 4, (i & 15) << 4, 0), 20 + i % 5, 0, 2 + i % 3, 0);
	g_assert_cmpuint(ip_rt_memory(t), >, small + 500 * 1024);
	g_assert_cmpuint(via(t, ip4(10, 0, 0, 1)), ==, 2);
	g_assert_cmpuint(via(t, ip4(10, 200, 0, 1)), ==, 1);
	for (guint i = 0; i < 300; i++) {
		uint32_t net = ip4(10, i >> 4, (i & 15) << 4, 0);

		/* The prefixes are disjoint: each falls back to the /8. */
		g_assert_cmpuint(via(t, net + 3), ==, 2 + i % 3);
		g_assert_cmpint(ip_rt_del(t, net, 20 + i % 5, 0, 0), ==, 0);
		g_assert_cmpuint(via(t, net + 3), ==, 1);
	}
	g_assert_cmpuint(ip_rt_count(t), ==, 1);
	g_assert_cmpuint(via(t, ip4(10, 0, 0, 1)), ==, 1);
	/* The trie is gone; only the id arrays (16 bytes per id) keep their size. */
	g_assert_cmpuint(ip_rt_memory(t), <, small + 16 * 1024);
	ip_rt_free(t);
}

/* ------------------------------------------------------------------ */
/* Randomized comparison with a reference                             */
/* ------------------------------------------------------------------ */

typedef struct {
	IpRoute r;
	uint32_t mask; /* of r.plen */
	guint64 seq;   /* order added: the older wins a metric tie */
} RefRoute;

typedef struct {
	guint32 seed;
	guint target;       /* routes the table hovers around */
	guint ops;          /* interleaved adds and deletes */
	guint lookups;      /* in the final check; a tenth at each checkpoint */
	guint min_switches; /* between the small array and the trie, at least */
} RandomParams;

typedef struct {
	GRand *rand;
	IpRouteTable *t;
	GArray *ref; /* RefRoute, unordered */
	guint64 seq;
	guint64 gen;
} RandomCtx;

static uint32_t
mask(guint plen)
{
	return plen ? ~(uint32_t)0 << (32 - plen) : 0;
}

/* a is better than b for the same address: longer, then lower metric, then
 * older. */
static gboolean
ref_better(const RefRoute *a, const RefRoute *b)
{
	if (a->r.plen != b->r.plen)
		return a->r.plen > b->r.plen;
	if (a->r.metric != b->r.metric)
		return a->r.metric < b->r.metric;
	return a->seq < b->seq;
}

static const IpRoute *
ref_lookup(const RandomCtx *x, uint32_t addr)
{
	const RefRoute *e = (const RefRoute *)x->ref->data, *end = e + x->ref->len;
	const RefRoute *best = NULL;

	for (; e < end; e++)
		if ((addr & e->mask) == e->r.dst && (!best || ref_better(e, best)))
			best = e;
	return best ? &best->r : NULL;
}

/* Index of the route del(dst, plen, gateway, ifindex) removes, or -1. */
static gint
ref_del_index(const RandomCtx *x, uint32_t dst, guint plen, uint32_t gw, uint32_t ifindex)
{
	gint best = -1;

	for (guint i = 0; i < x->ref->len; i++) {
		const RefRoute *e = &g_array_index(x->ref, RefRoute, i);

		if (e->r.dst != dst || e->r.plen != plen || (gw && e->r.gateway != gw) ||
		    (ifindex && e->r.ifindex != ifindex))
			continue;
		if (best < 0 || ref_better(e, &g_array_index(x->ref, RefRoute, best)))
			best = (gint)i;
	}
	return best;
}

static int
ref_add(RandomCtx *x, const IpRoute *r)
{
	for (guint i = 0; i < x->ref->len; i++) {
		const IpRoute *e = &g_array_index(x->ref, RefRoute, i).r;

		if (e->dst == r->dst && e->plen == r->plen && e->gateway == r->gateway &&
		    e->ifindex == r->ifindex)
			return EEXIST;
	}
	g_array_append_val(x->ref, ((RefRoute){ *r, mask(r->plen), x->seq++ }));
	return 0;
}

/* A route of the reference, at random (it must not be empty). */
static const IpRoute *
ref_random(RandomCtx *x)
{
	guint i = (guint)g_rand_int_range(x->rand, 0, (gint32)x->ref->len);

	return &g_array_index(x->ref, RefRoute, i).r;
}

/* Prefix lengths: heavy on /24 and /32, every length possible. */
static guint
random_plen(GRand *rand)
{
	gint32 p = g_rand_int_range(rand, 0, 100);

	if (p < 1)
		return 0;
	if (p < 5)
		return (guint)g_rand_int_range(rand, 1, 8);
	if (p < 15)
		return (guint)g_rand_int_range(rand, 8, 16);
	if (p < 35)
		return (guint)g_rand_int_range(rand, 16, 24);
	if (p < 60)
		return 24;
	if (p < 78)
		return (guint)g_rand_int_range(rand, 25, 32);
	return 32;
}

/* Addresses clustered in a few /8s and /16s so prefixes nest and share trie
 * chunks; one in five anywhere. */
static uint32_t
random_addr(GRand *rand)
{
	static const uint32_t hot[] = { 0x0a000000, 0x0a010000, 0xac100000, 0xc0a80000,
					0xc0a80100, 0x64400000, 0xffff0000, 0x00000000 };
	uint32_t a = g_rand_int(rand);

	if (g_rand_int_range(rand, 0, 5) == 0)
		return a;
	if (g_rand_boolean(rand))
		return hot[g_rand_int_range(rand, 0, G_N_ELEMENTS(hot))] | (a & 0xffff);
	return (hot[g_rand_int_range(rand, 0, G_N_ELEMENTS(hot))] & 0xff000000) | (a & 0xffffff);
}

static IpRoute
random_route(RandomCtx *x)
{
	IpRoute r;
	guint plen;

	/* One in five is another route for a prefix already present. */
	if (x->ref->len && g_rand_int_range(x->rand, 0, 5) == 0) {
		r = *ref_random(x);
	} else {
		plen = random_plen(x->rand);
		r = (IpRoute){ .plen = (uint8_t)plen };
		r.dst = random_addr(x->rand) & mask(plen);
	}
	r.type = (uint8_t)g_rand_int_range(x->rand, IP_RT_CONNECTED, IP_RT_BROADCAST + 1);
	r.flags = (uint16_t)g_rand_int(x->rand);
	r.gateway = g_rand_boolean(x->rand) ? 0 : ip4(10, 0, 0, g_rand_int_range(x->rand, 1, 4));
	r.ifindex = (uint32_t)g_rand_int_range(x->rand, 1, 4);
	r.metric = (uint32_t)g_rand_int_range(x->rand, 0, 3);
	r.mtu = g_rand_int(x->rand);
	r.src = g_rand_int(x->rand);
	return r;
}

static void
random_add(RandomCtx *x)
{
	IpRoute r = random_route(x);
	int want = ref_add(x, &r);

	g_assert_cmpint(ip_rt_add(x->t, &r), ==, want);
	x->gen += want == 0;
}

/* Deletes a route of a present prefix (gateway and interface given, or
 * wildcards), or tries an absent one. */
static void
random_del(RandomCtx *x)
{
	uint32_t dst, gw, ifindex;
	guint plen;
	gint want;

	if (x->ref->len && g_rand_int_range(x->rand, 0, 10) != 0) {
		const IpRoute *e = ref_random(x);

		dst = e->dst;
		plen = e->plen;
		gw = g_rand_boolean(x->rand) ? e->gateway : 0;
		ifindex = g_rand_boolean(x->rand) ? e->ifindex : 0;
	} else {
		plen = random_plen(x->rand);
		dst = random_addr(x->rand) & mask(plen);
		gw = 0;
		ifindex = 0;
	}
	want = ref_del_index(x, dst, plen, gw, ifindex);
	g_assert_cmpint(ip_rt_del(x->t, dst, (uint8_t)plen, gw, ifindex), ==,
			want < 0 ? ENOENT : 0);
	if (want >= 0) {
		g_array_remove_index_fast(x->ref, (guint)want);
		x->gen++;
	}
}

/* Lookup addresses: half inside a present prefix (often at its edges), the
 * rest clustered or anywhere. */
static uint32_t
random_lookup_addr(RandomCtx *x)
{
	const IpRoute *e;
	uint32_t host;

	if (!x->ref->len || g_rand_boolean(x->rand))
		return random_addr(x->rand);
	e = ref_random(x);
	switch (g_rand_int_range(x->rand, 0, 4)) {
	case 0: host = 0; break;
	case 1: host = ~(uint32_t)0; break;
	default: host = g_rand_int(x->rand); break;
	}
	return e->dst | (host & ~mask(e->plen));
}

/* Whether the table has a trie (its 512 KB root) rather than the small
 * array. */
static gboolean
is_trie(const IpRouteTable *t)
{
	return ip_rt_memory(t) > 256 * 1024;
}

static void
check_lookups(RandomCtx *x, guint n)
{
	for (guint i = 0; i < n; i++) {
		uint32_t a = random_lookup_addr(x);
		const IpRoute *want = ref_lookup(x, a);
		const IpRoute *got = ip_rt_lookup(x->t, a);

		if (!want || !got) {
			g_assert_true(want == got);
			continue;
		}
		if (memcmp(want, got, sizeof(IpRoute)) != 0)
			g_error("lookup %08x: got %08x/%u via %08x if %u metric %u, want %08x/%u "
				"via %08x if %u metric %u",
				a, got->dst, got->plen, got->gateway, got->ifindex, got->metric,
				want->dst, want->plen, want->gateway, want->ifindex, want->metric);
	}
	g_assert_cmpuint(ip_rt_count(x->t), ==, x->ref->len);
	g_assert_cmpuint(ip_rt_generation(x->t), ==, x->gen);
}

static gint
ref_order(gconstpointer a, gconstpointer b)
{
	const RefRoute *x = a, *y = b;

	if (x->r.dst != y->r.dst)
		return x->r.dst < y->r.dst ? -1 : 1;
	if (x->r.plen != y->r.plen)
		return x->r.plen < y->r.plen ? -1 : 1;
	if (x->r.metric != y->r.metric)
		return x->r.metric < y->r.metric ? -1 : 1;
	return x->seq < y->seq ? -1 : 1;
}

/* The walk and exact lookups agree with the sorted reference. */
static void
check_walk(RandomCtx *x)
{
	GArray *got = g_array_new(FALSE, FALSE, sizeof(IpRoute));
	GArray *want = g_array_copy(x->ref);

	g_array_sort(want, ref_order);
	ip_rt_foreach(x->t, collect, got);
	g_assert_cmpuint(got->len, ==, want->len);
	for (guint i = 0; i < got->len; i++) {
		const RefRoute *w = &g_array_index(want, RefRoute, i);

		g_assert_cmpmem(&g_array_index(got, IpRoute, i), sizeof(IpRoute), &w->r,
				sizeof(IpRoute));
		/* The first route of each prefix is what find returns. */
		if (i == 0 || w->r.dst != w[-1].r.dst || w->r.plen != w[-1].r.plen)
			g_assert_cmpmem(ip_rt_find(x->t, w->r.dst, w->r.plen), sizeof(IpRoute),
					&w->r, sizeof(IpRoute));
	}
	g_array_free(got, TRUE);
	g_array_free(want, TRUE);
}

static void
test_random(gconstpointer data)
{
	const RandomParams *p = data;
	RandomCtx x = { .rand = g_rand_new_with_seed(p->seed),
			.t = ip_rt_new(0),
			.ref = g_array_new(FALSE, FALSE, sizeof(RefRoute)) };

	guint peak = 0, switches = 0;
	gboolean trie;

	while (x.ref->len < p->target)
		random_add(&x);
	check_lookups(&x, p->lookups / 10);
	check_walk(&x);

	trie = is_trie(x.t);
	for (guint i = 0; i < p->ops; i++) {
		/* Drift around the target size. */
		if (g_rand_int_range(x.rand, 0, (gint32)(2 * p->target)) >= (gint32)x.ref->len)
			random_add(&x);
		else
			random_del(&x);
		peak = MAX(peak, x.ref->len);
		if (is_trie(x.t) != trie) {
			trie = !trie;
			switches++;
		}
		if ((i + 1) % (p->ops / 5) == 0)
			check_lookups(&x, p->lookups / 10);
	}
	check_lookups(&x, p->lookups);
	check_walk(&x);
	g_test_message("%u switches between the array and the trie", switches);
	g_assert_cmpuint(switches, >=, p->min_switches);

	/* Delete everything, crossing from the trie back to the small array. */
	while (x.ref->len) {
		random_del(&x);
		if (x.ref->len % (p->target / 8 + 1) == 0)
			check_lookups(&x, p->lookups / 20);
	}
	g_assert_cmpuint(ip_rt_count(x.t), ==, 0);
	g_assert_null(ip_rt_lookup(x.t, g_rand_int(x.rand)));
	/* No trie left: the id array (a route copy per id, capacity below twice
	 * the peak) and the free list of ids are all an empty table keeps. */
	g_assert_cmpuint(ip_rt_memory(x.t), <, 1024 + 2 * peak * (sizeof(IpRoute) + 4));

	ip_rt_free(x.t);
	g_array_free(x.ref, TRUE);
	g_rand_free(x.rand);
}

static const RandomParams random_params[] = {
	{ .seed = 1, .target = 2000, .ops = 3000, .lookups = 10000 },
	{ .seed = 2, .target = 3000, .ops = 2000, .lookups = 10000 },
	{ .seed = 3, .target = 1000, .ops = 4000, .lookups = 10000 },
	/* Around the small-table limit: switches to the trie and back. */
	{ .seed = 4, .target = 14, .ops = 3000, .lookups = 10000, .min_switches = 10 },
};

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ip/route/empty", test_empty);
	g_test_add_func("/ip/route/nested", test_nested);
	g_test_add_func("/ip/route/default", test_default);
	g_test_add_func("/ip/route/extremes", test_extremes);
	g_test_add_func("/ip/route/metric", test_metric);
	g_test_add_func("/ip/route/ties", test_ties);
	g_test_add_func("/ip/route/errors", test_errors);
	g_test_add_func("/ip/route/del-ifindex", test_del_ifindex);
	g_test_add_func("/ip/route/foreach-order", test_foreach_order);
	g_test_add_func("/ip/route/generation", test_generation);
	g_test_add_func("/ip/route/fields-kept", test_fields_kept);
	g_test_add_func("/ip/route/small-large", test_small_large);
	for (guint i = 0; i < G_N_ELEMENTS(random_params); i++) {
		g_autofree char *path =
			g_strdup_printf("/ip/route/random/seed-%u-size-%u", random_params[i].seed,
					random_params[i].target);

		g_test_add_data_func(path, &random_params[i], test_random);
	}
	return g_test_run();
}
