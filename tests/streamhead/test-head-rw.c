/* SPDX-License-Identifier: MIT */
/*
 * test-head-rw.c -- read(2) and write(2) on a stream: read modes
 * (RNORM/RMSGD/RMSGN) and protocol modes (RPROTNORM/RPROTDAT/RPROTDIS),
 * zero-length messages, blocking and non-blocking reads, write splitting by
 * the top module's q_maxpsz, ERANGE, SO_WROFF headroom, flow control.
 */
#include "shtest.h"

/* Sends an M_PROTO (control ctl, data dat or none) up through echo. */
static void
put_proto(int fd, const char *ctl, const char *dat, int flags)
{
	struct strbuf c = { .len = (int)strlen(ctl), .buf = (char *)ctl };
	struct strbuf d = { .len = dat ? (int)strlen(dat) : -1, .buf = (char *)dat };
	g_assert_cmpint(us_putmsg(fd, &c, &d, flags), ==, 0);
}

/* ------------------------------------------------------------------ */
/* read modes                                                         */
/* ------------------------------------------------------------------ */

static void
test_read_default_modes(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	int opt = -1;
	g_assert_cmpint(us_ioctl(fd, I_GRDOPT, &opt), ==, 0);
	g_assert_cmpint(opt, ==, RNORM | RPROTNORM);
	sh_close(fd);
	sh_fini(&fx);
}

/* RNORM: one read takes data from as many messages as fit. */
static void
test_read_rnorm_spans_messages(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_write_str(fd, "abc");
	sh_write_str(fd, "defg");
	sh_write_str(fd, "hi");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 3);
	sh_read_expect(fd, 5, "abcde");
	/* The rest of "defg" stays at the front. */
	int first = 0;
	g_assert_cmpint(sh_nread(fd, &first), ==, 2);
	g_assert_cmpint(first, ==, 2);
	sh_read_expect(fd, 100, "fghi");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* RMSGN: one message per read; what does not fit stays. */
static void
test_read_rmsgn_keeps_rest(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGN), ==, 0);
	sh_write_str(fd, "abcdef");
	sh_write_str(fd, "gh");
	sh_read_expect(fd, 4, "abcd");
	sh_read_expect(fd, 100, "ef");
	sh_read_expect(fd, 100, "gh");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* RMSGD: one message per read; what does not fit is discarded. */
static void
test_read_rmsgd_discards_rest(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGD), ==, 0);
	sh_write_str(fd, "abcdef");
	sh_write_str(fd, "gh");
	sh_read_expect(fd, 4, "abcd");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 1);
	sh_read_expect(fd, 100, "gh");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* I_SRDOPT changing only the mode keeps the protocol bits. */
static void
test_read_srdopt_keeps_prot(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	int opt = -1;
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGD | RPROTDAT), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_GRDOPT, &opt), ==, 0);
	g_assert_cmpint(opt, ==, RMSGD | RPROTDAT);
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGN), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_GRDOPT, &opt), ==, 0);
	g_assert_cmpint(opt, ==, RMSGN | RPROTDAT);
	sh_assert_fails(us_ioctl(fd, I_SRDOPT, RMODEMASK), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_SRDOPT, RPROTDAT | RPROTDIS), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_SRDOPT, 0x40), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_GRDOPT, NULL), EFAULT);
	g_assert_cmpint(us_ioctl(fd, I_GRDOPT, &opt), ==, 0);
	g_assert_cmpint(opt, ==, RMSGN | RPROTDAT); /* unchanged by the failures */
	sh_close(fd);
	sh_fini(&fx);
}

/* RPROTNORM: EBADMSG on an M_PROTO at the front; the message stays. */
static void
test_read_rprotnorm_ebadmsg(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	put_proto(fd, "CTL", "data", 0);
	char buf[16];
	sh_assert_fails(us_read(fd, buf, sizeof buf), EBADMSG);
	sh_assert_fails(us_read(fd, buf, sizeof buf), EBADMSG);
	int first = 0;
	g_assert_cmpint(sh_nread(fd, &first), ==, 1);
	g_assert_cmpint(first, ==, 4);
	/* An M_PCPROTO is refused the same way. */
	g_assert_cmpint(us_ioctl(fd, I_FLUSH, FLUSHR), ==, 0);
	put_proto(fd, "PC", NULL, RS_HIPRI);
	sh_assert_fails(us_read(fd, buf, sizeof buf), EBADMSG);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 1);
	sh_close(fd);
	sh_fini(&fx);
}

