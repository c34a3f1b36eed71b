# SPDX-License-Identifier: MIT
"""pytest suite of the vitc Python package: outputs against the transformers
fixtures in tests/data, preprocessing bit for bit, equality with the `vitc`
command, input kinds, batching, errors and handle lifetimes. Run from the
repository root by tests/cli/test_python.sh (VITC_LIBRARY and VITC_CLI name
the build to test; without VITC_CLI the CLI comparisons are skipped)."""

import ctypes
import json
import os
import re
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import vitc
from vitc import _lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")
MODELS = os.path.join(DATA, "models")
IN21K = os.path.join(MODELS, "tiny-in21k")
CLASSIFIER = os.path.join(MODELS, "tiny-classifier")
VARIANT = os.path.join(MODELS, "tiny-variant")
PRE = os.path.join(DATA, "preprocess")
IMAGES = os.path.join(PRE, "images")
IMAGE_NAMES = sorted(os.listdir(IMAGES))
CLI = os.environ.get("VITC_CLI", "")
TOL = 1e-4  # as the C tests: HF's own float32-vs-float64 spread is <= 3e-6

needs_cli = pytest.mark.skipif(not (CLI and os.access(CLI, os.X_OK)),
                               reason="VITC_CLI does not name the vitc command")


def fixture(model_dir, name):
    return np.load(os.path.join(model_dir, name + ".npy"))


def expected_pixel_values(name):
    """ViTImageProcessor's pixel_values of a fixture image: the stored array, or
    the exact table applied to the stored resize (tests/data/README.md)."""
    direct = os.path.join(PRE, "expected", name + ".pixel_values.npy")
    if os.path.exists(direct):
        return np.load(direct)
    lut = np.load(os.path.join(PRE, "u8_to_pixel_value_lut.npy"))
    resized = np.load(os.path.join(PRE, "expected", name + ".resized_u8.npy"))
    return np.ascontiguousarray(lut[resized].transpose(2, 0, 1))


@pytest.fixture(scope="module")
def in21k():
    with vitc.Model(IN21K) as m:
        yield m


@pytest.fixture(scope="module")
def classifier():
    with vitc.Model(CLASSIFIER) as m:
        yield m


@pytest.fixture(scope="module")
def preprocessor():
    return vitc.Preprocessor(os.path.join(PRE, "preprocessor_config.json"))


# ---- the package and the library -------------------------------------------------


def test_version_matches_header_and_library():
    header = open(os.path.join(ROOT, "include", "vitc.h")).read()
    parts = [re.search(r"#define VITC_VERSION_%s (\d+)" % k, header).group(1)
             for k in ("MAJOR", "MINOR", "PATCH")]
    assert vitc.__version__ == ".".join(parts)
    assert vitc.library_version == vitc.__version__


def test_struct_layouts_match_the_header(tmp_path):
    """ctypes must lay the structs out as the C compiler does, or calls corrupt memory."""
    cc = os.environ.get("CC", "cc")
    structs = {
        "vitc_preprocess_params": _lib.PreprocessParams, "vitc_image": _lib.Image,
        "vitc_model_params": _lib.ModelParams, "vitc_model_info": _lib.ModelInfo,
        "vitc_ctx_params": _lib.CtxParams, "vitc_tensor": _lib.Tensor,
    }
    if _lib.HAS_HUB:
        structs["vitc_hub_params"] = _lib.HubParams
    lines = []
    for cname, cls in structs.items():
        lines.append('printf("%s %%zu\\n", sizeof(%s));' % (cname, cname))
        for field, _ in cls._fields_:
            lines.append('printf("%s.%s %%zu\\n", offsetof(%s, %s));'
                         % (cname, field, cname, field))
    src = tmp_path / "layout.c"
    src.write_text("#include <stddef.h>\n#include <stdio.h>\n#include <vitc.h>\n"
                   "int main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n")
    exe = tmp_path / "layout"
    # Plain programs: no sanitizer runtime preloaded into them (see test_python.sh).
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    try:
        subprocess.check_call([cc, "-std=c11", "-I", os.path.join(ROOT, "include"), str(src),
                               "-o", str(exe)], env=env)
    except OSError:
        pytest.skip("no C compiler (%s)" % cc)
    text = subprocess.check_output([str(exe)], text=True, env=env)
    got = dict(line.split() for line in text.split("\n") if line)
    for cname, cls in structs.items():
        assert int(got[cname]) == ctypes.sizeof(cls), cname
        for field, _ in cls._fields_:
            assert int(got[cname + "." + field]) == getattr(cls, field).offset, (cname, field)


