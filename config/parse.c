/* SPDX-License-Identifier: MIT */
/*
 * parse.c -- from text to a UsCfg model: the grammar of the stack
 * description language and the checks that need no registry.
 *
 * Theory.  A file is a sequence of statements; a statement is a keyword, its
 * arguments (words, strings, key=value pairs) and, for world, wire, stack and
 * interface, a block of inner statements in braces.  Statements end at a
 * newline, ';', or the '}' closing their block.  The parser reads one
 * statement's tokens at a time (read_stmt), looks its keyword up in the table
 * of the block it is in (CfgBlockDesc), and calls the statement's handler,
 * which validates the arguments and adds to the model.  Block handlers
 * recurse through parse_block with the inner table.  So the grammar lives in
 * the tables at the bottom and one small handler per statement:
 *
 *   file      = { stmt } ;
 *   stmt      = keyword { arg } [ "{" { stmt } "}" ] ( newline | ";" | "}" ) ;
 *   arg       = word | string | key "=" ( word | string ) ;
 *
 * The first error ends everything: the model built so far is freed and
 * nothing is returned (the builder never sees half a configuration).  Errors
 * point at the offending token; a missing argument points at the end of the
 * statement, where it should have been.
 *
 * Checks done here (no registry needed): every value (addresses, prefixes,
 * MACs, numbers, durations), duplicates (world, wires, stacks, interfaces in
 * a stack, addresses in a stack, routes, neighbours, parameters in one list,
 * statements that may appear once), references (interfaces naming wires,
 * which must be declared somewhere in the configuration and join at most two
 * ends; route and neighbour devices, which must be interfaces of the same
 * stack -- both resolved after the enclosing scope so order does not matter),
 * and includes (relative to the including file, no cycles, at most 16 deep;
 * an error inside an included file names the include sites).  check.c does
 * what needs the registry; dump.c writes the model back.
 */

#include "cfg-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One statement as read: its tokens and what ended it. */
typedef struct {
	GPtrArray *items;  /* UsCfgTok*: keyword first */
	UsCfgTokKind term; /* EOS, LBRACE (taken), RBRACE or EOF (left for the block) */
	UsCfgLoc term_loc; /* where the terminator is: a missing argument's place */
} CfgStmt;

typedef struct _CfgParser CfgParser;
typedef gboolean (*CfgStmtFn)(CfgParser *p, CfgStmt *st, GError **error);

typedef struct {
	const char *keyword;
	CfgStmtFn fn;
	gboolean block; /* takes { ... } */
} CfgStmtDesc;

typedef struct {
	const char *what;         /* for messages: "stack", "interface" ... */
	const CfgStmtDesc *stmts; /* keyword NULL ends */
	CfgStmtFn any;            /* a keyword not in stmts (wire parameters), or NULL */
} CfgBlockDesc;

/* A name to resolve once its scope is complete. */
typedef struct {
	char *name;
	UsCfgLoc loc;
	const UsCfgStack *stack; /* wire references: who refers */
	const UsCfgIface *iface;
} CfgRef;

struct _CfgParser {
	UsCfg *cfg;
	UsCfgLexer *lx;       /* the file being read */
	GPtrArray *incstack;  /* char*: canonical names of the files being read, top first */
	GPtrArray *wire_refs; /* CfgRef*: interfaces on wires, resolved at the end */
	GPtrArray *dev_refs;  /* CfgRef*: route/neighbor devices of the current stack */
	UsCfgWire *wire;      /* the wire block being read */
	UsCfgStack *stack;    /* the stack block being read */
	UsCfgIface *iface;    /* the interface block being read */
};

static const CfgBlockDesc parse_top_block, parse_world_block, parse_wire_block, parse_stack_block,
	parse_iface_block;

static gboolean parse_block(CfgParser *p, const CfgBlockDesc *bd, const UsCfgLoc *open,
			    GError **error);

static void
parse_ref_free(gpointer data)
{
	CfgRef *r = data;
	g_free(r->name);
	g_free(r);
}

static void
parse_ref_add(GPtrArray *refs, const char *name, UsCfgLoc loc, const UsCfgStack *stack,
	      const UsCfgIface *iface)
{
	CfgRef *r = g_new0(CfgRef, 1);
	r->name = g_strdup(name);
	r->loc = loc;
	r->stack = stack;
	r->iface = iface;
	g_ptr_array_add(refs, r);
}

static void
parse_tok_free(gpointer data)
{
	us_cfg_tok_clear(data);
	g_free(data);
}

/* ------------------------------------------------------------------ */
/* Statements and their arguments                                      */
/* ------------------------------------------------------------------ */

/* Reads the tokens of one statement up to its terminator. */
static gboolean
read_stmt(CfgParser *p, CfgStmt *st, GError **error)
{
	const UsCfgTok *next;
	for (;;) {
		if (!us_cfg_lex_peek(p->lx, &next, error))
			return FALSE;
		if (next->kind != US_CFG_TOK_WORD && next->kind != US_CFG_TOK_STRING &&
		    next->kind != US_CFG_TOK_KV)
			break;
		UsCfgTok *t = g_new(UsCfgTok, 1);
		us_cfg_lex_next(p->lx, t, NULL);
		g_ptr_array_add(st->items, t);
	}
	st->term = next->kind;
	st->term_loc = next->loc;
	if (st->term == US_CFG_TOK_EOS || st->term == US_CFG_TOK_LBRACE)
		us_cfg_lexer_clear(p->lx);
	return TRUE;
}

static UsCfgTok *
stmt_item(const CfgStmt *st, guint i)
{
	return i < st->items->len ? st->items->pdata[i] : NULL;
}

static const char *
stmt_keyword(const CfgStmt *st)
{
	return stmt_item(st, 0)->text;
}

static UsCfgLoc
stmt_loc(const CfgStmt *st)
{
	return stmt_item(st, 0)->loc;
}

/* A token as the user wrote it, for messages (newly allocated). */
static char *
tok_show(const UsCfgTok *t)
{
	if (t->kind == US_CFG_TOK_KV)
		return g_strdup_printf("'%s=%s'", t->text, t->value);
	if (t->kind == US_CFG_TOK_STRING)
		return g_strdup_printf("\"%s\"", t->text);
	return g_strdup_printf("'%s'", t->text);
}

/* The error for argument i missing: at the end of the statement. */
static void
stmt_missing(const CfgStmt *st, guint i, const char *what, GError **error)
{
	const UsCfgTok *prev = stmt_item(st, i - 1);
	us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, st->term_loc, "missing %s after '%s'", what,
			prev->text);
}

