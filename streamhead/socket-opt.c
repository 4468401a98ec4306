/* SPDX-License-Identifier: MIT */
/*
 * socket-opt.c -- setsockopt/getsockopt.
 *
 * Theory
 * ------
 * The library answers the options it owns: SO_TYPE, SO_DOMAIN,
 * SO_PROTOCOL, SO_ACCEPTCONN and SO_ERROR (read-only: setting them is
 * ENOPROTOOPT, as Linux), SO_RCVTIMEO and SO_SNDTIMEO (struct timeval; a
 * usec outside [0, 1e6) is EDOM, a negative time means "do not wait", 0
 * forever, as Linux).  Every other option, of any level, goes to the
 * transport as one T_SVR4_OPTMGMT_REQ holding a struct opthdr {level, name,
 * len} and the value padded to OPTLEN(len):
 *   set: MGMT_flags T_NEGOTIATE with the caller's value;
 *   get: MGMT_flags T_CURRENT with len = the caller's buffer size (at most
 *        SOCK_OPT_MAX) and a zeroed value; the answer's option of the same
 *        level and name gives the value, cut to the caller's buffer (its
 *        length is returned in *optlen).
 * T_OPTMGMT_ACK is success; T_ERROR_ACK maps TBADOPT and TNOTSUPPORT to
 * ENOPROTOOPT (unknown option), TSYSERR to UNIX_error (EINVAL for a bad
 * value), the rest as other requests do.
 *
 * Before asking, the library checks lengths Linux checks itself: int
 * options of SOL_SOCKET and IPPROTO_TCP need an int (EINVAL), SO_LINGER a
 * struct linger; IPPROTO_IP int options take one byte too, which is widened
 * to an int so transports always see an int.
 */
#define G_LOG_DOMAIN "us-socket"

#include "socket-internal.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

/* How the library checks an option's value before passing it on. */
typedef enum {
	OPTV_ANY,    /* unknown to the library: passed as given */
	OPTV_INT,    /* needs an int */
	OPTV_INT1,   /* an int, or one byte widened to an int (IPPROTO_IP) */
	OPTV_LINGER, /* needs a struct linger */
} OptValue;

static OptValue
opt_value_kind(int level, int name)
{
	switch (level) {
	case SOL_SOCKET:
		switch (name) {
		case SO_DEBUG:
		case SO_REUSEADDR:
		case SO_REUSEPORT:
		case SO_KEEPALIVE:
		case SO_DONTROUTE:
		case SO_BROADCAST:
		case SO_SNDBUF:
		case SO_RCVBUF:
		case SO_SNDBUFFORCE:
		case SO_RCVBUFFORCE:
		case SO_OOBINLINE:
		case SO_PRIORITY:
		case SO_RCVLOWAT:
		case SO_SNDLOWAT:
		case US_SO_PROTOTYPE: return OPTV_INT;
		case SO_LINGER: return OPTV_LINGER;
		default: return OPTV_ANY;
		}
	case IPPROTO_IP:
		switch (name) {
		case IP_TTL:
		case IP_TOS:
		case IP_HDRINCL:
		case IP_RECVERR:
		case IP_PKTINFO:
		case IP_RECVTTL:
		case IP_RECVTOS:
		case IP_MULTICAST_TTL:
		case IP_MULTICAST_LOOP: return OPTV_INT1;
		default: return OPTV_ANY;
		}
	case IPPROTO_TCP:
		switch (name) {
		case TCP_NODELAY:
		case TCP_MAXSEG:
		case TCP_CORK:
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
		case TCP_KEEPCNT:
		case TCP_SYNCNT:
		case TCP_LINGER2:
		case TCP_DEFER_ACCEPT:
		case TCP_WINDOW_CLAMP:
		case TCP_QUICKACK:
		case TCP_USER_TIMEOUT: return OPTV_INT;
		default: return OPTV_ANY;
		}
	default: return OPTV_ANY;
	}
}

/* ------------------------------------------------------------------ */
/* Options the library owns                                           */
/* ------------------------------------------------------------------ */

static gboolean
opt_is_local(int level, int name)
{
	if (level != SOL_SOCKET)
		return FALSE;
	switch (name) {
	case SO_TYPE:
	case SO_DOMAIN:
	case SO_PROTOCOL:
	case SO_ACCEPTCONN:
	case SO_ERROR:
	case SO_RCVTIMEO:
	case SO_SNDTIMEO: return TRUE;
	default: return FALSE;
	}
}

