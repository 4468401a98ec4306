/* SPDX-License-Identifier: MIT */
/*
 * ustreams -- the command line: compose stacks from a config file, run
 * them, inspect the registry, replay captures.
 *
 *   ustreams run CONFIG [--duration T] [--virtual-time] [--seed S] [--quiet]
 *                [--control PATH] [--stats] [--show LIST]
 *   ustreams check CONFIG
 *   ustreams dump CONFIG
 *   ustreams replay CONFIG --in X.pcap --out Y.pcap [--iface S/I] [--seed S]
 *                  [--expect Z.pcap]
 *   ustreams graph CONFIG [--format dot|svg|png] [-o FILE] [--duration T]
 *   ustreams stats --control PATH
 *   ustreams ip addr|route|neigh|link [show] --control PATH
 *   ustreams push STACK IFACE MODULE [below=NAME|above=NAME|at=top|at=bottom]
 *                 [name=value ...] --control PATH
 *   ustreams pop STACK IFACE MODULE --control PATH
 *   ustreams modules
 *   ustreams inspect NAME
 *
 * Every subcommand takes --help (GOptionContext).  Exit status: 0 on
 * success; 1 when a config is invalid, a build fails or an app did not do
 * what it was asked; 2 for bad usage.  Config errors are printed as
 * "file:line:col: message".
 */
#include "../config/config.h"

#include <ustreams/ustreams.h>

#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
	const char *name;
	const char *args;
	const char *summary;
	int (*main)(int argc, char **argv);
} Command;

static const Command *commands_table(guint *n);

/* Parses a subcommand's options; prints usage and returns FALSE on error. */
static gboolean
parse_options(const char *cmd, const char *args, const char *summary, GOptionEntry *entries,
	      int *argc, char ***argv)
{
	char *param = g_strdup_printf("%s %s", cmd, args);
	GOptionContext *ctx = g_option_context_new(param);
	g_option_context_set_summary(ctx, summary);
	if (entries != NULL)
		g_option_context_add_main_entries(ctx, entries, NULL);
	GError *error = NULL;
	gboolean ok = g_option_context_parse(ctx, argc, argv, &error);
	if (!ok) {
		fprintf(stderr, "ustreams %s: %s\n", cmd, error->message);
		g_error_free(error);
	}
	g_option_context_free(ctx);
	g_free(param);
	return ok;
}

static UsCfg *
load(const char *path)
{
	GError *error = NULL;
	UsCfg *cfg = us_cfg_parse_file(path, &error);
	if (cfg != NULL && !us_cfg_check(cfg, &error)) {
		us_cfg_free(cfg);
		cfg = NULL;
	}
	if (cfg == NULL) {
		fprintf(stderr, "%s\n", error->message);
		g_error_free(error);
	}
	return cfg;
}

static int
need_one(const char *cmd, int argc, const char *what)
{
	if (argc == 2)
		return 0;
	fprintf(stderr, "ustreams %s: expected one %s (see ustreams %s --help)\n", cmd, what, cmd);
	return 2;
}

/* ------------------------------------------------------------------ */
/* run                                                                */
/* ------------------------------------------------------------------ */

static UsCfgRun *signalled_run;

static gboolean
on_signal(gpointer data)
{
	(void)data;
	if (signalled_run != NULL)
		us_cfg_run_stop(signalled_run);
	return G_SOURCE_CONTINUE;
}

/* Prints the reports named in a comma-separated list. */
static void
print_reports(UsCfgRun *run, const char *list)
{
	char **names = g_strsplit(list, ",", -1);
	for (guint i = 0; names[i] != NULL; i++) {
		GError *error = NULL;
		char *text = us_cfg_report(run, g_strstrip(names[i]), &error);
		if (text == NULL) {
			fprintf(stderr, "ustreams: %s\n", error->message);
			g_error_free(error);
			continue;
		}
		printf("--- %s\n%s", names[i], text);
		g_free(text);
	}
	g_strfreev(names);
}

