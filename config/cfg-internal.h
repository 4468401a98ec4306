/* SPDX-License-Identifier: MIT */
/*
 * cfg-internal.h -- what the parts of the configuration library share: the
 * token and lexer (lexer.c), error and model helpers (model.c), the value
 * helpers not in config.h (values.c), and the table of built-in apps
 * (check.c).  Not installed; config.h is the contract.
 */
#ifndef US_CFG_INTERNAL_H
#define US_CFG_INTERNAL_H

#include "config.h"

#include <stdarg.h>
#include <stddef.h>

/* Limits of the language. */
#define US_CFG_MAX_INCLUDE_DEPTH 16 /* include nesting below the top file */
#define US_CFG_MAX_AUTOPUSH 8       /* modules in one autopush list (MAXAPUSH) */
#define US_CFG_IFNAME_MAX 15        /* IP interface names (IP_IFNAMSIZ - 1) */
#define US_CFG_MTU_MIN 68           /* RFC 791: every host takes 68 octets */
#define US_CFG_MTU_MAX 65535

/* ------------------------------------------------------------------ */
/* Tokens and the lexer (lexer.c)                                      */
/* ------------------------------------------------------------------ */

typedef enum {
	US_CFG_TOK_EOF,    /* end of the text */
	US_CFG_TOK_EOS,    /* end of statement: a newline or ';' */
	US_CFG_TOK_LBRACE, /* { */
	US_CFG_TOK_RBRACE, /* } */
	US_CFG_TOK_WORD,   /* a bare word: names, numbers, addresses, MACs ... */
	US_CFG_TOK_STRING, /* a "quoted string", escapes decoded */
	US_CFG_TOK_KV,     /* key=value (value a word or a string) */
} UsCfgTokKind;

typedef struct {
	UsCfgTokKind kind;
	char *text;    /* WORD, STRING: the text; KV: the key; NULL otherwise */
	char *value;   /* KV: the value */
	UsCfgLoc loc;  /* first character of the token */
	UsCfgLoc vloc; /* KV: first character of the value */
} UsCfgTok;

typedef struct {
	const char *file; /* interned: the name used in messages */
	const char *text; /* not owned */
	size_t len;       /* bytes of text (a NUL inside is an error) */
	size_t pos;       /* next byte to read */
	guint line, col;  /* of text[pos] */
	UsCfgTok peeked;  /* valid when have_peeked */
	gboolean have_peeked;
} UsCfgLexer;

void us_cfg_lexer_init(UsCfgLexer *lx, const char *file, const char *text, size_t len);
/* Frees a token peeked and not taken. */
void us_cfg_lexer_clear(UsCfgLexer *lx);
/* The next token, which the caller owns (us_cfg_tok_clear).  FALSE and a
 * syntax error at the offending character. */
gboolean us_cfg_lex_next(UsCfgLexer *lx, UsCfgTok *tok, GError **error);
/* The next token without taking it; *tok stays owned by the lexer. */
gboolean us_cfg_lex_peek(UsCfgLexer *lx, const UsCfgTok **tok, GError **error);
void us_cfg_tok_clear(UsCfgTok *tok);
/* How a token kind reads in messages ("'{'", "end of file" ...). */
const char *us_cfg_tok_describe(UsCfgTokKind kind);

/* Bytes a bare word may hold: letters, digits and _ . : / - + @ , % ~ * [ ] ! */
gboolean us_cfg_is_word_char(int c);
/* TRUE if s can be written as a bare word (non-empty, word bytes only). */
gboolean us_cfg_is_word(const char *s);

/* ------------------------------------------------------------------ */
/* Errors and model helpers (model.c)                                  */
/* ------------------------------------------------------------------ */

/* Sets *error to "file:line:col: <message>" in the US_CFG_ERROR domain. */
void us_cfg_error_at(GError **error, UsCfgErrorCode code, UsCfgLoc loc, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);

UsCfgKv *us_cfg_kv_new(const char *name, const char *value, UsCfgLoc loc);
void us_cfg_kv_free(gpointer kv);
/* The first UsCfgKv of a list with that name, or NULL. */
UsCfgKv *us_cfg_kv_find(GPtrArray *kvs, const char *name);

UsCfg *us_cfg_new(const char *file);
UsCfgWire *us_cfg_wire_new(const char *name, UsCfgLoc loc);
UsCfgStack *us_cfg_stack_new(const char *name, UsCfgLoc loc);
UsCfgIface *us_cfg_iface_new(const char *name, UsCfgLoc loc);
UsCfgModule *us_cfg_module_new(const char *name, UsCfgLoc loc);
UsCfgSet *us_cfg_set_new(const char *module, UsCfgLoc loc);
UsCfgAutopush *us_cfg_autopush_new(const char *driver, UsCfgLoc loc);
UsCfgApp *us_cfg_app_new(const char *name, UsCfgLoc loc);
UsCfgTransport *us_cfg_transport_new(const char *driver, UsCfgLoc loc);

/* ------------------------------------------------------------------ */
/* Values (values.c)                                                   */
/* ------------------------------------------------------------------ */

/* A duration written with a unit ("10ms"; "0" alone does not count). */
gboolean us_cfg_is_duration_with_unit(const char *s, gint64 *ns);
/* A size written with a suffix ("4Ki"). */
gboolean us_cfg_is_size_with_suffix(const char *s, guint64 *bytes);
/* "A.B.C.D" of an address in network order into buf (at least 16 bytes). */
const char *us_cfg_format_addr(uint32_t addr, char *buf);
/* Socket types of the transport statement by name, and back. */
gboolean us_cfg_sock_type_from_name(const char *s, int *type);
const char *us_cfg_sock_type_name(int type);

/* ------------------------------------------------------------------ */
/* Built-in apps (check.c)                                             */
/* ------------------------------------------------------------------ */

typedef enum {
	US_CFG_APP_POS_NONE,     /* no positional argument */
	US_CFG_APP_POS_ADDR,     /* one: A.B.C.D */
	US_CFG_APP_POS_ENDPOINT, /* one: A.B.C.D:PORT */
} UsCfgAppPos;

typedef enum {
	US_CFG_ARG_UINT,     /* integer in [min, max] */
	US_CFG_ARG_DURATION, /* duration with a unit */
	US_CFG_ARG_SIZE,     /* size, bytes in [min, max] */
	US_CFG_ARG_STRING,   /* anything */
	US_CFG_ARG_CHOICE,   /* one of choices (space separated) */
} UsCfgArgType;

typedef struct {
	const char *name; /* NULL ends a table */
	UsCfgArgType type;
	guint64 min, max;
	const char *choices;
} UsCfgAppArg;

typedef struct {
	const char *name;
	UsCfgAppPos positional;
	UsCfgAppArg args[8];
} UsCfgAppDesc;

/* The built-in app of that name, or NULL. */
const UsCfgAppDesc *us_cfg_app_lookup(const char *name);

#endif /* US_CFG_INTERNAL_H */
