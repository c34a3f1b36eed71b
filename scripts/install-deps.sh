#!/usr/bin/env bash
# Installs what vitc needs on Debian (12 or later): the compiler, pkg-config and
# the libraries it links (libjpeg-turbo, libpng, jansson, libexif, libcurl, libwebp, libtiff). With --test,
# also what the test suite uses: python3-numpy and python3-torch for the
# PyTorch reference of the full ViT-B/16.
set -euo pipefail
pkgs=(build-essential pkg-config libjpeg-dev libpng-dev libjansson-dev libexif-dev
      libcurl4-openssl-dev)
# vitc serve's HTTP server.
pkgs+=(libmicrohttpd-dev)
# WebP decoding (libwebp and its demux/animation library).
pkgs+=(libwebp-dev)
# TIFF decoding.
pkgs+=(libtiff-dev)
if [ "${1:-}" = "--test" ]; then
    pkgs+=(python3 python3-numpy python3-torch python3-pil)
    # tests/pillow writes tiled, separate-plane and BigTIFF files with tiffcp.
    pkgs+=(libtiff-tools)
    # make fuzz (libFuzzer) and the sanitizer/memcheck stages of .ci/run.
    pkgs+=(clang libclang-rt-14-dev valgrind)
    # The Python package's tests (pytest; pip install ./python into a venv) and man -l.
    pkgs+=(python3-pytest python3-venv python3-pip python3-setuptools python3-wheel man-db)
    # vitc serve's tests: Python clients and the load generator.
    pkgs+=(python3-requests hey)
    # vitc.dask's tests: a LocalCluster of Dask distributed (Debian 12: 2022.12.1).
    pkgs+=(python3-distributed)
fi
# --bench: what bench/run_peers.sh runs the peers with (PyTorch, the ONNX export, OpenBLAS's
# OpenMP build so torch's GEMMs share torch's threads, node + npm for onnxruntime-node).
if [ "${1:-}" = "--bench" ]; then
    pkgs+=(python3 python3-numpy python3-torch python3-onnx libopenblas0-openmp)
    # node and npm only when missing: where they come from elsewhere (a NodeSource nodejs
    # bundles npm), Debian's npm conflicts with that nodejs and the install fails.
    command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
    command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
