#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_serve_faults.sh — `vitc serve` against bad clients and bad starts (tests/serve/test_faults.py):
# an undecodable image among good requests, Content-Length lies, chunked bodies over the limit,
# slowloris, disconnects mid-upload and mid-response, a full queue, the request timeout, API keys,
# the port in use, an unloadable model. 127.0.0.1 only; every wait bounded.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.bash
cli_setup serve-faults "numpy, requests"
cd tests/serve && timeout -k 10 600 "$PYTHON" test_faults.py
