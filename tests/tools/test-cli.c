/* SPDX-License-Identifier: MIT */
/*
 * test-cli.c -- the ustreams command, run as a user would run it:
 *  - every subcommand and --help on each;
 *  - run on every example stack (exit status, the summary's lines);
 *  - check and dump (dump reads back and dumps the same), errors as
 *    file:line:col with exit status 1, usage errors with 2;
 *  - replay: golden outputs committed under tests/replay (real captures
 *    from ../shared/pcaps in, the expected capture compared after the
 *    normalisation), determinism (two replays byte-identical), a readable
 *    diff when the output differs;
 *  - modules and inspect.
 * The binary is US_USTREAMS; the source tree is G_TEST_SRCDIR/..;
 * captures come from US_PCAP_DIR.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>

typedef struct {
	int status;
	char *out, *err;
} Result;

static const char *
tool(void)
{
	const char *t = g_getenv("US_USTREAMS");
	g_assert_nonnull(t);
	return t;
}

static char *
src(const char *rel)
{
	return g_build_filename(g_getenv("G_TEST_SRCDIR"), "..", rel, NULL);
}

static char *
capture(const char *rel)
{
	return g_build_filename(g_getenv("US_PCAP_DIR"), rel, NULL);
}

/* Runs ustreams with the arguments (NULL-terminated). */
static Result
run(const char *first, ...)
{
	GPtrArray *argv = g_ptr_array_new();
	/* Under the valgrind test setup the tool runs under memcheck too. */
	char *supp = NULL;
	if (g_getenv("US_UNDER_VALGRIND") != NULL) {
		supp = g_strdup_printf("--suppressions=%s/../.ci/valgrind.supp",
				       g_getenv("G_TEST_SRCDIR"));
		static const char *const vg[] = { "valgrind",
						  "--quiet",
						  "--error-exitcode=99",
						  "--leak-check=full",
						  "--errors-for-leak-kinds=definite,indirect",
						  "--show-leak-kinds=definite,indirect" };
		for (guint i = 0; i < G_N_ELEMENTS(vg); i++)
			g_ptr_array_add(argv, (gpointer)vg[i]);
		g_ptr_array_add(argv, supp);
	}
	g_ptr_array_add(argv, (gpointer)tool());
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *))
		g_ptr_array_add(argv, (gpointer)a);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	Result r = { 0 };
	GError *error = NULL;
	int wait = 0;
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL,
				   NULL, &r.out, &r.err, &wait, &error));
	g_assert_no_error(error);
	g_ptr_array_free(argv, TRUE);
	g_free(supp);
	r.status = WIFEXITED(wait) ? WEXITSTATUS(wait) : 128;
	g_assert_cmpint(r.status, !=, 99); /* valgrind found an error */
	if (r.status != 0)
		g_test_message("stdout:\n%s\nstderr:\n%s", r.out, r.err);
	return r;
}

static void
result_free(Result *r)
{
	g_free(r->out);
	g_free(r->err);
}

static void
test_help(void)
{
	Result r = run("--help", NULL);
	g_assert_cmpint(r.status, ==, 0);
	static const char *const cmds[] = { "run", "check", "dump", "replay",  "graph",  "stats",
					    "ip",  "push",  "pop",  "modules", "inspect" };
	for (guint i = 0; i < G_N_ELEMENTS(cmds); i++) {
		g_assert_nonnull(strstr(r.out, cmds[i]));
		Result h = run(cmds[i], "--help", NULL);
		g_assert_cmpint(h.status, ==, 0);
		g_assert_nonnull(strstr(h.out, "Usage:"));
		result_free(&h);
	}
	result_free(&r);
	r = run(NULL);
	g_assert_cmpint(r.status, ==, 2);
	result_free(&r);
	r = run("frobnicate", NULL);
	g_assert_cmpint(r.status, ==, 2);
	g_assert_nonnull(strstr(r.err, "unknown command"));
	result_free(&r);
	r = run("run", NULL);
	g_assert_cmpint(r.status, ==, 2);
	result_free(&r);
	r = run("run", "--bogus", "x", NULL);
	g_assert_cmpint(r.status, ==, 2);
	result_free(&r);
}

