#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_family_full.sh — full-size CLIP ViT-B/32 (vision tower with projection) and DINOv2-S/14
# made by `vitc init` against an independent PyTorch reference in transformers' structure
# (family_reference.py). First proves the reference reproduces the transformers fixtures of
# tests/data/family, then compares `vitc embed` (every output) on random pixel_values and on
# data/sample.jpg as vitc preprocesses it (DINOv2: 224 px crop, position table 37x37 -> 16x16).
# Skips when torch is absent or VITC_SKIP_SLOW is set.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.bash
REF=tests/torch/family_reference.py
F=tests/data/family/models
TOL=1e-4

if ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
    echo "skip: torch/numpy not importable by $PYTHON"
    finish
fi
if [ -n "${VITC_SKIP_SLOW:-}" ]; then
    echo "skip: VITC_SKIP_SLOW is set (full-size CLIP and DINOv2)"
    finish
fi
if [ ! -x "$VITC" ]; then
    bad "$VITC not built"
    finish
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vitc-family-full.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

step() {
    local name=$1
    shift
    if "$@" >"$tmp/log" 2>&1; then
        return 0
    fi
    bad "$name"
    sed 's/^/    /' "$tmp/log"
    return 1
}

if step "reference self-test" "$PYTHON" $REF selftest $F/clip $F/clip-vision-proj $F/dinov2 \
    $F/dinov2-swiglu; then
    ok "$(tail -n 1 "$tmp/log")"
fi

for spec in clip-vit-base-patch32:last_hidden_state,pooler_output,image_embeds \
    dinov2-small:last_hidden_state,pooler_output; do
    preset=${spec%%:*} outputs=${spec#*:}
    m=$tmp/$preset
    step "vitc init --preset $preset" "$VITC" init --preset "$preset" --seed 7 "$m" || continue
    # Inputs: two uniform random images and data/sample.jpg through the model's processor.
    step "$preset: sample pixel_values" "$VITC" embed "$m" data/sample.jpg --output pixel_values \
        -o "$tmp/sample.npy" || continue
    "$PYTHON" - "$tmp/sample.npy" "$tmp/px.npy" <<'PY'
import sys, numpy as np
s = np.load(sys.argv[1])
r = np.random.default_rng(20240611).uniform(-1, 1, (2,) + s.shape[1:]).astype(np.float32)
np.save(sys.argv[2], np.concatenate([r, s]))
PY
    step "$preset: reference" "$PYTHON" $REF run "$m" "$tmp/px.npy" "$tmp/ref" || continue
    for out in ${outputs//,/ }; do
        step "$preset: vitc embed --output $out" "$VITC" embed "$m" "$tmp/px.npy" --output "$out" \
            -o "$tmp/got.npy" || continue
        if "$PYTHON" - "$tmp/got.npy" "$tmp/ref.$out.npy" "$TOL" >"$tmp/cmp" 2>&1 <<'PY'; then
import sys, numpy as np
got, want, tol = np.load(sys.argv[1]), np.load(sys.argv[2]), float(sys.argv[3])
assert got.shape == want.shape, (got.shape, want.shape)
d = np.abs(got.astype(np.float64) - want)
print(f"shape {list(got.shape)}: max abs diff {d.max():.3e} (max |value| {np.abs(want).max():.3g})")
sys.exit(0 if d.max() <= tol else 1)
PY
            ok "$preset $out: $(cat "$tmp/cmp")"
        else
            bad "$preset $out: $(cat "$tmp/cmp")"
        fi
    done
    rm -rf "$m"
done
finish
