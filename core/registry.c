/* SPDX-License-Identifier: MIT */
/*
 * registry.c -- the process-wide registry of modules, drivers and
 * multiplexors; the plug-in loader; parameters, statistics and drops.
 *
 * Theory
 * ------
 * The registry maps a name to a static UsModuleDesc.  Drivers get a major
 * number (their index + 1) so that dev_t values mean something.  It is
 * protected by a mutex because stacks on different worlds (threads) look
 * names up; descriptors are immutable once registered.
 *
 * Plug-ins: looking up an unknown name searches, in order, every directory
 * of $US_MODULE_PATH and then US_MODULEDIR (the install directory) for
 * NAME.so, opens it with GModule, reads the symbol `us_plugin_descs` (a NULL
 * terminated array of descriptor pointers), checks each descriptor's ABI
 * version and registers them.  Objects stay loaded for the life of the
 * process (descriptors point into them).
 *
 * Parameters and statistics are located by offset in the instance state that
 * the read queue's q_ptr points to (see registry.h).  Drops are counted per
 * stack, per module, per reason (us_drop).
 */
#define G_LOG_DOMAIN "us-registry"

#include "internal.h"

#include <ustreams/probes.h>

#include <errno.h>
#include <gmodule.h>
#include <stdlib.h>
#include <string.h>

#ifndef US_MODULEDIR
#define US_MODULEDIR "/usr/local/lib/ustreams/modules"
#endif

static GMutex reg_lock;
static GHashTable *reg_by_name; /* name -> desc */
static GPtrArray *reg_majors;   /* index major-1 -> desc (drivers) */

G_DEFINE_QUARK(us - error - quark, us_error)

static void
reg_init_tables(void)
{
	reg_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	reg_majors = g_ptr_array_new();
}

void
us_init(void)
{
	static gsize done = 0;
	if (g_once_init_enter(&done)) {
		reg_init_tables();
		us__registry_register_builtins();
		g_once_init_leave(&done, 1);
	}
}

static gboolean
desc_valid(const UsModuleDesc *d, GError **error)
{
	const char *why = NULL;
	if (d->abi_version != US_ABI_VERSION)
		g_set_error(error, US_ERROR, US_ERROR_ABI,
			    "%s: built for ABI version %u, this library has %u",
			    d->name ? d->name : "(unnamed)", d->abi_version, US_ABI_VERSION);
	else if (d->name == NULL || d->name[0] == '\0')
		why = "no name";
	else if (d->streamtab == NULL || d->streamtab->st_rdinit == NULL ||
		 d->streamtab->st_wrinit == NULL)
		why = "no streamtab";
	else if (d->streamtab->st_rdinit->qi_qopen == NULL)
		why = "no open routine";
	else if (d->kind == US_KIND_MUX &&
		 (d->streamtab->st_muxrinit == NULL || d->streamtab->st_muxwinit == NULL))
		why = "multiplexor without st_muxrinit/st_muxwinit";
	else if (d->kind < US_KIND_MODULE || d->kind > US_KIND_MUX)
		why = "unknown kind";
	else
		return TRUE;
	if (why != NULL)
		g_set_error(error, US_ERROR, US_ERROR_INVALID, "%s: %s",
			    d->name ? d->name : "(unnamed)", why);
	return FALSE;
}

static gboolean
add_locked(const UsModuleDesc *d, GError **error)
{
	const UsModuleDesc *old = g_hash_table_lookup(reg_by_name, d->name);
	if (old == d)
		return TRUE;
	if (old != NULL) {
		g_set_error(error, US_ERROR, US_ERROR_EXISTS, "%s is already registered", d->name);
		return FALSE;
	}
	g_hash_table_insert(reg_by_name, (gpointer)d->name, (gpointer)d);
	if (d->kind != US_KIND_MODULE)
		g_ptr_array_add(reg_majors, (gpointer)d);
	return TRUE;
}

gboolean
us__registry_add(const UsModuleDesc *desc, GError **error)
{
	if (!desc_valid(desc, error))
		return FALSE;
	g_mutex_lock(&reg_lock);
	gboolean ok = add_locked(desc, error);
	g_mutex_unlock(&reg_lock);
	return ok;
}

gboolean
us_registry_add(const UsModuleDesc *desc, GError **error)
{
	us_init();
	return us__registry_add(desc, error);
}

