/* SPDX-License-Identifier: MIT */
/*
 * rw.c -- read, write, getmsg, putmsg and poll at the stream head.
 *
 * Theory
 * ------
 * read (SVR4 read(2) on a stream):
 *   RNORM  byte stream: takes data from as many messages as needed; returns
 *          as soon as something was read and the next message cannot add to
 *          it; a zero-length message returns 0 when nothing was read yet.
 *   RMSGD  one message; what does not fit is discarded.
 *   RMSGN  one message; what does not fit stays on the queue.
 *   A message with a control part at the front: RPROTNORM fails with
 *   EBADMSG, RPROTDAT delivers the control part as data, RPROTDIS drops it.
 *   A high-priority message at the front makes read fail with EBADMSG
 *   unless RPROTDAT/RPROTDIS apply to it too (it is an M_PCPROTO).
 * write: data is cut into messages of at most the top module's q_maxpsz
 *   (and US_STRMSGSZ); a size outside [q_minpsz, q_maxpsz] with a non-zero
 *   q_minpsz fails with ERANGE.  Each message is allocated with sh_wroff
 *   bytes of headroom.  Flow control: canputnext() before each message; a
 *   blocking write waits until all is written, a non-blocking one returns
 *   what it wrote or EAGAIN (so does a blocking one that can never finish
 *   in virtual time, with EDEADLK when it wrote nothing).  Zero bytes send
 *   a zero-length message only with SNDZERO (I_SWROPT).
 * getmsg/putmsg: the control part is the leading non-M_DATA blocks, the
 *   data part the M_DATA blocks; MORECTL/MOREDATA when a part did not fit
 *   (the rest stays at the front of the queue).
 * Errors: M_ERROR's read error fails reads, its write error fails writes
 *   (until cleared, or once with RERRNONPERSIST/WERRNONPERSIST); after
 *   M_HANGUP reads return 0 once the queue is empty and writes fail ENXIO.
 */
#define G_LOG_DOMAIN "us-head"

#include "head-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

static int
read_error(UsHead *h)
{
	int e = h->sh_rerror;
	if (e && (h->sh_erropt & RERRNONPERSIST))
		h->sh_rerror = 0;
	return e;
}

static int
write_error(UsHead *h)
{
	if (h->sh_hangup)
		return ENXIO;
	int e = h->sh_werror;
	if (e && (h->sh_erropt & WERRNONPERSIST))
		h->sh_werror = 0;
	return e;
}

/* ------------------------------------------------------------------ */
/* Copying out of a message                                           */
/* ------------------------------------------------------------------ */

typedef struct {
	const struct iovec *iov;
	int iovcnt;
	int idx;    /* current iovec */
	size_t off; /* offset in it */
	size_t done;
	size_t want;
} IoCursor;

static void
cursor_init(IoCursor *c, const struct iovec *iov, int iovcnt)
{
	memset(c, 0, sizeof *c);
	c->iov = iov;
	c->iovcnt = iovcnt;
	for (int i = 0; i < iovcnt; i++)
		c->want += iov[i].iov_len;
}

/* Copies up to n bytes from p; returns bytes taken. */
static size_t
cursor_put(IoCursor *c, const unsigned char *p, size_t n)
{
	size_t taken = 0;
	while (taken < n && c->idx < c->iovcnt) {
		size_t room = c->iov[c->idx].iov_len - c->off;
		size_t k = MIN(room, n - taken);
		memcpy((char *)c->iov[c->idx].iov_base + c->off, p + taken, k);
		c->off += k;
		taken += k;
		if (c->off == c->iov[c->idx].iov_len) {
			c->idx++;
			c->off = 0;
		}
	}
	c->done += taken;
	return taken;
}

/* Copies blocks of mp (those `take` accepts) into the cursor, consuming the
 * bytes copied (b_rptr moves).  Returns TRUE if every such byte was taken. */
static gboolean
copy_blocks(IoCursor *c, mblk_t *mp, gboolean all_types)
{
	for (mblk_t *b = mp; b != NULL; b = b->b_cont) {
		if (!all_types && DB_TYPE(b) != M_DATA)
			continue;
		b->b_rptr += cursor_put(c, b->b_rptr, MBLKL(b));
		if (MBLKL(b) > 0)
			return FALSE;
	}
	return TRUE;
}

