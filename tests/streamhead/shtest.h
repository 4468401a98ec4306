/* SPDX-License-Identifier: MIT */
/*
 * shtest.h -- what the stream-head conformance tests share: a fixture that
 * checks descriptors and messages are all returned, small I/O helpers, and
 * the test modules.
 *
 * Test modules (registered by sh_register(), each pushed with I_PUSH):
 *   shmod  passes everything through and records what goes down (M_DATA
 *          headroom, M_FLUSH flags, M_IOCTLs); answers the SHM_* I_STR
 *          commands below; turns every transparent ioctl into an
 *          M_COPYIN of an int, then an M_COPYOUT of that int + 1, then
 *          an M_IOCACK; when shm_open_wroff is set, sends M_SETOPTS
 *          SO_WROFF up from its open;
 *   shpsz  shmod with mi_minpsz 0, mi_maxpsz 10 (write splitting);
 *   shrng  shmod with mi_minpsz 4, mi_maxpsz 10 (ERANGE).
 *
 * Messages a test wants to see arrive at a head from below are put on the
 * driver's read queue with sh_inject_up() (on the world's thread).
 */
#ifndef US_SHTEST_H
#define US_SHTEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <ustreams/ustreams.h>

#include "../../drivers/loop/loop.h"

/* ------------------------------------------------------------------ */
/* The shmod test module                                              */
/* ------------------------------------------------------------------ */

#define SHM_NAK (('h' << 8) | 1)   /* NAK with the int at ic_dp as errno */
#define SHM_UPPER (('h' << 8) | 2) /* ACK with ic_dp upper-cased, ioc_count = its length */
#define SHM_RVAL (('h' << 8) | 3)  /* ACK with ioc_rval = the int at ic_dp, no data */
#define SHM_HOLD (('h' << 8) | 4)  /* keep the M_IOCTL unanswered (shm_release answers) */
#define SHM_ERROR (('h' << 8) | 5) /* ACK, then send M_ERROR up with the bytes at ic_dp */
#define SHM_INC (('h' << 8) | 6)   /* transparent: *(int *)arg += 1 via copyin/copyout */

enum { SHM_T_IDLE, SHM_T_COPYIN, SHM_T_COPYOUT };

/* Per-instance state of shmod (q_ptr of both queues). */
typedef struct {
	guint ioctls;        /* M_IOCTLs seen going down */
	mblk_t *held;        /* the SHM_HOLD ioctl not answered yet */
	guint ndata;         /* M_DATA messages (or data parts) seen going down */
	size_t data_len[8];  /* their lengths (first 8) */
	size_t headroom[8];  /* their b_rptr - db_base (first 8) */
	int flush_down;      /* M_FLUSH flags seen going down, OR-ed */
	guint nflush_down;   /* M_FLUSHes seen going down */
	int trans_state;     /* SHM_T_* of the transparent ioctl in progress */
	caddr_t trans_uaddr; /* its user address */
	int trans_value;     /* the int copied in */
} ShmState;

/* SO_WROFF that shmod's next opens announce with M_SETOPTS (0: none). */
static unsigned short shm_open_wroff;

static inline int
shm_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp, (void)oflag, (void)crp;
	if (sflag != MODOPEN)
		return ENXIO;
	rq->q_ptr = WR(rq)->q_ptr = g_new0(ShmState, 1);
	if (shm_open_wroff != 0) {
		struct stroptions so = { .so_flags = SO_WROFF, .so_wroff = shm_open_wroff };
		mblk_t *mp = allocb(sizeof so, BPRI_HI);
		g_assert_nonnull(mp);
		DB_TYPE(mp) = M_SETOPTS;
		memcpy(mp->b_wptr, &so, sizeof so);
		mp->b_wptr += sizeof so;
		putnext(rq, mp);
	}
	return 0;
}

static inline int
shm_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag, (void)crp;
	ShmState *ss = rq->q_ptr;
	freemsg(ss->held);
	g_free(ss);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

static inline void
shm_record_data(ShmState *ss, const mblk_t *dp)
{
	if (ss->ndata < G_N_ELEMENTS(ss->headroom)) {
		ss->data_len[ss->ndata] = MBLKL(dp);
		ss->headroom[ss->ndata] = MBLKHEAD(dp);
	}
	ss->ndata++;
}

static inline int
shm_int_arg(const mblk_t *mp)
{
	int v = 0;
	if (mp->b_cont != NULL)
		us_msgcopyout(mp->b_cont, 0, &v, sizeof v);
	return v;
}

/* Starts a transparent ioctl: ask the head for the int at the user address. */
static inline void
shm_transparent(queue_t *wq, ShmState *ss, mblk_t *mp)
{
	memcpy(&ss->trans_uaddr, mp->b_cont->b_rptr, sizeof ss->trans_uaddr);
	ss->trans_state = SHM_T_COPYIN;
	mcopyin(mp, NULL, sizeof(int), NULL);
	qreply(wq, mp);
}

