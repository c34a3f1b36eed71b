#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make_corpus.py — (re)writes the hand-made seeds of fuzz/corpus/<target>/ from the test
fixtures: valid files, truncations, bit flips, huge declared sizes, deep JSON nesting,
NaN/Inf in float fields, duplicate keys. Deterministic; run from the repository root with a
Python that has numpy and Pillow (e.g. /usr/bin/python3 fuzz/make_corpus.py). It writes only
its own names: the files named by a SHA-1 came from fuzzing runs (libFuzzer -merge=1, keeping
inputs that reach new coverage) and stay as they are."""
import base64
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image

OUT = "fuzz/corpus"
MODELS = "tests/data/models"
IMAGES = "tests/data/preprocess/images"


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def flip(data, pos, bit=0x10):
    b = bytearray(data)
    b[pos % len(b)] ^= bit
    return bytes(b)


# ---- safetensors ---------------------------------------------------------------------------

def st_file(header, data=b"", raw_len=None):
    h = json.dumps(header, separators=(",", ":")).encode() if not isinstance(header, bytes) \
        else header
    n = len(h) if raw_len is None else raw_len
    return struct.pack("<Q", n) + h + data


def safetensors_seeds():
    t = "safetensors"
    small = st_file({"__metadata__": {"format": "pt"},
                     "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
                     "b": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]}},
                    bytes(range(22)))
    put(t, "small.safetensors", small)
    put(t, "scalar_and_empty", st_file({"s": {"dtype": "F16", "shape": [], "data_offsets": [0, 2]},
                                        "e": {"dtype": "F32", "shape": [0, 5],
                                              "data_offsets": [2, 2]}}, b"\0\0"))
    put(t, "all_dtypes", st_file({d: {"dtype": d, "shape": [1], "data_offsets": [0, 0]}
                                  for d in ["BOOL", "U8", "I64", "F64", "F8_E4M3", "F4"]}))
    put(t, "trunc_len", small[:5])
    put(t, "trunc_header", small[:40])
    put(t, "trunc_data", small[:-3])
    put(t, "huge_header_len", st_file(b"{}", raw_len=(1 << 63) + 7))
    put(t, "header_len_past_eof", st_file(b"{}", raw_len=4096))
    put(t, "huge_shape", st_file({"a": {"dtype": "F32", "shape": [1 << 62, 1 << 62],
                                        "data_offsets": [0, 16]}}, bytes(16)))
    put(t, "huge_offsets", st_file({"a": {"dtype": "U8", "shape": [4],
                                          "data_offsets": [18446744073709551612,
                                                           18446744073709551616]}}))
    put(t, "overlap", st_file({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                               "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}},
                              bytes(6)))
    put(t, "gap", st_file({"a": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}}, bytes(4)))
    put(t, "dup_key", st_file(b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                              b'"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"x"))
    put(t, "neg_shape", st_file({"a": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 1]}},
                                b"x"))
    put(t, "float_shape", st_file(b'{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}',
                                  b"x"))
    put(t, "nan_offset", st_file(b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,NaN]}}',
                                 b"x"))
    put(t, "deep_nesting", st_file(b'{"__metadata__":' + b"[" * 5000 + b"]" * 5000 + b"}"))
    put(t, "nine_dims", st_file({"a": {"dtype": "U8", "shape": [1] * 9,
                                       "data_offsets": [0, 1]}}, b"x"))
    put(t, "bad_utf8", st_file(b'{"\xff\xfe":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}',
                               b"x"))
    put(t, "nul_in_name", st_file(b'{"a\\u0000b":{"dtype":"U8","shape":[1],'
                                  b'"data_offsets":[0,1]}}', b"x"))
    put(t, "f4_odd", st_file({"a": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}},
                             b"xy"))
    with open(os.path.join(MODELS, "tiny-in21k/model.safetensors"), "rb") as f:
        real = f.read()
    hlen = struct.unpack("<Q", real[:8])[0]
    head = real[:8 + hlen]
    put(t, "tiny_header_only", head)
    for i, pos in enumerate([3, 9, 60, 200, hlen // 2, hlen + 4]):
        put(t, "tiny_flip%d" % i, flip(head + real[8 + hlen:8 + hlen + 64], pos))


# ---- config.json / preprocessor_config.json ---------------------------------------------------

def json_seeds():
    with open(os.path.join(MODELS, "tiny-in21k/config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(MODELS, "tiny-classifier/config.json")) as f:
        put("config", "tiny_classifier.json", f.read())
    put("config", "tiny_in21k.json", json.dumps(cfg, indent=2))

    def cfg_edit(name, **kw):
        c = dict(cfg)
        c.update(kw)
        put("config", name, json.dumps(c))

    cfg_edit("zero_heads", num_attention_heads=0)
    cfg_edit("huge_hidden", hidden_size=2**31 + 1)
    cfg_edit("neg_patch", patch_size=-8)
    cfg_edit("float_layers", num_hidden_layers=2.5)
    cfg_edit("string_size", image_size="224")
    cfg_edit("eps_inf", layer_norm_eps=1e400)
    cfg_edit("unknown_act", hidden_act="swish-ish")
    cfg_edit("labels_sparse", id2label={"0": "a", "7": "b"}, num_labels=9)
    cfg_edit("labels_huge_id", id2label={"4294967296": "x"})
    cfg_edit("labels_neg", id2label={"-1": "x"})
    cfg_edit("labels_many_empty", num_labels=100000000)
    cfg_edit("label2id_mismatch", id2label={"0": "a"}, label2id={"b": 0}, num_labels=3)
    cfg_edit("arch_long", architectures=["ViT" * 100])
    cfg_edit("arch_empty", architectures=[])
    put("config", "nan_eps", json.dumps(cfg).replace('1e-12', 'NaN'))
    put("config", "dup_key", json.dumps(cfg)[:-1] + ', "hidden_size": 64}')
    put("config", "deep_nesting", '{"a":' + "[" * 100000 + "]" * 100000 + "}")
    put("config", "deep_objects", '{"a":' + '{"b":' * 3000 + "1" + "}" * 3001)
    put("config", "not_object", "[1,2,3]")
    put("config", "empty", "")
    put("config", "nul_inside", b'{"hidden_act": "ge\x00lu"}')
    put("config", "escaped_nul", '{"hidden_act": "ge\\u0000lu"}')
    put("config", "truncated", json.dumps(cfg)[:57])

    with open("tests/data/preprocess/preprocessor_config.json") as f:
        pp = json.load(f)
    put("preprocess_config", "in21k.json", json.dumps(pp, indent=2))
    with open(os.path.join(MODELS, "tiny-variant/preprocessor_config.json")) as f:
        put("preprocess_config", "variant.json", f.read())

    def pp_edit(name, text=None, **kw):
        c = dict(pp)
        c.update(kw)
        put("preprocess_config", name, text if text is not None else json.dumps(c))

    pp_edit("size_hw", size={"height": 17, "width": 300})
    pp_edit("size_shortest", size={"shortest_edge": 224})
    pp_edit("size_zero", size=0)
    pp_edit("size_huge", size={"height": 1 << 40, "width": 1})
    pp_edit("resample_bad", resample=9)
    pp_edit("resample_each", resample=5, do_rescale=False, rescale_factor=2.0)
    pp_edit("std_zero", image_std=[0.5, 0, 0.5])
    pp_edit("mean_short", image_mean=[0.5, 0.5])
    pp_edit("mean_scalar", image_mean=0.5, image_std=0.25)
    pp_edit("bool_as_int", do_resize=1, do_normalize=0)
    pp_edit("nan_std", text=json.dumps(pp).replace('"image_std": [0.5', '"image_std": [NaN'))
    pp_edit("inf_rescale", text=json.dumps(dict(pp, rescale_factor=1)).replace(
        '"rescale_factor": 1', '"rescale_factor": 1e999'))
    pp_edit("dup_key", text=json.dumps(pp)[:-1] + ', "size": 32}')
    pp_edit("deep_nesting", text='{"image_mean":' + "[" * 50000 + "]" * 50000 + "}")
    pp_edit("truncated", text=json.dumps(pp)[:30])
    family_seeds()


FAMILY = "tests/data/family"


def family_seeds():
    """The ViT family's configs and processors, and the fields they add."""
    for name in ("clip", "clip-vision-proj", "siglip", "dinov2", "dinov2-swiglu", "deit-distilled"):
        with open(os.path.join(FAMILY, "models", name, "config.json")) as f:
            put("config", "family_" + name + ".json", f.read())
        with open(os.path.join(FAMILY, "models", name, "preprocessor_config.json")) as f:
            put("preprocess_config", "family_" + name + ".json", f.read())
    put("config", "family_vision_config_list", '{"model_type": "clip", "vision_config": [1]}')
    put("config", "family_swiglu_ratio", '{"model_type": "dinov2", "use_swiglu_ffn": true, '
        '"mlp_ratio": 1e30}')
    put("config", "family_swiglu_tiny", '{"model_type": "dinov2", "use_swiglu_ffn": true, '
        '"hidden_size": 1, "num_attention_heads": 1, "mlp_ratio": 0.1}')
    put("config", "family_siglip_nested", '{"model_type": "siglip", "vision_config": '
        '{"hidden_size": 8, "num_attention_heads": 2, "patch_size": 4, "image_size": 8}}')
    put("preprocess_config", "family_siglip_int_size",
        '{"image_processor_type": "SiglipImageProcessor", "size": 32}')
    put("preprocess_config", "family_clip_crop_bad",
        '{"image_processor_type": "CLIPImageProcessor", "crop_size": {"height": 0, "width": 3}}')
    put("preprocess_config", "family_fe_long",
        '{"feature_extractor_type": "' + "X" * 300 + 'FeatureExtractor"}')
    put("preprocess_config", "family_unknown", '{"image_processor_type": "BeitImageProcessor"}')


