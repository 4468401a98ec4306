/* SPDX-License-Identifier: MIT */
/*
 * stream.h -- the STREAMS DDI of ustreams: message and queue structures, message
 * types, and the functions modules and drivers call.
 *
 * Names, structure fields and numeric values are those of SVR4 and illumos
 * (<sys/stream.h>, <sys/strsun.h>); ustreams only appends fields after the
 * classic ones and adds functions with a us_ prefix.  Code written against the
 * classic DDI should compile unchanged for everything listed in
 * ARCHITECTURE.md section 2.
 *
 * Ownership: every function that takes an mblk_t and does not say otherwise
 * consumes it (putnext, putq, freemsg, qreply ...).  Functions that only look
 * at a message (msgdsize, canput, testb) say so.
 *
 * Threads: every function here must be called on the thread of the world the
 * queue belongs to (inside a put or service procedure, a timeout, a bufcall or
 * a us_world_call() callback).  Message functions (allocb, freemsg, dupmsg ...)
 * may be called from any thread.
 *
 * Deviations from SVR4/illumos:
 *  - There is no kernel and no perimeter: one world thread serialises all
 *    put and service procedures of the stacks it runs, so modules need no locks.
 *  - Clock ticks are milliseconds (HZ == 1000) on the world's clock, which may
 *    be virtual.
 *  - bufcall() callbacks run on the world whose thread registered them.
 */
#ifndef USTREAMS_STREAM_H
#define USTREAMS_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#include <time.h>

typedef char *caddr_t; /* C11 allows this to repeat <sys/types.h>'s typedef */
typedef uintptr_t timeout_id_t;
typedef uintptr_t bufcall_id_t;
typedef struct us_cred cred_t; /* opaque; NULL is a valid credential */
typedef struct us_stream stdata_t;

/* ------------------------------------------------------------------ */
/* Messages                                                           */
/* ------------------------------------------------------------------ */

/* Message types (illumos values).  db_type >= QPCTL is high priority. */
#define M_DATA 0x00
#define M_PROTO 0x01
#define M_MULTIDATA 0x02
#define M_BREAK 0x08
#define M_PASSFP 0x09
#define M_EVENT 0x0a
#define M_SIG 0x0b
#define M_DELAY 0x0c
#define M_CTL 0x0d
#define M_IOCTL 0x0e
#define M_SETOPTS 0x10
#define M_RSE 0x11
#define QPCTL 0x80
#define M_IOCACK 0x81
#define M_IOCNAK 0x82
#define M_PCPROTO 0x83
#define M_PCSIG 0x84
#define M_READ 0x85
#define M_FLUSH 0x86
#define M_STOP 0x87
#define M_START 0x88
#define M_HANGUP 0x89
#define M_ERROR 0x8a
#define M_COPYIN 0x8b
#define M_COPYOUT 0x8c
#define M_IOCDATA 0x8d
#define M_PCRSE 0x8e
#define M_STOPI 0x8f
#define M_STARTI 0x90
#define M_PCEVENT 0x91
#define M_UNHANGUP 0x92
#define M_CMD 0x93

/* Message priorities for allocb (ignored, as in SVR4.2 and illumos). */
#define BPRI_LO 1
#define BPRI_MED 2
#define BPRI_HI 3

/* b_flag values */
#define MSGMARK 0x01     /* last byte of message is "marked" */
#define MSGNOLOOP 0x02   /* don't loop message around to write side */
#define MSGDELIM 0x04    /* message is delimited */
#define MSGNOGET 0x08    /* getq does not return message */
#define MSGMARKNEXT 0x10 /* private to the stream head */
#define MSGNOTMARKNEXT 0x20

/* M_FLUSH flags */
#define FLUSHR 0x01
#define FLUSHW 0x02
#define FLUSHRW 0x03
#define FLUSHBAND 0x04

/* flushq()/flushband() flags */
#define FLUSHALL 1
#define FLUSHDATA 0

