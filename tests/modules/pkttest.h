/* SPDX-License-Identifier: MIT */
/*
 * pkttest.h -- helpers for the tests of the modules that look at packets
 * wherever they are pushed (snoop, filter): IPv4/ICMP/UDP/TCP packets and
 * Ethernet frames built byte by byte, the message forms that carry them at
 * each hook (raw frames, DL_UNITDATA_IND/REQ, fast-path M_DATA,
 * IP_UNITDATA_IND/REQ), comparison of messages, and reading captures back
 * with libpcap.  Everything asserts, so a test reads as what it checks.
 */
#ifndef US_PKTTEST_H
#define US_PKTTEST_H

#include "ether-wire.h"
#include "inet-cksum.h"
#include "ip.h"

#include <ustreams/dlpi.h>
#include <ustreams/stream.h>

#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <string.h>

static const uint8_t PT_MAC_A[ETHER_ALEN] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t PT_MAC_B[ETHER_ALEN] = { 0x02, 0, 0, 0, 0, 0x0b };

static inline uint32_t
pt_addr(const char *s)
{
	struct in_addr a;
	g_assert_cmpint(inet_pton(AF_INET, s, &a), ==, 1);
	return a.s_addr;
}

/* An IPv4 datagram (header checksum right) around an l4 payload. */
static inline GByteArray *
pt_ipv4(const char *src, const char *dst, uint8_t proto, const uint8_t *l4, size_t l4len)
{
	GByteArray *b = g_byte_array_sized_new(20 + l4len);
	uint8_t h[20] = { 0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto };
	ether_put16(h + 2, (uint16_t)(20 + l4len));
	uint32_t s = pt_addr(src), d = pt_addr(dst);
	memcpy(h + 12, &s, 4);
	memcpy(h + 16, &d, 4);
	uint16_t ck = us_cksum(h, 20);
	memcpy(h + 10, &ck, 2);
	g_byte_array_append(b, h, 20);
	g_byte_array_append(b, l4, (guint)l4len);
	return b;
}

static inline GByteArray *
pt_icmp_echo(const char *src, const char *dst, gboolean request, uint16_t id, uint16_t seq,
	     size_t datalen)
{
	uint8_t *m = g_malloc0(8 + datalen);
	m[0] = request ? 8 : 0;
	ether_put16(m + 4, id);
	ether_put16(m + 6, seq);
	for (size_t i = 0; i < datalen; i++)
		m[8 + i] = (uint8_t)(i + seq);
	uint16_t ck = us_cksum(m, 8 + datalen);
	memcpy(m + 2, &ck, 2);
	GByteArray *b = pt_ipv4(src, dst, 1, m, 8 + datalen);
	g_free(m);
	return b;
}

static inline GByteArray *
pt_udp(const char *src, const char *dst, uint16_t sport, uint16_t dport, size_t datalen)
{
	uint8_t *u = g_malloc0(8 + datalen);
	ether_put16(u, sport);
	ether_put16(u + 2, dport);
	ether_put16(u + 4, (uint16_t)(8 + datalen));
	for (size_t i = 0; i < datalen; i++)
		u[8 + i] = (uint8_t)(i * 3);
	GByteArray *b = pt_ipv4(src, dst, 17, u, 8 + datalen);
	g_free(u);
	return b;
}

static inline GByteArray *
pt_tcp(const char *src, const char *dst, uint16_t sport, uint16_t dport, uint8_t flags)
{
	uint8_t t[20] = { 0 };
	ether_put16(t, sport);
	ether_put16(t + 2, dport);
	t[12] = 5 << 4;
	t[13] = flags;
	ether_put16(t + 14, 65535);
	return pt_ipv4(src, dst, 6, t, sizeof t);
}

