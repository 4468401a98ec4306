/* SPDX-License-Identifier: MIT */
/*
 * build.c -- turns a checked model (config.h) into running stacks, by the
 * same operations a program performs: the config is a script of them.
 *
 * Theory
 * ------
 * Order, per stack (stacks in file order, in one world made first with the
 * model's clock and seed):
 *   1. us_stack_new; autopush lists (us_autopush_set).
 *   2. ip: one upper kept open for management (I_STR).
 *   3. transports: each (the model's list, or udp, icmp and tcp when they are
 *      registered) is opened and an ip upper I_PLINKed under it; a socket=
 *      entry goes into the socket transport table.
 *   4. interfaces, in order: us_open(driver); driver parameters (wire blocks
 *      give theirs to both ends; the wire name joins with WIRE_JOIN); each
 *      module I_PUSHed then given its parameters; static neighbours of that
 *      interface (ARP_ADD_STATIC, while the stream is still the program's);
 *      I_PLINK under ip; IP_IF_SET (name, MTU); IP_ADDR_ADD per address.
 *   5. routes (IP_ROUTE_ADD), forwarding and "set ip" (us_param_set).
 * Parameters that start traffic (a pcap driver's "in") are applied last, once
 * every stack is built, so replay never runs into a half-built stack.
 * Any failure frees the world (and with it every stack, stream and link) and
 * reports the statement: nothing half-built survives.
 *
 * Deviations: "set MODULE" only reaches ip (the one stack-wide instance with
 * parameters); transports' parameters are per endpoint.
 */
#define G_LOG_DOMAIN "us-config"

#include "config.h"
#include "cfg-build.h"

#include <ustreams/ustreams.h>
#include <ustreams/socket.h>

#include "../drivers/wire/wire.h"
#include "../modules/arp/arp.h"
#include "../modules/ip/ip.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

static gboolean G_GNUC_PRINTF(3, 4) build_fail(GError **error, UsCfgLoc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	char *where = us_cfg_loc_string(loc);
	g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_BUILD, "%s: %s", where, msg);
	g_free(where);
	g_free(msg);
	return FALSE;
}

static gboolean
build_istr(int fd, int cmd, void *data, int len, UsCfgLoc loc, const char *what, GError **error)
{
	struct strioctl sc = { .ic_cmd = cmd, .ic_len = len, .ic_dp = data };
	if (us_ioctl(fd, I_STR, &sc) < 0)
		return build_fail(error, loc, "%s: %s", what, g_strerror(errno));
	return TRUE;
}

