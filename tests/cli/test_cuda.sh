#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_cuda.sh — --device and --precision on embed, classify and bench, with and without a GPU.
# Always: the options parse (bad values are usage errors), VITC_DEVICE is the default device,
# int8 is refused on CUDA with a message. Without a usable GPU (or in a build without CUDA):
# every command asked for CUDA exits 1 with a message naming the reason and writes no output,
# and the CPU paths are unaffected. With a GPU: embed on cuda matches the CPU (fp32 max abs
# diff <= 1e-4, bf16 and fp16 cosine >= 0.9999), classify agrees on the top label, bench prints
# its table with the device memory.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.bash
cli_setup cuda numpy
unset VITC_DEVICE

CLS=tests/data/models/tiny-classifier
IMG=data/sample.jpg

# ---- parsing (any build, any machine) ----------------------------------------------------------

for c in embed classify bench; do
    expect_rc "$c --help" 0 "$VITC" "$c" --help
    if grep -qF -- "--device" "$tmp/out" && grep -qF -- "--precision" "$tmp/out"; then
        ok "$c --help lists --device and --precision"
    else
        bad "$c --help lacks --device or --precision"
    fi
done
expect_rc "embed --device tpu" 2 "$VITC" embed "$CLS" "$IMG" -o "$tmp/e.npy" --device tpu
expect_err "embed --device tpu" "unknown device 'tpu'"
expect_rc "classify --device cuda:x" 2 "$VITC" classify "$CLS" "$IMG" --device cuda:x
expect_rc "classify --precision fp64" 2 "$VITC" classify "$CLS" "$IMG" --precision fp64
expect_err "classify --precision fp64" "unknown precision 'fp64'"
VITC_DEVICE=gpu expect_rc "VITC_DEVICE=gpu" 2 "$VITC" embed "$CLS" "$IMG" -o "$tmp/e.npy"
expect_err "VITC_DEVICE=gpu" "VITC_DEVICE"
VITC_DEVICE=cpu expect_rc "VITC_DEVICE=cpu" 0 "$VITC" embed "$CLS" "$IMG" -o "$tmp/cpu.npy"
expect_rc "--device cpu overrides VITC_DEVICE=cuda" 0 env VITC_DEVICE=cuda \
    "$VITC" classify "$CLS" "$IMG" --device cpu

# int8 is a CPU precision: a CUDA ctx refuses it (a build without CUDA refuses CUDA first).
expect_rc "classify --device cuda --precision int8" 1 "$VITC" classify "$CLS" "$IMG" \
    --device cuda --precision int8
if grep -qF "int8 is not supported on CUDA" "$tmp/err" || grep -qF "no CUDA backend" "$tmp/err"; then
    ok "int8 on cuda: $(head -n 1 "$tmp/err")"
else
    bad "int8 on cuda: $(head -c 300 "$tmp/err")"
fi

# ---- is there a GPU? ---------------------------------------------------------------------------

run "$VITC" embed "$CLS" "$IMG" -o "$tmp/gpu.npy" --device cuda --precision fp32
if [ "$rc" -ne 0 ]; then
    # No usable device: a clear message, exit 1, nothing written; the same from VITC_DEVICE and
    # from every command.
    if [ "$rc" -eq 1 ] && { grep -qF "no CUDA device" "$tmp/err" || grep -qF "no CUDA backend" "$tmp/err"; }; then
        ok "embed --device cuda without a GPU: $(head -n 1 "$tmp/err")"
    else
        bad "embed --device cuda without a GPU: exit $rc; $(head -c 300 "$tmp/err")"
    fi
    if [ ! -e "$tmp/gpu.npy" ] && [ ! -e "$tmp/gpu.npy.paths.txt" ]; then
        ok "embed --device cuda without a GPU writes nothing"
    else
        bad "embed --device cuda without a GPU left files behind"
    fi
    VITC_DEVICE=cuda:0 expect_rc "VITC_DEVICE=cuda:0 embed" 1 "$VITC" embed "$CLS" "$IMG" \
        -o "$tmp/gpu.npy"
    expect_rc "classify --device cuda" 1 "$VITC" classify "$CLS" "$IMG" --device cuda
    expect_err "classify --device cuda" "CUDA"
    expect_rc "bench --device cuda" 1 "$VITC" bench "$CLS" --device cuda --iters 1 --batch 1
    expect_err "bench --device cuda" "CUDA"
    echo "skipped: no CUDA device (the GPU comparisons)"
    finish
fi

# ---- with a GPU --------------------------------------------------------------------------------

ok "embed --device cuda --precision fp32"
expect_rc "embed on the cpu" 0 "$VITC" embed "$CLS" "$IMG" tests/data/preprocess/images/palette_trns.png \
    -o "$tmp/cpu2.npy" --output last_hidden_state --device cpu
for p in fp32 tf32 bf16 fp16; do
    expect_rc "embed --device cuda --precision $p" 0 "$VITC" embed "$CLS" "$IMG" \
        tests/data/preprocess/images/palette_trns.png -o "$tmp/$p.npy" --output last_hidden_state \
        --device cuda --precision "$p" --batch 2
    check "cuda $p matches the cpu" "$tmp/cpu2.npy" "$tmp/$p.npy" "$p" <<'EOF'
import sys
import numpy as np
a, b, p = np.load(sys.argv[1]).astype(np.float64), np.load(sys.argv[2]).astype(np.float64), sys.argv[3]
assert a.shape == b.shape, (a.shape, b.shape)
d = np.abs(a - b).max()
cos = min(float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum())) for x, y in zip(a, b))
if p == "fp32":
    assert d <= 1e-4, d
else:
    assert cos >= 0.9999, cos
print(f"max abs diff {d:.3g}, cosine {cos:.7f}")
EOF
done
expect_rc "classify on the cpu" 0 "$VITC" classify "$CLS" "$IMG" --top-k 1 --device cpu
cp "$tmp/out" "$tmp/top_cpu"
expect_rc "classify --device cuda" 0 "$VITC" classify "$CLS" "$IMG" --top-k 1 --device cuda \
    --precision fp32
if cut -f 1-3 "$tmp/out" | cmp -s - <(cut -f 1-3 "$tmp/top_cpu"); then
    ok "classify: the same top label on cuda and cpu"
else
    bad "classify: top labels differ: $(cat "$tmp/out") vs $(cat "$tmp/top_cpu")"
fi
expect_rc "bench --device cuda" 0 "$VITC" bench "$CLS" --device cuda --batch 1,8 --iters 3
if grep -qF "backend cuda:0" "$tmp/out" && grep -qF "peak device memory" "$tmp/out"; then
    ok "bench --device cuda: header names the device and its memory"
else
    bad "bench --device cuda: $(head -n 3 "$tmp/out")"
fi
finish
