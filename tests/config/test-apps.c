/* SPDX-License-Identifier: MIT */
/*
 * test-apps.c -- the built-in apps of the config language, built and run
 * through the config API in virtual time: every app's report, its verdict
 * (a run's exit status), and the http-server answering a client written
 * here with the socket calls (200 with the file, 404, 400, no "..").
 */
#include "config.h"

#include <ustreams/ustreams.h>
#include <ustreams/socket.h>

#include <arpa/inet.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static const char *pair =
	"world { clock virtual; seed 5 }\n"
	"wire lan { delay 1ms }\n"
	"stack a { interface eth0 { driver wire lan; push ether mac=02:00:00:00:00:0a; push arp;"
	" address 10.0.0.1/24 }\n%s }\n"
	"stack b { interface eth0 { driver wire lan; push ether mac=02:00:00:00:00:0b; push arp;"
	" address 10.0.0.2/24 }\n%s }\n";

static UsCfg *
parse(const char *apps_a, const char *apps_b)
{
	char *text = g_strdup_printf(pair, apps_a, apps_b);
	GError *error = NULL;
	UsCfg *cfg = us_cfg_parse_text("apps.conf", text, &error);
	g_assert_no_error(error);
	g_assert_true(us_cfg_check(cfg, &error));
	g_assert_no_error(error);
	g_free(text);
	return cfg;
}

/* Runs apps on a and b; returns the summary (g_free) and the verdict. */
static char *
run_apps(const char *apps_a, const char *apps_b, gboolean *ok)
{
	gint64 live0 = us_msg_live_count();
	UsCfg *cfg = parse(apps_a, apps_b);
	GError *error = NULL;
	UsCfgRun *run = us_cfg_build(cfg, &error);
	g_assert_no_error(error);
	*ok = us_cfg_run(run, 0);
	char *s = us_cfg_run_summary(run);
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
	return s;
}

static void
test_ping_udp(void)
{
	gboolean ok;
	char *s = run_apps("app ping 10.0.0.2 count=2 interval=10ms\n"
			   "app udp-send 10.0.0.2:7 count=5 size=100",
			   "app udp-echo port=7", &ok);
	g_assert_true(ok);
	g_assert_nonnull(strstr(s, "ping 10.0.0.2: 2 sent, 2 received, 0% loss"));
	g_assert_nonnull(strstr(s, "5 echoed intact (0 resent, 0 bad)"));
	g_assert_nonnull(strstr(s, "udp-echo port 7: echoed 5 datagrams (500 bytes)"));
	g_free(s);
	/* nobody answers: ping and udp-send fail, and say so */
	s = run_apps("app ping 10.0.0.9 count=1 timeout=100ms\n"
		     "app udp-send 10.0.0.2:9 count=2 retries=1 timeout=50ms",
		     "", &ok);
	g_assert_false(ok);
	g_assert_nonnull(strstr(s, "ping 10.0.0.9: 1 sent, no reply  [FAILED]"));
	g_assert_nonnull(strstr(s, "0 echoed intact (2 resent, 0 bad)  [FAILED]"));
	g_free(s);
}

static void
test_tcp(void)
{
	gboolean ok;
	char *s =
		run_apps("app tcp-source 10.0.0.2:5001 bytes=200k", "app tcp-sink port=5001", &ok);
	g_assert_true(ok);
	g_assert_nonnull(strstr(s, "200000 bytes in"));
	g_assert_nonnull(strstr(s, "matches the sink's  [ok]"));
	g_assert_nonnull(strstr(s, "1 connection(s) read to the end, 200000 bytes"));
	g_free(s);
	/* refused: nobody listens */
	s = run_apps("app tcp-source 10.0.0.2:5002 bytes=1k", "", &ok);
	g_assert_false(ok);
	g_assert_nonnull(strstr(s, "Connection refused"));
	g_free(s);
}

/* GET path from b's http-server through a socket of stack a. */
static char *
http_get(UsCfgRun *run, const char *path)
{
	int fd = us_socket(us_cfg_run_stack(run, "a"), AF_INET, SOCK_STREAM, 0);
	g_assert_cmpint(fd, >=, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(8080) };
	inet_pton(AF_INET, "10.0.0.2", &sin.sin_addr);
	g_assert_cmpint(us_connect(fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
	char *req = g_strdup_printf("GET %s HTTP/1.0\r\n\r\n", path);
	g_assert_cmpint(us_send(fd, req, strlen(req), 0), ==, (ssize_t)strlen(req));
	GString *r = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	while ((n = us_recv(fd, buf, sizeof buf, 0)) > 0)
		g_string_append_len(r, buf, n);
	g_assert_cmpint(n, ==, 0);
	us_close(fd);
	g_free(req);
	return g_string_free(r, FALSE);
}

static void
test_http(void)
{
	gint64 live0 = us_msg_live_count();
	char *dir = g_dir_make_tmp("test-apps-XXXXXX", NULL);
	char *index = g_build_filename(dir, "index.html", NULL);
	char *big = g_build_filename(dir, "big.bin", NULL);
	g_assert_true(g_file_set_contents(index, "hello\n", -1, NULL));
	GString *b = g_string_new(NULL);
	for (int i = 0; i < 50000; i++)
		g_string_append_c(b, (char)(i * 7));
	g_assert_true(g_file_set_contents(big, b->str, (gssize)b->len, NULL));
	char *app = g_strdup_printf("app http-server port=8080 root=\"%s\"", dir);
	UsCfg *cfg = parse("", app);
	GError *error = NULL;
	UsCfgRun *run = us_cfg_build(cfg, &error);
	g_assert_no_error(error);
	char *r = http_get(run, "/");
	g_assert_true(g_str_has_prefix(r, "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n"));
	g_assert_true(g_str_has_suffix(r, "\r\n\r\nhello\n"));
	g_free(r);
	r = http_get(run, "/big.bin");
	char *body = strstr(r, "\r\n\r\n");
	g_assert_nonnull(body);
	g_assert_cmpmem(body + 4, b->len, b->str, b->len);
	g_free(r);
	r = http_get(run, "/../etc/passwd");
	g_assert_true(g_str_has_prefix(r, "HTTP/1.0 404"));
	g_free(r);
	r = http_get(run, "/nope");
	g_assert_true(g_str_has_prefix(r, "HTTP/1.0 404"));
	g_free(r);
	char *s = us_cfg_run_summary(run);
	g_assert_nonnull(strstr(s, "2 file(s) served (50006 bytes), 2 refused"));
	g_free(s);
	us_cfg_run_free(run);
	us_cfg_free(cfg);
	g_assert_cmpint(us_msg_live_count(), ==, live0);
	g_unlink(index);
	g_unlink(big);
	g_rmdir(dir);
	g_string_free(b, TRUE);
	g_free(app);
	g_free(index);
	g_free(big);
	g_free(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/apps/ping-udp", test_ping_udp);
	g_test_add_func("/config/apps/tcp", test_tcp);
	g_test_add_func("/config/apps/http-server", test_http);
	return g_test_run();
}
