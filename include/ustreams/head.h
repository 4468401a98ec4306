/* SPDX-License-Identifier: MIT */
/*
 * head.h -- the stream head and its user API: descriptors with SVR4 system
 * call semantics (open, close, read, write, getmsg, putmsg, ioctl, poll).
 *
 * Each us_open() opens a driver on a stack (a clone open: a new stream) and
 * returns a descriptor that is a real kernel file descriptor: an eventfd
 * that is readable while the stream head has something to report (data or a
 * high-priority message to read, an error, a hangup, a pending I_SETSIG
 * event).  Applications can wait on it with poll/epoll or a GLib source, or
 * call us_poll() for the full STREAMS event set.
 *
 * Every call returns what the matching SVR4 system call returns and sets
 * errno the same way.  Calls may come from any thread: they are handed to
 * the stack's world thread.  A call that must wait (read with nothing to
 * read, write under flow control, an ioctl waiting for its reply):
 *   - with O_NONBLOCK fails with EAGAIN;
 *   - on a world with its own thread, sleeps until the head changes;
 *   - on a world without a thread, drives the world itself; in virtual time,
 *     when nothing could ever make progress (no work and no timer) it fails
 *     with EDEADLK instead of hanging (a write that already sent some bytes
 *     returns that count instead, like an interrupted write(2)).
 *
 * Deviations from SVR4:
 *   - Signals: I_SETSIG registrations produce events, not Unix signals; take
 *     them with us_getsigevents().  SIGPOLL is never raised.
 *   - "User addresses" in transparent ioctls (M_COPYIN/M_COPYOUT) are plain
 *     pointers of this process.
 *   - I_SENDFD/I_RECVFD and I_FDINSERT are not supported (EINVAL).
 */
#ifndef USTREAMS_HEAD_H
#define USTREAMS_HEAD_H

#include <poll.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <ustreams/plumb.h>
#include <ustreams/stropts.h>
#include <ustreams/world.h>

G_BEGIN_DECLS

/* Opens driver `name` on stack; oflag takes O_RDWR/O_RDONLY/O_WRONLY,
 * O_NONBLOCK.  Returns a descriptor, or -1 with errno (ENXIO: no such
 * driver; ENOENT for a name that is a module; the driver's open errno). */
int us_open(UsStack *stack, const char *name, int oflag);
/* Closes: undoes I_LINKs made through fd, waits for the write side to drain
 * (up to the close time, 15 s by default, I_SETCLTIME; not with O_NONBLOCK),
 * then dismantles the stream. */
int us_close(int fd);
ssize_t us_read(int fd, void *buf, size_t len);
ssize_t us_write(int fd, const void *buf, size_t len);
ssize_t us_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t us_writev(int fd, const struct iovec *iov, int iovcnt);
int us_getmsg(int fd, struct strbuf *ctlptr, struct strbuf *dataptr, int *flagsp);
int us_getpmsg(int fd, struct strbuf *ctlptr, struct strbuf *dataptr, int *bandp, int *flagsp);
int us_putmsg(int fd, const struct strbuf *ctlptr, const struct strbuf *dataptr, int flags);
int us_putpmsg(int fd, const struct strbuf *ctlptr, const struct strbuf *dataptr, int band,
	       int flags);
/* I_* commands take their SVR4 argument (an int, a pointer ...) in arg;
 * other commands are sent down as transparent ioctls with arg as the
 * "user address".  Returns the ioctl's return value (ioc_rval) or -1. */
int us_ioctl(int fd, int cmd, ...);
/* Like poll(2) on descriptors from us_open (events POLLIN, POLLRDNORM,
 * POLLRDBAND, POLLPRI, POLLOUT, POLLWRNORM, POLLWRBAND, POLLMSG; revents
 * also POLLERR, POLLHUP, POLLNVAL).  timeout in ms, -1 forever. */
int us_poll(struct pollfd *fds, nfds_t nfds, int timeout);
/* F_GETFL / F_SETFL (O_NONBLOCK); others EINVAL. */
int us_fcntl(int fd, int cmd, ...);

/* Takes and clears the I_SETSIG events (S_* bits) that happened since the
 * last call; 0 if none.  -1/EBADF for a bad descriptor. */
int us_getsigevents(int fd);

/* The stream behind a descriptor (for tools and tests), or NULL. */
UsStream *us_fd_stream(int fd);
UsStack *us_fd_stack(int fd);
/* Descriptors open in the process (debug counter). */
guint us_fd_count(void);

/* Default timeout of an I_STR ioctl whose ic_timout is 0 (seconds). */
#define US_STR_TIMEOUT_DEFAULT 15
/* Default close time (I_SETCLTIME), milliseconds. */
#define US_CLOSE_TIME_DEFAULT 15000
/* Largest data part of one message sent by write/putmsg (strmsgsz). */
#define US_STRMSGSZ 65536
/* Largest control part (strctlsz). */
#define US_STRCTLSZ 1024

G_END_DECLS

#endif /* USTREAMS_HEAD_H */