static int
cmd_run(int argc, char **argv)
{
	char *duration = NULL, *control = NULL, *show = NULL;
	gboolean virt = FALSE, quiet = FALSE, stats = FALSE;
	gint64 seed = -1;
	GOptionEntry entries[] = {
		{ "control", 'c', 0, G_OPTION_ARG_FILENAME, &control,
		  "answer `ustreams stats/ip/graph --control PATH` on this Unix socket", "PATH" },
		{ "stats", 's', 0, G_OPTION_ARG_NONE, &stats, "print every statistic at the end",
		  NULL },
		{ "show", 0, 0, G_OPTION_ARG_STRING, &show,
		  "print these reports at the end (link,addr,route,neigh,stats,graph)", "LIST" },
		{ "duration", 'd', 0, G_OPTION_ARG_STRING, &duration,
		  "run for this long (world time), e.g. 10s", "T" },
		{ "virtual-time", 0, 0, G_OPTION_ARG_NONE, &virt, "force the virtual clock", NULL },
		{ "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "seed of the world's random numbers",
		  "S" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "no summary", NULL },
		{ NULL },
	};
	if (!parse_options("run", "CONFIG",
			   "Builds the stacks of CONFIG and runs them until the "
			   "apps are done, the duration has passed, or a signal.",
			   entries, &argc, &argv))
		return 2;
	int rc = need_one("run", argc, "CONFIG");
	gint64 dur = 0;
	if (rc == 0 && duration != NULL && !us_cfg_parse_duration(duration, &dur)) {
		fprintf(stderr, "ustreams run: bad duration '%s'\n", duration);
		rc = 2;
	}
	g_free(duration);
	if (rc != 0)
		return rc;
	UsCfg *cfg = load(argv[1]);
	if (cfg == NULL)
		return 1;
	if (virt)
		cfg->world.clock = US_CLOCK_VIRTUAL;
	if (seed >= 0)
		cfg->world.seed = (guint64)seed;
	GError *error = NULL;
	UsCfgRun *run = us_cfg_build(cfg, &error);
	if (run == NULL) {
		fprintf(stderr, "%s\n", error->message);
		g_error_free(error);
		us_cfg_free(cfg);
		return 1;
	}
	UsCfgControl *ctl = control != NULL ? us_cfg_control_start(run, control, &error) : NULL;
	if (control != NULL && ctl == NULL) {
		fprintf(stderr, "ustreams run: --control: %s\n", error->message);
		g_clear_error(&error);
	}
	signalled_run = run;
	/* The signal sources go on the world's context: it is what runs. */
	GSource *sigs[2] = { g_unix_signal_source_new(SIGINT), g_unix_signal_source_new(SIGTERM) };
	for (guint i = 0; i < 2; i++) {
		g_source_set_callback(sigs[i], on_signal, NULL, NULL);
		g_source_attach(sigs[i], us_world_context(us_cfg_run_world(run)));
	}
	gboolean ok = us_cfg_run(run, dur);
	for (guint i = 0; i < 2; i++) {
		g_source_destroy(sigs[i]);
		g_source_unref(sigs[i]);
	}
	signalled_run = NULL;
	us_cfg_control_stop(ctl);
	char *summary = us_cfg_run_summary(run);
	if (!quiet)
		fputs(summary, stdout);
	g_free(summary);
	if (stats)
		print_reports(run, "stats");
	if (show != NULL)
		print_reports(run, show);
	g_free(control);
	g_free(show);
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	return ok ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* check, dump                                                        */
/* ------------------------------------------------------------------ */

static int
cmd_check(int argc, char **argv)
{
	if (!parse_options("check", "CONFIG", "Validates CONFIG without building anything.", NULL,
			   &argc, &argv))
		return 2;
	int rc = need_one("check", argc, "CONFIG");
	if (rc != 0)
		return rc;
	UsCfg *cfg = load(argv[1]);
	if (cfg == NULL)
		return 1;
	printf("%s: ok (%u stacks, %u wires)\n", argv[1], cfg->stacks->len, cfg->wires->len);
	us_cfg_free(cfg);
	return 0;
}

static int
cmd_dump(int argc, char **argv)
{
	if (!parse_options("dump", "CONFIG",
			   "Prints the effective configuration (includes expanded, defaults "
			   "explicit), which reads back to the same stacks.",
			   NULL, &argc, &argv))
		return 2;
	int rc = need_one("dump", argc, "CONFIG");
	if (rc != 0)
		return rc;
	UsCfg *cfg = load(argv[1]);
	if (cfg == NULL)
		return 1;
	char *text = us_cfg_dump(cfg);
	fputs(text, stdout);
	g_free(text);
	us_cfg_free(cfg);
	return 0;
}

/* ------------------------------------------------------------------ */
/* replay                                                             */
/* ------------------------------------------------------------------ */

static void
replay_progress(guint64 done, guint64 total, gpointer data)
{
	(void)data;
	int width = 40, fill = total ? (int)(width * done / total) : width;
	fprintf(stderr, "\r[%.*s%*s] %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " frames", fill,
		"########################################", width - fill, "", done, total);
	if (done == total)
		fputc('\n', stderr);
}

/* The interface to replay through: --iface STACK/IFACE, or the first one
 * with the pcap driver. */
static gboolean
replay_target(const UsCfg *cfg, const char *spec, char **stack, char **iface)
{
	for (guint i = 0; i < cfg->stacks->len; i++) {
		const UsCfgStack *cs = cfg->stacks->pdata[i];
		for (guint j = 0; j < cs->ifaces->len; j++) {
			const UsCfgIface *ci = cs->ifaces->pdata[j];
			char *name = g_strdup_printf("%s/%s", cs->name, ci->name);
			gboolean hit = spec != NULL ? strcmp(spec, name) == 0
						    : strcmp(ci->driver, "pcap") == 0;
			g_free(name);
			if (hit) {
				*stack = g_strdup(cs->name);
				*iface = g_strdup(ci->name);
				return TRUE;
			}
		}
	}
	return FALSE;
}

static int
replay_compare(const char *out, const char *expect, gint64 tol)
{
	char *diff = NULL;
	GError *error = NULL;
	if (us_cfg_pcap_compare(out, expect, tol, &diff, &error)) {
		printf("output matches %s\n", expect);
		return 0;
	}
	if (error != NULL) {
		fprintf(stderr, "ustreams replay: %s\n", error->message);
		g_error_free(error);
		return 1;
	}
	printf("output differs from %s (after normalisation):\n%s", expect, diff);
	g_free(diff);
	return 1;
}

static int
replay_run(UsCfg *cfg, const char *spec, const char *in, const char *out, gint64 settle,
	   gboolean progress)
{
	char *stack = NULL, *iface = NULL;
	if (!replay_target(cfg, spec, &stack, &iface)) {
		fprintf(stderr, "ustreams replay: %s\n",
			spec ? "no such interface (give --iface STACK/IFACE)"
			     : "the config has no interface with the pcap driver");
		return 1;
	}
	cfg->world.clock = US_CLOCK_VIRTUAL;
	GError *error = NULL;
	UsCfgRun *run = us_cfg_build(cfg, &error);
	gboolean ok = run != NULL && us_cfg_replay(run, stack, iface, in, out, settle,
						   progress ? replay_progress : NULL, NULL, &error);
	if (!ok) {
		fprintf(stderr, "ustreams replay: %s\n", error->message);
		g_error_free(error);
	}
	us_cfg_run_free(run);
	g_free(stack);
	g_free(iface);
	return ok ? 0 : 1;
}

static int
cmd_replay(int argc, char **argv)
{
	char *in = NULL, *out = NULL, *iface = NULL, *expect = NULL, *settle = NULL, *tol = NULL;
	gint64 seed = -1;
	GOptionEntry entries[] = {
		{ "in", 'i', 0, G_OPTION_ARG_FILENAME, &in, "capture to replay (pcap/pcapng)",
		  "X.pcap" },
		{ "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "capture of what the stack sent",
		  "Y.pcap" },
		{ "iface", 0, 0, G_OPTION_ARG_STRING, &iface,
		  "interface to replay through (default: the first pcap one)", "STACK/IFACE" },
		{ "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "seed of the world's random numbers",
		  "S" },
		{ "expect", 0, 0, G_OPTION_ARG_FILENAME, &expect,
		  "compare the output with this capture (normalised)", "Z.pcap" },
		{ "settle", 0, 0, G_OPTION_ARG_STRING, &settle,
		  "world time to run after the last frame (default 1s)", "T" },
		{ "tolerance", 0, 0, G_OPTION_ARG_STRING, &tol,
		  "timestamp tolerance for --expect (default 1ms)", "T" },
		{ NULL },
	};
	int rc = parse_options("replay", "CONFIG",
			       "Replays a capture through a stack of CONFIG in virtual time; "
			       "what the stack sends goes to --out.  Deterministic: same "
			       "capture, config and seed give the same bytes.",
			       entries, &argc, &argv)
			 ? need_one("replay", argc, "CONFIG")
			 : 2;
	gint64 settle_ns = 1000000000, tol_ns = 1000000;
	if (rc == 0 && (in == NULL || out == NULL)) {
		fprintf(stderr, "ustreams replay: --in and --out are required\n");
		rc = 2;
	}
	if (rc == 0 && ((settle && !us_cfg_parse_duration(settle, &settle_ns)) ||
			(tol && !us_cfg_parse_duration(tol, &tol_ns)))) {
		fprintf(stderr, "ustreams replay: bad duration\n");
		rc = 2;
	}
	UsCfg *cfg = rc == 0 ? load(argv[1]) : NULL;
	if (rc == 0 && cfg == NULL)
		rc = 1;
	if (cfg != NULL && seed >= 0)
		cfg->world.seed = (guint64)seed;
	if (cfg != NULL)
		rc = replay_run(cfg, iface, in, out, settle_ns, isatty(fileno(stderr)));
	if (rc == 0 && expect != NULL)
		rc = replay_compare(out, expect, tol_ns);
	us_cfg_free(cfg);
	g_free(in);
	g_free(out);
	g_free(iface);
	g_free(expect);
	g_free(settle);
	g_free(tol);
	return rc;
}

/* ------------------------------------------------------------------ */
/* graph, stats, ip                                                   */
/* ------------------------------------------------------------------ */

/* Renders DOT with Graphviz into out (format svg or png). */
static int
graph_render(const char *dot, const char *format, const char *out)
{
	char *exe = g_find_program_in_path("dot");
	if (exe == NULL) {
		fprintf(stderr,
			"ustreams graph: Graphviz (dot) is not installed; use --format dot\n");
		return 1;
	}
	char *fmt = g_strdup_printf("-T%s", format);
	const char *argv[] = { exe, fmt, "-o", out, NULL };
	GError *error = NULL;
	GPid pid;
	int in = -1, status = 0;
	gboolean ok = g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
					       NULL, NULL, &pid, &in, NULL, NULL, &error);
	if (ok) {
		size_t len = strlen(dot);
		ok = write(in, dot, len) == (ssize_t)len;
		close(in);
		waitpid(pid, &status, 0);
		g_spawn_close_pid(pid);
		ok = ok && g_spawn_check_wait_status(status, NULL);
	}
	if (!ok)
		fprintf(stderr, "ustreams graph: dot failed%s%s\n", error ? ": " : "",
			error ? error->message : "");
	g_clear_error(&error);
	g_free(fmt);
	g_free(exe);
	return ok ? 0 : 1;
}