/* An Ethernet frame: dst, src, (802.1Q tag when vid >= 0), type, payload. */
static inline GByteArray *
pt_frame(const uint8_t *dst, const uint8_t *src, uint16_t type, const GByteArray *payload, int vid)
{
	GByteArray *b = g_byte_array_new();
	uint8_t h[ETHER_VLAN_HLEN];
	memcpy(h, dst, 6);
	memcpy(h + 6, src, 6);
	size_t hl = ETHER_HLEN;
	if (vid >= 0) {
		ether_put16(h + 12, ETHER_T_VLAN);
		ether_put16(h + 14, (uint16_t)vid);
		ether_put16(h + 16, type);
		hl = ETHER_VLAN_HLEN;
	} else {
		ether_put16(h + 12, type);
	}
	g_byte_array_append(b, h, (guint)hl);
	if (payload != NULL)
		g_byte_array_append(b, payload->data, payload->len);
	return b;
}

/* An ARP request (28 bytes) asking for tpa from spa. */
static inline GByteArray *
pt_arp_request(const char *spa, const char *tpa)
{
	uint8_t a[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	memcpy(a + 8, PT_MAC_A, 6);
	uint32_t s = pt_addr(spa), t = pt_addr(tpa);
	memcpy(a + 14, &s, 4);
	memcpy(a + 24, &t, 4);
	GByteArray *b = g_byte_array_new();
	g_byte_array_append(b, a, sizeof a);
	return b;
}

/* M_DATA holding p[0..len) split into nblocks blocks (the last takes the
 * rest). */
static inline mblk_t *
pt_data(const void *p, size_t len, guint nblocks)
{
	mblk_t *head = NULL;
	size_t per = nblocks > 1 ? len / nblocks : len;
	size_t off = 0;
	for (guint i = 0; i < nblocks; i++) {
		size_t n = i + 1 == nblocks ? len - off : per;
		mblk_t *bp = us_msg_from((const uint8_t *)p + off, n, 16);
		g_assert_nonnull(bp);
		if (head == NULL)
			head = bp;
		else
			linkb(head, bp);
		off += n;
	}
	return head;
}

static inline mblk_t *
pt_data_ba(const GByteArray *b, guint nblocks)
{
	return pt_data(b->data, b->len, nblocks);
}

/* M_PROTO with prim bytes then extra bytes, and b_cont (may be NULL). */
static inline mblk_t *
pt_proto(const void *prim, size_t len, const void *extra, size_t elen, mblk_t *cont)
{
	mblk_t *mp = allocb(len + elen, BPRI_MED);
	g_assert_nonnull(mp);
	DB_TYPE(mp) = M_PROTO;
	memcpy(mp->b_wptr, prim, len);
	mp->b_wptr += len;
	if (elen > 0)
		memcpy(mp->b_wptr, extra, elen);
	mp->b_wptr += elen;
	mp->b_cont = cont;
	return mp;
}

/* DL_UNITDATA_IND as ether sends it: both DLSAPs MAC + SAP (host order). */
static inline mblk_t *
pt_dl_ind(uint16_t sap, const GByteArray *payload, guint nblocks)
{
	dl_unitdata_ind_t ind = { .dl_primitive = DL_UNITDATA_IND,
				  .dl_dest_addr_length = 8,
				  .dl_dest_addr_offset = sizeof ind,
				  .dl_src_addr_length = 8,
				  .dl_src_addr_offset = sizeof ind + 8 };
	uint8_t addrs[16];
	memcpy(addrs, PT_MAC_A, 6);
	memcpy(addrs + 6, &sap, 2);
	memcpy(addrs + 8, PT_MAC_B, 6);
	memcpy(addrs + 14, &sap, 2);
	return pt_proto(&ind, sizeof ind, addrs, sizeof addrs, pt_data_ba(payload, nblocks));
}

/* DL_UNITDATA_REQ with ether's 8-byte DLSAP (nh NULL) or arp's 6-byte next
 * hop (nh an address). */
static inline mblk_t *
pt_dl_req(uint16_t sap, const char *nh, const GByteArray *payload, guint nblocks)
{
	dl_unitdata_req_t req = { .dl_primitive = DL_UNITDATA_REQ,
				  .dl_dest_addr_length = nh != NULL ? 6 : 8,
				  .dl_dest_addr_offset = sizeof req };
	uint8_t addr[8];
	if (nh != NULL) {
		uint32_t a = pt_addr(nh);
		memcpy(addr, &a, 4);
		memcpy(addr + 4, &sap, 2);
	} else {
		memcpy(addr, PT_MAC_B, 6);
		memcpy(addr + 6, &sap, 2);
	}
	return pt_proto(&req, sizeof req, addr, req.dl_dest_addr_length,
			pt_data_ba(payload, nblocks));
}

static inline mblk_t *
pt_ip_ind(const GByteArray *dgram, guint nblocks)
{
	struct ip_unitdata_ind ind = { .prim = IP_UNITDATA_IND,
				       .proto = dgram->data[9],
				       .ttl = dgram->data[8],
				       .hdr_len = 20 };
	memcpy(&ind.src, dgram->data + 12, 4);
	memcpy(&ind.dst, dgram->data + 16, 4);
	return pt_proto(&ind, sizeof ind, NULL, 0, pt_data_ba(dgram, nblocks));
}

static inline mblk_t *
pt_ip_req(const char *src, const char *dst, uint8_t proto, uint8_t ttl, uint8_t tos, uint32_t flags,
	  const uint8_t *payload, size_t len, guint nblocks)
{
	struct ip_unitdata_req req = { .prim = IP_UNITDATA_REQ,
				       .src = src != NULL ? pt_addr(src) : 0,
				       .dst = pt_addr(dst),
				       .proto = proto,
				       .ttl = ttl,
				       .tos = tos,
				       .flags = flags };
	return pt_proto(&req, sizeof req, NULL, 0, pt_data(payload, len, nblocks));
}

/* The bytes of every block of mp with each block's type, for comparing a
 * message before and after it went through a module. */
static inline GBytes *
pt_msg_image(const mblk_t *mp)
{
	GByteArray *b = g_byte_array_new();
	for (; mp != NULL; mp = mp->b_cont) {
		uint8_t t = DB_TYPE(mp);
		uint32_t n = (uint32_t)MBLKL(mp);
		g_byte_array_append(b, &t, 1);
		g_byte_array_append(b, (const uint8_t *)&n, 4);
		g_byte_array_append(b, mp->b_rptr, n);
	}
	return g_byte_array_free_to_bytes(b);
}

/* A capture read back: link type and its records. */
typedef struct {
	gint64 ts_ns; /* timestamp, in nanoseconds whatever the file's precision */
	guint32 caplen, len;
	GBytes *data;
} PtRec;

static inline void
pt_rec_free(gpointer p)
{
	PtRec *r = p;
	g_bytes_unref(r->data);
	g_free(r);
}

/* Reads path; returns its DLT and fills *recs (g_ptr_array_unref). */
static inline int
pt_read_pcap(const char *path, GPtrArray **recs)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p =
		pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (p == NULL)
		g_error("%s: %s", path, errbuf);
	*recs = g_ptr_array_new_with_free_func(pt_rec_free);
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		PtRec *r = g_new0(PtRec, 1);
		r->ts_ns = (gint64)h->ts.tv_sec * G_GINT64_CONSTANT(1000000000) + h->ts.tv_usec;
		r->caplen = h->caplen;
		r->len = h->len;
		r->data = g_bytes_new(data, h->caplen);
		g_ptr_array_add(*recs, r);
	}
	g_assert_cmpint(rc, ==, PCAP_ERROR_BREAK);
	int dlt = pcap_datalink(p);
	pcap_close(p);
	return dlt;
}

static inline void
pt_assert_rec(const PtRec *r, const GByteArray *want)
{
	gsize n;
	const uint8_t *d = g_bytes_get_data(r->data, &n);
	g_assert_cmpmem(d, n, want->data, want->len);
	g_assert_cmpuint(r->len, ==, want->len);
}

/* File size in bytes (0 if missing). */
static inline guint64
pt_file_size(const char *path)
{
	GStatBuf st;
	return g_stat(path, &st) == 0 ? (guint64)st.st_size : 0;
}

#endif