/* Argument i, which must be a word (names, numbers, addresses ...). */
static const char *
stmt_word(const CfgStmt *st, guint i, const char *what, GError **error)
{
	const UsCfgTok *t = stmt_item(st, i);
	if (t == NULL) {
		stmt_missing(st, i, what, error);
		return NULL;
	}
	if (t->kind != US_CFG_TOK_WORD) {
		char *shown = tok_show(t);
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, t->loc, "expected %s, not %s", what,
				shown);
		g_free(shown);
		return NULL;
	}
	return t->text;
}

/* Argument i, a word or a string. */
static const char *
stmt_text(const CfgStmt *st, guint i, const char *what, GError **error)
{
	const UsCfgTok *t = stmt_item(st, i);
	if (t != NULL && t->kind == US_CFG_TOK_STRING)
		return t->text;
	return stmt_word(st, i, what, error);
}

/* No arguments after the first n items. */
static gboolean
stmt_end(const CfgStmt *st, guint n, GError **error)
{
	const UsCfgTok *t = stmt_item(st, n);
	if (t == NULL)
		return TRUE;
	char *shown = tok_show(t);
	us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, t->loc, "unexpected argument %s to '%s'", shown,
			stmt_keyword(st));
	g_free(shown);
	return FALSE;
}

/* Appends name=value to kvs unless the name is there already. */
static gboolean
kv_add(GPtrArray *kvs, const char *name, const char *value, UsCfgLoc loc, GError **error)
{
	const UsCfgKv *old = us_cfg_kv_find(kvs, name);
	if (old != NULL) {
		char *first = us_cfg_loc_string(old->loc);
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, loc,
				"parameter '%s' given twice (first at %s)", name, first);
		g_free(first);
		return FALSE;
	}
	g_ptr_array_add(kvs, us_cfg_kv_new(name, value, loc));
	return TRUE;
}

/* Items from..end, all key=value, into kvs. */
static gboolean
stmt_kvs(const CfgStmt *st, guint from, GPtrArray *kvs, const char *hint, GError **error)
{
	for (guint i = from; i < st->items->len; i++) {
		const UsCfgTok *t = stmt_item(st, i);
		if (t->kind != US_CFG_TOK_KV) {
			char *shown = tok_show(t);
			us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, t->loc,
					"unexpected argument %s to '%s' (%s)", shown,
					stmt_keyword(st), hint);
			g_free(shown);
			return FALSE;
		}
		if (!kv_add(kvs, t->text, t->value, t->loc, error))
			return FALSE;
	}
	return TRUE;
}

/* "a statement that may appear once" given again; first may be NULL. */
static gboolean
stmt_twice(const CfgStmt *st, const char *where, const UsCfgLoc *first, GError **error)
{
	char *at = first != NULL ? us_cfg_loc_string(*first) : NULL;
	us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, stmt_loc(st), "'%s' given twice in %s%s%s%s",
			stmt_keyword(st), where, at != NULL ? " (first at " : "",
			at != NULL ? at : "", at != NULL ? ")" : "");
	g_free(at);
	return FALSE;
}

/* ------------------------------------------------------------------ */
/* Values with messages                                                */
/* ------------------------------------------------------------------ */

static gboolean
val_uint(const UsCfgTok *t, guint64 min, guint64 max, const char *what, guint64 *v, GError **error)
{
	if (us_cfg_parse_uint(t->text, G_MAXUINT64, v) && *v >= min && *v <= max)
		return TRUE;
	if (us_cfg_parse_uint(t->text, G_MAXUINT64, v))
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, t->loc,
				"%s %s out of range (%" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
				")",
				what, t->text, min, max);
	else
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, t->loc,
				"bad %s '%s' (a non-negative integer)", what, t->text);
	return FALSE;
}

static gboolean
val_addr(const UsCfgTok *t, uint32_t *addr, GError **error)
{
	if (us_cfg_parse_addr(t->text, addr))
		return TRUE;
	us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, t->loc,
			"bad IPv4 address '%s' (A.B.C.D, each 0 to 255)", t->text);
	return FALSE;
}

/* A.B.C.D/N with a message saying which part is wrong. */
static gboolean
val_cidr(const UsCfgTok *t, uint32_t *addr, uint32_t *plen, GError **error)
{
	const char *slash = strchr(t->text, '/');
	if (us_cfg_parse_cidr(t->text, addr, plen))
		return TRUE;
	if (slash == NULL) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, t->loc,
				"'%s' needs a prefix length (A.B.C.D/N)", t->text);
		return FALSE;
	}
	char *a = g_strndup(t->text, (gsize)(slash - t->text));
	gboolean addr_ok = us_cfg_parse_addr(a, addr);
	g_free(a);
	us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, t->loc,
			addr_ok ? "bad prefix length in '%s' (0 to 32)"
				: "bad IPv4 address in '%s' (A.B.C.D/N, each part 0 to 255)",
			t->text);
	return FALSE;
}

static uint32_t
val_mask(uint32_t plen)
{
	return plen == 0 ? 0 : g_htonl(~0U << (32 - plen));
}

static gboolean
val_mtu(const UsCfgTok *t, uint32_t *mtu, GError **error)
{
	guint64 v;
	if (!val_uint(t, US_CFG_MTU_MIN, US_CFG_MTU_MAX, "mtu", &v, error))
		return FALSE;
	*mtu = (uint32_t)v;
	return TRUE;
}

static gboolean
val_name(const CfgStmt *st, guint i, const char *what, const char **name, GError **error)
{
	*name = stmt_word(st, i, what, error);
	return *name != NULL;
}

/* ------------------------------------------------------------------ */
/* Top level: include, world, wire, stack                              */
/* ------------------------------------------------------------------ */

/* Reads a whole file; FALSE with errno set. */
static gboolean
parse_read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return FALSE;
	GString *s = g_string_new(NULL);
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		g_string_append_len(s, buf, (gssize)n);
	int err = ferror(f) ? (errno != 0 ? errno : EIO) : 0;
	fclose(f);
	if (err != 0) {
		g_string_free(s, TRUE);
		errno = err;
		return FALSE;
	}
	*len = s->len;
	*text = g_string_free(s, FALSE);
	return TRUE;
}

/* The name by which cycles are found: the real path when it exists. */
static char *
parse_canonical(const char *path)
{
	char *real = realpath(path, NULL);
	if (real != NULL) {
		char *copy = g_strdup(real);
		free(real);
		return copy;
	}
	return g_canonicalize_filename(path, NULL);
}

/* An include path relative to the directory of the file including it. */
static char *
parse_include_path(const char *from, const char *path)
{
	if (g_path_is_absolute(path))
		return g_strdup(path);
	char *dir = g_path_get_dirname(from);
	char *full = strcmp(dir, ".") == 0 ? g_strdup(path) : g_build_filename(dir, path, NULL);
	g_free(dir);
	return full;
}

