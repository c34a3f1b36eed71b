#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_serve_load.sh — `vitc serve` under load (hey at concurrency 32 against --max-batch 8 and a
# small queue: only 200s with the right numbers or 503s; throughput, p50/p99 and peak RSS against
# the README's memory bound printed) and SIGTERM under load (nothing accepted is lost; exit 0).
# tests/serve/test_load.py; 127.0.0.1 only; bounded in time (VITC_SERVE_LOAD_SECONDS, default 6).
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.bash
cli_setup serve-load "numpy, requests"
cd tests/serve && timeout -k 10 600 "$PYTHON" test_load.py