/* The largest db_ref; dupb() fails rather than wrapping. */
#define DBLK_REFMAX 255U

typedef struct free_rtn {
	void (*free_func)(caddr_t arg); /* called once the last reference goes */
	caddr_t free_arg;
} frtn_t;

struct msgb;

/* Data block: the buffer and what is shared between duplicates. */
typedef struct datab {
	frtn_t *db_frtnp;       /* free routine (esballoc), else NULL */
	unsigned char *db_base; /* first byte of the buffer */
	unsigned char *db_lim;  /* one past the last byte of the buffer */
	unsigned char db_ref;   /* message blocks pointing here */
	unsigned char db_type;  /* message type, M_* */
	unsigned char db_flags; /* DBLK_* below */
	unsigned char db_class; /* allocator size class (private) */
	struct msgb *db_mblk;   /* the block allocated with this dblk */
	uint32_t db_magic;      /* US_DBLK_MAGIC while alive (debug) */
	uint16_t db_cksumflags; /* HCK_* and HW_LSO below (first block of a packet) */
	uint16_t db_cksumstart; /* HCK_PARTIALCKSUM: sum from here to the end ... */
	uint16_t db_cksumstuff; /* ... and store it here (offsets from the IP header) */
	uint16_t db_lsomss;     /* HW_LSO: payload bytes per segment */
} dblk_t;

#define DBLK_REFMIN 0x01 /* db_flags: esballoc'd with desballoc semantics */

/*
 * Offload metadata (illumos' hcksum and LSO flags, kept in one word here).
 * It describes the packet whose first block's dblk carries it; offsets count
 * from the start of the IP header, whatever link header precedes it.
 *
 * HCK_PARTIALCKSUM  the transport checksum is not done: the field at
 *                   db_cksumstuff holds the folded ones'-complement sum of the
 *                   pseudo header (not complemented); whoever cannot pass the
 *                   packet on that way completes it (sum from db_cksumstart
 *                   to the end of the datagram, complement, store).  On
 *                   receive from a trusted peer (a TAP's kernel), transports
 *                   take the checksum as verified, as Linux does.
 * HCK_FULLCKSUM_OK  received: the transport checksum was verified below.
 * HW_LSO            a TCP segment longer than the link MTU, to be cut into
 *                   segments of db_lsomss payload bytes (always with
 *                   HCK_PARTIALCKSUM); received: several segments of that
 *                   size coalesced by the peer (GRO).
 *
 * Producers set these on the first block; code that gives a packet a new
 * first block carries them over (us_offload_copy).  copyb(), msgpullup(),
 * pullupmsg() and us_msgpullup_all() do.
 */
#define HCK_PARTIALCKSUM 0x02
#define HCK_FULLCKSUM_OK 0x08
#define HW_LSO 0x10
#define DB_CKSUMFLAGS(mp) ((mp)->b_datap->db_cksumflags)
#define DB_CKSUMSTART(mp) ((mp)->b_datap->db_cksumstart)
#define DB_CKSUMSTUFF(mp) ((mp)->b_datap->db_cksumstuff)
#define DB_LSOMSS(mp) ((mp)->b_datap->db_lsomss)

/* Message block: a window [b_rptr, b_wptr) onto a data block. */
typedef struct msgb {
	struct msgb *b_next;   /* next message on a queue */
	struct msgb *b_prev;   /* previous message on a queue */
	struct msgb *b_cont;   /* next block of this message */
	unsigned char *b_rptr; /* first unread byte */
	unsigned char *b_wptr; /* one past the last written byte */
	struct datab *b_datap; /* the data block */
	unsigned char b_band;  /* priority band, 0..255 */
	unsigned char b_pad1;
	unsigned short b_flag; /* MSG* flags */
	uint32_t b_queued;     /* private: on a queue (debug check) */
} mblk_t;

