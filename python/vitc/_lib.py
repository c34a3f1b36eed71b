# SPDX-License-Identifier: MIT
"""The ctypes layer: finds and loads libvitc, mirrors the structs of vitc.h and
declares the prototypes of the functions the package calls. Nothing here knows
about numpy or images beyond raw pointers; vitc._model builds the Python API
on top. The struct layouts must follow include/vitc.h field for field (the
test suite compiles a C program to compare sizes and offsets)."""

import ctypes
import ctypes.util
import os

from ._errors import raise_status

# ---- finding the library ----------------------------------------------------


def _candidates():
    """Where libvitc may be, in order: $VITC_LIBRARY, the copy bundled into the
    package at install time, build/ of the checkout the package sits in (for
    PYTHONPATH=python after `make`), then the system's library search path."""
    env = os.environ.get("VITC_LIBRARY")
    if env:
        return [env], True
    here = os.path.dirname(os.path.abspath(__file__))
    found = []
    for name in ("libvitc.so", "libvitc.so.0", "libvitc.dylib"):
        path = os.path.join(here, name)
        if os.path.exists(path):
            found.append(path)
    root = os.path.dirname(os.path.dirname(here))
    checkout_lib = os.path.join(root, "build", "libvitc.so")
    if os.path.exists(os.path.join(root, "include", "vitc.h")) and os.path.exists(checkout_lib):
        found.append(checkout_lib)
    system = ctypes.util.find_library("vitc")
    if system:
        found.append(system)
    return found, False


def _load():
    paths, from_env = _candidates()
    if not paths:
        raise ImportError(
            "vitc: cannot find libvitc: set VITC_LIBRARY to the path of libvitc.so, run "
            "'make' in the checkout (build/libvitc.so), install the package with "
            "'pip install ./python', or install the library ('make install')")
    errors = []
    for path in paths:
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
            if from_env:
                break
    raise ImportError("vitc: cannot load libvitc: " + "; ".join(errors))


lib = _load()

# ---- structs (vitc.h) ---------------------------------------------------------

c_bool, c_int, c_double, c_size_t = ctypes.c_bool, ctypes.c_int, ctypes.c_double, ctypes.c_size_t
c_char_p, c_void_p, c_uint64 = ctypes.c_char_p, ctypes.c_void_p, ctypes.c_uint64

VITC_OK = 0
TENSOR_MAX_DIMS = 8

# vitc_output
(OUTPUT_PIXEL_VALUES, OUTPUT_LAST_HIDDEN_STATE, OUTPUT_POOLER, OUTPUT_CLS, OUTPUT_LOGITS,
 OUTPUT_IMAGE_EMBEDS) = range(6)
# vitc_backend
BACKEND_AUTO, BACKEND_CPU, BACKEND_CUDA = range(3)
# vitc_precision, by the names the Python API takes
PRECISIONS = {"fp32": 0, "bf16": 1, "int8": 2, "fp16": 3, "tf32": 4}


class PreprocessParams(ctypes.Structure):
    _fields_ = [
        ("do_resize", c_bool),
        ("height", c_int),
        ("width", c_int),
        ("resample", c_int),
        ("do_rescale", c_bool),
        ("rescale_factor", c_double),
        ("do_normalize", c_bool),
        ("image_mean", c_double * 3),
        ("image_std", c_double * 3),
        ("do_convert_rgb", c_bool),
        ("shortest_edge", c_int),
        ("do_center_crop", c_bool),
        ("crop_height", c_int),
        ("crop_width", c_int),
        ("processor", c_char_p),
    ]


class Image(ctypes.Structure):
    _fields_ = [
        ("width", c_int),
        ("height", c_int),
        ("stride", c_size_t),
        ("data", ctypes.POINTER(ctypes.c_uint8)),
    ]


class ModelParams(ctypes.Structure):
    _fields_ = [("precision", c_int), ("image_size", c_int), ("image_height", c_int),
                ("image_width", c_int)]


class ModelInfo(ctypes.Structure):
    _fields_ = [
        ("architecture", c_char_p),
        ("hidden_size", c_int),
        ("num_hidden_layers", c_int),
        ("num_attention_heads", c_int),
        ("intermediate_size", c_int),
        ("image_size", c_int),
        ("patch_size", c_int),
        ("num_channels", c_int),
        ("n_tokens", c_int),
        ("layer_norm_eps", c_double),
        ("qkv_bias", c_bool),
        ("hidden_act", c_char_p),
        ("has_pooler", c_bool),
        ("num_labels", c_int),
        ("n_params", c_uint64),
        ("file_dtype", c_char_p),
        ("preprocess", PreprocessParams),
        ("family", c_char_p),
        ("pooling", c_char_p),
        ("n_prefix_tokens", c_int),
        ("projection_dim", c_int),
        ("default_output", c_int),
        ("image_height", c_int),
        ("image_width", c_int),
    ]


