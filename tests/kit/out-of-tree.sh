#!/bin/sh
# SPDX-License-Identifier: MIT
#
# out-of-tree.sh BUILDDIR SRCDIR -- the plug-in kit, end to end, as a module
# author outside the tree would use it:
#   1. installs this build into a staging directory (meson install --destdir)
#      and makes its ustreams.pc / ustreams-harness.pc point there;
#   2. checks that every installed header compiles on its own with the
#      flags of `pkg-config --cflags ustreams`, and that a program links
#      with `pkg-config --libs ustreams ustreams-harness`;
#   3. configures, builds and tests examples/out-of-tree-module (a separate
#      meson project using dependency('ustreams') and 'ustreams-harness')
#      against the staged install: its harness test loads the plug-in by
#      name from US_MODULE_PATH;
#   4. runs the installed `ustreams check` and `ustreams run --stats` on the
#      example's config, which pushes the plug-in below ether by name.
# Everything happens in a fresh temporary directory (parallel runs do not
# meet); it is removed at the end.  Exits 77 (skipped) when meson, ninja,
# pkg-config or a C compiler is missing.
set -eu

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)

skip() {
	echo "SKIP: $*"
	exit 77
}
for tool in meson ninja pkg-config; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || skip "no C compiler ($cc)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ustreams-kit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
stage=$tmp/stage

echo "== meson install --destdir $stage"
# --no-rebuild: the test runs inside `meson test`, which built everything.
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }

pc=$(find "$stage" -name ustreams.pc | head -n 1)
[ -n "$pc" ] || { echo "ustreams.pc was not installed"; exit 1; }
pcdir=$(dirname "$pc")
[ -f "$pcdir/ustreams-harness.pc" ] || { echo "ustreams-harness.pc was not installed"; exit 1; }
# A DESTDIR install keeps the configured prefix in the .pc files; point them
# at the staging directory (a relocatable build, -Dpkgconfig.relocatable=true,
# would not need this).
prefix=$(sed -n 's/^prefix=//p' "$pc")
for f in "$pcdir"/ustreams*.pc; do
	sed "s|^prefix=.*|prefix=$stage$prefix|" "$f" >"$f.new" && mv "$f.new" "$f"
done
PKG_CONFIG_PATH=$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
libdir=$(pkg-config --variable=libdir ustreams)
moduledir=$(pkg-config --variable=moduledir ustreams)
includedir=$(pkg-config --variable=includedir ustreams)
case $libdir in "$stage"/*) ;; *) echo "libdir $libdir is not staged"; exit 1 ;; esac
case $moduledir in "$libdir"/*) ;; *) echo "moduledir $moduledir is not under $libdir"; exit 1 ;; esac
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH

echo "== pkg-config --cflags --libs ustreams ustreams-harness"
cflags=$(pkg-config --cflags ustreams ustreams-harness)
libs=$(pkg-config --libs ustreams ustreams-harness)
echo "   $cflags $libs"

echo "== every installed header on its own"
for h in stream.h stropts.h dlpi.h tihdr.h registry.h harness.h world.h plumb.h ustreams.h; do
	[ -f "$includedir/ustreams/$h" ] || { echo "missing: ustreams/$h"; exit 1; }
done
[ -n "$(ls "$includedir"/ustreams/modules/*.h 2>/dev/null)" ] ||
	{ echo "missing: the module contracts under ustreams/modules"; exit 1; }
n=0
for h in $(cd "$includedir" && find ustreams -name '*.h' | sort); do
	printf '#include <%s>\nint main(void) { return 0; }\n' "$h" >"$tmp/hdr.c"
	# shellcheck disable=SC2086 # the flags are word lists
	"$cc" -std=c11 -Wall -Wextra -Werror -c "$tmp/hdr.c" -o "$tmp/hdr.o" $cflags ||
		{ echo "$h does not compile on its own"; exit 1; }
	n=$((n + 1))
done
echo "   $n headers"
cat >"$tmp/link.c" <<'C'
#include <ustreams/harness.h>
#include <ustreams/ustreams.h>
int main(void) { us_init(); return us_registry_find("pass") == NULL; }
C
# shellcheck disable=SC2086
"$cc" -std=c11 "$tmp/link.c" -o "$tmp/link" $cflags $libs
"$tmp/link" || { echo "a program linked with pkg-config --libs does not run"; exit 1; }

echo "== examples/out-of-tree-module against the staged install"
ex=$tmp/ttlcount
cp -R "$src/examples/out-of-tree-module" "$ex"
rm -rf "$ex/build"
# Environment of the enclosing meson test must not leak into the nested one.
unset MESON_TESTTHREADS MESONINTROSPECT 2>/dev/null || true
meson setup -Dwerror=true "$ex/build" "$ex" >"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; exit 1; }
meson compile -C "$ex/build" >"$tmp/compile.log" 2>&1 || { cat "$tmp/compile.log"; exit 1; }
wrap=
if [ -n "${US_UNDER_VALGRIND:-}" ] && command -v valgrind >/dev/null 2>&1; then
	wrap="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --quiet --suppressions=$src/.ci/valgrind.supp"
fi
meson test -C "$ex/build" --print-errorlogs ${wrap:+--wrapper="$wrap"} >"$tmp/test.log" 2>&1 ||
	{ cat "$tmp/test.log"; exit 1; }
grep -E '^Ok: +1' "$tmp/test.log" >/dev/null || { cat "$tmp/test.log"; exit 1; }
echo "   harness test: ok"

echo "== the installed ustreams with US_MODULE_PATH=$ex/build"
ustreams=$stage$prefix/bin/ustreams
[ -x "$ustreams" ] || { echo "ustreams was not installed"; exit 1; }
export US_MODULE_PATH="$ex/build"
"$ustreams" inspect ttlcount | grep 'min_ttl' >/dev/null
"$ustreams" check "$ex/ttlcount.conf"
"$ustreams" run "$ex/ttlcount.conf" --stats >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log"; exit 1; }
cat "$tmp/run.log"
grep -E '^  ttlcount' "$tmp/run.log" >/dev/null || { echo "no ttlcount statistics"; exit 1; }
# Three echo replies and the ARP exchange came in with TTL 64 (ARP is not
# IPv4: only the replies count).
grep -E 'ttl_le_64 +3$' "$tmp/run.log" >/dev/null || { echo "ttlcount did not count"; exit 1; }
echo "== ok"
