/* SPDX-License-Identifier: MIT */
/*
 * test-head-ioctl.c -- the streamio(7I) commands: I_PUSH, I_POP, I_LOOK,
 * I_FIND, I_LIST, I_FLUSH, I_FLUSHBAND, I_NREAD, I_PEEK, I_SETSIG/I_GETSIG,
 * I_CANPUT, I_ATMARK, I_CKBAND, I_GETBAND, I_SERROPT, I_SETCLTIME; I_STR
 * (ACK with data, NAK, timeouts, one ioctl at a time, late replies) and
 * transparent ioctls (M_COPYIN/M_COPYOUT/M_IOCDATA).
 */
#include "shtest.h"

/* ------------------------------------------------------------------ */
/* Module commands                                                    */
/* ------------------------------------------------------------------ */

static void
test_push_errors(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_assert_fails(us_ioctl(fd, I_PUSH, "nosuchmod"), EINVAL); /* unknown, 9 chars */
	sh_assert_fails(us_ioctl(fd, I_PUSH, "nosuch"), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_PUSH, "passpasspass"), EINVAL); /* > FMNAMESZ */
	sh_assert_fails(us_ioctl(fd, I_PUSH, ""), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_PUSH, "echo"), EINVAL);    /* a driver */
	sh_assert_fails(us_ioctl(fd, I_PUSH, "strhead"), EINVAL); /* the head */
	g_assert_cmpint(us_ioctl(fd, I_LIST, NULL), ==, 1);       /* nothing was pushed */
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_push_pop_look(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	char name[FMNAMESZ + 1];
	sh_assert_fails(us_ioctl(fd, I_LOOK, name), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_POP, 0), EINVAL);
	sh_push(fd, "pass");
	sh_push(fd, "shmod");
	g_assert_cmpint(us_ioctl(fd, I_LOOK, name), ==, 0);
	g_assert_cmpstr(name, ==, "shmod");
	/* Data still flows through both modules and back. */
	sh_write_str(fd, "through");
	sh_settle(&fx);
	sh_read_expect(fd, 32, "through");
	g_assert_cmpint(us_ioctl(fd, I_POP, 0), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_LOOK, name), ==, 0);
	g_assert_cmpstr(name, ==, "pass");
	g_assert_cmpint(us_ioctl(fd, I_POP, 0), ==, 0);
	sh_assert_fails(us_ioctl(fd, I_LOOK, name), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_POP, 0), EINVAL);
	sh_close(fd);
	sh_fini(&fx);
}

/* A stream holds a bounded number of modules (nstrpush): then EINVAL. */
static void
test_push_depth_limit(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "null", O_RDWR);
	int pushed = 0;
	while (pushed < 64 && us_ioctl(fd, I_PUSH, "pass") == 0)
		pushed++;
	g_assert_cmpint(errno, ==, EINVAL);
	g_assert_cmpint(pushed, >=, 8);
	g_assert_cmpint(pushed, <, 64);
	g_assert_cmpint(us_ioctl(fd, I_LIST, NULL), ==, pushed + 1);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_find(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_FIND, "pass"), ==, 0);
	sh_push(fd, "pass");
	sh_push(fd, "shmod");
	g_assert_cmpint(us_ioctl(fd, I_FIND, "pass"), ==, 1);
	g_assert_cmpint(us_ioctl(fd, I_FIND, "shmod"), ==, 1);
	g_assert_cmpint(us_ioctl(fd, I_FIND, "shpsz"), ==, 0);
	sh_assert_fails(us_ioctl(fd, I_FIND, "nosuch"), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_FIND, "passpasspass"), EINVAL);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_list(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_LIST, NULL), ==, 1);
	sh_push(fd, "pass");
	sh_push(fd, "shmod");
	g_assert_cmpint(us_ioctl(fd, I_LIST, NULL), ==, 3);
	struct str_mlist names[4];
	memset(names, 0, sizeof names);
	struct str_list sl = { .sl_nmods = 4, .sl_modlist = names };
	g_assert_cmpint(us_ioctl(fd, I_LIST, &sl), ==, 0);
	g_assert_cmpint(sl.sl_nmods, ==, 3);
	g_assert_cmpstr(names[0].l_name, ==, "shmod");
	g_assert_cmpstr(names[1].l_name, ==, "pass");
	g_assert_cmpstr(names[2].l_name, ==, "echo");
	/* Room for one: the topmost only. */
	memset(names, 0, sizeof names);
	sl.sl_nmods = 1;
	g_assert_cmpint(us_ioctl(fd, I_LIST, &sl), ==, 0);
	g_assert_cmpint(sl.sl_nmods, ==, 1);
	g_assert_cmpstr(names[0].l_name, ==, "shmod");
	g_assert_cmpstr(names[1].l_name, ==, "");
	sl.sl_nmods = 0;
	sh_assert_fails(us_ioctl(fd, I_LIST, &sl), EINVAL);
	sl.sl_nmods = -1;
	sh_assert_fails(us_ioctl(fd, I_LIST, &sl), EINVAL);
	sh_close(fd);
	sh_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Flushing and looking at the read queue                             */
