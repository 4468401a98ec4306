/* SPDX-License-Identifier: MIT */
/*
 * stropts.h -- user-level STREAMS: the I_* stream head ioctl commands, the
 * structures they take (strioctl, strbuf, strpeek, str_list, bandinfo ...),
 * getmsg/putmsg flags, read/write/error options and I_SETSIG events.
 *
 * Names, structure fields and numeric values are those of SVR4 and illumos
 * <sys/stropts.h> (the STREAMS Programming Guide, streamio(7I), getmsg(2),
 * putmsg(2)).  Applications pass these commands to us_ioctl() on a ustreams
 * descriptor exactly as they would pass them to ioctl(2) on a STREAMS device;
 * modules see the I_STR payload as an M_IOCTL with ioc_cmd == ic_cmd.
 *
 * This header is also the single home of the TPI/DLPI scalar types
 * t_scalar_t and t_uscalar_t (32 bits on every ABI, as in illumos).  They are
 * defined once, under the guard USTREAMS_T_SCALAR_DEFINED; <ustreams/tihdr.h>
 * and <ustreams/dlpi.h> include this header to get them.
 *
 * Do not include the C library's own <stropts.h> (removed from glibc 2.30)
 * in the same translation unit: it spells the same names differently.
 *
 * Deviations from SVR4/illumos:
 *  - Commands go to us_ioctl() on ustreams descriptors, not ioctl(2).
 *  - I_SETSIG/I_ESETSIG do not raise SIGPOLL/SIGURG: the S_* events are
 *    reported through the stream head's poll state (us_poll, the eventfd).
 *  - Every command is defined so that code compiles; the stream head is only
 *    required to implement the set listed in ARCHITECTURE.md section 5.
 *    The rest (I_SENDFD, I_RECVFD, I_FDINSERT, I_ANCHOR, I_SETCLTIME ...)
 *    may fail with EINVAL.
 *  - I_RECVFD has the user-level value (STR|016); there is no separate
 *    kernel I_E_RECVFD.  The private _I_* commands are not defined.
 *  - Nothing is hidden behind _XPG4_2/__EXTENSIONS__: all names are visible.
 *  - struct strrecvfd's padding is always called fill (never __fill).
 *  - FMNAMESZ (illumos <sys/conf.h>) and t_scalar_t/t_uscalar_t (illumos
 *    <sys/types.h>) are defined here.
 */
#ifndef USTREAMS_STROPTS_H
#define USTREAMS_STROPTS_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* TPI/DLPI scalar types (shared with tihdr.h and dlpi.h)             */
/* ------------------------------------------------------------------ */

#ifndef USTREAMS_T_SCALAR_DEFINED
#define USTREAMS_T_SCALAR_DEFINED
typedef int32_t t_scalar_t;   /* signed 32-bit field of a TPI/DLPI primitive */
typedef uint32_t t_uscalar_t; /* unsigned 32-bit field of a TPI/DLPI primitive */
#endif

/* Longest module name, not counting the NUL (I_PUSH, I_LOOK, I_FIND). */
#ifndef FMNAMESZ
#define FMNAMESZ 8
#endif

/* ------------------------------------------------------------------ */
/* Write options (I_SWROPT, I_GWROPT)                                 */
/* ------------------------------------------------------------------ */

#define SNDZERO 0x001 /* write(2) of zero bytes sends a zero-length message */
#define SNDPIPE 0x002 /* write/putmsg after a write error: SIGPIPE in SVR4 */

/* ------------------------------------------------------------------ */
/* Read options (I_SRDOPT, I_GRDOPT, M_SETOPTS so_readopt)            */
/* ------------------------------------------------------------------ */

#define RNORM 0x000     /* byte-stream mode */
#define RMSGD 0x001     /* message-discard: one message per read, rest dropped */
#define RMSGN 0x002     /* message-nondiscard: rest stays at the head */
#define RMODEMASK 0x003 /* the mode bits above */

#define RPROTDAT 0x004  /* deliver M_PROTO/M_PCPROTO contents as data */
#define RPROTDIS 0x008  /* discard the protocol part, read the data part */
#define RPROTNORM 0x010 /* fail read with EBADMSG on a protocol message */
#define RPROTMASK 0x01c /* the RPROT bits */

