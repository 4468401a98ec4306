/* SPDX-License-Identifier: MIT */
/*
 * poll.c -- us_poll(): poll(2) over stream-head descriptors.
 *
 * Theory
 * ------
 * Readiness is computed on each descriptor's world thread
 * (us__head_revents).  When nothing is ready the caller waits:
 *   - all descriptors on one world without a thread of its own: the caller
 *     drives that world until something is ready or the timeout passes, on
 *     the world's clock (virtual time moves to the next timer; with no timer
 *     left in virtual time the call returns 0 at once, as nothing can change);
 *   - otherwise (threaded worlds, or several worlds): it sleeps on the first
 *     head's condition in slices of at most 10 ms of real time and looks
 *     again, until the timeout passes.
 * Descriptors that are not stream heads report POLLNVAL, as poll(2) does.
 */
#define G_LOG_DOMAIN "us-head"

#include "head-internal.h"

#include <errno.h>

typedef struct {
	struct pollfd *fds;
	nfds_t nfds;
	UsHead **heads;
	int ready;
} PollSet;

typedef struct {
	UsHead *h;
	short events;
	short revents;
} RevArgs;

static void
revents_on_world(gpointer data)
{
	RevArgs *a = data;
	a->revents = us__head_revents(a->h, a->events);
}

static int
poll_scan(PollSet *ps)
{
	int n = 0;
	for (nfds_t i = 0; i < ps->nfds; i++) {
		struct pollfd *p = &ps->fds[i];
		p->revents = 0;
		if (p->fd < 0)
			continue;
		if (ps->heads[i] == NULL) {
			p->revents = POLLNVAL;
		} else {
			RevArgs a = { ps->heads[i], p->events, 0 };
			us_world_call(ps->heads[i]->sh_world, revents_on_world, &a);
			p->revents = a.revents;
		}
		n += p->revents != 0;
	}
	ps->ready = n;
	return n;
}

static gboolean
poll_done(gpointer data)
{
	return poll_scan(data) > 0;
}

/* The one world every head belongs to if it has no thread, else NULL. */
static UsWorld *
single_driven_world(PollSet *ps)
{
	UsWorld *w = NULL;
	for (nfds_t i = 0; i < ps->nfds; i++) {
		if (ps->heads[i] == NULL)
			continue;
		if (w != NULL && ps->heads[i]->sh_world != w)
			return NULL;
		w = ps->heads[i]->sh_world;
	}
	return w;
}

static void
wait_slice(UsHead *h, gint64 end_us)
{
	gint64 now = g_get_monotonic_time();
	gint64 until = end_us < 0 ? now + 10000 : MIN(end_us, now + 10000);
	g_mutex_lock(&h->sh_lock);
	g_cond_wait_until(&h->sh_cond, &h->sh_lock, until);
	g_mutex_unlock(&h->sh_lock);
}

int
us_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	if (nfds > 0 && fds == NULL)
		return us__errno_ret(-EFAULT);
	PollSet ps = { fds, nfds, g_new0(UsHead *, nfds + 1), 0 };
	UsHead *any = NULL;
	for (nfds_t i = 0; i < nfds; i++) {
		ps.heads[i] = fds[i].fd >= 0 ? us__head_get(fds[i].fd) : NULL;
		any = any ? any : ps.heads[i];
	}
	int n = poll_scan(&ps);
	if (n > 0 || timeout == 0 || any == NULL) {
		g_free(ps.heads);
		return n;
	}
	UsWorld *w = single_driven_world(&ps);
	if (w != NULL && !us_world_is_current(w) && us_world_current() == NULL &&
	    us_world_clock_kind(w) == US_CLOCK_VIRTUAL) {
		gint64 t = timeout < 0 ? -1 : (gint64)timeout * US_NSEC_PER_MSEC;
		us_world_run_until(w, poll_done, &ps, t);
		n = ps.ready;
	} else {
		gint64 end = timeout < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout * 1000;
		while ((n = poll_scan(&ps)) == 0 && (end < 0 || g_get_monotonic_time() < end)) {
			if (w != NULL && us_world_current() == NULL)
				us_world_run_until(w, poll_done, &ps, 10 * US_NSEC_PER_MSEC);
			else
				wait_slice(any, end);
		}
	}
	g_free(ps.heads);
	return n;
}
