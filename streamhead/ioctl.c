/* SPDX-License-Identifier: MIT */
/*
 * ioctl.c -- us_ioctl(): the I_* commands of streamio(7I), I_STR and
 * transparent ioctls.
 *
 * Theory
 * ------
 * Commands the head answers itself (I_LOOK, I_NREAD, I_SRDOPT ...) run as
 * one op on the world thread.  Commands that go down the stream as M_IOCTL
 * (I_STR, I_LINK family, any unknown command as a transparent ioctl) follow
 * the SVR4 protocol:
 *   - one ioctl at a time per stream: a second caller waits its turn;
 *   - the M_IOCTL gets a fresh ioc_id; a reply is taken only if its id
 *     matches the ioctl in progress (late replies, after a timeout, are
 *     freed and counted);
 *   - I_STR waits ic_timout seconds (0: US_STR_TIMEOUT_DEFAULT, -1: forever)
 *     on the world's clock and fails with ETIME;
 *   - transparent ioctls carry the argument pointer in b_cont with
 *     ioc_count == TRANSPARENT; M_COPYIN/M_COPYOUT replies are served from
 *     and to that "user address" (a pointer in this process) and answered
 *     with M_IOCDATA until the final M_IOCACK/M_IOCNAK.
 * M_IOCNAK fails the call with ioc_error (EINVAL when 0).  A hangup fails a
 * waiting ioctl with ENXIO and an M_ERROR with its error.
 */
#define G_LOG_DOMAIN "us-head"

#include "head-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

enum { HEAD_DROP_LATE_REPLY = 2 }; /* index in head.c's drop reasons */
#define US_NSTRPUSH 9              /* most modules a stream may have */

/* ------------------------------------------------------------------ */
/* The ioctl in progress                                              */
/* ------------------------------------------------------------------ */

void
us__head_ioc_reply(UsHead *h, mblk_t *mp)
{
	const struct iocblk *ioc = (const struct iocblk *)mp->b_rptr;
	if (!h->sh_ioc_busy || h->sh_ioc_reply != NULL || MBLKL(mp) < sizeof(struct iocblk) ||
	    ioc->ioc_id != h->sh_ioc_id) {
		us_drop(us__head_rq(h), mp, HEAD_DROP_LATE_REPLY);
		return;
	}
	h->sh_ioc_reply = mp;
}

static void
ioc_timeout(gpointer data)
{
	UsHead *h = data;
	h->sh_ioc_timer = 0;
	h->sh_ioc_timedout = TRUE;
	us__head_changed(h);
}

static void
ioc_finish(UsHead *h)
{
	if (h->sh_ioc_timer)
		us_world_timer_cancel(h->sh_world, h->sh_ioc_timer);
	h->sh_ioc_timer = 0;
	h->sh_ioc_busy = FALSE;
	h->sh_ioc_timedout = FALSE;
	h->sh_ioc_id = 0;
	freemsg(h->sh_ioc_reply);
	h->sh_ioc_reply = NULL;
	us__head_changed(h); /* the next ioctl may go */
}

typedef struct {
	mblk_t *mp;       /* the M_IOCTL, until sent */
	int timeout_s;    /* -1 forever */
	gboolean started; /* sent and waiting */
	mblk_t **replyp;  /* where to leave an M_IOCACK, or NULL */
} IocArgs;

/* Serves an M_COPYIN/M_COPYOUT request; returns 0 or -errno (then the
 * ioctl is over). */
static int
ioc_copy(UsHead *h, mblk_t *mp)
{
	struct copyreq cq;
	memcpy(&cq, mp->b_rptr, sizeof cq);
	mblk_t *data = NULL;
	int err = 0;
	if (cq.cq_addr == NULL && cq.cq_size > 0) {
		err = EFAULT;
	} else if (DB_TYPE(mp) == M_COPYIN) {
		data = us_msg_from(cq.cq_addr, cq.cq_size, 0);
		err = data ? 0 : ENOSR;
	} else {
		us_msgcopyout(mp->b_cont, 0, cq.cq_addr, MIN(cq.cq_size, msgdsize(mp->b_cont)));
	}
	freemsg(mp->b_cont);
	mp->b_cont = data;
	struct copyresp cp = { .cp_cmd = cq.cq_cmd,
			       .cp_id = cq.cq_id,
			       .cp_flag = cq.cq_flag,
			       .cp_private = cq.cq_private,
			       .cp_rval = (caddr_t)(intptr_t)err };
	memcpy(mp->b_rptr, &cp, sizeof cp);
	mp->b_wptr = mp->b_rptr + sizeof cp;
	DB_TYPE(mp) = M_IOCDATA;
	putnext(us__head_wq(h), mp);
	return -err;
}

