/* SPDX-License-Identifier: MIT */
/*
 * head-internal.h -- what the files of streamhead/ share.
 *
 * Every field of UsHead is read and written on the stack's world thread only,
 * except sh_gen/sh_cond (under sh_lock), which waiting callers on other
 * threads watch.
 */
#ifndef US_HEAD_INTERNAL_H
#define US_HEAD_INTERNAL_H

#include <ustreams/head.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include "../core/internal.h"

/* Op result meaning "cannot complete now; wait for the head to change". */
#define HEAD_BLOCK (-100000)

typedef struct _UsLink UsLink;
typedef struct _UsHead UsHead;

/* A library layered over the head (the socket library, socket.c) attaches
 * its hooks here; each one is optional. */
typedef struct {
	/* Read-side put (world thread), before the head's own handling: returns
	 * the message for the head to handle as usual (possibly changed), or
	 * NULL when the hook consumed it. */
	mblk_t *(*rput)(UsHead *h, mblk_t *mp);
	/* TRUE when the library has something to report (keeps the eventfd
	 * readable; world thread). */
	gboolean (*has_input)(UsHead *h);
	/* Adjusts the poll events the head computed (world thread). */
	short (*revents)(UsHead *h, short events, short revents);
	/* Replace us_readv/us_writev on the descriptor (caller's thread);
	 * return what those return, with errno. */
	ssize_t (*readv)(UsHead *h, const struct iovec *iov, int iovcnt);
	ssize_t (*writev)(UsHead *h, const struct iovec *iov, int iovcnt);
	/* Frees the library's state when the head goes (any thread; the
	 * stream may already be gone). */
	void (*destroy)(UsHead *h);
} UsHeadHooks;

struct _UsHead {
	int sh_fd;       /* the eventfd handed to the application */
	UsStream *sh_st; /* the stream */
	UsStack *sh_stack;
	UsWorld *sh_world;
	int sh_oflag;       /* open flags; O_NONBLOCK changes with us_fcntl */
	int sh_rdopt;       /* read mode | protocol mode (I_SRDOPT) */
	int sh_wropt;       /* SNDZERO | SNDPIPE (I_SWROPT) */
	int sh_rerror;      /* read error from M_ERROR, 0 for none */
	int sh_werror;      /* write error from M_ERROR, 0 for none */
	int sh_erropt;      /* RERRNONPERSIST | WERRNONPERSIST (I_SERROPT) */
	gboolean sh_hangup; /* M_HANGUP seen (until M_UNHANGUP) */
	guint sh_wroff;     /* headroom for writes (M_SETOPTS SO_WROFF) */
	ssize_t sh_maxblk;  /* largest block for writes (SO_MAXBLK), 0: none */
	gboolean sh_mread;  /* send M_READ before blocking reads (SO_MREADON) */
	int sh_closetime;   /* ms to wait for the write side to drain at close */
	/* ioctl: one outstanding per stream */
	gboolean sh_ioc_busy;     /* an ioctl is in progress */
	unsigned int sh_ioc_id;   /* its ioc_id */
	mblk_t *sh_ioc_reply;     /* its reply, once it came */
	gboolean sh_ioc_timedout; /* its timer ran out */
	guint64 sh_ioc_timer;     /* world timer id, 0 none */
	/* I_SETSIG */
	int sh_sigmask;    /* events registered */
	int sh_sigpending; /* events that happened, taken by us_getsigevents */
	/* multiplexing */
	GList *sh_links;       /* UsLink made through this stream with I_LINK */
	UsLink *sh_linked;     /* set while this stream is linked below a mux */
	gboolean sh_fd_closed; /* the descriptor is closed; freed at unlink */
	struct qinit *sh_save_rinit, *sh_save_winit; /* head procs while linked */
	/* waiting */
	GMutex sh_lock;
	GCond sh_cond;
	guint sh_gen;             /* bumped on every change, under sh_lock */
	gboolean sh_evfd_ready;   /* the eventfd is currently readable */
	guint64 sh_drops_pcproto; /* second M_PCPROTO discarded */
	/* a library layered over the head: set once on the world thread */
	const UsHeadHooks *sh_hooks; /* NULL: a plain stream head */
	gpointer sh_hook_data;       /* the library's per-descriptor state */
};

struct _UsLink {
	int ln_muxid;
	int ln_cmd;                 /* I_LINK or I_PLINK */
	UsHead *ln_upper;           /* controlling stream (I_LINK), NULL after close */
	UsHead *ln_lower;           /* the linked stream */
	const UsModuleDesc *ln_mux; /* the multiplexing driver */
};

/* head.c */
UsHead *us__head_get(int fd);
void us__head_changed(UsHead *h);
void us__head_post_sig(UsHead *h, int events);
int us__head_run(UsHead *h, int (*op)(UsHead *h, gpointer args), gpointer args);
int us__head_check_open(UsHead *h);
queue_t *us__head_rq(UsHead *h);
queue_t *us__head_wq(UsHead *h);
void us__head_destroy(UsHead *h);
void us__head_close_orphan(UsHead *h);
extern const UsModuleDesc us_strhead_desc;
int us__errno_ret(int r);

/* ioctl.c */
int us__head_ioctl(UsHead *h, int cmd, intptr_t arg);
/* Sends an M_IOCTL built by the caller (consumed) and waits for the final
 * reply; returns ioc_rval or -errno.  *replyp gets the M_IOCACK if wanted. */
int us__head_strioctl(UsHead *h, mblk_t *mp, int timeout_s, mblk_t **replyp);
void us__head_ioc_reply(UsHead *h, mblk_t *mp);

/* link.c */
int us__head_link(UsHead *h, int cmd, int lowerfd);
int us__head_unlink(UsHead *h, int cmd, int muxid);
void us__head_unlink_all(UsHead *h);

/* rw.c / poll.c */
short us__head_revents(UsHead *h, short events);
gboolean us__head_has_input(UsHead *h);
/* Largest data message write sends (the module below's q_maxpsz, SO_MAXBLK,
 * US_STRMSGSZ). */
size_t us__head_write_seg_max(UsHead *h);

#endif
