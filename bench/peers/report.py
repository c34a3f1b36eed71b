#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# report.py — turns the peer benchmark's raw runs (one JSON line per engine, variant, batch
# size and round, with every run's time) into the markdown report: per batch size, each
# engine's latency statistics over all its rounds pooled, the per-round medians, images/s,
# GFLOP/s against the measured fp32 FMA peak, the ratio of its median to vitc's, and how far
# its output is from PyTorch fp32 on the cross-check input. Statistics as `vitc bench`:
# np.median, np.percentile(t, 99) (linear), np.std(t) (ddof=0). Not part of vitc.
#   report.py RUNS.jsonl META.json          (vitc-bench JSON files are converted by
#   report.py --from-vitc BENCH.json ROUND MAXDIFF >> RUNS.jsonl   this second form)

import json
import sys

import numpy as np

# fp32 peers: the ones vitc fp32 is compared with in each batch's summary line.
FP32_PEERS = {("pytorch", "eager"), ("pytorch", "jit_freeze"), ("onnxruntime", "fp32"),
              ("onnxruntime", "fused")}

# Each reduced-precision vitc mode and the peers it is compared with in the summary lines,
# with its dot-product instruction's multiply-adds per FMA-equivalent issue slot on the
# machines these figures come from (Zen 4: vdpbf16ps 2x, vpdpbusd 4x the fp32 FMA's rate).
LOWP = {"bf16": ([("pytorch", "bf16_weights"), ("pytorch", "bf16_autocast")], 2),
        "int8": ([("onnxruntime", "int8dyn")], 4)}

# Row order and the names the report gives each (engine, variant).
ENGINES = [
    (("vitc", "fp32"), "vitc fp32"),
    (("vitc", "bf16"), "vitc bf16"),
    (("vitc", "int8"), "vitc int8"),
    (("pytorch", "eager"), "PyTorch eager fp32"),
    (("pytorch", "jit_freeze"), "PyTorch TorchScript-frozen fp32"),
    (("pytorch", "bf16_weights"), "PyTorch bf16 weights"),
    (("pytorch", "bf16_autocast"), "PyTorch bf16 autocast"),
    (("onnxruntime", "fp32"), "ONNX Runtime fp32 (plain export)"),
    (("onnxruntime", "fused"), "ONNX Runtime fp32 (transformer-fused graph)"),
    (("onnxruntime", "int8dyn"), "ONNX Runtime dynamic int8"),
]


def from_vitc(path, round_, maxdiff):
    """One JSON line per batch size from a `vitc bench --json` report."""
    r = json.load(open(path))
    for x in r["results"]:
        print(json.dumps({"engine": "vitc", "variant": r["precision"], "batch": x["batch"],
                          "threads": r["threads"], "round": int(round_),
                          "version": r["vitc_version"], "maxdiff_vs_torch": float(maxdiff),
                          "fma_peak_gflops": r["fma_peak_gflops"],
                          "flops_per_image": r["flops_per_image"],
                          "peak_rss_bytes": r["peak_rss_bytes"], "times_ms": x["times_ms"]}))


def fmt(v, digits=1):
    return "-" if v is None else "%.*f" % (digits, v)


def ms(v):
    """Milliseconds with 4 significant digits, without an exponent."""
    return "%.4g" % v if v < 1000 else "%.0f" % v


