/* SPDX-License-Identifier: MIT */
/*
 * test-config.c -- the stack description language (config/): the value
 * helpers, the model a configuration parses into, includes, the canonical
 * dump, and two corpora:
 *
 *   good/NAME.conf         each parses, passes us_cfg_check, and round-trips:
 *                          dump -> parse -> dump gives the same bytes (so do
 *                          examples/stacks/NAME.conf);
 *   bad/NAME.conf          each fails in parse or check; the file's first line
 *                          "# expect: [FILE:]LINE:COL: substring" says where
 *                          (FILE relative to bad/, default the file itself)
 *                          and what the message contains.  Adding a case is
 *                          adding a file.
 */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>

#ifndef US_CFG_TEST_DIR
#error US_CFG_TEST_DIR must name tests/config
#endif

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

static void
test_duration(void)
{
	static const struct {
		const char *s;
		gint64 ns;
	} ok[] = {
		{ "0", 0 },
		{ "0s", 0 },
		{ "1ns", 1 },
		{ "250us", 250000 },
		{ "1ms", 1000000 },
		{ "1.5ms", 1500000 },
		{ "30s", G_GINT64_CONSTANT(30000000000) },
		{ "0.5s", 500000000 },
		{ "2min", G_GINT64_CONSTANT(120000000000) },
		{ "1.5min", G_GINT64_CONSTANT(90000000000) },
		{ "1h", G_GINT64_CONSTANT(3600000000000) },
		{ "0.000000001s", 1 },
		{ "1.10us", 1100 },
		{ "9223372036854775807ns", G_MAXINT64 },
	};
	static const char *const bad[] = {
		"",
		"1",
		"30",
		"s",
		"1xs",
		"-1s",
		"+1s",
		"1.5ns",
		"1.ms",
		".5s",
		"1 s",
		"1S",
		"1sec",
		"1m",
		"0x10s",
		"1e3ns",
		"1.0000000001s",
		"9223372036854775808ns",
		"99999999999999999999h",
		"1ms ",
		" 1ms",
	};
	gint64 ns;
	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		ns = -1;
		g_assert_true(us_cfg_parse_duration(ok[i].s, &ns));
		g_assert_cmpint(ns, ==, ok[i].ns);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		if (us_cfg_parse_duration(bad[i], &ns))
			g_error("duration '%s' accepted as %" G_GINT64_FORMAT, bad[i], ns);
}

static void
test_size(void)
{
	static const struct {
		const char *s;
		guint64 bytes;
	} ok[] = {
		{ "0", 0 },
		{ "1500", 1500 },
		{ "4k", 4000 },
		{ "10M", 10000000 },
		{ "2G", G_GUINT64_CONSTANT(2000000000) },
		{ "1T", G_GUINT64_CONSTANT(1000000000000) },
		{ "4Ki", 4096 },
		{ "1Mi", 1048576 },
		{ "1Gi", G_GUINT64_CONSTANT(1073741824) },
		{ "1Ti", G_GUINT64_CONSTANT(1099511627776) },
		{ "1.5k", 1500 },
		{ "0.5Ki", 512 },
		{ "18446744073709551615", G_MAXUINT64 },
	};
	static const char *const bad[] = { "",
					   "k",
					   "4K",
					   "4KB",
					   "4kb",
					   "-1",
					   "1.5",
					   "0.3Ki",
					   "4 k",
					   "0x10",
					   "1e3",
					   "4KiB",
					   "18446744073709551616",
					   "20000000T" };
	guint64 b;
	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_assert_true(us_cfg_parse_size(ok[i].s, &b));
		g_assert_cmpuint(b, ==, ok[i].bytes);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		if (us_cfg_parse_size(bad[i], &b))
			g_error("size '%s' accepted as %" G_GUINT64_FORMAT, bad[i], b);
}

static void
test_bool(void)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "On" };
	static const char *const no[] = { "false", "no", "off", "0", "False", "OFF" };
	static const char *const bad[] = { "", "2", "y", "onn", "truee", "enabled" };
	gboolean v;
	for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
		v = FALSE;
		g_assert_true(us_cfg_parse_bool(yes[i], &v));
		g_assert_true(v);
		g_assert_true(us_cfg_parse_bool(no[i], &v));
		g_assert_false(v);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_false(us_cfg_parse_bool(bad[i], &v));
}

