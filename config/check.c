/* SPDX-License-Identifier: MIT */
/*
 * check.c -- the checks of a parsed configuration that need the registry.
 *
 * Every name the configuration gives a module or driver is looked up with
 * us_registry_lookup (which loads a plug-in from US_MODULE_PATH the first
 * time), and must be of the kind its place asks for:
 *
 *   interface "driver", transport, autopush driver   US_KIND_DRIVER or US_KIND_MUX
 *   push, autopush modules                            US_KIND_MODULE (I_PUSH-able)
 *   set MODULE                                        any kind (ip, udp, arp ...)
 *   wire blocks                                       the "wire" driver
 *
 * Every key=value names a parameter the descriptor declares, and its value
 * must convert (us_cfg_param_value: type, units, bounds).  Values whose
 * validity depends on an instance (a probability checked by an on_set hook,
 * a MAC string) are left to the builder.  Apps must be built-in ones with
 * their arguments valid (us_cfg_app_lookup below).
 *
 * The first problem ends the check; the message points at the name or the
 * key=value concerned.
 */

#include "cfg-internal.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Built-in apps                                                       */
/* ------------------------------------------------------------------ */

#define CHECK_PORT                                      \
	{                                               \
		"port", US_CFG_ARG_UINT, 1, 65535, NULL \
	}

static const UsCfgAppDesc check_apps[] = {
	{ "ping",
	  US_CFG_APP_POS_ADDR,
	  { { "count", US_CFG_ARG_UINT, 1, 1000000000, NULL },
	    { "interval", US_CFG_ARG_DURATION, 0, 0, NULL },
	    { "size", US_CFG_ARG_SIZE, 0, 65507, NULL },
	    { "ttl", US_CFG_ARG_UINT, 1, 255, NULL },
	    { "timeout", US_CFG_ARG_DURATION, 0, 0, NULL },
	    { NULL, 0, 0, 0, NULL } } },
	{ "udp-echo", US_CFG_APP_POS_NONE, { CHECK_PORT, { NULL, 0, 0, 0, NULL } } },
	{ "udp-send",
	  US_CFG_APP_POS_ENDPOINT,
	  { { "count", US_CFG_ARG_UINT, 1, 1000000000, NULL },
	    { "size", US_CFG_ARG_SIZE, 0, 65507, NULL },
	    { "interval", US_CFG_ARG_DURATION, 0, 0, NULL },
	    { "expect", US_CFG_ARG_CHOICE, 0, 0, "echo, none" },
	    { "retries", US_CFG_ARG_UINT, 0, 1000, NULL },
	    { "timeout", US_CFG_ARG_DURATION, 0, 0, NULL },
	    { NULL, 0, 0, 0, NULL } } },
	{ "tcp-sink", US_CFG_APP_POS_NONE, { CHECK_PORT, { NULL, 0, 0, 0, NULL } } },
	{ "tcp-source",
	  US_CFG_APP_POS_ENDPOINT,
	  { { "bytes", US_CFG_ARG_SIZE, 0, G_MAXINT64, NULL }, { NULL, 0, 0, 0, NULL } } },
	{ "http-server",
	  US_CFG_APP_POS_NONE,
	  { CHECK_PORT, { "root", US_CFG_ARG_STRING, 0, 0, NULL }, { NULL, 0, 0, 0, NULL } } },
};

const UsCfgAppDesc *
us_cfg_app_lookup(const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(check_apps); i++)
		if (strcmp(check_apps[i].name, name) == 0)
			return &check_apps[i];
	return NULL;
}

static char *
check_app_names(void)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < G_N_ELEMENTS(check_apps); i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "", check_apps[i].name);
	return g_string_free(s, FALSE);
}

static gboolean
check_choice(const char *choices, const char *v)
{
	char **c = g_strsplit(choices, ", ", -1);
	gboolean ok = g_strv_contains((const char *const *)c, v);
	g_strfreev(c);
	return ok;
}

/* The value of one app argument against its description. */
static gboolean
check_app_value(const UsCfgApp *app, const UsCfgAppArg *a, const UsCfgKv *kv, GError **error)
{
	guint64 u = 0;
	gint64 ns;
	const char *expect = NULL;
	switch (a->type) {
	case US_CFG_ARG_UINT:
		if (!us_cfg_parse_uint(kv->value, G_MAXUINT64, &u))
			expect = "a non-negative integer";
		break;
	case US_CFG_ARG_SIZE:
		if (!us_cfg_parse_size(kv->value, &u))
			expect = "a size: bytes, or a number with k M G T Ki Mi Gi Ti";
		break;
	case US_CFG_ARG_DURATION:
		if (!us_cfg_parse_duration(kv->value, &ns))
			expect = "a duration: a number and ns, us, ms, s, min or h";
		break;
	case US_CFG_ARG_CHOICE:
		if (!check_choice(a->choices, kv->value))
			expect = a->choices;
		break;
	case US_CFG_ARG_STRING: break;
	}
	if (expect != NULL) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, kv->loc, "app '%s': bad %s '%s' (%s)",
				app->name, a->name, kv->value, expect);
		return FALSE;
	}
	if ((a->type == US_CFG_ARG_UINT || a->type == US_CFG_ARG_SIZE) &&
	    (u < a->min || u > a->max)) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, kv->loc,
				"app '%s': %s %s out of range (%" G_GUINT64_FORMAT
				" to %" G_GUINT64_FORMAT ")",
				app->name, a->name, kv->value, a->min, a->max);
		return FALSE;
	}
	return TRUE;
}

