/* SPDX-License-Identifier: MIT */
/*
 * test-head-msg.c -- getmsg(2), putmsg(2), getpmsg(2), putpmsg(2): control
 * and data parts, absent parts (len -1), MORECTL/MOREDATA, high priority
 * and bands, flag checking, ERANGE, one M_PCPROTO at a time at the head.
 */
#include "shtest.h"

typedef struct {
	char cbuf[64], dbuf[64];
	struct strbuf ctl, dat;
	int flags, band;
} Got;

static void
got_init(Got *g, int cmax, int dmax)
{
	memset(g, 0, sizeof *g);
	g->ctl = (struct strbuf){ .maxlen = cmax, .len = -7, .buf = g->cbuf };
	g->dat = (struct strbuf){ .maxlen = dmax, .len = -7, .buf = g->dbuf };
}

static void
put_parts(int fd, const char *ctl, const char *dat, int flags)
{
	struct strbuf c = { .len = ctl ? (int)strlen(ctl) : -1, .buf = (char *)ctl };
	struct strbuf d = { .len = dat ? (int)strlen(dat) : -1, .buf = (char *)dat };
	g_assert_cmpint(us_putmsg(fd, &c, &d, flags), ==, 0);
}

static void
assert_part(const struct strbuf *sb, const char *want)
{
	if (want == NULL) {
		g_assert_cmpint(sb->len, ==, -1);
		return;
	}
	g_assert_cmpint(sb->len, ==, (int)strlen(want));
	g_assert_cmpmem(sb->buf, (gsize)sb->len, want, strlen(want));
}

/* Control and data parts come back separately. */
static void
test_getmsg_control_and_data(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	put_parts(fd, "CTRL", "payload", 0);
	Got g;
	got_init(&g, 64, 64);
	g.flags = 0;
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.ctl, "CTRL");
	assert_part(&g.dat, "payload");
	g_assert_cmpint(g.flags, ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* A part that is absent is reported with len -1. */
static void
test_getmsg_absent_parts(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	put_parts(fd, NULL, "only-data", 0);
	put_parts(fd, "only-ctl", NULL, 0);
	Got g;
	got_init(&g, 64, 64);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.ctl, NULL);
	assert_part(&g.dat, "only-data");
	got_init(&g, 64, 64);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.ctl, "only-ctl");
	assert_part(&g.dat, NULL);
	sh_close(fd);
	sh_fini(&fx);
}

/* putmsg with both parts absent sends nothing and succeeds. */
static void
test_putmsg_nothing(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	struct strbuf c = { .len = -1 }, d = { .len = -1 };
	g_assert_cmpint(us_putmsg(fd, &c, &d, 0), ==, 0);
	g_assert_cmpint(us_putmsg(fd, NULL, NULL, 0), ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* A part that does not fit: MORECTL/MOREDATA, and the rest stays. */
static void
test_getmsg_morectl_moredata(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	put_parts(fd, "CONTROL", "DATAPART", 0);
	Got g;
	got_init(&g, 3, 64);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, MORECTL);
	assert_part(&g.ctl, "CON");
	assert_part(&g.dat, "DATAPART");
	got_init(&g, 64, 64);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.ctl, "TROL");
	assert_part(&g.dat, NULL);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);

	put_parts(fd, "CONTROL", "DATAPART", 0);
	got_init(&g, 2, 5);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, MORECTL | MOREDATA);
	assert_part(&g.ctl, "CO");
	assert_part(&g.dat, "DATAP");
	got_init(&g, 64, 2);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, MOREDATA);
	assert_part(&g.ctl, "NTROL");
	assert_part(&g.dat, "AR");
	got_init(&g, 64, 64);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.ctl, NULL);
	assert_part(&g.dat, "T");
	sh_close(fd);
	sh_fini(&fx);
}

/* maxlen -1 or a NULL strbuf leaves that part on the queue. */
static void
test_getmsg_unprocessed_part_stays(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	put_parts(fd, "CTL", "DATA", 0);
	Got g;
	got_init(&g, -1, 64);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, MORECTL);
	assert_part(&g.ctl, NULL);
	assert_part(&g.dat, "DATA");
	got_init(&g, 64, 64);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, NULL, &g.flags), ==, 0);
	assert_part(&g.ctl, "CTL");

	put_parts(fd, "CTL", "DATA", 0);
	got_init(&g, 64, -1);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, MOREDATA);
	assert_part(&g.ctl, "CTL");
	got_init(&g, 64, 64);
	g_assert_cmpint(us_getmsg(fd, NULL, &g.dat, &g.flags), ==, 0);
	assert_part(&g.dat, "DATA");
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* A control-only message read with no control buffer is not lost. */
static void
test_getmsg_control_only_without_ctlbuf(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	put_parts(fd, "CTL", NULL, 0);
	Got g;
	got_init(&g, 64, 64);
	g_assert_cmpint(us_getmsg(fd, NULL, &g.dat, &g.flags), ==, MORECTL);
	assert_part(&g.dat, NULL);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 1);
	got_init(&g, 64, 64);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.ctl, "CTL");
	sh_close(fd);
	sh_fini(&fx);
}

