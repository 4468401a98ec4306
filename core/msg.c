/* SPDX-License-Identifier: MIT */
/*
 * msg.c -- message memory and the DDI message functions (allocb ... adjmsg,
 * mkiocb, mcopyin/mcopyout) plus the allocator controls of debug.h.
 *
 * Theory
 * ------
 * allocb() is the hot path of every stack, so a small message is ONE object
 * taken from a per-thread free list: the mblk, the dblk and the data buffer
 * live in a single allocation, and steady state does no malloc.
 *
 *   UsMsgObj (one allocation)
 *   +--------------------------------+---------+------------+------------------+
 *   | UsMblkBox                      | dblk_t  | holds,size | data             |
 *   |  mh_next mh_kind mh_pool mblk  |         |            | (class size)     |
 *   +--------------------------------+---------+------------+------------------+
 *   ^ free-list link   ^ db_mblk        db_base ----------->^ US_OBJ_HDR (aligned)
 *
 * Every mblk_t lives in a UsMblkBox; the small header in front of it says
 * where the mblk came from (mh_kind) and where its memory goes back to
 * (mh_pool).  The mblk of an object is "embedded"; a dupb() mblk is a "bare"
 * box from a pool of its own.  esballoc() objects have no data (the buffer is
 * the caller's).  Sizes above the largest class, and everything when
 * US_NOPOOL is set, are malloc'd with header and data in one block and freed
 * straight away (pool US_POOL_NONE).  db_class mirrors the pool index.
 *
 * Ownership and lifetime.  db_ref counts the mblks that point at a dblk,
 * whatever box they live in.  An object is released when BOTH its dblk has
 * died (db_ref reached 0; esballoc's free routine runs then, exactly once)
 * AND its embedded mblk has been freed.  The two events can happen in either
 * order and on different threads (a dup outlives the original, or pullupmsg()
 * moved the embedded mblk onto another dblk), so each holds one count in
 * mo_holds and whoever drops the last one releases the memory and kicks
 * pending bufcalls.  db_ref is updated atomically because message functions
 * may be called from any thread.
 *
 * Caches.  Each thread has a free list per pool, capped (US_CACHE_MAX
 * objects or US_CACHE_BUDGET bytes, whichever is fewer).  When a list is
 * full, half of it moves to a shared depot (a mutex-protected list per pool,
 * at most US_DEPOT_FACTOR caps), and an empty list refills from the depot
 * before calling malloc.  The depot is what keeps a producer thread (user
 * API) and a consumer thread (the stack) from mallocing every message.  A
 * thread's lists are freed when the thread exits (GPrivate destructor).
 *
 * Debug checks (US_DEBUG_CHECKS): freed boxes, dblks and pooled data are
 * poisoned with 0x6b and the poison is verified when a pooled object is
 * reused (catching writes after free); db_magic is checked on every entry.
 * A freed box has mh_kind == US_MB_FREE in every build, so freeing a block
 * twice is caught (g_error) as long as its memory has not been reused.
 *
 * Deviations from illumos:
 *  - esballoc()'s free routine runs synchronously on the freeing thread, like
 *    desballoc()'s (illumos defers esballoc's to a taskq).  desballoc() marks
 *    the dblk with DBLK_REFMIN.
 *  - With US_NOPOOL the buffer is exactly the size asked for, so Valgrind sees
 *    overruns; pooled buffers have the class size in db_lim, as illumos.
 *  - pullupmsg() moves into a new dblk of exactly len bytes (as illumos) but
 *    treats "aligned" as 8-byte aligned; a first block that already holds all
 *    the bytes asked for (len -1: the whole leading run) is left alone even
 *    when zero-length blocks of the same type follow.
 *  - msgpullup() pulls up exactly len bytes (illumos pulls up the whole leading
 *    run whatever len is) and dupmsg()s the rest, the first dup starting
 *    where the pulled-up bytes stopped.
 *  - adjmsg() removes and frees blocks other than the first that it empties
 *    (as illumos does); the first block stays, possibly empty, so mp keeps
 *    its identity.
 *  - mcopyin()/mcopyout() give the message a private, big enough block when
 *    the M_IOCTL block is shared or too small for a struct copyreq (illumos
 *    sizes all ioctl blocks for the largest of the three structures; mkiocb()
 *    here does too).  If that allocation fails the ioctl is NAKed in place
 *    with ENOSR so the caller's qreply() still answers it.
 *  - freeb(NULL) is a programming error (g_critical); freemsg(NULL) is fine.
 */
#define G_LOG_DOMAIN "us-msg"

#include "internal.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef US_DEBUG_CHECKS
#define US_DEBUG_CHECKS 0
#endif

/* ------------------------------------------------------------------ */
/* Object layout                                                      */
/* ------------------------------------------------------------------ */

#define US_MB_EMBEDDED 0x6d626f65U /* "mboe": the mblk of a UsMsgObj */
#define US_MB_BARE 0x6d626261U     /* "mbba": a dupb() mblk on its own */
#define US_MB_FREE 0x6b6b6b6bU     /* freed; equal to the poison pattern */
#define US_POISON 0x6b
#define US_DBLK_DEAD 0x6b6b6b6bU /* db_magic once db_ref reached 0 */

typedef struct us_mblk_box {
	struct us_mblk_box *mh_next; /* free-list link while cached; never poisoned */
	uint32_t mh_kind;            /* US_MB_*: how freeb() releases this mblk */
	uint32_t mh_pool;            /* pool the memory returns to */
	mblk_t mh_mblk;              /* the block handed out */
} UsMblkBox;

typedef struct us_msg_obj {
	UsMblkBox mo_box;    /* embedded mblk; first, so free lists hold boxes */
	dblk_t mo_dblk;      /* the data block; db_mblk points at mo_box.mh_mblk */
	atomic_int mo_holds; /* 1 while db_ref > 0, plus 1 while the embedded mblk lives */
	size_t mo_objsize;   /* bytes allocated, header included */
} UsMsgObj;

