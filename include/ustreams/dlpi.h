/* SPDX-License-Identifier: MIT */
/*
 * dlpi.h -- the Data Link Provider Interface, version 2: DL_* primitive
 * numbers and structures exchanged in M_PROTO/M_PCPROTO messages between a
 * data link provider (the ether module, a loopback or tunnel link) and its
 * users (ip, arp, a packet tracer), plus the Solaris fast-path ioctls.
 *
 * Defined by the UNIX International "Data Link Provider Interface
 * Specification" rev. 2.0.0 (Sun 800-6915-01) with the Solaris additions
 * (DL_NOTIFY_*, DL_CAPABILITY_*, DLIOCRAW, DL_IOC_HDR_INFO), as in illumos
 * <sys/dlpi.h>.  Names, fields and numbers are illumos'.
 *
 * Every primitive starts with dl_primitive; addresses follow the fixed part
 * in the same block and are located by its dl_XXX_length/dl_XXX_offset field
 * pairs, offsets counted from the start of the primitive.  On Ethernet,
 * Solaris providers use a DLSAP address of the 6-byte MAC address followed by
 * the 2-byte SAP (ethertype) and report dl_sap_length == -2.
 *
 * The fast path (DL_IOC_HDR_INFO, Solaris semantics): the user sends an
 * M_IOCTL whose b_cont holds a dl_unitdata_req_t with the destination; the
 * provider answers M_IOCACK with that block kept and a further b_cont holding
 * the ready link-layer header.  From then on the user sends plain M_DATA
 * (header prepended) and the provider sends nothing per packet but M_DATA.
 * DL_NOTE_FASTPATH_FLUSH tells users to throw their headers away.
 *
 * Deviations from illumos:
 *  - t_scalar_t/t_uscalar_t come from <ustreams/stropts.h> (illumos:
 *    <sys/types.h>); this header does not include <ustreams/stream.h>.
 *  - dl_notify_ind_t names its data with a C11 anonymous union (dl_data,
 *    dl_data1, dl_data2 are members, not macros over a dl_dlu member).
 *  - Kernel-only capability structures that carry function pointers
 *    (dl_capab_dld_t, dl_capab_vrrp_t, the obsolete poll/soft-ring and MDT
 *    ones) and the aggregation control details are not defined; their
 *    primitive numbers are.  The kernel helpers dlbindack(), dlokack(),
 *    dlerrorack() ... are not declared here.
 *  - dl_ipnetinfo_t and DLIOCIPNETINFO/DLIOCLOWLINK are not defined.
 */
#ifndef USTREAMS_DLPI_H
#define USTREAMS_DLPI_H

#include <stdint.h>
#include <sys/types.h>

#include <ustreams/stropts.h> /* t_scalar_t, t_uscalar_t */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Solaris ioctls (M_IOCTL to the provider)                           */
/* ------------------------------------------------------------------ */

#define DLIOC ('D' << 8)
#define DLIOCRAW (DLIOC | 1)        /* M_DATA carries whole frames both ways */
#define DLIOCNATIVE (DLIOC | 2)     /* native (not emulated) traffic mode */
#define DLIOCMARGININFO (DLIOC | 3) /* extra bytes allowed past dl_max_sdu */
#define DLIOCHDRINFO (DLIOC | 10)   /* fast path: get a prebuilt header */
#define DL_IOC_HDR_INFO DLIOCHDRINFO

/*
 * ustreams addition: DLIOCLINKCAPAB asks a raw-frame driver (below a DLPI
 * module such as ether) for the offloads it performs.  A driver that has any
 * answers M_IOCACK with a struct dl_link_capab in b_cont; others NAK it, which
 * means none.  The DLPI module turns the answer into DL_CAPABILITY_ACK
 * sub-capabilities (DL_CAPAB_HCKSUM, DL_CAPAB_LSO).
 */
#define DLIOCLINKCAPAB (DLIOC | 0x40)
struct dl_link_capab {
	uint32_t dlc_hcksum_txflags; /* HCKSUM_INET_PARTIAL ... (0: none) */
	uint32_t dlc_lso_flags;      /* LSO_TX_BASIC_TCP_IPV4 (0: no LSO) */
	uint32_t dlc_lso_max;        /* largest HW_LSO packet, IP header included */
};
/* The answer of a driver whose peer completes partial checksums and cuts TCP
 * over IPv4 up to max bytes (tap, wire). */
#define DL_LINK_CAPAB_TSO4(max) \
	((struct dl_link_capab){ HCKSUM_INET_PARTIAL, LSO_TX_BASIC_TCP_IPV4, (max) })

/* ------------------------------------------------------------------ */
/* Version                                                            */
/* ------------------------------------------------------------------ */

#define DL_CURRENT_VERSION 0x02
#define DL_VERSION_2 0x02

/* ------------------------------------------------------------------ */
/* Primitives                                                         */
/* ------------------------------------------------------------------ */

/* Local management */
#define DL_INFO_REQ 0x00        /* provider information */
#define DL_BIND_REQ 0x01        /* bind a DLSAP (ethertype) */
#define DL_UNBIND_REQ 0x02      /* unbind */
#define DL_INFO_ACK 0x03        /* answer to DL_INFO_REQ */
#define DL_BIND_ACK 0x04        /* bound */
#define DL_ERROR_ACK 0x05       /* the last request failed */
#define DL_OK_ACK 0x06          /* the last request succeeded */
#define DL_ATTACH_REQ 0x0b      /* attach a PPA (style 2) */
#define DL_DETACH_REQ 0x0c      /* detach the PPA */
#define DL_SUBS_UNBIND_REQ 0x15 /* unbind a subsequent DLSAP */
#define DL_SUBS_BIND_REQ 0x1b   /* bind a subsequent DLSAP */
#define DL_SUBS_BIND_ACK 0x1c   /* subsequent DLSAP bound */
#define DL_ENABMULTI_REQ 0x1d   /* receive a multicast address */
#define DL_DISABMULTI_REQ 0x1e  /* stop receiving it */
#define DL_PROMISCON_REQ 0x1f   /* promiscuous mode on */
#define DL_PROMISCOFF_REQ 0x20  /* promiscuous mode off */

/* Connectionless service */
#define DL_UNITDATA_REQ 0x07 /* send a frame */
#define DL_UNITDATA_IND 0x08 /* a frame arrived */
#define DL_UDERROR_IND 0x09  /* a frame could not be sent */
#define DL_UDQOS_REQ 0x0a    /* QOS for following frames */

