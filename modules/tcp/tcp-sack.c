/* SPDX-License-Identifier: MIT */
/*
 * tcp-sack -- selective acknowledgements: the blocks we send (RFC 2018 §4)
 * and the scoreboard of the blocks we receive, with the routines of RFC
 * 6675 §4 that loss recovery runs on it.
 *
 * Theory
 * ------
 * Scoreboard: the SACKed ranges above SND.UNA, sorted and disjoint
 * (tcb_sacked).  Blocks from the peer are checked (left < right, within
 * (SND.UNA, SND.MAX]) and merged; everything below SND.UNA is forgotten as
 * the cumulative ACK passes it.  A retransmission timeout clears it (RFC
 * 2018 §8).
 *
 * The holes -- the unSACKed ranges between SND.UNA and SND.MAX -- are what
 * the RFC 6675 routines work on.  IsLost(seq) holds when DupThresh SACKed
 * blocks, or more than (DupThresh - 1) * SMSS SACKed bytes, lie above seq;
 * every byte of a hole has the same blocks above it, so a hole is lost or
 * not as a whole, and the lost holes are exactly those below a "lost edge"
 * (the left edge of the highest block with enough SACKed data above).
 * SetPipe counts each unSACKed byte once if it is not lost and once more if
 * it was retransmitted (below HighRxt).  NextSeg picks, in order: (1) the
 * first lost byte at or above HighRxt; (2) new data; (3) the first unSACKed
 * byte at or above HighRxt below the highest SACKed byte; (4) the rescue
 * retransmission of the highest unSACKed data, once per RTT.
 *
 * Our blocks (RFC 2018 §4): the first reports the block holding the most
 * recently received segment; the others repeat the most recent blocks not
 * covered by it; blocks at or below RCV.NXT go.
 */
#define G_LOG_DOMAIN "us-tcp"

#include "tcp-core.h"

/* ------------------------------------------------------------------ */
/* The scoreboard                                                     */
/* ------------------------------------------------------------------ */

static uint32_t
tcp_sacked_total(const TcpConn *c)
{
	uint32_t n = 0;
	for (guint i = 0; i < c->tcb_nsacked; i++)
		n += c->tcb_sacked[i].sb_right - c->tcb_sacked[i].sb_left;
	return n;
}

/* Drops what the cumulative ACK covers. */
static void
tcp_sack_trim(TcpConn *c)
{
	guint k = 0;
	for (guint i = 0; i < c->tcb_nsacked; i++) {
		TcpSackBlock b = c->tcb_sacked[i];
		if (tcp_seq_le(b.sb_right, c->tcb_snd_una))
			continue;
		if (tcp_seq_lt(b.sb_left, c->tcb_snd_una))
			b.sb_left = c->tcb_snd_una;
		c->tcb_sacked[k++] = b;
	}
	c->tcb_nsacked = k;
}

/* Merges [l, r) into the sorted, disjoint scoreboard. */
static void
tcp_sack_insert(TcpConn *c, uint32_t l, uint32_t r)
{
	TcpSackBlock out[TCP_SCOREBOARD_MAX + 1];
	guint n = 0, i = 0;
	while (i < c->tcb_nsacked && tcp_seq_lt(c->tcb_sacked[i].sb_right, l))
		out[n++] = c->tcb_sacked[i++];
	while (i < c->tcb_nsacked && tcp_seq_le(c->tcb_sacked[i].sb_left, r)) {
		l = tcp_seq_min(l, c->tcb_sacked[i].sb_left);
		r = tcp_seq_max(r, c->tcb_sacked[i].sb_right);
		i++;
	}
	out[n++] = (TcpSackBlock){ l, r };
	while (i < c->tcb_nsacked && n < TCP_SCOREBOARD_MAX)
		out[n++] = c->tcb_sacked[i++];
	n = MIN(n, (guint)TCP_SCOREBOARD_MAX); /* the highest blocks go when full */
	memcpy(c->tcb_sacked, out, n * sizeof out[0]);
	c->tcb_nsacked = n;
}

