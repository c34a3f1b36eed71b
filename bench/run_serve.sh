#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run_serve.sh — `vitc serve` against `vitc bench` in one run on one machine: images/s and p50/p99
# latency through the server (hey, Debian's HTTP load generator) at several concurrencies, for
# JPEG bodies on the plain embed route and for pixel_values in v2 binary form, each level right
# after a `vitc bench` of the bare forward pass at the batch that level can fill (min(c,
# --max-batch)), so that each ratio compares neighbours in time on a machine whose load drifts.
# Also times decode + preprocess of the image alone (`vitc embed --output pixel_values`), so the
# batch-1 latency target (decode + preprocess + one batch-1 forward) can be read off.
# Usage: bench/run_serve.sh [MODEL_DIR] (default: a random-weight ViT-B/16 made with vitc init)
# Env: BUILD (build), THREADS (2), MAX_BATCH (8), RUN_SECONDS (20 per run), CONCURRENCY ("1 8 16 32"),
#      IMAGE (data/sample.jpg), OUT (bench/results/DATE-serve.md; the raw hey output beside it).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VITC=$PWD/$BUILD/vitc
THREADS=${THREADS:-2}
MAX_BATCH=${MAX_BATCH:-8}
# Not SECONDS: bash sets that (seconds since the shell started), so it is always "set".
SECONDS_PER=${RUN_SECONDS:-20}
CONCURRENCY=${CONCURRENCY:-1 8 16 32}
IMAGE=${IMAGE:-data/sample.jpg}
MODEL=${1:-$BUILD/demo/vit-base-patch16-224-in21k}
DATE=$(date -u +%Y-%m-%d)
OUT=${OUT:-bench/results/$DATE-serve.md}
PY=/usr/bin/python3
command -v hey >/dev/null || { echo "run_serve.sh: needs hey (scripts/install-deps.sh --test)" >&2; exit 1; }
[ -f "$MODEL/model.safetensors" ] || "$VITC" init "$MODEL" --preset vit-base-patch16-224-in21k --seed 0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vitc-bench-serve.XXXXXX")
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

echo "== decode + preprocess alone (vitc embed --output pixel_values, 1 worker)"
for i in $(seq 1 32); do ln -s "$PWD/$IMAGE" "$tmp/img$i.${IMAGE##*.}"; done
t0=$(date +%s.%N)
"$VITC" embed "$MODEL" "$tmp"/img*.* --output pixel_values --workers 1 -o "$tmp/pv.npy" --quiet
t1=$(date +%s.%N)
echo "$t0 $t1" >"$tmp/decode.txt"

echo "== vitc serve --max-batch $MAX_BATCH --threads $THREADS"
"$VITC" serve "$MODEL" --port 0 --max-batch "$MAX_BATCH" --threads "$THREADS" --workers 1 \
    --max-queue 256 --max-connections 256 --max-body-bytes 67108864 --quiet >"$tmp/url" &
server=$!
for _ in $(seq 1 600); do [ -s "$tmp/url" ] && break; sleep 0.1; done
URL=$(head -n 1 "$tmp/url")
NAME=$(basename "$MODEL")
# The v2 binary body of one image's pixel_values (as tritonclient sends it).
"$PY" - "$tmp/pv.npy" "$tmp/pv.body" "$tmp/pv.ihcl" <<'PY'
import json, sys
import numpy as np
pv = np.load(sys.argv[1])[:1].astype("<f4")
head = json.dumps({"inputs": [{"name": "pixel_values", "datatype": "FP32", "shape": list(pv.shape),
                               "parameters": {"binary_data_size": pv.nbytes}}],
                   "parameters": {"binary_data_output": True}}).encode()
open(sys.argv[2], "wb").write(head + pv.tobytes())
open(sys.argv[3], "w").write(str(len(head)))
PY
curl -sf --data-binary @"$IMAGE" "$URL/v2/models/$NAME/embed" >/dev/null  # warm
for c in $CONCURRENCY; do
    b=$((c < MAX_BATCH ? c : MAX_BATCH))
    echo "== vitc bench --batch $b --threads $THREADS --seconds $SECONDS_PER (the server idle)"
    "$VITC" bench "$MODEL" --batch "$b" --threads "$THREADS" --seconds "$SECONDS_PER" --json \
        >"$tmp/bench.$c.json"
    echo "== hey -c $c -z ${SECONDS_PER}s: JPEG on /embed"
    hey -z "${SECONDS_PER}s" -c "$c" -t 0 -o csv -m POST -D "$IMAGE" -T image/jpeg \
        "$URL/v2/models/$NAME/embed" >"$tmp/hey.jpeg.$c.csv"
    echo "== hey -c $c -z ${SECONDS_PER}s: pixel_values on /infer (binary)"
    hey -z "${SECONDS_PER}s" -c "$c" -t 0 -o csv -m POST -D "$tmp/pv.body" \
        -T application/octet-stream -H "Inference-Header-Content-Length: $(cat "$tmp/pv.ihcl")" \
        "$URL/v2/models/$NAME/infer" >"$tmp/hey.pv.$c.csv"
