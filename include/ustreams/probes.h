/* SPDX-License-Identifier: MIT */
/*
 * probes.h -- static probes (USDT) at the points DTrace's network providers
 * use, readable by bpftrace, perf, SystemTap and bcc.  The probes, their
 * arguments and examples are in docs/probes.md.
 *
 * US_PROBEn(provider, name, arg1, ..., argn) marks a probe site.  With
 * US_HAVE_SDT defined to 1 (the meson option `probes`, on when sys/sdt.h from
 * systemtap-sdt-dev is found) it becomes a STAP_PROBEn from <sys/sdt.h>: an
 * ELF note (.note.stapsdt) naming the probe and where its arguments are, a
 * nop at the site, and a semaphore the tracer raises while it is attached.
 * The site tests the semaphore first (one load and a not-taken branch), so
 * the arguments are only computed while somebody listens.  Without
 * US_HAVE_SDT every US_PROBEn generates no code and its arguments are not
 * evaluated (they only appear under sizeof, so that a variable a probe alone
 * reads is not reported unused; a probe argument cannot be a bit-field).
 *
 * Names: a C identifier cannot hold '-', so DTrace's `tcp:::state-change` is
 * written state__change here and appears so in the ELF note, as dtrace -h
 * and SystemTap's dtrace(1) spell it (bpftrace: usdt:...:tcp:state__change).
 *
 * Semaphores: each probe name needs one, `provider_name_semaphore`, defined
 * by US_PROBE_SEMAPHORE(provider, name) at file scope.  The definitions are
 * weak and hidden, so the same line may appear in any number of files: each
 * ELF object (libustreams.so, a test program that compiles a module's files
 * itself, a plug-in) ends up with one semaphore of its own, which is what the
 * notes of that object point at.  This header defines the semaphores of the
 * probes of ustreams itself; an out-of-tree module adding a provider of its
 * own defines its semaphores the same way.
 *
 * Installed, but probes are compiled in only where US_HAVE_SDT is defined:
 * a module built out of tree that wants them defines it (and needs
 * sys/sdt.h).
 */
#ifndef USTREAMS_PROBES_H
#define USTREAMS_PROBES_H

#if defined(US_HAVE_SDT) && US_HAVE_SDT

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

#define US_PROBE_SEMAPHORE(provider, name)                                 \
	__extension__ extern unsigned short provider##_##name##_semaphore; \
	__extension__ unsigned short provider##_##name##_semaphore         \
		__attribute__((weak, visibility("hidden"), section(".probes")))

