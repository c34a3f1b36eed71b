#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_install.sh — `make install` into a temporary DESTDIR, then what a user of the installed
# files does: builds a small C program through `pkg-config --cflags --libs vitc` (shared, and
# against libvitc.a with the dependencies pkg-config names as private), runs it on a tiny model
# against the transformers fixture, renders the man page and checks it covers every command and
# option of `vitc help`, compiles vitc.h as strict C99/C11 and as C++ (and links the C++ program),
# and checks that the library exports only vitc_* symbols.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
CC=${CC:-cc}
CXX=${CXX:-g++}
PREFIX=/opt/vitc-test

pass=0
fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
}
# check NAME CMD...: runs CMD with its output in $tmp/out; ok when it exits 0.
check() {
    local name=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then
        ok "$name"
    else
        sed 's/^/     /' "$tmp/out" | head -n 40
        bad "$name"
    fi
}
# A sub-make runs alone, whatever make started this script.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" BUILD="$BUILD" "$@"; }

if ! command -v pkg-config >/dev/null; then
    bad "pkg-config not found"
    finish
fi
# Programs linked with a sanitized library (make SAN=...) need the sanitizer runtimes too.
san=${SAN:-}
if [ -z "$san" ]; then
    syms=$(nm "$BUILD/libvitc.a" 2>/dev/null | grep -oE '__(asan|ubsan|tsan)_' | sort -u)
    for k in asan:address ubsan:undefined tsan:thread; do
        grep -q "__${k%%:*}_" <<<"$syms" && san=${san:+$san,}${k#*:}
    done
fi
SANFL=${san:+-fsanitize=$san}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vitc-install.XXXXXX") || exit 1
# The install wrote PREFIX into $BUILD/vitc.pc; put the default back.
trap 'mk "$BUILD/vitc.pc" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
DEST=$tmp/dest
P=$DEST$PREFIX

# ---- the installed tree ----

check "make install PREFIX=$PREFIX DESTDIR=..." mk install PREFIX="$PREFIX" DESTDIR="$DEST"
for f in bin/vitc include/vitc.h lib/libvitc.a lib/pkgconfig/vitc.pc share/man/man1/vitc.1; do
    if [ -f "$P/$f" ]; then ok "installed $f"; else bad "installed $f"; fi
done
version=$("$P/bin/vitc" --version 2>&1)
so=$P/lib/libvitc.so.${version#vitc }
if [ -f "$so" ] && [ ! -L "$so" ] && [ "$(readlink "$P/lib/libvitc.so.0")" = "${so##*/}" ] &&
    [ "$(readlink "$P/lib/libvitc.so")" = libvitc.so.0 ]; then
    ok "shared library ${so##*/} with symlinks libvitc.so.0 and libvitc.so"
else
    bad "shared library and soname symlinks ($version): $(cd "$P/lib" && echo *)"
fi
if readelf -d "$so" 2>/dev/null | grep -q 'SONAME.*\[libvitc\.so\.0\]'; then
    ok "soname libvitc.so.0"
else
    bad "soname libvitc.so.0"
fi

export PKG_CONFIG_PATH=$P/lib/pkgconfig
PC="pkg-config --define-variable=prefix=$P"
if grep -qx "prefix=$PREFIX" "$P/lib/pkgconfig/vitc.pc"; then
    ok "vitc.pc names PREFIX"
else
    bad "vitc.pc names PREFIX: $(head -n 1 "$P/lib/pkgconfig/vitc.pc")"
fi
if [ "vitc $($PC --modversion vitc 2>&1)" = "$version" ]; then
    ok "pkg-config --modversion is the library's version ($version)"
else
    bad "pkg-config --modversion: $($PC --modversion vitc 2>&1) vs $version"
fi
static_libs=$($PC --static --libs vitc 2>&1)
missing=""
for l in -lvitc -ljpeg -lpng16 -ljansson -lexif -lpthread -lm; do
    case " $static_libs " in *" $l "*) ;; *) missing="$missing $l" ;; esac
done
if [ -z "$missing" ]; then ok "pkg-config --static lists the private libraries"; else
    bad "pkg-config --static --libs vitc lacks$missing: $static_libs"; fi

# ---- a C program against the installed library ----

