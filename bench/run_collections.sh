#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run_collections.sh — a whole collection, not only the forward: `vitc embed` on a directory of
# JPEG photos of mixed sizes against what a Python user would run (a torch DataLoader with
# Pillow decoding and ViTImageProcessor's preprocessing in worker processes, the PyTorch ViT
# on the same weights, fp32), beside `vitc bench` at the same batch (how busy embed keeps the
# model); then decode and preprocessing alone, one thread, vitc vs Pillow + NumPy, with the
# pixel_values compared bit for bit. Rounds alternate vitc and PyTorch. Prints a markdown
# report (--out also writes it). Needs `make` and `scripts/install-deps.sh --bench`.
#
#   bench/run_collections.sh MODEL_DIR|PRESET [--images 200] [--threads 2] [--batch 8]
#                            [--rounds 2] [--out FILE] [--sources "A.jpg B.jpg"]
# The photos are made once under bench/.cache by peers/make_photos.py from --sources (real
# photographs; default data/sample.jpg and tests/data/preprocess/images/photo_baseline_exif.jpg).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
VITC=$BUILD/vitc
CACHE=bench/.cache

usage() {
    sed -n '/^#   bench/,/^# photographs/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() {
    echo "run_collections.sh: $*" >&2
    exit 1
}

[ $# -ge 1 ] || usage
target=$1
shift
images=200 threads=2 batch=8 rounds=2 out=""
sources="data/sample.jpg tests/data/preprocess/images/photo_baseline_exif.jpg"
while [ $# -gt 0 ]; do
    case $1 in
    --images) images=$2 ;;
    --threads) threads=$2 ;;
    --batch) batch=$2 ;;
    --rounds) rounds=$2 ;;
    --out) out=$2 ;;
    --sources) sources=$2 ;;
    *) usage ;;
    esac
    shift 2 || usage
done
[[ $images =~ ^[1-9][0-9]*$ && $threads =~ ^[1-9][0-9]*$ && $batch =~ ^[1-9][0-9]*$ &&
    $rounds =~ ^[1-9][0-9]*$ ]] || usage
[ -x "$VITC" ] || die "$VITC not built (run make)"
make -s "$BUILD/bench/bench_preprocess" >/dev/null || die "cannot build bench_preprocess"
"$PYTHON" -c 'import torch, numpy, PIL' 2>/dev/null || die "$PYTHON lacks torch, numpy or PIL"

if [ -d "$target" ]; then
    model=$target
else
    model=$CACHE/models/$target
    [ -f "$model/model.safetensors" ] || "$VITC" init "$model" --preset "$target" --seed 0 >/dev/null ||
        die "cannot make preset $target"
fi
photos=$CACHE/photos-$images
if [ ! -f "$photos/.done" ]; then
    # shellcheck disable=SC2086
    "$PYTHON" bench/peers/make_photos.py "$photos" "$images" $sources >/dev/null ||
        die "cannot make the photos"
    touch "$photos/.done"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Wall and CPU (user + sys, all threads and children) seconds of a command, into $tmp/time.
timed() {
    /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@"
}

export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
# Debian's torch calls the system BLAS: the OpenMP build of OpenBLAS (install-deps --bench;
# OPENBLAS_DIR names another copy, e.g. one unpacked with dpkg -x), not the reference BLAS.
openblas=${OPENBLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-openmp}
[ -f "$openblas/libblas.so.3" ] || die "no OpenBLAS (OpenMP build) in $openblas: PyTorch would run on the reference BLAS"
export LD_LIBRARY_PATH=$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
: >"$tmp/embed" && : >"$tmp/torch" && : >"$tmp/bench"
for _ in $(seq "$rounds"); do
    timed "$VITC" embed "$model" "$photos" -o "$tmp/emb.npy" --batch "$batch" --threads "$threads" \
        --quiet || die "vitc embed failed"
    cat "$tmp/time" >>"$tmp/embed"
    timed "$PYTHON" bench/peers/collection_torch.py --dir "$photos" --model "$model" \
        --threads "$threads" --workers "$threads" --batch "$batch" >"$tmp/t.json" ||
        die "the torch DataLoader run failed"
    echo "$(cat "$tmp/time") $(cat "$tmp/t.json")" >>"$tmp/torch"
    "$VITC" bench "$model" --batch "$batch" --threads "$threads" --iters 5 --json >"$tmp/b.json" ||
        die "vitc bench failed"
    "$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median_ms"])' \
        "$tmp/b.json" >>"$tmp/bench" 2>/dev/null || echo nan >>"$tmp/bench"