/* strsun.h helpers */
#define DB_BASE(mp) ((mp)->b_datap->db_base)
#define DB_LIM(mp) ((mp)->b_datap->db_lim)
#define DB_REF(mp) ((mp)->b_datap->db_ref)
#define DB_TYPE(mp) ((mp)->b_datap->db_type)
#define DB_FLAGS(mp) ((mp)->b_datap->db_flags)
#define MBLKL(mp) ((size_t)((mp)->b_wptr - (mp)->b_rptr))
#define MBLKSIZE(mp) ((size_t)((mp)->b_datap->db_lim - (mp)->b_datap->db_base))
#define MBLKHEAD(mp) ((size_t)((mp)->b_rptr - (mp)->b_datap->db_base))
#define MBLKTAIL(mp) ((size_t)((mp)->b_datap->db_lim - (mp)->b_wptr))
#define MBLKIN(mp, off, len) \
	(((off) <= MBLKL(mp)) && (((mp)->b_rptr + (off) + (len)) <= (mp)->b_wptr))

/* Copies the offload metadata (HCK_*, HW_LSO) of from's dblk to to's. */
static inline void
us_offload_copy(mblk_t *to, const mblk_t *from)
{
	to->b_datap->db_cksumflags = from->b_datap->db_cksumflags;
	to->b_datap->db_cksumstart = from->b_datap->db_cksumstart;
	to->b_datap->db_cksumstuff = from->b_datap->db_cksumstuff;
	to->b_datap->db_lsomss = from->b_datap->db_lsomss;
}

/* ------------------------------------------------------------------ */
/* Queues                                                             */
/* ------------------------------------------------------------------ */

struct queue;
typedef int (*pfi_put_t)(struct queue *q, mblk_t *mp);
typedef int (*pfi_srv_t)(struct queue *q);
typedef int (*pfi_open_t)(struct queue *rq, dev_t *devp, int oflag, int sflag, cred_t *crp);
typedef int (*pfi_close_t)(struct queue *rq, int flag, cred_t *crp);
typedef int (*pfi_admin_t)(void);

struct module_info {
	unsigned short mi_idnum; /* module id number */
	const char *mi_idname;   /* module name */
	ssize_t mi_minpsz;       /* minimum packet size */
	ssize_t mi_maxpsz;       /* maximum packet size, INFPSZ for no limit */
	size_t mi_hiwat;         /* high water mark */
	size_t mi_lowat;         /* low water mark */
};

#define INFPSZ (-1)

struct module_stat {
	long ms_pcnt, ms_scnt, ms_ocnt, ms_ccnt, ms_acnt;
	char *ms_xptr;
	short ms_xsize;
	unsigned int ms_flags;
};

struct qinit {
	pfi_put_t qi_putp;            /* put procedure */
	pfi_srv_t qi_srvp;            /* service procedure, or NULL */
	pfi_open_t qi_qopen;          /* open (read side only) */
	pfi_close_t qi_qclose;        /* close (read side only) */
	pfi_admin_t qi_qadmin;        /* unused */
	struct module_info *qi_minfo; /* limits and name */
	struct module_stat *qi_mstat; /* optional statistics */
};

struct streamtab {
	struct qinit *st_rdinit;
	struct qinit *st_wrinit;
	struct qinit *st_muxrinit; /* lower read side of a multiplexor */
	struct qinit *st_muxwinit; /* lower write side of a multiplexor */
};

/* Per-band state, created on demand for bands 1..255. */
typedef struct qband {
	struct qband *qb_next; /* next (higher numbered) band */
	size_t qb_count;       /* bytes queued in this band */
	struct msgb *qb_first; /* first message of this band */
	struct msgb *qb_last;  /* last message of this band */
	size_t qb_hiwat;
	size_t qb_lowat;
	unsigned int qb_flag; /* QB_* */
	size_t qb_mblkcnt;    /* message blocks queued */
} qband_t;

#define QB_FULL 0x01
#define QB_WANTW 0x02
#define QB_BACK 0x04

