#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_interpolate.sh — `vitc embed --image-size H[xW]` against the PyTorch references in
# transformers 4.40.2's structure (vit_reference.py with interpolate_pos_encoding, and
# family_reference.py's Dinov2Model, which always interpolates), on the tiny fixtures of
# tests/data/family at sizes the transformers fixtures do not cover: non-square with the table's
# patch count (resampled all the same), sides that are not multiples of the patch (remainder
# pixels ignored), square at the table's grid (table unchanged), very wide and very tall. First
# proves the ViT reference reproduces transformers' own 48x48 and 24x56 outputs. Inputs are
# seeded uniform pixel_values in [-1, 1). Skips when torch is absent.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.bash
F=tests/data/family/models
V=$F/vit-interpolate
TOL=1e-4

if ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
    echo "skip: torch/numpy not importable by $PYTHON"
    finish
fi
cli_setup interpolate "torch, numpy"
unset VITC_DEVICE

# compare DESC GOT.npy WANT.npy: shapes equal and max abs diff <= TOL.
compare() {
    check "$1" "$2" "$3" "$TOL" <<'PY'
import sys, numpy as np
got, want, tol = np.load(sys.argv[1]), np.load(sys.argv[2]), float(sys.argv[3])
assert got.shape == want.shape, (got.shape, want.shape)
d = float(np.abs(got.astype(np.float64) - want).max())
assert d <= tol, d
print(f"{list(got.shape)} max abs diff {d:.2e}")
PY
}

for size in 48x48 24x56; do
    run "$PYTHON" tests/torch/vit_reference.py --interpolate-pos-encoding $V \
        "$V/inputs.$size.pixel_values.npy" "$tmp/hf"
    for out in last_hidden_state pooler_output; do
        compare "ViT reference vs transformers at $size: $out" "$tmp/hf.$out.npy" \
            "$V/expected.$size.$out.npy"
    done
done

# model:reference:HxW ...; the vit-interpolate table is 4x4 (patch 8), dinov2's 15x15 and
# dinov2-swiglu's 13x13 (patch 4).
for spec in vit-interpolate:vit:16x64 vit-interpolate:vit:53x61 vit-interpolate:vit:33x33 \
    vit-interpolate:vit:8x200 vit-interpolate:vit:96x16 dinov2:dino:40x24 dinov2:dino:36x100 \
    dinov2:dino:37x23 dinov2:dino:61x61 dinov2:dino:64x64 dinov2-swiglu:dino:28x52; do
    IFS=: read -r name ref size <<<"$spec"
    h=${size%x*} w=${size#*x}
    "$PYTHON" - "$tmp/px.npy" "$h" "$w" <<'PY'
import sys, numpy as np
h, w = int(sys.argv[2]), int(sys.argv[3])
np.save(sys.argv[1], np.random.default_rng(h * 1000 + w).uniform(-1, 1, (2, 3, h, w)).astype(np.float32))
PY
    if [ "$ref" = vit ]; then
        run "$PYTHON" tests/torch/vit_reference.py --interpolate-pos-encoding $F/$name \
            "$tmp/px.npy" "$tmp/ref"
    else
        run "$PYTHON" tests/torch/family_reference.py run $F/$name "$tmp/px.npy" "$tmp/ref"
    fi
    if [ "$rc" -ne 0 ]; then
        bad "$name $size: reference failed: $(tail -n 3 "$tmp/err")"
        continue
    fi
    for out in last_hidden_state pooler_output; do
        expect_rc "embed $name --image-size $size --output $out" 0 "$VITC" embed $F/$name \
            "$tmp/px.npy" --image-size "$size" --output $out -o "$tmp/got.npy" --quiet
        compare "$name $size $out" "$tmp/got.npy" "$tmp/ref.$out.npy"
    done
done
finish