cat >"$tmp/prog.c" <<'EOF'
/* Embeds the fixture's pixel_values with a tiny model and compares with transformers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <vitc.h>

int main(int argc, char **argv)
{
    vitc_model *model = NULL;
    vitc_ctx *ctx = NULL;
    vitc_tensor *pv = NULL, *want = NULL;
    if (argc != 4 || vitc_model_load(argv[1], NULL, &model) != VITC_OK ||
        vitc_ctx_new(model, NULL, &ctx) != VITC_OK || vitc_npy_load(argv[2], &pv) != VITC_OK ||
        vitc_npy_load(argv[3], &want) != VITC_OK) {
        fprintf(stderr, "prog: %s\n", vitc_last_error());
        return 1;
    }
    size_t n = pv->shape[0], d = vitc_output_size(model, VITC_OUTPUT_POOLER);
    float *out = malloc(n * d * sizeof *out);
    double worst = 0;
    if (!out || vitc_forward(ctx, pv->data, n) != VITC_OK ||
        vitc_get_output(ctx, VITC_OUTPUT_POOLER, out, n * d) != VITC_OK ||
        want->n_elems != n * d) {
        fprintf(stderr, "prog: %s\n", vitc_last_error());
        return 1;
    }
    for (size_t i = 0; i < n * d; i++) {
        double e = fabs((double)out[i] - ((const float *)want->data)[i]);
        worst = e > worst ? e : worst;
    }
    printf("vitc %s: %zu images, max abs diff %.3g\n", vitc_version(), n, worst);
    free(out);
    vitc_tensor_free(want);
    vitc_tensor_free(pv);
    vitc_ctx_free(ctx);
    vitc_model_free(model);
    return worst <= 1e-4 ? 0 : 1;
}
EOF
M=tests/data/models/tiny-in21k
ARGS=("$M" "$M/inputs.pixel_values.npy" "$M/expected.pooler_output.npy")

# shellcheck disable=SC2046,SC2086
check "cc prog.c \$(pkg-config --cflags --libs vitc)" \
    "$CC" -std=c11 -Wall -Wextra -Werror $SANFL -o "$tmp/prog_shared" "$tmp/prog.c" \
    $($PC --cflags --libs vitc) -lm
check "shared program matches transformers (LD_LIBRARY_PATH)" \
    env LD_LIBRARY_PATH="$P/lib" "$tmp/prog_shared" "${ARGS[@]}"
if readelf -d "$tmp/prog_shared" | grep -q 'NEEDED.*\[libvitc\.so\.0\]'; then
    ok "shared program needs libvitc.so.0"
else
    bad "shared program needs libvitc.so.0"
fi
# libvitc.a itself, its dependencies (Requires.private, Libs.private) as the system has them.
requires=$($PC --print-requires-private vitc | awk '{print $1}' | tr '\n' ' ')
private=$(sed -n 's/^Libs.private: //p' "$P/lib/pkgconfig/vitc.pc")
# shellcheck disable=SC2046,SC2086
check "cc prog.c libvitc.a + pkg-config's private dependencies ($requires)" \
    "$CC" -std=c11 -Wall -Wextra -Werror $SANFL -o "$tmp/prog_static" "$tmp/prog.c" \
    $($PC --cflags vitc) -L"$P/lib" -l:libvitc.a $(pkg-config --libs $requires) $private -lm
check "static program matches transformers" "$tmp/prog_static" "${ARGS[@]}"
if ! readelf -d "$tmp/prog_static" | grep -q 'NEEDED.*libvitc'; then
    ok "static program does not need libvitc.so"
else
    bad "static program does not need libvitc.so"
fi

# The Python package finds an installed library on the loader's path (no VITC_LIBRARY; a copy
# of its sources outside the checkout, so neither a bundled nor a build/ library is near).
if [ -z "$SANFL" ] && "$PYTHON" -c 'import numpy' 2>/dev/null; then
    mkdir -p "$tmp/pkg/vitc" && cp "$ROOT"/python/vitc/*.py "$tmp/pkg/vitc/"
    check "python: import vitc finds the installed library and embeds" \
        env -u VITC_LIBRARY PYTHONPATH="$tmp/pkg" LD_LIBRARY_PATH="$P/lib" "$PYTHON" -c '
import sys, numpy as np, vitc
m, pv, want = sys.argv[1:]
assert vitc.library_path.startswith("libvitc.so"), vitc.library_path
got = vitc.Model(m).embed(np.load(pv))
assert np.abs(got - np.load(want)).max() <= 1e-4' "${ARGS[@]}"
fi

# ---- the header: strict C, C++ ----

cat >"$tmp/hdr.c" <<'EOF'
#include <vitc.h>
int main(void)
{
    vitc_ctx_params p = vitc_ctx_default_params();
    return p.max_batch > 0 && vitc_status_str(VITC_ERR_IO)[0] != '\0' ? 0 : 1;
}
EOF
for std in c99 c11; do
    check "vitc.h compiles as -std=$std -pedantic -Werror" \
        "$CC" -std=$std -pedantic -Wall -Wextra -Wstrict-prototypes -Werror -I"$P/include" \
        -c "$tmp/hdr.c" -o "$tmp/hdr_$std.o"
done
if command -v "$CXX" >/dev/null; then
    cp "$tmp/hdr.c" "$tmp/hdr.cpp"
    # shellcheck disable=SC2046,SC2086
    check "vitc.h compiles and links as C++11 (-pedantic -Werror)" \
        "$CXX" -std=c++11 -pedantic -Wall -Wextra -Werror $SANFL -o "$tmp/hdr_cpp" \
        "$tmp/hdr.cpp" $($PC --cflags --libs vitc)
    check "the C++ program runs" env LD_LIBRARY_PATH="$P/lib" "$tmp/hdr_cpp"
else
    echo "skip: no C++ compiler ($CXX)"
fi
# (Sanitizer builds add their own __asan_*/__odr_asan.* names.)
others=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^vitc_' |
    grep -vE '^__(odr_)?(asan|ubsan|tsan)' | tr '\n' ' ')