#define US_ALIGN alignof(max_align_t)
/* Data starts here: the header rounded up so db_base is max-aligned. */
#define US_OBJ_HDR ((sizeof(UsMsgObj) + US_ALIGN - 1) / US_ALIGN * US_ALIGN)
/* pullupmsg() leaves a block alone only if b_rptr is this aligned. */
#define US_PULLUP_ALIGN 8U

#define US_CONTAINER_OF(p, type, member) \
	((type *)(void *)((char *)(uintptr_t)(p)-offsetof(type, member)))

static inline UsMblkBox *
box_of(const mblk_t *bp)
{
	return US_CONTAINER_OF(bp, UsMblkBox, mh_mblk);
}

static inline UsMsgObj *
obj_of_dblk(const dblk_t *dbp)
{
	return US_CONTAINER_OF(dbp, UsMsgObj, mo_dblk);
}

static inline unsigned char *
obj_data(UsMsgObj *obj)
{
	return (unsigned char *)obj + US_OBJ_HDR;
}

/* The ioctl structures share their first four fields, which is what lets
 * mcopyin()/mcopyout() turn an iocblk (or a copyresp) into a copyreq. */
_Static_assert(offsetof(struct iocblk, ioc_cr) == offsetof(struct copyreq, cq_cr), "iocblk");
_Static_assert(offsetof(struct iocblk, ioc_id) == offsetof(struct copyreq, cq_id), "iocblk");
_Static_assert(offsetof(struct iocblk, ioc_flag) == offsetof(struct copyreq, cq_flag), "ioc");
_Static_assert(offsetof(struct copyresp, cp_flag) == offsetof(struct copyreq, cq_flag), "cp");

/* Bytes mkiocb() reserves: room for any of the three ioctl structures. */
#define US_IOC_SIZE MAX(sizeof(struct iocblk), MAX(sizeof(struct copyreq), sizeof(struct copyresp)))

/* ------------------------------------------------------------------ */
/* Pools                                                              */
/* ------------------------------------------------------------------ */

enum {
	US_NCLASS = 10,          /* data classes, us_class_size[] */
	US_POOL_ESB = US_NCLASS, /* header-only objects for esballoc */
	US_POOL_BARE,            /* bare mblks for dupb */
	US_NPOOLS,
	US_POOL_NONE = 0xff, /* malloc'd and freed directly */
};

/* Data bytes per class: small control messages, Ethernet frames, jumbo
 * frames (9216) and TSO-sized super-packets (a 64 KiB IP packet with its
 * link header, as a TAP with offloads hands them over). */
static const size_t us_class_size[US_NCLASS] = { 64,   128,  256,  512,   1024,
						 2048, 4096, 9216, 16384, 65536 + 128 };

#define US_CACHE_MAX 256U          /* objects per thread and pool */
#define US_CACHE_MIN 8U            /* even for 64 KiB objects */
#define US_CACHE_BUDGET (2U << 20) /* bytes per thread and pool */
#define US_DEPOT_FACTOR 4U         /* depot holds this many caps per pool */

typedef struct {
	UsMblkBox *fl_head;
	guint fl_count;
} UsFreeList;

typedef struct us_thread_cache {
	UsFreeList tc_list[US_NPOOLS];
	gint64 tc_mblks;                 /* mblks allocated minus freed on this thread */
	gint64 tc_dblks;                 /* dblks likewise */
	struct us_thread_cache *tc_next; /* all live caches (us_tc_lock) */
} UsThreadCache;

typedef struct {
	GMutex dp_lock; /* statically zeroed GMutex needs no init */
	UsFreeList dp_list;
} UsDepot;

static void tc_destroy(gpointer data);

/* initial-exec TLS: a %fs-relative load instead of __tls_get_addr. */
#define US_TLS _Thread_local __attribute__((tls_model("initial-exec")))
static US_TLS UsThreadCache *us_tc;  /* this thread's lists, made on first use */
static US_TLS gboolean us_tc_exited; /* destructor ran: stop caching */
/* Live counters are per thread (no atomic per message): the totals are the
 * sum over live caches plus what exited threads and cache-less frees left
 * in the atomics below. */
static GMutex us_tc_lock;
static UsThreadCache *us_tc_all;
static GPrivate us_tc_key = G_PRIVATE_INIT(tc_destroy);
static UsDepot us_depot[US_NPOOLS];

/* Counters of debug.h, kept in every build. */
static atomic_llong us_live_mblks; /* remainder outside thread caches */
static atomic_llong us_live_dblks;
static atomic_ullong us_mallocs;
static atomic_uint us_ioc_ids;
static atomic_int us_nopool_state; /* 0 unknown, 1 pooling, 2 US_NOPOOL */

/* Failure injection: us_fail_armed is the lock-free fast path. */
static atomic_int us_fail_armed;
static GMutex us_fail_lock;
static guint us_fail_skip, us_fail_count;

static gboolean
msg_nopool(void)
{
	int s = atomic_load_explicit(&us_nopool_state, memory_order_relaxed);
	if (G_UNLIKELY(s == 0)) {
		/* Racing first callers read the same environment: idempotent. */
		const char *e = g_getenv("US_NOPOOL");
		s = (e != NULL && *e != '\0' && strcmp(e, "0") != 0) ? 2 : 1;
		atomic_store_explicit(&us_nopool_state, s, memory_order_relaxed);
	}
	return s == 2;
}

static inline size_t
pool_objsize(guint pool)
{
	if (pool < US_NCLASS)
		return US_OBJ_HDR + us_class_size[pool];
	if (pool == US_POOL_ESB)
		return US_OBJ_HDR;
	return sizeof(UsMblkBox);
}

static guint
pool_cap_compute(guint pool)
{
	size_t n = US_CACHE_BUDGET / pool_objsize(pool);
	return (guint)CLAMP(n, US_CACHE_MIN, US_CACHE_MAX);
}