static gboolean
check_app_positional(const UsCfgApp *app, const UsCfgAppDesc *d, const UsCfgKv *kv, guint n,
		     GError **error)
{
	uint32_t addr;
	uint16_t port;
	if (d->positional == US_CFG_APP_POS_NONE || n > 0) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, kv->loc,
				"app '%s': unexpected argument '%s'", app->name, kv->value);
		return FALSE;
	}
	if (d->positional == US_CFG_APP_POS_ADDR && !us_cfg_parse_addr(kv->value, &addr)) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, kv->loc,
				"app '%s': bad destination '%s' (A.B.C.D)", app->name, kv->value);
		return FALSE;
	}
	if (d->positional == US_CFG_APP_POS_ENDPOINT &&
	    !us_cfg_parse_endpoint(kv->value, &addr, &port)) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, kv->loc,
				"app '%s': bad destination '%s' (A.B.C.D:PORT)", app->name,
				kv->value);
		return FALSE;
	}
	return TRUE;
}

static const UsCfgAppArg *
check_app_arg(const UsCfgAppDesc *d, const char *name)
{
	for (const UsCfgAppArg *a = d->args; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static gboolean
check_app_unknown_arg(const UsCfgApp *app, const UsCfgAppDesc *d, const UsCfgKv *kv, GError **error)
{
	GString *names = g_string_new(NULL);
	for (const UsCfgAppArg *a = d->args; a->name != NULL; a++)
		g_string_append_printf(names, "%s%s=", names->len ? ", " : "", a->name);
	us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, kv->loc,
			"app '%s' has no argument '%s' (it takes %s)", app->name, kv->name,
			names->len ? names->str : "none");
	g_string_free(names, TRUE);
	return FALSE;
}

static gboolean
check_app(const UsCfgApp *app, GError **error)
{
	const UsCfgAppDesc *d = us_cfg_app_lookup(app->name);
	guint npos = 0;
	if (d == NULL) {
		char *known = check_app_names();
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, app->loc,
				"unknown app '%s' (known: %s)", app->name, known);
		g_free(known);
		return FALSE;
	}
	for (guint i = 0; i < app->args->len; i++) {
		const UsCfgKv *kv = app->args->pdata[i];
		const UsCfgAppArg *a = kv->name != NULL ? check_app_arg(d, kv->name) : NULL;
		if (kv->name == NULL ? !check_app_positional(app, d, kv, npos++, error)
		    : a == NULL      ? !check_app_unknown_arg(app, d, kv, error)
				     : !check_app_value(app, a, kv, error))
			return FALSE;
	}
	if (d->positional != US_CFG_APP_POS_NONE && npos == 0) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, app->loc,
				"app '%s' needs a destination (%s)", app->name,
				d->positional == US_CFG_APP_POS_ADDR ? "A.B.C.D" : "A.B.C.D:PORT");
		return FALSE;
	}
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Modules, drivers and their parameters                               */
/* ------------------------------------------------------------------ */

static const char *
check_kind_name(UsKind kind)
{
	switch (kind) {
	case US_KIND_MODULE: return "a module";
	case US_KIND_DRIVER: return "a driver";
	case US_KIND_MUX: return "a multiplexing driver";
	}
	return "of an unknown kind";
}

/* Looks name up; want_module: it must be I_PUSH-able, else a driver. */
static const UsModuleDesc *
check_lookup(const char *name, gboolean want_module, const char *role, UsCfgLoc loc, GError **error)
{
	GError *lerr = NULL;
	const UsModuleDesc *d = us_registry_lookup(name, &lerr);
	if (d == NULL) {
		if (g_error_matches(lerr, US_ERROR, US_ERROR_NOT_FOUND))
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, loc, "unknown %s '%s'",
					want_module ? "module" : "driver", name);
		else
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, loc, "cannot load '%s': %s",
					name, lerr->message);
		g_clear_error(&lerr);
		return NULL;
	}
	gboolean is_module = d->kind == US_KIND_MODULE;
	if (is_module != want_module) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, loc, "'%s' is %s, not %s (%s)", name,
				check_kind_name(d->kind), want_module ? "a module" : "a driver",
				role);
		return NULL;
	}
	return d;
}

