#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# gpu-check.sh — everything vitc should prove on a machine with an NVIDIA GPU, in one go and in
# under 8 minutes (each step has its own time limit), so that a short GPU reservation is enough:
# builds with the CUDA backend, runs the CUDA tests (test_cuda, test_cuda_plan,
# tests/cli/test_cuda.sh), `vitc compare --device cuda` in every CUDA precision (fp32, tf32,
# bf16, fp16) against the CPU fp32 reference on ViT-B/16 and on the ViT-B/16 classifier, and
# `vitc bench --device cuda --batch 1,8,64,256` in each precision; then writes
# bench/results/<date>-gpu-<gpu>.md with the GPU, driver, toolkit, commit, every command, its
# output, time and status. Models have random weights (`vitc init`, seed 0): speed and the
# device-vs-CPU differences do not depend on the values.
#
#   scripts/gpu-check.sh [--out FILE] [--dry-run]
# --dry-run runs what needs no GPU (the CUDA build) and prints the other steps. Every step's
# limit is cut to what is left of 470 s, so the whole run ends within 8 minutes.
# Exit status: 0 when every step passed, 1 otherwise (the report is written either way).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build-gpu}
CACHE=bench/.cache/models
out="" dry=0
while [ $# -gt 0 ]; do
    case $1 in
    --out) out=$2 && shift ;;
    --dry-run) dry=1 ;;
    *) sed -n '/^#   scripts/,/^# Exit/p' "$0" | sed 's/^# \{0,1\}//' >&2 && exit 2 ;;
    esac
    shift
done

start=$(date +%s)
steps=0 failed=0
log=$(mktemp)
trap 'rm -f "$log" "$log.out"' EXIT

deadline=$((start + 470))

# step LIMIT_S TITLE CMD...: runs CMD under `timeout` (LIMIT_S, or less when the 470 s budget
# is nearly spent), appends its title, command, time, status and output (last 60 lines) to
# the report. In a dry run only the build runs.
step() {
    local limit=$1 title=$2
    shift 2
    steps=$((steps + 1))
    if [ "$dry" = 1 ] && [ "$steps" != 1 ]; then
        printf '[dry-run] %s (limit %ss): %s\n' "$title" "$limit" "$*"
        return 0
    fi
    local t0 rc left
    t0=$(date +%s)
    left=$((deadline - t0))
    [ "$left" -lt "$limit" ] && limit=$left
    if [ "$limit" -le 0 ]; then
        failed=$((failed + 1))
        # shellcheck disable=SC2016
        printf '### %s\n\n`%s` — not run: the 470 s budget was spent\n\n' "$title" "$*" >>"$log"
        return 1
    fi
    echo "== $title" >&2
    timeout --kill-after=10 "$limit" "$@" >"$log.out" 2>&1
    rc=$?
    [ "$rc" = 0 ] || failed=$((failed + 1))
    {
        # shellcheck disable=SC2016
        printf '### %s\n\n`%s` — %s in %ss\n\n```\n' "$title" "$*" \
            "$([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc$([ "$rc" = 124 ] && echo ", over the ${limit}s limit"))")" \
            "$(($(date +%s) - t0))"
        tail -n 60 "$log.out"
        printf '```\n\n'
    } >>"$log"
    tail -n 3 "$log.out" >&2
    return "$rc"
}

# ---- the machine ----
gpu="none" driver="" mem="" cc=""
if command -v nvidia-smi >/dev/null 2>&1 &&
    q=$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null | head -n 1) &&
    [ -n "$q" ]; then
    IFS=, read -r gpu driver mem cc <<<"$q"
    gpu=$(echo "$gpu" | sed 's/^ *//;s/ *$//')
fi
if [ "$gpu" = none ] && [ "$dry" = 0 ]; then
    echo "gpu-check.sh: no NVIDIA GPU found (nvidia-smi lists none); nothing to check (--dry-run shows the steps)" >&2
    exit 1
fi
nvcc=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null || true)
[ -n "$nvcc" ] || {
    echo "gpu-check.sh: no nvcc on PATH or in /usr/local/cuda/bin: the CUDA backend cannot be built" >&2
    exit 1
}
toolkit=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
# The GPU's own architecture (compute_cap 9.0 -> 90) beside the default ones, so nothing is JIT-compiled.
arch="80 90"
cc_arch=$(echo "$cc" | tr -d ' .')
[ -n "$cc_arch" ] && [[ " $arch " != *" $cc_arch "* ]] && arch="$arch $cc_arch"
jobs=$(nproc)
model=$CACHE/vit-base-patch16-224-in21k
classifier=$CACHE/vit-base-patch16-224

# ---- the steps ----
step 150 "build with CUDA (arch $arch)" make -j"$jobs" BUILD="$BUILD" VITC_CUDA=1 CUDA_ARCH="$arch" \
    all "$BUILD/tests/test_cuda" "$BUILD/tests/test_cuda_plan"
step 60 "test_cuda (CUDA ops against the CPU kernels)" "$BUILD/tests/test_cuda"
step 20 "test_cuda_plan" "$BUILD/tests/test_cuda_plan"
step 60 "tests/cli/test_cuda.sh (embed, classify, bench on cuda)" env BUILD="$BUILD" bash tests/cli/test_cuda.sh
for m in "$model" "$classifier"; do
    [ -f "$m/model.safetensors" ] || [ "$dry" = 1 ] ||
        step 20 "vitc init $(basename "$m")" "$BUILD/vitc" init "$m" --preset "$(basename "$m")" --seed 0
done
for p in fp32 tf32 bf16 fp16; do
    step 25 "compare ViT-B/16 in21k, cuda $p vs cpu fp32" "$BUILD/vitc" compare "$model" \
        --device cuda --precision "$p" --samples 8 --threads "$jobs"
done
for p in fp32 tf32 bf16 fp16; do
    step 25 "compare ViT-B/16 classifier, cuda $p vs cpu fp32" "$BUILD/vitc" compare \
        "$classifier" data/sample.jpg --device cuda --precision "$p" --samples 8 --threads "$jobs"
done
for p in fp32 tf32 bf16 fp16; do
    step 45 "bench ViT-B/16, cuda $p" "$BUILD/vitc" bench "$model" --device cuda --precision "$p" \
        --batch 1,8,64,256 --iters 20
done
[ "$dry" = 1 ] && exit 0

# ---- the report ----
total=$(($(date +%s) - start))
name=$(echo "$gpu" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' | sed 's/-*$//')
out=${out:-bench/results/$(date -u +%F)-gpu-$name.md}
{
    printf '# GPU check: %s\n\n' "$gpu"
    printf -- '- date: %s\n- GPU: %s, %s, compute capability %s; driver %s\n- CUDA toolkit: %s (%s)\n' \
        "$(date -u '+%F %H:%M UTC')" "$gpu" "$mem" "$cc" "$driver" "$toolkit" "$nvcc"
    printf -- '- host: %s, %s cores\n- vitc commit: %s%s\n' \
        "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$jobs" \
        "$(git rev-parse --short HEAD 2>/dev/null)" "$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
    printf -- '- script: scripts/gpu-check.sh, %s steps, %s failed, %ss in all\n\n' "$steps" "$failed" "$total"
    cat "$log"
} >"$out"
echo "gpu-check.sh: $steps steps, $failed failed, ${total}s; report in $out" >&2
[ "$failed" = 0 ]