/* Frees the leading control blocks of *mpp (RPROTDIS). */
static void
strip_control(mblk_t **mpp)
{
	while (*mpp != NULL && DB_TYPE(*mpp) != M_DATA) {
		mblk_t *b = *mpp;
		*mpp = b->b_cont;
		freeb(b);
	}
}

/* ------------------------------------------------------------------ */
/* read                                                               */
/* ------------------------------------------------------------------ */

typedef struct {
	IoCursor cur;
} ReadArgs;

static gboolean
is_proto(const mblk_t *mp)
{
	return DB_TYPE(mp) != M_DATA;
}

/* What read does with the message at the front: -errno, or 0 to go on. */
static int
read_front_check(UsHead *h, const mblk_t *mp)
{
	if (DB_TYPE(mp) != M_DATA && DB_TYPE(mp) != M_PROTO && DB_TYPE(mp) != M_PCPROTO)
		return -EBADMSG;
	if (is_proto(mp) && (h->sh_rdopt & RPROTMASK) == RPROTNORM)
		return -EBADMSG;
	return 0;
}

/* Reads from one message taken off the queue; puts back what is left when
 * the mode keeps it.  Returns TRUE if reading may go on to the next. */
static gboolean
read_one(UsHead *h, queue_t *rq, ReadArgs *a)
{
	mblk_t *mp = getq(rq);
	int mode = h->sh_rdopt & RMODEMASK;
	gboolean dat = (h->sh_rdopt & RPROTMASK) == RPROTDAT;
	if (is_proto(mp) && !dat)
		strip_control(&mp);
	size_t before = a->cur.done;
	gboolean whole = mp == NULL || copy_blocks(&a->cur, mp, dat);
	gboolean zero = a->cur.done == before && msgdsize(mp) == 0;
	if (mp != NULL) {
		if (!whole && mode != RMSGD) {
			/* What is left stays at the front (RNORM, RMSGN). */
			while (mp != NULL && MBLKL(mp) == 0 && mp->b_cont != NULL) {
				mblk_t *b = mp;
				mp = unlinkb(b);
				freeb(b);
			}
			putbq(rq, mp);
		} else {
			freemsg(mp);
		}
	}
	if (mode != RNORM || zero)
		return FALSE;
	return whole;
}

static int
op_read(UsHead *h, gpointer data)
{
	ReadArgs *a = data;
	int r = us__head_check_open(h);
	if (r != 0)
		return r;
	int e = read_error(h);
	if (e)
		return -e;
	queue_t *rq = us__head_rq(h);
	if (rq->q_first == NULL) {
		if (h->sh_hangup)
			return 0;
		if (h->sh_oflag & O_NONBLOCK)
			return -EAGAIN;
		if (h->sh_mread)
			putnextctl(us__head_wq(h), M_READ); /* size not carried */
		return HEAD_BLOCK;
	}
	r = read_front_check(h, rq->q_first);
	if (r != 0)
		return r;
	while (rq->q_first != NULL && a->cur.done < a->cur.want) {
		if (a->cur.done > 0 &&
		    (read_front_check(h, rq->q_first) != 0 || msgdsize(rq->q_first) == 0 ||
		     DB_TYPE(rq->q_first) >= QPCTL))
			break;
		if (!read_one(h, rq, a))
			break;
	}
	if (a->cur.want == 0 && rq->q_first != NULL && msgdsize(rq->q_first) == 0 &&
	    DB_TYPE(rq->q_first) == M_DATA)
		freemsg(getq(rq)); /* a zero-length read takes a zero-length message */
	us__head_changed(h);
	return (int)a->cur.done;
}

