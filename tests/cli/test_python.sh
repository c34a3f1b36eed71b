#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_python.sh — the Python package (python/): runs its pytest suite twice, first from the
# checkout (PYTHONPATH=python, VITC_LIBRARY=$BUILD/libvitc.so), then through a real install:
# `pip install ./python` into a fresh venv (system site packages, no network, no build isolation),
# checking that the installed package loads its own bundled libvitc. Each pytest case counts as
# one check (from pytest's JUnit XML), as do the install steps. Skips when pytest is absent.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
# BUILD, PYTHON and the ok/bad/finish counters.
. tests/cli/lib.bash
case $BUILD in
/*) ABS_BUILD=$BUILD ;;
*) ABS_BUILD=$ROOT/$BUILD ;;
esac

if ! "$PYTHON" -c 'import pytest, numpy' 2>/dev/null; then
    echo "skip: pytest/numpy not importable by $PYTHON (scripts/install-deps.sh --test)"
    finish
fi
if [ ! -f "$ABS_BUILD/libvitc.so" ] || [ ! -x "$ABS_BUILD/vitc" ]; then
    bad "$BUILD/libvitc.so and $BUILD/vitc not built"
    finish
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vitc-python.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# pytest_run LABEL PYTHON [ENV...]: runs the suite from $tmp/run (so only an installed or
# PYTHONPATH package is importable) and adds its cases to the counts.
pytest_run() {
    local label=$1 py=$2
    shift 2
    local xml=$tmp/$label.xml
    mkdir -p "$tmp/run"
    (cd "$tmp/run" && env "$@" VITC_CLI="$ABS_BUILD/vitc" "$py" -m pytest -p no:cacheprovider \
        -q -rfEs --basetemp="$tmp/pytest-$label" --junitxml="$xml" "$ROOT/python/tests") \
        >"$tmp/$label.log" 2>&1
    local rc=$?
    local counts
    counts=$("$PYTHON" - "$xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("0 0 0")
    sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
print(n["tests"] - n["failures"] - n["errors"] - n["skipped"], n["failures"] + n["errors"],
      n["skipped"])
EOF
)
    local p f s
    read -r p f s <<<"$counts"
    echo "-- pytest ($label): $p passed, $f failed, $s skipped"
    if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
        cat "$tmp/$label.log"
    fi
    pass=$((pass + p))
    fail=$((fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        bad "pytest ($label) exited $rc"
    fi
}

# A sanitized library (make SAN=...) loads into python only after its runtime: preload it, and
# leave leak checks to the C tests (python never frees much of what it allocates).
preload=$(ldd "$ABS_BUILD/libvitc.so" 2>/dev/null | awk '/lib(asan|tsan)\.so/ {print $3}' |
    tr '\n' ' ')
san_env=()
if [ -n "$preload" ]; then
    san_env=(LD_PRELOAD="$preload" ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}")
fi

# ---- from the checkout ----

pytest_run checkout "$PYTHON" "${san_env[@]}" PYTHONPATH="$ROOT/python" \
    VITC_LIBRARY="$ABS_BUILD/libvitc.so"
if [ -n "$preload" ]; then
    echo "skip: sanitizer build; pip install ./python is tested with plain builds"
    finish
fi

# ---- through pip install ./python ----

if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    echo "skip: $PYTHON cannot make a venv (python3-venv); install test not run"
    finish
fi
if "$PYTHON" -m venv --system-site-packages "$tmp/venv" >"$tmp/venv.log" 2>&1; then
    ok "python3 -m venv --system-site-packages"
else
    cat "$tmp/venv.log"
    bad "python3 -m venv --system-site-packages"
    finish
fi
# pip builds in python/build of the checkout: one install at a time on this machine.
if (cd "$ROOT" && env -u VITC_LIBRARY VITC_BUILD_DIR="$BUILD" \
    flock "$ROOT/python" \
    "$tmp/venv/bin/python" -m pip install --no-build-isolation --no-index ./python) \
    >"$tmp/pip.log" 2>&1; then
    ok "pip install --no-build-isolation --no-index ./python"
else
    cat "$tmp/pip.log"
    bad "pip install --no-build-isolation --no-index ./python"
    finish
fi
site=$(cd "$tmp" && env -u VITC_LIBRARY -u PYTHONPATH "$tmp/venv/bin/python" -c \
    'import os, vitc; print(os.path.dirname(vitc.__file__), vitc.library_path)' 2>&1)
read -r pkg lib <<<"$site"
if [[ $pkg == "$tmp/venv/"* ]] && [ "$lib" = "$pkg/libvitc.so" ] && [ -f "$lib" ]; then
    ok "installed package loads its bundled library"
else
    bad "installed package loads its bundled library: $site"
fi
if cmp -s "$lib" "$ABS_BUILD/libvitc.so"; then
    ok "the bundled library is $BUILD/libvitc.so"
else
    bad "the bundled library is $BUILD/libvitc.so"
fi
pytest_run venv "$tmp/venv/bin/python" -u VITC_LIBRARY -u PYTHONPATH
finish
