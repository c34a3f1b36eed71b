# SPDX-License-Identifier: MIT
"""The Python API: Preprocessor (ViTImageProcessor's settings and the
library's bit-exact preprocessing) and Model (a loaded checkpoint with one
inference context, batched embed and classify). numpy in and out; every
computation happens in libvitc. Handles are freed by close(), by a with
block, or when the object is collected."""

import concurrent.futures
import ctypes
import os
import threading

import numpy as np

from . import _inputs, _lib
from ._errors import FileError, InvalidArgumentError, UnsupportedError

_OUTPUTS = {
    "pixel_values": _lib.OUTPUT_PIXEL_VALUES,
    "last_hidden_state": _lib.OUTPUT_LAST_HIDDEN_STATE,
    "pooler_output": _lib.OUTPUT_POOLER,
    "cls": _lib.OUTPUT_CLS,
    "logits": _lib.OUTPUT_LOGITS,
    "image_embeds": _lib.OUTPUT_IMAGE_EMBEDS,
}

def _params_dict(p):
    return {
        "do_resize": bool(p.do_resize),
        "image_processor_type": (p.processor or b"ViTImageProcessor").decode(),
        "size": ({"shortest_edge": p.shortest_edge} if p.shortest_edge > 0
                 else {"height": p.height, "width": p.width}),
        "do_center_crop": bool(p.do_center_crop),
        "crop_size": {"height": p.crop_height, "width": p.crop_width},
        "resample": p.resample,
        "do_rescale": bool(p.do_rescale),
        "rescale_factor": p.rescale_factor,
        "do_normalize": bool(p.do_normalize),
        "image_mean": list(p.image_mean),
        "image_std": list(p.image_std),
        "do_convert_rgb": bool(p.do_convert_rgb),
    }


def _fill_rows(items, params, shape, out, n_channels, pool):
    """Writes the items' pixel_values into out[0], out[1], ... With a pool, the
    images decode on its threads (the library runs without the GIL); the first
    failing item, in input order, raises once all are done."""
    def one(j):
        _inputs.fill(items[j], params, shape, out[j], n_channels)

    if pool is None or len(items) < 2:
        for j in range(len(items)):
            one(j)
        return
    futures = [pool.submit(one, j) for j in range(len(items))]
    concurrent.futures.wait(futures)
    for f in futures:
        f.result()


def _preprocess(params, items, shape=None, n_channels=3, pool=None):
    """float32 [N, C, H, W] for items; shape (C, H, W) defaults to the first's."""
    if shape is None:
        shape = _inputs.first_image_shape(items[0], params)
    out = np.empty((len(items),) + tuple(shape), dtype=np.float32)
    _fill_rows(items, params, shape, out, n_channels, pool)
    return out


def list_inputs(images, recursive=False):
    """The name of each input in the order embed() and preprocess() give their
    rows: image and .npy paths as given or as found in directories (with
    PATH[i] for row i of a batched .npy or array, as `vitc embed` writes in
    OUT.paths.txt), images[i] for other inputs."""
    return [item.name for item in _inputs.expand(images, recursive)]


# ---- Preprocessor ----------------------------------------------------------------


class Preprocessor:
    """ViTImageProcessor's preprocessing, bit for bit: Pillow's resize, rescale,
    normalize, to CHW float32.

    config: a preprocessor_config.json, a directory holding one (defaults when
    the directory has none), or None for ViTImageProcessor's defaults."""

    def __init__(self, config=None):
        params = _lib.lib.vitc_preprocess_default_params()
        if config is not None:
            path = os.fspath(config)
            if os.path.isdir(path):
                path = os.path.join(path, "preprocessor_config.json")
                if not os.path.exists(path):
                    path = None
            if path is not None:
                _lib.check(_lib.lib.vitc_preprocess_params_load(_lib.fspath_bytes(path),
                                                                ctypes.byref(params)))
        self._params = params

    @property
    def params(self):
        """The settings as a dict, named as in preprocessor_config.json."""
        return _params_dict(self._params)

    def preprocess(self, images, recursive=False):
        """float32 [N, 3, H, W] pixel_values for images (see the package doc for
        what images may be). Without resizing, all images must be one size."""
        return _preprocess(self._params, _inputs.expand(images, recursive))

    def __repr__(self):
        return "vitc.Preprocessor(%r)" % (self.params,)


