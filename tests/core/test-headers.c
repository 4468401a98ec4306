/* SPDX-License-Identifier: MIT */
/*
 * test-headers.c -- the public protocol headers keep the SVR4/illumos numbers
 * and structure layouts: stropts.h (I_* ioctls, flags, strbuf ...), tihdr.h
 * (TPI) and dlpi.h (DLPI).  Values were checked against illumos
 * <sys/stropts.h>, <sys/tihdr.h>, <sys/tpicommon.h>, <sys/tiuser.h> and
 * <sys/dlpi.h>.  Layouts are checked at compile time, values at run time so a
 * failure names the constant.
 */
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* The protocol headers must coexist with the C library's networking headers. */
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include <ustreams/dlpi.h>
#include <ustreams/stream.h>
#include <ustreams/stropts.h>
#include <ustreams/tihdr.h>

/* ------------------------------------------------------------------ */
/* Layouts (compile time)                                             */
/* ------------------------------------------------------------------ */

#define OFF(type, field, off) G_STATIC_ASSERT(offsetof(type, field) == (off))

G_STATIC_ASSERT(sizeof(t_scalar_t) == 4 && sizeof(t_uscalar_t) == 4);
G_STATIC_ASSERT((t_scalar_t)-1 < 0 && (t_uscalar_t)-1 > 0);

/* stropts.h */
OFF(struct strbuf, maxlen, 0);
OFF(struct strbuf, len, 4);
OFF(struct strbuf, buf, 8);
OFF(struct strioctl, ic_cmd, 0);
OFF(struct strioctl, ic_timout, 4);
OFF(struct strioctl, ic_len, 8);
OFF(struct strioctl, ic_dp, 16 * (sizeof(void *) == 8) + 12 * (sizeof(void *) == 4));
OFF(struct strpeek, ctlbuf, 0);
OFF(struct strpeek, databuf, sizeof(struct strbuf));
OFF(struct strpeek, flags, 2 * sizeof(struct strbuf));
OFF(struct strfdinsert, flags, 2 * sizeof(struct strbuf));
G_STATIC_ASSERT(offsetof(struct strfdinsert, fildes) > offsetof(struct strfdinsert, flags));
G_STATIC_ASSERT(offsetof(struct strfdinsert, offset) > offsetof(struct strfdinsert, fildes));
G_STATIC_ASSERT(sizeof(struct str_mlist) == FMNAMESZ + 1);
OFF(struct str_list, sl_nmods, 0);
G_STATIC_ASSERT(offsetof(struct str_list, sl_modlist) > 0);
OFF(struct bandinfo, bi_pri, 0);
OFF(struct bandinfo, bi_flag, 4);

/* tihdr.h: every primitive is a sequence of 32-bit words */
OFF(struct T_conn_req, PRIM_type, 0);
OFF(struct T_conn_req, DEST_length, 4);
OFF(struct T_conn_req, DEST_offset, 8);
OFF(struct T_conn_req, OPT_length, 12);
OFF(struct T_conn_req, OPT_offset, 16);
OFF(struct T_conn_res, ACCEPTOR_id, 4);
OFF(struct T_conn_res, OPT_length, 8);
OFF(struct T_conn_res, SEQ_number, 16);
OFF(struct T_bind_req, ADDR_length, 4);
OFF(struct T_bind_req, ADDR_offset, 8);
OFF(struct T_bind_req, CONIND_number, 12);
OFF(struct T_bind_ack, CONIND_number, 12);
OFF(struct T_error_ack, ERROR_prim, 4);
OFF(struct T_error_ack, TLI_error, 8);
OFF(struct T_error_ack, UNIX_error, 12);
OFF(struct T_ok_ack, CORRECT_prim, 4);
OFF(struct T_info_ack, TSDU_size, 4);
OFF(struct T_info_ack, TIDU_size, 28);
OFF(struct T_info_ack, SERV_type, 32);
OFF(struct T_info_ack, CURRENT_state, 36);
OFF(struct T_info_ack, PROVIDER_flag, 40);
G_STATIC_ASSERT(sizeof(struct T_info_ack) == 44);
OFF(struct T_conn_ind, SEQ_number, 20);
OFF(struct T_conn_con, RES_length, 4);
OFF(struct T_discon_ind, DISCON_reason, 4);
OFF(struct T_discon_ind, SEQ_number, 8);
OFF(struct T_unitdata_ind, SRC_length, 4);
OFF(struct T_uderror_ind, ERROR_type, 20);
OFF(struct T_optmgmt_req, MGMT_flags, 12);
OFF(struct T_addr_ack, REMADDR_offset, 16);
OFF(struct T_capability_req, CAP_bits1, 4);
OFF(struct T_capability_ack, INFO_ack, 8);
OFF(struct T_capability_ack, ACCEPTOR_id, 8 + sizeof(struct T_info_ack));
OFF(struct T_optdata_req, DATA_flag, 4);
OFF(struct opthdr, level, 0);
OFF(struct opthdr, name, 4);
OFF(struct opthdr, len, 8);
OFF(struct T_opthdr, len, 0);
OFF(struct T_opthdr, level, 4);
OFF(struct T_opthdr, name, 8);
OFF(struct T_opthdr, status, 12);
G_STATIC_ASSERT(sizeof(struct t_opthdr) == sizeof(struct T_opthdr));
G_STATIC_ASSERT(sizeof(union T_primitives) == sizeof(struct T_capability_ack));

