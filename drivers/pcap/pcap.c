/* SPDX-License-Identifier: MIT */
/*
 * pcap -- a driver that replays a capture file up its stream at the frames'
 * timestamps on the world's clock, and writes every frame sent down it to a
 * capture file stamped with the world's time.
 *
 * Theory
 * ------
 * Each open is a clone open; input and output are independent and both may
 * be used at once.  Configuration is by parameters or I_STR ioctls
 * (pcap-drv.h).
 *
 * Input.  Starting (the "in" parameter or PCAP_START) opens the file with
 * libpcap (pcap_open_offline_with_tstamp_precision, nanosecond stamps; pcap
 * and pcapng), refuses any link type but DLT_EN10MB, and notes the world
 * time: the first frame is due then, and frame i at start + (ts_i - ts_0) /
 * speed.  A frame stamped before the latest stamp so far is due with it
 * (counted in nonmono), so delivery times never go backwards.  One frame is
 * read ahead into a message buffer (allocb of caplen and one copy out of
 * libpcap's buffer); when it is due and canputnext() allows, it goes up as
 * M_DATA and the next one is read.  Waiting for a due time uses one world
 * timer, so a virtual-time world replays deterministically and a real one
 * paces in real time.  speed 0 ignores the stamps and delivers one frame per
 * pass of the scheduler (the read service procedure re-enables itself).
 * When the reader is full the frame stays read ahead: canputnext() marks the
 * reader, whose draining back-enables our read service procedure, which
 * resumes delivery.  Input frames are never dropped for flow control;
 * frames that fell due while the reader was full go up as soon as it has
 * room, and later frames keep their own due times (the schedule does not
 * shift).
 * At the end of the file nothing is sent up; the "eof" statistic becomes 1
 * and PCAP_STATUS reports it (an upper module that wants to know polls).
 *
 * Output.  PCAP_OUT or the "out" parameter creates the file
 * (pcap_open_dead(DLT_EN10MB, 65535) + pcap_dump_open; microsecond stamps
 * unless out_nsec).  Each M_DATA written down is appended with the world's
 * time (+ out_base) as timestamp and freed; writing never blocks the stream,
 * so the write side has no service procedure.  In virtual time the output is
 * byte-identical between runs.  With no output open, frames are dropped and
 * counted.
 *
 * Messages consumed on the write side: M_DATA, M_IOCTL (PCAP_START, PCAP_OUT,
 * PCAP_STATUS; others NAKed), M_FLUSH (canonical driver handling); others are
 * dropped as unhandled.  Produced on the read side: M_DATA only.
 *
 * Failing to start: the file is opened by libpcap; when that fails its
 * message is logged (g_warning, naming the file) and the errno of opening
 * the file ourselves (ENOENT, EACCES, EISDIR ...) or EINVAL (not a capture,
 * not Ethernet) is returned by the ioctl (NAK) or in the parameter's GError.
 *
 * Names: the module's statics are prefixed pcapdrv_, since libpcap owns
 * the pcap_ prefix.
 *
 * Deviations: allocation failures drop the frame being read (counted in
 * errors and as "no memory") rather than waiting with bufcall.  A failed
 * (re)start leaves nothing being read.
 */
#define G_LOG_DOMAIN "us-pcap"

#include "pcap-drv.h"

#include <ustreams/plumb.h>
#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/world.h>

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCAPDRV_SNAPLEN 65535