static int
graph_output(const char *dot, const char *format, const char *out)
{
	if (strcmp(format, "dot") != 0) {
		if (out == NULL) {
			fprintf(stderr, "ustreams graph: --format %s needs -o FILE\n", format);
			return 2;
		}
		return graph_render(dot, format, out);
	}
	if (out == NULL) {
		fputs(dot, stdout);
		return 0;
	}
	GError *error = NULL;
	if (g_file_set_contents(out, dot, -1, &error))
		return 0;
	fprintf(stderr, "ustreams graph: %s\n", error->message);
	g_error_free(error);
	return 1;
}

static int
cmd_graph(int argc, char **argv)
{
	char *format = NULL, *out = NULL, *duration = NULL, *control = NULL;
	GOptionEntry entries[] = {
		{ "format", 'T', 0, G_OPTION_ARG_STRING, &format, "dot (default), svg or png",
		  "FMT" },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "write to FILE", "FILE" },
		{ "duration", 'd', 0, G_OPTION_ARG_STRING, &duration,
		  "run this long first, to show queue fill", "T" },
		{ "control", 'c', 0, G_OPTION_ARG_FILENAME, &control,
		  "ask a running instance instead (no CONFIG)", "PATH" },
		{ NULL },
	};
	int rc = parse_options("graph", "[CONFIG]",
			       "The stream graph of CONFIG's stacks (or of a running "
			       "instance) as DOT: every stream's queues with their fill "
			       "(w/r count/hiwat, red when full) and the multiplexor links.",
			       entries, &argc, &argv)
			 ? 0
			 : 2;
	const char *fmt = format != NULL ? format : "dot";
	gint64 dur = 0;
	if (rc == 0 && duration != NULL && !us_cfg_parse_duration(duration, &dur))
		rc = 2;
	if (rc == 0 && control == NULL && (rc = need_one("graph", argc, "CONFIG")) == 0) {
		UsCfg *cfg = load(argv[1]);
		GError *error = NULL;
		UsCfgRun *run = cfg != NULL ? us_cfg_build(cfg, &error) : NULL;
		if (run != NULL) {
			if (dur > 0)
				us_cfg_run(run, dur);
			char *dot = us_cfg_report(run, "graph", NULL);
			rc = graph_output(dot, fmt, out);
			g_free(dot);
		} else {
			if (error != NULL)
				fprintf(stderr, "%s\n", error->message);
			g_clear_error(&error);
			rc = 1;
		}
		us_cfg_run_free(run);
		us_cfg_free(cfg);
	} else if (rc == 0) {
		GError *error = NULL;
		char *dot = us_cfg_control_query(control, "graph", &error);
		rc = dot != NULL ? graph_output(dot, fmt, out) : 1;
		if (dot == NULL)
			fprintf(stderr, "ustreams graph: %s\n", error->message);
		g_clear_error(&error);
		g_free(dot);
	}
	g_free(format);
	g_free(out);
	g_free(duration);
	g_free(control);
	return rc;
}

