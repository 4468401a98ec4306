/* SPDX-License-Identifier: MIT */
/*
 * report.c -- what `ustreams stats`, `ustreams ip ...` and `ustreams graph`
 * show about built stacks: statistics of every module instance, the ip
 * tables (addresses, routes, neighbours, links) as iproute2 prints them,
 * and the stream graph as DOT with queue fill and flow-control state.
 * Everything is read with the public interfaces (us_stat_get, I_STR on the
 * ip management descriptor, the queues of each stream); call on the world's
 * thread (or with a caller-driven world, from the thread driving it).
 */
#define G_LOG_DOMAIN "us-config"

#include "cfg-build.h"

#include "../modules/arp/arp.h"
#include "../modules/ip/ip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static const char *
ntoa(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static int
report_istr(int fd, int cmd, void *buf, int len)
{
	struct strioctl sc = { .ic_cmd = cmd, .ic_len = len, .ic_dp = buf };
	return us_ioctl(fd, I_STR, &sc);
}

/* ------------------------------------------------------------------ */
/* ip tables                                                          */
/* ------------------------------------------------------------------ */

static void
report_link(UsCfgRunStack *rs, GString *s)
{
	struct ip_if_info ii[32];
	int n = report_istr(rs->ipfd, IP_IF_LIST, ii, sizeof ii);
	for (int i = 0; i < n && i < 32; i++)
		g_string_append_printf(
			s,
			"%u: %s: <%s%s> mtu %u\n    link/ether %02x:%02x:%02x:%02x:%02x:%02x\n    "
			"RX: %" G_GUINT64_FORMAT " packets %" G_GUINT64_FORMAT
			" bytes %" G_GUINT64_FORMAT " dropped  TX: %" G_GUINT64_FORMAT
			" packets %" G_GUINT64_FORMAT " bytes %" G_GUINT64_FORMAT " dropped\n",
			ii[i].ifindex, ii[i].name, (ii[i].flags & IP_IFF_UP) ? "UP" : "DOWN",
			(ii[i].flags & IP_IFF_RUNNING) ? ",RUNNING" : "", ii[i].mtu, ii[i].mac[0],
			ii[i].mac[1], ii[i].mac[2], ii[i].mac[3], ii[i].mac[4], ii[i].mac[5],
			ii[i].ipackets, ii[i].ibytes, ii[i].idrops, ii[i].opackets, ii[i].obytes,
			ii[i].odrops);
}

static void
report_addr(UsCfgRunStack *rs, GString *s)
{
	struct ip_addr_req ar[64];
	int n = report_istr(rs->ipfd, IP_ADDR_LIST, ar, sizeof ar);
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	for (int i = 0; i < n && i < 64; i++) {
		g_string_append_printf(s, "inet %s/%u", ntoa(ar[i].addr, a), ar[i].plen);
		if (ar[i].broadcast != 0)
			g_string_append_printf(s, " brd %s", ntoa(ar[i].broadcast, b));
		g_string_append_printf(s, " dev %s\n", ar[i].ifname);
	}
}

static void
report_route(UsCfgRunStack *rs, GString *s)
{
	struct ip_route_entry e[256];
	int n = report_istr(rs->ipfd, IP_ROUTE_LIST, e, sizeof e);
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], src[INET_ADDRSTRLEN];
	for (int i = 0; i < n && i < 256; i++) {
		if (e[i].plen == 0)
			g_string_append(s, "default");
		else
			g_string_append_printf(s, "%s/%u", ntoa(e[i].dst, a), e[i].plen);
		if (e[i].gateway != 0)
			g_string_append_printf(s, " via %s", ntoa(e[i].gateway, g));
		g_string_append_printf(s, " dev %s", e[i].ifname);
		if (e[i].type == IP_RTT_CONNECTED)
			g_string_append(s, " proto kernel scope link");
		if (e[i].src != 0)
			g_string_append_printf(s, " src %s", ntoa(e[i].src, src));
		if (e[i].metric != 0)
			g_string_append_printf(s, " metric %u", e[i].metric);
		if (e[i].mtu != 0)
			g_string_append_printf(s, " mtu %u", e[i].mtu);
		g_string_append_c(s, '\n');
	}
}

static const char *
neigh_state(uint8_t st)
{
	static const char *const names[] = { "NONE",  "INCOMPLETE", "REACHABLE",
					     "STALE", "FAILED",     "PERMANENT" };
	return st < G_N_ELEMENTS(names) ? names[st] : "?";
}

