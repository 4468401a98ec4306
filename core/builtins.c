/* SPDX-License-Identifier: MIT */
/* builtins.c -- registers the drivers and modules built into the library. */
#include "internal.h"

extern const UsModuleDesc us_echo_desc;
extern const UsModuleDesc us_null_desc;
extern const UsModuleDesc us_loop_desc;
extern const UsModuleDesc us_pass_desc;
extern const UsModuleDesc us_snoop_desc;
extern const UsModuleDesc us_filter_desc;
extern const UsModuleDesc us_strhead_desc;
extern const UsModuleDesc us_testmux_desc;
extern const UsModuleDesc us_wire_desc;
extern const UsModuleDesc us_pcap_desc;
extern const UsModuleDesc us_ether_desc;
extern const UsModuleDesc us_tap_desc;
extern const UsModuleDesc us_afpacket_desc;
extern const UsModuleDesc us_lo_desc;
extern const UsModuleDesc us_arp_desc;
extern const UsModuleDesc us_udp_desc;
extern const UsModuleDesc us_icmp_desc;
extern const UsModuleDesc us_ip_desc;
extern const UsModuleDesc us_tcp_desc;
extern const UsModuleDesc us_nat_desc;
extern const UsModuleDesc us_impair_desc;
extern const UsModuleDesc us_ratelimit_desc;

static const UsModuleDesc *const us_builtin_descs[] = {
#ifdef US_HAVE_ECHO
	&us_echo_desc,
#endif
#ifdef US_HAVE_NULL
	&us_null_desc,
#endif
#ifdef US_HAVE_LOOP
	&us_loop_desc,
#endif
#ifdef US_HAVE_PASS
	&us_pass_desc,
#endif
#ifdef US_HAVE_SNOOP
	&us_snoop_desc,
#endif
#ifdef US_HAVE_FILTER
	&us_filter_desc,
#endif
#ifdef US_HAVE_WIRE
	&us_wire_desc,
#endif
#ifdef US_HAVE_PCAP
	&us_pcap_desc,
#endif
#ifdef US_HAVE_ETHER
	&us_ether_desc,
#endif
#ifdef US_HAVE_ARP
	&us_arp_desc,
#endif
#ifdef US_HAVE_IP
	&us_ip_desc,
#endif
#ifdef US_HAVE_TAP
	&us_tap_desc,
#endif
#ifdef US_HAVE_AFPACKET
	&us_afpacket_desc,
#endif
#ifdef US_HAVE_LO
	&us_lo_desc,
#endif
#ifdef US_HAVE_UDP
	&us_udp_desc,
#endif
#ifdef US_HAVE_ICMP
	&us_icmp_desc,
#endif
#ifdef US_HAVE_TCP
	&us_tcp_desc,
#endif
#ifdef US_HAVE_NAT
	&us_nat_desc,
#endif
#ifdef US_HAVE_IMPAIR
	&us_impair_desc,
#endif
#ifdef US_HAVE_RATELIMIT
	&us_ratelimit_desc,
#endif
	&us_strhead_desc, &us_testmux_desc, NULL,
};

void
us__registry_register_builtins(void)
{
	for (guint i = 0; us_builtin_descs[i]; i++) {
		GError *error = NULL;
		if (!us__registry_add(us_builtin_descs[i], &error))
			g_error("built-in %s: %s", us_builtin_descs[i]->name, error->message);
	}
}