/* Connection-oriented service */
#define DL_CONNECT_REQ 0x0d
#define DL_CONNECT_IND 0x0e
#define DL_CONNECT_RES 0x0f
#define DL_CONNECT_CON 0x10
#define DL_TOKEN_REQ 0x11
#define DL_TOKEN_ACK 0x12
#define DL_DISCONNECT_REQ 0x13
#define DL_DISCONNECT_IND 0x14
#define DL_RESET_REQ 0x17
#define DL_RESET_IND 0x18
#define DL_RESET_RES 0x19
#define DL_RESET_CON 0x1a

/* Acknowledged connectionless service */
#define DL_DATA_ACK_REQ 0x21
#define DL_DATA_ACK_IND 0x22
#define DL_DATA_ACK_STATUS_IND 0x23
#define DL_REPLY_REQ 0x24
#define DL_REPLY_IND 0x25
#define DL_REPLY_STATUS_IND 0x26
#define DL_REPLY_UPDATE_REQ 0x27
#define DL_REPLY_UPDATE_STATUS_IND 0x28

/* XID and TEST */
#define DL_XID_REQ 0x29
#define DL_XID_IND 0x2a
#define DL_XID_RES 0x2b
#define DL_XID_CON 0x2c
#define DL_TEST_REQ 0x2d
#define DL_TEST_IND 0x2e
#define DL_TEST_RES 0x2f
#define DL_TEST_CON 0x30

/* Physical address and statistics */
#define DL_PHYS_ADDR_REQ 0x31      /* get the factory or current address */
#define DL_PHYS_ADDR_ACK 0x32      /* the address */
#define DL_SET_PHYS_ADDR_REQ 0x33  /* set the current address */
#define DL_GET_STATISTICS_REQ 0x34 /* get statistics */
#define DL_GET_STATISTICS_ACK 0x35 /* the statistics */

/* Solaris local management */
#define DL_NOTIFY_REQ 0x100     /* enable DL_NOTE_* notifications */
#define DL_NOTIFY_ACK 0x101     /* the supported notifications */
#define DL_NOTIFY_IND 0x102     /* a notification */
#define DL_AGGR_REQ 0x103       /* enable link aggregation */
#define DL_AGGR_IND 0x104       /* link aggregation result */
#define DL_UNAGGR_REQ 0x105     /* disable link aggregation */
#define DL_CAPABILITY_REQ 0x110 /* query or enable capabilities */
#define DL_CAPABILITY_ACK 0x111 /* the capabilities */
#define DL_CONTROL_REQ 0x112    /* device specific control */
#define DL_CONTROL_ACK 0x113
#define DL_PASSIVE_REQ 0x114   /* allow access to an aggregated link */
#define DL_INTR_MODE_REQ 0x115 /* receive processing in interrupt mode */
#define DL_NOTIFY_CONF 0x116   /* notification from upstream */

#define DL_PRIM_INVAL 0xffff /* never a valid primitive */

/* ------------------------------------------------------------------ */
/* States (dl_current_state)                                          */
/* ------------------------------------------------------------------ */

#define DL_UNBOUND 0x00            /* attached, not bound */
#define DL_BIND_PENDING 0x01       /* waiting for the ack of DL_BIND_REQ */
#define DL_UNBIND_PENDING 0x02     /* waiting for the ack of DL_UNBIND_REQ */
#define DL_IDLE 0x03               /* bound */
#define DL_UNATTACHED 0x04         /* no PPA attached (style 2) */
#define DL_ATTACH_PENDING 0x05     /* waiting for the ack of DL_ATTACH_REQ */
#define DL_DETACH_PENDING 0x06     /* waiting for the ack of DL_DETACH_REQ */
#define DL_UDQOS_PENDING 0x07      /* waiting for the ack of DL_UDQOS_REQ */
#define DL_OUTCON_PENDING 0x08     /* waiting for DL_CONNECT_CON */
#define DL_INCON_PENDING 0x09      /* waiting for DL_CONNECT_RES */
#define DL_CONN_RES_PENDING 0x0a   /* waiting for the ack of DL_CONNECT_RES */
#define DL_DATAXFER 0x0b           /* connection-oriented data transfer */
#define DL_USER_RESET_PENDING 0x0c /* waiting for DL_RESET_CON */
#define DL_PROV_RESET_PENDING 0x0d /* waiting for DL_RESET_RES */
#define DL_RESET_RES_PENDING 0x0e  /* waiting for the ack of DL_RESET_RES */
#define DL_DISCON8_PENDING 0x0f    /* waiting for the ack of DL_DISCONNECT_REQ */
#define DL_DISCON9_PENDING 0x10
#define DL_DISCON11_PENDING 0x11
#define DL_DISCON12_PENDING 0x12
#define DL_DISCON13_PENDING 0x13
#define DL_SUBS_BIND_PND 0x14   /* waiting for the ack of DL_SUBS_BIND_REQ */
#define DL_SUBS_UNBIND_PND 0x15 /* waiting for the ack of DL_SUBS_UNBIND_REQ */

/* ------------------------------------------------------------------ */
/* Error codes (dl_errno)                                             */
/* ------------------------------------------------------------------ */

#define DL_BADSAP 0x00        /* bad SAP */
#define DL_BADADDR 0x01       /* bad DLSAP address */
#define DL_ACCESS 0x02        /* no permission */
#define DL_OUTSTATE 0x03      /* primitive out of state */
#define DL_SYSERR 0x04        /* system error, see dl_unix_errno */
#define DL_BADCORR 0x05       /* unknown correlation token */
#define DL_BADDATA 0x06       /* too much user data */
#define DL_UNSUPPORTED 0x07   /* service not supplied */
#define DL_BADPPA 0x08        /* bad PPA */
#define DL_BADPRIM 0x09       /* unknown primitive */
#define DL_BADQOSPARAM 0x0a   /* bad QOS values */
#define DL_BADQOSTYPE 0x0b    /* unknown QOS structure type */
#define DL_BADTOKEN 0x0c      /* bad token */
#define DL_BOUND 0x0d         /* second bind with dl_max_conind > 0 */
#define DL_INITFAILED 0x0e    /* link initialisation failed */
#define DL_NOADDR 0x0f        /* no address could be allocated */
#define DL_NOTINIT 0x10       /* link not initialised */
#define DL_UNDELIVERABLE 0x11 /* a previous frame could not be delivered */
#define DL_NOTSUPPORTED 0x12  /* primitive known but not supported */
#define DL_TOOMANY 0x13       /* a limit was exceeded */
#define DL_NOTENAB 0x14       /* promiscuous mode was not on */
#define DL_BUSY 0x15          /* other streams of the PPA are attached */
#define DL_NOAUTO 0x16        /* no automatic XID/TEST handling */
#define DL_NOXIDAUTO 0x17     /* no automatic XID handling */
#define DL_NOTESTAUTO 0x18    /* no automatic TEST handling */
#define DL_XIDAUTO 0x19       /* XID responses are automatic */
#define DL_TESTAUTO 0x1a      /* TEST responses are automatic */
#define DL_PENDING 0x1b       /* connect indications outstanding */