done
"$BUILD/bench/bench_preprocess" "$photos" "$model/preprocessor_config.json" 3 >"$tmp/pre_vitc.json"
"$PYTHON" bench/peers/collection_torch.py --dir "$photos" --model "$model" --preprocess-only \
    --reps 3 --save "$tmp/pv_pil.npy" >"$tmp/pre_pil.json"
"$VITC" embed "$model" "$photos" --output pixel_values -o "$tmp/pv_vitc.npy" --quiet
"$PYTHON" - "$tmp" "$images" "$batch" "$threads" "$model" "$(uptime)" <<'PY' | tee "${out:-/dev/null}"
import json, os, platform, statistics, sys
import numpy as np
tmp, n, batch, threads, model, up = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
def rows(name):
    return [l.split(None, 3) for l in open(os.path.join(tmp, name)) if l.strip()]
emb = [(float(w), float(u) + float(s)) for w, u, s in rows("embed")]
tor = [(float(w), float(u) + float(s), json.loads(j)) for w, u, s, j in rows("torch")]
bench_ms = [float(l) for l in open(os.path.join(tmp, "bench"))]
e_ips = statistics.median(n / w for w, _ in emb)
t_ips = statistics.median(t[2]["images_per_s"] for t in tor)
b_ips = statistics.median(batch / (ms / 1e3) for ms in bench_ms)
pv, pp = json.load(open(os.path.join(tmp, "pre_vitc.json"))), json.load(open(os.path.join(tmp, "pre_pil.json")))
a, b = np.load(os.path.join(tmp, "pv_vitc.npy")), np.load(os.path.join(tmp, "pv_pil.npy"))
diff = int((a != b).sum()) if a.shape == b.shape else -1
cpu = open("/proc/cpuinfo").read()
model_name = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("model name")), "?")
family = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("cpu family")), "?")
print(f"## Collections: {n} JPEG photos, batch {batch}, {threads} threads, fp32\n")
print(f"CPU: {model_name} (family {family}), {os.cpu_count()} cores; load at the end: {up.split('load average:')[-1].strip()}\n")
print("| pipeline | images/s (median of rounds) | rounds (images/s) | CPU s per image |")
print("|---|---:|---|---:|")
print(f"| vitc embed (decode workers + {threads} compute threads) | {e_ips:.2f} | {', '.join(f'{n / w:.2f}' for w, _ in emb)} | {statistics.median(c for _, c in emb) / n:.3f} |")
t_rounds = ", ".join(f"{t[2]['images_per_s']:.2f}" for t in tor)
print(f"| PyTorch DataLoader ({threads} worker processes) + PyTorch fp32 | {t_ips:.2f} | {t_rounds} | {statistics.median(t[1] for t in tor) / n:.3f} |")
print(f"| vitc bench, same batch (model only) | {b_ips:.2f} | {', '.join(f'{batch / (ms / 1e3):.2f}' for ms in bench_ms)} | |")
print(f"\nvitc embed / PyTorch DataLoader: **{e_ips / t_ips:.2f}x**; vitc embed / vitc bench: **{100 * e_ips / b_ips:.0f}%**.\n")
print("Decode and preprocessing alone, one thread, best of 3 passes over the set:\n")
print("| | decode ms/image | preprocess ms/image (resize, rescale, normalize) |")
print("|---|---:|---:|")
for d in (pv, pp):
    print(f"| {d['engine']} | {1e3 * d['decode_s'] / d['images']:.2f} | {1e3 * d['preprocess_s'] / d['images']:.2f} |")
print(f"\nvitc vs Pillow + NumPy: decode **{pp['decode_s'] / pv['decode_s']:.2f}x**, preprocess **{pp['preprocess_s'] / pv['preprocess_s']:.2f}x**; "
      f"pixel_values bit for bit: {diff} of {a.size} values differ.")
PY
