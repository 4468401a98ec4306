/* SPDX-License-Identifier: MIT */
/*
 * values.c -- the values of the stack description language: integers,
 * durations, sizes, booleans, IPv4 addresses and prefixes, MACs, endpoints,
 * and the conversion of a config value into what us_param_set() takes.
 *
 * Every parser takes the whole string (no leading or trailing blanks, no
 * sign) and fails rather than guesses:
 *
 *   integer   123, 0x7b                        up to a caller-given maximum
 *   duration  <decimal><unit>, unit ns us ms s min h; "0" alone is allowed;
 *             fractions must come to whole nanoseconds (1.5us, not 1.5ns)
 *   size      <decimal>[suffix], k M G T (x1000), Ki Mi Gi Ti (x1024); a
 *             fraction only with a suffix and only to whole bytes
 *   bool      true false yes no on off 1 0 (any case) -- the registry's set
 *   address   four decimal parts 0..255 without leading zeros (so "010" is
 *             not silently octal, as inet_aton would read it)
 *   MAC       six pairs of hex digits separated by ':'
 */

#include "cfg-internal.h"

#include <math.h>
#include <string.h>
#include <sys/socket.h>

typedef struct {
	const char *name;
	guint64 mult;
} CfgUnit;

static gboolean values_all_digits(const char *s);

static const CfgUnit values_time_units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "ms", 1000000 },
	{ "s", G_GUINT64_CONSTANT(1000000000) },
	{ "min", G_GUINT64_CONSTANT(60000000000) },
	{ "h", G_GUINT64_CONSTANT(3600000000000) },
	{ NULL, 0 },
};

static const CfgUnit values_size_units[] = {
	{ "k", G_GUINT64_CONSTANT(1000) },
	{ "M", G_GUINT64_CONSTANT(1000000) },
	{ "G", G_GUINT64_CONSTANT(1000000000) },
	{ "T", G_GUINT64_CONSTANT(1000000000000) },
	{ "Ki", G_GUINT64_CONSTANT(1) << 10 },
	{ "Mi", G_GUINT64_CONSTANT(1) << 20 },
	{ "Gi", G_GUINT64_CONSTANT(1) << 30 },
	{ "Ti", G_GUINT64_CONSTANT(1) << 40 },
	{ NULL, 0 },
};

/* A decimal number with an optional fraction: *ip the integer part, *frac
 * the fraction's digits without trailing zeros, *nfrac how many.  *p is left
 * after the number.  At most 18 fraction digits. */
static gboolean
values_scan_decimal(const char **p, guint64 *ip, guint64 *frac, guint *nfrac)
{
	const char *s = *p;
	if (!g_ascii_isdigit(*s))
		return FALSE;
	*ip = 0;
	for (; g_ascii_isdigit(*s); s++)
		if (!g_uint64_checked_mul(ip, *ip, 10) ||
		    !g_uint64_checked_add(ip, *ip, (guint64)(*s - '0')))
			return FALSE;
	*frac = 0;
	*nfrac = 0;
	if (*s == '.') {
		s++;
		if (!g_ascii_isdigit(*s))
			return FALSE;
		for (; g_ascii_isdigit(*s); s++) {
			if (*nfrac == 18)
				return FALSE;
			*frac = *frac * 10 + (guint64)(*s - '0');
			(*nfrac)++;
		}
		while (*nfrac > 0 && *frac % 10 == 0) {
			*frac /= 10;
			(*nfrac)--;
		}
	}
	*p = s;
	return TRUE;
}

/* ip.frac * mult, which must be a whole number that fits. */
static gboolean
values_scale(guint64 ip, guint64 frac, guint nfrac, guint64 mult, guint64 *out)
{
	guint64 whole, part, pow10 = 1;
	if (!g_uint64_checked_mul(&whole, ip, mult))
		return FALSE;
	for (guint i = 0; i < nfrac; i++)
		pow10 *= 10;
	if (!g_uint64_checked_mul(&part, frac, mult) || part % pow10 != 0)
		return FALSE;
	return g_uint64_checked_add(out, whole, part / pow10);
}

static const CfgUnit *
values_find_unit(const CfgUnit *units, const char *s)
{
	for (const CfgUnit *u = units; u->name != NULL; u++)
		if (strcmp(u->name, s) == 0)
			return u;
	return NULL;
}

gboolean
us_cfg_is_duration_with_unit(const char *s, gint64 *ns)
{
	guint64 ip, frac, v;
	guint nfrac;
	const char *p = s;
	if (s == NULL || !values_scan_decimal(&p, &ip, &frac, &nfrac))
		return FALSE;
	const CfgUnit *u = values_find_unit(values_time_units, p);
	if (u == NULL || !values_scale(ip, frac, nfrac, u->mult, &v) || v > G_MAXINT64)
		return FALSE;
	*ns = (gint64)v;
	return TRUE;
}

gboolean
us_cfg_parse_duration(const char *s, gint64 *ns)
{
	if (s != NULL && strcmp(s, "0") == 0) {
		*ns = 0;
		return TRUE;
	}
	return us_cfg_is_duration_with_unit(s, ns);
}

