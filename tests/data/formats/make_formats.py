#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make_formats.py — writes the small WebP/GIF/BMP/TIFF fixtures beside it that
tests/unit/image/test_image.c decodes, truncates and damages. Deterministic; run from the
repository root with Debian's python3-pil 9.4 and numpy:
/usr/bin/python3 tests/data/formats/make_formats.py"""
import os

import numpy as np
from PIL import Image

OUT = os.path.dirname(os.path.abspath(__file__))


def smooth(rng, w, h):
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), ((x + y) * 7) % 256], -1)
    return (a + rng.integers(0, 24, (h, w, 3))).clip(0, 255).astype(np.uint8)


def exif(orientation):
    ex = Image.Exif()
    ex[0x0112] = orientation
    return ex.tobytes()


def main():
    rng = np.random.default_rng(7)
    photo = Image.fromarray(smooth(rng, 48, 32))
    alpha = Image.fromarray(rng.integers(0, 256, (32, 48), dtype=np.uint8), "L")
    rgba = photo.copy()
    rgba.putalpha(alpha)
    photo.save(os.path.join(OUT, "lossy.webp"), quality=80)
    rgba.save(os.path.join(OUT, "lossless_alpha.webp"), lossless=True)
    photo.save(os.path.join(OUT, "orient6.webp"), quality=90, exif=exif(6))
    frames = [Image.fromarray(smooth(rng, 24, 16)) for _ in range(2)]
    frames[0].save(os.path.join(OUT, "anim.webp"), save_all=True, append_images=frames[1:],
                   duration=50, quality=80)
    # GIF: interlaced (16 rows or more), transparency, an animation.
    photo.save(os.path.join(OUT, "interlaced.gif"))
    photo.convert("P").save(os.path.join(OUT, "trns.gif"), transparency=5, interlace=False)
    frames[0].save(os.path.join(OUT, "anim.gif"), save_all=True, append_images=frames[1:],
                   duration=50)
    # BMP: 24-bit, 8-bit palette, 1-bit.
    photo.save(os.path.join(OUT, "rgb.bmp"))
    photo.convert("P").save(os.path.join(OUT, "p.bmp"))
    photo.convert("1").save(os.path.join(OUT, "bw.bmp"))


if __name__ == "__main__":
    main()
