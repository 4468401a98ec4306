/* SPDX-License-Identifier: MIT */
/*
 * tihdr.h -- the Transport Provider Interface (TPI): T_* primitive numbers and
 * structures exchanged in M_PROTO/M_PCPROTO messages between a transport
 * provider (tcp, udp ...) and its user (the socket library, timod-style code),
 * plus the definitions TPI shares with TLI/XTI: t_errno values, service
 * types, option management flags, option headers and data flags.
 *
 * Defined by the UNIX International "Transport Provider Interface
 * Specification" (TPI, rev. 1.5) and The Open Group's XNS TPI, as implemented
 * by illumos/Solaris <sys/tihdr.h> and <sys/tpicommon.h>, with the data flags
 * of <sys/tiuser.h>/<xti.h>.  Names, fields and numbers here are those of
 * illumos with _SUN_TPI_VERSION 2 (what Solaris sockfs and tcp/udp speak).
 *
 * Every primitive starts with PRIM_type; variable parts (addresses, options)
 * follow the fixed structure in the same block and are located by its
 * XXX_length/XXX_offset field pairs, offsets counted from the start of the
 * primitive (b_rptr).  Options must be aligned with T_ALIGN/_TPI_ALIGN_TOPT.
 *
 * Deviations:
 *  - From the TPI specification / SVR4.2 / OpenSS7: the primitive numbers
 *    are illumos', which renumbered a few.  Their numbers there, for anyone
 *    decoding foreign traces: T_OPTDATA_REQ 24, T_ADDR_REQ 25,
 *    T_OPTDATA_IND 26, T_ADDR_ACK 27, T_CAPABILITY_REQ 28,
 *    T_CAPABILITY_ACK 29; T_BIND_REQ, T_OPTMGMT_REQ and T_CONN_RES have the
 *    numbers 6, 9 and 1 that illumos gives to O_T_BIND_REQ,
 *    T_SVR4_OPTMGMT_REQ and O_T_CONN_RES.  illumos' numbering is kept
 *    because it gives distinct numbers to both option formats (struct opthdr
 *    for T_SVR4_OPTMGMT_REQ, struct T_opthdr for T_OPTMGMT_REQ) and to both
 *    bind semantics; the socket mapping of ARCHITECTURE.md section 5 uses
 *    T_SVR4_OPTMGMT_REQ for setsockopt.
 *  - From illumos: _SUN_TPI_VERSION is always 2 (the old primitives are
 *    reached through their O_T_* names).
 *  - T_OPTDATA_REQ, T_OPTDATA_IND and T_EXTCONN_IND (illumos kernel-private)
 *    are public here, with illumos' values.
 *  - ACCEPTOR_id (T_conn_res, T_capability_ack) is a t_uscalar_t stream
 *    identifier handed out in T_CAPABILITY_ACK; it is never a queue pointer,
 *    not even with O_T_CONN_RES.
 *  - The TLI/XTI user library (t_open, t_errno ...) is not provided; only the
 *    constants the TPI needs.  tpicommon.h, tiuser.h and the TPI parts of
 *    xti.h are merged into this header.
 *  - struct t_opthdr (XTI's name) is defined too, identical to T_opthdr.
 */
#ifndef USTREAMS_TIHDR_H
#define USTREAMS_TIHDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ustreams/stropts.h> /* t_scalar_t, t_uscalar_t */

