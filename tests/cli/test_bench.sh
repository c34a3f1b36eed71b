#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_bench.sh — `vitc bench` on the tiny fixtures: help text, exit codes for bad options,
# the text table's shape, and the JSON report (statistics recomputed from its own run times
# with numpy's definitions, FLOP count from config.json, images/s and speed-up). It never
# asserts how fast anything is. Runs from the repository root; needs /usr/bin/python3 + numpy.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.bash
M=tests/data/models
IN21K=$M/tiny-in21k
CLS=$M/tiny-classifier
cli_setup bench numpy

# ---- help and usage errors ---------------------------------------------------------------------

expect_rc "bench --help" 0 "$VITC" bench --help
if grep -qF '2 * (P*C*p^2*D + L*(4*T*D^2 + 2*T*D*I + 2*T^2*D) + D^2 + D*num_labels)' "$tmp/out" &&
    grep -qF 'np.percentile(t, 99)' "$tmp/out" && grep -qF 'ddof=0' "$tmp/out"; then
    ok "help states the FLOP formula, the p99 and the std definitions"
else
    bad "help lacks the FLOP formula or the statistics' definitions"
fi
expect_rc "vitc help bench" 0 "$VITC" help bench
expect_rc "vitc --help lists bench" 0 "$VITC" --help
grep -qE '^  bench ' "$tmp/out" && ok "bench is in the command list" || bad "bench not listed"

expect_rc "no MODEL" 2 "$VITC" bench
expect_err "no MODEL" "missing MODEL"
expect_rc "two MODELs" 2 "$VITC" bench "$IN21K" "$CLS"
expect_rc "unknown option" 2 "$VITC" bench "$IN21K" --fast
expect_err "unknown option" "unknown option '--fast'"
for b in 0 4097 x 1,,2 ,1 1, -1 1.5; do
    expect_rc "--batch $b" 2 "$VITC" bench "$IN21K" --batch "$b"
done
expect_rc "--batch with 17 sizes" 2 "$VITC" bench "$IN21K" --batch 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1
expect_rc "--iters 0" 2 "$VITC" bench "$IN21K" --iters 0
expect_rc "--iters x" 2 "$VITC" bench "$IN21K" --iters x
expect_rc "--warmup -1" 2 "$VITC" bench "$IN21K" --warmup -1
for s in 0 -1 abc 1e3 nan inf 86401; do
    expect_rc "--seconds $s" 2 "$VITC" bench "$IN21K" --seconds "$s"
done
expect_rc "--iters with --seconds" 2 "$VITC" bench "$IN21K" --iters 2 --seconds 1
expect_err "--iters with --seconds" "exclude each other"
expect_rc "--threads -1" 2 "$VITC" bench "$IN21K" --threads -1
expect_rc "--precision fp64" 2 "$VITC" bench "$IN21K" --precision fp64
expect_err "--precision fp64" "unknown precision 'fp64'"
expect_rc "--device tpu" 2 "$VITC" bench "$IN21K" --device tpu
expect_rc "--device cuda:x" 2 "$VITC" bench "$IN21K" --device cuda:x
expect_rc "--seed -1" 2 "$VITC" bench "$IN21K" --seed -1
expect_rc "--json=1" 2 "$VITC" bench "$IN21K" --json=1

# ---- runtime failures ------------------------------------------------------------------------

expect_rc "missing model directory" 1 "$VITC" bench "$tmp/nope" --iters 1 --batch 1
expect_err "missing model directory" "$tmp/nope"

# Precisions: the library decides which run where. bf16 and int8 run on the CPU and the header
# names them; fp16 and tf32 are for a CUDA ctx, and the CPU refuses them saying so.
for p in bf16 int8; do
    run "$VITC" bench "$IN21K" --precision "$p" --iters 1 --batch 1
    if [ "$rc" -eq 0 ] && grep -qF "precision $p" "$tmp/out"; then
        ok "--precision $p: runs, header names it"
    else
        bad "--precision $p: exit $rc; $(head -c 300 "$tmp/err")"
    fi
done
for p in fp16 tf32; do
    expect_rc "--precision $p on the cpu" 1 "$VITC" bench "$IN21K" --precision "$p" --iters 1 \
        --batch 1 --device cpu
    expect_err "--precision $p on the cpu" "CUDA"
done
run "$VITC" bench "$IN21K" --device cuda --iters 1 --batch 1
if [ "$rc" -eq 1 ] && [ -s "$tmp/err" ]; then
    ok "--device cuda without a usable GPU: exit 1, $(head -n 1 "$tmp/err")"
elif [ "$rc" -eq 0 ] && grep -qF "backend cuda:0" "$tmp/out" && grep -qF "peak device memory" "$tmp/out"; then
    ok "--device cuda: runs on the GPU"
else
    bad "--device cuda: exit $rc; $(head -c 300 "$tmp/err")"
fi

# ---- the text table --------------------------------------------------------------------------

expect_rc "text table" 0 "$VITC" bench "$IN21K" --batch 1,3,2 --iters 4 --warmup 1 --threads 1
check "text table shape" "$tmp/out" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
head = lines[0].split()
assert head[0] == "vitc" and "backend" in head and "cpu" in head, lines[0]
assert "threads 1 " in lines[0] and "precision fp32" in lines[0], lines[0]
assert lines[1].startswith("model tests/data/models/tiny-in21k: ViTModel"), lines[1]
assert "GFLOP per image" in lines[1] and "load " in lines[2] and "peak RSS" in lines[2], lines[1:3]
i = next(k for k, l in enumerate(lines) if l.split()[:2] == ["batch", "runs"])
cols = lines[i].split()
want = ["batch", "runs", "mean", "median", "min", "max", "p99", "std", "images/s", "speed-up",
        "GFLOP/s", "%peak"]