static guint us_pool_caps[US_NPOOLS]; /* filled once; 0 means not yet */

static inline guint
pool_cap(guint pool)
{
	guint cap = __atomic_load_n(&us_pool_caps[pool], __ATOMIC_RELAXED);
	if (G_UNLIKELY(cap == 0)) {
		cap = pool_cap_compute(pool);
		__atomic_store_n(&us_pool_caps[pool], cap, __ATOMIC_RELAXED);
	}
	return cap;
}

static guint
size_to_pool(size_t size)
{
	if (msg_nopool())
		return US_POOL_NONE;
	for (guint i = 0; i < US_NCLASS; i++)
		if (size <= us_class_size[i])
			return i;
	return US_POOL_NONE;
}

static inline void
fl_push(UsFreeList *fl, UsMblkBox *box)
{
	box->mh_next = fl->fl_head;
	fl->fl_head = box;
	fl->fl_count++;
}

static inline UsMblkBox *
fl_pop(UsFreeList *fl)
{
	UsMblkBox *box = fl->fl_head;
	if (box != NULL) {
		fl->fl_head = box->mh_next;
		fl->fl_count--;
	}
	return box;
}

static void
fl_move(UsFreeList *dst, UsFreeList *src, guint n)
{
	while (n-- > 0 && src->fl_head != NULL)
		fl_push(dst, fl_pop(src));
}

static void
fl_free_all(UsFreeList *fl)
{
	UsMblkBox *box;
	while ((box = fl_pop(fl)) != NULL)
		free(box);
}

static void
tc_destroy(gpointer data)
{
	UsThreadCache *tc = data;
	for (guint p = 0; p < US_NPOOLS; p++)
		fl_free_all(&tc->tc_list[p]);
	g_mutex_lock(&us_tc_lock);
	for (UsThreadCache **pp = &us_tc_all; *pp; pp = &(*pp)->tc_next) {
		if (*pp == tc) {
			*pp = tc->tc_next;
			break;
		}
	}
	atomic_fetch_add(&us_live_mblks, tc->tc_mblks);
	atomic_fetch_add(&us_live_dblks, tc->tc_dblks);
	g_mutex_unlock(&us_tc_lock);
	free(tc);
	/* Later frees on this exiting thread (other destructors) go to free(). */
	us_tc = NULL;
	us_tc_exited = TRUE;
}

static UsThreadCache *
tc_get(void)
{
	if (G_LIKELY(us_tc != NULL))
		return us_tc;
	if (us_tc_exited)
		return NULL;
	UsThreadCache *tc = calloc(1, sizeof *tc);
	if (tc == NULL)
		return NULL;
	us_tc = tc;
	g_private_set(&us_tc_key, tc);
	g_mutex_lock(&us_tc_lock);
	tc->tc_next = us_tc_all;
	us_tc_all = tc;
	g_mutex_unlock(&us_tc_lock);
	return tc;
}

/* Moves half a cap from a full thread list to the depot, freeing instead
 * what the depot has no room for. */
static void
depot_spill(guint pool, UsFreeList *fl)
{
	guint cap = pool_cap(pool), batch = cap / 2, limit = US_DEPOT_FACTOR * cap;
	UsDepot *d = &us_depot[pool];
	g_mutex_lock(&d->dp_lock);
	guint room = limit - MIN(limit, d->dp_list.fl_count);
	fl_move(&d->dp_list, fl, MIN(batch, room));
	g_mutex_unlock(&d->dp_lock);
	while (fl->fl_count > cap - batch)
		free(fl_pop(fl));
}

static void
depot_refill(guint pool, UsFreeList *fl)
{
	UsDepot *d = &us_depot[pool];
	g_mutex_lock(&d->dp_lock);
	fl_move(fl, &d->dp_list, pool_cap(pool) / 2);
	g_mutex_unlock(&d->dp_lock);
}

static inline void
poison(void *p, size_t n)
{
	if (US_DEBUG_CHECKS)
		memset(p, US_POISON, n);
}

/* A cached object must still be all poison: anything else is a write after
 * free.  Checks the headers and the start of the data. */
static void
poison_verify(const UsMblkBox *box, size_t objsize)
{
	if (!US_DEBUG_CHECKS)
		return;
	const unsigned char *p = (const unsigned char *)box;
	size_t end = MIN(objsize, US_OBJ_HDR + 64);
	for (size_t i = offsetof(UsMblkBox, mh_kind); i < end; i++)
		if (G_UNLIKELY(p[i] != US_POISON))
			g_error("message memory %p modified after free (offset %zu)", box, i);
}

/* Counts n mblks and d dblks coming (positive) or going (negative). */
static inline void
live_add(gint64 n, gint64 d)
{
	UsThreadCache *tc = us_tc;
	if (G_LIKELY(tc != NULL)) {
		tc->tc_mblks += n;
		tc->tc_dblks += d;
		return;
	}
	if (n)
		atomic_fetch_add_explicit(&us_live_mblks, n, memory_order_relaxed);
	if (d)
		atomic_fetch_add_explicit(&us_live_dblks, d, memory_order_relaxed);
}

static gint64
live_sum(gboolean dblks)
{
	g_mutex_lock(&us_tc_lock);
	gint64 n = atomic_load(dblks ? &us_live_dblks : &us_live_mblks);
	for (UsThreadCache *tc = us_tc_all; tc; tc = tc->tc_next)
		n += dblks ? tc->tc_dblks : tc->tc_mblks;
	g_mutex_unlock(&us_tc_lock);
	return n;
}

static UsMblkBox *
pool_get(guint pool, size_t objsize)
{
	if (pool != US_POOL_NONE) {
		UsThreadCache *tc = tc_get();
		if (tc != NULL) {
			UsFreeList *fl = &tc->tc_list[pool];
			if (fl->fl_head == NULL)
				depot_refill(pool, fl);
			UsMblkBox *box = fl_pop(fl);
			if (box != NULL) {
				poison_verify(box, objsize);
				return box;
			}
		}
	}
	UsMblkBox *box = malloc(objsize);
	if (box != NULL)
		atomic_fetch_add_explicit(&us_mallocs, 1, memory_order_relaxed);
	return box;
}