static int
query(const char *cmd, const char *control, const char *what)
{
	if (control == NULL) {
		fprintf(stderr,
			"ustreams %s: --control PATH is required (the socket given to "
			"`ustreams run --control PATH`)\n",
			cmd);
		return 2;
	}
	GError *error = NULL;
	char *text = us_cfg_control_query(control, what, &error);
	if (text == NULL) {
		fprintf(stderr, "ustreams %s: %s\n", cmd, error->message);
		g_error_free(error);
		return 1;
	}
	fputs(text, stdout);
	int rc = g_str_has_prefix(text, "error:") ? 1 : 0;
	g_free(text);
	return rc;
}

static int
cmd_stats(int argc, char **argv)
{
	char *control = NULL;
	GOptionEntry entries[] = {
		{ "control", 'c', 0, G_OPTION_ARG_FILENAME, &control, "the instance's socket",
		  "PATH" },
		{ NULL },
	};
	if (!parse_options("stats", "",
			   "Every module instance's statistics and the drops of a running "
			   "instance (`ustreams run --control PATH`).",
			   entries, &argc, &argv))
		return 2;
	int rc = query("stats", control, "stats");
	g_free(control);
	return rc;
}

static int
cmd_ip(int argc, char **argv)
{
	char *control = NULL;
	GOptionEntry entries[] = {
		{ "control", 'c', 0, G_OPTION_ARG_FILENAME, &control, "the instance's socket",
		  "PATH" },
		{ NULL },
	};
	if (!parse_options("ip", "addr|route|neigh|link [show]",
			   "The ip tables of a running instance, as iproute2 shows them.", entries,
			   &argc, &argv))
		return 2;
	static const char *const objs[] = { "addr", "route", "neigh", "link" };
	const char *what = NULL;
	for (guint i = 0; argc >= 2 && i < G_N_ELEMENTS(objs); i++)
		if (g_str_has_prefix(objs[i], argv[1]) && argv[1][0] != '\0')
			what = objs[i];
	int rc;
	if (what == NULL || argc > 3 || (argc == 3 && strcmp(argv[2], "show") != 0)) {
		fprintf(stderr, "ustreams ip: expected addr|route|neigh|link [show]\n");
		rc = 2;
	} else {
		rc = query("ip", control, what);
	}
	g_free(control);
	return rc;
}

