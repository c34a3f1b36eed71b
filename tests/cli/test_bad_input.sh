#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_bad_input.sh — every kind of bad input given to the `vitc` command must fail cleanly:
# exit 1 for a bad file (2 for bad usage), a message on stderr naming the offending file and the
# problem, nothing on stdout, no crash or sanitizer report, and nothing written to the output path
# (an existing output file stays byte-identical). Hostile files come from make_bad_inputs.py,
# derived from the tiny fixture model and images. Runs from the repository root like make test.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
VITC=$BUILD/vitc
GOOD=tests/data/models/tiny-in21k
IMAGES=tests/data/preprocess/images
PNG=$IMAGES/rgb.png
JPG=$IMAGES/photo_baseline_exif.jpg

pass=0
fail=0
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
}
if [ ! -x "$VITC" ]; then
    echo "FAIL $VITC not built"
    fail=1
    finish
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vitc-badinput.XXXXXX") || exit 1
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
B=$tmp/bad
if ! "$PYTHON" tests/cli/make_bad_inputs.py "$GOOD" "$IMAGES" "$B" >"$tmp/gen.log" 2>&1; then
    echo "FAIL make_bad_inputs.py:"
    cat "$tmp/gen.log"
    fail=1
    finish
fi
printf 'existing output, must survive a failed run\n' >"$tmp/sentinel"

# An address-space cap proves absurd image sizes are refused before allocating; sanitizer
# builds reserve terabytes of shadow memory and cannot run under one, so they go without.
VMEM_KB=1048576
if { (ulimit -v "$VMEM_KB" && exec "$VITC" --version) >/dev/null 2>&1; } 2>/dev/null; then
    have_vlimit=1
else
    have_vlimit=0
    echo "note: $VITC cannot run under ulimit -v $VMEM_KB (sanitizer build?); running uncapped"
fi

# ---- the checker -------------------------------------------------------------------------------

# one_run DIR LIMIT CMD...: runs CMD with @OUT@ replaced by DIR/out.npy; leaves rc, stdout, stderr.
one_run() {
    local dir=$1 limit=$2
    shift 2
    local args=() a
    for a in "$@"; do
        args+=("${a//@OUT@/$dir/out.npy}")
    done
    if [ "$limit" = 1 ] && [ "$have_vlimit" = 1 ]; then
        (ulimit -v "$VMEM_KB" && exec "${args[@]}") >"$tmp/stdout" 2>"$tmp/stderr"
    else
        "${args[@]}" >"$tmp/stdout" 2>"$tmp/stderr"
    fi
    rc=$?
}

# expect DESC CODE NAME PHRASE CMD...
#   CODE: expected exit status; NAME: text stderr must contain (fixed string, the offending file
#   or option); PHRASE: extended regex (case-insensitive) for the problem. If CMD uses @OUT@ it
#   runs twice: with no output file (the directory must stay empty) and with an existing one
#   (it must stay byte-identical, with nothing beside it). LIMIT=1 in the environment runs it
#   under the address-space cap.
expect() {
    local desc=$1 code=$2 name=$3 phrase=$4
    shift 4
    local modes="none" why="" mode dir
    case "$*" in *@OUT@*) modes="none existing" ;; esac
    for mode in $modes; do
        dir=$(mktemp -d "$tmp/out.XXXXXX")
        [ "$mode" = existing ] && cp "$tmp/sentinel" "$dir/out.npy"
        one_run "$dir" "${LIMIT:-0}" "$@"
        if [ "$rc" -ne "$code" ]; then
            why+=" [$mode output] exit $rc, want $code;"
        fi
        if [ "$rc" -ge 128 ] ||
            grep -qE 'Sanitizer|Segmentation|core dumped|Assertion' "$tmp/stderr"; then
            why+=" [$mode output] crashed;"
        fi
        if ! grep -qF -- "$name" "$tmp/stderr"; then
            why+=" [$mode output] stderr does not name '$name';"
        fi
        if ! grep -qiE -- "$phrase" "$tmp/stderr"; then
            why+=" [$mode output] stderr does not say /$phrase/;"
        fi
        if [ -s "$tmp/stdout" ]; then
            why+=" [$mode output] wrote to stdout;"
        fi
        if [ "$mode" = existing ]; then
            cmp -s "$tmp/sentinel" "$dir/out.npy" || why+=" existing output changed;"
            [ "$(ls -A "$dir")" = out.npy ] ||
                why+=" files left beside the output: $(ls -A "$dir");"
        elif [ -n "$(ls -A "$dir")" ]; then
            why+=" wrote into the output directory: $(ls -A "$dir");"
        fi
        rm -rf "$dir"
    done
    if [ -z "$why" ]; then
        echo "ok   $desc"
        pass=$((pass + 1))
    else
        echo "FAIL $desc:$why"
        sed 's/^/    stderr: /' "$tmp/stderr" | head -n 5
        fail=$((fail + 1))
    fi
}

