/* SPDX-License-Identifier: MIT */
/*
 * registry.h -- module, driver and multiplexor descriptors, the registry, the
 * plug-in loader, and the uniform parameter, statistics and drop interface.
 *
 * Every module declares one static UsModuleDesc with designated initializers:
 *
 *   static const UsParamDesc pass_params[] = {
 *           US_PARAM_UINT("hiwat", "high water mark", struct pass, hiwat, 0, 1 << 30),
 *           { 0 } };
 *   const UsModuleDesc us_pass_desc = {
 *           .abi_version = US_ABI_VERSION, .name = "pass", .kind = US_KIND_MODULE,
 *           .summary = "...", .streamtab = &pass_info, .params = pass_params, ... };
 *
 * Built-in ones are registered at start-up.  Others live in shared objects
 * named NAME.so on the search path (US_MODULE_PATH, a colon-separated list,
 * then the install directory); such an object exports
 *
 *   const UsModuleDesc *const us_plugin_descs[] = { &my_desc, NULL };
 *
 * and is loaded the first time NAME is looked up (I_PUSH of an unknown name
 * autoloads it).  Classic code can instead call us_register_module() or
 * us_register_driver() with a bare streamtab.
 *
 * Parameters are per instance: each names a field of the instance's state
 * (the structure q_ptr points to on the read queue) by offset and type, so the
 * framework reads and writes them without module code; an optional on_set
 * hook lets the module react (e.g. apply new water marks).  Statistics are
 * 64-bit counters at offsets in the same state.  Drops are counted per stack,
 * module and reason by us_drop().
 */
#ifndef USTREAMS_REGISTRY_H
#define USTREAMS_REGISTRY_H

#include <glib.h>
#include <ustreams/stream.h>

G_BEGIN_DECLS

#define US_ABI_VERSION 1U

typedef enum {
	US_KIND_MODULE = 1, /* pushed with I_PUSH (MODOPEN) */
	US_KIND_DRIVER = 2, /* opened at the bottom of a stream */
	US_KIND_MUX = 3,    /* a driver with st_muxrinit/st_muxwinit */
} UsKind;

typedef enum {
	US_PARAM_INT = 1,    /* gint64 field */
	US_PARAM_UINT = 2,   /* guint64 field */
	US_PARAM_BOOL = 3,   /* gboolean field */
	US_PARAM_STRING = 4, /* char * field, g_free()d by the module's close */
	US_PARAM_DOUBLE = 5, /* double field */
} UsParamType;

typedef struct _UsParamDesc UsParamDesc;
struct _UsParamDesc {
	const char *name;        /* NULL ends a table */
	const char *description; /* one line */
	UsParamType type;
	size_t offset;   /* into the read queue's q_ptr state */
	gint64 min, max; /* bounds for INT/UINT (max 0: no bound) */
	/* Called after a new value is stored; may reject it (the old value is
	 * restored).  NULL: nothing to do. */
	gboolean (*on_set)(queue_t *rq, const UsParamDesc *param, GError **error);
};

typedef struct {
	const char *name; /* NULL ends a table */
	const char *description;
	size_t offset; /* guint64 counter in the q_ptr state */
} UsStatDesc;

#define US_PARAM_FIELD(nm, desc, ty, st, fld, lo, hi)                                           \
	{                                                                                       \
		.name = (nm), .description = (desc), .type = (ty), .offset = offsetof(st, fld), \
		.min = (lo), .max = (hi)                                                        \
	}
#define US_STAT(nm, desc, st, fld)                                               \
	{                                                                        \
		.name = (nm), .description = (desc), .offset = offsetof(st, fld) \
	}

/* Concurrency notes (documentation for users; the world serialises all). */
#define US_MT_PERSTREAM 0x1 /* state only in q_ptr */
#define US_MT_PERSTACK 0x2  /* shares state between streams of one stack */

typedef struct _UsModuleDesc {
	guint32 abi_version; /* US_ABI_VERSION */
	const char *name;    /* registry name, the I_PUSH name */
	const char *summary; /* one line */
	UsKind kind;
	const struct streamtab *streamtab;
	guint32 mt_flags;                /* US_MT_* */
	const UsParamDesc *params;       /* NULL-name terminated, or NULL */
	const UsStatDesc *stats;         /* NULL-name terminated, or NULL */
	const char *const *drop_reasons; /* NULL terminated, index = reason */
	const char *const *accepts;      /* message types handled, for inspect */
} UsModuleDesc;

typedef enum {
	US_ERROR_NOT_FOUND, /* no module or driver of that name */
	US_ERROR_ABI,       /* plug-in built for another ABI version */
	US_ERROR_SYMBOL,    /* plug-in lacks us_plugin_descs */
	US_ERROR_LOAD,      /* the shared object would not load */
	US_ERROR_EXISTS,    /* a different entry already has the name */
	US_ERROR_INVALID,   /* malformed descriptor or argument */
	US_ERROR_ERRNO,     /* an open/close/ioctl failed; code in message */
	US_ERROR_KIND,      /* module used as driver or the reverse */
} UsErrorCode;

#define US_ERROR (us_error_quark())
GQuark us_error_quark(void);

/* Initialises the library (registers built-ins); called implicitly. */
void us_init(void);

/* Registers a descriptor (kept by reference: it must be static). */
gboolean us_registry_add(const UsModuleDesc *desc, GError **error);
/* Registers a classic streamtab under its mi_idname. */
int us_register_module(const struct streamtab *st);
int us_register_driver(const struct streamtab *st, UsKind kind);
/* Finds name, loading a plug-in when it is not registered yet. */
const UsModuleDesc *us_registry_lookup(const char *name, GError **error);
/* Like lookup but never loads. */
const UsModuleDesc *us_registry_find(const char *name);
/* Loads one shared object by path and registers what it exports. */
gboolean us_registry_load_file(const char *path, GError **error);
/* All registered descriptors, sorted by name (free the array, not items). */
GPtrArray *us_registry_list(void);
/* Descriptors of plug-ins on the search path, loading them (free array). */
GPtrArray *us_registry_scan_plugins(GError **error);
/* Major device number of a driver (0 if unknown). */
guint us_registry_major(const UsModuleDesc *desc);
const UsModuleDesc *us_registry_by_major(guint major);
/* The descriptor of the module or driver a queue belongs to (may be NULL). */
const UsModuleDesc *us_queue_desc(queue_t *q);

/* Parameters of the instance owning q, by name. */
gboolean us_param_set(queue_t *q, const char *name, const char *value, GError **error);
/* Returns a newly allocated string. */
char *us_param_get(queue_t *q, const char *name, GError **error);
/* A statistic of the instance owning q; FALSE if unknown. */
gboolean us_stat_get(queue_t *q, const char *name, guint64 *value);

/* Reason for a message type a module does not handle (framework default). */
#define US_DROP_UNHANDLED G_MAXUINT

/* Counts and frees a dropped message (consumes mp; NULL allowed): per stack,
 * per module, per reason; logs the first drop of each reason. */
void us_drop(queue_t *q, mblk_t *mp, guint reason);
/* Drops counted so far for a module on the stack that owns q's stream. */
guint64 us_drop_count(queue_t *q, guint reason);

G_END_DECLS

#endif /* USTREAMS_REGISTRY_H */