# ---- Model -----------------------------------------------------------------------


def _env(name):
    return os.environ.get(name) or None


def _saved_token():
    """The token `huggingface-cli login` saved, found as huggingface_hub (and
    the vitc command) find it: $HF_TOKEN_PATH, else $HF_HOME/token, else
    $XDG_CACHE_HOME/huggingface/token, else ~/.cache/huggingface/token. Its
    first line, trimmed; None when there is none."""
    if _env("HF_TOKEN_PATH"):
        path = _env("HF_TOKEN_PATH")
    elif _env("HF_HOME"):
        path = os.path.join(_env("HF_HOME"), "token")
    elif _env("XDG_CACHE_HOME"):
        path = os.path.join(_env("XDG_CACHE_HOME"), "huggingface", "token")
    elif _env("HOME"):
        path = os.path.join(_env("HOME"), ".cache", "huggingface", "token")
    else:
        return None
    if path.startswith("~/") and _env("HOME"):
        path = _env("HOME") + path[1:]
    try:
        with open(path, "rb") as f:
            line = f.readline()
    except OSError:
        return None
    token = line.rstrip(b"\r\n").strip(b" \t")
    return token or None


def _hub_call(fn, name, revision, cache_dir):
    """Runs vitc_hub_resolve or vitc_hub_download on name with the environment's
    hub settings (and the saved login token when no token variable is set),
    revision and cache_dir overriding them; returns the directory."""
    params = _lib.lib.vitc_hub_default_params()
    if params.token is None:
        params.token = _saved_token()
    if revision is not None:
        params.revision = os.fsencode(revision)
    if cache_dir is not None:
        params.cache_dir = os.fsencode(cache_dir)
    out = ctypes.c_void_p()
    _lib.check(fn(os.fsencode(name), ctypes.byref(params), ctypes.byref(out)))
    try:
        return os.fsdecode(ctypes.string_at(out.value))
    finally:
        _lib.lib.vitc_string_free(out)


def _resolve(model, revision, cache_dir):
    """A model directory for a directory or a hub repo id "ORG/NAME"."""
    path = os.fspath(model)
    if os.path.isdir(path):
        return os.fsdecode(path)
    if not _lib.HAS_HUB:
        raise FileError("%s: no such model directory (this libvitc cannot fetch repo ids "
                        "from the hub)" % os.fsdecode(path))
    return _hub_call(_lib.lib.vitc_hub_resolve, path, revision, cache_dir)


def pull(repo_id, revision=None, cache_dir=None):
    """Downloads config.json, preprocessor_config.json and model.safetensors of a
    hub repo ("ORG/NAME") into the Hugging Face cache, as `vitc pull` does (no
    progress bar), and returns the snapshot directory. Files already cached
    are not fetched again. The environment is read as huggingface_hub reads
    it (HF_ENDPOINT, HF_TOKEN or the token file of `huggingface-cli login`,
    HF_HUB_CACHE, HF_HOME, HF_HUB_OFFLINE); revision (default "main") and
    cache_dir override it."""
    if not _lib.HAS_HUB:
        raise UnsupportedError("%s: this libvitc has no hub support" % repo_id)
    return _hub_call(_lib.lib.vitc_hub_download, repo_id, revision, cache_dir)


def _backend(device):
    if not isinstance(device, str):
        raise InvalidArgumentError("device: expected 'cpu', 'cuda', 'cuda:N' or 'auto', not %r"
                                   % (device,))
    if device == "cpu":
        return _lib.BACKEND_CPU, 0
    if device == "auto":
        return _lib.BACKEND_AUTO, 0
    if device == "cuda":
        return _lib.BACKEND_CUDA, 0
    if device.startswith("cuda:") and device[5:].isdigit():
        return _lib.BACKEND_CUDA, int(device[5:])
    raise InvalidArgumentError("device: expected 'cpu', 'cuda', 'cuda:N' or 'auto', not %r"
                               % (device,))