# ---- .npy ---------------------------------------------------------------------------------------

def npy_bytes(arr, version=None):
    b = io.BytesIO()
    if version is None:
        np.save(b, arr)
    else:
        np.lib.format.write_array(b, arr, version=version)
    return b.getvalue()


def npy_header(descr, shape, major=1, pad_to=64, data=b""):
    text = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    text += " " * ((pad_to - (10 + len(text) + 1) % pad_to) % pad_to) + "\n"
    lenfmt = "<H" if major == 1 else "<I"
    return b"\x93NUMPY" + bytes([major, 0]) + struct.pack(lenfmt, len(text)) + text.encode() + data


def npy_seeds():
    t = "npy"
    rng = np.random.default_rng(0)
    put(t, "f32_2x3", npy_bytes(rng.standard_normal((2, 3)).astype("<f4")))
    put(t, "u8_4x4x3", npy_bytes(rng.integers(0, 255, (4, 4, 3)).astype("u1")))
    put(t, "f32_scalar", npy_bytes(np.float32(1.5)))
    put(t, "f32_empty", npy_bytes(np.zeros((0, 3), "<f4")))
    put(t, "v2", npy_bytes(np.ones((2,), "<f4"), version=(2, 0)))
    put(t, "v3", npy_bytes(np.ones((2,), "<f4"), version=(3, 0)))
    put(t, "nan_inf", npy_bytes(np.array([np.nan, np.inf, -np.inf, 0], "<f4")))
    put(t, "f64", npy_bytes(np.ones((2,), "<f8")))
    put(t, "big_endian", npy_bytes(np.ones((2,), ">f4")))
    put(t, "fortran", npy_bytes(np.asfortranarray(np.ones((2, 3), "<f4"))))
    put(t, "huge_shape", npy_header("<f4", "(4611686018427387904, 4)"))
    put(t, "overflow_shape", npy_header("<f4", "(18446744073709551615,)"))
    put(t, "nine_dims", npy_header("|u1", "(1, 1, 1, 1, 1, 1, 1, 1, 1)", data=b"x"))
    put(t, "neg_dim", npy_header("|u1", "(-1,)", data=b"x"))
    put(t, "v2_huge_header_len", b"\x93NUMPY\x02\x00\xff\xff\xff\xff{")
    put(t, "bad_version", b"\x93NUMPY\x04\x00\x10\x00{'descr': '<f4'}")
    put(t, "trunc_data", npy_bytes(np.ones((8,), "<f4"))[:-5])
    put(t, "trunc_header", npy_bytes(np.ones((8,), "<f4"))[:30])
    put(t, "trailing", npy_bytes(np.ones((2,), "<f4")) + b"junk")
    put(t, "dup_key", npy_header("<f4", "(1,), 'descr': '|u1'", data=b"\0\0\0\0"))
    put(t, "missing_key", b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f4', 'shape': (1,)}   \n" +
        b"\0\0\0\0")
    with open(os.path.join(MODELS, "tiny-in21k/inputs.pixel_values.npy"), "rb") as f:
        pv = f.read()
    put(t, "pixel_values_trunc", pv[:128])
    good = npy_bytes(np.arange(6, dtype="<f4").reshape(2, 3))
    for i, pos in enumerate([0, 6, 8, 12, 20, 40, 50, 70]):
        put(t, "flip%d" % i, flip(good, pos, 0x04))


