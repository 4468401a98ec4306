/* SPDX-License-Identifier: MIT */
/*
 * tpi-util.h -- small pieces every inet TPI provider (udp, icmp, tcp) needs:
 * the sockaddr_in addresses TPI primitives carry (ARCHITECTURE.md §5: as
 * Solaris sockfs passes them), read with every offset and length checked,
 * and the reply block for an acknowledgement.  Header-only; not installed.
 */
#ifndef USTREAMS_TPI_UTIL_H
#define USTREAMS_TPI_UTIL_H

#include <ustreams/registry.h>
#include <ustreams/stream.h>
#include <ustreams/tihdr.h>

#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>

/* Writes a sockaddr_in (AF_INET, port in host order, addr in network
 * order) at p, which need not be aligned. */
static inline void
us_tpi_sin_put(unsigned char *p, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = addr;
	memcpy(p, &sin, sizeof sin);
}

/* Reads the sockaddr_in at [off, off + len) of the primitive in mp's first
 * block.  len 0: *present FALSE and INADDR_ANY port 0.  Returns 0, EINVAL
 * (length other than a sockaddr_in's, offset outside the block) or
 * EAFNOSUPPORT (family). */
static inline int
us_tpi_sin_get(const mblk_t *mp, t_scalar_t len, t_scalar_t off, gboolean *present, uint32_t *addr,
	       uint16_t *port)
{
	*present = FALSE;
	*addr = INADDR_ANY;
	*port = 0;
	if (len == 0)
		return 0;
	if (len != (t_scalar_t)sizeof(struct sockaddr_in) || off < 0 ||
	    !MBLKIN(mp, (size_t)off, (size_t)len))
		return EINVAL;
	struct sockaddr_in sin;
	memcpy(&sin, mp->b_rptr + off, sizeof sin);
	if (sin.sin_family != AF_INET)
		return EAFNOSUPPORT;
	*present = TRUE;
	*addr = sin.sin_addr.s_addr;
	*port = ntohs(sin.sin_port);
	return 0;
}

/* A zeroed block of size bytes and type for the answer to mp (consumed):
 * mp itself when private and large enough (mexchange).  NULL, counted as
 * drop_reason against wq, when none can be had. */
static inline mblk_t *
us_tpi_reply_alloc(queue_t *wq, mblk_t *mp, size_t size, unsigned char type, guint drop_reason)
{
	mblk_t *rp = mexchange(wq, mp, size, type, -1);
	if (rp == NULL) {
		us_drop(wq, NULL, drop_reason);
		return NULL;
	}
	memset(rp->b_rptr, 0, size);
	return rp;
}

/* Answers mp (consumed) with the size bytes of the primitive prim as
 * M_PCPROTO (an acknowledgement), in mp's own block when it can.  Nothing
 * is sent, and the drop counted, when no block can be had. */
static inline void
us_tpi_reply_copy(queue_t *wq, mblk_t *mp, const void *prim, size_t size, guint drop_reason)
{
	mblk_t *rp = us_tpi_reply_alloc(wq, mp, size, M_PCPROTO, drop_reason);
	if (rp == NULL)
		return;
	memcpy(rp->b_rptr, prim, size);
	qreply(wq, rp);
}

/* How a provider sets and reports its options, for us_tpi_opt_walk().
 * Both return 0, `unknown` for an option the provider does not have, or an
 * errno. */
typedef struct {
	int (*set)(gpointer ep, t_uscalar_t level, t_uscalar_t name, const unsigned char *val,
		   size_t len);
	int (*emit)(gpointer ep, t_uscalar_t level, t_uscalar_t name, GByteArray *out);
	int unknown;
} UsTpiOptOps;

/* Walks the struct opthdr options in [p, p + len) of a T_SVR4_OPTMGMT_REQ:
 * with set, stores each value through ops->set; out (may be NULL) gets each
 * option's resulting value through ops->emit.  Returns 0, TBADOPT
 * (malformed, or unknown) or TSYSERR with *errp set. */
static inline int
us_tpi_opt_walk(gpointer ep, const UsTpiOptOps *ops, const unsigned char *p, size_t len,
		gboolean set, GByteArray *out, int *errp)
{
	while (len > 0) {
		struct opthdr oh;
		if (len < sizeof oh)
			return TBADOPT;
		memcpy(&oh, p, sizeof oh);
		size_t avail = len - sizeof oh;
		if (set && oh.len > avail)
			return TBADOPT;
		int r = set ? ops->set(ep, oh.level, oh.name, p + sizeof oh, oh.len) : 0;
		if (r == 0 && out != NULL)
			r = ops->emit(ep, oh.level, oh.name, out);
		if (r == ops->unknown)
			return TBADOPT;
		if (r != 0) {
			*errp = r;
			return TSYSERR;
		}
		size_t step = OPTLEN((size_t)oh.len);
		if (step >= avail)
			break;
		p += sizeof oh + step;
		len = avail - step;
	}
	return 0;
}

#endif /* USTREAMS_TPI_UTIL_H */
