/* SPDX-License-Identifier: MIT */
/*
 * control.c -- the control socket of a running instance: `ustreams run
 * --control PATH` listens on a Unix stream socket; `ustreams stats` and
 * `ustreams ip ...` connect, send one line naming a report (link, addr,
 * route, neigh, stats, graph) and read the text until the server closes.
 * `ustreams push` / `ustreams pop` send "push STACK IFACE MODULE ..." or
 * "pop STACK IFACE MODULE" the same way (splice.c) and read "ok: ..." or
 * "error: ...".
 *
 * Theory: the listening socket is an fd watch on the world, so requests are
 * answered on the world's thread between its other work (report.c needs
 * that).  One request per connection, answered at once (reports are small
 * and built without waiting), then the connection is closed.  Requests
 * longer than a line, or that do not arrive within the first read, get an
 * error line.
 */
#define G_LOG_DOMAIN "us-config"

#include "cfg-build.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct _UsCfgControl {
	UsCfgRun *run;
	int fd;
	char *path;
	UsFdWatch *watch;
};

static void
control_write_all(int fd, const char *s)
{
	size_t len = strlen(s);
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
		if (n <= 0 && errno != EINTR)
			return;
		if (n > 0) {
			s += n;
			len -= (size_t)n;
		}
	}
}

static void
control_serve(UsCfgControl *c, int conn)
{
	char req[1024];
	ssize_t n = recv(conn, req, sizeof req - 1, 0);
	if (n <= 0) {
		control_write_all(conn, "error: no request\n");
		return;
	}
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	GError *error = NULL;
	char *text = us_cfg_control_request(c->run, req, &error);
	if (text == NULL) {
		char *msg = g_strdup_printf("error: %s\n", error->message);
		control_write_all(conn, msg);
		g_free(msg);
		g_error_free(error);
		return;
	}
	control_write_all(conn, text);
	g_free(text);
}

static void
control_ready(gpointer data, GIOCondition revents)
{
	UsCfgControl *c = data;
	(void)revents;
	int conn = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return;
	struct timeval tv = { .tv_sec = 1 };
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* a client that never reads */
	control_serve(c, conn);
	close(conn);
}

static gboolean
control_addr(const char *path, struct sockaddr_un *sun, GError **error)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_IO, "%s: path too long", path);
		return FALSE;
	}
	strcpy(sun->sun_path, path);
	return TRUE;
}

UsCfgControl *
us_cfg_control_start(UsCfgRun *run, const char *path, GError **error)
{
	struct sockaddr_un sun;
	if (!control_addr(path, &sun, error))
		return NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(fd, 8) < 0) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_IO, "%s: %s", path,
			    g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	UsCfgControl *c = g_new0(UsCfgControl, 1);
	c->run = run;
	c->fd = fd;
	c->path = g_strdup(path);
	c->watch = us_fd_watch_add(run->world, fd, G_IO_IN, control_ready, c);
	return c;
}

void
us_cfg_control_stop(UsCfgControl *c)
{
	if (c == NULL)
		return;
	us_fd_watch_remove(c->watch);
	close(c->fd);
	unlink(c->path);
	g_free(c->path);
	g_free(c);
}

char *
us_cfg_control_query(const char *path, const char *what, GError **error)
{
	struct sockaddr_un sun;
	if (!control_addr(path, &sun, error))
		return NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		g_set_error(error, US_CFG_ERROR, US_CFG_ERROR_IO, "%s: %s", path,
			    g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char *line = g_strdup_printf("%s\n", what);
	control_write_all(fd, line);
	g_free(line);
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		g_string_append_len(s, buf, n);
	close(fd);
	return g_string_free(s, FALSE);
}