/* Data before an M_PROTO is read; the read stops at the M_PROTO. */
static void
test_read_rnorm_stops_at_proto(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_write_str(fd, "abc");
	put_proto(fd, "CTL", "def", 0);
	sh_read_expect(fd, 100, "abc");
	char buf[8];
	sh_assert_fails(us_read(fd, buf, sizeof buf), EBADMSG);
	sh_close(fd);
	sh_fini(&fx);
}

/* RPROTDAT: the control part is delivered as data, then the data part. */
static void
test_read_rprotdat(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGN | RPROTDAT), ==, 0);
	put_proto(fd, "CTL", "data", 0);
	sh_read_expect(fd, 5, "CTLda");
	sh_read_expect(fd, 100, "ta");
	put_proto(fd, "PC", "x", RS_HIPRI);
	sh_read_expect(fd, 100, "PCx");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* RPROTDIS: the control part is dropped, the data part read. */
static void
test_read_rprotdis(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RNORM | RPROTDIS), ==, 0);
	put_proto(fd, "CTL", "data", 0);
	sh_write_str(fd, "more");
	sh_read_expect(fd, 100, "datamore");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* zero-length messages                                               */
/* ------------------------------------------------------------------ */

/* Without SNDZERO, writing 0 bytes sends nothing. */
static void
test_write_zero_default_sends_nothing(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	int opt = -1;
	g_assert_cmpint(us_ioctl(fd, I_GWROPT, &opt), ==, 0);
	g_assert_cmpint(opt, ==, 0);
	g_assert_cmpint(us_write(fd, "", 0), ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* With SNDZERO a zero-length message goes; read returns 0 and takes it. */
static void
test_read_zero_length_message(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_SWROPT, SNDZERO), ==, 0);
	int opt = -1;
	g_assert_cmpint(us_ioctl(fd, I_GWROPT, &opt), ==, 0);
	g_assert_cmpint(opt, ==, SNDZERO);
	g_assert_cmpint(us_write(fd, "", 0), ==, 0);
	int first = -1;
	g_assert_cmpint(sh_nread(fd, &first), ==, 1);
	g_assert_cmpint(first, ==, 0);
	char buf[8];
	g_assert_cmpint(us_read(fd, buf, sizeof buf), ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_assert_fails(us_ioctl(fd, I_SWROPT, 0x10), EINVAL);
	sh_assert_fails(us_ioctl(fd, I_GWROPT, NULL), EFAULT);
	sh_close(fd);
	sh_fini(&fx);
}

/* RNORM: a read stops before a zero-length message, which the next read
 * returns as 0 and consumes. */
static void
test_read_rnorm_stops_at_zero_length(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_SWROPT, SNDZERO), ==, 0);
	sh_write_str(fd, "abc");
	g_assert_cmpint(us_write(fd, "", 0), ==, 0);
	sh_write_str(fd, "def");
	sh_read_expect(fd, 100, "abc");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 2);
	char buf[8];
	g_assert_cmpint(us_read(fd, buf, sizeof buf), ==, 0);
	sh_read_expect(fd, 100, "def");
	sh_close(fd);
	sh_fini(&fx);
}

/* RMSGN: a zero-length message is one (empty) message. */
static void
test_read_rmsgn_zero_length(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGN), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_SWROPT, SNDZERO), ==, 0);
	g_assert_cmpint(us_write(fd, "", 0), ==, 0);
	sh_write_str(fd, "x");
	char buf[8];
	g_assert_cmpint(us_read(fd, buf, sizeof buf), ==, 0);
	sh_read_expect(fd, 8, "x");
	sh_close(fd);
	sh_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* waiting                                                            */
/* ------------------------------------------------------------------ */

static void
test_read_nonblock_empty_eagain(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR | O_NONBLOCK);
	char buf[8];
	sh_assert_fails(us_read(fd, buf, sizeof buf), EAGAIN);
	sh_write_str(fd, "ok");
	sh_read_expect(fd, 8, "ok");
	sh_assert_fails(us_read(fd, buf, sizeof buf), EAGAIN);
	sh_close(fd);
	sh_fini(&fx);
}

/* Virtual time, nothing will ever come: EDEADLK instead of hanging. */
static void
test_read_virtual_nothing_coming_edeadlk(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	char buf[8];
	sh_assert_fails(us_read(fd, buf, sizeof buf), EDEADLK);
	int flags = 0;
	struct strbuf d = { .maxlen = 8, .buf = buf };
	sh_assert_fails(us_getmsg(fd, NULL, &d, &flags), EDEADLK);
	sh_close(fd);
	sh_fini(&fx);
}