typedef struct {
	int name;
	struct timeval tv;
	int value;
} LocalOpt;

static gint64 *
timeo_field(UsSock *so, int name)
{
	return name == SO_RCVTIMEO ? &so->so_rcvtimeo : &so->so_sndtimeo;
}

static int
local_set(UsSock *so, gpointer arg)
{
	LocalOpt *o = arg;
	const struct timeval *tv = &o->tv;
	gint64 ns;
	if (tv->tv_usec < 0 || tv->tv_usec >= 1000000)
		return -EDOM;
	if (tv->tv_sec < 0)
		ns = SOCK_TIMEO_NOWAIT;
	else if (tv->tv_sec == 0 && tv->tv_usec == 0)
		ns = SOCK_TIMEO_FOREVER;
	else if (tv->tv_sec >= G_MAXINT64 / US_NSEC_PER_SEC - 1)
		ns = SOCK_TIMEO_FOREVER; /* beyond any world's lifetime */
	else
		ns = (gint64)tv->tv_sec * US_NSEC_PER_SEC + (gint64)tv->tv_usec * US_NSEC_PER_USEC;
	*timeo_field(so, o->name) = ns;
	return 0;
}

static int
local_get(UsSock *so, gpointer arg)
{
	LocalOpt *o = arg;
	switch (o->name) {
	case SO_TYPE: o->value = so->so_type; break;
	case SO_DOMAIN: o->value = so->so_domain; break;
	case SO_PROTOCOL: o->value = so->so_protocol; break;
	case SO_ACCEPTCONN: o->value = so->so_conind > 0; break;
	case SO_ERROR: o->value = us__sock_take_error(so); break;
	default: {
		gint64 ns = *timeo_field(so, o->name);
		if (ns > 0) {
			o->tv.tv_sec = (time_t)(ns / US_NSEC_PER_SEC);
			o->tv.tv_usec = (suseconds_t)(ns % US_NSEC_PER_SEC / US_NSEC_PER_USEC);
		}
		break;
	}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Options of the transport                                           */
/* ------------------------------------------------------------------ */

/* A T_SVR4_OPTMGMT_REQ with one option; val NULL: len zero bytes. */
static mblk_t *
opt_request(int level, int name, const void *val, size_t len, t_scalar_t mgmt)
{
	size_t olen = sizeof(struct opthdr) + OPTLEN(len);
	mblk_t *mp = us__tpi_alloc(sizeof(struct T_optmgmt_req), olen, M_PROTO, T_SVR4_OPTMGMT_REQ);
	if (mp == NULL)
		return NULL;
	unsigned char *buf = g_malloc0(olen);
	struct opthdr oh = { (t_uscalar_t)level, (t_uscalar_t)name, (t_uscalar_t)len };
	memcpy(buf, &oh, sizeof oh);
	if (val != NULL)
		memcpy(buf + sizeof oh, val, len);
	struct T_optmgmt_req *req = (struct T_optmgmt_req *)mp->b_rptr;
	req->MGMT_flags = mgmt;
	us__tpi_append(mp, buf, olen, &req->OPT_length, &req->OPT_offset);
	g_free(buf);
	return mp;
}

/* The errno of a failed option request. */
static int
opt_errno(const mblk_t *ack)
{
	struct T_error_ack ea;
	if (MBLKL(ack) >= sizeof ea) {
		memcpy(&ea, ack->b_rptr, sizeof ea);
		if (ea.PRIM_type == T_ERROR_ACK &&
		    (ea.TLI_error == TBADOPT || ea.TLI_error == TNOTSUPPORT))
			return -ENOPROTOOPT;
	}
	return us__tpi_ack_errno(ack);
}

/* Sends the request and waits; 0 with *ackp (a T_OPTMGMT_ACK) or -errno. */
static int
opt_exchange(UsSock *so, mblk_t *req, mblk_t **ackp)
{
	if (req == NULL)
		return -ENOSR;
	SockTxn t = { .req = req, .prim = T_SVR4_OPTMGMT_REQ };
	int r = us__sock_request(so, &t);
	if (r == 0 && t.ack != NULL)
		r = opt_errno(t.ack);
	if (r == 0)
		*ackp = g_steal_pointer(&t.ack);
	freemsg(t.ack);
	return r;
}

/* Finds (level, name) in a T_OPTMGMT_ACK: its value and length. */
static const unsigned char *
opt_find(const mblk_t *ack, int level, int name, size_t *lenp)
{
	struct T_optmgmt_ack oa;
	if (MBLKL(ack) < sizeof oa)
		return NULL;
	memcpy(&oa, ack->b_rptr, sizeof oa);
	const unsigned char *p = us__tpi_part(ack, oa.OPT_length, oa.OPT_offset);
	size_t left = p != NULL ? (size_t)oa.OPT_length : 0;
	while (left >= sizeof(struct opthdr)) {
		struct opthdr oh;
		memcpy(&oh, p, sizeof oh);
		if (oh.len > left - sizeof oh)
			return NULL;
		if (oh.level == (t_uscalar_t)level && oh.name == (t_uscalar_t)name) {
			*lenp = oh.len;
			return p + sizeof oh;
		}
		size_t step = sizeof oh + OPTLEN(oh.len);
		if (step > left)
			return NULL;
		p += step;
		left -= step;
	}
	return NULL;
}

/* Checks the value's length; widens a one-byte IPPROTO_IP value. */
static int
opt_check_value(int level, int name, const void **valp, socklen_t *lenp, int *widened)
{
	switch (opt_value_kind(level, name)) {
	case OPTV_INT: return *lenp < sizeof(int) ? -EINVAL : 0;
	case OPTV_LINGER: return *lenp < sizeof(struct linger) ? -EINVAL : 0;
	case OPTV_INT1:
		if (*lenp < 1)
			return -EINVAL;
		if (*lenp < sizeof(int)) {
			*widened = *(const unsigned char *)*valp;
			*valp = widened;
			*lenp = sizeof(int);
		}
		return 0;
	default: return 0;
	}
}

int
us_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
	int err;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	if ((int)optlen < 0)
		return us__errno_ret(-EINVAL);
	if (optval == NULL && optlen > 0)
		return us__errno_ret(-EFAULT);
	if (opt_is_local(level, optname)) {
		if (optname != SO_RCVTIMEO && optname != SO_SNDTIMEO)
			return us__errno_ret(-ENOPROTOOPT);
		if (optlen < sizeof(struct timeval))
			return us__errno_ret(-EINVAL);
		LocalOpt o = { .name = optname };
		memcpy(&o.tv, optval, sizeof o.tv);
		return us__errno_ret(us__sock_call(so, local_set, &o));
	}
	int widened;
	int r = opt_check_value(level, optname, &optval, &optlen, &widened);
	mblk_t *ack = NULL;
	if (r == 0)
		r = opt_exchange(so, opt_request(level, optname, optval, optlen, T_NEGOTIATE),
				 &ack);
	freemsg(ack);
	return us__errno_ret(r);
}

static int
getsockopt_local(UsSock *so, int optname, void *optval, socklen_t *optlen)
{
	LocalOpt o = { .name = optname };
	int r = us__sock_call(so, local_get, &o);
	if (r != 0)
		return r;
	const void *src = &o.value;
	socklen_t n = sizeof o.value;
	if (optname == SO_RCVTIMEO || optname == SO_SNDTIMEO) {
		src = &o.tv;
		n = sizeof o.tv;
	}
	n = MIN(n, *optlen);
	if (n > 0)
		memcpy(optval, src, n);
	*optlen = n;
	return 0;
}

int
us_getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)
{
	int err;
	UsSock *so = us__sock_get(fd, &err);
	if (so == NULL)
		return us__errno_ret(err);
	if (optlen == NULL)
		return us__errno_ret(-EFAULT);
	if ((int)*optlen < 0)
		return us__errno_ret(-EINVAL);
	if (optval == NULL && *optlen > 0)
		return us__errno_ret(-EFAULT);
	if (opt_is_local(level, optname))
		return us__errno_ret(getsockopt_local(so, optname, optval, optlen));
	size_t ask = MIN((size_t)*optlen, SOCK_OPT_MAX);
	mblk_t *ack = NULL;
	int r = opt_exchange(so, opt_request(level, optname, NULL, ask, T_CURRENT), &ack);
	if (r != 0)
		return us__errno_ret(r);
	size_t len = 0;
	const unsigned char *val = opt_find(ack, level, optname, &len);
	if (val == NULL) {
		r = -ENOPROTOOPT;
	} else {
		len = MIN(len, (size_t)*optlen);
		if (len > 0)
			memcpy(optval, val, len);
		*optlen = (socklen_t)len;
	}
	freemsg(ack);
	return us__errno_ret(r);
}