ssize_t
us_readv(int fd, const struct iovec *iov, int iovcnt)
{
	UsHead *h = us__head_get(fd);
	if (h == NULL)
		return us__errno_ret(-EBADF);
	if (iovcnt < 0 || (iovcnt > 0 && iov == NULL))
		return us__errno_ret(-EINVAL);
	if (h->sh_hooks != NULL && h->sh_hooks->readv != NULL)
		return h->sh_hooks->readv(h, iov, iovcnt);
	ReadArgs a;
	cursor_init(&a.cur, iov, iovcnt);
	return us__errno_ret(us__head_run(h, op_read, &a));
}

ssize_t
us_read(int fd, void *buf, size_t len)
{
	struct iovec iov = { buf, len };
	return us_readv(fd, &iov, 1);
}

/* ------------------------------------------------------------------ */
/* write                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
	const struct iovec *iov;
	int iovcnt;
	size_t total; /* bytes to write */
	size_t done;  /* bytes sent so far */
	int idx;      /* iovec being read */
	size_t off;
	gboolean sent_zero;
} WriteArgs;

static void
gather(WriteArgs *a, unsigned char *dst, size_t n)
{
	while (n > 0) {
		size_t room = a->iov[a->idx].iov_len - a->off;
		size_t k = MIN(room, n);
		memcpy(dst, (const char *)a->iov[a->idx].iov_base + a->off, k);
		dst += k;
		n -= k;
		a->off += k;
		if (a->off == a->iov[a->idx].iov_len) {
			a->idx++;
			a->off = 0;
		}
	}
}

/* Largest message write may send, from the module below the head. */
size_t
us__head_write_seg_max(UsHead *h)
{
	queue_t *top = us__head_wq(h)->q_next;
	size_t max = US_STRMSGSZ;
	if (top != NULL && top->q_maxpsz != INFPSZ && top->q_maxpsz >= 0)
		max = MIN(max, (size_t)top->q_maxpsz);
	if (h->sh_maxblk > 0)
		max = MIN(max, (size_t)h->sh_maxblk);
	return MAX(max, 1);
}

static int
write_range_check(UsHead *h, size_t len)
{
	queue_t *top = us__head_wq(h)->q_next;
	ssize_t min = top ? top->q_minpsz : 0;
	ssize_t max = top ? top->q_maxpsz : INFPSZ;
	gboolean inside = (ssize_t)len >= min && (max == INFPSZ || (ssize_t)len <= max);
	if (!inside && min > 0)
		return -ERANGE;
	return 0;
}

static mblk_t *
write_msg(UsHead *h, WriteArgs *a, size_t n)
{
	mblk_t *mp = allocb(h->sh_wroff + n, BPRI_MED);
	if (mp == NULL)
		return NULL;
	mp->b_rptr += h->sh_wroff;
	mp->b_wptr = mp->b_rptr;
	gather(a, mp->b_wptr, n);
	mp->b_wptr += n;
	return mp;
}

static int
op_write(UsHead *h, gpointer data)
{
	WriteArgs *a = data;
	int r = us__head_check_open(h);
	if (r != 0)
		return r;
	int e = write_error(h);
	if (e)
		return a->done > 0 ? (int)a->done : -e;
	if (a->done == 0 && (r = write_range_check(h, a->total)) != 0)
		return r;
	queue_t *wq = us__head_wq(h);
	size_t seg = us__head_write_seg_max(h);
	while (a->done < a->total || (a->total == 0 && !a->sent_zero)) {
		if (!canputnext(wq)) {
			if (h->sh_oflag & O_NONBLOCK)
				return a->done > 0 ? (int)a->done : -EAGAIN;
			return HEAD_BLOCK;
		}
		size_t n = MIN(seg, a->total - a->done);
		mblk_t *mp = write_msg(h, a, n);
		if (mp == NULL)
			return a->done > 0 ? (int)a->done : -ENOSR;
		a->done += n;
		a->sent_zero = TRUE;
		putnext(wq, mp);
	}
	return (int)a->done;
}