static inline void
shm_ioctl(queue_t *wq, mblk_t *mp)
{
	ShmState *ss = wq->q_ptr;
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	ss->ioctls++;
	if (ioc->ioc_count == TRANSPARENT) {
		shm_transparent(wq, ss, mp);
		return;
	}
	switch (ioc->ioc_cmd) {
	case SHM_NAK: miocnak(wq, mp, 0, shm_int_arg(mp)); break;
	case SHM_UPPER:
		for (mblk_t *b = mp->b_cont; b != NULL; b = b->b_cont)
			for (unsigned char *p = b->b_rptr; p < b->b_wptr; p++)
				*p = (unsigned char)g_ascii_toupper(*p);
		miocack(wq, mp, (int)msgdsize(mp->b_cont), 0);
		break;
	case SHM_RVAL: miocack(wq, mp, 0, shm_int_arg(mp)); break;
	case SHM_HOLD:
		g_assert_null(ss->held);
		ss->held = mp;
		break;
	case SHM_ERROR: {
		mblk_t *err = mp->b_cont;
		mp->b_cont = NULL;
		miocack(wq, mp, 0, 0);
		g_assert_nonnull(err);
		DB_TYPE(err) = M_ERROR;
		qreply(wq, err);
		break;
	}
	default: putnext(wq, mp); break;
	}
}

/* The head answered a copy request: copy out value + 1, then ACK. */
static inline void
shm_iocdata(queue_t *wq, mblk_t *mp)
{
	ShmState *ss = wq->q_ptr;
	struct copyresp cp;
	memcpy(&cp, mp->b_rptr, sizeof cp);
	if (cp.cp_rval != NULL) {
		ss->trans_state = SHM_T_IDLE; /* the head gave up: nothing to answer */
		freemsg(mp);
		return;
	}
	if (ss->trans_state == SHM_T_COPYIN) {
		ss->trans_value = shm_int_arg(mp);
		int out = ss->trans_value + 1;
		mblk_t *dp = us_msg_from(&out, sizeof out, 0);
		g_assert_nonnull(dp);
		ss->trans_state = SHM_T_COPYOUT;
		mcopyout(mp, NULL, sizeof out, ss->trans_uaddr, dp);
		qreply(wq, mp);
		return;
	}
	ss->trans_state = SHM_T_IDLE;
	miocack(wq, mp, 0, 0);
}

/* Write put: record, answer ioctls, pass the rest down. */
static inline int
shm_wput(queue_t *wq, mblk_t *mp)
{
	ShmState *ss = wq->q_ptr;
	switch (DB_TYPE(mp)) {
	case M_DATA:
		shm_record_data(ss, mp);
		putnext(wq, mp);
		break;
	case M_PROTO:
	case M_PCPROTO:
		if (mp->b_cont != NULL)
			shm_record_data(ss, mp->b_cont);
		putnext(wq, mp);
		break;
	case M_FLUSH:
		ss->flush_down |= MBLKL(mp) ? mp->b_rptr[0] : 0;
		ss->nflush_down++;
		us_default_flush(wq, mp);
		break;
	case M_IOCTL: shm_ioctl(wq, mp); break;
	case M_IOCDATA: shm_iocdata(wq, mp); break;
	default: putnext(wq, mp); break;
	}
	return 0;
}

static inline int
shm_rput(queue_t *rq, mblk_t *mp)
{
	if (DB_TYPE(mp) == M_FLUSH)
		us_default_flush(rq, mp);
	else
		putnext(rq, mp);
	return 0;
}

static struct module_info shm_minfo = { .mi_idnum = 9001,
					.mi_idname = "shmod",
					.mi_minpsz = 0,
					.mi_maxpsz = INFPSZ,
					.mi_hiwat = 65536,
					.mi_lowat = 1024 };
static struct qinit shm_rinit = {
	.qi_putp = shm_rput, .qi_qopen = shm_open, .qi_qclose = shm_close, .qi_minfo = &shm_minfo
};
static struct qinit shm_winit = { .qi_putp = shm_wput, .qi_minfo = &shm_minfo };
static struct streamtab shm_info = { .st_rdinit = &shm_rinit, .st_wrinit = &shm_winit };
static const UsModuleDesc shm_desc = { .abi_version = US_ABI_VERSION,
				       .name = "shmod",
				       .summary = "stream-head test module",
				       .kind = US_KIND_MODULE,
				       .streamtab = &shm_info };

/* shpsz: packets of at most 10 bytes, no minimum. */
static struct module_info shpsz_minfo = { .mi_idnum = 9002,
					  .mi_idname = "shpsz",
					  .mi_minpsz = 0,
					  .mi_maxpsz = 10,
					  .mi_hiwat = 65536,
					  .mi_lowat = 1024 };