done
curl -sf "$URL/metrics" >"$tmp/metrics.txt"
kill -TERM "$server"
wait "$server"
server=

"$PY" - "$tmp" "$OUT" "$MAX_BATCH" "$THREADS" "$SECONDS_PER" "$CONCURRENCY" "$IMAGE" "$MODEL" <<'PY'
import json, os, platform, re, subprocess, sys, time
tmp, out, mb, threads, secs, conc, image, model = sys.argv[1:9]
mb = int(mb)
def bench(c):
    r = json.load(open(os.path.join(tmp, f"bench.{c}.json")))["results"][0]
    return r["batch"], r["median_ms"], r["images_per_s"]
t0, t1 = map(float, open(os.path.join(tmp, "decode.txt")).read().split())
decode_ms = (t1 - t0) * 1e3 / 32
def hey(path):
    """hey -o csv: response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,
    status-code,offset per answered request. Rate: 200s over the span from the first start to
    the last end; percentiles as np.percentile (linear)."""
    import numpy as np
    rows = [l.split(",") for l in open(path).read().splitlines()[1:] if l.strip()]
    ok = np.array([float(r[0]) for r in rows if r[6] == "200"])
    span = max(float(r[7]) + float(r[0]) for r in rows) - min(float(r[7]) for r in rows)
    other = {}
    for r in rows:
        if r[6] != "200":
            other[r[6]] = other.get(r[6], 0) + 1
    p = lambda q: float(np.percentile(ok, q)) * 1e3
    return len(ok), len(ok) / span, p(50), p(99), sorted(other.items()), False
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
lines = []
lines.append(f"# vitc serve vs vitc bench — {time.strftime('%Y-%m-%d', time.gmtime())}")
lines.append("")
lines.append(f"Machine: {cpu}, {os.cpu_count()} cores visible; shared with other jobs while this ran "
             "(a noisy machine: read ratios within a run, not absolute numbers across runs).")
lines.append(f"Model: {model}, fp32, --threads {threads}, "
             f"--max-batch {mb}, --workers 1, {secs} s per level; image {image}.")
lines.append("Server side: `vitc serve`; client: hey on the same machine (it takes CPU too).")
lines.append("")
lines.append(f"Decode + preprocess of the image alone: {decode_ms:.1f} ms per image (1 thread).")
lines.append("Each level: `vitc bench` at batch min(c, max-batch) just before it (its images/s and median "
             "forward), then hey on each input form; the budget of p50 is decode + preprocess (JPEG only) "
             "+ that median forward.")
lines.append("")
lines.append("| input | concurrency | vitc bench batch: images/s, median ms | requests (200) | images/s | vs vitc bench | p50 ms | p99 ms | p50 vs budget | other statuses |")
lines.append("|---|---|---|---|---|---|---|---|---|---|")
for c in conc.split():
    b, med_ms, b_ips = bench(c)
    for form, label in (("jpeg", "JPEG, /embed"), ("pv", "pixel_values, /infer binary")):
        n, rate, p50, p99, other, errs = hey(os.path.join(tmp, f"hey.{form}.{c}.csv"))
        budget = (decode_ms if form == "jpeg" else 0) + med_ms
        lines.append(f"| {label} | {c} | {b}: {b_ips:.2f}, {med_ms:.0f} | {n} | {rate:.2f} | {rate / b_ips:.1%} | "
                     f"{p50:.0f} | {p99:.0f} | {p50 / budget:.2f}x | "
                     f"{', '.join(f'{k}: {v}' for k, v in other) or '-'}{' (errors)' if errs else ''} |")
m = open(os.path.join(tmp, "metrics.txt")).read()
g = lambda name: float(re.search(rf"^{name}\{{[^}}]*\}} ([\d.e+]+)", m, re.M).group(1))
lines.append("")
lines.append(f"Server metrics over the run: {g('vitc_inference_count_total'):.0f} images in "
             f"{g('vitc_inference_exec_count_total'):.0f} forward passes (average batch "
             f"{g('vitc_inference_count_total') / g('vitc_inference_exec_count_total'):.2f}).")
text = "\n".join(lines) + "\n"
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
open(out, "w").write(text)
print(text)
PY
# The raw runs beside the table.
tar -C "$tmp" -czf "${OUT%.md}.raw.tar.gz" decode.txt metrics.txt $(cd "$tmp" && ls bench.*.json hey.*.csv)
echo "wrote $OUT"
