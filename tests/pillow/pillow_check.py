# SPDX-License-Identifier: MIT
"""pillow_check.py — vitc's image decode, resize and pixel_values against the real Pillow.

  pillow_check.py gen DIR    write test images, raw resize inputs and DIR/jobs
  pillow_check.py check DIR  compare DIR/*.out (from decode_dump) with Pillow

The reference for decoding is transformers' load_image:
ImageOps.exif_transpose(Image.open(f)).convert("RGB"); for resizing it is
Image.fromarray(rgb).resize((w, h), resample); for pixel_values it is
ViTImageProcessor's resize of the loaded image followed by its rescale and
normalize, which tests/data/preprocess/u8_to_pixel_value_lut.npy holds for
tests/data/preprocess/preprocessor_config.json. Every case must match bit for
bit. Prints "N passed, N failed" last and exits non-zero on any failure.
"""
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_tiff import gen_tiff, tiff_mutants  # noqa: E402

SEED = 20240611
PP_CONFIG = "tests/data/preprocess/preprocessor_config.json"
PP_LUT = "tests/data/preprocess/u8_to_pixel_value_lut.npy"
FILTERS = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}


# ---- hand-made PNGs (modes Pillow cannot write: 16-bit RGB/RGBA/LA,
# short palettes, interlacing) ----

