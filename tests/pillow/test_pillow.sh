#!/usr/bin/env bash
# tests/pillow — vitc's image decoding, resize and pixel_values against the real Pillow
# 9.4 (Debian python3-pil): generates images in many modes and random resize
# cases (pillow_check.py), runs them through vitc (decode_dump.c, built
# against $BUILD/libvitc.a) and compares bit for bit. Skips, saying so, when
# Python, numpy or Pillow is missing. Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
CC=${CC:-cc}

if ! "$PYTHON" -c 'import numpy, PIL; assert PIL.__version__.startswith("9.4")' 2>/dev/null; then
    echo "skip: $PYTHON lacks numpy or Pillow 9.4"
    echo "0 passed, 0 failed"
    exit 0
fi
if [ ! -f "$BUILD/libvitc.a" ]; then
    echo "FAIL: $BUILD/libvitc.a not built"
    echo "0 passed, 1 failed"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vitc_pillow.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A sanitized library needs the sanitizer runtimes at link time.
san=""
if [ -n "${SAN:-}" ]; then
    san="-fsanitize=$SAN"
elif nm "$BUILD/libvitc.a" 2>/dev/null | grep -q '__asan_\|__ubsan_'; then
    san="-fsanitize=address,undefined"
fi
# shellcheck disable=SC2046
if ! $CC -std=c11 -O1 $san -Iinclude -o "$tmp/decode_dump" tests/pillow/decode_dump.c \
    "$BUILD/libvitc.a" $(pkg-config --libs libjpeg libpng jansson libexif libwebp libwebpdemux libtiff-4) -lpthread -lm; then
    echo "FAIL: cannot build tests/pillow/decode_dump.c"
    echo "0 passed, 1 failed"
    exit 1
fi
if ! "$PYTHON" tests/pillow/pillow_check.py gen "$tmp"; then
    echo "FAIL: image generation"
    echo "0 passed, 1 failed"
    exit 1
fi
if ! "$tmp/decode_dump" "$tmp/jobs"; then
    echo "FAIL: decode_dump"
    echo "0 passed, 1 failed"
    exit 1
fi
"$PYTHON" tests/pillow/pillow_check.py check "$tmp"
