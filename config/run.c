/* SPDX-License-Identifier: MIT */
/*
 * run.c -- running a built configuration and reporting on it: the world is
 * driven until the apps are done or the duration has passed, then a
 * summary lists each stack's interfaces and addresses (IP_IF_LIST,
 * IP_ADDR_LIST), what the apps did, and every drop counted, by module and
 * reason.
 */
#define G_LOG_DOMAIN "us-config"

#include "cfg-build.h"

#include "../modules/ip/ip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#define RUN_LIMIT_NS (3600 * G_GINT64_CONSTANT(1000000000)) /* 1 h of world time */

static gboolean
run_done(gpointer data)
{
	UsCfgRun *run = data;
	return run->stop || us_cfg_apps_all_done(run);
}

static gboolean
run_stopped(gpointer data)
{
	return ((UsCfgRun *)data)->stop;
}

gboolean
us_cfg_run(UsCfgRun *run, gint64 duration_ns)
{
	if (duration_ns <= 0)
		duration_ns = run->cfg->world.duration_ns;
	run->started = us_world_now(run->world);
	if (duration_ns > 0)
		(void)us_world_run_until(run->world, run_stopped, run, duration_ns);
	else
		(void)us_world_run_until(run->world, run_done, run, RUN_LIMIT_NS);
	return us_cfg_apps_ok(run);
}

void
us_cfg_run_stop(UsCfgRun *run)
{
	run->stop = TRUE;
	us_world_wakeup(run->world);
}

static void
summary_ifaces(UsCfgRunStack *rs, GString *s)
{
	struct ip_if_info ii[16];
	struct strioctl sc = { .ic_cmd = IP_IF_LIST, .ic_len = sizeof ii, .ic_dp = (char *)ii };
	int n = us_ioctl(rs->ipfd, I_STR, &sc);
	struct ip_addr_req ar[64];
	struct strioctl sa = { .ic_cmd = IP_ADDR_LIST, .ic_len = sizeof ar, .ic_dp = (char *)ar };
	int na = us_ioctl(rs->ipfd, I_STR, &sa);
	for (int i = 0; i < n && i < 16; i++) {
		g_string_append_printf(s, "    %-6s mtu %u  %02x:%02x:%02x:%02x:%02x:%02x ",
				       ii[i].name, ii[i].mtu, ii[i].mac[0], ii[i].mac[1],
				       ii[i].mac[2], ii[i].mac[3], ii[i].mac[4], ii[i].mac[5]);
		for (int j = 0; j < na && j < 64; j++) {
			if (strcmp(ar[j].ifname, ii[i].name) != 0)
				continue;
			char a[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &ar[j].addr, a, sizeof a);
			g_string_append_printf(s, " %s/%u", a, ar[j].plen);
		}
		g_string_append_printf(
			s, "  in %" G_GUINT64_FORMAT " out %" G_GUINT64_FORMAT " packets\n",
			ii[i].ipackets, ii[i].opackets);
	}
}

static void
summary_drops(UsCfgRunStack *rs, GString *s)
{
	GHashTable *drops = us_stack_drops(rs->stack);
	if (drops == NULL || g_hash_table_size(drops) == 0) {
		if (drops != NULL)
			g_hash_table_unref(drops);
		return;
	}
	GList *keys = g_list_sort(g_hash_table_get_keys(drops), (GCompareFunc)g_strcmp0);
	g_string_append(s, "    drops:");
	for (GList *l = keys; l != NULL; l = l->next) {
		guint64 *n = g_hash_table_lookup(drops, l->data);
		g_string_append_printf(s, " %s=%" G_GUINT64_FORMAT, (const char *)l->data,
				       n != NULL ? *n : 0);
	}
	g_string_append_c(s, '\n');
	g_list_free(keys);
	g_hash_table_unref(drops);
}

char *
us_cfg_run_summary(UsCfgRun *run)
{
	GString *s = g_string_new(NULL);
	gint64 t = us_world_now(run->world) - run->started;
	g_string_append_printf(s, "%s: %u stack(s), %.3f s of %s time\n", run->cfg->file,
			       run->stacks->len, (double)t / 1e9,
			       us_world_clock_kind(run->world) == US_CLOCK_VIRTUAL ? "virtual"
										   : "real");
	for (guint i = 0; i < run->stacks->len; i++) {
		UsCfgRunStack *rs = run->stacks->pdata[i];
		g_string_append_printf(s, "  stack %s\n", rs->cfg->name);
		summary_ifaces(rs, s);
		summary_drops(rs, s);
	}
	if (run->apps->len > 0)
		g_string_append(s, "apps:\n");
	us_cfg_apps_report(run, s);
	return g_string_free(s, FALSE);
}