typedef struct {
	int fd;
	const char *text;
} LateData;

static void
late_data(gpointer data)
{
	LateData *ld = data;
	sh_inject_up(ld->fd, sh_msg(M_DATA, 0, ld->text));
}

/* A blocking read drives the virtual clock to the timer that brings data. */
static void
test_read_blocks_until_timer_data(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	LateData ld = { fd, "late" };
	gint64 t0 = us_world_now(fx.world);
	us_world_timer_add(fx.world, 5 * US_NSEC_PER_SEC, late_data, &ld);
	sh_read_expect(fd, 16, "late");
	g_assert_cmpint(us_world_now(fx.world) - t0, ==, 5 * US_NSEC_PER_SEC);
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_readv_writev(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	struct iovec out[2] = { { "hel", 3 }, { "lo!", 3 } };
	g_assert_cmpint(us_writev(fd, out, 2), ==, 6);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 1); /* one message */
	char a[2], b[10];
	struct iovec in[2] = { { a, sizeof a }, { b, sizeof b } };
	g_assert_cmpint(us_readv(fd, in, 2), ==, 6);
	g_assert_cmpmem(a, 2, "he", 2);
	g_assert_cmpmem(b, 4, "llo!", 4);
	sh_assert_fails(us_readv(fd, in, -1), EINVAL);
	sh_assert_fails(us_writev(fd, NULL, 1), EINVAL);
	sh_close(fd);
	sh_fini(&fx);
}

/* A read of 0 bytes returns 0 and leaves data where it is. */
static void
test_read_zero_bytes_keeps_data(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_write_str(fd, "kept");
	char buf[1];
	g_assert_cmpint(us_read(fd, buf, 0), ==, 0);
	int first = 0;
	g_assert_cmpint(sh_nread(fd, &first), ==, 1);
	g_assert_cmpint(first, ==, 4);
	sh_read_expect(fd, 8, "kept");
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

/* An M_ERROR arriving while a read waits fails the read with its errno. */
static void
test_read_blocked_gets_error(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	Later l = { fd, sh_error_msg(ECONNRESET, -1) };
	gint64 t0 = us_world_now(fx.world);
	us_world_timer_add(fx.world, US_NSEC_PER_SEC, later_inject, &l);
	char buf[8];
	sh_assert_fails(us_read(fd, buf, sizeof buf), ECONNRESET);
	g_assert_cmpint(us_world_now(fx.world) - t0, ==, US_NSEC_PER_SEC);
	sh_close(fd);
	sh_fini(&fx);
}

/* On a world with its own thread, a read sleeps until another thread's
 * write brings data. */
static void
test_read_blocking_woken_by_other_thread(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_REAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_true(us_world_start_thread(fx.world, NULL));
	DelayedWrite d = { fd, "wake up" };
	GThread *t = g_thread_new("writer", delayed_write_main, &d);
	sh_read_expect(fd, 32, "wake up");
	g_thread_join(t);
	sh_close(fd);
	sh_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* write                                                              */
/* ------------------------------------------------------------------ */

/* 25 bytes below a module with q_maxpsz 10: three messages 10, 10, 5. */
static void
test_write_split_by_maxpsz(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shpsz");
	g_assert_cmpint(us_write(fd, "0123456789abcdefghijKLMNO", 25), ==, 25);
	ShmState *ss = shm_of(fd);
	g_assert_cmpuint(ss->ndata, ==, 3);
	g_assert_cmpuint(ss->data_len[0], ==, 10);
	g_assert_cmpuint(ss->data_len[1], ==, 10);
	g_assert_cmpuint(ss->data_len[2], ==, 5);
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGN), ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 3);
	sh_read_expect(fd, 100, "0123456789");
	sh_read_expect(fd, 100, "abcdefghij");
	sh_read_expect(fd, 100, "KLMNO");
	sh_close(fd);
	sh_fini(&fx);
}