typedef struct queue {
	struct qinit *q_qinfo; /* procedures and limits */
	struct msgb *q_first;  /* first queued message */
	struct msgb *q_last;   /* last queued message */
	struct queue *q_next;  /* next queue in this direction */
	struct queue *q_link;  /* next queue on the run list */
	void *q_ptr;           /* module private data */
	size_t q_count;        /* bytes queued in band 0 (incl. high priority) */
	unsigned int q_flag;   /* Q* flags */
	ssize_t q_minpsz;
	ssize_t q_maxpsz;
	size_t q_hiwat;
	size_t q_lowat;
	struct qband *q_bandp; /* band list, band 1 first */
	unsigned char q_nband; /* number of bands allocated */
	unsigned char q_pad[3];
	size_t q_mblkcnt;           /* blocks queued in band 0 */
	struct queue *q_nfsrv;      /* next queue at or after this with a service proc */
	struct queue *q_nbsrv;      /* nearest queue behind this with a service proc */
	struct us_stream *q_stream; /* the stream this queue belongs to */
	/* private to the engine */
	struct queue *q_defer_next; /* on the world's deferred-put list */
	struct msgb *q_defer_first; /* deferred puts waiting for this queue */
	struct msgb *q_defer_last;
	uint32_t q_magic;
	uint32_t q_nmsgs; /* messages queued, all bands */
} queue_t;

/* q_flag (illumos values where they exist) */
#define QENAB 0x00000001  /* on the run list */
#define QWANTR 0x00000002 /* someone wants to read */
#define QWANTW 0x00000004 /* someone wants to write */
#define QFULL 0x00000008  /* band 0 full */
#define QREADR 0x00000010 /* read side of the pair */
#define QUSE 0x00000020   /* allocated */
#define QNOENB 0x00000040 /* putq does not enable (noenable) */
#define QBACK 0x00000100  /* back-enabled */
#define QHLIST 0x00000200 /* stream head queue */
#define QPAIR 0x00000800
#define QINSERVICE 0x00010000 /* service procedure running */
#define QEND 0x00040000       /* end of the stream (no q_next by design) */
#define QISDRV 0x00200000     /* driver queue */
#define QPROCSOFF 0x01000000  /* qprocsoff(): bypassed by putnext */
#define QMUXLOWER 0x02000000  /* lower stream of a multiplexor */

/* strqget/strqset fields */
typedef enum qfields {
	QHIWAT = 0,
	QLOWAT = 1,
	QMAXPSZ = 2,
	QMINPSZ = 3,
	QCOUNT = 4,
	QFIRST = 5,
	QLAST = 6,
	QFLAG = 7,
	QSTRUIOT = 8,
	QBAD = 9
} qfields_t;

#define RD(q) ((q)->q_flag & QREADR ? (q) : (q)-1)
#define WR(q) ((q)->q_flag & QREADR ? (q) + 1 : (q))
#define OTHERQ(q) ((q)->q_flag & QREADR ? (q) + 1 : (q)-1)
#define SAMESTR(q) ((q)->q_next != NULL && (((q)->q_flag ^ (q)->q_next->q_flag) & QREADR) == 0)

/* open() sflag values */
#define MODOPEN 0x1
#define CLONEOPEN 0x2

/* ------------------------------------------------------------------ */
/* ioctl and control structures                                       */
/* ------------------------------------------------------------------ */

struct iocblk {
	int ioc_cmd;            /* command */
	cred_t *ioc_cr;         /* credentials */
	unsigned int ioc_id;    /* id, matches the reply to the request */
	unsigned int ioc_flag;  /* IOC_* */
	size_t ioc_count;       /* bytes in b_cont, or TRANSPARENT */
	int ioc_rval;           /* return value */
	int ioc_error;          /* errno */
	uint32_t ioc_filler[2]; /* pads to sizeof(struct copyreq), as illumos */
};
#define TRANSPARENT ((size_t)-1)
#define IOC_NATIVE 0x0
#define IOC_NONE 0x0

