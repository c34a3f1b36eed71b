#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# make_bad_inputs.py — writes the hostile inputs that test_bad_input.sh feeds to `vitc`: model
# directories with broken config.json / model.safetensors (derived from a good tiny model by
# editing its bytes or JSON), broken or unsupported images, images declaring absurd sizes, and
# wrong .npy files. Test data generator only; it never runs vitc. Needs numpy.
#
#   make_bad_inputs.py GOOD_MODEL_DIR IMAGES_DIR OUT_DIR
#
# OUT_DIR gets models/<case>/, images/<case>.<ext> and npy/<case>.npy; case names are the ones
# test_bad_input.sh refers to.

import json
import os
import shutil
import struct
import sys
import zlib

import numpy as np

# ---- safetensors -----------------------------------------------------------------------------


def read_safetensors(path):
    """Returns (metadata, [(name, info, raw bytes)] in file order)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    meta = header.pop("__metadata__", None)
    items = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    return meta, [(k, v, data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in items]


def header_bytes(meta, infos):
    header = {}
    if meta is not None:
        header["__metadata__"] = meta
    header.update(infos)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def write_safetensors(path, meta, tensors, edit=None):
    """Packs tensors contiguously; edit(infos) may then change the header (offsets, dtypes...)."""
    infos, chunks, pos = {}, [], 0
    for name, info, raw in tensors:
        infos[name] = {"dtype": info["dtype"], "shape": list(info["shape"]),
                       "data_offsets": [pos, pos + len(raw)]}
        chunks.append(raw)
        pos += len(raw)
    if edit is not None:
        edit(infos)
    with open(path, "wb") as f:
        f.write(header_bytes(meta, infos) + b"".join(chunks))


# ---- model directories -----------------------------------------------------------------------


def copy_model(good, out, name):
    d = os.path.join(out, "models", name)
    os.makedirs(d)
    for f in ("config.json", "model.safetensors", "preprocessor_config.json"):
        shutil.copyfile(os.path.join(good, f), os.path.join(d, f))
    return d


def config_case(good, out, name, edit):
    d = copy_model(good, out, name)
    path = os.path.join(d, "config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    edit(cfg)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)


def file_case(good, out, name, filename, data):
    d = copy_model(good, out, name)
    with open(os.path.join(d, filename), "wb") as f:
        f.write(data)


def st_case(good, out, name, edit=None, drop=None, tail=b""):
    d = copy_model(good, out, name)
    path = os.path.join(d, "model.safetensors")
    meta, tensors = read_safetensors(path)
    write_safetensors(path, meta, [t for t in tensors if t[0] != drop], edit)
    if tail:
        with open(path, "ab") as f:
            f.write(tail)


def make_models(good, out):
    d = copy_model(good, out, "no-config")
    os.remove(os.path.join(d, "config.json"))
    d = copy_model(good, out, "no-safetensors")
    os.remove(os.path.join(d, "model.safetensors"))
    d = copy_model(good, out, "pytorch-bin")
    os.remove(os.path.join(d, "model.safetensors"))
    with open(os.path.join(d, "pytorch_model.bin"), "wb") as f:
        f.write(b"PK\x03\x04" + bytes(60))

    file_case(good, out, "config-notjson", "config.json", b"hidden_size = 32\n")
    file_case(good, out, "config-array", "config.json", b"[1, 2, 3]\n")
    config_case(good, out, "config-wrongtype", lambda c: c.update(hidden_size="32"))
    config_case(good, out, "config-heads", lambda c: c.update(num_attention_heads=5))
    config_case(good, out, "config-patch", lambda c: c.update(image_size=36))
    config_case(good, out, "config-negative", lambda c: c.update(hidden_size=-32))
    config_case(good, out, "config-zero-patch", lambda c: c.update(patch_size=0))
    config_case(good, out, "config-layers-negative", lambda c: c.update(num_hidden_layers=-1))
    config_case(good, out, "config-act", lambda c: c.update(hidden_act="gelu_foo"))
    # Absent fields take ViTConfig's defaults (hidden_size 768), which the weights contradict.
    config_case(good, out, "config-missing-hidden", lambda c: c.pop("hidden_size"))

    src = os.path.join(good, "model.safetensors")
    with open(src, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    file_case(good, out, "st-short", "model.safetensors", blob[:5])
    file_case(good, out, "st-hdrlen-beyond", "model.safetensors",
              struct.pack("<Q", len(blob)) + blob[8:])
    file_case(good, out, "st-hdrlen-huge", "model.safetensors",
              struct.pack("<Q", 2**64 - 16) + blob[8:])
    bad_json = bytearray(blob)
    bad_json[8 + n // 2:8 + n // 2 + 6] = b"}{\x00\"[:"
    file_case(good, out, "st-badjson", "model.safetensors", bytes(bad_json))

    def set_dtype(dtype):
        return lambda infos: infos["layernorm.weight"].update(dtype=dtype)

    def shift_last(infos):
        last = max(infos.values(), key=lambda v: v["data_offsets"][0])
        last["data_offsets"] = [o + 64 for o in last["data_offsets"]]

    def overlap(infos):
        # Moves a tensor 4 bytes back into its predecessor (size unchanged).
        t = infos["layernorm.weight"]
        t["data_offsets"] = [o - 4 for o in t["data_offsets"]]

    st_case(good, out, "st-dtype-unknown", set_dtype("Z32"))
    st_case(good, out, "st-dtype-i32", set_dtype("I32"))
    st_case(good, out, "st-offsets-range", shift_last)
    st_case(good, out, "st-overlap", overlap)
    st_case(good, out, "st-missing-tensor", drop="encoder.layer.1.attention.attention.key.weight")
    st_case(good, out, "st-wrong-shape",
            lambda infos: infos["layernorm.weight"].update(shape=[2, 16]))
    st_case(good, out, "st-data-long", tail=bytes(16))
    d = copy_model(good, out, "st-data-short")
    with open(os.path.join(d, "model.safetensors"), "r+b") as f:
        f.truncate(len(blob) - 4)


# ---- images ----------------------------------------------------------------------------------


def png_chunk(kind, payload):
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def huge_png(width, height):
    """A well-formed PNG header declaring width x height RGB, with a token IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(bytes(4 * 1024))) + png_chunk(b"IEND", b""))


