# SPDX-License-Identifier: MIT
"""Turns what a caller passes as images into an ordered list of inputs and each
input into its pixel_values row. Accepted, alone or in a list or any iterable:
image paths (str or os.PathLike), directories (their image files, with
recursive=True those of subdirectories too, sorted by path in byte order,
hidden entries skipped, links to directories not entered: as `vitc embed`
lists them; their other files named in a SkippedFilesWarning), .npy
files of float32 pixel_values, encoded image bytes, uint8 HWC arrays (RGB;
gray and RGBA are converted as Pillow's convert("RGB") does) and float32
pixel_values arrays [C,H,W] or [N,C,H,W]. Decoding and preprocessing are the
library's; this module only dispatches and checks shapes."""

import ctypes
import os
import warnings

import numpy as np

from . import _lib
from ._errors import FileError, InvalidArgumentError, SkippedFilesWarning

# The names `vitc embed` takes from a directory (cli/inputs.c).
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".bmp", ".dib",
                   ".tif", ".tiff")
_IMAGE_FORMATS = "JPEG, PNG, WebP, GIF, BMP, TIFF"

# ---- expanding arguments ------------------------------------------------------


class Input:
    """One image or one pixel_values row. kind is "path", "bytes", "array" or
    "pixels"; name is what messages call it."""

    __slots__ = ("kind", "value", "name")

    def __init__(self, kind, value, name):
        self.kind, self.value, self.name = kind, value, name


def _walk(raw, recursive, out, skipped):
    """Appends the image files under directory raw (bytes) to out and its other
    files (not hidden, not directories) to skipped. A symbolic link counts as
    what it points to, but links to directories are never entered, so no walk
    can loop."""
    suffixes = tuple(s.encode() for s in _IMAGE_SUFFIXES)
    sep = b"" if raw.endswith(b"/") else b"/"
    try:
        entries = list(os.scandir(raw))
    except OSError as e:
        raise FileError("%s: %s" % (os.fsdecode(raw), e.strerror)) from None
    for entry in entries:
        if entry.name.startswith(b"."):
            continue
        path = raw + sep + entry.name
        is_file = entry.is_file()
        if is_file and entry.name.lower().endswith(suffixes):
            out.append(path)
        elif entry.is_dir(follow_symlinks=False):
            if recursive:
                _walk(path, recursive, out, skipped)
        elif is_file or not entry.is_dir():
            skipped.append(path)


def _list_dir(path, recursive):
    """A directory's image files as `vitc embed` lists them. The files left out
    (not hidden, not directories) are named in a SkippedFilesWarning, as the
    CLI's warning and --verbose name them."""
    found, skipped = [], []
    _walk(os.fsencode(path), recursive, found, skipped)
    if skipped:
        names = [os.fsdecode(p) for p in sorted(skipped)]
        warnings.warn(SkippedFilesWarning(
            "%s: skipped %d file%s that %s not image files of a format vitc reads (%s): %s"
            % (os.fsdecode(path), len(names), "" if len(names) == 1 else "s",
               "is" if len(names) == 1 else "are", _IMAGE_FORMATS, ", ".join(names)), names),
            stacklevel=5)
    if not found:
        raise FileError("%s: no image files (%s) in this directory%s"
                        % (os.fsdecode(path), _IMAGE_FORMATS, " tree" if recursive else ""))
    return [os.fsdecode(p) for p in sorted(found)]


def _from_array(array, name, out):
    if array.dtype == np.uint8:
        if array.ndim in (2, 3):
            out.append(Input("array", array, name))
        elif array.ndim == 4:
            out.extend(Input("array", a, "%s[%d]" % (name, i)) for i, a in enumerate(array))
        else:
            raise InvalidArgumentError("%s: a uint8 image array is [H,W], [H,W,C] or [N,H,W,C], "
                                       "not %d-dimensional" % (name, array.ndim))
    elif np.issubdtype(array.dtype, np.floating):
        if array.ndim == 3:
            out.append(Input("pixels", array, name))
        elif array.ndim == 4:
            out.extend(Input("pixels", a, "%s[%d]" % (name, i)) for i, a in enumerate(array))
        else:
            raise InvalidArgumentError("%s: pixel_values are [C,H,W] or [N,C,H,W], not "
                                       "%d-dimensional" % (name, array.ndim))
    else:
        raise InvalidArgumentError("%s: arrays must be uint8 images or float32 pixel_values, "
                                   "not %s" % (name, array.dtype))


def _add(arg, name, recursive, out):
    if isinstance(arg, np.ndarray):
        _from_array(arg, name, out)
    elif isinstance(arg, (bytes, bytearray, memoryview)):
        out.append(Input("bytes", bytes(arg), name))
    elif isinstance(arg, (str, os.PathLike)):
        path = os.fspath(arg)
        if os.path.isdir(path):
            out.extend(Input("path", p, p) for p in _list_dir(path, recursive))
        elif os.fsdecode(path).lower().endswith(".npy"):
            _from_array(np.load(path, allow_pickle=False), os.fsdecode(path), out)
        else:
            out.append(Input("path", path, os.fsdecode(path)))
    else:
        raise InvalidArgumentError("%s: expected a path, image bytes or a numpy array, not %s"
                                   % (name, type(arg).__name__))