/* dlpi.h */
OFF(dl_info_ack_t, dl_max_sdu, 4);
OFF(dl_info_ack_t, dl_min_sdu, 8);
OFF(dl_info_ack_t, dl_addr_length, 12);
OFF(dl_info_ack_t, dl_mac_type, 16);
OFF(dl_info_ack_t, dl_current_state, 24);
OFF(dl_info_ack_t, dl_sap_length, 28);
OFF(dl_info_ack_t, dl_service_mode, 32);
OFF(dl_info_ack_t, dl_provider_style, 52);
OFF(dl_info_ack_t, dl_addr_offset, 56);
OFF(dl_info_ack_t, dl_version, 60);
OFF(dl_info_ack_t, dl_brdcst_addr_length, 64);
OFF(dl_info_ack_t, dl_brdcst_addr_offset, 68);
OFF(dl_info_ack_t, dl_growth, 72);
G_STATIC_ASSERT(DL_INFO_ACK_SIZE == 76);
OFF(dl_attach_req_t, dl_ppa, 4);
OFF(dl_bind_req_t, dl_sap, 4);
OFF(dl_bind_req_t, dl_max_conind, 8);
OFF(dl_bind_req_t, dl_service_mode, 12);
OFF(dl_bind_req_t, dl_conn_mgmt, 14);
OFF(dl_bind_req_t, dl_xidtest_flg, 16);
G_STATIC_ASSERT(DL_BIND_REQ_SIZE == 20);
OFF(dl_bind_ack_t, dl_addr_length, 8);
OFF(dl_bind_ack_t, dl_addr_offset, 12);
OFF(dl_ok_ack_t, dl_correct_primitive, 4);
OFF(dl_error_ack_t, dl_error_primitive, 4);
OFF(dl_error_ack_t, dl_errno, 8);
OFF(dl_error_ack_t, dl_unix_errno, 12);
OFF(dl_unitdata_req_t, dl_dest_addr_length, 4);
OFF(dl_unitdata_req_t, dl_dest_addr_offset, 8);
OFF(dl_unitdata_req_t, dl_priority, 12);
G_STATIC_ASSERT(DL_UNITDATA_REQ_SIZE == 20);
OFF(dl_unitdata_ind_t, dl_src_addr_length, 12);
OFF(dl_unitdata_ind_t, dl_src_addr_offset, 16);
OFF(dl_unitdata_ind_t, dl_group_address, 20);
OFF(dl_uderror_ind_t, dl_unix_errno, 12);
OFF(dl_uderror_ind_t, dl_errno, 16);
OFF(dl_phys_addr_req_t, dl_addr_type, 4);
OFF(dl_phys_addr_ack_t, dl_addr_offset, 8);
OFF(dl_set_phys_addr_req_t, dl_addr_length, 4);
OFF(dl_promiscon_req_t, dl_level, 4);
OFF(dl_enabmulti_req_t, dl_addr_offset, 8);
OFF(dl_notify_req_t, dl_notifications, 4);
OFF(dl_notify_req_t, dl_timelimit, 8);
OFF(dl_notify_ind_t, dl_notification, 4);
OFF(dl_notify_ind_t, dl_data, 8);
OFF(dl_notify_ind_t, dl_data1, 8);
OFF(dl_notify_ind_t, dl_data2, 10);
OFF(dl_notify_ind_t, dl_addr_length, 12);
OFF(dl_notify_ind_t, dl_addr_offset, 16);
OFF(dl_capability_req_t, dl_sub_offset, 4);
OFF(dl_capability_req_t, dl_sub_length, 8);
G_STATIC_ASSERT(sizeof(union DL_primitives) == DL_INFO_ACK_SIZE);