def chunk(kind, data):
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def pack_row(samples, depth):
    """samples: 1-D uint array of one row; returns packed bytes."""
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per = 8 // depth
    out = bytearray()
    for i in range(0, len(samples), per):
        v = 0
        group = list(samples[i:i + per]) + [0] * (per - len(samples[i:i + per]))
        for s in group:
            v = (v << depth) | int(s)
        out.append(v)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def make_png(arr, depth, ctype, extra=b"", interlace=False):
    """arr: (h, w, channels) samples."""
    h, w, _ = arr.shape
    raw = b""
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = arr[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        for row in sub:
            raw += b"\0" + pack_row(row.reshape(-1), depth)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def exif_bytes(orientation):
    ex = Image.Exif()
    ex[0x0112] = orientation
    return ex.tobytes()


# ---- WebP ----

def gen_webp(rng, save, raw, smooth):
    """Still lossy/lossless with and without alpha, animations, EXIF orientations,
    odd sizes and damaged files."""
    photo = smooth(41, 27)
    alpha = rng.integers(0, 256, photo.shape[:2], dtype=np.uint8)
    alpha[:4, :] = 0  # fully transparent rows: what RGB survives under alpha 0
    rgba = Image.fromarray(np.dstack([photo, alpha]), "RGBA")
    save("lossy.webp", Image.fromarray(photo), quality=80)
    save("lossy_q100.webp", Image.fromarray(photo), quality=100, method=6)
    save("lossy_alpha.webp", rgba, quality=70)
    save("lossless.webp", Image.fromarray(photo), lossless=True)
    save("lossless_alpha.webp", rgba, lossless=True)
    save("lossless_alpha_exact.webp", rgba, lossless=True, exact=True)
    save("gray.webp", Image.fromarray(photo[:, :, 1], "L"), quality=90)
    save("palette.webp", Image.fromarray(photo).convert("P"), lossless=True)
    for w, h in ((1, 1), (1, 7), (7, 1), (3, 5), (17, 16)):
        save(f"odd_{w}x{h}.webp", Image.fromarray(smooth(w, h)), quality=90)
        save(f"odd_{w}x{h}_lossless.webp", Image.fromarray(smooth(w, h)), lossless=True)
    small = smooth(13, 7)
    for o in range(1, 9):
        save(f"orient{o}.webp", Image.fromarray(small), quality=95, exif=exif_bytes(o))
    save("orient6_lossless.webp", Image.fromarray(small), lossless=True,
         exif=b"Exif\0\0" + exif_bytes(6))
    frames = [Image.fromarray(smooth(23, 19)) for _ in range(3)]
    save("anim.webp", frames[0], save_all=True, append_images=frames[1:], duration=40,
         quality=85)
    save("anim_lossless.webp", frames[0], save_all=True, append_images=frames[1:],
         duration=40, lossless=True)
    # A first frame with transparent borders: the encoder may store it as a
    # sub-rectangle of the canvas, which the decoder composes over zeros.
    border = np.zeros((19, 23, 4), np.uint8)
    border[5:12, 6:15] = np.dstack([smooth(9, 7), np.full((7, 9), 255, np.uint8)])
    save("anim_border.webp", Image.fromarray(border, "RGBA"), save_all=True,
         append_images=[Image.fromarray(smooth(23, 19)).convert("RGBA")], lossless=True,
         background=(10, 20, 30, 0))
    with io.BytesIO() as b:
        Image.fromarray(photo).save(b, "WEBP", quality=80)
        lossy = b.getvalue()
    with io.BytesIO() as b:
        rgba.save(b, "WEBP", lossless=True)
        lossless = b.getvalue()
    for label, data in (("lossy", lossy), ("lossless", lossless)):
        raw(f"truncated_{label}.webp", data[: len(data) * 2 // 3])
        raw(f"cut_{label}.webp", data[:-5])
        raw(f"header_only_{label}.webp", data[:30])
        # A RIFF size larger than the file, as a transfer cut short leaves it.
        raw(f"riff_long_{label}.webp", data[:4] + struct.pack("<I", len(data) + 100) + data[8:])
        bad = bytearray(data)
        bad[len(bad) // 2] ^= 0x55
        raw(f"flipped_{label}.webp", bytes(bad))


# ---- GIF ----

def gif_parts(im, **kw):
    """Pillow's GIF of im split as (global palette bytes, image data): the data is
    the LZW minimum code size and the sub-blocks of the first frame, terminator
    included."""
    with io.BytesIO() as b:
        im.save(b, "GIF", **kw)
        data = b.getvalue()
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    gpal = data[13:pos]
    while data[pos] == 0x21:  # extensions
        pos += 2
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    assert data[pos] == 0x2C
    iflags = data[pos + 9]
    pos += 10 + (3 << ((iflags & 7) + 1) if iflags & 0x80 else 0)
    start = pos
    pos += 1
    while data[pos]:
        pos += data[pos] + 1
    return gpal, data[start:pos + 1], iflags & 0x40


def make_gif(screen, rect, lzw, gpal=None, lpal=None, trns=None, interlace=False, pre=b""):
    """A GIF89a of one frame: screen (w, h), rect (x, y, w, h), palettes as bytes."""
    def bits(pal):
        n = len(pal) // 3
        return max(n - 1, 1).bit_length() - 1

    out = b"GIF89a" + struct.pack("<HH", *screen)
    out += bytes([(0x80 | bits(gpal)) if gpal else 0, 0, 0]) + (gpal or b"")
    out += pre
    if trns is not None:
        out += b"\x21\xf9\x04" + bytes([1, 0, 0, trns, 0])
    flags = (0x80 | bits(lpal) if lpal else 0) | (0x40 if interlace else 0)
    out += b"\x2c" + struct.pack("<HHHH", *rect) + bytes([flags]) + (lpal or b"")
    return out + lzw + b"\x3b"


def gen_gif(rng, save, raw, smooth):
    """Palette, gray, transparency, interlaced, animated, small palettes; hand-made
    screens, offsets, local palettes and damaged data."""
    photo = Image.fromarray(smooth(37, 29))
    save("rgb.gif", photo)
    save("rgb_small.gif", Image.fromarray(smooth(13, 9)))  # < 16 rows: not interlaced
    save("gray.gif", Image.fromarray(smooth(21, 17)[:, :, 0], "L"))
    p = photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=200)
    save("p_trns.gif", p, transparency=7)
    save("p_not_interlaced.gif", p, interlace=False)
    for colors in (2, 4, 16):
        q = Image.fromarray(rng.integers(0, colors, (19, 23), dtype=np.uint8), "P")
        q.putpalette(list(rng.integers(0, 256, 3 * colors, dtype=np.uint8)))
        save(f"p{colors}.gif", q)
    frames = [Image.fromarray(smooth(25, 18)) for _ in range(3)]
    save("anim.gif", frames[0], save_all=True, append_images=frames[1:], duration=50)
    save("anim_trns.gif", frames[0].convert("P"), save_all=True, transparency=3,
         append_images=[f.convert("P") for f in frames[1:]], duration=50, disposal=2)
    for w, h in ((1, 1), (1, 5), (6, 1)):
        save(f"odd_{w}x{h}.gif", Image.fromarray(smooth(w, h)))

    # Hand-made files around Pillow's LZW data of a 9x7 frame.
    idx = Image.fromarray(rng.integers(0, 16, (7, 9), dtype=np.uint8), "P")
    idx.putpalette(list(rng.integers(0, 256, 48, dtype=np.uint8)))
    _, lzw, _ = gif_parts(idx, interlace=False)
    _, lzw_i, il = gif_parts(Image.fromarray(rng.integers(0, 16, (20, 17), dtype=np.uint8), "P"),
                             interlace=True)
    assert il
    pal16 = bytes(rng.integers(0, 256, 48, dtype=np.uint8))
    pal4 = bytes(rng.integers(0, 256, 12, dtype=np.uint8))
    pal256 = bytes(rng.integers(0, 256, 768, dtype=np.uint8))
    ramp = bytes(i for i in range(16) for _ in range(3))
    raw("offset.gif", make_gif((20, 15), (5, 4, 9, 7), lzw, gpal=pal16))
    raw("offset_trns.gif", make_gif((20, 15), (5, 4, 9, 7), lzw, gpal=pal256, trns=200))
    raw("grows.gif", make_gif((6, 4), (3, 2, 9, 7), lzw, gpal=pal16))
    raw("local.gif", make_gif((9, 7), (0, 0, 9, 7), lzw, gpal=pal256, lpal=pal16))
    raw("local_only.gif", make_gif((9, 7), (0, 0, 9, 7), lzw, lpal=pal16))
    raw("local_ramp.gif", make_gif((9, 7), (0, 0, 9, 7), lzw, gpal=pal256, lpal=ramp))
    raw("short_palette.gif", make_gif((9, 7), (0, 0, 9, 7), lzw, gpal=pal4))
    raw("no_palette.gif", make_gif((9, 7), (0, 0, 9, 7), lzw))
    raw("interlaced_offset.gif", make_gif((22, 24), (2, 3, 17, 20), lzw_i, gpal=pal16,
                                          interlace=True))
    raw("zero_width.gif", make_gif((9, 7), (0, 0, 0, 7), lzw, gpal=pal16))
    raw("zero_height.gif", make_gif((9, 7), (1, 0, 5, 0), lzw, gpal=pal16))
    comment = b"\x21\xfe\x05hello\x00"
    app = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    raw("extensions.gif", make_gif((9, 7), (0, 0, 9, 7), lzw, gpal=pal16,
                                   pre=comment + app + b"\x21\x01\x02ab\x00junk"))
    gce = b"\x21\xf9\x04\x01\x00\x00\x09\x00"
    raw("gce_twice.gif", make_gif((12, 9), (2, 1, 9, 7), lzw, gpal=pal16,
                                  pre=gce + b"\x21\xf9\x04\x00\x00\x00\x03\x00"))
    raw("netscape_empty.gif", make_gif((9, 7), (0, 0, 9, 7), lzw, gpal=pal16,
                                       pre=b"\x21\xff\x0bNETSCAPE2.0\x00"))
    raw("gce_short.gif", make_gif((9, 7), (0, 0, 9, 7), lzw, gpal=pal16,
                                  pre=b"\x21\xf9\x02\x01\x00\x00"))
    raw("big_code_size.gif", make_gif((9, 7), (0, 0, 9, 7), b"\x0d" + lzw[1:], gpal=pal16))
    raw("small_code_size.gif", make_gif((9, 7), (0, 0, 9, 7), b"\x02" + lzw[1:], gpal=pal16))
    raw("frame_bigger.gif", make_gif((9, 7), (0, 0, 9, 9), lzw, gpal=pal16))
    raw("frame_smaller.gif", make_gif((9, 7), (0, 0, 8, 5), lzw, gpal=pal16))
    with io.BytesIO() as b:
        photo.save(b, "GIF")
        data = b.getvalue()
    for cut in (10, 13, 800, len(data) // 2, len(data) - 3, len(data) - 1):
        raw(f"truncated{cut}.gif", data[:cut])
    for at in (800, len(data) // 2, len(data) - 40):
        bad = bytearray(data)
        bad[at] ^= 0x5A
        raw(f"flipped{at}.gif", bytes(bad))
    raw("no_trailer.gif", data[:-1])


# ---- BMP ----

def make_bmp(w, h, bits, pixels, header=40, compression=0, palette=b"", colors=0, masks=None,
             topdown=False, offset=None, masks_after=False):
    """A BMP from already-encoded pixel data (rows in file order)."""
    if header == 12:
        info = struct.pack("<IHHHH", 12, w, h, 1, bits)
    else:
        info = struct.pack("<IiiHHIIiiII", header, w, -h if topdown else h, 1, bits, compression,
                           len(pixels), 2835, 2835, colors, 0)
        extra = b""
        if masks is not None and not masks_after:
            extra = struct.pack("<4I", *(list(masks) + [0] * (4 - len(masks))))
        info += extra
        info += bytes(header - len(info))
    after = struct.pack("<3I", *masks[:3]) if masks_after else b""
    body = info + after + palette
    off = 14 + len(body) if offset is None else offset
    size = 14 + len(body) + len(pixels)
    return b"BM" + struct.pack("<IHHI", size, 0, 0, off) + body + pixels


def bmp_rows(samples, bits):
    """samples (h, w) or (h, w, k) of per-pixel ints/bytes to padded rows, bottom-up."""
    out = b""
    for row in samples[::-1]:
        if bits >= 8:
            data = np.ascontiguousarray(row).astype(np.uint8).tobytes()
        else:
            data = pack_row(row.reshape(-1), bits)
        out += data + bytes(-len(data) % 4)
    return out


def gen_bmp(rng, save, raw, smooth):
    """Pillow-written modes, then hand-made depths, headers, bitfields, RLE and damage."""
    photo = smooth(29, 17)
    save("rgb.bmp", Image.fromarray(photo))
    save("rgba.bmp", Image.fromarray(np.dstack([photo, photo[:, :, 0]]), "RGBA"))
    save("l.bmp", Image.fromarray(photo[:, :, 1], "L"))
    save("1.bmp", Image.fromarray(photo[:, :, 0] > 128))
    save("p.bmp", Image.fromarray(photo).convert("P"))
    w, h = 13, 7
    idx4 = rng.integers(0, 16, (h, w))
    idx1 = rng.integers(0, 2, (h, w))
    idx8 = rng.integers(0, 256, (h, w))
    pal = lambda n: bytes(rng.integers(0, 256, 4 * n, dtype=np.uint8))  # noqa: E731
    raw("p4.bmp", make_bmp(w, h, 4, bmp_rows(idx4, 4), palette=pal(16)))
    raw("p1.bmp", make_bmp(w, h, 1, bmp_rows(idx1, 1), palette=pal(2)))
    raw("p8_short_palette.bmp", make_bmp(w, h, 8, bmp_rows(idx8, 8), palette=pal(40), colors=40))
    raw("p4_topdown.bmp", make_bmp(w, h, 4, bmp_rows(idx4[::-1], 4), palette=pal(16),
                                   topdown=True))
    raw("p8_offset_zero.bmp", make_bmp(w, h, 8, bmp_rows(idx8, 8), palette=pal(256), offset=0))
    gray16 = bytes(v for i in range(16) for v in (i, i, i, 0))
    raw("l4_gray_ramp.bmp", make_bmp(w, h, 4, bmp_rows(idx4, 4), palette=gray16))
    bw = bytes([0, 0, 0, 0, 255, 255, 255, 0])
    raw("bw8.bmp", make_bmp(w, h, 8, bmp_rows(idx8 % 2, 8), palette=bw, colors=2))
    raw("bw1.bmp", make_bmp(w, h, 1, bmp_rows(idx1, 1), palette=bw))
    raw("p8_300colors.bmp", make_bmp(w, h, 8, bmp_rows(idx8, 8), palette=pal(300), colors=300))
    os2pal = bytes(rng.integers(0, 256, 3 * 16, dtype=np.uint8))
    raw("os2_p4.bmp", make_bmp(w, h, 4, bmp_rows(idx4, 4), header=12, palette=os2pal))
    raw("os2_rgb.bmp", make_bmp(w, h, 24, bmp_rows(smooth(w, h)[:, :, ::-1], 24), header=12))
    v16 = rng.integers(0, 65536, (h, w), dtype=np.uint16)
    le16 = v16.astype("<u2").view(np.uint8).reshape(h, w * 2)
    raw("rgb555.bmp", make_bmp(w, h, 16, bmp_rows(le16, 8)))
    raw("rgb565.bmp", make_bmp(w, h, 16, bmp_rows(le16, 8), compression=3,
                               masks=(0xF800, 0x7E0, 0x1F), masks_after=True))
    raw("rgb555_bitfields_v4.bmp", make_bmp(w, h, 16, bmp_rows(le16, 8), header=108,
                                            compression=3, masks=(0x7C00, 0x3E0, 0x1F)))
    raw("rgb565_bad_mask.bmp", make_bmp(w, h, 16, bmp_rows(le16, 8), compression=3,
                                        masks=(0xF800, 0x7E0, 0x3F), masks_after=True))
    q = rng.integers(0, 256, (h, w * 4), dtype=np.uint8)
    for mname, m in (("xbgr", (0xFF000000, 0xFF0000, 0xFF00, 0)),
                     ("abgr", (0xFF000000, 0xFF0000, 0xFF00, 0xFF)),
                     ("rgba", (0xFF, 0xFF00, 0xFF0000, 0xFF000000)),
                     ("bgra", (0xFF0000, 0xFF00, 0xFF, 0xFF000000)),
                     ("zero", (0, 0, 0, 0))):
        raw(f"bitfields32_{mname}.bmp", make_bmp(w, h, 32, bmp_rows(q, 8), header=124,
                                                  compression=3, masks=m))
    raw("rgb32_raw.bmp", make_bmp(w, h, 32, bmp_rows(q, 8)))
    raw("rgb24_v5.bmp", make_bmp(w, h, 24, bmp_rows(smooth(w, h), 24), header=124))
    raw("rgb24_bitfields.bmp", make_bmp(w, h, 24, bmp_rows(smooth(w, h), 24), compression=3,
                                        masks=(0xFF0000, 0xFF00, 0xFF), masks_after=True))
    raw("depth2.bmp", make_bmp(w, h, 2, bmp_rows(idx1, 1), palette=pal(4)))
    raw("header_50.bmp", make_bmp(w, h, 24, bmp_rows(smooth(w, h), 24), header=50))
    raw("jpeg_compression.bmp", make_bmp(w, h, 24, bmp_rows(smooth(w, h), 24), compression=4))

    # RLE8 / RLE4: runs, literal runs (odd and even), deltas, end of line and of bitmap.
    def rle_rows(rows, rle4):
        out = b""
        for r in rows:
            r = list(r)
            i = 0
            while i < len(r):
                if i % 3 == 0 and len(r) - i >= 4:  # a literal run of 3 (odd) or 4
                    n = 3 if (i // 3) % 2 else 4
                    if rle4:
                        vals = r[i:i + n] + [0]
                        packed = bytes((vals[k] << 4) | vals[k + 1] for k in range(0, n, 2))
                        out += bytes([0, n]) + packed + bytes(len(packed) % 2)
                    else:
                        out += bytes([0, n]) + bytes(r[i:i + n]) + bytes(n % 2)
                    i += n
                else:
                    v = r[i]
                    out += bytes([2, (v << 4) | v if rle4 else v])
                    i += 2
            out += b"\0\0"
        return out

    rows8 = rng.integers(0, 256, (h, w))
    rows4 = rng.integers(0, 16, (h, w))
    rle8 = rle_rows(rows8[::-1], False) + b"\0\1"
    rle4 = rle_rows(rows4[::-1], True) + b"\0\1"
    raw("rle8.bmp", make_bmp(w, h, 8, rle8, compression=1, palette=pal(256)))
    raw("rle4.bmp", make_bmp(w, h, 4, rle4, compression=2, palette=pal(16)))
    raw("rle8_topdown.bmp", make_bmp(w, h, 8, rle8, compression=1, palette=pal(256),
                                     topdown=True))
    delta = b"\x03\x05\0\x02\x01\x01\x02\x00\x04\x09\0\0" + rle_rows(rows8[1:], False)
    raw("rle8_delta.bmp", make_bmp(w, h, 8, delta, compression=1, palette=pal(256)))
    raw("rle8_delta_short.bmp", make_bmp(w, h, 8, b"\x03\x05\0\x02\x01\x01\x02",
                                         compression=1, palette=pal(256)))
    raw("rle8_early_end.bmp", make_bmp(w, h, 8, rle8[:20] + b"\0\1", compression=1,
                                       palette=pal(256)))
    raw("rle8_gray.bmp", make_bmp(w, h, 8, rle8, compression=1,
                                  palette=bytes(v for i in range(256) for v in (i, i, i, 0))))
    raw("rle8_bw.bmp", make_bmp(w, h, 8, rle8, compression=1, palette=bw, colors=2))
    raw("rle_on_24bit.bmp", make_bmp(w, h, 24, rle8, compression=1))
    raw("rle8_long_runs.bmp", make_bmp(w, h, 8, b"\xff\x07" * 40, compression=1,
                                       palette=pal(256)))
    raw("rle8_clamped_runs.bmp", make_bmp(w, h, 8, b"\xff\x07\0\0" * h, compression=1,
                                          palette=pal(256)))
    raw("rle4_odd_literal.bmp", make_bmp(3, 2, 4, b"\0\x03\x12\x30\x02\x45\0\0" * 2,
                                         compression=2, palette=pal(16)))

    with io.BytesIO() as b:
        Image.fromarray(photo).save(b, "BMP")
        data = b.getvalue()
    for cut in (10, 20, 54, 200, len(data) - 2, len(data) - 7):
        raw(f"truncated{cut}.bmp", data[:cut])
    raw("rle8_truncated.bmp", make_bmp(w, h, 8, rle8[: len(rle8) // 2], compression=1,
                                       palette=pal(256)))


# ---- mutants ----

def gen_mutants(d, rng, raw):
    """Byte-damaged copies of GIF, BMP and WebP files written above: vitc must decode
    what Pillow decodes, to the same pixels, and refuse what Pillow refuses."""
    for name, count in (("p_trns.gif", 40), ("offset_trns.gif", 25), ("extensions.gif", 25),
                        ("p4.bmp", 30), ("rle8.bmp", 30), ("rle4.bmp", 20),
                        ("bitfields32_xbgr.bmp", 15), ("lossy.webp", 15),
                        ("lossless_alpha.webp", 15)):
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        stem, ext = name.rsplit(".", 1)
        for i in range(count):
            b = bytearray(data)
            for _ in range(1 + i % 3):
                # Mostly the headers, where decisions are made; sometimes anywhere.
                at = int(rng.integers(0, min(len(b), 80) if i % 2 else len(b)))
                b[at] = int(rng.integers(0, 256)) if i % 4 == 3 else b[at] ^ (1 << (i % 8))
            raw(f"mut_{stem}_{i}.{ext}", bytes(b))


# ---- generation ----

def gen_images(d, rng):
    """Writes images; returns their file names."""
    names = []

    def save(name, im, **kw):
        im.save(os.path.join(d, name), **kw)
        names.append(name)

    def raw(name, data):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        names.append(name)

    def rgb(w, h):
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)

    def smooth(w, h):
        """A photo-like image (JPEG artefacts on noise are not interesting)."""
        y, x = np.mgrid[0:h, 0:w]
        a = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)),
                      ((x + y) * 7) % 256], -1)
        return (a + rng.integers(0, 24, (h, w, 3))).clip(0, 255).astype(np.uint8)

    g = rng.integers(0, 256, (23, 31), dtype=np.uint8)
    save("l.png", Image.fromarray(g, "L"))
    la = np.dstack([g, rng.integers(0, 256, g.shape, dtype=np.uint8)])
    save("la.png", Image.fromarray(la, "LA"))
    save("rgb.png", Image.fromarray(rgb(29, 19)))
    rgba = np.dstack([rgb(17, 21), rng.integers(0, 256, (21, 17), dtype=np.uint8)])
    save("rgba.png", Image.fromarray(rgba, "RGBA"))
    p = Image.fromarray(rng.integers(0, 256, (15, 26), dtype=np.uint8), "L").convert("P")
    p.putpalette(list(rng.integers(0, 256, 768, dtype=np.uint8)))
    save("p.png", p)
    save("p_trns.png", p, transparency=3)
    save("1bit.png", Image.fromarray(g > 128))
    for bits in (1, 2, 4):
        q = Image.fromarray(rng.integers(0, 1 << bits, (9, 13), dtype=np.uint8), "P")
        q.putpalette(list(rng.integers(0, 256, 3 << bits, dtype=np.uint8)))
        save(f"p{bits}.png", q, bits=bits)
    for bits in (2, 4):
        raw(f"l{bits}.png", make_png(rng.integers(0, 1 << bits, (11, 7, 1)), bits, 0))
    g16 = rng.integers(0, 65536, (12, 10, 1))
    g16[0, :5, 0] = [0, 1, 255, 256, 1015]
    raw("i16.png", make_png(g16, 16, 0))
    raw("rgb16.png", make_png(rng.integers(0, 65536, (9, 14, 3)), 16, 2))
    raw("rgba16.png", make_png(rng.integers(0, 65536, (8, 6, 4)), 16, 6))
    raw("la16.png", make_png(rng.integers(0, 65536, (7, 5, 2)), 16, 4))
    raw("p_short.png", make_png(rng.integers(0, 256, (4, 9, 1)), 8, 3,
                                chunk(b"PLTE", bytes(range(30, 48)))))
    raw("interlaced_rgb.png", make_png(rgb(37, 29), 8, 2, interlace=True))
    raw("interlaced_i16.png", make_png(rng.integers(0, 400, (13, 11, 1)), 16, 0,
                                       interlace=True))
    raw("interlaced_p1.png", make_png(rng.integers(0, 2, (9, 10, 1)), 1, 3,
                                      chunk(b"PLTE", bytes([9, 8, 7, 200, 100, 50])),
                                      interlace=True))
    for w, h in ((1, 1), (1, 9), (9, 1), (3, 3)):
        save(f"odd_{w}x{h}.png", Image.fromarray(rgb(w, h)))
        save(f"odd_{w}x{h}.jpg", Image.fromarray(rgb(w, h)), quality=90)

    photo = smooth(45, 31)
    save("rgb420.jpg", Image.fromarray(photo), quality=85)
    save("rgb444.jpg", Image.fromarray(photo), quality=92, subsampling=0)
    save("rgb422.jpg", Image.fromarray(photo), quality=80, subsampling=1)
    save("progressive.jpg", Image.fromarray(photo), quality=75, progressive=True)
    save("gray.jpg", Image.fromarray(photo[:, :, 0], "L"), quality=90)
    cmyk = np.dstack([photo, rng.integers(0, 256, photo.shape[:2], dtype=np.uint8)])
    save("cmyk.jpg", Image.fromarray(cmyk, "CMYK"), quality=90)

    # EXIF orientations on a non-square image, JPEG APP1 and PNG eXIf.
    small = smooth(13, 7)
    for o in range(1, 9):
        save(f"orient{o}.jpg", Image.fromarray(small), quality=95, exif=exif_bytes(o))
        save(f"orient{o}.png", Image.fromarray(small), exif=exif_bytes(o))
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp",
                  '<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>')
    save("xmp_orient6.png", Image.fromarray(small), pnginfo=info)
    hexdata = exif_bytes(8).hex()
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", f"\nexif\n{len(hexdata) // 2:8d}\n{hexdata}\n")
    save("rawprofile_orient8.png", Image.fromarray(small), pnginfo=info)

    gen_webp(rng, save, raw, smooth)
    gen_gif(rng, save, raw, smooth)
    gen_bmp(rng, save, raw, smooth)
    gen_mutants(d, rng, raw)
    gen_tiff(d, rng, save, raw, smooth)
    tiff_mutants(d, rng, raw)

    # Damaged files Pillow refuses: vitc must refuse them too.
    for name in ("rgb420.jpg", "rgb444.jpg", "gray.jpg", "progressive.jpg", "rgb.png",
                 "interlaced_rgb.png"):
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        raw("truncated_" + name, data[: len(data) * 2 // 3])
        if name.endswith(".png"):
            raw("no_end_" + name, data[:-12])
            continue
        # Cut just before the end: whether Pillow still decodes depends on
        # how far libjpeg reads ahead, which vitc must reproduce.
        for cut in (2, 3, 5, 9, 17):
            raw(f"cut{cut}_" + name, data[:-cut])
    return names


def gen(d):
    rng = np.random.default_rng(SEED)
    names = gen_images(d, rng)
    jobs = [f"decode {os.path.join(d, n)} {os.path.join(d, n)}.out" for n in names]
    jobs += [f"pixels {os.path.join(d, n)} {PP_CONFIG} {os.path.join(d, n)}.pv" for n in names]
    cases = []
    sizes = [(37, 23), (1, 1), (1, 17), (17, 1), (300, 7), (5, 211), (64, 64), (224, 224)]
    targets = [(224, 224), (13, 29), (1, 1), (3, 500), (640, 2), (32, 32), (7, 3)]
    for i, (w, h) in enumerate(sizes):
        arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        if i % 2:  # smooth images exercise the weights, noise the clipping
            arr = np.cumsum(arr, axis=1, dtype=np.uint32).astype(np.uint8)
        src = os.path.join(d, f"src{i}.rgb")
        with open(src, "wb") as f:
            f.write(f"RGB {w} {h}\n".encode() + arr.tobytes())
        for tw, th in targets + [(w, h), (w * 3, h), (w, max(h // 2, 1))]:
            for fname, f_id in FILTERS.items():
                out = f"{src}.{tw}x{th}.{fname}.out"
                jobs.append(f"resize {src} {tw} {th} {f_id} {out}")
                cases.append({"src": src, "w": tw, "h": th, "filter": fname, "out": out})
    with open(os.path.join(d, "jobs"), "w") as f:
        f.write("\n".join(jobs) + "\n")
    with open(os.path.join(d, "cases.json"), "w") as f:
        json.dump({"decode": names, "resize": cases}, f)


# ---- checking ----

def read_out(path):
    with open(path, "rb") as f:
        data = f.read()
    head, _, body = data.partition(b"\n")
    parts = head.split()
    if parts[0] == b"ERR":
        return None, body.decode(errors="replace").strip()
    if parts[0] == b"PV":
        c, h, w = int(parts[1]), int(parts[2]), int(parts[3])
        return np.frombuffer(body, np.float32).reshape(c, h, w), None
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(body, np.uint8).reshape(h, w, 3), None


def processor_pixels(rgb):
    """ViTImageProcessor on a loaded image: Pillow resize to the config's size, then
    rescale + normalize, which the fixture table holds exactly for every byte value."""
    with open(PP_CONFIG) as f:
        cfg = json.load(f)
    size = cfg["size"]
    h, w = (size, size) if isinstance(size, int) else (size["height"], size["width"])
    resized = np.asarray(Image.fromarray(rgb).resize((w, h), resample=cfg.get("resample", 2)))
    return np.load(PP_LUT)[resized].transpose(2, 0, 1)


def pillow_load(path):
    try:
        im = Image.open(path)
        im = ImageOps.exif_transpose(im)
        return np.asarray(im.convert("RGB")), None
    except Exception as e:  # noqa: BLE001 - any Pillow failure is a refusal
        return None, f"{type(e).__name__}: {e}"


# Damaged TIFF files that Pillow's raw decoder reads past what libtiff accepts
# (a zero strip byte count, a tag of the wrong type): vitc refuses them, by
# name; counted, not failed. When both decode, the pixels must match.
STRICTER = " mut_"
REFUSED_DAMAGED = []


def compare(label, got, got_err, want, want_err):
    if "vitc_refuses_" in label:  # decoded by Pillow to pixels vitc does not reproduce
        if got is None:
            return True
        print(f"FAIL {label}: vitc decoded a file it should refuse")
        return False
    if want is None:
        if got is None:
            return True
        print(f"FAIL {label}: Pillow refuses ({want_err}) but vitc decoded it")
        return False
    if got is None and ("side limit" in got_err or "pixel limit" in got_err):
        return True  # vitc's own size policy, stricter than Pillow's
    if got is None and STRICTER in label and label.endswith(".tif"):
        REFUSED_DAMAGED.append(label)
        return True
    if got is None:
        print(f"FAIL {label}: vitc refused: {got_err}")
        return False
    if got.shape != want.shape:
        print(f"FAIL {label}: shape {got.shape} != Pillow {want.shape}")
        return False
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    if diff.max() != 0:
        print(f"FAIL {label}: {int((diff != 0).sum())} values differ, max {diff.max():g}")
        return False
    return True


def check(d):
    with open(os.path.join(d, "cases.json")) as f:
        cases = json.load(f)
    passed = failed = 0
    for name in cases["decode"]:
        path = os.path.join(d, name)
        got, got_err = read_out(path + ".out")
        want, want_err = pillow_load(path)
        ok = compare(f"decode {name}", got, got_err, want, want_err)
        passed, failed = passed + ok, failed + (not ok)
        got, got_err = read_out(path + ".pv")
        want = None if want is None else processor_pixels(want)
        ok = compare(f"pixel_values {name}", got, got_err, want, want_err)
        passed, failed = passed + ok, failed + (not ok)
    for c in cases["resize"]:
        src, _ = read_out(c["src"])
        want = np.asarray(Image.fromarray(src).resize((c["w"], c["h"]),
                                                      resample=FILTERS[c["filter"]]))
        got, got_err = read_out(c["out"])
        label = f"resize {os.path.basename(c['src'])} {src.shape[1]}x{src.shape[0]} -> " \
                f"{c['w']}x{c['h']} {c['filter']}"
        ok = compare(label, got, got_err, want, None)
        passed, failed = passed + ok, failed + (not ok)
    tiffs = [n for n in cases["decode"] if n.endswith(".tif")]
    if REFUSED_DAMAGED:
        files = sorted({x.split()[-1] for x in REFUSED_DAMAGED})
        print(f"note: {len(files)} damaged files refused by vitc, read by Pillow: "
              + " ".join(files))
    print(f"TIFF: {len(tiffs)} files checked, "
          f"{sum(read_out(os.path.join(d, n) + '.out')[0] is not None for n in tiffs)} decoded")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("gen", "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        sys.exit(check(sys.argv[2]))