/* ------------------------------------------------------------------ */
/* Media types (dl_mac_type)                                          */
/* ------------------------------------------------------------------ */

#define DL_CSMACD 0x0    /* IEEE 802.3 */
#define DL_TPB 0x1       /* IEEE 802.4 token bus */
#define DL_TPR 0x2       /* IEEE 802.5 token ring */
#define DL_METRO 0x3     /* IEEE 802.6 */
#define DL_ETHER 0x4     /* Ethernet */
#define DL_HDLC 0x05     /* ISO HDLC */
#define DL_CHAR 0x06     /* character synchronous */
#define DL_CTCA 0x07     /* IBM channel-to-channel */
#define DL_FDDI 0x08     /* FDDI */
#define DL_OTHER 0x09    /* anything else */
#define DL_FRAME 0x0a    /* frame relay LAPF */
#define DL_MPFRAME 0x0b  /* multi-protocol over frame relay */
#define DL_ASYNC 0x0c    /* character asynchronous */
#define DL_IPX25 0x0d    /* X.25 classical IP */
#define DL_LOOP 0x0e     /* software loopback */
#define DL_FC 0x10       /* fibre channel */
#define DL_ATM 0x11      /* ATM */
#define DL_IPATM 0x12    /* ATM classical IP */
#define DL_X25 0x13      /* X.25 LAPB */
#define DL_ISDN 0x14     /* ISDN */
#define DL_HIPPI 0x15    /* HIPPI */
#define DL_100VG 0x16    /* 100VG-AnyLAN Ethernet */
#define DL_100VGTPR 0x17 /* 100VG-AnyLAN token ring */
#define DL_ETH_CSMA 0x18 /* ISO 8802/3 and Ethernet */
#define DL_100BT 0x19    /* 100Base-T */
#define DL_IB 0x1a       /* InfiniBand */
/* Private media types live above 0x80000000. */
#define DL_IPV4 0x80000001ul      /* IPv4 tunnel */
#define DL_IPV6 0x80000002ul      /* IPv6 tunnel */
#define SUNW_DL_VNI 0x80000003ul  /* virtual network interface */
#define DL_WIFI 0x80000004ul      /* IEEE 802.11 */
#define DL_IPNET 0x80000005ul     /* ipnet observability link */
#define SUNW_DL_IPMP 0x80000006ul /* IPMP stub */
#define DL_6TO4 0x80000007ul      /* 6to4 tunnel */

/* ------------------------------------------------------------------ */
/* Service modes, styles, other field values                          */
/* ------------------------------------------------------------------ */

/* dl_service_mode (may be ORed in DL_INFO_ACK) */
#define DL_CODLS 0x01  /* connection-oriented */
#define DL_CLDLS 0x02  /* connectionless */
#define DL_ACLDLS 0x04 /* acknowledged connectionless */

/* dl_provider_style */
#define DL_STYLE1 0x0500 /* the PPA is implied by the open */
#define DL_STYLE2 0x0501 /* the PPA is chosen with DL_ATTACH_REQ */

/* dl_originator of disconnects and resets */
#define DL_PROVIDER 0x0700
#define DL_USER 0x0701

/* Disconnect reasons */
#define DL_CONREJ_DEST_UNKNOWN 0x0800
#define DL_CONREJ_DEST_UNREACH_PERMANENT 0x0801
#define DL_CONREJ_DEST_UNREACH_TRANSIENT 0x0802
#define DL_CONREJ_QOS_UNAVAIL_PERMANENT 0x0803
#define DL_CONREJ_QOS_UNAVAIL_TRANSIENT 0x0804
#define DL_CONREJ_PERMANENT_COND 0x0805
#define DL_CONREJ_TRANSIENT_COND 0x0806
#define DL_DISC_ABNORMAL_CONDITION 0x0807
#define DL_DISC_NORMAL_CONDITION 0x0808
#define DL_DISC_PERMANENT_CONDITION 0x0809
#define DL_DISC_TRANSIENT_CONDITION 0x080a
#define DL_DISC_UNSPECIFIED 0x080b

/* Reset reasons */
#define DL_RESET_FLOW_CONTROL 0x0900
#define DL_RESET_LINK_ERROR 0x0901
#define DL_RESET_RESYNCH 0x0902

/* Acknowledged connectionless status */
#define DL_CMD_MASK 0x0f
#define DL_CMD_OK 0x00
#define DL_CMD_RS 0x01
#define DL_CMD_UE 0x05
#define DL_CMD_PE 0x06
#define DL_CMD_IP 0x07
#define DL_CMD_UN 0x09
#define DL_CMD_IT 0x0f
#define DL_RSP_MASK 0xf0
#define DL_RSP_OK 0x00
#define DL_RSP_RS 0x10
#define DL_RSP_NE 0x30
#define DL_RSP_NR 0x40
#define DL_RSP_UE 0x50
#define DL_RSP_IP 0x70
#define DL_RSP_UN 0x90
#define DL_RSP_IT 0xf0

/* dl_service_class */
#define DL_RQST_RSP 0x01
#define DL_RQST_NORSP 0x02

/* dl_addr_type of DL_PHYS_ADDR_REQ */
#define DL_FACT_PHYS_ADDR 0x01       /* factory address */
#define DL_CURR_PHYS_ADDR 0x02       /* current address */
#define DL_IPV6_TOKEN 0x03           /* IPv6 interface token */
#define DL_IPV6_LINK_LAYER_ADDR 0x04 /* neighbour discovery format */
#define DL_CURR_DEST_ADDR 0x05       /* current destination (point-to-point) */

/* dl_flag of XID/TEST */
#define DL_POLL_FINAL 0x01

/* dl_xidtest_flg */
#define DL_AUTO_XID 0x01
#define DL_AUTO_TEST 0x02

/* dl_subs_bind_class */
#define DL_PEER_BIND 0x01
#define DL_HIERARCHICAL_BIND 0x02

/* dl_level of DL_PROMISCON_REQ/DL_PROMISCOFF_REQ */
#define DL_PROMISC_PHYS 0x01     /* every frame on the link */
#define DL_PROMISC_SAP 0x02      /* every SAP */
#define DL_PROMISC_MULTI 0x03    /* every multicast address */
#define DL_PROMISC_RX_ONLY 0x04  /* with the above: received frames only */
#define DL_PROMISC_INCOMING 0x05 /* with the above: incoming traffic only */
#define DL_PROMISC_OUTGOING 0x06 /* with the above: outgoing traffic only */