static void
test_uint(void)
{
	guint64 v;
	g_assert_true(us_cfg_parse_uint("0", 10, &v) && v == 0);
	g_assert_true(us_cfg_parse_uint("10", 10, &v) && v == 10);
	g_assert_true(us_cfg_parse_uint("0x2a", 100, &v) && v == 42);
	g_assert_true(us_cfg_parse_uint("0XFF", 255, &v) && v == 255);
	g_assert_true(us_cfg_parse_uint("18446744073709551615", G_MAXUINT64, &v));
	g_assert_cmpuint(v, ==, G_MAXUINT64);
	g_assert_false(us_cfg_parse_uint("11", 10, &v));
	g_assert_false(us_cfg_parse_uint("18446744073709551616", G_MAXUINT64, &v));
	g_assert_false(us_cfg_parse_uint("-1", 10, &v));
	g_assert_false(us_cfg_parse_uint("+1", 10, &v));
	g_assert_false(us_cfg_parse_uint("", 10, &v));
	g_assert_false(us_cfg_parse_uint("0x", 10, &v));
	g_assert_false(us_cfg_parse_uint("1a", 100, &v));
	g_assert_false(us_cfg_parse_uint(" 1", 10, &v));
}

static void
test_addr(void)
{
	uint32_t a, plen;
	g_assert_true(us_cfg_parse_addr("10.0.0.1", &a));
	g_assert_cmphex(a, ==, g_htonl(0x0a000001));
	g_assert_true(us_cfg_parse_addr("255.255.255.255", &a));
	g_assert_cmphex(a, ==, 0xffffffffU);
	g_assert_true(us_cfg_parse_addr("0.0.0.0", &a));
	g_assert_cmphex(a, ==, 0);
	static const char *const bad[] = { "",          "10.0.0",     "10.0.0.1.2", "10.0.0.256",
					   "010.0.0.1", "10.0.0.01",  "10..0.1",    "10.0.0.1 ",
					   "a.b.c.d",   "1000.0.0.1", "10.0.0.1/8", "-1.0.0.0",
					   "0x0a.0.0.1" };
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		if (us_cfg_parse_addr(bad[i], &a))
			g_error("address '%s' accepted", bad[i]);
	g_assert_true(us_cfg_parse_cidr("10.1.0.0/16", &a, &plen));
	g_assert_cmphex(a, ==, g_htonl(0x0a010000));
	g_assert_cmpuint(plen, ==, 16);
	g_assert_true(us_cfg_parse_cidr("0.0.0.0/0", &a, &plen) && plen == 0);
	g_assert_true(us_cfg_parse_cidr("1.2.3.4/32", &a, &plen) && plen == 32);
	static const char *const badc[] = { "10.0.0.0",     "10.0.0.0/",
					    "10.0.0.0/33",  "10.0.0.0/-1",
					    "10.0.0.0/0x8", "10.0.0/8",
					    "10.0.0.0/8/8", "/8" };
	for (guint i = 0; i < G_N_ELEMENTS(badc); i++)
		if (us_cfg_parse_cidr(badc[i], &a, &plen))
			g_error("prefix '%s' accepted", badc[i]);
}

static void
test_mac(void)
{
	uint8_t m[6];
	static const uint8_t want[6] = { 0x02, 0, 0, 0xab, 0xcd, 0xef };
	g_assert_true(us_cfg_parse_mac("02:00:00:ab:CD:ef", m));
	g_assert_cmpmem(m, 6, want, 6);
	static const char *const bad[] = { "",
					   "02:00:00:ab:cd",
					   "02:00:00:ab:cd:ef:01",
					   "2:0:0:ab:cd:ef",
					   "02-00-00-ab-cd-ef",
					   "02:00:00:ab:cd:eg",
					   "0200.00ab.cdef",
					   "02:00:00:ab:cd:ef " };
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		if (us_cfg_parse_mac(bad[i], m))
			g_error("MAC '%s' accepted", bad[i]);
}

static void
test_endpoint(void)
{
	uint32_t a;
	uint16_t port;
	g_assert_true(us_cfg_parse_endpoint("10.0.0.2:7", &a, &port));
	g_assert_cmphex(a, ==, g_htonl(0x0a000002));
	g_assert_cmpuint(port, ==, 7);
	g_assert_true(us_cfg_parse_endpoint("1.2.3.4:65535", &a, &port) && port == 65535);
	static const char *const bad[] = { "10.0.0.2",       "10.0.0.2:",     "10.0.0.2:0",
					   "10.0.0.2:65536", "10.0.0.2:x",    ":7",
					   "host:7",         "10.0.0.2:0x10", "10.0.0.2:-1" };
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		if (us_cfg_parse_endpoint(bad[i], &a, &port))
			g_error("endpoint '%s' accepted", bad[i]);
}