#ifdef __cplusplus
extern "C" {
#endif

#ifndef _SUN_TPI_VERSION
#define _SUN_TPI_VERSION 2
#endif
#if _SUN_TPI_VERSION != 2
#error "ustreams <ustreams/tihdr.h> supports only _SUN_TPI_VERSION 2"
#endif

/* ------------------------------------------------------------------ */
/* Primitives                                                         */
/* ------------------------------------------------------------------ */

/* Issued by the transport user. */
#define T_CONN_REQ 0         /* connect */
#define O_T_CONN_RES 1       /* accept, TPI 1.5 form */
#define T_DISCON_REQ 2       /* disconnect or refuse */
#define T_DATA_REQ 3         /* normal data (the M_PROTO is optional) */
#define T_EXDATA_REQ 4       /* expedited data */
#define T_INFO_REQ 5         /* provider information */
#define O_T_BIND_REQ 6       /* bind; a busy address is replaced by a free one */
#define T_UNBIND_REQ 7       /* unbind */
#define T_UNITDATA_REQ 8     /* send a datagram */
#define T_SVR4_OPTMGMT_REQ 9 /* options, struct opthdr format (sockets) */
#define O_T_OPTMGMT_REQ T_SVR4_OPTMGMT_REQ
#define T_ORDREL_REQ 10 /* orderly release (T_COTS_ORD) */

/* Issued by the transport provider. */
#define T_CONN_IND 11     /* incoming connection */
#define T_CONN_CON 12     /* connection confirmed */
#define T_DISCON_IND 13   /* disconnected or refused */
#define T_DATA_IND 14     /* normal data */
#define T_EXDATA_IND 15   /* expedited data */
#define T_INFO_ACK 16     /* answer to T_INFO_REQ */
#define T_BIND_ACK 17     /* bound */
#define T_ERROR_ACK 18    /* the last request failed, nothing done */
#define T_OK_ACK 19       /* the last request succeeded */
#define T_UNITDATA_IND 20 /* a datagram */
#define T_UDERROR_IND 21  /* a datagram could not be sent */
#define T_OPTMGMT_ACK 22  /* answer to an option request */
#define T_ORDREL_IND 23   /* the peer released its side */

/* Added with XTI (either direction). */
#define T_ADDR_REQ 24       /* local and remote addresses */
#define T_ADDR_ACK 25       /* answer to T_ADDR_REQ */
#define T_BIND_REQ 26       /* bind; a busy address fails with TADDRBUSY */
#define T_OPTMGMT_REQ 27    /* options, struct T_opthdr format (XTI) */
#define T_CONN_RES 28       /* accept on the endpoint named by ACCEPTOR_id */
#define T_CAPABILITY_REQ 30 /* capabilities (subsumes T_INFO_REQ) */
#define T_CAPABILITY_ACK 31 /* answer to T_CAPABILITY_REQ */

/* Private Sun extensions (kernel-only in illumos). */
#define T_OPTDATA_REQ 0x1001 /* data with options */
#define T_OPTDATA_IND 0x1002 /* data with options */
#define T_EXTCONN_IND 0x1003 /* T_CONN_IND with the destination address */

/* ------------------------------------------------------------------ */
/* States of a transport endpoint (CURRENT_state)                     */
/* ------------------------------------------------------------------ */

#define TS_UNBND 0        /* unbound */
#define TS_WACK_BREQ 1    /* waiting for the ack of T_BIND_REQ */
#define TS_WACK_UREQ 2    /* waiting for the ack of T_UNBIND_REQ */
#define TS_IDLE 3         /* bound, idle */
#define TS_WACK_OPTREQ 4  /* waiting for the ack of an option request */
#define TS_WACK_CREQ 5    /* waiting for the ack of T_CONN_REQ */
#define TS_WCON_CREQ 6    /* waiting for T_CONN_CON */
#define TS_WRES_CIND 7    /* waiting for the response to T_CONN_IND */
#define TS_WACK_CRES 8    /* waiting for the ack of T_CONN_RES */
#define TS_DATA_XFER 9    /* connected */
#define TS_WIND_ORDREL 10 /* we released; the peer may still send */
#define TS_WREQ_ORDREL 11 /* the peer released; we may still send */
#define TS_WACK_DREQ6 12  /* waiting for the ack of T_DISCON_REQ (from 6) */
#define TS_WACK_DREQ7 13  /* ... from TS_WRES_CIND */
#define TS_WACK_DREQ9 14  /* ... from TS_DATA_XFER */
#define TS_WACK_DREQ10 15 /* ... from TS_WIND_ORDREL */
#define TS_WACK_DREQ11 16 /* ... from TS_WREQ_ORDREL */
#define TS_NOSTATES 17

/* ------------------------------------------------------------------ */
/* TLI/XTI error codes (TLI_error of T_ERROR_ACK, ERROR_type ...)     */
/* ------------------------------------------------------------------ */

#define TBADADDR 1       /* bad address format */
#define TBADOPT 2        /* bad option format */
#define TACCES 3         /* no permission */
#define TBADF 4          /* bad endpoint */
#define TNOADDR 5        /* no address could be allocated */
#define TOUTSTATE 6      /* primitive out of state */
#define TBADSEQ 7        /* bad sequence number */
#define TSYSERR 8        /* system error, see UNIX_error */
#define TLOOK 9          /* an event needs attention */
#define TBADDATA 10      /* bad amount of data */
#define TBUFOVFLW 11     /* buffer too small */
#define TFLOW 12         /* flow controlled */
#define TNODATA 13       /* no data */
#define TNODIS 14        /* no disconnect indication */
#define TNOUDERR 15      /* no unitdata error indication */
#define TBADFLAG 16      /* bad flags */
#define TNOREL 17        /* no orderly release indication */
#define TNOTSUPPORT 18   /* primitive not supported */
#define TSTATECHNG 19    /* state is changing */
#define TNOSTRUCTYPE 20  /* structure type not supported */
#define TBADNAME 21      /* bad transport provider name */
#define TBADQLEN 22      /* listener queue length is zero */
#define TADDRBUSY 23     /* address in use */
#define TINDOUT 24       /* connection indications outstanding */
#define TPROVMISMATCH 25 /* listener and acceptor providers differ */
#define TRESQLEN 26      /* acceptor has a non-zero listen queue */
#define TRESADDR 27      /* acceptor bound to a different address */
#define TQFULL 28        /* incoming connection queue full */
#define TPROTO 29        /* protocol error */

/* ------------------------------------------------------------------ */
/* T_info_ack values                                                  */
/* ------------------------------------------------------------------ */

/* SERV_type */
#define T_COTS 1     /* connection-oriented */
#define T_COTS_ORD 2 /* connection-oriented with orderly release */
#define T_CLTS 3     /* connectionless */

/* PROVIDER_flag */
#define SENDZERO 0x0001     /* zero-length TSDUs are allowed */
#define EXPINLINE 0x0002    /* expedited data goes in band 0 */
#define XPG4_1 0x0004       /* T_ADDR_*, both binds and both OPTMGMTs supported */
#define OLD_SENDZERO 0x1000 /* SENDZERO of old (timod) providers */

/* Size fields */
#define T_INFINITE (-1) /* no limit */
#define T_INVALID (-2)  /* not supported */

/* ------------------------------------------------------------------ */
/* Option management                                                  */
/* ------------------------------------------------------------------ */

/* MGMT_flags of T_OPTMGMT_REQ/ACK (requests), T_opthdr status (results) */
#define T_NEGOTIATE 0x004   /* set */
#define T_CHECK 0x008       /* check */
#define T_DEFAULT 0x010     /* get defaults */
#define T_SUCCESS 0x020     /* result: success */
#define T_FAILURE 0x040     /* result: failure */
#define T_CURRENT 0x080     /* get current values */
#define T_PARTSUCCESS 0x100 /* result: partial success */
#define T_READONLY 0x200    /* result: read-only */
#define T_NOTSUPPORT 0x400  /* result: not supported */

#define T_YES 1
#define T_NO 0
#define T_UNSPEC (~0 - 2) /* "unspecified" option value */
#define T_ALLOPT 0        /* all options of a level */

/* T_SVR4_OPTMGMT_REQ option header; the value (len bytes, padded to
 * OPTLEN(len)) follows it. */
struct opthdr {
	t_uscalar_t level; /* protocol level (SOL_SOCKET, IPPROTO_TCP ...) */
	t_uscalar_t name;  /* option name */
	t_uscalar_t len;   /* length of the value */
};
#define OPTLEN(x) ((((x) + sizeof(t_uscalar_t) - 1) / sizeof(t_uscalar_t)) * sizeof(t_uscalar_t))
#define OPTVAL(opt) ((char *)((opt) + 1))

/* T_OPTMGMT_REQ (and option parts of connect/unitdata primitives) option
 * header; len covers header and value, the next header starts at
 * _TPI_ALIGN_TOPT(len). */
struct T_opthdr {
	t_uscalar_t len;    /* header plus value */
	t_uscalar_t level;  /* protocol level */
	t_uscalar_t name;   /* option name */
	t_uscalar_t status; /* T_SUCCESS ... in answers */
};

/* XTI's name for the same header. */
struct t_opthdr {
	t_uscalar_t len;
	t_uscalar_t level;
	t_uscalar_t name;
	t_uscalar_t status;
};

/* ------------------------------------------------------------------ */
/* Data flags                                                         */
/* ------------------------------------------------------------------ */

/* MORE_flag of T_DATA_*, T_EXDATA_* */
#define T_MORE 0x001      /* the TSDU continues in the next primitive */
#define T_EXPEDITED 0x002 /* expedited data */

/* DATA_flag of T_OPTDATA_* */
#define T_ODF_MORE T_MORE
#define T_ODF_EX T_EXPEDITED

/* T_capability_req/ack CAP_bits1 */
#define TC1_INFO (1u << 0)        /* INFO_ack is requested/valid */
#define TC1_ACCEPTOR_ID (1u << 1) /* ACCEPTOR_id is requested/valid */
#define TC1_CAP_BITS2 (1u << 31)  /* reserved */

/* ------------------------------------------------------------------ */
/* Primitive structures                                               */
/* ------------------------------------------------------------------ */

struct T_conn_req { /* T_CONN_REQ, M_PROTO, optional M_DATA */
	t_scalar_t PRIM_type;
	t_scalar_t DEST_length;
	t_scalar_t DEST_offset;
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
};

struct T_conn_res { /* T_CONN_RES or O_T_CONN_RES, M_PROTO */
	t_scalar_t PRIM_type;
	t_uscalar_t ACCEPTOR_id; /* from the acceptor's T_CAPABILITY_ACK */
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
	t_scalar_t SEQ_number; /* from T_CONN_IND */
};

struct T_discon_req { /* T_DISCON_REQ, M_PROTO */
	t_scalar_t PRIM_type;
	t_scalar_t SEQ_number; /* T_CONN_IND to refuse, or -1 */
};

struct T_data_req { /* T_DATA_REQ, M_PROTO + M_DATA */
	t_scalar_t PRIM_type;
	t_scalar_t MORE_flag;
};

struct T_exdata_req { /* T_EXDATA_REQ, M_PROTO + M_DATA */
	t_scalar_t PRIM_type;
	t_scalar_t MORE_flag;
};

struct T_info_req { /* T_INFO_REQ, M_PCPROTO */
	t_scalar_t PRIM_type;
};

struct T_bind_req { /* T_BIND_REQ or O_T_BIND_REQ, M_PROTO */
	t_scalar_t PRIM_type;
	t_scalar_t ADDR_length; /* 0: the provider picks the address */
	t_scalar_t ADDR_offset;
	t_uscalar_t CONIND_number; /* > 0 makes a listener */
};

struct T_unbind_req { /* T_UNBIND_REQ, M_PROTO */
	t_scalar_t PRIM_type;
};

struct T_unitdata_req { /* T_UNITDATA_REQ, M_PROTO + M_DATA */
	t_scalar_t PRIM_type;
	t_scalar_t DEST_length;
	t_scalar_t DEST_offset;
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
};

struct T_optmgmt_req { /* T_OPTMGMT_REQ or T_SVR4_OPTMGMT_REQ, M_PROTO */
	t_scalar_t PRIM_type;
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
	t_scalar_t MGMT_flags; /* T_NEGOTIATE, T_CHECK, T_DEFAULT, T_CURRENT */
};

struct T_ordrel_req { /* T_ORDREL_REQ, M_PROTO */
	t_scalar_t PRIM_type;
};

struct T_addr_req { /* T_ADDR_REQ, M_PROTO */
	t_scalar_t PRIM_type;
};

struct T_conn_ind { /* T_CONN_IND, M_PROTO */
	t_scalar_t PRIM_type;
	t_scalar_t SRC_length;
	t_scalar_t SRC_offset;
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
	t_scalar_t SEQ_number; /* names this indication in T_CONN_RES/T_DISCON_REQ */
};

struct T_conn_con { /* T_CONN_CON, M_PROTO */
	t_scalar_t PRIM_type;
	t_scalar_t RES_length; /* responding address */
	t_scalar_t RES_offset;
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
};

struct T_discon_ind { /* T_DISCON_IND, M_PROTO */
	t_scalar_t PRIM_type;
	t_scalar_t DISCON_reason; /* protocol dependent; Solaris tcp puts an errno */
	t_scalar_t SEQ_number;    /* the T_CONN_IND withdrawn, or -1 */
};

struct T_data_ind { /* T_DATA_IND, M_PROTO + M_DATA */
	t_scalar_t PRIM_type;
	t_scalar_t MORE_flag;
};

struct T_exdata_ind { /* T_EXDATA_IND, M_PROTO + M_DATA */
	t_scalar_t PRIM_type;
	t_scalar_t MORE_flag;
};

struct T_info_ack { /* T_INFO_ACK, M_PCPROTO */
	t_scalar_t PRIM_type;
	t_scalar_t TSDU_size;     /* largest TSDU, T_INFINITE, T_INVALID */
	t_scalar_t ETSDU_size;    /* largest expedited TSDU */
	t_scalar_t CDATA_size;    /* data allowed with connect primitives */
	t_scalar_t DDATA_size;    /* data allowed with disconnect primitives */
	t_scalar_t ADDR_size;     /* largest address */
	t_scalar_t OPT_size;      /* largest options buffer */
	t_scalar_t TIDU_size;     /* largest data per primitive */
	t_scalar_t SERV_type;     /* T_COTS, T_COTS_ORD, T_CLTS */
	t_scalar_t CURRENT_state; /* TS_* */
	t_scalar_t PROVIDER_flag; /* SENDZERO, EXPINLINE, XPG4_1 */
};

struct T_bind_ack { /* T_BIND_ACK, M_PCPROTO */
	t_scalar_t PRIM_type;
	t_scalar_t ADDR_length; /* the address bound */
	t_scalar_t ADDR_offset;
	t_uscalar_t CONIND_number; /* accepted listen queue length */
};

struct T_error_ack { /* T_ERROR_ACK, M_PCPROTO */
	t_scalar_t PRIM_type;
	t_scalar_t ERROR_prim; /* the primitive that failed */
	t_scalar_t TLI_error;  /* T* error code */
	t_scalar_t UNIX_error; /* errno when TLI_error == TSYSERR */
};

struct T_ok_ack { /* T_OK_ACK, M_PCPROTO */
	t_scalar_t PRIM_type;
	t_scalar_t CORRECT_prim; /* the primitive acknowledged */
};

struct T_unitdata_ind { /* T_UNITDATA_IND, M_PROTO + M_DATA */
	t_scalar_t PRIM_type;
	t_scalar_t SRC_length;
	t_scalar_t SRC_offset;
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
};

struct T_uderror_ind { /* T_UDERROR_IND, M_PROTO */
	t_scalar_t PRIM_type;
	t_scalar_t DEST_length;
	t_scalar_t DEST_offset;
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
	t_scalar_t ERROR_type; /* protocol dependent; Solaris udp puts an errno */
};

struct T_optmgmt_ack { /* T_OPTMGMT_ACK, M_PCPROTO */
	t_scalar_t PRIM_type;
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
	t_scalar_t MGMT_flags; /* overall result for T_OPTMGMT_REQ */
};

struct T_ordrel_ind { /* T_ORDREL_IND, M_PROTO */
	t_scalar_t PRIM_type;
};

struct T_addr_ack { /* T_ADDR_ACK, M_PCPROTO */
	t_scalar_t PRIM_type;
	t_scalar_t LOCADDR_length;
	t_scalar_t LOCADDR_offset;
	t_scalar_t REMADDR_length; /* 0 unless connected */
	t_scalar_t REMADDR_offset;
};

struct T_capability_req { /* T_CAPABILITY_REQ, M_PCPROTO */
	t_scalar_t PRIM_type;
	t_uscalar_t CAP_bits1; /* TC1_* wanted */
};

struct T_capability_ack { /* T_CAPABILITY_ACK, M_PCPROTO */
	t_scalar_t PRIM_type;
	t_uscalar_t CAP_bits1;      /* TC1_* valid below */
	struct T_info_ack INFO_ack; /* valid with TC1_INFO */
	t_uscalar_t ACCEPTOR_id;    /* valid with TC1_ACCEPTOR_ID */
};

struct T_optdata_req { /* T_OPTDATA_REQ, M_PROTO + M_DATA */
	t_scalar_t PRIM_type;
	t_scalar_t DATA_flag; /* T_ODF_MORE, T_ODF_EX */
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
};

struct T_optdata_ind { /* T_OPTDATA_IND, M_PROTO + M_DATA */
	t_scalar_t PRIM_type;
	t_scalar_t DATA_flag; /* T_ODF_MORE, T_ODF_EX */
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
};

struct T_extconn_ind { /* T_EXTCONN_IND, M_PROTO */
	t_scalar_t PRIM_type;
	t_scalar_t SRC_length;
	t_scalar_t SRC_offset;
	t_scalar_t OPT_length;
	t_scalar_t OPT_offset;
	t_scalar_t SEQ_number;
	t_scalar_t DEST_length;
	t_scalar_t DEST_offset;
};

union T_primitives {
	t_scalar_t type; /* PRIM_type of whichever primitive */
	struct T_conn_req conn_req;
	struct T_conn_res conn_res;
	struct T_discon_req discon_req;
	struct T_data_req data_req;
	struct T_exdata_req exdata_req;
	struct T_info_req info_req;
	struct T_bind_req bind_req;
	struct T_unbind_req unbind_req;
	struct T_unitdata_req unitdata_req;
	struct T_optmgmt_req optmgmt_req;
	struct T_ordrel_req ordrel_req;
	struct T_addr_req addr_req;
	struct T_conn_ind conn_ind;
	struct T_conn_con conn_con;
	struct T_discon_ind discon_ind;
	struct T_data_ind data_ind;
	struct T_exdata_ind exdata_ind;
	struct T_info_ack info_ack;
	struct T_bind_ack bind_ack;
	struct T_error_ack error_ack;
	struct T_ok_ack ok_ack;
	struct T_unitdata_ind unitdata_ind;
	struct T_uderror_ind uderror_ind;
	struct T_optmgmt_ack optmgmt_ack;
	struct T_ordrel_ind ordrel_ind;
	struct T_addr_ack addr_ack;
	struct T_capability_req capability_req;
	struct T_capability_ack capability_ack;
	struct T_optdata_req optdata_req;
	struct T_optdata_ind optdata_ind;
	struct T_extconn_ind extconn_ind;
};

/* ------------------------------------------------------------------ */
/* Alignment and option-walking helpers                               */
/* ------------------------------------------------------------------ */

/* Alignment of primitives and of option headers in them. */
#define __TPI_ALIGN_SIZE (sizeof(t_scalar_t))
#define __TPI_ALIGN(x) \
	(((uintptr_t)(x) + __TPI_ALIGN_SIZE - 1) & ~(uintptr_t)(__TPI_ALIGN_SIZE - 1))
#define __TPI_SIZE_ISALIGNED(x) (((uintptr_t)(x) & (__TPI_ALIGN_SIZE - 1)) == 0)
#define __TPI_PRIM_ISALIGNED(x) __TPI_SIZE_ISALIGNED(x)
#define __TPI_OPT_ISALIGNED(x) __TPI_SIZE_ISALIGNED(x)
#define __TPI_TOPT_ISALIGNED(x) __TPI_SIZE_ISALIGNED(x)
#define _TPI_ALIGN_OPT(x) __TPI_ALIGN(x)
#define _TPI_ALIGN_TOPT(x) __TPI_ALIGN(x)

/* XTI's T_ALIGN: round a length or address up to option alignment. */
#define T_ALIGN(p) __TPI_ALIGN(p)

/* The value of a T_opthdr option and its length. */
#define _TPI_TOPT_DATA(tohp) ((unsigned char *)(tohp) + sizeof(struct T_opthdr))
#define _TPI_TOPT_DATALEN(tohp) ((tohp)->len - sizeof(struct T_opthdr))

/* First option header of the buffer [pbuf, pbuf + buflen), or NULL. */
#define _TPI_TOPT_FIRSTHDR(pbuf, buflen)                                             \
	(((size_t)(buflen) >= sizeof(struct T_opthdr) && __TPI_TOPT_ISALIGNED(pbuf)) \
		 ? (struct T_opthdr *)(void *)(pbuf)                                 \
		 : (struct T_opthdr *)NULL)

/* Option header after popt, or NULL past the end of the buffer.  A non-NULL
 * result must still be checked with _TPI_TOPT_VALID. */
#define _TPI_TOPT_NEXTHDR(pbuf, buflen, popt)                                                 \
	(((char *)(popt) + _TPI_ALIGN_TOPT((popt)->len)) < ((char *)(pbuf) + (buflen))        \
		 ? (struct T_opthdr *)(void *)((char *)(popt) + _TPI_ALIGN_TOPT((popt)->len)) \
		 : (struct T_opthdr *)NULL)

/* Nonzero if the header at tohp is aligned, lies in [start, end) and its len
 * covers at least the header without running past end. */
#define _TPI_TOPT_VALID(tohp, start, end)                                             \
	(__TPI_TOPT_ISALIGNED(tohp) && (uintptr_t)(tohp) >= (uintptr_t)(start) &&     \
	 (uintptr_t)(tohp) < (uintptr_t)(end) &&                                      \
	 (size_t)((uintptr_t)(end) - (uintptr_t)(tohp)) >= sizeof(struct T_opthdr) && \
	 (tohp)->len >= sizeof(struct T_opthdr) &&                                    \
	 (tohp)->len <= (size_t)((uintptr_t)(end) - (uintptr_t)(tohp)))

#ifdef __cplusplus
}
#endif

#endif /* USTREAMS_TIHDR_H */
