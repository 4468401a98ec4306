/* SPDX-License-Identifier: MIT */
/*
 * cfg-build.h -- what build.c, apps.c and summary.c share: the state of a
 * built configuration.  Not installed.
 */
#ifndef USTREAMS_CFG_BUILD_H
#define USTREAMS_CFG_BUILD_H

#include "config.h"

#include <ustreams/ustreams.h>

typedef struct {
	const UsCfgStack *cfg;
	UsStack *stack;
	int ipfd;        /* ip upper kept for management */
	GPtrArray *drvq; /* per interface (model order): its driver's read queue */
} UsCfgRunStack;

/* A parameter applied once everything is built (pcap "in"). */
typedef struct {
	queue_t *q;
	const UsCfgKv *kv;
	const char *owner;
} UsCfgDeferred;

typedef struct _UsCfgApp UsCfgAppRun;

struct _UsCfgRun {
	const UsCfg *cfg;
	UsWorld *world;
	GPtrArray *stacks;   /* UsCfgRunStack*, in file order */
	GPtrArray *deferred; /* UsCfgDeferred* (owned) */
	GPtrArray *apps;     /* UsCfgAppRun* (owned, apps.c) */
	gboolean stop;       /* us_cfg_run_stop() */
	gint64 started;      /* world time the apps started */
};

const UsCfgWire *us_cfg_find_wire(const UsCfg *cfg, const char *name);
void us_cfg_defer_param(UsCfgRun *run, UsCfgRunStack *rs, queue_t *q, const UsCfgKv *kv);
gboolean us_cfg_apply_deferred(UsCfgRun *run, GError **error);

/* apps.c */
gboolean us_cfg_apps_create(UsCfgRun *run, GError **error);
void us_cfg_apps_free(UsCfgRun *run);
gboolean us_cfg_apps_all_done(UsCfgRun *run);
/* Every app done and met its expectation. */
gboolean us_cfg_apps_ok(UsCfgRun *run);
/* Appends each app's report line to s (finishing the apps). */
void us_cfg_apps_report(UsCfgRun *run, GString *s);

#endif /* USTREAMS_CFG_BUILD_H */
