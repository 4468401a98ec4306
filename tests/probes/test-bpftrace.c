/* SPDX-License-Identifier: MIT */
/*
 * test-bpftrace.c -- the scripts of examples/bpftrace/ run with bpftrace
 * against `ustreams run examples/stacks/demo.conf` (two hosts, ping, UDP
 * echo, a 1 MB TCP transfer over a lossy wire), checking what they print.
 *
 * Each script is started on the library (uprobes attach to the file, so no
 * pid is needed), the demo runs once bpftrace says it is attaching, then
 * SIGINT makes bpftrace print its maps and exit.  Every step has a deadline.
 *
 * Skips, saying why, unless: running as root, bpftrace is installed, the
 * kernel has the uprobe PMU, and bpftrace can load a program at all (not
 * the case in an unprivileged container).  After those checks a failure is
 * a failure: a probe bpftrace cannot find, or a script printing nothing.
 *
 * Environment (set by meson): US_PROBES_LIB, US_USTREAMS, US_SOURCE_ROOT.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#define ATTACH_TIMEOUT_S 90
#define DEMO_TIMEOUT_S 60
#define EXIT_TIMEOUT_S 60

typedef struct {
	GPid pid;
	int fd; /* stdout and stderr, merged */
	GString *out;
	int status;
	gboolean exited;
} Child;

static const char *skip_reason;

static void
child_start(Child *c, const char *const *argv)
{
	int p[2];
	g_assert_cmpint(pipe(p), ==, 0);
	GError *error = NULL;
	gboolean ok = g_spawn_async_with_pipes_and_fds(
		NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, -1,
		p[1], p[1], NULL, NULL, 0, &c->pid, NULL, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
	close(p[1]);
	c->fd = p[0];
	c->out = g_string_new(NULL);
	c->exited = FALSE;
	g_assert_cmpint(fcntl(c->fd, F_SETFL, O_NONBLOCK), ==, 0);
}

/* Reads what the child printed until needle appears (needle NULL: until
 * end of file) or the deadline (monotonic, µs) passes.  TRUE when found. */
static gboolean
child_read_until(Child *c, const char *needle, gint64 deadline)
{
	while (c->fd >= 0) {
		if (needle != NULL && strstr(c->out->str, needle) != NULL)
			return TRUE;
		gint64 left = deadline - g_get_monotonic_time();
		if (left <= 0)
			return FALSE;
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int n = poll(&pfd, 1, (int)MIN(left / 1000 + 1, 1000));
		if (n < 0 && errno == EINTR)
			continue;
		g_assert_cmpint(n, >=, 0);
		if (n == 0)
			continue;
		char buf[4096];
		ssize_t got = read(c->fd, buf, sizeof buf);
		if (got > 0) {
			g_string_append_len(c->out, buf, got);
		} else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(c->fd);
			c->fd = -1;
		}
	}
	return needle == NULL || strstr(c->out->str, needle) != NULL;
}

/* Waits for the child to exit until the deadline, then kills it. */
static void
child_wait(Child *c, gint64 deadline)
{
	while (!c->exited) {
		pid_t r = waitpid(c->pid, &c->status, WNOHANG);
		g_assert_cmpint(r, >=, 0);
		if (r == c->pid) {
			c->exited = TRUE;
			break;
		}
		if (g_get_monotonic_time() > deadline) {
			kill(c->pid, SIGKILL);
			g_assert_cmpint(waitpid(c->pid, &c->status, 0), ==, c->pid);
			c->exited = TRUE;
			c->status = -1;
			break;
		}
		g_usleep(20000);
	}
	g_spawn_close_pid(c->pid);
}

static void
child_clear(Child *c)
{
	if (c->fd >= 0)
		close(c->fd);
	g_string_free(c->out, TRUE);
}

/* Why this machine cannot run the test, or NULL. */
static const char *
why_not_here(void)
{
	static char why[512];
#if !(defined(US_HAVE_SDT) && US_HAVE_SDT)
	return "built with -Dprobes=disabled (or without sys/sdt.h): the library has no probes";
#endif
	if (geteuid() != 0)
		return "needs root (bpftrace attaches uprobes)";
	gchar *bt = g_find_program_in_path("bpftrace");
	if (bt == NULL)
		return "bpftrace is not installed (apt-get install bpftrace)";
	g_free(bt);
	if (!g_file_test("/sys/bus/event_source/devices/uprobe", G_FILE_TEST_IS_DIR))
		return "the kernel has no uprobe PMU (/sys/bus/event_source/devices/uprobe)";
	if (g_getenv("US_PROBES_LIB") == NULL || g_getenv("US_USTREAMS") == NULL)
		return "US_PROBES_LIB or US_USTREAMS not set (run through meson test)";
	Child c;
	const char *argv[] = { "bpftrace", "-e", "BEGIN { printf(\"ready\\n\"); exit(); }", NULL };
	child_start(&c, argv);
	gint64 deadline = g_get_monotonic_time() + ATTACH_TIMEOUT_S * G_USEC_PER_SEC;
	gboolean ready = child_read_until(&c, NULL, deadline) && strstr(c.out->str, "ready");
	child_wait(&c, deadline);
	if (!ready || !WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
		g_snprintf(why, sizeof why, "bpftrace cannot load a program here: %s", c.out->str);
		child_clear(&c);
		return why;
	}
	child_clear(&c);
	return NULL;
}

/* Runs script on the library around one demo run; returns what bpftrace
 * printed (free it). */