static int
ioc_result(UsHead *h, IocArgs *a)
{
	mblk_t *mp = h->sh_ioc_reply;
	h->sh_ioc_reply = NULL;
	if (DB_TYPE(mp) == M_COPYIN || DB_TYPE(mp) == M_COPYOUT) {
		int r = ioc_copy(h, mp);
		if (r != 0) {
			ioc_finish(h);
			return r;
		}
		return HEAD_BLOCK; /* wait for the next step */
	}
	struct iocblk ioc;
	memcpy(&ioc, mp->b_rptr, sizeof ioc);
	int r = DB_TYPE(mp) == M_IOCACK ? ioc.ioc_rval : -(ioc.ioc_error ? ioc.ioc_error : EINVAL);
	if (DB_TYPE(mp) == M_IOCACK && a->replyp != NULL)
		*a->replyp = mp;
	else
		freemsg(mp);
	ioc_finish(h);
	return r;
}

static int
op_ioctl_msg(UsHead *h, gpointer data)
{
	IocArgs *a = data;
	if (!a->started) {
		if (h->sh_hangup)
			return -ENXIO;
		/* An M_ERROR fails every later ioctl (SVR4 strdoioctl). */
		if (h->sh_rerror || h->sh_werror)
			return -(h->sh_rerror ? h->sh_rerror : h->sh_werror);
		if (h->sh_ioc_busy)
			return HEAD_BLOCK; /* one at a time */
		h->sh_ioc_busy = TRUE;
		h->sh_ioc_id = ((struct iocblk *)a->mp->b_rptr)->ioc_id;
		if (a->timeout_s >= 0)
			h->sh_ioc_timer = us_world_timer_add(h->sh_world,
							     (gint64)a->timeout_s * US_NSEC_PER_SEC,
							     ioc_timeout, h);
		a->started = TRUE;
		putnext(us__head_wq(h), g_steal_pointer(&a->mp));
	}
	if (h->sh_ioc_reply != NULL)
		return ioc_result(h, a);
	int err = h->sh_ioc_timedout ? ETIME : h->sh_hangup ? ENXIO : h->sh_werror;
	if (err) {
		ioc_finish(h);
		return -err;
	}
	return HEAD_BLOCK;
}

/* Abandons an ioctl whose caller could not wait (EDEADLK). */
static int
op_ioctl_abandon(UsHead *h, gpointer data)
{
	IocArgs *a = data;
	if (a->started && h->sh_ioc_busy)
		ioc_finish(h);
	freemsg(a->mp);
	a->mp = NULL;
	return 0;
}

int
us__head_strioctl(UsHead *h, mblk_t *mp, int timeout_s, mblk_t **replyp)
{
	IocArgs a = { .mp = mp, .timeout_s = timeout_s, .replyp = replyp };
	int r = us__head_run(h, op_ioctl_msg, &a);
	if (r == -EDEADLK)
		us__head_run(h, op_ioctl_abandon, &a);
	freemsg(a.mp); /* refused before it was sent (hangup, error) */
	return r;
}

/* ------------------------------------------------------------------ */
/* I_STR and transparent ioctls                                       */
/* ------------------------------------------------------------------ */

static int
do_istr(UsHead *h, struct strioctl *sio)
{
	if (sio == NULL)
		return -EFAULT;
	if (sio->ic_len < 0 || sio->ic_len > US_STRMSGSZ || sio->ic_timout < -1 ||
	    (sio->ic_len > 0 && sio->ic_dp == NULL))
		return -EINVAL;
	mblk_t *mp = mkiocb((unsigned int)sio->ic_cmd);
	if (mp == NULL)
		return -ENOSR;
	((struct iocblk *)mp->b_rptr)->ioc_count = (size_t)sio->ic_len;
	if (sio->ic_len > 0 &&
	    (mp->b_cont = us_msg_from(sio->ic_dp, (size_t)sio->ic_len, 0)) == NULL) {
		freemsg(mp);
		return -ENOSR;
	}
	int timeout = sio->ic_timout == 0 ? US_STR_TIMEOUT_DEFAULT : sio->ic_timout;
	mblk_t *reply = NULL;
	int r = us__head_strioctl(h, mp, timeout, &reply);
	if (reply != NULL) {
		struct iocblk ioc;
		memcpy(&ioc, reply->b_rptr, sizeof ioc);
		size_t n = MIN((size_t)MAX(sio->ic_len, 0), msgdsize(reply->b_cont));
		if (ioc.ioc_count > 0 && sio->ic_dp != NULL) {
			n = MIN(ioc.ioc_count, msgdsize(reply->b_cont));
			us_msgcopyout(reply->b_cont, 0, sio->ic_dp, n);
		}
		sio->ic_len = (int)(ioc.ioc_count ? n : 0);
		freemsg(reply);
	}
	return r;
}

