/* SPDX-License-Identifier: MIT */
/*
 * pcap-drv.h -- the public contract of the pcap driver: replays a capture
 * file up the stream and writes what the stream sends down to another.
 *
 * Input: setting the "in" parameter, or PCAP_START, opens a pcap or pcapng
 * file (Ethernet link type only) and delivers its frames up as M_DATA, each
 * at its timestamp on the world's clock: the first frame at the world time
 * reading started, later ones at their offset from the first divided by
 * "speed".  A frame stamped earlier than one before it is delivered right
 * after that one and counted (nonmono).  speed 0 delivers one frame per
 * scheduler pass without waiting.  At the end of the file nothing is sent up:
 * the "eof" statistic becomes 1 and PCAP_STATUS reports it.
 *
 * Output: setting the "out" parameter, or PCAP_OUT, creates a pcap file
 * (Ethernet, snaplen 65535) to which every M_DATA written down is appended
 * with the world's time (plus out_base) as its timestamp.  The file is
 * flushed on PCAP_STATUS and complete once the stream is closed or another
 * output is set.
 *
 * Parameters (us_param_set on the driver's read queue):
 *   in        string  capture to replay; setting it (re)starts reading,
 *                     "" stops
 *   out       string  capture to write; "" closes it
 *   speed     double  replay speed factor (default 1; 0: as fast as possible)
 *   out_nsec  bool    write nanosecond timestamps (default: microseconds)
 *   out_base  int     ns added to the world time in output timestamps
 *
 * Statistics: frames_in, bytes_in (delivered up), frames_out, bytes_out
 * (written to the output), nonmono, truncated (frames captured shorter than
 * they were on the wire; delivered as captured), errors (read errors and
 * allocation failures), dropped (frames written with no output open), eof.
 */
#ifndef USTREAMS_PCAP_DRV_H
#define USTREAMS_PCAP_DRV_H

#include <stdint.h>

/* Longest file name accepted by PCAP_START and PCAP_OUT, with the NUL. */
#define PCAP_PATHSZ 4096

/* I_STR command: starts (or restarts) replay.  ic_dp holds a NUL-terminated
 * file name, or nothing to restart the file of the "in" parameter from its
 * beginning.  ENOENT, EACCES, EISDIR ...: the file cannot be opened; EINVAL:
 * no file name, not a capture libpcap can read, or a link type other than
 * Ethernet (DLT_EN10MB).  libpcap's message is logged. */
#define PCAP_START (('p' << 8) | 1)

/* I_STR command: ic_dp holds a NUL-terminated file name to write frames to
 * (created or truncated), or an empty string to close the output.  Errors
 * are those of creating the file. */
#define PCAP_OUT (('p' << 8) | 2)

/* I_STR command: returns a struct pcap_drv_status in ic_dp. */
#define PCAP_STATUS (('p' << 8) | 3)

struct pcap_drv_status {
	uint64_t frames_in;  /* frames delivered up */
	uint64_t bytes_in;   /* their bytes */
	uint64_t frames_out; /* frames written to the output file */
	uint64_t bytes_out;  /* their bytes */
	uint64_t nonmono;    /* frames stamped before an earlier frame */
	uint64_t errors;     /* read errors and allocation failures */
	int32_t eof;         /* 1 once the input ended (or failed) */
	int32_t reading;     /* 1 while frames remain to be delivered */
};

#endif