static gchar *
run_script(const char *script)
{
	const char *root = g_getenv("US_SOURCE_ROOT");
	gchar *path = g_build_filename(root, "examples", "bpftrace", script, NULL);
	gchar *demo = g_build_filename(root, "examples", "stacks", "demo.conf", NULL);
	const char *bt_argv[] = { "bpftrace", path, g_getenv("US_PROBES_LIB"), NULL };
	Child bt;
	child_start(&bt, bt_argv);
	gint64 t0 = g_get_monotonic_time();
	gboolean attached = child_read_until(&bt, "Attaching", t0 + ATTACH_TIMEOUT_S * 1000000);
	/* The BEGIN block prints once every probe is attached. */
	attached = attached && child_read_until(&bt, "Hit Ctrl-C", t0 + ATTACH_TIMEOUT_S * 1000000);
	if (!attached) {
		kill(bt.pid, SIGKILL);
		child_read_until(&bt, NULL, g_get_monotonic_time() + EXIT_TIMEOUT_S * 1000000);
		child_wait(&bt, g_get_monotonic_time() + EXIT_TIMEOUT_S * 1000000);
		g_test_message("bpftrace said:\n%s", bt.out->str);
		g_error("bpftrace did not attach %s", script);
	}

	Child demo_run;
	const char *demo_argv[] = { g_getenv("US_USTREAMS"), "run", demo, NULL };
	child_start(&demo_run, demo_argv);
	gint64 demo_deadline = g_get_monotonic_time() + DEMO_TIMEOUT_S * G_USEC_PER_SEC;
	child_read_until(&demo_run, NULL, demo_deadline);
	child_wait(&demo_run, demo_deadline);
	g_assert_true(WIFEXITED(demo_run.status));
	g_assert_cmpint(WEXITSTATUS(demo_run.status), ==, 0);
	child_clear(&demo_run);

	/* Output of the last events may still be on its way through the
	 * perf buffers: SIGINT runs END after draining them. */
	g_usleep(G_USEC_PER_SEC / 2);
	kill(bt.pid, SIGINT);
	gint64 deadline = g_get_monotonic_time() + EXIT_TIMEOUT_S * G_USEC_PER_SEC;
	child_read_until(&bt, NULL, deadline);
	child_wait(&bt, deadline);
	g_test_message("%s printed:\n%s", script, bt.out->str);
	if (!WIFEXITED(bt.status)) {
		/* bpftrace itself died after the run (seen once, under load, at
		 * exit while detaching): not a fault of the probes; say so. */
		g_test_skip_printf("bpftrace ended by signal %d after the run",
				   WTERMSIG(bt.status));
		child_clear(&bt);
		g_free(path);
		g_free(demo);
		return NULL;
	}
	gchar *out = g_strdup(bt.out->str);
	child_clear(&bt);
	g_free(path);
	g_free(demo);
	return out;
}

static gboolean
skip_if_not_here(void)
{
	if (skip_reason != NULL)
		g_test_skip(skip_reason);
	return skip_reason != NULL;
}

static void
test_ip_drops(void)
{
	if (skip_if_not_here())
		return;
	gchar *out = run_script("ip-drops.bt");
	if (out == NULL)
		return;
	/* The demo's wire loses frames both ways: counted by the wire driver. */
	g_assert_nonnull(strstr(out, "@drops[alice, wire, lost on the wire]"));
	g_assert_nonnull(strstr(out, "@drops[bob, wire, lost on the wire]"));
	g_assert_nonnull(strstr(out, "@ip_sent["));
	g_assert_nonnull(strstr(out, "@ip_received["));
	g_free(out);
}

static void
test_tcp_states(void)
{
	if (skip_if_not_here())
		return;
	gchar *out = run_script("tcp-states.bt");
	if (out == NULL)
		return;
	/* alice connects to bob's port 5001; both ends go through the handshake. */
	g_assert_nonnull(strstr(out, "CLOSED -> SYN-SENT"));
	g_assert_nonnull(strstr(out, "SYN-SENT -> ESTABLISHED"));
	g_assert_nonnull(strstr(out, "CLOSED -> SYN-RECEIVED"));
	g_assert_nonnull(strstr(out, "SYN-RECEIVED -> ESTABLISHED"));
	g_assert_nonnull(strstr(out, "connect-request"));
	g_assert_nonnull(strstr(out, "connect-established"));
	g_assert_nonnull(strstr(out, "accept-established"));
	g_assert_nonnull(strstr(out, "10.0.0.2:5001"));
	g_assert_nonnull(strstr(out, "10.0.0.1:"));
	/* and it ends: the side that closes first goes through FIN-WAIT-1. */
	g_assert_nonnull(strstr(out, "ESTABLISHED -> FIN-WAIT-1"));
	g_free(out);
}

static void
test_module_latency(void)
{
	if (skip_if_not_here())
		return;
	gchar *out = run_script("module-latency.bt");
	if (out == NULL)
		return;
	g_assert_nonnull(strstr(out, "@ns[ip, read]"));
	g_assert_nonnull(strstr(out, "@ns[ether, write]"));
	g_assert_nonnull(strstr(out, "@puts[strhead, read]"));
	g_assert_nonnull(strstr(out, "@services["));
	g_free(out);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	skip_reason = why_not_here();
	g_test_add_func("/probes/bpftrace/ip-drops", test_ip_drops);
	g_test_add_func("/probes/bpftrace/tcp-states", test_tcp_states);
	g_test_add_func("/probes/bpftrace/module-latency", test_module_latency);
	return g_test_run();
}
