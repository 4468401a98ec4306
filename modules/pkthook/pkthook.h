/* SPDX-License-Identifier: MIT */
/*
 * pkthook.h -- where the packet is in a message, for the modules that look
 * at packets wherever they are pushed (snoop, filter): which "hook" a
 * position in a stream is, which libpcap link type (DLT) fits it, the bytes
 * of the packet a message carries there, and compiling BPF expressions.
 * Internal to the library (not installed); the theory is in pkthook.c.
 *
 * Hooks (in the spirit of netfilter's; "in" is the read side, going up):
 *
 *   PKTHOOK_LINK  below ether, above the driver: M_DATA both ways is a
 *                 whole Ethernet frame.  DLT_EN10MB.
 *   PKTHOOK_DLPI  above ether (between ether and arp, or arp and ip):
 *                 IPv4 packets from DL_UNITDATA_IND/REQ (payload in b_cont,
 *                 ethertype 0x0800 in the DLSAP's SAP) and fast-path
 *                 M_DATA (up: from the IP header; down: from the Ethernet
 *                 header, which is skipped).  DLT_RAW.
 *   PKTHOOK_IP    between ip and a transport: IP_UNITDATA_IND (the datagram
 *                 in b_cont) and IP_UNITDATA_REQ (b_cont is the payload; the
 *                 IPv4 header is synthesised from the request unless
 *                 IP_F_HDRINCL).  DLT_RAW.
 *   PKTHOOK_NONE  a socket stream or anything else: no message is a packet.
 */
#ifndef USTREAMS_PKTHOOK_H
#define USTREAMS_PKTHOOK_H

#include <glib.h>
#include <pcap/pcap.h>
#include <ustreams/stream.h>

G_BEGIN_DECLS

typedef enum {
	PKTHOOK_AUTO = 0, /* a parameter's "auto": found from the stream */
	PKTHOOK_LINK = 1,
	PKTHOOK_DLPI = 2,
	PKTHOOK_IP = 3,
	PKTHOOK_NONE = 4,
} PktHook;

/* The shape of a message, whatever the hook (us__pkthook_form). */
typedef enum {
	PKTFORM_NONE = 0, /* carries no packet anywhere */
	PKTFORM_DATA,     /* M_DATA */
	PKTFORM_DLPI,     /* DL_UNITDATA_IND going up, DL_UNITDATA_REQ going down */
	PKTFORM_IP,       /* IP_UNITDATA_IND going up, IP_UNITDATA_REQ going down */
} PktForm;

typedef enum {
	PKT_NOT_PACKET = 0, /* no packet at this hook: pass it untouched */
	PKT_FOREIGN,        /* a packet the hook's DLT cannot hold (ARP above ether) */
	PKT_OK,             /* the view holds the packet */
} PktVerdict;

/* Scratch space for packets that are not contiguous in their message. */
typedef struct {
	guint8 *buf; /* g_free()d by us__pkthook_scratch_clear */
	size_t cap;
} PktScratch;

/* A packet's bytes: into the message itself or into the scratch. */
typedef struct {
	const guint8 *data;
	size_t len;
} PktView;

/* The hook of a module instance, from what lies below its write queue:
 * ether somewhere below: DLPI; at the bottom ip: IP; another multiplexor
 * (a transport): NONE; a plain driver: LINK. */
PktHook us__pkthook_probe(queue_t *q);
/* "auto", "link", "dlpi", "ip", "none". */
const char *us__pkthook_name(PktHook hook);
/* Parses a name (NULL or "" is "auto"); FALSE when unknown. */
gboolean us__pkthook_parse(const char *s, PktHook *out);
/* DLT_EN10MB for LINK, DLT_RAW for DLPI and IP, -1 otherwise. */
int us__pkthook_dlt(PktHook hook);
/* The hook a message form implies when the stream says LINK: DLPI and IP
 * primitives never pass below ether, so seeing one proves the stream is
 * above a provider (used by snoop's "auto"). */
PktHook us__pkthook_refine(PktHook probed, PktForm form);

/* The form of mp going up (read side) or down (mp is not consumed). */
PktForm us__pkthook_form(const mblk_t *mp, gboolean up);
/* The packet mp carries at hook, going up or down (mp is not consumed and
 * must stay unchanged while v is used).  The view points into mp when the
 * packet is contiguous there, else into s (grown as needed). */
PktVerdict us__pkthook_view(PktHook hook, gboolean up, const mblk_t *mp, PktScratch *s, PktView *v);
void us__pkthook_scratch_clear(PktScratch *s);

/* Compiles a BPF expression for dlt ("" matches everything) into prog
 * (pcap_freecode it).  On failure sets error to libpcap's message. */
gboolean us__pkthook_compile(int dlt, const char *expr, struct bpf_program *prog, GError **error);
/* Runs a compiled program on a packet: TRUE when it matches. */
gboolean us__pkthook_match(const struct bpf_program *prog, const PktView *v);

G_END_DECLS

#endif /* USTREAMS_PKTHOOK_H */