# embed_model DESC MODEL_CASE FILE PHRASE: `vitc embed` of a good image with a broken model.
embed_model() {
    expect "$1" 1 "$3" "$4" "$VITC" embed "$B/models/$2" "$PNG" -o @OUT@
}

# embed_input DESC INPUT PHRASE: `vitc embed` of a bad input with the good model.
embed_input() {
    expect "$1" 1 "$(basename "$2")" "$3" "$VITC" embed "$GOOD" "$2" -o @OUT@ --threads 1
}

MISSING='no such|not found|missing|does not exist|cannot open|could not open|not exist'
JSONERR='json|pars|invalid|expected|syntax|unexpected|object'
TOOBIG='too (large|big)|exceed|limit'

# ---- model directories -------------------------------------------------------------------------

expect "missing model directory" 1 "no-such-model" "$MISSING" \
    "$VITC" embed "$tmp/no-such-model" "$PNG" -o @OUT@
expect "info on a missing model directory" 1 "no-such-model" "$MISSING" \
    "$VITC" info "$tmp/no-such-model"
embed_model "model directory without config.json" no-config config.json "$MISSING"
embed_model "model directory without model.safetensors" no-safetensors model.safetensors "$MISSING"
embed_model "pytorch_model.bin instead of model.safetensors" pytorch-bin pytorch_model.bin "convert"

# ---- config.json -------------------------------------------------------------------------------

embed_model "config.json is not JSON" config-notjson config.json "$JSONERR"
embed_model "config.json is a JSON array" config-array config.json "$JSONERR"
embed_model "config.json hidden_size is a string" config-wrongtype config.json "hidden_size"
embed_model "config.json heads do not divide hidden_size" config-heads config.json \
    "num_attention_heads|divisible|divide|multiple"
embed_model "config.json image_size not divisible by patch_size" config-patch config.json \
    "patch_size|image_size|divisible|multiple"
embed_model "config.json negative hidden_size" config-negative config.json "hidden_size"
embed_model "config.json patch_size 0" config-zero-patch config.json "patch_size"
embed_model "config.json negative num_hidden_layers" config-layers-negative config.json \
    "num_hidden_layers"
embed_model "config.json unknown hidden_act" config-act "gelu_foo" \
    "hidden_act|activation|unsupported|unknown"
embed_model "config.json without hidden_size (default 768 contradicts the weights)" \
    config-missing-hidden "config-missing-hidden" "shape|size|768|mismatch|expected"

# ---- model.safetensors -------------------------------------------------------------------------

embed_model "safetensors truncated inside the header length" st-short model.safetensors \
    "too short|truncat|too small|header"
embed_model "safetensors header length beyond the file" st-hdrlen-beyond model.safetensors \
    "header length|beyond|exceed|past the end|truncat|too short"
embed_model "safetensors header length near 2^64" st-hdrlen-huge model.safetensors \
    "header length|beyond|exceed|past the end|limit|too large"
embed_model "safetensors header not JSON" st-badjson model.safetensors "$JSONERR"
embed_model "safetensors unknown dtype" st-dtype-unknown model.safetensors "dtype|Z32"
embed_model "safetensors unsupported dtype I32" st-dtype-i32 model.safetensors \
    "dtype|I32|unsupported"
