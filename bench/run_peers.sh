#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run_peers.sh — vitc and the engines a user would otherwise pick, timed alternately on the
# same machine and the same weights, with ratios: vitc fp32/bf16/int8 (`vitc bench --json`), PyTorch
# (Debian python3-torch: eager, TorchScript-frozen, bf16 weights) and ONNX Runtime
# (npm onnxruntime-node: plain export, transformer-fused graph, dynamic int8). Prints a
# markdown report; --out also writes it to a file. Setup (npm package, ONNX graphs, preset
# models) goes to bench/.cache (git-ignored). Needs `make` first and
# `scripts/install-deps.sh --bench`. Run from anywhere; timings are never asserted.
#
#   bench/run_peers.sh MODEL_DIR|PRESET [--batches 1,4,8] [--threads 2] [--rounds 3]
#                      [--seconds 5] [--engines LIST] [--out FILE]
# LIST is a comma-separated subset of: vitc, vitc-bf16, vitc-int8, torch-eager, torch-jit,
# torch-bf16, torch-autocast, ort-fp32, ort-fused, ort-int8 (default: all but torch-autocast).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
VITC=$BUILD/vitc
CACHE=bench/.cache
ORT_VERSION=1.30.0
PEERS=bench/peers

usage() {
    sed -n '/^#   bench/,/^# LIST/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 1 ] || usage
target=$1
shift
batches=1,4,8 threads=2 rounds=3 seconds=5 out=""
engines=vitc,vitc-bf16,vitc-int8,torch-eager,torch-jit,torch-bf16,ort-fp32,ort-fused,ort-int8
while [ $# -gt 0 ]; do
    case $1 in
    --batches) batches=$2 ;;
    --threads) threads=$2 ;;
    --rounds) rounds=$2 ;;
    --seconds) seconds=$2 ;;
    --engines) engines=$2 ;;
    --out) out=$2 ;;
    *) usage ;;
    esac
    shift 2 || usage
done
[[ $batches =~ ^[0-9]+(,[0-9]+)*$ && $threads =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ &&
    $seconds =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage
MIN_RUNS=5
WARMUP_SECONDS=1
VITC_WARMUP=1

die() {
    echo "run_peers.sh: $*" >&2
    exit 1
}
IFS=, read -r -a list <<<"$engines"
n=${#list[@]}
for e in "${list[@]}"; do
    case $e in
    vitc | vitc-bf16 | vitc-int8 | torch-eager | torch-jit | torch-bf16 | torch-autocast) ;;
    ort-fp32 | ort-fused | ort-int8) ;;
    *) die "unknown engine '$e' (see the comment at the top of $0)" ;;
    esac
done
[ -x "$VITC" ] || die "$VITC not built (run make)"
"$PYTHON" -c 'import torch, numpy, onnx' 2>/dev/null ||
    die "$PYTHON lacks torch, numpy or onnx (scripts/install-deps.sh --bench)"
command -v node >/dev/null && command -v npm >/dev/null ||
    die "node and npm are needed for ONNX Runtime (scripts/install-deps.sh --bench)"

# ---- the model: a directory, or a preset written once with seeded random weights -------------

if [ -f "$target/config.json" ]; then
    model=$target
else
    model=$CACHE/models/$target
    [ -f "$model/model.safetensors" ] || "$VITC" init "$model" --preset "$target" --seed 0 >&2
fi
model_key=$(basename "$model")-$(realpath "$model" | cksum | cut -d' ' -f1)

# ---- ONNX Runtime (npm) and the ONNX graphs ---------------------------------------------------

if [[ ,$engines, == *,ort-* ]]; then
    if [ ! -d "$CACHE/ort/node_modules/onnxruntime-node" ]; then
        mkdir -p "$CACHE/ort"
        echo "installing onnxruntime-node@$ORT_VERSION into $CACHE/ort" >&2
        # The CPU binaries ship in the package; its install script only fetches CUDA ones.
        (cd "$CACHE/ort" && ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
            npm install --no-save --no-audit --no-fund --no-package-lock --ignore-scripts \
            "onnxruntime-node@$ORT_VERSION" >&2)
    fi
fi
onnx_dir=$CACHE/onnx/$model_key
if [ ! -f "$onnx_dir/meta.json" ] || [ "$model/model.safetensors" -nt "$onnx_dir/meta.json" ]; then
    "$PYTHON" "$PEERS/make_onnx.py" "$model" "$onnx_dir" >&2
fi

# ---- the same threads for everyone ------------------------------------------------------------

export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
# Debian's torch does its fp32 GEMMs in OpenBLAS; its OpenMP build shares torch's OpenMP
# workers instead of adding its own pthreads on top of them.
# OPENBLAS_DIR: another copy of that build (e.g. unpacked with dpkg -x, not installed).
openblas=${OPENBLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-openmp}
if [ -d "$openblas" ]; then
    LD_LIBRARY_PATH=$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vitc-peers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
runs=$tmp/runs.jsonl
: >"$runs"
loadavg() { cut -d' ' -f1 /proc/loadavg; }
load_start=$(loadavg)

# vitc's own output on the cross-check input, against PyTorch's, per precision it runs in.
head=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["head"])' \
    "$onnx_dir/meta.json")