static int
do_transparent(UsHead *h, int cmd, intptr_t arg)
{
	mblk_t *mp = mkiocb((unsigned int)cmd);
	if (mp == NULL)
		return -ENOSR;
	((struct iocblk *)mp->b_rptr)->ioc_count = TRANSPARENT;
	mp->b_cont = us_msg_from(&arg, sizeof arg, 0);
	if (mp->b_cont == NULL) {
		freemsg(mp);
		return -ENOSR;
	}
	return us__head_strioctl(h, mp, -1, NULL);
}

/* ------------------------------------------------------------------ */
/* Commands the head answers itself                                   */
/* ------------------------------------------------------------------ */

typedef struct {
	int cmd;
	intptr_t arg;
} CmdArgs;

static gboolean
name_ok(const char *name)
{
	return name != NULL && strnlen(name, FMNAMESZ + 1) <= FMNAMESZ && name[0] != '\0';
}

static int
cmd_push(UsHead *h, const char *name)
{
	if (!name_ok(name))
		return -EINVAL;
	if (us_stream_depth(h->sh_st) >= US_NSTRPUSH)
		return -EINVAL;
	const UsModuleDesc *d = us_registry_lookup(name, NULL);
	if (d == NULL || d->kind != US_KIND_MODULE || d == &us_strhead_desc)
		return -EINVAL;
	int err = us__stream_push_desc(h->sh_st, d, NULL);
	return -err;
}

static int
cmd_look(UsHead *h, char *buf)
{
	if (buf == NULL)
		return -EFAULT;
	if (us_stream_depth(h->sh_st) == 0)
		return -EINVAL;
	g_strlcpy(buf, us_stream_module_name(h->sh_st, 0), FMNAMESZ + 1);
	return 0;
}

static int
cmd_find(UsHead *h, const char *name)
{
	if (!name_ok(name) || us_registry_lookup(name, NULL) == NULL)
		return -EINVAL;
	for (guint i = 0; i < us_stream_depth(h->sh_st); i++)
		if (strcmp(us_stream_module_name(h->sh_st, i), name) == 0)
			return 1;
	return 0;
}

static int
cmd_list(UsHead *h, struct str_list *sl)
{
	guint n = us_stream_depth(h->sh_st) + 1; /* modules and the driver */
	if (sl == NULL)
		return (int)n;
	if (sl->sl_nmods < 1 || sl->sl_modlist == NULL)
		return -EINVAL;
	guint k = MIN(n, (guint)sl->sl_nmods);
	for (guint i = 0; i < k; i++)
		g_strlcpy(sl->sl_modlist[i].l_name, us_stream_module_name(h->sh_st, i),
			  FMNAMESZ + 1);
	sl->sl_nmods = (int)k;
	return 0;
}

/* I_FLUSH / I_FLUSHBAND: the head flushes its read queue, then sends M_FLUSH. */
static int
cmd_flush(UsHead *h, int how, int band, gboolean banded)
{
	if ((how & ~FLUSHRW) || how == 0 || band < 0 || band > 255)
		return -EINVAL;
	if (h->sh_hangup)
		return -ENXIO;
	mblk_t *mp = allocb(2, BPRI_HI);
	if (mp == NULL)
		return -ENOSR;
	DB_TYPE(mp) = M_FLUSH;
	*mp->b_wptr++ = (unsigned char)(how | (banded ? FLUSHBAND : 0));
	if (banded)
		*mp->b_wptr++ = (unsigned char)band;
	if (how & FLUSHR) {
		if (banded)
			flushband(us__head_rq(h), (unsigned char)band, FLUSHALL);
		else
			flushq(us__head_rq(h), FLUSHALL);
	}
	putnext(us__head_wq(h), mp);
	us__head_changed(h);
	return 0;
}

static int
cmd_nread(UsHead *h, int *out)
{
	if (out == NULL)
		return -EFAULT;
	queue_t *rq = us__head_rq(h);
	*out = rq->q_first ? (int)msgdsize(rq->q_first) : 0;
	return qsize(rq);
}

