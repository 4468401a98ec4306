/* SPDX-License-Identifier: MIT */
/*
 * snoop.h -- the public contract of the snoop module: its parameter,
 * statistic and value names.  The theory (hooks, link types, rotation,
 * timestamps, deviations) is in snoop.c and docs/modules.md.
 *
 * snoop writes every packet passing through it to a pcap capture file and
 * passes every message on unchanged.  Push it anywhere on an interface
 * stream or on an ip stream below a transport:
 *
 *     push snoop file=/tmp/eth0.pcap filter="icmp" direction=both
 *
 * It has no ioctls: everything is a parameter (us_param_set, the config's
 * key=value, `ustreams inspect snoop`).
 */
#ifndef USTREAMS_SNOOP_H
#define USTREAMS_SNOOP_H

/* Parameters */
#define SNOOP_PARAM_FILE "file"                 /* capture path; "" closes it */
#define SNOOP_PARAM_DIRECTION "direction"       /* "both" (default), "up", "down" */
#define SNOOP_PARAM_FILTER "filter"             /* BPF expression; "" writes all */
#define SNOOP_PARAM_HOOK "hook"                 /* "auto" (default), "link", "dlpi", "ip" */
#define SNOOP_PARAM_ROTATE_BYTES "rotate_bytes" /* 0: never rotate */
#define SNOOP_PARAM_ROTATE_KEEP "rotate_keep"   /* files kept when rotating; 0: all */
#define SNOOP_PARAM_SNAPLEN "snaplen"           /* bytes kept per packet (65535) */
#define SNOOP_PARAM_FLUSH "flush"               /* flush after every packet (false) */
#define SNOOP_PARAM_NSEC "nsec"                 /* nanosecond timestamps (false: us) */

#define SNOOP_SNAPLEN_DEFAULT 65535
#define SNOOP_SNAPLEN_MAX 262144

/* Statistics */
#define SNOOP_STAT_MSGS "msgs"                 /* messages seen, both sides */
#define SNOOP_STAT_PACKETS "packets"           /* packets written */
#define SNOOP_STAT_BYTES "bytes"               /* bytes written to files, headers included */
#define SNOOP_STAT_FILTERED "filtered"         /* packets the filter refused */
#define SNOOP_STAT_SKIPPED "skipped"           /* packets the file's DLT cannot hold */
#define SNOOP_STAT_ROTATIONS "rotations"       /* files started by rotation */
#define SNOOP_STAT_WRITE_ERRORS "write_errors" /* writes or opens that failed */

/* The module's descriptor (registry name "snoop"). */
struct _UsModuleDesc;
extern const struct _UsModuleDesc us_snoop_desc;

#endif /* USTREAMS_SNOOP_H */