/* Adds the include site to an error from inside an included file. */
static void
parse_note_include_site(GError *e, UsCfgLoc site)
{
	char *at = us_cfg_loc_string(site);
	char *msg;
	size_t n = strlen(e->message);
	if (strstr(e->message, " (included from ") != NULL && n > 0 && e->message[n - 1] == ')')
		msg = g_strdup_printf("%.*s, %s)", (int)(n - 1), e->message, at);
	else
		msg = g_strdup_printf("%s (included from %s)", e->message, at);
	g_free(e->message);
	e->message = msg;
	g_free(at);
}

static gboolean
parse_include_file(CfgParser *p, const char *path, UsCfgLoc site, GError **error)
{
	char *text, *canon = parse_canonical(path);
	size_t len;
	gboolean ok = FALSE;
	for (guint i = 0; i < p->incstack->len; i++)
		if (strcmp(p->incstack->pdata[i], canon) == 0) {
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, site,
					"include cycle: '%s' is already being read", path);
			g_free(canon);
			return FALSE;
		}
	if (!parse_read_file(path, &text, &len)) {
		us_cfg_error_at(error, US_CFG_ERROR_IO, site, "cannot read '%s': %s", path,
				g_strerror(errno));
		g_free(canon);
		return FALSE;
	}
	gboolean seen = FALSE;
	for (guint i = 0; i < p->cfg->files->len; i++)
		seen = seen || strcmp(p->cfg->files->pdata[i], path) == 0;
	if (!seen)
		g_ptr_array_add(p->cfg->files, g_strdup(path));
	UsCfgLexer lx, *outer = p->lx;
	us_cfg_lexer_init(&lx, path, text, len);
	p->lx = &lx;
	g_ptr_array_add(p->incstack, canon);
	ok = parse_block(p, &parse_top_block, NULL, error);
	if (!ok && error != NULL && *error != NULL)
		parse_note_include_site(*error, site);
	g_ptr_array_remove_index(p->incstack, p->incstack->len - 1);
	us_cfg_lexer_clear(&lx);
	p->lx = outer;
	g_free(text);
	return ok;
}

static gboolean
stmt_include(CfgParser *p, CfgStmt *st, GError **error)
{
	const char *name = stmt_text(st, 1, "a file name", error);
	if (name == NULL || !stmt_end(st, 2, error))
		return FALSE;
	if (p->incstack->len > US_CFG_MAX_INCLUDE_DEPTH) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, stmt_item(st, 1)->loc,
				"includes nested more than %d deep", US_CFG_MAX_INCLUDE_DEPTH);
		return FALSE;
	}
	char *path = parse_include_path(p->lx->file, name);
	gboolean ok = parse_include_file(p, path, stmt_item(st, 1)->loc, error);
	g_free(path);
	return ok;
}

static gboolean
stmt_world(CfgParser *p, CfgStmt *st, GError **error)
{
	UsCfgWorld *w = &p->cfg->world;
	if (!stmt_end(st, 1, error))
		return FALSE;
	if (w->loc.line != 0)
		return stmt_twice(st, "the configuration", &w->loc, error);
	w->loc = stmt_loc(st);
	return parse_block(p, &parse_world_block, &st->term_loc, error);
}

static gboolean
stmt_world_clock(CfgParser *p, CfgStmt *st, GError **error)
{
	UsCfgWorld *w = &p->cfg->world;
	const char *v = stmt_word(st, 1, "virtual or real", error);
	if (v == NULL || !stmt_end(st, 2, error))
		return FALSE;
	if (w->clock_set)
		return stmt_twice(st, "world", NULL, error);
	if (strcmp(v, "virtual") != 0 && strcmp(v, "real") != 0) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, stmt_item(st, 1)->loc,
				"bad clock '%s' (virtual or real)", v);
		return FALSE;
	}
	w->clock = strcmp(v, "real") == 0 ? US_CLOCK_REAL : US_CLOCK_VIRTUAL;
	w->clock_set = TRUE;
	return TRUE;
}

static gboolean
stmt_world_seed(CfgParser *p, CfgStmt *st, GError **error)
{
	UsCfgWorld *w = &p->cfg->world;
	guint64 v;
	if (stmt_word(st, 1, "a number", error) == NULL || !stmt_end(st, 2, error))
		return FALSE;
	if (w->seed_set)
		return stmt_twice(st, "world", NULL, error);
	if (!val_uint(stmt_item(st, 1), 0, G_MAXUINT64, "seed", &v, error))
		return FALSE;
	w->seed = v;
	w->seed_set = TRUE;
	return TRUE;
}

static gboolean
stmt_world_duration(CfgParser *p, CfgStmt *st, GError **error)
{
	UsCfgWorld *w = &p->cfg->world;
	const char *v = stmt_word(st, 1, "a duration", error);
	guint64 n;
	if (v == NULL || !stmt_end(st, 2, error))
		return FALSE;
	if (w->duration_set)
		return stmt_twice(st, "world", NULL, error);
	if (!us_cfg_parse_duration(v, &w->duration_ns)) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, stmt_item(st, 1)->loc,
				us_cfg_parse_uint(v, G_MAXUINT64, &n)
					? "duration '%s' needs a unit (ns, us, ms, s, min, h)"
					: "bad duration '%s' (a number and a unit: ns, us, ms, s, "
					  "min, h)",
				v);
		return FALSE;
	}
	w->duration_set = TRUE;
	return TRUE;
}

/* Finds a named object in an array of structs whose first member is the name. */
static gpointer
parse_find_named(GPtrArray *arr, const char *name)
{
	for (guint i = 0; i < arr->len; i++)
		if (strcmp(*(char **)arr->pdata[i], name) == 0)
			return arr->pdata[i];
	return NULL;
}

static gboolean
parse_duplicate(const CfgStmt *st, guint i, const char *what, UsCfgLoc first, GError **error)
{
	char *at = us_cfg_loc_string(first);
	us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, stmt_item(st, i)->loc,
			"duplicate %s '%s' (first at %s)", what, stmt_item(st, i)->text, at);
	g_free(at);
	return FALSE;
}

static gboolean
stmt_wire(CfgParser *p, CfgStmt *st, GError **error)
{
	const char *name;
	if (!val_name(st, 1, "a wire name", &name, error) || !stmt_end(st, 2, error))
		return FALSE;
	const UsCfgWire *old = parse_find_named(p->cfg->wires, name);
	if (old != NULL)
		return parse_duplicate(st, 1, "wire", old->loc, error);
	p->wire = us_cfg_wire_new(name, stmt_item(st, 1)->loc);
	g_ptr_array_add(p->cfg->wires, p->wire);
	gboolean ok = parse_block(p, &parse_wire_block, &st->term_loc, error);
	p->wire = NULL;
	return ok;
}

