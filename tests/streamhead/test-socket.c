/* SPDX-License-Identifier: MIT */
/*
 * test-socket.c -- the socket library over TPI (include/ustreams/socket.h)
 * against the fake transports of tpitest.c: the transport table, socket
 * creation, bind/connect/listen/accept, datagram and connection data paths,
 * errors and errno mappings, options, shutdown and close, waiting (non-
 * blocking, MSG_DONTWAIT, SO_RCVTIMEO/SO_SNDTIMEO in virtual time).
 *
 * The fixture points the table's protocol-0 entries of AF_INET at the fake
 * drivers (SOCK_DGRAM and SOCK_RAW -> tpitest-dg, SOCK_STREAM ->
 * tpitest-st) and restores the defaults afterwards.
 */
#include "shtest.h"
#include "tpitest.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <ustreams/socket.h>

/* ------------------------------------------------------------------ */
/* Fixture and helpers                                                */
/* ------------------------------------------------------------------ */

typedef struct {
	ShFx sh;
	TpitestConfig *cfg;
} SoFx;

static void
so_init(SoFx *fx)
{
	sh_init(&fx->sh, US_CLOCK_VIRTUAL);
	fx->cfg = tpitest_config(fx->sh.stack);
	us_socket_transport_reset();
	g_assert_cmpint(us_socket_transport_add(AF_INET, SOCK_DGRAM, 0, TPITEST_DG), ==, 0);
	g_assert_cmpint(us_socket_transport_add(AF_INET, SOCK_DGRAM, IPPROTO_UDP, TPITEST_DG), ==,
			0);
	g_assert_cmpint(us_socket_transport_add(AF_INET, SOCK_STREAM, 0, TPITEST_ST), ==, 0);
	g_assert_cmpint(us_socket_transport_add(AF_INET, SOCK_RAW, US_SOCKET_PROTO_ANY, TPITEST_DG),
			==, 0);
}

static void
so_fini(SoFx *fx)
{
	us_socket_transport_reset();
	sh_fini(&fx->sh);
}

static int
so_socket(SoFx *fx, int type)
{
	int fd = us_socket(fx->sh.stack, AF_INET, type, 0);
	g_assert_cmpint(fd, >=, 0);
	return fd;
}

static struct sockaddr_in
sin_of(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((in_port_t)port) };
	g_assert_cmpint(inet_pton(AF_INET, ip, &a.sin_addr), ==, 1);
	return a;
}

static int
so_bind(int fd, const char *ip, int port)
{
	struct sockaddr_in a = sin_of(ip, port);
	return us_bind(fd, (struct sockaddr *)&a, sizeof a);
}

static int
so_connect(int fd, const char *ip, int port)
{
	struct sockaddr_in a = sin_of(ip, port);
	return us_connect(fd, (struct sockaddr *)&a, sizeof a);
}

/* The local port of fd (getsockname). */
static int
so_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	g_assert_cmpint(us_getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
	g_assert_cmpuint(len, ==, sizeof a);
	return ntohs(a.sin_port);
}

static void
so_send_str(int fd, const char *s)
{
	g_assert_cmpint(us_send(fd, s, strlen(s), 0), ==, (gssize)strlen(s));
}

/* Receives once (flags) into a buffer of len bytes and expects want. */
static void
so_recv_expect(int fd, size_t len, int flags, const char *want)
{
	char buf[256];
	g_assert_cmpuint(len, <=, sizeof buf);
	ssize_t n = us_recv(fd, buf, len, flags);
	g_assert_cmpint(n, ==, (gssize)strlen(want));
	g_assert_cmpmem(buf, (gsize)n, want, strlen(want));
}

static int
so_getint(int fd, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof v;
	g_assert_cmpint(us_getsockopt(fd, level, name, &v, &len), ==, 0);
	g_assert_cmpuint(len, ==, sizeof v);
	return v;
}

static int
so_setint(int fd, int level, int name, int v)
{
	return us_setsockopt(fd, level, name, &v, sizeof v);
}

static short
so_poll(int fd, short events, int timeout)
{
	struct pollfd p = { .fd = fd, .events = events };
	g_assert_cmpint(us_poll(&p, 1, timeout), >=, 0);
	return p.revents;
}

static UsSocketStats
so_stats(int fd)
{
	UsSocketStats st;
	g_assert_cmpint(us_socket_stats(fd, &st), ==, 0);
	return st;
}

/* A listener on 127.0.0.1:port, a client connected to it and the accepted
 * server side. */
static void
so_connection(SoFx *fx, int port, int *listener, int *client, int *server)
{
	*listener = so_socket(fx, SOCK_STREAM);
	g_assert_cmpint(so_bind(*listener, "127.0.0.1", port), ==, 0);
	g_assert_cmpint(us_listen(*listener, 4), ==, 0);
	*client = so_socket(fx, SOCK_STREAM);
	g_assert_cmpint(so_connect(*client, "127.0.0.1", port), ==, 0);
	*server = us_accept(*listener, NULL, NULL);
	g_assert_cmpint(*server, >=, 0);
}