static int
register_classic(const struct streamtab *st, UsKind kind)
{
	if (st == NULL || st->st_rdinit == NULL || st->st_rdinit->qi_minfo == NULL)
		return EINVAL;
	UsModuleDesc *d = g_new0(UsModuleDesc, 1); /* lives as long as the process */
	d->abi_version = US_ABI_VERSION;
	d->name = g_strdup(st->st_rdinit->qi_minfo->mi_idname);
	d->summary = "registered from a classic streamtab";
	d->kind = kind;
	d->streamtab = st;
	GError *error = NULL;
	if (!us_registry_add(d, &error)) {
		int err = error->code == US_ERROR_EXISTS ? EEXIST : EINVAL;
		g_error_free(error);
		g_free((char *)d->name);
		g_free(d);
		return err;
	}
	return 0;
}

int
us_register_module(const struct streamtab *st)
{
	return register_classic(st, US_KIND_MODULE);
}

int
us_register_driver(const struct streamtab *st, UsKind kind)
{
	if (kind != US_KIND_DRIVER && kind != US_KIND_MUX)
		return EINVAL;
	return register_classic(st, kind);
}

const UsModuleDesc *
us_registry_find(const char *name)
{
	us_init();
	g_mutex_lock(&reg_lock);
	const UsModuleDesc *d = g_hash_table_lookup(reg_by_name, name);
	g_mutex_unlock(&reg_lock);
	return d;
}

/* ------------------------------------------------------------------ */
/* Plug-ins                                                           */
/* ------------------------------------------------------------------ */

/* Registers every descriptor of a plug-in or none: names are checked
 * against the registry first, under the lock. */
static gboolean
register_plugin(GModule *mod, const char *path, const UsModuleDesc *const *descs, GError **error)
{
	g_mutex_lock(&reg_lock);
	for (guint i = 0; descs[i] != NULL; i++) {
		const UsModuleDesc *old = g_hash_table_lookup(reg_by_name, descs[i]->name);
		if (old != NULL && old != descs[i]) {
			g_mutex_unlock(&reg_lock);
			g_set_error(error, US_ERROR, US_ERROR_EXISTS,
				    "%s: %s is already registered", path, descs[i]->name);
			g_module_close(mod);
			return FALSE;
		}
	}
	for (guint i = 0; descs[i] != NULL; i++)
		add_locked(descs[i], NULL);
	g_mutex_unlock(&reg_lock);
	g_module_make_resident(mod);
	return TRUE;
}

gboolean
us_registry_load_file(const char *path, GError **error)
{
	us_init();
	GModule *mod = g_module_open(path, G_MODULE_BIND_LOCAL);
	if (mod == NULL) {
		g_set_error(error, US_ERROR, US_ERROR_LOAD, "cannot load %s: %s", path,
			    g_module_error());
		return FALSE;
	}
	gpointer sym = NULL;
	if (!g_module_symbol(mod, "us_plugin_descs", &sym) || sym == NULL) {
		g_set_error(error, US_ERROR, US_ERROR_SYMBOL, "%s does not export us_plugin_descs",
			    path);
		g_module_close(mod);
		return FALSE;
	}
	const UsModuleDesc *const *descs = sym;
	for (guint i = 0; descs[i] != NULL; i++) {
		if (!desc_valid(descs[i], error)) {
			g_prefix_error(error, "%s: ", path);
			g_module_close(mod);
			return FALSE;
		}
	}
	return register_plugin(mod, path, descs, error);
}

/* Directories searched for plug-ins, in order (g_strfreev). */
static char **
search_path(void)
{
	GPtrArray *dirs = g_ptr_array_new();
	const char *env = g_getenv("US_MODULE_PATH");
	char **parts = env ? g_strsplit(env, ":", -1) : NULL;
	for (guint i = 0; parts && parts[i]; i++)
		if (parts[i][0] != '\0')
			g_ptr_array_add(dirs, g_strdup(parts[i]));
	g_strfreev(parts);
	g_ptr_array_add(dirs, g_strdup(US_MODULEDIR));
	g_ptr_array_add(dirs, NULL);
	return (char **)g_ptr_array_free(dirs, FALSE);
}

static gboolean
name_is_safe(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL;
}

