/* SPDX-License-Identifier: MIT */
/*
 * tcp-cc -- congestion control: the RFC 5681 frame the core runs, the
 * registry of algorithms behind TCP_CONGESTION (with plug-in loading), and
 * the two built-in algorithms, NewReno (RFC 5681 + RFC 6582) and CUBIC
 * (RFC 9438, the default).
 *
 * Theory
 * ------
 * The core calls four hooks (tcp.h, TcpCcOps): ack (new data acknowledged
 * outside loss recovery: slow start below ssthresh, congestion avoidance
 * above), ssthresh (loss detected: the new threshold), recovered (recovery
 * ended) and timeout.  What is the same for every algorithm stays here:
 * the initial window (RFC 5681 §3.1: min(4 SMSS, max(2 SMSS, 4380)), one
 * segment if the SYN was retransmitted), cwnd = ssthresh on entering SACK
 * recovery (RFC 6675 §5 step 4.2) and on leaving it; NewReno's deflation on
 * a full ACK (RFC 6582 §3.2 step 3); the loss window of one segment after
 * a timeout (RFC 5681 §3.1).  Slow start grows cwnd by min(acked, 2 SMSS)
 * per ACK (RFC 5681 §3.1 with the L = 2 SMSS of RFC 3465 §2.2).
 *
 * CUBIC (RFC 9438 §4): W_cubic(t) = C (t - K)^3 + W_max, K = cbrt((W_max -
 * cwnd_epoch) / C), C = 0.4, beta = 0.7; each ACK moves cwnd toward
 * W_cubic(t + RTT) by (target - cwnd) / cwnd per segment acknowledged, the
 * target bounded to [cwnd, 1.5 cwnd] (§4.2); the Reno-friendly estimate
 * W_est grows by alpha_cubic = 3 (1 - beta) / (1 + beta) segments per
 * window (1 once past W_max) and wins when larger (§4.3); fast convergence
 * lowers W_max when a loss comes before the previous maximum (§4.7);
 * ssthresh = beta FlightSize and W_max = cwnd on loss (§4.6); a timeout
 * restarts the epoch (§4.8).
 *
 * Plug-ins: an algorithm not registered is looked for as
 * "tcp-cc-NAME.so" in the directories of US_MODULE_PATH; the object
 * exports `const TcpCcOps *const us_tcp_cc_plugin`.
 */
#define G_LOG_DOMAIN "us-tcp"

#include "tcp-core.h"

#include <gmodule.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The frame (RFC 5681)                                               */
/* ------------------------------------------------------------------ */

/* RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2 * SMSS). */
static uint32_t
tcp_cc_half(const TcpCcState *s)
{
	return MAX(s->flight / 2, 2 * s->mss);
}

/* RFC 5681 §3.1 eq. (2) with RFC 3465's L = 2 SMSS. */
static void
tcp_cc_slow_start(TcpCcState *s, uint32_t acked)
{
	s->cwnd += MIN(acked, 2 * s->mss);
}

static void
tcp_cc_sync(TcpConn *c, gint64 now)
{
	TcpCcState *s = &c->tcb_cc;
	s->mss = c->tcb_mss;
	s->flight = tcp_flight(c);
	s->now = now;
	s->srtt = c->tcb_srtt;
	s->min_rtt = c->tcb_min_rtt;
}

void
tcp_cc_init(TcpConn *c)
{
	TcpCcState *s = &c->tcb_cc;
	uint32_t mss = c->tcb_mss;
	memset(s->priv, 0, sizeof s->priv);
	tcp_cc_sync(c, 0);
	/* RFC 5681 §3.1: IW, or one segment when the SYN needed a retry. */
	s->cwnd = c->tcb_syn_rexmitted ? mss : MIN(4 * mss, MAX(2 * mss, 4380));
	s->ssthresh = UINT32_MAX; /* "arbitrarily high" */
	c->tcb_ca_state = TCP_CA_OPEN;
	c->tcb_acked_acc = 0;
	if (c->tcb_ccops->init != NULL)
		c->tcb_ccops->init(s);
}

