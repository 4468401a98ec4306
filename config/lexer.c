/* SPDX-License-Identifier: MIT */
/*
 * lexer.c -- tokens of the stack description language.
 *
 * A small hand lexer rather than GScanner, so that every token carries the
 * exact line and column of its first byte (columns count bytes from 1; a
 * tab is one column) and every error points at the offending character.
 *
 *   blanks      space, tab, CR: separate tokens
 *   newline, ;  end of statement (US_CFG_TOK_EOS)
 *   # ...       comment to the end of the line (the newline still ends the
 *               statement); '#' starts a comment anywhere outside a string
 *   { }         braces
 *   word        one or more word bytes (us_cfg_is_word_char): so 10.0.0.0/8,
 *               02:00:00:00:00:01, 1.5ms, udp-echo and ../x.conf are words
 *   "string"    C escapes \\ \" \' \a \b \f \n \r \t \v \xHH \NNN (octal);
 *               no NUL, no raw newline or control byte but tab
 *   key=value   a word, '=' and a word or string with no blanks between
 *
 * A word or string must be followed by a blank, ';', a newline, '#', a
 * brace or the end: "abc"def and a=b=c are errors, not two tokens.
 */

#include "cfg-internal.h"

#include <string.h>

gboolean
us_cfg_is_word_char(int c)
{
	return g_ascii_isalnum(c) || (c != '\0' && strchr("_.:/-+@,%~*[]!", c) != NULL);
}

gboolean
us_cfg_is_word(const char *s)
{
	if (s == NULL || *s == '\0')
		return FALSE;
	for (; *s; s++)
		if (!us_cfg_is_word_char((guchar)*s))
			return FALSE;
	return TRUE;
}

void
us_cfg_lexer_init(UsCfgLexer *lx, const char *file, const char *text, size_t len)
{
	memset(lx, 0, sizeof *lx);
	lx->file = g_intern_string(file);
	lx->text = text;
	lx->len = len;
	lx->line = 1;
	lx->col = 1;
}

void
us_cfg_tok_clear(UsCfgTok *tok)
{
	g_clear_pointer(&tok->text, g_free);
	g_clear_pointer(&tok->value, g_free);
	tok->kind = US_CFG_TOK_EOF;
}

void
us_cfg_lexer_clear(UsCfgLexer *lx)
{
	if (lx->have_peeked)
		us_cfg_tok_clear(&lx->peeked);
	lx->have_peeked = FALSE;
}

const char *
us_cfg_tok_describe(UsCfgTokKind kind)
{
	switch (kind) {
	case US_CFG_TOK_EOF: return "end of file";
	case US_CFG_TOK_EOS: return "end of statement";
	case US_CFG_TOK_LBRACE: return "'{'";
	case US_CFG_TOK_RBRACE: return "'}'";
	case US_CFG_TOK_WORD: return "a word";
	case US_CFG_TOK_STRING: return "a string";
	case US_CFG_TOK_KV: return "key=value";
	}
	return "a token";
}

static int
lex_cur(const UsCfgLexer *lx)
{
	return lx->pos < lx->len ? (guchar)lx->text[lx->pos] : -1;
}

static UsCfgLoc
lex_loc(const UsCfgLexer *lx)
{
	return (UsCfgLoc){ .file = lx->file, .line = lx->line, .col = lx->col };
}

static void
lex_advance(UsCfgLexer *lx)
{
	if (lx->text[lx->pos] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->pos++;
}

/* "unexpected character 'x'" or the byte's value when it does not print. */
static void
lex_error_char(UsCfgLexer *lx, int c, const char *what, GError **error)
{
	if (c < 0)
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, lex_loc(lx), "unexpected end of file%s",
				what);
	else if (g_ascii_isprint(c))
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, lex_loc(lx), "unexpected '%c'%s", c,
				what);
	else
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, lex_loc(lx), "unexpected byte 0x%02x%s",
				(guint)c, what);
}

static char *
lex_word(UsCfgLexer *lx)
{
	size_t start = lx->pos;
	while (us_cfg_is_word_char(lex_cur(lx)))
		lex_advance(lx);
	return g_strndup(lx->text + start, lx->pos - start);
}

/* One escape after the backslash; *out the byte.  The lexer is on the
 * backslash when called and after the escape on success. */
static gboolean
lex_escape(UsCfgLexer *lx, GString *out, GError **error)
{
	static const char simple[] = "\\\\\"\"''a\ab\bf\fn\nr\rt\tv\v";
	UsCfgLoc at = lex_loc(lx);
	lex_advance(lx);
	int c = lex_cur(lx);
	for (guint i = 0; simple[i] != '\0'; i += 2)
		if (c == simple[i]) {
			g_string_append_c(out, simple[i + 1]);
			lex_advance(lx);
			return TRUE;
		}
	guint v = 0, n = 0;
	if (c == 'x') {
		lex_advance(lx);
		for (; n < 2 && g_ascii_isxdigit(lex_cur(lx)); n++, lex_advance(lx))
			v = v * 16 + (guint)g_ascii_xdigit_value((gchar)lex_cur(lx));
		if (n < 2) {
			us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, at, "\\x needs two hex digits");
			return FALSE;
		}
	} else if (c >= '0' && c <= '7') {
		for (; n < 3 && lex_cur(lx) >= '0' && lex_cur(lx) <= '7'; n++, lex_advance(lx))
			v = v * 8 + (guint)(lex_cur(lx) - '0');
	} else {
		if (c >= 0 && g_ascii_isprint(c))
			us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, at, "invalid escape '\\%c'", c);
		else
			us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, at, "invalid escape");
		return FALSE;
	}
	if (v == 0 || v > 255) {
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, at,
				v == 0 ? "a string cannot hold a NUL byte"
				       : "octal escape out of range");
		return FALSE;
	}
	g_string_append_c(out, (char)v);
	return TRUE;
}

