/* SPDX-License-Identifier: MIT */
/* badabi -- a plug-in that claims a future ABI version; loading must fail. */
#include <ustreams/registry.h>
#include <ustreams/stream.h>

static int
bad_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)rq, (void)devp, (void)oflag, (void)sflag, (void)crp;
	return 0;
}

static int
bad_put(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return 0;
}

static struct module_info bad_minfo = { .mi_idname = "badabi", .mi_maxpsz = INFPSZ };
static struct qinit bad_rinit = { .qi_putp = bad_put,
				  .qi_qopen = bad_open,
				  .qi_minfo = &bad_minfo };
static struct qinit bad_winit = { .qi_putp = bad_put, .qi_minfo = &bad_minfo };
static struct streamtab bad_info = { .st_rdinit = &bad_rinit, .st_wrinit = &bad_winit };
static const UsModuleDesc bad_desc = {
	.abi_version = US_ABI_VERSION + 41,
	.name = "badabi",
	.kind = US_KIND_MODULE,
	.streamtab = &bad_info,
};
const UsModuleDesc *const us_plugin_descs[] = { &bad_desc, NULL };
