/* SPDX-License-Identifier: MIT */
/*
 * bench-route -- the ip routing table (modules/ip/route.c) with a 100k-prefix
 * table, printed next to a reference measured in the same run:
 *
 *   longest-prefix-match lookup of random addresses
 *       vs  GHashTable lookup of the same addresses as 32-bit keys
 *           (g_direct_hash on GUINT_TO_POINTER, 100k entries keyed by the
 *           first 100k of those addresses, so about one lookup in ten hits)
 *   table build time, mean add and del of a prefix in the full table, and
 *   memory: the table's own estimate and the growth of the resident set.
 *
 * Prefixes are random with a length mix like a routing table's: half /24,
 * a third /16-/23, some /8-/15 and /25-/32, plus a default route.  A lookup
 * includes reading a field of the route found, as ip does.  Lookup figures
 * are the best of three runs.
 *
 * Usage: bench-route [--quick]
 */
#include "route.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_PREFIX 100000
#define N_ADDR (1u << 20)
#define N_UPDATE 10000

static guint n_lookup = 10000000;
static guint n_runs = 3;

static gint64
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Resident set in bytes (Linux), 0 where /proc is missing. */
static gsize
rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * (gsize)sysconf(_SC_PAGESIZE);
}

static guint
random_plen(GRand *rand)
{
	gint32 p = g_rand_int_range(rand, 0, 100);

	if (p < 50)
		return 24;
	if (p < 85)
		return (guint)g_rand_int_range(rand, 16, 24);
	if (p < 90)
		return (guint)g_rand_int_range(rand, 8, 16);
	return (guint)g_rand_int_range(rand, 25, 33);
}

static IpRoute
random_route(GRand *rand)
{
	guint plen = random_plen(rand);

	return (IpRoute){ .dst = g_rand_int(rand) & (plen ? ~(uint32_t)0 << (32 - plen) : 0),
			  .plen = (uint8_t)plen,
			  .type = IP_RT_STATIC,
			  .gateway = g_rand_int(rand),
			  .ifindex = (uint32_t)g_rand_int_range(rand, 1, 16) };
}

/* Adds random prefixes until the table has n of them besides the default;
 * fills out[] with the routes added. */
static void
fill_table(IpRouteTable *t, GRand *rand, IpRoute *out, guint n)
{
	IpRoute def = { .type = IP_RT_STATIC, .gateway = 1, .ifindex = 1 };

	g_assert(ip_rt_add(t, &def) == 0);
	for (guint i = 0; i < n;) {
		IpRoute r = random_route(rand);

		if (ip_rt_find(t, r.dst, r.plen))
			continue;
		g_assert(ip_rt_add(t, &r) == 0);
		out[i++] = r;
	}
}

static double
run_lpm(const IpRouteTable *t, const uint32_t *addr, guint64 *sum)
{
	gint64 t0 = now_ns();
	guint64 s = 0;

	for (guint i = 0; i < n_lookup; i++)
		s += ip_rt_lookup(t, addr[i & (N_ADDR - 1)])->ifindex;
	*sum += s;
	return (double)(now_ns() - t0) / n_lookup;
}

static double
run_hash(GHashTable *h, const uint32_t *addr, guint64 *sum)
{
	gint64 t0 = now_ns();
	guint64 s = 0;

	for (guint i = 0; i < n_lookup; i++)
		s += GPOINTER_TO_UINT(
			g_hash_table_lookup(h, GUINT_TO_POINTER(addr[i & (N_ADDR - 1)])));
	*sum += s;
	return (double)(now_ns() - t0) / n_lookup;
}

/* Mean microseconds to delete and to re-add n of the table's routes. */
static void
time_updates(IpRouteTable *t, const IpRoute *routes, guint n, double *del_us, double *add_us)
{
	gint64 t0, t1, t2;

	t0 = now_ns();
	for (guint i = 0; i < n; i++)
		g_assert(ip_rt_del(t, routes[i].dst, routes[i].plen, 0, 0) == 0);
	t1 = now_ns();
	for (guint i = 0; i < n; i++)
		g_assert(ip_rt_add(t, &routes[i]) == 0);
	t2 = now_ns();
	*del_us = (double)(t1 - t0) / n / 1000.0;
	*add_us = (double)(t2 - t1) / n / 1000.0;
}

/* Mean microseconds to add and delete one short prefix absent from the full
 * table: the expensive case, 2^(16 - plen) root entries to paint.  Negative
 * if every prefix of that length is present. */
static double
time_short(IpRouteTable *t, guint plen)
{
	IpRoute r = { .plen = (uint8_t)plen, .type = IP_RT_STATIC, .gateway = 7, .ifindex = 7 };
	gint64 t0;

	for (r.dst = 0; ip_rt_find(t, r.dst, r.plen); r.dst += 1u << (32 - plen))
		if (r.dst + (1u << (32 - plen)) == 0)
			return -1;
	t0 = now_ns();
	for (guint i = 0; i < 100; i++) {
		g_assert(ip_rt_add(t, &r) == 0);
		g_assert(ip_rt_del(t, r.dst, r.plen, r.gateway, r.ifindex) == 0);
	}
	return (double)(now_ns() - t0) / 200 / 1000.0;
}

int
main(int argc, char **argv)
{
	GRand *rand = g_rand_new_with_seed(20240601);
	uint32_t *addr = g_new(uint32_t, N_ADDR);
	IpRoute *routes = g_new(IpRoute, N_PREFIX);
	GHashTable *h = g_hash_table_new(g_direct_hash, NULL);
	double lpm = 1e30, hash = 1e30, del_us, add_us;
	guint64 sum = 0;
	IpRouteTable *t;
	gsize rss0;
	gint64 t0, build;

	if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
		n_lookup = 2000000;
		n_runs = 1;
	}
	for (guint i = 0; i < N_ADDR; i++)
		addr[i] = g_rand_int(rand);
	for (guint i = 0; i < N_PREFIX; i++)
		g_hash_table_insert(h, GUINT_TO_POINTER(addr[i]), GUINT_TO_POINTER(i + 1));

	rss0 = rss_bytes();
	t = ip_rt_new(0);
	t0 = now_ns();
	fill_table(t, rand, routes, N_PREFIX);
	build = now_ns() - t0;
	printf("route build %u prefixes + default: %.1f ms (%.2f us/add), memory %.1f MB "
	       "(resident set +%.1f MB)\n",
	       N_PREFIX, build / 1e6, build / 1e3 / N_PREFIX, ip_rt_memory(t) / 1048576.0,
	       (double)(rss_bytes() - rss0) / 1048576.0);

	for (guint r = 0; r < n_runs; r++) {
		lpm = MIN(lpm, run_lpm(t, addr, &sum));
		hash = MIN(hash, run_hash(h, addr, &sum));
	}
	printf("route lookup 100k prefixes: %.1f ns/lookup, hash reference %.1f ns, ratio %.2f"
	       "   (target <= 40 ns)\n",
	       lpm, hash, lpm / hash);

	time_updates(t, routes, N_UPDATE, &del_us, &add_us);
	printf("route update in the full table: del %.2f us, add %.2f us (mean of %u); "
	       "/1 %.1f us, /4 %.1f us, /8 %.1f us\n",
	       del_us, add_us, N_UPDATE, time_short(t, 1), time_short(t, 4), time_short(t, 8));

	if (sum == 42)
		printf("(checksum %" G_GUINT64_FORMAT ")\n", sum);
	ip_rt_free(t);
	g_hash_table_destroy(h);
	g_free(routes);
	g_free(addr);
	g_rand_free(rand);
	return 0;
}
