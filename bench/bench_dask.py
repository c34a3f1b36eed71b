#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_dask.py — images/s of `vitc embed` alone against vitc.dask on a
LocalCluster of this machine (1 worker process with all the threads, then
one process per thread), the same total threads, the same JPEG inputs and
model; writes a Markdown table. Not a test: nothing is asserted.

    make && bench/bench_dask.py --threads 2 --images 96 --rounds 3 \
        --out bench/results/$(date -u +%F)-dask.md

The model defaults to a random-weight ViT-B/16 written by `vitc init` into
bench/.cache (speed does not depend on the weights). The inputs are JPEGs
cut from data/sample.jpg (400 to 800 pixels wide, quality 90). In each round
every configuration runs once, in an order rotated per round; a run is the
whole job from the command or the embed() call to the last file written,
model loading included, on a cluster already started (starting one is
seconds, once per job). The Dask runs also report the rate inside the
shards (images / summed shard times, per worker thread) to separate the
distributed path's fixed costs from its steady state."""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", "build")
VITC = os.path.join(ROOT, BUILD, "vitc")
# The workers inherit the environment: the package and library of this checkout.
os.environ["PYTHONPATH"] = os.path.join(ROOT, "python") + (
    ":" + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
os.environ.setdefault("VITC_LIBRARY", os.path.join(ROOT, BUILD, "libvitc.so"))
sys.path.insert(0, os.path.join(ROOT, "python"))


def make_images(dst, n):
    from PIL import Image
    with Image.open(os.path.join(ROOT, "data", "sample.jpg")) as src:
        src = src.convert("RGB")
        w, h = src.size
        for i in range(n):
            f = (i % 7) / 20
            crop = src.crop((int(w * f / 2), int(h * f / 3), w - int(w * f / 3), h))
            side = 400 + 400 * (i % 9) // 8
            crop.resize((side, side * 3 // 4)).save(os.path.join(dst, "img%04d.jpg" % i),
                                                      quality=90)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run_cli(model, images, out, threads, batch):
    t0 = time.monotonic()
    subprocess.run([VITC, "embed", model, images, "-o", out, "--threads", str(threads),
                    "--batch", str(batch), "--quiet"], check=True)
    return time.monotonic() - t0, None


def run_dask(client, model, images, out, threads, batch, shard_size):
    import vitc.dask
    t0 = time.monotonic()
    m = vitc.dask.embed(images, model, out, client=client, shard_size=shard_size, batch=batch,
                        threads_per_worker=threads)
    wall = time.monotonic() - t0
    computed = m["run"]["computed"]
    # Images per second inside the shards, all workers together: each worker process runs its
    # shards one after another, so per process the rate is its images / its summed shard time.
    per_pid = {}
    for s in computed:
        n, t = per_pid.get(s["pid"], (0, 0.0))
        per_pid[s["pid"]] = (n + s["inputs"], t + s["seconds"])
    in_shards = sum(n / t for n, t in per_pid.values() if t > 0)
    return wall, in_shards


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="model directory (default: a random ViT-B/16 in bench/.cache)")
    p.add_argument("--threads", type=int, default=2, help="total compute threads (default 2)")
    p.add_argument("--images", type=int, default=96, help="JPEG inputs (default 96)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--out", help="write the Markdown table here too")
    args = p.parse_args()

    import distributed

    model, model_note = args.model, "given"
    if not model:
        model_note = "random weights: vitc init --preset vit-base-patch16-224-in21k"
        model = os.path.join(ROOT, "bench", ".cache", "models", "vit-base-patch16-224-in21k")
        if not os.path.exists(os.path.join(model, "model.safetensors")):
            subprocess.run([VITC, "init", model, "--preset", "vit-base-patch16-224-in21k"],
                           check=True)
    T = args.threads
    work = tempfile.mkdtemp(prefix="vitc-bench-dask.")
    images = os.path.join(work, "images")
    os.makedirs(images)
    make_images(images, args.images)
    shard_size = max(1, args.images // (4 * T))  # a few shards per worker process

    # Worker processes with one Dask thread each, so a process runs one shard at a time on
    # vitc's threads (and "in shards" below adds up sequential shard times).
    clusters = {
        "vitc.dask, 1 worker x %d threads" % T: (1, T),
        "vitc.dask, %d workers x 1 thread" % T: (T, 1),
    }
    clients = {}
    for name, (n_workers, threads) in clusters.items():
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                           processes=True, host="127.0.0.1",
                                           dashboard_address=None)
        clients[name] = (distributed.Client(cluster, set_as_default=False), cluster, threads)

    configs = ["vitc embed --threads %d" % T] + list(clusters)
    times = {c: [] for c in configs}
    in_shards = {c: [] for c in configs}
    load = [os.getloadavg()[0]]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    k = 0
    runs = []
    for r in range(args.rounds):
        order = configs[r % len(configs):] + configs[:r % len(configs)]
        for c in order:
            k += 1
            out = os.path.join(work, "out%d" % k)
            if c in clients:
                client, _, threads = clients[c]
                wall, rate = run_dask(client, model, images, out, threads, args.batch,
                                      shard_size)
            else:
                wall, rate = run_cli(model, images, out + ".npy", T, args.batch)
            times[c].append(wall)
            if rate:
                in_shards[c].append(rate)
            runs.append("round %d  %-36s %7.2f s  %6.2f images/s" % (r + 1, c, wall,
                                                                   args.images / wall))
            print(runs[-1], flush=True)
            shutil.rmtree(out, ignore_errors=True)
            for f in (out + ".npy", out + ".npy.paths.txt"):
                if os.path.exists(f):
                    os.unlink(f)
    load.append(os.getloadavg()[0])
    for client, cluster, _ in clients.values():
        client.close()
        cluster.close()
    shutil.rmtree(work, ignore_errors=True)

    base = args.images / statistics.median(times[configs[0]])
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    lines = [
        "# vitc embed vs vitc.dask on one machine: %s fp32, %s" % (os.path.basename(model),
                                                                  started),
        "",
        "- Machine: %s, %d cores available, Linux %s." % (cpu_name(), len(os.sched_getaffinity(0)),
                                                        platform.release()),
        "- **Shared, noisy machine:** other builds and tests ran on these cores at the same time "
        "(load average (1 min) %.2f at the start, %.2f at the end); the figures are indicative, "
        "the ratios (configurations alternated within each round) more than the absolute "
        "rates." % tuple(load),
        "- vitc %s (commit %s), Dask distributed %s, Python %s." % (
            _vitc_version(), commit or "?", distributed.__version__, platform.python_version()),
        "- Model: %s (%s). Inputs: %d JPEGs, 400 to 800 pixels wide, cut from "
        "data/sample.jpg. Batch %d; %d compute threads in every configuration; vitc.dask "
        "shards of %d images." % (os.path.relpath(model, ROOT), model_note, args.images,
                                  args.batch, T, shard_size),
        "- A run: the whole job, model loading and file writing included; the Dask clusters are "
        "started once, before the rounds. %d rounds; configurations rotated per round. "
        "\"in shards\": images / summed shard time per worker process, all processes together "
        "(the steady state without the job's fixed costs)." % args.rounds,
        "",
        "| configuration | runs | median s | images/s | vs vitc embed | in shards, images/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for c in configs:
        med = statistics.median(times[c])
        ips = args.images / med
        shard_rate = "%.2f" % statistics.median(in_shards[c]) if in_shards[c] else "—"
        lines.append("| %s | %d | %.2f | %.2f | %+.1f%% | %s |" % (
            c, len(times[c]), med, ips, 100 * (ips / base - 1), shard_rate))
    lines += ["", "Every run, in order:", "", "```"] + runs + ["```"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


def _vitc_version():
    import vitc
    return vitc.__version__


if __name__ == "__main__":
    main()