# ---- images -------------------------------------------------------------------------------------

def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + \
        struct.pack(">I", zlib.crc32(kind + payload) & 0xffffffff)


def png_ihdr_only(w, h, depth=8, color=2):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + \
        png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b"")


def pil_bytes(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def jpeg_sof_size(jpeg, w, h):
    b = bytearray(jpeg)
    i = 2
    while i + 4 < len(b):
        marker = b[i + 1]
        seglen = struct.unpack(">H", b[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            b[i + 5:i + 9] = struct.pack(">HH", h, w)
            break
        i += 2 + seglen
    return bytes(b)


def exif_orientation(o):
    ifd = struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 1, o) + b"\0\0\0\0"
    return b"Exif\0\0" + b"II*\0" + struct.pack("<I", 8) + ifd


def image_seeds():
    t = "image"
    rng = np.random.default_rng(1)
    rgb = Image.fromarray(rng.integers(0, 255, (9, 13, 3)).astype("u1"), "RGB")
    put(t, "rgb.jpg", pil_bytes(rgb, "JPEG", quality=80))
    put(t, "progressive.jpg", pil_bytes(rgb, "JPEG", progressive=True))
    put(t, "gray.jpg", pil_bytes(rgb.convert("L"), "JPEG"))
    put(t, "cmyk.jpg", pil_bytes(rgb.convert("CMYK"), "JPEG"))
    put(t, "sub444.jpg", pil_bytes(rgb, "JPEG", subsampling=0))
    for o in (3, 6, 8):
        put(t, "exif%d.jpg" % o, pil_bytes(rgb, "JPEG", exif=exif_orientation(o)))
    put(t, "exif_bad_offset.jpg",
        pil_bytes(rgb, "JPEG", exif=b"Exif\0\0II*\0\xff\xff\xff\x7f"))
    put(t, "rgb.png", pil_bytes(rgb, "PNG"))
    put(t, "rgba.png", pil_bytes(rgb.convert("RGBA"), "PNG"))
    put(t, "la.png", pil_bytes(rgb.convert("LA"), "PNG"))
    put(t, "palette_trns.png", pil_bytes(rgb.convert("P"), "PNG", transparency=3))
    put(t, "gray16.png", pil_bytes(Image.fromarray(
        rng.integers(0, 65535, (5, 7)).astype("<u2"), "I;16"), "PNG"))
    put(t, "bw.png", pil_bytes(rgb.convert("1"), "PNG"))
    with open(os.path.join(IMAGES, "tiny_1x1.png"), "rb") as f:
        put(t, "tiny_1x1.png", f.read())
    with open(os.path.join(IMAGES, "upscale_50x37.png"), "rb") as f:
        put(t, "upscale_50x37.png", f.read())
    put(t, "png_huge_dims", png_ihdr_only(100000, 100000))
    put(t, "png_bomb_pixels", png_ihdr_only(60000, 60000))
    put(t, "png_zero_width", png_ihdr_only(0, 10))
    put(t, "png_bad_depth", png_ihdr_only(4, 4, depth=7))
    jpg = pil_bytes(rgb, "JPEG")
    put(t, "jpeg_huge_dims", jpeg_sof_size(jpg, 65535, 65535))
    put(t, "jpeg_zero_dims", jpeg_sof_size(jpg, 0, 5))
    put(t, "jpeg_trunc_half", jpg[:len(jpg) // 2])
    put(t, "jpeg_trunc_header", jpg[:30])
    put(t, "jpeg_no_eoi", jpg[:-2])
    png = pil_bytes(rgb, "PNG")
    put(t, "png_trunc_idat", png[:len(png) - 20])
    put(t, "png_trunc_sig", png[:6])
    for i, pos in enumerate([20, 100, 160, 300, 400]):
        put(t, "jpeg_flip%d" % i, flip(jpg, pos))
    for i, pos in enumerate([16, 30, 45, 60]):
        put(t, "png_flip%d" % i, flip(png, pos))
    put(t, "gif_magic", b"GIF89a" + bytes(20))
    gif_seeds(t, rgb, rng)
    put(t, "bmp_magic", b"BM" + bytes(40))
    bmp_seeds(t, rgb)
    put(t, "webp_magic", b"RIFF\0\0\0\0WEBPVP8 ")
    webp_seeds(t, rgb, rng)


def bmp_file(w, h, bits, pixels, compression=0, palette=b"", header=40, masks=b""):
    info = struct.pack("<IiiHHIIiiII", header, w, h, 1, bits, compression, len(pixels), 0, 0,
                       len(palette) // 4, 0) + masks
    info += bytes(max(0, header - len(info)))
    off = 14 + len(info) + len(palette)
    return b"BM" + struct.pack("<IHHI", off + len(pixels), 0, 0, off) + info + palette + pixels


def bmp_seeds(t, rgb):
    rng = np.random.default_rng(3)  # its own: the other seeds stay as they were
    rgb24 = pil_bytes(rgb, "BMP")
    put(t, "rgb24.bmp", rgb24)
    put(t, "p8.bmp", pil_bytes(rgb.convert("P"), "BMP"))
    put(t, "l8.bmp", pil_bytes(rgb.convert("L"), "BMP"))
    put(t, "bw1.bmp", pil_bytes(rgb.convert("1"), "BMP"))
    pal16 = bytes(rng.integers(0, 255, 64).astype("u1"))
    put(t, "p4.bmp", bmp_file(5, 3, 4, bytes(rng.integers(0, 255, 12).astype("u1")),
                              palette=pal16))
    put(t, "rgb565.bmp", bmp_file(3, 2, 16, bytes(16), compression=3,
                                  masks=struct.pack("<3I", 0xF800, 0x7E0, 0x1F)))
    put(t, "xbgr32.bmp", bmp_file(3, 2, 32, bytes(range(24)), compression=3, header=124,
                                  masks=struct.pack("<4I", 0xFF000000, 0xFF0000, 0xFF00, 0)))
    rle8 = b"\x03\x05\0\x03\x01\x02\x03\0\0\x02\x01\x01\x02\x01\x00\x04\x09\0\0\0\1"
    put(t, "rle8.bmp", bmp_file(5, 3, 8, rle8, compression=1, palette=pal16 * 4))
    rle4 = b"\x03\x15\0\x03\x12\x30\0\0\x05\x67\0\0\x02\x01\0\1"
    put(t, "rle4.bmp", bmp_file(5, 3, 4, rle4, compression=2, palette=pal16))
    put(t, "bmp_huge_dims", bmp_file(60000, 60000, 24, b""))
    put(t, "bmp_rle_huge_dims", bmp_file(13000, 13000, 8, b"\0\1", compression=1,
                                         palette=pal16))
    put(t, "bmp_trunc_half", rgb24[:len(rgb24) // 2])
    put(t, "bmp_trunc_header", rgb24[:30])
    for i, pos in enumerate([2, 10, 14, 18, 22, 28, 30, 46]):
        put(t, "bmp_flip%d" % i, flip(rgb24, pos, 0x40))


def gif_seeds(t, rgb, rng):
    big = Image.fromarray(rng.integers(0, 255, (20, 18, 3)).astype("u1"), "RGB")
    still = pil_bytes(rgb, "GIF")
    interlaced = pil_bytes(big, "GIF")  # 16 rows or more: interlaced
    trns = pil_bytes(rgb.convert("P"), "GIF", transparency=4)
    anim = pil_bytes(rgb, "GIF", save_all=True, duration=30,
                     append_images=[rgb.transpose(Image.Transpose.ROTATE_180)])
    put(t, "still.gif", still)
    put(t, "interlaced.gif", interlaced)
    put(t, "trns.gif", trns)
    put(t, "gray.gif", pil_bytes(rgb.convert("L"), "GIF"))
    put(t, "anim.gif", anim)
    for name, data in (("still", still), ("interlaced", interlaced), ("anim", anim)):
        put(t, "gif_%s_trunc_half" % name, data[:len(data) // 2])
        put(t, "gif_%s_trunc_tail" % name, data[:-4])
        for i, pos in enumerate([6, 10, 13, 800, 820]):
            put(t, "gif_%s_flip%d" % (name, i), flip(data, pos))
    # A 65535x65535 screen, and a frame that grows a small screen past the side limit.
    put(t, "gif_huge_screen", b"GIF89a\xff\xff\xff\xff\0\0\0,\0\0\0\0\x0a\0\x0a\0\0\x08\0;")
    put(t, "gif_frame_grows", b"GIF89a\x0a\0\x0a\0\0\0\0,\xff\xff\0\0\xff\xff\x01\0\0\x08\0;")
    put(t, "gif_code_size_13", still[:still.index(b",") + 10] + b"\x0d" +
        still[still.index(b",") + 11:] if b"," in still else still)


def webp_seeds(t, rgb, rng):
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.fromarray(rng.integers(0, 255, (9, 13)).astype("u1"), "L"))
    lossy = pil_bytes(rgb, "WEBP", quality=80)
    lossless = pil_bytes(rgba, "WEBP", lossless=True)
    put(t, "lossy.webp", lossy)
    put(t, "lossy_alpha.webp", pil_bytes(rgba, "WEBP", quality=60))
    put(t, "lossless_alpha.webp", lossless)
    put(t, "exif6.webp", pil_bytes(rgb, "WEBP", exif=exif_orientation(6)))
    anim = pil_bytes(rgb, "WEBP", save_all=True, duration=30,
                     append_images=[rgb.transpose(Image.Transpose.ROTATE_180)])
    put(t, "anim.webp", anim)
    for name, data in (("lossy", lossy), ("lossless", lossless), ("anim", anim)):
        put(t, "webp_%s_trunc_half" % name, data[:len(data) // 2])
        put(t, "webp_%s_trunc_tail" % name, data[:-3])
        for i, pos in enumerate([4, 12, 20, 26, 40]):
            put(t, "webp_%s_flip%d" % (name, i), flip(data, pos))
    # A VP8X animation canvas of 60000x60000 with no frames: refused before libwebp
    # allocates the canvas.
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x02\0\0\0" + \
        (60000 - 1).to_bytes(3, "little") * 2
    anim_chunk = b"ANIM" + struct.pack("<I", 6) + bytes(6)
    body = b"WEBP" + vp8x + anim_chunk
    put(t, "webp_huge_canvas", b"RIFF" + struct.pack("<I", len(body)) + body)


# ---- serve_request (v2 JSON, binary extension, multipart) --------------------------------------


def tiff_seeds():
    """Seeds for fuzz_tiff, and a few for fuzz_image: Pillow's writer in several
    compressions, the hand-made layouts of tests/pillow/gen_tiff.py, tiffcp's tiles
    and planes when it is installed, and hostile headers (huge or zero sizes, strip
    offsets past the end, no strips, a deflate stream far longer than its strip)."""
    import shutil
    import subprocess
    import tempfile
    sys.path.insert(0, "tests/pillow")
    from gen_tiff import make_tiff, pack_bits
    t = "tiff"
    rng = np.random.default_rng(5)
    px = rng.integers(0, 255, (7, 9, 3)).astype("u1")
    rgb = Image.fromarray(px, "RGB")
    seeds = {}
    for comp in ("raw", "tiff_lzw", "tiff_adobe_deflate", "packbits", "jpeg", "group4"):
        im = rgb.convert("1") if comp == "group4" else rgb
        seeds["pil_%s.tif" % comp] = pil_bytes(im, "TIFF", compression=comp)
    for mode in ("L", "LA", "P", "RGBA", "CMYK", "I;16", "I", "F", "YCbCr", "1"):
        seeds["pil_%s.tif" % mode.replace(";", "")] = pil_bytes(rgb.convert(mode) if mode not in
                                                                ("I;16",) else
                                                                rgb.convert("L").convert("I;16"),
                                                                "TIFF", compression="tiff_lzw")
    ex = Image.Exif()
    ex[0x0112] = 6
    seeds["orient6.tif"] = pil_bytes(rgb, "TIFF", exif=ex)
    seeds["multipage.tif"] = pil_bytes(rgb, "TIFF", save_all=True, append_images=[rgb])
    seeds["rgb16_be.tif"] = make_tiff(9, 7, 16, 3, 2, bytes(range(256)) * 1 + bytes(122), ">")
    seeds["premul.tif"] = make_tiff(9, 7, 8, 4, 2, bytes(rng.integers(0, 255, 252, dtype="u1")),
                                    extra=(1,))
    seeds["p4_fill2.tif"] = make_tiff(9, 7, 4, 1, 3, pack_bits(rng.integers(0, 16, (7, 9)), 4),
                                      colormap=list(range(48)), fillorder=2)
    seeds["planar.tif"] = make_tiff(9, 7, 8, 3, 2, px.transpose(2, 0, 1).tobytes(), planar=2,
                                    rows_per_strip=2)
    seeds["strips.tif"] = make_tiff(9, 7, 8, 3, 2, px.tobytes(), rows_per_strip=3)
    tiffcp = shutil.which("tiffcp")
    if tiffcp:
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "in.tif")
            with open(src, "wb") as f:
                f.write(seeds["pil_raw.tif"])
            for name, args in (("tiled_lzw2", ["-t", "-w", "16", "-l", "16", "-c", "lzw:2"]),
                               ("separate_zip", ["-p", "separate", "-c", "zip"]),
                               ("ycbcr_jpeg", ["-c", "jpeg", "-r", "8"]),
                               ("be_tiled", ["-B", "-t", "-w", "16", "-l", "16"]),
                               ("bigtiff", ["-8", "-c", "packbits"])):
                out = os.path.join(d, name + ".tif")
                if subprocess.run([tiffcp, *args, src, out], check=False).returncode == 0:
                    with open(out, "rb") as f:
                        seeds["cp_%s.tif" % name] = f.read()
    # Hostile: the sizes and offsets lie.
    seeds["huge_dims.tif"] = make_tiff(9, 7, 8, 3, 2, px.tobytes()).replace(
        struct.pack("<HHII", 256, 4, 1, 9), struct.pack("<HHII", 256, 4, 1, 60000)).replace(
        struct.pack("<HHII", 257, 4, 1, 7), struct.pack("<HHII", 257, 4, 1, 60000))
    seeds["zero_width.tif"] = make_tiff(9, 7, 8, 3, 2, px.tobytes()).replace(
        struct.pack("<HHII", 256, 4, 1, 9), struct.pack("<HHII", 256, 4, 1, 0))
    good = make_tiff(9, 7, 8, 3, 2, px.tobytes())
    seeds["offset_past_end.tif"] = good.replace(struct.pack("<HHI", 273, 4, 1),
                                                struct.pack("<HHI", 273, 4, 1))[:-60]
    seeds["truncated.tif"] = seeds["pil_tiff_lzw.tif"][:len(seeds["pil_tiff_lzw.tif"]) // 2]
    bomb = zlib.compress(bytes(1 << 22), 9)
    seeds["deflate_bomb.tif"] = make_tiff(64, 64, 8, 1, 1, bomb).replace(
        struct.pack("<HHIH", 259, 3, 1, 1), struct.pack("<HHIH", 259, 3, 1, 8))
    for name, data in seeds.items():
        put(t, name, data)
        if name.startswith(("pil_raw", "pil_tiff_lzw", "cp_tiled", "orient6", "huge_dims",
                            "deflate_bomb", "planar")):
            put("image", "tiff_" + name, data)
        put(t, "flip_" + name, flip(data, len(data) // 3))


def serve_request_seeds():
    t = "serve_request"
    fp32 = {"inputs": [{"name": "pixel_values", "datatype": "FP32", "shape": [1, 3, 2, 2],
                        "data": [[[[0.5, -1], [2, 3]], [[0, 0], [1, 1]], [[-0.25, 4], [5, 6]]]]}],
            "outputs": [{"name": "pooler_output", "parameters": {"binary_data": True}}],
            "id": "seed"}
    put(t, "json_fp32_nested", b"J" + json.dumps(fp32).encode())
    with open(os.path.join(IMAGES, "gray.jpg"), "rb") as f:
        jpg = f.read()
    b64 = {"inputs": [{"name": "images", "datatype": "BYTES", "shape": [2],
                       "data": [base64.b64encode(jpg[:64]).decode(), "AAEC"]}],
           "parameters": {"binary_data_output": True}}
    put(t, "json_bytes_base64", b"J" + json.dumps(b64).encode())
    header = {"inputs": [
        {"name": "images", "datatype": "BYTES", "shape": [2, 1],
         "parameters": {"binary_data_size": 4 + 5 + 4 + 2}},
        {"name": "pv", "datatype": "FP32", "shape": [2],
         "parameters": {"binary_data_size": 8}}],
        "outputs": [{"name": "cls"}, {"name": "logits", "parameters": {"binary_data": False}}]}
    hj = json.dumps(header).encode()
    binary = struct.pack("<I", 5) + b"hello" + struct.pack("<I", 2) + b"ok" + struct.pack(
        "<ff", 1.5, -2)
    seed = b"B" + struct.pack("<H", len(hj)) + hj + binary
    put(t, "binary_bytes_fp32", seed)
    put(t, "binary_truncated", seed[:-3])
    put(t, "binary_header_short", b"B" + struct.pack("<H", len(hj) - 1) + hj + binary)
    put(t, "binary_length_lies", b"B" + struct.pack("<H", len(hj)) + hj +
        struct.pack("<I", 999) + binary[4:])
    put(t, "json_deep", b"J" + b'{"inputs":' + b"[" * 3000 + b"]" * 3000 + b"}")
    put(t, "json_shape_overflow", b"J" + json.dumps(
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2**62, 4], "data": [1]}]}).encode())
    put(t, "json_count_mismatch", b"J" + json.dumps(
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": [3], "data": [1, [2]]}]}).encode())
    put(t, "json_bad_base64", b"J" + json.dumps(
        {"inputs": [{"name": "x", "datatype": "BYTES", "shape": [1], "data": ["a=b"]}]}).encode())
    mp = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n"
          b"Content-Type: image/jpeg\r\n\r\n" + jpg[:48] + b"\r\n--b\r\n"
          b"Content-Disposition: form-data; name=\"second\"\r\n\r\nxyz\r\n--b--\r\n")
    put(t, "multipart_two_files", b"M" + mp)
    put(t, "multipart_unclosed", b"M" + mp[:-8])
    put(t, "multipart_many_headers", b"M" + b"--b\r\n" + b"X: y\r\n" * 40 + b"\r\nz\r\n--b--")


def main():
    if not os.path.isdir(MODELS):
        sys.exit("run from the repository root")
    safetensors_seeds()
    json_seeds()
    npy_seeds()
    image_seeds()
    tiff_seeds()
    serve_request_seeds()


if __name__ == "__main__":
    main()