/* DL_NOTIFY_REQ/ACK/IND notifications (bit set) */
#define DL_NOTE_PHYS_ADDR 0x0001        /* physical address changed */
#define DL_NOTE_PROMISC_ON_PHYS 0x0002  /* DL_PROMISC_PHYS set on the PPA */
#define DL_NOTE_PROMISC_OFF_PHYS 0x0004 /* DL_PROMISC_PHYS cleared */
#define DL_NOTE_LINK_DOWN 0x0008        /* link down */
#define DL_NOTE_LINK_UP 0x0010          /* link up */
#define DL_NOTE_AGGR_AVAIL 0x0020       /* aggregation available */
#define DL_NOTE_AGGR_UNAVAIL 0x0040     /* aggregation unavailable */
#define DL_NOTE_SDU_SIZE 0x0080         /* new SDU size in dl_data */
#define DL_NOTE_SPEED 0x0100            /* approximate link speed in dl_data */
#define DL_NOTE_FASTPATH_FLUSH 0x0200   /* fast-path headers are stale */
#define DL_NOTE_CAPAB_RENEG 0x0400      /* renegotiate capabilities */
#define DL_NOTE_REPLUMB 0x0800          /* replumb the link */
#define DL_NOTE_ALLOWED_IPS 0x1000      /* allowed-ips changed */
#define DL_NOTE_SDU_SIZE2 0x2000        /* unicast/multicast SDU in dl_data1/2 */

/* DL_NOTIFY_CONF notifications */
#define DL_NOTE_REPLUMB_DONE 0x0001

/* ------------------------------------------------------------------ */
/* Quality of service                                                 */
/* ------------------------------------------------------------------ */

#define DL_NONE 0x0B01    /* no protection */
#define DL_MONITOR 0x0B02 /* protection from passive monitoring */
#define DL_MAXIMUM 0x0B03 /* protection from modification, replay ... */

#define DL_UNKNOWN (-1)       /* QOS value unknown */
#define DL_QOS_DONT_CARE (-2) /* any QOS value will do */

#define DL_QOS_CO_RANGE1 0x0101
#define DL_QOS_CO_SEL1 0x0102
#define DL_QOS_CL_RANGE1 0x0103
#define DL_QOS_CL_SEL1 0x0104

typedef struct {
	t_scalar_t dl_target_value; /* bits/second wanted */
	t_scalar_t dl_accept_value; /* least acceptable */
} dl_through_t;

typedef struct {
	t_scalar_t dl_target_value; /* milliseconds for a 128-byte DLSDU */
	t_scalar_t dl_accept_value;
} dl_transdelay_t;

typedef struct {
	t_scalar_t dl_min; /* 0 (highest) .. 100 */
	t_scalar_t dl_max;
} dl_priority_t;

typedef struct {
	t_scalar_t dl_min; /* DL_NONE, DL_MONITOR, DL_MAXIMUM */
	t_scalar_t dl_max;
} dl_protect_t;

typedef struct {
	t_scalar_t dl_disc_prob; /* per 10000 in 10000 s */
	t_scalar_t dl_reset_prob;
} dl_resilience_t;

typedef struct {
	t_uscalar_t dl_qos_type; /* DL_QOS_CO_RANGE1 */
	dl_through_t dl_rcv_throughput;
	dl_transdelay_t dl_rcv_trans_delay;
	dl_through_t dl_xmt_throughput;
	dl_transdelay_t dl_xmt_trans_delay;
	dl_priority_t dl_priority;
	dl_protect_t dl_protection;
	t_scalar_t dl_residual_error;
	dl_resilience_t dl_resilience;
} dl_qos_co_range1_t;

typedef struct {
	t_uscalar_t dl_qos_type; /* DL_QOS_CO_SEL1 */
	t_scalar_t dl_rcv_throughput;
	t_scalar_t dl_rcv_trans_delay;
	t_scalar_t dl_xmt_throughput;
	t_scalar_t dl_xmt_trans_delay;
	t_scalar_t dl_priority;
	t_scalar_t dl_protection;
	t_scalar_t dl_residual_error;
	dl_resilience_t dl_resilience;
} dl_qos_co_sel1_t;

typedef struct {
	t_uscalar_t dl_qos_type; /* DL_QOS_CL_RANGE1 */
	dl_transdelay_t dl_trans_delay;
	dl_priority_t dl_priority;
	dl_protect_t dl_protection;
	t_scalar_t dl_residual_error;
} dl_qos_cl_range1_t;

typedef struct {
	t_uscalar_t dl_qos_type; /* DL_QOS_CL_SEL1 */
	t_scalar_t dl_trans_delay;
	t_scalar_t dl_priority;
	t_scalar_t dl_protection;
	t_scalar_t dl_residual_error;
} dl_qos_cl_sel1_t;

union DL_qos_types {
	t_uscalar_t dl_qos_type;
	dl_qos_co_range1_t qos_co_range1;
	dl_qos_co_sel1_t qos_co_sel1;
	dl_qos_cl_range1_t qos_cl_range1;
	dl_qos_cl_sel1_t qos_cl_sel1;
};

/* ------------------------------------------------------------------ */
/* Capabilities (DL_CAPABILITY_REQ/ACK sub-capabilities)              */
/* ------------------------------------------------------------------ */

#define DL_CAPAB_ID_WRAPPER 0x00 /* dl_capab_id_t wrapping another */
#define DL_CAPAB_HCKSUM 0x01     /* checksum offload, dl_capab_hcksum_t */
#define DL_CAPAB_MDT 0x04        /* obsolete */
#define DL_CAPAB_ZEROCOPY 0x05   /* dl_capab_zerocopy_t */
#define DL_CAPAB_DLD 0x06        /* illumos kernel direct calls (not here) */
#define DL_CAPAB_VRRP 0x07       /* illumos VRRP (not here) */
#define DL_CAPAB_LSO 0x08        /* large send offload, dl_capab_lso_t */

typedef struct {
	t_uscalar_t dl_cap;    /* DL_CAPAB_* */
	t_uscalar_t dl_length; /* bytes of data that follow */
} dl_capability_sub_t;

typedef struct {
	t_uscalar_t mid[4]; /* module identification token (private) */
} dl_mid_t;

typedef struct {
	dl_mid_t id_mid;
	dl_capability_sub_t id_subcap;
} dl_capab_id_t;

typedef struct {
	t_uscalar_t hcksum_version; /* HCKSUM_VERSION_1 */
	t_uscalar_t hcksum_txflags; /* HCKSUM_* */
	dl_mid_t hcksum_mid;
} dl_capab_hcksum_t;

