/* SPDX-License-Identifier: MIT */
/*
 * test-probes.c -- the static probes (docs/probes.md) as they end up in the
 * ELF files, read without privileges: every probe of the summary table in
 * docs/probes.md is in the .note.stapsdt notes of libustreams.so with the
 * documented number of arguments at every site and a semaphore in .probes,
 * and every probe in the notes is documented.  And a probe nobody listens to
 * evaluates none of its arguments, compiled in (the semaphore is 0) and
 * compiled out (probes-off.c, built without US_HAVE_SDT).
 *
 * The notes are parsed here rather than with readelf -n so that the test
 * needs nothing but the library: ELF64 little- or big-endian as built, note
 * type 3 (NT_STAPSDT, owner "stapsdt"), descriptor = probe address, base
 * address and semaphore address (8 bytes each), then provider, name and
 * argument string, each NUL-terminated (SystemTap's "UserSpaceProbeImplementation"
 * wiki page, version 3).
 *
 * Environment (set by meson): US_PROBES_LIB, the library; US_PROBES_DOC,
 * docs/probes.md.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <ustreams/probes.h>

#define NT_STAPSDT 3

/* probes-off.c: the same probes with US_HAVE_SDT undefined. */
int probes_off_evaluations(void);
int probes_off_enabled(void);

/* A provider of the test's own, as an out-of-tree module would add one. */
US_PROBE_SEMAPHORE(ustest, evaluated);

typedef struct {
	char *provider;
	char *name;
	guint nargs;
	guint64 semaphore;
} Note;

typedef struct {
	GArray *notes; /* Note */
	guint64 probes_lo, probes_hi;
	gchar *image;
} Elf;

static void
note_clear(gpointer p)
{
	Note *n = p;
	g_free(n->provider);
	g_free(n->name);
}

static guint
count_args(const char *args)
{
	guint n = 0;
	gchar **v = g_strsplit(args, " ", -1);
	for (guint i = 0; v[i] != NULL; i++)
		n += v[i][0] != '\0';
	g_strfreev(v);
	return n;
}

/* The stapsdt notes of one SHT_NOTE section. */
static void
elf_read_notes(Elf *e, const guint8 *p, gsize size)
{
	gsize off = 0;
	while (off + sizeof(Elf64_Nhdr) <= size) {
		Elf64_Nhdr nh;
		memcpy(&nh, p + off, sizeof nh);
		gsize name_off = off + sizeof nh;
		gsize desc_off = name_off + ((nh.n_namesz + 3) & ~3u);
		gsize next = desc_off + ((nh.n_descsz + 3) & ~3u);
		g_assert_cmpuint(next, <=, size);
		if (nh.n_type == NT_STAPSDT && nh.n_namesz == sizeof "stapsdt" &&
		    memcmp(p + name_off, "stapsdt", sizeof "stapsdt") == 0) {
			const char *d = (const char *)p + desc_off;
			g_assert_cmpuint(nh.n_descsz, >, 3 * 8 + 3);
			g_assert_true(memchr(d + 24, '\0', nh.n_descsz - 24) != NULL);
			Note n = { 0 };
			memcpy(&n.semaphore, d + 16, 8);
			const char *prov = d + 24;
			const char *name = prov + strlen(prov) + 1;
			const char *args = name + strlen(name) + 1;
			g_assert_cmpuint((gsize)(args - d), <=, nh.n_descsz);
			n.provider = g_strdup(prov);
			n.name = g_strdup(name);
			n.nargs = count_args(args);
			g_array_append_val(e->notes, n);
		}
		off = next;
	}
}

static void
elf_open(Elf *e, const char *path)
{
	gsize len = 0;
	GError *error = NULL;
	g_assert_true(g_file_get_contents(path, &e->image, &len, &error));
	g_assert_no_error(error);
	e->notes = g_array_new(FALSE, TRUE, sizeof(Note));
	g_array_set_clear_func(e->notes, note_clear);
	const guint8 *img = (const guint8 *)e->image;
	Elf64_Ehdr eh;
	g_assert_cmpuint(len, >=, sizeof eh);
	memcpy(&eh, img, sizeof eh);
	g_assert_true(memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0);
	g_assert_cmpint(eh.e_ident[EI_CLASS], ==, ELFCLASS64);
	g_assert_cmpuint(eh.e_shentsize, ==, sizeof(Elf64_Shdr));
	g_assert_cmpuint(eh.e_shoff + (guint64)eh.e_shnum * sizeof(Elf64_Shdr), <=, len);
	Elf64_Shdr strtab;
	memcpy(&strtab, img + eh.e_shoff + (gsize)eh.e_shstrndx * sizeof strtab, sizeof strtab);
	for (guint i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		memcpy(&sh, img + eh.e_shoff + (gsize)i * sizeof sh, sizeof sh);
		g_assert_cmpuint(strtab.sh_offset + sh.sh_name, <, len);
		const char *name = (const char *)img + strtab.sh_offset + sh.sh_name;
		if (strcmp(name, ".probes") == 0) {
			e->probes_lo = sh.sh_addr;
			e->probes_hi = sh.sh_addr + sh.sh_size;
		}
		if (sh.sh_type == SHT_NOTE && strcmp(name, ".note.stapsdt") == 0) {
			g_assert_cmpuint(sh.sh_offset + sh.sh_size, <=, len);
			elf_read_notes(e, img + sh.sh_offset, sh.sh_size);
		}
	}
}

static void
elf_close(Elf *e)
{
	g_array_unref(e->notes);
	g_free(e->image);
}

