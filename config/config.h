/* SPDX-License-Identifier: MIT */
/*
 * config.h -- the stack description language: parsing a file into a model,
 * checking it, dumping it back, and building it (plumbing stacks with the
 * same DDI and ioctl operations a program would use).
 *
 * The language (docs/config.md is the reference, with examples):
 *
 *   # comment to the end of the line
 *   include "other.conf"              # relative to the including file
 *   world { clock virtual; seed 42; duration 30s }
 *   wire lan { loss 0.05; delay 1ms; jitter 200us; mtu 1500 }
 *   stack a {
 *       interface eth0 {
 *           driver wire lan               # or: tap usX0 / pcap in=x.pcap out=y.pcap
 *           param speed 0                 # more driver parameters
 *           push impair loss=0.01 seed=7  # modules between driver and ether
 *           push ether mac=02:00:00:00:00:0a
 *           push arp
 *           address 10.0.0.1/24
 *           mtu 1400
 *       }
 *       route default via 10.0.0.254 metric 10
 *       route 172.16.0.0/12 via 10.0.0.253 dev eth0
 *       neighbor 10.0.0.2 lladdr 02:00:00:00:00:0b dev eth0
 *       forwarding on
 *       set ip ttl=64 icmp_rate=10         # parameters of a stack-wide module
 *       transport udp                      # linked over ip (default: udp icmp [tcp])
 *       transport xtp socket=dgram protocol=253   # offered to us_socket()
 *       autopush tap ether arp
 *       app ping 10.0.0.2 count=3 interval=1s
 *       app udp-echo port=7
 *   }
 *
 * Statements end at a newline or ';'.  Words, "strings" (C escapes), numbers
 * with units (s ms us ns; k M G for sizes, base 1000; Ki Mi Gi base 1024),
 * and key=value pairs.  Everything is kept with its location
 * (file:line:col) for messages.
 *
 * Ownership: a UsCfg owns everything reachable from it; strings are
 * g_malloc'd.  Errors are GErrors in the US_CFG_ERROR domain whose message
 * starts "file:line:col: ".
 */
#ifndef USTREAMS_CONFIG_H
#define USTREAMS_CONFIG_H

#include <glib.h>
#include <stdint.h>

#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/world.h>

G_BEGIN_DECLS

#define US_CFG_ERROR (us_cfg_error_quark())
GQuark us_cfg_error_quark(void);

typedef enum {
	US_CFG_ERROR_SYNTAX,   /* lexical or grammar error */
	US_CFG_ERROR_SEMANTIC, /* well formed but invalid (unknown module, bad address ...) */
	US_CFG_ERROR_IO,       /* a file could not be read (include too) */
	US_CFG_ERROR_BUILD,    /* building failed (an ioctl or open refused) */
} UsCfgErrorCode;

/* A place in a file: file is interned (g_intern_string), never freed. */
typedef struct {
	const char *file;
	guint line, col; /* 1-based */
} UsCfgLoc;

/* name=value, or a bare value (name NULL). */
typedef struct {
	char *name;
	char *value;
	UsCfgLoc loc;
} UsCfgKv;

/* A module pushed on an interface stream (bottom to top order). */
typedef struct {
	char *name;
	GPtrArray *params; /* UsCfgKv*, applied with us_param_set after I_PUSH */
	UsCfgLoc loc;
} UsCfgModule;

typedef struct {
	uint32_t addr; /* network order */
	uint32_t plen;
	UsCfgLoc loc;
} UsCfgAddr;

typedef struct {
	char *name;          /* the ip interface name (IP_IF_SET) */
	char *driver;        /* "wire", "tap", "pcap", "afpacket", "lo" or a plug-in */
	char *driver_arg;    /* wire: the wire name; tap/afpacket: ifname; NULL if none */
	UsCfgLoc driver_loc; /* of the driver's name on the driver line */
	GPtrArray *params;   /* UsCfgKv*: driver parameters (driver line k=v and "param") */
	GPtrArray *modules;  /* UsCfgModule*, bottom to top */
	GArray *addrs;       /* UsCfgAddr */
	uint32_t mtu;        /* 0: from the driver */
	UsCfgLoc loc;
} UsCfgIface;

typedef struct {
	uint32_t dst, plen; /* default = 0.0.0.0/0 */
	uint32_t gateway;   /* network order, 0 = on link */
	char *dev;          /* NULL: by the gateway */
	uint32_t metric;
	uint32_t mtu;
	UsCfgLoc loc;
} UsCfgRoute;

typedef struct {
	uint32_t addr;
	uint8_t mac[6];
	char *dev;
	UsCfgLoc loc;
} UsCfgNeighbor;

/* "set MODULE k=v ...": parameters of a stack-wide instance (ip, udp ...). */
typedef struct {
	char *module;
	GPtrArray *params; /* UsCfgKv* */
	UsCfgLoc loc;
} UsCfgSet;