embed_model "safetensors offsets out of range" st-offsets-range model.safetensors \
    "offset|range|beyond|exceed|bounds|past the end"
embed_model "safetensors overlapping offsets" st-overlap model.safetensors \
    "overlap|offset|gap|contig|cover"
embed_model "safetensors missing tensor" st-missing-tensor \
    "encoder.layer.1.attention.attention.key.weight" "missing|not found|no tensor|absent|lacks"
embed_model "safetensors wrong-shaped tensor" st-wrong-shape "layernorm.weight" "shape"
embed_model "safetensors data section shorter than declared" st-data-short model.safetensors \
    "truncat|short|offset|beyond|exceed|past the end|bounds"
embed_model "safetensors data section longer than declared" st-data-long model.safetensors \
    "trailing|longer|extra|unused|cover"

# ---- images ------------------------------------------------------------------------------------

embed_input "empty image file" "$B/images/empty.jpg" "empty|no data|0 bytes|too short"
embed_input "truncated JPEG" "$B/images/trunc.jpg" \
    "truncat|premature|ends early|end of|incomplete|corrupt"
embed_input "truncated PNG" "$B/images/trunc.png" \
    "truncat|premature|ends early|end of|incomplete|corrupt|crc"
embed_input "text file named .jpg" "$B/images/text.jpg" \
    "not a (JPEG|PNG)|not an image|unsupported|unrecogni|unknown format|identify"
embed_input "truncated GIF" "$B/images/trunc.gif" "truncat|ends early"
embed_input "truncated BMP" "$B/images/trunc.bmp" "truncat|ends early"
embed_input "truncated WebP" "$B/images/trunc.webp" "truncat|corrupt"
embed_input "BMP with RLE8 on 24 bits" "$B/images/rle24.bmp" "RLE.*not supported"
embed_input "TIFF without an image directory" "$B/images/image.tif" "corrupt or truncated TIFF"
embed_input "truncated TIFF" "$B/images/trunc.tif" "corrupt (or truncated )?TIFF"
embed_input "HEIF image" "$B/images/image.heic" "HEIF.*not supported"
LIMIT=1 embed_input "GIF declaring 65535x65535 (under a 1 GB cap)" "$B/images/huge.gif" "$TOOBIG"
LIMIT=1 embed_input "BMP declaring 60000x60000 (under a 1 GB cap)" "$B/images/huge.bmp" "$TOOBIG"
LIMIT=1 embed_input "WebP declaring 60000x60000 (under a 1 GB cap)" "$B/images/huge.webp" "$TOOBIG"
LIMIT=1 embed_input "PNG declaring 100000x100000 (under a 1 GB cap)" "$B/images/huge.png" "$TOOBIG"
LIMIT=1 embed_input "JPEG declaring 65000x65000 (under a 1 GB cap)" "$B/images/huge.jpg" "$TOOBIG"
LIMIT=1 embed_input "TIFF declaring 60000x60000 (under a 1 GB cap)" "$B/images/huge.tif" "$TOOBIG"
expect "one bad image among good ones" 1 "trunc.jpg" "truncat|premature|end of|incomplete|corrupt" \
    "$VITC" embed "$GOOD" "$PNG" "$B/images/trunc.jpg" "$JPG" -o @OUT@
mkdir "$tmp/imgdir" && cp "$PNG" "$tmp/imgdir/a.png" && cp "$B/images/trunc.png" "$tmp/imgdir/b.png"
expect "directory input holding a truncated PNG" 1 "b.png" \
    "truncat|premature|ends early|end of|incomplete|corrupt|crc" \
    "$VITC" embed "$GOOD" "$tmp/imgdir" -o @OUT@
expect "missing image file" 1 "no-such-image.jpg" "$MISSING" \
    "$VITC" embed "$GOOD" "$tmp/no-such-image.jpg" -o @OUT@

# ---- .npy inputs -------------------------------------------------------------------------------

