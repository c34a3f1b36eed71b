#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_serve.sh — `vitc serve`'s routes and error codes, the v2 protocol in JSON and binary form
# both ways, the plain embed/classify routes, results bitwise equal to `vitc embed`, and 16
# concurrent clients batched together (tests/serve/test_api.py). Servers listen on 127.0.0.1,
# port 0, and are stopped by the test; every wait is bounded.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.bash
cli_setup serve "numpy, requests"
cd tests/serve && timeout -k 10 600 "$PYTHON" test_api.py