/* The parameter's descriptor on q's module, or NULL. */
static const UsParamDesc *
build_param_desc(queue_t *q, const char *name)
{
	const UsModuleDesc *d = us_queue_desc(q);
	for (const UsParamDesc *p = d != NULL ? d->params : NULL; p != NULL && p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* Sets a parameter from a config value (units converted to the
 * parameter's, us_cfg_param_value). */
static gboolean
build_param(queue_t *q, const UsCfgKv *kv, const char *owner, GError **error)
{
	GError *e = NULL;
	const UsParamDesc *pd = build_param_desc(q, kv->name);
	char *v = pd != NULL ? us_cfg_param_value(pd, kv->value, &e) : g_strdup(kv->value);
	gboolean ok = v != NULL && us_param_set(q, kv->name, v, &e);
	g_free(v);
	if (ok)
		return TRUE;
	build_fail(error, kv->loc, "%s %s=%s: %s", owner, kv->name, kv->value, e->message);
	g_error_free(e);
	return FALSE;
}

/* ------------------------------------------------------------------ */
/* Transports                                                         */
/* ------------------------------------------------------------------ */

static gboolean
build_link_transport(UsCfgRunStack *rs, const char *driver, UsCfgLoc loc, GError **error)
{
	int t = us_open(rs->stack, driver, O_RDWR);
	if (t < 0)
		return build_fail(error, loc, "transport %s: %s", driver, g_strerror(errno));
	int ip = us_open(rs->stack, "ip", O_RDWR);
	int rc = ip >= 0 ? us_ioctl(t, I_PLINK, ip) : -1;
	int err = errno;
	if (ip >= 0)
		us_close(ip);
	us_close(t);
	if (rc < 0)
		return build_fail(error, loc, "transport %s: I_PLINK over ip: %s", driver,
				  g_strerror(err));
	return TRUE;
}

static gboolean
build_transports(UsCfgRunStack *rs, const UsCfgStack *cs, GError **error)
{
	if (cs->transports->len == 0) {
		static const char *const defaults[] = { "udp", "icmp", "tcp", NULL };
		for (guint i = 0; defaults[i] != NULL; i++)
			if (us_registry_find(defaults[i]) != NULL &&
			    !build_link_transport(rs, defaults[i], cs->loc, error))
				return FALSE;
		return TRUE;
	}
	for (guint i = 0; i < cs->transports->len; i++) {
		const UsCfgTransport *t = cs->transports->pdata[i];
		if (!build_link_transport(rs, t->driver, t->loc, error))
			return FALSE;
		if (t->sock_type != 0 &&
		    us_socket_transport_add(AF_INET, t->sock_type, t->protocol, t->driver) < 0)
			return build_fail(error, t->loc, "transport %s: socket table: %s",
					  t->driver, g_strerror(errno));
	}
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Interfaces                                                         */
/* ------------------------------------------------------------------ */

/* Parameters that start traffic wait until everything is built. */
static gboolean
build_param_deferred(const char *driver, const char *name)
{
	return strcmp(driver, "pcap") == 0 && strcmp(name, "in") == 0;
}

static gboolean
build_driver(UsCfgRun *run, UsCfgRunStack *rs, const UsCfgIface *ci, int fd, GError **error)
{
	queue_t *dq = us_stream_driver_rq(us_fd_stream(fd));
	if (strcmp(ci->driver, "wire") == 0) {
		const UsCfgWire *w = us_cfg_find_wire(run->cfg, ci->driver_arg);
		for (guint i = 0; w != NULL && i < w->params->len; i++)
			if (!build_param(dq, w->params->pdata[i], "wire", error))
				return FALSE;
		if (!build_istr(fd, WIRE_JOIN, ci->driver_arg, (int)strlen(ci->driver_arg) + 1,
				ci->loc, "wire join", error))
			return FALSE;
	} else if (ci->driver_arg != NULL) {
		UsCfgKv kv = { .name = "ifname", .value = ci->driver_arg, .loc = ci->loc };
		if (!build_param(dq, &kv, ci->driver, error))
			return FALSE;
	}
	for (guint i = 0; i < ci->params->len; i++) {
		const UsCfgKv *kv = ci->params->pdata[i];
		if (build_param_deferred(ci->driver, kv->name)) {
			us_cfg_defer_param(run, rs, dq, kv);
			continue;
		}
		if (!build_param(dq, kv, ci->driver, error))
			return FALSE;
	}
	if (strcmp(ci->driver, "tap") == 0) {
		UsCfgKv up = { .name = "up", .value = "true", .loc = ci->loc };
		return build_param(dq, &up, "tap", error);
	}
	return TRUE;
}

static gboolean
build_modules(const UsCfgIface *ci, int fd, GError **error)
{
	for (guint i = 0; i < ci->modules->len; i++) {
		const UsCfgModule *m = ci->modules->pdata[i];
		if (us_ioctl(fd, I_PUSH, m->name) < 0)
			return build_fail(error, m->loc, "push %s: %s", m->name, g_strerror(errno));
		queue_t *mq = us_stream_head_wq(us_fd_stream(fd))->q_next;
		for (guint j = 0; j < m->params->len; j++)
			if (!build_param(mq, m->params->pdata[j], m->name, error))
				return FALSE;
	}
	return TRUE;
}

static gboolean
build_neighbors(const UsCfgStack *cs, const UsCfgIface *ci, int fd, GError **error)
{
	for (guint i = 0; i < cs->neighbors->len; i++) {
		const UsCfgNeighbor *n = cs->neighbors->pdata[i];
		if (strcmp(n->dev, ci->name) != 0)
			continue;
		struct arp_static_req sr = { .addr = n->addr };
		memcpy(sr.mac, n->mac, 6);
		if (!build_istr(fd, ARP_ADD_STATIC, &sr, sizeof sr, n->loc, "neighbor", error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
build_ip_iface(UsCfgRunStack *rs, const UsCfgIface *ci, int muxid, GError **error)
{
	struct ip_if_req ir = { .muxid = muxid, .mtu = ci->mtu };
	g_strlcpy(ir.name, ci->name, sizeof ir.name);
	if (!build_istr(rs->ipfd, IP_IF_SET, &ir, sizeof ir, ci->loc, "interface", error))
		return FALSE;
	for (guint i = 0; i < ci->addrs->len; i++) {
		const UsCfgAddr *a = &g_array_index(ci->addrs, UsCfgAddr, i);
		struct ip_addr_req ar = { .addr = a->addr, .plen = a->plen };
		g_strlcpy(ar.ifname, ci->name, sizeof ar.ifname);
		if (!build_istr(rs->ipfd, IP_ADDR_ADD, &ar, sizeof ar, a->loc, "address", error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
build_iface(UsCfgRun *run, UsCfgRunStack *rs, const UsCfgStack *cs, const UsCfgIface *ci,
	    GError **error)
{
	int fd = us_open(rs->stack, ci->driver, O_RDWR);
	if (fd < 0)
		return build_fail(error, ci->loc, "driver %s: %s", ci->driver, g_strerror(errno));
	gboolean ok = build_driver(run, rs, ci, fd, error) && build_modules(ci, fd, error) &&
		      build_neighbors(cs, ci, fd, error);
	g_ptr_array_add(rs->drvq, us_stream_driver_rq(us_fd_stream(fd)));
	int muxid = ok ? us_ioctl(rs->ipfd, I_PLINK, fd) : -1;
	if (ok && muxid < 0)
		ok = build_fail(error, ci->loc, "interface %s: I_PLINK under ip: %s", ci->name,
				g_strerror(errno));
	us_close(fd);
	return ok && build_ip_iface(rs, ci, muxid, error);
}

/* ------------------------------------------------------------------ */
/* Routes and stack-wide settings                                     */
/* ------------------------------------------------------------------ */

static gboolean
build_routes(UsCfgRunStack *rs, const UsCfgStack *cs, GError **error)
{
	for (guint i = 0; i < cs->routes->len; i++) {
		const UsCfgRoute *r = cs->routes->pdata[i];
		struct ip_route_entry e = { .dst = r->dst,
					    .plen = r->plen,
					    .gateway = r->gateway,
					    .metric = r->metric,
					    .mtu = r->mtu };
		if (r->dev != NULL)
			g_strlcpy(e.ifname, r->dev, sizeof e.ifname);
		if (!build_istr(rs->ipfd, IP_ROUTE_ADD, &e, sizeof e, r->loc, "route", error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
build_settings(UsCfgRunStack *rs, const UsCfgStack *cs, GError **error)
{
	queue_t *ipq = us_stream_driver_rq(us_fd_stream(rs->ipfd));
	if (cs->forwarding >= 0) {
		UsCfgKv kv = { .name = IP_PARAM_FORWARDING,
			       .value = cs->forwarding ? "true" : "false",
			       .loc = cs->loc };
		if (!build_param(ipq, &kv, "ip", error))
			return FALSE;
	}
	for (guint i = 0; i < cs->sets->len; i++) {
		const UsCfgSet *st = cs->sets->pdata[i];
		if (strcmp(st->module, "ip") != 0)
			return build_fail(error, st->loc,
					  "set %s: only ip has stack-wide parameters (give a "
					  "module's parameters where it is pushed)",
					  st->module);
		for (guint j = 0; j < st->params->len; j++)
			if (!build_param(ipq, st->params->pdata[j], "ip", error))
				return FALSE;
	}
	return TRUE;
}

static gboolean
build_autopush(UsCfgRunStack *rs, const UsCfgStack *cs, GError **error)
{
	for (guint i = 0; i < cs->autopush->len; i++) {
		const UsCfgAutopush *ap = cs->autopush->pdata[i];
		const char *mods[9] = { NULL };
		for (guint j = 0; j < ap->modules->len && j < 8; j++)
			mods[j] = ap->modules->pdata[j];
		GError *e = NULL;
		if (!us_autopush_set(rs->stack, ap->driver, mods, &e)) {
			build_fail(error, ap->loc, "autopush %s: %s", ap->driver, e->message);
			g_error_free(e);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
build_stack(UsCfgRun *run, const UsCfgStack *cs, GError **error)
{
	UsCfgRunStack *rs = g_new0(UsCfgRunStack, 1);
	rs->cfg = cs;
	rs->stack = us_stack_new(run->world, cs->name);
	rs->ipfd = -1;
	rs->drvq = g_ptr_array_new();
	g_ptr_array_add(run->stacks, rs);
	if (!build_autopush(rs, cs, error))
		return FALSE;
	rs->ipfd = us_open(rs->stack, "ip", O_RDWR);
	if (rs->ipfd < 0)
		return build_fail(error, cs->loc, "stack %s: ip: %s", cs->name, g_strerror(errno));
	if (!build_transports(rs, cs, error))
		return FALSE;
	for (guint i = 0; i < cs->ifaces->len; i++)
		if (!build_iface(run, rs, cs, cs->ifaces->pdata[i], error))
			return FALSE;
	return build_routes(rs, cs, error) && build_settings(rs, cs, error);
}

/* ------------------------------------------------------------------ */
/* Entry points                                                       */
/* ------------------------------------------------------------------ */

UsCfgRun *
us_cfg_build(const UsCfg *cfg, GError **error)
{
	UsCfgRun *run = g_new0(UsCfgRun, 1);
	run->cfg = cfg;
	run->world = us_world_new(cfg->world.clock, cfg->world.seed);
	run->stacks = g_ptr_array_new();
	run->deferred = g_ptr_array_new_with_free_func(g_free);
	run->apps = g_ptr_array_new();
	for (guint i = 0; i < cfg->stacks->len; i++) {
		if (!build_stack(run, cfg->stacks->pdata[i], error)) {
			us_cfg_run_free(run);
			return NULL;
		}
	}
	if (!us_cfg_apply_deferred(run, error) || !us_cfg_apps_create(run, error)) {
		us_cfg_run_free(run);
		return NULL;
	}
	return run;
}

UsWorld *
us_cfg_run_world(UsCfgRun *run)
{
	return run->world;
}

static UsCfgRunStack *
run_stack(UsCfgRun *run, const char *name)
{
	for (guint i = 0; i < run->stacks->len; i++) {
		UsCfgRunStack *rs = run->stacks->pdata[i];
		if (strcmp(rs->cfg->name, name) == 0)
			return rs;
	}
	return NULL;
}

queue_t *
us_cfg_run_iface_driver(UsCfgRun *run, const char *stack, const char *iface)
{
	UsCfgRunStack *rs = run_stack(run, stack);
	for (guint i = 0; rs != NULL && i < rs->drvq->len; i++) {
		const UsCfgIface *ci = rs->cfg->ifaces->pdata[i];
		if (strcmp(ci->name, iface) == 0)
			return rs->drvq->pdata[i];
	}
	return NULL;
}

UsStack *
us_cfg_run_stack(UsCfgRun *run, const char *name)
{
	UsCfgRunStack *rs = run_stack(run, name);
	return rs != NULL ? rs->stack : NULL;
}

int
us_cfg_run_ipfd(UsCfgRun *run, const char *stack)
{
	UsCfgRunStack *rs = run_stack(run, stack);
	return rs != NULL ? rs->ipfd : -1;
}

void
us_cfg_run_free(UsCfgRun *run)
{
	if (run == NULL)
		return;
	us_cfg_apps_free(run);
	for (guint i = 0; i < run->stacks->len; i++) {
		UsCfgRunStack *rs = run->stacks->pdata[i];
		if (rs->ipfd >= 0)
			us_close(rs->ipfd);
		g_ptr_array_free(rs->drvq, TRUE);
		g_free(rs);
	}
	g_ptr_array_free(run->stacks, TRUE);
	g_ptr_array_free(run->deferred, TRUE);
	us_world_free(run->world);
	g_free(run);
}

/* ------------------------------------------------------------------ */
/* Helpers shared with apps.c and run.c                               */
/* ------------------------------------------------------------------ */

const UsCfgWire *
us_cfg_find_wire(const UsCfg *cfg, const char *name)
{
	for (guint i = 0; name != NULL && i < cfg->wires->len; i++) {
		const UsCfgWire *w = cfg->wires->pdata[i];
		if (strcmp(w->name, name) == 0)
			return w;
	}
	return NULL;
}

void
us_cfg_defer_param(UsCfgRun *run, UsCfgRunStack *rs, queue_t *q, const UsCfgKv *kv)
{
	UsCfgDeferred *d = g_new0(UsCfgDeferred, 1);
	d->q = q;
	d->kv = kv;
	d->owner = rs->cfg->name;
	g_ptr_array_add(run->deferred, d);
}

gboolean
us_cfg_apply_deferred(UsCfgRun *run, GError **error)
{
	for (guint i = 0; i < run->deferred->len; i++) {
		UsCfgDeferred *d = run->deferred->pdata[i];
		if (!build_param(d->q, d->kv, d->owner, error))
			return FALSE;
	}
	return TRUE;
}