/* ------------------------------------------------------------------ */

static void
test_flush(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	sh_assert_fails(us_ioctl(fd, I_FLUSH, 0), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_FLUSH, FLUSHBAND), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_FLUSH, 0x10), EINVAL);
	g_assert_cmpuint(shm_of(fd)->nflush_down, ==, 0);
	sh_write_str(fd, "one");
	sh_write_str(fd, "two");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 2);
	g_assert_cmpint(us_ioctl(fd, I_FLUSH, FLUSHR), ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	g_assert_cmpuint(shm_of(fd)->nflush_down, ==, 1);
	g_assert_cmpint(shm_of(fd)->flush_down, ==, FLUSHR);
	/* FLUSHW goes down and leaves the read queue alone. */
	sh_write_str(fd, "three");
	g_assert_cmpint(us_ioctl(fd, I_FLUSH, FLUSHW), ==, 0);
	g_assert_cmpuint(shm_of(fd)->nflush_down, ==, 2);
	g_assert_cmpint(shm_of(fd)->flush_down, ==, FLUSHRW);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 1);
	g_assert_cmpint(us_ioctl(fd, I_FLUSH, FLUSHRW), ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_flushband(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	struct strbuf d = { .len = 1, .buf = "x" };
	g_assert_cmpint(us_putpmsg(fd, NULL, &d, 0, MSG_BAND), ==, 0);
	g_assert_cmpint(us_putpmsg(fd, NULL, &d, 1, MSG_BAND), ==, 0);
	g_assert_cmpint(us_putpmsg(fd, NULL, &d, 2, MSG_BAND), ==, 0);
	g_assert_cmpint(us_putpmsg(fd, NULL, &d, 2, MSG_BAND), ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 4);
	struct bandinfo bi = { .bi_pri = 2, .bi_flag = 0 };
	sh_assert_fails(us_ioctl(fd, I_FLUSHBAND, &bi), EINVAL);
	bi.bi_flag = 0x10;
	sh_assert_fails(us_ioctl(fd, I_FLUSHBAND, &bi), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_FLUSHBAND, NULL), EFAULT);
	bi.bi_flag = FLUSHR;
	g_assert_cmpint(us_ioctl(fd, I_FLUSHBAND, &bi), ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 2);
	g_assert_cmpint(us_ioctl(fd, I_CKBAND, 2), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_CKBAND, 1), ==, 1);
	g_assert_cmpint(us_ioctl(fd, I_CKBAND, 0), ==, 1);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_nread(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	int first = -1;
	g_assert_cmpint(us_ioctl(fd, I_NREAD, &first), ==, 0);
	g_assert_cmpint(first, ==, 0);
	sh_write_str(fd, "abc");
	sh_write_str(fd, "defgh");
	g_assert_cmpint(us_ioctl(fd, I_NREAD, &first), ==, 2);
	g_assert_cmpint(first, ==, 3);
	/* Only the data blocks count. */
	struct strbuf c = { .len = 5, .buf = "ctrl!" };
	g_assert_cmpint(us_ioctl(fd, I_FLUSH, FLUSHR), ==, 0);
	g_assert_cmpint(us_putmsg(fd, &c, NULL, 0), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_NREAD, &first), ==, 1);
	g_assert_cmpint(first, ==, 0);
	sh_assert_fails(us_ioctl(fd, I_NREAD, NULL), EFAULT);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_peek(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	char cbuf[16], dbuf[16];
	struct strpeek sp = { .ctlbuf = { .maxlen = 16, .buf = cbuf },
			      .databuf = { .maxlen = 16, .buf = dbuf },
			      .flags = 0 };
	g_assert_cmpint(us_ioctl(fd, I_PEEK, &sp), ==, 0); /* nothing there */
	sh_write_str(fd, "hello");
	g_assert_cmpint(us_ioctl(fd, I_PEEK, &sp), ==, 1);
	g_assert_cmpint(sp.ctlbuf.len, ==, -1);
	g_assert_cmpint(sp.databuf.len, ==, 5);
	g_assert_cmpmem(dbuf, 5, "hello", 5);
	g_assert_cmpuint(sp.flags, ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 1); /* not consumed */
	/* RS_HIPRI looks only for a high-priority message. */
	sp.flags = RS_HIPRI;
	g_assert_cmpint(us_ioctl(fd, I_PEEK, &sp), ==, 0);
	struct strbuf c = { .len = 2, .buf = "PC" };
	struct strbuf d = { .len = 3, .buf = "abc" };
	g_assert_cmpint(us_putmsg(fd, &c, &d, RS_HIPRI), ==, 0);
	sp.flags = RS_HIPRI;
	sp.databuf.maxlen = 2; /* truncated copy */
	g_assert_cmpint(us_ioctl(fd, I_PEEK, &sp), ==, 1);
	g_assert_cmpuint(sp.flags, ==, RS_HIPRI);
	g_assert_cmpint(sp.ctlbuf.len, ==, 2);
	g_assert_cmpmem(cbuf, 2, "PC", 2);
	g_assert_cmpint(sp.databuf.len, ==, 2);
	g_assert_cmpmem(dbuf, 2, "ab", 2);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 2);
	sp.flags = 2;
	sh_assert_fails(us_ioctl(fd, I_PEEK, &sp), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_PEEK, NULL), EFAULT);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_ckband_getband(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	int band = -1;
	sh_assert_fails(us_ioctl(fd, I_GETBAND, &band), ENODATA);
	g_assert_cmpint(us_ioctl(fd, I_CKBAND, 0), ==, 0);
	struct strbuf d = { .len = 1, .buf = "x" };
	g_assert_cmpint(us_putpmsg(fd, NULL, &d, 5, MSG_BAND), ==, 0);
	g_assert_cmpint(us_putpmsg(fd, NULL, &d, 0, MSG_BAND), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_GETBAND, &band), ==, 0);
	g_assert_cmpint(band, ==, 5);
	g_assert_cmpint(us_ioctl(fd, I_CKBAND, 5), ==, 1);
	g_assert_cmpint(us_ioctl(fd, I_CKBAND, 0), ==, 1);
	g_assert_cmpint(us_ioctl(fd, I_CKBAND, 4), ==, 0);
	sh_assert_fails(us_ioctl(fd, I_CKBAND, 256), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_CKBAND, -1), EINVAL);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_canput(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_CANPUT, 0), ==, 1);
	g_assert_cmpint(us_ioctl(fd, I_CANPUT, 7), ==, 1);
	g_assert_cmpint(us_ioctl(fd, I_CANPUT, 255), ==, 1);
	sh_assert_fails(us_ioctl(fd, I_CANPUT, 256), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_CANPUT, -1), EINVAL);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_atmark(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_ATMARK, ANYMARK), ==, 0);
	mblk_t *m1 = sh_msg(M_DATA, 0, "m1");
	m1->b_flag |= MSGMARK;
	mblk_t *m2 = sh_msg(M_DATA, 0, "m2");
	mblk_t *m3 = sh_msg(M_DATA, 0, "m3");
	m3->b_flag |= MSGMARK;
	sh_inject_up(fd, m1);
	sh_inject_up(fd, m2);
	sh_inject_up(fd, m3);
	g_assert_cmpint(us_ioctl(fd, I_ATMARK, ANYMARK), ==, 1);
	g_assert_cmpint(us_ioctl(fd, I_ATMARK, LASTMARK), ==, 0); /* m3 is marked too */
	sh_assert_fails(us_ioctl(fd, I_ATMARK, 0), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_ATMARK, 4), EINVAL);
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGN), ==, 0);
	sh_read_expect(fd, 8, "m1");
	g_assert_cmpint(us_ioctl(fd, I_ATMARK, ANYMARK), ==, 0); /* m2 */
	sh_read_expect(fd, 8, "m2");
	g_assert_cmpint(us_ioctl(fd, I_ATMARK, ANYMARK), ==, 1);
	g_assert_cmpint(us_ioctl(fd, I_ATMARK, LASTMARK), ==, 1);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_erropt(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	int opt = -1;
	g_assert_cmpint(us_ioctl(fd, I_GERROPT, &opt), ==, 0);
	g_assert_cmpint(opt & (RERRNONPERSIST | WERRNONPERSIST), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_SERROPT, RERRNONPERSIST), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_GERROPT, &opt), ==, 0);
	g_assert_cmpint(opt & (RERRNONPERSIST | WERRNONPERSIST), ==, RERRNONPERSIST);
	sh_assert_fails(us_ioctl(fd, I_SERROPT, 0x10), EINVAL);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_cltime(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	int ms = -1;
	g_assert_cmpint(us_ioctl(fd, I_GETCLTIME, &ms), ==, 0);
	g_assert_cmpint(ms, ==, US_CLOSE_TIME_DEFAULT);
	ms = 250;
	g_assert_cmpint(us_ioctl(fd, I_SETCLTIME, &ms), ==, 0);
	ms = -1;
	g_assert_cmpint(us_ioctl(fd, I_GETCLTIME, &ms), ==, 0);
	g_assert_cmpint(ms, ==, 250);
	ms = -5;
	sh_assert_fails(us_ioctl(fd, I_SETCLTIME, &ms), EINVAL);
	sh_close(fd);
	sh_fini(&fx);
}