#define HCKSUM_CURRENT_VERSION 0x01
#define HCKSUM_VERSION_1 0x01
#define HCKSUM_ENABLE 0x01       /* enable checksum offload */
#define HCKSUM_INET_PARTIAL 0x02 /* partial ones'-complement sum */
#define HCKSUM_INET_FULL_V4 0x04 /* full TCP/UDP checksum over IPv4 */
#define HCKSUM_INET_FULL_V6 0x08 /* full TCP/UDP checksum over IPv6 */
#define HCKSUM_IPHDRCKSUM 0x10   /* IPv4 header checksum */

/* DL_CAPAB_LSO: the provider cuts TCP segments of up to lso_max bytes (IP
 * header included) marked HW_LSO into segments of DB_LSOMSS payload bytes. */
typedef struct {
	t_uscalar_t lso_version; /* LSO_VERSION_1 */
	t_uscalar_t lso_flags;   /* LSO_TX_* */
	t_uscalar_t lso_max;     /* the largest such segment */
	dl_mid_t lso_mid;
} dl_capab_lso_t;

#define LSO_CURRENT_VERSION 0x01
#define LSO_VERSION_1 0x01
#define LSO_TX_BASIC_TCP_IPV4 0x01 /* TCP over IPv4 */

typedef struct {
	t_uscalar_t zerocopy_version; /* ZEROCOPY_VERSION_1 */
	t_uscalar_t zerocopy_flags;   /* DL_CAPAB_VMSAFE_MEM */
	t_uscalar_t reserved[9];
	dl_mid_t zerocopy_mid;
} dl_capab_zerocopy_t;

#define ZEROCOPY_CURRENT_VERSION 0x01
#define ZEROCOPY_VERSION_1 0x01
#define DL_CAPAB_VMSAFE_MEM 0x01

/* DL_CONTROL_REQ operations and types */
#define DL_CO_ADD 0x01
#define DL_CO_DELETE 0x02
#define DL_CO_FLUSH 0x03
#define DL_CO_GET 0x04
#define DL_CO_UPDATE 0x05
#define DL_CO_SET 0x06
#define DL_CT_IPSEC_AH 0x01
#define DL_CT_IPSEC_ESP 0x02

/* ------------------------------------------------------------------ */
/* Local management primitives                                        */
/* ------------------------------------------------------------------ */

typedef struct { /* DL_INFO_REQ, M_PCPROTO */
	t_uscalar_t dl_primitive;
} dl_info_req_t;

typedef struct { /* DL_INFO_ACK, M_PCPROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_max_sdu;       /* largest DLSDU (the MTU) */
	t_uscalar_t dl_min_sdu;       /* smallest DLSDU */
	t_uscalar_t dl_addr_length;   /* DLSAP address length */
	t_uscalar_t dl_mac_type;      /* DL_ETHER ... */
	t_uscalar_t dl_reserved;      /* zero */
	t_uscalar_t dl_current_state; /* DL_IDLE ... */
	t_scalar_t dl_sap_length;     /* SAP part; < 0: SAP follows the address */
	t_uscalar_t dl_service_mode;  /* DL_CLDLS ... */
	t_uscalar_t dl_qos_length;
	t_uscalar_t dl_qos_offset;
	t_uscalar_t dl_qos_range_length;
	t_uscalar_t dl_qos_range_offset;
	t_uscalar_t dl_provider_style; /* DL_STYLE1, DL_STYLE2 */
	t_uscalar_t dl_addr_offset;    /* the DLSAP address, once bound */
	t_uscalar_t dl_version;        /* DL_VERSION_2 */
	t_uscalar_t dl_brdcst_addr_length;
	t_uscalar_t dl_brdcst_addr_offset;
	t_uscalar_t dl_growth; /* zero */
} dl_info_ack_t;

typedef struct { /* DL_ATTACH_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_ppa; /* physical point of attachment */
} dl_attach_req_t;

typedef struct { /* DL_DETACH_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
} dl_detach_req_t;

typedef struct { /* DL_BIND_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_sap;         /* SAP (ethertype) */
	t_uscalar_t dl_max_conind;  /* connection indications (CO only) */
	uint16_t dl_service_mode;   /* DL_CLDLS ... */
	uint16_t dl_conn_mgmt;      /* nonzero: connection management stream */
	t_uscalar_t dl_xidtest_flg; /* DL_AUTO_XID, DL_AUTO_TEST */
} dl_bind_req_t;

typedef struct { /* DL_BIND_ACK, M_PCPROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_sap;
	t_uscalar_t dl_addr_length; /* the full DLSAP address bound */
	t_uscalar_t dl_addr_offset;
	t_uscalar_t dl_max_conind;
	t_uscalar_t dl_xidtest_flg;
} dl_bind_ack_t;

typedef struct { /* DL_SUBS_BIND_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_subs_sap_offset;
	t_uscalar_t dl_subs_sap_length;
	t_uscalar_t dl_subs_bind_class; /* DL_PEER_BIND, DL_HIERARCHICAL_BIND */
} dl_subs_bind_req_t;

typedef struct { /* DL_SUBS_BIND_ACK, M_PCPROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_subs_sap_offset;
	t_uscalar_t dl_subs_sap_length;
} dl_subs_bind_ack_t;

typedef struct { /* DL_UNBIND_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
} dl_unbind_req_t;

typedef struct { /* DL_SUBS_UNBIND_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_subs_sap_offset;
	t_uscalar_t dl_subs_sap_length;
} dl_subs_unbind_req_t;

typedef struct { /* DL_OK_ACK, M_PCPROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_correct_primitive; /* the primitive acknowledged */
} dl_ok_ack_t;

typedef struct { /* DL_ERROR_ACK, M_PCPROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_error_primitive; /* the primitive that failed */
	t_uscalar_t dl_errno;           /* DL_* error code */
	t_uscalar_t dl_unix_errno;      /* errno when dl_errno == DL_SYSERR */
} dl_error_ack_t;

typedef struct { /* DL_ENABMULTI_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_addr_length; /* multicast address */
	t_uscalar_t dl_addr_offset;
} dl_enabmulti_req_t;

typedef struct { /* DL_DISABMULTI_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_addr_length;
	t_uscalar_t dl_addr_offset;
} dl_disabmulti_req_t;

typedef struct { /* DL_PROMISCON_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_level; /* DL_PROMISC_* */
} dl_promiscon_req_t;

typedef struct { /* DL_PROMISCOFF_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_level;
} dl_promiscoff_req_t;

typedef struct { /* DL_PHYS_ADDR_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_addr_type; /* DL_FACT_PHYS_ADDR, DL_CURR_PHYS_ADDR ... */
} dl_phys_addr_req_t;