static int
cmd_peek(UsHead *h, struct strpeek *sp)
{
	if (sp == NULL)
		return -EFAULT;
	if (sp->flags != 0 && sp->flags != RS_HIPRI)
		return -EINVAL;
	mblk_t *mp = us__head_rq(h)->q_first;
	if (mp == NULL || (sp->flags == RS_HIPRI && DB_TYPE(mp) < QPCTL))
		return 0;
	mblk_t *copy = dupmsg(mp);
	if (copy == NULL)
		return -ENOSR;
	struct strbuf *parts[2] = { &sp->ctlbuf, &sp->databuf };
	for (int i = 0; i < 2; i++) {
		struct strbuf *sb = parts[i];
		gboolean control = i == 0;
		size_t have = 0, present = 0;
		for (mblk_t *b = copy; b; b = b->b_cont) {
			if ((DB_TYPE(b) != M_DATA) != control)
				continue;
			present = 1;
			size_t k = MIN(MBLKL(b), (size_t)MAX(sb->maxlen, 0) - have);
			if (k > 0 && sb->buf)
				memcpy(sb->buf + have, b->b_rptr, k);
			have += k;
		}
		sb->len = present ? (int)have : -1;
	}
	sp->flags = DB_TYPE(mp) >= QPCTL ? RS_HIPRI : 0;
	freemsg(copy);
	return 1;
}

static int
cmd_setsig(UsHead *h, int mask)
{
	const int all = S_INPUT | S_HIPRI | S_OUTPUT | S_MSG | S_ERROR | S_HANGUP | S_RDNORM |
			S_RDBAND | S_WRBAND | S_BANDURG;
	if (mask & ~all)
		return -EINVAL;
	if (mask == 0 && h->sh_sigmask == 0)
		return -EINVAL;
	h->sh_sigmask = mask;
	h->sh_sigpending &= mask;
	return 0;
}

static int
cmd_canput(UsHead *h, intptr_t band)
{
	if (band < 0 || band > 255)
		return -EINVAL;
	return bcanputnext(us__head_wq(h), (unsigned char)band) ? 1 : 0;
}

static int
cmd_atmark(UsHead *h, int flag)
{
	if (flag != ANYMARK && flag != LASTMARK)
		return -EINVAL;
	queue_t *rq = us__head_rq(h);
	mblk_t *mp = rq->q_first;
	if (mp == NULL || !(mp->b_flag & MSGMARK))
		return 0;
	if (flag == ANYMARK)
		return 1;
	for (mblk_t *n = mp->b_next; n; n = n->b_next)
		if (n->b_flag & MSGMARK)
			return 0;
	return 1;
}

static int
cmd_ckband(UsHead *h, intptr_t band)
{
	if (band < 0 || band > 255)
		return -EINVAL;
	for (mblk_t *mp = us__head_rq(h)->q_first; mp; mp = mp->b_next)
		if (DB_TYPE(mp) < QPCTL && mp->b_band == band)
			return 1;
	return 0;
}

static int
cmd_getband(UsHead *h, int *out)
{
	mblk_t *mp = us__head_rq(h)->q_first;
	if (out == NULL)
		return -EFAULT;
	if (mp == NULL)
		return -ENODATA;
	*out = mp->b_band;
	return 0;
}

static int
cmd_int_out(int *out, int value)
{
	if (out == NULL)
		return -EFAULT;
	*out = value;
	return 0;
}

static int
cmd_setrdopt(UsHead *h, int opt)
{
	int mode = opt & RMODEMASK, prot = opt & RPROTMASK;
	if ((opt & ~(RMODEMASK | RPROTMASK)) || mode == RMODEMASK ||
	    (prot && prot != RPROTNORM && prot != RPROTDAT && prot != RPROTDIS))
		return -EINVAL;
	h->sh_rdopt = mode | (prot ? prot : (h->sh_rdopt & RPROTMASK));
	return 0;
}

static int
cmd_seterropt(UsHead *h, int opt)
{
	if (opt & ~(RERRNONPERSIST | WERRNONPERSIST))
		return -EINVAL;
	h->sh_erropt = opt;
	return 0;
}