/* ------------------------------------------------------------------ */
/* Values (run time, so a failure names the constant)                 */
/* ------------------------------------------------------------------ */

typedef struct {
	const char *name;
	long long value;
	long long expected;
} Value;

#define V(name, expected)                                       \
	{                                                       \
#name, (long long)(name), (long long)(expected) \
	}

static const Value values[] = {
	/* stropts.h */
	V(STR, 0x5300),
	V(I_NREAD, 0x5301),
	V(I_PUSH, 0x5302),
	V(I_POP, 0x5303),
	V(I_LOOK, 0x5304),
	V(I_FLUSH, 0x5305),
	V(I_SRDOPT, 0x5306),
	V(I_GRDOPT, 0x5307),
	V(I_STR, 0x5308),
	V(I_SETSIG, 0x5309),
	V(I_GETSIG, 0x530a),
	V(I_FIND, 0x530b),
	V(I_LINK, 0x530c),
	V(I_UNLINK, 0x530d),
	V(I_RECVFD, 0x530e),
	V(I_PEEK, 0x530f),
	V(I_FDINSERT, 0x5310),
	V(I_SENDFD, 0x5311),
	V(I_SWROPT, 0x5313),
	V(I_GWROPT, 0x5314),
	V(I_LIST, 0x5315),
	V(I_PLINK, 0x5316),
	V(I_PUNLINK, 0x5317),
	V(I_FLUSHBAND, 0x531c),
	V(I_CKBAND, 0x531d),
	V(I_GETBAND, 0x531e),
	V(I_ATMARK, 0x531f),
	V(I_SETCLTIME, 0x5320),
	V(I_GETCLTIME, 0x5321),
	V(I_CANPUT, 0x5322),
	V(I_SERROPT, 0x5323),
	V(I_GERROPT, 0x5324),
	V(I_ESETSIG, 0x5325),
	V(I_EGETSIG, 0x5326),
	V(FMNAMESZ, 8),
	V(MUXID_ALL, -1),
	V(INFTIM, -1),
	V(FLUSHR, 1),
	V(FLUSHW, 2),
	V(FLUSHRW, 3),
	V(FLUSHBAND, 4),
	V(S_INPUT, 0x0001),
	V(S_HIPRI, 0x0002),
	V(S_OUTPUT, 0x0004),
	V(S_MSG, 0x0008),
	V(S_ERROR, 0x0010),
	V(S_HANGUP, 0x0020),
	V(S_RDNORM, 0x0040),
	V(S_WRNORM, 0x0004),
	V(S_RDBAND, 0x0080),
	V(S_WRBAND, 0x0100),
	V(S_BANDURG, 0x0200),
	V(RNORM, 0),
	V(RMSGD, 1),
	V(RMSGN, 2),
	V(RMODEMASK, 3),
	V(RPROTDAT, 0x4),
	V(RPROTDIS, 0x8),
	V(RPROTNORM, 0x10),
	V(RPROTMASK, 0x1c),
	V(RFLUSHPCPROT, 0x20),
	V(RERRNORM, 1),
	V(RERRNONPERSIST, 2),
	V(WERRNORM, 4),
	V(WERRNONPERSIST, 8),
	V(SNDZERO, 1),
	V(SNDPIPE, 2),
	V(RS_HIPRI, 1),
	V(MSG_HIPRI, 1),
	V(MSG_ANY, 2),
	V(MSG_BAND, 4),
	V(MORECTL, 1),
	V(MOREDATA, 2),
	V(ANYMARK, 1),
	V(LASTMARK, 2),

	/* tihdr.h: primitives (illumos, _SUN_TPI_VERSION 2) */
	V(T_CONN_REQ, 0),
	V(O_T_CONN_RES, 1),
	V(T_DISCON_REQ, 2),
	V(T_DATA_REQ, 3),
	V(T_EXDATA_REQ, 4),
	V(T_INFO_REQ, 5),
	V(O_T_BIND_REQ, 6),
	V(T_UNBIND_REQ, 7),
	V(T_UNITDATA_REQ, 8),
	V(T_SVR4_OPTMGMT_REQ, 9),
	V(T_ORDREL_REQ, 10),
	V(T_CONN_IND, 11),
	V(T_CONN_CON, 12),
	V(T_DISCON_IND, 13),
	V(T_DATA_IND, 14),
	V(T_EXDATA_IND, 15),
	V(T_INFO_ACK, 16),
	V(T_BIND_ACK, 17),
	V(T_ERROR_ACK, 18),
	V(T_OK_ACK, 19),
	V(T_UNITDATA_IND, 20),
	V(T_UDERROR_IND, 21),
	V(T_OPTMGMT_ACK, 22),
	V(T_ORDREL_IND, 23),
	V(T_ADDR_REQ, 24),
	V(T_ADDR_ACK, 25),
	V(T_BIND_REQ, 26),
	V(T_OPTMGMT_REQ, 27),
	V(T_CONN_RES, 28),
	V(T_CAPABILITY_REQ, 30),
	V(T_CAPABILITY_ACK, 31),
	V(T_OPTDATA_REQ, 0x1001),
	V(T_OPTDATA_IND, 0x1002),
	/* tihdr.h: states, errors, flags */
	V(TS_UNBND, 0),
	V(TS_IDLE, 3),
	V(TS_WCON_CREQ, 6),
	V(TS_DATA_XFER, 9),
	V(TS_WIND_ORDREL, 10),
	V(TS_WREQ_ORDREL, 11),
	V(TS_WACK_DREQ11, 16),
	V(TS_NOSTATES, 17),
	V(TBADADDR, 1),
	V(TBADOPT, 2),
	V(TACCES, 3),
	V(TOUTSTATE, 6),
	V(TSYSERR, 8),
	V(TLOOK, 9),
	V(TFLOW, 12),
	V(TNOTSUPPORT, 18),
	V(TADDRBUSY, 23),
	V(TPROTO, 29),
	V(T_COTS, 1),
	V(T_COTS_ORD, 2),
	V(T_CLTS, 3),
	V(SENDZERO, 1),
	V(EXPINLINE, 2),
	V(XPG4_1, 4),
	V(T_NEGOTIATE, 0x004),
	V(T_CHECK, 0x008),
	V(T_DEFAULT, 0x010),
	V(T_SUCCESS, 0x020),
	V(T_FAILURE, 0x040),
	V(T_CURRENT, 0x080),
	V(T_PARTSUCCESS, 0x100),
	V(T_READONLY, 0x200),
	V(T_NOTSUPPORT, 0x400),
	V(T_MORE, 1),
	V(T_EXPEDITED, 2),
	V(T_ODF_MORE, 1),
	V(T_ODF_EX, 2),
	V(T_INFINITE, -1),
	V(T_INVALID, -2),
	V(TC1_INFO, 1),
	V(TC1_ACCEPTOR_ID, 2),

	/* dlpi.h */
	V(DL_IOC_HDR_INFO, ('D' << 8) | 10),
	V(DLIOCRAW, ('D' << 8) | 1),
	V(DL_VERSION_2, 2),
	V(DL_INFO_REQ, 0x00),
	V(DL_BIND_REQ, 0x01),
	V(DL_UNBIND_REQ, 0x02),
	V(DL_INFO_ACK, 0x03),
	V(DL_BIND_ACK, 0x04),
	V(DL_ERROR_ACK, 0x05),
	V(DL_OK_ACK, 0x06),
	V(DL_UNITDATA_REQ, 0x07),
	V(DL_UNITDATA_IND, 0x08),
	V(DL_UDERROR_IND, 0x09),
	V(DL_ATTACH_REQ, 0x0b),
	V(DL_DETACH_REQ, 0x0c),
	V(DL_SUBS_BIND_REQ, 0x1b),
	V(DL_ENABMULTI_REQ, 0x1d),
	V(DL_DISABMULTI_REQ, 0x1e),
	V(DL_PROMISCON_REQ, 0x1f),
	V(DL_PROMISCOFF_REQ, 0x20),
	V(DL_PHYS_ADDR_REQ, 0x31),
	V(DL_PHYS_ADDR_ACK, 0x32),
	V(DL_SET_PHYS_ADDR_REQ, 0x33),
	V(DL_NOTIFY_REQ, 0x100),
	V(DL_NOTIFY_ACK, 0x101),
	V(DL_NOTIFY_IND, 0x102),
	V(DL_CAPABILITY_REQ, 0x110),
	V(DL_CAPABILITY_ACK, 0x111),
	V(DL_UNBOUND, 0x00),
	V(DL_BIND_PENDING, 0x01),
	V(DL_UNBIND_PENDING, 0x02),
	V(DL_IDLE, 0x03),
	V(DL_UNATTACHED, 0x04),
	V(DL_ATTACH_PENDING, 0x05),
	V(DL_DETACH_PENDING, 0x06),
	V(DL_BADSAP, 0x00),
	V(DL_BADADDR, 0x01),
	V(DL_ACCESS, 0x02),
	V(DL_OUTSTATE, 0x03),
	V(DL_SYSERR, 0x04),
	V(DL_UNSUPPORTED, 0x07),
	V(DL_BADPPA, 0x08),
	V(DL_BADPRIM, 0x09),
	V(DL_BOUND, 0x0d),
	V(DL_NOADDR, 0x0f),
	V(DL_NOTINIT, 0x10),
	V(DL_UNDELIVERABLE, 0x11),
	V(DL_NOTSUPPORTED, 0x12),
	V(DL_TOOMANY, 0x13),
	V(DL_CSMACD, 0x0),
	V(DL_ETHER, 0x4),
	V(DL_OTHER, 0x9),
	V(DL_LOOP, 0xe),
	V(DL_IPV4, 0x80000001LL),
	V(DL_IPV6, 0x80000002LL),
	V(DL_CODLS, 0x01),
	V(DL_CLDLS, 0x02),
	V(DL_ACLDLS, 0x04),
	V(DL_STYLE1, 0x0500),
	V(DL_STYLE2, 0x0501),
	V(DL_FACT_PHYS_ADDR, 1),
	V(DL_CURR_PHYS_ADDR, 2),
	V(DL_PROMISC_PHYS, 0x01),
	V(DL_PROMISC_SAP, 0x02),
	V(DL_PROMISC_MULTI, 0x03),
	V(DL_NOTE_PHYS_ADDR, 0x0001),
	V(DL_NOTE_LINK_DOWN, 0x0008),
	V(DL_NOTE_LINK_UP, 0x0010),
	V(DL_NOTE_SDU_SIZE, 0x0080),
	V(DL_NOTE_SPEED, 0x0100),
	V(DL_NOTE_FASTPATH_FLUSH, 0x0200),
	V(DL_PRIM_INVAL, 0xffff),
};