#define RFLUSHMASK 0x020   /* the RFLUSH bits */
#define RFLUSHPCPROT 0x020 /* a read-side flush keeps M_PCPROTO messages */

/* ------------------------------------------------------------------ */
/* Error options (I_SERROPT, I_GERROPT, M_SETOPTS so_erropt)          */
/* ------------------------------------------------------------------ */

#define RERRNORM 0x001       /* read errors persist (default) */
#define RERRNONPERSIST 0x002 /* a read error is cleared once reported */
#define RERRMASK (RERRNORM | RERRNONPERSIST)
#define WERRNORM 0x004       /* write errors persist (default) */
#define WERRNONPERSIST 0x008 /* a write error is cleared once reported */
#define WERRMASK (WERRNORM | WERRNONPERSIST)

/* ------------------------------------------------------------------ */
/* Flush flags (I_FLUSH, M_FLUSH); stream.h defines the same values   */
/* ------------------------------------------------------------------ */

#ifndef FLUSHR
#define FLUSHR 0x01
#endif
#ifndef FLUSHW
#define FLUSHW 0x02
#endif
#ifndef FLUSHRW
#define FLUSHRW 0x03
#endif
#ifndef FLUSHBAND
#define FLUSHBAND 0x04 /* flush only the band given with the flag */
#endif

/* Copy options for M_SETOPTS SO_COPYOPT (advisory in ustreams). */
#define ZCVMSAFE 0x01
#define ZCVMUNSAFE 0x02
#define COPYCACHED 0x04

/* ------------------------------------------------------------------ */
/* I_SETSIG / I_ESETSIG events                                        */
/* ------------------------------------------------------------------ */

#define S_INPUT 0x0001  /* a non-priority message reached the read queue */
#define S_HIPRI 0x0002  /* a high-priority message reached the read queue */
#define S_OUTPUT 0x0004 /* the write queue is no longer full */
#define S_MSG 0x0008    /* an M_SIG/M_PCSIG reached the front of the read queue */
#define S_ERROR 0x0010  /* an M_ERROR reached the stream head */
#define S_HANGUP 0x0020 /* an M_HANGUP reached the stream head */
#define S_RDNORM 0x0040 /* a band-0 message is on the read queue */
#define S_WRNORM S_OUTPUT
#define S_RDBAND 0x0080  /* a banded (band > 0) message is on the read queue */
#define S_WRBAND 0x0100  /* a banded message may be written */
#define S_BANDURG 0x0200 /* with S_RDBAND: urgent (SIGURG in SVR4) */

/* ------------------------------------------------------------------ */
/* getmsg/putmsg and getpmsg/putpmsg flags                            */
/* ------------------------------------------------------------------ */

#define RS_HIPRI 0x01 /* getmsg/putmsg: high-priority message */

#define MSG_HIPRI 0x01 /* getpmsg/putpmsg: high-priority message */
#define MSG_ANY 0x02   /* getpmsg: any message */
#define MSG_BAND 0x04  /* getpmsg: from the given band or higher */

/* getmsg/getpmsg return value bits */
#define MORECTL 1  /* more control information is left */
#define MOREDATA 2 /* more data is left */

/* I_UNLINK / I_PUNLINK: every lower stream */
#define MUXID_ALL (-1)

/* I_ATMARK arguments */
#define ANYMARK 0x01  /* is the current message marked? */
#define LASTMARK 0x02 /* is it the last marked message on the queue? */

/* Infinite timeout (I_STR ic_timout, poll) */
#ifndef INFTIM
#define INFTIM (-1)
#endif

/* ------------------------------------------------------------------ */
/* Stream head ioctl commands                                         */
/* ------------------------------------------------------------------ */

