/* SPDX-License-Identifier: MIT */
/*
 * socket-table.c -- the transport table: which driver us_socket() opens for
 * (domain, type, protocol), like Solaris' soconfig table and Linux's inetsw.
 *
 * Theory
 * ------
 * One process-wide list of entries under a mutex, filled with the defaults
 * on first use.  Lookup (Linux inet_create's rules):
 *   1. an entry for exactly (domain, type, protocol);
 *   2. protocol 0: nothing more (an entry for 0 is the type's default);
 *      otherwise an entry (domain, type, US_SOCKET_PROTO_ANY);
 *   3. no match: EAFNOSUPPORT when no entry has the domain, ESOCKTNOSUPPORT
 *      when none has the type, else EPROTONOSUPPORT.
 * For protocol 0 the protocol reported by SO_PROTOCOL is that of the one
 * exact entry of the same domain, type and driver (IPPROTO_UDP for "udp"),
 * as Linux reports the answer's protocol.
 *
 * Deviations: the table is per process, not per stack.
 */
#define G_LOG_DOMAIN "us-socket"

#include "socket-internal.h"

#include <errno.h>

typedef struct {
	int te_domain;
	int te_type;
	int te_protocol; /* exact, 0 or US_SOCKET_PROTO_ANY */
	char *te_driver;
} SockEntry;

static GMutex table_lock;
static GPtrArray *table; /* SockEntry*, NULL until first use */

/* Linux's SOCK_MAX: types are 1 .. 10. */
#define SOCK_TYPE_MAX 10

static void
entry_free(gpointer p)
{
	SockEntry *e = p;
	g_free(e->te_driver);
	g_free(e);
}

static SockEntry *
table_find_exact(int domain, int type, int protocol)
{
	for (guint i = 0; i < table->len; i++) {
		SockEntry *e = table->pdata[i];
		if (e->te_domain == domain && e->te_type == type && e->te_protocol == protocol)
			return e;
	}
	return NULL;
}

static void
table_put(int domain, int type, int protocol, const char *driver)
{
	SockEntry *e = table_find_exact(domain, type, protocol);
	if (e == NULL) {
		e = g_new0(SockEntry, 1);
		e->te_domain = domain;
		e->te_type = type;
		e->te_protocol = protocol;
		g_ptr_array_add(table, e);
	}
	g_free(e->te_driver);
	e->te_driver = g_strdup(driver);
}

static void
table_defaults(void)
{
	table_put(AF_INET, SOCK_DGRAM, IPPROTO_UDP, "udp");
	table_put(AF_INET, SOCK_DGRAM, 0, "udp");
	table_put(AF_INET, SOCK_STREAM, IPPROTO_TCP, "tcp");
	table_put(AF_INET, SOCK_STREAM, 0, "tcp");
	table_put(AF_INET, SOCK_RAW, US_SOCKET_PROTO_ANY, "icmp");
}

/* Locks the table, creating it with the defaults the first time. */
static void
table_lock_init(void)
{
	g_mutex_lock(&table_lock);
	if (table == NULL) {
		table = g_ptr_array_new_with_free_func(entry_free);
		table_defaults();
	}
}

int
us_socket_transport_add(int domain, int type, int protocol, const char *driver)
{
	if (driver == NULL || *driver == '\0' || type <= 0 || type > SOCK_TYPE_MAX || domain < 0 ||
	    protocol < US_SOCKET_PROTO_ANY)
		return us__errno_ret(-EINVAL);
	table_lock_init();
	table_put(domain, type, protocol, driver);
	g_mutex_unlock(&table_lock);
	return 0;
}

int
us_socket_transport_remove(int domain, int type, int protocol)
{
	table_lock_init();
	SockEntry *e = table_find_exact(domain, type, protocol);
	if (e != NULL)
		g_ptr_array_remove(table, e);
	g_mutex_unlock(&table_lock);
	return e != NULL ? 0 : us__errno_ret(-ENOENT);
}

void
us_socket_transport_reset(void)
{
	table_lock_init();
	g_ptr_array_set_size(table, 0);
	table_defaults();
	g_mutex_unlock(&table_lock);
}

/* Why nothing matched (table locked). */
static int
table_miss(int domain, int type)
{
	gboolean domain_known = FALSE;
	for (guint i = 0; i < table->len; i++) {
		SockEntry *e = table->pdata[i];
		if (e->te_domain != domain)
			continue;
		domain_known = TRUE;
		if (e->te_type == type)
			return -EPROTONOSUPPORT;
	}
	return domain_known ? -ESOCKTNOSUPPORT : -EAFNOSUPPORT;
}

/* The protocol SO_PROTOCOL reports for a socket opened with protocol 0. */
static int
table_default_protocol(int domain, int type, const char *driver)
{
	int found = 0;
	for (guint i = 0; i < table->len; i++) {
		SockEntry *e = table->pdata[i];
		if (e->te_domain != domain || e->te_type != type || e->te_protocol <= 0 ||
		    g_strcmp0(e->te_driver, driver) != 0)
			continue;
		if (found != 0)
			return 0; /* ambiguous */
		found = e->te_protocol;
	}
	return found;
}

int
us__sock_table_find(int domain, int type, int protocol, char **driver, int *proto_out)
{
	table_lock_init();
	SockEntry *e = table_find_exact(domain, type, protocol);
	if (e == NULL && protocol != 0 && protocol != US_SOCKET_PROTO_ANY)
		e = table_find_exact(domain, type, US_SOCKET_PROTO_ANY);
	int r = 0;
	if (e == NULL || protocol == US_SOCKET_PROTO_ANY) {
		r = table_miss(domain, type);
	} else {
		*driver = g_strdup(e->te_driver);
		*proto_out = protocol != 0 ? protocol
					   : table_default_protocol(domain, type, e->te_driver);
	}
	g_mutex_unlock(&table_lock);
	return r;
}

char *
us_socket_transport_lookup(int domain, int type, int protocol)
{
	char *driver = NULL;
	int proto;
	int r = us__sock_table_find(domain, type, protocol, &driver, &proto);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return driver;
}