class CtxParams(ctypes.Structure):
    _fields_ = [
        ("backend", c_int),
        ("device", c_int),
        ("n_threads", c_int),
        ("max_batch", c_int),
    ]


class Tensor(ctypes.Structure):
    _fields_ = [
        ("dtype", c_int),
        ("ndim", c_size_t),
        ("shape", c_size_t * TENSOR_MAX_DIMS),
        ("n_elems", c_size_t),
        ("data", c_void_p),
    ]


class HubParams(ctypes.Structure):
    _fields_ = [
        ("endpoint", c_char_p),
        ("token", c_char_p),
        ("cache_dir", c_char_p),
        ("revision", c_char_p),
        ("offline", c_bool),
        ("progress", c_void_p),
        ("progress_user", c_void_p),
    ]


# ---- prototypes -------------------------------------------------------------

_float_p = ctypes.POINTER(ctypes.c_float)


def _proto(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_proto("vitc_status_str", c_char_p, c_int)
_proto("vitc_last_error", c_char_p)
_proto("vitc_version", c_char_p)
_proto("vitc_preprocess_default_params", PreprocessParams)
_proto("vitc_preprocess_params_load", c_int, c_char_p, ctypes.POINTER(PreprocessParams))
_proto("vitc_image_load", c_int, c_char_p, ctypes.POINTER(ctypes.POINTER(Image)))
_proto("vitc_image_load_memory", c_int, c_void_p, c_size_t, c_char_p,
       ctypes.POINTER(ctypes.POINTER(Image)))
_proto("vitc_image_free", None, ctypes.POINTER(Image))
_proto("vitc_preprocess_output_size", c_int, ctypes.POINTER(PreprocessParams), c_int, c_int,
       ctypes.POINTER(c_int), ctypes.POINTER(c_int))
_proto("vitc_preprocess_fixed_size", c_bool, ctypes.POINTER(PreprocessParams),
       ctypes.POINTER(c_int), ctypes.POINTER(c_int))
_proto("vitc_preprocess", c_int, ctypes.POINTER(PreprocessParams), ctypes.POINTER(Image),
       _float_p, c_size_t)
_proto("vitc_model_default_params", ModelParams)
_proto("vitc_model_load", c_int, c_char_p, ctypes.POINTER(ModelParams), ctypes.POINTER(c_void_p))
_proto("vitc_model_free", None, c_void_p)
_proto("vitc_model_get_info", ctypes.POINTER(ModelInfo), c_void_p)
_proto("vitc_model_label", c_char_p, c_void_p, c_int)
_proto("vitc_ctx_default_params", CtxParams)
_proto("vitc_ctx_new", c_int, c_void_p, ctypes.POINTER(CtxParams), ctypes.POINTER(c_void_p))
_proto("vitc_ctx_free", None, c_void_p)
_proto("vitc_ctx_n_threads", c_int, c_void_p)
_proto("vitc_output_size", c_size_t, c_void_p, c_int)
_proto("vitc_forward", c_int, c_void_p, _float_p, c_size_t)
_proto("vitc_get_output", c_int, c_void_p, c_int, _float_p, c_size_t)

# The hub API is optional: a library built without it still loads model directories.
HAS_HUB = all(hasattr(lib, name) for name in ("vitc_hub_default_params", "vitc_hub_download",
                                               "vitc_hub_resolve", "vitc_string_free"))
if HAS_HUB:
    _proto("vitc_hub_default_params", HubParams)
    _proto("vitc_hub_download", c_int, c_char_p, ctypes.POINTER(HubParams),
           ctypes.POINTER(c_void_p))
    _proto("vitc_hub_resolve", c_int, c_char_p, ctypes.POINTER(HubParams),
           ctypes.POINTER(c_void_p))
    _proto("vitc_string_free", None, c_void_p)


def check(status):
    """Raises the VitcError subclass for a failed call with the library's
    message for this thread; returns None on VITC_OK."""
    if status != VITC_OK:
        message = lib.vitc_last_error().decode("utf-8", "replace")
        raise_status(status, message)


def fspath_bytes(path):
    """A path (str, bytes or os.PathLike) as the bytes the C library takes."""
    return os.fsencode(path)


def float_ptr(array):
    """A float* to a C-contiguous float32 numpy array's data."""
    return array.ctypes.data_as(_float_p)