def _int_arg(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or \
            not lo <= value <= hi:
        raise InvalidArgumentError("%s: expected an integer in %d..%d, not %r"
                                   % (name, lo, hi, value))
    return int(value)


def _image_size_arg(value):
    """(height, width) of the image_size argument: 0 (the checkpoint's own:
    (0, 0)), a side S (S x S) or a pair (H, W), each side in 1..65535."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(_int_arg("image_size", v, 1, 65535) for v in value)
    if isinstance(value, (tuple, list)):
        raise InvalidArgumentError("image_size: expected S or (height, width), not %r"
                                   % (value,))
    side = _int_arg("image_size", value, 0, 65535)
    return side, side


class Model:
    """A ViT checkpoint loaded by libvitc, with one inference context.

    model: a directory in Hugging Face layout (config.json, model.safetensors,
    preprocessor_config.json) or, with a library that has the hub, a repo id
    "ORG/NAME" found in the Hugging Face cache or downloaded into it (see
    pull(); revision and cache_dir as there).
    device: "cpu", "cuda", "cuda:N" or "auto"; precision: "fp32", "bf16",
    "fp16", "tf32" or "int8" (what the library supports); threads: 0 for
    $VITC_NUM_THREADS or all cores; max_batch: images per forward pass;
    workers: threads decoding and preprocessing the images of a batch, 0 for
    one per available core, 1 for none. image_size: another input size for
    ViT and DINOv2, a side S or (height, width): position embeddings
    interpolated as transformers' interpolate_pos_encoding does, the patch
    grid floored, images resized to that size (a cropping processor
    resizes the short side to the larger side asked, then crops it); 0 for
    the checkpoint's own.

    The model is safe to share between threads (calls into the context are
    serialised); for parallel inference make one Model per thread."""

    def __init__(self, model, device="cpu", precision="fp32", threads=0, max_batch=8,
                 workers=0, revision=None, cache_dir=None, image_size=0):
        self._model = None
        self._ctx = None
        self._pool = None
        self._lock = threading.Lock()
        if precision not in _lib.PRECISIONS:
            raise InvalidArgumentError("precision: expected one of %s, not %r"
                                       % (", ".join(_lib.PRECISIONS), precision))
        backend, device_index = _backend(device)
        threads = _int_arg("threads", threads, 0, 4096)
        max_batch = _int_arg("max_batch", max_batch, 1, 4096)
        image_height, image_width = _image_size_arg(image_size)
        workers = _int_arg("workers", workers, 0, 4096) or (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else
            os.cpu_count() or 1)
        self.path = _resolve(model, revision, cache_dir)

        mp = _lib.lib.vitc_model_default_params()
        mp.precision = _lib.PRECISIONS[precision]
        mp.image_height, mp.image_width = image_height, image_width
        handle = ctypes.c_void_p()
        _lib.check(_lib.lib.vitc_model_load(_lib.fspath_bytes(self.path), ctypes.byref(mp),
                                            ctypes.byref(handle)))
        self._model = handle
        cp = _lib.lib.vitc_ctx_default_params()
        cp.backend, cp.device, cp.n_threads, cp.max_batch = backend, device_index, threads, \
            max_batch
        ctx = ctypes.c_void_p()
        try:
            _lib.check(_lib.lib.vitc_ctx_new(self._model, ctypes.byref(cp), ctypes.byref(ctx)))
        except BaseException:
            self.close()
            raise
        self._ctx = ctx
        self.max_batch = max_batch
        if workers > 1:
            self._pool = concurrent.futures.ThreadPoolExecutor(workers, "vitc-decode")
        info = _lib.lib.vitc_model_get_info(self._model).contents
        self._params = _lib.PreprocessParams.from_buffer_copy(info.preprocess)
        self._info = {
            "path": self.path,
            "architecture": info.architecture.decode(),
            "hidden_size": info.hidden_size,
            "num_hidden_layers": info.num_hidden_layers,
            "num_attention_heads": info.num_attention_heads,
            "intermediate_size": info.intermediate_size,
            "image_size": info.image_size,
            "image_height": info.image_height,
            "image_width": info.image_width,
            "patch_size": info.patch_size,
            "num_channels": info.num_channels,
            "n_tokens": info.n_tokens,
            "layer_norm_eps": info.layer_norm_eps,
            "qkv_bias": bool(info.qkv_bias),
            "hidden_act": info.hidden_act.decode(),
            "has_pooler": bool(info.has_pooler),
            "family": (info.family or b"vit").decode(),
            "pooling": (info.pooling or b"none").decode(),
            "projection_dim": info.projection_dim,
            "default_output": next((k for k, v in _OUTPUTS.items()
                                    if v == info.default_output), "cls"),
            "num_labels": info.num_labels,
            "n_params": info.n_params,
            "file_dtype": info.file_dtype.decode(),
            "precision": precision,
            "device": device,
            "preprocess": _params_dict(info.preprocess),
        }
        self._labels = []
        for i in range(info.num_labels):
            label = _lib.lib.vitc_model_label(self._model, i)
            self._labels.append(label.decode("utf-8", "replace") if label else "LABEL_%d" % i)

    # ---- lifetime ----

    def close(self):
        """Frees the context and the model (after a call running in another
        thread). Further calls raise; closing twice is harmless."""
        lock = getattr(self, "_lock", None)
        if lock is None:  # __init__ failed before anything was allocated
            return
        with lock:
            if self._ctx:
                _lib.lib.vitc_ctx_free(self._ctx)
                self._ctx = None
            if self._model:
                _lib.lib.vitc_model_free(self._model)
                self._model = None
            if self._pool:
                self._pool.shutdown(wait=False)
                self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown may have torn down the module already
            pass

    def _check_open(self):
        if not self._ctx:
            raise InvalidArgumentError("vitc.Model: the model is closed")

    # ---- what it is ----

    @property
    def info(self):
        """config.json's facts and the preprocessing settings, as a dict."""
        return dict(self._info)

    @property
    def n_threads(self):
        """The CPU threads the forward pass really runs on (threads as resolved
        by the library: the argument, else $VITC_NUM_THREADS, else the
        available cores); 0 on a GPU."""
        with self._lock:
            self._check_open()
            return _lib.lib.vitc_ctx_n_threads(self._ctx)

    @property
    def labels(self):
        """id2label as a list (LABEL_i where a label is unnamed); empty for a
        checkpoint without a classifier head."""
        return list(self._labels)

    def __repr__(self):
        return "vitc.Model(%r, %s, %d layers, hidden %d)" % (
            self.path, self._info["architecture"], self._info["num_hidden_layers"],
            self._info["hidden_size"])

    # ---- inference ----

    def _pixel_shape(self):
        return (self._info["num_channels"], self._info["image_height"],
                self._info["image_width"])

    def _check_image_config(self, items):
        """Images are preprocessed to preprocessor_config.json's size, which must
        be the model's (as `vitc embed` checks)."""
        p, mh, mw = self._params, self._info["image_height"], self._info["image_width"]
        w, h = ctypes.c_int(0), ctypes.c_int(0)
        fixed = _lib.lib.vitc_preprocess_fixed_size(ctypes.byref(p), ctypes.byref(w),
                                                    ctypes.byref(h))
        if fixed and (h.value != mh or w.value != mw) and \
                any(it.kind != "pixels" for it in items):
            raise InvalidArgumentError(
                "%s: preprocessor_config.json %s %dx%d (width x height) but the model takes "
                "%dx%d" % (self.path, "crops to" if p.do_center_crop else "resizes to", w.value,
                           h.value, mw, mh))

    def preprocess(self, images, recursive=False):
        """float32 [N, C, H, W] pixel_values for images, with this model's
        preprocessor_config.json: bit for bit what ViTImageProcessor gives.
        recursive: directories contribute their subdirectories' images too."""
        self._check_open()
        items = _inputs.expand(images, recursive)
        self._check_image_config(items)
        return _preprocess(self._params, items, self._pixel_shape(), self._info["num_channels"],
                           self._pool)

    def _plan(self, images, output, recursive):
        """(which, items, row shape) of an embed call, after every check that
        needs no image decoded."""
        self._check_open()
        if output is None:
            output = self._info["default_output"]
        if output not in _OUTPUTS:
            raise InvalidArgumentError("output: expected one of %s, not %r"
                                       % (", ".join(_OUTPUTS), output))
        which = _OUTPUTS[output]
        items = _inputs.expand(images, recursive)
        self._check_image_config(items)
        if _lib.lib.vitc_output_size(self._model, which) == 0:
            raise UnsupportedError("%s: a %s checkpoint has no %s" % (
                self.path, self._info["architecture"], output))
        d, t = self._info["hidden_size"], self._info["n_tokens"]
        row = {"pixel_values": self._pixel_shape(), "last_hidden_state": (t, d),
               "logits": (self._info["num_labels"],),
               "image_embeds": (self._info["projection_dim"],)}.get(output, (d,))
        return which, items, row

    def _run(self, which, batch, out):
        """Writes the output `which` of one batch (at most max_batch inputs) into
        out, a C-contiguous float32 array with a row per input."""
        shape, n_channels = self._pixel_shape(), self._info["num_channels"]
        if which == _lib.OUTPUT_PIXEL_VALUES:
            _fill_rows(batch, self._params, shape, out, n_channels, self._pool)
            return
        pv = np.empty((len(batch),) + shape, dtype=np.float32)
        _fill_rows(batch, self._params, shape, pv, n_channels, self._pool)
        with self._lock:
            self._check_open()
            _lib.check(_lib.lib.vitc_forward(self._ctx, _lib.float_ptr(pv), len(batch)))
            _lib.check(_lib.lib.vitc_get_output(self._ctx, which, _lib.float_ptr(out),
                                                out.size))

    def embed(self, images, output=None, recursive=False):
        """One output of the model for every input, float32 with the inputs on
        the first axis: pooler_output or cls [N, D], last_hidden_state [N, T, D],
        logits [N, num_labels], pixel_values [N, C, S, S] (preprocessing only).
        output=None: pooler_output when the model has a pooler, else cls (as
        `vitc embed`). Inputs run in batches of at most max_batch; list_inputs()
        names the input of each row. recursive: as for preprocess()."""
        which, items, row = self._plan(images, output, recursive)
        result = np.empty((len(items),) + row, dtype=np.float32)
        for start in range(0, len(items), self.max_batch):
            self._run(which, items[start:start + self.max_batch],
                      result[start:start + self.max_batch])
        return result

    def iter_embed(self, images, output=None, recursive=False):
        """embed() batch by batch, for collections whose outputs should not sit
        in memory at once: yields (names, outputs) for each batch of at most
        max_batch inputs, names as list_inputs() gives them. The inputs are
        listed (and checked) before the first batch runs."""
        which, items, row = self._plan(images, output, recursive)

        def batches():
            for start in range(0, len(items), self.max_batch):
                batch = items[start:start + self.max_batch]
                out = np.empty((len(batch),) + row, dtype=np.float32)
                self._run(which, batch, out)
                yield [item.name for item in batch], out

        return batches()

    def classify(self, images, top_k=5, recursive=False):
        """The top_k (label, probability) pairs of every input, best first; the
        probabilities are the softmax of the logits computed in double, as
        `vitc classify` does. top_k is capped at the number of labels."""
        self._check_open()
        top_k = _int_arg("top_k", top_k, 1, 1 << 30)
        if not self._labels:
            raise UnsupportedError(
                "%s: the checkpoint has no classifier head (%s), so there are no labels; use "
                "embed() to get its features" % (self.path, self._info["architecture"]))
        logits = self.embed(images, "logits", recursive).astype(np.float64)
        k = min(top_k, len(self._labels))
        ids = np.arange(logits.shape[1])
        results = []
        for row in logits:
            e = np.exp(row - row.max())
            prob = e / e.sum()
            order = np.lexsort((ids, -row))[:k]  # by logit descending, then id
            results.append([(self._labels[i], float(prob[i])) for i in order])
        return results