def test_library_override_that_does_not_exist_fails_to_import(tmp_path):
    env = dict(os.environ, VITC_LIBRARY=str(tmp_path / "libnothere.so"))
    r = subprocess.run([sys.executable, "-c", "import vitc"], env=env, capture_output=True,
                       text=True)
    assert r.returncode != 0
    assert "cannot load libvitc" in r.stderr and "libnothere.so" in r.stderr


# ---- outputs against the transformers fixtures -------------------------------


@pytest.mark.parametrize("model_dir,outputs", [
    (IN21K, ["last_hidden_state", "pooler_output"]),
    (VARIANT, ["last_hidden_state", "pooler_output"]),
    (CLASSIFIER, ["last_hidden_state", "logits"]),
])
def test_outputs_match_transformers(model_dir, outputs):
    pv = fixture(model_dir, "inputs.pixel_values")
    with vitc.Model(model_dir) as m:
        for out in outputs:
            got = m.embed(pv, output=out)
            want = fixture(model_dir, "expected." + out)
            assert got.dtype == np.float32 and got.shape == want.shape, out
            np.testing.assert_allclose(got, want, rtol=0, atol=TOL, err_msg=out)
        cls = m.embed(pv, output="cls")
        np.testing.assert_allclose(cls, fixture(model_dir, "expected.last_hidden_state")[:, 0],
                                   rtol=0, atol=TOL)
        np.testing.assert_array_equal(m.embed(pv, output="pixel_values"), pv)


FAMILY = os.path.join(DATA, "family", "models")


@pytest.mark.parametrize("name,outputs,default", [
    ("clip", ["last_hidden_state", "pooler_output", "image_embeds"], "image_embeds"),
    ("siglip", ["last_hidden_state", "pooler_output"], "pooler_output"),
    ("dinov2-swiglu", ["last_hidden_state", "pooler_output"], "pooler_output"),
    ("deit-distilled", ["last_hidden_state", "logits"], "cls"),
])
def test_family_outputs_match_transformers(name, outputs, default):
    model_dir = os.path.join(FAMILY, name)
    pv = fixture(model_dir, "inputs.pixel_values")
    with vitc.Model(model_dir) as m:
        assert m.info["default_output"] == default
        for out in outputs:
            got = m.embed(pv, output=out)
            want = fixture(model_dir, "expected." + out)
            assert got.dtype == np.float32 and got.shape == want.shape, out
            np.testing.assert_allclose(got, want, rtol=0, atol=TOL, err_msg=out)
        np.testing.assert_array_equal(m.embed(pv), m.embed(pv, output=default))


def test_family_images_are_cropped():
    """CLIPImageProcessor: shortest edge, then the center crop, as the model's size."""
    with vitc.Model(os.path.join(FAMILY, "clip")) as m:
        info = m.info
        assert info["family"] == "clip" and info["projection_dim"] == 24
        assert info["preprocess"]["image_processor_type"] == "CLIPImageProcessor"
        assert info["preprocess"]["size"] == {"shortest_edge": 40}
        pv = m.preprocess([os.path.join(IMAGES, "photo_progressive.jpg")])
        assert pv.shape == (1, 3, 40, 40)
        want = fixture(os.path.join(FAMILY, "clip"), "inputs.pixel_values")[0]
        np.testing.assert_array_equal(pv[0], want)


VIT_INTERPOLATE = os.path.join(FAMILY, "vit-interpolate")


@pytest.mark.parametrize("size,arg", [((48, 48), 48), ((24, 56), (24, 56)),
                                      ((24, 56), [24, 56])])