/* A quoted string; the lexer is on the opening quote. */
static char *
lex_string(UsCfgLexer *lx, GError **error)
{
	UsCfgLoc open = lex_loc(lx);
	GString *s = g_string_new(NULL);
	lex_advance(lx);
	for (;;) {
		int c = lex_cur(lx);
		if (c < 0 || c == '\n') {
			us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, open, "unterminated string");
			break;
		}
		if (c == '"') {
			lex_advance(lx);
			if (g_utf8_validate(s->str, (gssize)s->len, NULL))
				return g_string_free(s, FALSE);
			us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, open,
					"string is not valid UTF-8");
			break;
		}
		if (c == '\\') {
			if (!lex_escape(lx, s, error))
				break;
			continue;
		}
		if (c < 0x20 && c != '\t') {
			lex_error_char(lx, c, " in a string", error);
			break;
		}
		g_string_append_c(s, (char)c);
		lex_advance(lx);
	}
	g_string_free(s, TRUE);
	return NULL;
}

/* After a word or string: the next byte must end the token. */
static gboolean
lex_check_end(UsCfgLexer *lx, GError **error)
{
	int c = lex_cur(lx);
	if (c < 0 || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '#' ||
	    c == '{' || c == '}')
		return TRUE;
	lex_error_char(lx, c, c == '=' ? " (key=value takes one '=' and no blanks)" : "", error);
	return FALSE;
}

/* A word, and the value when '=' follows. */
static gboolean
lex_word_or_kv(UsCfgLexer *lx, UsCfgTok *tok, GError **error)
{
	tok->kind = US_CFG_TOK_WORD;
	tok->text = lex_word(lx);
	if (lex_cur(lx) != '=')
		return lex_check_end(lx, error);
	lex_advance(lx);
	tok->kind = US_CFG_TOK_KV;
	tok->vloc = lex_loc(lx);
	int c = lex_cur(lx);
	if (c == '"')
		tok->value = lex_string(lx, error);
	else if (us_cfg_is_word_char(c))
		tok->value = lex_word(lx);
	else
		us_cfg_error_at(error, US_CFG_ERROR_SYNTAX, lex_loc(lx),
				"missing value after '%s='", tok->text);
	return tok->value != NULL && lex_check_end(lx, error);
}

static void
lex_skip_blanks(UsCfgLexer *lx)
{
	for (;;) {
		int c = lex_cur(lx);
		if (c == ' ' || c == '\t' || c == '\r') {
			lex_advance(lx);
		} else if (c == '#') {
			while (lex_cur(lx) >= 0 && lex_cur(lx) != '\n')
				lex_advance(lx);
		} else {
			return;
		}
	}
}

static gboolean
lex_token(UsCfgLexer *lx, UsCfgTok *tok, GError **error)
{
	memset(tok, 0, sizeof *tok);
	lex_skip_blanks(lx);
	tok->loc = lex_loc(lx);
	int c = lex_cur(lx);
	if (c < 0) {
		tok->kind = US_CFG_TOK_EOF;
		return TRUE;
	}
	if (c == '\n' || c == ';' || c == '{' || c == '}') {
		tok->kind = c == '{'   ? US_CFG_TOK_LBRACE
			    : c == '}' ? US_CFG_TOK_RBRACE
				       : US_CFG_TOK_EOS;
		lex_advance(lx);
		return TRUE;
	}
	if (c == '"') {
		tok->kind = US_CFG_TOK_STRING;
		tok->text = lex_string(lx, error);
		return tok->text != NULL && lex_check_end(lx, error);
	}
	if (us_cfg_is_word_char(c))
		return lex_word_or_kv(lx, tok, error);
	lex_error_char(lx, c, c == '=' ? " (write key=value without blanks)" : "", error);
	return FALSE;
}

gboolean
us_cfg_lex_next(UsCfgLexer *lx, UsCfgTok *tok, GError **error)
{
	if (lx->have_peeked) {
		*tok = lx->peeked;
		lx->have_peeked = FALSE;
		return TRUE;
	}
	if (lex_token(lx, tok, error))
		return TRUE;
	us_cfg_tok_clear(tok);
	return FALSE;
}

gboolean
us_cfg_lex_peek(UsCfgLexer *lx, const UsCfgTok **tok, GError **error)
{
	if (!lx->have_peeked) {
		if (!lex_token(lx, &lx->peeked, error)) {
			us_cfg_tok_clear(&lx->peeked);
			return FALSE;
		}
		lx->have_peeked = TRUE;
	}
	*tok = &lx->peeked;
	return TRUE;
}
