/* SPDX-License-Identifier: MIT */
/*
 * splice.c -- pushing and popping modules on the interface streams of a
 * running configuration: what `ustreams push` / `ustreams pop` ask for over
 * the control socket (control.c), and the same as a library call.
 *
 * Theory
 * ------
 * An interface stream of a built config is linked under ip, so the stream
 * head refuses I_PUSH/I_POP on it (EINVAL); the splice goes through
 * us_stream_insert/us_stream_remove instead, which work on linked streams
 * and keep every message in flight, in order (core/stream.c).  The stream is
 * found from the interface's driver queue (us_cfg_run_iface_driver).
 *
 * A push names its position like the config language names modules, bottom
 * to top: "below=NAME" (between NAME and what is above it; "below=ip" is
 * between the top module and ip), "above=NAME" (NAME may be the driver:
 * just above it), "at=top" (the default: just below ip, as I_PUSH) or
 * "at=bottom" (just above the driver).  Other key=value words are the
 * module's parameters, converted as in a config file (units, sizes,
 * percentages: us_cfg_param_value).  They are all checked before the module
 * is inserted; one its on_set hook still refuses takes the module out again,
 * so a failed push leaves the stream as it was.  Insert and parameters run
 * in one turn of the world thread, so no message passes the module before it
 * has its parameters.
 *
 * The control protocol is one line per connection, so requests are words
 * separated by blanks: no quoting (values with spaces cannot be given).
 */
#define G_LOG_DOMAIN "us-config"

#include "cfg-build.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Finding things                                                     */
/* ------------------------------------------------------------------ */

static UsStream *
splice_stream(UsCfgRun *run, const char *stack, const char *iface, GError **error)
{
	queue_t *dq = us_cfg_run_iface_driver(run, stack, iface);
	if (dq == NULL) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC,
			    "no interface %s on a stack %s", iface, stack);
		return NULL;
	}
	return us_queue_stream(dq);
}

static const UsParamDesc *
splice_param_desc(const UsModuleDesc *d, const char *name)
{
	for (const UsParamDesc *p = d->params; p != NULL && p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

char *
us_cfg_run_iface_modules(UsCfgRun *run, const char *stack, const char *iface)
{
	UsStream *st = splice_stream(run, stack, iface, NULL);
	if (st == NULL)
		return NULL;
	GString *s = g_string_new(NULL);
	const struct module_info *mi = us_stream_head_rq(st)->q_qinfo->qi_minfo;
	g_string_append(s, mi != NULL ? mi->mi_idname : "head");
	for (guint i = 0; i <= us_stream_depth(st); i++)
		g_string_append_printf(s, " > %s", us_stream_module_name(st, i));
	return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------------ */
/* Push and pop                                                       */
/* ------------------------------------------------------------------ */

/* Checks and converts "name=value" parameters of d; NULL + error. */
static GPtrArray *
splice_convert_params(const UsModuleDesc *d, const char *const *params, GError **error)
{
	GPtrArray *vals = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; params != NULL && params[i] != NULL; i++) {
		const char *eq = strchr(params[i], '=');
		char *name = eq != NULL ? g_strndup(params[i], (gsize)(eq - params[i])) : NULL;
		const UsParamDesc *p = name != NULL ? splice_param_desc(d, name) : NULL;
		GError *e = NULL;
		char *v = p != NULL ? us_cfg_param_value(p, eq + 1, &e) : NULL;
		if (v == NULL) {
			const char *why = "expected name=value";
			if (e != NULL)
				why = e->message;
			else if (name != NULL)
				why = "no such parameter";
			g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC, "push %s %s: %s",
				    d->name, params[i], why);
			g_clear_error(&e);
			g_free(name);
			g_ptr_array_free(vals, TRUE);
			return NULL;
		}
		g_ptr_array_add(vals, name);
		g_ptr_array_add(vals, v);
	}
	return vals;
}

gboolean
us_cfg_run_push(UsCfgRun *run, const char *stack, const char *iface, const char *module,
		UsStreamWhere where, const char *ref, const char *const *params, GError **error)
{
	UsStream *st = splice_stream(run, stack, iface, error);
	const UsModuleDesc *d = st != NULL ? us_registry_lookup(module, error) : NULL;
	if (d == NULL)
		return FALSE;
	if (d->kind != US_KIND_MODULE) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC,
			    "push %s: a driver, not a module", module);
		return FALSE;
	}
	GPtrArray *vals = splice_convert_params(d, params, error);
	if (vals == NULL)
		return FALSE;
	queue_t *rq = NULL;
	GError *e = NULL;
	gboolean ok = us_stream_insert(st, module, where, ref, &rq, &e) == 0;
	for (guint i = 0; ok && i < vals->len; i += 2) {
		ok = us_param_set(rq, vals->pdata[i], vals->pdata[i + 1], &e);
		if (!ok)
			(void)us_stream_remove_queue(rq, NULL);
	}
	g_ptr_array_free(vals, TRUE);
	if (!ok) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_BUILD, "push %s on %s/%s: %s", module,
			    stack, iface, e->message);
		g_error_free(e);
	}
	return ok;
}

