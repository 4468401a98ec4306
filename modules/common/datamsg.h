/* SPDX-License-Identifier: MIT */
/*
 * datamsg.h -- helpers shared by modules that act on the data messages of
 * any stream they are pushed on (impair, ratelimit): which messages carry
 * network data, and a flush that counts what it discards.
 *
 * A data message is M_DATA (a raw frame below ether, a fast-path packet
 * between ether and ip, or stream data above a transport) or an M_PROTO
 * whose primitive is one of the connectionless data primitives whose
 * payload follows in b_cont: DL_UNITDATA_REQ/IND (DLPI), IP_UNITDATA_REQ/IND
 * (ip's primitives to transports, modules/ip/ip.h) and T_UNITDATA_REQ/IND
 * (TPI).  Every other message is control: it is never impaired or limited.
 *
 * Header-only (static inline) so that a module can be built in or out of
 * tree with nothing more than this file.
 */
#ifndef USTREAMS_MODULES_DATAMSG_H
#define USTREAMS_MODULES_DATAMSG_H

#include <ustreams/dlpi.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/tihdr.h>

#include "../ip/ip.h"

#include <glib.h>
#include <stdint.h>
#include <string.h>

/* The primitive at the start of an M_PROTO/M_PCPROTO block, or 0 when the
 * block is too short to hold one (mp is only looked at). */
static inline uint32_t
us_datamsg_prim(const mblk_t *mp)
{
	uint32_t prim = 0;
	if (MBLKL(mp) >= sizeof prim)
		memcpy(&prim, mp->b_rptr, sizeof prim);
	return prim;
}

/* TRUE when mp carries network data (see above); mp is only looked at.
 * DL_UNITDATA_IND and T_UNITDATA_REQ share the value 8. */
static inline gboolean
us_datamsg_is_data(const mblk_t *mp)
{
	if (DB_TYPE(mp) == M_DATA)
		return TRUE;
	if (DB_TYPE(mp) != M_PROTO)
		return FALSE;
	switch (us_datamsg_prim(mp)) {
	case DL_UNITDATA_REQ:
	case DL_UNITDATA_IND: /* == T_UNITDATA_REQ */
	case T_UNITDATA_IND:
	case IP_UNITDATA_REQ:
	case IP_UNITDATA_IND: return TRUE;
	default: return FALSE;
	}
}

/* Removes from q every data-class message (datamsg(): M_DATA, M_PROTO,
 * M_PCPROTO, M_DELAY) -- of band `band` only when by_band -- and drops each
 * through us_drop(q, mp, reason), as flushq(q, FLUSHDATA) would free them
 * silently.  Returns the number dropped. */
static inline guint
us_datamsg_flushq(queue_t *q, gboolean by_band, unsigned char band, guint reason)
{
	guint n = 0;
	mblk_t *mp = q->q_first;
	while (mp != NULL) {
		mblk_t *next = mp->b_next;
		if (datamsg(DB_TYPE(mp)) && (!by_band || mp->b_band == band)) {
			rmvq(q, mp);
			us_drop(q, mp, reason);
			n++;
		}
		mp = next;
	}
	return n;
}

#endif /* USTREAMS_MODULES_DATAMSG_H */