/* The same with q_maxpsz changed by strqset on the pushed module's queue. */
static void
test_write_split_by_strqset(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "pass");
	queue_t *top = us_stream_head_wq(us_fd_stream(fd))->q_next;
	g_assert_cmpint(strqset(top, QMAXPSZ, 0, 4), ==, 0);
	g_assert_cmpint(us_write(fd, "abcdefghij", 10), ==, 10);
	sh_settle(&fx);
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGN), ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 3);
	sh_read_expect(fd, 100, "abcd");
	sh_read_expect(fd, 100, "efgh");
	sh_read_expect(fd, 100, "ij");
	/* Back to no limit: one message. */
	g_assert_cmpint(strqset(top, QMAXPSZ, 0, INFPSZ), ==, 0);
	g_assert_cmpint(us_write(fd, "abcdefghij", 10), ==, 10);
	sh_settle(&fx);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 1);
	sh_read_expect(fd, 100, "abcdefghij");
	sh_close(fd);
	sh_fini(&fx);
}

/* With a non-zero q_minpsz, a size outside [minpsz, maxpsz] is ERANGE. */
static void
test_write_erange_outside_packet_sizes(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shrng");
	sh_assert_fails(us_write(fd, "abc", 3), ERANGE);
	sh_assert_fails(us_write(fd, "0123456789a", 11), ERANGE);
	g_assert_cmpuint(shm_of(fd)->ndata, ==, 0); /* nothing was sent */
	g_assert_cmpint(us_write(fd, "abcd", 4), ==, 4);
	g_assert_cmpint(us_write(fd, "0123456789", 10), ==, 10);
	g_assert_cmpuint(shm_of(fd)->ndata, ==, 2);
	sh_read_expect(fd, 100, "abcd0123456789");
	sh_close(fd);
	sh_fini(&fx);
}

/* M_SETOPTS SO_WROFF from below: every written message has that headroom. */
static void
test_write_headroom_from_so_wroff(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	shm_open_wroff = 24;
	sh_push(fd, "shpsz");
	shm_open_wroff = 0;
	g_assert_cmpint(us_write(fd, "0123456789abcde", 15), ==, 15);
	struct strbuf c = { .len = 2, .buf = "pr" };
	struct strbuf d = { .len = 3, .buf = "dat" };
	g_assert_cmpint(us_putmsg(fd, &c, &d, 0), ==, 0);
	ShmState *ss = shm_of(fd);
	g_assert_cmpuint(ss->ndata, ==, 3);
	for (guint i = 0; i < 3; i++)
		g_assert_cmpuint(ss->headroom[i], ==, 24);
	/* The headroom is invisible to the reader. */
	sh_read_expect(fd, 100, "0123456789abcde");
	sh_close(fd);
	sh_fini(&fx);
}

