#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_dask.sh — vitc.dask (python/vitc/dask): runs tests/cli/test_dask.py with pytest from the
# checkout (PYTHONPATH=python:tests/cli, so the Dask workers import the package and the fault
# injection plugin too; VITC_LIBRARY=$BUILD/libvitc.so, VITC_CLI=$BUILD/vitc for the reference
# runs). Each pytest case counts as one check (from pytest's JUnit XML). Skips when pytest or
# Dask distributed is absent, and with a sanitizer build. Bounded: killed after 10 minutes.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.bash
ROOT=$PWD
case $BUILD in
/*) ABS_BUILD=$BUILD ;;
*) ABS_BUILD=$ROOT/$BUILD ;;
esac

if ! "$PYTHON" -c 'import pytest, numpy, PIL, distributed' 2>/dev/null; then
    echo "skip: pytest/numpy/PIL/distributed not importable by $PYTHON" \
        "(scripts/install-deps.sh --test)"
    finish
fi
if [ ! -f "$ABS_BUILD/libvitc.so" ] || [ ! -x "$ABS_BUILD/vitc" ]; then
    bad "$BUILD/libvitc.so and $BUILD/vitc not built"
    finish
fi

# A sanitized library (make SAN=...) would be loaded by every Dask worker process outside the
# sanitizer runtime; the library's own tests cover it there (CI's ASan stage lists this script
# in VITC_SKIP_TESTS as well).
if ldd "$ABS_BUILD/libvitc.so" 2>/dev/null | grep -qE 'lib(asan|tsan|ubsan)\.so'; then
    echo "skip: $BUILD/libvitc.so is a sanitizer build"
    finish
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vitc-dask.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/run"
# From $tmp/run, so only the PYTHONPATH package is importable. Dask's own temporary files go
# under $tmp too (DASK_TEMPORARY_DIRECTORY).
(cd "$tmp/run" && timeout -k 10 600 env PYTHONPATH="$ROOT/python:$ROOT/tests/cli" \
    VITC_LIBRARY="$ABS_BUILD/libvitc.so" VITC_CLI="$ABS_BUILD/vitc" \
    DASK_TEMPORARY_DIRECTORY="$tmp/dask" "$PYTHON" -m pytest -p no:cacheprovider -q -rfEs \
    --basetemp="$tmp/pytest" --junitxml="$tmp/junit.xml" "$ROOT/tests/cli/test_dask.py") \
    >"$tmp/log" 2>&1
rc=$?
read -r p f s < <("$PYTHON" - "$tmp/junit.xml" <<'EOF'
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
echo "-- pytest: $p passed, $f failed, $s skipped"
grep -E "^(PASSED|FAILED|ERROR|SKIPPED)|passed|failed" "$tmp/log" | tail -n 5
if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
    cat "$tmp/log"
fi
pass=$p
fail=$f
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL pytest exited $rc$([ "$rc" -eq 124 ] && echo ' (timed out after 600 s)')"
    fail=$((fail + 1))
fi
finish