def test_image_size_matches_transformers(size, arg):
    """image_size: S or (height, width); ViT's interpolate_pos_encoding as transformers
    4.40.2 runs it, images resized to that size by the processor, bit for bit."""
    name = "%dx%d" % size
    pv = fixture(VIT_INTERPOLATE, "inputs.%s.pixel_values" % name)
    with vitc.Model(VIT_INTERPOLATE, image_size=arg) as m:
        info = m.info
        assert (info["image_height"], info["image_width"]) == size
        assert info["image_size"] == (size[0] if size[0] == size[1] else 0)
        assert info["n_tokens"] == (size[0] // 8) * (size[1] // 8) + 1
        assert info["preprocess"]["size"] == {"height": size[0], "width": size[1]}
        got = m.preprocess([os.path.join(IMAGES, "photo_progressive.jpg"),
                            os.path.join(IMAGES, "exif_orient6.jpg")])
        np.testing.assert_array_equal(got, pv[:2])
        for out in ("last_hidden_state", "pooler_output"):
            want = fixture(VIT_INTERPOLATE, "expected.%s.%s" % (name, out))
            got = m.embed(pv, output=out)
            assert got.shape == want.shape, out
            np.testing.assert_allclose(got, want, rtol=0, atol=TOL, err_msg=out)
        with pytest.raises(vitc.InvalidArgumentError):
            m.embed(fixture(VIT_INTERPOLATE, "inputs.%s.pixel_values" %
                            ("24x56" if size == (48, 48) else "48x48")))


@pytest.mark.parametrize("arg", [-1, 65536, (24,), (24, 56, 8), (0, 56), (24, 65536), "48",
                                 True, (24.0, 56), None])
def test_image_size_bad_values(arg):
    with pytest.raises(vitc.InvalidArgumentError, match="image_size"):
        vitc.Model(VIT_INTERPOLATE, image_size=arg)


def test_image_size_refusals():
    with pytest.raises(vitc.UnsupportedError, match="over the limit of 16384 tokens"):
        vitc.Model(VIT_INTERPOLATE, image_size=(8192, 4096))
    with pytest.raises(vitc.UnsupportedError, match="smaller than one 8x8 patch"):
        vitc.Model(VIT_INTERPOLATE, image_size=(7, 56))
    with pytest.raises(vitc.UnsupportedError, match="no position-embedding interpolation"):
        vitc.Model(os.path.join(FAMILY, "clip"), image_size=(40, 48))


def test_default_output_is_pooler_or_cls(in21k, classifier):
    pv = fixture(IN21K, "inputs.pixel_values")
    np.testing.assert_array_equal(in21k.embed(pv), in21k.embed(pv, "pooler_output"))
    pv = fixture(CLASSIFIER, "inputs.pixel_values")
    np.testing.assert_array_equal(classifier.embed(pv), classifier.embed(pv, "cls"))


def test_batch_larger_than_max_batch():
    pv = fixture(IN21K, "inputs.pixel_values")
    many = np.concatenate([pv, pv, pv[:1]])  # 7 inputs, batches of 2, 2, 2, 1
    want = fixture(IN21K, "expected.pooler_output")
    with vitc.Model(IN21K, max_batch=2, threads=1) as m:
        got = m.embed(many)
    assert got.shape == (7, 32)
    np.testing.assert_allclose(got, np.concatenate([want, want, want[:1]]), rtol=0, atol=TOL)
    with vitc.Model(IN21K, max_batch=8, threads=1) as m:
        np.testing.assert_allclose(got, m.embed(many), rtol=0, atol=1e-5)


def test_iter_embed_gives_embed_by_batches(tmp_path):
    paths = [os.path.join(IMAGES, n) for n in IMAGE_NAMES]
    with vitc.Model(IN21K, max_batch=5) as m:
        want = m.embed(paths, output="last_hidden_state")
        got = list(m.iter_embed(paths, output="last_hidden_state"))
        assert [len(names) for names, _ in got] == [5, 5, 5, 2]
        assert sum((names for names, _ in got), []) == vitc.list_inputs(paths)
        np.testing.assert_array_equal(np.concatenate([out for _, out in got]), want)
        with pytest.raises(vitc.UnsupportedError):  # checked before the first batch
            m.iter_embed(paths, output="logits")


def test_decoding_workers_change_nothing(tmp_path):
    paths = [os.path.join(IMAGES, n) for n in IMAGE_NAMES]
    with vitc.Model(IN21K, workers=1) as one, vitc.Model(IN21K, workers=4, max_batch=5) as four:
        np.testing.assert_array_equal(four.preprocess(paths), one.preprocess(paths))
        np.testing.assert_array_equal(four.embed(paths), one.embed(paths))
        bad = tmp_path / "broken.png"
        bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
        with pytest.raises(vitc.FormatError) as e:
            four.embed(paths[:3] + [bad] + paths[3:])
        assert str(bad) in str(e.value)


def test_info_and_labels(in21k, classifier):
    info = in21k.info
    assert info["architecture"] == "ViTModel" and info["has_pooler"]
    assert (info["hidden_size"], info["num_hidden_layers"], info["image_size"],
            info["patch_size"], info["n_tokens"], info["num_labels"]) == (32, 2, 32, 8, 17, 0)
    assert info["preprocess"]["size"] == {"height": 32, "width": 32}
    assert info["file_dtype"] == "F32" and info["path"] == IN21K
    assert in21k.labels == []
    assert classifier.labels == ["tabby cat", "golden retriever", "circuit board", "sunflower",
                                 "container ship"]
    assert classifier.info["architecture"] == "ViTForImageClassification"


# ---- preprocessing --------------------------------------------------------------


def test_preprocess_is_bit_exact(preprocessor):
    paths = [os.path.join(IMAGES, n) for n in IMAGE_NAMES]
    got = preprocessor.preprocess(paths)
    assert got.shape == (len(paths), 3, 224, 224) and got.dtype == np.float32
    for name, row in zip(IMAGE_NAMES, got):
        np.testing.assert_array_equal(row, expected_pixel_values(name), err_msg=name)
    # a directory expands to its images sorted by name
    np.testing.assert_array_equal(preprocessor.preprocess(IMAGES), got)


def test_preprocess_defaults_and_params():
    p = vitc.Preprocessor()
    assert p.params["size"] == {"height": 224, "width": 224}
    assert p.params["image_mean"] == [0.5, 0.5, 0.5] and p.params["resample"] == 2
    assert vitc.Preprocessor(VARIANT).params["size"] == {"height": 48, "width": 48}


def test_model_preprocess_uses_its_config(in21k):
    path = os.path.join(IMAGES, "photo_progressive.jpg")
    got = in21k.preprocess(path)
    assert got.shape == (1, 3, 32, 32)
    np.testing.assert_array_equal(got, vitc.Preprocessor(IN21K).preprocess([path]))


def _pillow_rgb(path):
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_array_inputs_equal_path_inputs(preprocessor):
    """An HWC uint8 array of the decoded image gives what its path gives."""
    for name in IMAGE_NAMES:
        loaded = os.path.join(PRE, "expected", name + ".loaded_rgb.png")
        if os.path.exists(loaded):
            rgb = _pillow_rgb(loaded)
        elif name.endswith(".png"):
            rgb = _pillow_rgb(os.path.join(IMAGES, name))
        else:
            continue
        want = preprocessor.preprocess(os.path.join(IMAGES, name))
        np.testing.assert_array_equal(preprocessor.preprocess(rgb), want, err_msg=name)


def test_array_channel_conversions(preprocessor):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, size=(37, 50), dtype=np.uint8)
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    want = preprocessor.preprocess(rgb)
    np.testing.assert_array_equal(preprocessor.preprocess(gray), want)
    np.testing.assert_array_equal(preprocessor.preprocess(gray[:, :, None]), want)
    rgba = np.concatenate([rgb, rng.integers(0, 256, size=(37, 50, 1), dtype=np.uint8)], axis=2)
    np.testing.assert_array_equal(preprocessor.preprocess(rgba), want)
    # a non-contiguous view is copied, not misread
    wide = np.ascontiguousarray(np.concatenate([rgb, rgb], axis=1))
    np.testing.assert_array_equal(preprocessor.preprocess(wide[:, :50]), want)
    # a batch of arrays [N,H,W,C] is N images
    both = preprocessor.preprocess(np.stack([rgb, rgb]))
    assert both.shape == (2, 3, 224, 224)
    np.testing.assert_array_equal(both[1], want[0])