/* Per-open state (q_ptr of both queues). */
typedef struct {
	char *in;              /* parameter: capture to replay */
	char *out;             /* parameter: capture to write */
	double speed;          /* parameter: replay speed factor, 0 fastest */
	gboolean out_nsec;     /* parameter: nanosecond output stamps */
	gint64 out_base;       /* parameter: ns added to output stamps */
	guint64 frames_in;     /* frames delivered up */
	guint64 bytes_in;      /* their bytes */
	guint64 frames_out;    /* frames written to the output */
	guint64 bytes_out;     /* their bytes */
	guint64 nonmono;       /* frames stamped before an earlier one */
	guint64 truncated;     /* frames with caplen < len */
	guint64 errors;        /* read errors, allocation failures */
	guint64 dropped;       /* frames written down with no output open */
	guint64 eof;           /* 1 once the input ended */
	guint64 run_frames;    /* frames delivered since the last start */
	queue_t *rq;           /* our read queue */
	UsWorld *world;        /* our stack's world */
	pcap_t *rd;            /* input being read, NULL if none */
	char *rd_path;         /* its file name */
	mblk_t *pending;       /* next frame, read ahead, or NULL */
	gint64 pending_at;     /* its due time (world ns) */
	gint64 start_at;       /* world time reading started */
	gint64 first_ts;       /* stamp of the first frame (ns) */
	gint64 max_ts;         /* latest stamp so far (ns) */
	gboolean have_first;   /* first_ts is set */
	guint64 timer;         /* world timer waiting for pending_at, or 0 */
	pcap_t *dead;          /* output handle (pcap_open_dead), or NULL */
	pcap_dumper_t *dumper; /* output file, or NULL */
	gboolean dump_nsec;    /* the output has nanosecond stamps */
	GByteArray *scratch;   /* gathers multi-block frames for pcap_dump */
} PcapState;

enum {
	PCAPDRV_DROP_NO_OUTPUT,
	PCAPDRV_DROP_NOMEM,
};
static const char *const pcapdrv_drop_reasons[] = {
	"no output file",
	"no memory",
	NULL,
};

/* ------------------------------------------------------------------ */
/* Input                                                              */
/* ------------------------------------------------------------------ */

/* Cancels the timer and forgets the input and the frame read ahead.  The
 * frame was never delivered: stopping replay discards it. */
static void
pcapdrv_stop_input(PcapState *ps)
{
	if (ps->timer != 0) {
		us_world_timer_cancel(ps->world, ps->timer);
		ps->timer = 0;
	}
	g_clear_pointer(&ps->pending, freemsg);
	g_clear_pointer(&ps->rd, pcap_close);
	g_clear_pointer(&ps->rd_path, g_free);
}

/* The errno that explains why libpcap could not open path. */
static int
pcapdrv_open_errno(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	struct stat sb;
	int err = fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
	close(fd);
	return err;
}

/* Opens path for reading into ps->rd; returns 0 or an errno. */
static int
pcapdrv_open_input(PcapState *ps, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p =
		pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (p == NULL) {
		int err = pcapdrv_open_errno(path);
		g_warning("cannot replay %s: %s", path, errbuf);
		return err;
	}
	int dlt = pcap_datalink(p);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);
		g_warning("cannot replay %s: link type %s (%d) is not Ethernet (EN10MB)", path,
			  name ? name : "unknown", dlt);
		pcap_close(p);
		return EINVAL;
	}
	ps->rd = p;
	ps->rd_path = g_strdup(path);
	return 0;
}

/* World time at which a frame stamped ts (ns) is due. */
static gint64
pcapdrv_due(PcapState *ps, gint64 ts)
{
	if (!ps->have_first) {
		ps->have_first = TRUE;
		ps->first_ts = ps->max_ts = ts;
	}
	if (ts < ps->max_ts) {
		ps->nonmono++;
		ts = ps->max_ts;
	}
	ps->max_ts = ts;
	gint64 off = ts - ps->first_ts;
	if (ps->speed > 0.0 && ps->speed != 1.0)
		off = (gint64)((double)off / ps->speed);
	return ps->start_at + off;
}

/* Closes the input at its end (or after a read error). */
static void
pcapdrv_input_ended(PcapState *ps, int rc)
{
	if (rc == PCAP_ERROR) {
		ps->errors++;
		g_warning("%s: read error after %" G_GUINT64_FORMAT " frames: %s", ps->rd_path,
			  ps->run_frames, pcap_geterr(ps->rd));
	} else {
		g_info("%s: end of capture after %" G_GUINT64_FORMAT " frames", ps->rd_path,
		       ps->run_frames);
	}
	ps->eof = 1;
	g_clear_pointer(&ps->rd, pcap_close);
	g_clear_pointer(&ps->rd_path, g_free);
}

