/* SPDX-License-Identifier: MIT */
/*
 * test-head-link.c -- I_LINK, I_PLINK, I_UNLINK, I_PUNLINK through the real
 * stream head, with the testmux multiplexor.
 *
 * Topology: an upper stream U on testmux, bound to key 7; a lower stream L,
 * one end of a loop pair whose other end P plays the network:
 *
 *     U (testmux, key 7)
 *        | I_LINK / I_PLINK
 *     L (loop) ====== P (loop)      data on L carries the key byte first
 */
#include "shtest.h"

#include "../../drivers/loop/loop.h"
#include "testmux.h"

typedef struct {
	ShFx fx;
	int u, l, p;
} Net;

static void
bind_key(int fd, int key)
{
	struct strioctl sio = { .ic_cmd = TESTMUX_BIND,
				.ic_len = sizeof key,
				.ic_dp = (char *)&key };
	g_assert_cmpint(us_ioctl(fd, I_STR, &sio), ==, 0);
}

static void
join_loop(int a, int b)
{
	int minor = (int)getminor(us_stream_dev(us_fd_stream(b)));
	struct strioctl sio = { .ic_cmd = LOOP_SET,
				.ic_len = sizeof minor,
				.ic_dp = (char *)&minor };
	g_assert_cmpint(us_ioctl(a, I_STR, &sio), ==, 0);
}

static void
net_open(Net *n)
{
	sh_init(&n->fx, US_CLOCK_VIRTUAL);
	n->u = sh_open(&n->fx, "testmux", O_RDWR);
	bind_key(n->u, 7);
	n->l = sh_open(&n->fx, "loop", O_RDWR);
	n->p = sh_open(&n->fx, "loop", O_RDWR);
	join_loop(n->l, n->p);
	g_assert_cmpint(us_ioctl(n->p, I_SRDOPT, RMSGD), ==, 0);
}

static void
net_close(Net *n)
{
	if (n->u >= 0)
		sh_close(n->u);
	if (n->l >= 0)
		sh_close(n->l);
	sh_close(n->p);
	sh_fini(&n->fx);
}

/* U -> L -> P with the key byte; P -> L -> U without it. */
static void
assert_routes(Net *n, int upper)
{
	char buf[16];
	g_assert_cmpint(us_write(upper, "hi", 2), ==, 2);
	g_assert_cmpint(us_read(n->p, buf, sizeof buf), ==, 3);
	g_assert_cmpmem(buf, 3, "\x07hi", 3);
	g_assert_cmpint(us_write(n->p, "\x07yo", 3), ==, 3);
	g_assert_cmpint(us_read(upper, buf, sizeof buf), ==, 2);
	g_assert_cmpmem(buf, 2, "yo", 2);
}

static void
test_link_routes(void)
{
	Net n;
	net_open(&n);
	int muxid = us_ioctl(n.u, I_LINK, n.l);
	g_assert_cmpint(muxid, >, 0);
	assert_routes(&n, n.u);
	g_assert_cmpint(us_ioctl(n.u, I_UNLINK, muxid), ==, 0);
	net_close(&n);
}

static void
test_linked_lower_refuses_calls(void)
{
	Net n;
	net_open(&n);
	g_assert_cmpint(us_ioctl(n.u, I_LINK, n.l), >, 0);
	char c;
	errno = 0;
	g_assert_cmpint(us_write(n.l, "x", 1), ==, -1);
	g_assert_cmpint(errno, ==, EINVAL);
	g_assert_cmpint(us_read(n.l, &c, 1), ==, -1);
	g_assert_cmpint(errno, ==, EINVAL);
	g_assert_cmpint(us_ioctl(n.l, I_PUSH, "pass"), ==, -1);
	g_assert_cmpint(errno, ==, EINVAL);
	struct pollfd pfd = { .fd = n.l, .events = POLLIN };
	g_assert_cmpint(us_poll(&pfd, 1, 0), ==, 1);
	g_assert_cmpint(pfd.revents, ==, POLLNVAL);
	net_close(&n); /* closing U undoes the I_LINK */
}