/* The demo: ARP, ping and UDP echo over a lossy wire, every app ok. */
static void
test_run_demo(void)
{
	char *conf = src("examples/stacks/demo.conf");
	Result r = run("run", conf, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "stack alice"));
	g_assert_nonnull(strstr(r.out, "10.0.0.2/24"));
	g_assert_nonnull(strstr(r.out, "ping 10.0.0.2: 5 sent"));
	g_assert_nonnull(strstr(r.out, "20 echoed intact"));
	g_assert_nonnull(strstr(r.out, "1000000 bytes in"));
	g_assert_nonnull(strstr(r.out, "matches the sink's"));
	g_assert_null(strstr(r.out, "FAILED"));
	/* deterministic: the same summary again, and another with --seed */
	Result r2 = run("run", conf, NULL);
	g_assert_cmpstr(r.out, ==, r2.out);
	Result r3 = run("run", "--seed", "9", "-q", conf, NULL);
	g_assert_cmpint(r3.status, ==, 0);
	g_assert_cmpstr(r3.out, ==, "");
	result_free(&r);
	result_free(&r2);
	result_free(&r3);
	g_free(conf);
}

static void
test_run_examples(void)
{
	static const char *const confs[] = { "router", "splice" };
	for (guint i = 0; i < G_N_ELEMENTS(confs); i++) {
		char *rel = g_strdup_printf("examples/stacks/%s.conf", confs[i]);
		char *conf = src(rel);
		Result r = run("run", conf, NULL);
		g_assert_cmpint(r.status, ==, 0);
		g_assert_nonnull(strstr(r.out, "[ok]"));
		result_free(&r);
		g_free(conf);
		g_free(rel);
	}
	/* --duration bounds a run whose apps never finish */
	char *conf = src("examples/stacks/router.conf");
	Result r = run("run", "--duration", "50ms", conf, NULL);
	g_assert_cmpint(r.status, ==, 1); /* the apps were stopped before the end */
	g_assert_nonnull(strstr(r.out, "0.050 s of virtual time"));
	result_free(&r);
	r = run("run", "--duration", "soon", conf, NULL);
	g_assert_cmpint(r.status, ==, 2);
	result_free(&r);
	g_free(conf);
}

static void
test_check_dump(void)
{
	char *conf = src("examples/stacks/router.conf");
	Result r = run("check", conf, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "ok (3 stacks, 2 wires)"));
	result_free(&r);
	r = run("dump", conf, NULL);
	g_assert_cmpint(r.status, ==, 0);
	char *dir = g_dir_make_tmp("test-cli-XXXXXX", NULL);
	char *copy = g_build_filename(dir, "dumped.conf", NULL);
	g_assert_true(g_file_set_contents(copy, r.out, -1, NULL));
	Result r2 = run("dump", copy, NULL);
	g_assert_cmpint(r2.status, ==, 0);
	g_assert_cmpstr(r.out, ==, r2.out);
	Result r3 = run("run", "-q", copy, NULL);
	g_assert_cmpint(r3.status, ==, 0);
	result_free(&r);
	result_free(&r2);
	result_free(&r3);
	/* an error is file:line:col with status 1, for check and run alike */
	char *bad = g_build_filename(dir, "bad.conf", NULL);
	g_assert_true(g_file_set_contents(
		bad, "stack a {\n  interface e0 {\n    driver wire x\n  }\n}\n", -1, NULL));
	r = run("check", bad, NULL);
	g_assert_cmpint(r.status, ==, 1);
	char *prefix = g_strdup_printf("%s:3:", bad);
	g_assert_true(g_str_has_prefix(r.err, prefix));
	result_free(&r);
	r = run("run", bad, NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_true(g_str_has_prefix(r.err, prefix));
	result_free(&r);
	g_unlink(bad);
	g_unlink(copy);
	g_rmdir(dir);
	g_free(prefix);
	g_free(bad);
	g_free(copy);
	g_free(dir);
	g_free(conf);
}

static void
test_modules_inspect(void)
{
	Result r = run("modules", NULL);
	g_assert_cmpint(r.status, ==, 0);
	static const char *const names[] = { "ip", "arp", "ether", "wire", "pcap", "udp", "icmp" };
	for (guint i = 0; i < G_N_ELEMENTS(names); i++)
		g_assert_nonnull(strstr(r.out, names[i]));
	result_free(&r);
	r = run("inspect", "arp", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "kind module"));
	g_assert_nonnull(strstr(r.out, "retrans_ms"));
	g_assert_nonnull(strstr(r.out, "Drop reasons:"));
	result_free(&r);
	r = run("inspect", "nosuchthing", NULL);
	g_assert_cmpint(r.status, ==, 1);
	result_free(&r);
}