/* Without SO_WROFF, data starts at the buffer's base. */
static void
test_write_no_headroom_by_default(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	sh_push(fd, "shmod");
	sh_write_str(fd, "abc");
	g_assert_cmpuint(shm_of(fd)->ndata, ==, 1);
	g_assert_cmpuint(shm_of(fd)->headroom[0], ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* O_NONBLOCK under flow control: a partial count, then EAGAIN; after the
 * other side reads, writing works again. */
static void
test_write_nonblock_flow_control_eagain(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int a, b;
	sh_loop_pair(&fx, &a, &b, O_RDWR | O_NONBLOCK, O_RDWR);
	const size_t total = 400000;
	unsigned char *buf = g_malloc(total);
	for (size_t i = 0; i < total; i++)
		buf[i] = sh_pattern(i);
	ssize_t n = us_write(a, buf, total);
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(n, <, (gssize)total);
	sh_assert_fails(us_write(a, buf + n, total - (size_t)n), EAGAIN);
	g_assert_cmpint(us_ioctl(a, I_CANPUT, 0), ==, 0);
	struct strbuf d = { .len = 1, .buf = "d" };
	sh_assert_fails(us_putmsg(a, NULL, &d, 0), EAGAIN);
	/* High priority is not flow controlled. */
	struct strbuf c = { .len = 2, .buf = "hi" };
	g_assert_cmpint(us_putmsg(a, &c, NULL, RS_HIPRI), ==, 0);
	char cb[4];
	struct strbuf gc = { .maxlen = 4, .buf = cb };
	int flags = RS_HIPRI;
	g_assert_cmpint(us_getmsg(b, &gc, NULL, &flags), ==, 0);
	g_assert_cmpint(gc.len, ==, 2);
	g_assert_cmpint(flags, ==, RS_HIPRI);
	g_assert_cmpint(us_ioctl(a, I_SETSIG, S_OUTPUT), ==, 0);
	struct pollfd p = { .fd = a, .events = POLLOUT };
	g_assert_cmpint(us_poll(&p, 1, 0), ==, 0);
	/* The reader drains everything that was accepted, in order. */
	unsigned char *got = g_malloc(total);
	size_t have = 0;
	while (have < (size_t)n) {
		ssize_t k = us_read(b, got + have, total - have);
		g_assert_cmpint(k, >, 0);
		have += (size_t)k;
	}
	g_assert_cmpuint(have, ==, (size_t)n);
	g_assert_cmpmem(got, have, buf, have);
	sh_settle(&fx);
	g_assert_cmpint(us_getsigevents(a), ==, S_OUTPUT); /* back-enabled */
	g_assert_cmpint(us_ioctl(a, I_CANPUT, 0), ==, 1);
	g_assert_cmpint(us_poll(&p, 1, 0), ==, 1);
	g_assert_cmpint(p.revents, ==, POLLOUT);
	g_assert_cmpint(us_write(a, "more", 4), ==, 4);
	sh_read_expect(b, 16, "more");
	g_free(buf);
	g_free(got);
	sh_close(a);
	sh_close(b);
	sh_fini(&fx);
}

typedef struct {
	int fd;
	const unsigned char *buf;
	size_t len;
	ssize_t result;
	int err;
} Writer;

static gpointer
writer_main(gpointer data)
{
	Writer *w = data;
	w->result = us_write(w->fd, w->buf, w->len);
	w->err = errno;
	return NULL;
}

/* A blocking write under flow control sleeps until back-enabling from the
 * reader (on another thread) lets it finish; every byte arrives. */
static void
test_write_blocking_woken_by_backenable(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_REAL);
	int a, b;
	sh_loop_pair(&fx, &a, &b, O_RDWR, O_RDWR);
	g_assert_true(us_world_start_thread(fx.world, NULL));
	const size_t total = 600000;
	unsigned char *buf = g_malloc(total);
	for (size_t i = 0; i < total; i++)
		buf[i] = sh_pattern(i);
	Writer w = { a, buf, total, 0, 0 };
	GThread *t = g_thread_new("writer", writer_main, &w);
	unsigned char *got = g_malloc(total);
	size_t have = 0;
	while (have < total) {
		ssize_t k = us_read(b, got + have, MIN(total - have, 7000));
		g_assert_cmpint(k, >, 0);
		have += (size_t)k;
	}
	g_thread_join(t);
	g_assert_cmpint(w.result, ==, (gssize)total);
	g_assert_cmpmem(got, total, buf, total);
	g_free(buf);
	g_free(got);
	sh_close(a);
	sh_close(b);
	sh_fini(&fx);
}

/* Without a packet size limit below, writes are cut at US_STRMSGSZ. */
static void
test_write_split_by_strmsgsz(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "null", O_RDWR);
	sh_push(fd, "shmod");
	const size_t total = 2 * US_STRMSGSZ + 1000;
	char *buf = g_malloc0(total);
	g_assert_cmpint(us_write(fd, buf, total), ==, (gssize)total);
	ShmState *ss = shm_of(fd);
	g_assert_cmpuint(ss->ndata, ==, 3);
	g_assert_cmpuint(ss->data_len[0], ==, US_STRMSGSZ);
	g_assert_cmpuint(ss->data_len[1], ==, US_STRMSGSZ);
	g_assert_cmpuint(ss->data_len[2], ==, 1000);
	g_free(buf);
	sh_close(fd);
	sh_fini(&fx);
}

/* A loop stream not joined yet answers data with M_ERROR ENXIO. */
static void
test_write_unjoined_loop_enxio(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "loop", O_RDWR);
	g_assert_cmpint(us_write(fd, "x", 1), ==, 1); /* sent; the error comes back */
	sh_assert_fails(us_write(fd, "x", 1), ENXIO);
	char buf[4];
	sh_assert_fails(us_read(fd, buf, sizeof buf), ENXIO);
	sh_close(fd);
	sh_fini(&fx);
}

/* A hangup ends a write blocked by flow control: it returns what it had
 * written; the next write fails with ENXIO. */