static void
test_link_refusals(void)
{
	Net n;
	net_open(&n);
	g_assert_cmpint(us_ioctl(n.u, I_LINK, n.l), >, 0);
	int u2 = sh_open(&n.fx, "testmux", O_RDWR);
	errno = 0;
	g_assert_cmpint(us_ioctl(u2, I_LINK, n.l), ==, -1); /* already linked */
	g_assert_cmpint(errno, ==, EINVAL);
	g_assert_cmpint(us_ioctl(u2, I_LINK, u2), ==, -1); /* itself */
	g_assert_cmpint(errno, ==, EINVAL);
	int u3 = sh_open(&n.fx, "testmux", O_RDWR);
	g_assert_cmpint(us_ioctl(u2, I_LINK, u3), ==, -1); /* testmux below testmux: a cycle */
	g_assert_cmpint(errno, ==, EINVAL);
	g_assert_cmpint(us_ioctl(u2, I_LINK, 9999), ==, -1);
	g_assert_cmpint(errno, ==, EBADF);
	g_assert_cmpint(us_ioctl(u2, I_UNLINK, 4242), ==, -1); /* no such muxid */
	g_assert_cmpint(errno, ==, EINVAL);
	/* I_UNLINK only undoes links made through the same stream. */
	g_assert_cmpint(us_ioctl(u2, I_UNLINK, MUXID_ALL), ==, -1);
	g_assert_cmpint(errno, ==, EINVAL);
	sh_close(u2);
	sh_close(u3);
	net_close(&n);
}

/* Closing the controlling stream undoes its I_LINKs: L works again. */
static void
test_close_controller_unlinks(void)
{
	Net n;
	net_open(&n);
	g_assert_cmpint(us_ioctl(n.u, I_LINK, n.l), >, 0);
	sh_close(n.u);
	n.u = -1;
	char buf[8];
	g_assert_cmpint(us_write(n.l, "ok", 2), ==, 2);
	g_assert_cmpint(us_read(n.p, buf, sizeof buf), ==, 2);
	g_assert_cmpmem(buf, 2, "ok", 2);
	net_close(&n);
}

/* I_PLINK survives the close of the controlling stream and of the lower's
 * descriptor; I_PUNLINK (MUXID_ALL) through another upper undoes it. */
static void
test_plink_persists(void)
{
	Net n;
	net_open(&n);
	guint fds = us_fd_count();
	int muxid = us_ioctl(n.u, I_PLINK, n.l);
	g_assert_cmpint(muxid, >, 0);
	sh_close(n.u);
	sh_close(n.l);
	n.u = n.l = -1;
	g_assert_cmpuint(us_fd_count(), ==, fds - 2);
	int u2 = sh_open(&n.fx, "testmux", O_RDWR);
	bind_key(u2, 7);
	assert_routes(&n, u2); /* the link is still there */
	errno = 0;
	g_assert_cmpint(us_ioctl(u2, I_UNLINK, muxid), ==, -1); /* not an I_LINK */
	g_assert_cmpint(errno, ==, EINVAL);
	g_assert_cmpint(us_ioctl(u2, I_PUNLINK, MUXID_ALL), ==, 0);
	/* The lower stream went with its link (its descriptor was closed). */
	g_assert_cmpint(us_write(u2, "zz", 2), ==, 2); /* no lower: dropped */
	g_assert_cmpuint(us_stack_drop_count(n.fx.stack, "testmux", TESTMUX_DROP_NO_LOWER), ==, 1);
	sh_close(u2);
	net_close(&n);
}

/* A persistent link left in place is taken apart when the stack goes. */
static void
test_plink_teardown(void)
{
	Net n;
	net_open(&n);
	g_assert_cmpint(us_ioctl(n.u, I_PLINK, n.l), >, 0);
	sh_close(n.l);
	n.l = -1;
	g_assert_cmpint(us_write(n.u, "bye", 3), ==, 3);
	net_close(&n); /* frees the world with the link still there */
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sh_register();
	g_test_add_func("/head/link/routes-both-ways", test_link_routes);
	g_test_add_func("/head/link/linked-lower-refuses-calls", test_linked_lower_refuses_calls);
	g_test_add_func("/head/link/refusals", test_link_refusals);
	g_test_add_func("/head/link/close-controller-unlinks", test_close_controller_unlinks);
	g_test_add_func("/head/plink/persists", test_plink_persists);
	g_test_add_func("/head/plink/teardown", test_plink_teardown);
	return g_test_run();
}