uint32_t
tcp_sack_update(TcpConn *c, const TcpOpts *o)
{
	tcp_sack_trim(c);
	if (o == NULL || o->to_nsack == 0)
		return 0;
	uint32_t before = tcp_sacked_total(c);
	for (guint i = 0; i < o->to_nsack; i++) {
		uint32_t l = o->to_sack[i].sb_left, r = o->to_sack[i].sb_right;
		/* RFC 2018 §3/§5: only blocks of data we sent, above SND.UNA. */
		if (!tcp_seq_lt(l, r) || !tcp_seq_gt(r, c->tcb_snd_una) ||
		    tcp_seq_gt(r, c->tcb_snd_max))
			continue;
		if (tcp_seq_lt(l, c->tcb_snd_una))
			l = c->tcb_snd_una;
		tcp_sack_insert(c, l, r);
	}
	uint32_t after = tcp_sacked_total(c);
	return after > before ? after - before : 0;
}

void
tcp_sack_clear(TcpConn *c)
{
	c->tcb_nsacked = 0;
}

gboolean
tcp_sack_is_sacked(const TcpConn *c, uint32_t seq)
{
	for (guint i = 0; i < c->tcb_nsacked; i++)
		if (tcp_seq_le(c->tcb_sacked[i].sb_left, seq) &&
		    tcp_seq_lt(seq, c->tcb_sacked[i].sb_right))
			return TRUE;
	return FALSE;
}

uint32_t
tcp_sack_skip(const TcpConn *c, uint32_t seq, uint32_t *limit)
{
	*limit = c->tcb_snd_max;
	for (guint i = 0; i < c->tcb_nsacked; i++) {
		const TcpSackBlock *b = &c->tcb_sacked[i];
		if (tcp_seq_le(b->sb_left, seq) && tcp_seq_lt(seq, b->sb_right))
			seq = b->sb_right; /* blocks are disjoint and sorted: go on */
		else if (tcp_seq_gt(b->sb_left, seq)) {
			*limit = b->sb_left;
			break;
		}
	}
	return seq;
}

uint32_t
tcp_sack_bytes_in(const TcpConn *c, uint32_t from, uint32_t to)
{
	uint32_t n = 0;
	for (guint i = 0; i < c->tcb_nsacked; i++) {
		uint32_t l = tcp_seq_max(c->tcb_sacked[i].sb_left, from);
		uint32_t r = tcp_seq_min(c->tcb_sacked[i].sb_right, to);
		if (tcp_seq_lt(l, r))
			n += r - l;
	}
	return n;
}

uint32_t
tcp_sack_highest(const TcpConn *c)
{
	return c->tcb_nsacked > 0 ? c->tcb_sacked[c->tcb_nsacked - 1].sb_right : c->tcb_snd_una;
}

/* ------------------------------------------------------------------ */
/* RFC 6675 §4                                                        */
/* ------------------------------------------------------------------ */

uint32_t
tcp_sack_lost_edge(const TcpConn *c)
{
	uint32_t above = 0, limit = (TCP_DUPTHRESH - 1) * c->tcb_mss;
	for (guint i = c->tcb_nsacked; i-- > 0;) {
		const TcpSackBlock *b = &c->tcb_sacked[i];
		above += b->sb_right - b->sb_left;
		if (above > limit || c->tcb_nsacked - i >= TCP_DUPTHRESH)
			return b->sb_left; /* every hole below is lost */
	}
	return c->tcb_snd_una;
}

/* The hole starting at or after *from: [*a, *b); FALSE when none. */
static gboolean
tcp_sack_hole(const TcpConn *c, guint *idx, uint32_t *a, uint32_t *b)
{
	while (*idx <= c->tcb_nsacked) {
		guint i = (*idx)++;
		uint32_t start = i == 0 ? c->tcb_snd_una : c->tcb_sacked[i - 1].sb_right;
		uint32_t end = i < c->tcb_nsacked ? c->tcb_sacked[i].sb_left : c->tcb_snd_max;
		if (tcp_seq_lt(start, end)) {
			*a = start;
			*b = end;
			return TRUE;
		}
	}
	return FALSE;
}

uint32_t
tcp_sack_pipe(const TcpConn *c)
{
	uint32_t lost = tcp_sack_lost_edge(c), pipe = 0, a, b;
	guint idx = 0;
	while (tcp_sack_hole(c, &idx, &a, &b)) {
		if (tcp_seq_gt(b, lost)) /* (a) not lost: in the network */
			pipe += b - tcp_seq_max(a, lost);
		uint32_t rx = tcp_seq_min(b, c->tcb_high_rxt);
		if (tcp_seq_gt(rx, a)) /* (b) retransmitted: in the network again */
			pipe += rx - a;
	}
	return pipe;
}

