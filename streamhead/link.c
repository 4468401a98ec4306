/* SPDX-License-Identifier: MIT */
/*
 * link.c -- I_LINK, I_PLINK, I_UNLINK, I_PUNLINK: putting a stream below a
 * multiplexing driver, as SVR4 does.
 *
 * Theory
 * ------
 * Linking the stream of descriptor L below the driver of the stream of
 * descriptor U (the controlling stream):
 *   1. checks: U's driver is a multiplexor (US_KIND_MUX); L is not linked
 *      already; L is not U; both are on one stack; the link would not make a
 *      cycle (U's driver reachable from L's driver through existing links);
 *   2. L's head queue pair gets the driver's st_muxrinit/st_muxwinit (the old
 *      head procedures are kept for unlinking) and q_ptr NULL for the driver;
 *   3. U's head sends the driver an M_IOCTL (I_LINK or I_PLINK) whose b_cont
 *      is a struct linkblk { l_qtop: U's driver write queue (NULL for
 *      I_PLINK), l_qbot: L's top write queue, l_index: the muxid };
 *   4. on M_IOCACK the link is recorded and the muxid returned; on M_IOCNAK
 *      L's head is restored and the error returned.
 * While linked, ordinary calls on L fail with EINVAL, and closing L's
 * descriptor only marks it: the stream lives until it is unlinked.
 * I_LINK links belong to U and are undone when U is closed; I_PLINK links
 * persist until I_PUNLINK on any stream of the same driver (MUXID_ALL: all).
 * Unlinking sends I_UNLINK / I_PUNLINK the same way; the link is taken
 * apart even if the driver NAKs it (the error is still returned).
 *
 * Deviations: muxids are unique per stack rather than per driver.
 */
#define G_LOG_DOMAIN "us-head"

#include "head-internal.h"

#include <errno.h>
#include <string.h>

#define US_LINK_TIMEOUT 15 /* seconds for the driver to answer */

typedef struct {
	GList *links; /* UsLink* */
	int next_muxid;
} UsLinkTable;

static void
link_table_free(gpointer p)
{
	UsLinkTable *t = p;
	/* The heads themselves are freed by the stack's head set (head.c). */
	g_list_free_full(t->links, g_free);
	g_free(t);
}

static void link_teardown(gpointer data);

static UsLinkTable *
link_table(UsStack *s)
{
	UsLinkTable *t = us_stack_get_data(s, "us-links");
	if (t == NULL) {
		t = g_new0(UsLinkTable, 1);
		t->next_muxid = 1;
		us_stack_set_data(s, "us-links", t, link_table_free);
		us_stack_add_teardown(s, link_teardown, s);
	}
	return t;
}

static const UsModuleDesc *
driver_desc(UsHead *h)
{
	return us_queue_desc(us_stream_driver_rq(h->sh_st));
}

/* TRUE if `target` is reachable from multiplexor `from` through links. */
static gboolean
mux_reaches(UsLinkTable *t, const UsModuleDesc *from, const UsModuleDesc *target, guint depth)
{
	if (from == target)
		return TRUE;
	if (depth > 64)
		return TRUE; /* refuse absurd depths as cycles */
	for (GList *l = t->links; l; l = l->next) {
		UsLink *ln = l->data;
		if (ln->ln_mux == from &&
		    mux_reaches(t, driver_desc(ln->ln_lower), target, depth + 1))
			return TRUE;
	}
	return FALSE;
}

typedef struct {
	UsHead *lower;
	int cmd;
	int muxid;
	UsLink *link; /* once prepared */
} LinkArgs;

static int
link_check(UsHead *h, LinkArgs *a)
{
	const UsModuleDesc *mux = driver_desc(h);
	int r = us__head_check_open(h);
	if (r != 0)
		return r;
	if (h->sh_hangup)
		return -ENXIO;
	if (mux == NULL || mux->kind != US_KIND_MUX)
		return -EINVAL;
	if (a->lower == h || a->lower->sh_linked != NULL || a->lower->sh_stack != h->sh_stack)
		return -EINVAL;
	if (mux_reaches(link_table(h->sh_stack), driver_desc(a->lower), mux, 0))
		return -EINVAL; /* would make a cycle */
	return 0;
}

