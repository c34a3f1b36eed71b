# SPDX-License-Identifier: MIT
"""gen_tiff.py — TIFF files for tests/pillow (imported by pillow_check.py).

Files come from Pillow's own writer, from a small hand-made writer below (the
layouts Pillow cannot write: 16-bit RGB, premultiplied alpha, MinIsWhite,
FillOrder 2, 2/4-bit palettes, big-endian samples) and from libtiff's tiffcp
(tiles, separate planes, LZW/Deflate with predictor 2, JPEG, PackBits,
big-endian, BigTIFF) when it is installed. Names starting with "vitc_refuses_"
are files Pillow decodes to pixels vitc does not reproduce on purpose (see
src/image/tiff.c); the check wants vitc to refuse those by name.
"""
import os
import shutil
import struct
import subprocess

import numpy as np
from PIL import Image

TYPES = {"B": (1, "B"), "H": (3, "H"), "I": (4, "I")}


def make_tiff(w, h, bps, spp, photo, data, endian="<", extra=(), sampleformat=None,
              fillorder=None, colormap=None, orientation=None, rows_per_strip=None,
              planar=None, big=False):
    """An uncompressed TIFF of one page: data is the strip data in file order;
    rows_per_strip splits it into several strips (the data must be a whole
    number of rows per strip)."""
    row = len(data) // h
    rps = rows_per_strip or h
    strips = [data[y * row:(y + rps) * row] for y in range(0, h, rps)]
    if planar == 2:  # data holds the planes one after the other
        plane = len(data) // spp
        row = plane // h
        strips = [data[p * plane + y * row:p * plane + (y + rps) * row]
                  for p in range(spp) for y in range(0, h, rps)]
    tags = [(256, "I", [w]), (257, "I", [h]), (258, "H", [bps] * spp), (259, "H", [1]),
            (277, "H", [spp]), (278, "I", [rps])]
    if photo is not None:
        tags.append((262, "H", [photo]))
    if fillorder:
        tags.append((266, "H", [fillorder]))
    if orientation:
        tags.append((274, "H", [orientation]))
    if planar:
        tags.append((284, "H", [planar]))
    if colormap is not None:
        tags.append((320, "H", list(colormap)))
    if extra:
        tags.append((338, "H", list(extra)))
    if sampleformat:
        tags.append((339, "H", [sampleformat] * spp))
    n = len(tags) + 2
    ifd_size = 2 + n * 12 + 4
    out_data_start = 8 + ifd_size
    # arrays that do not fit in 4 bytes go after the IFD, then the strips
    blobs = b""
    entries = []
    offsets_pos = bytecounts_pos = None
    for tag, t, vals in sorted(tags + [(273, "I", None), (279, "I", None)]):
        if vals is None:
            vals = [0] * len(strips)
        size, code = TYPES[t]
        raw = struct.pack(endian + code * len(vals), *vals)
        typ = {"B": 1, "H": 3, "I": 4}[t]
        if len(raw) <= 4:
            value = raw + bytes(4 - len(raw))
            where = None
        else:
            where = out_data_start + len(blobs)
            value = struct.pack(endian + "I", where)
            blobs += raw + bytes(len(raw) % 2)
        if tag == 273:
            offsets_pos = where
        if tag == 279:
            bytecounts_pos = where
        entries.append([tag, typ, len(vals), value])
    pos = out_data_start + len(blobs)
    offs, counts = [], []
    for s in strips:
        offs.append(pos)
        counts.append(len(s))
        pos += len(s)
    for e in entries:
        if e[0] in (273, 279):
            vals = offs if e[0] == 273 else counts
            raw = struct.pack(endian + "I" * len(vals), *vals)
            if len(raw) <= 4:
                e[3] = raw
            else:
                at = (offsets_pos if e[0] == 273 else bytecounts_pos) - out_data_start
                blobs = blobs[:at] + raw + blobs[at + len(raw):]
    magic = b"II*\0" if endian == "<" else b"MM\0*"
    head = magic + struct.pack(endian + "I", 8)
    ifd = struct.pack(endian + "H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack(endian + "HHI", tag, typ, count) + value
    ifd += struct.pack(endian + "I", 0)
    assert len(ifd) == ifd_size - 12 * (n - len(entries))
    ifd += bytes(ifd_size - len(ifd))
    return head + ifd + blobs + b"".join(strips)


def pack_bits(samples, depth):
    """(h, w) ints to rows packed msb first, each row padded to a byte."""
    out = b""
    for r in samples:
        v = 0
        nbits = 0
        row = bytearray()
        for s in r:
            v = (v << depth) | int(s)
            nbits += depth
            if nbits == 8:
                row.append(v)
                v = nbits = 0
        if nbits:
            row.append(v << (8 - nbits))
        out += bytes(row)
    return out


def reverse_bits(data):
    table = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))
    return data.translate(table)