def test_bytes_and_mixed_inputs(in21k):
    paths = [os.path.join(IMAGES, n) for n in ("cmyk.jpg", "rgba.png", "exif_orient6.jpg")]
    by_path = in21k.embed(paths)
    with open(paths[0], "rb") as f:
        data = f.read()
    mixed = [data, paths[1], _pillow_rgb(os.path.join(PRE, "expected",
                                                      "exif_orient6.jpg.loaded_rgb.png"))]
    np.testing.assert_array_equal(in21k.embed(mixed), by_path)
    np.testing.assert_array_equal(in21k.embed(in21k.preprocess(paths)), by_path)
    # a generator works as well as a list
    np.testing.assert_array_equal(in21k.embed(p for p in paths), by_path)
    np.testing.assert_array_equal(in21k.embed((p for p in paths), output="pixel_values"),
                                  in21k.preprocess(paths))


def test_npy_path_input(in21k, tmp_path):
    pv = fixture(IN21K, "inputs.pixel_values")
    path = tmp_path / "pv.npy"
    np.save(path, pv)
    np.testing.assert_array_equal(in21k.embed(str(path)), in21k.embed(pv))
    np.testing.assert_array_equal(in21k.embed([path, pv[0]]), in21k.embed(pv[[0, 1, 2, 0]]))