/* Reports at the end of a run, and the graph. */
static void
test_reports(void)
{
	char *conf = src("examples/stacks/router.conf");
	Result r = run("run", "-q", "--stats", "--show", "route,neigh,link,addr", conf, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "ipForwDatagrams"));
	g_assert_nonnull(strstr(r.out, "default via 10.1.0.254 dev eth0"));
	g_assert_nonnull(strstr(r.out, "10.2.0.1 dev eth1 lladdr 02:00:00:00:02:01 REACHABLE"));
	g_assert_nonnull(strstr(r.out, "2: eth1: <UP,RUNNING> mtu 576"));
	g_assert_nonnull(strstr(r.out, "inet 10.2.0.254/24 brd 10.2.0.255 dev eth1"));
	result_free(&r);
	r = run("graph", conf, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "digraph ustreams {"));
	g_assert_nonnull(strstr(r.out, "label=\"stack router\""));
	g_assert_nonnull(strstr(r.out, "m1_ip [label=\"ip\", shape=box3d]"));
	g_assert_nonnull(strstr(r.out, "arp|{w 0/"));
	result_free(&r);
	r = run("graph", "--format", "svg", conf, NULL);
	g_assert_cmpint(r.status, ==, 2); /* svg needs -o */
	result_free(&r);
	char *dot = g_find_program_in_path("dot");
	if (dot != NULL) {
		char *dir = g_dir_make_tmp("test-cli-XXXXXX", NULL);
		char *svg = g_build_filename(dir, "g.svg", NULL);
		r = run("graph", "--format", "svg", "-o", svg, conf, NULL);
		g_assert_cmpint(r.status, ==, 0);
		g_assert_true(g_file_test(svg, G_FILE_TEST_EXISTS));
		result_free(&r);
		g_unlink(svg);
		g_rmdir(dir);
		g_free(svg);
		g_free(dir);
		g_free(dot);
	}
	g_free(conf);
}

/* A running instance answers stats, ip and graph on its control socket. */
static void
test_control(void)
{
	char *dir = g_dir_make_tmp("test-cli-XXXXXX", NULL);
	char *conf = g_build_filename(dir, "rt.conf", NULL);
	char *sock = g_build_filename(dir, "ctl.sock", NULL);
	char *router = src("examples/stacks/router.conf");
	char *text;
	g_assert_true(g_file_get_contents(router, &text, NULL, NULL));
	char **parts = g_strsplit(text, "clock virtual; seed 7", 2);
	char *rt = g_strjoinv("clock real; duration 60s", parts);
	g_strfreev(parts);
	g_assert_true(g_file_set_contents(conf, rt, -1, NULL));
	const char *argv[] = { tool(), "run", "-q", "--control", sock, conf, NULL };
	GPid pid;
	GError *error = NULL;
	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
				    NULL, &pid, &error));
	g_assert_no_error(error);
	for (int i = 0; i < 200 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++)
		g_usleep(10000);
	Result r = run("ip", "route", "--control", sock, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "default via 10.1.0.254 dev eth0"));
	result_free(&r);
	r = run("ip", "addr", "show", "--control", sock, NULL);
	g_assert_nonnull(strstr(r.out, "inet 10.2.0.1/24"));
	result_free(&r);
	r = run("stats", "--control", sock, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "stack router:"));
	result_free(&r);
	r = run("graph", "--control", sock, NULL);
	g_assert_true(g_str_has_prefix(r.out, "digraph"));
	result_free(&r);
	r = run("ip", "bogus", "--control", sock, NULL);
	g_assert_cmpint(r.status, ==, 2);
	result_free(&r);
	r = run("stats", NULL);
	g_assert_cmpint(r.status, ==, 2); /* --control missing */
	result_free(&r);
	/* SIGTERM ends the run early, cleanly (summary, socket removed) */
	g_assert_cmpint(kill(pid, SIGTERM), ==, 0);
	int status = 0;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
	g_assert_true(WIFEXITED(status));
	g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS)); /* removed at exit */
	r = run("stats", "--control", sock, NULL);
	g_assert_cmpint(r.status, ==, 1); /* nobody there */
	result_free(&r);
	g_unlink(conf);
	g_rmdir(dir);
	g_free(rt);
	g_free(text);
	g_free(router);
	g_free(sock);
	g_free(conf);
	g_free(dir);
}