static void
test_loc_string(void)
{
	UsCfgLoc loc = { .file = g_intern_string("a/b.conf"), .line = 12, .col = 3 };
	char *s = us_cfg_loc_string(loc);
	g_assert_cmpstr(s, ==, "a/b.conf:12:3");
	g_free(s);
}

/* us_cfg_param_value: one case; want NULL means an error containing err. */
static void
param_case(const UsParamDesc *p, const char *in, const char *want, const char *err)
{
	GError *e = NULL;
	char *v = us_cfg_param_value(p, in, &e);
	if (want != NULL) {
		g_assert_no_error(e);
		g_assert_cmpstr(v, ==, want);
	} else {
		g_assert_null(v);
		g_assert_error(e, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC);
		if (strstr(e->message, err) == NULL)
			g_error("'%s': message '%s' lacks '%s'", in, e->message, err);
		g_clear_error(&e);
	}
	g_free(v);
}

static void
test_param_value(void)
{
	const UsParamDesc delay = { .name = "delay", .type = US_PARAM_UINT, .max = 0 };
	const UsParamDesc retrans = {
		.name = "retrans_ms", .type = US_PARAM_UINT, .min = 1, .max = 60000
	};
	const UsParamDesc ttl = { .name = "ttl", .type = US_PARAM_UINT, .min = 1, .max = 255 };
	const UsParamDesc base = { .name = "out_base", .type = US_PARAM_INT, .min = G_MININT64 };
	const UsParamDesc loss = { .name = "loss", .type = US_PARAM_DOUBLE };
	const UsParamDesc up = { .name = "up", .type = US_PARAM_BOOL };
	const UsParamDesc mac = { .name = "mac", .type = US_PARAM_STRING };
	const UsParamDesc secs = { .name = "idle_s", .type = US_PARAM_UINT };
	const UsParamDesc micro = { .name = "gap_us", .type = US_PARAM_UINT };

	param_case(&delay, "1500", "1500", NULL);
	param_case(&delay, "0x10", "16", NULL);
	param_case(&delay, "2ms", "2000000", NULL);
	param_case(&delay, "64Ki", "65536", NULL);
	param_case(&delay, "-1", NULL, "non-negative");
	param_case(&delay, "fast", NULL, "not a non-negative integer");
	param_case(&retrans, "500", "500", NULL);
	param_case(&retrans, "1s", "1000", NULL);
	param_case(&retrans, "1500us", NULL, "whole number of ms");
	param_case(&retrans, "0", NULL, "out of range [1, 60000]");
	param_case(&retrans, "61s", NULL, "out of range");
	param_case(&ttl, "300", NULL, "out of range [1, 255]");
	param_case(&secs, "2min", "120", NULL);
	param_case(&micro, "1ms", "1000", NULL);
	param_case(&base, "-5", "-5", NULL);
	param_case(&base, "-9223372036854775808", "-9223372036854775808", NULL);
	param_case(&base, "1s", "1000000000", NULL);
	param_case(&loss, "0.05", "0.05", NULL);
	param_case(&loss, "5%", "0.05", NULL);
	param_case(&loss, "1e-3", "0.001", NULL);
	param_case(&loss, "half", NULL, "not a number");
	param_case(&loss, "nan", NULL, "not a number");
	param_case(&loss, "5%%", NULL, "not a number");
	param_case(&up, "on", "true", NULL);
	param_case(&up, "No", "false", NULL);
	param_case(&up, "maybe", NULL, "not a boolean");
	param_case(&mac, "02:00:00:00:00:01", "02:00:00:00:00:01", NULL);
	param_case(&mac, "", "", NULL);
}

/* ------------------------------------------------------------------ */
/* Parsing into the model                                              */
/* ------------------------------------------------------------------ */

static UsCfg *
parse_ok(const char *text)
{
	GError *e = NULL;
	UsCfg *cfg = us_cfg_parse_text("test.conf", text, &e);
	g_assert_no_error(e);
	g_assert_nonnull(cfg);
	return cfg;
}