static struct qinit shpsz_rinit = {
	.qi_putp = shm_rput, .qi_qopen = shm_open, .qi_qclose = shm_close, .qi_minfo = &shpsz_minfo
};
static struct qinit shpsz_winit = { .qi_putp = shm_wput, .qi_minfo = &shpsz_minfo };
static struct streamtab shpsz_info = { .st_rdinit = &shpsz_rinit, .st_wrinit = &shpsz_winit };
static const UsModuleDesc shpsz_desc = { .abi_version = US_ABI_VERSION,
					 .name = "shpsz",
					 .summary = "test module with mi_maxpsz 10",
					 .kind = US_KIND_MODULE,
					 .streamtab = &shpsz_info };

/* shrng: packets of 4 to 10 bytes. */
static struct module_info shrng_minfo = { .mi_idnum = 9003,
					  .mi_idname = "shrng",
					  .mi_minpsz = 4,
					  .mi_maxpsz = 10,
					  .mi_hiwat = 65536,
					  .mi_lowat = 1024 };
static struct qinit shrng_rinit = {
	.qi_putp = shm_rput, .qi_qopen = shm_open, .qi_qclose = shm_close, .qi_minfo = &shrng_minfo
};
static struct qinit shrng_winit = { .qi_putp = shm_wput, .qi_minfo = &shrng_minfo };
static struct streamtab shrng_info = { .st_rdinit = &shrng_rinit, .st_wrinit = &shrng_winit };
static const UsModuleDesc shrng_desc = { .abi_version = US_ABI_VERSION,
					 .name = "shrng",
					 .summary = "test module with packet sizes 4..10",
					 .kind = US_KIND_MODULE,
					 .streamtab = &shrng_info };

static inline void
sh_register(void)
{
	g_assert_true(us_registry_add(&shm_desc, NULL));
	g_assert_true(us_registry_add(&shpsz_desc, NULL));
	g_assert_true(us_registry_add(&shrng_desc, NULL));
}

/* ------------------------------------------------------------------ */
/* Fixture                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
	UsWorld *world;
	UsStack *stack;
	guint fds0;   /* us_fd_count() at the start */
	gint64 live0; /* us_msg_live_count() at the start */
} ShFx;

static inline void
sh_init(ShFx *fx, UsClockKind clock)
{
	fx->fds0 = us_fd_count();
	fx->live0 = us_msg_live_count();
	fx->world = us_world_new(clock, 1);
	fx->stack = us_stack_new(fx->world, "sh");
}

/* Every descriptor must be closed already; frees the world and checks that
 * no message outlived it. */
static inline void
sh_fini(ShFx *fx)
{
	g_assert_cmpuint(us_fd_count(), ==, fx->fds0);
	us_world_free(fx->world);
	g_assert_cmpint(us_msg_live_count(), ==, fx->live0);
}

static inline int
sh_open(ShFx *fx, const char *driver, int oflag)
{
	int fd = us_open(fx->stack, driver, oflag);
	g_assert_cmpint(fd, >=, 0);
	return fd;
}

static inline void
sh_close(int fd)
{
	g_assert_cmpint(us_close(fd), ==, 0);
}

static inline void
sh_push(int fd, const char *module)
{
	g_assert_cmpint(us_ioctl(fd, I_PUSH, module), ==, 0);
}

/* Runs what is runnable now (worlds without a thread of their own). */
static inline void
sh_settle(ShFx *fx)
{
	us_world_run_pending(fx->world);
}

static inline void
sh_write_str(int fd, const char *s)
{
	g_assert_cmpint(us_write(fd, s, strlen(s)), ==, (gssize)strlen(s));
}

/* Reads once into a buffer of `len` bytes and checks it got exactly `want`. */
static inline void
sh_read_expect(int fd, size_t len, const char *want)
{
	char buf[512];
	g_assert_cmpuint(len, <=, sizeof buf);
	ssize_t n = us_read(fd, buf, len);
	g_assert_cmpint(n, ==, (gssize)strlen(want));
	g_assert_cmpmem(buf, (gsize)n, want, strlen(want));
}

/* Checks that a call failed with -1 and errno e. */
#define sh_assert_fails(call, e)                 \
	G_STMT_START                             \
	{                                        \
		errno = 0;                       \
		g_assert_cmpint((call), ==, -1); \
		g_assert_cmpint(errno, ==, (e)); \
	}                                        \
	G_STMT_END

/* I_STR with a buffer; returns us_ioctl's result and leaves ic_len in *lenp. */
static inline int
sh_istr(int fd, int cmd, void *buf, int len, int timeout, int *lenp)
{
	struct strioctl sio = { .ic_cmd = cmd, .ic_timout = timeout, .ic_len = len, .ic_dp = buf };
	int r = us_ioctl(fd, I_STR, &sio);
	if (lenp != NULL)
		*lenp = sio.ic_len;
	return r;
}