/* ------------------------------------------------------------------ */
/* push, pop                                                          */
/* ------------------------------------------------------------------ */

/* Sends argv[1..] as one control request (words separated by spaces, so no
 * word may contain blanks or line ends). */
static int
splice_request(const char *cmd, const char *args, const char *summary, guint min_args,
	       guint max_args, int argc, char **argv)
{
	char *control = NULL;
	GOptionEntry entries[] = {
		{ "control", 'c', 0, G_OPTION_ARG_FILENAME, &control, "the instance's socket",
		  "PATH" },
		{ NULL },
	};
	if (!parse_options(cmd, args, summary, entries, &argc, &argv))
		return 2;
	int rc = 0;
	if ((guint)argc < min_args + 1 || (guint)argc > max_args + 1) {
		fprintf(stderr, "ustreams %s: expected %s\n", cmd, args);
		rc = 2;
	}
	for (int i = 1; rc == 0 && i < argc; i++) {
		if (argv[i][0] == '\0' || strpbrk(argv[i], " \t\r\n") != NULL) {
			fprintf(stderr, "ustreams %s: '%s': words may not contain blanks\n", cmd,
				argv[i]);
			rc = 2;
		}
	}
	if (rc == 0) {
		GString *line = g_string_new(cmd);
		for (int i = 1; i < argc; i++)
			g_string_append_printf(line, " %s", argv[i]);
		rc = query(cmd, control, line->str);
		g_string_free(line, TRUE);
	}
	g_free(control);
	return rc;
}

