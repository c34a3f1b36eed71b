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

# ---- --image-size H[xW]: ViT interpolates its position table, DeiT has no interpolation -------

expect_rc "classify deit-vit --image-size 48 on an image" 0 "$VITC" classify $F/deit-vit \
    $IMG/photo_progressive.jpg --image-size 48 --top-k 1
expect_rc "classify deit-vit --image-size 24x56 on an image" 0 "$VITC" classify $F/deit-vit \
    $IMG/photo_progressive.jpg --image-size 24x56 --top-k 1
expect_rc "classify deit-distilled --image-size 48" 1 "$VITC" classify $F/deit-distilled \
    $IMG/photo_progressive.jpg --image-size 48
expect_err "DeiT refuses another size" "no position-embedding interpolation"
# As transformers, the grid floors: 50 px is 6x6 patches of 8, the last 2 px unread.
expect_rc "classify deit-vit --image-size 50 (floored grid)" 0 "$VITC" classify $F/deit-vit \
    $IMG/photo_progressive.jpg --image-size 50
expect_rc "classify deit-vit --image-size 7" 1 "$VITC" classify $F/deit-vit \
    $IMG/photo_progressive.jpg --image-size 7
expect_err "a size below one patch" "smaller than one 8x8 patch"

# The vit-interpolate fixture's inputs: photo_progressive.jpg and exif_orient6.jpg through
# ViTImageProcessor with size {"height": H, "width": W}, then one random draw; its outputs are
# transformers' with interpolate_pos_encoding=True.
V=$F/vit-interpolate
for size in 48x48 24x56; do
    arg=$size
    [ "$size" = 48x48 ] && arg=48
    expect_rc "embed --image-size $arg: pixel_values of the two images" 0 "$VITC" embed $V \
        $IMG/photo_progressive.jpg $IMG/exif_orient6.jpg --image-size $arg --output pixel_values \
        -o "$tmp/pv.$size.npy"
    check "$size pixel_values bit for bit" "$tmp/pv.$size.npy" "$V/inputs.$size.pixel_values.npy" <<'PY'
import sys, numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
assert got.shape == (2,) + want.shape[1:], (got.shape, want.shape)
assert np.array_equal(got, want[:2])
print(f"{list(got.shape)} equal to transformers' processor output")
PY
    for out in last_hidden_state pooler_output; do
        expect_rc "embed --image-size $arg --output $out on images" 0 "$VITC" embed $V \
            $IMG/photo_progressive.jpg $IMG/exif_orient6.jpg --image-size $arg --output $out \
            -o "$tmp/img.npy"
        expect_rc "embed --image-size $arg --output $out on the .npy" 0 "$VITC" embed $V \
            "$V/inputs.$size.pixel_values.npy" --image-size $arg --output $out -o "$tmp/npy.npy"
        check "$size $out vs transformers" "$tmp/img.npy" "$tmp/npy.npy" "$V/expected.$size.$out.npy" <<'PY'
import sys, numpy as np
img, npy, want = (np.load(p) for p in sys.argv[1:4])
assert npy.shape == want.shape and np.array_equal(img, npy[:2]), (img.shape, npy.shape)
d = float(np.abs(npy.astype(np.float64) - want).max())
assert d <= 1e-4, d
print(f"{list(npy.shape)} max abs diff {d:.2e}")
PY
    done
done
expect_rc "embed 24x56 pixel_values at --image-size 48" 1 "$VITC" embed $V \
    "$V/inputs.24x56.pixel_values.npy" --image-size 48 -o "$tmp/x.npy"
expect_err "a .npy of another size" "is not pixel_values [3,48,48]"

expect_rc "info --image-size 24x56 --json" 0 "$VITC" info $V --image-size 24x56 --json
check "info shows the input size" "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["image_height"], d["image_width"], d["image_size"], d["tokens"]) == (24, 56, 0, 22), d
pp = d["preprocess"]
assert (pp["height"], pp["width"]) == (24, 56), pp
print("input 24x56, 22 tokens, processor resizes to 24x56")
PY
expect_rc "info --image-size 24x56" 0 "$VITC" info $V --image-size 24x56
if grep -qF "input                24x56 (height x width)" "$tmp/out" &&
    grep -qF "tokens               22 (1 + 3x7 patches)" "$tmp/out"; then
    ok "info text shows 24x56 and 3x7 patches"
else
    bad "info text: $(head -c 600 "$tmp/out")"
fi
expect_rc "bench --image-size 24x56" 0 "$VITC" bench $V --image-size 24x56 --batch 2 --iters 1 \
    --warmup 0 --json
check "bench reports the input size" "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["image_height"], d["image_width"]) == (24, 56), d
print("bench ran 24x56")
PY
expect_rc "compare --image-size 24x56 (bf16 target)" 0 "$VITC" compare $V --image-size 24x56 \
    --precision bf16 --samples 2 "$V/inputs.24x56.pixel_values.npy" --max-abs 0.15 --json
check "compare ran the 24x56 inputs" "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["images"] == 5 and "last_hidden_state" in d["outputs"], d
print(f"5 images, last_hidden_state max abs diff {d['outputs']['last_hidden_state']['max_abs_diff']:.2e}")
PY
# DINOv2's cropping processor at a non-square size: short side to 40, then a 40x24 crop.
expect_rc "embed dinov2 --image-size 40x24" 0 "$VITC" embed $F/dinov2 $IMG/photo_progressive.jpg \
    --image-size 40x24 -o "$tmp/d.npy" --output last_hidden_state
check "dinov2 40x24: 10x6 patches + CLS" "$tmp/d.npy" <<'PY'
import sys, numpy as np
a = np.load(sys.argv[1])
assert a.shape == (1, 61, 48), a.shape
print(f"last_hidden_state {list(a.shape)}")
PY

# ---- --image-size: bad values (exit 2 before any model is read) and an absurd size ----------

for bad_size in 0 -8 24x x56 24x56x8 24X56 " 24" 24.5 65536 99999999999999999999 abc ""; do
    for cmd in embed classify bench compare info; do
        case $cmd in
        embed) args=(embed $V $IMG/rgb.png -o "$tmp/x.npy") ;;
        classify) args=(classify $F/deit-vit $IMG/rgb.png) ;;
        *) args=($cmd $V) ;;
        esac
        run "$VITC" "${args[@]}" --image-size "$bad_size"
        if [ "$rc" -eq 2 ] && grep -qF -- "--image-size" "$tmp/err"; then
            ok "$cmd --image-size '$bad_size': exit 2"
        else
            bad "$cmd --image-size '$bad_size': exit $rc: $(head -c 300 "$tmp/err")"
        fi
    done
done
expect_rc "embed --image-size 8192 (1,048,577 tokens)" 1 "$VITC" embed $V $IMG/rgb.png \
    --image-size 8192 -o "$tmp/x.npy"
expect_err "an absurd size names the limit" "8192x8192 (height x width): 1024x1024 patches"
expect_err "an absurd size names the limit" "over the limit of 16384 tokens"

finish
