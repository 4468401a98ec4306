/* SPDX-License-Identifier: MIT */
/*
 * ether.h -- the public contract of the ether module: the DLSAP address
 * layout, limits, the "flags" bits, ioctl commands, parameter, statistic and
 * drop-reason names.  The DLPI primitives themselves are in <ustreams/dlpi.h>
 * and the frame layout in ether-wire.h.
 *
 * DLSAP addresses (dl_addr_length 8, dl_sap_length -2, as Solaris Ethernet):
 *
 *     byte 0..5   MAC address
 *     byte 6..7   SAP (the ethertype) in HOST byte order, as illumos puts it
 *
 * They appear in DL_INFO_ACK (once bound), DL_BIND_ACK, DL_UNITDATA_REQ
 * (dl_dest_addr), DL_UNITDATA_IND (dl_dest_addr and dl_src_addr, both with the
 * frame's ethertype) and DL_UDERROR_IND.  DL_PHYS_ADDR_ACK, DL_SET_PHYS_ADDR,
 * DL_ENABMULTI/DL_DISABMULTI and the DL_INFO_ACK broadcast address carry the
 * bare 6-byte MAC.  DL_SUBS_BIND_REQ/DL_SUBS_UNBIND_REQ carry the bare 2-byte
 * SAP (host order).
 */
#ifndef USTREAMS_ETHER_H
#define USTREAMS_ETHER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <ustreams/dlpi.h>

#include "ether-wire.h"

/* ------------------------------------------------------------------ */
/* DLSAP addresses                                                    */
/* ------------------------------------------------------------------ */

#define ETHER_DLSAP_LEN 8     /* dl_addr_length */
#define ETHER_SAP_LEN 2       /* bytes of SAP in a DLSAP address */
#define ETHER_SAP_LENGTH (-2) /* dl_sap_length: the SAP follows the MAC */

/* A SAP that DL_BIND_REQ accepts: an ethertype, above the 802.3 lengths. */
static inline bool
ether_sap_valid(uint32_t sap)
{
	return sap > ETHER_MAX_LENGTH_FIELD && sap <= 0xffff;
}

static inline void
ether_dlsap_make(uint8_t out[ETHER_DLSAP_LEN], const uint8_t mac[ETHER_ALEN], uint16_t sap)
{
	memcpy(out, mac, ETHER_ALEN);
	memcpy(out + ETHER_ALEN, &sap, ETHER_SAP_LEN);
}

static inline uint16_t
ether_dlsap_sap(const uint8_t *dlsap)
{
	uint16_t sap;
	memcpy(&sap, dlsap + ETHER_ALEN, ETHER_SAP_LEN);
	return sap;
}

/* ------------------------------------------------------------------ */
/* Limits and defaults                                                */
/* ------------------------------------------------------------------ */

#define ETHER_SAP_MAX 8    /* ethertypes bound on one stream (DL_TOOMANY) */
#define ETHER_MCAST_MAX 16 /* multicast addresses enabled (DL_TOOMANY) */
#define ETHER_DEFAULT_MAC "02:00:00:00:00:01"
#define ETHER_DEFAULT_MTU 1500
#define ETHER_MIN_MTU 68
#define ETHER_MAX_MTU 65535
#define ETHER_LSO_MAX 65535 /* payload of a HW_LSO frame: one IP packet at most */

/* Notifications DL_NOTIFY_REQ can enable (the DL_NOTIFY_ACK set). */
#define ETHER_NOTES                                                                   \
	(DL_NOTE_PHYS_ADDR | DL_NOTE_LINK_UP | DL_NOTE_LINK_DOWN | DL_NOTE_SDU_SIZE | \
	 DL_NOTE_FASTPATH_FLUSH)

/* ------------------------------------------------------------------ */
/* Interface flags: the "flags" statistic (Linux/BSD IFF_* values)     */
/* ------------------------------------------------------------------ */

#define ETHER_IFF_UP 0x0001        /* "up" parameter */
#define ETHER_IFF_BROADCAST 0x0002 /* "broadcast" parameter */
#define ETHER_IFF_PROMISC 0x0100   /* "promisc" parameter or DL_PROMISC_PHYS */
#define ETHER_IFF_ALLMULTI 0x0200  /* DL_PROMISC_MULTI */
#define ETHER_IFF_MULTICAST 0x1000 /* "multicast" parameter */

/* ------------------------------------------------------------------ */
/* ioctls                                                             */
/* ------------------------------------------------------------------ */
/*
 * Handled by ether (M_IOCTL, I_STR form; TRANSPARENT is NAKed with EINVAL):
 *   DL_IOC_HDR_INFO   the fast path (Solaris semantics, see ether.c)
 *   DLIOCRAW          raw mode: whole frames as M_DATA both ways
 *   ETHER_IOC_GETSAPS reply data: the bound SAPs, uint16_t each, host order,
 *                     in binding order (the first is the DL_BIND_REQ one)
 *   ETHER_IOC_GETMCAST reply data: the enabled multicast addresses, 6 bytes
 *                     each, in the order they were enabled
 * Every other ioctl is passed down to the driver.
 */
#define ETHER_IOC ('E' << 8)
#define ETHER_IOC_GETSAPS (ETHER_IOC | 1)
#define ETHER_IOC_GETMCAST (ETHER_IOC | 2)