static void
test_model(void)
{
	UsCfg *cfg = parse_ok("world { clock real; seed 42; duration 30s }\n"
			      "wire lan { loss 0.05; delay 1ms }\n"
			      "stack a {\n"
			      "  interface eth0 {\n"
			      "    driver wire lan qlimit=4k\n"
			      "    param jitter 200us\n"
			      "    push pass mode=1\n"
			      "    push ether mac=02:00:00:00:00:0a\n"
			      "    address 10.0.0.1/24\n"
			      "    mtu 1400\n"
			      "  }\n"
			      "  route default via 10.0.0.254 metric 10\n"
			      "  route 172.16.0.0/12 via 10.0.0.253 dev eth0 mtu 1280\n"
			      "  neighbor 10.0.0.2 lladdr 02:00:00:00:00:0b dev eth0\n"
			      "  forwarding on\n"
			      "  set ip ttl=64\n"
			      "  transport udp\n"
			      "  transport xtp socket=dgram protocol=253\n"
			      "  autopush tap ether arp\n"
			      "  app ping 10.0.0.2 count=3\n"
			      "}\n");
	g_assert_cmpstr(cfg->file, ==, "test.conf");
	g_assert_cmpint(cfg->world.clock, ==, US_CLOCK_REAL);
	g_assert_cmpuint(cfg->world.seed, ==, 42);
	g_assert_cmpint(cfg->world.duration_ns, ==, G_GINT64_CONSTANT(30000000000));
	g_assert_true(cfg->world.clock_set && cfg->world.seed_set && cfg->world.duration_set);
	g_assert_cmpuint(cfg->wires->len, ==, 1);
	const UsCfgWire *w = cfg->wires->pdata[0];
	g_assert_cmpstr(w->name, ==, "lan");
	g_assert_cmpuint(w->params->len, ==, 2);
	g_assert_cmpstr(((UsCfgKv *)w->params->pdata[1])->name, ==, "delay");
	g_assert_cmpstr(((UsCfgKv *)w->params->pdata[1])->value, ==, "1ms");
	g_assert_cmpuint(w->loc.line, ==, 2);
	g_assert_cmpuint(w->loc.col, ==, 6);

	g_assert_cmpuint(cfg->stacks->len, ==, 1);
	const UsCfgStack *s = cfg->stacks->pdata[0];
	g_assert_cmpstr(s->name, ==, "a");
	g_assert_cmpint(s->forwarding, ==, 1);
	const UsCfgIface *ifc = s->ifaces->pdata[0];
	g_assert_cmpstr(ifc->name, ==, "eth0");
	g_assert_cmpstr(ifc->driver, ==, "wire");
	g_assert_cmpstr(ifc->driver_arg, ==, "lan");
	g_assert_cmpuint(ifc->driver_loc.line, ==, 5);
	g_assert_cmpuint(ifc->driver_loc.col, ==, 12);
	g_assert_cmpuint(ifc->params->len, ==, 2);
	g_assert_cmpstr(((UsCfgKv *)ifc->params->pdata[0])->name, ==, "qlimit");
	g_assert_cmpstr(((UsCfgKv *)ifc->params->pdata[1])->value, ==, "200us");
	g_assert_cmpuint(ifc->modules->len, ==, 2);
	const UsCfgModule *m = ifc->modules->pdata[1];
	g_assert_cmpstr(m->name, ==, "ether");
	g_assert_cmpstr(((UsCfgKv *)m->params->pdata[0])->value, ==, "02:00:00:00:00:0a");
	g_assert_cmpuint(ifc->addrs->len, ==, 1);
	g_assert_cmphex(g_array_index(ifc->addrs, UsCfgAddr, 0).addr, ==, g_htonl(0x0a000001));
	g_assert_cmpuint(g_array_index(ifc->addrs, UsCfgAddr, 0).plen, ==, 24);
	g_assert_cmpuint(ifc->mtu, ==, 1400);

	g_assert_cmpuint(s->routes->len, ==, 2);
	const UsCfgRoute *r = s->routes->pdata[0];
	g_assert_true(r->dst == 0 && r->plen == 0 && r->dev == NULL && r->mtu == 0);
	g_assert_cmphex(r->gateway, ==, g_htonl(0x0a0000fe));
	g_assert_cmpuint(r->metric, ==, 10);
	r = s->routes->pdata[1];
	g_assert_cmphex(r->dst, ==, g_htonl(0xac100000));
	g_assert_cmpuint(r->plen, ==, 12);
	g_assert_cmpstr(r->dev, ==, "eth0");
	g_assert_cmpuint(r->mtu, ==, 1280);
	const UsCfgNeighbor *n = s->neighbors->pdata[0];
	g_assert_cmphex(n->addr, ==, g_htonl(0x0a000002));
	g_assert_cmpuint(n->mac[5], ==, 0x0b);
	g_assert_cmpstr(n->dev, ==, "eth0");
	const UsCfgSet *set = s->sets->pdata[0];
	g_assert_cmpstr(set->module, ==, "ip");
	g_assert_cmpstr(((UsCfgKv *)set->params->pdata[0])->name, ==, "ttl");
	g_assert_cmpuint(s->transports->len, ==, 2);
	const UsCfgTransport *t = s->transports->pdata[0];
	g_assert_true(strcmp(t->driver, "udp") == 0 && t->sock_type == 0 && t->protocol == 0);
	t = s->transports->pdata[1];
	g_assert_true(strcmp(t->driver, "xtp") == 0 && t->sock_type == SOCK_DGRAM &&
		      t->protocol == 253);
	const UsCfgAutopush *ap = s->autopush->pdata[0];
	g_assert_cmpstr(ap->driver, ==, "tap");
	g_assert_cmpuint(ap->modules->len, ==, 2);
	g_assert_cmpstr(ap->modules->pdata[1], ==, "arp");
	g_assert_cmpuint(g_array_index(ap->module_locs, UsCfgLoc, 1).col, ==, 22);
	const UsCfgApp *app = s->apps->pdata[0];
	g_assert_cmpstr(app->name, ==, "ping");
	g_assert_null(((UsCfgKv *)app->args->pdata[0])->name);
	g_assert_cmpstr(((UsCfgKv *)app->args->pdata[0])->value, ==, "10.0.0.2");
	g_assert_cmpstr(((UsCfgKv *)app->args->pdata[1])->name, ==, "count");
	us_cfg_free(cfg);
}