/* push/pop against a running instance: modules go in at the bottom, next
 * to a named module and at the top of a live interface stream (linked under
 * ip), with parameters; what the instance answers lists the stream; errors
 * are "error: ..." with status 1, usage errors status 2. */
static void
test_control_push_pop(void)
{
	char *dir = g_dir_make_tmp("test-cli-XXXXXX", NULL);
	char *conf = g_build_filename(dir, "demo.conf", NULL);
	char *sock = g_build_filename(dir, "ctl.sock", NULL);
	char *demo = src("examples/stacks/demo.conf");
	char *text;
	g_assert_true(g_file_get_contents(demo, &text, NULL, NULL));
	char **parts = g_strsplit(text, "clock virtual", 2);
	char *rt = g_strjoinv("clock real; duration 60s", parts);
	g_strfreev(parts);
	g_assert_true(g_file_set_contents(conf, rt, -1, NULL));
	const char *argv[] = { tool(), "run", "-q", "--control", sock, conf, NULL };
	GPid pid;
	GError *error = NULL;
	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
				    NULL, &pid, &error));
	g_assert_no_error(error);
	for (int i = 0; i < 200 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++)
		g_usleep(10000);
	static const struct {
		const char *args[6];
		int status;
		const char *out;
	} steps[] = {
		{ { "push", "alice", "eth0", "pass", "at=bottom", "mode=1" },
		  0,
		  "ok: alice eth0: ip > arp > ether > pass > wire\n" },
		{ { "push", "alice", "eth0", "pass", "below=arp", "hiwat=128Ki" },
		  0,
		  "ok: alice eth0: ip > arp > pass > ether > pass > wire\n" },
		/* pass's on_set refuses hiwat below its lowat: taken out again */
		{ { "push", "alice", "eth0", "pass", "at=bottom", "hiwat=4Ki" },
		  1,
		  "error: push pass on alice/eth0: lowat 16384 is above hiwat 4096\n" },
		{ { "push", "alice", "eth0", "pass" },
		  0,
		  "ok: alice eth0: ip > pass > arp > pass > ether > pass > wire\n" },
		{ { "pop", "alice", "eth0", "pass" },
		  0,
		  "ok: alice eth0: ip > arp > pass > ether > pass > wire\n" },
		{ { "push", "bob", "eth0", "pass", "above=ether", "mode=2" },
		  0,
		  "ok: bob eth0: ip > arp > pass > ether > wire\n" },
		{ { "push", "alice", "eth0", "pass", "mode=7" }, 1, "error: push pass mode=7: " },
		{ { "push", "alice", "eth0", "pass", "colour=red" },
		  1,
		  "error: push pass colour=red: no such parameter\n" },
		{ { "push", "alice", "eth0", "pass", "below=nat" },
		  1,
		  "error: push pass on alice/eth0: no module nat" },
		{ { "push", "alice", "eth0", "wire" },
		  1,
		  "error: push wire: a driver, not a module\n" },
		{ { "push", "alice", "eth9", "pass" },
		  1,
		  "error: no interface eth9 on a stack alice\n" },
		{ { "pop", "bob", "eth0", "arp", "x" }, 2, "" },
		{ { "pop", "alice", "eth0", "pass" },
		  0,
		  "ok: alice eth0: ip > arp > ether > pass > wire\n" },
		{ { "pop", "alice", "eth0", "pass" },
		  0,
		  "ok: alice eth0: ip > arp > ether > wire\n" },
		{ { "pop", "alice", "eth0", "pass" },
		  1,
		  "error: pop pass on alice/eth0: no module pass" },
		{ { "pop", "bob", "eth0", "pass" }, 0, "ok: bob eth0: ip > arp > ether > wire\n" },
	};
	for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
		const char *const *a = steps[i].args;
		Result r = run(a[0], "--control", sock, a[1], a[2], a[3], a[4], a[5], NULL);
		g_test_message("%s %s %s %s: %s", a[0], a[1], a[2], a[3], r.out);
		g_assert_cmpint(r.status, ==, steps[i].status);
		g_assert_true(g_str_has_prefix(r.out, steps[i].out));
		result_free(&r);
	}
	Result r = run("push", "alice", "eth0", NULL);
	g_assert_cmpint(r.status, ==, 2);
	result_free(&r);
	r = run("pop", "alice", "eth0", "pass", NULL);
	g_assert_cmpint(r.status, ==, 2); /* --control missing */
	result_free(&r);
	/* The instance still works: its interfaces answer, and it ends cleanly. */
	r = run("ip", "link", "--control", sock, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "eth0"));
	result_free(&r);
	g_assert_cmpint(kill(pid, SIGTERM), ==, 0);
	int status = 0;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
	g_assert_true(WIFEXITED(status));
	g_unlink(conf);
	g_rmdir(dir);
	g_free(rt);
	g_free(text);
	g_free(demo);
	g_free(sock);
	g_free(conf);
	g_free(dir);
}

