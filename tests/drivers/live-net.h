/* SPDX-License-Identifier: MIT */
/*
 * live-net.h -- helpers for the live driver tests (tap, afpacket): running a
 * test body in a child inside a fresh network namespace, running `ip`, and
 * building and recognising the few frames the tests exchange with the Linux
 * kernel (ARP request/reply, ICMP echo request/reply).
 *
 * Safety: every body runs in a forked child that first unshare(CLONE_NEWNET)s;
 * interfaces created there and all traffic die with the child.  An alarm
 * bounds the child's life.  When the namespace cannot be created (no
 * privilege) the parent skips the test visibly.
 */
#ifndef USTREAMS_TEST_LIVE_NET_H
#define USTREAMS_TEST_LIVE_NET_H

#include <errno.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <glib.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIVE_SKIP_EXIT 77
#define LIVE_CHILD_SECONDS 60
#define ETH_LEN 14
#define ARP_FRAME_LEN 42

/* Writes why the child skips into the pipe and exits with LIVE_SKIP_EXIT. */
static inline G_GNUC_NORETURN void
live_child_skip(int fd, const char *why)
{
	ssize_t n = write(fd, why, strlen(why));
	(void)n;
	_exit(LIVE_SKIP_EXIT);
}

static int live_skip_fd = -1; /* the child's end of the skip pipe */

/* Runs body(data) in a child inside a new network namespace; skips the test
 * when the namespace cannot be made or the body asks to (live_skip). */
static inline void
live_run_in_netns(void (*body)(gpointer data), gpointer data)
{
	int pfd[2];
	g_assert_cmpint(pipe(pfd), ==, 0);
	fflush(NULL);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		close(pfd[0]);
		live_skip_fd = pfd[1];
		alarm(LIVE_CHILD_SECONDS);
		if (unshare(CLONE_NEWNET) != 0) {
			char why[160];
			g_snprintf(why, sizeof why, "cannot create a network namespace: %s",
				   g_strerror(errno));
			live_child_skip(pfd[1], why);
		}
		body(data);
		_exit(0);
	}
	close(pfd[1]);
	char why[256] = "";
	ssize_t n, got = 0;
	while ((n = read(pfd[0], why + got, sizeof why - 1 - (size_t)got)) > 0)
		got += n;
	close(pfd[0]);
	int status = 0;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == LIVE_SKIP_EXIT) {
		g_test_skip(why);
		return;
	}
	if (WIFSIGNALED(status))
		g_test_message("live child killed by signal %d", WTERMSIG(status));
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* In the child: skip the test with a reason. */
static inline G_GNUC_NORETURN void
live_skip(const char *why)
{
	live_child_skip(live_skip_fd, why);
}

/* Runs `ip ARGS...` (NULL terminated) in the child's namespace; skips when
 * ip is not installed, fails the test when it fails. */
static inline void
live_ip(const char *first, ...)
{
	char *ip = g_find_program_in_path("ip");
	if (ip == NULL)
		live_skip("the ip command is not installed");
	GPtrArray *argv = g_ptr_array_new();
	g_ptr_array_add(argv, ip);
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *))
		g_ptr_array_add(argv, (gpointer)a);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	char *out = NULL, *err = NULL;
	int status = 0;
	GError *error = NULL;
	gboolean ok = g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				   &out, &err, &status, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("ip %s ... failed: %s", first, err ? err : "");
	g_free(out);
	g_free(err);
	g_free(ip);
	g_ptr_array_free(argv, TRUE);
}

/* In the child: drops CAP_NET_ADMIN and CAP_NET_RAW from the effective
 * set, to see the driver refuse with EPERM the way it would for an
 * unprivileged user. */