def report(runs_path, meta_path):
    meta = json.load(open(meta_path))
    runs = [json.loads(line) for line in open(runs_path) if line.strip()]
    vitc_runs = [r for r in runs if r["engine"] == "vitc"]
    flops = next((r["flops_per_image"] for r in vitc_runs), meta.get("flops_per_image"))
    peaks = [r["fma_peak_gflops"] for r in vitc_runs if r.get("fma_peak_gflops")]
    peak = max(peaks) if peaks else None
    out = []
    w = out.append
    w("# vitc and its peers: %s, %s" % (meta["model_name"], meta["date"]))
    w("")
    w("- Machine: %s, %d cores (%s), Linux %s." % (meta["cpu"], meta["cores"], meta["cpu_flags"],
                                                  meta["kernel"]))
    w("- **Shared machine:** %s" % meta["note"])
    w("- Load average (1 min) at the start %.2f, at the end %.2f." % (meta["loadavg_start"],
                                                                      meta["loadavg_end"]))
    w("- Versions: vitc %s (commit %s), PyTorch %s (Debian python3-torch, BLAS: %s), ONNX Runtime "
      "%s (npm onnxruntime-node, CPU EP), onnx %s (export opset %d)." % (
          meta["vitc_version"], meta["commit"], meta["torch"], meta["blas"], meta["ort"],
          meta["onnx"], meta["opset"]))
    w("- Model: %s, %s; %.4g GFLOP per image (2 per multiply-add, the formula of `vitc bench "
      "--help`); every engine runs the same weights." % (meta["model"], meta["architecture"],
                                                          flops / 1e9))
    w("- Threads: %d for every engine (vitc `--threads`, torch.set_num_threads + OMP_NUM_THREADS/"
      "OPENBLAS_NUM_THREADS, ORT intraOpNumThreads with one inter-op thread)." % meta["threads"])
    w("- Method: %d round(s); in each round every engine runs once, in an order rotated per round, "
      "with at least %.1f s of warm-up (vitc: %d untimed run(s)) and then timed runs for at least "
      "%g s and %d runs per batch size. Statistics pool all rounds' runs; ms per forward of the "
      "whole batch." % (meta["rounds"], meta["warmup_seconds"], meta["vitc_warmup"],
                        meta["seconds"], meta["min_runs"]))
    if peak:
        w("- fp32 FMA peak measured by `vitc bench` on %d threads: %.1f GFLOP/s (best of its "
          "rounds); %% peak = GFLOP/s / that (for bf16/int8 engines too, as a yardstick)."
          % (meta["threads"], peak))
    w("- peer/vitc = the engine's median / vitc fp32's median at the same batch size "
      "(above 1: vitc is faster). Max abs diff = largest absolute difference of %s from "
      "PyTorch fp32 eager on 2 seeded images." % meta["head"])
    rss = {}
    for r in vitc_runs:
        if r.get("peak_rss_bytes"):
            rss[r["variant"]] = max(rss.get(r["variant"], 0), r["peak_rss_bytes"])
    if rss:
        w("- vitc's peak resident memory (`vitc bench`, all its batch sizes in one process, "
          "inputs included): %s." % ", ".join("%s %.0f MB" % (k, v / 1e6)
                                              for k, v in sorted(rss.items())))
    w("")
    for b in sorted({r["batch"] for r in runs}):
        w("## Batch %d" % b)
        w("")
        w("| engine | runs | median ms | round medians | mean | min | p99 | std | images/s | "
          "GFLOP/s | % peak | peer/vitc | max abs diff |")
        w("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        base = None
        rows = []
        for key, name in ENGINES:
            sel = [r for r in runs if (r["engine"], r["variant"]) == key and r["batch"] == b]
            if not sel:
                continue
            t = np.concatenate([np.asarray(r["times_ms"], np.float64) for r in sel])
            med = float(np.median(t))
            if key == ("vitc", "fp32"):
                base = med
            rounds = "/".join(ms(np.median(r["times_ms"]))
                              for r in sorted(sel, key=lambda r: r["round"]))
            rate = b * 1e3 / med
            gflops = rate * flops / 1e9
            diff = max(r["maxdiff_vs_torch"] for r in sel)
            rows.append((name, t, med, rounds, rate, gflops, diff, key))
        for name, t, med, rounds, rate, gflops, diff, _ in rows:
            w("| %s | %d | **%s** | %s | %s | %s | %s | %s | %.2f | %.1f | %s | %s | %.2g |" % (
                name, t.size, ms(med), rounds, ms(t.mean()), ms(t.min()), ms(np.percentile(t, 99)),
                ms(t.std()), rate, gflops, fmt(100 * gflops / peak if peak else None),
                fmt(med / base if base else None, 2), diff))
        w("")
        peers = [(med, name) for name, _, med, _, _, _, _, key in rows if key in FP32_PEERS]
        if base and peers:
            med, name = min(peers)
            share = " (%.0f%% of the measured peak)" % (100 * b * flops / base / 1e6 / peak)
            w("Batch %d: vitc fp32 %s ms%s; the fastest fp32 peer, %s, %s ms: vitc is %.2fx %s."
              % (b, ms(base), share if peak else "", name, ms(med), max(med / base, base / med),
                 "faster" if med >= base else "slower"))
            w("")
        for prec, (peer_keys, factor) in LOWP.items():
            mine = [med for name, _, med, _, _, _, _, key in rows if key == ("vitc", prec)]
            peers = [(med, name) for name, _, med, _, _, _, _, key in rows if key in peer_keys]
            if not mine:
                continue
            own = (" (%.0f%% of the %s peak, %dx the measured FMA peak)"
                   % (100 * b * flops / mine[0] / 1e6 / (factor * peak), prec, factor)
                   if peak else "")
            line = "Batch %d: vitc %s %s ms%s" % (b, prec, ms(mine[0]), own)
            if peers:
                med, name = min(peers)
                line += "; %s %s ms: vitc %s is %.2fx %s" % (
                    name, ms(med), prec, max(med / mine[0], mine[0] / med),
                    "faster" if med >= mine[0] else "slower")
            w(line + ".")
            w("")
    return "\n".join(out)


def main(argv):
    if len(argv) == 4 and argv[0] == "--from-vitc":
        from_vitc(*argv[1:])
        return 0
    if len(argv) != 2:
        print("usage: report.py RUNS.jsonl META.json | --from-vitc BENCH.json ROUND MAXDIFF",
              file=sys.stderr)
        return 2
    print(report(*argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