def resize_jpeg_sof(jpeg, width, height):
    """Rewrites the frame size in a JPEG's SOFn segment, leaving everything else as it was."""
    out = bytearray(jpeg)
    pos = 2  # after SOI
    while pos + 4 <= len(out):
        if out[pos] != 0xFF:
            raise ValueError("JPEG segment expected")
        marker = out[pos + 1]
        (seglen,) = struct.unpack(">H", out[pos + 2:pos + 4])
        if marker in (0xC0, 0xC1, 0xC2):
            out[pos + 5:pos + 9] = struct.pack(">HH", height, width)
            return bytes(out)
        pos += 2 + seglen
    raise ValueError("no SOF segment")


GIF_1X1 = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
           b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def bmp_1x1():
    pixels = b"\x00\x00\xff\x00"  # one BGR pixel, row padded to 4 bytes
    info = struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    head = struct.pack("<2sIHHI", b"BM", 14 + len(info) + len(pixels), 0, 0, 14 + len(info))
    return head + info + pixels


def make_images(images, out):
    d = os.path.join(out, "images")
    os.makedirs(d)

    def put(name, data):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    with open(os.path.join(images, "photo_baseline_exif.jpg"), "rb") as f:
        jpeg = f.read()
    with open(os.path.join(images, "rgb.png"), "rb") as f:
        png = f.read()
    put("empty.jpg", b"")
    put("trunc.jpg", jpeg[:len(jpeg) // 2])
    put("trunc.png", png[:len(png) // 2])
    put("text.jpg", b"This is a text file, not an image.\n" * 4)
    # GIF and BMP are read: damaged ones must be refused.
    put("trunc.gif", GIF_1X1[:-9])
    put("trunc.bmp", bmp_1x1()[:-3])
    put("rle24.bmp", bmp_1x1()[:30] + b"\x01" + bmp_1x1()[31:])  # RLE8 on 24 bits
    put("huge.gif", b"GIF89a\xff\xff\xff\xff\0\0\0,\0\0\0\0\x0a\0\x0a\0\0\x08\0;")
    put("huge.bmp", struct.pack("<2sIHHIIiiHHIIiiII", b"BM", 54, 0, 0, 54, 40, 60000, 60000, 1,
                                24, 0, 0, 0, 0, 0, 0))
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x02\0\0\0" + (60000 - 1).to_bytes(3, "little") * 2
    body = b"WEBP" + vp8x + b"ANIM" + struct.pack("<I", 6) + bytes(6)
    put("huge.webp", b"RIFF" + struct.pack("<I", len(body)) + body)
    put("trunc.webp", b"RIFF\x24\0\0\0WEBPVP8L\x18\0\0\0\x2f\x07\xc0\x01\0\x07")
    put("image.tif", b"II*\0\x08\0\0\0" + bytes(64))  # a directory of no entries
    # A TIFF declaring 60000x60000 8-bit gray in one 16-byte strip.
    ifd = [(256, 4, 60000), (257, 4, 60000), (258, 3, 8), (259, 3, 1), (262, 3, 1),
           (273, 4, 8 + 2 + 12 * 7 + 4), (279, 4, 16)]
    put("huge.tif", b"II*\0\x08\0\0\0" + struct.pack("<H", len(ifd)) +
        b"".join(struct.pack("<HHI", t, k, 1) + struct.pack("<I" if k == 4 else "<HH", v,
                                                            *([] if k == 4 else [0]))
                 for t, k, v in ifd) + bytes(4) + bytes(16))
    put("trunc.tif", tiff_cut())
    put("image.heic", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic")
    put("huge.png", huge_png(100000, 100000))
    put("huge.jpg", resize_jpeg_sof(jpeg, 65000, 65000))


# ---- .npy files ------------------------------------------------------------------------------


def tiff_cut():
    """An LZW TIFF (a committed fixture) cut in the middle of its strip."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../data/formats/rgb_lzw.tif")
    with open(path, "rb") as f:
        data = f.read()
    return data[: len(data) // 2]


def make_npy(out):
    d = os.path.join(out, "npy")
    os.makedirs(d)
    rng = np.random.default_rng(3)
    np.save(os.path.join(d, "small.npy"), rng.uniform(-1, 1, (3, 16, 16)).astype(np.float32))
    np.save(os.path.join(d, "channels.npy"), rng.uniform(-1, 1, (1, 4, 32, 32)).astype(np.float32))
    np.save(os.path.join(d, "f64.npy"), rng.uniform(-1, 1, (1, 3, 32, 32)))
    good = os.path.join(d, "trunc.npy")
    np.save(good, rng.uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32))
    with open(good, "r+b") as f:
        f.truncate(os.path.getsize(good) - 100)
    with open(os.path.join(d, "garbage.npy"), "wb") as f:
        f.write(b"not a numpy file at all" * 8)


def main(argv):
    if len(argv) != 3:
        print("usage: make_bad_inputs.py GOOD_MODEL_DIR IMAGES_DIR OUT_DIR", file=sys.stderr)
        return 2
    good, images, out = argv
    make_models(good, out)
    make_images(images, out)
    make_npy(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