#define STR ('S' << 8)
#define I_NREAD (STR | 01)      /* bytes in the first message; returns count */
#define I_PUSH (STR | 02)       /* push the named module */
#define I_POP (STR | 03)        /* pop the topmost module */
#define I_LOOK (STR | 04)       /* name of the topmost module */
#define I_FLUSH (STR | 05)      /* flush (FLUSHR/FLUSHW/FLUSHRW) */
#define I_SRDOPT (STR | 06)     /* set read options */
#define I_GRDOPT (STR | 07)     /* get read options */
#define I_STR (STR | 010)       /* send struct strioctl downstream */
#define I_SETSIG (STR | 011)    /* register for S_* events */
#define I_GETSIG (STR | 012)    /* get registered events */
#define I_FIND (STR | 013)      /* is the named module on the stream? */
#define I_LINK (STR | 014)      /* link a stream under a multiplexor */
#define I_UNLINK (STR | 015)    /* unlink by muxid (MUXID_ALL: all) */
#define I_RECVFD (STR | 016)    /* receive a descriptor (struct strrecvfd) */
#define I_PEEK (STR | 017)      /* look at the first message (struct strpeek) */
#define I_FDINSERT (STR | 020)  /* send a message with a queue id inserted */
#define I_SENDFD (STR | 021)    /* send a descriptor */
#define I_SWROPT (STR | 023)    /* set write options */
#define I_GWROPT (STR | 024)    /* get write options */
#define I_LIST (STR | 025)      /* list the modules (struct str_list) */
#define I_PLINK (STR | 026)     /* persistent link */
#define I_PUNLINK (STR | 027)   /* undo a persistent link */
#define I_ANCHOR (STR | 030)    /* set a push anchor */
#define I_FLUSHBAND (STR | 034) /* flush one band (struct bandinfo) */
#define I_CKBAND (STR | 035)    /* is there a message in the band? */
#define I_GETBAND (STR | 036)   /* band of the first message */
#define I_ATMARK (STR | 037)    /* is the current message marked? */
#define I_SETCLTIME (STR | 040) /* set the close drain time */
#define I_GETCLTIME (STR | 041) /* get the close drain time */
#define I_CANPUT (STR | 042)    /* can a message be written to the band? */
#define I_SERROPT (STR | 043)   /* set error options */
#define I_GERROPT (STR | 044)   /* get error options */
#define I_ESETSIG (STR | 045)   /* I_SETSIG for another process (strsigset) */
#define I_EGETSIG (STR | 046)   /* I_GETSIG for another process */

/* ------------------------------------------------------------------ */
/* Structures                                                         */
/* ------------------------------------------------------------------ */

/* I_STR: an ioctl sent down the stream as M_IOCTL. */
struct strioctl {
	int ic_cmd;    /* command, seen by modules as ioc_cmd */
	int ic_timout; /* seconds to wait for the reply; INFTIM: forever, 0: default */
	int ic_len;    /* bytes of data at ic_dp; on return, bytes returned */
	char *ic_dp;   /* data in and out */
};

/* getmsg/putmsg buffer: maxlen on input, len on output (-1: no part). */
struct strbuf {
	int maxlen; /* size of buf */
	int len;    /* bytes in buf */
	char *buf;  /* the bytes */
};

/* I_PEEK */
struct strpeek {
	struct strbuf ctlbuf;
	struct strbuf databuf;
	t_uscalar_t flags; /* in: 0 or RS_HIPRI; out: RS_HIPRI if high priority */
};

/* I_FDINSERT */
struct strfdinsert {
	struct strbuf ctlbuf;
	struct strbuf databuf;
	t_uscalar_t flags; /* 0 or RS_HIPRI */
	int fildes;        /* stream whose read-queue id is inserted */
	int offset;        /* where in ctlbuf to put it */
};

/* I_RECVFD */
struct strrecvfd {
	int fd;
	uid_t uid;
	gid_t gid;
	char fill[8];
};

/* I_LIST: one module name */
struct str_mlist {
	char l_name[FMNAMESZ + 1];
};

/* I_LIST: sl_nmods entries at sl_modlist; with a NULL argument I_LIST
 * returns the number of modules and drivers on the stream. */
struct str_list {
	int sl_nmods;
	struct str_mlist *sl_modlist;
};

/* I_FLUSHBAND */
struct bandinfo {
	unsigned char bi_pri; /* band */
	int bi_flag;          /* FLUSHR, FLUSHW or FLUSHRW */
};

/* I_ESETSIG / I_EGETSIG */
struct strsigset {
	pid_t ss_pid;  /* process, or process group if negative */
	int ss_events; /* S_* events */
};

#ifdef __cplusplus
}
#endif

#endif /* USTREAMS_STROPTS_H */
