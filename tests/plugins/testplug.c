/* SPDX-License-Identifier: MIT */
/* testplug -- a plug-in module for the registry tests: upper-cases M_DATA
 * going down, so a test can tell it really ran. */
#include <ustreams/registry.h>
#include <ustreams/stream.h>

#include <errno.h>
#include <glib.h>

typedef struct {
	guint64 seen; /* data messages changed */
} TestplugState;

static int
tp_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp, (void)oflag, (void)crp;
	if (sflag != MODOPEN)
		return ENXIO;
	rq->q_ptr = WR(rq)->q_ptr = g_new0(TestplugState, 1);
	return 0;
}

static int
tp_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag, (void)crp;
	g_free(rq->q_ptr);
	return 0;
}

static int
tp_wput(queue_t *q, mblk_t *mp)
{
	if (DB_TYPE(mp) == M_DATA && DB_REF(mp) == 1) {
		for (unsigned char *p = mp->b_rptr; p < mp->b_wptr; p++)
			*p = (unsigned char)g_ascii_toupper((gchar)*p);
		((TestplugState *)q->q_ptr)->seen++;
	}
	putnext(q, mp);
	return 0;
}

static int
tp_rput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return 0;
}

static struct module_info tp_minfo = {
	.mi_idname = "testplug", .mi_maxpsz = INFPSZ, .mi_hiwat = 4096, .mi_lowat = 1024
};
static struct qinit tp_rinit = {
	.qi_putp = tp_rput, .qi_qopen = tp_open, .qi_qclose = tp_close, .qi_minfo = &tp_minfo
};
static struct qinit tp_winit = { .qi_putp = tp_wput, .qi_minfo = &tp_minfo };
static struct streamtab tp_info = { .st_rdinit = &tp_rinit, .st_wrinit = &tp_winit };
static const UsStatDesc tp_stats[] = {
	US_STAT("seen", "data messages upper-cased", TestplugState, seen), { 0 }
};

static const UsModuleDesc tp_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "testplug",
	.summary = "test plug-in: upper-cases data going down",
	.kind = US_KIND_MODULE,
	.streamtab = &tp_info,
	.stats = tp_stats,
};

const UsModuleDesc *const us_plugin_descs[] = { &tp_desc, NULL };