/* Gives the lower stream's head pair to the driver (world thread). */
static void
lower_take(UsHead *lower, const UsModuleDesc *mux)
{
	queue_t *rq = us__head_rq(lower);
	lower->sh_save_rinit = rq->q_qinfo;
	lower->sh_save_winit = WR(rq)->q_qinfo;
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	setq(rq, mux->streamtab->st_muxrinit, mux->streamtab->st_muxwinit);
	/* Drops, statistics and parameters on the lower queues are the
	 * driver's while linked. */
	US_QPAIR(rq)->qp_desc = mux;
}

static void
lower_give_back(UsHead *lower)
{
	queue_t *rq = us__head_rq(lower);
	setq(rq, lower->sh_save_rinit, lower->sh_save_winit);
	rq->q_ptr = WR(rq)->q_ptr = lower;
	US_QPAIR(rq)->qp_desc = &us_strhead_desc;
	lower->sh_linked = NULL;
	us__head_changed(lower);
}

static int
op_link_prepare(UsHead *h, gpointer data)
{
	LinkArgs *a = data;
	int r = link_check(h, a);
	if (r != 0)
		return r;
	UsLinkTable *t = link_table(h->sh_stack);
	UsLink *ln = g_new0(UsLink, 1);
	ln->ln_muxid = t->next_muxid++;
	ln->ln_cmd = a->cmd;
	ln->ln_upper = a->cmd == I_LINK ? h : NULL;
	ln->ln_lower = a->lower;
	ln->ln_mux = driver_desc(h);
	a->lower->sh_linked = ln;
	lower_take(a->lower, ln->ln_mux);
	a->link = ln;
	return 0;
}

static mblk_t *
link_ioctl_msg(UsHead *h, int cmd, UsLink *ln)
{
	mblk_t *mp = mkiocb((unsigned int)cmd);
	if (mp == NULL)
		return NULL;
	struct linkblk lb = {
		.l_qtop = ln->ln_cmd == I_LINK ? WR(us_stream_driver_rq(h->sh_st)) : NULL,
		.l_qbot = us__head_wq(ln->ln_lower),
		.l_index = ln->ln_muxid,
	};
	mp->b_cont = us_msg_from(&lb, sizeof lb, 0);
	if (mp->b_cont == NULL) {
		freemsg(mp);
		return NULL;
	}
	((struct iocblk *)mp->b_rptr)->ioc_count = sizeof lb;
	return mp;
}

typedef struct {
	UsHead *upper;
	UsLink *link;
	gboolean keep; /* TRUE: record it; FALSE: undo it */
} FinishArgs;

static int
op_link_finish(UsHead *h, gpointer data)
{
	(void)h;
	FinishArgs *f = data;
	UsLink *ln = f->link;
	UsLinkTable *t = link_table(ln->ln_lower->sh_stack);
	if (f->keep) {
		t->links = g_list_append(t->links, ln);
		if (ln->ln_upper)
			ln->ln_upper->sh_links = g_list_append(ln->ln_upper->sh_links, ln);
		return ln->ln_muxid;
	}
	t->links = g_list_remove(t->links, ln);
	if (ln->ln_upper)
		ln->ln_upper->sh_links = g_list_remove(ln->ln_upper->sh_links, ln);
	UsHead *lower = ln->ln_lower;
	lower_give_back(lower);
	g_free(ln);
	if (lower->sh_fd_closed)
		us__head_close_orphan(lower);
	return 0;
}