embed_input ".npy of the wrong image size" "$B/npy/small.npy" "shape|size|match|expected|32"
embed_input ".npy with 4 channels" "$B/npy/channels.npy" "shape|channel|match|expected"
embed_input ".npy of float64" "$B/npy/f64.npy" "dtype|f8|float32|f4|type|unsupported"
embed_input ".npy truncated" "$B/npy/trunc.npy" "truncat|short|size|end of"
embed_input ".npy that is not a .npy" "$B/npy/garbage.npy" "npy|magic|format|not a|header"

# ---- output paths ------------------------------------------------------------------------------

expect "output in a nonexistent directory" 1 "no-such-dir" "$MISSING|directory" \
    "$VITC" embed "$GOOD" "$PNG" -o "$tmp/no-such-dir/out.npy"
[ -e "$tmp/no-such-dir" ] && echo "FAIL the nonexistent output directory was created" &&
    fail=$((fail + 1))
printf 'a file\n' >"$tmp/plainfile"
expect "output below a regular file" 1 "plainfile" "not a directory|directory|cannot|no such" \
    "$VITC" embed "$GOOD" "$PNG" -o "$tmp/plainfile/out.npy"
cmp -s "$tmp/plainfile" <(printf 'a file\n') || {
    echo "FAIL the file standing in for a directory changed"
    fail=$((fail + 1))
}
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$tmp/readonly" && chmod 555 "$tmp/readonly"
    expect "output in a read-only directory" 1 "readonly" "permission|denied|read-only|cannot" \
        "$VITC" embed "$GOOD" "$PNG" -o "$tmp/readonly/out.npy"
    [ -z "$(ls -A "$tmp/readonly")" ] || {
        echo "FAIL files written into the read-only directory"
        fail=$((fail + 1))
    }
else
    echo "skip output in a read-only directory (root ignores permissions; covered above)"
fi

# ---- commands that cannot apply ----------------------------------------------------------------

expect "classify with a model that has no classifier head" 1 "tiny-in21k" "classifier head.*embed" \
    "$VITC" classify "$GOOD" "$PNG"
mkdir "$tmp/initdir" && cp "$GOOD/model.safetensors" "$tmp/initdir/"
expect "init over an existing model.safetensors" 1 "model.safetensors" "exist|overwrit|refus" \
    "$VITC" init "$tmp/initdir" --preset vit-base-patch16-224-in21k
cmp -s "$GOOD/model.safetensors" "$tmp/initdir/model.safetensors" || {
    echo "FAIL init changed the existing model.safetensors"
    fail=$((fail + 1))
}

# ---- usage errors (exit 2) ---------------------------------------------------------------------

expect "no arguments" 2 "vitc" "usage" "$VITC"
expect "unknown subcommand" 2 "frobnicate" "unknown|usage|command" "$VITC" frobnicate
expect "unknown option" 2 "--frob" "unknown|unrecognized|invalid|option" \
    "$VITC" embed "$GOOD" "$PNG" --frob -o @OUT@
expect "embed without -o" 2 "-o" "missing|required|output|usage" "$VITC" embed "$GOOD" "$PNG"
expect "embed without inputs" 2 "embed" "usage|missing|input" "$VITC" embed "$GOOD" -o @OUT@
expect "option missing its value" 2 "--batch" "missing|requires|value|argument" \
    "$VITC" embed "$GOOD" "$PNG" -o @OUT@ --batch
expect "--batch 0" 2 "--batch" "invalid|positive|range|must|bad" \
    "$VITC" embed "$GOOD" "$PNG" --batch 0 -o @OUT@
expect "--batch x" 2 "--batch" "invalid|number|integer|must|bad" \
    "$VITC" embed "$GOOD" "$PNG" --batch x -o @OUT@
expect "--threads -3" 2 "--threads" "invalid|range|must|negative|bad" \
    "$VITC" embed "$GOOD" "$PNG" --threads -3 -o @OUT@
expect "--top-k -1" 2 "--top-k" "invalid|positive|range|must|bad" \
    "$VITC" classify tests/data/models/tiny-classifier "$PNG" --top-k -1
expect "--output bogus" 2 "bogus" "invalid|unknown|output|must|one of" \
    "$VITC" embed "$GOOD" "$PNG" --output bogus -o @OUT@

finish