assert cols == want, cols
rows = [l.split() for l in lines[i + 1:] if l.strip()]
assert [r[0] for r in rows] == ["1", "3", "2"], rows
assert all(r[1] == "4" and len(r) == len(want) for r in rows), rows
assert rows[0][9] == "1.00x", rows[0]
for r in rows:
    mean, med, lo, hi, p99, std = map(float, r[2:8])
    assert 0 < lo <= med <= hi and lo <= mean <= hi and med <= p99 <= hi and std >= 0, r
print(f"{len(rows)} rows in the asked order, 4 runs each")
EOF

# ---- the JSON report ---------------------------------------------------------------------------

expect_rc "--json" 0 "$VITC" bench "$CLS" --batch 2,1 --iters 8 --warmup 0 --threads 2 --seed 5 \
    --json
check "JSON statistics follow numpy's definitions" "$tmp/out" "$CLS/config.json" <<'EOF'
import json, sys
import numpy as np
r = json.load(open(sys.argv[1]))
cfg = json.load(open(sys.argv[2]))
for k in ("vitc_version", "model", "architecture", "backend", "threads", "precision", "cpu",
          "cpu_flags", "peak_isa", "fma_peak_gflops", "flops_per_image", "load_ms",
          "peak_rss_bytes", "rss_bytes", "seed", "warmup", "results"):
    assert k in r, k
assert r["threads"] == 2 and r["precision"] == "fp32" and r["seed"] == 5 and r["warmup"] == 0
assert r["architecture"] == "ViTForImageClassification" and r["backend"] == "cpu"
assert r["peak_device_bytes"] is None
assert r["peak_rss_bytes"] > 0 and r["rss_bytes"] > 0 and r["load_ms"] >= 0
# FLOP per image from config.json, 2 per multiply-add.
D, L, I = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
S, p, C = cfg["image_size"], cfg["patch_size"], cfg.get("num_channels", 3)
P = (S // p) ** 2
T = P + 1
mac = P * C * p * p * D + L * (4 * T * D * D + 2 * T * D * I + 2 * T * T * D)
mac += D * len(cfg["id2label"])  # classifier; ViTForImageClassification has no pooler
assert r["flops_per_image"] == 2 * mac, (r["flops_per_image"], 2 * mac)
res = r["results"]
assert [x["batch"] for x in res] == [2, 1], res
close = lambda a, b: abs(a - b) <= 1e-7 * max(abs(b), 1e-9)
for x in res:
    t = np.array(x["times_ms"], dtype=np.float64)
    assert x["runs"] == 8 and t.size == 8 and (t > 0).all()  # even: median interpolates
    want = {"mean_ms": t.mean(), "median_ms": np.median(t), "min_ms": t.min(), "max_ms": t.max(),
            "p99_ms": np.percentile(t, 99), "std_ms": np.std(t)}
    for k, v in want.items():
        assert close(x[k], v), (x["batch"], k, x[k], v)
    rate = x["batch"] * 1000.0 / x["median_ms"]
    assert close(x["images_per_s"], rate), x
    assert close(x["gflops"], rate * r["flops_per_image"] / 1e9), x
    if r["fma_peak_gflops"] is not None:
        assert close(x["peak_fraction"], x["gflops"] / r["fma_peak_gflops"]), x
one = res[1]["images_per_s"]
assert close(res[1]["speedup_vs_batch1"], 1.0)
assert close(res[0]["speedup_vs_batch1"], res[0]["images_per_s"] / one)
print("mean, median, min, max, p99, std, images/s, GFLOP/s, speed-up and FLOP count agree")
EOF

expect_rc "--json without batch 1" 0 "$VITC" bench "$IN21K" --batch 3 --iters 2 --json
check "speed-up is null without batch 1" "$tmp/out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
x = r["results"][0]
assert x["batch"] == 3 and x["speedup_vs_batch1"] is None and x["runs"] == 2, x
print("speedup_vs_batch1 null, 2 runs")
EOF

expect_rc "--seconds" 0 "$VITC" bench "$IN21K" --batch 1 --seconds 0.0001 --json
check "--seconds makes at least 5 runs and records every run" "$tmp/out" <<'EOF'
import json, sys
x = json.load(open(sys.argv[1]))["results"][0]
assert x["runs"] >= 5 and len(x["times_ms"]) == x["runs"], x["runs"]
print(f"{x['runs']} runs")
EOF

run env VITC_NUM_THREADS=1 "$VITC" bench "$IN21K" --batch 1 --iters 1 --json
check "VITC_NUM_THREADS sets the reported thread count" "$tmp/out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["threads"] == 1, r["threads"]
print("threads 1")
EOF

run env VITC_CPU=ref "$VITC" bench "$IN21K" --batch 1 --iters 1 --json
check "VITC_CPU is reported when it forces a kernel table" "$tmp/out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["vitc_cpu_env"] == "ref", r["vitc_cpu_env"]
print("vitc_cpu_env ref")
EOF

finish