ssize_t
us_writev(int fd, const struct iovec *iov, int iovcnt)
{
	UsHead *h = us__head_get(fd);
	if (h == NULL)
		return us__errno_ret(-EBADF);
	if (iovcnt < 0 || (iovcnt > 0 && iov == NULL))
		return us__errno_ret(-EINVAL);
	if (h->sh_hooks != NULL && h->sh_hooks->writev != NULL)
		return h->sh_hooks->writev(h, iov, iovcnt);
	WriteArgs a = { .iov = iov, .iovcnt = iovcnt };
	for (int i = 0; i < iovcnt; i++)
		a.total += iov[i].iov_len;
	if (a.total > G_MAXINT)
		return us__errno_ret(-EINVAL);
	if (a.total == 0 && !(h->sh_wropt & SNDZERO))
		a.sent_zero = TRUE; /* nothing to send */
	int r = us__head_run(h, op_write, &a);
	/* Stuck after some data went: report it, as an interrupted write(2). */
	if (r == -EDEADLK && a.done > 0)
		r = (int)a.done;
	return us__errno_ret(r);
}

ssize_t
us_write(int fd, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };
	return us_writev(fd, &iov, 1);
}

/* ------------------------------------------------------------------ */
/* getmsg / getpmsg                                                   */
/* ------------------------------------------------------------------ */

typedef struct {
	struct strbuf *ctl, *data;
	int *bandp;
	int *flagsp;
	gboolean pmsg;
} GetArgs;

/* TRUE if the front message may be taken under the caller's flags. */
static gboolean
get_wanted(const mblk_t *mp, int flags, int band)
{
	if (flags & MSG_HIPRI)
		return DB_TYPE(mp) >= QPCTL;
	if (flags & MSG_BAND)
		return DB_TYPE(mp) >= QPCTL || mp->b_band >= band;
	return TRUE;
}

/* Copies one part (control or data) into sb; returns TRUE if it all fit. */
static gboolean
get_part(struct strbuf *sb, mblk_t *mp, gboolean control)
{
	gboolean present = FALSE;
	size_t bytes = 0; /* in this part */
	for (mblk_t *b = mp; b; b = b->b_cont) {
		if ((DB_TYPE(b) != M_DATA) == control) {
			present = TRUE;
			bytes += MBLKL(b);
		}
	}
	if (sb == NULL || sb->maxlen < 0) {
		/* Not processed: the part stays on the queue. */
		if (sb)
			sb->len = -1;
		return bytes == 0;
	}
	if (!present) {
		sb->len = -1;
		return TRUE;
	}
	struct iovec iov = { sb->buf, (size_t)sb->maxlen };
	IoCursor c;
	cursor_init(&c, &iov, 1);
	gboolean whole = TRUE;
	for (mblk_t *b = mp; b && whole; b = b->b_cont) {
		if ((DB_TYPE(b) != M_DATA) != control)
			continue;
		b->b_rptr += cursor_put(&c, b->b_rptr, MBLKL(b));
		whole = MBLKL(b) == 0;
	}
	sb->len = (int)c.done;
	return whole;
}

static int
get_flags_check(GetArgs *a, int *band)
{
	int flags = *a->flagsp;
	*band = a->bandp ? *a->bandp : 0;
	if (!a->pmsg)
		return flags == 0 || flags == RS_HIPRI ? 0 : -EINVAL;
	if (flags != MSG_HIPRI && flags != MSG_ANY && flags != MSG_BAND)
		return -EINVAL;
	if (*band < 0 || *band > 255)
		return -EINVAL;
	return 0;
}

static void
get_report(GetArgs *a, const mblk_t *mp)
{
	gboolean pri = DB_TYPE(mp) >= QPCTL;
	if (a->pmsg) {
		*a->flagsp = pri ? MSG_HIPRI : MSG_BAND;
		*a->bandp = pri ? 0 : mp->b_band;
	} else {
		*a->flagsp = pri ? RS_HIPRI : 0;
	}
}

/* Drops empty leading blocks of one part so the rest is well formed. */
static mblk_t *
get_trim(mblk_t *mp)
{
	mblk_t **pp = &mp;
	while (*pp != NULL) {
		if (MBLKL(*pp) == 0 && ((*pp)->b_cont != NULL || pp != &mp)) {
			mblk_t *b = *pp;
			*pp = b->b_cont;
			freeb(b);
		} else {
			pp = &(*pp)->b_cont;
		}
	}
	return mp;
}

