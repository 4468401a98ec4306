/* SPDX-License-Identifier: MIT */
/* clash -- a plug-in whose second descriptor reuses a built-in name ("pass"):
 * loading must fail and register neither descriptor. */
#include <ustreams/registry.h>
#include <ustreams/stream.h>

static int
clash_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)rq, (void)devp, (void)oflag, (void)sflag, (void)crp;
	return 0;
}

static int
clash_put(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return 0;
}

static struct module_info clash_minfo = { .mi_idname = "clash", .mi_maxpsz = INFPSZ };
static struct qinit clash_rinit = { .qi_putp = clash_put,
				    .qi_qopen = clash_open,
				    .qi_minfo = &clash_minfo };
static struct qinit clash_winit = { .qi_putp = clash_put, .qi_minfo = &clash_minfo };
static struct streamtab clash_info = { .st_rdinit = &clash_rinit, .st_wrinit = &clash_winit };
static const UsModuleDesc clash_desc = { .abi_version = US_ABI_VERSION,
					 .name = "clash",
					 .kind = US_KIND_MODULE,
					 .streamtab = &clash_info };
static const UsModuleDesc clash_pass_desc = { .abi_version = US_ABI_VERSION,
					      .name = "pass",
					      .kind = US_KIND_MODULE,
					      .streamtab = &clash_info };
const UsModuleDesc *const us_plugin_descs[] = { &clash_desc, &clash_pass_desc, NULL };