gboolean
us_cfg_is_size_with_suffix(const char *s, guint64 *bytes)
{
	guint64 ip, frac;
	guint nfrac;
	const char *p = s;
	if (s == NULL || !values_scan_decimal(&p, &ip, &frac, &nfrac))
		return FALSE;
	const CfgUnit *u = values_find_unit(values_size_units, p);
	return u != NULL && values_scale(ip, frac, nfrac, u->mult, bytes);
}

gboolean
us_cfg_parse_size(const char *s, guint64 *bytes)
{
	if (us_cfg_is_size_with_suffix(s, bytes))
		return TRUE;
	return s != NULL && values_all_digits(s) && us_cfg_parse_uint(s, G_MAXUINT64, bytes);
}

gboolean
us_cfg_parse_bool(const char *s, gboolean *v)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };
	for (guint i = 0; s != NULL && yes[i] != NULL; i++) {
		if (g_ascii_strcasecmp(s, yes[i]) == 0) {
			*v = TRUE;
			return TRUE;
		}
		if (g_ascii_strcasecmp(s, no[i]) == 0) {
			*v = FALSE;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
us_cfg_parse_uint(const char *s, guint64 max, guint64 *v)
{
	guint base = 10;
	if (s == NULL || *s == '\0')
		return FALSE;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (*s == '\0')
			return FALSE;
	}
	guint64 acc = 0;
	for (; *s; s++) {
		int d = g_ascii_xdigit_value(*s);
		if (d < 0 || (guint)d >= base || !g_uint64_checked_mul(&acc, acc, base) ||
		    !g_uint64_checked_add(&acc, acc, (guint64)d))
			return FALSE;
	}
	if (acc > max)
		return FALSE;
	*v = acc;
	return TRUE;
}

gboolean
us_cfg_parse_addr(const char *s, uint32_t *addr)
{
	guint8 b[4];
	if (s == NULL)
		return FALSE;
	for (guint i = 0; i < 4; i++) {
		guint v = 0, n = 0;
		for (; g_ascii_isdigit(*s) && n < 4; s++, n++)
			v = v * 10 + (guint)(*s - '0');
		if (n == 0 || n > 3 || v > 255 || (n > 1 && s[-(int)n] == '0'))
			return FALSE;
		b[i] = (guint8)v;
		if (*s != (i < 3 ? '.' : '\0'))
			return FALSE;
		if (i < 3)
			s++;
	}
	memcpy(addr, b, sizeof b); /* bytes in order: network order */
	return TRUE;
}

static gboolean
values_all_digits(const char *s)
{
	if (*s == '\0')
		return FALSE;
	for (; *s; s++)
		if (!g_ascii_isdigit(*s))
			return FALSE;
	return TRUE;
}

gboolean
us_cfg_parse_cidr(const char *s, uint32_t *addr, uint32_t *plen)
{
	const char *slash = s != NULL ? strchr(s, '/') : NULL;
	guint64 n;
	if (slash == NULL || !values_all_digits(slash + 1) || !us_cfg_parse_uint(slash + 1, 32, &n))
		return FALSE;
	char *a = g_strndup(s, (gsize)(slash - s));
	gboolean ok = us_cfg_parse_addr(a, addr);
	g_free(a);
	if (ok)
		*plen = (uint32_t)n;
	return ok;
}

gboolean
us_cfg_parse_mac(const char *s, uint8_t mac[6])
{
	if (s == NULL || strlen(s) != 17)
		return FALSE;
	for (guint i = 0; i < 6; i++) {
		int hi = g_ascii_xdigit_value(s[3 * i]), lo = g_ascii_xdigit_value(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return FALSE;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return TRUE;
}

gboolean
us_cfg_parse_endpoint(const char *s, uint32_t *addr, uint16_t *port)
{
	const char *colon = s != NULL ? strrchr(s, ':') : NULL;
	guint64 p;
	if (colon == NULL || !values_all_digits(colon + 1) ||
	    !us_cfg_parse_uint(colon + 1, 65535, &p) || p == 0)
		return FALSE;
	char *a = g_strndup(s, (gsize)(colon - s));
	gboolean ok = us_cfg_parse_addr(a, addr);
	g_free(a);
	if (ok)
		*port = (uint16_t)p;
	return ok;
}

char *
us_cfg_loc_string(UsCfgLoc loc)
{
	return g_strdup_printf("%s:%u:%u", loc.file != NULL ? loc.file : "<config>", loc.line,
			       loc.col);
}

const char *
us_cfg_format_addr(uint32_t addr, char *buf)
{
	const guint8 *b = (const guint8 *)&addr;
	g_snprintf(buf, 16, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	return buf;
}

static const struct {
	const char *name;
	int type;
} values_sock_types[] = {
	{ "dgram", SOCK_DGRAM },
	{ "stream", SOCK_STREAM },
	{ "raw", SOCK_RAW },
	{ "seqpacket", SOCK_SEQPACKET },
};

gboolean
us_cfg_sock_type_from_name(const char *s, int *type)
{
	for (guint i = 0; i < G_N_ELEMENTS(values_sock_types); i++)
		if (strcmp(values_sock_types[i].name, s) == 0) {
			*type = values_sock_types[i].type;
			return TRUE;
		}
	return FALSE;
}

const char *
us_cfg_sock_type_name(int type)
{
	for (guint i = 0; i < G_N_ELEMENTS(values_sock_types); i++)
		if (values_sock_types[i].type == type)
			return values_sock_types[i].name;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Parameter values                                                    */
/* ------------------------------------------------------------------ */

/* The unit a time-valued integer parameter is in, by its name's suffix. */
static guint64
values_param_time_unit(const char *name, const char **unit)
{
	if (g_str_has_suffix(name, "_ms")) {
		*unit = "ms";
		return 1000000;
	}
	if (g_str_has_suffix(name, "_us")) {
		*unit = "us";
		return 1000;
	}
	if (g_str_has_suffix(name, "_s") || g_str_has_suffix(name, "_sec")) {
		*unit = "s";
		return G_GUINT64_CONSTANT(1000000000);
	}
	*unit = "ns";
	return 1;
}

/* An INT/UINT parameter's value as a number, units resolved. */
static gboolean
values_param_integer(const UsParamDesc *p, const char *value, gint64 *out, GError **error)
{
	guint64 u;
	gint64 ns;
	const char *unit;
	gboolean neg = p->type == US_PARAM_INT && value[0] == '-';
	if (us_cfg_parse_uint(neg ? value + 1 : value, (guint64)G_MAXINT64 + neg, &u)) {
		*out = neg ? (gint64)(0 - u) : (gint64)u;
		return TRUE;
	}
	if (!neg && us_cfg_is_duration_with_unit(value, &ns)) {
		guint64 div = values_param_time_unit(p->name, &unit);
		if ((guint64)ns % div != 0) {
			g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC,
				    "'%s' is not a whole number of %s", value, unit);
			return FALSE;
		}
		*out = (gint64)((guint64)ns / div);
		return TRUE;
	}
	if (!neg && us_cfg_is_size_with_suffix(value, &u) && u <= G_MAXINT64) {
		*out = (gint64)u;
		return TRUE;
	}
	g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC,
		    "'%s' is not %s integer, duration or size", value,
		    p->type == US_PARAM_UINT ? "a non-negative" : "an");
	return FALSE;
}

static char *
values_param_int(const UsParamDesc *p, const char *value, GError **error)
{
	gint64 v;
	if (!values_param_integer(p, value, &v, error))
		return NULL;
	if ((p->type == US_PARAM_UINT && v < 0) || v < p->min || (p->max != 0 && v > p->max)) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC,
			    "%s is out of range [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
			    value, p->min, p->max);
		return NULL;
	}
	return g_strdup_printf("%" G_GINT64_FORMAT, v);
}

/* The shortest text that reads back as d ("0.05", not 0.050000000000000003). */
static const char *
values_shortest_double(double d, char *buf, size_t len)
{
	for (int prec = 1; prec < 17; prec++) {
		char fmt[8];
		g_snprintf(fmt, sizeof fmt, "%%.%dg", prec);
		g_ascii_formatd(buf, (gint)len, fmt, d);
		if (g_ascii_strtod(buf, NULL) == d)
			return buf;
	}
	return g_ascii_dtostr(buf, (gint)len, d);
}

static char *
values_param_double(const char *value, GError **error)
{
	char *end = NULL;
	char buf[G_ASCII_DTOSTR_BUF_SIZE];
	double d = g_ascii_strtod(value, &end);
	gboolean pct = end != value && end[0] == '%' && end[1] == '\0';
	if (end == value || (*end != '\0' && !pct) || !isfinite(d) || g_ascii_isspace(value[0])) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC, "'%s' is not a number",
			    value);
		return NULL;
	}
	if (pct && strpbrk(value, "eE") == NULL) {
		/* "5%" read as "5e-2": the double nearest 0.05, which 5 / 100 is not. */
		char *sci = g_strdup_printf("%.*se-2", (int)(end - value), value);
		d = g_ascii_strtod(sci, NULL);
		g_free(sci);
	} else if (pct) {
		d /= 100.0;
	}
	return g_strdup(values_shortest_double(d, buf, sizeof buf));
}

char *
us_cfg_param_value(const UsParamDesc *p, const char *value, GError **error)
{
	gboolean b;
	switch (p->type) {
	case US_PARAM_INT:
	case US_PARAM_UINT: return values_param_int(p, value, error);
	case US_PARAM_DOUBLE: return values_param_double(value, error);
	case US_PARAM_BOOL:
		if (!us_cfg_parse_bool(value, &b)) {
			g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC,
				    "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
				    value);
			return NULL;
		}
		return g_strdup(b ? "true" : "false");
	case US_PARAM_STRING: return g_strdup(value);
	}
	g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC, "parameter of unknown type");
	return NULL;
}