void
tcp_cc_ack(TcpConn *c, uint32_t acked, gint64 rtt, gint64 now)
{
	TcpCcState *s = &c->tcb_cc;
	tcp_cc_sync(c, now);
	if (c->tcb_ccops->ack != NULL) {
		c->tcb_ccops->ack(s, acked, rtt);
		return;
	}
	tcp_cc_newreno.ack(s, acked, rtt);
}

void
tcp_cc_enter_recovery(TcpConn *c, gint64 now)
{
	TcpCcState *s = &c->tcb_cc;
	tcp_cc_sync(c, now);
	uint32_t th = c->tcb_ccops->ssthresh != NULL ? c->tcb_ccops->ssthresh(s) : tcp_cc_half(s);
	s->ssthresh = MAX(th, 2 * s->mss);
	s->cwnd = s->ssthresh; /* RFC 6675 §5 (4.2); NewReno adds 3 SMSS */
}

void
tcp_cc_exit_recovery(TcpConn *c, gint64 now)
{
	TcpCcState *s = &c->tcb_cc;
	tcp_cc_sync(c, now);
	if (c->tcb_sack_ok)
		s->cwnd = s->ssthresh;
	else /* RFC 6582 §3.2 step 3, full ACK: min(ssthresh, max(FlightSize, SMSS) + SMSS) */
		s->cwnd = MIN(s->ssthresh, MAX(s->flight, s->mss) + s->mss);
	s->cwnd = MAX(s->cwnd, s->mss);
	c->tcb_ca_state = TCP_CA_OPEN;
	c->tcb_dupacks = 0;
	c->tcb_acked_acc = 0;
	if (c->tcb_ccops->recovered != NULL)
		c->tcb_ccops->recovered(s);
}

void
tcp_cc_timeout(TcpConn *c, gint64 now)
{
	TcpCcState *s = &c->tcb_cc;
	tcp_cc_sync(c, now);
	uint32_t th = c->tcb_ccops->timeout != NULL ? c->tcb_ccops->timeout(s) : tcp_cc_half(s);
	if (c->tcb_ca_state != TCP_CA_LOSS || c->tcb_rxtshift <= 1)
		s->ssthresh = MAX(th, 2 * s->mss); /* only once per loss episode */
	s->cwnd = s->mss;                          /* RFC 5681 §3.1: the loss window */
	c->tcb_ca_state = TCP_CA_LOSS;
	c->tcb_recover = c->tcb_snd_max;
	c->tcb_acked_acc = 0;
}

/* ------------------------------------------------------------------ */
/* NewReno (RFC 5681, RFC 6582)                                       */
/* ------------------------------------------------------------------ */

typedef struct {
	uint32_t nr_acc; /* bytes acknowledged toward the next SMSS of cwnd */
} NewRenoPriv;
G_STATIC_ASSERT(sizeof(NewRenoPriv) <= sizeof(((TcpCcState *)0)->priv));

static void
newreno_ack(TcpCcState *s, uint32_t acked, gint64 rtt)
{
	(void)rtt;
	NewRenoPriv *p = (NewRenoPriv *)s->priv;
	if (s->cwnd < s->ssthresh) {
		tcp_cc_slow_start(s, acked);
		return;
	}
	/* RFC 5681 §3.1, congestion avoidance by byte counting: one SMSS per
	 * cwnd of data acknowledged. */
	p->nr_acc += acked;
	if (p->nr_acc >= s->cwnd) {
		p->nr_acc -= s->cwnd;
		s->cwnd += s->mss;
	}
}

static uint32_t
newreno_ssthresh(TcpCcState *s)
{
	return tcp_cc_half(s);
}

const TcpCcOps tcp_cc_newreno = {
	.abi = TCP_CC_ABI,
	.name = "newreno",
	.ack = newreno_ack,
	.ssthresh = newreno_ssthresh,
	.timeout = newreno_ssthresh,
};