static void
test_defaults(void)
{
	UsCfg *cfg = parse_ok("# nothing\n");
	g_assert_cmpint(cfg->world.clock, ==, US_CLOCK_VIRTUAL);
	g_assert_cmpuint(cfg->world.seed, ==, 1);
	g_assert_cmpint(cfg->world.duration_ns, ==, 0);
	g_assert_false(cfg->world.clock_set || cfg->world.seed_set || cfg->world.duration_set);
	g_assert_cmpuint(cfg->stacks->len, ==, 0);
	char *d = us_cfg_dump(cfg);
	g_assert_cmpstr(d, ==, "world {\n\tclock virtual\n\tseed 1\n\tduration 0ns\n}\n");
	g_free(d);
	us_cfg_free(cfg);

	cfg = parse_ok("stack s { interface e { driver lo } }");
	const UsCfgStack *s = cfg->stacks->pdata[0];
	const UsCfgIface *ifc = s->ifaces->pdata[0];
	g_assert_cmpint(s->forwarding, ==, -1);
	g_assert_cmpuint(s->transports->len, ==, 0);
	g_assert_null(ifc->driver_arg);
	g_assert_cmpuint(ifc->mtu, ==, 0);
	us_cfg_free(cfg);
}

/* The dump normalises values and quotes what is not a word. */
static void
test_dump(void)
{
	UsCfg *cfg = parse_ok("wire w { delay 1.5ms; qlimit 4Ki; note \"a b\" }\n"
			      "stack s {\n"
			      "  interface e0 {\n"
			      "    driver tap \"tap 0\" up=on\n"
			      "    push ether mac=02:AB:00:00:00:01\n"
			      "    address 10.0.0.1/8\n"
			      "  }\n"
			      "  neighbor 10.0.0.2 dev e0 lladdr 02:AB:00:00:00:02\n"
			      "  route 0.0.0.0/0 dev e0\n"
			      "  route 10.1.0.0/16 metric 0 via 10.0.0.9\n"
			      "  forwarding 0\n"
			      "  app x \"\" \"a=b\" q=\"\\\"\\x01\" t=2h\n"
			      "}\n");
	char *d = us_cfg_dump(cfg);
	g_assert_cmpstr(d, ==,
			"world {\n\tclock virtual\n\tseed 1\n\tduration 0ns\n}\n"
			"\nwire w {\n\tdelay 1500000ns\n\tqlimit 4096\n\tnote \"a b\"\n}\n"
			"\nstack s {\n"
			"\tinterface e0 {\n"
			"\t\tdriver tap \"tap 0\"\n"
			"\t\tparam up on\n"
			"\t\tpush ether mac=02:AB:00:00:00:01\n"
			"\t\taddress 10.0.0.1/8\n"
			"\t}\n"
			"\troute default dev e0\n"
			"\troute 10.1.0.0/16 via 10.0.0.9\n"
			"\tneighbor 10.0.0.2 lladdr 02:ab:00:00:00:02 dev e0\n"
			"\tforwarding off\n"
			"\tapp x \"\" \"a=b\" q=\"\\\"\\x01\" t=7200000000000ns\n"
			"}\n");
	us_cfg_free(cfg);
	cfg = parse_ok(d);
	char *d2 = us_cfg_dump(cfg);
	g_assert_cmpstr(d, ==, d2);
	g_free(d2);
	g_free(d);
	us_cfg_free(cfg);
}