declare -A vitc_diff
for e in "${list[@]}"; do
    [[ $e == vitc* ]] || continue
    p=${e#vitc}
    p=${p#-}
    p=${p:-fp32}
    "$VITC" embed "$model" "$onnx_dir/ref_input.npy" --output "$head" --precision "$p" \
        -o "$tmp/vitc_head_$p.npy" --threads "$threads" 2>/dev/null
    vitc_diff[$p]=$("$PYTHON" -c '
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
print(float(np.abs(a.astype(np.float64) - b).max()))' "$tmp/vitc_head_$p.npy" "$onnx_dir/ref_head.npy")
done

# run_engine NAME ROUND: one engine, all batch sizes, appending to $runs.
run_engine() {
    local common=(--threads "$threads" --batches "$batches" --seconds "$seconds"
        --min-runs "$MIN_RUNS" --warmup-seconds "$WARMUP_SECONDS" --round "$2" --out "$runs")
    case $1 in
    vitc | vitc-bf16 | vitc-int8)
        local p=${1#vitc}
        p=${p#-}
        p=${p:-fp32}
        "$VITC" bench "$model" --json --batch "$batches" --threads "$threads" \
            --seconds "$seconds" --warmup "$VITC_WARMUP" --precision "$p" >"$tmp/vitc.json"
        "$PYTHON" "$PEERS/report.py" --from-vitc "$tmp/vitc.json" "$2" "${vitc_diff[$p]}" >>"$runs"
        [ "$p" != fp32 ] || [ -f "$tmp/probe.json" ] || cp "$tmp/vitc.json" "$tmp/probe.json"
        ;;
    torch-eager | torch-jit | torch-bf16 | torch-autocast)
        local mode
        case $1 in
        torch-eager) mode=eager ;;
        torch-jit) mode=jit_freeze ;;
        torch-bf16) mode=bf16_weights ;;
        torch-autocast) mode=bf16_autocast ;;
        esac
        "$PYTHON" "$PEERS/torch_bench.py" --model "$model" --ref "$onnx_dir" --modes "$mode" \
            "${common[@]}"
        ;;
    ort-fp32 | ort-fused | ort-int8)
        local variant=${1#ort-}
        [ "$variant" = int8 ] && variant=int8dyn
        if [ ! -f "$onnx_dir/$variant.onnx" ]; then
            echo "skip $1: no $variant graph for this model" >&2
            return 0
        fi
        node "$PEERS/ort_bench.js" --ort "$CACHE/ort" --model "$onnx_dir/$variant.onnx" \
            --variant "$variant" "${common[@]}"
        ;;
    *) die "unknown engine '$1'" ;;
    esac
}

for ((r = 1; r <= rounds; r++)); do
    for ((i = 0; i < n; i++)); do
        e=${list[$(((i + r - 1) % n))]}
        echo "round $r/$rounds: $e (load $(loadavg))" >&2
        # One engine failing (a missing package, memory) leaves the others' figures standing.
        run_engine "$e" "$r" || echo "run_peers.sh: $e failed in round $r" >&2
    done
done

# ---- the report -------------------------------------------------------------------------------

# The machine and model facts come from vitc's own report (a 1-run probe without vitc runs).
if [ ! -f "$tmp/probe.json" ]; then
    "$VITC" bench "$model" --batch 1 --iters 1 --warmup 0 --json >"$tmp/probe.json"
fi
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null | head -c1)" ] || commit+=+changes
"$PYTHON" - "$tmp/probe.json" "$onnx_dir/meta.json" "$model" "$target" >"$tmp/meta.json" <<EOF
import json, os, platform, sys, datetime
probe, onnx_meta = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
runs = [json.loads(l) for l in open("$runs") if l.strip()]
ort = next((r["version"] for r in runs if r["engine"] == "onnxruntime"), "-")
blas = next((r["blas"] for r in runs if r["engine"] == "pytorch"), "-")
print(json.dumps({
    "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
    "model_name": os.path.basename(sys.argv[4].rstrip("/")), "model": sys.argv[3],
    "architecture": probe["architecture"], "cpu": probe["cpu"], "cpu_flags": probe["cpu_flags"],
    "cores": os.cpu_count(), "kernel": platform.release(), "vitc_version": probe["vitc_version"],
    "commit": "$commit",
    "torch": onnx_meta["torch"], "onnx": onnx_meta["onnx"], "opset": onnx_meta["opset"],
    "ort": ort, "blas": blas, "head": onnx_meta["head"], "threads": $threads,
    "rounds": $rounds, "seconds": $seconds, "min_runs": $MIN_RUNS,
    "warmup_seconds": $WARMUP_SECONDS, "vitc_warmup": $VITC_WARMUP,
    "flops_per_image": probe["flops_per_image"],
    "loadavg_start": $load_start, "loadavg_end": $(loadavg),
    "note": os.environ.get("VITC_BENCH_NOTE", "other work may have run on this machine at the "
                           "same time; the figures are indicative, the ratios (measured "
                           "alternately in one run) more so than the absolute times."),
}))
EOF
if [ -n "$out" ]; then
    mkdir -p "$(dirname "$out")"
    "$PYTHON" "$PEERS/report.py" "$runs" "$tmp/meta.json" | tee "$out"
    cp "$runs" "${out%.md}.runs.jsonl"
else
    "$PYTHON" "$PEERS/report.py" "$runs" "$tmp/meta.json"
fi