/* A transport: linked over ip; with socket=/protocol= also entered in the
 * socket transport table for (AF_INET, type, protocol). */
typedef struct {
	char *driver;
	int sock_type; /* 0: not offered to sockets beyond the defaults; SOCK_DGRAM ... */
	int protocol;  /* with sock_type */
	UsCfgLoc loc;
} UsCfgTransport;

typedef struct {
	char *driver;
	GPtrArray *modules;  /* char*, at most 8 */
	GArray *module_locs; /* UsCfgLoc of each module name */
	UsCfgLoc loc;
} UsCfgAutopush;

/* A small built-in application: name and its arguments as written. */
typedef struct {
	char *name;      /* ping, udp-echo, udp-send, tcp-sink, tcp-source, http-server */
	GPtrArray *args; /* UsCfgKv*: positional ones have name NULL */
	UsCfgLoc loc;
} UsCfgApp;

typedef struct {
	char *name;
	GPtrArray *ifaces;     /* UsCfgIface* */
	GPtrArray *routes;     /* UsCfgRoute* */
	GPtrArray *neighbors;  /* UsCfgNeighbor* */
	GPtrArray *sets;       /* UsCfgSet* */
	GPtrArray *transports; /* UsCfgTransport*; empty: the defaults */
	GPtrArray *autopush;   /* UsCfgAutopush* */
	GPtrArray *apps;       /* UsCfgApp* */
	int forwarding;        /* -1 unset, 0 off, 1 on */
	UsCfgLoc loc;
} UsCfgStack;

typedef struct {
	char *name;
	GPtrArray *params; /* UsCfgKv*: wire driver parameters for both ends */
	UsCfgLoc loc;
} UsCfgWire;

typedef struct {
	UsClockKind clock;  /* default US_CLOCK_VIRTUAL */
	guint64 seed;       /* default 1 */
	gint64 duration_ns; /* 0: until the apps are done (or signalled) */
	gboolean clock_set, seed_set, duration_set;
	UsCfgLoc loc;
} UsCfgWorld;

typedef struct {
	char *file; /* the top file */
	UsCfgWorld world;
	GPtrArray *wires;  /* UsCfgWire* */
	GPtrArray *stacks; /* UsCfgStack* */
	GPtrArray *files;  /* char*: every file read, includes too */
} UsCfg;

/* Parses a file (and its includes) into a model.  Syntax and semantic
 * checks that need no registry are done here (addresses, prefixes, units,
 * duplicates, references to undefined wires/interfaces).  NULL + error. */
UsCfg *us_cfg_parse_file(const char *path, GError **error);
/* The same from text; name is used in messages and to resolve includes
 * (relative to its directory). */
UsCfg *us_cfg_parse_text(const char *name, const char *text, GError **error);
void us_cfg_free(UsCfg *cfg);

/* Checks what needs the registry: drivers and modules exist (loading
 * plug-ins), are of the right kind, their parameters exist and take the
 * values given, apps are known and their arguments valid. */
gboolean us_cfg_check(const UsCfg *cfg, GError **error);

/* The effective configuration as text that parses back to the same model
 * (defaults made explicit, includes expanded, canonical order). */
char *us_cfg_dump(const UsCfg *cfg);

/* Value helpers shared with the builder and apps. */
gboolean us_cfg_parse_duration(const char *s, gint64 *ns);
gboolean us_cfg_parse_size(const char *s, guint64 *bytes);
gboolean us_cfg_parse_bool(const char *s, gboolean *v);
/* "file:line:col" of loc, newly allocated. */
char *us_cfg_loc_string(UsCfgLoc loc);
/* A decimal (or 0x hex) integer no larger than max. */
gboolean us_cfg_parse_uint(const char *s, guint64 max, guint64 *v);
/* A dotted quad (four decimal parts 0..255, no leading zeros), network order. */
gboolean us_cfg_parse_addr(const char *s, uint32_t *addr);
/* "A.B.C.D/N", N 0..32 (the slash is required). */
gboolean us_cfg_parse_cidr(const char *s, uint32_t *addr, uint32_t *plen);
/* "xx:xx:xx:xx:xx:xx", two hex digits each. */
gboolean us_cfg_parse_mac(const char *s, uint8_t mac[6]);
/* "A.B.C.D:PORT", port 1..65535; addr network order, port host order. */
gboolean us_cfg_parse_endpoint(const char *s, uint32_t *addr, uint16_t *port);
/* What to give us_param_set for a config value of parameter p: integers as
 * they are, a duration with a unit converted to the parameter's unit (names
 * ending _ms, _us, _s: that unit; others ns), a size with a suffix to bytes,
 * "5%" to 0.05 for doubles, booleans to true/false; the bounds of INT/UINT
 * parameters checked.  Newly allocated, or NULL and an error (no location). */
