#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# collection_torch.py — what a Python user would run to embed a directory of JPEGs, for the
# collection benchmark (bench/run_collections.sh): a torch DataLoader whose worker processes
# decode with Pillow and preprocess as transformers' ViTImageProcessor does (EXIF transpose,
# RGB, bilinear resize, rescale, normalize; the Pillow + NumPy steps below), batches of
# --batch, and the PyTorch ViT on the same weights as vitc (vit_torch.py), fp32, on --threads
# threads. Also `--preprocess-only`: decode and preprocess timed apart, one image at a time
# on one thread (the best pass, and the sum of each image's best time), with the pixel_values
# saved for a bit-exact comparison with vitc's.
# Prints one JSON line. Not part of vitc.

import argparse
import json
import os
import sys
import time

import numpy as np
from PIL import Image, ImageOps


def load_pp(model_dir):
    with open(os.path.join(model_dir, "preprocessor_config.json"), encoding="utf-8") as f:
        pp = json.load(f)
    size = pp.get("size", 224)
    h, w = (size, size) if isinstance(size, int) else (size["height"], size["width"])
    mean = np.array(pp.get("image_mean", [0.5] * 3), dtype=np.float32)
    std = np.array(pp.get("image_std", [0.5] * 3), dtype=np.float32)
    return (w, h), pp.get("resample", 2), pp.get("rescale_factor", 1 / 255), mean, std


def decode(path):
    """transformers' load_image: EXIF transpose, then RGB."""
    img = Image.open(path)
    img.load()
    return ImageOps.exif_transpose(img).convert("RGB")


def preprocess(img, pp):
    """ViTImageProcessor's resize, rescale (float64, then float32) and normalize (float32)."""
    size, resample, rescale, mean, std = pp
    u8 = np.asarray(img.resize(size, resample=resample))
    x = (u8 * rescale).astype(np.float32)
    return ((x - mean) / std).transpose(2, 0, 1)


def list_jpegs(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if f.lower().endswith((".jpg", ".jpeg")) and not f.startswith("."))


def preprocess_only(args, pp):
    """Decode and preprocess times, each the best of --reps passes over the set."""
    paths = list_jpegs(args.dir)
    out = np.empty((len(paths), 3, pp[0][1], pp[0][0]), dtype=np.float32)
    best_dec = best_pre = float("inf")
    min_dec, min_pre = [float("inf")] * len(paths), [float("inf")] * len(paths)
    for _ in range(args.reps):
        t_dec = t_pre = 0.0
        for i, p in enumerate(paths):
            t0 = time.perf_counter()
            img = decode(p)
            t1 = time.perf_counter()
            out[i] = preprocess(img, pp)
            t2 = time.perf_counter()
            t_dec += t1 - t0
            t_pre += t2 - t1
            min_dec[i], min_pre[i] = min(min_dec[i], t1 - t0), min(min_pre[i], t2 - t1)
        best_dec, best_pre = min(best_dec, t_dec), min(best_pre, t_pre)
    t_dec, t_pre = best_dec, best_pre
    if args.save:
        np.save(args.save, out)
    return {"engine": "pillow+numpy", "images": len(paths), "decode_s": t_dec,
            "preprocess_s": t_pre, "decode_min_s": sum(min_dec), "preprocess_min_s": sum(min_pre)}


def embed(args, pp):
    import torch
    from torch.utils.data import DataLoader, Dataset

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import vit_torch

    class Photos(Dataset):
        def __init__(self, paths):
            self.paths = paths

        def __len__(self):
            return len(self.paths)

        def __getitem__(self, i):
            return torch.from_numpy(preprocess(decode(self.paths[i]), pp))

    torch.set_num_threads(args.threads)
    model, _ = vit_torch.load(args.model)
    paths = list_jpegs(args.dir)
    loader = DataLoader(Photos(paths), batch_size=args.batch, num_workers=args.workers,
                        persistent_workers=False)
    with torch.no_grad():
        model(torch.zeros(args.batch, 3, pp[0][1], pp[0][0]))  # warm-up, not timed
        c0, t0 = time.process_time(), time.perf_counter()
        n = 0
        for x in loader:
            model(x)
            n += x.shape[0]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"engine": f"torch DataLoader ({args.workers} workers)", "images": n, "wall_s": wall,
            "images_per_s": n / wall, "main_process_cpu_s": cpu}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--preprocess-only", action="store_true")
    ap.add_argument("--reps", type=int, default=3, help="with --preprocess-only: passes")
    ap.add_argument("--save", help="with --preprocess-only: pixel_values [N,C,S,S] .npy")
    args = ap.parse_args()
    pp = load_pp(args.model)
    print(json.dumps(preprocess_only(args, pp) if args.preprocess_only else embed(args, pp)))


if __name__ == "__main__":
    main()