# ---- equality with the command ---------------------------------------------------


def run_cli(*args):
    r = subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


@needs_cli
@pytest.mark.parametrize("model_dir,output", [
    (IN21K, "pooler_output"), (IN21K, "last_hidden_state"), (IN21K, "cls"),
    (IN21K, "pixel_values"), (VARIANT, "pooler_output"), (CLASSIFIER, "logits"),
])
def test_embed_equals_cli(model_dir, output, tmp_path):
    pv_file = os.path.join(model_dir, "inputs.pixel_values.npy")
    inputs = [IMAGES, os.path.join(IMAGES, "gray.png"), pv_file]
    out = tmp_path / "out.npy"
    run_cli("embed", model_dir, *inputs, "-o", out, "--output", output, "--batch", 8)
    with vitc.Model(model_dir, max_batch=8) as m:
        got = m.embed(inputs, output=output)
    np.testing.assert_array_equal(got, np.load(out))


def make_tree(root):
    """A directory tree with hidden entries, a link to a file and a link to a directory."""
    (root / "a" / "sub").mkdir(parents=True)
    (root / "a" / ".hidden").mkdir()
    for dst, name in (("b.jpg", "cmyk.jpg"), ("a/x.png", "rgba.png"), ("a/sub/z.JPG", "gray.jpg"),
                      ("a/.hidden/y.png", "rgb.png"), (".h.png", "rgb.png"),
                      ("a/sub/0.jpeg", "exif_orient6.jpg")):
        with open(os.path.join(IMAGES, name), "rb") as f:
            (root / dst).write_bytes(f.read())
    (root / "notes.txt").write_text("not an image")
    os.symlink(os.path.join(IMAGES, "palette_trns.png"), root / "link.png")
    os.symlink(root / "a", root / "linked_dir")
    return root


@needs_cli
@pytest.mark.parametrize("recursive", [False, True])
def test_directory_walks_equal_cli(in21k, tmp_path, recursive):
    root = make_tree(tmp_path / "tree")
    out = tmp_path / "out.npy"
    run_cli("embed", IN21K, root, "-o", out, "--quiet", *(["--recursive"] if recursive else []))
    with open(tmp_path / "out.npy.paths.txt") as f:
        names = f.read().splitlines()
    assert vitc.list_inputs(root, recursive=recursive) == names
    assert len(names) == (5 if recursive else 2)
    np.testing.assert_array_equal(in21k.embed(root, recursive=recursive), np.load(out))


