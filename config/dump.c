/* SPDX-License-Identifier: MIT */
/*
 * dump.c -- a model back to text, in canonical form.
 *
 * The dump is the effective configuration: includes expanded, the world's
 * defaults written out, and a fixed order (world, wires, stacks in the order
 * they were read; in a stack its interfaces, routes, neighbours, forwarding,
 * sets, transports, autopush lists, apps; in an interface its driver, driver
 * parameters, pushed modules, addresses, MTU).  Values are normalised:
 * addresses dotted, MACs in lower case, the world's duration and every
 * key=value or wire value written as a duration with a unit in ns
 * ("1ms" -> "1000000ns"), every size with a suffix in bytes ("4Ki" -> "4096");
 * strings are quoted only when they are not words.  Parsing a dump and
 * dumping again gives the same bytes (tests/config checks this).
 */

#include "cfg-internal.h"

#include <string.h>

/* A value: a word as it is, anything else as a quoted string. */
static void
dump_quoted(GString *out, const char *v)
{
	if (us_cfg_is_word(v)) {
		g_string_append(out, v);
		return;
	}
	g_string_append_c(out, '"');
	for (const char *p = v; *p; p++) {
		guchar c = (guchar)*p;
		if (c == '"' || c == '\\')
			g_string_append_printf(out, "\\%c", c);
		else if (c == '\n')
			g_string_append(out, "\\n");
		else if (c == '\t')
			g_string_append(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			g_string_append_printf(out, "\\x%02x", c);
		else
			g_string_append_c(out, (char)c);
	}
	g_string_append_c(out, '"');
}

/* A value with its duration or size units resolved. */
static void
dump_value(GString *out, const char *v)
{
	gint64 ns;
	guint64 bytes;
	if (us_cfg_is_duration_with_unit(v, &ns))
		g_string_append_printf(out, "%" G_GINT64_FORMAT "ns", ns);
	else if (us_cfg_is_size_with_suffix(v, &bytes))
		g_string_append_printf(out, "%" G_GUINT64_FORMAT, bytes);
	else
		dump_quoted(out, v);
}

/* " name=value" or " value" for each. */
static void
dump_kvs(GString *out, GPtrArray *kvs)
{
	for (guint i = 0; i < kvs->len; i++) {
		const UsCfgKv *kv = kvs->pdata[i];
		g_string_append_c(out, ' ');
		if (kv->name != NULL)
			g_string_append_printf(out, "%s=", kv->name);
		dump_value(out, kv->value);
	}
}

static void
dump_world(GString *out, const UsCfgWorld *w)
{
	g_string_append_printf(out,
			       "world {\n\tclock %s\n\tseed %" G_GUINT64_FORMAT
			       "\n\tduration %" G_GINT64_FORMAT "ns\n}\n",
			       w->clock == US_CLOCK_REAL ? "real" : "virtual", w->seed,
			       w->duration_ns);
}

static void
dump_wire(GString *out, const UsCfgWire *w)
{
	g_string_append_printf(out, "\nwire %s {\n", w->name);
	for (guint i = 0; i < w->params->len; i++) {
		const UsCfgKv *kv = w->params->pdata[i];
		g_string_append_printf(out, "\t%s ", kv->name);
		dump_value(out, kv->value);
		g_string_append_c(out, '\n');
	}
	g_string_append(out, "}\n");
}

static void
dump_iface(GString *out, const UsCfgIface *ifc)
{
	char buf[16];
	g_string_append_printf(out, "\tinterface %s {\n\t\tdriver %s", ifc->name, ifc->driver);
	if (ifc->driver_arg != NULL) {
		g_string_append_c(out, ' ');
		dump_quoted(out, ifc->driver_arg);
	}
	g_string_append_c(out, '\n');
	for (guint i = 0; i < ifc->params->len; i++) {
		const UsCfgKv *kv = ifc->params->pdata[i];
		g_string_append_printf(out, "\t\tparam %s ", kv->name);
		dump_value(out, kv->value);
		g_string_append_c(out, '\n');
	}
	for (guint i = 0; i < ifc->modules->len; i++) {
		const UsCfgModule *m = ifc->modules->pdata[i];
		g_string_append_printf(out, "\t\tpush %s", m->name);
		dump_kvs(out, m->params);
		g_string_append_c(out, '\n');
	}
	for (guint i = 0; i < ifc->addrs->len; i++) {
		const UsCfgAddr *a = &g_array_index(ifc->addrs, UsCfgAddr, i);
		g_string_append_printf(out, "\t\taddress %s/%u\n", us_cfg_format_addr(a->addr, buf),
				       a->plen);
	}
	if (ifc->mtu != 0)
		g_string_append_printf(out, "\t\tmtu %u\n", ifc->mtu);
	g_string_append(out, "\t}\n");
}

static void
dump_route(GString *out, const UsCfgRoute *r)
{
	char buf[16];
	if (r->dst == 0 && r->plen == 0)
		g_string_append(out, "\troute default");
	else
		g_string_append_printf(out, "\troute %s/%u", us_cfg_format_addr(r->dst, buf),
				       r->plen);
	if (r->gateway != 0)
		g_string_append_printf(out, " via %s", us_cfg_format_addr(r->gateway, buf));
	if (r->dev != NULL)
		g_string_append_printf(out, " dev %s", r->dev);
	if (r->metric != 0)
		g_string_append_printf(out, " metric %u", r->metric);
	if (r->mtu != 0)
		g_string_append_printf(out, " mtu %u", r->mtu);
	g_string_append_c(out, '\n');
}

static void
dump_neighbor(GString *out, const UsCfgNeighbor *n)
{
	char buf[16];
	const uint8_t *m = n->mac;
	g_string_append_printf(out, "\tneighbor %s lladdr %02x:%02x:%02x:%02x:%02x:%02x dev %s\n",
			       us_cfg_format_addr(n->addr, buf), m[0], m[1], m[2], m[3], m[4], m[5],
			       n->dev);
}

static void
dump_stack_rest(GString *out, const UsCfgStack *s)
{
	if (s->forwarding != -1)
		g_string_append_printf(out, "\tforwarding %s\n", s->forwarding ? "on" : "off");
	for (guint i = 0; i < s->sets->len; i++) {
		const UsCfgSet *set = s->sets->pdata[i];
		g_string_append_printf(out, "\tset %s", set->module);
		dump_kvs(out, set->params);
		g_string_append_c(out, '\n');
	}
	for (guint i = 0; i < s->transports->len; i++) {
		const UsCfgTransport *t = s->transports->pdata[i];
		const char *type = us_cfg_sock_type_name(t->sock_type);
		g_string_append_printf(out, "\ttransport %s", t->driver);
		if (t->sock_type != 0 && type != NULL)
			g_string_append_printf(out, " socket=%s protocol=%d", type, t->protocol);
		g_string_append_c(out, '\n');
	}
	for (guint i = 0; i < s->autopush->len; i++) {
		const UsCfgAutopush *ap = s->autopush->pdata[i];
		g_string_append_printf(out, "\tautopush %s", ap->driver);
		for (guint j = 0; j < ap->modules->len; j++)
			g_string_append_printf(out, " %s", (const char *)ap->modules->pdata[j]);
		g_string_append_c(out, '\n');
	}
	for (guint i = 0; i < s->apps->len; i++) {
		const UsCfgApp *app = s->apps->pdata[i];
		g_string_append_printf(out, "\tapp %s", app->name);
		dump_kvs(out, app->args);
		g_string_append_c(out, '\n');
	}
}

static void
dump_stack(GString *out, const UsCfgStack *s)
{
	g_string_append_printf(out, "\nstack %s {\n", s->name);
	for (guint i = 0; i < s->ifaces->len; i++)
		dump_iface(out, s->ifaces->pdata[i]);
	for (guint i = 0; i < s->routes->len; i++)
		dump_route(out, s->routes->pdata[i]);
	for (guint i = 0; i < s->neighbors->len; i++)
		dump_neighbor(out, s->neighbors->pdata[i]);
	dump_stack_rest(out, s);
	g_string_append(out, "}\n");
}

char *
us_cfg_dump(const UsCfg *cfg)
{
	g_return_val_if_fail(cfg != NULL, NULL);
	GString *out = g_string_new(NULL);
	dump_world(out, &cfg->world);
	for (guint i = 0; i < cfg->wires->len; i++)
		dump_wire(out, cfg->wires->pdata[i]);
	for (guint i = 0; i < cfg->stacks->len; i++)
		dump_stack(out, cfg->stacks->pdata[i]);
	return g_string_free(out, FALSE);
}