static int
op_getmsg(UsHead *h, gpointer data)
{
	GetArgs *a = data;
	int band, r = us__head_check_open(h);
	if (r != 0 || (r = get_flags_check(a, &band)) != 0)
		return r;
	int e = read_error(h);
	if (e)
		return -e;
	queue_t *rq = us__head_rq(h);
	mblk_t *mp = rq->q_first;
	if (mp == NULL || !get_wanted(mp, *a->flagsp, band)) {
		if (h->sh_hangup && mp == NULL) {
			if (a->ctl)
				a->ctl->len = 0;
			if (a->data)
				a->data->len = 0;
			*a->flagsp = 0;
			return 0;
		}
		return (h->sh_oflag & O_NONBLOCK) ? -EAGAIN : HEAD_BLOCK;
	}
	if (read_front_check(h, mp) == -EBADMSG && DB_TYPE(mp) != M_PROTO &&
	    DB_TYPE(mp) != M_PCPROTO)
		return -EBADMSG;
	mp = getq(rq);
	get_report(a, mp);
	int more = 0;
	if (!get_part(a->ctl, mp, TRUE))
		more |= MORECTL;
	if (!get_part(a->data, mp, FALSE))
		more |= MOREDATA;
	if (more)
		putbq(rq, get_trim(mp));
	else
		freemsg(mp);
	us__head_changed(h);
	return more;
}

int
us_getpmsg(int fd, struct strbuf *ctlptr, struct strbuf *dataptr, int *bandp, int *flagsp)
{
	UsHead *h = us__head_get(fd);
	if (h == NULL)
		return us__errno_ret(-EBADF);
	if (flagsp == NULL || bandp == NULL)
		return us__errno_ret(-EINVAL);
	GetArgs a = { ctlptr, dataptr, bandp, flagsp, TRUE };
	return us__errno_ret(us__head_run(h, op_getmsg, &a));
}

int
us_getmsg(int fd, struct strbuf *ctlptr, struct strbuf *dataptr, int *flagsp)
{
	UsHead *h = us__head_get(fd);
	if (h == NULL)
		return us__errno_ret(-EBADF);
	if (flagsp == NULL)
		return us__errno_ret(-EINVAL);
	int band = 0;
	GetArgs a = { ctlptr, dataptr, &band, flagsp, FALSE };
	return us__errno_ret(us__head_run(h, op_getmsg, &a));
}

/* ------------------------------------------------------------------ */
/* putmsg / putpmsg                                                   */
/* ------------------------------------------------------------------ */

typedef struct {
	const struct strbuf *ctl, *data;
	int band;
	gboolean hipri;
} PutArgs;

static int
put_check(UsHead *h, PutArgs *a, gboolean has_ctl, gboolean has_data)
{
	if (a->hipri && (!has_ctl || a->band != 0))
		return -EINVAL;
	if (has_ctl && a->ctl->len > US_STRCTLSZ)
		return -ERANGE;
	if (has_data) {
		queue_t *top = us__head_wq(h)->q_next;
		ssize_t len = a->data->len;
		if (len > US_STRMSGSZ || (top && (len < top->q_minpsz || (top->q_maxpsz != INFPSZ &&
									  len > top->q_maxpsz))))
			return -ERANGE;
	}
	return 0;
}

static mblk_t *
put_build(UsHead *h, PutArgs *a, gboolean has_ctl, gboolean has_data)
{
	mblk_t *ctl = NULL, *dat = NULL;
	if (has_ctl) {
		ctl = allocb((size_t)a->ctl->len, BPRI_MED);
		if (ctl == NULL)
			return NULL;
		DB_TYPE(ctl) = a->hipri ? M_PCPROTO : M_PROTO;
		memcpy(ctl->b_wptr, a->ctl->buf, (size_t)a->ctl->len);
		ctl->b_wptr += a->ctl->len;
	}
	if (has_data) {
		dat = allocb(h->sh_wroff + (size_t)a->data->len, BPRI_MED);
		if (dat == NULL) {
			freemsg(ctl);
			return NULL;
		}
		dat->b_rptr = dat->b_wptr = dat->b_rptr + h->sh_wroff;
		memcpy(dat->b_wptr, a->data->buf, (size_t)a->data->len);
		dat->b_wptr += a->data->len;
	}
	mblk_t *mp = ctl ? ctl : dat;
	if (ctl)
		ctl->b_cont = dat;
	mp->b_band = (unsigned char)a->band;
	return mp;
}