static void
test_values(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
		if (values[i].value != values[i].expected)
			g_error("%s is %lld, expected %lld", values[i].name, values[i].value,
				values[i].expected);
	}
	g_assert_cmpuint(G_N_ELEMENTS(values), >=, 40);
}

static void
test_distinct_primitives(void)
{
	/* A switch over every name must compile: no two TPI primitive names
	 * may share a number (T_SVR4_OPTMGMT_REQ vs T_OPTMGMT_REQ, O_T_BIND_REQ
	 * vs T_BIND_REQ ...). */
	static const t_scalar_t tpi[] = {
		T_CONN_REQ,       O_T_CONN_RES,  T_DISCON_REQ,  T_DATA_REQ,     T_EXDATA_REQ,
		T_INFO_REQ,       O_T_BIND_REQ,  T_UNBIND_REQ,  T_UNITDATA_REQ, T_SVR4_OPTMGMT_REQ,
		T_ORDREL_REQ,     T_CONN_IND,    T_CONN_CON,    T_DISCON_IND,   T_DATA_IND,
		T_EXDATA_IND,     T_INFO_ACK,    T_BIND_ACK,    T_ERROR_ACK,    T_OK_ACK,
		T_UNITDATA_IND,   T_UDERROR_IND, T_OPTMGMT_ACK, T_ORDREL_IND,   T_ADDR_REQ,
		T_ADDR_ACK,       T_BIND_REQ,    T_OPTMGMT_REQ, T_CONN_RES,     T_CAPABILITY_REQ,
		T_CAPABILITY_ACK, T_OPTDATA_REQ, T_OPTDATA_IND, T_EXTCONN_IND,
	};
	for (size_t i = 0; i < G_N_ELEMENTS(tpi); i++)
		for (size_t j = i + 1; j < G_N_ELEMENTS(tpi); j++)
			g_assert_cmpint(tpi[i], !=, tpi[j]);

	/* The union's type overlays PRIM_type / dl_primitive. */
	union T_primitives tp = { .bind_ack = { .PRIM_type = T_BIND_ACK } };
	g_assert_cmpint(tp.type, ==, T_BIND_ACK);
	union DL_primitives dp = { .ok_ack = { .dl_primitive = DL_OK_ACK } };
	g_assert_cmpuint(dp.dl_primitive, ==, DL_OK_ACK);
}