/* In a wire block: "NAME VALUE", one parameter of the wire driver. */
static gboolean
stmt_wire_param(CfgParser *p, CfgStmt *st, GError **error)
{
	const char *v = stmt_text(st, 1, "a value", error);
	if (v == NULL || !stmt_end(st, 2, error))
		return FALSE;
	return kv_add(p->wire->params, stmt_keyword(st), v, stmt_loc(st), error);
}

/* Route and neighbour devices must be interfaces of the stack. */
static gboolean
parse_resolve_devs(CfgParser *p, GError **error)
{
	for (guint i = 0; i < p->dev_refs->len; i++) {
		const CfgRef *r = p->dev_refs->pdata[i];
		if (parse_find_named(p->stack->ifaces, r->name) == NULL) {
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, r->loc,
					"'%s' is not an interface of stack '%s'", r->name,
					p->stack->name);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
stmt_stack(CfgParser *p, CfgStmt *st, GError **error)
{
	const char *name;
	if (!val_name(st, 1, "a stack name", &name, error) || !stmt_end(st, 2, error))
		return FALSE;
	const UsCfgStack *old = parse_find_named(p->cfg->stacks, name);
	if (old != NULL)
		return parse_duplicate(st, 1, "stack", old->loc, error);
	p->stack = us_cfg_stack_new(name, stmt_item(st, 1)->loc);
	g_ptr_array_add(p->cfg->stacks, p->stack);
	p->dev_refs = g_ptr_array_new_with_free_func(parse_ref_free);
	gboolean ok = parse_block(p, &parse_stack_block, &st->term_loc, error) &&
		      parse_resolve_devs(p, error);
	g_clear_pointer(&p->dev_refs, g_ptr_array_unref);
	p->stack = NULL;
	return ok;
}

/* ------------------------------------------------------------------ */
/* Interfaces                                                          */
/* ------------------------------------------------------------------ */

/* The parameter a driver's positional argument sets (config.h). */
static const char *
parse_driver_arg_param(const char *driver)
{
	return strcmp(driver, "wire") == 0 ? "name" : "ifname";
}

/* At the interface's '}': a driver, and its argument not also given as a
 * parameter. */
static gboolean
parse_iface_complete(const UsCfgIface *ifc, GError **error)
{
	if (ifc->driver == NULL) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, ifc->loc,
				"interface '%s' has no driver statement", ifc->name);
		return FALSE;
	}
	const char *param = parse_driver_arg_param(ifc->driver);
	const UsCfgKv *kv = ifc->driver_arg != NULL ? us_cfg_kv_find(ifc->params, param) : NULL;
	if (kv != NULL) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, kv->loc,
				"parameter '%s' of driver '%s' is already given by the driver "
				"line's argument '%s'",
				param, ifc->driver, ifc->driver_arg);
		return FALSE;
	}
	return TRUE;
}

static gboolean
stmt_interface(CfgParser *p, CfgStmt *st, GError **error)
{
	const char *name;
	if (!val_name(st, 1, "an interface name", &name, error) || !stmt_end(st, 2, error))
		return FALSE;
	if (strlen(name) > US_CFG_IFNAME_MAX) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, stmt_item(st, 1)->loc,
				"interface name '%s' is longer than %d bytes", name,
				US_CFG_IFNAME_MAX);
		return FALSE;
	}
	const UsCfgIface *old = parse_find_named(p->stack->ifaces, name);
	if (old != NULL)
		return parse_duplicate(st, 1, "interface", old->loc, error);
	p->iface = us_cfg_iface_new(name, stmt_item(st, 1)->loc);
	g_ptr_array_add(p->stack->ifaces, p->iface);
	gboolean ok = parse_block(p, &parse_iface_block, &st->term_loc, error) &&
		      parse_iface_complete(p->iface, error);
	p->iface = NULL;
	return ok;
}

/* Drivers whose positional argument means something (config.h). */
static gboolean
parse_driver_takes_arg(const char *driver)
{
	return strcmp(driver, "wire") == 0 || strcmp(driver, "tap") == 0 ||
	       strcmp(driver, "afpacket") == 0;
}

static gboolean
stmt_driver_arg(CfgParser *p, const UsCfgTok *t, GError **error)
{
	UsCfgIface *ifc = p->iface;
	char *shown = tok_show(t);
	gboolean ok = FALSE;
	if (ifc->driver_arg != NULL)
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, t->loc,
				"unexpected argument %s to 'driver' (one positional argument)",
				shown);
	else if (!parse_driver_takes_arg(ifc->driver))
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, t->loc,
				"driver '%s' takes no positional argument %s (use key=value)",
				ifc->driver, shown);
	else
		ok = TRUE;
	g_free(shown);
	if (ok) {
		ifc->driver_arg = g_strdup(t->text);
		if (strcmp(ifc->driver, "wire") == 0)
			parse_ref_add(p->wire_refs, t->text, t->loc, p->stack, ifc);
	}
	return ok;
}

static gboolean
stmt_driver(CfgParser *p, CfgStmt *st, GError **error)
{
	UsCfgIface *ifc = p->iface;
	const char *name = stmt_word(st, 1, "a driver name", error);
	if (name == NULL)
		return FALSE;
	if (ifc->driver != NULL)
		return stmt_twice(st, "an interface", &ifc->driver_loc, error);
	ifc->driver = g_strdup(name);
	ifc->driver_loc = stmt_item(st, 1)->loc;
	for (guint i = 2; i < st->items->len; i++) {
		const UsCfgTok *t = stmt_item(st, i);
		if (t->kind == US_CFG_TOK_KV
			    ? !kv_add(ifc->params, t->text, t->value, t->loc, error)
			    : !stmt_driver_arg(p, t, error))
			return FALSE;
	}
	if (strcmp(name, "wire") == 0 && ifc->driver_arg == NULL) {
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, st->term_loc,
				"missing wire name after 'driver wire'");
		return FALSE;
	}
	return TRUE;
}

/* "param NAME VALUE" or "param k=v ...": driver parameters. */
static gboolean
stmt_param(CfgParser *p, CfgStmt *st, GError **error)
{
	const UsCfgTok *first = stmt_item(st, 1);
	if (first != NULL && first->kind == US_CFG_TOK_KV)
		return stmt_kvs(st, 1, p->iface->params, "NAME VALUE or key=value ...", error);
	const char *name = stmt_word(st, 1, "a parameter name", error);
	const char *value = name != NULL ? stmt_text(st, 2, "a value", error) : NULL;
	if (value == NULL || !stmt_end(st, 3, error))
		return FALSE;
	return kv_add(p->iface->params, name, value, first->loc, error);
}

