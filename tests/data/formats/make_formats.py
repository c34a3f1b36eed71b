#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make_formats.py — writes the small WebP/GIF/BMP/TIFF fixtures beside it that
tests/unit/image/test_image.c decodes, truncates and damages. Deterministic; run from the
repository root with Debian's python3-pil 9.4 and numpy:
/usr/bin/python3 tests/data/formats/make_formats.py"""
import os
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../pillow"))
from gen_tiff import make_tiff  # noqa: E402

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
    tiff_fixtures(photo)


def tiff_fixtures(photo):
    """TIFF: LZW strips, tiles (tiffcp), an orientation; then hostile files."""
    photo.save(os.path.join(OUT, "rgb_lzw.tif"), compression="tiff_lzw")
    ex = Image.Exif()
    ex[0x0112] = 6
    photo.save(os.path.join(OUT, "orient6.tif"), exif=ex)
    photo.convert("P").save(os.path.join(OUT, "p.tif"), compression="packbits")
    subprocess.run([shutil.which("tiffcp") or "tiffcp", "-t", "-w", "16", "-l", "16", "-c",
                    "zip:2", os.path.join(OUT, "rgb_lzw.tif"), os.path.join(OUT, "tiled.tif")],
                   check=True)
    px = np.asarray(photo).tobytes()

    def tag(data, number, old, new):
        """Replaces the value of a LONG tag holding `old` by `new`."""
        a, b = struct.pack("<HHII", number, 4, 1, old), struct.pack("<HHII", number, 4, 1, new)
        assert data.count(a) == 1
        return data.replace(a, b)

    good = make_tiff(48, 32, 8, 3, 2, px)
    offset = len(good) - len(px)
    with open(os.path.join(OUT, "bad_huge.tif"), "wb") as f:
        f.write(tag(tag(good, 256, 48, 60000), 257, 32, 60000))
    with open(os.path.join(OUT, "bad_offset.tif"), "wb") as f:
        f.write(tag(good, 273, offset, 1 << 30))
    with open(os.path.join(OUT, "bad_short_strip.tif"), "wb") as f:
        f.write(tag(good, 257, 32, 3200))  # the strip holds 32 rows, not 3200
    with open(os.path.join(OUT, "bad_no_strips.tif"), "wb") as f:
        f.write(good.replace(struct.pack("<HHII", 273, 4, 1, offset),
                             struct.pack("<HHII", 700, 4, 1, offset)))
    # An 8x8 image in one tile of 32768x32768 (a gigabyte to allocate).
    tags = [(256, 3, 8), (257, 3, 8), (258, 3, 8), (259, 3, 1), (262, 3, 1), (277, 3, 1),
            (322, 4, 32768), (323, 4, 32768), (324, 4, 8 + 2 + 12 * 10 + 4), (325, 4, 64)]
    ifd = struct.pack("<H", len(tags)) + b"".join(
        struct.pack("<HHI", t, k, 1) + (struct.pack("<I", v) if k == 4 else struct.pack("<HH", v, 0))
        for t, k, v in tags) + bytes(4)
    with open(os.path.join(OUT, "bad_tile.tif"), "wb") as f:
        f.write(b"II*\0" + struct.pack("<I", 8) + ifd + bytes(64))
    # 4 MiB of zeros deflated to 4 KiB, for a 64x64 gray strip of 4 KiB.
    bomb = make_tiff(64, 64, 8, 1, 1, zlib.compress(bytes(4 << 20), 9))
    with open(os.path.join(OUT, "bad_bomb.tif"), "wb") as f:
        f.write(bomb.replace(struct.pack("<HHIHH", 259, 3, 1, 1, 0),
                             struct.pack("<HHIHH", 259, 3, 1, 8, 0)))


if __name__ == "__main__":
    main()
