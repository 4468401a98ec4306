/* SPDX-License-Identifier: MIT */
/*
 * model.c -- the configuration model's constructors and destructors, and the
 * error helper every part uses.
 *
 * A UsCfg owns everything reachable from it: each list is a GPtrArray with a
 * free function, so freeing the top frees the tree.  Locations point to
 * interned file names and are never freed.
 */

#include "cfg-internal.h"

GQuark
us_cfg_error_quark(void)
{
	return g_quark_from_static_string("us-cfg-error-quark");
}

void
us_cfg_error_at(GError **error, UsCfgErrorCode code, UsCfgLoc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	char *where = us_cfg_loc_string(loc);
	g_set_error(error, US_CFG_ERROR, (gint)code, "%s: %s", where, msg);
	g_free(where);
	g_free(msg);
}

UsCfgKv *
us_cfg_kv_new(const char *name, const char *value, UsCfgLoc loc)
{
	UsCfgKv *kv = g_new0(UsCfgKv, 1);
	kv->name = g_strdup(name);
	kv->value = g_strdup(value);
	kv->loc = loc;
	return kv;
}

void
us_cfg_kv_free(gpointer p)
{
	UsCfgKv *kv = p;
	g_free(kv->name);
	g_free(kv->value);
	g_free(kv);
}

UsCfgKv *
us_cfg_kv_find(GPtrArray *kvs, const char *name)
{
	for (guint i = 0; i < kvs->len; i++) {
		UsCfgKv *kv = kvs->pdata[i];
		if (kv->name != NULL && g_strcmp0(kv->name, name) == 0)
			return kv;
	}
	return NULL;
}

static GPtrArray *
model_kvs_new(void)
{
	return g_ptr_array_new_with_free_func(us_cfg_kv_free);
}

static void
model_module_free(gpointer p)
{
	UsCfgModule *m = p;
	g_free(m->name);
	g_ptr_array_unref(m->params);
	g_free(m);
}

UsCfgModule *
us_cfg_module_new(const char *name, UsCfgLoc loc)
{
	UsCfgModule *m = g_new0(UsCfgModule, 1);
	m->name = g_strdup(name);
	m->params = model_kvs_new();
	m->loc = loc;
	return m;
}

static void
model_iface_free(gpointer p)
{
	UsCfgIface *ifc = p;
	g_free(ifc->name);
	g_free(ifc->driver);
	g_free(ifc->driver_arg);
	g_ptr_array_unref(ifc->params);
	g_ptr_array_unref(ifc->modules);
	g_array_unref(ifc->addrs);
	g_free(ifc);
}

UsCfgIface *
us_cfg_iface_new(const char *name, UsCfgLoc loc)
{
	UsCfgIface *ifc = g_new0(UsCfgIface, 1);
	ifc->name = g_strdup(name);
	ifc->params = model_kvs_new();
	ifc->modules = g_ptr_array_new_with_free_func(model_module_free);
	ifc->addrs = g_array_new(FALSE, TRUE, sizeof(UsCfgAddr));
	ifc->loc = loc;
	return ifc;
}

static void
model_route_free(gpointer p)
{
	UsCfgRoute *r = p;
	g_free(r->dev);
	g_free(r);
}

static void
model_neighbor_free(gpointer p)
{
	UsCfgNeighbor *n = p;
	g_free(n->dev);
	g_free(n);
}

static void
model_set_free(gpointer p)
{
	UsCfgSet *s = p;
	g_free(s->module);
	g_ptr_array_unref(s->params);
	g_free(s);
}

UsCfgSet *
us_cfg_set_new(const char *module, UsCfgLoc loc)
{
	UsCfgSet *s = g_new0(UsCfgSet, 1);
	s->module = g_strdup(module);
	s->params = model_kvs_new();
	s->loc = loc;
	return s;
}

static void
model_transport_free(gpointer p)
{
	UsCfgTransport *t = p;
	g_free(t->driver);
	g_free(t);
}