static void
report_neigh(UsCfgRunStack *rs, GString *s)
{
	struct ip_if_info ii[32];
	int n = report_istr(rs->ipfd, IP_IF_LIST, ii, sizeof ii);
	for (int i = 0; i < n && i < 32; i++) {
		union {
			struct ip_neigh_req r;
			struct arp_entry_info e[128];
		} q;
		memset(&q, 0, sizeof q);
		g_strlcpy(q.r.ifname, ii[i].name, sizeof q.r.ifname);
		int m = report_istr(rs->ipfd, IP_NEIGH_LIST, &q, sizeof q);
		char a[INET_ADDRSTRLEN];
		for (int j = 0; j < m && j < 128; j++) {
			const struct arp_entry_info *e = &q.e[j];
			g_string_append_printf(s, "%s dev %s", ntoa(e->addr, a), ii[i].name);
			if (e->state != ARP_STATE_INCOMPLETE && e->state != ARP_STATE_FAILED)
				g_string_append_printf(s, " lladdr %02x:%02x:%02x:%02x:%02x:%02x",
						       e->mac[0], e->mac[1], e->mac[2], e->mac[3],
						       e->mac[4], e->mac[5]);
			g_string_append_printf(s, " %s\n", neigh_state(e->state));
		}
	}
}

/* ------------------------------------------------------------------ */
/* Statistics                                                         */
/* ------------------------------------------------------------------ */

typedef struct {
	GString *s;
	GHashTable *seen; /* per-stack descriptors already shown */
} StatWalk;

static void
report_queue_stats(StatWalk *w, queue_t *q, const UsModuleDesc *d, guint index)
{
	if (d->stats == NULL || d->stats[0].name == NULL)
		return;
	if (d->mt_flags & US_MT_PERSTACK) {
		if (g_hash_table_contains(w->seen, d))
			return;
		g_hash_table_add(w->seen, (gpointer)d);
		g_string_append_printf(w->s, "  %s:\n", d->name);
	} else {
		g_string_append_printf(w->s, "  %s (stream %u):\n", d->name, index);
	}
	for (const UsStatDesc *st = d->stats; st->name != NULL; st++) {
		guint64 v = 0;
		if (us_stat_get(q, st->name, &v) && v != 0)
			g_string_append_printf(w->s, "    %-24s %" G_GUINT64_FORMAT "\n", st->name,
					       v);
	}
}

static guint stat_stream_index;

static void
report_stream_stats(UsStream *st, gpointer data)
{
	StatWalk *w = data;
	stat_stream_index++;
	for (queue_t *q = us_stream_head_wq(st)->q_next; q != NULL; q = q->q_next) {
		const UsModuleDesc *d = us_queue_desc(q);
		if (d != NULL)
			report_queue_stats(w, RD(q), d, stat_stream_index);
	}
}

static void
report_stats(UsCfgRunStack *rs, GString *s)
{
	StatWalk w = { s, g_hash_table_new(g_direct_hash, g_direct_equal) };
	stat_stream_index = 0;
	us_stack_foreach_stream(rs->stack, report_stream_stats, &w);
	g_hash_table_destroy(w.seen);
	GHashTable *drops = us_stack_drops(rs->stack);
	GList *keys = g_list_sort(g_hash_table_get_keys(drops), (GCompareFunc)g_strcmp0);
	if (keys != NULL)
		g_string_append(s, "  drops:\n");
	for (GList *l = keys; l != NULL; l = l->next)
		g_string_append_printf(s, "    %-40s %" G_GUINT64_FORMAT "\n", (char *)l->data,
				       *(guint64 *)g_hash_table_lookup(drops, l->data));
	g_list_free(keys);
	g_hash_table_unref(drops);
}

/* ------------------------------------------------------------------ */
/* The graph                                                          */
/* ------------------------------------------------------------------ */

typedef struct {
	GString *s;
	guint stack, stream;
	GHashTable *muxes; /* desc -> TRUE: mux nodes drawn in this stack */
	GPtrArray *edges;  /* char*, drawn after the nodes */
} GraphWalk;

/* The multiplexor a stream is linked under (its head queue runs the mux's
 * lower read procedures), or NULL. */
static const UsModuleDesc *
linked_under(UsStream *st)
{
	queue_t *rq = us_stream_head_rq(st);
	GPtrArray *all = us_registry_list();
	const UsModuleDesc *found = NULL;
	for (guint i = 0; i < all->len && found == NULL; i++) {
		const UsModuleDesc *d = all->pdata[i];
		if (d->kind == US_KIND_MUX && d->streamtab != NULL &&
		    rq->q_qinfo == d->streamtab->st_muxrinit)
			found = d;
	}
	g_ptr_array_free(all, TRUE);
	return found;
}