gboolean
tcp_sack_next_seg(TcpConn *c, uint32_t *seqp, uint32_t *lenp, gboolean *rescuep)
{
	uint32_t lost = tcp_sack_lost_edge(c), hr = tcp_seq_max(c->tcb_high_rxt, c->tcb_snd_una);
	uint32_t mss = tcp_cur_mss(c), a, b, s;
	guint idx = 0;
	*rescuep = FALSE;
	while (tcp_sack_hole(c, &idx, &a, &b)) { /* (1) lost, not yet retransmitted */
		s = tcp_seq_max(a, hr);
		if (tcp_seq_lt(s, b) && tcp_seq_lt(s, lost)) {
			*seqp = s;
			*lenp = MIN(b - s, mss);
			return TRUE;
		}
	}
	uint32_t end = tcp_sndq_end(c), nxt = c->tcb_snd_nxt;
	gboolean fin = c->tcb_fin_queued && tcp_seq_le(nxt, end);
	uint32_t avail = tcp_seq_lt(nxt, end) ? end - nxt : 0;
	uint32_t len = MIN(avail, mss);
	if ((avail > 0 || fin) && nxt + len - c->tcb_snd_una <= c->tcb_snd_wnd) {
		*seqp = nxt; /* (2) new data the receiver has room for */
		*lenp = len;
		return TRUE;
	}
	uint32_t high = tcp_sack_highest(c);
	idx = 0;
	while (tcp_sack_hole(c, &idx, &a, &b) && tcp_seq_le(b, high)) { /* (3) */
		s = tcp_seq_max(a, hr);
		if (tcp_seq_lt(s, b)) {
			*seqp = s;
			*lenp = MIN(b - s, mss);
			return TRUE;
		}
	}
	/* (4) rescue: once per recovery episode beyond RescueRxt. */
	if (c->tcb_rescue_valid && !tcp_seq_gt(c->tcb_snd_una, c->tcb_rescue_rxt))
		return FALSE;
	a = tcp_seq_max(high, c->tcb_snd_una);
	b = c->tcb_snd_max;
	if (!tcp_seq_lt(a, b))
		return FALSE;
	s = b - a > mss ? b - mss : a;
	*seqp = s;
	*lenp = b - s;
	*rescuep = TRUE;
	return TRUE;
}

/* ------------------------------------------------------------------ */
/* The blocks we send                                                 */
/* ------------------------------------------------------------------ */

void
tcp_sack_out_add(TcpConn *c, uint32_t left, uint32_t right)
{
	/* The out-of-order range holding [left, right), merged. */
	uint32_t l = left, r = right;
	for (TcpOoo *o = c->tcb_ooo; o != NULL; o = o->oo_next) {
		uint32_t ol = o->oo_seq, orr = o->oo_seq + o->oo_len;
		if (tcp_seq_le(ol, r) && tcp_seq_ge(orr, l)) {
			l = tcp_seq_min(l, ol);
			r = tcp_seq_max(r, orr);
		}
	}
	TcpSackBlock out[TCP_SACK_MAX];
	guint n = 0;
	out[n++] = (TcpSackBlock){ l, r };
	for (guint i = 0; i < c->tcb_nsack_out && n < TCP_SACK_MAX; i++) {
		TcpSackBlock b = c->tcb_sack_out[i];
		if (tcp_seq_le(b.sb_right, l) || tcp_seq_ge(b.sb_left, r))
			out[n++] = b; /* not covered by the new block */
	}
	memcpy(c->tcb_sack_out, out, n * sizeof out[0]);
	c->tcb_nsack_out = n;
}

void
tcp_sack_out_trim(TcpConn *c)
{
	guint k = 0;
	for (guint i = 0; i < c->tcb_nsack_out; i++)
		if (tcp_seq_gt(c->tcb_sack_out[i].sb_left, c->tcb_rcv_nxt))
			c->tcb_sack_out[k++] = c->tcb_sack_out[i];
	c->tcb_nsack_out = k;
}