/* Descriptor passing and I_FDINSERT are not supported (documented). */
static void
test_unsupported_einval(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	struct strrecvfd rfd;
	sh_assert_fails(us_ioctl(fd, I_SENDFD, fd), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_RECVFD, &rfd), EINVAL);
	sh_close(fd);
	sh_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* I_SETSIG                                                           */
/* ------------------------------------------------------------------ */

static void
test_setsig_getsig(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	int mask = -1;
	sh_assert_fails(us_ioctl(fd, I_GETSIG, &mask), EINVAL); /* not registered */
	sh_assert_fails(us_ioctl(fd, I_SETSIG, 0), EINVAL);     /* nothing to remove */
	sh_assert_fails(us_ioctl(fd, I_SETSIG, 0x4000), EINVAL);
	g_assert_cmpint(us_ioctl(fd, I_SETSIG, S_INPUT | S_RDNORM | S_HIPRI), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_GETSIG, &mask), ==, 0);
	g_assert_cmpint(mask, ==, S_INPUT | S_RDNORM | S_HIPRI);
	g_assert_cmpint(us_getsigevents(fd), ==, 0);
	sh_write_str(fd, "data");
	g_assert_cmpint(us_getsigevents(fd), ==, S_INPUT | S_RDNORM);
	g_assert_cmpint(us_getsigevents(fd), ==, 0); /* taken */
	struct strbuf c = { .len = 1, .buf = "p" };
	g_assert_cmpint(us_putmsg(fd, &c, NULL, RS_HIPRI), ==, 0);
	g_assert_cmpint(us_getsigevents(fd), ==, S_HIPRI);
	/* Unregistered events are not reported. */
	struct strbuf d = { .len = 1, .buf = "b" };
	g_assert_cmpint(us_putpmsg(fd, NULL, &d, 3, MSG_BAND), ==, 0);
	g_assert_cmpint(us_getsigevents(fd), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_SETSIG, S_RDBAND), ==, 0);
	g_assert_cmpint(us_putpmsg(fd, NULL, &d, 3, MSG_BAND), ==, 0);
	g_assert_cmpint(us_getsigevents(fd), ==, S_RDBAND);
	/* Removing every registration: I_GETSIG fails again. */
	g_assert_cmpint(us_ioctl(fd, I_SETSIG, 0), ==, 0);
	sh_assert_fails(us_ioctl(fd, I_GETSIG, &mask), EINVAL);
	sh_write_str(fd, "more");
	g_assert_cmpint(us_getsigevents(fd), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* A pending event makes the descriptor readable until it is taken. */
static void
test_setsig_event_wakes_fd(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_SETSIG, S_INPUT), ==, 0);
	sh_write_str(fd, "x");
	sh_read_expect(fd, 4, "x");
	struct pollfd p = { .fd = fd, .events = POLLIN };
	g_assert_cmpint(poll(&p, 1, 0), ==, 1); /* the S_INPUT event still waits */
	g_assert_cmpint(us_getsigevents(fd), ==, S_INPUT);
	g_assert_cmpint(poll(&p, 1, 0), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* I_STR                                                              */
/* ------------------------------------------------------------------ */

/* An ACK with data: the data comes back and ic_len is updated. */
static void
test_str_ack_with_data(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	char buf[32] = "mixed Case";
	int len = -1;
	g_assert_cmpint(sh_istr(fd, SHM_UPPER, buf, 10, 0, &len), ==, 0);
	g_assert_cmpint(len, ==, 10);
	g_assert_cmpmem(buf, 10, "MIXED CASE", 10);
	/* The return value is ioc_rval. */
	g_assert_cmpint(sh_istr_int(fd, SHM_RVAL, 42), ==, 42);
	/* An ACK without data sets ic_len to 0. */
	int v = 7;
	g_assert_cmpint(sh_istr(fd, SHM_RVAL, &v, sizeof v, 0, &len), ==, 7);
	g_assert_cmpint(len, ==, 0);
	g_assert_cmpuint(shm_of(fd)->ioctls, ==, 3);
	sh_close(fd);
	sh_fini(&fx);
}

/* loop's LOOP_SET: ACK (ic_len 0) and its NAKs. */
static void
test_str_loop_set(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int a, b;
	sh_loop_pair(&fx, &a, &b, O_RDWR, O_RDWR); /* asserts the ACK and ic_len */
	int c = sh_open(&fx, "loop", O_RDWR);
	int minor = (int)getminor(us_stream_dev(us_fd_stream(a)));
	sh_assert_fails(sh_istr(c, LOOP_SET, &minor, sizeof minor, 0, NULL), EBUSY);
	minor = 99999;
	sh_assert_fails(sh_istr(c, LOOP_SET, &minor, sizeof minor, 0, NULL), ENXIO);
	sh_assert_fails(sh_istr(c, LOOP_SET, NULL, 0, 0, NULL), EINVAL);
	sh_write_str(a, "over");
	sh_read_expect(b, 8, "over");
	sh_write_str(b, "back");
	sh_read_expect(a, 8, "back");
	sh_close(a);
	sh_close(b);
	sh_close(c);
	sh_fini(&fx);
}

/* A NAK fails the call with the driver's or module's errno. */
static void
test_str_nak_errno(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	int v = 1;
	sh_assert_fails(sh_istr(fd, 12345, &v, sizeof v, 0, NULL), EINVAL); /* echo NAKs */
	sh_push(fd, "shmod");
	sh_assert_fails(sh_istr_int(fd, SHM_NAK, EPERM), EPERM);
	sh_assert_fails(sh_istr_int(fd, SHM_NAK, EPROTO), EPROTO);
	sh_assert_fails(sh_istr_int(fd, SHM_NAK, 0), EINVAL); /* NAK without errno */
	/* Unknown to shmod: passed down to echo, which NAKs. */
	sh_assert_fails(sh_istr(fd, 12345, &v, sizeof v, 0, NULL), EINVAL);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_str_bad_args(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	char buf[4] = "abc";
	sh_assert_fails(us_ioctl(fd, I_STR, NULL), EFAULT);
	sh_assert_fails(sh_istr(fd, SHM_RVAL, buf, -1, 0, NULL), EINVAL);
	sh_assert_fails(sh_istr(fd, SHM_RVAL, buf, 4, -2, NULL), EINVAL);
	sh_assert_fails(sh_istr(fd, SHM_RVAL, NULL, 4, 0, NULL), EINVAL);
	sh_assert_fails(sh_istr(fd, SHM_RVAL, buf, US_STRMSGSZ + 1, 0, NULL), EINVAL);
	g_assert_cmpuint(shm_of(fd)->ioctls, ==, 0); /* none went down */
	sh_close(fd);
	sh_fini(&fx);
}

/* Nobody answers: ETIME after ic_timout seconds on the world's clock. */
static void
test_str_timeout_etime(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	gint64 t0 = us_world_now(fx.world);
	sh_assert_fails(sh_istr(fd, SHM_HOLD, NULL, 0, 1, NULL), ETIME);
	g_assert_cmpint(us_world_now(fx.world) - t0, ==, US_NSEC_PER_SEC);
	/* A late reply is dropped and counted. */
	g_assert_true(shm_release(fd, 0));
	g_assert_cmpuint(us_stack_drop_count(fx.stack, "strhead", 2), ==, 1);
	/* The stream takes ioctls again. */
	g_assert_cmpint(sh_istr_int(fd, SHM_RVAL, 5), ==, 5);
	sh_close(fd);
	sh_fini(&fx);
}

/* ic_timout 0 means the default timeout. */
static void
test_str_timeout_default(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	gint64 t0 = us_world_now(fx.world);
	sh_assert_fails(sh_istr(fd, SHM_HOLD, NULL, 0, 0, NULL), ETIME);
	g_assert_cmpint(us_world_now(fx.world) - t0, ==, US_STR_TIMEOUT_DEFAULT * US_NSEC_PER_SEC);
	sh_close(fd); /* shmod frees the ioctl it held */
	sh_fini(&fx);
}

/* INFTIM in virtual time with nothing that could answer: EDEADLK; the
 * reply that comes later is dropped, not taken by the next ioctl. */
static void
test_str_inftim_virtual_edeadlk(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	sh_assert_fails(sh_istr(fd, SHM_HOLD, NULL, 0, INFTIM, NULL), EDEADLK);
	g_assert_true(shm_release(fd, 99));
	g_assert_cmpuint(us_stack_drop_count(fx.stack, "strhead", 2), ==, 1);
	g_assert_cmpint(sh_istr_int(fd, SHM_RVAL, 3), ==, 3);
	sh_close(fd);
	sh_fini(&fx);
}

typedef struct {
	int fd;
	int cmd;
	int value;
	int result;
	int err;
} IoctlCall;

static gpointer
ioctl_thread(gpointer data)
{
	IoctlCall *c = data;
	c->result = sh_istr(c->fd, c->cmd, &c->value, sizeof c->value, INFTIM, NULL);
	c->err = errno;
	return NULL;
}

/* One ioctl at a time per stream: a second caller waits until the first
 * is answered, then goes down. */
static void
test_str_one_outstanding(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_REAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	g_assert_true(us_world_start_thread(fx.world, NULL));
	IoctlCall first = { fd, SHM_HOLD, 0, 0, 0 };
	GThread *t1 = g_thread_new("ioctl-1", ioctl_thread, &first);
	while (shm_snapshot(fd).held == NULL)
		g_usleep(1000);
	IoctlCall second = { fd, SHM_RVAL, 17, 0, 0 };
	GThread *t2 = g_thread_new("ioctl-2", ioctl_thread, &second);
	g_usleep(50000);
	g_assert_cmpuint(shm_snapshot(fd).ioctls, ==, 1); /* the second is held back */
	g_assert_true(shm_release(fd, 11));
	g_thread_join(t1);
	g_thread_join(t2);
	g_assert_cmpint(first.result, ==, 11);
	g_assert_cmpint(second.result, ==, 17);
	g_assert_cmpuint(shm_snapshot(fd).ioctls, ==, 2);
	g_assert_cmpuint(us_stack_drop_count(fx.stack, "strhead", 2), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Transparent ioctls                                                 */
/* ------------------------------------------------------------------ */

/* M_COPYIN of an int, M_COPYOUT of int + 1, M_IOCACK: the caller's
 * variable is updated. */
static void
test_transparent_copyin_copyout(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	int v = 41;
	g_assert_cmpint(us_ioctl(fd, SHM_INC, &v), ==, 0);
	g_assert_cmpint(v, ==, 42);
	g_assert_cmpint(shm_of(fd)->trans_value, ==, 41);
	g_assert_cmpint(shm_of(fd)->trans_state, ==, SHM_T_IDLE);
	g_assert_cmpint(us_ioctl(fd, SHM_INC, &v), ==, 0);
	g_assert_cmpint(v, ==, 43);
	sh_close(fd);
	sh_fini(&fx);
}

/* A bad user address: the head answers the M_COPYIN with a failure and the
 * call fails with EFAULT. */
static void
test_transparent_bad_address_efault(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	sh_assert_fails(us_ioctl(fd, SHM_INC, NULL), EFAULT);
	g_assert_cmpint(shm_of(fd)->trans_state, ==, SHM_T_IDLE);
	int v = 1;
	g_assert_cmpint(us_ioctl(fd, SHM_INC, &v), ==, 0); /* works again */
	g_assert_cmpint(v, ==, 2);
	sh_close(fd);
	sh_fini(&fx);
}

/* A transparent ioctl nobody knows is NAKed by the driver. */
static void
test_transparent_unknown_einval(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	int v = 1;
	sh_assert_fails(us_ioctl(fd, SHM_INC, &v), EINVAL);
	g_assert_cmpint(v, ==, 1);
	sh_close(fd);
	sh_fini(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sh_register();
	g_test_add_func("/head/ioctl/push/errors-einval", test_push_errors);
	g_test_add_func("/head/ioctl/push/pop-look", test_push_pop_look);
	g_test_add_func("/head/ioctl/push/depth-limit", test_push_depth_limit);
	g_test_add_func("/head/ioctl/find", test_find);
	g_test_add_func("/head/ioctl/list", test_list);
	g_test_add_func("/head/ioctl/flush", test_flush);
	g_test_add_func("/head/ioctl/flushband", test_flushband);
	g_test_add_func("/head/ioctl/nread", test_nread);
	g_test_add_func("/head/ioctl/peek", test_peek);
	g_test_add_func("/head/ioctl/ckband-getband", test_ckband_getband);
	g_test_add_func("/head/ioctl/canput", test_canput);
	g_test_add_func("/head/ioctl/atmark", test_atmark);
	g_test_add_func("/head/ioctl/erropt", test_erropt);
	g_test_add_func("/head/ioctl/cltime", test_cltime);
	g_test_add_func("/head/ioctl/unsupported-einval", test_unsupported_einval);
	g_test_add_func("/head/ioctl/setsig/getsig-events", test_setsig_getsig);
	g_test_add_func("/head/ioctl/setsig/event-wakes-fd", test_setsig_event_wakes_fd);
	g_test_add_func("/head/ioctl/str/ack-with-data", test_str_ack_with_data);
	g_test_add_func("/head/ioctl/str/loop-set", test_str_loop_set);
	g_test_add_func("/head/ioctl/str/nak-errno", test_str_nak_errno);
	g_test_add_func("/head/ioctl/str/bad-args", test_str_bad_args);
	g_test_add_func("/head/ioctl/str/timeout-etime", test_str_timeout_etime);
	g_test_add_func("/head/ioctl/str/timeout-default", test_str_timeout_default);
	g_test_add_func("/head/ioctl/str/inftim-virtual-edeadlk", test_str_inftim_virtual_edeadlk);
	g_test_add_func("/head/ioctl/str/one-outstanding", test_str_one_outstanding);
	g_test_add_func("/head/ioctl/transparent/copyin-copyout", test_transparent_copyin_copyout);
	g_test_add_func("/head/ioctl/transparent/bad-address-efault",
			test_transparent_bad_address_efault);
	g_test_add_func("/head/ioctl/transparent/unknown-einval", test_transparent_unknown_einval);
	return g_test_run();
}