const UsModuleDesc *
us_registry_lookup(const char *name, GError **error)
{
	const UsModuleDesc *d = us_registry_find(name);
	if (d != NULL)
		return d;
	if (!name_is_safe(name)) {
		g_set_error(error, US_ERROR, US_ERROR_NOT_FOUND, "no module or driver named %s",
			    name);
		return NULL;
	}
	char **dirs = search_path();
	char *file = g_strconcat(name, ".so", NULL);
	for (guint i = 0; dirs[i] && d == NULL; i++) {
		char *path = g_build_filename(dirs[i], file, NULL);
		if (g_file_test(path, G_FILE_TEST_EXISTS)) {
			if (!us_registry_load_file(path, error)) {
				g_free(path);
				break;
			}
			d = us_registry_find(name);
			if (d == NULL)
				g_set_error(error, US_ERROR, US_ERROR_NOT_FOUND,
					    "%s loaded but does not provide %s", path, name);
			g_free(path);
			break;
		}
		g_free(path);
	}
	if (d == NULL && error != NULL && *error == NULL)
		g_set_error(error, US_ERROR, US_ERROR_NOT_FOUND,
			    "no module or driver named %s (searched US_MODULE_PATH and %s)", name,
			    US_MODULEDIR);
	g_free(file);
	g_strfreev(dirs);
	return d;
}

static gint
cmp_desc(gconstpointer a, gconstpointer b)
{
	const UsModuleDesc *x = *(const UsModuleDesc **)a, *y = *(const UsModuleDesc **)b;
	return strcmp(x->name, y->name);
}

GPtrArray *
us_registry_list(void)
{
	us_init();
	GPtrArray *out = g_ptr_array_new();
	g_mutex_lock(&reg_lock);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, reg_by_name);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(out, v);
	g_mutex_unlock(&reg_lock);
	g_ptr_array_sort(out, cmp_desc);
	return out;
}

GPtrArray *
us_registry_scan_plugins(GError **error)
{
	GPtrArray *found = g_ptr_array_new();
	char **dirs = search_path();
	for (guint i = 0; dirs[i]; i++) {
		GDir *dir = g_dir_open(dirs[i], 0, NULL);
		const char *f;
		while (dir && (f = g_dir_read_name(dir)) != NULL) {
			if (!g_str_has_suffix(f, ".so"))
				continue;
			char *name = g_strndup(f, strlen(f) - 3);
			const UsModuleDesc *d = us_registry_lookup(name, error);
			g_free(name);
			if (d == NULL) {
				g_dir_close(dir);
				g_strfreev(dirs);
				g_ptr_array_free(found, TRUE);
				return NULL;
			}
			g_ptr_array_add(found, (gpointer)d);
		}
		if (dir)
			g_dir_close(dir);
	}
	g_strfreev(dirs);
	return found;
}

guint
us_registry_major(const UsModuleDesc *desc)
{
	us_init();
	g_mutex_lock(&reg_lock);
	guint major = 0;
	for (guint i = 0; i < reg_majors->len; i++)
		if (reg_majors->pdata[i] == desc)
			major = i + 1;
	g_mutex_unlock(&reg_lock);
	return major;
}

const UsModuleDesc *
us_registry_by_major(guint major)
{
	us_init();
	g_mutex_lock(&reg_lock);
	const UsModuleDesc *d =
		major >= 1 && major <= reg_majors->len ? reg_majors->pdata[major - 1] : NULL;
	g_mutex_unlock(&reg_lock);
	return d;
}

/* ------------------------------------------------------------------ */
/* Parameters and statistics                                          */
/* ------------------------------------------------------------------ */

static const UsParamDesc *
find_param(queue_t *q, const char *name, GError **error)
{
	const UsModuleDesc *d = us_queue_desc(q);
	for (const UsParamDesc *p = d ? d->params : NULL; p && p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	g_set_error(error, US_ERROR, US_ERROR_NOT_FOUND, "%s has no parameter %s",
		    d ? d->name : "this queue", name);
	return NULL;
}

static gboolean
parse_int(const UsParamDesc *p, const char *value, gint64 *out, GError **error)
{
	char *end = NULL;
	errno = 0;
	gint64 v = p->type == US_PARAM_UINT ? (gint64)g_ascii_strtoull(value, &end, 0)
					    : g_ascii_strtoll(value, &end, 0);
	if (errno != 0 || end == value || *end != '\0' ||
	    (p->type == US_PARAM_UINT && value[0] == '-')) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID, "%s: '%s' is not %s number", p->name,
			    value, p->type == US_PARAM_UINT ? "an unsigned" : "a");
		return FALSE;
	}
	if (v < p->min || (p->max != 0 && v > p->max)) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID,
			    "%s: %s is out of range [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
			    p->name, value, p->min, p->max);
		return FALSE;
	}
	*out = v;
	return TRUE;
}