def expand(images, recursive=False):
    """The ordered list of Inputs for what the caller passed."""
    out = []
    if isinstance(images, (str, os.PathLike, bytes, bytearray, memoryview, np.ndarray)):
        _add(images, "images", recursive, out)
    else:
        try:
            items = iter(images)
        except TypeError:
            raise InvalidArgumentError("images: expected a path, image bytes, a numpy array or "
                                       "a list of them, not %s" % type(images).__name__) from None
        for i, arg in enumerate(items):
            _add(arg, "images[%d]" % i, recursive, out)
    if not out:
        raise InvalidArgumentError("images: no inputs")
    return out


# ---- pixel values ----------------------------------------------------------------


def _load_image(item):
    """A library-owned vitc_image* for a path or bytes input."""
    img = ctypes.POINTER(_lib.Image)()
    if item.kind == "path":
        _lib.check(_lib.lib.vitc_image_load(_lib.fspath_bytes(item.value), ctypes.byref(img)))
    else:
        _lib.check(_lib.lib.vitc_image_load_memory(item.value, len(item.value),
                                                   item.name.encode(), ctypes.byref(img)))
    return img


def _rgb(item):
    """A C-contiguous uint8 [H,W,3] array for an array input: gray repeated,
    alpha dropped, as Pillow's convert("RGB") does."""
    a = item.value
    if a.ndim == 2:
        a = a[:, :, None]
    if a.shape[2] in (1, 2):  # L, or LA: the gray value, alpha dropped
        a = np.repeat(a[:, :, :1], 3, axis=2)
    elif a.shape[2] == 4:
        a = a[:, :, :3]
    elif a.shape[2] != 3:
        raise InvalidArgumentError("%s: an image array has 1 to 4 channels, not %d"
                                   % (item.name, a.shape[2]))
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise InvalidArgumentError("%s: empty image %dx%d" % (item.name, a.shape[1], a.shape[0]))
    return np.ascontiguousarray(a)


def image_size(params, width, height):
    """(height, width) of the pixel_values an image of this size gives."""
    w, h = ctypes.c_int(0), ctypes.c_int(0)
    _lib.check(_lib.lib.vitc_preprocess_output_size(ctypes.byref(params), width, height,
                                                    ctypes.byref(w), ctypes.byref(h)))
    return (h.value, w.value)


def fill(item, params, shape, dst, n_channels=3):
    """Writes item's pixel_values into dst (a C-contiguous float32 view of
    `shape` = (C, H, W)). Images must preprocess to exactly that shape."""
    if item.kind == "pixels":
        if tuple(item.value.shape) != tuple(shape):
            raise InvalidArgumentError("%s: pixel_values shape %s, expected %s for this model"
                                       % (item.name, list(item.value.shape), list(shape)))
        dst[...] = item.value
        if not np.isfinite(dst).all():  # the library refuses them too, naming only the batch row
            raise InvalidArgumentError("%s: pixel_values contain NaN/Inf" % item.name)
        return
    if n_channels != 3:
        raise InvalidArgumentError("%s: the model takes %d channels; images give 3 (pass "
                                   "pixel_values)" % (item.name, n_channels))
    if item.kind == "array":
        rgb = _rgb(item)
        img = _lib.Image(rgb.shape[1], rgb.shape[0], rgb.strides[0],
                         rgb.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)))
        _preprocess_one(item, params, ctypes.pointer(img), shape, dst)
        return
    img = _load_image(item)
    try:
        _preprocess_one(item, params, img, shape, dst)
    finally:
        _lib.lib.vitc_image_free(img)


def _preprocess_one(item, params, img, shape, dst):
    got = (3,) + image_size(params, img.contents.width, img.contents.height)
    if got != tuple(shape):
        raise InvalidArgumentError(
            "%s: image is %dx%d but %dx%d is needed and preprocessor_config.json does "
            "not resize or crop it to that" % (item.name, img.contents.width, img.contents.height,
                                 shape[2], shape[1]))
    _lib.check(_lib.lib.vitc_preprocess(ctypes.byref(params), img, _lib.float_ptr(dst),
                                        dst.size))


def first_image_shape(item, params):
    """(3, H, W) of an image input's pixel_values, or the row's own shape."""
    if item.kind == "pixels":
        return tuple(item.value.shape)
    w, h = ctypes.c_int(0), ctypes.c_int(0)
    if _lib.lib.vitc_preprocess_fixed_size(ctypes.byref(params), ctypes.byref(w), ctypes.byref(h)):
        return (3, h.value, w.value)
    if item.kind == "array":
        rgb = _rgb(item)
        iw, ih = rgb.shape[1], rgb.shape[0]
    else:
        img = _load_image(item)
        try:
            iw, ih = img.contents.width, img.contents.height
        finally:
            _lib.lib.vitc_image_free(img)
    _lib.check(_lib.lib.vitc_preprocess_output_size(ctypes.byref(params), iw, ih, ctypes.byref(w),
                                                    ctypes.byref(h)))
    return (3, h.value, w.value)