/* Two bound datagram sockets: a on port pa, b on port pb. */
static void
so_dgram_pair(SoFx *fx, int *a, int pa, int *b, int pb)
{
	*a = so_socket(fx, SOCK_DGRAM);
	*b = so_socket(fx, SOCK_DGRAM);
	g_assert_cmpint(so_bind(*a, "127.0.0.1", pa), ==, 0);
	g_assert_cmpint(so_bind(*b, "127.0.0.1", pb), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Transport table                                                    */
/* ------------------------------------------------------------------ */

static void
expect_lookup(int domain, int type, int protocol, const char *want, int err)
{
	errno = 0;
	char *d = us_socket_transport_lookup(domain, type, protocol);
	g_assert_cmpstr(d, ==, want);
	if (want == NULL)
		g_assert_cmpint(errno, ==, err);
	g_free(d);
}

static void
test_table_defaults(void)
{
	us_socket_transport_reset();
	expect_lookup(AF_INET, SOCK_DGRAM, 0, "udp", 0);
	expect_lookup(AF_INET, SOCK_DGRAM, IPPROTO_UDP, "udp", 0);
	expect_lookup(AF_INET, SOCK_STREAM, 0, "tcp", 0);
	expect_lookup(AF_INET, SOCK_STREAM, IPPROTO_TCP, "tcp", 0);
	expect_lookup(AF_INET, SOCK_RAW, IPPROTO_ICMP, "icmp", 0);
	expect_lookup(AF_INET, SOCK_RAW, IPPROTO_RAW, "icmp", 0);
	expect_lookup(AF_INET, SOCK_RAW, 0, NULL, EPROTONOSUPPORT);
	expect_lookup(AF_INET, SOCK_DGRAM, IPPROTO_TCP, NULL, EPROTONOSUPPORT);
	expect_lookup(AF_INET, SOCK_SEQPACKET, 0, NULL, ESOCKTNOSUPPORT);
	expect_lookup(AF_INET6, SOCK_DGRAM, 0, NULL, EAFNOSUPPORT);
}

static void
test_table_add_remove(void)
{
	us_socket_transport_reset();
	g_assert_cmpint(us_socket_transport_add(AF_INET, SOCK_SEQPACKET, 0, "sctp-x"), ==, 0);
	expect_lookup(AF_INET, SOCK_SEQPACKET, 0, "sctp-x", 0);
	expect_lookup(AF_INET, SOCK_SEQPACKET, 132, NULL, EPROTONOSUPPORT);
	/* Replacing an entry; an exact entry beats the wildcard. */
	g_assert_cmpint(us_socket_transport_add(AF_INET, SOCK_SEQPACKET, 0, "sctp-y"), ==, 0);
	expect_lookup(AF_INET, SOCK_SEQPACKET, 0, "sctp-y", 0);
	g_assert_cmpint(us_socket_transport_add(AF_INET, SOCK_RAW, 89, "ospf"), ==, 0);
	expect_lookup(AF_INET, SOCK_RAW, 89, "ospf", 0);
	expect_lookup(AF_INET, SOCK_RAW, 88, "icmp", 0);
	/* A new domain. */
	g_assert_cmpint(us_socket_transport_add(AF_INET6, SOCK_DGRAM, 0, "udp6"), ==, 0);
	expect_lookup(AF_INET6, SOCK_DGRAM, 0, "udp6", 0);
	expect_lookup(AF_INET6, SOCK_STREAM, 0, NULL, ESOCKTNOSUPPORT);
	g_assert_cmpint(us_socket_transport_remove(AF_INET, SOCK_SEQPACKET, 0), ==, 0);
	expect_lookup(AF_INET, SOCK_SEQPACKET, 0, NULL, ESOCKTNOSUPPORT);
	sh_assert_fails(us_socket_transport_remove(AF_INET, SOCK_SEQPACKET, 0), ENOENT);
	sh_assert_fails(us_socket_transport_add(AF_INET, SOCK_DGRAM, 0, NULL), EINVAL);
	sh_assert_fails(us_socket_transport_add(AF_INET, SOCK_DGRAM, 0, ""), EINVAL);
	sh_assert_fails(us_socket_transport_add(AF_INET, 0, 0, "x"), EINVAL);
	us_socket_transport_reset();
	expect_lookup(AF_INET, SOCK_RAW, 89, "icmp", 0);
	expect_lookup(AF_INET6, SOCK_DGRAM, 0, NULL, EAFNOSUPPORT);
}

typedef struct {
	int stop;
} TableHammer;

static gpointer
table_hammer(gpointer data)
{
	TableHammer *t = data;
	for (int i = 0; i < 2000 && !g_atomic_int_get(&t->stop); i++) {
		us_socket_transport_add(AF_INET, SOCK_RDM, i % 7 + 1, "rdm");
		us_socket_transport_remove(AF_INET, SOCK_RDM, (i + 3) % 7 + 1);
	}
	return NULL;
}

/* The table takes concurrent changes and lookups. */
static void
test_table_threads(void)
{
	us_socket_transport_reset();
	TableHammer t = { 0 };
	GThread *a = g_thread_new("hammer", table_hammer, &t);
	for (int i = 0; i < 2000; i++) {
		char *d = us_socket_transport_lookup(AF_INET, SOCK_DGRAM, 0);
		g_assert_cmpstr(d, ==, "udp");
		g_free(d);
	}
	g_atomic_int_set(&t.stop, 1);
	g_thread_join(a);
	us_socket_transport_reset();
}

/* ------------------------------------------------------------------ */
/* Creation                                                           */
/* ------------------------------------------------------------------ */

static void
test_create_errors(void)
{
	SoFx fx;
	so_init(&fx);
	UsStack *st = fx.sh.stack;
	sh_assert_fails(us_socket(NULL, AF_INET, SOCK_DGRAM, 0), EINVAL);
	sh_assert_fails(us_socket(st, AF_INET, 0, 0), EINVAL);
	sh_assert_fails(us_socket(st, AF_INET, 99, 0), EINVAL);
	sh_assert_fails(us_socket(st, AF_INET, SOCK_DGRAM, -1), EINVAL);
	sh_assert_fails(us_socket(st, AF_INET6, SOCK_DGRAM, 0), EAFNOSUPPORT);
	sh_assert_fails(us_socket(st, 4242, SOCK_DGRAM, 0), EAFNOSUPPORT);
	sh_assert_fails(us_socket(st, AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
	sh_assert_fails(us_socket(st, AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
	sh_assert_fails(us_socket(st, AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
	/* The driver is not registered. */
	g_assert_cmpint(us_socket_transport_add(AF_INET, SOCK_RDM, 0, "no-such-driver"), ==, 0);
	sh_assert_fails(us_socket(st, AF_INET, SOCK_RDM, 0), EPROTONOSUPPORT);
	/* The driver's service type does not fit the socket type. */
	g_assert_cmpint(us_socket_transport_add(AF_INET, SOCK_SEQPACKET, 0, TPITEST_DG), ==, 0);
	sh_assert_fails(us_socket(st, AF_INET, SOCK_SEQPACKET, 0), EPROTONOSUPPORT);
	/* T_INFO_REQ refused. */
	fx.cfg->fail_prim = T_INFO_REQ;
	fx.cfg->fail_tli = TSYSERR;
	fx.cfg->fail_unix = ENOMEM;
	sh_assert_fails(us_socket(st, AF_INET, SOCK_DGRAM, 0), ENOMEM);
	so_fini(&fx); /* checks that no descriptor was left open */
}

static void
test_create_info(void)
{
	SoFx fx;
	so_init(&fx);
	int d = so_socket(&fx, SOCK_DGRAM);
	g_assert_cmpuint(fx.cfg->prims[T_INFO_REQ], ==, 1);
	g_assert_cmpint(so_getint(d, SOL_SOCKET, SO_TYPE), ==, SOCK_DGRAM);
	g_assert_cmpint(so_getint(d, SOL_SOCKET, SO_DOMAIN), ==, AF_INET);
	/* protocol 0 reports the protocol of the exact entry (Linux). */
	g_assert_cmpint(so_getint(d, SOL_SOCKET, SO_PROTOCOL), ==, IPPROTO_UDP);
	g_assert_cmpint(so_getint(d, SOL_SOCKET, SO_ACCEPTCONN), ==, 0);
	g_assert_cmpint(us_fcntl(d, F_GETFL) & O_NONBLOCK, ==, 0);
	int s = us_socket(fx.sh.stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	g_assert_cmpint(s, >=, 0);
	g_assert_cmpint(so_getint(s, SOL_SOCKET, SO_TYPE), ==, SOCK_STREAM);
	g_assert_cmpint(so_getint(s, SOL_SOCKET, SO_PROTOCOL), ==, 0);
	g_assert_cmpint(us_fcntl(s, F_GETFL) & O_NONBLOCK, ==, O_NONBLOCK);
	g_assert_cmpuint(fx.cfg->prims[T_SVR4_OPTMGMT_REQ], ==, 0); /* no SO_PROTOTYPE */
	sh_close(d);
	sh_close(s);
	so_fini(&fx);
}

/* SOCK_RAW passes the protocol with SO_PROTOTYPE right after the open. */
static void
test_create_raw_prototype(void)
{
	SoFx fx;
	so_init(&fx);
	int r = us_socket(fx.sh.stack, AF_INET, SOCK_RAW, IPPROTO_ICMP);
	g_assert_cmpint(r, >=, 0);
	g_assert_cmpint(fx.cfg->last_prototype, ==, IPPROTO_ICMP);
	g_assert_cmpuint(fx.cfg->prims[T_SVR4_OPTMGMT_REQ], ==, 1);
	g_assert_cmpint(so_getint(r, SOL_SOCKET, US_SO_PROTOTYPE), ==, IPPROTO_ICMP);
	g_assert_cmpint(so_getint(r, SOL_SOCKET, SO_PROTOCOL), ==, IPPROTO_ICMP);
	g_assert_cmpint(so_getint(r, SOL_SOCKET, SO_TYPE), ==, SOCK_RAW);
	/* A transport that refuses the option refuses the protocol. */
	fx.cfg->fail_prim = T_SVR4_OPTMGMT_REQ;
	fx.cfg->fail_tli = TBADOPT;
	sh_assert_fails(us_socket(fx.sh.stack, AF_INET, SOCK_RAW, 200), EPROTONOSUPPORT);
	sh_close(r);
	so_fini(&fx);
}

/* Calls on descriptors that are not sockets. */
static void
test_create_notsock_ebadf(void)
{
	SoFx fx;
	so_init(&fx);
	int e = sh_open(&fx.sh, "echo", O_RDWR);
	struct sockaddr_in a = sin_of("127.0.0.1", 1);
	socklen_t len = sizeof a;
	int v = 1;
	char c = 0;
	int bad = 987654;
	for (int i = 0; i < 2; i++) {
		int fd = i == 0 ? e : bad;
		int err = i == 0 ? ENOTSOCK : EBADF;
		sh_assert_fails(us_bind(fd, (struct sockaddr *)&a, sizeof a), err);
		sh_assert_fails(us_connect(fd, (struct sockaddr *)&a, sizeof a), err);
		sh_assert_fails(us_listen(fd, 1), err);
		sh_assert_fails(us_accept(fd, NULL, NULL), err);
		sh_assert_fails(us_send(fd, "x", 1, 0), err);
		sh_assert_fails(us_recv(fd, &c, 1, 0), err);
		sh_assert_fails(us_sendto(fd, "x", 1, 0, NULL, 0), err);
		sh_assert_fails(us_recvfrom(fd, &c, 1, 0, NULL, NULL), err);
		sh_assert_fails(us_shutdown(fd, SHUT_RDWR), err);
		sh_assert_fails(us_getsockname(fd, (struct sockaddr *)&a, &len), err);
		sh_assert_fails(us_getpeername(fd, (struct sockaddr *)&a, &len), err);
		sh_assert_fails(us_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), err);
		sh_assert_fails(us_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len), err);
		UsSocketStats st;
		sh_assert_fails(us_socket_stats(fd, &st), err);
	}
	/* The stream head's own calls still work on the plain stream. */
	sh_write_str(e, "hi");
	sh_read_expect(e, 8, "hi");
	sh_close(e);
	so_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* bind and names                                                     */
/* ------------------------------------------------------------------ */

static void
test_bind_names(void)
{
	SoFx fx;
	so_init(&fx);
	int a = so_socket(&fx, SOCK_DGRAM), b = so_socket(&fx, SOCK_DGRAM);
	/* Unbound: the unspecified address. */
	struct sockaddr_in got;
	socklen_t len = sizeof got;
	g_assert_cmpint(us_getsockname(a, (struct sockaddr *)&got, &len), ==, 0);
	g_assert_cmpuint(len, ==, sizeof got);
	g_assert_cmpint(got.sin_family, ==, AF_INET);
	g_assert_cmpuint(got.sin_port, ==, 0);
	g_assert_cmpuint(got.sin_addr.s_addr, ==, htonl(INADDR_ANY));
	g_assert_cmpint(so_bind(a, "127.0.0.1", 5000), ==, 0);
	len = sizeof got;
	g_assert_cmpint(us_getsockname(a, (struct sockaddr *)&got, &len), ==, 0);
	g_assert_cmpint(ntohs(got.sin_port), ==, 5000);
	g_assert_cmpuint(got.sin_addr.s_addr, ==, htonl(INADDR_LOOPBACK));
	g_assert_cmpuint(fx.cfg->prims[T_ADDR_REQ], ==, 2);
	/* A short buffer gets the start; the length says how long it is. */
	unsigned char small[4];
	len = sizeof small;
	g_assert_cmpint(us_getsockname(a, (struct sockaddr *)small, &len), ==, 0);
	g_assert_cmpuint(len, ==, sizeof(struct sockaddr_in));
	sh_assert_fails(so_bind(a, "127.0.0.1", 5001), EINVAL); /* already bound */
	sh_assert_fails(so_bind(b, "127.0.0.1", 5000), EADDRINUSE);
	sh_assert_fails(so_bind(b, "10.1.2.3", 5002), EADDRNOTAVAIL);
	struct sockaddr_in wrong = sin_of("127.0.0.1", 5003);
	wrong.sin_family = AF_INET6;
	sh_assert_fails(us_bind(b, (struct sockaddr *)&wrong, sizeof wrong), EAFNOSUPPORT);
	sh_assert_fails(us_bind(b, (struct sockaddr *)&wrong, 8), EINVAL);
	sh_assert_fails(us_bind(b, NULL, sizeof wrong), EFAULT);
	sh_assert_fails(us_getsockname(b, (struct sockaddr *)&got, NULL), EFAULT);
	/* AF_UNSPEC with INADDR_ANY binds as AF_INET (Linux). */
	struct sockaddr_in unspec = { .sin_family = AF_UNSPEC };
	g_assert_cmpint(us_bind(b, (struct sockaddr *)&unspec, sizeof unspec), ==, 0);
	g_assert_cmpint(so_port(b), >=, TPITEST_PORT0);
	sh_assert_fails(us_getpeername(a, (struct sockaddr *)&got, &len), ENOTCONN);
	/* A transport without T_ADDR_REQ: what the library knows. */
	fx.cfg->fail_prim = T_ADDR_REQ;
	fx.cfg->fail_tli = TNOTSUPPORT;
	g_assert_cmpint(so_port(a), ==, 5000);
	g_assert_cmpint(fx.cfg->fail_prim, ==, -1); /* it was asked */
	sh_close(a);
	sh_close(b);
	so_fini(&fx);
}

static void
expect_bind_tli(SoFx *fx, int tli, int unix_error, int want)
{
	int s = so_socket(fx, SOCK_DGRAM);
	fx->cfg->fail_prim = T_BIND_REQ;
	fx->cfg->fail_tli = tli;
	fx->cfg->fail_unix = unix_error;
	sh_assert_fails(so_bind(s, "127.0.0.1", 6000), want);
	/* Nothing was bound: a second try works. */
	g_assert_cmpint(so_bind(s, "127.0.0.1", 6000), ==, 0);
	sh_close(s);
}

static void
test_bind_tli_errors(void)
{
	SoFx fx;
	so_init(&fx);
	expect_bind_tli(&fx, TACCES, 0, EACCES);
	expect_bind_tli(&fx, TADDRBUSY, 0, EADDRINUSE);
	expect_bind_tli(&fx, TNOADDR, 0, EADDRNOTAVAIL);
	expect_bind_tli(&fx, TBADADDR, 0, EINVAL);
	expect_bind_tli(&fx, TOUTSTATE, 0, EINVAL);
	expect_bind_tli(&fx, TBADOPT, 0, EINVAL);
	expect_bind_tli(&fx, TNOTSUPPORT, 0, EOPNOTSUPP);
	expect_bind_tli(&fx, TSYSERR, ENOBUFS, ENOBUFS);
	expect_bind_tli(&fx, TPROTO, 0, EPROTO);
	so_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Datagrams                                                          */
/* ------------------------------------------------------------------ */

static void
test_dgram_sendto_recvfrom(void)
{
	SoFx fx;
	so_init(&fx);
	int a, b;
	so_dgram_pair(&fx, &a, 7001, &b, 7002);
	struct sockaddr_in to = sin_of("127.0.0.1", 7002);
	g_assert_cmpint(us_sendto(a, "hello", 5, 0, (struct sockaddr *)&to, sizeof to), ==, 5);
	g_assert_cmpuint(fx.cfg->prims[T_UNITDATA_REQ], ==, 1);
	g_assert_cmpint(so_poll(b, POLLIN | POLLOUT, 0), ==, POLLIN | POLLOUT);
	char buf[32];
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	g_assert_cmpint(us_recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen), ==, 5);
	g_assert_cmpmem(buf, 5, "hello", 5);
	g_assert_cmpuint(flen, ==, sizeof from);
	g_assert_cmpint(ntohs(from.sin_port), ==, 7001);
	g_assert_cmpuint(from.sin_addr.s_addr, ==, htonl(INADDR_LOOPBACK));
	/* A zero-length datagram is a datagram. */
	g_assert_cmpint(us_sendto(a, "", 0, 0, (struct sockaddr *)&to, sizeof to), ==, 0);
	g_assert_cmpint(us_recv(b, buf, sizeof buf, MSG_DONTWAIT), ==, 0);
	sh_assert_fails(us_recv(b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	/* sendmsg/recvmsg with two iovecs and a name. */
	struct iovec out[2] = { { "ab", 2 }, { "cde", 3 } };
	struct msghdr m = {
		.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = out, .msg_iovlen = 2
	};
	g_assert_cmpint(us_sendmsg(a, &m, 0), ==, 5);
	char p1[3], p2[8];
	struct iovec in[2] = { { p1, sizeof p1 }, { p2, sizeof p2 } };
	struct msghdr r = { .msg_name = &from,
			    .msg_namelen = sizeof from,
			    .msg_iov = in,
			    .msg_iovlen = 2,
			    .msg_control = buf,
			    .msg_controllen = sizeof buf };
	g_assert_cmpint(us_recvmsg(b, &r, 0), ==, 5);
	g_assert_cmpmem(p1, 3, "abc", 3);
	g_assert_cmpmem(p2, 2, "de", 2);
	g_assert_cmpuint(r.msg_namelen, ==, sizeof from);
	g_assert_cmpuint(r.msg_controllen, ==, 0);
	g_assert_cmpint(r.msg_flags, ==, 0);
	/* Address errors. */
	struct sockaddr_in bad = to;
	bad.sin_family = AF_INET6;
	sh_assert_fails(us_sendto(a, "x", 1, 0, (struct sockaddr *)&bad, sizeof bad), EAFNOSUPPORT);
	sh_assert_fails(us_sendto(a, "x", 1, 0, (struct sockaddr *)&to, 4), EINVAL);
	sh_assert_fails(us_sendto(a, "x", 1, 0, (struct sockaddr *)&to, 0), EINVAL);
	struct sockaddr_in port0 = sin_of("127.0.0.1", 0);
	sh_assert_fails(us_sendto(a, "x", 1, 0, (struct sockaddr *)&port0, sizeof port0), EINVAL);
	sh_assert_fails(us_sendto(a, NULL, 1, 0, (struct sockaddr *)&to, sizeof to), EFAULT);
	sh_assert_fails(us_sendmsg(a, NULL, 0), EFAULT);
	sh_assert_fails(us_recvmsg(a, NULL, 0), EFAULT);
	sh_assert_fails(us_recvfrom(a, buf, 1, 0, (struct sockaddr *)&from, NULL), EFAULT);
	sh_close(a);
	sh_close(b);
	so_fini(&fx);
}

/* An unbound socket is bound to port 0 before its first datagram. */
static void
test_dgram_autobind(void)
{
	SoFx fx;
	so_init(&fx);
	int a = so_socket(&fx, SOCK_DGRAM), b = so_socket(&fx, SOCK_DGRAM);
	g_assert_cmpint(so_bind(b, "0.0.0.0", 7100), ==, 0);
	struct sockaddr_in to = sin_of("127.0.0.1", 7100);
	g_assert_cmpint(us_sendto(a, "x", 1, 0, (struct sockaddr *)&to, sizeof to), ==, 1);
	g_assert_cmpint(us_sendto(a, "y", 1, 0, (struct sockaddr *)&to, sizeof to), ==, 1);
	g_assert_cmpuint(fx.cfg->prims[T_BIND_REQ], ==, 2); /* b's, then a's once */
	int port = so_port(a);
	g_assert_cmpint(port, >=, TPITEST_PORT0);
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	char c;
	g_assert_cmpint(us_recvfrom(b, &c, 1, 0, (struct sockaddr *)&from, &flen), ==, 1);
	g_assert_cmpint(ntohs(from.sin_port), ==, port);
	so_recv_expect(b, 1, 0, "y");
	sh_close(a);
	sh_close(b);
	so_fini(&fx);
}

static void
test_dgram_connected(void)
{
	SoFx fx;
	so_init(&fx);
	int a, b, c = so_socket(&fx, SOCK_DGRAM);
	so_dgram_pair(&fx, &a, 7201, &b, 7202);
	g_assert_cmpint(so_bind(c, "127.0.0.1", 7203), ==, 0);
	sh_assert_fails(us_send(a, "x", 1, 0), EDESTADDRREQ);
	sh_assert_fails(us_write(a, "x", 1), EDESTADDRREQ);
	g_assert_cmpint(so_connect(a, "127.0.0.1", 7202), ==, 0);
	g_assert_cmpuint(fx.cfg->prims[T_CONN_REQ], ==, 1);
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	g_assert_cmpint(us_getpeername(a, (struct sockaddr *)&peer, &len), ==, 0);
	g_assert_cmpint(ntohs(peer.sin_port), ==, 7202);
	so_send_str(a, "one");
	g_assert_cmpint(us_write(a, "two", 3), ==, 3);
	/* us_read takes one datagram at a time. */
	char buf[16];
	g_assert_cmpint(us_read(b, buf, sizeof buf), ==, 3);
	g_assert_cmpmem(buf, 3, "one", 3);
	g_assert_cmpint(us_read(b, buf, sizeof buf), ==, 3);
	g_assert_cmpmem(buf, 3, "two", 3);
	/* Linux lets a connected datagram socket send elsewhere with sendto. */
	struct sockaddr_in to_c = sin_of("127.0.0.1", 7203);
	g_assert_cmpint(us_sendto(a, "c", 1, 0, (struct sockaddr *)&to_c, sizeof to_c), ==, 1);
	so_recv_expect(c, 4, 0, "c");
	/* Connecting again moves the peer. */
	g_assert_cmpint(so_connect(a, "127.0.0.1", 7203), ==, 0);
	so_send_str(a, "moved");
	so_recv_expect(c, 16, 0, "moved");
	/* AF_UNSPEC disconnects. */
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	g_assert_cmpint(us_connect(a, &unspec, sizeof unspec), ==, 0);
	g_assert_cmpuint(fx.cfg->prims[T_DISCON_REQ], ==, 2);
	sh_assert_fails(us_send(a, "x", 1, 0), EDESTADDRREQ);
	sh_assert_fails(us_getpeername(a, (struct sockaddr *)&peer, &len), ENOTCONN);
	g_assert_cmpint(us_connect(a, &unspec, sizeof unspec), ==, 0); /* not connected: no-op */
	g_assert_cmpuint(fx.cfg->prims[T_DISCON_REQ], ==, 2);
	sh_close(a);
	sh_close(b);
	sh_close(c);
	so_fini(&fx);
}

/* Datagrams larger than TSDU_size are refused. */
static void
test_dgram_emsgsize(void)
{
	SoFx fx;
	so_init(&fx);
	int a, b;
	so_dgram_pair(&fx, &a, 7301, &b, 7302);
	g_assert_cmpint(so_connect(a, "127.0.0.1", 7302), ==, 0);
	char *big = g_malloc0(TPITEST_TSDU + 1);
	sh_assert_fails(us_send(a, big, TPITEST_TSDU + 1, 0), EMSGSIZE);
	g_assert_cmpint(us_send(a, big, TPITEST_TSDU, 0), ==, TPITEST_TSDU);
	g_assert_cmpint(us_recv(b, big, TPITEST_TSDU + 1, 0), ==, TPITEST_TSDU);
	g_free(big);
	sh_close(a);
	sh_close(b);
	so_fini(&fx);
}

static void
test_dgram_peek_trunc(void)
{
	SoFx fx;
	so_init(&fx);
	int a, b;
	so_dgram_pair(&fx, &a, 7401, &b, 7402);
	g_assert_cmpint(so_connect(a, "127.0.0.1", 7402), ==, 0);
	so_send_str(a, "0123456789");
	char buf[16];
	struct iovec iov = { buf, 4 };
	struct sockaddr_in from;
	struct msghdr m = {
		.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1
	};
	/* MSG_PEEK leaves the datagram; msg_flags says it was cut. */
	g_assert_cmpint(us_recvmsg(b, &m, MSG_PEEK), ==, 4);
	g_assert_cmpmem(buf, 4, "0123", 4);
	g_assert_cmpint(m.msg_flags, ==, MSG_TRUNC);
	g_assert_cmpint(ntohs(from.sin_port), ==, 7401);
	/* MSG_TRUNC returns the real length; the rest is discarded. */
	g_assert_cmpint(us_recv(b, buf, 4, MSG_TRUNC), ==, 10);
	g_assert_cmpmem(buf, 4, "0123", 4);
	sh_assert_fails(us_recv(b, buf, 4, MSG_DONTWAIT), EAGAIN);
	so_send_str(a, "abcdef");
	m.msg_namelen = sizeof from;
	g_assert_cmpint(us_recvmsg(b, &m, 0), ==, 4);
	g_assert_cmpint(m.msg_flags, ==, MSG_TRUNC);
	g_assert_cmpuint(so_stats(b).truncated, ==, 2);
	sh_assert_fails(us_recv(b, buf, 4, MSG_DONTWAIT), EAGAIN);
	sh_close(a);
	sh_close(b);
	so_fini(&fx);
}

static void
test_dgram_nonblocking(void)
{
	SoFx fx;
	so_init(&fx);
	int a = so_socket(&fx, SOCK_DGRAM);
	char c;
	sh_assert_fails(us_recv(a, &c, 1, MSG_DONTWAIT), EAGAIN);
	/* Blocking with nothing that could ever come: EDEADLK (virtual time). */
	sh_assert_fails(us_recv(a, &c, 1, 0), EDEADLK);
	g_assert_cmpint(us_fcntl(a, F_SETFL, O_NONBLOCK), ==, 0);
	sh_assert_fails(us_recv(a, &c, 1, 0), EAGAIN);
	sh_assert_fails(us_read(a, &c, 1), EAGAIN);
	sh_close(a);
	so_fini(&fx);
}

static void
test_dgram_rcvtimeo(void)
{
	SoFx fx;
	so_init(&fx);
	int a = so_socket(&fx, SOCK_DGRAM);
	g_assert_cmpint(so_bind(a, "127.0.0.1", 7501), ==, 0);
	struct timeval tv = { .tv_sec = 1, .tv_usec = 500000 };
	g_assert_cmpint(us_setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
	struct timeval got = { 0 };
	socklen_t len = sizeof got;
	g_assert_cmpint(us_getsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &got, &len), ==, 0);
	g_assert_cmpint(got.tv_sec, ==, 1);
	g_assert_cmpint(got.tv_usec, ==, 500000);
	gint64 t0 = us_world_now(fx.sh.world);
	char c;
	sh_assert_fails(us_recv(a, &c, 1, 0), EAGAIN);
	gint64 waited = us_world_now(fx.sh.world) - t0;
	g_assert_cmpint(waited, ==, 1500 * US_NSEC_PER_MSEC);
	/* Bad values. */
	tv.tv_usec = 1000000;
	sh_assert_fails(us_setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
	sh_assert_fails(us_setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv - 1), EINVAL);
	/* A negative time means "do not wait". */
	tv = (struct timeval){ .tv_sec = -1 };
	g_assert_cmpint(us_setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
	t0 = us_world_now(fx.sh.world);
	sh_assert_fails(us_recv(a, &c, 1, 0), EAGAIN);
	g_assert_cmpint(us_world_now(fx.sh.world), ==, t0);
	/* Zero is forever again. */
	tv = (struct timeval){ 0 };
	g_assert_cmpint(us_setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
	sh_assert_fails(us_recv(a, &c, 1, 0), EDEADLK);
	sh_close(a);
	so_fini(&fx);
}

/* A datagram sent later (from a world timer) ends a recv waiting with a
 * timeout before the timeout, and the wait's timer goes away. */
static void
late_send(gpointer data)
{
	int fd = GPOINTER_TO_INT(data);
	g_assert_cmpint(us_send(fd, "late", 4, 0), ==, 4);
}

static void
test_dgram_rcvtimeo_data_first(void)
{
	SoFx fx;
	so_init(&fx);
	int a, b;
	so_dgram_pair(&fx, &a, 7511, &b, 7512);
	g_assert_cmpint(so_connect(a, "127.0.0.1", 7512), ==, 0);
	struct timeval tv = { .tv_sec = 5 };
	g_assert_cmpint(us_setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
	gint64 t0 = us_world_now(fx.sh.world);
	us_world_timer_add(fx.sh.world, 300 * US_NSEC_PER_MSEC, late_send, GINT_TO_POINTER(a));
	so_recv_expect(b, 16, 0, "late");
	g_assert_cmpint(us_world_now(fx.sh.world) - t0, ==, 300 * US_NSEC_PER_MSEC);
	g_assert_cmpint(us_world_next_deadline(fx.sh.world), ==, -1);
	sh_close(a);
	sh_close(b);
	so_fini(&fx);
}

/* T_UDERROR_IND: the pending error of a connected socket, as Linux. */
static void
test_dgram_uderror(void)
{
	SoFx fx;
	so_init(&fx);
	int a = so_socket(&fx, SOCK_DGRAM), b = so_socket(&fx, SOCK_DGRAM);
	g_assert_cmpint(so_connect(a, "127.0.0.1", 7601), ==, 0); /* nobody there */
	so_send_str(a, "lost");
	g_assert_cmpuint(fx.cfg->uderrors, ==, 1);
	g_assert_cmpint(so_poll(a, POLLIN, 0), ==, POLLERR);
	char c;
	sh_assert_fails(us_recv(a, &c, 1, MSG_DONTWAIT), ECONNREFUSED);
	sh_assert_fails(us_recv(a, &c, 1, MSG_DONTWAIT), EAGAIN); /* reported once */
	so_send_str(a, "again");
	sh_assert_fails(us_send(a, "x", 1, 0), ECONNREFUSED); /* send reports it too */
	so_send_str(a, "third");
	g_assert_cmpint(so_getint(a, SOL_SOCKET, SO_ERROR), ==, ECONNREFUSED);
	g_assert_cmpint(so_getint(a, SOL_SOCKET, SO_ERROR), ==, 0);
	g_assert_cmpuint(so_stats(a).uderror_pending, ==, 3);
	/* Unconnected: discarded and counted. */
	struct sockaddr_in to = sin_of("127.0.0.1", 7602);
	g_assert_cmpint(us_sendto(b, "x", 1, 0, (struct sockaddr *)&to, sizeof to), ==, 1);
	sh_assert_fails(us_recv(b, &c, 1, MSG_DONTWAIT), EAGAIN);
	g_assert_cmpint(so_getint(b, SOL_SOCKET, SO_ERROR), ==, 0);
	g_assert_cmpuint(so_stats(b).uderror_dropped, ==, 1);
	sh_close(a);
	sh_close(b);
	so_fini(&fx);
}

static void
test_dgram_shutdown(void)
{
	SoFx fx;
	so_init(&fx);
	int a, b;
	so_dgram_pair(&fx, &a, 7701, &b, 7702);
	sh_assert_fails(us_shutdown(a, SHUT_WR), ENOTCONN);
	sh_assert_fails(us_shutdown(a, 7), EINVAL);
	g_assert_cmpint(so_connect(a, "127.0.0.1", 7702), ==, 0);
	g_assert_cmpint(so_connect(b, "127.0.0.1", 7701), ==, 0);
	g_assert_cmpint(us_shutdown(a, SHUT_WR), ==, 0);
	sh_assert_fails(us_send(a, "x", 1, MSG_NOSIGNAL), EPIPE);
	g_assert_cmpint(us_shutdown(b, SHUT_RD), ==, 0);
	char c;
	g_assert_cmpint(us_recv(b, &c, 1, 0), ==, 0);
	g_assert_cmpint(so_poll(b, POLLIN, 0), ==, POLLIN);
	so_send_str(b, "z"); /* b can still send */
	so_recv_expect(a, 1, 0, "z");
	g_assert_cmpuint(fx.cfg->prims[T_ORDREL_REQ], ==, 0); /* local only */
	sh_close(a);
	sh_close(b);
	so_fini(&fx);
}

static void
test_dgram_not_for_datagrams(void)
{
	SoFx fx;
	so_init(&fx);
	int a = so_socket(&fx, SOCK_DGRAM);
	char c;
	sh_assert_fails(us_listen(a, 5), EOPNOTSUPP);
	sh_assert_fails(us_accept(a, NULL, NULL), EOPNOTSUPP);
	sh_assert_fails(us_send(a, "x", 1, MSG_OOB), EOPNOTSUPP);
	sh_assert_fails(us_recv(a, &c, 1, MSG_OOB), EOPNOTSUPP);
	sh_assert_fails(us_recv(a, &c, 1, MSG_ERRQUEUE), EAGAIN);
	sh_close(a);
	so_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Connections                                                        */
/* ------------------------------------------------------------------ */

static void
test_stream_connect_accept(void)
{
	SoFx fx;
	so_init(&fx);
	int l = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_bind(l, "127.0.0.1", 8001), ==, 0);
	g_assert_cmpint(us_listen(l, 5), ==, 0);
	g_assert_cmpint(so_getint(l, SOL_SOCKET, SO_ACCEPTCONN), ==, 1);
	g_assert_cmpint(so_poll(l, POLLIN | POLLOUT, 0), ==, 0);
	int c = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_connect(c, "127.0.0.1", 8001), ==, 0);
	g_assert_cmpint(so_poll(l, POLLIN, 0), ==, POLLIN);
	g_assert_cmpint(so_poll(c, POLLOUT, 0), ==, POLLOUT);
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	int s = us_accept(l, (struct sockaddr *)&from, &flen);
	g_assert_cmpint(s, >=, 0);
	g_assert_cmpuint(flen, ==, sizeof from);
	int cport = so_port(c);
	g_assert_cmpint(ntohs(from.sin_port), ==, cport);
	g_assert_cmpuint(fx.cfg->prims[T_CAPABILITY_REQ], ==, 1);
	g_assert_cmpuint(fx.cfg->prims[T_CONN_RES], ==, 1);
	g_assert_cmpint(so_poll(l, POLLIN, 0), ==, 0);
	/* Names on both sides. */
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	g_assert_cmpint(us_getpeername(s, (struct sockaddr *)&peer, &len), ==, 0);
	g_assert_cmpint(ntohs(peer.sin_port), ==, cport);
	len = sizeof peer;
	g_assert_cmpint(us_getpeername(c, (struct sockaddr *)&peer, &len), ==, 0);
	g_assert_cmpint(ntohs(peer.sin_port), ==, 8001);
	g_assert_cmpint(so_port(s), ==, 8001);
	g_assert_cmpint(so_getint(s, SOL_SOCKET, SO_ACCEPTCONN), ==, 0);
	g_assert_cmpint(so_getint(s, SOL_SOCKET, SO_TYPE), ==, SOCK_STREAM);
	g_assert_cmpint(us_fcntl(s, F_GETFL) & O_NONBLOCK, ==, 0);
	/* Data both ways, with send/recv and write/read. */
	so_send_str(c, "ping");
	so_recv_expect(s, 16, 0, "ping");
	g_assert_cmpint(us_write(s, "pong", 4), ==, 4);
	sh_read_expect(c, 16, "pong");
	struct iovec out[2] = { { "sc", 2 }, { "atter", 5 } };
	g_assert_cmpint(us_writev(c, out, 2), ==, 7);
	struct msghdr m = { .msg_iov = out, .msg_iovlen = 2 };
	g_assert_cmpint(us_sendmsg(c, &m, 0), ==, 7);
	char g1[5], g2[9] = { 0 };
	struct iovec in[2] = { { g1, sizeof g1 }, { g2, sizeof g2 } };
	struct sockaddr_in who;
	struct msghdr r = {
		.msg_name = &who, .msg_namelen = sizeof who, .msg_iov = in, .msg_iovlen = 2
	};
	g_assert_cmpint(us_recvmsg(s, &r, MSG_WAITALL), ==, 14);
	g_assert_cmpmem(g1, 5, "scatt", 5);
	g_assert_cmpmem(g2, 9, "erscatter", 9);
	g_assert_cmpuint(r.msg_namelen, ==, 0); /* no source on a connection */
	g_assert_cmpint(us_writev(c, out, 1), ==, 2);
	g_assert_cmpint(us_readv(s, in, 2), ==, 2);
	g_assert_cmpmem(g1, 2, "sc", 2);
	sh_close(s);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

static void
test_stream_accept_errors(void)
{
	SoFx fx;
	so_init(&fx);
	int l = so_socket(&fx, SOCK_STREAM);
	sh_assert_fails(us_accept(l, NULL, NULL), EINVAL); /* not listening */
	g_assert_cmpint(us_listen(l, 0), ==, 0);           /* unbound: port 0 */
	int port = so_port(l);
	g_assert_cmpint(port, >=, TPITEST_PORT0);
	socklen_t len = sizeof(struct sockaddr_in);
	struct sockaddr_in a;
	sh_assert_fails(us_accept(l, (struct sockaddr *)&a, NULL), EFAULT);
	sh_assert_fails(us_accept4(l, NULL, NULL, 0x4242), EINVAL);
	g_assert_cmpint(us_fcntl(l, F_SETFL, O_NONBLOCK), ==, 0);
	sh_assert_fails(us_accept(l, (struct sockaddr *)&a, &len), EAGAIN);
	g_assert_cmpint(us_fcntl(l, F_SETFL, 0), ==, 0);
	sh_assert_fails(us_accept(l, NULL, NULL), EDEADLK); /* nobody will ever connect */
	/* SO_RCVTIMEO bounds accept's wait. */
	struct timeval tv = { .tv_sec = 2 };
	g_assert_cmpint(us_setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
	gint64 t0 = us_world_now(fx.sh.world);
	sh_assert_fails(us_accept(l, NULL, NULL), EAGAIN);
	g_assert_cmpint(us_world_now(fx.sh.world) - t0, ==, 2 * US_NSEC_PER_SEC);
	/* accept4(SOCK_NONBLOCK) gives a non-blocking socket. */
	int c = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_connect(c, "127.0.0.1", port), ==, 0);
	int s = us_accept4(l, NULL, NULL, SOCK_NONBLOCK);
	g_assert_cmpint(s, >=, 0);
	g_assert_cmpint(us_fcntl(s, F_GETFL) & O_NONBLOCK, ==, O_NONBLOCK);
	char ch;
	sh_assert_fails(us_recv(s, &ch, 1, 0), EAGAIN);
	/* T_CONN_RES refused by the transport. */
	int c2 = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_connect(c2, "127.0.0.1", port), ==, 0);
	fx.cfg->fail_prim = T_CONN_RES;
	fx.cfg->fail_tli = TBADSEQ;
	guint fds = us_fd_count();
	sh_assert_fails(us_accept(l, NULL, NULL), ECONNABORTED);
	g_assert_cmpuint(us_fd_count(), ==, fds); /* the new stream was closed */
	sh_close(c2);
	sh_close(s);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

static void
test_stream_refused_and_retry(void)
{
	SoFx fx;
	so_init(&fx);
	int c = so_socket(&fx, SOCK_STREAM);
	sh_assert_fails(so_connect(c, "127.0.0.1", 8101), ECONNREFUSED);
	g_assert_cmpint(so_getint(c, SOL_SOCKET, SO_ERROR), ==, 0); /* reported by connect */
	int l = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_bind(l, "127.0.0.1", 8101), ==, 0);
	g_assert_cmpint(us_listen(l, 1), ==, 0);
	g_assert_cmpint(so_connect(c, "127.0.0.1", 8101), ==, 0);
	sh_assert_fails(so_connect(c, "127.0.0.1", 8101), EISCONN);
	sh_assert_fails(us_listen(c, 1), EINVAL);
	sh_assert_fails(so_bind(c, "127.0.0.1", 8102), EINVAL);
	sh_assert_fails(so_connect(l, "127.0.0.1", 8101), EISCONN);
	/* The listen queue (1) is full: the next one is refused. */
	int c2 = so_socket(&fx, SOCK_STREAM);
	sh_assert_fails(so_connect(c2, "127.0.0.1", 8101), ECONNREFUSED);
	/* T_CONN_REQ refused with an errno. */
	fx.cfg->fail_prim = T_CONN_REQ;
	fx.cfg->fail_tli = TSYSERR;
	fx.cfg->fail_unix = ENETUNREACH;
	sh_assert_fails(so_connect(c2, "127.0.0.1", 8101), ENETUNREACH);
	struct sockaddr_in a6 = sin_of("127.0.0.1", 1);
	a6.sin_family = AF_INET6;
	sh_assert_fails(us_connect(c2, (struct sockaddr *)&a6, sizeof a6), EAFNOSUPPORT);
	sh_assert_fails(us_connect(c2, (struct sockaddr *)&a6, 3), EINVAL);
	sh_close(c2);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

/* Non-blocking connect: EINPROGRESS, EALREADY, POLLOUT, then 0 once and
 * EISCONN (Linux). */
static void
test_stream_nonblocking_connect(void)
{
	SoFx fx;
	so_init(&fx);
	fx.cfg->connect_delay_ms = 100;
	int l = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_bind(l, "127.0.0.1", 8201), ==, 0);
	g_assert_cmpint(us_listen(l, 5), ==, 0);
	int c = us_socket(fx.sh.stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	g_assert_cmpint(c, >=, 0);
	gint64 t0 = us_world_now(fx.sh.world);
	sh_assert_fails(so_connect(c, "127.0.0.1", 8201), EINPROGRESS);
	sh_assert_fails(so_connect(c, "127.0.0.1", 8201), EALREADY);
	g_assert_cmpint(so_poll(c, POLLOUT, 0), ==, 0);
	sh_assert_fails(us_send(c, "x", 1, 0), EAGAIN); /* waits for the connect */
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	sh_assert_fails(us_getpeername(c, (struct sockaddr *)&peer, &len), ENOTCONN);
	g_assert_cmpint(so_poll(c, POLLOUT, 1000), ==, POLLOUT);
	g_assert_cmpint(us_world_now(fx.sh.world) - t0, ==, 100 * US_NSEC_PER_MSEC);
	g_assert_cmpint(so_getint(c, SOL_SOCKET, SO_ERROR), ==, 0);
	g_assert_cmpint(so_connect(c, "127.0.0.1", 8201), ==, 0);
	sh_assert_fails(so_connect(c, "127.0.0.1", 8201), EISCONN);
	int s = us_accept(l, NULL, NULL);
	g_assert_cmpint(s, >=, 0);
	so_send_str(c, "hi");
	so_recv_expect(s, 8, 0, "hi");
	/* Refused, non-blocking: POLLERR and SO_ERROR tell. */
	int c2 = us_socket(fx.sh.stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sh_assert_fails(so_connect(c2, "127.0.0.1", 8299), EINPROGRESS);
	g_assert_cmpint(so_poll(c2, POLLOUT, 1000), ==, POLLOUT | POLLERR | POLLHUP);
	g_assert_cmpint(so_getint(c2, SOL_SOCKET, SO_ERROR), ==, ECONNREFUSED);
	sh_assert_fails(so_connect(c2, "127.0.0.1", 8299), ECONNABORTED);
	/* Refused, outcome collected by connect itself. */
	int c3 = us_socket(fx.sh.stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sh_assert_fails(so_connect(c3, "127.0.0.1", 8299), EINPROGRESS);
	us_world_advance(fx.sh.world, 200 * US_NSEC_PER_MSEC);
	sh_assert_fails(so_connect(c3, "127.0.0.1", 8299), ECONNREFUSED);
	sh_close(c3);
	sh_close(c2);
	sh_close(s);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

/* A blocking connect waits on the world's clock; SO_SNDTIMEO bounds it. */
static void
test_stream_connect_sndtimeo(void)
{
	SoFx fx;
	so_init(&fx);
	fx.cfg->connect_delay_ms = 100;
	int l = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_bind(l, "127.0.0.1", 8301), ==, 0);
	g_assert_cmpint(us_listen(l, 5), ==, 0);
	int c = so_socket(&fx, SOCK_STREAM);
	gint64 t0 = us_world_now(fx.sh.world);
	g_assert_cmpint(so_connect(c, "127.0.0.1", 8301), ==, 0);
	g_assert_cmpint(us_world_now(fx.sh.world) - t0, ==, 100 * US_NSEC_PER_MSEC);
	int c2 = so_socket(&fx, SOCK_STREAM);
	struct timeval tv = { .tv_usec = 50000 };
	g_assert_cmpint(us_setsockopt(c2, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), ==, 0);
	sh_assert_fails(so_connect(c2, "127.0.0.1", 8301), EINPROGRESS);
	g_assert_cmpint(so_poll(c2, POLLOUT, 1000), ==, POLLOUT);
	g_assert_cmpint(so_connect(c2, "127.0.0.1", 8301), ==, 0);
	sh_close(c2);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

static void
test_stream_not_connected(void)
{
	SoFx fx;
	so_init(&fx);
	int c = so_socket(&fx, SOCK_STREAM);
	char ch;
	sh_assert_fails(us_send(c, "x", 1, 0), ENOTCONN);
	sh_assert_fails(us_write(c, "x", 1), ENOTCONN);
	sh_assert_fails(us_recv(c, &ch, 1, 0), ENOTCONN);
	sh_assert_fails(us_read(c, &ch, 1), ENOTCONN);
	sh_assert_fails(us_shutdown(c, SHUT_WR), ENOTCONN);
	struct sockaddr_in p;
	socklen_t len = sizeof p;
	sh_assert_fails(us_getpeername(c, (struct sockaddr *)&p, &len), ENOTCONN);
	sh_assert_fails(us_recv(c, &ch, 1, MSG_OOB), EINVAL);
	g_assert_cmpint(us_listen(c, 3), ==, 0);
	sh_assert_fails(us_recv(c, &ch, 1, 0), ENOTCONN);
	sh_assert_fails(us_send(c, "x", 1, 0), ENOTCONN);
	g_assert_cmpint(us_listen(c, 9), ==, 0); /* again: nothing changes */
	sh_close(c);
	so_fini(&fx);
}

/* listen() on a bound socket rebinds with CONIND_number. */
static void
test_stream_listen_rebind(void)
{
	SoFx fx;
	so_init(&fx);
	int l = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_bind(l, "127.0.0.1", 8401), ==, 0);
	g_assert_cmpint(us_listen(l, 3), ==, 0);
	g_assert_cmpuint(fx.cfg->prims[T_UNBIND_REQ], ==, 1);
	g_assert_cmpuint(fx.cfg->prims[T_BIND_REQ], ==, 2);
	g_assert_cmpint(so_port(l), ==, 8401);
	/* A failed unbind leaves the socket bound and not listening. */
	int l2 = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_bind(l2, "127.0.0.1", 8402), ==, 0);
	fx.cfg->fail_prim = T_UNBIND_REQ;
	fx.cfg->fail_tli = TOUTSTATE;
	sh_assert_fails(us_listen(l2, 3), EINVAL);
	g_assert_cmpint(so_getint(l2, SOL_SOCKET, SO_ACCEPTCONN), ==, 0);
	g_assert_cmpint(us_listen(l2, 3), ==, 0);
	g_assert_cmpint(so_getint(l2, SOL_SOCKET, SO_ACCEPTCONN), ==, 1);
	sh_close(l2);
	sh_close(l);
	so_fini(&fx);
}

/* Sends are cut into messages of at most TIDU_size. */
static void
test_stream_send_split_waitall(void)
{
	SoFx fx;
	so_init(&fx);
	int l, c, s;
	so_connection(&fx, 8501, &l, &c, &s);
	guchar *buf = g_malloc(2500), *in = g_malloc0(2500);
	for (size_t i = 0; i < 2500; i++)
		buf[i] = sh_pattern(i);
	g_assert_cmpint(us_send(c, buf, 2500, 0), ==, 2500);
	g_assert_cmpuint(fx.cfg->data_msgs, ==, 3);
	g_assert_cmpuint(fx.cfg->data_max, ==, TPITEST_TIDU);
	/* Without MSG_WAITALL a recv returns what is there; with it, all. */
	g_assert_cmpint(us_recv(s, in, 100, 0), ==, 100);
	g_assert_cmpint(us_recv(s, in + 100, 2400, MSG_WAITALL), ==, 2400);
	g_assert_cmpmem(in, 2500, buf, 2500);
	g_free(buf);
	g_free(in);
	sh_close(s);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

static void
test_stream_peek_waitall_eof(void)
{
	SoFx fx;
	so_init(&fx);
	int l, c, s;
	so_connection(&fx, 8601, &l, &c, &s);
	so_send_str(c, "abc");
	so_send_str(c, "def");
	so_recv_expect(s, 6, MSG_PEEK, "abcdef");
	so_recv_expect(s, 2, 0, "ab");
	so_recv_expect(s, 2, MSG_PEEK, "cd");
	so_recv_expect(s, 4, MSG_WAITALL, "cdef");
	/* MSG_DONTWAIT with MSG_WAITALL: what is there. */
	so_send_str(c, "gh");
	so_recv_expect(s, 10, MSG_WAITALL | MSG_DONTWAIT, "gh");
	/* MSG_TRUNC on a connection discards (Linux). */
	so_send_str(c, "skipme");
	char dummy[4];
	g_assert_cmpint(us_recv(s, dummy, 4, MSG_TRUNC), ==, 4);
	so_recv_expect(s, 8, 0, "me");
	/* A blocking recv nothing could satisfy: EDEADLK in virtual time;
	 * with SO_RCVTIMEO, what came before the timeout. */
	char b4[4];
	sh_assert_fails(us_recv(s, b4, 4, 0), EDEADLK);
	so_send_str(c, "xy");
	struct timeval tv = { .tv_sec = 1 };
	g_assert_cmpint(us_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
	gint64 t0 = us_world_now(fx.sh.world);
	g_assert_cmpint(us_recv(s, b4, 4, MSG_WAITALL), ==, 2);
	g_assert_cmpint(us_world_now(fx.sh.world) - t0, ==, US_NSEC_PER_SEC);
	/* MSG_WAITALL stops at EOF with what came. */
	so_send_str(c, "tail");
	g_assert_cmpint(us_shutdown(c, SHUT_WR), ==, 0);
	so_recv_expect(s, 100, MSG_WAITALL, "tail");
	so_recv_expect(s, 100, 0, "");
	sh_close(s);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

/* shutdown(SHUT_WR) is T_ORDREL_REQ; T_ORDREL_IND is EOF after the data. */
static void
test_stream_ordrel(void)
{
	SoFx fx;
	so_init(&fx);
	int l, c, s;
	so_connection(&fx, 8701, &l, &c, &s);
	so_send_str(c, "bye");
	g_assert_cmpint(us_shutdown(c, SHUT_WR), ==, 0);
	g_assert_cmpint(us_shutdown(c, SHUT_WR), ==, 0); /* once only */
	g_assert_cmpuint(fx.cfg->prims[T_ORDREL_REQ], ==, 1);
	sh_assert_fails(us_send(c, "x", 1, 0), EPIPE);
	g_assert_cmpint(so_poll(s, POLLIN, 0), ==, POLLIN);
	so_recv_expect(s, 16, 0, "bye");
	so_recv_expect(s, 16, 0, "");
	so_recv_expect(s, 16, 0, "");
	char ch;
	g_assert_cmpint(us_read(s, &ch, 1), ==, 0);
	/* The other direction still works. */
	so_send_str(s, "last words");
	so_recv_expect(c, 32, 0, "last words");
	g_assert_cmpint(so_poll(c, POLLIN | POLLOUT, 0), ==, POLLOUT);
	sh_close(s); /* its close releases its side: c sees EOF */
	so_recv_expect(c, 32, 0, "");
	g_assert_cmpint(so_poll(c, POLLIN, 0), ==, POLLIN | POLLHUP);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

/* T_DISCON_IND: the data first, then ECONNRESET once, then EOF. */
static void
test_stream_discon_reset(void)
{
	SoFx fx;
	so_init(&fx);
	int l, c, s;
	so_connection(&fx, 8801, &l, &c, &s);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	g_assert_cmpint(us_setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), ==, 0);
	so_send_str(s, "xy");
	sh_close(s);
	g_assert_cmpuint(fx.cfg->discon_sent, ==, 1);
	g_assert_cmpint(so_poll(c, POLLIN, 0), ==, POLLIN | POLLERR | POLLHUP);
	so_recv_expect(c, 16, 0, "xy");
	char ch;
	sh_assert_fails(us_recv(c, &ch, 1, 0), ECONNRESET);
	g_assert_cmpint(us_recv(c, &ch, 1, 0), ==, 0);
	sh_assert_fails(us_send(c, "x", 1, 0), EPIPE);
	struct sockaddr_in p;
	socklen_t len = sizeof p;
	sh_assert_fails(us_getpeername(c, (struct sockaddr *)&p, &len), ENOTCONN);
	sh_assert_fails(so_connect(c, "127.0.0.1", 8801), EISCONN);
	/* The pending error goes to whichever call comes first. */
	int c2, s2;
	c2 = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_connect(c2, "127.0.0.1", 8801), ==, 0);
	s2 = us_accept(l, NULL, NULL);
	g_assert_cmpint(s2, >=, 0);
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	g_assert_cmpint(us_connect(s2, &unspec, sizeof unspec), ==, 0); /* T_DISCON_REQ */
	sh_assert_fails(us_send(c2, "x", 1, 0), ECONNRESET);
	sh_assert_fails(us_send(c2, "x", 1, 0), EPIPE);
	g_assert_cmpint(us_recv(c2, &ch, 1, 0), ==, 0);
	sh_close(s2);
	sh_close(c2);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

/* The transport's T_DATA_IND is data like M_DATA. */
static void
test_stream_data_ind(void)
{
	SoFx fx;
	so_init(&fx);
	fx.cfg->data_as_ind = TRUE;
	int l, c, s;
	so_connection(&fx, 8901, &l, &c, &s);
	so_send_str(c, "via ");
	so_send_str(c, "T_DATA_IND");
	so_recv_expect(s, 64, MSG_WAITALL | MSG_DONTWAIT, "via T_DATA_IND");
	sh_close(s);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

/* MSG_OOB: T_EXDATA_REQ, and the last byte of T_EXDATA_IND. */
static void
test_stream_oob(void)
{
	SoFx fx;
	so_init(&fx);
	int l, c, s;
	so_connection(&fx, 9001, &l, &c, &s);
	g_assert_cmpint(us_send(c, "ab", 2, MSG_OOB), ==, 2);
	g_assert_cmpuint(fx.cfg->prims[T_EXDATA_REQ], ==, 1);
	g_assert_cmpint(so_poll(s, POLLIN | POLLPRI, 0), ==, POLLIN | POLLPRI);
	so_recv_expect(s, 8, 0, "a");
	char ch = 0;
	struct iovec iov = { &ch, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	g_assert_cmpint(us_recvmsg(s, &m, MSG_OOB | MSG_PEEK), ==, 1);
	g_assert_cmpint(ch, ==, 'b');
	g_assert_cmpint(us_recvmsg(s, &m, MSG_OOB), ==, 1);
	g_assert_cmpint(ch, ==, 'b');
	g_assert_cmpint(m.msg_flags, ==, MSG_OOB);
	sh_assert_fails(us_recv(s, &ch, 1, MSG_OOB), EINVAL);
	g_assert_cmpint(so_poll(s, POLLIN | POLLPRI, 0), ==, 0);
	sh_close(s);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

/* Data sent before accept waits for the acceptor, EOF included. */
static void
test_stream_data_before_accept(void)
{
	SoFx fx;
	so_init(&fx);
	int l = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_bind(l, "127.0.0.1", 9101), ==, 0);
	g_assert_cmpint(us_listen(l, 2), ==, 0);
	int c = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_connect(c, "127.0.0.1", 9101), ==, 0);
	so_send_str(c, "early");
	sh_close(c);
	int s = us_accept(l, NULL, NULL);
	g_assert_cmpint(s, >=, 0);
	so_recv_expect(s, 16, 0, "early");
	so_recv_expect(s, 16, 0, "");
	sh_close(s);
	sh_close(l);
	so_fini(&fx);
}

/* Closing a listener with indications waiting resets their clients;
 * closing sockets frees everything (the fixture checks). */
static void
test_stream_close_listener(void)
{
	SoFx fx;
	so_init(&fx);
	int l = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_bind(l, "127.0.0.1", 9201), ==, 0);
	g_assert_cmpint(us_listen(l, 2), ==, 0);
	int c = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_connect(c, "127.0.0.1", 9201), ==, 0);
	sh_close(l);
	char ch;
	sh_assert_fails(us_recv(c, &ch, 1, 0), ECONNRESET);
	sh_close(c);
	so_fini(&fx);
}

/* T_DISCON_IND with a SEQ_number withdraws a waiting T_CONN_IND. */
static void
test_stream_conind_withdrawn(void)
{
	SoFx fx;
	so_init(&fx);
	int l = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_bind(l, "127.0.0.1", 9251), ==, 0);
	g_assert_cmpint(us_listen(l, 2), ==, 0);
	int c = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_connect(c, "127.0.0.1", 9251), ==, 0);
	g_assert_cmpint(so_poll(l, POLLIN, 0), ==, POLLIN);
	mblk_t *di = allocb(sizeof(struct T_discon_ind), BPRI_HI);
	DB_TYPE(di) = M_PROTO;
	struct T_discon_ind d = { T_DISCON_IND, ECONNRESET, 1 /* the first SEQ */ };
	memcpy(di->b_wptr, &d, sizeof d);
	di->b_wptr += sizeof d;
	sh_inject_up(l, di);
	g_assert_cmpuint(so_stats(l).conind_withdrawn, ==, 1);
	g_assert_cmpint(so_poll(l, POLLIN, 0), ==, 0);
	g_assert_cmpint(us_fcntl(l, F_SETFL, O_NONBLOCK), ==, 0);
	sh_assert_fails(us_accept(l, NULL, NULL), EAGAIN);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

/* M_HANGUP: reads see EOF once the data is read, sends fail. */
static void
test_stream_hangup(void)
{
	SoFx fx;
	so_init(&fx);
	int l, c, s;
	so_connection(&fx, 9261, &l, &c, &s);
	so_send_str(s, "end");
	mblk_t *hup = allocb(0, BPRI_HI);
	DB_TYPE(hup) = M_HANGUP;
	sh_inject_up(c, hup);
	g_assert_cmpint(so_poll(c, POLLIN, 0) & (POLLIN | POLLHUP), ==, POLLIN | POLLHUP);
	so_recv_expect(c, 8, 0, "end");
	so_recv_expect(c, 8, 0, "");
	sh_assert_fails(us_send(c, "x", 1, 0), ENXIO);
	sh_close(s);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

/* M_ERROR from below fails calls with its errno. */
static void
test_stream_m_error(void)
{
	SoFx fx;
	so_init(&fx);
	int l, c, s;
	so_connection(&fx, 9301, &l, &c, &s);
	sh_inject_up(c, sh_error_msg(EIO, EIO));
	char ch;
	sh_assert_fails(us_recv(c, &ch, 1, 0), EIO);
	sh_assert_fails(us_send(c, "x", 1, 0), EIO);
	sh_assert_fails(us_shutdown(c, SHUT_WR), EIO);
	int v = 1;
	sh_assert_fails(us_setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v), EIO);
	sh_close(s);
	sh_close(c);
	sh_close(l);
	so_fini(&fx);
}

/* An acknowledgement no request waits for is dropped and counted; other
 * unexpected primitives too. */
static void
test_unexpected_primitives(void)
{
	SoFx fx;
	so_init(&fx);
	int a = so_socket(&fx, SOCK_DGRAM);
	mblk_t *ok = allocb(sizeof(struct T_ok_ack), BPRI_HI);
	DB_TYPE(ok) = M_PCPROTO;
	struct T_ok_ack oa = { T_OK_ACK, T_BIND_REQ };
	memcpy(ok->b_wptr, &oa, sizeof oa);
	ok->b_wptr += sizeof oa;
	sh_inject_up(a, ok);
	mblk_t *ci = allocb(sizeof(struct T_conn_ind), BPRI_HI);
	DB_TYPE(ci) = M_PROTO;
	struct T_conn_ind cind = { .PRIM_type = T_CONN_IND };
	memcpy(ci->b_wptr, &cind, sizeof cind);
	ci->b_wptr += sizeof cind;
	sh_inject_up(a, ci);
	UsSocketStats st = so_stats(a);
	g_assert_cmpuint(st.late_acks, ==, 1);
	g_assert_cmpuint(st.unexpected, ==, 1);
	/* The socket still works. */
	g_assert_cmpint(so_bind(a, "127.0.0.1", 9401), ==, 0);
	sh_close(a);
	so_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */

static void
test_opt_passthrough(void)
{
	SoFx fx;
	so_init(&fx);
	int d = so_socket(&fx, SOCK_DGRAM), s = so_socket(&fx, SOCK_STREAM);
	g_assert_cmpint(so_getint(d, SOL_SOCKET, SO_RCVBUF), ==, 65536);
	g_assert_cmpint(so_setint(d, SOL_SOCKET, SO_RCVBUF, 1234), ==, 0);
	g_assert_cmpint(so_getint(d, SOL_SOCKET, SO_RCVBUF), ==, 1234);
	g_assert_cmpint(so_setint(d, SOL_SOCKET, SO_REUSEADDR, 1), ==, 0);
	g_assert_cmpint(so_getint(d, SOL_SOCKET, SO_REUSEADDR), ==, 1);
	g_assert_cmpint(so_setint(d, SOL_SOCKET, SO_BROADCAST, 1), ==, 0);
	g_assert_cmpint(so_getint(d, IPPROTO_IP, IP_TTL), ==, 64);
	g_assert_cmpint(so_setint(d, IPPROTO_IP, IP_TTL, 200), ==, 0);
	g_assert_cmpint(so_getint(d, IPPROTO_IP, IP_TTL), ==, 200);
	sh_assert_fails(so_setint(d, IPPROTO_IP, IP_TTL, 0), EINVAL); /* TSYSERR EINVAL */
	/* IP options take one byte too, widened to an int. */
	unsigned char tos = 0x10;
	g_assert_cmpint(us_setsockopt(d, IPPROTO_IP, IP_TOS, &tos, 1), ==, 0);
	g_assert_cmpint(so_getint(d, IPPROTO_IP, IP_TOS), ==, 0x10);
	/* A short buffer gets the start of the value. */
	short half = 0;
	socklen_t len = sizeof half;
	g_assert_cmpint(us_getsockopt(d, SOL_SOCKET, SO_RCVBUF, &half, &len), ==, 0);
	g_assert_cmpuint(len, ==, sizeof half);
	g_assert_cmpint(half, ==, 1234);
	struct linger lg = { 1, 5 }, lg2 = { 0 };
	g_assert_cmpint(us_setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), ==, 0);
	len = sizeof lg2;
	g_assert_cmpint(us_getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &len), ==, 0);
	g_assert_cmpint(lg2.l_onoff, ==, 1);
	g_assert_cmpint(lg2.l_linger, ==, 5);
	g_assert_cmpint(so_setint(s, IPPROTO_TCP, TCP_NODELAY, 1), ==, 0);
	g_assert_cmpint(so_getint(s, IPPROTO_TCP, TCP_NODELAY), ==, 1);
	sh_assert_fails(so_setint(d, IPPROTO_TCP, TCP_NODELAY, 1), ENOPROTOOPT);
	g_assert_cmpuint(fx.cfg->prims[T_SVR4_OPTMGMT_REQ], ==, 18);
	sh_close(d);
	sh_close(s);
	so_fini(&fx);
}

static void
test_opt_errors(void)
{
	SoFx fx;
	so_init(&fx);
	int d = so_socket(&fx, SOCK_DGRAM);
	int v = 1;
	socklen_t len = sizeof v;
	sh_assert_fails(so_setint(d, SOL_SOCKET, 9999, 1), ENOPROTOOPT);
	sh_assert_fails(so_setint(d, 4242, 1, 1), ENOPROTOOPT);
	sh_assert_fails(us_getsockopt(d, SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
	sh_assert_fails(us_setsockopt(d, SOL_SOCKET, SO_RCVBUF, &v, 2), EINVAL);
	sh_assert_fails(us_setsockopt(d, SOL_SOCKET, SO_LINGER, &v, sizeof v), EINVAL);
	sh_assert_fails(us_setsockopt(d, IPPROTO_TCP, TCP_NODELAY, &v, 1), EINVAL);
	sh_assert_fails(us_setsockopt(d, IPPROTO_IP, IP_TTL, &v, 0), EINVAL);
	sh_assert_fails(us_setsockopt(d, SOL_SOCKET, SO_RCVBUF, NULL, sizeof v), EFAULT);
	sh_assert_fails(us_getsockopt(d, SOL_SOCKET, SO_RCVBUF, &v, NULL), EFAULT);
	sh_assert_fails(us_getsockopt(d, SOL_SOCKET, SO_RCVBUF, NULL, &len), EFAULT);
	len = (socklen_t)-1;
	sh_assert_fails(us_getsockopt(d, SOL_SOCKET, SO_RCVBUF, &v, &len), EINVAL);
	sh_assert_fails(us_setsockopt(d, SOL_SOCKET, SO_RCVBUF, &v, (socklen_t)-1), EINVAL);
	/* Options of the library are read-only but SO_RCVTIMEO/SO_SNDTIMEO. */
	sh_assert_fails(so_setint(d, SOL_SOCKET, SO_TYPE, SOCK_STREAM), ENOPROTOOPT);
	sh_assert_fails(so_setint(d, SOL_SOCKET, SO_ERROR, 0), ENOPROTOOPT);
	sh_assert_fails(so_setint(d, SOL_SOCKET, SO_ACCEPTCONN, 1), ENOPROTOOPT);
	/* TLI errors of option requests. */
	fx.cfg->fail_prim = T_SVR4_OPTMGMT_REQ;
	fx.cfg->fail_tli = TACCES;
	sh_assert_fails(so_setint(d, SOL_SOCKET, SO_RCVBUF, 1), EACCES);
	fx.cfg->fail_prim = T_SVR4_OPTMGMT_REQ;
	fx.cfg->fail_tli = TSYSERR;
	fx.cfg->fail_unix = ENOMEM;
	len = sizeof v;
	sh_assert_fails(us_getsockopt(d, SOL_SOCKET, SO_RCVBUF, &v, &len), ENOMEM);
	fx.cfg->fail_prim = T_SVR4_OPTMGMT_REQ;
	fx.cfg->fail_tli = TNOTSUPPORT;
	sh_assert_fails(so_setint(d, SOL_SOCKET, SO_RCVBUF, 1), ENOPROTOOPT);
	sh_close(d);
	so_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* A world with a thread of its own                                   */
/* ------------------------------------------------------------------ */

typedef struct {
	int fd;
	const char *text;
} LateDgram;

static gpointer
late_dgram(gpointer data)
{
	LateDgram *d = data;
	g_usleep(20000);
	g_assert_cmpint(us_send(d->fd, d->text, strlen(d->text), 0), ==, (gssize)strlen(d->text));
	return NULL;
}

static void
test_threaded_world_blocking_recv(void)
{
	SoFx fx;
	sh_init(&fx.sh, US_CLOCK_REAL);
	us_socket_transport_reset();
	g_assert_cmpint(us_socket_transport_add(AF_INET, SOCK_DGRAM, 0, TPITEST_DG), ==, 0);
	g_assert_cmpint(us_socket_transport_add(AF_INET, SOCK_STREAM, 0, TPITEST_ST), ==, 0);
	g_assert_true(us_world_start_thread(fx.sh.world, NULL));
	int a, b;
	so_dgram_pair(&fx, &a, 9501, &b, 9502);
	g_assert_cmpint(so_connect(a, "127.0.0.1", 9502), ==, 0);
	LateDgram d = { a, "wake" };
	GThread *t = g_thread_new("sender", late_dgram, &d);
	so_recv_expect(b, 16, 0, "wake"); /* sleeps until the datagram comes */
	g_thread_join(t);
	/* A connection and a timeout on the real clock. */
	int l, c, s;
	so_connection(&fx, 9503, &l, &c, &s);
	so_send_str(c, "threaded");
	so_recv_expect(s, 8, MSG_WAITALL, "threaded");
	struct timeval tv = { .tv_usec = 30000 };
	g_assert_cmpint(us_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
	char ch;
	sh_assert_fails(us_recv(s, &ch, 1, 0), EAGAIN);
	sh_close(s);
	sh_close(c);
	sh_close(l);
	sh_close(a);
	sh_close(b);
	so_fini(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sh_register();
	tpitest_register();
	g_test_add_func("/socket/table/defaults", test_table_defaults);
	g_test_add_func("/socket/table/add-remove", test_table_add_remove);
	g_test_add_func("/socket/table/threads", test_table_threads);
	g_test_add_func("/socket/create/errors", test_create_errors);
	g_test_add_func("/socket/create/info", test_create_info);
	g_test_add_func("/socket/create/raw-prototype", test_create_raw_prototype);
	g_test_add_func("/socket/create/notsock-ebadf", test_create_notsock_ebadf);
	g_test_add_func("/socket/bind/names", test_bind_names);
	g_test_add_func("/socket/bind/tli-errors", test_bind_tli_errors);
	g_test_add_func("/socket/dgram/sendto-recvfrom", test_dgram_sendto_recvfrom);
	g_test_add_func("/socket/dgram/autobind", test_dgram_autobind);
	g_test_add_func("/socket/dgram/connected", test_dgram_connected);
	g_test_add_func("/socket/dgram/emsgsize", test_dgram_emsgsize);
	g_test_add_func("/socket/dgram/peek-trunc", test_dgram_peek_trunc);
	g_test_add_func("/socket/dgram/nonblocking", test_dgram_nonblocking);
	g_test_add_func("/socket/dgram/rcvtimeo", test_dgram_rcvtimeo);
	g_test_add_func("/socket/dgram/rcvtimeo-data-first", test_dgram_rcvtimeo_data_first);
	g_test_add_func("/socket/dgram/uderror-pending", test_dgram_uderror);
	g_test_add_func("/socket/dgram/shutdown", test_dgram_shutdown);
	g_test_add_func("/socket/dgram/eopnotsupp", test_dgram_not_for_datagrams);
	g_test_add_func("/socket/stream/connect-accept", test_stream_connect_accept);
	g_test_add_func("/socket/stream/accept-errors", test_stream_accept_errors);
	g_test_add_func("/socket/stream/refused-retry", test_stream_refused_and_retry);
	g_test_add_func("/socket/stream/nonblocking-connect", test_stream_nonblocking_connect);
	g_test_add_func("/socket/stream/connect-sndtimeo", test_stream_connect_sndtimeo);
	g_test_add_func("/socket/stream/not-connected", test_stream_not_connected);
	g_test_add_func("/socket/stream/listen-rebind", test_stream_listen_rebind);
	g_test_add_func("/socket/stream/send-split-waitall", test_stream_send_split_waitall);
	g_test_add_func("/socket/stream/peek-waitall-eof", test_stream_peek_waitall_eof);
	g_test_add_func("/socket/stream/ordrel-eof", test_stream_ordrel);
	g_test_add_func("/socket/stream/discon-reset", test_stream_discon_reset);
	g_test_add_func("/socket/stream/data-ind", test_stream_data_ind);
	g_test_add_func("/socket/stream/oob", test_stream_oob);
	g_test_add_func("/socket/stream/data-before-accept", test_stream_data_before_accept);
	g_test_add_func("/socket/stream/close-listener", test_stream_close_listener);
	g_test_add_func("/socket/stream/conind-withdrawn", test_stream_conind_withdrawn);
	g_test_add_func("/socket/stream/hangup", test_stream_hangup);
	g_test_add_func("/socket/stream/m-error", test_stream_m_error);
	g_test_add_func("/socket/unexpected-primitives", test_unexpected_primitives);
	g_test_add_func("/socket/opt/passthrough", test_opt_passthrough);
	g_test_add_func("/socket/opt/errors", test_opt_errors);
	g_test_add_func("/socket/threaded-world/blocking-recv", test_threaded_world_blocking_recv);
	return g_test_run();
}