/* Reads the next frame ahead into ps->pending, or notes the end. */
static void
pcapdrv_read_next(PcapState *ps)
{
	while (ps->rd != NULL && ps->pending == NULL) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = pcap_next_ex(ps->rd, &h, &data);
		if (rc != 1) {
			pcapdrv_input_ended(ps, rc);
			return;
		}
		mblk_t *mp = allocb(h->caplen, BPRI_MED);
		if (mp == NULL) {
			ps->errors++;
			us_drop(ps->rq, NULL, PCAPDRV_DROP_NOMEM);
			continue;
		}
		memcpy(mp->b_wptr, data, h->caplen);
		mp->b_wptr += h->caplen;
		if (h->caplen < h->len)
			ps->truncated++;
		ps->pending = mp;
		ps->pending_at =
			pcapdrv_due(ps, (gint64)h->ts.tv_sec * US_NSEC_PER_SEC + h->ts.tv_usec);
	}
}

static void pcapdrv_pump(PcapState *ps);

static void
pcapdrv_timer_fire(gpointer data)
{
	PcapState *ps = data;
	ps->timer = 0;
	pcapdrv_pump(ps);
}

/* Delivers what is due while the reader has room; then waits for the next
 * due time (timer), for back-enabling, or (speed 0) for the next pass. */
static void
pcapdrv_pump(PcapState *ps)
{
	queue_t *rq = ps->rq;
	while (ps->pending != NULL) {
		if (ps->speed > 0.0) {
			gint64 wait = ps->pending_at - us_world_now(ps->world);
			if (wait > 0) {
				if (ps->timer == 0)
					ps->timer = us_world_timer_add(ps->world, wait,
								       pcapdrv_timer_fire, ps);
				return;
			}
		}
		if (!canputnext(rq))
			return;
		mblk_t *mp = g_steal_pointer(&ps->pending);
		ps->frames_in++;
		ps->run_frames++;
		ps->bytes_in += MBLKL(mp);
		putnext(rq, mp);
		pcapdrv_read_next(ps);
		if (ps->speed == 0.0) {
			if (ps->pending != NULL)
				qenable(rq);
			return;
		}
	}
}

/* (Re)starts replay of path now; NULL or "" just stops.  Returns 0 or an
 * errno. */
static int
pcapdrv_start(PcapState *ps, const char *path)
{
	pcapdrv_stop_input(ps);
	ps->eof = 0;
	ps->run_frames = 0;
	ps->have_first = FALSE;
	if (path == NULL || path[0] == '\0')
		return 0;
	int err = pcapdrv_open_input(ps, path);
	if (err != 0)
		return err;
	ps->start_at = us_world_now(ps->world);
	pcapdrv_read_next(ps);
	/* The first frame goes up from the service procedure, after the reply
	 * to whatever started us. */
	qenable(ps->rq);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Output                                                             */
/* ------------------------------------------------------------------ */

static void
pcapdrv_close_output(PcapState *ps)
{
	g_clear_pointer(&ps->dumper, pcap_dump_close);
	g_clear_pointer(&ps->dead, pcap_close);
}

/* Creates path as the output (closing any previous one); NULL or "" only
 * closes.  Returns 0 or an errno. */
static int
pcapdrv_open_output(PcapState *ps, const char *path)
{
	pcapdrv_close_output(ps);
	if (path == NULL || path[0] == '\0')
		return 0;
	FILE *probe = fopen(path, "wb");
	if (probe == NULL) {
		int err = errno;
		g_warning("cannot write capture %s: %s", path, g_strerror(err));
		return err;
	}
	fclose(probe);
	guint prec = ps->out_nsec ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO;
	ps->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, PCAPDRV_SNAPLEN, prec);
	if (ps->dead == NULL) {
		g_warning("cannot write capture %s: pcap_open_dead failed", path);
		return ENOMEM;
	}
	ps->dumper = pcap_dump_open(ps->dead, path);
	if (ps->dumper == NULL) {
		g_warning("cannot write capture %s: %s", path, pcap_geterr(ps->dead));
		g_clear_pointer(&ps->dead, pcap_close);
		return EIO;
	}
	ps->dump_nsec = ps->out_nsec;
	return 0;
}