/* TRUE while a tracer is attached to the probe. */
#define US_PROBE_ENABLED(provider, name) \
	((int)__builtin_expect(provider##_##name##_semaphore != 0, 0))

#define US__PROBE_IF(provider, name, probe)           \
	do {                                          \
		if (US_PROBE_ENABLED(provider, name)) \
			probe;                        \
	} while (0)

#define US_PROBE0(p, n) US__PROBE_IF(p, n, STAP_PROBE(p, n))
#define US_PROBE1(p, n, a1) US__PROBE_IF(p, n, STAP_PROBE1(p, n, a1))
#define US_PROBE2(p, n, a1, a2) US__PROBE_IF(p, n, STAP_PROBE2(p, n, a1, a2))
#define US_PROBE3(p, n, a1, a2, a3) US__PROBE_IF(p, n, STAP_PROBE3(p, n, a1, a2, a3))
#define US_PROBE4(p, n, a1, a2, a3, a4) US__PROBE_IF(p, n, STAP_PROBE4(p, n, a1, a2, a3, a4))
#define US_PROBE5(p, n, a1, a2, a3, a4, a5) \
	US__PROBE_IF(p, n, STAP_PROBE5(p, n, a1, a2, a3, a4, a5))
#define US_PROBE6(p, n, a1, a2, a3, a4, a5, a6) \
	US__PROBE_IF(p, n, STAP_PROBE6(p, n, a1, a2, a3, a4, a5, a6))
#define US_PROBE7(p, n, a1, a2, a3, a4, a5, a6, a7) \
	US__PROBE_IF(p, n, STAP_PROBE7(p, n, a1, a2, a3, a4, a5, a6, a7))
#define US_PROBE8(p, n, a1, a2, a3, a4, a5, a6, a7, a8) \
	US__PROBE_IF(p, n, STAP_PROBE8(p, n, a1, a2, a3, a4, a5, a6, a7, a8))
#define US_PROBE9(p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9) \
	US__PROBE_IF(p, n, STAP_PROBE9(p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9))
#define US_PROBE10(p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) \
	US__PROBE_IF(p, n, STAP_PROBE10(p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10))

#else /* no probes: no code, and no argument is evaluated */

/* sizeof names the arguments without evaluating them, so a variable that
 * only a probe reads does not turn into an "unused" warning. */
#define US__PROBE_ARGS1(a1) sizeof(a1)
#define US__PROBE_ARGS2(a1, a2) sizeof(a1) + sizeof(a2)
#define US__PROBE_ARGS3(a1, a2, a3) US__PROBE_ARGS2(a1, a2) + sizeof(a3)
#define US__PROBE_ARGS4(a1, a2, a3, a4) US__PROBE_ARGS3(a1, a2, a3) + sizeof(a4)
#define US__PROBE_ARGS5(a1, a2, a3, a4, a5) US__PROBE_ARGS4(a1, a2, a3, a4) + sizeof(a5)
#define US__PROBE_ARGS6(a1, a2, a3, a4, a5, a6) US__PROBE_ARGS5(a1, a2, a3, a4, a5) + sizeof(a6)
#define US__PROBE_ARGS7(a1, a2, a3, a4, a5, a6, a7) \
	US__PROBE_ARGS6(a1, a2, a3, a4, a5, a6) + sizeof(a7)
#define US__PROBE_ARGS8(a1, a2, a3, a4, a5, a6, a7, a8) \
	US__PROBE_ARGS7(a1, a2, a3, a4, a5, a6, a7) + sizeof(a8)
#define US__PROBE_ARGS9(a1, a2, a3, a4, a5, a6, a7, a8, a9) \
	US__PROBE_ARGS8(a1, a2, a3, a4, a5, a6, a7, a8) + sizeof(a9)
#define US__PROBE_ARGS10(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) \
	US__PROBE_ARGS9(a1, a2, a3, a4, a5, a6, a7, a8, a9) + sizeof(a10)

#define US_PROBE_SEMAPHORE(provider, name) \
	extern int us__probe_unused_##provider##_##name /* keeps the ';' legal */
#define US_PROBE_ENABLED(provider, name) 0

#define US_PROBE0(p, n) ((void)0)
#define US_PROBE1(p, n, a1) ((void)(US__PROBE_ARGS1(a1)))
#define US_PROBE2(p, n, a1, a2) ((void)(US__PROBE_ARGS2(a1, a2)))
#define US_PROBE3(p, n, a1, a2, a3) ((void)(US__PROBE_ARGS3(a1, a2, a3)))
#define US_PROBE4(p, n, a1, a2, a3, a4) ((void)(US__PROBE_ARGS4(a1, a2, a3, a4)))
#define US_PROBE5(p, n, a1, a2, a3, a4, a5) ((void)(US__PROBE_ARGS5(a1, a2, a3, a4, a5)))
#define US_PROBE6(p, n, a1, a2, a3, a4, a5, a6) ((void)(US__PROBE_ARGS6(a1, a2, a3, a4, a5, a6)))
#define US_PROBE7(p, n, a1, a2, a3, a4, a5, a6, a7) \
	((void)(US__PROBE_ARGS7(a1, a2, a3, a4, a5, a6, a7)))
#define US_PROBE8(p, n, a1, a2, a3, a4, a5, a6, a7, a8) \
	((void)(US__PROBE_ARGS8(a1, a2, a3, a4, a5, a6, a7, a8)))
#define US_PROBE9(p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9) \
	((void)(US__PROBE_ARGS9(a1, a2, a3, a4, a5, a6, a7, a8, a9)))
#define US_PROBE10(p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) \
	((void)(US__PROBE_ARGS10(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10)))

#endif

/* The probes of ustreams (docs/probes.md). */
US_PROBE_SEMAPHORE(streams, put);
US_PROBE_SEMAPHORE(streams, service);
US_PROBE_SEMAPHORE(streams, drop);
US_PROBE_SEMAPHORE(ip, send);
US_PROBE_SEMAPHORE(ip, receive);
US_PROBE_SEMAPHORE(udp, send);
US_PROBE_SEMAPHORE(udp, receive);
US_PROBE_SEMAPHORE(tcp, send);
US_PROBE_SEMAPHORE(tcp, receive);
US_PROBE_SEMAPHORE(tcp, state__change);
US_PROBE_SEMAPHORE(tcp, connect__request);
US_PROBE_SEMAPHORE(tcp, connect__established);
US_PROBE_SEMAPHORE(tcp, accept__established);

#endif