static const UsParamDesc *
check_find_param(const UsModuleDesc *d, const char *name)
{
	for (const UsParamDesc *p = d->params; p != NULL && p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static void
check_unknown_param(const UsModuleDesc *d, const UsCfgKv *kv, GError **error)
{
	GString *names = g_string_new(NULL);
	for (const UsParamDesc *p = d->params; p != NULL && p->name != NULL; p++)
		g_string_append_printf(names, "%s%s", names->len ? ", " : "", p->name);
	us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, kv->loc,
			"'%s' has no parameter '%s' (parameters: %s)", d->name, kv->name,
			names->len ? names->str : "none");
	g_string_free(names, TRUE);
}

/* Every key=value of kvs is a parameter of d with a valid value. */
static gboolean
check_params(const UsModuleDesc *d, GPtrArray *kvs, GError **error)
{
	for (guint i = 0; i < kvs->len; i++) {
		const UsCfgKv *kv = kvs->pdata[i];
		const UsParamDesc *p = check_find_param(d, kv->name);
		GError *verr = NULL;
		if (p == NULL) {
			check_unknown_param(d, kv, error);
			return FALSE;
		}
		char *v = us_cfg_param_value(p, kv->value, &verr);
		if (v == NULL) {
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, kv->loc,
					"%s parameter '%s': %s", d->name, kv->name, verr->message);
			g_error_free(verr);
			return FALSE;
		}
		g_free(v);
	}
	return TRUE;
}

static gboolean
check_wires(const UsCfg *cfg, GError **error)
{
	for (guint i = 0; i < cfg->wires->len; i++) {
		const UsCfgWire *w = cfg->wires->pdata[i];
		const UsModuleDesc *d =
			check_lookup("wire", FALSE, "for wire blocks", w->loc, error);
		const UsCfgKv *name = us_cfg_kv_find(w->params, "name");
		if (d == NULL)
			return FALSE;
		if (name != NULL) {
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, name->loc,
					"wire parameter 'name' is the wire block's name");
			return FALSE;
		}
		if (!check_params(d, w->params, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
check_iface(const UsCfgIface *ifc, GError **error)
{
	const UsModuleDesc *d =
		check_lookup(ifc->driver, FALSE, "interfaces open drivers", ifc->driver_loc, error);
	if (d == NULL || !check_params(d, ifc->params, error))
		return FALSE;
	for (guint i = 0; i < ifc->modules->len; i++) {
		const UsCfgModule *m = ifc->modules->pdata[i];
		d = check_lookup(m->name, TRUE, "push takes modules", m->loc, error);
		if (d == NULL || !check_params(d, m->params, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
check_set(const UsCfgSet *set, GError **error)
{
	GError *lerr = NULL;
	const UsModuleDesc *d = us_registry_lookup(set->module, &lerr);
	if (d == NULL) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, set->loc, "unknown module '%s'",
				set->module);
		g_error_free(lerr);
		return FALSE;
	}
	return check_params(d, set->params, error);
}

static gboolean
check_autopush(const UsCfgAutopush *ap, GError **error)
{
	if (check_lookup(ap->driver, FALSE, "autopush names a driver", ap->loc, error) == NULL)
		return FALSE;
	for (guint i = 0; i < ap->modules->len; i++)
		if (check_lookup(ap->modules->pdata[i], TRUE, "autopush lists modules",
				 g_array_index(ap->module_locs, UsCfgLoc, i), error) == NULL)
			return FALSE;
	return TRUE;
}

static gboolean
check_stack(const UsCfgStack *s, GError **error)
{
	for (guint i = 0; i < s->ifaces->len; i++)
		if (!check_iface(s->ifaces->pdata[i], error))
			return FALSE;
	for (guint i = 0; i < s->sets->len; i++)
		if (!check_set(s->sets->pdata[i], error))
			return FALSE;
	for (guint i = 0; i < s->transports->len; i++) {
		const UsCfgTransport *t = s->transports->pdata[i];
		if (check_lookup(t->driver, FALSE, "transports are drivers", t->loc, error) == NULL)
			return FALSE;
	}
	for (guint i = 0; i < s->autopush->len; i++)
		if (!check_autopush(s->autopush->pdata[i], error))
			return FALSE;
	for (guint i = 0; i < s->apps->len; i++)
		if (!check_app(s->apps->pdata[i], error))
			return FALSE;
	return TRUE;
}

gboolean
us_cfg_check(const UsCfg *cfg, GError **error)
{
	g_return_val_if_fail(cfg != NULL, FALSE);
	if (!check_wires(cfg, error))
		return FALSE;
	for (guint i = 0; i < cfg->stacks->len; i++)
		if (!check_stack(cfg->stacks->pdata[i], error))
			return FALSE;
	return TRUE;
}