static int
cmd_push(int argc, char **argv)
{
	return splice_request(
		"push",
		"STACK IFACE MODULE [below=NAME|above=NAME|at=top|at=bottom] "
		"[name=value ...]",
		"Pushes MODULE on interface IFACE of STACK in a running instance "
		"(`ustreams run --control PATH`), without losing or reordering traffic: "
		"just below ip (at=top, the default), just above the driver (at=bottom), "
		"or next to a module already there; name=value are the module's "
		"parameters, as in a config file.",
		3, G_MAXINT, argc, argv);
}

static int
cmd_pop(int argc, char **argv)
{
	return splice_request(
		"pop", "STACK IFACE MODULE",
		"Pops MODULE (its topmost instance) off interface IFACE of STACK in a "
		"running instance; what it still held goes on in order.",
		3, 3, argc, argv);
}

/* ------------------------------------------------------------------ */
/* modules, inspect                                                   */
/* ------------------------------------------------------------------ */

static const char *
kind_name(UsKind k)
{
	switch (k) {
	case US_KIND_MODULE: return "module";
	case US_KIND_DRIVER: return "driver";
	case US_KIND_MUX: return "multiplexor";
	default: return "?";
	}
}

static int
cmd_modules(int argc, char **argv)
{
	if (!parse_options("modules", "",
			   "Lists the registry: built-in drivers, modules and multiplexors, and "
			   "the plug-ins found on US_MODULE_PATH and in the install directory.",
			   NULL, &argc, &argv))
		return 2;
	GError *error = NULL;
	GPtrArray *plugins = us_registry_scan_plugins(&error);
	if (plugins == NULL) {
		fprintf(stderr, "ustreams modules: %s\n", error->message);
		g_clear_error(&error);
	} else {
		g_ptr_array_free(plugins, TRUE);
	}
	GPtrArray *all = us_registry_list();
	for (guint i = 0; i < all->len; i++) {
		const UsModuleDesc *d = all->pdata[i];
		printf("%-12s %-12s %s\n", d->name, kind_name(d->kind),
		       d->summary != NULL ? d->summary : "");
	}
	g_ptr_array_free(all, TRUE);
	return 0;
}

static const char *
param_type(UsParamType t)
{
	static const char *const names[] = { "?", "int", "uint", "bool", "string", "double" };
	return (guint)t < G_N_ELEMENTS(names) ? names[t] : "?";
}

static void
inspect_params(const UsModuleDesc *d)
{
	const char *how = d->kind == US_KIND_MODULE ? "push"
			  : d->kind == US_KIND_MUX  ? "set"
						    : "driver";
	printf("\nParameters (us_param_set; \"%s %s name=value\" in a config):\n", how, d->name);
	if (d->params == NULL || d->params[0].name == NULL)
		printf("  none\n");
	for (const UsParamDesc *p = d->params; p != NULL && p->name != NULL; p++) {
		printf("  %-18s %-6s %s", p->name, param_type(p->type), p->description);
		if ((p->type == US_PARAM_INT || p->type == US_PARAM_UINT) && p->max != 0)
			printf(" [%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT "]", p->min, p->max);
		printf("\n");
	}
}