/* Parse, check, dump, parse the dump, dump again: the same bytes. */
static void
round_trip(const char *path)
{
	GError *e = NULL;
	UsCfg *cfg = us_cfg_parse_file(path, &e);
	g_assert_no_error(e);
	g_assert_true(us_cfg_check(cfg, &e));
	g_assert_no_error(e);
	char *d1 = us_cfg_dump(cfg);
	UsCfg *again = us_cfg_parse_text("dump.conf", d1, &e);
	if (again == NULL)
		g_error("the dump of %s does not parse: %s\n%s", path, e->message, d1);
	g_assert_true(us_cfg_check(again, &e));
	g_assert_no_error(e);
	char *d2 = us_cfg_dump(again);
	g_assert_cmpstr(d1, ==, d2);
	g_assert_cmpuint(again->stacks->len, ==, cfg->stacks->len);
	g_assert_cmpuint(again->wires->len, ==, cfg->wires->len);
	g_free(d1);
	g_free(d2);
	us_cfg_free(again);
	us_cfg_free(cfg);
}

static void
test_good(gconstpointer data)
{
	round_trip(data);
}

static void
test_include(void)
{
	GError *e = NULL;
	char *path = g_build_filename(US_CFG_TEST_DIR, "good", "include.conf", NULL);
	UsCfg *cfg = us_cfg_parse_file(path, &e);
	g_assert_no_error(e);
	/* The top file, then every include once, in the order read. */
	g_assert_cmpuint(cfg->files->len, ==, 4);
	g_assert_cmpstr(cfg->files->pdata[0], ==, path);
	g_assert_true(g_str_has_suffix(cfg->files->pdata[1], "good/inc/world.inc"));
	g_assert_true(g_str_has_suffix(cfg->files->pdata[3], "good/inc/more/lossy.inc"));
	g_assert_cmpuint(cfg->world.seed, ==, 42);
	g_assert_cmpuint(cfg->wires->len, ==, 2);
	const UsCfgWire *w = cfg->wires->pdata[0];
	g_assert_cmpstr(w->name, ==, "lossy");
	g_assert_true(g_str_has_suffix(w->loc.file, "good/inc/wires.inc/../inc/more/lossy.inc") ||
		      g_str_has_suffix(w->loc.file, "good/inc/more/lossy.inc"));
	us_cfg_free(cfg);

	/* From text, includes are relative to the name's directory. */
	char *name = g_build_filename(US_CFG_TEST_DIR, "good", "virtual.conf", NULL);
	cfg = us_cfg_parse_text(name, "include \"inc/wires.inc\"\n", &e);
	g_assert_no_error(e);
	g_assert_cmpuint(cfg->wires->len, ==, 2);
	us_cfg_free(cfg);
	g_free(name);
	g_free(path);
}

/* 16 levels of include below the top file are fine, 17 are not. */
static void
test_include_depth(void)
{
	GError *e = NULL;
	char *dir = g_dir_make_tmp("usconfig-XXXXXX", &e);
	g_assert_no_error(e);
	for (guint i = 0; i <= 17; i++) {
		char *f = g_strdup_printf("%s/d%u.conf", dir, i);
		char *text = i < 17 ? g_strdup_printf("include d%u.conf\n", i + 1)
				    : g_strdup("wire deep {}\n");
		g_assert_true(g_file_set_contents(f, text, -1, NULL));
		g_free(text);
		g_free(f);
	}
	char *top = g_strdup_printf("%s/d1.conf", dir);
	UsCfg *cfg = us_cfg_parse_file(top, &e);
	g_assert_no_error(e);
	g_assert_cmpuint(cfg->files->len, ==, 17);
	us_cfg_free(cfg);
	g_free(top);

	top = g_strdup_printf("%s/d0.conf", dir);
	cfg = us_cfg_parse_file(top, &e);
	g_assert_null(cfg);
	g_assert_error(e, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC);
	char *want = g_strdup_printf("%s/d16.conf:1:9: includes nested more than 16 deep", dir);
	g_assert_true(g_str_has_prefix(e->message, want));
	g_assert_nonnull(strstr(e->message, "(included from "));
	g_clear_error(&e);
	g_free(want);
	g_free(top);
	for (guint i = 0; i <= 17; i++) {
		char *f = g_strdup_printf("%s/d%u.conf", dir, i);
		g_unlink(f);
		g_free(f);
	}
	g_rmdir(dir);
	g_free(dir);
}