static gboolean
parse_bool(const char *value, gboolean *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on", NULL };
	static const char *const no[] = { "0", "false", "no", "off", NULL };
	for (guint i = 0; yes[i]; i++)
		if (g_ascii_strcasecmp(value, yes[i]) == 0)
			return (*out = TRUE);
	for (guint i = 0; no[i]; i++)
		if (g_ascii_strcasecmp(value, no[i]) == 0)
			return !(*out = FALSE);
	return FALSE;
}

/* Stores the parsed value into field; the old bytes are kept in `old`. */
static gboolean
store_param(const UsParamDesc *p, guint8 *field, const char *value, GError **error)
{
	gint64 iv;
	gboolean bv;
	double dv;
	char *end;
	switch (p->type) {
	case US_PARAM_INT:
	case US_PARAM_UINT:
		if (!parse_int(p, value, &iv, error))
			return FALSE;
		memcpy(field, &iv, sizeof(iv));
		return TRUE;
	case US_PARAM_BOOL:
		if (!parse_bool(value, &bv)) {
			g_set_error(error, US_ERROR, US_ERROR_INVALID, "%s: '%s' is not a boolean",
				    p->name, value);
			return FALSE;
		}
		memcpy(field, &bv, sizeof(bv));
		return TRUE;
	case US_PARAM_DOUBLE:
		dv = g_ascii_strtod(value, &end);
		if (end == value || *end != '\0') {
			g_set_error(error, US_ERROR, US_ERROR_INVALID, "%s: '%s' is not a number",
				    p->name, value);
			return FALSE;
		}
		memcpy(field, &dv, sizeof(dv));
		return TRUE;
	case US_PARAM_STRING: {
		char *s = g_strdup(value);
		memcpy(field, &s, sizeof(s));
		return TRUE;
	}
	}
	return FALSE;
}

static size_t
param_size(const UsParamDesc *p)
{
	switch (p->type) {
	case US_PARAM_BOOL: return sizeof(gboolean);
	case US_PARAM_DOUBLE: return sizeof(double);
	case US_PARAM_STRING: return sizeof(char *);
	default: return sizeof(gint64);
	}
}

gboolean
us_param_set(queue_t *q, const char *name, const char *value, GError **error)
{
	const UsParamDesc *p = find_param(q, name, error);
	guint8 *state = RD(q)->q_ptr;
	if (p == NULL)
		return FALSE;
	if (state == NULL) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID, "%s: instance has no state", name);
		return FALSE;
	}
	guint8 old[sizeof(double) > sizeof(gint64) ? sizeof(double) : sizeof(gint64)];
	size_t sz = param_size(p);
	memcpy(old, state + p->offset, sz);
	if (!store_param(p, state + p->offset, value, error))
		return FALSE;
	if (p->on_set != NULL && !p->on_set(RD(q), p, error)) {
		if (p->type == US_PARAM_STRING)
			g_free(*(char **)(state + p->offset));
		memcpy(state + p->offset, old, sz);
		return FALSE;
	}
	if (p->type == US_PARAM_STRING)
		g_free(*(char **)old);
	return TRUE;
}

char *
us_param_get(queue_t *q, const char *name, GError **error)
{
	const UsParamDesc *p = find_param(q, name, error);
	guint8 *state = RD(q)->q_ptr;
	if (p == NULL)
		return NULL;
	if (state == NULL) {
		g_set_error(error, US_ERROR, US_ERROR_INVALID, "%s: instance has no state", name);
		return NULL;
	}
	guint8 *f = state + p->offset;
	switch (p->type) {
	case US_PARAM_INT: return g_strdup_printf("%" G_GINT64_FORMAT, *(gint64 *)f);
	case US_PARAM_UINT: return g_strdup_printf("%" G_GUINT64_FORMAT, *(guint64 *)f);
	case US_PARAM_BOOL: return g_strdup(*(gboolean *)f ? "true" : "false");
	case US_PARAM_DOUBLE: {
		char buf[G_ASCII_DTOSTR_BUF_SIZE];
		return g_strdup(g_ascii_dtostr(buf, sizeof buf, *(double *)f));
	}
	case US_PARAM_STRING: return g_strdup(*(char **)f ? *(char **)f : "");
	}
	return NULL;
}