typedef struct { /* DL_PHYS_ADDR_ACK, M_PCPROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_addr_length;
	t_uscalar_t dl_addr_offset;
} dl_phys_addr_ack_t;

typedef struct { /* DL_SET_PHYS_ADDR_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_addr_length;
	t_uscalar_t dl_addr_offset;
} dl_set_phys_addr_req_t;

typedef struct { /* DL_GET_STATISTICS_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
} dl_get_statistics_req_t;

typedef struct { /* DL_GET_STATISTICS_ACK, M_PCPROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_stat_length;
	t_uscalar_t dl_stat_offset;
} dl_get_statistics_ack_t;

typedef struct { /* DL_NOTIFY_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	uint32_t dl_notifications; /* DL_NOTE_* wanted */
	uint32_t dl_timelimit;     /* milliseconds */
} dl_notify_req_t;

typedef struct { /* DL_NOTIFY_ACK, M_PROTO */
	t_uscalar_t dl_primitive;
	uint32_t dl_notifications; /* DL_NOTE_* supported */
} dl_notify_ack_t;

typedef struct { /* DL_NOTIFY_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	uint32_t dl_notification; /* one DL_NOTE_* */
	union {
		uint32_t dl_data; /* notification specific */
		struct {
			uint16_t dl_data1; /* DL_NOTE_SDU_SIZE2: unicast SDU */
			uint16_t dl_data2; /* DL_NOTE_SDU_SIZE2: multicast SDU */
		};
	};
	t_uscalar_t dl_addr_length; /* DL_NOTE_PHYS_ADDR: the new address */
	t_uscalar_t dl_addr_offset;
} dl_notify_ind_t;

typedef struct { /* DL_NOTIFY_CONF, M_PROTO */
	t_uscalar_t dl_primitive;
	uint32_t dl_notification;
} dl_notify_conf_t;

typedef struct { /* DL_AGGR_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	uint32_t dl_key;
	uint32_t dl_port;
	t_uscalar_t dl_addr_length;
	t_uscalar_t dl_addr_offset;
} dl_aggr_req_t;

typedef struct { /* DL_AGGR_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	uint32_t dl_key;
	uint32_t dl_port;
	t_uscalar_t dl_addr_length;
	t_uscalar_t dl_addr_offset;
} dl_aggr_ind_t;

typedef struct { /* DL_UNAGGR_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	uint32_t dl_key;
	uint32_t dl_port;
	t_uscalar_t dl_addr_length;
	t_uscalar_t dl_addr_offset;
} dl_unaggr_req_t;

typedef struct { /* DL_CAPABILITY_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_sub_offset; /* dl_capability_sub_t list; length 0: query */
	t_uscalar_t dl_sub_length;
} dl_capability_req_t;

typedef struct { /* DL_CAPABILITY_ACK, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_sub_offset;
	t_uscalar_t dl_sub_length;
} dl_capability_ack_t;

typedef struct { /* DL_CONTROL_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_operation; /* DL_CO_* */
	t_uscalar_t dl_type;      /* DL_CT_* */
	t_uscalar_t dl_key_offset;
	t_uscalar_t dl_key_length;
	t_uscalar_t dl_data_offset;
	t_uscalar_t dl_data_length;
} dl_control_req_t;

typedef struct { /* DL_CONTROL_ACK, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_operation;
	t_uscalar_t dl_type;
	t_uscalar_t dl_key_offset;
	t_uscalar_t dl_key_length;
	t_uscalar_t dl_data_offset;
	t_uscalar_t dl_data_length;
} dl_control_ack_t;

typedef struct { /* DL_PASSIVE_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
} dl_passive_req_t;

typedef struct { /* DL_INTR_MODE_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_sap;
	t_uscalar_t dl_imode; /* 0 off, 1 on */
} dl_intr_mode_req_t;

/* ------------------------------------------------------------------ */
/* Connection-oriented primitives                                     */
/* ------------------------------------------------------------------ */

typedef struct { /* DL_CONNECT_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
	t_uscalar_t dl_qos_length;
	t_uscalar_t dl_qos_offset;
	t_uscalar_t dl_growth;
} dl_connect_req_t;

typedef struct { /* DL_CONNECT_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_correlation;
	t_uscalar_t dl_called_addr_length;
	t_uscalar_t dl_called_addr_offset;
	t_uscalar_t dl_calling_addr_length;
	t_uscalar_t dl_calling_addr_offset;
	t_uscalar_t dl_qos_length;
	t_uscalar_t dl_qos_offset;
	t_uscalar_t dl_growth;
} dl_connect_ind_t;

typedef struct { /* DL_CONNECT_RES, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_correlation;
	t_uscalar_t dl_resp_token;
	t_uscalar_t dl_qos_length;
	t_uscalar_t dl_qos_offset;
	t_uscalar_t dl_growth;
} dl_connect_res_t;

typedef struct { /* DL_CONNECT_CON, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_resp_addr_length;
	t_uscalar_t dl_resp_addr_offset;
	t_uscalar_t dl_qos_length;
	t_uscalar_t dl_qos_offset;
	t_uscalar_t dl_growth;
} dl_connect_con_t;

typedef struct { /* DL_TOKEN_REQ, M_PCPROTO */
	t_uscalar_t dl_primitive;
} dl_token_req_t;

typedef struct { /* DL_TOKEN_ACK, M_PCPROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_token;
} dl_token_ack_t;

typedef struct { /* DL_DISCONNECT_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_reason;
	t_uscalar_t dl_correlation;
} dl_disconnect_req_t;

typedef struct { /* DL_DISCONNECT_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_originator; /* DL_PROVIDER, DL_USER */
	t_uscalar_t dl_reason;
	t_uscalar_t dl_correlation;
} dl_disconnect_ind_t;

typedef struct { /* DL_RESET_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
} dl_reset_req_t;

typedef struct { /* DL_RESET_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_originator;
	t_uscalar_t dl_reason;
} dl_reset_ind_t;

typedef struct { /* DL_RESET_RES, M_PROTO */
	t_uscalar_t dl_primitive;
} dl_reset_res_t;

typedef struct { /* DL_RESET_CON, M_PROTO */
	t_uscalar_t dl_primitive;
} dl_reset_con_t;

/* ------------------------------------------------------------------ */
/* Connectionless primitives                                          */
/* ------------------------------------------------------------------ */

typedef struct { /* DL_UNITDATA_REQ, M_PROTO + M_DATA */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_dest_addr_length; /* destination DLSAP address */
	t_uscalar_t dl_dest_addr_offset;
	dl_priority_t dl_priority;
} dl_unitdata_req_t;

typedef struct { /* DL_UNITDATA_IND, M_PROTO + M_DATA */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
	t_uscalar_t dl_src_addr_length;
	t_uscalar_t dl_src_addr_offset;
	t_uscalar_t dl_group_address; /* nonzero for multicast/broadcast */
} dl_unitdata_ind_t;