/* maxlen 0 takes a zero-length part, leaves a non-empty one (len 0). */
static void
test_getmsg_maxlen_zero(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	put_parts(fd, "C", "", 0);
	Got g;
	got_init(&g, 64, 0);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.ctl, "C");
	g_assert_cmpint(g.dat.len, ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	put_parts(fd, NULL, "abc", 0);
	got_init(&g, 64, 0);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, MOREDATA);
	g_assert_cmpint(g.dat.len, ==, 0);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 1);
	sh_close(fd);
	sh_fini(&fx);
}

/* RS_HIPRI: putmsg sends M_PCPROTO (needs a control part); it goes ahead
 * of ordinary messages; getmsg RS_HIPRI takes only high priority. */
static void
test_msg_hipri(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR | O_NONBLOCK);
	struct strbuf d = { .len = 3, .buf = "dat" };
	sh_assert_fails(us_putmsg(fd, NULL, &d, RS_HIPRI), EINVAL);
	struct strbuf c0 = { .len = -1 };
	sh_assert_fails(us_putmsg(fd, &c0, &d, RS_HIPRI), EINVAL);
	put_parts(fd, NULL, "normal", 0);
	Got g;
	got_init(&g, 64, 64);
	g.flags = RS_HIPRI;
	sh_assert_fails(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), EAGAIN);
	put_parts(fd, "HI", "x", RS_HIPRI);
	struct pollfd p = { .fd = fd, .events = POLLPRI | POLLIN };
	g_assert_cmpint(us_poll(&p, 1, 0), ==, 1);
	g_assert_cmpint(p.revents, ==, POLLPRI);
	got_init(&g, 64, 64);
	g.flags = RS_HIPRI;
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.ctl, "HI");
	assert_part(&g.dat, "x");
	g_assert_cmpint(g.flags, ==, RS_HIPRI);
	got_init(&g, 64, 64);
	g.flags = 0;
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.dat, "normal");
	g_assert_cmpint(g.flags, ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* Only one M_PCPROTO waits at the head: a second one is discarded. */
static void
test_msg_one_pcproto_at_a_time(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR | O_NONBLOCK);
	put_parts(fd, "first", NULL, RS_HIPRI);
	put_parts(fd, "second", NULL, RS_HIPRI);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 1);
	g_assert_cmpuint(us_stack_drop_count(fx.stack, "strhead", 0), ==, 1);
	Got g;
	got_init(&g, 64, 64);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.ctl, "first");
	g_assert_cmpint(g.flags, ==, RS_HIPRI);
	got_init(&g, 64, 64);
	sh_assert_fails(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), EAGAIN);
	/* Once it is taken, the next one is accepted. */
	put_parts(fd, "third", NULL, RS_HIPRI);
	got_init(&g, 64, 64);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.ctl, "third");
	sh_close(fd);
	sh_fini(&fx);
}

static void
test_msg_bad_flags(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR | O_NONBLOCK);
	put_parts(fd, NULL, "x", 0);
	Got g;
	got_init(&g, 64, 64);
	struct strbuf c = { .len = 1, .buf = "c" };
	sh_assert_fails(us_putmsg(fd, &c, NULL, 2), EINVAL);
	sh_assert_fails(us_putmsg(fd, &c, NULL, MSG_BAND), EINVAL);
	sh_assert_fails(us_putpmsg(fd, &c, NULL, 0, 0), EINVAL);
	sh_assert_fails(us_putpmsg(fd, &c, NULL, 0, MSG_ANY), EINVAL);
	sh_assert_fails(us_putpmsg(fd, &c, NULL, 1, MSG_HIPRI), EINVAL);
	sh_assert_fails(us_putpmsg(fd, &c, NULL, 256, MSG_BAND), EINVAL);
	sh_assert_fails(us_putpmsg(fd, &c, NULL, -1, MSG_BAND), EINVAL);
	g.flags = 4;
	sh_assert_fails(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), EINVAL);
	g.flags = 0;
	g.band = 0;
	sh_assert_fails(us_getpmsg(fd, &g.ctl, &g.dat, &g.band, &g.flags), EINVAL);
	g.flags = MSG_HIPRI | MSG_BAND;
	sh_assert_fails(us_getpmsg(fd, &g.ctl, &g.dat, &g.band, &g.flags), EINVAL);
	g.flags = MSG_BAND;
	g.band = 256;
	sh_assert_fails(us_getpmsg(fd, &g.ctl, &g.dat, &g.band, &g.flags), EINVAL);
	/* Nothing was sent or taken by the failures. */
	g_assert_cmpint(sh_nread(fd, NULL), ==, 1);
	sh_close(fd);
	sh_fini(&fx);
}