/* Commands answered at the head (world thread); -ENOTTY when not ours. */
static int
head_cmd(UsHead *h, int cmd, intptr_t arg)
{
	switch (cmd) {
	case I_PUSH: return cmd_push(h, (const char *)arg);
	case I_POP: return us_stream_depth(h->sh_st) == 0 ? -EINVAL : -us_stream_pop(h->sh_st);
	case I_LOOK: return cmd_look(h, (char *)arg);
	case I_FIND: return cmd_find(h, (const char *)arg);
	case I_LIST: return cmd_list(h, (struct str_list *)arg);
	case I_FLUSH: return cmd_flush(h, (int)arg, 0, FALSE);
	case I_FLUSHBAND: {
		struct bandinfo *bi = (struct bandinfo *)arg;
		return bi ? cmd_flush(h, bi->bi_flag, bi->bi_pri, TRUE) : -EFAULT;
	}
	case I_NREAD: return cmd_nread(h, (int *)arg);
	case I_PEEK: return cmd_peek(h, (struct strpeek *)arg);
	case I_SRDOPT: return cmd_setrdopt(h, (int)arg);
	case I_GRDOPT: return cmd_int_out((int *)arg, h->sh_rdopt);
	case I_SWROPT:
		if (arg & ~(SNDZERO | SNDPIPE))
			return -EINVAL;
		h->sh_wropt = (int)arg;
		return 0;
	case I_GWROPT: return cmd_int_out((int *)arg, h->sh_wropt);
	case I_SETSIG: return cmd_setsig(h, (int)arg);
	case I_GETSIG: return h->sh_sigmask ? cmd_int_out((int *)arg, h->sh_sigmask) : -EINVAL;
	case I_CANPUT: return cmd_canput(h, arg);
	case I_ATMARK: return cmd_atmark(h, (int)arg);
	case I_CKBAND: return cmd_ckband(h, arg);
	case I_GETBAND: return cmd_getband(h, (int *)arg);
	case I_SETCLTIME: {
		const int *ms = (const int *)arg; /* a pointer to int, as Solaris */
		if (ms == NULL)
			return -EFAULT;
		if (*ms < 0)
			return -EINVAL;
		h->sh_closetime = *ms;
		return 0;
	}
	case I_GETCLTIME: return cmd_int_out((int *)arg, h->sh_closetime);
	case I_SERROPT: return cmd_seterropt(h, (int)arg);
	case I_GERROPT: return cmd_int_out((int *)arg, h->sh_erropt);
	case I_SENDFD:
	case I_RECVFD:
	case I_FDINSERT: return -EINVAL;
	default: return -ENOTTY;
	}
}

static int
op_head_cmd(UsHead *h, gpointer data)
{
	CmdArgs *a = data;
	int r = us__head_check_open(h);
	if (r != 0)
		return r;
	if (h->sh_hangup && (a->cmd == I_PUSH || a->cmd == I_POP))
		return -ENXIO;
	return head_cmd(h, a->cmd, a->arg);
}

static int
op_check(UsHead *h, gpointer data)
{
	(void)data;
	return us__head_check_open(h);
}

int
us__head_ioctl(UsHead *h, int cmd, intptr_t arg)
{
	switch (cmd) {
	case I_LINK:
	case I_PLINK: return us__head_link(h, cmd, (int)arg);
	case I_UNLINK:
	case I_PUNLINK: return us__head_unlink(h, cmd, (int)arg);
	case I_STR: {
		int r = us__head_run(h, op_check, NULL);
		return r != 0 ? r : do_istr(h, (struct strioctl *)arg);
	}
	default: break;
	}
	CmdArgs a = { cmd, arg };
	int r = us__head_run(h, op_head_cmd, &a);
	if (r != -ENOTTY)
		return r;
	return do_transparent(h, cmd, arg);
}

static gboolean
arg_is_int(int cmd)
{
	switch (cmd) {
	case I_FLUSH:
	case I_SRDOPT:
	case I_SWROPT:
	case I_SETSIG:
	case I_CANPUT:
	case I_ATMARK:
	case I_CKBAND:
	case I_SERROPT:
	case I_LINK:
	case I_PLINK:
	case I_UNLINK:
	case I_PUNLINK:
	case I_POP: return TRUE;
	default: return FALSE;
	}
}

int
us_ioctl(int fd, int cmd, ...)
{
	UsHead *h = us__head_get(fd);
	if (h == NULL)
		return us__errno_ret(-EBADF);
	/* Read the argument with the type the caller passed: an int for these
	 * commands (its register's upper half is undefined), else a pointer. */
	va_list ap;
	va_start(ap, cmd);
	intptr_t arg = arg_is_int(cmd) ? (intptr_t)va_arg(ap, int) : (intptr_t)va_arg(ap, void *);
	va_end(ap);
	return us__errno_ret(us__head_ioctl(h, cmd, arg));
}