/* ------------------------------------------------------------------ */
/* CUBIC (RFC 9438)                                                   */
/* ------------------------------------------------------------------ */

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

typedef struct {
	double cu_wmax;      /* W_max, segments */
	double cu_wlast;     /* W_last_max (fast convergence) */
	double cu_k;         /* K, seconds */
	double cu_west;      /* W_est, segments */
	double cu_cwnd_frac; /* fraction of a segment not yet added to cwnd */
	gint64 cu_epoch;     /* t_epoch (ns), 0: not started */
} CubicPriv;
G_STATIC_ASSERT(sizeof(CubicPriv) <= sizeof(((TcpCcState *)0)->priv));

/* Cube root by Newton's method (no libm in the library). */
static double
cubic_cbrt(double x)
{
	if (x <= 0)
		return 0;
	double r = x > 1 ? x / 3 : 1;
	for (int i = 0; i < 60; i++) {
		double n = r - (r * r * r - x) / (3 * r * r);
		if (n == r)
			break;
		r = n;
	}
	return r;
}

static void
cubic_init(TcpCcState *s)
{
	memset(s->priv, 0, sizeof s->priv);
}

/* Starts a congestion-avoidance epoch (§4.2). */
static void
cubic_epoch(CubicPriv *p, const TcpCcState *s, double cwnd)
{
	p->cu_epoch = s->now > 0 ? s->now : 1;
	if (p->cu_wmax < cwnd)
		p->cu_wmax = cwnd; /* no loss yet, or cwnd grew past it */
	p->cu_k = cubic_cbrt((p->cu_wmax - cwnd) / CUBIC_C);
	p->cu_west = cwnd;
}

static void
cubic_ack(TcpCcState *s, uint32_t acked, gint64 rtt)
{
	(void)rtt;
	CubicPriv *p = (CubicPriv *)s->priv;
	if (s->cwnd < s->ssthresh) {
		tcp_cc_slow_start(s, acked);
		return;
	}
	double mss = s->mss, cwnd = s->cwnd / mss, segs = acked / mss;
	if (p->cu_epoch == 0)
		cubic_epoch(p, s, cwnd);
	double rtt_s = (s->srtt > 0 ? s->srtt : 100 * TCP_MSEC) / 1e9;
	double t = (s->now - p->cu_epoch) / 1e9 + rtt_s;
	double d = t - p->cu_k;
	double wcubic = CUBIC_C * d * d * d + p->cu_wmax;
	/* §4.3: the Reno-friendly estimate. */
	double alpha = p->cu_west >= p->cu_wmax ? 1.0 : 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
	p->cu_west += alpha * segs / cwnd;
	double target;
	if (wcubic < p->cu_west)
		target = p->cu_west;
	else
		target = CLAMP(wcubic, cwnd, 1.5 * cwnd); /* §4.2 */
	p->cu_cwnd_frac += (target - cwnd) / cwnd * segs;
	if (p->cu_cwnd_frac >= 1) {
		uint32_t whole = (uint32_t)p->cu_cwnd_frac;
		p->cu_cwnd_frac -= whole;
		s->cwnd += whole * s->mss;
	} else if (p->cu_cwnd_frac < 0) {
		p->cu_cwnd_frac = 0;
	}
}

/* §4.6 and §4.7: a congestion event. */
static uint32_t
cubic_ssthresh(TcpCcState *s)
{
	CubicPriv *p = (CubicPriv *)s->priv;
	double cwnd = (double)s->cwnd / s->mss;
	if (cwnd < p->cu_wlast)
		p->cu_wmax = cwnd * (1 + CUBIC_BETA) / 2; /* fast convergence */
	else
		p->cu_wmax = cwnd;
	p->cu_wlast = cwnd;
	p->cu_epoch = 0;
	p->cu_cwnd_frac = 0;
	return (uint32_t)(s->flight * CUBIC_BETA); /* ssthresh = flight_size * beta */
}