/* ERANGE: a control part larger than US_STRCTLSZ; a data part outside the
 * top module's packet sizes (putmsg does not split). */
static void
test_putmsg_erange(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	char *big = g_malloc0(US_STRCTLSZ + 1);
	struct strbuf c = { .len = US_STRCTLSZ + 1, .buf = big };
	sh_assert_fails(us_putmsg(fd, &c, NULL, 0), ERANGE);
	c.len = US_STRCTLSZ;
	g_assert_cmpint(us_putmsg(fd, &c, NULL, 0), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_FLUSH, FLUSHR), ==, 0);
	sh_push(fd, "shpsz");
	struct strbuf d = { .len = 11, .buf = "0123456789a" };
	sh_assert_fails(us_putmsg(fd, NULL, &d, 0), ERANGE);
	d.len = 10;
	g_assert_cmpint(us_putmsg(fd, NULL, &d, 0), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_POP, 0), ==, 0);
	sh_push(fd, "shrng");
	d.len = 3;
	sh_assert_fails(us_putmsg(fd, NULL, &d, 0), ERANGE);
	d.len = 4;
	g_assert_cmpint(us_putmsg(fd, NULL, &d, 0), ==, 0);
	g_assert_cmpint(us_ioctl(fd, I_POP, 0), ==, 0);
	char *huge = g_malloc0(US_STRMSGSZ + 1);
	d = (struct strbuf){ .len = US_STRMSGSZ + 1, .buf = huge };
	sh_assert_fails(us_putmsg(fd, NULL, &d, 0), ERANGE);
	g_free(huge);
	g_free(big);
	sh_close(fd);
	sh_fini(&fx);
}

/* putpmsg MSG_BAND: banded messages go ahead of band 0; getpmsg reports the
 * band; MSG_BAND takes only the given band or higher. */