static void
pool_put(guint pool, UsMblkBox *box, size_t objsize)
{
	poison((char *)box + sizeof box->mh_next, objsize - sizeof box->mh_next);
	box->mh_kind = US_MB_FREE;
	UsThreadCache *tc = pool != US_POOL_NONE ? tc_get() : NULL;
	if (tc == NULL) {
		free(box);
		return;
	}
	UsFreeList *fl = &tc->tc_list[pool];
	if (fl->fl_count >= pool_cap(pool))
		depot_spill(pool, fl);
	fl_push(fl, box);
}

/* ------------------------------------------------------------------ */
/* Failure injection                                                  */
/* ------------------------------------------------------------------ */

/* Consumes one allocation attempt; TRUE if it is to fail. */
static gboolean
fail_inject(void)
{
	if (G_LIKELY(atomic_load_explicit(&us_fail_armed, memory_order_relaxed) == 0))
		return FALSE;
	gboolean fail = FALSE;
	g_mutex_lock(&us_fail_lock);
	if (us_fail_count == 0) {
		/* disarmed meanwhile */
	} else if (us_fail_skip > 0) {
		us_fail_skip--;
	} else {
		fail = TRUE;
		if (--us_fail_count == 0)
			atomic_store(&us_fail_armed, 0);
	}
	g_mutex_unlock(&us_fail_lock);
	return fail;
}

/* TRUE if the next allocation attempt would be failed; consumes nothing. */
static gboolean
fail_peek(void)
{
	if (G_LIKELY(atomic_load_explicit(&us_fail_armed, memory_order_relaxed) == 0))
		return FALSE;
	g_mutex_lock(&us_fail_lock);
	gboolean fail = us_fail_count > 0 && us_fail_skip == 0;
	g_mutex_unlock(&us_fail_lock);
	return fail;
}

void
us_msg_fail_allocs(guint skip, guint count)
{
	g_mutex_lock(&us_fail_lock);
	us_fail_skip = skip;
	us_fail_count = count;
	atomic_store(&us_fail_armed, count > 0);
	g_mutex_unlock(&us_fail_lock);
}

/* ------------------------------------------------------------------ */
/* Object life cycle                                                  */
/* ------------------------------------------------------------------ */

/* Validates a block handed to us; returns its box. */
static inline UsMblkBox *
mblk_checked(const mblk_t *bp, const char *who)
{
	UsMblkBox *box = box_of(bp);
	if (G_UNLIKELY(box->mh_kind != US_MB_EMBEDDED && box->mh_kind != US_MB_BARE))
		g_error("%s: message block %p is not live (freed twice?)", who, (void *)bp);
#if US_DEBUG_CHECKS
	if (G_UNLIKELY(bp->b_datap->db_magic != US_DBLK_MAGIC))
		g_error("%s: data block %p of %p has bad magic %#x", who, (void *)bp->b_datap,
			(void *)bp, bp->b_datap->db_magic);
#endif
	return box;
}

static void
mblk_init(mblk_t *mp, dblk_t *dbp)
{
	mp->b_next = mp->b_prev = mp->b_cont = NULL;
	mp->b_rptr = mp->b_wptr = dbp->db_base;
	mp->b_datap = dbp;
	mp->b_band = 0;
	mp->b_pad1 = 0;
	mp->b_flag = 0;
	mp->b_queued = 0;
}

/* An object of objsize bytes from pool, its dblk describing the buffer
 * [base, base + size) (base NULL: the object's own data area) and its
 * embedded mblk ready to hand out: the two holds of the theory comment. */
static mblk_t *
obj_new(guint pool, size_t objsize, unsigned char *base, size_t size)
{
	UsMsgObj *obj = (UsMsgObj *)pool_get(pool, objsize);
	if (obj == NULL)
		return NULL;
	obj->mo_objsize = objsize;
	atomic_init(&obj->mo_holds, 2);
	obj->mo_box.mh_kind = US_MB_EMBEDDED;
	obj->mo_box.mh_pool = pool;
	if (base == NULL)
		base = obj_data(obj);
	dblk_t *dbp = &obj->mo_dblk;
	dbp->db_frtnp = NULL;
	dbp->db_base = base;
	dbp->db_lim = size > 0 ? base + size : base;
	dbp->db_ref = 1;
	dbp->db_type = M_DATA;
	dbp->db_flags = 0;
	dbp->db_class = (unsigned char)pool;
	dbp->db_mblk = &obj->mo_box.mh_mblk;
	dbp->db_magic = US_DBLK_MAGIC;
	dbp->db_cksumflags = 0;
	dbp->db_cksumstart = 0;
	dbp->db_cksumstuff = 0;
	dbp->db_lsomss = 0;
	mblk_init(dbp->db_mblk, dbp);
	live_add(1, 1);
	return dbp->db_mblk;
}

/* A message with a buffer of at least size bytes; no failure injection. */
static mblk_t *
msg_alloc(size_t size)
{
	if (size > SIZE_MAX - US_OBJ_HDR)
		return NULL;
	guint pool = size_to_pool(size);
	size_t dsize = pool == US_POOL_NONE ? size : us_class_size[pool];
	return obj_new(pool, US_OBJ_HDR + dsize, NULL, dsize);
}

static mblk_t *
bare_alloc(void)
{
	guint pool = msg_nopool() ? US_POOL_NONE : US_POOL_BARE;
	UsMblkBox *box = pool_get(pool, sizeof *box);
	if (box == NULL)
		return NULL;
	box->mh_kind = US_MB_BARE;
	box->mh_pool = pool;
	live_add(1, 0);
	return &box->mh_mblk;
}