static int
op_putmsg(UsHead *h, gpointer data)
{
	PutArgs *a = data;
	int r = us__head_check_open(h);
	if (r != 0)
		return r;
	gboolean has_ctl = a->ctl != NULL && a->ctl->len >= 0;
	gboolean has_data = a->data != NULL && a->data->len >= 0;
	if ((r = put_check(h, a, has_ctl, has_data)) != 0)
		return r;
	int e = write_error(h);
	if (e)
		return -e;
	if (!has_ctl && !has_data)
		return 0;
	queue_t *wq = us__head_wq(h);
	if (!a->hipri && !bcanputnext(wq, (unsigned char)a->band))
		return (h->sh_oflag & O_NONBLOCK) ? -EAGAIN : HEAD_BLOCK;
	mblk_t *mp = put_build(h, a, has_ctl, has_data);
	if (mp == NULL)
		return -ENOSR;
	putnext(wq, mp);
	return 0;
}

static int
putmsg_common(int fd, PutArgs *a)
{
	UsHead *h = us__head_get(fd);
	if (h == NULL)
		return us__errno_ret(-EBADF);
	if ((a->ctl && a->ctl->len > 0 && a->ctl->buf == NULL) ||
	    (a->data && a->data->len > 0 && a->data->buf == NULL))
		return us__errno_ret(-EFAULT);
	return us__errno_ret(us__head_run(h, op_putmsg, a));
}

int
us_putmsg(int fd, const struct strbuf *ctlptr, const struct strbuf *dataptr, int flags)
{
	if (flags != 0 && flags != RS_HIPRI)
		return us__errno_ret(-EINVAL);
	PutArgs a = { ctlptr, dataptr, 0, flags == RS_HIPRI };
	return putmsg_common(fd, &a);
}

int
us_putpmsg(int fd, const struct strbuf *ctlptr, const struct strbuf *dataptr, int band, int flags)
{
	if ((flags != MSG_HIPRI && flags != MSG_BAND) || band < 0 || band > 255)
		return us__errno_ret(-EINVAL);
	PutArgs a = { ctlptr, dataptr, band, flags == MSG_HIPRI };
	return putmsg_common(fd, &a);
}

/* ------------------------------------------------------------------ */
/* poll                                                               */
/* ------------------------------------------------------------------ */

/* Events ready now (world thread).  Checking POLLOUT uses canputnext, which
 * sets QWANTW, so a later back-enable wakes the poller (as SVR4 does). */
short
us__head_revents(UsHead *h, short events)
{
	if (h->sh_linked != NULL)
		return POLLNVAL;
	short rev = 0;
	mblk_t *mp = us__head_rq(h)->q_first;
	if (mp != NULL) {
		if (DB_TYPE(mp) >= QPCTL)
			rev |= POLLPRI;
		else if (mp->b_band > 0)
			rev |= POLLRDBAND | POLLIN;
		else
			rev |= POLLRDNORM | POLLIN;
	}
	if (h->sh_rerror || h->sh_werror)
		rev |= POLLERR;
	if (h->sh_hangup) {
		rev |= POLLHUP;
	} else if (events & (POLLOUT | POLLWRNORM | POLLWRBAND)) {
		queue_t *wq = us__head_wq(h);
		if ((events & (POLLOUT | POLLWRNORM)) && canputnext(wq))
			rev |= POLLOUT | POLLWRNORM;
		if ((events & POLLWRBAND) && bcanputnext(wq, 1))
			rev |= POLLWRBAND;
	}
	if (h->sh_sigpending & S_MSG)
		rev |= POLLMSG;
	if (h->sh_hooks != NULL && h->sh_hooks->revents != NULL)
		rev = h->sh_hooks->revents(h, events, rev);
	return rev & (events | POLLERR | POLLHUP | POLLNVAL);
}
