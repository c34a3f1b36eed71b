#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_family.sh — the command on the ViT family fixtures (tests/data/family): `info` names the
# family, pooling and processor; `embed` writes each family's default output (CLIP's
# image_embeds) and the new output names, from images through the cropping processors and from
# .npy pixel_values, matching transformers; `classify` on DeiT distilled. Runs from the
# repository root; needs /usr/bin/python3 + numpy.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.bash
F=tests/data/family/models
IMG=tests/data/preprocess/images
cli_setup family numpy
unset VITC_DEVICE

# ---- info ------------------------------------------------------------------------------------

expect_rc "info clip" 0 "$VITC" info $F/clip
for want in "family               clip" "pooling              post-LayerNorm CLS" \
    "processor            CLIPImageProcessor" "resize               shortest edge 40 bicubic" \
    "center_crop          40x40" "projection_dim       24 (image_embeds)"; do
    if grep -qF -- "$want" "$tmp/out"; then ok "info clip shows '$want'"; else bad "info clip lacks '$want'"; fi
done
expect_rc "info --json siglip" 0 "$VITC" info --json $F/siglip
check "info --json siglip: family, pooling, processor, tokens" "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["family"] == "siglip" and d["pooling"] == "attention pooling head", d
assert d["preprocess"]["image_processor_type"] == "SiglipImageProcessor" and d["tokens"] == 16
print("siglip, attention pooling head, 16 tokens")
PY

# ---- embed: defaults and new outputs against transformers ------------------------------------

for m in clip:image_embeds siglip:pooler_output dinov2:pooler_output deit-distilled:cls; do
    name=${m%%:*} out=${m#*:}
    expect_rc "embed $name (default output)" 0 "$VITC" embed $F/$name $F/$name/inputs.pixel_values.npy \
        -o "$tmp/$name.npy"
    check "embed $name writes $out" "$tmp/$name.npy" $F/$name "$out" <<'PY'
import sys, numpy as np
got, d, out = np.load(sys.argv[1]), sys.argv[2], sys.argv[3]
if out == "cls":
    want = np.load(d + "/expected.last_hidden_state.npy")[:, 0]
else:
    want = np.load(d + "/expected." + out + ".npy")
assert got.shape == want.shape, (got.shape, want.shape)
diff = float(np.abs(got - want).max())
assert diff <= 1e-4, diff
print("%s %s max abs diff %.2e" % (out, got.shape, diff))
PY
done
expect_rc "embed clip --output image_embeds from an image" 0 "$VITC" embed $F/clip \
    $IMG/photo_progressive.jpg --output image_embeds -o "$tmp/img.npy"
check "an image through CLIPImageProcessor gives transformers' image_embeds" "$tmp/img.npy" $F/clip <<'PY'
import sys, numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2] + "/expected.image_embeds.npy")[:1]
diff = float(np.abs(got - want).max())
assert got.shape == (1, 24) and diff <= 1e-4, (got.shape, diff)
print("max abs diff %.2e" % diff)
PY
expect_rc "embed deit-distilled --output image_embeds" 1 "$VITC" embed $F/deit-distilled \
    $F/deit-distilled/inputs.pixel_values.npy --output image_embeds -o "$tmp/x.npy"
expect_err "no projection" "visual projection"

# ---- classify: DeiT's two heads --------------------------------------------------------------

expect_rc "classify deit-distilled" 0 "$VITC" classify $F/deit-distilled \
    $F/deit-distilled/inputs.pixel_values.npy --top-k 1
check "classify deit-distilled takes the top label of the averaged heads" "$tmp/out" \
    $F/deit-distilled <<'PY'
import sys, numpy as np
labels = ["tabby cat", "golden retriever", "circuit board", "sunflower", "container ship"]
want = [labels[i] for i in np.load(sys.argv[2] + "/expected.logits.npy").argmax(1)]
text = open(sys.argv[1]).read()
assert all(w in text for w in want), (want, text)
print(", ".join(want))
PY

# ---- compare: CLIP's image_embeds among the rows -------------------------------------------

expect_rc "compare clip bf16" 0 "$VITC" compare $F/clip $F/clip/inputs.pixel_values.npy \
    --precision bf16 --json
check "compare clip reports image_embeds" "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
text = json.dumps(d)
assert "image_embeds" in text and "pooler_output" in text, text[:400]
print("rows: image_embeds and pooler_output present")
PY

# ---- --image-size: ViT interpolates its position table, DeiT has no interpolation -----------

expect_rc "classify deit-vit --image-size 48 on an image" 0 "$VITC" classify $F/deit-vit \
    $IMG/photo_progressive.jpg --image-size 48 --top-k 1
expect_rc "classify deit-distilled --image-size 48" 1 "$VITC" classify $F/deit-distilled \
    $IMG/photo_progressive.jpg --image-size 48
expect_err "DeiT refuses another size" "no position-embedding interpolation"
expect_rc "classify deit-vit --image-size 50" 1 "$VITC" classify $F/deit-vit \
    $IMG/photo_progressive.jpg --image-size 50
expect_err "a size that is not a multiple of the patch" "patch_size 8"

finish