gboolean
us_cfg_run_pop(UsCfgRun *run, const char *stack, const char *iface, const char *module,
	       GError **error)
{
	UsStream *st = splice_stream(run, stack, iface, error);
	if (st == NULL)
		return FALSE;
	GError *e = NULL;
	if (us_stream_remove(st, module, &e) == 0)
		return TRUE;
	g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_BUILD, "pop %s on %s/%s: %s", module, stack,
		    iface, e != NULL ? e->message : "refused");
	g_clear_error(&e);
	return FALSE;
}

/* ------------------------------------------------------------------ */
/* Control requests                                                   */
/* ------------------------------------------------------------------ */

/* Takes a position word (below=, above=, at=) out of words; FALSE + error if
 * one is malformed or there are two. */
static gboolean
splice_position(GPtrArray *words, UsStreamWhere *where, const char **ref, GError **error)
{
	*where = US_STREAM_TOP;
	*ref = NULL;
	gboolean seen = FALSE;
	for (guint i = 0; i < words->len;) {
		const char *w = words->pdata[i];
		gboolean below = g_str_has_prefix(w, "below=");
		gboolean above = g_str_has_prefix(w, "above=");
		gboolean at = g_str_has_prefix(w, "at=");
		if (!below && !above && !at) {
			i++;
			continue;
		}
		const char *v = strchr(w, '=') + 1;
		if (seen || *v == '\0' ||
		    (at && strcmp(v, "top") != 0 && strcmp(v, "bottom") != 0)) {
			g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC,
				    "bad position '%s' (one of below=NAME, above=NAME, at=top, "
				    "at=bottom)",
				    w);
			return FALSE;
		}
		seen = TRUE;
		*where = below                   ? US_STREAM_BELOW
			 : above                 ? US_STREAM_ABOVE
			 : strcmp(v, "top") == 0 ? US_STREAM_TOP
						 : US_STREAM_BOTTOM;
		*ref = below || above ? v : NULL;
		g_ptr_array_remove_index(words, i);
	}
	return TRUE;
}

/* "push STACK IFACE MODULE [position] [k=v ...]" or "pop STACK IFACE
 * MODULE"; words[0] is the command. */
static char *
splice_command(UsCfgRun *run, GPtrArray *words, GError **error)
{
	gboolean push = strcmp(words->pdata[0], "push") == 0;
	if (words->len < 4 || (!push && words->len != 4)) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC,
			    push ? "usage: push STACK IFACE MODULE [below=NAME|above=NAME|at=top|"
				   "at=bottom] [name=value ...]"
				 : "usage: pop STACK IFACE MODULE");
		return NULL;
	}
	const char *stack = words->pdata[1], *iface = words->pdata[2], *module = words->pdata[3];
	gboolean ok;
	if (push) {
		GPtrArray *rest = g_ptr_array_new();
		for (guint i = 4; i < words->len; i++)
			g_ptr_array_add(rest, words->pdata[i]);
		UsStreamWhere where;
		const char *ref;
		ok = splice_position(rest, &where, &ref, error);
		g_ptr_array_add(rest, NULL);
		ok = ok && us_cfg_run_push(run, stack, iface, module, where, ref,
					   (const char *const *)rest->pdata, error);
		g_ptr_array_free(rest, TRUE);
	} else {
		ok = us_cfg_run_pop(run, stack, iface, module, error);
	}
	if (!ok)
		return NULL;
	char *mods = us_cfg_run_iface_modules(run, stack, iface);
	char *reply = g_strdup_printf("ok: %s %s: %s\n", stack, iface, mods);
	g_free(mods);
	return reply;
}

char *
us_cfg_control_request(UsCfgRun *run, const char *line, GError **error)
{
	GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
	char **parts = g_strsplit_set(line, " \t", -1);
	for (guint i = 0; parts[i] != NULL; i++)
		if (parts[i][0] != '\0')
			g_ptr_array_add(words, g_strdup(parts[i]));
	g_strfreev(parts);
	char *text;
	if (words->len > 0 &&
	    (strcmp(words->pdata[0], "push") == 0 || strcmp(words->pdata[0], "pop") == 0))
		text = splice_command(run, words, error);
	else
		text = us_cfg_report(run, line, error);
	g_ptr_array_free(words, TRUE);
	return text;
}