static void
test_pmsg_bands(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR | O_NONBLOCK);
	struct strbuf d0 = { .len = 2, .buf = "b0" };
	struct strbuf d1 = { .len = 2, .buf = "b1" };
	struct strbuf d3 = { .len = 2, .buf = "b3" };
	g_assert_cmpint(us_putpmsg(fd, NULL, &d0, 0, MSG_BAND), ==, 0);
	g_assert_cmpint(us_putpmsg(fd, NULL, &d1, 1, MSG_BAND), ==, 0);
	g_assert_cmpint(us_putpmsg(fd, NULL, &d3, 3, MSG_BAND), ==, 0);
	Got g;
	/* Nothing in band 4 or above. */
	got_init(&g, 64, 64);
	g.flags = MSG_BAND;
	g.band = 4;
	sh_assert_fails(us_getpmsg(fd, &g.ctl, &g.dat, &g.band, &g.flags), EAGAIN);
	got_init(&g, 64, 64);
	g.flags = MSG_BAND;
	g.band = 2;
	g_assert_cmpint(us_getpmsg(fd, &g.ctl, &g.dat, &g.band, &g.flags), ==, 0);
	assert_part(&g.dat, "b3");
	g_assert_cmpint(g.band, ==, 3);
	g_assert_cmpint(g.flags, ==, MSG_BAND);
	/* Band 1 is now first: not taken by MSG_BAND 2, taken by MSG_ANY. */
	got_init(&g, 64, 64);
	g.flags = MSG_BAND;
	g.band = 2;
	sh_assert_fails(us_getpmsg(fd, &g.ctl, &g.dat, &g.band, &g.flags), EAGAIN);
	got_init(&g, 64, 64);
	g.flags = MSG_ANY;
	g.band = 0;
	g_assert_cmpint(us_getpmsg(fd, &g.ctl, &g.dat, &g.band, &g.flags), ==, 0);
	assert_part(&g.dat, "b1");
	g_assert_cmpint(g.band, ==, 1);
	g_assert_cmpint(g.flags, ==, MSG_BAND);
	got_init(&g, 64, 64);
	g.flags = MSG_ANY;
	g_assert_cmpint(us_getpmsg(fd, &g.ctl, &g.dat, &g.band, &g.flags), ==, 0);
	assert_part(&g.dat, "b0");
	g_assert_cmpint(g.band, ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* getpmsg MSG_HIPRI takes only a high-priority message, reported so. */
static void
test_pmsg_hipri(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR | O_NONBLOCK);
	struct strbuf c = { .len = 2, .buf = "pc" };
	struct strbuf d = { .len = 1, .buf = "n" };
	sh_assert_fails(us_putpmsg(fd, NULL, &d, 0, MSG_HIPRI), EINVAL);
	g_assert_cmpint(us_putpmsg(fd, NULL, &d, 2, MSG_BAND), ==, 0);
	Got g;
	got_init(&g, 64, 64);
	g.flags = MSG_HIPRI;
	sh_assert_fails(us_getpmsg(fd, &g.ctl, &g.dat, &g.band, &g.flags), EAGAIN);
	g_assert_cmpint(us_putpmsg(fd, &c, NULL, 0, MSG_HIPRI), ==, 0);
	got_init(&g, 64, 64);
	g.flags = MSG_HIPRI;
	g.band = 0;
	g_assert_cmpint(us_getpmsg(fd, &g.ctl, &g.dat, &g.band, &g.flags), ==, 0);
	assert_part(&g.ctl, "pc");
	assert_part(&g.dat, NULL);
	g_assert_cmpint(g.flags, ==, MSG_HIPRI);
	g_assert_cmpint(g.band, ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

/* getmsg RPROTNORM does not apply: it reads M_PROTO and M_DATA alike; the
 * read options do not change it. */
static void
test_getmsg_ignores_read_options(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	g_assert_cmpint(us_ioctl(fd, I_SRDOPT, RMSGD | RPROTDIS), ==, 0);
	put_parts(fd, "C", "D", 0);
	Got g;
	got_init(&g, 64, 64);
	g_assert_cmpint(us_getmsg(fd, &g.ctl, &g.dat, &g.flags), ==, 0);
	assert_part(&g.ctl, "C");
	assert_part(&g.dat, "D");
	sh_close(fd);
	sh_fini(&fx);
}

/* putmsg from a bad buffer: EFAULT. */
static void
test_putmsg_efault(void)
{
	ShFx fx;
	sh_init(&fx, US_CLOCK_VIRTUAL);
	int fd = sh_open(&fx, "echo", O_RDWR);
	struct strbuf c = { .len = 4, .buf = NULL };
	sh_assert_fails(us_putmsg(fd, &c, NULL, 0), EFAULT);
	sh_assert_fails(us_putmsg(fd, NULL, &c, 0), EFAULT);
	g_assert_cmpint(sh_nread(fd, NULL), ==, 0);
	sh_close(fd);
	sh_fini(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sh_register();
	g_test_add_func("/head/getmsg/control-and-data", test_getmsg_control_and_data);
	g_test_add_func("/head/getmsg/absent-parts", test_getmsg_absent_parts);
	g_test_add_func("/head/getmsg/morectl-moredata", test_getmsg_morectl_moredata);
	g_test_add_func("/head/getmsg/unprocessed-part-stays", test_getmsg_unprocessed_part_stays);
	g_test_add_func("/head/getmsg/control-only-without-ctlbuf",
			test_getmsg_control_only_without_ctlbuf);
	g_test_add_func("/head/getmsg/maxlen-zero", test_getmsg_maxlen_zero);
	g_test_add_func("/head/getmsg/ignores-read-options", test_getmsg_ignores_read_options);
	g_test_add_func("/head/putmsg/nothing", test_putmsg_nothing);
	g_test_add_func("/head/putmsg/erange", test_putmsg_erange);
	g_test_add_func("/head/putmsg/efault", test_putmsg_efault);
	g_test_add_func("/head/msg/hipri", test_msg_hipri);
	g_test_add_func("/head/msg/one-pcproto-at-a-time", test_msg_one_pcproto_at_a_time);
	g_test_add_func("/head/msg/bad-flags-einval", test_msg_bad_flags);
	g_test_add_func("/head/pmsg/bands", test_pmsg_bands);
	g_test_add_func("/head/pmsg/hipri", test_pmsg_hipri);
	return g_test_run();
}