gboolean
us_stat_get(queue_t *q, const char *name, guint64 *value)
{
	const UsModuleDesc *d = us_queue_desc(q);
	guint8 *state = RD(q)->q_ptr;
	for (const UsStatDesc *s = d ? d->stats : NULL; s && s->name && state; s++) {
		if (strcmp(s->name, name) == 0) {
			memcpy(value, state + s->offset, sizeof(guint64));
			return TRUE;
		}
	}
	return FALSE;
}

/* ------------------------------------------------------------------ */
/* Drops                                                              */
/* ------------------------------------------------------------------ */

static const char *
drop_module_name(queue_t *q)
{
	const UsModuleDesc *d = us_queue_desc(q);
	if (d != NULL)
		return d->name;
	struct module_info *mi = q->q_qinfo->qi_minfo;
	return mi && mi->mi_idname ? mi->mi_idname : "head";
}

static const char *
drop_reason_name(queue_t *q, guint reason)
{
	const UsModuleDesc *d = us_queue_desc(q);
	if (reason == US_DROP_UNHANDLED)
		return "unhandled message";
	for (guint i = 0; d && d->drop_reasons && d->drop_reasons[i]; i++)
		if (i == reason)
			return d->drop_reasons[i];
	return "unhandled message"; /* counted in the same slot as US_DROP_UNHANDLED */
}

/* Index of a reason in the per-module counter array (unhandled goes last
 * of the declared reasons, at slot n). */
static guint
drop_slot(queue_t *q, guint reason)
{
	const UsModuleDesc *d = us_queue_desc(q);
	guint n = 0;
	while (d && d->drop_reasons && d->drop_reasons[n])
		n++;
	return reason == US_DROP_UNHANDLED || reason >= n ? n : reason;
}

static inline const char *
drop_stack_name(queue_t *q)
{
	UsStack *s = us_queue_stack(q);
	return s != NULL ? us_stack_name(s) : "";
}

/* streams:::drop (docs/probes.md), before mp is freed. */
static inline void
drop_probe(queue_t *q, const mblk_t *mp, guint reason)
{
	US_PROBE6(streams, drop, drop_module_name(q), drop_reason_name(q, reason), reason, q,
		  mp != NULL ? msgdsize(mp) : 0, drop_stack_name(q));
}

void
us_drop(queue_t *q, mblk_t *mp, guint reason)
{
	drop_probe(q, mp, reason);
	freemsg(mp);
	UsStack *s = us_queue_stack(q);
	if (s == NULL)
		return;
	const char *mod = drop_module_name(q);
	GArray *a = us__stack_drop_counters(s, mod, TRUE);
	guint slot = drop_slot(q, reason);
	if (a->len <= slot)
		g_array_set_size(a, slot + 1);
	guint64 *c = &g_array_index(a, guint64, slot);
	if ((*c)++ == 0)
		g_info("%s/%s: first drop: %s", us_stack_name(s), mod, drop_reason_name(q, reason));
}

guint64
us_drop_count(queue_t *q, guint reason)
{
	UsStack *s = us_queue_stack(q);
	GArray *a = s ? us__stack_drop_counters(s, drop_module_name(q), FALSE) : NULL;
	guint slot = drop_slot(q, reason);
	return a && slot < a->len ? g_array_index(a, guint64, slot) : 0;
}

guint64
us_stack_drop_count(UsStack *stack, const char *module, guint reason)
{
	GArray *a = us__stack_drop_counters(stack, module, FALSE);
	const UsModuleDesc *d = us_registry_find(module);
	guint n = 0;
	while (d && d->drop_reasons && d->drop_reasons[n])
		n++;
	guint slot = reason == US_DROP_UNHANDLED || reason >= n ? n : reason;
	return a && slot < a->len ? g_array_index(a, guint64, slot) : 0;
}

GHashTable *
us_stack_drops(UsStack *stack)
{
	GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, us__stack_drop_table(stack));
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const UsModuleDesc *d = us_registry_find(k);
		GArray *a = v;
		for (guint i = 0; i < a->len; i++) {
			guint64 n = g_array_index(a, guint64, i);
			if (n == 0)
				continue;
			const char *why = "unhandled message";
			if (d && d->drop_reasons) {
				guint m = 0;
				while (d->drop_reasons[m])
					m++;
				if (i < m)
					why = d->drop_reasons[i];
			}
			g_hash_table_insert(out, g_strdup_printf("%s %s", (char *)k, why),
					    g_memdup2(&n, sizeof n));
		}
	}
	return out;
}
