/* SPDX-License-Identifier: MIT */
/*
 * filter.h -- the public contract of the filter module: rule actions and
 * directions, the ioctl commands and their structures, parameter, statistic
 * and drop-reason names.  The theory (hooks, evaluation, deviations) is in
 * filter.c and docs/modules.md.
 *
 * A rule is an action, a direction and a BPF expression (pcap-filter(7),
 * compiled with pcap_compile for the hook's link type).  Rules are tried in
 * order; the first matching accept or drop decides; count and log rules
 * record the match and go on; when no rule decides, "policy" does.  As text
 * (the "rules" parameter, FILTER_LIST):
 *
 *     ACTION [DIRECTION] [EXPRESSION]        rules separated by ';' or newlines
 *     drop in udp port 53; accept out icmp; count both tcp
 *
 * ACTION is accept, drop, count or log; DIRECTION in (up the stream),
 * out (down) or both (the default); an empty expression matches every
 * packet.  Expressions may not contain ';' or a newline.
 *
 * ioctls (M_IOCTL, I_STR form; TRANSPARENT is NAKed with EINVAL; short data
 * EINVAL; every other ioctl passes down the stream):
 *   FILTER_ADD    struct filter_rule_req: inserts a rule before index (-1 or
 *                 past the end: appends); ioc_rval = where it went.  EINVAL:
 *                 bad action or direction, unterminated expression, ';' or
 *                 newline in it, or an expression libpcap refuses (its
 *                 message is logged); ENOSPC: FILTER_RULES_MAX rules already.
 *   FILTER_DEL    struct filter_del_req: removes the rule at index.  ENOENT.
 *   FILTER_FLUSH  removes every rule; ioc_rval = how many.
 *   FILTER_LIST   the reply data is an array of struct filter_rule_info, in
 *                 order, as many as fit in the ioctl's data length (ic_len);
 *                 ioc_rval = the number of rules.
 * Changes through ioctls are reflected in the "rules" parameter.
 */
#ifndef USTREAMS_FILTER_H
#define USTREAMS_FILTER_H

#include <stdint.h>

/* Actions (filter_rule_req.action, filter_rule_info.action). */
#define FILTER_ACCEPT 1 /* pass the packet; no further rule */
#define FILTER_DROP 2   /* drop it (us_drop, "dropped by a rule"); no further rule */
#define FILTER_COUNT 3  /* count it and go on */
#define FILTER_LOG 4    /* log a one-line decode (g_message) and go on */

/* Directions (bits). */
#define FILTER_DIR_IN 0x1   /* going up: read side */
#define FILTER_DIR_OUT 0x2  /* going down: write side */
#define FILTER_DIR_BOTH 0x3 /* either */

#define FILTER_EXPR_MAX 256  /* expression with its NUL */
#define FILTER_TEXT_MAX 272  /* "ACTION DIRECTION EXPRESSION" with its NUL */
#define FILTER_RULES_MAX 256 /* rules per instance */

#define FILTER_IOC ('F' << 8)
#define FILTER_ADD (FILTER_IOC | 1)
#define FILTER_DEL (FILTER_IOC | 2)
#define FILTER_FLUSH (FILTER_IOC | 3)
#define FILTER_LIST (FILTER_IOC | 4)

struct filter_rule_req {
	int32_t index;              /* insert before this rule; -1: append */
	uint32_t action;            /* FILTER_ACCEPT ... FILTER_LOG */
	uint32_t dir;               /* FILTER_DIR_IN, _OUT or _BOTH */
	char expr[FILTER_EXPR_MAX]; /* NUL-terminated BPF expression ("": all) */
};

struct filter_del_req {
	int32_t index; /* the rule to remove, from 0 */
};

struct filter_rule_info {
	uint32_t index;             /* position, from 0 */
	uint32_t action;            /* FILTER_* */
	uint32_t dir;               /* FILTER_DIR_* */
	uint32_t pad;               /* zero */
	uint64_t packets;           /* packets the rule matched */
	uint64_t bytes;             /* their bytes (as seen at the hook) */
	char text[FILTER_TEXT_MAX]; /* the rule as text: "drop in udp port 53" */
};

/* Parameters */
#define FILTER_PARAM_RULES "rules"   /* the rule list as text */
#define FILTER_PARAM_POLICY "policy" /* "accept" (default) or "drop" */
#define FILTER_PARAM_HOOK "hook"     /* "auto" (default), "link", "dlpi", "ip" */

/* Statistics */
#define FILTER_STAT_PACKETS_IN "packets_in"           /* packets examined going up */
#define FILTER_STAT_PACKETS_OUT "packets_out"         /* packets examined going down */
#define FILTER_STAT_ACCEPTED "accepted"               /* passed by an accept rule */
#define FILTER_STAT_DROPPED "dropped"                 /* dropped by a drop rule */
#define FILTER_STAT_POLICY_ACCEPTED "policy_accepted" /* no rule decided; policy accept */
#define FILTER_STAT_POLICY_DROPPED "policy_dropped"   /* no rule decided; policy drop */
#define FILTER_STAT_COUNTED "counted"                 /* count-rule matches */
#define FILTER_STAT_LOGGED "logged"                   /* log-rule matches */
#define FILTER_STAT_FOREIGN "foreign"                 /* packets the hook cannot see (passed) */
#define FILTER_STAT_OTHERS "others"                   /* messages that are no packets (passed) */

/* Drop reasons: indices into us_filter_desc.drop_reasons (us_drop_count). */
enum {
	FILTER_DROP_RULE,   /* "dropped by a rule" */
	FILTER_DROP_POLICY, /* "dropped by the default policy" */
	FILTER_DROP_N
};

/* The module's descriptor (registry name "filter"). */
struct _UsModuleDesc;
extern const struct _UsModuleDesc us_filter_desc;

#endif /* USTREAMS_FILTER_H */