UsCfgTransport *
us_cfg_transport_new(const char *driver, UsCfgLoc loc)
{
	UsCfgTransport *t = g_new0(UsCfgTransport, 1);
	t->driver = g_strdup(driver);
	t->loc = loc;
	return t;
}

static void
model_autopush_free(gpointer p)
{
	UsCfgAutopush *a = p;
	g_free(a->driver);
	g_ptr_array_unref(a->modules);
	g_array_unref(a->module_locs);
	g_free(a);
}

UsCfgAutopush *
us_cfg_autopush_new(const char *driver, UsCfgLoc loc)
{
	UsCfgAutopush *a = g_new0(UsCfgAutopush, 1);
	a->driver = g_strdup(driver);
	a->modules = g_ptr_array_new_with_free_func(g_free);
	a->module_locs = g_array_new(FALSE, TRUE, sizeof(UsCfgLoc));
	a->loc = loc;
	return a;
}

static void
model_app_free(gpointer p)
{
	UsCfgApp *a = p;
	g_free(a->name);
	g_ptr_array_unref(a->args);
	g_free(a);
}

UsCfgApp *
us_cfg_app_new(const char *name, UsCfgLoc loc)
{
	UsCfgApp *a = g_new0(UsCfgApp, 1);
	a->name = g_strdup(name);
	a->args = model_kvs_new();
	a->loc = loc;
	return a;
}

static void
model_stack_free(gpointer p)
{
	UsCfgStack *s = p;
	g_free(s->name);
	g_ptr_array_unref(s->ifaces);
	g_ptr_array_unref(s->routes);
	g_ptr_array_unref(s->neighbors);
	g_ptr_array_unref(s->sets);
	g_ptr_array_unref(s->transports);
	g_ptr_array_unref(s->autopush);
	g_ptr_array_unref(s->apps);
	g_free(s);
}

UsCfgStack *
us_cfg_stack_new(const char *name, UsCfgLoc loc)
{
	UsCfgStack *s = g_new0(UsCfgStack, 1);
	s->name = g_strdup(name);
	s->ifaces = g_ptr_array_new_with_free_func(model_iface_free);
	s->routes = g_ptr_array_new_with_free_func(model_route_free);
	s->neighbors = g_ptr_array_new_with_free_func(model_neighbor_free);
	s->sets = g_ptr_array_new_with_free_func(model_set_free);
	s->transports = g_ptr_array_new_with_free_func(model_transport_free);
	s->autopush = g_ptr_array_new_with_free_func(model_autopush_free);
	s->apps = g_ptr_array_new_with_free_func(model_app_free);
	s->forwarding = -1;
	s->loc = loc;
	return s;
}

static void
model_wire_free(gpointer p)
{
	UsCfgWire *w = p;
	g_free(w->name);
	g_ptr_array_unref(w->params);
	g_free(w);
}

UsCfgWire *
us_cfg_wire_new(const char *name, UsCfgLoc loc)
{
	UsCfgWire *w = g_new0(UsCfgWire, 1);
	w->name = g_strdup(name);
	w->params = model_kvs_new();
	w->loc = loc;
	return w;
}

UsCfg *
us_cfg_new(const char *file)
{
	UsCfg *cfg = g_new0(UsCfg, 1);
	cfg->file = g_strdup(file);
	cfg->world.clock = US_CLOCK_VIRTUAL;
	cfg->world.seed = 1;
	cfg->wires = g_ptr_array_new_with_free_func(model_wire_free);
	cfg->stacks = g_ptr_array_new_with_free_func(model_stack_free);
	cfg->files = g_ptr_array_new_with_free_func(g_free);
	return cfg;
}

void
us_cfg_free(UsCfg *cfg)
{
	if (cfg == NULL)
		return;
	g_free(cfg->file);
	g_ptr_array_unref(cfg->wires);
	g_ptr_array_unref(cfg->stacks);
	g_ptr_array_unref(cfg->files);
	g_free(cfg);
}