int
us__head_link(UsHead *h, int cmd, int lowerfd)
{
	UsHead *lower = us__head_get(lowerfd);
	if (lower == NULL)
		return -EBADF;
	LinkArgs a = { .lower = lower, .cmd = cmd };
	int r = us__head_run(h, op_link_prepare, &a);
	if (r != 0)
		return r;
	mblk_t *mp = link_ioctl_msg(h, cmd, a.link);
	r = mp ? us__head_strioctl(h, mp, US_LINK_TIMEOUT, NULL) : -ENOSR;
	FinishArgs f = { h, a.link, r >= 0 };
	int muxid = us__head_run(h, op_link_finish, &f);
	return r < 0 ? r : muxid;
}

/* ------------------------------------------------------------------ */
/* Unlinking                                                          */
/* ------------------------------------------------------------------ */

typedef struct {
	int cmd;
	int muxid;
	GList *found; /* UsLink* to undo */
} FindArgs;

static int
op_find_links(UsHead *h, gpointer data)
{
	FindArgs *a = data;
	int r = us__head_check_open(h);
	if (r != 0)
		return r;
	GList *pool = a->cmd == I_UNLINK ? h->sh_links : link_table(h->sh_stack)->links;
	const UsModuleDesc *mux = driver_desc(h);
	for (GList *l = pool; l; l = l->next) {
		UsLink *ln = l->data;
		if (a->cmd == I_PUNLINK && (ln->ln_cmd != I_PLINK || ln->ln_mux != mux))
			continue;
		if (a->muxid == MUXID_ALL || ln->ln_muxid == a->muxid)
			a->found = g_list_append(a->found, ln);
	}
	return a->found ? 0 : -EINVAL;
}

static int
unlink_one(UsHead *h, int cmd, UsLink *ln)
{
	mblk_t *mp = link_ioctl_msg(h, cmd, ln);
	int r = mp ? us__head_strioctl(h, mp, US_LINK_TIMEOUT, NULL) : -ENOSR;
	FinishArgs f = { h, ln, FALSE };
	us__head_run(h, op_link_finish, &f);
	return r < 0 ? r : 0;
}

int
us__head_unlink(UsHead *h, int cmd, int muxid)
{
	FindArgs a = { .cmd = cmd, .muxid = muxid };
	int r = us__head_run(h, op_find_links, &a);
	for (GList *l = a.found; l; l = l->next) {
		int e = unlink_one(h, cmd, l->data);
		if (r == 0)
			r = e;
	}
	g_list_free(a.found);
	return r;
}

/* An open stream of the stack whose driver is `mux`, or NULL. */
static UsHead *
mux_upper(UsStack *s, const UsModuleDesc *mux, UsLink *ln)
{
	if (ln->ln_upper != NULL)
		return ln->ln_upper;
	GHashTable *heads = us_stack_get_data(s, "us-heads");
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, heads);
	while (heads && g_hash_table_iter_next(&it, &k, NULL)) {
		UsHead *h = k;
		if (h->sh_st && h->sh_linked == NULL && driver_desc(h) == mux)
			return h;
	}
	return NULL;
}

/* Stack teardown (world thread, before streams close): every link is taken
 * apart, the driver told with an unlink M_IOCTL put straight on its write
 * queue (its reply, coming up a head that waits for nothing, is freed). */
static void
link_teardown(gpointer data)
{
	UsStack *s = data;
	UsLinkTable *t = link_table(s);
	while (t->links != NULL) {
		UsLink *ln = t->links->data;
		UsHead *up = mux_upper(s, ln->ln_mux, ln);
		int cmd = ln->ln_cmd == I_LINK ? I_UNLINK : I_PUNLINK;
		mblk_t *mp = up ? link_ioctl_msg(up, cmd, ln) : NULL;
		if (mp != NULL)
			put(WR(us_stream_driver_rq(up->sh_st)), mp);
		FinishArgs f = { up, ln, FALSE };
		op_link_finish(up, &f);
	}
}

/* Undoes the I_LINKs made through h (its descriptor is being closed). */
void
us__head_unlink_all(UsHead *h)
{
	while (h->sh_links != NULL)
		unlink_one(h, I_UNLINK, h->sh_links->data);
}