struct copyreq {
	int cq_cmd;
	cred_t *cq_cr;
	unsigned int cq_id;
	unsigned int cq_flag;
	mblk_t *cq_private; /* for the module; returned in cp_private */
	caddr_t cq_addr;    /* user address */
	size_t cq_size;
};
#define STRCANON 0x01
#define RECOPY 0x02

struct copyresp {
	int cp_cmd;
	cred_t *cp_cr;
	unsigned int cp_id;
	unsigned int cp_flag;
	mblk_t *cp_private;
	caddr_t cp_rval;       /* 0 on success, else failure */
	uint32_t cp_filler[2]; /* pads to sizeof(struct copyreq) */
};

/* The three ioctl structures have one size so a module can turn one into
 * another in place (mcopyin/mcopyout). */
_Static_assert(sizeof(struct iocblk) == sizeof(struct copyreq), "iocblk size");
_Static_assert(sizeof(struct copyresp) == sizeof(struct copyreq), "copyresp size");

struct linkblk {
	queue_t *l_qtop; /* lowest write queue of the upper stream */
	queue_t *l_qbot; /* highest write queue of the lower stream */
	int l_index;     /* muxid */
};

struct stroptions {
	unsigned int so_flags;
	short so_readopt;
	unsigned short so_wroff;
	ssize_t so_minpsz;
	ssize_t so_maxpsz;
	size_t so_hiwat;
	size_t so_lowat;
	unsigned char so_band;
	unsigned short so_erropt;
	ssize_t so_maxblk;
	unsigned short so_copyopt;
	unsigned short so_tail;
};

#define SO_ALL 0x003f
#define SO_READOPT 0x0001
#define SO_WROFF 0x0002
#define SO_MINPSZ 0x0004
#define SO_MAXPSZ 0x0008
#define SO_HIWAT 0x0010
#define SO_LOWAT 0x0020
#define SO_MREADON 0x0040
#define SO_MREADOFF 0x0080
#define SO_NDELON 0x0100
#define SO_NDELOFF 0x0200
#define SO_ISTTY 0x0400
#define SO_ISNTTY 0x0800
#define SO_TOSTOP 0x1000
#define SO_TONSTOP 0x2000
#define SO_BAND 0x4000
#define SO_DELIM 0x8000
#define SO_NODELIM 0x010000
#define SO_STRHOLD 0x020000
#define SO_ERROPT 0x040000
#define SO_COPYOPT 0x080000
#define SO_MAXBLK 0x100000
#define SO_TAIL 0x200000

/* ------------------------------------------------------------------ */
/* Device numbers                                                     */
/* ------------------------------------------------------------------ */

#define US_NBITSMINOR 20
#define US_MAXMIN ((1U << US_NBITSMINOR) - 1)
#define getmajor(dev) ((unsigned int)((dev) >> US_NBITSMINOR))
#define getminor(dev) ((unsigned int)((dev)&US_MAXMIN))
#define makedevice(maj, min) ((dev_t)(((dev_t)(maj) << US_NBITSMINOR) | ((min)&US_MAXMIN)))

/* ------------------------------------------------------------------ */
/* Message functions (core/msg.c)                                     */
/* ------------------------------------------------------------------ */

/* Returns a new M_DATA message of at least size bytes, b_rptr == b_wptr ==
 * db_base; NULL when memory is short (caller may bufcall()). */
mblk_t *allocb(size_t size, unsigned int pri);
/* Wraps a caller's buffer; frtnp->free_func(free_arg) runs when the last
 * reference is freed.  The frtn_t must outlive the message. */
mblk_t *esballoc(unsigned char *base, size_t size, unsigned int pri, frtn_t *frtnp);
/* Like esballoc; the free routine is called on the freeing thread without
 * deferral (in ustreams both call it synchronously). */