static inline void
live_drop_net_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	g_assert_cmpint(syscall(SYS_capget, &hdr, data), ==, 0);
	data[CAP_NET_ADMIN / 32].effective &= ~(1U << (CAP_NET_ADMIN % 32));
	data[CAP_NET_RAW / 32].effective &= ~(1U << (CAP_NET_RAW % 32));
	g_assert_cmpint(syscall(SYS_capset, &hdr, data), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Frames                                                             */
/* ------------------------------------------------------------------ */

static const guint8 live_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static inline void
live_put16(guint8 *p, guint16 v)
{
	p[0] = (guint8)(v >> 8);
	p[1] = (guint8)v;
}

static inline guint16
live_get16(const guint8 *p)
{
	return (guint16)(p[0] << 8 | p[1]);
}

static inline guint16
live_cksum(const guint8 *p, size_t len)
{
	guint32 sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += live_get16(p + i);
	if (len & 1)
		sum += (guint32)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (guint16)~sum;
}

static inline void
live_eth(guint8 *f, const guint8 dst[6], const guint8 src[6], guint16 type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	live_put16(f + 12, type);
}

/* An ARP frame (op 1 request, 2 reply) into f (ARP_FRAME_LEN bytes). */
static inline void
live_arp(guint8 *f, guint16 op, const guint8 eth_dst[6], const guint8 sha[6], const guint8 spa[4],
	 const guint8 tha[6], const guint8 tpa[4])
{
	live_eth(f, eth_dst, sha, 0x0806);
	guint8 *a = f + ETH_LEN;
	live_put16(a, 1); /* Ethernet */
	live_put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	live_put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, spa, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
}

/* An ICMP echo request with `plen` payload bytes into f; returns its length. */
static inline size_t
live_icmp_echo(guint8 *f, const guint8 dst[6], const guint8 src[6], const guint8 sip[4],
	       const guint8 dip[4], guint16 id, guint16 seq, size_t plen)
{
	live_eth(f, dst, src, 0x0800);
	guint8 *ip = f + ETH_LEN;
	size_t iplen = 20 + 8 + plen;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	live_put16(ip + 2, (guint16)iplen);
	live_put16(ip + 4, seq);
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, dip, 4);
	live_put16(ip + 10, live_cksum(ip, 20));
	guint8 *ic = ip + 20;
	ic[0] = 8;
	ic[1] = 0;
	live_put16(ic + 2, 0);
	live_put16(ic + 4, id);
	live_put16(ic + 6, seq);
	for (size_t i = 0; i < plen; i++)
		ic[8 + i] = (guint8)(i * 7 + seq);
	live_put16(ic + 2, live_cksum(ic, 8 + plen));
	return ETH_LEN + iplen;
}

/* An ARP frame with `op` whose sender is spa and target tpa?  Returns the
 * sender's hardware address in sha (may be NULL). */
static inline gboolean
live_is_arp(const guint8 *f, size_t len, guint16 op, const guint8 spa[4], const guint8 tpa[4],
	    guint8 *sha)
{
	if (len < ARP_FRAME_LEN || live_get16(f + 12) != 0x0806)
		return FALSE;
	const guint8 *a = f + ETH_LEN;
	if (live_get16(a + 6) != op || memcmp(a + 14, spa, 4) != 0 || memcmp(a + 24, tpa, 4) != 0)
		return FALSE;
	if (sha != NULL)
		memcpy(sha, a + 8, 6);
	return TRUE;
}

/* An ICMP echo reply from sip with id; returns its sequence number. */
static inline gboolean
live_is_echo_reply(const guint8 *f, size_t len, const guint8 sip[4], guint16 id, guint16 *seq)
{
	if (len < ETH_LEN + 28 || live_get16(f + 12) != 0x0800)
		return FALSE;
	const guint8 *ip = f + ETH_LEN;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ip[9] != 1 || memcmp(ip + 12, sip, 4) != 0 || len < ETH_LEN + ihl + 8)
		return FALSE;
	if (live_cksum(ip, ihl) != 0)
		return FALSE;
	const guint8 *ic = ip + ihl;
	size_t iclen = live_get16(ip + 2) - ihl;
	if (ic[0] != 0 || live_get16(ic + 4) != id || live_cksum(ic, iclen) != 0)
		return FALSE;
	*seq = live_get16(ic + 6);
	return TRUE;
}

#endif