static gboolean
stmt_push(CfgParser *p, CfgStmt *st, GError **error)
{
	const char *name = stmt_word(st, 1, "a module name", error);
	if (name == NULL)
		return FALSE;
	UsCfgModule *m = us_cfg_module_new(name, stmt_item(st, 1)->loc);
	g_ptr_array_add(p->iface->modules, m);
	return stmt_kvs(st, 2, m->params, "module parameters are key=value", error);
}

static gboolean
parse_is_unicast(uint32_t addr)
{
	guint8 first = ((const guint8 *)&addr)[0];
	return addr != 0 && addr != 0xffffffffU && (first < 224 || first > 239);
}

/* The interface of the current stack holding addr, or NULL. */
static const UsCfgAddr *
parse_find_addr(const UsCfgStack *s, uint32_t addr)
{
	for (guint i = 0; i < s->ifaces->len; i++) {
		const UsCfgIface *ifc = s->ifaces->pdata[i];
		for (guint j = 0; j < ifc->addrs->len; j++)
			if (g_array_index(ifc->addrs, UsCfgAddr, j).addr == addr)
				return &g_array_index(ifc->addrs, UsCfgAddr, j);
	}
	return NULL;
}

static gboolean
stmt_address(CfgParser *p, CfgStmt *st, GError **error)
{
	UsCfgAddr a = { 0 };
	char buf[16];
	if (stmt_word(st, 1, "an address (A.B.C.D/N)", error) == NULL || !stmt_end(st, 2, error) ||
	    !val_cidr(stmt_item(st, 1), &a.addr, &a.plen, error))
		return FALSE;
	a.loc = stmt_item(st, 1)->loc;
	if (!parse_is_unicast(a.addr)) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, a.loc, "%s is not a unicast address",
				us_cfg_format_addr(a.addr, buf));
		return FALSE;
	}
	const UsCfgAddr *old = parse_find_addr(p->stack, a.addr);
	if (old != NULL) {
		char *at = us_cfg_loc_string(old->loc);
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, a.loc,
				"address %s is already assigned in stack '%s' (at %s)",
				us_cfg_format_addr(a.addr, buf), p->stack->name, at);
		g_free(at);
		return FALSE;
	}
	g_array_append_val(p->iface->addrs, a);
	return TRUE;
}

static gboolean
stmt_iface_mtu(CfgParser *p, CfgStmt *st, GError **error)
{
	if (stmt_word(st, 1, "an MTU", error) == NULL || !stmt_end(st, 2, error))
		return FALSE;
	if (p->iface->mtu != 0)
		return stmt_twice(st, "an interface", NULL, error);
	return val_mtu(stmt_item(st, 1), &p->iface->mtu, error);
}

/* ------------------------------------------------------------------ */
/* Stack statements                                                    */
/* ------------------------------------------------------------------ */

static gboolean
route_dest(const UsCfgTok *t, UsCfgRoute *r, GError **error)
{
	char net[16];
	if (strcmp(t->text, "default") == 0)
		return TRUE;
	if (!val_cidr(t, &r->dst, &r->plen, error))
		return FALSE;
	if ((r->dst & ~val_mask(r->plen)) != 0) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, t->loc,
				"'%s' has host bits set (the network is %s/%u)", t->text,
				us_cfg_format_addr(r->dst & val_mask(r->plen), net), r->plen);
		return FALSE;
	}
	return TRUE;
}

/* One "via G", "dev IF", "metric N" or "mtu N" of a route at item i. */
static gboolean
route_option(CfgParser *p, const CfgStmt *st, guint i, UsCfgRoute *r, guint *seen, GError **error)
{
	static const char *const opts[] = { "via", "dev", "metric", "mtu", NULL };
	const char *opt = stmt_word(st, i, "a route option (via, dev, metric, mtu)", error);
	guint k = 0;
	guint64 v;
	if (opt == NULL)
		return FALSE;
	while (opts[k] != NULL && strcmp(opts[k], opt) != 0)
		k++;
	if (opts[k] == NULL || (*seen & (1u << k)) != 0) {
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, stmt_item(st, i)->loc,
				opts[k] == NULL
					? "unknown route option '%s' (via, dev, metric, mtu)"
					: "route option '%s' given twice",
				opt);
		return FALSE;
	}
	*seen |= 1u << k;
	static const char *const what[] = { "a gateway address", "an interface name", "a metric",
					    "an MTU" };
	if (stmt_word(st, i + 1, what[k], error) == NULL)
		return FALSE;
	const UsCfgTok *t = stmt_item(st, i + 1);
	switch (k) {
	case 0:
		if (!val_addr(t, &r->gateway, error))
			return FALSE;
		if (parse_is_unicast(r->gateway))
			return TRUE;
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, t->loc,
				"gateway %s is not a unicast address", t->text);
		return FALSE;
	case 1:
		r->dev = g_strdup(t->text);
		parse_ref_add(p->dev_refs, t->text, t->loc, NULL, NULL);
		return TRUE;
	case 2:
		if (!val_uint(t, 0, G_MAXUINT32, "metric", &v, error))
			return FALSE;
		r->metric = (uint32_t)v;
		return TRUE;
	default: return val_mtu(t, &r->mtu, error);
	}
}