if [ -z "$others" ]; then ok "libvitc.so exports only vitc_* symbols"; else
    bad "libvitc.so exports non-vitc_ symbols: $others"; fi
others=$(nm "$P/lib/libvitc.a" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDBRCVW]$/ {print $3}' |
    grep -v '^vitc_' | grep -vE '^__(odr_)?(asan|ubsan|tsan)' | sort -u | tr '\n' ' ')
if [ -z "$others" ]; then ok "libvitc.a defines only vitc_* global symbols"; else
    bad "libvitc.a defines non-vitc_ global symbols: $others"; fi

# ---- the man page ----

page=$P/share/man/man1/vitc.1
if command -v man >/dev/null; then
    render() { LC_ALL=C MANWIDTH=200 man --warnings -l "$1"; }
else
    render() { groff -man -Tascii -ww -rLL=200n "$1"; }
fi
if render "$page" >"$tmp/man.txt" 2>"$tmp/man.err" && [ ! -s "$tmp/man.err" ] &&
    grep -q '^NAME' "$tmp/man.txt"; then
    ok "man page renders without warnings"
else
    cat "$tmp/man.err"
    bad "man page renders without warnings"
fi
# Every command of `vitc --help` has a section (a "vitc CMD ..." subheading) in which every
# option of `vitc help CMD` is an item (-h/--help are described once for all commands).
commands=$("$P/bin/vitc" --help |
    awk '/^Commands:/ {on = 1; next} on && /^$/ {on = 0} on {print $1}')
for c in $commands; do
    section=$(awk -v c="$c" '$0 ~ "^   vitc " c "( |$)" {on = 1; next}
        on && (/^   vitc / || /^[A-Z]/) {on = 0} on' "$tmp/man.txt")
    if [ -n "$section" ]; then ok "man page: vitc $c"; else
        bad "man page has no section for 'vitc $c'"; fi
    [ "$c" = help ] && continue
    opts=$("$P/bin/vitc" help "$c" | awk '/^Options:/ {on = 1; next} on' |
        grep -oE '^ +(-[a-zA-Z]|--[a-z0-9-]+)(, --[a-z0-9-]+)?' | tr ',' ' ')
    missing=""
    for o in $opts; do
        case $o in -h | --help) continue ;; esac
        grep -qE -- "^ +(-[a-zA-Z], )?$o(,| |$)" <<<"$section" || missing="$missing $o"
    done
    if [ -z "$missing" ]; then ok "man page: options of vitc $c"; else
        bad "man page lacks options of vitc $c:$missing"; fi
done
# Every environment variable the library or the command reads is described.
vars=$(grep -ohE '\b(getenv|env|env_true)\("[A-Z_]+"\)' src/*/*.c cli/*.c cli/serve/*.c |
    sed -E 's/.*\("([A-Z_]+)"\)/\1/' | sort -u)
missing=""
for v in $vars; do
    grep -qw -- "$v" "$tmp/man.txt" || missing="$missing $v"
done
if [ -n "$vars" ] && [ -z "$missing" ]; then ok "man page: every environment variable read"; else
    bad "man page lacks environment variables:$missing"; fi
if grep -q "\"vitc ${version#vitc }\"" "$page"; then ok "man page version is $version"; else
    bad "man page .TH does not say \"$version\""; fi
finish