static void
test_helpers(void)
{
	/* T_opthdr walking over two options, the first with a 5-byte value. */
	union {
		t_uscalar_t align;
		unsigned char b[64];
	} buf = { 0 };
	struct T_opthdr *o = _TPI_TOPT_FIRSTHDR(buf.b, sizeof buf.b);
	g_assert_nonnull(o);
	o->len = sizeof(struct T_opthdr) + 5;
	o->level = 6;
	o->name = 1;
	g_assert_true(_TPI_TOPT_VALID(o, buf.b, buf.b + sizeof buf.b));
	g_assert_cmpuint(_TPI_TOPT_DATALEN(o), ==, 5);
	g_assert_true(_TPI_TOPT_DATA(o) == buf.b + 16);
	struct T_opthdr *n = _TPI_TOPT_NEXTHDR(buf.b, sizeof buf.b, o);
	g_assert_true((unsigned char *)n == buf.b + 24); /* 21 rounded to 4 */
	n->len = 4;                                      /* shorter than a header */
	g_assert_false(_TPI_TOPT_VALID(n, buf.b, buf.b + sizeof buf.b));
	n->len = 64; /* runs past the end */
	g_assert_false(_TPI_TOPT_VALID(n, buf.b, buf.b + sizeof buf.b));
	g_assert_null(_TPI_TOPT_FIRSTHDR(buf.b, 8));

	g_assert_cmpuint(T_ALIGN(5), ==, 8);
	g_assert_cmpuint(T_ALIGN(8), ==, 8);
	g_assert_cmpuint(OPTLEN(5), ==, 8);
	g_assert_cmpuint(OPTLEN(0), ==, 0);
	struct opthdr *oh = (struct opthdr *)(void *)buf.b;
	g_assert_true(OPTVAL(oh) == (char *)buf.b + sizeof(struct opthdr));

	dl_notify_ind_t ni = { 0 };
	ni.dl_data1 = 1500;
	ni.dl_data2 = 9000;
	g_assert_cmpuint(ni.dl_data & 0xffff, ==, G_BYTE_ORDER == G_LITTLE_ENDIAN ? 1500 : 9000);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/headers/values", test_values);
	g_test_add_func("/headers/distinct-primitives", test_distinct_primitives);
	g_test_add_func("/headers/helpers", test_helpers);
	return g_test_run();
}