static gboolean
route_check_new(CfgParser *p, const CfgStmt *st, const UsCfgRoute *r, GError **error)
{
	char buf[16];
	if (r->gateway == 0 && r->dev == NULL) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, st->term_loc,
				"missing 'via GATEWAY' or 'dev INTERFACE' in route");
		return FALSE;
	}
	for (guint i = 0; i < p->stack->routes->len; i++) {
		const UsCfgRoute *o = p->stack->routes->pdata[i];
		if (o->dst == r->dst && o->plen == r->plen && o->metric == r->metric) {
			char *at = us_cfg_loc_string(o->loc);
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, stmt_item(st, 1)->loc,
					"duplicate route to %s/%u metric %u (first at %s)",
					us_cfg_format_addr(r->dst, buf), r->plen, r->metric, at);
			g_free(at);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
stmt_route(CfgParser *p, CfgStmt *st, GError **error)
{
	UsCfgRoute *r = g_new0(UsCfgRoute, 1);
	guint seen = 0;
	gboolean ok = stmt_word(st, 1, "a destination (default or A.B.C.D/N)", error) != NULL &&
		      route_dest(stmt_item(st, 1), r, error);
	for (guint i = 2; ok && i < st->items->len; i += 2)
		ok = route_option(p, st, i, r, &seen, error);
	r->loc = stmt_loc(st);
	if (ok && route_check_new(p, st, r, error)) {
		g_ptr_array_add(p->stack->routes, r);
		return TRUE;
	}
	g_free(r->dev);
	g_free(r);
	return FALSE;
}

static gboolean
neighbor_option(CfgParser *p, const CfgStmt *st, guint i, UsCfgNeighbor *n, gboolean *have_mac,
		GError **error)
{
	const char *opt = stmt_word(st, i, "'lladdr' or 'dev'", error);
	if (opt == NULL)
		return FALSE;
	gboolean is_mac = strcmp(opt, "lladdr") == 0;
	if ((!is_mac && strcmp(opt, "dev") != 0) || (is_mac ? *have_mac : n->dev != NULL)) {
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, stmt_item(st, i)->loc,
				is_mac || strcmp(opt, "dev") == 0
					? "neighbor option '%s' given twice"
					: "unknown neighbor option '%s' (lladdr, dev)",
				opt);
		return FALSE;
	}
	if (stmt_word(st, i + 1, is_mac ? "a MAC address" : "an interface name", error) == NULL)
		return FALSE;
	const UsCfgTok *t = stmt_item(st, i + 1);
	if (!is_mac) {
		n->dev = g_strdup(t->text);
		parse_ref_add(p->dev_refs, t->text, t->loc, NULL, NULL);
		return TRUE;
	}
	if (!us_cfg_parse_mac(t->text, n->mac) || (n->mac[0] & 1) != 0) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, t->loc,
				(n->mac[0] & 1) != 0 ? "'%s' is a multicast MAC address"
						     : "bad MAC address '%s' (xx:xx:xx:xx:xx:xx)",
				t->text);
		return FALSE;
	}
	*have_mac = TRUE;
	return TRUE;
}

static gboolean
neighbor_check_new(CfgParser *p, const CfgStmt *st, const UsCfgNeighbor *n, gboolean have_mac,
		   GError **error)
{
	if (!have_mac || n->dev == NULL) {
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, st->term_loc,
				"missing '%s' in neighbor",
				have_mac ? "dev INTERFACE" : "lladdr MAC");
		return FALSE;
	}
	for (guint i = 0; i < p->stack->neighbors->len; i++) {
		const UsCfgNeighbor *o = p->stack->neighbors->pdata[i];
		if (o->addr == n->addr && strcmp(o->dev, n->dev) == 0) {
			char *at = us_cfg_loc_string(o->loc);
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, stmt_item(st, 1)->loc,
					"duplicate neighbor %s on %s (first at %s)",
					stmt_item(st, 1)->text, n->dev, at);
			g_free(at);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
stmt_neighbor(CfgParser *p, CfgStmt *st, GError **error)
{
	UsCfgNeighbor *n = g_new0(UsCfgNeighbor, 1);
	gboolean have_mac = FALSE;
	gboolean ok = stmt_word(st, 1, "an IPv4 address", error) != NULL &&
		      val_addr(stmt_item(st, 1), &n->addr, error);
	for (guint i = 2; ok && i < st->items->len; i += 2)
		ok = neighbor_option(p, st, i, n, &have_mac, error);
	n->loc = stmt_loc(st);
	if (ok && neighbor_check_new(p, st, n, have_mac, error)) {
		g_ptr_array_add(p->stack->neighbors, n);
		return TRUE;
	}
	g_free(n->dev);
	g_free(n);
	return FALSE;
}

static gboolean
stmt_forwarding(CfgParser *p, CfgStmt *st, GError **error)
{
	const char *v = stmt_word(st, 1, "on or off", error);
	gboolean b;
	if (v == NULL || !stmt_end(st, 2, error))
		return FALSE;
	if (p->stack->forwarding != -1)
		return stmt_twice(st, "a stack", NULL, error);
	if (!us_cfg_parse_bool(v, &b)) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, stmt_item(st, 1)->loc,
				"bad forwarding '%s' (on or off)", v);
		return FALSE;
	}
	p->stack->forwarding = b ? 1 : 0;
	return TRUE;
}

static gboolean
stmt_set(CfgParser *p, CfgStmt *st, GError **error)
{
	const char *module = stmt_word(st, 1, "a module name", error);
	if (module == NULL)
		return FALSE;
	if (st->items->len < 3) {
		stmt_missing(st, 2, "a key=value", error);
		return FALSE;
	}
	UsCfgSet *set = us_cfg_set_new(module, stmt_item(st, 1)->loc);
	g_ptr_array_add(p->stack->sets, set);
	if (!stmt_kvs(st, 2, set->params, "parameters are key=value", error))
		return FALSE;
	/* A parameter set twice, even in two statements, is a mistake. */
	for (guint i = 0; i + 1 < p->stack->sets->len; i++) {
		const UsCfgSet *o = p->stack->sets->pdata[i];
		for (guint j = 0; strcmp(o->module, module) == 0 && j < set->params->len; j++) {
			const UsCfgKv *kv = set->params->pdata[j], *old;
			if ((old = us_cfg_kv_find(o->params, kv->name)) == NULL)
				continue;
			char *at = us_cfg_loc_string(old->loc);
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, kv->loc,
					"parameter '%s' of '%s' set twice (first at %s)", kv->name,
					module, at);
			g_free(at);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
transport_kv(const UsCfgTok *t, UsCfgTransport *tr, const UsCfgTok **proto, GError **error)
{
	guint64 v;
	if (strcmp(t->text, "socket") == 0) {
		if (us_cfg_sock_type_from_name(t->value, &tr->sock_type))
			return TRUE;
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, t->vloc,
				"bad socket type '%s' (dgram, stream, raw, seqpacket)", t->value);
		return FALSE;
	}
	if (strcmp(t->text, "protocol") == 0) {
		UsCfgTok vt = { .kind = US_CFG_TOK_WORD, .text = t->value, .loc = t->vloc };
		if (!val_uint(&vt, 0, 255, "protocol", &v, error))
			return FALSE;
		tr->protocol = (int)v;
		*proto = t;
		return TRUE;
	}
	us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, t->loc,
			"unknown transport option '%s' (socket=, protocol=)", t->text);
	return FALSE;
}

