#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# make_photos.py — a directory of JPEG photos of mixed sizes for the collection benchmark
# (bench/run_collections.sh), made from a few real photographs given on the command line:
# each output is a random crop of one of them (at least half its width and height), resized
# with Pillow's LANCZOS to a random long side of 320..2048 px and saved as a baseline or
# progressive JPEG of quality 80..95 (4:2:0 or 4:4:4). Seeded, so the set is the same on
# every machine given the same sources. Not part of vitc.
#
#   make_photos.py OUT_DIR N SOURCE.jpg...

import os
import random
import sys

from PIL import Image, ImageOps


def main(argv):
    if len(argv) < 4:
        sys.exit("usage: make_photos.py OUT_DIR N SOURCE.jpg...")
    out, n, sources = argv[1], int(argv[2]), argv[3:]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261203)
    imgs = [ImageOps.exif_transpose(Image.open(s)).convert("RGB") for s in sources]
    for i in range(n):
        src = imgs[i % len(imgs)]
        w, h = src.size
        cw, ch = rng.randint(w // 2, w), rng.randint(h // 2, h)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        crop = src.crop((x, y, x + cw, y + ch))
        long_side = rng.randint(320, 2048)
        scale = long_side / max(cw, ch)
        size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
        img = crop.resize(size, Image.LANCZOS)
        img.save(os.path.join(out, f"photo_{i:04d}.jpg"), quality=rng.randint(80, 95),
                 progressive=rng.random() < 0.3, subsampling=rng.choice([0, 2, 2]))
    print(f"{n} JPEGs in {out}")


if __name__ == "__main__":
    main(sys.argv)