/* Rows of the summary table: "| `ip:::send` | `ip:send` | 8 | ... |". */
static GPtrArray *
doc_probes(void)
{
	const char *path = g_getenv("US_PROBES_DOC");
	g_assert_nonnull(path);
	gchar *text = NULL;
	GError *error = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, &error));
	g_assert_no_error(error);
	GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
	gchar **lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (!g_str_has_prefix(lines[i], "| `") || strstr(lines[i], ":::") == NULL)
			continue;
		gchar **col = g_strsplit(lines[i], "|", -1);
		g_assert_cmpuint(g_strv_length(col), >=, 5);
		gchar *dtrace = g_strstrip(g_strdelimit(col[1], "`", ' '));
		gchar *elf = g_strstrip(g_strdelimit(col[2], "`", ' '));
		/* The ELF name is the DTrace name with '-' written "__". */
		gchar **dn = g_strsplit(dtrace, ":::", 2);
		gchar **parts = g_strsplit(dn[1], "-", -1);
		gchar *joined = g_strjoinv("__", parts);
		gchar *expect = g_strdup_printf("%s:%s", dn[0], joined);
		g_assert_cmpstr(elf, ==, expect);
		g_ptr_array_add(rows, g_strdup_printf("%s:%s", elf, g_strstrip(col[3])));
		g_free(expect);
		g_free(joined);
		g_strfreev(parts);
		g_strfreev(dn);
		g_strfreev(col);
	}
	g_strfreev(lines);
	g_free(text);
	g_assert_cmpuint(rows->len, >=, 13);
	return rows;
}

#if defined(US_HAVE_SDT) && US_HAVE_SDT
#define HAVE_SDT TRUE
#else
#define HAVE_SDT FALSE
#endif

/* FALSE (and the test skipped) when the probes are compiled out. */
static gboolean
have_probes(void)
{
	if (!HAVE_SDT)
		g_test_skip(
			"built with -Dprobes=disabled (or without sys/sdt.h): no notes to check");
	return HAVE_SDT;
}

static void
test_notes_documented(void)
{
	if (!have_probes())
		return;
	Elf e = { 0 };
	elf_open(&e, g_getenv("US_PROBES_LIB"));
	g_assert_cmpuint(e.probes_hi, >, e.probes_lo);
	GPtrArray *rows = doc_probes();
	for (guint i = 0; i < rows->len; i++) {
		gchar **f = g_strsplit(rows->pdata[i], ":", 3); /* provider, name, nargs */
		guint sites = 0;
		for (guint j = 0; j < e.notes->len; j++) {
			const Note *n = &g_array_index(e.notes, Note, j);
			if (strcmp(n->provider, f[0]) != 0 || strcmp(n->name, f[1]) != 0)
				continue;
			sites++;
			g_test_message("%s:%s at a site with %u arguments", f[0], f[1], n->nargs);
			g_assert_cmpuint(n->nargs, ==, (guint)atoi(f[2]));
			g_assert_cmpuint(n->semaphore, >=, e.probes_lo);
			g_assert_cmpuint(n->semaphore, <, e.probes_hi);
		}
		if (sites == 0)
			g_test_fail_printf("%s:%s is documented but not in the notes", f[0], f[1]);
		g_strfreev(f);
	}
	g_ptr_array_unref(rows);
	elf_close(&e);
}

static void
test_notes_complete(void)
{
	if (!have_probes())
		return;
	Elf e = { 0 };
	elf_open(&e, g_getenv("US_PROBES_LIB"));
	GPtrArray *rows = doc_probes();
	g_assert_cmpuint(e.notes->len, >=, rows->len);
	for (guint j = 0; j < e.notes->len; j++) {
		const Note *n = &g_array_index(e.notes, Note, j);
		gchar *key = g_strdup_printf("%s:%s:%u", n->provider, n->name, n->nargs);
		gboolean found = FALSE;
		for (guint i = 0; i < rows->len && !found; i++)
			found = strcmp(rows->pdata[i], key) == 0;
		if (!found)
			g_test_fail_printf("probe %s in the notes is not in docs/probes.md", key);
		g_free(key);
	}
	g_ptr_array_unref(rows);
	elf_close(&e);
}

/* With probes compiled in, a probe reads its semaphore and nothing else. */
static void
test_idle_probe_evaluates_nothing(void)
{
	int evaluations = 0;
	g_assert_false(US_PROBE_ENABLED(ustest, evaluated));
	g_assert_false(US_PROBE_ENABLED(streams, put));
	US_PROBE2(ustest, evaluated, ++evaluations, g_strdup("leaked if evaluated"));
	US_PROBE1(ustest, evaluated, ++evaluations);
	g_assert_cmpint(evaluations, ==, 0);
	if (!HAVE_SDT)
		return;
	/* ... and the test program has a note of its own for it. */
	Elf e = { 0 };
	elf_open(&e, "/proc/self/exe");
	guint sites = 0;
	for (guint j = 0; j < e.notes->len; j++) {
		const Note *n = &g_array_index(e.notes, Note, j);
		g_assert_cmpstr(n->name, !=, "off"); /* probes-off.c has none */
		sites += strcmp(n->provider, "ustest") == 0 && strcmp(n->name, "evaluated") == 0;
	}
	g_assert_cmpuint(sites, ==, 2);
	elf_close(&e);
}

/* Compiled out, a probe is nothing at all. */
static void
test_compiled_out(void)
{
	g_assert_cmpint(probes_off_enabled(), ==, 0);
	g_assert_cmpint(probes_off_evaluations(), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/probes/notes/documented", test_notes_documented);
	g_test_add_func("/probes/notes/complete", test_notes_complete);
	g_test_add_func("/probes/idle/evaluates-nothing", test_idle_probe_evaluates_nothing);
	g_test_add_func("/probes/compiled-out", test_compiled_out);
	return g_test_run();
}
