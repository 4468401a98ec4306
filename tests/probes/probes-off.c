/* SPDX-License-Identifier: MIT */
/*
 * probes-off.c -- probes compiled without US_HAVE_SDT (meson passes
 * -UUS_HAVE_SDT for this file): they must generate no code, evaluate no
 * argument, and still count as uses of the variables they name (this file
 * is built with the project's warnings).
 */
#include <glib.h>
#include <ustreams/probes.h>

#if defined(US_HAVE_SDT)
#error "probes-off.c must be compiled without US_HAVE_SDT"
#endif

int probes_off_evaluations(void);
int probes_off_enabled(void);

US_PROBE_SEMAPHORE(ustest, off);

int
probes_off_evaluations(void)
{
	int evaluations = 0;
	const char *only_a_probe_reads_this = "unused otherwise";
	US_PROBE0(ustest, off);
	US_PROBE1(ustest, off, ++evaluations);
	US_PROBE3(ustest, off, ++evaluations, only_a_probe_reads_this, g_strdup("leak"));
	US_PROBE10(ustest, off, ++evaluations, 2, 3, 4, 5, 6, 7, 8, 9, ++evaluations);
	return evaluations;
}

int
probes_off_enabled(void)
{
	return US_PROBE_ENABLED(ustest, off) || US_PROBE_ENABLED(tcp, state__change);
}