char *us_cfg_param_value(const UsParamDesc *p, const char *value, GError **error);

/* ------------------------------------------------------------------ */
/* Building and running (build.c, apps.c)                             */
/* ------------------------------------------------------------------ */

typedef struct _UsCfgRun UsCfgRun;

/* Builds every stack of cfg in a new world, through us_open, I_PUSH,
 * us_param_set, I_PLINK and I_STR exactly as a program would.  On failure
 * nothing is left: the world is freed and the error names the statement
 * ("file:line:col: ..."). */
UsCfgRun *us_cfg_build(const UsCfg *cfg, GError **error);
/* Starts the apps and runs the world until they are all done, duration_ns
 * has passed (0: the config's duration; still 0: until the apps are done,
 * at most 1 h of world time), or us_cfg_run_stop() was called.  Returns
 * TRUE when every app met its expectation. */
gboolean us_cfg_run(UsCfgRun *run, gint64 duration_ns);
/* From a signal handler's GLib source or another thread. */
void us_cfg_run_stop(UsCfgRun *run);
/* A readable report: interfaces and addresses per stack, what each app
 * did, and the drops counted per module and reason.  Newly allocated. */
char *us_cfg_run_summary(UsCfgRun *run);
UsWorld *us_cfg_run_world(UsCfgRun *run);
UsStack *us_cfg_run_stack(UsCfgRun *run, const char *name);
/* The driver read queue of an interface (its parameters and statistics:
 * us_param_set, us_stat_get), or NULL. */
queue_t *us_cfg_run_iface_driver(UsCfgRun *run, const char *stack, const char *iface);
/* Offline replay (replay.c): the interface stack/iface must have the pcap
 * driver.  Its output goes to out, then in is replayed at capture times in
 * virtual time (the world must be virtual); the run continues settle_ns
 * after the last frame, then the output is closed.  progress (may be NULL)
 * is called now and then with frames delivered and the total. */
gboolean us_cfg_replay(UsCfgRun *run, const char *stack, const char *iface, const char *in,
		       const char *out, gint64 settle_ns,
		       void (*progress)(guint64 done, guint64 total, gpointer data), gpointer data,
		       GError **error);
/* Compares two captures after the normalisation of docs/config.md
 * ("Replay"): IPv4 IDs and checksums zeroed, TCP sequence numbers relative
 * to each direction's first, timestamps equal within tolerance_ns.  Returns
 * TRUE when equal; otherwise *diff (g_free) describes the differences. */
gboolean us_cfg_pcap_compare(const char *got, const char *expect, gint64 tolerance_ns, char **diff,
			     GError **error);
/* A report on the built stacks (report.c): "link", "addr", "route",
 * "neigh" (iproute2-like text per stack), "stats" (every module instance's
 * non-zero statistics and the drops), or "graph" (the stream graph as DOT,
 * queue fill and QFULL shown).  Newly allocated, or NULL + error. */
char *us_cfg_report(UsCfgRun *run, const char *what, GError **error);
/* The control socket (control.c): a Unix socket at path answering one
 * report name per connection, served on the world. */
typedef struct _UsCfgControl UsCfgControl;
UsCfgControl *us_cfg_control_start(UsCfgRun *run, const char *path, GError **error);
void us_cfg_control_stop(UsCfgControl *c);
/* Client side: asks the instance at path for a report. */
char *us_cfg_control_query(const char *path, const char *what, GError **error);
/* Live splicing on interface streams (splice.c, docs/config.md "Pushing and
 * popping at run time"); on the world's thread.  Push inserts module into
 * stack/iface at (where, ref) with parameters "name=value" (config values,
 * NULL-terminated list, may be NULL), all checked first; a failed push
 * leaves the stream as it was.  Pop removes the topmost instance. */
gboolean us_cfg_run_push(UsCfgRun *run, const char *stack, const char *iface, const char *module,
			 UsStreamWhere where, const char *ref, const char *const *params,
			 GError **error);
gboolean us_cfg_run_pop(UsCfgRun *run, const char *stack, const char *iface, const char *module,
			GError **error);
/* The stream of an interface top to bottom, "ip > arp > ether > wire"
 * (g_free), or NULL if there is no such interface. */
char *us_cfg_run_iface_modules(UsCfgRun *run, const char *stack, const char *iface);
/* One control-socket request: "push ...", "pop ..." or a report name
 * (us_cfg_report).  The reply text (g_free), or NULL + error. */
char *us_cfg_control_request(UsCfgRun *run, const char *line, GError **error);
/* The ip management descriptor of a stack (-1 if unknown). */
int us_cfg_run_ipfd(UsCfgRun *run, const char *stack);
void us_cfg_run_free(UsCfgRun *run);

G_END_DECLS

#endif /* USTREAMS_CONFIG_H */