static int
cmd_inspect(int argc, char **argv)
{
	if (!parse_options("inspect", "NAME",
			   "Describes a driver, module or multiplexor: kind, parameters, "
			   "statistics, drop reasons and the messages it handles.",
			   NULL, &argc, &argv))
		return 2;
	int rc = need_one("inspect", argc, "NAME");
	if (rc != 0)
		return rc;
	GError *error = NULL;
	const UsModuleDesc *d = us_registry_lookup(argv[1], &error);
	if (d == NULL) {
		fprintf(stderr, "ustreams inspect: %s\n", error->message);
		g_error_free(error);
		return 1;
	}
	printf("%s: %s\n  kind %s, ABI %u, %s\n", d->name, d->summary ? d->summary : "",
	       kind_name(d->kind), d->abi_version,
	       (d->mt_flags & US_MT_PERSTACK) ? "state shared per stack" : "state per stream");
	const struct module_info *mi =
		d->streamtab && d->streamtab->st_rdinit ? d->streamtab->st_rdinit->qi_minfo : NULL;
	if (mi != NULL)
		printf("  module_info: id %u, packet size %zd..%zd, water marks %zu/%zu\n",
		       (unsigned)mi->mi_idnum, (ssize_t)mi->mi_minpsz, (ssize_t)mi->mi_maxpsz,
		       (size_t)mi->mi_hiwat, (size_t)mi->mi_lowat);
	inspect_params(d);
	printf("\nStatistics (us_stat_get):\n");
	for (const UsStatDesc *s = d->stats; s != NULL && s->name != NULL; s++)
		printf("  %-22s %s\n", s->name, s->description);
	printf("\nDrop reasons:\n");
	for (guint i = 0; d->drop_reasons != NULL && d->drop_reasons[i] != NULL; i++)
		printf("  %2u %s\n", i, d->drop_reasons[i]);
	printf("\nMessages handled:\n");
	for (guint i = 0; d->accepts != NULL && d->accepts[i] != NULL; i++)
		printf("  %s\n", d->accepts[i]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                           */
/* ------------------------------------------------------------------ */

static const Command commands[] = {
	{ "run", "CONFIG", "build and run the stacks of a config", cmd_run },
	{ "check", "CONFIG", "validate a config", cmd_check },
	{ "dump", "CONFIG", "print the effective config", cmd_dump },
	{ "replay", "CONFIG", "replay a capture through a stack (virtual time)", cmd_replay },
	{ "graph", "CONFIG", "the stream graph as DOT (or SVG/PNG with Graphviz)", cmd_graph },
	{ "stats", "", "statistics of a running instance (--control)", cmd_stats },
	{ "ip", "OBJECT", "addr/route/neigh/link of a running instance (--control)", cmd_ip },
	{ "push", "STACK IFACE MODULE", "push a module on a running interface (--control)",
	  cmd_push },
	{ "pop", "STACK IFACE MODULE", "pop a module off a running interface (--control)",
	  cmd_pop },
	{ "modules", "", "list drivers, modules and plug-ins", cmd_modules },
	{ "inspect", "NAME", "describe one of them", cmd_inspect },
};

static const Command *
commands_table(guint *n)
{
	*n = G_N_ELEMENTS(commands);
	return commands;
}

static void
usage(FILE *f)
{
	guint n;
	const Command *c = commands_table(&n);
	fprintf(f, "Usage: ustreams COMMAND [OPTIONS] ARGS\n\nCommands:\n");
	for (guint i = 0; i < n; i++)
		fprintf(f, "  %-8s %-8s %s\n", c[i].name, c[i].args, c[i].summary);
	fprintf(f, "\nustreams COMMAND --help describes one.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	us_init();
	guint n;
	const Command *c = commands_table(&n);
	for (guint i = 0; i < n; i++)
		if (strcmp(argv[1], c[i].name) == 0)
			return c[i].main(argc - 1, argv + 1);
	fprintf(stderr, "ustreams: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