static uint32_t
cubic_timeout(TcpCcState *s)
{
	uint32_t th = cubic_ssthresh(s);      /* §4.8: as a congestion event, */
	((CubicPriv *)s->priv)->cu_epoch = 0; /* then a fresh epoch */
	return th;
}

const TcpCcOps tcp_cc_cubic = {
	.abi = TCP_CC_ABI,
	.name = "cubic",
	.init = cubic_init,
	.ack = cubic_ack,
	.ssthresh = cubic_ssthresh,
	.timeout = cubic_timeout,
};

/* ------------------------------------------------------------------ */
/* Registry and plug-ins                                              */
/* ------------------------------------------------------------------ */

static GMutex tcp_cc_lock;
static GPtrArray *tcp_cc_algos; /* const TcpCcOps *, built-ins first */

static void
tcp_cc_ensure(void)
{
	if (tcp_cc_algos != NULL)
		return;
	tcp_cc_algos = g_ptr_array_new();
	g_ptr_array_add(tcp_cc_algos, (gpointer)&tcp_cc_cubic);
	g_ptr_array_add(tcp_cc_algos, (gpointer)&tcp_cc_newreno);
}

static const TcpCcOps *
tcp_cc_lookup_locked(const char *name)
{
	tcp_cc_ensure();
	for (guint i = 0; i < tcp_cc_algos->len; i++) {
		const TcpCcOps *o = g_ptr_array_index(tcp_cc_algos, i);
		if (strcmp(o->name, name) == 0)
			return o;
	}
	return NULL;
}

gboolean
us_tcp_cc_register(const TcpCcOps *ops)
{
	if (ops == NULL || ops->abi != TCP_CC_ABI || ops->name == NULL || ops->name[0] == '\0' ||
	    strlen(ops->name) >= TCP_CA_NAME_MAX)
		return FALSE;
	g_mutex_lock(&tcp_cc_lock);
	gboolean ok = tcp_cc_lookup_locked(ops->name) == NULL;
	if (ok)
		g_ptr_array_add(tcp_cc_algos, (gpointer)ops);
	g_mutex_unlock(&tcp_cc_lock);
	return ok;
}

/* Loads tcp-cc-NAME.so from US_MODULE_PATH; the object stays loaded. */
static const TcpCcOps *
tcp_cc_load(const char *name)
{
	const char *path = g_getenv("US_MODULE_PATH");
	if (path == NULL || strchr(name, '/') != NULL)
		return NULL;
	g_auto(GStrv) dirs = g_strsplit(path, ":", -1);
	for (guint i = 0; dirs[i] != NULL; i++) {
		g_autofree char *file = g_strdup_printf("%s/tcp-cc-%s.so", dirs[i], name);
		if (dirs[i][0] == '\0' || !g_file_test(file, G_FILE_TEST_EXISTS))
			continue;
		GModule *m = g_module_open(file, G_MODULE_BIND_LOCAL);
		gpointer sym = NULL;
		if (m == NULL || !g_module_symbol(m, "us_tcp_cc_plugin", &sym) || sym == NULL) {
			g_debug("tcp: %s: %s", file, g_module_error());
			if (m != NULL)
				g_module_close(m);
			continue;
		}
		g_module_make_resident(m);
		const TcpCcOps *ops = *(const TcpCcOps *const *)sym;
		if (ops != NULL && strcmp(ops->name, name) == 0 && us_tcp_cc_register(ops))
			return ops;
	}
	return NULL;
}

const TcpCcOps *
us_tcp_cc_find(const char *name)
{
	if (name == NULL)
		return NULL;
	g_mutex_lock(&tcp_cc_lock);
	const TcpCcOps *o = tcp_cc_lookup_locked(name);
	g_mutex_unlock(&tcp_cc_lock);
	if (o == NULL)
		o = tcp_cc_load(name);
	return o;
}

const TcpCcOps *
tcp_cc_default(void)
{
	return &tcp_cc_cubic;
}