static inline int
sh_istr_int(int fd, int cmd, int value)
{
	return sh_istr(fd, cmd, &value, sizeof value, 0, NULL);
}

/* Messages (and bytes of the first) waiting at the head, via I_NREAD. */
static inline int
sh_nread(int fd, int *first_bytes)
{
	int bytes = -1;
	int n = us_ioctl(fd, I_NREAD, &bytes);
	g_assert_cmpint(n, >=, 0);
	if (first_bytes != NULL)
		*first_bytes = bytes;
	return n;
}

/* A message of type `type`, band `band`, holding the bytes of s. */
static inline mblk_t *
sh_msg(unsigned char type, unsigned char band, const char *s)
{
	mblk_t *mp = us_msg_from(s, strlen(s), 0);
	g_assert_nonnull(mp);
	DB_TYPE(mp) = type;
	mp->b_band = band;
	return mp;
}

typedef struct {
	UsStream *st;
	mblk_t *mp;
} ShInject;

static inline void
sh_inject_on_world(gpointer data)
{
	ShInject *a = data;
	putnext(us_stream_driver_rq(a->st), a->mp);
}

/* Sends mp (consumed) up the stream of fd from its driver. */
static inline void
sh_inject_up(int fd, mblk_t *mp)
{
	ShInject a = { us_fd_stream(fd), mp };
	g_assert_nonnull(a.st);
	us_world_call(us_stack_world(us_fd_stack(fd)), sh_inject_on_world, &a);
}

/* An M_ERROR of one byte (w < 0) or two bytes. */
static inline mblk_t *
sh_error_msg(int r, int w)
{
	mblk_t *mp = allocb(2, BPRI_HI);
	g_assert_nonnull(mp);
	DB_TYPE(mp) = M_ERROR;
	*mp->b_wptr++ = (unsigned char)r;
	if (w >= 0)
		*mp->b_wptr++ = (unsigned char)w;
	return mp;
}

/* shmod's state when it is the top module of fd's stream. */
static inline ShmState *
shm_of(int fd)
{
	queue_t *wq = us_stream_head_wq(us_fd_stream(fd))->q_next;
	g_assert_nonnull(wq);
	return wq->q_ptr;
}

typedef struct {
	int fd;
	int rval;
	gboolean answered;
} ShmRelease;

static inline void
shm_release_on_world(gpointer data)
{
	ShmRelease *a = data;
	queue_t *wq = us_stream_head_wq(us_fd_stream(a->fd))->q_next;
	ShmState *ss = wq->q_ptr;
	a->answered = ss->held != NULL;
	if (ss->held != NULL)
		miocack(wq, g_steal_pointer(&ss->held), 0, a->rval);
}

/* ACKs the ioctl shmod holds (on the world's thread); FALSE if none. */
static inline gboolean
shm_release(int fd, int rval)
{
	ShmRelease a = { fd, rval, FALSE };
	us_world_call(us_stack_world(us_fd_stack(fd)), shm_release_on_world, &a);
	return a.answered;
}

typedef struct {
	int fd;
	ShmState copy;
} ShmSnap;

static inline void
shm_snap_on_world(gpointer data)
{
	ShmSnap *a = data;
	a->copy = *shm_of(a->fd);
}

/* A copy of shmod's state taken on the world's thread. */
static inline ShmState
shm_snapshot(int fd)
{
	ShmSnap a = { .fd = fd };
	us_world_call(us_stack_world(us_fd_stack(fd)), shm_snap_on_world, &a);
	return a.copy;
}

/* Opens two loop streams and joins them with LOOP_SET. */
static inline void
sh_loop_pair(ShFx *fx, int *a, int *b, int oflag_a, int oflag_b)
{
	*a = sh_open(fx, "loop", oflag_a);
	*b = sh_open(fx, "loop", oflag_b);
	int minor = (int)getminor(us_stream_dev(us_fd_stream(*b)));
	int len = -1;
	g_assert_cmpint(sh_istr(*a, LOOP_SET, &minor, sizeof minor, 0, &len), ==, 0);
	g_assert_cmpint(len, ==, 0);
}

/* Byte i of the test pattern. */
static inline unsigned char
sh_pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

/* A thread that writes `text` to `fd` after 20 ms (for wake-up tests). */
typedef struct {
	int fd;
	const char *text;
} DelayedWrite;

static inline gpointer
delayed_write_main(gpointer data)
{
	DelayedWrite *d = data;
	g_usleep(20000);
	g_assert_cmpint(us_write(d->fd, d->text, strlen(d->text)), ==, (gssize)strlen(d->text));
	return NULL;
}

#endif