static void
test_error_codes(void)
{
	GError *e = NULL;
	g_assert_null(us_cfg_parse_file("/nonexistent/x.conf", &e));
	g_assert_error(e, US_CFG_ERROR, US_CFG_ERROR_IO);
	g_assert_cmpstr(e->message, ==, "/nonexistent/x.conf: No such file or directory");
	g_clear_error(&e);

	g_assert_null(us_cfg_parse_text("t.conf", "stack {", &e));
	g_assert_error(e, US_CFG_ERROR, US_CFG_ERROR_SYNTAX);
	g_assert_cmpstr(e->message, ==, "t.conf:1:7: missing a stack name after 'stack'");
	g_clear_error(&e);

	g_assert_null(us_cfg_parse_text(NULL, "world {}\nworld {}", &e));
	g_assert_error(e, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC);
	g_assert_cmpstr(e->message, ==,
			"<text>:2:1: 'world' given twice in the configuration (first at "
			"<text>:1:1)");
	g_clear_error(&e);

	g_assert_null(us_cfg_parse_text("t.conf", "include nothere.conf", &e));
	g_assert_error(e, US_CFG_ERROR, US_CFG_ERROR_IO);
	g_assert_cmpstr(e->message, ==,
			"t.conf:1:9: cannot read 'nothere.conf': No such file or directory");
	g_clear_error(&e);

	/* A NUL byte in a file is an error at its place. */
	char *dir = g_dir_make_tmp("usconfig-XXXXXX", NULL);
	char *f = g_build_filename(dir, "nul.conf", NULL);
	g_assert_true(g_file_set_contents(f, "world {\n  seed 1\0\n}\n", 20, NULL));
	g_assert_null(us_cfg_parse_file(f, &e));
	g_assert_error(e, US_CFG_ERROR, US_CFG_ERROR_SYNTAX);
	char *want = g_strdup_printf("%s:2:9: unexpected byte 0x00", f);
	g_assert_cmpstr(e->message, ==, want);
	g_clear_error(&e);
	g_free(want);
	g_unlink(f);
	g_rmdir(dir);
	g_free(f);
	g_free(dir);
}

/* A check error from an unknown module is a semantic error. */
static void
test_check_errors(void)
{
	GError *e = NULL;
	UsCfg *cfg = parse_ok("stack s {\n  interface e { driver lo; push nosuchmod }\n}\n");
	g_assert_false(us_cfg_check(cfg, &e));
	g_assert_error(e, US_CFG_ERROR, US_CFG_ERROR_SEMANTIC);
	g_assert_cmpstr(e->message, ==, "test.conf:2:33: unknown module 'nosuchmod'");
	g_clear_error(&e);
	us_cfg_free(cfg);

	cfg = parse_ok("stack s {\n  app ping 10.0.0.1 count=0x10 size=1Ki interval=0\n}\n");
	g_assert_true(us_cfg_check(cfg, &e));
	g_assert_no_error(e);
	us_cfg_free(cfg);
}

/* ------------------------------------------------------------------ */
/* The malformed corpus                                                */
/* ------------------------------------------------------------------ */

typedef struct {
	char *file; /* where the error must be */
	guint line, col;
	char *substring;
} Expect;