static void
test_write_hangup_ends_blocked_write(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int a, b;
	sh_loop_pair(&fx, &a, &b, O_RDWR, O_RDWR);
	Later l = { a, sh_msg(M_HANGUP, 0, "") };
	us_world_timer_add(fx.world, US_NSEC_PER_SEC, later_inject, &l);
	const size_t total = 400000;
	char *buf = g_malloc0(total);
	ssize_t n = us_write(a, buf, total);
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(n, <, (gssize)total);
	g_assert_cmpint(us_world_now(fx.world), ==, US_NSEC_PER_SEC);
	sh_assert_fails(us_write(a, buf, 1), ENXIO);
	g_free(buf);
	sh_close(a);
	sh_close(b);
	sh_fini(&fx);
}

/* Virtual time, the reader never reads: a blocking write cannot finish.
 * Like a write(2) interrupted after some data went, it returns the count
 * it wrote; a write that can send nothing fails with EDEADLK. */
static void
test_write_virtual_stuck_returns_partial(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int a, b;
	sh_loop_pair(&fx, &a, &b, O_RDWR, O_RDWR);
	const size_t total = 400000;
	char *buf = g_malloc0(total);
	ssize_t n = us_write(a, buf, total);
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(n, <, (gssize)total);
	sh_assert_fails(us_write(a, buf, total), EDEADLK);
	g_free(buf);
	sh_close(b);
	sh_close(a);
	sh_fini(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sh_register();
	g_test_add_func("/head/read/default-modes", test_read_default_modes);
	g_test_add_func("/head/read/rnorm-spans-messages", test_read_rnorm_spans_messages);
	g_test_add_func("/head/read/rmsgn-keeps-rest", test_read_rmsgn_keeps_rest);
	g_test_add_func("/head/read/rmsgd-discards-rest", test_read_rmsgd_discards_rest);
	g_test_add_func("/head/read/srdopt-keeps-prot", test_read_srdopt_keeps_prot);
	g_test_add_func("/head/read/rprotnorm-ebadmsg", test_read_rprotnorm_ebadmsg);
	g_test_add_func("/head/read/rnorm-stops-at-proto", test_read_rnorm_stops_at_proto);
	g_test_add_func("/head/read/rprotdat-control-as-data", test_read_rprotdat);
	g_test_add_func("/head/read/rprotdis-drops-control", test_read_rprotdis);
	g_test_add_func("/head/read/zero-length-message", test_read_zero_length_message);
	g_test_add_func("/head/read/rnorm-stops-at-zero-length",
			test_read_rnorm_stops_at_zero_length);
	g_test_add_func("/head/read/rmsgn-zero-length", test_read_rmsgn_zero_length);
	g_test_add_func("/head/read/nonblock-empty-eagain", test_read_nonblock_empty_eagain);
	g_test_add_func("/head/read/virtual-nothing-coming-edeadlk",
			test_read_virtual_nothing_coming_edeadlk);
	g_test_add_func("/head/read/blocks-until-timer-data", test_read_blocks_until_timer_data);
	g_test_add_func("/head/read/readv-writev", test_readv_writev);
	g_test_add_func("/head/read/zero-bytes-keeps-data", test_read_zero_bytes_keeps_data);
	g_test_add_func("/head/read/blocked-gets-error", test_read_blocked_gets_error);
	g_test_add_func("/head/read/blocking-woken-by-other-thread",
			test_read_blocking_woken_by_other_thread);
	g_test_add_func("/head/write/zero-default-sends-nothing",
			test_write_zero_default_sends_nothing);
	g_test_add_func("/head/write/split-by-maxpsz", test_write_split_by_maxpsz);
	g_test_add_func("/head/write/split-by-strqset", test_write_split_by_strqset);
	g_test_add_func("/head/write/erange-outside-packet-sizes",
			test_write_erange_outside_packet_sizes);
	g_test_add_func("/head/write/headroom-from-so-wroff", test_write_headroom_from_so_wroff);
	g_test_add_func("/head/write/no-headroom-by-default", test_write_no_headroom_by_default);
	g_test_add_func("/head/write/nonblock-flow-control-eagain",
			test_write_nonblock_flow_control_eagain);
	g_test_add_func("/head/write/blocking-woken-by-backenable",
			test_write_blocking_woken_by_backenable);
	g_test_add_func("/head/write/split-by-strmsgsz", test_write_split_by_strmsgsz);
	g_test_add_func("/head/write/unjoined-loop-enxio", test_write_unjoined_loop_enxio);
	g_test_add_func("/head/write/hangup-ends-blocked-write",
			test_write_hangup_ends_blocked_write);
	g_test_add_func("/head/write/virtual-stuck-returns-partial",
			test_write_virtual_stuck_returns_partial);
	return g_test_run();
}