static void
graph_mux_node(GraphWalk *w, const UsModuleDesc *d)
{
	if (g_hash_table_contains(w->muxes, d))
		return;
	g_hash_table_add(w->muxes, (gpointer)d);
	g_string_append_printf(w->s, "    m%u_%s [label=\"%s\", shape=box3d];\n", w->stack, d->name,
			       d->name);
}

static void
graph_queue_node(GraphWalk *w, queue_t *wq, guint depth, const char *name)
{
	queue_t *rq = RD(wq);
	gboolean full = (wq->q_flag & QFULL) || (rq->q_flag & QFULL);
	g_string_append_printf(w->s, "    s%u_%u_%u [label=\"%s|{w %zu/%zu|r %zu/%zu}\"%s];\n",
			       w->stack, w->stream, depth, name, (size_t)wq->q_count,
			       (size_t)wq->q_hiwat, (size_t)rq->q_count, (size_t)rq->q_hiwat,
			       full ? ", color=red, fontcolor=red" : "");
}

static void
graph_stream(UsStream *st, gpointer data)
{
	GraphWalk *w = data;
	w->stream++;
	const UsModuleDesc *under = linked_under(st);
	guint depth = 0;
	const UsModuleDesc *bottom = NULL;
	for (queue_t *q = us_stream_head_wq(st); q != NULL; q = q->q_next, depth++) {
		const UsModuleDesc *d = us_queue_desc(q);
		const char *name = depth == 0  ? (under != NULL ? "(linked)" : "head")
				   : d != NULL ? d->name
					       : "?";
		graph_queue_node(w, q, depth, name);
		if (depth > 0)
			g_ptr_array_add(w->edges, g_strdup_printf("s%u_%u_%u -> s%u_%u_%u",
								  w->stack, w->stream, depth - 1,
								  w->stack, w->stream, depth));
		bottom = d;
	}
	if (bottom != NULL && bottom->kind == US_KIND_MUX) {
		graph_mux_node(w, bottom);
		g_ptr_array_add(w->edges,
				g_strdup_printf("s%u_%u_%u -> m%u_%s", w->stack, w->stream,
						depth - 1, w->stack, bottom->name));
	}
	if (under != NULL) {
		graph_mux_node(w, under);
		g_ptr_array_add(w->edges,
				g_strdup_printf("m%u_%s -> s%u_%u_0 [style=bold]", w->stack,
						under->name, w->stack, w->stream));
	}
}

static void
report_graph(UsCfgRun *run, GString *s)
{
	g_string_append(s, "digraph ustreams {\n  rankdir=TB;\n  node [shape=record, "
			   "fontname=\"monospace\", fontsize=10];\n");
	for (guint i = 0; i < run->stacks->len; i++) {
		UsCfgRunStack *rs = run->stacks->pdata[i];
		GraphWalk w = { s, i, 0, g_hash_table_new(g_direct_hash, g_direct_equal),
				g_ptr_array_new_with_free_func(g_free) };
		g_string_append_printf(s, "  subgraph cluster_%u {\n    label=\"stack %s\";\n", i,
				       rs->cfg->name);
		us_stack_foreach_stream(rs->stack, graph_stream, &w);
		for (guint j = 0; j < w.edges->len; j++)
			g_string_append_printf(s, "    %s;\n", (char *)w.edges->pdata[j]);
		g_string_append(s, "  }\n");
		g_hash_table_destroy(w.muxes);
		g_ptr_array_free(w.edges, TRUE);
	}
	g_string_append(s, "}\n");
}

/* ------------------------------------------------------------------ */
/* Entry point                                                        */
/* ------------------------------------------------------------------ */

char *
us_cfg_report(UsCfgRun *run, const char *what, GError **error)
{
	static const struct {
		const char *name;
		void (*fn)(UsCfgRunStack *rs, GString *s);
	} kinds[] = {
		{ "link", report_link },   { "addr", report_addr },   { "route", report_route },
		{ "neigh", report_neigh }, { "stats", report_stats },
	};
	GString *s = g_string_new(NULL);
	if (strcmp(what, "graph") == 0) {
		report_graph(run, s);
		return g_string_free(s, FALSE);
	}
	for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
		if (strcmp(what, kinds[k].name) != 0)
			continue;
		for (guint i = 0; i < run->stacks->len; i++) {
			UsCfgRunStack *rs = run->stacks->pdata[i];
			g_string_append_printf(s, "stack %s:\n", rs->cfg->name);
			kinds[k].fn(rs, s);
		}
		return g_string_free(s, FALSE);
	}
	g_string_free(s, TRUE);
	g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC,
		    "unknown report '%s' (link, addr, route, neigh, stats, graph)", what);
	return NULL;
}
