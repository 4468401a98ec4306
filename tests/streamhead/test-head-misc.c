/* SPDX-License-Identifier: MIT */
/*
 * test-head-misc.c -- what arrives at the head from below and what it does
 * about it: M_ERROR (one- and two-byte forms, persistence, the M_FLUSH it
 * sends down), M_HANGUP, M_SETOPTS, M_SIG; us_poll() events; and the
 * I_LINK family's checks that need no multiplexor.
 */
#include "shtest.h"

#define NOERR 255 /* NOERROR: leave this side alone */

static short
poll_one(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events, .revents = -1 };
	int n = us_poll(&p, 1, 0);
	g_assert_cmpint(n, ==, p.revents != 0);
	return p.revents;
}

/* ------------------------------------------------------------------ */
/* M_ERROR                                                            */
/* ------------------------------------------------------------------ */

/* One-byte form: every read-like and write-like call fails, persistently;
 * the read queue is flushed and M_FLUSH FLUSHRW goes down. */
static void
test_error_one_byte(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	sh_write_str(fd, "queued");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 1);
	g_assert_cmpint(us_ioctl(fd, I_SETSIG, S_ERROR), ==, 0);
	unsigned char e = EIO;
	g_assert_cmpint(sh_istr(fd, SHM_ERROR, &e, 1, 0, NULL), ==, 0);
	g_assert_cmpint(shm_of(fd)->flush_down, ==, FLUSHRW);
	g_assert_cmpint(us_getsigevents(fd), ==, S_ERROR);
	char buf[8];
	struct strbuf sb = { .maxlen = 8, .len = 1, .buf = buf };
	int flags = 0;
	for (int i = 0; i < 2; i++) {
		sh_assert_fails(us_read(fd, buf, sizeof buf), EIO);
		sh_assert_fails(us_write(fd, "x", 1), EIO);
		sh_assert_fails(us_getmsg(fd, NULL, &sb, &flags), EIO);
		sh_assert_fails(us_putmsg(fd, NULL, &sb, 0), EIO);
	}
	g_assert_cmpint(poll_one(fd, POLLIN | POLLOUT) & POLLERR, ==, POLLERR);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	g_assert_cmpint(poll(&p, 1, 0), ==, 1); /* the real fd reports it too */
	/* Clearing both sides (two-byte form, zeros): the queue was flushed. */
	sh_inject_up(fd, sh_error_msg(0, 0));
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_write_str(fd, "ok");
	sh_read_expect(fd, 8, "ok");
	g_assert_cmpint(poll_one(fd, POLLIN) & POLLERR, ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* An ioctl on a stream with an error fails with that error. */
static void
test_error_fails_ioctl(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	sh_inject_up(fd, sh_error_msg(ENETDOWN, -1));
	sh_assert_fails(sh_istr_int(fd, SHM_RVAL, 1), ENETDOWN);
	g_assert_cmpuint(shm_of(fd)->ioctls, ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* Two-byte form, read side only: reads fail, writes go on; only FLUSHR is
 * sent down. */
static void
test_error_two_byte_read_only(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	sh_inject_up(fd, sh_error_msg(EPROTO, NOERR));
	g_assert_cmpint(shm_of(fd)->flush_down, ==, FLUSHR);
	char buf[8];
	sh_assert_fails(us_read(fd, buf, sizeof buf), EPROTO);
	sh_write_str(fd, "w");
	sh_assert_fails(us_read(fd, buf, sizeof buf), EPROTO);
	/* Clear the read side only; what was written since is there. */
	sh_inject_up(fd, sh_error_msg(0, NOERR));
	sh_read_expect(fd, 8, "w");
	sh_close(fd);
	sh_fini(&fx);
}

/* Two-byte form, write side only: writes fail, reads go on. */
static void
test_error_two_byte_write_only(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	sh_write_str(fd, "before");
	sh_inject_up(fd, sh_error_msg(NOERR, EPIPE));
	g_assert_cmpint(shm_of(fd)->flush_down, ==, FLUSHW);
	sh_assert_fails(us_write(fd, "x", 1), EPIPE);
	struct strbuf d = { .len = 1, .buf = "x" };
	sh_assert_fails(us_putmsg(fd, NULL, &d, 0), EPIPE);
	sh_read_expect(fd, 8, "before"); /* not flushed */
	sh_inject_up(fd, sh_error_msg(NOERR, 0));
	sh_write_str(fd, "after");
	sh_read_expect(fd, 8, "after");
	sh_close(fd);
	sh_fini(&fx);
}

/* RERRNONPERSIST: a read error is reported once; the write error stays. */
static void
test_error_rerrnonpersist(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR | O_NONBLOCK);
	g_assert_cmpint(us_ioctl(fd, I_SERROPT, RERRNONPERSIST), ==, 0);
	sh_inject_up(fd, sh_error_msg(EIO, -1));
	char buf[8];
	sh_assert_fails(us_read(fd, buf, sizeof buf), EIO);
	sh_assert_fails(us_read(fd, buf, sizeof buf), EAGAIN); /* cleared */
	sh_assert_fails(us_write(fd, "x", 1), EIO);
	sh_assert_fails(us_write(fd, "x", 1), EIO); /* persistent */
	sh_close(fd);
	sh_fini(&fx);
}

/* WERRNONPERSIST: a write error is reported once. */
static void
test_error_werrnonpersist(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR | O_NONBLOCK);
	g_assert_cmpint(us_ioctl(fd, I_SERROPT, WERRNONPERSIST), ==, 0);
	sh_inject_up(fd, sh_error_msg(NOERR, ENOSPC));
	sh_assert_fails(us_write(fd, "x", 1), ENOSPC);
	g_assert_cmpint(us_write(fd, "y", 1), ==, 1);
	sh_read_expect(fd, 8, "y");
	sh_close(fd);
	sh_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* M_HANGUP                                                           */
/* ------------------------------------------------------------------ */

/* Closing one side of a joined loop hangs the other up: reads drain the
 * queue then return 0, writes fail ENXIO, poll says POLLHUP. */
static void
test_hangup_from_loop_close(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int a, b;
	sh_loop_pair(&fx, &a, &b, O_RDWR, O_RDWR);
	g_assert_cmpint(us_ioctl(b, I_SETSIG, S_HANGUP), ==, 0);
	sh_write_str(a, "last words");
	sh_close(a);
	g_assert_cmpint(us_getsigevents(b), ==, S_HANGUP);
	short rev = poll_one(b, POLLIN | POLLRDNORM | POLLOUT);
	g_assert_cmpint(rev, ==, POLLHUP | POLLIN | POLLRDNORM);
	sh_read_expect(b, 4, "last");
	sh_read_expect(b, 32, " words");
	char buf[8];
	g_assert_cmpint(us_read(b, buf, sizeof buf), ==, 0);
	g_assert_cmpint(us_read(b, buf, sizeof buf), ==, 0);
	sh_assert_fails(us_write(b, "x", 1), ENXIO);
	struct strbuf d = { .len = 1, .buf = "x" };
	sh_assert_fails(us_putmsg(b, NULL, &d, 0), ENXIO);
	g_assert_cmpint(poll_one(b, POLLIN | POLLOUT), ==, POLLHUP);
	/* getmsg: 0 with both lengths 0 once drained. */
	char cb[8], db[8];
	struct strbuf c = { .maxlen = 8, .len = -7, .buf = cb };
	struct strbuf dd = { .maxlen = 8, .len = -7, .buf = db };
	int flags = 0;
	g_assert_cmpint(us_getmsg(b, &c, &dd, &flags), ==, 0);
	g_assert_cmpint(c.len, ==, 0);
	g_assert_cmpint(dd.len, ==, 0);
	/* Pushing modules and ioctls downstream fail ENXIO. */
	sh_assert_fails(us_ioctl(b, I_PUSH, "pass"), ENXIO);
	sh_assert_fails(us_ioctl(b, I_FLUSH, FLUSHRW), ENXIO);
	int v = 0;
	sh_assert_fails(sh_istr(b, LOOP_SET, &v, sizeof v, 0, NULL), ENXIO);
	sh_close(b);
	sh_fini(&fx);
}

/* M_UNHANGUP undoes it. */
static void
test_hangup_unhangup(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_inject_up(fd, sh_msg(M_HANGUP, 0, ""));
	sh_assert_fails(us_write(fd, "x", 1), ENXIO);
	g_assert_cmpint(poll_one(fd, POLLOUT), ==, POLLHUP);
	sh_inject_up(fd, sh_msg(M_UNHANGUP, 0, ""));
	g_assert_cmpint(poll_one(fd, POLLOUT), ==, POLLOUT);
	sh_write_str(fd, "again");
	sh_read_expect(fd, 8, "again");
	sh_close(fd);
	sh_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* M_SETOPTS, M_SIG                                                   */
/* ------------------------------------------------------------------ */

static mblk_t *
setopts_msg(const struct stroptions *so)
{
	mblk_t *mp = us_msg_from(so, sizeof *so, 0);
	g_assert_nonnull(mp);
	DB_TYPE(mp) = M_SETOPTS;
	return mp;
}

/* SO_READOPT changes the read mode as I_SRDOPT would. */
static void
test_setopts_readopt(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	struct stroptions so = { .so_flags = SO_READOPT, .so_readopt = RMSGD | RPROTDIS };
	sh_inject_up(fd, setopts_msg(&so));
	int opt = -1;
	g_assert_cmpint(us_ioctl(fd, I_GRDOPT, &opt), ==, 0);
	g_assert_cmpint(opt, ==, RMSGD | RPROTDIS);
	sh_write_str(fd, "abcdef");
	sh_read_expect(fd, 2, "ab");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* SO_HIWAT lowers the head's read high-water mark: the writer through echo
 * is flow controlled sooner. */
static void
test_setopts_hiwat(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR | O_NONBLOCK);
	struct stroptions so = { .so_flags = SO_HIWAT | SO_LOWAT, .so_hiwat = 10, .so_lowat = 2 };
	sh_inject_up(fd, setopts_msg(&so));
	queue_t *rq = us_stream_head_rq(us_fd_stream(fd));
	g_assert_cmpuint(rq->q_hiwat, ==, 10);
	g_assert_cmpuint(rq->q_lowat, ==, 2);
	sh_close(fd);
	sh_fini(&fx);
}

/* M_SIG is reported as an S_MSG event and POLLMSG. */
static void
test_sig_s_msg(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_SETSIG, S_MSG), ==, 0);
	mblk_t *mp = allocb(1, BPRI_HI);
	DB_TYPE(mp) = M_SIG;
	*mp->b_wptr++ = 29; /* SIGPOLL */
	sh_inject_up(fd, mp);
	g_assert_cmpint(poll_one(fd, POLLMSG), ==, POLLMSG);
	g_assert_cmpint(us_getsigevents(fd), ==, S_MSG);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0); /* not queued for read */
	sh_close(fd);
	sh_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* poll                                                               */
/* ------------------------------------------------------------------ */

static void
test_poll_read_events(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	const short rd = POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI;
	g_assert_cmpint(poll_one(fd, rd), ==, 0);
	g_assert_cmpint(poll_one(fd, rd | POLLOUT | POLLWRNORM | POLLWRBAND), ==,
			POLLOUT | POLLWRNORM | POLLWRBAND);
	sh_write_str(fd, "n");
	g_assert_cmpint(poll_one(fd, rd), ==, POLLIN | POLLRDNORM);
	g_assert_cmpint(poll_one(fd, POLLRDNORM), ==, POLLRDNORM);
	g_assert_cmpint(poll_one(fd, POLLPRI | POLLRDBAND), ==, 0);
	struct strbuf d = { .len = 1, .buf = "b" };
	g_assert_cmpint(us_putpmsg(fd, NULL, &d, 1, MSG_BAND), ==, 0);
	g_assert_cmpint(poll_one(fd, rd), ==, POLLIN | POLLRDBAND);
	struct strbuf c = { .len = 1, .buf = "p" };
	g_assert_cmpint(us_putmsg(fd, &c, NULL, RS_HIPRI), ==, 0);
	g_assert_cmpint(poll_one(fd, rd), ==, POLLPRI);
	g_assert_cmpint(us_ioctl(fd, I_FLUSH, FLUSHR), ==, 0);
	g_assert_cmpint(poll_one(fd, rd), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* POLLERR and POLLHUP are reported even when not asked for. */
static void
test_poll_err_hup_unrequested(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_inject_up(fd, sh_error_msg(EIO, -1));
	g_assert_cmpint(poll_one(fd, 0), ==, POLLERR);
	sh_inject_up(fd, sh_msg(M_HANGUP, 0, ""));
	g_assert_cmpint(poll_one(fd, 0), ==, POLLERR | POLLHUP);
	sh_close(fd);
	sh_fini(&fx);
}

/* Descriptors that are not stream heads: POLLNVAL; negative fds ignored. */
static void
test_poll_nval(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	int closed = sh_open(&fx, "echo", O_RDWR);
	sh_close(closed);
	sh_write_str(fd, "x");
	struct pollfd p[4] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = closed, .events = POLLIN },
		{ .fd = -1, .events = POLLIN, .revents = 77 },
		{ .fd = 1000000, .events = POLLIN },
	};
	g_assert_cmpint(us_poll(p, 4, 0), ==, 3);
	g_assert_cmpint(p[0].revents, ==, POLLIN);
	g_assert_cmpint(p[1].revents, ==, POLLNVAL);
	g_assert_cmpint(p[2].revents, ==, 0);
	g_assert_cmpint(p[3].revents, ==, POLLNVAL);
	sh_assert_fails(us_poll(NULL, 1, 0), EFAULT);
	g_assert_cmpint(us_poll(NULL, 0, 0), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

typedef struct {
	int fd;
	mblk_t *mp;
} Later;

static void
later_inject(gpointer data)
{
	Later *l = data;
	sh_inject_up(l->fd, g_steal_pointer(&l->mp));
}

/* In virtual time a poll with a timeout follows the clock to the timer that
 * brings data; with nothing coming it returns 0 at once. */
static void
test_poll_waits_virtual_time(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	g_assert_cmpint(us_poll(&p, 1, 1000), ==, 0);
	Later l = { fd, sh_msg(M_DATA, 0, "late") };
	gint64 t0 = us_world_now(fx.world);
	us_world_timer_add(fx.world, 3 * US_NSEC_PER_SEC, later_inject, &l);
	g_assert_cmpint(us_poll(&p, 1, 10000), ==, 1);
	g_assert_cmpint(p.revents, ==, POLLIN);
	g_assert_cmpint(us_world_now(fx.world) - t0, ==, 3 * US_NSEC_PER_SEC);
	/* A timeout shorter than the timer: 0, and the clock stops there. */
	Later l2 = { fd, sh_msg(M_DATA, 0, "later") };
	us_world_timer_add(fx.world, 5 * US_NSEC_PER_SEC, later_inject, &l2);
	p.events = POLLPRI;
	t0 = us_world_now(fx.world);
	g_assert_cmpint(us_poll(&p, 1, 2000), ==, 0);
	g_assert_cmpint(us_world_now(fx.world) - t0, ==, 2 * US_NSEC_PER_SEC);
	sh_close(fd); /* l2's timer never ran: its message is freed here */
	freemsg(l2.mp);
	sh_fini(&fx);
}

/* A hangup wakes a reader blocked on an empty queue: it returns 0. */
static void
test_hangup_wakes_blocked_read(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	Later l = { fd, sh_msg(M_HANGUP, 0, "") };
	gint64 t0 = us_world_now(fx.world);
	us_world_timer_add(fx.world, 2 * US_NSEC_PER_SEC, later_inject, &l);
	char buf[8];
	g_assert_cmpint(us_read(fd, buf, sizeof buf), ==, 0);
	g_assert_cmpint(us_world_now(fx.world) - t0, ==, 2 * US_NSEC_PER_SEC);
	sh_close(fd);
	sh_fini(&fx);
}

/* On a world with its own thread, poll sleeps until another thread's
 * write makes the descriptor readable. */
static void
test_poll_threaded_wakes_on_data(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_REAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_true(us_world_start_thread(fx.world, NULL));
	struct pollfd p = { .fd = fd, .events = POLLIN };
	g_assert_cmpint(us_poll(&p, 1, 0), ==, 0);
	DelayedWrite d = { fd, "ping" };
	GThread *t = g_thread_new("writer", delayed_write_main, &d);
	g_assert_cmpint(us_poll(&p, 1, 10000), ==, 1);
	g_assert_cmpint(p.revents, ==, POLLIN);
	g_thread_join(t);
	/* And the real descriptor woke a plain poll(2) as well. */
	struct pollfd k = { .fd = fd, .events = POLLIN };
	g_assert_cmpint(poll(&k, 1, 1000), ==, 1);
	sh_read_expect(fd, 8, "ping");
	sh_close(fd);
	sh_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* I_LINK family without a multiplexor                                */
/* ------------------------------------------------------------------ */

static void
test_link_not_a_mux(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int upper = sh_open(&fx, "echo", O_RDWR);
	int lower = sh_open(&fx, "null", O_RDWR);
	sh_assert_fails(us_ioctl(upper, I_LINK, lower), EINVAL);
	sh_assert_fails(us_ioctl(upper, I_PLINK, lower), EINVAL);
	/* The lower stream was not taken: it still works. */
	sh_write_str(lower, "fine");
	sh_write_str(upper, "fine");
	sh_read_expect(upper, 8, "fine");
	sh_close(upper);
	sh_close(lower);
	sh_fini(&fx);
}

static void
test_link_bad_lower_fd(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int upper = sh_open(&fx, "echo", O_RDWR);
	sh_assert_fails(us_ioctl(upper, I_LINK, -1), EBADF);
	sh_assert_fails(us_ioctl(upper, I_LINK, 1000000), EBADF);
	sh_assert_fails(us_ioctl(upper, I_PLINK, -1), EBADF);
	sh_close(upper);
	sh_fini(&fx);
}

static void
test_unlink_nothing_linked(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int upper = sh_open(&fx, "echo", O_RDWR);
	sh_assert_fails(us_ioctl(upper, I_UNLINK, 1), EINVAL);
	sh_assert_fails(us_ioctl(upper, I_UNLINK, MUXID_ALL), EINVAL);
	sh_assert_fails(us_ioctl(upper, I_PUNLINK, 1), EINVAL);
	sh_assert_fails(us_ioctl(upper, I_PUNLINK, MUXID_ALL), EINVAL);
	sh_close(upper);
	sh_fini(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sh_register();
	g_test_add_func("/head/error/one-byte", test_error_one_byte);
	g_test_add_func("/head/error/fails-ioctl", test_error_fails_ioctl);
	g_test_add_func("/head/error/two-byte-read-only", test_error_two_byte_read_only);
	g_test_add_func("/head/error/two-byte-write-only", test_error_two_byte_write_only);
	g_test_add_func("/head/error/rerrnonpersist", test_error_rerrnonpersist);
	g_test_add_func("/head/error/werrnonpersist", test_error_werrnonpersist);
	g_test_add_func("/head/hangup/from-loop-close", test_hangup_from_loop_close);
	g_test_add_func("/head/hangup/unhangup", test_hangup_unhangup);
	g_test_add_func("/head/hangup/wakes-blocked-read", test_hangup_wakes_blocked_read);
	g_test_add_func("/head/setopts/readopt", test_setopts_readopt);
	g_test_add_func("/head/setopts/hiwat", test_setopts_hiwat);
	g_test_add_func("/head/sig/s-msg", test_sig_s_msg);
	g_test_add_func("/head/poll/read-events", test_poll_read_events);
	g_test_add_func("/head/poll/err-hup-unrequested", test_poll_err_hup_unrequested);
	g_test_add_func("/head/poll/nval", test_poll_nval);
	g_test_add_func("/head/poll/waits-virtual-time", test_poll_waits_virtual_time);
	g_test_add_func("/head/poll/threaded-wakes-on-data", test_poll_threaded_wakes_on_data);
	g_test_add_func("/head/link/not-a-mux-einval", test_link_not_a_mux);
	g_test_add_func("/head/link/bad-lower-fd-ebadf", test_link_bad_lower_fd);
	g_test_add_func("/head/link/unlink-nothing-einval", test_unlink_nothing_linked);
	return g_test_run();
}