def test_directory_names_skipped_files(tmp_path):
    root = make_tree(tmp_path / "tree")
    with open(os.path.join(os.path.dirname(IMAGES), "..", "formats", "rgb_lzw.tif"), "rb") as f:
        (root / "scan.TIFF").write_bytes(f.read())
    (root / "data.csv").write_text("1,2\n")
    (root / "a" / "readme.md").write_text("not an image")
    with pytest.warns(vitc.SkippedFilesWarning) as caught:
        names = vitc.list_inputs(root)
    assert [os.path.basename(n) for n in names] == ["b.jpg", "link.png", "scan.TIFF"]
    assert len(caught) == 1
    w = caught[0].message
    assert w.files == [str(root / "data.csv"), str(root / "notes.txt")]
    assert "skipped 2 files" in str(w) and "data.csv" in str(w) and "notes.txt" in str(w)
    with pytest.warns(vitc.SkippedFilesWarning) as caught:
        vitc.list_inputs(root, recursive=True)
    assert caught[0].message.files == [str(root / "a" / "readme.md"), str(root / "data.csv"),
                                       str(root / "notes.txt")]
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "scan.tif").write_bytes((root / "scan.TIFF").read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert vitc.list_inputs(clean) == [str(clean / "scan.tif")]


def test_list_inputs_names_rows(tmp_path):
    pv = fixture(IN21K, "inputs.pixel_values")
    npy = tmp_path / "pv.npy"
    np.save(npy, pv)
    gray = os.path.join(IMAGES, "gray.png")
    assert vitc.list_inputs([gray, str(npy), pv[0], b"bytes"]) == [
        gray, str(npy) + "[0]", str(npy) + "[1]", str(npy) + "[2]", "images[2]", "images[3]"]
    with pytest.raises(vitc.FileError, match="no image files .* in this directory tree"):
        vitc.list_inputs(tmp_path, recursive=True)


@needs_cli
def test_classify_equals_cli(classifier):
    images = [os.path.join(IMAGES, n) for n in ("photo_progressive.jpg", "cmyk.jpg", "rgb.png")]
    cli = json.loads(run_cli("classify", CLASSIFIER, *images, "--top-k", 3, "--json"))
    got = classifier.classify(images, top_k=3)
    assert len(got) == len(cli) == 3
    for ours, theirs in zip(got, cli):
        assert [label for label, _ in ours] == [p["label"] for p in theirs["predictions"]]
        np.testing.assert_allclose([p for _, p in ours],
                                   [p["prob"] for p in theirs["predictions"]], rtol=1e-12)


def test_classify_ranks_the_logits(classifier):
    pv = fixture(CLASSIFIER, "inputs.pixel_values")
    logits = fixture(CLASSIFIER, "expected.logits").astype(np.float64)
    got = classifier.classify(pv, top_k=100)
    for row, preds in zip(logits, got):
        assert len(preds) == 5
        assert [label for label, _ in preds] == [classifier.labels[i] for i in np.argsort(-row)]
        probs = np.exp(row - row.max()) / np.exp(row - row.max()).sum()
        np.testing.assert_allclose(sorted((p for _, p in preds), reverse=True),
                                   sorted(probs, reverse=True), atol=1e-5)
        assert abs(sum(p for _, p in preds) - 1) < 1e-9
    assert [len(p) for p in classifier.classify(pv, top_k=2)] == [2, 2, 2]


# ---- errors -------------------------------------------------------------------------


def test_missing_model_directory(tmp_path):
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(vitc.VitcError) as e:
        vitc.Model(missing)
    assert isinstance(e.value, (vitc.FileError, vitc.InvalidArgumentError))
    assert missing in str(e.value) and e.value.message == str(e.value)
    assert e.value.status in (1, 2)


def test_empty_model_directory(tmp_path):
    with pytest.raises(vitc.FileError) as e:
        vitc.Model(tmp_path)
    assert e.value.status == 2 and "config.json" in str(e.value)
    assert isinstance(e.value, OSError)


def test_bad_config(tmp_path):
    for name in ("model.safetensors", "preprocessor_config.json"):
        os.symlink(os.path.join(IN21K, name), tmp_path / name)
    (tmp_path / "config.json").write_text('{"hidden_size": 32, ')
    with pytest.raises(vitc.FormatError) as e:
        vitc.Model(tmp_path)
    assert "config.json" in str(e.value) and e.value.status == 3


def test_bad_image(in21k, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    with pytest.raises(vitc.FormatError) as e:
        in21k.embed([os.path.join(IMAGES, "rgb.png"), bad])
    assert str(bad) in str(e.value) and isinstance(e.value, ValueError)
    with pytest.raises(vitc.FileError) as e:
        in21k.embed(str(tmp_path / "missing.png"))
    assert "missing.png" in str(e.value)
    with pytest.raises(vitc.FormatError):
        in21k.embed(b"PNG? no")


def test_bad_arguments(in21k):
    pv = fixture(IN21K, "inputs.pixel_values")
    with pytest.raises(vitc.InvalidArgumentError, match="output"):
        in21k.embed(pv, output="logitz")
    with pytest.raises(vitc.UnsupportedError, match="no logits"):
        in21k.embed(pv, output="logits")
    with pytest.raises(vitc.UnsupportedError, match="no classifier head"):
        in21k.classify(pv)
    with pytest.raises(vitc.InvalidArgumentError, match=r"shape \[3, 16, 16\]"):
        in21k.embed(np.zeros((3, 16, 16), np.float32))
    bad = pv.copy()
    bad[1, 2, 3, 4] = np.nan
    with pytest.raises(vitc.InvalidArgumentError, match=r"images\[1\]: pixel_values contain NaN"):
        in21k.embed(bad)
    with pytest.raises(vitc.InvalidArgumentError, match="no inputs"):
        in21k.embed([])
    with pytest.raises(vitc.InvalidArgumentError, match="int16"):
        in21k.embed(np.zeros((4, 4, 3), np.int16))
    with pytest.raises(vitc.InvalidArgumentError, match="not int"):
        in21k.embed(42)
    with pytest.raises(vitc.InvalidArgumentError, match="top_k"):
        vitc.Model(CLASSIFIER).classify(pv, top_k=0)
    for kwargs in ({"device": "tpu"}, {"precision": "fp8"}, {"max_batch": 0},
                   {"threads": -1}, {"max_batch": 2.5}, {"workers": -1}):
        with pytest.raises(vitc.InvalidArgumentError):
            vitc.Model(IN21K, **kwargs)


@needs_cli
@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_matches_the_command_and_stays_close(precision, tmp_path):
    pv = fixture(CLASSIFIER, "inputs.pixel_values")
    with vitc.Model(CLASSIFIER, precision=precision) as m:
        got = m.embed(pv, output="logits")
    with vitc.Model(CLASSIFIER) as m:
        ref = m.embed(pv, output="logits")
    cos = (got * ref).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() >= 0.999
    assert (got.argmax(1) == ref.argmax(1)).all()
    np.save(tmp_path / "pv.npy", pv)
    subprocess.run([CLI, "embed", CLASSIFIER, str(tmp_path / "pv.npy"), "--precision", precision,
                    "--output", "logits", "-o", str(tmp_path / "cli.npy"), "--quiet"], check=True)
    assert np.array_equal(np.load(tmp_path / "cli.npy"), got)


def test_cpu_refuses_device_only_precisions():
    for precision in ("fp16", "tf32"):
        with pytest.raises(vitc.UnsupportedError, match="CUDA"):
            vitc.Model(IN21K, device="cpu", precision=precision)


def test_unsupported_backend_reports_the_library_message():
    try:
        m = vitc.Model(IN21K, device="cuda")
    except vitc.UnsupportedError as e:
        assert "CUDA" in str(e)
    else:
        m.close()  # a build with a CUDA backend on a machine with a GPU


# ---- lifetime -------------------------------------------------------------------------


def test_close_and_context_manager():
    pv = fixture(IN21K, "inputs.pixel_values")
    with vitc.Model(IN21K) as m:
        m.embed(pv)
    with pytest.raises(vitc.InvalidArgumentError, match="closed"):
        m.embed(pv)
    m.close()  # twice is harmless
    assert m.info["hidden_size"] == 32  # facts stay readable
    for _ in range(20):
        vitc.Model(IN21K).embed(pv[:1])  # freed by the collector


def test_n_threads_is_what_the_ctx_runs(monkeypatch):
    with vitc.Model(IN21K, threads=2) as m:
        assert m.n_threads == 2
    monkeypatch.setenv("VITC_NUM_THREADS", "3")  # read when threads is 0
    with vitc.Model(IN21K) as m:
        assert m.n_threads == 3
    with vitc.Model(IN21K, threads=1) as m:
        assert m.n_threads == 1
    with pytest.raises(vitc.InvalidArgumentError, match="closed"):
        m.n_threads


def test_threads_share_a_model(in21k):
    import threading
    pv = fixture(IN21K, "inputs.pixel_values")
    want = in21k.embed(pv)
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(in21k.embed(pv))
        except Exception as e:  # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        np.testing.assert_array_equal(r, want)


# ---- hub repo ids -----------------------------------------------------------------------


def make_cache(root, repo_id, model_dir, commit, refs):
    """A Hugging Face hub cache under root holding model_dir's files as repo_id."""
    repo = root / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    for name in ("config.json", "preprocessor_config.json", "model.safetensors"):
        blob = repo / "blobs" / name.replace(".", "-")
        with open(os.path.join(model_dir, name), "rb") as f:
            blob.write_bytes(f.read())
        os.symlink(os.path.join("..", "..", "blobs", blob.name), snap / name)
    (repo / "refs").mkdir()
    for ref in refs:
        (repo / "refs" / ref).write_text(commit)
    return snap


@pytest.mark.skipif(not _lib.HAS_HUB, reason="this libvitc has no hub support")
def test_repo_id_from_the_cache(tmp_path, monkeypatch):
    """A repo id resolves through the Hugging Face cache layout, offline."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    snap = make_cache(tmp_path / "hub", "tiny-org/tiny-in21k", IN21K, commit, ["main", "v1"])
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pv = fixture(IN21K, "inputs.pixel_values")
    want = vitc.Model(IN21K).embed(pv)
    with vitc.Model("tiny-org/tiny-in21k") as m:
        assert os.path.realpath(m.path) == os.path.realpath(snap)
        np.testing.assert_array_equal(m.embed(pv), want)
    with vitc.Model("tiny-org/tiny-in21k", revision="v1") as m:
        assert os.path.realpath(m.path) == os.path.realpath(snap)
    with pytest.raises(vitc.FileError, match="HF_HUB_OFFLINE"):
        vitc.pull("tiny-org/tiny-in21k")  # pull asks the hub for the revision's commit
    with pytest.raises(vitc.VitcError) as e:
        vitc.Model("tiny-org/not-cached")
    assert "not-cached" in str(e.value)
    with pytest.raises(vitc.VitcError) as e:
        vitc.Model("tiny-org/tiny-in21k", revision="v2")
    assert "v2" in str(e.value)
    # an explicit cache_dir wins over the environment
    other = make_cache(tmp_path / "other", "tiny-org/tiny-in21k", IN21K, commit, ["main"])
    with vitc.Model("tiny-org/tiny-in21k", cache_dir=tmp_path / "other") as m:
        assert os.path.realpath(m.path) == os.path.realpath(other)


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    """tests/cli/fake_hub.py serving tiny-in21k as org/* on 127.0.0.1; the
    environment points the hub client at it, with a fresh cache and home."""
    port_file = tmp_path / "port"
    server = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "cli", "fake_hub.py"),
                               "--model", IN21K, "--port-file", str(port_file),
                               "--log", str(tmp_path / "hub.log"), "--timeout", "60"])
    try:
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            if server.poll() is not None:
                pytest.fail("the fake hub exited with status %d" % server.returncode)
            time.sleep(0.05)
        else:
            pytest.fail("the fake hub did not start")
        for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE",
                     "TRANSFORMERS_OFFLINE", "HF_HOME", "HUGGINGFACE_HUB_CACHE",
                     "XDG_CACHE_HOME"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        monkeypatch.setenv("NO_PROXY", "*")
        monkeypatch.setenv("no_proxy", "*")
        monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:" + port_file.read_text().strip())
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
        yield tmp_path
    finally:
        server.kill()
        server.wait()


@pytest.mark.skipif(not _lib.HAS_HUB, reason="this libvitc has no hub support")
def test_models_from_a_hub(fake_hub):
    pv = fixture(IN21K, "inputs.pixel_values")
    want = vitc.Model(IN21K).embed(pv)
    snap = vitc.pull("org/tiny")
    assert snap.startswith(str(fake_hub / "cache" / "models--org--tiny" / "snapshots"))
    with vitc.Model("org/tiny") as m:  # now from the cache
        assert m.path == snap
        np.testing.assert_array_equal(m.embed(pv), want)
    with vitc.Model("org/other") as m:  # fetched on first use
        np.testing.assert_array_equal(m.embed(pv), want)
    with pytest.raises(vitc.VitcError, match="org/nothere"):
        vitc.Model("org/nothere")
    with pytest.raises(vitc.VitcError, match="HF_TOKEN"):
        vitc.pull("org/gated")
    # the token `huggingface-cli login` saved is used when HF_TOKEN is unset
    (fake_hub / "home" / ".cache" / "huggingface").mkdir(parents=True)
    (fake_hub / "home" / ".cache" / "huggingface" / "token").write_text("  sekret \n")
    with vitc.Model("org/gated") as m:
        np.testing.assert_array_equal(m.embed(pv), want)