typedef struct { /* DL_UDERROR_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
	t_uscalar_t dl_unix_errno;
	t_uscalar_t dl_errno;
} dl_uderror_ind_t;

typedef struct { /* DL_UDQOS_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_qos_length;
	t_uscalar_t dl_qos_offset;
} dl_udqos_req_t;

/* ------------------------------------------------------------------ */
/* XID and TEST primitives                                            */
/* ------------------------------------------------------------------ */

typedef struct { /* DL_TEST_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_flag; /* DL_POLL_FINAL */
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
} dl_test_req_t;

typedef struct { /* DL_TEST_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_flag;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
	t_uscalar_t dl_src_addr_length;
	t_uscalar_t dl_src_addr_offset;
} dl_test_ind_t;

typedef struct { /* DL_TEST_RES, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_flag;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
} dl_test_res_t;

typedef struct { /* DL_TEST_CON, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_flag;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
	t_uscalar_t dl_src_addr_length;
	t_uscalar_t dl_src_addr_offset;
} dl_test_con_t;

typedef struct { /* DL_XID_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_flag;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
} dl_xid_req_t;

typedef struct { /* DL_XID_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_flag;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
	t_uscalar_t dl_src_addr_length;
	t_uscalar_t dl_src_addr_offset;
} dl_xid_ind_t;

typedef struct { /* DL_XID_RES, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_flag;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
} dl_xid_res_t;

typedef struct { /* DL_XID_CON, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_flag;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
	t_uscalar_t dl_src_addr_length;
	t_uscalar_t dl_src_addr_offset;
} dl_xid_con_t;

/* ------------------------------------------------------------------ */
/* Acknowledged connectionless primitives                             */
/* ------------------------------------------------------------------ */

typedef struct { /* DL_DATA_ACK_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_correlation;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
	t_uscalar_t dl_src_addr_length;
	t_uscalar_t dl_src_addr_offset;
	t_uscalar_t dl_priority;
	t_uscalar_t dl_service_class; /* DL_RQST_RSP, DL_RQST_NORSP */
} dl_data_ack_req_t;

typedef struct { /* DL_DATA_ACK_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
	t_uscalar_t dl_src_addr_length;
	t_uscalar_t dl_src_addr_offset;
	t_uscalar_t dl_priority;
	t_uscalar_t dl_service_class;
} dl_data_ack_ind_t;

typedef struct { /* DL_DATA_ACK_STATUS_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_correlation;
	t_uscalar_t dl_status; /* DL_CMD_* | DL_RSP_* */
} dl_data_ack_status_ind_t;

typedef struct { /* DL_REPLY_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_correlation;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
	t_uscalar_t dl_src_addr_length;
	t_uscalar_t dl_src_addr_offset;
	t_uscalar_t dl_priority;
	t_uscalar_t dl_service_class;
} dl_reply_req_t;

typedef struct { /* DL_REPLY_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_dest_addr_length;
	t_uscalar_t dl_dest_addr_offset;
	t_uscalar_t dl_src_addr_length;
	t_uscalar_t dl_src_addr_offset;
	t_uscalar_t dl_priority;
	t_uscalar_t dl_service_class;
} dl_reply_ind_t;

typedef struct { /* DL_REPLY_STATUS_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_correlation;
	t_uscalar_t dl_status;
} dl_reply_status_ind_t;

typedef struct { /* DL_REPLY_UPDATE_REQ, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_correlation;
	t_uscalar_t dl_src_addr_length;
	t_uscalar_t dl_src_addr_offset;
} dl_reply_update_req_t;

typedef struct { /* DL_REPLY_UPDATE_STATUS_IND, M_PROTO */
	t_uscalar_t dl_primitive;
	t_uscalar_t dl_correlation;
	t_uscalar_t dl_status;
} dl_reply_update_status_ind_t;

/* ------------------------------------------------------------------ */
/* All primitives                                                     */
/* ------------------------------------------------------------------ */

union DL_primitives {
	t_uscalar_t dl_primitive;
	dl_info_req_t info_req;
	dl_info_ack_t info_ack;
	dl_attach_req_t attach_req;
	dl_detach_req_t detach_req;
	dl_bind_req_t bind_req;
	dl_bind_ack_t bind_ack;
	dl_unbind_req_t unbind_req;
	dl_subs_bind_req_t subs_bind_req;
	dl_subs_bind_ack_t subs_bind_ack;
	dl_subs_unbind_req_t subs_unbind_req;
	dl_ok_ack_t ok_ack;
	dl_error_ack_t error_ack;
	dl_connect_req_t connect_req;
	dl_connect_ind_t connect_ind;
	dl_connect_res_t connect_res;
	dl_connect_con_t connect_con;
	dl_token_req_t token_req;
	dl_token_ack_t token_ack;
	dl_disconnect_req_t disconnect_req;
	dl_disconnect_ind_t disconnect_ind;
	dl_reset_req_t reset_req;
	dl_reset_ind_t reset_ind;
	dl_reset_res_t reset_res;
	dl_reset_con_t reset_con;
	dl_unitdata_req_t unitdata_req;
	dl_unitdata_ind_t unitdata_ind;
	dl_uderror_ind_t uderror_ind;
	dl_udqos_req_t udqos_req;
	dl_enabmulti_req_t enabmulti_req;
	dl_disabmulti_req_t disabmulti_req;
	dl_promiscon_req_t promiscon_req;
	dl_promiscoff_req_t promiscoff_req;
	dl_phys_addr_req_t physaddr_req;
	dl_phys_addr_ack_t physaddr_ack;
	dl_set_phys_addr_req_t set_physaddr_req;
	dl_get_statistics_req_t get_statistics_req;
	dl_get_statistics_ack_t get_statistics_ack;
	dl_notify_req_t notify_req;
	dl_notify_ack_t notify_ack;
	dl_notify_ind_t notify_ind;
	dl_notify_conf_t notify_conf;
	dl_aggr_req_t aggr_req;
	dl_aggr_ind_t aggr_ind;
	dl_unaggr_req_t unaggr_req;
	dl_test_req_t test_req;
	dl_test_ind_t test_ind;
	dl_test_res_t test_res;
	dl_test_con_t test_con;
	dl_xid_req_t xid_req;
	dl_xid_ind_t xid_ind;
	dl_xid_res_t xid_res;
	dl_xid_con_t xid_con;
	dl_data_ack_req_t data_ack_req;
	dl_data_ack_ind_t data_ack_ind;
	dl_data_ack_status_ind_t data_ack_status_ind;
	dl_reply_req_t reply_req;
	dl_reply_ind_t reply_ind;
	dl_reply_status_ind_t reply_status_ind;
	dl_reply_update_req_t reply_update_req;
	dl_reply_update_status_ind_t reply_update_status_ind;
	dl_capability_req_t capability_req;
	dl_capability_ack_t capability_ack;
	dl_control_req_t control_req;
	dl_control_ack_t control_ack;
	dl_passive_req_t passive_req;
	dl_intr_mode_req_t intr_mode_req;
};

/* ------------------------------------------------------------------ */
/* Sizes of the fixed parts                                           */
/* ------------------------------------------------------------------ */

#define DL_INFO_REQ_SIZE sizeof(dl_info_req_t)
#define DL_INFO_ACK_SIZE sizeof(dl_info_ack_t)
#define DL_ATTACH_REQ_SIZE sizeof(dl_attach_req_t)
#define DL_DETACH_REQ_SIZE sizeof(dl_detach_req_t)
#define DL_BIND_REQ_SIZE sizeof(dl_bind_req_t)
#define DL_BIND_ACK_SIZE sizeof(dl_bind_ack_t)
#define DL_UNBIND_REQ_SIZE sizeof(dl_unbind_req_t)
#define DL_SUBS_BIND_REQ_SIZE sizeof(dl_subs_bind_req_t)
#define DL_SUBS_BIND_ACK_SIZE sizeof(dl_subs_bind_ack_t)
#define DL_SUBS_UNBIND_REQ_SIZE sizeof(dl_subs_unbind_req_t)
#define DL_OK_ACK_SIZE sizeof(dl_ok_ack_t)
#define DL_ERROR_ACK_SIZE sizeof(dl_error_ack_t)
#define DL_CONNECT_REQ_SIZE sizeof(dl_connect_req_t)
#define DL_CONNECT_IND_SIZE sizeof(dl_connect_ind_t)
#define DL_CONNECT_RES_SIZE sizeof(dl_connect_res_t)
#define DL_CONNECT_CON_SIZE sizeof(dl_connect_con_t)
#define DL_TOKEN_REQ_SIZE sizeof(dl_token_req_t)
#define DL_TOKEN_ACK_SIZE sizeof(dl_token_ack_t)
#define DL_DISCONNECT_REQ_SIZE sizeof(dl_disconnect_req_t)
#define DL_DISCONNECT_IND_SIZE sizeof(dl_disconnect_ind_t)
#define DL_RESET_REQ_SIZE sizeof(dl_reset_req_t)
#define DL_RESET_IND_SIZE sizeof(dl_reset_ind_t)
#define DL_RESET_RES_SIZE sizeof(dl_reset_res_t)
#define DL_RESET_CON_SIZE sizeof(dl_reset_con_t)
#define DL_UNITDATA_REQ_SIZE sizeof(dl_unitdata_req_t)
#define DL_UNITDATA_IND_SIZE sizeof(dl_unitdata_ind_t)
#define DL_UDERROR_IND_SIZE sizeof(dl_uderror_ind_t)
#define DL_UDQOS_REQ_SIZE sizeof(dl_udqos_req_t)
#define DL_ENABMULTI_REQ_SIZE sizeof(dl_enabmulti_req_t)
#define DL_DISABMULTI_REQ_SIZE sizeof(dl_disabmulti_req_t)
#define DL_PROMISCON_REQ_SIZE sizeof(dl_promiscon_req_t)
#define DL_PROMISCOFF_REQ_SIZE sizeof(dl_promiscoff_req_t)
#define DL_PHYS_ADDR_REQ_SIZE sizeof(dl_phys_addr_req_t)
#define DL_PHYS_ADDR_ACK_SIZE sizeof(dl_phys_addr_ack_t)
#define DL_SET_PHYS_ADDR_REQ_SIZE sizeof(dl_set_phys_addr_req_t)
#define DL_GET_STATISTICS_REQ_SIZE sizeof(dl_get_statistics_req_t)
#define DL_GET_STATISTICS_ACK_SIZE sizeof(dl_get_statistics_ack_t)
#define DL_NOTIFY_REQ_SIZE sizeof(dl_notify_req_t)
#define DL_NOTIFY_ACK_SIZE sizeof(dl_notify_ack_t)
#define DL_NOTIFY_IND_SIZE sizeof(dl_notify_ind_t)
#define DL_NOTIFY_CONF_SIZE sizeof(dl_notify_conf_t)
#define DL_AGGR_REQ_SIZE sizeof(dl_aggr_req_t)
#define DL_AGGR_IND_SIZE sizeof(dl_aggr_ind_t)
#define DL_UNAGGR_REQ_SIZE sizeof(dl_unaggr_req_t)
#define DL_XID_REQ_SIZE sizeof(dl_xid_req_t)
#define DL_XID_IND_SIZE sizeof(dl_xid_ind_t)
#define DL_XID_RES_SIZE sizeof(dl_xid_res_t)
#define DL_XID_CON_SIZE sizeof(dl_xid_con_t)
#define DL_TEST_REQ_SIZE sizeof(dl_test_req_t)
#define DL_TEST_IND_SIZE sizeof(dl_test_ind_t)
#define DL_TEST_RES_SIZE sizeof(dl_test_res_t)
#define DL_TEST_CON_SIZE sizeof(dl_test_con_t)
#define DL_DATA_ACK_REQ_SIZE sizeof(dl_data_ack_req_t)
#define DL_DATA_ACK_IND_SIZE sizeof(dl_data_ack_ind_t)
#define DL_DATA_ACK_STATUS_IND_SIZE sizeof(dl_data_ack_status_ind_t)
#define DL_REPLY_REQ_SIZE sizeof(dl_reply_req_t)
#define DL_REPLY_IND_SIZE sizeof(dl_reply_ind_t)
#define DL_REPLY_STATUS_IND_SIZE sizeof(dl_reply_status_ind_t)
#define DL_REPLY_UPDATE_REQ_SIZE sizeof(dl_reply_update_req_t)
#define DL_REPLY_UPDATE_STATUS_IND_SIZE sizeof(dl_reply_update_status_ind_t)
#define DL_CAPABILITY_REQ_SIZE sizeof(dl_capability_req_t)
#define DL_CAPABILITY_ACK_SIZE sizeof(dl_capability_ack_t)
#define DL_CONTROL_REQ_SIZE sizeof(dl_control_req_t)
#define DL_CONTROL_ACK_SIZE sizeof(dl_control_ack_t)
#define DL_PASSIVE_REQ_SIZE sizeof(dl_passive_req_t)
#define DL_INTR_MODE_REQ_SIZE sizeof(dl_intr_mode_req_t)

#ifdef __cplusplus
}
#endif

#endif /* USTREAMS_DLPI_H */