static void
obj_drop(UsMsgObj *obj)
{
	if (atomic_fetch_sub_explicit(&obj->mo_holds, 1, memory_order_acq_rel) != 1)
		return;
	pool_put(obj->mo_box.mh_pool, &obj->mo_box, obj->mo_objsize);
	us__bufcall_kick();
}

/* db_ref reached 0: nothing points at dbp any more. */
static void
dblk_last_ref(dblk_t *dbp)
{
	frtn_t *frtnp = dbp->db_frtnp;
	live_add(0, -1);
	if (frtnp != NULL)
		frtnp->free_func(frtnp->free_arg);
	poison(dbp, sizeof *dbp);
	dbp->db_magic = US_DBLK_DEAD;
	obj_drop(obj_of_dblk(dbp));
}

/* The block itself goes; its dblk has already been let go of. */
static void
mblk_release(UsMblkBox *box)
{
	uint32_t kind = box->mh_kind;
	box->mh_kind = US_MB_FREE;
	poison(&box->mh_mblk, sizeof box->mh_mblk);
	if (kind == US_MB_BARE)
		pool_put(box->mh_pool, box, sizeof *box);
	else
		obj_drop((UsMsgObj *)box);
}

/* Takes one more reference on dbp unless it already has DBLK_REFMAX. */
static gboolean
dblk_ref_get(dblk_t *dbp)
{
	unsigned char ref = __atomic_load_n(&dbp->db_ref, __ATOMIC_RELAXED);
	do {
		if (ref >= DBLK_REFMAX)
			return FALSE;
	} while (!__atomic_compare_exchange_n(&dbp->db_ref, &ref, (unsigned char)(ref + 1), TRUE,
					      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* Allocation and freeing                                             */
/* ------------------------------------------------------------------ */

mblk_t *
allocb(size_t size, unsigned int pri)
{
	(void)pri; /* ignored, as in SVR4.2 and illumos */
	if (fail_inject())
		return NULL;
	return msg_alloc(size);
}

static mblk_t *
esb_alloc(unsigned char *base, size_t size, frtn_t *frtnp, unsigned char flags)
{
	g_return_val_if_fail(frtnp != NULL && frtnp->free_func != NULL, NULL);
	g_return_val_if_fail(base != NULL || size == 0, NULL);
	if (fail_inject())
		return NULL;
	guint pool = msg_nopool() ? US_POOL_NONE : US_POOL_ESB;
	mblk_t *mp = obj_new(pool, US_OBJ_HDR, base, size);
	if (mp == NULL)
		return NULL;
	mp->b_datap->db_frtnp = frtnp;
	mp->b_datap->db_flags = flags;
	return mp;
}

mblk_t *
esballoc(unsigned char *base, size_t size, unsigned int pri, frtn_t *frtnp)
{
	(void)pri;
	return esb_alloc(base, size, frtnp, 0);
}

mblk_t *
desballoc(unsigned char *base, size_t size, unsigned int pri, frtn_t *frtnp)
{
	(void)pri;
	return esb_alloc(base, size, frtnp, DBLK_REFMIN);
}

/* freeb() of an object's embedded mblk that is the sole reference to the
 * object's own dblk: both holds go at once, without atomic operations. */
static void
freeb_sole(mblk_t *bp, UsMblkBox *box, dblk_t *dbp)
{
	(void)bp;
	UsMsgObj *obj = obj_of_dblk(dbp);
	frtn_t *frtnp = dbp->db_frtnp;
	dbp->db_ref = 0;
	live_add(0, -1);
	if (frtnp != NULL)
		frtnp->free_func(frtnp->free_arg);
	box->mh_kind = US_MB_FREE;
	if (US_DEBUG_CHECKS) {
		poison(dbp, sizeof *dbp);
		dbp->db_magic = US_DBLK_DEAD;
		poison(&box->mh_mblk, sizeof box->mh_mblk);
	}
	pool_put(obj->mo_box.mh_pool, &obj->mo_box, obj->mo_objsize);
	us__bufcall_kick();
}

/* Consumes bp (one block; b_cont is not looked at). */
void
freeb(mblk_t *bp)
{
	g_return_if_fail(bp != NULL);
	UsMblkBox *box = mblk_checked(bp, "freeb");
#if US_DEBUG_CHECKS
	if (G_UNLIKELY(bp->b_queued))
		g_error("freeb: message block %p is still on a queue", (void *)bp);
#endif
	dblk_t *dbp = bp->b_datap;
	live_add(-1, 0);
	if (box->mh_kind == US_MB_EMBEDDED && dbp->db_mblk == bp &&
	    __atomic_load_n(&dbp->db_ref, __ATOMIC_ACQUIRE) == 1) {
		/* Fast path: the only reference to the object's own data block,
		 * held by its own embedded mblk; nobody else can reach it. */
		freeb_sole(bp, box, dbp);
		return;
	}
	if (__atomic_sub_fetch(&dbp->db_ref, 1, __ATOMIC_ACQ_REL) == 0)
		dblk_last_ref(dbp);
	mblk_release(box);
}

/* Consumes the whole b_cont chain. */
void
freemsg(mblk_t *mp)
{
	while (mp != NULL) {
		mblk_t *next = mp->b_cont;
		freeb(mp);
		mp = next;
	}
}

int
testb(size_t size, unsigned int pri)
{
	(void)pri;
	return size <= SIZE_MAX - US_OBJ_HDR && !fail_peek();
}

/* ------------------------------------------------------------------ */
/* Duplicating and copying (none of these consume their argument)     */
/* ------------------------------------------------------------------ */

mblk_t *
dupb(mblk_t *bp)
{
	g_return_val_if_fail(bp != NULL, NULL);
	mblk_checked(bp, "dupb");
	dblk_t *dbp = bp->b_datap;
	/* A dup refused for db_ref does not use up an injected failure. */
	if (__atomic_load_n(&dbp->db_ref, __ATOMIC_RELAXED) >= DBLK_REFMAX || fail_inject())
		return NULL;
	if (!dblk_ref_get(dbp))
		return NULL;
	mblk_t *nbp = bare_alloc();
	if (nbp == NULL) {
		/* Cannot reach 0: bp still holds its reference. */
		__atomic_sub_fetch(&dbp->db_ref, 1, __ATOMIC_ACQ_REL);
		return NULL;
	}
	mblk_init(nbp, dbp);
	nbp->b_rptr = bp->b_rptr;
	nbp->b_wptr = bp->b_wptr;
	nbp->b_band = bp->b_band;
	nbp->b_flag = bp->b_flag;
	return nbp;
}

mblk_t *
dupmsg(mblk_t *mp)
{
	mblk_t *head = NULL, **tail = &head;
	for (; mp != NULL; mp = mp->b_cont) {
		if ((*tail = dupb(mp)) == NULL) {
			freemsg(head);
			return NULL;
		}
		tail = &(*tail)->b_cont;
	}
	return head;
}

static inline void
copy_bytes(unsigned char *dst, const unsigned char *src, size_t n)
{
	if (n > 0) /* src may be NULL for an empty esballoc buffer */
		memcpy(dst, src, n);
}

/* Type, band and flags of src go to the new block dst. */
static void
copy_meta(mblk_t *dst, const mblk_t *src)
{
	DB_TYPE(dst) = DB_TYPE(src);
	dst->b_band = src->b_band;
	dst->b_flag = src->b_flag;
	us_offload_copy(dst, src); /* same bytes, same packet */
}

mblk_t *
copyb(mblk_t *bp)
{
	g_return_val_if_fail(bp != NULL, NULL);
	mblk_checked(bp, "copyb");
	if (fail_inject())
		return NULL;
	mblk_t *nbp = msg_alloc(MBLKSIZE(bp));
	if (nbp == NULL)
		return NULL;
	copy_meta(nbp, bp);
	nbp->b_rptr = DB_BASE(nbp) + MBLKHEAD(bp);
	nbp->b_wptr = nbp->b_rptr + MBLKL(bp);
	copy_bytes(nbp->b_rptr, bp->b_rptr, MBLKL(bp));
	return nbp;
}

mblk_t *
copymsg(mblk_t *mp)
{
	mblk_t *head = NULL, **tail = &head;
	for (; mp != NULL; mp = mp->b_cont) {
		if ((*tail = copyb(mp)) == NULL) {
			freemsg(head);
			return NULL;
		}
		tail = &(*tail)->b_cont;
	}
	return head;
}

/* ------------------------------------------------------------------ */
/* Chains                                                             */
/* ------------------------------------------------------------------ */

void
linkb(mblk_t *mp, mblk_t *bp)
{
	g_return_if_fail(mp != NULL);
	while (mp->b_cont != NULL)
		mp = mp->b_cont;
	mp->b_cont = bp;
}

mblk_t *
unlinkb(mblk_t *mp)
{
	g_return_val_if_fail(mp != NULL, NULL);
	mblk_t *rest = mp->b_cont;
	mp->b_cont = NULL;
	return rest;
}

mblk_t *
rmvb(mblk_t *mp, mblk_t *bp)
{
	for (mblk_t **pp = &mp; *pp != NULL; pp = &(*pp)->b_cont) {
		if (*pp == bp) {
			*pp = bp->b_cont;
			bp->b_cont = NULL;
			return mp;
		}
	}
	return (mblk_t *)-1;
}

size_t
msgdsize(const mblk_t *mp)
{
	size_t n = 0;
	for (; mp != NULL; mp = mp->b_cont)
		if (DB_TYPE(mp) == M_DATA)
			n += MBLKL(mp);
	return n;
}

size_t
msgsize(const mblk_t *mp)
{
	size_t n = 0;
	for (; mp != NULL; mp = mp->b_cont)
		n += MBLKL(mp);
	return n;
}

/* Bytes in the leading run of blocks that have the first block's type. */
static size_t
lead_size(const mblk_t *mp)
{
	unsigned char type = DB_TYPE(mp);
	size_t n = 0;
	for (; mp != NULL && DB_TYPE(mp) == type; mp = mp->b_cont)
		n += MBLKL(mp);
	return n;
}

/* ------------------------------------------------------------------ */
/* Pulling up and trimming                                            */
/* ------------------------------------------------------------------ */

/*
 * Gives mp a fresh, empty dblk of at least size bytes (same db_type) while mp
 * keeps its identity, as illumos does by swapping mblks: the new object's
 * embedded mblk takes over mp's old data window and b_cont and is returned
 * for the caller to drain, keep or free.  NULL (mp untouched) on failure.
 */
static mblk_t *
mblk_swap_new(mblk_t *mp, size_t size)
{
	if (fail_inject())
		return NULL;
	mblk_t *nb = msg_alloc(size);
	if (nb == NULL)
		return NULL;
	dblk_t *ndbp = nb->b_datap;
	ndbp->db_type = DB_TYPE(mp);
	us_offload_copy(nb, mp); /* mp stays the packet's first block */
	nb->b_datap = mp->b_datap; /* the old dblk keeps its db_ref: nb replaces mp */
	nb->b_rptr = mp->b_rptr;
	nb->b_wptr = mp->b_wptr;
	nb->b_cont = mp->b_cont;
	nb->b_band = mp->b_band;
	nb->b_flag = mp->b_flag;
	mp->b_datap = ndbp;
	mp->b_rptr = mp->b_wptr = ndbp->db_base;
	mp->b_cont = NULL;
	return nb;
}

/* Copies len bytes from the chain bp into mp's block, freeing the blocks
 * it empties; what is left becomes mp's b_cont. */
static void
pullup_absorb(mblk_t *mp, mblk_t *bp, size_t len)
{
	do {
		size_t n = MIN(MBLKL(bp), len);
		copy_bytes(mp->b_wptr, bp->b_rptr, n);
		mp->b_wptr += n;
		bp->b_rptr += n;
		len -= n;
		if (bp->b_rptr != bp->b_wptr)
			break;
		mblk_t *next = bp->b_cont;
		freeb(bp);
		bp = next;
	} while (len > 0 && bp != NULL);
	mp->b_cont = bp;
}

/* Does not consume mp; on success mp is the same block with new contents. */
int
pullupmsg(mblk_t *mp, ssize_t len)
{
	if (mp == NULL || len < -1)
		return 0;
	size_t have = lead_size(mp);
	size_t want = len == -1 ? have : (size_t)len;
	if (want > have)
		return 0;
	if (MBLKL(mp) >= want && ((uintptr_t)mp->b_rptr & (US_PULLUP_ALIGN - 1)) == 0)
		return 1;
	mblk_t *bp = mblk_swap_new(mp, want);
	if (bp == NULL)
		return 0;
	pullup_absorb(mp, bp, want);
	return 1;
}

mblk_t *
msgpullup(mblk_t *mp, ssize_t len)
{
	if (mp == NULL || len < -1)
		return NULL;
	size_t have = lead_size(mp);
	size_t want = len == -1 ? have : (size_t)len;
	if (want > have)
		return NULL;
	mblk_t *nmp = allocb(want, BPRI_MED);
	if (nmp == NULL)
		return NULL;
	copy_meta(nmp, mp);
	/* Copy want bytes; bp/off end up at the first byte not copied. */
	const mblk_t *bp = mp;
	size_t off = 0;
	while (want > 0) {
		size_t n = MIN(MBLKL(bp), want);
		copy_bytes(nmp->b_wptr, bp->b_rptr, n);
		nmp->b_wptr += n;
		want -= n;
		if (n < MBLKL(bp))
			off = n;
		else
			bp = bp->b_cont;
	}
	if (bp != NULL) {
		nmp->b_cont = dupmsg((mblk_t *)(uintptr_t)bp);
		if (nmp->b_cont == NULL) {
			freemsg(nmp);
			return NULL;
		}
		nmp->b_cont->b_rptr += off;
	}
	return nmp;
}

mblk_t *
us_msgpullup_all(mblk_t *mp)
{
	if (mp == NULL)
		return NULL;
	mblk_t *nmp = allocb(msgsize(mp), BPRI_MED);
	if (nmp == NULL)
		return NULL;
	copy_meta(nmp, mp);
	for (const mblk_t *bp = mp; bp != NULL; bp = bp->b_cont) {
		copy_bytes(nmp->b_wptr, bp->b_rptr, MBLKL(bp));
		nmp->b_wptr += MBLKL(bp);
	}
	return nmp;
}

/* Trims len bytes off the front of the leading run (len <= its size). */
static void
adj_head(mblk_t *mp, size_t len)
{
	mblk_t *prev = NULL, *bp = mp;
	while (len > 0) {
		size_t n = MIN(MBLKL(bp), len);
		bp->b_rptr += n;
		len -= n;
		if (bp != mp && bp->b_rptr == bp->b_wptr) {
			prev->b_cont = bp->b_cont;
			freeb(bp);
			bp = prev->b_cont;
		} else {
			prev = bp;
			bp = bp->b_cont;
		}
	}
}

/* Trims len bytes off the end of the leading run (len <= its size). */
static void
adj_tail(mblk_t *mp, size_t len)
{
	unsigned char type = DB_TYPE(mp);
	while (len > 0) {
		mblk_t *prev = NULL, *last = mp;
		while (last->b_cont != NULL && DB_TYPE(last->b_cont) == type) {
			prev = last;
			last = last->b_cont;
		}
		size_t n = MIN(MBLKL(last), len);
		last->b_wptr -= n;
		len -= n;
		if (last != mp && last->b_rptr == last->b_wptr) {
			prev->b_cont = last->b_cont;
			freeb(last);
		}
	}
}

int
adjmsg(mblk_t *mp, ssize_t len)
{
	if (mp == NULL)
		return 0;
	/* |len| without overflowing on SSIZE_MIN */
	size_t n = len < 0 ? (size_t)(-(len + 1)) + 1 : (size_t)len;
	if (n > lead_size(mp))
		return 0;
	if (len > 0)
		adj_head(mp, n);
	else if (len < 0)
		adj_tail(mp, n);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Helpers outside the classic DDI                                    */
/* ------------------------------------------------------------------ */

size_t
us_msgcopyout(const mblk_t *mp, size_t off, void *buf, size_t len)
{
	unsigned char *out = buf;
	size_t done = 0;
	for (; mp != NULL && done < len; mp = mp->b_cont) {
		size_t l = MBLKL(mp);
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t n = MIN(l - off, len - done);
		memcpy(out + done, mp->b_rptr + off, n);
		done += n;
		off = 0;
	}
	return done;
}

mblk_t *
us_msg_from(const void *buf, size_t len, size_t headroom)
{
	if (len > SIZE_MAX - headroom)
		return NULL;
	mblk_t *mp = allocb(headroom + len, BPRI_MED);
	if (mp == NULL)
		return NULL;
	mp->b_rptr += headroom;
	mp->b_wptr = mp->b_rptr + len;
	copy_bytes(mp->b_rptr, buf, len);
	return mp;
}

/* ------------------------------------------------------------------ */
/* ioctl messages                                                     */
/* ------------------------------------------------------------------ */

unsigned int
us__next_ioc_id(void)
{
	unsigned int id;
	do /* 0 means "no id": skip it when the counter wraps */
		id = atomic_fetch_add_explicit(&us_ioc_ids, 1, memory_order_relaxed) + 1;
	while (id == 0);
	return id;
}

mblk_t *
mkiocb(unsigned int cmd)
{
	mblk_t *mp = allocb(US_IOC_SIZE, BPRI_MED);
	if (mp == NULL)
		return NULL;
	DB_TYPE(mp) = M_IOCTL;
	struct iocblk ioc = { .ioc_cmd = (int)cmd, .ioc_id = us__next_ioc_id() };
	memset(mp->b_rptr, 0, US_IOC_SIZE); /* the tail too: a later copyreq is clean */
	memcpy(mp->b_rptr, &ioc, sizeof ioc);
	mp->b_wptr = mp->b_rptr + sizeof ioc;
	return mp;
}

/* Ensures mp's block is private and has room for size bytes from b_rptr,
 * keeping mp's identity, its first bytes and its b_cont. */
static gboolean
ioc_make_room(mblk_t *mp, size_t size)
{
	if (DB_REF(mp) == 1 && MBLKSIZE(mp) - MBLKHEAD(mp) >= size)
		return TRUE;
	mblk_t *old = mblk_swap_new(mp, size);
	if (old == NULL)
		return FALSE;
	size_t n = MIN(MBLKL(old), size);
	memcpy(mp->b_wptr, old->b_rptr, n);
	mp->b_wptr += n;
	mp->b_cont = old->b_cont;
	old->b_cont = NULL;
	freeb(old);
	return TRUE;
}

/* No memory to build the copy request: answer the ioctl with ENOSR instead,
 * in place, so that the caller's qreply() still completes it. */
static void
ioc_nak_nomem(mblk_t *mp)
{
	if (DB_REF(mp) != 1 || MBLKSIZE(mp) - MBLKHEAD(mp) < sizeof(struct iocblk)) {
		g_critical("mcopyin/mcopyout: cannot convert or NAK ioctl message %p", (void *)mp);
		return;
	}
	struct iocblk ioc;
	memcpy(&ioc, mp->b_rptr, MIN(MBLKL(mp), sizeof ioc));
	ioc.ioc_count = 0;
	ioc.ioc_rval = 0;
	ioc.ioc_error = ENOSR;
	memcpy(mp->b_rptr, &ioc, sizeof ioc);
	mp->b_wptr = mp->b_rptr + sizeof ioc;
	DB_TYPE(mp) = M_IOCNAK;
	freemsg(mp->b_cont);
	mp->b_cont = NULL;
}

/* The user address of a transparent ioctl: the word in b_cont. */
static gboolean
ioc_user_addr(const mblk_t *mp, caddr_t *addrp)
{
	if (mp->b_cont == NULL || MBLKL(mp->b_cont) < sizeof(*addrp))
		return FALSE;
	memcpy(addrp, mp->b_cont->b_rptr, sizeof(*addrp));
	return TRUE;
}

/* Rewrites the M_IOCTL/M_IOCDATA block of mp as a copy request of type. */
static gboolean
ioc_to_copyreq(mblk_t *mp, unsigned char type, void *priv, size_t size, void *uaddr)
{
	caddr_t addr = uaddr;
	g_return_val_if_fail(MBLKL(mp) >= offsetof(struct copyreq, cq_private), FALSE);
	if (uaddr == NULL && !ioc_user_addr(mp, &addr)) {
		g_critical("mcopyin/mcopyout: no user address in %p", (void *)mp);
		return FALSE;
	}
	if (!ioc_make_room(mp, sizeof(struct copyreq))) {
		ioc_nak_nomem(mp);
		return FALSE;
	}
	struct copyreq cq = { .cq_private = priv, .cq_addr = addr, .cq_size = size };
	/* cmd, cr and id are where the iocblk (or copyresp) had them */
	memcpy(&cq, mp->b_rptr, offsetof(struct copyreq, cq_flag));
	cq.cq_flag = 0;
	memcpy(mp->b_rptr, &cq, sizeof cq);
	mp->b_wptr = mp->b_rptr + sizeof cq;
	DB_TYPE(mp) = type;
	return TRUE;
}

/* Turns mp into an M_COPYIN request; any b_cont is freed.  mp stays the
 * caller's, to be sent up with qreply(). */
void
mcopyin(mblk_t *mp, void *priv, size_t size, void *uaddr)
{
	g_return_if_fail(mp != NULL);
	if (!ioc_to_copyreq(mp, M_COPYIN, priv, size, uaddr))
		return;
	freemsg(mp->b_cont);
	mp->b_cont = NULL;
}

/* Turns mp into an M_COPYOUT request for size bytes.  dp (consumed), when
 * given, replaces b_cont and is trimmed to size bytes; otherwise the data
 * must already be in b_cont.  mp stays the caller's. */
void
mcopyout(mblk_t *mp, void *priv, size_t size, void *uaddr, mblk_t *dp)
{
	g_return_if_fail(mp != NULL && (dp != NULL || mp->b_cont != NULL));
	g_return_if_fail(dp == NULL || size <= MBLKSIZE(dp) - MBLKHEAD(dp));
	if (!ioc_to_copyreq(mp, M_COPYOUT, priv, size, uaddr)) {
		freemsg(dp);
		return;
	}
	if (dp != NULL) {
		freemsg(mp->b_cont);
		mp->b_cont = dp;
		dp->b_wptr = dp->b_rptr + size;
	}
}

/* ------------------------------------------------------------------ */
/* debug.h                                                            */
/* ------------------------------------------------------------------ */

gint64
us_msg_live_count(void)
{
	return live_sum(FALSE);
}

gint64
us_dblk_live_count(void)
{
	return live_sum(TRUE);
}

gboolean
us_msg_pooling(void)
{
	return !msg_nopool();
}

guint64
us_msg_malloc_count(void)
{
	return atomic_load(&us_mallocs);
}

/* Frees this thread's cached objects and, since it is shared and only a
 * cache, the depot as well. */
void
us_msg_pool_trim(void)
{
	if (us_tc != NULL)
		for (guint p = 0; p < US_NPOOLS; p++)
			fl_free_all(&us_tc->tc_list[p]);
	for (guint p = 0; p < US_NPOOLS; p++) {
		UsFreeList fl = { 0 };
		g_mutex_lock(&us_depot[p].dp_lock);
		fl = us_depot[p].dp_list;
		us_depot[p].dp_list = (UsFreeList){ 0 };
		g_mutex_unlock(&us_depot[p].dp_lock);
		fl_free_all(&fl);
	}
}