static gboolean
transport_check_new(CfgParser *p, const UsCfgTransport *tr, GError **error)
{
	for (guint i = 0; i < p->stack->transports->len; i++) {
		const UsCfgTransport *o = p->stack->transports->pdata[i];
		if (strcmp(o->driver, tr->driver) == 0 && o->sock_type == tr->sock_type &&
		    o->protocol == tr->protocol) {
			char *at = us_cfg_loc_string(o->loc);
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, tr->loc,
					"duplicate transport '%s' (first at %s)", tr->driver, at);
			g_free(at);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
stmt_transport(CfgParser *p, CfgStmt *st, GError **error)
{
	const char *driver = stmt_word(st, 1, "a transport driver", error);
	if (driver == NULL)
		return FALSE;
	UsCfgTransport *tr = us_cfg_transport_new(driver, stmt_item(st, 1)->loc);
	const UsCfgTok *proto = NULL;
	gboolean ok = TRUE;
	for (guint i = 2; ok && i < st->items->len; i++) {
		const UsCfgTok *t = stmt_item(st, i);
		ok = t->kind == US_CFG_TOK_KV ? transport_kv(t, tr, &proto, error)
					      : stmt_end(st, i, error);
	}
	if (ok && proto != NULL && tr->sock_type == 0) {
		us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, proto->loc,
				"protocol= needs socket=");
		ok = FALSE;
	}
	if (ok && transport_check_new(p, tr, error)) {
		g_ptr_array_add(p->stack->transports, tr);
		return TRUE;
	}
	g_free(tr->driver);
	g_free(tr);
	return FALSE;
}

static gboolean
stmt_autopush(CfgParser *p, CfgStmt *st, GError **error)
{
	const char *driver = stmt_word(st, 1, "a driver name", error);
	if (driver == NULL || stmt_word(st, 2, "a module name", error) == NULL)
		return FALSE;
	for (guint i = 0; i < p->stack->autopush->len; i++) {
		const UsCfgAutopush *o = p->stack->autopush->pdata[i];
		if (strcmp(o->driver, driver) == 0)
			return parse_duplicate(st, 1, "autopush for driver", o->loc, error);
	}
	UsCfgAutopush *ap = us_cfg_autopush_new(driver, stmt_item(st, 1)->loc);
	g_ptr_array_add(p->stack->autopush, ap);
	for (guint i = 2; i < st->items->len; i++) {
		if (stmt_word(st, i, "a module name", error) == NULL)
			return FALSE;
		if (i - 2 == US_CFG_MAX_AUTOPUSH) {
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, stmt_item(st, i)->loc,
					"too many modules in autopush (at most %d)",
					US_CFG_MAX_AUTOPUSH);
			return FALSE;
		}
		g_ptr_array_add(ap->modules, g_strdup(stmt_item(st, i)->text));
		g_array_append_val(ap->module_locs, stmt_item(st, i)->loc);
	}
	return TRUE;
}

static gboolean
stmt_app(CfgParser *p, CfgStmt *st, GError **error)
{
	const char *name = stmt_word(st, 1, "an app name", error);
	if (name == NULL)
		return FALSE;
	UsCfgApp *app = us_cfg_app_new(name, stmt_item(st, 1)->loc);
	g_ptr_array_add(p->stack->apps, app);
	for (guint i = 2; i < st->items->len; i++) {
		const UsCfgTok *t = stmt_item(st, i);
		if (t->kind != US_CFG_TOK_KV)
			g_ptr_array_add(app->args, us_cfg_kv_new(NULL, t->text, t->loc));
		else if (!kv_add(app->args, t->text, t->value, t->loc, error))
			return FALSE;
	}
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Blocks                                                              */
/* ------------------------------------------------------------------ */

static const CfgStmtDesc *
parse_lookup(const CfgBlockDesc *bd, const char *keyword)
{
	for (const CfgStmtDesc *d = bd->stmts; d->keyword != NULL; d++)
		if (strcmp(d->keyword, keyword) == 0)
			return d;
	return NULL;
}

static void
parse_unknown(const CfgBlockDesc *bd, const UsCfgTok *t, GError **error)
{
	GString *known = g_string_new(NULL);
	for (const CfgStmtDesc *d = bd->stmts; d->keyword != NULL; d++)
		g_string_append_printf(known, "%s%s", known->len ? ", " : "", d->keyword);
	if (t->kind == US_CFG_TOK_WORD)
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, t->loc,
				"unknown statement '%s' in %s (expected %s)", t->text, bd->what,
				known->str);
	else if (known->len > 0)
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, t->loc,
				"expected a statement in %s (%s), not %s", bd->what, known->str,
				us_cfg_tok_describe(t->kind));
	else
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, t->loc,
				"expected NAME VALUE in %s, not %s", bd->what,
				us_cfg_tok_describe(t->kind));
	g_string_free(known, TRUE);
}

/* After a block's '}': the statement must end. */
static gboolean
parse_after_block(CfgParser *p, GError **error)
{
	const UsCfgTok *next;
	if (!us_cfg_lex_peek(p->lx, &next, error))
		return FALSE;
	if (next->kind == US_CFG_TOK_EOS)
		us_cfg_lexer_clear(p->lx);
	else if (next->kind != US_CFG_TOK_RBRACE && next->kind != US_CFG_TOK_EOF) {
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, next->loc,
				"expected a new line or ';' after '}'");
		return FALSE;
	}
	return TRUE;
}

/* Runs one statement whose tokens are in st. */
static gboolean
parse_dispatch(CfgParser *p, const CfgBlockDesc *bd, CfgStmt *st, GError **error)
{
	const UsCfgTok *kw = stmt_item(st, 0);
	const CfgStmtDesc *d = kw->kind == US_CFG_TOK_WORD ? parse_lookup(bd, kw->text) : NULL;
	CfgStmtFn fn = d != NULL ? d->fn : kw->kind == US_CFG_TOK_WORD ? bd->any : NULL;
	gboolean block = d != NULL && d->block;
	if (fn == NULL) {
		parse_unknown(bd, kw, error);
		return FALSE;
	}
	if (block && st->term != US_CFG_TOK_LBRACE) {
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, st->term_loc,
				"expected '{' to open the %s block", kw->text);
		return FALSE;
	}
	if (!block && st->term == US_CFG_TOK_LBRACE) {
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, st->term_loc,
				"unexpected '{': '%s' takes no block", kw->text);
		return FALSE;
	}
	return fn(p, st, error) && (!block || parse_after_block(p, error));
}

/* Statements up to the '}' matching open (or the end of the file when open
 * is NULL). */