/* Appends a frame to the output with the world's time (consumes mp). */
static void
pcapdrv_write_frame(queue_t *wq, mblk_t *mp)
{
	PcapState *ps = wq->q_ptr;
	if (ps->dumper == NULL) {
		ps->dropped++;
		us_drop(wq, mp, PCAPDRV_DROP_NO_OUTPUT);
		return;
	}
	size_t len = msgdsize(mp);
	const u_char *bytes = mp->b_rptr;
	if (mp->b_cont != NULL) {
		g_byte_array_set_size(ps->scratch, (guint)len);
		us_msgcopyout(mp, 0, ps->scratch->data, len);
		bytes = ps->scratch->data;
	}
	gint64 t = MAX(us_world_now(ps->world) + ps->out_base, 0);
	gint64 frac = t % US_NSEC_PER_SEC;
	struct pcap_pkthdr h = {
		.ts = { .tv_sec = (time_t)(t / US_NSEC_PER_SEC),
			.tv_usec = (suseconds_t)(ps->dump_nsec ? frac : frac / 1000) },
		.caplen = (bpf_u_int32)MIN(len, (size_t)PCAPDRV_SNAPLEN),
		.len = (bpf_u_int32)len,
	};
	pcap_dump((u_char *)ps->dumper, &h, bytes);
	ps->frames_out++;
	ps->bytes_out += len;
	freemsg(mp);
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

static int
pcapdrv_open(queue_t *rq, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	(void)devp;
	(void)oflag;
	(void)crp;
	if (sflag != CLONEOPEN)
		return ENXIO;
	static gint next_minor = 1; /* a number for dev_t only; atomic */
	PcapState *ps = g_new0(PcapState, 1);
	ps->speed = 1.0;
	ps->rq = rq;
	ps->world = us_queue_world(rq);
	ps->scratch = g_byte_array_new();
	rq->q_ptr = WR(rq)->q_ptr = ps;
	*devp = makedevice(getmajor(*devp), g_atomic_int_add(&next_minor, 1) & US_MAXMIN);
	return 0;
}

static int
pcapdrv_close(queue_t *rq, int flag, cred_t *crp)
{
	(void)flag;
	(void)crp;
	PcapState *ps = rq->q_ptr;
	pcapdrv_stop_input(ps);
	pcapdrv_close_output(ps);
	g_byte_array_unref(ps->scratch);
	g_free(ps->in);
	g_free(ps->out);
	g_free(ps);
	rq->q_ptr = WR(rq)->q_ptr = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Write side: frames out, ioctls                                     */
/* ------------------------------------------------------------------ */

/* Copies the file name carried by an I_STR ioctl into buf (PCAP_PATHSZ).
 * Returns 0, or ENODATA when there is none, or EINVAL when it is malformed. */
static int
pcapdrv_ioctl_path(mblk_t *mp, char *buf)
{
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	if (ioc->ioc_count == TRANSPARENT)
		return EINVAL;
	size_t n = mp->b_cont ? MIN(ioc->ioc_count, msgdsize(mp->b_cont)) : 0;
	if (n == 0)
		return ENODATA;
	n = us_msgcopyout(mp->b_cont, 0, buf, MIN(n, (size_t)PCAP_PATHSZ));
	if (memchr(buf, '\0', n) == NULL) {
		if (n >= PCAP_PATHSZ)
			return EINVAL;
		buf[n] = '\0';
	}
	return 0;
}

/* Replaces a string parameter's value. */
static void
pcapdrv_set_string(char **field, const char *value)
{
	char *old = *field;
	*field = g_strdup(value);
	g_free(old);
}

static int
pcapdrv_ioctl_start(PcapState *ps, mblk_t *mp)
{
	char path[PCAP_PATHSZ];
	int err = pcapdrv_ioctl_path(mp, path);
	if (err == ENODATA) {
		if (ps->in == NULL || ps->in[0] == '\0')
			return EINVAL;
		g_strlcpy(path, ps->in, sizeof path);
	} else if (err != 0 || path[0] == '\0') {
		return EINVAL;
	}
	err = pcapdrv_start(ps, path);
	if (err == 0)
		pcapdrv_set_string(&ps->in, path);
	return err;
}

static int
pcapdrv_ioctl_out(PcapState *ps, mblk_t *mp)
{
	char path[PCAP_PATHSZ];
	int err = pcapdrv_ioctl_path(mp, path);
	if (err != 0)
		return EINVAL;
	err = pcapdrv_open_output(ps, path);
	if (err == 0)
		pcapdrv_set_string(&ps->out, path);
	return err;
}

/* Answers PCAP_STATUS (consumes mp); flushes the output first. */
static void
pcapdrv_ioctl_status(queue_t *wq, mblk_t *mp)
{
	PcapState *ps = wq->q_ptr;
	if (ps->dumper != NULL && pcap_dump_flush(ps->dumper) != 0) {
		ps->errors++;
		g_warning("%s: flushing the output failed", ps->out ? ps->out : "?");
	}
	struct pcap_drv_status st = {
		.frames_in = ps->frames_in,
		.bytes_in = ps->bytes_in,
		.frames_out = ps->frames_out,
		.bytes_out = ps->bytes_out,
		.nonmono = ps->nonmono,
		.errors = ps->errors,
		.eof = ps->eof != 0,
		.reading = ps->pending != NULL,
	};
	mblk_t *dp = us_msg_from(&st, sizeof st, 0);
	if (dp == NULL) {
		miocnak(wq, mp, 0, ENOMEM);
		return;
	}
	freemsg(mp->b_cont);
	mp->b_cont = dp;
	miocack(wq, mp, (int)sizeof st, 0);
}

static void
pcapdrv_ioctl(queue_t *wq, mblk_t *mp)
{
	PcapState *ps = wq->q_ptr;
	struct iocblk *ioc = (struct iocblk *)mp->b_rptr;
	int err;
	switch (ioc->ioc_cmd) {
	case PCAP_START: err = pcapdrv_ioctl_start(ps, mp); break;
	case PCAP_OUT: err = pcapdrv_ioctl_out(ps, mp); break;
	case PCAP_STATUS: pcapdrv_ioctl_status(wq, mp); return;
	default: err = EINVAL; break;
	}
	if (err != 0)
		miocnak(wq, mp, 0, err);
	else
		miocack(wq, mp, 0, 0);
}

/* Write put: frames go to the output file; ioctls configure. */
static int
pcapdrv_wput(queue_t *wq, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_DATA: pcapdrv_write_frame(wq, mp); break;
	case M_IOCTL: pcapdrv_ioctl(wq, mp); break;
	default: us_default_put(wq, mp); break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Read side                                                          */
/* ------------------------------------------------------------------ */

/* Read put: nothing comes from below a driver; pass on whatever does. */
static int
pcapdrv_rput(queue_t *rq, mblk_t *mp)
{
	putnext(rq, mp);
	return 0;
}

/* Read service: started, back-enabled, or (speed 0) the next pass. */
static int
pcapdrv_rsrv(queue_t *rq)
{
	pcapdrv_pump(rq->q_ptr);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters                                                         */
/* ------------------------------------------------------------------ */

static gboolean
pcapdrv_param_errno(GError **error, const char *what, const char *path, int err)
{
	g_set_error(error, US_ERROR, US_ERROR_ERRNO, "pcap %s %s: %s", what, path, g_strerror(err));
	return FALSE;
}

static gboolean
pcapdrv_set_in(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	PcapState *ps = rq->q_ptr;
	int err = pcapdrv_start(ps, ps->in);
	return err == 0 ? TRUE : pcapdrv_param_errno(error, "in", ps->in, err);
}

static gboolean
pcapdrv_set_out(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	PcapState *ps = rq->q_ptr;
	int err = pcapdrv_open_output(ps, ps->out);
	return err == 0 ? TRUE : pcapdrv_param_errno(error, "out", ps->out, err);
}

static gboolean
pcapdrv_set_speed(queue_t *rq, const UsParamDesc *p, GError **error)
{
	(void)p;
	PcapState *ps = rq->q_ptr;
	if (isfinite(ps->speed) && ps->speed >= 0.0)
		return TRUE;
	g_set_error(error, US_ERROR, US_ERROR_INVALID, "speed: %g is not a factor >= 0", ps->speed);
	return FALSE;
}

#define PCAPDRV_PARAM(nm, desc, ty, fld, lo, hi, hook)                               \
	{                                                                            \
		.name = (nm), .description = (desc), .type = (ty),                   \
		.offset = G_STRUCT_OFFSET(PcapState, fld), .min = (lo), .max = (hi), \
		.on_set = (hook)                                                     \
	}

static const UsParamDesc pcapdrv_params[] = {
	PCAPDRV_PARAM("in", "capture file to replay; setting it starts replay", US_PARAM_STRING, in,
		      0, 0, pcapdrv_set_in),
	PCAPDRV_PARAM("out", "capture file to write frames sent down to", US_PARAM_STRING, out, 0,
		      0, pcapdrv_set_out),
	PCAPDRV_PARAM("speed", "replay speed factor (0: as fast as possible)", US_PARAM_DOUBLE,
		      speed, 0, 0, pcapdrv_set_speed),
	PCAPDRV_PARAM("out_nsec", "nanosecond timestamps in the next output file", US_PARAM_BOOL,
		      out_nsec, 0, 0, NULL),
	PCAPDRV_PARAM("out_base", "ns added to the world time in output timestamps", US_PARAM_INT,
		      out_base, G_MININT64, G_MAXINT64, NULL),
	{ 0 },
};

static const UsStatDesc pcapdrv_stats[] = {
	US_STAT("frames_in", "frames delivered up", PcapState, frames_in),
	US_STAT("bytes_in", "bytes delivered up", PcapState, bytes_in),
	US_STAT("frames_out", "frames written to the output", PcapState, frames_out),
	US_STAT("bytes_out", "bytes written to the output", PcapState, bytes_out),
	US_STAT("nonmono", "frames stamped before an earlier one", PcapState, nonmono),
	US_STAT("truncated", "frames captured shorter than sent", PcapState, truncated),
	US_STAT("errors", "read errors and allocation failures", PcapState, errors),
	US_STAT("dropped", "frames written with no output open", PcapState, dropped),
	US_STAT("eof", "1 once the input reached its end", PcapState, eof),
	{ 0 },
};

/* ------------------------------------------------------------------ */
/* Descriptor                                                         */
/* ------------------------------------------------------------------ */

static struct module_info pcapdrv_minfo = {
	.mi_idnum = 1011,
	.mi_idname = "pcap",
	.mi_minpsz = 0,
	.mi_maxpsz = INFPSZ,
	.mi_hiwat = 65536,
	.mi_lowat = 16384,
};
static struct qinit pcapdrv_rinit = {
	.qi_putp = pcapdrv_rput,
	.qi_srvp = pcapdrv_rsrv,
	.qi_qopen = pcapdrv_open,
	.qi_qclose = pcapdrv_close,
	.qi_minfo = &pcapdrv_minfo,
};
static struct qinit pcapdrv_winit = { .qi_putp = pcapdrv_wput, .qi_minfo = &pcapdrv_minfo };
static struct streamtab pcapdrv_info = { .st_rdinit = &pcapdrv_rinit, .st_wrinit = &pcapdrv_winit };

static const char *const pcapdrv_accepts[] = { "M_DATA (Ethernet frames, written out)", "M_FLUSH",
					       "M_IOCTL (PCAP_START, PCAP_OUT, PCAP_STATUS)",
					       NULL };

const UsModuleDesc us_pcap_desc = {
	.abi_version = US_ABI_VERSION,
	.name = "pcap",
	.summary = "replays a pcap/pcapng capture at its timestamps and writes one",
	.kind = US_KIND_DRIVER,
	.streamtab = &pcapdrv_info,
	.mt_flags = US_MT_PERSTREAM,
	.params = pcapdrv_params,
	.stats = pcapdrv_stats,
	.drop_reasons = pcapdrv_drop_reasons,
	.accepts = pcapdrv_accepts,
};