def gen_tiff(d, rng, save, raw, smooth):
    """Writes the TIFF cases; returns nothing (save/raw record the names)."""
    photo = smooth(37, 23)
    small = smooth(13, 7)
    gray = photo[:, :, 1]
    alpha = rng.integers(0, 256, photo.shape[:2], dtype=np.uint8)
    alpha[0, :6] = [0, 1, 2, 128, 254, 255]

    # Pillow's writer: every mode it saves, several compressions.
    rgb = Image.fromarray(photo)
    for comp in ("raw", "tiff_lzw", "tiff_adobe_deflate", "packbits", "tiff_deflate"):
        save(f"rgb_{comp}.tif", rgb, compression=comp)
    save("rgb_jpeg.tif", rgb, compression="jpeg", quality=90)
    save("rgba.tif", Image.fromarray(np.dstack([photo, alpha]), "RGBA"))
    save("rgba_lzw.tif", Image.fromarray(np.dstack([photo, alpha]), "RGBA"),
         compression="tiff_lzw")
    save("rgbx.tif", Image.fromarray(np.dstack([photo, alpha]), "RGBA").convert("RGBX"))
    save("l.tif", Image.fromarray(gray, "L"))
    save("l_jpeg.tif", Image.fromarray(gray, "L"), compression="jpeg")
    save("la.tif", Image.fromarray(np.dstack([gray, alpha]), "LA"))
    save("la_deflate.tif", Image.fromarray(np.dstack([gray, alpha]), "LA"),
         compression="tiff_adobe_deflate")
    save("1.tif", Image.fromarray(gray > 128))
    save("1_g4.tif", Image.fromarray(gray > 128), compression="group4")
    save("1_g3.tif", Image.fromarray(gray > 100), compression="group3")
    pimg = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=200)
    save("p.tif", pimg)
    save("p_lzw.tif", pimg, compression="tiff_lzw")
    save("pa.tif", Image.fromarray(np.dstack([np.asarray(pimg), alpha]), "LA").convert("PA"))
    cmyk = np.dstack([photo, alpha])
    save("cmyk.tif", Image.fromarray(cmyk, "CMYK"))
    save("cmyk_lzw.tif", Image.fromarray(cmyk, "CMYK"), compression="tiff_lzw")
    g16 = rng.integers(0, 65536, (11, 9)).astype(np.uint16)
    g16[0, :6] = [0, 1, 255, 256, 300, 65535]
    g16[1, :] = rng.integers(0, 256, 9)
    save("i16.tif", Image.fromarray(g16.astype("<u2"), "I;16"))
    save("i16_lzw.tif", Image.fromarray(g16.astype("<u2"), "I;16"), compression="tiff_lzw")
    save("i16b.tif", Image.frombytes("I;16B", (9, 11), g16.astype(">u2").tobytes()))
    save("i16b_lzw.tif", Image.frombytes("I;16B", (9, 11), g16.astype(">u2").tobytes()),
         compression="tiff_lzw")
    i32 = rng.integers(-300, 600, (6, 8)).astype(np.int32)
    save("i32.tif", Image.fromarray(i32, "I"))
    save("i32_lzw.tif", Image.fromarray(i32, "I"), compression="tiff_lzw")
    f32 = (rng.random((6, 8)) * 400 - 50).astype(np.float32)
    save("f32.tif", Image.fromarray(f32, "F"))
    save("f32_deflate.tif", Image.fromarray(f32, "F"), compression="tiff_adobe_deflate")
    save("ycbcr_lzw.tif", rgb.convert("YCbCr"), compression="tiff_lzw")
    save("vitc_refuses_ycbcr_raw.tif", rgb.convert("YCbCr"))
    for w, h in ((1, 1), (1, 9), (9, 1)):
        save(f"odd_{w}x{h}.tif", Image.fromarray(smooth(w, h)))
        save(f"odd_{w}x{h}_lzw.tif", Image.fromarray(smooth(w, h)), compression="tiff_lzw")
    frames = [Image.fromarray(smooth(19, 11)) for _ in range(3)]
    save("multipage.tif", frames[0], save_all=True, append_images=frames[1:])
    save("multipage_lzw.tif", frames[0], save_all=True, append_images=frames[1:],
         compression="tiff_lzw")
    for o in range(1, 9):
        ex = Image.Exif()
        ex[0x0112] = o
        save(f"orient{o}.tif", Image.fromarray(small), exif=ex)
        save(f"orient{o}_lzw.tif", Image.fromarray(small), exif=ex, compression="tiff_lzw")
        if o in (3, 4, 6, 7):  # YCbCr through libtiff's RGBA reader, which flips by itself
            save(f"orient{o}_ycbcr_lzw.tif", Image.fromarray(small).convert("YCbCr"), exif=ex,
                 compression="tiff_lzw")
            save(f"orient{o}_jpeg.tif", Image.fromarray(small), exif=ex, compression="jpeg")

    # Hand-made layouts.
    w, h = 13, 7
    sm = smooth(w, h)
    for endian, tag in (("<", "le"), (">", "be")):
        raw(f"rgb_{tag}.tif", make_tiff(w, h, 8, 3, 2, sm.tobytes(), endian))
        r16 = rng.integers(0, 65536, (h, w, 3)).astype(endian + "u2")
        raw(f"rgb16_{tag}.tif", make_tiff(w, h, 16, 3, 2, r16.tobytes(), endian))
        a16 = rng.integers(0, 65536, (h, w, 4)).astype(endian + "u2")
        for ex, name in (((), "rgba16"), ((0,), "rgbx16"), ((1,), "rgbpa16"),
                         ((2,), "rgbua16")):
            raw(f"{name}_{tag}.tif", make_tiff(w, h, 16, 4, 2, a16.tobytes(), endian, extra=ex))
        c16 = rng.integers(0, 65536, (h, w, 4)).astype(endian + "u2")
        raw(f"cmyk16_{tag}.tif", make_tiff(w, h, 16, 4, 5, c16.tobytes(), endian))
        g = rng.integers(0, 65536, (h, w)).astype(endian + "u2")
        g[0, :4] = [0, 255, 256, 4095]
        raw(f"i16_{tag}.tif", make_tiff(w, h, 16, 1, 1, g.tobytes(), endian))
        raw(f"i16_minwhite_{tag}.tif", make_tiff(w, h, 16, 1, 0, g.tobytes(), endian))
        raw(f"i16s_{tag}.tif", make_tiff(w, h, 16, 1, 1, g.tobytes(), endian, sampleformat=2))
        i4 = rng.integers(-1000, 1000, (h, w)).astype(endian + "i4")
        raw(f"i32s_{tag}.tif", make_tiff(w, h, 32, 1, 1, i4.tobytes(), endian, sampleformat=2))
        raw(f"i32u_{tag}.tif", make_tiff(w, h, 32, 1, 1, np.abs(i4).astype(endian + "u4")
                                         .tobytes(), endian))
        fl = (rng.random((h, w)) * 300 - 20).astype(endian + "f4")
        raw(f"f32_{tag}.tif", make_tiff(w, h, 32, 1, 1, fl.tobytes(), endian, sampleformat=3))
        raw(f"f32_minwhite_{tag}.tif", make_tiff(w, h, 32, 1, 0, fl.tobytes(), endian,
                                                 sampleformat=3))
        pm = np.dstack([sm, alpha[:h, :w]]).astype(np.uint16)
        pm[:, :, :3] = pm[:, :, :3] * pm[:, :, 3:] // 255
        pm[0, 0, :] = [200, 10, 10, 100]  # colour above alpha: clipped on division
        raw(f"rgba_premul_{tag}.tif", make_tiff(w, h, 8, 4, 2, pm.astype(np.uint8).tobytes(),
                                               endian, extra=(1,)))
        raw(f"rgba_unassoc_{tag}.tif", make_tiff(w, h, 8, 4, 2, pm.astype(np.uint8).tobytes(),
                                                endian, extra=(2,)))
        raw(f"rgba_noextra_{tag}.tif", make_tiff(w, h, 8, 4, 2, pm.astype(np.uint8).tobytes(),
                                                endian))
        five = rng.integers(0, 256, (h, w, 5), dtype=np.uint8)
        raw(f"rgbxx_{tag}.tif", make_tiff(w, h, 8, 5, 2, five.tobytes(), endian, extra=(0, 0)))
        raw(f"rgbax_{tag}.tif", make_tiff(w, h, 8, 5, 2, five.tobytes(), endian, extra=(2, 0)))
        raw(f"rgbpax_{tag}.tif", make_tiff(w, h, 8, 5, 2, five.tobytes(), endian, extra=(1, 0)))
        raw(f"cmykx_{tag}.tif", make_tiff(w, h, 8, 5, 5, five.tobytes(), endian, extra=(0,)))
        for depth in (1, 2, 4, 8):
            idx = rng.integers(0, 1 << depth, (h, w))
            packed = pack_bits(idx, depth)
            cmap = rng.integers(0, 65536, 3 << depth)
            raw(f"p{depth}_{tag}.tif", make_tiff(w, h, depth, 1, 3, packed, endian,
                                                 colormap=cmap))
            raw(f"p{depth}_fill2_{tag}.tif", make_tiff(w, h, depth, 1, 3, reverse_bits(packed),
                                                       endian, colormap=cmap, fillorder=2))
            for ph, pname in ((1, "minblack"), (0, "minwhite")):
                raw(f"l{depth}_{pname}_{tag}.tif", make_tiff(w, h, depth, 1, ph, packed, endian))
                raw(f"l{depth}_{pname}_fill2_{tag}.tif",
                    make_tiff(w, h, depth, 1, ph, reverse_bits(packed), endian, fillorder=2))
        raw(f"rgb_fill2_{tag}.tif", make_tiff(w, h, 8, 3, 2, reverse_bits(sm.tobytes()), endian,
                                              fillorder=2))
        raw(f"rgba_fill2_{tag}.tif", make_tiff(w, h, 8, 4, 2, five[:, :, :4].tobytes(), endian,
                                               extra=(2,), fillorder=2))
        raw(f"strips_{tag}.tif", make_tiff(w, h, 8, 3, 2, sm.tobytes(), endian,
                                           rows_per_strip=2))
        planes = np.ascontiguousarray(sm.transpose(2, 0, 1)).tobytes()
        raw(f"planar_rgb_{tag}.tif", make_tiff(w, h, 8, 3, 2, planes, endian, planar=2,
                                               rows_per_strip=3))
        for o in (2, 5, 6, 8):
            raw(f"orient{o}_{tag}.tif", make_tiff(w, h, 8, 3, 2, sm.tobytes(), endian,
                                                  orientation=o))
        raw(f"gray_nophotometric_{tag}.tif", make_tiff(w, h, 8, 1, None, gray[:h, :w].tobytes(),
                                                       endian))
    raw("vitc_refuses_lab8.tif", make_tiff(w, h, 8, 3, 8, sm.tobytes()))
    raw("samples7.tif", make_tiff(w, h, 8, 7, 2, bytes(w * h * 7), extra=(0,) * 4))
    raw("rgb_signed.tif", make_tiff(w, h, 8, 3, 2, sm.tobytes(), sampleformat=2))
    raw("rgb12.tif", make_tiff(w, h, 12, 3, 2, bytes((w * 36 + 7) // 8 * h)))

    # libtiff's tiffcp: tiles, planes, predictors, JPEG, byte order, BigTIFF.
    tiffcp = shutil.which("tiffcp")
    if not tiffcp:
        print("note: tiffcp not found (Debian libtiff-tools): tiled, separate-plane and "
              "BigTIFF cases skipped")
        return

    def copy(src, name, args):
        """tiffcp src to name; a layout tiffcp cannot write (e.g. separate planes of a
        one-sample image) is left out."""
        r = subprocess.run([tiffcp, *args, os.path.join(d, src), os.path.join(d, name)],
                           stderr=subprocess.DEVNULL, check=False)
        if r.returncode == 0:
            with open(os.path.join(d, name), "rb") as f:
                raw(name, f.read())

    bases = {"rgb": "rgb_raw.tif", "rgba": "rgba.tif", "l": "l.tif", "p": "p.tif",
             "cmyk": "cmyk.tif", "i16": "i16.tif", "la": "la.tif", "1": "1.tif",
             "rgb16": "rgb16_le.tif", "premul": "rgba_premul_le.tif", "p4": "p4_le.tif",
             "orient6": "orient6_le.tif", "rgbxx": "rgbxx_le.tif", "i32be": "i32s_be.tif",
             "f32be": "f32_be.tif", "i16be": "i16_be.tif", "cmyk16": "cmyk16_le.tif"}
    variants = {
        "tiled16": ["-t", "-w", "16", "-l", "16"],
        "tiled16_lzw": ["-t", "-w", "16", "-l", "16", "-c", "lzw"],
        "strips3_zip2": ["-r", "3", "-c", "zip:2"],
        "lzw2": ["-c", "lzw:2"],
        "packbits": ["-c", "packbits"],
        "separate": ["-p", "separate"],
        "separate_lzw": ["-p", "separate", "-c", "lzw"],
        "separate_tiled": ["-p", "separate", "-t", "-w", "16", "-l", "16"],
        "separate_tiled_zip": ["-p", "separate", "-t", "-w", "16", "-l", "32", "-c", "zip"],
        "be": ["-B"],
        "be_lzw2": ["-B", "-c", "lzw:2"],
        "be_tiled": ["-B", "-t", "-w", "16", "-l", "16", "-c", "zip"],
        "fill2_lzw": ["-f", "lsb2msb", "-c", "lzw"],
        "bigtiff": ["-8"],
        "bigtiff_lzw": ["-8", "-c", "lzw"],
    }
    for base, src in bases.items():
        for vname, args in variants.items():
            name = f"cp_{base}_{vname}.tif"
            copy(src, name, args)
    for base in ("rgb", "l", "cmyk"):
        for vname, args in (("jpeg", ["-c", "jpeg:90"]), ("jpeg_rgb", ["-c", "jpeg:r"]),
                            ("jpeg_tiled", ["-c", "jpeg", "-t", "-w", "16", "-l", "16"]),
                            ("jpeg_strips", ["-c", "jpeg", "-r", "8"]),
                            ("jpeg_separate", ["-c", "jpeg", "-p", "separate"])):
            name = f"cp_{base}_{vname}.tif"
            copy(bases[base], name, args)

    # Damaged files: Pillow refuses or decodes them; vitc must do the same.
    for src in ("rgb_tiff_lzw.tif", "cp_rgb_tiled16_lzw.tif", "rgb_raw.tif", "cp_rgb_jpeg.tif"):
        with open(os.path.join(d, src), "rb") as f:
            data = f.read()
        stem = src[:-4]
        raw(f"truncated_{stem}.tif", data[: len(data) * 2 // 3])
        raw(f"header_only_{stem}.tif", data[:16])


def tiff_mutants(d, rng, raw):
    """Byte-flipped copies of a few TIFF files."""
    for name, count in (("rgb_tiff_lzw.tif", 20), ("p4_le.tif", 20), ("rgb16_be.tif", 15),
                        ("cp_rgb_tiled16_lzw.tif", 15)):
        path = os.path.join(d, name)
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        for i in range(count):
            b = bytearray(data)
            for _ in range(1 + i % 3):
                at = int(rng.integers(8, min(len(b), 200) if i % 2 else len(b)))
                b[at] ^= 1 << (i % 8)
            raw(f"mut_{name[:-4]}_{i}.tif", bytes(b))