static gboolean
parse_block(CfgParser *p, const CfgBlockDesc *bd, const UsCfgLoc *open, GError **error)
{
	for (;;) {
		CfgStmt st = { .items = g_ptr_array_new_with_free_func(parse_tok_free) };
		gboolean ok = read_stmt(p, &st, error), done = FALSE;
		if (ok && st.items->len > 0) {
			ok = parse_dispatch(p, bd, &st, error);
		} else if (ok && st.term == US_CFG_TOK_RBRACE && open != NULL) {
			us_cfg_lexer_clear(p->lx);
			done = TRUE;
		} else if (ok && st.term == US_CFG_TOK_EOF && open == NULL) {
			done = TRUE;
		} else if (ok && st.term == US_CFG_TOK_EOF) {
			char *at = us_cfg_loc_string(*open);
			us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, st.term_loc,
					"missing '}' to close the %s block opened at %s", bd->what,
					at);
			g_free(at);
			ok = FALSE;
		} else if (ok && st.term != US_CFG_TOK_EOS) {
			us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, st.term_loc, "unexpected %s",
					us_cfg_tok_describe(st.term));
			ok = FALSE;
		}
		g_ptr_array_unref(st.items);
		if (!ok || done)
			return ok;
	}
}

static const CfgStmtDesc parse_top_stmts[] = {
	{ "include", stmt_include, FALSE },
	{ "world", stmt_world, TRUE },
	{ "wire", stmt_wire, TRUE },
	{ "stack", stmt_stack, TRUE },
	{ NULL, NULL, FALSE },
};
static const CfgBlockDesc parse_top_block = { "the configuration", parse_top_stmts, NULL };

static const CfgStmtDesc parse_world_stmts[] = {
	{ "clock", stmt_world_clock, FALSE },
	{ "seed", stmt_world_seed, FALSE },
	{ "duration", stmt_world_duration, FALSE },
	{ NULL, NULL, FALSE },
};
static const CfgBlockDesc parse_world_block = { "world", parse_world_stmts, NULL };

static const CfgStmtDesc parse_wire_stmts[] = { { NULL, NULL, FALSE } };
static const CfgBlockDesc parse_wire_block = { "wire", parse_wire_stmts, stmt_wire_param };

static const CfgStmtDesc parse_stack_stmts[] = {
	{ "interface", stmt_interface, TRUE },
	{ "route", stmt_route, FALSE },
	{ "neighbor", stmt_neighbor, FALSE },
	{ "forwarding", stmt_forwarding, FALSE },
	{ "set", stmt_set, FALSE },
	{ "transport", stmt_transport, FALSE },
	{ "autopush", stmt_autopush, FALSE },
	{ "app", stmt_app, FALSE },
	{ NULL, NULL, FALSE },
};
static const CfgBlockDesc parse_stack_block = { "stack", parse_stack_stmts, NULL };

static const CfgStmtDesc parse_iface_stmts[] = {
	{ "driver", stmt_driver, FALSE },   /* us_open; WIRE_JOIN; us_param_set */
	{ "param", stmt_param, FALSE },     /* us_param_set on the driver */
	{ "push", stmt_push, FALSE },       /* I_PUSH, us_param_set */
	{ "address", stmt_address, FALSE }, /* IP_ADDR_ADD */
	{ "mtu", stmt_iface_mtu, FALSE },   /* IP_IF_SET */
	{ NULL, NULL, FALSE },
};
static const CfgBlockDesc parse_iface_block = { "interface", parse_iface_stmts, NULL };

/* ------------------------------------------------------------------ */
/* The whole configuration                                             */
/* ------------------------------------------------------------------ */

/* Interfaces name declared wires; a wire joins two ends, no more. */
static gboolean
parse_resolve_wires(CfgParser *p, GError **error)
{
	GHashTable *ends = g_hash_table_new(g_str_hash, g_str_equal); /* name -> first CfgRef */
	gboolean ok = TRUE;
	for (guint i = 0; ok && i < p->wire_refs->len; i++) {
		const CfgRef *r = p->wire_refs->pdata[i],
			     *first = g_hash_table_lookup(ends, r->name);
		const CfgRef *second = NULL;
		for (guint j = 0; first != NULL && j < i && second == NULL; j++) {
			const CfgRef *o = p->wire_refs->pdata[j];
			if (o != first && strcmp(o->name, r->name) == 0)
				second = o;
		}
		if (parse_find_named(p->cfg->wires, r->name) == NULL) {
			us_cfg_error_at(error, US_CFG_ERROR_SEMANTIC, r->loc,
					"undeclared wire '%s' (declare it with a wire block)",
					r->name);
			ok = FALSE;
		} else if (second != NULL) {
			char *a = us_cfg_loc_string(first->loc),
			     *b = us_cfg_loc_string(second->loc);
			us_cfg_error_at(
				error, US_CFG_ERROR_SEMANTIC, r->loc,
				"wire '%s' already joins two ends: %s/%s (%s) and %s/%s (%s)",
				r->name, first->stack->name, first->iface->name, a,
				second->stack->name, second->iface->name, b);
			g_free(a);
			g_free(b);
			ok = FALSE;
		} else if (first == NULL) {
			g_hash_table_insert(ends, r->name, (gpointer)r);
		}
	}
	g_hash_table_unref(ends);
	return ok;
}

static UsCfg *
parse_top(const char *name, const char *text, size_t len, GError **error)
{
	UsCfg *cfg = us_cfg_new(name);
	UsCfgLexer lx;
	CfgParser p = {
		.cfg = cfg,
		.lx = &lx,
		.incstack = g_ptr_array_new_with_free_func(g_free),
		.wire_refs = g_ptr_array_new_with_free_func(parse_ref_free),
	};
	g_ptr_array_add(cfg->files, g_strdup(name));
	g_ptr_array_add(p.incstack, parse_canonical(name));
	us_cfg_lexer_init(&lx, name, text, len);
	gboolean ok =
		parse_block(&p, &parse_top_block, NULL, error) && parse_resolve_wires(&p, error);
	us_cfg_lexer_clear(&lx);
	g_ptr_array_unref(p.incstack);
	g_ptr_array_unref(p.wire_refs);
	if (p.dev_refs != NULL)
		g_ptr_array_unref(p.dev_refs);
	if (!ok) {
		us_cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

UsCfg *
us_cfg_parse_file(const char *path, GError **error)
{
	char *text;
	size_t len;
	g_return_val_if_fail(path != NULL, NULL);
	if (!parse_read_file(path, &text, &len)) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_IO, "%s: %s", path,
			    g_strerror(errno));
		return NULL;
	}
	UsCfg *cfg = parse_top(path, text, len, error);
	g_free(text);
	return cfg;
}

UsCfg *
us_cfg_parse_text(const char *name, const char *text, GError **error)
{
	g_return_val_if_fail(text != NULL, NULL);
	return parse_top(name != NULL ? name : "<text>", text, strlen(text), error);
}