/* Golden replays: the output equals the committed expected capture. */
typedef struct {
	const char *name, *capture;
} Golden;

static const Golden goldens[] = {
	{ "ping-lan", "icmp/suricata_icmpv4-ping-lan.pcap" },
	{ "arp-then-ping", "arp/suricata_arp-then-ping.pcap" },
	{ "frag-ping", "ipv4-frag/suricata_ipv4frags-ping.pcap" },
};

static void
test_replay_golden(gconstpointer data)
{
	const Golden *g = data;
	char *rel = g_strdup_printf("tests/replay/%s.conf", g->name);
	char *conf = src(rel);
	char *erel = g_strdup_printf("tests/replay/%s.expected.pcap", g->name);
	char *expect = src(erel);
	char *in = capture(g->capture);
	char *dir = g_dir_make_tmp("test-cli-XXXXXX", NULL);
	char *out1 = g_build_filename(dir, "1.pcap", NULL);
	char *out2 = g_build_filename(dir, "2.pcap", NULL);
	Result r = run("replay", conf, "--in", in, "--out", out1, "--expect", expect, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "output matches"));
	result_free(&r);
	r = run("replay", conf, "--in", in, "--out", out2, NULL);
	g_assert_cmpint(r.status, ==, 0);
	result_free(&r);
	char *a, *b;
	gsize al, bl;
	g_assert_true(g_file_get_contents(out1, &a, &al, NULL));
	g_assert_true(g_file_get_contents(out2, &b, &bl, NULL));
	g_assert_cmpmem(a, al, b, bl); /* deterministic */
	g_free(a);
	g_free(b);
	g_unlink(out1);
	g_unlink(out2);
	g_rmdir(dir);
	g_free(out1);
	g_free(out2);
	g_free(dir);
	g_free(in);
	g_free(expect);
	g_free(erel);
	g_free(conf);
	g_free(rel);
}

/* A differing output: a readable diff and status 1. */
static void
test_replay_diff(void)
{
	char *conf = src("tests/replay/ping-lan.conf");
	char *in = capture("icmp/suricata_icmpv4-ping-lan.pcap");
	char *other = src("tests/replay/frag-ping.expected.pcap");
	char *dir = g_dir_make_tmp("test-cli-XXXXXX", NULL);
	char *out = g_build_filename(dir, "o.pcap", NULL);
	Result r = run("replay", conf, "--in", in, "--out", out, "--expect", other, NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.out, "frame 1: length 98, expected 1442"));
	g_assert_nonnull(strstr(r.out, "the output has more frames"));
	result_free(&r);
	r = run("replay", conf, "--in", in, NULL);
	g_assert_cmpint(r.status, ==, 2); /* --out missing */
	result_free(&r);
	r = run("replay", conf, "--in", in, "--out", out, "--iface", "host/nope", NULL);
	g_assert_cmpint(r.status, ==, 1);
	result_free(&r);
	g_unlink(out);
	g_rmdir(dir);
	g_free(out);
	g_free(dir);
	g_free(other);
	g_free(in);
	g_free(conf);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cli/help", test_help);
	g_test_add_func("/cli/run/demo", test_run_demo);
	g_test_add_func("/cli/run/examples", test_run_examples);
	g_test_add_func("/cli/check-dump", test_check_dump);
	g_test_add_func("/cli/modules-inspect", test_modules_inspect);
	g_test_add_func("/cli/reports", test_reports);
	g_test_add_func("/cli/control", test_control);
	g_test_add_func("/cli/control/push-pop", test_control_push_pop);
	for (guint i = 0; i < G_N_ELEMENTS(goldens); i++) {
		char *path = g_strdup_printf("/cli/replay/golden/%s", goldens[i].name);
		g_test_add_data_func(path, &goldens[i], test_replay_golden);
		g_free(path);
	}
	g_test_add_func("/cli/replay/diff", test_replay_diff);
	return g_test_run();
}