mblk_t *desballoc(unsigned char *base, size_t size, unsigned int pri, frtn_t *frtnp);
/* Frees one block (consumes it); the data goes when db_ref drops to 0. */
void freeb(mblk_t *bp);
/* Frees every block of the b_cont chain (consumes it). NULL is allowed. */
void freemsg(mblk_t *mp);
/* New block sharing bp's data (bp is not consumed); NULL past DBLK_REFMAX. */
mblk_t *dupb(mblk_t *bp);
/* dupb of every block; NULL (nothing allocated) on failure. */
mblk_t *dupmsg(mblk_t *mp);
/* Copy of one block with the same read offset and type (bp not consumed). */
mblk_t *copyb(mblk_t *bp);
/* copyb of every block (mp not consumed). */
mblk_t *copymsg(mblk_t *mp);
/* Appends bp at the end of mp's b_cont chain (bp consumed into mp). */
void linkb(mblk_t *mp, mblk_t *bp);
/* Detaches and returns mp->b_cont (mp keeps its first block). */
mblk_t *unlinkb(mblk_t *mp);
/* Removes bp from mp; returns the new head, NULL if none left, or
 * (mblk_t *)-1 when bp is not in mp.  bp is not freed. */
mblk_t *rmvb(mblk_t *mp, mblk_t *bp);
/* Concatenates the first len bytes (-1: all) of the leading blocks of the
 * same type into the first block, in place.  Returns 1 on success, 0 on
 * failure (not enough bytes of that type, or no memory). */
int pullupmsg(mblk_t *mp, ssize_t len);
/* Like pullupmsg but returns a new message (mp not consumed): the first len
 * bytes (-1: all of the leading same-type blocks) in one block, followed by
 * copies/dups of the rest.  NULL on failure. */
mblk_t *msgpullup(mblk_t *mp, ssize_t len);
/* Trims len bytes from the head (len > 0) or the tail (len < 0) of the
 * leading run of same-type blocks.  Returns 1, or 0 if there are not enough. */
int adjmsg(mblk_t *mp, ssize_t len);
/* Bytes in the M_DATA blocks of mp (not consumed). */
size_t msgdsize(const mblk_t *mp);
/* Total bytes in all blocks. */
size_t msgsize(const mblk_t *mp);
/* 1 if allocb(size, pri) would succeed now. */
int testb(size_t size, unsigned int pri);
/* Allocates an M_IOCTL message with an iocblk for cmd and a fresh ioc_id. */
mblk_t *mkiocb(unsigned int cmd);
/* Copies the message into one block (mp not consumed). */
mblk_t *us_msgpullup_all(mblk_t *mp);
/* Copies len bytes starting at offset off into buf; returns bytes copied. */
size_t us_msgcopyout(const mblk_t *mp, size_t off, void *buf, size_t len);
/* Allocates one M_DATA message holding a copy of buf[0..len). */
mblk_t *us_msg_from(const void *buf, size_t len, size_t headroom);

#define datamsg(type) \
	((type) == M_DATA || (type) == M_PROTO || (type) == M_PCPROTO || (type) == M_DELAY)
#define queclass(bp) (DB_TYPE(bp) >= QPCTL ? QPCTL : 0)

/* bufcall: call func(arg) on the calling world when a buffer of size may be
 * available.  Returns 0 if it cannot register. */
bufcall_id_t bufcall(size_t size, unsigned int pri, void (*func)(void *), void *arg);
bufcall_id_t esbbcall(unsigned int pri, void (*func)(void *), void *arg);
void unbufcall(bufcall_id_t id);

/* strsun.h helpers.  miocack, miocnak and merror consume mp (they reply);
 * mcopyin and mcopyout rewrite mp in place into an M_COPYIN/M_COPYOUT
 * request that the caller sends with qreply(); mcopyout consumes dp. */