/* "# expect: [FILE:]LINE:COL: substring" from the first line of path. */
static gboolean
read_expect(const char *path, Expect *x)
{
	char *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	char *nl = strchr(text, '\n');
	if (nl != NULL)
		*nl = '\0';
	const char *p = text;
	gboolean ok = g_str_has_prefix(p, "# expect: ");
	char *sep = ok ? strstr(p += strlen("# expect: "), ": ") : NULL;
	if (sep != NULL) {
		*sep = '\0';
		x->substring = g_strdup(sep + 2);
		char **parts = g_strsplit(p, ":", -1);
		guint n = g_strv_length(parts);
		ok = n == 2 || n == 3;
		if (ok) {
			char *dir = g_path_get_dirname(path);
			x->file = n == 3 ? g_build_filename(dir, parts[0], NULL) : g_strdup(path);
			x->line = (guint)g_ascii_strtoull(parts[n - 2], NULL, 10);
			x->col = (guint)g_ascii_strtoull(parts[n - 1], NULL, 10);
			ok = x->line > 0 && x->col > 0;
			g_free(dir);
		}
		g_strfreev(parts);
	}
	g_free(text);
	return ok && sep != NULL;
}

static void
test_bad(gconstpointer data)
{
	const char *path = data;
	Expect x = { 0 };
	GError *e = NULL;
	if (!read_expect(path, &x))
		g_error("%s: the first line must be '# expect: [FILE:]LINE:COL: text'", path);
	UsCfg *cfg = us_cfg_parse_file(path, &e);
	if (cfg != NULL) {
		gboolean ok = us_cfg_check(cfg, &e);
		us_cfg_free(cfg);
		if (ok)
			g_error("%s parsed and checked without error", path);
	}
	g_assert_nonnull(e);
	g_assert_true(e->domain == US_CFG_ERROR);
	char *want = g_strdup_printf("%s:%u:%u: ", x.file, x.line, x.col);
	char *head = g_strndup(e->message, strlen(want));
	if (strcmp(head, want) != 0 || strstr(e->message + strlen(head), x.substring) == NULL)
		g_error("%s:\n  got:  %s\n  want: %s...%s...", path, e->message, want, x.substring);
	g_test_message("%s", e->message);
	g_free(head);
	g_free(want);
	g_free(x.file);
	g_free(x.substring);
	g_error_free(e);
}

static gint
cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Registers one test per *.conf in dir (sorted), keeping the paths. */
static void
add_corpus(GPtrArray *keep, const char *dir, const char *prefix, GTestDataFunc fn)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *n;
	while (d != NULL && (n = g_dir_read_name(d)) != NULL)
		if (g_str_has_suffix(n, ".conf"))
			g_ptr_array_add(names, g_strdup(n));
	if (d != NULL)
		g_dir_close(d);
	g_ptr_array_sort(names, cmp_names);
	for (guint i = 0; i < names->len; i++) {
		const char *name = names->pdata[i];
		char *path = g_build_filename(dir, name, NULL);
		char *base = g_strndup(name, strlen(name) - strlen(".conf"));
		char *tname = g_strdup_printf("%s/%s", prefix, base);
		g_ptr_array_add(keep, path);
		g_test_add_data_func(tname, path, fn);
		g_free(tname);
		g_free(base);
	}
	g_ptr_array_unref(names);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	GPtrArray *keep = g_ptr_array_new_with_free_func(g_free);

	g_test_add_func("/config/values/duration", test_duration);
	g_test_add_func("/config/values/size", test_size);
	g_test_add_func("/config/values/bool", test_bool);
	g_test_add_func("/config/values/uint", test_uint);
	g_test_add_func("/config/values/addr", test_addr);
	g_test_add_func("/config/values/mac", test_mac);
	g_test_add_func("/config/values/endpoint", test_endpoint);
	g_test_add_func("/config/values/loc-string", test_loc_string);
	g_test_add_func("/config/values/param-value", test_param_value);
	g_test_add_func("/config/parse/model", test_model);
	g_test_add_func("/config/parse/defaults", test_defaults);
	g_test_add_func("/config/parse/include", test_include);
	g_test_add_func("/config/parse/include-depth", test_include_depth);
	g_test_add_func("/config/parse/error-codes", test_error_codes);
	g_test_add_func("/config/check/errors", test_check_errors);
	g_test_add_func("/config/dump/normalised", test_dump);

	char *good = g_build_filename(US_CFG_TEST_DIR, "good", NULL);
	char *bad = g_build_filename(US_CFG_TEST_DIR, "bad", NULL);
	char *examples = g_build_filename(US_SOURCE_ROOT, "examples", "stacks", NULL);
	add_corpus(keep, good, "/config/good", test_good);
	add_corpus(keep, examples, "/config/examples", test_good);
	add_corpus(keep, bad, "/config/bad", test_bad);
	g_free(good);
	g_free(bad);
	g_free(examples);

	int rc = g_test_run();
	g_ptr_array_unref(keep);
	return rc;
}