/* ------------------------------------------------------------------ */
/* Parameters, statistics, drop reasons                               */
/* ------------------------------------------------------------------ */

#define ETHER_PARAM_MAC "mac"             /* string, current address */
#define ETHER_PARAM_MTU "mtu"             /* dl_max_sdu */
#define ETHER_PARAM_MRU "mru"             /* largest payload received; 0: mtu */
#define ETHER_PARAM_VLAN "vlan"           /* 0 untagged, else VID to tag/accept */
#define ETHER_PARAM_UP "up"               /* interface up */
#define ETHER_PARAM_BROADCAST "broadcast" /* receive broadcast frames */
#define ETHER_PARAM_MULTICAST "multicast" /* receive enabled multicast */
#define ETHER_PARAM_PROMISC "promisc"     /* all unicast (like DL_PROMISC_PHYS) */

#define ETHER_STAT_IPACKETS "ipackets"           /* well-formed frames received */
#define ETHER_STAT_IBYTES "ibytes"               /* their bytes, header included */
#define ETHER_STAT_IERRORS "ierrors"             /* runt and oversize frames */
#define ETHER_STAT_IMCASTS "imcasts"             /* accepted multicast/broadcast */
#define ETHER_STAT_OPACKETS "opackets"           /* frames sent down */
#define ETHER_STAT_OBYTES "obytes"               /* their bytes, header included */
#define ETHER_STAT_OERRORS "oerrors"             /* frames that could not be sent */
#define ETHER_STAT_OMCASTS "omcasts"             /* multicast/broadcast sent */
#define ETHER_STAT_NOPROTO "noproto"             /* accepted, but no bound SAP */
#define ETHER_STAT_VLAN_IPACKETS "vlan_ipackets" /* 802.1Q-tagged frames received */
#define ETHER_STAT_VLAN_LAST_ID "vlan_last_id"   /* VID of the last tagged frame */
#define ETHER_STAT_FLAGS "flags"                 /* ETHER_IFF_* */
#define ETHER_STAT_UNITDATA_IND "unitdata_ind"   /* DL_UNITDATA_IND sent up */
#define ETHER_STAT_UNITDATA_REQ "unitdata_req"   /* DL_UNITDATA_REQ sent as frames */
#define ETHER_STAT_FASTPATH_IN "fastpath_in"     /* frames sent up as fast-path M_DATA */
#define ETHER_STAT_FASTPATH_OUT "fastpath_out"   /* fast-path/raw M_DATA sent down */
#define ETHER_STAT_DL_ERRORS "dl_errors"         /* DL_ERROR_ACK + DL_UDERROR_IND sent */

/* Drop reasons: indices into us_ether_desc.drop_reasons (us_drop_count). */
enum {
	ETHER_DROP_RUNT,         /* shorter than its header */
	ETHER_DROP_OVERSIZE,     /* payload above mru (in) or mtu (out) */
	ETHER_DROP_NOT_FOR_US,   /* destination filtered out */
	ETHER_DROP_UNBOUND_SAP,  /* no bound SAP for the ethertype */
	ETHER_DROP_LLC,          /* 802.3 length field (LLC) frame */
	ETHER_DROP_NOT_BOUND,    /* stream not in DL_IDLE */
	ETHER_DROP_OTHER_VLAN,   /* tag missing or VID differs from "vlan" */
	ETHER_DROP_DOWN,         /* "up" is false */
	ETHER_DROP_BADPRIM,      /* M_PROTO too short to hold a primitive */
	ETHER_DROP_BADIOCTL,     /* M_IOCTL too short to hold an iocblk */
	ETHER_DROP_NOT_FASTPATH, /* M_DATA down outside fast-path/raw mode */
	ETHER_DROP_NOMEM,        /* allocation failed */
	ETHER_DROP_N
};

/* ------------------------------------------------------------------ */
/* Address text                                                       */
/* ------------------------------------------------------------------ */

#define ETHER_ADDRSTRLEN 18 /* "xx:xx:xx:xx:xx:xx" and its NUL */

/* Parses six hex octets separated by ':' or '-' (one or two digits each).
 * Returns false, leaving out untouched, on anything else. */
static inline bool
ether_addr_parse(const char *s, uint8_t out[ETHER_ALEN])
{
	uint8_t a[ETHER_ALEN];
	for (int i = 0; i < ETHER_ALEN; i++) {
		unsigned int v = 0, digits = 0;
		for (; digits < 2; digits++, s++) {
			char c = *s;
			int d = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10
						       : -1;
			if (d < 0)
				break;
			v = v * 16 + (unsigned int)d;
		}
		if (digits == 0)
			return false;
		a[i] = (uint8_t)v;
		if (i < ETHER_ALEN - 1 && *s != ':' && *s != '-')
			return false;
		if (i < ETHER_ALEN - 1)
			s++;
	}
	if (*s != '\0')
		return false;
	memcpy(out, a, ETHER_ALEN);
	return true;
}

/* Formats as "xx:xx:xx:xx:xx:xx" (lower case). */
static inline void
ether_addr_format(const uint8_t a[ETHER_ALEN], char buf[ETHER_ADDRSTRLEN])
{
	snprintf(buf, ETHER_ADDRSTRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3],
		 a[4], a[5]);
}

/* The module's descriptor (registry name "ether"). */
struct _UsModuleDesc;
extern const struct _UsModuleDesc us_ether_desc;

#endif /* USTREAMS_ETHER_H */