void miocack(queue_t *wq, mblk_t *mp, int count, int rval);
void miocnak(queue_t *wq, mblk_t *mp, int count, int error);
void mcopyin(mblk_t *mp, void *priv, size_t size, void *uaddr);
void mcopyout(mblk_t *mp, void *priv, size_t size, void *uaddr, mblk_t *dp);
void merror(queue_t *wq, mblk_t *mp, int error);
/* Reuses mp if it is big enough and not shared, else frees it and allocates;
 * sets type and length. NULL when allocation fails (mp freed). */
mblk_t *mexchange(queue_t *wq, mblk_t *mp, size_t size, unsigned char type, int32_t primtype);

/* ------------------------------------------------------------------ */
/* Queue functions (core/queue.c, core/sched.c)                       */
/* ------------------------------------------------------------------ */

int put(queue_t *q, mblk_t *mp);
int putnext(queue_t *q, mblk_t *mp);
void qreply(queue_t *q, mblk_t *mp);
int putq(queue_t *q, mblk_t *mp);
int putbq(queue_t *q, mblk_t *mp);
mblk_t *getq(queue_t *q);
int insq(queue_t *q, mblk_t *emp, mblk_t *mp);
void rmvq(queue_t *q, mblk_t *mp);
void flushq(queue_t *q, int flag);
void flushband(queue_t *q, unsigned char pri, int flag);
int canput(queue_t *q);
int canputnext(queue_t *q);
int bcanput(queue_t *q, unsigned char pri);
int bcanputnext(queue_t *q, unsigned char pri);
void qenable(queue_t *q);
void noenable(queue_t *q);
void enableok(queue_t *q);
int qsize(queue_t *q);
queue_t *backq(queue_t *q);
int putctl(queue_t *q, int type);
int putctl1(queue_t *q, int type, int param);
int putnextctl(queue_t *q, int type);
int putnextctl1(queue_t *q, int type, int param);
void qprocson(queue_t *rq);
void qprocsoff(queue_t *rq);
int strqget(queue_t *q, qfields_t what, unsigned char pri, intptr_t *valp);
int strqset(queue_t *q, qfields_t what, unsigned char pri, intptr_t val);
void setq(queue_t *rq, struct qinit *rinit, struct qinit *winit);

/* Canonical M_FLUSH handling for a module (consumes mp): flushes this
 * module's queues as asked and passes the message on; a driver turns it
 * around (qreply with FLUSHW cleared) when FLUSHR is set. */
void us_default_flush(queue_t *q, mblk_t *mp);
/* Default for a message a module does not handle (consumes mp): M_FLUSH as
 * above; M_IOCTL NAKed with EINVAL at a driver (no q_next) and passed on
 * otherwise; everything else passed on with putnext, or freed at a driver. */
void us_default_put(queue_t *q, mblk_t *mp);
/* A put procedure that passes every message on (consumes mp): for the read
 * side of drivers and for modules that only act on one side. */
int us_putnext_put(queue_t *q, mblk_t *mp);

/* ------------------------------------------------------------------ */
/* Time (core/sched.c)                                                */
/* ------------------------------------------------------------------ */

#define HZ 1000
clock_t drv_usectohz(clock_t us);
clock_t drv_hztousec(clock_t ticks);
/* Ticks since the world started, on the calling world's clock. */
clock_t ddi_get_lbolt(void);
int64_t ddi_get_lbolt64(void);

timeout_id_t qtimeout(queue_t *q, void (*func)(void *), void *arg, clock_t ticks);
/* Returns the ticks left, or -1 if the timeout already ran or is unknown. */
clock_t quntimeout(queue_t *q, timeout_id_t id);
bufcall_id_t qbufcall(queue_t *q, size_t size, unsigned int pri, void (*func)(void *), void *arg);
void qunbufcall(queue_t *q, bufcall_id_t id);
/* Un-queued timeouts (SVR4 timeout/untimeout) on the calling world. */
timeout_id_t timeout(void (*func)(void *), void *arg, clock_t ticks);
clock_t untimeout(timeout_id_t id);

#ifdef __cplusplus
}
#endif

#endif /* USTREAMS_STREAM_H */
